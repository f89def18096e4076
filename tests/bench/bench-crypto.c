/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib.h>

#include <string.h>

#include "osc-crypto.h"
#include "osc-key-cache.h"

/* Micro-benchmarks of the per-request crypto path; one figure per line. */

#define VALUE_LEN 100

static gdouble
elapsed_s(gint64 start)
{
	return (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

static void
bench_fernet(void)
{
	guint8 key[OSC_DERIVED_KEY_LEN];
	guint8 value[VALUE_LEN];
	guint64 n = 0;
	gint64 start;

	g_assert_true(osc_crypto_random(key, sizeof(key), NULL));
	memset(value, 'v', sizeof(value));
	start = g_get_monotonic_time();
	do {
		for (guint i = 0; i < 1000; i++) {
			g_autoptr(GError) error = NULL;
			g_autofree gchar *token =
			    osc_fernet_encrypt(key, value, sizeof(value), 1700000000, NULL, &error);
			g_autoptr(GBytes) pt =
			    osc_fernet_decrypt(key, token, strlen(token), 0, 0, &error);

			g_assert_no_error(error);
			g_assert_cmpuint(g_bytes_get_size(pt), ==, sizeof(value));
		}
		n += 1000;
	} while (elapsed_s(start) < 2.0);
	g_print("fernet encrypt+decrypt (%u-byte value): %.0f pairs/s\n",
		VALUE_LEN,
		(gdouble)n / elapsed_s(start));
}

static void
bench_key_cache(void)
{
	g_autoptr(GBytes) salt = NULL;
	g_autoptr(OscKeyCache) cache = NULL;
	g_autoptr(OscDerivedKey) warm = NULL;
	guint8 salt_data[OSC_SALT_LEN];
	const gchar *user_key = "bench-user-key-123";
	guint64 n = 0;
	gint64 start;

	g_assert_true(osc_crypto_random(salt_data, sizeof(salt_data), NULL));
	salt = g_bytes_new(salt_data, sizeof(salt_data));
	cache = osc_key_cache_new(salt, 1000, 0, 0);
	warm = osc_key_cache_derive(cache, user_key, strlen(user_key), NULL, NULL);
	g_assert_nonnull(warm);

	start = g_get_monotonic_time();
	do {
		for (guint i = 0; i < 1000; i++) {
			g_autoptr(OscDerivedKey) key =
			    osc_key_cache_lookup(cache, user_key, strlen(user_key));

			g_assert_true(key == warm);
		}
		n += 1000;
	} while (elapsed_s(start) < 2.0);
	g_print("key cache lookup (warm key): %.0f lookups/s\n", (gdouble)n / elapsed_s(start));
}

static void
bench_pbkdf2(void)
{
	guint8 salt[OSC_SALT_LEN];
	guint8 dk[OSC_DERIVED_KEY_LEN];
	gdouble best = G_MAXDOUBLE;

	g_assert_true(osc_crypto_random(salt, sizeof(salt), NULL));
	/* best of three: the figure is the cost of one first request with a new key */
	for (guint i = 0; i < 3; i++) {
		gint64 start = g_get_monotonic_time();

		g_assert_true(osc_crypto_pbkdf2((const guint8 *)"bench-user-key-123",
						18,
						salt,
						sizeof(salt),
						OSC_PBKDF2_ITERATIONS,
						dk,
						NULL));
		best = MIN(best, elapsed_s(start));
	}
	g_print("pbkdf2 (%u iterations, one derivation): %.1f ms\n",
		OSC_PBKDF2_ITERATIONS,
		best * 1000.0);
}

int
main(int argc, char **argv)
{
	bench_fernet();
	bench_key_cache();
	bench_pbkdf2();
	return 0;
}
