/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscStore"

#include "config.h"

#include "osc-store.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osc-autocleanups.h"
#include "osc-error.h"
#include "osc-value.h"

/*
 * Schema changelog; osc_schema_version holds the number of the last migration applied.
 *
 * 0	The original's `configurations` table and its three indexes, created with exactly
 *	the DDL of API.md §8.1. A database written by the original Python server is at 0
 *	(it has no osc_schema_version table).
 * 1	configurations gains key_fingerprint TEXT, version INTEGER NOT NULL DEFAULT 1 and
 *	revision INTEGER NOT NULL DEFAULT 0; new tables osc_meta (name, value), seeded with
 *	revision = max(rowid), last_id = max(id) and pbkdf2_iterations = 480000, and
 *	osc_schema_version; existing rows get revision = id.
 * 2	new table osc_versions: the state a row had before each update, import overwrite,
 *	restore or delete (deleted = 1 for the last state before a delete), keyed by
 *	("key", environment, version) so that a deleted entry's history survives and a
 *	re-created entry continues its numbering; index ix_osc_versions_entry_id. Existing
 *	rows start without history. At most osc_store_set_versions_kept() old versions are
 *	kept per pair.
 * 3	REPLICA clustering: configurations gains hlc TEXT (a hybrid logical clock stamp,
 *	see osc_store_hlc_encode()) and origin_node TEXT (the node whose write it is); new
 *	table osc_tombstones keeps the (key, environment, stamp) of deleted entries so that
 *	a delete wins over older writes arriving later. Rows without a stamp (older
 *	schemas, or written by the original) are stamped by osc_store_stamp_unstamped().
 *
 * Only columns are ever added: the original names its columns explicitly, so it keeps
 * reading and writing a migrated file.
 */

/* connections kept open while idle; busier moments open more and close the excess */
#define OSC_STORE_MAX_IDLE	  16
#define OSC_STORE_BUSY_TIMEOUT_MS 5000
#define OSC_STORE_CACHE_KIB	  8192

static const gchar *osc_store_ddl_v0[] = {
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
	")",
	"CREATE INDEX ix_configurations_category ON configurations (category)",
	"CREATE INDEX ix_configurations_key ON configurations (\"key\")",
	"CREATE INDEX ix_configurations_environment ON configurations (environment)",
};

static const gchar *osc_store_migration_1[] = {
	"ALTER TABLE configurations ADD COLUMN key_fingerprint TEXT",
	"ALTER TABLE configurations ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
	"ALTER TABLE configurations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",
	"CREATE TABLE osc_meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS osc_schema_version (version INTEGER NOT NULL)",
	"INSERT INTO osc_meta (name, value) SELECT 'revision', IFNULL(MAX(rowid), 0) "
	"FROM configurations",
	"INSERT INTO osc_meta (name, value) SELECT 'last_id', IFNULL(MAX(id), 0) "
	"FROM configurations",
	"INSERT OR IGNORE INTO osc_meta (name, value) VALUES ('pbkdf2_iterations', '480000')",
	/* distinct revisions for the existing rows, all <= the seeded counter */
	"UPDATE configurations SET revision = id",
};

static const gchar *osc_store_migration_2[] = {
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
	")",
	"CREATE INDEX ix_osc_versions_entry_id ON osc_versions (entry_id)",
};

static const gchar *osc_store_migration_3[] = {
	"ALTER TABLE configurations ADD COLUMN hlc TEXT",
	"ALTER TABLE configurations ADD COLUMN origin_node TEXT",
	"CREATE TABLE osc_tombstones (\n"
	"    \"key\" VARCHAR(255) NOT NULL,\n"
	"    environment VARCHAR(100) NOT NULL,\n"
	"    category VARCHAR(100),\n"
	"    hlc TEXT NOT NULL,\n"
	"    origin_node TEXT NOT NULL,\n"
	"    deleted_at DATETIME NOT NULL,\n"
	"    PRIMARY KEY (\"key\", environment)\n"
	")",
	"CREATE INDEX ix_osc_tombstones_environment ON osc_tombstones (environment)",
};

typedef enum {
	OSC_STORE_STMT_BEGIN_IMMEDIATE,
	OSC_STORE_STMT_COMMIT,
	OSC_STORE_STMT_ROLLBACK,
	OSC_STORE_STMT_GET,
	OSC_STORE_STMT_INSERT,
	OSC_STORE_STMT_UPDATE,
	OSC_STORE_STMT_DELETE,
	OSC_STORE_STMT_SET_FINGERPRINT,
	OSC_STORE_STMT_NEXT_ID,
	OSC_STORE_STMT_NEXT_REVISION,
	OSC_STORE_STMT_META_GET,
	OSC_STORE_STMT_META_SET,
	OSC_STORE_STMT_LIST,
	OSC_STORE_STMT_COUNT,
	OSC_STORE_STMT_ENVIRONMENTS,
	OSC_STORE_STMT_CATEGORIES,
	OSC_STORE_STMT_COUNT_BY_CATEGORY,
	OSC_STORE_STMT_COUNT_BY_ENVIRONMENT,
	OSC_STORE_STMT_SCHEMA_VERSION,
	OSC_STORE_STMT_VERSIONS_MAX,
	OSC_STORE_STMT_VERSIONS_ADD,
	OSC_STORE_STMT_VERSIONS_PRUNE,
	OSC_STORE_STMT_VERSIONS_LIST,
	OSC_STORE_STMT_STAMP,
	OSC_STORE_STMT_TOMB_GET,
	OSC_STORE_STMT_TOMB_PUT,
	OSC_STORE_STMT_TOMB_DROP,
	OSC_STORE_STMT_REPL_LIST,
	OSC_STORE_STMT_LAST
} OscStoreStmtId;

#define OSC_STORE_ROW_COLUMNS                                                                      \
	"id, \"key\", environment, category, encrypted_value, key_fingerprint, created_at, "       \
	"updated_at, version, revision, hlc, origin_node"

