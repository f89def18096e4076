/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "oscd"

#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "osc-config.h"
#include "osc-daemon.h"
#include "osc-log.h"
#include "osc-service.h"

/* how long in-flight requests may take to finish after SIGTERM */
#define OSCD_DRAIN_TIMEOUT_MS 10000

typedef enum {
	OSCD_BUS_AUTO,
	OSCD_BUS_NONE,
	OSCD_BUS_SESSION,
	OSCD_BUS_SYSTEM,
} OscdBus;

typedef struct {
	GMainLoop *loop;
	OscService *service;
	OscDaemon *daemon;
	OscdBus bus_option;
	GBusType bus_type;
	guint owner_id;
	gboolean exported;
	gboolean owned;
	gboolean ready;
	gboolean stopping;
	gint exit_code;
} OscdState;

static void
oscd_notify(const gchar *state)
{
	g_autoptr(GError) error = NULL;

	if (!osc_daemon_sd_notify(state, &error))
		g_warning("sd_notify: %s", error->message);
}

/* READY=1 once: after listening and after the bus name is ours (or given up on) */
static void
oscd_ready(OscdState *state)
{
	g_autoptr(GPtrArray) uris = NULL;
	g_autofree gchar *first = NULL;
	g_autofree gchar *text = NULL;

	if (state->ready || state->stopping)
		return;
	state->ready = TRUE;
	uris = osc_service_get_uris(state->service);
	if (uris->len > 0)
		first = g_uri_to_string(g_ptr_array_index(uris, 0));
	text = g_strdup_printf("READY=1\nSTATUS=Serving %" G_GINT64_FORMAT " entries on %s%s",
			       osc_service_get_entry_count(state->service),
			       first != NULL ? first : "(nothing)",
			       state->owned ? ", D-Bus " OSC_DAEMON_BUS_NAME : "");
	oscd_notify(text);
}

static void oscd_begin_stop(OscdState *state);

static void
oscd_bus_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	OscdState *state = user_data;
	g_autoptr(GError) error = NULL;

	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(state->daemon), connection,
					      OSC_DAEMON_OBJECT_PATH, &error)) {
		g_warning("cannot export %s on D-Bus: %s", OSC_DAEMON_OBJECT_PATH, error->message);
		return;
	}
	state->exported = TRUE;
}

static void
oscd_name_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	OscdState *state = user_data;

	state->owned = TRUE;
	g_message("D-Bus: %s on the %s bus", name,
		  state->bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session");
	oscd_ready(state);
}

static void
oscd_name_lost_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	OscdState *state = user_data;
	const gchar *bus = state->bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session";

	/* the object stays exported on our unique name: harmless, and the name comes back to
	 * us when its owner goes (we wait in the queue) */
	state->owned = FALSE;
	if (state->stopping)
		return;
	if (state->bus_option != OSCD_BUS_AUTO && !state->ready) {
		/* asked for explicitly: running without it would hide a broken setup */
		g_printerr("oscd: cannot own %s on the %s bus%s\n", name, bus,
			   connection == NULL ? " (no connection)" : "");
		g_critical("cannot own %s on the %s bus", name, bus);
		state->exit_code = 1;
		oscd_begin_stop(state);
		return;
	}
	if (connection == NULL)
		g_warning("D-Bus: the %s bus is not reachable; serving HTTP without it", bus);
	else
		g_warning("D-Bus: %s on the %s bus is not ours (queued for it); serving HTTP "
			  "without it",
			  name, bus);
	oscd_ready(state);
}

/*
 * Which bus: what --bus says; else the system bus when run as a system service, which is
 * when systemd waits for our READY=1 ($NOTIFY_SOCKET) or started us as root
 * ($INVOCATION_ID and uid 0); else the session bus, if there is one to connect to.
 * Returns FALSE when there is no bus to use.
 */
