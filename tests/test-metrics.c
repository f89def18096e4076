/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscMetrics"

#include "config.h"

#include <gio/gio.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "osc-metrics.h"
#include "osc-test-utils.h"

typedef struct {
	OscMetrics *metrics;
} Fixture;

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	fixture->metrics = osc_metrics_new();
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->metrics);
}

/* ---- helpers ---- */

/*
 * GLib 2.74's g_test_expect_message() only sees messages logged through g_logv(), not the
 * structured g_critical() of code built with G_LOG_USE_STRUCTURED.  This writer sees both: it
 * swallows the one critical a test expects and fails the test on any other critical or warning
 * (main() makes them non-fatal so that "logged and ignored" can be checked).
 */
static gchar *expected_critical;
static gboolean expected_critical_seen;

static void
expect_critical(const gchar *pattern)
{
	g_assert_null(expected_critical);
	expected_critical = g_strdup(pattern);
	expected_critical_seen = FALSE;
}

static void
assert_expected_critical(void)
{
	if (!expected_critical_seen)
		g_error("expected a critical matching \"%s\"", expected_critical);
	g_clear_pointer(&expected_critical, g_free);
}

static GLogWriterOutput
test_log_writer(GLogLevelFlags log_level,
		const GLogField *fields,
		gsize n_fields,
		gpointer user_data)
{
	const gchar *message = NULL;
	const gchar *domain = NULL;

	if ((log_level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) == 0)
		return g_log_writer_default(log_level, fields, n_fields, user_data);

	for (gsize i = 0; i < n_fields; i++) {
		if (g_str_equal(fields[i].key, "MESSAGE"))
			message = fields[i].value;
		else if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
			domain = fields[i].value;
	}
	if ((log_level & G_LOG_LEVEL_CRITICAL) && expected_critical != NULL &&
	    !expected_critical_seen && g_strcmp0(domain, G_LOG_DOMAIN) == 0 && message != NULL &&
	    g_pattern_match_simple(expected_critical, message)) {
		expected_critical_seen = TRUE;
		return G_LOG_WRITER_HANDLED;
	}
	g_log_writer_default(log_level, fields, n_fields, user_data);
	g_test_fail_printf("unexpected %s: %s",
			   (log_level & G_LOG_LEVEL_CRITICAL) ? "critical" : "warning",
			   message);
	return G_LOG_WRITER_HANDLED;
}

static GPtrArray *
parse_ok(const gchar *text, GHashTable **types)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *samples = osc_metrics_parse(text, types, &error);

	g_assert_no_error(error);
	g_assert_nonnull(samples);
	return samples;
}

/* the n-th sample called @name whose labels include every given name=value pair */
static OscMetricSample *
find_sample(GPtrArray *samples, const gchar *name, ...)
{
	for (guint i = 0; i < samples->len; i++) {
		OscMetricSample *sample = g_ptr_array_index(samples, i);
		gboolean match = g_str_equal(sample->name, name);
		const gchar *label;
		va_list args;

		va_start(args, name);
		while (match && (label = va_arg(args, const gchar *)) != NULL) {
			const gchar *value = va_arg(args, const gchar *);

			match = g_strcmp0(g_hash_table_lookup(sample->labels, label), value) == 0;
		}
		va_end(args);
		if (match)
			return sample;
	}
	return NULL;
}

/* the value text of the first line of @text that starts with @prefix */
static gchar *
rendered_value(const gchar *text, const gchar *prefix)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], prefix) && lines[i][strlen(prefix)] == ' ')
			return g_strdup(lines[i] + strlen(prefix) + 1);
	}
	return NULL;
}

static guint
count_lines_with_prefix(const gchar *text, const gchar *prefix)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	guint n = 0;

	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], prefix))
			n++;
	}
	return n;
}

/* ---- semantics ---- */

static void
test_counter(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *plain =
		osc_metrics_add_counter(fixture->metrics, "t_plain_total", "Plain.", NULL);
	OscMetric *ops =
		osc_metrics_add_counter(fixture->metrics, "t_ops_total", "Ops.",
					(const gchar *const[]){"operation", "status", NULL});
	g_autofree gchar *text = NULL;

	g_assert_nonnull(plain);
	g_assert_nonnull(ops);
	g_assert_cmpstr(osc_metric_get_name(ops), ==, "t_ops_total");
	g_assert_cmpint(osc_metric_get_metric_type(ops), ==, OSC_METRIC_COUNTER);
	g_assert_cmpstrv(osc_metric_get_label_names(ops),
			 ((const gchar *const[]){"operation", "status", NULL}));
	g_assert_cmpstrv(osc_metric_get_label_names(plain), ((const gchar *const[]){NULL}));

	g_assert_cmpfloat(osc_metric_get(plain, NULL), ==, 0);
	osc_metric_inc(plain, 1, NULL);
	osc_metric_inc(plain, 2.5, NULL);
	osc_metric_inc(plain, 0, NULL);
	g_assert_cmpfloat(osc_metric_get(plain, NULL), ==, 3.5);

	osc_metric_inc(ops, 1, "create", "success", NULL);
	osc_metric_inc(ops, 1, "create", "success", NULL);
	osc_metric_inc(ops, 1, "read", "not_found", NULL);
	g_assert_cmpfloat(osc_metric_get(ops, "create", "success", NULL), ==, 2);
	g_assert_cmpfloat(osc_metric_get(ops, "read", "not_found", NULL), ==, 1);
	/* a series never used reads as 0 and is not created by reading */
	g_assert_cmpfloat(osc_metric_get(ops, "delete", "error", NULL), ==, 0);
	text = osc_metrics_render(fixture->metrics);
	g_assert_cmpuint(count_lines_with_prefix(text, "t_ops_total{"), ==, 2);

	/* a counter never goes down; NaN is refused too */
	expect_critical("*t_plain_total*-1*");
	osc_metric_inc(plain, -1, NULL);
	assert_expected_critical();
	expect_critical("*t_plain_total*nan*");
	osc_metric_inc(plain, NAN, NULL);
	assert_expected_critical();
	g_assert_cmpfloat(osc_metric_get(plain, NULL), ==, 3.5);

	/* set is for gauges, observe for histograms */
	expect_critical("*OSC_METRIC_GAUGE*");
	osc_metric_set(plain, 10, NULL);
	assert_expected_critical();
	expect_critical("*OSC_METRIC_HISTOGRAM*");
	osc_metric_observe(plain, 10, NULL);
	assert_expected_critical();
	g_assert_cmpfloat(osc_metric_get(plain, NULL), ==, 3.5);
}

