/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "osc-editor-dialog-private.h"
#include "osc-keyring.h"

/*
 * Creates or edits one entry. Edits are conditional (If-Match with the ETag read when the
 * dialog opened): when someone else saved the entry meanwhile, their value is shown next
 * to ours and the user chooses.
 */

G_DEFINE_FINAL_TYPE(OscEditorDialog, osc_editor_dialog, ADW_TYPE_WINDOW)

static gchar *
osc_editor_dialog_get_buffer_text(GtkSourceBuffer *buffer)
{
	GtkTextIter start, end;

	gtk_text_buffer_get_bounds(GTK_TEXT_BUFFER(buffer), &start, &end);
	return gtk_text_buffer_get_text(GTK_TEXT_BUFFER(buffer), &start, &end, FALSE);
}

static gchar *
osc_editor_dialog_pretty(const gchar *json)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(JsonGenerator) gen = NULL;

	if (json == NULL || !json_parser_load_from_data(parser, json, -1, NULL))
		return g_strdup(json != NULL ? json : "");
	gen = json_generator_new();
	json_generator_set_pretty(gen, TRUE);
	json_generator_set_indent(gen, 2);
	json_generator_set_root(gen, json_parser_get_root(parser));
	return json_generator_to_data(gen, NULL);
}

static const gchar *
osc_editor_dialog_type_name(JsonNode *node)
{
	switch (JSON_NODE_TYPE(node)) {
	case JSON_NODE_OBJECT:
		return _("object");
	case JSON_NODE_ARRAY:
		return _("array");
	case JSON_NODE_NULL:
		return _("null");
	case JSON_NODE_VALUE:
	default:
		break;
	}
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		return _("string");
	case G_TYPE_BOOLEAN:
		return _("boolean");
	case G_TYPE_INT64:
		return _("integer");
	default:
		return _("number");
	}
}

/* parses the value; shows the error inline or the type of a valid value */
static JsonNode *
osc_editor_dialog_parse(OscEditorDialog *self, GError **error)
{
	g_autofree gchar *text = osc_editor_dialog_get_buffer_text(self->value_buffer);
	g_autoptr(JsonParser) parser = json_parser_new();

	if (!json_parser_load_from_data(parser, text, -1, error))
		return NULL;
	if (json_parser_get_root(parser) == NULL) {
		g_set_error_literal(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
				    _("The value is empty"));
		return NULL;
	}
	return json_node_copy(json_parser_get_root(parser));
}

static void
osc_editor_dialog_update_state(OscEditorDialog *self)
{
	const gchar *key = gtk_editable_get_text(GTK_EDITABLE(self->key_row));
	const gchar *env = gtk_editable_get_text(GTK_EDITABLE(self->environment_row));

	gtk_widget_action_set_enabled(GTK_WIDGET(self), "editor.save",
				      !self->busy && self->valid && key[0] != '\0' &&
					  env[0] != '\0');
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "editor.pretty-print", self->valid);
}

static void
osc_editor_dialog_value_changed_cb(GtkTextBuffer *buffer, gpointer user_data)
{
	OscEditorDialog *self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = osc_editor_dialog_parse(self, &error);

	self->valid = node != NULL;
	if (node == NULL) {
		g_autofree gchar *msg = g_strdup_printf(_("Not valid JSON: %s"), error->message);

		gtk_label_set_text(self->error_label, msg);
		gtk_widget_set_visible(GTK_WIDGET(self->error_label), TRUE);
		gtk_label_set_text(self->type_label, "");
	} else {
		g_autofree gchar *type =
		    g_strdup_printf(_("Type: %s"), osc_editor_dialog_type_name(node));

		gtk_widget_set_visible(GTK_WIDGET(self->error_label), FALSE);
		gtk_label_set_text(self->type_label, type);
	}
	osc_editor_dialog_update_state(self);
}

static void
osc_editor_dialog_fields_changed_cb(GtkEditable *editable, gpointer user_data)
{
	osc_editor_dialog_update_state(OSC_EDITOR_DIALOG(user_data));
}

static void
osc_editor_dialog_set_text(OscEditorDialog *self, GtkSourceBuffer *buffer, const gchar *json)
{
	g_autofree gchar *pretty = osc_editor_dialog_pretty(json);

	gtk_text_buffer_set_text(GTK_TEXT_BUFFER(buffer), pretty, -1);
}

static void
osc_editor_dialog_set_busy(OscEditorDialog *self, gboolean busy)
{
	self->busy = busy;
	osc_editor_dialog_update_state(self);
}

