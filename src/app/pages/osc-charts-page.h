/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "libosc-client.h"

G_BEGIN_DECLS

#define OSC_TYPE_CHARTS_PAGE (osc_charts_page_get_type())
G_DECLARE_FINAL_TYPE(OscChartsPage, osc_charts_page, OSC, CHARTS_PAGE, AdwBin)

GtkWidget *
osc_charts_page_new(OscClient *client);
OscClient *
osc_charts_page_get_client(OscChartsPage *self);
void
osc_charts_page_set_client(OscChartsPage *self, OscClient *client);
void
osc_charts_page_reload(OscChartsPage *self);

/* the charts, for the tests: 0 by category, 1 by environment, 2 environment × category */
GtkWidget *
osc_charts_page_get_chart(OscChartsPage *self, guint which);

G_END_DECLS
