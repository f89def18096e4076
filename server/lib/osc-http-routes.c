/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscHttp"

#include "config.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "osc-autocleanups.h"
#include "osc-error.h"
#include "osc-http-private.h"
#include "osc-server-resources.h"
#include "osc-salt.h"
#include "osc-service-private.h"
#include "osc-value.h"

#define OSC_SERVICE_DESCRIPTION                                                                   \
	"\nOpenSecureConf: encrypted configuration management.\n"                                 \
	"- Values encrypted with a per-user key (PBKDF2-HMAC-SHA256 + Fernet)\n"                 \
	"- Environments and categories, REST API, Server-Sent Events\n"                          \
	"- Prometheus metrics\n"

static JsonNode *
osc_object_node(JsonObject *obj)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	return node;
}

static JsonObject *
osc_cluster_summary(OscService *service)
{
	const OscConfig *config = osc_service_get_config(service);
	OscCluster *c = osc_service_get_cluster(service);
	JsonObject *cluster = json_object_new();

	json_object_set_boolean_member(cluster, "enabled", config->cluster_enabled);
	if (c != NULL) {
		json_object_set_string_member(cluster, "mode", "replica");
		json_object_set_string_member(cluster, "node_id", osc_service_get_node_id(service));
		json_object_set_int_member(cluster, "healthy_nodes",
					   osc_cluster_get_healthy_nodes(c));
		json_object_set_int_member(cluster, "total_nodes", osc_cluster_get_total_nodes(c));
	}
	return cluster;
}

static void
osc_http_root(OscRequest *req, OscService *service)
{
	JsonObject *obj = json_object_new();
	g_autoptr(JsonNode) node = NULL;

	json_object_set_string_member(obj, "name", "OpenSecureConf API");
	json_object_set_string_member(obj, "version", OSC_COMPAT_VERSION);
	json_object_set_string_member(obj, "description", OSC_SERVICE_DESCRIPTION);
	json_object_set_string_member(obj, "status", "operational");
	json_object_set_string_member(obj, "service", "OpenSecureConf API");
	json_object_set_object_member(obj, "cluster", osc_cluster_summary(service));
	/* ours, beyond the original: which server this is */
	json_object_set_string_member(obj, "implementation", "opensecureconf-c");
	json_object_set_string_member(obj, "implementation_version", PACKAGE_VERSION);
	node = osc_object_node(obj);
	osc_request_respond_json(req, 200, node);
}

static void
osc_http_simple_member(OscRequest *req, const gchar *name, JsonNode *value)
{
	JsonObject *obj = json_object_new();
	g_autoptr(JsonNode) node = NULL;

	json_object_set_member(obj, name, value);
	node = osc_object_node(obj);
	osc_request_respond_json(req, 200, node);
}

/* a counter another object keeps: adds what it grew by since the last scrape */
static void
osc_metric_catch_up(OscMetric *metric, guint64 now, guint64 *seen)
{
	if (now > *seen) {
		osc_metric_inc(metric, (gdouble)(now - *seen), NULL);
		*seen = now;
	}
}

