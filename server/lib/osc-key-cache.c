/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscKeyCache"

#include "config.h"

#include <gio/gio.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <string.h>

#include "osc-autocleanups.h"
#include "osc-error.h"
#include "osc-key-cache.h"

/*
 * The derived-key cache of API.md D-2 and §6.2.
 *
 * Entries are found by an id = HMAC-SHA256(per-instance secret, salt || 0x00 || user key), so
 * the user key itself is never stored and the table's layout says nothing about it. An entry
 * is PENDING while PBKDF2 runs (in the thread pool for the async API, in the caller's thread
 * for the sync one) and collects the callers that want the same key meanwhile: each key is
 * derived once however many requests arrive together. READY entries sit in an LRU queue that
 * the capacity bounds; an evicted key is wiped as soon as no request still holds it.
 *
 * Async waiters are completed by an idle source attached to the GTask's own context, so that
 * a pool thread never holds the last reference to a task (and through it to the cache, whose
 * finalize waits for the pool: that would deadlock).
 */

#define ID_LEN			 32
#define DEFAULT_CAPACITY	 256
#define DEFAULT_MAX_THREADS	 4

/* answers kept per derived key (osc_derived_key_memo_store()) */
#define MEMO_SLOTS 4

typedef struct {
	gchar *tag;
	guint64 generation;
	gint64 filled_us;
	GBytes *body; /* wiped when its last reference goes */
} Memo;

/* the bytes that the answers of one cache's keys hold, against the budget callers pass */
typedef struct {
	gatomicrefcount ref_count;
	gssize bytes; /* atomic */
} MemoPool;

struct _OscDerivedKey {
	gatomicrefcount ref_count;
	guint8 key[OSC_DERIVED_KEY_LEN];
	gchar fingerprint[OSC_FINGERPRINT_LEN + 1];
	MemoPool *pool;
	GMutex memo_mutex;
	Memo memo[MEMO_SLOTS];
};

G_DEFINE_BOXED_TYPE(OscDerivedKey, osc_derived_key, osc_derived_key_ref, osc_derived_key_unref)

typedef enum {
	ENTRY_PENDING,
	ENTRY_READY,
} EntryState;

typedef struct {
	gatomicrefcount ref_count;
	guint8 id[ID_LEN];
	EntryState state;
	gboolean done;	   /* derivation finished: key or error is set */
	gboolean in_table; /* FALSE once evicted, cleared or failed */
	OscDerivedKey *key;
	GError *error;
	GPtrArray *waiters; /* (element-type GTask) owned refs; async callers while PENDING */
	GList lru_link;	    /* in self->lru while READY and in_table */
} Entry;

/* the task data of an async waiter */
typedef struct {
	Entry *entry;	 /* owned ref */
	gulong handler;	 /* on the cancellable; under self->mutex */
	gboolean settled; /* taken off the waiter list (completed or cancelled); under mutex */
} Waiter;

typedef struct {
	Entry *entry; /* owned ref */
	guint8 *password;
	gsize password_len;
} Job;

/* delivers a result to a waiter from within its own main context */
typedef struct {
	GTask *task;
	OscDerivedKey *key;
	GError *error;
	gulong handler;
} Delivery;

struct _OscKeyCache {
	GObject parent_instance;

	GBytes *salt;
	guint iterations;
	guint capacity;
	guint8 secret[ID_LEN];
	/* HMAC keyed with the secret and already fed salt || 0x00: duplicated per lookup */
	EVP_MAC_CTX *id_template;

	GThreadPool *pool;
	GMutex mutex;
	GCond cond;		/* broadcast whenever an entry is done */
	GHashTable *entries;	/* id → Entry (owned ref) */
	GQueue lru;		/* READY entries, most recently used first */
	gboolean closing;	/* finalizing: queued jobs nobody waits for are skipped */
	guint64 derivations;	/* atomic */
	MemoPool *memo_pool;	/* what the keys' answers hold */
};

G_DEFINE_FINAL_TYPE(OscKeyCache, osc_key_cache, G_TYPE_OBJECT)

/* OscDerivedKey */

static MemoPool *
memo_pool_new(void)
{
	MemoPool *pool = g_new0(MemoPool, 1);

	g_atomic_ref_count_init(&pool->ref_count);
	return pool;
}

static MemoPool *
memo_pool_ref(MemoPool *pool)
{
	g_atomic_ref_count_inc(&pool->ref_count);
	return pool;
}

static void
memo_pool_unref(MemoPool *pool)
{
	if (g_atomic_ref_count_dec(&pool->ref_count))
		g_free(pool);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemoPool, memo_pool_unref)

/* an answer's bytes: wiped, and given back to their pool, when the last reference goes */
typedef struct {
	MemoPool *pool;
	gsize len;
	guint8 data[];
} MemoBody;

static void
memo_body_free(gpointer data)
{
	MemoBody *body = data;

	g_atomic_pointer_add(&body->pool->bytes, -(gssize)body->len);
	memo_pool_unref(body->pool);
	OPENSSL_cleanse(body->data, body->len);
	g_free(body);
}

