/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib/gstdio.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

#include "osc-test-utils.h"

/* a fresh private directory under the per-test temporary dir (G_TEST_OPTION_ISOLATE_DIRS) */
gchar *
osc_test_make_tmpdir(void)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp("osc-test-XXXXXX", &error);

	g_assert_no_error(error);
	g_assert_nonnull(dir);
	return dir;
}

void
osc_test_rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = NULL;
	const gchar *name;

	if (path == NULL)
		return;
	if (!g_file_test(path, G_FILE_TEST_IS_DIR) || g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
		g_unlink(path);
		return;
	}
	dir = g_dir_open(path, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		osc_test_rm_rf(child);
	}
	g_rmdir(path);
}

/* files under tests/data, found through G_TEST_SRCDIR as meson sets it */
gchar *
osc_test_data_path(const gchar *name)
{
	return g_test_build_filename(G_TEST_DIST, "data", name, NULL);
}

GBytes *
osc_test_hex_to_bytes(const gchar *hex)
{
	GByteArray *buf = g_byte_array_new();

	for (const gchar *p = hex; *p != '\0';) {
		gint hi, lo;
		guint8 b;

		if (g_ascii_isspace(*p)) {
			p++;
			continue;
		}
		hi = g_ascii_xdigit_value(p[0]);
		lo = g_ascii_xdigit_value(p[1]);
		g_assert_cmpint(hi, >=, 0);
		g_assert_cmpint(lo, >=, 0);
		b = (guint8)(hi << 4 | lo);
		g_byte_array_append(buf, &b, 1);
		p += 2;
	}
	return g_byte_array_free_to_bytes(buf);
}

void
osc_test_response_free(OscTestResponse *resp)
{
	if (resp == NULL)
		return;
	g_free(resp->body);
	g_clear_pointer(&resp->headers, soup_message_headers_unref);
	g_clear_pointer(&resp->json, json_node_unref);
	g_free(resp);
}

/* a configuration for an in-process service: loopback port 0, files under @tmpdir, cheap
 * PBKDF2 (the iteration count is store metadata, so tests may use fewer) */
OscConfig *
osc_test_config_new(const gchar *tmpdir)
{
	OscConfig *config = osc_config_new();

	g_free(config->database_path);
	config->database_path = g_build_filename(tmpdir, "configurations.db", NULL);
	g_free(config->salt_file_path);
	config->salt_file_path = g_build_filename(tmpdir, "encryption.salt", NULL);
	config->port = 0;
	config->workers = 2;
	config->pbkdf2_iterations = 1000;
	/* the suites fail authentication on purpose, all from 127.0.0.1; test-http-limits
	 * turns the limiter back on */
	config->auth_fail_limit = 0;
	return config;
}

OscService *
osc_test_service_new(const OscConfig *config)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscService) service = osc_service_new(config, &error);

	g_assert_no_error(error);
	g_assert_nonnull(service);
	osc_service_start(service, &error);
	g_assert_no_error(error);
	return g_steal_pointer(&service);
}

gchar *
osc_test_service_base_url(OscService *service)
{
	g_autoptr(GPtrArray) uris = osc_service_get_uris(service);
	g_autofree gchar *uri = NULL;
	gsize len;

	g_assert_cmpuint(uris->len, >, 0);
	uri = g_uri_to_string(g_ptr_array_index(uris, 0));
	len = strlen(uri);
	if (len > 0 && uri[len - 1] == '/')
		uri[len - 1] = '\0';
	return g_steal_pointer(&uri);
}

SoupSession *
osc_test_session_new(void)
{
	return soup_session_new_with_options("timeout", 30, "max-conns-per-host", 512, "max-conns",
					     1024, NULL);
}

typedef struct {
	GMainLoop *loop;
	GBytes *bytes;
	GError *error;
} HttpWait;

static void
osc_test_http_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	HttpWait *wait = user_data;

	wait->bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &wait->error);
	g_main_loop_quit(wait->loop);
}

/*
 * Sends a request and spins the thread-default main context until the answer is in, so
 * that an in-process server on the same context keeps serving meanwhile.
 * @headers: NULL-terminated name, value, name, value, … list.
 */
