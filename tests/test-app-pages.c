/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <adwaita.h>

#include "libosc-client.h"
#include "osc-chart.h"
#include "osc-metrics.h"
#include "osc-pages-private.h"
#include "osc-pages.h"
#include "osc-test-utils.h"

/*
 * The app's pages and dialogs in a real window (suite "ui", under xvfb-run), each against
 * an in-process OscService holding a few entries: wait for the load, check what is shown,
 * and save a screenshot of each into the build directory.
 */

#define KEY  "user-key-alpha-123"
#define KEY2 "user-key-bravo-456"

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	gchar *base;
	OscClient *client;
	GtkWidget *window;
	GAsyncResult *result;
} Fixture;

static void
result_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	((Fixture *)user_data)->result = g_object_ref(result);
}

static gboolean
have_result(gpointer data)
{
	return ((Fixture *)data)->result != NULL;
}

static GAsyncResult *
take_result(Fixture *f)
{
	osc_test_wait_until(have_result, f, 20000);
	return g_steal_pointer(&f->result);
}

static void
create_entry(Fixture *f, const gchar *key, const gchar *env, const gchar *category,
	     const gchar *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) value = json_from_string(json, &error);
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(OscConfigEntry) entry = NULL;

	g_assert_no_error(error);
	osc_client_create_async(f->client, key, env, value, category, NULL, result_cb, f);
	res = take_result(f);
	entry = osc_client_create_finish(f->client, res, &error);
	g_assert_no_error(error);
	g_assert_nonnull(entry);
}

static void
update_entry(Fixture *f, const gchar *key, const gchar *env, const gchar *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) value = json_from_string(json, &error);
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(OscConfigEntry) entry = NULL;

	g_assert_no_error(error);
	osc_client_update_async(f->client, key, env, value, NULL, NULL, NULL, result_cb, f);
	res = take_result(f);
	entry = osc_client_update_finish(f->client, res, &error);
	g_assert_no_error(error);
	g_assert_nonnull(entry);
}

static OscConfigEntry *
read_entry(Fixture *f, OscClient *client, const gchar *key, const gchar *env, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;

	osc_client_read_async(client, key, env, FALSE, NULL, result_cb, f);
	res = take_result(f);
	return osc_client_read_finish(client, res, error);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->service = osc_test_service_new(f->config);
	f->base = osc_test_service_base_url(f->service);
	f->client = g_object_new(OSC_TYPE_CLIENT, "base-url", f->base, "user-key", KEY, "timeout",
				 20, "backoff-factor", 0.01, NULL);
	create_entry(f, "database", "production", "database", "{\"host\":\"db1\",\"port\":5432}");
	create_entry(f, "database", "staging", "database", "{\"host\":\"db2\",\"port\":5432}");
	create_entry(f, "cache", "production", "cache", "{\"ttl\":300}");
	create_entry(f, "feature", "production", NULL, "true");
	create_entry(f, "replicas", "development", "cluster", "3");
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	if (f->window != NULL) {
		/* a focused GtkText in a window going away warns about a missing focus-out */
		gtk_window_set_focus(GTK_WINDOW(f->window), NULL);
		gtk_window_destroy(GTK_WINDOW(f->window));
	}
	g_clear_object(&f->client);
	g_clear_object(&f->service);
	g_clear_pointer(&f->config, osc_config_free);
	g_free(f->base);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

static void
show_in_window(Fixture *f, GtkWidget *page, const gchar *title)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *header = adw_header_bar_new();

	adw_header_bar_set_title_widget(ADW_HEADER_BAR(header), adw_window_title_new(title, NULL));
	gtk_box_append(GTK_BOX(box), header);
	gtk_widget_set_vexpand(page, TRUE);
	gtk_box_append(GTK_BOX(box), page);
	/* the window's background, also in a screenshot of its content */
	gtk_widget_add_css_class(box, "background");
	f->window = adw_window_new();
	gtk_window_set_default_size(GTK_WINDOW(f->window), 760, 860);
	adw_window_set_content(ADW_WINDOW(f->window), box);
	gtk_window_present(GTK_WINDOW(f->window));
}

typedef struct {
	GtkWidget *page;
	const gchar *want;
} StateWait;

