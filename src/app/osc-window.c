/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>

#include "osc-count-item.h"
#include "osc-keyring.h"
#include "osc-window-private.h"

#ifdef OSC_HAVE_PAGES
#include "pages/osc-pages.h"
#endif

/* requests may list 100,000 entries with their values */
#define OSC_WINDOW_CLIENT_TIMEOUT 120

G_DEFINE_FINAL_TYPE(OscWindow, osc_window, ADW_TYPE_APPLICATION_WINDOW)

enum { PROP_0, PROP_CONNECTION_ID, N_PROPS };

static GParamSpec *properties[N_PROPS];

/* one connection attempt; stale when its cancellable was cancelled */
typedef struct {
	OscWindow *self;
	GCancellable *cancellable;
	OscConnection *connection;
	gchar *api_key;
} ConnectData;

static void
connect_data_free(ConnectData *data)
{
	g_object_unref(data->self);
	g_object_unref(data->cancellable);
	g_object_unref(data->connection);
	osc_keyring_free_secret(data->api_key);
	g_free(data);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ConnectData, connect_data_free)

void
osc_window_add_toast(OscWindow *self, const gchar *title)
{
	g_return_if_fail(OSC_IS_WINDOW(self));
	adw_toast_overlay_add_toast(self->toast_overlay, adw_toast_new(title));
}

void
_osc_window_show_banner(OscWindow *self, const gchar *text)
{
	if (text != NULL)
		gtk_label_set_text(self->banner_label, text);
	gtk_revealer_set_reveal_child(self->banner_revealer, text != NULL);
}

OscEntryItem *
_osc_window_get_selected(OscWindow *self)
{
	return gtk_single_selection_get_selected_item(self->selection);
}

void
_osc_window_update_actions(OscWindow *self)
{
	gboolean have_client = self->client != NULL;
	gboolean have_selection = have_client && _osc_window_get_selected(self) != NULL;

	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.new", have_client);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.reload", have_client);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.edit", have_selection);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.delete", have_selection);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.copy-value", have_selection);
#ifdef OSC_HAVE_PAGES
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.history", have_selection);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.rekey", have_client);
#endif
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.edit-entry", have_client);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.delete-entry", have_client);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.remove-connection",
				      self->connection != NULL &&
					  !osc_connection_is_local(self->connection));
}

static void
osc_window_update_content(OscWindow *self)
{
	guint total = g_list_model_get_n_items(osc_entry_store_get_entries(self->store));
	guint shown = g_list_model_get_n_items(G_LIST_MODEL(self->sort_model));
	g_autofree gchar *count = NULL;
	const gchar *page;

	if (osc_entry_store_get_loading(self->store) || (self->client == NULL && !self->load_failed))
		page = "loading";
	else if (total == 0)
		page = "empty";
	else
		page = "list";
	gtk_spinner_set_spinning(self->spinner, g_str_equal(page, "loading"));
	gtk_stack_set_visible_child_name(self->content_stack, page);
	if (shown == total)
		count = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u entry", "%u entries", total),
					total);
	else
		/* TRANSLATORS: entries shown of all entries */
		count = g_strdup_printf(_("%u of %u"), shown, total);
	gtk_label_set_text(self->count_label, count);
}

static void
osc_window_entries_changed_cb(GListModel *model,
			      guint position,
			      guint removed,
			      guint added,
			      gpointer user_data)
{
	OscWindow *self = user_data;

	osc_window_update_content(self);
	_osc_window_update_actions(self);
}

static void
osc_window_loading_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	osc_window_update_content(OSC_WINDOW(user_data));
}

/* ---- the value column: masked or not, a window-wide switch ---- */

static void
osc_window_value_cell_refresh(OscWindow *self, GtkListItem *list_item)
{
	OscEntryItem *item = gtk_list_item_get_item(list_item);
	GtkLabel *label = GTK_LABEL(gtk_list_item_get_child(list_item));
	const gchar *preview = item != NULL ? osc_entry_item_get_preview(item) : NULL;

	if (preview == NULL)
		/* an entry this key did not encrypt: its value never reaches us */
		gtk_label_set_text(label, "—");
	else if (self->mask_values)
		gtk_label_set_text(label, "••••••••");
	else
		gtk_label_set_text(label, preview);
}