/* returns the slot's bytes, to be dropped outside the key's lock (the wipe takes a while) */
static GBytes *
memo_clear(Memo *memo)
{
	GBytes *body = g_steal_pointer(&memo->body);

	g_clear_pointer(&memo->tag, g_free);
	memo->generation = 0;
	memo->filled_us = 0;
	return body;
}

static OscDerivedKey *
osc_derived_key_new_in(const guint8 key[OSC_DERIVED_KEY_LEN], MemoPool *pool)
{
	OscDerivedKey *self = g_new0(OscDerivedKey, 1);

	g_atomic_ref_count_init(&self->ref_count);
	memcpy(self->key, key, OSC_DERIVED_KEY_LEN);
	osc_crypto_fingerprint(self->key, self->fingerprint);
	self->pool = memo_pool_ref(pool);
	g_mutex_init(&self->memo_mutex);
	return self;
}

/**
 * osc_derived_key_new:
 * @key: 32 bytes of derived key, copied
 *
 * Returns: (transfer full): a new derived key with its fingerprint computed, whose answers
 *   (osc_derived_key_memo_store()) count against a budget of their own
 */
OscDerivedKey *
osc_derived_key_new(const guint8 key[OSC_DERIVED_KEY_LEN])
{
	g_autoptr(MemoPool) pool = memo_pool_new();

	g_return_val_if_fail(key != NULL, NULL);

	return osc_derived_key_new_in(key, pool);
}

OscDerivedKey *
osc_derived_key_ref(OscDerivedKey *self)
{
	g_return_val_if_fail(self != NULL, NULL);

	g_atomic_ref_count_inc(&self->ref_count);
	return self;
}

void
osc_derived_key_unref(OscDerivedKey *self)
{
	g_return_if_fail(self != NULL);

	if (g_atomic_ref_count_dec(&self->ref_count)) {
		for (guint i = 0; i < MEMO_SLOTS; i++)
			g_bytes_unref(memo_clear(&self->memo[i]));
		g_mutex_clear(&self->memo_mutex);
		memo_pool_unref(self->pool);
		OPENSSL_cleanse(self, sizeof(*self));
		g_free(self);
	}
}

/**
 * osc_derived_key_get_bytes:
 * @self: a derived key
 *
 * Returns: (transfer none): the 32 key bytes, valid while @self is referenced
 */
const guint8 *
osc_derived_key_get_bytes(OscDerivedKey *self)
{
	g_return_val_if_fail(self != NULL, NULL);

	return self->key;
}

/**
 * osc_derived_key_get_fingerprint:
 * @self: a derived key
 *
 * Returns: (transfer none): the key's fingerprint (osc_crypto_fingerprint())
 */
const gchar *
osc_derived_key_get_fingerprint(OscDerivedKey *self)
{
	g_return_val_if_fail(self != NULL, NULL);

	return self->fingerprint;
}

/* with the key's memo lock held: is @memo current at @generation, @max_age_us old at most? */
static gboolean
memo_is_current(const Memo *memo, guint64 generation, gint64 max_age_us, gint64 now)
{
	return memo->generation == generation && now - memo->filled_us < max_age_us;
}

/**
 * osc_derived_key_memo_lookup:
 * @tag: what the answer was for (its request, less the key)
 * @generation: the data's generation now (osc_store_get_generation())
 * @max_age_us: how old an answer may be, counted from when its data was read
 *
 * An answer computed with this key and kept by osc_derived_key_memo_store(), if it was
 * computed at @generation from data read less than @max_age_us ago. A stale one is
 * dropped.
 *
 * Returns: (transfer full) (nullable): its bytes
 */
GBytes *
osc_derived_key_memo_lookup(OscDerivedKey *self,
			    const gchar *tag,
			    guint64 generation,
			    gint64 max_age_us)
{
	GBytes *body = NULL, *stale = NULL;

	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(tag != NULL, NULL);

	g_mutex_lock(&self->memo_mutex);
	for (guint i = 0; i < MEMO_SLOTS; i++) {
		Memo *memo = &self->memo[i];

		if (memo->tag == NULL || strcmp(memo->tag, tag) != 0)
			continue;
		if (memo_is_current(memo, generation, max_age_us, g_get_monotonic_time()))
			body = g_bytes_ref(memo->body);
		else
			stale = memo_clear(memo);
		break;
	}
	g_mutex_unlock(&self->memo_mutex);
	g_bytes_unref(stale);
	return body;
}

