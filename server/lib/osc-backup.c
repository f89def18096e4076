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

void
osc_backup_item_free(OscBackupItem *item)
{
	if (item == NULL)
		return;
	g_free(item->key);
	g_free(item->environment);
	g_free(item->category);
	g_clear_pointer(&item->value, json_node_unref);
	g_free(item->error);
	g_free(item);
}

/* base64(@salt || base64url(@raw)) in steps: the token text is never whole in memory */
static gchar *
osc_backup_envelope(const guint8 *salt, const guint8 *raw, gsize raw_len)
{
	gsize token_len = (raw_len + 2) / 3 * 4;
	gsize cap = (OSC_BACKUP_SALT_LEN + token_len + 2) / 3 * 4 + 8;
	gchar chunk[4096 + 8];
	gint state = 0, save = 0, tstate = 0, tsave = 0;
	gchar *out = g_malloc(cap + 1);
	gsize n, c;

	n = g_base64_encode_step(salt, OSC_BACKUP_SALT_LEN, FALSE, out, &state, &save);
	/* 3,072 bytes of token become 4,096 characters, no partial quantum in between */
	for (gsize i = 0; i < raw_len + 3072; i += 3072) {
		if (i < raw_len)
			c = g_base64_encode_step(raw + i, MIN(3072, raw_len - i), FALSE, chunk,
						 &tstate, &tsave);
		else
			c = g_base64_encode_close(FALSE, chunk, &tstate, &tsave);
		/* the URL-safe alphabet of Fernet tokens */
		for (gsize k = 0; k < c; k++) {
			if (chunk[k] == '+')
				chunk[k] = '-';
			else if (chunk[k] == '/')
				chunk[k] = '_';
		}
		n += g_base64_encode_step((const guint8 *)chunk, c, FALSE, out + n, &state, &save);
	}
	n += g_base64_encode_close(FALSE, out + n, &state, &save);
	g_assert(n <= cap);
	out[n] = '\0';
	return out;
}

/**
 * osc_backup_encrypt_in_place:
 * @buf: (inout): OSC_FERNET_RAW_LEN(@plaintext_len) bytes, the document starting at
 *   OSC_FERNET_HEADER_LEN; encrypted in place, so its owner must still wipe it
 * @bsalt: (nullable): 32 bytes of salt, %NULL for random ones (tests pass the vector's)
 * @timestamp: the Fernet timestamp, or 0 for now
 * @iv: (nullable): the Fernet IV, %NULL for a random one
 *
 * One PBKDF2 (480,000 iterations, always: the original's importers expect it). The
 * document is encrypted where it lies and the envelope written from it in steps, so a
 * backup of tens of megabytes costs its own size plus the envelope's.
 *
 * Returns: `backup_data`, standard base64
 */
gchar *
osc_backup_encrypt_in_place(const gchar *password,
			    gsize password_len,
			    guint8 *buf,
			    gsize plaintext_len,
			    const guint8 *bsalt,
			    gint64 timestamp,
			    const guint8 *iv,
			    GError **error)
{
	guint8 salt[OSC_BACKUP_SALT_LEN];
	guint8 dk[OSC_DERIVED_KEY_LEN];
	gboolean ok;

	if (bsalt != NULL)
		memcpy(salt, bsalt, sizeof(salt));
	else if (!osc_crypto_random(salt, sizeof(salt), error))
		return NULL;
	if (!osc_crypto_pbkdf2((const guint8 *)password, password_len, salt, sizeof(salt),
			       OSC_PBKDF2_ITERATIONS, dk, error))
		return NULL;
	ok = osc_fernet_encrypt_in_place(dk, buf, plaintext_len,
					 timestamp != 0 ? timestamp
							: g_get_real_time() / G_USEC_PER_SEC,
					 iv, error);
	OPENSSL_cleanse(dk, sizeof(dk));
	if (!ok)
		return NULL;
	return osc_backup_envelope(salt, buf, OSC_FERNET_RAW_LEN(plaintext_len));
}

/**
 * osc_backup_encrypt:
 * @plaintext: the backup document
 *
 * osc_backup_encrypt_in_place() on a copy of @plaintext.
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
	gsize raw_len = OSC_FERNET_RAW_LEN(plaintext_len);
	g_autofree guint8 *buf = g_malloc(raw_len);
	gchar *out;

	memcpy(buf + OSC_FERNET_HEADER_LEN, plaintext, plaintext_len);
	out = osc_backup_encrypt_in_place(password, password_len, buf, plaintext_len, bsalt,
					  timestamp, iv, error);
	OPENSSL_cleanse(buf, raw_len);
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

static gboolean
osc_backup_base64_check(const gchar *text, GError **error)
{
	gsize data_chars = 0;
	gsize pad = 0;

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
			return FALSE;
		}
		data_chars++;
	}
	if (data_chars % 4 == 1) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "Invalid base64-encoded string: number of data characters (%" G_GSIZE_FORMAT
			    ") cannot be 1 more than a multiple of 4",
			    data_chars);
		return FALSE;
	}
	if (data_chars % 4 != 0 && data_chars % 4 + pad < 4) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Incorrect padding");
		return FALSE;
	}
	return TRUE;
}

/* decodes the alphabet characters of @text into @out, which may be @text itself: the
 * output never overtakes the input */
