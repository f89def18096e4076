/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscService"

#include "config.h"

#include <openssl/crypto.h>

#include "osc-backup.h"
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
	OscCluster *cluster; /* (nullable) REPLICA clustering */
	gint entry_count; /* atomic */
	guint memo_trim_id; /* drops list answers no longer current */
};

enum { SIGNAL_ENTRY_CHANGED, SIGNAL_BULK_CHANGE, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(OscService, osc_service, G_TYPE_OBJECT)

void
osc_entry_free(OscEntry *entry)
{
	if (entry == NULL)
		return;
	g_clear_pointer(&entry->row, osc_entry_row_free);
	g_clear_pointer(&entry->value, json_node_unref);
	if (entry->value_json != NULL) {
		/* a secret */
		OPENSSL_cleanse(entry->value_json, strlen(entry->value_json));
		g_free(entry->value_json);
	}
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
	const gchar *const result_labels[] = {"result", NULL};

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
	m->list_cache_lookups = osc_metrics_add_counter(
	    self->metrics, "osc_list_cache_lookups_total",
	    "Lists of entries answered from memory (hit), not found there (miss) or read from "
	    "the store as the client asked (bypass)",
	    result_labels);
	m->list_cache_refused = osc_metrics_add_counter(
	    self->metrics, "osc_list_cache_refused_total",
	    "List answers not kept in memory: over an eighth of OSC_LIST_CACHE_SIZE, or no room "
	    "left in it",
	    NULL);
	m->list_cache_bytes = osc_metrics_add_gauge(self->metrics, "osc_list_cache_bytes",
						    "Bytes of list answers held in memory", NULL);
	m->db_commits = osc_metrics_add_counter(self->metrics, "osc_db_commits_total",
						"Write transactions committed to the database", NULL);
	m->db_syncs = osc_metrics_add_counter(
	    self->metrics, "osc_db_syncs_total",
	    "Syncs of the database's write-ahead log to disk; writes committed together share one",
	    NULL);
	m->db_writes_refused = osc_metrics_add_gauge(
	    self->metrics, "osc_db_writes_refused",
	    "1 once a sync to disk has failed: writes are refused until a restart", NULL);
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

	g_clear_handle_id(&self->memo_trim_id, g_source_remove);
	if (self->cluster != NULL)
		osc_cluster_stop(self->cluster);
	g_clear_object(&self->cluster);
	/* a request in flight keeps the HTTP server alive past us: it must not find us */
	if (self->http != NULL)
		osc_http_server_close(self->http);
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

	/**
	 * OscService::bulk-change:
	 * @reason: why, as sent in the SSE reset event
	 *
	 * Emitted on the main context when many entries changed at once (a large import, a
	 * re-key) instead of one #OscService::entry-changed per entry.
	 */
	signals[SIGNAL_BULK_CHANGE] =
	    g_signal_new("bulk-change", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
			 NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
osc_service_init(OscService *self)
{
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
	gboolean salt_adopted = FALSE;

	g_return_val_if_fail(config != NULL, NULL);

	self->config = osc_config_copy(config);
	if (!osc_config_validate(self->config, error))
		return NULL;
	/* a cluster node adopts its peers' salt before it can serve any user key (§9.5) */
	if (self->config->cluster_enabled &&
	    !osc_cluster_bootstrap_salt(self->config, &salt_adopted, error)) {
		g_prefix_error(error, "cluster salt bootstrap: ");
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
	if (iterations_text == NULL || self->salt_created || salt_adopted) {
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
	osc_store_set_versions_kept(self->store, self->config->versions_kept);
	osc_store_set_node_id(self->store, self->node_id);
	osc_metric_set(self->families.config_entries, (gdouble)count, NULL);
	if (self->config->cluster_enabled) {
		/* rows written before clustering (or by the original) replicate as this node's */
		if (osc_store_stamp_unstamped(self->store, error) < 0)
			return NULL;
		self->cluster = osc_cluster_new(self, error);
		if (self->cluster == NULL)
			return NULL;
	}
	return g_steal_pointer(&self);
}

/* Drops the list answers kept with the derived keys that a write or their age made stale
 * (all of them when the list cache is off), so that they hold no memory, and no plaintext
 * of values since changed, until their key's next lookup. */
static void
osc_service_trim_memos(OscService *self)
{
	osc_key_cache_trim_memos(self->key_cache, osc_store_get_generation(self->store),
				 self->config->list_cache_size > 0 ? OSC_STORE_CACHE_TTL_US : 0);
}

static gboolean
osc_service_trim_memos_cb(gpointer user_data)
{
	osc_service_trim_memos(OSC_SERVICE(user_data));
	return G_SOURCE_CONTINUE;
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
	if (self->cluster != NULL)
		osc_cluster_start(self->cluster);
	self->memo_trim_id = g_timeout_add_seconds(1, osc_service_trim_memos_cb, self);
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
	g_clear_handle_id(&self->memo_trim_id, g_source_remove);
	if (self->cluster != NULL)
		osc_cluster_stop(self->cluster);
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

OscCluster *
osc_service_get_cluster(OscService *self)
{
	return self->cluster;
}

/* rows that replication created (+1) or deleted (-1) */
void
osc_service_adjust_entry_count(OscService *self, gint delta)
{
	g_atomic_int_add(&self->entry_count, delta);
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

/* the decrypted plaintext as compact JSON text, wiping the plaintext */
static gchar *
osc_service_decode_text(GBytes *plaintext, GError **error)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(plaintext, &len);
	gchar *text = osc_json_compact(data, (gssize)len, NULL, error);

	OPENSSL_cleanse((gpointer)data, len);
	return text;
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

/* checks @dk against @row (D-3), which it takes, and decrypts the value */
static OscEntry *
osc_service_entry_open(OscService *self, OscDerivedKey *dk, OscEntryRow *row_in, GError **error)
{
	g_autoptr(OscEntryRow) row = row_in;
	g_autoptr(GBytes) plain = NULL;
	gchar *text;
	OscEntry *entry;

	if (!osc_service_check_key(self, dk, row, &plain, error))
		return NULL;
	text = osc_service_decode_text(plain, error);
	if (text == NULL)
		return NULL;
	entry = g_new0(OscEntry, 1);
	entry->row = g_steal_pointer(&row);
	entry->value_json = text;
	return entry;
}

OscEntry *
osc_service_entry_read(OscService *self,
		       OscDerivedKey *dk,
		       const gchar *key,
		       const gchar *environment,
		       GError **error)
{
	OscEntryRow *row = osc_store_get(self->store, key, environment, error);

	if (row == NULL)
		return NULL;
	return osc_service_entry_open(self, dk, row, error);
}

/**
 * osc_service_entry_read_cached:
 * @entry: (out) (transfer full) (nullable): the entry, or %NULL with @error set
 *
 * osc_service_entry_read() for the main loop: answers only from a row the store holds in
 * memory (osc_store_get_cached()), so it neither touches the database nor writes. The
 * Fernet check and decryption are all it costs.
 *
 * Returns: %FALSE when it cannot answer without the database; then call
 *   osc_service_entry_read() on a worker
 */
gboolean
osc_service_entry_read_cached(OscService *self,
			      OscDerivedKey *dk,
			      const gchar *key,
			      const gchar *environment,
			      OscEntry **entry,
			      GError **error)
{
	OscEntryRow *row;

	g_return_val_if_fail(OSC_IS_SERVICE(self), FALSE);
	g_return_val_if_fail(entry != NULL, FALSE);

	row = osc_store_get_cached(self->store, key, environment);
	if (row == NULL)
		return FALSE;
	/* a row of the original's has its fingerprint written at the first decrypt: a write */
	if (row->fingerprint == NULL) {
		osc_entry_row_free(row);
		return FALSE;
	}
	*entry = osc_service_entry_open(self, dk, row, error);
	return TRUE;
}

typedef struct {
	OscService *self;
	OscDerivedKey *dk;
	GArray *if_match;
	GError *error;
} UpdateCheck;

/* inside the write transaction: the row as it is now, not as it was a moment ago */
static gboolean
osc_service_update_may_overwrite_cb(OscEntryRow *existing, gpointer user_data, gchar **reason)
{
	UpdateCheck *check = user_data;

	if (!osc_service_check_key(check->self, check->dk, existing, NULL, &check->error) ||
	    !osc_service_if_match(check->if_match, existing, &check->error)) {
		*reason = g_strdup(check->error->message);
		return FALSE;
	}
	return TRUE;
}

/**
 * osc_service_entry_update:
 *
 * Checks the key (D-3) and If-Match on the row inside the same transaction as the write,
 * so neither a concurrent writer with another key nor a concurrent update can slip in
 * between, and concurrent updates without If-Match all succeed (last writer wins).
 */
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
	UpdateCheck check = {self, dk, if_match, NULL};
	OscStoreImportOp op = {0};
	OscEntry *entry;

	if (token == NULL)
		return NULL;
	op.key = key;
	op.environment = environment;
	op.category = set_category ? category : NULL;
	op.token = token;
	op.fingerprint = osc_derived_key_get_fingerprint(dk);
	op.update_only = TRUE;
	if (!osc_store_import(self->store, &op, 1, osc_service_update_may_overwrite_cb, &check,
			      error)) {
		g_clear_error(&check.error);
		return NULL;
	}
	switch (op.result) {
	case OSC_STORE_IMPORT_OVERWRITTEN:
		break;
	case OSC_STORE_IMPORT_SKIPPED:
		/* update_only: there is no such row */
		g_set_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND,
			    "Configuration with key '%s' not found in environment '%s'", key,
			    environment);
		return NULL;
	case OSC_STORE_IMPORT_FAILED:
	case OSC_STORE_IMPORT_CREATED:
	default:
		g_free(op.error);
		g_clear_pointer(&op.row, osc_entry_row_free);
		if (check.error != NULL) {
			g_propagate_error(error, check.error);
		} else {
			g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED, "update refused");
		}
		return NULL;
	}
	g_clear_error(&check.error);
	entry = g_new0(OscEntry, 1);
	entry->row = g_steal_pointer(&op.row);
	entry->value = json_node_ref(value);
	return entry;
}

/* the key check and If-Match run on the row inside the delete's transaction */
OscEntryRow *
osc_service_entry_delete(OscService *self,
			 OscDerivedKey *dk,
			 const gchar *key,
			 const gchar *environment,
			 GArray *if_match,
			 GError **error)
{
	UpdateCheck check = {self, dk, if_match, NULL};
	g_autoptr(GError) error_local = NULL;
	OscEntryRow *deleted = NULL;

	if (!osc_store_delete_checked(self->store, key, environment,
				      osc_service_update_may_overwrite_cb, &check, &deleted,
				      &error_local)) {
		if (check.error != NULL)
			g_propagate_error(error, g_steal_pointer(&check.error));
		else
			g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	g_clear_error(&check.error);
	g_atomic_int_add(&self->entry_count, -1);
	return deleted;
}

typedef struct {
	OscService *self;
	OscDerivedKey *dk;
	OscServiceEntryFunc func;
	gpointer user_data;
	guint matched;
	guint opened;
	GError *error;
} ListStream;

static gboolean
osc_service_entry_foreach_cb(OscEntryRow *row, gpointer user_data)
{
	ListStream *st = user_data;
	g_autoptr(GBytes) plain = NULL;
	g_autoptr(GError) error_local = NULL;
	/* the row is borrowed: checking a legacy row records its fingerprint in it */
	g_autoptr(OscEntryRow) copy = row->fingerprint == NULL ? osc_entry_row_copy(row) : NULL;
	gsize len = 0;
	const gchar *data;
	gboolean ok;

	if (copy != NULL)
		row = copy;
	st->matched++;
	if (!osc_service_check_key(st->self, st->dk, row, &plain, &error_local)) {
		if (g_error_matches(error_local, OSC_ERROR, OSC_ERROR_AUTH))
			return TRUE;
		g_propagate_error(&st->error, g_steal_pointer(&error_local));
		return FALSE;
	}
	st->opened++;
	data = g_bytes_get_data(plain, &len);
	ok = st->func(row, data, len, st->user_data, &st->error);
	OPENSSL_cleanse((gpointer)data, len);
	return ok;
}

/**
 * osc_service_entry_foreach:
 * @func: called with each entry @dk opens, in id order, with its row (borrowed, not to be
 *   modified) and its plaintext (the stored JSON text, wiped after the call)
 *
 * The list of API.md §4.9 without a copy of any row or value: D-3, the entries this key
 * opens; %OSC_ERROR_AUTH when entries match and it opens none of them. Stops at the first
 * error of @func.
 *
 * Returns: %TRUE when every entry was handed to @func
 */
gboolean
osc_service_entry_foreach(OscService *self,
			  OscDerivedKey *dk,
			  const gchar *category,
			  const gchar *environment,
			  OscServiceEntryFunc func,
			  gpointer user_data,
			  GError **error)
{
	ListStream st = {self, dk, func, user_data, 0, 0, NULL};

	if (!osc_store_foreach(self->store, category, environment, osc_service_entry_foreach_cb,
			       &st, error))
		return FALSE;
	if (st.error != NULL) {
		g_propagate_error(error, st.error);
		return FALSE;
	}
	if (st.matched > 0 && st.opened == 0) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_AUTH,
				    "Decryption failed: X-User-Key does not open any of the "
				    "matching configurations");
		return FALSE;
	}
	return TRUE;
}

/* one configuration of the backup document, in Python's json.dumps form (§7.1) */
static void
osc_service_backup_append(GString *out, OscEntryRow *row, JsonNode *value)
{
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	JsonObject *obj = json_object_new();
	g_autofree gchar *created = osc_timestamp_db_to_api(row->created_at);
	g_autofree gchar *updated = osc_timestamp_db_to_api(row->updated_at);
	g_autofree gchar *text = NULL;
	gsize len = 0;

	json_object_set_int_member(obj, "id", row->id);
	json_object_set_string_member(obj, "key", row->key);
	if (row->category != NULL)
		json_object_set_string_member(obj, "category", row->category);
	else
		json_object_set_null_member(obj, "category");
	json_object_set_string_member(obj, "environment", row->environment);
	json_object_set_member(obj, "value", json_node_ref(value));
	json_object_set_string_member(obj, "created_at", created);
	json_object_set_string_member(obj, "updated_at", updated);
	json_node_take_object(node, obj);
	text = osc_value_to_python_json(node, &len);
	g_string_append_len(out, text, (gssize)len);
	OPENSSL_cleanse(text, len);
}

static gchar *
osc_service_python_string(const gchar *text)
{
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_VALUE);

	json_node_set_string(node, text);
	return osc_value_to_python_json(node, NULL);
}

typedef struct {
	OscService *self;
	OscDerivedKey *dk;
	GString *doc;
	guint matched;
	guint total;
	GError *error;
} BackupStream;

/* one row at a time: decrypt, write, forget, so the values are never all in memory */
static gboolean
osc_service_backup_row_cb(OscEntryRow *row, gpointer user_data)
{
	BackupStream *st = user_data;
	g_autoptr(GBytes) plain = NULL;
	g_autoptr(GError) error_row = NULL;
	g_autoptr(JsonNode) value = NULL;
	/* the row is borrowed: checking a legacy row records its fingerprint in it */
	g_autoptr(OscEntryRow) copy = row->fingerprint == NULL ? osc_entry_row_copy(row) : NULL;

	if (copy != NULL)
		row = copy;
	st->matched++;
	if (!osc_service_check_key(st->self, st->dk, row, &plain, &error_row)) {
		if (g_error_matches(error_row, OSC_ERROR, OSC_ERROR_AUTH))
			return TRUE;
		g_propagate_error(&st->error, g_steal_pointer(&error_row));
		return FALSE;
	}
	value = osc_service_decode(plain, &st->error);
	if (value == NULL)
		return FALSE;
	if (st->total > 0)
		g_string_append(st->doc, ", ");
	osc_service_backup_append(st->doc, row, value);
	st->total++;
	return TRUE;
}

/**
 * osc_service_backup_full:
 * @backup_data: (out) (optional): the `backup_data` text, left out of the returned object
 *   (where it is then ""), so that tens of megabytes need not be copied into it
 *
 * The entries this key opens (D-3: 401 when entries match and none opens), as the
 * original's encrypted backup: one PBKDF2 for the password, none per entry. The document
 * is written entry by entry from a cursor over the store, not built as one tree, and
 * encrypted where it lies: 100,000 entries cost the document and the envelope.
 *
 * Returns: the /backup response object
 */
JsonNode *
osc_service_backup_full(OscService *self,
			OscDerivedKey *dk,
			const gchar *password,
			gsize password_len,
			const gchar *category,
			const gchar *environment,
			gchar **backup_data_out,
			GError **error)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree gchar *ts = osc_timestamp_from_datetime(now);
	g_autofree gchar *backup_id = g_strdup_printf("backup-%" G_GINT64_FORMAT,
						      g_date_time_to_unix(now));
	g_autofree gchar *ts_json = osc_service_python_string(ts);
	g_autofree gchar *id_json = osc_service_python_string(backup_id);
	g_autofree gchar *backup_data = NULL;
	g_autofree gchar *total_text = NULL;
	BackupStream st = {self, dk, NULL, 0, 0, NULL};
	gsize total_at, doc_len;
	JsonObject *obj;
	JsonNode *node;

	st.doc = g_string_sized_new(4096);
	/* room for the Fernet header: the document is encrypted where it lies */
	g_string_set_size(st.doc, OSC_FERNET_HEADER_LEN);
	g_string_append_printf(st.doc,
			       "{\"version\": \"%s\", \"backup_id\": %s, \"backup_timestamp\": %s, "
			       "\"total_keys\": ",
			       OSC_BACKUP_FORMAT_VERSION, id_json, ts_json);
	/* the count is only known at the end: keep its place (10 digits always fit) */
	total_at = st.doc->len;
	g_string_append(st.doc, "          , \"configurations\": [");
	if (!osc_store_foreach(self->store, category, environment, osc_service_backup_row_cb, &st,
			       error) ||
	    st.error != NULL) {
		if (st.error != NULL)
			g_propagate_error(error, st.error);
		OPENSSL_cleanse(st.doc->str, st.doc->len);
		g_string_free(st.doc, TRUE);
		return NULL;
	}
	/* D-3: entries matched and none opened is a mistyped key, not an empty backup */
	if (st.matched > 0 && st.total == 0) {
		OPENSSL_cleanse(st.doc->str, st.doc->len);
		g_string_free(st.doc, TRUE);
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_AUTH,
				    "Decryption failed: X-User-Key does not open any of the "
				    "matching configurations");
		return NULL;
	}
	g_string_append(st.doc, "]}");
	total_text = g_strdup_printf("%u", st.total);
	/* fill the reserved place and close the gap, so the text stays byte-identical to
	 * what Python's json.dumps writes */
	memcpy(st.doc->str + total_at, total_text, strlen(total_text));
	g_string_erase(st.doc, (gssize)(total_at + strlen(total_text)),
		       (gssize)(10 - strlen(total_text)));
	doc_len = st.doc->len - OSC_FERNET_HEADER_LEN;
	g_string_set_size(st.doc, OSC_FERNET_RAW_LEN(doc_len));
	backup_data = osc_backup_encrypt_in_place(password, password_len, (guint8 *)st.doc->str,
						  doc_len, NULL, 0, NULL, error);
	OPENSSL_cleanse(st.doc->str, st.doc->len);
	g_string_free(st.doc, TRUE);
	if (backup_data == NULL)
		return NULL;

