/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscCluster"

#include "config.h"

#include "osc-cluster.h"

#include <libsoup/soup.h>

#include "osc-error.h"
#include "osc-http-private.h"
#include "osc-salt.h"
#include "osc-service-private.h"
#include "osc-value.h"

/*
 * REPLICA clustering (API.md §9, D-6): active-active, last-writer-wins.
 *
 * Every node accepts writes. A write is committed locally (stamped with the store's hybrid
 * logical clock and this node's id, osc-store.c) and answered; then each peer's thread pushes
 * the pair's current state (the Fernet token and metadata, never plaintext or a user key) to
 * POST /cluster/replicate. The receiver merges with osc_store_apply_remote() and never
 * forwards what it received, so there is no echo. Every sync interval each peer thread runs
 * anti-entropy with its peer: it compares per-environment digests (GET /cluster/digest), lists
 * the (key, stamp) pairs of the environments that differ (GET /cluster/rows), pulls the rows
 * the peer has newer (POST /cluster/fetch) and pushes those it has newer. A node that was
 * down or cut off catches up within one interval of coming back; an empty node fills itself.
 *
 * Two threads per peer (pushes; health checks and anti-entropy), each with its own synchronous
 * SoupSession, so a stalled peer delays only its own traffic, a long anti-entropy round never
 * holds up pushes, and the main loop never waits. Nodes only exchange data when their
 * salt fingerprints match: rows encrypted under another salt would open nowhere.
 */

#define OSC_CLUSTER_TIMEOUT_S	  5
#define OSC_CLUSTER_BATCH	  1000
#define OSC_CLUSTER_HEALTH_MS	  1000
#define OSC_CLUSTER_BATCH_BYTES	  (4 * 1024 * 1024)
#define OSC_CLUSTER_SALT_ATTEMPTS 30
#define OSC_CLUSTER_FP_LABEL	  "opensecureconf cluster salt fingerprint v1"

static const gdouble osc_cluster_lag_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
						  0.25,	 0.5,	 1.0,	2.5,  5.0,   10.0, 30.0};

typedef struct {
	OscCluster *cluster; /* unowned: the cluster joins these threads before it goes */
	OscClusterPeer *conf;
	GThread *push_thread; /* pushes local writes as they come */
	GThread *sync_thread; /* health checks and anti-entropy */
	/* under cluster->mutex */
	gboolean healthy;
	gboolean salt_mismatch;
	gint64 last_seen;
	GHashTable *pending; /* "env\x1fkey" → NULL: pairs to push */
	gboolean sync_now;
} OscPeer;

struct _OscCluster {
	GObject parent_instance;

	GWeakRef service;
	OscStore *store;
	OscMetrics *metrics;
	OscServiceMetrics *families;
	OscMetric *salt_mismatch;
	OscMetric *lag;
	OscMetric *rows_applied;
	GMainContext *context;
	gchar *node_id;
	gchar *salt_fp;
	gchar *api_key; /* (nullable) sent to peers when keys are required */
	guint sync_interval_ms;
	gint64 tombstone_ttl_ms;
	GTlsCertificate *client_cert;
	GTlsDatabase *tls_db;

	GMutex mutex;
	GCond cond;
	gboolean stopping;
	GCancellable *cancellable; /* cancelled by osc_cluster_stop(): ends peer calls at once */
	/* one reconciliation at a time: a node that missed rows fetches them from one peer,
	 * and the next peer's listing then shows them as equal (no duplicate pulls) */
	GMutex sync_mutex;
	GPtrArray *peers;    /* (element-type OscPeer) */
	GHashTable *refused; /* ids of unknown nodes already warned about */
};

G_DEFINE_FINAL_TYPE(OscCluster, osc_cluster, G_TYPE_OBJECT)

/* ---- configuration ---- */

void
osc_cluster_peer_free(OscClusterPeer *peer)
{
	if (peer == NULL)
		return;
	g_free(peer->id);
	g_free(peer->url);
	g_free(peer);
}

/**
 * osc_cluster_parse_peers:
 *
 * Reads `OSC_CLUSTER_NODES`: comma-separated `host:port`, with or without an `http://` or
 * `https://` scheme (without one: https when `OSC_HTTPS_ENABLED`), blanks trimmed, empty
 * entries, duplicates and this node's own id dropped.
 *
 * Returns: (transfer container) (element-type OscClusterPeer): the peers, or %NULL
 */
GPtrArray *
osc_cluster_parse_peers(const OscConfig *config, GError **error)
{
	g_autoptr(GPtrArray) peers =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_cluster_peer_free);
	g_autofree gchar *self_id = osc_config_get_node_id(config);
	const gchar *default_scheme = config->https_enabled ? "https" : "http";

	for (guint i = 0; config->cluster_nodes != NULL && config->cluster_nodes[i] != NULL; i++) {
		g_autofree gchar *entry = g_strstrip(g_strdup(config->cluster_nodes[i]));
		g_autofree gchar *text = NULL;
		g_autoptr(GUri) uri = NULL;
		g_autoptr(GError) error_local = NULL;
		const gchar *scheme;
		OscClusterPeer *peer;
		gchar *id;
		gboolean dup = FALSE;

		while (g_str_has_suffix(entry, "/"))
			entry[strlen(entry) - 1] = '\0';
		if (entry[0] == '\0')
			continue;
		text = strstr(entry, "://") != NULL
			       ? g_strdup(entry)
			       : g_strdup_printf("%s://%s", default_scheme, entry);
		uri = g_uri_parse(text, G_URI_FLAGS_NONE, &error_local);
		if (uri == NULL) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "OSC_CLUSTER_NODES entry '%s' is not host:port: %s", entry,
				    error_local->message);
			return NULL;
		}
		scheme = g_uri_get_scheme(uri);
		if ((g_ascii_strcasecmp(scheme, "http") != 0 &&
		     g_ascii_strcasecmp(scheme, "https") != 0) ||
		    g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0' ||
		    g_uri_get_port(uri) <= 0 || g_uri_get_port(uri) > 65535 ||
		    (g_uri_get_path(uri)[0] != '\0' && !g_str_equal(g_uri_get_path(uri), "/"))) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "OSC_CLUSTER_NODES entry '%s' must be host:port or "
				    "http(s)://host:port",
				    entry);
			return NULL;
		}
		if (strchr(g_uri_get_host(uri), ':') != NULL)
			id = g_strdup_printf("[%s]:%d", g_uri_get_host(uri), g_uri_get_port(uri));
		else
			id = g_strdup_printf("%s:%d", g_uri_get_host(uri), g_uri_get_port(uri));
		if (g_str_equal(id, self_id) || g_str_equal(entry, self_id)) {
			g_free(id);
			continue;
		}
		for (guint j = 0; j < peers->len; j++)
			dup = dup || g_str_equal(((OscClusterPeer *)peers->pdata[j])->id, id);
		if (dup) {
			g_free(id);
			continue;
		}
		peer = g_new0(OscClusterPeer, 1);
		peer->id = id;
		peer->url = g_strdup_printf("%s://%s", scheme, id);
		g_ptr_array_add(peers, peer);
	}
	return g_steal_pointer(&peers);
}

/**
 * osc_cluster_salt_fingerprint:
 *
 * What nodes compare instead of the salt itself: HMAC-SHA256(salt, fixed label and the PBKDF2
 * iteration count), 16 bytes in hex. Nodes derive the same keys exactly when their
 * fingerprints are equal; the fingerprint does not reveal the salt.
 *
 * Returns: (transfer full): 32 hex digits
 */