static const gchar *osc_store_sql[OSC_STORE_STMT_LAST] = {
	[OSC_STORE_STMT_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[OSC_STORE_STMT_COMMIT] = "COMMIT",
	[OSC_STORE_STMT_ROLLBACK] = "ROLLBACK",
	[OSC_STORE_STMT_GET] = "SELECT " OSC_STORE_ROW_COLUMNS " FROM configurations "
			       "WHERE \"key\" = ?1 AND environment = ?2",
	[OSC_STORE_STMT_INSERT] =
		"INSERT INTO configurations (id, \"key\", encrypted_value, category, "
		"environment, created_at, updated_at, key_fingerprint, version, "
		"revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?9, ?8)",
	[OSC_STORE_STMT_UPDATE] = "UPDATE configurations SET encrypted_value = ?1, "
				  "key_fingerprint = ?2, "
				  "category = CASE WHEN ?3 THEN ?4 ELSE category END, "
				  "updated_at = ?5, version = ?8, revision = ?6 WHERE id = ?7",
	[OSC_STORE_STMT_DELETE] = "DELETE FROM configurations WHERE id = ?1",
	/* only fills in: a row rewritten meanwhile already has the right fingerprint */
	[OSC_STORE_STMT_SET_FINGERPRINT] = "UPDATE configurations SET key_fingerprint = ?2 "
					   "WHERE id = ?1 AND key_fingerprint IS NULL",
	/* above every id ever handed out, and above rows the original may have added since */
	[OSC_STORE_STMT_NEXT_ID] = "UPDATE osc_meta SET value = MAX(CAST(value AS INTEGER), "
				   "IFNULL((SELECT MAX(id) FROM configurations), 0)) + 1 "
				   "WHERE name = 'last_id' RETURNING CAST(value AS INTEGER)",
	[OSC_STORE_STMT_NEXT_REVISION] = "UPDATE osc_meta SET value = CAST(value AS INTEGER) + 1 "
					 "WHERE name = 'revision' RETURNING CAST(value AS INTEGER)",
	[OSC_STORE_STMT_META_GET] = "SELECT value FROM osc_meta WHERE name = ?1",
	[OSC_STORE_STMT_META_SET] = "INSERT INTO osc_meta (name, value) VALUES (?1, ?2) "
				    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
	[OSC_STORE_STMT_LIST] = "SELECT " OSC_STORE_ROW_COLUMNS " FROM configurations "
				"WHERE (?1 IS NULL OR category = ?1) AND "
				"(?2 IS NULL OR environment = ?2) ORDER BY id",
	[OSC_STORE_STMT_COUNT] = "SELECT COUNT(*) FROM configurations "
				 "WHERE (?1 IS NULL OR category = ?1) AND "
				 "(?2 IS NULL OR environment = ?2)",
	[OSC_STORE_STMT_ENVIRONMENTS] = "SELECT DISTINCT environment FROM configurations "
					"WHERE environment IS NOT NULL AND environment <> '' "
					"ORDER BY environment",
	[OSC_STORE_STMT_CATEGORIES] = "SELECT DISTINCT category FROM configurations "
				      "WHERE category IS NOT NULL AND category <> '' "
				      "ORDER BY category",
	[OSC_STORE_STMT_COUNT_BY_CATEGORY] = "SELECT category, COUNT(*) FROM configurations "
					     "GROUP BY category ORDER BY MIN(id)",
	[OSC_STORE_STMT_COUNT_BY_ENVIRONMENT] = "SELECT environment, COUNT(*) FROM configurations "
						"GROUP BY environment ORDER BY MIN(id)",
	[OSC_STORE_STMT_SCHEMA_VERSION] = "SELECT MAX(version) FROM osc_schema_version",
	[OSC_STORE_STMT_VERSIONS_MAX] = "SELECT IFNULL(MAX(version), 0) FROM osc_versions "
					"WHERE \"key\" = ?1 AND environment = ?2",
	[OSC_STORE_STMT_VERSIONS_ADD] =
		"INSERT INTO osc_versions (entry_id, \"key\", environment, version, "
		"encrypted_value, key_fingerprint, category, created_at, superseded_at, node_id, "
		"deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	/* everything older than the ?3 newest; no row at that offset deletes nothing */
	[OSC_STORE_STMT_VERSIONS_PRUNE] = "DELETE FROM osc_versions "
					  "WHERE \"key\" = ?1 AND environment = ?2 AND version <= "
					  "(SELECT version FROM osc_versions "
					  "WHERE \"key\" = ?1 AND environment = ?2 "
					  "ORDER BY version DESC LIMIT 1 OFFSET ?3)",
	/* one statement, so one snapshot: the live row first, then the kept history, newest
	 * first; ?3 NULL for every version */
	[OSC_STORE_STMT_VERSIONS_LIST] =
		"SELECT 1, \"key\", environment, version, encrypted_value, key_fingerprint, "
		"category, updated_at, NULL, NULL, 0 FROM configurations "
		"WHERE \"key\" = ?1 AND environment = ?2 AND (?3 IS NULL OR version = ?3) "
		"UNION ALL "
		"SELECT 0, \"key\", environment, version, encrypted_value, key_fingerprint, "
		"category, created_at, superseded_at, node_id, deleted FROM osc_versions "
		"WHERE \"key\" = ?1 AND environment = ?2 AND (?3 IS NULL OR version = ?3) "
		"ORDER BY 1 DESC, 4 DESC",
	/* ?5/?6 NULL keep the timestamps (local writes) */
	[OSC_STORE_STMT_STAMP] = "UPDATE configurations SET hlc = ?2, origin_node = ?3, "
				 "created_at = IFNULL(?5, created_at), "
				 "updated_at = IFNULL(?6, updated_at) WHERE id = ?1",
	[OSC_STORE_STMT_TOMB_GET] = "SELECT \"key\", environment, category, hlc, origin_node, "
				    "deleted_at FROM osc_tombstones "
				    "WHERE \"key\" = ?1 AND environment = ?2",
	[OSC_STORE_STMT_TOMB_PUT] =
		"INSERT INTO osc_tombstones (\"key\", environment, category, hlc, origin_node, "
		"deleted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (\"key\", environment) "
		"DO UPDATE SET category = excluded.category, hlc = excluded.hlc, "
		"origin_node = excluded.origin_node, deleted_at = excluded.deleted_at",
	[OSC_STORE_STMT_TOMB_DROP] = "DELETE FROM osc_tombstones "
				     "WHERE \"key\" = ?1 AND environment = ?2",
	/* live rows and tombstones of one environment (?1 NULL: all), by environment and key;
	 * ?2 = 0 leaves the tokens out */
	[OSC_STORE_STMT_REPL_LIST] =
		"SELECT \"key\", environment, category, CASE WHEN ?2 THEN encrypted_value END, "
		"key_fingerprint, created_at, updated_at, IFNULL(hlc, ''), "
		"IFNULL(origin_node, ''), 0 FROM configurations "
		"WHERE ?1 IS NULL OR environment = ?1 "
		"UNION ALL "
		"SELECT \"key\", environment, category, NULL, NULL, NULL, deleted_at, hlc, "
		"origin_node, 1 FROM osc_tombstones WHERE ?1 IS NULL OR environment = ?1 "
		"ORDER BY 2, 1",
};

/* one SQLite connection with its prepared statements; one thread uses it at a time */
typedef struct {
	sqlite3 *db;
	sqlite3_stmt *stmts[OSC_STORE_STMT_LAST];
} OscStoreConn;

struct _OscStore {
	GObject parent_instance;
	gchar *path;
	const gchar *synchronous; /* "FULL" or "NORMAL", a constant */
	GMutex pool_mutex;	  /* protects idle, n_busy and closed */
	GCond pool_cond;
	GPtrArray *idle; /* (element-type OscStoreConn) */
	guint n_busy;
	gboolean closed;
	/* serialises our own writers so they queue here instead of sleeping in SQLite's busy
	 * handler; other processes on the same file are still covered by busy_timeout */
	GMutex write_mutex;
	GThread *writer; /* (atomic) the thread holding write_mutex, or NULL */
	/* the one connection every write uses, under write_mutex (osc_store_acquire_writer()):
	 * its page cache stays valid from one write to the next, where a pooled connection
	 * must reread every page another connection wrote since it last looked */
	OscStoreConn *write_conn;
	gboolean write_dirty; /* under write_mutex: the writer committed since it was taken */
	gint64 write_changes; /* under write_mutex: its row changes when it was taken */
	/* durability. With OSC_DB_SYNCHRONOUS=FULL SQLite syncs the WAL in every commit,
	 * under write_mutex. With GROUP (and a WAL) SQLite commits without syncing and the
	 * committing thread then waits, after letting go of write_mutex, until the WAL is on
	 * disk: the next write's commit runs meanwhile, and one fdatasync() covers every
	 * commit made before it started (group commit). See osc_store_wait_durable(). */
	gboolean group_commit; /* GROUP was asked for */
	gboolean sync_wal;     /* ... and the database is in WAL mode */
	GMutex sync_mutex; /* protects what follows */
	GCond sync_cond;
	guint64 commits; /* write transactions committed, numbered in commit order */
	guint64 synced;	 /* commits known to be on disk */
	guint64 syncs;	 /* syncs run */
	gboolean syncing;
	gint sync_errno; /* sticky: after a failed sync the store refuses writes */
	OscStoreSyncFunc sync_func;
	gpointer sync_data;
	gint wal_fd;	 /* used only by the thread that is syncing; -1 until the first sync */
	gchar *wal_path; /* the WAL as SQLite names it (symbolic links resolved) */
	/* protects versions_kept and node_id; never held while waiting for anything else */
	GMutex settings_mutex;
	guint versions_kept; /* 0: no history */
	gchar *node_id;	     /* (nullable) */
	/* the hybrid logical clock: physical milliseconds and a logical counter */
	GMutex hlc_mutex;
	gint64 hlc_ms;
	guint32 hlc_count;
	gint64 (*hlc_clock)(void);
	/* recently read rows, for reads that must not wait for a connection (the main loop);
	 * see osc_store_get_cached() */
	GMutex cache_mutex;
	GHashTable *cache;	   /* OscRowCacheItem → itself, owned */
	guint64 cache_generation; /* bumped by every write; older items are stale */
};

G_DEFINE_FINAL_TYPE(OscStore, osc_store, G_TYPE_OBJECT)

/* ---- the row cache ---- */

/* rows kept at most, and the largest token kept: at most 2048 × 8 KiB of tokens */
#define OSC_STORE_CACHE_MAX_ITEMS 2048
#define OSC_STORE_CACHE_MAX_TOKEN 8192

typedef struct {
	const gchar *key;	  /* the row's */
	const gchar *environment; /* the row's */
	OscEntryRow *row;
	guint64 generation;
	gint64 filled_us;
} OscRowCacheItem;

static void
osc_row_cache_item_free(OscRowCacheItem *item)
{
	osc_entry_row_free(item->row);
	g_free(item);
}

static guint
osc_row_cache_item_hash(gconstpointer p)
{
	const OscRowCacheItem *item = p;

	return g_str_hash(item->key) * 31 + g_str_hash(item->environment);
}

static gboolean
osc_row_cache_item_equal(gconstpointer a, gconstpointer b)
{
	const OscRowCacheItem *x = a, *y = b;

	return strcmp(x->key, y->key) == 0 && strcmp(x->environment, y->environment) == 0;
}

/* every write ends here, committed or not: what was read before may be out of date */
static void
osc_store_cache_invalidate(OscStore *self)
{
	g_mutex_lock(&self->cache_mutex);
	self->cache_generation++;
	g_mutex_unlock(&self->cache_mutex);
}

/**
 * osc_store_get_generation:
 *
 * A number that every write of this store, committed or rolled back, changes (and closing
 * it): an answer computed from what was read at one generation is current while the
 * generation stays the same, for at most %OSC_STORE_CACHE_TTL_US (another process may
 * write the same file).
 *
 * Returns: the generation now; read it before reading the data an answer is made of
 */
guint64
osc_store_get_generation(OscStore *self)
{
	guint64 generation;

	g_return_val_if_fail(OSC_IS_STORE(self), 0);

	g_mutex_lock(&self->cache_mutex);
	generation = self->cache_generation;
	g_mutex_unlock(&self->cache_mutex);
	return generation;
}

/* keeps a copy of @row, read when the cache was at @generation, unless a write came since */
static void
osc_store_cache_fill(OscStore *self, const OscEntryRow *row, guint64 generation)
{
	OscRowCacheItem *item;

	if (strlen(row->token) > OSC_STORE_CACHE_MAX_TOKEN)
		return;
	item = g_new0(OscRowCacheItem, 1);
	item->row = osc_entry_row_copy(row);
	item->key = item->row->key;
	item->environment = item->row->environment;
	item->generation = generation;
	item->filled_us = g_get_monotonic_time();
	g_mutex_lock(&self->cache_mutex);
	if (generation != self->cache_generation) {
		g_mutex_unlock(&self->cache_mutex);
		osc_row_cache_item_free(item);
		return;
	}
	if (g_hash_table_size(self->cache) >= OSC_STORE_CACHE_MAX_ITEMS)
		g_hash_table_remove_all(self->cache);
	g_hash_table_add(self->cache, item);
	g_mutex_unlock(&self->cache_mutex);
}

/**
 * osc_store_get_cached:
 *
 * The row for (@key, @environment) if a recent read left it in memory and no write has
 * happened since, without touching the database: safe on a thread that must not block.
 * Every write of this store, committed or rolled back, makes what is cached stale; a write
 * by another process shows within a second.
 *
 * Returns: (transfer full) (nullable): a copy of the row, or %NULL (then use osc_store_get())
 */
OscEntryRow *
osc_store_get_cached(OscStore *self, const gchar *key, const gchar *environment)
{
	OscRowCacheItem probe = {key, environment, NULL, 0, 0};
	OscRowCacheItem *item;
	OscEntryRow *row = NULL;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	g_return_val_if_fail(key != NULL && environment != NULL, NULL);

	g_mutex_lock(&self->cache_mutex);
	item = g_hash_table_lookup(self->cache, &probe);
	if (item != NULL && item->generation == self->cache_generation &&
	    g_get_monotonic_time() - item->filled_us < OSC_STORE_CACHE_TTL_US)
		row = osc_entry_row_copy(item->row);
	g_mutex_unlock(&self->cache_mutex);
	return row;
}

/* a cached statement, reset and unbound (not finalized) when it goes out of scope */
typedef sqlite3_stmt OscStoreStmt;

static void
osc_store_stmt_reset(OscStoreStmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscStoreStmt, osc_store_stmt_reset)

G_DEFINE_BOXED_TYPE(OscEntryRow, osc_entry_row, osc_entry_row_copy, osc_entry_row_free)
G_DEFINE_BOXED_TYPE(OscEntryVersion, osc_entry_version, osc_entry_version_copy,
		    osc_entry_version_free)

OscEntryRow *
osc_entry_row_copy(const OscEntryRow *self)
{
	OscEntryRow *copy;

	g_return_val_if_fail(self != NULL, NULL);

	copy = g_new0(OscEntryRow, 1);
	copy->id = self->id;
	copy->key = g_strdup(self->key);
	copy->environment = g_strdup(self->environment);
	copy->category = g_strdup(self->category);
	copy->token = g_strdup(self->token);
	copy->fingerprint = g_strdup(self->fingerprint);
	copy->created_at = g_strdup(self->created_at);
	copy->updated_at = g_strdup(self->updated_at);
	copy->version = self->version;
	copy->revision = self->revision;
	copy->hlc = g_strdup(self->hlc);
	copy->origin = g_strdup(self->origin);
	return copy;
}

void
osc_entry_row_free(OscEntryRow *self)
{
	if (self == NULL)
		return;
	g_free(self->key);
	g_free(self->environment);
	g_free(self->category);
	g_free(self->token);
	g_free(self->fingerprint);
	g_free(self->created_at);
	g_free(self->updated_at);
	g_free(self->hlc);
	g_free(self->origin);
	g_free(self);
}

OscEntryVersion *
osc_entry_version_copy(const OscEntryVersion *self)
{
	OscEntryVersion *copy;

	g_return_val_if_fail(self != NULL, NULL);

	copy = g_new0(OscEntryVersion, 1);
	copy->key = g_strdup(self->key);
	copy->environment = g_strdup(self->environment);
	copy->version = self->version;
	copy->token = g_strdup(self->token);
	copy->fingerprint = g_strdup(self->fingerprint);
	copy->category = g_strdup(self->category);
	copy->created_at = g_strdup(self->created_at);
	copy->superseded_at = g_strdup(self->superseded_at);
	copy->node_id = g_strdup(self->node_id);
	copy->deleted = self->deleted;
	copy->current = self->current;
	return copy;
}

void
osc_entry_version_free(OscEntryVersion *self)
{
	if (self == NULL)
		return;
	g_free(self->key);
	g_free(self->environment);
	g_free(self->token);
	g_free(self->fingerprint);
	g_free(self->category);
	g_free(self->created_at);
	g_free(self->superseded_at);
	g_free(self->node_id);
	g_free(self);
}

void
osc_store_count_free(OscStoreCount *self)
{
	if (self == NULL)
		return;
	g_free(self->name);
	g_free(self->category);
	g_free(self);
}

/* converts the last SQLite error of @db (result @rc) into an OSC_ERROR */
static void
osc_store_set_sqlite_error(sqlite3 *db, gint rc, GError **error)
{
	gint code;

	if (db != NULL)
		rc = sqlite3_extended_errcode(db);
	switch (rc & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = OSC_ERROR_CORRUPT;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = OSC_ERROR_UNAVAILABLE;
		break;
	case SQLITE_CONSTRAINT:
		code = rc == SQLITE_CONSTRAINT_UNIQUE ? OSC_ERROR_EXISTS : OSC_ERROR_FAILED;
		break;
	default:
		code = OSC_ERROR_FAILED;
		break;
	}
	g_set_error(error, OSC_ERROR, code, "%s",
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static void
osc_store_conn_free(OscStoreConn *conn)
{
	for (guint i = 0; i < OSC_STORE_STMT_LAST; i++)
		g_clear_pointer(&conn->stmts[i], sqlite3_finalize);
	if (conn->db != NULL) {
		gint rc = sqlite3_close(conn->db);
		if (rc != SQLITE_OK)
			g_warning("failed to close database: %s", sqlite3_errstr(rc));
	}
	g_free(conn);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscStoreConn, osc_store_conn_free)

/* runs constant SQL (never data: that is bound with ?N), ignoring any result rows */
static gboolean
osc_store_conn_exec(OscStoreConn *conn, const gchar *sql, GError **error)
{
	gint rc = sqlite3_exec(conn->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	return TRUE;
}

static OscStoreStmt *
osc_store_conn_stmt(OscStoreConn *conn, OscStoreStmtId id, GError **error)
{
	g_assert(id < OSC_STORE_STMT_LAST);

	if (conn->stmts[id] == NULL) {
		gint rc = sqlite3_prepare_v3(conn->db, osc_store_sql[id], -1,
					     SQLITE_PREPARE_PERSISTENT, &conn->stmts[id], NULL);
		if (rc != SQLITE_OK) {
			osc_store_set_sqlite_error(conn->db, rc, error);
			g_prefix_error(error, "failed to prepare statement: ");
			return NULL;
		}
	}
	return conn->stmts[id];
}

/* steps a statement that returns no row */
static gboolean
osc_store_conn_step_done(OscStoreConn *conn, sqlite3_stmt *stmt, GError **error)
{
	gint rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	return TRUE;
}

static gboolean
osc_store_conn_run(OscStoreConn *conn, OscStoreStmtId id, GError **error)
{
	g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, id, error);

	if (stmt == NULL)
		return FALSE;
	return osc_store_conn_step_done(conn, stmt, error);
}

static OscStoreConn *
osc_store_conn_open(OscStore *self, GError **error)
{
	g_autoptr(OscStoreConn) conn = g_new0(OscStoreConn, 1);
	g_autofree gchar *pragmas = NULL;
	gint rc;

	/* NOMUTEX: a connection is only ever used by the thread that acquired it */
	rc = sqlite3_open_v2(self->path, &conn->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return NULL;
	}
	sqlite3_extended_result_codes(conn->db, 1);
	rc = sqlite3_busy_timeout(conn->db, OSC_STORE_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return NULL;
	}
	/* per connection: synchronous=FULL makes an acknowledged write survive a crash (with
	 * OSC_DB_SYNCHRONOUS=GROUP the store syncs it itself, see osc_store_wait_durable()); a
	 * page cache of up to 8 MiB (allocated as used) keeps point reads off pread() */
	pragmas = g_strdup_printf("PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; "
				  "PRAGMA cache_size=-%u;",
				  self->sync_wal ? "NORMAL" : self->synchronous, OSC_STORE_CACHE_KIB);
	if (!osc_store_conn_exec(conn, pragmas, error))
		return NULL;
	return g_steal_pointer(&conn);
}

/* one user of a connection fewer; osc_store_close() waits for none */
static void
osc_store_unbusy(OscStore *self)
{
	g_mutex_lock(&self->pool_mutex);
	self->n_busy--;
	/* only osc_store_close() waits; a broadcast is a syscall, so not on every release */
	if (self->closed)
		g_cond_broadcast(&self->pool_cond);
	g_mutex_unlock(&self->pool_mutex);
}

static OscStoreConn *
osc_store_acquire(OscStore *self, GError **error)
{
	OscStoreConn *conn = NULL;

	g_mutex_lock(&self->pool_mutex);
	if (self->closed) {
		g_mutex_unlock(&self->pool_mutex);
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE, "store is closed");
		return NULL;
	}
	if (self->idle->len > 0)
		conn = g_ptr_array_steal_index_fast(self->idle, self->idle->len - 1);
	self->n_busy++;
	g_mutex_unlock(&self->pool_mutex);

	if (conn == NULL) {
		conn = osc_store_conn_open(self, error);
		if (conn == NULL) {
			osc_store_unbusy(self);
			return NULL;
		}
	}
	return conn;
}

static void
osc_store_release(OscStore *self, OscStoreConn *conn)
{
	g_mutex_lock(&self->pool_mutex);
	if (!self->closed && self->idle->len < OSC_STORE_MAX_IDLE) {
		g_ptr_array_add(self->idle, conn);
		conn = NULL;
	}
	self->n_busy--;
	/* only osc_store_close() waits; a broadcast is a syscall, so not on every release */
	if (self->closed)
		g_cond_broadcast(&self->pool_cond);
	g_mutex_unlock(&self->pool_mutex);

	if (conn != NULL)
		osc_store_conn_free(conn);
}

/*
 * The write mutex is not recursive, and a second connection could not write while this
 * thread's transaction holds SQLite's write lock anyway: a write from inside a write (say a
 * callback of osc_store_import() that calls osc_store_set_fingerprint()) fails at once
 * instead of deadlocking.
 */
static gboolean
osc_store_write_lock(OscStore *self, GError **error)
{
	if (g_atomic_pointer_get(&self->writer) == (gpointer)g_thread_self()) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_CONFLICT,
				    "store write attempted inside a write on the same thread");
		return FALSE;
	}
	g_mutex_lock(&self->write_mutex);
	g_atomic_pointer_set(&self->writer, g_thread_self());
	return TRUE;
}

/* @changed: whether rows may have changed, making what was read before out of date */
static void
osc_store_write_unlock(OscStore *self, gboolean changed)
{
	if (changed)
		osc_store_cache_invalidate(self);
	g_atomic_pointer_set(&self->writer, NULL);
	g_mutex_unlock(&self->write_mutex);
}

/* on the writer connection, as a transaction commits (an autocommit statement's too) */
static int
osc_store_commit_hook(void *user_data)
{
	OscStore *self = user_data;

	self->write_dirty = TRUE;
	return 0;
}

static OscStoreConn *
osc_store_conn_open_writer(OscStore *self, GError **error)
{
	OscStoreConn *conn = osc_store_conn_open(self, error);

	if (conn != NULL)
		sqlite3_commit_hook(conn->db, osc_store_commit_hook, self);
	return conn;
}

/* the directory of the WAL, which is the database's as SQLite resolved it */
static gint
osc_store_fsync_dir(OscStore *self)
{
	g_autofree gchar *dir = g_path_get_dirname(self->wal_path);
	gint fd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	gint errsv = 0;

	if (fd < 0)
		return errno;
	if (fsync(fd) != 0)
		errsv = errno;
	g_close(fd, NULL);
	return errsv;
}

/* the default OscStoreSyncFunc: fdatasync() of the WAL file */
static gint
osc_store_sync_wal(OscStore *self, gpointer user_data)
{
	struct stat st;

	/* a WAL deleted and made again (every connection to the file closed meanwhile) is a
	 * new file, whose name must reach the disk too */
	if (self->wal_fd >= 0 && (fstat(self->wal_fd, &st) != 0 || st.st_nlink == 0)) {
		g_close(self->wal_fd, NULL);
		self->wal_fd = -1;
	}
	if (self->wal_fd < 0) {
		gint errsv;

		self->wal_fd = g_open(self->wal_path, O_RDONLY | O_CLOEXEC, 0);
		if (self->wal_fd < 0)
			return errno;
		errsv = osc_store_fsync_dir(self);
		if (errsv != 0)
			return errsv;
	}
	while (fdatasync(self->wal_fd) != 0) {
		if (errno != EINTR)
			return errno;
	}
	return 0;
}

/*
 * Returns once commit @seq is on disk. One thread at a time syncs, for every commit
 * numbered so far (their frames are all written by then); the others wait for a sync that
 * covers theirs. A failed sync is sticky: after one, dirty pages may have been dropped
 * without reaching the disk, so no later sync can vouch for them, and the store refuses
 * writes (osc_store_acquire_writer()) until it is opened again.
 */
