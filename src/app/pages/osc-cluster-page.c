/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-cluster-page.h"

#include <glib/gi18n.h>

#include "osc-pages-private.h"

/*
 * The cluster: GET /cluster/status, and with clustering on GET /cluster/health and the key
 * distribution of GET /cluster/distribution. Reloads every refresh-interval seconds while
 * it is mapped; the timer goes when it is unmapped or disposed.
 */

struct _OscClusterPage {
	AdwBin parent_instance;

	OscClient *client;
	OscPageLoad load;

	GtkStack *stack;
	AdwStatusPage *error_page;
	GtkStack *mode_stack;
	GtkListBox *status_box;
	GtkListBox *nodes_box;
	AdwPreferencesGroup *distribution_group;

	GtkWidget *mode_row;
	GtkWidget *node_row;
	GtkWidget *nodes_row;
	GtkWidget *health_row;
	guint refresh_interval;
	guint refresh_source;
	guint n_nodes;
};

G_DEFINE_FINAL_TYPE(OscClusterPage, osc_cluster_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_CLIENT,
	PROP_REFRESH_INTERVAL,
	N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
osc_cluster_page_health_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_get_cluster_health_finish(OSC_CLIENT(source), result, &error);
	OscClusterPage *self;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_CLUSTER_PAGE(user_data);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_autofree gchar *text =
			error != NULL ? osc_pages_error_text(error) : g_strdup(_("Unknown"));
		osc_pages_value_row_set(self->health_row, text);
	} else {
		const gchar *status = osc_pages_json_string(json_node_get_object(node), "status");
		osc_pages_value_row_set(self->health_row, status != NULL ? status : _("Unknown"));
	}
	osc_page_load_end(&self->load);
}

static void
osc_cluster_page_distribution_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_get_cluster_distribution_finish(OSC_CLIENT(source), result, &error);
	OscClusterPage *self;
	JsonObject *obj;
	JsonNode *nodes;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_CLUSTER_PAGE(user_data);
	osc_pages_list_box_clear(self->nodes_box);
	self->n_nodes = 0;
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_autofree gchar *text =
			error != NULL ? osc_pages_error_text(error) : g_strdup(_("Unknown"));
		/* the status still shows: only the distribution failed */
		adw_preferences_group_set_description(self->distribution_group, text);
		osc_page_load_end(&self->load);
		return;
	}
	obj = json_node_get_object(node);
	adw_preferences_group_set_description(
		self->distribution_group,
		json_object_get_boolean_member_with_default(obj, "all_nodes_synced", FALSE)
			? _("All nodes hold the same number of entries")
			: _("The nodes do not all hold the same number of entries yet"));
	nodes = json_object_get_member(obj, "nodes_distribution");
	if (nodes != NULL && JSON_NODE_HOLDS_ARRAY(nodes)) {
		JsonArray *array = json_node_get_array(nodes);

		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonObject *n = json_array_get_object_element(array, i);
			gboolean local, healthy;
			const gchar *id;
			g_autofree gchar *count = NULL;
			const gchar *subtitle;

			if (n == NULL)
				continue;
			local = json_object_get_boolean_member_with_default(n, "is_local", FALSE);
			healthy =
				json_object_get_boolean_member_with_default(n, "is_healthy", FALSE);
			id = osc_pages_json_string(n, "node_id");
			/* TRANSLATORS: the entries a node holds */
			count = g_strdup_printf(_("%lld entries"),
						(long long)osc_pages_json_int(n, "keys_count"));
			if (local)
				subtitle = healthy ? _("This node, healthy")
						   : _("This node, unhealthy");
			else
				subtitle = healthy ? _("Healthy") : _("Unreachable or unhealthy");
			gtk_list_box_append(
				self->nodes_box,
				osc_pages_value_row(id != NULL ? id : "?", subtitle, count));
			self->n_nodes++;
		}
	}
	osc_page_load_end(&self->load);
}