static void
osc_window_value_preview_cb(GObject *item, GParamSpec *pspec, gpointer user_data)
{
	GtkListItem *list_item = user_data;
	OscWindow *self = g_object_get_data(G_OBJECT(list_item), "osc-window");

	if (self != NULL)
		osc_window_value_cell_refresh(self, list_item);
}

static void
osc_window_value_setup_cb(GtkSignalListItemFactory *factory,
			  GtkListItem *list_item,
			  gpointer user_data)
{
	GtkWidget *label = gtk_label_new(NULL);

	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
	gtk_widget_add_css_class(label, "osc-value");
	gtk_list_item_set_child(list_item, label);
}

static void
osc_window_value_bind_cb(GtkSignalListItemFactory *factory,
			 GtkListItem *list_item,
			 gpointer user_data)
{
	OscWindow *self = user_data;
	GObject *item = gtk_list_item_get_item(list_item);

	g_object_set_data(G_OBJECT(list_item), "osc-window", self);
	g_signal_connect(item, "notify::preview", G_CALLBACK(osc_window_value_preview_cb),
			 list_item);
	g_ptr_array_add(self->value_cells, list_item);
	osc_window_value_cell_refresh(self, list_item);
}

static void
osc_window_value_unbind_cb(GtkSignalListItemFactory *factory,
			   GtkListItem *list_item,
			   gpointer user_data)
{
	OscWindow *self = user_data;
	GObject *item = gtk_list_item_get_item(list_item);

	if (item != NULL)
		g_signal_handlers_disconnect_by_func(item, osc_window_value_preview_cb, list_item);
	if (self->value_cells != NULL)
		g_ptr_array_remove_fast(self->value_cells, list_item);
	g_object_set_data(G_OBJECT(list_item), "osc-window", NULL);
}

static void
osc_window_mask_changed_cb(GSettings *settings, const gchar *key, gpointer user_data)
{
	OscWindow *self = user_data;

	self->mask_values = g_settings_get_boolean(settings, "mask-values");
	for (guint i = 0; i < self->value_cells->len; i++)
		osc_window_value_cell_refresh(self, g_ptr_array_index(self->value_cells, i));
}

/* ---- sidebar and category filter ---- */

static GtkWidget *
osc_window_create_env_row_cb(gpointer object, gpointer user_data)
{
	OscCountItem *item = object;
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget *name = gtk_label_new(osc_count_item_get_label(item));
	GtkWidget *count = gtk_label_new(NULL);

	gtk_label_set_xalign(GTK_LABEL(name), 0);
	gtk_label_set_ellipsize(GTK_LABEL(name), PANGO_ELLIPSIZE_END);
	gtk_widget_set_hexpand(name, TRUE);
	gtk_widget_add_css_class(count, "dim-label");
	gtk_widget_add_css_class(count, "numeric");
	g_object_bind_property(item, "count", count, "label", G_BINDING_SYNC_CREATE);
	gtk_box_append(GTK_BOX(box), name);
	gtk_box_append(GTK_BOX(box), count);
	return box;
}

static void
osc_window_env_selected_cb(GtkListBox *list, GtkListBoxRow *row, gpointer user_data)
{
	OscWindow *self = user_data;
	g_autoptr(OscCountItem) item = NULL;

	if (row == NULL) {
		osc_entry_filter_set_environment(self->filter, NULL);
		return;
	}
	item = g_list_model_get_item(osc_entry_store_get_environments(self->store),
				     gtk_list_box_row_get_index(row));
	osc_entry_filter_set_environment(self->filter,
					 item != NULL ? osc_count_item_get_name(item) : NULL);
}