static void
test_label_count_mismatch(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *ops =
		osc_metrics_add_counter(fixture->metrics, "t_ops_total", "Ops.",
					(const gchar *const[]){"operation", "status", NULL});
	OscMetric *plain = osc_metrics_add_gauge(fixture->metrics, "t_plain", "Plain.", NULL);
	g_autofree gchar *text = NULL;

	expect_critical("*t_ops_total: 1 label values*2*");
	osc_metric_inc(ops, 1, "create", NULL);
	assert_expected_critical();
	expect_critical("*t_ops_total: more label*");
	osc_metric_inc(ops, 1, "create", "success", "extra", NULL);
	assert_expected_critical();
	expect_critical("*t_ops_total: 0 label values*");
	osc_metric_inc(ops, 1, NULL);
	assert_expected_critical();
	expect_critical("*t_plain: more label*");
	osc_metric_set(plain, 1, "x", NULL);
	assert_expected_critical();
	expect_critical("*t_ops_total: 1 label values*");
	g_assert_cmpfloat(osc_metric_get(ops, "create", NULL), ==, 0);
	assert_expected_critical();

	/* all ignored */
	text = osc_metrics_render(fixture->metrics);
	g_assert_cmpuint(count_lines_with_prefix(text, "t_ops_total{"), ==, 0);
	g_assert_nonnull(strstr(text, "\nt_plain 0.0\n"));
}

static void
test_gauge(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *gauge = osc_metrics_add_gauge(fixture->metrics,
						 "t_queue",
						 "Queue.",
						 (const gchar *const[]){"id", NULL});

	g_assert_cmpint(osc_metric_get_metric_type(gauge), ==, OSC_METRIC_GAUGE);
	osc_metric_set(gauge, 5, "a", NULL);
	osc_metric_inc(gauge, -7, "a", NULL);
	g_assert_cmpfloat(osc_metric_get(gauge, "a", NULL), ==, -2);
	osc_metric_inc(gauge, 3, "b", NULL);
	g_assert_cmpfloat(osc_metric_get(gauge, "b", NULL), ==, 3);
	osc_metric_set(gauge, INFINITY, "b", NULL);
	g_assert_cmpfloat(osc_metric_get(gauge, "b", NULL), ==, INFINITY);
	osc_metric_set(gauge, NAN, "b", NULL);
	g_assert_true(isnan(osc_metric_get(gauge, "b", NULL)));
	osc_metric_set(gauge, 0.25, "b", NULL);
	g_assert_cmpfloat(osc_metric_get(gauge, "b", NULL), ==, 0.25);
}

static void
test_histogram(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *hist = osc_metrics_add_histogram(fixture->metrics,
						    "t_duration_seconds",
						    "Duration.",
						    (const gchar *const[]){"method", NULL},
						    NULL,
						    0);
	g_autoptr(GPtrArray) samples = NULL;
	g_autofree gchar *text = NULL;
	const gdouble observations[] = {0.001, 0.005, 0.0051, 0.3, 1.0, 9.99, 10.0, 10.5, 1e9};
	const gchar *expected_le[] = {"0.005", "0.01", "0.025", "0.05", "0.075",
				      "0.1",   "0.25", "0.5",   "0.75", "1.0",
				      "2.5",   "5.0",  "7.5",   "10.0", "+Inf"};
	const guint expected_cumulative[] = {2, 3, 3, 3, 3, 3, 3, 4, 4, 5, 5, 5, 5, 7, 9};
	gdouble sum = 0;

	g_assert_cmpint(osc_metric_get_metric_type(hist), ==, OSC_METRIC_HISTOGRAM);
	for (guint i = 0; i < G_N_ELEMENTS(observations); i++) {
		osc_metric_observe(hist, observations[i], "GET", NULL);
		sum += observations[i];
	}
	g_assert_cmpfloat(osc_metric_get(hist, "GET", NULL), ==, G_N_ELEMENTS(observations));
	g_assert_cmpfloat(osc_metric_get(hist, "PUT", NULL), ==, 0);

	text = osc_metrics_render(fixture->metrics);
	samples = parse_ok(text, NULL);
	/* 15 buckets + sum + count, and nothing for the unused PUT */
	g_assert_cmpuint(samples->len, ==, 17);
	for (guint i = 0; i < G_N_ELEMENTS(expected_le); i++) {
		OscMetricSample *sample = g_ptr_array_index(samples, i);

		g_assert_cmpstr(sample->name, ==, "t_duration_seconds_bucket");
		g_assert_cmpstr(g_hash_table_lookup(sample->labels, "le"), ==, expected_le[i]);
		g_assert_cmpstr(g_hash_table_lookup(sample->labels, "method"), ==, "GET");
		g_assert_cmpfloat(sample->value, ==, expected_cumulative[i]);
	}
	g_assert_cmpstr(((OscMetricSample *)g_ptr_array_index(samples, 15))->name,
			==,
			"t_duration_seconds_sum");
	g_assert_cmpfloat(((OscMetricSample *)g_ptr_array_index(samples, 15))->value, ==, sum);
	g_assert_cmpstr(((OscMetricSample *)g_ptr_array_index(samples, 16))->name,
			==,
			"t_duration_seconds_count");
	g_assert_cmpfloat(((OscMetricSample *)g_ptr_array_index(samples, 16))->value, ==, 9);

	/* inc is not for histograms */
	expect_critical("*!= OSC_METRIC_HISTOGRAM*");
	osc_metric_inc(hist, 1, "GET", NULL);
	assert_expected_critical();
}

static void
test_histogram_custom_buckets(Fixture *fixture, gconstpointer user_data)
{
	const gdouble buckets[] = {-1, 0, 1e6, 2.5e7, INFINITY};
	OscMetric *hist =
		osc_metrics_add_histogram(fixture->metrics, "t_size", "Size.", NULL, buckets, 5);
	g_autofree gchar *text = NULL;

	osc_metric_observe(hist, -5, NULL);
	osc_metric_observe(hist, 0, NULL);
	osc_metric_observe(hist, 3e7, NULL);
	osc_metric_observe(hist, NAN, NULL); /* counted in +Inf only; the sum becomes NaN */
	text = osc_metrics_render(fixture->metrics);
	g_assert_cmpstr(text,
			==,
			"# HELP t_size Size.\n"
			"# TYPE t_size histogram\n"
			"t_size_bucket{le=\"-1.0\"} 1.0\n"
			"t_size_bucket{le=\"0.0\"} 2.0\n"
			"t_size_bucket{le=\"1e+06\"} 2.0\n"
			"t_size_bucket{le=\"2.5e+07\"} 2.0\n"
			"t_size_bucket{le=\"+Inf\"} 4.0\n"
			"t_size_sum NaN\n"
			"t_size_count 4.0\n");
}

/* ---- rendering ---- */

