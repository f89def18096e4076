/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscHttp"

#include "config.h"

#include <libsoup/soup.h>
#include <errno.h>
#include <math.h>
#include <sys/socket.h>
#include <openssl/crypto.h>

#include "osc-error.h"
#include "osc-http-limits.h"
#include "osc-http-private.h"
#include "osc-http-server.h"
#include "osc-log.h"
#include "osc-service-private.h"
#include "osc-value.h"

struct _OscHttpServer {
	GObject parent_instance;

	/* owns us; once closed, only jobs already in the workers may use it (the service
	 * waits for them before it goes) */
	OscService *service;
	SoupServer *soup;
	GMainContext *context;
	guint in_flight;
	gboolean draining;
	/* disconnected for good (drained, or the service is going away): requests still in
	 * flight, which hold a reference on us, are dropped when they come back */
	gboolean closed;
	GTask *drain_task;
	guint drain_timeout_id;
	OscHttpLimits *limits;
};

G_DEFINE_FINAL_TYPE(OscHttpServer, osc_http_server, G_TYPE_OBJECT)

/* ---- routing ---- */

static const OscRoute routes[] = {
    {OSC_ROUTE_ROOT, "/", "GET, HEAD", OSC_AUTH_OPEN},
    {OSC_ROUTE_HEALTH, "/health", "GET, HEAD", OSC_AUTH_OPEN},
    {OSC_ROUTE_READY, "/ready", "GET, HEAD", OSC_AUTH_OPEN},
    {OSC_ROUTE_METRICS, "/metrics", "GET, HEAD", OSC_AUTH_OPEN},
    {OSC_ROUTE_OPENAPI, "/openapi.json", "GET, HEAD", OSC_AUTH_OPEN},
    {OSC_ROUTE_DOCS, "/docs", "GET, HEAD", OSC_AUTH_OPEN},
    {OSC_ROUTE_CONFIGS, "/configs", "GET, HEAD, POST", OSC_AUTH_USER_KEY},
    {OSC_ROUTE_CONFIG, "/configs/{key}", "GET, HEAD, PUT, DELETE", OSC_AUTH_USER_KEY},
    {OSC_ROUTE_STATS, "/stats", "GET, HEAD", OSC_AUTH_USER_KEY},
    {OSC_ROUTE_STATS_OPERATIONS, "/stats/operations", "GET, HEAD", OSC_AUTH_API_KEY},
    {OSC_ROUTE_CLUSTER_STATUS, "/cluster/status", "GET, HEAD", OSC_AUTH_API_KEY},
    {OSC_ROUTE_CLUSTER_HEALTH, "/cluster/health", "GET, HEAD", OSC_AUTH_OPEN},
    {OSC_ROUTE_CLUSTER_DISTRIBUTION, "/cluster/distribution", "GET, HEAD", OSC_AUTH_USER_KEY},
    {OSC_ROUTE_CLUSTER_CONFIGS, "/cluster/configs", "GET, HEAD", OSC_AUTH_API_KEY},
    {OSC_ROUTE_CLUSTER_SALT, "/cluster/salt", "GET, HEAD, POST", OSC_AUTH_API_KEY},
    {OSC_ROUTE_SSE_SUBSCRIBE, "/sse/subscribe", "GET", OSC_AUTH_API_KEY},
    {OSC_ROUTE_SSE_STATS, "/sse/stats", "GET, HEAD", OSC_AUTH_API_KEY},
    {OSC_ROUTE_SSE_SUBSCRIPTIONS, "/sse/subscriptions", "GET, HEAD", OSC_AUTH_API_KEY},
    {OSC_ROUTE_SSE_HEALTH, "/sse/health", "GET, HEAD", OSC_AUTH_OPEN},
    {OSC_ROUTE_BACKUP, "/backup", "POST", OSC_AUTH_USER_KEY},
    {OSC_ROUTE_IMPORT, "/import", "POST", OSC_AUTH_USER_KEY},
    {OSC_ROUTE_REKEY, "/rekey", "POST", OSC_AUTH_USER_KEY},
    {OSC_ROUTE_CONFIG_VERSIONS, "/configs/{key}/versions", "GET, HEAD", OSC_AUTH_USER_KEY},
    {OSC_ROUTE_CONFIG_ROLLBACK, "/configs/{key}/rollback", "POST", OSC_AUTH_USER_KEY},
    /* inter-node (osc-cluster.c) */
    {OSC_ROUTE_CLUSTER_REPLICATE, "/cluster/replicate", "POST", OSC_AUTH_API_KEY},
    {OSC_ROUTE_CLUSTER_DIGEST, "/cluster/digest", "GET, HEAD", OSC_AUTH_API_KEY},
    {OSC_ROUTE_CLUSTER_ROWS, "/cluster/rows", "GET, HEAD", OSC_AUTH_API_KEY},
    {OSC_ROUTE_CLUSTER_FETCH, "/cluster/fetch", "POST", OSC_AUTH_API_KEY},
};

/* the metric label for a path that matched no route: never the raw path (D7, D15) */
#define OSC_ENDPOINT_UNMATCHED "unmatched"

static const OscRoute *
osc_http_route_lookup(OscRouteId id)
{
	for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
		if (routes[i].id == id)
			return &routes[i];
	}
	g_assert_not_reached();
}

/*
 * Matches the path as sent (the server has raw-paths set) and decodes the {key} segment
 * once, afterwards: a key holding '/' is reachable as %2F (API.md §1.6 MAY; the original
 * can never read it, D41), and "cfg%2Fversions" is that key, not the history of "cfg".
 */
const OscRoute *
osc_http_match(const gchar *path, gchar **key_out, gboolean *redirect)
{
	const gchar *rest;

	*key_out = NULL;
	*redirect = FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
		if (strchr(routes[i].template, '{') == NULL && g_str_equal(path, routes[i].template))
			return &routes[i];
	}
	if (!g_str_has_prefix(path, "/configs/"))
		return NULL;
	rest = path + strlen("/configs/");
	if (rest[0] == '\0') {
		/* "/configs/": the original redirects to the collection */
		*redirect = TRUE;
		return osc_http_route_lookup(OSC_ROUTE_CONFIGS);
	}
	{
		const gchar *slash = strchr(rest, '/');
		OscRouteId id = OSC_ROUTE_CONFIG;
		g_autofree gchar *segment = NULL;

		if (slash != NULL) {
			/* /configs/{key}/versions and /configs/{key}/rollback */
			if (g_str_equal(slash, "/versions"))
				id = OSC_ROUTE_CONFIG_VERSIONS;
			else if (g_str_equal(slash, "/rollback"))
				id = OSC_ROUTE_CONFIG_ROLLBACK;
			else
				return NULL;
			if (slash == rest)
				return NULL;
		}
		segment = g_strndup(rest, slash != NULL ? (gsize)(slash - rest) : strlen(rest));
		*key_out = g_uri_unescape_string(segment, NULL);
		if (*key_out == NULL || !g_utf8_validate(*key_out, -1, NULL)) {
			g_clear_pointer(key_out, g_free);
			return NULL;
		}
		return osc_http_route_lookup(id);
	}
}

/* ---- requests ---- */

void
osc_request_free(OscRequest *req)
{
	/* the message can outlive us (libsoup holds it until the connection is done); only a
	 * request that went async connected to it */
	if (req->msg != NULL && req->paused)
		g_signal_handlers_disconnect_by_data(req->msg, req);
	g_clear_object(&req->msg);
	g_clear_pointer(&req->key, g_free);
	g_clear_pointer(&req->environment, g_free);
	g_clear_pointer(&req->category, g_free);
	g_clear_pointer(&req->resp_bytes, g_bytes_unref);
	g_clear_pointer(&req->filter_category, g_free);
	g_clear_pointer(&req->filter_environment, g_free);
	g_clear_pointer(&req->value, json_node_unref);
	g_clear_pointer(&req->body_json, json_node_unref);
	g_clear_pointer(&req->if_match, g_array_unref);
	g_clear_pointer(&req->dk, osc_derived_key_unref);
	if (req->user_key != NULL) {
		OPENSSL_cleanse(req->user_key, req->user_key_len);
		g_free(req->user_key);
	}
	if (req->password != NULL) {
		OPENSSL_cleanse(req->password, req->password_len);
		g_free(req->password);
	}
	g_clear_pointer(&req->backup_data, g_free);
	g_clear_pointer(&req->changes, g_ptr_array_unref);
	if (req->new_user_key != NULL) {
		OPENSSL_cleanse(req->new_user_key, req->new_user_key_len);
		g_free(req->new_user_key);
	}
	g_clear_pointer(&req->entry, osc_entry_free);
	g_clear_pointer(&req->deleted, osc_entry_row_free);
	g_clear_pointer(&req->resp_body, g_free);
	g_clear_pointer(&req->resp_etag, g_free);
	g_clear_pointer(&req->resp_location, g_free);
	g_clear_error(&req->error);
	g_free(req);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscRequest, osc_request_free)

static const gchar *
osc_request_endpoint(OscRequest *req)
{
	return req->route != NULL ? req->route->template : OSC_ENDPOINT_UNMATCHED;
}

static void
osc_http_apply_cors(OscHttpServer *self, SoupServerMessage *msg)
{
	const OscConfig *config = osc_service_get_config(self->service);
	SoupMessageHeaders *req_h = soup_server_message_get_request_headers(msg);
	SoupMessageHeaders *resp_h = soup_server_message_get_response_headers(msg);
	const gchar *origin = soup_message_headers_get_one(req_h, "Origin");

	if (origin == NULL)
		return;
	soup_message_headers_replace(resp_h, "Access-Control-Allow-Credentials", "true");
	soup_message_headers_replace(resp_h, "Access-Control-Expose-Headers",
				     OSC_CORS_EXPOSE_HEADERS);
	if (osc_config_origins_wildcard(config)) {
		/* credentials + "*": echo the origin when cookies are sent, as Starlette does */
		if (soup_message_headers_get_one(req_h, "Cookie") != NULL) {
			soup_message_headers_replace(resp_h, "Access-Control-Allow-Origin", origin);
			soup_message_headers_append(resp_h, "Vary", "Origin");
		} else {
			soup_message_headers_replace(resp_h, "Access-Control-Allow-Origin", "*");
		}
	} else if (osc_config_origin_allowed(config, origin)) {
		soup_message_headers_replace(resp_h, "Access-Control-Allow-Origin", origin);
		soup_message_headers_append(resp_h, "Vary", "Origin");
	}
}

/*
 * The method label of the request metrics. libsoup accepts any token as a method, so the
 * label is one of a fixed set: each new method string would otherwise add series for good
 * (memory growth and a /metrics page anyone can inflate; found by fuzz-route).
 */
const gchar *
osc_http_method_label(const gchar *method)
{
	static const gchar *const known[] = {
	    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", NULL,
	};

	for (guint i = 0; known[i] != NULL; i++) {
		if (g_strcmp0(method, known[i]) == 0)
			return known[i];
	}
	return "other";
}

