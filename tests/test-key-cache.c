/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <gio/gio.h>

#include <string.h>

#include "osc-crypto.h"
#include "osc-error.h"
#include "osc-key-cache.h"
#include "osc-test-utils.h"

/* cheap derivations for most tests */
#define FAST_ITERATIONS 1000

/* Keeps PBKDF2 busy long enough (tens of milliseconds) for concurrent callers to overlap.
 * Under AddressSanitizer each iteration is some 40 times slower (OpenSSL allocates in every
 * one), so far fewer give the same overlap. */
static guint
slow_iterations(void)
{
	return osc_test_is_sanitized() ? 10000 : 200000;
}

typedef struct {
	GBytes *salt;
	OscKeyCache *cache;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	guint iterations = GPOINTER_TO_UINT(data);
	guint8 salt[OSC_SALT_LEN];

	g_assert_true(osc_crypto_random(salt, sizeof(salt), NULL));
	fx->salt = g_bytes_new(salt, sizeof(salt));
	fx->cache = osc_key_cache_new(fx->salt, iterations, 0, 0);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	g_assert_finalize_object(fx->cache);
	g_bytes_unref(fx->salt);
}

static void
expected_key(GBytes *salt, guint iterations, const gchar *user_key, guint8 out[32])
{
	g_autoptr(GError) error = NULL;
	gsize salt_len = 0;
	const guint8 *salt_data = g_bytes_get_data(salt, &salt_len);

	g_assert_true(osc_crypto_pbkdf2((const guint8 *)user_key,
					strlen(user_key),
					salt_data,
					salt_len,
					iterations,
					out,
					&error));
	g_assert_no_error(error);
}

static OscDerivedKey *
derive_sync(OscKeyCache *cache, const gchar *user_key)
{
	g_autoptr(GError) error = NULL;
	OscDerivedKey *key = osc_key_cache_derive(cache, user_key, strlen(user_key), NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(key);
	return key;
}

/* async callers: results land here, and the loop runs until enough have */

typedef struct {
	OscDerivedKey *key;
	GError *error;
	GThread *thread;
	GMainContext *context;
	gboolean done;
	guint pbkdf2_in_thread; /* osc_crypto_get_thread_pbkdf2_count() at completion */
} AsyncResult;

static void
async_result_clear(AsyncResult *r)
{
	g_clear_pointer(&r->key, osc_derived_key_unref);
	g_clear_error(&r->error);
	g_clear_pointer(&r->context, g_main_context_unref);
}

static void
derive_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	AsyncResult *r = user_data;

	g_assert_false(r->done);
	r->key = osc_key_cache_derive_finish(OSC_KEY_CACHE(source), result, &r->error);
	g_assert_true((r->key == NULL) != (r->error == NULL));
	r->thread = g_thread_self();
	r->context = g_main_context_ref_thread_default();
	r->pbkdf2_in_thread = osc_crypto_get_thread_pbkdf2_count();
	r->done = TRUE;
	g_main_context_wakeup(r->context);
}

static gboolean
timeout_cb(gpointer user_data)
{
	g_error("timed out waiting for a key derivation");
	return G_SOURCE_REMOVE;
}

static void
wait_for(AsyncResult *r)
{
	GMainContext *context = g_main_context_ref_thread_default();
	GSource *timeout = g_timeout_source_new_seconds(60);

	g_source_set_callback(timeout, timeout_cb, NULL, NULL);
	g_source_attach(timeout, context);
	while (!r->done)
		g_main_context_iteration(context, TRUE);
	g_source_destroy(timeout);
	g_source_unref(timeout);
	g_main_context_unref(context);
}

/* tests */

static void
test_derived_key(void)
{
	guint8 bytes[OSC_DERIVED_KEY_LEN];
	gchar fp[OSC_FINGERPRINT_LEN + 1];
	OscDerivedKey *key;
	OscDerivedKey *copy;

	memset(bytes, 0x5a, sizeof(bytes));
	key = osc_derived_key_new(bytes);
	/* a copy: changing the source afterwards changes nothing */
	osc_crypto_fingerprint(bytes, fp);
	memset(bytes, 0, sizeof(bytes));
	g_assert_cmpuint(osc_derived_key_get_bytes(key)[0], ==, 0x5a);
	g_assert_cmpuint(osc_derived_key_get_bytes(key)[31], ==, 0x5a);
	g_assert_cmpstr(osc_derived_key_get_fingerprint(key), ==, fp);

	/* boxed: copy is a reference */
	copy = g_boxed_copy(OSC_TYPE_DERIVED_KEY, key);
	g_assert_true(copy == key);
	g_boxed_free(OSC_TYPE_DERIVED_KEY, copy);
	g_assert_true(osc_derived_key_ref(key) == key);
	osc_derived_key_unref(key);
	osc_derived_key_unref(key);
}

