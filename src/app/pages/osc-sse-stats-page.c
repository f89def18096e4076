/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-sse-stats-page.h"

#include <glib/gi18n.h>

#include "osc-pages-private.h"

/*
 * Event stream statistics: the counters of GET /sse/stats (subscriptions, events,
 * connections) and the open subscriptions of GET /sse/subscriptions.
 */

struct _OscSseStatsPage {
	AdwBin parent_instance;

	OscClient *client;
	OscPageLoad load;

	GtkStack *stack;
	AdwStatusPage *error_page;
	GtkListBox *subscriptions_box;
	GtkListBox *events_box;
	GtkListBox *connections_box;
	GtkListBox *open_box;
	GtkStack *open_stack;

	GHashTable *counters; /* "section.member" → row */
	guint n_open;
};

G_DEFINE_FINAL_TYPE(OscSseStatsPage, osc_sse_stats_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_CLIENT,
	N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static gchar *
osc_sse_stats_page_member_text(JsonObject *obj, const gchar *member)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return g_strdup(_("Never"));
	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
		return g_strdup(json_node_get_string(node));
	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_DOUBLE)
		return g_strdup_printf("%.2f", json_node_get_double(node));
	return g_strdup_printf("%" G_GINT64_FORMAT, osc_pages_json_int(obj, member));
}

static void
osc_sse_stats_page_add(OscSseStatsPage *self, GtkListBox *box, JsonObject *section,
		       const gchar *section_name, const gchar *member, const gchar *title)
{
	g_autofree gchar *text = osc_sse_stats_page_member_text(section, member);
	GtkWidget *row = osc_pages_value_row(title, NULL, text);

	gtk_list_box_append(box, row);
	g_hash_table_insert(self->counters, g_strdup_printf("%s.%s", section_name, member), row);
}

/* {"created": 2, …}: one row per member, under a title */
static void
osc_sse_stats_page_add_map(GtkListBox *box, JsonObject *map, const gchar *what)
{
	g_autoptr(GList) members = map != NULL ? json_object_get_members(map) : NULL;

	for (GList *l = members; l != NULL; l = l->next) {
		g_autofree gchar *value =
			g_strdup_printf("%" G_GINT64_FORMAT, osc_pages_json_int(map, l->data));

		gtk_list_box_append(box, osc_pages_value_row(l->data, what, value));
	}
}

static void
osc_sse_stats_page_stats_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_get_sse_stats_finish(OSC_CLIENT(source), result, &error);
	OscSseStatsPage *self;
	JsonObject *obj, *subs, *events, *health, *perf;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_SSE_STATS_PAGE(user_data);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The event stream statistics are not a JSON object"));
		osc_page_load_fail(&self->load, error);
		osc_page_load_end(&self->load);
		return;
	}
	obj = json_node_get_object(node);
	subs = osc_pages_json_object(obj, "subscriptions");
	events = osc_pages_json_object(obj, "events");
	health = osc_pages_json_object(obj, "connection_health");
	perf = osc_pages_json_object(obj, "performance");
	g_hash_table_remove_all(self->counters);
	osc_pages_list_box_clear(self->subscriptions_box);
	osc_pages_list_box_clear(self->events_box);
	osc_pages_list_box_clear(self->connections_box);

	osc_sse_stats_page_add(self, self->subscriptions_box, subs, "subscriptions", "active",
			       _("Open now"));
	osc_sse_stats_page_add(self, self->subscriptions_box, subs, "subscriptions",
			       "total_created", _("Opened in all"));
	osc_sse_stats_page_add(self, self->subscriptions_box, subs, "subscriptions", "closed",
			       _("Closed"));
	osc_sse_stats_page_add(self, self->subscriptions_box, subs, "subscriptions", "wildcard",
			       _("Without filters"));
	osc_sse_stats_page_add(self, self->subscriptions_box, subs, "subscriptions",
			       "last_created_at", _("Last opened"));
	osc_sse_stats_page_add_map(self->subscriptions_box, osc_pages_json_object(subs, "by_key"),
				   _("Open subscriptions with this key filter"));
	osc_sse_stats_page_add_map(self->subscriptions_box,
				   osc_pages_json_object(subs, "by_environment"),
				   _("Open subscriptions with this environment filter"));
	osc_sse_stats_page_add_map(self->subscriptions_box,
				   osc_pages_json_object(subs, "by_category"),
				   _("Open subscriptions with this category filter"));

	osc_sse_stats_page_add(self, self->events_box, events, "events", "total_sent",
			       _("Events sent"));
	osc_sse_stats_page_add_map(self->events_box, osc_pages_json_object(events, "by_type"),
				   _("Events of this type sent"));
	osc_sse_stats_page_add(self, self->events_box, events, "events", "dropped_queue_full",
			       _("Dropped (queue full)"));
	osc_sse_stats_page_add(self, self->events_box, events, "events", "last_sent_at",
			       _("Last sent"));

	osc_sse_stats_page_add(self, self->connections_box, health, "connection_health",
			       "keepalive_sent", _("Keep-alives sent"));
	osc_sse_stats_page_add(self, self->connections_box, health, "connection_health",
			       "disconnections_detected", _("Disconnections detected"));
	osc_sse_stats_page_add(self, self->connections_box, perf, "performance",
			       "average_subscription_duration_seconds", _("Average duration (s)"));
	osc_sse_stats_page_add(self, self->connections_box, perf, "performance",
			       "max_queue_size_reached", _("Largest queue reached"));
	osc_page_load_end(&self->load);
}

