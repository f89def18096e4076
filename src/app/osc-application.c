/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <gtksourceview/gtksource.h>
#include <signal.h>

#include "osc-app-resources.h"
#include "osc-application-private.h"
#include "osc-keyring.h"
#include "osc-window.h"

G_DEFINE_FINAL_TYPE(OscApplication, osc_application, ADW_TYPE_APPLICATION)

static void
osc_application_apply_color_scheme(OscApplication *self)
{
	static const AdwColorScheme schemes[] = {ADW_COLOR_SCHEME_DEFAULT,
						 ADW_COLOR_SCHEME_FORCE_LIGHT,
						 ADW_COLOR_SCHEME_FORCE_DARK};
	gint idx = g_settings_get_enum(self->settings, "color-scheme");

	adw_style_manager_set_color_scheme(adw_style_manager_get_default(),
					   schemes[CLAMP(idx, 0, (gint)G_N_ELEMENTS(schemes) - 1)]);
}

static void
osc_application_color_scheme_changed_cb(GSettings *settings, const gchar *key, gpointer user_data)
{
	osc_application_apply_color_scheme(OSC_APPLICATION(user_data));
}

/* SIGINT and SIGTERM quit like app.quit: the embedded server closes its store cleanly */
static gboolean
osc_application_signal_cb(gpointer user_data)
{
	g_action_group_activate_action(G_ACTION_GROUP(user_data), "quit", NULL);
	return G_SOURCE_CONTINUE;
}

static void
osc_application_startup(GApplication *app)
{
	OscApplication *self = OSC_APPLICATION(app);

	G_APPLICATION_CLASS(osc_application_parent_class)->startup(app);

	gtk_source_init();
	self->settings = g_settings_new(OSC_APP_ID);
	self->connections = osc_connection_list_new(self->settings);
	g_signal_connect(self->settings, "changed::color-scheme",
			 G_CALLBACK(osc_application_color_scheme_changed_cb), self);
	osc_application_apply_color_scheme(self);
	_osc_application_add_actions(self);
	self->sigint_source = g_unix_signal_add(SIGINT, osc_application_signal_cb, self);
	self->sigterm_source = g_unix_signal_add(SIGTERM, osc_application_signal_cb, self);
}

static void
osc_application_activate(GApplication *app)
{
	GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(app));

	if (window == NULL)
		window = GTK_WINDOW(osc_window_new(OSC_APPLICATION(app)));
	gtk_window_present(window);
}

static void
osc_application_stop_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	gboolean *done = user_data;
	g_autoptr(GError) error = NULL;

	if (!osc_local_server_stop_finish(OSC_LOCAL_SERVER(source), result, &error))
		g_message("stopping the local server: %s", error->message);
	*done = TRUE;
}

/* stops the embedded server before the process goes: its store is closed cleanly */
static void
osc_application_stop_local(OscApplication *self)
{
	gboolean done = FALSE;

	if (self->local == NULL || !osc_local_server_get_running(self->local))
		return;
	osc_local_server_stop_async(self->local, NULL, osc_application_stop_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

static void
osc_application_shutdown(GApplication *app)
{
	OscApplication *self = OSC_APPLICATION(app);

	g_clear_handle_id(&self->sigint_source, g_source_remove);
	g_clear_handle_id(&self->sigterm_source, g_source_remove);
	osc_application_stop_local(self);
	G_APPLICATION_CLASS(osc_application_parent_class)->shutdown(app);
}

static gboolean
osc_application_quit_signal_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_CONTINUE;
}

/* --headless: the embedded server alone, until SIGINT or SIGTERM */
static gint
osc_application_run_headless(OscApplication *self)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	const gchar *port_env = g_getenv("OSC_HOST_PORT");
	guint port = 9000;
	guint sigint, sigterm;

	if (port_env != NULL)
		port = (guint)g_ascii_strtoull(port_env, NULL, 10);
	self->local = osc_local_server_new();
	if (!osc_local_server_start(self->local, port, &error)) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	g_print(_("OpenSecureConf local server on %s\n"),
		osc_local_server_get_base_url(self->local));
	/* a random key is useless unless the operator sees it: shown once, on the terminal */
	if (osc_local_server_get_api_key_generated(self->local))
		g_print(_("API key for this run: %s\n"), osc_local_server_get_api_key(self->local));
	sigint = g_unix_signal_add(SIGINT, osc_application_quit_signal_cb, loop);
	sigterm = g_unix_signal_add(SIGTERM, osc_application_quit_signal_cb, loop);
	g_main_loop_run(loop);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	osc_application_stop_local(self);
	return 0;
}

