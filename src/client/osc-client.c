/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscClient"

#include "config.h"

#include "osc-client-private.h"

/**
 * OscClient:
 *
 * A client for the OpenSecureConf REST API (API.md), the C counterpart of the original
 * Python `OpenSecureConfClient` (API.md §12).
 *
 * Every call exists three times: a blocking one, which may be used from any thread and
 * never runs the caller's main context, and an `_async`/`_finish` pair whose callback runs
 * on the thread-default main context of the caller. Failed calls are retried on 429, 500,
 * 502, 503 and 504 answers and on transport failures, with exponential back-off that
 * honours `Retry-After`; other 4xx answers are never retried.
 *
 * Errors are in the %OSC_CLIENT_ERROR domain, with the server's `detail` text as message;
 * a cancelled call fails with %G_IO_ERROR_CANCELLED.
 *
 * Values are #JsonNode. For bindings in which #JsonNode is awkward the value-taking calls
 * have `_string` variants taking JSON text, and #OscConfigEntry returns its value as text
 * with osc_config_entry_get_value_string().
 */
struct _OscClient {
	GObject parent_instance;

	GMutex lock; /* guards the strings and retry settings: sync calls run on any thread */
	gchar *base_url;
	gchar *user_key;
	gchar *api_key;
	gboolean retry_enabled;
	guint max_retries;
	gdouble backoff_factor;
	gchar *log_level;
	gint log_threshold; /* GLogLevelFlags: log what is at least this severe */

	/* construct-only */
	guint timeout;
	gboolean tls_verify;
	gchar *ca_file;
	guint pool_size;

	SoupSession *session;	   /* for the async calls */
	SoupSession *sync_session; /* for the blocking calls, from any thread */
	GError *setup_error;
};

G_DEFINE_FINAL_TYPE(OscClient, osc_client, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_BASE_URL,
	PROP_USER_KEY,
	PROP_API_KEY,
	PROP_TIMEOUT,
	PROP_TLS_VERIFY,
	PROP_CA_FILE,
	PROP_RETRY_ENABLED,
	PROP_MAX_RETRIES,
	PROP_BACKOFF_FACTOR,
	PROP_POOL_SIZE,
	PROP_LOG_LEVEL,
	N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- helpers shared by the library ---- */

JsonNode *
osc_client_parse_json(const gchar *text, gssize len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) local = NULL;
	JsonNode *root;

	if (!json_parser_load_from_data(parser, text, len, &local)) {
		g_set_error(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
			    "Invalid JSON: %s", local->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_VALIDATION,
				    "Invalid JSON: no value");
		return NULL;
	}
	return json_node_ref(root);
}

/*
 * The server reads header bytes as ISO-8859-1 and re-encodes them as UTF-8 before using a
 * key (API.md §1.5), as the Python client's requests library sends them. So a key whose
 * characters all fit in Latin-1 travels as Latin-1, and derives the same secret as it
 * would from the Python client; anything else travels as UTF-8.
 */
gchar *
osc_client_header_encode(const gchar *value)
{
	gchar *latin1;

	if (value == NULL)
		return NULL;
	for (const gchar *p = value; *p != '\0'; p++) {
		if ((guchar)*p >= 0x80)
			goto convert;
	}
	return g_strdup(value);
convert:
	latin1 = g_convert(value, -1, "ISO-8859-1", "UTF-8", NULL, NULL, NULL);
	return latin1 != NULL ? latin1 : g_strdup(value);
}

/* "http://h:1/x/" → "http://h:1/x": paths are appended to it */
gchar *
osc_client_normalize_base_url(const gchar *url)
{
	gchar *copy;
	gsize len;

	if (url == NULL)
		return NULL;
	copy = g_strstrip(g_strdup(url));
	len = strlen(copy);
	while (len > 0 && copy[len - 1] == '/')
		copy[--len] = '\0';
	return copy;
}

GLogLevelFlags
osc_client_parse_log_level(const gchar *name)
{
	static const struct {
		const gchar *name;
		GLogLevelFlags level;
	} levels[] = {
		{"debug", G_LOG_LEVEL_DEBUG},	  {"info", G_LOG_LEVEL_INFO},
		{"message", G_LOG_LEVEL_MESSAGE}, {"warning", G_LOG_LEVEL_WARNING},
		{"error", G_LOG_LEVEL_CRITICAL},  {"critical", G_LOG_LEVEL_CRITICAL},
	};

	for (guint i = 0; name != NULL && i < G_N_ELEMENTS(levels); i++) {
		if (g_ascii_strcasecmp(name, levels[i].name) == 0)
			return levels[i].level;
	}
	return G_LOG_LEVEL_WARNING;
}

gboolean
osc_client_should_log(OscClient *self, GLogLevelFlags level)
{
	/* GLib's levels: the smaller the bit, the more severe */
	return (gint)level <= g_atomic_int_get(&self->log_threshold);
}

