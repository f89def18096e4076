/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscMetrics"

#include "config.h"

#include <gio/gio.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "osc-metrics.h"

/*
 * A small Prometheus registry.  No maintained C client library is packaged in Debian, and we
 * need little: counters, gauges and histograms with labels, rendered in the text exposition
 * format 0.0.4 the way the original's prometheus_client renders them.
 *
 * Every series of every family is guarded by one mutex per registry: updates come from the main
 * loop and from GTask worker threads, and a scrape must see a consistent snapshot.  The hot path
 * (an update of an existing series) does not allocate when its lookup key fits a stack buffer.
 */

/* label values are joined into a lookup key with this separator; ESC escapes both bytes so the
 * key stays injective whatever the values hold */
#define KEY_SEP	       '\x1f'
#define KEY_ESC	       '\x1e'
#define KEY_STACK_SIZE 512

const gdouble osc_metrics_default_buckets[14] = {
	0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
};

typedef struct {
	gchar *key;	      /* owned; also the hash table's key */
	gchar **label_values; /* valid UTF-8, in label order */
	gdouble value;	      /* counter/gauge value, histogram sum */
	guint64 count;	      /* histogram: number of observations */
	guint64 *buckets;     /* histogram: per-bucket (not cumulative) counts, n_buckets + 1 */
} OscMetricSeries;

struct _OscMetric {
	OscMetrics *registry; /* unowned: the registry owns us */
	gchar *name;
	gchar *help;
	OscMetricType type;
	gchar **label_names;
	guint n_labels;
	gdouble *buckets; /* finite upper bounds, strictly increasing; +Inf implicit */
	guint n_buckets;
	gchar **bucket_les;	     /* the bounds as rendered in `le` */
	GHashTable *series_by_key;   /* key → OscMetricSeries, both owned by series */
	GPtrArray *series;	     /* first-use order, owns the OscMetricSeries */
	OscMetricSeries *unlabelled; /* the only series when n_labels == 0 */
};

struct _OscMetrics {
	GObject parent_instance;
	GMutex mutex;
	GPtrArray *families; /* registration order, owns the OscMetric */
	GHashTable *names;   /* every sample name a family renders → OscMetric */
};

G_DEFINE_FINAL_TYPE(OscMetrics, osc_metrics, G_TYPE_OBJECT)

static void
osc_metric_series_free(OscMetricSeries *series)
{
	g_free(series->key);
	g_strfreev(series->label_values);
	g_free(series->buckets);
	g_free(series);
}

static void
osc_metric_free(OscMetric *metric)
{
	g_free(metric->name);
	g_free(metric->help);
	g_strfreev(metric->label_names);
	g_free(metric->buckets);
	g_strfreev(metric->bucket_les);
	g_hash_table_unref(metric->series_by_key);
	g_ptr_array_unref(metric->series);
	g_free(metric);
}

static void
osc_metrics_finalize(GObject *object)
{
	OscMetrics *self = OSC_METRICS(object);

	g_clear_pointer(&self->names, g_hash_table_unref);
	g_clear_pointer(&self->families, g_ptr_array_unref);
	g_mutex_clear(&self->mutex);

	G_OBJECT_CLASS(osc_metrics_parent_class)->finalize(object);
}

static void
osc_metrics_class_init(OscMetricsClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = osc_metrics_finalize;
}

