/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-dashboard-page.h"

#include <glib/gi18n.h>

#include "osc-pages-private.h"

/*
 * The dashboard: entry totals, counts by category and by environment (GET /stats), the
 * service information (GET /) and whether clustering is on (GET /cluster/status).
 */

struct _OscDashboardPage {
	AdwBin parent_instance;

	OscClient *client;
	OscPageLoad load;

	GtkStack *stack;
	AdwStatusPage *error_page;
	GtkListBox *totals_box;
	GtkListBox *category_box;
	GtkListBox *environment_box;
	GtkListBox *service_box;

	GtkWidget *total_row;
	GtkWidget *categories_row;
	GtkWidget *environments_row;
	GtkWidget *name_row;
	GtkWidget *version_row;
	GtkWidget *status_row;
	GtkWidget *cluster_row;
};

G_DEFINE_FINAL_TYPE(OscDashboardPage, osc_dashboard_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_CLIENT,
	N_PROPS,
};

static GParamSpec *properties[N_PROPS];

/* one row per member of a {"name": count} map, in the server's order, with its share */
static void
osc_dashboard_page_fill_counts(GtkListBox *box, JsonObject *counts, gint64 total)
{
	g_autoptr(GList) members = NULL;

	osc_pages_list_box_clear(box);
	if (counts == NULL || json_object_get_size(counts) == 0) {
		gtk_list_box_append(box, osc_pages_value_row(_("No entries"), NULL, "0"));
		return;
	}
	members = json_object_get_members(counts);
	for (GList *l = members; l != NULL; l = l->next) {
		const gchar *name = l->data;
		gint64 n = osc_pages_json_int(counts, name);
		g_autofree gchar *value = g_strdup_printf("%" G_GINT64_FORMAT, n);
		/* TRANSLATORS: the share of all entries, e.g. "40 % of all entries" */
		g_autofree gchar *share =
			g_strdup_printf(_("%.0f %% of all entries"),
					total > 0 ? 100.0 * (gdouble)n / (gdouble)total : 0.0);

		gtk_list_box_append(box, osc_pages_value_row(name, share, value));
	}
}

static void
osc_dashboard_page_stats_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = osc_client_get_stats_finish(OSC_CLIENT(source), result, &error);
	OscDashboardPage *self;
	JsonObject *obj;
	gint64 total;
	g_autofree gchar *t = NULL, *c = NULL, *e = NULL;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_DASHBOARD_PAGE(user_data);
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
	total = osc_pages_json_int(obj, "total_keys");
	t = g_strdup_printf("%" G_GINT64_FORMAT, total);
	c = g_strdup_printf("%" G_GINT64_FORMAT, osc_pages_json_int(obj, "total_categories"));
	e = g_strdup_printf("%" G_GINT64_FORMAT, osc_pages_json_int(obj, "total_environments"));
	osc_pages_value_row_set(self->total_row, t);
	osc_pages_value_row_set(self->categories_row, c);
	osc_pages_value_row_set(self->environments_row, e);
	osc_dashboard_page_fill_counts(self->category_box,
				       osc_pages_json_object(obj, "keys_by_category"), total);
	osc_dashboard_page_fill_counts(self->environment_box,
				       osc_pages_json_object(obj, "keys_by_environment"), total);
	osc_page_load_end(&self->load);
}

static void
osc_dashboard_page_info_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_get_service_info_finish(OSC_CLIENT(source), result, &error);
	OscDashboardPage *self;
	JsonObject *obj;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_DASHBOARD_PAGE(user_data);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_autofree gchar *text =
			error != NULL ? osc_pages_error_text(error) : g_strdup(_("Unknown"));

		osc_pages_value_row_set(self->status_row, text);
		osc_page_load_end(&self->load);
		return;
	}
	obj = json_node_get_object(node);
	osc_pages_value_row_set(self->name_row, osc_pages_json_string(obj, "service") != NULL
							? osc_pages_json_string(obj, "service")
							: _("Unknown"));
	osc_pages_value_row_set(self->version_row, osc_pages_json_string(obj, "version") != NULL
							   ? osc_pages_json_string(obj, "version")
							   : _("Unknown"));
	osc_pages_value_row_set(self->status_row, osc_pages_json_string(obj, "status") != NULL
							  ? osc_pages_json_string(obj, "status")
							  : _("Unknown"));
	osc_page_load_end(&self->load);
}