static void
osc_http_record(OscHttpServer *self, OscRequest *req, guint status)
{
	OscServiceMetrics *m = osc_service_get_metric_families(self->service);
	const gchar *endpoint = osc_request_endpoint(req);
	const gchar *method = osc_http_method_label(req->method);
	gchar status_text[8];
	gdouble elapsed = (gdouble)(g_get_monotonic_time() - req->start) / G_USEC_PER_SEC;

	g_snprintf(status_text, sizeof(status_text), "%u", status);
	osc_metric_inc(m->http_requests, 1, method, endpoint, status_text, NULL);
	osc_metric_observe(m->http_duration, elapsed, method, endpoint, NULL);
	if (req->route != NULL && status >= 400) {
		const gchar *type;
		if (status == 404)
			type = "not_found";
		else if (status == 401 || status == 403 || status == 429)
			type = "auth_error";
		else if (status == 409 || status == 412)
			type = "conflict";
		else if (status >= 500)
			type = "internal_error";
		else
			type = "validation_error";
		osc_metric_inc(m->api_errors, 1, endpoint, type, NULL);
	}
	/* the access log: method, route, status, duration; never a key, value or header */
	if (osc_log_would_drop(G_LOG_LEVEL_INFO, G_LOG_DOMAIN))
		return;
	/* MESSAGE goes last: its format consumes the arguments after it */
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "OSC_EVENT", "request", "OSC_METHOD",
			 req->method, "OSC_ROUTE", endpoint, "OSC_STATUS", status_text,
			 "MESSAGE", "%s %s %u %.3f ms", req->method, endpoint, status,
			 elapsed * 1000.0);
}

/* Sets the response and, for requests that went async, unpauses it. Takes @body. */
void
osc_request_respond(OscRequest *req, guint status, const gchar *content_type, gchar *body, gsize len)
{
	OscHttpServer *self = req->self;
	SoupServerMessage *msg = req->msg;
	SoupMessageHeaders *resp_h = soup_server_message_get_response_headers(msg);

	if (req->finished) {
		/* the client went away; nothing to answer */
		g_free(body);
		return;
	}
	/* libsoup 3.2 has no reason phrase for 429 */
	soup_server_message_set_status(msg, status, status == 429 ? "Too Many Requests" : NULL);
	if (body != NULL) {
		soup_server_message_set_response(msg, content_type, SOUP_MEMORY_TAKE, body, len);
	} else {
		soup_server_message_set_response(msg, content_type, SOUP_MEMORY_STATIC, "", 0);
		if (req->resp_bytes != NULL)
			soup_message_body_append_bytes(soup_server_message_get_response_body(msg),
						       req->resp_bytes);
	}
	if (req->resp_etag != NULL)
		soup_message_headers_replace(resp_h, "ETag", req->resp_etag);
	if (req->resp_location != NULL)
		soup_message_headers_replace(resp_h, "Location", req->resp_location);
	if (self->draining)
		soup_message_headers_replace(resp_h, "Connection", "close");
	osc_http_apply_cors(self, msg);
	osc_http_record(self, req, status);
	if ((status == 401 || status == 403) && req->route != NULL &&
	    req->route->auth != OSC_AUTH_OPEN && self->limits != NULL)
		osc_http_limits_auth_failed(self->limits, msg, status, req->route->template);
	if (req->paused)
		soup_server_message_unpause(msg);
}

void
osc_request_respond_json(OscRequest *req, guint status, JsonNode *node)
{
	gsize len = 0;
	gchar *body = osc_json_to_string(node, &len);

	osc_request_respond(req, status, "application/json", body, len);
}

/* the error body of API.md §1.3: {"detail": "<string>"} */
static gchar *
osc_detail_body(const gchar *detail, gsize *len)
{
	GString *out = g_string_new("{\"detail\":");

	osc_json_append_quoted(out, detail);
	g_string_append_c(out, '}');
	*len = out->len;
	return g_string_free(out, FALSE);
}

void
osc_request_respond_detail(OscRequest *req, guint status, const gchar *detail)
{
	gsize len = 0;
	gchar *body = osc_detail_body(detail, &len);

	osc_request_respond(req, status, "application/json", body, len);
}

void
osc_request_respond_error(OscRequest *req, const GError *error)
{
	guint status = osc_error_to_http_status(error);

	if (status >= 500) {
		/* never leak internals beyond the message; log it for the operator */
		g_warning("%s %s: %s", req->method, osc_request_endpoint(req), error->message);
		if (error->domain != OSC_ERROR || error->code != OSC_ERROR_UNAVAILABLE) {
			g_autofree gchar *detail = g_strdup_printf("Internal error: %s",
								   error->message);
			osc_request_respond_detail(req, status, detail);
			return;
		}
	}
	osc_request_respond_detail(req, status, error->message);
}

/* ---- 422 items, shaped like pydantic's (API.md §1.3, §3) ---- */

static JsonArray *
osc_loc_new(const gchar *first, ...)
{
	JsonArray *loc = json_array_new();
	va_list args;

	va_start(args, first);
	for (const gchar *s = first; s != NULL; s = va_arg(args, const gchar *))
		json_array_add_string_element(loc, s);
	va_end(args);
	return loc;
}

static void
osc_items_add(JsonArray *items,
	      const gchar *type,
	      JsonArray *loc,
	      const gchar *msg,
	      JsonNode *input,
	      JsonObject *ctx)
{
	JsonObject *item = json_object_new();

	json_object_set_string_member(item, "type", type);
	json_object_set_array_member(item, "loc", loc);
	json_object_set_string_member(item, "msg", msg);
	json_object_set_member(item, "input", input != NULL ? input : json_node_new(JSON_NODE_NULL));
	if (ctx != NULL)
		json_object_set_object_member(item, "ctx", ctx);
	json_array_add_object_element(items, item);
}

static JsonObject *
osc_ctx_int(const gchar *name, gint64 value)
{
	JsonObject *ctx = json_object_new();
	json_object_set_int_member(ctx, name, value);
	return ctx;
}

static void
osc_items_missing(JsonArray *items, JsonArray *loc, JsonNode *input)
{
	osc_items_add(items, "missing", loc, "Field required", input, NULL);
}

static void
osc_request_respond_items(OscRequest *req, JsonArray *items)
{
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	JsonObject *obj = json_object_new();

	json_object_set_array_member(obj, "detail", json_array_ref(items));
	json_node_take_object(node, obj);
	osc_request_respond_json(req, 422, node);
}

/*
 * Validates a string member of the JSON body: pydantic's string_type / too_short /
 * too_long items, lengths in code points. Returns the value (owned by @body) or NULL.
 */
static const gchar *
osc_validate_string(JsonObject *body,
		    const gchar *name,
		    gboolean required,
		    gboolean nullable,
		    guint min_len,
		    guint max_len,
		    JsonArray *items,
		    gboolean *present)
{
	JsonNode *node = json_object_get_member(body, name);
	const gchar *text;
	glong len;

	*present = node != NULL;
	if (node == NULL) {
		if (required) {
			JsonNode *input = json_node_new(JSON_NODE_OBJECT);
			json_node_set_object(input, body);
			osc_items_missing(items, osc_loc_new("body", name, NULL), input);
		}
		return NULL;
	}
	if (JSON_NODE_HOLDS_NULL(node) && nullable)
		return NULL;
	text = osc_json_node_get_text(node);
	if (text == NULL) {
		osc_items_add(items, "string_type", osc_loc_new("body", name, NULL),
			      "Input should be a valid string", json_node_copy(node), NULL);
		return NULL;
	}
	len = g_utf8_strlen(text, -1);
	if (len < (glong)min_len) {
		g_autofree gchar *msg = g_strdup_printf("String should have at least %u character%s",
							min_len, min_len == 1 ? "" : "s");
		osc_items_add(items, "string_too_short", osc_loc_new("body", name, NULL), msg,
			      json_node_copy(node), osc_ctx_int("min_length", min_len));
		return NULL;
	}
	if (len > (glong)max_len) {
		g_autofree gchar *msg = g_strdup_printf("String should have at most %u characters",
							max_len);
		osc_items_add(items, "string_too_long", osc_loc_new("body", name, NULL), msg,
			      json_node_copy(node), osc_ctx_int("max_length", max_len));
		return NULL;
	}
	return text;
}

/* value: object | string | integer | boolean | array, pydantic smart-union items (§3.3) */
static JsonNode *
osc_validate_value(JsonObject *body, JsonArray *items)
{
	JsonNode *node = json_object_get_member(body, "value");
	JsonNode *normalized;
	const gchar *int_type = "int_type";
	const gchar *int_msg = "Input should be a valid integer";
	static const struct {
		const gchar *tag;
		const gchar *type;
		const gchar *msg;
	} members[] = {
	    {"dict[any,any]", "dict_type", "Input should be a valid dictionary"},
	    {"str", "string_type", "Input should be a valid string"},
	    {"int", NULL, NULL},
	    {"bool", "bool_type", "Input should be a valid boolean"},
	    {"list[any]", "list_type", "Input should be a valid list"},
	};

	if (node == NULL) {
		JsonNode *input = json_node_new(JSON_NODE_OBJECT);
		json_node_set_object(input, body);
		osc_items_missing(items, osc_loc_new("body", "value", NULL), input);
		return NULL;
	}
	normalized = osc_value_normalize(node, NULL);
	if (normalized != NULL)
		return normalized;

	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_DOUBLE) {
		gdouble d = json_node_get_double(node);
		if (d != floor(d) || isnan(d)) {
			int_type = "int_from_float";
			int_msg = "Input should be a valid integer, got a number with a "
				  "fractional part";
		} else {
			int_type = "int_parsing_size";
			int_msg = "Unable to parse input string as an integer, exceeded maximum "
				  "size";
		}
	}
	for (guint i = 0; i < G_N_ELEMENTS(members); i++) {
		gboolean is_int = members[i].type == NULL;
		osc_items_add(items, is_int ? int_type : members[i].type,
			      osc_loc_new("body", "value", members[i].tag, NULL),
			      is_int ? int_msg : members[i].msg, json_node_copy(node), NULL);
	}
	return NULL;
}

/* imports carry whole backups; everything else is small */
static gsize
osc_http_body_limit(const OscConfig *config, const gchar *path)
{
	if (g_strcmp0(path, "/import") == 0 || g_strcmp0(path, "/cluster/replicate") == 0)
		return MAX(config->max_import_size, config->max_body_size);
	return config->max_body_size;
}

static gboolean
osc_content_type_is_json(SoupServerMessage *msg, gboolean *absent)
{
	SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
	const gchar *ct = soup_message_headers_get_content_type(h, NULL);

	g_autofree gchar *lower = NULL;

	*absent = ct == NULL;
	if (ct == NULL)
		return TRUE;
	/* media types are case-insensitive (RFC 9110 §8.3.1) */
	lower = g_ascii_strdown(ct, -1);
	if (g_str_equal(lower, "application/json"))
		return TRUE;
	return g_str_has_prefix(lower, "application/") && g_str_has_suffix(lower, "+json");
}

