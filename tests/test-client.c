/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "libosc-client.h"
#include "osc-test-utils.h"

/*
 * Every OscClient call, blocking and async, against an in-process OscService.
 *
 * The service serves on the main thread's default context, as it is built to. Each
 * scenario runs on a worker thread with its own thread-default context and its own client:
 * in "sync" mode it makes blocking calls (which must not need any main context to run), in
 * "async" mode it makes _async calls and iterates its own context until each callback has
 * run there. The same scenario code runs in both modes through the t_*() wrappers.
 */

#define KEY	"user-key-alpha-123"
#define KEY2	"user-key-bravo-456"
#define API_KEY "test-api-key-0123456789"

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	gchar *base;
	gboolean async;
} Fixture;

typedef struct {
	Fixture *f;
	gboolean async;
	GMainContext *context;
	OscClient *client;
	GAsyncResult *result;
} Ctx;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->async = GPOINTER_TO_INT(data);
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->config->max_body_size = 64 * 1024;
}

static void
fixture_start(Fixture *f)
{
	f->service = osc_test_service_new(f->config);
	f->base = osc_test_service_base_url(f->service);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->service);
	g_clear_pointer(&f->config, osc_config_free);
	g_free(f->base);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

static OscClient *
ctx_client_new(Ctx *c, const gchar *user_key, const gchar *api_key)
{
	return g_object_new(OSC_TYPE_CLIENT, "base-url", c->f->base, "user-key", user_key,
			    "api-key", api_key, "timeout", 20, "backoff-factor", 0.01, NULL);
}

/* ---- running a scenario on a worker thread ---- */

typedef struct {
	Fixture *f;
	void (*scenario)(Ctx *c);
	gint done;
} Job;

static gpointer
job_thread(gpointer data)
{
	Job *job = data;
	Ctx c = {0};

	c.f = job->f;
	c.async = job->f->async;
	c.context = g_main_context_new();
	g_main_context_push_thread_default(c.context);
	c.client = ctx_client_new(&c, KEY, NULL);
	job->scenario(&c);
	g_clear_object(&c.client);
	/* let libsoup finish closing connections on this context */
	while (g_main_context_iteration(c.context, FALSE))
		;
	g_main_context_pop_thread_default(c.context);
	g_main_context_unref(c.context);
	g_atomic_int_set(&job->done, 1);
	g_main_context_wakeup(NULL);
	return NULL;
}

static void
run_scenario(Fixture *f, void (*scenario)(Ctx *c))
{
	Job job = {f, scenario, 0};
	GThread *thread;

	if (f->service == NULL)
		fixture_start(f);
	thread = g_thread_new("scenario", job_thread, &job);
	while (!g_atomic_int_get(&job.done))
		g_main_context_iteration(NULL, TRUE);
	g_thread_join(thread);
}

static void
async_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Ctx *c = user_data;

	/* the callback runs on the context that was thread-default at the call */
	g_assert_true(g_main_context_is_owner(c->context));
	g_assert_true(g_main_context_get_thread_default() == c->context);
	c->result = g_object_ref(result);
}

static GAsyncResult *
await(Ctx *c)
{
	while (c->result == NULL)
		g_main_context_iteration(c->context, TRUE);
	return g_steal_pointer(&c->result);
}

/* ---- one wrapper per call: blocking or async, as the scenario's mode says ---- */

#define T_ASYNC(call_async, call_finish)                                                           \
	G_STMT_START                                                                               \
	{                                                                                          \
		call_async;                                                                        \
		res = await(c);                                                                    \
		ret = call_finish;                                                                 \
	}                                                                                          \
	G_STMT_END

static gboolean
t_ping(Ctx *c, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	gboolean ret;

	if (!c->async)
		return osc_client_ping(c->client, NULL, error);
	T_ASYNC(osc_client_ping_async(c->client, NULL, async_cb, c),
		osc_client_ping_finish(c->client, res, error));
	return ret;
}

typedef enum {
	INFO_SERVICE,
	INFO_CLUSTER_STATUS,
	INFO_CLUSTER_HEALTH,
	INFO_STATS,
} InfoKind;