OscTestResponse *
osc_test_http_full(SoupSession *session,
		   const gchar *method,
		   const gchar *url,
		   const gchar *content_type,
		   GBytes *body,
		   const gchar *const *headers)
{
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	HttpWait wait = {0};
	OscTestResponse *resp;
	gsize len = 0;
	const gchar *data;

	g_assert_nonnull(msg);
	for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
		soup_message_headers_append(soup_message_get_request_headers(msg), headers[i],
					    headers[i + 1]);
	if (body != NULL)
		soup_message_set_request_body_from_bytes(msg, content_type, body);
	wait.loop = g_main_loop_new(NULL, FALSE);
	soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, osc_test_http_cb,
					 &wait);
	g_main_loop_run(wait.loop);
	g_main_loop_unref(wait.loop);
	g_assert_no_error(wait.error);

	resp = g_new0(OscTestResponse, 1);
	resp->status = soup_message_get_status(msg);
	data = g_bytes_get_data(wait.bytes, &len);
	resp->body = g_strndup(data, len);
	resp->len = len;
	resp->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	g_bytes_unref(wait.bytes);
	if (len > 0) {
		g_autoptr(JsonParser) parser = json_parser_new();
		if (json_parser_load_from_data(parser, resp->body, (gssize)len, NULL))
			resp->json = json_node_ref(json_parser_get_root(parser));
	}
	return resp;
}

OscTestResponse *
osc_test_http(SoupSession *session,
	      const gchar *method,
	      const gchar *url,
	      const gchar *body,
	      const gchar *first_header,
	      ...)
{
	g_autoptr(GPtrArray) headers = g_ptr_array_new();
	g_autoptr(GBytes) bytes = body != NULL ? g_bytes_new(body, strlen(body)) : NULL;
	va_list args;

	va_start(args, first_header);
	for (const gchar *h = first_header; h != NULL; h = va_arg(args, const gchar *))
		g_ptr_array_add(headers, (gpointer)h);
	va_end(args);
	g_ptr_array_add(headers, NULL);
	return osc_test_http_full(session, method, url, "application/json", bytes,
				  (const gchar *const *)headers->pdata);
}

/* the string `detail` of an error body, or NULL */
const gchar *
osc_test_json_detail(OscTestResponse *resp)
{
	JsonObject *obj;

	if (resp->json == NULL || !JSON_NODE_HOLDS_OBJECT(resp->json))
		return NULL;
	obj = json_node_get_object(resp->json);
	if (!json_object_has_member(obj, "detail"))
		return NULL;
	if (!JSON_NODE_HOLDS_VALUE(json_object_get_member(obj, "detail")))
		return NULL;
	return json_object_get_string_member(obj, "detail");
}

static gboolean
osc_test_timeout_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* spins the default context until @predicate holds; fails the test after @timeout_ms */
void
osc_test_wait_until(gboolean (*predicate)(gpointer), gpointer data, guint timeout_ms)
{
	gboolean timed_out = FALSE;
	guint id = g_timeout_add(timeout_ms, osc_test_timeout_cb, &timed_out);

	while (!predicate(data) && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (!timed_out)
		g_source_remove(id);
	g_assert_false(timed_out);
}

/*
 * OpenSSL 3.0's PBKDF2 allocates in every iteration, and under AddressSanitizer (with the full
 * malloc stack unwinding CI uses) 480000 iterations take about 20 s instead of 0.1 s: tests use
 * this to scale iteration counts down, or to skip only the full-strength derivation. Under
 * valgrind (CI runs the unit suite there too) it is as slow, so that counts as well; the
 * normal build still runs everything at full strength.
 */
gboolean
osc_test_is_sanitized(void)
{
#if __has_include(<valgrind/valgrind.h>)
	if (RUNNING_ON_VALGRIND)
		return TRUE;
#endif
#if defined(__SANITIZE_ADDRESS__)
	return TRUE;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return TRUE;
#else
	return FALSE;
#endif
#else
	return FALSE;
#endif
}

/* ---- helpers for the HTTP suites (test-http*.c) ---- */

static OscTestResponse *
osc_test_response_new(SoupMessage *msg, GBytes *bytes)
{
	OscTestResponse *resp = g_new0(OscTestResponse, 1);
	gsize len = 0;
	const gchar *data = bytes != NULL ? g_bytes_get_data(bytes, &len) : NULL;

	resp->status = soup_message_get_status(msg);
	/* binary-safe (a salt may hold NUL bytes), and NUL-terminated for string use */
	resp->body = g_malloc(len + 1);
	if (len > 0)
		memcpy(resp->body, data, len);
	resp->body[len] = '\0';
	resp->len = len;
	resp->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
	if (len > 0) {
		g_autoptr(JsonParser) parser = json_parser_new();
		if (json_parser_load_from_data(parser, resp->body, (gssize)len, NULL))
			resp->json = json_node_ref(json_parser_get_root(parser));
	}
	return resp;
}

/*
 * Sends a message the caller prepared (flags, body stream, headers) and spins the default
 * context until the whole answer is in.
 */
OscTestResponse *
osc_test_http_send(SoupSession *session, SoupMessage *msg)
{
	HttpWait wait = {0};
	OscTestResponse *resp;

	wait.loop = g_main_loop_new(NULL, FALSE);
	soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, osc_test_http_cb,
					 &wait);
	g_main_loop_run(wait.loop);
	g_main_loop_unref(wait.loop);
	g_assert_no_error(wait.error);
	resp = osc_test_response_new(msg, wait.bytes);
	g_clear_pointer(&wait.bytes, g_bytes_unref);
	return resp;
}

