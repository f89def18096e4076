/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * REPLICA clustering under faults: oscd processes on loopback, configured only through the
 * OSC_CLUSTER_* variables, with kill -9 and restart, SIGSTOP/SIGCONT and the test-only
 * partition switch (OSC_TEST_PARTITION_FILE). After each scenario every running node must
 * list the same rows with the same values, keep every acknowledged write (except the loser of
 * a true conflict) and bring back no deleted entry.
 */

#define G_LOG_DOMAIN "OscTestCluster"

#include "config.h"

#include <glib/gstdio.h>

#include <signal.h>
#include <sys/prctl.h>

#include "osc-test-utils.h"

#define N_NODES		 4 /* node 3 (0-based) starts later: the empty node that joins */
#define USER_KEY	 "cluster-test-user-key"
#define API_KEY		 "cluster-test-api-key-0123456789"
#define CONVERGE_MS	 20000
#define READY_TIMEOUT_MS 20000

typedef struct {
	guint index;
	guint port;
	gchar *id;
	gchar *url;
	gchar *dir;
	gchar *partition_file;
	GSubprocess *proc;
	gboolean stopped; /* SIGSTOPped */
	gchar *peers;	  /* OSC_CLUSTER_NODES; NULL: the other main nodes */
	gboolean tls;	  /* https with mutual TLS (tls_dir's certificates) */
	gboolean solo;	  /* clustering off */
} Node;

static Node nodes[N_NODES + 1]; /* [N_NODES]: a node with a different salt */
static gchar *tmpdir;
static gchar *tls_dir;		     /* ca.crt, node.crt/.key (server and client) */
static GTlsCertificate *client_cert; /* node.crt/.key, for the test's own calls */

static void
child_setup_cb(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static guint
free_port(void)
{
	g_autoptr(GSocket) sock = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
					       G_SOCKET_PROTOCOL_TCP, NULL);
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_autoptr(GError) error = NULL;

	g_socket_bind(sock, addr, TRUE, &error);
	g_assert_no_error(error);
	bound = g_socket_get_local_address(sock, &error);
	g_assert_no_error(error);
	return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

static gint
port_cmp(gconstpointer a, gconstpointer b)
{
	g_autofree gchar *sa = g_strdup_printf("127.0.0.1:%u", *(const guint *)a);
	g_autofree gchar *sb = g_strdup_printf("127.0.0.1:%u", *(const guint *)b);
	return strcmp(sa, sb);
}

/* ---- HTTP (blocking; nothing runs in this process) ---- */

typedef struct {
	guint status; /* 0: transport error */
	gchar *body;
	JsonNode *json;
} Reply;

static void
reply_free(Reply *r)
{
	if (r == NULL)
		return;
	g_free(r->body);
	g_clear_pointer(&r->json, json_node_unref);
	g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Reply, reply_free)

/* @new_user_key: (nullable): sent as X-New-User-Key */
static Reply *
call_as(SoupSession *session,
	Node *node,
	const gchar *method,
	const gchar *path,
	const gchar *body,
	const gchar *user_key,
	const gchar *new_user_key)
{
	g_autofree gchar *url = g_strconcat(node->url, path, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GBytes) bytes = NULL;
	Reply *r = g_new0(Reply, 1);
	SoupMessageHeaders *h = soup_message_get_request_headers(msg);

	soup_message_headers_replace(h, "X-User-Key", user_key);
	if (new_user_key != NULL)
		soup_message_headers_replace(h, "X-New-User-Key", new_user_key);
	soup_message_headers_replace(h, "X-API-Key", API_KEY);
	if (node->tls)
		soup_message_set_tls_client_certificate(msg, client_cert);
	if (body != NULL) {
		g_autoptr(GBytes) b = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg, "application/json", b);
	}
	bytes = soup_session_send_and_read(session, msg, NULL, NULL);
	if (bytes == NULL)
		return r;
	r->status = soup_message_get_status(msg);
	r->body = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	if (r->body[0] != '\0') {
		g_autoptr(JsonParser) parser = json_parser_new();
		if (json_parser_load_from_data(parser, r->body, -1, NULL))
			r->json = json_node_ref(json_parser_get_root(parser));
	}
	return r;
}

static Reply *
call(SoupSession *session, Node *node, const gchar *method, const gchar *path, const gchar *body)
{
	return call_as(session, node, method, path, body, USER_KEY, NULL);
}

static SoupSession *
session_new(void)
{
	SoupSession *session = soup_session_new_with_options("timeout", 10, NULL);

	if (tls_dir != NULL) {
		g_autofree gchar *ca = g_build_filename(tls_dir, "ca.crt", NULL);
		g_autoptr(GTlsDatabase) db = g_tls_file_database_new(ca, NULL);
		soup_session_set_tls_database(session, db);
	}
	return session;
}

/* ---- processes ---- */

/* spawns from the calling thread: PR_SET_PDEATHSIG fires when THAT thread ends, so only the
 * main thread spawns */
