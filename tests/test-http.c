/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib/gstdio.h>

#include "osc-crypto.h"
#include "osc-error.h"
#include "osc-metrics.h"
#include "osc-test-utils.h"

#define KEY_A "user-key-alpha-123"
#define KEY_B "user-key-bravo-456"

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	SoupSession *session;
	gchar *base;
} Fixture;

static void
fixture_start(Fixture *f)
{
	f->service = osc_test_service_new(f->config);
	f->base = osc_test_service_base_url(f->service);
	f->session = osc_test_session_new();
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	fixture_start(f);
}

static void
fixture_setup_api_key(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->config->api_key_required = TRUE;
	g_free(f->config->api_key);
	f->config->api_key = g_strdup("test-api-key-0123456789");
	fixture_start(f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->session);
	g_clear_object(&f->service);
	g_clear_pointer(&f->config, osc_config_free);
	g_free(f->base);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

static gchar *
url(Fixture *f, const gchar *path)
{
	return g_strconcat(f->base, path, NULL);
}

static OscTestResponse *
create(Fixture *f, const gchar *user_key, const gchar *body)
{
	g_autofree gchar *u = url(f, "/configs");
	return osc_test_http(f->session, "POST", u, body, "X-User-Key", user_key, NULL);
}

static OscTestResponse *
get(Fixture *f, const gchar *user_key, const gchar *path)
{
	g_autofree gchar *u = url(f, path);
	if (user_key == NULL)
		return osc_test_http(f->session, "GET", u, NULL, NULL, NULL);
	return osc_test_http(f->session, "GET", u, NULL, "X-User-Key", user_key, NULL);
}

static JsonObject *
obj(OscTestResponse *resp)
{
	g_assert_nonnull(resp->json);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(resp->json));
	return json_node_get_object(resp->json);
}

static void
test_http_open_routes(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) root = get(f, NULL, "/");
	g_autoptr(OscTestResponse) health = get(f, NULL, "/health");
	g_autoptr(OscTestResponse) ready = get(f, NULL, "/ready");
	g_autoptr(OscTestResponse) cluster = get(f, NULL, "/cluster/health");

	g_assert_cmpuint(root->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(root), "service"), ==,
			"OpenSecureConf API");
	g_assert_true(g_str_has_prefix(json_object_get_string_member(obj(root), "version"), "3."));
	g_assert_false(json_object_get_boolean_member(
	    json_object_get_object_member(obj(root), "cluster"), "enabled"));
	g_assert_cmpuint(health->status, ==, 200);
	g_assert_cmpstr(health->body, ==, "{\"status\":\"healthy\"}");
	g_assert_cmpstr(ready->body, ==, "{\"ready\":true}");
	g_assert_cmpuint(cluster->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(cluster), "node_id"), !=, NULL);
}

static void
test_http_crud(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) created = NULL;
	g_autoptr(OscTestResponse) read = NULL;
	g_autoptr(OscTestResponse) full = NULL;
	g_autoptr(OscTestResponse) updated = NULL;
	g_autoptr(OscTestResponse) deleted = NULL;
	g_autoptr(OscTestResponse) gone = NULL;
	g_autofree gchar *u = url(f, "/configs/database?environment=production");
	JsonObject *o;

	created = create(f, KEY_A,
			 "{\"key\":\"database\",\"value\":{\"host\":\"db\",\"port\":5432},"
			 "\"category\":\"config\",\"environment\":\"production\"}");
	g_assert_cmpuint(created->status, ==, 201);
	o = obj(created);
	g_assert_cmpstr(json_object_get_string_member(o, "key"), ==, "database");
	g_assert_cmpstr(json_object_get_string_member(o, "created_at"), ==,
			json_object_get_string_member(o, "updated_at"));
	g_assert_true(g_str_has_suffix(json_object_get_string_member(o, "created_at"), "Z"));
	g_assert_nonnull(soup_message_headers_get_one(created->headers, "ETag"));

	read = get(f, KEY_A, "/configs/database?environment=production");
	g_assert_cmpuint(read->status, ==, 200);
	g_assert_cmpstr(read->body, ==,
			"{\"id\":1,\"key\":\"database\",\"category\":\"config\","
			"\"environment\":\"production\",\"value\":{\"host\":\"db\",\"port\":5432}}");
	full = get(f, KEY_A, "/configs/database?environment=production&mode=full");
	g_assert_true(json_object_has_member(obj(full), "created_at"));

	updated = osc_test_http(f->session, "PUT", u, "{\"value\":[1,2,3]}", "X-User-Key", KEY_A,
				NULL);
	g_assert_cmpuint(updated->status, ==, 200);
	/* category kept when the update does not send one */
	g_assert_cmpstr(json_object_get_string_member(obj(updated), "category"), ==, "config");
	g_assert_cmpstr(soup_message_headers_get_one(updated->headers, "ETag"), !=,
			soup_message_headers_get_one(created->headers, "ETag"));

	deleted = osc_test_http(f->session, "DELETE", u, NULL, "X-User-Key", KEY_A, NULL);
	g_assert_cmpuint(deleted->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(deleted), "message"), ==,
			"Configuration 'database' deleted successfully");
	gone = get(f, KEY_A, "/configs/database?environment=production");
	g_assert_cmpuint(gone->status, ==, 404);
	g_assert_cmpstr(osc_test_json_detail(gone), ==,
			"Configuration with key 'database' not found in environment 'production'");
}

static void
test_http_duplicate(Fixture *f, gconstpointer data)
{
	const gchar *body = "{\"key\":\"k\",\"value\":\"v\",\"environment\":\"e\"}";
	g_autoptr(OscTestResponse) first = create(f, KEY_A, body);
	g_autoptr(OscTestResponse) second = create(f, KEY_A, body);

	g_assert_cmpuint(first->status, ==, 201);
	g_assert_cmpuint(second->status, ==, 400);
	g_assert_cmpstr(osc_test_json_detail(second), ==,
			"Configuration with key 'k' already exists in environment 'e'");
}

static void
test_http_wrong_key(Fixture *f, gconstpointer data)
{
	g_autofree gchar *u = url(f, "/configs/k?environment=e");
	g_autoptr(OscTestResponse) created =
	    create(f, KEY_A, "{\"key\":\"k\",\"value\":\"secret\",\"environment\":\"e\"}");
	g_autoptr(OscTestResponse) read = get(f, KEY_B, "/configs/k?environment=e");
	g_autoptr(OscTestResponse) put =
	    osc_test_http(f->session, "PUT", u, "{\"value\":\"evil\"}", "X-User-Key", KEY_B, NULL);
	g_autoptr(OscTestResponse) del =
	    osc_test_http(f->session, "DELETE", u, NULL, "X-User-Key", KEY_B, NULL);
	g_autoptr(OscTestResponse) list = get(f, KEY_B, "/configs");
	g_autoptr(OscTestResponse) again = get(f, KEY_A, "/configs/k?environment=e");

	g_assert_cmpuint(created->status, ==, 201);
	g_assert_cmpuint(read->status, ==, 401);
	g_assert_nonnull(osc_test_json_detail(read));
	g_assert_cmpuint(put->status, ==, 401);
	g_assert_cmpuint(del->status, ==, 401);
	g_assert_cmpuint(list->status, ==, 401);
	/* nothing was overwritten */
	g_assert_cmpuint(again->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(again), "value"), ==, "secret");
}

static void
test_http_validation(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) bad = create(f, KEY_A, "{\"key\":\"\",\"value\":null,\"environment\":\"prod\"}");
	g_autoptr(OscTestResponse) malformed = create(f, KEY_A, "{\"key\":");
	g_autoptr(OscTestResponse) array = create(f, KEY_A, "[1,2]");
	g_autoptr(OscTestResponse) nan = create(f, KEY_A, "{\"key\":\"k\",\"value\":NaN,\"environment\":\"e\"}");
	g_autoptr(OscTestResponse) no_env = get(f, KEY_A, "/configs/k");
	g_autoptr(OscTestResponse) empty_env = get(f, KEY_A, "/configs/k?environment=");
	g_autoptr(OscTestResponse) bad_mode = get(f, KEY_A, "/configs/k?environment=e&mode=long");
	JsonArray *items;

	g_assert_cmpuint(bad->status, ==, 422);
	items = json_object_get_array_member(obj(bad), "detail");
	g_assert_cmpuint(json_array_get_length(items), ==, 6);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(items, 0),
						      "type"),
			==, "string_too_short");
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(items, 5),
						      "type"),
			==, "list_type");
	g_assert_cmpuint(malformed->status, ==, 422);
	g_assert_cmpstr(json_object_get_string_member(
			    json_array_get_object_element(
				json_object_get_array_member(obj(malformed), "detail"), 0),
			    "type"),
			==, "json_invalid");
	g_assert_cmpuint(array->status, ==, 422);
	g_assert_cmpuint(nan->status, ==, 422);
	g_assert_cmpuint(no_env->status, ==, 422);
	g_assert_cmpuint(empty_env->status, ==, 404);
	g_assert_cmpstr(osc_test_json_detail(empty_env), ==, "environment is required");
	g_assert_cmpuint(bad_mode->status, ==, 422);
}

static void
test_http_user_key_checks(Fixture *f, gconstpointer data)
{
	g_autofree gchar *u = url(f, "/configs");
	g_autoptr(OscTestResponse) missing = osc_test_http(f->session, "GET", u, NULL, NULL, NULL);
	g_autoptr(OscTestResponse) empty =
	    osc_test_http(f->session, "GET", u, NULL, "X-User-Key", "", NULL);
	g_autoptr(OscTestResponse) shortk =
	    osc_test_http(f->session, "GET", u, NULL, "X-User-Key", "short", NULL);

	g_assert_cmpuint(missing->status, ==, 422);
	g_assert_cmpuint(empty->status, ==, 401);
	g_assert_cmpstr(osc_test_json_detail(empty), ==,
			"X-User-Key header is required for configuration operations");
	g_assert_cmpuint(shortk->status, ==, 401);
	g_assert_cmpstr(osc_test_json_detail(shortk), ==,
			"X-User-Key must be at least 8 characters long");
}

