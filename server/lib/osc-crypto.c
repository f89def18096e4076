/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscCrypto"

#include "config.h"

#include <glib.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

#include "osc-autocleanups.h"
#include "osc-crypto.h"
#include "osc-error.h"

/* API.md §6.4: 0x80 || ts (8) || iv (16) || ct (n × 16) || mac (32) */
#define FERNET_VERSION	   0x80
#define FERNET_HEADER_LEN  OSC_FERNET_HEADER_LEN
#define FERNET_MAC_LEN	   32
#define FERNET_OVERHEAD	   (FERNET_HEADER_LEN + FERNET_MAC_LEN)
#define FERNET_BLOCK	   16
#define FERNET_KEY_HALF	   (OSC_DERIVED_KEY_LEN / 2)
#define FINGERPRINT_LABEL  "OpenSecureConf key fingerprint v1"
/* tokens of ordinary values are decoded and built on the stack; bigger ones go to the heap */
#define STACK_BUF_LEN	   1024
/* EVP takes int lengths; values are limited to far less than this anyway */
#define MAX_PLAINTEXT_LEN  (G_MAXINT - 4 * FERNET_BLOCK)

typedef struct {
	EVP_CIPHER *aes_128_cbc;
	/* HMAC with SHA-256 already selected but no key: duplicating it is much cheaper than
	 * fetching the digest by name (which HMAC() and EVP_MAC_init() with params both do) */
	EVP_MAC_CTX *hmac_sha256;
} CryptoAlgs;

/* PBKDF2 runs made by the calling thread: lets tests check where derivations happen */
static GPrivate pbkdf2_thread_count;

static const CryptoAlgs *
crypto_algs_get(void)
{
	static gsize once = 0;
	static CryptoAlgs algs;

	if (g_once_init_enter(&once)) {
		g_autoptr(EVP_MAC) mac = NULL;
		/* OSSL_PARAM wants a non-const buffer, which it does not write to */
		static gchar sha256_name[] = "SHA256";
		OSSL_PARAM params[2];

		algs.aes_128_cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (mac != NULL)
			algs.hmac_sha256 = EVP_MAC_CTX_new(mac);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256_name, 0);
		params[1] = OSSL_PARAM_construct_end();
		if (algs.hmac_sha256 != NULL &&
		    EVP_MAC_CTX_set_params(algs.hmac_sha256, params) != 1)
			g_clear_pointer(&algs.hmac_sha256, EVP_MAC_CTX_free);
		/* Without these nothing can be encrypted or verified at all: a broken OpenSSL
		 * installation (no default provider), not a condition a request can cause. */
		if (algs.aes_128_cbc == NULL || algs.hmac_sha256 == NULL)
			g_error("OpenSSL provides no AES-128-CBC or HMAC-SHA256");
		g_once_init_leave(&once, 1);
	}
	return &algs;
}

/*
 * HMAC-SHA256 over the concatenation of up to two buffers; the context (which holds the key
 * schedule) is wiped by EVP_MAC_CTX_free().
 */
static gboolean
crypto_hmac_sha256(const guint8 *key,
		   gsize key_len,
		   const guint8 *a,
		   gsize a_len,
		   const guint8 *b,
		   gsize b_len,
		   guint8 out[32])
{
	g_autoptr(EVP_MAC_CTX) ctx = EVP_MAC_CTX_dup(crypto_algs_get()->hmac_sha256);
	gsize out_len = 0;

	if (ctx == NULL)
		return FALSE;
	if (EVP_MAC_init(ctx, key, key_len, NULL) != 1)
		return FALSE;
	if (a_len > 0 && EVP_MAC_update(ctx, a, a_len) != 1)
		return FALSE;
	if (b_len > 0 && EVP_MAC_update(ctx, b, b_len) != 1)
		return FALSE;
	if (EVP_MAC_final(ctx, out, &out_len, 32) != 1 || out_len != 32)
		return FALSE;
	return TRUE;
}

/*
 * Each thread keeps one HMAC context keyed with the last Fernet signing key it used, and one
 * cipher context: a list of 100 entries under one user key then sets the HMAC key once
 * instead of 100 times (EVP_MAC_init() with a NULL key restarts with the key already set,
 * without hashing it again), and allocates no context per token. The state is key-derived
 * like the derived keys in OscKeyCache, lives no longer than its thread, and is wiped when
 * the thread ends or moves to another key.
 */
