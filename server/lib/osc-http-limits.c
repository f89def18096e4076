/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscHttp"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "osc-http-limits.h"

/* ---- OscRateLimiter: failed authentications per client address ---- */

typedef struct {
	gchar *client;
	gdouble tokens;	 /* failures still allowed; refills at limit/window per second */
	gint64 updated;	 /* monotonic µs of the last refill */
	GList link;	 /* in the LRU queue, oldest first */
} OscRateEntry;

struct _OscRateLimiter {
	guint limit;
	guint window_s;
	guint max_entries;
	GHashTable *entries; /* client → OscRateEntry, owned */
	GQueue lru;
};

static void
osc_rate_entry_free(OscRateEntry *entry)
{
	g_free(entry->client);
	g_free(entry);
}

/**
 * osc_rate_limiter_new:
 * @limit: failures an address may make in a row; 0 disables the limiter
 * @window_s: seconds in which @limit failures are forgiven again
 * @max_entries: addresses remembered at most; the least recently failing is forgotten first
 */
OscRateLimiter *
osc_rate_limiter_new(guint limit, guint window_s, guint max_entries)
{
	OscRateLimiter *self = g_new0(OscRateLimiter, 1);

	self->limit = limit;
	self->window_s = MAX(window_s, 1);
	self->max_entries = MAX(max_entries, 1);
	self->entries =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)osc_rate_entry_free);
	g_queue_init(&self->lru);
	return self;
}

void
osc_rate_limiter_free(OscRateLimiter *self)
{
	if (self == NULL)
		return;
	g_hash_table_destroy(self->entries);
	g_free(self);
}

static gdouble
osc_rate_limiter_rate(OscRateLimiter *self)
{
	return (gdouble)self->limit / (gdouble)self->window_s;
}

static void
osc_rate_limiter_refill(OscRateLimiter *self, OscRateEntry *entry, gint64 now_us)
{
	if (now_us > entry->updated) {
		gdouble elapsed = (gdouble)(now_us - entry->updated) / G_USEC_PER_SEC;
		entry->tokens = MIN((gdouble)self->limit,
				    entry->tokens + elapsed * osc_rate_limiter_rate(self));
		entry->updated = now_us;
	}
}

static void
osc_rate_limiter_remove(OscRateLimiter *self, OscRateEntry *entry)
{
	g_queue_unlink(&self->lru, &entry->link);
	g_hash_table_remove(self->entries, entry->client);
}

/**
 * osc_rate_limiter_check:
 * @retry_after: (out): seconds until the next attempt is allowed, when not allowed
 *
 * Returns: %TRUE if @client may try to authenticate now
 */
gboolean
osc_rate_limiter_check(OscRateLimiter *self, const gchar *client, gint64 now_us, guint *retry_after)
{
	OscRateEntry *entry;

	g_return_val_if_fail(self != NULL && client != NULL, TRUE);
	if (self->limit == 0)
		return TRUE;
	entry = g_hash_table_lookup(self->entries, client);
	if (entry == NULL)
		return TRUE;
	osc_rate_limiter_refill(self, entry, now_us);
	if (entry->tokens >= (gdouble)self->limit) {
		/* fully forgiven: nothing left to remember */
		osc_rate_limiter_remove(self, entry);
		return TRUE;
	}
	if (entry->tokens >= 1.0)
		return TRUE;
	if (retry_after != NULL)
		*retry_after = MAX(1u, (guint)ceil((1.0 - entry->tokens) /
						   osc_rate_limiter_rate(self)));
	return FALSE;
}

/**
 * osc_rate_limiter_add_failure:
 *
 * Records a failed authentication of @client.
 *
 * Returns: %TRUE if this failure used up what @client was allowed
 */
