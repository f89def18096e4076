/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <libsoup/soup.h>

#include <math.h>

#include "libosc-client.h"
#include "osc-client-private.h"

/*
 * The retry policy against a stub SoupServer that fails a given number of times with a
 * given status (and Retry-After) and then succeeds. The stub runs on its own thread with its
 * own main context, so the blocking calls can be made from the main thread, and the test can
 * check that they never dispatch the main thread's sources.
 */

typedef struct {
	GMutex lock;
	guint fail_left;
	guint status;
	gchar *retry_after;
	gchar *detail_json; /* the error body */
	guint hits;
	gchar *last_method;

	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;
	GCond ready_cond;
	gboolean ready;
	guint port;
	gchar *base;
} Stub;

static void
stub_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
	     gpointer user_data)
{
	Stub *stub = user_data;
	SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);

	g_mutex_lock(&stub->lock);
	stub->hits++;
	g_free(stub->last_method);
	stub->last_method = g_strdup(soup_server_message_get_method(msg));
	if (stub->fail_left > 0) {
		const gchar *body = stub->detail_json != NULL ? stub->detail_json
							      : "{\"detail\":\"stub failure\"}";
		stub->fail_left--;
		if (stub->retry_after != NULL)
			soup_message_headers_replace(h, "Retry-After", stub->retry_after);
		soup_server_message_set_status(msg, stub->status, NULL);
		soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body,
						 strlen(body));
	} else {
		const gchar *body = "{\"service\":\"stub\",\"message\":\"ok\"}";
		soup_server_message_set_status(msg, 200, NULL);
		soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body,
						 strlen(body));
	}
	g_mutex_unlock(&stub->lock);
}

static gpointer
stub_thread(gpointer data)
{
	Stub *stub = data;
	g_autoptr(SoupServer) server = NULL;
	g_autoptr(GError) error = NULL;
	GSList *uris;

	g_main_context_push_thread_default(stub->context);
	server = soup_server_new(NULL, NULL);
	soup_server_add_handler(server, NULL, stub_handler, stub, NULL);
	soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
	g_assert_no_error(error);
	uris = soup_server_get_uris(server);
	g_mutex_lock(&stub->lock);
	stub->port = (guint)g_uri_get_port(uris->data);
	stub->ready = TRUE;
	g_cond_signal(&stub->ready_cond);
	g_mutex_unlock(&stub->lock);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);

	g_main_loop_run(stub->loop);
	soup_server_disconnect(server);
	g_clear_object(&server);
	while (g_main_context_iteration(stub->context, FALSE))
		;
	g_main_context_pop_thread_default(stub->context);
	return NULL;
}

static void
stub_setup(Stub *stub, gconstpointer data)
{
	g_mutex_init(&stub->lock);
	g_cond_init(&stub->ready_cond);
	stub->context = g_main_context_new();
	stub->loop = g_main_loop_new(stub->context, FALSE);
	stub->thread = g_thread_new("stub", stub_thread, stub);
	g_mutex_lock(&stub->lock);
	while (!stub->ready)
		g_cond_wait(&stub->ready_cond, &stub->lock);
	g_mutex_unlock(&stub->lock);
	stub->base = g_strdup_printf("http://127.0.0.1:%u", stub->port);
}

