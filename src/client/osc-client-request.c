/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscClient"

#include "config.h"

#include <math.h>

#include "osc-client-private.h"

/*
 * Sending a call: build a message from the OscClientCall, send it, classify the answer,
 * and retry what is worth retrying (API.md §12.1): 429/500/502/503/504 and transport
 * failures, never another 4xx. A call that is not idempotent (import, rekey) is retried
 * only on answers that say the server did not process it (429, 503, connection refused).
 *
 * The sync path blocks its thread: soup_session_send_and_read() on the client's sync
 * session, with a private GMainContext pushed as thread-default so that neither libsoup
 * nor the back-off wait can dispatch the caller's sources. The async path is the same
 * state machine driven by callbacks on the caller's thread-default context.
 */

/* a Retry-After larger than this is not waited for in full */
#define OSC_CLIENT_MAX_RETRY_AFTER_SECONDS 300.0

OscClientCall *
osc_client_call_new(const gchar *method, const gchar *path)
{
	OscClientCall *call = g_new0(OscClientCall, 1);

	call->ref_count = 1;
	call->method = g_strdup(method);
	call->path = g_strdup(path);
	call->query = g_string_new(NULL);
	call->headers = g_ptr_array_new_with_free_func(g_free);
	call->idempotent = TRUE;
	return call;
}

OscClientCall *
osc_client_call_ref(OscClientCall *call)
{
	g_atomic_int_inc(&call->ref_count);
	return call;
}

static void
osc_client_wipe(gchar *secret)
{
	/* header values can be keys and passwords: don't leave them in freed memory */
	if (secret != NULL) {
		memset(secret, 0, strlen(secret));
		g_free(secret);
	}
}

void
osc_client_call_unref(OscClientCall *call)
{
	if (!g_atomic_int_dec_and_test(&call->ref_count))
		return;
	g_free(call->method);
	g_free(call->path);
	g_string_free(call->query, TRUE);
	g_clear_pointer(&call->body, g_bytes_unref);
	g_ptr_array_set_free_func(call->headers, (GDestroyNotify)osc_client_wipe);
	g_ptr_array_unref(call->headers);
	g_free(call->key);
	g_free(call->environment);
	g_clear_pointer(&call->extra, json_node_unref);
	g_free(call);
}

/* adds name=value to the query string; a NULL value adds nothing */
void
osc_client_call_add_query(OscClientCall *call, const gchar *name, const gchar *value)
{
	g_autofree gchar *escaped = NULL;

	if (value == NULL)
		return;
	/* '+' must travel as %2B: the server form-decodes '+' to a space (API.md §1.6) */
	escaped = g_uri_escape_string(value, NULL, FALSE);
	g_string_append_c(call->query, call->query->len == 0 ? '?' : '&');
	g_string_append_printf(call->query, "%s=%s", name, escaped);
}

void
osc_client_call_add_header(OscClientCall *call, const gchar *name, const gchar *value)
{
	g_ptr_array_add(call->headers, g_strdup(name));
	g_ptr_array_add(call->headers, osc_client_header_encode(value));
}

void
osc_client_call_take_json_body(OscClientCall *call, JsonNode *node)
{
	gsize len = 0;
	gchar *text = json_to_string(node, FALSE);

	len = strlen(text);
	g_clear_pointer(&call->body, g_bytes_unref);
	call->body = g_bytes_new_take(text, len);
	json_node_unref(node);
}

void
osc_client_reply_free(OscClientReply *reply)
{
	if (reply == NULL)
		return;
	g_clear_pointer(&reply->call, osc_client_call_unref);
	g_clear_pointer(&reply->json, json_node_unref);
	g_free(reply->etag);
	g_clear_pointer(&reply->text, g_bytes_unref);
	g_free(reply);
}

static gboolean
osc_client_accept_any_certificate_cb(SoupMessage *msg, GTlsCertificate *certificate,
				     GTlsCertificateFlags errors, gpointer user_data)
{
	/* tls-verify=FALSE, the equivalent of the Python client's verify_ssl=False */
	return TRUE;
}

