/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The store's replication layer: HLC stamps, tombstones and last-writer-wins merging.
 */

#include "config.h"

#include <sqlite3.h>

#include "osc-error.h"
#include "osc-store.h"
#include "osc-test-utils.h"

typedef struct {
	gchar *tmpdir;
	OscStore *a;
	OscStore *b;
} ReplFixture;

static OscStore *
open_store(const gchar *tmpdir, const gchar *name, const gchar *node_id)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_build_filename(tmpdir, name, NULL);
	OscStore *store = osc_store_new(path, &error);

	g_assert_no_error(error);
	osc_store_set_node_id(store, node_id);
	return store;
}

static void
repl_setup(ReplFixture *fx, gconstpointer data)
{
	fx->tmpdir = osc_test_make_tmpdir();
	fx->a = open_store(fx->tmpdir, "a.db", "node-a");
	fx->b = open_store(fx->tmpdir, "b.db", "node-b");
}

static void
repl_teardown(ReplFixture *fx, gconstpointer data)
{
	g_clear_object(&fx->a);
	g_clear_object(&fx->b);
	osc_test_rm_rf(fx->tmpdir);
	g_free(fx->tmpdir);
}

/* everything @from has (rows and tombstones, with tokens) merged into @to; returns how many
 * ops changed something */
static guint
sync_into(OscStore *from, OscStore *to)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = osc_store_repl_list(from, NULL, TRUE, &error);
	g_autofree OscStoreApplyOp *ops = NULL;
	guint changed = 0;

	g_assert_no_error(error);
	ops = g_new0(OscStoreApplyOp, rows->len + 1);
	for (guint i = 0; i < rows->len; i++)
		ops[i].in = g_ptr_array_index(rows, i);
	g_assert_true(osc_store_apply_remote(to, ops, rows->len, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < rows->len; i++) {
		if (ops[i].result != OSC_STORE_APPLIED_NONE)
			changed++;
		g_clear_pointer(&ops[i].row, osc_entry_row_free);
	}
	return changed;
}

/* key|env|hlc|origin|deleted|token per line */
static gchar *
dump(OscStore *store)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = osc_store_repl_list(store, NULL, TRUE, &error);
	GString *out = g_string_new(NULL);

	g_assert_no_error(error);
	for (guint i = 0; i < rows->len; i++) {
		OscReplRow *r = g_ptr_array_index(rows, i);
		g_string_append_printf(out, "%s|%s|%s|%s|%d|%s|%s|%s\n", r->key, r->environment,
				       r->hlc, r->origin, r->deleted, r->token ? r->token : "-",
				       r->created_at ? r->created_at : "-", r->updated_at);
	}
	return g_string_free(out, FALSE);
}

static OscEntryRow *
insert_ok(OscStore *store, const gchar *key, const gchar *env, const gchar *token)
{
	g_autoptr(GError) error = NULL;
	OscEntryRow *row = osc_store_insert(store, key, env, "cat", token, "fp", &error);

	g_assert_no_error(error);
	return row;
}

static OscEntryRow *
update_ok(OscStore *store, const gchar *key, const gchar *env, const gchar *token)
{
	g_autoptr(GError) error = NULL;
	OscEntryRow *row = osc_store_update(store, key, env, FALSE, NULL, token, "fp", -1, &error);

	g_assert_no_error(error);
	return row;
}

static void
delete_ok(OscStore *store, const gchar *key, const gchar *env)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(osc_store_delete(store, key, env, -1, &error));
	g_assert_no_error(error);
}

static OscReplRow *
find_row(OscStore *store, const gchar *key, const gchar *env)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = osc_store_repl_list(store, env, TRUE, &error);

	g_assert_no_error(error);
	for (guint i = 0; i < rows->len; i++) {
		OscReplRow *r = g_ptr_array_index(rows, i);
		if (g_str_equal(r->key, key))
			return g_ptr_array_steal_index(rows, i);
	}
	return NULL;
}