static void
node_spawn(Node *node)
{
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
	g_autoptr(GString) peers = g_string_new(NULL);
	g_autofree gchar *port = g_strdup_printf("%u", node->port);
	g_autofree gchar *db = g_build_filename(node->dir, "configurations.db", NULL);
	g_autofree gchar *salt = g_build_filename(node->dir, "encryption.salt", NULL);
	g_autofree gchar *log = g_build_filename(node->dir, "oscd.log", NULL);
	g_autoptr(GError) error = NULL;

	/* nodes 0..N_NODES-1 know each other; the odd one out knows them but they not it */
	if (node->peers != NULL)
		g_string_assign(peers, node->peers);
	for (guint i = 0; node->peers == NULL && i < N_NODES; i++) {
		if (i == node->index)
			continue;
		/* both spellings: with and without a scheme */
		g_string_append_printf(peers, "%s%s%s", peers->len > 0 ? ", " : "",
				       i % 2 == 0 ? "http://" : "", nodes[i].id);
	}
	g_subprocess_launcher_set_child_setup(launcher, child_setup_cb, NULL, NULL);
	g_subprocess_launcher_set_stdout_file_path(launcher, log);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST", "127.0.0.1", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST_PORT", port, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_DATABASE_PATH", db, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_SALT_FILE_PATH", salt, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_API_KEY_REQUIRED", "true", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_API_KEY", API_KEY, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_CLUSTER_ENABLED", node->solo ? "false" : "true",
				     TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_CLUSTER_MODE", "replica", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_CLUSTER_NODE_ID", node->id, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_CLUSTER_NODES", peers->str, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_CLUSTER_SYNC_INTERVAL", "1", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_TEST_PARTITION_FILE", node->partition_file,
				     TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_WORKERS", "2", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_LOG_FORMAT", "console", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_LOG_LEVEL", "WARNING", TRUE);
	if (node->tls) {
		g_autofree gchar *crt = g_build_filename(tls_dir, "node.crt", NULL);
		g_autofree gchar *key = g_build_filename(tls_dir, "node.key", NULL);
		g_autofree gchar *ca = g_build_filename(tls_dir, "ca.crt", NULL);
		g_subprocess_launcher_setenv(launcher, "OSC_HTTPS_ENABLED", "true", TRUE);
		g_subprocess_launcher_setenv(launcher, "OSC_SSL_CERTFILE", crt, TRUE);
		g_subprocess_launcher_setenv(launcher, "OSC_SSL_KEYFILE", key, TRUE);
		g_subprocess_launcher_setenv(launcher, "OSC_SSL_CA_CERTS", ca, TRUE);
	}
	node->proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("OSCD_PATH"), NULL);
	g_assert_no_error(error);
	node->stopped = FALSE;
}

static void
node_wait_ready(Node *node)
{
	g_autoptr(SoupSession) probe = session_new();
	gint64 deadline = g_get_monotonic_time() + READY_TIMEOUT_MS * 1000;

	for (;;) {
		g_autoptr(Reply) r = call(probe, node, "GET", "/health", NULL);
		if (r->status == 200)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(50 * 1000);
	}
}

static void
node_start(Node *node)
{
	node_spawn(node);
	node_wait_ready(node);
}

static void
node_kill(Node *node)
{
	g_subprocess_send_signal(node->proc, SIGKILL);
	g_subprocess_wait(node->proc, NULL, NULL);
	g_clear_object(&node->proc);
}

static void
node_signal(Node *node, gint sig)
{
	g_subprocess_send_signal(node->proc, sig);
	node->stopped = sig == SIGSTOP;
}

static void
node_partition(Node *node, gboolean cut)
{
	if (cut)
		g_assert_true(g_file_set_contents(node->partition_file, "", 0, NULL));
	else
		g_assert_cmpint(g_unlink(node->partition_file), ==, 0);
}

/* ---- what the nodes hold ---- */

static gint
string_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* /cluster/configs (metadata) and /configs (values, decrypted with the user key), both
 * sorted, as one text; NULL when the node does not answer */
static gchar *
node_state(SoupSession *session, Node *node)
{
	g_autoptr(Reply) meta = call(session, node, "GET", "/cluster/configs", NULL);
	g_autoptr(Reply) values = call(session, node, "GET", "/configs?mode=full", NULL);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	GString *out = g_string_new(NULL);
	JsonArray *a;

	if (meta->status != 200 || meta->json == NULL ||
	    (values->status != 200 && values->status != 401)) {
		g_test_message("node %u: /cluster/configs %u, /configs %u %s", node->index,
			       meta->status, values->status, values->body ? values->body : "");
		g_string_free(out, TRUE);
		return NULL;
	}
	a = json_node_get_array(meta->json);
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonObject *o = json_array_get_object_element(a, i);
		g_ptr_array_add(
			lines,
			g_strdup_printf(
				"M %s|%s|%s|%s|%s", json_object_get_string_member(o, "environment"),
				json_object_get_string_member(o, "key"),
				json_object_get_string_member_with_default(o, "category", "(null)"),
				json_object_get_string_member(o, "created_at"),
				json_object_get_string_member(o, "updated_at")));
	}
	if (values->status == 200) {
		a = json_node_get_array(values->json);
		for (guint i = 0; i < json_array_get_length(a); i++) {
			JsonObject *o = json_array_get_object_element(a, i);
			g_autofree gchar *v =
				json_to_string(json_object_get_member(o, "value"), FALSE);
			g_ptr_array_add(
				lines,
				g_strdup_printf("V %s|%s|%s",
						json_object_get_string_member(o, "environment"),
						json_object_get_string_member(o, "key"), v));
		}
	}
	g_ptr_array_sort(lines, string_cmp);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(out, "%s\n", (gchar *)lines->pdata[i]);
	return g_string_free(out, FALSE);
}

