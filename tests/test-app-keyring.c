/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "test-app-keyring"

#include "config.h"

#include <string.h>

#include "osc-keyring.h"
#include "osc-test-utils.h"

/*
 * The app's keys in the Secret Service, here libsecret's file backend (no bus needed):
 * stored and found per connection and kind, cleared per connection.
 */

typedef struct {
	gboolean done;
	gboolean ok;
	gchar *secret;
	GError *error;
} Result;

static gboolean
is_done(gpointer data)
{
	return ((Result *)data)->done;
}

static void
store_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Result *res = user_data;

	res->ok = osc_keyring_store_finish(result, &res->error);
	res->done = TRUE;
}

static void
lookup_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Result *res = user_data;

	res->secret = osc_keyring_lookup_finish(result, &res->error);
	res->done = TRUE;
}

static void
clear_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Result *res = user_data;

	res->ok = osc_keyring_clear_finish(result, &res->error);
	res->done = TRUE;
}

static void
store(const gchar *id, const gchar *kind, const gchar *secret)
{
	Result res = {0};

	osc_keyring_store_async(id, kind, "test", secret, NULL, store_cb, &res);
	osc_test_wait_until(is_done, &res, 10000);
	g_assert_no_error(res.error);
	g_assert_true(res.ok);
}

static gchar *
lookup(const gchar *id, const gchar *kind)
{
	Result res = {0};

	osc_keyring_lookup_async(id, kind, NULL, lookup_cb, &res);
	osc_test_wait_until(is_done, &res, 10000);
	g_assert_no_error(res.error);
	return res.secret;
}

static void
test_keyring(void)
{
	g_autofree gchar *dir = osc_test_make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "keyring", NULL);
	gchar *secret;
	Result res = {0};

	g_setenv("SECRET_BACKEND", "file", TRUE);
	g_setenv("SECRET_FILE_TEST_PATH", path, TRUE);
	g_setenv("SECRET_FILE_TEST_PASSWORD", "test-password", TRUE);

	/* nothing stored yet: no key, and no error */
	g_assert_null(lookup("conn-a", OSC_KEYRING_USER_KEY));

	store("conn-a", OSC_KEYRING_USER_KEY, "user-key-a");
	store("conn-a", OSC_KEYRING_API_KEY, "api-key-a");
	store("conn-b", OSC_KEYRING_USER_KEY, "user-key-b");
	secret = lookup("conn-a", OSC_KEYRING_USER_KEY);
	g_assert_cmpstr(secret, ==, "user-key-a");
	osc_keyring_free_secret(secret);
	secret = lookup("conn-a", OSC_KEYRING_API_KEY);
	g_assert_cmpstr(secret, ==, "api-key-a");
	osc_keyring_free_secret(secret);

	/* storing again replaces */
	store("conn-a", OSC_KEYRING_USER_KEY, "user-key-a2");
	secret = lookup("conn-a", OSC_KEYRING_USER_KEY);
	g_assert_cmpstr(secret, ==, "user-key-a2");
	osc_keyring_free_secret(secret);

	/* the keys are not in the file in clear */
	{
		g_autofree gchar *contents = NULL;
		gsize len = 0;

		g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
		g_assert_null(memmem(contents, len, "user-key-a2", strlen("user-key-a2")));
	}

	/* clearing a connection removes both its keys, and only its */
	osc_keyring_clear_async("conn-a", NULL, clear_cb, &res);
	osc_test_wait_until(is_done, &res, 10000);
	g_assert_no_error(res.error);
	g_assert_true(res.ok);
	g_assert_null(lookup("conn-a", OSC_KEYRING_USER_KEY));
	g_assert_null(lookup("conn-a", OSC_KEYRING_API_KEY));
	secret = lookup("conn-b", OSC_KEYRING_USER_KEY);
	g_assert_cmpstr(secret, ==, "user-key-b");
	osc_keyring_free_secret(secret);

	osc_test_rm_rf(dir);
}

static void
test_generate(void)
{
	g_autofree gchar *a = osc_keyring_generate_key();
	g_autofree gchar *b = osc_keyring_generate_key();

	/* 256 random bits as hex: long enough for a user key and an API key */
	g_assert_cmpuint(strlen(a), ==, 64);
	g_assert_cmpuint(strspn(a, "0123456789abcdef"), ==, 64);
	g_assert_cmpstr(a, !=, b);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/osc/app/keyring/store-lookup-clear", test_keyring);
	g_test_add_func("/osc/app/keyring/generate", test_generate);
	return g_test_run();
}
