/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * JSON as the server takes it (server/common/osc-value.c): the strict RFC 8259 check, the
 * compaction of stored values (idempotent: compacting compact text changes nothing),
 * parsing and normalising a value, and the input as the body of POST /configs and
 * PUT /configs/{key} through the HTTP layer's body reading and model validation.
 */

#include <string.h>

#include "osc-fuzz-http.h"
#include "osc-fuzz.h"
#include "osc-value.h"

static SoupMessageHeaders *headers;
static GHashTable *query;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_REQUEST);
	soup_message_headers_append(headers, "Content-Type", "application/json");
	soup_message_headers_append(headers, "X-API-Key", OSC_FUZZ_API_KEY);
	soup_message_headers_append(headers, "X-User-Key", "fuzz-user-key");
	query = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(query, (gpointer) "environment", (gpointer) "production");
	return 0;
}

static void
check_compact(const gchar *text, gsize size)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0, len2 = 0;
	g_autofree gchar *compact = osc_json_compact(text, (gssize)size, &len, &error);
	g_autofree gchar *again = NULL;

	g_assert_true((compact == NULL) == (error != NULL));
	if (compact == NULL)
		return;
	g_assert_cmpuint(strlen(compact), ==, len);
	again = osc_json_compact(compact, (gssize)len, &len2, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(len, ==, len2);
	g_assert_cmpmem(compact, len, again, len2);
}

static void
check_value(const gchar *text, gsize size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = osc_value_parse(text, (gssize)size, &error);
	g_autoptr(JsonNode) normalized = NULL;
	g_autofree gchar *compact = NULL;
	g_autofree gchar *python = NULL;
	gsize len = 0;

	g_assert_true((node == NULL) == (error != NULL));
	if (node == NULL)
		return;
	compact = osc_json_to_string(node, &len);
	g_assert_cmpuint(strlen(compact), ==, len);
	normalized = osc_value_normalize(node, &error);
	g_assert_true((normalized == NULL) == (error != NULL));
	if (normalized == NULL)
		return;
	/* what the store encrypts: it must read back as JSON */
	python = osc_value_to_python_json(normalized, &len);
	g_assert_true(osc_json_validate(python, (gssize)len, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const gchar *text = (const gchar *)data;
	g_autoptr(GError) error = NULL;
	gboolean valid = osc_json_validate(text, (gssize)size, &error);

	g_assert_true(valid == (error == NULL));
	check_compact(text, size);
	check_value(text, size);
	osc_fuzz_http_request("POST", "/configs", NULL, headers, text, size);
	osc_fuzz_http_request("PUT", "/configs/fuzz", query, headers, text, size);
	return 0;
}
