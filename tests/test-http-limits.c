/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "osc-http-limits.h"
#include "osc-test-utils.h"

/*
 * What protects the server from its clients: the failed-authentication rate limit (429 with
 * Retry-After, per address), the connection cap (503), the request deadline (slow-loris),
 * the idle timeout of kept-alive connections, event streams exempt from both, the header
 * size limit, and descriptors never lost to clients that hang up.
 */

#define KEY_A	"user-key-alpha-123"
#define KEY_B	"user-key-bravo-456"
#define API_KEY "test-api-key-0123456789"

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	SoupSession *session;  /* from 127.0.0.1 */
	SoupSession *session2; /* from 127.0.0.2: another client */
	gchar *base;
	guint port;
} Fixture;

static void
fixture_start(Fixture *f)
{
	g_autoptr(GInetAddress) other = g_inet_address_new_from_string("127.0.0.2");
	g_autoptr(GSocketAddress) local = g_inet_socket_address_new(other, 0);

	f->service = osc_test_service_new(f->config);
	f->base = osc_test_service_base_url(f->service);
	f->port = osc_service_get_port(f->service);
	f->session = osc_test_session_new();
	f->session2 = soup_session_new_with_options("timeout", 30, "local-address", local, NULL);
}

static void
fixture_config(Fixture *f)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->config->auth_fail_limit = 3;
	f->config->auth_fail_window = 60;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	fixture_config(f);
	fixture_start(f);
}

static void
fixture_setup_api_key(Fixture *f, gconstpointer data)
{
	fixture_config(f);
	f->config->api_key_required = TRUE;
	g_free(f->config->api_key);
	f->config->api_key = g_strdup(API_KEY);
	fixture_start(f);
}

static void
fixture_setup_short_window(Fixture *f, gconstpointer data)
{
	fixture_config(f);
	f->config->auth_fail_limit = 2;
	f->config->auth_fail_window = 2; /* one more attempt per second */
	fixture_start(f);
}

static void
fixture_setup_disabled(Fixture *f, gconstpointer data)
{
	fixture_config(f);
	f->config->auth_fail_limit = 0;
	fixture_start(f);
}

static void
fixture_setup_connections(Fixture *f, gconstpointer data)
{
	fixture_config(f);
	f->config->max_connections = 3;
	fixture_start(f);
}