/**
 * osc_derived_key_memo_store:
 * @tag: what the answer is for
 * @generation: the data's generation, read before the data the answer was made of
 * @read_us: the monotonic time at which that data was read (read with @generation)
 * @data: (array length=len): the answer
 * @budget: bytes that the answers of every key of this key's cache may hold together;
 *   0 keeps nothing
 *
 * Keeps a copy of an answer computed with this key, for osc_derived_key_memo_lookup(). It
 * lives no longer than the key itself and is wiped when it goes, so it holds nothing that
 * the key, which opens every entry it encrypted, does not give already; stale answers go
 * sooner (osc_key_cache_trim_memos()). An answer larger than an eighth of @budget, or one
 * that would overrun it, is not kept. A key keeps a few answers; a new tag replaces the
 * oldest.
 *
 * Returns: whether the answer was kept
 */
gboolean
osc_derived_key_memo_store(OscDerivedKey *self,
			   const gchar *tag,
			   guint64 generation,
			   gint64 read_us,
			   const gchar *data,
			   gsize len,
			   gsize budget)
{
	MemoBody *copy;
	GBytes *old;
	Memo *slot = NULL;
	gsize before;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(tag != NULL, FALSE);
	g_return_val_if_fail(data != NULL || len == 0, FALSE);

	if (len > budget / 8)
		return FALSE;
	/* reserved first, so that concurrent stores never overrun the budget together */
	before = (gsize)g_atomic_pointer_add(&self->pool->bytes, (gssize)len);
	if (before + len > budget) {
		g_atomic_pointer_add(&self->pool->bytes, -(gssize)len);
		return FALSE;
	}
	copy = g_malloc(sizeof(MemoBody) + len);
	copy->pool = memo_pool_ref(self->pool);
	copy->len = len;
	memcpy(copy->data, data, len);

	g_mutex_lock(&self->memo_mutex);
	for (guint i = 0; i < MEMO_SLOTS && slot == NULL; i++) {
		if (self->memo[i].tag != NULL && strcmp(self->memo[i].tag, tag) == 0)
			slot = &self->memo[i];
	}
	for (guint i = 0; i < MEMO_SLOTS && slot == NULL; i++) {
		if (self->memo[i].tag == NULL)
			slot = &self->memo[i];
	}
	if (slot == NULL) {
		slot = &self->memo[0];
		for (guint i = 1; i < MEMO_SLOTS; i++) {
			if (self->memo[i].filled_us < slot->filled_us)
				slot = &self->memo[i];
		}
	}
	old = memo_clear(slot);
	slot->tag = g_strdup(tag);
	slot->generation = generation;
	slot->filled_us = read_us;
	slot->body = g_bytes_new_with_free_func(copy->data, len, memo_body_free, copy);
	g_mutex_unlock(&self->memo_mutex);
	g_bytes_unref(old);
	return TRUE;
}

/* drops the answers not current at @generation and @max_age_us */
static void
osc_derived_key_memo_trim(OscDerivedKey *self, guint64 generation, gint64 max_age_us)
{
	GBytes *stale[MEMO_SLOTS] = {NULL};
	gint64 now = g_get_monotonic_time();

	g_mutex_lock(&self->memo_mutex);
	for (guint i = 0; i < MEMO_SLOTS; i++) {
		if (self->memo[i].tag != NULL &&
		    !memo_is_current(&self->memo[i], generation, max_age_us, now))
			stale[i] = memo_clear(&self->memo[i]);
	}
	g_mutex_unlock(&self->memo_mutex);
	for (guint i = 0; i < MEMO_SLOTS; i++)
		g_bytes_unref(stale[i]);
}

/**
 * osc_derived_key_memo_get_bytes:
 *
 * Returns: the bytes that the answers of this key, and of the other keys of its cache,
 *   hold now
 */
gsize
osc_derived_key_memo_get_bytes(OscDerivedKey *self)
{
	g_return_val_if_fail(self != NULL, 0);

	return (gsize)g_atomic_pointer_get(&self->pool->bytes);
}

/* Entry */

static Entry *
entry_new(const guint8 id[ID_LEN])
{
	Entry *entry = g_new0(Entry, 1);

	g_atomic_ref_count_init(&entry->ref_count);
	memcpy(entry->id, id, ID_LEN);
	entry->state = ENTRY_PENDING;
	entry->waiters = g_ptr_array_new();
	entry->lru_link.data = entry;
	return entry;
}

static Entry *
entry_ref(Entry *entry)
{
	g_atomic_ref_count_inc(&entry->ref_count);
	return entry;
}

static void
entry_unref(Entry *entry)
{
	if (!g_atomic_ref_count_dec(&entry->ref_count))
		return;
	/* waiters are always settled before the last reference goes */
	g_assert(entry->waiters == NULL || entry->waiters->len == 0);
	g_clear_pointer(&entry->waiters, g_ptr_array_unref);
	g_clear_pointer(&entry->key, osc_derived_key_unref);
	g_clear_error(&entry->error);
	OPENSSL_cleanse(entry->id, sizeof(entry->id));
	g_free(entry);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Entry, entry_unref)

static guint
entry_id_hash(gconstpointer key)
{
	guint h;

	/* the id is an HMAC output: any four of its bytes are uniformly distributed */
	memcpy(&h, key, sizeof(h));
	return h;
}