gchar *
osc_cluster_salt_fingerprint(GBytes *salt, guint iterations)
{
	g_autofree gchar *label = g_strdup_printf("%s/%u", OSC_CLUSTER_FP_LABEL, iterations);
	gsize len = 0;
	gconstpointer data = g_bytes_get_data(salt, &len);
	g_autoptr(GHmac) hmac = g_hmac_new(G_CHECKSUM_SHA256, data, len);
	const gchar *hex;

	g_hmac_update(hmac, (const guchar *)label, (gssize)strlen(label));
	hex = g_hmac_get_string(hmac);
	return g_strndup(hex, 32);
}

/**
 * osc_cluster_partitioned:
 *
 * TEST ONLY. While the file named by `OSC_TEST_PARTITION_FILE` exists, this node drops all
 * traffic to and from its peers (it still serves clients). Unset, this is always %FALSE.
 */
gboolean
osc_cluster_partitioned(void)
{
	const gchar *path = g_getenv("OSC_TEST_PARTITION_FILE");

	return path != NULL && path[0] != '\0' && g_file_test(path, G_FILE_TEST_EXISTS);
}

static SoupSession *
osc_cluster_session_new(GTlsDatabase *db)
{
	SoupSession *session =
		soup_session_new_with_options("timeout", OSC_CLUSTER_TIMEOUT_S, "idle-timeout", 60,
					      "user-agent", "oscd-cluster/" PACKAGE_VERSION, NULL);
	if (db != NULL)
		soup_session_set_tls_database(session, db);
	return session;
}

static gboolean
osc_cluster_load_tls(const OscConfig *config, GTlsCertificate **cert, GTlsDatabase **db,
		     GError **error)
{
	if (!config->https_enabled)
		return TRUE;
	/* our own certificate doubles as the client certificate (mTLS when peers require
	 * one, i.e. have OSC_SSL_CA_CERTS) */
	*cert = g_tls_certificate_new_from_files(config->ssl_certfile, config->ssl_keyfile, NULL);
	if (config->ssl_ca_certs != NULL && config->ssl_ca_certs[0] != '\0') {
		g_autofree gchar *ca = g_canonicalize_filename(config->ssl_ca_certs, NULL);
		*db = g_tls_file_database_new(ca, error);
		if (*db == NULL) {
			g_prefix_error(error, "OSC_SSL_CA_CERTS %s: ", config->ssl_ca_certs);
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * osc_cluster_bootstrap_salt:
 *
 * API.md §9.5 done safely, before the node serves anything: when this node has no salt
 * file, adopt the salt of the first peer that has one (GET /cluster/salt). The bootstrap
 * node (the lowest id of all nodes) creates the salt when no peer has one; the others keep
 * asking for up to 30 s and then, loudly, create their own (the cluster will then refuse to
 * mix data with them, see osc_cluster_salt_fingerprint()). Sets @adopted when the salt came
 * from a peer: the store then takes `OSC_PBKDF2_ITERATIONS` as for a new salt, which must be
 * the same on every node. Blocks: call it at start-up.
 */
gboolean
osc_cluster_bootstrap_salt(const OscConfig *config, gboolean *adopted, GError **error)
{
	g_autoptr(GPtrArray) peers = NULL;
	g_autoptr(GBytes) existing = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(GTlsCertificate) cert = NULL;
	g_autoptr(GTlsDatabase) db = NULL;
	g_autofree gchar *self_id = osc_config_get_node_id(config);
	gboolean bootstrap = TRUE;

	existing = osc_salt_load(config->salt_file_path, &error_local);
	if (existing != NULL)
		return TRUE;
	if (!g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	peers = osc_cluster_parse_peers(config, error);
	if (peers == NULL)
		return FALSE;
	if (!osc_cluster_load_tls(config, &cert, &db, error))
		return FALSE;
	for (guint i = 0; i < peers->len; i++) {
		if (strcmp(((OscClusterPeer *)peers->pdata[i])->id, self_id) < 0)
			bootstrap = FALSE;
	}
	session = osc_cluster_session_new(db);
	g_object_set(session, "timeout", 2, NULL);
	for (guint attempt = 0; attempt < OSC_CLUSTER_SALT_ATTEMPTS; attempt++) {
		for (guint i = 0; i < peers->len; i++) {
			OscClusterPeer *peer = peers->pdata[i];
			g_autofree gchar *url = g_strconcat(peer->url, "/cluster/salt", NULL);
			g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
			g_autoptr(GBytes) body = NULL;
			SoupMessageHeaders *h;

			if (msg == NULL || osc_cluster_partitioned())
				continue;
			h = soup_message_get_request_headers(msg);
			soup_message_headers_replace(h, OSC_CLUSTER_NODE_HEADER, self_id);
			if (config->api_key_required)
				soup_message_headers_replace(h, "X-API-Key", config->api_key);
			if (cert != NULL)
				soup_message_set_tls_client_certificate(msg, cert);
			body = soup_session_send_and_read(session, msg, NULL, NULL);
			if (body == NULL || soup_message_get_status(msg) != 200 ||
			    g_bytes_get_size(body) != 64)
				continue;
			if (!osc_salt_write(config->salt_file_path, body, error)) {
				g_prefix_error(error,
					       "cannot save the salt of peer %s: ", peer->id);
				return FALSE;
			}
			g_message("adopted the salt of cluster peer %s", peer->id);
			*adopted = TRUE;
			return TRUE;
		}
		if (bootstrap) {
			g_message("no cluster peer has a salt; this node (%s) creates it", self_id);
			return TRUE;
		}
		g_usleep(G_USEC_PER_SEC);
	}
	g_warning("no cluster peer gave a salt in %u s: creating a NEW salt; peers with another "
		  "salt will refuse to replicate with this node",
		  OSC_CLUSTER_SALT_ATTEMPTS);
	return TRUE;
}

/* ---- rows on the wire ---- */

static void
osc_json_set_nullable(JsonObject *obj, const gchar *name, const gchar *value)
{
	if (value != NULL)
		json_object_set_string_member(obj, name, value);
	else
		json_object_set_null_member(obj, name);
}

static JsonObject *
osc_repl_row_to_json(const OscReplRow *r, gboolean full)
{
	JsonObject *obj = json_object_new();

	json_object_set_string_member(obj, "key", r->key);
	json_object_set_string_member(obj, "environment", r->environment);
	json_object_set_string_member(obj, "hlc", r->hlc);
	json_object_set_string_member(obj, "origin", r->origin);
	json_object_set_boolean_member(obj, "deleted", r->deleted);
	if (!full)
		return obj;
	osc_json_set_nullable(obj, "category", r->category);
	osc_json_set_nullable(obj, "token", r->token);
	osc_json_set_nullable(obj, "fingerprint", r->fingerprint);
	osc_json_set_nullable(obj, "created_at", r->created_at);
	osc_json_set_nullable(obj, "updated_at", r->updated_at);
	return obj;
}

static gchar *
osc_json_dup_string(JsonObject *obj, const gchar *name, gboolean *ok)
{
	JsonNode *node = json_object_get_member(obj, name);

	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
		*ok = FALSE;
		return NULL;
	}
	return g_strdup(json_node_get_string(node));
}

static OscReplRow *
osc_repl_row_from_json(JsonNode *node, GError **error)
{
	g_autoptr(OscReplRow) r = g_new0(OscReplRow, 1);
	gboolean ok = TRUE;
	JsonObject *obj;
	JsonNode *deleted;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "replicated row is not an object");
		return NULL;
	}
	obj = json_node_get_object(node);
	r->key = osc_json_dup_string(obj, "key", &ok);
	r->environment = osc_json_dup_string(obj, "environment", &ok);
	r->category = osc_json_dup_string(obj, "category", &ok);
	r->token = osc_json_dup_string(obj, "token", &ok);
	r->fingerprint = osc_json_dup_string(obj, "fingerprint", &ok);
	r->created_at = osc_json_dup_string(obj, "created_at", &ok);
	r->updated_at = osc_json_dup_string(obj, "updated_at", &ok);
	r->hlc = osc_json_dup_string(obj, "hlc", &ok);
	r->origin = osc_json_dup_string(obj, "origin", &ok);
	deleted = json_object_get_member(obj, "deleted");
	if (deleted != NULL && JSON_NODE_HOLDS_VALUE(deleted) &&
	    json_node_get_value_type(deleted) == G_TYPE_BOOLEAN)
		r->deleted = json_node_get_boolean(deleted);
	else
		ok = FALSE;
	if (!ok || r->key == NULL || r->environment == NULL || r->hlc == NULL ||
	    r->origin == NULL) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "replicated row needs string key, environment, hlc, origin "
				    "and boolean deleted");
		return NULL;
	}
	return g_steal_pointer(&r);
}

