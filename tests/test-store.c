/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscTestStore"

#include "config.h"

#include <glib/gstdio.h>

#include <errno.h>

#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osc-autocleanups.h"
#include "osc-error.h"
#include "osc-store.h"
#include "osc-test-utils.h"
#include "osc-value.h"

/* API.md §8.1, verbatim: what the original's ORM creates */
static const gchar *original_table_ddl =
	"CREATE TABLE configurations (\n"
	"    id INTEGER NOT NULL,\n"
	"    \"key\" VARCHAR(255) NOT NULL,\n"
	"    encrypted_value TEXT NOT NULL,\n"
	"    category VARCHAR(100),\n"
	"    environment VARCHAR(100) NOT NULL,\n"
	"    created_at DATETIME NOT NULL,\n"
	"    updated_at DATETIME NOT NULL,\n"
	"    PRIMARY KEY (id),\n"
	"    CONSTRAINT uix_key_environment UNIQUE (\"key\", environment)\n"
	")";
static const gchar *original_index_ddl[][2] = {
	{"ix_configurations_category",
	 "CREATE INDEX ix_configurations_category ON configurations (category)"},
	{"ix_configurations_key", "CREATE INDEX ix_configurations_key ON configurations (\"key\")"},
	{"ix_configurations_environment",
	 "CREATE INDEX ix_configurations_environment ON configurations (environment)"},
};

/* the same after migration 1: SQLite splices ADD COLUMN definitions in after the last column
 * definition of the stored CREATE TABLE text and leaves the rest as it was */
static const gchar *migrated_table_ddl =
	"CREATE TABLE configurations (\n"
	"    id INTEGER NOT NULL,\n"
	"    \"key\" VARCHAR(255) NOT NULL,\n"
	"    encrypted_value TEXT NOT NULL,\n"
	"    category VARCHAR(100),\n"
	"    environment VARCHAR(100) NOT NULL,\n"
	"    created_at DATETIME NOT NULL,\n"
	"    updated_at DATETIME NOT NULL, key_fingerprint TEXT, version INTEGER NOT NULL DEFAULT "
	"1, "
	"revision INTEGER NOT NULL DEFAULT 0, hlc TEXT, origin_node TEXT,\n"
	"    PRIMARY KEY (id),\n"
	"    CONSTRAINT uix_key_environment UNIQUE (\"key\", environment)\n"
	")";

#define ORIGINAL_COLUMNS                                                                           \
	"id, \"key\", encrypted_value, category, environment, created_at, updated_at"

#define TS_DB_REGEX "^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{6}$"

#define ROW1_TOKEN                                                                                 \
	"gAAAAABlU_EAAAECAwQFBgcICQoLDA0OD-"                                                       \
	"LKzUUXMcM7ZLrQybyHGsJFdetukhbu3s6n23fTU4rjBBgrQ5o3rXcJlm5"                                \
	"PDaodBbDYAQ4eYfpJ1fe7u79vyxjE4HdyJKv7HLwSAiXPBdmW"

typedef struct {
	gchar *tmpdir;
	gchar *path;
	OscStore *store;
} StoreFixture;

static void
store_fixture_setup_empty(StoreFixture *fx, gconstpointer data)
{
	fx->tmpdir = osc_test_make_tmpdir();
	/* a missing parent directory: the store creates it */
	fx->path = g_build_filename(fx->tmpdir, "state", "configurations.db", NULL);
}

static void
store_fixture_setup(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	store_fixture_setup_empty(fx, data);
	fx->store = osc_store_new(fx->path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->store);
}

/* a store that syncs commits itself, in groups (OSC_DB_SYNCHRONOUS=GROUP) */
static OscStore *
store_new_group(const gchar *path, GError **error)
{
	OscStore *store;

	g_setenv("OSC_DB_SYNCHRONOUS", "GROUP", TRUE);
	store = osc_store_new(path, error);
	g_unsetenv("OSC_DB_SYNCHRONOUS");
	return store;
}

static void
store_fixture_setup_group(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	store_fixture_setup_empty(fx, data);
	fx->store = store_new_group(fx->path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->store);
}

static void
store_fixture_teardown(StoreFixture *fx, gconstpointer data)
{
	g_clear_object(&fx->store);
	osc_test_rm_rf(fx->tmpdir);
	g_free(fx->tmpdir);
	g_free(fx->path);
}

/* a private sqlite3 handle to look at the file behind the store's back */
static sqlite3 *
raw_open(const gchar *path)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void
raw_exec(sqlite3 *db, const gchar *sql)
{
	g_autofree gchar *msg = NULL;
	gchar *errmsg = NULL;
	gint rc = sqlite3_exec(db, sql, NULL, NULL, &errmsg);

	msg = g_strdup(errmsg);
	sqlite3_free(errmsg);
	g_assert_cmpstr(msg, ==, NULL);
	g_assert_cmpint(rc, ==, SQLITE_OK);
}

/* the first column of the first row of @sql, as text (NULL for SQL NULL) */
static gchar *
raw_query_text(sqlite3 *db, const gchar *sql)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint rc;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	rc = sqlite3_step(stmt);
	g_assert_cmpint(rc, ==, SQLITE_ROW);
	return g_strdup((const gchar *)sqlite3_column_text(stmt, 0));
}

static gint64
raw_query_int(sqlite3 *db, const gchar *sql)
{
	g_autofree gchar *text = raw_query_text(db, sql);
	return g_ascii_strtoll(text, NULL, 10);
}

/* every row of configurations, all columns as text, one line per row */
static gchar *
raw_dump(sqlite3 *db, const gchar *columns)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	g_autofree gchar *sql =
		g_strdup_printf("SELECT %s FROM configurations ORDER BY id", columns);
	GString *out = g_string_new(NULL);

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		for (gint i = 0; i < sqlite3_column_count(stmt); i++) {
			const gchar *v = (const gchar *)sqlite3_column_text(stmt, i);
			g_string_append_printf(out, "%s%s|", v != NULL ? v : "<NULL>",
					       sqlite3_column_type(stmt, i) == SQLITE_TEXT ? ""
											   : "#");
		}
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

static void
copy_file(const gchar *src, const gchar *dest)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *contents = NULL;
	gsize len = 0;

	g_file_get_contents(src, &contents, &len, &error);
	g_assert_no_error(error);
	g_file_set_contents(dest, contents, len, &error);
	g_assert_no_error(error);
}

static OscEntryRow *
insert_ok(OscStore *store, const gchar *key, const gchar *env, const gchar *category)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *token = g_strdup_printf("token-%s-%s", key, env);
	OscEntryRow *row = osc_store_insert(store, key, env, category, token, "fp1", &error);

	g_assert_no_error(error);
	g_assert_nonnull(row);
	return row;
}

static void
assert_rows_equal(const OscEntryRow *a, const OscEntryRow *b)
{
	g_assert_cmpint(a->id, ==, b->id);
	g_assert_cmpstr(a->key, ==, b->key);
	g_assert_cmpstr(a->environment, ==, b->environment);
	g_assert_cmpstr(a->category, ==, b->category);
	g_assert_cmpstr(a->token, ==, b->token);
	g_assert_cmpstr(a->fingerprint, ==, b->fingerprint);
	g_assert_cmpstr(a->created_at, ==, b->created_at);
	g_assert_cmpstr(a->updated_at, ==, b->updated_at);
	g_assert_cmpint(a->version, ==, b->version);
	g_assert_cmpint(a->revision, ==, b->revision);
}