static void
osc_metrics_init(OscMetrics *self)
{
	g_mutex_init(&self->mutex);
	self->families = g_ptr_array_new_with_free_func((GDestroyNotify)osc_metric_free);
	self->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * osc_metrics_new:
 *
 * Returns: (transfer full): an empty registry
 */
OscMetrics *
osc_metrics_new(void)
{
	return g_object_new(OSC_TYPE_METRICS, NULL);
}

/* ---- value formatting ---- */

/*
 * Formats @value as prometheus_client's floatToGoString() does: Python's repr() (the shortest
 * text that reads back as the same double, "1.0" for integers), except that positive numbers of
 * 1e6 and more switch to an exponent as Go does ("1e+07").  prometheus_client writes exponents
 * of 10 and more with a stray zero ("1e+010"); we write Go's "1e+10" instead.
 */
/* "d" or "d.ddd" */
static gsize
osc_metrics_format_mantissa(gchar *buf, const gchar *digits, gsize n_digits)
{
	gsize n = 0;

	buf[n++] = digits[0];
	if (n_digits > 1) {
		buf[n++] = '.';
		memcpy(buf + n, digits + 1, n_digits - 1);
		n += n_digits - 1;
	}
	return n;
}

static void
osc_metrics_format_value(gdouble value, gchar *buf, gsize size)
{
	static const gchar *const formats[] = {"%.14e", "%.15e", "%.16e"};
	static const gchar *const subnormal_formats[] = {
		"%.0e", "%.1e", "%.2e",	 "%.3e",  "%.4e",  "%.5e",  "%.6e",  "%.7e",  "%.8e",
		"%.9e", "%.10e", "%.11e", "%.12e", "%.13e", "%.14e", "%.15e", "%.16e",
	};
	gchar sci[G_ASCII_DTOSTR_BUF_SIZE];
	gchar digits[24];
	gsize n_digits = 0;
	gint exp10;
	gboolean negative;
	const gchar *p;
	gsize n = 0;

	g_assert(size >= G_ASCII_DTOSTR_BUF_SIZE);

	if (isnan(value)) {
		g_strlcpy(buf, "NaN", size);
		return;
	}
	if (isinf(value)) {
		g_strlcpy(buf, value > 0 ? "+Inf" : "-Inf", size);
		return;
	}

	/* A normal double with a representation of 15 or fewer significant digits (DBL_DIG)
	 * rounds to it at 15 digits, so trimming zeros gives the shortest; else 16 or 17 digits
	 * do.  Subnormals have fewer bits: search them from 1 digit up. */
	if (fabs(value) < DBL_MIN && value != 0) {
		for (guint i = 0; i < G_N_ELEMENTS(subnormal_formats); i++) {
			g_ascii_formatd(sci, sizeof(sci), subnormal_formats[i], value);
			if (g_ascii_strtod(sci, NULL) == value)
				break;
		}
	} else {
		for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
			g_ascii_formatd(sci, sizeof(sci), formats[i], value);
			if (g_ascii_strtod(sci, NULL) == value)
				break;
		}
	}

	/* sci is "[-]d.ddddde[+-]xx" */
	p = sci;
	negative = (*p == '-');
	if (negative)
		p++;
	for (; *p != 'e' && *p != '\0'; p++) {
		if (g_ascii_isdigit(*p) && n_digits < sizeof(digits) - 1)
			digits[n_digits++] = *p;
	}
	g_assert(*p == 'e');
	exp10 = (gint)g_ascii_strtoll(p + 1, NULL, 10);
	while (n_digits > 1 && digits[n_digits - 1] == '0')
		n_digits--;
	digits[n_digits] = '\0';
	if (value == 0)
		exp10 = 0;

	/* at most 24 characters ("-1.2345678901234567e-308"); buf has 39 */
	if (negative)
		buf[n++] = '-';
	if (!negative && exp10 >= 6 && exp10 < 16) {
		/* Go's exponent form for large positive numbers */
		n += osc_metrics_format_mantissa(buf + n, digits, n_digits);
		g_snprintf(buf + n, size - n, "e+%02d", exp10);
	} else if (exp10 >= -4 && exp10 < 16) {
		/* Python's repr: positional with at least one fractional digit */
		if (exp10 < 0) {
			buf[n++] = '0';
			buf[n++] = '.';
			for (gint i = 0; i < -exp10 - 1; i++)
				buf[n++] = '0';
			memcpy(buf + n, digits, n_digits);
			n += n_digits;
		} else {
			gsize int_len = (gsize)exp10 + 1;

			for (gsize i = 0; i < int_len; i++)
				buf[n++] = i < n_digits ? digits[i] : '0';
			buf[n++] = '.';
			if (n_digits > int_len) {
				memcpy(buf + n, digits + int_len, n_digits - int_len);
				n += n_digits - int_len;
			} else {
				buf[n++] = '0';
			}
		}
		buf[n] = '\0';
	} else {
		/* Python's repr: "1e+16", "1.5e-07" */
		n += osc_metrics_format_mantissa(buf + n, digits, n_digits);
		g_snprintf(buf + n, size - n, "e%c%02d", exp10 < 0 ? '-' : '+', ABS(exp10));
	}
}

/* ---- names ---- */

static gboolean
osc_metrics_is_valid_metric_name(const gchar *name)
{
	if (name == NULL || !(g_ascii_isalpha(name[0]) || name[0] == '_' || name[0] == ':'))
		return FALSE;
	for (const gchar *p = name + 1; *p != '\0'; p++) {
		if (!(g_ascii_isalnum(*p) || *p == '_' || *p == ':'))
			return FALSE;
	}
	return TRUE;
}

static gboolean
osc_metrics_is_valid_label_name(const gchar *name)
{
	if (name == NULL || !(g_ascii_isalpha(name[0]) || name[0] == '_'))
		return FALSE;
	for (const gchar *p = name + 1; *p != '\0'; p++) {
		if (!(g_ascii_isalnum(*p) || *p == '_'))
			return FALSE;
	}
	return TRUE;
}

static gboolean
osc_metrics_are_valid_label_names(const gchar *const *label_names, OscMetricType type)
{
	if (label_names == NULL)
		return TRUE;
	if (g_strv_length((gchar **)label_names) > OSC_METRICS_MAX_LABELS)
		return FALSE;
	for (guint i = 0; label_names[i] != NULL; i++) {
		if (!osc_metrics_is_valid_label_name(label_names[i]))
			return FALSE;
		if (g_str_has_prefix(label_names[i], "__"))
			return FALSE;
		if (type == OSC_METRIC_HISTOGRAM && g_str_equal(label_names[i], "le"))
			return FALSE;
		for (guint j = 0; j < i; j++) {
			if (g_str_equal(label_names[i], label_names[j]))
				return FALSE;
		}
	}
	return TRUE;
}

static gboolean
osc_metrics_are_valid_buckets(const gdouble *buckets, guint n_buckets)
{
	for (guint i = 0; i < n_buckets; i++) {
		if (isnan(buckets[i]))
			return FALSE;
		if (isinf(buckets[i]) && (buckets[i] < 0 || i != n_buckets - 1))
			return FALSE;
		if (i > 0 && !(buckets[i] > buckets[i - 1]))
			return FALSE;
	}
	return TRUE;
}

