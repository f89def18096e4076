/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include "osc-count-item.h"
#include "osc-entry-store.h"

/* rows added per main-loop iteration while loading: small enough to keep a frame short */
#define OSC_LOAD_CHUNK 4000

/*
 * The entries of one connection, as GListModels the views bind to: the entries themselves,
 * and the environments and categories with their counts ("All" first). Fed by a list call,
 * then kept current by SSE events and by the results of our own writes.
 */
struct _OscEntryStore {
	GObject parent_instance;
	GListStore *entries;
	GListStore *environments;
	GListStore *categories;
	GHashTable *index;	     /* "environment\x1fkey" -> OscEntryItem */
	GHashTable *env_counts;	     /* name -> OscCountItem */
	GHashTable *category_counts; /* name -> OscCountItem */
	OscCountItem *env_all;
	OscCountItem *category_all;
	guint loading;
};

G_DEFINE_FINAL_TYPE(OscEntryStore, osc_entry_store, G_TYPE_OBJECT)

enum { PROP_0, PROP_LOADING, N_PROPS };

static GParamSpec *properties[N_PROPS];

enum { SIGNAL_RELOAD_NEEDED, N_SIGNALS };

static guint signals[N_SIGNALS];

static gchar *
osc_entry_store_index_key(const gchar *key, const gchar *environment)
{
	return g_strconcat(environment, "\x1f", key, NULL);
}

static void
osc_entry_store_count(GListStore *list, GHashTable *counts, const gchar *name, gint delta)
{
	OscCountItem *item;

	if (name == NULL)
		return;
	item = g_hash_table_lookup(counts, name);
	if (item == NULL) {
		if (delta <= 0)
			return;
		item = osc_count_item_new(name);
		g_hash_table_insert(counts, g_strdup(name), item);
		g_list_store_insert_sorted(list, item, osc_count_item_compare, NULL);
	}
	if (delta < 0 && osc_count_item_get_count(item) <= (guint)-delta) {
		guint pos;

		if (g_list_store_find(list, item, &pos))
			g_list_store_remove(list, pos);
		g_hash_table_remove(counts, name);
		return;
	}
	osc_count_item_set_count(item, osc_count_item_get_count(item) + delta);
}

static void
osc_entry_store_count_item(OscEntryStore *self, OscEntryItem *item, gint delta)
{
	osc_entry_store_count(self->environments, self->env_counts,
			      osc_entry_item_get_environment(item), delta);
	osc_entry_store_count(self->categories, self->category_counts,
			      osc_entry_item_get_category(item), delta);
}

static void
osc_entry_store_update_totals(OscEntryStore *self)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->entries));

	osc_count_item_set_count(self->env_all, n);
	osc_count_item_set_count(self->category_all, n);
}

static void
osc_entry_store_dispose(GObject *object)
{
	OscEntryStore *self = OSC_ENTRY_STORE(object);

	g_clear_object(&self->entries);
	g_clear_object(&self->environments);
	g_clear_object(&self->categories);
	g_clear_object(&self->env_all);
	g_clear_object(&self->category_all);
	g_clear_pointer(&self->index, g_hash_table_unref);
	g_clear_pointer(&self->env_counts, g_hash_table_unref);
	g_clear_pointer(&self->category_counts, g_hash_table_unref);
	G_OBJECT_CLASS(osc_entry_store_parent_class)->dispose(object);
}