typedef struct {
	EVP_MAC_CTX *mac;
	EVP_CIPHER_CTX *cipher;
	guint8 mac_key[FERNET_KEY_HALF];
	guint8 cipher_key[FERNET_KEY_HALF];
	gboolean mac_keyed;
	gint cipher_keyed; /* 0: no key, 1: set for encryption, 2: for decryption */
} CryptoThread;

static void
crypto_thread_free(gpointer data)
{
	CryptoThread *t = data;

	EVP_MAC_CTX_free(t->mac);
	EVP_CIPHER_CTX_free(t->cipher);
	OPENSSL_cleanse(t->mac_key, sizeof(t->mac_key));
	OPENSSL_cleanse(t->cipher_key, sizeof(t->cipher_key));
	g_free(t);
}

static GPrivate crypto_thread_key = G_PRIVATE_INIT(crypto_thread_free);

static CryptoThread *
crypto_thread_get(void)
{
	CryptoThread *t = g_private_get(&crypto_thread_key);

	if (G_UNLIKELY(t == NULL)) {
		t = g_new0(CryptoThread, 1);
		t->mac = EVP_MAC_CTX_dup(crypto_algs_get()->hmac_sha256);
		t->cipher = EVP_CIPHER_CTX_new();
		if (t->mac == NULL || t->cipher == NULL)
			g_error("OpenSSL cannot allocate a context");
		g_private_set(&crypto_thread_key, t);
	}
	return t;
}

/* HMAC-SHA256 with a Fernet signing key (the first half of a derived key) */
static gboolean
fernet_hmac(const guint8 key[FERNET_KEY_HALF], const guint8 *data, gsize len, guint8 out[32])
{
	CryptoThread *t = crypto_thread_get();
	gsize out_len = 0;

	if (t->mac_keyed && CRYPTO_memcmp(t->mac_key, key, FERNET_KEY_HALF) == 0) {
		if (EVP_MAC_init(t->mac, NULL, 0, NULL) != 1)
			return FALSE;
	} else {
		t->mac_keyed = FALSE;
		if (EVP_MAC_init(t->mac, key, FERNET_KEY_HALF, NULL) != 1)
			return FALSE;
		memcpy(t->mac_key, key, FERNET_KEY_HALF);
		t->mac_keyed = TRUE;
	}
	if (len > 0 && EVP_MAC_update(t->mac, data, len) != 1)
		return FALSE;
	return EVP_MAC_final(t->mac, out, &out_len, 32) == 1 && out_len == 32;
}

/* the thread's AES-128-CBC context, ready for @iv under @key (the second half of a derived
 * key): the key schedule is only computed again when the key or the direction changes */
static EVP_CIPHER_CTX *
fernet_cipher(const guint8 key[FERNET_KEY_HALF], const guint8 iv[OSC_FERNET_IV_LEN], gboolean encrypt)
{
	CryptoThread *t = crypto_thread_get();
	gint want = encrypt ? 1 : 2;
	int rc;

	if (t->cipher_keyed == want && CRYPTO_memcmp(t->cipher_key, key, FERNET_KEY_HALF) == 0) {
		rc = EVP_CipherInit_ex2(t->cipher, NULL, NULL, iv, encrypt ? 1 : 0, NULL);
	} else {
		t->cipher_keyed = 0;
		rc = EVP_CipherInit_ex2(t->cipher, crypto_algs_get()->aes_128_cbc, key, iv,
					encrypt ? 1 : 0, NULL);
		if (rc == 1) {
			memcpy(t->cipher_key, key, FERNET_KEY_HALF);
			t->cipher_keyed = want;
		}
	}
	return rc == 1 ? t->cipher : NULL;
}

/**
 * osc_crypto_random:
 * @buf: (out caller-allocates): where to write
 * @len: how many bytes
 * @error: return location for a #GError
 *
 * Fills @buf from OpenSSL's CSPRNG.
 *
 * Returns: %TRUE on success
 */
