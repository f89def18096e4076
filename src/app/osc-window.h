/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>
#include <libosc-client.h>

#include "osc-application.h"
#include "osc-entry-store.h"

G_BEGIN_DECLS

#define OSC_TYPE_WINDOW (osc_window_get_type())
G_DECLARE_FINAL_TYPE(OscWindow, osc_window, OSC, WINDOW, AdwApplicationWindow)

OscWindow *
osc_window_new(OscApplication *application);
OscClient *
osc_window_get_client(OscWindow *self);
OscEntryStore *
osc_window_get_store(OscWindow *self);
const gchar *
osc_window_get_connection_id(OscWindow *self);
void
osc_window_set_connection_id(OscWindow *self, const gchar *connection_id);
void
osc_window_add_toast(OscWindow *self, const gchar *title);

G_END_DECLS