static gint
osc_application_handle_local_options(GApplication *app, GVariantDict *options)
{
	OscApplication *self = OSC_APPLICATION(app);

	if (g_variant_dict_contains(options, "version")) {
		g_print("opensecureconf %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (g_variant_dict_contains(options, "headless")) {
		self->headless = TRUE;
		return osc_application_run_headless(self);
	}
	return -1;
}

static void
osc_application_dispose(GObject *object)
{
	OscApplication *self = OSC_APPLICATION(object);

	if (self->settings != NULL)
		g_signal_handlers_disconnect_by_data(self->settings, self);
	g_clear_object(&self->connections);
	g_clear_object(&self->settings);
	g_clear_object(&self->local);
	g_clear_pointer(&self->local_key_waiters, g_ptr_array_unref);
	g_clear_pointer(&self->local_user_key, osc_keyring_free_secret);
	G_OBJECT_CLASS(osc_application_parent_class)->dispose(object);
}

static void
osc_application_class_init(OscApplicationClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GApplicationClass *app_class = G_APPLICATION_CLASS(klass);

	object_class->dispose = osc_application_dispose;
	app_class->startup = osc_application_startup;
	app_class->activate = osc_application_activate;
	app_class->shutdown = osc_application_shutdown;
	app_class->handle_local_options = osc_application_handle_local_options;

	/* pulls the resource object (and its constructor) out of the static library */
	(void)osc_app_get_resource();
}

static void
osc_application_init(OscApplication *self)
{
	static const GOptionEntry entries[] = {
	    {"headless", 0, 0, G_OPTION_ARG_NONE, NULL,
	     N_("Run only the embedded server, without a window, until interrupted"), NULL},
	    {"version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL},
	    {NULL},
	};

	g_application_add_main_option_entries(G_APPLICATION(self), entries);
	self->local_key_waiters = g_ptr_array_new_with_free_func(g_object_unref);
}

OscApplication *
osc_application_new(const gchar *application_id, GApplicationFlags flags)
{
	return g_object_new(OSC_TYPE_APPLICATION, "application-id", application_id, "flags",
			    flags, "resource-base-path", "/org/opensecureconf/Admin", NULL);
}

GSettings *
osc_application_get_settings(OscApplication *self)
{
	g_return_val_if_fail(OSC_IS_APPLICATION(self), NULL);
	return self->settings;
}

OscConnectionList *
osc_application_get_connections(OscApplication *self)
{
	g_return_val_if_fail(OSC_IS_APPLICATION(self), NULL);
	return self->connections;
}

/**
 * osc_application_ensure_local_server:
 *
 * Starts the embedded server on a free loopback port if it is not running yet.
 *
 * Returns: (transfer none): the running server, or NULL with @error set
 */
OscLocalServer *
osc_application_ensure_local_server(OscApplication *self, GError **error)
{
	g_return_val_if_fail(OSC_IS_APPLICATION(self), NULL);

	if (self->local != NULL && osc_local_server_get_running(self->local))
		return self->local;
	g_clear_object(&self->local);
	self->local = osc_local_server_new();
	if (!osc_local_server_start(self->local, 0, error)) {
		g_clear_object(&self->local);
		return NULL;
	}
	return self->local;
}

static void
osc_application_finish_local_key(OscApplication *self)
{
	g_autoptr(GPtrArray) waiters = g_steal_pointer(&self->local_key_waiters);

	self->local_key_waiters = g_ptr_array_new_with_free_func(g_object_unref);
	for (guint i = 0; i < waiters->len; i++)
		g_task_return_boolean(g_ptr_array_index(waiters, i), TRUE);
}

static void
osc_application_key_stored_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscApplication) self = user_data;
	g_autoptr(GError) error = NULL;

	if (!osc_keyring_store_finish(result, &error)) {
		g_message("keeping the local user key for this session only: %s", error->message);
		self->local_key_persistent = FALSE;
	} else {
		self->local_key_persistent = TRUE;
	}
	osc_application_finish_local_key(self);
}

static void
osc_application_key_lookup_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscApplication) self = user_data;
	g_autoptr(GError) error = NULL;
	gchar *key = osc_keyring_lookup_finish(result, &error);

	if (key != NULL) {
		self->local_user_key = key;
		self->local_key_persistent = TRUE;
		osc_application_finish_local_key(self);
		return;
	}
	/* first run, or no Secret Service: a new key either way */
	self->local_user_key = osc_keyring_generate_key();
	if (error != NULL) {
		g_message("no keyring, keeping the local user key for this session only: %s",
			  error->message);
		self->local_key_persistent = FALSE;
		osc_application_finish_local_key(self);
		return;
	}
	osc_keyring_store_async(OSC_CONNECTION_LOCAL_ID, OSC_KEYRING_USER_KEY,
				_("OpenSecureConf local user key"), self->local_user_key, NULL,
				osc_application_key_stored_cb, g_object_ref(self));
}

/**
 * osc_application_set_local_user_key:
 *
 * The local connection's user key changed (a re-key): later connections in this session use
 * @user_key. The keyring is the caller's to update.
 */
void
osc_application_set_local_user_key(OscApplication *self, const gchar *user_key)
{
	g_return_if_fail(OSC_IS_APPLICATION(self));
	g_return_if_fail(user_key != NULL);

	g_clear_pointer(&self->local_user_key, osc_keyring_free_secret);
	self->local_user_key = g_strdup(user_key);
}

/**
 * osc_application_get_local_user_key_async:
 *
 * Gets the user key of the local connection: from the keyring, or made on first run and
 * put there. Without a Secret Service the key is made for this session only.
 */
void
osc_application_get_local_user_key_async(OscApplication *self,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(OSC_IS_APPLICATION(self));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, osc_application_get_local_user_key_async);
	if (self->local_user_key != NULL && self->local_key_waiters->len == 0) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	g_ptr_array_add(self->local_key_waiters, g_steal_pointer(&task));
	if (self->local_key_waiters->len == 1 && self->local_user_key == NULL)
		osc_keyring_lookup_async(OSC_CONNECTION_LOCAL_ID, OSC_KEYRING_USER_KEY, NULL,
					 osc_application_key_lookup_cb, g_object_ref(self));
}

/**
 * osc_application_get_local_user_key_finish:
 * @persistent: (out) (optional): whether the key is kept in the keyring
 *
 * Returns: (transfer full): the key; free it with osc_keyring_free_secret()
 */
gchar *
osc_application_get_local_user_key_finish(OscApplication *self,
					  GAsyncResult *result,
					  gboolean *persistent,
					  GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	if (!g_task_propagate_boolean(G_TASK(result), error))
		return NULL;
	if (persistent != NULL)
		*persistent = self->local_key_persistent;
	return g_strdup(self->local_user_key);
}