static void
osc_window_environments_changed_cb(GListModel *model,
				   guint position,
				   guint removed,
				   guint added,
				   gpointer user_data)
{
	OscWindow *self = user_data;

	/* the selected environment went away: back to "All" */
	if (gtk_list_box_get_selected_row(self->env_list) == NULL)
		gtk_list_box_select_row(self->env_list, gtk_list_box_get_row_at_index(self->env_list, 0));
}

static void
osc_window_category_selected_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	OscWindow *self = user_data;
	OscCountItem *item = gtk_drop_down_get_selected_item(self->category_dropdown);

	osc_entry_filter_set_category(self->filter,
				      item != NULL ? osc_count_item_get_name(item) : NULL);
}

static void
osc_window_search_changed_cb(GtkSearchEntry *entry, gpointer user_data)
{
	OscWindow *self = user_data;

	osc_entry_filter_set_search(self->filter, gtk_editable_get_text(GTK_EDITABLE(entry)));
}

static void
osc_window_selection_changed_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	_osc_window_update_actions(OSC_WINDOW(user_data));
}

static void
osc_window_activate_cb(GtkColumnView *view, guint position, gpointer user_data)
{
	OscWindow *self = user_data;

	gtk_single_selection_set_selected(self->selection, position);
	gtk_widget_activate_action(GTK_WIDGET(self), "win.edit", NULL);
}

/* ---- live updates ---- */

static void
osc_window_event_cb(OscEventStream *events, OscEvent *event, gpointer user_data)
{
	OscWindow *self = user_data;
	const gchar *type = osc_event_get_event_type(event);
	OscEntryItem *item = osc_entry_store_apply_event(self->store, event);

	if (item == NULL || self->editor == NULL)
		return;
	if (osc_editor_dialog_external_change(self->editor, type, item)) {
		g_autofree gchar *msg = NULL;

		if (g_strcmp0(type, "deleted") != 0) {
			osc_entry_item_set_changed(item, TRUE);
			g_set_object(&self->changed_item, item);
		}

		if (g_strcmp0(type, "deleted") == 0)
			msg = g_strdup_printf(_("“%s” was deleted by someone else"),
					      osc_entry_item_get_key(item));
		else
			msg = g_strdup_printf(_("“%s” was changed by someone else"),
					      osc_entry_item_get_key(item));
		osc_window_add_toast(self, msg);
	}
}

static void
osc_window_reset_cb(OscEventStream *events, OscEvent *event, gpointer user_data)
{
	OscWindow *self = user_data;

	/* the server lost our place (restart, overflow): the store asks for a reload */
	osc_entry_store_apply_event(self->store, event);
}

static void
osc_window_reload_needed_cb(OscEntryStore *store, gpointer user_data)
{
	g_debug("entries may be stale, reloading");
	_osc_window_reload(OSC_WINDOW(user_data));
}

static void
osc_window_stream_state_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	OscWindow *self = user_data;
	OscEventStream *events = OSC_EVENT_STREAM(object);

	if (events != self->events)
		return;
	if (osc_event_stream_get_connected(events)) {
		if (self->had_connected)
			_osc_window_reload(self);
		self->had_connected = TRUE;
		_osc_window_show_banner(self, NULL);
	} else if (!osc_event_stream_get_running(events)) {
		_osc_window_show_banner(self, _("Live updates stopped: the server cannot be reached."));
	} else if (self->had_connected) {
		_osc_window_show_banner(self, _("Connection lost, reconnecting…"));
	}
}

/* ---- connections ---- */

static void
osc_window_set_pages_client(OscWindow *self)
{
	for (guint i = 0; i < self->pages->len; i++)
		g_object_set(g_ptr_array_index(self->pages, i), "client", self->client, NULL);
}

static void
osc_window_drop_client(OscWindow *self)
{
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	if (self->events != NULL) {
		g_signal_handlers_disconnect_by_data(self->events, self);
		osc_event_stream_stop(self->events);
		g_clear_object(&self->events);
	}
	g_clear_object(&self->client);
	self->had_connected = FALSE;
	self->load_failed = FALSE;
	osc_entry_store_clear(self->store);
	osc_window_set_pages_client(self);
	_osc_window_show_banner(self, NULL);
	_osc_window_update_actions(self);
	osc_window_update_content(self);
}