static void
test_derive_matches_pbkdf2(Fixture *fx, gconstpointer data)
{
	g_autoptr(OscDerivedKey) key = NULL;
	guint8 expected[OSC_DERIVED_KEY_LEN];
	gchar fp[OSC_FINGERPRINT_LEN + 1];

	g_assert_true(osc_key_cache_get_salt(fx->cache) == fx->salt);
	g_assert_cmpuint(osc_key_cache_get_iterations(fx->cache), ==, FAST_ITERATIONS);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 0);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 0);

	/* (no main loop runs in this test, so the blocking call is fine here) */
	key = derive_sync(fx->cache, "user-key-1");
	expected_key(fx->salt, FAST_ITERATIONS, "user-key-1", expected);
	g_assert_cmpmem(osc_derived_key_get_bytes(key), 32, expected, 32);
	osc_crypto_fingerprint(expected, fp);
	g_assert_cmpstr(osc_derived_key_get_fingerprint(key), ==, fp);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 1);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 1);
}

static void
test_lookup(Fixture *fx, gconstpointer data)
{
	g_autoptr(OscDerivedKey) miss = NULL;
	g_autoptr(OscDerivedKey) key = NULL;
	g_autoptr(OscDerivedKey) hit = NULL;
	g_autoptr(OscDerivedKey) other = NULL;
	g_autoptr(OscDerivedKey) prefix = NULL;
	g_autoptr(OscDerivedKey) empty = NULL;
	g_autoptr(OscDerivedKey) empty_hit = NULL;

	miss = osc_key_cache_lookup(fx->cache, "user-key-1", 10);
	g_assert_null(miss);
	/* a lookup never derives */
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 0);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 0);

	key = derive_sync(fx->cache, "user-key-1");
	hit = osc_key_cache_lookup(fx->cache, "user-key-1", 10);
	g_assert_true(hit == key);
	other = osc_key_cache_lookup(fx->cache, "user-key-2", 10);
	g_assert_null(other);
	/* the length given is what counts, not a NUL */
	prefix = osc_key_cache_lookup(fx->cache, "user-key-1", 9);
	g_assert_null(prefix);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 1);

	/* an empty user key is just another key (length rules belong to the caller) */
	empty = osc_key_cache_derive(fx->cache, "", 0, NULL, NULL);
	g_assert_nonnull(empty);
	empty_hit = osc_key_cache_lookup(fx->cache, NULL, 0);
	g_assert_true(empty_hit == empty);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 2);
}

static void
test_async(Fixture *fx, gconstpointer data)
{
	AsyncResult first = {0};
	AsyncResult second = {0};
	guint8 expected[OSC_DERIVED_KEY_LEN];
	guint main_pbkdf2 = osc_crypto_get_thread_pbkdf2_count();
	GMainContext *context = g_main_context_ref_thread_default();

	osc_key_cache_derive_async(fx->cache, "user-key-1", 10, NULL, derive_cb, &first);
	/* never completes from inside the call */
	g_assert_false(first.done);
	wait_for(&first);
	g_assert_no_error(first.error);
	expected_key(fx->salt, FAST_ITERATIONS, "user-key-1", expected);
	g_assert_cmpmem(osc_derived_key_get_bytes(first.key), 32, expected, 32);

	/* the callback ran in our thread and context, PBKDF2 did not */
	g_assert_true(first.thread == g_thread_self());
	g_assert_true(first.context == context);
	g_assert_cmpuint(first.pbkdf2_in_thread, ==, main_pbkdf2);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 1);
	/* expected_key() above ran one in this thread, to compare */
	g_assert_cmpuint(osc_crypto_get_thread_pbkdf2_count(), ==, main_pbkdf2 + 1);

	/* cached: the same key, no derivation, still not from inside the call */
	osc_key_cache_derive_async(fx->cache, "user-key-1", 10, NULL, derive_cb, &second);
	g_assert_false(second.done);
	wait_for(&second);
	g_assert_no_error(second.error);
	g_assert_true(second.key == first.key);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 1);

	async_result_clear(&first);
	async_result_clear(&second);
	g_main_context_unref(context);
}