/* waits until every listed node holds the same state; returns it */
static gchar *
wait_converged(const guint *which, guint n, guint *elapsed_ms)
{
	g_autoptr(SoupSession) session = session_new();
	gint64 start = g_get_monotonic_time();
	gint64 deadline = start + CONVERGE_MS * 1000;
	g_autofree gchar *last_a = NULL;
	g_autofree gchar *last_b = NULL;

	for (;;) {
		g_autofree gchar *first = node_state(session, &nodes[which[0]]);
		gboolean same = first != NULL;

		for (guint i = 1; same && i < n; i++) {
			g_autofree gchar *other = node_state(session, &nodes[which[i]]);
			if (other == NULL || g_strcmp0(first, other) != 0) {
				same = FALSE;
				g_free(last_a);
				g_free(last_b);
				last_a = g_strdup(first);
				last_b = g_steal_pointer(&other);
			}
		}
		if (same) {
			if (elapsed_ms != NULL)
				*elapsed_ms = (guint)((g_get_monotonic_time() - start) / 1000);
			return g_steal_pointer(&first);
		}
		if (g_get_monotonic_time() > deadline) {
			g_test_message("not converged:\n--- a\n%s--- b\n%s", last_a ? last_a : "",
				       last_b ? last_b : "");
			g_assert_not_reached();
		}
		g_usleep(100 * 1000);
	}
}

static const guint three[] = {0, 1, 2};
static const guint four[] = {0, 1, 2, 3};

static gchar *
body_for(const gchar *key, const gchar *env, const gchar *value)
{
	return g_strdup_printf("{\"key\":\"%s\",\"environment\":\"%s\",\"category\":\"cat\","
			       "\"value\":\"%s\"}",
			       key, env, value);
}

static guint
create(SoupSession *s, Node *node, const gchar *key, const gchar *env, const gchar *value)
{
	g_autofree gchar *body = body_for(key, env, value);
	g_autoptr(Reply) r = call(s, node, "POST", "/configs", body);
	return r->status;
}

static guint
update(SoupSession *s, Node *node, const gchar *key, const gchar *env, const gchar *value)
{
	g_autofree gchar *path = g_strdup_printf("/configs/%s?environment=%s", key, env);
	g_autofree gchar *body = g_strdup_printf("{\"value\":\"%s\"}", value);
	g_autoptr(Reply) r = call(s, node, "PUT", path, body);
	return r->status;
}

static guint delete (SoupSession *s, Node *node, const gchar *key, const gchar *env)
{
	g_autofree gchar *path = g_strdup_printf("/configs/%s?environment=%s", key, env);
	g_autoptr(Reply) r = call(s, node, "DELETE", path, NULL);
	return r->status;
}

/* the value (JSON string contents) on @node, or NULL when it is not there */
static gchar *
read_value(SoupSession *s, Node *node, const gchar *key, const gchar *env)
{
	g_autofree gchar *path = g_strdup_printf("/configs/%s?environment=%s", key, env);
	g_autoptr(Reply) r = call(s, node, "GET", path, NULL);

	if (r->status == 404)
		return NULL;
	g_assert_cmpuint(r->status, ==, 200);
	return g_strdup(json_object_get_string_member(json_node_get_object(r->json), "value"));
}

static void
assert_value_everywhere(SoupSession *s, const guint *which, guint n, const gchar *key,
			const gchar *env, const gchar *expected)
{
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *v = read_value(s, &nodes[which[i]], key, env);
		g_assert_cmpstr(v, ==, expected);
	}
}

/* ---- writers on threads ---- */

typedef struct {
	Node *node;
	const gchar *env;
	const gchar *prefix;
	guint count;
	gint *stop;	  /* (atomic) nullable */
	GPtrArray *acked; /* keys whose create answered 201 */
	guint n_deleted;
} Writer;

static gpointer
writer_thread(gpointer data)
{
	Writer *w = data;
	g_autoptr(SoupSession) s = session_new();

	w->acked = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < w->count; i++) {
		g_autofree gchar *key = g_strdup_printf("%s-%u", w->prefix, i);
		g_autofree gchar *value = g_strdup_printf("value-of-%s", key);

		if (w->stop != NULL && g_atomic_int_get(w->stop))
			break;
		if (create(s, w->node, key, w->env, value) == 201)
			g_ptr_array_add(w->acked, g_steal_pointer(&key));
	}
	return NULL;
}

/* ---- scenarios ---- */

static void
test_salt_bootstrap(void)
{
	g_autoptr(GBytes) s0 = NULL;

	/* every node adopted one salt, through the cluster only */
	for (guint i = 0; i < 3; i++) {
		g_autofree gchar *path = g_build_filename(nodes[i].dir, "encryption.salt", NULL);
		g_autofree gchar *data = NULL;
		gsize len = 0;
		g_assert_true(g_file_get_contents(path, &data, &len, NULL));
		g_assert_cmpuint(len, ==, 64);
		if (s0 == NULL)
			s0 = g_bytes_new(data, len);
		else
			g_assert_cmpmem(data, len, g_bytes_get_data(s0, NULL), 64);
	}
}