static void
osc_entry_store_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscEntryStore *self = OSC_ENTRY_STORE(object);

	switch (prop_id) {
	case PROP_LOADING:
		g_value_set_boolean(value, osc_entry_store_get_loading(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_entry_store_class_init(OscEntryStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = osc_entry_store_dispose;
	object_class->get_property = osc_entry_store_get_property;

	properties[PROP_LOADING] =
	    g_param_spec_boolean("loading", NULL, NULL, FALSE,
				 G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	/**
	 * OscEntryStore::reload-needed:
	 *
	 * Events were lost (a `reset` event): the content may be stale and should be
	 * loaded again.
	 */
	signals[SIGNAL_RELOAD_NEEDED] = g_signal_new("reload-needed", G_TYPE_FROM_CLASS(klass),
						     G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
						     G_TYPE_NONE, 0);
}

static void
osc_entry_store_init(OscEntryStore *self)
{
	self->entries = g_list_store_new(OSC_TYPE_ENTRY_ITEM);
	self->environments = g_list_store_new(OSC_TYPE_COUNT_ITEM);
	self->categories = g_list_store_new(OSC_TYPE_COUNT_ITEM);
	self->index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->env_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->category_counts =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->env_all = osc_count_item_new(NULL);
	self->category_all = osc_count_item_new(NULL);
	g_list_store_append(self->environments, self->env_all);
	g_list_store_append(self->categories, self->category_all);
}

OscEntryStore *
osc_entry_store_new(void)
{
	return g_object_new(OSC_TYPE_ENTRY_STORE, NULL);
}

GListModel *
osc_entry_store_get_entries(OscEntryStore *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_STORE(self), NULL);
	return G_LIST_MODEL(self->entries);
}

GListModel *
osc_entry_store_get_environments(OscEntryStore *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_STORE(self), NULL);
	return G_LIST_MODEL(self->environments);
}

GListModel *
osc_entry_store_get_categories(OscEntryStore *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_STORE(self), NULL);
	return G_LIST_MODEL(self->categories);
}

gboolean
osc_entry_store_get_loading(OscEntryStore *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_STORE(self), FALSE);
	return self->loading > 0;
}

static void
osc_entry_store_set_loading(OscEntryStore *self, gboolean loading)
{
	gboolean was = self->loading > 0;

	if (loading)
		self->loading++;
	else
		self->loading--;
	if (was != (self->loading > 0))
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_LOADING]);
}

void
osc_entry_store_clear(OscEntryStore *self)
{
	g_return_if_fail(OSC_IS_ENTRY_STORE(self));

	g_hash_table_remove_all(self->index);
	g_list_store_remove_all(self->entries);
	g_hash_table_remove_all(self->env_counts);
	g_hash_table_remove_all(self->category_counts);
	g_list_store_splice(self->environments, 1,
			    g_list_model_get_n_items(G_LIST_MODEL(self->environments)) - 1, NULL, 0);
	g_list_store_splice(self->categories, 1,
			    g_list_model_get_n_items(G_LIST_MODEL(self->categories)) - 1, NULL, 0);
	osc_entry_store_update_totals(self);
}

static OscEntryItem *
osc_entry_store_item_from_entry(OscConfigEntry *entry)
{
	g_autofree gchar *value = osc_config_entry_get_value_string(entry);

	return osc_entry_item_new(osc_config_entry_get_key(entry),
				  osc_config_entry_get_environment(entry),
				  osc_config_entry_get_category(entry), value,
				  osc_config_entry_get_updated_at(entry),
				  osc_config_entry_get_etag(entry));
}

static void
osc_entry_store_update_item(OscEntryItem *item, OscConfigEntry *entry)
{
	g_autofree gchar *value = osc_config_entry_get_value_string(entry);

	osc_entry_item_set_value_json(item, value);
	osc_entry_item_set_updated_at(item, osc_config_entry_get_updated_at(entry));
	osc_entry_item_set_etag(item, osc_config_entry_get_etag(entry));
}

static void
osc_entry_store_set_category(OscEntryStore *self, OscEntryItem *item, const gchar *category)
{
	if (g_strcmp0(osc_entry_item_get_category(item), category) == 0)
		return;
	osc_entry_store_count(self->categories, self->category_counts,
			      osc_entry_item_get_category(item), -1);
	osc_entry_item_set_category(item, category);
	osc_entry_store_count(self->categories, self->category_counts, category, +1);
}

/**
 * osc_entry_store_add_entries:
 * @entries: (element-type OscConfigEntry): entries from a list call
 *
 * Adds entries @start to @end - 1 of @entries in one change of the list (entries already
 * known are updated in place instead).
 */
