/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * Runs the real daemon (OSCD_PATH, set by tests/meson.build) as a child process: command
 * line, start-up checks, files and their modes, logs, signals and graceful shutdown. Each
 * test gets a fresh directory for the database and salt and a free loopback port. The
 * daemon is another process, so these tests may block on sockets freely.
 */

#define G_LOG_DOMAIN "OscTestOscd"

#include "config.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "osc-test-utils.h"

#define READY_TIMEOUT_MS 10000
#define EXIT_TIMEOUT_MS	 10000

#define USER_KEY "oscd-test-user-key-0001"
/* distinctive strings that must never reach a log */
#define SECRET_USER_KEY	 "UserKey-Zq7xV9-must-not-be-logged"
#define SECRET_OTHER_KEY "OtherKey-Hh2cJ4-must-not-be-logged"
#define SECRET_VALUE	 "Value-Kp3mW8-must-not-be-logged"
#define SECRET_API_KEY	 "ApiKey-Rt5nB2-must-not-be-logged-0123"

typedef struct {
	gchar *tmpdir;
	gchar *data_dir; /* created by the daemon, not by the test */
	gchar *db_path;
	gchar *salt_path;
	GHashTable *env; /* name → value: the child's whole environment */
	guint port;
	GSubprocess *proc;
	gboolean exited;
	guint n_spawns;
	gchar *out_path;
	gchar *err_path;
	SoupSession *session;
	SoupSession *probe;
	gboolean https; /* ready when the banner says so: /health needs a client certificate */
} Fixture;

/* ---- the child process ---- */

static void
child_setup_cb(gpointer user_data)
{
	/* a failed assertion aborts this process without teardown: take the daemon along */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static void
fixture_setenv(Fixture *fx, const gchar *name, const gchar *value)
{
	if (value == NULL)
		g_hash_table_remove(fx->env, name);
	else
		g_hash_table_replace(fx->env, g_strdup(name), g_strdup(value));
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	/* sanitizer builds need their runtime options in the child as well */
	static const gchar *const passthrough[] = {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS",
						   NULL};

	if (g_getenv("OSCD_PATH") == NULL) {
		g_test_skip("OSCD_PATH is not set (run through meson test)");
		return;
	}
	fx->tmpdir = osc_test_make_tmpdir();
	/* two levels the daemon has to create */
	fx->data_dir = g_build_filename(fx->tmpdir, "data", "osc", NULL);
	fx->db_path = g_build_filename(fx->data_dir, "configurations.db", NULL);
	fx->salt_path = g_build_filename(fx->data_dir, "encryption.salt", NULL);
	fx->env = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; passthrough[i] != NULL; i++)
		fixture_setenv(fx, passthrough[i], g_getenv(passthrough[i]));
	fixture_setenv(fx, "OSC_HOST", "127.0.0.1");
	fixture_setenv(fx, "OSC_DATABASE_PATH", fx->db_path);
	fixture_setenv(fx, "OSC_SALT_FILE_PATH", fx->salt_path);
	fixture_setenv(fx, "OSC_LOG_LEVEL", "INFO");
	fixture_setenv(fx, "OSC_LOG_FORMAT", "json");
	fixture_setenv(fx, "OSC_WORKERS", "2");
	/* cheap derivations unless a test wants the real cost */
	fixture_setenv(fx, "OSC_PBKDF2_ITERATIONS", "1000");
	fx->session = soup_session_new_with_options("timeout", 60, NULL);
	fx->probe = soup_session_new_with_options("timeout", 2, NULL);
}

static void
daemon_exited_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Fixture *fx = user_data;

	/* the status is kept by the GSubprocess; only the fact matters here */
	g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
	if (G_SUBPROCESS(source) == fx->proc)
		fx->exited = TRUE;
	g_object_unref(source);
	g_main_context_wakeup(NULL);
}

static gboolean
flag_timeout_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	g_main_context_wakeup(NULL);
	return G_SOURCE_REMOVE;
}

/* spins the default context until the child exited or @timeout_ms passed */
static gboolean
daemon_wait_exit(Fixture *fx, guint timeout_ms)
{
	gboolean timed_out = FALSE;
	guint id;

	if (fx->proc == NULL || fx->exited)
		return TRUE;
	id = g_timeout_add(timeout_ms, flag_timeout_cb, &timed_out);
	while (!fx->exited && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (!timed_out)
		g_source_remove(id);
	/* connections to a process that is gone must not be reused */
	if (fx->exited) {
		soup_session_abort(fx->session);
		soup_session_abort(fx->probe);
	}
	return fx->exited;
}

/* the exit status of a child that exited normally, else -1 (killed by a signal) */
static gint
daemon_exit_status(Fixture *fx)
{
	g_assert_true(fx->exited);
	if (!g_subprocess_get_if_exited(fx->proc))
		return -1;
	return g_subprocess_get_exit_status(fx->proc);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	if (fx->proc != NULL && !fx->exited) {
		g_subprocess_force_exit(fx->proc);
		daemon_wait_exit(fx, EXIT_TIMEOUT_MS);
	}
	g_clear_object(&fx->proc);
	g_clear_object(&fx->session);
	g_clear_object(&fx->probe);
	g_clear_pointer(&fx->env, g_hash_table_unref);
	if (fx->tmpdir != NULL)
		osc_test_rm_rf(fx->tmpdir);
	g_free(fx->tmpdir);
	g_free(fx->data_dir);
	g_free(fx->db_path);
	g_free(fx->salt_path);
	g_free(fx->out_path);
	g_free(fx->err_path);
}

/* Starts oscd with @args and the fixture's environment; stdout and stderr go to files. */
static void
daemon_spawn(Fixture *fx, const gchar *const *args)
{
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GStrvBuilder) envb = g_strv_builder_new();
	g_auto(GStrv) envv = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out_name = NULL;
	g_autofree gchar *err_name = NULL;
	GHashTableIter iter;
	gpointer name, value;

	g_assert_true(fx->proc == NULL || fx->exited);
	g_clear_object(&fx->proc);

	g_hash_table_iter_init(&iter, fx->env);
	while (g_hash_table_iter_next(&iter, &name, &value)) {
		g_autofree gchar *entry = g_strconcat(name, "=", value, NULL);
		g_strv_builder_add(envb, entry);
	}
	envv = g_strv_builder_end(envb);

	fx->n_spawns++;
	out_name = g_strdup_printf("stdout-%u.txt", fx->n_spawns);
	err_name = g_strdup_printf("stderr-%u.txt", fx->n_spawns);
	g_free(fx->out_path);
	g_free(fx->err_path);
	fx->out_path = g_build_filename(fx->tmpdir, out_name, NULL);
	fx->err_path = g_build_filename(fx->tmpdir, err_name, NULL);

	g_subprocess_launcher_set_environ(launcher, envv);
	g_subprocess_launcher_set_cwd(launcher, fx->tmpdir);
	g_subprocess_launcher_set_stdout_file_path(launcher, fx->out_path);
	g_subprocess_launcher_set_stderr_file_path(launcher, fx->err_path);
	g_subprocess_launcher_set_child_setup(launcher, child_setup_cb, NULL, NULL);

	g_ptr_array_add(argv, (gpointer)g_getenv("OSCD_PATH"));
	for (guint i = 0; args != NULL && args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);

	fx->exited = FALSE;
	fx->proc =
		g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_wait_async(fx->proc, NULL, daemon_exited_cb, fx);
	g_object_ref(fx->proc); /* for the callback */
}