typedef struct {
	OscKeyCache *cache;
	GMainContext *context;
	AsyncResult result;
} ThreadCtx;

static gpointer
thread_context_thread(gpointer data)
{
	ThreadCtx *tc = data;

	g_main_context_push_thread_default(tc->context);
	osc_key_cache_derive_async(tc->cache, "user-key-t", 10, NULL, derive_cb, &tc->result);
	wait_for(&tc->result);
	g_main_context_pop_thread_default(tc->context);
	return NULL;
}

static void
test_thread_context(Fixture *fx, gconstpointer data)
{
	ThreadCtx tc = {.cache = fx->cache};
	GThread *thread;

	tc.context = g_main_context_new();
	thread = g_thread_new("caller", thread_context_thread, &tc);
	g_thread_join(thread);

	g_assert_no_error(tc.result.error);
	g_assert_nonnull(tc.result.key);
	/* completed in the calling thread's thread-default context, not in ours */
	g_assert_true(tc.result.thread == thread);
	g_assert_true(tc.result.context == tc.context);
	g_assert_cmpuint(tc.result.pbkdf2_in_thread, ==, 0);
	async_result_clear(&tc.result);
	g_main_context_unref(tc.context);
}

/* single flight */

typedef struct {
	OscKeyCache *cache;
	const gchar *user_key;
	GMutex mutex;
	GCond cond;
	gboolean go;
	OscDerivedKey *keys[2];
} Flight;

static gpointer
flight_thread(gpointer data)
{
	Flight *f = data;
	OscDerivedKey *key;

	g_mutex_lock(&f->mutex);
	while (!f->go)
		g_cond_wait(&f->cond, &f->mutex);
	g_mutex_unlock(&f->mutex);
	key = derive_sync(f->cache, f->user_key);
	return key;
}

static void
run_flight(Fixture *fx, const gchar *user_key, gboolean async_first)
{
	Flight f = {.cache = fx->cache, .user_key = user_key};
	AsyncResult async = {0};
	GThread *threads[2];
	guint8 expected[OSC_DERIVED_KEY_LEN];
	guint64 before = osc_key_cache_get_derivations(fx->cache);

	g_mutex_init(&f.mutex);
	g_cond_init(&f.cond);
	for (guint i = 0; i < 2; i++)
		threads[i] = g_thread_new("flight", flight_thread, &f);

	/* async first: the derivation is certainly in progress when the threads ask */
	if (async_first)
		osc_key_cache_derive_async(fx->cache, user_key, strlen(user_key), NULL, derive_cb,
					   &async);
	g_mutex_lock(&f.mutex);
	f.go = TRUE;
	g_cond_broadcast(&f.cond);
	g_mutex_unlock(&f.mutex);
	if (!async_first)
		osc_key_cache_derive_async(fx->cache, user_key, strlen(user_key), NULL, derive_cb,
					   &async);

	wait_for(&async);
	for (guint i = 0; i < 2; i++)
		f.keys[i] = g_thread_join(threads[i]);

	g_assert_no_error(async.error);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, before + 1);
	g_assert_true(f.keys[0] == async.key);
	g_assert_true(f.keys[1] == async.key);
	expected_key(fx->salt, osc_key_cache_get_iterations(fx->cache), user_key, expected);
	g_assert_cmpmem(osc_derived_key_get_bytes(async.key), 32, expected, 32);

	for (guint i = 0; i < 2; i++)
		osc_derived_key_unref(f.keys[i]);
	async_result_clear(&async);
	g_mutex_clear(&f.mutex);
	g_cond_clear(&f.cond);
}

static void
test_single_flight(Fixture *fx, gconstpointer data)
{
	/* all three released together */
	run_flight(fx, "user-key-together", FALSE);
	/* the async derivation already running when the sync callers come */
	run_flight(fx, "user-key-async-first", TRUE);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 2);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 2);
}

