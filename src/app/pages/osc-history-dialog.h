/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "libosc-client.h"

G_BEGIN_DECLS

#define OSC_TYPE_HISTORY_DIALOG (osc_history_dialog_get_type())
G_DECLARE_FINAL_TYPE(OscHistoryDialog, osc_history_dialog, OSC, HISTORY_DIALOG, AdwWindow)

GtkWidget *
osc_history_dialog_new(GtkWindow *parent,
		       OscClient *client,
		       const char *key,
		       const char *environment);
void
osc_history_dialog_reload(OscHistoryDialog *self);
/* shows the diff between @version and the current value */
void
osc_history_dialog_select_version(OscHistoryDialog *self, gint64 version);
/* rolls back to the selected version without asking (the button asks first) */
void
osc_history_dialog_rollback_selected(OscHistoryDialog *self);

/* what the dialog shows, for the tests */
guint
osc_history_dialog_get_n_versions(OscHistoryDialog *self);
gint64
osc_history_dialog_get_selected_version(OscHistoryDialog *self);
gchar *
osc_history_dialog_dup_diff_text(OscHistoryDialog *self);
gboolean
osc_history_dialog_get_busy(OscHistoryDialog *self);
const gchar *
osc_history_dialog_get_last_message(OscHistoryDialog *self);

G_END_DECLS
