/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-history-dialog.h"

#include <glib/gi18n.h>

#include "osc-line-diff.h"
#include "osc-pages-private.h"

/*
 * The versions of one entry (GET /configs/{key}/versions), newest first; choosing one shows
 * a line diff of its value (GET /configs/{key}?version=N) against the current value, and
 * "Roll Back" asks, then restores it (POST /configs/{key}/rollback), which keeps the
 * replaced value as a new version.
 */

struct _OscHistoryDialog {
	AdwWindow parent_instance;

	OscClient *client;
	gchar *key;
	gchar *environment;
	OscPageLoad load;

	AdwToastOverlay *toasts;
	AdwWindowTitle *window_title;
	GtkStack *stack;
	AdwStatusPage *error_page;
	GtkListBox *versions_box;
	GtkLabel *diff_title;
	GtkTextView *diff_view;

	GArray *versions;   /* gint64, newest first */
	gint64 current;	    /* the live version, 0 when the entry is deleted */
	gint64 selected;    /* 0: none */
	GHashTable *values; /* version (gint64 *) → pretty JSON text */
	GCancellable *diff_cancellable;
	GCancellable *rollback_cancellable;
	gchar *last_message;
};

G_DEFINE_FINAL_TYPE(OscHistoryDialog, osc_history_dialog, ADW_TYPE_WINDOW)

static void osc_history_dialog_show_diff(OscHistoryDialog *self);

static void
osc_history_dialog_toast(OscHistoryDialog *self, const gchar *message)
{
	g_free(self->last_message);
	self->last_message = g_strdup(message);
	adw_toast_overlay_add_toast(self->toasts, adw_toast_new(message));
}

static void
osc_history_dialog_update_actions(OscHistoryDialog *self)
{
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "history.rollback",
				      self->client != NULL && self->selected > 0 &&
					      self->selected != self->current &&
					      self->rollback_cancellable == NULL);
}

/* ---- the diff ---- */

static void
osc_history_dialog_render_diff(OscHistoryDialog *self, const gchar *old_text, const gchar *new_text)
{
	GtkTextBuffer *buffer = gtk_text_view_get_buffer(self->diff_view);
	g_autoptr(GPtrArray) diff = osc_line_diff(old_text, new_text);
	static const gchar *const marks[] = {"  ", "- ", "+ "};
	static const gchar *const tags[] = {NULL, "removed", "added"};
	GtkTextIter end;

	gtk_text_buffer_set_text(buffer, "", 0);
	for (guint i = 0; i < diff->len; i++) {
		OscLineDiffLine *line = g_ptr_array_index(diff, i);
		g_autofree gchar *text = g_strconcat(marks[line->op], line->text, "\n", NULL);

		gtk_text_buffer_get_end_iter(buffer, &end);
		if (tags[line->op] != NULL)
			gtk_text_buffer_insert_with_tags_by_name(buffer, &end, text, -1,
								 tags[line->op], NULL);
		else
			gtk_text_buffer_insert(buffer, &end, text, -1);
	}
}

static void
osc_history_dialog_show_diff(OscHistoryDialog *self)
{
	const gchar *old_text, *new_text;
	g_autofree gchar *title = NULL;

	if (self->selected == 0)
		return;
	old_text = g_hash_table_lookup(self->values, &self->selected);
	new_text = self->current > 0 ? g_hash_table_lookup(self->values, &self->current) : "";
	if (old_text == NULL || new_text == NULL)
		return; /* still loading */
	if (self->current == 0)
		/* TRANSLATORS: the diff's title when the entry was deleted */
		title = g_strdup_printf(_("Version %lld → deleted entry"),
					(long long)self->selected);
	else if (self->selected == self->current)
		title = g_strdup_printf(_("Version %lld is the current value"),
					(long long)self->selected);
	else
		/* TRANSLATORS: the diff's title, e.g. "Version 2 → current (version 4)" */
		title = g_strdup_printf(
			_("Version %lld → current (version %lld)"), (long long)self->selected,
			(long long)self->current);
	gtk_label_set_text(self->diff_title, title);
	osc_history_dialog_render_diff(self, old_text, new_text);
}

typedef struct {
	OscHistoryDialog *self;
	gint64 version;
} OscVersionRead;

