/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * The Prometheus text parser the app's metrics page uses (osc_metrics_parse() in
 * server/lib/osc-metrics.c). Each input is parsed as it is and, when it holds no CR, with
 * CRLF line ends, which must give the same samples. Then the input, split at the first '|',
 * becomes two label values of a counter that is rendered and parsed back: the escaping of
 * osc_metrics_render() and the unescaping of the parser must give the values back.
 */

#include <string.h>

#include "osc-fuzz.h"
#include "osc-metrics.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static GPtrArray *
parse(const gchar *text, gboolean *ok)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) types = NULL;
	GPtrArray *samples = osc_metrics_parse(text, &types, &error);

	*ok = samples != NULL;
	if (samples == NULL) {
		g_assert_nonnull(error);
		g_assert_true(g_str_has_prefix(error->message, "line "));
		return NULL;
	}
	g_assert_no_error(error);
	g_assert_nonnull(types);
	for (guint i = 0; i < samples->len; i++) {
		OscMetricSample *s = g_ptr_array_index(samples, i);
		g_assert_true(s->name != NULL && s->name[0] != '\0');
		g_assert_nonnull(s->labels);
	}
	return samples;
}

static gboolean
same_samples(GPtrArray *a, GPtrArray *b)
{
	if (a->len != b->len)
		return FALSE;
	for (guint i = 0; i < a->len; i++) {
		OscMetricSample *x = g_ptr_array_index(a, i);
		OscMetricSample *y = g_ptr_array_index(b, i);
		GHashTableIter iter;
		gpointer k, v;

		if (!g_str_equal(x->name, y->name))
			return FALSE;
		if (memcmp(&x->value, &y->value, sizeof(gdouble)) != 0)
			return FALSE;
		if (g_hash_table_size(x->labels) != g_hash_table_size(y->labels))
			return FALSE;
		g_hash_table_iter_init(&iter, x->labels);
		while (g_hash_table_iter_next(&iter, &k, &v)) {
			if (g_strcmp0(v, g_hash_table_lookup(y->labels, k)) != 0)
				return FALSE;
		}
	}
	return TRUE;
}

static void
check_render(const gchar *text)
{
	g_autoptr(OscMetrics) metrics = osc_metrics_new();
	static const gchar *const labels[] = {"first", "second", NULL};
	g_autofree gchar *first = NULL;
	const gchar *second;
	const gchar *bar = strchr(text, '|');
	OscMetric *counter;
	g_autofree gchar *rendered = NULL;
	g_autoptr(GPtrArray) samples = NULL;
	OscMetricSample *s;
	gboolean ok;

	first = bar != NULL ? g_strndup(text, (gsize)(bar - text)) : g_strdup(text);
	second = bar != NULL ? bar + 1 : "";
	counter =
		osc_metrics_add_counter(metrics, "fuzz_total", "Help with \\ and\nnewline", labels);
	osc_metric_inc(counter, 2, first, second, NULL);
	rendered = osc_metrics_render(metrics);
	samples = parse(rendered, &ok);
	g_assert_true(ok);
	g_assert_cmpuint(samples->len, ==, 1);
	s = g_ptr_array_index(samples, 0);
	g_assert_cmpstr(s->name, ==, "fuzz_total");
	g_assert_cmpfloat(s->value, ==, 2.0);
	g_assert_cmpstr(g_hash_table_lookup(s->labels, "first"), ==, first);
	g_assert_cmpstr(g_hash_table_lookup(s->labels, "second"), ==, second);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the app gets the exposition as text */
	g_autofree gchar *text = g_strndup((const gchar *)data, size);
	g_autoptr(GPtrArray) samples = NULL;
	gboolean ok;

	samples = parse(text, &ok);
	if (strchr(text, '\r') == NULL) {
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
		g_autofree gchar *crlf = g_strjoinv("\r\n", lines);
		g_autoptr(GPtrArray) again = NULL;
		gboolean ok_again;

		again = parse(crlf, &ok_again);
		g_assert_true(ok == ok_again);
		if (ok)
			g_assert_true(same_samples(samples, again));
	}
	if (g_utf8_validate(text, -1, NULL))
		check_render(text);
	return 0;
}
