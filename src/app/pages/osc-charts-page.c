/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-charts-page.h"

#include <glib/gi18n.h>

#include "osc-chart.h"
#include "osc-pages-private.h"

/*
 * Charts: entries by category and by environment (GET /stats) as bars, and by
 * environment × category (counted from GET /configs) as a heat map.
 */

struct _OscChartsPage {
	AdwBin parent_instance;

	OscClient *client;
	OscPageLoad load;

	GtkStack *stack;
	AdwStatusPage *error_page;
	OscChart *category_chart;
	OscChart *environment_chart;
	OscChart *matrix_chart;
};

G_DEFINE_FINAL_TYPE(OscChartsPage, osc_charts_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_CLIENT,
	N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
osc_charts_page_fill_bars(OscChart *chart, JsonObject *counts)
{
	g_autoptr(GList) members = counts != NULL ? json_object_get_members(counts) : NULL;
	guint n = g_list_length(members);
	g_autofree const gchar **labels = g_new0(const gchar *, n + 1);
	g_autofree gdouble *values = g_new0(gdouble, n + 1);
	guint i = 0;

	for (GList *l = members; l != NULL; l = l->next, i++) {
		labels[i] = l->data;
		values[i] = (gdouble)osc_pages_json_int(counts, l->data);
	}
	osc_chart_set_bars(chart, labels, values, n);
}

static void
osc_charts_page_stats_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = osc_client_get_stats_finish(OSC_CLIENT(source), result, &error);
	OscChartsPage *self;
	JsonObject *obj;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_CHARTS_PAGE(user_data);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The statistics are not a JSON object"));
		osc_page_load_fail(&self->load, error);
		osc_page_load_end(&self->load);
		return;
	}
	obj = json_node_get_object(node);
	osc_charts_page_fill_bars(self->category_chart,
				  osc_pages_json_object(obj, "keys_by_category"));
	osc_charts_page_fill_bars(self->environment_chart,
				  osc_pages_json_object(obj, "keys_by_environment"));
	osc_page_load_end(&self->load);
}

static guint
osc_charts_page_index(GPtrArray *names, GHashTable *index, const gchar *name)
{
	gpointer found;

	if (g_hash_table_lookup_extended(index, name, NULL, &found))
		return GPOINTER_TO_UINT(found);
	g_ptr_array_add(names, g_strdup(name));
	g_hash_table_insert(index, g_strdup(name), GUINT_TO_POINTER(names->len - 1));
	return names->len - 1;
}

static void
osc_charts_page_list_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) entries = osc_client_list_finish(OSC_CLIENT(source), result, &error);
	g_autoptr(GPtrArray) envs = NULL, cats = NULL;
	g_autoptr(GHashTable) env_index = NULL, cat_index = NULL;
	g_autoptr(GArray) cells = NULL;
	g_autofree gdouble *values = NULL;
	OscChartsPage *self;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_CHARTS_PAGE(user_data);
	if (entries == NULL) {
		osc_page_load_fail(&self->load, error);
		osc_page_load_end(&self->load);
		return;
	}
	envs = g_ptr_array_new_with_free_func(g_free);
	cats = g_ptr_array_new_with_free_func(g_free);
	env_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cat_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	/* (environment, category) pairs first, then the matrix once its size is known */
	cells = g_array_new(FALSE, FALSE, sizeof(guint) * 2);
	for (guint i = 0; i < entries->len; i++) {
		OscConfigEntry *e = g_ptr_array_index(entries, i);
		const gchar *cat = osc_config_entry_get_category(e);
		guint pair[2];

		/* as GET /stats counts them */
		if (cat == NULL || cat[0] == '\0')
			cat = "uncategorized";
		pair[0] =
			osc_charts_page_index(envs, env_index, osc_config_entry_get_environment(e));
		pair[1] = osc_charts_page_index(cats, cat_index, cat);
		g_array_append_vals(cells, pair, 1);
	}
	values = g_new0(gdouble, MAX(envs->len * cats->len, 1));
	for (guint i = 0; i < cells->len; i++) {
		guint *pair = &g_array_index(cells, guint, 2 * i);
		values[pair[0] * cats->len + pair[1]] += 1;
	}
	osc_chart_set_matrix(self->matrix_chart, (const gchar *const *)envs->pdata, envs->len,
			     (const gchar *const *)cats->pdata, cats->len, values);
	osc_page_load_end(&self->load);
}

/**
 * osc_charts_page_reload:
 *
 * Loads the statistics and the entry list again and redraws the charts.
 */