gboolean
osc_crypto_random(guint8 *buf, gsize len, GError **error)
{
	g_return_val_if_fail(buf != NULL || len == 0, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	while (len > 0) {
		int chunk = (int)MIN(len, (gsize)G_MAXINT);

		if (RAND_bytes(buf, chunk) != 1) {
			g_set_error_literal(error,
					    OSC_ERROR,
					    OSC_ERROR_FAILED,
					    "the random number generator failed");
			return FALSE;
		}
		buf += chunk;
		len -= (gsize)chunk;
	}
	return TRUE;
}

/**
 * osc_crypto_equal:
 * @a: the expected value (e.g. the configured secret)
 * @a_len: its length
 * @b: the presented value
 * @b_len: its length
 *
 * Compares two buffers in constant time. Like Python's hmac.compare_digest() the time
 * depends only on @b_len, so when the lengths differ nothing about @a's content or length
 * leaks through the time taken beyond "not equal".
 *
 * Returns: %TRUE if the buffers have the same length and content
 */
gboolean
osc_crypto_equal(const void *a, gsize a_len, const void *b, gsize b_len)
{
	const void *left;
	int diff;

	g_return_val_if_fail(a != NULL || a_len == 0, FALSE);
	g_return_val_if_fail(b != NULL || b_len == 0, FALSE);

	/* on a length mismatch compare b with itself: same amount of work, result discarded */
	left = a_len == b_len ? a : b;
	diff = CRYPTO_memcmp(left, b, b_len);
	return (a_len == b_len) & (diff == 0);
}

/**
 * osc_crypto_get_thread_pbkdf2_count:
 *
 * Debugging aid for tests: how many times osc_crypto_pbkdf2() ran in the calling thread.
 *
 * Returns: a count
 */
guint
osc_crypto_get_thread_pbkdf2_count(void)
{
	return GPOINTER_TO_UINT(g_private_get(&pbkdf2_thread_count));
}

/**
 * osc_crypto_pbkdf2:
 * @password: the password bytes (a user key or backup password)
 * @password_len: their length
 * @salt: the salt
 * @salt_len: its length
 * @iterations: PBKDF2 iterations (API.md §6.2: 480000), at least 1
 * @out: (out caller-allocates): the 32-byte derived key
 * @error: return location for a #GError
 *
 * PBKDF2-HMAC-SHA256 with a 32-byte output. Slow on purpose: never call it on a main loop.
 *
 * Returns: %TRUE on success
 */
gboolean
osc_crypto_pbkdf2(const guint8 *password,
		  gsize password_len,
		  const guint8 *salt,
		  gsize salt_len,
		  guint iterations,
		  guint8 out[OSC_DERIVED_KEY_LEN],
		  GError **error)
{
	static const guint8 empty[1] = {0};
	guint count;

	g_return_val_if_fail(password != NULL || password_len == 0, FALSE);
	g_return_val_if_fail(salt != NULL || salt_len == 0, FALSE);
	g_return_val_if_fail(out != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (iterations < 1 || iterations > (guint)G_MAXINT) {
		g_set_error(error,
			    OSC_ERROR,
			    OSC_ERROR_INVALID_ARGUMENT,
			    "invalid PBKDF2 iteration count %u",
			    iterations);
		return FALSE;
	}
	if (password_len > (gsize)G_MAXINT || salt_len > (gsize)G_MAXINT) {
		g_set_error_literal(error,
				    OSC_ERROR,
				    OSC_ERROR_INVALID_ARGUMENT,
				    "PBKDF2 input too long");
		return FALSE;
	}

	count = GPOINTER_TO_UINT(g_private_get(&pbkdf2_thread_count));
	g_private_set(&pbkdf2_thread_count, GUINT_TO_POINTER(count + 1));

	if (PKCS5_PBKDF2_HMAC(password != NULL ? (const char *)password : (const char *)empty,
			      (int)password_len,
			      salt != NULL ? salt : empty,
			      (int)salt_len,
			      (int)iterations,
			      EVP_sha256(),
			      OSC_DERIVED_KEY_LEN,
			      out) != 1) {
		OPENSSL_cleanse(out, OSC_DERIVED_KEY_LEN);
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED, "PBKDF2 failed");
		return FALSE;
	}
	return TRUE;
}

/**
 * osc_crypto_fingerprint:
 * @key: a 32-byte derived key
 * @out: (out caller-allocates): 33 bytes for the NUL-terminated lowercase hex fingerprint
 *
 * The fingerprint recorded with each row (API.md D-3): the first 16 bytes of
 * HMAC-SHA256(key, "OpenSecureConf key fingerprint v1"), in hex. It identifies the key that
 * encrypted a row without revealing anything usable about the key.
 */
void
osc_crypto_fingerprint(const guint8 key[OSC_DERIVED_KEY_LEN], gchar out[OSC_FINGERPRINT_LEN + 1])
{
	static const gchar hex[] = "0123456789abcdef";
	guint8 mac[32];

	g_return_if_fail(key != NULL);
	g_return_if_fail(out != NULL);

	/* Only an allocation failure inside OpenSSL makes this fail; like g_malloc() we treat
	 * that as fatal rather than hand out a fingerprint that could match another key's. */
	if (!crypto_hmac_sha256(key,
				OSC_DERIVED_KEY_LEN,
				(const guint8 *)FINGERPRINT_LABEL,
				strlen(FINGERPRINT_LABEL),
				NULL,
				0,
				mac))
		g_error("HMAC-SHA256 failed while computing a key fingerprint");
	for (guint i = 0; i < OSC_FINGERPRINT_LEN / 2; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 0xf];
	}
	out[OSC_FINGERPRINT_LEN] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
}