/*
 * §1.4 step 3: the JSON body of POST/PUT /configs is parsed before any auth check; a
 * malformed one answers 422 json_invalid at once. Returns FALSE when it has answered.
 */
gboolean
osc_request_read_json_body(OscRequest *req, JsonArray *items)
{
	SoupMessageBody *body = soup_server_message_get_request_body(req->msg);
	g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
	gsize len = 0;
	const gchar *data = g_bytes_get_data(bytes, &len);
	JsonNode *root = NULL;
	g_autoptr(GError) error = NULL;
	gboolean absent = FALSE;

	if (len > osc_service_get_config(req->self->service)->max_body_size) {
		g_autofree gchar *detail = g_strdup_printf(
		    "Request body too large: the limit is %" G_GSIZE_FORMAT " bytes",
		    osc_service_get_config(req->self->service)->max_body_size);
		osc_request_respond_detail(req, 413, detail);
		return FALSE;
	}
	if (len == 0) {
		req->body_state = OSC_BODY_MISSING;
		return TRUE;
	}
	if (!osc_content_type_is_json(req->msg, &absent)) {
		/* kept as text; fails model validation after auth, like FastAPI (but as a 422,
		 * not the original's plain-text 500, D42) */
		req->body_state = OSC_BODY_NOT_JSON;
		req->body_json = json_node_new(JSON_NODE_VALUE);
		if (g_utf8_validate(data, (gssize)len, NULL)) {
			g_autofree gchar *text = g_strndup(data, len);
			json_node_set_string(req->body_json, text);
		} else {
			json_node_set_string(req->body_json, "<binary>");
		}
		return TRUE;
	}
	/* strict RFC 8259: json-glib alone takes single quotes, comments and hex, and wraps
	 * integers beyond 64 bits (…999 → -1), which osc_json_parse() keeps */
	if (!g_utf8_validate(data, (gssize)len, NULL) ||
	    (root = osc_json_parse(data, len, &error)) == NULL ||
	    !osc_json_check_surrogates(data, len, &error)) {
		JsonArray *loc = osc_loc_new("body", NULL);
		JsonObject *ctx = json_object_new();
		JsonNode *input = json_node_new(JSON_NODE_OBJECT);

		g_clear_pointer(&root, json_node_unref);
		json_node_take_object(input, json_object_new());
		json_array_add_int_element(loc, 0);
		json_object_set_string_member(ctx, "error",
					      error != NULL ? error->message : "invalid UTF-8");
		osc_items_add(items, "json_invalid", loc, "JSON decode error", input, ctx);
		osc_request_respond_items(req, items);
		return FALSE;
	}
	req->body_json = root;
	req->body_state = JSON_NODE_HOLDS_OBJECT(req->body_json) ? OSC_BODY_OBJECT
								 : OSC_BODY_NOT_OBJECT;
	return TRUE;
}

/* ---- auth ---- */

/* 429 once the client's address has used up its failed authentications */
static gboolean
osc_http_check_rate_limit(OscRequest *req)
{
	guint retry_after = 0;
	g_autofree gchar *seconds = NULL;

	if (osc_http_limits_auth_allowed(req->self->limits, req->msg, &retry_after))
		return TRUE;
	seconds = g_strdup_printf("%u", retry_after);
	soup_message_headers_replace(soup_server_message_get_response_headers(req->msg),
				     "Retry-After", seconds);
	osc_request_respond_detail(req, 429,
				   "Too many failed authentication attempts from this address; "
				   "retry later");
	return FALSE;
}

gboolean
osc_request_check_api_key(OscRequest *req)
{
	const OscConfig *config = osc_service_get_config(req->self->service);
	SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
	const gchar *given;

	if (!config->api_key_required)
		return TRUE;
	given = soup_message_headers_get_one(h, "X-API-Key");
	if (given == NULL || given[0] == '\0') {
		osc_request_respond_detail(
		    req, 403, "API key required but missing. Provide X-API-Key header.");
		return FALSE;
	}
	if (!osc_crypto_equal(given, strlen(given), config->api_key, strlen(config->api_key))) {
		osc_request_respond_detail(req, 403, "Invalid API key");
		return FALSE;
	}
	return TRUE;
}

/*
 * Header bytes are ISO-8859-1 to the original, which re-encodes them as UTF-8 before PBKDF2
 * (API.md §1.5). Doing the same keeps non-ASCII keys opening the original's data.
 */
static gchar *
osc_latin1_to_utf8(const gchar *text, gsize len, gsize *out_len)
{
	gchar *out = g_malloc(len * 2 + 1);
	gsize j = 0;

	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)text[i];
		if (c < 0x80) {
			out[j++] = (gchar)c;
		} else {
			out[j++] = (gchar)(0xC0 | (c >> 6));
			out[j++] = (gchar)(0x80 | (c & 0x3F));
		}
	}
	out[j] = '\0';
	*out_len = j;
	return out;
}

/* §2.2. Returns FALSE when it has answered; an absent header only adds the 422 item. */
gboolean
osc_request_check_user_key(OscRequest *req, JsonArray *dep_items)
{
	const OscConfig *config = osc_service_get_config(req->self->service);
	SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
	const gchar *given = soup_message_headers_get_one(h, "X-User-Key");
	gsize len;

	if (given == NULL) {
		req->user_key_missing = TRUE;
		osc_items_missing(dep_items, osc_loc_new("header", "x-user-key", NULL), NULL);
		return TRUE;
	}
	/* blanks around a header value are not part of it (h11 strips them too) */
	while (*given == ' ' || *given == '\t')
		given++;
	len = strlen(given);
	while (len > 0 && (given[len - 1] == ' ' || given[len - 1] == '\t'))
		len--;
	if (len == 0) {
		osc_request_respond_detail(
		    req, 401, "X-User-Key header is required for configuration operations");
		return FALSE;
	}
	if (len < config->min_user_key_length) {
		g_autofree gchar *detail = g_strdup_printf(
		    "X-User-Key must be at least %u characters long", config->min_user_key_length);
		osc_request_respond_detail(req, 401, detail);
		return FALSE;
	}
	req->user_key = osc_latin1_to_utf8(given, len, &req->user_key_len);
	return TRUE;
}

/* ---- the dispatch of user-key work to the workers ---- */

static void
osc_http_server_drain_done(OscHttpServer *self, gboolean timed_out);

/*
 * A request that went async is in flight until libsoup has written its answer (or the
 * client has gone): only then may a drain disconnect everything.
 */
static void
osc_http_server_msg_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	OscHttpServer *self = OSC_HTTP_SERVER(user_data);

	g_signal_handlers_disconnect_by_func(msg, osc_http_server_msg_finished_cb, self);
	g_assert(self->in_flight > 0);
	self->in_flight--;
	if (self->draining && self->in_flight == 0 && self->drain_task != NULL) {
		g_clear_handle_id(&self->drain_timeout_id, g_source_remove);
		osc_http_server_drain_done(self, FALSE);
	}
}

static gboolean
osc_request_complete_cb(gpointer data)
{
	g_autoptr(OscRequest) req = data;
	OscHttpServer *self = req->self;

	/* closed: the connection is gone, and with it maybe the service */
	if (!self->closed)
		osc_http_complete(req);
	/* balances osc_request_go_async(); in-flight ends at "finished" */
	g_object_unref(self);
	return G_SOURCE_REMOVE;
}

static void
osc_request_job_cb(gpointer data, gpointer user_data)
{
	OscRequest *req = data;

	osc_http_run_job(req);
	g_main_context_invoke(req->self->context, osc_request_complete_cb, req);
}

static void
osc_request_msg_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	OscRequest *req = user_data;
	req->finished = TRUE;
}

static void
osc_request_go_async(OscRequest *req)
{
	OscHttpServer *self = req->self;

	g_object_ref(self);
	self->in_flight++;
	g_signal_connect_object(req->msg, "finished", G_CALLBACK(osc_http_server_msg_finished_cb),
				self, 0);
	req->paused = TRUE;
	soup_server_message_pause(req->msg);
	g_signal_connect(req->msg, "finished", G_CALLBACK(osc_request_msg_finished_cb), req);
}

static void
osc_request_dispatch(OscRequest *req)
{
	osc_service_push_job(req->self->service, osc_request_job_cb, req);
}

static void
osc_request_derive_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OscRequest *req = user_data;
	g_autoptr(GError) error = NULL;

	req->dk = osc_key_cache_derive_finish(OSC_KEY_CACHE(source), result, &error);
	if (req->dk == NULL || req->self->closed) {
		req->error = g_steal_pointer(&error);
		/* completes on this (main) thread through the same path as a job (closed:
		 * the workers may be gone, so it is dropped there) */
		osc_request_complete_cb(req);
		return;
	}
	osc_request_dispatch(req);
}

/* the user's key if it is derived already, without waiting; else NULL */
static OscDerivedKey *
osc_request_lookup_key(OscRequest *req)
{
	return osc_key_cache_lookup(osc_service_get_key_cache(req->self->service),
				    req->user_key, req->user_key_len);
}

/* Runs the request's job in a worker, with req->dk when it was found, else after deriving
 * the user's key. */
static void
osc_request_run_keyed(OscRequest *req)
{
	osc_request_go_async(req);
	if (req->dk != NULL) {
		osc_request_dispatch(req);
		return;
	}
	osc_key_cache_derive_async(osc_service_get_key_cache(req->self->service), req->user_key,
				   req->user_key_len, NULL, osc_request_derive_cb, req);
}

/* Runs the request's job in a worker, after deriving (or finding) the user's key. */
static void
osc_request_run_async(OscRequest *req, gboolean needs_key)
{
	if (!needs_key) {
		osc_request_go_async(req);
		osc_request_dispatch(req);
		return;
	}
	req->dk = osc_request_lookup_key(req);
	osc_request_run_keyed(req);
}

/* ---- GET /sse/subscribe ---- */

static void
osc_http_sse_start(OscRequest *req)
{
	OscHttpServer *self = req->self;
	SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);

	osc_http_apply_cors(self, req->msg);
	/* counted when the stream starts, as the original does (status at response start) */
	osc_http_record(self, req, 200);
	osc_sse_hub_subscribe(osc_service_get_sse_hub(self->service), req->msg, req->key,
			      req->environment, req->category, req->dk,
			      soup_message_headers_get_one(h, "Last-Event-ID"));
	if (req->paused) {
		/* The hub takes the connection over once libsoup has written the head, and
		 * libsoup emits no "finished" for it: the stream is no longer in flight. */
		osc_http_server_msg_finished_cb(req->msg, self);
		soup_server_message_unpause(req->msg);
	}
}

static void
osc_http_sse_derive_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OscRequest) req = user_data;
	OscHttpServer *self = req->self;
	g_autoptr(GError) error = NULL;

	req->dk = osc_key_cache_derive_finish(OSC_KEY_CACHE(source), result, &error);
	if (self->closed)
		; /* the connection is gone, and with it maybe the service and the hub */
	else if (req->dk == NULL)
		osc_request_respond_error(req, error);
	else if (self->draining)
		/* a stream started now would hold the drain until its timeout */
		osc_request_respond_detail(req, 503, "Server is shutting down");
	else if (!req->finished)
		osc_http_sse_start(req);
	g_object_unref(self);
}