static void
test_http_api_key(Fixture *f, gconstpointer data)
{
	g_autofree gchar *u = url(f, "/configs");
	g_autofree gchar *s = url(f, "/stats/operations");
	g_autoptr(OscTestResponse) missing =
	    osc_test_http(f->session, "GET", u, NULL, "X-User-Key", KEY_A, NULL);
	g_autoptr(OscTestResponse) wrong = osc_test_http(f->session, "GET", u, NULL, "X-User-Key",
							 KEY_A, "X-API-Key", "nope", NULL);
	g_autoptr(OscTestResponse) ok =
	    osc_test_http(f->session, "GET", u, NULL, "X-User-Key", KEY_A, "X-API-Key",
			  "test-api-key-0123456789", NULL);
	g_autoptr(OscTestResponse) open = get(f, NULL, "/health");
	g_autoptr(OscTestResponse) ops = osc_test_http(f->session, "GET", s, NULL, "X-API-Key",
						       "test-api-key-0123456789", NULL);

	g_assert_cmpuint(missing->status, ==, 403);
	g_assert_cmpstr(osc_test_json_detail(missing), ==,
			"API key required but missing. Provide X-API-Key header.");
	g_assert_cmpuint(wrong->status, ==, 403);
	g_assert_cmpstr(osc_test_json_detail(wrong), ==, "Invalid API key");
	g_assert_cmpuint(ok->status, ==, 200);
	g_assert_cmpuint(open->status, ==, 200);
	g_assert_cmpuint(ops->status, ==, 200);
}

static void
test_http_not_found_and_method(Fixture *f, gconstpointer data)
{
	g_autofree gchar *u = url(f, "/configs");
	g_autoptr(OscTestResponse) nf = get(f, NULL, "/nope");
	g_autoptr(OscTestResponse) method = osc_test_http(f->session, "DELETE", u, NULL, NULL, NULL);

	g_assert_cmpuint(nf->status, ==, 404);
	g_assert_cmpstr(osc_test_json_detail(nf), ==, "Not Found");
	g_assert_cmpuint(method->status, ==, 405);
	g_assert_cmpstr(osc_test_json_detail(method), ==, "Method Not Allowed");
	g_assert_nonnull(soup_message_headers_get_one(method->headers, "Allow"));
}

/* ==== status tables, auth order, stats, cluster routes, the original database, metrics ==== */

#define API_KEY	     "test-api-key-0123456789"
#define ORIGINAL_KEY "my-secret-key-123"

static void
fixture_setup_original(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	/* the original's strength; the migrated store's metadata says so as well */
	f->config->pbkdf2_iterations = 480000;
	osc_test_use_original_db(f->config, f->tmpdir);
	fixture_start(f);
}

/* @headers: NULL-terminated name, value pairs */
static OscTestResponse *
req_v(Fixture *f, const gchar *method, const gchar *path, const gchar *body, va_list args)
{
	g_autofree gchar *u = url(f, path);
	g_autoptr(GPtrArray) headers = g_ptr_array_new();
	g_autoptr(GBytes) bytes = body != NULL ? g_bytes_new(body, strlen(body)) : NULL;

	for (const gchar *h = va_arg(args, const gchar *); h != NULL;
	     h = va_arg(args, const gchar *))
		g_ptr_array_add(headers, (gpointer)h);
	g_ptr_array_add(headers, NULL);
	return osc_test_http_full(f->session, method, u, "application/json", bytes,
				  (const gchar *const *)headers->pdata);
}

static OscTestResponse *req(Fixture *f, const gchar *method, const gchar *path, const gchar *body,
			    ...) G_GNUC_NULL_TERMINATED;

static OscTestResponse *
req(Fixture *f, const gchar *method, const gchar *path, const gchar *body, ...)
{
	va_list args;
	OscTestResponse *resp;

	va_start(args, body);
	resp = req_v(f, method, path, body, args);
	va_end(args);
	return resp;
}

static void
assert_json(JsonNode *actual, const gchar *expected)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	json_parser_load_from_data(parser, expected, -1, &error);
	g_assert_no_error(error);
	g_assert_nonnull(actual);
	if (!json_node_equal(actual, json_parser_get_root(parser))) {
		g_autofree gchar *text = json_to_string(actual, FALSE);
		g_test_message("got      %s", text);
		g_test_message("expected %s", expected);
		g_assert_not_reached();
	}
}

static void
assert_detail(OscTestResponse *resp, guint status, const gchar *detail)
{
	g_assert_cmpuint(resp->status, ==, status);
	g_assert_true(g_str_has_prefix(soup_message_headers_get_content_type(resp->headers, NULL),
				       "application/json"));
	g_assert_cmpstr(osc_test_json_detail(resp), ==, detail);
}

static JsonArray *
items(OscTestResponse *resp)
{
	JsonNode *detail;

	g_assert_cmpuint(resp->status, ==, 422);
	detail = json_object_get_member(obj(resp), "detail");
	g_assert_nonnull(detail);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(detail));
	return json_node_get_array(detail);
}

/* the items of a 422 as "type@loc/parts" strings joined by spaces */
static gchar *
items_summary(OscTestResponse *resp)
{
	JsonArray *arr = items(resp);
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < json_array_get_length(arr); i++) {
		JsonObject *item = json_array_get_object_element(arr, i);
		JsonArray *loc = json_object_get_array_member(item, "loc");

		if (i > 0)
			g_string_append_c(s, ' ');
		g_string_append_printf(s, "%s@", json_object_get_string_member(item, "type"));
		for (guint j = 0; j < json_array_get_length(loc); j++) {
			JsonNode *part = json_array_get_element(loc, j);
			if (j > 0)
				g_string_append_c(s, '/');
			if (json_node_get_value_type(part) == G_TYPE_STRING)
				g_string_append(s, json_node_get_string(part));
			else
				g_string_append_printf(s, "%" G_GINT64_FORMAT,
						       json_node_get_int(part));
		}
	}
	return g_string_free(s, FALSE);
}

static void
assert_items(OscTestResponse *resp, const gchar *expected)
{
	g_autofree gchar *summary = items_summary(resp);
	g_assert_cmpstr(summary, ==, expected);
}

/* ---- the status tables of §4.5–§4.9 ---- */

static void
test_http_configs_statuses(Fixture *f, gconstpointer data)
{
	const gchar *ok = "{\"key\":\"k\",\"value\":1,\"environment\":\"e\"}";
	const gchar *u = "/configs/k?environment=e";
	g_autoptr(GPtrArray) resps =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_test_response_free);
	OscTestResponse *r;

