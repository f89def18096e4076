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

#include "osc-config.h"
#include "osc-log.h"
#include "osc-service.h"

/* how long in-flight requests may take to finish after SIGTERM */
#define OSCD_DRAIN_TIMEOUT_MS 10000

typedef struct {
	GMainLoop *loop;
	OscService *service;
	gboolean stopping;
	gint exit_code;
} OscdState;

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
	state->stopping = TRUE;
	g_message("shutting down: finishing in-flight requests");
	osc_service_stop_async(state->service, OSCD_DRAIN_TIMEOUT_MS, NULL, oscd_stop_cb, state);
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

int
main(int argc, char **argv)
{
	g_autofree gchar *config_path = NULL;
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
	g_main_loop_run(loop);
	osc_log_flush();
	return state.exit_code;
}
