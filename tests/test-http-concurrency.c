/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "osc-metrics.h"
#include "osc-test-utils.h"

/*
 * Requests racing each other: every message is queued on the session before the main
 * context runs once, so the server's workers see them together (API.md §4.5 race, D-2,
 * D-8 If-Match).
 */

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

/* many more workers than the default, so that writes really interleave */
static void
fixture_setup_wide(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->config->workers = 16;
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

static SoupMessage *
message(Fixture *f, const gchar *method, const gchar *path, const gchar *body,
	const gchar *user_key, const gchar *if_match)
{
	g_autofree gchar *u = g_strconcat(f->base, path, NULL);
	SoupMessage *msg = soup_message_new(method, u);
	SoupMessageHeaders *h = soup_message_get_request_headers(msg);

	g_assert_nonnull(msg);
	soup_message_headers_append(h, "X-User-Key", user_key);
	if (if_match != NULL)
		soup_message_headers_append(h, "If-Match", if_match);
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
	}
	return msg;
}

static OscTestResponse *
call(Fixture *f, const gchar *method, const gchar *path, const gchar *body, const gchar *user_key)
{
	g_autoptr(SoupMessage) msg = message(f, method, path, body, user_key, NULL);
	return osc_test_http_send(f->session, msg);
}

static JsonObject *
obj(OscTestResponse *resp)
{
	g_assert_nonnull(resp->json);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(resp->json));
	return json_node_get_object(resp->json);
}

static guint
count_status(GPtrArray *responses, guint status)
{
	guint n = 0;

	for (guint i = 0; i < responses->len; i++) {
		OscTestResponse *r = g_ptr_array_index(responses, i);
		if (r->status == status)
			n++;
	}
	return n;
}

/* the value of an unlabelled sample in the /metrics exposition */
static gdouble
scrape(Fixture *f, const gchar *name)
{
	g_autofree gchar *u = g_strconcat(f->base, "/metrics", NULL);
	g_autoptr(OscTestResponse) resp = osc_test_http(f->session, "GET", u, NULL, NULL, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) samples = osc_metrics_parse(resp->body, NULL, &error);

	g_assert_no_error(error);
	for (guint i = 0; i < samples->len; i++) {
		OscMetricSample *s = g_ptr_array_index(samples, i);
		if (g_str_equal(s->name, name) && g_hash_table_size(s->labels) == 0)
			return s->value;
	}
	g_assert_not_reached();
}

static void
test_create_same_pair(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) responses = NULL;
	g_autoptr(OscTestResponse) list = NULL;
	g_autoptr(OscTestResponse) read = NULL;
	gint winner = -1;

	/* distinct values, so that the stored one tells which request won */
	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *body =
			g_strdup_printf("{\"key\":\"race\",\"value\":%u,\"environment\":\"e\"}", i);
		g_ptr_array_add(msgs, message(f, "POST", "/configs", body, KEY_A, NULL));
	}
	responses = osc_test_http_parallel(f->session, msgs);

	g_assert_cmpuint(count_status(responses, 201), ==, 1);
	g_assert_cmpuint(count_status(responses, 400), ==, 19);
	for (guint i = 0; i < responses->len; i++) {
		OscTestResponse *r = g_ptr_array_index(responses, i);
		if (r->status == 201) {
			winner = (gint)i;
			continue;
		}
		/* the Python client detects duplicates by this text */
		g_assert_cmpstr(osc_test_json_detail(r), ==,
				"Configuration with key 'race' already exists in environment 'e'");
	}

	list = call(f, "GET", "/configs", NULL, KEY_A);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(list->json)), ==, 1);
	read = call(f, "GET", "/configs/race?environment=e", NULL, KEY_A);
	g_assert_cmpint(json_object_get_int_member(obj(read), "value"), ==, winner);
	/* D-2: twenty first requests with one key share one PBKDF2 run */
	g_assert_cmpfloat(scrape(f, "osc_key_derivations_total"), ==, 1.0);
	g_assert_cmpfloat(scrape(f, "osc_config_entries_total"), ==, 1.0);
}

static void
test_create_same_pair_two_keys(Fixture *f, gconstpointer data)
{
	/* two users racing for one pair: one wins, the other learns it exists */
	g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) responses = NULL;
	const gchar *body = "{\"key\":\"shared\",\"value\":\"x\",\"environment\":\"e\"}";

	for (guint i = 0; i < 10; i++) {
		g_ptr_array_add(msgs, message(f, "POST", "/configs", body, KEY_A, NULL));
		g_ptr_array_add(msgs, message(f, "POST", "/configs", body, KEY_B, NULL));
	}
	responses = osc_test_http_parallel(f->session, msgs);
	g_assert_cmpuint(count_status(responses, 201), ==, 1);
	g_assert_cmpuint(count_status(responses, 400), ==, 19);
}