	obj = json_object_new();
	json_object_set_string_member(obj, "backup_data",
				      backup_data_out != NULL ? "" : backup_data);
	json_object_set_int_member(obj, "total_keys", st.total);
	json_object_set_string_member(obj, "backup_timestamp", ts);
	json_object_set_string_member(obj, "backup_id", backup_id);
	/* the JS client's type declares this name (API.md §13.2) */
	json_object_set_int_member(obj, "total_configs", st.total);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	if (backup_data_out != NULL)
		*backup_data_out = g_steal_pointer(&backup_data);
	return node;
}

/**
 * osc_service_backup:
 *
 * osc_service_backup_full() with `backup_data` inside the returned object.
 *
 * Returns: the /backup response object
 */
JsonNode *
osc_service_backup(OscService *self,
		   OscDerivedKey *dk,
		   const gchar *password,
		   gsize password_len,
		   const gchar *category,
		   const gchar *environment,
		   GError **error)
{
	return osc_service_backup_full(self, dk, password, password_len, category, environment,
				       NULL, error);
}

typedef struct {
	OscService *self;
	OscDerivedKey *dk;
} ImportCheck;

/* D-3 on overwrite: only an entry this key encrypted may be replaced by the import */
static gboolean
osc_service_import_may_overwrite_cb(OscEntryRow *existing, gpointer user_data, gchar **reason)
{
	ImportCheck *check = user_data;
	g_autoptr(GError) error = NULL;

	if (osc_service_check_key(check->self, check->dk, existing, NULL, &error))
		return TRUE;
	*reason = g_strdup(error->message);
	return FALSE;
}