static gchar *
read_text(const gchar *path)
{
	gchar *text = NULL;

	if (path == NULL || !g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

static gchar *
daemon_stdout(Fixture *fx)
{
	return read_text(fx->out_path);
}

static gchar *
daemon_stderr(Fixture *fx)
{
	return read_text(fx->err_path);
}

static void
daemon_dump_output(Fixture *fx)
{
	g_autofree gchar *out = daemon_stdout(fx);
	g_autofree gchar *err = daemon_stderr(fx);

	g_test_message("oscd stdout:\n%s", out);
	g_test_message("oscd stderr:\n%s", err);
}

/* Runs oscd to completion (for options and start-up errors) and returns its exit status. */
static gint
daemon_run(Fixture *fx, const gchar *const *args)
{
	daemon_spawn(fx, args);
	if (!daemon_wait_exit(fx, EXIT_TIMEOUT_MS)) {
		daemon_dump_output(fx);
		g_error("oscd did not exit within %u ms", EXIT_TIMEOUT_MS);
	}
	return daemon_exit_status(fx);
}

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

static gchar *
fixture_url(Fixture *fx, guint port, const gchar *path)
{
	return g_strdup_printf("http://127.0.0.1:%u%s", port, path);
}

/* GET /health on @port once; the status, or 0 when nothing answered */
static guint
probe_health(Fixture *fx, guint port)
{
	g_autofree gchar *url = fixture_url(fx, port, "/health");
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = soup_session_send_and_read(fx->probe, msg, NULL, NULL);

	return body != NULL ? soup_message_get_status(msg) : 0;
}

static gboolean
banner_says_listening(Fixture *fx, guint port)
{
	g_autofree gchar *out = read_text(fx->out_path);
	g_autofree gchar *line = g_strdup_printf("listening on https://127.0.0.1:%u/", port);

	return strstr(out, line) != NULL;
}

/* polls /health on @port until it answers 200 (TRUE) or the daemon exits or 10 s pass */
static gboolean
daemon_wait_ready(Fixture *fx, guint port)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)READY_TIMEOUT_MS * 1000;

	while (g_get_monotonic_time() < deadline) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		if (fx->exited)
			return FALSE;
		if (fx->https ? banner_says_listening(fx, port) : probe_health(fx, port) == 200)
			return TRUE;
		g_usleep(50 * 1000);
	}
	return FALSE;
}

typedef void (*PrepareFunc)(Fixture *fx, guint port);

static void
prepare_env_port(Fixture *fx, guint port)
{
	g_autofree gchar *text = g_strdup_printf("%u", port);
	fixture_setenv(fx, "OSC_HOST_PORT", text);
}

/*
 * Starts oscd on a free port (@prepare puts the port where the daemon reads it) and waits
 * until /health answers. Another process may grab the port between our probe and the
 * daemon's bind: then it exits with "Address already in use" and we try another one.
 */
static void
daemon_start_full(Fixture *fx, const gchar *const *args, PrepareFunc prepare)
{
	for (guint attempt = 0; attempt < 5; attempt++) {
		g_autofree gchar *out = NULL;
		g_autofree gchar *err = NULL;

		fx->port = pick_free_port();
		prepare(fx, fx->port);
		daemon_spawn(fx, args);
		if (daemon_wait_ready(fx, fx->port))
			return;
		if (!fx->exited) {
			daemon_dump_output(fx);
			g_error("oscd did not answer /health within %u ms", READY_TIMEOUT_MS);
		}
		out = daemon_stdout(fx);
		err = daemon_stderr(fx);
		if (strstr(err, "in use") == NULL && strstr(out, "in use") == NULL) {
			daemon_dump_output(fx);
			g_error("oscd exited at start-up with status %d", daemon_exit_status(fx));
		}
		g_test_message("port %u was taken, trying another", fx->port);
	}
	g_error("no free port after 5 attempts");
}

static void
daemon_start(Fixture *fx)
{
	daemon_start_full(fx, NULL, prepare_env_port);
}

static void
daemon_signal(Fixture *fx, gint sig)
{
	g_assert_nonnull(fx->proc);
	g_assert_false(fx->exited);
	g_subprocess_send_signal(fx->proc, sig);
}

/* SIGTERM, then a clean exit (status 0) within 10 s */
static void
daemon_stop(Fixture *fx)
{
	daemon_signal(fx, SIGTERM);
	if (!daemon_wait_exit(fx, EXIT_TIMEOUT_MS)) {
		daemon_dump_output(fx);
		g_error("oscd did not exit within %u ms of SIGTERM", EXIT_TIMEOUT_MS);
	}
	if (daemon_exit_status(fx) != 0)
		daemon_dump_output(fx);
	g_assert_cmpint(daemon_exit_status(fx), ==, 0);
}

/* ---- HTTP to the daemon (blocking: the server is another process) ---- */

static guint http_sync(Fixture *fx, const gchar *method, const gchar *path, const gchar *body,
		       gchar **out, ...) G_GNUC_NULL_TERMINATED;

/* @...: NULL-terminated header name, value pairs. Returns the status, 0 on no answer. */
static guint
http_sync(Fixture *fx, const gchar *method, const gchar *path, const gchar *body, gchar **out, ...)
{
	g_autofree gchar *url = fixture_url(fx, fx->port, path);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	SoupMessageHeaders *h;
	va_list args;

	g_assert_nonnull(msg);
	h = soup_message_get_request_headers(msg);
	va_start(args, out);
	for (const gchar *name = va_arg(args, const gchar *); name != NULL;
	     name = va_arg(args, const gchar *))
		soup_message_headers_append(h, name, va_arg(args, const gchar *));
	va_end(args);
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
	}
	reply = soup_session_send_and_read(fx->session, msg, NULL, &error);
	if (reply == NULL) {
		g_test_message("%s %s: %s", method, path, error->message);
		if (out != NULL)
			*out = NULL;
		return 0;
	}
	if (out != NULL)
		*out = g_strndup(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply));
	return soup_message_get_status(msg);
}

static JsonNode *
parse_json(const gchar *text)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	if (text == NULL || !json_parser_load_from_data(parser, text, -1, &error))
		return NULL;
	return json_node_ref(json_parser_get_root(parser));
}

static const gchar *
json_string(JsonNode *node, const gchar *member)
{
	JsonObject *obj;
	JsonNode *m;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	obj = json_node_get_object(node);
	m = json_object_get_member(obj, member);
	if (m == NULL || !JSON_NODE_HOLDS_VALUE(m) || json_node_get_value_type(m) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(m);
}

static gchar *
create_body(const gchar *key, const gchar *value, const gchar *environment)
{
	return g_strdup_printf("{\"key\":\"%s\",\"value\":\"%s\",\"environment\":\"%s\"}", key,
			       value, environment);
}

/* ---- raw HTTP over a blocking socket, to control exactly when bytes are sent ---- */

static GSocketConnection *
raw_connect(guint port)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GError) error = NULL;
	GSocketConnection *conn;

	/* also the timeout of every later read and write on the connection */
	g_socket_client_set_timeout(client, 30);
	conn = g_socket_client_connect_to_host(client, "127.0.0.1", (guint16)port, NULL, &error);
	g_assert_no_error(error);
	return conn;
}

