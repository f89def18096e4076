/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "osc-test-utils.h"

#define OLD_KEY "old-user-key-123"
#define NEW_KEY "new-user-key-456"
#define OTHER_KEY "other-tenant-789"

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

static void
create(Fixture *f, const gchar *user_key, const gchar *key, const gchar *value)
{
	g_autofree gchar *url = g_strconcat(f->base, "/configs", NULL);
	g_autofree gchar *body = g_strdup_printf(
	    "{\"key\":\"%s\",\"value\":%s,\"environment\":\"prod\",\"category\":\"c\"}", key, value);
	g_autoptr(OscTestResponse) resp =
	    osc_test_http(f->session, "POST", url, body, "X-User-Key", user_key, NULL);
	g_assert_cmpuint(resp->status, ==, 201);
}

static OscTestResponse *
read_entry(Fixture *f, const gchar *user_key, const gchar *key)
{
	g_autofree gchar *url = g_strdup_printf("%s/configs/%s?environment=prod", f->base, key);
	return osc_test_http(f->session, "GET", url, NULL, "X-User-Key", user_key, NULL);
}

static OscTestResponse *
rekey(Fixture *f, const gchar *old_key, const gchar *new_key)
{
	g_autofree gchar *url = g_strconcat(f->base, "/rekey", NULL);
	if (new_key == NULL)
		return osc_test_http(f->session, "POST", url, NULL, "X-User-Key", old_key, NULL);
	return osc_test_http(f->session, "POST", url, NULL, "X-User-Key", old_key,
			     "X-New-User-Key", new_key, NULL);
}

static void
test_rekey_moves_entries(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) resp = NULL;
	g_autoptr(OscTestResponse) before = NULL;
	g_autoptr(OscTestResponse) old_read = NULL;
	g_autoptr(OscTestResponse) other_read = NULL;
	g_autoptr(OscTestResponse) list = NULL;
	g_autofree gchar *list_url = g_strconcat(f->base, "/configs?environment=prod", NULL);

	create(f, OLD_KEY, "a", "{\"x\":[1,2,{\"y\":\"caffè\"}]}");
	create(f, OLD_KEY, "b", "\"secret\"");
	create(f, OTHER_KEY, "c", "42");
	before = read_entry(f, OLD_KEY, "a");
	g_assert_cmpuint(before->status, ==, 200);

	resp = rekey(f, OLD_KEY, NEW_KEY);
	g_assert_cmpuint(resp->status, ==, 200);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(resp->json), "rekeyed"),
			==, 2);

	/* the old key opens nothing any more, the new one opens the same values */
	old_read = read_entry(f, OLD_KEY, "a");
	g_assert_cmpuint(old_read->status, ==, 401);
	for (guint i = 0; i < 2; i++) {
		const gchar *key = i == 0 ? "a" : "b";
		g_autoptr(OscTestResponse) r = read_entry(f, NEW_KEY, key);
		g_assert_cmpuint(r->status, ==, 200);
		if (i == 0) {
			g_assert_cmpstr(r->body, ==, before->body);
			/* the token changed, so the ETag did */
			g_assert_cmpstr(soup_message_headers_get_one(r->headers, "ETag"), !=,
					soup_message_headers_get_one(before->headers, "ETag"));
		}
	}
	/* another tenant's entry is untouched */
	other_read = read_entry(f, OTHER_KEY, "c");
	g_assert_cmpuint(other_read->status, ==, 200);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(other_read->json),
						   "value"),
			==, 42);
	list = osc_test_http(f->session, "GET", list_url, NULL, "X-User-Key", NEW_KEY, NULL);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(list->json)), ==, 2);
}

static void
update(Fixture *f, const gchar *user_key, const gchar *key, const gchar *value)
{
	g_autofree gchar *url = g_strdup_printf("%s/configs/%s?environment=prod", f->base, key);
	g_autofree gchar *body = g_strdup_printf("{\"value\":%s}", value);
	g_autoptr(OscTestResponse) resp =
	    osc_test_http(f->session, "PUT", url, body, "X-User-Key", user_key, NULL);
	g_assert_cmpuint(resp->status, ==, 200);
}

