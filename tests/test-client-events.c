/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "libosc-client.h"
#include "osc-service-private.h"
#include "osc-test-utils.h"

/*
 * OscEventStream against an in-process OscService on the main context: events and filters,
 * value gating, statistics, reconnection with Last-Event-ID after the server drops the
 * stream (nothing missed), reset after a server restart, give-up policies and the idle
 * watchdog. Changes are made with OscClient's async calls on the same context.
 */

#define KEY	"user-key-alpha-123"
#define API_KEY "test-api-key-0123456789"

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	gchar *base;
	OscClient *client;
	OscEventStream *stream;
	GPtrArray *events; /* OscEvent, in arrival order */
	GPtrArray *resets;
	GPtrArray *errors; /* GError */
	GAsyncResult *result;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->events = g_ptr_array_new_with_free_func(g_object_unref);
	f->resets = g_ptr_array_new_with_free_func(g_object_unref);
	f->errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
}

static void
fixture_start(Fixture *f)
{
	f->service = osc_test_service_new(f->config);
	g_free(f->base);
	f->base = osc_test_service_base_url(f->service);
	if (f->client == NULL)
		f->client = g_object_new(OSC_TYPE_CLIENT, "base-url", f->base, "user-key", KEY,
					 "api-key", f->config->api_key_required ? API_KEY : NULL,
					 "backoff-factor", 0.01, NULL);
}

static void
stop_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	osc_service_stop_finish(OSC_SERVICE(source), result, &error);
	g_assert_no_error(error);
	*(gboolean *)user_data = TRUE;
}

static void
fixture_stop_service(Fixture *f)
{
	gboolean done = FALSE;

	osc_service_stop_async(f->service, 2000, NULL, stop_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
	g_clear_object(&f->service);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	if (f->stream != NULL)
		osc_event_stream_stop(f->stream);
	g_clear_object(&f->stream);
	g_clear_object(&f->client);
	if (f->service != NULL)
		fixture_stop_service(f);
	g_clear_pointer(&f->config, osc_config_free);
	g_ptr_array_unref(f->events);
	g_ptr_array_unref(f->resets);
	g_ptr_array_unref(f->errors);
	g_free(f->base);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

static void
event_cb(OscEventStream *stream, OscEvent *event, gpointer user_data)
{
	Fixture *f = user_data;
	g_ptr_array_add(f->events, g_object_ref(event));
}

static void
reset_cb(OscEventStream *stream, OscEvent *event, gpointer user_data)
{
	Fixture *f = user_data;
	g_ptr_array_add(f->resets, g_object_ref(event));
}

static void
error_cb(OscEventStream *stream, const GError *error, gpointer user_data)
{
	Fixture *f = user_data;
	g_ptr_array_add(f->errors, g_error_copy(error));
}

static OscEventStream *stream_new(Fixture *f, const gchar *first_property,
				  ...) G_GNUC_NULL_TERMINATED;

static OscEventStream *
stream_new(Fixture *f, const gchar *first_property, ...)
{
	OscEventStream *stream = osc_event_stream_new(f->base, NULL);
	va_list args;

	g_object_set(stream, "initial-delay", 0.3, "backoff-factor", 2.0, "max-delay", 2.0, NULL);
	va_start(args, first_property);
	if (first_property != NULL)
		g_object_set_valist(G_OBJECT(stream), first_property, args);
	va_end(args);
	g_signal_connect(stream, "event", G_CALLBACK(event_cb), f);
	g_signal_connect(stream, "reset", G_CALLBACK(reset_cb), f);
	g_signal_connect(stream, "error", G_CALLBACK(error_cb), f);
	return stream;
}

typedef struct {
	Fixture *f;
	guint n;
	const gchar *type;
} Wait;

static guint
count_type(Fixture *f, const gchar *type)
{
	guint n = 0;

	for (guint i = 0; i < f->events->len; i++) {
		if (type == NULL ||
		    g_str_equal(osc_event_get_event_type(g_ptr_array_index(f->events, i)), type))
			n++;
	}
	return n;
}

static gboolean
have_events(gpointer data)
{
	Wait *w = data;
	return count_type(w->f, w->type) >= w->n;
}

static void
wait_events(Fixture *f, const gchar *type, guint n)
{
	Wait w = {f, n, type};
	osc_test_wait_until(have_events, &w, 10000);
}

static gboolean
not_running(gpointer data)
{
	return !osc_event_stream_get_running(data);
}

static void
async_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Fixture *f = user_data;
	f->result = g_object_ref(result);
}

static GAsyncResult *
await(Fixture *f)
{
	while (f->result == NULL)
		g_main_context_iteration(NULL, TRUE);
	return g_steal_pointer(&f->result);
}

static void
do_create(Fixture *f, const gchar *key, const gchar *env, const gchar *json, const gchar *cat)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) value = json_from_string(json, NULL);
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(OscConfigEntry) entry = NULL;

	osc_client_create_async(f->client, key, env, value, cat, NULL, async_cb, f);
	res = await(f);
	entry = osc_client_create_finish(f->client, res, &error);
	g_assert_no_error(error);
}