static gboolean
osc_store_wait_durable(OscStore *self, guint64 seq, GError **error)
{
	gint errsv;

	g_mutex_lock(&self->sync_mutex);
	while (self->synced < seq && self->sync_errno == 0) {
		guint64 target;
		gint rc;

		if (self->syncing) {
			g_cond_wait(&self->sync_cond, &self->sync_mutex);
			continue;
		}
		target = self->commits;
		self->syncing = TRUE;
		g_mutex_unlock(&self->sync_mutex);
		rc = self->sync_func(self, self->sync_data);
		g_mutex_lock(&self->sync_mutex);
		self->syncing = FALSE;
		self->syncs++;
		if (rc == 0) {
			self->synced = MAX(self->synced, target);
		} else {
			g_warning("cannot sync %s to disk: %s; refusing writes from now on",
				  self->path, g_strerror(rc));
			g_atomic_int_set(&self->sync_errno, rc);
		}
		g_cond_broadcast(&self->sync_cond);
	}
	errsv = self->synced < seq ? self->sync_errno : 0;
	g_mutex_unlock(&self->sync_mutex);
	if (errsv != 0) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_FAILED,
			    "cannot sync the database to disk: %s; this write may not survive a "
			    "crash",
			    g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

/*
 * The writer connection, with the write mutex held until osc_store_release_writer(). A write
 * from inside a write on the same thread fails at once (see osc_store_write_lock()).
 */
static OscStoreConn *
osc_store_acquire_writer(OscStore *self, GError **error)
{
	gint sync_errno;

	if (!osc_store_write_lock(self, error))
		return NULL;
	/* under the lock: a writer that queued while a sync failed does not commit after it */
	sync_errno = g_atomic_int_get(&self->sync_errno);
	if (sync_errno != 0) {
		osc_store_write_unlock(self, FALSE);
		g_set_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE,
			    "writes are refused since a sync of the database to disk failed (%s); "
			    "check the disk, then restart the server",
			    g_strerror(sync_errno));
		return NULL;
	}
	g_mutex_lock(&self->pool_mutex);
	if (self->closed) {
		g_mutex_unlock(&self->pool_mutex);
		osc_store_write_unlock(self, FALSE);
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE, "store is closed");
		return NULL;
	}
	self->n_busy++;
	g_mutex_unlock(&self->pool_mutex);

	/* osc_store_open() leaves one; only a failed close of it could have dropped it */
	if (self->write_conn == NULL)
		self->write_conn = osc_store_conn_open_writer(self, error);
	if (self->write_conn == NULL) {
		osc_store_unbusy(self);
		osc_store_write_unlock(self, FALSE);
		return NULL;
	}
	self->write_dirty = FALSE;
	self->write_changes = sqlite3_total_changes64(self->write_conn->db);
	return self->write_conn;
}

/*
 * Lets go of the writer; when it committed, returns only once that commit is on disk.
 * Pass @error only when the write succeeded: it is set when the sync failed.
 */
static gboolean
osc_store_release_writer(OscStore *self, OscStoreConn *conn, GError **error)
{
	guint64 seq = 0;
	gboolean changed;
	gboolean ret = TRUE;

	g_return_val_if_fail(conn == self->write_conn, FALSE);

	/* a caller that returned early from inside a transaction leaves nothing half-done */
	if (!sqlite3_get_autocommit(conn->db)) {
		g_autoptr(GError) error_local = NULL;
		g_warning("write connection released inside a transaction; rolling back");
		if (!osc_store_conn_run(conn, OSC_STORE_STMT_ROLLBACK, &error_local))
			g_warning("failed to roll back: %s", error_local->message);
	}
	/* a transaction that changed no row (a delete of nothing, a prune with nothing to
	 * drop, a checkpoint) neither makes what was read stale nor needs a sync; rows changed
	 * and rolled back fire no commit hook */
	changed = sqlite3_total_changes64(conn->db) != self->write_changes;
	/* numbered before write_mutex goes: commit order */
	if (self->write_dirty && changed) {
		g_mutex_lock(&self->sync_mutex);
		seq = ++self->commits;
		g_mutex_unlock(&self->sync_mutex);
	}
	self->write_dirty = FALSE;
	osc_store_write_unlock(self, changed);

	if (seq != 0 && self->sync_wal)
		ret = osc_store_wait_durable(self, seq, error);

	/* busy until durable: osc_store_close() waits for the sync too */
	osc_store_unbusy(self);
	return ret;
}

/* BEGIN IMMEDIATE on the writer connection (osc_store_acquire_writer()) */
static gboolean
osc_store_begin(OscStore *self, OscStoreConn *conn, GError **error)
{
	g_return_val_if_fail(g_atomic_pointer_get(&self->writer) == (gpointer)g_thread_self(),
			     FALSE);

	if (!osc_store_conn_run(conn, OSC_STORE_STMT_BEGIN_IMMEDIATE, error)) {
		g_prefix_error(error, "failed to begin transaction: ");
		return FALSE;
	}
	return TRUE;
}

static void
osc_store_rollback(OscStoreConn *conn)
{
	/* SQLite may already have rolled back by itself (e.g. on SQLITE_FULL) */
	if (!sqlite3_get_autocommit(conn->db)) {
		g_autoptr(GError) error_local = NULL;
		if (!osc_store_conn_run(conn, OSC_STORE_STMT_ROLLBACK, &error_local))
			g_warning("failed to roll back: %s", error_local->message);
	}
}

static gboolean
osc_store_commit(OscStoreConn *conn, GError **error)
{
	if (!osc_store_conn_run(conn, OSC_STORE_STMT_COMMIT, error)) {
		g_prefix_error(error, "failed to commit: ");
		osc_store_rollback(conn);
		return FALSE;
	}
	return TRUE;
}

static gchar *
osc_store_column_text(sqlite3_stmt *stmt, gint col)
{
	return g_strdup((const gchar *)sqlite3_column_text(stmt, col));
}

/* a row of OSC_STORE_ROW_COLUMNS */
static OscEntryRow *
osc_store_row_from_stmt(sqlite3_stmt *stmt)
{
	OscEntryRow *row = g_new0(OscEntryRow, 1);

	row->id = sqlite3_column_int64(stmt, 0);
	row->key = osc_store_column_text(stmt, 1);
	row->environment = osc_store_column_text(stmt, 2);
	row->category = osc_store_column_text(stmt, 3);
	row->token = osc_store_column_text(stmt, 4);
	row->fingerprint = osc_store_column_text(stmt, 5);
	row->created_at = osc_store_column_text(stmt, 6);
	row->updated_at = osc_store_column_text(stmt, 7);
	row->version = sqlite3_column_int64(stmt, 8);
	row->revision = sqlite3_column_int64(stmt, 9);
	row->hlc = osc_store_column_text(stmt, 10);
	row->origin = osc_store_column_text(stmt, 11);
	return row;
}

static void
osc_store_bind_text(sqlite3_stmt *stmt, gint idx, const gchar *text)
{
	/* the caller's strings outlive the statement's use: the cleanup clears the bindings */
	sqlite3_bind_text(stmt, idx, text, -1, SQLITE_STATIC);
}

static void
osc_store_set_not_found(const gchar *key, const gchar *environment, GError **error)
{
	g_set_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND,
		    "Configuration with key '%s' not found in environment '%s'", key, environment);
}

/* the row for (key, environment); %NULL with OSC_ERROR_NOT_FOUND when there is none */
static OscEntryRow *
osc_store_conn_get(OscStoreConn *conn, const gchar *key, const gchar *environment, GError **error)
{
	g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_GET, error);
	gint rc;

	if (stmt == NULL)
		return NULL;
	osc_store_bind_text(stmt, 1, key);
	osc_store_bind_text(stmt, 2, environment);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return osc_store_row_from_stmt(stmt);
	if (rc == SQLITE_DONE) {
		osc_store_set_not_found(key, environment, error);
		return NULL;
	}
	osc_store_set_sqlite_error(conn->db, rc, error);
	return NULL;
}

/* bumps one of the osc_meta counters and returns its new value */
static gboolean
osc_store_conn_next(OscStoreConn *conn, OscStoreStmtId id, gint64 *value, GError **error)
{
	g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, id, error);
	gint rc;

	if (stmt == NULL)
		return FALSE;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_CORRUPT,
				    "store metadata counter is missing");
		return FALSE;
	}
	if (rc != SQLITE_ROW) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	*value = sqlite3_column_int64(stmt, 0);
	/* finish the statement so the change is complete before the caller goes on */
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	return TRUE;
}

static gboolean
osc_store_conn_table_exists(OscStoreConn *conn, const gchar *name, gboolean *exists, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint rc;

	rc = sqlite3_prepare_v2(conn->db,
				"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
				-1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	osc_store_bind_text(stmt, 1, name);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	*exists = rc == SQLITE_ROW;
	return TRUE;
}

static gboolean
osc_store_conn_schema_version(OscStoreConn *conn, gint *version, GError **error)
{
	g_autoptr(OscStoreStmt) stmt = NULL;
	gboolean exists = FALSE;
	gint rc;

	if (!osc_store_conn_table_exists(conn, "osc_schema_version", &exists, error))
		return FALSE;
	if (!exists) {
		*version = 0;
		return TRUE;
	}
	stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_SCHEMA_VERSION, error);
	if (stmt == NULL)
		return FALSE;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	*version = sqlite3_column_int(stmt, 0);
	return TRUE;
}

static gboolean
osc_store_conn_set_schema_version(OscStoreConn *conn, gint version, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint rc;

	if (!osc_store_conn_exec(conn, "DELETE FROM osc_schema_version", error))
		return FALSE;
	rc = sqlite3_prepare_v2(conn->db, "INSERT INTO osc_schema_version (version) VALUES (?1)",
				-1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	sqlite3_bind_int(stmt, 1, version);
	return osc_store_conn_step_done(conn, stmt, error);
}

static gboolean
osc_store_conn_exec_all(OscStoreConn *conn, const gchar **sql, gsize n_sql, GError **error)
{
	for (gsize i = 0; i < n_sql; i++) {
		if (!osc_store_conn_exec(conn, sql[i], error))
			return FALSE;
	}
	return TRUE;
}

/* creates the original schema if the file has none: version 0 */
static gboolean
osc_store_create_v0(OscStore *self, OscStoreConn *conn, GError **error)
{
	gboolean exists = FALSE;
	gint version = 0;

	if (!osc_store_begin(self, conn, error))
		return FALSE;
	if (!osc_store_conn_table_exists(conn, "configurations", &exists, error) ||
	    !osc_store_conn_schema_version(conn, &version, error)) {
		osc_store_rollback(conn);
		return FALSE;
	}
	if (exists) {
		osc_store_rollback(conn);
		return TRUE;
	}
	if (version > 0) {
		osc_store_rollback(conn);
		g_set_error(error, OSC_ERROR, OSC_ERROR_CORRUPT,
			    "database schema version %d has no configurations table", version);
		return FALSE;
	}
	if (!osc_store_conn_exec_all(conn, osc_store_ddl_v0, G_N_ELEMENTS(osc_store_ddl_v0),
				     error)) {
		osc_store_rollback(conn);
		return FALSE;
	}
	return osc_store_commit(conn, error);
}

static gboolean
osc_store_migrate(OscStore *self, OscStoreConn *conn, GError **error)
{
	if (!osc_store_create_v0(self, conn, error)) {
		g_prefix_error(error, "failed to create the schema: ");
		return FALSE;
	}

	/* one transaction per migration; the version is read inside it, so two processes
	 * opening the same file at once cannot both migrate */
	for (;;) {
		gint version = 0;

		if (!osc_store_begin(self, conn, error))
			return FALSE;
		if (!osc_store_conn_schema_version(conn, &version, error)) {
			osc_store_rollback(conn);
			return FALSE;
		}
		if (version > OSC_STORE_SCHEMA_VERSION) {
			osc_store_rollback(conn);
			g_set_error(error, OSC_ERROR, OSC_ERROR_CORRUPT,
				    "database schema version %d is newer than this server supports",
				    version);
			return FALSE;
		}
		if (version == OSC_STORE_SCHEMA_VERSION) {
			osc_store_rollback(conn);
			return TRUE;
		}

		g_info("migrating %s to schema version %d", self->path, version + 1);
		switch (version + 1) {
		case 1:
			if (!osc_store_conn_exec_all(conn, osc_store_migration_1,
						     G_N_ELEMENTS(osc_store_migration_1), error)) {
				osc_store_rollback(conn);
				g_prefix_error(error, "failed to migrate to schema version 1: ");
				return FALSE;
			}
			break;
		case 2:
			if (!osc_store_conn_exec_all(conn, osc_store_migration_2,
						     G_N_ELEMENTS(osc_store_migration_2), error)) {
				osc_store_rollback(conn);
				g_prefix_error(error, "failed to migrate to schema version 2: ");
				return FALSE;
			}
			break;
		case 3:
			if (!osc_store_conn_exec_all(conn, osc_store_migration_3,
						     G_N_ELEMENTS(osc_store_migration_3), error)) {
				osc_store_rollback(conn);
				g_prefix_error(error, "failed to migrate to schema version 3: ");
				return FALSE;
			}
			break;
		default:
			g_assert_not_reached();
		}
		if (!osc_store_conn_set_schema_version(conn, version + 1, error)) {
			osc_store_rollback(conn);
			return FALSE;
		}
		if (!osc_store_commit(conn, error))
			return FALSE;
	}
}

static gboolean
osc_store_open(OscStore *self, GError **error)
{
	g_autoptr(OscStoreConn) conn = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	g_autofree gchar *dir = g_path_get_dirname(self->path);
	const gchar *mode;
	gint fd;

	if (!sqlite3_threadsafe()) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED,
				    "SQLite is built without thread support");
		return FALSE;
	}
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		gint errsv = errno;
		g_set_error(error, OSC_ERROR, OSC_ERROR_FAILED, "cannot create directory %s: %s",
			    dir, g_strerror(errsv));
		return FALSE;
	}
	/* create the file ourselves so that it is private from the start; SQLite gives the
	 * -wal and -shm files the same mode */
	fd = g_open(self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		gint errsv = errno;
		g_set_error(error, OSC_ERROR, OSC_ERROR_FAILED, "cannot open %s: %s", self->path,
			    g_strerror(errsv));
		return FALSE;
	}
	g_close(fd, NULL);

	conn = osc_store_conn_open_writer(self, error);
	if (conn == NULL)
		return FALSE;

	/* persistent in the file, so once is enough */
	if (sqlite3_prepare_v2(conn->db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		osc_store_set_sqlite_error(conn->db, SQLITE_ERROR, error);
		return FALSE;
	}
	mode = (const gchar *)sqlite3_column_text(stmt, 0);
	if (g_ascii_strcasecmp(mode != NULL ? mode : "", "wal") != 0) {
		g_warning("%s: journal mode is %s, not WAL", self->path, mode);
	} else if (self->group_commit) {
		/* SQLite no longer syncs a commit; osc_store_release_writer() does. SQLite
		 * resolves symbolic links in the path: the WAL is next to the real file */
		self->wal_path =
			g_strdup(sqlite3_filename_wal(sqlite3_db_filename(conn->db, "main")));
		self->sync_wal = TRUE;
		if (!osc_store_conn_exec(conn, "PRAGMA synchronous=NORMAL", error))
			return FALSE;
	}
	g_clear_pointer(&stmt, sqlite3_finalize);

	/* nobody else has the store yet, but osc_store_begin() wants the lock held */
	if (!osc_store_write_lock(self, error))
		return FALSE;
	if (!osc_store_migrate(self, conn, error)) {
		osc_store_write_unlock(self, TRUE);
		return FALSE;
	}
	osc_store_write_unlock(self, TRUE);

	/* the clock never goes below a stamp already stored, whatever the wall clock says */
	if (sqlite3_prepare_v2(conn->db,
			       "SELECT MAX(m) FROM (SELECT MAX(hlc) AS m FROM configurations "
			       "UNION ALL SELECT MAX(hlc) FROM osc_tombstones)",
			       -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		osc_store_set_sqlite_error(conn->db, SQLITE_ERROR, error);
		return FALSE;
	}
	osc_store_hlc_observe(self, (const gchar *)sqlite3_column_text(stmt, 0));
	g_clear_pointer(&stmt, sqlite3_finalize);

	/* the migrations, and the names of files SQLite may have just created */
	if (self->sync_wal) {
		gint errsv = self->sync_func(self, self->sync_data);
		if (errsv != 0) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_FAILED,
				    "cannot sync the database to disk: %s", g_strerror(errsv));
			return FALSE;
		}
	}
	self->write_dirty = FALSE;
	self->write_conn = g_steal_pointer(&conn);
	return TRUE;
}

/**
 * osc_store_new:
 * @path: the SQLite file, created (mode 0600, parent directory 0700) if missing
 * @error: return location for a #GError
 *
 * Opens the store and migrates its schema. The environment variable `OSC_DB_SYNCHRONOUS`
 * sets how a commit reaches the disk: `FULL` (the default), SQLite syncs the WAL in every
 * commit; `GROUP`, the store syncs it after the commit, outside the write lock, so that
 * commits made meanwhile share one sync (faster with many concurrent writers, slower with
 * one or two); `NORMAL` does not sync, may lose the last acknowledged writes on power loss
 * and is meant for benchmarks.
 *
 * Returns: (transfer full): the store, or %NULL
 */
