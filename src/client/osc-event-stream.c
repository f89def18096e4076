/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscClient"

#include "config.h"

#include "osc-event-stream.h"

#include <math.h>

#include "osc-client-private.h"
#include "osc-event-private.h"
#include "osc-sse-parser.h"

/**
 * OscEventStream:
 *
 * A subscription to the server's change events, `GET /sse/subscribe` (API.md §5), the
 * counterpart of the original Python `SSEClient` (API.md §12.4).
 *
 * osc_event_stream_start() connects and emits #OscEventStream::event for each event, on the
 * thread-default main context of the caller of start. When the connection drops the stream
 * reconnects after a back-off delay and sends `Last-Event-ID`, so the server replays what
 * was missed; when it cannot, it sends `reset` and #OscEventStream::reset tells the
 * application to reload.
 *
 * Values are in the events only when #OscEventStream:user-key is set and opens the entry.
 *
 * Changing the keys or the filters while the stream runs subscribes again with them
 * (#OscEventStream:connected turns %FALSE, then %TRUE), resuming after the last event.
 */

#define OSC_EVENT_STREAM_READ_SIZE 8192

struct _OscEventStream {
	GObject parent_instance;

	/* settings */
	gchar *base_url;
	gchar *api_key;
	gchar *user_key;
	gchar *key;
	gchar *environment;
	gchar *category;
	gboolean auto_reconnect;
	gdouble initial_delay;
	gdouble backoff_factor;
	gdouble max_delay;
	gint max_attempts;
	guint idle_timeout;
	gboolean tls_verify;

	/* state */
	GMainContext *context;
	SoupSession *session;
	SoupMessage *msg;
	GInputStream *stream;
	GCancellable *cancellable; /* the current connection's */
	OscSseParser *parser;
	GSource *reconnect_source;
	GSource *watchdog_source;
	gboolean running;
	gboolean connected;
	guint attempts; /* consecutive reconnection attempts that did not connect */
	gchar *subscription_id;
	gchar *last_event_id;

	/* statistics */
	guint64 events_received;
	GHashTable *events_by_type; /* name → count */
	guint64 keepalives;
	guint64 reconnections;
	guint64 errors;
	gint64 connected_mono;
	GDateTime *connected_at;
	GDateTime *last_event_at;
};

G_DEFINE_FINAL_TYPE(OscEventStream, osc_event_stream, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_BASE_URL,
	PROP_API_KEY,
	PROP_USER_KEY,
	PROP_KEY,
	PROP_ENVIRONMENT,
	PROP_CATEGORY,
	PROP_AUTO_RECONNECT,
	PROP_INITIAL_DELAY,
	PROP_BACKOFF_FACTOR,
	PROP_MAX_DELAY,
	PROP_MAX_ATTEMPTS,
	PROP_IDLE_TIMEOUT,
	PROP_TLS_VERIFY,
	PROP_CONNECTED,
	PROP_RUNNING,
	PROP_SUBSCRIPTION_ID,
	PROP_LAST_EVENT_ID,
	N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum { SIGNAL_EVENT, SIGNAL_RESET, SIGNAL_ERROR, N_SIGNALS };

static guint signals[N_SIGNALS];

/* one connection's callbacks carry this, so that a stale callback can tell it is stale */
typedef struct {
	OscEventStream *self;
	GCancellable *cancellable;
} OscStreamOp;

static OscStreamOp *
osc_stream_op_new(OscEventStream *self)
{
	OscStreamOp *op = g_new0(OscStreamOp, 1);

	op->self = g_object_ref(self);
	op->cancellable = g_object_ref(self->cancellable);
	return op;
}

static void
osc_stream_op_free(OscStreamOp *op)
{
	g_object_unref(op->self);
	g_object_unref(op->cancellable);
	g_free(op);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscStreamOp, osc_stream_op_free)

static void osc_event_stream_connect(OscEventStream *self);

static void
osc_event_stream_set_connected(OscEventStream *self, gboolean connected)
{
	if (self->connected == connected)
		return;
	self->connected = connected;
	if (connected) {
		self->connected_mono = g_get_monotonic_time();
		g_clear_pointer(&self->connected_at, g_date_time_unref);
		self->connected_at = g_date_time_new_now_local();
	}
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CONNECTED]);
}

static void
osc_event_stream_set_running(OscEventStream *self, gboolean running)
{
	if (self->running == running)
		return;
	self->running = running;
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_RUNNING]);
}

static void
osc_event_stream_clear_source(GSource **source)
{
	if (*source == NULL)
		return;
	g_source_destroy(*source);
	g_clear_pointer(source, g_source_unref);
}

/* drops the current connection, if any, without reporting anything */
static void
osc_event_stream_drop(OscEventStream *self)
{
	osc_event_stream_clear_source(&self->watchdog_source);
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	/* an unfinished body cannot be closed without reading it to the end, which an event
	 * stream never has: abort the (dedicated) session, which closes its connection */
	if (self->session != NULL && (self->msg != NULL || self->stream != NULL))
		soup_session_abort(self->session);
	g_clear_object(&self->stream);
	g_clear_object(&self->msg);
	if (self->parser != NULL)
		osc_sse_parser_finish(self->parser);
	osc_event_stream_set_connected(self, FALSE);
}