typedef struct {
	GPtrArray *msgs;
	GPtrArray *responses;
	guint pending;
	GError *error;
} ParallelWait;

typedef struct {
	ParallelWait *wait;
	guint index;
} ParallelItem;

static void
osc_test_parallel_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	ParallelItem *item = user_data;
	ParallelWait *wait = item->wait;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes =
	    soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);

	if (bytes == NULL && wait->error == NULL)
		wait->error = g_steal_pointer(&error);
	g_ptr_array_index(wait->responses, item->index) =
	    osc_test_response_new(g_ptr_array_index(wait->msgs, item->index), bytes);
	wait->pending--;
	g_free(item);
	g_main_context_wakeup(NULL);
}

/*
 * Queues every message of @msgs on @session before the main context runs once, so that
 * the server sees them as concurrently as one process can make them, then spins until
 * all are answered. Returns the responses in the order of @msgs.
 */
GPtrArray *
osc_test_http_parallel(SoupSession *session, GPtrArray *msgs)
{
	ParallelWait wait = {0};

	wait.msgs = msgs;
	wait.responses = g_ptr_array_new_full(msgs->len, (GDestroyNotify)osc_test_response_free);
	g_ptr_array_set_size(wait.responses, (gint)msgs->len);
	wait.pending = msgs->len;
	for (guint i = 0; i < msgs->len; i++) {
		ParallelItem *item = g_new0(ParallelItem, 1);
		item->wait = &wait;
		item->index = i;
		soup_session_send_and_read_async(session, g_ptr_array_index(msgs, i),
						 G_PRIORITY_DEFAULT, NULL, osc_test_parallel_cb,
						 item);
	}
	while (wait.pending > 0)
		g_main_context_iteration(NULL, TRUE);
	g_assert_no_error(wait.error);
	return wait.responses;
}

/* ---- raw bytes over a socket, for requests no HTTP client would send ---- */

typedef struct {
	GSocketConnection *conn;
	GByteArray *reply;
	GBytes *request;
	guint8 buf[16384];
	gboolean done;
	gboolean closed;
	gboolean timed_out;
	gboolean write_done;
	gboolean write_failed;
} RawWait;

static void
osc_test_raw_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	RawWait *wait = user_data;
	g_autoptr(GError) error = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);

	if (n > 0) {
		g_byte_array_append(wait->reply, wait->buf, (guint)n);
		if (!wait->timed_out) {
			g_input_stream_read_async(G_INPUT_STREAM(source), wait->buf,
						  sizeof(wait->buf), G_PRIORITY_DEFAULT, NULL,
						  osc_test_raw_read_cb, wait);
			return;
		}
	} else {
		/* EOF, or a reset after the server closed on unread input: closed either way */
		wait->closed = !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	}
	wait->done = TRUE;
	g_main_context_wakeup(NULL);
}

static void
osc_test_raw_write_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	RawWait *wait = user_data;
	g_autoptr(GError) error = NULL;

	/* the server may answer and close before it has read everything: still read */
	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, &error))
		wait->write_failed = TRUE;
	wait->write_done = TRUE;
	g_main_context_wakeup(NULL);
}

static gboolean
osc_test_raw_timeout_cb(gpointer user_data)
{
	RawWait *wait = user_data;

	wait->timed_out = TRUE;
	g_main_context_wakeup(NULL);
	return G_SOURCE_REMOVE;
}

/**
 * osc_test_raw_http:
 * @port: the server's loopback port
 * @request: the bytes to send, verbatim
 * @len: their length, or -1 for a string
 * @timeout_ms: how long to wait for the server to close the connection
 * @closed: (out) (optional): whether the server closed the connection in time
 *
 * Opens a fresh TCP connection, writes @request, and collects what comes back until the
 * server closes the connection or @timeout_ms pass, spinning the default context meanwhile
 * so that an in-process server keeps serving.
 *
 * Returns: (transfer full): the bytes received, NUL-terminated (possibly empty)
 */