OscStore *
osc_store_new(const gchar *path, GError **error)
{
	g_autoptr(OscStore) self = NULL;
	const gchar *sync_env = g_getenv("OSC_DB_SYNCHRONOUS");

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	self = g_object_new(OSC_TYPE_STORE, NULL);
	self->path = g_strdup(path);
	if (sync_env != NULL && g_ascii_strcasecmp(sync_env, "NORMAL") == 0) {
		self->synchronous = "NORMAL";
	} else if (sync_env != NULL && g_ascii_strcasecmp(sync_env, "GROUP") == 0) {
		self->group_commit = TRUE;
	} else if (sync_env != NULL && *sync_env != '\0' &&
		   g_ascii_strcasecmp(sync_env, "FULL") != 0) {
		g_warning("OSC_DB_SYNCHRONOUS=%s is not FULL, GROUP or NORMAL, using FULL", sync_env);
	}
	if (!osc_store_open(self, error)) {
		g_prefix_error(error, "cannot open database %s: ", path);
		return NULL;
	}
	return g_steal_pointer(&self);
}

const gchar *
osc_store_get_path(OscStore *self)
{
	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	return self->path;
}

gint
osc_store_get_schema_version(OscStore *self, GError **error)
{
	OscStoreConn *conn;
	gint version = 0;
	gboolean ret;

	g_return_val_if_fail(OSC_IS_STORE(self), -1);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return -1;
	ret = osc_store_conn_schema_version(conn, &version, error);
	osc_store_release(self, conn);
	return ret ? version : -1;
}

static gchar *
osc_store_conn_get_meta(OscStoreConn *conn, const gchar *name, GError **error)
{
	g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_META_GET, error);
	gint rc;

	if (stmt == NULL)
		return NULL;
	osc_store_bind_text(stmt, 1, name);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return osc_store_column_text(stmt, 0);
	if (rc == SQLITE_DONE) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND, "no metadata named '%s'", name);
		return NULL;
	}
	osc_store_set_sqlite_error(conn->db, rc, error);
	return NULL;
}

/**
 * osc_store_get_meta:
 *
 * Returns: (transfer full): the value of @name in osc_meta, or %NULL with
 *   %OSC_ERROR_NOT_FOUND when it has none
 */
gchar *
osc_store_get_meta(OscStore *self, const gchar *name, GError **error)
{
	OscStoreConn *conn;
	gchar *value;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	g_return_val_if_fail(name != NULL, NULL);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	value = osc_store_conn_get_meta(conn, name, error);
	osc_store_release(self, conn);
	return value;
}

gboolean
osc_store_set_meta(OscStore *self, const gchar *name, const gchar *value, GError **error)
{
	OscStoreConn *conn;
	gboolean ret = FALSE;

	g_return_val_if_fail(OSC_IS_STORE(self), FALSE);
	g_return_val_if_fail(name != NULL, FALSE);
	g_return_val_if_fail(value != NULL, FALSE);

	conn = osc_store_acquire_writer(self, error);
	if (conn != NULL) {
		g_autoptr(OscStoreStmt) stmt =
			osc_store_conn_stmt(conn, OSC_STORE_STMT_META_SET, error);
		if (stmt != NULL) {
			osc_store_bind_text(stmt, 1, name);
			osc_store_bind_text(stmt, 2, value);
			ret = osc_store_conn_step_done(conn, stmt, error);
		}
		g_clear_pointer(&stmt, osc_store_stmt_reset);
		if (!osc_store_release_writer(self, conn, ret ? error : NULL))
			ret = FALSE;
	}
	if (!ret)
		g_prefix_error(error, "failed to set metadata '%s': ", name);
	return ret;
}

/**
 * osc_store_get:
 *
 * Returns: (transfer full): the row for (@key, @environment), or %NULL with
 *   %OSC_ERROR_NOT_FOUND
 */
OscEntryRow *
osc_store_get(OscStore *self, const gchar *key, const gchar *environment, GError **error)
{
	OscStoreConn *conn;
	OscEntryRow *row;
	guint64 generation;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(environment != NULL, NULL);

	/* before the read: a write that ends after this makes the row not worth keeping */
	generation = osc_store_get_generation(self);
	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	row = osc_store_conn_get(conn, key, environment, error);
	osc_store_release(self, conn);
	if (row != NULL)
		osc_store_cache_fill(self, row, generation);
	return row;
}

/* replaces *@ptr with a copy of @value, which may be *@ptr itself */
static void
osc_store_set_str(gchar **ptr, const gchar *value)
{
	gchar *copy = g_strdup(value);

	g_free(*ptr);
	*ptr = copy;
}

/* how many old versions to keep right now, and (optionally) the node id to stamp them with */
static guint
osc_store_get_history_settings(OscStore *self, gchar **node_id)
{
	guint versions_kept;

	g_mutex_lock(&self->settings_mutex);
	versions_kept = self->versions_kept;
	if (node_id != NULL)
		*node_id = g_strdup(self->node_id);
	g_mutex_unlock(&self->settings_mutex);
	return versions_kept;
}

/* the newest version kept in osc_versions for the pair, 0 when it has none */
static gboolean
osc_store_conn_versions_max(OscStoreConn *conn, const gchar *key, const gchar *environment,
			    gint64 *version, GError **error)
{
	g_autoptr(OscStoreStmt) stmt =
		osc_store_conn_stmt(conn, OSC_STORE_STMT_VERSIONS_MAX, error);
	gint rc;

	if (stmt == NULL)
		return FALSE;
	osc_store_bind_text(stmt, 1, key);
	osc_store_bind_text(stmt, 2, environment);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	*version = sqlite3_column_int64(stmt, 0);
	return TRUE;
}

/*
 * Inside the caller's transaction: copies the state of @live, which is about to be
 * overwritten (or deleted, then @deleted), into osc_versions and prunes the pair down to the
 * versions kept. Sets *@next_version to the version the pair's next state gets.
 */
static gboolean
osc_store_conn_supersede(OscStore *self, OscStoreConn *conn, const OscEntryRow *live,
			 const gchar *now, gboolean deleted, gint64 *next_version, GError **error)
{
	g_autofree gchar *node_id = NULL;
	guint versions_kept = osc_store_get_history_settings(self, &node_id);
	gint64 version = live->version;
	gint64 kept_max = 0;

	if (!osc_store_conn_versions_max(conn, live->key, live->environment, &kept_max, error))
		return FALSE;
	/* a row re-created by a writer that knows nothing of the history (the original server
	 * leaves version at its default, 1) is numbered after it, so versions never repeat */
	if (version <= kept_max)
		version = kept_max + 1;
	*next_version = version + 1;
	if (versions_kept == 0)
		return TRUE;
	{
		g_autoptr(OscStoreStmt) stmt =
			osc_store_conn_stmt(conn, OSC_STORE_STMT_VERSIONS_ADD, error);
		if (stmt == NULL)
			return FALSE;
		sqlite3_bind_int64(stmt, 1, live->id);
		osc_store_bind_text(stmt, 2, live->key);
		osc_store_bind_text(stmt, 3, live->environment);
		sqlite3_bind_int64(stmt, 4, version);
		osc_store_bind_text(stmt, 5, live->token);
		osc_store_bind_text(stmt, 6, live->fingerprint);
		osc_store_bind_text(stmt, 7, live->category);
		osc_store_bind_text(stmt, 8, live->updated_at);
		osc_store_bind_text(stmt, 9, now);
		osc_store_bind_text(stmt, 10, node_id);
		sqlite3_bind_int(stmt, 11, deleted ? 1 : 0);
		if (!osc_store_conn_step_done(conn, stmt, error)) {
			g_prefix_error(error, "failed to record version %" G_GINT64_FORMAT ": ",
				       version);
			return FALSE;
		}
	}
	{
		g_autoptr(OscStoreStmt) stmt =
			osc_store_conn_stmt(conn, OSC_STORE_STMT_VERSIONS_PRUNE, error);
		if (stmt == NULL)
			return FALSE;
		osc_store_bind_text(stmt, 1, live->key);
		osc_store_bind_text(stmt, 2, live->environment);
		sqlite3_bind_int64(stmt, 3, versions_kept);
		if (!osc_store_conn_step_done(conn, stmt, error)) {
			g_prefix_error(error, "failed to prune old versions: ");
			return FALSE;
		}
	}
	return TRUE;
}

/* ---- the hybrid logical clock ---- */

static gint64
osc_store_default_clock(void)
{
	return g_get_real_time() / 1000;
}

/**
 * osc_store_hlc_encode:
 * @ms: physical milliseconds since the epoch
 * @count: the logical counter
 *
 * Returns: (transfer full): the stamp as %OSC_HLC_LEN lowercase hex digits, which sort
 *   like (@ms, @count)
 */
gchar *
osc_store_hlc_encode(gint64 ms, guint32 count)
{
	return g_strdup_printf("%012" G_GINT64_MODIFIER "x%08x",
			       (guint64)(ms & G_GINT64_CONSTANT(0xffffffffffff)), count);
}

/**
 * osc_store_hlc_decode:
 *
 * Returns: %TRUE if @text is a stamp of osc_store_hlc_encode()
 */
gboolean
osc_store_hlc_decode(const gchar *text, gint64 *ms, guint32 *count)
{
	gchar part[13];
	guint64 v = 0;

	if (text == NULL || strlen(text) != OSC_HLC_LEN)
		return FALSE;
	for (guint i = 0; i < OSC_HLC_LEN; i++) {
		if (!g_ascii_isxdigit(text[i]) || g_ascii_isupper(text[i]))
			return FALSE;
	}
	memcpy(part, text, 12);
	part[12] = '\0';
	v = g_ascii_strtoull(part, NULL, 16);
	if (ms != NULL)
		*ms = (gint64)v;
	if (count != NULL)
		*count = (guint32)g_ascii_strtoull(text + 12, NULL, 16);
	return TRUE;
}

/**
 * osc_store_stamp_compare:
 *
 * Orders two writes for last-writer-wins: by HLC stamp, then by origin node id (both as
 * text, %NULL as ""). Every node orders the same two writes the same way.
 *
 * Returns: <0, 0 or >0 as write a is older than, the same as or newer than write b
 */
gint
osc_store_stamp_compare(const gchar *hlc_a, const gchar *origin_a, const gchar *hlc_b,
			const gchar *origin_b)
{
	gint c = strcmp(hlc_a != NULL ? hlc_a : "", hlc_b != NULL ? hlc_b : "");

	if (c != 0)
		return c;
	return strcmp(origin_a != NULL ? origin_a : "", origin_b != NULL ? origin_b : "");
}

/**
 * osc_store_hlc_now:
 *
 * Advances the clock for a local event: max(last, physical time), the counter breaking
 * ties. Stamps are strictly increasing, even when the wall clock steps back.
 *
 * Returns: (transfer full): the new stamp
 */
gchar *
osc_store_hlc_now(OscStore *self)
{
	gint64 pt;
	gchar *out;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);

	g_mutex_lock(&self->hlc_mutex);
	pt = self->hlc_clock();
	if (pt > self->hlc_ms) {
		self->hlc_ms = pt;
		self->hlc_count = 0;
	} else {
		self->hlc_count++;
	}
	out = osc_store_hlc_encode(self->hlc_ms, self->hlc_count);
	g_mutex_unlock(&self->hlc_mutex);
	return out;
}

/**
 * osc_store_hlc_observe:
 * @remote: a stamp received from another node (ignored unless valid)
 *
 * The HLC receive rule: the clock becomes max(last, @remote, physical time), so every local
 * write after this is stamped above @remote.
 */
void
osc_store_hlc_observe(OscStore *self, const gchar *remote)
{
	gint64 rm = 0, pt, l;
	guint32 rc = 0;

	g_return_if_fail(OSC_IS_STORE(self));

	if (!osc_store_hlc_decode(remote, &rm, &rc))
		return;
	g_mutex_lock(&self->hlc_mutex);
	pt = self->hlc_clock();
	l = MAX(MAX(self->hlc_ms, rm), pt);
	if (l == self->hlc_ms && l == rm)
		self->hlc_count = MAX(self->hlc_count, rc) + 1;
	else if (l == self->hlc_ms)
		self->hlc_count++;
	else if (l == rm)
		self->hlc_count = rc + 1;
	else
		self->hlc_count = 0;
	self->hlc_ms = l;
	g_mutex_unlock(&self->hlc_mutex);
}

/**
 * osc_store_hlc_set_clock:
 * @clock_ms: (nullable): returns physical milliseconds; %NULL for the real-time clock
 *
 * For tests: replaces the physical clock of the HLC (e.g. to simulate skew).
 */
void
osc_store_hlc_set_clock(OscStore *self, gint64 (*clock_ms)(void))
{
	g_return_if_fail(OSC_IS_STORE(self));

	g_mutex_lock(&self->hlc_mutex);
	self->hlc_clock = clock_ms != NULL ? clock_ms : osc_store_default_clock;
	g_mutex_unlock(&self->hlc_mutex);
}

void
osc_repl_row_free(OscReplRow *self)
{
	if (self == NULL)
		return;
	g_free(self->key);
	g_free(self->environment);
	g_free(self->category);
	g_free(self->token);
	g_free(self->fingerprint);
	g_free(self->created_at);
	g_free(self->updated_at);
	g_free(self->hlc);
	g_free(self->origin);
	g_free(self);
}

static gboolean
osc_store_conn_tomb_drop(OscStoreConn *conn, const gchar *key, const gchar *environment,
			 GError **error)
{
	g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_TOMB_DROP, error);

	if (stmt == NULL)
		return FALSE;
	osc_store_bind_text(stmt, 1, key);
	osc_store_bind_text(stmt, 2, environment);
	return osc_store_conn_step_done(conn, stmt, error);
}

static gboolean
osc_store_conn_tomb_put(OscStoreConn *conn, const gchar *key, const gchar *environment,
			const gchar *category, const gchar *hlc, const gchar *origin,
			const gchar *deleted_at, GError **error)
{
	g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_TOMB_PUT, error);

	if (stmt == NULL)
		return FALSE;
	osc_store_bind_text(stmt, 1, key);
	osc_store_bind_text(stmt, 2, environment);
	osc_store_bind_text(stmt, 3, category);
	osc_store_bind_text(stmt, 4, hlc);
	osc_store_bind_text(stmt, 5, origin);
	osc_store_bind_text(stmt, 6, deleted_at);
	return osc_store_conn_step_done(conn, stmt, error);
}

/* the tombstone of the pair, or %NULL (no error) when there is none */
static OscReplRow *
osc_store_conn_tomb_get(OscStoreConn *conn, const gchar *key, const gchar *environment,
			GError **error)
{
	g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_TOMB_GET, error);
	OscReplRow *tomb;
	gint rc;

	if (stmt == NULL)
		return NULL;
	osc_store_bind_text(stmt, 1, key);
	osc_store_bind_text(stmt, 2, environment);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return NULL;
	if (rc != SQLITE_ROW) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return NULL;
	}
	tomb = g_new0(OscReplRow, 1);
	tomb->key = osc_store_column_text(stmt, 0);
	tomb->environment = osc_store_column_text(stmt, 1);
	tomb->category = osc_store_column_text(stmt, 2);
	tomb->hlc = osc_store_column_text(stmt, 3);
	tomb->origin = osc_store_column_text(stmt, 4);
	tomb->updated_at = osc_store_column_text(stmt, 5);
	tomb->deleted = TRUE;
	return tomb;
}

/*
 * Inside the caller's transaction: stamps the live @row with a fresh local HLC and this
 * node's id, or with the stamp and timestamps of @remote, and drops the pair's tombstone.
 */
