/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscClient"

#include "config.h"

#include "osc-client-private.h"

/*
 * The REST calls of OscClient (API.md §12.3). Each builds an OscClientCall, hands it to
 * osc_client_call_run() or osc_client_call_run_async(), and turns the reply into its
 * result with a function the blocking and the _finish variants share.
 */

/* ---- building calls ---- */

static gboolean
osc_client_check_length(const gchar *what, const gchar *value, glong min, glong max, GError **error)
{
	glong n;

	if (value == NULL && min == 0)
		return TRUE;
	if (value == NULL || !g_utf8_validate(value, -1, NULL)) {
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
			    "%s must be UTF-8 text", what);
		return FALSE;
	}
	n = g_utf8_strlen(value, -1);
	if (n < min || n > max) {
		if (min > 0 && n < min)
			g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
				    "%s must not be empty", what);
		else
			g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
				    "%s must be at most %ld characters", what, max);
		return FALSE;
	}
	return TRUE;
}

/* the Python client's checks (API.md §12.3): key 1–255, environment 1–100, category ≤100 */
static gboolean
osc_client_check_entry(const gchar *key, const gchar *environment, const gchar *category,
		       GError **error)
{
	return osc_client_check_length("key", key, 1, 255, error) &&
	       osc_client_check_length("environment", environment, 1, 100, error) &&
	       osc_client_check_length("category", category, 0, 100, error);
}

static OscClientCall *
osc_client_entry_call(const gchar *method, const gchar *key, const gchar *environment)
{
	/* every reserved character escaped, '/' included: the server decodes the segment */
	g_autofree gchar *escaped = g_uri_escape_string(key, NULL, FALSE);
	g_autofree gchar *path = g_strconcat("/configs/", escaped, NULL);
	OscClientCall *call = osc_client_call_new(method, path);

	osc_client_call_add_query(call, "environment", environment);
	call->key = g_strdup(key);
	call->environment = g_strdup(environment);
	return call;
}

static void
osc_client_call_add_if_match(OscClientCall *call, const gchar *if_match)
{
	g_autofree gchar *tag = NULL;

	if (if_match == NULL)
		return;
	/* accept a bare revision ("12") as well as the ETag itself ("\"12\"") */
	if (if_match[0] == '"' || g_str_equal(if_match, "*") || g_str_has_prefix(if_match, "W/"))
		tag = g_strdup(if_match);
	else
		tag = g_strdup_printf("\"%s\"", if_match);
	osc_client_call_add_header(call, "If-Match", tag);
}

static OscClientCall *
osc_client_create_call(const gchar *key, const gchar *environment, JsonNode *value,
		       const gchar *category, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	OscClientCall *call;

	if (!osc_client_check_entry(key, environment, category, error))
		return NULL;
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "key");
	json_builder_add_string_value(b, key);
	json_builder_set_member_name(b, "value");
	json_builder_add_value(b, json_node_copy(value));
	json_builder_set_member_name(b, "environment");
	json_builder_add_string_value(b, environment);
	json_builder_set_member_name(b, "category");
	if (category != NULL)
		json_builder_add_string_value(b, category);
	else
		json_builder_add_null_value(b);
	json_builder_end_object(b);

	call = osc_client_call_new("POST", "/configs");
	osc_client_call_take_json_body(call, json_builder_get_root(b));
	call->key = g_strdup(key);
	call->environment = g_strdup(environment);
	return call;
}

static OscClientCall *
osc_client_read_call(const gchar *key, const gchar *environment, gboolean full)
{
	OscClientCall *call = osc_client_entry_call("GET", key, environment);

	if (full)
		osc_client_call_add_query(call, "mode", "full");
	return call;
}

static OscClientCall *
osc_client_update_call(const gchar *key, const gchar *environment, JsonNode *value,
		       const gchar *category, const gchar *if_match, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	OscClientCall *call;

	if (!osc_client_check_entry(key, environment, category, error))
		return NULL;
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "value");
	json_builder_add_value(b, json_node_copy(value));
	/* null keeps the stored category (API.md §3.2) */
	json_builder_set_member_name(b, "category");
	if (category != NULL)
		json_builder_add_string_value(b, category);
	else
		json_builder_add_null_value(b);
	json_builder_end_object(b);

	call = osc_client_entry_call("PUT", key, environment);
	osc_client_call_take_json_body(call, json_builder_get_root(b));
	osc_client_call_add_if_match(call, if_match);
	return call;
}

static OscClientCall *
osc_client_delete_call(const gchar *key, const gchar *environment, const gchar *if_match)
{
	OscClientCall *call = osc_client_entry_call("DELETE", key, environment);

	osc_client_call_add_if_match(call, if_match);
	return call;
}

/* filters that are NULL or empty are not sent: the server would ignore them anyway */
static OscClientCall *
osc_client_list_call(const gchar *category, const gchar *environment, gboolean full)
{
	OscClientCall *call = osc_client_call_new("GET", "/configs");

	if (category != NULL && category[0] != '\0')
		osc_client_call_add_query(call, "category", category);
	if (environment != NULL && environment[0] != '\0')
		osc_client_call_add_query(call, "environment", environment);
	if (full)
		osc_client_call_add_query(call, "mode", "full");
	return call;
}

static OscClientCall *
osc_client_backup_call(const gchar *password, const gchar *category, const gchar *environment)
{
	OscClientCall *call = osc_client_call_new("POST", "/backup");

	if (category != NULL && category[0] != '\0')
		osc_client_call_add_query(call, "category", category);
	if (environment != NULL && environment[0] != '\0')
		osc_client_call_add_query(call, "environment", environment);
	osc_client_call_add_header(call, "X-Backup-Password", password);
	return call;
}

static OscClientCall *
osc_client_import_call(const gchar *backup_data, const gchar *password, gboolean overwrite)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	OscClientCall *call = osc_client_call_new("POST", "/import");

	/* in the body, not the query: backups outgrow URL limits (API.md §4.13, D33) */
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "backup_data");
	json_builder_add_string_value(b, backup_data);
	json_builder_set_member_name(b, "overwrite");
	json_builder_add_boolean_value(b, overwrite);
	json_builder_end_object(b);
	osc_client_call_take_json_body(call, json_builder_get_root(b));
	osc_client_call_add_header(call, "X-Backup-Password", password);
	call->idempotent = FALSE;
	return call;
}

