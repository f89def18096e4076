/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscConfig"

#include "config.h"

#include <gio/gio.h>

#include "osc-config.h"
#include "osc-crypto.h"
#include "osc-error.h"
#include "osc-value.h"

/* the original's documented default API key; refused when the API key is enforced */
#define OSC_DEFAULT_API_KEY "your-super-secret-api-key-here"

typedef enum {
	VAR_STRING,
	VAR_STRV, /* comma separated */
	VAR_UINT,
	VAR_SIZE,
	VAR_BOOL,
	VAR_LOG_LEVEL,
	VAR_LOG_FORMAT,
} VarType;

typedef struct {
	const gchar *name; /* environment variable; the keyfile key is its lower-case tail */
	VarType type;
	gsize offset;
	guint64 min;
	guint64 max;
} Var;

#define F(field) G_STRUCT_OFFSET(OscConfig, field)

static const Var vars[] = {
    {"OSC_HOST", VAR_STRING, F(host)},
    {"OSC_HOST_PORT", VAR_UINT, F(port), 0, 65535},
    {"OSC_WORKERS", VAR_UINT, F(workers), 1, 256},
    {"OSC_HTTPS_ENABLED", VAR_BOOL, F(https_enabled)},
    {"OSC_SSL_CERTFILE", VAR_STRING, F(ssl_certfile)},
    {"OSC_SSL_KEYFILE", VAR_STRING, F(ssl_keyfile)},
    {"OSC_SSL_KEYFILE_PASSWORD", VAR_STRING, F(ssl_keyfile_password)},
    {"OSC_SSL_CA_CERTS", VAR_STRING, F(ssl_ca_certs)},
    {"OSC_DATABASE_PATH", VAR_STRING, F(database_path)},
    {"OSC_SALT_FILE_PATH", VAR_STRING, F(salt_file_path)},
    {"OSC_MIN_USER_KEY_LENGTH", VAR_UINT, F(min_user_key_length), 1, 4096},
    {"OSC_API_KEY_REQUIRED", VAR_BOOL, F(api_key_required)},
    {"OSC_API_KEY", VAR_STRING, F(api_key)},
    {"OSC_CLUSTER_ENABLED", VAR_BOOL, F(cluster_enabled)},
    {"OSC_CLUSTER_MODE", VAR_STRING, F(cluster_mode)},
    {"OSC_CLUSTER_NODE_ID", VAR_STRING, F(cluster_node_id)},
    {"OSC_CLUSTER_NODES", VAR_STRV, F(cluster_nodes)},
    {"OSC_CLUSTER_SYNC_INTERVAL", VAR_UINT, F(cluster_sync_interval), 1, 86400},
    {"OSC_LOG_LEVEL", VAR_LOG_LEVEL, F(log_level)},
    {"OSC_LOG_FORMAT", VAR_LOG_FORMAT, F(log_format)},
    {"OSC_LOG_FILE", VAR_STRING, F(log_file)},
    {"CORS_ORIGINS", VAR_STRV, F(cors_origins)},
    {"OSC_MAX_BODY_SIZE", VAR_SIZE, F(max_body_size), 1024, G_MAXUINT32},
    {"OSC_MAX_VALUE_SIZE", VAR_SIZE, F(max_value_size), 16, G_MAXUINT32},
    {"OSC_MAX_IMPORT_SIZE", VAR_SIZE, F(max_import_size), 1024, G_MAXUINT32},
    {"OSC_KEY_CACHE_SIZE", VAR_UINT, F(key_cache_size), 1, 1000000},
    {"OSC_LIST_CACHE_SIZE", VAR_SIZE, F(list_cache_size), 0, G_MAXUINT32},
    {"OSC_PBKDF2_ITERATIONS", VAR_UINT, F(pbkdf2_iterations), 1, 100000000},
    {"OSC_SSE_QUEUE_SIZE", VAR_UINT, F(sse_queue_size), 1, 1000000},
    {"OSC_SSE_KEEPALIVE_INTERVAL", VAR_UINT, F(sse_keepalive_interval), 1, 3600},
    {"OSC_SSE_LOG_SIZE", VAR_UINT, F(sse_log_size), 0, 10000000},
    {"OSC_VERSIONS_KEPT", VAR_UINT, F(versions_kept), 0, 1000},
    {"OSC_AUTH_FAIL_LIMIT", VAR_UINT, F(auth_fail_limit), 0, 1000000},
    {"OSC_AUTH_FAIL_WINDOW", VAR_UINT, F(auth_fail_window), 1, 86400},
    {"OSC_MAX_CONNECTIONS", VAR_UINT, F(max_connections), 0, 1000000},
    {"OSC_REQUEST_TIMEOUT", VAR_UINT, F(request_timeout), 0, 3600},
    {"OSC_IDLE_TIMEOUT", VAR_UINT, F(idle_timeout), 0, 86400},
    {"OSC_CLUSTER_TOMBSTONE_TTL", VAR_UINT, F(cluster_tombstone_ttl), 1, G_MAXUINT32},
};

