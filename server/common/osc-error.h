/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OSC_ERROR (osc_error_quark ())

/**
 * OscError:
 * @OSC_ERROR_FAILED: an internal failure (HTTP 500)
 * @OSC_ERROR_INVALID_ARGUMENT: the input is not acceptable (HTTP 400)
 * @OSC_ERROR_NOT_FOUND: no such entry (HTTP 404)
 * @OSC_ERROR_EXISTS: the (key, environment) pair is taken (HTTP 400, "already exists")
 * @OSC_ERROR_AUTH: the user key is missing, too short or does not open the entry (HTTP 401)
 * @OSC_ERROR_FORBIDDEN: the API key is missing or wrong (HTTP 403)
 * @OSC_ERROR_PRECONDITION_FAILED: an If-Match precondition did not hold (HTTP 412)
 * @OSC_ERROR_TOO_LARGE: a body or value is over its limit (HTTP 413)
 * @OSC_ERROR_INVALID_TOKEN: a Fernet token is malformed or its MAC does not verify
 * @OSC_ERROR_TOKEN_EXPIRED: a Fernet token is older than the TTL asked for, or from the future
 * @OSC_ERROR_CORRUPT: stored data (salt, database) is unreadable or inconsistent
 * @OSC_ERROR_CONFLICT: the request conflicts with the state (HTTP 409)
 * @OSC_ERROR_UNAVAILABLE: the service cannot answer now (HTTP 503)
 * @OSC_ERROR_RATE_LIMITED: too many attempts (HTTP 429)
 */
typedef enum {
	OSC_ERROR_FAILED,
	OSC_ERROR_INVALID_ARGUMENT,
	OSC_ERROR_NOT_FOUND,
	OSC_ERROR_EXISTS,
	OSC_ERROR_AUTH,
	OSC_ERROR_FORBIDDEN,
	OSC_ERROR_PRECONDITION_FAILED,
	OSC_ERROR_TOO_LARGE,
	OSC_ERROR_INVALID_TOKEN,
	OSC_ERROR_TOKEN_EXPIRED,
	OSC_ERROR_CORRUPT,
	OSC_ERROR_CONFLICT,
	OSC_ERROR_UNAVAILABLE,
	OSC_ERROR_RATE_LIMITED,
	OSC_ERROR_LAST /*< skip >*/
} OscError;

GQuark
osc_error_quark(void);
guint
osc_error_to_http_status(const GError *error);
const gchar *
osc_error_to_string(OscError code);

G_END_DECLS
