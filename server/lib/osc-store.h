/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Newest schema version this build writes; see the changelog in osc-store.c. */
#define OSC_STORE_SCHEMA_VERSION 3

/* what was read from the store is trusted this long at most: another process may write
 * the same file (osc_store_get_cached(), osc_store_get_generation()) */
#define OSC_STORE_CACHE_TTL_US (1 * G_USEC_PER_SEC)

/* old versions kept per (key, environment) until osc_store_set_versions_kept() */
#define OSC_STORE_VERSIONS_KEPT_DEFAULT 10

/**
 * OscEntryRow:
 * @id: SQLite row id (never reused, unlike the original)
 * @key: the entry key
 * @environment: the environment
 * @category: (nullable): the category
 * @token: the Fernet token (`encrypted_value`)
 * @fingerprint: (nullable): fingerprint of the derived key that wrote @token; %NULL for rows
 *   written by the original until their first successful decrypt
 * @created_at: SQLite timestamp text, `YYYY-MM-DD HH:MM:SS.ffffff` UTC
 * @updated_at: same format
 * @version: per-entry version, 1 at creation and +1 on every update
 * @revision: store-wide modification counter at this row's last change (the ETag)
 * @hlc: (nullable): hybrid logical clock stamp of the row's last write
 *   (osc_store_hlc_encode()); %NULL for rows no writer of ours stamped yet
 * @origin: (nullable): the node id of the row's last writer
 *
 * One row of `configurations`, as stored. Plaintext never appears here.
 */
typedef struct {
	gint64 id;
	gchar *key;
	gchar *environment;
	gchar *category;
	gchar *token;
	gchar *fingerprint;
	gchar *created_at;
	gchar *updated_at;
	gint64 version;
	gint64 revision;
	gchar *hlc;
	gchar *origin;
} OscEntryRow;

#define OSC_TYPE_ENTRY_ROW (osc_entry_row_get_type())
GType
osc_entry_row_get_type(void);
OscEntryRow *
osc_entry_row_copy(const OscEntryRow *self);
void
osc_entry_row_free(OscEntryRow *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscEntryRow, osc_entry_row_free)

/**
 * OscEntryVersion:
 * @key: the entry key
 * @environment: the environment
 * @version: the per-entry version number; never repeats for a (@key, @environment) pair,
 *   not even across a delete and re-create
 * @token: the Fernet token of this version (`encrypted_value`)
 * @fingerprint: (nullable): fingerprint of the derived key that wrote @token
 * @category: (nullable): the category this version had
 * @created_at: when this version was written (SQLite timestamp text, UTC)
 * @superseded_at: (nullable): when a later write or a delete replaced it; %NULL for the live
 *   row
 * @node_id: (nullable): the node that replaced this version (osc_store_set_node_id()); %NULL
 *   for the live row and when no node id was set
 * @deleted: %TRUE when the entry was deleted right after this version
 * @current: %TRUE for the live row of `configurations`, %FALSE for a kept old version
 *
 * One version of an entry, as stored. Plaintext never appears here.
 */
typedef struct {
	gchar *key;
	gchar *environment;
	gint64 version;
	gchar *token;
	gchar *fingerprint;
	gchar *category;
	gchar *created_at;
	gchar *superseded_at;
	gchar *node_id;
	gboolean deleted;
	gboolean current;
} OscEntryVersion;

#define OSC_TYPE_ENTRY_VERSION (osc_entry_version_get_type())
GType
osc_entry_version_get_type(void);
OscEntryVersion *
osc_entry_version_copy(const OscEntryVersion *self);
void
osc_entry_version_free(OscEntryVersion *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscEntryVersion, osc_entry_version_free)

/**
 * OscStoreCount:
 * @name: (nullable): the category or environment; %NULL for rows without a category
 * @count: the number of rows
 * @category: (nullable): the category, in osc_store_count_by_environment_category()
 *
 * One group of osc_store_count_by().
 */
typedef struct {
	gchar *name;
	gint64 count;
	gchar *category; /* osc_store_count_by_environment_category() only */
} OscStoreCount;

void
osc_store_count_free(OscStoreCount *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscStoreCount, osc_store_count_free)

#define OSC_TYPE_STORE (osc_store_get_type())
G_DECLARE_FINAL_TYPE(OscStore, osc_store, OSC, STORE, GObject)

OscStore *
osc_store_new(const gchar *path, GError **error);
const gchar *
osc_store_get_path(OscStore *self);
gint
osc_store_get_schema_version(OscStore *self, GError **error);

void
osc_store_set_versions_kept(OscStore *self, guint versions_kept);
guint
osc_store_get_versions_kept(OscStore *self);
void
osc_store_set_node_id(OscStore *self, const gchar *node_id);