static SoupMessage *
osc_client_call_build_message(OscClientCall *call, OscClientSettings *settings, GError **error)
{
	g_autofree gchar *url = g_strconcat(settings->base_url, call->path, call->query->str, NULL);
	g_autoptr(GUri) uri = g_uri_parse(url, SOUP_HTTP_URI_FLAGS, NULL);
	SoupMessageHeaders *headers;
	SoupMessage *msg;

	if (uri == NULL || (g_strcmp0(g_uri_get_scheme(uri), "http") != 0 &&
			    g_strcmp0(g_uri_get_scheme(uri), "https") != 0)) {
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CONNECTION,
			    "Invalid server URL '%s'", settings->base_url);
		return NULL;
	}
	msg = soup_message_new_from_uri(call->method, uri);
	headers = soup_message_get_request_headers(msg);
	soup_message_headers_replace(headers, "Accept", "application/json");
	/* like the Python client: both keys go with every request */
	if (settings->user_key != NULL) {
		g_autofree gchar *v = osc_client_header_encode(settings->user_key);
		soup_message_headers_replace(headers, "X-User-Key", v);
		memset(v, 0, strlen(v));
	}
	if (settings->api_key != NULL)
		soup_message_headers_replace(headers, "X-API-Key", settings->api_key);
	for (guint i = 0; i + 1 < call->headers->len; i += 2)
		soup_message_headers_replace(headers, g_ptr_array_index(call->headers, i),
					     g_ptr_array_index(call->headers, i + 1));
	if (call->body != NULL)
		soup_message_set_request_body_from_bytes(msg, "application/json", call->body);
	if (!settings->tls_verify)
		g_signal_connect(msg, "accept-certificate",
				 G_CALLBACK(osc_client_accept_any_certificate_cb), NULL);
	return msg;
}

/**
 * osc_client_parse_retry_after:
 * @value: a Retry-After header: delay-seconds or an HTTP-date
 *
 * Returns: %TRUE with @seconds set (never negative) when @value is understood
 */
gboolean
osc_client_parse_retry_after(const gchar *value, gdouble *seconds)
{
	guint64 n = 0;
	g_autoptr(GDateTime) when = NULL;
	g_autoptr(GDateTime) now = NULL;
	g_autofree gchar *copy = NULL;

	if (value == NULL)
		return FALSE;
	copy = g_strstrip(g_strdup(value));
	if (g_ascii_string_to_unsigned(copy, 10, 0, G_MAXUINT32, &n, NULL)) {
		*seconds = (gdouble)n;
		return TRUE;
	}
	when = soup_date_time_new_from_http_string(copy);
	if (when == NULL)
		return FALSE;
	now = g_date_time_new_now_utc();
	*seconds = MAX(0.0, (gdouble)g_date_time_difference(when, now) / G_USEC_PER_SEC);
	return TRUE;
}

/**
 * osc_client_backoff_delay:
 * @attempt: how many retries came before this one (0 for the first)
 * @retry_after: the server's Retry-After in seconds, or a negative number
 *
 * Exponential back-off, @backoff_factor × 2^@attempt seconds capped at
 * %OSC_CLIENT_MAX_BACKOFF_SECONDS, with "equal jitter" (a random half of it) so that clients
 * that failed together don't retry together. A Retry-After is a floor: the retry never comes
 * sooner than the server asked.
 *
 * Returns: the delay in seconds
 */
gdouble
osc_client_backoff_delay(gdouble backoff_factor, guint attempt, gdouble retry_after)
{
	gdouble base = MIN(backoff_factor * ldexp(1.0, (gint)MIN(attempt, 30u)),
			   OSC_CLIENT_MAX_BACKOFF_SECONDS);
	gdouble delay = base * g_random_double_range(0.5, 1.0);

	if (retry_after >= 0)
		delay = MAX(delay, MIN(retry_after, OSC_CLIENT_MAX_RETRY_AFTER_SECONDS));
	return delay;
}

/* the server's `detail`: a string, or the 422 item list flattened to "loc: msg; …" */
static gchar *
osc_client_detail_text(JsonNode *body)
{
	JsonObject *obj;
	JsonNode *detail;

	if (body == NULL || !JSON_NODE_HOLDS_OBJECT(body))
		return NULL;
	obj = json_node_get_object(body);
	detail = json_object_get_member(obj, "detail");
	if (detail == NULL)
		detail = json_object_get_member(obj, "message");
	if (detail == NULL)
		return NULL;
	if (JSON_NODE_HOLDS_VALUE(detail) && json_node_get_value_type(detail) == G_TYPE_STRING)
		return g_strdup(json_node_get_string(detail));
	if (JSON_NODE_HOLDS_ARRAY(detail)) {
		JsonArray *items = json_node_get_array(detail);
		g_autoptr(GString) s = g_string_new(NULL);

		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonNode *item = json_array_get_element(items, i);
			JsonObject *o;
			JsonNode *loc;

			if (!JSON_NODE_HOLDS_OBJECT(item))
				continue;
			o = json_node_get_object(item);
			if (s->len > 0)
				g_string_append(s, "; ");
			loc = json_object_get_member(o, "loc");
			if (loc != NULL && JSON_NODE_HOLDS_ARRAY(loc)) {
				JsonArray *parts = json_node_get_array(loc);
				for (guint j = 0; j < json_array_get_length(parts); j++) {
					JsonNode *p = json_array_get_element(parts, j);
					g_autofree gchar *t = NULL;

					if (JSON_NODE_HOLDS_VALUE(p) &&
					    json_node_get_value_type(p) == G_TYPE_STRING)
						t = g_strdup(json_node_get_string(p));
					else
						t = json_to_string(p, FALSE);
					g_string_append_printf(s, "%s%s", j > 0 ? "." : "", t);
				}
				g_string_append(s, ": ");
			}
			if (json_object_has_member(o, "msg") &&
			    JSON_NODE_HOLDS_VALUE(json_object_get_member(o, "msg")))
				g_string_append(s, json_object_get_string_member(o, "msg"));
		}
		return s->len > 0 ? g_string_free(g_steal_pointer(&s), FALSE) : NULL;
	}
	return json_to_string(detail, FALSE);
}

