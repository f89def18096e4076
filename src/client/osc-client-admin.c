/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscClient"

#include "config.h"

#include "osc-client-admin.h"

#include "osc-client-private.h"

/*
 * The administration calls (API.md §4.4, §4.11, §4.15, §4.16, §4.20) and the version
 * history of an entry (GET /configs/{key}/versions, GET /configs/{key}?version=N,
 * POST /configs/{key}/rollback). Same shapes as osc-client-calls.c.
 */

static JsonNode *
osc_client_admin_to_node(OscClientReply *reply, GError **error)
{
	return reply != NULL ? json_node_ref(reply->json) : NULL;
}

static gchar *
osc_client_admin_to_text(OscClientReply *reply, GError **error)
{
	gsize len = 0;
	const gchar *data;

	if (reply == NULL)
		return NULL;
	data = g_bytes_get_data(reply->text, &len);
	if (!g_utf8_validate_len(data, len, NULL)) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_INVALID_RESPONSE,
				    "The metrics text is not UTF-8");
		return NULL;
	}
	return g_strndup(data, len);
}

/* the cluster calls report failures other than authentication as OSC_CLIENT_ERROR_CLUSTER,
 * as osc_client_get_cluster_status() does */
static JsonNode *
osc_client_admin_to_cluster(OscClientReply *reply, GError *local, GError **error)
{
	if (reply != NULL)
		return json_node_ref(reply->json);
	if (local->domain == OSC_CLIENT_ERROR && local->code != OSC_CLIENT_ERROR_AUTHENTICATION)
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CLUSTER,
			    "Cluster distribution failed: %s", local->message);
	else
		g_propagate_error(error, g_error_copy(local));
	return NULL;
}

static OscClientCall *
osc_client_admin_get_call(const gchar *path, gboolean text)
{
	OscClientCall *call = osc_client_call_new("GET", path);

	call->text_reply = text;
	return call;
}

static gboolean
osc_client_admin_check(const gchar *key, const gchar *environment, GError **error)
{
	if (key == NULL || key[0] == '\0' || !g_utf8_validate(key, -1, NULL)) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
				    "key must not be empty");
		return FALSE;
	}
	if (environment == NULL || environment[0] == '\0' ||
	    !g_utf8_validate(environment, -1, NULL)) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
				    "environment must not be empty");
		return FALSE;
	}
	return TRUE;
}

/* /configs/{key}<suffix>?environment=…[&version=N] */
static OscClientCall *
osc_client_admin_entry_call(const gchar *method, const gchar *key, const gchar *environment,
			    const gchar *suffix, gint64 version)
{
	g_autofree gchar *escaped = g_uri_escape_string(key, NULL, FALSE);
	g_autofree gchar *path = g_strconcat("/configs/", escaped, suffix, NULL);
	OscClientCall *call = osc_client_call_new(method, path);

	osc_client_call_add_query(call, "environment", environment);
	if (version > 0) {
		g_autofree gchar *v = g_strdup_printf("%" G_GINT64_FORMAT, version);
		osc_client_call_add_query(call, "version", v);
	}
	if (g_str_equal(suffix, "") && version > 0)
		osc_client_call_add_query(call, "mode", "full");
	call->key = g_strdup(key);
	call->environment = g_strdup(environment);
	return call;
}

static void
osc_client_admin_start(OscClient *self, OscClientCall *call, GError *error,
		       GCancellable *cancellable, gpointer source_tag, GAsyncReadyCallback callback,
		       gpointer user_data)
{
	if (call == NULL) {
		g_task_report_error(self, callback, user_data, source_tag, error);
		return;
	}
	osc_client_call_run_async(self, call, cancellable, source_tag, callback, user_data);
	osc_client_call_unref(call);
}

/**
 * osc_client_get_metrics_text:
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /metrics`: the Prometheus text exposition (API.md §4.4, §10).
 *
 * Returns: (transfer full): the text, or %NULL with @error set
 */
gchar *
osc_client_get_metrics_text(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	call = osc_client_admin_get_call("/metrics", TRUE);
	reply = osc_client_call_run(self, call, cancellable, error);
	return osc_client_admin_to_text(reply, error);
}

/**
 * osc_client_get_metrics_text_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_metrics_text_async(OscClient *self, GCancellable *cancellable,
				  GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_admin_start(self, osc_client_admin_get_call("/metrics", TRUE), NULL, cancellable,
			       osc_client_get_metrics_text_async, callback, user_data);
}

/**
 * osc_client_get_metrics_text_finish:
 *
 * Returns: (transfer full): the text, or %NULL with @error set
 */
gchar *
osc_client_get_metrics_text_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_get_metrics_text_async, error);

	return osc_client_admin_to_text(reply, error);
}

