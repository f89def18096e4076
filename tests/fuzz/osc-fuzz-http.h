/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/*
 * Runs one request through routing and validation as osc_http_handler_cb() does (steps 2–6,
 * keep them in step), against a service made once per process (an API key is required,
 * user keys of 8+ characters) that never listens nor runs a handler. @headers may be NULL.
 * Returns the status answered, or 0 when the request passed validation (the handler would
 * run next).
 */
guint osc_fuzz_http_request(const gchar *method, const gchar *path, GHashTable *query,
			    SoupMessageHeaders *headers, const gchar *body, gsize body_len);

/* the API key the service requires */
#define OSC_FUZZ_API_KEY "fuzz-api-key-0123456789"

G_END_DECLS
