/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "osc-client.h"
#include "osc-event-stream.h"
#include "osc-key-cache.h"
#include "osc-metrics.h"
#include "osc-test-utils.h"

/*
 * An OscService can be freed once it is stopped, whatever its clients were doing: start →
 * traffic (plain requests, kept-alive connections, clients that hang up, event-stream
 * subscribers, requests in flight in the key derivation or the workers) → stop → unref →
 * the main loop keeps running for a while. Run under AddressSanitizer or valgrind, a
 * callback that meets the freed server fails here; descriptors must come back as well.
 */

#define KEY_A "user-key-alpha-123"
#define KEY_B "user-key-bravo-456"
#define KEY_C "user-key-charlie-789"
#define KEY_D "user-key-delta-000"

/* how long the main loop keeps running after the unref */
#define AFTER_UNREF_MS 2000

typedef enum {
	LC_PLAIN = 1 << 0,     /* requests over a SoupSession, its connections kept alive */
	LC_KEEPALIVE = 1 << 1, /* raw connections answered and left idle */
	LC_HANGUP = 1 << 2,    /* clients that hang up before, during and after a request */
	LC_SSE = 1 << 3,       /* event-stream subscribers connected through the stop */
	LC_IN_FLIGHT = 1 << 4, /* a request deriving a key when the stop starts */
	LC_ABANDONED = 1 << 5, /* a request still deriving when the drain gives up */
	LC_UNSTOPPED = 1 << 6, /* unreffed without a stop */
	/* the app's clients in this process: an event stream and an OscClient, both kept
	 * through the stop */
	LC_CLIENT = 1 << 7,
} LcTraffic;

/* ---- raw HTTP/1.1 clients: plain sockets, read while the main context spins ---- */

typedef struct {
	GSocket *socket;
	GString *in;
	gboolean eof;
} RawClient;

static RawClient *
raw_connect(guint port)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) inet = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(inet, (guint16)port);
	RawClient *c = g_new0(RawClient, 1);

	c->socket =
	    g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
	g_assert_no_error(error);
	/* a loopback connect completes at once: the blocking call does not starve the server */
	g_socket_connect(c->socket, address, NULL, &error);
	g_assert_no_error(error);
	g_socket_set_blocking(c->socket, FALSE);
	c->in = g_string_new(NULL);
	return c;
}

static void
raw_send(RawClient *c, const gchar *data)
{
	g_autoptr(GError) error = NULL;
	gssize n = g_socket_send_with_blocking(c->socket, data, strlen(data), TRUE, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpint(n, ==, (gssize)strlen(data));
}

/* takes in what has arrived, without waiting */
static void
raw_pump(RawClient *c)
{
	gchar buf[4096];

	while (!c->eof) {
		g_autoptr(GError) error = NULL;
		gssize n = g_socket_receive(c->socket, buf, sizeof(buf), NULL, &error);

		if (n > 0) {
			g_string_append_len(c->in, buf, n);
			continue;
		}
		if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			return;
		/* end of file, or a reset: the server has closed either way */
		c->eof = TRUE;
	}
}

static void
raw_free(RawClient *c)
{
	g_socket_close(c->socket, NULL);
	g_object_unref(c->socket);
	g_string_free(c->in, TRUE);
	g_free(c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RawClient, raw_free)

/* the main context of an in-process server, for @ms, while the clients read */
static void
spin(GPtrArray *clients, guint ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

	while (g_get_monotonic_time() < end) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		for (guint i = 0; clients != NULL && i < clients->len; i++)
			raw_pump(g_ptr_array_index(clients, i));
		g_usleep(1000);
	}
}

/* spins until @c has received @needle (NULL: until the server closed the connection) */
static void
raw_wait(RawClient *c, const gchar *needle)
{
	gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	g_autoptr(GPtrArray) one = g_ptr_array_new();

	g_ptr_array_add(one, c);
	while (needle != NULL ? strstr(c->in->str, needle) == NULL : !c->eof) {
		g_assert_false(needle != NULL && c->eof);
		g_assert_cmpint(g_get_monotonic_time(), <, end);
		spin(one, 2);
	}
}

/* ---- one life of a service ---- */

typedef struct {
	gboolean done;
	gboolean ok;
} StopWait;

static void
stop_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	StopWait *wait = user_data;

	wait->ok = osc_service_stop_finish(OSC_SERVICE(source), result, NULL);
	wait->done = TRUE;
}