static void
osc_service_import_fail(JsonArray *failed, const gchar *key, const gchar *message)
{
	JsonObject *f = json_object_new();

	json_object_set_string_member(f, "key", key != NULL ? key : "unknown");
	json_object_set_string_member(f, "error", message);
	json_array_add_object_element(failed, f);
}

typedef struct {
	OscService *self;
	OscDerivedKey *dk;
	OscBackupReader *reader;
	JsonArray *failed;
	guint queue_size;
	/* the operation in the store's hands: its strings are the item's */
	OscBackupItem *item;
	gchar *token;
	JsonNode *value;
	GPtrArray *done; /* OscEntry, until there are more than a subscriber queue holds */
	guint changed;
	guint imported, overwritten, skipped;
} ImportStream;

/* the next importable configuration: normalised and encrypted under the caller's key */
static gboolean
osc_service_import_next_cb(OscStoreImportOp *op, gpointer user_data, GError **error)
{
	ImportStream *st = user_data;
	OscBackupItem *item;

	while ((item = osc_backup_reader_next(st->reader, error)) != NULL) {
		g_autoptr(OscBackupItem) owned = item;
		g_autoptr(GError) error_item = NULL;
		g_autoptr(JsonNode) value = NULL;
		gchar *token;

		if (item->error != NULL) {
			osc_service_import_fail(st->failed, item->key, item->error);
			continue;
		}
		value = item->value != NULL ? osc_value_normalize(item->value, &error_item) : NULL;
		if (value == NULL) {
			osc_service_import_fail(st->failed, item->key,
						error_item != NULL ? error_item->message
								   : "value is required");
			continue;
		}
		g_clear_pointer(&item->value, json_node_unref);
		token = osc_service_encrypt(st->self, st->dk, value, &error_item);
		if (token == NULL) {
			osc_service_import_fail(st->failed, item->key, error_item->message);
			continue;
		}
		st->item = g_steal_pointer(&owned);
		st->token = token;
		st->value = g_steal_pointer(&value);
		op->key = item->key;
		op->environment = item->environment;
		op->category = item->category;
		op->token = token;
		op->fingerprint = osc_derived_key_get_fingerprint(st->dk);
		return TRUE;
	}
	return FALSE;
}