gchar *
osc_test_raw_http(guint port, const gchar *request, gssize len, guint timeout_ms, gboolean *closed)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) conn = NULL;
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	RawWait wait = {0};
	guint timeout_id;
	gsize size = len < 0 ? strlen(request) : (gsize)len;

	/* a local connect completes at once; the blocking call does not starve the server */
	conn = g_socket_client_connect_to_host(client, "127.0.0.1", (guint16)port, NULL, &error);
	g_assert_no_error(error);
	wait.reply = g_byte_array_new();
	wait.request = g_bytes_new(request, size);
	timeout_id = g_timeout_add(timeout_ms, osc_test_raw_timeout_cb, &wait);
	g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
					g_bytes_get_data(wait.request, NULL), size,
					G_PRIORITY_DEFAULT, cancel, osc_test_raw_write_cb, &wait);
	g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(conn)), wait.buf,
				  sizeof(wait.buf), G_PRIORITY_DEFAULT, cancel, osc_test_raw_read_cb,
				  &wait);
	while (!wait.done && !wait.timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (!wait.timed_out)
		g_source_remove(timeout_id);
	/* both operations hold @wait: let them finish (cancelled) before it goes away */
	if (!wait.done || !wait.write_done) {
		g_cancellable_cancel(cancel);
		while (!wait.done || !wait.write_done)
			g_main_context_iteration(NULL, TRUE);
	}
	g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
	if (closed != NULL)
		*closed = wait.closed;
	g_bytes_unref(wait.request);
	g_byte_array_append(wait.reply, (const guint8 *)"", 1);
	return (gchar *)g_byte_array_free(wait.reply, FALSE);
}

/* the status code of a raw HTTP/1.x reply, or 0 when it does not start with a status line */
guint
osc_test_raw_status(const gchar *reply)
{
	const gchar *eol = reply != NULL ? strstr(reply, "\r\n") : NULL;
	g_autofree gchar *line = eol != NULL ? g_strndup(reply, eol - reply) : NULL;
	guint status = 0;

	if (line == NULL || !soup_headers_parse_status_line(line, NULL, &status, NULL))
		return 0;
	return status;
}

/*
 * Copies the original server's database and salt (tests/data/original-v0.*) into @tmpdir
 * and points @config at the copies.
 */
void
osc_test_use_original_db(OscConfig *config, const gchar *tmpdir)
{
	static const struct {
		const gchar *name;
		gsize offset;
	} files[] = {
	    {"original-v0.db", G_STRUCT_OFFSET(OscConfig, database_path)},
	    {"original-v0.salt", G_STRUCT_OFFSET(OscConfig, salt_file_path)},
	};

	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree gchar *src = osc_test_data_path(files[i].name);
		g_autofree gchar *contents = NULL;
		gsize len = 0;
		g_autoptr(GError) error = NULL;
		gchar **field = G_STRUCT_MEMBER_P(config, files[i].offset);

		g_file_get_contents(src, &contents, &len, &error);
		g_assert_no_error(error);
		g_free(*field);
		*field = g_build_filename(tmpdir, files[i].name, NULL);
		g_file_set_contents_full(*field, contents, (gssize)len, G_FILE_SET_CONTENTS_NONE,
					 0600, &error);
		g_assert_no_error(error);
	}
}

/*
 * For a test that exposes a known, not yet fixed server bug: reruns the test in a
 * subprocess and marks it failed (without aborting) when the subprocess fails, so that
 * the tests after it still run. Returns TRUE in the subprocess, where the caller runs the
 * test body; FALSE in the parent, which has nothing left to do. Skip before calling it: a
 * subprocess that skips exits with 77, which counts as failed.
 */
gboolean
osc_test_isolate(void)
{
	if (g_test_subprocess())
		return TRUE;
	g_test_trap_subprocess(NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	if (!g_test_trap_has_passed())
		g_test_fail_printf("%s failed in its subprocess (see the assertion above)",
				   g_test_get_path());
	return FALSE;
}

/*
 * g_test_init() with G_TEST_OPTION_ISOLATE_DIRS and --keep-going: a test that fails through
 * osc_test_isolate() is reported without stopping the ones after it. Assertions still abort
 * the program as always.
 */
void
osc_test_init_keep_going(int *argc, char ***argv)
{
	/* lives as long as the program, as argv itself (static: not a leak to LSan) */
	static gchar **args;

	args = g_new0(gchar *, *argc + 2);

	for (int i = 0; i < *argc; i++)
		args[i] = (*argv)[i];
	args[*argc] = (gchar *)"--keep-going";
	*argc += 1;
	*argv = args;
	g_test_init(argc, argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
}

/* the descriptors this process has open now */
guint
osc_test_count_fds(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	guint n = 0;

	g_assert_nonnull(dir);
	while (g_dir_read_name(dir) != NULL)
		n++;
	return n;
}