static gboolean
oscd_pick_bus(OscdState *state)
{
	const gchar *runtime_dir = g_getenv("XDG_RUNTIME_DIR");
	g_autofree gchar *socket = NULL;

	switch (state->bus_option) {
	case OSCD_BUS_NONE:
		return FALSE;
	case OSCD_BUS_SESSION:
		state->bus_type = G_BUS_TYPE_SESSION;
		return TRUE;
	case OSCD_BUS_SYSTEM:
		state->bus_type = G_BUS_TYPE_SYSTEM;
		return TRUE;
	case OSCD_BUS_AUTO:
	default:
		break;
	}
	if (g_getenv("NOTIFY_SOCKET") != NULL ||
	    (getuid() == 0 && g_getenv("INVOCATION_ID") != NULL)) {
		state->bus_type = G_BUS_TYPE_SYSTEM;
		return TRUE;
	}
	state->bus_type = G_BUS_TYPE_SESSION;
	/* no autolaunch of a bus nobody will use: only an announced or a standard one */
	if (g_getenv("DBUS_SESSION_BUS_ADDRESS") != NULL)
		return TRUE;
	if (runtime_dir != NULL) {
		socket = g_build_filename(runtime_dir, "bus", NULL);
		if (g_file_test(socket, G_FILE_TEST_EXISTS))
			return TRUE;
	}
	g_message("D-Bus: no session bus; serving HTTP only (oscd --bus=session to insist)");
	return FALSE;
}

static gboolean
oscd_parse_bus(const gchar *text, OscdBus *bus, GError **error)
{
	if (text == NULL)
		*bus = OSCD_BUS_AUTO;
	else if (g_str_equal(text, "none"))
		*bus = OSCD_BUS_NONE;
	else if (g_str_equal(text, "session"))
		*bus = OSCD_BUS_SESSION;
	else if (g_str_equal(text, "system"))
		*bus = OSCD_BUS_SYSTEM;
	else {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--bus: '%s' is not one of none, session, system", text);
		return FALSE;
	}
	return TRUE;
}

static void
oscd_stop_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OscdState *state = user_data;
	g_autoptr(GError) error = NULL;

	if (!osc_service_stop_finish(OSC_SERVICE(source), result, &error)) {
		g_warning("shutdown: %s", error->message);
		state->exit_code = 1;
	}
	g_message("stopped");
	g_main_loop_quit(state->loop);
}

static void
oscd_begin_stop(OscdState *state)
{
	state->stopping = TRUE;
	oscd_notify("STOPPING=1\nSTATUS=Finishing in-flight requests");
	if (state->daemon != NULL)
		osc_daemon_shutdown(state->daemon);
	if (state->owner_id != 0) {
		g_bus_unown_name(state->owner_id);
		state->owner_id = 0;
	}
	if (state->exported) {
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(state->daemon));
		state->exported = FALSE;
	}
	osc_service_stop_async(state->service, OSCD_DRAIN_TIMEOUT_MS, NULL, oscd_stop_cb, state);
}

static gboolean
oscd_signal_cb(gpointer user_data)
{
	OscdState *state = user_data;

	if (state->stopping) {
		/* a second signal: stop waiting for slow requests */
		g_message("second signal, exiting now");
		state->exit_code = 1;
		g_main_loop_quit(state->loop);
		return G_SOURCE_CONTINUE;
	}
	g_message("shutting down: finishing in-flight requests");
	oscd_begin_stop(state);
	return G_SOURCE_CONTINUE;
}

static void
oscd_print_banner(OscService *service)
{
	const OscConfig *config = osc_service_get_config(service);
	g_autoptr(GPtrArray) uris = osc_service_get_uris(service);
	g_autofree gchar *first = NULL;

	/* to stdout for the person who started it; the log gets the same as records */
	g_print("OpenSecureConf %s (oscd, API %s)\n", PACKAGE_VERSION, OSC_COMPAT_VERSION);
	for (guint i = 0; i < uris->len; i++) {
		g_autofree gchar *uri = g_uri_to_string(g_ptr_array_index(uris, i));
		g_print("  listening on %s\n", uri);
	}
	g_print("  database:    %s\n", config->database_path);
	g_print("  salt:        %s%s\n", config->salt_file_path,
		osc_service_get_salt_created(service) ? " (created)" : "");
	g_print("  entries:     %" G_GINT64_FORMAT "\n", osc_service_get_entry_count(service));
	g_print("  API key:     %s\n", config->api_key_required ? "required (X-API-Key)" : "off");
	if (uris->len > 0) {
		first = g_uri_to_string(g_ptr_array_index(uris, 0));
		if (g_str_has_suffix(first, "/"))
			first[strlen(first) - 1] = '\0';
		g_print("  try:         curl %s/health\n", first);
	}
	g_print("Stop with Ctrl+C (SIGINT) or SIGTERM.\n");
}