static void
osc_editor_dialog_show_error(OscEditorDialog *self, const gchar *message)
{
	gtk_label_set_text(self->error_label, message);
	gtk_widget_set_visible(GTK_WIDGET(self->error_label), TRUE);
}

static void
osc_editor_dialog_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscEditorDialog) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfigEntry) entry = osc_client_read_finish(OSC_CLIENT(source), result, &error);

	if (entry == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			osc_editor_dialog_show_error(self, error->message);
		return;
	}
	g_free(self->etag);
	self->etag = g_strdup(osc_config_entry_get_etag(entry));
	osc_entry_store_upsert(self->store, entry);
}

static void
osc_editor_dialog_saved(OscEditorDialog *self, OscConfigEntry *entry)
{
	osc_entry_store_upsert(self->store, entry);
	gtk_window_destroy(GTK_WINDOW(self));
}

static void
osc_editor_dialog_create_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscEditorDialog) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfigEntry) entry =
	    osc_client_create_finish(OSC_CLIENT(source), result, &error);

	osc_editor_dialog_set_busy(self, FALSE);
	if (entry == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			osc_editor_dialog_show_error(self, error->message);
		return;
	}
	osc_editor_dialog_saved(self, entry);
}

static void
osc_editor_dialog_theirs_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscEditorDialog) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfigEntry) entry = osc_client_read_finish(OSC_CLIENT(source), result, &error);
	g_autofree gchar *value = NULL;

	osc_editor_dialog_set_busy(self, FALSE);
	if (entry == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			osc_editor_dialog_show_error(self, error->message);
		return;
	}
	value = osc_config_entry_get_value_string(entry);
	g_free(self->theirs_etag);
	self->theirs_etag = g_strdup(osc_config_entry_get_etag(entry));
	osc_editor_dialog_set_text(self, self->theirs_buffer, value);
	osc_entry_store_upsert(self->store, entry);
	gtk_revealer_set_reveal_child(self->conflict_revealer, TRUE);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "editor.overwrite", TRUE);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "editor.take-theirs", TRUE);
}

static void
osc_editor_dialog_update_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscEditorDialog) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfigEntry) entry =
	    osc_client_update_finish(OSC_CLIENT(source), result, &error);

	if (entry != NULL) {
		osc_editor_dialog_set_busy(self, FALSE);
		osc_editor_dialog_saved(self, entry);
		return;
	}
	if (g_error_matches(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_PRECONDITION_FAILED)) {
		/* someone else saved first: fetch theirs and let the user choose */
		osc_client_read_async(self->client, self->key, self->environment, TRUE,
				      self->cancellable, osc_editor_dialog_theirs_cb,
				      g_object_ref(self));
		return;
	}
	osc_editor_dialog_set_busy(self, FALSE);
	if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		osc_editor_dialog_show_error(self, error->message);
}

static void
osc_editor_dialog_save(OscEditorDialog *self, const gchar *if_match)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) value = osc_editor_dialog_parse(self, &error);
	const gchar *category = gtk_editable_get_text(GTK_EDITABLE(self->category_row));

	if (value == NULL) {
		osc_editor_dialog_show_error(self, error->message);
		return;
	}
	if (category[0] == '\0')
		category = NULL;
	g_clear_pointer(&self->saved_value, osc_keyring_free_secret);
	self->saved_value = json_to_string(value, FALSE);
	osc_editor_dialog_set_busy(self, TRUE);
	if (self->key == NULL) {
		osc_client_create_async(self->client,
					gtk_editable_get_text(GTK_EDITABLE(self->key_row)),
					gtk_editable_get_text(GTK_EDITABLE(self->environment_row)),
					value, category, self->cancellable,
					osc_editor_dialog_create_cb, g_object_ref(self));
		return;
	}
	osc_client_update_async(self->client, self->key, self->environment, value, category,
				if_match, self->cancellable, osc_editor_dialog_update_cb,
				g_object_ref(self));
}

static void
osc_editor_dialog_save_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscEditorDialog *self = OSC_EDITOR_DIALOG(widget);

	osc_editor_dialog_save(self, self->etag);
}

static void
osc_editor_dialog_pretty_print_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscEditorDialog *self = OSC_EDITOR_DIALOG(widget);
	g_autofree gchar *text = osc_editor_dialog_get_buffer_text(self->value_buffer);

	osc_editor_dialog_set_text(self, self->value_buffer, text);
}