G_DEFINE_BOXED_TYPE(OscConfig, osc_config, osc_config_copy, osc_config_free)

static gchar *
osc_config_default_data_path(const gchar *name)
{
	/* Safer than the original's working-directory default: the XDG data dir, per user */
	return g_build_filename(g_get_user_data_dir(), "opensecureconf", name, NULL);
}

/**
 * osc_config_new:
 *
 * Returns: a configuration holding the defaults of API.md §11, except that the database
 * and salt live under `$XDG_DATA_HOME/opensecureconf/` instead of the working directory.
 */
OscConfig *
osc_config_new(void)
{
	OscConfig *self = g_new0(OscConfig, 1);
	self->host = g_strdup("127.0.0.1");
	self->port = 9000;
	self->workers = 4;
	self->ssl_certfile = g_strdup("./cert.pem");
	self->ssl_keyfile = g_strdup("./key.pem");
	self->database_path = osc_config_default_data_path("configurations.db");
	self->salt_file_path = osc_config_default_data_path("encryption.salt");
	self->min_user_key_length = 8;
	self->api_key = g_strdup(OSC_DEFAULT_API_KEY);
	self->cluster_mode = g_strdup("replica");
	self->cluster_nodes = g_new0(gchar *, 1);
	self->cluster_sync_interval = 30;
	self->log_level = G_LOG_LEVEL_INFO;
	self->log_format = OSC_LOG_FORMAT_JSON;
	self->cors_origins = g_strsplit("*", ",", -1);
	self->max_body_size = 1024 * 1024;
	self->max_value_size = OSC_VALUE_DEFAULT_MAX_SIZE;
	/* a backup of 100,000 entries is ~30 MB of base64 */
	self->max_import_size = 256 * 1024 * 1024;
	self->key_cache_size = 256;
	self->list_cache_size = 16 * 1024 * 1024;
	self->pbkdf2_iterations = OSC_PBKDF2_ITERATIONS;
	self->sse_queue_size = 100;
	self->sse_keepalive_interval = 15;
	self->sse_log_size = 10000;
	self->versions_kept = 10;
	/* 10 failed authentications per address, then one more every 6 s */
	self->auth_fail_limit = 10;
	self->auth_fail_window = 60;
	self->max_connections = 10000;
	self->request_timeout = 30;
	self->idle_timeout = 60;
	self->cluster_tombstone_ttl = 7 * 24 * 3600;
	return self;
}

OscConfig *
osc_config_copy(const OscConfig *self)
{
	OscConfig *copy;

	g_return_val_if_fail(self != NULL, NULL);
	copy = g_memdup2(self, sizeof(*self));
	for (guint i = 0; i < G_N_ELEMENTS(vars); i++) {
		gpointer *field = G_STRUCT_MEMBER_P(copy, vars[i].offset);
		if (vars[i].type == VAR_STRING)
			*field = g_strdup(*field);
		else if (vars[i].type == VAR_STRV)
			*field = g_strdupv(*field);
	}
	return copy;
}

void
osc_config_free(OscConfig *self)
{
	if (self == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(vars); i++) {
		gpointer *field = G_STRUCT_MEMBER_P(self, vars[i].offset);
		if (vars[i].type == VAR_STRING) {
			gchar *s = *field;
			/* the API key and TLS key password are secrets */
			if (s != NULL)
				memset(s, 0, strlen(s));
			g_free(s);
		} else if (vars[i].type == VAR_STRV) {
			g_strfreev(*field);
		}
	}
	g_free(self);
}

