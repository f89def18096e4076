/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
	OSC_METRIC_COUNTER,
	OSC_METRIC_GAUGE,
	OSC_METRIC_HISTOGRAM,
} OscMetricType;

/* the most labels a family may have */
#define OSC_METRICS_MAX_LABELS 16

/* A metric family owned by its OscMetrics; valid as long as the registry lives. */
typedef struct _OscMetric OscMetric;

/**
 * OscMetricForeachFunc:
 * @metric: the family
 * @label_values: (array zero-terminated=1): this series' label values, in label order
 * @value: the value (counter/gauge) or the observation count (histogram)
 * @sum: for histograms the sum of observations, else 0
 * @user_data: closure
 */
typedef void (*OscMetricForeachFunc)(OscMetric *metric,
				     const gchar *const *label_values,
				     gdouble value,
				     gdouble sum,
				     gpointer user_data);

#define OSC_TYPE_METRICS (osc_metrics_get_type())
G_DECLARE_FINAL_TYPE(OscMetrics, osc_metrics, OSC, METRICS, GObject)

OscMetrics *
osc_metrics_new(void);
OscMetric *
osc_metrics_add_counter(OscMetrics *self,
			const gchar *name,
			const gchar *help,
			const gchar *const *label_names);
OscMetric *
osc_metrics_add_gauge(OscMetrics *self,
		      const gchar *name,
		      const gchar *help,
		      const gchar *const *label_names);
OscMetric *
osc_metrics_add_histogram(OscMetrics *self,
			  const gchar *name,
			  const gchar *help,
			  const gchar *const *label_names,
			  const gdouble *buckets,
			  guint n_buckets);
OscMetric *
osc_metrics_lookup(OscMetrics *self, const gchar *name);
gchar *
osc_metrics_render(OscMetrics *self);

const gchar *
osc_metric_get_name(OscMetric *metric);
OscMetricType
osc_metric_get_metric_type(OscMetric *metric);
const gchar *const *
osc_metric_get_label_names(OscMetric *metric);
void
osc_metric_inc(OscMetric *metric, gdouble amount, ...) G_GNUC_NULL_TERMINATED;
void
osc_metric_set(OscMetric *metric, gdouble value, ...) G_GNUC_NULL_TERMINATED;
void
osc_metric_observe(OscMetric *metric, gdouble value, ...) G_GNUC_NULL_TERMINATED;
gdouble
osc_metric_get(OscMetric *metric, ...) G_GNUC_NULL_TERMINATED;
void
osc_metric_foreach(OscMetric *metric, OscMetricForeachFunc func, gpointer user_data);

/* default buckets of the original (prometheus_client) */
extern const gdouble osc_metrics_default_buckets[14];

/* a small parser of the text exposition, for tests and the app's metrics page; a malformed
 * line fails with G_IO_ERROR_INVALID_DATA and a message starting "line N: " */
typedef struct {
	gchar *name;	     /* sample name, e.g. foo_bucket */
	GHashTable *labels; /* gchar* → gchar*, unescaped; never NULL */
	gdouble value;
} OscMetricSample;

void
osc_metric_sample_free(OscMetricSample *sample);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscMetricSample, osc_metric_sample_free)
GPtrArray *
osc_metrics_parse(const gchar *text, GHashTable **types, GError **error);

G_END_DECLS