static void
raw_write(GSocketConnection *conn, const gchar *text)
{
	g_autoptr(GError) error = NULL;

	g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), text,
				  strlen(text), NULL, NULL, &error);
	g_assert_no_error(error);
}

/*
 * Reads one response with a Content-Length body. Returns its status (0 when the connection
 * ended first) and, in @text, everything read.
 */
static guint
raw_read_response(GSocketConnection *conn, gchar **text)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
	g_autoptr(GString) buf = g_string_new(NULL);
	guint status = 0;

	for (;;) {
		gchar chunk[4096];
		g_autoptr(GError) error = NULL;
		const gchar *end = strstr(buf->str, "\r\n\r\n");
		gssize n;

		if (end != NULL) {
			g_autoptr(SoupMessageHeaders) h =
				soup_message_headers_new(SOUP_MESSAGE_HEADERS_RESPONSE);
			gsize head_len = (gsize)(end - buf->str) + 4;
			guint code = 0;

			if (!soup_headers_parse_response(buf->str, (gint)head_len, h, NULL, &code,
							 NULL))
				break;
			if (buf->len >=
			    head_len + (gsize)soup_message_headers_get_content_length(h)) {
				status = code;
				break;
			}
		}
		n = g_input_stream_read(in, chunk, sizeof(chunk), NULL, &error);
		if (n <= 0) {
			if (error != NULL)
				g_test_message("read: %s", error->message);
			break;
		}
		g_string_append_len(buf, chunk, n);
	}
	if (text != NULL)
		*text = g_strdup(buf->str);
	return status;
}

/* Reads until the peer closes. TRUE on a clean EOF; FALSE on an error or timeout. */
static gboolean
raw_read_to_eof(GSocketConnection *conn, GString *into)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));

	for (;;) {
		gchar chunk[4096];
		g_autoptr(GError) error = NULL;
		gssize n = g_input_stream_read(in, chunk, sizeof(chunk), NULL, &error);

		if (n == 0)
			return TRUE;
		if (n < 0) {
			g_test_message("read: %s", error->message);
			return FALSE;
		}
		g_string_append_len(into, chunk, n);
	}
}

/* a keep-alive connection the daemon has certainly accepted: it answered /health on it */
static GSocketConnection *
raw_connect_accepted(guint port)
{
	GSocketConnection *conn = raw_connect(port);
	g_autofree gchar *reply = NULL;

	raw_write(conn, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	g_assert_cmpuint(raw_read_response(conn, &reply), ==, 200);
	return conn;
}

static gchar *
raw_create_request(const gchar *user_key, const gchar *key, const gchar *value)
{
	g_autofree gchar *body = create_body(key, value, "production");

	return g_strdup_printf("POST /configs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			       "Content-Type: application/json\r\nX-User-Key: %s\r\n"
			       "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s",
			       user_key, strlen(body), body);
}

/* ---- file checks ---- */

static guint
file_mode(const gchar *path)
{
	GStatBuf st;

	if (g_stat(path, &st) != 0)
		g_error("stat %s: %s", path, g_strerror(errno));
	return st.st_mode & 0777;
}

static goffset
file_size(const gchar *path)
{
	GStatBuf st;

	if (g_stat(path, &st) != 0)
		return -1;
	return st.st_size;
}

/* the WAL was folded into the database at shutdown */
static void
assert_wal_checkpointed(Fixture *fx)
{
	g_autofree gchar *wal = g_strconcat(fx->db_path, "-wal", NULL);
	goffset size = file_size(wal);

	g_assert_cmpint(size, <=, 0);
}

/* ---- log lines ---- */

/* banner lines (to stdout, for people) are plain text by design */
static gboolean
is_banner_line(const gchar *line)
{
	return g_str_has_prefix(line, "OpenSecureConf ") || g_str_has_prefix(line, "  ") ||
	       g_str_has_prefix(line, "Stop with ");
}

/*
 * Checks every line of @text is a JSON log record (timestamp, level, logger, event as
 * strings) or, when @banner_ok, a banner line. Returns the records.
 */
static GPtrArray *
parse_json_log(const gchar *text, gboolean banner_ok)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);

	for (guint i = 0; lines[i] != NULL; i++) {
		JsonNode *node;

		if (lines[i][0] == '\0')
			continue;
		if (banner_ok && lines[i][0] != '{' && is_banner_line(lines[i]))
			continue;
		node = parse_json(lines[i]);
		if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
			g_error("log line is not a JSON object: %s", lines[i]);
		if (json_string(node, "timestamp") == NULL || json_string(node, "level") == NULL ||
		    json_string(node, "logger") == NULL || json_string(node, "event") == NULL)
			g_error("log line lacks timestamp/level/logger/event: %s", lines[i]);
		g_ptr_array_add(records, node);
	}
	return records;
}

static JsonNode *
find_access_record(GPtrArray *records, const gchar *method, const gchar *route, const gchar *status)
{
	for (guint i = 0; i < records->len; i++) {
		JsonNode *r = g_ptr_array_index(records, i);

		if (g_strcmp0(json_string(r, "event"), "request") == 0 &&
		    g_strcmp0(json_string(r, "method"), method) == 0 &&
		    g_strcmp0(json_string(r, "route"), route) == 0 &&
		    g_strcmp0(json_string(r, "status"), status) == 0)
			return r;
	}
	return NULL;
}

static void
assert_not_in(const gchar *haystack, const gchar *needle, const gchar *what)
{
	if (strstr(haystack, needle) != NULL)
		g_error("%s appears in %s", needle, what);
}

/* ---- command line ---- */

static void
test_version(Fixture *fx, gconstpointer data)
{
	const gchar *const args[] = {"--version", NULL};
	g_autofree gchar *out = NULL;

	if (fx->tmpdir == NULL)
		return;
	g_assert_cmpint(daemon_run(fx, args), ==, 0);
	out = daemon_stdout(fx);
	g_assert_nonnull(strstr(out, PACKAGE_VERSION));
	g_assert_nonnull(strstr(out, OSC_COMPAT_VERSION));
	/* nothing was started */
	g_assert_false(g_file_test(fx->db_path, G_FILE_TEST_EXISTS));
}

static void
test_help(Fixture *fx, gconstpointer data)
{
	const gchar *const args[] = {"--help", NULL};
	g_autofree gchar *out = NULL;

	if (fx->tmpdir == NULL)
		return;
	g_assert_cmpint(daemon_run(fx, args), ==, 0);
	out = daemon_stdout(fx);
	g_assert_nonnull(strstr(out, "--config"));
	g_assert_nonnull(strstr(out, "OSC_"));
	g_assert_false(g_file_test(fx->db_path, G_FILE_TEST_EXISTS));
}

static void
test_unknown_option(Fixture *fx, gconstpointer data)
{
	const gchar *const args[] = {"--no-such-option", NULL};
	g_autofree gchar *err = NULL;

	if (fx->tmpdir == NULL)
		return;
	g_assert_cmpint(daemon_run(fx, args), ==, 2);
	err = daemon_stderr(fx);
	g_assert_nonnull(strstr(err, "no-such-option"));
	g_assert_false(g_file_test(fx->db_path, G_FILE_TEST_EXISTS));
}

/* ---- start-up ---- */