static void
osc_history_dialog_version_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OscVersionRead *read = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_read_version_finish(OSC_CLIENT(source), result, &error);
	OscHistoryDialog *self = read->self;
	gint64 version = read->version;
	JsonNode *value;

	g_free(read);
	if (osc_pages_is_cancelled(error))
		return;
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node) ||
	    (value = json_object_get_member(json_node_get_object(node), "value")) == NULL) {
		g_autofree gchar *text = NULL;

		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The version has no value"));
		text = g_strdup_printf(_("Could not read version %lld: %s"), (long long)version,
				       error->message);
		osc_history_dialog_toast(self, text);
		return;
	}
	g_hash_table_insert(self->values, g_memdup2(&version, sizeof version),
			    json_to_string(value, TRUE));
	osc_history_dialog_show_diff(self);
}

static void
osc_history_dialog_fetch(OscHistoryDialog *self, gint64 version)
{
	OscVersionRead *read;

	if (version == 0 || g_hash_table_contains(self->values, &version))
		return;
	read = g_new0(OscVersionRead, 1);
	read->self = self;
	read->version = version;
	osc_client_read_version_async(self->client, self->key, self->environment, version,
				      self->diff_cancellable, osc_history_dialog_version_cb, read);
}

void
osc_history_dialog_select_version(OscHistoryDialog *self, gint64 version)
{
	g_return_if_fail(OSC_IS_HISTORY_DIALOG(self));

	for (GtkWidget *row = gtk_widget_get_first_child(GTK_WIDGET(self->versions_box));
	     row != NULL; row = gtk_widget_get_next_sibling(row)) {
		gint64 *v = g_object_get_data(G_OBJECT(row), "osc-version");

		if (v != NULL && *v == version) {
			/* row-selected does the rest */
			gtk_list_box_select_row(self->versions_box, GTK_LIST_BOX_ROW(row));
			return;
		}
	}
}

static void
osc_history_dialog_row_selected_cb(GtkListBox *box, GtkListBoxRow *row, gpointer user_data)
{
	OscHistoryDialog *self = OSC_HISTORY_DIALOG(user_data);
	gint64 *v = row != NULL ? g_object_get_data(G_OBJECT(row), "osc-version") : NULL;

	/* the rows going away in dispose change the selection too */
	if (self->client == NULL)
		return;
	self->selected = v != NULL ? *v : 0;
	osc_history_dialog_update_actions(self);
	gtk_text_buffer_set_text(gtk_text_view_get_buffer(self->diff_view), "", 0);
	gtk_label_set_text(self->diff_title, "");
	if (self->selected == 0)
		return;
	osc_history_dialog_fetch(self, self->selected);
	osc_history_dialog_fetch(self, self->current);
	osc_history_dialog_show_diff(self);
}

/* ---- the version list ---- */

static GtkWidget *
osc_history_dialog_version_row(JsonObject *v)
{
	gint64 number = osc_pages_json_int(v, "version");
	g_autofree gchar *title = g_strdup_printf(_("Version %lld"), (long long)number);
	const gchar *created = osc_pages_json_string(v, "created_at");
	g_autoptr(GString) subtitle = g_string_new(created != NULL ? created : "");
	GtkWidget *row = adw_action_row_new();

	if (json_object_get_boolean_member_with_default(v, "current", FALSE))
		g_string_append_printf(subtitle, " · %s", _("current"));
	if (json_object_get_boolean_member_with_default(v, "deleted", FALSE))
		g_string_append_printf(subtitle, " · %s", _("deleted"));
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle->str);
	g_object_set_data_full(G_OBJECT(row), "osc-version", g_memdup2(&number, sizeof number),
			       g_free);
	return row;
}

static void
osc_history_dialog_versions_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_list_versions_finish(OSC_CLIENT(source), result, &error);
	OscHistoryDialog *self;
	JsonNode *member;
	JsonArray *array;
	gint64 keep;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_HISTORY_DIALOG(user_data);
	member = node != NULL && JSON_NODE_HOLDS_OBJECT(node)
			 ? json_object_get_member(json_node_get_object(node), "versions")
			 : NULL;
	if (member == NULL || !JSON_NODE_HOLDS_ARRAY(member)) {
		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The version list has no versions"));
		osc_page_load_fail(&self->load, error);
		osc_page_load_end(&self->load);
		return;
	}
	array = json_node_get_array(member);
	keep = self->selected;
	g_array_set_size(self->versions, 0);
	/* values of versions do not change, but "current" does */
	self->current = 0;
	self->selected = 0;
	osc_pages_list_box_clear(self->versions_box);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *v = json_array_get_object_element(array, i);
		gint64 number;

		if (v == NULL)
			continue;
		number = osc_pages_json_int(v, "version");
		g_array_append_val(self->versions, number);
		if (json_object_get_boolean_member_with_default(v, "current", FALSE))
			self->current = number;
		gtk_list_box_append(self->versions_box, osc_history_dialog_version_row(v));
	}
	if (self->current > 0)
		g_hash_table_remove(self->values, &self->current);
	osc_page_load_end(&self->load);
	/* the version shown before, else the newest old one, else the only one */
	if (keep == 0 || keep == self->current) {
		keep = 0;
		for (guint i = 0; i < self->versions->len && keep == 0; i++)
			if (g_array_index(self->versions, gint64, i) != self->current)
				keep = g_array_index(self->versions, gint64, i);
		if (keep == 0 && self->versions->len > 0)
			keep = g_array_index(self->versions, gint64, 0);
	}
	osc_history_dialog_select_version(self, keep);
}