static gsize
osc_backup_base64_decode_into(const gchar *text, guint8 *out)
{
	gsize o = 0;
	guint32 acc = 0;
	guint bits = 0;

	for (const gchar *p = text; *p != '\0'; p++) {
		gint v = osc_base64_value(*p);

		if (v < 0)
			continue;
		acc = (acc << 6) | (guint32)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (guint8)(acc >> bits);
		}
	}
	return o;
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
	guint8 *out;

	if (!osc_backup_base64_check(text, error))
		return NULL;
	out = g_malloc(strlen(text) * 3 / 4 + 3);
	*out_len = osc_backup_base64_decode_into(text, out);
	return out;
}

/**
 * osc_backup_decrypt_in_place:
 * @backup_data: (inout): the `backup_data` text; overwritten by the decoded envelope and
 *   the plaintext, so its owner must wipe it (OPENSSL_cleanse) before freeing it
 * @plaintext: (out): where the document starts inside @backup_data
 *
 * One buffer for a backup of tens of megabytes instead of three. Errors carry the
 * original's details (§4.13 steps 1–3), all %OSC_ERROR_INVALID_ARGUMENT (HTTP 400): a
 * wrong password and a corrupted backup are indistinguishable by design.
 */
gboolean
osc_backup_decrypt_in_place(const gchar *password,
			    gsize password_len,
			    gchar *backup_data,
			    guint8 **plaintext,
			    gsize *plaintext_len,
			    GError **error)
{
	guint8 *blob = (guint8 *)backup_data;
	guint8 dk[OSC_DERIVED_KEY_LEN];
	g_autoptr(GError) error_local = NULL;
	gboolean ok;
	gsize len;

	if (!osc_backup_base64_check(backup_data, error))
		return FALSE;
	len = osc_backup_base64_decode_into(backup_data, blob);
	if (len < OSC_BACKUP_SALT_LEN) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Invalid backup data: too short");
		return FALSE;
	}
	if (!osc_crypto_pbkdf2((const guint8 *)password, password_len, blob, OSC_BACKUP_SALT_LEN,
			       OSC_PBKDF2_ITERATIONS, dk, error))
		return FALSE;
	ok = osc_fernet_decrypt_in_place(dk, (gchar *)blob + OSC_BACKUP_SALT_LEN,
					 len - OSC_BACKUP_SALT_LEN, 0, 0, plaintext, plaintext_len,
					 &error_local);
	OPENSSL_cleanse(dk, sizeof(dk));
	if (!ok) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "Decryption failed: invalid password or corrupted backup");
		return FALSE;
	}
	return TRUE;
}

/**
 * osc_backup_decrypt:
 *
 * osc_backup_decrypt_in_place() on a copy of @backup_data.
 */
GBytes *
osc_backup_decrypt(const gchar *password, gsize password_len, const gchar *backup_data, GError **error)
{
	gsize data_len = strlen(backup_data);
	g_autofree gchar *copy = g_memdup2(backup_data, data_len + 1);
	guint8 *plaintext = NULL;
	gsize len = 0;
	GBytes *plain = NULL;

	if (osc_backup_decrypt_in_place(password, password_len, copy, &plaintext, &len, error))
		plain = g_bytes_new(plaintext, len);
	OPENSSL_cleanse(copy, data_len);
	return plain;
}


static JsonNode *
osc_json_parse_span(const gchar *t, gsize start, gsize end)
{
	return osc_json_parse(t + start, end - start, NULL);
}

static gchar *
osc_backup_member_string(JsonObject *obj, const gchar *name, gboolean *bad)
{
	JsonNode *node = json_object_get_member(obj, name);
	const gchar *text;

	*bad = FALSE;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	/* a lone surrogate escape ("\ud83d") is valid JSON, but json-glib turns it into bytes
	 * that are not UTF-8: such a string is as unusable as a number (found by fuzz-backup) */
	text = osc_json_node_get_text(node);
	if (text == NULL || !g_utf8_validate(text, -1, NULL)) {
		*bad = TRUE;
		return NULL;
	}
	return g_strdup(text);
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

	return g_strdup(osc_json_node_get_text(node));
}

static gboolean
osc_backup_invalid(GError **error)
{
	g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT, "Invalid backup format");
	return FALSE;
}

struct _OscBackupReader {
	const gchar *text;
	gsize len;
	gsize pos;  /* the next element of the configurations array */
	gsize end;  /* its closing bracket */
	guint total;
	gchar *backup_id;
	gchar *backup_timestamp;
};

void
osc_backup_reader_free(OscBackupReader *reader)
{
	if (reader == NULL)
		return;
	g_free(reader->backup_id);
	g_free(reader->backup_timestamp);
	g_free(reader);
}