gboolean
osc_rate_limiter_add_failure(OscRateLimiter *self, const gchar *client, gint64 now_us)
{
	OscRateEntry *entry;
	gboolean was_allowed;

	g_return_val_if_fail(self != NULL && client != NULL, FALSE);
	if (self->limit == 0)
		return FALSE;
	entry = g_hash_table_lookup(self->entries, client);
	if (entry == NULL) {
		/* bounded memory: forget the address that failed longest ago */
		while (g_hash_table_size(self->entries) >= self->max_entries) {
			OscRateEntry *oldest = g_queue_peek_head(&self->lru);
			osc_rate_limiter_remove(self, oldest);
		}
		entry = g_new0(OscRateEntry, 1);
		entry->client = g_strdup(client);
		entry->tokens = self->limit;
		entry->updated = now_us;
		entry->link.data = entry;
		g_hash_table_insert(self->entries, entry->client, entry);
	} else {
		g_queue_unlink(&self->lru, &entry->link);
		osc_rate_limiter_refill(self, entry, now_us);
	}
	g_queue_push_tail_link(&self->lru, &entry->link);
	was_allowed = entry->tokens >= 1.0;
	entry->tokens = MAX(0.0, entry->tokens - 1.0);
	return was_allowed && entry->tokens < 1.0;
}

guint
osc_rate_limiter_get_size(OscRateLimiter *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return g_hash_table_size(self->entries);
}

/**
 * osc_http_limits_client_key:
 *
 * The rate limiter's name for a client: its IPv4 address, or the /64 network of an IPv6
 * one (a single host usually owns a whole /64, so counting per address would let it pick a
 * fresh one for every guess).
 */
gchar *
osc_http_limits_client_key(GSocketAddress *address)
{
	GInetAddress *inet;
	const guint8 *bytes;

	if (address == NULL || !G_IS_INET_SOCKET_ADDRESS(address))
		return g_strdup("local");
	inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address));
	if (g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV4)
		return g_inet_address_to_string(inet);
	bytes = g_inet_address_to_bytes(inet);
	if (g_inet_address_get_is_loopback(inet))
		return g_strdup("::1");
	{
		static const guint8 v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(bytes, v4_mapped, sizeof(v4_mapped)) == 0)
			return g_strdup_printf("%u.%u.%u.%u", bytes[12], bytes[13], bytes[14],
					       bytes[15]);
	}
	return g_strdup_printf("%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", bytes[0], bytes[1],
			       bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]);
}

/* ---- OscHttpLimits ---- */

/*
 * Per request the limits only write a deadline into the connection's record: arming and
 * removing a GSource per request cost more than the rest of a cached GET's own work. One
 * sweep every OSC_HTTP_LIMITS_SWEEP_MS enforces the deadlines and notices clients that hung
 * up between requests, so a timeout fires up to that much late.
 */
#define OSC_HTTP_LIMITS_SWEEP_MS 500

typedef enum {
	OSC_HTTP_CONN_READING, /* a request is being read: request_timeout */
	OSC_HTTP_CONN_HANDLED, /* read; the handler has it, for as long as it takes */
	OSC_HTTP_CONN_IDLE,    /* answered; kept alive until the next request: idle_timeout */
} OscHttpConnState;

typedef struct {
	OscHttpLimits *owner;
	GSocket *socket; /* a reference: the one libsoup leaks (see below), or our own */
	OscHttpConnState state;
	gint64 deadline;  /* monotonic µs by which the state must change; 0: none */
	gboolean refused; /* over OSC_MAX_CONNECTIONS: answered 503, not counted */
	gint64 closed_at; /* monotonic µs when first seen closed, 0 while open */
} OscHttpConn;

struct _OscHttpLimits {
	SoupServer *soup;
	gulong started_id;
	gulong read_id;
	gulong finished_id;
	guint sweep_id;
	guint n_open;
	gboolean release_leaked_sockets;
	guint max_connections;
	guint request_timeout;
	guint idle_timeout;
	gboolean https;
	GHashTable *conns; /* GSocket → OscHttpConn, owned */
	OscRateLimiter *auth;
	guint auth_window;
	OscMetric *m_auth_failures;
	OscMetric *m_rate_limited;
	OscMetric *m_conn_active;
	OscMetric *m_conn_rejected;
	OscMetric *m_conn_timeouts;
};

