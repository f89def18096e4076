/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "bench-app-list"

#include "config.h"

#include <adwaita.h>
#include <stdlib.h>
#include <string.h>

#include "osc-application-private.h"
#include "osc-crypto.h"
#include "osc-keyring.h"
#include "osc-service.h"
#include "osc-test-utils.h"
#include "osc-window-private.h"

/*
 * The admin app with N entries (default 100,000) on its local server, under a display:
 *   load        from activation to the store holding every entry (list call + chunks)
 *   first paint from activation to the first frame painted with the list shown
 *   scroll      per-frame work (update → after-paint of the frame clock) while the list
 *               scrolls half a page per frame, and the interval between frames
 * Run: xvfb-run -a _build/tests/bench/bench-app-list [N]
 * The entries are written straight into the store in one transaction, encrypted with the
 * user key the app then finds in a file-backed keyring (libsecret's test backend).
 */

#define USER_KEY "bench-user-key-0123456789"
#define SCROLL_FRAMES 300

static gint64 t0, t_loaded, t_first_paint, frame_start;
static GArray *work_us, *interval_us;
static gint64 last_frame_time;
static gboolean done;

static gboolean
is_true(gpointer data)
{
	return *(gboolean *)data;
}

static void
stored_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	if (!osc_keyring_store_finish(result, &error))
		g_error("keyring: %s", error->message);
	*(gboolean *)user_data = TRUE;
}

