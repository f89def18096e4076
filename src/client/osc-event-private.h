/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "osc-event.h"

G_BEGIN_DECLS

OscEvent *
osc_event_new_from_sse(const gchar *event_type, const gchar *data, const gchar *id, GError **error);

G_END_DECLS
