/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <libsecret/secret.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "osc-keyring.h"

/*
 * The keys of every connection (the local one's user key too) live in the Secret Service,
 * found by the connection id and what kind of key it is: never in GSettings, never on disk
 * in clear. Secrets returned here are freed with osc_keyring_free_secret(), which wipes them.
 */

static const SecretSchema *
osc_keyring_get_schema(void)
{
	static const SecretSchema schema = {
	    .name = "org.opensecureconf.Admin.Connection",
	    .flags = SECRET_SCHEMA_NONE,
	    .attributes = {
		{"connection", SECRET_SCHEMA_ATTRIBUTE_STRING},
		{"kind", SECRET_SCHEMA_ATTRIBUTE_STRING},
		{NULL, 0},
	    },
	};
	return &schema;
}

static void
osc_keyring_lookup_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	g_autoptr(GError) error = NULL;
	gchar *secret = secret_password_lookup_finish(result, &error);

	if (error != NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* NULL without an error: no such item, which is not a failure */
	g_task_return_pointer(task, secret, (GDestroyNotify)secret_password_free);
}

/**
 * osc_keyring_lookup_async:
 *
 * Looks up a key; the result is NULL without an error when there is none, and an error
 * when there is no Secret Service to ask.
 */
void
osc_keyring_lookup_async(const gchar *connection_id,
			 const gchar *kind,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);

	g_task_set_source_tag(task, osc_keyring_lookup_async);
	secret_password_lookup(osc_keyring_get_schema(), cancellable, osc_keyring_lookup_cb,
			       g_steal_pointer(&task), "connection", connection_id, "kind", kind,
			       NULL);
}

gchar *
osc_keyring_lookup_finish(GAsyncResult *result, GError **error)
{
	gchar *secret;

	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	secret = g_task_propagate_pointer(G_TASK(result), error);
	if (secret != NULL) {
		/* hand out a g_malloc copy so that callers need no libsecret */
		gchar *copy = g_strdup(secret);

		secret_password_free(secret);
		return copy;
	}
	return NULL;
}

static void
osc_keyring_bool_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	g_autoptr(GError) error = NULL;
	gboolean (*finish)(GAsyncResult *, GError **) = g_task_get_task_data(task);

	if (!finish(result, &error) && error != NULL)
		g_task_return_error(task, g_steal_pointer(&error));
	else
		g_task_return_boolean(task, TRUE);
}

void
osc_keyring_store_async(const gchar *connection_id,
			const gchar *kind,
			const gchar *label,
			const gchar *secret,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);

	g_task_set_source_tag(task, osc_keyring_store_async);
	g_task_set_task_data(task, secret_password_store_finish, NULL);
	secret_password_store(osc_keyring_get_schema(), SECRET_COLLECTION_DEFAULT, label, secret,
			      cancellable, osc_keyring_bool_cb, g_steal_pointer(&task),
			      "connection", connection_id, "kind", kind, NULL);
}

gboolean
osc_keyring_store_finish(GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

/* removes every key of a connection */
void
osc_keyring_clear_async(const gchar *connection_id,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);

	g_task_set_source_tag(task, osc_keyring_clear_async);
	g_task_set_task_data(task, secret_password_clear_finish, NULL);
	secret_password_clear(osc_keyring_get_schema(), cancellable, osc_keyring_bool_cb,
			      g_steal_pointer(&task), "connection", connection_id, NULL);
}

gboolean
osc_keyring_clear_finish(GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

/* 32 random bytes from OpenSSL's CSPRNG as 64 hex digits (a user key or an API key) */
gchar *
osc_keyring_generate_key(void)
{
	guchar raw[32];
	gchar *hex = g_malloc(sizeof(raw) * 2 + 1);

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		g_error("the random number generator failed");
	for (gsize i = 0; i < sizeof(raw); i++)
		g_snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	OPENSSL_cleanse(raw, sizeof(raw));
	return hex;
}

void
osc_keyring_free_secret(gchar *secret)
{
	if (secret == NULL)
		return;
	OPENSSL_cleanse(secret, strlen(secret));
	g_free(secret);
}