static void
osc_service_import_done(ImportStream *st, OscStoreImportOp *op)
{
	g_autoptr(OscEntryRow) row = g_steal_pointer(&op->row);
	g_autoptr(JsonNode) value = g_steal_pointer(&st->value);
	OscEntry *entry;

	switch (op->result) {
	case OSC_STORE_IMPORT_CREATED:
		st->imported++;
		break;
	case OSC_STORE_IMPORT_OVERWRITTEN:
		st->imported++;
		st->overwritten++;
		break;
	case OSC_STORE_IMPORT_SKIPPED:
		st->skipped++;
		return;
	case OSC_STORE_IMPORT_FAILED:
	default:
		osc_service_import_fail(st->failed, op->key, op->error);
		g_free(op->error);
		return;
	}
	/* more changes than a subscriber's queue holds would only overflow every queue into
	 * a reset: the caller then sends one reset instead, and nothing needs keeping */
	if (++st->changed > st->queue_size) {
		g_ptr_array_set_size(st->done, 0);
		return;
	}
	entry = g_new0(OscEntry, 1);
	entry->row = g_steal_pointer(&row);
	entry->value = g_steal_pointer(&value);
	entry->kind = op->result == OSC_STORE_IMPORT_CREATED ? OSC_CHANGE_CREATED
							     : OSC_CHANGE_UPDATED;
	g_ptr_array_add(st->done, entry);
}

