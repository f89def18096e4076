/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscService"

#include "config.h"

#include <openssl/crypto.h>

#include "osc-error.h"
#include "osc-http-server.h"
#include "osc-salt.h"
#include "osc-service-private.h"
#include "osc-sse.h"
#include "osc-value.h"

/* how often an update re-checks the row when another writer got in between */
#define OSC_UPDATE_ATTEMPTS 4

struct _OscService {
	GObject parent_instance;

	OscConfig *config;
	gchar *node_id;
	GBytes *salt;
	gboolean salt_created;
	OscStore *store;
	OscKeyCache *key_cache;
	OscMetrics *metrics;
	OscServiceMetrics families;
	GThreadPool *workers;
	OscHttpServer *http;
	OscSseHub *sse;
	gint entry_count; /* atomic */
	guint64 start_time;
};

enum { SIGNAL_ENTRY_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(OscService, osc_service, G_TYPE_OBJECT)

void
osc_entry_free(OscEntry *entry)
{
	if (entry == NULL)
		return;
	g_clear_pointer(&entry->row, osc_entry_row_free);
	g_clear_pointer(&entry->value, json_node_unref);
	g_free(entry);
}

const gchar *
osc_change_kind_to_string(OscChangeKind kind)
{
	switch (kind) {
	case OSC_CHANGE_CREATED:
		return "created";
	case OSC_CHANGE_UPDATED:
		return "updated";
	case OSC_CHANGE_DELETED:
		return "deleted";
	case OSC_CHANGE_SYNC:
		return "sync";
	default:
		g_return_val_if_reached(NULL);
	}
}

static void
osc_service_register_metrics(OscService *self)
{
	OscServiceMetrics *m = &self->families;
	const gchar *const http_labels[] = {"method", "endpoint", "status_code", NULL};
	const gchar *const duration_labels[] = {"method", "endpoint", NULL};
	const gchar *const op_labels[] = {"operation", "status", NULL};
	const gchar *const status_labels[] = {"status", NULL};
	const gchar *const enc_labels[] = {"operation", NULL};
	const gchar *const error_labels[] = {"endpoint", "error_type", NULL};

	m->http_requests = osc_metrics_add_counter(self->metrics, "osc_http_requests_total",
						   "Total HTTP requests", http_labels);
	m->http_duration = osc_metrics_add_histogram(
	    self->metrics, "osc_http_request_duration_seconds", "HTTP request latency",
	    duration_labels, osc_metrics_default_buckets, G_N_ELEMENTS(osc_metrics_default_buckets));
	m->config_operations = osc_metrics_add_counter(
	    self->metrics, "osc_config_operations_total", "Total configuration operations",
	    op_labels);
	m->config_reads = osc_metrics_add_counter(self->metrics, "osc_config_read_operations_total",
						  "Total read operations", status_labels);
	m->config_writes = osc_metrics_add_counter(
	    self->metrics, "osc_config_write_operations_total", "Total write operations", op_labels);
	m->config_entries = osc_metrics_add_gauge(self->metrics, "osc_config_entries_total",
						  "Total number of configuration entries", NULL);
	m->cluster_nodes = osc_metrics_add_gauge(self->metrics, "osc_cluster_nodes_total",
						 "Total number of cluster nodes", NULL);
	m->cluster_nodes_healthy = osc_metrics_add_gauge(
	    self->metrics, "osc_cluster_nodes_healthy", "Number of healthy cluster nodes", NULL);
	m->cluster_sync_duration = osc_metrics_add_histogram(
	    self->metrics, "osc_cluster_sync_duration_seconds", "Cluster synchronization duration",
	    NULL, osc_metrics_default_buckets, G_N_ELEMENTS(osc_metrics_default_buckets));
	m->encryption_operations = osc_metrics_add_counter(
	    self->metrics, "osc_encryption_operations_total", "Total encryption operations",
	    enc_labels);
	m->api_errors = osc_metrics_add_counter(self->metrics, "osc_api_errors_total",
						"Total API errors", error_labels);
	m->key_derivations = osc_metrics_add_counter(
	    self->metrics, "osc_key_derivations_total",
	    "PBKDF2 key derivations run (cache misses)", NULL);
	m->key_cache_entries = osc_metrics_add_gauge(self->metrics, "osc_key_cache_entries",
						     "Derived keys held in the cache", NULL);
}

static void
osc_service_worker_cb(gpointer data, gpointer user_data)
{
	/* each job is a (func, data) pair queued by osc_service_push_job() */
	gpointer *pair = data;
	GFunc func = (GFunc)pair[0];

	func(pair[1], user_data);
	g_free(pair);
}

/**
 * osc_service_push_job:
 * @self: a #OscService
 * @func: run in a worker thread with (@job, @self)
 * @job: the job data
 *
 * Queues blocking work (database, Fernet, PBKDF2 through the key cache) on the
 * `OSC_WORKERS` threads, so that the main loop never waits on it.
 */
void
osc_service_push_job(OscService *self, GFunc func, gpointer job)
{
	gpointer *pair = g_new(gpointer, 2);
	g_autoptr(GError) error = NULL;

	pair[0] = (gpointer)func;
	pair[1] = job;
	if (!g_thread_pool_push(self->workers, pair, &error))
		g_critical("cannot queue job: %s", error->message);
}

static void
osc_service_finalize(GObject *object)
{
	OscService *self = OSC_SERVICE(object);

	g_clear_object(&self->http);
	g_clear_object(&self->sse);
	if (self->workers != NULL)
		g_thread_pool_free(g_steal_pointer(&self->workers), FALSE, TRUE);
	if (self->store != NULL)
		osc_store_close(self->store);
	g_clear_object(&self->store);
	g_clear_object(&self->key_cache);
	g_clear_object(&self->metrics);
	g_clear_pointer(&self->salt, g_bytes_unref);
	g_clear_pointer(&self->node_id, g_free);
	g_clear_pointer(&self->config, osc_config_free);
	G_OBJECT_CLASS(osc_service_parent_class)->finalize(object);
}

static void
osc_service_class_init(OscServiceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = osc_service_finalize;

	/**
	 * OscService::entry-changed:
	 * @kind: an #OscChangeKind
	 * @row: the row after the change (before it, for deletions)
	 * @value: (nullable): the new plaintext value, for those allowed to see it
	 *
	 * Emitted on the main context after a change is committed.
	 */
	signals[SIGNAL_ENTRY_CHANGED] =
	    g_signal_new("entry-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
			 NULL, NULL, G_TYPE_NONE, 3, G_TYPE_INT, OSC_TYPE_ENTRY_ROW, JSON_TYPE_NODE);
}

static void
osc_service_init(OscService *self)
{
	self->start_time = g_get_real_time();
}

/**
 * osc_service_new:
 * @config: the configuration (copied)
 * @error: return location for a #GError
 *
 * Loads (or creates, 0600, atomically) the salt, opens and migrates the store and starts
 * the worker threads. Does not listen yet: see osc_service_start().
 */
OscService *
osc_service_new(const OscConfig *config, GError **error)
{
	g_autoptr(OscService) self = g_object_new(OSC_TYPE_SERVICE, NULL);
	g_autofree gchar *iterations_text = NULL;
	guint iterations;
	gint64 count;

	g_return_val_if_fail(config != NULL, NULL);

	self->config = osc_config_copy(config);
	if (!osc_config_validate(self->config, error))
		return NULL;
	if (self->config->cluster_enabled) {
		/* better to refuse than to run unreplicated while the operator thinks otherwise */
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "OSC_CLUSTER_ENABLED: REPLICA clustering is not available in this "
				    "version yet");
		return NULL;
	}
	self->node_id = osc_config_get_node_id(self->config);
	self->metrics = osc_metrics_new();
	osc_service_register_metrics(self);