/*
 * Subscribing needs the API key only (as the original), but values are sent only to a
 * subscriber that also presents an X-User-Key opening the entry (D-4, fixing D9).
 */
void
osc_http_sse_subscribe(OscRequest *req_in)
{
	g_autoptr(OscRequest) req = req_in;
	OscKeyCache *cache = osc_service_get_key_cache(req->self->service);
	SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
	g_autoptr(JsonArray) unused = json_array_new();

	if (soup_message_headers_get_one(h, "X-User-Key") != NULL) {
		if (!osc_request_check_user_key(req, unused))
			return;
		req->dk = osc_key_cache_lookup(cache, req->user_key, req->user_key_len);
		if (req->dk == NULL) {
			/* argument evaluation order is unspecified: steal before the call */
			OscRequest *pending = g_steal_pointer(&req);

			osc_request_go_async(pending);
			osc_key_cache_derive_async(cache, pending->user_key, pending->user_key_len,
						   NULL, osc_http_sse_derive_cb, pending);
			return;
		}
	}
	osc_http_sse_start(req);
}

/* ---- per-route validation (§1.4 steps 5–6) ---- */

static gboolean
osc_request_query(OscRequest *req, const gchar *name, const gchar **out)
{
	*out = req->query != NULL ? g_hash_table_lookup(req->query, name) : NULL;
	return *out != NULL;
}

static void
osc_request_validate_mode(OscRequest *req, JsonArray *items)
{
	const gchar *mode = NULL;

	if (!osc_request_query(req, "mode", &mode))
		return;
	if (g_str_equal(mode, "full")) {
		req->full = TRUE;
	} else if (!g_str_equal(mode, "short")) {
		JsonObject *ctx = json_object_new();
		JsonNode *input = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(input, mode);
		json_object_set_string_member(ctx, "expected", "'short' or 'full'");
		osc_items_add(items, "literal_error", osc_loc_new("query", "mode", NULL),
			      "Input should be 'short' or 'full'", input, ctx);
	}
}

/* ?version=N: a positive integer (pydantic's int_parsing item otherwise) */
static void
osc_request_validate_version(OscRequest *req, JsonArray *items, gboolean required)
{
	const gchar *text = NULL;
	guint64 v = 0;

	if (!osc_request_query(req, "version", &text)) {
		if (required)
			osc_items_missing(items, osc_loc_new("query", "version", NULL), NULL);
		return;
	}
	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &v, NULL)) {
		JsonNode *input = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(input, text);
		osc_items_add(items, "int_parsing", osc_loc_new("query", "version", NULL),
			      "Input should be a valid integer, unable to parse string as an "
			      "integer (versions start at 1)",
			      input, NULL);
		return;
	}
	req->version = (gint64)v;
}

static void
osc_request_validate_environment_query(OscRequest *req, JsonArray *items)
{
	const gchar *env = NULL;

	if (!osc_request_query(req, "environment", &env)) {
		osc_items_missing(items, osc_loc_new("query", "environment", NULL), NULL);
		return;
	}
	req->environment = g_strdup(env);
}

static void
osc_request_validate_body(OscRequest *req, JsonArray *items, gboolean create)
{
	JsonObject *body;
	const gchar *s;
	gboolean present;

	/* the /configs handlers' own X-User-Key parameter: header items precede body items */
	if (req->user_key_missing) {
		osc_items_missing(items, osc_loc_new("header", "x-user-key", NULL), NULL);
		req->user_key_item_added = TRUE;
	}
	switch (req->body_state) {
	case OSC_BODY_MISSING:
		osc_items_missing(items, osc_loc_new("body", NULL), NULL);
		return;
	case OSC_BODY_NOT_JSON:
	case OSC_BODY_NOT_OBJECT:
		osc_items_add(items, "model_attributes_type", osc_loc_new("body", NULL),
			      "Input should be a valid dictionary or object to extract fields "
			      "from",
			      json_node_copy(req->body_json), NULL);
		return;
	case OSC_BODY_OBJECT:
	default:
		break;
	}
	body = json_node_get_object(req->body_json);
	if (create) {
		s = osc_validate_string(body, "key", TRUE, FALSE, 1, 255, items, &present);
		req->key = g_strdup(s);
	}
	req->value = osc_validate_value(body, items);
	s = osc_validate_string(body, "category", FALSE, TRUE, 0, 100, items, &present);
	req->category = g_strdup(s);
	req->set_category = s != NULL;
	if (create) {
		s = osc_validate_string(body, "environment", TRUE, FALSE, 1, 100, items, &present);
		req->environment = g_strdup(s);
	}
}

/* Python's bool parsing of query values (pydantic lax mode, API.md §4.13) */
static gboolean
osc_parse_bool(const gchar *text, gboolean *out)
{
	static const gchar *const yes[] = {"true", "1", "yes", "on", "t", "y", NULL};
	static const gchar *const no[] = {"false", "0", "no", "off", "f", "n", NULL};
	g_autofree gchar *lower = g_ascii_strdown(text, -1);

	if (g_strv_contains(yes, lower))
		*out = TRUE;
	else if (g_strv_contains(no, lower))
		*out = FALSE;
	else
		return FALSE;
	return TRUE;
}

/*
 * /import's JSON body (D-5): {"backup_data": "...", "overwrite": true}. Read without a
 * tree: a backup body can be tens of megabytes, and the members are found by their spans.
 */
static void
osc_request_backup_from_body(OscRequest *req, gboolean overwrite_in_query)
{
	SoupMessageBody *body = soup_server_message_get_request_body(req->msg);
	g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
	g_autofree gchar *data = NULL;
	gsize len = 0, start, end;

	/* the body lets go of its chunks and its flat copy: ours is then the only reference,
	 * and the text is taken over instead of copied once more */
	soup_message_body_truncate(body);
	data = g_bytes_unref_to_data(g_steal_pointer(&bytes), &len);
	if (len == 0 || !osc_json_validate(data, (gssize)len, NULL))
		return;
	if (!overwrite_in_query &&
	    osc_json_object_member_span(data, len, "overwrite", &start, &end)) {
		if (end - start == 4 && memcmp(data + start, "true", 4) == 0)
			req->overwrite = TRUE;
		else if (end - start == 5 && memcmp(data + start, "false", 5) == 0)
			req->overwrite = FALSE;
	}
	if (!osc_json_object_member_span(data, len, "backup_data", &start, &end) ||
	    data[start] != '"')
		return;
	if (memchr(data + start, '\\', end - start) == NULL) {
		/* base64 text needs no escapes: the characters between the quotes */
		gsize n = end - start - 2;

		memmove(data, data + start + 1, n);
		data[n] = '\0';
		req->backup_data = g_steal_pointer(&data);
	} else {
		g_autoptr(JsonParser) parser = json_parser_new_immutable();

		if (json_parser_load_from_data(parser, data + start, (gssize)(end - start), NULL))
			req->backup_data =
			    g_strdup(json_node_get_string(json_parser_get_root(parser)));
	}
}

/*
 * /backup and /import: X-Backup-Password is required (422 when absent). /import takes
 * backup_data and overwrite from the query string, else from a JSON body as the JS client
 * sends them (D-5); the original ignores bodies, so a body is read only as a fallback.
 */
static void
osc_request_validate_backup(OscRequest *req, JsonArray *items)
{
	SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
	const gchar *password = soup_message_headers_get_one(h, "X-Backup-Password");
	const gchar *s;

	if (password == NULL) {
		osc_items_missing(items, osc_loc_new("header", "X-Backup-Password", NULL), NULL);
	} else {
		req->password = osc_latin1_to_utf8(password, strlen(password), &req->password_len);
	}
	if (req->route->id == OSC_ROUTE_BACKUP) {
		if (osc_request_query(req, "category", &s) && s[0] != '\0')
			req->filter_category = g_strdup(s);
		if (osc_request_query(req, "environment", &s) && s[0] != '\0')
			req->filter_environment = g_strdup(s);
		return;
	}

	if (osc_request_query(req, "backup_data", &s))
		req->backup_data = g_strdup(s);
	if (osc_request_query(req, "overwrite", &s) && !osc_parse_bool(s, &req->overwrite)) {
		JsonNode *input = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(input, s);
		osc_items_add(items, "bool_parsing", osc_loc_new("query", "overwrite", NULL),
			      "Input should be a valid boolean, unable to interpret input", input,
			      NULL);
	}
	/* the body can be tens of megabytes: it is let go of as soon as it has been read,
	 * rather than when the response is sent */
	if (req->backup_data == NULL)
		osc_request_backup_from_body(req, osc_request_query(req, "overwrite", &s));
	else
		soup_message_body_truncate(soup_server_message_get_request_body(req->msg));
	if (req->backup_data == NULL)
		osc_items_missing(items, osc_loc_new("query", "backup_data", NULL), NULL);
}

/* If-Match: a list of strong ETags ("12") or "*"; weak or unknown tags never match */
static void
osc_request_parse_if_match(OscRequest *req)
{
	SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
	const gchar *value = soup_message_headers_get_list(h, "If-Match");
	g_auto(GStrv) tags = NULL;

	if (value == NULL)
		return;
	req->if_match = g_array_new(FALSE, FALSE, sizeof(gint64));
	tags = g_strsplit(value, ",", -1);
	for (guint i = 0; tags[i] != NULL; i++) {
		gchar *tag = g_strstrip(tags[i]);
		gint64 rev = G_MININT64;
		gsize len = strlen(tag);

		if (g_str_equal(tag, "*")) {
			rev = -1;
		} else if (len >= 3 && tag[0] == '"' && tag[len - 1] == '"') {
			g_autofree gchar *inner = g_strndup(tag + 1, len - 2);
			guint64 v = 0;
			if (g_ascii_string_to_unsigned(inner, 10, 0, G_MAXINT64, &v, NULL))
				rev = (gint64)v;
		}
		if (rev == G_MININT64)
			rev = G_MAXINT64; /* cannot match any revision */
		g_array_append_val(req->if_match, rev);
	}
}