static OscClientCall *
osc_client_rekey_call(const gchar *new_user_key)
{
	OscClientCall *call = osc_client_call_new("POST", "/rekey");

	osc_client_call_add_header(call, "X-New-User-Key", new_user_key);
	/* a rekey that went through but whose answer was lost must not run again: the old key
	 * would then open nothing and the caller would see a failure */
	call->idempotent = FALSE;
	return call;
}

/* ---- reading replies ---- */

static OscConfigEntry *
osc_client_reply_to_entry(OscClientReply *reply, GError **error)
{
	OscConfigEntry *entry = osc_config_entry_new_from_json(reply->json, error);

	if (entry != NULL)
		osc_config_entry_set_etag(entry, reply->etag);
	return entry;
}

static GPtrArray *
osc_client_reply_to_entries(OscClientReply *reply, GError **error)
{
	g_autoptr(GPtrArray) entries = NULL;
	JsonArray *array;

	if (!JSON_NODE_HOLDS_ARRAY(reply->json)) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_INVALID_RESPONSE,
				    "The configuration list is not a JSON array");
		return NULL;
	}
	array = json_node_get_array(reply->json);
	entries = g_ptr_array_new_full(json_array_get_length(array),
				       (GDestroyNotify)osc_config_entry_unref);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		OscConfigEntry *entry =
			osc_config_entry_new_from_json(json_array_get_element(array, i), error);
		if (entry == NULL)
			return NULL;
		g_ptr_array_add(entries, entry);
	}
	return g_steal_pointer(&entries);
}

static JsonNode *
osc_client_reply_to_node(OscClientReply *reply)
{
	return json_node_ref(reply->json);
}

static gint
osc_client_strcmp_cb(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* sorted distinct non-empty categories or environments, as the Python client's */
static gchar **
osc_client_reply_to_distinct(OscClientReply *reply, gboolean categories, GError **error)
{
	g_autoptr(GPtrArray) entries = osc_client_reply_to_entries(reply, error);
	g_autoptr(GHashTable) seen = NULL;
	g_autoptr(GPtrArray) out = NULL;

	if (entries == NULL)
		return NULL;
	seen = g_hash_table_new(g_str_hash, g_str_equal);
	out = g_ptr_array_new();
	for (guint i = 0; i < entries->len; i++) {
		OscConfigEntry *e = g_ptr_array_index(entries, i);
		const gchar *v = categories ? osc_config_entry_get_category(e)
					    : osc_config_entry_get_environment(e);

		if (v == NULL || v[0] == '\0' || !g_hash_table_add(seen, (gpointer)v))
			continue;
		g_ptr_array_add(out, g_strdup(v));
	}
	g_ptr_array_sort(out, osc_client_strcmp_cb);
	g_ptr_array_add(out, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static gint
osc_client_reply_to_count(OscClientReply *reply, GError **error)
{
	if (!JSON_NODE_HOLDS_ARRAY(reply->json)) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_INVALID_RESPONSE,
				    "The configuration list is not a JSON array");
		return -1;
	}
	return (gint)json_array_get_length(json_node_get_array(reply->json));
}

/* exists() and get_or_default() accept a 404 as an answer */
static OscClientCall *
osc_client_lookup_call(const gchar *key, const gchar *environment, JsonNode *default_value)
{
	OscClientCall *call = osc_client_read_call(key, environment, FALSE);

	call->accept_not_found = TRUE;
	if (default_value != NULL)
		call->extra = json_node_copy(default_value);
	return call;
}

/* get_or_default(): a 404 becomes an entry holding the default (API.md §12.3) */
static OscConfigEntry *
osc_client_reply_to_entry_or_default(OscClientReply *reply, GError **error)
{
	if (reply->status == 404)
		return osc_config_entry_new(reply->call->key, reply->call->environment, NULL,
					    reply->call->extra);
	return osc_client_reply_to_entry(reply, error);
}

/* the Python client raises ClusterError for any failure of the cluster calls; we keep the
 * authentication code so that a caller can still tell a bad API key apart */
static void
osc_client_propagate_cluster_error(GError **error, GError *call_error, const gchar *what)
{
	if (call_error->domain == OSC_CLIENT_ERROR &&
	    call_error->code != OSC_CLIENT_ERROR_AUTHENTICATION) {
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CLUSTER, "%s failed: %s",
			    what, call_error->message);
		return;
	}
	g_propagate_error(error, g_error_copy(call_error));
}

/* ---- shared shapes ---- */

static JsonNode *
osc_client_get_json_sync(OscClient *self, const gchar *path, GCancellable *cancellable,
			 GError **error)
{
	g_autoptr(OscClientCall) call = osc_client_call_new("GET", path);
	g_autoptr(OscClientReply) reply = osc_client_call_run(self, call, cancellable, error);

	return reply != NULL ? osc_client_reply_to_node(reply) : NULL;
}

static void
osc_client_get_json_async(OscClient *self, const gchar *path, GCancellable *cancellable,
			  gpointer source_tag, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(OscClientCall) call = osc_client_call_new("GET", path);

	osc_client_call_run_async(self, call, cancellable, source_tag, callback, user_data);
}

static JsonNode *
osc_client_json_finish(OscClient *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, source_tag, error);

	return reply != NULL ? osc_client_reply_to_node(reply) : NULL;
}

static OscConfigEntry *
osc_client_entry_finish(OscClient *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, source_tag, error);

	return reply != NULL ? osc_client_reply_to_entry(reply, error) : NULL;
}

/* starts @call (taken), or reports @error (taken) when building it failed */
static void
osc_client_start(OscClient *self, OscClientCall *call, GError *error, GCancellable *cancellable,
		 gpointer source_tag, GAsyncReadyCallback callback, gpointer user_data)
{
	if (call == NULL) {
		g_task_report_error(self, callback, user_data, source_tag, error);
		return;
	}
	osc_client_call_run_async(self, call, cancellable, source_tag, callback, user_data);
	osc_client_call_unref(call);
}

/* ---- ping, service information, cluster, stats ---- */