static void
osc_editor_dialog_hide_conflict(OscEditorDialog *self)
{
	gtk_revealer_set_reveal_child(self->conflict_revealer, FALSE);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "editor.overwrite", FALSE);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "editor.take-theirs", FALSE);
}

static void
osc_editor_dialog_overwrite_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscEditorDialog *self = OSC_EDITOR_DIALOG(widget);

	/* ours, conditional on theirs still being current */
	g_free(self->etag);
	self->etag = g_strdup(self->theirs_etag);
	osc_editor_dialog_hide_conflict(self);
	osc_editor_dialog_save(self, self->etag);
}

static void
osc_editor_dialog_take_theirs_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscEditorDialog *self = OSC_EDITOR_DIALOG(widget);
	g_autofree gchar *theirs = osc_editor_dialog_get_buffer_text(self->theirs_buffer);

	g_free(self->etag);
	self->etag = g_strdup(self->theirs_etag);
	gtk_text_buffer_set_text(GTK_TEXT_BUFFER(self->value_buffer), theirs, -1);
	osc_editor_dialog_hide_conflict(self);
	gtk_revealer_set_reveal_child(self->changed_revealer, FALSE);
}

static void
osc_editor_dialog_dispose(GObject *object)
{
	OscEditorDialog *self = OSC_EDITOR_DIALOG(object);

	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_EDITOR_DIALOG);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->client);
	g_clear_object(&self->store);
	g_clear_pointer(&self->key, g_free);
	g_clear_pointer(&self->environment, g_free);
	g_clear_pointer(&self->etag, g_free);
	g_clear_pointer(&self->theirs_etag, g_free);
	g_clear_pointer(&self->saved_value, osc_keyring_free_secret);
	G_OBJECT_CLASS(osc_editor_dialog_parent_class)->dispose(object);
}

static void
osc_editor_dialog_class_init(OscEditorDialogClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	G_OBJECT_CLASS(klass)->dispose = osc_editor_dialog_dispose;

	g_type_ensure(GTK_SOURCE_TYPE_VIEW);
	gtk_widget_class_set_template_from_resource(
	    widget_class, "/org/opensecureconf/Admin/ui/osc-editor-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, key_row);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, environment_row);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, category_row);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, value_view);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, error_label);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, type_label);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, changed_revealer);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, changed_label);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, conflict_revealer);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, theirs_view);
	gtk_widget_class_bind_template_child(widget_class, OscEditorDialog, save_button);

	gtk_widget_class_install_action(widget_class, "editor.save", NULL,
					osc_editor_dialog_save_action);
	gtk_widget_class_install_action(widget_class, "editor.pretty-print", NULL,
					osc_editor_dialog_pretty_print_action);
	gtk_widget_class_install_action(widget_class, "editor.overwrite", NULL,
					osc_editor_dialog_overwrite_action);
	gtk_widget_class_install_action(widget_class, "editor.take-theirs", NULL,
					osc_editor_dialog_take_theirs_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
					    "editor.save", NULL);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close",
					    NULL);
}

static void
osc_editor_dialog_init(OscEditorDialog *self)
{
	GtkSourceLanguageManager *lm = gtk_source_language_manager_get_default();
	GtkSourceStyleSchemeManager *sm = gtk_source_style_scheme_manager_get_default();
	gboolean dark = adw_style_manager_get_dark(adw_style_manager_get_default());
	GtkSourceStyleScheme *scheme =
	    gtk_source_style_scheme_manager_get_scheme(sm, dark ? "Adwaita-dark" : "Adwaita");
	GtkSourceLanguage *json = gtk_source_language_manager_get_language(lm, "json");

	gtk_widget_init_template(GTK_WIDGET(self));
	self->cancellable = g_cancellable_new();
	self->value_buffer = GTK_SOURCE_BUFFER(gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->value_view)));
	self->theirs_buffer = GTK_SOURCE_BUFFER(gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->theirs_view)));
	for (guint i = 0; i < 2; i++) {
		GtkSourceBuffer *buffer = i == 0 ? self->value_buffer : self->theirs_buffer;

		if (json != NULL)
			gtk_source_buffer_set_language(buffer, json);
		if (scheme != NULL)
			gtk_source_buffer_set_style_scheme(buffer, scheme);
	}
	g_signal_connect(self->value_buffer, "changed",
			 G_CALLBACK(osc_editor_dialog_value_changed_cb), self);
	g_signal_connect(self->key_row, "changed", G_CALLBACK(osc_editor_dialog_fields_changed_cb),
			 self);
	g_signal_connect(self->environment_row, "changed",
			 G_CALLBACK(osc_editor_dialog_fields_changed_cb), self);
	osc_editor_dialog_hide_conflict(self);
	osc_editor_dialog_value_changed_cb(GTK_TEXT_BUFFER(self->value_buffer), self);
}