static gboolean
stub_quit_cb(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

static void
stub_teardown(Stub *stub, gconstpointer data)
{
	g_main_context_invoke(stub->context, stub_quit_cb, stub->loop);
	g_thread_join(stub->thread);
	g_main_loop_unref(stub->loop);
	g_main_context_unref(stub->context);
	g_free(stub->retry_after);
	g_free(stub->detail_json);
	g_free(stub->last_method);
	g_free(stub->base);
	g_cond_clear(&stub->ready_cond);
	g_mutex_clear(&stub->lock);
}

static void
stub_program(Stub *stub, guint fails, guint status, const gchar *retry_after)
{
	g_mutex_lock(&stub->lock);
	stub->fail_left = fails;
	stub->status = status;
	g_free(stub->retry_after);
	stub->retry_after = g_strdup(retry_after);
	stub->hits = 0;
	g_mutex_unlock(&stub->lock);
}

static guint
stub_hits(Stub *stub)
{
	guint hits;

	g_mutex_lock(&stub->lock);
	hits = stub->hits;
	g_mutex_unlock(&stub->lock);
	return hits;
}

static OscClient *
client_new(Stub *stub)
{
	return g_object_new(OSC_TYPE_CLIENT, "base-url", stub->base, "user-key",
			    "user-key-alpha-123", "backoff-factor", 0.01, "timeout", 10, NULL);
}

static gboolean
set_flag_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* 503 twice (Retry-After: 0), then 200: the blocking call succeeds after 3 requests and
 * never runs the caller's main context meanwhile */
static void
test_retry_503(Stub *stub, gconstpointer data)
{
	g_autoptr(OscClient) client = client_new(stub);
	g_autoptr(GError) error = NULL;
	gboolean idle_ran = FALSE;
	guint id = g_idle_add(set_flag_cb, &idle_ran);

	stub_program(stub, 2, 503, "0");
	g_assert_true(osc_client_ping(client, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stub_hits(stub), ==, 3);
	g_assert_false(idle_ran);
	g_source_remove(id);
}

static void
test_retry_after(Stub *stub, gconstpointer data)
{
	g_autoptr(OscClient) client = client_new(stub);
	g_autoptr(GError) error = NULL;
	gint64 start = g_get_monotonic_time();
	gint64 elapsed;

	/* a back-off of ~10 ms, but the server asked for 1 s */
	stub_program(stub, 1, 503, "1");
	g_assert_true(osc_client_ping(client, NULL, &error));
	g_assert_no_error(error);
	elapsed = g_get_monotonic_time() - start;
	g_assert_cmpint(elapsed, >=, G_USEC_PER_SEC);
	g_assert_cmpint(elapsed, <, 5 * G_USEC_PER_SEC);
	g_assert_cmpuint(stub_hits(stub), ==, 2);
}

static void
test_retry_statuses(Stub *stub, gconstpointer data)
{
	const guint statuses[] = {429, 500, 502, 503, 504};
	g_autoptr(OscClient) client = client_new(stub);

	for (guint i = 0; i < G_N_ELEMENTS(statuses); i++) {
		g_autoptr(GError) error = NULL;

		stub_program(stub, 1, statuses[i], NULL);
		g_assert_true(osc_client_ping(client, NULL, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(stub_hits(stub), ==, 2);
	}
}

static void
test_retry_exhausted(Stub *stub, gconstpointer data)
{
	g_autoptr(OscClient) client = client_new(stub);
	g_autoptr(GError) error = NULL;

	stub_program(stub, 100, 503, "0");
	g_assert_false(osc_client_ping(client, NULL, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_SERVER);
	g_assert_nonnull(strstr(error->message, "stub failure"));
	g_assert_nonnull(strstr(error->message, "3 retries"));
	g_assert_cmpuint(stub_hits(stub), ==, 4); /* 1 + max-retries */
	g_clear_error(&error);

	osc_client_set_max_retries(client, 0);
	stub_program(stub, 100, 502, NULL);
	g_assert_false(osc_client_ping(client, NULL, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_SERVER);
	g_assert_cmpuint(stub_hits(stub), ==, 1);
	g_clear_error(&error);

	osc_client_set_max_retries(client, 3);
	osc_client_set_retry_enabled(client, FALSE);
	stub_program(stub, 100, 503, NULL);
	g_assert_false(osc_client_ping(client, NULL, &error));
	g_assert_cmpuint(stub_hits(stub), ==, 1);
}

/* 4xx answers are final */
static void
test_no_retry(Stub *stub, gconstpointer data)
{
	const struct {
		guint status;
		const gchar *body;
		gint code;
		const gchar *text;
	} cases[] = {
		{401, "{\"detail\":\"X-User-Key must be at least 8 characters long\"}",
		 OSC_CLIENT_ERROR_AUTHENTICATION, "at least 8"},
		{403, "{\"detail\":\"Invalid API key\"}", OSC_CLIENT_ERROR_AUTHENTICATION,
		 "Invalid API key"},
		{404, "{\"detail\":\"Configuration with key 'k' not found\"}",
		 OSC_CLIENT_ERROR_NOT_FOUND, "not found"},
		{400,
		 "{\"detail\":\"Configuration with key 'k' Already Exists in environment 'e'\"}",
		 OSC_CLIENT_ERROR_ALREADY_EXISTS, "Already Exists"},
		{400, "{\"detail\":\"Invalid backup format\"}", OSC_CLIENT_ERROR_BAD_REQUEST,
		 "Bad request: Invalid backup format"},
		{412, "{\"detail\":\"If-Match does not match\"}",
		 OSC_CLIENT_ERROR_PRECONDITION_FAILED, "If-Match"},
		{413, "{\"detail\":\"Body too large\"}", OSC_CLIENT_ERROR_TOO_LARGE, "too large"},
		{422,
		 "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"query\",\"environment\"],\"msg\":"
		 "\"Field "
		 "required\",\"input\":null},{\"type\":\"x\",\"loc\":[\"body\",\"value\",0],"
		 "\"msg\":\"bad\"}]}",
		 OSC_CLIENT_ERROR_VALIDATION,
		 "query.environment: Field required; body.value.0: bad"},
		{405, "not json", OSC_CLIENT_ERROR_BAD_REQUEST, "Method Not Allowed"},
	};
	g_autoptr(OscClient) client = client_new(stub);

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;

		g_mutex_lock(&stub->lock);
		g_free(stub->detail_json);
		stub->detail_json = g_strdup(cases[i].body);
		g_mutex_unlock(&stub->lock);
		stub_program(stub, 100, cases[i].status, "0");
		g_assert_false(osc_client_ping(client, NULL, &error));
		g_assert_error(error, OSC_CLIENT_ERROR, cases[i].code);
		if (strstr(error->message, cases[i].text) == NULL)
			g_error("%u: '%s' lacks '%s'", cases[i].status, error->message,
				cases[i].text);
		g_assert_cmpuint(stub_hits(stub), ==, 1);
	}
}

/* import and rekey are not idempotent: retried on 429/503 only */
static void
test_non_idempotent(Stub *stub, gconstpointer data)
{
	g_autoptr(OscClient) client = client_new(stub);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) result = NULL;

	stub_program(stub, 1, 500, NULL);
	result = osc_client_rekey(client, "user-key-new-0000", NULL, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_SERVER);
	g_assert_null(result);
	g_assert_cmpuint(stub_hits(stub), ==, 1);
	g_clear_error(&error);

	stub_program(stub, 1, 503, "0");
	result = osc_client_import_backup(client, "data", "password", FALSE, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(result);
	g_assert_cmpuint(stub_hits(stub), ==, 2);
	g_mutex_lock(&stub->lock);
	g_assert_cmpstr(stub->last_method, ==, "POST");
	g_mutex_unlock(&stub->lock);
}

static void
async_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	*(GAsyncResult **)user_data = g_object_ref(result);
}

static gboolean
cancel_cb(gpointer data)
{
	g_cancellable_cancel(data);
	return G_SOURCE_REMOVE;
}

static void
test_retry_async(Stub *stub, gconstpointer data)
{
	g_autoptr(OscClient) client = client_new(stub);
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(JsonNode) info = NULL;
	gint64 start;

	stub_program(stub, 2, 504, "0");
	osc_client_get_service_info_async(client, NULL, async_cb, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	info = osc_client_get_service_info_finish(client, result, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(info), "service"), ==,
			"stub");
	g_assert_cmpuint(stub_hits(stub), ==, 3);
	g_clear_object(&result);

	/* no retry on 404 in async mode either */
	stub_program(stub, 1, 404, NULL);
	osc_client_ping_async(client, NULL, async_cb, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_false(osc_client_ping_finish(client, result, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_NOT_FOUND);
	g_assert_cmpuint(stub_hits(stub), ==, 1);
	g_clear_object(&result);
	g_clear_error(&error);

	/* cancelling during the back-off wait ends the call at once */
	stub_program(stub, 100, 503, "10");
	start = g_get_monotonic_time();
	osc_client_ping_async(client, cancellable, async_cb, &result);
	while (stub_hits(stub) == 0)
		g_main_context_iteration(NULL, FALSE);
	g_timeout_add(200, cancel_cb, cancellable);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_false(osc_client_ping_finish(client, result, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
	g_assert_cmpuint(stub_hits(stub), ==, 1);
}

static gpointer
cancel_later_thread(gpointer data)
{
	g_usleep(200 * 1000);
	g_cancellable_cancel(data);
	return NULL;
}

/* the blocking call's back-off wait ends on cancellation too */
static void
test_cancel_sync_wait(Stub *stub, gconstpointer data)
{
	g_autoptr(OscClient) client = client_new(stub);
	g_autoptr(GError) error = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	GThread *thread;
	gint64 start = g_get_monotonic_time();

	stub_program(stub, 100, 429, "10");
	thread = g_thread_new("cancel", cancel_later_thread, cancellable);
	g_assert_false(osc_client_ping(client, cancellable, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
	g_thread_join(thread);
}

/* connection failures are retried with back-off, then reported as CONNECTION */
static void
test_connection_refused(Stub *stub, gconstpointer data)
{
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GSocketAddress) addr = NULL;
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) bound = NULL;
	g_autoptr(OscClient) client = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *url = NULL;
	gint64 start;

	/* a port that was free a moment ago and nobody listens on */
	socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
			      NULL);
	addr = g_inet_socket_address_new(lo, 0);
	g_assert_true(g_socket_bind(socket, addr, TRUE, NULL));
	bound = g_socket_get_local_address(socket, NULL);
	url = g_strdup_printf("http://127.0.0.1:%u",
			      g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));
	g_socket_close(socket, NULL);

	client = g_object_new(OSC_TYPE_CLIENT, "base-url", url, "max-retries", 2, "backoff-factor",
			      0.2, NULL);
	start = g_get_monotonic_time();
	g_assert_false(osc_client_ping(client, NULL, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CONNECTION);
	/* two waits: at least 0.1 s and 0.2 s */
	g_assert_cmpint(g_get_monotonic_time() - start, >=, 300 * 1000);
}

static void
test_backoff_delay(void)
{
	for (guint attempt = 0; attempt < 8; attempt++) {
		for (guint i = 0; i < 100; i++) {
			gdouble d = osc_client_backoff_delay(1.0, attempt, -1);
			gdouble base =
				MIN(ldexp(1.0, (gint)attempt), OSC_CLIENT_MAX_BACKOFF_SECONDS);

			g_assert_cmpfloat(d, >=, base * 0.5);
			g_assert_cmpfloat(d, <=, base);
		}
	}
	g_assert_cmpfloat(osc_client_backoff_delay(1000.0, 30, -1), <=,
			  OSC_CLIENT_MAX_BACKOFF_SECONDS);
	/* Retry-After is a floor */
	g_assert_cmpfloat(osc_client_backoff_delay(0.01, 0, 2.0), ==, 2.0);
	g_assert_cmpfloat(osc_client_backoff_delay(0.0, 0, 0.0), ==, 0.0);
}

static void
test_parse_retry_after(void)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autoptr(GDateTime) later = g_date_time_add_seconds(now, 120);
	g_autofree gchar *http_date = g_date_time_format(later, "%a, %d %b %Y %H:%M:%S GMT");
	gdouble s = -1;

	g_assert_true(osc_client_parse_retry_after("7", &s));
	g_assert_cmpfloat(s, ==, 7.0);
	g_assert_true(osc_client_parse_retry_after(" 0 ", &s));
	g_assert_cmpfloat(s, ==, 0.0);
	g_assert_true(osc_client_parse_retry_after(http_date, &s));
	g_assert_cmpfloat(s, >, 100.0);
	g_assert_cmpfloat(s, <=, 121.0);
	g_assert_true(osc_client_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", &s));
	g_assert_cmpfloat(s, ==, 0.0);
	g_assert_false(osc_client_parse_retry_after("soon", &s));
	g_assert_false(osc_client_parse_retry_after("-3", &s));
	g_assert_false(osc_client_parse_retry_after(NULL, &s));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn) g_test_add(path, Stub, NULL, stub_setup, fn, stub_teardown)
	ADD("/osc/client/retry/503-then-ok", test_retry_503);
	ADD("/osc/client/retry/retry-after", test_retry_after);
	ADD("/osc/client/retry/statuses", test_retry_statuses);
	ADD("/osc/client/retry/exhausted", test_retry_exhausted);
	ADD("/osc/client/retry/no-retry-4xx", test_no_retry);
	ADD("/osc/client/retry/non-idempotent", test_non_idempotent);
	ADD("/osc/client/retry/async", test_retry_async);
	ADD("/osc/client/retry/cancel-sync-wait", test_cancel_sync_wait);
	ADD("/osc/client/retry/connection-refused", test_connection_refused);
#undef ADD
	g_test_add_func("/osc/client/retry/backoff-delay", test_backoff_delay);
	g_test_add_func("/osc/client/retry/parse-retry-after", test_parse_retry_after);
	return g_test_run();
}