static void
osc_event_stream_emit_error(OscEventStream *self, const GError *error)
{
	self->errors++;
	g_debug("event stream: %s", error->message);
	g_signal_emit(self, signals[SIGNAL_ERROR], 0, error);
}

static void
osc_event_stream_give_up(OscEventStream *self, const GError *error)
{
	osc_event_stream_drop(self);
	osc_event_stream_clear_source(&self->reconnect_source);
	osc_event_stream_set_running(self, FALSE);
	if (error != NULL)
		osc_event_stream_emit_error(self, error);
}

static gboolean
osc_event_stream_reconnect_cb(gpointer user_data)
{
	OscEventStream *self = OSC_EVENT_STREAM(user_data);

	g_clear_pointer(&self->reconnect_source, g_source_unref);
	self->reconnections++;
	osc_event_stream_connect(self);
	return G_SOURCE_REMOVE;
}

/* after a drop or a failed attempt: wait, then connect again (or stop, if so configured) */
static void
osc_event_stream_schedule_reconnect(OscEventStream *self)
{
	gdouble delay;

	if (!self->running)
		return;
	if (!self->auto_reconnect) {
		osc_event_stream_give_up(self, NULL);
		return;
	}
	if (self->max_attempts >= 0 && self->attempts >= (guint)self->max_attempts) {
		g_autoptr(GError) error =
			g_error_new(OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_SSE,
				    "Gave up reconnecting after %u attempts", self->attempts);
		osc_event_stream_give_up(self, error);
		return;
	}
	/* initial-delay × backoff-factor^n, capped; the first retry after a drop waits too, so
	 * a server that accepts and closes at once cannot make us spin (D49) */
	delay = MIN(self->initial_delay * pow(self->backoff_factor, self->attempts),
		    self->max_delay);
	self->attempts++;
	g_debug("event stream: reconnecting in %.2f s (attempt %u)", delay, self->attempts);
	osc_event_stream_clear_source(&self->reconnect_source);
	self->reconnect_source = g_timeout_source_new((guint)(delay * 1000.0));
	g_source_set_name(self->reconnect_source, "[osc-client] event stream reconnect");
	g_source_set_callback(self->reconnect_source, osc_event_stream_reconnect_cb, self, NULL);
	g_source_attach(self->reconnect_source, self->context);
}

/* the connection ended; @error is NULL for a clean end of the stream */
static void
osc_event_stream_disconnected(OscEventStream *self, const GError *error)
{
	osc_event_stream_drop(self);
	if (error != NULL)
		osc_event_stream_emit_error(self, error);
	else
		g_debug("event stream: the server ended the stream");
	osc_event_stream_schedule_reconnect(self);
}

static gboolean
osc_event_stream_watchdog_cb(gpointer user_data)
{
	OscEventStream *self = OSC_EVENT_STREAM(user_data);
	g_autoptr(GError) error =
		g_error_new(OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_TIMEOUT,
			    "No data from the event stream for %u s", self->idle_timeout);

	g_clear_pointer(&self->watchdog_source, g_source_unref);
	osc_event_stream_disconnected(self, error);
	return G_SOURCE_REMOVE;
}

/* the server sends a keep-alive comment every 15 s: silence for longer means a dead peer */
static void
osc_event_stream_kick_watchdog(OscEventStream *self)
{
	if (self->idle_timeout == 0)
		return;
	if (self->watchdog_source != NULL) {
		g_source_set_ready_time(self->watchdog_source,
					g_get_monotonic_time() +
						(gint64)self->idle_timeout * G_USEC_PER_SEC);
		return;
	}
	self->watchdog_source = g_timeout_source_new_seconds(self->idle_timeout);
	g_source_set_name(self->watchdog_source, "[osc-client] event stream watchdog");
	g_source_set_callback(self->watchdog_source, osc_event_stream_watchdog_cb, self, NULL);
	g_source_attach(self->watchdog_source, self->context);
}

static void
osc_event_stream_set_last_event_id_internal(OscEventStream *self, const gchar *id)
{
	if (g_strcmp0(self->last_event_id, id) == 0)
		return;
	g_free(self->last_event_id);
	self->last_event_id = g_strdup(id);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_LAST_EVENT_ID]);
}

