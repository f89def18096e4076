/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscClient"

#include "config.h"

#include "osc-client-error.h"

/**
 * osc_client_error_quark:
 *
 * Returns: the %OSC_CLIENT_ERROR domain
 */
GQuark
osc_client_error_quark(void)
{
	/* spelt out: clang-format puts spaces into G_DEFINE_QUARK's dashed name */
	return g_quark_from_static_string("osc-client-error-quark");
}

G_DEFINE_ENUM_TYPE(OscClientError, osc_client_error,
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_FAILED, "failed"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_AUTHENTICATION, "authentication"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_NOT_FOUND, "not-found"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_ALREADY_EXISTS, "already-exists"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_BAD_REQUEST, "bad-request"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_PRECONDITION_FAILED, "precondition-failed"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_CLUSTER, "cluster"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_SSE, "sse"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_CONNECTION, "connection"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_TIMEOUT, "timeout"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_INVALID_RESPONSE, "invalid-response"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_SERVER, "server"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_TOO_LARGE, "too-large"),
		   G_DEFINE_ENUM_VALUE(OSC_CLIENT_ERROR_VALIDATION, "validation"))
