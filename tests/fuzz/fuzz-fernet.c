/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * Fernet token parsing and decryption (osc-crypto.c) with the fixed key of the spec's
 * vectors. An input is a token as text; or, when it starts with 0xFF, the raw bytes of a
 * token (version, timestamp, IV, ciphertext) that the harness signs with the right HMAC
 * first, so that the fuzzer also reaches the code behind the MAC check (padding, cipher
 * lengths). A token that decrypts must survive an encrypt/decrypt round trip.
 */

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "osc-crypto.h"
#include "osc-fuzz.h"

/* spec vectors (tests/data/fernet/verify.json) */
#define FUZZ_FERNET_SECRET "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#define FUZZ_FERNET_NOW	   G_GINT64_CONSTANT(499162801) /* 1985-10-26T01:20:01-07:00 */
#define FUZZ_FERNET_TTL	   60
#define FUZZ_SIGN_MODE	   0xFF

static guint8 key[OSC_DERIVED_KEY_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_autoptr(GError) error = NULL;

	if (!osc_fernet_key_decode(FUZZ_FERNET_SECRET, key, &error))
		g_error("fernet key: %s", error->message);
	return 0;
}

static void
check_round_trip(GBytes *plain)
{
	static const guint8 iv[OSC_FERNET_IV_LEN] = {0};
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(plain, &len);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *token = osc_fernet_encrypt(key, data, len, FUZZ_FERNET_NOW, iv, &error);
	g_autoptr(GBytes) again = NULL;

	g_assert_no_error(error);
	again = osc_fernet_decrypt(key, token, strlen(token), FUZZ_FERNET_TTL, FUZZ_FERNET_NOW,
				   &error);
	g_assert_no_error(error);
	g_assert_true(g_bytes_equal(plain, again));
}

static void
try_decrypt(const gchar *token, gsize len, gint64 ttl, gint64 now)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) plain = osc_fernet_decrypt(key, token, len, ttl, now, &error);

	g_assert_true((plain == NULL) == (error != NULL));
	if (plain != NULL)
		check_round_trip(plain);
}

static void
try_signed(const guint8 *raw, gsize len)
{
	guint8 *signed_raw = g_malloc(len + 32);
	unsigned int mac_len = 32;
	g_autofree gchar *token = NULL;

	memcpy(signed_raw, raw, len);
	/* the signing key is the first half of the Fernet key */
	g_assert_nonnull(HMAC(EVP_sha256(), key, 16, raw, len, signed_raw + len, &mac_len));
	token = osc_base64url_encode(signed_raw, len + 32);
	g_free(signed_raw);
	try_decrypt(token, strlen(token), 0, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const gchar *text = (const gchar *)data;

	if (size > 0 && data[0] == FUZZ_SIGN_MODE) {
		try_signed(data + 1, size - 1);
		return 0;
	}
	try_decrypt(text, size, FUZZ_FERNET_TTL, FUZZ_FERNET_NOW);
	try_decrypt(text, size, 0, 0);

	/* the base64url and key decoders on their own */
	{
		g_autoptr(GError) error = NULL;
		gsize out_len = 0;
		g_autofree guint8 *out = osc_base64url_decode(text, size, &out_len, &error);
		g_assert_true((out == NULL) == (error != NULL));
	}
	if (size < 128) {
		g_autofree gchar *copy = g_strndup(text, size);
		guint8 other[OSC_DERIVED_KEY_LEN];
		g_autoptr(GError) error = NULL;

		if (osc_fernet_key_decode(copy, other, &error)) {
			g_autofree gchar *again = osc_fernet_key_encode(other);
			g_assert_nonnull(again);
		}
	}
	return 0;
}