#define R(...) (r = req(f, __VA_ARGS__), g_ptr_array_add(resps, r), r)
	/* POST /configs */
	g_assert_cmpuint(
		R("POST", "/configs", ok, "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL)->status,
		==, 201);
	assert_detail(R("POST", "/configs", ok, "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL),
		      400, "Configuration with key 'k' already exists in environment 'e'");
	assert_items(
		R("POST", "/configs", "{\"key\":", "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL),
		"json_invalid@body/0");
	assert_detail(R("POST", "/configs", ok, "X-User-Key", KEY_A, NULL), 403,
		      "API key required but missing. Provide X-API-Key header.");
	assert_detail(R("POST", "/configs", ok, "X-API-Key", "wrong", "X-User-Key", KEY_A, NULL),
		      403, "Invalid API key");
	assert_detail(R("POST", "/configs", ok, "X-API-Key", API_KEY, "X-User-Key", "", NULL), 401,
		      "X-User-Key header is required for configuration operations");
	assert_detail(R("POST", "/configs", ok, "X-API-Key", API_KEY, "X-User-Key", "short", NULL),
		      401, "X-User-Key must be at least 8 characters long");
	assert_items(R("POST", "/configs", "{\"key\":\"x\",\"environment\":\"e\"}", "X-API-Key",
		       API_KEY, "X-User-Key", KEY_A, NULL),
		     "missing@body/value");

	/* GET /configs/{key} */
	g_assert_cmpuint(R("GET", u, NULL, "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL)->status,
			 ==, 200);
	assert_detail(R("GET", "/configs/nope?environment=e", NULL, "X-API-Key", API_KEY,
			"X-User-Key", KEY_A, NULL),
		      404, "Configuration with key 'nope' not found in environment 'e'");
	assert_detail(R("GET", "/configs/k?environment=", NULL, "X-API-Key", API_KEY, "X-User-Key",
			KEY_A, NULL),
		      404, "environment is required");
	assert_items(R("GET", "/configs/k", NULL, "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL),
		     "missing@query/environment");
	assert_items(R("GET", "/configs/k?environment=e&mode=x", NULL, "X-API-Key", API_KEY,
		       "X-User-Key", KEY_A, NULL),
		     "literal_error@query/mode");
	g_assert_cmpuint(R("GET", u, NULL, "X-API-Key", API_KEY, "X-User-Key", KEY_B, NULL)->status,
			 ==, 401);
	assert_detail(R("GET", u, NULL, "X-User-Key", KEY_A, NULL), 403,
		      "API key required but missing. Provide X-API-Key header.");

	/* PUT /configs/{key} */
	g_assert_cmpuint(
		R("PUT", u, "{\"value\":2}", "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL)
			->status,
		==, 200);
	assert_detail(R("PUT", "/configs/nope?environment=e", "{\"value\":2}", "X-API-Key", API_KEY,
			"X-User-Key", KEY_A, NULL),
		      404, "Configuration with key 'nope' not found in environment 'e'");
	assert_detail(R("PUT", "/configs/k?environment=", "{\"value\":2}", "X-API-Key", API_KEY,
			"X-User-Key", KEY_A, NULL),
		      404, "environment is required");
	assert_items(R("PUT", u, "{\"value\":", "X-API-Key", "wrong", NULL), "json_invalid@body/0");
	assert_items(R("PUT", "/configs/k", "{}", "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL),
		     "missing@query/environment missing@body/value");
	g_assert_cmpuint(
		R("PUT", u, "{\"value\":3}", "X-API-Key", API_KEY, "X-User-Key", KEY_B, NULL)
			->status,
		==, 401);
	assert_detail(R("PUT", u, "{\"value\":3}", "X-API-Key", API_KEY, "X-User-Key", "", NULL),
		      401, "X-User-Key header is required for configuration operations");

	/* DELETE /configs/{key} */
	assert_detail(R("DELETE", "/configs/nope?environment=e", NULL, "X-API-Key", API_KEY,
			"X-User-Key", KEY_A, NULL),
		      404, "Configuration with key 'nope' not found in environment 'e'");
	assert_detail(R("DELETE", "/configs/k?environment=", NULL, "X-API-Key", API_KEY,
			"X-User-Key", KEY_A, NULL),
		      404, "environment is required");
	assert_items(
		R("DELETE", "/configs/k", NULL, "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL),
		"missing@query/environment");
	g_assert_cmpuint(
		R("DELETE", u, NULL, "X-API-Key", API_KEY, "X-User-Key", KEY_B, NULL)->status, ==,
		401);
	assert_detail(R("DELETE", u, NULL, "X-API-Key", "nope", "X-User-Key", KEY_A, NULL), 403,
		      "Invalid API key");
	assert_detail(R("DELETE", u, NULL, "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL), 200,
		      NULL);
	g_assert_cmpstr(json_object_get_string_member(obj(r), "message"), ==,
			"Configuration 'k' deleted successfully");
	assert_detail(R("DELETE", u, NULL, "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL), 404,
		      "Configuration with key 'k' not found in environment 'e'");

	/* GET /configs */
	g_assert_cmpstr(
		R("GET", "/configs", NULL, "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL)->body,
		==, "[]");
	g_assert_cmpuint(r->status, ==, 200);
	assert_items(
		R("GET", "/configs?mode=x", NULL, "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL),
		"literal_error@query/mode");
	assert_detail(
		R("GET", "/configs", NULL, "X-API-Key", API_KEY, "X-User-Key", "1234567", NULL),
		401, "X-User-Key must be at least 8 characters long");
#undef R
}

/* ---- §1.4: which error wins ---- */

static void
test_http_auth_order(Fixture *f, gconstpointer data)
{
	const gchar *bad_body = "{\"key\":\"\",\"value\":null,\"environment\":\"e\"}";
	const gchar *value_items = "dict_type@body/value/dict[any,any] string_type@body/value/str "
				   "int_type@body/value/int bool_type@body/value/bool "
				   "list_type@body/value/list[any]";
	g_autofree gchar *expected_post = g_strconcat(
		"missing@header/x-user-key missing@header/x-user-key string_too_short@body/key ",
		value_items, NULL);
	g_autofree gchar *expected_put = g_strconcat(
		"missing@header/x-user-key missing@query/environment missing@header/x-user-key ",
		value_items, NULL);
	g_autoptr(OscTestResponse) malformed_post =
		req(f, "POST", "/configs", "{\"key\":", "X-API-Key", "wrong", NULL);
	g_autoptr(OscTestResponse) malformed_put =
		req(f, "PUT", "/configs/k?environment=e", "[1,", NULL);
	g_autoptr(OscTestResponse) api_beats_user =
		req(f, "POST", "/configs", bad_body, "X-API-Key", "wrong", NULL);
	g_autoptr(OscTestResponse) api_beats_empty_user =
		req(f, "GET", "/configs", NULL, "X-API-Key", "wrong", "X-User-Key", "", NULL);
	g_autoptr(OscTestResponse) empty_user_beats_items =
		req(f, "POST", "/configs", bad_body, "X-API-Key", API_KEY, "X-User-Key", "", NULL);
	g_autoptr(OscTestResponse) short_user_beats_items =
		req(f, "GET", "/configs/k?mode=bad", NULL, "X-API-Key", API_KEY, "X-User-Key",
		    "1234", NULL);
	g_autoptr(OscTestResponse) absent_post =
		req(f, "POST", "/configs", bad_body, "X-API-Key", API_KEY, NULL);
	g_autoptr(OscTestResponse) absent_put =
		req(f, "PUT", "/configs/k", "{\"value\":null}", "X-API-Key", API_KEY, NULL);
	g_autoptr(OscTestResponse) absent_get =
		req(f, "GET", "/configs/k?mode=bad", NULL, "X-API-Key", API_KEY, NULL);
	g_autoptr(OscTestResponse) absent_list =
		req(f, "GET", "/configs", NULL, "X-API-Key", API_KEY, NULL);
	g_autoptr(OscTestResponse) absent_stats =
		req(f, "GET", "/stats", NULL, "X-API-Key", API_KEY, NULL);
	g_autoptr(OscTestResponse) absent_dist =
		req(f, "GET", "/cluster/distribution", NULL, "X-API-Key", API_KEY, NULL);
	g_autoptr(OscTestResponse) api_class = req(f, "GET", "/stats/operations", NULL, "X-API-Key",
						   "wrong", "X-User-Key", KEY_A, NULL);
	g_autoptr(OscTestResponse) dist_forbidden =
		req(f, "GET", "/cluster/distribution", NULL, "X-User-Key", KEY_A, NULL);
	g_autoptr(OscTestResponse) dist = req(f, "GET", "/cluster/distribution", NULL, "X-API-Key",
					      API_KEY, "X-User-Key", KEY_A, NULL);
	g_autoptr(OscTestResponse) not_found_first =
		req(f, "GET", "/nope", NULL, "X-API-Key", "wrong", NULL);
	g_autoptr(OscTestResponse) method_first =
		req(f, "PATCH", "/configs", "{\"key\":", "X-API-Key", "wrong", NULL);

	/* 3. the body of POST/PUT /configs is parsed before any auth check */
	assert_items(malformed_post, "json_invalid@body/0");
	assert_items(malformed_put, "json_invalid@body/0");
	/* 4. a bad API key beats everything about the user key and the body */
	assert_detail(api_beats_user, 403, "Invalid API key");
	assert_detail(api_beats_empty_user, 403, "Invalid API key");
	/* 5. an empty or short user key is a 401 before any 422 item */
	assert_detail(empty_user_beats_items, 401,
		      "X-User-Key header is required for configuration operations");
	assert_detail(short_user_beats_items, 401, "X-User-Key must be at least 8 characters long");
	/* 6. an absent user key is one more 422 item: the dependency's first, then path,
	 * query, header (the /configs handlers' own X-User-Key again) and body */
	assert_items(absent_get, "missing@header/x-user-key missing@query/environment "
				 "literal_error@query/mode missing@header/x-user-key");
	assert_items(absent_list, "missing@header/x-user-key missing@header/x-user-key");
	assert_items(absent_stats, "missing@header/x-user-key");
	assert_items(absent_dist, "missing@header/x-user-key");
	assert_json(json_array_get_element(items(absent_stats), 0),
		    "{\"type\":\"missing\",\"loc\":[\"header\",\"x-user-key\"],"
		    "\"msg\":\"Field required\",\"input\":null}");
	/* api-key routes ignore the user key */
	assert_detail(api_class, 403, "Invalid API key");
	/* /cluster/distribution: 400 only after the auth checks */
	assert_detail(dist_forbidden, 403,
		      "API key required but missing. Provide X-API-Key header.");
	assert_detail(dist, 400, "Clustering is not enabled");
	/* 2. routing before everything */
	assert_detail(not_found_first, 404, "Not Found");
	assert_detail(method_first, 405, "Method Not Allowed");
	/* with a body: the handler's header item goes before the body items */
	assert_items(absent_post, expected_post);
	assert_items(absent_put, expected_put);
}

/* ---- /stats, /stats/operations ---- */

static void
test_http_stats(Fixture *f, gconstpointer data)
{
	static const gchar *const bodies[] = {
		"{\"key\":\"k1\",\"value\":1,\"category\":\"database\",\"environment\":"
		"\"production\"}",
		"{\"key\":\"k2\",\"value\":1,\"environment\":\"staging\"}",
		"{\"key\":\"k3\",\"value\":1,\"category\":\"\",\"environment\":\"production\"}",
		"{\"key\":\"k4\",\"value\":1,\"category\":\"cache\",\"environment\":\"dev\"}",
		"{\"key\":\"k5\",\"value\":1,\"category\":\"database\",\"environment\":"
		"\"staging\"}",
	};
	g_autoptr(OscTestResponse) empty = get(f, KEY_A, "/stats");
	g_autoptr(OscTestResponse) other_user = NULL;
	g_autoptr(OscTestResponse) stats = NULL;
	g_autoptr(OscTestResponse) stats_b = NULL;
	g_autoptr(OscTestResponse) empty_key = NULL;

	g_assert_cmpuint(empty->status, ==, 200);
	g_assert_cmpstr(empty->body, ==,
			"{\"total_keys\":0,\"total_categories\":0,\"total_environments\":0,"
			"\"keys_by_category\":{},\"keys_by_environment\":{},"
			"\"keys_by_environment_category\":{}}");
	for (guint i = 0; i < G_N_ELEMENTS(bodies); i++) {
		g_autoptr(OscTestResponse) c = create(f, KEY_A, bodies[i]);
		g_assert_cmpuint(c->status, ==, 201);
	}
	/* rows of another user count too: nothing is decrypted */
	other_user = req(f, "POST", "/configs",
			 "{\"key\":\"k6\",\"value\":1,\"category\":null,\"environment\":\"qa\"}",
			 "X-User-Key", KEY_B, NULL);
	g_assert_cmpuint(other_user->status, ==, 201);

	stats = get(f, KEY_A, "/stats");
	stats_b = get(f, "any-other-key-at-all", "/stats");
	g_assert_cmpuint(stats->status, ==, 200);
	/* null and "" merge into "uncategorized"; maps in order of first appearance */
	g_assert_cmpstr(stats->body, ==,
			"{\"total_keys\":6,\"total_categories\":3,\"total_environments\":4,"
			"\"keys_by_category\":{\"database\":2,\"uncategorized\":3,\"cache\":1},"
			"\"keys_by_environment\":{\"production\":2,\"staging\":2,\"dev\":1,"
			"\"qa\":1},"
			"\"keys_by_environment_category\":{\"production\":{\"database\":1,"
			"\"uncategorized\":1},\"staging\":{\"uncategorized\":1,\"database\":1},"
			"\"dev\":{\"cache\":1},\"qa\":{\"uncategorized\":1}}}");
	g_assert_cmpstr(stats_b->body, ==, stats->body);
	empty_key = get(f, "", "/stats");
	assert_detail(empty_key, 401, "X-User-Key header is required for configuration operations");
}

static void
test_http_stats_operations(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) resps =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_test_response_free);
	g_autoptr(OscTestResponse) ops = NULL;
	g_autoptr(OscTestResponse) ops2 = NULL;
	const gchar *body = "{\"key\":\"k\",\"value\":1,\"environment\":\"e\"}";
	static const guint expected_status[] = {201, 400, 200, 401, 404, 200, 404, 404, 404};
	JsonObject *o;

	g_ptr_array_add(resps, create(f, KEY_A, body));
	g_ptr_array_add(resps, create(f, KEY_A, body));
	g_ptr_array_add(resps, get(f, KEY_A, "/configs/k?environment=e"));
	g_ptr_array_add(resps, get(f, KEY_B, "/configs/k?environment=e"));
	g_ptr_array_add(resps, get(f, KEY_A, "/configs/missing?environment=e"));
	g_ptr_array_add(resps, req(f, "PUT", "/configs/k?environment=e", "{\"value\":2}",
				   "X-User-Key", KEY_A, NULL));
	g_ptr_array_add(resps, req(f, "DELETE", "/configs/missing?environment=e", NULL,
				   "X-User-Key", KEY_A, NULL));
	g_ptr_array_add(resps, get(f, KEY_A, "/configs/k?environment="));
	g_ptr_array_add(resps, get(f, NULL, "/nope"));
	for (guint i = 0; i < resps->len; i++)
		g_assert_cmpuint(((OscTestResponse *)g_ptr_array_index(resps, i))->status, ==,
				 expected_status[i]);

	ops = get(f, NULL, "/stats/operations");
	g_assert_cmpuint(ops->status, ==, 200);
	o = obj(ops);
	g_assert_cmpuint(json_object_get_size(o), ==, 4);
	/* integers, zero series left out, HTTP keys METHOD_<route template>_STATUS */
	assert_json(json_object_get_member(o, "read_operations"),
		    "{\"success\":1,\"error\":1,\"not_found\":2}");
	assert_json(json_object_get_member(o, "write_operations"),
		    "{\"create_success\":1,\"create_error\":1,\"update_success\":1,"
		    "\"delete_not_found\":1}");
	assert_json(json_object_get_member(o, "encryption_operations"),
		    "{\"encrypt\":2,\"decrypt\":1}");
	assert_json(json_object_get_member(o, "total_http_requests"),
		    "{\"POST_/configs_201\":1,\"POST_/configs_400\":1,"
		    "\"GET_/configs/{key}_200\":1,\"GET_/configs/{key}_401\":1,"
		    "\"GET_/configs/{key}_404\":2,\"PUT_/configs/{key}_200\":1,"
		    "\"DELETE_/configs/{key}_404\":1,\"GET_unmatched_404\":1}");
	/* the key name never becomes part of a member name */
	g_assert_null(strstr(ops->body, "missing"));

	ops2 = get(f, NULL, "/stats/operations");
	g_assert_cmpint(json_object_get_int_member(
				json_object_get_object_member(obj(ops2), "total_http_requests"),
				"GET_/stats/operations_200"),
			==, 1);
}

static void
test_http_stats_operations_empty(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) ops = get(f, NULL, "/stats/operations");

	/* every section present, each {} before anything happened */
	g_assert_cmpstr(ops->body, ==,
			"{\"read_operations\":{},\"write_operations\":{},"
			"\"encryption_operations\":{},\"total_http_requests\":{}}");
}

/* ---- the cluster routes with clustering off ---- */

static void
test_http_cluster(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) status =
		req(f, "GET", "/cluster/status", NULL, "X-API-Key", API_KEY, NULL);
	g_autoptr(OscTestResponse) status_403 = req(f, "GET", "/cluster/status", NULL, NULL);
	g_autoptr(OscTestResponse) health = req(f, "GET", "/cluster/health", NULL, NULL);
	g_autoptr(OscTestResponse) c1 =
		req(f, "POST", "/configs",
		    "{\"key\":\"db\",\"value\":{\"secret\":\"s3cr3t-value\"},\"category\":"
		    "\"infra\",\"environment\":\"prod\"}",
		    "X-API-Key", API_KEY, "X-User-Key", KEY_A, NULL);
	g_autoptr(OscTestResponse) c2 = req(
		f, "POST", "/configs", "{\"key\":\"cache\",\"value\":2,\"environment\":\"dev\"}",
		"X-API-Key", API_KEY, "X-User-Key", KEY_B, NULL);
	g_autoptr(OscTestResponse) all =
		req(f, "GET", "/cluster/configs", NULL, "X-API-Key", API_KEY, NULL);
	g_autoptr(OscTestResponse) by_env =
		req(f, "GET", "/cluster/configs?environment=dev", NULL, "X-API-Key", API_KEY, NULL);
	g_autoptr(OscTestResponse) by_cat =
		req(f, "GET", "/cluster/configs?category=infra&environment=", NULL, "X-API-Key",
		    API_KEY, NULL);
	g_autoptr(OscTestResponse) none =
		req(f, "GET", "/cluster/configs?category=infra&environment=dev", NULL, "X-API-Key",
		    API_KEY, NULL);
	g_autoptr(OscTestResponse) configs_403 =
		req(f, "GET", "/cluster/configs", NULL, "X-API-Key", "x", NULL);
	JsonArray *arr;
	JsonObject *item;

	g_assert_cmpuint(status->status, ==, 200);
	/* exactly the five members of the "off" shape */
	g_assert_cmpstr(status->body, ==,
			"{\"enabled\":false,\"mode\":null,\"node_id\":null,\"total_nodes\":null,"
			"\"healthy_nodes\":null}");
	assert_detail(status_403, 403, "API key required but missing. Provide X-API-Key header.");
	g_assert_cmpuint(health->status, ==, 200);
	g_assert_cmpuint(json_object_get_size(obj(health)), ==, 2);
	g_assert_cmpstr(json_object_get_string_member(obj(health), "status"), ==, "healthy");
	g_assert_true(
		g_str_has_prefix(json_object_get_string_member(obj(health), "node_id"), "node-"));

	g_assert_cmpuint(c1->status, ==, 201);
	g_assert_cmpuint(c2->status, ==, 201);
	g_assert_cmpuint(all->status, ==, 200);
	arr = json_node_get_array(all->json);
	g_assert_cmpuint(json_array_get_length(arr), ==, 2);
	item = json_array_get_object_element(arr, 0);
	/* metadata only: no id, no value; raw SQLite timestamps */
	g_assert_cmpuint(json_object_get_size(item), ==, 5);
	g_assert_cmpstr(json_object_get_string_member(item, "key"), ==, "db");
	g_assert_cmpstr(json_object_get_string_member(item, "category"), ==, "infra");
	g_assert_cmpstr(json_object_get_string_member(item, "environment"), ==, "prod");
	g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}$",
					   json_object_get_string_member(item, "created_at"), 0,
					   0));
	g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}$",
					   json_object_get_string_member(item, "updated_at"), 0,
					   0));
	{
		/* the same instant as the API's created_at, in the other format */
		g_autofree gchar *api =
			g_strdup(json_object_get_string_member(obj(c1), "created_at"));
		api[10] = ' ';
		api[strlen(api) - 1] = '\0';
		g_assert_cmpstr(json_object_get_string_member(item, "created_at"), ==, api);
	}
	g_assert_null(strstr(all->body, "s3cr3t"));
	g_assert_true(
		json_object_get_null_member(json_array_get_object_element(arr, 1), "category"));
	arr = json_node_get_array(by_env->json);
	g_assert_cmpuint(json_array_get_length(arr), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(arr, 0), "key"),
			==, "cache");
	arr = json_node_get_array(by_cat->json);
	g_assert_cmpuint(json_array_get_length(arr), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(arr, 0), "key"),
			==, "db");
	g_assert_cmpstr(none->body, ==, "[]");
	assert_detail(configs_403, 403, "Invalid API key");
}

