/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "osc-line-diff.h"

/* the History dialog's line diff (src/app/pages/osc-line-diff.c) */

static gchar *
diff_string(const gchar *a, const gchar *b)
{
	g_autoptr(GPtrArray) diff = osc_line_diff(a, b);

	return osc_line_diff_to_string(diff);
}

static void
test_equal(void)
{
	g_autofree gchar *s = diff_string("a\nb\nc\n", "a\nb\nc\n");
	g_autofree gchar *e = diff_string("", "");

	g_assert_cmpstr(s, ==, "  a\n  b\n  c\n");
	g_assert_cmpstr(e, ==, "");
}

static void
test_empty_sides(void)
{
	g_autofree gchar *added = diff_string("", "x\ny");
	g_autofree gchar *removed = diff_string("x\ny\n", NULL);

	g_assert_cmpstr(added, ==, "+ x\n+ y\n");
	g_assert_cmpstr(removed, ==, "- x\n- y\n");
}

static void
test_change(void)
{
	g_autofree gchar *s = diff_string("{\n  \"host\": \"db1\",\n  \"port\": 5432\n}",
					  "{\n  \"host\": \"db2\",\n  \"port\": 5432\n}");

	g_assert_cmpstr(
		s, ==,
		"  {\n-   \"host\": \"db1\",\n+   \"host\": \"db2\",\n    \"port\": 5432\n  }\n");
}

static void
test_lcs(void)
{
	/* the classic example: ABCABBA → CBABAC keeps a common subsequence of 4 */
	g_autoptr(GPtrArray) diff = osc_line_diff("A\nB\nC\nA\nB\nB\nA", "C\nB\nA\nB\nA\nC");
	guint removed, added, same = 0;
	g_autoptr(GString) old_side = g_string_new(NULL);
	g_autoptr(GString) new_side = g_string_new(NULL);

	osc_line_diff_count(diff, &removed, &added);
	for (guint i = 0; i < diff->len; i++) {
		OscLineDiffLine *l = g_ptr_array_index(diff, i);

		if (l->op == OSC_LINE_DIFF_SAME)
			same++;
		/* both sides can be rebuilt from the diff */
		if (l->op != OSC_LINE_DIFF_ADDED)
			g_string_append(old_side, l->text);
		if (l->op != OSC_LINE_DIFF_REMOVED)
			g_string_append(new_side, l->text);
	}
	g_assert_cmpuint(same, ==, 4);
	g_assert_cmpuint(removed, ==, 3);
	g_assert_cmpuint(added, ==, 2);
	g_assert_cmpstr(old_side->str, ==, "ABCABBA");
	g_assert_cmpstr(new_side->str, ==, "CBABAC");
}

static void
test_insert_middle(void)
{
	g_autofree gchar *s = diff_string("a\nb\nc", "a\nb\nx\ny\nc");

	g_assert_cmpstr(s, ==, "  a\n  b\n+ x\n+ y\n  c\n");
}

static void
test_large(void)
{
	/* too big for the table: still a correct (if not minimal) diff */
	g_autoptr(GString) a = g_string_new(NULL);
	g_autoptr(GString) b = g_string_new(NULL);
	g_autoptr(GPtrArray) diff = NULL;
	guint removed, added;

	for (guint i = 0; i < 3000; i++) {
		g_string_append_printf(a, "a%u\n", i);
		g_string_append_printf(b, "b%u\n", i);
	}
	diff = osc_line_diff(a->str, b->str);
	osc_line_diff_count(diff, &removed, &added);
	g_assert_cmpuint(removed, ==, 3000);
	g_assert_cmpuint(added, ==, 3000);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/osc/line-diff/equal", test_equal);
	g_test_add_func("/osc/line-diff/empty-sides", test_empty_sides);
	g_test_add_func("/osc/line-diff/change", test_change);
	g_test_add_func("/osc/line-diff/lcs", test_lcs);
	g_test_add_func("/osc/line-diff/insert-middle", test_insert_middle);
	g_test_add_func("/osc/line-diff/large", test_large);
	return g_test_run();
}