static void
test_render_exact(Fixture *fixture, gconstpointer user_data)
{
	const gdouble buckets[] = {0.1, 1.0, 10.0};
	const gdouble idle_buckets[] = {0.5};
	OscMetric *requests =
		osc_metrics_add_counter(fixture->metrics,
					"t_requests_total",
					"Requests.\nSecond \\ line with \"quotes\"",
					(const gchar *const[]){"method", "code", NULL});
	OscMetric *entries = osc_metrics_add_gauge(fixture->metrics, "t_entries", "Entries.", NULL);
	OscMetric *duration = osc_metrics_add_histogram(fixture->metrics,
							"t_duration_seconds",
							"Duration.",
							(const gchar *const[]){"method", NULL},
							buckets,
							G_N_ELEMENTS(buckets));
	g_autofree gchar *text = NULL;

	osc_metrics_add_gauge(fixture->metrics,
			      "t_unused",
			      "Never used.",
			      (const gchar *const[]){"x", NULL});
	osc_metrics_add_histogram(fixture->metrics,
				  "t_idle_seconds",
				  "Unlabelled histogram.",
				  NULL,
				  idle_buckets,
				  G_N_ELEMENTS(idle_buckets));
	osc_metrics_add_counter(fixture->metrics, "t_empty_help_total", NULL, NULL);

	osc_metric_inc(requests, 1, "GET", "200", NULL);
	osc_metric_inc(requests, 1, "POST", "201", NULL);
	osc_metric_inc(requests, 1, "GET", "200", NULL);
	osc_metric_set(entries, 42, NULL);
	osc_metric_observe(duration, 0.0625, "GET", NULL);
	osc_metric_observe(duration, 0.5, "GET", NULL);
	osc_metric_observe(duration, 4, "GET", NULL);
	osc_metric_observe(duration, 16, "GET", NULL);
	osc_metric_observe(duration, 1.0, "HEAD", NULL); /* a bound is inclusive */

	text = osc_metrics_render(fixture->metrics);
	g_assert_cmpstr(text,
			==,
			"# HELP t_requests_total Requests.\\nSecond \\\\ line with \"quotes\"\n"
			"# TYPE t_requests_total counter\n"
			"t_requests_total{method=\"GET\",code=\"200\"} 2.0\n"
			"t_requests_total{method=\"POST\",code=\"201\"} 1.0\n"
			"# HELP t_entries Entries.\n"
			"# TYPE t_entries gauge\n"
			"t_entries 42.0\n"
			"# HELP t_duration_seconds Duration.\n"
			"# TYPE t_duration_seconds histogram\n"
			"t_duration_seconds_bucket{method=\"GET\",le=\"0.1\"} 1.0\n"
			"t_duration_seconds_bucket{method=\"GET\",le=\"1.0\"} 2.0\n"
			"t_duration_seconds_bucket{method=\"GET\",le=\"10.0\"} 3.0\n"
			"t_duration_seconds_bucket{method=\"GET\",le=\"+Inf\"} 4.0\n"
			"t_duration_seconds_sum{method=\"GET\"} 20.5625\n"
			"t_duration_seconds_count{method=\"GET\"} 4.0\n"
			"t_duration_seconds_bucket{method=\"HEAD\",le=\"0.1\"} 0.0\n"
			"t_duration_seconds_bucket{method=\"HEAD\",le=\"1.0\"} 1.0\n"
			"t_duration_seconds_bucket{method=\"HEAD\",le=\"10.0\"} 1.0\n"
			"t_duration_seconds_bucket{method=\"HEAD\",le=\"+Inf\"} 1.0\n"
			"t_duration_seconds_sum{method=\"HEAD\"} 1.0\n"
			"t_duration_seconds_count{method=\"HEAD\"} 1.0\n"
			"# HELP t_unused Never used.\n"
			"# TYPE t_unused gauge\n"
			"# HELP t_idle_seconds Unlabelled histogram.\n"
			"# TYPE t_idle_seconds histogram\n"
			"t_idle_seconds_bucket{le=\"0.5\"} 0.0\n"
			"t_idle_seconds_bucket{le=\"+Inf\"} 0.0\n"
			"t_idle_seconds_sum 0.0\n"
			"t_idle_seconds_count 0.0\n"
			"# HELP t_empty_help_total \n"
			"# TYPE t_empty_help_total counter\n"
			"t_empty_help_total 0.0\n");
}

static void
test_render_empty(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *text = osc_metrics_render(fixture->metrics);
	g_autoptr(GPtrArray) samples = NULL;

	g_assert_cmpstr(text, ==, "");
	samples = parse_ok(text, NULL);
	g_assert_cmpuint(samples->len, ==, 0);
}

static void
test_unlabelled_always(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) samples = NULL;
	g_autoptr(GHashTable) types = NULL;
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	OscMetric *errors;

	/* the §10 families */
	osc_metrics_add_counter(fixture->metrics,
				"osc_http_requests_total",
				"Total HTTP requests",
				(const gchar *const[]){"method", "endpoint", "status_code", NULL});
	osc_metrics_add_histogram(fixture->metrics,
				  "osc_http_request_duration_seconds",
				  "HTTP request duration",
				  (const gchar *const[]){"method", "endpoint", NULL},
				  osc_metrics_default_buckets,
				  G_N_ELEMENTS(osc_metrics_default_buckets));
	osc_metrics_add_gauge(fixture->metrics,
			      "osc_config_entries_total",
			      "Total number of configuration entries",
			      NULL);
	osc_metrics_add_histogram(fixture->metrics,
				  "osc_cluster_sync_duration_seconds",
				  "Cluster synchronization duration",
				  NULL,
				  NULL,
				  0);
	errors = osc_metrics_add_counter(fixture->metrics,
					 "osc_api_errors_total",
					 "Total API errors",
					 (const gchar *const[]){"endpoint", "error_type", NULL});

	before = osc_metrics_render(fixture->metrics);
	samples = parse_ok(before, &types);
	/* the unlabelled gauge and histogram (15 buckets + sum + count), nothing labelled */
	g_assert_cmpuint(samples->len, ==, 1 + 17);
	g_assert_cmpfloat(find_sample(samples, "osc_config_entries_total", NULL)->value, ==, 0);
	g_assert_nonnull(find_sample(samples, "osc_cluster_sync_duration_seconds_bucket", "le",
				     "+Inf", NULL));
	g_assert_nonnull(find_sample(samples, "osc_cluster_sync_duration_seconds_sum", NULL));
	g_assert_nonnull(find_sample(samples, "osc_cluster_sync_duration_seconds_count", NULL));
	g_assert_null(find_sample(samples, "osc_api_errors_total", NULL));
	g_assert_null(find_sample(samples, "osc_http_request_duration_seconds_count", NULL));
	/* every family still announces itself */
	g_assert_cmpuint(g_hash_table_size(types), ==, 5);
	g_assert_cmpstr(g_hash_table_lookup(types, "osc_http_requests_total"), ==, "counter");
	g_assert_cmpstr(g_hash_table_lookup(types, "osc_http_request_duration_seconds"),
			==,
			"histogram");
	g_assert_cmpstr(g_hash_table_lookup(types, "osc_config_entries_total"), ==, "gauge");

	osc_metric_inc(errors, 1, "/configs/{key}", "not_found", NULL);
	after = osc_metrics_render(fixture->metrics);
	g_assert_nonnull(strstr(after,
				"\nosc_api_errors_total{endpoint=\"/configs/{key}\","
				"error_type=\"not_found\"} 1.0\n"));
}