static void
osc_http_handle_preflight(OscHttpServer *self, SoupServerMessage *msg)
{
	const OscConfig *config = osc_service_get_config(self->service);
	SoupMessageHeaders *req_h = soup_server_message_get_request_headers(msg);
	SoupMessageHeaders *resp_h = soup_server_message_get_response_headers(msg);
	const gchar *origin = soup_message_headers_get_one(req_h, "Origin");
	const gchar *method = soup_message_headers_get_one(req_h, "Access-Control-Request-Method");
	const gchar *headers = soup_message_headers_get_one(req_h, "Access-Control-Request-Headers");
	static const gchar *const methods[] = {"GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD",
					       NULL};
	g_autoptr(GPtrArray) failures = g_ptr_array_new();
	g_autofree gchar *allowed_lower = g_ascii_strdown(OSC_CORS_ALLOW_HEADERS, -1);
	g_auto(GStrv) allowed = g_strsplit(allowed_lower, ", ", -1);

	soup_message_headers_append(resp_h, "Vary", "Origin");
	soup_message_headers_replace(resp_h, "Access-Control-Allow-Methods",
				     "GET, POST, PUT, DELETE, OPTIONS, HEAD");
	soup_message_headers_replace(resp_h, "Access-Control-Max-Age", "3600");
	soup_message_headers_replace(resp_h, "Access-Control-Allow-Headers",
				     OSC_CORS_ALLOW_HEADERS);
	soup_message_headers_replace(resp_h, "Access-Control-Allow-Credentials", "true");
	if (osc_config_origin_allowed(config, origin))
		soup_message_headers_replace(resp_h, "Access-Control-Allow-Origin", origin);
	else
		g_ptr_array_add(failures, (gpointer) "origin");
	if (!g_strv_contains(methods, method))
		g_ptr_array_add(failures, (gpointer) "method");
	if (headers != NULL) {
		g_auto(GStrv) requested = g_strsplit(headers, ",", -1);
		for (guint i = 0; requested[i] != NULL; i++) {
			g_autofree gchar *h = g_ascii_strdown(g_strstrip(requested[i]), -1);
			if (h[0] != '\0' && !g_strv_contains((const gchar *const *)allowed, h)) {
				g_ptr_array_add(failures, (gpointer) "headers");
				break;
			}
		}
	}
	if (failures->len == 0) {
		soup_server_message_set_status(msg, 200, NULL);
		soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, "OK", 2);
	} else {
		GString *text = g_string_new("Disallowed CORS ");
		gsize len;
		for (guint i = 0; i < failures->len; i++) {
			if (i > 0)
				g_string_append(text, ", ");
			g_string_append(text, g_ptr_array_index(failures, i));
		}
		len = text->len;
		soup_server_message_set_status(msg, 400, NULL);
		soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_TAKE,
						 g_string_free(text, FALSE), len);
	}
}

static void
osc_http_handler_cb(SoupServer *server,
		    SoupServerMessage *msg,
		    const char *path,
		    GHashTable *query,
		    gpointer user_data)
{
	OscHttpServer *self = OSC_HTTP_SERVER(user_data);
	SoupMessageHeaders *req_h = soup_server_message_get_request_headers(msg);
	const gchar *method = soup_server_message_get_method(msg);
	g_autoptr(OscRequest) req = NULL;
	g_autoptr(JsonArray) dep_items = NULL;
	g_autoptr(JsonArray) items = NULL;
	gboolean redirect = FALSE;
	gboolean is_configs;

	/* closed: a request libsoup had read already; nothing is left to answer it */
	if (self->closed) {
		soup_server_message_set_status(msg, 503, NULL);
		return;
	}
	req = g_new0(OscRequest, 1);
	dep_items = json_array_new();
	items = json_array_new();
	req->self = self;
	req->msg = g_object_ref(msg);
	req->start = g_get_monotonic_time();
	req->query = query;
	req->method = method;

	/* the early handler may already have answered (413) */
	if (soup_server_message_get_status(msg) != 0)
		return;

	/* 1. CORS preflight, before routing */
	if (g_str_equal(method, "OPTIONS") && soup_message_headers_get_one(req_h, "Origin") &&
	    soup_message_headers_get_one(req_h, "Access-Control-Request-Method")) {
		g_autofree gchar *key = NULL;
		/* labelled with the route it is for, when there is one */
		req->route = osc_http_match(path, &key, &redirect);
		osc_http_handle_preflight(self, msg);
		osc_http_record(self, req, soup_server_message_get_status(msg));
		return;
	}

	if (self->draining) {
		osc_request_respond_detail(req, 503, "Server is shutting down");
		return;
	}

	/* 2. routing */
	req->route = osc_http_match(path, &req->key, &redirect);
	if (req->route == NULL) {
		osc_request_respond_detail(req, 404, "Not Found");
		return;
	}
	if (redirect) {
		SoupMessageHeaders *resp_h = soup_server_message_get_response_headers(msg);
		g_autofree gchar *location =
		    g_uri_to_string_partial(soup_server_message_get_uri(msg), G_URI_HIDE_PASSWORD);
		/* drop the trailing slash of the path, keep the query */
		GString *loc = g_string_new(location);
		const gchar *q = strchr(loc->str, '?');
		gssize slash = (q != NULL ? q - loc->str : (gssize)loc->len) - 1;
		g_string_erase(loc, slash, 1);
		soup_message_headers_replace(resp_h, "Location", loc->str);
		g_string_free(loc, TRUE);
		osc_request_respond(req, 307, "text/plain", NULL, 0);
		return;
	}
	if (!osc_http_method_allowed(req->route->id, method)) {
		SoupMessageHeaders *resp_h = soup_server_message_get_response_headers(msg);
		soup_message_headers_replace(resp_h, "Allow", req->route->allow);
		osc_request_respond_detail(req, 405, "Method Not Allowed");
		return;
	}
	is_configs = req->route->id == OSC_ROUTE_CONFIGS || req->route->id == OSC_ROUTE_CONFIG;

	/* 3. the JSON body of POST/PUT /configs, malformed → 422 before auth */
	if (is_configs && (g_str_equal(method, "POST") || g_str_equal(method, "PUT"))) {
		if (!osc_request_read_json_body(req, items))
			return;
	}

	/* 4.–5. API key, then user key; an address that failed too often waits first */
	if (req->route->auth != OSC_AUTH_OPEN && !osc_http_check_rate_limit(req))
		return;
	if (req->route->auth != OSC_AUTH_OPEN && !osc_request_check_api_key(req))
		return;
	if (req->route->auth == OSC_AUTH_USER_KEY && !osc_request_check_user_key(req, dep_items))
		return;

	/* 6. all remaining validation: one 422 with every item, dependency items first; the
	 * /configs handlers declare X-User-Key again, so the original reports it twice */
	if (osc_http_validate(req, items) == FALSE)
		return;
	if (req->user_key_missing && is_configs && !req->user_key_item_added)
		osc_items_missing(items, osc_loc_new("header", "x-user-key", NULL), NULL);
	if (json_array_get_length(dep_items) > 0 || json_array_get_length(items) > 0) {
		for (guint i = 0; i < json_array_get_length(items); i++)
			json_array_add_element(dep_items,
					       json_node_copy(json_array_get_element(items, i)));
		osc_request_respond_items(req, dep_items);
		return;
	}

	/* 7. the handler */
	osc_http_handle(g_steal_pointer(&req));
}

/* ---- validation and dispatch per route ---- */

/* is @method one of the route's "GET, HEAD, POST" list? (per request: no allocation) */
gboolean
osc_http_method_allowed(OscRouteId id, const gchar *method)
{
	const OscRoute *route = osc_http_route_lookup(id);
	gsize len = strlen(method);

	/* libsoup hands on an empty method (" /path HTTP/1.1"); strstr() would find "" at the
	 * same place forever and hang the main loop (found by fuzz-route) */
	if (len == 0)
		return FALSE;
	for (const gchar *p = route->allow; (p = strstr(p, method)) != NULL; p += len) {
		gboolean starts = p == route->allow || p[-1] == ' ';
		gboolean ends = p[len] == '\0' || p[len] == ',';
		if (starts && ends)
			return TRUE;
	}
	return FALSE;
}

gboolean
osc_http_validate(OscRequest *req, JsonArray *items)
{
	const gchar *method = req->method;
	const gchar *s;

	switch (req->route->id) {
	case OSC_ROUTE_CONFIGS:
		if (g_str_equal(method, "POST")) {
			osc_request_validate_body(req, items, TRUE);
		} else {
			if (osc_request_query(req, "category", &s) && s[0] != '\0')
				req->filter_category = g_strdup(s);
			if (osc_request_query(req, "environment", &s) && s[0] != '\0')
				req->filter_environment = g_strdup(s);
			osc_request_validate_mode(req, items);
		}
		break;
	case OSC_ROUTE_CONFIG_VERSIONS:
		osc_request_validate_environment_query(req, items);
		break;
	case OSC_ROUTE_CONFIG_ROLLBACK:
		osc_request_validate_environment_query(req, items);
		osc_request_validate_version(req, items, TRUE);
		osc_request_parse_if_match(req);
		break;
	case OSC_ROUTE_CONFIG:
		osc_request_validate_environment_query(req, items);
		if (g_str_equal(method, "GET") || g_str_equal(method, "HEAD")) {
			osc_request_validate_mode(req, items);
			osc_request_validate_version(req, items, FALSE);
		}
		if (g_str_equal(method, "PUT"))
			osc_request_validate_body(req, items, FALSE);
		if (g_str_equal(method, "PUT") || g_str_equal(method, "DELETE"))
			osc_request_parse_if_match(req);
		break;
	case OSC_ROUTE_CLUSTER_CONFIGS:
		if (osc_request_query(req, "category", &s) && s[0] != '\0')
			req->filter_category = g_strdup(s);
		if (osc_request_query(req, "environment", &s) && s[0] != '\0')
			req->filter_environment = g_strdup(s);
		break;
	case OSC_ROUTE_BACKUP:
	case OSC_ROUTE_IMPORT:
		osc_request_validate_backup(req, items);
		break;
	case OSC_ROUTE_REKEY: {
		SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
		const gchar *nk = soup_message_headers_get_one(h, "X-New-User-Key");
		if (nk == NULL)
			osc_items_missing(items, osc_loc_new("header", "X-New-User-Key", NULL),
					  NULL);
		else
			req->new_user_key =
			    osc_latin1_to_utf8(nk, strlen(nk), &req->new_user_key_len);
		break;
	}
	case OSC_ROUTE_SSE_SUBSCRIBE:
		/* filters echo as given: absent → null, empty → "" (matches everything) */
		if (osc_request_query(req, "key", &s))
			req->key = g_strdup(s);
		if (osc_request_query(req, "environment", &s))
			req->environment = g_strdup(s);
		if (osc_request_query(req, "category", &s))
			req->category = g_strdup(s);
		break;
	default:
		break;
	}
	return TRUE;
}

/* ---- answering ---- */

/*
 * One entry in the short or full form of API.md §3.4, written straight into @out: reads
 * and lists carry their value as compact text already, so no JSON tree is built per
 * request.
 */
