/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>

#include "osc-application-private.h"
#include "osc-preferences-window.h"

static void
osc_application_close_all(GApplication *app)
{
	GList *windows = g_list_copy(gtk_application_get_windows(GTK_APPLICATION(app)));

	for (GList *l = windows; l != NULL; l = l->next)
		gtk_window_destroy(GTK_WINDOW(l->data));
	g_list_free(windows);
	g_application_quit(app);
}

static void
osc_application_quit_stopped_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GApplication) app = user_data;
	g_autoptr(GError) error = NULL;

	if (!osc_local_server_stop_finish(OSC_LOCAL_SERVER(source), result, &error))
		g_message("stopping the local server: %s", error->message);
	osc_application_close_all(app);
}

/*
 * The embedded server stops first, while the windows' event streams are still connected:
 * it ends them itself, which is the path the server is made for, rather than meeting
 * streams whose clients vanished while it shuts down.
 */
static void
osc_application_quit_action(GSimpleAction *action, GVariant *param, gpointer user_data)
{
	OscApplication *self = OSC_APPLICATION(user_data);

	if (self->quitting)
		return;
	self->quitting = TRUE;
	if (self->local != NULL && osc_local_server_get_running(self->local)) {
		osc_local_server_stop_async(self->local, NULL, osc_application_quit_stopped_cb,
					    g_object_ref(self));
		return;
	}
	osc_application_close_all(G_APPLICATION(self));
}

static void
osc_application_preferences_action(GSimpleAction *action, GVariant *param, gpointer user_data)
{
	OscApplication *self = OSC_APPLICATION(user_data);
	GtkWindow *parent = gtk_application_get_active_window(GTK_APPLICATION(self));
	OscPreferencesWindow *prefs = osc_preferences_window_new(self->settings);

	gtk_window_set_transient_for(GTK_WINDOW(prefs), parent);
	gtk_window_present(GTK_WINDOW(prefs));
}

static void
osc_application_about_action(GSimpleAction *action, GVariant *param, gpointer user_data)
{
	GtkApplication *app = GTK_APPLICATION(user_data);
	static const gchar *developers[] = {"The OpenSecureConf Authors", NULL};

	adw_show_about_window(gtk_application_get_active_window(app),
			      "application-name", _("OpenSecureConf"),
			      "application-icon", OSC_APP_ID,
			      "version", PACKAGE_VERSION,
			      "developers", developers,
			      "license-type", GTK_LICENSE_APACHE_2_0,
			      "comments", _("Encrypted configuration management"),
			      NULL);
}

static const GActionEntry app_actions[] = {
    {"quit", osc_application_quit_action},
    {"preferences", osc_application_preferences_action},
    {"about", osc_application_about_action},
};

void
_osc_application_add_actions(OscApplication *self)
{
	static const struct {
		const gchar *action;
		const gchar *accels[3];
	} accels[] = {
	    {"app.quit", {"<Control>q", NULL}},
	    {"app.preferences", {"<Control>comma", NULL}},
	    {"win.show-help-overlay", {"<Control>question", NULL}},
	    {"win.search", {"<Control>f", NULL}},
	    {"win.new", {"<Control>n", NULL}},
	    {"win.reload", {"<Control>r", "F5", NULL}},
	    {"window.close", {"<Control>w", NULL}},
	};

	g_action_map_add_action_entries(G_ACTION_MAP(self), app_actions, G_N_ELEMENTS(app_actions),
					self);
	for (guint i = 0; i < G_N_ELEMENTS(accels); i++)
		gtk_application_set_accels_for_action(GTK_APPLICATION(self), accels[i].action,
						      accels[i].accels);
}