static gboolean
entry_id_equal(gconstpointer a, gconstpointer b)
{
	/* ids are keyed with a per-instance secret, so timing reveals nothing of a user key */
	return memcmp(a, b, ID_LEN) == 0;
}

static void
waiter_free(gpointer data)
{
	Waiter *w = data;

	g_clear_pointer(&w->entry, entry_unref);
	g_free(w);
}

static void
job_free(Job *job)
{
	OPENSSL_cleanse(job->password, job->password_len);
	g_free(job->password);
	g_clear_pointer(&job->entry, entry_unref);
	g_free(job);
}

static void
delivery_free(gpointer data)
{
	Delivery *d = data;

	g_clear_object(&d->task);
	g_clear_pointer(&d->key, osc_derived_key_unref);
	g_clear_error(&d->error);
	g_free(d);
}

/* the lookup id of a user key; FALSE only if OpenSSL cannot allocate */
static gboolean
osc_key_cache_compute_id(OscKeyCache *self,
			 const gchar *user_key,
			 gsize user_key_len,
			 guint8 id[ID_LEN])
{
	g_autoptr(EVP_MAC_CTX) ctx = EVP_MAC_CTX_dup(self->id_template);
	gsize len = 0;

	if (ctx == NULL)
		return FALSE;
	if (user_key_len > 0 && EVP_MAC_update(ctx, (const guint8 *)user_key, user_key_len) != 1)
		return FALSE;
	return EVP_MAC_final(ctx, id, &len, ID_LEN) == 1 && len == ID_LEN;
}

/* with the mutex held */
static void
osc_key_cache_remove_entry_locked(OscKeyCache *self, Entry *entry)
{
	if (!entry->in_table)
		return;
	if (entry->state == ENTRY_READY)
		g_queue_unlink(&self->lru, &entry->lru_link);
	entry->in_table = FALSE;
	/* drops the table's reference; the entry may be gone after this */
	g_hash_table_remove(self->entries, entry->id);
}

/* with the mutex held */
static void
osc_key_cache_evict_locked(OscKeyCache *self)
{
	while (self->lru.length > self->capacity) {
		Entry *oldest = self->lru.tail->data;
		osc_key_cache_remove_entry_locked(self, oldest);
	}
}

static gboolean
osc_key_cache_deliver_cb(gpointer user_data)
{
	Delivery *d = user_data;
	GCancellable *cancellable = g_task_get_cancellable(d->task);

	/* here no cancelled handler can be running on our behalf in this thread */
	if (d->handler != 0 && cancellable != NULL)
		g_cancellable_disconnect(cancellable, d->handler);
	if (d->error != NULL) {
		g_task_return_error(d->task, g_steal_pointer(&d->error));
	} else {
		g_task_return_pointer(d->task,
				      g_steal_pointer(&d->key),
				      (GDestroyNotify)osc_derived_key_unref);
	}
	return G_SOURCE_REMOVE;
}

/* Hands the result to a settled waiter in the task's own context; takes over @task. */
static void
osc_key_cache_deliver(GTask *task, gulong handler, OscDerivedKey *key, const GError *error)
{
	g_autoptr(GSource) source = g_idle_source_new();
	Delivery *d = g_new0(Delivery, 1);

	d->task = task;
	d->handler = handler;
	if (error != NULL)
		d->error = g_error_copy(error);
	else
		d->key = osc_derived_key_ref(key);
	g_source_set_priority(source, g_task_get_priority(task));
	g_source_set_callback(source, osc_key_cache_deliver_cb, d, delivery_free);
	g_source_set_static_name(source, "[osc] key cache delivery");
	g_source_attach(source, g_task_get_context(task));
}

/*
 * Records the outcome of a derivation (exactly one of @key and @error) and completes
 * everything waiting for it: sync waiters through the condition, async ones through their
 * contexts. @entry must be PENDING; the caller keeps its reference.
 */
static void
osc_key_cache_complete(OscKeyCache *self, Entry *entry, OscDerivedKey *key, GError *error)
{
	g_autoptr(GPtrArray) waiters = NULL;
	g_autoptr(GArray) handlers = g_array_new(FALSE, FALSE, sizeof(gulong));

	g_mutex_lock(&self->mutex);
	g_assert(!entry->done);
	entry->done = TRUE;
	if (key != NULL) {
		entry->key = osc_derived_key_ref(key);
		/* a cleared (discarded) entry still serves the callers waiting on it */
		if (entry->in_table) {
			entry->state = ENTRY_READY;
			g_queue_push_head_link(&self->lru, &entry->lru_link);
			osc_key_cache_evict_locked(self);
		}
	} else {
		entry->error = g_error_copy(error);
		/* failures are not cached: the next request tries again */
		osc_key_cache_remove_entry_locked(self, entry);
	}
	waiters = g_steal_pointer(&entry->waiters);
	entry->waiters = g_ptr_array_new();
	for (guint i = 0; i < waiters->len; i++) {
		Waiter *w = g_task_get_task_data(g_ptr_array_index(waiters, i));
		gulong handler = w->handler;

		w->settled = TRUE;
		w->handler = 0;
		g_array_append_val(handlers, handler);
	}
	g_cond_broadcast(&self->cond);
	g_mutex_unlock(&self->mutex);

	for (guint i = 0; i < waiters->len; i++) {
		osc_key_cache_deliver(g_ptr_array_index(waiters, i),
				      g_array_index(handlers, gulong, i),
				      key,
				      error);
	}
}

