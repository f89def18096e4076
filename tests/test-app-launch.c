/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "test-app-launch"

#include "config.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>

#include "osc-test-utils.h"

/*
 * The acceptance of issue 8: `opensecureconf` with no arguments, fresh user dirs and no
 * saved connection, opens its window on the local embedded server without a CRITICAL,
 * ERROR or WARNING log line, and quits cleanly through app.quit. Runs the installed-style
 * binary on a private session bus (GTestDBus) under the test display.
 */

#define APP_ID	 "org.opensecureconf.Admin"
#define APP_PATH "/org/opensecureconf/Admin"

typedef struct {
	GDBusConnection *bus;
} Probe;

/* the first window exports its actions on the bus once it exists (GtkApplicationWindow
 * exports its own action map: show-help-overlay) */
static gboolean
window_open(gpointer data)
{
	Probe *probe = data;
	g_autoptr(GVariant) reply = NULL;
	g_autofree const gchar **names = NULL;

	g_autoptr(GError) error = NULL;

	reply = g_dbus_connection_call_sync(probe->bus, APP_ID, APP_PATH "/window/1",
					    "org.gtk.Actions", "List", NULL, G_VARIANT_TYPE("(as)"),
					    G_DBUS_CALL_FLAGS_NONE, 2000, NULL, &error);
	if (reply == NULL) {
		g_debug("no window yet: %s", error->message);
		return FALSE;
	}
	g_variant_get(reply, "(^a&s)", &names);
	return g_strv_contains(names, "show-help-overlay");
}

/* the local server has made its store */
static gboolean
file_exists(gpointer data)
{
	return g_file_test(data, G_FILE_TEST_EXISTS);
}

static void
wait_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_subprocess_wait_finish(G_SUBPROCESS(source), result, &error);
	g_assert_no_error(error);
	*(gboolean *)user_data = TRUE;
}

static gboolean
is_true(gpointer data)
{
	return *(gboolean *)data;
}

static gboolean
tick_cb(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

/* the other process changes, not ours: look again every 100 ms */
static void
poll_until(gboolean (*predicate)(gpointer), gpointer data, guint timeout_ms)
{
	guint tick = g_timeout_add(100, tick_cb, NULL);

	osc_test_wait_until(predicate, data, timeout_ms);
	g_source_remove(tick);
}

static void
test_launch(void)
{
	g_autoptr(GTestDBus) dbus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_autofree gchar *tmp = osc_test_make_tmpdir();
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) unused = NULL;
	g_autofree gchar *err_path = g_build_filename(tmp, "stderr.log", NULL);
	g_autofree gchar *stderr_text = NULL;
	g_autofree gchar *db = NULL;
	g_auto(GStrv) lines = NULL;
	const gchar *app = g_getenv("OSC_APP_PATH");
	Probe probe = {0};
	gboolean exited = FALSE;

	/* GTestDBus unsets DISPLAY (against X11 autolaunch): keep it for the app */
	g_autofree gchar *display = g_strdup(g_getenv("DISPLAY"));
	g_autofree gchar *wayland = g_strdup(g_getenv("WAYLAND_DISPLAY"));

	g_assert_nonnull(app);
	g_assert_true(display != NULL || wayland != NULL);
	g_test_dbus_up(dbus);
	probe.bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	g_assert_no_error(error);

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_subprocess_launcher_set_stderr_file_path(launcher, err_path);
	for (guint i = 0; i < 4; i++) {
		static const gchar *vars[] = {"XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
					      "HOME"};
		g_autofree gchar *dir = g_build_filename(tmp, vars[i], NULL);

		g_mkdir_with_parents(dir, 0700);
		g_subprocess_launcher_setenv(launcher, vars[i], dir, TRUE);
	}
	if (display != NULL)
		g_subprocess_launcher_setenv(launcher, "DISPLAY", display, TRUE);
	if (wayland != NULL)
		g_subprocess_launcher_setenv(launcher, "WAYLAND_DISPLAY", wayland, TRUE);
	g_subprocess_launcher_setenv(launcher, "G_DEBUG", "fatal-criticals", TRUE);
	/* a private bus has no accessibility bus to activate, unlike a desktop session */
	g_subprocess_launcher_setenv(launcher, "GTK_A11Y", "none", TRUE);
	g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS",
				     g_test_dbus_get_bus_address(dbus), TRUE);
	g_subprocess_launcher_unsetenv(launcher, "OSC_API_KEY");
	/* the KDF is not what is tested here */
	g_subprocess_launcher_setenv(launcher, "OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	proc = g_subprocess_launcher_spawn(launcher, &error, app, NULL);
	g_assert_no_error(error);
	g_subprocess_wait_async(proc, NULL, wait_cb, &exited);

	/* the window opens, on the local server, which made its store in the XDG data dir */
	poll_until(window_open, &probe, 60000);
	g_assert_false(exited);
	db = g_build_filename(tmp, "XDG_DATA_HOME", "opensecureconf", "configurations.db", NULL);
	poll_until(file_exists, db, 30000);
	/* let it load and draw */
	{
		gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;

		while (g_get_monotonic_time() < end && !exited)
			g_main_context_iteration(NULL, FALSE);
	}
	g_assert_false(exited);

	/* app.quit, as `gapplication action org.opensecureconf.Admin quit` sends it */
	unused = g_dbus_connection_call_sync(probe.bus, APP_ID, APP_PATH, "org.gtk.Actions",
					     "Activate",
					     g_variant_new("(sava{sv})", "quit", NULL, NULL), NULL,
					     G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
	g_assert_no_error(error);
	osc_test_wait_until(is_true, &exited, 30000);
	g_assert_true(g_subprocess_get_if_exited(proc));

	g_assert_true(g_file_get_contents(err_path, &stderr_text, NULL, &error));
	g_assert_no_error(error);
	g_test_message("stderr:\n%s", stderr_text);
	lines = g_strsplit(stderr_text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_assert_null(strstr(lines[i], "CRITICAL"));
		g_assert_null(strstr(lines[i], "ERROR"));
		g_assert_null(strstr(lines[i], "WARNING"));
	}
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);

	g_clear_object(&probe.bus);
	g_test_dbus_down(dbus);
	osc_test_rm_rf(tmp);
}

