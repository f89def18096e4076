/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-rekey-dialog.h"

#include <glib/gi18n.h>

#include <openssl/crypto.h>

#include "osc-pages-private.h"

/*
 * Re-key: the new user key twice, then POST /rekey (X-User-Key the client's key,
 * X-New-User-Key the new one). On success the client switches to the new key, the dialog
 * says how many entries moved and emits "rekeyed" so that the app can store the new key.
 */

/* the server's default OSC_MIN_USER_KEY_LENGTH; the server has the last word */
#define OSC_REKEY_MIN_LENGTH 8

struct _OscRekeyDialog {
	AdwWindow parent_instance;

	OscClient *client;
	GCancellable *cancellable;
	gchar *new_key;
	gint64 rekeyed;

	AdwPasswordEntryRow *key_row;
	AdwPasswordEntryRow *again_row;
	GtkLabel *status;
	GtkSpinner *spinner;
};

G_DEFINE_FINAL_TYPE(OscRekeyDialog, osc_rekey_dialog, ADW_TYPE_WINDOW)

enum {
	SIGNAL_REKEYED,
	N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void
osc_rekey_dialog_wipe(OscRekeyDialog *self)
{
	if (self->new_key != NULL)
		OPENSSL_cleanse(self->new_key, strlen(self->new_key));
	g_clear_pointer(&self->new_key, g_free);
}

static void
osc_rekey_dialog_set_status(OscRekeyDialog *self, const gchar *text, gboolean error)
{
	gtk_label_set_text(self->status, text);
	if (error) {
		gtk_widget_add_css_class(GTK_WIDGET(self->status), "error");
		gtk_widget_remove_css_class(GTK_WIDGET(self->status), "success");
	} else {
		gtk_widget_remove_css_class(GTK_WIDGET(self->status), "error");
		gtk_widget_add_css_class(GTK_WIDGET(self->status), "success");
	}
}

static void
osc_rekey_dialog_set_busy(OscRekeyDialog *self, gboolean busy)
{
	gtk_spinner_set_spinning(self->spinner, busy);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "rekey.run", !busy);
}

static void
osc_rekey_dialog_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = osc_client_rekey_finish(OSC_CLIENT(source), result, &error);
	OscRekeyDialog *self;
	g_autofree gchar *text = NULL;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_REKEY_DIALOG(user_data);
	g_clear_object(&self->cancellable);
	osc_rekey_dialog_set_busy(self, FALSE);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_autofree gchar *why = NULL;

		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The answer is not a JSON object"));
		why = osc_pages_error_text(error);
		/* TRANSLATORS: nothing changed on the server when this shows */
		text = g_strdup_printf(_("Nothing was re-keyed: %s"), why);
		osc_rekey_dialog_set_status(self, text, TRUE);
		osc_rekey_dialog_wipe(self);
		return;
	}
	self->rekeyed = osc_pages_json_int(json_node_get_object(node), "rekeyed");
	/* the entries now open only with the new key: keep using the connection */
	osc_client_set_user_key(self->client, self->new_key);
	text = g_strdup_printf(
		g_dngettext(GETTEXT_PACKAGE, "%lld entry re-encrypted with the new key",
			    "%lld entries re-encrypted with the new key", (gulong)self->rekeyed),
		(long long)self->rekeyed);
	osc_rekey_dialog_set_status(self, text, FALSE);
	gtk_editable_set_text(GTK_EDITABLE(self->key_row), "");
	gtk_editable_set_text(GTK_EDITABLE(self->again_row), "");
	g_signal_emit(self, signals[SIGNAL_REKEYED], 0, self->new_key, self->rekeyed);
	osc_rekey_dialog_wipe(self);
}

/**
 * osc_rekey_dialog_run:
 *
 * Checks the two keys and re-keys, as the Re-key button does.
 */