/* the healthy count of @node's /cluster/status, once it is @expected (peers are checked every
 * sync interval) */
static void
wait_healthy(SoupSession *s, Node *node, gint64 expected)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	for (;;) {
		g_autoptr(Reply) r = call(s, node, "GET", "/cluster/status", NULL);
		gint64 healthy =
			json_object_get_int_member(json_node_get_object(r->json), "healthy_nodes");
		if (healthy == expected)
			return;
		if (g_get_monotonic_time() > deadline)
			g_assert_cmpint(healthy, ==, expected);
		g_usleep(100 * 1000);
	}
}

static void
test_status_shapes(void)
{
	g_autoptr(SoupSession) s = session_new();
	g_autoptr(Reply) status = NULL;
	g_autoptr(Reply) health = call(s, &nodes[1], "GET", "/cluster/health", NULL);
	g_autoptr(Reply) metrics = NULL;
	g_autoptr(Reply) dist = NULL;
	JsonObject *o;

	/* node 3 has not started yet */
	wait_healthy(s, &nodes[0], 3);
	status = call(s, &nodes[0], "GET", "/cluster/status", NULL);
	g_assert_cmpuint(status->status, ==, 200);
	o = json_node_get_object(status->json);
	g_assert_cmpuint(json_object_get_size(o), ==, 5);
	g_assert_true(json_object_get_boolean_member(o, "enabled"));
	g_assert_cmpstr(json_object_get_string_member(o, "mode"), ==, "replica");
	g_assert_cmpstr(json_object_get_string_member(o, "node_id"), ==, nodes[0].id);
	g_assert_cmpint(json_object_get_int_member(o, "total_nodes"), ==, N_NODES);
	g_assert_cmpint(json_object_get_int_member(o, "healthy_nodes"), ==, 3);

	g_assert_cmpuint(health->status, ==, 200);
	g_assert_cmpstr(
		json_object_get_string_member(json_node_get_object(health->json), "node_id"), ==,
		nodes[1].id);

	metrics = call(s, &nodes[0], "GET", "/metrics", NULL);
	g_assert_nonnull(strstr(metrics->body, "\nosc_cluster_nodes_total 4.0\n"));
	g_assert_nonnull(strstr(metrics->body, "\nosc_cluster_nodes_healthy 3.0\n"));
	g_assert_nonnull(strstr(metrics->body, "\nosc_cluster_salt_mismatch 0.0\n"));
	g_assert_nonnull(strstr(metrics->body, "osc_cluster_sync_duration_seconds_count"));

	dist = call(s, &nodes[0], "GET", "/cluster/distribution", NULL);
	g_assert_cmpuint(dist->status, ==, 200);
	o = json_node_get_object(dist->json);
	g_assert_cmpstr(json_object_get_string_member(o, "cluster_mode"), ==, "replica");
	g_assert_cmpuint(
		json_array_get_length(json_object_get_array_member(o, "nodes_distribution")), ==,
		N_NODES);

	/* the inter-node routes need the API key and a matching salt fingerprint */
	{
		g_autofree gchar *url = g_strconcat(nodes[0].url, "/cluster/digest", NULL);
		g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
		g_autoptr(GBytes) b = NULL;

		soup_message_headers_replace(soup_message_get_request_headers(msg), "X-API-Key",
					     API_KEY);
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "X-OSC-Salt-Fingerprint", "00");
		b = soup_session_send_and_read(s, msg, NULL, NULL);
		g_assert_cmpuint(soup_message_get_status(msg), ==, 409);
	}
	{
		g_autofree gchar *url = g_strconcat(nodes[0].url, "/cluster/replicate", NULL);
		g_autoptr(SoupMessage) msg = soup_message_new("POST", url);
		g_autoptr(GBytes) b = NULL;

		b = soup_session_send_and_read(s, msg, NULL, NULL);
		g_assert_cmpuint(soup_message_get_status(msg), ==, 403);
	}
}

/* every node takes writes at once, including three writes to one pair */
static void
test_concurrent_writes(void)
{
	g_autoptr(SoupSession) s = session_new();
	Writer w[3] = {0};
	GThread *threads[3];
	g_autofree gchar *state = NULL;
	g_autofree gchar *winner = NULL;
	g_autoptr(GPtrArray) same_acked = g_ptr_array_new_with_free_func(g_free);
	guint ms = 0;

	for (guint i = 0; i < 3; i++) {
		w[i].node = &nodes[i];
		w[i].env = "concurrent";
		w[i].prefix = i == 0 ? "n0" : i == 1 ? "n1" : "n2";
		w[i].count = 40;
		threads[i] = g_thread_new("writer", writer_thread, &w[i]);
	}
	/* the same pair created on all three: the later ones conflict, unless replication
	 * was quicker (400 already exists) */
	for (guint i = 0; i < 3; i++) {
		g_autofree gchar *value = g_strdup_printf("conflict-from-%u", i);
		guint status = create(s, &nodes[i], "same", "concurrent", value);
		g_test_message("create on node %u: %u", i, status);
		g_assert_true(status == 201 || (i > 0 && status == 400));
		if (status == 201)
			g_ptr_array_add(same_acked, g_steal_pointer(&value));
	}
	for (guint i = 0; i < 3; i++)
		g_thread_join(threads[i]);
	state = wait_converged(three, 3, &ms);
	g_test_message("converged %u ms after the last write", ms);
	for (guint i = 0; i < 3; i++) {
		g_assert_cmpuint(w[i].acked->len, ==, 40);
		for (guint j = 0; j < w[i].acked->len; j++) {
			const gchar *key = w[i].acked->pdata[j];
			g_autofree gchar *value = g_strdup_printf("value-of-%s", key);
			assert_value_everywhere(s, three, 3, key, "concurrent", value);
		}
		g_ptr_array_unref(w[i].acked);
	}
	/* one of the three won, the same everywhere */
	winner = read_value(s, &nodes[0], "same", "concurrent");
	g_assert_true(g_ptr_array_find_with_equal_func(same_acked, winner, g_str_equal, NULL));
	assert_value_everywhere(s, three, 3, "same", "concurrent", winner);
}