static gboolean
osc_cluster_tomb_expired(OscCluster *self, const OscReplRow *r)
{
	gint64 ms = 0;

	if (!r->deleted || !osc_store_hlc_decode(r->hlc, &ms, NULL))
		return FALSE;
	return ms < g_get_real_time() / 1000 - self->tombstone_ttl_ms;
}

/* per environment: count and XOR of a hash of each (key, stamp, deleted) */
static JsonObject *
osc_cluster_local_digest(OscCluster *self, GError **error)
{
	g_autoptr(GPtrArray) rows = osc_store_repl_list(self->store, NULL, FALSE, error);
	JsonObject *envs;
	guint i = 0;

	if (rows == NULL)
		return NULL;
	envs = json_object_new();
	while (i < rows->len) {
		const gchar *env = ((OscReplRow *)rows->pdata[i])->environment;
		guint8 acc[16] = {0};
		gint64 count = 0;
		gchar hex[33];
		JsonObject *item;

		for (;
		     i < rows->len && g_str_equal(((OscReplRow *)rows->pdata[i])->environment, env);
		     i++) {
			OscReplRow *r = rows->pdata[i];
			g_autoptr(GChecksum) sum = NULL;
			guint8 digest[32];
			gsize len = sizeof(digest);

			if (osc_cluster_tomb_expired(self, r))
				continue;
			sum = g_checksum_new(G_CHECKSUM_SHA256);
			g_checksum_update(sum, (const guchar *)r->key, (gssize)strlen(r->key) + 1);
			g_checksum_update(sum, (const guchar *)r->hlc, (gssize)strlen(r->hlc) + 1);
			g_checksum_update(sum, (const guchar *)r->origin,
					  (gssize)strlen(r->origin) + 1);
			g_checksum_update(sum, (const guchar *)(r->deleted ? "d" : "l"), 1);
			g_checksum_get_digest(sum, digest, &len);
			for (guint b = 0; b < sizeof(acc); b++)
				acc[b] ^= digest[b];
			count++;
		}
		if (count == 0)
			continue;
		for (guint b = 0; b < sizeof(acc); b++)
			g_snprintf(hex + 2 * b, 3, "%02x", acc[b]);
		item = json_object_new();
		json_object_set_int_member(item, "count", count);
		json_object_set_string_member(item, "digest", hex);
		json_object_set_object_member(envs, env, item);
	}
	return envs;
}

/* ---- change notifications on the main context ---- */

typedef struct {
	GWeakRef service;
	GPtrArray *ops; /* (element-type OscStoreApplyOp) results with rows */
} OscNotify;

static void
osc_notify_free(OscNotify *n)
{
	g_weak_ref_clear(&n->service);
	g_ptr_array_unref(n->ops);
	g_free(n);
}

static void
osc_apply_op_free(OscStoreApplyOp *op)
{
	g_clear_pointer(&op->row, osc_entry_row_free);
	g_free(op);
}

static gboolean
osc_notify_cb(gpointer data)
{
	OscNotify *n = data;
	g_autoptr(OscService) service = g_weak_ref_get(&n->service);

	if (service == NULL)
		return G_SOURCE_REMOVE;
	for (guint i = 0; i < n->ops->len; i++) {
		OscStoreApplyOp *op = n->ops->pdata[i];
		if (op->result == OSC_STORE_APPLIED_CREATED)
			osc_service_adjust_entry_count(service, 1);
		else if (op->result == OSC_STORE_APPLIED_DELETED)
			osc_service_adjust_entry_count(service, -1);
		if (op->row != NULL)
			osc_service_notify_change(service, OSC_CHANGE_SYNC, op->row, NULL);
	}
	return G_SOURCE_REMOVE;
}

/*
 * Any thread: merges @rows (stolen from) into the store, then raises `sync` events on the
 * main context for the rows that changed. Returns the number of rows that changed anything.
 */
static gint
osc_cluster_apply(OscCluster *self, GPtrArray *rows, GError **error)
{
	g_autofree OscStoreApplyOp *ops = g_new0(OscStoreApplyOp, rows->len + 1);
	gint64 now_ms = g_get_real_time() / 1000;
	OscNotify *n;
	gint changed = 0;

	for (guint i = 0; i < rows->len; i++)
		ops[i].in = rows->pdata[i];
	if (!osc_store_apply_remote(self->store, ops, rows->len, error))
		return -1;
	n = g_new0(OscNotify, 1);
	n->ops = g_ptr_array_new_with_free_func((GDestroyNotify)osc_apply_op_free);
	for (guint i = 0; i < rows->len; i++) {
		gint64 ms = 0;

		if (ops[i].result == OSC_STORE_APPLIED_NONE)
			continue;
		changed++;
		if (osc_store_hlc_decode(ops[i].in->hlc, &ms, NULL))
			osc_metric_observe(self->lag, MAX(now_ms - ms, 0) / 1000.0, NULL);
		if (ops[i].row != NULL) {
			OscStoreApplyOp *copy = g_new0(OscStoreApplyOp, 1);
			copy->result = ops[i].result;
			copy->row = g_steal_pointer(&ops[i].row);
			g_ptr_array_add(n->ops, copy);
		}
	}
	if (changed > 0)
		osc_metric_inc(self->rows_applied, changed, NULL);
	if (n->ops->len == 0) {
		osc_notify_free(n);
		return changed;
	}
	g_weak_ref_init(&n->service, NULL);
	{
		g_autoptr(OscService) service = g_weak_ref_get(&self->service);
		g_weak_ref_set(&n->service, service);
	}
	g_main_context_invoke_full(self->context, G_PRIORITY_DEFAULT, osc_notify_cb, n,
				   (GDestroyNotify)osc_notify_free);
	return changed;
}

/* ---- peer state ---- */

/*
 * Each peer thread's own synchronous session (libsoup sessions are not shared by threads).
 * The threads push no thread-default main context: GIO runs the TLS handshake of a
 * synchronous call through the caller's thread-default context, and one that nobody
 * iterates stalls every https call to a peer.
 */
static GPrivate osc_thread_session = G_PRIVATE_INIT(g_object_unref);

static SoupSession *
osc_cluster_thread_session(OscCluster *self)
{
	SoupSession *session = g_private_get(&osc_thread_session);

	if (session == NULL) {
		session = osc_cluster_session_new(self->tls_db);
		g_private_set(&osc_thread_session, session);
	}
	return session;
}

static OscPeer *
osc_cluster_find_peer(OscCluster *self, const gchar *id)
{
	for (guint i = 0; id != NULL && i < self->peers->len; i++) {
		OscPeer *peer = self->peers->pdata[i];
		if (g_str_equal(peer->conf->id, id))
			return peer;
	}
	return NULL;
}

static void
osc_cluster_update_gauges_locked(OscCluster *self)
{
	guint mismatched = 0;

	for (guint i = 0; i < self->peers->len; i++) {
		OscPeer *peer = self->peers->pdata[i];
		mismatched += peer->salt_mismatch ? 1 : 0;
	}
	osc_metric_set(self->salt_mismatch, mismatched, NULL);
}

