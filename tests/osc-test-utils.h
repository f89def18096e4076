/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gchar *
osc_test_make_tmpdir(void);
void
osc_test_rm_rf(const gchar *path);
gchar *
osc_test_data_path(const gchar *name);
GBytes *
osc_test_hex_to_bytes(const gchar *hex);

G_END_DECLS
