/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * Our own routing (server/lib/osc-http-server.c): an input is an HTTP request as sent,
 * head and body. libsoup parses the head and the URI as its server does; then the path
 * goes through our matcher, the query (form-decoded) and the headers (X-API-Key,
 * X-User-Key, X-Backup-Password, X-New-User-Key, If-Match, Content-Type) through the
 * per-route validation, and POST/PUT /configs bodies through the JSON body reading.
 */

#include <string.h>

#include "osc-fuzz-http.h"
#include "osc-fuzz.h"

/* what SoupServer parses request URIs with (SOUP_HTTP_URI_FLAGS) */
#define FUZZ_URI_FLAGS                                                                             \
	(G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_PATH | G_URI_FLAGS_ENCODED_QUERY |         \
	 G_URI_FLAGS_ENCODED_FRAGMENT | G_URI_FLAGS_SCHEME_NORMALIZE)

static GUri *base;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	base = g_uri_parse("http://127.0.0.1:8000/", FUZZ_URI_FLAGS, NULL);
	g_assert_nonnull(base);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const gchar *text = (const gchar *)data;
	const gchar *end = g_strstr_len(text, (gssize)size, "\r\n\r\n");
	g_autoptr(SoupMessageHeaders) headers = NULL;
	g_autofree gchar *method = NULL;
	g_autofree gchar *target = NULL;
	g_autoptr(GUri) uri = NULL;
	g_autoptr(GHashTable) query = NULL;
	SoupHTTPVersion version;
	gsize head_len;

	if (end == NULL || size > G_MAXINT)
		return 0;
	head_len = (gsize)(end - text) + 4;
	headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_REQUEST);
	if (soup_headers_parse_request(text, (int)head_len, headers, &method, &target, &version) !=
	    SOUP_STATUS_OK)
		return 0;
	uri = g_uri_parse_relative(base, target, FUZZ_URI_FLAGS, NULL);
	if (uri == NULL)
		return 0;
	if (g_uri_get_query(uri) != NULL)
		query = soup_form_decode(g_uri_get_query(uri));
	osc_fuzz_http_request(method, g_uri_get_path(uri), query, headers, text + head_len,
			      size - head_len);
	return 0;
}
