/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "test-app-ui"

#include "config.h"

#include <adwaita.h>
#include <libosc-client.h>

#include "osc-application-private.h"
#include "osc-connection-dialog.h"
#include "osc-editor-dialog-private.h"
#include "osc-preferences-window.h"
#include "osc-test-utils.h"
#include "osc-window-private.h"
#include "pages/osc-cluster-page.h"
#include "pages/osc-rekey-dialog.h"

/*
 * The app in this process, under a display (Xvfb), on its embedded server: driven through
 * its actions, checked through its models and widgets.
 */

static OscApplication *app;
static OscWindow *window;
static GTestDBus *dbus;

#define WAIT_MS 30000

static gboolean
window_ready(gpointer data)
{
	return window->client != NULL && !osc_entry_store_get_loading(window->store) &&
	       gtk_widget_get_mapped(GTK_WIDGET(window));
}

static void
ensure_app(void)
{
	if (app != NULL)
		return;
	/* the KDF is not what is tested here */
	g_setenv("OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	app = osc_application_new("org.opensecureconf.Admin.Test", G_APPLICATION_NON_UNIQUE);
	g_assert_true(g_application_register(G_APPLICATION(app), NULL, NULL));
	g_application_activate(G_APPLICATION(app));
	window = OSC_WINDOW(gtk_application_get_active_window(GTK_APPLICATION(app)));
	g_assert_nonnull(window);
	osc_test_wait_until(window_ready, NULL, WAIT_MS);
	g_assert_cmpstr(osc_window_get_connection_id(window), ==, "local");
}

typedef struct {
	const gchar *key;
	const gchar *environment;
	const gchar *value; /* NULL: the entry must be absent */
} EntryCheck;

static gboolean
entry_is(gpointer data)
{
	EntryCheck *check = data;
	OscEntryItem *item = osc_entry_store_lookup(window->store, check->key, check->environment);

	if (check->value == NULL)
		return item == NULL;
	return item != NULL && g_strcmp0(osc_entry_item_get_value_json(item), check->value) == 0;
}

static void
wait_entry(const gchar *key, const gchar *environment, const gchar *value)
{
	EntryCheck check = {key, environment, value};

	osc_test_wait_until(entry_is, &check, WAIT_MS);
}

static gboolean
pointer_is_null(gpointer data)
{
	return *(gpointer *)data == NULL;
}

static gboolean
pointer_is_set(gpointer data)
{
	return *(gpointer *)data != NULL;
}

static gboolean
revealed(gpointer data)
{
	return gtk_revealer_get_reveal_child(GTK_REVEALER(data));
}

static gboolean
is_true(gpointer data)
{
	return *(gboolean *)data;
}

static OscClient *
other_client(void)
{
	g_autofree gchar *url = NULL;
	g_autofree gchar *user_key = NULL;
	g_autofree gchar *api_key = NULL;

	g_object_get(window->client, "base-url", &url, "user-key", &user_key, "api-key", &api_key,
		     NULL);
	return osc_client_new(url, user_key, api_key);
}

typedef struct {
	gboolean done;
	OscConfigEntry *entry;
	gboolean exists;
	GError *error;
} CallResult;

static void
update_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CallResult *res = user_data;

	res->entry = osc_client_update_finish(OSC_CLIENT(source), result, &res->error);
	res->done = TRUE;
}

static void
exists_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CallResult *res = user_data;

	res->exists = osc_client_exists_finish(OSC_CLIENT(source), result, &res->error);
	res->done = TRUE;
}

/* another client changes the entry: no synchronous call, the server runs on this loop */
static void
update_elsewhere(OscClient *other, const gchar *key, const gchar *env, const gchar *json)
{
	g_autoptr(JsonNode) value = json_from_string(json, NULL);
	CallResult res = {0};

	osc_client_update_async(other, key, env, value, NULL, NULL, NULL, update_cb, &res);
	osc_test_wait_until(is_true, &res.done, WAIT_MS);
	g_assert_no_error(res.error);
	g_assert_nonnull(res.entry);
	osc_config_entry_unref(res.entry);
}

