/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "test-app-models"

#include "config.h"

#include <gtk/gtk.h>

#include "osc-connection-list.h"
#include "osc-count-item.h"
#include "osc-entry-filter.h"
#include "osc-entry-store.h"
#include "osc-event-private.h"

/* the app's models without a display: connections, the entry store fed by events, filters */

static OscEvent *
make_event(const gchar *type, const gchar *json)
{
	g_autoptr(GError) error = NULL;
	OscEvent *event = osc_event_new_from_sse(type, json, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(event);
	return event;
}

static void
apply(OscEntryStore *store, const gchar *type, const gchar *json)
{
	g_autoptr(OscEvent) event = make_event(type, json);

	osc_entry_store_apply_event(store, event);
}

static guint
count_of(GListModel *model, const gchar *name)
{
	guint n = g_list_model_get_n_items(model);

	for (guint i = 0; i < n; i++) {
		g_autoptr(OscCountItem) item = g_list_model_get_item(model, i);

		if (g_strcmp0(osc_count_item_get_name(item), name) == 0)
			return osc_count_item_get_count(item);
	}
	return G_MAXUINT; /* absent */
}

static gchar *
name_at(GListModel *model, guint i)
{
	g_autoptr(OscCountItem) item = g_list_model_get_item(model, i);

	return item != NULL ? g_strdup(osc_count_item_get_label(item)) : NULL;
}

static void
test_connection_list(void)
{
	g_autoptr(GSettings) settings = g_settings_new(OSC_APP_ID);
	g_autoptr(OscConnectionList) list = osc_connection_list_new(settings);
	g_autoptr(OscConnection) local = NULL;
	g_autoptr(OscConnection) remote = NULL;
	g_autoptr(OscConnection) found = NULL;
	g_autoptr(OscConnection) bad = NULL;
	g_autoptr(GVariant) saved = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = osc_connection_list_new_id(list);
	const gchar *sid, *name, *url, *ca;
	gboolean verify;

	/* a fresh profile has only the embedded server */
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(list)), ==, 1);
	local = g_list_model_get_item(G_LIST_MODEL(list), 0);
	g_assert_true(osc_connection_is_local(local));
	g_assert_null(osc_connection_get_url(local));

	/* a remote one is saved to GSettings, without any key */
	remote = osc_connection_new(id, "Staging", "https://staging.example.com:9000",
				    "/etc/ssl/ca.pem", TRUE);
	g_assert_true(osc_connection_list_add(list, remote, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(list)), ==, 2);
	saved = g_settings_get_value(settings, "connections");
	g_assert_cmpuint(g_variant_n_children(saved), ==, 1);
	g_variant_get_child(saved, 0, "(&s&s&s&sb)", &sid, &name, &url, &ca, &verify);
	g_assert_cmpstr(sid, ==, id);
	g_assert_cmpstr(name, ==, "Staging");
	g_assert_cmpstr(url, ==, "https://staging.example.com:9000");
	g_assert_cmpstr(ca, ==, "/etc/ssl/ca.pem");
	g_assert_true(verify);

	found = osc_connection_list_lookup(list, id);
	g_assert_nonnull(found);
	g_assert_cmpstr(osc_connection_get_name(found), ==, "Staging");

	/* a second list (another window) reads the same */
	{
		g_autoptr(OscConnectionList) other = osc_connection_list_new(settings);

		g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(other)), ==, 2);
	}

	/* what is not a server URL is refused; the local one cannot be replaced */
	bad = osc_connection_new("x", NULL, "ftp://example.com", NULL, TRUE);
	g_assert_false(osc_connection_list_add(list, bad, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(osc_connection_list_add(list, local, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(osc_connection_list_remove(list, OSC_CONNECTION_LOCAL_ID));

	/* a change made elsewhere (dconf) is followed; junk rows are skipped */
	g_settings_set_value(settings, "connections",
			     g_variant_new_parsed("[('a', 'A', 'http://a:1', '', true), "
						  "('', 'no id', 'http://b', '', true), "
						  "('c', 'no url', '', '', true), "
						  "('a', 'dup', 'http://dup', '', false)]"));
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(list)), ==, 2);
	g_clear_object(&found);
	found = osc_connection_list_lookup(list, "a");
	g_assert_cmpstr(osc_connection_get_url(found), ==, "http://a:1");
	g_assert_null(osc_connection_get_ca_file(found));

	g_assert_true(osc_connection_list_remove(list, "a"));
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(list)), ==, 1);
	g_clear_pointer(&saved, g_variant_unref);
	saved = g_settings_get_value(settings, "connections");
	g_assert_cmpuint(g_variant_n_children(saved), ==, 0);
}