static void
do_update(Fixture *f, const gchar *key, const gchar *env, const gchar *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) value = json_from_string(json, NULL);
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(OscConfigEntry) entry = NULL;

	osc_client_update_async(f->client, key, env, value, NULL, NULL, NULL, async_cb, f);
	res = await(f);
	entry = osc_client_update_finish(f->client, res, &error);
	g_assert_no_error(error);
}

static void
do_delete(Fixture *f, const gchar *key, const gchar *env)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) res = NULL;

	osc_client_delete_async(f->client, key, env, NULL, NULL, async_cb, f);
	res = await(f);
	g_assert_true(osc_client_delete_finish(f->client, res, &error));
	g_assert_no_error(error);
}

static OscEvent *
event_at(Fixture *f, guint i)
{
	g_assert_cmpuint(i, <, f->events->len);
	return g_ptr_array_index(f->events, i);
}

static void
assert_value(OscEvent *event, const gchar *json)
{
	g_autofree gchar *text = osc_event_get_value_string(event);
	g_assert_cmpstr(text, ==, json);
}

static void
notify_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	(*(guint *)user_data)++;
}

/* every event type with its members, the value with a matching user key, and statistics */
static void
test_events(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) stats = NULL;
	JsonObject *obj;
	JsonObject *by_type;
	guint connected_notifies = 0;

	fixture_start(f);
	f->stream = stream_new(f, "user-key", KEY, NULL);
	g_signal_connect(f->stream, "notify::connected", G_CALLBACK(notify_cb),
			 &connected_notifies);
	osc_event_stream_start(f->stream);
	g_assert_true(osc_event_stream_get_running(f->stream));
	wait_events(f, "connected", 1);
	g_assert_true(osc_event_stream_get_connected(f->stream));
	g_assert_cmpuint(connected_notifies, ==, 1);
	g_assert_nonnull(osc_event_stream_get_subscription_id(f->stream));
	g_assert_cmpstr(osc_event_stream_get_subscription_id(f->stream), ==,
			osc_event_get_subscription_id(event_at(f, 0)));
	g_assert_nonnull(osc_event_stream_get_last_event_id(f->stream));

	do_create(f, "database", "production", "{\"host\":\"db\"}", "db");
	do_update(f, "database", "production", "{\"host\":\"db2\"}");
	do_delete(f, "database", "production");
	wait_events(f, NULL, 4);

	g_assert_cmpstr(osc_event_get_event_type(event_at(f, 1)), ==, "created");
	g_assert_cmpstr(osc_event_get_key(event_at(f, 1)), ==, "database");
	g_assert_cmpstr(osc_event_get_environment(event_at(f, 1)), ==, "production");
	g_assert_cmpstr(osc_event_get_category(event_at(f, 1)), ==, "db");
	g_assert_nonnull(osc_event_get_timestamp(event_at(f, 1)));
	g_assert_nonnull(osc_event_get_node_id(event_at(f, 1)));
	assert_value(event_at(f, 1), "{\"host\":\"db\"}");
	g_assert_cmpstr(osc_event_get_event_type(event_at(f, 2)), ==, "updated");
	assert_value(event_at(f, 2), "{\"host\":\"db2\"}");
	g_assert_cmpstr(osc_event_get_event_type(event_at(f, 3)), ==, "deleted");
	g_assert_null(osc_event_get_data(event_at(f, 3)));
	g_assert_null(osc_event_get_value(event_at(f, 3)));
	/* ids increase, and the stream remembers the last */
	g_assert_cmpuint(g_ascii_strtoull(osc_event_get_id(event_at(f, 2)), NULL, 10), >,
			 g_ascii_strtoull(osc_event_get_id(event_at(f, 1)), NULL, 10));
	g_assert_cmpstr(osc_event_stream_get_last_event_id(f->stream), ==,
			osc_event_get_id(event_at(f, 3)));

	g_assert_cmpuint(osc_event_stream_get_events_received(f->stream), ==, 4);
	g_assert_cmpuint(osc_event_stream_get_event_count(f->stream, "created"), ==, 1);
	g_assert_cmpuint(osc_event_stream_get_event_count(f->stream, "deleted"), ==, 1);
	g_assert_cmpuint(osc_event_stream_get_event_count(f->stream, "sync"), ==, 0);
	g_assert_cmpuint(osc_event_stream_get_reconnections(f->stream), ==, 0);
	g_assert_cmpuint(osc_event_stream_get_errors(f->stream), ==, 0);
	g_assert_cmpfloat(osc_event_stream_get_uptime(f->stream), >, 0);
	stats = osc_event_stream_get_statistics(f->stream);
	obj = json_node_get_object(stats);
	g_assert_cmpint(json_object_get_int_member(obj, "events_received"), ==, 4);
	by_type = json_object_get_object_member(obj, "events_by_type");
	g_assert_cmpint(json_object_get_int_member(by_type, "connected"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(by_type, "updated"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(by_type, "sync"), ==, 0);
	g_assert_true(json_object_get_boolean_member(obj, "connected"));
	g_assert_nonnull(json_object_get_string_member(obj, "connected_at"));

	osc_event_stream_stop(f->stream);
	g_assert_false(osc_event_stream_get_running(f->stream));
	g_assert_false(osc_event_stream_get_connected(f->stream));
	g_assert_cmpfloat(osc_event_stream_get_uptime(f->stream), ==, 0);
	/* nothing arrives after stop */
	do_create(f, "after", "production", "1", NULL);
	for (guint i = 0; i < 20; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(f->events->len, ==, 4);
}

/* without a user key, events come without values (D-4) */
static void
test_value_gating(Fixture *f, gconstpointer data)
{
	fixture_start(f);
	f->stream = stream_new(f, NULL, NULL);
	osc_event_stream_start(f->stream);
	wait_events(f, "connected", 1);
	do_create(f, "secret", "prod", "\"s3cr3t\"", NULL);
	wait_events(f, "created", 1);
	g_assert_null(osc_event_get_data(event_at(f, 1)));
	g_assert_null(osc_event_get_value_string(event_at(f, 1)));
}

static void
count_event_cb(OscEventStream *stream, OscEvent *event, gpointer user_data)
{
	g_assert_cmpstr(osc_event_get_event_type(event), ==, "deleted");
	(*(guint *)user_data)++;
}

static void
test_filters(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) cat_events = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(OscEventStream) by_cat = NULL;
	guint deleted_details = 0;

	fixture_start(f);
	f->stream = stream_new(f, "environment", "prod", "key", "wanted", NULL);
	g_signal_connect(f->stream, "event::deleted", G_CALLBACK(count_event_cb), &deleted_details);
	osc_event_stream_start(f->stream);
	by_cat = stream_new(f, "category", "db", NULL);
	osc_event_stream_start(by_cat);
	wait_events(f, "connected", 2);

	do_create(f, "wanted", "staging", "1", "db");
	do_create(f, "other", "prod", "2", "db");
	do_create(f, "wanted", "prod", "3", NULL);
	do_delete(f, "wanted", "prod");
	do_delete(f, "other", "prod");
	/* by_cat: the two creates in category db and the delete of "other" (D-4: the row's
	 * stored category); the first stream: create and delete of wanted/prod */
	wait_events(f, NULL, 2 + 2 + 3);
	for (guint i = 0; i < f->events->len; i++) {
		OscEvent *e = event_at(f, i);
		if (g_str_equal(osc_event_get_event_type(e), "connected"))
			continue;
		if (g_strcmp0(osc_event_get_category(e), "db") == 0)
			continue; /* by_cat's */
		g_assert_cmpstr(osc_event_get_key(e), ==, "wanted");
		g_assert_cmpstr(osc_event_get_environment(e), ==, "prod");
	}
	g_assert_cmpuint(count_type(f, "created"), ==, 3);
	g_assert_cmpuint(count_type(f, "deleted"), ==, 2);
	g_assert_cmpuint(deleted_details, ==, 1);
	osc_event_stream_stop(by_cat);
}

static gboolean
is_connected(gpointer data)
{
	return osc_event_stream_get_connected(data);
}

/*
 * The server drops the stream; changes made while we are away come as the replay after the
 * reconnection (Last-Event-ID), in order, none missing, no reset.
 */
static void
test_reconnect_resumes(Fixture *f, gconstpointer data)
{
	OscSseHub *hub;
	g_autofree gchar *id_before = NULL;

	fixture_start(f);
	f->stream = stream_new(f, "user-key", KEY, "initial-delay", 0.5, NULL);
	osc_event_stream_start(f->stream);
	wait_events(f, "connected", 1);
	do_create(f, "k1", "prod", "1", NULL);
	wait_events(f, "created", 1);
	id_before = g_strdup(osc_event_stream_get_last_event_id(f->stream));

	hub = osc_service_get_sse_hub(f->service);
	osc_sse_hub_close_all(hub);
	/* the stream notices the end, then waits 0.5 s: change things meanwhile */
	while (osc_event_stream_get_connected(f->stream))
		g_main_context_iteration(NULL, TRUE);
	do_create(f, "k2", "prod", "2", NULL);
	do_update(f, "k1", "prod", "11");
	do_delete(f, "k2", "prod");
	g_assert_cmpuint(count_type(f, "created"), ==, 1);

	wait_events(f, "connected", 2);
	wait_events(f, "deleted", 1);
	g_assert_cmpuint(f->resets->len, ==, 0);
	g_assert_cmpuint(osc_event_stream_get_reconnections(f->stream), ==, 1);
	g_assert_cmpuint(count_type(f, "created"), ==, 2);
	g_assert_cmpuint(count_type(f, "updated"), ==, 1);
	/* order: connected, created k1, connected, created k2, updated k1, deleted k2 */
	g_assert_cmpuint(f->events->len, ==, 6);
	g_assert_cmpstr(osc_event_get_event_type(event_at(f, 2)), ==, "connected");
	g_assert_cmpstr(osc_event_get_key(event_at(f, 3)), ==, "k2");
	assert_value(event_at(f, 3), "2");
	g_assert_cmpstr(osc_event_get_event_type(event_at(f, 4)), ==, "updated");
	assert_value(event_at(f, 4), "11");
	g_assert_cmpstr(osc_event_get_event_type(event_at(f, 5)), ==, "deleted");
	g_assert_cmpuint(g_ascii_strtoull(osc_event_get_id(event_at(f, 3)), NULL, 10), ==,
			 g_ascii_strtoull(id_before, NULL, 10) + 1);
	g_assert_cmpstr(osc_event_stream_get_last_event_id(f->stream), ==,
			osc_event_get_id(event_at(f, 5)));

	/* and live events keep coming on the new connection */
	do_create(f, "k3", "prod", "3", NULL);
	wait_events(f, "created", 3);
	g_assert_cmpuint(osc_event_stream_get_errors(f->stream), ==, 0);
}

/* a restarted server cannot replay across its restart: it says `reset` */
static void
test_restart_resets(Fixture *f, gconstpointer data)
{
	guint port;

	fixture_start(f);
	f->stream = stream_new(f, "initial-delay", 0.2, NULL);
	osc_event_stream_start(f->stream);
	wait_events(f, "connected", 1);
	do_create(f, "k1", "prod", "1", NULL);
	wait_events(f, "created", 1);

	port = osc_service_get_port(f->service);
	fixture_stop_service(f);
	f->config->port = port;
	/* while the server is down, attempts fail and back off */
	while (osc_event_stream_get_connected(f->stream))
		g_main_context_iteration(NULL, TRUE);
	fixture_start(f);
	osc_test_wait_until(is_connected, f->stream, 10000);
	wait_events(f, "connected", 2);
	while (f->resets->len == 0)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(f->resets->len, ==, 1);
	g_assert_cmpstr(osc_event_get_event_type(g_ptr_array_index(f->resets, 0)), ==, "reset");
	g_assert_cmpuint(osc_event_stream_get_event_count(f->stream, "reset"), ==, 1);
	g_assert_cmpuint(osc_event_stream_get_reconnections(f->stream), >=, 1);
	/* the data survived the restart; new events flow */
	do_update(f, "k1", "prod", "2");
	wait_events(f, "updated", 1);
}

/* with nobody listening, the stream gives up after max-attempts */
static void
test_max_attempts(Fixture *f, gconstpointer data)
{
	fixture_start(f);
	fixture_stop_service(f);
	f->stream = stream_new(f, "initial-delay", 0.05, "max-attempts", 2, NULL);
	osc_event_stream_start(f->stream);
	osc_test_wait_until(not_running, f->stream, 10000);
	g_assert_cmpuint(osc_event_stream_get_reconnections(f->stream), ==, 2);
	/* three connection failures, then the give-up */
	g_assert_cmpuint(f->errors->len, ==, 4);
	g_assert_error((GError *)g_ptr_array_index(f->errors, 0), OSC_CLIENT_ERROR,
		       OSC_CLIENT_ERROR_CONNECTION);
	g_assert_error((GError *)g_ptr_array_index(f->errors, 3), OSC_CLIENT_ERROR,
		       OSC_CLIENT_ERROR_SSE);
	g_assert_cmpuint(osc_event_stream_get_errors(f->stream), ==, 4);
}

/* a wrong API key is not worth retrying */
static void
test_forbidden(Fixture *f, gconstpointer data)
{
	f->config->api_key_required = TRUE;
	g_free(f->config->api_key);
	f->config->api_key = g_strdup(API_KEY);
	fixture_start(f);
	f->stream = stream_new(f, "api-key", "wrong-api-key-000000000", NULL);
	osc_event_stream_start(f->stream);
	osc_test_wait_until(not_running, f->stream, 10000);
	g_assert_cmpuint(f->errors->len, ==, 1);
	g_assert_error((GError *)g_ptr_array_index(f->errors, 0), OSC_CLIENT_ERROR,
		       OSC_CLIENT_ERROR_AUTHENTICATION);
	g_assert_cmpuint(osc_event_stream_get_reconnections(f->stream), ==, 0);

	/* the right one works */
	g_ptr_array_set_size(f->errors, 0);
	g_object_set(f->stream, "api-key", API_KEY, NULL);
	osc_event_stream_start(f->stream);
	wait_events(f, "connected", 1);
	g_assert_cmpuint(f->errors->len, ==, 0);
}

static gboolean
have_keepalives(gpointer data)
{
	return osc_event_stream_get_keepalives_received(data) >= 2;
}

static void
test_keepalives(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) stats = NULL;

	f->config->sse_keepalive_interval = 1;
	fixture_start(f);
	f->stream = stream_new(f, NULL, NULL);
	osc_event_stream_start(f->stream);
	osc_test_wait_until(have_keepalives, f->stream, 10000);
	stats = osc_event_stream_get_statistics(f->stream);
	g_assert_cmpint(
		json_object_get_int_member(json_node_get_object(stats), "keepalives_received"), >=,
		2);
	/* keep-alives are not events */
	g_assert_cmpuint(osc_event_stream_get_events_received(f->stream), ==, 1);
}