static void
osc_dashboard_page_cluster_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_get_cluster_status_finish(OSC_CLIENT(source), result, &error);
	OscDashboardPage *self;
	JsonObject *obj;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_DASHBOARD_PAGE(user_data);
	/* the cluster row says what went wrong; the rest of the dashboard still shows */
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_autofree gchar *text =
			error != NULL ? osc_pages_error_text(error) : g_strdup(_("Unknown"));

		osc_pages_value_row_set(self->cluster_row, text);
	} else {
		obj = json_node_get_object(node);
		if (json_object_get_boolean_member_with_default(obj, "enabled", FALSE)) {
			/* TRANSLATORS: clustering on, e.g. "On: 2 of 3 nodes healthy" */
			g_autofree gchar *text = g_strdup_printf(
				_("On: %lld of %lld nodes healthy"),
				(long long)osc_pages_json_int(obj, "healthy_nodes"),
				(long long)osc_pages_json_int(obj, "total_nodes"));
			osc_pages_value_row_set(self->cluster_row, text);
		} else {
			osc_pages_value_row_set(self->cluster_row, _("Off"));
		}
	}
	osc_page_load_end(&self->load);
}

/**
 * osc_dashboard_page_reload:
 *
 * Loads the statistics, the service information and the cluster state again.
 */
void
osc_dashboard_page_reload(OscDashboardPage *self)
{
	g_return_if_fail(OSC_IS_DASHBOARD_PAGE(self));

	if (self->client == NULL) {
		osc_page_load_show_empty(&self->load);
		return;
	}
	osc_page_load_begin(&self->load, 3);
	osc_client_get_stats_async(self->client, self->load.cancellable,
				   osc_dashboard_page_stats_cb, self);
	osc_client_get_service_info_async(self->client, self->load.cancellable,
					  osc_dashboard_page_info_cb, self);
	osc_client_get_cluster_status_async(self->client, self->load.cancellable,
					    osc_dashboard_page_cluster_cb, self);
}

const gchar *
osc_dashboard_page_get_total_text(OscDashboardPage *self)
{
	return osc_pages_value_row_get(self->total_row);
}

guint
osc_dashboard_page_get_n_categories_shown(OscDashboardPage *self)
{
	guint n = 0;

	for (GtkWidget *w = gtk_widget_get_first_child(GTK_WIDGET(self->category_box)); w != NULL;
	     w = gtk_widget_get_next_sibling(w))
		n++;
	return n;
}

const gchar *
osc_dashboard_page_get_cluster_text(OscDashboardPage *self)
{
	return osc_pages_value_row_get(self->cluster_row);
}

/**
 * osc_dashboard_page_new:
 * @client: (nullable): the client to show, or %NULL
 *
 * Returns: (transfer floating): a new page
 */
GtkWidget *
osc_dashboard_page_new(OscClient *client)
{
	return g_object_new(OSC_TYPE_DASHBOARD_PAGE, "client", client, NULL);
}

OscClient *
osc_dashboard_page_get_client(OscDashboardPage *self)
{
	g_return_val_if_fail(OSC_IS_DASHBOARD_PAGE(self), NULL);
	return self->client;
}

void
osc_dashboard_page_set_client(OscDashboardPage *self, OscClient *client)
{
	g_return_if_fail(OSC_IS_DASHBOARD_PAGE(self));
	g_return_if_fail(client == NULL || OSC_IS_CLIENT(client));

	if (!g_set_object(&self->client, client))
		return;
	if (client == NULL || gtk_widget_get_mapped(GTK_WIDGET(self)))
		osc_dashboard_page_reload(self);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CLIENT]);
}

