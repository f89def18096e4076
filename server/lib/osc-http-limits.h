/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <libsoup/soup.h>

#include "osc-config.h"
#include "osc-metrics.h"

G_BEGIN_DECLS

/* how many client addresses the failed-authentication table remembers at most */
#define OSC_RATE_LIMITER_MAX_ENTRIES 16384

/**
 * OscRateLimiter:
 *
 * A token bucket per client address: @limit failures fill it, it drains at @limit per
 * @window seconds. Only failures take tokens, so a client that authenticates correctly
 * is never limited, and one address's failures never limit another address.
 */
typedef struct _OscRateLimiter OscRateLimiter;

OscRateLimiter *
osc_rate_limiter_new(guint limit, guint window_s, guint max_entries);
void
osc_rate_limiter_free(OscRateLimiter *self);
gboolean
osc_rate_limiter_check(OscRateLimiter *self, const gchar *client, gint64 now_us, guint *retry_after);
gboolean
osc_rate_limiter_add_failure(OscRateLimiter *self, const gchar *client, gint64 now_us);
guint
osc_rate_limiter_get_size(OscRateLimiter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscRateLimiter, osc_rate_limiter_free)

gchar *
osc_http_limits_client_key(GSocketAddress *address);

/**
 * OscHttpLimits:
 *
 * What protects the HTTP server from its clients: the failed-authentication rate limit,
 * the connection cap, the request deadline (slow-loris) and the idle timeout. Hooks into
 * a #SoupServer's request signals; the request path calls the auth functions.
 */
typedef struct _OscHttpLimits OscHttpLimits;

OscHttpLimits *
osc_http_limits_new(SoupServer *soup, const OscConfig *config, OscMetrics *metrics);
void
osc_http_limits_free(OscHttpLimits *self);
gboolean
osc_http_limits_auth_allowed(OscHttpLimits *self, SoupServerMessage *msg, guint *retry_after);
void
osc_http_limits_auth_failed(OscHttpLimits *self,
			    SoupServerMessage *msg,
			    guint status,
			    const gchar *route);
guint
osc_http_limits_get_connections(OscHttpLimits *self);
guint
osc_http_limits_get_max_connections(OscHttpLimits *self);
guint
osc_http_limits_fd_budget(void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscHttpLimits, osc_http_limits_free)

G_END_DECLS
