/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "osc-connection-list.h"

G_BEGIN_DECLS

#define OSC_TYPE_CONNECTION_DIALOG (osc_connection_dialog_get_type())
G_DECLARE_FINAL_TYPE(OscConnectionDialog, osc_connection_dialog, OSC, CONNECTION_DIALOG, AdwWindow)

OscConnectionDialog *
osc_connection_dialog_new(GtkWindow *parent, OscConnectionList *connections);

G_END_DECLS