static void
fixture_setup_timeouts(Fixture *f, gconstpointer data)
{
	fixture_config(f);
	f->config->request_timeout = 1;
	f->config->idle_timeout = 1;
	f->config->sse_keepalive_interval = 1;
	fixture_start(f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->session);
	g_clear_object(&f->session2);
	g_clear_object(&f->service);
	g_clear_pointer(&f->config, osc_config_free);
	g_free(f->base);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

/* ---- helpers ---- */

static OscTestResponse *
get(Fixture *f, SoupSession *session, const gchar *path, const gchar *header, const gchar *value)
{
	g_autofree gchar *u = g_strconcat(f->base, path, NULL);

	return osc_test_http(session, "GET", u, NULL, header, value, NULL);
}

static gdouble
metric(Fixture *f, const gchar *name, const gchar *label)
{
	OscMetric *m = osc_metrics_lookup(osc_service_get_metrics(f->service), name);

	g_assert_nonnull(m);
	return osc_metric_get(m, label, NULL);
}

static void
assert_429(OscTestResponse *resp)
{
	const gchar *retry;
	guint64 seconds = 0;

	g_assert_cmpuint(resp->status, ==, 429);
	g_assert_nonnull(osc_test_json_detail(resp));
	g_assert_nonnull(strstr(osc_test_json_detail(resp), "Too many failed authentication"));
	retry = soup_message_headers_get_one(resp->headers, "Retry-After");
	g_assert_nonnull(retry);
	g_assert_true(g_ascii_string_to_unsigned(retry, 10, 1, 3600, &seconds, NULL));
}

typedef struct {
	GThreadFunc func;
	gpointer data;
	gpointer result;
	gint done;
} ThreadRun;

static gpointer
thread_run_cb(gpointer user_data)
{
	ThreadRun *run = user_data;

	run->result = run->func(run->data);
	g_atomic_int_set(&run->done, 1);
	g_main_context_wakeup(NULL);
	return NULL;
}

/* runs a blocking raw-socket client in a thread while the in-process server serves */
static gpointer
run_client(GThreadFunc func, gpointer data)
{
	ThreadRun run = {func, data, NULL, 0};
	GThread *thread = g_thread_new("raw-client", thread_run_cb, &run);

	while (!g_atomic_int_get(&run.done))
		g_main_context_iteration(NULL, TRUE);
	g_thread_join(thread);
	return run.result;
}

static int
raw_connect(guint port)
{
	struct sockaddr_in addr = {0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((guint16)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	return fd;
}

/* waits up to @timeout_ms for the peer to close; returns what came meanwhile, or NULL when
 * it did not close */
static GString *
raw_read_until_close(int fd, guint timeout_ms)
{
	GString *out = g_string_new(NULL);
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		gint64 left = (end - g_get_monotonic_time()) / 1000;
		gchar buf[4096];
		gssize n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			g_string_free(out, TRUE);
			return NULL;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return out;
		g_string_append_len(out, buf, n);
	}
}

static void
spin(guint ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

	while (g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(2000);
	}
}

/* ---- OscRateLimiter ---- */

static void
test_rate_limiter_bucket(void)
{
	g_autoptr(OscRateLimiter) rl = osc_rate_limiter_new(3, 30, 100);
	gint64 t = 1000 * G_USEC_PER_SEC;
	guint retry = 0;

	g_assert_true(osc_rate_limiter_check(rl, "10.0.0.1", t, &retry));
	g_assert_false(osc_rate_limiter_add_failure(rl, "10.0.0.1", t));
	g_assert_false(osc_rate_limiter_add_failure(rl, "10.0.0.1", t));
	g_assert_true(osc_rate_limiter_check(rl, "10.0.0.1", t, &retry));
	/* the third failure uses it up */
	g_assert_true(osc_rate_limiter_add_failure(rl, "10.0.0.1", t));
	g_assert_false(osc_rate_limiter_check(rl, "10.0.0.1", t, &retry));
	g_assert_cmpuint(retry, ==, 10); /* 3 per 30 s: one every 10 s */
	/* another address is not affected */
	g_assert_true(osc_rate_limiter_check(rl, "10.0.0.2", t, &retry));
	/* after 4 s, 6 s to go */
	g_assert_false(osc_rate_limiter_check(rl, "10.0.0.1", t + 4 * G_USEC_PER_SEC, &retry));
	g_assert_cmpuint(retry, ==, 6);
	/* after 10 s, one attempt */
	g_assert_true(osc_rate_limiter_check(rl, "10.0.0.1", t + 10 * G_USEC_PER_SEC, &retry));
	g_assert_true(osc_rate_limiter_add_failure(rl, "10.0.0.1", t + 10 * G_USEC_PER_SEC));
	g_assert_false(osc_rate_limiter_check(rl, "10.0.0.1", t + 10 * G_USEC_PER_SEC, &retry));
	/* a whole window forgives everything, and the entry is dropped */
	g_assert_true(osc_rate_limiter_check(rl, "10.0.0.1", t + 60 * G_USEC_PER_SEC, &retry));
	g_assert_cmpuint(osc_rate_limiter_get_size(rl), ==, 0);
}

static void
test_rate_limiter_bounded(void)
{
	g_autoptr(OscRateLimiter) rl = osc_rate_limiter_new(1, 60, 4);
	gint64 t = 1000 * G_USEC_PER_SEC;
	guint retry = 0;

	for (guint i = 0; i < 1000; i++) {
		g_autofree gchar *addr = g_strdup_printf("10.0.%u.%u", i / 256, i % 256);
		osc_rate_limiter_add_failure(rl, addr, t + i);
		g_assert_cmpuint(osc_rate_limiter_get_size(rl), <=, 4);
	}
	/* the most recent four are remembered, the oldest were forgotten */
	g_assert_false(osc_rate_limiter_check(rl, "10.0.3.231", t + 1000, &retry));
	g_assert_true(osc_rate_limiter_check(rl, "10.0.0.0", t + 1000, &retry));
}

static void
test_rate_limiter_disabled(void)
{
	g_autoptr(OscRateLimiter) rl = osc_rate_limiter_new(0, 60, 4);
	guint retry = 0;

	for (guint i = 0; i < 100; i++)
		g_assert_false(osc_rate_limiter_add_failure(rl, "10.0.0.1", i));
	g_assert_true(osc_rate_limiter_check(rl, "10.0.0.1", 100, &retry));
	g_assert_cmpuint(osc_rate_limiter_get_size(rl), ==, 0);
}

static void
test_client_key(void)
{
	static const struct {
		const gchar *ip;
		const gchar *key;
	} cases[] = {
	    {"192.0.2.7", "192.0.2.7"},
	    {"::1", "::1"},
	    {"::ffff:192.0.2.7", "192.0.2.7"},
	    {"2001:db8:1:2:3:4:5:6", "2001:0db8:0001:0002::/64"},
	    {"2001:db8:1:2:ffff::1", "2001:0db8:0001:0002::/64"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(cases[i].ip);
		g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(inet, 1234);
		g_autofree gchar *key = osc_http_limits_client_key(addr);
		g_assert_cmpstr(key, ==, cases[i].key);
	}
}

/* ---- failed authentication over HTTP ---- */

static void
test_auth_api_key(Fixture *f, gconstpointer data)
{
	for (guint i = 0; i < 3; i++) {
		g_autoptr(OscTestResponse) r =
		    get(f, f->session, "/stats/operations", "X-API-Key", "wrong-key-0123456789");
		g_assert_cmpuint(r->status, ==, 403);
	}
	{
		/* used up: 429 before the key is looked at, the right one included */
		g_autoptr(OscTestResponse) wrong =
		    get(f, f->session, "/stats/operations", "X-API-Key", "wrong-key-0123456789");
		g_autoptr(OscTestResponse) right =
		    get(f, f->session, "/stats/operations", "X-API-Key", API_KEY);
		g_autoptr(OscTestResponse) sse =
		    get(f, f->session, "/sse/subscribe", "X-API-Key", API_KEY);
		assert_429(wrong);
		assert_429(right);
		assert_429(sse);
		g_assert_null(strstr(wrong->body, "wrong-key"));
	}
	{
		/* open routes stay open */
		g_autoptr(OscTestResponse) health = get(f, f->session, "/health", NULL, NULL);
		g_assert_cmpuint(health->status, ==, 200);
	}
	{
		/* another address is not limited by this one's failures */
		g_autoptr(OscTestResponse) other =
		    get(f, f->session2, "/stats/operations", "X-API-Key", API_KEY);
		g_autoptr(OscTestResponse) other_wrong =
		    get(f, f->session2, "/stats/operations", "X-API-Key", "wrong-key-0123456789");
		g_assert_cmpuint(other->status, ==, 200);
		g_assert_cmpuint(other_wrong->status, ==, 403);
	}
	g_assert_cmpfloat(metric(f, "osc_auth_failures_total", "api_key"), ==, 4);
	g_assert_cmpfloat(metric(f, "osc_auth_failures_total", "user_key"), ==, 0);
	g_assert_cmpfloat(metric(f, "osc_rate_limited_total", NULL), ==, 3);
}

static void
test_auth_user_key(Fixture *f, gconstpointer data)
{
	g_autofree gchar *u = g_strconcat(f->base, "/configs", NULL);
	g_autoptr(OscTestResponse) created =
	    osc_test_http(f->session2, "POST", u,
			  "{\"key\":\"db\",\"value\":\"s3cret-plain\",\"environment\":\"prod\"}",
			  "X-User-Key", KEY_A, NULL);

	g_assert_cmpuint(created->status, ==, 201);
	/* wrong key on an entry, a too-short key, a wrong key on a write: all failures */
	{
		g_autoptr(OscTestResponse) r =
		    get(f, f->session, "/configs/db?environment=prod", "X-User-Key", KEY_B);
		g_assert_cmpuint(r->status, ==, 401);
		g_assert_null(strstr(r->body, "s3cret"));
	}
	{
		g_autoptr(OscTestResponse) r =
		    get(f, f->session, "/configs/db?environment=prod", "X-User-Key", "short");
		g_assert_cmpuint(r->status, ==, 401);
	}
	{
		g_autofree gchar *put = g_strconcat(f->base, "/configs/db?environment=prod", NULL);
		g_autoptr(OscTestResponse) r = osc_test_http(
		    f->session, "PUT", put, "{\"value\":\"overwritten\"}", "X-User-Key", KEY_B, NULL);
		g_assert_cmpuint(r->status, ==, 401);
	}
	{
		g_autoptr(OscTestResponse) r =
		    get(f, f->session, "/configs/db?environment=prod", "X-User-Key", KEY_A);
		assert_429(r);
		g_assert_null(strstr(r->body, "s3cret"));
	}
	{
		/* the owner, from elsewhere, reads the value unchanged */
		g_autoptr(OscTestResponse) r =
		    get(f, f->session2, "/configs/db?environment=prod", "X-User-Key", KEY_A);
		g_assert_cmpuint(r->status, ==, 200);
		g_assert_nonnull(strstr(r->body, "\"s3cret-plain\""));
	}
	g_assert_cmpfloat(metric(f, "osc_auth_failures_total", "user_key"), ==, 3);
	g_assert_cmpfloat(metric(f, "osc_rate_limited_total", NULL), ==, 1);
}

static void
test_auth_window(Fixture *f, gconstpointer data)
{
	for (guint i = 0; i < 2; i++) {
		g_autoptr(OscTestResponse) r = get(f, f->session, "/configs", "X-User-Key", "short");
		g_assert_cmpuint(r->status, ==, 401);
	}
	{
		g_autoptr(OscTestResponse) r = get(f, f->session, "/configs", "X-User-Key", "short");
		assert_429(r);
		g_assert_cmpstr(soup_message_headers_get_one(r->headers, "Retry-After"), ==, "1");
	}
	/* one attempt per second comes back */
	spin(1100);
	{
		g_autoptr(OscTestResponse) r = get(f, f->session, "/configs", "X-User-Key", "short");
		g_assert_cmpuint(r->status, ==, 401);
	}
	{
		g_autoptr(OscTestResponse) r = get(f, f->session, "/configs", "X-User-Key", KEY_A);
		assert_429(r);
	}
}

static void
test_auth_disabled(Fixture *f, gconstpointer data)
{
	for (guint i = 0; i < 30; i++) {
		g_autoptr(OscTestResponse) r = get(f, f->session, "/configs", "X-User-Key", "short");
		g_assert_cmpuint(r->status, ==, 401);
	}
	g_assert_cmpfloat(metric(f, "osc_auth_failures_total", "user_key"), ==, 30);
	g_assert_cmpfloat(metric(f, "osc_rate_limited_total", NULL), ==, 0);
}

/* ---- connections ---- */

static gpointer
connections_client(gpointer data)
{
	Fixture *f = data;
	int held[3];
	int extra;
	GString *reply;

	for (guint i = 0; i < G_N_ELEMENTS(held); i++)
		held[i] = raw_connect(f->port);
	g_usleep(300 * 1000);
	extra = raw_connect(f->port);
	reply = raw_read_until_close(extra, 5000);
	close(extra);
	for (guint i = 0; i < G_N_ELEMENTS(held); i++)
		close(held[i]);
	return reply;
}

static void
test_max_connections(Fixture *f, gconstpointer data)
{
	g_autoptr(GString) reply = run_client(connections_client, f);

	g_assert_nonnull(reply);
	g_assert_cmpuint(osc_test_raw_status(reply->str), ==, 503);
	g_assert_nonnull(strstr(reply->str, "Retry-After: 1\r\n"));
	g_assert_nonnull(strstr(reply->str, "{\"detail\":\"Too many connections"));
	g_assert_cmpfloat(metric(f, "osc_http_connections_rejected_total", NULL), ==, 1);
	/* the held ones are gone: the server takes connections again */
	spin(300);
	{
		g_autoptr(OscTestResponse) r = get(f, f->session, "/health", NULL, NULL);
		g_assert_cmpuint(r->status, ==, 200);
	}
}

typedef struct {
	guint port;
	gdouble closed_after; /* seconds, or -1 when it never closed */
	GString *reply;
} SlowClient;

/* sends a request one byte every 200 ms, as a slow-loris does */
static gpointer
slowloris_client(gpointer data)
{
	SlowClient *c = data;
	static const gchar request[] = "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Pad: "
				       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	int fd = raw_connect(c->port);
	gint64 start = g_get_monotonic_time();

	c->closed_after = -1;
	c->reply = g_string_new(NULL);
	for (gsize i = 0; i < sizeof(request) - 1; i++) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 200) > 0) {
			gchar buf[512];
			gssize n = recv(fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				c->closed_after =
				    (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
				break;
			}
			g_string_append_len(c->reply, buf, n);
		}
		if (send(fd, request + i, 1, MSG_NOSIGNAL) != 1) {
			c->closed_after = (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
			break;
		}
	}
	close(fd);
	return NULL;
}

static void
test_slowloris(Fixture *f, gconstpointer data)
{
	SlowClient c = {f->port, 0, NULL};

	run_client(slowloris_client, &c);
	/* OSC_REQUEST_TIMEOUT=1: dropped after about a second, never answered (the whole
	 * request would take 19 s) */
	g_assert_cmpfloat(c.closed_after, >=, 0.9);
	g_assert_cmpfloat(c.closed_after, <, 6);
	g_assert_cmpuint(c.reply->len, ==, 0);
	g_string_free(c.reply, TRUE);
	g_assert_cmpfloat(metric(f, "osc_http_connection_timeouts_total", "request"), ==, 1);
}

static gpointer
idle_client(gpointer data)
{
	SlowClient *c = data;
	static const gchar request[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
	int fd = raw_connect(c->port);
	gint64 start;
	gchar buf[1024];
	gssize n;

	g_assert_cmpint(send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL), ==,
			sizeof(request) - 1);
	c->reply = g_string_new(NULL);
	while (strstr(c->reply->str, "healthy\"}") == NULL &&
	       (n = recv(fd, buf, sizeof(buf), 0)) > 0)
		g_string_append_len(c->reply, buf, n);
	/* kept alive, then idle: the server closes it */
	start = g_get_monotonic_time();
	{
		g_autoptr(GString) rest = raw_read_until_close(fd, 6000);
		c->closed_after = rest != NULL
				      ? (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC
				      : -1;
	}
	close(fd);
	return NULL;
}

static void
test_idle_timeout(Fixture *f, gconstpointer data)
{
	SlowClient c = {f->port, 0, NULL};

	run_client(idle_client, &c);
	g_assert_cmpuint(osc_test_raw_status(c.reply->str), ==, 200);
	g_string_free(c.reply, TRUE);
	g_assert_cmpfloat(c.closed_after, >=, 0.5);
	g_assert_cmpfloat(c.closed_after, <, 5);
	g_assert_cmpfloat(metric(f, "osc_http_connection_timeouts_total", "idle"), ==, 1);
}

static gpointer
sse_client(gpointer data)
{
	SlowClient *c = data;
	static const gchar request[] = "GET /sse/subscribe HTTP/1.1\r\nHost: localhost\r\n\r\n";
	int fd = raw_connect(c->port);
	gint64 end = g_get_monotonic_time() + 3500 * 1000;

	g_assert_cmpint(send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL), ==,
			sizeof(request) - 1);
	c->reply = g_string_new(NULL);
	c->closed_after = -1;
	while (g_get_monotonic_time() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		gchar buf[1024];
		gssize n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			c->closed_after = 1;
			break;
		}
		g_string_append_len(c->reply, buf, n);
	}
	close(fd);
	return NULL;
}

static void
test_sse_exempt(Fixture *f, gconstpointer data)
{
	SlowClient c = {f->port, 0, NULL};
	guint keepalives = 0;

	/* idle and request timeouts of 1 s; the stream lives on for 3.5 s */
	run_client(sse_client, &c);
	g_assert_cmpfloat(c.closed_after, ==, -1);
	g_assert_nonnull(strstr(c.reply->str, "event: connected"));
	for (const gchar *p = c.reply->str; (p = strstr(p, ": keep-alive")) != NULL; p++)
		keepalives++;
	g_assert_cmpuint(keepalives, >=, 2);
	g_string_free(c.reply, TRUE);
	g_assert_cmpfloat(metric(f, "osc_http_connection_timeouts_total", "idle"), ==, 0);
	g_assert_cmpfloat(metric(f, "osc_http_connection_timeouts_total", "request"), ==, 0);
}

/* clients that hang up between requests, as most HTTP libraries end a connection */
static gpointer
hangup_client(gpointer data)
{
	SlowClient *c = data;
	static const gchar request[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";

	for (guint i = 0; i < 40; i++) {
		int fd = raw_connect(c->port);
		GString *reply = g_string_new(NULL);
		gchar buf[1024];
		gssize n;

		g_assert_cmpint(send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL), ==,
				sizeof(request) - 1);
		while (strstr(reply->str, "healthy\"}") == NULL &&
		       (n = recv(fd, buf, sizeof(buf), 0)) > 0)
			g_string_append_len(reply, buf, n);
		g_assert_cmpuint(osc_test_raw_status(reply->str), ==, 200);
		g_string_free(reply, TRUE);
		close(fd);
	}
	return NULL;
}

static void
test_hangup_no_fd_leak(Fixture *f, gconstpointer data)
{
	SlowClient c = {f->port, 0, NULL};
	guint before;
	guint after = 0;

	/* a first request opens whatever the server opens lazily */
	{
		g_autoptr(OscTestResponse) r = get(f, f->session, "/health", NULL, NULL);
		g_assert_cmpuint(r->status, ==, 200);
	}
	before = osc_test_count_fds();
	run_client(hangup_client, &c);
	/* libsoup 3.2.3 alone keeps all 40 (it never closes what it read the end of) */
	for (guint i = 0; i < 100; i++) {
		spin(20);
		after = osc_test_count_fds();
		if (after <= before)
			break;
	}
	g_assert_cmpuint(after, <=, before);
}

static void
test_header_limit(Fixture *f, gconstpointer data)
{
	g_autoptr(GString) request = g_string_new("GET /health HTTP/1.1\r\nHost: localhost\r\n");
	g_autofree gchar *reply = NULL;
	gboolean closed = FALSE;

	/* libsoup refuses a header block over 64 KiB by closing the connection */
	g_string_append(request, "X-Big: ");
	for (guint i = 0; i < 80 * 1024; i++)
		g_string_append_c(request, 'a');
	g_string_append(request, "\r\n\r\n");
	reply = osc_test_raw_http(f->port, request->str, request->len, 5000, &closed);
	g_assert_true(closed);
	g_assert_cmpuint(osc_test_raw_status(reply), !=, 200);
	{
		g_autoptr(OscTestResponse) r = get(f, f->session, "/health", NULL, NULL);
		g_assert_cmpuint(r->status, ==, 200);
	}
}

/*
 * Every route a user key reaches, with a key that did not write the entry: no 5xx, no
 * plaintext (not even in an error), nothing changed, and existence shown only as API.md
 * documents it (401 "does not match" on the entry's own routes, D-3).
 */
static void
test_wrong_key_sweep(Fixture *f, gconstpointer data)
{
	static const struct {
		const gchar *method;
		const gchar *path;
		const gchar *body;
		guint status; /* 0: any 2xx/4xx, checked for the canary only */
	} calls[] = {
	    {"GET", "/configs/db?environment=prod", NULL, 401},
	    {"HEAD", "/configs/db?environment=prod", NULL, 401},
	    {"GET", "/configs/db?environment=prod&mode=full", NULL, 401},
	    {"GET", "/configs/db?environment=prod&version=1", NULL, 401},
	    {"GET", "/configs/db/versions?environment=prod", NULL, 401},
	    {"POST", "/configs/db/rollback?environment=prod&version=1", NULL, 401},
	    {"PUT", "/configs/db?environment=prod", "{\"value\":\"evil\"}", 401},
	    {"DELETE", "/configs/db?environment=prod", NULL, 401},
	    {"POST", "/configs", "{\"key\":\"db\",\"value\":\"evil\",\"environment\":\"prod\"}",
	     400},
	    {"GET", "/configs", NULL, 401},
	    {"GET", "/configs?environment=prod&mode=full", NULL, 401},
	    {"GET", "/stats", NULL, 0},
	    {"GET", "/cluster/distribution", NULL, 0},
	    {"POST", "/rekey", NULL, 0},
	};
	g_autofree gchar *create_url = g_strconcat(f->base, "/configs", NULL);
	g_autofree gchar *put_url = g_strconcat(f->base, "/configs/db?environment=prod", NULL);
	g_autoptr(OscTestResponse) created = osc_test_http(
	    f->session, "POST", create_url,
	    "{\"key\":\"db\",\"value\":\"plaintext-canary-1\",\"environment\":\"prod\"}",
	    "X-User-Key", KEY_A, NULL);
	g_autoptr(OscTestResponse) updated =
	    osc_test_http(f->session, "PUT", put_url, "{\"value\":\"plaintext-canary-2\"}",
			  "X-User-Key", KEY_A, NULL);
	g_autoptr(OscTestResponse) before = NULL;
	g_autoptr(OscTestResponse) after = NULL;

	g_assert_cmpuint(created->status, ==, 201);
	g_assert_cmpuint(updated->status, ==, 200);
	before = get(f, f->session, "/configs/db?environment=prod&mode=full", "X-User-Key", KEY_A);
	for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
		g_autofree gchar *u = g_strconcat(f->base, calls[i].path, NULL);
		g_autoptr(OscTestResponse) r =
		    osc_test_http(f->session, calls[i].method, u, calls[i].body, "X-User-Key",
				  KEY_B, "X-New-User-Key", "user-key-charlie-789", NULL);

		const gchar *body = r->body != NULL ? r->body : "";

		g_test_message("%s %s → %u %s", calls[i].method, calls[i].path, r->status, body);
		g_assert_cmpuint(r->status, <, 500);
		if (calls[i].status != 0)
			g_assert_cmpuint(r->status, ==, calls[i].status);
		g_assert_null(strstr(body, "plaintext-canary"));
		g_assert_null(strstr(body, KEY_A));
		g_assert_null(strstr(body, KEY_B));
	}
	after = get(f, f->session, "/configs/db?environment=prod&mode=full", "X-User-Key", KEY_A);
	g_assert_cmpuint(after->status, ==, 200);
	g_assert_cmpstr(after->body, ==, before->body);
	g_assert_nonnull(strstr(after->body, "\"plaintext-canary-2\""));
}