static void
osc_event_stream_event_cb(const gchar *event_type, const gchar *data, const gchar *id,
			  gpointer user_data)
{
	OscEventStream *self = OSC_EVENT_STREAM(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEvent) event = osc_event_new_from_sse(event_type, data, id, &error);
	gpointer count;

	if (event == NULL) {
		g_prefix_error(&error, "Event '%s' skipped: ", event_type);
		osc_event_stream_emit_error(self, error);
		return;
	}
	self->events_received++;
	count = g_hash_table_lookup(self->events_by_type, event_type);
	g_hash_table_replace(self->events_by_type, g_strdup(event_type),
			     GSIZE_TO_POINTER(GPOINTER_TO_SIZE(count) + 1));
	g_clear_pointer(&self->last_event_at, g_date_time_unref);
	self->last_event_at = g_date_time_new_now_local();

	/*
	 * The `connected` event carries the server's current sequence number. Adopt it only
	 * on a first connection: after a reconnection our own id is older, and the replay of
	 * what we missed follows the `connected` event.
	 */
	if (id != NULL && (!g_str_equal(event_type, "connected") || self->last_event_id == NULL))
		osc_event_stream_set_last_event_id_internal(self, id);
	if (g_str_equal(event_type, "connected")) {
		g_free(self->subscription_id);
		self->subscription_id = g_strdup(osc_event_get_subscription_id(event));
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SUBSCRIPTION_ID]);
	}
	if (g_str_equal(event_type, "reset"))
		g_signal_emit(self, signals[SIGNAL_RESET], 0, event);
	else
		g_signal_emit(self, signals[SIGNAL_EVENT], g_quark_from_string(event_type), event);
}

static void
osc_event_stream_comment_cb(const gchar *comment, gpointer user_data)
{
	OscEventStream *self = OSC_EVENT_STREAM(user_data);

	self->keepalives++;
}

static void osc_event_stream_read_cb(GObject *source, GAsyncResult *result, gpointer user_data);

/* takes @op */
static void
osc_event_stream_read_more(OscStreamOp *op)
{
	GCancellable *cancellable = op->cancellable;

	g_input_stream_read_bytes_async(op->self->stream, OSC_EVENT_STREAM_READ_SIZE,
					G_PRIORITY_DEFAULT, cancellable, osc_event_stream_read_cb,
					op);
}

static void
osc_event_stream_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscStreamOp) op = user_data;
	OscEventStream *self = op->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes =
		g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
	gconstpointer data;
	gsize len = 0;

	if (g_cancellable_is_cancelled(op->cancellable))
		return; /* stopped, or dropped by the watchdog */
	if (bytes == NULL) {
		g_autoptr(GError) e = g_error_new(OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_SSE,
						  "The event stream failed: %s", error->message);
		osc_event_stream_disconnected(self, e);
		return;
	}
	data = g_bytes_get_data(bytes, &len);
	if (len == 0) {
		osc_event_stream_disconnected(self, NULL);
		return;
	}
	osc_event_stream_kick_watchdog(self);
	/* handlers may stop or drop the stream: the op keeps us alive, the cancellable tells */
	osc_sse_parser_feed(self->parser, data, len);
	if (g_cancellable_is_cancelled(op->cancellable))
		return;
	osc_event_stream_read_more(g_steal_pointer(&op));
}

static gboolean
osc_event_stream_status_is_permanent(guint status)
{
	/* asking again will not change these answers */
	return status == 400 || status == 401 || status == 403 || status == 404 || status == 405 ||
	       status == 422;
}

static void
osc_event_stream_sent_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscStreamOp) op = user_data;
	OscEventStream *self = op->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(GInputStream) stream =
		soup_session_send_finish(SOUP_SESSION(source), result, &error);
	const gchar *content_type;
	guint status;

	if (g_cancellable_is_cancelled(op->cancellable))
		return;
	if (stream == NULL) {
		g_autoptr(GError) e = g_error_new(OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CONNECTION,
						  "Cannot connect to the event stream of %s: %s",
						  self->base_url, error->message);
		if (error->domain == G_TLS_ERROR) {
			osc_event_stream_give_up(self, e);
			return;
		}
		osc_event_stream_disconnected(self, e);
		return;
	}
	status = soup_message_get_status(self->msg);
	if (status != SOUP_STATUS_OK) {
		g_autoptr(GError) e = NULL;

		osc_client_set_http_error(&e, status, soup_message_get_reason_phrase(self->msg),
					  NULL);
		g_prefix_error(&e, "Event stream: ");
		if (osc_event_stream_status_is_permanent(status))
			osc_event_stream_give_up(self, e);
		else
			osc_event_stream_disconnected(self, e);
		return;
	}
	content_type = soup_message_headers_get_content_type(
		soup_message_get_response_headers(self->msg), NULL);
	if (g_strcmp0(content_type, "text/event-stream") != 0) {
		g_autoptr(GError) e =
			g_error_new(OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_SSE,
				    "The server answered with %s, not an event stream",
				    content_type != NULL ? content_type : "no content type");
		osc_event_stream_give_up(self, e);
		return;
	}

	self->stream = g_steal_pointer(&stream);
	self->attempts = 0;
	osc_event_stream_set_connected(self, TRUE);
	osc_event_stream_read_more(g_steal_pointer(&op));
}

static gboolean
osc_event_stream_accept_certificate_cb(SoupMessage *msg, GTlsCertificate *certificate,
				       GTlsCertificateFlags errors, gpointer user_data)
{
	return TRUE;
}