/* a new entry: its key is unique in the process, for lives that share a database */
static gchar *
post_request(const gchar *key, const gchar *user_key)
{
	static guint serial;
	g_autofree gchar *body = g_strdup_printf(
	    "{\"key\":\"%s-%u\",\"value\":{\"n\":1},\"environment\":\"e\"}", key, serial++);

	return g_strdup_printf("POST /configs HTTP/1.1\r\nHost: localhost\r\n"
			       "Content-Type: application/json\r\nX-User-Key: %s\r\n"
			       "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s",
			       user_key, strlen(body), body);
}

static void
ping_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(osc_client_ping_finish(OSC_CLIENT(source), result, &error));
	g_assert_no_error(error);
	*(gboolean *)user_data = TRUE;
}

static const gchar get_health[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";

/*
 * Starts a service, gives it the traffic of @traffic, stops it (unless LC_UNSTOPPED),
 * drops it, and keeps the main loop running for AFTER_UNREF_MS: whatever libsoup, the
 * hub or the workers still had queued runs then, against a freed service.
 */
static void
run_life(const gchar *tmpdir, LcTraffic traffic)
{
	g_autoptr(OscConfig) config = osc_test_config_new(tmpdir);
	g_autoptr(OscService) service = NULL;
	g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func((GDestroyNotify)raw_free);
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(OscEventStream) stream = NULL;
	g_autoptr(OscClient) client = NULL;
	RawClient *idle = NULL, *sse = NULL, *slow = NULL, *sse_deriving = NULL;
	g_autofree gchar *base = NULL;
	StopWait wait = {0};
	guint port;

	config->sse_keepalive_interval = 1;
	/* a fresh key's derivation takes a while, so that it is still running at the stop
	 * (under a sanitizer PBKDF2 is some 100 times slower) */
	if (traffic & (LC_IN_FLIGHT | LC_ABANDONED))
		config->pbkdf2_iterations = osc_test_is_sanitized() ? 10000 : 300000;
	service = osc_test_service_new(config);
	port = osc_service_get_port(service);
	base = osc_test_service_base_url(service);

	if (traffic & LC_PLAIN) {
		g_autofree gchar *health = g_strconcat(base, "/health", NULL);
		static guint serial;
		g_autofree gchar *configs = g_strconcat(base, "/configs", NULL);
		g_autofree gchar *entry =
		    g_strdup_printf("%s/configs/plain-%u?environment=e", base, serial);
		g_autofree gchar *body = g_strdup_printf(
		    "{\"key\":\"plain-%u\",\"value\":\"v\",\"environment\":\"e\"}", serial++);

		session = osc_test_session_new();
		for (guint i = 0; i < 3; i++) {
			g_autoptr(OscTestResponse) r =
			    osc_test_http(session, "GET", health, NULL, NULL, NULL);
			g_assert_cmpuint(r->status, ==, 200);
		}
		{
			/* the workers: an encryption, a store write, a read */
			g_autoptr(OscTestResponse) created =
			    osc_test_http(session, "POST", configs, body, "X-User-Key", KEY_A, NULL);
			g_autoptr(OscTestResponse) read =
			    osc_test_http(session, "GET", entry, NULL, "X-User-Key", KEY_A, NULL);
			g_assert_cmpuint(created->status, ==, 201);
			g_assert_cmpuint(read->status, ==, 200);
		}
	}
	if (traffic & LC_KEEPALIVE) {
		for (guint i = 0; i < 3; i++) {
			RawClient *c = raw_connect(port);

			g_ptr_array_add(clients, c);
			raw_send(c, get_health);
			raw_wait(c, "\r\n\r\n");
			g_assert_true(g_str_has_prefix(c->in->str, "HTTP/1.1 200"));
			idle = c;
		}
	}
	if (traffic & LC_HANGUP) {
		/* after its answer, on a kept-alive connection */
		{
			g_autoptr(RawClient) c = raw_connect(port);
			raw_send(c, get_health);
			raw_wait(c, "\r\n\r\n");
		}
		/* before its answer */
		{
			g_autoptr(RawClient) c = raw_connect(port);
			raw_send(c, get_health);
		}
		/* in the middle of its request */
		{
			g_autoptr(RawClient) c = raw_connect(port);
			raw_send(c, "GET /health HTTP/1.1\r\nHost: loc");
			spin(NULL, 20);
		}
		/* during a request in the workers */
		{
			g_autofree gchar *request = post_request("hangup", KEY_A);
			g_autoptr(RawClient) c = raw_connect(port);
			raw_send(c, request);
			spin(NULL, 5);
		}
		/* with nothing sent at all */
		{
			g_autoptr(RawClient) c = raw_connect(port);
			spin(NULL, 5);
			raw_pump(c);
			g_assert_cmpuint(c->in->len, ==, 0);
		}
		/* an event stream */
		{
			g_autoptr(RawClient) c = raw_connect(port);
			raw_send(c, "GET /sse/subscribe HTTP/1.1\r\nHost: localhost\r\n\r\n");
			raw_wait(c, "event: connected");
		}
		spin(NULL, 50);
	}
	if (traffic & LC_SSE) {
		sse = raw_connect(port);
		g_ptr_array_add(clients, sse);
		raw_send(sse, "GET /sse/subscribe HTTP/1.1\r\nHost: localhost\r\n\r\n");
		raw_wait(sse, "event: connected");
		/* one that gets values, so waits for its key's derivation (not finished yet
		 * when the derivation is slow) */
		sse_deriving = raw_connect(port);
		g_ptr_array_add(clients, sse_deriving);
		raw_send(sse_deriving, "GET /sse/subscribe?key=k HTTP/1.1\r\nHost: localhost\r\n"
				       "X-User-Key: " KEY_A "\r\n\r\n");
		/* and a keep-alive comment or two */
		spin(clients, 1100);
	}
	if (traffic & LC_CLIENT) {
		gboolean pinged = FALSE;

		stream = osc_event_stream_new(base, NULL);
		osc_event_stream_start(stream);
		while (!osc_event_stream_get_connected(stream))
			spin(clients, 1);
		client = osc_client_new(base, KEY_A, NULL);
		osc_client_ping_async(client, NULL, ping_cb, &pinged);
		while (!pinged)
			spin(clients, 1);
	}
	if (traffic & (LC_IN_FLIGHT | LC_ABANDONED)) {
		/* keys of their own: derived in this life, whatever else it did */
		g_autofree gchar *request = post_request("in-flight", KEY_D);
		OscKeyCache *cache = osc_service_get_key_cache(service);
		guint64 derivations = osc_key_cache_get_derivations(cache);
		gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

		slow = raw_connect(port);
		g_ptr_array_add(clients, slow);
		raw_send(slow, request);
		/* read by libsoup and in flight: its derivation has started */
		while (osc_key_cache_get_derivations(cache) == derivations) {
			g_assert_cmpint(g_get_monotonic_time(), <, end);
			spin(clients, 1);
		}
		/* an event stream waiting for another key's derivation */
		{
			RawClient *c = raw_connect(port);

			g_ptr_array_add(clients, c);
			raw_send(c, "GET /sse/subscribe HTTP/1.1\r\nHost: localhost\r\n"
				    "X-User-Key: " KEY_B "\r\n\r\n");
		}
		/* and a client that hangs up while its key is being derived */
		{
			g_autofree gchar *gone = post_request("gone", KEY_C);
			g_autoptr(RawClient) c = raw_connect(port);

			raw_send(c, gone);
			spin(clients, 5);
		}
	}

	if (!(traffic & LC_UNSTOPPED)) {
		/* LC_ABANDONED: the drain gives up on the derivation still running */
		guint drain_ms = (traffic & LC_ABANDONED) ? 1 : 30000;
		/* a drain that gives up says so with a warning, expected here (structured
		 * logs pass by g_test_log_set_fatal_handler() in GLib 2.74); criticals still
		 * abort */
		GLogLevelFlags fatal = g_log_set_always_fatal(
		    (traffic & LC_ABANDONED) ? G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL
					     : G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL |
						   G_LOG_LEVEL_WARNING);

		osc_service_stop_async(service, drain_ms, NULL, stop_cb, &wait);
		while (!wait.done)
			spin(clients, 1);
		g_log_set_always_fatal(fatal);
		g_assert_true(wait.ok);
		/* every connection is closed, and the gauge says so */
		{
			g_autofree gchar *text =
			    osc_metrics_render(osc_service_get_metrics(service));
			g_assert_nonnull(strstr(text, "\nosc_http_connections 0.0\n"));
		}
	}
	/* whatever still runs for the service must cope with it gone */
	g_clear_object(&service);
	spin(clients, AFTER_UNREF_MS);

	if (stream != NULL) {
		/* it saw its stream end, and keeps trying to reconnect meanwhile */
		g_assert_false(osc_event_stream_get_connected(stream));
		osc_event_stream_stop(stream);
		g_clear_object(&stream);
		g_clear_object(&client);
		spin(clients, 100);
	}

	/* what the clients saw: every connection closed by the server */
	for (guint i = 0; i < clients->len; i++) {
		RawClient *c = g_ptr_array_index(clients, i);
		if (c != sse_deriving)
			g_assert_true(c->eof);
	}
	if (idle != NULL)
		g_assert_true(g_str_has_prefix(idle->in->str, "HTTP/1.1 200"));
	if (sse != NULL && !(traffic & LC_UNSTOPPED))
		/* a stream ended by a stop ends properly: the last chunk */
		g_assert_true(g_str_has_suffix(sse->in->str, "\r\n0\r\n\r\n"));
	if (slow != NULL && (traffic & LC_IN_FLIGHT) && !(traffic & LC_UNSTOPPED))
		/* the drain waited for it */
		g_assert_true(g_str_has_prefix(slow->in->str, "HTTP/1.1 201"));
}

/* counts descriptors before the first life and after the last */
static void
run_lives(LcTraffic traffic, guint lives)
{
	static gboolean warmed;
	g_autofree gchar *tmpdir = osc_test_make_tmpdir();
	guint before, after = 0;

	/* the first service of the process creates GLib's and libsoup's own descriptors
	 * (wakeups, the resolver), which live on: a first life outside the counts */
	if (!warmed) {
		run_life(tmpdir, LC_PLAIN);
		warmed = TRUE;
	}
	before = osc_test_count_fds();
	for (guint i = 0; i < lives; i++)
		run_life(tmpdir, traffic);
	/* SQLite, libsoup and the sockets are all closed by now */
	for (guint i = 0; i < 50; i++) {
		after = osc_test_count_fds();
		if (after <= before)
			break;
		spin(NULL, 20);
	}
	g_assert_cmpuint(after, <=, before);
	osc_test_rm_rf(tmpdir);
}

static void
test_plain(void)
{
	run_lives(LC_PLAIN, 1);
}

static void
test_keepalive(void)
{
	run_lives(LC_KEEPALIVE, 1);
}

static void
test_hangup(void)
{
	run_lives(LC_HANGUP, 1);
}

static void
test_sse(void)
{
	run_lives(LC_SSE, 1);
}

static void
test_client(void)
{
	run_lives(LC_CLIENT, 1);
}

static void
test_in_flight(void)
{
	run_lives(LC_IN_FLIGHT, 1);
}

static void
test_abandoned(void)
{
	run_lives(LC_ABANDONED | LC_SSE | LC_KEEPALIVE, 1);
}

static void
test_unstopped(void)
{
	run_lives(LC_UNSTOPPED | LC_SSE | LC_KEEPALIVE | LC_IN_FLIGHT, 1);
}

static void
test_everything(void)
{
	run_lives(LC_PLAIN | LC_KEEPALIVE | LC_HANGUP | LC_SSE | LC_CLIENT | LC_IN_FLIGHT, 1);
}

/* several services, one after the other, in one process */
static void
test_cycles(void)
{
	run_lives(LC_PLAIN | LC_KEEPALIVE | LC_SSE | LC_HANGUP | LC_CLIENT, 3);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/osc/service-lifecycle/plain", test_plain);
	g_test_add_func("/osc/service-lifecycle/keepalive", test_keepalive);
	g_test_add_func("/osc/service-lifecycle/hangup", test_hangup);
	g_test_add_func("/osc/service-lifecycle/sse", test_sse);
	g_test_add_func("/osc/service-lifecycle/client", test_client);
	g_test_add_func("/osc/service-lifecycle/in-flight", test_in_flight);
	g_test_add_func("/osc/service-lifecycle/abandoned", test_abandoned);
	g_test_add_func("/osc/service-lifecycle/unstopped", test_unstopped);
	g_test_add_func("/osc/service-lifecycle/everything", test_everything);
	g_test_add_func("/osc/service-lifecycle/cycles", test_cycles);
	return g_test_run();
}