static void
test_startup(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *out = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *body = NULL;
	g_autoptr(JsonNode) health = NULL;
	g_autofree gchar *parent = NULL;

	if (fx->tmpdir == NULL)
		return;
	/* only OSC_* variables (and a sanitizer's own options, when there are any) */
	daemon_start(fx);

	out = daemon_stdout(fx);
	url = fixture_url(fx, fx->port, "");
	g_assert_nonnull(strstr(out, fx->db_path));
	g_assert_nonnull(strstr(out, fx->salt_path));
	g_assert_nonnull(strstr(out, url));

	g_assert_cmpuint(http_sync(fx, "GET", "/health", NULL, &body, NULL), ==, 200);
	health = parse_json(body);
	g_assert_cmpstr(json_string(health, "status"), ==, "healthy");

	/* the salt: 64 random bytes, private; the database private; their directory too */
	g_assert_cmpint(file_size(fx->salt_path), ==, 64);
	g_assert_cmpuint(file_mode(fx->salt_path), ==, 0600);
	g_assert_cmpuint(file_mode(fx->db_path), ==, 0600);
	parent = g_path_get_dirname(fx->db_path);
	g_assert_cmpuint(file_mode(parent), ==, 0700);

	daemon_stop(fx);
	assert_wal_checkpointed(fx);
}

/* "Max open files   SOFT   HARD   files" of /proc/PID/limits */
static void
proc_fd_limits(const gchar *pid, guint64 *soft, guint64 *hard)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%s/limits", pid);
	g_autofree gchar *text = NULL;
	g_auto(GStrv) lines = NULL;

	*soft = *hard = 0;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "Max open files")) {
			g_assert_cmpint(sscanf(lines[i] + strlen("Max open files"),
					       "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, soft, hard),
					==, 2);
			return;
		}
	}
	g_assert_not_reached();
}

/* every connection holds a descriptor: oscd takes what the hard limit allows */
static void
test_fd_limit(Fixture *fx, gconstpointer data)
{
	struct rlimit saved, low;
	guint64 soft = 0, hard = 0;

	if (fx->tmpdir == NULL)
		return;
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
	if (saved.rlim_max == RLIM_INFINITY || saved.rlim_max <= 256) {
		g_test_skip("the hard descriptor limit is unlimited or too low to tell");
		return;
	}
	/* started with a soft limit of 256, as from a shell with a low one */
	low = saved;
	low.rlim_cur = 256;
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
	daemon_start(fx);
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);

	proc_fd_limits(g_subprocess_get_identifier(fx->proc), &soft, &hard);
	g_assert_cmpuint(hard, ==, saved.rlim_max);
	g_assert_cmpuint(soft, ==, MIN(hard, 1048576));
	g_assert_cmpuint(http_sync(fx, "GET", "/health", NULL, NULL, NULL), ==, 200);
	daemon_stop(fx);
}

/* ---- logs ---- */

static void
test_json_logs(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *body = create_body("logged", SECRET_VALUE, "production");
	g_autofree gchar *bad_body = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GPtrArray) err_records = NULL;
	const gchar *const want[][3] = {
		{"POST", "/configs", "201"},	  {"GET", "/configs/{key}", "200"},
		{"GET", "/configs/{key}", "401"}, {"GET", "/stats/operations", "403"},
		{"POST", "/configs", "422"},
	};

	if (fx->tmpdir == NULL)
		return;
	/* the most verbose level: no secret at any level */
	fixture_setenv(fx, "OSC_LOG_LEVEL", "DEBUG");
	fixture_setenv(fx, "OSC_API_KEY_REQUIRED", "true");
	fixture_setenv(fx, "OSC_API_KEY", SECRET_API_KEY);
	daemon_start(fx);

	g_assert_cmpuint(http_sync(fx, "POST", "/configs", body, NULL, "X-API-Key", SECRET_API_KEY,
				   "X-User-Key", SECRET_USER_KEY, NULL),
			 ==, 201);
	g_assert_cmpuint(http_sync(fx, "GET", "/configs/logged?environment=production", NULL, NULL,
				   "X-API-Key", SECRET_API_KEY, "X-User-Key", SECRET_USER_KEY,
				   NULL),
			 ==, 200);
	/* another key cannot open it */
	g_assert_cmpuint(http_sync(fx, "GET", "/configs/logged?environment=production", NULL, NULL,
				   "X-API-Key", SECRET_API_KEY, "X-User-Key", SECRET_OTHER_KEY,
				   NULL),
			 ==, 401);
	/* a wrong API key, and a validation error that echoes the value in its answer */
	g_assert_cmpuint(http_sync(fx, "GET", "/stats/operations", NULL, NULL, "X-API-Key",
				   SECRET_OTHER_KEY, NULL),
			 ==, 403);
	bad_body =
		g_strdup_printf("{\"key\":\"\",\"value\":\"%s\",\"environment\":1}", SECRET_VALUE);
	g_assert_cmpuint(http_sync(fx, "POST", "/configs", bad_body, NULL, "X-API-Key",
				   SECRET_API_KEY, "X-User-Key", SECRET_USER_KEY, NULL),
			 ==, 422);
	daemon_stop(fx);

	out = daemon_stdout(fx);
	err = daemon_stderr(fx);
	records = parse_json_log(out, TRUE);
	err_records = parse_json_log(err, FALSE);
	g_assert_cmpuint(records->len, >, 0);

	for (guint i = 0; i < 2; i++) {
		const gchar *text = i == 0 ? out : err;
		const gchar *what = i == 0 ? "stdout" : "stderr";

		assert_not_in(text, SECRET_USER_KEY, what);
		assert_not_in(text, SECRET_OTHER_KEY, what);
		assert_not_in(text, SECRET_VALUE, what);
		assert_not_in(text, SECRET_API_KEY, what);
	}

	/* one access record per request, with the route template rather than the path; a
	 * missing one fails this test only, so that the others still run */
	for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
		if (find_access_record(records, want[i][0], want[i][1], want[i][2]) == NULL) {
			g_test_message("stdout:\n%s", out);
			g_test_fail_printf("no access record {\"event\":\"request\",\"method\":"
					   "\"%s\",\"route\":\"%s\",\"status\":\"%s\"}",
					   want[i][0], want[i][1], want[i][2]);
			return;
		}
	}
}

static void
test_log_file(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *log_path = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *log = NULL;
	g_autoptr(GPtrArray) records = NULL;
	g_auto(GStrv) lines = NULL;

	if (fx->tmpdir == NULL)
		return;
	log_path = g_build_filename(fx->tmpdir, "oscd.log", NULL);
	fixture_setenv(fx, "OSC_LOG_FILE", log_path);
	daemon_start(fx);
	g_assert_cmpuint(http_sync(fx, "GET", "/ready", NULL, NULL, NULL), ==, 200);
	daemon_stop(fx);

	g_assert_cmpuint(file_mode(log_path), ==, 0600);
	log = read_text(log_path);
	records = parse_json_log(log, FALSE);
	g_assert_cmpuint(records->len, >, 0);
	g_assert_nonnull(strstr(log, "started"));

	/* stdout keeps the banner only */
	out = daemon_stdout(fx);
	g_assert_nonnull(strstr(out, "OpenSecureConf"));
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == '{')
			g_error("a log record went to stdout despite OSC_LOG_FILE: %s", lines[i]);
	}
}

