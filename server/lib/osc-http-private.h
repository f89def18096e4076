/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <libsoup/soup.h>

#include "osc-config.h"
#include "osc-http-server.h"
#include "osc-service.h"

G_BEGIN_DECLS

/* CORS (API.md §1.7) plus what browser clients of our extensions need (D-8, D46) */
#define OSC_CORS_ALLOW_HEADERS                                                                    \
	"Accept, Accept-Language, Authorization, Content-Language, Content-Type, If-Match, "     \
	"Last-Event-ID, Origin, X-API-Key, X-Backup-Password, X-New-User-Key, "                   \
	"X-Requested-With, X-User-Key"
#define OSC_CORS_EXPOSE_HEADERS "Content-Length, Content-Type, ETag, Location"

typedef enum {
	OSC_ROUTE_ROOT,
	OSC_ROUTE_HEALTH,
	OSC_ROUTE_READY,
	OSC_ROUTE_METRICS,
	OSC_ROUTE_OPENAPI,
	OSC_ROUTE_DOCS,
	OSC_ROUTE_CONFIGS,
	OSC_ROUTE_CONFIG,
	OSC_ROUTE_STATS,
	OSC_ROUTE_STATS_OPERATIONS,
	OSC_ROUTE_CLUSTER_STATUS,
	OSC_ROUTE_CLUSTER_HEALTH,
	OSC_ROUTE_CLUSTER_DISTRIBUTION,
	OSC_ROUTE_CLUSTER_CONFIGS,
	OSC_ROUTE_CLUSTER_SALT,
	OSC_ROUTE_SSE_SUBSCRIBE,
	OSC_ROUTE_SSE_STATS,
	OSC_ROUTE_SSE_SUBSCRIPTIONS,
	OSC_ROUTE_SSE_HEALTH,
	OSC_ROUTE_BACKUP,
	OSC_ROUTE_IMPORT,
	OSC_ROUTE_REKEY,
	OSC_ROUTE_CONFIG_VERSIONS,
	OSC_ROUTE_CONFIG_ROLLBACK,
	OSC_ROUTE_CLUSTER_REPLICATE,
	OSC_ROUTE_CLUSTER_DIGEST,
	OSC_ROUTE_CLUSTER_ROWS,
	OSC_ROUTE_CLUSTER_FETCH,
} OscRouteId;

typedef enum {
	OSC_AUTH_OPEN,
	OSC_AUTH_API_KEY,
	OSC_AUTH_USER_KEY,
} OscAuthClass;

typedef enum {
	OSC_BODY_NONE,
	OSC_BODY_MISSING,
	OSC_BODY_NOT_JSON,
	OSC_BODY_NOT_OBJECT,
	OSC_BODY_OBJECT,
} OscBodyState;

typedef enum {
	OSC_OP_NONE,
	OSC_OP_CREATE,
	OSC_OP_READ,
	OSC_OP_UPDATE,
	OSC_OP_DELETE,
	OSC_OP_LIST,
	OSC_OP_BACKUP,
	OSC_OP_IMPORT,
	OSC_OP_REKEY,
	OSC_OP_VERSIONS,
	OSC_OP_ROLLBACK,
} OscOp;

typedef struct {
	OscRouteId id;
	const gchar *template;
	const gchar *allow; /* the Allow header of a 405 */
	OscAuthClass auth;
} OscRoute;

/* One request from routing to answer; handed to a worker and back when it blocks. */
typedef struct {
	OscHttpServer *self;
	SoupServerMessage *msg;
	const gchar *method;
	GHashTable *query; /* libsoup's; valid only during the handler call */
	const OscRoute *route;
	gint64 start;
	gboolean paused;
	gboolean finished;

	/* validated input */
	gchar *key;
	gchar *environment;
	gchar *category;
	gboolean set_category;
	gchar *filter_category;
	gchar *filter_environment;
	gboolean full;
	OscBodyState body_state;
	JsonNode *body_json;
	JsonNode *value;
	GArray *if_match;
	gchar *user_key; /* UTF-8, wiped on free */
	gsize user_key_len;
	gboolean user_key_missing;
	gboolean user_key_item_added;
	OscDerivedKey *dk;
	gchar *password; /* X-Backup-Password, UTF-8, wiped on free */
	gsize password_len;
	gchar *backup_data;
	gboolean overwrite;
	gint64 version; /* ?version=N, 0 when absent */
	gchar *new_user_key; /* X-New-User-Key, UTF-8, wiped on free */
	gsize new_user_key_len;
	gsize list_cache_size; /* OSC_LIST_CACHE_SIZE, read on the main thread */

	/* outcome */
	OscOp op;
	GError *error;
	OscEntry *entry;
	OscEntryRow *deleted;
	guint resp_status;
	gchar *resp_body;
	gsize resp_len;
	GBytes *resp_bytes; /* the body instead of resp_body (an answer kept in memory) */
	gchar *resp_etag;
	gchar *resp_location;
	GPtrArray *changes; /* OscEntry, for an import's events */
} OscRequest;

/* the steps of routing and validation, also for tests/fuzz/osc-fuzz-http.c */
const OscRoute *
osc_http_match(const gchar *path, gchar **key_out, gboolean *redirect);
void
osc_request_free(OscRequest *req);
gboolean
osc_request_read_json_body(OscRequest *req, JsonArray *items);
gboolean
osc_request_check_api_key(OscRequest *req);
gboolean
osc_request_check_user_key(OscRequest *req, JsonArray *dep_items);
gboolean
osc_http_method_allowed(OscRouteId id, const gchar *method);
const gchar *
osc_http_method_label(const gchar *method);
gboolean
osc_http_validate(OscRequest *req, JsonArray *items);
void
osc_http_handle(OscRequest *req);
void
osc_http_run_job(OscRequest *req);
void
osc_http_complete(OscRequest *req);

void
osc_request_respond(OscRequest *req,
		    guint status,
		    const gchar *content_type,
		    gchar *body,
		    gsize len);
void
osc_request_respond_json(OscRequest *req, guint status, JsonNode *node);
void
osc_request_respond_detail(OscRequest *req, guint status, const gchar *detail);
void
osc_request_respond_error(OscRequest *req, const GError *error);

/* osc-http-routes.c */
OscService *
osc_http_server_get_service(OscHttpServer *self);
void
osc_http_handle_simple(OscHttpServer *self, OscRequest *req);
JsonNode *
osc_http_build_stats(OscStore *store, GError **error);
JsonNode *
osc_http_build_cluster_configs(OscStore *store,
			       const gchar *category,
			       const gchar *environment,
			       GError **error);
void
osc_http_sse_subscribe(OscRequest *req);
gboolean
osc_http_setup_tls(SoupServer *soup, const OscConfig *config, GError **error);

/* osc-cluster.c: worker thread, the inter-node routes and /cluster/distribution */
void
osc_cluster_http_job(OscRequest *req);

G_END_DECLS