static JsonNode *
t_info(Ctx *c, InfoKind kind, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	JsonNode *ret = NULL;

	switch (kind) {
	case INFO_SERVICE:
		if (!c->async)
			return osc_client_get_service_info(c->client, NULL, error);
		T_ASYNC(osc_client_get_service_info_async(c->client, NULL, async_cb, c),
			osc_client_get_service_info_finish(c->client, res, error));
		break;
	case INFO_CLUSTER_STATUS:
		if (!c->async)
			return osc_client_get_cluster_status(c->client, NULL, error);
		T_ASYNC(osc_client_get_cluster_status_async(c->client, NULL, async_cb, c),
			osc_client_get_cluster_status_finish(c->client, res, error));
		break;
	case INFO_CLUSTER_HEALTH:
		if (!c->async)
			return osc_client_get_cluster_health(c->client, NULL, error);
		T_ASYNC(osc_client_get_cluster_health_async(c->client, NULL, async_cb, c),
			osc_client_get_cluster_health_finish(c->client, res, error));
		break;
	case INFO_STATS:
	default:
		if (!c->async)
			return osc_client_get_stats(c->client, NULL, error);
		T_ASYNC(osc_client_get_stats_async(c->client, NULL, async_cb, c),
			osc_client_get_stats_finish(c->client, res, error));
		break;
	}
	return ret;
}

static OscConfigEntry *
t_create(Ctx *c, const gchar *key, const gchar *env, const gchar *json, const gchar *cat,
	 GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(JsonNode) value = json_from_string(json, NULL);
	OscConfigEntry *ret;

	g_assert_nonnull(value);
	if (!c->async)
		return osc_client_create(c->client, key, env, value, cat, NULL, error);
	T_ASYNC(osc_client_create_async(c->client, key, env, value, cat, NULL, async_cb, c),
		osc_client_create_finish(c->client, res, error));
	return ret;
}

static OscConfigEntry *
t_read(Ctx *c, const gchar *key, const gchar *env, gboolean full, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	OscConfigEntry *ret;

	if (!c->async)
		return osc_client_read(c->client, key, env, full, NULL, error);
	T_ASYNC(osc_client_read_async(c->client, key, env, full, NULL, async_cb, c),
		osc_client_read_finish(c->client, res, error));
	return ret;
}

static OscConfigEntry *
t_update(Ctx *c, const gchar *key, const gchar *env, const gchar *json, const gchar *cat,
	 const gchar *if_match, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(JsonNode) value = json_from_string(json, NULL);
	OscConfigEntry *ret;

	if (!c->async)
		return osc_client_update(c->client, key, env, value, cat, if_match, NULL, error);
	T_ASYNC(osc_client_update_async(c->client, key, env, value, cat, if_match, NULL, async_cb,
					c),
		osc_client_update_finish(c->client, res, error));
	return ret;
}

static gboolean
t_delete(Ctx *c, const gchar *key, const gchar *env, const gchar *if_match, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	gboolean ret;

	if (!c->async)
		return osc_client_delete(c->client, key, env, if_match, NULL, error);
	T_ASYNC(osc_client_delete_async(c->client, key, env, if_match, NULL, async_cb, c),
		osc_client_delete_finish(c->client, res, error));
	return ret;
}

static GPtrArray *
t_list(Ctx *c, const gchar *cat, const gchar *env, gboolean full, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	GPtrArray *ret;

	if (!c->async)
		return osc_client_list(c->client, cat, env, full, NULL, error);
	T_ASYNC(osc_client_list_async(c->client, cat, env, full, NULL, async_cb, c),
		osc_client_list_finish(c->client, res, error));
	return ret;
}

static gboolean
t_exists(Ctx *c, const gchar *key, const gchar *env, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	gboolean ret;

	if (!c->async)
		return osc_client_exists(c->client, key, env, NULL, error);
	T_ASYNC(osc_client_exists_async(c->client, key, env, NULL, async_cb, c),
		osc_client_exists_finish(c->client, res, error));
	return ret;
}

static OscConfigEntry *
t_get_or_default(Ctx *c, const gchar *key, const gchar *env, const gchar *json, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(JsonNode) value = json_from_string(json, NULL);
	OscConfigEntry *ret;

	if (!c->async)
		return osc_client_get_or_default(c->client, key, env, value, NULL, error);
	T_ASYNC(osc_client_get_or_default_async(c->client, key, env, value, NULL, async_cb, c),
		osc_client_get_or_default_finish(c->client, res, error));
	return ret;
}

static gint
t_count(Ctx *c, const gchar *cat, const gchar *env, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	gint ret;

	if (!c->async)
		return osc_client_count(c->client, cat, env, NULL, error);
	T_ASYNC(osc_client_count_async(c->client, cat, env, NULL, async_cb, c),
		osc_client_count_finish(c->client, res, error));
	return ret;
}

