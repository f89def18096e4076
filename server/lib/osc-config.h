/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
	OSC_LOG_FORMAT_JSON,
	OSC_LOG_FORMAT_CONSOLE,
} OscLogFormat;

/**
 * OscConfig:
 *
 * Everything oscd and the embedded server are configured with: the `OSC_*` variables of
 * API.md §11 (same names and defaults, except the safer ones noted below) plus our own.
 * Sources, later ones winning: built-in defaults, a keyfile (`oscd --config`), the
 * environment.
 */
typedef struct {
	gchar *host;
	guint port;
	guint workers;
	gboolean https_enabled;
	gchar *ssl_certfile;
	gchar *ssl_keyfile;
	gchar *ssl_keyfile_password;
	gchar *ssl_ca_certs;
	gchar *database_path;
	gchar *salt_file_path;
	guint min_user_key_length;
	gboolean api_key_required;
	gchar *api_key;
	gboolean cluster_enabled;
	gchar *cluster_mode;
	gchar *cluster_node_id;
	gchar **cluster_nodes;
	guint cluster_sync_interval;
	GLogLevelFlags log_level;
	OscLogFormat log_format;
	gchar *log_file;
	gchar **cors_origins;
	/* ours */
	gsize max_body_size;
	gsize max_value_size;
	gsize max_import_size;
	guint key_cache_size;
	gsize list_cache_size; /* bytes of list answers kept with derived keys; 0: none */
	guint pbkdf2_iterations;
	guint sse_queue_size;
	guint sse_keepalive_interval;
	guint sse_log_size;
	guint versions_kept;
	guint auth_fail_limit;
	guint auth_fail_window;
	guint max_connections;
	guint request_timeout;
	guint idle_timeout;
	guint cluster_tombstone_ttl; /* seconds a delete's tombstone is kept */
} OscConfig;

#define OSC_TYPE_CONFIG (osc_config_get_type())
GType
osc_config_get_type(void);

OscConfig *
osc_config_new(void);
OscConfig *
osc_config_copy(const OscConfig *self);
void
osc_config_free(OscConfig *self);
gboolean
osc_config_load_keyfile(OscConfig *self, const gchar *path, GError **error);
gboolean
osc_config_load_environ(OscConfig *self, const gchar *const *envp, GError **error);
gboolean
osc_config_validate(OscConfig *self, GError **error);
gchar *
osc_config_get_node_id(const OscConfig *self);
gboolean
osc_config_origin_allowed(const OscConfig *self, const gchar *origin);
gboolean
osc_config_origins_wildcard(const OscConfig *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscConfig, osc_config_free)

G_END_DECLS