static gboolean
osc_store_conn_stamp(OscStore *self, OscStoreConn *conn, OscEntryRow *row, const OscReplRow *remote,
		     GError **error)
{
	g_autofree gchar *hlc = NULL;
	g_autofree gchar *origin = NULL;

	if (remote != NULL) {
		hlc = g_strdup(remote->hlc);
		origin = g_strdup(remote->origin);
	} else {
		hlc = osc_store_hlc_now(self);
		osc_store_get_history_settings(self, &origin);
		if (origin == NULL)
			origin = g_strdup("");
	}
	{
		g_autoptr(OscStoreStmt) stmt =
			osc_store_conn_stmt(conn, OSC_STORE_STMT_STAMP, error);
		if (stmt == NULL)
			return FALSE;
		sqlite3_bind_int64(stmt, 1, row->id);
		osc_store_bind_text(stmt, 2, hlc);
		osc_store_bind_text(stmt, 3, origin);
		if (remote != NULL) {
			osc_store_bind_text(stmt, 5, remote->created_at);
			osc_store_bind_text(stmt, 6, remote->updated_at);
		}
		if (!osc_store_conn_step_done(conn, stmt, error))
			return FALSE;
	}
	if (!osc_store_conn_tomb_drop(conn, row->key, row->environment, error))
		return FALSE;
	if (remote != NULL) {
		if (remote->created_at != NULL)
			osc_store_set_str(&row->created_at, remote->created_at);
		if (remote->updated_at != NULL)
			osc_store_set_str(&row->updated_at, remote->updated_at);
	}
	g_free(row->hlc);
	row->hlc = g_steal_pointer(&hlc);
	g_free(row->origin);
	row->origin = g_steal_pointer(&origin);
	return TRUE;
}

/*
 * Inside the caller's transaction: adds @row with a fresh id and revision. A pair with kept
 * history continues after its newest version, any other starts at 1. The UNIQUE constraint
 * is the atomic duplicate check (%OSC_ERROR_EXISTS).
 */
static gboolean
osc_store_conn_write_insert_as(OscStore *self, OscStoreConn *conn, OscEntryRow *row,
			       const OscReplRow *remote, GError **error)
{
	g_autoptr(OscStoreStmt) stmt = NULL;
	gint64 kept_max = 0;

	if (!osc_store_conn_versions_max(conn, row->key, row->environment, &kept_max, error) ||
	    !osc_store_conn_next(conn, OSC_STORE_STMT_NEXT_ID, &row->id, error) ||
	    !osc_store_conn_next(conn, OSC_STORE_STMT_NEXT_REVISION, &row->revision, error))
		return FALSE;
	row->version = kept_max + 1;
	stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_INSERT, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, row->id);
	osc_store_bind_text(stmt, 2, row->key);
	osc_store_bind_text(stmt, 3, row->token);
	osc_store_bind_text(stmt, 4, row->category);
	osc_store_bind_text(stmt, 5, row->environment);
	osc_store_bind_text(stmt, 6, row->created_at);
	osc_store_bind_text(stmt, 7, row->fingerprint);
	sqlite3_bind_int64(stmt, 8, row->revision);
	sqlite3_bind_int64(stmt, 9, row->version);
	if (!osc_store_conn_step_done(conn, stmt, error))
		return FALSE;
	return osc_store_conn_stamp(self, conn, row, remote, error);
}

static gboolean
osc_store_conn_write_insert(OscStore *self, OscStoreConn *conn, OscEntryRow *row, GError **error)
{
	return osc_store_conn_write_insert_as(self, conn, row, NULL, error);
}

/*
 * Inside the caller's transaction: replaces the token (and the category when @set_category)
 * of the live @row after recording its current state in the history; @row is updated to
 * match.
 */
static gboolean
osc_store_conn_write_update_as(OscStore *self, OscStoreConn *conn, OscEntryRow *row,
			       gboolean set_category, const gchar *category, const gchar *token,
			       const gchar *fingerprint, const gchar *now, const OscReplRow *remote,
			       GError **error)
{
	gint64 version = 0;
	gint64 revision = 0;

	if (!osc_store_conn_supersede(self, conn, row, now, FALSE, &version, error) ||
	    !osc_store_conn_next(conn, OSC_STORE_STMT_NEXT_REVISION, &revision, error))
		return FALSE;
	{
		g_autoptr(OscStoreStmt) stmt =
			osc_store_conn_stmt(conn, OSC_STORE_STMT_UPDATE, error);
		if (stmt == NULL)
			return FALSE;
		osc_store_bind_text(stmt, 1, token);
		osc_store_bind_text(stmt, 2, fingerprint);
		sqlite3_bind_int(stmt, 3, set_category ? 1 : 0);
		osc_store_bind_text(stmt, 4, category);
		osc_store_bind_text(stmt, 5, now);
		sqlite3_bind_int64(stmt, 6, revision);
		sqlite3_bind_int64(stmt, 7, row->id);
		sqlite3_bind_int64(stmt, 8, version);
		if (!osc_store_conn_step_done(conn, stmt, error))
			return FALSE;
	}
	osc_store_set_str(&row->token, token);
	osc_store_set_str(&row->fingerprint, fingerprint);
	if (set_category)
		osc_store_set_str(&row->category, category);
	osc_store_set_str(&row->updated_at, now);
	row->version = version;
	row->revision = revision;
	return osc_store_conn_stamp(self, conn, row, remote, error);
}

static gboolean
osc_store_conn_write_update(OscStore *self, OscStoreConn *conn, OscEntryRow *row,
			    gboolean set_category, const gchar *category, const gchar *token,
			    const gchar *fingerprint, const gchar *now, GError **error)
{
	return osc_store_conn_write_update_as(self, conn, row, set_category, category, token,
					      fingerprint, now, NULL, error);
}

static OscEntryRow *
osc_store_conn_insert(OscStore *self, OscStoreConn *conn, OscEntryRow *row, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (!osc_store_begin(self, conn, error))
		return NULL;
	if (!osc_store_conn_write_insert(self, conn, row, &error_local)) {
		osc_store_rollback(conn);
		/* the UNIQUE constraint is the atomic duplicate check */
		if (g_error_matches(error_local, OSC_ERROR, OSC_ERROR_EXISTS)) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_EXISTS,
				    "Configuration with key '%s' already exists in environment "
				    "'%s'",
				    row->key, row->environment);
			return NULL;
		}
		g_propagate_prefixed_error(error, g_steal_pointer(&error_local),
					   "failed to insert: ");
		return NULL;
	}
	if (!osc_store_commit(conn, error))
		return NULL;
	return osc_entry_row_copy(row);
}

/**
 * osc_store_insert:
 * @category: (nullable): the category
 * @fingerprint: (nullable): fingerprint of the key that encrypted @token
 *
 * Adds a row with a fresh id (never one used before) and revision, version 1 (or, when the
 * pair has kept history from a deleted entry, one above its newest version).
 *
 * Returns: (transfer full): the stored row, or %NULL; %OSC_ERROR_EXISTS when the
 *   (@key, @environment) pair is taken
 */
OscEntryRow *
osc_store_insert(OscStore *self, const gchar *key, const gchar *environment, const gchar *category,
		 const gchar *token, const gchar *fingerprint, GError **error)
{
	g_autoptr(OscEntryRow) row = NULL;
	OscStoreConn *conn;
	OscEntryRow *ret;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(environment != NULL, NULL);
	g_return_val_if_fail(token != NULL, NULL);

	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return NULL;
	row = g_new0(OscEntryRow, 1);
	row->key = g_strdup(key);
	row->environment = g_strdup(environment);
	row->category = g_strdup(category);
	row->token = g_strdup(token);
	row->fingerprint = g_strdup(fingerprint);
	row->created_at = osc_timestamp_now_db();
	row->updated_at = g_strdup(row->created_at);
	row->version = 1;
	ret = osc_store_conn_insert(self, conn, row, error);
	if (!osc_store_release_writer(self, conn, ret != NULL ? error : NULL))
		g_clear_pointer(&ret, osc_entry_row_free);
	return ret;
}

static gboolean
osc_store_check_revision(const OscEntryRow *row, gint64 expected_revision, GError **error)
{
	if (expected_revision >= 0 && expected_revision != row->revision) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_PRECONDITION_FAILED,
			    "Configuration '%s' was modified (revision %" G_GINT64_FORMAT ")",
			    row->key, row->revision);
		return FALSE;
	}
	return TRUE;
}

static OscEntryRow *
osc_store_conn_update(OscStore *self, OscStoreConn *conn, const gchar *key,
		      const gchar *environment, gboolean set_category, const gchar *category,
		      const gchar *token, const gchar *fingerprint, gint64 expected_revision,
		      GError **error)
{
	g_autoptr(OscEntryRow) row = NULL;
	g_autofree gchar *now = osc_timestamp_now_db();

	if (!osc_store_begin(self, conn, error))
		return NULL;
	row = osc_store_conn_get(conn, key, environment, error);
	if (row == NULL || !osc_store_check_revision(row, expected_revision, error)) {
		osc_store_rollback(conn);
		return NULL;
	}
	if (!osc_store_conn_write_update(self, conn, row, set_category, category, token,
					 fingerprint, now, error)) {
		g_prefix_error(error, "failed to update: ");
		osc_store_rollback(conn);
		return NULL;
	}
	if (!osc_store_commit(conn, error))
		return NULL;
	return g_steal_pointer(&row);
}

/**
 * osc_store_update:
 * @set_category: whether to replace the category with @category
 * @category: (nullable): the new category
 * @fingerprint: (nullable): fingerprint of the key that encrypted @token
 * @expected_revision: the revision the row must have, or -1 for any
 *
 * Replaces the token (and the category when @set_category) of an existing row, recording
 * its previous state as an old version (see osc_store_set_versions_kept()).
 *
 * Returns: (transfer full): the updated row, or %NULL with %OSC_ERROR_NOT_FOUND,
 *   %OSC_ERROR_PRECONDITION_FAILED or another error
 */
OscEntryRow *
osc_store_update(OscStore *self, const gchar *key, const gchar *environment, gboolean set_category,
		 const gchar *category, const gchar *token, const gchar *fingerprint,
		 gint64 expected_revision, GError **error)
{
	OscStoreConn *conn;
	OscEntryRow *row;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(environment != NULL, NULL);
	g_return_val_if_fail(token != NULL, NULL);

	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return NULL;
	row = osc_store_conn_update(self, conn, key, environment, set_category, category, token,
				    fingerprint, expected_revision, error);
	if (!osc_store_release_writer(self, conn, row != NULL ? error : NULL))
		g_clear_pointer(&row, osc_entry_row_free);
	return row;
}

static gboolean
osc_store_conn_delete(OscStore *self, OscStoreConn *conn, const gchar *key,
		      const gchar *environment, gint64 expected_revision,
		      OscStoreOverwriteFunc check, gpointer user_data, OscEntryRow **deleted,
		      GError **error)
{
	g_autoptr(OscEntryRow) row = NULL;
	g_autofree gchar *now = osc_timestamp_now_db();
	gint64 revision = 0;
	gint64 next_version = 0;

	if (!osc_store_begin(self, conn, error))
		return FALSE;
	row = osc_store_conn_get(conn, key, environment, error);
	if (row == NULL || !osc_store_check_revision(row, expected_revision, error)) {
		osc_store_rollback(conn);
		return FALSE;
	}
	if (check != NULL) {
		g_autofree gchar *reason = NULL;
		if (!check(row, user_data, &reason)) {
			osc_store_rollback(conn);
			g_set_error(error, OSC_ERROR, OSC_ERROR_CONFLICT, "%s",
				    reason != NULL ? reason : "delete refused");
			return FALSE;
		}
	}
	if (!osc_store_conn_next(conn, OSC_STORE_STMT_NEXT_REVISION, &revision, error)) {
		osc_store_rollback(conn);
		return FALSE;
	}
	if (!osc_store_conn_supersede(self, conn, row, now, TRUE, &next_version, error)) {
		g_prefix_error(error, "failed to delete: ");
		osc_store_rollback(conn);
		return FALSE;
	}
	{
		g_autoptr(OscStoreStmt) stmt =
			osc_store_conn_stmt(conn, OSC_STORE_STMT_DELETE, error);
		if (stmt == NULL) {
			osc_store_rollback(conn);
			return FALSE;
		}
		sqlite3_bind_int64(stmt, 1, row->id);
		if (!osc_store_conn_step_done(conn, stmt, error)) {
			g_prefix_error(error, "failed to delete: ");
			osc_store_rollback(conn);
			return FALSE;
		}
	}
	{
		/* the tombstone: a delete must win over older writes that arrive later */
		g_autofree gchar *hlc = osc_store_hlc_now(self);
		g_autofree gchar *origin = NULL;

		osc_store_get_history_settings(self, &origin);
		if (!osc_store_conn_tomb_put(conn, row->key, row->environment, row->category, hlc,
					     origin != NULL ? origin : "", now, error)) {
			g_prefix_error(error, "failed to record the tombstone: ");
			osc_store_rollback(conn);
			return FALSE;
		}
		osc_store_set_str(&row->hlc, hlc);
		osc_store_set_str(&row->origin, origin != NULL ? origin : "");
	}
	if (!osc_store_commit(conn, error))
		return FALSE;
	if (deleted != NULL)
		*deleted = g_steal_pointer(&row);
	return TRUE;
}

/**
 * osc_store_delete:
 * @expected_revision: the revision the row must have, or -1 for any
 *
 * Deletes the row, recording its last state as an old version marked deleted (see
 * osc_store_set_versions_kept()), so the history survives and a re-created entry continues
 * its numbering.
 *
 * Returns: %TRUE if the row was deleted, else %FALSE with %OSC_ERROR_NOT_FOUND,
 *   %OSC_ERROR_PRECONDITION_FAILED or another error
 */
gboolean
osc_store_delete(OscStore *self, const gchar *key, const gchar *environment,
		 gint64 expected_revision, GError **error)
{
	OscStoreConn *conn;
	gboolean ret;

	g_return_val_if_fail(OSC_IS_STORE(self), FALSE);
	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(environment != NULL, FALSE);

	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return FALSE;
	ret = osc_store_conn_delete(self, conn, key, environment, expected_revision, NULL, NULL,
				    NULL, error);
	if (!osc_store_release_writer(self, conn, ret ? error : NULL))
		ret = FALSE;
	return ret;
}

/**
 * osc_store_delete_checked:
 * @check: decides on the row as it is inside the delete's transaction; when it refuses,
 *   nothing is deleted and the error is %OSC_ERROR_CONFLICT with its reason
 * @deleted: (out) (optional): the row as it was
 *
 * osc_store_delete() with the caller's own condition checked atomically with the delete.
 */
gboolean
osc_store_delete_checked(OscStore *self,
			 const gchar *key,
			 const gchar *environment,
			 OscStoreOverwriteFunc check,
			 gpointer user_data,
			 OscEntryRow **deleted,
			 GError **error)
{
	OscStoreConn *conn;
	gboolean ret;

	g_return_val_if_fail(OSC_IS_STORE(self), FALSE);
	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(environment != NULL, FALSE);

	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return FALSE;
	ret = osc_store_conn_delete(self, conn, key, environment, -1, check, user_data, deleted,
				    error);
	if (!osc_store_release_writer(self, conn, ret ? error : NULL)) {
		if (deleted != NULL)
			g_clear_pointer(deleted, osc_entry_row_free);
		ret = FALSE;
	}
	return ret;
}

/**
 * osc_store_set_versions_kept:
 * @versions_kept: old versions to keep per (key, environment); 0 records no history
 *
 * Sets how many old versions of each entry the store keeps (default
 * %OSC_STORE_VERSIONS_KEPT_DEFAULT). Every update, import overwrite, restore and delete
 * records the state it replaces and, in the same transaction, drops the pair's oldest
 * versions beyond @versions_kept. A lower value reaches each pair at its next write. With 0
 * nothing is recorded or dropped: history kept earlier stays readable and still numbers a
 * re-created entry.
 */
void
osc_store_set_versions_kept(OscStore *self, guint versions_kept)
{
	g_return_if_fail(OSC_IS_STORE(self));

	g_mutex_lock(&self->settings_mutex);
	self->versions_kept = versions_kept;
	g_mutex_unlock(&self->settings_mutex);
}

/**
 * osc_store_get_versions_kept:
 *
 * Returns: the number of old versions kept per (key, environment); 0 when history is off
 */
guint
osc_store_get_versions_kept(OscStore *self)
{
	g_return_val_if_fail(OSC_IS_STORE(self), 0);
	return osc_store_get_history_settings(self, NULL);
}

/**
 * osc_store_set_node_id:
 * @node_id: (nullable): this node's id in a cluster, or %NULL
 *
 * Sets the node id stamped on the versions recorded from now on, i.e. the node whose write
 * replaced them.
 */