static void
test_http_cluster_salt(Fixture *f, gconstpointer data)
{
	g_autofree gchar *u = url(f, "/cluster/salt");
	g_autoptr(SoupMessage) salt_msg = soup_message_new("GET", u);
	g_autoptr(OscTestResponse) salt = NULL;
	g_autoptr(OscTestResponse) salt_403 = req(f, "GET", "/cluster/salt", NULL, NULL);
	g_autofree gchar *file = NULL;
	gsize file_len = 0;
	g_autoptr(OscTestResponse) same = NULL;
	g_autoptr(OscTestResponse) differs = NULL;
	g_autoptr(OscTestResponse) short_salt = NULL;
	g_autoptr(OscTestResponse) post_403 = NULL;
	g_autoptr(GBytes) same_bytes = NULL;
	g_autoptr(GBytes) other_bytes = NULL;
	g_autoptr(GBytes) short_bytes = g_bytes_new("0123456789", 10);
	g_autofree gchar *after = NULL;
	gsize after_len = 0;
	guint8 other[64];
	const gchar *const api[] = {"X-API-Key", API_KEY, NULL};

	/* through the binary-safe helper: a salt may hold NUL bytes */
	soup_message_headers_append(soup_message_get_request_headers(salt_msg), "X-API-Key",
				    API_KEY);
	salt = osc_test_http_send(f->session, salt_msg);
	g_assert_true(g_file_get_contents(f->config->salt_file_path, &file, &file_len, NULL));
	g_assert_cmpuint(file_len, ==, 64);
	g_assert_cmpuint(salt->status, ==, 200);
	g_assert_cmpstr(soup_message_headers_get_content_type(salt->headers, NULL), ==,
			"application/octet-stream");
	g_assert_cmpstr(soup_message_headers_get_one(salt->headers, "Content-Disposition"), ==,
			"attachment; filename=encryption.salt");
	g_assert_cmpuint(salt->len, ==, 64);
	g_assert_cmpmem(salt->body, salt->len, file, file_len);
	assert_detail(salt_403, 403, "API key required but missing. Provide X-API-Key header.");

	same_bytes = g_bytes_new(file, file_len);
	same = osc_test_http_full(f->session, "POST", u, "application/octet-stream", same_bytes,
				  api);
	g_assert_cmpuint(same->status, ==, 200);
	g_assert_cmpstr(same->body, ==,
			"{\"message\":\"Salt already present and matches\",\"status\":\"ok\"}");
	memcpy(other, file, 64);
	other[0] ^= 0xff;
	other_bytes = g_bytes_new(other, 64);
	differs = osc_test_http_full(f->session, "POST", u, "application/octet-stream", other_bytes,
				     api);
	assert_detail(differs, 409, "Salt file already exists and differs from received salt");
	short_salt = osc_test_http_full(f->session, "POST", u, "application/octet-stream",
					short_bytes, api);
	assert_detail(short_salt, 409, "Salt file already exists and differs from received salt");
	post_403 = osc_test_http_full(f->session, "POST", u, "application/octet-stream", same_bytes,
				      (const gchar *const[]){"X-API-Key", "wrong", NULL});
	assert_detail(post_403, 403, "Invalid API key");

	/* nothing was overwritten */
	g_assert_true(g_file_get_contents(f->config->salt_file_path, &after, &after_len, NULL));
	g_assert_cmpmem(after, after_len, file, file_len);
}