/* base64url (RFC 4648 §5) */

static const gchar b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* value of each character, or 0xff outside the URL-safe alphabet (including '=') */
static const guint8 b64url_values[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3e, 0xff, 0xff,
    0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
    0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0x3f,
    0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

static gsize
b64url_encoded_len(gsize len)
{
	return (len + 2) / 3 * 4;
}

/* writes b64url_encoded_len(len) characters, padded with '=', and no NUL */
static void
b64url_encode_into(const guint8 *data, gsize len, gchar *out)
{
	gsize i = 0;

	for (; i + 3 <= len; i += 3) {
		guint32 v = (guint32)data[i] << 16 | (guint32)data[i + 1] << 8 | data[i + 2];

		*out++ = b64url_alphabet[v >> 18];
		*out++ = b64url_alphabet[(v >> 12) & 0x3f];
		*out++ = b64url_alphabet[(v >> 6) & 0x3f];
		*out++ = b64url_alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		guint32 v = (guint32)data[i] << 16;

		*out++ = b64url_alphabet[v >> 18];
		*out++ = b64url_alphabet[(v >> 12) & 0x3f];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		guint32 v = (guint32)data[i] << 16 | (guint32)data[i + 1] << 8;

		*out++ = b64url_alphabet[v >> 18];
		*out++ = b64url_alphabet[(v >> 12) & 0x3f];
		*out++ = b64url_alphabet[(v >> 6) & 0x3f];
		*out++ = '=';
	}
}

/*
 * Checks the shape of base64url text (padded canonical form, or no padding at all) and
 * returns the number of significant characters (without '=') and the decoded length.
 * The characters themselves are checked while decoding.
 */
static gboolean
b64url_measure(const gchar *text, gsize text_len, gsize *sig_len, gsize *out_len)
{
	gsize pad = 0;
	gsize n;

	while (pad < 2 && pad < text_len && text[text_len - 1 - pad] == '=')
		pad++;
	n = text_len - pad;
	if (pad > 0) {
		/* padded: whole quanta only, and exactly the padding the tail needs */
		if (text_len % 4 != 0 || (n % 4) + pad != 4)
			return FALSE;
	}
	if (n % 4 == 1)
		return FALSE;
	*sig_len = n;
	*out_len = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
	return TRUE;
}

/*
 * Decodes @sig_len significant characters into @out (b64url_measure's out_len bytes).
 * Like Python's decoder, unused low bits of the last character are ignored.
 */
static gboolean
b64url_decode_into(const gchar *text, gsize sig_len, guint8 *out)
{
	const guchar *p = (const guchar *)text;
	guint8 bad = 0;
	gsize i = 0;

	for (; i + 4 <= sig_len; i += 4) {
		guint8 a = b64url_values[p[i]], b = b64url_values[p[i + 1]];
		guint8 c = b64url_values[p[i + 2]], d = b64url_values[p[i + 3]];
		guint32 v = (guint32)(a & 0x3f) << 18 | (guint32)(b & 0x3f) << 12 |
			    (guint32)(c & 0x3f) << 6 | (d & 0x3f);

		bad |= (a | b | c | d) & 0x80;
		*out++ = (guint8)(v >> 16);
		*out++ = (guint8)(v >> 8);
		*out++ = (guint8)v;
	}
	if (sig_len - i >= 2) {
		guint8 a = b64url_values[p[i]], b = b64url_values[p[i + 1]];
		guint32 v = (guint32)(a & 0x3f) << 18 | (guint32)(b & 0x3f) << 12;

		bad |= (a | b) & 0x80;
		if (sig_len - i == 3) {
			guint8 c = b64url_values[p[i + 2]];

			bad |= c & 0x80;
			v |= (guint32)(c & 0x3f) << 6;
			*out++ = (guint8)(v >> 16);
			*out++ = (guint8)(v >> 8);
		} else {
			*out++ = (guint8)(v >> 16);
		}
	}
	return bad == 0;
}

/**
 * osc_base64url_encode:
 * @data: bytes
 * @len: their length
 *
 * Encodes with the URL-safe alphabet (`-` and `_`) and `=` padding, as Python's
 * base64.urlsafe_b64encode() does.
 *
 * Returns: (transfer full): a NUL-terminated string
 */
gchar *
osc_base64url_encode(const guint8 *data, gsize len)
{
	gchar *out;
	gsize out_len;

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	out_len = b64url_encoded_len(len);
	out = g_malloc(out_len + 1);
	b64url_encode_into(data, len, out);
	out[out_len] = '\0';
	return out;
}

/**
 * osc_base64url_decode:
 * @text: base64url text, padded or not
 * @text_len: its length in bytes
 * @out_len: (out): the decoded length
 * @error: return location for a #GError
 *
 * Decodes the URL-safe alphabet. The padded canonical form and unpadded text are
 * accepted; any other character, wrong padding or a length of 1 mod 4 is refused with
 * %OSC_ERROR_INVALID_TOKEN.
 *
 * Returns: (transfer full): the decoded bytes (never %NULL on success, even when empty)
 */
guint8 *
osc_base64url_decode(const gchar *text, gsize text_len, gsize *out_len, GError **error)
{
	g_autofree guint8 *out = NULL;
	gsize sig_len, len;

	g_return_val_if_fail(text != NULL || text_len == 0, NULL);
	g_return_val_if_fail(out_len != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!b64url_measure(text, text_len, &sig_len, &len)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_TOKEN, "invalid base64");
		return NULL;
	}
	out = g_malloc(len + 1);
	if (!b64url_decode_into(text, sig_len, out)) {
		/* the text may have been key material: leave nothing of it behind */
		OPENSSL_cleanse(out, len);
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_TOKEN, "invalid base64");
		return NULL;
	}
	*out_len = len;
	return g_steal_pointer(&out);
}