/* the status of GET /configs/@key?environment=@env with @user_key on @node */
static guint
read_status_as(SoupSession *s, Node *node, const gchar *key, const gchar *env, const gchar *user_key)
{
	g_autofree gchar *path = g_strdup_printf("/configs/%s?environment=%s", key, env);
	g_autoptr(Reply) r = call_as(s, node, "GET", path, NULL, user_key, NULL);

	return r->status;
}

/* a re-key on one node reaches the others: the new key opens the entries everywhere, the
 * old one nowhere */
static void
test_rekey(void)
{
	static const gchar *old_key = "cluster-rekey-old-key";
	static const gchar *new_key = "cluster-rekey-new-key";
	g_autoptr(SoupSession) s = session_new();
	g_autoptr(Reply) rekeyed = NULL;
	gint64 deadline;
	gboolean everywhere = FALSE;

	for (guint i = 0; i < 5; i++) {
		g_autofree gchar *key = g_strdup_printf("rk%u", i);
		g_autofree gchar *body = body_for(key, "rekey", "secret");
		g_autoptr(Reply) r = call_as(s, &nodes[i % 3], "POST", "/configs", body, old_key, NULL);

		g_assert_cmpuint(r->status, ==, 201);
	}
	/* replicated before the re-key, so that node 0 holds all five */
	deadline = g_get_monotonic_time() + CONVERGE_MS * 1000;
	for (guint i = 0; i < 5; i++) {
		g_autofree gchar *key = g_strdup_printf("rk%u", i);

		while (read_status_as(s, &nodes[0], key, "rekey", old_key) != 200) {
			g_assert_cmpint(g_get_monotonic_time(), <, deadline);
			g_usleep(50 * 1000);
		}
	}
	rekeyed = call_as(s, &nodes[0], "POST", "/rekey", NULL, old_key, new_key);
	g_assert_cmpuint(rekeyed->status, ==, 200);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(rekeyed->json), "rekeyed"),
			==, 5);

	deadline = g_get_monotonic_time() + CONVERGE_MS * 1000;
	while (!everywhere) {
		everywhere = TRUE;
		for (guint n = 0; n < 3 && everywhere; n++) {
			for (guint i = 0; i < 5 && everywhere; i++) {
				g_autofree gchar *key = g_strdup_printf("rk%u", i);
				everywhere = read_status_as(s, &nodes[n], key, "rekey", new_key) == 200;
			}
		}
		if (!everywhere) {
			g_assert_cmpint(g_get_monotonic_time(), <, deadline);
			g_usleep(50 * 1000);
		}
	}
	/* the old key opens none of them anywhere any more */
	for (guint n = 0; n < 3; n++) {
		for (guint i = 0; i < 5; i++) {
			g_autofree gchar *key = g_strdup_printf("rk%u", i);
			g_assert_cmpuint(read_status_as(s, &nodes[n], key, "rekey", old_key), ==, 401);
		}
	}
}

/* a node killed with SIGKILL while writes continue, restarted on the same data */
static void
test_kill_restart(void)
{
	g_autoptr(SoupSession) s = session_new();
	gint stop = 0;
	Writer w[2] = {0};
	GThread *threads[2];
	g_autofree gchar *state = NULL;
	guint ms = 0;

	/* acknowledged by node 2 just before it dies: must survive the crash */
	g_assert_cmpuint(create(s, &nodes[2], "before-crash", "crash", "durable"), ==, 201);
	g_assert_cmpuint(create(s, &nodes[0], "to-delete", "crash", "doomed"), ==, 201);
	for (guint i = 0; i < 2; i++) {
		w[i].node = &nodes[i];
		w[i].env = "crash";
		w[i].prefix = i == 0 ? "k0" : "k1";
		w[i].count = 100000;
		w[i].stop = &stop;
		threads[i] = g_thread_new("writer", writer_thread, &w[i]);
	}
	g_usleep(300 * 1000);
	node_kill(&nodes[2]);
	/* a delete while it is down */
	g_assert_cmpuint(delete (s, &nodes[1], "to-delete", "crash"), ==, 200);
	g_usleep(700 * 1000);
	node_start(&nodes[2]);
	g_usleep(300 * 1000);
	g_atomic_int_set(&stop, 1);
	for (guint i = 0; i < 2; i++)
		g_thread_join(threads[i]);
	state = wait_converged(three, 3, &ms);
	g_test_message("converged %u ms after the restart's writes stopped", ms);
	assert_value_everywhere(s, three, 3, "before-crash", "crash", "durable");
	assert_value_everywhere(s, three, 3, "to-delete", "crash", NULL);
	for (guint i = 0; i < 2; i++) {
		g_assert_cmpuint(w[i].acked->len, >, 10);
		for (guint j = 0; j < w[i].acked->len; j++) {
			g_autofree gchar *line = g_strdup_printf("V crash|%s|\"value-of-%s\"\n",
								 (gchar *)w[i].acked->pdata[j],
								 (gchar *)w[i].acked->pdata[j]);
			g_assert_nonnull(strstr(state, line));
		}
		g_ptr_array_unref(w[i].acked);
	}
}

