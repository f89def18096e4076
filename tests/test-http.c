/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "osc-error.h"
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

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
#define ADD(path, fn, setup) g_test_add(path, Fixture, NULL, setup, fn, fixture_teardown)
	ADD("/osc/http/open-routes", test_http_open_routes, fixture_setup);
	ADD("/osc/http/crud", test_http_crud, fixture_setup);
	ADD("/osc/http/duplicate", test_http_duplicate, fixture_setup);
	ADD("/osc/http/wrong-key", test_http_wrong_key, fixture_setup);
	ADD("/osc/http/validation", test_http_validation, fixture_setup);
	ADD("/osc/http/user-key-checks", test_http_user_key_checks, fixture_setup);
	ADD("/osc/http/api-key", test_http_api_key, fixture_setup_api_key);
	ADD("/osc/http/not-found-and-method", test_http_not_found_and_method, fixture_setup);
#undef ADD
	return g_test_run();
}
