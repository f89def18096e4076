/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OscService OscService;

#define OSC_TYPE_HTTP_SERVER (osc_http_server_get_type())
G_DECLARE_FINAL_TYPE(OscHttpServer, osc_http_server, OSC, HTTP_SERVER, GObject)

OscHttpServer *
osc_http_server_new(OscService *service);
gboolean
osc_http_server_listen(OscHttpServer *self, GError **error);
GPtrArray *
osc_http_server_get_uris(OscHttpServer *self);
void
osc_http_server_drain_async(OscHttpServer *self,
			    guint timeout_ms,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean
osc_http_server_drain_finish(OscHttpServer *self, GAsyncResult *result, GError **error);
void
osc_http_server_close(OscHttpServer *self);

G_END_DECLS