static void
test_put_same_etag(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) created = call(
		f, "POST", "/configs", "{\"key\":\"k\",\"value\":-1,\"environment\":\"e\"}", KEY_A);
	const gchar *etag = soup_message_headers_get_one(created->headers, "ETag");
	g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) responses = NULL;
	g_autoptr(OscTestResponse) read = NULL;
	OscTestResponse *winner = NULL;
	gint winner_index = -1;

	g_assert_cmpuint(created->status, ==, 201);
	g_assert_nonnull(etag);
	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *body = g_strdup_printf("{\"value\":%u}", i);
		g_ptr_array_add(msgs,
				message(f, "PUT", "/configs/k?environment=e", body, KEY_A, etag));
	}
	responses = osc_test_http_parallel(f->session, msgs);

	g_assert_cmpuint(count_status(responses, 200), ==, 1);
	g_assert_cmpuint(count_status(responses, 412), ==, 19);
	for (guint i = 0; i < responses->len; i++) {
		OscTestResponse *r = g_ptr_array_index(responses, i);
		if (r->status == 200) {
			winner = r;
			winner_index = (gint)i;
		} else {
			/* the service's check or the store's compare-and-set, whichever saw it */
			const gchar *detail = osc_test_json_detail(r);
			g_assert_nonnull(detail);
			g_assert_true(g_str_has_prefix(detail,
						       "Precondition failed: configuration 'k'") ||
				      g_str_has_prefix(detail, "Configuration 'k' was modified"));
		}
	}
	read = call(f, "GET", "/configs/k?environment=e", NULL, KEY_A);
	g_assert_cmpint(json_object_get_int_member(obj(read), "value"), ==, winner_index);
	g_assert_cmpstr(soup_message_headers_get_one(read->headers, "ETag"), ==,
			soup_message_headers_get_one(winner->headers, "ETag"));
	g_assert_cmpstr(soup_message_headers_get_one(read->headers, "ETag"), !=, etag);
}

#define N_PUTS 200

static void
test_put_without_if_match(Fixture *f, gconstpointer data)
{
	/* without If-Match the client asked for no precondition: last writer wins, and no
	 * request may fail with 412 however many writers race */
	g_autoptr(OscTestResponse) created = call(
		f, "POST", "/configs", "{\"key\":\"k\",\"value\":-1,\"environment\":\"e\"}", KEY_A);
	g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) responses = NULL;
	g_autoptr(GHashTable) etags = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(OscTestResponse) read = NULL;
	g_autoptr(SoupSession) session = NULL;
	gboolean found = FALSE;

	g_assert_cmpuint(created->status, ==, 201);
	for (guint i = 0; i < N_PUTS; i++) {
		g_autofree gchar *body = g_strdup_printf("{\"value\":%u}", i);
		g_ptr_array_add(msgs,
				message(f, "PUT", "/configs/k?environment=e", body, KEY_A, NULL));
	}
	/* as many connections as workers: every worker busy with a write all the time */
	session = soup_session_new_with_options("timeout", 30, "max-conns-per-host",
						f->config->workers, NULL);
	responses = osc_test_http_parallel(session, msgs);
	for (guint i = 0; i < responses->len; i++) {
		OscTestResponse *r = g_ptr_array_index(responses, i);
		if (r->status != 200)
			g_test_message("PUT %u: %u %s", i, r->status, r->body);
	}
	g_assert_cmpuint(count_status(responses, 200), ==, N_PUTS);
	/* every update is a revision of its own */
	for (guint i = 0; i < responses->len; i++) {
		OscTestResponse *r = g_ptr_array_index(responses, i);
		g_hash_table_add(etags, (gpointer)soup_message_headers_get_one(r->headers, "ETag"));
	}
	g_assert_cmpuint(g_hash_table_size(etags), ==, N_PUTS);
	/* what is stored is what one of them wrote, under the ETag that one was given */
	read = call(f, "GET", "/configs/k?environment=e", NULL, KEY_A);
	for (guint i = 0; i < responses->len; i++) {
		OscTestResponse *r = g_ptr_array_index(responses, i);
		if (g_strcmp0(soup_message_headers_get_one(r->headers, "ETag"),
			      soup_message_headers_get_one(read->headers, "ETag")) == 0) {
			g_assert_cmpint(json_object_get_int_member(obj(read), "value"), ==, i);
			found = TRUE;
		}
	}
	g_assert_true(found);
}

#define DELETE_ROUNDS  60
#define DELETE_WRITERS 64