void
osc_store_set_node_id(OscStore *self, const gchar *node_id)
{
	g_return_if_fail(OSC_IS_STORE(self));

	g_mutex_lock(&self->settings_mutex);
	osc_store_set_str(&self->node_id, node_id);
	g_mutex_unlock(&self->settings_mutex);
}

/* @version < 0 for every version: the live row (if any) first, then the kept history, newest
 * first; an empty array when there is nothing */
static GPtrArray *
osc_store_conn_versions(OscStoreConn *conn, const gchar *key, const gchar *environment,
			gint64 version, GError **error)
{
	g_autoptr(OscStoreStmt) stmt =
		osc_store_conn_stmt(conn, OSC_STORE_STMT_VERSIONS_LIST, error);
	g_autoptr(GPtrArray) versions = NULL;
	gint rc;

	if (stmt == NULL)
		return NULL;
	osc_store_bind_text(stmt, 1, key);
	osc_store_bind_text(stmt, 2, environment);
	if (version >= 0)
		sqlite3_bind_int64(stmt, 3, version);
	versions = g_ptr_array_new_with_free_func((GDestroyNotify)osc_entry_version_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		OscEntryVersion *item = g_new0(OscEntryVersion, 1);
		item->current = sqlite3_column_int(stmt, 0) != 0;
		item->key = osc_store_column_text(stmt, 1);
		item->environment = osc_store_column_text(stmt, 2);
		item->version = sqlite3_column_int64(stmt, 3);
		item->token = osc_store_column_text(stmt, 4);
		item->fingerprint = osc_store_column_text(stmt, 5);
		item->category = osc_store_column_text(stmt, 6);
		item->created_at = osc_store_column_text(stmt, 7);
		item->superseded_at = osc_store_column_text(stmt, 8);
		item->node_id = osc_store_column_text(stmt, 9);
		item->deleted = sqlite3_column_int(stmt, 10) != 0;
		g_ptr_array_add(versions, item);
	}
	if (rc != SQLITE_DONE) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return NULL;
	}
	return g_steal_pointer(&versions);
}

static void
osc_store_set_version_not_found(const gchar *key, const gchar *environment, gint64 version,
				GError **error)
{
	g_set_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND,
		    "Version %" G_GINT64_FORMAT " of '%s' not found in environment '%s'", version,
		    key, environment);
}

/* one version, the live row when its version is @version; %NULL with OSC_ERROR_NOT_FOUND
 * when there is no such version */
static OscEntryVersion *
osc_store_conn_get_version(OscStoreConn *conn, const gchar *key, const gchar *environment,
			   gint64 version, GError **error)
{
	g_autoptr(GPtrArray) versions = NULL;

	if (version < 0) {
		osc_store_set_version_not_found(key, environment, version, error);
		return NULL;
	}
	versions = osc_store_conn_versions(conn, key, environment, version, error);
	if (versions == NULL)
		return NULL;
	if (versions->len == 0) {
		osc_store_set_version_not_found(key, environment, version, error);
		return NULL;
	}
	/* the live row sorts first should it share its number with an old version */
	return g_ptr_array_steal_index(versions, 0);
}

/**
 * osc_store_list_versions:
 *
 * Lists the versions of an entry, read in one snapshot: the live row (if any, with
 * @current set, its updated_at as @created_at) and then the old versions kept, newest first.
 * A deleted entry has no live row; its newest old version has @deleted set.
 *
 * Returns: (transfer container) (element-type OscEntryVersion): the versions, or %NULL with
 *   %OSC_ERROR_NOT_FOUND when there is neither a live row nor any kept version
 */
GPtrArray *
osc_store_list_versions(OscStore *self, const gchar *key, const gchar *environment, GError **error)
{
	OscStoreConn *conn;
	g_autoptr(GPtrArray) versions = NULL;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(environment != NULL, NULL);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	versions = osc_store_conn_versions(conn, key, environment, -1, error);
	osc_store_release(self, conn);
	if (versions == NULL)
		return NULL;
	if (versions->len == 0) {
		osc_store_set_not_found(key, environment, error);
		return NULL;
	}
	return g_steal_pointer(&versions);
}

/**
 * osc_store_get_version:
 * @version: the version number
 *
 * Returns: (transfer full): version @version of the entry: the live row when that is its
 *   version, else a kept old version; %NULL with %OSC_ERROR_NOT_FOUND when there is none
 *   (never written, or pruned)
 */
OscEntryVersion *
osc_store_get_version(OscStore *self, const gchar *key, const gchar *environment, gint64 version,
		      GError **error)
{
	OscStoreConn *conn;
	OscEntryVersion *item;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(environment != NULL, NULL);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	item = osc_store_conn_get_version(conn, key, environment, version, error);
	osc_store_release(self, conn);
	return item;
}

static OscEntryRow *
osc_store_conn_restore(OscStore *self, OscStoreConn *conn, const gchar *key,
		       const gchar *environment, gint64 version, const gchar *token,
		       const gchar *fingerprint, gint64 expected_revision, GError **error)
{
	g_autoptr(OscEntryVersion) old = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *now = osc_timestamp_now_db();

	if (!osc_store_begin(self, conn, error))
		return NULL;
	/* read inside the write transaction: the version cannot be pruned meanwhile */
	old = osc_store_conn_get_version(conn, key, environment, version, error);
	if (old == NULL) {
		osc_store_rollback(conn);
		return NULL;
	}
	row = osc_store_conn_get(conn, key, environment, &error_local);
	if (row == NULL && !g_error_matches(error_local, OSC_ERROR, OSC_ERROR_NOT_FOUND)) {
		osc_store_rollback(conn);
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	if (row != NULL) {
		if (!osc_store_check_revision(row, expected_revision, error)) {
			osc_store_rollback(conn);
			return NULL;
		}
		if (!osc_store_conn_write_update(self, conn, row, TRUE, old->category, token,
						 fingerprint, now, error)) {
			g_prefix_error(error, "failed to restore: ");
			osc_store_rollback(conn);
			return NULL;
		}
	} else {
		/* deleted: the entry comes back with a new id */
		row = g_new0(OscEntryRow, 1);
		row->key = g_strdup(key);
		row->environment = g_strdup(environment);
		row->category = g_strdup(old->category);
		row->token = g_strdup(token);
		row->fingerprint = g_strdup(fingerprint);
		row->created_at = g_strdup(now);
		row->updated_at = g_strdup(now);
		if (!osc_store_conn_write_insert(self, conn, row, error)) {
			g_prefix_error(error, "failed to restore: ");
			osc_store_rollback(conn);
			return NULL;
		}
	}
	if (!osc_store_commit(conn, error))
		return NULL;
	return g_steal_pointer(&row);
}

/**
 * osc_store_restore_version:
 * @version: the version to bring back
 * @token: the token to write: @version's plaintext re-encrypted by the caller, or its old
 *   token as is
 * @fingerprint: (nullable): fingerprint of the key that encrypted @token
 * @expected_revision: the revision the live row must have, or -1 for any; ignored when the
 *   entry is deleted
 *
 * In one transaction, writes @token with @version's category as a new version of the entry:
 * an update of the live row (its current state becomes an old version, as for
 * osc_store_update()), or, when the entry is deleted, a new row (new id) numbered above the
 * kept history.
 *
 * Returns: (transfer full): the new row, or %NULL with %OSC_ERROR_NOT_FOUND (no such
 *   version), %OSC_ERROR_PRECONDITION_FAILED or another error
 */
OscEntryRow *
osc_store_restore_version(OscStore *self, const gchar *key, const gchar *environment,
			  gint64 version, const gchar *token, const gchar *fingerprint,
			  gint64 expected_revision, GError **error)
{
	OscStoreConn *conn;
	OscEntryRow *row;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(environment != NULL, NULL);
	g_return_val_if_fail(token != NULL, NULL);

	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return NULL;
	row = osc_store_conn_restore(self, conn, key, environment, version, token, fingerprint,
				     expected_revision, error);
	if (!osc_store_release_writer(self, conn, row != NULL ? error : NULL))
		g_clear_pointer(&row, osc_entry_row_free);
	return row;
}

/**
 * osc_store_set_fingerprint:
 *
 * Records the key fingerprint of a row written by the original, once a key has opened it.
 * Rows that already have a fingerprint, or no longer exist, are left alone. Neither the
 * revision nor updated_at changes.
 */
gboolean
osc_store_set_fingerprint(OscStore *self, gint64 id, const gchar *fingerprint, GError **error)
{
	OscStoreConn *conn;
	gboolean ret = FALSE;

	g_return_val_if_fail(OSC_IS_STORE(self), FALSE);
	g_return_val_if_fail(fingerprint != NULL, FALSE);

	conn = osc_store_acquire_writer(self, error);
	if (conn != NULL) {
		g_autoptr(OscStoreStmt) stmt =
			osc_store_conn_stmt(conn, OSC_STORE_STMT_SET_FINGERPRINT, error);
		if (stmt != NULL) {
			sqlite3_bind_int64(stmt, 1, id);
			osc_store_bind_text(stmt, 2, fingerprint);
			ret = osc_store_conn_step_done(conn, stmt, error);
		}
		g_clear_pointer(&stmt, osc_store_stmt_reset);
		if (!osc_store_release_writer(self, conn, ret ? error : NULL))
			ret = FALSE;
	}
	return ret;
}

static const gchar *
osc_store_filter(const gchar *value)
{
	return value != NULL && *value != '\0' ? value : NULL;
}

static GPtrArray *
osc_store_conn_list(OscStoreConn *conn, const gchar *category, const gchar *environment,
		    GError **error)
{
	g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_LIST, error);
	g_autoptr(GPtrArray) rows = NULL;
	gint rc;

	if (stmt == NULL)
		return NULL;
	osc_store_bind_text(stmt, 1, osc_store_filter(category));
	osc_store_bind_text(stmt, 2, osc_store_filter(environment));
	rows = g_ptr_array_new_with_free_func((GDestroyNotify)osc_entry_row_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(rows, osc_store_row_from_stmt(stmt));
	if (rc != SQLITE_DONE) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return NULL;
	}
	return g_steal_pointer(&rows);
}

/**
 * osc_store_list:
 * @category: (nullable): only rows with exactly this category; %NULL or "" for all
 * @environment: (nullable): only rows with exactly this environment; %NULL or "" for all
 *
 * Returns: (transfer container) (element-type OscEntryRow): the rows in id order
 */
GPtrArray *
osc_store_list(OscStore *self, const gchar *category, const gchar *environment, GError **error)
{
	OscStoreConn *conn;
	GPtrArray *rows;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	rows = osc_store_conn_list(conn, category, environment, error);
	osc_store_release(self, conn);
	return rows;
}

/**
 * osc_store_foreach:
 * @func: called with each matching row in id order
 *
 * osc_store_list() one row at a time, for readers of many rows (lists, backups) that
 * should not hold or copy every row. The row passed to @func is borrowed for the call and
 * its strings point into SQLite's own memory: @func must not change or free them, and
 * copies the row (osc_entry_row_copy()) to keep or modify it.
 */
gboolean
osc_store_foreach(OscStore *self,
		  const gchar *category,
		  const gchar *environment,
		  OscStoreRowFunc func,
		  gpointer user_data,
		  GError **error)
{
	OscStoreConn *conn;
	gboolean ok = TRUE;

	g_return_val_if_fail(OSC_IS_STORE(self), FALSE);
	g_return_val_if_fail(func != NULL, FALSE);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return FALSE;
	{
		g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_LIST, error);
		gint rc = SQLITE_DONE;

		if (stmt == NULL) {
			ok = FALSE;
		} else {
			osc_store_bind_text(stmt, 1, osc_store_filter(category));
			osc_store_bind_text(stmt, 2, osc_store_filter(environment));
			while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
				/* borrowed from the statement: no copy per row */
				OscEntryRow row = {
				    .id = sqlite3_column_int64(stmt, 0),
				    .key = (gchar *)sqlite3_column_text(stmt, 1),
				    .environment = (gchar *)sqlite3_column_text(stmt, 2),
				    .category = (gchar *)sqlite3_column_text(stmt, 3),
				    .token = (gchar *)sqlite3_column_text(stmt, 4),
				    .fingerprint = (gchar *)sqlite3_column_text(stmt, 5),
				    .created_at = (gchar *)sqlite3_column_text(stmt, 6),
				    .updated_at = (gchar *)sqlite3_column_text(stmt, 7),
				    .version = sqlite3_column_int64(stmt, 8),
				    .revision = sqlite3_column_int64(stmt, 9),
				    .hlc = (gchar *)sqlite3_column_text(stmt, 10),
				    .origin = (gchar *)sqlite3_column_text(stmt, 11),
				};

				if (!func(&row, user_data)) {
					rc = SQLITE_DONE;
					break;
				}
			}
			if (rc != SQLITE_DONE) {
				osc_store_set_sqlite_error(conn->db, rc, error);
				ok = FALSE;
			}
		}
	}
	osc_store_release(self, conn);
	return ok;
}

/* one batch of osc_store_rekey_versions(): rows after *@last_rowid, in rowid order */
static gboolean
osc_store_conn_rekey_versions_batch(OscStoreConn *conn,
				    const gchar *old_fingerprint,
				    const gchar *new_fingerprint,
				    OscStoreRekeyFunc func,
				    gpointer user_data,
				    gint64 *last_rowid,
				    guint *count,
				    gboolean *more,
				    GError **error)
{
	g_autoptr(sqlite3_stmt) select = NULL;
	g_autoptr(sqlite3_stmt) update = NULL;
	g_autoptr(GArray) rowids = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func(g_free);
	gint rc;

	rc = sqlite3_prepare_v2(conn->db,
				"SELECT rowid, encrypted_value FROM osc_versions WHERE rowid > ?2 "
				"AND (key_fingerprint = ?1 OR key_fingerprint IS NULL) "
				"ORDER BY rowid LIMIT 1000",
				-1, &select, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(conn->db,
					"UPDATE osc_versions SET encrypted_value = ?1, "
					"key_fingerprint = ?2 WHERE rowid = ?3",
					-1, &update, NULL);
	if (rc != SQLITE_OK) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	sqlite3_bind_text(select, 1, old_fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(select, 2, *last_rowid);
	while ((rc = sqlite3_step(select)) == SQLITE_ROW) {
		gint64 rowid = sqlite3_column_int64(select, 0);

		g_array_append_val(rowids, rowid);
		g_ptr_array_add(tokens, g_strdup((const gchar *)sqlite3_column_text(select, 1)));
	}
	if (rc != SQLITE_DONE) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return FALSE;
	}
	*more = rowids->len == 1000;
	for (guint i = 0; i < rowids->len; i++) {
		g_autoptr(GError) error_row = NULL;
		g_autofree gchar *token = NULL;

		*last_rowid = g_array_index(rowids, gint64, i);
		token = func(g_ptr_array_index(tokens, i), user_data, &error_row);
		if (token == NULL) {
			/* a version of an entry the key never wrote (legacy, no fingerprint) */
			if (g_error_matches(error_row, OSC_ERROR, OSC_ERROR_AUTH))
				continue;
			g_propagate_error(error, g_steal_pointer(&error_row));
			return FALSE;
		}
		sqlite3_reset(update);
		sqlite3_bind_text(update, 1, token, -1, SQLITE_STATIC);
		sqlite3_bind_text(update, 2, new_fingerprint, -1, SQLITE_STATIC);
		sqlite3_bind_int64(update, 3, *last_rowid);
		rc = sqlite3_step(update);
		if (rc != SQLITE_DONE) {
			osc_store_set_sqlite_error(conn->db, rc, error);
			return FALSE;
		}
		(*count)++;
	}
	return TRUE;
}

/**
 * osc_store_rekey_versions:
 * @old_fingerprint: the fingerprint of the key whose kept versions move
 * @func: turns a version's token into the new key's (or fails with %OSC_ERROR_AUTH when
 *   the old key does not open it: such a version is left alone)
 * @count: (out) (optional): how many versions were re-encrypted
 *
 * Re-encrypts the kept versions a key wrote (those with its fingerprint, and those without
 * any that it opens), in one transaction, read in batches so that a long history is never
 * held whole. After a re-key, the old key must open nothing, not even history.
 */
gboolean
osc_store_rekey_versions(OscStore *self,
			 const gchar *old_fingerprint,
			 const gchar *new_fingerprint,
			 OscStoreRekeyFunc func,
			 gpointer user_data,
			 guint *count,
			 GError **error)
{
	OscStoreConn *conn;
	gint64 last_rowid = 0;
	guint n = 0;
	gboolean more = TRUE;

	g_return_val_if_fail(OSC_IS_STORE(self), FALSE);
	g_return_val_if_fail(old_fingerprint != NULL && new_fingerprint != NULL, FALSE);
	g_return_val_if_fail(func != NULL, FALSE);

	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return FALSE;
	if (!osc_store_begin(self, conn, error)) {
		osc_store_release_writer(self, conn, NULL);
		return FALSE;
	}
	while (more) {
		if (!osc_store_conn_rekey_versions_batch(conn, old_fingerprint, new_fingerprint, func,
							 user_data, &last_rowid, &n, &more,
							 error)) {
			osc_store_rollback(conn);
			osc_store_release_writer(self, conn, NULL);
			return FALSE;
		}
	}
	if (!osc_store_commit(conn, error)) {
		osc_store_release_writer(self, conn, NULL);
		return FALSE;
	}
	if (!osc_store_release_writer(self, conn, error))
		return FALSE;
	if (count != NULL)
		*count = n;
	return TRUE;
}

static gint64
osc_store_conn_count(OscStoreConn *conn, const gchar *category, const gchar *environment,
		     GError **error)
{
	g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_COUNT, error);
	gint rc;

	if (stmt == NULL)
		return -1;
	osc_store_bind_text(stmt, 1, osc_store_filter(category));
	osc_store_bind_text(stmt, 2, osc_store_filter(environment));
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		return -1;
	}
	return sqlite3_column_int64(stmt, 0);
}