static void
osc_http_conn_free(OscHttpConn *conn)
{
	g_clear_object(&conn->socket);
	g_free(conn);
}

/*
 * libsoup 3.2's listener never drops the reference g_socket_accept() gave it (valgrind:
 * 344 B definitely lost per connection, in g_socket_accept under the listener's accept
 * source). Up to 3.2.3 the record of a connection takes that reference over instead of
 * a new one, and drops it when the record goes: when the connection has been closed for a
 * while, or when the limits go with the server. libsoup's own references (its connection
 * object, the stream) are its own to drop, whenever it is done, before or after us.
 *
 * (An earlier version kept its own reference and dropped the leaked one too once the
 * count was 2; at the server's end, records still open were freed without it, leaking
 * every kept-alive connection, and a count of 2 does not say whose the other one is.)
 */
static GSocket *
osc_http_limits_adopt(OscHttpLimits *self, GSocket *socket)
{
	return self->release_leaked_sockets ? socket : g_object_ref(socket);
}

static void
osc_http_conn_close(OscHttpConn *conn, const gchar *reason, guint seconds)
{
	if (g_socket_is_closed(conn->socket))
		return;
	/* shutdown, never close: the descriptor is libsoup's, which sees end-of-file and
	 * closes the connection itself */
	g_socket_shutdown(conn->socket, TRUE, TRUE, NULL);
	osc_metric_inc(conn->owner->m_conn_timeouts, 1, reason, NULL);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "OSC_EVENT", "connection_timeout",
			 "OSC_REASON", reason, "MESSAGE",
			 "closed a connection after %u s (%s timeout)", seconds, reason);
}

/*
 * libsoup 3.2 reads the end-of-file of a kept-alive connection whose client hung up
 * between requests, stops watching it, and never closes it: one descriptor (and a
 * SoupServerConnection) lost per such connection, which is how most HTTP client libraries
 * end theirs. We close the socket ourselves then. GSocket knows it is closed, so libsoup's
 * own close later does nothing, and a reused descriptor number is never closed twice.
 */
static void
osc_http_conn_reap(OscHttpConn *conn)
{
	if (g_socket_is_closed(conn->socket))
		return;
	g_socket_close(conn->socket, NULL);
}

/* between requests: has the client hung up? (a byte waiting is the next request) */
static gboolean
osc_http_conn_hung_up(OscHttpConn *conn)
{
	gchar byte;
	gssize n = recv(g_socket_get_fd(conn->socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return FALSE;
	return n <= 0;
}

/* an open connection: its deadline, and whether its client hung up between requests */
static void
osc_http_conn_check(OscHttpConn *conn, gint64 now)
{
	OscHttpLimits *self = conn->owner;

	if (conn->state == OSC_HTTP_CONN_IDLE && osc_http_conn_hung_up(conn)) {
		osc_http_conn_reap(conn);
		return;
	}
	if (conn->deadline == 0 || now < conn->deadline)
		return;
	conn->deadline = 0;
	if (conn->state == OSC_HTTP_CONN_READING) {
		osc_http_conn_close(conn, "request", self->request_timeout);
	} else if (conn->state == OSC_HTTP_CONN_IDLE) {
		osc_http_conn_close(conn, "idle", self->idle_timeout);
		/* between requests libsoup does not close what it reads the end of (see above) */
		osc_http_conn_reap(conn);
	}
}

/* counts the open connections, enforces deadlines, forgets connections long closed */
static void
osc_http_limits_sweep(OscHttpLimits *self, gboolean enforce)
{
	GHashTableIter iter;
	OscHttpConn *conn;
	gint64 now = g_get_monotonic_time();
	guint n_open = 0;

	g_hash_table_iter_init(&iter, self->conns);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&conn)) {
		if (enforce && !conn->refused && !g_socket_is_closed(conn->socket))
			osc_http_conn_check(conn, now);
		if (!g_socket_is_closed(conn->socket)) {
			if (!conn->refused)
				n_open++;
			continue;
		}
		if (conn->closed_at == 0) {
			/* let whatever still runs for it finish before looking at its references */
			conn->closed_at = now;
			conn->deadline = 0;
			continue;
		}
		if (now - conn->closed_at < G_USEC_PER_SEC)
			continue;
		g_hash_table_iter_remove(&iter);
	}
	self->n_open = n_open;
	osc_metric_set(self->m_conn_active, n_open, NULL);
}