static OscReplRow *
repl_row(const gchar *key, const gchar *env, const gchar *token, const gchar *hlc,
	 const gchar *origin, const gchar *timestamp)
{
	OscReplRow *r = g_new0(OscReplRow, 1);

	r->key = g_strdup(key);
	r->environment = g_strdup(env);
	r->token = g_strdup(token);
	r->hlc = g_strdup(hlc);
	r->origin = g_strdup(origin);
	r->created_at = g_strdup(timestamp);
	r->updated_at = g_strdup(timestamp);
	return r;
}

static void
test_hlc_encoding(void)
{
	g_autofree gchar *a = osc_store_hlc_encode(1700000000000, 0);
	g_autofree gchar *b = osc_store_hlc_encode(1700000000000, 1);
	g_autofree gchar *c = osc_store_hlc_encode(1700000000001, 0);
	gint64 ms = 0;
	guint32 count = 0;

	g_assert_cmpuint(strlen(a), ==, OSC_HLC_LEN);
	g_assert_cmpint(strcmp(a, b), <, 0);
	g_assert_cmpint(strcmp(b, c), <, 0);
	g_assert_true(osc_store_hlc_decode(b, &ms, &count));
	g_assert_cmpint(ms, ==, 1700000000000);
	g_assert_cmpuint(count, ==, 1);
	g_assert_false(osc_store_hlc_decode("", NULL, NULL));
	g_assert_false(osc_store_hlc_decode("018BCFE56800000000000", NULL, NULL));
	g_assert_false(osc_store_hlc_decode("018BCFE5680000000000", NULL, NULL)); /* upper */
	g_assert_false(osc_store_hlc_decode("018bcfe568000000000x", NULL, NULL));
	/* origin breaks ties; NULL sorts as "" */
	g_assert_cmpint(osc_store_stamp_compare(a, "node-b", a, "node-a"), >, 0);
	g_assert_cmpint(osc_store_stamp_compare(a, "node-a", a, "node-a"), ==, 0);
	g_assert_cmpint(osc_store_stamp_compare(NULL, NULL, a, ""), <, 0);
}

static gint64 fake_now_ms;

static gint64
fake_clock(void)
{
	return fake_now_ms;
}

/* the clock never runs backwards, and jumps above what it has seen */
static void
test_hlc_monotonic(ReplFixture *fx, gconstpointer data)
{
	g_autofree gchar *s1 = NULL;
	g_autofree gchar *s2 = NULL;
	g_autofree gchar *s3 = NULL;
	g_autofree gchar *s4 = NULL;
	g_autofree gchar *remote = osc_store_hlc_encode(5000000000000, 7);

	fake_now_ms = 4000000000000;
	osc_store_hlc_set_clock(fx->a, fake_clock);
	s1 = osc_store_hlc_now(fx->a);
	fake_now_ms -= 60000; /* the wall clock steps back a minute */
	s2 = osc_store_hlc_now(fx->a);
	g_assert_cmpint(strcmp(s1, s2), <, 0);
	/* a remote stamp from a node whose clock is far ahead */
	osc_store_hlc_observe(fx->a, remote);
	s3 = osc_store_hlc_now(fx->a);
	g_assert_cmpint(strcmp(remote, s3), <, 0);
	fake_now_ms = 6000000000000;
	s4 = osc_store_hlc_now(fx->a);
	g_assert_cmpstr(s4, ==, "0574fbde600000000000");
	osc_store_hlc_set_clock(fx->a, NULL);
}

