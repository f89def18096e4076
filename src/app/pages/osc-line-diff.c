/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-line-diff.h"

/*
 * A line diff for the History dialog: the common head and tail are cut off, and the rest is
 * aligned by a longest common subsequence (dynamic programming, O(n·m) in time and space).
 * Values are small (1 MiB at most, pretty-printed JSON), but a pathological middle larger
 * than OSC_LINE_DIFF_MAX_CELLS is shown as all removed then all added rather than eating
 * memory.
 */

#define OSC_LINE_DIFF_MAX_CELLS (4u * 1024 * 1024)

static void
osc_line_diff_line_free(OscLineDiffLine *line)
{
	g_free(line->text);
	g_free(line);
}

static void
osc_line_diff_add(GPtrArray *diff, OscLineDiffOp op, const gchar *text)
{
	OscLineDiffLine *line = g_new0(OscLineDiffLine, 1);

	line->op = op;
	line->text = g_strdup(text);
	g_ptr_array_add(diff, line);
}

/* lines without the empty one after a final newline */
static gchar **
osc_line_diff_split(const gchar *text, guint *n)
{
	gchar **lines = g_strsplit(text != NULL ? text : "", "\n", -1);
	guint len = g_strv_length(lines);

	if (len > 0 && lines[len - 1][0] == '\0') {
		g_free(lines[len - 1]);
		lines[len - 1] = NULL;
		len--;
	}
	*n = len;
	return lines;
}

GPtrArray *
osc_line_diff(const gchar *old_text, const gchar *new_text)
{
	g_autoptr(GPtrArray) diff =
		g_ptr_array_new_with_free_func((GDestroyNotify)osc_line_diff_line_free);
	guint n_a, n_b, head = 0, tail = 0, n, m;
	g_auto(GStrv) a = osc_line_diff_split(old_text, &n_a);
	g_auto(GStrv) b = osc_line_diff_split(new_text, &n_b);

	while (head < n_a && head < n_b && g_str_equal(a[head], b[head]))
		head++;
	while (tail < n_a - head && tail < n_b - head &&
	       g_str_equal(a[n_a - 1 - tail], b[n_b - 1 - tail]))
		tail++;
	n = n_a - head - tail;
	m = n_b - head - tail;

	for (guint i = 0; i < head; i++)
		osc_line_diff_add(diff, OSC_LINE_DIFF_SAME, a[i]);

	if (n == 0 || m == 0 || (gsize)(n + 1) * (m + 1) > OSC_LINE_DIFF_MAX_CELLS) {
		for (guint i = 0; i < n; i++)
			osc_line_diff_add(diff, OSC_LINE_DIFF_REMOVED, a[head + i]);
		for (guint j = 0; j < m; j++)
			osc_line_diff_add(diff, OSC_LINE_DIFF_ADDED, b[head + j]);
	} else {
		/* lcs[i][j]: the longest common subsequence of a[i..] and b[j..] (middle part) */
		guint *lcs = g_new0(guint, (gsize)(n + 1) * (m + 1));
		guint i = 0, j = 0;

#define LCS(i, j) lcs[(gsize)(i) * (m + 1) + (j)]
		for (guint ii = n; ii-- > 0;)
			for (guint jj = m; jj-- > 0;)
				LCS(ii, jj) = g_str_equal(a[head + ii], b[head + jj])
						      ? LCS(ii + 1, jj + 1) + 1
						      : MAX(LCS(ii + 1, jj), LCS(ii, jj + 1));
		while (i < n && j < m) {
			if (g_str_equal(a[head + i], b[head + j])) {
				osc_line_diff_add(diff, OSC_LINE_DIFF_SAME, a[head + i]);
				i++;
				j++;
			} else if (LCS(i + 1, j) >= LCS(i, j + 1)) {
				osc_line_diff_add(diff, OSC_LINE_DIFF_REMOVED, a[head + i]);
				i++;
			} else {
				osc_line_diff_add(diff, OSC_LINE_DIFF_ADDED, b[head + j]);
				j++;
			}
		}
#undef LCS
		for (; i < n; i++)
			osc_line_diff_add(diff, OSC_LINE_DIFF_REMOVED, a[head + i]);
		for (; j < m; j++)
			osc_line_diff_add(diff, OSC_LINE_DIFF_ADDED, b[head + j]);
		g_free(lcs);
	}

	for (guint i = n_a - tail; i < n_a; i++)
		osc_line_diff_add(diff, OSC_LINE_DIFF_SAME, a[i]);
	return g_steal_pointer(&diff);
}

gchar *
osc_line_diff_to_string(GPtrArray *diff)
{
	static const gchar *const marks[] = {"  ", "- ", "+ "};
	GString *s = g_string_new(NULL);

	g_return_val_if_fail(diff != NULL, NULL);
	for (guint i = 0; i < diff->len; i++) {
		OscLineDiffLine *line = g_ptr_array_index(diff, i);

		g_string_append(s, marks[line->op]);
		g_string_append(s, line->text);
		g_string_append_c(s, '\n');
	}
	return g_string_free(s, FALSE);
}

void
osc_line_diff_count(GPtrArray *diff, guint *removed, guint *added)
{
	guint r = 0, a = 0;

	for (guint i = 0; i < diff->len; i++) {
		OscLineDiffLine *line = g_ptr_array_index(diff, i);

		if (line->op == OSC_LINE_DIFF_REMOVED)
			r++;
		else if (line->op == OSC_LINE_DIFF_ADDED)
			a++;
	}
	if (removed != NULL)
		*removed = r;
	if (added != NULL)
		*added = a;
}
