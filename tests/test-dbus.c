/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * oscd's D-Bus interface, org.opensecureconf.Server1: the real daemon (OSCD_PATH) runs
 * with --bus=session on a private bus (GTestDBus) and tells readiness through a
 * NOTIFY_SOCKET this test listens on. Introspection, every property, every method, the
 * errors of the OscError domain and ConfigChanged after a write through the HTTP API.
 */

#include "config.h"

#include <gio/gunixfdlist.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osc-backup.h"
#include "osc-daemon.h"
#include "osc-dbus-generated.h"
#include "osc-error.h"
#include "osc-test-utils.h"

#define BUS_NAME    "org.opensecureconf.Server1"
#define OBJECT_PATH "/org/opensecureconf/Server1"
#define USER_KEY    "dbus-test-user-key"
#define PASSWORD    "backup-password"
#define WAIT_MS	    10000

typedef struct {
	GTestDBus *bus;
	GDBusConnection *conn;
	gchar *tmpdir;
	gchar *config_path;
	GSocket *notify;
	GSubprocess *proc;
	OscDBusServer1 *proxy;
	SoupSession *http;
	gchar *base_url;
	GPtrArray *changes; /* "key|environment|category|kind" */
} Fixture;

/* an oscd left behind by a failed assertion must not keep meson waiting on the pipes */
static void
child_setup_cb(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* ---- NOTIFY_SOCKET: an abstract datagram socket, as systemd passes "@name" ---- */

static gchar *
notify_receive(Fixture *fx, guint timeout_ms)
{
	gchar buf[4096];
	gssize n;
	g_autoptr(GError) error = NULL;

	g_socket_set_timeout(fx->notify, (timeout_ms + 999) / 1000);
	n = g_socket_receive(fx->notify, buf, sizeof(buf) - 1, NULL, &error);
	if (n < 0) {
		g_test_message("NOTIFY_SOCKET: %s", error->message);
		return NULL;
	}
	buf[n] = '\0';
	return g_strdup(buf);
}

static void
config_write(Fixture *fx, guint versions_kept, guint port)
{
	g_autofree gchar *text = g_strdup_printf("[oscd]\n"
						 "host = 127.0.0.1\n"
						 "host_port = %u\n"
						 "versions_kept = %u\n",
						 port, versions_kept);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(fx->config_path, text, -1, &error);
	g_assert_no_error(error);
}

static void
changed_cb(OscDBusServer1 *proxy, const gchar *key, const gchar *environment, const gchar *category,
	   const gchar *kind, gpointer user_data)
{
	Fixture *fx = user_data;

	g_ptr_array_add(fx->changes, g_strjoin("|", key, environment, category, kind, NULL));
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSocketAddress) addr = NULL;
	g_autofree gchar *notify_name = NULL;
	g_autofree gchar *notify_env = NULL;
	g_autofree gchar *db = NULL;
	g_autofree gchar *salt = NULL;
	g_autofree gchar *out_path = NULL;
	g_autofree gchar *err_path = NULL;
	g_autofree gchar *ready = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *url;

	if (g_getenv("OSCD_PATH") == NULL) {
		g_test_skip("OSCD_PATH is not set (run through meson test)");
		return;
	}
	fx->tmpdir = osc_test_make_tmpdir();
	fx->config_path = g_build_filename(fx->tmpdir, "oscd.conf", NULL);
	fx->changes = g_ptr_array_new_with_free_func(g_free);
	config_write(fx, 10, 0);

	fx->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(fx->bus);
	fx->conn = g_dbus_connection_new_for_address_sync(
		g_test_dbus_get_bus_address(fx->bus),
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);

	notify_name = g_strdup_printf("osc-test-dbus-%d-%p", getpid(), (void *)fx);
	fx->notify = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
				  G_SOCKET_PROTOCOL_DEFAULT, &error);
	g_assert_no_error(error);
	addr = g_unix_socket_address_new_with_type(notify_name, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
	g_socket_bind(fx->notify, addr, TRUE, &error);
	g_assert_no_error(error);
	notify_env = g_strconcat("@", notify_name, NULL);

	db = g_build_filename(fx->tmpdir, "configurations.db", NULL);
	salt = g_build_filename(fx->tmpdir, "encryption.salt", NULL);
	out_path = g_build_filename(fx->tmpdir, "oscd.log", NULL);
	err_path = g_build_filename(fx->tmpdir, "oscd.err", NULL);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS",
				     g_test_dbus_get_bus_address(fx->bus), TRUE);
	g_subprocess_launcher_setenv(launcher, "NOTIFY_SOCKET", notify_env, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_DATABASE_PATH", db, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_SALT_FILE_PATH", salt, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_LOG_FORMAT", "console", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_WORKERS", "2", TRUE);
	/* an import of two entries is already a bulk change (see test_import_reset) */
	g_subprocess_launcher_setenv(launcher, "OSC_SSE_QUEUE_SIZE", "1", TRUE);
	g_subprocess_launcher_unsetenv(launcher, "OSC_HOST");
	g_subprocess_launcher_unsetenv(launcher, "OSC_HOST_PORT");
	g_subprocess_launcher_unsetenv(launcher, "OSC_VERSIONS_KEPT");
	g_subprocess_launcher_set_stdout_file_path(launcher, out_path);
	g_subprocess_launcher_set_stderr_file_path(launcher, err_path);
	g_subprocess_launcher_set_child_setup(launcher, child_setup_cb, NULL, NULL);
	fx->proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("OSCD_PATH"), "--quiet",
					       "--bus=session", "--config", fx->config_path, NULL);
	g_assert_no_error(error);

	/* READY=1 comes once oscd listens and owns its name */
	ready = notify_receive(fx, WAIT_MS);
	g_assert_nonnull(ready);
	g_test_message("NOTIFY_SOCKET got: %s", ready);
	g_assert_true(g_str_has_prefix(ready, "READY=1\n"));
	g_assert_nonnull(strstr(ready, "STATUS=Serving 0 entries on http://127.0.0.1:"));
	g_assert_nonnull(strstr(ready, "D-Bus org.opensecureconf.Server1"));

	fx->proxy = osc_dbus_server1_proxy_new_sync(fx->conn, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME,
						    OBJECT_PATH, NULL, &error);
	g_assert_no_error(error);
	/* Backup runs PBKDF2 with the format's 480,000 iterations: ~20 s under AddressSanitizer */
	g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(fx->proxy), 180 * 1000);
	g_signal_connect(fx->proxy, "config-changed", G_CALLBACK(changed_cb), fx);
	url = osc_dbus_server1_get_listen_url(fx->proxy);
	g_assert_nonnull(url);
	g_assert_true(g_str_has_prefix(url, "http://127.0.0.1:"));
	fx->base_url = g_strndup(url, strlen(url) - 1); /* no trailing slash */
	fx->http = osc_test_session_new();
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	if (fx->tmpdir == NULL)
		return;
	/* still running (a test failed half-way): no identifier once it was reaped */
	if (fx->proc != NULL && g_subprocess_get_identifier(fx->proc) != NULL) {
		g_subprocess_force_exit(fx->proc);
		g_subprocess_wait(fx->proc, NULL, NULL);
	}
	g_clear_object(&fx->proc);
	g_clear_object(&fx->proxy);
	g_clear_object(&fx->http);
	if (fx->conn != NULL)
		g_dbus_connection_close_sync(fx->conn, NULL, NULL);
	g_clear_object(&fx->conn);
	g_test_dbus_down(fx->bus);
	g_clear_object(&fx->bus);
	g_clear_object(&fx->notify);
	osc_test_rm_rf(fx->tmpdir);
	g_free(fx->tmpdir);
	g_free(fx->config_path);
	g_free(fx->base_url);
	g_clear_pointer(&fx->changes, g_ptr_array_unref);
}