/* local writes stamp rows, deletes leave tombstones, a re-create drops them */
static void
test_local_stamps(ReplFixture *fx, gconstpointer data)
{
	g_autoptr(OscEntryRow) r1 = insert_ok(fx->a, "k", "prod", "t1");
	g_autoptr(OscEntryRow) r2 = NULL;
	g_autoptr(OscEntryRow) r3 = NULL;
	g_autoptr(OscReplRow) tomb = NULL;
	g_autoptr(OscEntryRow) got = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(osc_store_hlc_decode(r1->hlc, NULL, NULL));
	g_assert_cmpstr(r1->origin, ==, "node-a");
	got = osc_store_get(fx->a, "k", "prod", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(got->hlc, ==, r1->hlc);
	g_assert_cmpstr(got->origin, ==, "node-a");

	r2 = update_ok(fx->a, "k", "prod", "t2");
	g_assert_cmpint(strcmp(r1->hlc, r2->hlc), <, 0);

	delete_ok(fx->a, "k", "prod");
	tomb = find_row(fx->a, "k", "prod");
	g_assert_nonnull(tomb);
	g_assert_true(tomb->deleted);
	g_assert_null(tomb->token);
	g_assert_cmpstr(tomb->origin, ==, "node-a");
	g_assert_cmpint(strcmp(r2->hlc, tomb->hlc), <, 0);
	g_clear_pointer(&tomb, osc_repl_row_free);

	r3 = insert_ok(fx->a, "k", "prod", "t3");
	tomb = find_row(fx->a, "k", "prod");
	g_assert_false(tomb->deleted);
	g_assert_cmpstr(tomb->token, ==, "t3");
	g_assert_cmpstr(tomb->hlc, ==, r3->hlc);
}

/* writes on both sides, merged both ways in any order: identical stores */
static void
test_lww_converges(ReplFixture *fx, gconstpointer data)
{
	g_autofree gchar *da = NULL;
	g_autofree gchar *db = NULL;
	g_autoptr(OscReplRow) winner = NULL;

	osc_entry_row_free(insert_ok(fx->a, "only-a", "prod", "a1"));
	osc_entry_row_free(insert_ok(fx->b, "only-b", "prod", "b1"));
	/* a conflict: b writes last */
	osc_entry_row_free(insert_ok(fx->a, "both", "prod", "from-a"));
	g_usleep(2000);
	osc_entry_row_free(insert_ok(fx->b, "both", "prod", "from-b"));

	g_assert_cmpuint(sync_into(fx->a, fx->b), ==, 1); /* only-a; "both" from a is older */
	g_assert_cmpuint(sync_into(fx->b, fx->a), ==, 2); /* only-b and "both" */
	g_assert_cmpuint(sync_into(fx->a, fx->b), ==, 0); /* nothing left: idempotent */
	da = dump(fx->a);
	db = dump(fx->b);
	g_assert_cmpstr(da, ==, db);
	winner = find_row(fx->a, "both", "prod");
	g_assert_cmpstr(winner->token, ==, "from-b");
	g_assert_cmpstr(winner->origin, ==, "node-b");
}

/* the same stamp on both sides: the node id decides, the same way everywhere */
static void
test_lww_tie_break(ReplFixture *fx, gconstpointer data)
{
	g_autofree gchar *hlc = osc_store_hlc_encode(1800000000000, 3);
	g_autoptr(OscReplRow) from_a =
		repl_row("k", "e", "ta", hlc, "node-a", "2027-01-15 08:00:00.000000");
	g_autoptr(OscReplRow) from_b =
		repl_row("k", "e", "tb", hlc, "node-b", "2027-01-15 08:00:00.000000");
	OscStoreApplyOp ops[2] = {{.in = from_b}, {.in = from_a}};
	OscStoreApplyOp ops2[2] = {{.in = from_a}, {.in = from_b}};
	g_autoptr(GError) error = NULL;
	g_autoptr(OscReplRow) ra = NULL;
	g_autoptr(OscReplRow) rb = NULL;

	/* opposite orders on the two stores */
	g_assert_true(osc_store_apply_remote(fx->a, ops, 2, &error));
	g_assert_no_error(error);
	g_assert_cmpint(ops[0].result, ==, OSC_STORE_APPLIED_CREATED);
	g_assert_cmpint(ops[1].result, ==, OSC_STORE_APPLIED_NONE);
	g_assert_true(osc_store_apply_remote(fx->b, ops2, 2, &error));
	g_assert_no_error(error);
	g_assert_cmpint(ops2[0].result, ==, OSC_STORE_APPLIED_CREATED);
	g_assert_cmpint(ops2[1].result, ==, OSC_STORE_APPLIED_UPDATED);
	ra = find_row(fx->a, "k", "e");
	rb = find_row(fx->b, "k", "e");
	g_assert_cmpstr(ra->token, ==, "tb");
	g_assert_cmpstr(rb->token, ==, "tb");
	/* the remote timestamps are kept, so /cluster/configs lists the same on every node */
	g_assert_cmpstr(ra->created_at, ==, "2027-01-15 08:00:00.000000");
	g_assert_cmpstr(rb->updated_at, ==, "2027-01-15 08:00:00.000000");
	for (guint i = 0; i < 2; i++) {
		g_clear_pointer(&ops[i].row, osc_entry_row_free);
		g_clear_pointer(&ops2[i].row, osc_entry_row_free);
	}
}

/* a delete is never undone by an older write arriving late, only by a newer one */
static void
test_no_resurrection(ReplFixture *fx, gconstpointer data)
{
	g_autoptr(OscReplRow) old = NULL;
	g_autoptr(OscReplRow) tomb = NULL;
	g_autoptr(OscReplRow) newer = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) gone = NULL;
	OscStoreApplyOp op = {0};

	osc_entry_row_free(insert_ok(fx->a, "k", "prod", "v1"));
	g_assert_cmpuint(sync_into(fx->a, fx->b), ==, 1);
	old = find_row(fx->a, "k", "prod");
	delete_ok(fx->a, "k", "prod");
	tomb = find_row(fx->a, "k", "prod");
	g_assert_true(tomb->deleted);

	/* the tombstone deletes b's copy */
	op.in = tomb;
	g_assert_true(osc_store_apply_remote(fx->b, &op, 1, &error));
	g_assert_no_error(error);
	g_assert_cmpint(op.result, ==, OSC_STORE_APPLIED_DELETED);
	g_assert_cmpstr(op.row->key, ==, "k");
	g_clear_pointer(&op.row, osc_entry_row_free);
	gone = osc_store_get(fx->b, "k", "prod", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* the old write replayed (a late push, a peer that missed the delete) on both */
	op.in = old;
	g_assert_true(osc_store_apply_remote(fx->b, &op, 1, &error));
	g_assert_cmpint(op.result, ==, OSC_STORE_APPLIED_NONE);
	g_assert_true(osc_store_apply_remote(fx->a, &op, 1, &error));
	g_assert_cmpint(op.result, ==, OSC_STORE_APPLIED_NONE);
	g_assert_null(osc_store_get(fx->a, "k", "prod", &error));
	g_clear_error(&error);

	/* a tombstone alone travels too (a node that never saw the row) */
	{
		g_autoptr(OscStore) c = open_store(fx->tmpdir, "c.db", "node-c");
		op.in = tomb;
		g_assert_true(osc_store_apply_remote(c, &op, 1, &error));
		g_assert_cmpint(op.result, ==, OSC_STORE_APPLIED_TOMBSTONE);
		op.in = old;
		g_assert_true(osc_store_apply_remote(c, &op, 1, &error));
		g_assert_cmpint(op.result, ==, OSC_STORE_APPLIED_NONE);
	}

	/* a newer write re-creates it everywhere */
	osc_entry_row_free(insert_ok(fx->b, "k", "prod", "v2"));
	newer = find_row(fx->b, "k", "prod");
	op.in = newer;
	g_assert_true(osc_store_apply_remote(fx->a, &op, 1, &error));
	g_assert_no_error(error);
	g_assert_cmpint(op.result, ==, OSC_STORE_APPLIED_CREATED);
	g_assert_cmpstr(op.row->token, ==, "v2");
	g_clear_pointer(&op.row, osc_entry_row_free);
}

/* a batch with a bad row changes nothing */
static void
test_apply_atomic(ReplFixture *fx, gconstpointer data)
{
	g_autofree gchar *hlc = osc_store_hlc_encode(1800000000000, 0);
	g_autoptr(OscReplRow) good = repl_row("g", "e", "t", hlc, "node-x", NULL);
	g_autoptr(OscReplRow) bad = repl_row("b", "e", "t", "nonsense", "node-x", NULL);
	g_autoptr(OscReplRow) no_token = repl_row("n", "e", NULL, hlc, "node-x", NULL);
	OscStoreApplyOp ops[2] = {{.in = good}, {.in = bad}};
	OscStoreApplyOp ops2[2] = {{.in = good}, {.in = no_token}};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *d = NULL;

	g_assert_false(osc_store_apply_remote(fx->a, ops, 2, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(osc_store_apply_remote(fx->a, ops2, 2, &error));
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	d = dump(fx->a);
	g_assert_cmpstr(d, ==, "");
}

static void
test_prune_and_unstamped(ReplFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscReplRow) r = NULL;
	g_autofree gchar *path = g_build_filename(fx->tmpdir, "a.db", NULL);
	sqlite3 *db = NULL;

	osc_entry_row_free(insert_ok(fx->a, "k", "prod", "v1"));
	osc_entry_row_free(insert_ok(fx->a, "old", "prod", "v1"));
	delete_ok(fx->a, "k", "prod");
	/* a tombstone younger than the limit stays */
	g_assert_cmpint(osc_store_prune_tombstones(fx->a, g_get_real_time() / 1000 - 60000, &error),
			==, 0);
	g_assert_cmpint(osc_store_prune_tombstones(fx->a, g_get_real_time() / 1000 + 1000, &error),
			==, 1);
	g_assert_no_error(error);
	g_assert_null(find_row(fx->a, "k", "prod"));

	/* a row written without a stamp (the original server, or an older schema) */
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE configurations SET hlc = NULL, origin_node = NULL",
				     NULL, NULL, NULL),
			==, SQLITE_OK);
	sqlite3_close(db);
	r = find_row(fx->a, "old", "prod");
	g_assert_cmpstr(r->hlc, ==, "");
	g_clear_pointer(&r, osc_repl_row_free);
	g_assert_cmpint(osc_store_stamp_unstamped(fx->a, &error), ==, 1);
	g_assert_no_error(error);
	r = find_row(fx->a, "old", "prod");
	g_assert_true(osc_store_hlc_decode(r->hlc, NULL, NULL));
	g_assert_cmpstr(r->origin, ==, "node-a");
	g_assert_cmpint(osc_store_stamp_unstamped(fx->a, &error), ==, 0);
}

