/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

#include "osc-config.h"
#include "osc-keyring.h"
#include "osc-local-server.h"
#include "osc-service.h"

/* how long quitting waits for requests in flight */
#define OSC_LOCAL_SERVER_DRAIN_MS 2000

/*
 * The "Local" connection: an OscService in this process on a loopback port, with a random
 * API key, storing under $XDG_DATA_HOME/opensecureconf like oscd does by default. The app
 * reaches it over HTTP with OscClient like any other server.
 */
struct _OscLocalServer {
	GObject parent_instance;
	OscService *service;
	gchar *base_url;
	gchar *api_key;
	gboolean api_key_generated;
	gboolean running;
};

G_DEFINE_FINAL_TYPE(OscLocalServer, osc_local_server, G_TYPE_OBJECT)

static void
osc_local_server_finalize(GObject *object)
{
	OscLocalServer *self = OSC_LOCAL_SERVER(object);

	g_clear_object(&self->service);
	g_free(self->base_url);
	osc_keyring_free_secret(self->api_key);
	G_OBJECT_CLASS(osc_local_server_parent_class)->finalize(object);
}

static void
osc_local_server_class_init(OscLocalServerClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = osc_local_server_finalize;
}

static void
osc_local_server_init(OscLocalServer *self)
{
}

OscLocalServer *
osc_local_server_new(void)
{
	return g_object_new(OSC_TYPE_LOCAL_SERVER, NULL);
}

/**
 * osc_local_server_start:
 * @port: the loopback port, 0 for any free one
 *
 * Starts the embedded server. The OSC_* environment is honoured (so that OSC_API_KEY,
 * OSC_DATABASE_PATH or OSC_PBKDF2_ITERATIONS work as for oscd), except that it always
 * listens on 127.0.0.1 over HTTP and always requires an API key, random unless
 * OSC_API_KEY is set.
 */
gboolean
osc_local_server_start(OscLocalServer *self, guint port, GError **error)
{
	g_autoptr(OscConfig) config = osc_config_new();
	g_autoptr(OscService) service = NULL;
	g_autofree gchar *data_dir = NULL;
	g_autoptr(GPtrArray) uris = NULL;
	gboolean env_key;

	g_return_val_if_fail(OSC_IS_LOCAL_SERVER(self), FALSE);
	g_return_val_if_fail(self->service == NULL, FALSE);

	if (!osc_config_load_environ(config, NULL, error)) {
		g_prefix_error(error, _("The local server’s environment is wrong: "));
		return FALSE;
	}
	env_key = g_getenv("OSC_API_KEY") != NULL && strlen(g_getenv("OSC_API_KEY")) >= 16;
	g_free(config->host);
	config->host = g_strdup("127.0.0.1");
	config->port = port;
	config->https_enabled = FALSE;
	config->cluster_enabled = FALSE;
	config->api_key_required = TRUE;
	if (!env_key) {
		osc_keyring_free_secret(config->api_key);
		config->api_key = osc_keyring_generate_key();
	}
	if (!osc_config_validate(config, error))
		return FALSE;

	data_dir = g_path_get_dirname(config->database_path);
	if (g_mkdir_with_parents(data_dir, 0700) != 0) {
		int errsv = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
			    _("Cannot create %s: %s"), data_dir, g_strerror(errsv));
		return FALSE;
	}
	service = osc_service_new(config, error);
	if (service == NULL || !osc_service_start(service, error)) {
		g_prefix_error(error, _("The local server did not start: "));
		return FALSE;
	}
	uris = osc_service_get_uris(service);
	if (uris == NULL || uris->len == 0) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    _("The local server listens nowhere"));
		return FALSE;
	}
	self->base_url = g_strdup_printf("http://127.0.0.1:%u", osc_service_get_port(service));
	self->api_key = g_strdup(config->api_key);
	self->api_key_generated = !env_key;
	self->service = g_steal_pointer(&service);
	self->running = TRUE;
	g_info("local server on %s (data in %s)", self->base_url, data_dir);
	return TRUE;
}

gboolean
osc_local_server_get_running(OscLocalServer *self)
{
	g_return_val_if_fail(OSC_IS_LOCAL_SERVER(self), FALSE);
	return self->running;
}

const gchar *
osc_local_server_get_base_url(OscLocalServer *self)
{
	g_return_val_if_fail(OSC_IS_LOCAL_SERVER(self), NULL);
	return self->base_url;
}

const gchar *
osc_local_server_get_api_key(OscLocalServer *self)
{
	g_return_val_if_fail(OSC_IS_LOCAL_SERVER(self), NULL);
	return self->api_key;
}

/* whether the API key is a random one of this run (not given through OSC_API_KEY) */
gboolean
osc_local_server_get_api_key_generated(OscLocalServer *self)
{
	g_return_val_if_fail(OSC_IS_LOCAL_SERVER(self), FALSE);
	return self->api_key_generated;
}

static void
osc_local_server_stop_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	OscLocalServer *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;

	if (!osc_service_stop_finish(OSC_SERVICE(source), result, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* stopped: the service can go now, while the main loop keeps running (whatever is
	 * still on its way back, such as a request the drain gave up on, is dropped by the
	 * closed HTTP server; tests/test-service-lifecycle.c) */
	g_clear_object(&self->service);
	self->running = FALSE;
	g_task_return_boolean(task, TRUE);
}

/* stops serving, waiting a moment for requests in flight; a no-op when not running */
void
osc_local_server_stop_async(OscLocalServer *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(OSC_IS_LOCAL_SERVER(self));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, osc_local_server_stop_async);
	if (!self->running) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	osc_service_stop_async(self->service, OSC_LOCAL_SERVER_DRAIN_MS, cancellable,
			       osc_local_server_stop_cb, g_steal_pointer(&task));
}

gboolean
osc_local_server_stop_finish(OscLocalServer *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}