static gchar *
osc_event_stream_build_url(OscEventStream *self)
{
	GString *url = g_string_new(self->base_url);
	const gchar *filters[][2] = {{"key", self->key},
				     {"environment", self->environment},
				     {"category", self->category}};
	gboolean first = TRUE;

	g_string_append(url, "/sse/subscribe");
	for (guint i = 0; i < G_N_ELEMENTS(filters); i++) {
		g_autofree gchar *escaped = NULL;

		/* only the filters that are set, as the Python client */
		if (filters[i][1] == NULL || filters[i][1][0] == '\0')
			continue;
		escaped = g_uri_escape_string(filters[i][1], NULL, FALSE);
		g_string_append_printf(url, "%c%s=%s", first ? '?' : '&', filters[i][0], escaped);
		first = FALSE;
	}
	return g_string_free(url, FALSE);
}

static void
osc_event_stream_connect(OscEventStream *self)
{
	g_autofree gchar *url = NULL;
	g_autoptr(GUri) uri = NULL;
	SoupMessageHeaders *headers;

	g_assert(self->running);
	osc_event_stream_drop(self);
	url = osc_event_stream_build_url(self);
	uri = g_uri_parse(url, SOUP_HTTP_URI_FLAGS, NULL);
	if (uri == NULL || (g_strcmp0(g_uri_get_scheme(uri), "http") != 0 &&
			    g_strcmp0(g_uri_get_scheme(uri), "https") != 0)) {
		g_autoptr(GError) e = g_error_new(OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CONNECTION,
						  "Invalid server URL '%s'",
						  self->base_url != NULL ? self->base_url : "");
		osc_event_stream_give_up(self, e);
		return;
	}

	self->msg = soup_message_new_from_uri("GET", uri);
	headers = soup_message_get_request_headers(self->msg);
	soup_message_headers_replace(headers, "Accept", "text/event-stream");
	soup_message_headers_replace(headers, "Cache-Control", "no-store");
	if (self->api_key != NULL)
		soup_message_headers_replace(headers, "X-API-Key", self->api_key);
	if (self->user_key != NULL) {
		g_autofree gchar *v = osc_client_header_encode(self->user_key);
		soup_message_headers_replace(headers, "X-User-Key", v);
		memset(v, 0, strlen(v));
	}
	if (self->last_event_id != NULL)
		soup_message_headers_replace(headers, "Last-Event-ID", self->last_event_id);
	if (!self->tls_verify)
		g_signal_connect(self->msg, "accept-certificate",
				 G_CALLBACK(osc_event_stream_accept_certificate_cb), NULL);

	g_clear_pointer(&self->parser, osc_sse_parser_free);
	self->parser =
		osc_sse_parser_new(osc_event_stream_event_cb, osc_event_stream_comment_cb, self);
	self->cancellable = g_cancellable_new();
	/* the watchdog also bounds connecting: the session itself has no timeout, since an
	 * idle event stream is normal between keep-alives */
	osc_event_stream_kick_watchdog(self);
	soup_session_send_async(self->session, self->msg, G_PRIORITY_DEFAULT, self->cancellable,
				osc_event_stream_sent_cb, osc_stream_op_new(self));
}

static gboolean
osc_event_stream_resubscribe_cb(gpointer user_data)
{
	OscEventStream *self = OSC_EVENT_STREAM(user_data);

	g_clear_pointer(&self->reconnect_source, g_source_unref);
	osc_event_stream_connect(self);
	return G_SOURCE_REMOVE;
}

/*
 * A setting the subscription request carries (a key, a filter) changed: the running
 * subscription still has the old one, so replace it. The connection is dropped now and the
 * new one opened from the main context, since the caller may be one of our own handlers,
 * inside the parser. Last-Event-ID goes along, so nothing is missed in between. While
 * waiting to reconnect there is nothing to replace: that attempt uses the new setting.
 */
static void
osc_event_stream_resubscribe(OscEventStream *self)
{
	if (!self->running || self->reconnect_source != NULL)
		return;
	g_debug("event stream: subscribing again with the new settings");
	osc_event_stream_drop(self);
	self->attempts = 0;
	self->reconnect_source = g_idle_source_new();
	g_source_set_priority(self->reconnect_source, G_PRIORITY_DEFAULT);
	g_source_set_name(self->reconnect_source, "[osc-client] event stream resubscribe");
	g_source_set_callback(self->reconnect_source, osc_event_stream_resubscribe_cb, self, NULL);
	g_source_attach(self->reconnect_source, self->context);
}

/**
 * osc_event_stream_start:
 *
 * Connects, and keeps the subscription going until osc_event_stream_stop(). Signals are
 * emitted on the thread-default main context of this call. Does nothing when running.
 */
void
osc_event_stream_start(OscEventStream *self)
{
	g_return_if_fail(OSC_IS_EVENT_STREAM(self));

	if (self->running)
		return;
	g_clear_pointer(&self->context, g_main_context_unref);
	self->context = g_main_context_ref_thread_default();
	if (self->session == NULL)
		self->session =
			soup_session_new_with_options("timeout", 0, "idle-timeout", 0, "user-agent",
						      "libosc-client/" PACKAGE_VERSION, NULL);
	self->attempts = 0;
	osc_event_stream_set_running(self, TRUE);
	osc_event_stream_connect(self);
}

