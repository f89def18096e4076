/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#if !defined(OSC_CLIENT_INSIDE) && !defined(OSC_CLIENT_COMPILATION)
#error "Only <libosc-client.h> can be included directly."
#endif

#include <glib-object.h>

#include "osc-client-export.h"

G_BEGIN_DECLS

/**
 * OSC_CLIENT_ERROR:
 *
 * The error domain of libosc-client. Cancellation is reported as %G_IO_ERROR_CANCELLED.
 */
#define OSC_CLIENT_ERROR (osc_client_error_quark())

/**
 * OscClientError:
 * @OSC_CLIENT_ERROR_FAILED: a failure that fits no other code
 * @OSC_CLIENT_ERROR_AUTHENTICATION: the server refused the user key (HTTP 401) or the API
 *   key (HTTP 403)
 * @OSC_CLIENT_ERROR_NOT_FOUND: no such entry or route (HTTP 404)
 * @OSC_CLIENT_ERROR_ALREADY_EXISTS: the (key, environment) pair is taken (HTTP 400 whose
 *   detail says "already exists")
 * @OSC_CLIENT_ERROR_BAD_REQUEST: any other HTTP 400, and 4xx codes without a code of their own
 * @OSC_CLIENT_ERROR_PRECONDITION_FAILED: an If-Match ETag no longer matches (HTTP 412 or 409)
 * @OSC_CLIENT_ERROR_CLUSTER: a cluster call failed
 * @OSC_CLIENT_ERROR_SSE: the event stream failed
 * @OSC_CLIENT_ERROR_CONNECTION: the server could not be reached, or TLS failed
 * @OSC_CLIENT_ERROR_TIMEOUT: the server did not answer in time
 * @OSC_CLIENT_ERROR_INVALID_RESPONSE: the answer is not what the API promises
 * @OSC_CLIENT_ERROR_SERVER: the server failed (HTTP 5xx, or 429 once retries ran out)
 * @OSC_CLIENT_ERROR_TOO_LARGE: the request body or value is over the server's limit (HTTP 413)
 * @OSC_CLIENT_ERROR_VALIDATION: the request did not validate (HTTP 422, or a check made by
 *   the client before sending)
 *
 * Error codes of %OSC_CLIENT_ERROR. Messages carry the server's `detail` text.
 */
typedef enum {
	OSC_CLIENT_ERROR_FAILED,
	OSC_CLIENT_ERROR_AUTHENTICATION,
	OSC_CLIENT_ERROR_NOT_FOUND,
	OSC_CLIENT_ERROR_ALREADY_EXISTS,
	OSC_CLIENT_ERROR_BAD_REQUEST,
	OSC_CLIENT_ERROR_PRECONDITION_FAILED,
	OSC_CLIENT_ERROR_CLUSTER,
	OSC_CLIENT_ERROR_SSE,
	OSC_CLIENT_ERROR_CONNECTION,
	OSC_CLIENT_ERROR_TIMEOUT,
	OSC_CLIENT_ERROR_INVALID_RESPONSE,
	OSC_CLIENT_ERROR_SERVER,
	OSC_CLIENT_ERROR_TOO_LARGE,
	OSC_CLIENT_ERROR_VALIDATION,
} OscClientError;

#define OSC_TYPE_CLIENT_ERROR (osc_client_error_get_type())

OSC_CLIENT_EXPORT
GQuark
osc_client_error_quark(void);
OSC_CLIENT_EXPORT
GType
osc_client_error_get_type(void);

G_END_DECLS