static gboolean
state_is(gpointer data)
{
	StateWait *w = data;

	return g_strcmp0(osc_pages_get_state(w->page), w->want) == 0;
}

static void
wait_state(GtkWidget *page, const gchar *want)
{
	StateWait w = {page, want};

	osc_test_wait_until(state_is, &w, 20000);
}

static gboolean
timeout_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* lets layout and drawing catch up */
static void
run_for(guint ms)
{
	gboolean done = FALSE;

	g_timeout_add(ms, timeout_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

static void
save_screenshot(GtkWidget *widget, const gchar *name)
{
	g_autoptr(GdkPaintable) paintable = NULL;
	g_autoptr(GtkSnapshot) snapshot = NULL;
	g_autoptr(GskRenderNode) node = NULL;
	g_autoptr(GdkTexture) texture = NULL;
	g_autofree gchar *path = NULL;
	gint w, h;

	run_for(300);
	if (ADW_IS_WINDOW(widget))
		widget = adw_window_get_content(ADW_WINDOW(widget));
	w = gtk_widget_get_width(widget);
	h = gtk_widget_get_height(widget);
	g_assert_cmpint(w, >, 0);
	paintable = gtk_widget_paintable_new(widget);
	snapshot = gtk_snapshot_new();
	gdk_paintable_snapshot(paintable, GDK_SNAPSHOT(snapshot), w, h);
	node = gtk_snapshot_free_to_node(g_steal_pointer(&snapshot));
	g_assert_nonnull(node);
	texture =
		gsk_renderer_render_texture(gtk_native_get_renderer(gtk_widget_get_native(widget)),
					    node, &GRAPHENE_RECT_INIT(0, 0, w, h));
	path = g_build_filename(g_getenv("G_TEST_BUILDDIR") != NULL ? g_getenv("G_TEST_BUILDDIR")
								    : ".",
				name, NULL);
	g_assert_true(gdk_texture_save_to_png(texture, path));
	g_test_message("screenshot: %s", path);
}

/* ---- accessibility: every interactive widget has a name ---- */

static gboolean
has_text_descendant(GtkWidget *w)
{
	if (GTK_IS_LABEL(w) && gtk_label_get_text(GTK_LABEL(w))[0] != '\0')
		return TRUE;
	for (GtkWidget *c = gtk_widget_get_first_child(w); c != NULL;
	     c = gtk_widget_get_next_sibling(c))
		if (has_text_descendant(c))
			return TRUE;
	return FALSE;
}

static gboolean
has_titled_row_ancestor(GtkWidget *w)
{
	GtkWidget *row = gtk_widget_get_ancestor(w, ADW_TYPE_PREFERENCES_ROW);

	return row != NULL && adw_preferences_row_get_title(ADW_PREFERENCES_ROW(row))[0] != '\0';
}

/*
 * GTK 4.8 has no getter for accessible properties, so a widget counts as named when the
 * name GTK derives for it is visible: a label or tooltip, a text child, or the title of the
 * row it sits in (AdwActionRow's activatable widget, AdwEntryRow's text).
 */
static gboolean
is_named(GtkWidget *w)
{
	const gchar *tooltip = gtk_widget_get_tooltip_text(w);

	if (tooltip != NULL && tooltip[0] != '\0')
		return TRUE;
	if (GTK_IS_BUTTON(w) && gtk_button_get_label(GTK_BUTTON(w)) != NULL)
		return TRUE;
	if (ADW_IS_PREFERENCES_ROW(w))
		return adw_preferences_row_get_title(ADW_PREFERENCES_ROW(w))[0] != '\0';
	return has_text_descendant(w) || has_titled_row_ancestor(w);
}

static void
collect_unnamed(GtkWidget *w, GString *out)
{
	gboolean interactive =
		GTK_IS_BUTTON(w) || GTK_IS_SWITCH(w) || GTK_IS_TEXT(w) || GTK_IS_DROP_DOWN(w) ||
		GTK_IS_CHECK_BUTTON(w) ||
		(GTK_IS_LIST_BOX_ROW(w) && gtk_list_box_row_get_activatable(GTK_LIST_BOX_ROW(w)) &&
		 gtk_widget_get_sensitive(w));

	/* GTK's own window buttons carry accessible labels set in code */
	if (!gtk_widget_get_visible(w) || GTK_IS_WINDOW_CONTROLS(w))
		return;
	if (interactive && !is_named(w))
		g_string_append_printf(out, "%s ", G_OBJECT_TYPE_NAME(w));
	for (GtkWidget *c = gtk_widget_get_first_child(w); c != NULL;
	     c = gtk_widget_get_next_sibling(c))
		collect_unnamed(c, out);
}

static void
assert_all_named(GtkWidget *root)
{
	g_autoptr(GString) out = g_string_new(NULL);

	collect_unnamed(root, out);
	g_assert_cmpstr(out->str, ==, "");
}

/* ---- pages ---- */

static void
test_empty(Fixture *f, gconstpointer data)
{
	GtkWidget *page = osc_dashboard_page_new(NULL);

	show_in_window(f, page, "Dashboard");
	g_assert_cmpstr(osc_pages_get_state(page), ==, "empty");
	/* a client makes it load, taking it away empties it again */
	osc_dashboard_page_set_client(OSC_DASHBOARD_PAGE(page), f->client);
	wait_state(page, "content");
	osc_dashboard_page_set_client(OSC_DASHBOARD_PAGE(page), NULL);
	g_assert_cmpstr(osc_pages_get_state(page), ==, "empty");
}

static void
test_dashboard(Fixture *f, gconstpointer data)
{
	GtkWidget *page = osc_dashboard_page_new(f->client);

	show_in_window(f, page, "Dashboard");
	wait_state(page, "content");
	g_assert_cmpstr(osc_dashboard_page_get_total_text(OSC_DASHBOARD_PAGE(page)), ==, "5");
	/* database, cache, uncategorized, cluster */
	g_assert_cmpuint(osc_dashboard_page_get_n_categories_shown(OSC_DASHBOARD_PAGE(page)), ==,
			 4);
	g_assert_cmpstr(osc_dashboard_page_get_cluster_text(OSC_DASHBOARD_PAGE(page)), ==, "Off");
	save_screenshot(f->window, "page-dashboard.png");
	assert_all_named(f->window);

	/* a refresh shows a new entry */
	create_entry(f, "extra", "staging", "cache", "1");
	osc_dashboard_page_reload(OSC_DASHBOARD_PAGE(page));
	wait_state(page, "content");
	while (g_strcmp0(osc_dashboard_page_get_total_text(OSC_DASHBOARD_PAGE(page)), "6") != 0)
		g_main_context_iteration(NULL, TRUE);
}

static void
test_dashboard_error(Fixture *f, gconstpointer data)
{
	g_autoptr(OscClient) bad = g_object_new(OSC_TYPE_CLIENT, "base-url", f->base, "user-key",
						"short", "timeout", 5, NULL);
	GtkWidget *page = osc_dashboard_page_new(bad);

	show_in_window(f, page, "Dashboard");
	wait_state(page, "error");
	assert_all_named(f->window);
}

static void
test_charts(Fixture *f, gconstpointer data)
{
	GtkWidget *page = osc_charts_page_new(f->client);
	OscChart *by_cat, *by_env, *matrix;
	g_autofree gchar *label0 = NULL;
	g_autofree gchar *desc = NULL;
	gdouble sum = 0;

	show_in_window(f, page, "Charts");
	wait_state(page, "content");
	by_cat = OSC_CHART(osc_charts_page_get_chart(OSC_CHARTS_PAGE(page), 0));
	by_env = OSC_CHART(osc_charts_page_get_chart(OSC_CHARTS_PAGE(page), 1));
	matrix = OSC_CHART(osc_charts_page_get_chart(OSC_CHARTS_PAGE(page), 2));
	/* the server's order: first appearance */
	g_assert_cmpuint(osc_chart_get_n_values(by_cat), ==, 4);
	label0 = osc_chart_dup_label(by_cat, 0);
	g_assert_cmpstr(label0, ==, "database");
	g_assert_cmpfloat(osc_chart_get_value(by_cat, 0), ==, 2);
	g_assert_cmpuint(osc_chart_get_n_values(by_env), ==, 3);
	g_assert_cmpfloat(osc_chart_get_value(by_env, 0), ==, 3); /* production */
	/* 3 environments × 4 categories, 5 entries in all, production/database = 1 */
	g_assert_cmpuint(osc_chart_get_n_values(matrix), ==, 12);
	for (guint i = 0; i < 12; i++)
		sum += osc_chart_get_value(matrix, i);
	g_assert_cmpfloat(sum, ==, 5);
	g_assert_cmpfloat(osc_chart_get_value(matrix, 0), ==, 1);
	desc = osc_chart_dup_description(by_env);
	g_assert_cmpstr(desc, ==, "production: 3, staging: 1, development: 1");
	save_screenshot(f->window, "page-charts.png");
	assert_all_named(f->window);

	/* the dark style draws too */
	adw_style_manager_set_color_scheme(adw_style_manager_get_default(),
					   ADW_COLOR_SCHEME_FORCE_DARK);
	save_screenshot(f->window, "page-charts-dark.png");
	adw_style_manager_set_color_scheme(adw_style_manager_get_default(),
					   ADW_COLOR_SCHEME_DEFAULT);
}

static void
test_metrics(Fixture *f, gconstpointer data)
{
	GtkWidget *page = osc_metrics_page_new(f->client);
	OscMetricsPage *m = OSC_METRICS_PAGE(page);

	show_in_window(f, page, "Metrics");
	wait_state(page, "content");
	/* the families osc-service.c registers, grouped with their types */
	g_assert_cmpuint(osc_metrics_page_get_n_families(m), >=, 10);
	g_assert_cmpstr(osc_metrics_page_get_family_type(m, "osc_http_requests_total"), ==,
			"counter");
	g_assert_cmpstr(osc_metrics_page_get_family_type(m, "osc_config_entries_total"), ==,
			"gauge");
	/* a histogram's _bucket, _sum and _count samples land in its family */
	g_assert_cmpstr(osc_metrics_page_get_family_type(m, "osc_http_request_duration_seconds"),
			==, "histogram");
	g_assert_cmpuint(osc_metrics_page_get_n_samples(m, "osc_http_request_duration_seconds"), >=,
			 16);
	g_assert_cmpuint(
		osc_metrics_page_get_n_samples(m, "osc_http_request_duration_seconds_bucket"), ==,
		0);
	save_screenshot(f->window, "page-metrics.png");
	assert_all_named(f->window);
}

static gboolean
stream_connected(gpointer data)
{
	return osc_event_stream_get_connected(data);
}

static void
test_sse_stats(Fixture *f, gconstpointer data)
{
	g_autoptr(OscEventStream) stream = osc_event_stream_new(f->base, NULL);
	GtkWidget *page;
	OscSseStatsPage *p;

	g_object_set(stream, "environment", "production", NULL);
	osc_event_stream_start(stream);
	osc_test_wait_until(stream_connected, stream, 20000);
	/* one event delivered to it */
	update_entry(f, "cache", "production", "{\"ttl\":600}");

	page = osc_sse_stats_page_new(f->client);
	p = OSC_SSE_STATS_PAGE(page);
	show_in_window(f, page, "Event Streams");
	wait_state(page, "content");
	g_assert_cmpstr(osc_sse_stats_page_get_counter_text(p, "subscriptions.active"), ==, "1");
	g_assert_cmpstr(osc_sse_stats_page_get_counter_text(p, "subscriptions.total_created"), ==,
			"1");
	g_assert_cmpuint(osc_sse_stats_page_get_n_subscriptions_shown(p), ==, 1);
	save_screenshot(f->window, "page-sse-stats.png");
	assert_all_named(f->window);

	osc_event_stream_stop(stream);
	run_for(200);
	osc_sse_stats_page_reload(p);
	while (osc_sse_stats_page_get_n_subscriptions_shown(p) != 0)
		g_main_context_iteration(NULL, TRUE);
	wait_state(page, "content");
	g_assert_cmpstr(osc_sse_stats_page_get_counter_text(p, "subscriptions.closed"), ==, "1");
}

static void
test_cluster_off(Fixture *f, gconstpointer data)
{
	GtkWidget *page = osc_cluster_page_new(f->client);
	OscClusterPage *c = OSC_CLUSTER_PAGE(page);

	osc_cluster_page_set_refresh_interval(c, 1);
	show_in_window(f, page, "Cluster");
	wait_state(page, "content");
	g_assert_false(osc_cluster_page_get_enabled_shown(c));
	/* refreshing while shown, not once hidden */
	g_assert_true(osc_cluster_page_get_auto_refreshing(c));
	save_screenshot(f->window, "page-cluster-off.png");
	assert_all_named(f->window);
	gtk_widget_set_visible(page, FALSE);
	g_assert_false(osc_cluster_page_get_auto_refreshing(c));
	gtk_widget_set_visible(page, TRUE);
	g_assert_true(osc_cluster_page_get_auto_refreshing(c));
}

static void
delete_entry(Fixture *f, const gchar *key, const gchar *env)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) res = NULL;

	osc_client_delete_async(f->client, key, env, NULL, NULL, result_cb, f);
	res = take_result(f);
	g_assert_true(osc_client_delete_finish(f->client, res, &error));
	g_assert_no_error(error);
}

