/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/prctl.h>

#include "osc-salt.h"
#include "osc-test-utils.h"

/*
 * Crash safety (issue 10): writers create, update and delete entries through oscd and
 * remember every write the server acknowledged; oscd is killed with SIGKILL at random
 * moments, restarted on the same files, and every acknowledged write must be there, intact,
 * in its last state. A write in flight at the kill may or may not have happened, but must
 * be all or nothing. Between runs the database passes PRAGMA integrity_check and the salt
 * is unchanged.
 *
 * OSC_TEST_SEED=<n> replays a run; OSC_CRASH_ROUNDS=<n> changes the number of kills.
 */

#define USER_KEY  "crash-safety-user-key"
#define N_WRITERS 2
#define N_KEYS	  24 /* per writer: small, so updates and deletes hit existing entries */

typedef enum {
	OP_NONE,
	OP_CREATE,
	OP_UPDATE,
	OP_DELETE,
} OpKind;

typedef struct {
	guint id;
	GRand *rand;
	gchar *base;
	GHashTable *model; /* key → acknowledged value (absent: no entry) */
	/* the write that was in flight when the server died, if any */
	OpKind pending;
	gchar *pending_key;
	gchar *pending_value;
	guint acked;
	gint stop;
} Writer;

typedef struct {
	gchar *tmpdir;
	gchar *db_path;
	gchar *salt_path;
	GSubprocess *proc;
	gchar *base;
	SoupSession *session;
} Server;

static guint
pick_free_port(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) sock = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
					       G_SOCKET_PROTOCOL_TCP, &error);
	g_autoptr(GSocketAddress) addr = g_inet_socket_address_new_from_string("127.0.0.1", 0);
	g_autoptr(GSocketAddress) local = NULL;
	guint port;

	g_assert_no_error(error);
	g_socket_bind(sock, addr, FALSE, &error);
	g_assert_no_error(error);
	local = g_socket_get_local_address(sock, &error);
	g_assert_no_error(error);
	port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
	g_socket_close(sock, NULL);
	return port;
}

/* sends one request; returns the status, 0 when the connection failed */
static guint
send_sync(SoupSession *session, const gchar *method, const gchar *url, const gchar *body,
	  gchar **reply)
{
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = NULL;

	soup_message_headers_replace(soup_message_get_request_headers(msg), "X-User-Key",
				     USER_KEY);
	if (body != NULL) {
		g_autoptr(GBytes) b = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg, "application/json", b);
	}
	bytes = soup_session_send_and_read(session, msg, NULL, &error);
	if (bytes == NULL)
		return 0;
	if (reply != NULL)
		*reply = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	return soup_message_get_status(msg);
}

