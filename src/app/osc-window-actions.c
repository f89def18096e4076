/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>
#include <openssl/crypto.h>
#include <string.h>

#include "osc-application.h"
#include "osc-connection-dialog.h"
#include "osc-keyring.h"
#include "osc-window-private.h"

#ifdef OSC_HAVE_PAGES
#include "pages/osc-pages.h"
#endif

/* the highlight of a row changed underneath lasts as long as the editor */
static void
osc_window_editor_destroyed_cb(GtkWidget *editor, gpointer user_data)
{
	OscWindow *self = user_data;

	if (self->changed_item != NULL)
		osc_entry_item_set_changed(self->changed_item, FALSE);
	g_clear_object(&self->changed_item);
}

static void
osc_window_open_editor(OscWindow *self, OscEntryItem *item)
{
	if (self->client == NULL)
		return;
	if (self->editor != NULL)
		gtk_window_destroy(GTK_WINDOW(self->editor));
	self->editor = osc_editor_dialog_new(GTK_WINDOW(self), self->client, self->store, item);
	g_object_add_weak_pointer(G_OBJECT(self->editor), (gpointer *)&self->editor);
	g_signal_connect_object(self->editor, "destroy", G_CALLBACK(osc_window_editor_destroyed_cb),
				self, 0);
	gtk_window_present(GTK_WINDOW(self->editor));
}

static void
osc_window_new_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	osc_window_open_editor(OSC_WINDOW(widget), NULL);
}

static void
osc_window_edit_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);
	OscEntryItem *item = _osc_window_get_selected(self);

	if (item != NULL)
		osc_window_open_editor(self, item);
}

static void
osc_window_edit_entry_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);
	const gchar *key, *environment;
	OscEntryItem *item;

	g_variant_get(param, "(&s&s)", &key, &environment);
	item = osc_entry_store_lookup(self->store, key, environment);
	if (item != NULL)
		osc_window_open_editor(self, item);
}

/* ---- delete, with confirmation and undo ---- */

static void
osc_window_undo_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscWindow) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfigEntry) entry = osc_client_create_finish(OSC_CLIENT(source), result, &error);

	if (entry == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			osc_window_add_toast(self, error->message);
		return;
	}
	osc_entry_store_upsert(self->store, entry);
}

static void
osc_window_undo_delete_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);
	g_autoptr(JsonNode) value = NULL;

	if (self->client == NULL || self->undo_key == NULL || self->undo_value_json == NULL)
		return;
	value = json_from_string(self->undo_value_json, NULL);
	if (value == NULL)
		return;
	osc_client_create_async(self->client, self->undo_key, self->undo_environment, value,
				self->undo_category, self->cancellable, osc_window_undo_cb,
				g_object_ref(self));
	g_clear_pointer(&self->undo_key, g_free);
	g_clear_pointer(&self->undo_value_json, osc_keyring_free_secret);
}

typedef struct {
	OscWindow *self;
	gchar *key;
	gchar *environment;
	gchar *category;
	gchar *value_json;
} DeleteData;

static void
delete_data_free(DeleteData *data)
{
	g_object_unref(data->self);
	g_free(data->key);
	g_free(data->environment);
	g_free(data->category);
	osc_keyring_free_secret(data->value_json);
	g_free(data);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DeleteData, delete_data_free)

static void
osc_window_deleted_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(DeleteData) data = user_data;
	OscWindow *self = data->self;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *title = NULL;
	AdwToast *toast;

	if (!osc_client_delete_finish(OSC_CLIENT(source), result, &error)) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			osc_window_add_toast(self, error->message);
		return;
	}
	osc_entry_store_remove(self->store, data->key, data->environment);
	g_free(self->undo_key);
	self->undo_key = g_steal_pointer(&data->key);
	g_free(self->undo_environment);
	self->undo_environment = g_steal_pointer(&data->environment);
	g_free(self->undo_category);
	self->undo_category = g_steal_pointer(&data->category);
	osc_keyring_free_secret(self->undo_value_json);
	self->undo_value_json = g_steal_pointer(&data->value_json);

	title = g_strdup_printf(_("“%s” deleted"), self->undo_key);
	toast = adw_toast_new(title);
	if (self->undo_value_json != NULL) {
		adw_toast_set_button_label(toast, _("_Undo"));
		adw_toast_set_action_name(toast, "win.undo-delete");
	}
	adw_toast_overlay_add_toast(self->toast_overlay, toast);
}