static void
test_different_keys(Fixture *fx, gconstpointer data)
{
	g_autoptr(OscDerivedKey) a = derive_sync(fx->cache, "user-key-a");
	g_autoptr(OscDerivedKey) b = derive_sync(fx->cache, "user-key-b");
	g_autoptr(OscKeyCache) other_cache = NULL;
	g_autoptr(GBytes) other_salt = g_bytes_new_static("another salt", 12);
	g_autoptr(OscDerivedKey) a2 = NULL;

	g_assert_true(a != b);
	g_assert_false(memcmp(osc_derived_key_get_bytes(a), osc_derived_key_get_bytes(b), 32) == 0);
	g_assert_cmpstr(osc_derived_key_get_fingerprint(a), !=, osc_derived_key_get_fingerprint(b));
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 2);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 2);

	/* the same user key under another salt is another key */
	other_cache = osc_key_cache_new(other_salt, FAST_ITERATIONS, 0, 1);
	a2 = derive_sync(other_cache, "user-key-a");
	g_assert_false(memcmp(osc_derived_key_get_bytes(a), osc_derived_key_get_bytes(a2), 32) ==
		       0);
}

static void
test_eviction(void)
{
	g_autoptr(GBytes) salt = g_bytes_new_static("eviction salt", 13);
	g_autoptr(OscKeyCache) cache = osc_key_cache_new(salt, FAST_ITERATIONS, 2, 0);
	g_autoptr(OscDerivedKey) k1 = derive_sync(cache, "key-1");
	g_autoptr(OscDerivedKey) k2 = derive_sync(cache, "key-2");
	g_autoptr(OscDerivedKey) k3 = NULL;
	g_autoptr(OscDerivedKey) k1_again = NULL;
	guint8 expected[OSC_DERIVED_KEY_LEN];

	g_assert_cmpuint(osc_key_cache_get_size(cache), ==, 2);
	k3 = derive_sync(cache, "key-3");
	g_assert_cmpuint(osc_key_cache_get_size(cache), ==, 2);
	g_assert_cmpuint(osc_key_cache_get_derivations(cache), ==, 3);

	/* key-1 was the least recently used */
	{
		g_autoptr(OscDerivedKey) l1 = osc_key_cache_lookup(cache, "key-1", 5);
		g_autoptr(OscDerivedKey) l2 = osc_key_cache_lookup(cache, "key-2", 5);
		g_autoptr(OscDerivedKey) l3 = osc_key_cache_lookup(cache, "key-3", 5);

		g_assert_null(l1);
		g_assert_true(l2 == k2);
		g_assert_true(l3 == k3);
	}
	/* an evicted key stays valid for whoever still holds it */
	expected_key(salt, FAST_ITERATIONS, "key-1", expected);
	g_assert_cmpmem(osc_derived_key_get_bytes(k1), 32, expected, 32);

	/* now key-2 is the least recently used (key-3 was looked up after it) */
	k1_again = derive_sync(cache, "key-1");
	g_assert_cmpuint(osc_key_cache_get_derivations(cache), ==, 4);
	g_assert_true(k1_again != k1);
	g_assert_cmpmem(osc_derived_key_get_bytes(k1_again), 32, expected, 32);
	{
		g_autoptr(OscDerivedKey) l2 = osc_key_cache_lookup(cache, "key-2", 5);
		g_autoptr(OscDerivedKey) l3 = osc_key_cache_lookup(cache, "key-3", 5);

		g_assert_null(l2);
		g_assert_true(l3 == k3);
	}
	g_assert_cmpuint(osc_key_cache_get_size(cache), ==, 2);
}

static void
test_clear(Fixture *fx, gconstpointer data)
{
	g_autoptr(OscDerivedKey) a = derive_sync(fx->cache, "user-key-a");
	g_autoptr(OscDerivedKey) b = derive_sync(fx->cache, "user-key-b");
	g_autoptr(OscDerivedKey) la = NULL;
	g_autoptr(OscDerivedKey) a2 = NULL;
	guint8 expected[OSC_DERIVED_KEY_LEN];

	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 2);
	osc_key_cache_clear(fx->cache);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 0);
	la = osc_key_cache_lookup(fx->cache, "user-key-a", 10);
	g_assert_null(la);

	/* held keys are untouched; the next use derives again */
	expected_key(fx->salt, FAST_ITERATIONS, "user-key-a", expected);
	g_assert_cmpmem(osc_derived_key_get_bytes(a), 32, expected, 32);
	a2 = derive_sync(fx->cache, "user-key-a");
	g_assert_cmpmem(osc_derived_key_get_bytes(a2), 32, expected, 32);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 3);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 1);
}