/**
 * osc_event_stream_stop:
 *
 * Closes the connection and stops reconnecting. No signal is emitted after this returns.
 */
void
osc_event_stream_stop(OscEventStream *self)
{
	g_return_if_fail(OSC_IS_EVENT_STREAM(self));

	osc_event_stream_clear_source(&self->reconnect_source);
	osc_event_stream_drop(self);
	osc_event_stream_set_running(self, FALSE);
}

/* ---- GObject ---- */

static void
osc_event_stream_dispose(GObject *object)
{
	OscEventStream *self = OSC_EVENT_STREAM(object);

	osc_event_stream_clear_source(&self->reconnect_source);
	osc_event_stream_drop(self);
	self->running = FALSE;
	g_clear_object(&self->session);
	G_OBJECT_CLASS(osc_event_stream_parent_class)->dispose(object);
}

static void
osc_event_stream_finalize(GObject *object)
{
	OscEventStream *self = OSC_EVENT_STREAM(object);

	g_free(self->base_url);
	g_free(self->api_key);
	if (self->user_key != NULL)
		memset(self->user_key, 0, strlen(self->user_key));
	g_free(self->user_key);
	g_free(self->key);
	g_free(self->environment);
	g_free(self->category);
	g_clear_pointer(&self->parser, osc_sse_parser_free);
	g_clear_pointer(&self->context, g_main_context_unref);
	g_free(self->subscription_id);
	g_free(self->last_event_id);
	g_hash_table_unref(self->events_by_type);
	g_clear_pointer(&self->connected_at, g_date_time_unref);
	g_clear_pointer(&self->last_event_at, g_date_time_unref);
	G_OBJECT_CLASS(osc_event_stream_parent_class)->finalize(object);
}

static void
osc_event_stream_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscEventStream *self = OSC_EVENT_STREAM(object);

	switch (prop_id) {
	case PROP_BASE_URL:
		g_value_set_string(value, self->base_url);
		break;
	case PROP_API_KEY:
		g_value_set_string(value, self->api_key);
		break;
	case PROP_USER_KEY:
		g_value_set_string(value, self->user_key);
		break;
	case PROP_KEY:
		g_value_set_string(value, self->key);
		break;
	case PROP_ENVIRONMENT:
		g_value_set_string(value, self->environment);
		break;
	case PROP_CATEGORY:
		g_value_set_string(value, self->category);
		break;
	case PROP_AUTO_RECONNECT:
		g_value_set_boolean(value, self->auto_reconnect);
		break;
	case PROP_INITIAL_DELAY:
		g_value_set_double(value, self->initial_delay);
		break;
	case PROP_BACKOFF_FACTOR:
		g_value_set_double(value, self->backoff_factor);
		break;
	case PROP_MAX_DELAY:
		g_value_set_double(value, self->max_delay);
		break;
	case PROP_MAX_ATTEMPTS:
		g_value_set_int(value, self->max_attempts);
		break;
	case PROP_IDLE_TIMEOUT:
		g_value_set_uint(value, self->idle_timeout);
		break;
	case PROP_TLS_VERIFY:
		g_value_set_boolean(value, self->tls_verify);
		break;
	case PROP_CONNECTED:
		g_value_set_boolean(value, self->connected);
		break;
	case PROP_RUNNING:
		g_value_set_boolean(value, self->running);
		break;
	case PROP_SUBSCRIPTION_ID:
		g_value_set_string(value, self->subscription_id);
		break;
	case PROP_LAST_EVENT_ID:
		g_value_set_string(value, self->last_event_id);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

/* returns whether the value changed */
static gboolean
osc_event_stream_set_string(OscEventStream *self, gchar **field, const gchar *value, guint prop)
{
	if (g_strcmp0(*field, value) == 0)
		return FALSE;
	g_free(*field);
	*field = g_strdup(value);
	g_object_notify_by_pspec(G_OBJECT(self), properties[prop]);
	return TRUE;
}

/* the user key is a secret: the old one is wiped */
static gboolean
osc_event_stream_set_user_key(OscEventStream *self, const gchar *user_key)
{
	if (g_strcmp0(self->user_key, user_key) == 0)
		return FALSE;
	if (self->user_key != NULL)
		memset(self->user_key, 0, strlen(self->user_key));
	g_free(self->user_key);
	self->user_key = g_strdup(user_key);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_USER_KEY]);
	return TRUE;
}

#define OSC_SET_SCALAR(field, v, prop)                                                             \
	G_STMT_START                                                                               \
	{                                                                                          \
		if (self->field != (v)) {                                                          \
			self->field = (v);                                                         \
			g_object_notify_by_pspec(object, properties[prop]);                        \
		}                                                                                  \
	}                                                                                          \
	G_STMT_END

