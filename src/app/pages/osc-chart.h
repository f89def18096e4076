/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define OSC_TYPE_CHART (osc_chart_get_type())
G_DECLARE_FINAL_TYPE(OscChart, osc_chart, OSC, CHART, GtkWidget)

GtkWidget *
osc_chart_new(void);
void
osc_chart_set_title(OscChart *self, const gchar *title);
const gchar *
osc_chart_get_title(OscChart *self);
void
osc_chart_set_bars(OscChart *self, const gchar *const *labels, const gdouble *values, guint n);
void
osc_chart_set_matrix(OscChart *self,
		     const gchar *const *rows,
		     guint n_rows,
		     const gchar *const *columns,
		     guint n_columns,
		     const gdouble *values);
/* the model, for tests and the accessible description: bars in order, a matrix row-major */
guint
osc_chart_get_n_values(OscChart *self);
gdouble
osc_chart_get_value(OscChart *self, guint i);
gchar *
osc_chart_dup_label(OscChart *self, guint i);
gchar *
osc_chart_dup_description(OscChart *self);

G_END_DECLS