static void
test_clear_pending(Fixture *fx, gconstpointer data)
{
	AsyncResult r = {0};

	/* a derivation in progress still completes for its caller, but is not cached */
	osc_key_cache_derive_async(fx->cache, "user-key-p", 10, NULL, derive_cb, &r);
	osc_key_cache_clear(fx->cache);
	wait_for(&r);
	g_assert_no_error(r.error);
	g_assert_nonnull(r.key);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 0);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 1);
	async_result_clear(&r);
}

static void
test_cancel(Fixture *fx, gconstpointer data)
{
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	AsyncResult cancelled = {0};
	AsyncResult other = {0};
	AsyncResult late = {0};

	osc_key_cache_derive_async(fx->cache, "user-key-c", 10, cancellable, derive_cb, &cancelled);
	osc_key_cache_derive_async(fx->cache, "user-key-c", 10, NULL, derive_cb, &other);
	g_cancellable_cancel(cancellable);

	/* the cancelled waiter is answered at once, while the derivation goes on */
	wait_for(&cancelled);
	g_assert_error(cancelled.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(cancelled.key);
	g_assert_false(other.done);

	wait_for(&other);
	g_assert_no_error(other.error);
	g_assert_nonnull(other.key);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 1);
	g_assert_cmpuint(osc_key_cache_get_size(fx->cache), ==, 1);

	/* already cancelled: fails without deriving, async and sync */
	osc_key_cache_derive_async(fx->cache, "user-key-d", 10, cancellable, derive_cb, &late);
	wait_for(&late);
	g_assert_error(late.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(OscDerivedKey) key =
		    osc_key_cache_derive(fx->cache, "user-key-d", 10, cancellable, &error);

		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
		g_assert_null(key);
	}
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 1);

	async_result_clear(&cancelled);
	async_result_clear(&other);
	async_result_clear(&late);
}

typedef struct {
	OscKeyCache *cache;
	GCancellable *cancellable;
	GError *error;
	OscDerivedKey *key;
} SyncWaiter;

static gpointer
sync_waiter_thread(gpointer data)
{
	SyncWaiter *sw = data;

	sw->key = osc_key_cache_derive(sw->cache, "user-key-s", 10, sw->cancellable, &sw->error);
	return NULL;
}