static void
osc_service_import_done_cb(OscStoreImportOp *op, gpointer user_data)
{
	ImportStream *st = user_data;

	osc_service_import_done(st, op);
	/* the operation's strings were the item's */
	g_clear_pointer(&st->item, osc_backup_item_free);
	g_clear_pointer(&st->token, g_free);
}

/**
 * osc_service_import:
 * @backup_data: (transfer full): the `backup_data` text; decrypted in place, then wiped
 * @changes: (out) (element-type OscEntry) (nullable): what was created or overwritten, for
 *   change events; %NULL when there were too many for events (send one reset instead)
 *
 * Decrypts a backup and imports its entries, re-encrypted under the caller's derived
 * key, in one transaction; entries that cannot be (invalid, or another key's entry under
 * overwrite) are reported in `failed_keys`. The backup's ids and timestamps are not
 * restored (§4.13). The document is decrypted inside @backup_data and streamed into the
 * store one configuration at a time, so a 100,000-entry import holds one copy of the
 * backup and not one object per entry.
 *
 * Returns: the /import response object
 */
JsonNode *
osc_service_import(OscService *self,
		   OscDerivedKey *dk,
		   const gchar *password,
		   gsize password_len,
		   gchar *backup_data,
		   gboolean overwrite,
		   GPtrArray **changes,
		   GError **error)
{
	gsize data_len = strlen(backup_data);
	g_autoptr(OscBackupReader) reader = NULL;
	g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func((GDestroyNotify)osc_entry_free);
	JsonArray *failed = json_array_new();
	ImportCheck check = {self, dk};
	ImportStream st = {0};
	guint8 *plaintext = NULL;
	gsize len = 0;
	gboolean ok;
	JsonObject *obj;
	JsonNode *node;

	ok = osc_backup_decrypt_in_place(password, password_len, backup_data, &plaintext, &len,
					 error);
	if (ok)
		reader = osc_backup_reader_new((const gchar *)plaintext, len, error);
	if (reader != NULL) {
		st.self = self;
		st.dk = dk;
		st.reader = reader;
		st.failed = failed;
		st.queue_size = osc_sse_hub_get_queue_size(self->sse);
		st.done = done;
		ok = osc_store_import_stream(self->store, osc_service_import_next_cb,
					     osc_service_import_done_cb, &st,
					     overwrite ? osc_service_import_may_overwrite_cb : NULL,
					     &check, error);
		/* an operation the store failed on */
		g_clear_pointer(&st.item, osc_backup_item_free);
		g_clear_pointer(&st.value, json_node_unref);
		g_clear_pointer(&st.token, g_free);
	}
	OPENSSL_cleanse(backup_data, data_len);
	g_free(backup_data);
	if (reader == NULL || !ok) {
		json_array_unref(failed);
		return NULL;
	}
	g_atomic_int_add(&self->entry_count, (gint)(st.imported - st.overwritten));

	obj = json_object_new();
	json_object_set_string_member(obj, "message", "Import completed");
	json_object_set_string_member(obj, "backup_id",
				      osc_backup_reader_get_backup_id(reader) != NULL
					  ? osc_backup_reader_get_backup_id(reader)
					  : "unknown");
	json_object_set_string_member(obj, "backup_timestamp",
				      osc_backup_reader_get_backup_timestamp(reader) != NULL
					  ? osc_backup_reader_get_backup_timestamp(reader)
					  : "unknown");
	json_object_set_int_member(obj, "total_in_backup", osc_backup_reader_get_total(reader));
	json_object_set_int_member(obj, "imported", st.imported);
	json_object_set_int_member(obj, "skipped", st.skipped);
	json_object_set_int_member(obj, "failed", json_array_get_length(failed));
	json_object_set_array_member(obj, "failed_keys", json_array_ref(failed));
	/* ours: overwritten entries are also counted in imported, as the original counts them */
	json_object_set_int_member(obj, "overwritten", st.overwritten);
	/* the JS client's names (API.md §13.2) */
	json_object_set_int_member(obj, "imported_count", st.imported);
	json_object_set_int_member(obj, "skipped_count", st.skipped);
	json_object_set_array_member(obj, "errors", failed);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	if (changes != NULL)
		*changes = st.changed > st.queue_size ? NULL : g_steal_pointer(&done);
	return node;
}

/* D-3 for a kept version: the key that wrote it must be the caller's */
static GBytes *
osc_service_open_version(OscDerivedKey *dk, OscEntryVersion *v, GError **error)
{
	const gchar *fp = osc_derived_key_get_fingerprint(dk);
	GBytes *plain;

	if (v->fingerprint != NULL &&
	    !osc_crypto_equal(v->fingerprint, strlen(v->fingerprint), fp, strlen(fp))) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_AUTH,
			    "Decryption failed: X-User-Key does not match the key that encrypted "
			    "version %" G_GINT64_FORMAT " of '%s'",
			    v->version, v->key);
		return NULL;
	}
	plain = osc_fernet_decrypt(osc_derived_key_get_bytes(dk), v->token, strlen(v->token), 0,
				   0, NULL);
	if (plain == NULL)
		g_set_error(error, OSC_ERROR, v->fingerprint != NULL ? OSC_ERROR_CORRUPT : OSC_ERROR_AUTH,
			    "Decryption failed: version %" G_GINT64_FORMAT " of '%s' does not open "
			    "with this X-User-Key",
			    v->version, v->key);
	return plain;
}