/**
 * osc_fernet_key_encode:
 * @key: a 32-byte derived key
 *
 * Returns: (transfer full): the 44-character Fernet key text (API.md §6.2); wipe it with
 * OPENSSL_cleanse() before freeing
 */
gchar *
osc_fernet_key_encode(const guint8 key[OSC_DERIVED_KEY_LEN])
{
	g_return_val_if_fail(key != NULL, NULL);

	return osc_base64url_encode(key, OSC_DERIVED_KEY_LEN);
}

/**
 * osc_fernet_key_decode:
 * @text: a Fernet key: base64url of exactly 32 bytes
 * @key: (out caller-allocates): the key
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
osc_fernet_key_decode(const gchar *text, guint8 key[OSC_DERIVED_KEY_LEN], GError **error)
{
	guint8 buf[OSC_DERIVED_KEY_LEN + 3];
	gsize text_len, sig_len, len;
	gboolean ok;

	g_return_val_if_fail(text != NULL, FALSE);
	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	text_len = strlen(text);
	ok = b64url_measure(text, text_len, &sig_len, &len) && len == OSC_DERIVED_KEY_LEN &&
	     b64url_decode_into(text, sig_len, buf);
	if (ok)
		memcpy(key, buf, OSC_DERIVED_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!ok) {
		g_set_error_literal(error,
				    OSC_ERROR,
				    OSC_ERROR_INVALID_ARGUMENT,
				    "a Fernet key must be 32 bytes of URL-safe base64");
		return FALSE;
	}
	return TRUE;
}

/*
 * Random IVs come from a per-thread buffer refilled 64 IVs at a time: each RAND_bytes() call
 * costs a getpid() system call (OpenSSL's fork check), which was a quarter of the cost of an
 * encryption. IVs are public and need only be unpredictable, and the buffer holds nothing an
 * attacker able to read our memory could not get from the DRBG state anyway. A fork must not
 * let parent and child hand out the same IVs: the child bumps a generation counter, which
 * invalidates what the forking thread had buffered (the other threads do not exist there).
 */
#define IV_POOL_LEN (64 * OSC_FERNET_IV_LEN)

typedef struct {
	guint8 buf[IV_POOL_LEN];
	gsize pos;
	guint generation;
} IvPool;

static _Thread_local IvPool iv_pool = {.pos = IV_POOL_LEN};
static guint iv_pool_generation = 1;

static void
crypto_atfork_child(void)
{
	/* the child is single-threaded here */
	g_atomic_int_inc(&iv_pool_generation);
}