/* a node frozen with SIGSTOP misses pushes and catches up after SIGCONT */
static void
test_stop_cont(void)
{
	g_autoptr(SoupSession) s = session_new();
	g_autofree gchar *state = NULL;

	node_signal(&nodes[1], SIGSTOP);
	for (guint i = 0; i < 10; i++) {
		g_autofree gchar *key = g_strdup_printf("frozen-%u", i);
		g_assert_cmpuint(create(s, &nodes[i % 2 == 0 ? 0 : 2], key, "stop", "v"), ==, 201);
	}
	g_assert_cmpuint(update(s, &nodes[0], "frozen-1", "stop", "v2"), ==, 200);
	g_usleep(500 * 1000);
	node_signal(&nodes[1], SIGCONT);
	state = wait_converged(three, 3, NULL);
	assert_value_everywhere(s, three, 3, "frozen-1", "stop", "v2");
	assert_value_everywhere(s, three, 3, "frozen-9", "stop", "v");
}

/* one node cut off; both sides write, conflict and delete; then heal */
static void
test_partition(void)
{
	g_autoptr(SoupSession) s = session_new();
	g_autofree gchar *state = NULL;
	const guint majority[] = {0, 1};
	guint ms = 0;

	/* before: three entries everywhere */
	g_assert_cmpuint(create(s, &nodes[0], "deleted-by-majority", "part", "v0"), ==, 201);
	g_assert_cmpuint(create(s, &nodes[0], "deleted-by-minority", "part", "v0"), ==, 201);
	g_assert_cmpuint(create(s, &nodes[0], "conflict", "part", "v0"), ==, 201);
	g_free(wait_converged(three, 3, NULL));

	node_partition(&nodes[2], TRUE);
	/* the minority updates an entry the majority deletes later: the delete wins */
	g_assert_cmpuint(update(s, &nodes[2], "deleted-by-majority", "part", "minority"), ==, 200);
	/* the minority deletes an entry the majority updates later: the update wins */
	g_assert_cmpuint(delete (s, &nodes[2], "deleted-by-minority", "part"), ==, 200);
	g_assert_cmpuint(create(s, &nodes[2], "only-minority", "part", "m"), ==, 201);
	g_assert_cmpuint(update(s, &nodes[2], "conflict", "part", "minority-first"), ==, 200);
	g_usleep(20 * 1000);
	g_assert_cmpuint(delete (s, &nodes[0], "deleted-by-majority", "part"), ==, 200);
	g_assert_cmpuint(update(s, &nodes[1], "deleted-by-minority", "part", "majority"), ==, 200);
	g_assert_cmpuint(create(s, &nodes[1], "only-majority", "part", "M"), ==, 201);
	/* the same pair created on both sides, and a conflicting update: later wins */
	g_assert_cmpuint(create(s, &nodes[0], "both-sides", "part", "majority"), ==, 201);
	g_assert_cmpuint(update(s, &nodes[1], "conflict", "part", "majority-last"), ==, 200);
	g_usleep(20 * 1000);
	g_assert_cmpuint(create(s, &nodes[2], "both-sides", "part", "minority-last"), ==, 201);
	/* the sides disagree while cut off, for longer than a sync interval */
	g_usleep(1500 * 1000);
	g_free(wait_converged(majority, 2, NULL));
	{
		g_autofree gchar *v = read_value(s, &nodes[2], "only-majority", "part");
		g_assert_null(v);
	}

	node_partition(&nodes[2], FALSE);
	state = wait_converged(three, 3, &ms);
	g_test_message("converged %u ms after healing", ms);
	assert_value_everywhere(s, three, 3, "deleted-by-majority", "part", NULL);
	assert_value_everywhere(s, three, 3, "deleted-by-minority", "part", "majority");
	assert_value_everywhere(s, three, 3, "only-minority", "part", "m");
	assert_value_everywhere(s, three, 3, "only-majority", "part", "M");
	assert_value_everywhere(s, three, 3, "conflict", "part", "majority-last");
	assert_value_everywhere(s, three, 3, "both-sides", "part", "minority-last");
	/* still gone a few sync intervals later: no resurrection */
	g_usleep(2500 * 1000);
	assert_value_everywhere(s, three, 3, "deleted-by-majority", "part", NULL);
}