static void
osc_http_metrics(OscRequest *req, OscService *service)
{
	OscServiceMetrics *m = osc_service_get_metric_families(service);
	OscKeyCache *cache = osc_service_get_key_cache(service);
	OscStore *store = osc_service_get_store(service);
	guint64 commits = 0, syncs = 0;
	gchar *text;

	/* as the original: cluster gauges are 0 with clustering off, set on every scrape */
	if (osc_service_get_cluster(service) == NULL) {
		osc_metric_set(m->cluster_nodes, 0, NULL);
		osc_metric_set(m->cluster_nodes_healthy, 0, NULL);
	} else {
		OscCluster *c = osc_service_get_cluster(service);
		osc_metric_set(m->cluster_nodes, osc_cluster_get_total_nodes(c), NULL);
		osc_metric_set(m->cluster_nodes_healthy, osc_cluster_get_healthy_nodes(c), NULL);
	}
	osc_metric_set(m->key_cache_entries, osc_key_cache_get_size(cache), NULL);
	osc_metric_set(m->list_cache_bytes, (gdouble)osc_key_cache_get_memo_bytes(cache), NULL);
	osc_metric_set(m->config_entries, (gdouble)osc_service_get_entry_count(service), NULL);
	osc_store_get_sync_counts(store, &commits, &syncs);
	osc_metric_catch_up(m->db_commits, commits, &m->commits_seen);
	osc_metric_catch_up(m->db_syncs, syncs, &m->syncs_seen);
	osc_metric_set(m->db_writes_refused, osc_store_get_sync_error(store) != 0 ? 1 : 0, NULL);
	osc_metric_catch_up(m->key_derivations, osc_key_cache_get_derivations(cache),
			    &m->derivations_seen);
	text = osc_metrics_render(osc_service_get_metrics(service));
	osc_request_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text,
			    strlen(text));
}

typedef struct {
	JsonObject *obj;
	const gchar *format; /* which label values make the member name */
} OpsClosure;

static void
osc_ops_collect_cb(OscMetric *metric,
		   const gchar *const *labels,
		   gdouble value,
		   gdouble sum,
		   gpointer user_data)
{
	JsonObject *obj = user_data;
	g_autofree gchar *name = g_strjoinv("_", (gchar **)labels);
	gint64 n = (gint64)value;

	/* integers, zero series omitted (API.md §4.11) */
	if (n == 0)
		return;
	json_object_set_int_member(obj, name, n);
}

/* §4.11, built from the registry directly rather than by re-parsing the text (D43) */
static void
osc_http_stats_operations(OscRequest *req, OscService *service)
{
	OscServiceMetrics *m = osc_service_get_metric_families(service);
	JsonObject *obj = json_object_new();
	JsonObject *reads = json_object_new();
	JsonObject *writes = json_object_new();
	JsonObject *enc = json_object_new();
	JsonObject *http = json_object_new();
	g_autoptr(JsonNode) node = NULL;

	osc_metric_foreach(m->config_reads, osc_ops_collect_cb, reads);
	osc_metric_foreach(m->config_writes, osc_ops_collect_cb, writes);
	osc_metric_foreach(m->encryption_operations, osc_ops_collect_cb, enc);
	osc_metric_foreach(m->http_requests, osc_ops_collect_cb, http);
	json_object_set_object_member(obj, "read_operations", reads);
	json_object_set_object_member(obj, "write_operations", writes);
	json_object_set_object_member(obj, "encryption_operations", enc);
	json_object_set_object_member(obj, "total_http_requests", http);
	node = osc_object_node(obj);
	osc_request_respond_json(req, 200, node);
}

static void
osc_http_cluster_status(OscRequest *req, OscService *service)
{
	OscCluster *cluster = osc_service_get_cluster(service);
	JsonObject *obj;
	g_autoptr(JsonNode) node = NULL;

	if (cluster != NULL) {
		const gchar *full =
			req->query != NULL ? g_hash_table_lookup(req->query, "full") : NULL;
		node = osc_cluster_build_status(cluster, g_strcmp0(full, "true") == 0);
		osc_request_respond_json(req, 200, node);
		return;
	}
	/* the original's "off" shape */
	obj = json_object_new();
	json_object_set_boolean_member(obj, "enabled", FALSE);
	json_object_set_null_member(obj, "mode");
	json_object_set_null_member(obj, "node_id");
	json_object_set_null_member(obj, "total_nodes");
	json_object_set_null_member(obj, "healthy_nodes");
	node = osc_object_node(obj);
	osc_request_respond_json(req, 200, node);
}