/* --headless: only the embedded server, no display needed, until SIGTERM */
static void
test_headless(void)
{
	g_autofree gchar *tmp = osc_test_make_tmpdir();
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(SoupSession) session = osc_test_session_new();
	g_autoptr(OscTestResponse) resp = NULL;
	g_autofree gchar *line = NULL;
	g_autofree gchar *key_line = NULL;
	g_autofree gchar *url = NULL;
	const gchar *key;
	gboolean exited = FALSE;

	g_subprocess_launcher_setenv(launcher, "XDG_DATA_HOME", tmp, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST_PORT", "0", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	g_subprocess_launcher_unsetenv(launcher, "OSC_API_KEY");
	g_subprocess_launcher_unsetenv(launcher, "DISPLAY");
	g_subprocess_launcher_unsetenv(launcher, "WAYLAND_DISPLAY");
	proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("OSC_APP_PATH"), "--headless",
					   NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
	line = g_data_input_stream_read_line_utf8(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(line);
	g_assert_nonnull(strstr(line, "http://127.0.0.1:"));
	url = g_strdup(strstr(line, "http://"));
	key_line = g_data_input_stream_read_line_utf8(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(key_line);
	key = strrchr(key_line, ' ');
	g_assert_nonnull(key);
	key++;
	g_assert_cmpuint(strlen(key), ==, 64);

	/* open routes answer; the rest needs the printed API key */
	{
		g_autofree gchar *health = g_strconcat(url, "/health", NULL);
		g_autofree gchar *configs = g_strconcat(url, "/configs", NULL);

		resp = osc_test_http(session, "GET", health, NULL, NULL, NULL);
		g_assert_cmpuint(resp->status, ==, 200);
		g_clear_pointer(&resp, osc_test_response_free);
		resp = osc_test_http(session, "GET", configs, NULL, "X-User-Key", "user-key-123",
				     NULL);
		g_assert_cmpuint(resp->status, ==, 403);
		g_clear_pointer(&resp, osc_test_response_free);
		resp = osc_test_http(session, "GET", configs, NULL, "X-User-Key", "user-key-123",
				     "X-API-Key", key, NULL);
		g_assert_cmpuint(resp->status, ==, 200);
	}

	g_subprocess_send_signal(proc, SIGTERM);
	g_subprocess_wait_async(proc, NULL, wait_cb, &exited);
	poll_until(is_true, &exited, 30000);
	g_assert_true(g_subprocess_get_if_exited(proc));
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
	osc_test_rm_rf(tmp);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/osc/app/launch", test_launch);
	g_test_add_func("/osc/app/headless", test_headless);
	return g_test_run();
}