/**
 * osc_client_ping:
 * @cancellable: (nullable): a #GCancellable
 *
 * Checks that the server answers `GET /`.
 *
 * Returns: %TRUE when it does; %FALSE with @error set otherwise
 */
gboolean
osc_client_ping(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(JsonNode) node = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), FALSE);
	node = osc_client_get_json_sync(self, "/", cancellable, error);
	return node != NULL;
}

/**
 * osc_client_ping_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_ping_async(OscClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
		      gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_get_json_async(self, "/", cancellable, osc_client_ping_async, callback,
				  user_data);
}

gboolean
osc_client_ping_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(JsonNode) node =
		osc_client_json_finish(self, result, osc_client_ping_async, error);
	return node != NULL;
}

/**
 * osc_client_get_service_info:
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /`: name, version, status and cluster summary (API.md §4.1).
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_service_info(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	return osc_client_get_json_sync(self, "/", cancellable, error);
}

/**
 * osc_client_get_service_info_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_service_info_async(OscClient *self, GCancellable *cancellable,
				  GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_get_json_async(self, "/", cancellable, osc_client_get_service_info_async,
				  callback, user_data);
}

/**
 * osc_client_get_service_info_finish:
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_service_info_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_json_finish(self, result, osc_client_get_service_info_async, error);
}

static JsonNode *
osc_client_cluster_sync(OscClient *self, const gchar *path, const gchar *what,
			GCancellable *cancellable, GError **error)
{
	g_autoptr(GError) local = NULL;
	JsonNode *node = osc_client_get_json_sync(self, path, cancellable, &local);

	if (node == NULL)
		osc_client_propagate_cluster_error(error, local, what);
	return node;
}

static JsonNode *
osc_client_cluster_finish(OscClient *self, GAsyncResult *result, gpointer source_tag,
			  const gchar *what, GError **error)
{
	g_autoptr(GError) local = NULL;
	JsonNode *node = osc_client_json_finish(self, result, source_tag, &local);

	if (node == NULL)
		osc_client_propagate_cluster_error(error, local, what);
	return node;
}

/**
 * osc_client_get_cluster_status:
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /cluster/status` (API.md §4.18). Failures other than authentication are reported as
 * %OSC_CLIENT_ERROR_CLUSTER.
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_cluster_status(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	return osc_client_cluster_sync(self, "/cluster/status", "Cluster status", cancellable,
				       error);
}

/**
 * osc_client_get_cluster_status_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_cluster_status_async(OscClient *self, GCancellable *cancellable,
				    GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_get_json_async(self, "/cluster/status", cancellable,
				  osc_client_get_cluster_status_async, callback, user_data);
}

/**
 * osc_client_get_cluster_status_finish:
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_cluster_status_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_cluster_finish(self, result, osc_client_get_cluster_status_async,
					 "Cluster status", error);
}

/**
 * osc_client_get_cluster_health:
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /cluster/health` (API.md §4.19). Failures other than authentication are reported as
 * %OSC_CLIENT_ERROR_CLUSTER.
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_cluster_health(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	return osc_client_cluster_sync(self, "/cluster/health", "Cluster health", cancellable,
				       error);
}

/**
 * osc_client_get_cluster_health_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_cluster_health_async(OscClient *self, GCancellable *cancellable,
				    GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_get_json_async(self, "/cluster/health", cancellable,
				  osc_client_get_cluster_health_async, callback, user_data);
}

/**
 * osc_client_get_cluster_health_finish:
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_cluster_health_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_cluster_finish(self, result, osc_client_get_cluster_health_async,
					 "Cluster health", error);
}

/**
 * osc_client_get_stats:
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /stats`: entry counts by category and environment (API.md §4.10).
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_stats(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	return osc_client_get_json_sync(self, "/stats", cancellable, error);
}

/**
 * osc_client_get_stats_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_stats_async(OscClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_get_json_async(self, "/stats", cancellable, osc_client_get_stats_async, callback,
				  user_data);
}

/**
 * osc_client_get_stats_finish:
 *
 * Returns: (transfer full): the JSON object, or %NULL with @error set
 */
JsonNode *
osc_client_get_stats_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_json_finish(self, result, osc_client_get_stats_async, error);
}

/* ---- entries ---- */

/**
 * osc_client_create:
 * @key: the key, 1 to 255 characters
 * @environment: the environment, 1 to 100 characters
 * @value: the value: an object, array, string, integer or boolean
 * @category: (nullable): the category, at most 100 characters
 * @cancellable: (nullable): a #GCancellable
 *
 * `POST /configs`. Fails with %OSC_CLIENT_ERROR_ALREADY_EXISTS when the pair is taken.
 *
 * Returns: (transfer full): the new entry, ETag included, or %NULL with @error set
 */
OscConfigEntry *
osc_client_create(OscClient *self, const gchar *key, const gchar *environment, JsonNode *value,
		  const gchar *category, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(value != NULL, NULL);

	call = osc_client_create_call(key, environment, value, category, error);
	if (call == NULL)
		return NULL;
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_entry(reply, error) : NULL;
}

/**
 * osc_client_create_async:
 * @key: the key
 * @environment: the environment
 * @value: the value
 * @category: (nullable): the category
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_create_async(OscClient *self, const gchar *key, const gchar *environment,
			JsonNode *value, const gchar *category, GCancellable *cancellable,
			GAsyncReadyCallback callback, gpointer user_data)
{
	GError *error = NULL;
	OscClientCall *call;

	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(value != NULL);

	call = osc_client_create_call(key, environment, value, category, &error);
	osc_client_start(self, call, error, cancellable, osc_client_create_async, callback,
			 user_data);
}

/**
 * osc_client_create_finish:
 *
 * Returns: (transfer full): the new entry, or %NULL with @error set
 */
OscConfigEntry *
osc_client_create_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_entry_finish(self, result, osc_client_create_async, error);
}

/**
 * osc_client_create_string:
 * @key: the key
 * @environment: the environment
 * @value_json: the value as JSON text
 * @category: (nullable): the category
 * @cancellable: (nullable): a #GCancellable
 *
 * osc_client_create() with the value as JSON text. Text that is not JSON fails with
 * %OSC_CLIENT_ERROR_VALIDATION.
 *
 * Returns: (transfer full): the new entry, or %NULL with @error set
 */