OscClientSettings *
osc_client_get_settings(OscClient *self)
{
	OscClientSettings *settings = g_new0(OscClientSettings, 1);

	g_mutex_lock(&self->lock);
	settings->base_url = g_strdup(self->base_url != NULL ? self->base_url : "");
	settings->user_key = g_strdup(self->user_key);
	settings->api_key = g_strdup(self->api_key);
	settings->tls_verify = self->tls_verify;
	settings->retry_enabled = self->retry_enabled;
	settings->max_retries = self->max_retries;
	settings->backoff_factor = self->backoff_factor;
	if (self->setup_error != NULL)
		settings->setup_error = g_error_copy(self->setup_error);
	g_mutex_unlock(&self->lock);
	return settings;
}

void
osc_client_settings_free(OscClientSettings *settings)
{
	if (settings == NULL)
		return;
	g_free(settings->base_url);
	if (settings->user_key != NULL) {
		memset(settings->user_key, 0, strlen(settings->user_key));
		g_free(settings->user_key);
	}
	g_free(settings->api_key);
	g_clear_error(&settings->setup_error);
	g_free(settings);
}

SoupSession *
osc_client_get_session(OscClient *self, gboolean sync)
{
	return sync ? self->sync_session : self->session;
}

/* ---- GObject ---- */

static void
osc_client_set_string(OscClient *self, gchar **field, const gchar *value, GParamSpec *pspec)
{
	g_mutex_lock(&self->lock);
	if (g_strcmp0(*field, value) == 0) {
		g_mutex_unlock(&self->lock);
		return;
	}
	if (*field != NULL)
		memset(*field, 0, strlen(*field));
	g_free(*field);
	*field = g_strdup(value);
	g_mutex_unlock(&self->lock);
	g_object_notify_by_pspec(G_OBJECT(self), pspec);
}

static SoupSession *
osc_client_session_new(OscClient *self)
{
	return soup_session_new_with_options("timeout", self->timeout, "idle-timeout", 60,
					     "max-conns-per-host", (gint)self->pool_size,
					     "max-conns", (gint)MAX(self->pool_size * 2, 10u),
					     "user-agent", "libosc-client/" PACKAGE_VERSION, NULL);
}

static void
osc_client_constructed(GObject *object)
{
	OscClient *self = OSC_CLIENT(object);

	G_OBJECT_CLASS(osc_client_parent_class)->constructed(object);

	self->session = osc_client_session_new(self);
	self->sync_session = osc_client_session_new(self);
	if (self->ca_file != NULL) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GTlsDatabase) db = g_tls_file_database_new(self->ca_file, &error);

		if (db == NULL) {
			g_set_error(&self->setup_error, OSC_CLIENT_ERROR,
				    OSC_CLIENT_ERROR_CONNECTION, "Cannot load the CA file %s: %s",
				    self->ca_file, error->message);
		} else {
			soup_session_set_tls_database(self->session, db);
			soup_session_set_tls_database(self->sync_session, db);
		}
	}
}

static void
osc_client_finalize(GObject *object)
{
	OscClient *self = OSC_CLIENT(object);

	g_clear_object(&self->session);
	g_clear_object(&self->sync_session);
	g_clear_error(&self->setup_error);
	g_free(self->base_url);
	if (self->user_key != NULL)
		memset(self->user_key, 0, strlen(self->user_key));
	g_free(self->user_key);
	g_free(self->api_key);
	g_free(self->log_level);
	g_free(self->ca_file);
	g_mutex_clear(&self->lock);
	G_OBJECT_CLASS(osc_client_parent_class)->finalize(object);
}

static void
osc_client_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscClient *self = OSC_CLIENT(object);

	g_mutex_lock(&self->lock);
	switch (prop_id) {
	case PROP_BASE_URL:
		g_value_set_string(value, self->base_url);
		break;
	case PROP_USER_KEY:
		g_value_set_string(value, self->user_key);
		break;
	case PROP_API_KEY:
		g_value_set_string(value, self->api_key);
		break;
	case PROP_TIMEOUT:
		g_value_set_uint(value, self->timeout);
		break;
	case PROP_TLS_VERIFY:
		g_value_set_boolean(value, self->tls_verify);
		break;
	case PROP_CA_FILE:
		g_value_set_string(value, self->ca_file);
		break;
	case PROP_RETRY_ENABLED:
		g_value_set_boolean(value, self->retry_enabled);
		break;
	case PROP_MAX_RETRIES:
		g_value_set_uint(value, self->max_retries);
		break;
	case PROP_BACKOFF_FACTOR:
		g_value_set_double(value, self->backoff_factor);
		break;
	case PROP_POOL_SIZE:
		g_value_set_uint(value, self->pool_size);
		break;
	case PROP_LOG_LEVEL:
		g_value_set_string(value, self->log_level);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
	g_mutex_unlock(&self->lock);
}

