/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "osc-test-utils.h"

#define KEY_A "versions-key-aaa"
#define KEY_B "versions-key-bbb"

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	SoupSession *session;
	gchar *base;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->config->versions_kept = GPOINTER_TO_UINT(data) != 0 ? GPOINTER_TO_UINT(data) : 10;
	f->service = osc_test_service_new(f->config);
	f->base = osc_test_service_base_url(f->service);
	f->session = osc_test_session_new();
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

static OscTestResponse *
send(Fixture *f, const gchar *method, const gchar *path, const gchar *body, const gchar *user_key,
     const gchar *if_match)
{
	g_autofree gchar *url = g_strconcat(f->base, path, NULL);
	if (if_match != NULL)
		return osc_test_http(f->session, method, url, body, "X-User-Key", user_key,
				     "If-Match", if_match, NULL);
	return osc_test_http(f->session, method, url, body, "X-User-Key", user_key, NULL);
}

static JsonObject *
obj(OscTestResponse *resp)
{
	g_assert_nonnull(resp->json);
	return json_node_get_object(resp->json);
}

/* create v1 (c1), update to v2 (c2), update to v3 (category kept) */
static void
make_history(Fixture *f)
{
	const gchar *bodies[] = {
	    "{\"key\":\"db\",\"value\":\"v1\",\"environment\":\"prod\",\"category\":\"c1\"}",
	    "{\"value\":\"v2\",\"category\":\"c2\"}",
	    "{\"value\":\"v3\"}",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bodies); i++) {
		g_autoptr(OscTestResponse) r =
		    i == 0 ? send(f, "POST", "/configs", bodies[i], KEY_A, NULL)
			   : send(f, "PUT", "/configs/db?environment=prod", bodies[i], KEY_A, NULL);
		g_assert_cmpuint(r->status, <, 300);
	}
}

static void
test_versions_list_and_read(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) list = NULL;
	g_autoptr(OscTestResponse) v1 = NULL;
	g_autoptr(OscTestResponse) missing = NULL;
	g_autoptr(OscTestResponse) bad = NULL;
	g_autoptr(OscTestResponse) other = NULL;
	JsonArray *versions;

	make_history(f);
	list = send(f, "GET", "/configs/db/versions?environment=prod", NULL, KEY_A, NULL);
	g_assert_cmpuint(list->status, ==, 200);
	versions = json_object_get_array_member(obj(list), "versions");
	g_assert_cmpuint(json_array_get_length(versions), ==, 3);
	/* newest first; the live one is current */
	g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(versions, 0),
						   "version"),
			==, 3);
	g_assert_true(json_object_get_boolean_member(json_array_get_object_element(versions, 0),
						     "current"));
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(versions, 2),
						      "category"),
			==, "c1");
	/* metadata only: no values in the list */
	g_assert_false(json_object_has_member(json_array_get_object_element(versions, 1), "value"));

	v1 = send(f, "GET", "/configs/db?environment=prod&version=1", NULL, KEY_A, NULL);
	g_assert_cmpuint(v1->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(v1), "value"), ==, "v1");
	g_assert_false(json_object_get_boolean_member(obj(v1), "current"));

	missing = send(f, "GET", "/configs/db?environment=prod&version=9", NULL, KEY_A, NULL);
	g_assert_cmpuint(missing->status, ==, 404);
	bad = send(f, "GET", "/configs/db?environment=prod&version=0", NULL, KEY_A, NULL);
	g_assert_cmpuint(bad->status, ==, 422);
	/* D-3: another key sees neither the history nor a version */
	other = send(f, "GET", "/configs/db/versions?environment=prod", NULL, KEY_B, NULL);
	g_assert_cmpuint(other->status, ==, 401);
}

static void
test_versions_rollback(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) rolled = NULL;
	g_autoptr(OscTestResponse) read = NULL;
	g_autoptr(OscTestResponse) stale = NULL;
	g_autoptr(OscTestResponse) other = NULL;

	make_history(f);
	stale = send(f, "POST", "/configs/db/rollback?environment=prod&version=1", NULL, KEY_A,
		     "\"1\"");
	g_assert_cmpuint(stale->status, ==, 412);
	other = send(f, "POST", "/configs/db/rollback?environment=prod&version=1", NULL, KEY_B,
		     NULL);
	g_assert_cmpuint(other->status, ==, 401);

	rolled = send(f, "POST", "/configs/db/rollback?environment=prod&version=1", NULL, KEY_A,
		      NULL);
	g_assert_cmpuint(rolled->status, ==, 200);
	/* the old value and category come back as a new version */
	g_assert_cmpstr(json_object_get_string_member(obj(rolled), "value"), ==, "v1");
	g_assert_cmpstr(json_object_get_string_member(obj(rolled), "category"), ==, "c1");
	g_assert_cmpint(json_object_get_int_member(obj(rolled), "version"), ==, 4);
	g_assert_nonnull(soup_message_headers_get_one(rolled->headers, "ETag"));
	read = send(f, "GET", "/configs/db?environment=prod", NULL, KEY_A, NULL);
	g_assert_cmpstr(json_object_get_string_member(obj(read), "value"), ==, "v1");
}

static void
test_versions_restore_deleted(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) del = NULL;
	g_autoptr(OscTestResponse) gone = NULL;
	g_autoptr(OscTestResponse) with_match = NULL;
	g_autoptr(OscTestResponse) restored = NULL;
	g_autoptr(OscTestResponse) read = NULL;

	make_history(f);
	del = send(f, "DELETE", "/configs/db?environment=prod", NULL, KEY_A, NULL);
	g_assert_cmpuint(del->status, ==, 200);
	gone = send(f, "GET", "/configs/db?environment=prod", NULL, KEY_A, NULL);
	g_assert_cmpuint(gone->status, ==, 404);
	/* nothing current to match */
	with_match = send(f, "POST", "/configs/db/rollback?environment=prod&version=2", NULL,
			  KEY_A, "*");
	g_assert_cmpuint(with_match->status, ==, 412);
	restored = send(f, "POST", "/configs/db/rollback?environment=prod&version=2", NULL, KEY_A,
			NULL);
	g_assert_cmpuint(restored->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(restored), "value"), ==, "v2");
	read = send(f, "GET", "/configs/db?environment=prod", NULL, KEY_A, NULL);
	g_assert_cmpuint(read->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(read), "category"), ==, "c2");
}

static void
test_versions_retention(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) list = NULL;

	make_history(f); /* three versions, two of them old; the fixture keeps one */
	list = send(f, "GET", "/configs/db/versions?environment=prod", NULL, KEY_A, NULL);
	g_assert_cmpuint(list->status, ==, 200);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(list), "versions")),
			 ==, 2);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
#define ADD(path, fn, data) g_test_add(path, Fixture, data, fixture_setup, fn, fixture_teardown)
	ADD("/osc/versions/list-and-read", test_versions_list_and_read, NULL);
	ADD("/osc/versions/rollback", test_versions_rollback, NULL);
	ADD("/osc/versions/restore-deleted", test_versions_restore_deleted, NULL);
	ADD("/osc/versions/retention", test_versions_retention, GUINT_TO_POINTER(1));
#undef ADD
	return g_test_run();
}