/* the sample names a family renders, which must not collide with another family's */
static GPtrArray *
osc_metrics_sample_names(const gchar *name, OscMetricType type)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(names, g_strdup(name));
	if (type == OSC_METRIC_HISTOGRAM) {
		g_ptr_array_add(names, g_strconcat(name, "_bucket", NULL));
		g_ptr_array_add(names, g_strconcat(name, "_sum", NULL));
		g_ptr_array_add(names, g_strconcat(name, "_count", NULL));
	}
	return names;
}

/* ---- series ---- */

/* the lookup key of @values in @buf; FALSE when it does not fit */
static gboolean
osc_metrics_build_key_in(const gchar *const *values, guint n_values, gchar *buf, gsize size)
{
	gsize n = 0;

	for (guint i = 0; i < n_values; i++) {
		if (i > 0) {
			if (n + 1 >= size)
				return FALSE;
			buf[n++] = KEY_SEP;
		}
		for (const gchar *p = values[i]; *p != '\0'; p++) {
			if (G_UNLIKELY(*p == KEY_SEP || *p == KEY_ESC)) {
				if (n + 1 >= size)
					return FALSE;
				buf[n++] = KEY_ESC;
			}
			if (n + 1 >= size)
				return FALSE;
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	return TRUE;
}

static gchar *
osc_metrics_build_key(const gchar *const *values, guint n_values)
{
	GString *key = g_string_new(NULL);

	for (guint i = 0; i < n_values; i++) {
		if (i > 0)
			g_string_append_c(key, KEY_SEP);
		for (const gchar *p = values[i]; *p != '\0'; p++) {
			if (*p == KEY_SEP || *p == KEY_ESC)
				g_string_append_c(key, KEY_ESC);
			g_string_append_c(key, *p);
		}
	}
	return g_string_free(key, FALSE);
}

static OscMetricSeries *
osc_metric_series_new(OscMetric *metric, const gchar *key, const gchar *const *values)
{
	OscMetricSeries *series = g_new0(OscMetricSeries, 1);

	series->key = g_strdup(key);
	series->label_values = g_new0(gchar *, metric->n_labels + 1);
	for (guint i = 0; i < metric->n_labels; i++)
		series->label_values[i] = g_strdup(values[i]);
	if (metric->type == OSC_METRIC_HISTOGRAM)
		series->buckets = g_new0(guint64, metric->n_buckets + 1);
	return series;
}

/*
 * The slow path of osc_metric_find_series(): long keys, new series, and values that are not
 * valid UTF-8 (a percent-decoded request path can be anything).  Those are stored repaired, so
 * they always come here and share the series of their repaired form: the exposition must be
 * UTF-8 and have no duplicate series.
 */
static OscMetricSeries *
osc_metric_find_series_slow(OscMetric *metric, const gchar *const *values, gboolean create)
{
	g_autofree gchar *key = osc_metrics_build_key(values, metric->n_labels);
	g_auto(GStrv) repaired = NULL;
	OscMetricSeries *series;

	series = g_hash_table_lookup(metric->series_by_key, key);
	if (series != NULL)
		return series;

	for (guint i = 0; i < metric->n_labels && repaired == NULL; i++) {
		if (g_utf8_validate(values[i], -1, NULL))
			continue;
		repaired = g_new0(gchar *, metric->n_labels + 1);
		for (guint j = 0; j < metric->n_labels; j++)
			repaired[j] = g_utf8_make_valid(values[j], -1);
	}
	if (repaired != NULL) {
		values = (const gchar *const *)repaired;
		g_free(key);
		key = osc_metrics_build_key(values, metric->n_labels);
		series = g_hash_table_lookup(metric->series_by_key, key);
		if (series != NULL)
			return series;
	}
	if (!create)
		return NULL;

	series = osc_metric_series_new(metric, key, values);
	g_hash_table_insert(metric->series_by_key, series->key, series);
	g_ptr_array_add(metric->series, series);
	return series;
}

/*
 * Finds the series of @values, creating it when @create.  Called with the registry locked.
 * The hit path builds the key on the stack and looks it up: no allocation, no cleanup.
 */
static OscMetricSeries *
osc_metric_find_series(OscMetric *metric, const gchar *const *values, gboolean create)
{
	gchar key[KEY_STACK_SIZE];

	if (metric->n_labels == 0)
		return metric->unlabelled;
	if (G_LIKELY(osc_metrics_build_key_in(values, metric->n_labels, key, sizeof(key)))) {
		OscMetricSeries *series = g_hash_table_lookup(metric->series_by_key, key);

		if (G_LIKELY(series != NULL))
			return series;
	}
	return osc_metric_find_series_slow(metric, values, create);
}

/*
 * Reads the NULL-terminated label values after the last named argument into @values.  Reads at
 * most n_labels + 1 arguments, so a caller that passes too few stops at its NULL and one that
 * passes too many is caught without reading past its terminator.
 */
static gboolean
osc_metric_collect_values(OscMetric *metric, va_list args, const gchar **values)
{
	guint n = 0;

	for (;;) {
		const gchar *value = va_arg(args, const gchar *);

		if (value == NULL)
			break;
		if (n == metric->n_labels) {
			g_critical("metric %s: more label values than its %u labels",
				   metric->name,
				   metric->n_labels);
			return FALSE;
		}
		values[n++] = value;
	}
	if (n != metric->n_labels) {
		g_critical("metric %s: %u label values for its %u labels",
			   metric->name,
			   n,
			   metric->n_labels);
		return FALSE;
	}
	values[n] = NULL;
	return TRUE;
}

/* ---- registration ---- */

static OscMetric *
osc_metrics_add(OscMetrics *self,
		OscMetricType type,
		const gchar *name,
		const gchar *help,
		const gchar *const *label_names,
		const gdouble *buckets,
		guint n_buckets)
{
	g_autoptr(GPtrArray) sample_names = osc_metrics_sample_names(name, type);
	g_autoptr(GMutexLocker) locker = NULL;
	OscMetric *metric;

	locker = g_mutex_locker_new(&self->mutex);
	for (guint i = 0; i < sample_names->len; i++) {
		const gchar *sample_name = g_ptr_array_index(sample_names, i);

		if (g_hash_table_contains(self->names, sample_name)) {
			g_critical("metric %s: the name %s is already in use", name, sample_name);
			return NULL;
		}
	}

	metric = g_new0(OscMetric, 1);
	metric->registry = self;
	metric->name = g_strdup(name);
	metric->help = g_strdup(help != NULL ? help : "");
	metric->type = type;
	metric->label_names = g_strdupv((gchar **)label_names);
	if (metric->label_names == NULL)
		metric->label_names = g_new0(gchar *, 1);
	metric->n_labels = g_strv_length(metric->label_names);
	if (type == OSC_METRIC_HISTOGRAM) {
		/* an explicit +Inf bound is implicit here */
		if (n_buckets > 0 && isinf(buckets[n_buckets - 1]))
			n_buckets--;
		metric->n_buckets = n_buckets;
		metric->buckets = g_memdup2(buckets, sizeof(gdouble) * n_buckets);
		metric->bucket_les = g_new0(gchar *, n_buckets + 2);
		for (guint i = 0; i < n_buckets; i++) {
			gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

			osc_metrics_format_value(buckets[i], buf, sizeof(buf));
			metric->bucket_les[i] = g_strdup(buf);
		}
		metric->bucket_les[n_buckets] = g_strdup("+Inf");
	}
	metric->series_by_key = g_hash_table_new(g_str_hash, g_str_equal);
	metric->series =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_metric_series_free);
	if (metric->n_labels == 0) {
		/* unlabelled families always render, as with prometheus_client */
		metric->unlabelled = osc_metric_series_new(metric, "", NULL);
		g_ptr_array_add(metric->series, metric->unlabelled);
	}

	g_ptr_array_add(self->families, metric);
	for (guint i = 0; i < sample_names->len; i++)
		g_hash_table_insert(self->names, g_strdup(g_ptr_array_index(sample_names, i)),
				    metric);
	return metric;
}

/**
 * osc_metrics_add_counter:
 * @self: a registry
 * @name: the metric name (by convention ending in `_total`)
 * @help: (nullable): the help text
 * @label_names: (nullable) (array zero-terminated=1): label names, or %NULL for none
 *
 * Returns: (transfer none) (nullable): the family, or %NULL if the name is taken
 */
OscMetric *
osc_metrics_add_counter(OscMetrics *self,
			const gchar *name,
			const gchar *help,
			const gchar *const *label_names)
{
	g_return_val_if_fail(OSC_IS_METRICS(self), NULL);
	g_return_val_if_fail(osc_metrics_is_valid_metric_name(name), NULL);
	g_return_val_if_fail(osc_metrics_are_valid_label_names(label_names, OSC_METRIC_COUNTER),
			     NULL);

	return osc_metrics_add(self, OSC_METRIC_COUNTER, name, help, label_names, NULL, 0);
}

/**
 * osc_metrics_add_gauge:
 * @self: a registry
 * @name: the metric name
 * @help: (nullable): the help text
 * @label_names: (nullable) (array zero-terminated=1): label names, or %NULL for none
 *
 * Returns: (transfer none) (nullable): the family, or %NULL if the name is taken
 */
OscMetric *
osc_metrics_add_gauge(OscMetrics *self,
		      const gchar *name,
		      const gchar *help,
		      const gchar *const *label_names)
{
	g_return_val_if_fail(OSC_IS_METRICS(self), NULL);
	g_return_val_if_fail(osc_metrics_is_valid_metric_name(name), NULL);
	g_return_val_if_fail(osc_metrics_are_valid_label_names(label_names, OSC_METRIC_GAUGE),
			     NULL);

	return osc_metrics_add(self, OSC_METRIC_GAUGE, name, help, label_names, NULL, 0);
}

/**
 * osc_metrics_add_histogram:
 * @self: a registry
 * @name: the metric name
 * @help: (nullable): the help text
 * @label_names: (nullable) (array zero-terminated=1): label names (not `le`), or %NULL
 * @buckets: (nullable) (array length=n_buckets): strictly increasing upper bounds; a final
 *   +Inf is implied and may be given; %NULL for osc_metrics_default_buckets
 * @n_buckets: the number of @buckets (ignored when @buckets is %NULL)
 *
 * Returns: (transfer none) (nullable): the family, or %NULL if the name is taken
 */
OscMetric *
osc_metrics_add_histogram(OscMetrics *self,
			  const gchar *name,
			  const gchar *help,
			  const gchar *const *label_names,
			  const gdouble *buckets,
			  guint n_buckets)
{
	g_return_val_if_fail(OSC_IS_METRICS(self), NULL);
	g_return_val_if_fail(osc_metrics_is_valid_metric_name(name), NULL);
	g_return_val_if_fail(osc_metrics_are_valid_label_names(label_names, OSC_METRIC_HISTOGRAM),
			     NULL);

	if (buckets == NULL) {
		buckets = osc_metrics_default_buckets;
		n_buckets = G_N_ELEMENTS(osc_metrics_default_buckets);
	}
	g_return_val_if_fail(osc_metrics_are_valid_buckets(buckets, n_buckets), NULL);

	return osc_metrics_add(self,
			       OSC_METRIC_HISTOGRAM,
			       name,
			       help,
			       label_names,
			       buckets,
			       n_buckets);
}

/**
 * osc_metrics_lookup:
 * @self: a registry
 * @name: a family name
 *
 * Returns: (transfer none) (nullable): the family called @name
 */
OscMetric *
osc_metrics_lookup(OscMetrics *self, const gchar *name)
{
	g_autoptr(GMutexLocker) locker = NULL;
	OscMetric *metric;

	g_return_val_if_fail(OSC_IS_METRICS(self), NULL);
	g_return_val_if_fail(name != NULL, NULL);

	locker = g_mutex_locker_new(&self->mutex);
	metric = g_hash_table_lookup(self->names, name);
	/* names also holds the histograms' _bucket/_sum/_count */
	if (metric != NULL && !g_str_equal(metric->name, name))
		return NULL;
	return metric;
}

/* ---- accessors ---- */

const gchar *
osc_metric_get_name(OscMetric *metric)
{
	g_return_val_if_fail(metric != NULL, NULL);
	return metric->name;
}

OscMetricType
osc_metric_get_metric_type(OscMetric *metric)
{
	g_return_val_if_fail(metric != NULL, OSC_METRIC_COUNTER);
	return metric->type;
}

/**
 * osc_metric_get_label_names:
 * @metric: a family
 *
 * Returns: (transfer none) (array zero-terminated=1): the label names, never %NULL
 */
const gchar *const *
osc_metric_get_label_names(OscMetric *metric)
{
	g_return_val_if_fail(metric != NULL, NULL);
	return (const gchar *const *)metric->label_names;
}

/* ---- updates ---- */

/**
 * osc_metric_inc:
 * @metric: a counter or gauge
 * @amount: the increment; not negative for a counter
 * @...: the label values in label order, then %NULL
 */
void
osc_metric_inc(OscMetric *metric, gdouble amount, ...)
{
	const gchar *values[OSC_METRICS_MAX_LABELS + 1];
	OscMetricSeries *series;
	gboolean ok;
	va_list args;

	g_return_if_fail(metric != NULL);
	g_return_if_fail(metric->type != OSC_METRIC_HISTOGRAM);
	if (metric->type == OSC_METRIC_COUNTER && !(amount >= 0)) {
		g_critical("counter %s: cannot increase by %g", metric->name, amount);
		return;
	}

	va_start(args, amount);
	ok = osc_metric_collect_values(metric, args, values);
	va_end(args);
	if (!ok)
		return;

	g_mutex_lock(&metric->registry->mutex);
	series = osc_metric_find_series(metric, values, TRUE);
	series->value += amount;
	g_mutex_unlock(&metric->registry->mutex);
}

/**
 * osc_metric_set:
 * @metric: a gauge
 * @value: the new value
 * @...: the label values in label order, then %NULL
 */
void
osc_metric_set(OscMetric *metric, gdouble value, ...)
{
	const gchar *values[OSC_METRICS_MAX_LABELS + 1];
	OscMetricSeries *series;
	gboolean ok;
	va_list args;

	g_return_if_fail(metric != NULL);
	g_return_if_fail(metric->type == OSC_METRIC_GAUGE);

	va_start(args, value);
	ok = osc_metric_collect_values(metric, args, values);
	va_end(args);
	if (!ok)
		return;

	g_mutex_lock(&metric->registry->mutex);
	series = osc_metric_find_series(metric, values, TRUE);
	series->value = value;
	g_mutex_unlock(&metric->registry->mutex);
}

/**
 * osc_metric_observe:
 * @metric: a histogram
 * @value: the observation; NaN counts in the +Inf bucket only (and makes the sum NaN)
 * @...: the label values in label order, then %NULL
 */
void
osc_metric_observe(OscMetric *metric, gdouble value, ...)
{
	const gchar *values[OSC_METRICS_MAX_LABELS + 1];
	OscMetricSeries *series;
	gboolean ok;
	va_list args;
	guint i;

	g_return_if_fail(metric != NULL);
	g_return_if_fail(metric->type == OSC_METRIC_HISTOGRAM);

	va_start(args, value);
	ok = osc_metric_collect_values(metric, args, values);
	va_end(args);
	if (!ok)
		return;

	/* the bounds never change: find the bucket before taking the lock */
	for (i = 0; i < metric->n_buckets; i++) {
		if (value <= metric->buckets[i])
			break;
	}

	g_mutex_lock(&metric->registry->mutex);
	series = osc_metric_find_series(metric, values, TRUE);
	series->buckets[i]++;
	series->count++;
	series->value += value;
	g_mutex_unlock(&metric->registry->mutex);
}

/**
 * osc_metric_get:
 * @metric: a family
 * @...: the label values in label order, then %NULL
 *
 * Returns: the value of a counter or gauge series, the observation count of a histogram
 *   series, 0 for a series never updated
 */
gdouble
osc_metric_get(OscMetric *metric, ...)
{
	const gchar *values[OSC_METRICS_MAX_LABELS + 1];
	OscMetricSeries *series;
	gdouble result = 0;
	gboolean ok;
	va_list args;

	g_return_val_if_fail(metric != NULL, 0);

	va_start(args, metric);
	ok = osc_metric_collect_values(metric, args, values);
	va_end(args);
	if (!ok)
		return 0;

	g_mutex_lock(&metric->registry->mutex);
	series = osc_metric_find_series(metric, values, FALSE);
	if (series != NULL)
		result = metric->type == OSC_METRIC_HISTOGRAM ? (gdouble)series->count
							      : series->value;
	g_mutex_unlock(&metric->registry->mutex);
	return result;
}

typedef struct {
	const gchar *const *label_values;
	gdouble value;
	gdouble sum;
} OscMetricSnapshot;

/**
 * osc_metric_foreach:
 * @metric: a family
 * @func: (scope call): called for every series, in first-use order
 * @user_data: closure
 *
 * Calls @func on a snapshot taken under the lock, so @func may update metrics.
 */
void
osc_metric_foreach(OscMetric *metric, OscMetricForeachFunc func, gpointer user_data)
{
	g_autofree OscMetricSnapshot *snapshot = NULL;
	guint n;

	g_return_if_fail(metric != NULL);
	g_return_if_fail(func != NULL);

	g_mutex_lock(&metric->registry->mutex);
	n = metric->series->len;
	snapshot = g_new0(OscMetricSnapshot, MAX(n, 1));
	for (guint i = 0; i < n; i++) {
		OscMetricSeries *series = g_ptr_array_index(metric->series, i);

		/* label values are immutable and live as long as the registry */
		snapshot[i].label_values = (const gchar *const *)series->label_values;
		if (metric->type == OSC_METRIC_HISTOGRAM) {
			snapshot[i].value = (gdouble)series->count;
			snapshot[i].sum = series->value;
		} else {
			snapshot[i].value = series->value;
		}
	}
	g_mutex_unlock(&metric->registry->mutex);

	for (guint i = 0; i < n; i++)
		func(metric, snapshot[i].label_values, snapshot[i].value, snapshot[i].sum,
		     user_data);
}

/* ---- rendering ---- */

static void
osc_metrics_append_escaped(GString *out, const gchar *text, gboolean quote)
{
	for (const gchar *p = text; *p != '\0'; p++) {
		switch (*p) {
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '"':
			if (quote)
				g_string_append(out, "\\\"");
			else
				g_string_append_c(out, '"');
			break;
		default:
			g_string_append_c(out, *p);
			break;
		}
	}
}

static void
osc_metrics_append_sample(GString *out,
			  OscMetric *metric,
			  const gchar *suffix,
			  OscMetricSeries *series,
			  const gchar *le,
			  gdouble value)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
	gboolean any = FALSE;

	g_string_append(out, metric->name);
	if (suffix != NULL)
		g_string_append(out, suffix);
	for (guint i = 0; i < metric->n_labels; i++) {
		g_string_append_c(out, any ? ',' : '{');
		g_string_append(out, metric->label_names[i]);
		g_string_append(out, "=\"");
		osc_metrics_append_escaped(out, series->label_values[i], TRUE);
		g_string_append_c(out, '"');
		any = TRUE;
	}
	if (le != NULL) {
		g_string_append_c(out, any ? ',' : '{');
		g_string_append(out, "le=\"");
		g_string_append(out, le);
		g_string_append_c(out, '"');
		any = TRUE;
	}
	if (any)
		g_string_append_c(out, '}');
	g_string_append_c(out, ' ');
	osc_metrics_format_value(value, buf, sizeof(buf));
	g_string_append(out, buf);
	g_string_append_c(out, '\n');
}