/* @salt_mismatch: TRUE, FALSE, or -1 to leave it as it is */
static void
osc_peer_set_health(OscPeer *peer, gboolean healthy, gint salt_mismatch)
{
	OscCluster *self = peer->cluster;
	gboolean was_healthy, was_mismatch;

	g_mutex_lock(&self->mutex);
	was_healthy = peer->healthy;
	was_mismatch = peer->salt_mismatch;
	peer->healthy = healthy;
	if (salt_mismatch >= 0)
		peer->salt_mismatch = salt_mismatch;
	salt_mismatch = peer->salt_mismatch;
	if (healthy)
		peer->last_seen = g_get_real_time();
	osc_cluster_update_gauges_locked(self);
	g_mutex_unlock(&self->mutex);

	if (salt_mismatch && !was_mismatch)
		g_warning("cluster peer %s has a DIFFERENT SALT: refusing to replicate with it "
			  "(data encrypted under one salt cannot be read under the other; give "
			  "all nodes the same salt file)",
			  peer->conf->id);
	else if (!salt_mismatch && was_mismatch)
		g_message("cluster peer %s now has the same salt", peer->conf->id);
	if (healthy != was_healthy)
		g_message("cluster peer %s is %s", peer->conf->id,
			  healthy ? "healthy" : "unhealthy");
}

/*
 * Peer thread: one request to the peer. Returns the parsed JSON body of a 2xx answer, or
 * %NULL with @error (and the peer's health updated).
 */
static JsonNode *
osc_peer_call(OscPeer *peer, const gchar *method, const gchar *path, JsonNode *body, GError **error)
{
	OscCluster *self = peer->cluster;
	g_autofree gchar *url = g_strconcat(peer->conf->url, path, NULL);
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error_local = NULL;
	SoupMessageHeaders *h;
	guint status;
	gsize len = 0;
	const gchar *data;

	if (osc_cluster_partitioned()) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE,
				    "partitioned (OSC_TEST_PARTITION_FILE)");
		osc_peer_set_health(peer, FALSE, -1);
		return NULL;
	}
	msg = soup_message_new(method, url);
	if (msg == NULL) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_FAILED, "bad peer URL %s", url);
		return NULL;
	}
	h = soup_message_get_request_headers(msg);
	soup_message_headers_replace(h, OSC_CLUSTER_NODE_HEADER, self->node_id);
	soup_message_headers_replace(h, OSC_CLUSTER_SALT_HEADER, self->salt_fp);
	if (self->api_key != NULL)
		soup_message_headers_replace(h, "X-API-Key", self->api_key);
	if (self->client_cert != NULL)
		soup_message_set_tls_client_certificate(msg, self->client_cert);
	if (body != NULL) {
		gchar *text = osc_json_to_string(body, &len);
		g_autoptr(GBytes) bytes = g_bytes_new_take(text, len);
		soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
	}
	reply = soup_session_send_and_read(osc_cluster_thread_session(self), msg, self->cancellable,
					   &error_local);
	if (reply == NULL) {
		g_debug("%s %s: %s", method, url, error_local->message);
		g_set_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE, "%s %s: %s", method, url,
			    error_local->message);
		osc_peer_set_health(peer, FALSE, -1);
		return NULL;
	}
	status = soup_message_get_status(msg);
	if (status == 409 && soup_message_headers_get_one(soup_message_get_response_headers(msg),
							  OSC_CLUSTER_SALT_HEADER) != NULL) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_CONFLICT, "peer %s has another salt",
			    peer->conf->id);
		osc_peer_set_health(peer, TRUE, TRUE);
		return NULL;
	}
	if (status < 200 || status >= 300) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_UNAVAILABLE, "%s %s: HTTP %u", method, url,
			    status);
		osc_peer_set_health(peer, FALSE, -1);
		return NULL;
	}
	/* only the routes that check the fingerprint prove that it matches */
	osc_peer_set_health(peer, TRUE, g_str_has_prefix(path, "/cluster/health") ? -1 : FALSE);
	data = g_bytes_get_data(reply, &len);
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, data, (gssize)len, error))
		return NULL;
	return json_node_ref(json_parser_get_root(parser));
}

static JsonNode *
osc_rows_body(GPtrArray *rows, guint from, guint to)
{
	JsonObject *obj = json_object_new();
	JsonArray *array = json_array_sized_new(to - from);
	JsonNode *node;

	for (guint i = from; i < to; i++)
		json_array_add_object_element(array, osc_repl_row_to_json(rows->pdata[i], TRUE));
	json_object_set_array_member(obj, "rows", array);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	return node;
}

/* Peer thread: POST /cluster/replicate in batches bounded in rows and bytes */
static gboolean
osc_peer_push_rows(OscPeer *peer, GPtrArray *rows, GError **error)
{
	guint from = 0;

	while (from < rows->len) {
		guint to = from;
		gsize bytes = 0;
		g_autoptr(JsonNode) body = NULL;
		g_autoptr(JsonNode) reply = NULL;

		while (to < rows->len && to - from < OSC_CLUSTER_BATCH &&
		       (to == from || bytes < OSC_CLUSTER_BATCH_BYTES)) {
			OscReplRow *r = rows->pdata[to];
			bytes += (r->token != NULL ? strlen(r->token) : 0) + 256;
			to++;
		}
		body = osc_rows_body(rows, from, to);
		reply = osc_peer_call(peer, "POST", "/cluster/replicate", body, error);
		if (reply == NULL)
			return FALSE;
		from = to;
	}
	return TRUE;
}

/* Peer thread: the current state of each pending pair, pushed */
static void
osc_peer_push_pending(OscPeer *peer, GHashTable *pending)
{
	OscCluster *self = peer->cluster;
	g_autoptr(GPtrArray) rows =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_repl_row_free);
	g_autoptr(GError) error = NULL;
	GHashTableIter iter;
	gpointer k;

	g_hash_table_iter_init(&iter, pending);
	while (g_hash_table_iter_next(&iter, &k, NULL)) {
		const gchar *pair = k;
		const gchar *sep = strchr(pair, '\x1f');
		g_autofree gchar *env = g_strndup(pair, (gsize)(sep - pair));
		g_autoptr(GError) error_local = NULL;
		OscReplRow *r = osc_store_repl_get(self->store, sep + 1, env, &error_local);

		if (r != NULL)
			g_ptr_array_add(rows, r);
		else if (error_local != NULL)
			g_warning("cannot read %s for replication: %s", sep + 1,
				  error_local->message);
	}
	if (rows->len == 0)
		return;
	/* a failed push is not retried: anti-entropy repairs it within one interval */
	if (!osc_peer_push_rows(peer, rows, &error))
		g_debug("push to %s failed: %s", peer->conf->id, error->message);
}

static GHashTable *
osc_listing_index(JsonArray *array)
{
	GHashTable *index = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *node = json_array_get_element(array, i);
		if (JSON_NODE_HOLDS_OBJECT(node)) {
			JsonObject *obj = json_node_get_object(node);
			const gchar *key =
				json_object_get_string_member_with_default(obj, "key", NULL);
			if (key != NULL)
				g_hash_table_insert(index, (gpointer)key, obj);
		}
	}
	return index;
}

/*
 * Peer thread: reconcile one environment whose digests differ by pulling what the peer has
 * newer. A periodic round only pulls: the peer's own round pulls what we have newer, so each
 * row crosses each link once instead of twice. With @push (a round asked for after a bulk
 * change here, e.g. an import), it also pushes what we have newer, so the peer need not wait
 * for its next round.
 */