static void
osc_window_delete_response_cb(AdwMessageDialog *dialog, const gchar *response, gpointer user_data)
{
	DeleteData *asked = user_data;
	OscWindow *self = asked->self;
	DeleteData *data;
	OscEntryItem *item;

	if (g_strcmp0(response, "delete") != 0 || self->client == NULL)
		return;
	/* what undo needs, taken before the row goes */
	data = g_new0(DeleteData, 1);
	data->self = g_object_ref(self);
	data->key = g_strdup(asked->key);
	data->environment = g_strdup(asked->environment);
	item = osc_entry_store_lookup(self->store, asked->key, asked->environment);
	if (item != NULL) {
		data->category = g_strdup(osc_entry_item_get_category(item));
		data->value_json = g_strdup(osc_entry_item_get_value_json(item));
	}
	osc_client_delete_async(self->client, asked->key, asked->environment, NULL,
				self->cancellable, osc_window_deleted_cb, data);
}

static void
osc_window_confirm_delete(OscWindow *self, const gchar *key, const gchar *environment)
{
	AdwMessageDialog *dialog;
	DeleteData *data;

	if (self->client == NULL || osc_entry_store_lookup(self->store, key, environment) == NULL)
		return;
	dialog = ADW_MESSAGE_DIALOG(adw_message_dialog_new(GTK_WINDOW(self), NULL, NULL));
	adw_message_dialog_format_heading(dialog, _("Delete “%s”?"), key);
	adw_message_dialog_format_body(dialog, _("The entry is removed from the environment “%s”."),
				       environment);
	adw_message_dialog_add_responses(dialog, "cancel", _("_Cancel"), "delete", _("_Delete"),
					 NULL);
	adw_message_dialog_set_response_appearance(dialog, "delete",
						   ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(dialog, "cancel");
	adw_message_dialog_set_close_response(dialog, "cancel");
	data = g_new0(DeleteData, 1);
	data->self = g_object_ref(self);
	data->key = g_strdup(key);
	data->environment = g_strdup(environment);
	g_signal_connect_data(dialog, "response", G_CALLBACK(osc_window_delete_response_cb), data,
			      (GClosureNotify)(void (*)(void))delete_data_free, 0);
	self->delete_dialog = dialog;
	g_object_add_weak_pointer(G_OBJECT(dialog), (gpointer *)&self->delete_dialog);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void
osc_window_delete_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);
	OscEntryItem *item = _osc_window_get_selected(self);

	if (item != NULL)
		osc_window_confirm_delete(self, osc_entry_item_get_key(item),
					  osc_entry_item_get_environment(item));
}

static void
osc_window_delete_entry_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	const gchar *key, *environment;

	g_variant_get(param, "(&s&s)", &key, &environment);
	osc_window_confirm_delete(OSC_WINDOW(widget), key, environment);
}

/* ---- clipboard ---- */

static void
osc_window_clipboard_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscWindow) self = user_data;
	g_autofree gchar *text = gdk_clipboard_read_text_finish(GDK_CLIPBOARD(source), result, NULL);
	gboolean same;

	if (self->copied_value == NULL)
		return;
	same = text != NULL && strlen(text) == strlen(self->copied_value) &&
	       CRYPTO_memcmp(text, self->copied_value, strlen(text)) == 0;
	/* only if still ours: the user may have copied something else since */
	if (same)
		gdk_clipboard_set_content(GDK_CLIPBOARD(source), NULL);
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));
	g_clear_pointer(&self->copied_value, osc_keyring_free_secret);
}

