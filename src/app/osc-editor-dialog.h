/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>
#include <libosc-client.h>

#include "osc-entry-store.h"

G_BEGIN_DECLS

#define OSC_TYPE_EDITOR_DIALOG (osc_editor_dialog_get_type())
G_DECLARE_FINAL_TYPE(OscEditorDialog, osc_editor_dialog, OSC, EDITOR_DIALOG, AdwWindow)

OscEditorDialog *
osc_editor_dialog_new(GtkWindow *parent, OscClient *client, OscEntryStore *store, OscEntryItem *item);
const gchar *
osc_editor_dialog_get_key(OscEditorDialog *self);
const gchar *
osc_editor_dialog_get_environment(OscEditorDialog *self);
gboolean
osc_editor_dialog_external_change(OscEditorDialog *self, const gchar *event_type, OscEntryItem *item);

G_END_DECLS