/* Runs PBKDF2 for @entry and completes it; in a pool thread or a sync caller's thread. */
static void
osc_key_cache_run_derivation(OscKeyCache *self,
			     Entry *entry,
			     const guint8 *password,
			     gsize password_len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscDerivedKey) key = NULL;
	guint8 dk[OSC_DERIVED_KEY_LEN];
	gsize salt_len = 0;
	const guint8 *salt = g_bytes_get_data(self->salt, &salt_len);

	__atomic_add_fetch(&self->derivations, 1, __ATOMIC_RELAXED);
	if (osc_crypto_pbkdf2(password,
			      password_len,
			      salt,
			      salt_len,
			      self->iterations,
			      dk,
			      &error))
		key = osc_derived_key_new_in(dk, self->memo_pool);
	OPENSSL_cleanse(dk, sizeof(dk));
	osc_key_cache_complete(self, entry, key, error);
}

static void
osc_key_cache_job_cb(gpointer data, gpointer user_data)
{
	OscKeyCache *self = OSC_KEY_CACHE(user_data);
	Job *job = data;
	gboolean skip;

	/* while finalizing, a queued derivation whose waiters all gave up is not worth running */
	g_mutex_lock(&self->mutex);
	skip = self->closing && job->entry->waiters->len == 0;
	g_mutex_unlock(&self->mutex);
	if (skip) {
		g_autoptr(GError) error =
		    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "key cache closed");
		osc_key_cache_complete(self, job->entry, NULL, error);
	} else {
		osc_key_cache_run_derivation(self, job->entry, job->password, job->password_len);
	}
	job_free(job);
}

/* GObject */

static void
osc_key_cache_finalize(GObject *object)
{
	OscKeyCache *self = OSC_KEY_CACHE(object);

	/* Every async waiter holds a reference on us, so what can still be queued here are
	 * derivations all of whose waiters were cancelled: let them finish (or be skipped). */
	g_mutex_lock(&self->mutex);
	self->closing = TRUE;
	g_mutex_unlock(&self->mutex);
	g_thread_pool_free(self->pool, FALSE, TRUE);

	/* the links are embedded in the entries, which the table frees: just forget them */
	g_queue_init(&self->lru);
	g_clear_pointer(&self->entries, g_hash_table_unref);
	g_clear_pointer(&self->id_template, EVP_MAC_CTX_free);
	OPENSSL_cleanse(self->secret, sizeof(self->secret));
	g_clear_pointer(&self->salt, g_bytes_unref);
	/* keys still held elsewhere keep it */
	g_clear_pointer(&self->memo_pool, memo_pool_unref);
	g_mutex_clear(&self->mutex);
	g_cond_clear(&self->cond);

	G_OBJECT_CLASS(osc_key_cache_parent_class)->finalize(object);
}

static void
osc_key_cache_class_init(OscKeyCacheClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = osc_key_cache_finalize;
}

static void
osc_key_cache_init(OscKeyCache *self)
{
	g_mutex_init(&self->mutex);
	g_cond_init(&self->cond);
	g_queue_init(&self->lru);
	self->memo_pool = memo_pool_new();
	self->entries = g_hash_table_new_full(entry_id_hash,
					      entry_id_equal,
					      NULL,
					      (GDestroyNotify)entry_unref);
}

/**
 * osc_key_cache_new:
 * @salt: the salt every key is derived with
 * @iterations: PBKDF2 iterations (API.md §6.2: 480000)
 * @capacity: how many derived keys to keep, 0 for the default (256)
 * @max_threads: how many derivations may run at once, 0 for the default (4)
 *
 * Returns: (transfer full): a new cache
 */