OscConfigEntry *
osc_client_create_string(OscClient *self, const gchar *key, const gchar *environment,
			 const gchar *value_json, const gchar *category, GCancellable *cancellable,
			 GError **error)
{
	g_autoptr(JsonNode) value = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(value_json != NULL, NULL);

	value = osc_client_parse_json(value_json, -1, error);
	if (value == NULL)
		return NULL;
	return osc_client_create(self, key, environment, value, category, cancellable, error);
}

/**
 * osc_client_read:
 * @key: the key
 * @environment: the environment
 * @full: whether to ask for the full form (with timestamps)
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /configs/{key}?environment=`. Fails with %OSC_CLIENT_ERROR_NOT_FOUND when there is
 * no such entry.
 *
 * Returns: (transfer full): the entry, ETag included, or %NULL with @error set
 */
OscConfigEntry *
osc_client_read(OscClient *self, const gchar *key, const gchar *environment, gboolean full,
		GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(key != NULL && environment != NULL, NULL);

	call = osc_client_read_call(key, environment, full);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_entry(reply, error) : NULL;
}

/**
 * osc_client_read_async:
 * @key: the key
 * @environment: the environment
 * @full: whether to ask for the full form
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_read_async(OscClient *self, const gchar *key, const gchar *environment, gboolean full,
		      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(key != NULL && environment != NULL);

	osc_client_start(self, osc_client_read_call(key, environment, full), NULL, cancellable,
			 osc_client_read_async, callback, user_data);
}

/**
 * osc_client_read_finish:
 *
 * Returns: (transfer full): the entry, or %NULL with @error set
 */
OscConfigEntry *
osc_client_read_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_entry_finish(self, result, osc_client_read_async, error);
}

/**
 * osc_client_update:
 * @key: the key
 * @environment: the environment
 * @value: the new value
 * @category: (nullable): the new category; %NULL keeps the stored one
 * @if_match: (nullable): an ETag from osc_config_entry_get_etag(): update only if the
 *   entry has not changed since (fails with %OSC_CLIENT_ERROR_PRECONDITION_FAILED)
 * @cancellable: (nullable): a #GCancellable
 *
 * `PUT /configs/{key}?environment=`.
 *
 * Returns: (transfer full): the updated entry with its new ETag, or %NULL with @error set
 */
OscConfigEntry *
osc_client_update(OscClient *self, const gchar *key, const gchar *environment, JsonNode *value,
		  const gchar *category, const gchar *if_match, GCancellable *cancellable,
		  GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(value != NULL, NULL);

	call = osc_client_update_call(key, environment, value, category, if_match, error);
	if (call == NULL)
		return NULL;
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_entry(reply, error) : NULL;
}

/**
 * osc_client_update_async:
 * @key: the key
 * @environment: the environment
 * @value: the new value
 * @category: (nullable): the new category; %NULL keeps the stored one
 * @if_match: (nullable): the ETag the entry must still have
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_update_async(OscClient *self, const gchar *key, const gchar *environment,
			JsonNode *value, const gchar *category, const gchar *if_match,
			GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	GError *error = NULL;
	OscClientCall *call;

	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(value != NULL);

	call = osc_client_update_call(key, environment, value, category, if_match, &error);
	osc_client_start(self, call, error, cancellable, osc_client_update_async, callback,
			 user_data);
}

/**
 * osc_client_update_finish:
 *
 * Returns: (transfer full): the updated entry, or %NULL with @error set
 */
OscConfigEntry *
osc_client_update_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_entry_finish(self, result, osc_client_update_async, error);
}

/**
 * osc_client_update_string:
 * @key: the key
 * @environment: the environment
 * @value_json: the new value as JSON text
 * @category: (nullable): the new category; %NULL keeps the stored one
 * @if_match: (nullable): the ETag the entry must still have
 * @cancellable: (nullable): a #GCancellable
 *
 * osc_client_update() with the value as JSON text.
 *
 * Returns: (transfer full): the updated entry, or %NULL with @error set
 */
OscConfigEntry *
osc_client_update_string(OscClient *self, const gchar *key, const gchar *environment,
			 const gchar *value_json, const gchar *category, const gchar *if_match,
			 GCancellable *cancellable, GError **error)
{
	g_autoptr(JsonNode) value = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(value_json != NULL, NULL);

	value = osc_client_parse_json(value_json, -1, error);
	if (value == NULL)
		return NULL;
	return osc_client_update(self, key, environment, value, category, if_match, cancellable,
				 error);
}

/**
 * osc_client_delete:
 * @key: the key
 * @environment: the environment
 * @if_match: (nullable): delete only if the entry still has this ETag
 * @cancellable: (nullable): a #GCancellable
 *
 * `DELETE /configs/{key}?environment=`.
 *
 * Returns: %TRUE when the entry was deleted; %FALSE with @error set otherwise
 */
gboolean
osc_client_delete(OscClient *self, const gchar *key, const gchar *environment,
		  const gchar *if_match, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(key != NULL && environment != NULL, FALSE);

	call = osc_client_delete_call(key, environment, if_match);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL;
}

/**
 * osc_client_delete_async:
 * @key: the key
 * @environment: the environment
 * @if_match: (nullable): the ETag the entry must still have
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_delete_async(OscClient *self, const gchar *key, const gchar *environment,
			const gchar *if_match, GCancellable *cancellable,
			GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(key != NULL && environment != NULL);

	osc_client_start(self, osc_client_delete_call(key, environment, if_match), NULL,
			 cancellable, osc_client_delete_async, callback, user_data);
}

gboolean
osc_client_delete_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_delete_async, error);
	return reply != NULL;
}

/**
 * osc_client_list:
 * @category: (nullable): only entries of this category
 * @environment: (nullable): only entries of this environment
 * @full: whether to ask for the full form (with timestamps)
 * @cancellable: (nullable): a #GCancellable
 *
 * `GET /configs`, in the server's order (by id).
 *
 * Returns: (transfer container) (element-type OscConfigEntry): the entries, or %NULL with
 *   @error set
 */
GPtrArray *
osc_client_list(OscClient *self, const gchar *category, const gchar *environment, gboolean full,
		GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);

	call = osc_client_list_call(category, environment, full);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_entries(reply, error) : NULL;
}