static void
test_delete_racing_updates_body(Fixture *f)
{
	/* a DELETE without If-Match among busy writers must delete, never answer 412; it
	 * races several rounds, as one round rarely loses often enough to show it */
	g_autoptr(SoupSession) session = soup_session_new_with_options(
		"timeout", 30, "max-conns-per-host", f->config->workers, NULL);

	for (guint round = 0; round < DELETE_ROUNDS; round++) {
		g_autoptr(OscTestResponse) created =
			call(f, "POST", "/configs",
			     "{\"key\":\"k\",\"value\":-1,\"environment\":\"e\"}", KEY_A);
		g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_object_unref);
		g_autoptr(GPtrArray) responses = NULL;
		g_autoptr(OscTestResponse) gone = NULL;
		OscTestResponse *del;

		g_assert_cmpuint(created->status, ==, 201);
		for (guint i = 0; i < DELETE_WRITERS; i++) {
			g_autofree gchar *body = g_strdup_printf("{\"value\":%u}", i);
			if (i == DELETE_WRITERS / 2)
				g_ptr_array_add(msgs,
						message(f, "DELETE", "/configs/k?environment=e",
							NULL, KEY_A, NULL));
			g_ptr_array_add(msgs, message(f, "PUT", "/configs/k?environment=e", body,
						      KEY_A, NULL));
		}
		responses = osc_test_http_parallel(session, msgs);
		del = g_ptr_array_index(responses, DELETE_WRITERS / 2);
		if (del->status != 200)
			g_test_message("round %u: DELETE %u %s", round, del->status, del->body);
		g_assert_cmpuint(del->status, ==, 200);
		/* each PUT updated the entry before the delete or found it gone */
		g_assert_cmpuint(count_status(responses, 200) + count_status(responses, 404), ==,
				 DELETE_WRITERS + 1);
		gone = call(f, "GET", "/configs/k?environment=e", NULL, KEY_A);
		g_assert_cmpuint(gone->status, ==, 404);
	}
}

/* exposes a known server bug (a delete without If-Match gives up with 412 after 4 attempts),
 * now and then: isolated so that a failure does not stop the tests after it */
static void
test_delete_racing_updates(Fixture *f, gconstpointer data)
{
	if (osc_test_isolate())
		test_delete_racing_updates_body(f);
}

static void
test_delete_same_entry(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) created = call(
		f, "POST", "/configs", "{\"key\":\"k\",\"value\":1,\"environment\":\"e\"}", KEY_A);
	g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) responses = NULL;
	g_autoptr(OscTestResponse) list = NULL;

	g_assert_cmpuint(created->status, ==, 201);
	for (guint i = 0; i < 20; i++)
		g_ptr_array_add(
			msgs, message(f, "DELETE", "/configs/k?environment=e", NULL, KEY_A, NULL));
	responses = osc_test_http_parallel(f->session, msgs);
	g_assert_cmpuint(count_status(responses, 200), ==, 1);
	g_assert_cmpuint(count_status(responses, 404), ==, 19);
	list = call(f, "GET", "/configs", NULL, KEY_A);
	g_assert_cmpstr(list->body, ==, "[]");
	g_assert_cmpfloat(scrape(f, "osc_config_entries_total"), ==, 0.0);
}

