/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "libosc-client.h"

G_BEGIN_DECLS

#define OSC_TYPE_REKEY_DIALOG (osc_rekey_dialog_get_type())
G_DECLARE_FINAL_TYPE(OscRekeyDialog, osc_rekey_dialog, OSC, REKEY_DIALOG, AdwWindow)

GtkWidget *
osc_rekey_dialog_new(GtkWindow *parent, OscClient *client);
OscClient *
osc_rekey_dialog_get_client(OscRekeyDialog *self);
/* what the Re-key button does */
void
osc_rekey_dialog_run(OscRekeyDialog *self);

/* for the tests */
void
osc_rekey_dialog_set_keys(OscRekeyDialog *self, const gchar *key, const gchar *again);
gboolean
osc_rekey_dialog_get_busy(OscRekeyDialog *self);
const gchar *
osc_rekey_dialog_get_status(OscRekeyDialog *self);
gint64
osc_rekey_dialog_get_rekeyed(OscRekeyDialog *self);

G_END_DECLS