static gboolean
osc_peer_sync_env(OscPeer *peer, const gchar *env, gboolean push, gint *pulled, gint *pushed,
		  GError **error)
{
	OscCluster *self = peer->cluster;
	g_autofree gchar *escaped = g_uri_escape_string(env, NULL, FALSE);
	g_autofree gchar *path = g_strdup_printf("/cluster/rows?environment=%s", escaped);
	g_autoptr(JsonNode) listing = NULL;
	g_autoptr(GPtrArray) local = NULL;
	g_autoptr(GHashTable) remote = NULL;
	g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) give =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_repl_row_free);
	JsonArray *array;

	listing = osc_peer_call(peer, "GET", path, NULL, error);
	if (listing == NULL)
		return FALSE;
	if (!JSON_NODE_HOLDS_OBJECT(listing) ||
	    json_object_get_array_member(json_node_get_object(listing), "rows") == NULL) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED, "bad /cluster/rows answer");
		return FALSE;
	}
	array = json_object_get_array_member(json_node_get_object(listing), "rows");
	remote = osc_listing_index(array);
	local = osc_store_repl_list(self->store, env, TRUE, error);
	if (local == NULL)
		return FALSE;
	for (guint i = 0; i < local->len; i++) {
		OscReplRow *r = local->pdata[i];
		JsonObject *theirs = g_hash_table_lookup(remote, r->key);
		gint cmp;

		if (theirs == NULL) {
			cmp = 1;
		} else {
			cmp = osc_store_stamp_compare(
				r->hlc, r->origin,
				json_object_get_string_member_with_default(theirs, "hlc", ""),
				json_object_get_string_member_with_default(theirs, "origin", ""));
			g_hash_table_remove(remote, r->key);
		}
		if (cmp < 0)
			g_ptr_array_add(want, g_strdup(r->key));
		else if (cmp > 0 && push && !osc_cluster_tomb_expired(self, r))
			g_ptr_array_add(give, g_ptr_array_steal_index(local, i--));
	}
	{
		GHashTableIter iter;
		gpointer k;
		g_hash_table_iter_init(&iter, remote);
		while (g_hash_table_iter_next(&iter, &k, NULL))
			g_ptr_array_add(want, g_strdup(k));
	}
	if (give->len > 0) {
		if (!osc_peer_push_rows(peer, give, error))
			return FALSE;
		*pushed += (gint)give->len;
	}
	for (guint from = 0; from < want->len; from += OSC_CLUSTER_BATCH) {
		guint to = MIN(want->len, from + OSC_CLUSTER_BATCH);
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) body = NULL;
		g_autoptr(JsonNode) reply = NULL;
		g_autoptr(GPtrArray) rows =
			g_ptr_array_new_with_free_func((GDestroyNotify)osc_repl_row_free);
		JsonArray *got;
		gint changed;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "environment");
		json_builder_add_string_value(b, env);
		json_builder_set_member_name(b, "keys");
		json_builder_begin_array(b);
		for (guint i = from; i < to; i++)
			json_builder_add_string_value(b, want->pdata[i]);
		json_builder_end_array(b);
		json_builder_end_object(b);
		body = json_builder_get_root(b);
		reply = osc_peer_call(peer, "POST", "/cluster/fetch", body, error);
		if (reply == NULL)
			return FALSE;
		if (!JSON_NODE_HOLDS_OBJECT(reply) ||
		    (got = json_object_get_array_member(json_node_get_object(reply), "rows")) ==
			    NULL) {
			g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED,
					    "bad /cluster/fetch answer");
			return FALSE;
		}
		for (guint i = 0; i < json_array_get_length(got); i++) {
			OscReplRow *r =
				osc_repl_row_from_json(json_array_get_element(got, i), error);
			if (r == NULL)
				return FALSE;
			if (osc_cluster_tomb_expired(self, r)) {
				osc_repl_row_free(r);
				continue;
			}
			g_ptr_array_add(rows, r);
		}
		changed = osc_cluster_apply(self, rows, error);
		if (changed < 0)
			return FALSE;
		*pulled += changed;
	}
	return TRUE;
}

/* Peer thread: one anti-entropy round with the peer */
static void
osc_peer_anti_entropy(OscPeer *peer, gboolean push)
{
	OscCluster *self = peer->cluster;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) health = NULL;
	g_autoptr(JsonNode) theirs = NULL;
	g_autoptr(JsonObject) ours = NULL;
	g_autoptr(GHashTable) envs = g_hash_table_new(g_str_hash, g_str_equal);
	JsonObject *their_envs;
	gint64 start = g_get_monotonic_time();
	gint pulled = 0, pushed = 0;
	GHashTableIter iter;
	gpointer k;

	/* the health check (API.md §9.3); a peer that answers it is healthy */
	health = osc_peer_call(peer, "GET", "/cluster/health", NULL, &error);
	if (health == NULL)
		return;
	theirs = osc_peer_call(peer, "GET", "/cluster/digest", NULL, &error);
	if (theirs == NULL || !JSON_NODE_HOLDS_OBJECT(theirs) ||
	    (their_envs = json_object_get_object_member(json_node_get_object(theirs),
							"environments")) == NULL) {
		g_debug("anti-entropy with %s: %s", peer->conf->id,
			error != NULL ? error->message : "bad digest");
		return;
	}
	ours = osc_cluster_local_digest(self, &error);
	if (ours == NULL) {
		g_warning("anti-entropy: %s", error->message);
		return;
	}
	{
		GList *members = json_object_get_members(ours);
		for (GList *l = members; l != NULL; l = l->next)
			g_hash_table_add(envs, l->data);
		g_list_free(members);
	}
	{
		GList *members = json_object_get_members(their_envs);
		for (GList *l = members; l != NULL; l = l->next)
			g_hash_table_add(envs, l->data);
		g_list_free(members);
	}
	g_mutex_lock(&self->sync_mutex);
	g_hash_table_iter_init(&iter, envs);
	while (g_hash_table_iter_next(&iter, &k, NULL)) {
		const gchar *env = k;
		JsonObject *a = json_object_get_object_member(ours, env);
		JsonObject *b = json_object_get_object_member(their_envs, env);

		if (a != NULL && b != NULL &&
		    g_strcmp0(json_object_get_string_member_with_default(a, "digest", ""),
			      json_object_get_string_member_with_default(b, "digest", "")) == 0 &&
		    json_object_get_int_member_with_default(a, "count", -1) ==
			    json_object_get_int_member_with_default(b, "count", -2))
			continue;
		if (!osc_peer_sync_env(peer, env, push, &pulled, &pushed, &error)) {
			g_mutex_unlock(&self->sync_mutex);
			g_debug("anti-entropy with %s, environment %s: %s", peer->conf->id, env,
				error->message);
			return;
		}
	}
	g_mutex_unlock(&self->sync_mutex);
	osc_metric_observe(self->families->cluster_sync_duration,
			   (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC, NULL);
	if (pulled > 0 || pushed > 0)
		g_message("anti-entropy with %s: %d rows pulled, %d pushed", peer->conf->id, pulled,
			  pushed);
}

/* Peer thread: pushes local writes to the peer as they are committed */
static gpointer
osc_peer_push_thread(gpointer data)
{
	OscPeer *peer = data;
	OscCluster *self = peer->cluster;

	for (;;) {
		g_autoptr(GHashTable) pending = NULL;

		g_mutex_lock(&self->mutex);
		while (!self->stopping && g_hash_table_size(peer->pending) == 0)
			g_cond_wait(&self->cond, &self->mutex);
		if (self->stopping) {
			g_mutex_unlock(&self->mutex);
			break;
		}
		pending = g_steal_pointer(&peer->pending);
		peer->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_mutex_unlock(&self->mutex);

		osc_peer_push_pending(peer, pending);
	}
	g_private_replace(&osc_thread_session, NULL);
	return NULL;
}