static void
test_cancel_sync_waiter(Fixture *fx, gconstpointer data)
{
	SyncWaiter sw = {.cache = fx->cache};
	AsyncResult owner = {0};
	GThread *thread;

	/* the async derivation owns the work; a blocked sync waiter can be cancelled */
	sw.cancellable = g_cancellable_new();
	osc_key_cache_derive_async(fx->cache, "user-key-s", 10, NULL, derive_cb, &owner);
	thread = g_thread_new("sync-waiter", sync_waiter_thread, &sw);
	g_usleep(5 * 1000);
	g_cancellable_cancel(sw.cancellable);
	g_thread_join(thread);
	/* either it was still waiting (cancelled) or the key was ready: never anything else */
	if (sw.key == NULL)
		g_assert_error(sw.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	else
		g_assert_no_error(sw.error);

	wait_for(&owner);
	g_assert_no_error(owner.error);
	g_assert_cmpuint(osc_key_cache_get_derivations(fx->cache), ==, 1);

	g_clear_pointer(&sw.key, osc_derived_key_unref);
	g_clear_error(&sw.error);
	g_object_unref(sw.cancellable);
	async_result_clear(&owner);
}

static void
test_finalize_pending(void)
{
	g_autoptr(GBytes) salt = g_bytes_new_static("finalize salt", 13);
	OscKeyCache *cache = osc_key_cache_new(salt, slow_iterations(), 0, 1);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	AsyncResult r = {0};

	/* the only waiter gives up: dropping the cache then waits for the running derivation */
	osc_key_cache_derive_async(cache, "user-key-f", 10, cancellable, derive_cb, &r);
	g_cancellable_cancel(cancellable);
	wait_for(&r);
	g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_finalize_object(cache);
	async_result_clear(&r);
}

/* a kept answer, as a string (or NULL) */
static gchar *
memo_text(OscDerivedKey *dk, const gchar *tag, guint64 generation)
{
	g_autoptr(GBytes) b = osc_derived_key_memo_lookup(dk, tag, generation, G_MAXINT64);

	return b != NULL ? g_strndup(g_bytes_get_data(b, NULL), g_bytes_get_size(b)) : NULL;
}

#define assert_memo(dk, tag, generation, expected)                                             \
	G_STMT_START                                                                           \
	{                                                                                      \
		g_autofree gchar *_got = memo_text(dk, tag, generation);                       \
		g_assert_cmpstr(_got, ==, expected);                                           \
	}                                                                                      \
	G_STMT_END

/* answers kept with a derived key: found only for the same key, tag, generation and age;
 * bounded by the cache's budget; dropped when stale, trimmed, or gone with the key */
static void
test_memo(Fixture *fx, gconstpointer data)
{
	g_autoptr(OscDerivedKey) dk = derive_sync(fx->cache, "user-key-1");
	g_autoptr(OscDerivedKey) other = derive_sync(fx->cache, "user-key-2");
	const gsize budget = 8 * 1024;
	gint64 now = g_get_monotonic_time();
	g_autoptr(GBytes) held = NULL;
	g_autofree gchar *big = g_malloc0(budget);

	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 0);
	assert_memo(dk, "a", 1, NULL);
	g_assert_true(osc_derived_key_memo_store(dk, "a", 1, now, "[1]", 3, budget));
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 3);
	g_assert_cmpuint(osc_derived_key_memo_get_bytes(other), ==, 3);
	assert_memo(dk, "a", 1, "[1]");
	/* another key, another tag: nothing */
	assert_memo(other, "a", 1, NULL);
	assert_memo(dk, "b", 1, NULL);
	/* too old, counted from when the data was read: not found, and dropped */
	g_assert_null(osc_derived_key_memo_lookup(dk, "a", 1, g_get_monotonic_time() - now));
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 0);
	assert_memo(dk, "a", 1, NULL);

	/* a later generation (a write since): not found, and dropped */
	g_assert_true(osc_derived_key_memo_store(dk, "a", 1, now, "[1]", 3, budget));
	assert_memo(dk, "a", 2, NULL);
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 0);

	/* the same tag again replaces the answer */
	g_assert_true(osc_derived_key_memo_store(dk, "a", 2, now, "[1]", 3, budget));
	g_assert_true(osc_derived_key_memo_store(dk, "a", 3, now, "[1,2]", 5, budget));
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 5);
	assert_memo(dk, "a", 3, "[1,2]");

	/* a few tags per key: a fifth replaces the one read longest ago */
	for (guint i = 0; i < 4; i++) {
		g_autofree gchar *tag = g_strdup_printf("t%u", i);
		g_assert_true(osc_derived_key_memo_store(dk, tag, 3, now + 1 + i, "[]", 2, budget));
	}
	assert_memo(dk, "a", 3, NULL);
	for (guint i = 0; i < 4; i++) {
		g_autofree gchar *tag = g_strdup_printf("t%u", i);
		assert_memo(dk, tag, 3, "[]");
	}
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 8);

	/* the budget: no answer over an eighth of it, and no more than it for all the keys */
	g_assert_false(osc_derived_key_memo_store(other, "big", 1, now, big, budget / 8 + 1, budget));
	assert_memo(other, "big", 1, NULL);
	g_assert_true(osc_derived_key_memo_store(other, "big", 1, now, big, budget / 8, budget));
	g_assert_false(osc_derived_key_memo_store(dk, "none", 1, now, "x", 1, 0));
	g_assert_false(osc_derived_key_memo_store(dk, "tight", 1, now, big, 8, 8 + budget / 8 + 7));
	assert_memo(dk, "tight", 1, NULL);
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 8 + budget / 8);

	/* trimming drops what is not current, for every key of the cache */
	osc_key_cache_trim_memos(fx->cache, 3, G_MAXINT64);
	assert_memo(other, "big", 1, NULL);
	assert_memo(dk, "t0", 3, "[]");
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 8);

	/* bytes in use outlive their slot; everything goes with a trim to age 0 */
	held = osc_derived_key_memo_lookup(dk, "t1", 3, G_MAXINT64);
	osc_key_cache_trim_memos(fx->cache, 3, 0);
	assert_memo(dk, "t0", 3, NULL);
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 2);
	g_clear_pointer(&held, g_bytes_unref);
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 0);

	/* and with the keys, once nothing holds them (the cache's own references included) */
	g_assert_true(osc_derived_key_memo_store(other, "x", 4, now, "[9]", 3, budget));
	osc_key_cache_clear(fx->cache);
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 3);
	g_clear_pointer(&other, osc_derived_key_unref);
	g_assert_cmpuint(osc_key_cache_get_memo_bytes(fx->cache), ==, 0);
}