void
osc_history_dialog_reload(OscHistoryDialog *self)
{
	g_return_if_fail(OSC_IS_HISTORY_DIALOG(self));

	if (self->client == NULL) {
		osc_page_load_show_empty(&self->load);
		return;
	}
	osc_page_load_begin(&self->load, 1);
	osc_client_list_versions_async(self->client, self->key, self->environment,
				       self->load.cancellable, osc_history_dialog_versions_cb,
				       self);
}

/* ---- rollback ---- */

static void
osc_history_dialog_rollback_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfigEntry) entry =
		osc_client_rollback_finish(OSC_CLIENT(source), result, &error);
	OscHistoryDialog *self;
	g_autofree gchar *text = NULL;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_HISTORY_DIALOG(user_data);
	g_clear_object(&self->rollback_cancellable);
	if (entry == NULL) {
		g_autofree gchar *why = osc_pages_error_text(error);
		text = g_strdup_printf(_("Could not roll back: %s"), why);
	} else {
		text = g_strdup_printf(_("Rolled back to version %lld"), (long long)self->selected);
	}
	osc_history_dialog_toast(self, text);
	osc_history_dialog_update_actions(self);
	osc_history_dialog_reload(self);
}

void
osc_history_dialog_rollback_selected(OscHistoryDialog *self)
{
	g_return_if_fail(OSC_IS_HISTORY_DIALOG(self));

	if (self->client == NULL || self->selected == 0 || self->rollback_cancellable != NULL)
		return;
	self->rollback_cancellable = g_cancellable_new();
	osc_history_dialog_update_actions(self);
	osc_client_rollback_async(self->client, self->key, self->environment, self->selected, NULL,
				  self->rollback_cancellable, osc_history_dialog_rollback_cb, self);
}

static void
osc_history_dialog_confirm_cb(AdwMessageDialog *dialog, const gchar *response, gpointer user_data)
{
	if (g_str_equal(response, "rollback"))
		osc_history_dialog_rollback_selected(OSC_HISTORY_DIALOG(user_data));
}

static void
osc_history_dialog_rollback_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	OscHistoryDialog *self = OSC_HISTORY_DIALOG(widget);
	g_autofree gchar *heading =
		g_strdup_printf(_("Roll Back to Version %lld?"), (long long)self->selected);
	GtkWidget *dialog = adw_message_dialog_new(
		GTK_WINDOW(self), heading,
		_("The entry gets this version’s value. The current value is kept as a new "
		  "version, so this can be undone."));

	adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel", _("_Cancel"),
					 "rollback", _("_Roll Back"), NULL);
	adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog), "rollback",
						   ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
	adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
	g_signal_connect_object(dialog, "response", G_CALLBACK(osc_history_dialog_confirm_cb), self,
				0);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void
osc_history_dialog_reload_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	osc_history_dialog_reload(OSC_HISTORY_DIALOG(widget));
}

/* ---- for the tests ---- */

guint
osc_history_dialog_get_n_versions(OscHistoryDialog *self)
{
	return self->versions->len;
}

gint64
osc_history_dialog_get_selected_version(OscHistoryDialog *self)
{
	return self->selected;
}

gchar *
osc_history_dialog_dup_diff_text(OscHistoryDialog *self)
{
	GtkTextBuffer *buffer = gtk_text_view_get_buffer(self->diff_view);
	GtkTextIter start, end;

	gtk_text_buffer_get_bounds(buffer, &start, &end);
	return gtk_text_buffer_get_text(buffer, &start, &end, FALSE);
}

gboolean
osc_history_dialog_get_busy(OscHistoryDialog *self)
{
	return self->load.pending > 0 || self->rollback_cancellable != NULL;
}