/*
 * Every connection, event streams included, holds a descriptor, and the usual soft limit
 * (1024, systemd's default for services too) would cap oscd far below OSC_MAX_CONNECTIONS:
 * take what the hard limit allows, as systemd recommends for such services.
 */
static void
oscd_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : MIN(rl.rlim_max, 1048576);
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

int
main(int argc, char **argv)
{
	g_autofree gchar *config_path = NULL;
	g_autofree gchar *bus_text = NULL;
	g_autoptr(OscDaemon) daemon = NULL;
	gboolean version = FALSE;
	gboolean quiet = FALSE;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfig) config = osc_config_new();
	g_autoptr(GMainLoop) loop = NULL;
	g_autoptr(OscService) service = NULL;
	OscdState state = {0};
	const GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
	     "Read settings from a keyfile ([oscd] group; the environment still wins)", "FILE"},
	    {"bus", 0, 0, G_OPTION_ARG_STRING, &bus_text,
	     "Where to offer org.opensecureconf.Server1: none, session or system (default: the "
	     "system bus when run as a system service, else the session bus if there is one)",
	     "BUS"},
	    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Do not print the start-up summary",
	     NULL},
	    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
	    G_OPTION_ENTRY_NULL,
	};

	setlocale(LC_ALL, "");
	/* glibc hands freed memory back to the kernel after every transaction's frees
	 * (heap_trim → madvise), 8–12 % of a durable create; keep up to 64 MiB instead */
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	/* a core dump would hold derived keys and plaintext values */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	oscd_raise_fd_limit();

	context = g_option_context_new("— OpenSecureConf server");
	g_option_context_set_summary(
	    context, "Serves encrypted configurations over HTTP(S). Configured by the OSC_*\n"
		     "environment variables (OSC_HOST, OSC_HOST_PORT, OSC_DATABASE_PATH,\n"
		     "OSC_SALT_FILE_PATH, OSC_API_KEY_REQUIRED, OSC_API_KEY, OSC_HTTPS_ENABLED, …)\n"
		     "or a keyfile given with --config.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("oscd: %s\n", error->message);
		g_printerr("Try 'oscd --help'.\n");
		return 2;
	}
	if (!oscd_parse_bus(bus_text, &state.bus_option, &error)) {
		g_printerr("oscd: %s\n", error->message);
		g_printerr("Try 'oscd --help'.\n");
		return 2;
	}
	if (version) {
		g_print("oscd %s (OpenSecureConf API %s)\n", PACKAGE_VERSION, OSC_COMPAT_VERSION);
		return 0;
	}
	if (config_path != NULL && !osc_config_load_keyfile(config, config_path, &error)) {
		g_printerr("oscd: %s\n", error->message);
		return 1;
	}
	if (!osc_config_load_environ(config, NULL, &error)) {
		g_printerr("oscd: %s\n", error->message);
		return 1;
	}
	if (!osc_log_setup(config->log_level, config->log_format, config->log_file, &error)) {
		g_printerr("oscd: %s\n", error->message);
		return 1;
	}

	service = osc_service_new(config, &error);
	if (service == NULL || !osc_service_start(service, &error)) {
		g_printerr("oscd: %s\n", error->message);
		g_critical("cannot start: %s", error->message);
		return 1;
	}
	if (!quiet)
		oscd_print_banner(service);
	g_message("started (database %s)", config->database_path);

	loop = g_main_loop_new(NULL, FALSE);
	state.loop = loop;
	state.service = service;
	g_unix_signal_add(SIGTERM, oscd_signal_cb, &state);
	g_unix_signal_add(SIGINT, oscd_signal_cb, &state);

	daemon = osc_daemon_new(service, config_path);
	state.daemon = daemon;
	if (oscd_pick_bus(&state)) {
		state.owner_id = g_bus_own_name(state.bus_type, OSC_DAEMON_BUS_NAME,
						G_BUS_NAME_OWNER_FLAGS_NONE,
						oscd_bus_acquired_cb, oscd_name_acquired_cb,
						oscd_name_lost_cb, &state, NULL);
	} else {
		oscd_ready(&state);
	}
	g_main_loop_run(loop);
	if (state.owner_id != 0)
		g_bus_unown_name(state.owner_id);
	osc_log_flush();
	return state.exit_code;
}
