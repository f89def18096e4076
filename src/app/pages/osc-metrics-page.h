/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "libosc-client.h"

G_BEGIN_DECLS

#define OSC_TYPE_METRICS_PAGE (osc_metrics_page_get_type())
G_DECLARE_FINAL_TYPE(OscMetricsPage, osc_metrics_page, OSC, METRICS_PAGE, AdwBin)

GtkWidget *
osc_metrics_page_new(OscClient *client);
OscClient *
osc_metrics_page_get_client(OscMetricsPage *self);
void
osc_metrics_page_set_client(OscMetricsPage *self, OscClient *client);
void
osc_metrics_page_reload(OscMetricsPage *self);

/* what the page shows, for the tests */
guint
osc_metrics_page_get_n_families(OscMetricsPage *self);
const gchar *
osc_metrics_page_get_family_type(OscMetricsPage *self, const gchar *family);
guint
osc_metrics_page_get_n_samples(OscMetricsPage *self, const gchar *family);

G_END_DECLS