/**
 * osc_client_get_operation_stats:
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /stats/operations`: operation counters as JSON (API.md §4.11).
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_operation_stats(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	call = osc_client_admin_get_call("/stats/operations", FALSE);
	reply = osc_client_call_run(self, call, cancellable, error);
	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_get_operation_stats_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_operation_stats_async(OscClient *self, GCancellable *cancellable,
				     GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_admin_start(self, osc_client_admin_get_call("/stats/operations", FALSE), NULL,
			       cancellable, osc_client_get_operation_stats_async, callback,
			       user_data);
}

/**
 * osc_client_get_operation_stats_finish:
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_operation_stats_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply = osc_client_call_run_finish(
		self, result, osc_client_get_operation_stats_async, error);

	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_get_sse_stats:
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /sse/stats`: event stream counters (API.md §4.15).
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_sse_stats(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	call = osc_client_admin_get_call("/sse/stats", FALSE);
	reply = osc_client_call_run(self, call, cancellable, error);
	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_get_sse_stats_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_sse_stats_async(OscClient *self, GCancellable *cancellable,
			       GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_admin_start(self, osc_client_admin_get_call("/sse/stats", FALSE), NULL,
			       cancellable, osc_client_get_sse_stats_async, callback, user_data);
}

/**
 * osc_client_get_sse_stats_finish:
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_sse_stats_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_get_sse_stats_async, error);

	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_get_sse_subscriptions:
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /sse/subscriptions`: the open event streams (API.md §4.16).
 *
 * Returns: (transfer full): the JSON array, or %NULL with @error set
 */
