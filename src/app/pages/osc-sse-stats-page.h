/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "libosc-client.h"

G_BEGIN_DECLS

#define OSC_TYPE_SSE_STATS_PAGE (osc_sse_stats_page_get_type())
G_DECLARE_FINAL_TYPE(OscSseStatsPage, osc_sse_stats_page, OSC, SSE_STATS_PAGE, AdwBin)

GtkWidget *
osc_sse_stats_page_new(OscClient *client);
OscClient *
osc_sse_stats_page_get_client(OscSseStatsPage *self);
void
osc_sse_stats_page_set_client(OscSseStatsPage *self, OscClient *client);
void
osc_sse_stats_page_reload(OscSseStatsPage *self);

/* what the page shows, for the tests: a counter by its JSON path ("subscriptions.active")
 * and the rows of the open subscriptions */
const gchar *
osc_sse_stats_page_get_counter_text(OscSseStatsPage *self, const gchar *path);
guint
osc_sse_stats_page_get_n_subscriptions_shown(OscSseStatsPage *self);

G_END_DECLS