static void
test_http_cluster_salt_missing_file(Fixture *f, gconstpointer data)
{
	/* The salt file vanished under a running node (§4.23). The node still encrypts with
	 * the salt it loaded: it may restore that salt, but taking another one would make
	 * everything stored unreadable after the next restart. */
	g_autofree gchar *file = NULL;
	gsize file_len = 0;
	g_autofree gchar *u = url(f, "/cluster/salt");
	g_autoptr(OscTestResponse) created =
		create(f, KEY_A, "{\"key\":\"k\",\"value\":\"precious\",\"environment\":\"e\"}");
	g_autoptr(OscTestResponse) missing = NULL;
	g_autoptr(OscTestResponse) bad_size = NULL;
	g_autoptr(OscTestResponse) restored = NULL;
	g_autoptr(OscTestResponse) foreign = NULL;
	g_autoptr(OscTestResponse) read = NULL;
	g_autoptr(GBytes) same_bytes = NULL;
	g_autoptr(GBytes) other_bytes = NULL;
	g_autoptr(GBytes) short_bytes = g_bytes_new("0123456789", 10);
	guint8 other[64];

	g_assert_cmpuint(created->status, ==, 201);
	g_assert_true(g_file_get_contents(f->config->salt_file_path, &file, &file_len, NULL));
	same_bytes = g_bytes_new(file, file_len);
	g_assert_cmpint(g_unlink(f->config->salt_file_path), ==, 0);

	missing = get(f, NULL, "/cluster/salt");
	assert_detail(missing, 404, "Salt file not found");
	bad_size = osc_test_http_full(f->session, "POST", u, "application/octet-stream",
				      short_bytes, NULL);
	assert_detail(bad_size, 400, "Invalid salt size: 10 bytes (expected 64)");
	restored = osc_test_http_full(f->session, "POST", u, "application/octet-stream", same_bytes,
				      NULL);
	g_assert_cmpuint(restored->status, ==, 200);
	g_assert_cmpstr(
		restored->body, ==,
		"{\"message\":\"Salt received and saved successfully\",\"status\":\"created\","
		"\"size_bytes\":64}");

	g_assert_cmpint(g_unlink(f->config->salt_file_path), ==, 0);
	memcpy(other, file, 64);
	other[7] ^= 0x5a;
	other_bytes = g_bytes_new(other, 64);
	foreign = osc_test_http_full(f->session, "POST", u, "application/octet-stream", other_bytes,
				     NULL);
	g_test_message("foreign salt: %u %s", foreign->status, foreign->body);
	g_assert_cmpuint(foreign->status, ==, 409);
	g_clear_pointer(&restored, osc_test_response_free);
	restored = osc_test_http_full(f->session, "POST", u, "application/octet-stream", same_bytes,
				      NULL);
	g_assert_cmpuint(restored->status, ==, 200);

	/* after a restart on the same files the entry still opens */
	g_clear_object(&f->session);
	g_clear_object(&f->service);
	g_clear_pointer(&f->base, g_free);
	fixture_start(f);
	read = get(f, KEY_A, "/configs/k?environment=e");
	g_assert_cmpuint(read->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(read), "value"), ==, "precious");
}

/* ---- the original's database (tests/data/original-v0.*) ---- */

static void
test_http_original_db(Fixture *f, gconstpointer data)
{
	const gchar *wrong = "wrong-key-00000";
	g_autoptr(OscTestResponse) wrong_first =
		get(f, wrong, "/configs/database?environment=production");
	g_autoptr(OscTestResponse) wrong_put =
		req(f, "PUT", "/configs/cache?environment=production",
		    "{\"value\":\"overwritten\"}", "X-User-Key", wrong, NULL);
	g_autoptr(OscTestResponse) read =
		get(f, ORIGINAL_KEY, "/configs/database?environment=production&mode=full");
	g_autoptr(OscTestResponse) wrong_after =
		get(f, wrong, "/configs/database?environment=production");
	g_autoptr(OscTestResponse) cache =
		get(f, ORIGINAL_KEY, "/configs/cache?environment=production&mode=full");
	g_autoptr(OscTestResponse) list = get(f, ORIGINAL_KEY, "/configs");
	g_autoptr(OscTestResponse) put = req(f, "PUT", "/configs/database?environment=production",
					     "{\"value\":{\"host\":\"db2\",\"port\":5433}}",
					     "X-User-Key", ORIGINAL_KEY, NULL);
	g_autoptr(OscTestResponse) reread =
		get(f, ORIGINAL_KEY, "/configs/database?environment=production&mode=full");
	g_autoptr(OscTestResponse) meta = get(f, NULL, "/cluster/configs");
	g_autoptr(OscTestResponse) stats = get(f, ORIGINAL_KEY, "/stats");
	g_autoptr(OscTestResponse) created =
		req(f, "POST", "/configs",
		    "{\"key\":\"new\",\"value\":1,\"environment\":\"production\"}", "X-User-Key",
		    ORIGINAL_KEY, NULL);
	JsonObject *o;
	JsonArray *arr;

	/* a foreign key before the first successful decrypt: refused, nothing overwritten */
	g_assert_cmpuint(wrong_first->status, ==, 401);
	g_assert_nonnull(osc_test_json_detail(wrong_first));
	g_assert_cmpuint(wrong_put->status, ==, 401);

	g_assert_cmpuint(read->status, ==, 200);
	o = obj(read);
	g_assert_cmpint(json_object_get_int_member(o, "id"), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(o, "category"), ==, "config");
	assert_json(json_object_get_member(o, "value"), "{\"host\":\"localhost\",\"port\":5432}");
	g_assert_cmpstr(json_object_get_string_member(o, "created_at"), ==,
			"2023-11-14T22:00:00.123456Z");
	g_assert_cmpstr(json_object_get_string_member(o, "updated_at"), ==,
			"2023-11-14T22:00:00.123456Z");
	/* the fingerprint is recorded now: still 401 for the other key */
	g_assert_cmpuint(wrong_after->status, ==, 401);

	g_assert_cmpuint(cache->status, ==, 200);
	assert_json(json_object_get_member(obj(cache), "value"),
		    "[\"redis://cache:6379\",2.5,{\"ttl\":300}]");
	g_assert_true(json_object_get_null_member(obj(cache), "category"));
	g_assert_cmpstr(json_object_get_string_member(obj(cache), "updated_at"), ==,
			"2023-11-15T08:30:00.500000Z");
	/* the list shows the two rows this key opens, in id order; row 5 opens with none */
	arr = json_node_get_array(list->json);
	g_assert_cmpuint(list->status, ==, 200);
	g_assert_cmpuint(json_array_get_length(arr), ==, 2);
	g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(arr, 0), "id"), ==,
			1);
	g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(arr, 1), "id"), ==,
			2);

	g_assert_cmpuint(put->status, ==, 200);
	g_assert_cmpuint(reread->status, ==, 200);
	assert_json(json_object_get_member(obj(reread), "value"),
		    "{\"host\":\"db2\",\"port\":5433}");
	g_assert_cmpstr(json_object_get_string_member(obj(reread), "created_at"), ==,
			"2023-11-14T22:00:00.123456Z");
	g_assert_cmpstr(json_object_get_string_member(obj(reread), "updated_at"), !=,
			"2023-11-14T22:00:00.123456Z");

	arr = json_node_get_array(meta->json);
	g_assert_cmpuint(json_array_get_length(arr), ==, 3);
	g_assert_cmpstr(
		json_object_get_string_member(json_array_get_object_element(arr, 1), "created_at"),
		==, "2023-11-14 22:01:40.000001");
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(arr, 2), "key"),
			==, "cl\xc3\xa9-\xf0\x9f\x98\x80");
	g_assert_cmpstr(
		json_object_get_string_member(json_array_get_object_element(arr, 2), "environment"),
		==,
		"pr\xc3\xb6"
		"d\xc3\xbc"
		"ction");
	g_assert_cmpstr(stats->body, ==,
			"{\"total_keys\":3,\"total_categories\":3,\"total_environments\":2,"
			"\"keys_by_category\":{\"config\":1,\"uncategorized\":1,"
			"\"\xc3\xbcn\xc3\xaf"
			"code\":1},"
			"\"keys_by_environment\":{\"production\":2,\"pr\xc3\xb6"
			"d\xc3\xbc"
			"ction\":1},"
			"\"keys_by_environment_category\":{\"production\":{\"config\":1,"
			"\"uncategorized\":1},\"pr\xc3\xb6"
			"d\xc3\xbc"
			"ction\":{\"\xc3\xbcn\xc3\xaf"
			"code\":1}}}");
	/* ids are never reused: 3 and 4 were deleted in the original, 5 is the highest */
	g_assert_cmpuint(created->status, ==, 201);
	g_assert_cmpint(json_object_get_int_member(obj(created), "id"), ==, 6);
}

/* ---- /metrics (§10) ---- */

/* the value of the sample @name whose labels are exactly the given pairs, or -1 */
static gdouble
sample(GPtrArray *samples, const gchar *name, ...)
{
	for (guint i = 0; i < samples->len; i++) {
		OscMetricSample *s = g_ptr_array_index(samples, i);
		gboolean match = g_str_equal(s->name, name);
		guint n = 0;
		va_list args;

		va_start(args, name);
		for (const gchar *k = va_arg(args, const gchar *); match && k != NULL;
		     k = va_arg(args, const gchar *)) {
			const gchar *v = va_arg(args, const gchar *);
			match = g_strcmp0(g_hash_table_lookup(s->labels, k), v) == 0;
			n++;
		}
		va_end(args);
		if (match && g_hash_table_size(s->labels) == n)
			return s->value;
	}
	return -1;
}

