/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib/gstdio.h>

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osc-crypto.h"
#include "osc-error.h"
#include "osc-salt.h"
#include "osc-test-utils.h"

typedef struct {
	gchar *tmpdir;
	gchar *path;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	fx->tmpdir = osc_test_make_tmpdir();
	fx->path = g_build_filename(fx->tmpdir, "encryption.salt", NULL);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	osc_test_rm_rf(fx->tmpdir);
	g_free(fx->tmpdir);
	g_free(fx->path);
}

static guint
file_mode(const gchar *path)
{
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	return st.st_mode & 07777;
}

static void
write_file(const gchar *path, const gchar *data, gsize len, guint mode)
{
	g_autoptr(GError) error = NULL;

	g_file_set_contents_full(path,
				 data,
				 (gssize)len,
				 G_FILE_SET_CONTENTS_NONE,
				 (int)mode,
				 &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(path, (int)mode), ==, 0);
}

static guint
count_dir_entries(const gchar *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	guint n = 0;

	g_assert_nonnull(d);
	while (g_dir_read_name(d) != NULL)
		n++;
	return n;
}

static void
test_create_and_reload(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) salt = NULL;
	g_autoptr(GBytes) again = NULL;
	g_autoptr(GBytes) loaded = NULL;
	gboolean created = FALSE;

	salt = osc_salt_load_or_create(fx->path, &created, &error);
	g_assert_no_error(error);
	g_assert_true(created);
	g_assert_cmpuint(g_bytes_get_size(salt), ==, OSC_SALT_LEN);
	g_assert_cmpuint(file_mode(fx->path), ==, 0600);
	/* the temporary file is gone: only the salt is left */
	g_assert_cmpuint(count_dir_entries(fx->tmpdir), ==, 1);

	again = osc_salt_load_or_create(fx->path, &created, &error);
	g_assert_no_error(error);
	g_assert_false(created);
	g_assert_true(g_bytes_equal(salt, again));

	loaded = osc_salt_load(fx->path, &error);
	g_assert_no_error(error);
	g_assert_true(g_bytes_equal(salt, loaded));

	/* the salt is random: a second file gets a different one */
	{
		g_autofree gchar *other = g_build_filename(fx->tmpdir, "other.salt", NULL);
		g_autoptr(GBytes) salt2 = osc_salt_load_or_create(other, NULL, &error);

		g_assert_no_error(error);
		g_assert_false(g_bytes_equal(salt, salt2));
	}
}

static void
test_parent_dirs(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_build_filename(fx->tmpdir, "a", "b", NULL);
	g_autofree gchar *path = g_build_filename(dir, "encryption.salt", NULL);
	g_autoptr(GBytes) salt = NULL;
	gboolean created = FALSE;

	salt = osc_salt_load_or_create(path, &created, &error);
	g_assert_no_error(error);
	g_assert_true(created);
	g_assert_cmpuint(g_bytes_get_size(salt), ==, OSC_SALT_LEN);
	g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
	g_assert_cmpuint(file_mode(dir) & 0077, ==, 0);
	g_assert_cmpuint(file_mode(path), ==, 0600);
}

static void
test_missing(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) salt = osc_salt_load(fx->path, &error);

	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_assert_null(salt);
	g_assert_nonnull(strstr(error->message, fx->path));
	/* loading never creates */
	g_assert_false(g_file_test(fx->path, G_FILE_TEST_EXISTS));
}

static void
test_empty(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;
	g_autoptr(GBytes) salt = NULL;
	g_autoptr(GBytes) salt2 = NULL;
	gboolean created = TRUE;

	write_file(fx->path, "", 0, 0600);
	salt = osc_salt_load(fx->path, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_CORRUPT);
	g_assert_null(salt);

	/* an existing file is never replaced, even an empty one */
	salt2 = osc_salt_load_or_create(fx->path, &created, &error2);
	g_assert_error(error2, OSC_ERROR, OSC_ERROR_CORRUPT);
	g_assert_null(salt2);
	g_assert_false(created);
	g_assert_true(g_file_test(fx->path, G_FILE_TEST_IS_REGULAR));
	{
		g_autofree gchar *contents = NULL;
		gsize len = 1;

		g_assert_true(g_file_get_contents(fx->path, &contents, &len, NULL));
		g_assert_cmpuint(len, ==, 0);
	}
}

static void
test_unreadable(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) salt = NULL;
	gboolean created = TRUE;

	/* a directory where the file should be: works as a test even as root */
	g_assert_cmpint(g_mkdir(fx->path, 0700), ==, 0);
	salt = osc_salt_load_or_create(fx->path, &created, &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
	g_assert_null(salt);
	g_assert_false(created);
	g_assert_true(g_file_test(fx->path, G_FILE_TEST_IS_DIR));
	g_clear_error(&error);

	/* a file without read permission: only meaningful when not root */
	if (geteuid() != 0) {
		g_autofree gchar *path = g_build_filename(fx->tmpdir, "noread.salt", NULL);
		g_autoptr(GBytes) salt2 = NULL;

		write_file(path, "0123456789", 10, 0000);
		salt2 = osc_salt_load_or_create(path, &created, &error);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
		g_assert_null(salt2);
		g_assert_nonnull(strstr(error->message, path));
		g_assert_cmpuint(file_mode(path), ==, 0000);
	} else {
		g_test_message("running as root: the permission-denied case is skipped");
	}
}

static void
test_any_length(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) salt = NULL;
	gboolean created = TRUE;

	/* the original uses the whole content as the salt, whatever its length */
	write_file(fx->path, "short\n\0x", 8, 0600);
	salt = osc_salt_load_or_create(fx->path, &created, &error);
	g_assert_no_error(error);
	g_assert_false(created);
	g_assert_cmpmem(g_bytes_get_data(salt, NULL), g_bytes_get_size(salt), "short\n\0x", 8);
}

