/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* a server's credentials, as `oscctl login` stores them */
typedef struct {
	gchar *url;
	gchar *user_key;
	gchar *api_key;
} OscctlCredentials;

void
oscctl_credentials_free(OscctlCredentials *creds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscctlCredentials, oscctl_credentials_free)

gboolean
oscctl_keyring_store(const OscctlCredentials *creds, GError **error);
OscctlCredentials *
oscctl_keyring_lookup(const gchar *url, GError **error);
gboolean
oscctl_keyring_clear(const gchar *url, guint *n_cleared, GError **error);

G_END_DECLS