static OscTestResponse *
http(Fixture *fx, const gchar *method, const gchar *path, const gchar *body)
{
	g_autofree gchar *url = g_strconcat(fx->base_url, path, NULL);

	return osc_test_http(fx->http, method, url, body, "X-User-Key", USER_KEY, NULL);
}

static void
create_entry(Fixture *fx, const gchar *key, const gchar *environment, const gchar *category)
{
	g_autofree gchar *body = NULL;
	g_autoptr(OscTestResponse) resp = NULL;

	if (category != NULL)
		body = g_strdup_printf("{\"key\":\"%s\",\"environment\":\"%s\",\"category\":\"%s\","
				       "\"value\":{\"secret\":\"%s-value\"}}",
				       key, environment, category, key);
	else
		body = g_strdup_printf("{\"key\":\"%s\",\"environment\":\"%s\","
				       "\"value\":\"%s-value\"}",
				       key, environment, key);
	resp = http(fx, "POST", "/configs", body);
	g_assert_cmpuint(resp->status, ==, 201);
}

typedef struct {
	Fixture *fx;
	guint n_changes;
	gint64 entries;
} WaitChanges;

static gboolean
changes_arrived(gpointer data)
{
	WaitChanges *w = data;

	return w->fx->changes->len >= w->n_changes &&
	       osc_dbus_server1_get_entries(w->fx->proxy) == w->entries;
}

/* waits for @n ConfigChanged signals in all and the Entries property to read @entries */
static void
wait_changes(Fixture *fx, guint n, gint64 entries)
{
	WaitChanges w = {fx, n, entries};

	osc_test_wait_until(changes_arrived, &w, WAIT_MS);
	g_assert_cmpuint(fx->changes->len, ==, n);
	g_assert_cmpint(osc_dbus_server1_get_entries(fx->proxy), ==, entries);
}

static GVariant *
lookup(GVariant *dict, const gchar *name, const GVariantType *type)
{
	GVariant *v = g_variant_lookup_value(dict, name, type);

	if (v == NULL)
		g_error("no member %s of type %.*s", name,
			(int)g_variant_type_get_string_length(type),
			g_variant_type_peek_string(type));
	return v;
}

/* ---- tests ---- */