/**
 * osc_client_set_http_error:
 * @body: (nullable): the parsed error body
 *
 * The one map from an HTTP error answer to %OSC_CLIENT_ERROR (API.md §12.2).
 */
void
osc_client_set_http_error(GError **error, guint status, const gchar *reason, JsonNode *body)
{
	g_autofree gchar *detail = osc_client_detail_text(body);
	g_autofree gchar *lower = NULL;

	if (detail == NULL)
		detail = g_strdup(reason != NULL && reason[0] != '\0'
					  ? reason
					  : soup_status_get_phrase(status));
	switch (status) {
	case 401:
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_AUTHENTICATION,
			    "Authentication failed: %s", detail);
		return;
	case 403:
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_AUTHENTICATION,
			    "Forbidden: %s", detail);
		return;
	case 404:
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_NOT_FOUND, detail);
		return;
	case 400:
		lower = g_utf8_strdown(detail, -1);
		if (strstr(lower, "already exists") != NULL)
			g_set_error_literal(error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_ALREADY_EXISTS, detail);
		else
			g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_BAD_REQUEST,
				    "Bad request: %s", detail);
		return;
	case 409:
	case 412:
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_PRECONDITION_FAILED,
			    "Precondition failed: %s", detail);
		return;
	case 413:
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_TOO_LARGE, "Too large: %s",
			    detail);
		return;
	case 422:
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
			    "Validation failed: %s", detail);
		return;
	case 429:
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_SERVER,
			    "Too many requests: %s", detail);
		return;
	default:
		if (status >= 500)
			g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_SERVER,
				    "Server error (%u): %s", status, detail);
		else
			g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_BAD_REQUEST,
				    "HTTP %u: %s", status, detail);
		return;
	}
}

typedef enum {
	OSC_OUTCOME_DONE,
	OSC_OUTCOME_RETRY,
	OSC_OUTCOME_FAILED,
} OscOutcome;

