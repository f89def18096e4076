/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>

#include "osc-connection-dialog.h"
#include "osc-keyring.h"

/*
 * Adds a remote server: its address and trust go to GSettings, its keys to the keyring.
 * When both are saved the window switches to it (win.connect).
 */
struct _OscConnectionDialog {
	AdwWindow parent_instance;

	AdwEntryRow *name_row;
	AdwEntryRow *url_row;
	AdwPasswordEntryRow *api_key_row;
	AdwPasswordEntryRow *user_key_row;
	AdwActionRow *ca_row;
	GtkSwitch *insecure_switch;
	GtkLabel *error_label;

	OscConnectionList *connections;
	GtkNativeDialog *chooser;
	gchar *ca_file;
	gchar *id;
	guint pending;
	gboolean failed;
};

G_DEFINE_FINAL_TYPE(OscConnectionDialog, osc_connection_dialog, ADW_TYPE_WINDOW)

static void
osc_connection_dialog_show_error(OscConnectionDialog *self, const gchar *message)
{
	gtk_label_set_text(self->error_label, message);
	gtk_widget_set_visible(GTK_WIDGET(self->error_label), TRUE);
}

static void
osc_connection_dialog_stored_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscConnectionDialog) self = user_data;
	g_autoptr(GError) error = NULL;
	GtkWindow *parent;

	if (!osc_keyring_store_finish(result, &error)) {
		self->failed = TRUE;
		osc_connection_dialog_show_error(self, error->message);
	}
	if (--self->pending > 0 || self->failed) {
		gtk_widget_set_sensitive(GTK_WIDGET(self), self->pending == 0);
		return;
	}
	parent = gtk_window_get_transient_for(GTK_WINDOW(self));
	if (parent != NULL)
		gtk_widget_activate_action(GTK_WIDGET(parent), "win.connect", "s", self->id);
	gtk_window_destroy(GTK_WINDOW(self));
}

static void
osc_connection_dialog_save_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscConnectionDialog *self = OSC_CONNECTION_DIALOG(widget);
	const gchar *url = gtk_editable_get_text(GTK_EDITABLE(self->url_row));
	const gchar *api_key = gtk_editable_get_text(GTK_EDITABLE(self->api_key_row));
	const gchar *user_key = gtk_editable_get_text(GTK_EDITABLE(self->user_key_row));
	g_autoptr(OscConnection) connection = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *label = NULL;

	if (user_key[0] == '\0') {
		osc_connection_dialog_show_error(self, _("A user key is needed to read entries."));
		return;
	}
	g_free(self->id);
	self->id = osc_connection_list_new_id(self->connections);
	connection = osc_connection_new(self->id, gtk_editable_get_text(GTK_EDITABLE(self->name_row)),
					url, self->ca_file,
					!gtk_switch_get_active(self->insecure_switch));
	if (!osc_connection_list_add(self->connections, connection, &error)) {
		osc_connection_dialog_show_error(self, error->message);
		return;
	}
	self->pending = 2;
	self->failed = FALSE;
	gtk_widget_set_sensitive(GTK_WIDGET(self), FALSE);
	label = g_strdup_printf(_("OpenSecureConf API key for %s"), url);
	osc_keyring_store_async(self->id, OSC_KEYRING_API_KEY, label, api_key, NULL,
				osc_connection_dialog_stored_cb, g_object_ref(self));
	g_free(label);
	label = g_strdup_printf(_("OpenSecureConf user key for %s"), url);
	osc_keyring_store_async(self->id, OSC_KEYRING_USER_KEY, label, user_key, NULL,
				osc_connection_dialog_stored_cb, g_object_ref(self));
}

static void
osc_connection_dialog_chooser_cb(GtkNativeDialog *chooser, gint response, gpointer user_data)
{
	OscConnectionDialog *self = user_data;

	if (response == GTK_RESPONSE_ACCEPT) {
		g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(chooser));

		g_free(self->ca_file);
		self->ca_file = g_file_get_path(file);
		adw_action_row_set_subtitle(self->ca_row, self->ca_file);
	}
	g_clear_object(&self->chooser);
}

static void
osc_connection_dialog_choose_ca_action(GtkWidget *widget, const gchar *action, GVariant *param)
{
	OscConnectionDialog *self = OSC_CONNECTION_DIALOG(widget);

	if (self->chooser != NULL)
		return;
	self->chooser = GTK_NATIVE_DIALOG(gtk_file_chooser_native_new(
	    _("Certificate Authority File"), GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_OPEN,
	    _("_Select"), _("_Cancel")));
	g_signal_connect(self->chooser, "response", G_CALLBACK(osc_connection_dialog_chooser_cb),
			 self);
	gtk_native_dialog_show(self->chooser);
}

static void
osc_connection_dialog_dispose(GObject *object)
{
	OscConnectionDialog *self = OSC_CONNECTION_DIALOG(object);

	if (self->chooser != NULL) {
		g_signal_handlers_disconnect_by_data(self->chooser, self);
		gtk_native_dialog_destroy(self->chooser);
		g_clear_object(&self->chooser);
	}
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_CONNECTION_DIALOG);
	g_clear_object(&self->connections);
	g_clear_pointer(&self->ca_file, g_free);
	g_clear_pointer(&self->id, g_free);
	G_OBJECT_CLASS(osc_connection_dialog_parent_class)->dispose(object);
}

static void
osc_connection_dialog_class_init(OscConnectionDialogClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	G_OBJECT_CLASS(klass)->dispose = osc_connection_dialog_dispose;
	gtk_widget_class_set_template_from_resource(
	    widget_class, "/org/opensecureconf/Admin/ui/osc-connection-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, OscConnectionDialog, name_row);
	gtk_widget_class_bind_template_child(widget_class, OscConnectionDialog, url_row);
	gtk_widget_class_bind_template_child(widget_class, OscConnectionDialog, api_key_row);
	gtk_widget_class_bind_template_child(widget_class, OscConnectionDialog, user_key_row);
	gtk_widget_class_bind_template_child(widget_class, OscConnectionDialog, ca_row);
	gtk_widget_class_bind_template_child(widget_class, OscConnectionDialog, insecure_switch);
	gtk_widget_class_bind_template_child(widget_class, OscConnectionDialog, error_label);
	gtk_widget_class_install_action(widget_class, "connection.save", NULL,
					osc_connection_dialog_save_action);
	gtk_widget_class_install_action(widget_class, "connection.choose-ca", NULL,
					osc_connection_dialog_choose_ca_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close",
					    NULL);
}

static void
osc_connection_dialog_init(OscConnectionDialog *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

OscConnectionDialog *
osc_connection_dialog_new(GtkWindow *parent, OscConnectionList *connections)
{
	OscConnectionDialog *self;

	g_return_val_if_fail(OSC_IS_CONNECTION_LIST(connections), NULL);

	self = g_object_new(OSC_TYPE_CONNECTION_DIALOG, "transient-for", parent, "modal", TRUE,
			    NULL);
	self->connections = g_object_ref(connections);
	return self;
}