/* printf's cost is most of an entry's head in a list of small entries */
static void
osc_string_append_int64(GString *out, gint64 v)
{
	gchar buf[24];
	gchar *p = buf + sizeof(buf);
	guint64 u = v < 0 ? -(guint64)v : (guint64)v;

	do {
		*--p = (gchar)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	g_string_append_len(out, p, buf + sizeof(buf) - p);
}

static void
osc_entry_append_head(GString *out, OscEntryRow *row)
{
	g_string_append(out, "{\"id\":");
	osc_string_append_int64(out, row->id);
	g_string_append(out, ",\"key\":");
	osc_json_append_quoted(out, row->key);
	g_string_append(out, ",\"category\":");
	if (row->category != NULL)
		osc_json_append_quoted(out, row->category);
	else
		g_string_append(out, "null");
	g_string_append(out, ",\"environment\":");
	osc_json_append_quoted(out, row->environment);
	g_string_append(out, ",\"value\":");
}

static void
osc_entry_append_tail(GString *out, OscEntryRow *row, gboolean full, gint64 version)
{
	if (full) {
		g_autofree gchar *created = osc_timestamp_db_to_api(row->created_at);
		g_autofree gchar *updated = osc_timestamp_db_to_api(row->updated_at);
		g_string_append_printf(out, ",\"created_at\":\"%s\",\"updated_at\":\"%s\"", created,
				       updated);
	}
	if (version > 0)
		g_string_append_printf(out, ",\"version\":%" G_GINT64_FORMAT, version);
	g_string_append_c(out, '}');
}

static void
osc_entry_append_json(GString *out, OscEntry *entry, gboolean full, gint64 version)
{
	osc_entry_append_head(out, entry->row);
	if (entry->value_json != NULL) {
		g_string_append(out, entry->value_json);
	} else {
		gsize len = 0;
		g_autofree gchar *text = osc_json_to_string(entry->value, &len);
		g_string_append_len(out, text, (gssize)len);
		OPENSSL_cleanse(text, len);
	}
	osc_entry_append_tail(out, entry->row, full, version);
}

/* a list body written entry by entry as the store is read: no copy of a row or a value */
typedef struct {
	GString *out;
	gboolean full;
	guint n;
} ListWriter;

static gboolean
osc_list_writer_entry_cb(OscEntryRow *row,
			 const gchar *plaintext,
			 gsize len,
			 gpointer user_data,
			 GError **error)
{
	ListWriter *w = user_data;

	if (w->n++ > 0)
		g_string_append_c(w->out, ',');
	osc_entry_append_head(w->out, row);
	if (!osc_json_compact_append(w->out, plaintext, (gssize)len, error))
		return FALSE;
	osc_entry_append_tail(w->out, row, w->full, 0);
	return TRUE;
}

static void
osc_request_set_entry_body(OscRequest *req, guint status, OscEntry *entry, gboolean full,
			   gint64 version)
{
	GString *out = g_string_sized_new(256);

	osc_entry_append_json(out, entry, full, version);
	req->resp_status = status;
	req->resp_len = out->len;
	req->resp_body = g_string_free(out, FALSE);
}

/* one version: metadata, plus the value when given */
static JsonNode *
osc_version_to_json(OscEntryVersion *v, JsonNode *value, gboolean full)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	JsonObject *obj = json_object_new();
	g_autofree gchar *created = osc_timestamp_db_to_api(v->created_at);

	json_object_set_string_member(obj, "key", v->key);
	if (v->category != NULL)
		json_object_set_string_member(obj, "category", v->category);
	else
		json_object_set_null_member(obj, "category");
	json_object_set_string_member(obj, "environment", v->environment);
	if (value != NULL)
		json_object_set_member(obj, "value", json_node_ref(value));
	json_object_set_int_member(obj, "version", v->version);
	json_object_set_boolean_member(obj, "current", v->current);
	json_object_set_boolean_member(obj, "deleted", v->deleted);
	if (full) {
		json_object_set_string_member(obj, "created_at", created);
		if (v->superseded_at != NULL) {
			g_autofree gchar *sup = osc_timestamp_db_to_api(v->superseded_at);
			json_object_set_string_member(obj, "superseded_at", sup);
		} else {
			json_object_set_null_member(obj, "superseded_at");
		}
		if (v->node_id != NULL)
			json_object_set_string_member(obj, "node_id", v->node_id);
		else
			json_object_set_null_member(obj, "node_id");
	}
	json_node_take_object(node, obj);
	return node;
}

static void
osc_request_set_body(OscRequest *req, guint status, JsonNode *node)
{
	req->resp_status = status;
	req->resp_body = osc_json_to_string(node, &req->resp_len);
}

static gchar *
osc_etag_for(OscEntryRow *row)
{
	return g_strdup_printf("\"%" G_GINT64_FORMAT "\"", row->revision);
}

/*
 * /backup's body: the object around `backup_data`, which is spliced in where it lies
 * rather than copied through a JSON tree and a serialiser (tens of megabytes).
 */
static void
osc_request_set_backup_body(OscRequest *req, OscService *service)
{
	static const gchar mark[] = "\"backup_data\":\"";
	g_autofree gchar *data = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(JsonNode) node = NULL;
	const gchar *at;
	gsize len = 0, head, data_len, tail;

	node = osc_service_backup_full(service, req->dk, req->password, req->password_len,
				       req->filter_category, req->filter_environment, &data,
				       &req->error);
	if (node == NULL)
		return;
	text = osc_json_to_string(node, &len);
	at = strstr(text, mark);
	g_assert(at != NULL);
	head = (gsize)(at - text) + strlen(mark);
	tail = len - head;
	data_len = strlen(data);
	/* growing a large block moves pages, not bytes */
	data = g_realloc(data, head + data_len + tail + 1);
	memmove(data + head, data, data_len);
	memcpy(data, text, head);
	memcpy(data + head + data_len, text + head, tail);
	data[head + data_len + tail] = '\0';
	req->resp_status = 200;
	req->resp_len = head + data_len + tail;
	req->resp_body = g_steal_pointer(&data);
}

/* Cache-Control: no-cache or max-age=0 (or HTTP/1.0's Pragma: no-cache): the client wants
 * an answer read from the store now, not one kept from a moment ago */
static gboolean
osc_request_wants_fresh(OscRequest *req)
{
	SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
	const gchar *cc = soup_message_headers_get_list(h, "Cache-Control");
	const gchar *pragma = soup_message_headers_get_list(h, "Pragma");

	return (cc != NULL &&
		(soup_header_contains(cc, "no-cache") || soup_header_contains(cc, "max-age=0"))) ||
	       (pragma != NULL && soup_header_contains(pragma, "no-cache"));
}

/* what a list's answer depends on besides the user key: its filters and its form */
static gchar *
osc_request_list_tag(OscRequest *req)
{
	const gchar *c = req->filter_category, *e = req->filter_environment;

	return g_strdup_printf("list %d %d:%s %d:%s", req->full, c != NULL ? (gint)strlen(c) : -1,
			       c != NULL ? c : "", e != NULL ? (gint)strlen(e) : -1,
			       e != NULL ? e : "");
}

/* Worker thread: the blocking part of a request. Builds the body so the main loop only
 * copies it out. */
void
osc_http_run_job(OscRequest *req)
{
	OscService *service = req->self->service;
	OscStore *store = osc_service_get_store(service);
	const gchar *method = req->method;
	g_autoptr(JsonNode) node = NULL;

	switch (req->route->id) {
	case OSC_ROUTE_CONFIGS:
		if (g_str_equal(method, "POST")) {
			req->op = OSC_OP_CREATE;
			req->entry = osc_service_entry_create(service, req->dk, req->key,
							      req->environment, req->category,
							      req->value, &req->error);
			if (req->entry == NULL)
				return;
			osc_request_set_entry_body(req, 201, req->entry, TRUE, 0);
			req->resp_etag = osc_etag_for(req->entry->row);
		} else {
			ListWriter w = {g_string_sized_new(4096), req->full, 0};
			/* before the read: a write from now on makes this answer stale */
			guint64 generation = osc_store_get_generation(store);
			gint64 read_us = g_get_monotonic_time();

			req->op = OSC_OP_LIST;
			g_string_append_c(w.out, '[');
			if (!osc_service_entry_foreach(service, req->dk, req->filter_category,
						       req->filter_environment,
						       osc_list_writer_entry_cb, &w, &req->error)) {
				OPENSSL_cleanse(w.out->str, w.out->len);
				g_string_free(w.out, TRUE);
				return;
			}
			g_string_append_c(w.out, ']');
			/* not when a write came meanwhile: it would never be used */
			if (req->list_cache_size > 0 &&
			    generation == osc_store_get_generation(store)) {
				g_autofree gchar *tag = osc_request_list_tag(req);
				if (!osc_derived_key_memo_store(req->dk, tag, generation, read_us,
								w.out->str, w.out->len,
								req->list_cache_size))
					osc_metric_inc(osc_service_get_metric_families(service)
							   ->list_cache_refused,
						       1, NULL);
			}
			req->resp_status = 200;
			req->resp_len = w.out->len;
			req->resp_body = g_string_free(w.out, FALSE);
		}
		return;
	case OSC_ROUTE_CONFIG:
		if ((g_str_equal(method, "GET") || g_str_equal(method, "HEAD")) && req->version > 0) {
			g_autoptr(OscEntryVersion) v = NULL;

			req->op = OSC_OP_VERSIONS;
			req->entry = osc_service_entry_read_version(service, req->dk, req->key,
								    req->environment, req->version,
								    &v, &req->error);
			if (req->entry == NULL)
				return;
			node = osc_version_to_json(v, req->entry->value, req->full);
			osc_request_set_body(req, 200, node);
		} else if (g_str_equal(method, "GET") || g_str_equal(method, "HEAD")) {
			req->op = OSC_OP_READ;
			req->entry = osc_service_entry_read(service, req->dk, req->key,
							    req->environment, &req->error);
			if (req->entry == NULL)
				return;
			osc_request_set_entry_body(req, 200, req->entry, req->full, 0);
			req->resp_etag = osc_etag_for(req->entry->row);
		} else if (g_str_equal(method, "PUT")) {
			req->op = OSC_OP_UPDATE;
			req->entry = osc_service_entry_update(
			    service, req->dk, req->key, req->environment, req->set_category,
			    req->category, req->value, req->if_match, &req->error);
			if (req->entry == NULL)
				return;
			osc_request_set_entry_body(req, 200, req->entry, TRUE, 0);
			req->resp_etag = osc_etag_for(req->entry->row);
		} else {
			g_autoptr(JsonBuilder) b = json_builder_new();
			g_autofree gchar *message = NULL;

			req->op = OSC_OP_DELETE;
			req->deleted = osc_service_entry_delete(service, req->dk, req->key,
								req->environment, req->if_match,
								&req->error);
			if (req->deleted == NULL)
				return;
			message = g_strdup_printf("Configuration '%s' deleted successfully",
						  req->key);
			json_builder_begin_object(b);
			json_builder_set_member_name(b, "message");
			json_builder_add_string_value(b, message);
			json_builder_end_object(b);
			node = json_builder_get_root(b);
			osc_request_set_body(req, 200, node);
		}
		return;
	case OSC_ROUTE_BACKUP:
		req->op = OSC_OP_BACKUP;
		osc_request_set_backup_body(req, service);
		return;
	case OSC_ROUTE_IMPORT:
		req->op = OSC_OP_IMPORT;
		node = osc_service_import(service, req->dk, req->password, req->password_len,
					  g_steal_pointer(&req->backup_data), req->overwrite,
					  &req->changes,
					  &req->error);
		if (node != NULL)
			osc_request_set_body(req, 200, node);
		return;
	case OSC_ROUTE_REKEY: {
		OscKeyCache *cache = osc_service_get_key_cache(service);
		g_autoptr(OscDerivedKey) new_dk = NULL;

		req->op = OSC_OP_REKEY;
		/* a worker thread: deriving the new key here keeps the main loop free */
		new_dk = osc_key_cache_derive(cache, req->new_user_key, req->new_user_key_len, NULL,
					      &req->error);
		if (new_dk == NULL)
			return;
		node = osc_service_rekey(service, req->dk, new_dk, NULL, &req->error);
		if (node != NULL)
			osc_request_set_body(req, 200, node);
		return;
	}
	case OSC_ROUTE_CONFIG_VERSIONS: {
		g_autoptr(GPtrArray) versions = NULL;
		JsonObject *obj;
		JsonArray *array;

		req->op = OSC_OP_VERSIONS;
		versions = osc_service_entry_versions(service, req->dk, req->key, req->environment,
						      &req->error);
		if (versions == NULL)
			return;
		array = json_array_sized_new(versions->len);
		for (guint i = 0; i < versions->len; i++)
			json_array_add_element(
			    array, osc_version_to_json(g_ptr_array_index(versions, i), NULL, TRUE));
		obj = json_object_new();
		json_object_set_string_member(obj, "key", req->key);
		json_object_set_string_member(obj, "environment", req->environment);
		json_object_set_array_member(obj, "versions", array);
		node = json_node_new(JSON_NODE_OBJECT);
		json_node_take_object(node, obj);
		osc_request_set_body(req, 200, node);
		return;
	}
	case OSC_ROUTE_CONFIG_ROLLBACK: {
		req->op = OSC_OP_ROLLBACK;
		req->entry = osc_service_entry_rollback(service, req->dk, req->key, req->environment,
							req->version, req->if_match, NULL,
							&req->error);
		if (req->entry == NULL)
			return;
		osc_request_set_entry_body(req, 200, req->entry, TRUE, req->entry->row->version);
		req->resp_etag = osc_etag_for(req->entry->row);
		return;
	}
	case OSC_ROUTE_STATS:
		node = osc_http_build_stats(store, &req->error);
		if (node != NULL)
			osc_request_set_body(req, 200, node);
		return;
	case OSC_ROUTE_CLUSTER_CONFIGS:
		node = osc_http_build_cluster_configs(store, req->filter_category,
						      req->filter_environment, &req->error);
		if (node != NULL)
			osc_request_set_body(req, 200, node);
		return;
	case OSC_ROUTE_CLUSTER_DISTRIBUTION:
	case OSC_ROUTE_CLUSTER_REPLICATE:
	case OSC_ROUTE_CLUSTER_DIGEST:
	case OSC_ROUTE_CLUSTER_ROWS:
	case OSC_ROUTE_CLUSTER_FETCH:
		osc_cluster_http_job(req);
		return;
	default:
		g_assert_not_reached();
	}
}