JsonNode *
osc_client_get_sse_subscriptions(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	call = osc_client_admin_get_call("/sse/subscriptions", FALSE);
	reply = osc_client_call_run(self, call, cancellable, error);
	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_get_sse_subscriptions_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_sse_subscriptions_async(OscClient *self, GCancellable *cancellable,
				       GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_admin_start(self, osc_client_admin_get_call("/sse/subscriptions", FALSE), NULL,
			       cancellable, osc_client_get_sse_subscriptions_async, callback,
			       user_data);
}

/**
 * osc_client_get_sse_subscriptions_finish:
 *
 * Returns: (transfer full): the JSON array, or %NULL with @error set
 */
JsonNode *
osc_client_get_sse_subscriptions_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply = osc_client_call_run_finish(
		self, result, osc_client_get_sse_subscriptions_async, error);

	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_get_cluster_distribution:
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /cluster/distribution`: entry counts per node (API.md §4.20). Fails with
 * %OSC_CLIENT_ERROR_CLUSTER when clustering is off.
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_cluster_distribution(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;
	g_autoptr(GError) local = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	call = osc_client_admin_get_call("/cluster/distribution", FALSE);
	reply = osc_client_call_run(self, call, cancellable, &local);
	return osc_client_admin_to_cluster(reply, local, error);
}

/**
 * osc_client_get_cluster_distribution_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_cluster_distribution_async(OscClient *self, GCancellable *cancellable,
					  GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_admin_start(self, osc_client_admin_get_call("/cluster/distribution", FALSE),
			       NULL, cancellable, osc_client_get_cluster_distribution_async,
			       callback, user_data);
}

/**
 * osc_client_get_cluster_distribution_finish:
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_cluster_distribution_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(OscClientReply) reply = osc_client_call_run_finish(
		self, result, osc_client_get_cluster_distribution_async, &local);

	return osc_client_admin_to_cluster(reply, local, error);
}

/* ---- versions ---- */

static OscClientCall *
osc_client_versions_call(const gchar *key, const gchar *environment, GError **error)
{
	if (!osc_client_admin_check(key, environment, error))
		return NULL;
	return osc_client_admin_entry_call("GET", key, environment, "/versions", 0);
}

static OscClientCall *
osc_client_read_version_call(const gchar *key, const gchar *environment, gint64 version,
			     GError **error)
{
	if (!osc_client_admin_check(key, environment, error))
		return NULL;
	if (version < 1) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
				    "versions start at 1");
		return NULL;
	}
	return osc_client_admin_entry_call("GET", key, environment, "", version);
}

static OscClientCall *
osc_client_rollback_call(const gchar *key, const gchar *environment, gint64 version,
			 const gchar *if_match, GError **error)
{
	OscClientCall *call;

	if (!osc_client_admin_check(key, environment, error))
		return NULL;
	if (version < 1) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
				    "versions start at 1");
		return NULL;
	}
	call = osc_client_admin_entry_call("POST", key, environment, "/rollback", version);
	if (if_match != NULL) {
		g_autofree gchar *tag = if_match[0] == '"' || g_str_equal(if_match, "*")
						? g_strdup(if_match)
						: g_strdup_printf("\"%s\"", if_match);
		osc_client_call_add_header(call, "If-Match", tag);
	}
	/* a rollback that went through but whose answer was lost makes a new version if sent
	 * again: not retried once it may have reached the server */
	call->idempotent = FALSE;
	return call;
}

static OscConfigEntry *
osc_client_admin_to_entry(OscClientReply *reply, GError **error)
{
	OscConfigEntry *entry;

	if (reply == NULL)
		return NULL;
	entry = osc_config_entry_new_from_json(reply->json, error);
	if (entry != NULL)
		osc_config_entry_set_etag(entry, reply->etag);
	return entry;
}

/**
 * osc_client_list_versions:
 * @key: the entry's key
 * @environment: the entry's environment
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /configs/{key}/versions`: the live version, then the kept old ones, newest first;
 * metadata only.
 *
 * Returns: (transfer full): `{"key","environment","versions":[{"version","current",
 *   "deleted","category","created_at","superseded_at",…}]}`, or %NULL with @error set
 */
JsonNode *
osc_client_list_versions(OscClient *self, const gchar *key, const gchar *environment,
			 GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	call = osc_client_versions_call(key, environment, error);
	if (call == NULL)
		return NULL;
	reply = osc_client_call_run(self, call, cancellable, error);
	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_list_versions_async:
 * @key: the entry's key
 * @environment: the entry's environment
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_list_versions_async(OscClient *self, const gchar *key, const gchar *environment,
			       GCancellable *cancellable, GAsyncReadyCallback callback,
			       gpointer user_data)
{
	GError *error = NULL;
	OscClientCall *call;

	g_return_if_fail(OSC_IS_CLIENT(self));
	call = osc_client_versions_call(key, environment, &error);
	osc_client_admin_start(self, call, error, cancellable, osc_client_list_versions_async,
			       callback, user_data);
}

/**
 * osc_client_list_versions_finish:
 *
 * Returns: (transfer full): the versions, or %NULL with @error set
 */
JsonNode *
osc_client_list_versions_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_list_versions_async, error);
	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_read_version:
 * @key: the entry's key
 * @environment: the entry's environment
 * @version: the version number, from 1
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /configs/{key}?version=N&mode=full`: one version with its value.
 *
 * Returns: (transfer full): `{"key","category","environment","value","version","current",
 *   "deleted","created_at","superseded_at","node_id"}`, or %NULL with @error set
 */
JsonNode *
osc_client_read_version(OscClient *self, const gchar *key, const gchar *environment, gint64 version,
			GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	call = osc_client_read_version_call(key, environment, version, error);
	if (call == NULL)
		return NULL;
	reply = osc_client_call_run(self, call, cancellable, error);
	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_read_version_async:
 * @key: the entry's key
 * @environment: the entry's environment
 * @version: the version number, from 1
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_read_version_async(OscClient *self, const gchar *key, const gchar *environment,
			      gint64 version, GCancellable *cancellable,
			      GAsyncReadyCallback callback, gpointer user_data)
{
	GError *error = NULL;
	OscClientCall *call;

	g_return_if_fail(OSC_IS_CLIENT(self));
	call = osc_client_read_version_call(key, environment, version, &error);
	osc_client_admin_start(self, call, error, cancellable, osc_client_read_version_async,
			       callback, user_data);
}

/**
 * osc_client_read_version_finish:
 *
 * Returns: (transfer full): the version, or %NULL with @error set
 */
JsonNode *
osc_client_read_version_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_read_version_async, error);
	return osc_client_admin_to_node(reply, error);
}

/**
 * osc_client_rollback:
 * @key: the entry's key
 * @environment: the entry's environment
 * @version: the version to restore
 * @if_match: (nullable): the ETag (or bare revision) the live entry must have
 * @cancellable: (nullable): a #GCancellable
 *
 * `POST /configs/{key}/rollback?version=N`: makes version @version's value the live one
 * (the replaced state is kept as a version). Not retried once the request may have reached
 * the server.
 *
 * Returns: (transfer full): the restored entry, ETag included, or %NULL with @error set
 */
OscConfigEntry *
osc_client_rollback(OscClient *self, const gchar *key, const gchar *environment, gint64 version,
		    const gchar *if_match, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	call = osc_client_rollback_call(key, environment, version, if_match, error);
	if (call == NULL)
		return NULL;
	reply = osc_client_call_run(self, call, cancellable, error);
	return osc_client_admin_to_entry(reply, error);
}

/**
 * osc_client_rollback_async:
 * @key: the entry's key
 * @environment: the entry's environment
 * @version: the version to restore
 * @if_match: (nullable): the ETag (or bare revision) the live entry must have
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_rollback_async(OscClient *self, const gchar *key, const gchar *environment,
			  gint64 version, const gchar *if_match, GCancellable *cancellable,
			  GAsyncReadyCallback callback, gpointer user_data)
{
	GError *error = NULL;
	OscClientCall *call;

	g_return_if_fail(OSC_IS_CLIENT(self));
	call = osc_client_rollback_call(key, environment, version, if_match, &error);
	osc_client_admin_start(self, call, error, cancellable, osc_client_rollback_async, callback,
			       user_data);
}

/**
 * osc_client_rollback_finish:
 *
 * Returns: (transfer full): the restored entry, or %NULL with @error set
 */
OscConfigEntry *
osc_client_rollback_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_rollback_async, error);
	return osc_client_admin_to_entry(reply, error);
}