static void
test_console_logs(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *out = NULL;
	g_auto(GStrv) lines = NULL;
	gboolean started = FALSE;

	if (fx->tmpdir == NULL)
		return;
	fixture_setenv(fx, "OSC_LOG_FORMAT", "console");
	daemon_start(fx);
	daemon_stop(fx);

	out = daemon_stdout(fx);
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(JsonNode) node = NULL;

		if (lines[i][0] == '\0')
			continue;
		node = parse_json(lines[i]);
		if (node != NULL && JSON_NODE_HOLDS_OBJECT(node))
			g_error("OSC_LOG_FORMAT=console wrote JSON: %s", lines[i]);
		if (strstr(lines[i], "started") != NULL && strstr(lines[i], "info") != NULL)
			started = TRUE;
	}
	g_assert_true(started);
}

/* ---- configuration errors ---- */

static void
assert_start_fails(Fixture *fx, const gchar *const *args, const gchar *message)
{
	g_autofree gchar *err = NULL;
	gint status;

	if (!g_hash_table_contains(fx->env, "OSC_HOST_PORT"))
		prepare_env_port(fx, pick_free_port());
	status = daemon_run(fx, args);
	err = daemon_stderr(fx);
	if (status != 1 || strstr(err, message) == NULL) {
		daemon_dump_output(fx);
		g_error("expected exit status 1 and \"%s\" on stderr, got %d", message, status);
	}
}

static void
test_bad_port(Fixture *fx, gconstpointer data)
{
	if (fx->tmpdir == NULL)
		return;
	fixture_setenv(fx, "OSC_HOST_PORT", "abc");
	assert_start_fails(fx, NULL, "OSC_HOST_PORT");
}

static void
test_default_api_key(Fixture *fx, gconstpointer data)
{
	if (fx->tmpdir == NULL)
		return;
	/* required, but OSC_API_KEY left at the original's documented default */
	fixture_setenv(fx, "OSC_API_KEY_REQUIRED", "true");
	assert_start_fails(fx, NULL, "OSC_API_KEY");
	fixture_setenv(fx, "OSC_API_KEY", "your-super-secret-api-key-here");
	assert_start_fails(fx, NULL, "OSC_API_KEY");
}

static void
test_cluster_refused(Fixture *fx, gconstpointer data)
{
	if (fx->tmpdir == NULL)
		return;
	/* only REPLICA clustering exists; anything else is refused by name */
	fixture_setenv(fx, "OSC_CLUSTER_ENABLED", "true");
	fixture_setenv(fx, "OSC_CLUSTER_MODE", "sharding");
	assert_start_fails(fx, NULL, "OSC_CLUSTER_MODE");
	/* and a peer list it cannot use */
	fixture_setenv(fx, "OSC_CLUSTER_MODE", "replica");
	fixture_setenv(fx, "OSC_CLUSTER_NODES", "127.0.0.1:notaport");
	assert_start_fails(fx, NULL, "OSC_CLUSTER_NODES");
	fixture_setenv(fx, "OSC_CLUSTER_NODES", "ftp://127.0.0.1:9");
	assert_start_fails(fx, NULL, "OSC_CLUSTER_NODES");
}

static void
test_salt_unreadable(Fixture *fx, gconstpointer data)
{
	if (fx->tmpdir == NULL)
		return;
	g_assert_cmpint(g_mkdir_with_parents(fx->salt_path, 0700), ==, 0);
	assert_start_fails(fx, NULL, "salt");
	g_assert_true(g_file_test(fx->salt_path, G_FILE_TEST_IS_DIR));
}

static void
test_salt_empty(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	if (fx->tmpdir == NULL)
		return;
	g_assert_cmpint(g_mkdir_with_parents(fx->data_dir, 0700), ==, 0);
	g_file_set_contents_full(fx->salt_path, "", 0, G_FILE_SET_CONTENTS_NONE, 0600, &error);
	g_assert_no_error(error);
	assert_start_fails(fx, NULL, "empty");
	/* never replaced: an empty salt is somebody's mistake to look at, not to paper over */
	g_assert_cmpint(file_size(fx->salt_path), ==, 0);
	g_assert_cmpuint(file_mode(fx->salt_path), ==, 0600);
}

/* like ssh: a salt others can read or write stops start-up, and is left as it is */
static void
test_salt_group_readable(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	if (fx->tmpdir == NULL)
		return;
	g_assert_cmpint(g_mkdir_with_parents(fx->data_dir, 0700), ==, 0);
	g_file_set_contents_full(fx->salt_path, "0123456789abcdef0123456789abcdef", 32,
				 G_FILE_SET_CONTENTS_NONE, 0644, &error);
	g_assert_no_error(error);
	assert_start_fails(fx, NULL, "chmod 600");
	g_assert_cmpint(file_size(fx->salt_path), ==, 32);
	g_assert_cmpuint(file_mode(fx->salt_path), ==, 0644);
}

static void
test_port_in_use(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) sock = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
					       G_SOCKET_PROTOCOL_TCP, &error);
	g_autoptr(GSocketAddress) addr = g_inet_socket_address_new_from_string("127.0.0.1", 0);
	g_autoptr(GSocketAddress) local = NULL;

	if (fx->tmpdir == NULL)
		return;
	g_assert_no_error(error);
	g_socket_bind(sock, addr, FALSE, &error);
	g_assert_no_error(error);
	g_socket_listen(sock, &error);
	g_assert_no_error(error);
	local = g_socket_get_local_address(sock, &error);
	g_assert_no_error(error);
	prepare_env_port(fx, g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local)));
	assert_start_fails(fx, NULL, "in use");
	g_socket_close(sock, NULL);
}

/* ---- --config FILE ---- */

static void
config_file_write(Fixture *fx, const gchar *path, guint port, const gchar *extra)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_set_string(kf, "oscd", "host", "127.0.0.1");
	g_key_file_set_integer(kf, "oscd", "host_port", (gint)port);
	g_key_file_set_string(kf, "oscd", "database_path", fx->db_path);
	g_key_file_set_string(kf, "oscd", "salt_file_path", fx->salt_path);
	g_key_file_set_string(kf, "oscd", "pbkdf2_iterations", "1000");
	g_key_file_set_string(kf, "oscd", "log_format", "json");
	if (extra != NULL)
		g_key_file_set_string(kf, "oscd", extra, "1");
	g_key_file_save_to_file(kf, path, &error);
	g_assert_no_error(error);
}

static gchar *config_file_path;

/* the port only in the file */
static void
prepare_file_port(Fixture *fx, guint port)
{
	config_file_write(fx, config_file_path, port, NULL);
}

/* the file names one port, the environment the one to use */
static void
prepare_file_and_env_port(Fixture *fx, guint port)
{
	config_file_write(fx, config_file_path, pick_free_port(), NULL);
	prepare_env_port(fx, port);
}

static void
test_config_file(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *path = NULL;
	const gchar *args[] = {"--config", NULL, NULL};
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;
	guint file_port;

	if (fx->tmpdir == NULL)
		return;
	path = g_build_filename(fx->tmpdir, "oscd.conf", NULL);
	args[1] = path;
	config_file_path = path;
	/* everything from the file */
	fixture_setenv(fx, "OSC_HOST", NULL);
	fixture_setenv(fx, "OSC_DATABASE_PATH", NULL);
	fixture_setenv(fx, "OSC_SALT_FILE_PATH", NULL);
	fixture_setenv(fx, "OSC_PBKDF2_ITERATIONS", NULL);
	fixture_setenv(fx, "OSC_LOG_FORMAT", NULL);
	daemon_start_full(fx, args, prepare_file_port);
	g_assert_true(g_file_test(fx->db_path, G_FILE_TEST_EXISTS));
	daemon_stop(fx);

	/* the environment wins over the file */
	daemon_start_full(fx, args, prepare_file_and_env_port);
	g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error);
	g_assert_no_error(error);
	file_port = (guint)g_key_file_get_integer(kf, "oscd", "host_port", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(file_port, !=, fx->port);
	g_assert_cmpuint(probe_health(fx, file_port), ==, 0);
	daemon_stop(fx);

	/* an unknown key is an error, not a silently ignored typo */
	config_file_write(fx, path, pick_free_port(), "no_such_setting");
	assert_start_fails(fx, args, "no_such_setting");
	config_file_path = NULL;
}