void
osc_entry_store_add_entries(OscEntryStore *self, GPtrArray *entries, guint start, guint end)
{
	g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_object_unref);

	g_return_if_fail(OSC_IS_ENTRY_STORE(self));
	g_return_if_fail(start <= end && end <= entries->len);

	for (guint i = start; i < end; i++) {
		OscConfigEntry *entry = g_ptr_array_index(entries, i);
		g_autofree gchar *ikey = osc_entry_store_index_key(
		    osc_config_entry_get_key(entry), osc_config_entry_get_environment(entry));
		OscEntryItem *item = g_hash_table_lookup(self->index, ikey);

		if (item != NULL) {
			osc_entry_store_set_category(self, item,
						     osc_config_entry_get_category(entry));
			osc_entry_store_update_item(item, entry);
			continue;
		}
		item = osc_entry_store_item_from_entry(entry);
		g_hash_table_insert(self->index, g_steal_pointer(&ikey), g_object_ref(item));
		osc_entry_store_count_item(self, item, +1);
		g_ptr_array_add(added, item);
	}
	g_list_store_splice(self->entries, g_list_model_get_n_items(G_LIST_MODEL(self->entries)),
			    0, added->pdata, added->len);
	osc_entry_store_update_totals(self);
}

/**
 * osc_entry_store_upsert:
 *
 * Records what the server returned for one entry (our own create, update or read).
 *
 * Returns: (transfer none): the entry's item
 */
OscEntryItem *
osc_entry_store_upsert(OscEntryStore *self, OscConfigEntry *entry)
{
	g_autoptr(GPtrArray) one = g_ptr_array_new();

	g_return_val_if_fail(OSC_IS_ENTRY_STORE(self), NULL);
	g_return_val_if_fail(entry != NULL, NULL);

	g_ptr_array_add(one, entry);
	osc_entry_store_add_entries(self, one, 0, 1);
	return osc_entry_store_lookup(self, osc_config_entry_get_key(entry),
				      osc_config_entry_get_environment(entry));
}

/**
 * osc_entry_store_lookup:
 *
 * Returns: (transfer none) (nullable): the item of this entry
 */
OscEntryItem *
osc_entry_store_lookup(OscEntryStore *self, const gchar *key, const gchar *environment)
{
	g_autofree gchar *ikey = NULL;

	g_return_val_if_fail(OSC_IS_ENTRY_STORE(self), NULL);
	if (key == NULL || environment == NULL)
		return NULL;
	ikey = osc_entry_store_index_key(key, environment);
	return g_hash_table_lookup(self->index, ikey);
}

gboolean
osc_entry_store_remove(OscEntryStore *self, const gchar *key, const gchar *environment)
{
	g_autofree gchar *ikey = NULL;
	OscEntryItem *item;
	guint pos;

	g_return_val_if_fail(OSC_IS_ENTRY_STORE(self), FALSE);
	if (key == NULL || environment == NULL)
		return FALSE;
	ikey = osc_entry_store_index_key(key, environment);
	item = g_hash_table_lookup(self->index, ikey);
	if (item == NULL)
		return FALSE;
	osc_entry_store_count_item(self, item, -1);
	if (g_list_store_find(self->entries, item, &pos))
		g_list_store_remove(self->entries, pos);
	g_hash_table_remove(self->index, ikey);
	osc_entry_store_update_totals(self);
	return TRUE;
}

/**
 * osc_entry_store_apply_event:
 * @event: a change event from the entry stream
 *
 * Applies `created`, `updated`, `sync` and `deleted` events; a `reset` event emits
 * #OscEntryStore::reload-needed; other events are ignored.
 * An event carries no ETag, so the item's ETag is cleared: whoever edits it reads it again.
 *
 * Returns: (transfer none) (nullable): the item that changed (for `deleted`, the item as
 *   it was, valid until the caller returns to the main loop), or NULL
 */