static void
test_format_values(Fixture *fixture, gconstpointer user_data)
{
	const struct {
		gdouble value;
		const gchar *text;
	} cases[] = {
		{0.0, "0.0"},
		{-0.0, "-0.0"},
		{1.0, "1.0"},
		{42.0, "42.0"},
		{-3.0, "-3.0"},
		{0.1, "0.1"},
		{0.005, "0.005"},
		{2.5, "2.5"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{1.5e-7, "1.5e-07"},
		{0.1 + 0.2, "0.30000000000000004"},
		{1.0 / 3.0, "0.3333333333333333"},
		{123456.0, "123456.0"},
		{999999.0, "999999.0"},
		{999999.5, "999999.5"},
		/* prometheus_client switches to Go's exponent form from 1e6 on (positive only) */
		{1e6, "1e+06"},
		{1234567.0, "1.234567e+06"},
		{1234567.5, "1.2345675e+06"},
		{1.7040672e9, "1.7040672e+09"},
		{1e10, "1e+10"},
		{1e15, "1e+15"},
		{9007199254740993.0, "9.007199254740992e+15"},
		{1e16, "1e+16"},
		{1.2345678901234567e19, "1.2345678901234567e+19"},
		{-1e7, "-10000000.0"},
		{-1e16, "-1e+16"},
		{1e300, "1e+300"},
		{-1e-300, "-1e-300"},
		{DBL_MAX, "1.7976931348623157e+308"},
		{DBL_MIN, "2.2250738585072014e-308"},
		{5e-324, "5e-324"},
		{INFINITY, "+Inf"},
		{-INFINITY, "-Inf"},
		{NAN, "NaN"},
	};
	OscMetric *gauge = osc_metrics_add_gauge(fixture->metrics, "t_value", "Value.", NULL);

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *text = NULL;
		g_autofree gchar *value = NULL;

		osc_metric_set(gauge, cases[i].value, NULL);
		text = osc_metrics_render(fixture->metrics);
		value = rendered_value(text, "t_value");
		g_assert_cmpstr(value, ==, cases[i].text);
	}
}

/* any double survives render → parse bit for bit */
static void
test_value_round_trip(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *gauge = osc_metrics_add_gauge(fixture->metrics,
						 "t_value",
						 "Value.",
						 (const gchar *const[]){"i", NULL});
	g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autoptr(GPtrArray) samples = NULL;
	g_autofree gchar *text = NULL;

	for (guint i = 0; i < 5000; i++) {
		union {
			guint64 bits;
			gdouble value;
		} u;
		gdouble v;

		if (i % 2 == 0) {
			u.bits = ((guint64)g_test_rand_int() << 32) | (guint32)g_test_rand_int();
			v = u.value;
			if (isnan(v))
				v = 0.5;
		} else {
			v = g_test_rand_double_range(-1e7, 1e7);
		}
		g_array_append_val(values, v);
	}
	for (guint i = 0; i < values->len; i++) {
		g_autofree gchar *label = g_strdup_printf("%u", i);

		osc_metric_set(gauge, g_array_index(values, gdouble, i), label, NULL);
	}
	text = osc_metrics_render(fixture->metrics);
	samples = parse_ok(text, NULL);
	g_assert_cmpuint(samples->len, ==, values->len);
	for (guint i = 0; i < values->len; i++) {
		OscMetricSample *sample = g_ptr_array_index(samples, i);
		gdouble expected = g_array_index(values, gdouble, i);

		g_assert_cmpmem(&sample->value, sizeof(gdouble), &expected, sizeof(gdouble));
	}
}

/* ---- labels ---- */

static const gchar *const awkward_values[] = {
	"plain",
	"",
	"quote\"inside",
	"back\\slash",
	"trailing backslash\\",
	"new\nline",
	"literal \\n is not a newline",
	"comma, and } brace { and = sign",
	"\"}, x=\"injected",
	"unicode: héllo ✓ 日本 🔑",
	"tab\tand\rcr",
	"sep\x1fvalue",
	"esc\x1evalue",
	"\x1e\x1f\x1e",
	"# not a comment",
	"/configs/a b?c=d&e",
};

/* D43: the original's consumers split the exposition naively; escaping must round-trip */
static void
test_label_escaping(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *counter =
		osc_metrics_add_counter(fixture->metrics, "t_paths_total", "Paths.",
					(const gchar *const[]){"endpoint", "status", NULL});
	OscMetric *hist = osc_metrics_add_histogram(fixture->metrics,
						    "t_paths_seconds",
						    "Paths.",
						    (const gchar *const[]){"endpoint", NULL},
						    NULL,
						    0);
	g_autoptr(GPtrArray) samples = NULL;
	g_autofree gchar *text = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(awkward_values); i++) {
		osc_metric_inc(counter, i + 1, awkward_values[i], "200", NULL);
		osc_metric_observe(hist, i, awkward_values[i], NULL);
	}
	text = osc_metrics_render(fixture->metrics);
	g_assert_nonnull(strstr(text, "{endpoint=\"quote\\\"inside\",status=\"200\"} 3.0\n"));
	g_assert_nonnull(strstr(text, "{endpoint=\"back\\\\slash\",status=\"200\"} 4.0\n"));
	g_assert_nonnull(strstr(text, "{endpoint=\"new\\nline\",status=\"200\"} 6.0\n"));
	g_assert_nonnull(strstr(text, "{endpoint=\"literal \\\\n is not a newline\","));
	g_assert_nonnull(strstr(text, "{endpoint=\"\\\"}, x=\\\"injected\",status=\"200\"}"));

	samples = parse_ok(text, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(awkward_values); i++) {
		OscMetricSample *sample =
			find_sample(samples, "t_paths_total", "endpoint", awkward_values[i], NULL);
		OscMetricSample *bucket = find_sample(samples,
						      "t_paths_seconds_bucket",
						      "endpoint",
						      awkward_values[i],
						      "le",
						      "+Inf",
						      NULL);

		g_assert_nonnull(sample);
		g_assert_cmpuint(g_hash_table_size(sample->labels), ==, 2);
		g_assert_cmpstr(g_hash_table_lookup(sample->labels, "status"), ==, "200");
		g_assert_cmpfloat(sample->value, ==, i + 1);
		g_assert_nonnull(bucket);
		g_assert_cmpfloat(bucket->value, ==, 1);
		g_assert_cmpfloat(osc_metric_get(counter, awkward_values[i], "200", NULL), ==,
				  i + 1);
	}
	g_assert_cmpuint(count_lines_with_prefix(text, "t_paths_total{"),
			 ==,
			 G_N_ELEMENTS(awkward_values));
}