/* ---- signals and shutdown ---- */

/* index of the first line of @text containing all of @needles, or -1 */
static gint
find_line(const gchar *text, const gchar *const *needles)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		gboolean all = TRUE;

		for (guint j = 0; needles[j] != NULL && all; j++)
			all = strstr(lines[i], needles[j]) != NULL;
		if (all)
			return (gint)i;
	}
	return -1;
}

static void
use_real_iterations(Fixture *fx)
{
	/* the default 480000 (≈0.1–0.3 s per new key); a tenth under AddressSanitizer, where
	 * the full count takes ~20 s (osc_test_is_sanitized()) */
	fixture_setenv(fx, "OSC_PBKDF2_ITERATIONS", osc_test_is_sanitized() ? "48000" : NULL);
}

static void
test_graceful_shutdown(Fixture *fx, gconstpointer data)
{
	g_autoptr(GSocketConnection) conn = NULL;
	g_autofree gchar *request = raw_create_request(USER_KEY, "slow", "drained");
	g_autofree gchar *reply = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *body = NULL;
	g_autoptr(JsonNode) entry = NULL;
	const gchar *const shutdown_line[] = {"shutting down", NULL};
	const gchar *const access_line[] = {"/configs", "201", NULL};
	gint64 start;
	gint shutdown_at, answered_at;

	if (fx->tmpdir == NULL)
		return;
	use_real_iterations(fx);
	daemon_start(fx);

	/* the first request with a new key derives it: slow enough to be in flight */
	conn = raw_connect_accepted(fx->port);
	raw_write(conn, request);
	g_usleep(40 * 1000);
	start = g_get_monotonic_time();
	daemon_signal(fx, SIGTERM);

	if (raw_read_response(conn, &reply) != 201) {
		daemon_wait_exit(fx, EXIT_TIMEOUT_MS);
		daemon_dump_output(fx);
		g_test_fail_printf("the request in flight at SIGTERM got no 201 but \"%s\"", reply);
		return;
	}
	g_assert_true(daemon_wait_exit(fx, EXIT_TIMEOUT_MS));
	g_assert_cmpint(daemon_exit_status(fx), ==, 0);
	g_assert_cmpint(g_get_monotonic_time() - start, <, (gint64)EXIT_TIMEOUT_MS * 1000);
	assert_wal_checkpointed(fx);

	/* the premise: the signal came before the answer */
	out = daemon_stdout(fx);
	shutdown_at = find_line(out, shutdown_line);
	answered_at = find_line(out, access_line);
	g_assert_cmpint(shutdown_at, >=, 0);
	g_assert_cmpint(answered_at, >, shutdown_at);

	/* and it was committed */
	daemon_start(fx);
	g_assert_cmpuint(http_sync(fx, "GET", "/configs/slow?environment=production", NULL, &body,
				   "X-User-Key", USER_KEY, NULL),
			 ==, 200);
	entry = parse_json(body);
	g_assert_cmpstr(json_string(entry, "value"), ==, "drained");
	daemon_stop(fx);
}

static void
test_second_signal(Fixture *fx, gconstpointer data)
{
	/* many first requests, each with its own key, derived one at a time: seconds of work */
	const guint n = 40;
	g_autoptr(GPtrArray) conns = g_ptr_array_new_with_free_func(g_object_unref);
	gint64 start;

	if (fx->tmpdir == NULL)
		return;
	use_real_iterations(fx);
	fixture_setenv(fx, "OSC_WORKERS", "1");
	daemon_start(fx);

	for (guint i = 0; i < n; i++)
		g_ptr_array_add(conns, raw_connect_accepted(fx->port));
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *user_key = g_strdup_printf("second-signal-key-%03u", i);
		g_autofree gchar *key = g_strdup_printf("k%03u", i);
		g_autofree gchar *request = raw_create_request(user_key, key, "v");

		raw_write(g_ptr_array_index(conns, i), request);
	}
	g_usleep(40 * 1000);
	daemon_signal(fx, SIGTERM);
	g_usleep(200 * 1000);
	/* still draining */
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_false(fx->exited);

	start = g_get_monotonic_time();
	daemon_signal(fx, SIGTERM);
	if (!daemon_wait_exit(fx, 2000)) {
		daemon_dump_output(fx);
		g_error("oscd did not exit within 2 s of a second SIGTERM");
	}
	g_test_message("exited %.3f s after the second signal, status %d",
		       (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC,
		       daemon_exit_status(fx));
	/* an exit, not a crash */
	g_assert_true(g_subprocess_get_if_exited(fx->proc));
}

static void
test_sigint(Fixture *fx, gconstpointer data)
{
	if (fx->tmpdir == NULL)
		return;
	daemon_start(fx);
	g_assert_cmpuint(http_sync(fx, "POST", "/configs",
				   "{\"key\":\"a\",\"value\":1,\"environment\":\"e\"}", NULL,
				   "X-User-Key", USER_KEY, NULL),
			 ==, 201);
	daemon_signal(fx, SIGINT);
	g_assert_true(daemon_wait_exit(fx, EXIT_TIMEOUT_MS));
	g_assert_cmpint(daemon_exit_status(fx), ==, 0);
	assert_wal_checkpointed(fx);
}