static void
save_screenshot(GtkWidget *widget, const gchar *name)
{
	g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new(widget);
	GtkSnapshot *snapshot = gtk_snapshot_new();
	g_autoptr(GskRenderNode) node = NULL;
	g_autoptr(GdkTexture) texture = NULL;
	g_autofree gchar *path = g_build_filename(g_getenv("G_TEST_BUILDDIR") != NULL
						      ? g_getenv("G_TEST_BUILDDIR")
						      : ".",
						  name, NULL);
	int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);

	g_assert_cmpint(w, >, 0);
	g_assert_cmpint(h, >, 0);
	gdk_paintable_snapshot(paintable, snapshot, w, h);
	node = gtk_snapshot_free_to_node(snapshot);
	g_assert_nonnull(node);
	texture = gsk_renderer_render_texture(gtk_native_get_renderer(GTK_NATIVE(widget)), node,
					      &GRAPHENE_RECT_INIT(0, 0, w, h));
	g_assert_true(gdk_texture_save_to_png(texture, path));
	g_test_message("screenshot: %s", path);
}

/* a row is on screen once the sort model has it */
static gboolean
view_has_key(gpointer data)
{
	GListModel *model = G_LIST_MODEL(window->sort_model);

	for (guint i = 0; i < g_list_model_get_n_items(model); i++) {
		g_autoptr(OscEntryItem) item = g_list_model_get_item(model, i);

		if (g_strcmp0(osc_entry_item_get_key(item), data) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
settle(guint ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE);
}

static void
test_live(void)
{
	g_autoptr(OscClient) other = NULL;
	OscEditorDialog *editor;
	OscEntryItem *item;
	g_autofree gchar *theirs = NULL;
	GtkTextIter start, end;
	CallResult res = {0};

	ensure_app();
	other = other_client();

	/* create through the editor */
	gtk_widget_activate_action(GTK_WIDGET(window), "win.new", NULL);
	editor = window->editor;
	g_assert_nonnull(editor);
	gtk_editable_set_text(GTK_EDITABLE(editor->key_row), "database");
	gtk_editable_set_text(GTK_EDITABLE(editor->environment_row), "production");
	gtk_editable_set_text(GTK_EDITABLE(editor->category_row), "db");
	/* invalid JSON is refused inline */
	gtk_text_buffer_set_text(GTK_TEXT_BUFFER(editor->value_buffer), "{\"host\": ", -1);
	g_assert_true(gtk_widget_get_visible(GTK_WIDGET(editor->error_label)));
	g_assert_false(gtk_widget_activate_action(GTK_WIDGET(editor), "editor.save", NULL) &&
		       editor->busy);
	gtk_text_buffer_set_text(GTK_TEXT_BUFFER(editor->value_buffer),
				 "{\"host\": \"db1\", \"port\": 5432}", -1);
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(editor->error_label)));
	gtk_widget_activate_action(GTK_WIDGET(editor), "editor.save", NULL);
	osc_test_wait_until(pointer_is_null, &window->editor, WAIT_MS);
	wait_entry("database", "production", "{\"host\":\"db1\",\"port\":5432}");
	item = osc_entry_store_lookup(window->store, "database", "production");
	g_assert_cmpstr(osc_entry_item_get_category(item), ==, "db");
	osc_test_wait_until(view_has_key, (gpointer) "database", WAIT_MS);

	/* another client's change arrives over SSE and updates the row in place */
	update_elsewhere(other, "database", "production", "{\"host\":\"db2\"}");
	wait_entry("database", "production", "{\"host\":\"db2\"}");
	g_assert_true(osc_entry_store_lookup(window->store, "database", "production") == item);

	/* a change underneath the editor is shown; saving then shows both, and ours wins */
	gtk_widget_activate_action(GTK_WIDGET(window), "win.edit-entry", "(ss)", "database",
				   "production");
	editor = window->editor;
	g_assert_nonnull(editor);
	osc_test_wait_until(pointer_is_set, &editor->etag, WAIT_MS);
	update_elsewhere(other, "database", "production", "{\"host\":\"db3\"}");
	osc_test_wait_until(revealed, editor->changed_revealer, WAIT_MS);
	/* and the row is highlighted while the editor is open */
	g_assert_true(osc_entry_item_get_changed(item));
	gtk_text_buffer_set_text(GTK_TEXT_BUFFER(editor->value_buffer), "{\"host\": \"mine\"}", -1);
	gtk_widget_activate_action(GTK_WIDGET(editor), "editor.save", NULL);
	osc_test_wait_until(revealed, editor->conflict_revealer, WAIT_MS);
	gtk_text_buffer_get_bounds(GTK_TEXT_BUFFER(editor->theirs_buffer), &start, &end);
	theirs = gtk_text_buffer_get_text(GTK_TEXT_BUFFER(editor->theirs_buffer), &start, &end,
					  FALSE);
	g_assert_nonnull(strstr(theirs, "db3"));
	gtk_widget_activate_action(GTK_WIDGET(editor), "editor.overwrite", NULL);
	osc_test_wait_until(pointer_is_null, &window->editor, WAIT_MS);
	wait_entry("database", "production", "{\"host\":\"mine\"}");
	g_assert_false(osc_entry_item_get_changed(item));

	/* more rows for the picture */
	update_elsewhere(other, "database", "production", "{\"host\":\"db.internal\",\"port\":5432}");
	wait_entry("database", "production", "{\"host\":\"db.internal\",\"port\":5432}");
	settle(300);
	save_screenshot(GTK_WIDGET(window), "app-main-window.png");

	/* delete: confirmed, then gone here and on the server; undo brings it back */
	gtk_widget_activate_action(GTK_WIDGET(window), "win.delete-entry", "(ss)", "database",
				   "production");
	g_assert_nonnull(window->delete_dialog);
	adw_message_dialog_response(window->delete_dialog, "delete");
	wait_entry("database", "production", NULL);
	osc_client_exists_async(other, "database", "production", NULL, exists_cb, &res);
	osc_test_wait_until(is_true, &res.done, WAIT_MS);
	g_assert_no_error(res.error);
	g_assert_false(res.exists);

	gtk_widget_activate_action(GTK_WIDGET(window), "win.undo-delete", NULL);
	wait_entry("database", "production", "{\"host\":\"db.internal\",\"port\":5432}");
	g_assert_cmpstr(osc_entry_item_get_category(osc_entry_store_lookup(
			    window->store, "database", "production")),
			==, "db");
}

