/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

#include "osc-connection.h"

G_BEGIN_DECLS

#define OSC_TYPE_CONNECTION_LIST (osc_connection_list_get_type())
G_DECLARE_FINAL_TYPE(OscConnectionList, osc_connection_list, OSC, CONNECTION_LIST, GObject)

OscConnectionList *
osc_connection_list_new(GSettings *settings);
OscConnection *
osc_connection_list_lookup(OscConnectionList *self, const gchar *id);
gboolean
osc_connection_list_add(OscConnectionList *self, OscConnection *connection, GError **error);
gboolean
osc_connection_list_remove(OscConnectionList *self, const gchar *id);
gchar *
osc_connection_list_new_id(OscConnectionList *self);

G_END_DECLS