static void
osc_event_stream_set_property(GObject *object, guint prop_id, const GValue *value,
			      GParamSpec *pspec)
{
	OscEventStream *self = OSC_EVENT_STREAM(object);

	switch (prop_id) {
	case PROP_BASE_URL: {
		g_autofree gchar *url = osc_client_normalize_base_url(g_value_get_string(value));
		osc_event_stream_set_string(self, &self->base_url, url, prop_id);
		break;
	}
	/* what the subscription request carries: a change applies to the running one */
	case PROP_API_KEY:
		if (osc_event_stream_set_string(self, &self->api_key, g_value_get_string(value),
						prop_id))
			osc_event_stream_resubscribe(self);
		break;
	case PROP_USER_KEY:
		if (osc_event_stream_set_user_key(self, g_value_get_string(value)))
			osc_event_stream_resubscribe(self);
		break;
	case PROP_KEY:
		if (osc_event_stream_set_string(self, &self->key, g_value_get_string(value),
						prop_id))
			osc_event_stream_resubscribe(self);
		break;
	case PROP_ENVIRONMENT:
		if (osc_event_stream_set_string(self, &self->environment, g_value_get_string(value),
						prop_id))
			osc_event_stream_resubscribe(self);
		break;
	case PROP_CATEGORY:
		if (osc_event_stream_set_string(self, &self->category, g_value_get_string(value),
						prop_id))
			osc_event_stream_resubscribe(self);
		break;
	case PROP_AUTO_RECONNECT:
		OSC_SET_SCALAR(auto_reconnect, g_value_get_boolean(value), prop_id);
		break;
	case PROP_INITIAL_DELAY:
		OSC_SET_SCALAR(initial_delay, g_value_get_double(value), prop_id);
		break;
	case PROP_BACKOFF_FACTOR:
		OSC_SET_SCALAR(backoff_factor, g_value_get_double(value), prop_id);
		break;
	case PROP_MAX_DELAY:
		OSC_SET_SCALAR(max_delay, g_value_get_double(value), prop_id);
		break;
	case PROP_MAX_ATTEMPTS:
		OSC_SET_SCALAR(max_attempts, g_value_get_int(value), prop_id);
		break;
	case PROP_IDLE_TIMEOUT:
		OSC_SET_SCALAR(idle_timeout, g_value_get_uint(value), prop_id);
		break;
	case PROP_TLS_VERIFY:
		OSC_SET_SCALAR(tls_verify, g_value_get_boolean(value), prop_id);
		break;
	case PROP_LAST_EVENT_ID:
		osc_event_stream_set_last_event_id(self, g_value_get_string(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_event_stream_class_init(OscEventStreamClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS |
			       G_PARAM_EXPLICIT_NOTIFY;
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

	object_class->dispose = osc_event_stream_dispose;
	object_class->finalize = osc_event_stream_finalize;
	object_class->get_property = osc_event_stream_get_property;
	object_class->set_property = osc_event_stream_set_property;

	/**
	 * OscEventStream:base-url:
	 *
	 * The server, e.g. `http://127.0.0.1:9000`.
	 */
	properties[PROP_BASE_URL] = g_param_spec_string("base-url", NULL, NULL, NULL, rw);
	/**
	 * OscEventStream:api-key:
	 *
	 * Sent as `X-API-Key` when set.
	 */
	properties[PROP_API_KEY] = g_param_spec_string("api-key", NULL, NULL, NULL, rw);
	/**
	 * OscEventStream:user-key:
	 *
	 * Sent as `X-User-Key` when set: events about entries it opens carry their value.
	 * Setting another one while running subscribes again with it (after a re-key).
	 */
	properties[PROP_USER_KEY] = g_param_spec_string("user-key", NULL, NULL, NULL, rw);
	/**
	 * OscEventStream:key:
	 *
	 * Only events about this key, when set.
	 */
	properties[PROP_KEY] = g_param_spec_string("key", NULL, NULL, NULL, rw);
	/**
	 * OscEventStream:environment:
	 *
	 * Only events about this environment, when set.
	 */
	properties[PROP_ENVIRONMENT] = g_param_spec_string("environment", NULL, NULL, NULL, rw);
	/**
	 * OscEventStream:category:
	 *
	 * Only events about this category, when set.
	 */
	properties[PROP_CATEGORY] = g_param_spec_string("category", NULL, NULL, NULL, rw);
	/**
	 * OscEventStream:auto-reconnect:
	 *
	 * Whether to reconnect when the connection drops or fails.
	 */
	properties[PROP_AUTO_RECONNECT] =
		g_param_spec_boolean("auto-reconnect", NULL, NULL, TRUE, rw);
	/**
	 * OscEventStream:initial-delay:
	 *
	 * Seconds before the first reconnection attempt.
	 */
	properties[PROP_INITIAL_DELAY] =
		g_param_spec_double("initial-delay", NULL, NULL, 0.0, 3600.0, 5.0, rw);
	/**
	 * OscEventStream:backoff-factor:
	 *
	 * Each further attempt waits this many times longer.
	 */
	properties[PROP_BACKOFF_FACTOR] =
		g_param_spec_double("backoff-factor", NULL, NULL, 1.0, 100.0, 2.0, rw);
	/**
	 * OscEventStream:max-delay:
	 *
	 * The longest wait between attempts, in seconds.
	 */
	properties[PROP_MAX_DELAY] =
		g_param_spec_double("max-delay", NULL, NULL, 0.0, 86400.0, 60.0, rw);
	/**
	 * OscEventStream:max-attempts:
	 *
	 * How many reconnection attempts in a row may fail before the stream stops; -1 for no
	 * limit.
	 */
	properties[PROP_MAX_ATTEMPTS] =
		g_param_spec_int("max-attempts", NULL, NULL, -1, G_MAXINT, -1, rw);
	/**
	 * OscEventStream:idle-timeout:
	 *
	 * Seconds without any data (the server sends keep-alives every 15 s) after which the
	 * connection counts as dead and is replaced; 0 disables the check.
	 */
	properties[PROP_IDLE_TIMEOUT] =
		g_param_spec_uint("idle-timeout", NULL, NULL, 0, 86400, 60, rw);
	/**
	 * OscEventStream:tls-verify:
	 *
	 * Whether to check the server's TLS certificate.
	 */
	properties[PROP_TLS_VERIFY] = g_param_spec_boolean("tls-verify", NULL, NULL, TRUE, rw);
	/**
	 * OscEventStream:connected:
	 *
	 * Whether the stream is open now.
	 */
	properties[PROP_CONNECTED] = g_param_spec_boolean("connected", NULL, NULL, FALSE, ro);
	/**
	 * OscEventStream:running:
	 *
	 * Whether the stream is started: connected, or waiting to reconnect.
	 */
	properties[PROP_RUNNING] = g_param_spec_boolean("running", NULL, NULL, FALSE, ro);
	/**
	 * OscEventStream:subscription-id:
	 *
	 * The server's id for the current subscription, from its `connected` event.
	 */
	properties[PROP_SUBSCRIPTION_ID] =
		g_param_spec_string("subscription-id", NULL, NULL, NULL, ro);
	/**
	 * OscEventStream:last-event-id:
	 *
	 * The id of the last event received, sent as `Last-Event-ID` on reconnection. Set it
	 * before osc_event_stream_start() to resume where an earlier stream stopped.
	 */
	properties[PROP_LAST_EVENT_ID] = g_param_spec_string(
		"last-event-id", NULL, NULL, NULL,
		G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

	g_object_class_install_properties(object_class, N_PROPS, properties);

	/**
	 * OscEventStream::event:
	 * @self: the stream
	 * @event: the event
	 *
	 * An event arrived: `connected`, `created`, `updated`, `deleted` or `sync`. The
	 * signal detail is the event type, e.g. `event::deleted`.
	 */
	signals[SIGNAL_EVENT] = g_signal_new("event", G_TYPE_FROM_CLASS(klass),
					     G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL, NULL,
					     NULL, G_TYPE_NONE, 1, OSC_TYPE_EVENT);
	/**
	 * OscEventStream::reset:
	 * @self: the stream
	 * @event: the `reset` event; its payload says why
	 *
	 * The server could not replay what this stream missed: reload everything.
	 */
	signals[SIGNAL_RESET] = g_signal_new("reset", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					     0, NULL, NULL, NULL, G_TYPE_NONE, 1, OSC_TYPE_EVENT);
	/**
	 * OscEventStream::error:
	 * @self: the stream
	 * @error: what went wrong
	 *
	 * A connection attempt failed, the connection dropped with an error, an event could not
	 * be parsed, or the stream gave up (then #OscEventStream:running turns %FALSE).
	 */
	signals[SIGNAL_ERROR] = g_signal_new("error", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					     0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
osc_event_stream_init(OscEventStream *self)
{
	self->events_by_type = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->auto_reconnect = TRUE;
	self->initial_delay = 5.0;
	self->backoff_factor = 2.0;
	self->max_delay = 60.0;
	self->max_attempts = -1;
	self->idle_timeout = 60;
	self->tls_verify = TRUE;
}

/**
 * osc_event_stream_new:
 * @base_url: the server
 * @api_key: (nullable): the API key
 *
 * Filters, the user key and the reconnection policy are properties.
 *
 * Returns: (transfer full): a stream, not started
 */
OscEventStream *
osc_event_stream_new(const gchar *base_url, const gchar *api_key)
{
	g_return_val_if_fail(base_url != NULL, NULL);

	return g_object_new(OSC_TYPE_EVENT_STREAM, "base-url", base_url, "api-key", api_key, NULL);
}

gboolean
osc_event_stream_get_connected(OscEventStream *self)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), FALSE);
	return self->connected;
}

gboolean
osc_event_stream_get_running(OscEventStream *self)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), FALSE);
	return self->running;
}

/**
 * osc_event_stream_get_subscription_id:
 *
 * Returns: (nullable): the server's id for the subscription
 */
const gchar *
osc_event_stream_get_subscription_id(OscEventStream *self)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), NULL);
	return self->subscription_id;
}