static gboolean
osc_http_limits_sweep_cb(gpointer user_data)
{
	osc_http_limits_sweep(user_data, TRUE);
	return G_SOURCE_CONTINUE;
}

static void
osc_http_limits_refuse(OscHttpLimits *self, GSocket *socket)
{
	static const gchar body[] =
	    "{\"detail\":\"Too many connections: the server is at its connection limit, try "
	    "again later\"}";
	g_autofree gchar *reply = NULL;

	osc_metric_inc(self->m_conn_rejected, 1, NULL);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "OSC_EVENT", "connection_refused",
			 "MESSAGE", "refused a connection: %u connections open (OSC_MAX_CONNECTIONS)",
			 self->n_open);
	if (!self->https) {
		/* no request has been read yet, so libsoup cannot answer: send the answer
		 * ourselves (a fresh socket's send buffer takes it whole) */
		reply = g_strdup_printf("HTTP/1.1 503 Service Unavailable\r\n"
					"Content-Type: application/json\r\n"
					"Content-Length: %" G_GSIZE_FORMAT "\r\n"
					"Retry-After: 1\r\n"
					"Connection: close\r\n\r\n%s",
					sizeof(body) - 1, body);
		/* best effort: the connection is dropped either way */
		(void)g_socket_send_with_blocking(socket, reply, strlen(reply), FALSE, NULL,
						  NULL);
	}
	g_socket_shutdown(socket, TRUE, TRUE, NULL);
}

static void
osc_http_conn_set_state(OscHttpConn *conn, OscHttpConnState state, guint seconds)
{
	conn->state = state;
	conn->deadline = seconds > 0 ? g_get_monotonic_time() + seconds * G_USEC_PER_SEC : 0;
}

/* a new connection, or the next request on a kept-alive one */
static void
osc_http_limits_request_started_cb(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	OscHttpLimits *self = user_data;
	GSocket *socket = soup_server_message_get_socket(msg);
	OscHttpConn *conn;

	if (socket == NULL)
		return;
	conn = g_hash_table_lookup(self->conns, socket);
	if (conn == NULL) {
		/* at the limit, first forget the connections that closed since the last sweep */
		if (self->max_connections > 0 && self->n_open >= self->max_connections)
			osc_http_limits_sweep(self, FALSE);
		conn = g_new0(OscHttpConn, 1);
		conn->owner = self;
		conn->socket = osc_http_limits_adopt(self, socket);
		g_hash_table_insert(self->conns, socket, conn);
		if (self->max_connections > 0 && self->n_open >= self->max_connections) {
			/* kept in the table only for its socket to be released once closed */
			conn->refused = TRUE;
			osc_http_limits_refuse(self, socket);
			return;
		}
		self->n_open++;
		osc_metric_set(self->m_conn_active, self->n_open, NULL);
	}
	if (conn->refused)
		return;
	osc_http_conn_set_state(conn, OSC_HTTP_CONN_READING, self->request_timeout);
}

static void
osc_http_limits_request_read_cb(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	OscHttpLimits *self = user_data;
	GSocket *socket = soup_server_message_get_socket(msg);
	OscHttpConn *conn = socket != NULL ? g_hash_table_lookup(self->conns, socket) : NULL;

	/* the handler has it now, for as long as it takes (an event stream: for ever) */
	if (conn != NULL)
		osc_http_conn_set_state(conn, OSC_HTTP_CONN_HANDLED, 0);
}