/**
 * osc_service_entry_versions:
 *
 * Returns: (element-type OscEntryVersion): the live version (if any) and the kept ones,
 *   newest first; the newest must open with @dk, or %OSC_ERROR_AUTH
 */
GPtrArray *
osc_service_entry_versions(OscService *self,
			   OscDerivedKey *dk,
			   const gchar *key,
			   const gchar *environment,
			   GError **error)
{
	g_autoptr(GPtrArray) versions = osc_store_list_versions(self->store, key, environment, error);
	g_autoptr(GBytes) plain = NULL;

	if (versions == NULL)
		return NULL;
	/* the history belongs to whoever holds the newest version */
	plain = osc_service_open_version(dk, g_ptr_array_index(versions, 0), error);
	if (plain == NULL)
		return NULL;
	OPENSSL_cleanse((gpointer)g_bytes_get_data(plain, NULL), g_bytes_get_size(plain));
	return g_steal_pointer(&versions);
}

OscEntry *
osc_service_entry_read_version(OscService *self,
			       OscDerivedKey *dk,
			       const gchar *key,
			       const gchar *environment,
			       gint64 version,
			       OscEntryVersion **version_out,
			       GError **error)
{
	g_autoptr(OscEntryVersion) v = osc_store_get_version(self->store, key, environment,
							     version, error);
	g_autoptr(GBytes) plain = NULL;
	OscEntry *entry;
	JsonNode *value;

	if (v == NULL)
		return NULL;
	plain = osc_service_open_version(dk, v, error);
	if (plain == NULL)
		return NULL;
	value = osc_service_decode(plain, error);
	if (value == NULL)
		return NULL;
	entry = g_new0(OscEntry, 1);
	entry->value = value;
	if (version_out != NULL)
		*version_out = g_steal_pointer(&v);
	return entry;
}

/**
 * osc_service_entry_rollback:
 * @recreated: (out): %TRUE when the entry had been deleted and is back
 *
 * Restores version @version as a new version (re-encrypted under @dk, so the restored
 * value opens with the caller's current key), or re-creates a deleted entry.
 */
OscEntry *
osc_service_entry_rollback(OscService *self,
			   OscDerivedKey *dk,
			   const gchar *key,
			   const gchar *environment,
			   gint64 version,
			   GArray *if_match,
			   gboolean *recreated,
			   GError **error)
{
	g_autoptr(OscEntryVersion) v = NULL;
	g_autoptr(OscEntryRow) live = NULL;
	g_autoptr(GBytes) plain = NULL;
	g_autoptr(GError) error_live = NULL;
	g_autofree gchar *token = NULL;
	JsonNode *value;
	OscEntryRow *row;
	OscEntry *entry;
	gsize len = 0;
	const guint8 *data;

	v = osc_store_get_version(self->store, key, environment, version, error);
	if (v == NULL)
		return NULL;
	live = osc_store_get(self->store, key, environment, &error_live);
	if (live != NULL) {
		/* only the holder of the live entry may roll it back */
		if (!osc_service_check_key(self, dk, live, NULL, error) ||
		    !osc_service_if_match(if_match, live, error))
			return NULL;
	} else if (!g_error_matches(error_live, OSC_ERROR, OSC_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_live));
		return NULL;
	} else if (if_match != NULL && if_match->len > 0) {
		/* no current entry: no If-Match can hold, not even "*" (RFC 9110 §13.1.1) */
		g_set_error(error, OSC_ERROR, OSC_ERROR_PRECONDITION_FAILED,
			    "Precondition failed: configuration '%s' does not exist", key);
		return NULL;
	}
	plain = osc_service_open_version(dk, v, error);
	if (plain == NULL)
		return NULL;
	data = g_bytes_get_data(plain, &len);
	value = osc_value_parse((const gchar *)data, (gssize)len, error);
	token = value != NULL ? osc_fernet_encrypt(osc_derived_key_get_bytes(dk), data, len,
						   g_get_real_time() / G_USEC_PER_SEC, NULL, error)
			      : NULL;
	OPENSSL_cleanse((gpointer)data, len);
	if (token == NULL) {
		g_clear_pointer(&value, json_node_unref);
		return NULL;
	}
	row = osc_store_restore_version(self->store, key, environment, version, token,
					osc_derived_key_get_fingerprint(dk),
					live != NULL ? live->revision : -1, error);
	if (row == NULL) {
		json_node_unref(value);
		return NULL;
	}
	if (live == NULL)
		g_atomic_int_inc(&self->entry_count);
	if (recreated != NULL)
		*recreated = live == NULL;
	entry = g_new0(OscEntry, 1);
	entry->row = row;
	entry->value = value;
	entry->kind = live == NULL ? OSC_CHANGE_CREATED : OSC_CHANGE_UPDATED;
	return entry;
}

typedef struct {
	OscService *self;
	OscDerivedKey *old_dk;
	GHashTable *expected; /* "key\x1fenvironment" → revision read before re-encrypting */
} RekeyCheck;

static gchar *
osc_service_pair_id(const gchar *key, const gchar *environment)
{
	return g_strconcat(key, "\x1f", environment, NULL);
}

/* inside the transaction: replace only rows still as they were when re-encrypted */
static gboolean
osc_service_rekey_may_overwrite_cb(OscEntryRow *existing, gpointer user_data, gchar **reason)
{
	RekeyCheck *check = user_data;
	g_autofree gchar *id = osc_service_pair_id(existing->key, existing->environment);
	gpointer expected = g_hash_table_lookup(check->expected, id);

	if (expected == NULL || *(gint64 *)expected != existing->revision) {
		*reason = g_strdup("changed during the re-key");
		return FALSE;
	}
	return TRUE;
}

typedef struct {
	OscDerivedKey *old_dk;
	OscDerivedKey *new_dk;
} RekeyKeys;

