/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib/gstdio.h>

#include "osc-test-utils.h"

/* a fresh private directory under the per-test temporary dir (G_TEST_OPTION_ISOLATE_DIRS) */
gchar *
osc_test_make_tmpdir(void)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp("osc-test-XXXXXX", &error);

	g_assert_no_error(error);
	g_assert_nonnull(dir);
	return dir;
}

void
osc_test_rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = NULL;
	const gchar *name;

	if (path == NULL)
		return;
	if (!g_file_test(path, G_FILE_TEST_IS_DIR) || g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
		g_unlink(path);
		return;
	}
	dir = g_dir_open(path, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		osc_test_rm_rf(child);
	}
	g_rmdir(path);
}

/* files under tests/data, found through G_TEST_SRCDIR as meson sets it */
gchar *
osc_test_data_path(const gchar *name)
{
	return g_test_build_filename(G_TEST_DIST, "data", name, NULL);
}

GBytes *
osc_test_hex_to_bytes(const gchar *hex)
{
	GByteArray *buf = g_byte_array_new();

	for (const gchar *p = hex; *p != '\0';) {
		gint hi, lo;
		guint8 b;

		if (g_ascii_isspace(*p)) {
			p++;
			continue;
		}
		hi = g_ascii_xdigit_value(p[0]);
		lo = g_ascii_xdigit_value(p[1]);
		g_assert_cmpint(hi, >=, 0);
		g_assert_cmpint(lo, >=, 0);
		b = (guint8)(hi << 4 | lo);
		g_byte_array_append(buf, &b, 1);
		p += 2;
	}
	return g_byte_array_free_to_bytes(buf);
}