static void
osc_client_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	OscClient *self = OSC_CLIENT(object);

	switch (prop_id) {
	case PROP_BASE_URL: {
		g_autofree gchar *url = osc_client_normalize_base_url(g_value_get_string(value));
		osc_client_set_string(self, &self->base_url, url, pspec);
		break;
	}
	case PROP_USER_KEY:
		osc_client_set_user_key(self, g_value_get_string(value));
		break;
	case PROP_API_KEY:
		osc_client_set_api_key(self, g_value_get_string(value));
		break;
	case PROP_TIMEOUT:
		self->timeout = g_value_get_uint(value);
		break;
	case PROP_TLS_VERIFY:
		self->tls_verify = g_value_get_boolean(value);
		break;
	case PROP_CA_FILE:
		self->ca_file = g_value_dup_string(value);
		break;
	case PROP_RETRY_ENABLED:
		osc_client_set_retry_enabled(self, g_value_get_boolean(value));
		break;
	case PROP_MAX_RETRIES:
		osc_client_set_max_retries(self, g_value_get_uint(value));
		break;
	case PROP_BACKOFF_FACTOR:
		osc_client_set_backoff_factor(self, g_value_get_double(value));
		break;
	case PROP_POOL_SIZE:
		self->pool_size = g_value_get_uint(value);
		break;
	case PROP_LOG_LEVEL:
		g_atomic_int_set(&self->log_threshold,
				 (gint)osc_client_parse_log_level(g_value_get_string(value)));
		osc_client_set_string(self, &self->log_level, g_value_get_string(value), pspec);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_client_class_init(OscClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS |
			       G_PARAM_EXPLICIT_NOTIFY;
	const GParamFlags ro = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

	object_class->constructed = osc_client_constructed;
	object_class->finalize = osc_client_finalize;
	object_class->get_property = osc_client_get_property;
	object_class->set_property = osc_client_set_property;

	/**
	 * OscClient:base-url:
	 *
	 * The server, e.g. `http://127.0.0.1:9000`; a trailing `/` is dropped.
	 */
	properties[PROP_BASE_URL] = g_param_spec_string("base-url", NULL, NULL, NULL, rw);
	/**
	 * OscClient:user-key:
	 *
	 * The encryption secret sent as `X-User-Key` (at least 8 characters on a default server).
	 */
	properties[PROP_USER_KEY] = g_param_spec_string("user-key", NULL, NULL, NULL, rw);
	/**
	 * OscClient:api-key:
	 *
	 * Sent as `X-API-Key` when set.
	 */
	properties[PROP_API_KEY] = g_param_spec_string("api-key", NULL, NULL, NULL, rw);
	/**
	 * OscClient:timeout:
	 *
	 * Seconds to wait for the server on connect and on each read; 0 waits for ever.
	 */
	properties[PROP_TIMEOUT] = g_param_spec_uint("timeout", NULL, NULL, 0, 3600, 30, ro);
	/**
	 * OscClient:tls-verify:
	 *
	 * Whether to check the server's TLS certificate.
	 */
	properties[PROP_TLS_VERIFY] = g_param_spec_boolean("tls-verify", NULL, NULL, TRUE, ro);
	/**
	 * OscClient:ca-file:
	 *
	 * A PEM file of the certificate authorities to trust instead of the system's.
	 */
	properties[PROP_CA_FILE] = g_param_spec_string("ca-file", NULL, NULL, NULL, ro);
	/**
	 * OscClient:retry-enabled:
	 *
	 * Whether to retry on 429/500/502/503/504 answers and on transport failures.
	 */
	properties[PROP_RETRY_ENABLED] =
		g_param_spec_boolean("retry-enabled", NULL, NULL, TRUE, rw);
	/**
	 * OscClient:max-retries:
	 *
	 * How many times a call is retried before its error is reported.
	 */
	properties[PROP_MAX_RETRIES] = g_param_spec_uint("max-retries", NULL, NULL, 0, 100, 3, rw);
	/**
	 * OscClient:backoff-factor:
	 *
	 * The n-th retry waits about backoff-factor × 2^n seconds (half of that to all of it,
	 * at most 30 s), and never less than the server's `Retry-After`.
	 */
	properties[PROP_BACKOFF_FACTOR] =
		g_param_spec_double("backoff-factor", NULL, NULL, 0.0, 60.0, 1.0, rw);
	/**
	 * OscClient:pool-size:
	 *
	 * How many connections to the server may be open at once.
	 */
	properties[PROP_POOL_SIZE] = g_param_spec_uint("pool-size", NULL, NULL, 1, 1000, 10, ro);
	/**
	 * OscClient:log-level:
	 *
	 * The least severe of the library's own messages that are logged (domain `OscClient`):
	 * `debug`, `info`, `message`, `warning` or `error`, in any case.
	 */
	properties[PROP_LOG_LEVEL] = g_param_spec_string("log-level", NULL, NULL, "warning", rw);

	g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
osc_client_init(OscClient *self)
{
	g_mutex_init(&self->lock);
	self->tls_verify = TRUE;
	self->retry_enabled = TRUE;
	self->max_retries = 3;
	self->backoff_factor = 1.0;
	self->timeout = 30;
	self->pool_size = 10;
	self->log_threshold = G_LOG_LEVEL_WARNING;
}

/**
 * osc_client_new:
 * @base_url: the server, e.g. `http://127.0.0.1:9000`
 * @user_key: (nullable): the encryption secret sent as `X-User-Key`
 * @api_key: (nullable): the API key sent as `X-API-Key`
 *
 * Other settings are properties: `g_object_new (OSC_TYPE_CLIENT, "base-url", …)`.
 *
 * Returns: (transfer full): a new client
 */
OscClient *
osc_client_new(const gchar *base_url, const gchar *user_key, const gchar *api_key)
{
	g_return_val_if_fail(base_url != NULL, NULL);

	return g_object_new(OSC_TYPE_CLIENT, "base-url", base_url, "user-key", user_key, "api-key",
			    api_key, NULL);
}

/**
 * osc_client_get_base_url:
 *
 * Returns: (nullable): the server URL, without a trailing `/`; valid until
 *   #OscClient:base-url changes
 */
const gchar *
osc_client_get_base_url(OscClient *self)
{
	g_return_val_if_fail(OSC_IS_CLIENT(self), NULL);
	return self->base_url;
}

/**
 * osc_client_set_user_key:
 * @user_key: (nullable): the new user key
 */
void
osc_client_set_user_key(OscClient *self, const gchar *user_key)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_set_string(self, &self->user_key, user_key, properties[PROP_USER_KEY]);
}

/**
 * osc_client_set_api_key:
 * @api_key: (nullable): the new API key
 */
void
osc_client_set_api_key(OscClient *self, const gchar *api_key)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	osc_client_set_string(self, &self->api_key, api_key, properties[PROP_API_KEY]);
}

