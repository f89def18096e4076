/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <signal.h>
#include <sys/prctl.h>

#include "osc-test-utils.h"

/*
 * libosc-client through GObject-Introspection: runs examples/osc-example.py with the
 * system's Python (PyGObject) against an oscd on a free port, with GI_TYPELIB_PATH and
 * LD_LIBRARY_PATH pointing into the build tree, and checks what it printed: OscClient calls,
 * typed errors and OscEventStream signals, all through PyGObject.
 */

#define PYTHON "/usr/bin/python3"

typedef struct {
	gchar *tmpdir;
	GSubprocess *oscd;
	gchar *url;
} Fixture;

static void
die_with_parent(gpointer data)
{
	/* a failed assertion must not leave oscd running (and holding the test's pipes) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* oscd on port 0 prints its URL in the start-up banner */
static void
fixture_setup(Fixture *f, gconstpointer data)
{
	const gchar *oscd = g_getenv("OSCD_PATH");
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *db = NULL;
	g_autofree gchar *salt = NULL;

	g_assert_nonnull(oscd);
	f->tmpdir = osc_test_make_tmpdir();
	db = g_build_filename(f->tmpdir, "configurations.db", NULL);
	salt = g_build_filename(f->tmpdir, "encryption.salt", NULL);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST", "127.0.0.1", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST_PORT", "0", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_DATABASE_PATH", db, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_SALT_FILE_PATH", salt, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_LOG_LEVEL", "warning", TRUE);
	g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
	f->oscd = g_subprocess_launcher_spawn(launcher, &error, oscd, NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->oscd));
	while (f->url == NULL) {
		g_autofree gchar *line =
			g_data_input_stream_read_line_utf8(out, NULL, NULL, &error);
		const gchar *at;

		g_assert_no_error(error);
		g_assert_nonnull(line); /* oscd exited before listening */
		at = strstr(line, "listening on ");
		if (at != NULL) {
			f->url = g_strdup(at + strlen("listening on "));
			g_strstrip(f->url);
			if (g_str_has_suffix(f->url, "/"))
				f->url[strlen(f->url) - 1] = '\0';
		}
	}
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	if (f->oscd != NULL) {
		g_subprocess_send_signal(f->oscd, SIGTERM);
		g_subprocess_wait(f->oscd, NULL, NULL);
		g_clear_object(&f->oscd);
	}
	g_free(f->url);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

static gboolean
python_has_gi(void)
{
	const gchar *argv[] = {PYTHON, "-c", "import gi", NULL};
	gint status = -1;

	if (!g_file_test(PYTHON, G_FILE_TEST_IS_EXECUTABLE))
		return FALSE;
	if (!g_spawn_sync(NULL, (gchar **)argv, NULL,
			  G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
			  NULL, &status, NULL))
		return FALSE;
	return g_spawn_check_wait_status(status, NULL);
}

static void
test_python_example(Fixture *f, gconstpointer data)
{
	g_autofree gchar *example =
		g_test_build_filename(G_TEST_DIST, "..", "examples", "osc-example.py", NULL);
	g_autofree gchar *libdir = g_test_build_filename(G_TEST_BUILT, "..", "src", "client", NULL);
	g_autofree gchar *typelib = g_build_filename(libdir, "Osc-1.0.typelib", NULL);
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) python = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	const gchar *expected = "service: OpenSecureConf API\n"
				"created: example.database example database True\n"
				"event: created example.database 5432\n"
				"read: example.database db.example.org etag \"1\"\n"
				"listed: example.database\n"
				"exists: True False\n"
				"updated: 6432 category database\n"
				"stale update refused: precondition-failed\n"
				"events: connected created updated deleted received 4\n"
				"deleted: example.database\n";

	if (!python_has_gi()) {
		g_test_skip(PYTHON " with PyGObject is not available");
		return;
	}
	g_assert_true(g_file_test(typelib, G_FILE_TEST_EXISTS));

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_setenv(launcher, "GI_TYPELIB_PATH", libdir, TRUE);
	g_subprocess_launcher_setenv(launcher, "LD_LIBRARY_PATH", libdir, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_USER_KEY", "gi-test-user-key-1", TRUE);
	g_subprocess_launcher_unsetenv(launcher, "OSC_API_KEY");
	g_subprocess_launcher_unsetenv(launcher, "OSC_URL");
	python = g_subprocess_launcher_spawn(launcher, &error, PYTHON, example, f->url, NULL);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(python, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	if (!g_subprocess_get_if_exited(python) || g_subprocess_get_exit_status(python) != 0)
		g_error("the example failed:\n%s\n%s", out, err);
	g_assert_cmpstr(out, ==, expected);

	/* and the URL from the environment works as well as the argument */
	g_clear_object(&python);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_subprocess_launcher_setenv(launcher, "OSC_URL", f->url, TRUE);
	python = g_subprocess_launcher_spawn(launcher, &error, PYTHON, example, NULL);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(python, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(python));
	g_assert_cmpint(g_subprocess_get_exit_status(python), ==, 0);
	g_assert_nonnull(strstr(out, "deleted: example.database\n"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/osc/client/gi/python-example", Fixture, NULL, fixture_setup,
		   test_python_example, fixture_teardown);
	return g_test_run();
}