/* Peer thread: health checks and anti-entropy, apart from the pushes so that a long round
 * never delays them */
static gpointer
osc_peer_sync_thread(gpointer data)
{
	OscPeer *peer = data;
	OscCluster *self = peer->cluster;
	/* soon after start: a node that was down catches up at once */
	gint64 next_sync = g_get_monotonic_time() + 200 * 1000;
	gint64 next_health = next_sync;
	gint64 health_us = (gint64)MIN(self->sync_interval_ms, OSC_CLUSTER_HEALTH_MS) * 1000;

	for (;;) {
		gboolean sync = FALSE;
		gboolean push = FALSE;
		gboolean was_healthy;

		g_mutex_lock(&self->mutex);
		while (!self->stopping && !peer->sync_now &&
		       g_get_monotonic_time() < MIN(next_sync, next_health))
			g_cond_wait_until(&self->cond, &self->mutex, MIN(next_sync, next_health));
		if (self->stopping) {
			g_mutex_unlock(&self->mutex);
			break;
		}
		if (peer->sync_now || g_get_monotonic_time() >= next_sync) {
			sync = TRUE;
			push = peer->sync_now;
			peer->sync_now = FALSE;
		}
		was_healthy = peer->healthy;
		g_mutex_unlock(&self->mutex);

		/* health checks every second (or interval): a peer that comes back (restart,
		 * healed partition) is caught up at once, not one interval later */
		if (!sync) {
			g_autoptr(JsonNode) health =
				osc_peer_call(peer, "GET", "/cluster/health", NULL, NULL);
			next_health = g_get_monotonic_time() + health_us;
			if (health == NULL || was_healthy)
				continue;
		}
		osc_store_prune_tombstones(self->store,
					   g_get_real_time() / 1000 - self->tombstone_ttl_ms, NULL);
		osc_peer_anti_entropy(peer, push);
		next_sync = g_get_monotonic_time() + (gint64)self->sync_interval_ms * 1000;
		next_health = g_get_monotonic_time() + health_us;
	}
	g_private_replace(&osc_thread_session, NULL);
	return NULL;
}

/* ---- the object ---- */

static void
osc_peer_free(OscPeer *peer)
{
	g_clear_pointer(&peer->pending, g_hash_table_unref);
	osc_cluster_peer_free(peer->conf);
	g_free(peer);
}

static void
osc_cluster_finalize(GObject *object)
{
	OscCluster *self = OSC_CLUSTER(object);

	osc_cluster_stop(self);
	g_clear_pointer(&self->peers, g_ptr_array_unref);
	g_clear_pointer(&self->refused, g_hash_table_unref);
	g_clear_object(&self->cancellable);
	g_weak_ref_clear(&self->service);
	g_clear_object(&self->store);
	g_clear_object(&self->metrics);
	g_clear_object(&self->client_cert);
	g_clear_object(&self->tls_db);
	g_clear_pointer(&self->context, g_main_context_unref);
	g_free(self->node_id);
	g_free(self->salt_fp);
	g_free(self->api_key);
	g_mutex_clear(&self->mutex);
	g_mutex_clear(&self->sync_mutex);
	g_cond_clear(&self->cond);
	G_OBJECT_CLASS(osc_cluster_parent_class)->finalize(object);
}

static void
osc_cluster_class_init(OscClusterClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = osc_cluster_finalize;
}

static void
osc_cluster_init(OscCluster *self)
{
	g_mutex_init(&self->mutex);
	g_mutex_init(&self->sync_mutex);
	g_cond_init(&self->cond);
	g_weak_ref_init(&self->service, NULL);
	self->peers = g_ptr_array_new_with_free_func((GDestroyNotify)osc_peer_free);
	self->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->cancellable = g_cancellable_new();
}

/**
 * osc_cluster_new:
 * @service: the service (not referenced: it owns the cluster)
 *
 * Returns: (transfer full): the cluster state of a node with `OSC_CLUSTER_ENABLED`, not yet
 *   running (osc_cluster_start())
 */
OscCluster *
osc_cluster_new(OscService *service, GError **error)
{
	const OscConfig *config = osc_service_get_config(service);
	g_autoptr(OscCluster) self = g_object_new(OSC_TYPE_CLUSTER, NULL);
	g_autoptr(GPtrArray) confs = osc_cluster_parse_peers(config, error);

	if (confs == NULL)
		return NULL;
	g_weak_ref_set(&self->service, service);
	self->store = g_object_ref(osc_service_get_store(service));
	self->metrics = g_object_ref(osc_service_get_metrics(service));
	self->families = osc_service_get_metric_families(service);
	self->context = g_main_context_ref_thread_default();
	self->node_id = g_strdup(osc_service_get_node_id(service));
	self->salt_fp = osc_cluster_salt_fingerprint(
		osc_key_cache_get_salt(osc_service_get_key_cache(service)),
		osc_key_cache_get_iterations(osc_service_get_key_cache(service)));
	if (config->api_key_required)
		self->api_key = g_strdup(config->api_key);
	self->sync_interval_ms = config->cluster_sync_interval * 1000;
	self->tombstone_ttl_ms = (gint64)config->cluster_tombstone_ttl * 1000;
	if (!osc_cluster_load_tls(config, &self->client_cert, &self->tls_db, error))
		return NULL;
	self->salt_mismatch = osc_metrics_add_gauge(
		self->metrics, "osc_cluster_salt_mismatch",
		"Peers whose salt differs from this node's (no data is exchanged with them)", NULL);
	self->lag = osc_metrics_add_histogram(
		self->metrics, "osc_cluster_replication_lag_seconds",
		"Time from a write on its origin node to its merge here (HLC physical time)", NULL,
		osc_cluster_lag_buckets, G_N_ELEMENTS(osc_cluster_lag_buckets));
	self->rows_applied =
		osc_metrics_add_counter(self->metrics, "osc_cluster_rows_applied_total",
					"Replicated rows that changed this node", NULL);
	osc_metric_set(self->salt_mismatch, 0, NULL);
	for (guint i = 0; i < confs->len; i++) {
		OscPeer *peer = g_new0(OscPeer, 1);
		peer->cluster = self;
		peer->conf = g_ptr_array_steal_index(confs, i--);
		peer->healthy = TRUE; /* as the original: every peer starts out healthy */
		peer->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_ptr_array_add(self->peers, peer);
	}
	g_message("REPLICA clustering: node %s, %u peers, sync every %u s, salt fingerprint %s",
		  self->node_id, self->peers->len, config->cluster_sync_interval, self->salt_fp);
	if (g_getenv("OSC_TEST_PARTITION_FILE") != NULL)
		g_warning("OSC_TEST_PARTITION_FILE is set: a TEST-ONLY partition switch is active");
	return g_steal_pointer(&self);
}

void
osc_cluster_start(OscCluster *self)
{
	g_return_if_fail(OSC_IS_CLUSTER(self));

	for (guint i = 0; i < self->peers->len; i++) {
		OscPeer *peer = self->peers->pdata[i];
		g_autofree gchar *push_name = g_strdup_printf("osc-push-%u", i);
		g_autofree gchar *sync_name = g_strdup_printf("osc-sync-%u", i);
		if (peer->push_thread == NULL)
			peer->push_thread = g_thread_new(push_name, osc_peer_push_thread, peer);
		if (peer->sync_thread == NULL)
			peer->sync_thread = g_thread_new(sync_name, osc_peer_sync_thread, peer);
	}
}

/**
 * osc_cluster_stop:
 *
 * Stops and joins the peer threads (pending pushes are dropped: anti-entropy repairs them
 * after a restart).
 */
