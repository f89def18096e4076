/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>

#include "osc-connection-list.h"

/*
 * The saved connections as a GListModel: "Local" first, then the remote servers of the
 * GSettings key "connections", in the order they were added. Follows changes of the key
 * (another window, dconf-editor) and writes it back on add and remove.
 */
struct _OscConnectionList {
	GObject parent_instance;
	GSettings *settings;
	GListStore *store;
	gboolean saving;
};

static void osc_connection_list_model_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(OscConnectionList,
			      osc_connection_list,
			      G_TYPE_OBJECT,
			      G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL,
						    osc_connection_list_model_init))

static GType
osc_connection_list_get_item_type(GListModel *model)
{
	return OSC_TYPE_CONNECTION;
}

static guint
osc_connection_list_get_n_items(GListModel *model)
{
	return g_list_model_get_n_items(G_LIST_MODEL(OSC_CONNECTION_LIST(model)->store));
}

static gpointer
osc_connection_list_get_item(GListModel *model, guint position)
{
	return g_list_model_get_item(G_LIST_MODEL(OSC_CONNECTION_LIST(model)->store), position);
}

static void
osc_connection_list_model_init(GListModelInterface *iface)
{
	iface->get_item_type = osc_connection_list_get_item_type;
	iface->get_n_items = osc_connection_list_get_n_items;
	iface->get_item = osc_connection_list_get_item;
}

static void
osc_connection_list_items_changed_cb(GListModel *store,
				     guint position,
				     guint removed,
				     guint added,
				     gpointer user_data)
{
	g_list_model_items_changed(G_LIST_MODEL(user_data), position, removed, added);
}

static void
osc_connection_list_reload(OscConnectionList *self)
{
	g_autoptr(GVariant) value = g_settings_get_value(self->settings, "connections");
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GVariantIter iter;
	const gchar *id, *name, *url, *ca_file;
	gboolean verify;

	g_ptr_array_add(items, osc_connection_new_local());
	g_hash_table_add(seen, (gpointer)OSC_CONNECTION_LOCAL_ID);
	g_variant_iter_init(&iter, value);
	while (g_variant_iter_next(&iter, "(&s&s&s&sb)", &id, &name, &url, &ca_file, &verify)) {
		/* hand-edited settings may hold junk: skip what we could not connect to */
		if (id[0] == '\0' || url[0] == '\0' || g_hash_table_contains(seen, id))
			continue;
		g_hash_table_add(seen, (gpointer)id);
		g_ptr_array_add(items, osc_connection_new(id, name, url, ca_file, verify));
	}
	g_list_store_splice(self->store, 0, g_list_model_get_n_items(G_LIST_MODEL(self->store)),
			    items->pdata, items->len);
}

static void
osc_connection_list_changed_cb(GSettings *settings, const gchar *key, gpointer user_data)
{
	OscConnectionList *self = user_data;

	if (!self->saving)
		osc_connection_list_reload(self);
}

static void
osc_connection_list_save(OscConnectionList *self)
{
	GVariantBuilder builder;
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->store));

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(ssssb)"));
	for (guint i = 0; i < n; i++) {
		g_autoptr(OscConnection) c = g_list_model_get_item(G_LIST_MODEL(self->store), i);
		const gchar *ca_file = osc_connection_get_ca_file(c);

		if (osc_connection_is_local(c))
			continue;
		g_variant_builder_add(&builder, "(ssssb)", osc_connection_get_id(c),
				      osc_connection_get_name(c), osc_connection_get_url(c),
				      ca_file != NULL ? ca_file : "",
				      osc_connection_get_tls_verify(c));
	}
	self->saving = TRUE;
	g_settings_set_value(self->settings, "connections", g_variant_builder_end(&builder));
	self->saving = FALSE;
}

