/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-chart.h"

#include <glib/gi18n.h>

#include <adwaita.h>
#include <math.h>

/*
 * A small chart drawn with cairo in a snapshot: horizontal bars (one colour per bar, the
 * label as legend beside a swatch, the count after the bar), or a heat map of a matrix
 * (rows × columns, the cell's shade from its share of the maximum, with a legend scale).
 * Colours follow the light or dark style; the data is also the accessible description.
 */

#define ROW_HEIGHT  28
#define CELL_HEIGHT 30
#define PAD	    8
#define HEADER	    24
#define LEGEND	    28

struct _OscChart {
	GtkWidget parent_instance;

	gchar *title;
	gboolean matrix;
	GPtrArray *rows;    /* bar labels, or matrix row labels */
	GPtrArray *columns; /* matrix column labels */
	GArray *values;	    /* gdouble */
	gulong dark_handler;
};

G_DEFINE_FINAL_TYPE(OscChart, osc_chart, GTK_TYPE_WIDGET)

/* readable on both backgrounds: the darker shades of the GNOME palette in light mode, the
 * lighter ones in dark mode */
static const gchar *const palette_light[] = {"#1c71d8", "#2ec27e", "#e5a50a", "#c01c28",
					     "#813d9c", "#e66100", "#0a9396", "#865e3c"};
static const gchar *const palette_dark[] = {"#62a0ea", "#57e389", "#f8e45c", "#f66151",
					    "#c061cb", "#ffa348", "#5ed3d5", "#cdab8f"};

static gboolean
osc_chart_is_dark(void)
{
	return adw_style_manager_get_dark(adw_style_manager_get_default());
}

static void
osc_chart_color(guint i, GdkRGBA *rgba)
{
	const gchar *const *p = osc_chart_is_dark() ? palette_dark : palette_light;

	gdk_rgba_parse(rgba, p[i % G_N_ELEMENTS(palette_light)]);
}

static gdouble
osc_chart_max(OscChart *self)
{
	gdouble max = 0;

	for (guint i = 0; i < self->values->len; i++)
		max = MAX(max, g_array_index(self->values, gdouble, i));
	return max;
}

gchar *
osc_chart_dup_label(OscChart *self, guint i)
{
	g_return_val_if_fail(OSC_IS_CHART(self), NULL);
	g_return_val_if_fail(i < self->values->len, NULL);

	if (!self->matrix)
		return g_strdup(g_ptr_array_index(self->rows, i));
	return g_strdup_printf(
		"%s / %s", (const gchar *)g_ptr_array_index(self->rows, i / self->columns->len),
		(const gchar *)g_ptr_array_index(self->columns, i % self->columns->len));
}

gchar *
osc_chart_dup_description(OscChart *self)
{
	GString *s = g_string_new(NULL);

	g_return_val_if_fail(OSC_IS_CHART(self), NULL);
	if (self->values->len == 0)
		return g_strdup(_("No data"));
	for (guint i = 0; i < self->values->len; i++) {
		g_autofree gchar *label = osc_chart_dup_label(self, i);

		if (i > 0)
			g_string_append(s, ", ");
		g_string_append_printf(s, "%s: %g", label, g_array_index(self->values, gdouble, i));
	}
	return g_string_free(s, FALSE);
}

static void
osc_chart_update_accessible(OscChart *self)
{
	g_autofree gchar *desc = osc_chart_dup_description(self);

	gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       self->title != NULL ? self->title : _("Chart"),
				       GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, desc, -1);
	gtk_widget_set_tooltip_text(GTK_WIDGET(self), desc);
}

static void
osc_chart_text(OscChart *self, cairo_t *cr, const gchar *text, gdouble x, gdouble y, gint max_width,
	       gdouble xalign, const GdkRGBA *color, gboolean bold)
{
	g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
	gint w, h;

	if (bold) {
		PangoAttrList *attrs = pango_attr_list_new();
		pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
		pango_layout_set_attributes(layout, attrs);
		pango_attr_list_unref(attrs);
	}
	if (max_width > 0) {
		pango_layout_set_width(layout, max_width * PANGO_SCALE);
		pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
	}
	pango_layout_get_pixel_size(layout, &w, &h);
	gdk_cairo_set_source_rgba(cr, color);
	cairo_move_to(cr, x - xalign * w, y - h / 2.0);
	pango_cairo_show_layout(cr, layout);
}