static void
osc_cluster_page_status_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_get_cluster_status_finish(OSC_CLIENT(source), result, &error);
	OscClusterPage *self;
	JsonObject *obj;
	g_autofree gchar *nodes = NULL;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_CLUSTER_PAGE(user_data);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The cluster status is not a JSON object"));
		osc_page_load_fail(&self->load, error);
		osc_page_load_end(&self->load);
		return;
	}
	obj = json_node_get_object(node);
	if (!json_object_get_boolean_member_with_default(obj, "enabled", FALSE)) {
		gtk_stack_set_visible_child_name(self->mode_stack, "off");
		osc_page_load_end(&self->load);
		return;
	}
	gtk_stack_set_visible_child_name(self->mode_stack, "on");
	osc_pages_value_row_set(self->mode_row, osc_pages_json_string(obj, "mode") != NULL
							? osc_pages_json_string(obj, "mode")
							: _("Unknown"));
	osc_pages_value_row_set(self->node_row, osc_pages_json_string(obj, "node_id") != NULL
							? osc_pages_json_string(obj, "node_id")
							: _("Unknown"));
	/* TRANSLATORS: healthy nodes of all nodes, e.g. "2 of 3" */
	nodes = g_strdup_printf(_("%lld of %lld"),
				(long long)osc_pages_json_int(obj, "healthy_nodes"),
				(long long)osc_pages_json_int(obj, "total_nodes"));
	osc_pages_value_row_set(self->nodes_row, nodes);
	/* the health and the distribution only mean something with clustering on */
	self->load.pending += 2;
	osc_client_get_cluster_health_async(self->client, self->load.cancellable,
					    osc_cluster_page_health_cb, self);
	osc_client_get_cluster_distribution_async(self->client, self->load.cancellable,
						  osc_cluster_page_distribution_cb, self);
	osc_page_load_end(&self->load);
}

/**
 * osc_cluster_page_reload:
 *
 * Reads the cluster status, and with clustering on the node health and the key
 * distribution, again.
 */
void
osc_cluster_page_reload(OscClusterPage *self)
{
	g_return_if_fail(OSC_IS_CLUSTER_PAGE(self));

	if (self->client == NULL) {
		osc_page_load_show_empty(&self->load);
		return;
	}
	osc_page_load_begin(&self->load, 1);
	osc_client_get_cluster_status_async(self->client, self->load.cancellable,
					    osc_cluster_page_status_cb, self);
}

static gboolean
osc_cluster_page_refresh_cb(gpointer user_data)
{
	OscClusterPage *self = OSC_CLUSTER_PAGE(user_data);

	/* a slow server: let the running refresh finish rather than restart it */
	if (self->load.pending == 0)
		osc_cluster_page_reload(self);
	return G_SOURCE_CONTINUE;
}

static void
osc_cluster_page_update_timer(OscClusterPage *self)
{
	g_clear_handle_id(&self->refresh_source, g_source_remove);
	if (self->refresh_interval > 0 && gtk_widget_get_mapped(GTK_WIDGET(self)))
		self->refresh_source = g_timeout_add_seconds(self->refresh_interval,
							     osc_cluster_page_refresh_cb, self);
}

guint
osc_cluster_page_get_refresh_interval(OscClusterPage *self)
{
	g_return_val_if_fail(OSC_IS_CLUSTER_PAGE(self), 0);
	return self->refresh_interval;
}

/**
 * osc_cluster_page_set_refresh_interval:
 * @seconds: how often to reload while the page is shown; 0 for never
 */
void
osc_cluster_page_set_refresh_interval(OscClusterPage *self, guint seconds)
{
	g_return_if_fail(OSC_IS_CLUSTER_PAGE(self));
	if (self->refresh_interval == seconds)
		return;
	self->refresh_interval = seconds;
	osc_cluster_page_update_timer(self);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_REFRESH_INTERVAL]);
}

gboolean
osc_cluster_page_get_enabled_shown(OscClusterPage *self)
{
	return g_strcmp0(gtk_stack_get_visible_child_name(self->mode_stack), "on") == 0;
}

guint
osc_cluster_page_get_n_nodes_shown(OscClusterPage *self)
{
	return self->n_nodes;
}

gboolean
osc_cluster_page_get_auto_refreshing(OscClusterPage *self)
{
	return self->refresh_source != 0;
}

/**
 * osc_cluster_page_new:
 * @client: (nullable): the client to show, or %NULL
 *
 * Returns: (transfer floating): a new page
 */
GtkWidget *
osc_cluster_page_new(OscClient *client)
{
	return g_object_new(OSC_TYPE_CLUSTER_PAGE, "client", client, NULL);
}

OscClient *
osc_cluster_page_get_client(OscClusterPage *self)
{
	g_return_val_if_fail(OSC_IS_CLUSTER_PAGE(self), NULL);
	return self->client;
}

void
osc_cluster_page_set_client(OscClusterPage *self, OscClient *client)
{
	g_return_if_fail(OSC_IS_CLUSTER_PAGE(self));
	g_return_if_fail(client == NULL || OSC_IS_CLIENT(client));

	if (!g_set_object(&self->client, client))
		return;
	if (client == NULL || gtk_widget_get_mapped(GTK_WIDGET(self)))
		osc_cluster_page_reload(self);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CLIENT]);
}