static void
osc_http_cluster_health(OscRequest *req, OscService *service)
{
	SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
	JsonObject *obj;
	g_autoptr(JsonNode) node = NULL;

	/* the test-only partition switch drops peers' health checks too */
	if (soup_message_headers_get_one(h, OSC_CLUSTER_NODE_HEADER) != NULL &&
	    osc_service_get_cluster(service) != NULL && osc_cluster_partitioned()) {
		osc_request_respond_detail(req, 503,
					   "Node is partitioned (OSC_TEST_PARTITION_FILE)");
		return;
	}
	obj = json_object_new();
	json_object_set_string_member(obj, "status", "healthy");
	json_object_set_string_member(obj, "node_id", osc_service_get_node_id(service));
	node = osc_object_node(obj);
	osc_request_respond_json(req, 200, node);
}

static void
osc_http_cluster_salt(OscRequest *req, OscService *service)
{
	const OscConfig *config = osc_service_get_config(service);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) salt = osc_salt_load(config->salt_file_path, &error);

	if (salt == NULL && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
		g_autofree gchar *detail = g_strdup_printf("Failed to read salt: %s",
							   error->message);
		osc_request_respond_detail(req, 500, detail);
		return;
	}
	if (g_str_equal(req->method, "GET") || g_str_equal(req->method, "HEAD")) {
		SoupMessageHeaders *h = soup_server_message_get_response_headers(req->msg);
		gsize len = 0;
		gconstpointer data;

		if (salt == NULL) {
			osc_request_respond_detail(req, 404, "Salt file not found");
			return;
		}
		data = g_bytes_get_data(salt, &len);
		soup_message_headers_replace(h, "Content-Disposition",
					     "attachment; filename=encryption.salt");
		osc_request_respond(req, 200, "application/octet-stream", g_memdup2(data, len),
				    len);
		return;
	} else {
		SoupMessageBody *body = soup_server_message_get_request_body(req->msg);
		g_autoptr(GBytes) received = soup_message_body_flatten(body);
		JsonObject *obj;
		g_autoptr(JsonNode) node = NULL;

		if (salt != NULL) {
			if (!g_bytes_equal(salt, received)) {
				osc_request_respond_detail(
				    req, 409, "Salt file already exists and differs from received salt");
				return;
			}
			obj = json_object_new();
			json_object_set_string_member(obj, "message",
						      "Salt already present and matches");
			json_object_set_string_member(obj, "status", "ok");
			node = osc_object_node(obj);
			osc_request_respond_json(req, 200, node);
			return;
		}
		/* the salt file went missing under a running node. The salt this service runs
		 * with is the truth: write back only that one, or the next start would derive
		 * other keys and open nothing */
		if (g_bytes_get_size(received) != 64) {
			g_autofree gchar *detail = g_strdup_printf(
			    "Invalid salt size: %" G_GSIZE_FORMAT " bytes (expected 64)",
			    g_bytes_get_size(received));
			osc_request_respond_detail(req, 400, detail);
			return;
		}
		if (!g_bytes_equal(received, osc_key_cache_get_salt(osc_service_get_key_cache(service)))) {
			osc_request_respond_detail(
			    req, 409, "Salt file already exists and differs from received salt");
			return;
		}
		/* error holds the load's "not found" */
		g_clear_error(&error);
		if (!osc_salt_write(config->salt_file_path, received, &error)) {
			g_autofree gchar *detail = g_strdup_printf("Failed to save salt: %s",
								   error->message);
			osc_request_respond_detail(req, 500, detail);
			return;
		}
		obj = json_object_new();
		json_object_set_string_member(obj, "message",
					      "Salt received and saved successfully");
		json_object_set_string_member(obj, "status", "created");
		json_object_set_int_member(obj, "size_bytes", 64);
		node = osc_object_node(obj);
		osc_request_respond_json(req, 200, node);
	}
}

static void
osc_http_resource(OscRequest *req, const gchar *path, const gchar *content_type)
{
	/* looked up in our own resource, which also makes the linker keep it */
	g_autoptr(GBytes) bytes = g_resource_lookup_data(osc_server_get_resource(), path, 0, NULL);
	gsize len = 0;
	gconstpointer data;

	if (bytes == NULL) {
		osc_request_respond_detail(req, 404, "Not Found");
		return;
	}
	data = g_bytes_get_data(bytes, &len);
	osc_request_respond(req, 200, content_type, g_memdup2(data, len), len);
}