	self->salt = osc_salt_load_or_create(self->config->salt_file_path, &self->salt_created,
					     error);
	if (self->salt == NULL) {
		g_prefix_error(error, "cannot load the salt: ");
		return NULL;
	}
	self->store = osc_store_new(self->config->database_path, error);
	if (self->store == NULL) {
		g_prefix_error(error, "cannot open %s: ", self->config->database_path);
		return NULL;
	}

	/* The iteration count belongs to the data: the store records it (480000 for the
	 * original's files). OSC_PBKDF2_ITERATIONS only seeds a store that has none. */
	iterations_text = osc_store_get_meta(self->store, "pbkdf2_iterations", NULL);
	if (iterations_text == NULL || self->salt_created) {
		g_autofree gchar *text = g_strdup_printf("%u", self->config->pbkdf2_iterations);
		if (!osc_store_set_meta(self->store, "pbkdf2_iterations", text, error))
			return NULL;
		iterations = self->config->pbkdf2_iterations;
	} else {
		guint64 v = 0;
		if (!g_ascii_string_to_unsigned(iterations_text, 10, 1, G_MAXUINT, &v, error)) {
			g_prefix_error(error, "store metadata pbkdf2_iterations: ");
			return NULL;
		}
		iterations = (guint)v;
	}

	self->key_cache = osc_key_cache_new(self->salt, iterations, self->config->key_cache_size,
					    self->config->workers);
	self->workers = g_thread_pool_new(osc_service_worker_cb, self, (gint)self->config->workers,
					  FALSE, error);
	if (self->workers == NULL)
		return NULL;