OscKeyCache *
osc_key_cache_new(GBytes *salt, guint iterations, guint capacity, guint max_threads)
{
	g_autoptr(OscKeyCache) self = NULL;
	g_autoptr(EVP_MAC) mac = NULL;
	g_autoptr(GError) error = NULL;
	/* OSSL_PARAM wants a non-const buffer, which it does not write to */
	static gchar sha256_name[] = "SHA256";
	OSSL_PARAM params[2];
	const guint8 *salt_data;
	gsize salt_len = 0;
	const guint8 sep = 0x00;

	g_return_val_if_fail(salt != NULL, NULL);
	g_return_val_if_fail(iterations >= 1, NULL);

	self = g_object_new(OSC_TYPE_KEY_CACHE, NULL);
	self->salt = g_bytes_ref(salt);
	self->iterations = iterations;
	self->capacity = capacity > 0 ? capacity : DEFAULT_CAPACITY;

	/* Without randomness or HMAC no key can be handled safely; as for an allocation
	 * failure there is nothing sensible to carry on with. */
	if (!osc_crypto_random(self->secret, sizeof(self->secret), &error))
		g_error("cannot create a key cache: %s", error->message);
	salt_data = g_bytes_get_data(salt, &salt_len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac != NULL)
		self->id_template = EVP_MAC_CTX_new(mac);
	if (self->id_template == NULL ||
	    EVP_MAC_init(self->id_template, self->secret, sizeof(self->secret), params) != 1 ||
	    (salt_len > 0 && EVP_MAC_update(self->id_template, salt_data, salt_len) != 1) ||
	    EVP_MAC_update(self->id_template, &sep, 1) != 1)
		g_error("cannot create a key cache: HMAC-SHA256 is unavailable");

	/* not exclusive: threads are created on demand and shared, so creation cannot fail */
	self->pool = g_thread_pool_new(osc_key_cache_job_cb,
				       self,
				       max_threads > 0 ? (gint)max_threads : DEFAULT_MAX_THREADS,
				       FALSE,
				       NULL);
	return g_steal_pointer(&self);
}

/**
 * osc_key_cache_get_salt:
 * @self: a cache
 *
 * Returns: (transfer none): the salt keys are derived with
 */
GBytes *
osc_key_cache_get_salt(OscKeyCache *self)
{
	g_return_val_if_fail(OSC_IS_KEY_CACHE(self), NULL);

	return self->salt;
}

guint
osc_key_cache_get_iterations(OscKeyCache *self)
{
	g_return_val_if_fail(OSC_IS_KEY_CACHE(self), 0);

	return self->iterations;
}

/**
 * osc_key_cache_lookup:
 * @self: a cache
 * @user_key: the user key bytes
 * @user_key_len: their length
 *
 * Finds an already derived key; never derives. Cheap enough to call on every request.
 *
 * Returns: (transfer full) (nullable): the derived key, or %NULL if it is not cached
 */
OscDerivedKey *
osc_key_cache_lookup(OscKeyCache *self, const gchar *user_key, gsize user_key_len)
{
	guint8 id[ID_LEN];
	OscDerivedKey *key = NULL;
	Entry *entry;

	g_return_val_if_fail(OSC_IS_KEY_CACHE(self), NULL);
	g_return_val_if_fail(user_key != NULL || user_key_len == 0, NULL);

	if (!osc_key_cache_compute_id(self, user_key, user_key_len, id))
		return NULL;

	g_mutex_lock(&self->mutex);
	entry = g_hash_table_lookup(self->entries, id);
	if (entry != NULL && entry->state == ENTRY_READY) {
		g_queue_unlink(&self->lru, &entry->lru_link);
		g_queue_push_head_link(&self->lru, &entry->lru_link);
		key = osc_derived_key_ref(entry->key);
	}
	g_mutex_unlock(&self->mutex);
	return key;
}

static void
osc_key_cache_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	OscKeyCache *self = g_task_get_source_object(task);
	Waiter *w = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	gboolean removed = FALSE;
	gulong handler = 0;

	g_mutex_lock(&self->mutex);
	if (!w->settled) {
		removed = g_ptr_array_remove(w->entry->waiters, task);
		g_assert(removed);
		w->settled = TRUE;
		handler = w->handler;
		w->handler = 0;
	}
	g_mutex_unlock(&self->mutex);
	if (!removed)
		return;

	/* Only this waiter gives up: the derivation goes on for the others and the cache.
	 * A handler cannot disconnect itself during the emission, so the delivery does it
	 * later from the task's context (if the handler id is not known yet, the connecting
	 * code finds the waiter settled and disconnects it). */
	error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "operation was cancelled");
	osc_key_cache_deliver(task, handler, NULL, error);
}

/**
 * osc_key_cache_derive_async:
 * @self: a cache
 * @user_key: the user key bytes (copied)
 * @user_key_len: their length
 * @cancellable: (nullable): cancels this caller's wait only
 * @callback: called in the caller's thread-default main context
 * @user_data: for @callback
 *
 * Gets the derived key for @user_key: at once if it is cached, otherwise by PBKDF2 in the
 * cache's thread pool. Callers asking for the same key while it is being derived share that
 * one derivation. Cancelling @cancellable completes this call with %G_IO_ERROR_CANCELLED
 * but lets the derivation finish for the others and the cache.
 */