static void
osc_window_load_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscWindow) self = user_data;
	g_autoptr(GError) error = NULL;

	if (!osc_entry_store_load_finish(OSC_ENTRY_STORE(source), result, &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		self->load_failed = TRUE;
		g_message("loading the entries: %s", error->message);
		_osc_window_show_banner(self, error->message);
	}
	osc_window_update_content(self);
}

void
_osc_window_reload(OscWindow *self)
{
	if (self->client == NULL)
		return;
	self->load_failed = FALSE;
	osc_entry_store_load_async(self->store, self->client, self->cancellable,
				   osc_window_load_cb, g_object_ref(self));
	osc_window_update_content(self);
}

static void
osc_window_connect(OscWindow *self, OscConnection *connection, const gchar *url,
		   const gchar *api_key, const gchar *user_key)
{
	self->client = g_object_new(OSC_TYPE_CLIENT, "base-url", url, "api-key", api_key,
				    "user-key", user_key, "ca-file",
				    osc_connection_get_ca_file(connection), "tls-verify",
				    osc_connection_get_tls_verify(connection), "timeout",
				    OSC_WINDOW_CLIENT_TIMEOUT, NULL);
	self->events = osc_event_stream_new(url, api_key);
	g_object_set(self->events, "user-key", user_key, "tls-verify",
		     osc_connection_get_tls_verify(connection), NULL);
	g_signal_connect(self->events, "event", G_CALLBACK(osc_window_event_cb), self);
	g_signal_connect(self->events, "reset", G_CALLBACK(osc_window_reset_cb), self);
	g_signal_connect(self->events, "notify::connected", G_CALLBACK(osc_window_stream_state_cb),
			 self);
	g_signal_connect(self->events, "notify::running", G_CALLBACK(osc_window_stream_state_cb),
			 self);
	osc_event_stream_start(self->events);
	osc_window_set_pages_client(self);
	_osc_window_update_actions(self);
	_osc_window_reload(self);
}

static void
osc_window_connect_failed(OscWindow *self, const gchar *message)
{
	self->load_failed = TRUE;
	_osc_window_show_banner(self, message);
	osc_window_update_content(self);
}

static void
osc_window_local_key_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(ConnectData) data = user_data;
	OscWindow *self = data->self;
	g_autoptr(GError) error = NULL;
	gboolean persistent = FALSE;
	gchar *user_key;
	OscLocalServer *local;

	user_key = osc_application_get_local_user_key_finish(OSC_APPLICATION(source), result,
							     &persistent, &error);
	if (g_cancellable_is_cancelled(data->cancellable)) {
		osc_keyring_free_secret(user_key);
		return;
	}
	if (user_key == NULL) {
		osc_window_connect_failed(self, error->message);
		return;
	}
	gtk_revealer_set_reveal_child(self->keyring_revealer, !persistent);
	local = osc_application_ensure_local_server(OSC_APPLICATION(source), &error);
	if (local == NULL) {
		osc_keyring_free_secret(user_key);
		osc_window_connect_failed(self, error->message);
		return;
	}
	osc_window_connect(self, data->connection, osc_local_server_get_base_url(local),
			   osc_local_server_get_api_key(local), user_key);
	osc_keyring_free_secret(user_key);
}

static void
osc_window_remote_user_key_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(ConnectData) data = user_data;
	g_autoptr(GError) error = NULL;
	gchar *user_key = osc_keyring_lookup_finish(result, &error);

	if (g_cancellable_is_cancelled(data->cancellable)) {
		osc_keyring_free_secret(user_key);
		return;
	}
	if (error != NULL) {
		osc_window_connect_failed(data->self, error->message);
		return;
	}
	osc_window_connect(data->self, data->connection, osc_connection_get_url(data->connection),
			   data->api_key, user_key);
	osc_keyring_free_secret(user_key);
}