static gboolean
parse_bool(const gchar *text, gboolean *out)
{
	/* The original takes only "true" (defect D45: its comment claims "1" works); we accept
	 * the usual spellings both ways and reject anything else instead of guessing. */
	static const gchar *const yes[] = {"true", "1", "yes", "on", NULL};
	static const gchar *const no[] = {"false", "0", "no", "off", "", NULL};
	g_autofree gchar *copy = g_strstrip(g_strdup(text));
	g_autofree gchar *lower = g_ascii_strdown(copy, -1);

	if (g_strv_contains(yes, lower)) {
		*out = TRUE;
		return TRUE;
	}
	if (g_strv_contains(no, lower)) {
		*out = FALSE;
		return TRUE;
	}
	return FALSE;
}

static gboolean
parse_log_level(const gchar *text, GLogLevelFlags *out)
{
	g_autofree gchar *upper = g_ascii_strup(text, -1);

	if (g_str_equal(upper, "DEBUG"))
		*out = G_LOG_LEVEL_DEBUG;
	else if (g_str_equal(upper, "INFO"))
		*out = G_LOG_LEVEL_INFO;
	else if (g_str_equal(upper, "WARNING") || g_str_equal(upper, "WARN"))
		*out = G_LOG_LEVEL_WARNING;
	else if (g_str_equal(upper, "ERROR"))
		*out = G_LOG_LEVEL_CRITICAL;
	else if (g_str_equal(upper, "CRITICAL") || g_str_equal(upper, "FATAL"))
		*out = G_LOG_LEVEL_ERROR;
	else
		return FALSE;
	return TRUE;
}

static gchar **
split_list(const gchar *text)
{
	g_auto(GStrv) parts = g_strsplit(text, ",", -1);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	for (guint i = 0; parts[i] != NULL; i++) {
		g_strstrip(parts[i]);
		if (parts[i][0] != '\0')
			g_strv_builder_add(builder, parts[i]);
	}
	return g_strv_builder_end(builder);
}

static gboolean
osc_config_set(OscConfig *self, const Var *var, const gchar *value, GError **error)
{
	gpointer field = G_STRUCT_MEMBER_P(self, var->offset);

	switch (var->type) {
	case VAR_STRING:
		g_free(*(gchar **)field);
		*(gchar **)field = g_strdup(value);
		return TRUE;
	case VAR_STRV:
		g_strfreev(*(gchar ***)field);
		*(gchar ***)field = split_list(value);
		return TRUE;
	case VAR_UINT:
	case VAR_SIZE: {
		guint64 v = 0;
		g_autoptr(GError) error_local = NULL;
		g_autofree gchar *stripped = g_strstrip(g_strdup(value));
		if (!g_ascii_string_to_unsigned(stripped, 10, var->min, var->max, &v,
						&error_local)) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "%s: %s", var->name, error_local->message);
			return FALSE;
		}
		if (var->type == VAR_UINT)
			*(guint *)field = (guint)v;
		else
			*(gsize *)field = (gsize)v;
		return TRUE;
	}
	case VAR_BOOL:
		if (!parse_bool(value, field)) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "%s: expected true or false, got '%s'", var->name, value);
			return FALSE;
		}
		return TRUE;
	case VAR_LOG_LEVEL:
		/* the original silently falls back to INFO; we do too, but say so */
		if (!parse_log_level(value, field)) {
			g_warning("%s: unknown level '%s', using INFO", var->name, value);
			*(GLogLevelFlags *)field = G_LOG_LEVEL_INFO;
		}
		return TRUE;
	case VAR_LOG_FORMAT:
		if (g_ascii_strcasecmp(value, "json") == 0) {
			*(OscLogFormat *)field = OSC_LOG_FORMAT_JSON;
		} else if (g_ascii_strcasecmp(value, "console") == 0) {
			*(OscLogFormat *)field = OSC_LOG_FORMAT_CONSOLE;
		} else {
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "%s: expected json or console, got '%s'", var->name, value);
			return FALSE;
		}
		return TRUE;
	default:
		g_assert_not_reached();
	}
}

static gchar *
var_keyfile_key(const Var *var)
{
	const gchar *tail = g_str_has_prefix(var->name, "OSC_") ? var->name + 4 : var->name;
	return g_ascii_strdown(tail, -1);
}

/**
 * osc_config_load_keyfile:
 * @self: a #OscConfig
 * @path: a keyfile with a `[oscd]` group whose keys are the variable names without `OSC_`,
 *   in lower case (`host`, `host_port`, `database_path`, `cors_origins`, …)
 * @error: return location for a #GError
 *
 * Unknown keys are an error, so that a typo does not silently leave a default in place.
 */