static void
osc_chart_draw_bars(OscChart *self, cairo_t *cr, gint width, const GdkRGBA *fg)
{
	gdouble max = osc_chart_max(self);
	gint label_w = MIN(width * 2 / 5, 220);
	gint value_w = 56;
	gint bar_space = MAX(width - label_w - value_w - 3 * PAD, 10);

	for (guint i = 0; i < self->values->len; i++) {
		gdouble v = g_array_index(self->values, gdouble, i);
		gdouble y = PAD + i * ROW_HEIGHT;
		gdouble bar_w = max > 0 ? bar_space * v / max : 0;
		g_autofree gchar *value = g_strdup_printf("%g", v);
		GdkRGBA color;

		osc_chart_color(i, &color);
		/* the swatch and label are the legend of the bar */
		gdk_cairo_set_source_rgba(cr, &color);
		cairo_rectangle(cr, 0, y + ROW_HEIGHT / 2.0 - 5, 10, 10);
		cairo_fill(cr);
		osc_chart_text(self, cr, g_ptr_array_index(self->rows, i), 16, y + ROW_HEIGHT / 2.0,
			       label_w - 16, 0, fg, FALSE);
		gdk_cairo_set_source_rgba(cr, &color);
		cairo_rectangle(cr, label_w + PAD, y + 4, MAX(bar_w, 2), ROW_HEIGHT - 8);
		cairo_fill(cr);
		osc_chart_text(self, cr, value, label_w + 2 * PAD + MAX(bar_w, 2),
			       y + ROW_HEIGHT / 2.0, value_w, 0, fg, TRUE);
	}
}

static void
osc_chart_draw_matrix(OscChart *self, cairo_t *cr, gint width, const GdkRGBA *fg)
{
	gdouble max = osc_chart_max(self);
	guint n_cols = self->columns->len;
	gint label_w = MIN(width / 4, 160);
	gdouble cell_w = n_cols > 0 ? (gdouble)(width - label_w - PAD) / n_cols : 0;
	gdouble top = HEADER;
	GdkRGBA base, cell;

	osc_chart_color(0, &base);
	for (guint c = 0; c < n_cols; c++)
		osc_chart_text(self, cr, g_ptr_array_index(self->columns, c),
			       label_w + PAD + (c + 0.5) * cell_w, HEADER / 2.0, (gint)cell_w - 4,
			       0.5, fg, TRUE);
	for (guint r = 0; r < self->rows->len; r++) {
		gdouble y = top + r * CELL_HEIGHT;

		osc_chart_text(self, cr, g_ptr_array_index(self->rows, r), 0, y + CELL_HEIGHT / 2.0,
			       label_w, 0, fg, TRUE);
		for (guint c = 0; c < n_cols; c++) {
			gdouble v = g_array_index(self->values, gdouble, r * n_cols + c);
			g_autofree gchar *value = g_strdup_printf("%g", v);
			gdouble share = max > 0 ? v / max : 0;

			cell = base;
			/* an empty cell stays faint but visible */
			cell.alpha = 0.08 + 0.82 * share;
			gdk_cairo_set_source_rgba(cr, &cell);
			cairo_rectangle(cr, label_w + PAD + c * cell_w + 1, y + 1, cell_w - 2,
					CELL_HEIGHT - 2);
			cairo_fill(cr);
			osc_chart_text(self, cr, value, label_w + PAD + (c + 0.5) * cell_w,
				       y + CELL_HEIGHT / 2.0, (gint)cell_w - 4, 0.5, fg,
				       share > 0.5);
		}
	}
	/* legend: the scale from 0 to the maximum */
	{
		gdouble y = top + self->rows->len * CELL_HEIGHT + PAD;
		gdouble x0 = label_w + PAD;
		gdouble w = MIN(200, width - x0 - 60);
		g_autofree gchar *max_text = g_strdup_printf("%g", max);
		cairo_pattern_t *grad = cairo_pattern_create_linear(x0, 0, x0 + w, 0);

		cairo_pattern_add_color_stop_rgba(grad, 0, base.red, base.green, base.blue, 0.08);
		cairo_pattern_add_color_stop_rgba(grad, 1, base.red, base.green, base.blue, 0.9);
		cairo_set_source(cr, grad);
		cairo_rectangle(cr, x0, y, w, 12);
		cairo_fill(cr);
		cairo_pattern_destroy(grad);
		osc_chart_text(self, cr, _("Entries"), 0, y + 6, label_w, 0, fg, FALSE);
		osc_chart_text(self, cr, "0", x0 - 4, y + 6, 0, 1, fg, FALSE);
		osc_chart_text(self, cr, max_text, x0 + w + 4, y + 6, 0, 0, fg, FALSE);
	}
}

static void
osc_chart_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
	OscChart *self = OSC_CHART(widget);
	gint width = gtk_widget_get_width(widget);
	gint height = gtk_widget_get_height(widget);
	GdkRGBA fg;
	cairo_t *cr;

	if (width <= 0 || height <= 0)
		return;
	gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
	cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, width, height));
	if (self->values->len == 0) {
		GdkRGBA dim = fg;

		dim.alpha *= 0.55;
		osc_chart_text(self, cr, _("No data"), width / 2.0, height / 2.0, 0, 0.5, &dim,
			       FALSE);
	} else if (self->matrix) {
		osc_chart_draw_matrix(self, cr, width, &fg);
	} else {
		osc_chart_draw_bars(self, cr, width, &fg);
	}
	cairo_destroy(cr);
}