/* a kept version: opened with the old key, sealed with the new one */
static gchar *
osc_service_rekey_version_cb(const gchar *token, gpointer user_data, GError **error)
{
	RekeyKeys *keys = user_data;
	g_autoptr(GBytes) plain = NULL;
	g_autoptr(GError) error_local = NULL;
	gsize len = 0;
	const guint8 *data;
	gchar *sealed;

	plain = osc_fernet_decrypt(osc_derived_key_get_bytes(keys->old_dk), token, strlen(token),
				   0, 0, &error_local);
	if (plain == NULL) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_AUTH, error_local->message);
		return NULL;
	}
	data = g_bytes_get_data(plain, &len);
	sealed = osc_fernet_encrypt(osc_derived_key_get_bytes(keys->new_dk), data, len,
				    g_get_real_time() / G_USEC_PER_SEC, NULL, error);
	OPENSSL_cleanse((gpointer)data, len);
	return sealed;
}

/**
 * osc_service_rekey:
 * @old_dk: the key whose entries move
 * @new_dk: the key they move to
 * @changes: (out) (element-type OscEntryRow): the rows re-keyed
 *
 * Re-encrypts every entry @old_dk opens under @new_dk (the same plaintext bytes), in one
 * transaction per round. A row another writer changed between reading and committing is
 * left alone by that round and taken again by the next, so no concurrent write is lost
 * and every entry the old key opens ends up under the new one. The versions kept of the
 * old key's entries move with them (osc_store_rekey_versions()), so that afterwards the old
 * key opens nothing, not even history. Other keys' entries are never touched (D-3).
 *
 * Returns: `{"message", "rekeyed"}`; %OSC_ERROR_AUTH when the store has entries and the
 *   old key opens none of them
 */
JsonNode *
osc_service_rekey(OscService *self,
		  OscDerivedKey *old_dk,
		  OscDerivedKey *new_dk,
		  GPtrArray **changes,
		  GError **error)
{
	g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func((GDestroyNotify)osc_entry_row_free);
	guint total_rows = 0;
	guint versions = 0;
	gboolean opened_any = FALSE;
	JsonObject *obj;
	JsonNode *node;
	g_autofree gchar *message = NULL;

	for (guint round = 0; round < OSC_UPDATE_ATTEMPTS; round++) {
		g_autoptr(GPtrArray) rows = osc_store_list(self->store, NULL, NULL, error);
		g_autoptr(GArray) ops = NULL;
		g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GHashTable) expected =
		    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		RekeyCheck check = {self, old_dk, expected};
		guint retry = 0;

		if (rows == NULL)
			return NULL;
		if (round == 0)
			total_rows = rows->len;
		ops = g_array_sized_new(FALSE, TRUE, sizeof(OscStoreImportOp), rows->len);
		for (guint i = 0; i < rows->len; i++) {
			OscEntryRow *row = g_ptr_array_index(rows, i);
			g_autoptr(GBytes) plain = NULL;
			g_autoptr(GError) error_row = NULL;
			OscStoreImportOp op = {0};
			gsize len = 0;
			const guint8 *data;
			gchar *token;

			if (!osc_service_check_key(self, old_dk, row, &plain, &error_row)) {
				if (g_error_matches(error_row, OSC_ERROR, OSC_ERROR_AUTH))
					continue;
				g_propagate_error(error, g_steal_pointer(&error_row));
				return NULL;
			}
			opened_any = TRUE;
			data = g_bytes_get_data(plain, &len);
			token = osc_fernet_encrypt(osc_derived_key_get_bytes(new_dk), data, len,
						   g_get_real_time() / G_USEC_PER_SEC, NULL, error);
			OPENSSL_cleanse((gpointer)data, len);
			if (token == NULL)
				return NULL;
			g_ptr_array_add(tokens, token);
			g_hash_table_insert(expected, osc_service_pair_id(row->key, row->environment),
					    g_memdup2(&row->revision, sizeof(gint64)));
			op.key = row->key;
			op.environment = row->environment;
			op.category = NULL; /* keep */
			op.token = token;
			op.fingerprint = osc_derived_key_get_fingerprint(new_dk);
			/* deleted meanwhile: stays deleted */
			op.update_only = TRUE;
			g_array_append_val(ops, op);
		}
		if (ops->len == 0)
			break;
		if (!osc_store_import(self->store, (OscStoreImportOp *)(gpointer)ops->data,
				      ops->len, osc_service_rekey_may_overwrite_cb, &check, error))
			return NULL;
		for (guint i = 0; i < ops->len; i++) {
			OscStoreImportOp *op = &g_array_index(ops, OscStoreImportOp, i);
			if (op->result == OSC_STORE_IMPORT_OVERWRITTEN)
				g_ptr_array_add(done, g_steal_pointer(&op->row));
			else if (op->result == OSC_STORE_IMPORT_FAILED)
				retry++; /* changed meanwhile: the next round reads it again */
			g_clear_pointer(&op->error, g_free);
			g_clear_pointer(&op->row, osc_entry_row_free);
		}
		if (retry == 0)
			break;
	}
	if (total_rows > 0 && !opened_any) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_AUTH,
				    "Decryption failed: X-User-Key does not open any configuration");
		return NULL;
	}
	{
		RekeyKeys keys = {old_dk, new_dk};

		if (!osc_store_rekey_versions(self->store, osc_derived_key_get_fingerprint(old_dk),
					      osc_derived_key_get_fingerprint(new_dk),
					      osc_service_rekey_version_cb, &keys, &versions, error))
			return NULL;
	}
	/* too many rows to push one by one: peers fetch them now rather than at the next
	 * anti-entropy round (they keep opening the old tokens with the old key till then) */
	if (done->len > 0 && self->cluster != NULL)
		osc_cluster_request_sync(self->cluster);
	message = g_strdup_printf("Re-keyed %u configurations", done->len);
	obj = json_object_new();
	json_object_set_string_member(obj, "message", message);
	json_object_set_int_member(obj, "rekeyed", done->len);
	json_object_set_int_member(obj, "versions_rekeyed", versions);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	if (changes != NULL)
		*changes = g_steal_pointer(&done);
	return node;
}

/**
 * osc_service_notify_bulk_change:
 *
 * Main thread: many entries changed at once (a large import); subscribers reload.
 */