/* a key made on its own keeps its answers in a budget of its own */
static void
test_memo_own_key(void)
{
	guint8 raw[OSC_DERIVED_KEY_LEN];
	g_autoptr(OscDerivedKey) a = NULL;
	g_autoptr(OscDerivedKey) b = NULL;

	memset(raw, 0x5a, sizeof(raw));
	a = osc_derived_key_new(raw);
	b = osc_derived_key_new(raw);
	g_assert_true(osc_derived_key_memo_store(a, "t", 1, g_get_monotonic_time(), "[1]", 3, 64));
	g_assert_cmpuint(osc_derived_key_memo_get_bytes(a), ==, 3);
	g_assert_cmpuint(osc_derived_key_memo_get_bytes(b), ==, 0);
	assert_memo(b, "t", 1, NULL);
}

static void
test_default_iterations(void)
{
	g_autoptr(GBytes) salt = NULL;
	g_autoptr(OscKeyCache) cache = NULL;
	g_autoptr(GBytes) expected = NULL;
	guint8 salt_data[OSC_SALT_LEN];
	AsyncResult r = {0};

	/* The full-strength derivation takes ~20 s under AddressSanitizer and adds nothing the
	 * other tests do not check there; the normal build runs it. */
	if (osc_test_is_sanitized()) {
		g_test_skip("480000 PBKDF2 iterations are too slow under AddressSanitizer");
		return;
	}

	/* API.md §6.5: the real iteration count gives the original's key */
	for (guint i = 0; i < sizeof(salt_data); i++)
		salt_data[i] = (guint8)i;
	salt = g_bytes_new(salt_data, sizeof(salt_data));
	cache = osc_key_cache_new(salt, OSC_PBKDF2_ITERATIONS, 0, 0);
	osc_key_cache_derive_async(cache, "my-secret-key-123", 17, NULL, derive_cb, &r);
	wait_for(&r);
	g_assert_no_error(r.error);
	expected = osc_test_hex_to_bytes(
		"5f7efccff9eea042dcdde9ad879a60f4bb4b143dc68b21b18c85c04c8261145b");
	g_assert_cmpmem(osc_derived_key_get_bytes(r.key),
			32,
			g_bytes_get_data(expected, NULL),
			g_bytes_get_size(expected));
	g_assert_cmpstr(osc_derived_key_get_fingerprint(r.key), ==,
			"a7115ac2e7e1c5a0363d14dc02c04d64");
	async_result_clear(&r);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, iterations, func)                                                                \
	g_test_add(path,                                                                           \
		   Fixture,                                                                        \
		   GUINT_TO_POINTER(iterations),                                                   \
		   fixture_setup,                                                                  \
		   func,                                                                           \
		   fixture_teardown)
	g_test_add_func("/osc/key-cache/derived-key", test_derived_key);
	ADD("/osc/key-cache/derive-matches-pbkdf2", FAST_ITERATIONS, test_derive_matches_pbkdf2);
	ADD("/osc/key-cache/lookup", FAST_ITERATIONS, test_lookup);
	ADD("/osc/key-cache/async", FAST_ITERATIONS, test_async);
	ADD("/osc/key-cache/thread-context", FAST_ITERATIONS, test_thread_context);
	ADD("/osc/key-cache/single-flight", slow_iterations(), test_single_flight);
	ADD("/osc/key-cache/different-keys", FAST_ITERATIONS, test_different_keys);
	g_test_add_func("/osc/key-cache/eviction", test_eviction);
	ADD("/osc/key-cache/clear", FAST_ITERATIONS, test_clear);
	ADD("/osc/key-cache/clear-pending", slow_iterations(), test_clear_pending);
	ADD("/osc/key-cache/cancel", slow_iterations(), test_cancel);
	ADD("/osc/key-cache/cancel-sync-waiter", slow_iterations(), test_cancel_sync_waiter);
	g_test_add_func("/osc/key-cache/finalize-pending", test_finalize_pending);
	g_test_add_func("/osc/key-cache/default-iterations", test_default_iterations);
	ADD("/osc/key-cache/memo", FAST_ITERATIONS, test_memo);
	g_test_add_func("/osc/key-cache/memo-own-key", test_memo_own_key);
#undef ADD

	return g_test_run();
}