/* ---- re-key from the window ---- */

static gboolean
find_rekey_dialog(gpointer data)
{
	GtkWidget **out = data;
	GListModel *toplevels = gtk_window_get_toplevels();

	for (guint i = 0; i < g_list_model_get_n_items(toplevels); i++) {
		g_autoptr(GObject) w = g_list_model_get_item(toplevels, i);

		if (OSC_IS_REKEY_DIALOG(w))
			*out = GTK_WIDGET(w);
	}
	return *out != NULL;
}

static gboolean
rekey_done(gpointer data)
{
	return !osc_rekey_dialog_get_busy(data);
}

static void
local_key_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	gchar **out = user_data;

	*out = osc_application_get_local_user_key_finish(OSC_APPLICATION(source), result, NULL,
							 NULL);
}

static gboolean
have_string(gpointer data)
{
	return *(gchar **)data != NULL;
}

static void
create_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	CallResult *res = user_data;

	res->entry = osc_client_create_finish(OSC_CLIENT(source), result, &res->error);
	res->done = TRUE;
}

typedef struct {
	const gchar *subscription_id; /* the one before */
} Resubscribed;

/* the window's stream is on a new subscription and the reload that follows it is done */
static gboolean
resubscribed(gpointer data)
{
	Resubscribed *r = data;

	return osc_event_stream_get_connected(window->events) &&
	       g_strcmp0(osc_event_stream_get_subscription_id(window->events),
			 r->subscription_id) != 0 &&
	       window_ready(NULL);
}

static void
probe_updated_cb(OscEventStream *events, OscEvent *event, gpointer user_data)
{
	gchar **value = user_data;

	if (g_strcmp0(osc_event_get_key(event), "rekey-probe") != 0)
		return;
	g_free(*value);
	*value = osc_event_get_value_string(event);
}

/* win.rekey: afterwards the window's stream and the app's local key are the new key, so a
 * reconnect (or, with a keyring, the next start) still opens the entries, and the live
 * updates keep their values: the stream subscribed again with the new key */
