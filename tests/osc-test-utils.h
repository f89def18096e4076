/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gchar *
osc_test_make_tmpdir(void);
void
osc_test_rm_rf(const gchar *path);
gchar *
osc_test_data_path(const gchar *name);
GBytes *
osc_test_hex_to_bytes(const gchar *hex);

G_END_DECLS

#include <libsoup/soup.h>

#include "osc-service.h"

G_BEGIN_DECLS

typedef struct {
	guint status;
	gchar *body;
	gsize len;
	SoupMessageHeaders *headers;
	JsonNode *json; /* parsed body when it is JSON, else NULL */
} OscTestResponse;

void
osc_test_response_free(OscTestResponse *resp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscTestResponse, osc_test_response_free)

OscConfig *
osc_test_config_new(const gchar *tmpdir);
OscService *
osc_test_service_new(const OscConfig *config);
gchar *
osc_test_service_base_url(OscService *service);
SoupSession *
osc_test_session_new(void);
OscTestResponse *
osc_test_http(SoupSession *session,
	      const gchar *method,
	      const gchar *url,
	      const gchar *body,
	      const gchar *first_header,
	      ...) G_GNUC_NULL_TERMINATED;
OscTestResponse *
osc_test_http_full(SoupSession *session,
		   const gchar *method,
		   const gchar *url,
		   const gchar *content_type,
		   GBytes *body,
		   const gchar *const *headers);
const gchar *
osc_test_json_detail(OscTestResponse *resp);
void
osc_test_wait_until(gboolean (*predicate)(gpointer), gpointer data, guint timeout_ms);

/* TRUE in an AddressSanitizer build or under valgrind, where allocation-heavy loops are many
 * times slower */
gboolean
osc_test_is_sanitized(void);
guint
osc_test_count_fds(void);

G_END_DECLS

/* helpers for the HTTP suites */
G_BEGIN_DECLS

OscTestResponse *
osc_test_http_send(SoupSession *session, SoupMessage *msg);
GPtrArray *
osc_test_http_parallel(SoupSession *session, GPtrArray *msgs);
gchar *
osc_test_raw_http(guint port, const gchar *request, gssize len, guint timeout_ms, gboolean *closed);
guint
osc_test_raw_status(const gchar *reply);
void
osc_test_use_original_db(OscConfig *config, const gchar *tmpdir);
gboolean
osc_test_isolate(void);
void
osc_test_init_keep_going(int *argc, char ***argv);

G_END_DECLS