static const gchar *
osc_metric_type_to_string(OscMetricType type)
{
	switch (type) {
	case OSC_METRIC_COUNTER:
		return "counter";
	case OSC_METRIC_GAUGE:
		return "gauge";
	case OSC_METRIC_HISTOGRAM:
		return "histogram";
	default:
		g_assert_not_reached();
	}
}

/**
 * osc_metrics_render:
 * @self: a registry
 *
 * Renders every family, in registration order, in the text exposition format 0.0.4
 * (`Content-Type: text/plain; version=0.0.4; charset=utf-8`).  Histograms render their
 * cumulative buckets, then `_sum`, then `_count`.
 *
 * Returns: (transfer full): the exposition, ending in a newline when not empty
 */
gchar *
osc_metrics_render(OscMetrics *self)
{
	g_autoptr(GMutexLocker) locker = NULL;
	GString *out;

	g_return_val_if_fail(OSC_IS_METRICS(self), NULL);

	out = g_string_sized_new(4096);
	locker = g_mutex_locker_new(&self->mutex);
	for (guint f = 0; f < self->families->len; f++) {
		OscMetric *metric = g_ptr_array_index(self->families, f);

		g_string_append_printf(out, "# HELP %s ", metric->name);
		osc_metrics_append_escaped(out, metric->help, FALSE);
		g_string_append_printf(out,
				       "\n# TYPE %s %s\n",
				       metric->name,
				       osc_metric_type_to_string(metric->type));

		for (guint s = 0; s < metric->series->len; s++) {
			OscMetricSeries *series = g_ptr_array_index(metric->series, s);
			guint64 cumulative = 0;

			if (metric->type != OSC_METRIC_HISTOGRAM) {
				osc_metrics_append_sample(out,
							  metric,
							  NULL,
							  series,
							  NULL,
							  series->value);
				continue;
			}
			for (guint b = 0; b <= metric->n_buckets; b++) {
				cumulative += series->buckets[b];
				osc_metrics_append_sample(out,
							  metric,
							  "_bucket",
							  series,
							  metric->bucket_les[b],
							  (gdouble)cumulative);
			}
			osc_metrics_append_sample(out, metric, "_sum", series, NULL, series->value);
			osc_metrics_append_sample(out,
						  metric,
						  "_count",
						  series,
						  NULL,
						  (gdouble)series->count);
		}
	}
	return g_string_free(out, FALSE);
}