static gchar *
osc_sse_stats_page_filters_text(JsonObject *filters)
{
	static const gchar *const names[] = {"key", "environment", "category"};
	g_autoptr(GString) s = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		const gchar *v = osc_pages_json_string(filters, names[i]);

		if (v == NULL || v[0] == '\0')
			continue;
		g_string_append_printf(s, "%s%s=%s", s->len > 0 ? ", " : "", names[i], v);
	}
	if (s->len == 0)
		return g_strdup(_("All events"));
	return g_strdup(s->str);
}

static void
osc_sse_stats_page_subscriptions_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_get_sse_subscriptions_finish(OSC_CLIENT(source), result, &error);
	OscSseStatsPage *self;
	JsonArray *array;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_SSE_STATS_PAGE(user_data);
	if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node)) {
		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The subscription list is not a JSON array"));
		osc_page_load_fail(&self->load, error);
		osc_page_load_end(&self->load);
		return;
	}
	array = json_node_get_array(node);
	osc_pages_list_box_clear(self->open_box);
	self->n_open = json_array_get_length(array);
	for (guint i = 0; i < self->n_open; i++) {
		JsonObject *sub = json_array_get_object_element(array, i);
		g_autofree gchar *filters =
			osc_sse_stats_page_filters_text(osc_pages_json_object(sub, "filters"));
		/* TRANSLATORS: an open event stream: its age and its queue, e.g.
		 * "12.5 s, queue 0/100" */
		g_autofree gchar *value =
			g_strdup_printf(_("%.1f s, queue %lld/%lld"),
					osc_pages_json_double(sub, "duration_seconds"),
					(long long)osc_pages_json_int(sub, "queue_size"),
					(long long)osc_pages_json_int(sub, "queue_max_size"));
		const gchar *id = osc_pages_json_string(sub, "subscription_id");

		gtk_list_box_append(self->open_box,
				    osc_pages_value_row(filters, id != NULL ? id : "", value));
	}
	gtk_stack_set_visible_child_name(self->open_stack, self->n_open > 0 ? "list" : "none");
	osc_page_load_end(&self->load);
}

/**
 * osc_sse_stats_page_reload:
 *
 * Reads `GET /sse/stats` and `GET /sse/subscriptions` again.
 */
void
osc_sse_stats_page_reload(OscSseStatsPage *self)
{
	g_return_if_fail(OSC_IS_SSE_STATS_PAGE(self));

	if (self->client == NULL) {
		osc_page_load_show_empty(&self->load);
		return;
	}
	osc_page_load_begin(&self->load, 2);
	osc_client_get_sse_stats_async(self->client, self->load.cancellable,
				       osc_sse_stats_page_stats_cb, self);
	osc_client_get_sse_subscriptions_async(self->client, self->load.cancellable,
					       osc_sse_stats_page_subscriptions_cb, self);
}

const gchar *
osc_sse_stats_page_get_counter_text(OscSseStatsPage *self, const gchar *path)
{
	GtkWidget *row = g_hash_table_lookup(self->counters, path);

	return row != NULL ? osc_pages_value_row_get(row) : NULL;
}