static void
test_create_distinct(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) responses = NULL;
	g_autoptr(OscTestResponse) list = NULL;
	g_autoptr(GHashTable) created_ids = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_autoptr(GHashTable) keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	JsonArray *arr;
	gint64 prev = 0;
	gdouble commits_before = scrape(f, "osc_db_commits_total");
	gdouble syncs_before = scrape(f, "osc_db_syncs_total");

	for (guint i = 0; i < 50; i++) {
		g_autofree gchar *body = g_strdup_printf(
			"{\"key\":\"key-%02u\",\"value\":{\"n\":%u},\"environment\":\"e\"}", i, i);
		g_ptr_array_add(msgs, message(f, "POST", "/configs", body, KEY_A, NULL));
	}
	responses = osc_test_http_parallel(f->session, msgs);
	g_assert_cmpuint(count_status(responses, 201), ==, 50);
	for (guint i = 0; i < responses->len; i++) {
		OscTestResponse *r = g_ptr_array_index(responses, i);
		gint64 id = json_object_get_int_member(obj(r), "id");
		g_array_append_val(ids, id);
	}
	for (guint i = 0; i < ids->len; i++)
		g_hash_table_add(created_ids, &g_array_index(ids, gint64, i));
	/* fifty distinct ids */
	g_assert_cmpuint(g_hash_table_size(created_ids), ==, 50);

	list = call(f, "GET", "/configs", NULL, KEY_A);
	g_assert_cmpuint(list->status, ==, 200);
	arr = json_node_get_array(list->json);
	g_assert_cmpuint(json_array_get_length(arr), ==, 50);
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		JsonObject *o = json_array_get_object_element(arr, i);
		gint64 id = json_object_get_int_member(o, "id");
		const gchar *key = json_object_get_string_member(o, "key");
		g_autofree gchar *expected = NULL;

		/* in id order, each listed once, each the value its create sent */
		g_assert_cmpint(id, >, prev);
		prev = id;
		g_assert_true(g_hash_table_contains(created_ids, &id));
		g_assert_true(g_hash_table_add(keys, g_strdup(key)));
		expected = g_strdup_printf(
			"key-%02" G_GINT64_FORMAT,
			json_object_get_int_member(json_object_get_object_member(o, "value"), "n"));
		g_assert_cmpstr(key, ==, expected);
	}
	g_assert_cmpfloat(scrape(f, "osc_config_entries_total"), ==, 50.0);
	/* each create committed once; each answer waited for a sync, which creates committed
	 * together may have shared */
	g_assert_cmpfloat(scrape(f, "osc_db_commits_total") - commits_before, ==, 50.0);
	g_assert_cmpfloat(scrape(f, "osc_db_syncs_total") - syncs_before, >=, 1.0);
	g_assert_cmpfloat(scrape(f, "osc_db_syncs_total") - syncs_before, <=, 50.0);
	g_assert_cmpfloat(scrape(f, "osc_db_writes_refused"), ==, 0.0);
}

static void
test_mixed_readers_writers(Fixture *f, gconstpointer data)
{
	/* reads racing updates always see a whole value: one of those written */
	g_autoptr(OscTestResponse) created = call(
		f, "POST", "/configs",
		"{\"key\":\"k\",\"value\":{\"gen\":0,\"pad\":\"0\"},\"environment\":\"e\"}", KEY_A);
	g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) responses = NULL;

	g_assert_cmpuint(created->status, ==, 201);
	for (guint i = 1; i <= 30; i++) {
		g_autofree gchar *body =
			g_strdup_printf("{\"value\":{\"gen\":%u,\"pad\":\"%u\"}}", i, i);
		g_ptr_array_add(msgs,
				message(f, "PUT", "/configs/k?environment=e", body, KEY_A, NULL));
		g_ptr_array_add(msgs,
				message(f, "GET", "/configs/k?environment=e", NULL, KEY_A, NULL));
		g_ptr_array_add(msgs, message(f, "GET", "/configs", NULL, KEY_A, NULL));
	}
	responses = osc_test_http_parallel(f->session, msgs);
	for (guint i = 0; i < responses->len; i++) {
		OscTestResponse *r = g_ptr_array_index(responses, i);
		JsonObject *value;
		g_autofree gchar *pad = NULL;

		g_assert_cmpuint(r->status, ==, 200);
		if (i % 3 == 2) {
			JsonArray *arr = json_node_get_array(r->json);
			g_assert_cmpuint(json_array_get_length(arr), ==, 1);
			value = json_object_get_object_member(json_array_get_object_element(arr, 0),
							      "value");
		} else {
			value = json_object_get_object_member(obj(r), "value");
		}
		pad = g_strdup_printf("%" G_GINT64_FORMAT,
				      json_object_get_int_member(value, "gen"));
		g_assert_cmpstr(json_object_get_string_member(value, "pad"), ==, pad);
	}
}

int
main(int argc, char **argv)
{
	osc_test_init_keep_going(&argc, &argv);
#define ADD(path, fn, setup) g_test_add(path, Fixture, NULL, setup, fn, fixture_teardown)
	ADD("/osc/http/concurrency/create-same-pair", test_create_same_pair, fixture_setup);
	ADD("/osc/http/concurrency/create-same-pair-two-keys", test_create_same_pair_two_keys,
	    fixture_setup_wide);
	ADD("/osc/http/concurrency/put-same-etag", test_put_same_etag, fixture_setup);
	ADD("/osc/http/concurrency/put-without-if-match", test_put_without_if_match,
	    fixture_setup_wide);
	ADD("/osc/http/concurrency/delete-racing-updates", test_delete_racing_updates,
	    fixture_setup_wide);
	ADD("/osc/http/concurrency/delete-same-entry", test_delete_same_entry, fixture_setup_wide);
	ADD("/osc/http/concurrency/create-distinct", test_create_distinct, fixture_setup_wide);
	ADD("/osc/http/concurrency/mixed-readers-writers", test_mixed_readers_writers,
	    fixture_setup_wide);
#undef ADD
	return g_test_run();
}
