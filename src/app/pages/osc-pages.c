/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-pages.h"

#include <glib/gi18n.h>

#include "osc-chart.h"
#include "osc-pages-private.h"

void
osc_pages_ensure_types(void)
{
	g_type_ensure(OSC_TYPE_CHART);
	g_type_ensure(OSC_TYPE_DASHBOARD_PAGE);
	g_type_ensure(OSC_TYPE_CHARTS_PAGE);
	g_type_ensure(OSC_TYPE_CLUSTER_PAGE);
	g_type_ensure(OSC_TYPE_SSE_STATS_PAGE);
	g_type_ensure(OSC_TYPE_METRICS_PAGE);
	g_type_ensure(OSC_TYPE_BACKUP_PAGE);
	g_type_ensure(OSC_TYPE_HISTORY_DIALOG);
	g_type_ensure(OSC_TYPE_REKEY_DIALOG);
}

const gchar *
osc_pages_get_state(GtkWidget *page)
{
	OscPageLoad *load;

	g_return_val_if_fail(GTK_IS_WIDGET(page), NULL);
	load = g_object_get_data(G_OBJECT(page), "osc-page-load");
	g_return_val_if_fail(load != NULL, NULL);
	return gtk_stack_get_visible_child_name(load->stack);
}

void
osc_page_load_begin(OscPageLoad *load, guint n_calls)
{
	const gchar *state = gtk_stack_get_visible_child_name(load->stack);

	g_cancellable_cancel(load->cancellable);
	g_clear_object(&load->cancellable);
	load->cancellable = g_cancellable_new();
	load->pending = n_calls;
	load->failed = FALSE;
	/* a refresh keeps what is shown until the new data is in: no flicker on auto refresh */
	if (g_strcmp0(state, "content") != 0)
		gtk_stack_set_visible_child_name(load->stack, "loading");
}

gboolean
osc_page_load_end(OscPageLoad *load)
{
	g_assert(load->pending > 0);
	load->pending--;
	if (load->pending > 0)
		return FALSE;
	if (!load->failed)
		gtk_stack_set_visible_child_name(load->stack, "content");
	return TRUE;
}

void
osc_page_load_fail(OscPageLoad *load, const GError *error)
{
	g_autofree gchar *text = osc_pages_error_text(error);

	load->failed = TRUE;
	adw_status_page_set_description(load->error_page, text);
	gtk_stack_set_visible_child_name(load->stack, "error");
}

void
osc_page_load_show_empty(OscPageLoad *load)
{
	g_cancellable_cancel(load->cancellable);
	g_clear_object(&load->cancellable);
	load->pending = 0;
	gtk_stack_set_visible_child_name(load->stack, "empty");
}

void
osc_page_load_clear(OscPageLoad *load)
{
	g_cancellable_cancel(load->cancellable);
	g_clear_object(&load->cancellable);
}

gboolean
osc_pages_is_cancelled(const GError *error)
{
	return error != NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

gint64
osc_pages_json_int(JsonObject *obj, const gchar *name)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, name) : NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return 0;
	switch (json_node_get_value_type(node)) {
	case G_TYPE_INT64:
		return json_node_get_int(node);
	case G_TYPE_DOUBLE:
		return (gint64)json_node_get_double(node);
	default:
		return 0;
	}
}

gdouble
osc_pages_json_double(JsonObject *obj, const gchar *name)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, name) : NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return 0;
	switch (json_node_get_value_type(node)) {
	case G_TYPE_INT64:
		return (gdouble)json_node_get_int(node);
	case G_TYPE_DOUBLE:
		return json_node_get_double(node);
	default:
		return 0;
	}
}

const gchar *
osc_pages_json_string(JsonObject *obj, const gchar *name)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, name) : NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

JsonObject *
osc_pages_json_object(JsonObject *obj, const gchar *name)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, name) : NULL;

	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

void
osc_pages_list_box_clear(GtkListBox *box)
{
	GtkWidget *child;

	while ((child = gtk_widget_get_first_child(GTK_WIDGET(box))) != NULL)
		gtk_list_box_remove(box, child);
}

/* an AdwActionRow with the value as a selectable suffix label */
GtkWidget *
osc_pages_value_row(const gchar *title, const gchar *subtitle, const gchar *value)
{
	GtkWidget *row = adw_action_row_new();
	GtkWidget *label = gtk_label_new(value);

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	if (subtitle != NULL)
		adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
	gtk_label_set_selectable(GTK_LABEL(label), TRUE);
	gtk_label_set_wrap(GTK_LABEL(label), TRUE);
	gtk_label_set_xalign(GTK_LABEL(label), 1.0);
	gtk_widget_add_css_class(label, "numeric");
	gtk_accessible_update_property(GTK_ACCESSIBLE(label), GTK_ACCESSIBLE_PROPERTY_LABEL, title,
				       -1);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), label);
	g_object_set_data(G_OBJECT(row), "osc-value-label", label);
	return row;
}

void
osc_pages_value_row_set(GtkWidget *row, const gchar *value)
{
	GtkLabel *label = g_object_get_data(G_OBJECT(row), "osc-value-label");

	gtk_label_set_text(label, value);
}

const gchar *
osc_pages_value_row_get(GtkWidget *row)
{
	GtkLabel *label = g_object_get_data(G_OBJECT(row), "osc-value-label");

	return gtk_label_get_text(label);
}

gchar *
osc_pages_error_text(const GError *error)
{
	if (error->domain == OSC_CLIENT_ERROR) {
		switch (error->code) {
		case OSC_CLIENT_ERROR_AUTHENTICATION:
			return g_strdup_printf(_("The server refused the keys: %s"),
					       error->message);
		case OSC_CLIENT_ERROR_CONNECTION:
		case OSC_CLIENT_ERROR_TIMEOUT:
			return g_strdup_printf(_("The server could not be reached: %s"),
					       error->message);
		default:
			break;
		}
	}
	return g_strdup(error->message);
}