static void
osc_http_count_op(OscRequest *req, guint status)
{
	OscServiceMetrics *m = osc_service_get_metric_families(req->self->service);
	const gchar *outcome = status < 300 ? "success" : status == 404 ? "not_found" : "error";
	static const gchar *const names[] = {NULL, "create", "read", "update", "delete", "list"};
	const gchar *op;

	if (req->op >= G_N_ELEMENTS(names))
		return;
	op = names[req->op];

	osc_metric_inc(m->config_operations, 1, op, outcome, NULL);
	switch (req->op) {
	case OSC_OP_READ:
		osc_metric_inc(m->config_reads, 1, outcome, NULL);
		if (status < 300)
			osc_metric_inc(m->encryption_operations, 1, "decrypt", NULL);
		break;
	case OSC_OP_CREATE:
	case OSC_OP_UPDATE:
		osc_metric_inc(m->config_writes, 1, op, outcome, NULL);
		if (status < 300)
			osc_metric_inc(m->encryption_operations, 1, "encrypt", NULL);
		break;
	case OSC_OP_DELETE:
		osc_metric_inc(m->config_writes, 1, op, outcome, NULL);
		break;
	case OSC_OP_LIST:
	case OSC_OP_NONE:
	default:
		break;
	}
}

/* Main thread: answer a request whose job ran, and announce what changed. */
void
osc_http_complete(OscRequest *req)
{
	OscService *service = req->self->service;

	if (req->error != NULL) {
		if (req->op != OSC_OP_NONE)
			osc_http_count_op(req, osc_error_to_http_status(req->error));
		if ((req->op == OSC_OP_BACKUP || req->op == OSC_OP_IMPORT) &&
		    osc_error_to_http_status(req->error) >= 500) {
			g_autofree gchar *detail = g_strdup_printf(
			    "%s failed: %s", req->op == OSC_OP_BACKUP ? "Backup" : "Import",
			    req->error->message);
			g_warning("%s", detail);
			osc_request_respond_detail(req, 500, detail);
			return;
		}
		osc_request_respond_error(req, req->error);
		return;
	}
	if (req->op != OSC_OP_NONE)
		osc_http_count_op(req, req->resp_status);
	if (req->op == OSC_OP_CREATE) {
		g_autofree gchar *k = g_uri_escape_string(req->entry->row->key, NULL, FALSE);
		g_autofree gchar *e =
		    g_uri_escape_string(req->entry->row->environment, NULL, FALSE);
		req->resp_location = g_strdup_printf("/configs/%s?environment=%s", k, e);
	}
	osc_request_respond(req, req->resp_status, "application/json",
			    g_steal_pointer(&req->resp_body), req->resp_len);
	switch (req->op) {
	case OSC_OP_CREATE:
		osc_service_notify_change(service, OSC_CHANGE_CREATED, req->entry->row,
					  req->entry->value);
		break;
	case OSC_OP_UPDATE:
		osc_service_notify_change(service, OSC_CHANGE_UPDATED, req->entry->row,
					  req->entry->value);
		break;
	case OSC_OP_DELETE:
		osc_service_notify_change(service, OSC_CHANGE_DELETED, req->deleted, NULL);
		break;
	case OSC_OP_ROLLBACK:
		osc_service_notify_change(service, req->entry->kind, req->entry->row,
					  req->entry->value);
		break;
	case OSC_OP_IMPORT:
		/* imports raise events too (the original's emit nothing, D33); a large one
		 * tells subscribers to reload instead */
		if (req->changes == NULL)
			osc_service_notify_bulk_change(service, "import");
		for (guint i = 0; req->changes != NULL && i < req->changes->len; i++) {
			OscEntry *e = g_ptr_array_index(req->changes, i);
			osc_service_notify_change(service, e->kind, e->row, e->value);
		}
		break;
	case OSC_OP_READ:
	case OSC_OP_LIST:
	case OSC_OP_NONE:
	default:
		break;
	}
}

/*
 * Main thread: a GET of an entry whose user key is derived (req->dk) and whose row the
 * store holds in memory is answered here, as the worker would (the same body, ETag, errors
 * and counts), without the round trip through a worker. Returns %FALSE when the request
 * needs one.
 */
static gboolean
osc_request_read_cached(OscRequest *req)
{
	OscService *service = req->self->service;

	if ((!g_str_equal(req->method, "GET") && !g_str_equal(req->method, "HEAD")) ||
	    req->version > 0 || req->dk == NULL || osc_request_wants_fresh(req))
		return FALSE;
	if (!osc_service_entry_read_cached(service, req->dk, req->key, req->environment,
					   &req->entry, &req->error))
		return FALSE;
	req->op = OSC_OP_READ;
	if (req->entry != NULL) {
		osc_request_set_entry_body(req, 200, req->entry, req->full, 0);
		req->resp_etag = osc_etag_for(req->entry->row);
	}
	osc_http_complete(req);
	return TRUE;
}

/*
 * Main thread: a list whose answer this user key computed a moment ago, with no write to
 * the store since (osc_store_get_generation()), is answered again from memory, with the
 * same counts. The answer is kept with the derived key (osc_derived_key_memo_store()) and
 * goes when the key leaves the cache. Returns %FALSE when a worker must read the list.
 */
static gboolean
osc_request_list_cached(OscRequest *req)
{
	OscService *service = req->self->service;
	OscServiceMetrics *m = osc_service_get_metric_families(service);
	GBytes *body = NULL;

	req->list_cache_size = osc_service_get_config(service)->list_cache_size;
	if (req->list_cache_size == 0)
		return FALSE;
	if (osc_request_wants_fresh(req)) {
		osc_metric_inc(m->list_cache_lookups, 1, "bypass", NULL);
		return FALSE;
	}
	if (req->dk != NULL) {
		g_autofree gchar *tag = osc_request_list_tag(req);
		body = osc_derived_key_memo_lookup(
		    req->dk, tag, osc_store_get_generation(osc_service_get_store(service)),
		    OSC_STORE_CACHE_TTL_US);
	}
	osc_metric_inc(m->list_cache_lookups, 1, body != NULL ? "hit" : "miss", NULL);
	if (body == NULL)
		return FALSE;
	/* answered with the kept bytes themselves: no copy, and they are wiped when the
	 * last of their users is done with them */
	req->op = OSC_OP_LIST;
	req->resp_status = 200;
	req->resp_bytes = body;
	osc_http_complete(req);
	return TRUE;
}