void
osc_charts_page_reload(OscChartsPage *self)
{
	g_return_if_fail(OSC_IS_CHARTS_PAGE(self));

	if (self->client == NULL) {
		osc_page_load_show_empty(&self->load);
		return;
	}
	osc_page_load_begin(&self->load, 2);
	osc_client_get_stats_async(self->client, self->load.cancellable, osc_charts_page_stats_cb,
				   self);
	osc_client_list_async(self->client, NULL, NULL, FALSE, self->load.cancellable,
			      osc_charts_page_list_cb, self);
}

GtkWidget *
osc_charts_page_get_chart(OscChartsPage *self, guint which)
{
	g_return_val_if_fail(OSC_IS_CHARTS_PAGE(self), NULL);
	g_return_val_if_fail(which < 3, NULL);
	return GTK_WIDGET(which == 0   ? self->category_chart
			  : which == 1 ? self->environment_chart
				       : self->matrix_chart);
}

/**
 * osc_charts_page_new:
 * @client: (nullable): the client to show, or %NULL
 *
 * Returns: (transfer floating): a new page
 */
GtkWidget *
osc_charts_page_new(OscClient *client)
{
	return g_object_new(OSC_TYPE_CHARTS_PAGE, "client", client, NULL);
}

OscClient *
osc_charts_page_get_client(OscChartsPage *self)
{
	g_return_val_if_fail(OSC_IS_CHARTS_PAGE(self), NULL);
	return self->client;
}

void
osc_charts_page_set_client(OscChartsPage *self, OscClient *client)
{
	g_return_if_fail(OSC_IS_CHARTS_PAGE(self));
	g_return_if_fail(client == NULL || OSC_IS_CLIENT(client));

	if (!g_set_object(&self->client, client))
		return;
	if (client == NULL || gtk_widget_get_mapped(GTK_WIDGET(self)))
		osc_charts_page_reload(self);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CLIENT]);
}

static void
osc_charts_page_reload_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	osc_charts_page_reload(OSC_CHARTS_PAGE(widget));
}

static void
osc_charts_page_map(GtkWidget *widget)
{
	OscChartsPage *self = OSC_CHARTS_PAGE(widget);

	GTK_WIDGET_CLASS(osc_charts_page_parent_class)->map(widget);
	osc_charts_page_reload(self);
}

static void
osc_charts_page_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscChartsPage *self = OSC_CHARTS_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		g_value_set_object(value, self->client);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_charts_page_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	OscChartsPage *self = OSC_CHARTS_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		osc_charts_page_set_client(self, g_value_get_object(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_charts_page_dispose(GObject *object)
{
	OscChartsPage *self = OSC_CHARTS_PAGE(object);

	osc_page_load_clear(&self->load);
	g_clear_object(&self->client);
	/* AdwBin keeps a pointer to its child: take the stack out through it before the
	 * template children go */
	adw_bin_set_child(ADW_BIN(self), NULL);
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_CHARTS_PAGE);
	G_OBJECT_CLASS(osc_charts_page_parent_class)->dispose(object);
}

static void
osc_charts_page_class_init(OscChartsPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = osc_charts_page_get_property;
	object_class->set_property = osc_charts_page_set_property;
	object_class->dispose = osc_charts_page_dispose;
	widget_class->map = osc_charts_page_map;

	properties[PROP_CLIENT] = g_param_spec_object("client", NULL, NULL, OSC_TYPE_CLIENT,
						      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
							      G_PARAM_EXPLICIT_NOTIFY);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	g_type_ensure(OSC_TYPE_CHART);
	gtk_widget_class_set_template_from_resource(widget_class,
						    OSC_PAGES_RESOURCE "osc-charts-page.ui");
	gtk_widget_class_bind_template_child(widget_class, OscChartsPage, stack);
	gtk_widget_class_bind_template_child(widget_class, OscChartsPage, error_page);
	gtk_widget_class_bind_template_child(widget_class, OscChartsPage, category_chart);
	gtk_widget_class_bind_template_child(widget_class, OscChartsPage, environment_chart);
	gtk_widget_class_bind_template_child(widget_class, OscChartsPage, matrix_chart);

	gtk_widget_class_install_action(widget_class, "page.reload", NULL,
					osc_charts_page_reload_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F5, 0, "page.reload", NULL);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
					    "page.reload", NULL);
}

static void
osc_charts_page_init(OscChartsPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->load.stack = self->stack;
	self->load.error_page = self->error_page;
	g_object_set_data(G_OBJECT(self), "osc-page-load", &self->load);
	osc_page_load_show_empty(&self->load);
	osc_chart_set_title(self->category_chart, _("Entries by category"));
	osc_chart_set_title(self->environment_chart, _("Entries by environment"));
	osc_chart_set_title(self->matrix_chart, _("Entries by environment and category"));
}