static gchar **
t_distinct(Ctx *c, gboolean categories, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	gchar **ret;

	if (categories) {
		if (!c->async)
			return osc_client_list_categories(c->client, NULL, error);
		T_ASYNC(osc_client_list_categories_async(c->client, NULL, async_cb, c),
			osc_client_list_categories_finish(c->client, res, error));
	} else {
		if (!c->async)
			return osc_client_list_environments(c->client, NULL, error);
		T_ASYNC(osc_client_list_environments_async(c->client, NULL, async_cb, c),
			osc_client_list_environments_finish(c->client, res, error));
	}
	return ret;
}

static GPtrArray *
t_bulk_create(Ctx *c, GPtrArray *items, gboolean ignore, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	GPtrArray *ret;

	if (!c->async)
		return osc_client_bulk_create(c->client, items, ignore, NULL, error);
	T_ASYNC(osc_client_bulk_create_async(c->client, items, ignore, NULL, async_cb, c),
		osc_client_bulk_create_finish(c->client, res, error));
	return ret;
}

static GPtrArray *
t_bulk_read(Ctx *c, GPtrArray *items, gboolean ignore, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	GPtrArray *ret;

	if (!c->async)
		return osc_client_bulk_read(c->client, items, ignore, NULL, error);
	T_ASYNC(osc_client_bulk_read_async(c->client, items, ignore, NULL, async_cb, c),
		osc_client_bulk_read_finish(c->client, res, error));
	return ret;
}

static JsonNode *
t_bulk_delete(Ctx *c, GPtrArray *items, gboolean ignore, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	JsonNode *ret;

	if (!c->async)
		return osc_client_bulk_delete(c->client, items, ignore, NULL, error);
	T_ASYNC(osc_client_bulk_delete_async(c->client, items, ignore, NULL, async_cb, c),
		osc_client_bulk_delete_finish(c->client, res, error));
	return ret;
}

static JsonNode *
t_backup(Ctx *c, const gchar *password, const gchar *cat, const gchar *env, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	JsonNode *ret;

	if (!c->async)
		return osc_client_backup(c->client, password, cat, env, NULL, error);
	T_ASYNC(osc_client_backup_async(c->client, password, cat, env, NULL, async_cb, c),
		osc_client_backup_finish(c->client, res, error));
	return ret;
}

static JsonNode *
t_import(Ctx *c, const gchar *data, const gchar *password, gboolean overwrite, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	JsonNode *ret;

	if (!c->async)
		return osc_client_import_backup(c->client, data, password, overwrite, NULL, error);
	T_ASYNC(osc_client_import_backup_async(c->client, data, password, overwrite, NULL, async_cb,
					       c),
		osc_client_import_backup_finish(c->client, res, error));
	return ret;
}

static JsonNode *
t_rekey(Ctx *c, const gchar *new_key, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	JsonNode *ret;

	if (!c->async)
		return osc_client_rekey(c->client, new_key, NULL, error);
	T_ASYNC(osc_client_rekey_async(c->client, new_key, NULL, async_cb, c),
		osc_client_rekey_finish(c->client, res, error));
	return ret;
}

/* ---- helpers ---- */

static void
assert_json_eq(JsonNode *node, const gchar *expected)
{
	g_autoptr(JsonNode) want = json_from_string(expected, NULL);

	g_assert_nonnull(node);
	g_assert_nonnull(want);
	if (!json_node_equal(node, want)) {
		g_autofree gchar *got = json_to_string(node, FALSE);
		g_error("JSON differs: got %s, expected %s", got, expected);
	}
}

static gint64
member_int(JsonNode *node, const gchar *name)
{
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_object_get_int_member(json_node_get_object(node), name);
}

static const gchar *
member_str(JsonNode *node, const gchar *name)
{
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_object_get_string_member(json_node_get_object(node), name);
}

static GPtrArray *
items_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)osc_config_entry_unref);
}

static void
item_add(GPtrArray *items, const gchar *key, const gchar *env, const gchar *json)
{
	g_autoptr(JsonNode) value = json != NULL ? json_from_string(json, NULL) : NULL;
	g_ptr_array_add(items, osc_config_entry_new(key, env, NULL, value));
}

/* ---- scenarios ---- */