/* answered: a kept-alive connection now waits for its next request */
static void
osc_http_limits_request_finished_cb(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	OscHttpLimits *self = user_data;
	GSocket *socket = soup_server_message_get_socket(msg);
	OscHttpConn *conn = socket != NULL ? g_hash_table_lookup(self->conns, socket) : NULL;

	if (conn == NULL || conn->refused)
		return;
	osc_http_conn_set_state(conn, OSC_HTTP_CONN_IDLE, self->idle_timeout);
}

/* descriptors kept for everything but client connections: the store's connections, the
 * log, the listeners, cluster peers, D-Bus, and the pipes GLib and the worker pool use */
#define OSC_HTTP_LIMITS_FD_RESERVE 64

/*
 * How many connections the descriptor limit leaves room for. Past it accept() fails with
 * EMFILE, and libsoup 3.2's listener then retries at once for as long as the connection
 * waits in the backlog: a busy loop instead of a 503.
 */
guint
osc_http_limits_fd_budget(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > G_MAXUINT)
		return G_MAXUINT;
	if (rl.rlim_cur <= 2 * OSC_HTTP_LIMITS_FD_RESERVE)
		return (guint)rl.rlim_cur / 2;
	return (guint)rl.rlim_cur - OSC_HTTP_LIMITS_FD_RESERVE;
}

OscHttpLimits *
osc_http_limits_new(SoupServer *soup, const OscConfig *config, OscMetrics *metrics)
{
	static const gchar *const kind_labels[] = {"kind", NULL};
	static const gchar *const reason_labels[] = {"reason", NULL};
	OscHttpLimits *self = g_new0(OscHttpLimits, 1);

	guint budget = osc_http_limits_fd_budget();

	self->soup = g_object_ref(soup);
	self->max_connections = config->max_connections;
	if (self->max_connections == 0 || self->max_connections > budget) {
		if (budget != G_MAXUINT)
			g_log_structured(
			    G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "OSC_EVENT", "connection_limit",
			    "MESSAGE",
			    "the descriptor limit (RLIMIT_NOFILE) leaves room for %u connections: "
			    "using that instead of OSC_MAX_CONNECTIONS=%u",
			    budget, config->max_connections);
		self->max_connections = budget == G_MAXUINT ? 0 : budget;
	}
	self->request_timeout = config->request_timeout;
	self->idle_timeout = config->idle_timeout;
	self->https = config->https_enabled;
	self->auth = osc_rate_limiter_new(config->auth_fail_limit, config->auth_fail_window,
					  OSC_RATE_LIMITER_MAX_ENTRIES);
	self->auth_window = config->auth_fail_window;
	self->conns = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					    (GDestroyNotify)osc_http_conn_free);
	self->m_auth_failures = osc_metrics_add_counter(
	    metrics, "osc_auth_failures_total",
	    "Failed authentications (kind: api_key 403, user_key 401)", kind_labels);
	self->m_rate_limited = osc_metrics_add_counter(
	    metrics, "osc_rate_limited_total",
	    "Requests refused with 429 after too many failed authentications", NULL);
	self->m_conn_active = osc_metrics_add_gauge(metrics, "osc_http_connections",
						    "Open HTTP connections", NULL);
	self->m_conn_rejected = osc_metrics_add_counter(
	    metrics, "osc_http_connections_rejected_total",
	    "Connections refused at OSC_MAX_CONNECTIONS", NULL);
	self->m_conn_timeouts = osc_metrics_add_counter(
	    metrics, "osc_http_connection_timeouts_total",
	    "Connections closed by a timeout (reason: request = OSC_REQUEST_TIMEOUT, idle = "
	    "OSC_IDLE_TIMEOUT)",
	    reason_labels);
	self->started_id = g_signal_connect(soup, "request-started",
					    G_CALLBACK(osc_http_limits_request_started_cb), self);
	self->read_id = g_signal_connect(soup, "request-read",
					 G_CALLBACK(osc_http_limits_request_read_cb), self);
	self->finished_id = g_signal_connect(soup, "request-finished",
					     G_CALLBACK(osc_http_limits_request_finished_cb), self);
	/* the versions the leak was measured in (Debian 12 ships 3.2.3) */
	self->release_leaked_sockets = soup_get_major_version() == 3 &&
				       soup_get_minor_version() == 2 && soup_get_micro_version() <= 3;
	self->sweep_id = g_timeout_add(OSC_HTTP_LIMITS_SWEEP_MS, osc_http_limits_sweep_cb, self);
	return self;
}