static gboolean
backup_idle(gpointer data)
{
	return !osc_backup_page_get_busy(data);
}

static void
test_backup(Fixture *f, gconstpointer data)
{
	GtkWidget *page = osc_backup_page_new(f->client);
	OscBackupPage *b = OSC_BACKUP_PAGE(page);
	g_autofree gchar *path = g_build_filename(f->tmpdir, "backup.json", NULL);
	g_autoptr(GFile) file = g_file_new_for_path(path);
	g_autofree gchar *contents = NULL;
	g_autoptr(JsonNode) json = NULL;
	g_autoptr(GError) error = NULL;

	show_in_window(f, page, "Backup");
	wait_state(page, "content");

	/* the passwords must match: nothing is written */
	osc_backup_page_set_export_password(b, "backup-pass-1", "backup-pass-2");
	osc_backup_page_export_to_file(b, file);
	g_assert_false(osc_backup_page_get_busy(b));
	g_assert_cmpstr(osc_backup_page_get_export_status(b), ==, "The passwords do not match");
	g_assert_false(g_file_query_exists(file, NULL));

	/* production only: 3 of the 5 entries */
	osc_backup_page_set_export_password(b, "backup-pass-1", "backup-pass-1");
	osc_backup_page_set_export_filter(b, "production", NULL);
	osc_backup_page_export_to_file(b, file);
	g_assert_true(osc_backup_page_get_busy(b));
	osc_test_wait_until(backup_idle, b, 20000);
	g_assert_true(
		g_str_has_prefix(osc_backup_page_get_export_status(b), "Exported 3 entries to "));
	g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
	g_assert_no_error(error);
	json = json_from_string(contents, &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(json), "total_keys"), ==,
			3);
	save_screenshot(f->window, "page-backup.png");
	assert_all_named(f->window);

	/* it imports back: one entry deleted meanwhile comes back, the others are skipped */
	delete_entry(f, "cache", "production");
	osc_backup_page_set_import_password(b, "backup-pass-1", FALSE);
	osc_backup_page_import_from_file(b, file);
	osc_test_wait_until(backup_idle, b, 20000);
	g_assert_cmpstr(osc_backup_page_get_import_status(b), ==,
			"Imported 1, skipped 2, overwritten 0, failed 0");
	{
		g_autoptr(OscConfigEntry) back =
			read_entry(f, f->client, "cache", "production", &error);
		g_assert_no_error(error);
		g_assert_cmpint(
			json_object_get_int_member(
				json_node_get_object(osc_config_entry_get_value(back)), "ttl"),
			==, 300);
	}

	/* with overwrite */
	osc_backup_page_set_import_password(b, "backup-pass-1", TRUE);
	osc_backup_page_import_from_file(b, file);
	osc_test_wait_until(backup_idle, b, 20000);
	g_assert_cmpstr(osc_backup_page_get_import_status(b), ==,
			"Imported 3, skipped 0, overwritten 3, failed 0");

	/* a wrong password is an error shown on the page */
	osc_backup_page_set_import_password(b, "wrong-password", FALSE);
	osc_backup_page_import_from_file(b, file);
	osc_test_wait_until(backup_idle, b, 20000);
	g_assert_nonnull(strstr(osc_backup_page_get_import_status(b), "Decryption failed"));
}