static void
test_rekey(void)
{
	static const gchar new_key[] = "the-new-local-user-key-42";
	GtkWidget *dialog = NULL;
	g_autoptr(OscClient) before = NULL;
	g_autoptr(OscClient) after = NULL;
	g_autoptr(JsonNode) value = json_from_string("{\"v\": 1}", NULL);
	g_autofree gchar *stream_key = NULL;
	g_autofree gchar *app_key = NULL;
	g_autofree gchar *old_subscription = NULL;
	g_autofree gchar *sse_value = NULL;
	CallResult res = {0};
	Resubscribed r;
	gulong handler;

	ensure_app();
	/* an entry of the old key, which the re-key moves to the new one */
	before = other_client();
	osc_client_create_async(before, "rekey-probe", "staging", value, NULL, NULL, create_cb,
				&res);
	osc_test_wait_until(is_true, &res.done, WAIT_MS);
	g_assert_no_error(res.error);
	g_clear_pointer(&res.entry, osc_config_entry_unref);
	wait_entry("rekey-probe", "staging", "{\"v\":1}");
	osc_test_wait_until(window_ready, NULL, WAIT_MS);
	g_assert_true(osc_event_stream_get_connected(window->events));
	old_subscription = g_strdup(osc_event_stream_get_subscription_id(window->events));
	g_assert_nonnull(old_subscription);

	g_assert_true(gtk_widget_activate_action(GTK_WIDGET(window), "win.rekey", NULL));
	osc_test_wait_until(find_rekey_dialog, &dialog, WAIT_MS);
	osc_rekey_dialog_set_keys(OSC_REKEY_DIALOG(dialog), new_key, new_key);
	osc_rekey_dialog_run(OSC_REKEY_DIALOG(dialog));
	osc_test_wait_until(rekey_done, dialog, WAIT_MS);
	g_assert_cmpint(osc_rekey_dialog_get_rekeyed(OSC_REKEY_DIALOG(dialog)), >=, 1);
	g_object_get(window->events, "user-key", &stream_key, NULL);
	g_assert_cmpstr(stream_key, ==, new_key);
	osc_application_get_local_user_key_async(app, NULL, local_key_cb, &app_key);
	osc_test_wait_until(have_string, &app_key, WAIT_MS);
	g_assert_cmpstr(app_key, ==, new_key);
	gtk_window_destroy(GTK_WINDOW(dialog));

	/* another client with the new key changes the entry: the event arrives over the new
	 * subscription with its value, and the window's model shows it */
	r.subscription_id = old_subscription;
	osc_test_wait_until(resubscribed, &r, WAIT_MS);
	handler = g_signal_connect(window->events, "event::updated", G_CALLBACK(probe_updated_cb),
				   &sse_value);
	after = other_client();
	update_elsewhere(after, "rekey-probe", "staging", "{\"v\":2}");
	wait_entry("rekey-probe", "staging", "{\"v\":2}");
	g_signal_handler_disconnect(window->events, handler);
	g_assert_cmpstr(sse_value, ==, "{\"v\":2}");
}

/* ---- preferences ---- */

/* the auto-refresh interval preference is the Cluster page's: its value, and its timer
 * while the page is shown (0 stops it) */
static void
test_auto_refresh(void)
{
	g_autofree gchar *shown = NULL;
	OscClusterPage *cluster;

	ensure_app();
	cluster = OSC_CLUSTER_PAGE(adw_view_stack_get_child_by_name(window->view_stack, "cluster"));
	g_assert_cmpuint(osc_cluster_page_get_refresh_interval(cluster), ==,
			 g_settings_get_uint(window->settings, "auto-refresh-interval"));
	g_settings_set_uint(window->settings, "auto-refresh-interval", 42);
	g_assert_cmpuint(osc_cluster_page_get_refresh_interval(cluster), ==, 42);

	shown = g_strdup(adw_view_stack_get_visible_child_name(window->view_stack));
	adw_view_stack_set_visible_child_name(window->view_stack, "cluster");
	g_assert_true(gtk_widget_get_mapped(GTK_WIDGET(cluster)));
	g_assert_true(osc_cluster_page_get_auto_refreshing(cluster));
	g_settings_set_uint(window->settings, "auto-refresh-interval", 0);
	g_assert_cmpuint(osc_cluster_page_get_refresh_interval(cluster), ==, 0);
	g_assert_false(osc_cluster_page_get_auto_refreshing(cluster));
	g_settings_set_uint(window->settings, "auto-refresh-interval", 3);
	g_assert_cmpuint(osc_cluster_page_get_refresh_interval(cluster), ==, 3);
	g_assert_true(osc_cluster_page_get_auto_refreshing(cluster));

	/* the binding only reads the preference: the page does not write it back */
	osc_cluster_page_set_refresh_interval(cluster, 7);
	g_assert_cmpuint(g_settings_get_uint(window->settings, "auto-refresh-interval"), ==, 3);

	g_settings_reset(window->settings, "auto-refresh-interval");
	g_assert_cmpuint(osc_cluster_page_get_refresh_interval(cluster), ==, 10);
	adw_view_stack_set_visible_child_name(window->view_stack, shown);
	g_assert_false(osc_cluster_page_get_auto_refreshing(cluster));
}

