/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#if !defined(OSC_CLIENT_INSIDE) && !defined(OSC_CLIENT_COMPILATION)
#error "Only <libosc-client.h> can be included directly."
#endif

#include "osc-client.h"

G_BEGIN_DECLS

/* the administration calls the app's pages use: metrics, counters, cluster, versions */
OSC_CLIENT_EXPORT
gchar *
osc_client_get_metrics_text(OscClient *self, GCancellable *cancellable, GError **error);
OSC_CLIENT_EXPORT
void
osc_client_get_metrics_text_async(OscClient *self,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
OSC_CLIENT_EXPORT
gchar *
osc_client_get_metrics_text_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_operation_stats(OscClient *self, GCancellable *cancellable, GError **error);
OSC_CLIENT_EXPORT
void
osc_client_get_operation_stats_async(OscClient *self,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_operation_stats_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_sse_stats(OscClient *self, GCancellable *cancellable, GError **error);
OSC_CLIENT_EXPORT
void
osc_client_get_sse_stats_async(OscClient *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_sse_stats_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_sse_subscriptions(OscClient *self, GCancellable *cancellable, GError **error);
OSC_CLIENT_EXPORT
void
osc_client_get_sse_subscriptions_async(OscClient *self,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_sse_subscriptions_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_cluster_distribution(OscClient *self, GCancellable *cancellable, GError **error);
OSC_CLIENT_EXPORT
void
osc_client_get_cluster_distribution_async(OscClient *self,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
OSC_CLIENT_EXPORT
JsonNode *
osc_client_get_cluster_distribution_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_list_versions(OscClient *self,
			 const gchar *key,
			 const gchar *environment,
			 GCancellable *cancellable,
			 GError **error);
OSC_CLIENT_EXPORT
void
osc_client_list_versions_async(OscClient *self,
			       const gchar *key,
			       const gchar *environment,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
OSC_CLIENT_EXPORT
JsonNode *
osc_client_list_versions_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
JsonNode *
osc_client_read_version(OscClient *self,
			const gchar *key,
			const gchar *environment,
			gint64 version,
			GCancellable *cancellable,
			GError **error);
OSC_CLIENT_EXPORT
void
osc_client_read_version_async(OscClient *self,
			      const gchar *key,
			      const gchar *environment,
			      gint64 version,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
OSC_CLIENT_EXPORT
JsonNode *
osc_client_read_version_finish(OscClient *self, GAsyncResult *result, GError **error);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_rollback(OscClient *self,
		    const gchar *key,
		    const gchar *environment,
		    gint64 version,
		    const gchar *if_match,
		    GCancellable *cancellable,
		    GError **error);
OSC_CLIENT_EXPORT
void
osc_client_rollback_async(OscClient *self,
			  const gchar *key,
			  const gchar *environment,
			  gint64 version,
			  const gchar *if_match,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
OSC_CLIENT_EXPORT
OscConfigEntry *
osc_client_rollback_finish(OscClient *self, GAsyncResult *result, GError **error);

G_END_DECLS