static void
osc_window_remote_api_key_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(ConnectData) data = user_data;
	g_autoptr(GError) error = NULL;

	data->api_key = osc_keyring_lookup_finish(result, &error);
	if (g_cancellable_is_cancelled(data->cancellable))
		return;
	if (error != NULL) {
		osc_window_connect_failed(data->self, error->message);
		return;
	}
	osc_keyring_lookup_async(osc_connection_get_id(data->connection), OSC_KEYRING_USER_KEY,
				 data->cancellable, osc_window_remote_user_key_cb,
				 g_steal_pointer(&data));
}

static void
osc_window_open_connection(OscWindow *self, OscConnection *connection)
{
	OscApplication *app = OSC_APPLICATION(gtk_window_get_application(GTK_WINDOW(self)));
	ConnectData *data;

	osc_window_drop_client(self);
	g_set_object(&self->connection, connection);
	adw_view_switcher_title_set_subtitle(self->switcher_title,
					     osc_connection_get_name(connection));
	data = g_new0(ConnectData, 1);
	data->self = g_object_ref(self);
	data->cancellable = g_object_ref(self->cancellable);
	data->connection = g_object_ref(connection);
	if (osc_connection_is_local(connection))
		osc_application_get_local_user_key_async(app, self->cancellable,
							 osc_window_local_key_cb, data);
	else
		osc_keyring_lookup_async(osc_connection_get_id(connection), OSC_KEYRING_API_KEY,
					 self->cancellable, osc_window_remote_api_key_cb, data);
	_osc_window_update_actions(self);
}

const gchar *
osc_window_get_connection_id(OscWindow *self)
{
	g_return_val_if_fail(OSC_IS_WINDOW(self), NULL);
	return self->connection_id;
}

/**
 * osc_window_set_connection_id:
 *
 * Switches to a saved connection (unknown ids fall back to the local one). The same
 * connection again reconnects.
 */
void
osc_window_set_connection_id(OscWindow *self, const gchar *connection_id)
{
	OscApplication *app;
	g_autoptr(OscConnection) connection = NULL;

	g_return_if_fail(OSC_IS_WINDOW(self));

	app = OSC_APPLICATION(gtk_window_get_application(GTK_WINDOW(self)));
	connection = osc_connection_list_lookup(osc_application_get_connections(app), connection_id);
	if (connection == NULL)
		connection = osc_connection_list_lookup(osc_application_get_connections(app),
							OSC_CONNECTION_LOCAL_ID);
	g_free(self->connection_id);
	self->connection_id = g_strdup(osc_connection_get_id(connection));
	g_settings_set_string(self->settings, "last-connection", self->connection_id);
	osc_window_open_connection(self, connection);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CONNECTION_ID]);
}

OscClient *
osc_window_get_client(OscWindow *self)
{
	g_return_val_if_fail(OSC_IS_WINDOW(self), NULL);
	return self->client;
}

OscEntryStore *
osc_window_get_store(OscWindow *self)
{
	g_return_val_if_fail(OSC_IS_WINDOW(self), NULL);
	return self->store;
}

void
_osc_window_rebuild_connection_menu(OscWindow *self)
{
	OscApplication *app = OSC_APPLICATION(gtk_window_get_application(GTK_WINDOW(self)));
	GListModel *connections = G_LIST_MODEL(osc_application_get_connections(app));
	g_autoptr(GMenu) menu = g_menu_new();
	g_autoptr(GMenu) list = g_menu_new();
	g_autoptr(GMenu) manage = g_menu_new();
	guint n = g_list_model_get_n_items(connections);

	for (guint i = 0; i < n; i++) {
		g_autoptr(OscConnection) c = g_list_model_get_item(connections, i);
		g_autoptr(GMenuItem) item =
		    g_menu_item_new(osc_connection_get_name(c), NULL);

		g_menu_item_set_action_and_target(item, "win.connect", "s",
						  osc_connection_get_id(c));
		g_menu_append_item(list, item);
	}
	g_menu_append(manage, _("_Add Connection…"), "win.new-connection");
	g_menu_append(manage, _("_Remove This Connection"), "win.remove-connection");
	g_menu_append_section(menu, NULL, G_MENU_MODEL(list));
	g_menu_append_section(menu, NULL, G_MENU_MODEL(manage));
	gtk_menu_button_set_menu_model(self->connection_button, G_MENU_MODEL(menu));
}