static gboolean
crypto_random_iv(guint8 iv[OSC_FERNET_IV_LEN], GError **error)
{
	static gsize once = 0;
	guint generation;

	if (g_once_init_enter(&once)) {
		pthread_atfork(NULL, NULL, crypto_atfork_child);
		g_once_init_leave(&once, 1);
	}
	generation = (guint)g_atomic_int_get(&iv_pool_generation);
	if (iv_pool.generation != generation || iv_pool.pos + OSC_FERNET_IV_LEN > IV_POOL_LEN) {
		if (!osc_crypto_random(iv_pool.buf, IV_POOL_LEN, error))
			return FALSE;
		iv_pool.pos = 0;
		iv_pool.generation = generation;
	}
	memcpy(iv, iv_pool.buf + iv_pool.pos, OSC_FERNET_IV_LEN);
	/* never hand out the same bytes twice */
	OPENSSL_cleanse(iv_pool.buf + iv_pool.pos, OSC_FERNET_IV_LEN);
	iv_pool.pos += OSC_FERNET_IV_LEN;
	return TRUE;
}

/*
 * Writes the token for @plaintext into @raw (FERNET_OVERHEAD + the padded length bytes).
 * @plaintext may be @raw + FERNET_HEADER_LEN: EVP encrypts CBC in place.
 */
static gboolean
fernet_seal(const guint8 key[OSC_DERIVED_KEY_LEN],
	    guint8 *raw,
	    const guint8 *plaintext,
	    gsize plaintext_len,
	    gint64 timestamp,
	    const guint8 *iv,
	    GError **error)
{
	EVP_CIPHER_CTX *ctx;
	/* PKCS#7 always adds 1..16 bytes */
	gsize ct_max = (plaintext_len / FERNET_BLOCK + 1) * FERNET_BLOCK;
	guint8 *ct = raw + FERNET_HEADER_LEN;
	guint64 ts = (guint64)timestamp;
	int n1 = 0, n2 = 0;

	/* the callers checked plaintext_len against MAX_PLAINTEXT_LEN */
	raw[0] = FERNET_VERSION;
	for (guint i = 0; i < 8; i++)
		raw[1 + i] = (guint8)(ts >> (56 - 8 * i));
	if (iv != NULL)
		memcpy(raw + 9, iv, OSC_FERNET_IV_LEN);
	else if (!crypto_random_iv(raw + 9, error))
		return FALSE;

	ctx = fernet_cipher(key + FERNET_KEY_HALF, raw + 9, TRUE);
	if (ctx == NULL ||
	    EVP_EncryptUpdate(ctx, ct, &n1, plaintext, (int)plaintext_len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n1, &n2) != 1 || (gsize)(n1 + n2) != ct_max) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED, "AES encryption failed");
		return FALSE;
	}
	if (!fernet_hmac(key, raw, FERNET_HEADER_LEN + ct_max, ct + ct_max)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED, "HMAC failed");
		return FALSE;
	}
	return TRUE;
}

/**
 * osc_fernet_encrypt:
 * @key: the 32-byte derived key (signing key, then AES key)
 * @plaintext: the bytes to encrypt
 * @plaintext_len: their length
 * @timestamp: Unix seconds to stamp the token with (not negative)
 * @iv: (nullable): 16 bytes of IV for reproducible tokens in tests, or %NULL for random
 * @error: return location for a #GError
 *
 * Produces a Fernet token (API.md §6.4) exactly as Python's cryptography does.
 *
 * Returns: (transfer full): the token text, or %NULL on error
 */