static void
test_http_metrics(Fixture *f, gconstpointer data)
{
	const gchar *body = "{\"key\":\"k\",\"value\":1,\"environment\":\"e\"}";
	const gchar *canary =
		"{\"key\":\"leak-canary-xyz\",\"value\":\"v\",\"category\":\"leak-canary-xyz\","
		"\"environment\":\"leak-canary-xyz\"}";
	g_autoptr(GPtrArray) resps =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_test_response_free);
	g_autoptr(OscTestResponse) metrics = NULL;
	g_autoptr(GPtrArray) samples = NULL;
	g_autoptr(GHashTable) types = NULL;
	g_autoptr(GError) error = NULL;
	static const guint expected_status[] = {201, 400, 200, 404, 401, 200, 404, 404, 200,
						200, 422, 404, 201, 200, 404, 200, 405};
	static const gchar *const templates[] = {"/",
						 "/health",
						 "/ready",
						 "/metrics",
						 "/openapi.json",
						 "/docs",
						 "/configs",
						 "/configs/{key}",
						 "/stats",
						 "/stats/operations",
						 "/cluster/status",
						 "/cluster/health",
						 "/cluster/distribution",
						 "/cluster/configs",
						 "/cluster/salt",
						 "/sse/subscribe",
						 "/sse/stats",
						 "/sse/subscriptions",
						 "/sse/health",
						 "/backup",
						 "/import",
						 "/rekey",
						 "unmatched",
						 NULL};

	g_ptr_array_add(resps, create(f, KEY_A, body));
	g_ptr_array_add(resps, create(f, KEY_A, body));
	g_ptr_array_add(resps, get(f, KEY_A, "/configs/k?environment=e"));
	g_ptr_array_add(resps, get(f, KEY_A, "/configs/missing?environment=e"));
	g_ptr_array_add(resps, get(f, KEY_B, "/configs/k?environment=e"));
	g_ptr_array_add(resps, req(f, "PUT", "/configs/k?environment=e", "{\"value\":2}",
				   "X-User-Key", KEY_A, NULL));
	g_ptr_array_add(resps, req(f, "PUT", "/configs/missing?environment=e", "{\"value\":2}",
				   "X-User-Key", KEY_A, NULL));
	g_ptr_array_add(resps, req(f, "DELETE", "/configs/missing?environment=e", NULL,
				   "X-User-Key", KEY_A, NULL));
	g_ptr_array_add(resps, req(f, "DELETE", "/configs/k?environment=e", NULL, "X-User-Key",
				   KEY_A, NULL));
	g_ptr_array_add(resps, get(f, KEY_A, "/configs"));
	g_ptr_array_add(resps,
			create(f, KEY_A, "{\"key\":\"\",\"value\":1,\"environment\":\"e\"}"));
	g_ptr_array_add(resps, get(f, NULL, "/leak-canary-xyz"));
	g_ptr_array_add(resps, create(f, KEY_A, canary));
	g_ptr_array_add(resps,
			get(f, KEY_A, "/configs/leak-canary-xyz?environment=leak-canary-xyz"));
	g_ptr_array_add(resps,
			get(f, KEY_A, "/configs/leak-canary-xyz-2?environment=leak-canary-xyz"));
	g_ptr_array_add(resps,
			req(f, "HEAD", "/configs/leak-canary-xyz?environment=leak-canary-xyz", NULL,
			    "X-User-Key", KEY_A, NULL));
	g_ptr_array_add(resps, req(f, "POST", "/health", NULL, NULL));
	for (guint i = 0; i < resps->len; i++)
		g_assert_cmpuint(((OscTestResponse *)g_ptr_array_index(resps, i))->status, ==,
				 expected_status[i]);

	metrics = get(f, NULL, "/metrics");
	g_assert_cmpuint(metrics->status, ==, 200);
	g_assert_cmpstr(soup_message_headers_get_content_type(metrics->headers, NULL), ==,
			"text/plain");
	g_assert_cmpstr(soup_message_headers_get_one(metrics->headers, "Content-Type"), ==,
			"text/plain; version=0.0.4; charset=utf-8");
	/* no raw key, category or environment ever becomes a label */
	g_assert_null(strstr(metrics->body, "leak-canary"));
	samples = osc_metrics_parse(metrics->body, &types, &error);
	g_assert_no_error(error);

	g_assert_cmpstr(g_hash_table_lookup(types, "osc_http_requests_total"), ==, "counter");
	g_assert_cmpstr(g_hash_table_lookup(types, "osc_http_request_duration_seconds"), ==,
			"histogram");
	g_assert_cmpstr(g_hash_table_lookup(types, "osc_config_entries_total"), ==, "gauge");
	g_assert_cmpstr(g_hash_table_lookup(types, "osc_api_errors_total"), ==, "counter");

#define HTTP(m, s)                                                                                 \
	sample(samples, "osc_http_requests_total", "method", m, "endpoint", "/configs/{key}",      \
	       "status_code", s, NULL)
	g_assert_cmpfloat(HTTP("GET", "200"), ==, 2);
	g_assert_cmpfloat(HTTP("GET", "404"), ==, 2);
	g_assert_cmpfloat(HTTP("GET", "401"), ==, 1);
	g_assert_cmpfloat(HTTP("HEAD", "200"), ==, 1);
	g_assert_cmpfloat(HTTP("PUT", "200"), ==, 1);
	g_assert_cmpfloat(HTTP("PUT", "404"), ==, 1);
	g_assert_cmpfloat(HTTP("DELETE", "404"), ==, 1);
	g_assert_cmpfloat(HTTP("DELETE", "200"), ==, 1);
	g_assert_cmpfloat(HTTP("POST", "201"), ==, -1);
#undef HTTP
	g_assert_cmpfloat(sample(samples, "osc_http_requests_total", "method", "POST", "endpoint",
				 "/configs", "status_code", "201", NULL),
			  ==, 2);
	g_assert_cmpfloat(sample(samples, "osc_http_requests_total", "method", "POST", "endpoint",
				 "/configs", "status_code", "422", NULL),
			  ==, 1);
	g_assert_cmpfloat(sample(samples, "osc_http_requests_total", "method", "GET", "endpoint",
				 "unmatched", "status_code", "404", NULL),
			  ==, 1);
	g_assert_cmpfloat(sample(samples, "osc_http_requests_total", "method", "POST", "endpoint",
				 "/health", "status_code", "405", NULL),
			  ==, 1);
	/* the duration histogram counts the same requests */
	g_assert_cmpfloat(sample(samples, "osc_http_request_duration_seconds_count", "method",
				 "GET", "endpoint", "/configs/{key}", NULL),
			  ==, 5);

	/* §10's counter rules */
#define OPS(o, s) sample(samples, "osc_config_operations_total", "operation", o, "status", s, NULL)
	g_assert_cmpfloat(OPS("create", "success"), ==, 2);
	g_assert_cmpfloat(OPS("create", "error"), ==, 1);
	g_assert_cmpfloat(OPS("read", "success"), ==, 3);
	g_assert_cmpfloat(OPS("read", "not_found"), ==, 2);
	g_assert_cmpfloat(OPS("read", "error"), ==, 1);
	g_assert_cmpfloat(OPS("update", "success"), ==, 1);
	g_assert_cmpfloat(OPS("update", "not_found"), ==, 1);
	g_assert_cmpfloat(OPS("delete", "success"), ==, 1);
	g_assert_cmpfloat(OPS("delete", "not_found"), ==, 1);
	g_assert_cmpfloat(OPS("list", "success"), ==, 1);
#undef OPS
	g_assert_cmpfloat(
		sample(samples, "osc_config_read_operations_total", "status", "success", NULL), ==,
		3);
	g_assert_cmpfloat(
		sample(samples, "osc_config_read_operations_total", "status", "not_found", NULL),
		==, 2);
	g_assert_cmpfloat(
		sample(samples, "osc_config_read_operations_total", "status", "error", NULL), ==,
		1);
	g_assert_cmpfloat(sample(samples, "osc_config_write_operations_total", "operation",
				 "create", "status", "success", NULL),
			  ==, 2);
	g_assert_cmpfloat(sample(samples, "osc_config_write_operations_total", "operation",
				 "create", "status", "error", NULL),
			  ==, 1);
	g_assert_cmpfloat(sample(samples, "osc_config_write_operations_total", "operation",
				 "update", "status", "success", NULL),
			  ==, 1);
	g_assert_cmpfloat(sample(samples, "osc_config_write_operations_total", "operation",
				 "update", "status", "not_found", NULL),
			  ==, 1);
	g_assert_cmpfloat(sample(samples, "osc_config_write_operations_total", "operation",
				 "delete", "status", "success", NULL),
			  ==, 1);
	g_assert_cmpfloat(sample(samples, "osc_config_write_operations_total", "operation",
				 "delete", "status", "not_found", NULL),
			  ==, 1);
	/* +1 encrypt per create/update, +1 decrypt per single read; lists not counted */
	g_assert_cmpfloat(
		sample(samples, "osc_encryption_operations_total", "operation", "encrypt", NULL),
		==, 3);
	g_assert_cmpfloat(
		sample(samples, "osc_encryption_operations_total", "operation", "decrypt", NULL),
		==, 3);
	g_assert_cmpfloat(sample(samples, "osc_config_entries_total", NULL), ==, 1);
	g_assert_cmpfloat(sample(samples, "osc_cluster_nodes_total", NULL), ==, 0);
	g_assert_cmpfloat(sample(samples, "osc_cluster_nodes_healthy", NULL), ==, 0);

	/* api errors by route template; routed requests only */
	g_assert_cmpfloat(sample(samples, "osc_api_errors_total", "endpoint", "/configs",
				 "error_type", "validation_error", NULL),
			  ==, 2);
	g_assert_cmpfloat(sample(samples, "osc_api_errors_total", "endpoint", "/configs/{key}",
				 "error_type", "not_found", NULL),
			  ==, 4);

	for (guint i = 0; i < samples->len; i++) {
		OscMetricSample *s = g_ptr_array_index(samples, i);
		const gchar *endpoint = g_hash_table_lookup(s->labels, "endpoint");

		if (endpoint != NULL)
			g_assert_true(g_strv_contains(templates, endpoint));
		if (g_str_equal(s->name, "osc_api_errors_total")) {
			g_assert_cmpuint(g_hash_table_size(s->labels), ==, 2);
			g_assert_nonnull(g_hash_table_lookup(s->labels, "error_type"));
			g_assert_cmpstr(endpoint, !=, "unmatched");
		}
	}
}

/*
 * A GET whose row the store still holds and whose user key is derived is answered on the
 * main loop, without a worker: it must be indistinguishable from one that goes to the
 * database (same body, ETag, errors and counts), and never older than the last write.
 */