static void
reload_needed_cb(OscEntryStore *store, gpointer user_data)
{
	(*(guint *)user_data)++;
}

static void
test_entry_store_events(void)
{
	g_autoptr(OscEntryStore) store = osc_entry_store_new();
	GListModel *entries = osc_entry_store_get_entries(store);
	GListModel *envs = osc_entry_store_get_environments(store);
	GListModel *cats = osc_entry_store_get_categories(store);
	OscEntryItem *item;
	g_autofree gchar *first = NULL;
	guint reloads = 0;

	g_signal_connect(store, "reload-needed", G_CALLBACK(reload_needed_cb), &reloads);

	/* "All" is always there, first */
	g_assert_cmpuint(g_list_model_get_n_items(envs), ==, 1);
	first = name_at(envs, 0);
	g_assert_cmpstr(first, ==, "All");

	apply(store, "created",
	      "{\"key\":\"db\",\"environment\":\"production\",\"category\":\"database\","
	      "\"timestamp\":\"2026-01-01T10:00:00\",\"data\":{\"value\":{\"host\":\"db1\"}}}");
	apply(store, "created",
	      "{\"key\":\"cache\",\"environment\":\"staging\",\"category\":null,"
	      "\"timestamp\":\"2026-01-01T10:00:01\",\"data\":{\"value\":\"redis\"}}");
	g_assert_cmpuint(g_list_model_get_n_items(entries), ==, 2);
	item = osc_entry_store_lookup(store, "db", "production");
	g_assert_nonnull(item);
	g_assert_cmpstr(osc_entry_item_get_value_json(item), ==, "{\"host\":\"db1\"}");
	g_assert_cmpstr(osc_entry_item_get_category(item), ==, "database");
	g_assert_null(osc_entry_item_get_etag(item));
	g_assert_cmpuint(count_of(envs, NULL), ==, 2);
	g_assert_cmpuint(count_of(envs, "production"), ==, 1);
	g_assert_cmpuint(count_of(envs, "staging"), ==, 1);
	g_assert_cmpuint(count_of(cats, "database"), ==, 1);
	/* environments sorted after "All" */
	g_free(first);
	first = name_at(envs, 1);
	g_assert_cmpstr(first, ==, "production");

	/* an update without a category keeps the row's category (API.md §5.4) */
	apply(store, "updated",
	      "{\"key\":\"db\",\"environment\":\"production\",\"category\":null,"
	      "\"timestamp\":\"2026-01-01T11:00:00\",\"data\":{\"value\":{\"host\":\"db2\"}}}");
	g_assert_cmpuint(g_list_model_get_n_items(entries), ==, 2);
	g_assert_true(item == osc_entry_store_lookup(store, "db", "production"));
	g_assert_cmpstr(osc_entry_item_get_value_json(item), ==, "{\"host\":\"db2\"}");
	g_assert_cmpstr(osc_entry_item_get_category(item), ==, "database");
	g_assert_cmpstr(osc_entry_item_get_updated_at(item), ==, "2026-01-01T11:00:00");

	/* one that sends a category moves it, and the counts follow */
	apply(store, "updated",
	      "{\"key\":\"db\",\"environment\":\"production\",\"category\":\"storage\","
	      "\"timestamp\":\"2026-01-01T12:00:00\",\"data\":{\"value\":{\"host\":\"db3\"}}}");
	g_assert_cmpstr(osc_entry_item_get_category(item), ==, "storage");
	g_assert_cmpuint(count_of(cats, "database"), ==, G_MAXUINT);
	g_assert_cmpuint(count_of(cats, "storage"), ==, 1);

	/* an event without a value (another key's entry, D-4) keeps what we have */
	apply(store, "updated",
	      "{\"key\":\"db\",\"environment\":\"production\",\"category\":null,"
	      "\"timestamp\":\"2026-01-01T13:00:00\",\"data\":null}");
	g_assert_cmpstr(osc_entry_item_get_value_json(item), ==, "{\"host\":\"db3\"}");
	g_assert_cmpstr(osc_entry_item_get_updated_at(item), ==, "2026-01-01T13:00:00");

	/* the same key in another environment is another entry; sync creates too */
	apply(store, "sync",
	      "{\"key\":\"db\",\"environment\":\"staging\",\"category\":\"storage\","
	      "\"timestamp\":\"2026-01-01T14:00:00\",\"data\":{\"value\":1}}");
	g_assert_cmpuint(g_list_model_get_n_items(entries), ==, 3);
	g_assert_cmpuint(count_of(envs, "staging"), ==, 2);
	g_assert_cmpuint(count_of(cats, "storage"), ==, 2);

	/* deleted removes it; an environment left empty leaves the sidebar */
	apply(store, "deleted",
	      "{\"key\":\"db\",\"environment\":\"production\",\"category\":null,"
	      "\"timestamp\":\"2026-01-01T15:00:00\",\"data\":null}");
	g_assert_cmpuint(g_list_model_get_n_items(entries), ==, 2);
	g_assert_null(osc_entry_store_lookup(store, "db", "production"));
	g_assert_cmpuint(count_of(envs, "production"), ==, G_MAXUINT);
	g_assert_cmpuint(count_of(envs, NULL), ==, 2);
	g_assert_cmpuint(count_of(cats, "storage"), ==, 1);

	/* deleting what we do not know, and keep-alive-ish events, change nothing */
	apply(store, "deleted", "{\"key\":\"nope\",\"environment\":\"x\",\"data\":null}");
	apply(store, "connected", "{\"subscription_id\":\"s\",\"server_time\":\"now\"}");
	g_assert_cmpuint(g_list_model_get_n_items(entries), ==, 2);
	g_assert_cmpuint(reloads, ==, 0);

	/* reset: events were lost, the store asks to be reloaded */
	apply(store, "reset", "{\"reason\":\"restart\",\"last_event_id\":\"9\"}");
	g_assert_cmpuint(reloads, ==, 1);

	osc_entry_store_clear(store);
	g_assert_cmpuint(g_list_model_get_n_items(entries), ==, 0);
	g_assert_cmpuint(g_list_model_get_n_items(envs), ==, 1);
	g_assert_cmpuint(g_list_model_get_n_items(cats), ==, 1);
	g_assert_cmpuint(count_of(envs, NULL), ==, 0);
}

