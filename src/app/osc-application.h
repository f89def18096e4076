/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "osc-connection-list.h"
#include "osc-local-server.h"

G_BEGIN_DECLS

#define OSC_TYPE_APPLICATION (osc_application_get_type())
G_DECLARE_FINAL_TYPE(OscApplication, osc_application, OSC, APPLICATION, AdwApplication)

OscApplication *
osc_application_new(const gchar *application_id, GApplicationFlags flags);
GSettings *
osc_application_get_settings(OscApplication *self);
OscConnectionList *
osc_application_get_connections(OscApplication *self);
OscLocalServer *
osc_application_ensure_local_server(OscApplication *self, GError **error);
void
osc_application_set_local_user_key(OscApplication *self, const gchar *user_key);
void
osc_application_get_local_user_key_async(OscApplication *self,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data);
gchar *
osc_application_get_local_user_key_finish(OscApplication *self,
					  GAsyncResult *result,
					  gboolean *persistent,
					  GError **error);

G_END_DECLS