/**
 * osc_client_list_async:
 * @category: (nullable): only entries of this category
 * @environment: (nullable): only entries of this environment
 * @full: whether to ask for the full form
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_list_async(OscClient *self, const gchar *category, const gchar *environment,
		      gboolean full, GCancellable *cancellable, GAsyncReadyCallback callback,
		      gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));

	osc_client_start(self, osc_client_list_call(category, environment, full), NULL, cancellable,
			 osc_client_list_async, callback, user_data);
}

/**
 * osc_client_list_finish:
 *
 * Returns: (transfer container) (element-type OscConfigEntry): the entries, or %NULL with
 *   @error set
 */
GPtrArray *
osc_client_list_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_list_async, error);
	return reply != NULL ? osc_client_reply_to_entries(reply, error) : NULL;
}

/**
 * osc_client_exists:
 * @key: the key
 * @environment: the environment
 * @cancellable: (nullable): a #GCancellable
 *
 * Whether the entry exists. Only a 404 means "no"; other failures set @error.
 *
 * Returns: %TRUE if it exists; %FALSE if it does not, or with @error set on failure
 */
gboolean
osc_client_exists(OscClient *self, const gchar *key, const gchar *environment,
		  GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(key != NULL && environment != NULL, FALSE);

	call = osc_client_lookup_call(key, environment, NULL);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL && reply->status != 404;
}

/**
 * osc_client_exists_async:
 * @key: the key
 * @environment: the environment
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_exists_async(OscClient *self, const gchar *key, const gchar *environment,
			GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(key != NULL && environment != NULL);

	osc_client_start(self, osc_client_lookup_call(key, environment, NULL), NULL, cancellable,
			 osc_client_exists_async, callback, user_data);
}

gboolean
osc_client_exists_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_exists_async, error);
	return reply != NULL && reply->status != 404;
}

/**
 * osc_client_get_or_default:
 * @key: the key
 * @environment: the environment
 * @default_value: the value to use when there is no such entry
 * @cancellable: (nullable): a #GCancellable
 *
 * Reads the entry; on a 404, returns an entry with @default_value, no category and no id.
 *
 * Returns: (transfer full): the entry, or %NULL with @error set
 */
OscConfigEntry *
osc_client_get_or_default(OscClient *self, const gchar *key, const gchar *environment,
			  JsonNode *default_value, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(key != NULL && environment != NULL, NULL);
	g_return_val_if_fail(default_value != NULL, NULL);

	call = osc_client_lookup_call(key, environment, default_value);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_entry_or_default(reply, error) : NULL;
}

/**
 * osc_client_get_or_default_async:
 * @key: the key
 * @environment: the environment
 * @default_value: the value to use when there is no such entry
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_get_or_default_async(OscClient *self, const gchar *key, const gchar *environment,
				JsonNode *default_value, GCancellable *cancellable,
				GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(key != NULL && environment != NULL);
	g_return_if_fail(default_value != NULL);

	osc_client_start(self, osc_client_lookup_call(key, environment, default_value), NULL,
			 cancellable, osc_client_get_or_default_async, callback, user_data);
}

/**
 * osc_client_get_or_default_finish:
 *
 * Returns: (transfer full): the entry, or %NULL with @error set
 */
OscConfigEntry *
osc_client_get_or_default_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_get_or_default_async, error);
	return reply != NULL ? osc_client_reply_to_entry_or_default(reply, error) : NULL;
}

/**
 * osc_client_get_or_default_string:
 * @key: the key
 * @environment: the environment
 * @default_json: the default value as JSON text
 * @cancellable: (nullable): a #GCancellable
 *
 * osc_client_get_or_default() with the default as JSON text.
 *
 * Returns: (transfer full): the entry, or %NULL with @error set
 */
OscConfigEntry *
osc_client_get_or_default_string(OscClient *self, const gchar *key, const gchar *environment,
				 const gchar *default_json, GCancellable *cancellable,
				 GError **error)
{
	g_autoptr(JsonNode) value = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(default_json != NULL, NULL);

	value = osc_client_parse_json(default_json, -1, error);
	if (value == NULL)
		return NULL;
	return osc_client_get_or_default(self, key, environment, value, cancellable, error);
}

/**
 * osc_client_count:
 * @category: (nullable): only entries of this category
 * @environment: (nullable): only entries of this environment
 * @cancellable: (nullable): a #GCancellable
 *
 * Returns: the number of entries the user key opens, or -1 with @error set
 */
gint
osc_client_count(OscClient *self, const gchar *category, const gchar *environment,
		 GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), -1);

	call = osc_client_list_call(category, environment, FALSE);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_count(reply, error) : -1;
}

/**
 * osc_client_count_async:
 * @category: (nullable): only entries of this category
 * @environment: (nullable): only entries of this environment
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_count_async(OscClient *self, const gchar *category, const gchar *environment,
		       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));

	osc_client_start(self, osc_client_list_call(category, environment, FALSE), NULL,
			 cancellable, osc_client_count_async, callback, user_data);
}

/**
 * osc_client_count_finish:
 *
 * Returns: the number of entries, or -1 with @error set
 */
gint
osc_client_count_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_count_async, error);
	return reply != NULL ? osc_client_reply_to_count(reply, error) : -1;
}

/**
 * osc_client_list_categories:
 * @cancellable: (nullable): a #GCancellable
 *
 * Returns: (transfer full) (array zero-terminated=1): the sorted distinct non-empty
 *   categories, or %NULL with @error set
 */
gchar **
osc_client_list_categories(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);

	call = osc_client_list_call(NULL, NULL, FALSE);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_distinct(reply, TRUE, error) : NULL;
}

/**
 * osc_client_list_categories_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_list_categories_async(OscClient *self, GCancellable *cancellable,
				 GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));

	osc_client_start(self, osc_client_list_call(NULL, NULL, FALSE), NULL, cancellable,
			 osc_client_list_categories_async, callback, user_data);
}

/**
 * osc_client_list_categories_finish:
 *
 * Returns: (transfer full) (array zero-terminated=1): the categories, or %NULL with @error
 *   set
 */
