/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscBenchStore"

#include "config.h"

#include <sqlite3.h>
#include <time.h>

#include "osc-store.h"
#include "osc-test-utils.h"

/*
 * Store throughput, run by hand:
 *   point reads/s   osc_store_get() of random keys among 10,000, one thread and several
 *   writes/s        osc_store_insert() of distinct keys, each one a committed transaction,
 *                   with synchronous=FULL (durable: the default) and NORMAL (labelled)
 * Usage: bench-store [SECONDS-PER-RUN [reads|writes]]
 */

#define N_KEYS	  10000
#define N_THREADS 4

/* a token of the size the §6.5 vector has */
#define TOKEN                                                                                      \
	"gAAAAABlU_EAAAECAwQFBgcICQoLDA0OD-"                                                       \
	"LKzUUXMcM7ZLrQybyHGsJFdetukhbu3s6n23fTU4rjBBgrQ5o3rXcJlm5"                                \
	"PDaodBbDYAQ4eYfpJ1fe7u79vyxjE4HdyJKv7HLwSAiXPBdmW"

static gdouble seconds_per_run = 2.0;

static OscStore *
bench_open(const gchar *dir, const gchar *name, const gchar *synchronous)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	OscStore *store;

	g_setenv("OSC_DB_SYNCHRONOUS", synchronous, TRUE);
	store = osc_store_new(path, &error);
	if (store == NULL)
		g_error("cannot open %s: %s", path, error->message);
	return store;
}

static void
bench_fill(OscStore *store)
{
	for (guint i = 0; i < N_KEYS; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *key = g_strdup_printf("key-%05u", i);
		g_autoptr(OscEntryRow) row =
			osc_store_insert(store, key, "production", i % 3 ? "config" : NULL, TOKEN,
					 "fingerprint-0123456789abcdef", &error);
		if (row == NULL)
			g_error("insert: %s", error->message);
	}
}

typedef struct {
	OscStore *store;
	guint64 n_ops;
	gdouble cpu_seconds;
	guint32 seed;
	gint go;
} ReadData;

/* CPU time of the calling thread: on a shared machine, ops per CPU-second say more about
 * the code than wall-clock throughput does */
static gdouble
bench_thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static gpointer
bench_reads_cb(gpointer user_data)
{
	ReadData *data = user_data;
	g_autoptr(GRand) rand = g_rand_new_with_seed(data->seed);
	g_autoptr(GTimer) timer = NULL;
	gchar key[32];
	gdouble cpu_start;

	while (!g_atomic_int_get(&data->go))
		g_thread_yield();
	timer = g_timer_new();
	cpu_start = bench_thread_cpu();
	while (g_timer_elapsed(timer, NULL) < seconds_per_run) {
		/* check the clock every 1024 reads only */
		for (guint i = 0; i < 1024; i++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(OscEntryRow) row = NULL;

			g_snprintf(key, sizeof(key), "key-%05u",
				   (guint)g_rand_int_range(rand, 0, N_KEYS));
			row = osc_store_get(data->store, key, "production", &error);
			if (row == NULL)
				g_error("get %s: %s", key, error->message);
		}
		data->n_ops += 1024;
	}
	data->cpu_seconds = bench_thread_cpu() - cpu_start;
	return NULL;
}

static void
bench_reads(OscStore *store, guint n_threads)
{
	ReadData data[N_THREADS] = {0};
	GThread *threads[N_THREADS];
	guint64 total = 0;
	gdouble cpu = 0;

	for (guint i = 0; i < n_threads; i++) {
		data[i].store = store;
		data[i].seed = 42 + i;
		threads[i] = g_thread_new("reader", bench_reads_cb, &data[i]);
	}
	for (guint i = 0; i < n_threads; i++)
		g_atomic_int_set(&data[i].go, 1);
	for (guint i = 0; i < n_threads; i++) {
		g_thread_join(threads[i]);
		total += data[i].n_ops;
		cpu += data[i].cpu_seconds;
	}
	g_print("store point reads, %u thread%s:%*s %10.0f reads/s  (%.0f per CPU-second)\n",
		n_threads, n_threads == 1 ? "" : "s", n_threads == 1 ? 23 : 22, "",
		total / seconds_per_run, total / cpu);
}

static void
bench_writes(const gchar *dir, const gchar *synchronous)
{
	g_autofree gchar *name = g_strdup_printf("writes-%s.db", synchronous);
	g_autoptr(OscStore) store = bench_open(dir, name, synchronous);
	g_autoptr(GTimer) timer = g_timer_new();
	guint n = 0;

	while (g_timer_elapsed(timer, NULL) < seconds_per_run) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *key = g_strdup_printf("key-%08u", n);
		g_autoptr(OscEntryRow) row = osc_store_insert(store, key, "production", "config",
							      TOKEN, "fingerprint", &error);
		if (row == NULL)
			g_error("insert %s: %s", key, error->message);
		n++;
	}
	g_print("store inserts, 1 thread, synchronous=%-6s %s %10.0f writes/s\n", synchronous,
		g_strcmp0(synchronous, "FULL") == 0 ? "(durable)    " : "(not durable)",
		n / g_timer_elapsed(timer, NULL));
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("osc-bench-store-XXXXXX", &error);
	g_autoptr(OscStore) store = NULL;
	g_autoptr(GTimer) fill_timer = NULL;
	const gchar *only = argc > 2 ? argv[2] : NULL;

	if (dir == NULL)
		g_error("%s", error->message);
	if (argc > 1)
		seconds_per_run = g_ascii_strtod(argv[1], NULL);
	if (seconds_per_run <= 0)
		seconds_per_run = 2.0;
	g_print("SQLite %s, %.1f s per run, in %s\n", sqlite3_libversion(), seconds_per_run, dir);

	if (g_strcmp0(only, "writes") != 0) {
		/* the synchronous mode does not matter for reads, NORMAL makes the fill quicker */
		store = bench_open(dir, "reads.db", "NORMAL");
		fill_timer = g_timer_new();
		bench_fill(store);
		g_print("filled %u rows in %.2f s\n", N_KEYS, g_timer_elapsed(fill_timer, NULL));
		bench_reads(store, 1);
		bench_reads(store, N_THREADS);
		g_clear_object(&store);
	}
	if (g_strcmp0(only, "reads") != 0) {
		bench_writes(dir, "FULL");
		bench_writes(dir, "NORMAL");
	}

	osc_test_rm_rf(dir);
	return 0;
}
