/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib.h>

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "osc-crypto.h"
#include "osc-service.h"
#include "osc-test-utils.h"
#include "osc-value.h"

/*
 * Backup and import of a large store through OscService (API.md §4.12, §4.13), without
 * HTTP: osc_service_backup() of N entries, then osc_service_import() of that backup into a
 * second, fresh store. Prints the time and the peak RSS of each phase.
 *
 * Targets: each phase < 10 s, peak RSS < 200 MB, at 100,000 entries.
 */

#define USER_KEY_A "bench-user-key-alpha"
#define USER_KEY_B "bench-user-key-bravo"
#define PASSWORD   "bench-backup-password"
#define BATCH	   10000

static gdouble
elapsed_s(gint64 start)
{
	return (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

/* user + system CPU seconds of the whole process (the phases run on this thread; the
 * service's workers are idle), less sensitive than wall time to a loaded machine */
static gdouble
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (gdouble)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (gdouble)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* VmHWM / VmRSS from /proc/self/status, in MiB; -1 when unavailable */
static gdouble
proc_status_mib(const gchar *field)
{
	g_autofree gchar *status = NULL;
	g_autofree gchar *needle = g_strconcat(field, ":", NULL);
	const gchar *p;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return -1;
	p = strstr(status, needle);
	if (p == NULL)
		return -1;
	return g_ascii_strtod(p + strlen(needle), NULL) / 1024.0; /* kB */
}

/* Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM to the current RSS, so each phase's
 * peak is its own rather than the process's so far */
static gboolean
reset_peak(void)
{
	/* not g_file_set_contents(): it writes a temporary file and renames it over */
	FILE *f = fopen("/proc/self/clear_refs", "w");
	gboolean ok;

	if (f == NULL)
		return FALSE;
	ok = fputs("5", f) >= 0;
	return fclose(f) == 0 && ok;
}

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	OscDerivedKey *dk;
} Store;

static void
store_open(Store *s, const gchar *user_key)
{
	g_autoptr(GError) error = NULL;

	s->tmpdir = osc_test_make_tmpdir();
	s->config = osc_test_config_new(s->tmpdir);
	/* the user-key PBKDF2 stays cheap; the backup's 480,000 are fixed by the format */
	s->config->pbkdf2_iterations = 1000;
	s->service = osc_service_new(s->config, &error);
	g_assert_no_error(error);
	s->dk = osc_key_cache_derive(osc_service_get_key_cache(s->service), user_key,
				     strlen(user_key), NULL, &error);
	g_assert_no_error(error);
}

static void
store_close(Store *s)
{
	g_clear_pointer(&s->dk, osc_derived_key_unref);
	g_clear_object(&s->service);
	g_clear_pointer(&s->config, osc_config_free);
	osc_test_rm_rf(s->tmpdir);
	g_clear_pointer(&s->tmpdir, g_free);
}

/* ~100-byte values, like the configuration a service keeps */
static JsonNode *
bench_value(guint i)
{
	g_autofree gchar *text = g_strdup_printf(
		"{\"host\": \"db-%u.internal.example.com\", \"port\": %u, \"pool\": {\"min\": 2, "
		"\"max\": %u}, \"tags\": [\"bench\", \"t%u\"], \"tls\": %s}",
		i, 5000 + i % 1000, 10 + i % 50, i % 13, i % 2 ? "true" : "false");
	g_autoptr(GError) error = NULL;
	JsonNode *node = json_from_string(text, &error);

	g_assert_no_error(error);
	return node;
}

/* pre-encrypted tokens under the service's own key, written in batches of one transaction */
static void
store_fill(Store *s, guint n)
{
	static const gchar *const envs[] = {"production", "staging", "development"};
	const gchar *fp = osc_derived_key_get_fingerprint(s->dk);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	for (guint base = 0; base < n; base += BATCH) {
		guint count = MIN(BATCH, n - base);
		g_autoptr(GArray) ops =
			g_array_sized_new(FALSE, TRUE, sizeof(OscStoreImportOp), count);
		g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) error = NULL;

		for (guint i = base; i < base + count; i++) {
			g_autoptr(JsonNode) value = bench_value(i);
			gsize len = 0;
			g_autofree gchar *plain = osc_value_to_python_json(value, &len);
			gchar *key = g_strdup_printf("service-%06u.config", i);
			gchar *cat = i % 10 == 0 ? NULL : g_strdup_printf("category-%u", i % 8);
			gchar *token =
				osc_fernet_encrypt(osc_derived_key_get_bytes(s->dk),
						   (const guint8 *)plain, len, now, NULL, &error);
			OscStoreImportOp op = {0};

			g_assert_no_error(error);
			g_ptr_array_add(strings, key);
			g_ptr_array_add(strings, token);
			if (cat != NULL)
				g_ptr_array_add(strings, cat);
			op.key = key;
			op.environment = envs[i % G_N_ELEMENTS(envs)];
			op.category = cat;
			op.token = token;
			op.fingerprint = fp;
			g_array_append_val(ops, op);
		}
		if (!osc_store_import(osc_service_get_store(s->service),
				      (OscStoreImportOp *)(gpointer)ops->data, ops->len, NULL, NULL,
				      &error))
			g_error("insert failed: %s", error->message);
		for (guint i = 0; i < ops->len; i++) {
			OscStoreImportOp *op = &g_array_index(ops, OscStoreImportOp, i);
			g_assert_cmpint(op->result, ==, OSC_STORE_IMPORT_CREATED);
			g_clear_pointer(&op->row, osc_entry_row_free);
		}
	}
}