static void
test_introspect(Fixture *fx, gconstpointer data)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GDBusNodeInfo) node = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *xml = NULL;
	GDBusInterfaceInfo *got, *want = osc_dbus_server1_interface_info();

	if (fx->tmpdir == NULL)
		return;
	reply = g_dbus_connection_call_sync(fx->conn, BUS_NAME, OBJECT_PATH,
					    "org.freedesktop.DBus.Introspectable", "Introspect",
					    NULL, G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE,
					    WAIT_MS, NULL, &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(&s)", &xml);
	node = g_dbus_node_info_new_for_xml(xml, &error);
	g_assert_no_error(error);
	got = g_dbus_node_info_lookup_interface(node, BUS_NAME);
	g_assert_nonnull(got);
	for (guint i = 0; want->methods[i] != NULL; i++) {
		GDBusMethodInfo *m =
			g_dbus_interface_info_lookup_method(got, want->methods[i]->name);
		g_assert_nonnull(m);
		for (guint j = 0;
		     want->methods[i]->in_args != NULL && want->methods[i]->in_args[j] != NULL; j++)
			g_assert_cmpstr(m->in_args[j]->signature, ==,
					want->methods[i]->in_args[j]->signature);
	}
	for (guint i = 0; want->properties[i] != NULL; i++) {
		GDBusPropertyInfo *p =
			g_dbus_interface_info_lookup_property(got, want->properties[i]->name);
		g_assert_nonnull(p);
		g_assert_cmpstr(p->signature, ==, want->properties[i]->signature);
		g_assert_cmpint(p->flags, ==, G_DBUS_PROPERTY_INFO_FLAGS_READABLE);
	}
	g_assert_nonnull(g_dbus_interface_info_lookup_signal(got, "ConfigChanged"));
	/* nothing the generated code does not know: the XML is the one source */
	g_assert_cmpuint(g_strv_length((gchar **)got->methods), ==, 6);
	g_assert_cmpuint(g_strv_length((gchar **)got->properties), ==, 8);
}

static void
test_properties(Fixture *fx, gconstpointer data)
{
	g_autoptr(GVariant) all = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *names[] = {"Version",	"NodeId",     "ListenUrl", "ClusterEnabled",
				"HealthyNodes", "TotalNodes", "Entries",   "ActiveSubscriptions"};

	if (fx->tmpdir == NULL)
		return;
	/* uncached, straight from the daemon */
	all = g_dbus_connection_call_sync(fx->conn, BUS_NAME, OBJECT_PATH,
					  "org.freedesktop.DBus.Properties", "GetAll",
					  g_variant_new("(s)", BUS_NAME), G_VARIANT_TYPE("(a{sv})"),
					  G_DBUS_CALL_FLAGS_NONE, WAIT_MS, NULL, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(GVariant) dict = g_variant_get_child_value(all, 0);
		g_autoptr(GVariant) v = g_variant_lookup_value(dict, names[i], NULL);
		g_assert_nonnull(v);
	}
	g_assert_cmpstr(osc_dbus_server1_get_version(fx->proxy), ==, PACKAGE_VERSION);
	/* no OSC_CLUSTER_NODE_ID: node-<configured port>, 0 here */
	g_assert_cmpstr(osc_dbus_server1_get_node_id(fx->proxy), ==, "node-0");
	g_assert_false(osc_dbus_server1_get_cluster_enabled(fx->proxy));
	g_assert_cmpuint(osc_dbus_server1_get_healthy_nodes(fx->proxy), ==, 0);
	g_assert_cmpuint(osc_dbus_server1_get_total_nodes(fx->proxy), ==, 0);
	g_assert_cmpint(osc_dbus_server1_get_entries(fx->proxy), ==, 0);
	g_assert_cmpuint(osc_dbus_server1_get_active_subscriptions(fx->proxy), ==, 0);
	{
		g_autoptr(OscTestResponse) resp = http(fx, "GET", "/health", NULL);
		g_assert_cmpuint(resp->status, ==, 200);
	}
}

typedef struct {
	Fixture *fx;
	guint want;
} WaitActive;

static gboolean
active_is(gpointer data)
{
	WaitActive *w = data;

	return osc_dbus_server1_get_active_subscriptions(w->fx->proxy) == w->want;
}

static void
sse_sent_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GInputStream **stream = user_data;

	*stream = soup_session_send_finish(SOUP_SESSION(source), result, NULL);
}

static gboolean
stream_open(gpointer data)
{
	return *(GInputStream **)data != NULL;
}

/* ActiveSubscriptions follows SSE streams opening and closing */
static void
test_active_subscriptions(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *url = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	GInputStream *stream = NULL;
	WaitActive w = {fx, 1};

	if (fx->tmpdir == NULL)
		return;
	url = g_strconcat(fx->base_url, "/sse/subscribe", NULL);
	msg = soup_message_new("GET", url);
	soup_session_send_async(fx->http, msg, G_PRIORITY_DEFAULT, cancellable, sse_sent_cb,
				&stream);
	osc_test_wait_until(stream_open, &stream, WAIT_MS);
	g_assert_nonnull(stream);
	osc_test_wait_until(active_is, &w, WAIT_MS);
	g_assert_cmpuint(osc_dbus_server1_get_active_subscriptions(fx->proxy), ==, 1);

	g_input_stream_close(stream, NULL, NULL);
	g_object_unref(stream);
	soup_session_abort(fx->http);
	w.want = 0;
	osc_test_wait_until(active_is, &w, WAIT_MS);
	g_assert_cmpuint(osc_dbus_server1_get_active_subscriptions(fx->proxy), ==, 0);
}