gchar *
osc_store_get_meta(OscStore *self, const gchar *name, GError **error);
gboolean
osc_store_set_meta(OscStore *self, const gchar *name, const gchar *value, GError **error);

OscEntryRow *
osc_store_get(OscStore *self, const gchar *key, const gchar *environment, GError **error);
OscEntryRow *
osc_store_get_cached(OscStore *self, const gchar *key, const gchar *environment);
guint64
osc_store_get_generation(OscStore *self);
OscEntryRow *
osc_store_insert(OscStore *self,
		 const gchar *key,
		 const gchar *environment,
		 const gchar *category,
		 const gchar *token,
		 const gchar *fingerprint,
		 GError **error);
OscEntryRow *
osc_store_update(OscStore *self,
		 const gchar *key,
		 const gchar *environment,
		 gboolean set_category,
		 const gchar *category,
		 const gchar *token,
		 const gchar *fingerprint,
		 gint64 expected_revision,
		 GError **error);
gboolean
osc_store_delete(OscStore *self,
		 const gchar *key,
		 const gchar *environment,
		 gint64 expected_revision,
		 GError **error);
GPtrArray *
osc_store_list_versions(OscStore *self,
			const gchar *key,
			const gchar *environment,
			GError **error);
OscEntryVersion *
osc_store_get_version(OscStore *self,
		      const gchar *key,
		      const gchar *environment,
		      gint64 version,
		      GError **error);
OscEntryRow *
osc_store_restore_version(OscStore *self,
			  const gchar *key,
			  const gchar *environment,
			  gint64 version,
			  const gchar *token,
			  const gchar *fingerprint,
			  gint64 expected_revision,
			  GError **error);
gboolean
osc_store_set_fingerprint(OscStore *self, gint64 id, const gchar *fingerprint, GError **error);
GPtrArray *
osc_store_list(OscStore *self, const gchar *category, const gchar *environment, GError **error);
/* @row is borrowed for the call and must not be modified; return FALSE to stop early */
typedef gboolean (*OscStoreRowFunc)(OscEntryRow *row, gpointer user_data);
gboolean
osc_store_foreach(OscStore *self,
		  const gchar *category,
		  const gchar *environment,
		  OscStoreRowFunc func,
		  gpointer user_data,
		  GError **error);
gint64
osc_store_count(OscStore *self, const gchar *category, const gchar *environment, GError **error);
GPtrArray *
osc_store_list_environments(OscStore *self, GError **error);
GPtrArray *
osc_store_list_categories(OscStore *self, GError **error);
GPtrArray *
osc_store_count_by(OscStore *self, const gchar *column, GError **error);
GPtrArray *
osc_store_count_by_environment_category(OscStore *self, GError **error);
typedef enum {
	OSC_STORE_IMPORT_CREATED,
	OSC_STORE_IMPORT_OVERWRITTEN,
	OSC_STORE_IMPORT_SKIPPED,
	OSC_STORE_IMPORT_FAILED,
} OscStoreImportResult;

/**
 * OscStoreImportOp:
 * @key, @environment, @category, @token, @fingerprint: what to write (borrowed)
 * @result: (out): what happened
 * @row: (out) (transfer full) (nullable): the row written, for CREATED and OVERWRITTEN
 * @error: (out) (transfer full) (nullable): why, for FAILED
 */
typedef struct {
	const gchar *key;
	const gchar *environment;
	const gchar *category;
	const gchar *token;
	const gchar *fingerprint;
	gboolean update_only; /* a missing row is SKIPPED, never created (re-key) */
	OscStoreImportResult result;
	OscEntryRow *row;
	gchar *error;
} OscStoreImportOp;

/* may @existing be overwritten? If not, set *reason */
typedef gboolean (*OscStoreOverwriteFunc)(OscEntryRow *existing, gpointer user_data, gchar **reason);

gboolean
osc_store_delete_checked(OscStore *self,
			 const gchar *key,
			 const gchar *environment,
			 OscStoreOverwriteFunc check,
			 gpointer user_data,
			 OscEntryRow **deleted,
			 GError **error);
gboolean
osc_store_import(OscStore *self,
		 OscStoreImportOp *ops,
		 guint n_ops,
		 OscStoreOverwriteFunc may_overwrite,
		 gpointer user_data,
		 GError **error);
/* fills @op with the next operation; FALSE when there is none left, or with @error set to
 * abandon the whole import (nothing is written) */
typedef gboolean (*OscStoreImportNextFunc)(OscStoreImportOp *op, gpointer user_data,
					   GError **error);
