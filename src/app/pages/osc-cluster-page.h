/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "libosc-client.h"

G_BEGIN_DECLS

#define OSC_TYPE_CLUSTER_PAGE (osc_cluster_page_get_type())
G_DECLARE_FINAL_TYPE(OscClusterPage, osc_cluster_page, OSC, CLUSTER_PAGE, AdwBin)

GtkWidget *
osc_cluster_page_new(OscClient *client);
OscClient *
osc_cluster_page_get_client(OscClusterPage *self);
void
osc_cluster_page_set_client(OscClusterPage *self, OscClient *client);
void
osc_cluster_page_reload(OscClusterPage *self);
guint
osc_cluster_page_get_refresh_interval(OscClusterPage *self);
void
osc_cluster_page_set_refresh_interval(OscClusterPage *self, guint seconds);

/* what the page shows, for the tests */
gboolean
osc_cluster_page_get_enabled_shown(OscClusterPage *self);
guint
osc_cluster_page_get_n_nodes_shown(OscClusterPage *self);
gboolean
osc_cluster_page_get_auto_refreshing(OscClusterPage *self);

G_END_DECLS