/* an HTTP write reaches D-Bus as ConfigChanged, without its value, and moves Entries */
static void
test_config_changed(Fixture *fx, gconstpointer data)
{
	g_autoptr(OscTestResponse) resp = NULL;

	if (fx->tmpdir == NULL)
		return;
	create_entry(fx, "database", "production", "db");
	wait_changes(fx, 1, 1);
	g_assert_cmpstr(g_ptr_array_index(fx->changes, 0), ==, "database|production|db|created");

	resp = http(fx, "PUT", "/configs/database?environment=production",
		    "{\"value\":{\"secret\":\"new\"}}");
	g_assert_cmpuint(resp->status, ==, 200);
	wait_changes(fx, 2, 1);
	g_assert_cmpstr(g_ptr_array_index(fx->changes, 1), ==, "database|production|db|updated");

	create_entry(fx, "plain", "staging", NULL);
	wait_changes(fx, 3, 2);
	g_assert_cmpstr(g_ptr_array_index(fx->changes, 2), ==, "plain|staging||created");

	g_clear_pointer(&resp, osc_test_response_free);
	resp = http(fx, "DELETE", "/configs/plain?environment=staging", NULL);
	g_assert_cmpuint(resp->status, ==, 200);
	wait_changes(fx, 4, 1);
	g_assert_cmpstr(g_ptr_array_index(fx->changes, 3), ==, "plain|staging||deleted");
}