void
osc_cluster_stop(OscCluster *self)
{
	g_return_if_fail(OSC_IS_CLUSTER(self));

	g_mutex_lock(&self->mutex);
	self->stopping = TRUE;
	g_cond_broadcast(&self->cond);
	g_mutex_unlock(&self->mutex);
	g_cancellable_cancel(self->cancellable);
	for (guint i = 0; i < self->peers->len; i++) {
		OscPeer *peer = self->peers->pdata[i];
		if (peer->push_thread != NULL)
			g_thread_join(g_steal_pointer(&peer->push_thread));
		if (peer->sync_thread != NULL)
			g_thread_join(g_steal_pointer(&peer->sync_thread));
	}
}

/**
 * osc_cluster_local_change:
 *
 * A client's write to (@key, @environment) was committed here: push the pair to every peer.
 */
void
osc_cluster_local_change(OscCluster *self, const gchar *key, const gchar *environment)
{
	g_return_if_fail(OSC_IS_CLUSTER(self));

	g_mutex_lock(&self->mutex);
	for (guint i = 0; i < self->peers->len; i++) {
		OscPeer *peer = self->peers->pdata[i];
		g_hash_table_add(peer->pending, g_strdup_printf("%s\x1f%s", environment, key));
	}
	g_cond_broadcast(&self->cond);
	g_mutex_unlock(&self->mutex);
}

/**
 * osc_cluster_request_sync:
 *
 * Runs anti-entropy with every peer now (after changes too many to push one by one, e.g. an
 * import or a re-key).
 */
void
osc_cluster_request_sync(OscCluster *self)
{
	g_return_if_fail(OSC_IS_CLUSTER(self));

	g_mutex_lock(&self->mutex);
	for (guint i = 0; i < self->peers->len; i++)
		((OscPeer *)self->peers->pdata[i])->sync_now = TRUE;
	g_cond_broadcast(&self->cond);
	g_mutex_unlock(&self->mutex);
}

guint
osc_cluster_get_total_nodes(OscCluster *self)
{
	return self->peers->len + 1;
}

guint
osc_cluster_get_healthy_nodes(OscCluster *self)
{
	guint healthy = 1;

	g_mutex_lock(&self->mutex);
	for (guint i = 0; i < self->peers->len; i++) {
		OscPeer *peer = self->peers->pdata[i];
		healthy += peer->healthy && !peer->salt_mismatch ? 1 : 0;
	}
	g_mutex_unlock(&self->mutex);
	return healthy;
}

const gchar *
osc_cluster_get_salt_fingerprint(OscCluster *self)
{
	return self->salt_fp;
}

/**
 * osc_cluster_build_status:
 * @full: add the per-peer list (`peers`) beyond the five members of API.md §4.18
 */
JsonNode *
osc_cluster_build_status(OscCluster *self, gboolean full)
{
	JsonObject *obj = json_object_new();
	JsonNode *node;

	json_object_set_boolean_member(obj, "enabled", TRUE);
	json_object_set_string_member(obj, "mode", "replica");
	json_object_set_string_member(obj, "node_id", self->node_id);
	json_object_set_int_member(obj, "total_nodes", osc_cluster_get_total_nodes(self));
	json_object_set_int_member(obj, "healthy_nodes", osc_cluster_get_healthy_nodes(self));
	{
		/* beyond the five members, only when something is wrong: say it loudly */
		JsonArray *bad = json_array_new();

		g_mutex_lock(&self->mutex);
		for (guint i = 0; i < self->peers->len; i++) {
			OscPeer *peer = self->peers->pdata[i];
			if (peer->salt_mismatch)
				json_array_add_string_element(bad, peer->conf->id);
		}
		g_mutex_unlock(&self->mutex);
		if (json_array_get_length(bad) > 0) {
			json_object_set_array_member(obj, "salt_mismatch", bad);
			json_object_set_string_member(
				obj, "warning",
				"peers listed in salt_mismatch have a different salt; no data is "
				"replicated with them");
		} else {
			json_array_unref(bad);
		}
	}
	if (full) {
		JsonArray *peers = json_array_new();

		g_mutex_lock(&self->mutex);
		for (guint i = 0; i < self->peers->len; i++) {
			OscPeer *peer = self->peers->pdata[i];
			JsonObject *p = json_object_new();
			json_object_set_string_member(p, "node_id", peer->conf->id);
			json_object_set_string_member(p, "url", peer->conf->url);
			json_object_set_boolean_member(p, "is_healthy", peer->healthy);
			json_object_set_boolean_member(p, "salt_mismatch", peer->salt_mismatch);
			json_array_add_object_element(peers, p);
		}
		g_mutex_unlock(&self->mutex);
		json_object_set_string_member(obj, "salt_fingerprint", self->salt_fp);
		json_object_set_array_member(obj, "peers", peers);
	}
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	return node;
}

/* ---- inter-node routes (worker thread) ---- */

static void
osc_req_set_json(OscRequest *req, JsonNode *node)
{
	req->resp_status = 200;
	req->resp_body = osc_json_to_string(node, &req->resp_len);
}

static JsonNode *
osc_req_body(OscRequest *req, GError **error)
{
	SoupMessageBody *body = soup_server_message_get_request_body(req->msg);
	g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	gsize len = 0;
	const gchar *data = g_bytes_get_data(bytes, &len);

	if (!json_parser_load_from_data(parser, data, (gssize)len, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "the body must be a JSON object");
		return NULL;
	}
	return json_node_ref(json_parser_get_root(parser));
}

static void
osc_cluster_job_replicate(OscCluster *self, OscRequest *req)
{
	g_autoptr(JsonNode) body = osc_req_body(req, &req->error);
	g_autoptr(GPtrArray) rows =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_repl_row_free);
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) answer = NULL;
	JsonArray *array;
	gint changed;

	if (body == NULL)
		return;
	array = json_object_get_array_member(json_node_get_object(body), "rows");
	if (array == NULL) {
		g_set_error_literal(&req->error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "'rows' must be an array");
		return;
	}
	for (guint i = 0; i < json_array_get_length(array); i++) {
		OscReplRow *r =
			osc_repl_row_from_json(json_array_get_element(array, i), &req->error);
		if (r == NULL)
			return;
		g_ptr_array_add(rows, r);
	}
	/* merged and announced here; never forwarded (no echo) */
	changed = osc_cluster_apply(self, rows, &req->error);
	if (changed < 0)
		return;
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "received");
	json_builder_add_int_value(b, rows->len);
	json_builder_set_member_name(b, "applied");
	json_builder_add_int_value(b, changed);
	json_builder_end_object(b);
	answer = json_builder_get_root(b);
	osc_req_set_json(req, answer);
}

static void
osc_cluster_job_digest(OscCluster *self, OscRequest *req)
{
	JsonObject *envs = osc_cluster_local_digest(self, &req->error);
	JsonObject *obj;
	g_autoptr(JsonNode) node = NULL;

	if (envs == NULL)
		return;
	obj = json_object_new();
	json_object_set_string_member(obj, "node_id", self->node_id);
	json_object_set_object_member(obj, "environments", envs);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	osc_req_set_json(req, node);
}

static void
osc_cluster_job_rows(OscCluster *self, OscRequest *req)
{
	/* req->query is libsoup's and gone by now: read the message's URI */
	GUri *uri = soup_server_message_get_uri(req->msg);
	g_autoptr(GHashTable) params =
		g_uri_get_query(uri) != NULL
			? g_uri_parse_params(g_uri_get_query(uri), -1, "&", G_URI_PARAMS_NONE, NULL)
			: NULL;
	const gchar *env = params != NULL ? g_hash_table_lookup(params, "environment") : NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonObject *obj;
	JsonArray *array;

	if (env == NULL || env[0] == '\0') {
		g_set_error_literal(&req->error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "environment is required");
		return;
	}
	rows = osc_store_repl_list(self->store, env, FALSE, &req->error);
	if (rows == NULL)
		return;
	array = json_array_sized_new(rows->len);
	for (guint i = 0; i < rows->len; i++) {
		if (!osc_cluster_tomb_expired(self, rows->pdata[i]))
			json_array_add_object_element(array,
						      osc_repl_row_to_json(rows->pdata[i], FALSE));
	}
	obj = json_object_new();
	json_object_set_array_member(obj, "rows", array);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	osc_req_set_json(req, node);
}