const gchar *
osc_history_dialog_get_last_message(OscHistoryDialog *self)
{
	return self->last_message;
}

/* ---- object ---- */

/**
 * osc_history_dialog_new:
 * @parent: (nullable): the window it belongs to
 * @client: the connection
 * @key: the entry's key
 * @environment: the entry's environment
 *
 * Returns: (transfer floating): the dialog, loading the versions; present it
 */
GtkWidget *
osc_history_dialog_new(GtkWindow *parent, OscClient *client, const char *key,
		       const char *environment)
{
	OscHistoryDialog *self;
	g_autofree gchar *subtitle = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(client), NULL);
	g_return_val_if_fail(key != NULL && environment != NULL, NULL);

	self = g_object_new(OSC_TYPE_HISTORY_DIALOG, "transient-for", parent, NULL);
	self->client = g_object_ref(client);
	self->key = g_strdup(key);
	self->environment = g_strdup(environment);
	/* TRANSLATORS: the entry whose history this is, e.g. "database in production" */
	subtitle = g_strdup_printf(_("%s in %s"), key, environment);
	adw_window_title_set_subtitle(self->window_title, subtitle);
	osc_history_dialog_reload(self);
	return GTK_WIDGET(self);
}

static void
osc_history_dialog_dispose(GObject *object)
{
	OscHistoryDialog *self = OSC_HISTORY_DIALOG(object);

	osc_page_load_clear(&self->load);
	g_cancellable_cancel(self->diff_cancellable);
	g_clear_object(&self->diff_cancellable);
	g_cancellable_cancel(self->rollback_cancellable);
	g_clear_object(&self->rollback_cancellable);
	g_clear_object(&self->client);
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_HISTORY_DIALOG);
	G_OBJECT_CLASS(osc_history_dialog_parent_class)->dispose(object);
}

static void
osc_history_dialog_finalize(GObject *object)
{
	OscHistoryDialog *self = OSC_HISTORY_DIALOG(object);

	g_free(self->key);
	g_free(self->environment);
	g_free(self->last_message);
	g_array_unref(self->versions);
	g_hash_table_unref(self->values);
	G_OBJECT_CLASS(osc_history_dialog_parent_class)->finalize(object);
}

static void
osc_history_dialog_class_init(OscHistoryDialogClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = osc_history_dialog_dispose;
	object_class->finalize = osc_history_dialog_finalize;

	gtk_widget_class_set_template_from_resource(widget_class,
						    OSC_PAGES_RESOURCE "osc-history-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, OscHistoryDialog, toasts);
	gtk_widget_class_bind_template_child(widget_class, OscHistoryDialog, window_title);
	gtk_widget_class_bind_template_child(widget_class, OscHistoryDialog, stack);
	gtk_widget_class_bind_template_child(widget_class, OscHistoryDialog, error_page);
	gtk_widget_class_bind_template_child(widget_class, OscHistoryDialog, versions_box);
	gtk_widget_class_bind_template_child(widget_class, OscHistoryDialog, diff_title);
	gtk_widget_class_bind_template_child(widget_class, OscHistoryDialog, diff_view);
	gtk_widget_class_bind_template_callback(widget_class, osc_history_dialog_row_selected_cb);

	gtk_widget_class_install_action(widget_class, "history.rollback", NULL,
					osc_history_dialog_rollback_action);
	gtk_widget_class_install_action(widget_class, "page.reload", NULL,
					osc_history_dialog_reload_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F5, 0, "page.reload", NULL);
}

static void
osc_history_dialog_init(OscHistoryDialog *self)
{
	GtkTextBuffer *buffer;

	gtk_widget_init_template(GTK_WIDGET(self));
	self->versions = g_array_new(FALSE, FALSE, sizeof(gint64));
	self->values = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	self->diff_cancellable = g_cancellable_new();
	self->load.stack = self->stack;
	self->load.error_page = self->error_page;
	g_object_set_data(G_OBJECT(self), "osc-page-load", &self->load);
	osc_page_load_show_empty(&self->load);
	/* translucent red and green read on light and dark backgrounds alike */
	buffer = gtk_text_view_get_buffer(self->diff_view);
	gtk_text_buffer_create_tag(buffer, "removed", "paragraph-background-rgba",
				   &(GdkRGBA){0.88, 0.11, 0.14, 0.22}, NULL);
	gtk_text_buffer_create_tag(buffer, "added", "paragraph-background-rgba",
				   &(GdkRGBA){0.18, 0.76, 0.49, 0.25}, NULL);
	osc_history_dialog_update_actions(self);
}