guint
osc_client_get_timeout(OscClient *self)
{
	g_return_val_if_fail(OSC_IS_CLIENT(self), 0);
	return self->timeout;
}

gboolean
osc_client_get_retry_enabled(OscClient *self)
{
	gboolean v;

	g_return_val_if_fail(OSC_IS_CLIENT(self), FALSE);
	g_mutex_lock(&self->lock);
	v = self->retry_enabled;
	g_mutex_unlock(&self->lock);
	return v;
}

void
osc_client_set_retry_enabled(OscClient *self, gboolean retry_enabled)
{
	g_return_if_fail(OSC_IS_CLIENT(self));

	retry_enabled = !!retry_enabled;
	g_mutex_lock(&self->lock);
	if (self->retry_enabled == retry_enabled) {
		g_mutex_unlock(&self->lock);
		return;
	}
	self->retry_enabled = retry_enabled;
	g_mutex_unlock(&self->lock);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_RETRY_ENABLED]);
}

guint
osc_client_get_max_retries(OscClient *self)
{
	guint v;

	g_return_val_if_fail(OSC_IS_CLIENT(self), 0);
	g_mutex_lock(&self->lock);
	v = self->max_retries;
	g_mutex_unlock(&self->lock);
	return v;
}

void
osc_client_set_max_retries(OscClient *self, guint max_retries)
{
	g_return_if_fail(OSC_IS_CLIENT(self));

	g_mutex_lock(&self->lock);
	if (self->max_retries == max_retries) {
		g_mutex_unlock(&self->lock);
		return;
	}
	self->max_retries = max_retries;
	g_mutex_unlock(&self->lock);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_MAX_RETRIES]);
}

gdouble
osc_client_get_backoff_factor(OscClient *self)
{
	gdouble v;

	g_return_val_if_fail(OSC_IS_CLIENT(self), 0);
	g_mutex_lock(&self->lock);
	v = self->backoff_factor;
	g_mutex_unlock(&self->lock);
	return v;
}

void
osc_client_set_backoff_factor(OscClient *self, gdouble backoff_factor)
{
	g_return_if_fail(OSC_IS_CLIENT(self));
	g_return_if_fail(backoff_factor >= 0);

	g_mutex_lock(&self->lock);
	if (self->backoff_factor == backoff_factor) {
		g_mutex_unlock(&self->lock);
		return;
	}
	self->backoff_factor = backoff_factor;
	g_mutex_unlock(&self->lock);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_BACKOFF_FACTOR]);
}