static void
osc_dashboard_page_reload_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	osc_dashboard_page_reload(OSC_DASHBOARD_PAGE(widget));
}

static void
osc_dashboard_page_map(GtkWidget *widget)
{
	OscDashboardPage *self = OSC_DASHBOARD_PAGE(widget);

	GTK_WIDGET_CLASS(osc_dashboard_page_parent_class)->map(widget);
	osc_dashboard_page_reload(self);
}

static void
osc_dashboard_page_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscDashboardPage *self = OSC_DASHBOARD_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		g_value_set_object(value, self->client);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_dashboard_page_set_property(GObject *object, guint prop_id, const GValue *value,
				GParamSpec *pspec)
{
	OscDashboardPage *self = OSC_DASHBOARD_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		osc_dashboard_page_set_client(self, g_value_get_object(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_dashboard_page_dispose(GObject *object)
{
	OscDashboardPage *self = OSC_DASHBOARD_PAGE(object);

	osc_page_load_clear(&self->load);
	g_clear_object(&self->client);
	/* AdwBin keeps a pointer to its child: take the stack out through it before the
	 * template children go */
	adw_bin_set_child(ADW_BIN(self), NULL);
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_DASHBOARD_PAGE);
	G_OBJECT_CLASS(osc_dashboard_page_parent_class)->dispose(object);
}

static void
osc_dashboard_page_class_init(OscDashboardPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = osc_dashboard_page_get_property;
	object_class->set_property = osc_dashboard_page_set_property;
	object_class->dispose = osc_dashboard_page_dispose;
	widget_class->map = osc_dashboard_page_map;

	properties[PROP_CLIENT] = g_param_spec_object("client", NULL, NULL, OSC_TYPE_CLIENT,
						      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
							      G_PARAM_EXPLICIT_NOTIFY);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	gtk_widget_class_set_template_from_resource(widget_class,
						    OSC_PAGES_RESOURCE "osc-dashboard-page.ui");
	gtk_widget_class_bind_template_child(widget_class, OscDashboardPage, stack);
	gtk_widget_class_bind_template_child(widget_class, OscDashboardPage, error_page);
	gtk_widget_class_bind_template_child(widget_class, OscDashboardPage, totals_box);
	gtk_widget_class_bind_template_child(widget_class, OscDashboardPage, category_box);
	gtk_widget_class_bind_template_child(widget_class, OscDashboardPage, environment_box);
	gtk_widget_class_bind_template_child(widget_class, OscDashboardPage, service_box);

	gtk_widget_class_install_action(widget_class, "page.reload", NULL,
					osc_dashboard_page_reload_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F5, 0, "page.reload", NULL);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
					    "page.reload", NULL);
}

static void
osc_dashboard_page_init(OscDashboardPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->load.stack = self->stack;
	self->load.error_page = self->error_page;
	g_object_set_data(G_OBJECT(self), "osc-page-load", &self->load);
	osc_page_load_show_empty(&self->load);
	self->total_row = osc_pages_value_row(_("Entries"), NULL, "–");
	self->categories_row = osc_pages_value_row(_("Categories"), NULL, "–");
	self->environments_row = osc_pages_value_row(_("Environments"), NULL, "–");
	gtk_list_box_append(self->totals_box, self->total_row);
	gtk_list_box_append(self->totals_box, self->categories_row);
	gtk_list_box_append(self->totals_box, self->environments_row);
	self->name_row = osc_pages_value_row(_("Service"), NULL, "–");
	self->version_row = osc_pages_value_row(_("Version"), NULL, "–");
	self->status_row = osc_pages_value_row(_("Status"), NULL, "–");
	self->cluster_row = osc_pages_value_row(_("Clustering"), NULL, "–");
	gtk_list_box_append(self->service_box, self->name_row);
	gtk_list_box_append(self->service_box, self->version_row);
	gtk_list_box_append(self->service_box, self->status_row);
	gtk_list_box_append(self->service_box, self->cluster_row);
}