static void
test_http_read_from_memory(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) resps =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_test_response_free);
	g_autoptr(OscTestResponse) created = NULL;
	g_autoptr(OscTestResponse) wrong_first = NULL;
	g_autoptr(OscTestResponse) first = NULL;
	g_autoptr(OscTestResponse) second = NULL;
	g_autoptr(OscTestResponse) full_first = NULL;
	g_autoptr(OscTestResponse) full_second = NULL;
	g_autoptr(OscTestResponse) head = NULL;
	g_autoptr(OscTestResponse) wrong_second = NULL;
	g_autoptr(OscTestResponse) updated = NULL;
	g_autoptr(OscTestResponse) after_update = NULL;
	g_autoptr(OscTestResponse) deleted = NULL;
	g_autoptr(OscTestResponse) after_delete = NULL;
	g_autoptr(OscTestResponse) ops = NULL;
	g_autofree gchar *u = url(f, "/configs/k?environment=e");
	const gchar *path = "/configs/k?environment=e";

	created = create(f, KEY_A, "{\"key\":\"k\",\"value\":{\"v\":1},\"environment\":\"e\"}");
	g_assert_cmpuint(created->status, ==, 201);
	/* the first reads go to the database (through a worker), the next ones need not */
	wrong_first = get(f, KEY_B, path);
	first = get(f, KEY_A, path);
	second = get(f, KEY_A, path);
	g_assert_cmpuint(first->status, ==, 200);
	g_assert_cmpuint(second->status, ==, 200);
	g_assert_cmpstr(second->body, ==, first->body);
	g_assert_cmpstr(soup_message_headers_get_one(second->headers, "ETag"), ==,
			soup_message_headers_get_one(first->headers, "ETag"));
	g_assert_cmpstr(soup_message_headers_get_one(second->headers, "ETag"), ==,
			soup_message_headers_get_one(created->headers, "ETag"));
	full_first = get(f, KEY_A, "/configs/k?environment=e&mode=full");
	full_second = get(f, KEY_A, "/configs/k?environment=e&mode=full");
	g_assert_cmpuint(full_second->status, ==, 200);
	g_assert_true(json_object_has_member(obj(full_second), "created_at"));
	g_assert_cmpstr(full_second->body, ==, full_first->body);
	head = osc_test_http(f->session, "HEAD", u, NULL, "X-User-Key", KEY_A, NULL);
	g_assert_cmpuint(head->status, ==, 200);
	g_assert_cmpuint(head->len, ==, 0);
	g_assert_cmpstr(soup_message_headers_get_one(head->headers, "ETag"), ==,
			soup_message_headers_get_one(first->headers, "ETag"));

	/* D-3 holds for a row in memory: the wrong key gets the same 401, never the value */
	wrong_second = get(f, KEY_B, path);
	g_assert_cmpuint(wrong_first->status, ==, 401);
	g_assert_cmpuint(wrong_second->status, ==, 401);
	g_assert_cmpstr(osc_test_json_detail(wrong_second), ==, osc_test_json_detail(wrong_first));
	g_assert_null(strstr(wrong_second->body, "\"v\""));

	/* a write is seen by the very next read */
	updated = osc_test_http(f->session, "PUT", u, "{\"value\":{\"v\":2}}", "X-User-Key", KEY_A,
				NULL);
	g_assert_cmpuint(updated->status, ==, 200);
	after_update = get(f, KEY_A, path);
	g_assert_cmpuint(after_update->status, ==, 200);
	assert_json(json_object_get_member(obj(after_update), "value"), "{\"v\":2}");
	g_assert_cmpstr(soup_message_headers_get_one(after_update->headers, "ETag"), ==,
			soup_message_headers_get_one(updated->headers, "ETag"));
	for (guint i = 0; i < 3; i++) {
		OscTestResponse *r = get(f, KEY_A, path);
		g_ptr_array_add(resps, r);
		g_assert_cmpstr(r->body, ==, after_update->body);
	}
	deleted = osc_test_http(f->session, "DELETE", u, NULL, "X-User-Key", KEY_A, NULL);
	g_assert_cmpuint(deleted->status, ==, 200);
	after_delete = get(f, KEY_A, path);
	g_assert_cmpuint(after_delete->status, ==, 404);

	/* counted as every read is: 1 + 1 + 2 + 1 (HEAD) + 1 + 3 successes, 2 wrong keys */
	ops = get(f, NULL, "/stats/operations");
	assert_json(json_object_get_member(obj(ops), "read_operations"),
		    "{\"success\":9,\"error\":2,\"not_found\":1}");
	assert_json(json_object_get_member(obj(ops), "encryption_operations"),
		    "{\"encrypt\":2,\"decrypt\":9}");
}

/* lists answered from memory (osc_list_cache_lookups_total) */
static gdouble
list_cache_count(Fixture *f, const gchar *result)
{
	g_autoptr(OscTestResponse) metrics = get(f, NULL, "/metrics");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) samples = osc_metrics_parse(metrics->body, NULL, &error);
	gdouble v;

	g_assert_no_error(error);
	v = sample(samples, "osc_list_cache_lookups_total", "result", result, NULL);
	return v < 0 ? 0 : v;
}

static gboolean
no_memo_bytes(gpointer data)
{
	Fixture *f = data;

	return osc_key_cache_get_memo_bytes(osc_service_get_key_cache(f->service)) == 0;
}

/* a request that must answer @status */
static void
must(Fixture *f,
     guint status,
     const gchar *method,
     const gchar *path,
     const gchar *body,
     const gchar *user_key)
{
	g_autoptr(OscTestResponse) resp = req(f, method, path, body, "X-User-Key", user_key, NULL);

	g_assert_cmpuint(resp->status, ==, status);
}

static guint
list_len(OscTestResponse *resp)
{
	g_autoptr(JsonNode) node = json_from_string(resp->body, NULL);

	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(node));
	return json_array_get_length(json_node_get_array(node));
}

/*
 * A list that the same user key asked for a moment ago, with no write since, is answered
 * from memory: it must be indistinguishable from one read from the database (same body,
 * D-3, filters, mode, counts), and never older than the last write.
 */
static void
test_http_list_from_memory(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) r =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_test_response_free);
	const gchar *path = "/configs?environment=e";
	OscTestResponse *first, *again, *resp;
	g_autoptr(OscStore) other = NULL;
	g_autoptr(GError) error = NULL;
	/* lookups of the list cache; lists that failed, and those of them that were lookups */
	gdouble hits = 0, misses = 0, failed = 0, failed_misses = 0;

	must(f, 201, "POST", "/configs",
	     "{\"key\":\"k1\",\"value\":{\"v\":1},\"environment\":\"e\",\"category\":\"c1\"}",
	     KEY_A);
	must(f, 201, "POST", "/configs",
	     "{\"key\":\"k2\",\"value\":[2],\"environment\":\"e\",\"category\":\"c2\"}", KEY_A);
	must(f, 201, "POST", "/configs", "{\"key\":\"k3\",\"value\":3,\"environment\":\"e\"}",
	     KEY_B);

	/* read once, then from memory: the same answer */
#define KEEP(x) (resp = (x), g_ptr_array_add(r, resp), resp)
	first = KEEP(get(f, KEY_A, path));
	misses++;
	g_assert_cmpuint(first->status, ==, 200);
	g_assert_cmpuint(list_len(first), ==, 2);
	again = KEEP(get(f, KEY_A, path));
	hits++;
	g_assert_cmpuint(again->status, ==, 200);
	g_assert_cmpstr(again->body, ==, first->body);
	g_assert_cmpfloat(list_cache_count(f, "hit"), ==, hits);
	g_assert_cmpfloat(list_cache_count(f, "miss"), ==, misses);
	resp = KEEP(req(f, "HEAD", path, NULL, "X-User-Key", KEY_A, NULL));
	hits++;
	g_assert_cmpuint(resp->status, ==, 200);
	g_assert_cmpuint(resp->len, ==, 0);

	/* another form and other filters are other answers */
	resp = KEEP(get(f, KEY_A, "/configs?environment=e&mode=full"));
	misses++;
	g_assert_nonnull(strstr(resp->body, "\"created_at\""));
	again = KEEP(get(f, KEY_A, "/configs?environment=e&mode=full"));
	hits++;
	g_assert_cmpstr(again->body, ==, resp->body);
	resp = KEEP(get(f, KEY_A, "/configs?category=c1"));
	misses++;
	g_assert_cmpuint(list_len(resp), ==, 1);
	g_assert_nonnull(strstr(resp->body, "\"k1\""));
	again = KEEP(get(f, KEY_A, "/configs?category=c1"));
	hits++;
	g_assert_cmpstr(again->body, ==, resp->body);
	g_assert_cmpuint(list_len(KEEP(get(f, KEY_A, "/configs"))), ==, 2);
	misses++;

	/* D-3: another key's list is its own, even right after the first key's */
	resp = KEEP(get(f, KEY_B, path));
	misses++;
	g_assert_cmpuint(list_len(resp), ==, 1);
	g_assert_nonnull(strstr(resp->body, "\"k3\""));
	g_assert_null(strstr(resp->body, "\"k1\""));
	again = KEEP(get(f, KEY_B, path));
	hits++;
	g_assert_cmpstr(again->body, ==, resp->body);
	/* a key that opens none of them: 401 every time, never a value */
	for (guint i = 0; i < 2; i++) {
		resp = KEEP(get(f, "user-key-charlie-789", path));
		misses++;
		failed++;
		failed_misses++;
		g_assert_cmpuint(resp->status, ==, 401);
		g_assert_null(strstr(resp->body, "\"v\""));
	}
	g_assert_cmpfloat(list_cache_count(f, "hit"), ==, hits);
	g_assert_cmpfloat(list_cache_count(f, "miss"), ==, misses);

	/* every write is seen by the very next list: an update, a create, a delete */
	must(f, 200, "PUT", "/configs/k1?environment=e", "{\"value\":{\"v\":9}}", KEY_A);
	resp = KEEP(get(f, KEY_A, path));
	misses++;
	g_assert_nonnull(strstr(resp->body, "{\"v\":9}"));
	g_assert_null(strstr(resp->body, "{\"v\":1}"));
	must(f, 201, "POST", "/configs", "{\"key\":\"k4\",\"value\":4,\"environment\":\"e\"}",
	     KEY_A);
	g_assert_cmpuint(list_len(KEEP(get(f, KEY_A, path))), ==, 3);
	misses++;
	g_assert_cmpuint(list_len(KEEP(get(f, KEY_A, path))), ==, 3);
	hits++;
	/* another key's write counts too: it may change nothing this key sees, but it is a
	 * write */
	must(f, 201, "POST", "/configs", "{\"key\":\"k5\",\"value\":5,\"environment\":\"e\"}",
	     KEY_B);
	g_assert_cmpuint(list_len(KEEP(get(f, KEY_A, path))), ==, 3);
	misses++;
	must(f, 200, "DELETE", "/configs/k2?environment=e", NULL, KEY_A);
	resp = KEEP(get(f, KEY_A, path));
	misses++;
	g_assert_cmpuint(list_len(resp), ==, 2);
	g_assert_null(strstr(resp->body, "\"k2\""));
	g_assert_cmpfloat(list_cache_count(f, "hit"), ==, hits);
	g_assert_cmpfloat(list_cache_count(f, "miss"), ==, misses);

	/* a write by another process on the same file shows within OSC_STORE_CACHE_TTL_US */
	g_assert_cmpuint(list_len(KEEP(get(f, KEY_A, path))), ==, 2);
	hits++;
	other = osc_store_new(f->config->database_path, &error);
	g_assert_no_error(error);
	g_assert_true(osc_store_delete(other, "k4", "e", -1, &error));
	g_assert_no_error(error);
	g_usleep(OSC_STORE_CACHE_TTL_US + G_USEC_PER_SEC / 10);
	resp = KEEP(get(f, KEY_A, path));
	misses++;
	g_assert_cmpuint(list_len(resp), ==, 1);
	g_assert_null(strstr(resp->body, "\"k4\""));
	/* at once when the client asks for a fresh answer (not a lookup: not counted) */
	g_assert_nonnull(strstr(KEEP(get(f, KEY_A, "/configs/k1?environment=e"))->body, "\"k1\""));
	g_assert_true(osc_store_delete(other, "k1", "e", -1, &error));
	g_assert_no_error(error);
	resp = KEEP(req(f, "GET", path, NULL, "X-User-Key", KEY_A, "Cache-Control", "no-cache",
			NULL));
	/* k3 and k5, of KEY_B, are all that is left */
	g_assert_cmpuint(resp->status, ==, 401);
	failed++;
	resp = KEEP(req(f, "GET", "/configs/k1?environment=e", NULL, "X-User-Key", KEY_A,
			"Cache-Control", "max-age=0, no-cache", NULL));
	g_assert_cmpuint(resp->status, ==, 404);