static void
report(const gchar *phase, gdouble seconds, gdouble cpu, gdouble target_s, gboolean peak_reset)
{
	gdouble hwm = proc_status_mib("VmHWM");
	gdouble rss = proc_status_mib("VmRSS");

	g_print("%-8s %6.2f s wall %6.2f s CPU   peak RSS %6.1f MiB%s   RSS after %6.1f MiB   "
		"[time %s, memory %s]\n",
		phase, seconds, cpu, hwm, peak_reset ? " (this phase)" : " (process)", rss,
		seconds < target_s ? "ok" : "OVER", hwm < 200.0 ? "ok" : "OVER");
}

int
main(int argc, char **argv)
{
	gint entries = 100000;
	GOptionEntry options[] = {
		{"entries", 'n', 0, G_OPTION_ARG_INT, &entries, "Entries to back up (100000)", "N"},
		{NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new("- backup/import benchmark");
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) backup = NULL;
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(GPtrArray) changes = NULL;
	g_autofree gchar *backup_data = NULL;
	Store a = {0};
	Store b = {0};
	JsonObject *o;
	gboolean peak_reset;
	gint64 start;
	gdouble cpu0;

	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (entries <= 0) {
		g_printerr("--entries must be positive\n");
		return 2;
	}

	store_open(&a, USER_KEY_A);
	store_open(&b, USER_KEY_B);
	g_print("bench-backup: %d entries, targets < 10 s and < 200 MiB peak RSS per phase\n",
		entries);

	start = g_get_monotonic_time();
	store_fill(&a, (guint)entries);
	g_print("%-8s %8.2f s   (setup: pre-encrypted rows, %d per transaction)\n", "insert",
		elapsed_s(start), BATCH);
	g_print("baseline RSS %.1f MiB, process peak so far %.1f MiB\n", proc_status_mib("VmRSS"),
		proc_status_mib("VmHWM"));

	/* backup: decrypt every row, write the document, one 480,000-round PBKDF2; as the
	 * HTTP route does it, with backup_data handed over rather than copied into the object */
	peak_reset = reset_peak();
	start = g_get_monotonic_time();
	cpu0 = cpu_s();
	backup = osc_service_backup_full(a.service, a.dk, PASSWORD, strlen(PASSWORD), NULL, NULL,
					 &backup_data, &error);
	if (backup == NULL)
		g_error("backup failed: %s", error->message);
	report("backup", elapsed_s(start), cpu_s() - cpu0, 10.0, peak_reset);
	o = json_node_get_object(backup);
	g_assert_cmpint(json_object_get_int_member(o, "total_keys"), ==, entries);
	g_clear_pointer(&backup, json_node_unref);
	g_print("         backup_data %.1f MiB (base64)\n",
		(gdouble)strlen(backup_data) / (1024.0 * 1024.0));

	/* import into a fresh store under another key: decrypt, parse, re-encrypt, one txn */
	peak_reset = reset_peak();
	start = g_get_monotonic_time();
	cpu0 = cpu_s();
	result = osc_service_import(b.service, b.dk, PASSWORD, strlen(PASSWORD),
				    g_steal_pointer(&backup_data), FALSE,
				    &changes, &error);
	if (result == NULL)
		g_error("import failed: %s", error->message);
	report("import", elapsed_s(start), cpu_s() - cpu0, 10.0, peak_reset);
	o = json_node_get_object(result);
	g_assert_cmpint(json_object_get_int_member(o, "imported"), ==, entries);
	g_assert_cmpint(json_object_get_int_member(o, "failed"), ==, 0);
	g_assert_cmpint(osc_service_get_entry_count(b.service), ==, entries);
	g_print("         imported %" G_GINT64_FORMAT ", %u change events queued\n",
		json_object_get_int_member(o, "imported"), changes != NULL ? changes->len : 0);
	if (!peak_reset)
		g_print("note: /proc/self/clear_refs not writable; peaks are process-wide\n");

	g_clear_pointer(&changes, g_ptr_array_unref);
	store_close(&a);
	store_close(&b);
	return 0;
}