/* the clock survives a restart: stamps stay above what is stored */
static void
test_hlc_reopen(ReplFixture *fx, gconstpointer data)
{
	g_autofree gchar *far = osc_store_hlc_encode(g_get_real_time() / 1000 + 3600000, 5);
	g_autoptr(OscReplRow) in = repl_row("k", "e", "t", far, "node-x", NULL);
	OscStoreApplyOp op = {.in = in};
	g_autoptr(GError) error = NULL;
	g_autoptr(OscEntryRow) local = NULL;

	g_assert_true(osc_store_apply_remote(fx->a, &op, 1, &error));
	g_clear_pointer(&op.row, osc_entry_row_free);
	g_clear_object(&fx->a);
	fx->a = open_store(fx->tmpdir, "a.db", "node-a");
	local = update_ok(fx->a, "k", "e", "t2");
	g_assert_cmpint(strcmp(far, local->hlc), <, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/osc/store-repl/hlc-encoding", test_hlc_encoding);
#define ADD(path, func) g_test_add(path, ReplFixture, NULL, repl_setup, func, repl_teardown)
	ADD("/osc/store-repl/hlc-monotonic", test_hlc_monotonic);
	ADD("/osc/store-repl/local-stamps", test_local_stamps);
	ADD("/osc/store-repl/lww-converges", test_lww_converges);
	ADD("/osc/store-repl/lww-tie-break", test_lww_tie_break);
	ADD("/osc/store-repl/no-resurrection", test_no_resurrection);
	ADD("/osc/store-repl/apply-atomic", test_apply_atomic);
	ADD("/osc/store-repl/prune-and-unstamped", test_prune_and_unstamped);
	ADD("/osc/store-repl/hlc-reopen", test_hlc_reopen);
#undef ADD
	return g_test_run();
}
