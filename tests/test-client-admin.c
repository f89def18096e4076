/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "libosc-client.h"
#include "osc-test-utils.h"

/*
 * The administration calls of OscClient (osc-client-admin.c) against an in-process
 * OscService: async ones on the main context the service serves on, blocking ones on a
 * worker thread (a blocking call on the serving thread would wait for itself).
 */

#define KEY "user-key-alpha-123"

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	gchar *base;
	OscClient *client;
	GAsyncResult *result;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->service = osc_test_service_new(f->config);
	f->base = osc_test_service_base_url(f->service);
	f->client = g_object_new(OSC_TYPE_CLIENT, "base-url", f->base, "user-key", KEY, "timeout",
				 20, "backoff-factor", 0.01, NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->client);
	g_clear_object(&f->service);
	g_clear_pointer(&f->config, osc_config_free);
	g_free(f->base);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

static void
result_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Fixture *f = user_data;

	f->result = g_object_ref(result);
}

static gboolean
have_result(gpointer data)
{
	return ((Fixture *)data)->result != NULL;
}

static GAsyncResult *
wait_result(Fixture *f)
{
	osc_test_wait_until(have_result, f, 20000);
	return f->result;
}

static void
entry_with_history(Fixture *f)
{
	g_autoptr(GError) error = NULL;

	for (guint i = 1; i <= 3; i++) {
		g_autoptr(JsonNode) v = json_node_new(JSON_NODE_VALUE);
		g_autoptr(OscConfigEntry) got = NULL;
		g_autoptr(GAsyncResult) res = NULL;

		json_node_set_int(v, i);
		if (i == 1)
			osc_client_create_async(f->client, "db", "prod", v, "database", NULL,
						result_cb, f);
		else
			osc_client_update_async(f->client, "db", "prod", v, NULL, NULL, NULL,
						result_cb, f);
		res = wait_result(f);
		f->result = NULL;
		got = i == 1 ? osc_client_create_finish(f->client, res, &error)
			     : osc_client_update_finish(f->client, res, &error);
		g_assert_no_error(error);
		g_assert_nonnull(got);
	}
}

static void
test_versions_async(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(JsonNode) v1 = NULL;
	g_autoptr(OscConfigEntry) back = NULL;
	g_autoptr(OscConfigEntry) missing = NULL;
	JsonArray *versions;

	entry_with_history(f);

	osc_client_list_versions_async(f->client, "db", "prod", NULL, result_cb, f);
	r1 = wait_result(f);
	f->result = NULL;
	list = osc_client_list_versions_finish(f->client, r1, &error);
	g_assert_no_error(error);
	versions = json_object_get_array_member(json_node_get_object(list), "versions");
	g_assert_cmpuint(json_array_get_length(versions), ==, 3);
	/* newest first, the live one marked current */
	g_assert_cmpint(
		json_object_get_int_member(json_array_get_object_element(versions, 0), "version"),
		==, 3);
	g_assert_true(json_object_get_boolean_member(json_array_get_object_element(versions, 0),
						     "current"));

	osc_client_read_version_async(f->client, "db", "prod", 1, NULL, result_cb, f);
	r2 = wait_result(f);
	f->result = NULL;
	v1 = osc_client_read_version_finish(f->client, r2, &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(v1), "value"), ==, 1);
	g_assert_false(json_object_get_boolean_member(json_node_get_object(v1), "current"));

	osc_client_rollback_async(f->client, "db", "prod", 1, NULL, NULL, result_cb, f);
	r3 = wait_result(f);
	f->result = NULL;
	back = osc_client_rollback_finish(f->client, r3, &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_node_get_int(osc_config_entry_get_value(back)), ==, 1);
	g_assert_nonnull(osc_config_entry_get_etag(back));

	/* a version never written: a clear 404 */
	osc_client_rollback_async(f->client, "db", "prod", 99, NULL, NULL, result_cb, f);
	r4 = wait_result(f);
	f->result = NULL;
	missing = osc_client_rollback_finish(f->client, r4, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_NOT_FOUND);
	g_assert_null(missing);
	g_clear_error(&error);

	/* checked before anything is sent */
	g_assert_null(osc_client_read_version(f->client, "db", "prod", 0, NULL, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION);
}