/* an empty node joins (it was configured, but never started): it fills itself */
static void
test_new_node(void)
{
	g_autoptr(SoupSession) s = session_new();
	g_autofree gchar *before = wait_converged(three, 3, NULL);
	g_autofree gchar *after = NULL;
	guint ms = 0;

	node_start(&nodes[3]);
	after = wait_converged(four, 4, &ms);
	g_test_message("new node filled in %u ms", ms);
	g_assert_cmpstr(before, ==, after);
	assert_value_everywhere(s, four, 4, "both-sides", "part", "minority-last");
	/* a write on it reaches the others */
	g_assert_cmpuint(create(s, &nodes[3], "from-new", "join", "hello"), ==, 201);
	g_free(wait_converged(four, 4, NULL));
	assert_value_everywhere(s, four, 4, "from-new", "join", "hello");
	wait_healthy(s, &nodes[0], 4);
}

/* a node with another salt: refused loudly, no data crosses */
static void
test_salt_mismatch(void)
{
	g_autoptr(SoupSession) s = session_new();
	Node *odd = &nodes[N_NODES];
	gint64 deadline;

	/* its own salt, made by a first start with clustering off (so that its store takes
	 * the test's cheap PBKDF2 iteration count with it) */
	odd->solo = TRUE;
	node_start(odd);
	node_kill(odd);
	odd->solo = FALSE;
	node_start(odd);
	deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	for (;;) {
		g_autoptr(Reply) status = call(s, odd, "GET", "/cluster/status", NULL);
		JsonObject *o = json_node_get_object(status->json);
		/* each peer is found out at its first exchange */
		if (json_object_has_member(o, "salt_mismatch") &&
		    json_array_get_length(json_object_get_array_member(o, "salt_mismatch")) ==
			    N_NODES) {
			g_assert_cmpint(json_object_get_int_member(o, "healthy_nodes"), ==, 1);
			g_assert_nonnull(json_object_get_string_member(o, "warning"));
			break;
		}
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(100 * 1000);
	}
	{
		g_autoptr(Reply) metrics = call(s, odd, "GET", "/metrics", NULL);
		g_autoptr(Reply) configs = call(s, odd, "GET", "/cluster/configs", NULL);
		g_autofree gchar *expect =
			g_strdup_printf("\nosc_cluster_salt_mismatch %u.0\n", N_NODES);
		g_assert_nonnull(strstr(metrics->body, expect));
		g_assert_cmpstr(configs->body, ==, "[]");
	}
	/* and the others did not take its write */
	g_assert_cmpuint(create(s, odd, "odd-one", "odd", "x"), ==, 201);
	g_usleep(1500 * 1000);
	{
		g_autofree gchar *v = read_value(s, &nodes[0], "odd-one", "odd");
		g_assert_null(v);
	}
	node_kill(odd);
}

/* ---- mutual TLS between nodes ---- */

static void
openssl_run(const gchar *const *argv)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *output = NULL;

	g_subprocess_launcher_set_cwd(launcher, tls_dir);
	proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &output, NULL, &error);
	g_assert_no_error(error);
	if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0)
		g_error("openssl %s failed:\n%s", argv[1], output);
}

/* two nodes over https that require client certificates: peers are called with https (no
 * scheme in OSC_CLUSTER_NODES) and present their certificate */
