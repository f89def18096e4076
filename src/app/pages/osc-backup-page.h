/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "libosc-client.h"

G_BEGIN_DECLS

#define OSC_TYPE_BACKUP_PAGE (osc_backup_page_get_type())
G_DECLARE_FINAL_TYPE(OscBackupPage, osc_backup_page, OSC, BACKUP_PAGE, AdwBin)

GtkWidget *
osc_backup_page_new(OscClient *client);
OscClient *
osc_backup_page_get_client(OscBackupPage *self);
void
osc_backup_page_set_client(OscBackupPage *self, OscClient *client);
void
osc_backup_page_reload(OscBackupPage *self);
/* what the file choosers lead to; public so that they can be driven without a dialog */
void
osc_backup_page_export_to_file(OscBackupPage *self, GFile *file);
void
osc_backup_page_import_from_file(OscBackupPage *self, GFile *file);

/* what the page shows, for the tests */
gboolean
osc_backup_page_get_busy(OscBackupPage *self);
const gchar *
osc_backup_page_get_export_status(OscBackupPage *self);
const gchar *
osc_backup_page_get_import_status(OscBackupPage *self);
void
osc_backup_page_set_export_password(OscBackupPage *self, const gchar *password, const gchar *again);
void
osc_backup_page_set_import_password(OscBackupPage *self, const gchar *password, gboolean overwrite);
void
osc_backup_page_set_export_filter(OscBackupPage *self, const gchar *environment, const gchar *category);

G_END_DECLS