/**
 * osc_event_stream_get_last_event_id:
 *
 * Returns: (nullable): the id of the last event received
 */
const gchar *
osc_event_stream_get_last_event_id(OscEventStream *self)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), NULL);
	return self->last_event_id;
}

/**
 * osc_event_stream_set_last_event_id:
 * @last_event_id: (nullable): the id to resume after
 */
void
osc_event_stream_set_last_event_id(OscEventStream *self, const gchar *last_event_id)
{
	g_return_if_fail(OSC_IS_EVENT_STREAM(self));
	osc_event_stream_set_last_event_id_internal(self, last_event_id);
}

/**
 * osc_event_stream_get_events_received:
 *
 * Returns: how many events arrived, `connected` and `reset` included
 */
guint64
osc_event_stream_get_events_received(OscEventStream *self)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), 0);
	return self->events_received;
}

/**
 * osc_event_stream_get_event_count:
 * @event_type: an event type, e.g. `created`
 *
 * Returns: how many events of @event_type arrived
 */
guint64
osc_event_stream_get_event_count(OscEventStream *self, const gchar *event_type)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), 0);
	g_return_val_if_fail(event_type != NULL, 0);
	return GPOINTER_TO_SIZE(g_hash_table_lookup(self->events_by_type, event_type));
}