/* values holding the key separator must not share a series */
static void
test_label_key_injective(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *counter = osc_metrics_add_counter(fixture->metrics,
						     "t_pairs_total",
						     "Pairs.",
						     (const gchar *const[]){"a", "b", NULL});

	osc_metric_inc(counter, 1, "x\x1fy", "z", NULL);
	osc_metric_inc(counter, 2, "x", "y\x1fz", NULL);
	osc_metric_inc(counter, 4, "x\x1e", "\x1fz", NULL);
	osc_metric_inc(counter, 8, "x", "\x1e\x1fz", NULL);
	osc_metric_inc(counter, 16, "", "", NULL);
	osc_metric_inc(counter, 32, "\x1f", "", NULL);
	osc_metric_inc(counter, 64, "", "\x1f", NULL);
	g_assert_cmpfloat(osc_metric_get(counter, "x\x1fy", "z", NULL), ==, 1);
	g_assert_cmpfloat(osc_metric_get(counter, "x", "y\x1fz", NULL), ==, 2);
	g_assert_cmpfloat(osc_metric_get(counter, "x\x1e", "\x1fz", NULL), ==, 4);
	g_assert_cmpfloat(osc_metric_get(counter, "x", "\x1e\x1fz", NULL), ==, 8);
	g_assert_cmpfloat(osc_metric_get(counter, "", "", NULL), ==, 16);
	g_assert_cmpfloat(osc_metric_get(counter, "\x1f", "", NULL), ==, 32);
	g_assert_cmpfloat(osc_metric_get(counter, "", "\x1f", NULL), ==, 64);
}

/* label values longer than the stack key buffer take the heap path and still match */
static void
test_label_long_values(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *counter = osc_metrics_add_counter(fixture->metrics,
						     "t_long_total",
						     "Long.",
						     (const gchar *const[]){"a", "b", NULL});
	g_autofree gchar *long_a = g_strnfill(300, 'a');
	g_autofree gchar *long_b = g_strnfill(300, '\x1f');
	g_autofree gchar *huge = g_strnfill(100000, 'h');
	g_autoptr(GPtrArray) samples = NULL;
	g_autofree gchar *text = NULL;

	for (guint i = 0; i < 3; i++) {
		osc_metric_inc(counter, 1, long_a, long_b, NULL);
		osc_metric_inc(counter, 1, long_a, "short", NULL);
		osc_metric_inc(counter, 1, huge, "", NULL);
	}
	g_assert_cmpfloat(osc_metric_get(counter, long_a, long_b, NULL), ==, 3);
	g_assert_cmpfloat(osc_metric_get(counter, long_a, "short", NULL), ==, 3);
	g_assert_cmpfloat(osc_metric_get(counter, huge, "", NULL), ==, 3);
	text = osc_metrics_render(fixture->metrics);
	samples = parse_ok(text, NULL);
	g_assert_cmpuint(samples->len, ==, 3);
	g_assert_cmpfloat(find_sample(samples, "t_long_total", "a", huge, NULL)->value, ==, 3);
}

/* a percent-decoded path may be any bytes; the exposition must stay UTF-8 */
static void
test_label_invalid_utf8(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *counter = osc_metrics_add_counter(fixture->metrics,
						     "t_paths_total",
						     "Paths.",
						     (const gchar *const[]){"endpoint", NULL});
	g_autoptr(GPtrArray) samples = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *repaired = g_utf8_make_valid("/configs/\xff", -1);

	osc_metric_inc(counter, 1, "/configs/\xff", NULL);
	osc_metric_inc(counter, 1, "/configs/\xfe", NULL); /* the same once repaired */
	osc_metric_inc(counter, 1, "/configs/\xff", NULL);
	g_assert_cmpfloat(osc_metric_get(counter, "/configs/\xff", NULL), ==, 3);
	g_assert_cmpfloat(osc_metric_get(counter, repaired, NULL), ==, 3);

	text = osc_metrics_render(fixture->metrics);
	g_assert_true(g_utf8_validate(text, -1, NULL));
	samples = parse_ok(text, NULL);
	g_assert_cmpuint(samples->len, ==, 1);
	g_assert_cmpstr(
		g_hash_table_lookup(((OscMetricSample *)g_ptr_array_index(samples, 0))->labels,
				    "endpoint"),
		==, repaired);
}

/* ---- registration ---- */

static void
test_registration(Fixture *fixture, gconstpointer user_data)
{
	OscMetrics *metrics = fixture->metrics;
	const gdouble unsorted[] = {1, 0.5};
	const gdouble with_nan[] = {NAN};
	const gdouble inf_first[] = {INFINITY, 1};
	OscMetric *hist;
	OscMetric *counter;

	hist = osc_metrics_add_histogram(metrics, "t_latency_seconds", "L.", NULL, NULL, 0);
	counter = osc_metrics_add_counter(metrics, "ns:t_ok_total", "Colons allowed.", NULL);
	g_assert_nonnull(hist);
	g_assert_nonnull(counter);
	g_assert_true(osc_metrics_lookup(metrics, "t_latency_seconds") == hist);
	g_assert_true(osc_metrics_lookup(metrics, "ns:t_ok_total") == counter);
	g_assert_null(osc_metrics_lookup(metrics, "t_latency_seconds_bucket"));
	g_assert_null(osc_metrics_lookup(metrics, "t_latency_seconds_count"));
	g_assert_null(osc_metrics_lookup(metrics, "missing"));

	/* names */
	expect_critical("*valid_metric_name*");
	g_assert_null(osc_metrics_add_counter(metrics, "1abc", "x", NULL));
	assert_expected_critical();
	expect_critical("*valid_metric_name*");
	g_assert_null(osc_metrics_add_gauge(metrics, "a-b", "x", NULL));
	assert_expected_critical();
	expect_critical("*valid_metric_name*");
	g_assert_null(osc_metrics_add_gauge(metrics, "", "x", NULL));
	assert_expected_critical();

	/* labels */
	expect_critical("*valid_label_names*");
	g_assert_null(
		osc_metrics_add_counter(metrics, "t_a", "x", (const gchar *const[]){"__x", NULL}));
	assert_expected_critical();
	expect_critical("*valid_label_names*");
	g_assert_null(
		osc_metrics_add_counter(metrics, "t_a", "x", (const gchar *const[]){"a:b", NULL}));
	assert_expected_critical();
	expect_critical("*valid_label_names*");
	g_assert_null(osc_metrics_add_counter(metrics, "t_a", "x",
					      (const gchar *const[]){"a", "a", NULL}));
	assert_expected_critical();
	expect_critical("*valid_label_names*");
	g_assert_null(osc_metrics_add_histogram(metrics,
						"t_h",
						"x",
						(const gchar *const[]){"le", NULL},
						NULL,
						0));
	assert_expected_critical();
	/* `le` is fine outside histograms */
	g_assert_nonnull(
		osc_metrics_add_gauge(metrics, "t_le", "x", (const gchar *const[]){"le", NULL}));

	/* buckets */
	expect_critical("*valid_buckets*");
	g_assert_null(osc_metrics_add_histogram(metrics, "t_h", "x", NULL, unsorted, 2));
	assert_expected_critical();
	expect_critical("*valid_buckets*");
	g_assert_null(osc_metrics_add_histogram(metrics, "t_h", "x", NULL, with_nan, 1));
	assert_expected_critical();
	expect_critical("*valid_buckets*");
	g_assert_null(osc_metrics_add_histogram(metrics, "t_h", "x", NULL, inf_first, 2));
	assert_expected_critical();

	/* duplicates, including the names a histogram renders */
	expect_critical("*ns:t_ok_total*in use*");
	g_assert_null(osc_metrics_add_gauge(metrics, "ns:t_ok_total", "x", NULL));
	assert_expected_critical();
	expect_critical("*t_latency_seconds_count*in use*");
	g_assert_null(osc_metrics_add_counter(metrics, "t_latency_seconds_count", "x", NULL));
	assert_expected_critical();
	g_assert_nonnull(osc_metrics_add_counter(metrics, "t_other_sum", "x", NULL));
	expect_critical("*t_other_sum*in use*");
	g_assert_null(osc_metrics_add_histogram(metrics, "t_other", "x", NULL, NULL, 0));
	assert_expected_critical();
	g_assert_null(osc_metrics_lookup(metrics, "t_other"));
}