static void
osc_chart_measure(GtkWidget *widget, GtkOrientation orientation, gint for_size, gint *minimum,
		  gint *natural, gint *minimum_baseline, gint *natural_baseline)
{
	OscChart *self = OSC_CHART(widget);

	if (orientation == GTK_ORIENTATION_HORIZONTAL) {
		*minimum = 240;
		*natural = 480;
	} else if (self->values->len == 0) {
		*minimum = *natural = 80;
	} else if (self->matrix) {
		*minimum = *natural = HEADER + self->rows->len * CELL_HEIGHT + PAD + LEGEND;
	} else {
		*minimum = *natural = 2 * PAD + self->values->len * ROW_HEIGHT;
	}
}

static void
osc_chart_dark_cb(GObject *manager, GParamSpec *pspec, gpointer user_data)
{
	gtk_widget_queue_draw(GTK_WIDGET(user_data));
}

static void
osc_chart_reset(OscChart *self, gboolean matrix)
{
	self->matrix = matrix;
	g_ptr_array_set_size(self->rows, 0);
	g_ptr_array_set_size(self->columns, 0);
	g_array_set_size(self->values, 0);
}

void
osc_chart_set_bars(OscChart *self, const gchar *const *labels, const gdouble *values, guint n)
{
	g_return_if_fail(OSC_IS_CHART(self));

	osc_chart_reset(self, FALSE);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(self->rows, g_strdup(labels[i]));
	g_array_append_vals(self->values, values, n);
	osc_chart_update_accessible(self);
	gtk_widget_queue_resize(GTK_WIDGET(self));
}

void
osc_chart_set_matrix(OscChart *self, const gchar *const *rows, guint n_rows,
		     const gchar *const *columns, guint n_columns, const gdouble *values)
{
	g_return_if_fail(OSC_IS_CHART(self));

	osc_chart_reset(self, TRUE);
	for (guint i = 0; i < n_rows; i++)
		g_ptr_array_add(self->rows, g_strdup(rows[i]));
	for (guint i = 0; i < n_columns; i++)
		g_ptr_array_add(self->columns, g_strdup(columns[i]));
	g_array_append_vals(self->values, values, n_rows * n_columns);
	osc_chart_update_accessible(self);
	gtk_widget_queue_resize(GTK_WIDGET(self));
}

guint
osc_chart_get_n_values(OscChart *self)
{
	g_return_val_if_fail(OSC_IS_CHART(self), 0);
	return self->values->len;
}

gdouble
osc_chart_get_value(OscChart *self, guint i)
{
	g_return_val_if_fail(OSC_IS_CHART(self), 0);
	g_return_val_if_fail(i < self->values->len, 0);
	return g_array_index(self->values, gdouble, i);
}

void
osc_chart_set_title(OscChart *self, const gchar *title)
{
	g_return_if_fail(OSC_IS_CHART(self));
	g_free(self->title);
	self->title = g_strdup(title);
	osc_chart_update_accessible(self);
}

const gchar *
osc_chart_get_title(OscChart *self)
{
	g_return_val_if_fail(OSC_IS_CHART(self), NULL);
	return self->title;
}

GtkWidget *
osc_chart_new(void)
{
	return g_object_new(OSC_TYPE_CHART, NULL);
}

static void
osc_chart_dispose(GObject *object)
{
	OscChart *self = OSC_CHART(object);

	g_clear_signal_handler(&self->dark_handler, adw_style_manager_get_default());
	G_OBJECT_CLASS(osc_chart_parent_class)->dispose(object);
}

static void
osc_chart_finalize(GObject *object)
{
	OscChart *self = OSC_CHART(object);

	g_free(self->title);
	g_ptr_array_unref(self->rows);
	g_ptr_array_unref(self->columns);
	g_array_unref(self->values);
	G_OBJECT_CLASS(osc_chart_parent_class)->finalize(object);
}

static void
osc_chart_class_init(OscChartClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = osc_chart_dispose;
	object_class->finalize = osc_chart_finalize;
	widget_class->snapshot = osc_chart_snapshot;
	widget_class->measure = osc_chart_measure;
	gtk_widget_class_set_css_name(widget_class, "chart");
	gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
osc_chart_init(OscChart *self)
{
	self->rows = g_ptr_array_new_with_free_func(g_free);
	self->columns = g_ptr_array_new_with_free_func(g_free);
	self->values = g_array_new(FALSE, TRUE, sizeof(gdouble));
	self->dark_handler =
		g_signal_connect_object(adw_style_manager_get_default(), "notify::dark",
					G_CALLBACK(osc_chart_dark_cb), self, 0);
	osc_chart_update_accessible(self);
}
