/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

#include "osc-backup-page.h"
#include "osc-charts-page.h"
#include "osc-cluster-page.h"
#include "osc-dashboard-page.h"
#include "osc-history-dialog.h"
#include "osc-metrics-page.h"
#include "osc-rekey-dialog.h"
#include "osc-sse-stats-page.h"

G_BEGIN_DECLS

/* registers every type of the pages library (for .ui files that name them) */
void
osc_pages_ensure_types(void);

G_END_DECLS