static void
osc_connection_list_dispose(GObject *object)
{
	OscConnectionList *self = OSC_CONNECTION_LIST(object);

	if (self->settings != NULL)
		g_signal_handlers_disconnect_by_data(self->settings, self);
	if (self->store != NULL)
		g_signal_handlers_disconnect_by_data(self->store, self);
	g_clear_object(&self->settings);
	g_clear_object(&self->store);
	G_OBJECT_CLASS(osc_connection_list_parent_class)->dispose(object);
}

static void
osc_connection_list_class_init(OscConnectionListClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = osc_connection_list_dispose;
}

static void
osc_connection_list_init(OscConnectionList *self)
{
	self->store = g_list_store_new(OSC_TYPE_CONNECTION);
	g_signal_connect(self->store, "items-changed",
			 G_CALLBACK(osc_connection_list_items_changed_cb), self);
}

OscConnectionList *
osc_connection_list_new(GSettings *settings)
{
	OscConnectionList *self;

	g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);

	self = g_object_new(OSC_TYPE_CONNECTION_LIST, NULL);
	self->settings = g_object_ref(settings);
	g_signal_connect(settings, "changed::connections",
			 G_CALLBACK(osc_connection_list_changed_cb), self);
	osc_connection_list_reload(self);
	return self;
}

static gboolean
osc_connection_list_find(OscConnectionList *self, const gchar *id, guint *position)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->store));

	for (guint i = 0; i < n; i++) {
		g_autoptr(OscConnection) c = g_list_model_get_item(G_LIST_MODEL(self->store), i);

		if (g_strcmp0(osc_connection_get_id(c), id) == 0) {
			*position = i;
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * osc_connection_list_lookup:
 *
 * Returns: (transfer full) (nullable): the connection with this id
 */
OscConnection *
osc_connection_list_lookup(OscConnectionList *self, const gchar *id)
{
	guint pos;

	g_return_val_if_fail(OSC_IS_CONNECTION_LIST(self), NULL);
	if (id == NULL || !osc_connection_list_find(self, id, &pos))
		return NULL;
	return g_list_model_get_item(G_LIST_MODEL(self->store), pos);
}

/**
 * osc_connection_list_add:
 *
 * Saves @connection, replacing the one with the same id if any.
 */
gboolean
osc_connection_list_add(OscConnectionList *self, OscConnection *connection, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	const gchar *scheme;
	guint pos;

	g_return_val_if_fail(OSC_IS_CONNECTION_LIST(self), FALSE);
	g_return_val_if_fail(OSC_IS_CONNECTION(connection), FALSE);

	if (osc_connection_is_local(connection)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    _("The local connection cannot be replaced"));
		return FALSE;
	}
	uri = g_uri_parse(osc_connection_get_url(connection) != NULL
			      ? osc_connection_get_url(connection)
			      : "",
			  G_URI_FLAGS_NONE, NULL);
	scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
	if (uri == NULL || g_uri_get_host(uri) == NULL ||
	    (g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not an http:// or https:// URL"),
			    osc_connection_get_url(connection) != NULL
				? osc_connection_get_url(connection)
				: "");
		return FALSE;
	}
	if (osc_connection_list_find(self, osc_connection_get_id(connection), &pos))
		g_list_store_splice(self->store, pos, 1, (gpointer *)&connection, 1);
	else
		g_list_store_append(self->store, connection);
	osc_connection_list_save(self);
	return TRUE;
}

gboolean
osc_connection_list_remove(OscConnectionList *self, const gchar *id)
{
	guint pos;

	g_return_val_if_fail(OSC_IS_CONNECTION_LIST(self), FALSE);
	if (g_strcmp0(id, OSC_CONNECTION_LOCAL_ID) == 0 ||
	    !osc_connection_list_find(self, id, &pos))
		return FALSE;
	g_list_store_remove(self->store, pos);
	osc_connection_list_save(self);
	return TRUE;
}

/* a fresh id for a new connection (the keyring items are found by it) */
gchar *
osc_connection_list_new_id(OscConnectionList *self)
{
	g_return_val_if_fail(OSC_IS_CONNECTION_LIST(self), NULL);
	return g_uuid_string_random();
}