static void
test_mutual_tls(void)
{
	g_autofree gchar *openssl = g_find_program_in_path("openssl");
	g_autoptr(SoupSession) s = NULL;
	g_autoptr(GError) error = NULL;
	Node tls[2] = {{0}};
	const guint both[] = {0, 1};
	g_autofree gchar *ext_path = NULL;

	if (openssl == NULL) {
		g_test_skip("no openssl command to make certificates with");
		return;
	}
	tls_dir = g_build_filename(tmpdir, "tls", NULL);
	g_assert_cmpint(g_mkdir_with_parents(tls_dir, 0700), ==, 0);
	ext_path = g_build_filename(tls_dir, "node.ext", NULL);
	g_assert_true(g_file_set_contents(
		ext_path,
		"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
		"extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n",
		-1, NULL));
	{
		const gchar *ca[] = {"openssl",
				     "req",
				     "-x509",
				     "-newkey",
				     "ec",
				     "-pkeyopt",
				     "ec_paramgen_curve:P-256",
				     "-nodes",
				     "-keyout",
				     "ca.key",
				     "-out",
				     "ca.crt",
				     "-days",
				     "2",
				     "-subj",
				     "/CN=cluster test CA",
				     "-addext",
				     "basicConstraints=critical,CA:TRUE",
				     "-addext",
				     "keyUsage=critical,keyCertSign,cRLSign",
				     NULL};
		const gchar *csr[] = {"openssl",
				      "req",
				      "-new",
				      "-newkey",
				      "ec",
				      "-pkeyopt",
				      "ec_paramgen_curve:P-256",
				      "-nodes",
				      "-keyout",
				      "node.key",
				      "-out",
				      "node.csr",
				      "-subj",
				      "/CN=127.0.0.1",
				      NULL};
		const gchar *crt[] = {"openssl", "x509",     "-req",   "-in",	   "node.csr",
				      "-CA",	 "ca.crt",   "-CAkey", "ca.key",   "-set_serial",
				      "7",	 "-days",    "2",      "-extfile", "node.ext",
				      "-out",	 "node.crt", NULL};
		openssl_run(ca);
		openssl_run(csr);
		openssl_run(crt);
	}
	{
		g_autofree gchar *crt = g_build_filename(tls_dir, "node.crt", NULL);
		g_autofree gchar *key = g_build_filename(tls_dir, "node.key", NULL);
		client_cert = g_tls_certificate_new_from_files(crt, key, &error);
		g_assert_no_error(error);
	}
	for (guint i = 0; i < 2; i++) {
		guint port = free_port();
		tls[i].index = 10 + i;
		tls[i].port = port;
		tls[i].id = g_strdup_printf("127.0.0.1:%u", port);
		tls[i].url = g_strdup_printf("https://127.0.0.1:%u", port);
		tls[i].dir = g_strdup_printf("%s/tls-node%u", tmpdir, i);
		tls[i].partition_file = g_strdup_printf("%s/tls-partition-%u", tmpdir, i);
		tls[i].tls = TRUE;
		g_assert_cmpint(g_mkdir_with_parents(tls[i].dir, 0700), ==, 0);
	}
	/* no scheme: https because TLS is on */
	tls[0].peers = g_strdup(tls[1].id);
	tls[1].peers = g_strdup(tls[0].id);
	for (guint i = 0; i < 2; i++)
		node_spawn(&tls[i]);
	for (guint i = 0; i < 2; i++)
		node_wait_ready(&tls[i]);

	s = session_new();
	g_assert_cmpuint(create(s, &tls[0], "over-tls", "tls", "secret"), ==, 201);
	g_assert_cmpuint(create(s, &tls[1], "back", "tls", "too"), ==, 201);
	{
		/* the nodes' states converge: replication went through mutual TLS */
		Node saved[2];
		memcpy(saved, nodes, sizeof(saved));
		memcpy(nodes, tls, sizeof(saved));
		g_free(wait_converged(both, 2, NULL));
		memcpy(nodes, saved, sizeof(saved));
	}
	{
		g_autofree gchar *v = read_value(s, &tls[1], "over-tls", "tls");
		g_assert_cmpstr(v, ==, "secret");
	}
	/* and without a client certificate a call is refused at the TLS layer (a new session:
	 * the other one keeps its authenticated connections) */
	{
		g_autoptr(SoupSession) bare = session_new();
		g_autofree gchar *url = g_strconcat(tls[0].url, "/cluster/health", NULL);
		g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
		g_autoptr(GBytes) b = soup_session_send_and_read(bare, msg, NULL, &error);
		g_assert_null(b);
		g_clear_error(&error);
	}
	for (guint i = 0; i < 2; i++) {
		node_kill(&tls[i]);
		g_free(tls[i].id);
		g_free(tls[i].url);
		g_free(tls[i].dir);
		g_free(tls[i].partition_file);
		g_free(tls[i].peers);
	}
	g_clear_object(&client_cert);
	g_clear_pointer(&tls_dir, g_free);
}

int
main(int argc, char **argv)
{
	guint ports[N_NODES + 1];
	gint ret;

	g_test_init(&argc, &argv, NULL);
	if (g_getenv("OSCD_PATH") == NULL) {
		g_test_message("OSCD_PATH is not set (run through meson test)");
		return 77;
	}
	tmpdir = osc_test_make_tmpdir();
	for (guint i = 0; i <= N_NODES; i++)
		ports[i] = free_port();
	/* node ids sort like their index, so node 0 creates the salt */
	qsort(ports, N_NODES, sizeof(guint), port_cmp);
	for (guint i = 0; i <= N_NODES; i++) {
		nodes[i].index = i;
		nodes[i].port = ports[i];
		nodes[i].id = g_strdup_printf("127.0.0.1:%u", ports[i]);
		nodes[i].url = g_strdup_printf("http://127.0.0.1:%u", ports[i]);
		nodes[i].dir = g_strdup_printf("%s/node%u", tmpdir, i);
		nodes[i].partition_file = g_strdup_printf("%s/partition-%u", tmpdir, i);
		g_assert_cmpint(g_mkdir_with_parents(nodes[i].dir, 0700), ==, 0);
	}
	/* three nodes, started at once, none with a salt yet */
	for (guint i = 0; i < 3; i++)
		node_spawn(&nodes[i]);
	for (guint i = 0; i < 3; i++)
		node_wait_ready(&nodes[i]);

	g_test_add_func("/osc/cluster/salt-bootstrap", test_salt_bootstrap);
	g_test_add_func("/osc/cluster/status", test_status_shapes);
	g_test_add_func("/osc/cluster/concurrent-writes", test_concurrent_writes);
	g_test_add_func("/osc/cluster/rekey", test_rekey);
	g_test_add_func("/osc/cluster/kill-restart", test_kill_restart);
	g_test_add_func("/osc/cluster/stop-cont", test_stop_cont);
	g_test_add_func("/osc/cluster/partition", test_partition);
	g_test_add_func("/osc/cluster/new-node", test_new_node);
	g_test_add_func("/osc/cluster/salt-mismatch", test_salt_mismatch);
	g_test_add_func("/osc/cluster/mutual-tls", test_mutual_tls);
	ret = g_test_run();

	for (guint i = 0; i <= N_NODES; i++) {
		if (nodes[i].proc != NULL) {
			if (nodes[i].stopped)
				node_signal(&nodes[i], SIGCONT);
			node_kill(&nodes[i]);
		}
	}
	osc_test_rm_rf(tmpdir);
	return ret;
}