	self->sse = osc_sse_hub_new(self->metrics, self->node_id, self->config->sse_queue_size,
				    self->config->sse_keepalive_interval, self->config->sse_log_size);

	count = osc_store_count(self->store, NULL, NULL, error);
	if (count < 0)
		return NULL;
	g_atomic_int_set(&self->entry_count, (gint)count);
	osc_metric_set(self->families.config_entries, (gdouble)count, NULL);
	return g_steal_pointer(&self);
}

/**
 * osc_service_start:
 *
 * Starts listening on the configured address (a port of 0 picks a free one).
 */
gboolean
osc_service_start(OscService *self, GError **error)
{
	g_return_val_if_fail(OSC_IS_SERVICE(self), FALSE);
	g_return_val_if_fail(self->http == NULL, FALSE);

	self->http = osc_http_server_new(self);
	if (!osc_http_server_listen(self->http, error)) {
		g_clear_object(&self->http);
		return FALSE;
	}
	return TRUE;
}

static void
osc_service_stop_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	OscService *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;

	if (!osc_http_server_drain_finish(OSC_HTTP_SERVER(source), result, &error))
		g_warning("requests still running at shutdown: %s", error->message);
	/* finish queued database work, then checkpoint so the WAL is folded in */
	if (self->workers != NULL)
		g_thread_pool_free(g_steal_pointer(&self->workers), FALSE, TRUE);
	if (!osc_store_checkpoint(self->store, &error))
		g_warning("checkpoint at shutdown failed: %s", error->message);
	osc_store_close(self->store);
	osc_key_cache_clear(self->key_cache);
	g_task_return_boolean(task, TRUE);
}

/**
 * osc_service_stop_async:
 * @timeout_ms: how long in-flight requests may take to finish
 *
 * Graceful shutdown: stop accepting, let in-flight requests finish (up to @timeout_ms),
 * drain the workers, checkpoint and close the store, wipe the key cache.
 */
void
osc_service_stop_async(OscService *self,
		       guint timeout_ms,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, osc_service_stop_async);
	/* event streams never finish by themselves: end them first */
	osc_sse_hub_close_all(self->sse);
	if (self->http == NULL) {
		if (self->workers != NULL)
			g_thread_pool_free(g_steal_pointer(&self->workers), FALSE, TRUE);
		osc_store_close(self->store);
		osc_key_cache_clear(self->key_cache);
		g_task_return_boolean(task, TRUE);
		return;
	}
	osc_http_server_drain_async(self->http, timeout_ms, cancellable, osc_service_stop_cb,
				    g_steal_pointer(&task));
}

