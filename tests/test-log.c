/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * oscd's log writer (server/lib/osc-log.c): the threshold that osc_log_would_drop()
 * reports to hot paths, which skip building records nobody would see, and the records it
 * writes.
 */

#define G_LOG_DOMAIN "OscTestLog"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "osc-log.h"
#include "osc-test-utils.h"

static void
test_log_would_drop(void)
{
	g_autofree gchar *dir = osc_test_make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "oscd.log", NULL);
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error = NULL;

	/* before oscd installs its writer: GLib's default writer decides (INFO is dropped
	 * unless G_MESSAGES_DEBUG names the domain) */
	g_assert_true(osc_log_would_drop(G_LOG_LEVEL_INFO, G_LOG_DOMAIN) ==
		      g_log_writer_default_would_drop(G_LOG_LEVEL_INFO, G_LOG_DOMAIN));
	g_assert_false(osc_log_would_drop(G_LOG_LEVEL_WARNING, G_LOG_DOMAIN));

	g_assert_true(osc_log_setup(G_LOG_LEVEL_WARNING, OSC_LOG_FORMAT_JSON, path, &error));
	g_assert_no_error(error);
	g_assert_true(osc_log_would_drop(G_LOG_LEVEL_INFO, G_LOG_DOMAIN));
	g_assert_true(osc_log_would_drop(G_LOG_LEVEL_MESSAGE, G_LOG_DOMAIN));
	g_assert_false(osc_log_would_drop(G_LOG_LEVEL_WARNING, G_LOG_DOMAIN));
	g_assert_false(osc_log_would_drop(G_LOG_LEVEL_CRITICAL, G_LOG_DOMAIN));
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE", "dropped-info");

	/* a reload lowers the threshold */
	osc_log_set_level(G_LOG_LEVEL_DEBUG);
	g_assert_false(osc_log_would_drop(G_LOG_LEVEL_INFO, G_LOG_DOMAIN));
	g_assert_false(osc_log_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN));
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE", "written-info");
	/* and raises it (MESSAGE counts as INFO) */
	osc_log_set_level(G_LOG_LEVEL_WARNING);
	g_assert_true(osc_log_would_drop(G_LOG_LEVEL_INFO, G_LOG_DOMAIN));
	g_assert_true(osc_log_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN));
	g_assert_false(osc_log_would_drop(G_LOG_LEVEL_WARNING, G_LOG_DOMAIN));

	/* and what it says is what the writer does */
	osc_log_flush();
	g_assert_true(g_file_get_contents(path, &text, NULL, &error));
	g_assert_no_error(error);
	g_assert_null(strstr(text, "dropped-info"));
	g_assert_nonnull(strstr(text, "written-info"));
	osc_test_rm_rf(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/osc/log/would-drop", test_log_would_drop);
	return g_test_run();
}