static void
test_sse_shutdown(Fixture *fx, gconstpointer data)
{
	g_autoptr(GSocketConnection) conn = NULL;
	g_autoptr(GString) stream = g_string_new(NULL);
	GInputStream *in;

	if (fx->tmpdir == NULL)
		return;
	daemon_start(fx);
	conn = raw_connect(fx->port);
	raw_write(conn, "GET /sse/subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			"Accept: text/event-stream\r\n\r\n");
	in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
	while (strstr(stream->str, "event: connected") == NULL) {
		gchar chunk[4096];
		g_autoptr(GError) error = NULL;
		gssize n = g_input_stream_read(in, chunk, sizeof(chunk), NULL, &error);

		g_assert_no_error(error);
		g_assert_cmpint(n, >, 0);
		g_string_append_len(stream, chunk, n);
	}
	g_assert_true(g_str_has_prefix(stream->str, "HTTP/1.1 200"));

	daemon_signal(fx, SIGTERM);
	/* the stream ends, cleanly */
	g_assert_true(raw_read_to_eof(conn, stream));
	g_assert_true(daemon_wait_exit(fx, EXIT_TIMEOUT_MS));
	g_assert_cmpint(daemon_exit_status(fx), ==, 0);
}

/* ---- API key ---- */

static void
test_api_key(Fixture *fx, gconstpointer data)
{
	const gchar *api_key = "oscd-test-api-key-0123456789";
	g_autofree gchar *body = NULL;
	g_autoptr(JsonNode) detail = NULL;

	if (fx->tmpdir == NULL)
		return;
	fixture_setenv(fx, "OSC_API_KEY_REQUIRED", "true");
	fixture_setenv(fx, "OSC_API_KEY", api_key);
	daemon_start(fx); /* /health answered without a key already */

	g_assert_cmpuint(
		http_sync(fx, "GET", "/configs", NULL, &body, "X-User-Key", USER_KEY, NULL), ==,
		403);
	detail = parse_json(body);
	g_assert_cmpstr(json_string(detail, "detail"), ==,
			"API key required but missing. Provide X-API-Key header.");
	g_assert_cmpuint(http_sync(fx, "GET", "/configs", NULL, NULL, "X-User-Key", USER_KEY,
				   "X-API-Key", "wrong-api-key-0123456789", NULL),
			 ==, 403);
	g_assert_cmpuint(http_sync(fx, "GET", "/configs", NULL, NULL, "X-User-Key", USER_KEY,
				   "X-API-Key", api_key, NULL),
			 ==, 200);
	g_assert_cmpuint(http_sync(fx, "GET", "/stats/operations", NULL, NULL, NULL), ==, 403);
	g_assert_cmpuint(http_sync(fx, "GET", "/sse/stats", NULL, NULL, NULL), ==, 403);
	/* the open routes stay open */
	g_assert_cmpuint(http_sync(fx, "GET", "/health", NULL, NULL, NULL), ==, 200);
	g_assert_cmpuint(http_sync(fx, "GET", "/sse/health", NULL, NULL, NULL), ==, 200);
	g_assert_cmpuint(http_sync(fx, "GET", "/cluster/health", NULL, NULL, NULL), ==, 200);
	daemon_stop(fx);
}

/* ---- data survives a restart ---- */

static void
test_restart(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *body = NULL;
	g_autofree gchar *salt_before = NULL;
	g_autofree gchar *salt_after = NULL;
	g_autofree gchar *out = NULL;
	gsize salt_len = 0, salt_len_after = 0;
	g_autoptr(JsonNode) entry = NULL;
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(GError) error = NULL;

	if (fx->tmpdir == NULL)
		return;
	daemon_start(fx);
	g_assert_cmpuint(
		http_sync(fx, "POST", "/configs",
			  "{\"key\":\"database\",\"value\":{\"host\":\"db\",\"port\":5432},"
			  "\"environment\":\"production\",\"category\":\"config\"}",
			  NULL, "X-User-Key", USER_KEY, NULL),
		==, 201);
	daemon_stop(fx);
	assert_wal_checkpointed(fx);
	g_file_get_contents(fx->salt_path, &salt_before, &salt_len, &error);
	g_assert_no_error(error);

	daemon_start(fx);
	out = daemon_stdout(fx);
	/* the banner counts what it found, and the salt was loaded, not created */
	g_assert_nonnull(strstr(out, "entries:     1"));
	g_assert_null(strstr(out, "(created)"));
	g_assert_cmpuint(http_sync(fx, "GET", "/configs/database?environment=production", NULL,
				   &body, "X-User-Key", USER_KEY, NULL),
			 ==, 200);
	entry = parse_json(body);
	g_assert_nonnull(entry);
	g_assert_cmpstr(json_string(entry, "category"), ==, "config");
	g_assert_cmpint(json_object_get_int_member(
				json_object_get_object_member(json_node_get_object(entry), "value"),
				"port"),
			==, 5432);
	g_clear_pointer(&body, g_free);
	g_assert_cmpuint(
		http_sync(fx, "GET", "/configs", NULL, &body, "X-User-Key", USER_KEY, NULL), ==,
		200);
	list = parse_json(body);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(list));
	g_assert_cmpuint(json_array_get_length(json_node_get_array(list)), ==, 1);
	daemon_stop(fx);

	g_file_get_contents(fx->salt_path, &salt_after, &salt_len_after, &error);
	g_assert_no_error(error);
	g_assert_cmpmem(salt_before, salt_len, salt_after, salt_len_after);
}

/* ---- POST /cluster/salt on a node whose salt file went missing ---- */

static guint
post_salt(Fixture *fx, const guint8 *salt, gsize len, gchar **out)
{
	g_autofree gchar *url = fixture_url(fx, fx->port, "/cluster/salt");
	g_autoptr(SoupMessage) msg = soup_message_new("POST", url);
	g_autoptr(GBytes) body = g_bytes_new(salt, len);
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;

	soup_message_set_request_body_from_bytes(msg, "application/octet-stream", body);
	reply = soup_session_send_and_read(fx->session, msg, NULL, &error);
	g_assert_no_error(error);
	*out = g_strndup(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply));
	return soup_message_get_status(msg);
}

static void
test_cluster_salt_saved(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *salt = NULL;
	g_autofree gchar *saved = NULL;
	g_autofree gchar *body = NULL;
	g_autofree gchar *out = NULL;
	gsize salt_len = 0, saved_len = 0;
	guint8 other[64];
	g_autoptr(JsonNode) reply = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *const logged_error[] = {"\"level\":\"error\"", NULL};
	const gchar *const logged_critical[] = {"\"level\":\"critical\"", NULL};
	guint status;

	if (fx->tmpdir == NULL)
		return;
	daemon_start(fx);
	g_assert_cmpuint(http_sync(fx, "POST", "/configs",
				   "{\"key\":\"kept\",\"value\":\"v\",\"environment\":\"e\"}", NULL,
				   "X-User-Key", USER_KEY, NULL),
			 ==, 201);
	g_file_get_contents(fx->salt_path, &salt, &salt_len, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(salt_len, ==, 64);
	/* the file goes missing under the running node */
	g_assert_cmpint(g_unlink(fx->salt_path), ==, 0);

	/* another size is refused and nothing is written */
	g_assert_cmpuint(post_salt(fx, (const guint8 *)salt, 16, &body), ==, 400);
	reply = parse_json(body);
	g_assert_cmpstr(json_string(reply, "detail"), ==,
			"Invalid salt size: 16 bytes (expected 64)");
	g_assert_false(g_file_test(fx->salt_path, G_FILE_TEST_EXISTS));

	/* so is a salt other than the one the node runs with: its data is encrypted under that */
	memcpy(other, salt, sizeof(other));
	other[0] ^= 0xff;
	g_clear_pointer(&body, g_free);
	g_assert_cmpuint(post_salt(fx, other, sizeof(other), &body), ==, 409);
	g_assert_false(g_file_test(fx->salt_path, G_FILE_TEST_EXISTS));

	/* its own salt is written back, privately */
	g_clear_pointer(&body, g_free);
	g_clear_pointer(&reply, json_node_unref);
	status = post_salt(fx, (const guint8 *)salt, salt_len, &body);
	if (status != 200) {
		g_test_fail_printf("the node's own salt offered to it without a salt file: %u %s",
				   status, body);
		return;
	}
	reply = parse_json(body);
	g_assert_cmpstr(json_string(reply, "status"), ==, "created");
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(reply), "size_bytes"), ==,
			64);
	g_file_get_contents(fx->salt_path, &saved, &saved_len, &error);
	g_assert_no_error(error);
	g_assert_cmpmem(saved, saved_len, salt, salt_len);
	g_assert_cmpuint(file_mode(fx->salt_path), ==, 0600);

	/* from now on it is there: the same again is fine, another one a conflict */
	g_clear_pointer(&body, g_free);
	g_clear_pointer(&reply, json_node_unref);
	g_assert_cmpuint(post_salt(fx, (const guint8 *)salt, salt_len, &body), ==, 200);
	reply = parse_json(body);
	g_assert_cmpstr(json_string(reply, "status"), ==, "ok");
	g_clear_pointer(&body, g_free);
	g_assert_cmpuint(post_salt(fx, other, sizeof(other), &body), ==, 409);
	daemon_stop(fx);

	/* the daemon logged no error doing it */
	out = daemon_stdout(fx);
	g_assert_cmpint(find_line(out, logged_error), ==, -1);
	g_assert_cmpint(find_line(out, logged_critical), ==, -1);

	/* and the next start opens what was written before */
	daemon_start(fx);
	g_assert_cmpuint(http_sync(fx, "GET", "/configs/kept?environment=e", NULL, NULL,
				   "X-User-Key", USER_KEY, NULL),
			 ==, 200);
	daemon_stop(fx);
}