/* ---- accessibility ---- */

static gboolean
has_text_child(GtkWidget *widget)
{
	for (GtkWidget *c = gtk_widget_get_first_child(widget); c != NULL;
	     c = gtk_widget_get_next_sibling(c)) {
		if (GTK_IS_LABEL(c) && gtk_label_get_text(GTK_LABEL(c))[0] != '\0')
			return TRUE;
		if (has_text_child(c))
			return TRUE;
	}
	return FALSE;
}

static gboolean
is_labelled(GtkWidget *widget)
{
	if (gtk_test_accessible_has_property(GTK_ACCESSIBLE(widget), GTK_ACCESSIBLE_PROPERTY_LABEL) ||
	    gtk_test_accessible_has_relation(GTK_ACCESSIBLE(widget),
					     GTK_ACCESSIBLE_RELATION_LABELLED_BY))
		return TRUE;
	if (ADW_IS_PREFERENCES_ROW(widget)) {
		const gchar *title = adw_preferences_row_get_title(ADW_PREFERENCES_ROW(widget));
		return title != NULL && title[0] != '\0';
	}
	/* buttons are named by their content */
	if (GTK_IS_BUTTON(widget) || GTK_IS_MENU_BUTTON(widget) || GTK_IS_LIST_BOX_ROW(widget))
		return has_text_child(widget);
	return FALSE;
}

static gboolean
is_interactive(GtkWidget *widget)
{
	return GTK_IS_BUTTON(widget) || GTK_IS_MENU_BUTTON(widget) || GTK_IS_SWITCH(widget) ||
	       GTK_IS_ENTRY(widget) || GTK_IS_TEXT(widget) || GTK_IS_SEARCH_ENTRY(widget) ||
	       GTK_IS_SPIN_BUTTON(widget) || GTK_IS_DROP_DOWN(widget) ||
	       GTK_IS_COLUMN_VIEW(widget) || GTK_IS_LIST_VIEW(widget) ||
	       GTK_IS_TEXT_VIEW(widget) || GTK_IS_LIST_BOX(widget) || GTK_IS_SCALE(widget) ||
	       ADW_IS_ENTRY_ROW(widget) || ADW_IS_COMBO_ROW(widget);
}

/* widgets whose parts are named by the whole (a search entry's text, a spin button's) */
static gboolean
is_composite(GtkWidget *widget)
{
	return GTK_IS_MENU_BUTTON(widget) || GTK_IS_SEARCH_ENTRY(widget) ||
	       GTK_IS_SPIN_BUTTON(widget) || GTK_IS_DROP_DOWN(widget) || GTK_IS_ENTRY(widget) ||
	       ADW_IS_ENTRY_ROW(widget) || ADW_IS_COMBO_ROW(widget) ||
	       GTK_IS_COLUMN_VIEW(widget);
}

static void
check_tree(GtkWidget *widget, GString *failures, guint *checked)
{
	/* what is on screen: hidden pages (libadwaita's own search page) are not */
	if (!gtk_widget_get_mapped(widget))
		return;
	if (is_interactive(widget)) {
		(*checked)++;
		if (!is_labelled(widget)) {
			const gchar *id = gtk_buildable_get_buildable_id(GTK_BUILDABLE(widget));
			GtkWidget *parent = gtk_widget_get_parent(widget);

			g_string_append_printf(failures, "\n  %s%s%s (in %s)",
					       G_OBJECT_TYPE_NAME(widget), id != NULL ? " #" : "",
					       id != NULL ? id : "",
					       parent != NULL ? G_OBJECT_TYPE_NAME(parent) : "-");
		}
	}
	if (is_composite(widget))
		return;
	for (GtkWidget *c = gtk_widget_get_first_child(widget); c != NULL;
	     c = gtk_widget_get_next_sibling(c))
		check_tree(c, failures, checked);
}