gchar **
osc_client_list_categories_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_list_categories_async, error);
	return reply != NULL ? osc_client_reply_to_distinct(reply, TRUE, error) : NULL;
}

/**
 * osc_client_list_environments:
 * @cancellable: (nullable): a #GCancellable
 *
 * Returns: (transfer full) (array zero-terminated=1): the sorted distinct environments, or
 *   %NULL with @error set
 */
gchar **
osc_client_list_environments(OscClient *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);

	call = osc_client_list_call(NULL, NULL, FALSE);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_distinct(reply, FALSE, error) : NULL;
}

/**
 * osc_client_list_environments_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_list_environments_async(OscClient *self, GCancellable *cancellable,
				   GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));

	osc_client_start(self, osc_client_list_call(NULL, NULL, FALSE), NULL, cancellable,
			 osc_client_list_environments_async, callback, user_data);
}

/**
 * osc_client_list_environments_finish:
 *
 * Returns: (transfer full) (array zero-terminated=1): the environments, or %NULL with
 *   @error set
 */
gchar **
osc_client_list_environments_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(self, result, osc_client_list_environments_async, error);
	return reply != NULL ? osc_client_reply_to_distinct(reply, FALSE, error) : NULL;
}

/* ---- bulk calls: one request per item, in order (API.md §12.3) ---- */

typedef enum {
	OSC_BULK_CREATE,
	OSC_BULK_READ,
	OSC_BULK_DELETE,
} OscBulkOp;

typedef struct {
	OscBulkOp op;
	GPtrArray *items; /* OscConfigEntry */
	gboolean ignore_errors;
	guint index;
	GPtrArray *entries; /* created or read */
	JsonArray *deleted;
	JsonArray *failed;
} OscBulk;

static const gchar *const osc_bulk_names[] = {"create", "read", "delete"};

static OscBulk *
osc_bulk_new(OscBulkOp op, GPtrArray *items, gboolean ignore_errors)
{
	OscBulk *bulk = g_new0(OscBulk, 1);

	bulk->op = op;
	bulk->items = g_ptr_array_ref(items);
	bulk->ignore_errors = ignore_errors;
	bulk->entries = g_ptr_array_new_with_free_func((GDestroyNotify)osc_config_entry_unref);
	bulk->deleted = json_array_new();
	bulk->failed = json_array_new();
	return bulk;
}

static void
osc_bulk_free(OscBulk *bulk)
{
	g_ptr_array_unref(bulk->items);
	g_ptr_array_unref(bulk->entries);
	json_array_unref(bulk->deleted);
	json_array_unref(bulk->failed);
	g_free(bulk);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscBulk, osc_bulk_free)

static OscClientCall *
osc_bulk_call(OscBulk *bulk, OscConfigEntry *item, GError **error)
{
	const gchar *key = osc_config_entry_get_key(item);
	const gchar *env = osc_config_entry_get_environment(item);

	switch (bulk->op) {
	case OSC_BULK_CREATE:
		if (osc_config_entry_get_value(item) == NULL) {
			g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
				    "Entry '%s' has no value", key);
			return NULL;
		}
		return osc_client_create_call(key, env, osc_config_entry_get_value(item),
					      osc_config_entry_get_category(item), error);
	case OSC_BULK_READ:
		return osc_client_read_call(key, env, FALSE);
	case OSC_BULK_DELETE:
	default:
		return osc_client_delete_call(key, env, NULL);
	}
}

static JsonObject *
osc_bulk_item_object(OscConfigEntry *item)
{
	JsonObject *obj = json_object_new();

	json_object_set_string_member(obj, "key", osc_config_entry_get_key(item));
	json_object_set_string_member(obj, "environment", osc_config_entry_get_environment(item));
	return obj;
}

/*
 * Records the outcome of the current item and moves on. Returns FALSE with @error set when
 * the whole bulk call fails: on the first failure unless ignoring errors, and always on
 * cancellation.
 */
static gboolean
osc_bulk_record(OscBulk *bulk, OscClientReply *reply, GError *call_error, GError **error)
{
	OscConfigEntry *item = g_ptr_array_index(bulk->items, bulk->index);
	g_autoptr(GError) local = call_error != NULL ? g_error_copy(call_error) : NULL;

	bulk->index++;
	if (reply != NULL) {
		if (bulk->op == OSC_BULK_DELETE) {
			json_array_add_object_element(bulk->deleted, osc_bulk_item_object(item));
			return TRUE;
		} else {
			OscConfigEntry *entry = osc_client_reply_to_entry(reply, &local);
			if (entry != NULL) {
				g_ptr_array_add(bulk->entries, entry);
				return TRUE;
			}
		}
	}
	g_assert(local != NULL);
	if (!bulk->ignore_errors || g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_propagate_prefixed_error(error, g_steal_pointer(&local),
					   "Bulk %s of '%s': ", osc_bulk_names[bulk->op],
					   osc_config_entry_get_key(item));
		return FALSE;
	}
	g_debug("bulk %s: skipping '%s': %s", osc_bulk_names[bulk->op],
		osc_config_entry_get_key(item), local->message);
	if (bulk->op == OSC_BULK_DELETE) {
		JsonObject *obj = osc_bulk_item_object(item);
		json_object_set_string_member(obj, "error", local->message);
		json_array_add_object_element(bulk->failed, obj);
	}
	return TRUE;
}

/* {"deleted":[{key,environment}],"failed":[{key,environment,error}]} */
static JsonNode *
osc_bulk_delete_result(OscBulk *bulk)
{
	JsonObject *obj = json_object_new();
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_object_set_array_member(obj, "deleted", json_array_ref(bulk->deleted));
	json_object_set_array_member(obj, "failed", json_array_ref(bulk->failed));
	json_node_take_object(node, obj);
	return node;
}

static gboolean
osc_bulk_run(OscClient *self, OscBulk *bulk, GCancellable *cancellable, GError **error)
{
	while (bulk->index < bulk->items->len) {
		OscConfigEntry *item = g_ptr_array_index(bulk->items, bulk->index);
		g_autoptr(GError) local = NULL;
		g_autoptr(OscClientCall) call = osc_bulk_call(bulk, item, &local);
		g_autoptr(OscClientReply) reply = NULL;

		if (call != NULL)
			reply = osc_client_call_run(self, call, cancellable, &local);
		if (!osc_bulk_record(bulk, reply, local, error))
			return FALSE;
	}
	return TRUE;
}