/* ---- foreach ---- */

typedef struct {
	GString *log;
	OscMetric *other;
} ForeachData;

static void
foreach_cb(OscMetric *metric,
	   const gchar *const *label_values,
	   gdouble value,
	   gdouble sum,
	   gpointer user_data)
{
	ForeachData *data = user_data;
	g_autofree gchar *joined = g_strjoinv(",", (gchar **)label_values);

	g_string_append_printf(data->log, "[%s] %g %g;", joined, value, sum);
	/* updating from the callback must not deadlock */
	if (data->other != NULL)
		osc_metric_inc(data->other, 1, NULL);
}

static void
test_foreach(Fixture *fixture, gconstpointer user_data)
{
	OscMetric *counter = osc_metrics_add_counter(fixture->metrics,
						     "t_ops_total",
						     "Ops.",
						     (const gchar *const[]){"op", "status", NULL});
	OscMetric *hist = osc_metrics_add_histogram(fixture->metrics,
						    "t_duration_seconds",
						    "D.",
						    (const gchar *const[]){"m", NULL},
						    NULL,
						    0);
	OscMetric *plain = osc_metrics_add_gauge(fixture->metrics, "t_plain", "P.", NULL);
	OscMetric *calls = osc_metrics_add_counter(fixture->metrics, "t_calls_total", "C.", NULL);
	ForeachData data = {g_string_new(NULL), calls};

	osc_metric_foreach(counter, foreach_cb, &data);
	g_assert_cmpstr(data.log->str, ==, "");

	osc_metric_inc(counter, 1, "update", "success", NULL);
	osc_metric_inc(counter, 1, "create", "error", NULL);
	osc_metric_inc(counter, 1, "update", "success", NULL);
	osc_metric_inc(counter, 1, "create", "success", NULL);
	osc_metric_foreach(counter, foreach_cb, &data);
	g_assert_cmpstr(data.log->str,
			==,
			"[update,success] 2 0;[create,error] 1 0;[create,success] 1 0;");
	g_assert_cmpfloat(osc_metric_get(calls, NULL), ==, 3);

	g_string_truncate(data.log, 0);
	osc_metric_observe(hist, 0.5, "PUT", NULL);
	osc_metric_observe(hist, 2, "GET", NULL);
	osc_metric_observe(hist, 0.25, "PUT", NULL);
	osc_metric_foreach(hist, foreach_cb, &data);
	g_assert_cmpstr(data.log->str, ==, "[PUT] 2 0.75;[GET] 1 2;");

	g_string_truncate(data.log, 0);
	osc_metric_set(plain, 7, NULL);
	osc_metric_foreach(plain, foreach_cb, &data);
	g_assert_cmpstr(data.log->str, ==, "[] 7 0;");
	g_string_free(data.log, TRUE);
}

/* ---- threads ---- */

#define N_THREADS 4
#define N_ITERATIONS 100000

typedef struct {
	OscMetric *counter;
	OscMetric *plain;
	OscMetric *gauge;
	OscMetric *hist;
	guint index;
} ThreadData;

static gpointer
thread_func(gpointer user_data)
{
	ThreadData *data = user_data;
	g_autofree gchar *own = g_strdup_printf("thread-%u", data->index);

	for (guint i = 0; i < N_ITERATIONS; i++) {
		osc_metric_inc(data->counter, 1, "shared", NULL);
		osc_metric_inc(data->counter, 1, own, NULL);
		osc_metric_inc(data->plain, 1, NULL);
		osc_metric_inc(data->gauge, (i % 2 == 0) ? 1 : -1, NULL);
		if (i % 10 == 0)
			osc_metric_observe(data->hist, 0.5, "shared", NULL);
	}
	return NULL;
}

static void
test_threads(Fixture *fixture, gconstpointer user_data)
{
	ThreadData data[N_THREADS];
	GThread *threads[N_THREADS];
	OscMetric *counter = osc_metrics_add_counter(fixture->metrics,
						     "t_hits_total",
						     "Hits.",
						     (const gchar *const[]){"who", NULL});
	OscMetric *plain = osc_metrics_add_counter(fixture->metrics, "t_all_total", "All.", NULL);
	OscMetric *gauge = osc_metrics_add_gauge(fixture->metrics, "t_level", "Level.", NULL);
	OscMetric *hist = osc_metrics_add_histogram(fixture->metrics,
						    "t_work_seconds",
						    "Work.",
						    (const gchar *const[]){"who", NULL},
						    NULL,
						    0);
	g_autoptr(GPtrArray) samples = NULL;
	g_autofree gchar *text = NULL;

	for (guint i = 0; i < N_THREADS; i++) {
		data[i] = (ThreadData){counter, plain, gauge, hist, i};
		threads[i] = g_thread_new("metrics-test", thread_func, &data[i]);
	}
	/* scrape while the workers run */
	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *partial = osc_metrics_render(fixture->metrics);
		g_autoptr(GPtrArray) parsed = parse_ok(partial, NULL);

		g_assert_cmpuint(parsed->len, >, 0);
	}
	for (guint i = 0; i < N_THREADS; i++)
		g_thread_join(threads[i]);

	g_assert_cmpfloat(osc_metric_get(counter, "shared", NULL), ==, N_THREADS * N_ITERATIONS);
	for (guint i = 0; i < N_THREADS; i++) {
		g_autofree gchar *own = g_strdup_printf("thread-%u", i);

		g_assert_cmpfloat(osc_metric_get(counter, own, NULL), ==, N_ITERATIONS);
	}
	g_assert_cmpfloat(osc_metric_get(plain, NULL), ==, N_THREADS * N_ITERATIONS);
	g_assert_cmpfloat(osc_metric_get(gauge, NULL), ==, 0);
	g_assert_cmpfloat(osc_metric_get(hist, "shared", NULL), ==, N_THREADS * N_ITERATIONS / 10);

	text = osc_metrics_render(fixture->metrics);
	samples = parse_ok(text, NULL);
	g_assert_cmpfloat(find_sample(samples, "t_hits_total", "who", "shared", NULL)->value,
			  ==,
			  N_THREADS * N_ITERATIONS);
	g_assert_cmpfloat(find_sample(samples, "t_work_seconds_sum", NULL)->value,
			  ==,
			  0.5 * N_THREADS * N_ITERATIONS / 10);
}

/* ---- parser ---- */