static void
assert_accessible(GtkWidget *root, guint min_checked)
{
	g_autoptr(GString) failures = g_string_new(NULL);
	guint checked = 0;

	check_tree(root, failures, &checked);
	g_test_message("%s: %u interactive widgets checked", G_OBJECT_TYPE_NAME(root), checked);
	if (failures->len > 0)
		g_error("widgets without an accessible name in %s:%s", G_OBJECT_TYPE_NAME(root),
			failures->str);
	g_assert_cmpuint(checked, >=, min_checked);
}

static void
test_accessibility(void)
{
	OscPreferencesWindow *prefs;
	OscConnectionDialog *conn;

	ensure_app();
	gtk_widget_activate_action(GTK_WIDGET(window), "win.search", NULL);
	settle(200);
	assert_accessible(GTK_WIDGET(window), 8);

	gtk_widget_activate_action(GTK_WIDGET(window), "win.new", NULL);
	g_assert_nonnull(window->editor);
	settle(200);
	assert_accessible(GTK_WIDGET(window->editor), 5);
	gtk_window_destroy(GTK_WINDOW(window->editor));

	prefs = osc_preferences_window_new(osc_application_get_settings(app));
	gtk_window_set_transient_for(GTK_WINDOW(prefs), GTK_WINDOW(window));
	gtk_window_present(GTK_WINDOW(prefs));
	settle(200);
	assert_accessible(GTK_WIDGET(prefs), 4);
	gtk_window_destroy(GTK_WINDOW(prefs));

	conn = osc_connection_dialog_new(GTK_WINDOW(window), osc_application_get_connections(app));
	gtk_window_present(GTK_WINDOW(conn));
	settle(200);
	assert_accessible(GTK_WIDGET(conn), 6);
	gtk_window_destroy(GTK_WINDOW(conn));
}

static void
stop_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(osc_local_server_stop_finish(OSC_LOCAL_SERVER(source), result, &error));
	g_assert_no_error(error);
	*(gboolean *)user_data = TRUE;
}

int
main(int argc, char *argv[])
{
	g_autofree gchar *tmp = g_dir_make_tmp("osc-app-ui-XXXXXX", NULL);
	int ret;

	/* fresh user dirs, by hand: G_TEST_OPTION_ISOLATE_DIRS also hides XDG_DATA_DIRS, and
	 * with them the icons, the MIME database and GtkSourceView's languages */
	g_assert_nonnull(tmp);
	for (guint i = 0; i < 4; i++) {
		static const gchar *vars[] = {"XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
					      "HOME"};
		g_autofree gchar *dir = g_build_filename(tmp, vars[i], NULL);

		g_mkdir_with_parents(dir, 0700);
		g_setenv(vars[i], dir, TRUE);
	}
	g_test_init(&argc, &argv, NULL);

	/* a private session bus: no keyring to activate (the app then keeps its local key for
	 * the session, which is its own tested path) and no name clash with a running app.
	 * GTestDBus unsets DISPLAY against X11 autolaunch; the app needs it back. */
	{
		g_autofree gchar *display = g_strdup(g_getenv("DISPLAY"));

		dbus = g_test_dbus_new(G_TEST_DBUS_NONE);
		g_test_dbus_up(dbus);
		if (display != NULL)
			g_setenv("DISPLAY", display, TRUE);
	}
	/* and no accessibility bus on it: GTK keeps the accessible state for the checks */
	g_setenv("GTK_A11Y", "test", TRUE);
	g_test_add_func("/osc/app/ui/live", test_live);
	g_test_add_func("/osc/app/ui/accessibility", test_accessibility);
	g_test_add_func("/osc/app/ui/rekey", test_rekey);
	g_test_add_func("/osc/app/ui/auto-refresh", test_auto_refresh);
	ret = g_test_run();

	if (app != NULL) {
		gboolean stopped = FALSE;

		/* as app.quit does: the server first, while the window's stream is connected */
		if (app->local != NULL) {
			osc_local_server_stop_async(app->local, NULL, stop_cb, &stopped);
			osc_test_wait_until(is_true, &stopped, WAIT_MS);
		}
		gtk_window_destroy(GTK_WINDOW(window));
		settle(200);

		g_clear_object(&app);
	}
	/* not _down() nor a finalize (which calls it): GTK keeps the application's bus
	 * connection alive to the end, and _down() waits for it to go */
	g_test_dbus_stop(dbus);
	osc_test_rm_rf(tmp);
	return ret;
}