/* ---- HTTPS with the default, relative certificate paths ---- */

static void openssl_run(Fixture *fx, const gchar *first, ...) G_GNUC_NULL_TERMINATED;

static void
openssl_run(Fixture *fx, const gchar *first, ...)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *output = NULL;
	va_list args;

	g_ptr_array_add(argv, (gpointer) "openssl");
	va_start(args, first);
	for (const gchar *a = first; a != NULL; a = va_arg(args, const gchar *))
		g_ptr_array_add(argv, (gpointer)a);
	va_end(args);
	g_ptr_array_add(argv, NULL);
	g_subprocess_launcher_set_cwd(launcher, fx->tmpdir);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &output, NULL, &error);
	g_assert_no_error(error);
	if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0)
		g_error("openssl %s failed:\n%s", first, output);
}

/* @name.pem + @name.key, issued by ca.pem (a server certificate for 127.0.0.1, or a client's) */
static void
make_issued(Fixture *fx, const gchar *name, const gchar *key, gboolean server)
{
	g_autofree gchar *crt = g_strconcat(name, ".pem", NULL);
	g_autofree gchar *csr = g_strconcat(name, ".csr", NULL);
	g_autofree gchar *ext = g_strconcat(name, ".ext", NULL);
	g_autofree gchar *ext_path = g_build_filename(fx->tmpdir, ext, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(ext_path,
			    server ? "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n"
				   : "extendedKeyUsage=clientAuth\n",
			    -1, &error);
	g_assert_no_error(error);
	openssl_run(fx, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		    "-nodes", "-keyout", key, "-out", csr, "-subj",
		    server ? "/CN=127.0.0.1" : "/CN=oscd-test-client", NULL);
	openssl_run(fx, "x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key",
		    "-set_serial", server ? "2" : "3", "-days", "2", "-extfile", ext, "-out", crt,
		    NULL);
}

static void
test_https_relative_paths(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *openssl = g_find_program_in_path("openssl");
	g_autofree gchar *ca_path = NULL;
	g_autofree gchar *client_crt = NULL;
	g_autofree gchar *client_key = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *out = NULL;
	g_autoptr(GTlsDatabase) db = NULL;
	g_autoptr(GTlsCertificate) client = NULL;
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *const warning[] = {"\"level\":\"warning\"", NULL};

	if (fx->tmpdir == NULL)
		return;
	if (openssl == NULL || !g_tls_backend_supports_tls(g_tls_backend_get_default())) {
		g_test_skip("no openssl command or no TLS backend");
		return;
	}
	/* a CA, the server's certificate at the default ./cert.pem + ./key.pem, a client's */
	openssl_run(fx, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		    "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
		    "/CN=oscd test CA", "-addext", "basicConstraints=critical,CA:TRUE", NULL);
	make_issued(fx, "cert", "key.pem", TRUE);
	make_issued(fx, "client", "client.key", FALSE);

	/* every path relative to the daemon's working directory, as an operator writes them */
	fixture_setenv(fx, "OSC_HTTPS_ENABLED", "true");
	fixture_setenv(fx, "OSC_SSL_CA_CERTS", "ca.pem");
	fixture_setenv(fx, "OSC_DATABASE_PATH", "data/osc/configurations.db");
	fixture_setenv(fx, "OSC_SALT_FILE_PATH", "data/osc/encryption.salt");
	fx->https = TRUE;
	daemon_start(fx);

	ca_path = g_build_filename(fx->tmpdir, "ca.pem", NULL);
	db = g_tls_file_database_new(ca_path, &error);
	g_assert_no_error(error);
	client_crt = g_build_filename(fx->tmpdir, "client.pem", NULL);
	client_key = g_build_filename(fx->tmpdir, "client.key", NULL);
	client = g_tls_certificate_new_from_files(client_crt, client_key, &error);
	g_assert_no_error(error);
	session = soup_session_new_with_options("timeout", 30, "tls-database", db, NULL);
	url = g_strdup_printf("https://127.0.0.1:%u/health", fx->port);
	msg = soup_message_new("GET", url);
	soup_message_set_tls_client_certificate(msg, client);
	reply = soup_session_send_and_read(session, msg, NULL, &error);
	soup_session_abort(session);
	daemon_stop(fx);
	out = daemon_stdout(fx);
	if (reply == NULL || soup_message_get_status(msg) != 200 || find_line(out, warning) >= 0) {
		g_test_message("stdout:\n%s", out);
		g_test_fail_printf(
			"HTTPS with relative OSC_SSL_* paths and a client certificate: "
			"%s, status %u%s",
			error != NULL ? error->message : "no error", soup_message_get_status(msg),
			find_line(out, warning) >= 0 ? ", and a warning was logged" : "");
		return;
	}
	g_assert_true(g_file_test(fx->db_path, G_FILE_TEST_EXISTS));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/osc/oscd/version", test_version);
	ADD("/osc/oscd/help", test_help);
	ADD("/osc/oscd/unknown-option", test_unknown_option);
	ADD("/osc/oscd/startup", test_startup);
	ADD("/osc/oscd/fd-limit", test_fd_limit);
	ADD("/osc/oscd/logs/json", test_json_logs);
	ADD("/osc/oscd/logs/file", test_log_file);
	ADD("/osc/oscd/logs/console", test_console_logs);
	ADD("/osc/oscd/config-error/port", test_bad_port);
	ADD("/osc/oscd/config-error/default-api-key", test_default_api_key);
	ADD("/osc/oscd/config-error/cluster", test_cluster_refused);
	ADD("/osc/oscd/config-error/salt-unreadable", test_salt_unreadable);
	ADD("/osc/oscd/config-error/salt-empty", test_salt_empty);
	ADD("/osc/oscd/config-error/salt-group-readable", test_salt_group_readable);
	ADD("/osc/oscd/config-error/port-in-use", test_port_in_use);
	ADD("/osc/oscd/config-file", test_config_file);
	ADD("/osc/oscd/shutdown/graceful", test_graceful_shutdown);
	ADD("/osc/oscd/shutdown/second-signal", test_second_signal);
	ADD("/osc/oscd/shutdown/sigint", test_sigint);
	ADD("/osc/oscd/shutdown/sse", test_sse_shutdown);
	ADD("/osc/oscd/api-key", test_api_key);
	ADD("/osc/oscd/restart", test_restart);
	ADD("/osc/oscd/cluster-salt-saved", test_cluster_salt_saved);
	ADD("/osc/oscd/https-relative-paths", test_https_relative_paths);
#undef ADD

	return g_test_run();
}
