/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscBackup"

#include "config.h"

#include <openssl/crypto.h>

#include "osc-backup.h"
#include "osc-error.h"
#include "osc-value.h"

/*
 * The envelope of API.md §7.2, bit-compatible with the original in both directions:
 *   backup_data = base64(bsalt[32] || Fernet(PBKDF2(password, bsalt, 480000)).encrypt(doc))
 * The backup is independent of the server salt and of the user key.
 */

void
osc_backup_document_free(OscBackupDocument *doc)
{
	if (doc == NULL)
		return;
	g_free(doc->backup_id);
	g_free(doc->backup_timestamp);
	g_clear_pointer(&doc->items, g_ptr_array_unref);
	g_free(doc);
}

static void
osc_backup_item_free(OscBackupItem *item)
{
	g_free(item->key);
	g_free(item->environment);
	g_free(item->category);
	g_clear_pointer(&item->value, json_node_unref);
	g_free(item->error);
	g_free(item);
}

/**
 * osc_backup_encrypt:
 * @password: the backup password (UTF-8)
 * @plaintext: the backup document
 * @bsalt: (nullable): 32 bytes of salt, %NULL for random ones (tests pass the vector's)
 * @timestamp: the Fernet timestamp, or 0 for now
 * @iv: (nullable): the Fernet IV, %NULL for a random one
 *
 * One PBKDF2 (480,000 iterations, always: the original's importers expect it).
 *
 * Returns: `backup_data`, standard base64
 */
gchar *
osc_backup_encrypt(const gchar *password,
		   gsize password_len,
		   const gchar *plaintext,
		   gsize plaintext_len,
		   const guint8 *bsalt,
		   gint64 timestamp,
		   const guint8 *iv,
		   GError **error)
{
	guint8 salt[OSC_BACKUP_SALT_LEN];
	guint8 dk[OSC_DERIVED_KEY_LEN];
	g_autofree gchar *token = NULL;
	g_autoptr(GByteArray) blob = NULL;
	gchar *out;

	if (bsalt != NULL)
		memcpy(salt, bsalt, sizeof(salt));
	else if (!osc_crypto_random(salt, sizeof(salt), error))
		return NULL;
	if (!osc_crypto_pbkdf2((const guint8 *)password, password_len, salt, sizeof(salt),
			       OSC_PBKDF2_ITERATIONS, dk, error))
		return NULL;
	token = osc_fernet_encrypt(dk, (const guint8 *)plaintext, plaintext_len,
				   timestamp != 0 ? timestamp : g_get_real_time() / G_USEC_PER_SEC,
				   iv, error);
	OPENSSL_cleanse(dk, sizeof(dk));
	if (token == NULL)
		return NULL;
	blob = g_byte_array_sized_new(sizeof(salt) + strlen(token));
	g_byte_array_append(blob, salt, sizeof(salt));
	g_byte_array_append(blob, (const guint8 *)token, strlen(token));
	out = g_base64_encode(blob->data, blob->len);
	return out;
}

static gint
osc_base64_value(gchar c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/**
 * osc_backup_base64_decode:
 *
 * Standard base64 as Python's non-validating b64decode takes it (API.md §4.13 step 1):
 * characters outside the alphabet are skipped; only bad padding fails, with Python's own
 * messages, so that clients see the original's details.
 */
guint8 *
osc_backup_base64_decode(const gchar *text, gsize *out_len, GError **error)
{
	g_autoptr(GString) clean = g_string_new(NULL);
	gsize data_chars = 0;
	gsize pad = 0;
	guint8 *out;
	gsize o = 0;
	guint32 acc = 0;
	guint bits = 0;

	for (const gchar *p = text; *p != '\0'; p++) {
		if (*p == '=') {
			pad++;
			continue;
		}
		if (osc_base64_value(*p) < 0)
			continue;
		/* data after padding: Python stops at the first complete quantum; we refuse */
		if (pad > 0) {
			g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
					    "Incorrect padding");
			return NULL;
		}
		g_string_append_c(clean, *p);
		data_chars++;
	}
	if (data_chars % 4 == 1) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "Invalid base64-encoded string: number of data characters (%" G_GSIZE_FORMAT
			    ") cannot be 1 more than a multiple of 4",
			    data_chars);
		return NULL;
	}
	if (data_chars % 4 != 0 && data_chars % 4 + pad < 4) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Incorrect padding");
		return NULL;
	}
	out = g_malloc(data_chars * 3 / 4 + 3);
	for (gsize i = 0; i < clean->len; i++) {
		acc = (acc << 6) | (guint32)osc_base64_value(clean->str[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (guint8)(acc >> bits);
		}
	}
	*out_len = o;
	return out;
}