void
osc_http_handle_simple(OscHttpServer *self, OscRequest *req)
{
	OscService *service = osc_http_server_get_service(self);

	switch (req->route->id) {
	case OSC_ROUTE_ROOT:
		osc_http_root(req, service);
		return;
	case OSC_ROUTE_HEALTH: {
		JsonNode *v = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(v, "healthy");
		osc_http_simple_member(req, "status", v);
		return;
	}
	case OSC_ROUTE_READY: {
		JsonNode *v = json_node_new(JSON_NODE_VALUE);
		json_node_set_boolean(v, TRUE);
		osc_http_simple_member(req, "ready", v);
		return;
	}
	case OSC_ROUTE_METRICS:
		osc_http_metrics(req, service);
		return;
	case OSC_ROUTE_OPENAPI:
		osc_http_resource(req, "/org/opensecureconf/server/openapi.json",
				  "application/json");
		return;
	case OSC_ROUTE_DOCS:
		osc_http_resource(req, "/org/opensecureconf/server/docs.html",
				  "text/html; charset=utf-8");
		return;
	case OSC_ROUTE_STATS_OPERATIONS:
		osc_http_stats_operations(req, service);
		return;
	case OSC_ROUTE_CLUSTER_STATUS:
		osc_http_cluster_status(req, service);
		return;
	case OSC_ROUTE_CLUSTER_HEALTH:
		osc_http_cluster_health(req, service);
		return;
	case OSC_ROUTE_CLUSTER_DISTRIBUTION:
		osc_request_respond_detail(req, 400, "Clustering is not enabled");
		return;
	case OSC_ROUTE_CLUSTER_SALT:
		osc_http_cluster_salt(req, service);
		return;
	case OSC_ROUTE_SSE_STATS: {
		g_autoptr(JsonNode) node = osc_sse_hub_build_stats(osc_service_get_sse_hub(service));
		osc_request_respond_json(req, 200, node);
		return;
	}
	case OSC_ROUTE_SSE_SUBSCRIPTIONS: {
		g_autoptr(JsonNode) node =
		    osc_sse_hub_build_subscriptions(osc_service_get_sse_hub(service));
		osc_request_respond_json(req, 200, node);
		return;
	}
	case OSC_ROUTE_SSE_HEALTH: {
		OscSseHub *hub = osc_service_get_sse_hub(service);
		JsonObject *obj = json_object_new();
		g_autoptr(JsonNode) node = NULL;

		json_object_set_string_member(obj, "status", "healthy");
		json_object_set_int_member(obj, "active_subscriptions", osc_sse_hub_get_active(hub));
		json_object_set_int_member(obj, "total_events_sent",
					   (gint64)osc_sse_hub_get_total_sent(hub));
		node = osc_object_node(obj);
		osc_request_respond_json(req, 200, node);
		return;
	}
	case OSC_ROUTE_SSE_SUBSCRIBE:
	case OSC_ROUTE_CONFIGS:
	case OSC_ROUTE_CONFIG:
	case OSC_ROUTE_STATS:
	case OSC_ROUTE_CLUSTER_CONFIGS:
	default:
		g_assert_not_reached();
	}
}

static JsonObject *
osc_counts_object(GPtrArray *counts, const gchar *empty_name)
{
	JsonObject *obj = json_object_new();

	for (guint i = 0; i < counts->len; i++) {
		OscStoreCount *c = g_ptr_array_index(counts, i);
		const gchar *name = (c->name == NULL || c->name[0] == '\0') ? empty_name : c->name;
		gint64 prev = json_object_has_member(obj, name)
				  ? json_object_get_int_member(obj, name)
				  : 0;
		json_object_set_int_member(obj, name, prev + c->count);
	}
	return obj;
}

