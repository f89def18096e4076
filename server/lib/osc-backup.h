/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

#include "osc-crypto.h"

G_BEGIN_DECLS

/* the original writes this, whatever its own version (API.md §7.1) */
#define OSC_BACKUP_FORMAT_VERSION "2.2.0"

/**
 * OscBackupItem:
 * @key: (nullable): the entry key, %NULL when the document's member is missing or not a string
 * @environment: (nullable): likewise
 * @category: (nullable): the category, %NULL for null or absent
 * @value: (nullable): the value as in the document
 * @error: (nullable): why this item cannot be imported, if that is known from the document
 */
typedef struct {
	gchar *key;
	gchar *environment;
	gchar *category;
	JsonNode *value;
	gchar *error;
} OscBackupItem;

typedef struct {
	gchar *backup_id;
	gchar *backup_timestamp;
	GPtrArray *items; /* OscBackupItem */
} OscBackupDocument;

void
osc_backup_item_free(OscBackupItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscBackupItem, osc_backup_item_free)
void
osc_backup_document_free(OscBackupDocument *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscBackupDocument, osc_backup_document_free)

gchar *
osc_backup_encrypt_in_place(const gchar *password,
			    gsize password_len,
			    guint8 *buf,
			    gsize plaintext_len,
			    const guint8 *bsalt,
			    gint64 timestamp,
			    const guint8 *iv,
			    GError **error);
gchar *
osc_backup_encrypt(const gchar *password,
		   gsize password_len,
		   const gchar *plaintext,
		   gsize plaintext_len,
		   const guint8 *bsalt,
		   gint64 timestamp,
		   const guint8 *iv,
		   GError **error);
gboolean
osc_backup_decrypt_in_place(const gchar *password,
			    gsize password_len,
			    gchar *backup_data,
			    guint8 **plaintext,
			    gsize *plaintext_len,
			    GError **error);
GBytes *
osc_backup_decrypt(const gchar *password,
		   gsize password_len,
		   const gchar *backup_data,
		   GError **error);
guint8 *
osc_backup_base64_decode(const gchar *text, gsize *out_len, GError **error);
OscBackupDocument *
osc_backup_parse_document(const gchar *plaintext, gsize len, GError **error);

/* a backup document read one configuration at a time */
typedef struct _OscBackupReader OscBackupReader;
OscBackupReader *
osc_backup_reader_new(const gchar *plaintext, gsize len, GError **error);
const gchar *
osc_backup_reader_get_backup_id(OscBackupReader *reader);
const gchar *
osc_backup_reader_get_backup_timestamp(OscBackupReader *reader);
guint
osc_backup_reader_get_total(OscBackupReader *reader);
OscBackupItem *
osc_backup_reader_next(OscBackupReader *reader, GError **error);
void
osc_backup_reader_free(OscBackupReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscBackupReader, osc_backup_reader_free)

G_END_DECLS