static OscTestResponse *
read_version(Fixture *f, const gchar *user_key, const gchar *key, guint version)
{
	g_autofree gchar *url =
	    g_strdup_printf("%s/configs/%s?environment=prod&version=%u", f->base, key, version);
	return osc_test_http(f->session, "GET", url, NULL, "X-User-Key", user_key, NULL);
}

/* kept versions move with their entries: the old key opens no history afterwards, the new
 * one opens and rolls back all of it; another tenant's history is untouched */
static void
test_rekey_moves_versions(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) resp = NULL;
	g_autoptr(OscTestResponse) rollback = NULL;
	g_autoptr(OscTestResponse) current = NULL;
	g_autoptr(OscTestResponse) other_v1 = NULL;
	g_autofree gchar *rollback_url =
	    g_strdup_printf("%s/configs/a/rollback?environment=prod&version=1", f->base);

	create(f, OLD_KEY, "a", "\"one\"");
	update(f, OLD_KEY, "a", "\"two\"");
	update(f, OLD_KEY, "a", "\"three\"");
	create(f, OTHER_KEY, "c", "\"c-one\"");
	update(f, OTHER_KEY, "c", "\"c-two\"");

	resp = rekey(f, OLD_KEY, NEW_KEY);
	g_assert_cmpuint(resp->status, ==, 200);
	/* "one" and "two", plus the state the re-key itself replaced */
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(resp->json),
						   "versions_rekeyed"),
			==, 3);
	for (guint v = 1; v <= 2; v++) {
		g_autoptr(OscTestResponse) old_v = read_version(f, OLD_KEY, "a", v);
		g_autoptr(OscTestResponse) new_v = read_version(f, NEW_KEY, "a", v);

		g_assert_cmpuint(old_v->status, ==, 401);
		g_assert_cmpuint(new_v->status, ==, 200);
		g_assert_cmpstr(json_object_get_string_member(json_node_get_object(new_v->json),
							      "value"),
				==, v == 1 ? "one" : "two");
	}
	rollback = osc_test_http(f->session, "POST", rollback_url, NULL, "X-User-Key", NEW_KEY,
				 NULL);
	g_assert_cmpuint(rollback->status, ==, 200);
	current = read_entry(f, NEW_KEY, "a");
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(current->json), "value"),
			==, "one");
	other_v1 = read_version(f, OTHER_KEY, "c", 1);
	g_assert_cmpuint(other_v1->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(other_v1->json),
						      "value"),
			==, "c-one");
}

static void
test_rekey_refusals(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) same = NULL;
	g_autoptr(OscTestResponse) shortk = NULL;
	g_autoptr(OscTestResponse) missing = NULL;
	g_autoptr(OscTestResponse) wrong_old = NULL;
	g_autoptr(OscTestResponse) still = NULL;

	create(f, OLD_KEY, "a", "1");
	same = rekey(f, OLD_KEY, OLD_KEY);
	g_assert_cmpuint(same->status, ==, 400);
	g_assert_cmpstr(osc_test_json_detail(same), ==, "X-New-User-Key must differ from X-User-Key");
	shortk = rekey(f, OLD_KEY, "short");
	g_assert_cmpuint(shortk->status, ==, 400);
	g_assert_cmpstr(osc_test_json_detail(shortk), ==,
			"X-New-User-Key must be at least 8 characters long");
	missing = rekey(f, OLD_KEY, NULL);
	g_assert_cmpuint(missing->status, ==, 422);
	/* a mistyped old key must not look like a successful no-op */
	wrong_old = rekey(f, "mistyped-old-key", NEW_KEY);
	g_assert_cmpuint(wrong_old->status, ==, 401);
	still = read_entry(f, OLD_KEY, "a");
	g_assert_cmpuint(still->status, ==, 200);
}

static void
test_rekey_empty_store(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) resp = rekey(f, OLD_KEY, NEW_KEY);

	g_assert_cmpuint(resp->status, ==, 200);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(resp->json), "rekeyed"),
			==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/osc/rekey/moves-versions", test_rekey_moves_versions);
	ADD("/osc/rekey/moves-entries", test_rekey_moves_entries);
	ADD("/osc/rekey/refusals", test_rekey_refusals);
	ADD("/osc/rekey/empty-store", test_rekey_empty_store);
#undef ADD
	return g_test_run();
}
