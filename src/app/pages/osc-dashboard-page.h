/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "libosc-client.h"

G_BEGIN_DECLS

#define OSC_TYPE_DASHBOARD_PAGE (osc_dashboard_page_get_type())
G_DECLARE_FINAL_TYPE(OscDashboardPage, osc_dashboard_page, OSC, DASHBOARD_PAGE, AdwBin)

GtkWidget *
osc_dashboard_page_new(OscClient *client);
OscClient *
osc_dashboard_page_get_client(OscDashboardPage *self);
void
osc_dashboard_page_set_client(OscDashboardPage *self, OscClient *client);
void
osc_dashboard_page_reload(OscDashboardPage *self);

/* what the page shows, for the tests */
const gchar *
osc_dashboard_page_get_total_text(OscDashboardPage *self);
guint
osc_dashboard_page_get_n_categories_shown(OscDashboardPage *self);
const gchar *
osc_dashboard_page_get_cluster_text(OscDashboardPage *self);

G_END_DECLS
