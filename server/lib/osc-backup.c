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
	{
		/* base64(salt || token) in steps: no third copy of a backup that can be tens
		 * of megabytes */
		gsize token_len = strlen(token);
		gsize cap = (sizeof(salt) + token_len) / 3 * 4 + 8;
		gint state = 0, save = 0;
		gsize n;

		out = g_malloc(cap + 1);
		n = g_base64_encode_step(salt, sizeof(salt), FALSE, out, &state, &save);
		n += g_base64_encode_step((const guint8 *)token, token_len, FALSE, out + n, &state,
					  &save);
		n += g_base64_encode_close(FALSE, out + n, &state, &save);
		out[n] = '\0';
		OPENSSL_cleanse(token, token_len);
	}
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


/* spans of strictly valid JSON (osc_json_validate() ran first): no error paths needed */
static gsize
osc_json_skip_ws(const gchar *t, gsize len, gsize i)
{
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

static gsize
osc_json_skip_string(const gchar *t, gsize len, gsize i)
{
	for (i++; i < len && t[i] != '"'; i++) {
		if (t[i] == '\\')
			i++;
	}
	return i + 1;
}

static gsize
osc_json_skip_value(const gchar *t, gsize len, gsize i)
{
	gint depth = 0;

	if (t[i] == '"')
		return osc_json_skip_string(t, len, i);
	if (t[i] != '{' && t[i] != '[') {
		while (i < len && strchr(",}] \t\r\n", t[i]) == NULL)
			i++;
		return i;
	}
	while (i < len) {
		if (t[i] == '"') {
			i = osc_json_skip_string(t, len, i);
			continue;
		}
		if (t[i] == '{' || t[i] == '[')
			depth++;
		else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return len;
}

static JsonNode *
osc_json_parse_span(const gchar *t, gsize start, gsize end)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();

	if (!json_parser_load_from_data(parser, t + start, (gssize)(end - start), NULL))
		return NULL;
	return json_node_ref(json_parser_get_root(parser));
}

static gchar *
osc_backup_member_string(JsonObject *obj, const gchar *name, gboolean *bad)
{
	JsonNode *node = json_object_get_member(obj, name);

	*bad = FALSE;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	/* a lone surrogate escape ("\ud83d") is valid JSON, but json-glib turns it into bytes
	 * that are not UTF-8: such a string is as unusable as a number (found by fuzz-backup) */
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING ||
	    !g_utf8_validate(json_node_get_string(node), -1, NULL)) {
		*bad = TRUE;
		return NULL;
	}
	return g_strdup(json_node_get_string(node));
}

static OscBackupItem *
osc_backup_item_new(JsonObject *o)
{
	OscBackupItem *item = g_new0(OscBackupItem, 1);
	gboolean bad_key, bad_env, bad_cat;

	item->key = osc_backup_member_string(o, "key", &bad_key);
	item->environment = osc_backup_member_string(o, "environment", &bad_env);
	item->category = osc_backup_member_string(o, "category", &bad_cat);
	/* a copy: the element's tree is freed before the next element is parsed */
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
	return item;
}

static gchar *
osc_backup_span_string(const gchar *t, gsize start, gsize end)
{
	g_autoptr(JsonNode) node = osc_json_parse_span(t, start, end);

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return g_strdup(json_node_get_string(node));
}

static gboolean
osc_backup_invalid(GError **error)
{
	g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT, "Invalid backup format");
	return FALSE;
}

/* the configurations array, one element at a time */
static gboolean
osc_backup_parse_configurations(OscBackupDocument *doc,
				const gchar *t,
				gsize len,
				gsize i,
				GError **error)
{
	if (t[i] != '[')
		return osc_backup_invalid(error);
	i = osc_json_skip_ws(t, len, i + 1);
	while (i < len && t[i] != ']') {
		gsize end = osc_json_skip_value(t, len, i);
		g_autoptr(JsonNode) el = NULL;

		if (t[i] != '{')
			return osc_backup_invalid(error);
		el = osc_json_parse_span(t, i, end);
		if (el == NULL || !JSON_NODE_HOLDS_OBJECT(el))
			return osc_backup_invalid(error);
		g_ptr_array_add(doc->items, osc_backup_item_new(json_node_get_object(el)));
		i = osc_json_skip_ws(t, len, end);
		if (i < len && t[i] == ',')
			i = osc_json_skip_ws(t, len, i + 1);
	}
	return TRUE;
}

/**
 * osc_backup_parse_document:
 *
 * Accepts extra members and does not require `version`, `id` or the timestamps (§7.1).
 * Whole-document problems fail (400); per-entry problems are recorded in the item, so the
 * import can report them in `failed_keys` while importing the rest. The document is
 * validated strictly, then read one configuration at a time: a tree of the whole of a
 * 100,000-entry backup would take hundreds of megabytes.
 */
OscBackupDocument *
osc_backup_parse_document(const gchar *plaintext, gsize len, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(OscBackupDocument) doc = g_new0(OscBackupDocument, 1);
	gboolean have_configs = FALSE;
	gsize i;

	if (!g_utf8_validate(plaintext, (gssize)len, NULL)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Invalid backup format: not UTF-8 text");
		return NULL;
	}
	if (!osc_json_validate(plaintext, (gssize)len, &error_local)) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "Invalid backup format: %s", error_local->message);
		return NULL;
	}
	doc->items = g_ptr_array_new_with_free_func((GDestroyNotify)osc_backup_item_free);
	i = osc_json_skip_ws(plaintext, len, 0);
	if (i >= len || plaintext[i] != '{') {
		osc_backup_invalid(error);
		return NULL;
	}
	i = osc_json_skip_ws(plaintext, len, i + 1);
	while (i < len && plaintext[i] != '}') {
		gsize key_end = osc_json_skip_string(plaintext, len, i);
		g_autofree gchar *name = osc_backup_span_string(plaintext, i, key_end);
		gsize value_start = osc_json_skip_ws(plaintext, len,
						     osc_json_skip_ws(plaintext, len, key_end) + 1);
		gsize value_end = osc_json_skip_value(plaintext, len, value_start);

		if (g_strcmp0(name, "configurations") == 0) {
			/* a repeated member: the last one wins, as json.loads does */
			g_ptr_array_set_size(doc->items, 0);
			if (!osc_backup_parse_configurations(doc, plaintext, len, value_start, error))
				return NULL;
			have_configs = TRUE;
		} else if (g_strcmp0(name, "backup_id") == 0) {
			g_free(doc->backup_id);
			doc->backup_id = osc_backup_span_string(plaintext, value_start, value_end);
		} else if (g_strcmp0(name, "backup_timestamp") == 0) {
			g_free(doc->backup_timestamp);
			doc->backup_timestamp =
			    osc_backup_span_string(plaintext, value_start, value_end);
		}
		i = osc_json_skip_ws(plaintext, len, value_end);
		if (i < len && plaintext[i] == ',')
			i = osc_json_skip_ws(plaintext, len, i + 1);
	}
	/* the original answers 500 for a non-list; a malformed document is the client's
	 * problem, so 400 (API.md §4.13 RECOMMENDED) */
	if (!have_configs) {
		osc_backup_invalid(error);
		return NULL;
	}
	return g_steal_pointer(&doc);
}