static void osc_bulk_next(GTask *task);

static void
osc_bulk_step_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GTask *task = user_data;
	OscBulk *bulk = g_task_get_task_data(task);
	g_autoptr(GError) local = NULL;
	g_autoptr(OscClientReply) reply =
		osc_client_call_run_finish(OSC_CLIENT(source), result, osc_bulk_next, &local);
	GError *error = NULL;

	if (!osc_bulk_record(bulk, reply, local, &error)) {
		g_task_return_error(task, error);
		g_object_unref(task);
		return;
	}
	osc_bulk_next(task);
}

/* takes @task */
static void
osc_bulk_next(GTask *task)
{
	OscBulk *bulk = g_task_get_task_data(task);
	OscClient *self = g_task_get_source_object(task);

	while (bulk->index < bulk->items->len) {
		OscConfigEntry *item = g_ptr_array_index(bulk->items, bulk->index);
		g_autoptr(GError) local = NULL;
		g_autoptr(OscClientCall) call = osc_bulk_call(bulk, item, &local);
		GError *error = NULL;

		if (call != NULL) {
			osc_client_call_run_async(self, call, g_task_get_cancellable(task),
						  osc_bulk_next, osc_bulk_step_cb, task);
			return;
		}
		if (!osc_bulk_record(bulk, NULL, local, &error)) {
			g_task_return_error(task, error);
			g_object_unref(task);
			return;
		}
	}
	g_task_return_boolean(task, TRUE);
	g_object_unref(task);
}

static void
osc_bulk_start(OscClient *self, OscBulk *bulk, GCancellable *cancellable, gpointer source_tag,
	       GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, source_tag);
	g_task_set_task_data(task, bulk, (GDestroyNotify)osc_bulk_free);
	osc_bulk_next(task);
}

static OscBulk *
osc_bulk_finish(OscClient *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == source_tag, NULL);

	if (!g_task_propagate_boolean(G_TASK(result), error))
		return NULL;
	return g_task_get_task_data(G_TASK(result));
}

/**
 * osc_client_bulk_create:
 * @entries: (element-type OscConfigEntry): the entries to create, made with
 *   osc_config_entry_new()
 * @ignore_errors: whether to go on past failures (and leave those entries out)
 * @cancellable: (nullable): a #GCancellable
 *
 * Creates the entries one after the other. Without @ignore_errors the first failure ends
 * the call with its error; entries created before it stay.
 *
 * Returns: (transfer container) (element-type OscConfigEntry): the created entries, or
 *   %NULL with @error set
 */
GPtrArray *
osc_client_bulk_create(OscClient *self, GPtrArray *entries, gboolean ignore_errors,
		       GCancellable *cancellable, GError **error)
{
	g_autoptr(OscBulk) bulk = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(entries != NULL, NULL);

	bulk = osc_bulk_new(OSC_BULK_CREATE, entries, ignore_errors);
	if (!osc_bulk_run(self, bulk, cancellable, error))
		return NULL;
	return g_ptr_array_ref(bulk->entries);
}

/**
 * osc_client_bulk_create_async:
 * @entries: (element-type OscConfigEntry): the entries to create
 * @ignore_errors: whether to go on past failures
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_bulk_create_async(OscClient *self, GPtrArray *entries, gboolean ignore_errors,
			     GCancellable *cancellable, GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(entries != NULL);

	osc_bulk_start(self, osc_bulk_new(OSC_BULK_CREATE, entries, ignore_errors), cancellable,
		       osc_client_bulk_create_async, callback, user_data);
}

/**
 * osc_client_bulk_create_finish:
 *
 * Returns: (transfer container) (element-type OscConfigEntry): the created entries, or
 *   %NULL with @error set
 */
GPtrArray *
osc_client_bulk_create_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	OscBulk *bulk = osc_bulk_finish(self, result, osc_client_bulk_create_async, error);
	return bulk != NULL ? g_ptr_array_ref(bulk->entries) : NULL;
}

/**
 * osc_client_bulk_read:
 * @items: (element-type OscConfigEntry): the entries to read; only their key and
 *   environment are used
 * @ignore_errors: whether to go on past failures (and leave those entries out)
 * @cancellable: (nullable): a #GCancellable
 *
 * Returns: (transfer container) (element-type OscConfigEntry): the entries read, or %NULL
 *   with @error set
 */
GPtrArray *
osc_client_bulk_read(OscClient *self, GPtrArray *items, gboolean ignore_errors,
		     GCancellable *cancellable, GError **error)
{
	g_autoptr(OscBulk) bulk = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(items != NULL, NULL);

	bulk = osc_bulk_new(OSC_BULK_READ, items, ignore_errors);
	if (!osc_bulk_run(self, bulk, cancellable, error))
		return NULL;
	return g_ptr_array_ref(bulk->entries);
}

/**
 * osc_client_bulk_read_async:
 * @items: (element-type OscConfigEntry): the entries to read
 * @ignore_errors: whether to go on past failures
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_bulk_read_async(OscClient *self, GPtrArray *items, gboolean ignore_errors,
			   GCancellable *cancellable, GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(items != NULL);

	osc_bulk_start(self, osc_bulk_new(OSC_BULK_READ, items, ignore_errors), cancellable,
		       osc_client_bulk_read_async, callback, user_data);
}

/**
 * osc_client_bulk_read_finish:
 *
 * Returns: (transfer container) (element-type OscConfigEntry): the entries read, or %NULL
 *   with @error set
 */
GPtrArray *
osc_client_bulk_read_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	OscBulk *bulk = osc_bulk_finish(self, result, osc_client_bulk_read_async, error);
	return bulk != NULL ? g_ptr_array_ref(bulk->entries) : NULL;
}

/**
 * osc_client_bulk_delete:
 * @items: (element-type OscConfigEntry): the entries to delete; only their key and
 *   environment are used
 * @ignore_errors: whether to go on past failures (and list them under `failed`)
 * @cancellable: (nullable): a #GCancellable
 *
 * Returns: (transfer full): `{"deleted":[{"key","environment"}…],
 *   "failed":[{"key","environment","error"}…]}`, or %NULL with @error set
 */