static void
test_admin_async(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(GPtrArray) samples = NULL;
	g_autoptr(JsonNode) ops = NULL, sse = NULL, subs = NULL, dist = NULL;

	entry_with_history(f);

	osc_client_get_metrics_text_async(f->client, NULL, result_cb, f);
	r1 = wait_result(f);
	f->result = NULL;
	text = osc_client_get_metrics_text_finish(f->client, r1, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(text, "# TYPE osc_http_requests_total counter"));
	samples = osc_metrics_parse(text, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(samples->len, >, 0);

	osc_client_get_operation_stats_async(f->client, NULL, result_cb, f);
	r2 = wait_result(f);
	f->result = NULL;
	ops = osc_client_get_operation_stats_finish(f->client, r2, &error);
	g_assert_no_error(error);
	g_assert_true(json_object_has_member(json_node_get_object(ops), "write_operations"));
	g_assert_cmpint(
		json_object_get_int_member(json_object_get_object_member(json_node_get_object(ops),
									 "write_operations"),
					   "create_success"),
		==, 1);

	osc_client_get_sse_stats_async(f->client, NULL, result_cb, f);
	r3 = wait_result(f);
	f->result = NULL;
	sse = osc_client_get_sse_stats_finish(f->client, r3, &error);
	g_assert_no_error(error);
	g_assert_true(json_object_has_member(json_node_get_object(sse), "subscriptions"));

	osc_client_get_sse_subscriptions_async(f->client, NULL, result_cb, f);
	r4 = wait_result(f);
	f->result = NULL;
	subs = osc_client_get_sse_subscriptions_finish(f->client, r4, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(subs));
	g_assert_cmpuint(json_array_get_length(json_node_get_array(subs)), ==, 0);

	/* clustering is off: a cluster error that says so */
	osc_client_get_cluster_distribution_async(f->client, NULL, result_cb, f);
	r5 = wait_result(f);
	f->result = NULL;
	dist = osc_client_get_cluster_distribution_finish(f->client, r5, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CLUSTER);
	g_assert_nonnull(strstr(error->message, "Clustering is not enabled"));
	g_assert_null(dist);
}

/* the blocking variants, on a worker thread */
typedef struct {
	Fixture *f;
	gint done;
	gchar *text;
	gint n_versions;
	gint64 read_value;
	gint64 rolled_value;
	gboolean sse_ok;
	gboolean cluster_error;
} SyncJob;

static gpointer
sync_thread(gpointer data)
{
	SyncJob *j = data;
	g_autoptr(GMainContext) ctx = g_main_context_new();
	g_autoptr(OscClient) client = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) list = NULL, v = NULL, sse = NULL, subs = NULL, ops = NULL, dist = NULL;
	g_autoptr(OscConfigEntry) back = NULL;

	g_main_context_push_thread_default(ctx);
	client = g_object_new(OSC_TYPE_CLIENT, "base-url", j->f->base, "user-key", KEY, "timeout",
			      20, NULL);
	j->text = osc_client_get_metrics_text(client, NULL, &error);
	g_assert_no_error(error);
	list = osc_client_list_versions(client, "db", "prod", NULL, &error);
	g_assert_no_error(error);
	j->n_versions = (gint)json_array_get_length(
		json_object_get_array_member(json_node_get_object(list), "versions"));
	v = osc_client_read_version(client, "db", "prod", 2, NULL, &error);
	g_assert_no_error(error);
	j->read_value = json_object_get_int_member(json_node_get_object(v), "value");
	back = osc_client_rollback(client, "db", "prod", 2, NULL, NULL, &error);
	g_assert_no_error(error);
	j->rolled_value = json_node_get_int(osc_config_entry_get_value(back));
	sse = osc_client_get_sse_stats(client, NULL, &error);
	g_assert_no_error(error);
	subs = osc_client_get_sse_subscriptions(client, NULL, &error);
	g_assert_no_error(error);
	ops = osc_client_get_operation_stats(client, NULL, &error);
	g_assert_no_error(error);
	j->sse_ok = json_object_has_member(json_node_get_object(sse), "events") &&
		    JSON_NODE_HOLDS_ARRAY(subs) &&
		    json_object_has_member(json_node_get_object(ops), "read_operations");
	dist = osc_client_get_cluster_distribution(client, NULL, &error);
	j->cluster_error =
		dist == NULL && g_error_matches(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CLUSTER);
	g_main_context_pop_thread_default(ctx);
	g_atomic_int_set(&j->done, 1);
	return NULL;
}

static gboolean
job_done(gpointer data)
{
	return g_atomic_int_get(&((SyncJob *)data)->done) == 1;
}

static void
test_admin_sync(Fixture *f, gconstpointer data)
{
	SyncJob j = {f, 0, NULL, 0, 0, 0, FALSE, FALSE};
	GThread *thread;

	entry_with_history(f);
	thread = g_thread_new("sync", sync_thread, &j);
	osc_test_wait_until(job_done, &j, 30000);
	g_thread_join(thread);
	g_assert_nonnull(strstr(j.text, "osc_"));
	g_assert_cmpint(j.n_versions, ==, 3);
	g_assert_cmpint(j.read_value, ==, 2);
	g_assert_cmpint(j.rolled_value, ==, 2);
	g_assert_true(j.sse_ok);
	g_assert_true(j.cluster_error);
	g_free(j.text);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add("/osc/client-admin/versions-async", Fixture, NULL, fixture_setup,
		   test_versions_async, fixture_teardown);
	g_test_add("/osc/client-admin/admin-async", Fixture, NULL, fixture_setup, test_admin_async,
		   fixture_teardown);
	g_test_add("/osc/client-admin/sync", Fixture, NULL, fixture_setup, test_admin_sync,
		   fixture_teardown);
	return g_test_run();
}