/**
 * osc_event_stream_get_keepalives_received:
 *
 * Returns: how many comment lines (keep-alives) arrived
 */
guint64
osc_event_stream_get_keepalives_received(OscEventStream *self)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), 0);
	return self->keepalives;
}

/**
 * osc_event_stream_get_reconnections:
 *
 * Returns: how many times the stream tried to reconnect
 */
guint64
osc_event_stream_get_reconnections(OscEventStream *self)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), 0);
	return self->reconnections;
}

/**
 * osc_event_stream_get_errors:
 *
 * Returns: how many times #OscEventStream::error was emitted
 */
guint64
osc_event_stream_get_errors(OscEventStream *self)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), 0);
	return self->errors;
}

/**
 * osc_event_stream_get_uptime:
 *
 * Returns: seconds since the current connection opened, or 0 when not connected
 */
gdouble
osc_event_stream_get_uptime(OscEventStream *self)
{
	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), 0);

	if (!self->connected)
		return 0;
	return (gdouble)(g_get_monotonic_time() - self->connected_mono) / G_USEC_PER_SEC;
}

static void
osc_event_stream_add_time(JsonBuilder *b, const gchar *name, GDateTime *when)
{
	g_autofree gchar *text = when != NULL ? g_date_time_format_iso8601(when) : NULL;

	json_builder_set_member_name(b, name);
	if (text != NULL)
		json_builder_add_string_value(b, text);
	else
		json_builder_add_null_value(b);
}

/**
 * osc_event_stream_get_statistics:
 *
 * The counters of the Python client's `get_statistics()` (API.md §12.4), plus
 * `last_event_id`, `subscription_id` and `connected`.
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
osc_event_stream_get_statistics(OscEventStream *self)
{
	static const gchar *const always[] = {"connected", "created", "updated",
					      "deleted",   "sync",    NULL};
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(GList) types = NULL;

	g_return_val_if_fail(OSC_IS_EVENT_STREAM(self), NULL);

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "events_received");
	json_builder_add_int_value(b, (gint64)self->events_received);
	json_builder_set_member_name(b, "events_by_type");
	json_builder_begin_object(b);
	for (guint i = 0; always[i] != NULL; i++) {
		json_builder_set_member_name(b, always[i]);
		json_builder_add_int_value(
			b, (gint64)osc_event_stream_get_event_count(self, always[i]));
	}
	types = g_list_sort(g_hash_table_get_keys(self->events_by_type), (GCompareFunc)g_strcmp0);
	for (GList *l = types; l != NULL; l = l->next) {
		if (g_strv_contains(always, l->data))
			continue;
		json_builder_set_member_name(b, l->data);
		json_builder_add_int_value(b,
					   (gint64)osc_event_stream_get_event_count(self, l->data));
	}
	json_builder_end_object(b);
	json_builder_set_member_name(b, "keepalives_received");
	json_builder_add_int_value(b, (gint64)self->keepalives);
	json_builder_set_member_name(b, "reconnections");
	json_builder_add_int_value(b, (gint64)self->reconnections);
	osc_event_stream_add_time(b, "connected_at", self->connected_at);
	osc_event_stream_add_time(b, "last_event_at", self->last_event_at);
	json_builder_set_member_name(b, "errors");
	json_builder_add_int_value(b, (gint64)self->errors);
	json_builder_set_member_name(b, "uptime_seconds");
	json_builder_add_double_value(b, osc_event_stream_get_uptime(self));
	json_builder_set_member_name(b, "last_event_id");
	if (self->last_event_id != NULL)
		json_builder_add_string_value(b, self->last_event_id);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "subscription_id");
	if (self->subscription_id != NULL)
		json_builder_add_string_value(b, self->subscription_id);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "connected");
	json_builder_add_boolean_value(b, self->connected);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}