/**
 * osc_store_count:
 *
 * Same filters as osc_store_list().
 *
 * Returns: the number of matching rows, or -1 on error
 */
gint64
osc_store_count(OscStore *self, const gchar *category, const gchar *environment, GError **error)
{
	OscStoreConn *conn;
	gint64 count;

	g_return_val_if_fail(OSC_IS_STORE(self), -1);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return -1;
	count = osc_store_conn_count(conn, category, environment, error);
	osc_store_release(self, conn);
	return count;
}

static GPtrArray *
osc_store_list_strings(OscStore *self, OscStoreStmtId id, GError **error)
{
	OscStoreConn *conn;
	g_autoptr(GPtrArray) names = NULL;
	gint rc;

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	{
		g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, id, error);
		if (stmt != NULL) {
			names = g_ptr_array_new_with_free_func(g_free);
			while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
				g_ptr_array_add(names, osc_store_column_text(stmt, 0));
			if (rc != SQLITE_DONE) {
				osc_store_set_sqlite_error(conn->db, rc, error);
				g_clear_pointer(&names, g_ptr_array_unref);
			}
		}
	}
	osc_store_release(self, conn);
	return g_steal_pointer(&names);
}

/**
 * osc_store_list_environments:
 *
 * Returns: (transfer container) (element-type utf8): the distinct non-empty environments,
 *   sorted by code point
 */
GPtrArray *
osc_store_list_environments(OscStore *self, GError **error)
{
	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	return osc_store_list_strings(self, OSC_STORE_STMT_ENVIRONMENTS, error);
}

/**
 * osc_store_list_categories:
 *
 * Returns: (transfer container) (element-type utf8): the distinct non-empty categories,
 *   sorted by code point
 */
GPtrArray *
osc_store_list_categories(OscStore *self, GError **error)
{
	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	return osc_store_list_strings(self, OSC_STORE_STMT_CATEGORIES, error);
}

/**
 * osc_store_count_by_environment_category:
 *
 * Returns: (transfer container) (element-type OscStoreCount): the number of rows per
 *   (environment, category) pair, in the order each pair first appears; @name is the environment,
 *   @category the category (%NULL for rows without one)
 */
GPtrArray *
osc_store_count_by_environment_category(OscStore *self, GError **error)
{
	OscStoreConn *conn;
	g_autoptr(GPtrArray) counts = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint rc;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	rc = sqlite3_prepare_v2(conn->db,
				"SELECT environment, category, COUNT(*) FROM configurations "
				"GROUP BY environment, category ORDER BY MIN(id)",
				-1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		counts = g_ptr_array_new_with_free_func((GDestroyNotify)osc_store_count_free);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			OscStoreCount *item = g_new0(OscStoreCount, 1);
			item->name = osc_store_column_text(stmt, 0);
			item->category = osc_store_column_text(stmt, 1);
			item->count = sqlite3_column_int64(stmt, 2);
			g_ptr_array_add(counts, item);
		}
	}
	if (rc != SQLITE_DONE) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		g_clear_pointer(&counts, g_ptr_array_unref);
	}
	g_clear_pointer(&stmt, sqlite3_finalize);
	osc_store_release(self, conn);
	return g_steal_pointer(&counts);
}

/**
 * osc_store_count_by:
 * @column: "category" or "environment"
 *
 * Returns: (transfer container) (element-type OscStoreCount): the number of rows per
 *   value of @column, in the order each value first appears (lowest id); rows without a
 *   category form a group named %NULL
 */
GPtrArray *
osc_store_count_by(OscStore *self, const gchar *column, GError **error)
{
	OscStoreConn *conn;
	OscStoreStmtId id;
	g_autoptr(GPtrArray) counts = NULL;
	gint rc;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);
	g_return_val_if_fail(column != NULL, NULL);

	if (g_strcmp0(column, "category") == 0) {
		id = OSC_STORE_STMT_COUNT_BY_CATEGORY;
	} else if (g_strcmp0(column, "environment") == 0) {
		id = OSC_STORE_STMT_COUNT_BY_ENVIRONMENT;
	} else {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "cannot count by '%s': only category or environment", column);
		return NULL;
	}

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	{
		g_autoptr(OscStoreStmt) stmt = osc_store_conn_stmt(conn, id, error);
		if (stmt != NULL) {
			counts = g_ptr_array_new_with_free_func(
				(GDestroyNotify)osc_store_count_free);
			while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
				OscStoreCount *item = g_new0(OscStoreCount, 1);
				item->name = osc_store_column_text(stmt, 0);
				item->count = sqlite3_column_int64(stmt, 1);
				g_ptr_array_add(counts, item);
			}
			if (rc != SQLITE_DONE) {
				osc_store_set_sqlite_error(conn->db, rc, error);
				g_clear_pointer(&counts, g_ptr_array_unref);
			}
		}
	}
	osc_store_release(self, conn);
	return g_steal_pointer(&counts);
}

/**
 * osc_store_checkpoint:
 *
 * Copies the WAL into the database file and truncates it (e.g. before a backup or at
 * shutdown).
 */
gboolean
osc_store_checkpoint(OscStore *self, GError **error)
{
	OscStoreConn *conn;
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gboolean ret = FALSE;
	gint rc;

	g_return_val_if_fail(OSC_IS_STORE(self), FALSE);

	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return FALSE;
	rc = sqlite3_prepare_v2(conn->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		/* busy = 1 when a reader elsewhere kept the checkpoint from completing */
		if (sqlite3_column_int(stmt, 0) != 0)
			g_debug("checkpoint of %s did not complete", self->path);
		ret = TRUE;
	} else {
		osc_store_set_sqlite_error(conn->db, rc, error);
		g_prefix_error(error, "failed to checkpoint: ");
	}
	g_clear_pointer(&stmt, sqlite3_finalize);
	if (!osc_store_release_writer(self, conn, ret ? error : NULL))
		ret = FALSE;
	return ret;
}

/**
 * osc_store_set_sync_func:
 * @func: (nullable): what makes the WAL durable, or %NULL for fdatasync() of the WAL file
 *
 * For tests: replaces the sync that every committed write waits for (with
 * `OSC_DB_SYNCHRONOUS=GROUP` on a WAL database). Set it before any write.
 */
void
osc_store_set_sync_func(OscStore *self, OscStoreSyncFunc func, gpointer user_data)
{
	g_return_if_fail(OSC_IS_STORE(self));

	g_mutex_lock(&self->sync_mutex);
	self->sync_func = func != NULL ? func : osc_store_sync_wal;
	self->sync_data = func != NULL ? user_data : NULL;
	g_mutex_unlock(&self->sync_mutex);
}

/**
 * osc_store_get_sync_counts:
 * @commits: (out) (optional): write transactions committed since the store was opened
 * @syncs: (out) (optional): syncs of the WAL made for them: as many with
 *   `OSC_DB_SYNCHRONOUS=FULL`, fewer with `GROUP` when commits made together shared one,
 *   none with `NORMAL`
 */
void
osc_store_get_sync_counts(OscStore *self, guint64 *commits, guint64 *syncs)
{
	g_return_if_fail(OSC_IS_STORE(self));

	g_mutex_lock(&self->sync_mutex);
	if (commits != NULL)
		*commits = self->commits;
	/* with FULL, SQLite syncs once in every commit */
	if (syncs != NULL)
		*syncs = self->sync_wal || g_strcmp0(self->synchronous, "FULL") != 0
				 ? self->syncs
				 : self->commits;
	g_mutex_unlock(&self->sync_mutex);
}

/**
 * osc_store_get_sync_error:
 *
 * Returns: the errno of the failed sync after which the store refuses writes, or 0
 */
gint
osc_store_get_sync_error(OscStore *self)
{
	g_return_val_if_fail(OSC_IS_STORE(self), 0);

	return g_atomic_int_get(&self->sync_errno);
}

/**
 * osc_store_close:
 *
 * Closes every connection, waiting for calls in progress on other threads to finish.
 * Later calls fail with %OSC_ERROR_UNAVAILABLE. Safe to call more than once.
 */
void
osc_store_close(OscStore *self)
{
	g_autoptr(GPtrArray) idle = NULL;

	g_return_if_fail(OSC_IS_STORE(self));

	g_mutex_lock(&self->pool_mutex);
	self->closed = TRUE;
	idle = g_steal_pointer(&self->idle);
	self->idle = g_ptr_array_new_with_free_func((GDestroyNotify)osc_store_conn_free);
	while (self->n_busy > 0)
		g_cond_wait(&self->pool_cond, &self->pool_mutex);
	/* nobody holds it: osc_store_acquire_writer() counts itself busy before using it */
	g_clear_pointer(&self->write_conn, osc_store_conn_free);
	g_mutex_unlock(&self->pool_mutex);
	/* a read still finishing keeps nothing (its generation is older), and nothing is
	 * served from memory once the store is closed */
	g_mutex_lock(&self->cache_mutex);
	self->cache_generation++;
	g_hash_table_remove_all(self->cache);
	g_mutex_unlock(&self->cache_mutex);
}

static void
osc_store_finalize(GObject *object)
{
	OscStore *self = OSC_STORE(object);

	osc_store_close(self);
	g_clear_pointer(&self->idle, g_ptr_array_unref);
	g_free(self->path);
	g_free(self->wal_path);
	g_free(self->node_id);
	g_mutex_clear(&self->pool_mutex);
	g_cond_clear(&self->pool_cond);
	g_mutex_clear(&self->write_mutex);
	g_mutex_clear(&self->sync_mutex);
	g_cond_clear(&self->sync_cond);
	if (self->wal_fd >= 0)
		g_close(self->wal_fd, NULL);
	g_mutex_clear(&self->settings_mutex);
	g_mutex_clear(&self->hlc_mutex);
	g_clear_pointer(&self->cache, g_hash_table_unref);
	g_mutex_clear(&self->cache_mutex);

	G_OBJECT_CLASS(osc_store_parent_class)->finalize(object);
}

static void
osc_store_class_init(OscStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = osc_store_finalize;
}

static void
osc_store_init(OscStore *self)
{
	self->synchronous = "FULL";
	self->versions_kept = OSC_STORE_VERSIONS_KEPT_DEFAULT;
	self->idle = g_ptr_array_new_with_free_func((GDestroyNotify)osc_store_conn_free);
	g_mutex_init(&self->pool_mutex);
	g_cond_init(&self->pool_cond);
	g_mutex_init(&self->write_mutex);
	g_mutex_init(&self->sync_mutex);
	g_cond_init(&self->sync_cond);
	self->sync_func = osc_store_sync_wal;
	self->wal_fd = -1;
	g_mutex_init(&self->settings_mutex);
	g_mutex_init(&self->hlc_mutex);
	self->hlc_clock = osc_store_default_clock;
	g_mutex_init(&self->cache_mutex);
	self->cache = g_hash_table_new_full(osc_row_cache_item_hash, osc_row_cache_item_equal,
					    (GDestroyNotify)osc_row_cache_item_free, NULL);
}

