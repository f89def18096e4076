/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * Backups (osc-backup.c): the envelope, base64(salt ‖ Fernet token), and the plaintext
 * document. The password's PBKDF2 (480,000 iterations) is left out: every envelope is
 * opened with one fixed derived key, so the fuzzer spends its time in the parsers. Each
 * input goes through both paths: as an envelope (decoded, decrypted, its plaintext parsed)
 * and as a plaintext document.
 */

#include <string.h>

#include "osc-backup.h"
#include "osc-fuzz.h"
#include "osc-value.h"

/* tests/fuzz/corpus/backup/ envelopes are encrypted with these 32 bytes as derived key */
static guint8 key[OSC_DERIVED_KEY_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (guint i = 0; i < sizeof(key); i++)
		key[i] = (guint8)i;
	return 0;
}

static void
parse_document(const gchar *text, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscBackupDocument) doc = osc_backup_parse_document(text, len, &error);

	g_assert_true((doc == NULL) == (error != NULL));
	if (doc == NULL)
		return;
	/* what the import reads of every item */
	for (guint i = 0; i < doc->items->len; i++) {
		OscBackupItem *item = g_ptr_array_index(doc->items, i);
		g_autoptr(GError) value_error = NULL;
		g_autoptr(JsonNode) value = NULL;

		if (item->error != NULL)
			continue;
		/* an item without an error is complete and valid UTF-8 */
		g_assert_true(item->key != NULL && item->key[0] != '\0');
		g_assert_true(item->environment != NULL && item->environment[0] != '\0');
		g_assert_nonnull(item->value);
		g_assert_true(g_utf8_validate(item->key, -1, NULL));
		g_assert_true(g_utf8_validate(item->environment, -1, NULL));
		g_assert_true(item->category == NULL || g_utf8_validate(item->category, -1, NULL));
		value = osc_value_normalize(item->value, &value_error);
		g_assert_true((value == NULL) == (value_error != NULL));
	}
}

static void
open_envelope(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	g_autofree guint8 *blob = NULL;
	g_autoptr(GBytes) plain = NULL;
	gsize len = 0;

	blob = osc_backup_base64_decode(text, &len, &error);
	g_assert_true((blob == NULL) == (error != NULL));
	if (blob == NULL || len < OSC_BACKUP_SALT_LEN)
		return;
	/* what osc_backup_decrypt() does after the key derivation */
	plain = osc_fernet_decrypt(key, (const gchar *)blob + OSC_BACKUP_SALT_LEN,
				   len - OSC_BACKUP_SALT_LEN, 0, 0, &error);
	if (plain != NULL) {
		gsize plain_len = 0;
		const gchar *p = g_bytes_get_data(plain, &plain_len);
		/* an exact-size copy, so that a read past the end is caught */
		g_autofree gchar *copy = g_memdup2(p, plain_len);
		parse_document(copy, plain_len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* backup_data reaches the server as a NUL-terminated string */
	g_autofree gchar *text = g_strndup((const gchar *)data, size);

	open_envelope(text);
	parse_document((const gchar *)data, size);
	return 0;
}