/* a failed assertion aborts the test: take the server down with it */
static void
child_setup_cb(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
server_start(Server *srv)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *log = g_build_filename(srv->tmpdir, "oscd.log", NULL);
	g_autofree gchar *port = g_strdup_printf("%u", pick_free_port());
	const gchar *oscd = g_getenv("OSCD_PATH");
	gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

	g_assert_nonnull(oscd);
	g_subprocess_launcher_setenv(launcher, "OSC_DATABASE_PATH", srv->db_path, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_SALT_FILE_PATH", srv->salt_path, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST", "127.0.0.1", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST_PORT", port, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_LOG_LEVEL", "WARNING", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_LOG_FORMAT", "console", TRUE);
	g_subprocess_launcher_unsetenv(launcher, "OSC_DB_SYNCHRONOUS");
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	g_subprocess_launcher_set_child_setup(launcher, child_setup_cb, NULL, NULL);
	srv->proc = g_subprocess_launcher_spawn(launcher, &error, oscd, "--quiet", NULL);
	g_assert_no_error(error);
	g_free(srv->base);
	srv->base = g_strdup_printf("http://127.0.0.1:%s", port);
	for (;;) {
		g_autofree gchar *url = g_strconcat(srv->base, "/health", NULL);
		if (send_sync(srv->session, "GET", url, NULL, NULL) == 200)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(20 * 1000);
	}
}

static void
server_kill(Server *srv)
{
	g_subprocess_send_signal(srv->proc, SIGKILL);
	g_subprocess_wait(srv->proc, NULL, NULL);
	g_assert_true(g_subprocess_get_if_signaled(srv->proc));
	g_clear_object(&srv->proc);
	/* kept-alive connections to the dead server must not be reused */
	soup_session_abort(srv->session);
}

/* ---- the writers ---- */

static gchar *
entry_url(const gchar *base, const gchar *key)
{
	return g_strdup_printf("%s/configs/%s?environment=crash", base, key);
}

static gpointer
writer_run(gpointer data)
{
	Writer *w = data;
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 30, NULL);
	g_autofree gchar *create_url = g_strconcat(w->base, "/configs", NULL);

	while (!g_atomic_int_get(&w->stop)) {
		g_autofree gchar *key =
		    g_strdup_printf("w%u-k%02d", w->id, g_rand_int_range(w->rand, 0, N_KEYS));
		g_autofree gchar *value = g_strdup_printf(
		    "w%u-v%u-%08x", w->id, w->acked, g_rand_int(w->rand));
		g_autofree gchar *url = entry_url(w->base, key);
		g_autofree gchar *body = NULL;
		gboolean exists = g_hash_table_contains(w->model, key);
		OpKind op;
		guint status;

		if (!exists)
			op = OP_CREATE;
		else
			op = g_rand_int_range(w->rand, 0, 4) == 0 ? OP_DELETE : OP_UPDATE;
		switch (op) {
		case OP_CREATE:
			body = g_strdup_printf("{\"key\":\"%s\",\"environment\":\"crash\","
					       "\"category\":\"c\",\"value\":\"%s\"}",
					       key, value);
			status = send_sync(session, "POST", create_url, body, NULL);
			break;
		case OP_UPDATE:
			body = g_strdup_printf("{\"value\":\"%s\"}", value);
			status = send_sync(session, "PUT", url, body, NULL);
			break;
		case OP_DELETE:
		case OP_NONE:
		default:
			status = send_sync(session, "DELETE", url, NULL, NULL);
			break;
		}
		if (status == 0) {
			/* the server died under this write: it may or may not have happened */
			w->pending = op;
			w->pending_key = g_steal_pointer(&key);
			w->pending_value = op == OP_DELETE ? NULL : g_steal_pointer(&value);
			return NULL;
		}
		if (status != 200 && status != 201)
			g_error("writer %u: %s %s answered %u", w->id,
				op == OP_CREATE ? "create" : op == OP_UPDATE ? "update" : "delete",
				key, status);
		/* acknowledged: it must survive anything from now on */
		if (op == OP_DELETE)
			g_hash_table_remove(w->model, key);
		else
			g_hash_table_replace(w->model, g_steal_pointer(&key), g_steal_pointer(&value));
		w->acked++;
	}
	return NULL;
}

/* ---- checks after a crash ---- */

static void
check_database(const gchar *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	g_assert_cmpstr((const gchar *)sqlite3_column_text(stmt, 0), ==, "ok");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

/* the server's entries of environment "crash": key → value */
static GHashTable *
server_entries(Server *srv)
{
	g_autofree gchar *url = g_strconcat(srv->base, "/configs?environment=crash", NULL);
	g_autofree gchar *reply = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	GHashTable *entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	JsonArray *array;
	guint status = send_sync(srv->session, "GET", url, NULL, &reply);

	if (status == 401) /* none the key opens: nothing written yet */
		return entries;
	g_assert_cmpuint(status, ==, 200);
	json_parser_load_from_data(parser, reply, -1, &error);
	g_assert_no_error(error);
	array = json_node_get_array(json_parser_get_root(parser));
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *o = json_array_get_object_element(array, i);
		g_hash_table_insert(entries, g_strdup(json_object_get_string_member(o, "key")),
				    g_strdup(json_object_get_string_member(o, "value")));
	}
	return entries;
}

static void
check_writer(Writer *w, GHashTable *entries, guint *lost, guint *corrupted)
{
	GHashTableIter iter;
	gpointer key, value;

	/* the write in flight: all or nothing; whichever it was becomes the model */
	if (w->pending != OP_NONE) {
		const gchar *now = g_hash_table_lookup(entries, w->pending_key);
		const gchar *before = g_hash_table_lookup(w->model, w->pending_key);
		const gchar *after = w->pending_value;

		if (g_strcmp0(now, before) != 0 && g_strcmp0(now, after) != 0) {
			g_test_message("in-flight write of %s: found %s, expected %s or %s",
				       w->pending_key, now, before, after);
			(*corrupted)++;
		}
		if (now != NULL)
			g_hash_table_replace(w->model, g_strdup(w->pending_key), g_strdup(now));
		else
			g_hash_table_remove(w->model, w->pending_key);
		w->pending = OP_NONE;
		g_clear_pointer(&w->pending_key, g_free);
		g_clear_pointer(&w->pending_value, g_free);
	}
	g_hash_table_iter_init(&iter, w->model);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const gchar *now = g_hash_table_lookup(entries, key);
		if (now == NULL) {
			g_test_message("acknowledged %s = %s is lost", (gchar *)key, (gchar *)value);
			(*lost)++;
		} else if (!g_str_equal(now, value)) {
			g_test_message("acknowledged %s = %s reads %s", (gchar *)key,
				       (gchar *)value, now);
			(*corrupted)++;
		}
	}
	/* and nothing acknowledged as deleted came back */
	g_hash_table_iter_init(&iter, entries);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		g_autofree gchar *prefix = g_strdup_printf("w%u-", w->id);
		if (g_str_has_prefix(key, prefix) && !g_hash_table_contains(w->model, key)) {
			g_test_message("deleted %s is back", (gchar *)key);
			(*corrupted)++;
		}
	}
}