gchar *
osc_fernet_encrypt(const guint8 key[OSC_DERIVED_KEY_LEN],
		   const guint8 *plaintext,
		   gsize plaintext_len,
		   gint64 timestamp,
		   const guint8 *iv,
		   GError **error)
{
	g_autofree guint8 *heap = NULL;
	guint8 stack[STACK_BUF_LEN];
	guint8 *raw;
	gsize raw_len;
	gchar *token;
	gsize token_len;

	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(plaintext != NULL || plaintext_len == 0, NULL);
	g_return_val_if_fail(timestamp >= 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (plaintext_len > MAX_PLAINTEXT_LEN) {
		g_set_error_literal(error,
				    OSC_ERROR,
				    OSC_ERROR_TOO_LARGE,
				    "plaintext too large to encrypt");
		return NULL;
	}
	raw_len = OSC_FERNET_RAW_LEN(plaintext_len);
	if (raw_len <= sizeof(stack)) {
		raw = stack;
	} else {
		heap = g_malloc(raw_len);
		raw = heap;
	}
	if (!fernet_seal(key, raw, plaintext, plaintext_len, timestamp, iv, error))
		return NULL;

	token_len = b64url_encoded_len(raw_len);
	token = g_malloc(token_len + 1);
	b64url_encode_into(raw, raw_len, token);
	token[token_len] = '\0';
	return token;
}

/**
 * osc_fernet_encrypt_in_place:
 * @buf: (inout): OSC_FERNET_RAW_LEN(@plaintext_len) bytes, the plaintext starting at
 *   OSC_FERNET_HEADER_LEN; the decoded token (not base64) on return, at the start
 *
 * osc_fernet_encrypt() without a second buffer, for documents of tens of megabytes.
 *
 * Returns: %TRUE with the token's OSC_FERNET_RAW_LEN(@plaintext_len) bytes in @buf
 */
gboolean
osc_fernet_encrypt_in_place(const guint8 key[OSC_DERIVED_KEY_LEN],
			    guint8 *buf,
			    gsize plaintext_len,
			    gint64 timestamp,
			    const guint8 *iv,
			    GError **error)
{
	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(buf != NULL, FALSE);
	g_return_val_if_fail(timestamp >= 0, FALSE);

	if (plaintext_len > MAX_PLAINTEXT_LEN) {
		g_set_error_literal(error,
				    OSC_ERROR,
				    OSC_ERROR_TOO_LARGE,
				    "plaintext too large to encrypt");
		return FALSE;
	}
	return fernet_seal(key, buf, buf + FERNET_HEADER_LEN, plaintext_len, timestamp, iv,
			   error);
}

static gboolean
fernet_time_ok(guint64 ts, gint64 ttl, gint64 now)
{
	/* ts + ttl < now: too old (written without overflow) */
	if (ts <= (guint64)G_MAXINT64 && (gint64)ts <= G_MAXINT64 - ttl && (gint64)ts + ttl < now)
		return FALSE;
	/* ts > now + skew: stamped in the future beyond the allowed clock skew */
	if (ts > (guint64)G_MAXINT64)
		return FALSE;
	if (now <= G_MAXINT64 - OSC_FERNET_MAX_CLOCK_SKEW &&
	    (gint64)ts > now + OSC_FERNET_MAX_CLOCK_SKEW)
		return FALSE;
	return TRUE;
}

/**
 * osc_fernet_decrypt:
 * @key: the 32-byte derived key
 * @token: the token text (need not be NUL-terminated)
 * @token_len: its length
 * @ttl: the maximum age in seconds, or 0 (or less) for no time check at all
 * @now: the current Unix time, used only when @ttl > 0
 * @error: return location for a #GError
 *
 * Verifies and decrypts a Fernet token (API.md §6.4). The MAC is checked in constant time
 * before anything is decrypted. A token that does not verify fails with
 * %OSC_ERROR_INVALID_TOKEN (wrong key, wrong salt and corruption look the same); a valid
 * token outside its TTL, or stamped more than %OSC_FERNET_MAX_CLOCK_SKEW seconds in the
 * future, fails with %OSC_ERROR_TOKEN_EXPIRED.
 *
 * Returns: (transfer full): the plaintext, or %NULL on error
 */
/*
 * Verifies and decrypts the decoded token @raw into @pt (which may be @raw + the header
 * length: CBC decryption in place is supported by EVP). On success *@pt_len is set.
 */
static gboolean
fernet_open(const guint8 key[OSC_DERIVED_KEY_LEN],
	    const guint8 *raw,
	    gsize raw_len,
	    gint64 ttl,
	    gint64 now,
	    guint8 *pt,
	    gsize *pt_len,
	    GError **error)
{
	EVP_CIPHER_CTX *ctx;
	guint8 mac[FERNET_MAC_LEN];
	gsize ct_len = raw_len - FERNET_OVERHEAD;
	guint64 ts = 0;
	int n1 = 0, n2 = 0;
	gboolean mac_ok;

	if (raw[0] != FERNET_VERSION) {
		g_set_error_literal(error,
				    OSC_ERROR,
				    OSC_ERROR_INVALID_TOKEN,
				    "unknown token version");
		return FALSE;
	}
	if (!fernet_hmac(key, raw, raw_len - FERNET_MAC_LEN, mac)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_FAILED, "HMAC failed");
		return FALSE;
	}
	mac_ok = CRYPTO_memcmp(mac, raw + raw_len - FERNET_MAC_LEN, FERNET_MAC_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!mac_ok) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_TOKEN, "invalid token");
		return FALSE;
	}

	/* checked after the MAC so that only authentic tokens are ever reported as expired */
	for (guint i = 0; i < 8; i++)
		ts = ts << 8 | raw[1 + i];
	if (ttl > 0 && !fernet_time_ok(ts, ttl, now)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_TOKEN_EXPIRED, "token expired");
		return FALSE;
	}

	/* EVP's PKCS#7 unpadding is strict: pad byte 1..16 and every pad byte equal */
	ctx = fernet_cipher(key + FERNET_KEY_HALF, raw + 9, FALSE);
	if (ctx == NULL ||
	    EVP_DecryptUpdate(ctx, pt, &n1, raw + FERNET_HEADER_LEN, (int)ct_len) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + n1, &n2) != 1) {
		OPENSSL_cleanse(pt, ct_len);
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_TOKEN, "invalid token");
		return FALSE;
	}
	*pt_len = (gsize)(n1 + n2);
	return TRUE;
}