static gboolean
osc_client_status_is_retryable(guint status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/*
 * What to do with one attempt's outcome. Sets @error for RETRY too (for the log) and
 * FAILED; sets @reply for DONE and @delay for RETRY.
 */
static OscOutcome
osc_client_classify(OscClientCall *call, OscClientSettings *settings, SoupMessage *msg,
		    GBytes *body, GError *transport_error, guint attempt, OscClientReply **reply,
		    gdouble *delay, GError **error)
{
	gboolean may_retry = settings->retry_enabled && attempt < settings->max_retries;
	g_autoptr(JsonNode) json = NULL;
	const gchar *data = NULL;
	gsize len = 0;
	guint status;

	if (transport_error != NULL) {
		gboolean refused;

		if (g_error_matches(transport_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_propagate_error(error, g_error_copy(transport_error));
			return OSC_OUTCOME_FAILED;
		}
		if (g_error_matches(transport_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
			g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_TIMEOUT,
				    "Timed out waiting for %s: %s", settings->base_url,
				    transport_error->message);
		else
			g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CONNECTION,
				    "Failed to connect to %s: %s", settings->base_url,
				    transport_error->message);
		/* a certificate problem does not go away by asking again */
		if (transport_error->domain == G_TLS_ERROR)
			return OSC_OUTCOME_FAILED;
		refused =
			g_error_matches(transport_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
		if (may_retry && (call->idempotent || refused)) {
			*delay = osc_client_backoff_delay(settings->backoff_factor, attempt, -1);
			return OSC_OUTCOME_RETRY;
		}
		if (attempt > 0)
			g_prefix_error(error, "After %u retries: ", attempt);
		return OSC_OUTCOME_FAILED;
	}

	status = soup_message_get_status(msg);
	if (body != NULL)
		data = g_bytes_get_data(body, &len);
	if (len > 0)
		json = osc_client_parse_json(data, (gssize)len, NULL);

	if (osc_client_status_is_retryable(status) && may_retry &&
	    (call->idempotent || status == 429 || status == 503)) {
		const gchar *ra = soup_message_headers_get_one(
			soup_message_get_response_headers(msg), "Retry-After");
		gdouble retry_after = -1;

		if (!osc_client_parse_retry_after(ra, &retry_after))
			retry_after = -1;
		*delay = osc_client_backoff_delay(settings->backoff_factor, attempt, retry_after);
		osc_client_set_http_error(error, status, soup_message_get_reason_phrase(msg), json);
		return OSC_OUTCOME_RETRY;
	}
	if (!SOUP_STATUS_IS_SUCCESSFUL(status) && !(status == 404 && call->accept_not_found)) {
		osc_client_set_http_error(error, status, soup_message_get_reason_phrase(msg), json);
		if (attempt > 0)
			g_prefix_error(error, "After %u retries: ", attempt);
		return OSC_OUTCOME_FAILED;
	}
	if (len > 0 && json == NULL && status != 404 && !call->text_reply) {
		g_autoptr(GError) parse_error = NULL;
		json = osc_client_parse_json(data, (gssize)len, &parse_error);
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_INVALID_RESPONSE,
			    "The server answered %u with a body that is not JSON: %s", status,
			    parse_error != NULL ? parse_error->message : "unknown error");
		return OSC_OUTCOME_FAILED;
	}
	*reply = g_new0(OscClientReply, 1);
	(*reply)->call = osc_client_call_ref(call);
	(*reply)->status = status;
	(*reply)->json = json != NULL ? g_steal_pointer(&json) : json_node_new(JSON_NODE_NULL);
	(*reply)->etag = g_strdup(
		soup_message_headers_get_one(soup_message_get_response_headers(msg), "ETag"));
	if (call->text_reply)
		(*reply)->text = body != NULL ? g_bytes_ref(body) : g_bytes_new(NULL, 0);
	return OSC_OUTCOME_DONE;
}

static void
osc_client_log_retry(OscClient *self, OscClientCall *call, GError *why, gdouble delay)
{
	if (osc_client_should_log(self, G_LOG_LEVEL_INFO))
		g_info("%s %s: %s; retrying in %.2f s", call->method, call->path, why->message,
		       delay);
}

static gboolean
osc_client_flag_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

/* a timeout that a cancellation ends early: the cancellable's source is its child */
static GSource *
osc_client_wait_source_new(gdouble delay, GCancellable *cancellable)
{
	GSource *source = g_timeout_source_new((guint)(delay * 1000.0));

	if (cancellable != NULL) {
		GSource *cancel = g_cancellable_source_new(cancellable);

		g_source_set_dummy_callback(cancel);
		g_source_add_child_source(source, cancel);
		g_source_unref(cancel);
	}
	g_source_set_name(source, "[osc-client] retry wait");
	return source;
}

/* blocks for @delay seconds on @context only */
static gboolean
osc_client_wait_sync(GMainContext *context, gdouble delay, GCancellable *cancellable,
		     GError **error)
{
	gboolean fired = FALSE;
	GSource *source = osc_client_wait_source_new(delay, cancellable);

	g_source_set_callback(source, osc_client_flag_cb, &fired, NULL);
	g_source_attach(source, context);
	while (!fired)
		g_main_context_iteration(context, TRUE);
	g_source_destroy(source);
	g_source_unref(source);
	return !g_cancellable_set_error_if_cancelled(cancellable, error);
}

/**
 * osc_client_call_run:
 *
 * Sends @call, retrying as the client's settings allow, and blocks until the final answer.
 * Only a private main context runs meanwhile; callable from any thread.
 *
 * Returns: the successful reply, or %NULL with @error set
 */
OscClientReply *
osc_client_call_run(OscClient *self, OscClientCall *call, GCancellable *cancellable, GError **error)
{
	g_autoptr(OscClientSettings) settings = osc_client_get_settings(self);
	SoupSession *session = osc_client_get_session(self, TRUE);
	g_autoptr(GMainContext) context = NULL;
	OscClientReply *reply = NULL;

	if (settings->setup_error != NULL) {
		g_propagate_error(error, g_error_copy(settings->setup_error));
		return NULL;
	}
	context = g_main_context_new();
	g_main_context_push_thread_default(context);
	for (guint attempt = 0;; attempt++) {
		g_autoptr(SoupMessage) msg = NULL;
		g_autoptr(GBytes) body = NULL;
		g_autoptr(GError) transport_error = NULL;
		g_autoptr(GError) local = NULL;
		gdouble delay = 0;
		OscOutcome outcome;

		msg = osc_client_call_build_message(call, settings, error);
		if (msg == NULL)
			break;
		body = soup_session_send_and_read(session, msg, cancellable, &transport_error);
		outcome = osc_client_classify(call, settings, msg, body, transport_error, attempt,
					      &reply, &delay, &local);
		if (outcome == OSC_OUTCOME_DONE)
			break;
		if (outcome == OSC_OUTCOME_FAILED) {
			g_propagate_error(error, g_steal_pointer(&local));
			break;
		}
		osc_client_log_retry(self, call, local, delay);
		if (!osc_client_wait_sync(context, delay, cancellable, error))
			break;
	}
	g_main_context_pop_thread_default(context);
	return reply;
}

typedef struct {
	OscClientCall *call;
	OscClientSettings *settings;
	SoupMessage *msg;
	guint attempt;
} OscClientRunData;

static void
osc_client_run_data_free(OscClientRunData *data)
{
	osc_client_call_unref(data->call);
	osc_client_settings_free(data->settings);
	g_clear_object(&data->msg);
	g_free(data);
}

static void osc_client_run_attempt(GTask *task);

static gboolean
osc_client_run_retry_cb(gpointer user_data)
{
	GTask *task = user_data;

	if (g_task_return_error_if_cancelled(task)) {
		g_object_unref(task);
		return G_SOURCE_REMOVE;
	}
	osc_client_run_attempt(task);
	return G_SOURCE_REMOVE;
}

static void
osc_client_run_sent_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	OscClientRunData *data = g_task_get_task_data(task);
	g_autoptr(GError) transport_error = NULL;
	g_autoptr(GError) local = NULL;
	g_autoptr(GBytes) body = NULL;
	OscClientReply *reply = NULL;
	gdouble delay = 0;
	GSource *wait;

	body = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &transport_error);
	switch (osc_client_classify(data->call, data->settings, data->msg, body, transport_error,
				    data->attempt, &reply, &delay, &local)) {
	case OSC_OUTCOME_DONE:
		g_task_return_pointer(task, reply, (GDestroyNotify)osc_client_reply_free);
		return;
	case OSC_OUTCOME_FAILED:
		g_task_return_error(task, g_steal_pointer(&local));
		return;
	case OSC_OUTCOME_RETRY:
	default:
		break;
	}
	osc_client_log_retry(g_task_get_source_object(task), data->call, local, delay);
	data->attempt++;
	wait = osc_client_wait_source_new(delay, g_task_get_cancellable(task));
	g_source_attach(wait, g_task_get_context(task));
	g_source_set_callback(wait, osc_client_run_retry_cb, g_steal_pointer(&task), NULL);
	g_source_unref(wait);
}

