/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OSC_KEYRING_API_KEY  "api-key"
#define OSC_KEYRING_USER_KEY "user-key"

void
osc_keyring_lookup_async(const gchar *connection_id,
			 const gchar *kind,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
gchar *
osc_keyring_lookup_finish(GAsyncResult *result, GError **error);
void
osc_keyring_store_async(const gchar *connection_id,
			const gchar *kind,
			const gchar *label,
			const gchar *secret,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
gboolean
osc_keyring_store_finish(GAsyncResult *result, GError **error);
void
osc_keyring_clear_async(const gchar *connection_id,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
gboolean
osc_keyring_clear_finish(GAsyncResult *result, GError **error);
gchar *
osc_keyring_generate_key(void);
void
osc_keyring_free_secret(gchar *secret);

G_END_DECLS