void
osc_key_cache_derive_async(OscKeyCache *self,
			   const gchar *user_key,
			   gsize user_key_len,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GError) error = NULL;
	guint8 id[ID_LEN];
	Waiter *w;
	Entry *entry;
	Job *job = NULL;

	g_return_if_fail(OSC_IS_KEY_CACHE(self));
	g_return_if_fail(user_key != NULL || user_key_len == 0);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, osc_key_cache_derive_async);
	if (g_task_return_error_if_cancelled(task))
		return;
	if (!osc_key_cache_compute_id(self, user_key, user_key_len, id)) {
		g_task_return_new_error(task, OSC_ERROR, OSC_ERROR_FAILED, "HMAC failed");
		return;
	}

	g_mutex_lock(&self->mutex);
	entry = g_hash_table_lookup(self->entries, id);
	if (entry != NULL && entry->state == ENTRY_READY) {
		OscDerivedKey *key = osc_derived_key_ref(entry->key);

		g_queue_unlink(&self->lru, &entry->lru_link);
		g_queue_push_head_link(&self->lru, &entry->lru_link);
		g_mutex_unlock(&self->mutex);
		g_task_return_pointer(task, key, (GDestroyNotify)osc_derived_key_unref);
		return;
	}
	if (entry == NULL) {
		entry = entry_new(id);
		entry->in_table = TRUE;
		g_hash_table_insert(self->entries, entry->id, entry);
		job = g_new0(Job, 1);
		job->entry = entry_ref(entry);
		job->password = g_memdup2(user_key, user_key_len);
		job->password_len = user_key_len;
	}
	w = g_new0(Waiter, 1);
	w->entry = entry_ref(entry);
	g_task_set_task_data(task, w, waiter_free);
	g_ptr_array_add(entry->waiters, g_object_ref(task));
	g_mutex_unlock(&self->mutex);

	if (job != NULL) {
		Entry *job_entry = job->entry;

		/* exclusive is FALSE, so this only queues; a failure would still be handled */
		if (!g_thread_pool_push(self->pool, job, &error)) {
			g_autoptr(Entry) keep = entry_ref(job_entry);

			job_free(job);
			g_prefix_error(&error, "cannot derive key: ");
			/* @keep holds the entry while its waiters are completed */
			osc_key_cache_complete(self, keep, NULL, error);
		}
	}

	if (cancellable != NULL) {
		/* may run the handler right away (and it takes the mutex): not under the lock */
		gulong handler = g_cancellable_connect(cancellable,
						       G_CALLBACK(osc_key_cache_cancelled_cb),
						       g_object_ref(task),
						       g_object_unref);

		g_mutex_lock(&self->mutex);
		if (!w->settled) {
			w->handler = handler;
			handler = 0;
		}
		g_mutex_unlock(&self->mutex);
		/* settled already: the delivery did not know the handler, drop it here */
		if (handler != 0)
			g_cancellable_disconnect(cancellable, handler);
	}
}

/**
 * osc_key_cache_derive_finish:
 * @self: a cache
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the derived key, or %NULL on error
 */
OscDerivedKey *
osc_key_cache_derive_finish(OscKeyCache *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(OSC_IS_KEY_CACHE(self), NULL);
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == osc_key_cache_derive_async,
			     NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	return g_task_propagate_pointer(G_TASK(result), error);
}

static void
osc_key_cache_wake_cb(GCancellable *cancellable, gpointer user_data)
{
	OscKeyCache *self = OSC_KEY_CACHE(user_data);

	g_mutex_lock(&self->mutex);
	g_cond_broadcast(&self->cond);
	g_mutex_unlock(&self->mutex);
}

/**
 * osc_key_cache_derive:
 * @self: a cache
 * @user_key: the user key bytes
 * @user_key_len: their length
 * @cancellable: (nullable): stops waiting for another caller's derivation
 * @error: return location for a #GError
 *
 * The blocking form of osc_key_cache_derive_async(), for worker threads only: it may run
 * PBKDF2 (about 0.1 s at 480000 iterations) in the calling thread or wait for another
 * thread's derivation, so it must never be called from a thread running a main loop.
 * It shares derivations with the async form: one key is derived once.
 *
 * Returns: (transfer full): the derived key, or %NULL on error
 */
