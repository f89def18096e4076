/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <libsoup/soup.h>

#include "osc-client-error.h"
#include "osc-client.h"
#include "osc-config-entry.h"

G_BEGIN_DECLS

/* the longest a retry waits, whatever backoff-factor and Retry-After say */
#define OSC_CLIENT_MAX_BACKOFF_SECONDS 30.0

/*
 * One REST call, described once and sent as many times as the retry policy allows; each
 * attempt builds a fresh SoupMessage from it. Immutable once running, so a reply may keep
 * a reference for the _finish function (key, environment, default value).
 */
typedef struct {
	gint ref_count;
	gchar *method;
	gchar *path;	    /* already escaped, e.g. "/configs/a%2Fb" */
	GString *query;	    /* "" or "?a=b&c=d", escaped */
	GBytes *body;	    /* JSON, or NULL */
	GPtrArray *headers; /* name, value, name, value, … */
	gboolean idempotent; /* FALSE: retried only on answers that mean "not processed" */
	gboolean accept_not_found; /* a 404 is a reply (status 404), not an error */
	gboolean text_reply;	   /* a successful body is text (GET /metrics), kept as is */
	/* for the _finish functions */
	gchar *key;
	gchar *environment;
	JsonNode *extra;
} OscClientCall;

typedef struct {
	OscClientCall *call;
	guint status;
	JsonNode *json; /* the body; a null node when it was empty */
	gchar *etag;
	GBytes *text; /* the body, for calls with text_reply */
} OscClientReply;

OscClientCall *
osc_client_call_new(const gchar *method, const gchar *path);
OscClientCall *
osc_client_call_ref(OscClientCall *call);
void
osc_client_call_unref(OscClientCall *call);
void
osc_client_call_add_query(OscClientCall *call, const gchar *name, const gchar *value);
void
osc_client_call_add_header(OscClientCall *call, const gchar *name, const gchar *value);
void
osc_client_call_take_json_body(OscClientCall *call, JsonNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscClientCall, osc_client_call_unref)

void
osc_client_reply_free(OscClientReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscClientReply, osc_client_reply_free)

/* osc-client-request.c: sending with retries */
OscClientReply *
osc_client_call_run(OscClient *self, OscClientCall *call, GCancellable *cancellable, GError **error);
void
osc_client_call_run_async(OscClient *self,
			  OscClientCall *call,
			  GCancellable *cancellable,
			  gpointer source_tag,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
OscClientReply *
osc_client_call_run_finish(OscClient *self,
			   GAsyncResult *result,
			   gpointer source_tag,
			   GError **error);

gdouble
osc_client_backoff_delay(gdouble backoff_factor, guint attempt, gdouble retry_after);
gboolean
osc_client_parse_retry_after(const gchar *value, gdouble *seconds);
void
osc_client_set_http_error(GError **error, guint status, const gchar *reason, JsonNode *body);

/* osc-client.c: what a request needs from the client, copied under its lock */
typedef struct {
	gchar *base_url;
	gchar *user_key;
	gchar *api_key;
	gboolean tls_verify;
	gboolean retry_enabled;
	guint max_retries;
	gdouble backoff_factor;
	GError *setup_error; /* e.g. an unreadable ca-file, reported by every call */
} OscClientSettings;

OscClientSettings *
osc_client_get_settings(OscClient *self);
void
osc_client_settings_free(OscClientSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscClientSettings, osc_client_settings_free)
SoupSession *
osc_client_get_session(OscClient *self, gboolean sync);
gboolean
osc_client_should_log(OscClient *self, GLogLevelFlags level);

/* helpers shared with OscEventStream */
JsonNode *
osc_client_parse_json(const gchar *text, gssize len, GError **error);
gchar *
osc_client_header_encode(const gchar *value);
gchar *
osc_client_normalize_base_url(const gchar *url);
GLogLevelFlags
osc_client_parse_log_level(const gchar *name);

void
osc_config_entry_set_etag(OscConfigEntry *self, const gchar *etag);

G_END_DECLS
