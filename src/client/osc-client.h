/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#if !defined(OSC_CLIENT_INSIDE) && !defined(OSC_CLIENT_COMPILATION)
#error "Only <libosc-client.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "osc-client-export.h"
#include "osc-config-entry.h"

G_BEGIN_DECLS

#define OSC_TYPE_CLIENT (osc_client_get_type())

OSC_CLIENT_EXPORT
G_DECLARE_FINAL_TYPE(OscClient, osc_client, OSC, CLIENT, GObject)

OSC_CLIENT_EXPORT
OscClient *
osc_client_new(const gchar *base_url, const gchar *user_key, const gchar *api_key);

OSC_CLIENT_EXPORT
const gchar *
osc_client_get_base_url(OscClient *self);
OSC_CLIENT_EXPORT
void
osc_client_set_user_key(OscClient *self, const gchar *user_key);
OSC_CLIENT_EXPORT
void
osc_client_set_api_key(OscClient *self, const gchar *api_key);
OSC_CLIENT_EXPORT
guint
osc_client_get_timeout(OscClient *self);
OSC_CLIENT_EXPORT
gboolean
osc_client_get_retry_enabled(OscClient *self);
OSC_CLIENT_EXPORT
void
osc_client_set_retry_enabled(OscClient *self, gboolean retry_enabled);
OSC_CLIENT_EXPORT
guint
osc_client_get_max_retries(OscClient *self);
OSC_CLIENT_EXPORT
void
osc_client_set_max_retries(OscClient *self, guint max_retries);
OSC_CLIENT_EXPORT
gdouble
osc_client_get_backoff_factor(OscClient *self);
OSC_CLIENT_EXPORT
void
osc_client_set_backoff_factor(OscClient *self, gdouble backoff_factor);

OSC_CLIENT_EXPORT
gboolean
osc_client_ping(OscClient *self, GCancellable *cancellable, GError **error);

OSC_CLIENT_EXPORT
void
osc_client_ping_async(OscClient *self,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data);

OSC_CLIENT_EXPORT
gboolean
osc_client_ping_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_service_info(OscClient *self, GCancellable *cancellable, GError **error);

