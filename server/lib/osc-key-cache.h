/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

#include "osc-crypto.h"

G_BEGIN_DECLS

/* An immutable, reference-counted derived key; wiped when the last reference goes. */
typedef struct _OscDerivedKey OscDerivedKey;

#define OSC_TYPE_DERIVED_KEY (osc_derived_key_get_type())
GType
osc_derived_key_get_type(void);
OscDerivedKey *
osc_derived_key_new(const guint8 key[OSC_DERIVED_KEY_LEN]);
OscDerivedKey *
osc_derived_key_ref(OscDerivedKey *self);
void
osc_derived_key_unref(OscDerivedKey *self);
const guint8 *
osc_derived_key_get_bytes(OscDerivedKey *self);
const gchar *
osc_derived_key_get_fingerprint(OscDerivedKey *self);
GBytes *
osc_derived_key_memo_lookup(OscDerivedKey *self,
			    const gchar *tag,
			    guint64 generation,
			    gint64 max_age_us);
gboolean
osc_derived_key_memo_store(OscDerivedKey *self,
			   const gchar *tag,
			   guint64 generation,
			   gint64 read_us,
			   const gchar *data,
			   gsize len,
			   gsize budget);
gsize
osc_derived_key_memo_get_bytes(OscDerivedKey *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscDerivedKey, osc_derived_key_unref)

#define OSC_TYPE_KEY_CACHE (osc_key_cache_get_type())
G_DECLARE_FINAL_TYPE(OscKeyCache, osc_key_cache, OSC, KEY_CACHE, GObject)

OscKeyCache *
osc_key_cache_new(GBytes *salt, guint iterations, guint capacity, guint max_threads);
GBytes *
osc_key_cache_get_salt(OscKeyCache *self);
guint
osc_key_cache_get_iterations(OscKeyCache *self);
OscDerivedKey *
osc_key_cache_lookup(OscKeyCache *self, const gchar *user_key, gsize user_key_len);
void
osc_key_cache_derive_async(OscKeyCache *self,
			   const gchar *user_key,
			   gsize user_key_len,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
OscDerivedKey *
osc_key_cache_derive_finish(OscKeyCache *self, GAsyncResult *result, GError **error);
OscDerivedKey *
osc_key_cache_derive(OscKeyCache *self,
		     const gchar *user_key,
		     gsize user_key_len,
		     GCancellable *cancellable,
		     GError **error);
guint64
osc_key_cache_get_derivations(OscKeyCache *self);
guint
osc_key_cache_get_size(OscKeyCache *self);
void
osc_key_cache_clear(OscKeyCache *self);
void
osc_key_cache_trim_memos(OscKeyCache *self, guint64 generation, gint64 max_age_us);
gsize
osc_key_cache_get_memo_bytes(OscKeyCache *self);

G_END_DECLS