static gboolean
history_idle(gpointer data)
{
	return !osc_history_dialog_get_busy(data);
}

static gboolean
diff_shown(gpointer data)
{
	g_autofree gchar *text = osc_history_dialog_dup_diff_text(data);

	return text[0] != '\0';
}

static void
test_history(Fixture *f, gconstpointer data)
{
	GtkWidget *parent = adw_window_new();
	GtkWidget *dialog;
	OscHistoryDialog *h;
	g_autofree gchar *diff = NULL;
	g_autofree gchar *diff1 = NULL;
	g_autoptr(OscConfigEntry) now = NULL;
	g_autoptr(GError) error = NULL;

	update_entry(f, "database", "production", "{\"host\":\"db2\",\"port\":5432}");
	update_entry(f, "database", "production", "{\"host\":\"db3\",\"port\":5432}");

	gtk_window_present(GTK_WINDOW(parent));
	f->window = parent;
	dialog = osc_history_dialog_new(GTK_WINDOW(parent), f->client, "database", "production");
	h = OSC_HISTORY_DIALOG(dialog);
	gtk_window_present(GTK_WINDOW(dialog));
	wait_state(dialog, "content");
	g_assert_cmpuint(osc_history_dialog_get_n_versions(h), ==, 3);
	/* the newest old version is chosen first, against the current one */
	g_assert_cmpint(osc_history_dialog_get_selected_version(h), ==, 2);
	osc_test_wait_until(diff_shown, h, 20000);
	diff = osc_history_dialog_dup_diff_text(h);
	g_assert_nonnull(strstr(diff, "- "));
	g_assert_nonnull(strstr(diff, "\"db2\""));
	g_assert_nonnull(strstr(diff, "+ "));
	g_assert_nonnull(strstr(diff, "\"db3\""));
	/* the unchanged port line is kept */
	g_assert_nonnull(strstr(diff, "    \"port\" : 5432"));
	save_screenshot(dialog, "dialog-history.png");
	assert_all_named(dialog);

	osc_history_dialog_select_version(h, 1);
	g_assert_cmpint(osc_history_dialog_get_selected_version(h), ==, 1);
	osc_test_wait_until(diff_shown, h, 20000);
	diff1 = osc_history_dialog_dup_diff_text(h);
	g_assert_nonnull(strstr(diff1, "\"db1\""));

	/* roll back to version 1: a fourth version, the value of the first */
	osc_history_dialog_rollback_selected(h);
	g_assert_true(osc_history_dialog_get_busy(h));
	osc_test_wait_until(history_idle, h, 20000);
	g_assert_cmpstr(osc_history_dialog_get_last_message(h), ==, "Rolled back to version 1");
	wait_state(dialog, "content");
	g_assert_cmpuint(osc_history_dialog_get_n_versions(h), ==, 4);
	now = read_entry(f, f->client, "database", "production", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(json_object_get_string_member(
				json_node_get_object(osc_config_entry_get_value(now)), "host"),
			==, "db1");
	gtk_window_destroy(GTK_WINDOW(dialog));
}

static void
test_history_missing(Fixture *f, gconstpointer data)
{
	GtkWidget *dialog = osc_history_dialog_new(NULL, f->client, "nope", "production");

	f->window = dialog;
	gtk_window_present(GTK_WINDOW(dialog));
	wait_state(dialog, "error");
	assert_all_named(dialog);
}

static gboolean
rekey_idle(gpointer data)
{
	return !osc_rekey_dialog_get_busy(data);
}

static void
rekeyed_cb(OscRekeyDialog *dialog, const gchar *new_key, gint64 count, gpointer user_data)
{
	*(gint64 *)user_data = count;
}

static void
test_rekey(Fixture *f, gconstpointer data)
{
	GtkWidget *dialog = osc_rekey_dialog_new(NULL, f->client);
	OscRekeyDialog *r = OSC_REKEY_DIALOG(dialog);
	g_autoptr(OscClient) old_client = g_object_new(OSC_TYPE_CLIENT, "base-url", f->base,
						       "user-key", KEY, "timeout", 20, NULL);
	g_autoptr(OscConfigEntry) with_new = NULL;
	g_autoptr(OscConfigEntry) with_old = NULL;
	g_autoptr(GError) error = NULL;
	gint64 signalled = -1;

	f->window = dialog;
	g_signal_connect(dialog, "rekeyed", G_CALLBACK(rekeyed_cb), &signalled);
	gtk_window_present(GTK_WINDOW(dialog));

	/* clear messages before anything is sent */
	osc_rekey_dialog_set_keys(r, KEY2, "something-else");
	osc_rekey_dialog_run(r);
	g_assert_false(osc_rekey_dialog_get_busy(r));
	g_assert_cmpstr(osc_rekey_dialog_get_status(r), ==, "The two keys do not match");
	osc_rekey_dialog_set_keys(r, "short", "short");
	osc_rekey_dialog_run(r);
	g_assert_cmpstr(osc_rekey_dialog_get_status(r), ==,
			"The new user key must be at least 8 characters long");

	osc_rekey_dialog_set_keys(r, KEY2, KEY2);
	osc_rekey_dialog_run(r);
	g_assert_true(osc_rekey_dialog_get_busy(r));
	osc_test_wait_until(rekey_idle, r, 20000);
	g_assert_cmpint(osc_rekey_dialog_get_rekeyed(r), ==, 5);
	g_assert_cmpint(signalled, ==, 5);
	g_assert_cmpstr(osc_rekey_dialog_get_status(r), ==,
			"5 entries re-encrypted with the new key");
	save_screenshot(dialog, "dialog-rekey.png");
	assert_all_named(dialog);

	/* the dialog's client uses the new key; the old key opens nothing now */
	with_new = read_entry(f, f->client, "cache", "production", &error);
	g_assert_no_error(error);
	with_old = read_entry(f, old_client, "cache", "production", &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_AUTHENTICATION);
	g_clear_error(&error);

	/* the server's refusal shows: the old key opens nothing to re-key */
	{
		GtkWidget *again = osc_rekey_dialog_new(NULL, old_client);

		osc_rekey_dialog_set_keys(OSC_REKEY_DIALOG(again), "user-key-charlie-789",
					  "user-key-charlie-789");
		osc_rekey_dialog_run(OSC_REKEY_DIALOG(again));
		osc_test_wait_until(rekey_idle, again, 20000);
		g_assert_true(g_str_has_prefix(osc_rekey_dialog_get_status(OSC_REKEY_DIALOG(again)),
					       "Nothing was re-keyed: "));
		gtk_window_set_focus(GTK_WINDOW(again), NULL);
		gtk_window_destroy(GTK_WINDOW(again));
	}
}

int
main(int argc, char **argv)
{
	/* isolated XDG dirs, but GTK still needs the system's schemas, icons and themes */
	g_autofree gchar *data_dirs = g_strjoinv(":", (gchar **)g_get_system_data_dirs());

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_setenv("XDG_DATA_DIRS", data_dirs, TRUE);
	/* no session bus under xvfb-run: no AT-SPI bridge (the accessible names are checked
	 * through the GtkAccessible API instead) */
	g_setenv("GTK_A11Y", "none", TRUE);
	adw_init();
	osc_pages_ensure_types();

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/osc/app-pages/empty", test_empty);
	ADD("/osc/app-pages/dashboard", test_dashboard);
	ADD("/osc/app-pages/dashboard-error", test_dashboard_error);
	ADD("/osc/app-pages/charts", test_charts);
	ADD("/osc/app-pages/metrics", test_metrics);
	ADD("/osc/app-pages/sse-stats", test_sse_stats);
	ADD("/osc/app-pages/cluster-off", test_cluster_off);
	ADD("/osc/app-pages/backup", test_backup);
	ADD("/osc/app-pages/history", test_history);
	ADD("/osc/app-pages/history-missing", test_history_missing);
	ADD("/osc/app-pages/rekey", test_rekey);
#undef ADD
	return g_test_run();
}