void
osc_service_notify_bulk_change(OscService *self, const gchar *reason)
{
	g_return_if_fail(OSC_IS_SERVICE(self));

	osc_metric_set(self->families.config_entries, (gdouble)osc_service_get_entry_count(self),
		       NULL);
	osc_sse_hub_publish_reset(self->sse, reason);
	g_signal_emit(self, signals[SIGNAL_BULK_CHANGE], 0, reason);
	if (self->cluster != NULL)
		osc_cluster_request_sync(self->cluster);
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
	/* a client's write goes to the peers; a merged one (sync) never again: no echo */
	if (self->cluster != NULL && kind != OSC_CHANGE_SYNC)
		osc_cluster_local_change(self->cluster, row->key, row->environment);
}

static gboolean
osc_service_strv_equal(gchar **a, gchar **b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return g_strv_equal((const gchar *const *)a, (const gchar *const *)b);
}

/**
 * osc_service_reload:
 * @next: the configuration read again (keyfile, then environment)
 * @applied: (out) (transfer full): names of the changed settings now in effect
 * @restart_needed: (out) (transfer full): names of the changed settings that keep their
 *   old value until a restart
 *
 * Main thread only. Applies what can change while serving: the settings read only on the
 * main thread (minimum user key length, body and import limits, the list cache size) or
 * behind a lock (the number of versions kept; the log level, which the caller hands to its
 * log writer).
 * Everything else is reported in @restart_needed and left alone.
 *
 * Returns: FALSE with @error set (and nothing changed) when @next is not valid
 */
gboolean
osc_service_reload(OscService *self,
		   const OscConfig *next,
		   GStrv *applied,
		   GStrv *restart_needed,
		   GError **error)
{
	g_autoptr(OscConfig) n = NULL;
	g_autoptr(GStrvBuilder) ok = g_strv_builder_new();
	g_autoptr(GStrvBuilder) later = g_strv_builder_new();
	OscConfig *c = self->config;

	g_return_val_if_fail(OSC_IS_SERVICE(self), FALSE);
	g_return_val_if_fail(next != NULL, FALSE);

	n = osc_config_copy(next);
	if (!osc_config_validate(n, error))
		return FALSE;

#define OSC_RELOAD_APPLY(field, name)                                                          \
	if (c->field != n->field) {                                                            \
		c->field = n->field;                                                           \
		g_strv_builder_add(ok, name);                                                  \
	}
#define OSC_RELOAD_LATER(changed, name)                                                        \
	if (changed)                                                                           \
		g_strv_builder_add(later, name);

	OSC_RELOAD_APPLY(log_level, "log_level");
	if (c->versions_kept != n->versions_kept) {
		c->versions_kept = n->versions_kept;
		osc_store_set_versions_kept(self->store, c->versions_kept);
		g_strv_builder_add(ok, "versions_kept");
	}
	OSC_RELOAD_APPLY(min_user_key_length, "min_user_key_length");
	OSC_RELOAD_APPLY(max_body_size, "max_body_size");
	OSC_RELOAD_APPLY(max_import_size, "max_import_size");
	if (c->list_cache_size != n->list_cache_size) {
		c->list_cache_size = n->list_cache_size;
		/* a smaller budget (or none) frees what is over it at once */
		osc_key_cache_trim_memos(self->key_cache, osc_store_get_generation(self->store),
					 0);
		g_strv_builder_add(ok, "list_cache_size");
	}

	OSC_RELOAD_LATER(g_strcmp0(c->host, n->host) != 0, "host");
	OSC_RELOAD_LATER(c->port != n->port, "port");
	OSC_RELOAD_LATER(c->workers != n->workers, "workers");
	OSC_RELOAD_LATER(c->https_enabled != n->https_enabled ||
			     g_strcmp0(c->ssl_certfile, n->ssl_certfile) != 0 ||
			     g_strcmp0(c->ssl_keyfile, n->ssl_keyfile) != 0 ||
			     g_strcmp0(c->ssl_keyfile_password, n->ssl_keyfile_password) != 0 ||
			     g_strcmp0(c->ssl_ca_certs, n->ssl_ca_certs) != 0,
			 "https");
	OSC_RELOAD_LATER(g_strcmp0(c->database_path, n->database_path) != 0, "database_path");
	OSC_RELOAD_LATER(g_strcmp0(c->salt_file_path, n->salt_file_path) != 0, "salt_file_path");
	/* the API key compared in constant time would be overdone: both sides are ours */
	OSC_RELOAD_LATER(c->api_key_required != n->api_key_required ||
			     g_strcmp0(c->api_key, n->api_key) != 0,
			 "api_key");
	OSC_RELOAD_LATER(c->cluster_enabled != n->cluster_enabled ||
			     g_strcmp0(c->cluster_mode, n->cluster_mode) != 0 ||
			     g_strcmp0(c->cluster_node_id, n->cluster_node_id) != 0 ||
			     !osc_service_strv_equal(c->cluster_nodes, n->cluster_nodes) ||
			     c->cluster_sync_interval != n->cluster_sync_interval,
			 "cluster");
	OSC_RELOAD_LATER(c->log_format != n->log_format ||
			     g_strcmp0(c->log_file, n->log_file) != 0,
			 "log_output");
	OSC_RELOAD_LATER(!osc_service_strv_equal(c->cors_origins, n->cors_origins),
			 "cors_origins");
	OSC_RELOAD_LATER(c->max_value_size != n->max_value_size, "max_value_size");
	OSC_RELOAD_LATER(c->key_cache_size != n->key_cache_size, "key_cache_size");
	OSC_RELOAD_LATER(c->pbkdf2_iterations != n->pbkdf2_iterations, "pbkdf2_iterations");
	OSC_RELOAD_LATER(c->sse_queue_size != n->sse_queue_size ||
			     c->sse_keepalive_interval != n->sse_keepalive_interval ||
			     c->sse_log_size != n->sse_log_size,
			 "sse");
#undef OSC_RELOAD_APPLY
#undef OSC_RELOAD_LATER

	if (applied != NULL)
		*applied = g_strv_builder_end(ok);
	if (restart_needed != NULL)
		*restart_needed = g_strv_builder_end(later);
	return TRUE;
}