void
osc_http_limits_free(OscHttpLimits *self)
{
	if (self == NULL)
		return;
	g_clear_signal_handler(&self->started_id, self->soup);
	g_clear_signal_handler(&self->read_id, self->soup);
	g_clear_signal_handler(&self->finished_id, self->soup);
	g_clear_handle_id(&self->sweep_id, g_source_remove);
	/* the server closes every connection next, and nothing counts them any more */
	osc_metric_set(self->m_conn_active, 0, NULL);
	/* drops the sockets' leaked references (osc_http_limits_adopt()): libsoup holds its
	 * own for as long as it still uses one */
	g_hash_table_destroy(self->conns);
	osc_rate_limiter_free(self->auth);
	g_clear_object(&self->soup);
	g_free(self);
}

/* the connection limit in force: OSC_MAX_CONNECTIONS within the descriptor limit; 0: none */
guint
osc_http_limits_get_max_connections(OscHttpLimits *self)
{
	return self->max_connections;
}

guint
osc_http_limits_get_connections(OscHttpLimits *self)
{
	osc_http_limits_sweep(self, FALSE);
	return self->n_open;
}

/**
 * osc_http_limits_auth_allowed:
 * @retry_after: (out): seconds to wait, when not allowed
 *
 * Called before the credentials of a request are looked at.
 *
 * Returns: %FALSE when the client's address has failed too often: answer 429
 */
gboolean
osc_http_limits_auth_allowed(OscHttpLimits *self, SoupServerMessage *msg, guint *retry_after)
{
	g_autofree gchar *client = NULL;

	/* nobody failed lately: no need to name the client */
	if (osc_rate_limiter_get_size(self->auth) == 0)
		return TRUE;
	client = osc_http_limits_client_key(soup_server_message_get_remote_address(msg));
	if (osc_rate_limiter_check(self->auth, client, g_get_monotonic_time(), retry_after))
		return TRUE;
	osc_metric_inc(self->m_rate_limited, 1, NULL);
	return FALSE;
}

/**
 * osc_http_limits_auth_failed:
 * @status: 403 (API key) or 401 (user key)
 *
 * Counts and logs a failed authentication; never given, never logs, the credentials.
 */
void
osc_http_limits_auth_failed(OscHttpLimits *self,
			    SoupServerMessage *msg,
			    guint status,
			    const gchar *route)
{
	g_autofree gchar *client =
	    osc_http_limits_client_key(soup_server_message_get_remote_address(msg));
	const gchar *kind = status == 403 ? "api_key" : "user_key";

	osc_metric_inc(self->m_auth_failures, 1, kind, NULL);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "OSC_EVENT", "auth_failure", "OSC_CLIENT",
			 client, "OSC_AUTH_KIND", kind, "OSC_ROUTE", route, "MESSAGE",
			 "authentication failed (%s) from %s on %s", kind, client, route);
	if (osc_rate_limiter_add_failure(self->auth, client, g_get_monotonic_time()))
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "OSC_EVENT", "rate_limited",
				 "OSC_CLIENT", client, "MESSAGE",
				 "%s failed to authenticate too often: refusing its "
				 "authenticated requests with 429 for a while (OSC_AUTH_FAIL_LIMIT "
				 "per OSC_AUTH_FAIL_WINDOW=%u s)",
				 client, self->auth_window);
}