static void
osc_cluster_job_fetch(OscCluster *self, OscRequest *req)
{
	g_autoptr(JsonNode) body = osc_req_body(req, &req->error);
	g_autoptr(GPtrArray) rows =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_repl_row_free);
	g_autoptr(JsonNode) node = NULL;
	const gchar *env;
	JsonArray *keys;

	if (body == NULL)
		return;
	env = json_object_get_string_member_with_default(json_node_get_object(body), "environment",
							 NULL);
	keys = json_object_get_array_member(json_node_get_object(body), "keys");
	if (env == NULL || keys == NULL) {
		g_set_error_literal(&req->error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "'environment' (string) and 'keys' (array) are required");
		return;
	}
	for (guint i = 0; i < json_array_get_length(keys); i++) {
		const gchar *key = json_array_get_string_element(keys, i);
		OscReplRow *r;

		if (key == NULL)
			continue;
		r = osc_store_repl_get(self->store, key, env, &req->error);
		if (r == NULL && req->error != NULL)
			return;
		if (r != NULL)
			g_ptr_array_add(rows, r);
	}
	node = osc_rows_body(rows, 0, rows->len);
	osc_req_set_json(req, node);
}

/* §4.20: local count first, then each peer's /cluster/configs, in configuration order */
static void
osc_cluster_job_distribution(OscCluster *self, OscRequest *req)
{
	gint64 local = osc_store_count(self->store, NULL, NULL, &req->error);
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonArray *nodes;
	JsonObject *obj, *item;
	gboolean synced = TRUE;

	if (local < 0)
		return;
	session = osc_cluster_session_new(self->tls_db);
	nodes = json_array_new();
	item = json_object_new();
	json_object_set_string_member(item, "node_id", self->node_id);
	json_object_set_boolean_member(item, "is_local", TRUE);
	json_object_set_boolean_member(item, "is_healthy", TRUE);
	json_object_set_int_member(item, "keys_count", local);
	json_array_add_object_element(nodes, item);
	for (guint i = 0; i < self->peers->len; i++) {
		OscPeer *peer = self->peers->pdata[i];
		g_autofree gchar *url = g_strconcat(peer->conf->url, "/cluster/configs", NULL);
		g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
		g_autoptr(GBytes) reply = NULL;
		g_autoptr(JsonParser) parser = json_parser_new_immutable();
		gboolean healthy;
		gint64 count = 0;
		gboolean ok = FALSE;

		g_mutex_lock(&self->mutex);
		healthy = peer->healthy && !peer->salt_mismatch;
		g_mutex_unlock(&self->mutex);
		if (msg != NULL && !osc_cluster_partitioned()) {
			SoupMessageHeaders *h = soup_message_get_request_headers(msg);
			soup_message_headers_replace(h, OSC_CLUSTER_NODE_HEADER, self->node_id);
			soup_message_headers_replace(h, "X-User-Key", "cluster-sync-key");
			if (self->api_key != NULL)
				soup_message_headers_replace(h, "X-API-Key", self->api_key);
			if (self->client_cert != NULL)
				soup_message_set_tls_client_certificate(msg, self->client_cert);
			reply = soup_session_send_and_read(session, msg, NULL, NULL);
		}
		if (reply != NULL && soup_message_get_status(msg) == 200) {
			gsize len = 0;
			const gchar *data = g_bytes_get_data(reply, &len);
			if (json_parser_load_from_data(parser, data, (gssize)len, NULL) &&
			    JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser))) {
				count = json_array_get_length(
					json_node_get_array(json_parser_get_root(parser)));
				ok = TRUE;
			}
		}
		if (!ok || count != local)
			synced = FALSE;
		item = json_object_new();
		json_object_set_string_member(item, "node_id", peer->conf->id);
		json_object_set_boolean_member(item, "is_local", FALSE);
		json_object_set_boolean_member(item, "is_healthy", ok && healthy);
		json_object_set_int_member(item, "keys_count", ok ? count : 0);
		json_array_add_object_element(nodes, item);
	}
	obj = json_object_new();
	json_object_set_string_member(obj, "cluster_mode", "replica");
	json_object_set_boolean_member(obj, "is_replica", TRUE);
	json_object_set_boolean_member(obj, "all_nodes_synced", synced);
	json_object_set_array_member(obj, "nodes_distribution", nodes);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	osc_req_set_json(req, node);
}

/**
 * osc_cluster_http_job:
 *
 * Worker thread: answers the inter-node routes (and /cluster/distribution). Inter-node
 * requests carry the sender's salt fingerprint: a different one is refused with 409 (and
 * the fingerprint header), so no rows ever cross between nodes of different salts.
 */
void
osc_cluster_http_job(OscRequest *req)
{
	OscService *service = req->self != NULL ? osc_http_server_get_service(req->self) : NULL;
	OscCluster *self = service != NULL ? osc_service_get_cluster(service) : NULL;
	SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
	const gchar *from = soup_message_headers_get_one(h, OSC_CLUSTER_NODE_HEADER);
	const gchar *fp = soup_message_headers_get_one(h, OSC_CLUSTER_SALT_HEADER);

	if (self == NULL) {
		g_set_error_literal(&req->error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Clustering is not enabled");
		return;
	}
	if (req->route->id == OSC_ROUTE_CLUSTER_DISTRIBUTION) {
		osc_cluster_job_distribution(self, req);
		return;
	}
	if (osc_cluster_partitioned()) {
		g_set_error_literal(&req->error, OSC_ERROR, OSC_ERROR_UNAVAILABLE,
				    "Node is partitioned (OSC_TEST_PARTITION_FILE)");
		return;
	}
	if (fp == NULL || !g_str_equal(fp, self->salt_fp)) {
		OscPeer *peer;

		soup_message_headers_replace(soup_server_message_get_response_headers(req->msg),
					     OSC_CLUSTER_SALT_HEADER, self->salt_fp);
		g_set_error(&req->error, OSC_ERROR, OSC_ERROR_CONFLICT,
			    "Salt mismatch: node %s has salt fingerprint %s, the request has %s; "
			    "refusing to exchange data",
			    self->node_id, self->salt_fp, fp != NULL ? fp : "none");
		peer = osc_cluster_find_peer(self, from);
		if (peer != NULL) {
			osc_peer_set_health(peer, TRUE, TRUE);
		} else {
			gboolean first;

			g_mutex_lock(&self->mutex);
			first = g_hash_table_add(self->refused, g_strdup(from != NULL ? from : ""));
			g_mutex_unlock(&self->mutex);
			if (first)
				g_warning(
					"refusing cluster data from node %s: its salt fingerprint "
					"%s differs from ours (%s)",
					from != NULL ? from : "(unknown)", fp != NULL ? fp : "none",
					self->salt_fp);
		}
		return;
	}
	switch (req->route->id) {
	case OSC_ROUTE_CLUSTER_REPLICATE:
		osc_cluster_job_replicate(self, req);
		return;
	case OSC_ROUTE_CLUSTER_DIGEST:
		osc_cluster_job_digest(self, req);
		return;
	case OSC_ROUTE_CLUSTER_ROWS:
		osc_cluster_job_rows(self, req);
		return;
	case OSC_ROUTE_CLUSTER_FETCH:
		osc_cluster_job_fetch(self, req);
		return;
	default:
		g_assert_not_reached();
	}
}