/* measures @token and checks its decoded length is one a token can have */
static gboolean
fernet_measure(const gchar *token, gsize token_len, gsize *sig_len, gsize *raw_len, GError **error)
{
	if (token_len > (gsize)G_MAXINT || !b64url_measure(token, token_len, sig_len, raw_len)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_TOKEN, "invalid base64");
		return FALSE;
	}
	if (*raw_len < FERNET_OVERHEAD + FERNET_BLOCK ||
	    (*raw_len - FERNET_OVERHEAD) % FERNET_BLOCK != 0) {
		g_set_error_literal(error,
				    OSC_ERROR,
				    OSC_ERROR_INVALID_TOKEN,
				    "invalid token length");
		return FALSE;
	}
	return TRUE;
}

/**
 * osc_fernet_decrypt:
 * @key: the 32-byte derived key
 * @token: the token text (need not be NUL-terminated)
 * @token_len: its length
 * @ttl: the maximum age in seconds, or 0 (or less) for no time check at all
 * @now: the current Unix time, used only when @ttl > 0
 * @error: return location for a #GError
 *
 * Verifies and decrypts a Fernet token (API.md §6.4). The MAC is checked in constant time
 * before anything is decrypted. A token that does not verify fails with
 * %OSC_ERROR_INVALID_TOKEN (wrong key, wrong salt and corruption look the same); a valid
 * token outside its TTL, or stamped more than %OSC_FERNET_MAX_CLOCK_SKEW seconds in the
 * future, fails with %OSC_ERROR_TOKEN_EXPIRED.
 *
 * Returns: (transfer full): the plaintext, or %NULL on error
 */
GBytes *
osc_fernet_decrypt(const guint8 key[OSC_DERIVED_KEY_LEN],
		   const gchar *token,
		   gsize token_len,
		   gint64 ttl,
		   gint64 now,
		   GError **error)
{
	g_autofree guint8 *heap = NULL;
	guint8 stack[STACK_BUF_LEN];
	guint8 *raw, *pt;
	gsize sig_len, raw_len, pt_len = 0;

	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(token != NULL || token_len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!fernet_measure(token, token_len, &sig_len, &raw_len, error))
		return NULL;
	if (raw_len <= sizeof(stack)) {
		raw = stack;
	} else {
		heap = g_malloc(raw_len);
		raw = heap;
	}
	if (!b64url_decode_into(token, sig_len, raw)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_TOKEN, "invalid base64");
		return NULL;
	}
	pt = g_malloc(raw_len - FERNET_OVERHEAD);
	if (!fernet_open(key, raw, raw_len, ttl, now, pt, &pt_len, error)) {
		g_free(pt);
		return NULL;
	}
	return g_bytes_new_take(pt, pt_len);
}

/**
 * osc_fernet_decrypt_in_place:
 * @token: (inout): the token text; overwritten by its decoding and the plaintext
 * @plaintext: (out): where the plaintext starts inside @token
 * @plaintext_len: (out): its length
 *
 * osc_fernet_decrypt() without a second buffer, for tokens of tens of megabytes (backups).
 * On error @token holds garbage and must only be wiped and freed.
 */
gboolean
osc_fernet_decrypt_in_place(const guint8 key[OSC_DERIVED_KEY_LEN],
			    gchar *token,
			    gsize token_len,
			    gint64 ttl,
			    gint64 now,
			    guint8 **plaintext,
			    gsize *plaintext_len,
			    GError **error)
{
	guint8 *raw = (guint8 *)token;
	gsize sig_len, raw_len;

	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(token != NULL, FALSE);
	g_return_val_if_fail(plaintext != NULL && plaintext_len != NULL, FALSE);

	if (!fernet_measure(token, token_len, &sig_len, &raw_len, error))
		return FALSE;
	/* decoding writes 3 bytes per 4 characters read, always behind the reading position */
	if (!b64url_decode_into(token, sig_len, raw)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_TOKEN, "invalid base64");
		return FALSE;
	}
	if (!fernet_open(key, raw, raw_len, ttl, now, raw + FERNET_HEADER_LEN, plaintext_len,
			 error))
		return FALSE;
	*plaintext = raw + FERNET_HEADER_LEN;
	return TRUE;
}