OscEntryItem *
osc_entry_store_apply_event(OscEntryStore *self, OscEvent *event)
{
	const gchar *type, *key, *environment, *category;
	g_autofree gchar *value = NULL;
	OscEntryItem *item;

	g_return_val_if_fail(OSC_IS_ENTRY_STORE(self), NULL);
	g_return_val_if_fail(OSC_IS_EVENT(event), NULL);

	type = osc_event_get_event_type(event);
	if (g_strcmp0(type, "reset") == 0) {
		g_signal_emit(self, signals[SIGNAL_RELOAD_NEEDED], 0);
		return NULL;
	}
	key = osc_event_get_key(event);
	environment = osc_event_get_environment(event);
	category = osc_event_get_category(event);
	if (key == NULL || environment == NULL)
		return NULL;
	item = osc_entry_store_lookup(self, key, environment);

	if (g_strcmp0(type, "deleted") == 0) {
		g_autoptr(OscEntryItem) gone = item != NULL ? g_object_ref(item) : NULL;

		if (item == NULL)
			return NULL;
		osc_entry_store_remove(self, key, environment);
		/* the index held it until now: keep it until the next deleted event, so that the
		 * caller gets a valid borrowed pointer */
		g_object_set_data_full(G_OBJECT(self), "osc-last-deleted", g_steal_pointer(&gone),
				       g_object_unref);
		return g_object_get_data(G_OBJECT(self), "osc-last-deleted");
	}
	if (g_strcmp0(type, "created") != 0 && g_strcmp0(type, "updated") != 0 &&
	    g_strcmp0(type, "sync") != 0)
		return NULL;

	/* a subscriber whose key did not encrypt the entry gets no value (D-4) */
	value = osc_event_get_value_string(event);
	if (item == NULL) {
		g_autofree gchar *ikey = osc_entry_store_index_key(key, environment);

		item = osc_entry_item_new(key, environment, category, value,
					  osc_event_get_timestamp(event), NULL);
		g_hash_table_insert(self->index, g_steal_pointer(&ikey), item);
		osc_entry_store_count_item(self, item, +1);
		g_list_store_append(self->entries, item);
		osc_entry_store_update_totals(self);
		return item;
	}
	/* an update that sent no category leaves the row's category as it is (API.md §5.4) */
	if (category != NULL || g_strcmp0(type, "updated") != 0)
		osc_entry_store_set_category(self, item, category);
	if (value != NULL)
		osc_entry_item_set_value_json(item, value);
	osc_entry_item_set_updated_at(item, osc_event_get_timestamp(event));
	osc_entry_item_set_etag(item, NULL);
	return item;
}

typedef struct {
	GPtrArray *entries;
	guint next;
} LoadData;

static void
load_data_free(LoadData *data)
{
	g_clear_pointer(&data->entries, g_ptr_array_unref);
	g_free(data);
}

static gboolean
osc_entry_store_load_chunk_cb(gpointer user_data)
{
	GTask *task = user_data;
	OscEntryStore *self = g_task_get_source_object(task);
	LoadData *data = g_task_get_task_data(task);
	guint end;

	if (g_task_return_error_if_cancelled(task)) {
		osc_entry_store_set_loading(self, FALSE);
		return G_SOURCE_REMOVE;
	}
	end = MIN(data->next + OSC_LOAD_CHUNK, data->entries->len);
	osc_entry_store_add_entries(self, data->entries, data->next, end);
	data->next = end;
	if (end < data->entries->len)
		return G_SOURCE_CONTINUE;
	osc_entry_store_set_loading(self, FALSE);
	g_task_return_boolean(task, TRUE);
	return G_SOURCE_REMOVE;
}

static void
osc_entry_store_list_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	OscEntryStore *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;
	LoadData *data;
	GPtrArray *entries;

	entries = osc_client_list_finish(OSC_CLIENT(source), result, &error);
	if (entries == NULL) {
		osc_entry_store_set_loading(self, FALSE);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (g_task_return_error_if_cancelled(task)) {
		g_ptr_array_unref(entries);
		osc_entry_store_set_loading(self, FALSE);
		return;
	}
	osc_entry_store_clear(self);
	data = g_new0(LoadData, 1);
	data->entries = entries;
	g_task_set_task_data(task, data, (GDestroyNotify)load_data_free);
	/* in chunks with a pause between them, in which the window repaints and handles input.
	 * Not an idle source: a window that animates (the spinner) under a slow renderer
	 * never leaves the main loop idle, and the load would starve. */
	g_timeout_add_full(G_PRIORITY_DEFAULT, 1, osc_entry_store_load_chunk_cb,
			   g_steal_pointer(&task), g_object_unref);
}

/**
 * osc_entry_store_load_async:
 *
 * Replaces the content with the entries @client lists (values included).
 */
void
osc_entry_store_load_async(OscEntryStore *self,
			   OscClient *client,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(OSC_IS_ENTRY_STORE(self));
	g_return_if_fail(OSC_IS_CLIENT(client));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, osc_entry_store_load_async);
	osc_entry_store_set_loading(self, TRUE);
	osc_client_list_async(client, NULL, NULL, TRUE, cancellable, osc_entry_store_list_cb,
			      g_steal_pointer(&task));
}

gboolean
osc_entry_store_load_finish(OscEntryStore *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}