/* the configurations array: every element must be an object; counted, not parsed */
static gboolean
osc_backup_reader_scan(OscBackupReader *r, gsize i, GError **error)
{
	const gchar *t = r->text;
	gsize len = r->len;

	if (t[i] != '[')
		return osc_backup_invalid(error);
	r->total = 0;
	i = osc_json_skip_ws(t, len, i + 1);
	r->pos = i;
	while (i < len && t[i] != ']') {
		if (t[i] != '{')
			return osc_backup_invalid(error);
		i = osc_json_skip_ws(t, len, osc_json_skip_value(t, len, i));
		r->total++;
		if (i < len && t[i] == ',')
			i = osc_json_skip_ws(t, len, i + 1);
	}
	r->end = i;
	return TRUE;
}

/**
 * osc_backup_reader_new:
 * @plaintext: the decrypted document; borrowed, it must outlive the reader
 *
 * Accepts extra members and does not require `version`, `id` or the timestamps (§7.1).
 * Whole-document problems fail (400) here, before anything is imported; per-entry problems
 * are recorded in the items osc_backup_reader_next() returns, so the import can report
 * them in `failed_keys` while importing the rest. The document is validated strictly,
 * then read one configuration at a time: a tree of the whole of a 100,000-entry backup
 * would take hundreds of megabytes.
 */
OscBackupReader *
osc_backup_reader_new(const gchar *plaintext, gsize len, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(OscBackupReader) r = g_new0(OscBackupReader, 1);
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
	r->text = plaintext;
	r->len = len;
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
			if (!osc_backup_reader_scan(r, value_start, error))
				return NULL;
			have_configs = TRUE;
		} else if (g_strcmp0(name, "backup_id") == 0) {
			g_free(r->backup_id);
			r->backup_id = osc_backup_span_string(plaintext, value_start, value_end);
		} else if (g_strcmp0(name, "backup_timestamp") == 0) {
			g_free(r->backup_timestamp);
			r->backup_timestamp =
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
	return g_steal_pointer(&r);
}

const gchar *
osc_backup_reader_get_backup_id(OscBackupReader *reader)
{
	return reader->backup_id;
}

const gchar *
osc_backup_reader_get_backup_timestamp(OscBackupReader *reader)
{
	return reader->backup_timestamp;
}

/* the number of configurations in the document */
guint
osc_backup_reader_get_total(OscBackupReader *reader)
{
	return reader->total;
}

/**
 * osc_backup_reader_next:
 *
 * A configuration that osc_json_validate() accepts but json-glib cannot read (a lone
 * surrogate escape in a member name, say) makes the whole document invalid, as it did
 * when the document was read at once: the import fails and changes nothing.
 *
 * Returns: (transfer full) (nullable): the next configuration; %NULL after the last, or
 *   with @error set
 */
OscBackupItem *
osc_backup_reader_next(OscBackupReader *r, GError **error)
{
	const gchar *t = r->text;
	g_autoptr(JsonNode) el = NULL;
	OscBackupItem *item;
	gsize start = r->pos, end;

	if (r->pos >= r->end)
		return NULL;
	end = osc_json_skip_value(t, r->len, r->pos);
	el = osc_json_parse_span(t, r->pos, end);
	r->pos = osc_json_skip_ws(t, r->len, end);
	if (r->pos < r->end && t[r->pos] == ',')
		r->pos = osc_json_skip_ws(t, r->len, r->pos + 1);
	if (el == NULL || !JSON_NODE_HOLDS_OBJECT(el)) {
		r->pos = r->end;
		osc_backup_invalid(error);
		return NULL;
	}
	item = osc_backup_item_new(json_node_get_object(el));
	/* json-glib changed what a lone surrogate escape said: fail the entry, not the rest */
	if (item->error == NULL && !osc_json_check_surrogates(t + start, end - start, NULL))
		item->error = g_strdup("a string holds a lone UTF-16 surrogate escape, which cannot "
				       "be stored as text");
	return item;
}

/**
 * osc_backup_parse_document:
 *
 * The whole document at once (osc_backup_reader_new() for the rules).
 */
OscBackupDocument *
osc_backup_parse_document(const gchar *plaintext, gsize len, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(OscBackupReader) r = osc_backup_reader_new(plaintext, len, error);
	OscBackupDocument *doc;
	OscBackupItem *item;

	if (r == NULL)
		return NULL;
	doc = g_new0(OscBackupDocument, 1);
	doc->items = g_ptr_array_new_with_free_func((GDestroyNotify)osc_backup_item_free);
	doc->backup_id = g_steal_pointer(&r->backup_id);
	doc->backup_timestamp = g_steal_pointer(&r->backup_timestamp);
	while ((item = osc_backup_reader_next(r, &error_local)) != NULL)
		g_ptr_array_add(doc->items, item);
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		osc_backup_document_free(doc);
		return NULL;
	}
	return doc;
}