JsonNode *
osc_client_bulk_delete(OscClient *self, GPtrArray *items, gboolean ignore_errors,
		       GCancellable *cancellable, GError **error)
{
	g_autoptr(OscBulk) bulk = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(items != NULL, NULL);

	bulk = osc_bulk_new(OSC_BULK_DELETE, items, ignore_errors);
	if (!osc_bulk_run(self, bulk, cancellable, error))
		return NULL;
	return osc_bulk_delete_result(bulk);
}

/**
 * osc_client_bulk_delete_async:
 * @items: (element-type OscConfigEntry): the entries to delete
 * @ignore_errors: whether to go on past failures
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_bulk_delete_async(OscClient *self, GPtrArray *items, gboolean ignore_errors,
			     GCancellable *cancellable, GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(items != NULL);

	osc_bulk_start(self, osc_bulk_new(OSC_BULK_DELETE, items, ignore_errors), cancellable,
		       osc_client_bulk_delete_async, callback, user_data);
}

/**
 * osc_client_bulk_delete_finish:
 *
 * Returns: (transfer full): the deleted and failed items, or %NULL with @error set
 */
JsonNode *
osc_client_bulk_delete_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	OscBulk *bulk = osc_bulk_finish(self, result, osc_client_bulk_delete_async, error);
	return bulk != NULL ? osc_bulk_delete_result(bulk) : NULL;
}

/* ---- backup, import, rekey ---- */

/**
 * osc_client_backup:
 * @password: the password that encrypts the backup
 * @category: (nullable): only entries of this category
 * @environment: (nullable): only entries of this environment
 * @cancellable: (nullable): a #GCancellable
 *
 * `POST /backup` (API.md §4.12). Pass the result's `backup_data` to
 * osc_client_import_backup().
 *
 * Returns: (transfer full): `{"backup_data","total_keys","backup_timestamp","backup_id"}`,
 *   or %NULL with @error set
 */
JsonNode *
osc_client_backup(OscClient *self, const gchar *password, const gchar *category,
		  const gchar *environment, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(password != NULL, NULL);

	call = osc_client_backup_call(password, category, environment);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_node(reply) : NULL;
}

/**
 * osc_client_backup_async:
 * @password: the password that encrypts the backup
 * @category: (nullable): only entries of this category
 * @environment: (nullable): only entries of this environment
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_backup_async(OscClient *self, const gchar *password, const gchar *category,
			const gchar *environment, GCancellable *cancellable,
			GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(password != NULL);

	osc_client_start(self, osc_client_backup_call(password, category, environment), NULL,
			 cancellable, osc_client_backup_async, callback, user_data);
}

/**
 * osc_client_backup_finish:
 *
 * Returns: (transfer full): the backup, or %NULL with @error set
 */
JsonNode *
osc_client_backup_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_json_finish(self, result, osc_client_backup_async, error);
}

/**
 * osc_client_import_backup:
 * @backup_data: the `backup_data` of a backup (base64)
 * @password: the password the backup was made with
 * @overwrite: whether to replace entries that exist
 * @cancellable: (nullable): a #GCancellable
 *
 * `POST /import` (API.md §4.13), with the backup in the JSON body. Not retried after the
 * request may have reached the server.
 *
 * Returns: (transfer full): the import summary (`imported`, `skipped`, `failed`,
 *   `failed_keys`, …), or %NULL with @error set
 */
JsonNode *
osc_client_import_backup(OscClient *self, const gchar *backup_data, const gchar *password,
			 gboolean overwrite, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(backup_data != NULL && password != NULL, NULL);

	call = osc_client_import_call(backup_data, password, overwrite);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_node(reply) : NULL;
}

/**
 * osc_client_import_backup_async:
 * @backup_data: the `backup_data` of a backup
 * @password: the password the backup was made with
 * @overwrite: whether to replace entries that exist
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_import_backup_async(OscClient *self, const gchar *backup_data, const gchar *password,
			       gboolean overwrite, GCancellable *cancellable,
			       GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(backup_data != NULL && password != NULL);

	osc_client_start(self, osc_client_import_call(backup_data, password, overwrite), NULL,
			 cancellable, osc_client_import_backup_async, callback, user_data);
}

/**
 * osc_client_import_backup_finish:
 *
 * Returns: (transfer full): the import summary, or %NULL with @error set
 */
JsonNode *
osc_client_import_backup_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_json_finish(self, result, osc_client_import_backup_async, error);
}

/**
 * osc_client_rekey:
 * @new_user_key: the key to re-encrypt with
 * @cancellable: (nullable): a #GCancellable
 *
 * `POST /rekey`: re-encrypts every entry the current user key opens with @new_user_key,
 * atomically. The client keeps using its #OscClient:user-key; set the new one afterwards.
 * Not retried after the request may have reached the server.
 *
 * Returns: (transfer full): `{"message","rekeyed"}`, or %NULL with @error set
 */
JsonNode *
osc_client_rekey(OscClient *self, const gchar *new_user_key, GCancellable *cancellable,
		 GError **error)
{
	g_autoptr(OscClientCall) call = NULL;
	g_autoptr(OscClientReply) reply = NULL;

	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	g_return_val_if_fail(new_user_key != NULL, NULL);

	call = osc_client_rekey_call(new_user_key);
	reply = osc_client_call_run(self, call, cancellable, error);
	return reply != NULL ? osc_client_reply_to_node(reply) : NULL;
}

/**
 * osc_client_rekey_async:
 * @new_user_key: the key to re-encrypt with
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 */
void
osc_client_rekey_async(OscClient *self, const gchar *new_user_key, GCancellable *cancellable,
		       GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(new_user_key != NULL);

	osc_client_start(self, osc_client_rekey_call(new_user_key), NULL, cancellable,
			 osc_client_rekey_async, callback, user_data);
}

/**
 * osc_client_rekey_finish:
 *
 * Returns: (transfer full): the rekey summary, or %NULL with @error set
 */
JsonNode *
osc_client_rekey_finish(OscClient *self, GAsyncResult *result, GError **error)
{
	return osc_client_json_finish(self, result, osc_client_rekey_async, error);
}