static gboolean
osc_window_clipboard_timeout_cb(gpointer user_data)
{
	OscWindow *self = user_data;
	GdkClipboard *clipboard = gtk_widget_get_clipboard(GTK_WIDGET(self));

	self->clipboard_source = 0;
	gdk_clipboard_read_text_async(clipboard, NULL, osc_window_clipboard_read_cb,
				      g_object_ref(self));
	return G_SOURCE_REMOVE;
}

static void
osc_window_copy_value_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);
	OscEntryItem *item = _osc_window_get_selected(self);
	guint timeout = g_settings_get_uint(self->settings, "clipboard-timeout");
	g_autofree gchar *msg = NULL;

	if (item == NULL || osc_entry_item_get_value_json(item) == NULL)
		return;
	gdk_clipboard_set_text(gtk_widget_get_clipboard(widget), osc_entry_item_get_value_json(item));
	g_clear_handle_id(&self->clipboard_source, g_source_remove);
	g_clear_pointer(&self->copied_value, osc_keyring_free_secret);
	if (timeout > 0) {
		self->copied_value = g_strdup(osc_entry_item_get_value_json(item));
		self->clipboard_source =
		    g_timeout_add_seconds(timeout, osc_window_clipboard_timeout_cb, self);
		msg = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
						  "Value copied; cleared in %u second",
						  "Value copied; cleared in %u seconds", timeout),
				      timeout);
	} else {
		msg = g_strdup(_("Value copied"));
	}
	osc_window_add_toast(self, msg);
}

/* ---- the rest ---- */

static void
osc_window_search_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);

	adw_view_stack_set_visible_child_name(self->view_stack, "configurations");
	gtk_search_bar_set_search_mode(self->search_bar, TRUE);
	gtk_widget_grab_focus(GTK_WIDGET(self->search_entry));
}

static void
osc_window_reload_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	_osc_window_reload(OSC_WINDOW(widget));
}

static void
osc_window_dismiss_keyring_banner_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	gtk_revealer_set_reveal_child(OSC_WINDOW(widget)->keyring_revealer, FALSE);
}

static void
osc_window_new_connection_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);
	OscApplication *app = OSC_APPLICATION(gtk_window_get_application(GTK_WINDOW(self)));
	OscConnectionDialog *dialog =
	    osc_connection_dialog_new(GTK_WINDOW(self), osc_application_get_connections(app));

	self->connection_dialog = GTK_WINDOW(dialog);
	g_object_add_weak_pointer(G_OBJECT(dialog), (gpointer *)&self->connection_dialog);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void
osc_window_keys_cleared_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	/* the connection is gone from the settings anyway; a leftover key is only noted */
	if (!osc_keyring_clear_finish(result, &error))
		g_message("removing the keys of a connection: %s", error->message);
}

static void
osc_window_remove_connection_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);
	OscApplication *app = OSC_APPLICATION(gtk_window_get_application(GTK_WINDOW(self)));
	g_autofree gchar *id = g_strdup(self->connection_id);

	if (id == NULL || g_str_equal(id, OSC_CONNECTION_LOCAL_ID))
		return;
	osc_connection_list_remove(osc_application_get_connections(app), id);
	osc_keyring_clear_async(id, NULL, osc_window_keys_cleared_cb, NULL);
	osc_window_set_connection_id(self, OSC_CONNECTION_LOCAL_ID);
}

#ifdef OSC_HAVE_PAGES
static void
osc_window_history_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);
	OscEntryItem *item = _osc_window_get_selected(self);
	GtkWidget *dialog;

	if (item == NULL || self->client == NULL)
		return;
	dialog = osc_history_dialog_new(GTK_WINDOW(self), self->client,
					osc_entry_item_get_key(item),
					osc_entry_item_get_environment(item));
	gtk_window_present(GTK_WINDOW(dialog));
}

