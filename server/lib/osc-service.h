/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "osc-config.h"
#include "osc-key-cache.h"
#include "osc-metrics.h"
#include "osc-store.h"

G_BEGIN_DECLS

typedef enum {
	OSC_CHANGE_CREATED,
	OSC_CHANGE_UPDATED,
	OSC_CHANGE_DELETED,
	OSC_CHANGE_SYNC,
} OscChangeKind;

/**
 * OscEntry:
 * @row: the stored row
 * @value: (nullable): its decrypted value as a tree (writes, which have it anyway)
 * @value_json: (nullable): its decrypted value as compact JSON text (reads and lists, which
 *   need no tree: see osc_json_compact())
 * @kind: for entries reported as changes (imports), what happened to them
 *
 * At least one of @value and @value_json is set.
 */
typedef struct {
	OscEntryRow *row;
	JsonNode *value;
	gchar *value_json;
	OscChangeKind kind;
} OscEntry;

void
osc_entry_free(OscEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscEntry, osc_entry_free)

const gchar *
osc_change_kind_to_string(OscChangeKind kind);

#define OSC_TYPE_SERVICE (osc_service_get_type())
G_DECLARE_FINAL_TYPE(OscService, osc_service, OSC, SERVICE, GObject)

OscService *
osc_service_new(const OscConfig *config, GError **error);
gboolean
osc_service_start(OscService *self, GError **error);
void
osc_service_stop_async(OscService *self,
		       guint timeout_ms,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);
gboolean
osc_service_stop_finish(OscService *self, GAsyncResult *result, GError **error);

const OscConfig *
osc_service_get_config(OscService *self);
OscStore *
osc_service_get_store(OscService *self);
OscKeyCache *
osc_service_get_key_cache(OscService *self);
OscMetrics *
osc_service_get_metrics(OscService *self);
const gchar *
osc_service_get_node_id(OscService *self);
GPtrArray *
osc_service_get_uris(OscService *self);
guint
osc_service_get_port(OscService *self);
gint64
osc_service_get_entry_count(OscService *self);
gboolean
osc_service_get_salt_created(OscService *self);

void
osc_service_push_job(OscService *self, GFunc func, gpointer job);

/* entry operations: blocking, for worker threads (osc_service_push_job) */
OscEntry *
osc_service_entry_create(OscService *self,
			 OscDerivedKey *dk,
			 const gchar *key,
			 const gchar *environment,
			 const gchar *category,
			 JsonNode *value,
			 GError **error);
OscEntry *
osc_service_entry_read(OscService *self,
		       OscDerivedKey *dk,
		       const gchar *key,
		       const gchar *environment,
		       GError **error);
gboolean
osc_service_entry_read_cached(OscService *self,
			      OscDerivedKey *dk,
			      const gchar *key,
			      const gchar *environment,
			      OscEntry **entry,
			      GError **error);
OscEntry *
osc_service_entry_update(OscService *self,
			 OscDerivedKey *dk,
			 const gchar *key,
			 const gchar *environment,
			 gboolean set_category,
			 const gchar *category,
			 JsonNode *value,
			 GArray *if_match,
			 GError **error);
OscEntryRow *
osc_service_entry_delete(OscService *self,
			 OscDerivedKey *dk,
			 const gchar *key,
			 const gchar *environment,
			 GArray *if_match,
			 GError **error);
typedef gboolean (*OscServiceEntryFunc)(OscEntryRow *row,
				       const gchar *plaintext,
				       gsize len,
				       gpointer user_data,
				       GError **error);
gboolean
osc_service_entry_foreach(OscService *self,
			  OscDerivedKey *dk,
			  const gchar *category,
			  const gchar *environment,
			  OscServiceEntryFunc func,
			  gpointer user_data,
			  GError **error);

/* backup and import (API.md §4.12, §4.13, §7): blocking, for worker threads */
JsonNode *
osc_service_backup_full(OscService *self,
			OscDerivedKey *dk,
			const gchar *password,
			gsize password_len,
			const gchar *category,
			const gchar *environment,
			gchar **backup_data,
			GError **error);
JsonNode *
osc_service_backup(OscService *self,
		   OscDerivedKey *dk,
		   const gchar *password,
		   gsize password_len,
		   const gchar *category,
		   const gchar *environment,
		   GError **error);
JsonNode *
osc_service_import(OscService *self,
		   OscDerivedKey *dk,
		   const gchar *password,
		   gsize password_len,
		   gchar *backup_data,
		   gboolean overwrite,
		   GPtrArray **changes,
		   GError **error);

/* version history (beyond the original, like Vault KV v2): worker threads */
GPtrArray *
osc_service_entry_versions(OscService *self,
			   OscDerivedKey *dk,
			   const gchar *key,
			   const gchar *environment,
			   GError **error);
OscEntry *
osc_service_entry_read_version(OscService *self,
			       OscDerivedKey *dk,
			       const gchar *key,
			       const gchar *environment,
			       gint64 version,
			       OscEntryVersion **version_out,
			       GError **error);
OscEntry *
osc_service_entry_rollback(OscService *self,
			   OscDerivedKey *dk,
			   const gchar *key,
			   const gchar *environment,
			   gint64 version,
			   GArray *if_match,
			   gboolean *recreated,
			   GError **error);

JsonNode *
osc_service_rekey(OscService *self,
		  OscDerivedKey *old_dk,
		  OscDerivedKey *new_dk,
		  GPtrArray **changes,
		  GError **error);

/* main thread: announce a committed change (SSE, D-Bus, metrics) */
void
osc_service_notify_change(OscService *self, OscChangeKind kind, OscEntryRow *row, JsonNode *value);
void
osc_service_notify_bulk_change(OscService *self, const gchar *reason);

/* main thread: apply a configuration read again (oscd's D-Bus Reload) */
gboolean
osc_service_reload(OscService *self,
		   const OscConfig *next,
		   GStrv *applied,
		   GStrv *restart_needed,
		   GError **error);

G_END_DECLS