/* @op's result is known (final once the import returns TRUE); takes @op->row and @op->error */
typedef void (*OscStoreImportDoneFunc)(OscStoreImportOp *op, gpointer user_data);
gboolean
osc_store_import_stream(OscStore *self,
			OscStoreImportNextFunc next,
			OscStoreImportDoneFunc done,
			gpointer stream_data,
			OscStoreOverwriteFunc may_overwrite,
			gpointer user_data,
			GError **error);
/* returns the token re-encrypted, or %NULL with an error */
typedef gchar *(*OscStoreRekeyFunc)(const gchar *token, gpointer user_data, GError **error);
gboolean
osc_store_rekey_versions(OscStore *self,
			 const gchar *old_fingerprint,
			 const gchar *new_fingerprint,
			 OscStoreRekeyFunc func,
			 gpointer user_data,
			 guint *count,
			 GError **error);
gboolean
osc_store_checkpoint(OscStore *self, GError **error);

/* makes every commit written so far durable; 0 or an errno value */
typedef gint (*OscStoreSyncFunc)(OscStore *store, gpointer user_data);
void
osc_store_set_sync_func(OscStore *self, OscStoreSyncFunc func, gpointer user_data);
void
osc_store_get_sync_counts(OscStore *self, guint64 *commits, guint64 *syncs);
gint
osc_store_get_sync_error(OscStore *self);

/* ---- replication (REPLICA clustering, see osc-cluster.c) ---- */

/* an HLC stamp is 20 lowercase hex digits: 12 of milliseconds, 8 of logical counter, so
 * that text order is time order */
#define OSC_HLC_LEN 20

gchar *
osc_store_hlc_encode(gint64 ms, guint32 count);
gboolean
osc_store_hlc_decode(const gchar *text, gint64 *ms, guint32 *count);
gint
osc_store_stamp_compare(const gchar *hlc_a,
			const gchar *origin_a,
			const gchar *hlc_b,
			const gchar *origin_b);
gchar *
osc_store_hlc_now(OscStore *self);
void
osc_store_hlc_observe(OscStore *self, const gchar *remote);
void
osc_store_hlc_set_clock(OscStore *self, gint64 (*clock_ms)(void));

/**
 * OscReplRow:
 * @key, @environment: the pair
 * @category: (nullable): the category
 * @token: (nullable): the stored Fernet token; %NULL for a tombstone or a listing without
 *   tokens
 * @fingerprint: (nullable): the key fingerprint of @token
 * @created_at: (nullable): SQLite timestamp text; %NULL for tombstones
 * @updated_at: the last write (for a tombstone: the delete), SQLite timestamp text
 * @hlc: the stamp of the last write ("" for an unstamped row)
 * @origin: the node that made it ("" when unknown)
 * @deleted: %TRUE for a tombstone
 *
 * A row as it travels between nodes: ciphertext and metadata, never plaintext.
 */
typedef struct {
	gchar *key;
	gchar *environment;
	gchar *category;
	gchar *token;
	gchar *fingerprint;
	gchar *created_at;
	gchar *updated_at;
	gchar *hlc;
	gchar *origin;
	gboolean deleted;
} OscReplRow;

void
osc_repl_row_free(OscReplRow *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscReplRow, osc_repl_row_free)

typedef enum {
	OSC_STORE_APPLIED_NONE,	   /* the local state is as new or newer: nothing changed */
	OSC_STORE_APPLIED_CREATED, /* a live row appeared */
	OSC_STORE_APPLIED_UPDATED, /* a live row changed */
	OSC_STORE_APPLIED_DELETED, /* a live row was deleted */
	OSC_STORE_APPLIED_TOMBSTONE, /* only a tombstone was recorded or moved */
} OscStoreApplied;

/**
 * OscStoreApplyOp:
 * @in: the remote row (borrowed)
 * @result: (out): what happened
 * @row: (out) (transfer full) (nullable): the live row after the change, or as it was
 *   before a delete
 */
typedef struct {
	const OscReplRow *in;
	OscStoreApplied result;
	OscEntryRow *row;
} OscStoreApplyOp;

gboolean
osc_store_apply_remote(OscStore *self, OscStoreApplyOp *ops, guint n_ops, GError **error);
GPtrArray *
osc_store_repl_list(OscStore *self,
		    const gchar *environment,
		    gboolean with_tokens,
		    GError **error);
OscReplRow *
osc_store_repl_get(OscStore *self,
		   const gchar *key,
		   const gchar *environment,
		   GError **error);
gint64
osc_store_prune_tombstones(OscStore *self, gint64 older_than_ms, GError **error);
gint64
osc_store_stamp_unstamped(OscStore *self, GError **error);
void
osc_store_close(OscStore *self);

G_END_DECLS
