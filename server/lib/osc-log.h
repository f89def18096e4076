/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "osc-config.h"

G_BEGIN_DECLS

gboolean
osc_log_setup(GLogLevelFlags level, OscLogFormat format, const gchar *path, GError **error);
void
osc_log_set_level(GLogLevelFlags level);
void
osc_log_flush(void);
gboolean
osc_log_would_drop(GLogLevelFlags level, const gchar *domain);
gchar *
osc_log_format_fields(GLogLevelFlags level,
		      const GLogField *fields,
		      gsize n_fields,
		      OscLogFormat format);

G_END_DECLS