gboolean
osc_service_stop_finish(OscService *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

const OscConfig *
osc_service_get_config(OscService *self)
{
	g_return_val_if_fail(OSC_IS_SERVICE(self), NULL);
	return self->config;
}

OscStore *
osc_service_get_store(OscService *self)
{
	g_return_val_if_fail(OSC_IS_SERVICE(self), NULL);
	return self->store;
}

OscKeyCache *
osc_service_get_key_cache(OscService *self)
{
	g_return_val_if_fail(OSC_IS_SERVICE(self), NULL);
	return self->key_cache;
}

OscMetrics *
osc_service_get_metrics(OscService *self)
{
	g_return_val_if_fail(OSC_IS_SERVICE(self), NULL);
	return self->metrics;
}

OscSseHub *
osc_service_get_sse_hub(OscService *self)
{
	return self->sse;
}

OscServiceMetrics *
osc_service_get_metric_families(OscService *self)
{
	return &self->families;
}

guint64
osc_service_get_start_time(OscService *self)
{
	return self->start_time;
}

const gchar *
osc_service_get_node_id(OscService *self)
{
	g_return_val_if_fail(OSC_IS_SERVICE(self), NULL);
	return self->node_id;
}

GPtrArray *
osc_service_get_uris(OscService *self)
{
	g_return_val_if_fail(OSC_IS_SERVICE(self), NULL);
	if (self->http == NULL)
		return g_ptr_array_new();
	return osc_http_server_get_uris(self->http);
}

guint
osc_service_get_port(OscService *self)
{
	g_autoptr(GPtrArray) uris = NULL;

	g_return_val_if_fail(OSC_IS_SERVICE(self), 0);
	uris = osc_service_get_uris(self);
	if (uris->len == 0)
		return 0;
	return (guint)g_uri_get_port(g_ptr_array_index(uris, 0));
}

gint64
osc_service_get_entry_count(OscService *self)
{
	g_return_val_if_fail(OSC_IS_SERVICE(self), 0);
	return g_atomic_int_get(&self->entry_count);
}

gboolean
osc_service_get_salt_created(OscService *self)
{
	g_return_val_if_fail(OSC_IS_SERVICE(self), FALSE);
	return self->salt_created;
}

/* ---- entry operations (worker threads) ---- */

/*
 * D-3: a user key opens only what it encrypted. Rows carry the fingerprint of the key
 * that wrote them; rows from an original database have none until their first successful
 * decrypt, which records it. On success *plaintext (if asked) holds the decrypted bytes.
 */
static gboolean
osc_service_check_key(OscService *self,
		      OscDerivedKey *dk,
		      OscEntryRow *row,
		      GBytes **plaintext,
		      GError **error)
{
	const gchar *fp = osc_derived_key_get_fingerprint(dk);
	g_autoptr(GBytes) plain = NULL;
	g_autoptr(GError) error_local = NULL;

	if (row->fingerprint != NULL &&
	    !osc_crypto_equal(row->fingerprint, strlen(row->fingerprint), fp, strlen(fp))) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_AUTH,
			    "Decryption failed: X-User-Key does not match the key that encrypted "
			    "'%s' in environment '%s'",
			    row->key, row->environment);
		return FALSE;
	}
	if (row->fingerprint != NULL && plaintext == NULL)
		return TRUE;

	plain = osc_fernet_decrypt(osc_derived_key_get_bytes(dk), row->token, strlen(row->token),
				   0, 0, &error_local);
	if (plain == NULL) {
		/* with a matching fingerprint this is corruption, else simply the wrong key */
		if (row->fingerprint != NULL) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_CORRUPT,
				    "stored value of '%s' cannot be decrypted: %s", row->key,
				    error_local->message);
		} else {
			g_set_error(error, OSC_ERROR, OSC_ERROR_AUTH,
				    "Decryption failed: X-User-Key does not match the key that "
				    "encrypted '%s' in environment '%s'",
				    row->key, row->environment);
		}
		return FALSE;
	}
	if (row->fingerprint == NULL) {
		g_autoptr(GError) error_fp = NULL;
		if (!osc_store_set_fingerprint(self->store, row->id, fp, &error_fp))
			g_debug("cannot record key fingerprint: %s", error_fp->message);
		row->fingerprint = g_strdup(fp);
	}
	if (plaintext != NULL)
		*plaintext = g_steal_pointer(&plain);
	return TRUE;
}

static JsonNode *
osc_service_decode(GBytes *plaintext, GError **error)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(plaintext, &len);
	JsonNode *value = osc_value_parse(data, (gssize)len, error);

	/* the plaintext is a secret: wipe our copy now that the value is parsed */
	OPENSSL_cleanse((gpointer)data, len);
	return value;
}