/* §4.10; null and empty categories both count as "uncategorized" */
JsonNode *
osc_http_build_stats(OscStore *store, GError **error)
{
	g_autoptr(GPtrArray) by_cat = osc_store_count_by(store, "category", error);
	g_autoptr(GPtrArray) by_env = NULL;
	JsonObject *obj, *cats, *envs;
	gint64 total = 0;

	if (by_cat == NULL)
		return NULL;
	by_env = osc_store_count_by(store, "environment", error);
	if (by_env == NULL)
		return NULL;
	for (guint i = 0; i < by_cat->len; i++)
		total += ((OscStoreCount *)g_ptr_array_index(by_cat, i))->count;
	cats = osc_counts_object(by_cat, "uncategorized");
	envs = osc_counts_object(by_env, "unspecified");
	obj = json_object_new();
	json_object_set_int_member(obj, "total_keys", total);
	json_object_set_int_member(obj, "total_categories", json_object_get_size(cats));
	json_object_set_int_member(obj, "total_environments", json_object_get_size(envs));
	json_object_set_object_member(obj, "keys_by_category", cats);
	json_object_set_object_member(obj, "keys_by_environment", envs);
	/* ours: the cross table the admin app's heat map draws, without reading any value */
	{
		g_autoptr(GPtrArray) pairs = osc_store_count_by_environment_category(store, error);
		JsonObject *cross;

		if (pairs == NULL) {
			json_object_unref(obj);
			return NULL;
		}
		cross = json_object_new();
		for (guint i = 0; i < pairs->len; i++) {
			OscStoreCount *c = g_ptr_array_index(pairs, i);
			const gchar *env = c->name != NULL && c->name[0] != '\0' ? c->name
										  : "unspecified";
			const gchar *cat = c->category != NULL && c->category[0] != '\0'
					       ? c->category
					       : "uncategorized";
			JsonObject *row = json_object_has_member(cross, env)
					      ? json_object_get_object_member(cross, env)
					      : NULL;

			if (row == NULL) {
				row = json_object_new();
				json_object_set_object_member(cross, env, row);
			}
			json_object_set_int_member(row, cat,
						   (json_object_has_member(row, cat)
							? json_object_get_int_member(row, cat)
							: 0) +
						       c->count);
		}
		json_object_set_object_member(obj, "keys_by_environment_category", cross);
	}
	return osc_object_node(obj);
}

/* §4.21: metadata only, raw SQLite timestamps, no ids and no values */
JsonNode *
osc_http_build_cluster_configs(OscStore *store,
			       const gchar *category,
			       const gchar *environment,
			       GError **error)
{
	g_autoptr(GPtrArray) rows = osc_store_list(store, category, environment, error);
	JsonArray *array;
	JsonNode *node;

	if (rows == NULL)
		return NULL;
	array = json_array_sized_new(rows->len);
	for (guint i = 0; i < rows->len; i++) {
		OscEntryRow *row = g_ptr_array_index(rows, i);
		JsonObject *obj = json_object_new();

		json_object_set_string_member(obj, "key", row->key);
		if (row->category != NULL)
			json_object_set_string_member(obj, "category", row->category);
		else
			json_object_set_null_member(obj, "category");
		json_object_set_string_member(obj, "environment", row->environment);
		json_object_set_string_member(obj, "created_at", row->created_at);
		json_object_set_string_member(obj, "updated_at", row->updated_at);
		json_array_add_object_element(array, obj);
	}
	node = json_node_new(JSON_NODE_ARRAY);
	json_node_take_array(node, array);
	return node;
}

static int
osc_tls_password_cb(char *buf, int size, int rwflag, void *userdata)
{
	const gchar *password = userdata;
	gsize len = strlen(password);

	if (len > (gsize)size)
		return -1;
	memcpy(buf, password, len);
	return (int)len;
}

/*
 * An encrypted PEM key is decrypted here with OpenSSL (GIO's PEM loader takes no
 * password) and handed to GIO in memory; the clear key never touches the disk.
 */