#undef KEEP

	/* kept answers go soon after a write made them stale, without waiting for a lookup */
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(osc_service_get_key_cache(f->service)), >, 0);
	must(f, 200, "PUT", "/configs/k3?environment=e", "{\"value\":33}", KEY_B);
	osc_test_wait_until(no_memo_bytes, f, 5000);

	/* counted as every list is */
	{
		g_autoptr(OscTestResponse) metrics = get(f, NULL, "/metrics");
		g_autoptr(GPtrArray) samples = osc_metrics_parse(metrics->body, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpfloat(sample(samples, "osc_config_operations_total", "operation",
					 "list", "status", "success", NULL),
				  ==, hits + misses - failed_misses);
		g_assert_cmpfloat(sample(samples, "osc_config_operations_total", "operation",
					 "list", "status", "error", NULL),
				  ==, failed);
		g_assert_cmpfloat(sample(samples, "osc_list_cache_lookups_total", "result", "hit",
					 NULL),
				  ==, hits);
		g_assert_cmpfloat(sample(samples, "osc_list_cache_lookups_total", "result", "bypass",
					 NULL),
				  ==, 1);
		g_assert_cmpfloat(sample(samples, "osc_list_cache_refused_total", NULL), ==, 0);
	}

	/* after a re-key the old key's kept list is never served again */
	{
		g_autoptr(OscTestResponse) before = get(f, KEY_B, path);
		g_autoptr(OscTestResponse) again_b = get(f, KEY_B, path);
		g_autoptr(OscTestResponse) rekeyed = NULL;
		g_autoptr(OscTestResponse) old_key = NULL;
		g_autoptr(OscTestResponse) new_key = NULL;

		g_assert_cmpuint(list_len(before), ==, 2);
		g_assert_cmpstr(again_b->body, ==, before->body);
		rekeyed = req(f, "POST", "/rekey", NULL, "X-User-Key", KEY_B, "X-New-User-Key",
			      "user-key-delta-000", NULL);
		g_assert_cmpuint(rekeyed->status, ==, 200);
		old_key = get(f, KEY_B, path);
		g_assert_cmpuint(old_key->status, ==, 401);
		new_key = get(f, "user-key-delta-000", path);
		g_assert_cmpuint(list_len(new_key), ==, 2);
	}
}

/*
 * An entry the original stored with an integer beyond 64 bits (API.md §3.3: any size) is read,
 * listed, backed up and imported with that integer as it is.
 */
static void
test_http_original_big_int(Fixture *f, gconstpointer data)
{
	OscService *service = f->service;
	const gchar *plain = "{\"big\": 1180591620717411303424, \"n\": [-9223372036854775809]}";
	g_autoptr(OscDerivedKey) dk = NULL;
	g_autofree gchar *token = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	g_autoptr(OscTestResponse) read = NULL;
	g_autoptr(OscTestResponse) list = NULL;
	g_autoptr(OscTestResponse) backup = NULL;
	g_autoptr(GError) error = NULL;

	must(f, 201, "POST", "/configs", "{\"key\":\"k\",\"value\":1,\"environment\":\"e\"}",
	     KEY_A);
	dk = osc_key_cache_derive(osc_service_get_key_cache(service), KEY_A, strlen(KEY_A), NULL,
				  &error);
	g_assert_no_error(error);
	token = osc_fernet_encrypt(osc_derived_key_get_bytes(dk), (const guint8 *)plain,
				   strlen(plain), g_get_real_time() / G_USEC_PER_SEC, NULL, &error);
	g_assert_no_error(error);
	/* as the original wrote it: its json.dumps text, with a space after each separator */
	row = osc_store_update(osc_service_get_store(service), "k", "e", FALSE, NULL, token,
			       osc_derived_key_get_fingerprint(dk), -1, &error);
	g_assert_no_error(error);

	read = get(f, KEY_A, "/configs/k?environment=e");
	g_assert_cmpuint(read->status, ==, 200);
	g_assert_nonnull(strstr(read->body,
				"\"value\":{\"big\":1180591620717411303424,\"n\":[-9223372036854775809]}"));
	list = get(f, KEY_A, "/configs");
	g_assert_cmpuint(list->status, ==, 200);
	g_assert_nonnull(strstr(list->body, "1180591620717411303424"));
	/* a backup parses every value: it keeps the integers too, and an import of it into a
	 * fresh store gives them back */
	backup = req(f, "POST", "/backup", NULL, "X-User-Key", KEY_A, "X-Backup-Password",
		     "backup-password-1", NULL);
	g_assert_cmpuint(backup->status, ==, 200);
	must(f, 200, "DELETE", "/configs/k?environment=e", NULL, KEY_A);
	{
		g_autofree gchar *import = g_strdup_printf(
		    "{\"backup_data\":\"%s\",\"overwrite\":true}",
		    json_object_get_string_member(obj(backup), "backup_data"));
		g_autoptr(OscTestResponse) imported =
		    req(f, "POST", "/import", import, "X-User-Key", KEY_A, "X-Backup-Password",
			"backup-password-1", NULL);
		g_autoptr(OscTestResponse) again = get(f, KEY_A, "/configs/k?environment=e");

		g_assert_cmpuint(imported->status, ==, 200);
		g_assert_nonnull(strstr(again->body, "\"value\":{\"big\":1180591620717411303424,"
						     "\"n\":[-9223372036854775809]}"));
	}
}

/* OSC_LIST_CACHE_SIZE=0: every list is read from the database, and nothing is kept */
static void
test_http_list_cache_off(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) first = NULL;
	g_autoptr(OscTestResponse) second = NULL;
	g_autoptr(OscStore) other = NULL;
	g_autoptr(GError) error = NULL;

	must(f, 201, "POST", "/configs", "{\"key\":\"k\",\"value\":1,\"environment\":\"e\"}",
	     KEY_A);
	must(f, 201, "POST", "/configs", "{\"key\":\"k2\",\"value\":2,\"environment\":\"e\"}",
	     KEY_A);
	first = get(f, KEY_A, "/configs");
	g_assert_cmpuint(list_len(first), ==, 2);
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(osc_service_get_key_cache(f->service)), ==, 0);
	/* a write by another process shows at once: nothing answered from memory */
	other = osc_store_new(f->config->database_path, &error);
	g_assert_no_error(error);
	g_assert_true(osc_store_delete(other, "k2", "e", -1, &error));
	second = get(f, KEY_A, "/configs");
	g_assert_cmpuint(second->status, ==, 200);
	g_assert_cmpuint(list_len(second), ==, 1);
	g_assert_cmpfloat(list_cache_count(f, "hit"), ==, 0);
	g_assert_cmpfloat(list_cache_count(f, "miss"), ==, 0);
}

static void
fixture_setup_no_list_cache(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->config->list_cache_size = 0;
	fixture_start(f);
}

int
main(int argc, char **argv)
{
	osc_test_init_keep_going(&argc, &argv);
#define ADD(path, fn, setup) g_test_add(path, Fixture, NULL, setup, fn, fixture_teardown)
	ADD("/osc/http/open-routes", test_http_open_routes, fixture_setup);
	ADD("/osc/http/crud", test_http_crud, fixture_setup);
	ADD("/osc/http/duplicate", test_http_duplicate, fixture_setup);
	ADD("/osc/http/wrong-key", test_http_wrong_key, fixture_setup);
	ADD("/osc/http/validation", test_http_validation, fixture_setup);
	ADD("/osc/http/user-key-checks", test_http_user_key_checks, fixture_setup);
	ADD("/osc/http/api-key", test_http_api_key, fixture_setup_api_key);
	ADD("/osc/http/not-found-and-method", test_http_not_found_and_method, fixture_setup);
	ADD("/osc/http/statuses/configs", test_http_configs_statuses, fixture_setup_api_key);
	ADD("/osc/http/auth-order", test_http_auth_order, fixture_setup_api_key);
	ADD("/osc/http/stats", test_http_stats, fixture_setup);
	ADD("/osc/http/stats-operations", test_http_stats_operations, fixture_setup);
	ADD("/osc/http/stats-operations-empty", test_http_stats_operations_empty, fixture_setup);
	ADD("/osc/http/cluster/routes", test_http_cluster, fixture_setup_api_key);
	ADD("/osc/http/cluster/salt", test_http_cluster_salt, fixture_setup_api_key);
	ADD("/osc/http/cluster/salt-missing-file", test_http_cluster_salt_missing_file,
	    fixture_setup);
	ADD("/osc/http/original-db", test_http_original_db, fixture_setup_original);
	ADD("/osc/http/metrics", test_http_metrics, fixture_setup);
	ADD("/osc/http/read-from-memory", test_http_read_from_memory, fixture_setup);
	ADD("/osc/http/list-from-memory", test_http_list_from_memory, fixture_setup);
	ADD("/osc/http/list-cache-off", test_http_list_cache_off, fixture_setup_no_list_cache);
	ADD("/osc/http/original-big-int", test_http_original_big_int, fixture_setup);
#undef ADD
	return g_test_run();
}