static void
test_parse_prometheus_client(void)
{
	g_autofree gchar *path = osc_test_data_path("metrics/prometheus-client.txt");
	g_autofree gchar *text = NULL;
	g_autoptr(GPtrArray) samples = NULL;
	g_autoptr(GHashTable) types = NULL;
	g_autoptr(GError) error = NULL;
	OscMetricSample *sample;

	g_file_get_contents(path, &text, NULL, &error);
	g_assert_no_error(error);
	samples = parse_ok(text, &types);
	g_assert_cmpuint(samples->len, ==, 8 + 17);
	g_assert_cmpuint(g_hash_table_size(types), ==, 7);
	g_assert_cmpstr(g_hash_table_lookup(types, "osc_http_requests_total"), ==, "counter");
	g_assert_cmpstr(g_hash_table_lookup(types, "osc_config_entries_total"), ==, "gauge");
	g_assert_cmpstr(g_hash_table_lookup(types, "osc_cluster_sync_duration_seconds"),
			==,
			"histogram");

	sample = find_sample(samples,
			     "osc_http_requests_total",
			     "endpoint",
			     "/configs/database",
			     "method",
			     "GET",
			     "status_code",
			     "200",
			     NULL);
	g_assert_nonnull(sample);
	g_assert_cmpuint(g_hash_table_size(sample->labels), ==, 3);
	g_assert_cmpfloat(sample->value, ==, 12);
	g_assert_cmpfloat(find_sample(samples, "process_virtual_memory_bytes", NULL)->value,
			  ==,
			  1.2345e8);
	g_assert_cmpfloat(find_sample(samples, "python_info", "version", "3.11.2", NULL)->value,
			  ==,
			  1);
	sample = find_sample(samples, "osc_config_entries_total", NULL);
	g_assert_cmpuint(g_hash_table_size(sample->labels), ==, 0);
	g_assert_cmpfloat(sample->value, ==, 7);
	g_assert_nonnull(find_sample(samples, "osc_cluster_sync_duration_seconds_bucket", "le",
				     "10.0", NULL));
}

static void
test_parse_edge_cases(void)
{
	g_autofree gchar *path = osc_test_data_path("metrics/edge-cases.txt");
	g_autofree gchar *text = NULL;
	g_autoptr(GPtrArray) samples = NULL;
	g_autoptr(GHashTable) types = NULL;
	g_autoptr(GError) error = NULL;
	OscMetricSample *sample;

	g_file_get_contents(path, &text, NULL, &error);
	g_assert_no_error(error);
	samples = parse_ok(text, &types);
	g_assert_cmpuint(samples->len, ==, 15);
	g_assert_cmpstr(g_hash_table_lookup(types, "weird_help"), ==, "untyped");
	g_assert_cmpstr(g_hash_table_lookup(types, "rpc_duration_seconds"), ==, "summary");
	g_assert_cmpstr(g_hash_table_lookup(types, "special"), ==, "gauge");
	g_assert_null(g_hash_table_lookup(types, "metric_without_type:with_colon"));

	g_assert_cmpfloat(find_sample(samples, "weird_help", NULL)->value, ==, 1);
	/* timestamps are accepted and dropped */
	g_assert_cmpfloat(
		find_sample(samples, "rpc_duration_seconds", "quantile", "0.5", NULL)->value, ==,
		4773);
	g_assert_cmpfloat(
		find_sample(samples, "rpc_duration_seconds", "quantile", "0.99", NULL)->value,
		==,
		76656);
	g_assert_cmpfloat(find_sample(samples, "rpc_duration_seconds_sum", NULL)->value,
			  ==,
			  1.7560473e7);
	g_assert_cmpfloat(find_sample(samples, "special", "kind", "inf", NULL)->value, ==,
			  INFINITY);
	g_assert_cmpfloat(find_sample(samples, "special", "kind", "minus_inf", NULL)->value,
			  ==,
			  -INFINITY);
	g_assert_true(isnan(find_sample(samples, "special", "kind", "nan", NULL)->value));
	g_assert_cmpfloat(find_sample(samples, "special", "kind", "plain_inf", NULL)->value,
			  ==,
			  INFINITY);
	g_assert_cmpfloat(find_sample(samples, "special", "kind", "exp", NULL)->value, ==, -1.5e-3);
	g_assert_cmpfloat(find_sample(samples, "special", "kind", "spaced", NULL)->value, ==, 7);
	sample = find_sample(samples, "special", "kind", "escaped", NULL);
	g_assert_cmpstr(g_hash_table_lookup(sample->labels, "path"), ==,
			"C:\\dir\\\"file\"\n{x,y}=z");
	g_assert_cmpfloat(sample->value, ==, 2);
	sample = find_sample(samples, "special", "kind", "unicode", NULL);
	g_assert_cmpstr(g_hash_table_lookup(sample->labels, "text"), ==, "héllo ✓ 日本");
	sample = g_ptr_array_index(samples, 13);
	g_assert_cmpstr(sample->name, ==, "special");
	g_assert_cmpuint(g_hash_table_size(sample->labels), ==, 0);
	g_assert_cmpfloat(sample->value, ==, 4);
	g_assert_cmpfloat(find_sample(samples, "metric_without_type:with_colon", NULL)->value,
			  ==,
			  0.25);
}

static void
test_parse_crlf(void)
{
	g_autoptr(GPtrArray) samples = NULL;
	g_autoptr(GHashTable) types = NULL;

	/* also blank-only lines and blanks after the value (editors strip them from files) */
	samples = parse_ok("# TYPE a counter\r\na_total{x=\"1\"} 3\r\n\t \r\nb 2 123 \t\r\nc 5\t\n",
			   &types);
	g_assert_cmpuint(samples->len, ==, 3);
	g_assert_cmpstr(g_hash_table_lookup(types, "a"), ==, "counter");
	g_assert_cmpfloat(find_sample(samples, "a_total", "x", "1", NULL)->value, ==, 3);
	g_assert_cmpfloat(find_sample(samples, "b", NULL)->value, ==, 2);
	g_assert_cmpfloat(find_sample(samples, "c", NULL)->value, ==, 5);
}

static void
test_parse_errors(void)
{
	const struct {
		const gchar *text;
		guint line;
	} cases[] = {
		{"a 1\nb{x=\"1} 2\n", 2},
		{"\n\n# comment\nfoo bar\n", 4},
		{"foo{x=\"\\q\"} 1", 1},
		{"foo{1x=\"a\"} 1", 1},
		{"foo{x=a} 1", 1},
		{"foo{x} 1", 1},
		{"foo{x=\"a\" y=\"b\"} 1", 1},
		{"foo{x=\"a\",x=\"b\"} 1", 1},
		{"foo{x=\"a\"}1", 1},
		{"ok 1\nfoo\n", 2},
		{"foo 1 abc", 1},
		{"foo 1 2 3", 1},
		{"foo 1.5x", 1},
		{"foo -", 1},
		{"foo 0x", 1},
		{"foo infinite", 1},
		{"1foo 1", 1},
		{"{x=\"a\"} 1", 1},
		{"a 1\nb 2\n# TYPE foo blah\n", 3},
		{"# TYPE foo counter extra", 1},
		{"# TYPE", 1},
		{"# HELP 1bad help", 1},
		{"a 1\nb 2\nc{x=\"\xff\"} 3\n", 3},
		{"foo{x=\"a\"\n} 1", 1},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GHashTable) types = NULL;
		g_autoptr(GPtrArray) samples = osc_metrics_parse(cases[i].text, &types, &error);
		g_autofree gchar *prefix = g_strdup_printf("line %u: ", cases[i].line);
		g_autofree gchar *escaped = g_strescape(cases[i].text, NULL);

		g_test_message("case %u: %s", i, escaped);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
		g_assert_null(samples);
		g_assert_null(types);
		g_assert_true(g_str_has_prefix(error->message, prefix));
	}
}