/* ---- parsing ---- */

void
osc_metric_sample_free(OscMetricSample *sample)
{
	if (sample == NULL)
		return;
	g_free(sample->name);
	g_clear_pointer(&sample->labels, g_hash_table_unref);
	g_free(sample);
}

static gboolean
osc_metrics_parse_error(GError **error, guint line_no, const gchar *what)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "line %u: %s", line_no, what);
	return FALSE;
}

static void
osc_metrics_skip_blanks(const gchar **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* reads a non-empty run of non-blank characters */
static gchar *
osc_metrics_read_token(const gchar **p)
{
	const gchar *start = *p;

	while (**p != '\0' && **p != ' ' && **p != '\t')
		(*p)++;
	return *p > start ? g_strndup(start, *p - start) : NULL;
}

static gchar *
osc_metrics_read_name(const gchar **p, gboolean metric_name)
{
	const gchar *start = *p;

	while (g_ascii_isalnum(**p) || **p == '_' || (metric_name && **p == ':'))
		(*p)++;
	if (*p == start || g_ascii_isdigit(*start))
		return NULL;
	return g_strndup(start, *p - start);
}

/* parses a float as Go's strconv.ParseFloat would for the values Prometheus writes */
static gboolean
osc_metrics_parse_float(const gchar *token, gdouble *value)
{
	const gchar *p = token;
	gchar *end = NULL;

	if (*p == '+' || *p == '-')
		p++;
	if (g_ascii_strcasecmp(p, "inf") == 0 || g_ascii_strcasecmp(p, "infinity") == 0) {
		*value = token[0] == '-' ? -INFINITY : INFINITY;
		return TRUE;
	}
	if (g_ascii_strcasecmp(p, "nan") == 0) {
		*value = NAN;
		return TRUE;
	}
	if (!(g_ascii_isdigit(*p) || *p == '.'))
		return FALSE;
	*value = g_ascii_strtod(token, &end);
	return end != token && *end == '\0';
}

static gboolean
osc_metrics_parse_timestamp(const gchar *token)
{
	const gchar *p = token;

	if (*p == '-' || *p == '+')
		p++;
	if (*p == '\0')
		return FALSE;
	for (; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
	}
	return TRUE;
}

static gboolean
osc_metrics_parse_comment(const gchar *line, guint line_no, GHashTable *types, GError **error)
{
	const gchar *p = line + 1;
	g_autofree gchar *keyword = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *type = NULL;

	osc_metrics_skip_blanks(&p);
	keyword = osc_metrics_read_token(&p);
	if (keyword == NULL || (!g_str_equal(keyword, "HELP") && !g_str_equal(keyword, "TYPE")))
		return TRUE; /* an ordinary comment */

	osc_metrics_skip_blanks(&p);
	name = osc_metrics_read_token(&p);
	if (name == NULL || !osc_metrics_is_valid_metric_name(name))
		return osc_metrics_parse_error(error, line_no, "bad metric name after # HELP/TYPE");
	if (g_str_equal(keyword, "HELP"))
		return TRUE; /* the help text is free-form */

	osc_metrics_skip_blanks(&p);
	type = osc_metrics_read_token(&p);
	osc_metrics_skip_blanks(&p);
	if (type == NULL || *p != '\0' ||
	    !g_strv_contains((const gchar *const[]){"counter",
						    "gauge",
						    "histogram",
						    "summary",
						    "untyped",
						    NULL},
			     type))
		return osc_metrics_parse_error(error, line_no, "bad # TYPE line");
	if (types != NULL)
		g_hash_table_insert(types, g_steal_pointer(&name), g_steal_pointer(&type));
	return TRUE;
}

static gboolean
osc_metrics_parse_labels(const gchar **pp, guint line_no, GHashTable *labels, GError **error)
{
	const gchar *p = *pp;

	g_assert(*p == '{');
	p++;
	for (;;) {
		g_autofree gchar *name = NULL;
		GString *value;

		osc_metrics_skip_blanks(&p);
		if (*p == '}')
			break;
		name = osc_metrics_read_name(&p, FALSE);
		if (name == NULL)
			return osc_metrics_parse_error(error, line_no, "bad label name");
		osc_metrics_skip_blanks(&p);
		if (*p != '=')
			return osc_metrics_parse_error(error, line_no,
						       "expected '=' after label name");
		p++;
		osc_metrics_skip_blanks(&p);
		if (*p != '"')
			return osc_metrics_parse_error(error, line_no,
						       "expected '\"' (label value)");
		p++;

		value = g_string_new(NULL);
		for (; *p != '"'; p++) {
			if (*p == '\0') {
				g_string_free(value, TRUE);
				return osc_metrics_parse_error(error,
							       line_no,
							       "unterminated label value");
			}
			if (*p != '\\') {
				g_string_append_c(value, *p);
				continue;
			}
			p++;
			if (*p == '\\' || *p == '"') {
				g_string_append_c(value, *p);
			} else if (*p == 'n') {
				g_string_append_c(value, '\n');
			} else {
				g_string_free(value, TRUE);
				return osc_metrics_parse_error(error,
							       line_no,
							       "invalid escape in label value");
			}
		}
		p++;
		if (g_hash_table_contains(labels, name)) {
			g_string_free(value, TRUE);
			return osc_metrics_parse_error(error, line_no, "duplicate label name");
		}
		g_hash_table_insert(labels, g_steal_pointer(&name), g_string_free(value, FALSE));

		osc_metrics_skip_blanks(&p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '}')
			return osc_metrics_parse_error(error, line_no, "expected ',' or '}'");
		break;
	}
	*pp = p + 1;
	return TRUE;
}

static OscMetricSample *
osc_metrics_parse_sample(const gchar *line, guint line_no, GError **error)
{
	g_autoptr(OscMetricSample) sample = g_new0(OscMetricSample, 1);
	g_autofree gchar *value = NULL;
	g_autofree gchar *timestamp = NULL;
	const gchar *after_name;
	const gchar *p = line;

	sample->labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	osc_metrics_skip_blanks(&p);
	sample->name = osc_metrics_read_name(&p, TRUE);
	if (sample->name == NULL) {
		osc_metrics_parse_error(error, line_no, "bad metric name");
		return NULL;
	}
	after_name = p;
	osc_metrics_skip_blanks(&p);
	if (*p == '{') {
		if (!osc_metrics_parse_labels(&p, line_no, sample->labels, error))
			return NULL;
		after_name = p;
		osc_metrics_skip_blanks(&p);
	}
	if (p == after_name) {
		osc_metrics_parse_error(error, line_no, "expected a blank before the value");
		return NULL;
	}
	value = osc_metrics_read_token(&p);
	if (value == NULL || !osc_metrics_parse_float(value, &sample->value)) {
		osc_metrics_parse_error(error, line_no, "bad sample value");
		return NULL;
	}
	osc_metrics_skip_blanks(&p);
	timestamp = osc_metrics_read_token(&p);
	if (timestamp != NULL && !osc_metrics_parse_timestamp(timestamp)) {
		osc_metrics_parse_error(error, line_no, "bad timestamp");
		return NULL;
	}
	osc_metrics_skip_blanks(&p);
	if (*p != '\0') {
		osc_metrics_parse_error(error, line_no, "trailing text after the timestamp");
		return NULL;
	}
	return g_steal_pointer(&sample);
}

/**
 * osc_metrics_parse:
 * @text: a text exposition (format 0.0.4)
 * @types: (out) (optional) (transfer full): family name → "counter", "gauge", "histogram",
 *   "summary" or "untyped", from the `# TYPE` lines
 * @error: return location for a #GError
 *
 * Parses the samples of @text in order.  Comments, `# HELP` lines, blank lines, `\r\n` line
 * ends and timestamps (dropped) are accepted; label values are unescaped.  Any other malformed
 * line fails with %G_IO_ERROR_INVALID_DATA and a message starting "line N: ".
 *
 * Returns: (transfer full) (element-type OscMetricSample): the samples, each with a (possibly
 *   empty) labels table, or %NULL on error
 */
GPtrArray *
osc_metrics_parse(const gchar *text, GHashTable **types, GError **error)
{
	g_autoptr(GPtrArray) samples = NULL;
	g_autoptr(GHashTable) types_table = NULL;
	g_auto(GStrv) lines = NULL;

	g_return_val_if_fail(text != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	samples = g_ptr_array_new_with_free_func((GDestroyNotify)osc_metric_sample_free);
	types_table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *line = lines[i];
		gsize len = strlen(line);
		const gchar *p = line;
		OscMetricSample *sample;

		if (len > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (!g_utf8_validate(line, -1, NULL)) {
			osc_metrics_parse_error(error, i + 1, "not valid UTF-8");
			return NULL;
		}
		osc_metrics_skip_blanks(&p);
		if (*p == '\0')
			continue;
		if (*p == '#') {
			if (!osc_metrics_parse_comment(p, i + 1, types_table, error))
				return NULL;
			continue;
		}
		sample = osc_metrics_parse_sample(p, i + 1, error);
		if (sample == NULL)
			return NULL;
		g_ptr_array_add(samples, sample);
	}

	if (types != NULL)
		*types = g_steal_pointer(&types_table);
	return g_steal_pointer(&samples);
}