static GTlsCertificate *
osc_tls_load_with_password(const OscConfig *config, GError **error)
{
	g_autofree gchar *cert_pem = NULL;
	g_autoptr(BIO) in = NULL;
	g_autoptr(BIO) out = NULL;
	EVP_PKEY *pkey;
	BUF_MEM *mem = NULL;
	g_autofree gchar *combined = NULL;
	GTlsCertificate *cert;

	if (!g_file_get_contents(config->ssl_certfile, &cert_pem, NULL, error))
		return NULL;
	in = BIO_new_file(config->ssl_keyfile, "r");
	if (in == NULL) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT, "cannot open %s",
			    config->ssl_keyfile);
		return NULL;
	}
	pkey = PEM_read_bio_PrivateKey(in, NULL, osc_tls_password_cb,
				       config->ssl_keyfile_password);
	if (pkey == NULL) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "cannot decrypt %s: wrong OSC_SSL_KEYFILE_PASSWORD or not a PEM key",
			    config->ssl_keyfile);
		return NULL;
	}
	out = BIO_new(BIO_s_secmem());
	if (!PEM_write_bio_PrivateKey(out, pkey, NULL, NULL, 0, NULL, NULL)) {
		EVP_PKEY_free(pkey);
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED,
				    "cannot re-encode the private key");
		return NULL;
	}
	EVP_PKEY_free(pkey);
	BIO_get_mem_ptr(out, &mem);
	combined = g_strdup_printf("%s\n%.*s", cert_pem, (int)mem->length, mem->data);
	cert = g_tls_certificate_new_from_pem(combined, -1, error);
	OPENSSL_cleanse(combined, strlen(combined));
	return cert;
}

/* GIO has checked the chain against OSC_SSL_CA_CERTS: accept what it found no fault in */
static gboolean
osc_tls_accept_certificate_cb(SoupServerMessage *msg,
			      GTlsCertificate *certificate,
			      GTlsCertificateFlags errors,
			      gpointer user_data)
{
	return errors == 0;
}

static void
osc_tls_request_started_cb(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	g_signal_connect(msg, "accept-certificate", G_CALLBACK(osc_tls_accept_certificate_cb),
			 NULL);
}

gboolean
osc_http_setup_tls(SoupServer *soup, const OscConfig *config, GError **error)
{
	g_autoptr(GTlsCertificate) cert = NULL;

	if (config->ssl_keyfile_password != NULL && config->ssl_keyfile_password[0] != '\0')
		cert = osc_tls_load_with_password(config, error);
	else
		cert = g_tls_certificate_new_from_files(config->ssl_certfile, config->ssl_keyfile,
							error);
	if (cert == NULL) {
		g_prefix_error(error, "TLS certificate %s / key %s: ", config->ssl_certfile,
			       config->ssl_keyfile);
		return FALSE;
	}
	soup_server_set_tls_certificate(soup, cert);

	/* Unlike the original (D16), a CA bundle means what it suggests: clients must
	 * present a certificate it signed. */
	if (config->ssl_ca_certs != NULL && config->ssl_ca_certs[0] != '\0') {
		/* GTlsFileDatabase wants an absolute path */
		g_autofree gchar *ca = g_canonicalize_filename(config->ssl_ca_certs, NULL);
		g_autoptr(GTlsDatabase) db = g_tls_file_database_new(ca, error);
		if (db == NULL) {
			g_prefix_error(error, "OSC_SSL_CA_CERTS %s: ", config->ssl_ca_certs);
			return FALSE;
		}
		soup_server_set_tls_database(soup, db);
		soup_server_set_tls_auth_mode(soup, G_TLS_AUTHENTICATION_REQUIRED);
		/* libsoup 3.2 refuses every client certificate unless someone accepts it */
		g_signal_connect(soup, "request-started", G_CALLBACK(osc_tls_request_started_cb),
				 NULL);
	}
	return TRUE;
}
