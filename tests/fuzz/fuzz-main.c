/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * A main for the fuzz targets without libFuzzer: runs each file given, or every file in
 * each directory given (sorted, so runs are repeatable), through LLVMFuzzerTestOneInput
 * once. A crash or a sanitizer/valgrind report fails the test; an empty corpus does too.
 */

#include <glib.h>

#include <stdlib.h>

#include "osc-fuzz.h"

static gboolean
run_file(const gchar *path, guint *count)
{
	g_autofree gchar *contents = NULL;
	gsize len = 0;
	g_autoptr(GError) error = NULL;

	if (!g_file_get_contents(path, &contents, &len, &error)) {
		g_printerr("%s\n", error->message);
		return FALSE;
	}
	/* a private copy of exactly @len bytes, so that a read past the end is caught */
	{
		g_autofree guint8 *copy = g_memdup2(contents, len);
		LLVMFuzzerTestOneInput(copy, len);
	}
	(*count)++;
	return TRUE;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static gboolean
run_path(const gchar *path, guint *count)
{
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GPtrArray) names = NULL;
	const gchar *name;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR))
		return run_file(path, count);
	dir = g_dir_open(path, 0, NULL);
	if (dir == NULL)
		return FALSE;
	names = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(dir)) != NULL)
		g_ptr_array_add(names, g_build_filename(path, name, NULL));
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++) {
		if (!run_path(g_ptr_array_index(names, i), count))
			return FALSE;
	}
	return TRUE;
}

int
main(int argc, char **argv)
{
	guint count = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		g_printerr("usage: %s CORPUS-DIR-OR-FILE…\n", argv[0]);
		return EXIT_FAILURE;
	}
	for (int i = 1; i < argc; i++) {
		if (!run_path(argv[i], &count))
			return EXIT_FAILURE;
	}
	g_print("%s: %u inputs ran\n", argv[0], count);
	return count > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