static void
test_crash_safety(void)
{
	const gchar *seed_env = g_getenv("OSC_TEST_SEED");
	const gchar *rounds_env = g_getenv("OSC_CRASH_ROUNDS");
	guint32 seed = seed_env != NULL ? (guint32)g_ascii_strtoull(seed_env, NULL, 10)
					: (guint32)g_get_real_time();
	guint rounds = rounds_env != NULL ? (guint)g_ascii_strtoull(rounds_env, NULL, 10) : 20;
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	Server srv = {0};
	Writer writers[N_WRITERS] = {{0}};
	g_autoptr(GBytes) salt = NULL;
	g_autoptr(GError) error = NULL;
	guint lost = 0, corrupted = 0, acked = 0;
	gint64 started = g_get_monotonic_time();

	g_test_message("seed %u (replay with OSC_TEST_SEED=%u), %u kills", seed, seed, rounds);
	srv.tmpdir = osc_test_make_tmpdir();
	srv.db_path = g_build_filename(srv.tmpdir, "data", "configurations.db", NULL);
	srv.salt_path = g_build_filename(srv.tmpdir, "data", "encryption.salt", NULL);
	srv.session = soup_session_new_with_options("timeout", 30, NULL);
	for (guint i = 0; i < N_WRITERS; i++) {
		writers[i].id = i;
		writers[i].rand = g_rand_new_with_seed(g_rand_int(rand));
		writers[i].model = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	}

	server_start(&srv);
	salt = osc_salt_load(srv.salt_path, &error);
	g_assert_no_error(error);
	for (guint round = 0; round < rounds; round++) {
		GThread *threads[N_WRITERS];
		/* early kills land in start-up and the first writes, later ones mid-stream */
		guint ms = (guint)g_rand_int_range(rand, 5, 400);
		g_autoptr(GHashTable) entries = NULL;

		for (guint i = 0; i < N_WRITERS; i++) {
			g_free(writers[i].base);
			writers[i].base = g_strdup(srv.base);
			g_atomic_int_set(&writers[i].stop, 0);
			threads[i] = g_thread_new("writer", writer_run, &writers[i]);
		}
		g_usleep(ms * 1000);
		server_kill(&srv);
		for (guint i = 0; i < N_WRITERS; i++) {
			g_atomic_int_set(&writers[i].stop, 1);
			g_thread_join(threads[i]);
		}

		/* the files as the crash left them, before oscd touches them again */
		check_database(srv.db_path);
		{
			g_autoptr(GBytes) now = osc_salt_load(srv.salt_path, &error);
			g_assert_no_error(error);
			g_assert_true(g_bytes_equal(now, salt));
		}

		server_start(&srv);
		entries = server_entries(&srv);
		for (guint i = 0; i < N_WRITERS; i++)
			check_writer(&writers[i], entries, &lost, &corrupted);
		g_test_message("kill %u after %u ms: %u entries, %u and %u writes acknowledged so far",
			       round + 1, ms, g_hash_table_size(entries), writers[0].acked,
			       writers[1].acked);
	}
	server_kill(&srv);
	check_database(srv.db_path);

	for (guint i = 0; i < N_WRITERS; i++)
		acked += writers[i].acked;
	g_test_message("%u kills, %u acknowledged writes, %u lost, %u corrupted, %.1f s", rounds,
		       acked, lost, corrupted,
		       (gdouble)(g_get_monotonic_time() - started) / G_USEC_PER_SEC);
	g_assert_cmpuint(lost, ==, 0);
	g_assert_cmpuint(corrupted, ==, 0);
	/* the writers really wrote across the kills */
	g_assert_cmpuint(acked, >=, rounds);

	for (guint i = 0; i < N_WRITERS; i++) {
		g_rand_free(writers[i].rand);
		g_hash_table_unref(writers[i].model);
		g_free(writers[i].base);
		g_free(writers[i].pending_key);
		g_free(writers[i].pending_value);
	}
	g_clear_object(&srv.session);
	osc_test_rm_rf(srv.tmpdir);
	g_free(srv.tmpdir);
	g_free(srv.db_path);
	g_free(srv.salt_path);
	g_free(srv.base);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/osc/crash-safety/sigkill", test_crash_safety);
	return g_test_run();
}