static void
test_entry_store_batch(void)
{
	g_autoptr(OscEntryStore) store = osc_entry_store_new();
	g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func((GDestroyNotify)osc_config_entry_unref);
	g_autoptr(GError) error = NULL;
	OscConfigEntry *entry;
	OscEntryItem *item;

	for (guint i = 0; i < 1000; i++) {
		g_autofree gchar *key = g_strdup_printf("key-%04u", i);
		g_autofree gchar *value = g_strdup_printf("{\"n\":%u}", i);

		entry = osc_config_entry_new_from_string(key, i % 2 ? "odd" : "even",
							 i % 3 ? "c" : NULL, value, &error);
		g_assert_no_error(error);
		g_ptr_array_add(batch, entry);
	}
	osc_entry_store_add_entries(store, batch, 0, 600);
	osc_entry_store_add_entries(store, batch, 400, 1000); /* overlaps: updated in place */
	g_assert_cmpuint(g_list_model_get_n_items(osc_entry_store_get_entries(store)), ==, 1000);
	g_assert_cmpuint(count_of(osc_entry_store_get_environments(store), "odd"), ==, 500);
	g_assert_cmpuint(count_of(osc_entry_store_get_categories(store), "c"), ==, 666);
	item = osc_entry_store_lookup(store, "key-0999", "odd");
	g_assert_cmpstr(osc_entry_item_get_value_json(item), ==, "{\"n\":999}");

	/* the result of our own write replaces the row and brings its ETag */
	entry = osc_config_entry_new_from_string("key-0999", "odd", "c", "{\"n\":-1}", &error);
	g_assert_no_error(error);
	g_assert_true(osc_entry_store_upsert(store, entry) == item);
	osc_config_entry_unref(entry);
	g_assert_cmpstr(osc_entry_item_get_value_json(item), ==, "{\"n\":-1}");
	g_assert_true(osc_entry_store_remove(store, "key-0999", "odd"));
	g_assert_false(osc_entry_store_remove(store, "key-0999", "odd"));
	g_assert_cmpuint(count_of(osc_entry_store_get_environments(store), "odd"), ==, 499);
}