static gchar *
osc_service_encrypt(OscService *self, OscDerivedKey *dk, JsonNode *value, GError **error)
{
	gsize len = 0;
	g_autofree gchar *plain = osc_value_to_python_json(value, &len);
	gchar *token;

	if (len > self->config->max_value_size) {
		OPENSSL_cleanse(plain, len);
		g_set_error(error, OSC_ERROR, OSC_ERROR_TOO_LARGE,
			    "value is %" G_GSIZE_FORMAT " bytes, over the limit of %" G_GSIZE_FORMAT
			    " bytes",
			    len, self->config->max_value_size);
		return NULL;
	}
	token = osc_fernet_encrypt(osc_derived_key_get_bytes(dk), (const guint8 *)plain, len,
				   g_get_real_time() / G_USEC_PER_SEC, NULL, error);
	OPENSSL_cleanse(plain, len);
	return token;
}

static gboolean
osc_service_if_match(GArray *if_match, OscEntryRow *row, GError **error)
{
	if (if_match == NULL || if_match->len == 0)
		return TRUE;
	for (guint i = 0; i < if_match->len; i++) {
		gint64 rev = g_array_index(if_match, gint64, i);
		if (rev < 0 || rev == row->revision)
			return TRUE;
	}
	g_set_error(error, OSC_ERROR, OSC_ERROR_PRECONDITION_FAILED,
		    "Precondition failed: configuration '%s' has changed (current ETag \"%" G_GINT64_FORMAT
		    "\")",
		    row->key, row->revision);
	return FALSE;
}

OscEntry *
osc_service_entry_create(OscService *self,
			 OscDerivedKey *dk,
			 const gchar *key,
			 const gchar *environment,
			 const gchar *category,
			 JsonNode *value,
			 GError **error)
{
	g_autofree gchar *token = osc_service_encrypt(self, dk, value, error);
	OscEntry *entry;
	OscEntryRow *row;

	if (token == NULL)
		return NULL;
	row = osc_store_insert(self->store, key, environment, category, token,
			       osc_derived_key_get_fingerprint(dk), error);
	if (row == NULL)
		return NULL;
	g_atomic_int_inc(&self->entry_count);
	entry = g_new0(OscEntry, 1);
	entry->row = row;
	entry->value = json_node_ref(value);
	return entry;
}

OscEntry *
osc_service_entry_read(OscService *self,
		       OscDerivedKey *dk,
		       const gchar *key,
		       const gchar *environment,
		       GError **error)
{
	g_autoptr(OscEntryRow) row = osc_store_get(self->store, key, environment, error);
	g_autoptr(GBytes) plain = NULL;
	JsonNode *value;
	OscEntry *entry;

	if (row == NULL)
		return NULL;
	if (!osc_service_check_key(self, dk, row, &plain, error))
		return NULL;
	value = osc_service_decode(plain, error);
	if (value == NULL)
		return NULL;
	entry = g_new0(OscEntry, 1);
	entry->row = g_steal_pointer(&row);
	entry->value = value;
	return entry;
}