static void
test_mode_refused(Fixture *fx, gconstpointer data)
{
	static const guint refused[] = {0644, 0640, 0604, 0620, 0602, 0660, 0666};
	static const guint accepted[] = {0600, 0400};

	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) salt = NULL;
		g_autofree gchar *mode = g_strdup_printf("(mode %04o)", refused[i]);

		write_file(fx->path, "0123456789abcdef", 16, refused[i]);
		salt = osc_salt_load(fx->path, &error);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
		g_assert_null(salt);
		g_assert_nonnull(strstr(error->message, "accessible by group or others"));
		g_assert_nonnull(strstr(error->message, mode));
		g_assert_nonnull(strstr(error->message, "chmod 600"));
		/* nor does load-or-create paper over it */
		g_clear_error(&error);
		salt = osc_salt_load_or_create(fx->path, NULL, &error);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
		g_assert_cmpuint(file_mode(fx->path), ==, refused[i]);
		g_assert_cmpint(g_unlink(fx->path), ==, 0);
	}
	for (guint i = 0; i < G_N_ELEMENTS(accepted); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) salt = NULL;

		write_file(fx->path, "0123456789abcdef", 16, accepted[i]);
		salt = osc_salt_load(fx->path, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(g_bytes_get_size(salt), ==, 16);
		g_assert_cmpint(g_chmod(fx->path, 0600), ==, 0);
		g_assert_cmpint(g_unlink(fx->path), ==, 0);
	}
}

static void
test_write(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) salt = g_bytes_new_static("cluster-salt-0123456789", 23);
	g_autoptr(GBytes) other = g_bytes_new_static("another-salt", 12);
	g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
	g_autoptr(GBytes) loaded = NULL;
	g_autofree gchar *nested = g_build_filename(fx->tmpdir, "x", "y.salt", NULL);

	g_assert_true(osc_salt_write(fx->path, salt, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(file_mode(fx->path), ==, 0600);
	loaded = osc_salt_load(fx->path, &error);
	g_assert_no_error(error);
	g_assert_true(g_bytes_equal(loaded, salt));
	g_assert_cmpuint(count_dir_entries(fx->tmpdir), ==, 1);

	/* never over an existing salt */
	g_assert_false(osc_salt_write(fx->path, other, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
	g_clear_error(&error);
	g_clear_pointer(&loaded, g_bytes_unref);
	loaded = osc_salt_load(fx->path, &error);
	g_assert_no_error(error);
	g_assert_true(g_bytes_equal(loaded, salt));
	g_assert_cmpuint(count_dir_entries(fx->tmpdir), ==, 1);

	g_assert_false(osc_salt_write(nested, empty, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	g_assert_true(osc_salt_write(nested, other, &error));
	g_assert_no_error(error);
}

#define N_THREADS 8

typedef struct {
	const gchar *path;
	GMutex mutex;
	GCond cond;
	gboolean go;
	gint created;
} Race;

static gpointer
race_thread(gpointer data)
{
	Race *race = data;
	g_autoptr(GError) error = NULL;
	GBytes *salt;
	gboolean created = FALSE;

	g_mutex_lock(&race->mutex);
	while (!race->go)
		g_cond_wait(&race->cond, &race->mutex);
	g_mutex_unlock(&race->mutex);

	salt = osc_salt_load_or_create(race->path, &created, &error);
	g_assert_no_error(error);
	if (created)
		g_atomic_int_inc(&race->created);
	return salt;
}

static void
test_concurrent(Fixture *fx, gconstpointer data)
{
	/* a few rounds, each on a fresh path, to give the race a chance to happen */
	for (guint round = 0; round < 10; round++) {
		g_autofree gchar *name = g_strdup_printf("race-%u.salt", round);
		g_autofree gchar *path = g_build_filename(fx->tmpdir, name, NULL);
		g_autoptr(GBytes) on_disk = NULL;
		g_autoptr(GError) error = NULL;
		GThread *threads[N_THREADS];
		GBytes *salts[N_THREADS];
		Race race = {.path = path};

		g_mutex_init(&race.mutex);
		g_cond_init(&race.cond);
		for (guint i = 0; i < N_THREADS; i++)
			threads[i] = g_thread_new("salt-race", race_thread, &race);
		g_mutex_lock(&race.mutex);
		race.go = TRUE;
		g_cond_broadcast(&race.cond);
		g_mutex_unlock(&race.mutex);
		for (guint i = 0; i < N_THREADS; i++)
			salts[i] = g_thread_join(threads[i]);

		on_disk = osc_salt_load(path, &error);
		g_assert_no_error(error);
		g_assert_cmpint(race.created, ==, 1);
		for (guint i = 0; i < N_THREADS; i++) {
			g_assert_nonnull(salts[i]);
			g_assert_true(g_bytes_equal(salts[i], on_disk));
			g_bytes_unref(salts[i]);
		}
		g_mutex_clear(&race.mutex);
		g_cond_clear(&race.cond);
	}
	/* no temporary files left behind */
	g_assert_cmpuint(count_dir_entries(fx->tmpdir), ==, 10);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/osc/salt/create-and-reload", test_create_and_reload);
	ADD("/osc/salt/parent-dirs", test_parent_dirs);
	ADD("/osc/salt/missing", test_missing);
	ADD("/osc/salt/empty", test_empty);
	ADD("/osc/salt/unreadable", test_unreadable);
	ADD("/osc/salt/any-length", test_any_length);
	ADD("/osc/salt/mode-refused", test_mode_refused);
	ADD("/osc/salt/write", test_write);
	ADD("/osc/salt/concurrent", test_concurrent);
#undef ADD

	return g_test_run();
}