static void
test_entry_preview(void)
{
	g_autoptr(GString) big = g_string_new("\"");
	g_autoptr(OscEntryItem) item = NULL;

	for (guint i = 0; i < 200; i++)
		g_string_append(big, "é");
	g_string_append(big, "\"");
	item = osc_entry_item_new("k", "e", NULL, big->str, NULL, NULL);
	/* 80 characters and an ellipsis, cut on a character boundary */
	g_assert_cmpint(g_utf8_strlen(osc_entry_item_get_preview(item), -1), ==, 81);
	g_assert_true(g_utf8_validate(osc_entry_item_get_preview(item), -1, NULL));
	osc_entry_item_set_value_json(item, "{\n\"a\": 1}");
	g_assert_cmpstr(osc_entry_item_get_preview(item), ==, "{ \"a\": 1}");
}

static void
test_entry_updated_display(void)
{
	g_autoptr(OscEntryItem) item = NULL;
	g_autofree gchar *naive = NULL;
	g_autofree gchar *junk = NULL;

	/* a naive time is local (API.md §1.8): shown as it is, to the minute */
	item = osc_entry_item_new("k", "e", NULL, "1", "2026-02-21T10:22:18.123456", NULL);
	naive = osc_entry_item_dup_updated_display(item);
	g_assert_cmpstr(naive, ==, "2026-02-21 10:22");
	osc_entry_item_set_updated_at(item, "yesterday");
	junk = osc_entry_item_dup_updated_display(item);
	g_assert_cmpstr(junk, ==, "yesterday");
}

static void
test_entry_filter(void)
{
	g_autoptr(GListStore) store = g_list_store_new(OSC_TYPE_ENTRY_ITEM);
	OscEntryFilter *filter = osc_entry_filter_new();
	g_autoptr(GtkFilterListModel) model =
	    gtk_filter_list_model_new(g_object_ref(G_LIST_MODEL(store)), GTK_FILTER(filter));
	static const gchar *rows[][3] = {
	    {"Database.Host", "production", "database"},
	    {"database.port", "staging", "database"},
	    {"api-token", "production", "secrets"},
	    {"feature-flags", "production", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(OscEntryItem) item =
		    osc_entry_item_new(rows[i][0], rows[i][1], rows[i][2], "1", NULL, NULL);
		g_list_store_append(store, item);
	}
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 4);

	/* search: key or category, ignoring case */
	osc_entry_filter_set_search(filter, "DATABASE");
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 2);
	osc_entry_filter_set_search(filter, "databa");
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 2);
	osc_entry_filter_set_search(filter, "secret");
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 1);
	osc_entry_filter_set_search(filter, "");
	g_assert_null(osc_entry_filter_get_search(filter));
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 4);

	/* environment and category are exact, and combine with the search */
	osc_entry_filter_set_environment(filter, "production");
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 3);
	osc_entry_filter_set_category(filter, "database");
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 1);
	osc_entry_filter_set_search(filter, "port");
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 0);
	osc_entry_filter_set_environment(filter, NULL);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 1);
	osc_entry_filter_set_category(filter, NULL);
	osc_entry_filter_set_search(filter, NULL);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 4);

	/* rows changing under the filter are refiltered */
	osc_entry_filter_set_category(filter, "secrets");
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 1);
	{
		g_autoptr(OscEntryItem) item =
		    osc_entry_item_new("token2", "dev", "secrets", "2", NULL, NULL);
		g_list_store_append(store, item);
	}
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 2);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/osc/app/connection-list", test_connection_list);
	g_test_add_func("/osc/app/entry-store/events", test_entry_store_events);
	g_test_add_func("/osc/app/entry-store/batch", test_entry_store_batch);
	g_test_add_func("/osc/app/entry-item/preview", test_entry_preview);
	g_test_add_func("/osc/app/entry-item/updated-display", test_entry_updated_display);
	g_test_add_func("/osc/app/entry-filter", test_entry_filter);
	return g_test_run();
}