static void
osc_window_connections_changed_cb(GListModel *model,
				  guint position,
				  guint removed,
				  guint added,
				  gpointer user_data)
{
	_osc_window_rebuild_connection_menu(OSC_WINDOW(user_data));
}

static void
osc_window_add_page(OscWindow *self,
		    GtkWidget *page,
		    const gchar *name,
		    const gchar *title,
		    const gchar *icon_name)
{
	adw_view_stack_add_titled(self->view_stack, page, name, title);
	adw_view_stack_page_set_icon_name(adw_view_stack_get_page(self->view_stack, page),
					  icon_name);
	g_ptr_array_add(self->pages, page);
}

static void
osc_window_add_pages(OscWindow *self)
{
#ifdef OSC_HAVE_PAGES
	osc_pages_ensure_types();
	osc_window_add_page(self, g_object_new(OSC_TYPE_DASHBOARD_PAGE, NULL), "dashboard",
			    _("Dashboard"), "speedometer-symbolic");
	osc_window_add_page(self, g_object_new(OSC_TYPE_CHARTS_PAGE, NULL), "charts",
			    _("Charts"), "org.gnome.Settings-diagnostics-symbolic");
	osc_window_add_page(self, g_object_new(OSC_TYPE_CLUSTER_PAGE, NULL), "cluster",
			    _("Cluster"), "network-workgroup-symbolic");
	osc_window_add_page(self, g_object_new(OSC_TYPE_SSE_STATS_PAGE, NULL), "sse",
			    _("Live Events"), "network-transmit-receive-symbolic");
	osc_window_add_page(self, g_object_new(OSC_TYPE_METRICS_PAGE, NULL), "metrics",
			    _("Metrics"), "utilities-system-monitor-symbolic");
	osc_window_add_page(self, g_object_new(OSC_TYPE_BACKUP_PAGE, NULL), "backup",
			    _("Backup"), "document-save-symbolic");
	gtk_widget_set_visible(self->history_button, TRUE);
	g_menu_append(self->tools_section, _("Re-_key…"), "win.rekey");
#else
	(void)osc_window_add_page;
#endif
}

/* ---- GObject ---- */

/* closing the last window quits the application: app.quit stops the embedded server first */
static gboolean
osc_window_close_request(GtkWindow *window)
{
	GtkApplication *app = gtk_window_get_application(window);
	GList *windows = app != NULL ? gtk_application_get_windows(app) : NULL;
	guint n_main = 0;

	for (GList *l = windows; l != NULL; l = l->next)
		n_main += OSC_IS_WINDOW(l->data) ? 1 : 0;
	if (n_main == 1) {
		g_action_group_activate_action(G_ACTION_GROUP(app), "quit", NULL);
		return TRUE;
	}
	return GTK_WINDOW_CLASS(osc_window_parent_class)->close_request(window);
}

/* what needs the application, which GObject sets only after construction */
static void
osc_window_setup(OscWindow *self)
{
	OscApplication *app = OSC_APPLICATION(gtk_window_get_application(GTK_WINDOW(self)));

	self->settings = g_object_ref(osc_application_get_settings(app));
	g_settings_bind(self->settings, "window-width", self, "default-width",
			G_SETTINGS_BIND_DEFAULT);
	g_settings_bind(self->settings, "window-height", self, "default-height",
			G_SETTINGS_BIND_DEFAULT);
	/* the preference drives every page that refreshes by itself (the Cluster page) */
	for (guint i = 0; i < self->pages->len; i++) {
		GObject *page = g_ptr_array_index(self->pages, i);

		if (g_object_class_find_property(G_OBJECT_GET_CLASS(page), "refresh-interval"))
			g_settings_bind(self->settings, "auto-refresh-interval", page,
					"refresh-interval", G_SETTINGS_BIND_GET);
	}
	self->mask_values = g_settings_get_boolean(self->settings, "mask-values");
	g_signal_connect(self->settings, "changed::mask-values",
			 G_CALLBACK(osc_window_mask_changed_cb), self);
	g_signal_connect_object(osc_application_get_connections(app), "items-changed",
				G_CALLBACK(osc_window_connections_changed_cb), self, 0);
	_osc_window_rebuild_connection_menu(self);
	osc_window_set_connection_id(self, g_settings_get_string(self->settings, "last-connection"));
}