OscEntry *
osc_service_entry_update(OscService *self,
			 OscDerivedKey *dk,
			 const gchar *key,
			 const gchar *environment,
			 gboolean set_category,
			 const gchar *category,
			 JsonNode *value,
			 GArray *if_match,
			 GError **error)
{
	g_autofree gchar *token = osc_service_encrypt(self, dk, value, error);

	if (token == NULL)
		return NULL;
	for (guint attempt = 0;; attempt++) {
		g_autoptr(OscEntryRow) row = osc_store_get(self->store, key, environment, error);
		g_autoptr(GError) error_local = NULL;
		OscEntryRow *updated;
		OscEntry *entry;

		if (row == NULL)
			return NULL;
		if (!osc_service_check_key(self, dk, row, NULL, error))
			return NULL;
		if (!osc_service_if_match(if_match, row, error))
			return NULL;
		/* compare-and-set on the revision just checked: a concurrent writer with
		 * another key must not slip in between the check and the write */
		updated = osc_store_update(self->store, key, environment, set_category, category,
					   token, osc_derived_key_get_fingerprint(dk),
					   row->revision, &error_local);
		if (updated == NULL) {
			if (g_error_matches(error_local, OSC_ERROR,
					    OSC_ERROR_PRECONDITION_FAILED) &&
			    (if_match == NULL || if_match->len == 0) &&
			    attempt + 1 < OSC_UPDATE_ATTEMPTS)
				continue;
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		entry = g_new0(OscEntry, 1);
		entry->row = updated;
		entry->value = json_node_ref(value);
		return entry;
	}
}

OscEntryRow *
osc_service_entry_delete(OscService *self,
			 OscDerivedKey *dk,
			 const gchar *key,
			 const gchar *environment,
			 GArray *if_match,
			 GError **error)
{
	for (guint attempt = 0;; attempt++) {
		g_autoptr(OscEntryRow) row = osc_store_get(self->store, key, environment, error);
		g_autoptr(GError) error_local = NULL;

		if (row == NULL)
			return NULL;
		if (!osc_service_check_key(self, dk, row, NULL, error))
			return NULL;
		if (!osc_service_if_match(if_match, row, error))
			return NULL;
		if (!osc_store_delete(self->store, key, environment, row->revision,
				      &error_local)) {
			if (g_error_matches(error_local, OSC_ERROR,
					    OSC_ERROR_PRECONDITION_FAILED) &&
			    (if_match == NULL || if_match->len == 0) &&
			    attempt + 1 < OSC_UPDATE_ATTEMPTS)
				continue;
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		g_atomic_int_add(&self->entry_count, -1);
		return g_steal_pointer(&row);
	}
}

/**
 * osc_service_entry_list:
 *
 * Returns: (element-type OscEntry): the matching entries this key opens, in id order.
 * When entries match but none opens with this key, fails with %OSC_ERROR_AUTH: a
 * mistyped key must not look like an empty store (D-3).
 */
GPtrArray *
osc_service_entry_list(OscService *self,
		       OscDerivedKey *dk,
		       const gchar *category,
		       const gchar *environment,
		       GError **error)
{
	g_autoptr(GPtrArray) rows = osc_store_list(self->store, category, environment, error);
	g_autoptr(GPtrArray) entries = NULL;

	if (rows == NULL)
		return NULL;
	entries = g_ptr_array_new_full(rows->len, (GDestroyNotify)osc_entry_free);
	for (guint i = 0; i < rows->len; i++) {
		OscEntryRow *row = g_ptr_array_index(rows, i);
		g_autoptr(GBytes) plain = NULL;
		g_autoptr(GError) error_local = NULL;
		JsonNode *value;
		OscEntry *entry;

		if (!osc_service_check_key(self, dk, row, &plain, &error_local)) {
			if (g_error_matches(error_local, OSC_ERROR, OSC_ERROR_AUTH))
				continue;
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		value = osc_service_decode(plain, error);
		if (value == NULL)
			return NULL;
		entry = g_new0(OscEntry, 1);
		/* take the row, leaving NULL behind so the indexes stay valid */
		entry->row = g_steal_pointer(&g_ptr_array_index(rows, i));
		entry->value = value;
		g_ptr_array_add(entries, entry);
	}
	if (rows->len > 0 && entries->len == 0) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_AUTH,
				    "Decryption failed: X-User-Key does not open any of the "
				    "matching configurations");
		return NULL;
	}
	return g_steal_pointer(&entries);
}

/**
 * osc_service_notify_change:
 *
 * Called on the main context once a change is committed; fans it out (SSE, D-Bus) and
 * keeps the entry gauge current without the original's decrypt-everything refresh (D3).
 */
void
osc_service_notify_change(OscService *self, OscChangeKind kind, OscEntryRow *row, JsonNode *value)
{
	g_return_if_fail(OSC_IS_SERVICE(self));
	g_return_if_fail(row != NULL);

	osc_metric_set(self->families.config_entries, (gdouble)osc_service_get_entry_count(self),
		       NULL);
	osc_sse_hub_publish(self->sse, osc_change_kind_to_string(kind), row, value);
	g_signal_emit(self, signals[SIGNAL_ENTRY_CHANGED], 0, (gint)kind, row, value);
}