static void
osc_cluster_page_reload_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	osc_cluster_page_reload(OSC_CLUSTER_PAGE(widget));
}

static void
osc_cluster_page_map(GtkWidget *widget)
{
	OscClusterPage *self = OSC_CLUSTER_PAGE(widget);

	GTK_WIDGET_CLASS(osc_cluster_page_parent_class)->map(widget);
	osc_cluster_page_reload(self);
	osc_cluster_page_update_timer(self);
}

static void
osc_cluster_page_unmap(GtkWidget *widget)
{
	OscClusterPage *self = OSC_CLUSTER_PAGE(widget);

	g_clear_handle_id(&self->refresh_source, g_source_remove);
	GTK_WIDGET_CLASS(osc_cluster_page_parent_class)->unmap(widget);
}

static void
osc_cluster_page_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscClusterPage *self = OSC_CLUSTER_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		g_value_set_object(value, self->client);
		break;
	case PROP_REFRESH_INTERVAL:
		g_value_set_uint(value, self->refresh_interval);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_cluster_page_set_property(GObject *object, guint prop_id, const GValue *value,
			      GParamSpec *pspec)
{
	OscClusterPage *self = OSC_CLUSTER_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		osc_cluster_page_set_client(self, g_value_get_object(value));
		break;
	case PROP_REFRESH_INTERVAL:
		osc_cluster_page_set_refresh_interval(self, g_value_get_uint(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_cluster_page_dispose(GObject *object)
{
	OscClusterPage *self = OSC_CLUSTER_PAGE(object);

	osc_page_load_clear(&self->load);
	g_clear_handle_id(&self->refresh_source, g_source_remove);
	g_clear_object(&self->client);
	/* AdwBin keeps a pointer to its child: take the stack out through it before the
	 * template children go */
	adw_bin_set_child(ADW_BIN(self), NULL);
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_CLUSTER_PAGE);
	G_OBJECT_CLASS(osc_cluster_page_parent_class)->dispose(object);
}

static void
osc_cluster_page_class_init(OscClusterPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = osc_cluster_page_get_property;
	object_class->set_property = osc_cluster_page_set_property;
	object_class->dispose = osc_cluster_page_dispose;
	widget_class->map = osc_cluster_page_map;
	widget_class->unmap = osc_cluster_page_unmap;

	properties[PROP_CLIENT] = g_param_spec_object("client", NULL, NULL, OSC_TYPE_CLIENT,
						      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
							      G_PARAM_EXPLICIT_NOTIFY);
	properties[PROP_REFRESH_INTERVAL] = g_param_spec_uint(
		"refresh-interval", NULL, NULL, 0, 3600, 5,
		G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	gtk_widget_class_set_template_from_resource(widget_class,
						    OSC_PAGES_RESOURCE "osc-cluster-page.ui");
	gtk_widget_class_bind_template_child(widget_class, OscClusterPage, stack);
	gtk_widget_class_bind_template_child(widget_class, OscClusterPage, error_page);
	gtk_widget_class_bind_template_child(widget_class, OscClusterPage, mode_stack);
	gtk_widget_class_bind_template_child(widget_class, OscClusterPage, status_box);
	gtk_widget_class_bind_template_child(widget_class, OscClusterPage, nodes_box);
	gtk_widget_class_bind_template_child(widget_class, OscClusterPage, distribution_group);

	gtk_widget_class_install_action(widget_class, "page.reload", NULL,
					osc_cluster_page_reload_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F5, 0, "page.reload", NULL);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
					    "page.reload", NULL);
}

static void
osc_cluster_page_init(OscClusterPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->load.stack = self->stack;
	self->load.error_page = self->error_page;
	g_object_set_data(G_OBJECT(self), "osc-page-load", &self->load);
	osc_page_load_show_empty(&self->load);
	self->refresh_interval = 5;
	self->mode_row = osc_pages_value_row(_("Mode"), NULL, "–");
	self->node_row = osc_pages_value_row(_("This node"), NULL, "–");
	self->nodes_row = osc_pages_value_row(_("Healthy nodes"), NULL, "–");
	self->health_row = osc_pages_value_row(_("This node’s health"), NULL, "–");
	gtk_list_box_append(self->status_box, self->mode_row);
	gtk_list_box_append(self->status_box, self->node_row);
	gtk_list_box_append(self->status_box, self->nodes_row);
	gtk_list_box_append(self->status_box, self->health_row);
}
