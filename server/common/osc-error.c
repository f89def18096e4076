/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscError"

#include "config.h"

#include <gio/gio.h>

#include "osc-error.h"

/* Registered with GDBus so that D-Bus clients get OscError back, not a generic error. */
static const GDBusErrorEntry osc_error_entries[] = {
    {OSC_ERROR_FAILED, "org.opensecureconf.Server1.Error.Failed"},
    {OSC_ERROR_INVALID_ARGUMENT, "org.opensecureconf.Server1.Error.InvalidArgument"},
    {OSC_ERROR_NOT_FOUND, "org.opensecureconf.Server1.Error.NotFound"},
    {OSC_ERROR_EXISTS, "org.opensecureconf.Server1.Error.Exists"},
    {OSC_ERROR_AUTH, "org.opensecureconf.Server1.Error.Auth"},
    {OSC_ERROR_FORBIDDEN, "org.opensecureconf.Server1.Error.Forbidden"},
    {OSC_ERROR_PRECONDITION_FAILED, "org.opensecureconf.Server1.Error.PreconditionFailed"},
    {OSC_ERROR_TOO_LARGE, "org.opensecureconf.Server1.Error.TooLarge"},
    {OSC_ERROR_INVALID_TOKEN, "org.opensecureconf.Server1.Error.InvalidToken"},
    {OSC_ERROR_TOKEN_EXPIRED, "org.opensecureconf.Server1.Error.TokenExpired"},
    {OSC_ERROR_CORRUPT, "org.opensecureconf.Server1.Error.Corrupt"},
    {OSC_ERROR_CONFLICT, "org.opensecureconf.Server1.Error.Conflict"},
    {OSC_ERROR_UNAVAILABLE, "org.opensecureconf.Server1.Error.Unavailable"},
    {OSC_ERROR_RATE_LIMITED, "org.opensecureconf.Server1.Error.RateLimited"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(osc_error_entries) == OSC_ERROR_LAST);

GQuark
osc_error_quark(void)
{
	static gsize quark = 0;
	g_dbus_error_register_error_domain("osc-error-quark",
					   &quark,
					   osc_error_entries,
					   G_N_ELEMENTS(osc_error_entries));
	return (GQuark)quark;
}

/**
 * osc_error_to_http_status:
 * @error: a #GError, usually in the %OSC_ERROR domain
 *
 * The only map from errors to HTTP status codes. Errors of other domains are
 * internal failures.
 *
 * Returns: an HTTP status code
 */
guint
osc_error_to_http_status(const GError *error)
{
	g_return_val_if_fail(error != NULL, 500);

	if (error->domain != OSC_ERROR)
		return 500;
	switch ((OscError)error->code) {
	case OSC_ERROR_INVALID_ARGUMENT:
	case OSC_ERROR_EXISTS:
		return 400;
	case OSC_ERROR_AUTH:
	case OSC_ERROR_INVALID_TOKEN:
	case OSC_ERROR_TOKEN_EXPIRED:
		return 401;
	case OSC_ERROR_FORBIDDEN:
		return 403;
	case OSC_ERROR_NOT_FOUND:
		return 404;
	case OSC_ERROR_CONFLICT:
		return 409;
	case OSC_ERROR_PRECONDITION_FAILED:
		return 412;
	case OSC_ERROR_TOO_LARGE:
		return 413;
	case OSC_ERROR_RATE_LIMITED:
		return 429;
	case OSC_ERROR_UNAVAILABLE:
		return 503;
	case OSC_ERROR_FAILED:
	case OSC_ERROR_CORRUPT:
	case OSC_ERROR_LAST:
	default:
		return 500;
	}
}

const gchar *
osc_error_to_string(OscError code)
{
	if ((guint)code >= G_N_ELEMENTS(osc_error_entries))
		return NULL;
	/* the last component of the D-Bus name is a stable, readable identifier */
	return g_strrstr(osc_error_entries[code].dbus_error_name, ".") + 1;
}
