/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* API.md §6: PBKDF2-HMAC-SHA256 → 32 bytes; Fernet signing key = first 16, AES key = last 16 */
#define OSC_DERIVED_KEY_LEN	    32
#define OSC_SALT_LEN		    64
#define OSC_BACKUP_SALT_LEN	    32
#define OSC_PBKDF2_ITERATIONS	    480000
#define OSC_FERNET_IV_LEN	    16
/* version, timestamp and IV before the ciphertext; the decoded length of a token */
#define OSC_FERNET_HEADER_LEN (1 + 8 + OSC_FERNET_IV_LEN)
#define OSC_FERNET_RAW_LEN(n) (OSC_FERNET_HEADER_LEN + ((gsize)(n) / 16 + 1) * 16 + 32)
/* hex of the first 16 bytes of HMAC-SHA256(derived key, label): 32 characters + NUL */
#define OSC_FINGERPRINT_LEN	    32
/* the Fernet spec's allowed clock skew for tokens stamped in the future */
#define OSC_FERNET_MAX_CLOCK_SKEW 60

gboolean
osc_crypto_random(guint8 *buf, gsize len, GError **error);

gboolean
osc_crypto_equal(const void *a, gsize a_len, const void *b, gsize b_len);

gboolean
osc_crypto_pbkdf2(const guint8 *password,
		  gsize password_len,
		  const guint8 *salt,
		  gsize salt_len,
		  guint iterations,
		  guint8 out[OSC_DERIVED_KEY_LEN],
		  GError **error);
/* debugging aid for tests: how many PBKDF2 runs the calling thread has made */
guint
osc_crypto_get_thread_pbkdf2_count(void);

void
osc_crypto_fingerprint(const guint8 key[OSC_DERIVED_KEY_LEN],
		       gchar out[OSC_FINGERPRINT_LEN + 1]);

gchar *
osc_base64url_encode(const guint8 *data, gsize len);
guint8 *
osc_base64url_decode(const gchar *text, gsize text_len, gsize *out_len, GError **error);

gchar *
osc_fernet_key_encode(const guint8 key[OSC_DERIVED_KEY_LEN]);
gboolean
osc_fernet_key_decode(const gchar *text, guint8 key[OSC_DERIVED_KEY_LEN], GError **error);

gchar *
osc_fernet_encrypt(const guint8 key[OSC_DERIVED_KEY_LEN],
		   const guint8 *plaintext,
		   gsize plaintext_len,
		   gint64 timestamp,
		   const guint8 *iv,
		   GError **error);
gboolean
osc_fernet_encrypt_in_place(const guint8 key[OSC_DERIVED_KEY_LEN],
			    guint8 *buf,
			    gsize plaintext_len,
			    gint64 timestamp,
			    const guint8 *iv,
			    GError **error);

GBytes *
osc_fernet_decrypt(const guint8 key[OSC_DERIVED_KEY_LEN],
		   const gchar *token,
		   gsize token_len,
		   gint64 ttl,
		   gint64 now,
		   GError **error);
gboolean
osc_fernet_decrypt_in_place(const guint8 key[OSC_DERIVED_KEY_LEN],
			    gchar *token,
			    gsize token_len,
			    gint64 ttl,
			    gint64 now,
			    guint8 **plaintext,
			    gsize *plaintext_len,
			    GError **error);

G_END_DECLS
