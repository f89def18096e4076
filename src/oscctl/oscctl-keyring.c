/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "oscctl"

#include "config.h"

#include "oscctl-keyring.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include <libsecret/secret.h>

/*
 * One keyring item per server, schema org.opensecureconf.Credentials, attribute `url`;
 * the secret is {"user_key": …, "api_key": …}. With no URL given, the most recently
 * stored item is the default server.
 */

static const SecretSchema *
oscctl_keyring_schema(void)
{
	static const SecretSchema schema = {
		"org.opensecureconf.Credentials",
		SECRET_SCHEMA_NONE,
		{
			{"url", SECRET_SCHEMA_ATTRIBUTE_STRING},
			{NULL, 0},
		},
		0,
		NULL,
		NULL,
		NULL,
		NULL,
		NULL,
		NULL,
		NULL,
	};
	return &schema;
}

static void
oscctl_wipe(gchar *s)
{
	if (s != NULL) {
		memset(s, 0, strlen(s));
		g_free(s);
	}
}

void
oscctl_credentials_free(OscctlCredentials *creds)
{
	if (creds == NULL)
		return;
	g_free(creds->url);
	oscctl_wipe(creds->user_key);
	oscctl_wipe(creds->api_key);
	g_free(creds);
}

gboolean
oscctl_keyring_store(const OscctlCredentials *creds, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GHashTable) attrs = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree gchar *label =
		g_strdup_printf(_("OpenSecureConf credentials for %s"), creds->url);
	gchar *secret;
	gboolean ok;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "user_key");
	json_builder_add_string_value(b, creds->user_key);
	if (creds->api_key != NULL) {
		json_builder_set_member_name(b, "api_key");
		json_builder_add_string_value(b, creds->api_key);
	}
	json_builder_end_object(b);
	node = json_builder_get_root(b);
	secret = json_to_string(node, FALSE);
	g_hash_table_insert(attrs, (gpointer) "url", creds->url);
	ok = secret_password_storev_sync(oscctl_keyring_schema(), attrs, SECRET_COLLECTION_DEFAULT,
					 label, secret, NULL, error);
	oscctl_wipe(secret);
	return ok;
}

static OscctlCredentials *
oscctl_credentials_parse(const gchar *url, const gchar *secret, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	OscctlCredentials *creds;
	JsonObject *obj;

	if (!json_parser_load_from_data(parser, secret, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    _("The keyring item for %s is not oscctl's"), url);
		return NULL;
	}
	obj = json_node_get_object(json_parser_get_root(parser));
	creds = g_new0(OscctlCredentials, 1);
	creds->url = g_strdup(url);
	if (json_object_has_member(obj, "user_key"))
		creds->user_key = g_strdup(json_object_get_string_member(obj, "user_key"));
	if (json_object_has_member(obj, "api_key"))
		creds->api_key = g_strdup(json_object_get_string_member(obj, "api_key"));
	return creds;
}

/**
 * oscctl_keyring_lookup:
 * @url: (nullable): the server; %NULL for the most recently stored one
 *
 * Returns: the credentials; %NULL with no error when there are none, or with @error set
 */
OscctlCredentials *
oscctl_keyring_lookup(const gchar *url, GError **error)
{
	g_autoptr(GHashTable) attrs = g_hash_table_new(g_str_hash, g_str_equal);
	GList *items;
	SecretRetrievable *best = NULL;
	g_autoptr(SecretValue) value = NULL;
	g_autoptr(GHashTable) best_attrs = NULL;
	OscctlCredentials *creds;

	if (url != NULL)
		g_hash_table_insert(attrs, (gpointer) "url", (gpointer)url);
	items = secret_password_searchv_sync(oscctl_keyring_schema(), attrs,
					     SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK, NULL, error);
	if (items == NULL)
		return NULL;
	for (GList *l = items; l != NULL; l = l->next) {
		SecretRetrievable *item = l->data;
		if (best == NULL ||
		    secret_retrievable_get_modified(item) > secret_retrievable_get_modified(best))
			best = item;
	}
	value = secret_retrievable_retrieve_secret_sync(best, NULL, error);
	best_attrs = secret_retrievable_get_attributes(best);
	if (value == NULL) {
		g_list_free_full(items, g_object_unref);
		if (error != NULL && *error == NULL)
			g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
					    _("The keyring item has no secret"));
		return NULL;
	}
	creds = oscctl_credentials_parse(g_hash_table_lookup(best_attrs, "url"),
					 secret_value_get_text(value), error);
	g_list_free_full(items, g_object_unref);
	return creds;
}

/**
 * oscctl_keyring_clear:
 * @url: (nullable): the server; %NULL for all
 * @n_cleared: (out): how many items were removed
 */
gboolean
oscctl_keyring_clear(const gchar *url, guint *n_cleared, GError **error)
{
	g_autoptr(GHashTable) attrs = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) local = NULL;

	*n_cleared = 0;
	if (url != NULL)
		g_hash_table_insert(attrs, (gpointer) "url", (gpointer)url);
	/* secret_password_clear removes one item per call */
	while (secret_password_clearv_sync(oscctl_keyring_schema(), attrs, NULL, &local))
		(*n_cleared)++;
	if (local != NULL) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	return TRUE;
}