gboolean
osc_config_load_keyfile(OscConfig *self, const gchar *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_auto(GStrv) keys = NULL;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(path != NULL, FALSE);

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "%s: ", path);
		return FALSE;
	}
	if (!g_key_file_has_group(kf, "oscd")) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "%s: no [oscd] group", path);
		return FALSE;
	}
	keys = g_key_file_get_keys(kf, "oscd", NULL, error);
	if (keys == NULL)
		return FALSE;
	for (guint i = 0; keys[i] != NULL; i++) {
		const Var *var = NULL;
		g_autofree gchar *value = NULL;

		for (guint j = 0; j < G_N_ELEMENTS(vars) && var == NULL; j++) {
			g_autofree gchar *name = var_keyfile_key(&vars[j]);
			if (g_str_equal(name, keys[i]))
				var = &vars[j];
		}
		if (var == NULL) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "%s: unknown key '%s' in [oscd]", path, keys[i]);
			return FALSE;
		}
		value = g_key_file_get_string(kf, "oscd", keys[i], error);
		if (value == NULL || !osc_config_set(self, var, value, error)) {
			g_prefix_error(error, "%s: ", path);
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * osc_config_load_environ:
 * @self: a #OscConfig
 * @envp: (nullable): an environment as from g_get_environ(); %NULL for the process's
 * @error: return location for a #GError
 */
gboolean
osc_config_load_environ(OscConfig *self, const gchar *const *envp, GError **error)
{
	g_auto(GStrv) own = NULL;

	g_return_val_if_fail(self != NULL, FALSE);

	if (envp == NULL) {
		own = g_get_environ();
		envp = (const gchar *const *)own;
	}
	for (guint i = 0; i < G_N_ELEMENTS(vars); i++) {
		const gchar *value = g_environ_getenv((gchar **)envp, vars[i].name);
		if (value != NULL && !osc_config_set(self, &vars[i], value, error))
			return FALSE;
	}
	return TRUE;
}

/**
 * osc_config_validate:
 *
 * Checks what cannot be checked one variable at a time. Refuses to start in the states
 * where the original silently does something unsafe.
 */
gboolean
osc_config_validate(OscConfig *self, GError **error)
{
	g_return_val_if_fail(self != NULL, FALSE);

	if (self->api_key_required &&
	    (self->api_key == NULL || g_str_equal(self->api_key, OSC_DEFAULT_API_KEY))) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "OSC_API_KEY_REQUIRED is true but OSC_API_KEY is unset or the "
				    "documented default; set a secret API key");
		return FALSE;
	}
	if (self->api_key_required && strlen(self->api_key) < 16) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "OSC_API_KEY must be at least 16 characters long");
		return FALSE;
	}
	if (self->cluster_enabled && g_strcmp0(self->cluster_mode, "replica") != 0) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "OSC_CLUSTER_MODE '%s' is not supported (only 'replica')",
			    self->cluster_mode);
		return FALSE;
	}
	if (self->database_path == NULL || self->database_path[0] == '\0' ||
	    self->salt_file_path == NULL || self->salt_file_path[0] == '\0') {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "OSC_DATABASE_PATH and OSC_SALT_FILE_PATH must not be empty");
		return FALSE;
	}
	if (self->host == NULL || self->host[0] == '\0') {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "OSC_HOST must not be empty");
		return FALSE;
	}
	if (self->https_enabled &&
	    (self->ssl_certfile == NULL || self->ssl_keyfile == NULL)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "OSC_HTTPS_ENABLED needs OSC_SSL_CERTFILE and OSC_SSL_KEYFILE");
		return FALSE;
	}
	return TRUE;
}

/**
 * osc_config_get_node_id:
 *
 * Returns: `OSC_CLUSTER_NODE_ID`, or the original's default `node-<port>`
 */
gchar *
osc_config_get_node_id(const OscConfig *self)
{
	if (self->cluster_node_id != NULL && self->cluster_node_id[0] != '\0')
		return g_strdup(self->cluster_node_id);
	return g_strdup_printf("node-%u", self->port);
}

gboolean
osc_config_origins_wildcard(const OscConfig *self)
{
	return self->cors_origins != NULL && g_strv_contains((const gchar *const *)self->cors_origins, "*");
}

gboolean
osc_config_origin_allowed(const OscConfig *self, const gchar *origin)
{
	if (osc_config_origins_wildcard(self))
		return TRUE;
	return origin != NULL && self->cors_origins != NULL &&
	       g_strv_contains((const gchar *const *)self->cors_origins, origin);
}
