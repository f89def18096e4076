/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "osc-fuzz-http.h"

#include <glib/gstdio.h>

#include <stdlib.h>

#include "osc-http-private.h"
#include "osc-service-private.h"

static gchar *tmpdir;
static OscService *service;
static OscHttpServer *server;

static void
osc_fuzz_http_cleanup(void)
{
	g_clear_object(&server);
	g_clear_object(&service);
	if (tmpdir == NULL)
		return;
	/* the store's files, WAL and shared memory included */
	for (const gchar *const *s =
		     (const gchar *const[]){"configurations.db", "configurations.db-wal",
					    "configurations.db-shm", "encryption.salt", NULL};
	     *s != NULL; s++) {
		g_autofree gchar *path = g_build_filename(tmpdir, *s, NULL);
		g_unlink(path);
	}
	g_rmdir(tmpdir);
	g_clear_pointer(&tmpdir, g_free);
}

static void
osc_fuzz_http_init(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscConfig) config = osc_config_new();

	tmpdir = g_dir_make_tmp("osc-fuzz-XXXXXX", &error);
	if (tmpdir == NULL)
		g_error("tmpdir: %s", error->message);
	g_free(config->database_path);
	config->database_path = g_build_filename(tmpdir, "configurations.db", NULL);
	g_free(config->salt_file_path);
	config->salt_file_path = g_build_filename(tmpdir, "encryption.salt", NULL);
	config->port = 0;
	config->workers = 1;
	config->pbkdf2_iterations = 1000;
	config->api_key_required = TRUE;
	g_free(config->api_key);
	config->api_key = g_strdup(OSC_FUZZ_API_KEY);
	service = osc_service_new(config, &error);
	if (service == NULL)
		g_error("service: %s", error->message);
	server = osc_http_server_new(service);
	atexit(osc_fuzz_http_cleanup);
}

static void
copy_header(const char *name, const char *value, gpointer user_data)
{
	soup_message_headers_append(user_data, name, value);
}

static void
check_method_label(OscMetric *metric,
		   const gchar *const *label_values,
		   gdouble value,
		   gdouble sum,
		   gpointer user_data)
{
	g_assert_cmpstr(osc_http_method_label(label_values[0]), ==, label_values[0]);
}

guint
osc_fuzz_http_request(const gchar *method, const gchar *path, GHashTable *query,
		      SoupMessageHeaders *headers, const gchar *body, gsize body_len)
{
	OscRequest *req = g_new0(OscRequest, 1);
	g_autoptr(JsonArray) dep_items = json_array_new();
	g_autoptr(JsonArray) items = json_array_new();
	gboolean redirect = FALSE;
	gboolean is_configs;
	guint status = 0;

	if (server == NULL)
		osc_fuzz_http_init();
	req->self = server;
	req->msg = g_object_new(SOUP_TYPE_SERVER_MESSAGE, NULL);
	req->start = g_get_monotonic_time();
	req->query = query;
	req->method = method;
	if (headers != NULL)
		soup_message_headers_foreach(headers, copy_header,
					     soup_server_message_get_request_headers(req->msg));
	if (body_len > 0)
		soup_message_body_append(soup_server_message_get_request_body(req->msg),
					 SOUP_MEMORY_COPY, body, body_len);

	/* 2. routing */
	req->route = osc_http_match(path, &req->key, &redirect);
	if (req->route == NULL) {
		osc_request_respond_detail(req, 404, "Not Found");
		goto out;
	}
	g_assert_true(req->key == NULL || g_utf8_validate(req->key, -1, NULL));
	if (redirect) {
		/* the Location is built from the message's URI, which only libsoup sets */
		osc_request_respond(req, 307, "text/plain", NULL, 0);
		goto out;
	}
	if (!osc_http_method_allowed(req->route->id, method)) {
		osc_request_respond_detail(req, 405, "Method Not Allowed");
		goto out;
	}
	is_configs = req->route->id == OSC_ROUTE_CONFIGS || req->route->id == OSC_ROUTE_CONFIG;

	/* 3. the JSON body of POST/PUT /configs */
	if (is_configs && (g_str_equal(method, "POST") || g_str_equal(method, "PUT"))) {
		if (!osc_request_read_json_body(req, items))
			goto out;
	}
	/* 4.–5. API key, then user key */
	if (req->route->auth != OSC_AUTH_OPEN && !osc_request_check_api_key(req))
		goto out;
	if (req->route->auth == OSC_AUTH_USER_KEY && !osc_request_check_user_key(req, dep_items))
		goto out;
	g_assert_true(req->user_key == NULL || g_utf8_validate(req->user_key, -1, NULL));

	/* 6. validation: one 422 with every item */
	if (!osc_http_validate(req, items))
		goto out;
	if (json_array_get_length(dep_items) > 0 || json_array_get_length(items) > 0) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
		JsonObject *obj = json_object_new();

		for (guint i = 0; i < json_array_get_length(items); i++)
			json_array_add_element(dep_items,
					       json_node_copy(json_array_get_element(items, i)));
		json_object_set_array_member(obj, "detail", json_array_ref(dep_items));
		json_node_take_object(node, obj);
		osc_request_respond_json(req, 422, node);
		goto out;
	}
	/* what the handlers rely on */
	if (req->value != NULL)
		g_assert_cmpint(json_node_get_node_type(req->value), !=, JSON_NODE_NULL);
	if (req->route->id == OSC_ROUTE_CONFIG || req->route->id == OSC_ROUTE_CONFIG_VERSIONS ||
	    req->route->id == OSC_ROUTE_CONFIG_ROLLBACK)
		g_assert_nonnull(req->key);

out:
	status = soup_server_message_get_status(req->msg);
	/* the request metrics take only a fixed set of method labels, whatever was sent */
	osc_metric_foreach(osc_service_get_metric_families(service)->http_requests,
			   check_method_label, NULL);
	osc_request_free(req);
	return status;
}