/* takes @task */
static void
osc_client_run_attempt(GTask *task)
{
	OscClient *self = g_task_get_source_object(task);
	OscClientRunData *data = g_task_get_task_data(task);
	GError *error = NULL;

	g_clear_object(&data->msg);
	data->msg = osc_client_call_build_message(data->call, data->settings, &error);
	if (data->msg == NULL) {
		g_task_return_error(task, error);
		g_object_unref(task);
		return;
	}
	soup_session_send_and_read_async(osc_client_get_session(self, FALSE), data->msg,
					 G_PRIORITY_DEFAULT, g_task_get_cancellable(task),
					 osc_client_run_sent_cb, task);
}

/**
 * osc_client_call_run_async:
 * @source_tag: the public function this runs for, checked by osc_client_call_run_finish()
 *
 * Sends @call with retries; @callback runs on the thread-default main context of the
 * caller.
 */
void
osc_client_call_run_async(OscClient *self, OscClientCall *call, GCancellable *cancellable,
			  gpointer source_tag, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	OscClientRunData *data = g_new0(OscClientRunData, 1);

	g_task_set_source_tag(task, source_tag);
	data->call = osc_client_call_ref(call);
	data->settings = osc_client_get_settings(self);
	g_task_set_task_data(task, data, (GDestroyNotify)osc_client_run_data_free);
	if (data->settings->setup_error != NULL) {
		g_task_return_error(task, g_error_copy(data->settings->setup_error));
		return;
	}
	osc_client_run_attempt(g_steal_pointer(&task));
}

OscClientReply *
osc_client_call_run_finish(OscClient *self, GAsyncResult *result, gpointer source_tag,
			   GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == source_tag, NULL);

	return g_task_propagate_pointer(G_TASK(result), error);
}