/* Main thread, step 7: answer what needs no worker, queue the rest. Takes @req. */
void
osc_http_handle(OscRequest *req_in)
{
	g_autoptr(OscRequest) req = req_in;
	OscHttpServer *self = req->self;

	switch (req->route->id) {
	case OSC_ROUTE_CONFIG_VERSIONS:
	case OSC_ROUTE_CONFIG_ROLLBACK:
		if (req->environment[0] == '\0') {
			osc_request_respond_detail(req, 404, "environment is required");
			return;
		}
		osc_request_run_async(g_steal_pointer(&req), TRUE);
		return;
	case OSC_ROUTE_CONFIG:
		/* an empty environment= is present, hence no 422; the original answers 404 */
		if (req->environment[0] == '\0') {
			if (!g_str_equal(req->method, "GET") && !g_str_equal(req->method, "HEAD"))
				req->op = g_str_equal(req->method, "PUT") ? OSC_OP_UPDATE
									  : OSC_OP_DELETE;
			else
				req->op = OSC_OP_READ;
			osc_http_count_op(req, 404);
			osc_request_respond_detail(req, 404, "environment is required");
			return;
		}
		/* looked up once, for both ways */
		req->dk = osc_request_lookup_key(req);
		if (osc_request_read_cached(req))
			return;
		osc_request_run_keyed(g_steal_pointer(&req));
		return;
	case OSC_ROUTE_CONFIGS:
		if (g_str_equal(req->method, "POST")) {
			osc_request_run_async(g_steal_pointer(&req), TRUE);
			return;
		}
		req->dk = osc_request_lookup_key(req);
		if (osc_request_list_cached(req))
			return;
		osc_request_run_keyed(g_steal_pointer(&req));
		return;
	case OSC_ROUTE_REKEY: {
		const OscConfig *config = osc_service_get_config(self->service);
		if (req->new_user_key_len < config->min_user_key_length) {
			g_autofree gchar *detail = g_strdup_printf(
			    "X-New-User-Key must be at least %u characters long",
			    config->min_user_key_length);
			osc_request_respond_detail(req, 400, detail);
			return;
		}
		if (osc_crypto_equal(req->new_user_key, req->new_user_key_len, req->user_key,
				     req->user_key_len)) {
			osc_request_respond_detail(req, 400,
						   "X-New-User-Key must differ from X-User-Key");
			return;
		}
		osc_request_run_async(g_steal_pointer(&req), TRUE);
		return;
	}
	case OSC_ROUTE_BACKUP:
	case OSC_ROUTE_IMPORT:
		/* stricter than the original, which takes "": a backup anyone can open with an
		 * empty password is a plaintext export in disguise */
		if (req->password_len == 0) {
			osc_request_respond_detail(req, 400,
						   "X-Backup-Password must not be empty");
			return;
		}
		osc_request_run_async(g_steal_pointer(&req), TRUE);
		return;
	case OSC_ROUTE_STATS:
	case OSC_ROUTE_CLUSTER_CONFIGS:
		/* database work without a user key */
		osc_request_run_async(g_steal_pointer(&req), FALSE);
		return;
	case OSC_ROUTE_SSE_SUBSCRIBE:
		osc_http_sse_subscribe(g_steal_pointer(&req));
		return;
	case OSC_ROUTE_CLUSTER_DISTRIBUTION:
		/* with clustering off: the 400 of handle_simple */
		if (osc_service_get_cluster(self->service) == NULL) {
			osc_http_handle_simple(self, req);
			return;
		}
		osc_request_run_async(g_steal_pointer(&req), FALSE);
		return;
	case OSC_ROUTE_CLUSTER_REPLICATE:
	case OSC_ROUTE_CLUSTER_DIGEST:
	case OSC_ROUTE_CLUSTER_ROWS:
	case OSC_ROUTE_CLUSTER_FETCH:
		/* peers' calls: database work in a worker (osc-cluster.c) */
		osc_request_run_async(g_steal_pointer(&req), FALSE);
		return;
	default:
		osc_http_handle_simple(self, req);
		return;
	}
}

/* ---- lifecycle ---- */

static void
osc_http_server_early_cb(SoupServer *server,
			 SoupServerMessage *msg,
			 const char *path,
			 GHashTable *query,
			 gpointer user_data)
{
	OscHttpServer *self = OSC_HTTP_SERVER(user_data);
	const OscConfig *config;
	SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
	goffset length = soup_message_headers_get_content_length(h);
	gsize limit;
	g_autofree gchar *detail = NULL;
	guint status = 0;

	if (self->closed) {
		soup_server_message_set_status(msg, 503, NULL);
		return;
	}
	config = osc_service_get_config(self->service);
	limit = osc_http_body_limit(config, path);

	/* Bodies are checked before libsoup reads them. A chunked body has no length to
	 * check and libsoup would buffer all of it, so it is refused outright (411); both
	 * original clients send Content-Length. */
	if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CHUNKED) {
		status = 411;
		detail = g_strdup("Length Required: send the request body with a Content-Length "
				  "header");
	} else if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CONTENT_LENGTH &&
		   length > (goffset)limit) {
		status = 413;
		detail = g_strdup_printf("Request body too large: %" G_GOFFSET_FORMAT
					 " bytes, the limit is %" G_GSIZE_FORMAT " bytes",
					 length, limit);
	}
	if (status != 0) {
		g_autoptr(OscRequest) req = g_new0(OscRequest, 1);
		gboolean redirect = FALSE;
		g_autofree gchar *key = NULL;
		gsize len = 0;
		gchar *body = osc_detail_body(detail, &len);

		soup_server_message_set_status(msg, status, NULL);
		soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, body,
						 len);
		/* libsoup still reads what the client sends: at least keep none of it */
		soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
		/* the unread body is still on the wire: this connection cannot be reused */
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "Connection", "close");
		req->self = self;
		req->method = soup_server_message_get_method(msg);
		req->start = g_get_monotonic_time();
		req->route = osc_http_match(path, &key, &redirect);
		osc_http_apply_cors(self, msg);
		osc_http_record(self, req, status);
	}
}

/**
 * osc_http_server_close:
 *
 * Disconnects every listener and connection for good; the service may be finalized
 * next. The server itself can outlive this: a request in flight (in the key derivation
 * or the workers) holds a reference on it, and is dropped when it comes back.
 */
void
osc_http_server_close(OscHttpServer *self)
{
	g_return_if_fail(OSC_IS_HTTP_SERVER(self));

	if (self->closed)
		return;
	self->closed = TRUE;
	/* the limits first: their handlers and sweep look at the connections being closed */
	g_clear_pointer(&self->limits, osc_http_limits_free);
	soup_server_disconnect(self->soup);
}

static void
osc_http_server_finalize(GObject *object)
{
	OscHttpServer *self = OSC_HTTP_SERVER(object);

	g_clear_handle_id(&self->drain_timeout_id, g_source_remove);
	if (self->soup != NULL)
		osc_http_server_close(self);
	g_clear_object(&self->soup);
	g_clear_object(&self->drain_task);
	g_clear_pointer(&self->context, g_main_context_unref);
	G_OBJECT_CLASS(osc_http_server_parent_class)->finalize(object);
}

static void
osc_http_server_class_init(OscHttpServerClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = osc_http_server_finalize;
}

static void
osc_http_server_init(OscHttpServer *self)
{
	self->context = g_main_context_ref_thread_default();
}

OscService *
osc_http_server_get_service(OscHttpServer *self)
{
	return self->service;
}

OscHttpServer *
osc_http_server_new(OscService *service)
{
	OscHttpServer *self = g_object_new(OSC_TYPE_HTTP_SERVER, NULL);
	g_autofree gchar *header = g_strdup_printf("opensecureconf/%s", PACKAGE_VERSION);

	self->service = service;
	/* raw-paths: handlers see the path as sent, so the {key} segment is decoded exactly
	 * once and a key holding '/' is reachable as %2F (API.md §1.6 MAY) */
	self->soup = soup_server_new("server-header", header, "raw-paths", TRUE, NULL);
	soup_server_add_early_handler(self->soup, NULL, osc_http_server_early_cb, self, NULL);
	soup_server_add_handler(self->soup, NULL, osc_http_handler_cb, self, NULL);
	self->limits = osc_http_limits_new(self->soup, osc_service_get_config(service),
					   osc_service_get_metrics(service));
	return self;
}

GPtrArray *
osc_http_server_get_uris(OscHttpServer *self)
{
	GPtrArray *array = g_ptr_array_new_with_free_func((GDestroyNotify)g_uri_unref);
	GSList *uris = soup_server_get_uris(self->soup);

	for (GSList *l = uris; l != NULL; l = l->next)
		g_ptr_array_add(array, l->data);
	g_slist_free(uris);
	return array;
}

gboolean
osc_http_server_listen(OscHttpServer *self, GError **error)
{
	const OscConfig *config = osc_service_get_config(self->service);
	SoupServerListenOptions options = 0;
	g_autoptr(GInetAddress) inet = NULL;
	g_autoptr(GSocketAddress) address = NULL;

	if (config->https_enabled) {
		if (!osc_http_setup_tls(self->soup, config, error))
			return FALSE;
		options |= SOUP_SERVER_LISTEN_HTTPS;
	}
	inet = g_inet_address_new_from_string(config->host);
	if (inet == NULL) {
		g_autoptr(GResolver) resolver = g_resolver_get_default();
		g_autolist(GInetAddress) list = NULL;

		if (g_str_equal(config->host, "localhost")) {
			inet = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
		} else {
			/* start-up, before the main loop runs: a blocking lookup is fine here */
			list = g_resolver_lookup_by_name(resolver, config->host, NULL, error);
			if (list == NULL) {
				g_prefix_error(error, "OSC_HOST %s: ", config->host);
				return FALSE;
			}
			inet = g_object_ref(list->data);
		}
	}
	address = g_inet_socket_address_new(inet, (guint16)config->port);
	if (!soup_server_listen(self->soup, address, options, error)) {
		g_prefix_error(error, "cannot listen on %s:%u: ", config->host, config->port);
		return FALSE;
	}
	/* GSocket's default backlog is 10: a burst of new connections (many clients, SSE
	 * reconnects) would be reset. listen() again only raises it. */
	{
		GSList *listeners = soup_server_get_listeners(self->soup);
		/* GSocket refuses a new backlog once listening; listen(2) itself takes it */
		for (GSList *l = listeners; l != NULL; l = l->next) {
			if (listen(g_socket_get_fd(G_SOCKET(l->data)), 1024) != 0)
				g_debug("cannot raise the listen backlog: %s", g_strerror(errno));
		}
		g_slist_free(listeners);
	}
	return TRUE;
}

static void
osc_http_server_drain_done(OscHttpServer *self, gboolean timed_out)
{
	g_autoptr(GTask) task = g_steal_pointer(&self->drain_task);

	osc_http_server_close(self);
	if (task == NULL)
		return;
	if (timed_out)
		g_task_return_new_error(task, OSC_ERROR, OSC_ERROR_UNAVAILABLE,
					"%u requests did not finish in time", self->in_flight);
	else
		g_task_return_boolean(task, TRUE);
}

static gboolean
osc_http_server_drain_timeout_cb(gpointer user_data)
{
	OscHttpServer *self = OSC_HTTP_SERVER(user_data);

	self->drain_timeout_id = 0;
	osc_http_server_drain_done(self, TRUE);
	return G_SOURCE_REMOVE;
}

/**
 * osc_http_server_drain_async:
 *
 * Stops accepting connections, answers new requests on open connections with 503 and
 * `Connection: close`, and completes once the in-flight requests are answered or after
 * @timeout_ms, whichever comes first.
 */
void
osc_http_server_drain_async(OscHttpServer *self,
			    guint timeout_ms,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	GSList *listeners = soup_server_get_listeners(self->soup);

	g_task_set_source_tag(task, osc_http_server_drain_async);
	g_return_if_fail(self->drain_task == NULL);

	self->draining = TRUE;
	for (GSList *l = listeners; l != NULL; l = l->next)
		g_socket_shutdown(G_SOCKET(l->data), TRUE, FALSE, NULL);
	g_slist_free(listeners);

	self->drain_task = g_steal_pointer(&task);
	if (self->in_flight == 0) {
		osc_http_server_drain_done(self, FALSE);
		return;
	}
	self->drain_timeout_id =
	    g_timeout_add(timeout_ms, osc_http_server_drain_timeout_cb, self);
}

gboolean
osc_http_server_drain_finish(OscHttpServer *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}