static void
scenario_service(Ctx *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) info = NULL;
	g_autoptr(JsonNode) status = NULL;
	g_autoptr(JsonNode) health = NULL;

	g_assert_true(t_ping(c, &error));
	g_assert_no_error(error);
	info = t_info(c, INFO_SERVICE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(member_str(info, "service"), ==, "OpenSecureConf API");
	status = t_info(c, INFO_CLUSTER_STATUS, &error);
	g_assert_no_error(error);
	g_assert_false(json_object_get_boolean_member(json_node_get_object(status), "enabled"));
	health = t_info(c, INFO_CLUSTER_HEALTH, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(member_str(health, "status"), ==, "healthy");
}

static void
test_service(Fixture *f, gconstpointer data)
{
	run_scenario(f, scenario_service);
}

static void
scenario_crud(Ctx *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfigEntry) created = NULL;
	g_autoptr(OscConfigEntry) dup = NULL;
	g_autoptr(OscConfigEntry) shortform = NULL;
	g_autoptr(OscConfigEntry) full = NULL;
	g_autoptr(OscConfigEntry) updated = NULL;
	g_autoptr(OscConfigEntry) odd = NULL;
	g_autoptr(OscConfigEntry) odd_read = NULL;
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) prod = NULL;
	g_autoptr(GPtrArray) db = NULL;
	g_autoptr(OscConfigEntry) dflt = NULL;
	g_autoptr(OscConfigEntry) got = NULL;
	g_auto(GStrv) cats = NULL;
	g_auto(GStrv) envs = NULL;
	g_autoptr(JsonNode) stats = NULL;
	g_autofree gchar *value_text = NULL;

	created = t_create(c, "database", "production", "{\"host\":\"db\",\"port\":5432}", "db",
			   &error);
	g_assert_no_error(error);
	g_assert_cmpstr(osc_config_entry_get_key(created), ==, "database");
	g_assert_cmpstr(osc_config_entry_get_environment(created), ==, "production");
	g_assert_cmpstr(osc_config_entry_get_category(created), ==, "db");
	g_assert_cmpint(osc_config_entry_get_id(created), >, 0);
	g_assert_nonnull(osc_config_entry_get_created_at(created));
	g_assert_nonnull(osc_config_entry_get_etag(created));
	assert_json_eq(osc_config_entry_get_value(created), "{\"host\":\"db\",\"port\":5432}");
	value_text = osc_config_entry_get_value_string(created);
	g_assert_cmpstr(value_text, ==, "{\"host\":\"db\",\"port\":5432}");

	dup = t_create(c, "database", "production", "1", NULL, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_ALREADY_EXISTS);
	g_assert_null(dup);
	g_assert_nonnull(strstr(error->message, "already exists"));
	g_clear_error(&error);

	shortform = t_read(c, "database", "production", FALSE, &error);
	g_assert_no_error(error);
	g_assert_null(osc_config_entry_get_created_at(shortform));
	g_assert_cmpstr(osc_config_entry_get_etag(shortform), ==,
			osc_config_entry_get_etag(created));
	full = t_read(c, "database", "production", TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(osc_config_entry_get_created_at(full), ==,
			osc_config_entry_get_created_at(created));

	/* update with no category keeps the stored one; the ETag moves on */
	updated = t_update(c, "database", "production", "{\"host\":\"db2\"}", NULL,
			   osc_config_entry_get_etag(created), &error);
	g_assert_no_error(error);
	g_assert_cmpstr(osc_config_entry_get_category(updated), ==, "db");
	g_assert_cmpstr(osc_config_entry_get_etag(updated), !=, osc_config_entry_get_etag(created));
	assert_json_eq(osc_config_entry_get_value(updated), "{\"host\":\"db2\"}");

	/* keys with reserved and non-ASCII characters travel escaped */
	odd = t_create(c, "a/b c?d&e=f+g%h#é", "staging", "\"x\"", NULL, &error);
	g_assert_no_error(error);
	odd_read = t_read(c, "a/b c?d&e=f+g%h#é", "staging", FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(osc_config_entry_get_key(odd_read), ==, "a/b c?d&e=f+g%h#é");
	g_assert_null(osc_config_entry_get_category(odd_read));

	all = t_list(c, NULL, NULL, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(all->len, ==, 2);
	g_assert_null(osc_config_entry_get_created_at(g_ptr_array_index(all, 0)));
	prod = t_list(c, NULL, "production", TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(prod->len, ==, 1);
	g_assert_nonnull(osc_config_entry_get_updated_at(g_ptr_array_index(prod, 0)));
	db = t_list(c, "db", NULL, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(db->len, ==, 1);
	g_assert_cmpint(t_count(c, NULL, NULL, &error), ==, 2);
	g_assert_no_error(error);
	g_assert_cmpint(t_count(c, NULL, "nowhere", &error), ==, 0);
	g_assert_no_error(error);

	cats = t_distinct(c, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpstrv(cats, ((const gchar *const[]){"db", NULL}));
	envs = t_distinct(c, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstrv(envs, ((const gchar *const[]){"production", "staging", NULL}));

	g_assert_true(t_exists(c, "database", "production", &error));
	g_assert_no_error(error);
	g_assert_false(t_exists(c, "database", "staging", &error));
	g_assert_no_error(error);

	dflt = t_get_or_default(c, "missing", "production", "[1,2]", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(osc_config_entry_get_key(dflt), ==, "missing");
	g_assert_cmpint(osc_config_entry_get_id(dflt), ==, -1);
	assert_json_eq(osc_config_entry_get_value(dflt), "[1,2]");
	got = t_get_or_default(c, "database", "production", "[1,2]", &error);
	g_assert_no_error(error);
	assert_json_eq(osc_config_entry_get_value(got), "{\"host\":\"db2\"}");

	stats = t_info(c, INFO_STATS, &error);
	g_assert_no_error(error);
	g_assert_cmpint(member_int(stats, "total_keys"), ==, 2);

	g_assert_true(t_delete(c, "a/b c?d&e=f+g%h#é", "staging", NULL, &error));
	g_assert_no_error(error);
	g_assert_false(t_delete(c, "a/b c?d&e=f+g%h#é", "staging", NULL, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_null(t_read(c, "nope", "production", FALSE, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(error->message, "nope"));
}

static void
test_crud(Fixture *f, gconstpointer data)
{
	run_scenario(f, scenario_crud);
}

static void
scenario_if_match(Ctx *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfigEntry) v1 = NULL;
	g_autoptr(OscConfigEntry) v2 = NULL;
	g_autoptr(OscConfigEntry) stale = NULL;
	g_autoptr(OscConfigEntry) bare = NULL;
	g_autofree gchar *revision = NULL;
	const gchar *etag;

	v1 = t_create(c, "flag", "prod", "true", NULL, &error);
	g_assert_no_error(error);
	v2 = t_update(c, "flag", "prod", "false", NULL, osc_config_entry_get_etag(v1), &error);
	g_assert_no_error(error);

	/* a writer holding the old ETag loses */
	stale = t_update(c, "flag", "prod", "true", NULL, osc_config_entry_get_etag(v1), &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_PRECONDITION_FAILED);
	g_assert_null(stale);
	g_clear_error(&error);
	g_assert_false(t_delete(c, "flag", "prod", osc_config_entry_get_etag(v1), &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_PRECONDITION_FAILED);
	g_clear_error(&error);

	/* the revision alone, without quotes, is accepted too */
	etag = osc_config_entry_get_etag(v2);
	revision = g_strndup(etag + 1, strlen(etag) - 2);
	bare = t_update(c, "flag", "prod", "1", NULL, revision, &error);
	g_assert_no_error(error);
	g_assert_true(t_delete(c, "flag", "prod", osc_config_entry_get_etag(bare), &error));
	g_assert_no_error(error);
}

static void
test_if_match(Fixture *f, gconstpointer data)
{
	run_scenario(f, scenario_if_match);
}

static void
scenario_bulk(Ctx *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) create = items_new();
	g_autoptr(GPtrArray) created = NULL;
	g_autoptr(GPtrArray) again = NULL;
	g_autoptr(GPtrArray) read_items = items_new();
	g_autoptr(GPtrArray) read = NULL;
	g_autoptr(GPtrArray) read_strict = NULL;
	g_autoptr(GPtrArray) del = items_new();
	g_autoptr(JsonNode) deleted = NULL;
	g_autoptr(JsonNode) strict = NULL;

	item_add(create, "a", "dev", "1");
	item_add(create, "b", "dev", "{\"x\":[1,2]}");
	item_add(create, "a", "dev", "2"); /* duplicate */
	item_add(create, "c", "dev", "\"three\"");
	item_add(create, "novalue", "dev", NULL);
	created = t_bulk_create(c, create, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(created->len, ==, 3);
	g_assert_cmpstr(osc_config_entry_get_key(g_ptr_array_index(created, 2)), ==, "c");

	/* without ignore_errors the first failure ends the call */
	again = t_bulk_create(c, create, FALSE, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_ALREADY_EXISTS);
	g_assert_null(again);
	g_clear_error(&error);

	item_add(read_items, "a", "dev", NULL);
	item_add(read_items, "zz", "dev", NULL);
	item_add(read_items, "c", "dev", NULL);
	read = t_bulk_read(c, read_items, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(read->len, ==, 2);
	assert_json_eq(osc_config_entry_get_value(g_ptr_array_index(read, 1)), "\"three\"");
	read_strict = t_bulk_read(c, read_items, FALSE, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_NOT_FOUND);
	g_assert_null(read_strict);
	g_clear_error(&error);

	item_add(del, "a", "dev", NULL);
	item_add(del, "zz", "dev", NULL);
	item_add(del, "b", "dev", NULL);
	deleted = t_bulk_delete(c, del, TRUE, &error);
	g_assert_no_error(error);
	g_assert_nonnull(deleted);
	{
		JsonObject *o = json_node_get_object(deleted);
		JsonArray *ok = json_object_get_array_member(o, "deleted");
		JsonArray *failed = json_object_get_array_member(o, "failed");
		JsonObject *f0;

		g_assert_cmpuint(json_array_get_length(ok), ==, 2);
		g_assert_cmpstr(
			json_object_get_string_member(json_array_get_object_element(ok, 1), "key"),
			==, "b");
		g_assert_cmpuint(json_array_get_length(failed), ==, 1);
		f0 = json_array_get_object_element(failed, 0);
		g_assert_cmpstr(json_object_get_string_member(f0, "key"), ==, "zz");
		g_assert_cmpstr(json_object_get_string_member(f0, "environment"), ==, "dev");
		g_assert_nonnull(strstr(json_object_get_string_member(f0, "error"), "not found"));
	}
	strict = t_bulk_delete(c, del, FALSE, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_NOT_FOUND);
	g_assert_null(strict);
	g_assert_cmpint(t_count(c, NULL, NULL, NULL), ==, 1);
}

static void
test_bulk(Fixture *f, gconstpointer data)
{
	run_scenario(f, scenario_bulk);
}

static void
scenario_backup_rekey(Ctx *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfigEntry) e1 = NULL;
	g_autoptr(OscConfigEntry) e2 = NULL;
	g_autoptr(JsonNode) backup = NULL;
	g_autoptr(JsonNode) import = NULL;
	g_autoptr(JsonNode) again = NULL;
	g_autoptr(JsonNode) wrong = NULL;
	g_autoptr(JsonNode) rekey = NULL;
	g_autoptr(OscConfigEntry) old_key = NULL;
	g_autoptr(OscConfigEntry) new_key = NULL;
	g_autofree gchar *data = NULL;

	e1 = t_create(c, "one", "prod", "1", "c1", &error);
	g_assert_no_error(error);
	e2 = t_create(c, "two", "test", "[\"two\"]", NULL, &error);
	g_assert_no_error(error);

	backup = t_backup(c, "backup-password", NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(member_int(backup, "total_keys"), ==, 2);
	data = g_strdup(member_str(backup, "backup_data"));
	g_assert_true(t_delete(c, "one", "prod", NULL, NULL));
	g_assert_true(t_delete(c, "two", "test", NULL, NULL));

	wrong = t_import(c, data, "not-the-password", FALSE, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_BAD_REQUEST);
	g_assert_null(wrong);
	g_clear_error(&error);

	import = t_import(c, data, "backup-password", FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpint(member_int(import, "imported"), ==, 2);
	again = t_import(c, data, "backup-password", FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpint(member_int(again, "skipped"), ==, 2);
	g_assert_cmpint(t_count(c, NULL, NULL, NULL), ==, 2);

	rekey = t_rekey(c, KEY2, &error);
	g_assert_no_error(error);
	g_assert_cmpint(member_int(rekey, "rekeyed"), ==, 2);
	old_key = t_read(c, "one", "prod", FALSE, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_AUTHENTICATION);
	g_assert_null(old_key);
	g_clear_error(&error);
	osc_client_set_user_key(c->client, KEY2);
	new_key = t_read(c, "one", "prod", FALSE, &error);
	g_assert_no_error(error);
	assert_json_eq(osc_config_entry_get_value(new_key), "1");
}

static void
test_backup_rekey(Fixture *f, gconstpointer data)
{
	run_scenario(f, scenario_backup_rekey);
}

static void
scenario_errors(Ctx *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscClient) short_key = ctx_client_new(c, "short", NULL);
	g_autoptr(OscClient) no_key = ctx_client_new(c, NULL, NULL);
	g_autoptr(OscClient) unreachable = NULL;
	g_autoptr(JsonNode) null_value = json_node_new(JSON_NODE_NULL);
	g_autoptr(GString) big = g_string_new("\"");
	g_autoptr(OscConfigEntry) e = NULL;
	OscClient *keep = c->client;

	/* client-side checks, as the Python client's */
	e = t_create(c, "", "prod", "1", NULL, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION);
	g_assert_null(e);
	g_clear_error(&error);
	e = osc_client_create_string(c->client, "k", "prod", "{not json", NULL, NULL, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION);
	g_clear_error(&error);

	/* the server's 422: null is not an accepted value */
	e = osc_client_create(c->client, "k", "prod", null_value, NULL, NULL, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION);
	g_assert_nonnull(strstr(error->message, "value"));
	g_clear_error(&error);

	/* 413 */
	while (big->len < 100 * 1024)
		g_string_append(big, "0123456789abcdef");
	g_string_append_c(big, '"');
	e = t_create(c, "big", "prod", big->str, NULL, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_TOO_LARGE);
	g_clear_error(&error);

	/* 401: the user key is too short, or missing */
	c->client = short_key;
	g_assert_null(t_list(c, NULL, NULL, FALSE, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_AUTHENTICATION);
	g_assert_nonnull(strstr(error->message, "at least"));
	g_clear_error(&error);
	c->client = no_key;
	g_assert_cmpint(t_count(c, NULL, NULL, &error), ==, -1);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION);
	g_clear_error(&error);

	/* a 404 that is not an entry's: cluster calls wrap failures */
	c->client = keep;

	/* nothing listens there (port 1 is privileged and unused): retries, then CONNECTION */
	unreachable = g_object_new(OSC_TYPE_CLIENT, "base-url", "http://127.0.0.1:1", "user-key",
				   KEY, "max-retries", 2, "backoff-factor", 0.01, NULL);
	c->client = unreachable;
	g_assert_false(t_ping(c, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CONNECTION);
	g_clear_error(&error);
	g_assert_null(t_info(c, INFO_CLUSTER_STATUS, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CLUSTER);
	g_clear_error(&error);
	c->client = keep;

	{
		g_autoptr(OscClient) bad_url = ctx_client_new(c, KEY, NULL);
		g_object_set(bad_url, "base-url", "ftp://example", NULL);
		c->client = bad_url;
		g_assert_false(t_ping(c, &error));
		g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CONNECTION);
		g_clear_error(&error);
		c->client = keep;
	}
}

static void
test_errors(Fixture *f, gconstpointer data)
{
	run_scenario(f, scenario_errors);
}

static void
scenario_api_key(Ctx *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscClient) with_key = ctx_client_new(c, KEY, API_KEY);
	g_autoptr(OscClient) wrong_key = ctx_client_new(c, KEY, "wrong-api-key-0000000");
	g_autoptr(OscConfigEntry) e = NULL;
	g_autoptr(JsonNode) status = NULL;
	OscClient *keep = c->client;

	/* no API key: 403, reported as authentication, also by the cluster calls */
	g_assert_cmpint(t_count(c, NULL, NULL, &error), ==, -1);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_AUTHENTICATION);
	g_assert_nonnull(strstr(error->message, "Forbidden"));
	g_clear_error(&error);
	g_assert_null(t_info(c, INFO_CLUSTER_STATUS, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_AUTHENTICATION);
	g_clear_error(&error);

	c->client = wrong_key;
	e = t_create(c, "k", "prod", "1", NULL, &error);
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_AUTHENTICATION);
	g_clear_error(&error);

	c->client = with_key;
	e = t_create(c, "k", "prod", "1", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(e);
	status = t_info(c, INFO_CLUSTER_STATUS, &error);
	g_assert_no_error(error);
	c->client = keep;
}

static void
test_api_key(Fixture *f, gconstpointer data)
{
	f->config->api_key_required = TRUE;
	g_free(f->config->api_key);
	f->config->api_key = g_strdup(API_KEY);
	run_scenario(f, scenario_api_key);
}

/* a cancelled call ends with G_IO_ERROR_CANCELLED, in both modes */
static void
scenario_cancel(Ctx *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GPtrArray) list = NULL;

	g_cancellable_cancel(cancellable);
	if (c->async) {
		g_autoptr(GAsyncResult) res = NULL;
		osc_client_list_async(c->client, NULL, NULL, FALSE, cancellable, async_cb, c);
		res = await(c);
		list = osc_client_list_finish(c->client, res, &error);
	} else {
		list = osc_client_list(c->client, NULL, NULL, FALSE, cancellable, &error);
	}
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(list);
}

static void
test_cancel(Fixture *f, gconstpointer data)
{
	run_scenario(f, scenario_cancel);
}

/* the properties keep their values, and the finish functions check their source tag */
static void
test_properties(Fixture *f, gconstpointer data)
{
	g_autoptr(OscClient) client =
		g_object_new(OSC_TYPE_CLIENT, "base-url", "http://localhost:9000///", "timeout", 7,
			     "tls-verify", FALSE, "max-retries", 5, "backoff-factor", 0.5,
			     "pool-size", 3, "log-level", "DEBUG", "retry-enabled", FALSE, NULL);
	g_autofree gchar *level = NULL;
	guint pool = 0;
	gboolean verify = TRUE;

	g_assert_cmpstr(osc_client_get_base_url(client), ==, "http://localhost:9000");
	g_assert_cmpuint(osc_client_get_timeout(client), ==, 7);
	g_assert_cmpuint(osc_client_get_max_retries(client), ==, 5);
	g_assert_cmpfloat(osc_client_get_backoff_factor(client), ==, 0.5);
	g_assert_false(osc_client_get_retry_enabled(client));
	g_object_get(client, "pool-size", &pool, "tls-verify", &verify, "log-level", &level, NULL);
	g_assert_cmpuint(pool, ==, 3);
	g_assert_false(verify);
	g_assert_cmpstr(level, ==, "DEBUG");
}

/* the error domain and its enum type, as bindings see them */
static void
test_error_domain(Fixture *f, gconstpointer data)
{
	g_autoptr(GEnumClass) klass = g_type_class_ref(OSC_TYPE_CLIENT_ERROR);
	GEnumValue *v = g_enum_get_value(klass, OSC_CLIENT_ERROR_PRECONDITION_FAILED);

	g_assert_cmpstr(g_quark_to_string(OSC_CLIENT_ERROR), ==, "osc-client-error-quark");
	g_assert_nonnull(v);
	g_assert_cmpstr(v->value_nick, ==, "precondition-failed");
	g_assert_cmpuint(klass->n_values, ==, OSC_CLIENT_ERROR_VALIDATION + 1);
}

static void
test_ca_file(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscClient) client = NULL;

	fixture_start(f);
	client = g_object_new(OSC_TYPE_CLIENT, "base-url", f->base, "ca-file",
			      "/nonexistent/ca.pem", NULL);
	/* construction cannot fail: every call reports the unusable CA file */
	g_assert_false(osc_client_ping(client, NULL, &error));
	g_assert_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_CONNECTION);
	g_assert_nonnull(strstr(error->message, "CA file"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn)                                                                              \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_test_add("/osc/client/sync/" path, Fixture, GINT_TO_POINTER(FALSE),              \
			   fixture_setup, fn, fixture_teardown);                                   \
		g_test_add("/osc/client/async/" path, Fixture, GINT_TO_POINTER(TRUE),              \
			   fixture_setup, fn, fixture_teardown);                                   \
	}                                                                                          \
	G_STMT_END
	ADD("service", test_service);
	ADD("crud", test_crud);
	ADD("if-match", test_if_match);
	ADD("bulk", test_bulk);
	ADD("backup-rekey", test_backup_rekey);
	ADD("errors", test_errors);
	ADD("api-key", test_api_key);
	ADD("cancel", test_cancel);
#undef ADD
	g_test_add("/osc/client/properties", Fixture, NULL, fixture_setup, test_properties,
		   fixture_teardown);
	g_test_add("/osc/client/error-domain", Fixture, NULL, fixture_setup, test_error_domain,
		   fixture_teardown);
	g_test_add("/osc/client/ca-file", Fixture, NULL, fixture_setup, test_ca_file,
		   fixture_teardown);
	return g_test_run();
}