static void
osc_window_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscWindow *self = OSC_WINDOW(object);

	switch (prop_id) {
	case PROP_CONNECTION_ID:
		g_value_set_string(value, self->connection_id);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_window_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	OscWindow *self = OSC_WINDOW(object);

	switch (prop_id) {
	case PROP_CONNECTION_ID:
		/* before construction ends there is no application to look connections up in */
		if (gtk_window_get_application(GTK_WINDOW(self)) != NULL &&
		    self->settings != NULL)
			osc_window_set_connection_id(self, g_value_get_string(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_window_dispose(GObject *object)
{
	OscWindow *self = OSC_WINDOW(object);

	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	if (self->events != NULL) {
		g_signal_handlers_disconnect_by_data(self->events, self);
		osc_event_stream_stop(self->events);
	}
	if (self->settings != NULL)
		g_signal_handlers_disconnect_by_data(self->settings, self);
	if (self->store != NULL) {
		g_signal_handlers_disconnect_by_data(osc_entry_store_get_entries(self->store), self);
		g_signal_handlers_disconnect_by_data(osc_entry_store_get_environments(self->store),
						     self);
		g_signal_handlers_disconnect_by_data(self->store, self);
	}
	/* the template's widgets signal while they go; nothing of ours may listen then */
	if (self->env_list != NULL) {
		g_signal_handlers_disconnect_by_data(self->env_list, self);
		g_signal_handlers_disconnect_by_data(self->category_dropdown, self);
		g_signal_handlers_disconnect_by_data(self->search_entry, self);
		g_signal_handlers_disconnect_by_data(self->selection, self);
		g_signal_handlers_disconnect_by_data(self->sort_model, self);
		g_signal_handlers_disconnect_by_data(self->column_view, self);
	}
	g_clear_handle_id(&self->clipboard_source, g_source_remove);
	if (self->editor != NULL)
		gtk_window_destroy(GTK_WINDOW(self->editor));
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_WINDOW);
	g_clear_pointer(&self->value_cells, g_ptr_array_unref);
	g_clear_pointer(&self->pages, g_ptr_array_unref);
	g_clear_object(&self->events);
	g_clear_object(&self->client);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->connection);
	g_clear_object(&self->changed_item);
	g_clear_object(&self->store);
	g_clear_object(&self->settings);
	g_clear_pointer(&self->connection_id, g_free);
	g_clear_pointer(&self->undo_key, g_free);
	g_clear_pointer(&self->undo_environment, g_free);
	g_clear_pointer(&self->undo_category, g_free);
	g_clear_pointer(&self->undo_value_json, osc_keyring_free_secret);
	g_clear_pointer(&self->copied_value, osc_keyring_free_secret);
	G_OBJECT_CLASS(osc_window_parent_class)->dispose(object);
}

static void
osc_window_class_init(OscWindowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = osc_window_dispose;
	object_class->get_property = osc_window_get_property;
	object_class->set_property = osc_window_set_property;
	GTK_WINDOW_CLASS(klass)->close_request = osc_window_close_request;

	properties[PROP_CONNECTION_ID] =
	    g_param_spec_string("connection-id", NULL, NULL, NULL,
				G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	g_type_ensure(OSC_TYPE_ENTRY_FILTER);
	g_type_ensure(OSC_TYPE_ENTRY_ITEM);
	g_type_ensure(OSC_TYPE_COUNT_ITEM);

	gtk_widget_class_set_template_from_resource(widget_class,
						    "/org/opensecureconf/Admin/ui/osc-window.ui");
	gtk_widget_class_bind_template_child(widget_class, OscWindow, toast_overlay);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, switcher_title);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, view_stack);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, flap);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, env_list);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, search_bar);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, search_entry);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, category_dropdown);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, content_stack);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, column_view);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, value_column);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, selection);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, sort_model);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, filter_model);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, filter);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, connection_button);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, banner_revealer);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, banner_label);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, keyring_revealer);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, count_label);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, spinner);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, history_button);
	gtk_widget_class_bind_template_child(widget_class, OscWindow, tools_section);

	gtk_widget_class_install_property_action(widget_class, "win.connect", "connection-id");
	_osc_window_class_add_actions(widget_class);
}