/* limits of @max_connections under a soft descriptor limit of @soft */
static guint
effective_max_connections(guint max_connections, rlim_t soft)
{
	g_autoptr(SoupServer) soup = soup_server_new(NULL, NULL);
	g_autoptr(OscMetrics) metrics = osc_metrics_new();
	OscConfig *config = osc_config_new();
	struct rlimit saved, rl;
	OscHttpLimits *limits;
	guint max;

	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
	rl = saved;
	rl.rlim_cur = MIN(soft, saved.rlim_max);
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	config->max_connections = max_connections;
	limits = osc_http_limits_new(soup, config, metrics);
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);
	max = osc_http_limits_get_max_connections(limits);
	osc_http_limits_free(limits);
	osc_config_free(config);
	return max;
}

/* past the descriptor limit accept() fails and libsoup retries at once, for ever: the
 * connection limit never goes beyond what the descriptors allow */
static void
test_fd_budget(void)
{
	struct rlimit rl;

	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 1024) {
		g_test_skip("the hard descriptor limit is below 1024");
		return;
	}
	/* 64 descriptors are kept for the rest of the server */
	g_assert_cmpuint(effective_max_connections(1000, 200), ==, 136);
	g_assert_cmpuint(effective_max_connections(0, 200), ==, 136);
	g_assert_cmpuint(effective_max_connections(50, 200), ==, 50);
	g_assert_cmpuint(effective_max_connections(1000, 1024), ==, 960);
	g_assert_cmpuint(effective_max_connections(900, 1024), ==, 900);
	/* a tiny limit still leaves half for connections */
	g_assert_cmpuint(effective_max_connections(1000, 100), ==, 50);
}