/**
 * osc_editor_dialog_new:
 * @item: (nullable): the entry to edit, or NULL for a new one
 */
OscEditorDialog *
osc_editor_dialog_new(GtkWindow *parent, OscClient *client, OscEntryStore *store, OscEntryItem *item)
{
	OscEditorDialog *self;

	g_return_val_if_fail(OSC_IS_CLIENT(client), NULL);
	g_return_val_if_fail(OSC_IS_ENTRY_STORE(store), NULL);

	self = g_object_new(OSC_TYPE_EDITOR_DIALOG, "transient-for", parent, "modal", TRUE, NULL);
	self->client = g_object_ref(client);
	self->store = g_object_ref(store);
	if (item == NULL) {
		gtk_window_set_title(GTK_WINDOW(self), _("New Entry"));
		gtk_editable_set_text(GTK_EDITABLE(self->environment_row), "production");
		gtk_text_buffer_set_text(GTK_TEXT_BUFFER(self->value_buffer), "{\n  \n}", -1);
		gtk_widget_grab_focus(GTK_WIDGET(self->key_row));
		return self;
	}
	gtk_window_set_title(GTK_WINDOW(self), _("Edit Entry"));
	self->key = g_strdup(osc_entry_item_get_key(item));
	self->environment = g_strdup(osc_entry_item_get_environment(item));
	self->etag = g_strdup(osc_entry_item_get_etag(item));
	gtk_editable_set_text(GTK_EDITABLE(self->key_row), self->key);
	gtk_editable_set_text(GTK_EDITABLE(self->environment_row), self->environment);
	gtk_editable_set_editable(GTK_EDITABLE(self->key_row), FALSE);
	gtk_editable_set_editable(GTK_EDITABLE(self->environment_row), FALSE);
	gtk_editable_set_text(GTK_EDITABLE(self->category_row),
			      osc_entry_item_get_category(item) != NULL
				  ? osc_entry_item_get_category(item)
				  : "");
	osc_editor_dialog_set_text(self, self->value_buffer, osc_entry_item_get_value_json(item));
	/* the list's copy may be behind (and carries no ETag after an event): read it now */
	if (self->etag == NULL)
		osc_client_read_async(client, self->key, self->environment, TRUE, self->cancellable,
				      osc_editor_dialog_read_cb, g_object_ref(self));
	gtk_widget_grab_focus(GTK_WIDGET(self->value_view));
	return self;
}

const gchar *
osc_editor_dialog_get_key(OscEditorDialog *self)
{
	g_return_val_if_fail(OSC_IS_EDITOR_DIALOG(self), NULL);
	return self->key;
}

const gchar *
osc_editor_dialog_get_environment(OscEditorDialog *self)
{
	g_return_val_if_fail(OSC_IS_EDITOR_DIALOG(self), NULL);
	return self->environment;
}

/**
 * osc_editor_dialog_external_change:
 * @event_type: `created`, `updated` or `deleted`
 * @item: the entry the event was about
 *
 * Tells the editor that an entry changed on the server. When it is the one being edited
 * and the change is not our own save coming back, the editor says so (the next save will
 * meet the conflict view).
 *
 * Returns: whether the change concerned the entry being edited and came from elsewhere
 */
gboolean
osc_editor_dialog_external_change(OscEditorDialog *self, const gchar *event_type, OscEntryItem *item)
{
	g_return_val_if_fail(OSC_IS_EDITOR_DIALOG(self), FALSE);
	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(item), FALSE);

	if (self->key == NULL || g_strcmp0(self->key, osc_entry_item_get_key(item)) != 0 ||
	    g_strcmp0(self->environment, osc_entry_item_get_environment(item)) != 0)
		return FALSE;
	if (g_strcmp0(event_type, "deleted") != 0 && self->saved_value != NULL &&
	    g_strcmp0(self->saved_value, osc_entry_item_get_value_json(item)) == 0)
		return FALSE;
	gtk_label_set_text(self->changed_label,
			   g_strcmp0(event_type, "deleted") == 0
			       ? _("Someone else deleted this entry.")
			       : _("Someone else changed this entry. Saving will show both versions."));
	gtk_revealer_set_reveal_child(self->changed_revealer, TRUE);
	return TRUE;
}