void
osc_rekey_dialog_run(OscRekeyDialog *self)
{
	const gchar *key, *again;

	g_return_if_fail(OSC_IS_REKEY_DIALOG(self));

	if (self->cancellable != NULL)
		return;
	key = gtk_editable_get_text(GTK_EDITABLE(self->key_row));
	again = gtk_editable_get_text(GTK_EDITABLE(self->again_row));
	if (key[0] == '\0') {
		osc_rekey_dialog_set_status(self, _("Enter the new user key"), TRUE);
		return;
	}
	if (!g_str_equal(key, again)) {
		osc_rekey_dialog_set_status(self, _("The two keys do not match"), TRUE);
		return;
	}
	if (strlen(key) < OSC_REKEY_MIN_LENGTH) {
		g_autofree gchar *text =
			g_strdup_printf(_("The new user key must be at least %d characters long"),
					OSC_REKEY_MIN_LENGTH);
		osc_rekey_dialog_set_status(self, text, TRUE);
		return;
	}
	osc_rekey_dialog_wipe(self);
	self->new_key = g_strdup(key);
	self->cancellable = g_cancellable_new();
	self->rekeyed = -1;
	osc_rekey_dialog_set_status(self, _("Re-keying…"), FALSE);
	osc_rekey_dialog_set_busy(self, TRUE);
	osc_client_rekey_async(self->client, self->new_key, self->cancellable,
			       osc_rekey_dialog_done_cb, self);
}

static void
osc_rekey_dialog_run_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	osc_rekey_dialog_run(OSC_REKEY_DIALOG(widget));
}

void
osc_rekey_dialog_set_keys(OscRekeyDialog *self, const gchar *key, const gchar *again)
{
	gtk_editable_set_text(GTK_EDITABLE(self->key_row), key);
	gtk_editable_set_text(GTK_EDITABLE(self->again_row), again);
}

gboolean
osc_rekey_dialog_get_busy(OscRekeyDialog *self)
{
	return self->cancellable != NULL;
}

const gchar *
osc_rekey_dialog_get_status(OscRekeyDialog *self)
{
	return gtk_label_get_text(self->status);
}

gint64
osc_rekey_dialog_get_rekeyed(OscRekeyDialog *self)
{
	return self->rekeyed;
}

/**
 * osc_rekey_dialog_new:
 * @parent: (nullable): the window it belongs to
 * @client: the connection whose user key is replaced
 *
 * Returns: (transfer floating): the dialog; present it
 */
GtkWidget *
osc_rekey_dialog_new(GtkWindow *parent, OscClient *client)
{
	OscRekeyDialog *self;

	g_return_val_if_fail(OSC_IS_CLIENT(client), NULL);
	self = g_object_new(OSC_TYPE_REKEY_DIALOG, "transient-for", parent, NULL);
	self->client = g_object_ref(client);
	return GTK_WIDGET(self);
}

/**
 * osc_rekey_dialog_get_client:
 *
 * Returns: (transfer none): the client whose user key the dialog replaces
 */
OscClient *
osc_rekey_dialog_get_client(OscRekeyDialog *self)
{
	g_return_val_if_fail(OSC_IS_REKEY_DIALOG(self), NULL);
	return self->client;
}

static void
osc_rekey_dialog_dispose(GObject *object)
{
	OscRekeyDialog *self = OSC_REKEY_DIALOG(object);

	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->client);
	osc_rekey_dialog_wipe(self);
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_REKEY_DIALOG);
	G_OBJECT_CLASS(osc_rekey_dialog_parent_class)->dispose(object);
}

static void
osc_rekey_dialog_class_init(OscRekeyDialogClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = osc_rekey_dialog_dispose;

	/**
	 * OscRekeyDialog::rekeyed:
	 * @new_key: the new user key, to store for the connection
	 * @count: how many entries were re-encrypted
	 *
	 * Emitted after a successful re-key; the client already uses @new_key.
	 */
	signals[SIGNAL_REKEYED] =
		g_signal_new("rekeyed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			     NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT64);

	gtk_widget_class_set_template_from_resource(widget_class,
						    OSC_PAGES_RESOURCE "osc-rekey-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, OscRekeyDialog, key_row);
	gtk_widget_class_bind_template_child(widget_class, OscRekeyDialog, again_row);
	gtk_widget_class_bind_template_child(widget_class, OscRekeyDialog, status);
	gtk_widget_class_bind_template_child(widget_class, OscRekeyDialog, spinner);
	gtk_widget_class_install_action(widget_class, "rekey.run", NULL,
					osc_rekey_dialog_run_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
osc_rekey_dialog_init(OscRekeyDialog *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->rekeyed = -1;
}