static void
populate(const gchar *data_dir, guint n)
{
	g_autoptr(OscConfig) config = osc_test_config_new(data_dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(OscService) service = NULL;
	g_autoptr(OscDerivedKey) dk = NULL;
	OscStoreImportOp *ops = g_new0(OscStoreImportOp, n);
	gchar **keys = g_new0(gchar *, n + 1);
	gchar **tokens = g_new0(gchar *, n + 1);
	static const gchar *envs[] = {"production", "staging", "development", "testing"};
	static const gchar *cats[] = {"database", "cache", "api", "feature", NULL};
	gint64 t = g_get_monotonic_time();

	service = osc_service_new(config, &error);
	g_assert_no_error(error);
	dk = osc_key_cache_derive(osc_service_get_key_cache(service), USER_KEY, strlen(USER_KEY),
				  NULL, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *value = g_strdup_printf(
		    "{\"host\":\"db-%u.internal\",\"port\":%u,\"pool\":{\"min\":2,\"max\":20}}", i,
		    5000 + i % 1000);

		keys[i] = g_strdup_printf("service-%06u.setting", i);
		tokens[i] = osc_fernet_encrypt(osc_derived_key_get_bytes(dk), (const guint8 *)value,
					       strlen(value), g_get_real_time() / G_USEC_PER_SEC,
					       NULL, &error);
		g_assert_no_error(error);
		ops[i].key = keys[i];
		ops[i].environment = envs[i % G_N_ELEMENTS(envs)];
		ops[i].category = cats[i % G_N_ELEMENTS(cats)];
		ops[i].token = tokens[i];
		ops[i].fingerprint = osc_derived_key_get_fingerprint(dk);
	}
	g_assert_true(osc_store_import(osc_service_get_store(service), ops, n, NULL, NULL, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < n; i++) {
		g_clear_pointer(&ops[i].row, osc_entry_row_free);
		g_free(ops[i].error);
	}
	g_free(ops);
	g_strfreev(keys);
	g_strfreev(tokens);
	g_print("populate   %u entries in %.1f s\n", n,
		(g_get_monotonic_time() - t) / 1e6);
}

static void
update_cb(GdkFrameClock *clock, gpointer user_data)
{
	frame_start = g_get_monotonic_time();
}

static gint
cmp_gint64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

	return (x > y) - (x < y);
}

static void
print_stats(const gchar *name, GArray *values)
{
	g_array_sort(values, cmp_gint64);
	g_print("%-11s median %.1f ms, p95 %.1f ms, max %.1f ms (%u frames)\n", name,
		g_array_index(values, gint64, values->len / 2) / 1e3,
		g_array_index(values, gint64, values->len * 95 / 100) / 1e3,
		g_array_index(values, gint64, values->len - 1) / 1e3, values->len);
}

static void
after_paint_cb(GdkFrameClock *clock, gpointer user_data)
{
	OscWindow *window = user_data;
	gint64 now = g_get_monotonic_time();
	GtkAdjustment *adj;

	if (t_first_paint == 0) {
		if (t_loaded == 0 || g_strcmp0(gtk_stack_get_visible_child_name(window->content_stack),
					       "list") != 0)
			return;
		t_first_paint = now;
		last_frame_time = gdk_frame_clock_get_frame_time(clock);
		return;
	}
	if (done)
		return;
	g_array_append_val(work_us, (gint64){now - frame_start});
	g_array_append_val(interval_us,
			   (gint64){gdk_frame_clock_get_frame_time(clock) - last_frame_time});
	last_frame_time = gdk_frame_clock_get_frame_time(clock);
	if (work_us->len >= SCROLL_FRAMES) {
		done = TRUE;
		return;
	}
	adj = gtk_scrollable_get_vadjustment(GTK_SCROLLABLE(window->column_view));
	gtk_adjustment_set_value(adj, gtk_adjustment_get_value(adj) +
					  gtk_adjustment_get_page_size(adj) / 2);
	gtk_widget_queue_draw(GTK_WIDGET(window->column_view));
}

static gboolean
loaded(gpointer data)
{
	OscWindow *window = data;

	if (window->client == NULL || osc_entry_store_get_loading(window->store))
		return FALSE;
	return g_list_model_get_n_items(osc_entry_store_get_entries(window->store)) > 0;
}

static gboolean
first_painted(gpointer data)
{
	return t_first_paint != 0;
}

static gboolean
tick_cb(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char *argv[])
{
	guint n = argc > 1 ? (guint)strtoul(argv[1], NULL, 10) : 100000;
	g_autofree gchar *tmp = g_dir_make_tmp("osc-bench-app-XXXXXX", NULL);
	g_autofree gchar *data_dir = NULL;
	g_autofree gchar *secrets = NULL;
	g_autofree gchar *display = g_strdup(g_getenv("DISPLAY"));
	g_autoptr(GTestDBus) dbus = NULL;
	g_autoptr(OscApplication) app = NULL;
	OscWindow *window;
	GdkFrameClock *clock;
	gboolean stored = FALSE;
	guint tick;

	for (guint i = 0; i < 4; i++) {
		static const gchar *vars[] = {"XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
					      "HOME"};
		g_autofree gchar *dir = g_build_filename(tmp, vars[i], NULL);

		g_mkdir_with_parents(dir, 0700);
		g_setenv(vars[i], dir, TRUE);
	}
	secrets = g_build_filename(tmp, "secrets", NULL);
	g_setenv("SECRET_BACKEND", "file", TRUE);
	g_setenv("SECRET_FILE_TEST_PATH", secrets, TRUE);
	g_setenv("SECRET_FILE_TEST_PASSWORD", "bench", TRUE);
	g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
	g_setenv("OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	g_setenv("GTK_A11Y", "none", TRUE);
	/* a private bus for the application's name; GTestDBus drops DISPLAY, put it back */
	dbus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(dbus);
	if (display != NULL)
		g_setenv("DISPLAY", display, TRUE);

	data_dir = g_build_filename(tmp, "XDG_DATA_HOME", "opensecureconf", NULL);
	g_mkdir_with_parents(data_dir, 0700);
	populate(data_dir, n);
	osc_keyring_store_async(OSC_CONNECTION_LOCAL_ID, OSC_KEYRING_USER_KEY, "bench", USER_KEY,
				NULL, stored_cb, &stored);
	osc_test_wait_until(is_true, &stored, 10000);

	work_us = g_array_new(FALSE, FALSE, sizeof(gint64));
	interval_us = g_array_new(FALSE, FALSE, sizeof(gint64));
	app = osc_application_new("org.opensecureconf.Admin.Bench", G_APPLICATION_NON_UNIQUE);
	g_assert_true(g_application_register(G_APPLICATION(app), NULL, NULL));
	t0 = g_get_monotonic_time();
	g_application_activate(G_APPLICATION(app));
	window = OSC_WINDOW(gtk_application_get_active_window(GTK_APPLICATION(app)));
	tick = g_timeout_add(5, tick_cb, NULL);
	gtk_widget_realize(GTK_WIDGET(window));
	clock = gtk_widget_get_frame_clock(GTK_WIDGET(window));
	g_signal_connect(clock, "update", G_CALLBACK(update_cb), NULL);
	g_signal_connect(clock, "after-paint", G_CALLBACK(after_paint_cb), window);
	osc_test_wait_until(loaded, window, 600000);
	t_loaded = g_get_monotonic_time();
	gtk_widget_queue_draw(GTK_WIDGET(window));
	osc_test_wait_until(first_painted, NULL, 60000);
	g_print("load       %.2f s for %u entries (list call and store)\n", (t_loaded - t0) / 1e6,
		g_list_model_get_n_items(osc_entry_store_get_entries(window->store)));
	g_print("first paint %.2f s after activation\n", (t_first_paint - t0) / 1e6);
	osc_test_wait_until(is_true, &done, 600000);
	g_source_remove(tick);
	print_stats("frame work", work_us);
	print_stats("interval", interval_us);

	g_test_dbus_stop(dbus);
	osc_test_rm_rf(tmp);
	/* the process ends here: the application and its server go with it */
	exit(0);
}