/* one row of an import, inside the caller's transaction */
static gboolean
osc_store_conn_import_one(OscStore *self, OscStoreConn *conn, OscStoreImportOp *op,
			  const gchar *now, OscStoreOverwriteFunc may_overwrite, gpointer user_data,
			  GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(OscEntryRow) existing =
		osc_store_conn_get(conn, op->key, op->environment, &error_local);
	g_autoptr(OscEntryRow) row = NULL;

	if (existing == NULL && !g_error_matches(error_local, OSC_ERROR, OSC_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (existing != NULL) {
		gchar *reason = NULL;

		if (may_overwrite == NULL) {
			op->result = OSC_STORE_IMPORT_SKIPPED;
			return TRUE;
		}
		if (!may_overwrite(existing, user_data, &reason)) {
			op->result = OSC_STORE_IMPORT_FAILED;
			op->error = reason;
			return TRUE;
		}
		/* a category of NULL keeps the existing one */
		if (!osc_store_conn_write_update(self, conn, existing, op->category != NULL,
						 op->category, op->token, op->fingerprint, now,
						 error))
			return FALSE;
		row = g_steal_pointer(&existing);
		op->result = OSC_STORE_IMPORT_OVERWRITTEN;
		op->row = g_steal_pointer(&row);
		return TRUE;
	}

	if (op->update_only) {
		op->result = OSC_STORE_IMPORT_SKIPPED;
		return TRUE;
	}
	row = g_new0(OscEntryRow, 1);
	row->key = g_strdup(op->key);
	row->environment = g_strdup(op->environment);
	row->category = g_strdup(op->category);
	row->token = g_strdup(op->token);
	row->fingerprint = g_strdup(op->fingerprint);
	row->created_at = g_strdup(now);
	row->updated_at = g_strdup(now);
	if (!osc_store_conn_write_insert(self, conn, row, error))
		return FALSE;
	op->result = OSC_STORE_IMPORT_CREATED;
	op->row = g_steal_pointer(&row);
	return TRUE;
}

/**
 * osc_store_import:
 * @ops: (array length=n_ops): the rows to write; a (key, environment) pair may repeat, the
 *   later one then meets the earlier one as an existing row
 * @may_overwrite: (nullable): decides for each row that already exists; %NULL skips them all
 *
 * Writes every op in ONE transaction: either all results stand, or (on a database error)
 * nothing changed and every op is left untouched. A failed sync to disk is the exception:
 * the transaction was committed but may not survive a crash, and the error says so
 * (osc_store_get_sync_error()).
 */
/**
 * osc_store_import_stream:
 * @next: called for each operation in turn, inside the transaction
 * @done: called with each operation's result; it owns @op->row and @op->error from then on
 *
 * osc_store_import() without the array: a 100,000-entry import never holds all its
 * operations at once. One transaction: when this returns %FALSE nothing was written, and
 * the results already given to @done are void. A failed sync to disk is the exception:
 * the transaction was committed but may not survive a crash, and the error says so
 * (osc_store_get_sync_error()).
 */
gboolean
osc_store_import_stream(OscStore *self,
			OscStoreImportNextFunc next,
			OscStoreImportDoneFunc done,
			gpointer stream_data,
			OscStoreOverwriteFunc may_overwrite,
			gpointer user_data,
			GError **error)
{
	g_autofree gchar *now = osc_timestamp_now_db();
	OscStoreConn *conn;

	g_return_val_if_fail(OSC_IS_STORE(self), FALSE);
	g_return_val_if_fail(next != NULL && done != NULL, FALSE);

	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return FALSE;
	if (!osc_store_begin(self, conn, error)) {
		osc_store_release_writer(self, conn, NULL);
		return FALSE;
	}
	for (;;) {
		OscStoreImportOp op = {0};

		g_autoptr(GError) error_next = NULL;

		if (!next(&op, stream_data, &error_next)) {
			if (error_next == NULL)
				break;
			osc_store_rollback(conn);
			osc_store_release_writer(self, conn, NULL);
			g_propagate_error(error, g_steal_pointer(&error_next));
			return FALSE;
		}
		if (!osc_store_conn_import_one(self, conn, &op, now, may_overwrite, user_data,
					       error)) {
			g_clear_pointer(&op.row, osc_entry_row_free);
			g_clear_pointer(&op.error, g_free);
			osc_store_rollback(conn);
			osc_store_release_writer(self, conn, NULL);
			g_prefix_error(error, "import failed, nothing changed: ");
			return FALSE;
		}
		done(&op, stream_data);
	}
	if (!osc_store_commit(conn, error)) {
		osc_store_release_writer(self, conn, NULL);
		return FALSE;
	}
	if (!osc_store_release_writer(self, conn, error))
		return FALSE;
	return TRUE;
}

typedef struct {
	OscStoreImportOp *ops;
	guint n_ops;
	guint next;
	guint done;
} OscStoreImportArray;

static gboolean
osc_store_import_array_next_cb(OscStoreImportOp *op, gpointer user_data, GError **error)
{
	OscStoreImportArray *a = user_data;

	if (a->next >= a->n_ops)
		return FALSE;
	*op = a->ops[a->next++];
	op->row = NULL;
	op->error = NULL;
	return TRUE;
}

static void
osc_store_import_array_done_cb(OscStoreImportOp *op, gpointer user_data)
{
	OscStoreImportArray *a = user_data;

	a->ops[a->done++] = *op;
}

/**
 * osc_store_import:
 * @ops: (array length=n_ops): the operations; their results are filled in
 *
 * One transaction over all @ops. When this returns %FALSE nothing was written and every
 * result is %OSC_STORE_IMPORT_FAILED without a row. A failed sync to disk is the exception:
 * the transaction was committed but may not survive a crash, and the error says so
 * (osc_store_get_sync_error()).
 */
gboolean
osc_store_import(OscStore *self, OscStoreImportOp *ops, guint n_ops,
		 OscStoreOverwriteFunc may_overwrite, gpointer user_data, GError **error)
{
	OscStoreImportArray a = {ops, n_ops, 0, 0};

	g_return_val_if_fail(ops != NULL || n_ops == 0, FALSE);

	if (!osc_store_import_stream(self, osc_store_import_array_next_cb,
				     osc_store_import_array_done_cb, &a, may_overwrite, user_data,
				     error)) {
		/* nothing was written: drop the results so far */
		for (guint j = 0; j < a.done; j++) {
			g_clear_pointer(&ops[j].row, osc_entry_row_free);
			g_clear_pointer(&ops[j].error, g_free);
		}
		for (guint j = 0; j < n_ops; j++)
			ops[j].result = OSC_STORE_IMPORT_FAILED;
		return FALSE;
	}
	return TRUE;
}

/* ---- replication ---- */

/* one remote row, inside the caller's transaction: last-writer-wins by (HLC, origin) */
static gboolean
osc_store_conn_apply_one(OscStore *self, OscStoreConn *conn, OscStoreApplyOp *op, const gchar *now,
			 GError **error)
{
	const OscReplRow *in = op->in;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(OscEntryRow) local = NULL;
	g_autoptr(OscReplRow) tomb = NULL;
	const gchar *lh = NULL;
	const gchar *lo = NULL;

	op->result = OSC_STORE_APPLIED_NONE;
	local = osc_store_conn_get(conn, in->key, in->environment, &error_local);
	if (local == NULL && !g_error_matches(error_local, OSC_ERROR, OSC_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	g_clear_error(&error_local);
	tomb = osc_store_conn_tomb_get(conn, in->key, in->environment, &error_local);
	if (tomb == NULL && error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (local != NULL) {
		lh = local->hlc != NULL ? local->hlc : "";
		lo = local->origin != NULL ? local->origin : "";
	}
	if (tomb != NULL &&
	    (lh == NULL || osc_store_stamp_compare(tomb->hlc, tomb->origin, lh, lo) > 0)) {
		lh = tomb->hlc;
		lo = tomb->origin;
	}
	/* as new or older than what we have (a replay, or the loser of a conflict) */
	if (lh != NULL && osc_store_stamp_compare(in->hlc, in->origin, lh, lo) <= 0)
		return TRUE;

	if (in->deleted) {
		if (local != NULL) {
			gint64 next_version = 0;
			g_autoptr(OscStoreStmt) stmt = NULL;

			if (!osc_store_conn_supersede(self, conn, local, now, TRUE, &next_version,
						      error))
				return FALSE;
			stmt = osc_store_conn_stmt(conn, OSC_STORE_STMT_DELETE, error);
			if (stmt == NULL)
				return FALSE;
			sqlite3_bind_int64(stmt, 1, local->id);
			if (!osc_store_conn_step_done(conn, stmt, error))
				return FALSE;
			op->result = OSC_STORE_APPLIED_DELETED;
			op->row = g_steal_pointer(&local);
		} else {
			op->result = OSC_STORE_APPLIED_TOMBSTONE;
		}
		return osc_store_conn_tomb_put(
			conn, in->key, in->environment, in->category, in->hlc, in->origin,
			in->updated_at != NULL ? in->updated_at : now, error);
	}

	if (local != NULL) {
		if (!osc_store_conn_write_update_as(self, conn, local, TRUE, in->category,
						    in->token, in->fingerprint, now, in, error))
			return FALSE;
		op->result = OSC_STORE_APPLIED_UPDATED;
		op->row = g_steal_pointer(&local);
	} else {
		g_autoptr(OscEntryRow) row = g_new0(OscEntryRow, 1);

		row->key = g_strdup(in->key);
		row->environment = g_strdup(in->environment);
		row->category = g_strdup(in->category);
		row->token = g_strdup(in->token);
		row->fingerprint = g_strdup(in->fingerprint);
		row->created_at = g_strdup(in->created_at != NULL ? in->created_at : now);
		row->updated_at = g_strdup(row->created_at);
		if (!osc_store_conn_write_insert_as(self, conn, row, in, error))
			return FALSE;
		op->result = OSC_STORE_APPLIED_CREATED;
		op->row = g_steal_pointer(&row);
	}
	return TRUE;
}

static gboolean
osc_store_repl_row_valid(const OscReplRow *in, GError **error)
{
	if (in->key == NULL || in->environment == NULL || in->hlc == NULL || in->origin == NULL ||
	    !osc_store_hlc_decode(in->hlc, NULL, NULL) || (!in->deleted && in->token == NULL)) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "replicated row '%s' is incomplete or has an invalid stamp",
			    in->key != NULL ? in->key : "");
		return FALSE;
	}
	return TRUE;
}

/**
 * osc_store_apply_remote:
 * @ops: (array length=n_ops): the remote rows and, on return, what each did
 *
 * Merges rows from another node in ONE transaction. Each row replaces the local state of its
 * pair (live row or tombstone) only when its (HLC, origin) stamp is newer
 * (osc_store_stamp_compare()), so applying the same rows in any order, any number of times,
 * on any node ends in the same state; a tombstone keeps an older write from bringing a
 * deleted entry back. The clock observes every stamp (osc_store_hlc_observe()). On error
 * nothing changed. A failed sync to disk is the exception:
 * the transaction was committed but may not survive a crash, and the error says so
 * (osc_store_get_sync_error()).
 */
gboolean
osc_store_apply_remote(OscStore *self, OscStoreApplyOp *ops, guint n_ops, GError **error)
{
	g_autofree gchar *now = osc_timestamp_now_db();
	OscStoreConn *conn;

	g_return_val_if_fail(OSC_IS_STORE(self), FALSE);
	g_return_val_if_fail(ops != NULL || n_ops == 0, FALSE);

	for (guint i = 0; i < n_ops; i++) {
		if (!osc_store_repl_row_valid(ops[i].in, error))
			return FALSE;
		osc_store_hlc_observe(self, ops[i].in->hlc);
	}
	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return FALSE;
	if (!osc_store_begin(self, conn, error)) {
		osc_store_release_writer(self, conn, NULL);
		return FALSE;
	}
	for (guint i = 0; i < n_ops; i++) {
		if (!osc_store_conn_apply_one(self, conn, &ops[i], now, error)) {
			osc_store_rollback(conn);
			osc_store_release_writer(self, conn, NULL);
			for (guint j = 0; j <= i; j++) {
				g_clear_pointer(&ops[j].row, osc_entry_row_free);
				ops[j].result = OSC_STORE_APPLIED_NONE;
			}
			g_prefix_error(error, "failed to apply replicated rows: ");
			return FALSE;
		}
	}
	if (!osc_store_commit(conn, error)) {
		osc_store_release_writer(self, conn, NULL);
		for (guint j = 0; j < n_ops; j++) {
			g_clear_pointer(&ops[j].row, osc_entry_row_free);
			ops[j].result = OSC_STORE_APPLIED_NONE;
		}
		return FALSE;
	}
	if (!osc_store_release_writer(self, conn, error)) {
		for (guint j = 0; j < n_ops; j++) {
			g_clear_pointer(&ops[j].row, osc_entry_row_free);
			ops[j].result = OSC_STORE_APPLIED_NONE;
		}
		return FALSE;
	}
	return TRUE;
}

/**
 * osc_store_repl_list:
 * @environment: (nullable): one environment, or %NULL for all
 * @with_tokens: include the tokens of live rows
 *
 * Lists live rows and tombstones in one snapshot, ordered by environment then key (code
 * point order). Unstamped rows list with hlc "".
 *
 * Returns: (transfer container) (element-type OscReplRow): the rows, or %NULL
 */
GPtrArray *
osc_store_repl_list(OscStore *self, const gchar *environment, gboolean with_tokens, GError **error)
{
	OscStoreConn *conn;
	g_autoptr(GPtrArray) rows = NULL;
	gint rc;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	{
		g_autoptr(OscStoreStmt) stmt =
			osc_store_conn_stmt(conn, OSC_STORE_STMT_REPL_LIST, error);
		if (stmt != NULL) {
			osc_store_bind_text(stmt, 1, environment);
			sqlite3_bind_int(stmt, 2, with_tokens ? 1 : 0);
			rows = g_ptr_array_new_with_free_func((GDestroyNotify)osc_repl_row_free);
			while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
				OscReplRow *r = g_new0(OscReplRow, 1);
				r->key = osc_store_column_text(stmt, 0);
				r->environment = osc_store_column_text(stmt, 1);
				r->category = osc_store_column_text(stmt, 2);
				r->token = osc_store_column_text(stmt, 3);
				r->fingerprint = osc_store_column_text(stmt, 4);
				r->created_at = osc_store_column_text(stmt, 5);
				r->updated_at = osc_store_column_text(stmt, 6);
				r->hlc = osc_store_column_text(stmt, 7);
				r->origin = osc_store_column_text(stmt, 8);
				r->deleted = sqlite3_column_int(stmt, 9) != 0;
				g_ptr_array_add(rows, r);
			}
			if (rc != SQLITE_DONE) {
				osc_store_set_sqlite_error(conn->db, rc, error);
				g_clear_pointer(&rows, g_ptr_array_unref);
			}
		}
	}
	osc_store_release(self, conn);
	return g_steal_pointer(&rows);
}

/* runs one constant write statement in its own transaction; returns the changed rows */
static gint64
osc_store_write_exec(OscStore *self, const gchar *sql, const gchar *text, GError **error)
{
	OscStoreConn *conn = osc_store_acquire_writer(self, error);
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint64 changed = -1;
	gint rc;

	if (conn == NULL)
		return -1;
	if (!osc_store_begin(self, conn, error)) {
		osc_store_release_writer(self, conn, NULL);
		return -1;
	}
	rc = sqlite3_prepare_v2(conn->db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		if (text != NULL)
			osc_store_bind_text(stmt, 1, text);
		rc = sqlite3_step(stmt);
	}
	if (rc != SQLITE_DONE) {
		osc_store_set_sqlite_error(conn->db, rc, error);
		g_clear_pointer(&stmt, sqlite3_finalize);
		osc_store_rollback(conn);
		osc_store_release_writer(self, conn, NULL);
		return -1;
	}
	changed = sqlite3_changes64(conn->db);
	g_clear_pointer(&stmt, sqlite3_finalize);
	if (!osc_store_commit(conn, error))
		changed = -1;
	if (!osc_store_release_writer(self, conn, changed >= 0 ? error : NULL))
		changed = -1;
	return changed;
}

/**
 * osc_store_prune_tombstones:
 * @older_than_ms: drop tombstones whose stamp's physical time is below this
 *
 * Returns: the number of tombstones dropped, or -1 on error
 */
gint64
osc_store_prune_tombstones(OscStore *self, gint64 older_than_ms, GError **error)
{
	g_autofree gchar *limit = NULL;

	g_return_val_if_fail(OSC_IS_STORE(self), -1);

	limit = osc_store_hlc_encode(MAX(older_than_ms, 0), 0);
	return osc_store_write_exec(self, "DELETE FROM osc_tombstones WHERE hlc < ?1", limit,
				    error);
}

/**
 * osc_store_stamp_unstamped:
 *
 * Stamps rows that have no HLC stamp yet (written before schema 3 or by the original) as
 * local writes of this node (osc_store_set_node_id()), so they replicate and compare like
 * any other write.
 *
 * Returns: the number of rows stamped, or -1 on error
 */
gint64
osc_store_stamp_unstamped(OscStore *self, GError **error)
{
	OscStoreConn *conn;
	g_autoptr(GPtrArray) rows = NULL;
	gint64 n = 0;

	g_return_val_if_fail(OSC_IS_STORE(self), -1);

	conn = osc_store_acquire_writer(self, error);
	if (conn == NULL)
		return -1;
	if (!osc_store_begin(self, conn, error)) {
		osc_store_release_writer(self, conn, NULL);
		return -1;
	}
	rows = osc_store_conn_list(conn, NULL, NULL, error);
	for (guint i = 0; rows != NULL && i < rows->len; i++) {
		OscEntryRow *row = g_ptr_array_index(rows, i);
		if (row->hlc != NULL)
			continue;
		if (!osc_store_conn_stamp(self, conn, row, NULL, error)) {
			g_clear_pointer(&rows, g_ptr_array_unref);
			break;
		}
		n++;
	}
	if (rows == NULL) {
		osc_store_rollback(conn);
		osc_store_release_writer(self, conn, NULL);
		return -1;
	}
	if (!osc_store_commit(conn, error))
		n = -1;
	if (!osc_store_release_writer(self, conn, n >= 0 ? error : NULL))
		n = -1;
	return n;
}

/**
 * osc_store_repl_get:
 *
 * Returns: (transfer full) (nullable): the live row (with its token) or the tombstone of
 *   the pair; %NULL without error when the store knows nothing of it
 */
OscReplRow *
osc_store_repl_get(OscStore *self, const gchar *key, const gchar *environment, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	OscStoreConn *conn;
	OscReplRow *r = NULL;

	g_return_val_if_fail(OSC_IS_STORE(self), NULL);

	conn = osc_store_acquire(self, error);
	if (conn == NULL)
		return NULL;
	row = osc_store_conn_get(conn, key, environment, &error_local);
	if (row != NULL) {
		r = g_new0(OscReplRow, 1);
		r->key = g_steal_pointer(&row->key);
		r->environment = g_steal_pointer(&row->environment);
		r->category = g_steal_pointer(&row->category);
		r->token = g_steal_pointer(&row->token);
		r->fingerprint = g_steal_pointer(&row->fingerprint);
		r->created_at = g_steal_pointer(&row->created_at);
		r->updated_at = g_steal_pointer(&row->updated_at);
		r->hlc = row->hlc != NULL ? g_steal_pointer(&row->hlc) : g_strdup("");
		r->origin = row->origin != NULL ? g_steal_pointer(&row->origin) : g_strdup("");
	} else if (g_error_matches(error_local, OSC_ERROR, OSC_ERROR_NOT_FOUND)) {
		g_clear_error(&error_local);
		r = osc_store_conn_tomb_get(conn, key, environment, &error_local);
		if (error_local != NULL)
			g_propagate_error(error, g_steal_pointer(&error_local));
	} else {
		g_propagate_error(error, g_steal_pointer(&error_local));
	}
	osc_store_release(self, conn);
	return r;
}