OscDerivedKey *
osc_key_cache_derive(OscKeyCache *self,
		     const gchar *user_key,
		     gsize user_key_len,
		     GCancellable *cancellable,
		     GError **error)
{
	g_autoptr(Entry) entry = NULL;
	OscDerivedKey *key = NULL;
	guint8 id[ID_LEN];
	gulong handler = 0;
	gboolean done;

	g_return_val_if_fail(OSC_IS_KEY_CACHE(self), NULL);
	g_return_val_if_fail(user_key != NULL || user_key_len == 0, NULL);
	g_return_val_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (g_cancellable_set_error_if_cancelled(cancellable, error))
		return NULL;
	if (!osc_key_cache_compute_id(self, user_key, user_key_len, id)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED, "HMAC failed");
		return NULL;
	}

	/* connected before taking the lock: the handler takes it too, and may run at once */
	if (cancellable != NULL)
		handler = g_cancellable_connect(cancellable,
						G_CALLBACK(osc_key_cache_wake_cb),
						self,
						NULL);

	g_mutex_lock(&self->mutex);
	entry = g_hash_table_lookup(self->entries, id);
	if (entry != NULL) {
		entry_ref(entry);
		if (entry->state == ENTRY_READY) {
			g_queue_unlink(&self->lru, &entry->lru_link);
			g_queue_push_head_link(&self->lru, &entry->lru_link);
		}
		while (!entry->done && !g_cancellable_is_cancelled(cancellable))
			g_cond_wait(&self->cond, &self->mutex);
		if (entry->done && entry->key != NULL)
			key = osc_derived_key_ref(entry->key);
		else if (entry->done)
			g_propagate_error(error, g_error_copy(entry->error));
		done = entry->done;
		g_mutex_unlock(&self->mutex);
		g_cancellable_disconnect(cancellable, handler);
		if (!done)
			g_cancellable_set_error_if_cancelled(cancellable, error);
		return key;
	}
	entry = entry_new(id);
	entry->in_table = TRUE;
	g_hash_table_insert(self->entries, entry->id, entry_ref(entry));
	g_mutex_unlock(&self->mutex);
	g_cancellable_disconnect(cancellable, handler);

	/* our own derivation: it completes for everyone, so it is not cancellable */
	osc_key_cache_run_derivation(self, entry, (const guint8 *)user_key, user_key_len);

	g_mutex_lock(&self->mutex);
	if (entry->key != NULL)
		key = osc_derived_key_ref(entry->key);
	else
		g_propagate_error(error, g_error_copy(entry->error));
	g_mutex_unlock(&self->mutex);
	return key;
}

/**
 * osc_key_cache_get_derivations:
 * @self: a cache
 *
 * Returns: how many times PBKDF2 has run for this cache
 */
guint64
osc_key_cache_get_derivations(OscKeyCache *self)
{
	g_return_val_if_fail(OSC_IS_KEY_CACHE(self), 0);

	return __atomic_load_n(&self->derivations, __ATOMIC_RELAXED);
}

/**
 * osc_key_cache_get_size:
 * @self: a cache
 *
 * Returns: how many derived keys are cached
 */
guint
osc_key_cache_get_size(OscKeyCache *self)
{
	guint size;

	g_return_val_if_fail(OSC_IS_KEY_CACHE(self), 0);

	g_mutex_lock(&self->mutex);
	size = self->lru.length;
	g_mutex_unlock(&self->mutex);
	return size;
}

static gboolean
osc_key_cache_clear_entry_cb(gpointer key, gpointer value, gpointer user_data)
{
	OscKeyCache *self = OSC_KEY_CACHE(user_data);
	Entry *entry = value;

	if (entry->state == ENTRY_READY)
		g_queue_unlink(&self->lru, &entry->lru_link);
	entry->in_table = FALSE;
	return TRUE;
}

/**
 * osc_key_cache_clear:
 * @self: a cache
 *
 * Forgets every cached key (each is wiped once no request holds it any more). Derivations
 * in progress still complete for their callers but are not cached.
 */
void
osc_key_cache_clear(OscKeyCache *self)
{
	g_return_if_fail(OSC_IS_KEY_CACHE(self));

	g_mutex_lock(&self->mutex);
	g_hash_table_foreach_remove(self->entries, osc_key_cache_clear_entry_cb, self);
	g_assert(self->lru.length == 0);
	g_mutex_unlock(&self->mutex);
}

/**
 * osc_key_cache_trim_memos:
 * @generation: the data's generation now (osc_store_get_generation())
 * @max_age_us: how old an answer may be; 0 drops them all
 *
 * Drops (and wipes) the answers of the cached keys that are no longer current
 * (osc_derived_key_memo_store()): those a lookup would refuse anyway, which would otherwise
 * wait for their key's next lookup of the same request, or for the key's eviction.
 */
void
osc_key_cache_trim_memos(OscKeyCache *self, guint64 generation, gint64 max_age_us)
{
	g_autoptr(GPtrArray) keys = NULL;
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail(OSC_IS_KEY_CACHE(self));

	if (osc_key_cache_get_memo_bytes(self) == 0)
		return;
	keys = g_ptr_array_new_with_free_func((GDestroyNotify)osc_derived_key_unref);
	g_mutex_lock(&self->mutex);
	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Entry *entry = value;

		if (entry->state == ENTRY_READY && entry->key != NULL)
			g_ptr_array_add(keys, osc_derived_key_ref(entry->key));
	}
	g_mutex_unlock(&self->mutex);
	for (guint i = 0; i < keys->len; i++)
		osc_derived_key_memo_trim(g_ptr_array_index(keys, i), generation, max_age_us);
}

/**
 * osc_key_cache_get_memo_bytes:
 *
 * Returns: the bytes that the answers of this cache's keys hold now, including keys no
 *   longer in the cache that a request still holds
 */
gsize
osc_key_cache_get_memo_bytes(OscKeyCache *self)
{
	g_return_val_if_fail(OSC_IS_KEY_CACHE(self), 0);

	return (gsize)g_atomic_pointer_get(&self->memo_pool->bytes);
}