int
main(int argc, char **argv)
{
	osc_test_init_keep_going(&argc, &argv);
	g_test_add_func("/osc/limits/rate-limiter/bucket", test_rate_limiter_bucket);
	g_test_add_func("/osc/limits/rate-limiter/bounded", test_rate_limiter_bounded);
	g_test_add_func("/osc/limits/rate-limiter/disabled", test_rate_limiter_disabled);
	g_test_add_func("/osc/limits/rate-limiter/client-key", test_client_key);
	g_test_add_func("/osc/limits/connections/fd-budget", test_fd_budget);
#define ADD(path, fn, setup) g_test_add(path, Fixture, NULL, setup, fn, fixture_teardown)
	ADD("/osc/limits/auth/api-key", test_auth_api_key, fixture_setup_api_key);
	ADD("/osc/limits/auth/user-key", test_auth_user_key, fixture_setup);
	ADD("/osc/limits/auth/window", test_auth_window, fixture_setup_short_window);
	ADD("/osc/limits/auth/disabled", test_auth_disabled, fixture_setup_disabled);
	ADD("/osc/limits/connections/max", test_max_connections, fixture_setup_connections);
	ADD("/osc/limits/connections/slowloris", test_slowloris, fixture_setup_timeouts);
	ADD("/osc/limits/connections/idle", test_idle_timeout, fixture_setup_timeouts);
	ADD("/osc/limits/connections/sse-exempt", test_sse_exempt, fixture_setup_timeouts);
	ADD("/osc/limits/connections/hangup-no-fd-leak", test_hangup_no_fd_leak, fixture_setup);
	ADD("/osc/limits/headers/size", test_header_limit, fixture_setup);
	ADD("/osc/limits/auth/wrong-key-sweep", test_wrong_key_sweep, fixture_setup_disabled);
	return g_test_run();
}