OSC_CLIENT_EXPORT
void
osc_client_get_service_info_async(OscClient *self,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_service_info_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_cluster_status(OscClient *self, GCancellable *cancellable, GError **error);

OSC_CLIENT_EXPORT
void
osc_client_get_cluster_status_async(OscClient *self,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_cluster_status_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_cluster_health(OscClient *self, GCancellable *cancellable, GError **error);

OSC_CLIENT_EXPORT
void
osc_client_get_cluster_health_async(OscClient *self,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_cluster_health_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_stats(OscClient *self, GCancellable *cancellable, GError **error);

OSC_CLIENT_EXPORT
void
osc_client_get_stats_async(OscClient *self,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_stats_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_create(OscClient *self,
		  const gchar *key,
		  const gchar *environment,
		  JsonNode *value,
		  const gchar *category,
		  GCancellable *cancellable,
		  GError **error);

OSC_CLIENT_EXPORT
void
osc_client_create_async(OscClient *self,
			const gchar *key,
			const gchar *environment,
			JsonNode *value,
			const gchar *category,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_create_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_read(OscClient *self,
		const gchar *key,
		const gchar *environment,
		gboolean full,
		GCancellable *cancellable,
		GError **error);

OSC_CLIENT_EXPORT
void
osc_client_read_async(OscClient *self,
		      const gchar *key,
		      const gchar *environment,
		      gboolean full,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_read_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_update(OscClient *self,
		  const gchar *key,
		  const gchar *environment,
		  JsonNode *value,
		  const gchar *category,
		  const gchar *if_match,
		  GCancellable *cancellable,
		  GError **error);

OSC_CLIENT_EXPORT
void
osc_client_update_async(OscClient *self,
			const gchar *key,
			const gchar *environment,
			JsonNode *value,
			const gchar *category,
			const gchar *if_match,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_update_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
gboolean
osc_client_delete(OscClient *self,
		  const gchar *key,
		  const gchar *environment,
		  const gchar *if_match,
		  GCancellable *cancellable,
		  GError **error);

OSC_CLIENT_EXPORT
void
osc_client_delete_async(OscClient *self,
			const gchar *key,
			const gchar *environment,
			const gchar *if_match,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);

OSC_CLIENT_EXPORT
gboolean
osc_client_delete_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
GPtrArray *
osc_client_list(OscClient *self,
		const gchar *category,
		const gchar *environment,
		gboolean full,
		GCancellable *cancellable,
		GError **error);

OSC_CLIENT_EXPORT
void
osc_client_list_async(OscClient *self,
		      const gchar *category,
		      const gchar *environment,
		      gboolean full,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data);

OSC_CLIENT_EXPORT
GPtrArray *
osc_client_list_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
gboolean
osc_client_exists(OscClient *self,
		  const gchar *key,
		  const gchar *environment,
		  GCancellable *cancellable,
		  GError **error);

OSC_CLIENT_EXPORT
void
osc_client_exists_async(OscClient *self,
			const gchar *key,
			const gchar *environment,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);

OSC_CLIENT_EXPORT
gboolean
osc_client_exists_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_get_or_default(OscClient *self,
			  const gchar *key,
			  const gchar *environment,
			  JsonNode *default_value,
			  GCancellable *cancellable,
			  GError **error);

OSC_CLIENT_EXPORT
void
osc_client_get_or_default_async(OscClient *self,
				const gchar *key,
				const gchar *environment,
				JsonNode *default_value,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_get_or_default_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
gint
osc_client_count(OscClient *self,
		 const gchar *category,
		 const gchar *environment,
		 GCancellable *cancellable,
		 GError **error);

OSC_CLIENT_EXPORT
void
osc_client_count_async(OscClient *self,
		       const gchar *category,
		       const gchar *environment,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);

OSC_CLIENT_EXPORT
gint
osc_client_count_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
gchar **
osc_client_list_categories(OscClient *self, GCancellable *cancellable, GError **error);

OSC_CLIENT_EXPORT
void
osc_client_list_categories_async(OscClient *self,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);

OSC_CLIENT_EXPORT
gchar **
osc_client_list_categories_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
gchar **
osc_client_list_environments(OscClient *self, GCancellable *cancellable, GError **error);

OSC_CLIENT_EXPORT
void
osc_client_list_environments_async(OscClient *self,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data);

OSC_CLIENT_EXPORT
gchar **
osc_client_list_environments_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
GPtrArray *
osc_client_bulk_create(OscClient *self,
		       GPtrArray *entries,
		       gboolean ignore_errors,
		       GCancellable *cancellable,
		       GError **error);

OSC_CLIENT_EXPORT
void
osc_client_bulk_create_async(OscClient *self,
			     GPtrArray *entries,
			     gboolean ignore_errors,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);

OSC_CLIENT_EXPORT
GPtrArray *
osc_client_bulk_create_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
GPtrArray *
osc_client_bulk_read(OscClient *self,
		     GPtrArray *items,
		     gboolean ignore_errors,
		     GCancellable *cancellable,
		     GError **error);

OSC_CLIENT_EXPORT
void
osc_client_bulk_read_async(OscClient *self,
			   GPtrArray *items,
			   gboolean ignore_errors,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);

OSC_CLIENT_EXPORT
GPtrArray *
osc_client_bulk_read_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_bulk_delete(OscClient *self,
		       GPtrArray *items,
		       gboolean ignore_errors,
		       GCancellable *cancellable,
		       GError **error);

OSC_CLIENT_EXPORT
void
osc_client_bulk_delete_async(OscClient *self,
			     GPtrArray *items,
			     gboolean ignore_errors,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_bulk_delete_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_backup(OscClient *self,
		  const gchar *password,
		  const gchar *category,
		  const gchar *environment,
		  GCancellable *cancellable,
		  GError **error);

OSC_CLIENT_EXPORT
void
osc_client_backup_async(OscClient *self,
			const gchar *password,
			const gchar *category,
			const gchar *environment,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_backup_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_import_backup(OscClient *self,
			 const gchar *backup_data,
			 const gchar *password,
			 gboolean overwrite,
			 GCancellable *cancellable,
			 GError **error);

OSC_CLIENT_EXPORT
void
osc_client_import_backup_async(OscClient *self,
			       const gchar *backup_data,
			       const gchar *password,
			       gboolean overwrite,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_import_backup_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_rekey(OscClient *self,
		 const gchar *new_user_key,
		 GCancellable *cancellable,
		 GError **error);

OSC_CLIENT_EXPORT
void
osc_client_rekey_async(OscClient *self,
		       const gchar *new_user_key,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_rekey_finish(OscClient *self, GAsyncResult *result, GError **error);

/* for bindings where JsonNode is awkward: values as JSON text */
OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_create_string(OscClient *self,
			 const gchar *key,
			 const gchar *environment,
			 const gchar *value_json,
			 const gchar *category,
			 GCancellable *cancellable,
			 GError **error);
OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_update_string(OscClient *self,
			 const gchar *key,
			 const gchar *environment,
			 const gchar *value_json,
			 const gchar *category,
			 const gchar *if_match,
			 GCancellable *cancellable,
			 GError **error);
OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_get_or_default_string(OscClient *self,
				 const gchar *key,
				 const gchar *environment,
				 const gchar *default_json,
				 GCancellable *cancellable,
				 GError **error);

G_END_DECLS