static void
osc_window_init(OscWindow *self)
{
	g_autoptr(GtkListItemFactory) value_factory = gtk_signal_list_item_factory_new();

	gtk_widget_init_template(GTK_WIDGET(self));

	self->store = osc_entry_store_new();
	self->cancellable = g_cancellable_new();
	self->value_cells = g_ptr_array_new();
	/* the state of win.connect: a property action cannot hold NULL */
	self->connection_id = g_strdup("");
	self->pages = g_ptr_array_new();

	gtk_filter_list_model_set_model(self->filter_model, osc_entry_store_get_entries(self->store));
	gtk_sort_list_model_set_sorter(self->sort_model, gtk_column_view_get_sorter(self->column_view));
	g_signal_connect(osc_entry_store_get_entries(self->store), "items-changed",
			 G_CALLBACK(osc_window_entries_changed_cb), self);
	g_signal_connect(self->sort_model, "items-changed",
			 G_CALLBACK(osc_window_entries_changed_cb), self);
	g_signal_connect(self->store, "notify::loading", G_CALLBACK(osc_window_loading_cb), self);
	g_signal_connect(self->store, "reload-needed", G_CALLBACK(osc_window_reload_needed_cb),
			 self);

	g_signal_connect(value_factory, "setup", G_CALLBACK(osc_window_value_setup_cb), self);
	g_signal_connect(value_factory, "bind", G_CALLBACK(osc_window_value_bind_cb), self);
	g_signal_connect(value_factory, "unbind", G_CALLBACK(osc_window_value_unbind_cb), self);
	gtk_column_view_column_set_factory(self->value_column, value_factory);

	gtk_list_box_bind_model(self->env_list, osc_entry_store_get_environments(self->store),
				osc_window_create_env_row_cb, NULL, NULL);
	g_signal_connect(self->env_list, "row-selected", G_CALLBACK(osc_window_env_selected_cb),
			 self);
	g_signal_connect_after(osc_entry_store_get_environments(self->store), "items-changed",
			       G_CALLBACK(osc_window_environments_changed_cb), self);
	gtk_list_box_select_row(self->env_list, gtk_list_box_get_row_at_index(self->env_list, 0));

	gtk_drop_down_set_model(self->category_dropdown,
				osc_entry_store_get_categories(self->store));
	g_signal_connect(self->category_dropdown, "notify::selected",
			 G_CALLBACK(osc_window_category_selected_cb), self);
	g_signal_connect(self->search_entry, "search-changed",
			 G_CALLBACK(osc_window_search_changed_cb), self);
	gtk_search_bar_connect_entry(self->search_bar, GTK_EDITABLE(self->search_entry));
	g_signal_connect(self->selection, "notify::selected",
			 G_CALLBACK(osc_window_selection_changed_cb), self);
	g_signal_connect(self->column_view, "activate", G_CALLBACK(osc_window_activate_cb), self);

	osc_window_add_pages(self);
	_osc_window_update_actions(self);
	osc_window_update_content(self);
}

OscWindow *
osc_window_new(OscApplication *application)
{
	OscWindow *self;

	g_return_val_if_fail(OSC_IS_APPLICATION(application), NULL);

	self = g_object_new(OSC_TYPE_WINDOW, "application", application, NULL);
	osc_window_setup(self);
	return self;
}
