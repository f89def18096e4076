/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OSC_TYPE_LOCAL_SERVER (osc_local_server_get_type())
G_DECLARE_FINAL_TYPE(OscLocalServer, osc_local_server, OSC, LOCAL_SERVER, GObject)

OscLocalServer *
osc_local_server_new(void);
gboolean
osc_local_server_start(OscLocalServer *self, guint port, GError **error);
gboolean
osc_local_server_get_running(OscLocalServer *self);
const gchar *
osc_local_server_get_base_url(OscLocalServer *self);
const gchar *
osc_local_server_get_api_key(OscLocalServer *self);
gboolean
osc_local_server_get_api_key_generated(OscLocalServer *self);
void
osc_local_server_stop_async(OscLocalServer *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean
osc_local_server_stop_finish(OscLocalServer *self, GAsyncResult *result, GError **error);

G_END_DECLS