static void
test_status_lists_stats(Fixture *fx, gconstpointer data)
{
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) stats = NULL;
	g_autoptr(GVariant) v = NULL;
	g_auto(GStrv) envs = NULL;
	g_auto(GStrv) cats = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *const want_envs[] = {"production", "staging", NULL};
	const gchar *const want_cats[] = {"cache", "db", NULL};
	gint64 n = 0;

	if (fx->tmpdir == NULL)
		return;
	create_entry(fx, "database", "production", "db");
	create_entry(fx, "redis", "staging", "cache");
	create_entry(fx, "flag", "staging", NULL);
	wait_changes(fx, 3, 3);

	g_assert_true(osc_dbus_server1_call_get_status_sync(fx->proxy, &status, NULL, &error));
	g_assert_no_error(error);
	v = lookup(status, "status", G_VARIANT_TYPE_STRING);
	g_assert_cmpstr(g_variant_get_string(v, NULL), ==, "healthy");
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(status, "version", G_VARIANT_TYPE_STRING);
	g_assert_cmpstr(g_variant_get_string(v, NULL), ==, PACKAGE_VERSION);
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(status, "api_version", G_VARIANT_TYPE_STRING);
	g_assert_cmpstr(g_variant_get_string(v, NULL), ==, OSC_COMPAT_VERSION);
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(status, "entries", G_VARIANT_TYPE_INT64);
	g_assert_cmpint(g_variant_get_int64(v), ==, 3);
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(status, "listen_urls", G_VARIANT_TYPE_STRING_ARRAY);
	g_assert_cmpuint(g_variant_n_children(v), ==, 1);
	{
		g_autoptr(GVariant) first = g_variant_get_child_value(v, 0);
		g_assert_cmpstr(g_variant_get_string(first, NULL), ==,
				osc_dbus_server1_get_listen_url(fx->proxy));
	}
	g_clear_pointer(&v, g_variant_unref);
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(status, "cluster_enabled", G_VARIANT_TYPE_BOOLEAN);
	g_assert_false(g_variant_get_boolean(v));
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(status, "uptime_seconds", G_VARIANT_TYPE_UINT64);
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(status, "active_subscriptions", G_VARIANT_TYPE_UINT32);
	g_assert_cmpuint(g_variant_get_uint32(v), ==, 0);
	g_clear_pointer(&v, g_variant_unref);

	g_assert_true(osc_dbus_server1_call_list_environments_sync(fx->proxy, &envs, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_strv_equal((const gchar *const *)envs, want_envs));
	g_assert_true(osc_dbus_server1_call_list_categories_sync(fx->proxy, &cats, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_strv_equal((const gchar *const *)cats, want_cats));

	g_assert_true(osc_dbus_server1_call_stats_sync(fx->proxy, &stats, NULL, &error));
	g_assert_no_error(error);
	v = lookup(stats, "total_keys", G_VARIANT_TYPE_INT64);
	g_assert_cmpint(g_variant_get_int64(v), ==, 3);
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(stats, "total_categories", G_VARIANT_TYPE_UINT32);
	g_assert_cmpuint(g_variant_get_uint32(v), ==, 3); /* db, cache, uncategorized */
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(stats, "total_environments", G_VARIANT_TYPE_UINT32);
	g_assert_cmpuint(g_variant_get_uint32(v), ==, 2);
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(stats, "keys_by_category", G_VARIANT_TYPE("a{sx}"));
	g_assert_true(g_variant_lookup(v, "uncategorized", "x", &n));
	g_assert_cmpint(n, ==, 1);
	g_assert_true(g_variant_lookup(v, "db", "x", &n));
	g_assert_cmpint(n, ==, 1);
	g_clear_pointer(&v, g_variant_unref);
	v = lookup(stats, "keys_by_environment", G_VARIANT_TYPE("a{sx}"));
	g_assert_true(g_variant_lookup(v, "staging", "x", &n));
	g_assert_cmpint(n, ==, 2);
}

static void
test_reload(Fixture *fx, gconstpointer data)
{
	g_auto(GStrv) applied = NULL;
	g_auto(GStrv) later = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) bad = NULL;
	g_autofree gchar *remote = NULL;

	if (fx->tmpdir == NULL)
		return;
	/* nothing changed */
	g_assert_true(osc_dbus_server1_call_reload_sync(fx->proxy, &applied, &later, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(g_strv_length(applied), ==, 0);
	g_assert_cmpuint(g_strv_length(later), ==, 0);
	g_clear_pointer(&applied, g_strfreev);
	g_clear_pointer(&later, g_strfreev);

	/* one setting that applies now, one that needs a restart */
	config_write(fx, 3, 1);
	g_assert_true(osc_dbus_server1_call_reload_sync(fx->proxy, &applied, &later, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_strv_contains((const gchar *const *)applied, "versions_kept"));
	g_assert_cmpuint(g_strv_length(applied), ==, 1);
	g_assert_true(g_strv_contains((const gchar *const *)later, "port"));
	g_assert_cmpuint(g_strv_length(later), ==, 1);

	/* still serving on the old port */
	{
		g_autoptr(OscTestResponse) resp = http(fx, "GET", "/health", NULL);
		g_assert_cmpuint(resp->status, ==, 200);
	}

	/* a broken keyfile is refused as InvalidArgument and changes nothing */
	g_file_set_contents(fx->config_path, "[oscd]\nno_such_setting = 1\n", -1, &error);
	g_assert_no_error(error);
	g_assert_false(osc_dbus_server1_call_reload_sync(fx->proxy, NULL, NULL, NULL, &bad));
	g_assert_error(bad, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	remote = g_dbus_error_get_remote_error(bad);
	g_assert_cmpstr(remote, ==, "org.opensecureconf.Server1.Error.InvalidArgument");
}

/* Backup(path, password, user_key fd): the user key goes through a pipe, never in the body */
static gboolean
call_backup(Fixture *fx, const gchar *path, const gchar *password, const gchar *user_key,
	    guint *total, gchar **backup_id, GError **error)
{
	g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
	gint pipe_fds[2];
	gint index;

	g_assert_cmpint(pipe(pipe_fds), ==, 0);
	g_assert_cmpint(write(pipe_fds[1], user_key, strlen(user_key)), ==,
			(gssize)strlen(user_key));
	g_assert_cmpint(write(pipe_fds[1], "\n", 1), ==, 1);
	close(pipe_fds[1]);
	index = g_unix_fd_list_append(fds, pipe_fds[0], NULL);
	close(pipe_fds[0]);
	g_assert_cmpint(index, ==, 0);
	return osc_dbus_server1_call_backup_sync(fx->proxy, path, password,
						 g_variant_new_handle(index), fds, total, backup_id,
						 NULL, NULL, error);
}

static void
assert_remote_error(GError *error, OscError code, const gchar *name)
{
	g_autofree gchar *remote = NULL;

	g_assert_error(error, OSC_ERROR, (gint)code);
	remote = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(remote, ==, name);
}

static void
test_backup(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *path =
		g_build_filename(fx->tmpdir != NULL ? fx->tmpdir : "/", "backup.osc", NULL);
	g_autofree gchar *backup_id = NULL;
	g_autofree gchar *backup_data = NULL;
	g_autofree gchar *body = NULL;
	g_autofree gchar *import_url = NULL;
	g_autoptr(GBytes) plain = NULL;
	g_autoptr(OscBackupDocument) doc = NULL;
	g_autoptr(OscTestResponse) resp = NULL;
	g_autoptr(GError) error = NULL;
	GStatBuf st;
	guint total = 0;
	const gchar *headers[] = {"X-User-Key", USER_KEY, "X-Backup-Password", PASSWORD, NULL};

	if (fx->tmpdir == NULL)
		return;
	create_entry(fx, "database", "production", "db");
	create_entry(fx, "redis", "staging", "cache");
	wait_changes(fx, 2, 2);

	g_assert_true(call_backup(fx, path, PASSWORD, USER_KEY, &total, &backup_id, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(total, ==, 2);
	g_assert_true(g_str_has_prefix(backup_id, "backup-"));
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);

	/* the file is POST /backup's backup_data: it opens with the password... */
	g_file_get_contents(path, &backup_data, NULL, &error);
	g_assert_no_error(error);
	plain = osc_backup_decrypt(PASSWORD, strlen(PASSWORD), backup_data, &error);
	g_assert_no_error(error);
	doc = osc_backup_parse_document(g_bytes_get_data(plain, NULL), g_bytes_get_size(plain),
					&error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(g_bytes_get_data(plain, NULL), "\"redis-value\""));

	/* ...and imports back through the HTTP API */
	g_clear_pointer(&resp, osc_test_response_free);
	resp = http(fx, "DELETE", "/configs/redis?environment=staging", NULL);
	g_assert_cmpuint(resp->status, ==, 200);
	wait_changes(fx, 3, 1);
	body = g_strdup_printf("{\"backup_data\":\"%s\",\"overwrite\":false}", backup_data);
	import_url = g_strconcat(fx->base_url, "/import", NULL);
	g_clear_pointer(&resp, osc_test_response_free);
	{
		g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
		resp = osc_test_http_full(fx->http, "POST", import_url, "application/json", bytes,
					  headers);
	}
	g_assert_cmpuint(resp->status, ==, 200);
	g_assert_nonnull(strstr(resp->body, "\"imported_count\":1"));
	wait_changes(fx, 4, 2);
	g_clear_pointer(&resp, osc_test_response_free);
	resp = http(fx, "GET", "/configs/redis?environment=staging", NULL);
	g_assert_cmpuint(resp->status, ==, 200);
	g_assert_nonnull(strstr(resp->body, "redis-value"));
}

/* an import larger than an event queue is one "reset" ConfigChanged, and Entries follows */
static void
test_import_reset(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *path =
		g_build_filename(fx->tmpdir != NULL ? fx->tmpdir : "/", "reset.osc", NULL);
	g_autofree gchar *backup_data = NULL;
	g_autofree gchar *body = NULL;
	g_autofree gchar *import_url = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(OscTestResponse) resp = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *headers[] = {"X-User-Key", USER_KEY, "X-Backup-Password", PASSWORD, NULL};
	guint total = 0;

	if (fx->tmpdir == NULL)
		return;
	create_entry(fx, "database", "production", "db");
	create_entry(fx, "redis", "staging", "cache");
	wait_changes(fx, 2, 2);
	g_assert_true(call_backup(fx, path, PASSWORD, USER_KEY, &total, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(total, ==, 2);
	resp = http(fx, "DELETE", "/configs/database?environment=production", NULL);
	g_assert_cmpuint(resp->status, ==, 200);
	g_clear_pointer(&resp, osc_test_response_free);
	resp = http(fx, "DELETE", "/configs/redis?environment=staging", NULL);
	g_assert_cmpuint(resp->status, ==, 200);
	wait_changes(fx, 4, 0);

	g_file_get_contents(path, &backup_data, NULL, &error);
	g_assert_no_error(error);
	body = g_strdup_printf("{\"backup_data\":\"%s\"}", backup_data);
	bytes = g_bytes_new(body, strlen(body));
	import_url = g_strconcat(fx->base_url, "/import", NULL);
	g_clear_pointer(&resp, osc_test_response_free);
	resp = osc_test_http_full(fx->http, "POST", import_url, "application/json", bytes, headers);
	g_assert_cmpuint(resp->status, ==, 200);
	wait_changes(fx, 5, 2);
	g_assert_cmpstr(g_ptr_array_index(fx->changes, 4), ==, "|||reset");
}

static void
test_backup_errors(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *path =
		g_build_filename(fx->tmpdir != NULL ? fx->tmpdir : "/", "b.osc", NULL);
	g_autoptr(GError) error = NULL;
	guint total = 0;

	if (fx->tmpdir == NULL)
		return;
	create_entry(fx, "database", "production", "db");
	wait_changes(fx, 1, 1);

	g_assert_false(call_backup(fx, path, "", USER_KEY, &total, NULL, &error));
	assert_remote_error(error, OSC_ERROR_INVALID_ARGUMENT,
			    "org.opensecureconf.Server1.Error.InvalidArgument");
	g_clear_error(&error);

	g_assert_false(call_backup(fx, "relative.osc", PASSWORD, USER_KEY, &total, NULL, &error));
	assert_remote_error(error, OSC_ERROR_INVALID_ARGUMENT,
			    "org.opensecureconf.Server1.Error.InvalidArgument");
	g_clear_error(&error);

	g_assert_false(call_backup(fx, path, PASSWORD, "short", &total, NULL, &error));
	assert_remote_error(error, OSC_ERROR_INVALID_ARGUMENT,
			    "org.opensecureconf.Server1.Error.InvalidArgument");
	g_clear_error(&error);

	/* D-3: a key that opens none of the entries is a mistyped key, not an empty backup */
	g_assert_false(
		call_backup(fx, path, PASSWORD, "another-user-key-entirely", &total, NULL, &error));
	assert_remote_error(error, OSC_ERROR_AUTH, "org.opensecureconf.Server1.Error.Auth");
	g_clear_error(&error);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	/* no descriptor at all */
	g_assert_false(osc_dbus_server1_call_backup_sync(fx->proxy, path, PASSWORD,
							 g_variant_new_handle(0), NULL, &total,
							 NULL, NULL, NULL, &error));
	assert_remote_error(error, OSC_ERROR_INVALID_ARGUMENT,
			    "org.opensecureconf.Server1.Error.InvalidArgument");
}

/* SIGTERM: STOPPING=1 for systemd, the name goes away, a clean exit */
static void
test_stop(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *stopping = NULL;
	g_autoptr(GError) error = NULL;

	if (fx->tmpdir == NULL)
		return;
	g_subprocess_send_signal(fx->proc, SIGTERM);
	stopping = notify_receive(fx, WAIT_MS);
	g_assert_nonnull(stopping);
	g_assert_true(g_str_has_prefix(stopping, "STOPPING=1\n"));
	g_subprocess_wait(fx->proc, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(fx->proc));
	g_assert_cmpint(g_subprocess_get_exit_status(fx->proc), ==, 0);
}

/* runs another oscd on a port of its own with @args and @env (NAME=value); its stdout and
 * stderr go to tmpdir/@name.log */
static GSubprocess *
spawn_other(Fixture *fx, const gchar *const *args, const gchar *const *env, const gchar *name)
{
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree gchar *db = g_strdup_printf("%s/%s.db", fx->tmpdir, name);
	g_autofree gchar *salt = g_strdup_printf("%s/%s.salt", fx->tmpdir, name);
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", fx->tmpdir, name);
	g_autoptr(GError) error = NULL;
	GSubprocess *proc;

	g_subprocess_launcher_setenv(launcher, "OSC_DATABASE_PATH", db, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_SALT_FILE_PATH", salt, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST", "127.0.0.1", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST_PORT", "0", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_LOG_FORMAT", "console", TRUE);
	g_subprocess_launcher_unsetenv(launcher, "NOTIFY_SOCKET");
	g_subprocess_launcher_unsetenv(launcher, "INVOCATION_ID");
	g_subprocess_launcher_unsetenv(launcher, "DBUS_SESSION_BUS_ADDRESS");
	g_subprocess_launcher_unsetenv(launcher, "XDG_RUNTIME_DIR");
	for (guint i = 0; env != NULL && env[i] != NULL; i++) {
		g_auto(GStrv) kv = g_strsplit(env[i], "=", 2);
		g_subprocess_launcher_setenv(launcher, kv[0], kv[1], TRUE);
	}
	g_subprocess_launcher_set_stdout_file_path(launcher, log);
	g_subprocess_launcher_set_child_setup(launcher, child_setup_cb, NULL, NULL);
	g_ptr_array_add(argv, (gpointer)g_getenv("OSCD_PATH"));
	g_ptr_array_add(argv, (gpointer) "--quiet");
	for (guint i = 0; args != NULL && args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	return proc;
}

static gchar *
read_log(Fixture *fx, const gchar *name)
{
	g_autofree gchar *log = g_strdup_printf("%s/%s.log", fx->tmpdir, name);
	gchar *text = NULL;

	if (!g_file_get_contents(log, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

/* waits (at most WAIT_MS) for @proc to exit; its status and output */
static gchar *
finish_other(Fixture *fx, GSubprocess *proc, const gchar *name, gint *status)
{
	g_autoptr(GError) error = NULL;
	gchar *out;

	g_subprocess_wait(proc, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	*status = g_subprocess_get_exit_status(proc);
	out = read_log(fx, name);
	g_test_message("oscd output:\n%s", out);
	return out;
}

typedef struct {
	Fixture *fx;
	const gchar *name;
} Reader;

static gboolean
log_mentions_dbus(gpointer data)
{
	Reader *r = data;
	g_autofree gchar *out = read_log(r->fx, r->name);

	return strstr(out, "D-Bus") != NULL;
}

/* --bus given explicitly: not getting the name is fatal; a bad value is a usage error */
static void
test_bus_explicit(Fixture *fx, gconstpointer data)
{
	const gchar *const system_args[] = {"--bus=system", NULL};
	const gchar *const system_env[] = {"DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus",
					   NULL};
	const gchar *const bad_args[] = {"--bus=everywhere", NULL};
	g_autofree gchar *session_env = NULL;
	g_autofree gchar *out = NULL;
	gint status = -1;

	if (fx->tmpdir == NULL)
		return;
	{
		g_autoptr(GSubprocess) proc = spawn_other(fx, system_args, system_env, "system");
		out = finish_other(fx, proc, "system", &status);
		g_assert_cmpint(status, ==, 1);
		g_assert_nonnull(
			strstr(out, "cannot own org.opensecureconf.Server1 on the system bus"));
		g_clear_pointer(&out, g_free);
	}
	{
		/* the fixture's daemon holds the name on this bus */
		const gchar *const session_args[] = {"--bus=session", NULL};
		const gchar *env[2] = {NULL, NULL};
		g_autoptr(GSubprocess) proc = NULL;

		session_env = g_strconcat(
			"DBUS_SESSION_BUS_ADDRESS=", g_test_dbus_get_bus_address(fx->bus), NULL);
		env[0] = session_env;
		proc = spawn_other(fx, session_args, env, "taken");
		out = finish_other(fx, proc, "taken", &status);
		g_assert_cmpint(status, ==, 1);
		g_assert_nonnull(
			strstr(out, "cannot own org.opensecureconf.Server1 on the session bus"));
		g_clear_pointer(&out, g_free);
	}
	{
		g_autoptr(GSubprocess) proc = spawn_other(fx, bad_args, NULL, "bad");
		out = finish_other(fx, proc, "bad", &status);
		g_assert_cmpint(status, ==, 2);
		g_assert_nonnull(strstr(out, "--bus"));
	}
}

/*
 * Without --bus: no session bus is a notice and a taken name a warning, and oscd serves
 * HTTP either way (the rule test-oscd relies on: it runs oscd without any bus).
 */
static void
test_bus_auto(Fixture *fx, gconstpointer data)
{
	g_autofree gchar *session_env = NULL;
	const gchar *env[2] = {NULL, NULL};
	const gchar *const no_bus_args[] = {NULL};

	if (fx->tmpdir == NULL)
		return;
	session_env = g_strconcat("DBUS_SESSION_BUS_ADDRESS=", g_test_dbus_get_bus_address(fx->bus),
				  NULL);
	env[0] = session_env;
	for (guint i = 0; i < 2; i++) {
		const gchar *name = i == 0 ? "nobus" : "auto";
		g_autoptr(GSubprocess) proc =
			spawn_other(fx, no_bus_args, i == 0 ? NULL : env, name);
		g_autofree gchar *out = NULL;
		Reader r = {fx, name};
		gint status = -1;

		/* nothing wakes a main loop when a file grows: poll it */
		for (gint64 deadline = g_get_monotonic_time() + WAIT_MS * 1000;
		     !log_mentions_dbus(&r) && g_get_monotonic_time() < deadline;)
			g_usleep(20 * 1000);
		g_assert_true(log_mentions_dbus(&r));
		g_subprocess_send_signal(proc, SIGTERM);
		out = finish_other(fx, proc, name, &status);
		g_assert_cmpint(status, ==, 0);
		if (i == 0) {
			g_assert_nonnull(strstr(out, "D-Bus: no session bus; serving HTTP only"));
		} else {
			g_assert_nonnull(strstr(out, "warning"));
			g_assert_nonnull(strstr(
				out, "is not ours (queued for it); serving HTTP without it"));
		}
		g_assert_nonnull(strstr(out, "stopped"));
	}
}

/* sd_notify to a socket path; no NOTIFY_SOCKET is nothing to do; nonsense is an error */
static void
test_sd_notify(void)
{
	g_autofree gchar *dir = osc_test_make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "notify", NULL);
	g_autoptr(GSocket) sock = NULL;
	g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
	g_autoptr(GError) error = NULL;
	gchar buf[64];
	gssize n;

	sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_DEFAULT,
			    &error);
	g_assert_no_error(error);
	g_socket_bind(sock, addr, TRUE, &error);
	g_assert_no_error(error);

	g_setenv("NOTIFY_SOCKET", path, TRUE);
	g_assert_true(osc_daemon_sd_notify("STATUS=path socket", &error));
	g_assert_no_error(error);
	n = g_socket_receive(sock, buf, sizeof(buf) - 1, NULL, &error);
	g_assert_no_error(error);
	buf[n] = '\0';
	g_assert_cmpstr(buf, ==, "STATUS=path socket");

	g_setenv("NOTIFY_SOCKET", "relative/socket", TRUE);
	g_assert_false(osc_daemon_sd_notify("READY=1", &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	g_unsetenv("NOTIFY_SOCKET");
	g_assert_true(osc_daemon_sd_notify("READY=1", &error));
	g_assert_no_error(error);
	osc_test_rm_rf(dir);

	/* who may Reload and Backup */
	g_assert_true(osc_daemon_uid_is_privileged(0, 990));
	g_assert_true(osc_daemon_uid_is_privileged(990, 990));
	g_assert_false(osc_daemon_uid_is_privileged(1000, 990));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* the client side of the registered error domain */
	(void)osc_error_quark();

	g_test_add_func("/dbus/sd-notify", test_sd_notify);
#define ADD(path, func)                                                                            \
	g_test_add("/dbus/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("introspect", test_introspect);
	ADD("properties", test_properties);
	ADD("active-subscriptions", test_active_subscriptions);
	ADD("config-changed", test_config_changed);
	ADD("status-lists-stats", test_status_lists_stats);
	ADD("reload", test_reload);
	ADD("backup", test_backup);
	ADD("backup-errors", test_backup_errors);
	ADD("import-reset", test_import_reset);
	ADD("stop", test_stop);
	ADD("bus-explicit", test_bus_explicit);
	ADD("bus-auto", test_bus_auto);
#undef ADD
	return g_test_run();
}