/**
 * osc_backup_decrypt:
 *
 * Errors carry the original's details (§4.13 steps 1–3), all %OSC_ERROR_INVALID_ARGUMENT
 * (HTTP 400): a wrong password and a corrupted backup are indistinguishable by design.
 */
GBytes *
osc_backup_decrypt(const gchar *password, gsize password_len, const gchar *backup_data, GError **error)
{
	g_autofree guint8 *blob = NULL;
	gsize len = 0;
	guint8 dk[OSC_DERIVED_KEY_LEN];
	g_autoptr(GError) error_local = NULL;
	GBytes *plain;

	blob = osc_backup_base64_decode(backup_data, &len, error);
	if (blob == NULL)
		return NULL;
	if (len < OSC_BACKUP_SALT_LEN) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Invalid backup data: too short");
		return NULL;
	}
	if (!osc_crypto_pbkdf2((const guint8 *)password, password_len, blob, OSC_BACKUP_SALT_LEN,
			       OSC_PBKDF2_ITERATIONS, dk, error))
		return NULL;
	plain = osc_fernet_decrypt(dk, (const gchar *)blob + OSC_BACKUP_SALT_LEN,
				   len - OSC_BACKUP_SALT_LEN, 0, 0, &error_local);
	OPENSSL_cleanse(dk, sizeof(dk));
	if (plain == NULL) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Decryption failed: invalid password or corrupted backup");
		return NULL;
	}
	return plain;
}

static gchar *
osc_backup_member_string(JsonObject *obj, const gchar *name, gboolean *bad)
{
	JsonNode *node = json_object_get_member(obj, name);

	*bad = FALSE;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
		*bad = TRUE;
		return NULL;
	}
	return g_strdup(json_node_get_string(node));
}

/**
 * osc_backup_parse_document:
 *
 * Accepts extra members and does not require `version`, `id` or the timestamps (§7.1).
 * Whole-document problems fail (400); per-entry problems are recorded in the item, so the
 * import can report them in `failed_keys` while importing the rest.
 */
OscBackupDocument *
osc_backup_parse_document(const gchar *plaintext, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) error_local = NULL;
	g_autoptr(OscBackupDocument) doc = g_new0(OscBackupDocument, 1);
	JsonNode *root;
	JsonObject *obj;
	JsonNode *configs;
	JsonArray *array;
	gboolean bad;

	if (!g_utf8_validate(plaintext, (gssize)len, NULL)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Invalid backup format: not UTF-8 text");
		return NULL;
	}
	if (!json_parser_load_from_data(parser, plaintext, (gssize)len, &error_local)) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "Invalid backup format: %s", error_local->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Invalid backup format");
		return NULL;
	}
	obj = json_node_get_object(root);
	configs = json_object_get_member(obj, "configurations");
	/* the original answers 500 for a non-list; a malformed document is the client's
	 * problem, so 400 (API.md §4.13 RECOMMENDED) */
	if (configs == NULL || !JSON_NODE_HOLDS_ARRAY(configs)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Invalid backup format");
		return NULL;
	}
	doc->backup_id = osc_backup_member_string(obj, "backup_id", &bad);
	doc->backup_timestamp = osc_backup_member_string(obj, "backup_timestamp", &bad);
	doc->items = g_ptr_array_new_with_free_func((GDestroyNotify)osc_backup_item_free);
	array = json_node_get_array(configs);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *el = json_array_get_element(array, i);
		OscBackupItem *item;
		JsonObject *o;
		gboolean bad_key, bad_env, bad_cat;

		if (!JSON_NODE_HOLDS_OBJECT(el)) {
			g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
					    "Invalid backup format");
			return NULL;
		}
		o = json_node_get_object(el);
		item = g_new0(OscBackupItem, 1);
		item->key = osc_backup_member_string(o, "key", &bad_key);
		item->environment = osc_backup_member_string(o, "environment", &bad_env);
		item->category = osc_backup_member_string(o, "category", &bad_cat);
		if (json_object_has_member(o, "value"))
			item->value = json_node_copy(json_object_get_member(o, "value"));
		if (item->key == NULL || item->key[0] == '\0' || bad_key)
			item->error = g_strdup("key is required");
		else if (g_utf8_strlen(item->key, -1) > 255)
			item->error = g_strdup("key is longer than 255 characters");
		else if (item->environment == NULL || item->environment[0] == '\0' || bad_env)
			item->error = g_strdup("environment is required");
		else if (g_utf8_strlen(item->environment, -1) > 100)
			item->error = g_strdup("environment is longer than 100 characters");
		else if (bad_cat || (item->category != NULL && g_utf8_strlen(item->category, -1) > 100))
			item->error = g_strdup("category must be a string of at most 100 characters");
		else if (item->value == NULL)
			item->error = g_strdup("value is required");
		g_ptr_array_add(doc->items, item);
	}
	return g_steal_pointer(&doc);
}