static void
assert_schema_v1(const gchar *path)
{
	sqlite3 *db = raw_open(path);
	g_autofree gchar *table_sql = raw_query_text(
		db,
		"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'configurations'");
	g_autofree gchar *meta_sql = raw_query_text(
		db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'osc_meta'");

	/* the original columns, constraint and indexes exactly as the original creates them */
	g_assert_cmpstr(table_sql, ==, migrated_table_ddl);
	for (guint i = 0; i < G_N_ELEMENTS(original_index_ddl); i++) {
		g_autofree gchar *q = g_strdup_printf(
			"SELECT sql FROM sqlite_master WHERE type = 'index' AND name = '%s'",
			original_index_ddl[i][0]);
		g_autofree gchar *sql = raw_query_text(db, q);
		g_assert_cmpstr(sql, ==, original_index_ddl[i][1]);
	}
	g_assert_cmpstr(
		meta_sql, ==,
		"CREATE TABLE osc_meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)");
	g_assert_cmpint(raw_query_int(db, "SELECT COUNT(*) FROM osc_schema_version"), ==, 1);
	g_assert_cmpint(raw_query_int(db, "SELECT version FROM osc_schema_version"), ==,
			OSC_STORE_SCHEMA_VERSION);
	g_assert_cmpint(raw_query_int(db, "SELECT COUNT(*) FROM osc_meta WHERE name IN "
					  "('revision', 'last_id', 'pbkdf2_iterations')"),
			==, 3);
	sqlite3_close(db);
}

static void
test_store_schema_fresh(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *iterations = NULL;
	g_autofree gchar *revision = NULL;
	g_autofree gchar *last_id = NULL;
	sqlite3 *db;

	assert_schema_v1(fx->path);
	g_assert_cmpint(osc_store_get_schema_version(fx->store, &error), ==,
			OSC_STORE_SCHEMA_VERSION);
	g_assert_no_error(error);
	g_assert_cmpint(OSC_STORE_SCHEMA_VERSION, >=, 1);
	g_assert_cmpstr(osc_store_get_path(fx->store), ==, fx->path);

	iterations = osc_store_get_meta(fx->store, "pbkdf2_iterations", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(iterations, ==, "480000");
	revision = osc_store_get_meta(fx->store, "revision", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(revision, ==, "0");
	last_id = osc_store_get_meta(fx->store, "last_id", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(last_id, ==, "0");

	db = raw_open(fx->path);
	{
		g_autofree gchar *mode = raw_query_text(db, "PRAGMA journal_mode");
		g_assert_cmpstr(mode, ==, "wal");
	}
	sqlite3_close(db);
}

static void
test_store_file_mode(StoreFixture *fx, gconstpointer data)
{
	g_autofree gchar *dir = g_path_get_dirname(fx->path);
	g_autofree gchar *wal = g_strconcat(fx->path, "-wal", NULL);
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "k", "e", NULL);
	GStatBuf st;

	g_assert_cmpint(g_stat(fx->path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(g_stat(dir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);
	/* SQLite gives the WAL the database file's mode */
	g_assert_cmpint(g_stat(wal, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
}

static void
test_store_crud(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	g_autoptr(OscEntryRow) got = NULL;
	g_autoptr(OscEntryRow) updated = NULL;
	g_autoptr(OscEntryRow) updated2 = NULL;
	g_autoptr(OscEntryRow) updated3 = NULL;
	g_autoptr(OscEntryRow) copy = NULL;
	g_autoptr(OscEntryRow) gone = NULL;
	GType boxed = OSC_TYPE_ENTRY_ROW;

	g_assert_true(G_TYPE_IS_BOXED(boxed));

	row = osc_store_insert(fx->store, "database", "production", "config", ROW1_TOKEN, "fp-a",
			       &error);
	g_assert_no_error(error);
	g_assert_nonnull(row);
	g_assert_cmpint(row->id, ==, 1);
	g_assert_cmpstr(row->key, ==, "database");
	g_assert_cmpstr(row->environment, ==, "production");
	g_assert_cmpstr(row->category, ==, "config");
	g_assert_cmpstr(row->token, ==, ROW1_TOKEN);
	g_assert_cmpstr(row->fingerprint, ==, "fp-a");
	g_assert_cmpint(row->version, ==, 1);
	g_assert_cmpint(row->revision, ==, 1);
	g_assert_cmpstr(row->created_at, ==, row->updated_at);
	g_assert_true(g_regex_match_simple(TS_DB_REGEX, row->created_at, 0, 0));

	got = osc_store_get(fx->store, "database", "production", &error);
	g_assert_no_error(error);
	assert_rows_equal(got, row);
	copy = g_boxed_copy(OSC_TYPE_ENTRY_ROW, got);
	assert_rows_equal(copy, row);

	/* keep the category */
	g_usleep(1000);
	updated = osc_store_update(fx->store, "database", "production", FALSE, "ignored", "tok2",
				   "fp-b", -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(updated->id, ==, row->id);
	g_assert_cmpstr(updated->category, ==, "config");
	g_assert_cmpstr(updated->token, ==, "tok2");
	g_assert_cmpstr(updated->fingerprint, ==, "fp-b");
	g_assert_cmpstr(updated->created_at, ==, row->created_at);
	g_assert_cmpstr(updated->updated_at, >, row->updated_at);
	g_assert_cmpint(updated->version, ==, 2);
	g_assert_cmpint(updated->revision, ==, 2);
	g_clear_pointer(&got, osc_entry_row_free);
	got = osc_store_get(fx->store, "database", "production", &error);
	g_assert_no_error(error);
	assert_rows_equal(got, updated);

	/* set the category to NULL, then to "" */
	updated2 = osc_store_update(fx->store, "database", "production", TRUE, NULL, "tok3", NULL,
				    -1, &error);
	g_assert_no_error(error);
	g_assert_null(updated2->category);
	g_assert_null(updated2->fingerprint);
	g_assert_cmpint(updated2->version, ==, 3);
	updated3 = osc_store_update(fx->store, "database", "production", TRUE, "", "tok4", "fp", -1,
				    &error);
	g_assert_no_error(error);
	g_assert_cmpstr(updated3->category, ==, "");
	g_clear_pointer(&got, osc_entry_row_free);
	got = osc_store_get(fx->store, "database", "production", &error);
	g_assert_no_error(error);
	assert_rows_equal(got, updated3);

	g_assert_true(osc_store_delete(fx->store, "database", "production", -1, &error));
	g_assert_no_error(error);
	gone = osc_store_get(fx->store, "database", "production", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==,
			"Configuration with key 'database' not found in environment 'production'");
	g_assert_null(gone);
	g_assert_cmpint(osc_store_count(fx->store, NULL, NULL, NULL), ==, 0);
}

static void
test_store_duplicate(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "db", "prod", NULL);
	g_autoptr(OscEntryRow) dup = NULL;
	g_autoptr(OscEntryRow) other_env = NULL;
	g_autoptr(OscEntryRow) other_case = NULL;
	g_autoptr(OscEntryRow) next = NULL;
	g_autofree gchar *revision = NULL;

	dup = osc_store_insert(fx->store, "db", "prod", "c", "t", NULL, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_EXISTS);
	g_assert_cmpstr(error->message, ==,
			"Configuration with key 'db' already exists in environment 'prod'");
	g_assert_null(dup);
	g_clear_error(&error);

	/* uniqueness is on the exact pair, case-sensitive */
	other_env = insert_ok(fx->store, "db", "staging", NULL);
	other_case = insert_ok(fx->store, "DB", "prod", NULL);

	/* the failed insert used up neither an id nor a revision */
	next = insert_ok(fx->store, "db2", "prod", NULL);
	g_assert_cmpint(next->id, ==, 4);
	g_assert_cmpint(next->revision, ==, 4);
	revision = osc_store_get_meta(fx->store, "revision", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(revision, ==, "4");
	g_assert_cmpint(osc_store_count(fx->store, NULL, NULL, NULL), ==, 4);
}

#define N_THREADS 8

typedef struct {
	OscStore *store;
	gint go;
	gint n_ok;
	gint n_exists;
	gint n_other;
	guint n_per_thread;
	gint next_thread;
} RaceData;

static void
race_wait(RaceData *race)
{
	while (!g_atomic_int_get(&race->go))
		g_thread_yield();
}

static gpointer
race_same_pair_cb(gpointer user_data)
{
	RaceData *race = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = NULL;

	race_wait(race);
	row = osc_store_insert(race->store, "shared", "prod", NULL, "t", NULL, &error);
	if (row != NULL)
		g_atomic_int_inc(&race->n_ok);
	else if (g_error_matches(error, OSC_ERROR, OSC_ERROR_EXISTS))
		g_atomic_int_inc(&race->n_exists);
	else
		g_atomic_int_inc(&race->n_other);
	return NULL;
}

static gpointer
race_distinct_cb(gpointer user_data)
{
	RaceData *race = user_data;
	gint thread = g_atomic_int_add(&race->next_thread, 1);

	race_wait(race);
	for (guint i = 0; i < race->n_per_thread; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *key = g_strdup_printf("key-%d-%u", thread, i);
		g_autoptr(OscEntryRow) row =
			osc_store_insert(race->store, key, "prod", NULL, "t", NULL, &error);
		g_autoptr(OscEntryRow) got = NULL;

		if (row == NULL) {
			g_test_message("insert %s: %s", key, error->message);
			g_atomic_int_inc(&race->n_other);
			continue;
		}
		got = osc_store_get(race->store, key, "prod", &error);
		if (got == NULL || got->id != row->id)
			g_atomic_int_inc(&race->n_other);
		else
			g_atomic_int_inc(&race->n_ok);
	}
	return NULL;
}

static void
run_threads(RaceData *race, GThreadFunc func)
{
	GThread *threads[N_THREADS];

	for (guint i = 0; i < N_THREADS; i++)
		threads[i] = g_thread_new("race", func, race);
	g_atomic_int_set(&race->go, 1);
	for (guint i = 0; i < N_THREADS; i++)
		g_thread_join(threads[i]);
}

static void
test_store_duplicate_threads(StoreFixture *fx, gconstpointer data)
{
	for (guint round = 0; round < 5; round++) {
		RaceData race = {.store = fx->store};
		g_autoptr(GError) error = NULL;

		run_threads(&race, race_same_pair_cb);
		g_assert_cmpint(race.n_other, ==, 0);
		g_assert_cmpint(race.n_ok, ==, 1);
		g_assert_cmpint(race.n_exists, ==, N_THREADS - 1);
		g_assert_cmpint(osc_store_count(fx->store, NULL, NULL, NULL), ==, 1);
		g_assert_true(osc_store_delete(fx->store, "shared", "prod", -1, &error));
		g_assert_no_error(error);
	}
}

static void
test_store_insert_threads(StoreFixture *fx, gconstpointer data)
{
	RaceData race = {.store = fx->store, .n_per_thread = 50};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GHashTable) revisions = g_hash_table_new(g_int64_hash, g_int64_equal);

	run_threads(&race, race_distinct_cb);
	g_assert_cmpint(race.n_other, ==, 0);
	g_assert_cmpint(race.n_ok, ==, N_THREADS * 50);

	rows = osc_store_list(fx->store, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, N_THREADS * 50);
	for (guint i = 0; i < rows->len; i++) {
		OscEntryRow *row = g_ptr_array_index(rows, i);
		/* ids are 1..n in order, revisions all distinct */
		g_assert_cmpint(row->id, ==, (gint64)i + 1);
		g_assert_false(g_hash_table_contains(revisions, &row->revision));
		g_hash_table_add(revisions, &row->revision);
	}
}

static void
test_store_not_found(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "here", "prod", NULL);
	g_autoptr(OscEntryRow) updated = NULL;

	updated =
		osc_store_update(fx->store, "missing", "prod", FALSE, NULL, "t", NULL, -1, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==,
			"Configuration with key 'missing' not found in environment 'prod'");
	g_assert_null(updated);
	g_clear_error(&error);

	/* same key, other environment */
	g_assert_false(osc_store_delete(fx->store, "here", "staging", -1, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==,
			"Configuration with key 'here' not found in environment 'staging'");
	g_clear_error(&error);

	/* a failed write consumed no revision */
	{
		g_autofree gchar *revision = osc_store_get_meta(fx->store, "revision", &error);
		g_assert_no_error(error);
		g_assert_cmpstr(revision, ==, "1");
	}
}

static void
test_store_expected_revision(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "k", "prod", NULL);
	g_autoptr(OscEntryRow) other = insert_ok(fx->store, "other", "prod", NULL);
	g_autoptr(OscEntryRow) updated = NULL;
	g_autoptr(OscEntryRow) stale = NULL;
	g_autoptr(OscEntryRow) got = NULL;

	g_assert_cmpint(row->revision, ==, 1);
	g_assert_cmpint(other->revision, ==, 2);

	/* match */
	updated = osc_store_update(fx->store, "k", "prod", FALSE, NULL, "t2", NULL, row->revision,
				   &error);
	g_assert_no_error(error);
	g_assert_cmpint(updated->revision, ==, 3);

	/* mismatch: the old revision */
	stale = osc_store_update(fx->store, "k", "prod", FALSE, NULL, "t3", NULL, row->revision,
				 &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_PRECONDITION_FAILED);
	g_assert_cmpstr(error->message, ==, "Configuration 'k' was modified (revision 3)");
	g_assert_null(stale);
	g_clear_error(&error);

	g_assert_false(osc_store_delete(fx->store, "k", "prod", 2, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_PRECONDITION_FAILED);
	g_assert_cmpstr(error->message, ==, "Configuration 'k' was modified (revision 3)");
	g_clear_error(&error);

	/* nothing changed */
	got = osc_store_get(fx->store, "k", "prod", &error);
	g_assert_no_error(error);
	assert_rows_equal(got, updated);

	g_assert_true(osc_store_delete(fx->store, "k", "prod", 3, &error));
	g_assert_no_error(error);
}

static void
test_store_revisions(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 last = 0;
	gint64 versions[4] = {0}; /* the newest version of each key, deleted or not */

	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *key = g_strdup_printf("k%u", i % 4);
		g_autoptr(OscEntryRow) row = NULL;
		g_autoptr(OscEntryRow) before = osc_store_get(fx->store, key, "e", NULL);
		g_autofree gchar *meta = NULL;

		if (before == NULL) {
			row = insert_ok(fx->store, key, "e", NULL);
			/* 1, or after a delete one above the kept history */
			g_assert_cmpint(row->version, ==, versions[i % 4] + 1);
		} else if (i % 7 == 6) {
			g_assert_true(osc_store_delete(fx->store, key, "e", -1, &error));
			g_assert_no_error(error);
			meta = osc_store_get_meta(fx->store, "revision", &error);
			g_assert_no_error(error);
			g_assert_cmpint(g_ascii_strtoll(meta, NULL, 10), ==, last + 1);
			last++;
			continue;
		} else {
			row = osc_store_update(fx->store, key, "e", FALSE, NULL, "t", NULL, -1,
					       &error);
			g_assert_no_error(error);
			g_assert_cmpint(row->version, ==, before->version + 1);
			g_assert_cmpint(row->id, ==, before->id);
			g_assert_cmpstr(row->created_at, ==, before->created_at);
			g_assert_cmpstr(row->updated_at, >=, before->updated_at);
		}
		versions[i % 4] = row->version;
		/* strictly increasing, store-wide */
		g_assert_cmpint(row->revision, >, last);
		last = row->revision;
		meta = osc_store_get_meta(fx->store, "revision", &error);
		g_assert_no_error(error);
		g_assert_cmpint(g_ascii_strtoll(meta, NULL, 10), ==, last);
	}
}

static void
test_store_ids_not_reused(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) a = insert_ok(fx->store, "a", "e", NULL);
	g_autoptr(OscEntryRow) b = insert_ok(fx->store, "b", "e", NULL);
	g_autoptr(OscEntryRow) c = insert_ok(fx->store, "c", "e", NULL);
	g_autoptr(OscEntryRow) d = NULL;
	g_autoptr(OscEntryRow) c2 = NULL;

	g_assert_cmpint(c->id, ==, 3);
	g_assert_true(osc_store_delete(fx->store, "c", "e", -1, &error));
	g_assert_no_error(error);
	/* the original would hand out 3 again (no AUTOINCREMENT) */
	d = insert_ok(fx->store, "d", "e", NULL);
	g_assert_cmpint(d->id, ==, 4);
	c2 = insert_ok(fx->store, "c", "e", NULL);
	g_assert_cmpint(c2->id, ==, 5);

	/* and across a reopen */
	g_assert_true(osc_store_delete(fx->store, "c", "e", -1, &error));
	g_clear_object(&fx->store);
	fx->store = osc_store_new(fx->path, &error);
	g_assert_no_error(error);
	{
		g_autoptr(OscEntryRow) e = insert_ok(fx->store, "e", "e", NULL);
		g_assert_cmpint(e->id, ==, 6);
	}
}

static void
test_store_list(StoreFixture *fx, gconstpointer data)
{
	const struct {
		const gchar *key;
		const gchar *env;
		const gchar *category;
	} rows[] = {
		{"z", "prod", "db"},	{"a", "prod", NULL}, {"m", "dev", "db"},
		{"b", "prod", "cache"}, {"y", "Prod", "db"}, {"c", "dev", ""},
		{"d", "prod", "DB"},
	};
	g_autoptr(GError) error = NULL;
	const struct {
		const gchar *category;
		const gchar *env;
		const gchar *expected;
	} filters[] = {
		{NULL, NULL, "z a m b y c d"}, {"", "", "z a m b y c d"}, {"db", NULL, "z m y"},
		{NULL, "prod", "z a b d"},     {"db", "prod", "z"},	  {"DB", "", "d"},
		{NULL, "Prod", "y"},	       {"nope", NULL, ""},	  {"db", "staging", ""},
	};

	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(OscEntryRow) row =
			insert_ok(fx->store, rows[i].key, rows[i].env, rows[i].category);
	}
	for (guint i = 0; i < G_N_ELEMENTS(filters); i++) {
		g_autoptr(GPtrArray) list =
			osc_store_list(fx->store, filters[i].category, filters[i].env, &error);
		g_autoptr(GString) keys = g_string_new(NULL);
		gint64 last_id = 0;

		g_assert_no_error(error);
		for (guint j = 0; j < list->len; j++) {
			OscEntryRow *row = g_ptr_array_index(list, j);
			g_assert_cmpint(row->id, >, last_id);
			last_id = row->id;
			if (keys->len > 0)
				g_string_append_c(keys, ' ');
			g_string_append(keys, row->key);
		}
		g_assert_cmpstr(keys->str, ==, filters[i].expected);
		g_assert_cmpint(
			osc_store_count(fx->store, filters[i].category, filters[i].env, &error), ==,
			list->len);
		g_assert_no_error(error);
	}
}

static void
test_store_count_by(StoreFixture *fx, gconstpointer data)
{
	const struct {
		const gchar *key;
		const gchar *env;
		const gchar *category;
	} rows[] = {
		{"k1", "prod", "web"}, {"k2", "dev", NULL}, {"k3", "prod", "db"},
		{"k4", "test", "web"}, {"k5", "dev", NULL}, {"k6", "prod", ""},
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) by_cat = NULL;
	g_autoptr(GPtrArray) by_env = NULL;
	g_autoptr(GPtrArray) bad = NULL;
	OscStoreCount *item;

	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(OscEntryRow) row =
			insert_ok(fx->store, rows[i].key, rows[i].env, rows[i].category);
	}
	/* first appearance decides the order, not the name; the delete moves "dev" back */
	g_assert_true(osc_store_delete(fx->store, "k2", "dev", -1, &error));
	g_assert_no_error(error);

	by_cat = osc_store_count_by(fx->store, "category", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(by_cat->len, ==, 4);
	item = g_ptr_array_index(by_cat, 0);
	g_assert_cmpstr(item->name, ==, "web");
	g_assert_cmpint(item->count, ==, 2);
	item = g_ptr_array_index(by_cat, 1);
	g_assert_cmpstr(item->name, ==, "db");
	g_assert_cmpint(item->count, ==, 1);
	item = g_ptr_array_index(by_cat, 2);
	g_assert_null(item->name);
	g_assert_cmpint(item->count, ==, 1);
	item = g_ptr_array_index(by_cat, 3);
	g_assert_cmpstr(item->name, ==, "");
	g_assert_cmpint(item->count, ==, 1);

	by_env = osc_store_count_by(fx->store, "environment", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(by_env->len, ==, 3);
	item = g_ptr_array_index(by_env, 0);
	g_assert_cmpstr(item->name, ==, "prod");
	g_assert_cmpint(item->count, ==, 3);
	item = g_ptr_array_index(by_env, 1);
	g_assert_cmpstr(item->name, ==, "test");
	g_assert_cmpint(item->count, ==, 1);
	item = g_ptr_array_index(by_env, 2);
	g_assert_cmpstr(item->name, ==, "dev");
	g_assert_cmpint(item->count, ==, 1);

	bad = osc_store_count_by(fx->store, "key; DROP TABLE configurations", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_null(bad);
	g_assert_cmpint(osc_store_count(fx->store, NULL, NULL, NULL), ==, 5);
}

static void
test_store_distinct(StoreFixture *fx, gconstpointer data)
{
	const struct {
		const gchar *key;
		const gchar *env;
		const gchar *category;
	} rows[] = {
		{"k1", "prod", "web"},
		{"k2", "dev", NULL},
		{"k3", "prod", "db"},
		{"k4", "Test", "web"},
		{"k5", "\xc3\xa9t\xc3\xa9", "Zeta"},
		{"k6", "dev", ""},
		{"k7", "alpha", "\xc3\xa9"},
	};
	const gchar *envs[] = {"Test", "alpha", "dev", "prod", "\xc3\xa9t\xc3\xa9"};
	const gchar *cats[] = {"Zeta", "db", "web", "\xc3\xa9"};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) env_list = NULL;
	g_autoptr(GPtrArray) cat_list = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(OscEntryRow) row =
			insert_ok(fx->store, rows[i].key, rows[i].env, rows[i].category);
	}
	env_list = osc_store_list_environments(fx->store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(env_list->len, ==, G_N_ELEMENTS(envs));
	for (guint i = 0; i < env_list->len; i++)
		g_assert_cmpstr(g_ptr_array_index(env_list, i), ==, envs[i]);
	cat_list = osc_store_list_categories(fx->store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(cat_list->len, ==, G_N_ELEMENTS(cats));
	for (guint i = 0; i < cat_list->len; i++)
		g_assert_cmpstr(g_ptr_array_index(cat_list, i), ==, cats[i]);
}

static void
test_store_meta(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *missing = NULL;
	g_autofree gchar *value = NULL;
	g_autofree gchar *value2 = NULL;

	missing = osc_store_get_meta(fx->store, "nothing", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_assert_null(missing);
	g_clear_error(&error);

	g_assert_true(osc_store_set_meta(fx->store, "pbkdf2_iterations", "1000", &error));
	g_assert_no_error(error);
	value = osc_store_get_meta(fx->store, "pbkdf2_iterations", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(value, ==, "1000");

	g_assert_true(osc_store_set_meta(fx->store, "node'; --", "x\"y", &error));
	g_assert_no_error(error);
	value2 = osc_store_get_meta(fx->store, "node'; --", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(value2, ==, "x\"y");
}

static void
test_store_set_fingerprint(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	g_autoptr(OscEntryRow) got = NULL;
	g_autoptr(OscEntryRow) got2 = NULL;

	row = osc_store_insert(fx->store, "k", "e", NULL, "t", NULL, &error);
	g_assert_no_error(error);
	g_assert_null(row->fingerprint);

	g_assert_true(osc_store_set_fingerprint(fx->store, row->id, "fp-1", &error));
	g_assert_no_error(error);
	got = osc_store_get(fx->store, "k", "e", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(got->fingerprint, ==, "fp-1");
	g_assert_cmpint(got->revision, ==, row->revision);
	g_assert_cmpint(got->version, ==, row->version);
	g_assert_cmpstr(got->updated_at, ==, row->updated_at);

	/* only fills in, never overwrites */
	g_assert_true(osc_store_set_fingerprint(fx->store, row->id, "fp-2", &error));
	g_assert_no_error(error);
	got2 = osc_store_get(fx->store, "k", "e", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(got2->fingerprint, ==, "fp-1");

	/* a row that is gone is no error */
	g_assert_true(osc_store_set_fingerprint(fx->store, 999, "fp", &error));
	g_assert_no_error(error);
}

static void
test_store_unicode(StoreFixture *fx, gconstpointer data)
{
	const gchar *key = "cl\xc3\xa9-\xf0\x9f\x98\x80 'quoted' \"dq\" %s ; --";
	const gchar *env = "pr\xc3\xb6\x64\xc3\xbc\x63tion \xe4\xb8\xad";
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	g_autoptr(OscEntryRow) got = NULL;
	g_autoptr(OscEntryRow) dup = NULL;
	g_autoptr(OscEntryRow) nfd = NULL;
	g_autofree gchar *expected = NULL;

	row = osc_store_insert(fx->store, key, env, "\xc3\xbc", "t", NULL, &error);
	g_assert_no_error(error);
	got = osc_store_get(fx->store, key, env, &error);
	g_assert_no_error(error);
	assert_rows_equal(got, row);
	g_assert_cmpstr(got->key, ==, key);

	dup = osc_store_insert(fx->store, key, env, NULL, "t", NULL, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_EXISTS);
	expected = g_strdup_printf("Configuration with key '%s' already exists in environment '%s'",
				   key, env);
	g_assert_cmpstr(error->message, ==, expected);
	g_clear_error(&error);

	/* byte comparison: a decomposed "é" is another key */
	nfd = osc_store_insert(fx->store, "cle\xcc\x81-\xf0\x9f\x98\x80 'quoted' \"dq\" %s ; --",
			       env, NULL, "t", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(nfd);
}

static void
test_store_timestamps(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "k", "e", NULL);
	g_autofree gchar *api = osc_timestamp_db_to_api(row->created_at);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree gchar *today = g_date_time_format(now, "%Y-%m-%d");
	sqlite3 *db;

	g_assert_true(g_regex_match_simple(TS_DB_REGEX, row->created_at, 0, 0));
	g_assert_true(g_regex_match_simple(TS_DB_REGEX, row->updated_at, 0, 0));
	g_assert_true(g_regex_match_simple("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z$",
					   api, 0, 0));
	/* UTC (this may straddle midnight only in theory) */
	g_assert_true(g_str_has_prefix(row->created_at, today) || g_date_time_get_hour(now) == 0);

	/* stored as TEXT, exactly as returned */
	db = raw_open(fx->path);
	{
		g_autofree gchar *type =
			raw_query_text(db, "SELECT typeof(created_at) FROM configurations");
		g_autofree gchar *text =
			raw_query_text(db, "SELECT created_at FROM configurations");
		g_assert_cmpstr(type, ==, "text");
		g_assert_cmpstr(text, ==, row->created_at);
	}
	sqlite3_close(db);
}

static void
test_store_migrate_v1(StoreFixture *fx, gconstpointer data)
{
	g_autofree gchar *src = osc_test_data_path("original-v0.db");
	g_autofree gchar *src_salt = osc_test_data_path("original-v0.salt");
	g_autofree gchar *dir = g_path_get_dirname(fx->path);
	g_autofree gchar *salt_path = g_build_filename(dir, "encryption.salt", NULL);
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	g_autofree gchar *salt = NULL;
	g_autofree gchar *meta_revision = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gsize salt_len = 0;
	sqlite3 *db;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	copy_file(src, fx->path);
	copy_file(src_salt, salt_path);
	g_file_get_contents(salt_path, &salt, &salt_len, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(salt_len, ==, 64);
	for (guint i = 0; i < 64; i++)
		g_assert_cmpint((guchar)salt[i], ==, i);

	db = raw_open(fx->path);
	before = raw_dump(db, ORIGINAL_COLUMNS);
	g_assert_cmpuint(strlen(before), >, 0);
	{
		g_autofree gchar *table_sql = raw_query_text(
			db, "SELECT sql FROM sqlite_master WHERE name = 'configurations'");
		g_assert_cmpstr(table_sql, ==, original_table_ddl);
	}
	sqlite3_close(db);

	fx->store = osc_store_new(fx->path, &error);
	g_assert_no_error(error);
	g_assert_cmpint(osc_store_get_schema_version(fx->store, &error), ==,
			OSC_STORE_SCHEMA_VERSION);
	g_assert_no_error(error);
	assert_schema_v1(fx->path);

	/* the original columns, byte for byte */
	db = raw_open(fx->path);
	after = raw_dump(db, ORIGINAL_COLUMNS);
	g_assert_cmpstr(after, ==, before);
	sqlite3_close(db);

	rows = osc_store_list(fx->store, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 3);
	{
		OscEntryRow *r1 = g_ptr_array_index(rows, 0);
		OscEntryRow *r2 = g_ptr_array_index(rows, 1);
		OscEntryRow *r5 = g_ptr_array_index(rows, 2);

		g_assert_cmpint(r1->id, ==, 1);
		g_assert_cmpstr(r1->key, ==, "database");
		g_assert_cmpstr(r1->environment, ==, "production");
		g_assert_cmpstr(r1->category, ==, "config");
		g_assert_cmpstr(r1->token, ==, ROW1_TOKEN);
		g_assert_cmpstr(r1->created_at, ==, "2023-11-14 22:00:00.123456");
		g_assert_cmpstr(r1->updated_at, ==, "2023-11-14 22:00:00.123456");
		g_assert_null(r1->fingerprint);
		g_assert_cmpint(r1->version, ==, 1);
		g_assert_cmpint(r1->revision, ==, 1);

		g_assert_cmpint(r2->id, ==, 2);
		g_assert_null(r2->category);
		g_assert_cmpint(r2->revision, ==, 2);

		g_assert_cmpint(r5->id, ==, 5);
		g_assert_cmpstr(r5->key, ==, "cl\xc3\xa9-\xf0\x9f\x98\x80");
		g_assert_cmpstr(r5->environment, ==, "pr\xc3\xb6\x64\xc3\xbc\x63tion");
		g_assert_cmpstr(r5->category, ==, "\xc3\xbcn\xc3\xaf\x63ode");
		g_assert_cmpint(r5->revision, ==, 5);
	}
	meta_revision = osc_store_get_meta(fx->store, "revision", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(meta_revision, ==, "5");
	{
		g_autofree gchar *last_id = osc_store_get_meta(fx->store, "last_id", &error);
		g_autofree gchar *iterations =
			osc_store_get_meta(fx->store, "pbkdf2_iterations", &error);
		g_assert_no_error(error);
		g_assert_cmpstr(last_id, ==, "5");
		g_assert_cmpstr(iterations, ==, "480000");
	}

	/* reopening changes nothing */
	g_clear_object(&fx->store);
	fx->store = osc_store_new(fx->path, &error);
	g_assert_no_error(error);
	g_assert_cmpint(osc_store_get_schema_version(fx->store, &error), ==,
			OSC_STORE_SCHEMA_VERSION);
	assert_schema_v1(fx->path);
	{
		g_autofree gchar *again = NULL;
		g_autofree gchar *rev = osc_store_get_meta(fx->store, "revision", &error);
		g_assert_no_error(error);
		g_assert_cmpstr(rev, ==, "5");
		db = raw_open(fx->path);
		again = raw_dump(db, ORIGINAL_COLUMNS ", key_fingerprint, version, revision");
		sqlite3_close(db);
		g_assert_true(g_str_has_suffix(again, "<NULL>#|1#|5#|\n"));
	}

	/* new rows continue above the original's ids, and 5 is not reused after a delete */
	{
		g_autoptr(OscEntryRow) r6 = insert_ok(fx->store, "new", "production", NULL);
		g_autoptr(OscEntryRow) r7 = NULL;
		g_autoptr(OscEntryRow) dup = NULL;

		g_assert_cmpint(r6->id, ==, 6);
		g_assert_cmpint(r6->revision, ==, 6);
		g_assert_true(osc_store_delete(fx->store, "new", "production", -1, &error));
		g_assert_true(osc_store_delete(fx->store, "cl\xc3\xa9-\xf0\x9f\x98\x80",
					       "pr\xc3\xb6\x64\xc3\xbc\x63tion", -1, &error));
		g_assert_no_error(error);
		r7 = insert_ok(fx->store, "newer", "production", NULL);
		g_assert_cmpint(r7->id, ==, 7);
		dup = osc_store_insert(fx->store, "database", "production", NULL, "t", NULL,
				       &error);
		g_assert_error(error, OSC_ERROR, OSC_ERROR_EXISTS);
	}
}

static void
test_store_original_writes_after_migration(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) a = insert_ok(fx->store, "a", "e", NULL);
	g_autoptr(OscEntryRow) b = NULL;
	g_autoptr(OscEntryRow) orig = NULL;
	sqlite3 *db = raw_open(fx->path);

	/* the original server names its columns and lets SQLite pick max(rowid) + 1 */
	raw_exec(db, "INSERT INTO configurations (\"key\", encrypted_value, category, environment, "
		     "created_at, updated_at) VALUES ('py', 'tok', NULL, 'e', "
		     "'2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000')");
	raw_exec(db, "INSERT INTO configurations (\"key\", encrypted_value, category, environment, "
		     "created_at, updated_at) VALUES ('py2', 'tok', NULL, 'e', "
		     "'2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000')");
	sqlite3_close(db);

	orig = osc_store_get(fx->store, "py", "e", &error);
	g_assert_no_error(error);
	g_assert_cmpint(orig->id, ==, 2);
	g_assert_cmpint(orig->version, ==, 1);
	g_assert_null(orig->fingerprint);

	/* our next id stays clear of the rows it did not hand out */
	b = insert_ok(fx->store, "b", "e", NULL);
	g_assert_cmpint(b->id, ==, 4);
}

static void
test_store_schema_too_new(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscStore) store = osc_store_new(fx->path, &error);
	g_autoptr(OscStore) store2 = NULL;
	sqlite3 *db;

	g_assert_no_error(error);
	g_clear_object(&store);
	db = raw_open(fx->path);
	raw_exec(db, "UPDATE osc_schema_version SET version = 99");
	sqlite3_close(db);

	store2 = osc_store_new(fx->path, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message,
				"database schema version 99 is newer than this server supports"));
	g_assert_null(store2);
}

static void
test_store_garbage(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscStore) store = NULL;
	g_autofree gchar *dir = g_path_get_dirname(fx->path);
	g_autofree gchar *big = g_strnfill(8192, 'x');
	g_autofree gchar *contents = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_file_set_contents(fx->path, "not a database", -1, &error);
	g_assert_no_error(error);
	store = osc_store_new(fx->path, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_CORRUPT);
	g_assert_null(store);
	g_clear_error(&error);

	/* the file is left alone */
	g_file_get_contents(fx->path, &contents, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(contents, ==, "not a database");

	g_file_set_contents(fx->path, big, -1, &error);
	g_assert_no_error(error);
	store = osc_store_new(fx->path, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_CORRUPT);
	g_assert_null(store);
}

static void
test_store_unwritable(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscStore) store = NULL;
	g_autofree gchar *path = g_build_filename(fx->tmpdir, "file", "sub", "x.db", NULL);
	g_autofree gchar *file = g_build_filename(fx->tmpdir, "file", NULL);

	/* a regular file where the parent directory should be */
	g_file_set_contents(file, "", -1, &error);
	g_assert_no_error(error);
	store = osc_store_new(path, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_FAILED);
	g_assert_null(store);
}

static void
test_store_close(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "k", "e", NULL);
	g_autoptr(OscEntryRow) got = NULL;
	g_autoptr(OscEntryRow) ins = NULL;
	g_autoptr(OscEntryRow) upd = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GPtrArray) envs = NULL;
	g_autoptr(GPtrArray) counts = NULL;
	g_autofree gchar *meta = NULL;

	g_assert_true(osc_store_checkpoint(fx->store, &error));
	g_assert_no_error(error);
	osc_store_close(fx->store);
	osc_store_close(fx->store);

	got = osc_store_get(fx->store, "k", "e", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_assert_cmpstr(error->message, ==, "store is closed");
	g_assert_null(got);
	g_clear_error(&error);
	ins = osc_store_insert(fx->store, "k2", "e", NULL, "t", NULL, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_assert_null(ins);
	g_clear_error(&error);
	upd = osc_store_update(fx->store, "k", "e", FALSE, NULL, "t", NULL, -1, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_false(osc_store_delete(fx->store, "k", "e", -1, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	list = osc_store_list(fx->store, NULL, NULL, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_assert_null(list);
	g_clear_error(&error);
	g_assert_cmpint(osc_store_count(fx->store, NULL, NULL, &error), ==, -1);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	envs = osc_store_list_environments(fx->store, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	counts = osc_store_count_by(fx->store, "category", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	meta = osc_store_get_meta(fx->store, "revision", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_false(osc_store_set_meta(fx->store, "a", "b", &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_false(osc_store_set_fingerprint(fx->store, 1, "fp", &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_false(osc_store_checkpoint(fx->store, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_cmpint(osc_store_get_schema_version(fx->store, &error), ==, -1);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);

	/* the data survived: a new store sees it */
	g_clear_object(&fx->store);
	fx->store = osc_store_new(fx->path, &error);
	g_assert_no_error(error);
	got = osc_store_get(fx->store, "k", "e", &error);
	g_assert_no_error(error);
	assert_rows_equal(got, row);
}

typedef struct {
	OscStore *store;
	gint go;
	gint stop;
	gint n_errors;
	gint n_reads;
} MixedData;

static gpointer
mixed_reader_cb(gpointer user_data)
{
	MixedData *mixed = user_data;

	while (!g_atomic_int_get(&mixed->go))
		g_thread_yield();
	while (!g_atomic_int_get(&mixed->stop)) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OscEntryRow) row = osc_store_get(mixed->store, "hot", "e", &error);
		g_autoptr(GPtrArray) list = osc_store_list(mixed->store, NULL, "e", &error);

		if (row == NULL || list == NULL || row->version < 1)
			g_atomic_int_inc(&mixed->n_errors);
		g_atomic_int_inc(&mixed->n_reads);
	}
	return NULL;
}

static void
test_store_readers_and_writers(StoreFixture *fx, gconstpointer data)
{
	MixedData mixed = {.store = fx->store};
	g_autoptr(OscEntryRow) hot = insert_ok(fx->store, "hot", "e", NULL);
	GThread *readers[4];
	gint64 last_rev = hot->revision;

	for (guint i = 0; i < G_N_ELEMENTS(readers); i++)
		readers[i] = g_thread_new("reader", mixed_reader_cb, &mixed);
	g_atomic_int_set(&mixed.go, 1);
	for (guint i = 0; i < 200; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(OscEntryRow) row = osc_store_update(fx->store, "hot", "e", FALSE, NULL,
							      "t", NULL, last_rev, &error);
		g_assert_no_error(error);
		g_assert_cmpint(row->revision, >, last_rev);
		last_rev = row->revision;
	}
	g_atomic_int_set(&mixed.stop, 1);
	for (guint i = 0; i < G_N_ELEMENTS(readers); i++)
		g_thread_join(readers[i]);
	g_assert_cmpint(mixed.n_errors, ==, 0);
	g_assert_cmpint(mixed.n_reads, >, 0);
}

typedef struct {
	OscStore *store;
	guint n_calls;
	gboolean allow;
	gint reentry_code;
} ImportCheck;

static gboolean
import_may_overwrite_cb(OscEntryRow *existing, gpointer user_data, gchar **reason)
{
	ImportCheck *check = user_data;
	g_autoptr(GError) error = NULL;

	check->n_calls++;
	/* the service records a fingerprint from here; that must fail, not deadlock */
	if (osc_store_set_fingerprint(check->store, existing->id, "fp-cb", &error) ||
	    osc_store_set_meta(check->store, "x", "y", NULL) ||
	    osc_store_checkpoint(check->store, NULL))
		check->reentry_code = -1;
	else
		check->reentry_code = error->code;
	if (!check->allow) {
		*reason = g_strdup_printf("not yours: %s", existing->key);
		return FALSE;
	}
	return TRUE;
}

static void
test_store_import(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) a = insert_ok(fx->store, "a", "e", "cat");
	g_autoptr(OscEntryRow) b = insert_ok(fx->store, "b", "e", NULL);
	g_autoptr(OscEntryRow) got = NULL;
	ImportCheck check = {.store = fx->store, .allow = TRUE};
	OscStoreImportOp ops[4] = {
		{.key = "a",
		 .environment = "e",
		 .category = NULL,
		 .token = "ta",
		 .fingerprint = "f"},
		{.key = "new",
		 .environment = "e",
		 .category = "c",
		 .token = "tn",
		 .fingerprint = "f"},
		{.key = "new",
		 .environment = "e",
		 .category = NULL,
		 .token = "tn2",
		 .fingerprint = "f"},
		{.key = "b",
		 .environment = "e",
		 .category = "c",
		 .token = "tb",
		 .fingerprint = "f"},
	};

	/* overwrite allowed */
	g_assert_true(osc_store_import(fx->store, ops, G_N_ELEMENTS(ops), import_may_overwrite_cb,
				       &check, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(check.n_calls, ==, 3);
	g_assert_cmpint(check.reentry_code, ==, OSC_ERROR_CONFLICT);
	g_assert_cmpint(ops[0].result, ==, OSC_STORE_IMPORT_OVERWRITTEN);
	g_assert_cmpstr(ops[0].row->category, ==, "cat"); /* NULL keeps it */
	g_assert_cmpint(ops[0].row->version, ==, 2);
	g_assert_cmpint(ops[1].result, ==, OSC_STORE_IMPORT_CREATED);
	g_assert_cmpint(ops[1].row->id, ==, 3);
	/* the repeated pair meets the row created just before */
	g_assert_cmpint(ops[2].result, ==, OSC_STORE_IMPORT_OVERWRITTEN);
	g_assert_cmpint(ops[2].row->id, ==, 3);
	g_assert_cmpint(ops[3].result, ==, OSC_STORE_IMPORT_OVERWRITTEN);
	g_assert_cmpint(ops[3].row->revision, ==, 6);
	got = osc_store_get(fx->store, "new", "e", &error);
	g_assert_no_error(error);
	assert_rows_equal(got, ops[2].row);
	for (guint i = 0; i < G_N_ELEMENTS(ops); i++) {
		g_clear_pointer(&ops[i].row, osc_entry_row_free);
		g_clear_pointer(&ops[i].error, g_free);
	}

	/* refused, then skipped */
	check.allow = FALSE;
	g_assert_true(osc_store_import(fx->store, ops, 1, import_may_overwrite_cb, &check, &error));
	g_assert_no_error(error);
	g_assert_cmpint(ops[0].result, ==, OSC_STORE_IMPORT_FAILED);
	g_assert_cmpstr(ops[0].error, ==, "not yours: a");
	g_clear_pointer(&ops[0].error, g_free);
	g_assert_true(osc_store_import(fx->store, ops, 1, NULL, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(ops[0].result, ==, OSC_STORE_IMPORT_SKIPPED);
	g_assert_null(ops[0].row);
	g_assert_cmpint(osc_store_count(fx->store, NULL, NULL, NULL), ==, 3);
}

typedef struct {
	OscStoreImportOp *ops;
	guint n_ops;
	guint next;
	GPtrArray *results; /* OscEntryRow, in the order done saw them */
	gboolean fail_at_end; /* the producer fails instead of ending */
} StreamState;

static gboolean
stream_next_cb(OscStoreImportOp *op, gpointer user_data, GError **error)
{
	StreamState *st = user_data;

	if (st->next >= st->n_ops) {
		if (st->fail_at_end)
			g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT, "no more");
		return FALSE;
	}
	*op = st->ops[st->next++];
	return TRUE;
}

static void
stream_done_cb(OscStoreImportOp *op, gpointer user_data)
{
	StreamState *st = user_data;

	g_assert_cmpint(op->result, ==, OSC_STORE_IMPORT_CREATED);
	g_ptr_array_add(st->results, g_steal_pointer(&op->row));
}

/* the streaming form: operations pulled one at a time, results pushed in order; a failing
 * operation in the middle leaves the store as it was */
static void
test_store_import_stream(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func((GDestroyNotify)osc_entry_row_free);
	OscStoreImportOp ops[3] = {
		{.key = "s1", .environment = "e", .token = "t1", .fingerprint = "f"},
		{.key = "s2", .environment = "e", .token = "t2", .fingerprint = "f"},
		/* NOT NULL constraint: the database refuses it inside the transaction */
		{.key = "s3", .environment = "e", .token = NULL, .fingerprint = "f"},
	};
	StreamState st = {ops, 2, 0, results, FALSE};

	g_assert_true(osc_store_import_stream(fx->store, stream_next_cb, stream_done_cb, &st, NULL,
					      NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(results->len, ==, 2);
	g_assert_cmpstr(((OscEntryRow *)g_ptr_array_index(results, 0))->key, ==, "s1");
	g_assert_cmpstr(((OscEntryRow *)g_ptr_array_index(results, 1))->key, ==, "s2");
	g_assert_cmpint(osc_store_count(fx->store, NULL, NULL, NULL), ==, 2);

	/* s1' and s2' would be new, then s3 fails: none of them is there afterwards */
	ops[0].key = "s1b";
	ops[1].key = "s2b";
	st = (StreamState){ops, 3, 0, results, FALSE};
	g_assert_false(osc_store_import_stream(fx->store, stream_next_cb, stream_done_cb, &st, NULL,
					       NULL, &error));
	g_assert_nonnull(error);
	g_assert_cmpint(osc_store_count(fx->store, NULL, NULL, NULL), ==, 2);
	g_assert_null(osc_store_get(fx->store, "s1b", "e", NULL));
	g_clear_error(&error);

	/* the producer gives up after two good operations: neither is written either */
	st = (StreamState){ops, 2, 0, results, TRUE};
	g_assert_false(osc_store_import_stream(fx->store, stream_next_cb, stream_done_cb, &st, NULL,
					       NULL, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_cmpint(osc_store_count(fx->store, NULL, NULL, NULL), ==, 2);
	g_assert_null(osc_store_get(fx->store, "s1b", "e", NULL));
}

typedef struct {
	GPtrArray *keys;
	guint stop_after;
} ForeachState;

static gboolean
foreach_cb(OscEntryRow *row, gpointer user_data)
{
	ForeachState *st = user_data;

	g_ptr_array_add(st->keys, g_strdup(row->key));
	return st->keys->len < st->stop_after;
}

static void
test_store_foreach(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
	ForeachState st = {keys, G_MAXUINT};
	g_autoptr(OscEntryRow) a = insert_ok(fx->store, "a", "prod", "x");
	g_autoptr(OscEntryRow) b = insert_ok(fx->store, "b", "dev", "x");
	g_autoptr(OscEntryRow) c = insert_ok(fx->store, "c", "prod", NULL);

	g_assert_true(osc_store_foreach(fx->store, NULL, NULL, foreach_cb, &st, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(keys->len, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(keys, 0), ==, "a");
	g_assert_cmpstr(g_ptr_array_index(keys, 2), ==, "c");

	/* the same filters as osc_store_list() */
	g_ptr_array_set_size(keys, 0);
	g_assert_true(osc_store_foreach(fx->store, "x", "prod", foreach_cb, &st, &error));
	g_assert_cmpuint(keys->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(keys, 0), ==, "a");

	/* stopping early is not an error */
	g_ptr_array_set_size(keys, 0);
	st.stop_after = 1;
	g_assert_true(osc_store_foreach(fx->store, NULL, NULL, foreach_cb, &st, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(keys->len, ==, 1);
}

static gchar *
rekey_version_cb(const gchar *token, gpointer user_data, GError **error)
{
	guint *calls = user_data;

	(*calls)++;
	if (g_str_has_prefix(token, "alien")) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_AUTH, "not this key's");
		return NULL;
	}
	return g_strconcat("new:", token, NULL);
}

static gchar *
raw_version_text(sqlite3 *db, const gchar *sql)
{
	sqlite3_stmt *stmt = NULL;
	gchar *text;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	text = g_strdup((const gchar *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return text;
}

/* osc_store_rekey_versions(): the old key's versions (across batches of 1,000), versions
 * without a fingerprint that the key opens, never another key's */
static void
test_store_rekey_versions(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *other = NULL;
	g_autofree gchar *alien = NULL;
	g_autofree gchar *legacy = NULL;
	g_autofree gchar *counted = NULL;
	sqlite3 *db = raw_open(fx->path);
	guint calls = 0, count = 0;

	g_assert_cmpint(sqlite3_exec(db,
				     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
				     "FROM n WHERE i < 1205) "
				     "INSERT INTO osc_versions (entry_id, \"key\", environment, "
				     "version, encrypted_value, key_fingerprint, created_at, "
				     "superseded_at) SELECT i, 'k' || i, 'e', 1, 'tok' || i, 'old', "
				     "'2026-01-01', '2026-01-02' FROM n;"
				     "INSERT INTO osc_versions VALUES (2000, 'other', 'e', 1, 'tokx', "
				     "'another', NULL, '2026-01-01', '2026-01-02', NULL, 0);"
				     "INSERT INTO osc_versions VALUES (2001, 'alien', 'e', 1, 'alien1', "
				     "NULL, NULL, '2026-01-01', '2026-01-02', NULL, 0);"
				     "INSERT INTO osc_versions VALUES (2002, 'legacy', 'e', 1, 'leg1', "
				     "NULL, NULL, '2026-01-01', '2026-01-02', NULL, 0);",
				     NULL, NULL, NULL),
			 ==, SQLITE_OK);

	g_assert_true(osc_store_rekey_versions(fx->store, "old", "fresh", rekey_version_cb, &calls,
					       &count, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 1206);
	g_assert_cmpuint(calls, ==, 1207); /* the alien one was asked about, and left alone */

	counted = raw_version_text(db, "SELECT COUNT(*) FROM osc_versions WHERE "
				       "key_fingerprint = 'fresh' AND encrypted_value LIKE 'new:tok%'");
	g_assert_cmpstr(counted, ==, "1205");
	other = raw_version_text(db, "SELECT encrypted_value || '/' || key_fingerprint FROM "
				     "osc_versions WHERE \"key\" = 'other'");
	g_assert_cmpstr(other, ==, "tokx/another");
	alien = raw_version_text(db, "SELECT encrypted_value || '/' || "
				     "IFNULL(key_fingerprint, '-') FROM osc_versions WHERE "
				     "\"key\" = 'alien'");
	g_assert_cmpstr(alien, ==, "alien1/-");
	legacy = raw_version_text(db, "SELECT encrypted_value || '/' || key_fingerprint FROM "
				      "osc_versions WHERE \"key\" = 'legacy'");
	g_assert_cmpstr(legacy, ==, "new:leg1/fresh");
	sqlite3_close(db);
}

/* what migration 2 creates */
static const gchar *versions_table_ddl =
	"CREATE TABLE osc_versions (\n"
	"    entry_id INTEGER NOT NULL,\n"
	"    \"key\" VARCHAR(255) NOT NULL,\n"
	"    environment VARCHAR(100) NOT NULL,\n"
	"    version INTEGER NOT NULL,\n"
	"    encrypted_value TEXT NOT NULL,\n"
	"    key_fingerprint TEXT,\n"
	"    category VARCHAR(100),\n"
	"    created_at DATETIME NOT NULL, /* when this version was written */\n"
	"    superseded_at DATETIME NOT NULL,\n"
	"    node_id TEXT,\n"
	"    deleted INTEGER NOT NULL DEFAULT 0, "
	"/* 1: the entry was deleted after this version */\n"
	"    PRIMARY KEY (\"key\", environment, version)\n"
	")";

static void
assert_schema_versions(const gchar *path)
{
	sqlite3 *db = raw_open(path);
	g_autofree gchar *table_sql = raw_query_text(
		db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'osc_versions'");
	g_autofree gchar *index_sql =
		raw_query_text(db, "SELECT sql FROM sqlite_master WHERE type = 'index' AND "
				   "name = 'ix_osc_versions_entry_id'");

	g_assert_cmpstr(table_sql, ==, versions_table_ddl);
	g_assert_cmpstr(index_sql, ==,
			"CREATE INDEX ix_osc_versions_entry_id ON osc_versions (entry_id)");
	g_assert_cmpint(raw_query_int(db, "SELECT version FROM osc_schema_version"), ==,
			OSC_STORE_SCHEMA_VERSION);
	sqlite3_close(db);
}

static gint64
versions_count(const gchar *path)
{
	sqlite3 *db = raw_open(path);
	gint64 n = raw_query_int(db, "SELECT COUNT(*) FROM osc_versions");

	sqlite3_close(db);
	return n;
}

static GPtrArray *
list_versions_ok(OscStore *store, const gchar *key, const gchar *env)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *versions = osc_store_list_versions(store, key, env, &error);

	g_assert_no_error(error);
	g_assert_nonnull(versions);
	return versions;
}

static OscEntryRow *
update_ok(OscStore *store, const gchar *key, const gchar *env, gboolean set_category,
	  const gchar *category, const gchar *token, const gchar *fingerprint)
{
	g_autoptr(GError) error = NULL;
	OscEntryRow *row = osc_store_update(store, key, env, set_category, category, token,
					    fingerprint, -1, &error);

	g_assert_no_error(error);
	g_assert_nonnull(row);
	return row;
}

/* the versions of @versions, newest first, as "3* 2 1d" (* current, d deleted) */
static gchar *
versions_summary(GPtrArray *versions)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < versions->len; i++) {
		OscEntryVersion *v = g_ptr_array_index(versions, i);
		if (i > 0)
			g_string_append_c(out, ' ');
		g_string_append_printf(out, "%" G_GINT64_FORMAT "%s%s", v->version,
				       v->current ? "*" : "", v->deleted ? "d" : "");
	}
	return g_string_free(out, FALSE);
}

static void
assert_version_is_row(const OscEntryVersion *v, const OscEntryRow *row)
{
	g_assert_true(v->current);
	g_assert_false(v->deleted);
	g_assert_cmpstr(v->key, ==, row->key);
	g_assert_cmpstr(v->environment, ==, row->environment);
	g_assert_cmpint(v->version, ==, row->version);
	g_assert_cmpstr(v->token, ==, row->token);
	g_assert_cmpstr(v->fingerprint, ==, row->fingerprint);
	g_assert_cmpstr(v->category, ==, row->category);
	g_assert_cmpstr(v->created_at, ==, row->updated_at);
	g_assert_null(v->superseded_at);
	g_assert_null(v->node_id);
}

static void
test_store_versions_update(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) r1 = NULL;
	g_autoptr(OscEntryRow) r2 = NULL;
	g_autoptr(OscEntryRow) r3 = NULL;
	g_autoptr(GPtrArray) versions = NULL;
	g_autoptr(GPtrArray) other = NULL;
	g_autoptr(OscEntryRow) other_row = NULL;
	g_autofree gchar *summary = NULL;
	OscEntryVersion *v;

	g_assert_cmpuint(osc_store_get_versions_kept(fx->store), ==,
			 OSC_STORE_VERSIONS_KEPT_DEFAULT);
	assert_schema_versions(fx->path);

	r1 = osc_store_insert(fx->store, "k", "e", "c1", "t1", "fp1", &error);
	g_assert_no_error(error);
	versions = list_versions_ok(fx->store, "k", "e");
	g_assert_cmpuint(versions->len, ==, 1);
	assert_version_is_row(g_ptr_array_index(versions, 0), r1);
	g_clear_pointer(&versions, g_ptr_array_unref);

	r2 = update_ok(fx->store, "k", "e", TRUE, "c2", "t2", "fp2");
	osc_store_set_node_id(fx->store, "node-a");
	r3 = update_ok(fx->store, "k", "e", FALSE, NULL, "t3", "fp3");
	g_assert_cmpint(r3->version, ==, 3);

	versions = list_versions_ok(fx->store, "k", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "3* 2 1");
	assert_version_is_row(g_ptr_array_index(versions, 0), r3);

	/* version 2 as it was, replaced by r3's write on node-a */
	v = g_ptr_array_index(versions, 1);
	g_assert_false(v->current);
	g_assert_false(v->deleted);
	g_assert_cmpstr(v->key, ==, "k");
	g_assert_cmpstr(v->environment, ==, "e");
	g_assert_cmpstr(v->token, ==, "t2");
	g_assert_cmpstr(v->fingerprint, ==, "fp2");
	g_assert_cmpstr(v->category, ==, "c2");
	g_assert_cmpstr(v->created_at, ==, r2->updated_at);
	g_assert_cmpstr(v->superseded_at, ==, r3->updated_at);
	g_assert_cmpstr(v->node_id, ==, "node-a");

	/* version 1, replaced before there was a node id */
	v = g_ptr_array_index(versions, 2);
	g_assert_cmpstr(v->token, ==, "t1");
	g_assert_cmpstr(v->fingerprint, ==, "fp1");
	g_assert_cmpstr(v->category, ==, "c1");
	g_assert_cmpstr(v->created_at, ==, r1->created_at);
	g_assert_cmpstr(v->superseded_at, ==, r2->updated_at);
	g_assert_null(v->node_id);
	{
		g_autoptr(OscEntryVersion) copy = osc_entry_version_copy(v);
		g_assert_cmpint(copy->version, ==, 1);
		g_assert_cmpstr(copy->created_at, ==, v->created_at);
		g_assert_false(copy->current);
	}

	/* stored with the row's id, and only for this pair */
	{
		sqlite3 *db = raw_open(fx->path);
		g_autofree gchar *sql = g_strdup_printf(
			"SELECT COUNT(*) FROM osc_versions WHERE entry_id = %" G_GINT64_FORMAT,
			r1->id);
		g_assert_cmpint(raw_query_int(db, sql), ==, 2);
		sqlite3_close(db);
	}
	g_clear_object(&fx->store);
	fx->store = osc_store_new(fx->path, &error);
	g_assert_no_error(error);
	other_row = insert_ok(fx->store, "k", "other", NULL);
	other = list_versions_ok(fx->store, "k", "other");
	g_assert_cmpuint(other->len, ==, 1);

	/* neither a row nor history */
	g_assert_null(osc_store_list_versions(fx->store, "nope", "e", &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==,
			"Configuration with key 'nope' not found in environment 'e'");
}

static void
test_store_versions_delete(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) r1 = insert_ok(fx->store, "k", "e", "c1");
	g_autoptr(OscEntryRow) r2 = update_ok(fx->store, "k", "e", FALSE, NULL, "t2", "fp2");
	g_autoptr(OscEntryRow) r3 = NULL;
	g_autoptr(OscEntryRow) r4 = NULL;
	g_autoptr(OscEntryRow) gone = NULL;
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gchar *summary = NULL;
	OscEntryVersion *v;

	osc_store_set_node_id(fx->store, "node-b");
	g_assert_true(osc_store_delete(fx->store, "k", "e", r2->revision, &error));
	g_assert_no_error(error);
	gone = osc_store_get(fx->store, "k", "e", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* the history survives the delete; the last state says what happened next */
	versions = list_versions_ok(fx->store, "k", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "2d 1");
	v = g_ptr_array_index(versions, 0);
	g_assert_false(v->current);
	g_assert_cmpstr(v->token, ==, "t2");
	g_assert_cmpstr(v->category, ==, "c1");
	g_assert_cmpstr(v->created_at, ==, r2->updated_at);
	g_assert_nonnull(v->superseded_at);
	g_assert_cmpstr(v->superseded_at, >=, r2->updated_at);
	g_assert_cmpstr(v->node_id, ==, "node-b");
	g_clear_pointer(&versions, g_ptr_array_unref);
	g_clear_pointer(&summary, g_free);

	/* a failed delete records nothing */
	g_assert_false(osc_store_delete(fx->store, "k", "e", -1, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_cmpint(versions_count(fx->path), ==, 2);

	/* re-created: a new id, numbered after the history */
	r3 = insert_ok(fx->store, "k", "e", "c3");
	g_assert_cmpint(r3->version, ==, 3);
	g_assert_cmpint(r3->id, >, r1->id);
	r4 = update_ok(fx->store, "k", "e", FALSE, NULL, "t4", NULL);
	g_assert_cmpint(r4->version, ==, 4);
	versions = list_versions_ok(fx->store, "k", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "4* 3 2d 1");
	v = g_ptr_array_index(versions, 1);
	g_assert_cmpstr(v->category, ==, "c3");
	{
		sqlite3 *db = raw_open(fx->path);
		g_assert_cmpint(
			raw_query_int(db, "SELECT entry_id FROM osc_versions WHERE version = 3"),
			==, r3->id);
		sqlite3_close(db);
	}
}

static gboolean
versions_overwrite_all_cb(OscEntryRow *existing, gpointer user_data, gchar **reason)
{
	return TRUE;
}

static void
test_store_versions_import(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) a = insert_ok(fx->store, "a", "e", "ca");
	g_autoptr(OscEntryRow) d = insert_ok(fx->store, "d", "e", "cd");
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gchar *summary = NULL;
	OscStoreImportOp ops[] = {
		{.key = "a", .environment = "e", .token = "ta2", .fingerprint = "f2"},
		{.key = "a", .environment = "e", .category = "cb", .token = "ta3"},
		{.key = "d", .environment = "e", .category = "cd2", .token = "td2"},
		{.key = "n", .environment = "e", .token = "tn"},
	};
	OscEntryVersion *v;

	g_assert_true(osc_store_delete(fx->store, "d", "e", -1, &error));
	g_assert_no_error(error);
	g_assert_true(osc_store_import(fx->store, ops, G_N_ELEMENTS(ops), NULL, NULL, &error));
	g_assert_no_error(error);
	/* no overwrite callback: existing rows are skipped and keep their history as is */
	g_assert_cmpint(ops[0].result, ==, OSC_STORE_IMPORT_SKIPPED);
	g_assert_cmpint(ops[2].result, ==, OSC_STORE_IMPORT_CREATED);
	g_assert_cmpint(ops[2].row->version, ==, 2);
	g_assert_cmpint(ops[3].result, ==, OSC_STORE_IMPORT_CREATED);
	g_assert_cmpint(ops[3].row->version, ==, 1);
	for (guint i = 0; i < G_N_ELEMENTS(ops); i++) {
		g_clear_pointer(&ops[i].row, osc_entry_row_free);
		g_clear_pointer(&ops[i].error, g_free);
	}
	versions = list_versions_ok(fx->store, "a", "e");
	g_assert_cmpuint(versions->len, ==, 1);
	g_clear_pointer(&versions, g_ptr_array_unref);

	/* overwrites record the state they replace, also twice in one import */
	ops[2].key = "n";
	ops[3].key = "zzz";
	g_assert_true(osc_store_import(fx->store, ops, G_N_ELEMENTS(ops), versions_overwrite_all_cb,
				       NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(ops[0].result, ==, OSC_STORE_IMPORT_OVERWRITTEN);
	g_assert_cmpint(ops[0].row->version, ==, 2);
	g_assert_cmpint(ops[1].result, ==, OSC_STORE_IMPORT_OVERWRITTEN);
	g_assert_cmpint(ops[1].row->version, ==, 3);
	g_assert_cmpint(ops[2].result, ==, OSC_STORE_IMPORT_OVERWRITTEN);
	g_assert_cmpint(ops[2].row->version, ==, 2);
	versions = list_versions_ok(fx->store, "a", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "3* 2 1");
	v = g_ptr_array_index(versions, 0);
	g_assert_cmpstr(v->token, ==, "ta3");
	g_assert_cmpstr(v->category, ==, "cb");
	v = g_ptr_array_index(versions, 1);
	g_assert_cmpstr(v->token, ==, "ta2");
	g_assert_cmpstr(v->fingerprint, ==, "f2");
	/* no category in the op: kept */
	g_assert_cmpstr(v->category, ==, "ca");
	/* written and replaced by this one import */
	g_assert_cmpstr(v->superseded_at, ==, v->created_at);
	v = g_ptr_array_index(versions, 2);
	g_assert_cmpstr(v->token, ==, a->token);
	g_assert_cmpstr(v->created_at, ==, a->updated_at);
	g_clear_pointer(&versions, g_ptr_array_unref);
	g_clear_pointer(&summary, g_free);
	for (guint i = 0; i < G_N_ELEMENTS(ops); i++) {
		g_clear_pointer(&ops[i].row, osc_entry_row_free);
		g_clear_pointer(&ops[i].error, g_free);
	}

	versions = list_versions_ok(fx->store, "d", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "2* 1d");
	v = g_ptr_array_index(versions, 1);
	g_assert_cmpstr(v->token, ==, d->token);
}

static void
test_store_versions_retention(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "k", "e", NULL);
	g_autoptr(OscEntryRow) keep = insert_ok(fx->store, "k", "other", NULL);
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gchar *summary = NULL;

	osc_store_set_versions_kept(fx->store, 3);
	g_assert_cmpuint(osc_store_get_versions_kept(fx->store), ==, 3);
	for (guint i = 0; i < 5; i++) {
		g_autoptr(OscEntryRow) other =
			update_ok(fx->store, "k", "other", FALSE, NULL, "t", NULL);
	}
	for (guint i = 0; i < 10; i++) {
		g_autofree gchar *token = g_strdup_printf("t%u", i + 2);
		g_autoptr(OscEntryRow) updated =
			update_ok(fx->store, "k", "e", FALSE, NULL, token, NULL);
		g_assert_cmpint(updated->version, ==, i + 2);
	}
	versions = list_versions_ok(fx->store, "k", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "11* 10 9 8");
	g_assert_cmpstr(((OscEntryVersion *)g_ptr_array_index(versions, 1))->token, ==, "t10");
	g_assert_cmpint(versions_count(fx->path), ==, 6);
	g_clear_pointer(&versions, g_ptr_array_unref);
	g_clear_pointer(&summary, g_free);

	/* a lower limit reaches a pair at its next write */
	osc_store_set_versions_kept(fx->store, 1);
	g_clear_pointer(&row, osc_entry_row_free);
	row = update_ok(fx->store, "k", "e", FALSE, NULL, "t12", NULL);
	versions = list_versions_ok(fx->store, "k", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "12* 11");
	g_clear_pointer(&versions, g_ptr_array_unref);
	g_clear_pointer(&summary, g_free);
	versions = list_versions_ok(fx->store, "k", "other");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "6* 5 4 3");
	g_clear_pointer(&versions, g_ptr_array_unref);
	g_clear_pointer(&summary, g_free);

	/* the deleted state is the newest, so it is what survives */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OscEntryRow) again = NULL;
		g_assert_true(osc_store_delete(fx->store, "k", "e", -1, &error));
		g_assert_no_error(error);
		versions = list_versions_ok(fx->store, "k", "e");
		summary = versions_summary(versions);
		g_assert_cmpstr(summary, ==, "12d");
		again = insert_ok(fx->store, "k", "e", NULL);
		g_assert_cmpint(again->version, ==, 13);
	}
}

static void
test_store_versions_disabled(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "k", "e", NULL);
	g_autoptr(OscEntryRow) again = NULL;
	g_autoptr(OscEntryRow) old = insert_ok(fx->store, "old", "e", NULL);
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gchar *summary = NULL;

	g_clear_pointer(&old, osc_entry_row_free);
	old = update_ok(fx->store, "old", "e", FALSE, NULL, "t2", NULL);
	g_assert_cmpint(versions_count(fx->path), ==, 1);

	osc_store_set_versions_kept(fx->store, 0);
	g_assert_cmpuint(osc_store_get_versions_kept(fx->store), ==, 0);
	for (guint i = 0; i < 3; i++) {
		g_autoptr(OscEntryRow) updated =
			update_ok(fx->store, "k", "e", FALSE, NULL, "t", NULL);
		g_assert_cmpint(updated->version, ==, i + 2);
	}
	versions = list_versions_ok(fx->store, "k", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "4*");
	g_clear_pointer(&versions, g_ptr_array_unref);
	g_clear_pointer(&summary, g_free);

	/* nothing recorded for a delete either, so a re-created entry starts over */
	g_assert_true(osc_store_delete(fx->store, "k", "e", -1, &error));
	g_assert_no_error(error);
	g_assert_null(osc_store_list_versions(fx->store, "k", "e", &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);
	again = insert_ok(fx->store, "k", "e", NULL);
	g_assert_cmpint(again->version, ==, 1);

	/* history kept before is neither recorded to nor pruned, and still numbers the pair */
	g_clear_pointer(&old, osc_entry_row_free);
	old = update_ok(fx->store, "old", "e", FALSE, NULL, "t3", NULL);
	g_assert_cmpint(old->version, ==, 3);
	g_assert_true(osc_store_delete(fx->store, "old", "e", -1, &error));
	g_assert_no_error(error);
	g_clear_pointer(&old, osc_entry_row_free);
	old = insert_ok(fx->store, "old", "e", NULL);
	g_assert_cmpint(old->version, ==, 2);
	versions = list_versions_ok(fx->store, "old", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "2* 1");
	g_assert_cmpint(versions_count(fx->path), ==, 1);
}

static void
test_store_versions_get(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) r1 = insert_ok(fx->store, "k", "e", "c1");
	g_autoptr(OscEntryRow) r2 = update_ok(fx->store, "k", "e", TRUE, NULL, "t2", "fp2");
	g_autoptr(OscEntryVersion) live = NULL;
	g_autoptr(OscEntryVersion) old = NULL;
	g_autoptr(OscEntryVersion) missing = NULL;

	live = osc_store_get_version(fx->store, "k", "e", 2, &error);
	g_assert_no_error(error);
	assert_version_is_row(live, r2);
	g_assert_null(live->category);

	old = osc_store_get_version(fx->store, "k", "e", 1, &error);
	g_assert_no_error(error);
	g_assert_false(old->current);
	g_assert_cmpint(old->version, ==, 1);
	g_assert_cmpstr(old->token, ==, r1->token);
	g_assert_cmpstr(old->category, ==, "c1");
	g_assert_cmpstr(old->superseded_at, ==, r2->updated_at);

	missing = osc_store_get_version(fx->store, "k", "e", 3, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "Version 3 of 'k' not found in environment 'e'");
	g_clear_error(&error);
	missing = osc_store_get_version(fx->store, "k", "prod", 1, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "Version 1 of 'k' not found in environment 'prod'");
	g_clear_error(&error);
	missing = osc_store_get_version(fx->store, "k", "e", 0, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);
	missing = osc_store_get_version(fx->store, "k", "e", -1, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* pruned: gone */
	osc_store_set_versions_kept(fx->store, 1);
	for (guint i = 0; i < 2; i++) {
		g_autoptr(OscEntryRow) updated =
			update_ok(fx->store, "k", "e", FALSE, NULL, "t", NULL);
	}
	missing = osc_store_get_version(fx->store, "k", "e", 1, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_clear_pointer(&old, osc_entry_version_free);
	old = osc_store_get_version(fx->store, "k", "e", 3, &error);
	g_assert_no_error(error);
	g_assert_false(old->current);
}

static void
test_store_versions_restore(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) r1 = NULL;
	g_autoptr(OscEntryRow) r2 = NULL;
	g_autoptr(OscEntryRow) r3 = NULL;
	g_autoptr(OscEntryRow) r4 = NULL;
	g_autoptr(OscEntryRow) r5 = NULL;
	g_autoptr(OscEntryRow) failed = NULL;
	g_autoptr(OscEntryVersion) v1 = NULL;
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gchar *summary = NULL;
	OscEntryVersion *v;

	r1 = osc_store_insert(fx->store, "k", "e", "c1", "t1", "fp1", &error);
	g_assert_no_error(error);
	r2 = update_ok(fx->store, "k", "e", TRUE, "c2", "t2", "fp2");
	r3 = update_ok(fx->store, "k", "e", FALSE, NULL, "t3", "fp3");

	/* the token passed as is, with the old version's fingerprint */
	v1 = osc_store_get_version(fx->store, "k", "e", 1, &error);
	g_assert_no_error(error);
	r4 = osc_store_restore_version(fx->store, "k", "e", 1, v1->token, v1->fingerprint,
				       r3->revision, &error);
	g_assert_no_error(error);
	g_assert_nonnull(r4);
	g_assert_cmpint(r4->id, ==, r1->id);
	g_assert_cmpint(r4->version, ==, 4);
	g_assert_cmpint(r4->revision, >, r3->revision);
	g_assert_cmpstr(r4->token, ==, "t1");
	g_assert_cmpstr(r4->fingerprint, ==, "fp1");
	g_assert_cmpstr(r4->category, ==, "c1");
	g_assert_cmpstr(r4->created_at, ==, r1->created_at);
	{
		g_autoptr(OscEntryRow) got = osc_store_get(fx->store, "k", "e", &error);
		g_assert_no_error(error);
		assert_rows_equal(got, r4);
	}
	versions = list_versions_ok(fx->store, "k", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "4* 3 2 1");
	v = g_ptr_array_index(versions, 1);
	g_assert_cmpstr(v->token, ==, "t3");
	g_assert_cmpstr(v->category, ==, "c2");
	g_clear_pointer(&versions, g_ptr_array_unref);
	g_clear_pointer(&summary, g_free);

	/* re-encrypted by the caller; a version with no category restores none */
	g_clear_pointer(&r2, osc_entry_row_free);
	r2 = update_ok(fx->store, "k", "e", TRUE, NULL, "t5", NULL);
	r5 = osc_store_restore_version(fx->store, "k", "e", 5, "t5-again", "fp9", -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(r5->version, ==, 6);
	g_assert_null(r5->category);
	g_assert_cmpstr(r5->token, ==, "t5-again");
	g_clear_pointer(&r5, osc_entry_row_free);
	r5 = osc_store_restore_version(fx->store, "k", "e", 2, "t2-again", "fp9", -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(r5->version, ==, 7);
	g_assert_cmpstr(r5->category, ==, "c2");

	/* failures change nothing */
	failed = osc_store_restore_version(fx->store, "k", "e", 1, "x", NULL, r3->revision, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_PRECONDITION_FAILED);
	g_assert_null(failed);
	g_clear_error(&error);
	failed = osc_store_restore_version(fx->store, "k", "e", 42, "x", NULL, -1, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "Version 42 of 'k' not found in environment 'e'");
	g_assert_null(failed);
	g_clear_error(&error);
	failed = osc_store_restore_version(fx->store, "nope", "e", 1, "x", NULL, -1, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);
	versions = list_versions_ok(fx->store, "k", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "7* 6 5 4 3 2 1");
}

static void
test_store_versions_restore_deleted(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) r1 = insert_ok(fx->store, "k", "e", "c1");
	g_autoptr(OscEntryRow) r2 = update_ok(fx->store, "k", "e", TRUE, "c2", "t2", "fp2");
	g_autoptr(OscEntryRow) other = insert_ok(fx->store, "z", "e", NULL);
	g_autoptr(OscEntryRow) back = NULL;
	g_autoptr(OscEntryRow) got = NULL;
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gchar *summary = NULL;

	g_assert_true(osc_store_delete(fx->store, "k", "e", -1, &error));
	g_assert_no_error(error);

	/* expected_revision means nothing without a live row */
	back = osc_store_restore_version(fx->store, "k", "e", 1, "t1-re", "fpn", r2->revision,
					 &error);
	g_assert_no_error(error);
	g_assert_nonnull(back);
	g_assert_cmpint(back->id, >, other->id);
	g_assert_cmpint(back->version, ==, 3);
	g_assert_cmpint(back->revision, >, other->revision);
	g_assert_cmpstr(back->token, ==, "t1-re");
	g_assert_cmpstr(back->fingerprint, ==, "fpn");
	g_assert_cmpstr(back->category, ==, "c1");
	g_assert_cmpstr(back->created_at, ==, back->updated_at);
	got = osc_store_get(fx->store, "k", "e", &error);
	g_assert_no_error(error);
	assert_rows_equal(got, back);

	versions = list_versions_ok(fx->store, "k", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "3* 2d 1");
}

/* the v0 database of the original, migrated 0 -> 1 -> 2 */
static void
test_store_versions_migrate_v0(StoreFixture *fx, gconstpointer data)
{
	g_autofree gchar *src = osc_test_data_path("original-v0.db");
	g_autofree gchar *dir = g_path_get_dirname(fx->path);
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) updated = NULL;
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gchar *summary = NULL;
	OscEntryVersion *v;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	copy_file(src, fx->path);
	fx->store = osc_store_new(fx->path, &error);
	g_assert_no_error(error);
	g_assert_cmpint(osc_store_get_schema_version(fx->store, &error), ==,
			OSC_STORE_SCHEMA_VERSION);
	g_assert_no_error(error);
	assert_schema_v1(fx->path);
	assert_schema_versions(fx->path);
	g_assert_cmpint(versions_count(fx->path), ==, 0);

	/* existing rows start without history */
	versions = list_versions_ok(fx->store, "database", "production");
	g_assert_cmpuint(versions->len, ==, 1);
	g_clear_pointer(&versions, g_ptr_array_unref);

	updated = update_ok(fx->store, "database", "production", FALSE, NULL, "t2", "fp");
	g_assert_cmpint(updated->version, ==, 2);
	versions = list_versions_ok(fx->store, "database", "production");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "2* 1");
	v = g_ptr_array_index(versions, 1);
	g_assert_cmpstr(v->token, ==, ROW1_TOKEN);
	g_assert_null(v->fingerprint);
	g_assert_cmpstr(v->category, ==, "config");
	g_assert_cmpstr(v->created_at, ==, "2023-11-14 22:00:00.123456");
}

/*
 * tests/data/store-v1.db was written by this store at schema version 1 (before migration 2):
 * insert database/production (config, tok-db-1, fp-a) and gone/production (old, tok-gone-1);
 * update database (tok-db-2); insert api/staging (no category, tok-api-1); update database
 * with category db (tok-db-3, fp-b); update gone (tok-gone-2); delete gone; checkpoint.
 */
static void
test_store_versions_migrate_v1(StoreFixture *fx, gconstpointer data)
{
	g_autofree gchar *src = osc_test_data_path("store-v1.db");
	g_autofree gchar *dir = g_path_get_dirname(fx->path);
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) db_row = NULL;
	g_autoptr(OscEntryRow) updated = NULL;
	g_autoptr(OscEntryRow) gone = NULL;
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gchar *summary = NULL;
	sqlite3 *db;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	copy_file(src, fx->path);
	db = raw_open(fx->path);
	g_assert_cmpint(raw_query_int(db, "SELECT version FROM osc_schema_version"), ==, 1);
	g_assert_cmpint(raw_query_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE "
					  "name = 'osc_versions'"),
			==, 0);
	before = raw_dump(db, ORIGINAL_COLUMNS ", key_fingerprint, version, revision");
	sqlite3_close(db);

	fx->store = osc_store_new(fx->path, &error);
	g_assert_no_error(error);
	g_assert_cmpint(osc_store_get_schema_version(fx->store, &error), ==,
			OSC_STORE_SCHEMA_VERSION);
	g_assert_no_error(error);
	assert_schema_v1(fx->path);
	assert_schema_versions(fx->path);
	db = raw_open(fx->path);
	after = raw_dump(db, ORIGINAL_COLUMNS ", key_fingerprint, version, revision");
	sqlite3_close(db);
	g_assert_cmpstr(after, ==, before);

	db_row = osc_store_get(fx->store, "database", "production", &error);
	g_assert_no_error(error);
	g_assert_cmpint(db_row->version, ==, 3);
	g_assert_cmpstr(db_row->token, ==, "tok-db-3");
	versions = list_versions_ok(fx->store, "database", "production");
	g_assert_cmpuint(versions->len, ==, 1);
	g_clear_pointer(&versions, g_ptr_array_unref);

	/* numbering goes on from the row's version */
	updated = update_ok(fx->store, "database", "production", FALSE, NULL, "tok-db-4", "fp-b");
	g_assert_cmpint(updated->version, ==, 4);
	versions = list_versions_ok(fx->store, "database", "production");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "4* 3");
	g_assert_cmpstr(((OscEntryVersion *)g_ptr_array_index(versions, 1))->token, ==, "tok-db-3");
	g_assert_cmpstr(((OscEntryVersion *)g_ptr_array_index(versions, 1))->category, ==, "db");

	/* deleted before history existed: nothing to list, and it starts over */
	g_assert_null(osc_store_list_versions(fx->store, "gone", "production", &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);
	gone = insert_ok(fx->store, "gone", "production", NULL);
	g_assert_cmpint(gone->version, ==, 1);
	g_assert_cmpint(gone->id, ==, 4);
}

/* the original server re-creates a deleted pair at version 1 behind our back */
static void
test_store_versions_original_recreates(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) r = insert_ok(fx->store, "py", "e", NULL);
	g_autoptr(OscEntryRow) updated = NULL;
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gchar *summary = NULL;
	sqlite3 *db;

	g_clear_pointer(&r, osc_entry_row_free);
	r = update_ok(fx->store, "py", "e", FALSE, NULL, "t2", NULL);
	g_assert_true(osc_store_delete(fx->store, "py", "e", -1, &error));
	g_assert_no_error(error);
	db = raw_open(fx->path);
	raw_exec(db, "INSERT INTO configurations (\"key\", encrypted_value, category, environment, "
		     "created_at, updated_at) VALUES ('py', 'tok', NULL, 'e', "
		     "'2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000')");
	sqlite3_close(db);

	/* its version 1 is recorded after the kept history, not on top of version 1 */
	updated = update_ok(fx->store, "py", "e", FALSE, NULL, "t4", NULL);
	g_assert_cmpint(updated->version, ==, 4);
	versions = list_versions_ok(fx->store, "py", "e");
	summary = versions_summary(versions);
	g_assert_cmpstr(summary, ==, "4* 3 2d 1");
	g_assert_cmpstr(((OscEntryVersion *)g_ptr_array_index(versions, 1))->token, ==, "tok");
}

typedef struct {
	OscStore *store;
	gint go;
	GArray *seen; /* (element-type gint64) versions this thread wrote */
} VersionRace;

static gpointer
versions_race_cb(gpointer user_data)
{
	VersionRace *race = user_data;

	while (!g_atomic_int_get(&race->go))
		g_thread_yield();
	for (guint i = 0; i < 100; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *token = g_strdup_printf("t-%p-%u", (gpointer)race, i);
		g_autoptr(OscEntryRow) row = osc_store_update(race->store, "hot", "e", FALSE, NULL,
							      token, NULL, -1, &error);
		g_assert_no_error(error);
		g_array_append_val(race->seen, row->version);
	}
	return NULL;
}

static void
test_store_versions_threads(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "hot", "e", NULL);
	g_autoptr(GPtrArray) versions = NULL;
	g_autofree gboolean *written = g_new0(gboolean, 202);
	VersionRace races[2];
	GThread *threads[2];

	/* fewer than the 200 writes: pruning runs concurrently too */
	osc_store_set_versions_kept(fx->store, 150);
	for (guint i = 0; i < G_N_ELEMENTS(races); i++) {
		races[i].store = fx->store;
		races[i].go = 0;
		races[i].seen = g_array_new(FALSE, FALSE, sizeof(gint64));
		threads[i] = g_thread_new("versions", versions_race_cb, &races[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(races); i++)
		g_atomic_int_set(&races[i].go, 1);
	for (guint i = 0; i < G_N_ELEMENTS(races); i++)
		g_thread_join(threads[i]);

	/* each thread saw its versions strictly increase; together they wrote 2..201 once */
	for (guint i = 0; i < G_N_ELEMENTS(races); i++) {
		g_assert_cmpuint(races[i].seen->len, ==, 100);
		for (guint j = 0; j < races[i].seen->len; j++) {
			gint64 version = g_array_index(races[i].seen, gint64, j);
			g_assert_cmpint(version, >=, 2);
			g_assert_cmpint(version, <=, 201);
			g_assert_false(written[version]);
			written[version] = TRUE;
			if (j > 0)
				g_assert_cmpint(version, >,
						g_array_index(races[i].seen, gint64, j - 1));
		}
		g_array_unref(races[i].seen);
	}

	/* the live row and the 150 newest old versions, without gaps */
	versions = list_versions_ok(fx->store, "hot", "e");
	g_assert_cmpuint(versions->len, ==, 151);
	for (guint i = 0; i < versions->len; i++) {
		OscEntryVersion *v = g_ptr_array_index(versions, i);
		g_assert_cmpint(v->version, ==, 201 - (gint64)i);
		g_assert_true(v->current == (i == 0));
		if (i > 0) {
			OscEntryVersion *newer = g_ptr_array_index(versions, i - 1);
			/* each version was replaced exactly when the next one was written */
			g_assert_cmpstr(v->superseded_at, ==, newer->created_at);
		}
	}
	g_assert_cmpint(versions_count(fx->path), ==, 150);
}

/* an import stream of one row, "from-import", then either its end or an error */
typedef struct {
	guint calls;
	gboolean then_fail; /* abandon the import after the row */
} OneRowImport;

static gboolean
one_row_next(OscStoreImportOp *op, gpointer user_data, GError **error)
{
	OneRowImport *imp = user_data;

	if (imp->calls++ > 0) {
		if (imp->then_fail)
			g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
					    "second row is bad");
		return FALSE;
	}
	op->key = "from-import";
	op->environment = "e";
	op->token = "tok-import";
	op->fingerprint = "fp1";
	return TRUE;
}

static void
one_row_done(OscStoreImportOp *op, gpointer user_data)
{
	g_clear_pointer(&op->row, osc_entry_row_free);
	g_clear_pointer(&op->error, g_free);
}

static void
import_failing_second(OscStore *store)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	OneRowImport imp = {0, TRUE};

	g_assert_false(osc_store_import_stream(store, one_row_next, one_row_done, &imp, NULL, NULL,
					       &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_cmpuint(imp.calls, ==, 2);
	row = osc_store_get(store, "from-import", "e", &error);
	g_assert_null(row);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
}

/* reads answered from memory (the main loop's GET) are never older than the last write */
static void
test_store_cached(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = insert_ok(fx->store, "k", "e", "c");
	g_autoptr(OscEntryRow) other = insert_ok(fx->store, "k", "e2", "c");
	g_autoptr(OscEntryRow) got = NULL;
	g_autoptr(OscEntryRow) cached = NULL;
	g_autoptr(OscEntryRow) upd = NULL;
	g_autoptr(OscStore) second = NULL;
	g_autoptr(OscEntryRow) shared = NULL;
	g_autofree gchar *big = NULL;
	guint64 generation;

	/* nothing read yet: nothing in memory */
	g_assert_null(osc_store_get_cached(fx->store, "k", "e"));

	/* a read leaves the row, and only that row, in memory */
	got = osc_store_get(fx->store, "k", "e", &error);
	g_assert_no_error(error);
	cached = osc_store_get_cached(fx->store, "k", "e");
	g_assert_nonnull(cached);
	g_assert_true(cached != got);
	assert_rows_equal(cached, got);
	g_assert_null(osc_store_get_cached(fx->store, "k", "e2"));
	g_assert_null(osc_store_get_cached(fx->store, "e", "k"));
	g_clear_pointer(&cached, osc_entry_row_free);
	g_clear_pointer(&got, osc_entry_row_free);

	/* writes that change no row leave it: a delete of nothing, a prune with nothing to
	 * drop, a checkpoint, a fingerprint already set */
	generation = osc_store_get_generation(fx->store);
	g_assert_false(osc_store_delete(fx->store, "missing", "e", -1, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_cmpint(osc_store_prune_tombstones(fx->store, 0, &error), ==, 0);
	g_assert_no_error(error);
	g_assert_true(osc_store_checkpoint(fx->store, &error));
	g_assert_no_error(error);
	g_assert_true(osc_store_set_fingerprint(fx->store, row->id, "fp-other", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(osc_store_get_generation(fx->store), ==, generation);
	cached = osc_store_get_cached(fx->store, "k", "e");
	g_assert_nonnull(cached);
	g_clear_pointer(&cached, osc_entry_row_free);

	/* any write, even of another entry, makes it stale */
	upd = osc_store_update(fx->store, "k", "e2", FALSE, NULL, "tok-e2", "fp1", -1, &error);
	g_assert_no_error(error);
	g_assert_null(osc_store_get_cached(fx->store, "k", "e"));

	/* an update: the next read brings the new row, never the old one */
	got = osc_store_get(fx->store, "k", "e", &error);
	g_assert_no_error(error);
	g_clear_pointer(&got, osc_entry_row_free);
	g_clear_pointer(&upd, osc_entry_row_free);
	upd = osc_store_update(fx->store, "k", "e", FALSE, NULL, "tok-new", "fp1", -1, &error);
	g_assert_no_error(error);
	g_assert_null(osc_store_get_cached(fx->store, "k", "e"));
	got = osc_store_get(fx->store, "k", "e", &error);
	g_assert_no_error(error);
	cached = osc_store_get_cached(fx->store, "k", "e");
	g_assert_nonnull(cached);
	g_assert_cmpstr(cached->token, ==, "tok-new");
	g_assert_cmpint(cached->revision, ==, upd->revision);
	g_clear_pointer(&cached, osc_entry_row_free);
	g_clear_pointer(&got, osc_entry_row_free);

	/* a write refused before it changed anything leaves it too (SQLite's count of changed
	 * rows decides, not a guess) */
	generation = osc_store_get_generation(fx->store);
	g_assert_null(osc_store_update(fx->store, "k", "e", FALSE, NULL, "t", "fp1", 999999, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_PRECONDITION_FAILED);
	g_clear_error(&error);
	g_assert_cmpuint(osc_store_get_generation(fx->store), ==, generation);
	cached = osc_store_get_cached(fx->store, "k", "e");
	g_assert_nonnull(cached);
	g_assert_cmpstr(cached->token, ==, "tok-new");
	g_clear_pointer(&cached, osc_entry_row_free);
	/* a change rolled back does make it stale: an import whose second row fails */
	import_failing_second(fx->store);
	g_assert_cmpuint(osc_store_get_generation(fx->store), >, generation);
	g_assert_null(osc_store_get_cached(fx->store, "k", "e"));

	/* recording a fingerprint is a write too (on a row of the original's, which has none) */
	got = osc_store_insert(fx->store, "nofp", "e", NULL, "tok-nofp", NULL, &error);
	g_assert_no_error(error);
	g_clear_pointer(&got, osc_entry_row_free);
	got = osc_store_get(fx->store, "nofp", "e", &error);
	g_assert_no_error(error);
	cached = osc_store_get_cached(fx->store, "nofp", "e");
	g_assert_nonnull(cached);
	g_assert_null(cached->fingerprint);
	g_clear_pointer(&cached, osc_entry_row_free);
	g_assert_true(osc_store_set_fingerprint(fx->store, got->id, "fp2", &error));
	g_assert_no_error(error);
	g_assert_null(osc_store_get_cached(fx->store, "nofp", "e"));
	g_clear_pointer(&got, osc_entry_row_free);

	/* a delete */
	got = osc_store_get(fx->store, "k", "e", &error);
	g_assert_no_error(error);
	g_clear_pointer(&got, osc_entry_row_free);
	g_assert_true(osc_store_delete(fx->store, "k", "e", -1, &error));
	g_assert_no_error(error);
	g_assert_null(osc_store_get_cached(fx->store, "k", "e"));

	/* a large value is read from the database each time */
	big = g_strnfill(20000, 'x');
	g_clear_pointer(&upd, osc_entry_row_free);
	upd = osc_store_update(fx->store, "k", "e2", FALSE, NULL, big, "fp1", -1, &error);
	g_assert_no_error(error);
	got = osc_store_get(fx->store, "k", "e2", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(got->token, ==, big);
	g_assert_null(osc_store_get_cached(fx->store, "k", "e2"));
	g_clear_pointer(&got, osc_entry_row_free);

	/* another process (here: a second store on the same file) may write too: its
	 * write shows within a second */
	shared = insert_ok(fx->store, "shared", "e", NULL);
	got = osc_store_get(fx->store, "shared", "e", &error);
	g_assert_no_error(error);
	g_clear_pointer(&got, osc_entry_row_free);
	second = osc_store_new(fx->path, &error);
	g_assert_no_error(error);
	g_clear_pointer(&upd, osc_entry_row_free);
	upd = osc_store_update(second, "shared", "e", FALSE, NULL, "tok-other", "fp1", -1, &error);
	g_assert_no_error(error);
	g_usleep(G_USEC_PER_SEC + G_USEC_PER_SEC / 10);
	g_assert_null(osc_store_get_cached(fx->store, "shared", "e"));
	got = osc_store_get(fx->store, "shared", "e", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(got->token, ==, "tok-other");
	g_clear_pointer(&got, osc_entry_row_free);

	/* a closed store serves nothing from memory */
	got = osc_store_get(fx->store, "shared", "e", &error);
	g_assert_no_error(error);
	g_clear_pointer(&got, osc_entry_row_free);
	cached = osc_store_get_cached(fx->store, "shared", "e");
	g_assert_nonnull(cached);
	g_assert_cmpstr(cached->token, ==, "tok-other");
	osc_store_close(fx->store);
	g_assert_null(osc_store_get_cached(fx->store, "shared", "e"));
}

/* ---- durability: every write returns once its commit is on disk ---- */

typedef struct {
	GMutex mutex;
	GCond cond;
	gboolean open; /* syncs may finish */
	guint entered; /* syncs started */
	gint result;   /* what each sync returns */
	gulong sleep_us;
	guint64 durable; /* commits that a sync which returned 0 covered */
} SyncGate;

static void
sync_gate_init(SyncGate *gate, gboolean open, gint result, gulong sleep_us)
{
	g_mutex_init(&gate->mutex);
	g_cond_init(&gate->cond);
	gate->open = open;
	gate->entered = 0;
	gate->result = result;
	gate->sleep_us = sleep_us;
	gate->durable = 0;
}

static void
sync_gate_clear(SyncGate *gate)
{
	g_mutex_clear(&gate->mutex);
	g_cond_clear(&gate->cond);
}

static gint
sync_gate_func(OscStore *store, gpointer user_data)
{
	SyncGate *gate = user_data;
	guint64 started = 0;

	/* every commit numbered now is written: this sync covers them */
	osc_store_get_sync_counts(store, &started, NULL);
	g_mutex_lock(&gate->mutex);
	gate->entered++;
	g_cond_broadcast(&gate->cond);
	while (!gate->open)
		g_cond_wait(&gate->cond, &gate->mutex);
	g_mutex_unlock(&gate->mutex);
	if (gate->sleep_us > 0)
		g_usleep(gate->sleep_us);
	g_mutex_lock(&gate->mutex);
	if (gate->result == 0)
		gate->durable = MAX(gate->durable, started);
	g_mutex_unlock(&gate->mutex);
	return gate->result;
}

static void
sync_gate_set_open(SyncGate *gate)
{
	g_mutex_lock(&gate->mutex);
	gate->open = TRUE;
	g_cond_broadcast(&gate->cond);
	g_mutex_unlock(&gate->mutex);
}

static void
sync_gate_wait_entered(SyncGate *gate, guint n)
{
	g_mutex_lock(&gate->mutex);
	while (gate->entered < n)
		g_cond_wait(&gate->cond, &gate->mutex);
	g_mutex_unlock(&gate->mutex);
}

typedef struct {
	OscStore *store;
	const gchar *key;
	gint returned;
} SyncInsert;

static gpointer
sync_insert_thread(gpointer data)
{
	SyncInsert *ins = data;
	g_autoptr(GError) error = NULL;
	OscEntryRow *row = osc_store_insert(ins->store, ins->key, "e", "c", "tok", "fp1", &error);

	g_assert_no_error(error);
	g_atomic_int_set(&ins->returned, 1);
	return row;
}

/* the row of @key once another thread's commit shows, polling */
static OscEntryRow *
wait_for_row(OscStore *store, const gchar *key)
{
	for (guint i = 0; i < 5000; i++) {
		g_autoptr(GError) error = NULL;
		OscEntryRow *row = osc_store_get(store, key, "e", &error);
		if (row != NULL)
			return row;
		g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
		g_usleep(1000);
	}
	g_assert_not_reached();
}

static void
test_store_sync_wait(StoreFixture *fx, gconstpointer data)
{
	SyncGate gate;
	SyncInsert first = {fx->store, "first", 0};
	SyncInsert second = {fx->store, "second", 0};
	g_autoptr(OscEntryRow) seen = NULL;
	g_autoptr(OscEntryRow) seen2 = NULL;
	OscEntryRow *row1, *row2;
	GThread *t1, *t2;
	guint64 commits = 0, syncs = 0;

	sync_gate_init(&gate, FALSE, 0, 0);
	osc_store_set_sync_func(fx->store, sync_gate_func, &gate);

	/* the first insert commits, then waits for its sync */
	t1 = g_thread_new("first", sync_insert_thread, &first);
	sync_gate_wait_entered(&gate, 1);
	seen = wait_for_row(fx->store, "first");
	g_assert_cmpstr(seen->token, ==, "tok");
	g_usleep(20000);
	g_assert_cmpint(g_atomic_int_get(&first.returned), ==, 0);

	/* the write lock is free while it waits: a second write commits meanwhile, and
	 * waits too, for a sync that started after its commit */
	t2 = g_thread_new("second", sync_insert_thread, &second);
	seen2 = wait_for_row(fx->store, "second");
	g_assert_cmpint(g_atomic_int_get(&second.returned), ==, 0);
	g_assert_cmpint(g_atomic_int_get(&first.returned), ==, 0);

	sync_gate_set_open(&gate);
	row1 = g_thread_join(t1);
	row2 = g_thread_join(t2);
	g_assert_nonnull(row1);
	g_assert_nonnull(row2);
	/* the first sync could not cover the second commit */
	osc_store_get_sync_counts(fx->store, &commits, &syncs);
	g_assert_cmpuint(commits, ==, 2);
	g_assert_cmpuint(syncs, ==, 2);
	g_assert_cmpuint(gate.entered, ==, 2);
	osc_entry_row_free(row1);
	osc_entry_row_free(row2);
	osc_store_set_sync_func(fx->store, NULL, NULL);
	sync_gate_clear(&gate);
}

typedef struct {
	OscStore *store;
	SyncGate *gate;
	guint thread;
} GroupCommitThread;

#define GROUP_COMMIT_THREADS 8
#define GROUP_COMMIT_EACH    25

static gpointer
group_commit_thread(gpointer data)
{
	GroupCommitThread *gct = data;

	for (guint i = 0; i < GROUP_COMMIT_EACH; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *key = g_strdup_printf("t%u-%u", gct->thread, i);
		g_autoptr(OscEntryRow) row =
			osc_store_insert(gct->store, key, "e", "c", "tok", "fp1", &error);
		g_assert_no_error(error);
		g_assert_nonnull(row);
		/* inserts only, into a new store: row n is commit n, which a sync that
		 * started after it must have covered before the insert returned */
		g_mutex_lock(&gct->gate->mutex);
		g_assert_cmpint(row->id, <=, (gint64)gct->gate->durable);
		g_mutex_unlock(&gct->gate->mutex);
	}
	return NULL;
}

static void
test_store_group_commit(StoreFixture *fx, gconstpointer data)
{
	SyncGate gate;
	GroupCommitThread gct[GROUP_COMMIT_THREADS];
	GThread *threads[GROUP_COMMIT_THREADS];
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	guint64 commits = 0, syncs = 0;

	/* a slow disk: 2 ms per sync, and the first one held */
	sync_gate_init(&gate, FALSE, 0, 2000);
	osc_store_set_sync_func(fx->store, sync_gate_func, &gate);
	for (guint i = 0; i < GROUP_COMMIT_THREADS; i++) {
		gct[i].store = fx->store;
		gct[i].gate = &gate;
		gct[i].thread = i;
		threads[i] = g_thread_new("writer", group_commit_thread, &gct[i]);
	}
	/* one sync at a time: while it runs, the other writers commit and wait */
	sync_gate_wait_entered(&gate, 1);
	g_usleep(50000);
	g_mutex_lock(&gate.mutex);
	g_assert_cmpuint(gate.entered, ==, 1);
	g_mutex_unlock(&gate.mutex);
	sync_gate_set_open(&gate);
	for (guint i = 0; i < GROUP_COMMIT_THREADS; i++)
		g_thread_join(threads[i]);

	rows = osc_store_list(fx->store, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, GROUP_COMMIT_THREADS * GROUP_COMMIT_EACH);
	/* commits made while a sync ran shared the next one */
	osc_store_get_sync_counts(fx->store, &commits, &syncs);
	g_assert_cmpuint(commits, ==, GROUP_COMMIT_THREADS * GROUP_COMMIT_EACH);
	g_assert_cmpuint(syncs, >=, 1);
	g_assert_cmpuint(syncs, <, commits);
	g_assert_cmpuint(syncs, ==, gate.entered);
	osc_store_set_sync_func(fx->store, NULL, NULL);
	sync_gate_clear(&gate);
}

static void
test_store_sync_failure(StoreFixture *fx, gconstpointer data)
{
	SyncGate gate;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(OscStore) again = NULL;
	g_autoptr(OscEntryRow) before = insert_ok(fx->store, "before", "e", "c");
	GLogLevelFlags fatal;

	sync_gate_init(&gate, TRUE, EIO, 0);
	osc_store_set_sync_func(fx->store, sync_gate_func, &gate);

	/* the write's caller hears that it may not be durable (and the log says so once: a
	 * warning, which g_test_expect_message() cannot catch under G_LOG_USE_STRUCTURED on
	 * GLib 2.74, so it is made non-fatal here) */
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	row = osc_store_insert(fx->store, "k", "e", "c", "tok", "fp1", &error);
	g_log_set_always_fatal(fatal);
	g_assert_null(row);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "cannot sync the database to disk"));
	g_clear_error(&error);

	/* from then on writes are refused, without another try at the disk */
	row = osc_store_insert(fx->store, "k2", "e", "c", "tok", "fp1", &error);
	g_assert_null(row);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_assert_nonnull(strstr(error->message, "writes are refused"));
	g_clear_error(&error);
	row = osc_store_update(fx->store, "before", "e", FALSE, NULL, "tok2", "fp1", -1, &error);
	g_assert_null(row);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_false(osc_store_delete(fx->store, "before", "e", -1, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_false(osc_store_set_meta(fx->store, "x", "y", &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_cmpuint(gate.entered, ==, 1);

	/* reads go on */
	row = osc_store_get(fx->store, "before", "e", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(row->token, ==, "token-before-e");
	g_clear_pointer(&row, osc_entry_row_free);
	rows = osc_store_list(fx->store, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 2);

	/* opened again (a restart), the store writes */
	osc_store_close(fx->store);
	again = store_new_group(fx->path, &error);
	g_assert_no_error(error);
	row = osc_store_insert(again, "k2", "e", "c", "tok", "fp1", &error);
	g_assert_no_error(error);
	g_assert_nonnull(row);
	sync_gate_clear(&gate);
}

static void
test_store_sync_counts(StoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	g_autoptr(OscStore) normal = NULL;
	g_autofree gchar *normal_path = g_build_filename(fx->tmpdir, "normal.db", NULL);
	guint64 commits = 0, syncs = 0;

	/* FULL (the default): SQLite syncs once per commit; nothing for what commits nothing */
	for (guint i = 0; i < 3; i++) {
		g_autofree gchar *key = g_strdup_printf("k%u", i);
		g_autoptr(OscEntryRow) r = insert_ok(fx->store, key, "e", "c");
	}
	g_assert_true(osc_store_set_meta(fx->store, "name", "value", &error));
	g_assert_no_error(error);
	row = osc_store_insert(fx->store, "k0", "e", "c", "tok", "fp1", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_EXISTS);
	g_clear_error(&error);
	g_assert_false(osc_store_delete(fx->store, "missing", "e", -1, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_true(osc_store_checkpoint(fx->store, &error));
	g_assert_no_error(error);
	osc_store_get_sync_counts(fx->store, &commits, &syncs);
	g_assert_cmpuint(commits, ==, 4);
	g_assert_cmpuint(syncs, ==, 4);

	/* GROUP, with the real fdatasync(): one for a write made alone */
	{
		g_autofree gchar *group_path = g_build_filename(fx->tmpdir, "group.db", NULL);
		g_autoptr(OscStore) group = store_new_group(group_path, &error);
		g_autoptr(OscEntryRow) r = NULL;

		g_assert_no_error(error);
		r = insert_ok(group, "k", "e", "c");
		osc_store_get_sync_counts(group, &commits, &syncs);
		g_assert_cmpuint(commits, ==, 1);
		g_assert_cmpuint(syncs, ==, 1);
	}

	/* OSC_DB_SYNCHRONOUS=NORMAL: commits, no syncs */
	g_setenv("OSC_DB_SYNCHRONOUS", "NORMAL", TRUE);
	normal = osc_store_new(normal_path, &error);
	g_unsetenv("OSC_DB_SYNCHRONOUS");
	g_assert_no_error(error);
	g_clear_pointer(&row, osc_entry_row_free);
	row = insert_ok(normal, "k", "e", "c");
	osc_store_get_sync_counts(normal, &commits, &syncs);
	g_assert_cmpuint(commits, ==, 1);
	g_assert_cmpuint(syncs, ==, 0);
}

/* ---- every write reports a failed sync ---- */

typedef struct {
	OscStore *store;
	const gchar *path;
	gint64 old_id; /* a row without a fingerprint, as the original writes them */
} SyncFailCase;

static gboolean
allow_cb(OscEntryRow *existing, gpointer user_data, gchar **reason)
{
	return TRUE;
}

static gchar *
rekey_copy_cb(const gchar *token, gpointer user_data, GError **error)
{
	return g_strconcat(token, "-rekeyed", NULL);
}

static gboolean
sync_fail_insert(SyncFailCase *c, GError **error)
{
	g_autoptr(OscEntryRow) row = osc_store_insert(c->store, "new", "e", NULL, "t", "fp1", error);
	return row != NULL;
}

static gboolean
sync_fail_update(SyncFailCase *c, GError **error)
{
	g_autoptr(OscEntryRow) row =
		osc_store_update(c->store, "k", "e", FALSE, NULL, "t3", "fp1", -1, error);
	return row != NULL;
}

static gboolean
sync_fail_delete(SyncFailCase *c, GError **error)
{
	return osc_store_delete(c->store, "k", "e", -1, error);
}

static gboolean
sync_fail_delete_checked(SyncFailCase *c, GError **error)
{
	OscEntryRow *deleted = NULL;
	gboolean ret = osc_store_delete_checked(c->store, "k", "e", allow_cb, NULL, &deleted, error);

	/* nothing handed out with the error */
	g_assert_true(ret || deleted == NULL);
	osc_entry_row_free(deleted);
	return ret;
}

static gboolean
sync_fail_restore(SyncFailCase *c, GError **error)
{
	g_autoptr(OscEntryRow) row =
		osc_store_restore_version(c->store, "k", "e", 1, "t-restored", "fp1", -1, error);
	return row != NULL;
}

static gboolean
sync_fail_fingerprint(SyncFailCase *c, GError **error)
{
	return osc_store_set_fingerprint(c->store, c->old_id, "fp1", error);
}

static gboolean
sync_fail_meta(SyncFailCase *c, GError **error)
{
	return osc_store_set_meta(c->store, "name", "value", error);
}

static gboolean
sync_fail_import(SyncFailCase *c, GError **error)
{
	OneRowImport imp = {0, FALSE};

	return osc_store_import_stream(c->store, one_row_next, one_row_done, &imp, NULL, NULL,
				       error);
}

static gboolean
sync_fail_rekey(SyncFailCase *c, GError **error)
{
	return osc_store_rekey_versions(c->store, "fp1", "fp2", rekey_copy_cb, NULL, NULL, error);
}

static gboolean
sync_fail_apply_remote(SyncFailCase *c, GError **error)
{
	g_autoptr(GError) error_list = NULL;
	g_autoptr(GPtrArray) rows = osc_store_repl_list(c->store, NULL, TRUE, &error_list);
	OscStoreApplyOp op = {0};
	OscReplRow *in = NULL;
	gboolean ret;

	g_assert_no_error(error_list);
	for (guint i = 0; i < rows->len; i++) {
		OscReplRow *r = g_ptr_array_index(rows, i);
		if (g_str_equal(r->key, "k"))
			in = r;
	}
	g_assert_nonnull(in);
	/* a newer write of "k" from a peer */
	g_free(in->hlc);
	in->hlc = osc_store_hlc_encode(g_get_real_time() / 1000 + 3600000, 0);
	g_free(in->origin);
	in->origin = g_strdup("peer");
	g_free(in->token);
	in->token = g_strdup("t-remote");
	op.in = in;
	ret = osc_store_apply_remote(c->store, &op, 1, error);
	g_assert_true(ret || op.row == NULL);
	osc_entry_row_free(op.row);
	return ret;
}

static gboolean
sync_fail_prune(SyncFailCase *c, GError **error)
{
	return osc_store_prune_tombstones(c->store, G_MAXINT64 / 2, error) >= 0;
}

static gboolean
sync_fail_stamp(SyncFailCase *c, GError **error)
{
	sqlite3 *db = raw_open(c->path);

	raw_exec(db, "UPDATE configurations SET hlc = NULL, origin_node = NULL WHERE \"key\" = 'k'");
	sqlite3_close(db);
	return osc_store_stamp_unstamped(c->store, error) >= 0;
}

static void
test_store_sync_failure_everywhere(StoreFixture *fx, gconstpointer data)
{
	const struct {
		const gchar *name;
		gboolean (*op)(SyncFailCase *c, GError **error);
	} cases[] = {
	    {"insert", sync_fail_insert},
	    {"update", sync_fail_update},
	    {"delete", sync_fail_delete},
	    {"delete-checked", sync_fail_delete_checked},
	    {"restore-version", sync_fail_restore},
	    {"set-fingerprint", sync_fail_fingerprint},
	    {"set-meta", sync_fail_meta},
	    {"import-stream", sync_fail_import},
	    {"rekey-versions", sync_fail_rekey},
	    {"apply-remote", sync_fail_apply_remote},
	    {"prune-tombstones", sync_fail_prune},
	    {"stamp-unstamped", sync_fail_stamp},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *path = g_strdup_printf("%s/fail-%s.db", fx->tmpdir, cases[i].name);
		g_autoptr(GError) error = NULL;
		g_autoptr(OscStore) store = store_new_group(path, &error);
		g_autoptr(OscEntryRow) k = NULL;
		g_autoptr(OscEntryRow) k2 = NULL;
		g_autoptr(OscEntryRow) gone = NULL;
		g_autoptr(OscEntryRow) old = NULL;
		g_autoptr(OscEntryRow) refused = NULL;
		SyncFailCase c = {store, path, 0};
		SyncGate gate;
		GLogLevelFlags fatal;

		g_test_message("%s", cases[i].name);
		g_assert_no_error(error);
		/* an entry with a version kept, a tombstone, a row of the original's */
		k = insert_ok(store, "k", "e", "c");
		k2 = osc_store_update(store, "k", "e", FALSE, NULL, "t2", "fp1", -1, &error);
		g_assert_no_error(error);
		gone = insert_ok(store, "gone", "e", NULL);
		g_assert_true(osc_store_delete(store, "gone", "e", -1, &error));
		g_assert_no_error(error);
		old = osc_store_insert(store, "old", "e", NULL, "t-old", NULL, &error);
		g_assert_no_error(error);
		c.old_id = old->id;

		sync_gate_init(&gate, TRUE, EIO, 0);
		osc_store_set_sync_func(store, sync_gate_func, &gate);
		fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
		g_assert_false(cases[i].op(&c, &error));
		g_log_set_always_fatal(fatal);
		g_assert_error(error, OSC_ERROR, OSC_ERROR_FAILED);
		g_assert_nonnull(strstr(error->message, "cannot sync the database to disk"));
		g_assert_cmpuint(gate.entered, ==, 1);
		g_clear_error(&error);

		/* and from then on writes are refused */
		refused = osc_store_insert(store, "after", "e", NULL, "t", "fp1", &error);
		g_assert_null(refused);
		g_assert_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE);
		osc_store_close(store);
		sync_gate_clear(&gate);
	}
}

/* osc_store_close() waits for a write that is waiting for its sync */
typedef struct {
	OscStore *store;
	gint returned;
} CloseData;

static gpointer
close_thread(gpointer data)
{
	CloseData *cd = data;

	osc_store_close(cd->store);
	g_atomic_int_set(&cd->returned, 1);
	return NULL;
}

static void
test_store_sync_close(StoreFixture *fx, gconstpointer data)
{
	SyncGate gate;
	SyncInsert ins = {fx->store, "k", 0};
	CloseData cd = {fx->store, 0};
	GThread *writer, *closer;
	OscEntryRow *row;
	guint64 commits = 0, syncs = 0;

	sync_gate_init(&gate, FALSE, 0, 0);
	osc_store_set_sync_func(fx->store, sync_gate_func, &gate);
	writer = g_thread_new("writer", sync_insert_thread, &ins);
	sync_gate_wait_entered(&gate, 1);
	closer = g_thread_new("closer", close_thread, &cd);
	g_usleep(50000);
	g_assert_cmpint(g_atomic_int_get(&cd.returned), ==, 0);
	sync_gate_set_open(&gate);
	row = g_thread_join(writer);
	g_thread_join(closer);
	g_assert_nonnull(row);
	g_assert_cmpint(g_atomic_int_get(&cd.returned), ==, 1);
	osc_store_get_sync_counts(fx->store, &commits, &syncs);
	g_assert_cmpuint(commits, ==, 1);
	g_assert_cmpuint(syncs, ==, 1);
	osc_entry_row_free(row);
	sync_gate_clear(&gate);
}

/* through a symbolic link, the WAL SQLite uses (next to the real file) is the one synced */
static void
test_store_sync_symlink(StoreFixture *fx, gconstpointer data)
{
	g_autofree gchar *real_dir = g_build_filename(fx->tmpdir, "real", NULL);
	g_autofree gchar *real = g_build_filename(real_dir, "configurations.db", NULL);
	g_autofree gchar *real_wal = g_strconcat(real, "-wal", NULL);
	g_autofree gchar *link_dir = g_build_filename(fx->tmpdir, "link", NULL);
	g_autofree gchar *link = g_build_filename(link_dir, "configurations.db", NULL);
	g_autofree gchar *link_wal = g_strconcat(link, "-wal", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(OscStore) store = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	g_autoptr(OscEntryRow) got = NULL;
	guint64 commits = 0, syncs = 0;

	g_assert_cmpint(g_mkdir_with_parents(real_dir, 0700), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(link_dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(real, "", 0, &error));
	g_assert_no_error(error);
	g_assert_cmpint(symlink(real, link), ==, 0);

	store = store_new_group(link, &error);
	g_assert_no_error(error);
	row = insert_ok(store, "k", "e", NULL);
	osc_store_get_sync_counts(store, &commits, &syncs);
	g_assert_cmpuint(commits, ==, 1);
	g_assert_cmpuint(syncs, ==, 1);
	g_assert_true(g_file_test(real_wal, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(link_wal, G_FILE_TEST_EXISTS));
	got = osc_store_get(store, "k", "e", &error);
	g_assert_no_error(error);
	g_assert_cmpint(got->id, ==, row->id);
}

static void
store_add(const gchar *path, void (*func)(StoreFixture *, gconstpointer), gboolean open)
{
	g_test_add(path, StoreFixture, NULL, open ? store_fixture_setup : store_fixture_setup_empty,
		   func, store_fixture_teardown);
}

static void
store_add_group(const gchar *path, void (*func)(StoreFixture *, gconstpointer))
{
	g_test_add(path, StoreFixture, NULL, store_fixture_setup_group, func,
		   store_fixture_teardown);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	store_add("/osc/store/schema-fresh", test_store_schema_fresh, TRUE);
	store_add("/osc/store/file-mode", test_store_file_mode, TRUE);
	store_add("/osc/store/crud", test_store_crud, TRUE);
	store_add("/osc/store/duplicate", test_store_duplicate, TRUE);
	store_add("/osc/store/duplicate-threads", test_store_duplicate_threads, TRUE);
	store_add("/osc/store/insert-threads", test_store_insert_threads, TRUE);
	store_add("/osc/store/not-found", test_store_not_found, TRUE);
	store_add("/osc/store/expected-revision", test_store_expected_revision, TRUE);
	store_add("/osc/store/revisions", test_store_revisions, TRUE);
	store_add("/osc/store/ids-not-reused", test_store_ids_not_reused, TRUE);
	store_add("/osc/store/list", test_store_list, TRUE);
	store_add("/osc/store/count-by", test_store_count_by, TRUE);
	store_add("/osc/store/distinct", test_store_distinct, TRUE);
	store_add("/osc/store/meta", test_store_meta, TRUE);
	store_add("/osc/store/set-fingerprint", test_store_set_fingerprint, TRUE);
	store_add("/osc/store/unicode", test_store_unicode, TRUE);
	store_add("/osc/store/timestamps", test_store_timestamps, TRUE);
	store_add("/osc/store/migrate-v1", test_store_migrate_v1, FALSE);
	store_add("/osc/store/original-writes", test_store_original_writes_after_migration, TRUE);
	store_add("/osc/store/schema-too-new", test_store_schema_too_new, FALSE);
	store_add("/osc/store/garbage", test_store_garbage, FALSE);
	store_add("/osc/store/unwritable", test_store_unwritable, FALSE);
	store_add("/osc/store/import", test_store_import, TRUE);
	store_add("/osc/store/import-stream", test_store_import_stream, TRUE);
	store_add("/osc/store/foreach", test_store_foreach, TRUE);
	store_add("/osc/store/rekey-versions", test_store_rekey_versions, TRUE);
	store_add("/osc/store/close", test_store_close, TRUE);
	store_add("/osc/store/cached", test_store_cached, TRUE);
	store_add("/osc/store/readers-and-writers", test_store_readers_and_writers, TRUE);
	store_add_group("/osc/store/sync-wait", test_store_sync_wait);
	store_add_group("/osc/store/group-commit", test_store_group_commit);
	store_add_group("/osc/store/sync-failure", test_store_sync_failure);
	store_add("/osc/store/sync-counts", test_store_sync_counts, TRUE);
	store_add("/osc/store/sync-failure-everywhere", test_store_sync_failure_everywhere, TRUE);
	store_add_group("/osc/store/sync-close", test_store_sync_close);
	store_add("/osc/store/sync-symlink", test_store_sync_symlink, TRUE);
	store_add("/osc/store/versions-update", test_store_versions_update, TRUE);
	store_add("/osc/store/versions-delete", test_store_versions_delete, TRUE);
	store_add("/osc/store/versions-import", test_store_versions_import, TRUE);
	store_add("/osc/store/versions-retention", test_store_versions_retention, TRUE);
	store_add("/osc/store/versions-disabled", test_store_versions_disabled, TRUE);
	store_add("/osc/store/versions-get", test_store_versions_get, TRUE);
	store_add("/osc/store/versions-restore", test_store_versions_restore, TRUE);
	store_add("/osc/store/versions-restore-deleted", test_store_versions_restore_deleted, TRUE);
	store_add("/osc/store/versions-migrate-v0", test_store_versions_migrate_v0, FALSE);
	store_add("/osc/store/versions-migrate-v1", test_store_versions_migrate_v1, FALSE);
	store_add("/osc/store/versions-original-recreates", test_store_versions_original_recreates,
		  TRUE);
	store_add("/osc/store/versions-threads", test_store_versions_threads, TRUE);
	return g_test_run();
}