static void
osc_window_rekey_stored_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscWindow) self = user_data;
	g_autoptr(GError) error = NULL;

	if (!osc_keyring_store_finish(result, &error)) {
		g_autofree gchar *text = g_strdup_printf(
		    _("The new user key could not be saved in the keyring: %s"), error->message);

		adw_toast_overlay_add_toast(self->toast_overlay, adw_toast_new(text));
	}
}

/* the entries moved to @new_key: the keyring and, for the local connection, the
 * application follow, so that the next start and the next connection still open them. The
 * dialog has given its client the new key; the window's event stream, when it still belongs
 * to that client, subscribes again with it, so that the events carry values again. */
static void
osc_window_rekeyed_cb(OscRekeyDialog *dialog, const gchar *new_key, gint64 count,
		      gpointer user_data)
{
	OscWindow *self = OSC_WINDOW(user_data);
	/* the one the dialog was opened for: the window may show another one by now */
	OscConnection *connection = g_object_get_data(G_OBJECT(dialog), "osc-connection");

	if (connection == NULL)
		return;
	if (self->client != NULL && self->client == osc_rekey_dialog_get_client(dialog) &&
	    self->events != NULL)
		g_object_set(self->events, "user-key", new_key, NULL);
	if (osc_connection_is_local(connection)) {
		GApplication *app = g_application_get_default();

		if (OSC_IS_APPLICATION(app))
			osc_application_set_local_user_key(OSC_APPLICATION(app), new_key);
	}
	osc_keyring_store_async(osc_connection_get_id(connection), OSC_KEYRING_USER_KEY,
				osc_connection_get_name(connection), new_key, NULL,
				osc_window_rekey_stored_cb, g_object_ref(self));
}

static void
osc_window_rekey_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscWindow *self = OSC_WINDOW(widget);
	GtkWidget *dialog;

	if (self->client == NULL || self->connection == NULL)
		return;
	dialog = osc_rekey_dialog_new(GTK_WINDOW(self), self->client);
	g_object_set_data_full(G_OBJECT(dialog), "osc-connection", g_object_ref(self->connection),
			       g_object_unref);
	g_signal_connect_object(dialog, "rekeyed", G_CALLBACK(osc_window_rekeyed_cb), self, 0);
	gtk_window_present(GTK_WINDOW(dialog));
}
#endif

void
_osc_window_class_add_actions(GtkWidgetClass *widget_class)
{
	gtk_widget_class_install_action(widget_class, "win.new", NULL, osc_window_new_action);
	gtk_widget_class_install_action(widget_class, "win.edit", NULL, osc_window_edit_action);
	gtk_widget_class_install_action(widget_class, "win.edit-entry", "(ss)",
					osc_window_edit_entry_action);
	gtk_widget_class_install_action(widget_class, "win.delete", NULL,
					osc_window_delete_action);
	gtk_widget_class_install_action(widget_class, "win.delete-entry", "(ss)",
					osc_window_delete_entry_action);
	gtk_widget_class_install_action(widget_class, "win.undo-delete", NULL,
					osc_window_undo_delete_action);
	gtk_widget_class_install_action(widget_class, "win.copy-value", NULL,
					osc_window_copy_value_action);
	gtk_widget_class_install_action(widget_class, "win.search", NULL,
					osc_window_search_action);
	gtk_widget_class_install_action(widget_class, "win.reload", NULL,
					osc_window_reload_action);
	gtk_widget_class_install_action(widget_class, "win.dismiss-keyring-banner", NULL,
					osc_window_dismiss_keyring_banner_action);
	gtk_widget_class_install_action(widget_class, "win.new-connection", NULL,
					osc_window_new_connection_action);
	gtk_widget_class_install_action(widget_class, "win.remove-connection", NULL,
					osc_window_remove_connection_action);
#ifdef OSC_HAVE_PAGES
	gtk_widget_class_install_action(widget_class, "win.history", NULL,
					osc_window_history_action);
	gtk_widget_class_install_action(widget_class, "win.rekey", NULL,
					osc_window_rekey_action);
#endif
}