/* silence longer than idle-timeout means a dead peer: the stream reconnects */
static void
test_idle_watchdog(Fixture *f, gconstpointer data)
{
	f->config->sse_keepalive_interval = 60;
	fixture_start(f);
	f->stream = stream_new(f, "idle-timeout", 1, "initial-delay", 0.1, NULL);
	osc_event_stream_start(f->stream);
	wait_events(f, "connected", 2);
	g_assert_cmpuint(osc_event_stream_get_reconnections(f->stream), >=, 1);
	g_assert_cmpuint(f->errors->len, >=, 1);
	g_assert_error((GError *)g_ptr_array_index(f->errors, 0), OSC_CLIENT_ERROR,
		       OSC_CLIENT_ERROR_TIMEOUT);
	g_assert_cmpuint(f->resets->len, ==, 0);
}

static void
rekey_in_handler_cb(OscEventStream *stream, OscEvent *event, gpointer user_data)
{
	g_object_set(stream, "user-key", (const gchar *)user_data, NULL);
}

/*
 * Another user key (after a re-key) or filter while running: the stream subscribes again
 * with it at once, without counting a reconnection and without missing anything, so the
 * values follow the new key. Also when a handler of the stream makes the change.
 */
static void
test_resubscribe(Fixture *f, gconstpointer data)
{
	g_autofree gchar *first_sub = NULL;
	gulong handler;

	fixture_start(f);
	f->stream = stream_new(f, "user-key", KEY, NULL);
	osc_event_stream_start(f->stream);
	wait_events(f, "connected", 1);
	first_sub = g_strdup(osc_event_stream_get_subscription_id(f->stream));
	do_create(f, "db", "prod", "1", NULL);
	wait_events(f, "created", 1);
	assert_value(event_at(f, 1), "1");

	/* the same key again changes nothing */
	g_object_set(f->stream, "user-key", KEY, NULL);
	/* a key that does not open the entry: a new subscription, the events without value */
	g_object_set(f->stream, "user-key", "user-key-other-456", NULL);
	g_assert_true(osc_event_stream_get_running(f->stream));
	wait_events(f, "connected", 2);
	g_assert_cmpstr(osc_event_stream_get_subscription_id(f->stream), !=, first_sub);
	do_update(f, "db", "prod", "2");
	wait_events(f, "updated", 1);
	g_assert_cmpstr(osc_event_get_event_type(event_at(f, 3)), ==, "updated");
	g_assert_null(osc_event_get_value_string(event_at(f, 3)));

	/* back to the key, from inside an event handler: the values come again */
	handler = g_signal_connect(f->stream, "event::updated", G_CALLBACK(rekey_in_handler_cb),
				   (gpointer)KEY);
	do_update(f, "db", "prod", "3");
	wait_events(f, "connected", 3);
	g_signal_handler_disconnect(f->stream, handler);
	do_update(f, "db", "prod", "4");
	wait_events(f, "updated", 3);
	g_assert_cmpstr(osc_event_get_event_type(event_at(f, 6)), ==, "updated");
	assert_value(event_at(f, 6), "4");

	/* a filter too: only prod from now on */
	g_object_set(f->stream, "environment", "prod", NULL);
	wait_events(f, "connected", 4);
	do_create(f, "db", "staging", "5", NULL);
	do_update(f, "db", "prod", "6");
	wait_events(f, "updated", 4);
	g_assert_cmpuint(count_type(f, "created"), ==, 1);
	assert_value(event_at(f, f->events->len - 1), "6");

	/* nothing missed, nothing replayed twice, and none of it was a failure */
	g_assert_cmpuint(f->events->len, ==, 9);
	g_assert_cmpuint(f->resets->len, ==, 0);
	g_assert_cmpuint(f->errors->len, ==, 0);
	g_assert_cmpuint(osc_event_stream_get_reconnections(f->stream), ==, 0);

	/* stopped, a new key only waits for the next start */
	osc_event_stream_stop(f->stream);
	g_object_set(f->stream, "user-key", "user-key-other-456", NULL);
	for (guint i = 0; i < 20; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_false(osc_event_stream_get_running(f->stream));
	g_assert_cmpuint(count_type(f, "connected"), ==, 4);
}

/* a stream started with a remembered id gets what happened since */
static void
test_resume_from_id(Fixture *f, gconstpointer data)
{
	g_autofree gchar *last = NULL;

	fixture_start(f);
	f->stream = stream_new(f, NULL, NULL);
	osc_event_stream_start(f->stream);
	wait_events(f, "connected", 1);
	do_create(f, "a", "prod", "1", NULL);
	wait_events(f, "created", 1);
	last = g_strdup(osc_event_stream_get_last_event_id(f->stream));
	osc_event_stream_stop(f->stream);
	g_clear_object(&f->stream);

	do_create(f, "b", "prod", "2", NULL);
	g_ptr_array_set_size(f->events, 0);
	f->stream = stream_new(f, "last-event-id", last, NULL);
	osc_event_stream_start(f->stream);
	wait_events(f, "created", 1);
	g_assert_cmpstr(osc_event_get_key(event_at(f, 1)), ==, "b");
	g_assert_cmpuint(f->resets->len, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/osc/client/events/basic", test_events);
	ADD("/osc/client/events/value-gating", test_value_gating);
	ADD("/osc/client/events/filters", test_filters);
	ADD("/osc/client/events/reconnect-resumes", test_reconnect_resumes);
	ADD("/osc/client/events/restart-resets", test_restart_resets);
	ADD("/osc/client/events/max-attempts", test_max_attempts);
	ADD("/osc/client/events/forbidden", test_forbidden);
	ADD("/osc/client/events/keepalives", test_keepalives);
	ADD("/osc/client/events/idle-watchdog", test_idle_watchdog);
	ADD("/osc/client/events/resume-from-id", test_resume_from_id);
	ADD("/osc/client/events/resubscribe", test_resubscribe);
#undef ADD
	return g_test_run();
}