guint
osc_sse_stats_page_get_n_subscriptions_shown(OscSseStatsPage *self)
{
	return self->n_open;
}

/**
 * osc_sse_stats_page_new:
 * @client: (nullable): the client to show, or %NULL
 *
 * Returns: (transfer floating): a new page
 */
GtkWidget *
osc_sse_stats_page_new(OscClient *client)
{
	return g_object_new(OSC_TYPE_SSE_STATS_PAGE, "client", client, NULL);
}

OscClient *
osc_sse_stats_page_get_client(OscSseStatsPage *self)
{
	g_return_val_if_fail(OSC_IS_SSE_STATS_PAGE(self), NULL);
	return self->client;
}

void
osc_sse_stats_page_set_client(OscSseStatsPage *self, OscClient *client)
{
	g_return_if_fail(OSC_IS_SSE_STATS_PAGE(self));
	g_return_if_fail(client == NULL || OSC_IS_CLIENT(client));

	if (!g_set_object(&self->client, client))
		return;
	if (client == NULL || gtk_widget_get_mapped(GTK_WIDGET(self)))
		osc_sse_stats_page_reload(self);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CLIENT]);
}

static void
osc_sse_stats_page_reload_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	osc_sse_stats_page_reload(OSC_SSE_STATS_PAGE(widget));
}

static void
osc_sse_stats_page_map(GtkWidget *widget)
{
	OscSseStatsPage *self = OSC_SSE_STATS_PAGE(widget);

	GTK_WIDGET_CLASS(osc_sse_stats_page_parent_class)->map(widget);
	osc_sse_stats_page_reload(self);
}

static void
osc_sse_stats_page_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscSseStatsPage *self = OSC_SSE_STATS_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		g_value_set_object(value, self->client);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_sse_stats_page_set_property(GObject *object, guint prop_id, const GValue *value,
				GParamSpec *pspec)
{
	OscSseStatsPage *self = OSC_SSE_STATS_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		osc_sse_stats_page_set_client(self, g_value_get_object(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_sse_stats_page_dispose(GObject *object)
{
	OscSseStatsPage *self = OSC_SSE_STATS_PAGE(object);

	osc_page_load_clear(&self->load);
	g_clear_pointer(&self->counters, g_hash_table_unref);
	g_clear_object(&self->client);
	/* AdwBin keeps a pointer to its child: take the stack out through it before the
	 * template children go */
	adw_bin_set_child(ADW_BIN(self), NULL);
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_SSE_STATS_PAGE);
	G_OBJECT_CLASS(osc_sse_stats_page_parent_class)->dispose(object);
}

static void
osc_sse_stats_page_class_init(OscSseStatsPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = osc_sse_stats_page_get_property;
	object_class->set_property = osc_sse_stats_page_set_property;
	object_class->dispose = osc_sse_stats_page_dispose;
	widget_class->map = osc_sse_stats_page_map;

	properties[PROP_CLIENT] = g_param_spec_object("client", NULL, NULL, OSC_TYPE_CLIENT,
						      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
							      G_PARAM_EXPLICIT_NOTIFY);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	gtk_widget_class_set_template_from_resource(widget_class,
						    OSC_PAGES_RESOURCE "osc-sse-stats-page.ui");
	gtk_widget_class_bind_template_child(widget_class, OscSseStatsPage, stack);
	gtk_widget_class_bind_template_child(widget_class, OscSseStatsPage, error_page);
	gtk_widget_class_bind_template_child(widget_class, OscSseStatsPage, subscriptions_box);
	gtk_widget_class_bind_template_child(widget_class, OscSseStatsPage, events_box);
	gtk_widget_class_bind_template_child(widget_class, OscSseStatsPage, connections_box);
	gtk_widget_class_bind_template_child(widget_class, OscSseStatsPage, open_box);
	gtk_widget_class_bind_template_child(widget_class, OscSseStatsPage, open_stack);

	gtk_widget_class_install_action(widget_class, "page.reload", NULL,
					osc_sse_stats_page_reload_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F5, 0, "page.reload", NULL);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
					    "page.reload", NULL);
}

static void
osc_sse_stats_page_init(OscSseStatsPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->load.stack = self->stack;
	self->load.error_page = self->error_page;
	g_object_set_data(G_OBJECT(self), "osc-page-load", &self->load);
	osc_page_load_show_empty(&self->load);
	self->counters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}
