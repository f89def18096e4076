/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

GBytes *
osc_salt_load(const gchar *path, GError **error);
GBytes *
osc_salt_load_or_create(const gchar *path, gboolean *created, GError **error);
gboolean
osc_salt_write(const gchar *path, GBytes *salt, GError **error);

G_END_DECLS
