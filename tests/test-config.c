/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib/gstdio.h>

#include "osc-config.h"
#include "osc-error.h"
#include "osc-test-utils.h"

static void
test_config_defaults(void)
{
	g_autoptr(OscConfig) config = osc_config_new();
	g_autofree gchar *node_id = osc_config_get_node_id(config);
	g_autofree gchar *data_dir = g_build_filename(g_get_user_data_dir(), "opensecureconf", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_cmpstr(config->host, ==, "127.0.0.1");
	g_assert_cmpuint(config->port, ==, 9000);
	g_assert_cmpuint(config->workers, ==, 4);
	g_assert_cmpuint(config->min_user_key_length, ==, 8);
	g_assert_false(config->api_key_required);
	g_assert_false(config->https_enabled);
	g_assert_cmpuint(config->cluster_sync_interval, ==, 30);
	g_assert_cmpuint(config->pbkdf2_iterations, ==, 480000);
	g_assert_cmpuint(config->max_body_size, ==, 1024 * 1024);
	g_assert_cmpuint(config->key_cache_size, ==, 256);
	g_assert_cmpuint(config->list_cache_size, ==, 16 * 1024 * 1024);
	g_assert_cmpuint(config->auth_fail_limit, ==, 10);
	g_assert_cmpuint(config->auth_fail_window, ==, 60);
	g_assert_cmpuint(config->max_connections, ==, 10000);
	g_assert_cmpuint(config->request_timeout, ==, 30);
	g_assert_cmpuint(config->idle_timeout, ==, 60);
	g_assert_true(g_str_has_prefix(config->database_path, data_dir));
	g_assert_true(g_str_has_prefix(config->salt_file_path, data_dir));
	g_assert_cmpstr(node_id, ==, "node-9000");
	g_assert_true(osc_config_origins_wildcard(config));
	g_assert_true(osc_config_validate(config, &error));
	g_assert_no_error(error);
}

static void
test_config_environ(void)
{
	g_autoptr(OscConfig) config = osc_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *node_id = NULL;
	const gchar *env[] = {
	    "OSC_HOST=0.0.0.0",
	    "OSC_HOST_PORT=9123",
	    "OSC_WORKERS=8",
	    "OSC_API_KEY_REQUIRED=TRUE",
	    "OSC_API_KEY=0123456789abcdef-secret",
	    "OSC_DATABASE_PATH=/tmp/x.db",
	    "OSC_CLUSTER_NODES= a:1 , ,b:2,",
	    "OSC_CLUSTER_NODE_ID=a:1",
	    "OSC_LOG_LEVEL=warn",
	    "OSC_LOG_FORMAT=console",
	    "CORS_ORIGINS=https://a.example, https://b.example",
	    "OSC_HTTPS_ENABLED=0",
	    "OSC_AUTH_FAIL_LIMIT=0",
	    "OSC_AUTH_FAIL_WINDOW=300",
	    "OSC_MAX_CONNECTIONS=20",
	    "OSC_LIST_CACHE_SIZE=0",
	    "OSC_REQUEST_TIMEOUT=5",
	    "OSC_IDLE_TIMEOUT=0",
	    NULL,
	};

	g_assert_true(osc_config_load_environ(config, env, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(config->host, ==, "0.0.0.0");
	g_assert_cmpuint(config->port, ==, 9123);
	g_assert_cmpuint(config->workers, ==, 8);
	g_assert_true(config->api_key_required);
	g_assert_cmpstr(config->database_path, ==, "/tmp/x.db");
	g_assert_cmpuint(g_strv_length(config->cluster_nodes), ==, 2);
	g_assert_cmpstr(config->cluster_nodes[0], ==, "a:1");
	g_assert_cmpstr(config->cluster_nodes[1], ==, "b:2");
	g_assert_cmpint(config->log_level, ==, G_LOG_LEVEL_WARNING);
	g_assert_cmpint(config->log_format, ==, OSC_LOG_FORMAT_CONSOLE);
	g_assert_false(config->https_enabled);
	g_assert_cmpuint(config->auth_fail_limit, ==, 0);
	g_assert_cmpuint(config->auth_fail_window, ==, 300);
	g_assert_cmpuint(config->max_connections, ==, 20);
	g_assert_cmpuint(config->list_cache_size, ==, 0);
	g_assert_cmpuint(config->request_timeout, ==, 5);
	g_assert_cmpuint(config->idle_timeout, ==, 0);
	g_assert_false(osc_config_origins_wildcard(config));
	g_assert_true(osc_config_origin_allowed(config, "https://b.example"));
	g_assert_false(osc_config_origin_allowed(config, "https://c.example"));
	node_id = osc_config_get_node_id(config);
	g_assert_cmpstr(node_id, ==, "a:1");
	g_assert_true(osc_config_validate(config, &error));
	g_assert_no_error(error);
}

static void
test_config_bad_values(void)
{
	const gchar *cases[][2] = {
	    {"OSC_HOST_PORT=70000", "OSC_HOST_PORT"},
	    {"OSC_HOST_PORT=abc", "OSC_HOST_PORT"},
	    {"OSC_WORKERS=0", "OSC_WORKERS"},
	    {"OSC_API_KEY_REQUIRED=maybe", "OSC_API_KEY_REQUIRED"},
	    {"OSC_LOG_FORMAT=xml", "OSC_LOG_FORMAT"},
	    {"OSC_MAX_BODY_SIZE=10", "OSC_MAX_BODY_SIZE"},
	    {"OSC_AUTH_FAIL_WINDOW=0", "OSC_AUTH_FAIL_WINDOW"},
	    {"OSC_REQUEST_TIMEOUT=-1", "OSC_REQUEST_TIMEOUT"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(OscConfig) config = osc_config_new();
		g_autoptr(GError) error = NULL;
		const gchar *env[] = {cases[i][0], NULL};

		g_assert_false(osc_config_load_environ(config, env, &error));
		g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
		/* the message names the variable, so an operator knows what to fix */
		g_assert_nonnull(strstr(error->message, cases[i][1]));
	}
}

static void
test_config_unknown_log_level(void)
{
	g_autoptr(OscConfig) config = osc_config_new();
	g_autoptr(GError) error = NULL;
	const gchar *env[] = {"OSC_LOG_LEVEL=LOUD", NULL};

	GLogLevelFlags fatal;

	/* as the original: an unknown level falls back to INFO (with a warning, which
	 * g_test_expect_message() cannot catch under G_LOG_USE_STRUCTURED on GLib 2.74) */
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_assert_true(osc_config_load_environ(config, env, &error));
	g_log_set_always_fatal(fatal);
	g_assert_no_error(error);
	g_assert_cmpint(config->log_level, ==, G_LOG_LEVEL_INFO);
}

static void
test_config_validate(void)
{
	struct {
		const gchar *env[4];
		const gchar *fragment;
	} cases[] = {
	    {{"OSC_API_KEY_REQUIRED=true", NULL}, "OSC_API_KEY"},
	    {{"OSC_API_KEY_REQUIRED=true", "OSC_API_KEY=your-super-secret-api-key-here", NULL},
	     "default"},
	    {{"OSC_API_KEY_REQUIRED=true", "OSC_API_KEY=short", NULL}, "16 characters"},
	    {{"OSC_CLUSTER_ENABLED=true", "OSC_CLUSTER_MODE=sharded", NULL}, "sharded"},
	    {{"OSC_DATABASE_PATH=", NULL}, "must not be empty"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(OscConfig) config = osc_config_new();
		g_autoptr(GError) error = NULL;

		g_assert_true(osc_config_load_environ(config, cases[i].env, &error));
		g_assert_no_error(error);
		g_assert_false(osc_config_validate(config, &error));
		g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, cases[i].fragment));
	}
}

static void
test_config_keyfile(void)
{
	g_autofree gchar *dir = osc_test_make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "oscd.conf", NULL);
	g_autoptr(OscConfig) config = osc_config_new();
	g_autoptr(GError) error = NULL;
	const gchar *env[] = {"OSC_HOST_PORT=9500", NULL};

	g_file_set_contents(path,
			    "[oscd]\nhost=10.0.0.1\nhost_port=9400\nmin_user_key_length=12\n"
			    "cors_origins=https://x.example\n",
			    -1, &error);
	g_assert_no_error(error);
	g_assert_true(osc_config_load_keyfile(config, path, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(config->host, ==, "10.0.0.1");
	g_assert_cmpuint(config->port, ==, 9400);
	g_assert_cmpuint(config->min_user_key_length, ==, 12);
	g_assert_true(osc_config_origin_allowed(config, "https://x.example"));

	/* the environment wins over the file */
	g_assert_true(osc_config_load_environ(config, env, &error));
	g_assert_cmpuint(config->port, ==, 9500);

	/* a typo is an error, not a silently ignored setting */
	g_file_set_contents(path, "[oscd]\nhots=1.2.3.4\n", -1, &error);
	g_assert_no_error(error);
	g_assert_false(osc_config_load_keyfile(config, path, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "hots"));
	g_clear_error(&error);

	g_file_set_contents(path, "[other]\nhost=1\n", -1, &error);
	g_assert_false(osc_config_load_keyfile(config, path, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	g_assert_false(osc_config_load_keyfile(config, "/nonexistent/oscd.conf", &error));
	g_assert_nonnull(error);
	osc_test_rm_rf(dir);
}

static void
test_config_copy(void)
{
	g_autoptr(OscConfig) config = osc_config_new();
	g_autoptr(OscConfig) copy = NULL;
	const gchar *env[] = {"OSC_CLUSTER_NODES=a:1,b:2", "OSC_API_KEY=abcdefabcdefabcdef", NULL};

	g_assert_true(osc_config_load_environ(config, env, NULL));
	copy = osc_config_copy(config);
	g_assert_true(copy->cluster_nodes != config->cluster_nodes);
	g_assert_true(copy->api_key != config->api_key);
	g_assert_cmpstr(copy->api_key, ==, config->api_key);
	g_assert_cmpstrv(copy->cluster_nodes, config->cluster_nodes);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/osc/config/defaults", test_config_defaults);
	g_test_add_func("/osc/config/environ", test_config_environ);
	g_test_add_func("/osc/config/bad-values", test_config_bad_values);
	g_test_add_func("/osc/config/unknown-log-level", test_config_unknown_log_level);
	g_test_add_func("/osc/config/validate", test_config_validate);
	g_test_add_func("/osc/config/keyfile", test_config_keyfile);
	g_test_add_func("/osc/config/copy", test_config_copy);
	return g_test_run();
}