/* ---- promtool ---- */

static void
check_with_promtool(const gchar *promtool, const gchar *text, gboolean allow_total_gauges)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;
	g_auto(GStrv) lines = NULL;

	proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					G_SUBPROCESS_FLAGS_STDERR_PIPE,
				&error,
				promtool,
				"check",
				"metrics",
				NULL);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, text, NULL, &out, &err, &error);
	g_assert_no_error(error);
	g_test_message("promtool: %s%s", out, err);
	if (g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0)
		return;

	/* exit 3 is lint findings only; §10 keeps the original's gauges named *_total */
	g_assert_true(allow_total_gauges);
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 3);
	lines = g_strsplit(g_strstrip(err), "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		g_assert_nonnull(
			strstr(lines[i], "non-counter metrics should not have \"_total\""));
}

static void
test_promtool(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *promtool = g_find_program_in_path("promtool");
	g_autoptr(OscMetrics) original = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *text_original = NULL;
	OscMetric *counter;
	OscMetric *gauge;
	OscMetric *hist;
	OscMetric *m;

	if (promtool == NULL) {
		g_test_skip("promtool not found in PATH (Debian package prometheus); the "
			    "exposition was not checked against Prometheus' own parser");
		return;
	}

	/* a lint-clean registry exercising every feature */
	counter = osc_metrics_add_counter(fixture->metrics,
					  "t_paths_total",
					  "Paths \\ with \"odd\"\nvalues.",
					  (const gchar *const[]){"endpoint", "status", NULL});
	gauge = osc_metrics_add_gauge(fixture->metrics, "t_level", "Level.", NULL);
	hist = osc_metrics_add_histogram(fixture->metrics,
					 "t_duration_seconds",
					 "Duration.",
					 (const gchar *const[]){"endpoint", NULL},
					 NULL,
					 0);
	osc_metrics_add_histogram(fixture->metrics, "t_idle_seconds", "Idle.", NULL, NULL, 0);
	osc_metrics_add_gauge(fixture->metrics,
			      "t_unused",
			      "Unused.",
			      (const gchar *const[]){"x", NULL});
	for (guint i = 0; i < G_N_ELEMENTS(awkward_values); i++) {
		osc_metric_inc(counter, 1e6 * i + 0.5, awkward_values[i], "200", NULL);
		osc_metric_observe(hist, i * 0.3, awkward_values[i], NULL);
	}
	osc_metric_set(gauge, NAN, NULL);
	text = osc_metrics_render(fixture->metrics);
	check_with_promtool(promtool, text, FALSE);
	osc_metric_set(gauge, -INFINITY, NULL);
	g_free(text);
	text = osc_metrics_render(fixture->metrics);
	check_with_promtool(promtool, text, FALSE);

	/* the §10 families as the server registers them */
	original = osc_metrics_new();
	m = osc_metrics_add_counter(
		original, "osc_http_requests_total", "Total HTTP requests",
		(const gchar *const[]){"method", "endpoint", "status_code", NULL});
	osc_metric_inc(m, 1, "GET", "/configs/{key}", "200", NULL);
	m = osc_metrics_add_histogram(original,
				      "osc_http_request_duration_seconds",
				      "HTTP request duration",
				      (const gchar *const[]){"method", "endpoint", NULL},
				      NULL,
				      0);
	osc_metric_observe(m, 0.012, "GET", "/configs/{key}", NULL);
	osc_metrics_add_gauge(original,
			      "osc_config_entries_total",
			      "Total number of configuration entries",
			      NULL);
	osc_metrics_add_gauge(original, "osc_cluster_nodes_total", "Total cluster nodes", NULL);
	osc_metrics_add_gauge(original, "osc_cluster_nodes_healthy", "Healthy cluster nodes", NULL);
	osc_metrics_add_histogram(original,
				  "osc_cluster_sync_duration_seconds",
				  "Cluster synchronization duration",
				  NULL,
				  NULL,
				  0);
	text_original = osc_metrics_render(original);
	check_with_promtool(promtool, text_original, TRUE);
}

/*
 * GLib 2.74 deliberately leaks the previous directories each time G_TEST_OPTION_ISOLATE_DIRS
 * switches to the next test's (g_set_user_dirs).  The sanitizers read these hooks when built
 * in: suppress that leak, and unwind malloc stacks fully so the suppression can see the GLib
 * frame (GLib has no frame pointers).  Harmless in other builds.
 */
const char *
__lsan_default_suppressions(void);
const char *
__asan_default_options(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:g_set_user_dirs\n";
}

const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

int
main(int argc, char **argv)
{
	g_log_set_writer_func(test_log_writer, NULL, NULL);
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	/* test_log_writer() fails the test on unexpected criticals instead */
	g_log_set_always_fatal(G_LOG_FATAL_MASK);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/osc/metrics/counter", test_counter);
	ADD("/osc/metrics/label-count-mismatch", test_label_count_mismatch);
	ADD("/osc/metrics/gauge", test_gauge);
	ADD("/osc/metrics/histogram", test_histogram);
	ADD("/osc/metrics/histogram-custom-buckets", test_histogram_custom_buckets);
	ADD("/osc/metrics/render-exact", test_render_exact);
	ADD("/osc/metrics/render-empty", test_render_empty);
	ADD("/osc/metrics/unlabelled-always-present", test_unlabelled_always);
	ADD("/osc/metrics/format-values", test_format_values);
	ADD("/osc/metrics/value-round-trip", test_value_round_trip);
	ADD("/osc/metrics/label-escaping-round-trip", test_label_escaping);
	ADD("/osc/metrics/label-key-injective", test_label_key_injective);
	ADD("/osc/metrics/label-long-values", test_label_long_values);
	ADD("/osc/metrics/label-invalid-utf8", test_label_invalid_utf8);
	ADD("/osc/metrics/registration", test_registration);
	ADD("/osc/metrics/foreach-order", test_foreach);
	ADD("/osc/metrics/threads", test_threads);
	ADD("/osc/metrics/promtool", test_promtool);
#undef ADD
	g_test_add_func("/osc/metrics/parse/prometheus-client", test_parse_prometheus_client);
	g_test_add_func("/osc/metrics/parse/edge-cases", test_parse_edge_cases);
	g_test_add_func("/osc/metrics/parse/crlf-and-blanks", test_parse_crlf);
	g_test_add_func("/osc/metrics/parse/errors", test_parse_errors);

	return g_test_run();
}
