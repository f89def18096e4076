/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * The client's text/event-stream parser (src/client/osc-sse-parser.c). The first byte of
 * an input seeds how the rest, the stream, is cut into chunks (empty ones included); the
 * same stream is also fed whole and one byte at a time. Where the chunks end must not
 * matter: the three parsers must report the same events, comments, last event id, retry
 * and overflow.
 */

#include <string.h>

#include "osc-fuzz.h"
#include "osc-sse-parser.h"

/* small, so that the fuzzer reaches the over-long-line path */
#define FUZZ_MAX_LINE 256

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void
on_event(const gchar *event, const gchar *data, const gchar *id, gpointer user_data)
{
	GString *log = user_data;

	g_string_append_printf(log, "event %s\ndata %s\nid %s\n\n", event, data,
			       id != NULL ? id : "(none)");
}

static void
on_comment(const gchar *comment, gpointer user_data)
{
	g_string_append_printf(user_data, "comment %s\n", comment);
}

typedef struct {
	OscSseParser *parser;
	GString *log;
} Run;

static void
run_init(Run *run)
{
	run->log = g_string_new(NULL);
	run->parser = osc_sse_parser_new(on_event, on_comment, run->log);
	osc_sse_parser_set_max_line(run->parser, FUZZ_MAX_LINE);
}

static void
run_finish(Run *run)
{
	const gchar *id = osc_sse_parser_get_last_event_id(run->parser);

	osc_sse_parser_finish(run->parser);
	g_string_append_printf(run->log, "last id %s\nretry %" G_GINT64_FORMAT "\noverflow %d\n",
			       id != NULL ? id : "(none)", osc_sse_parser_get_retry(run->parser),
			       osc_sse_parser_get_overflowed(run->parser));
	/* a finished parser starts afresh: no event may come out of the old stream's rest */
	osc_sse_parser_feed(run->parser, "\n", 1);
	osc_sse_parser_free(run->parser);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const gchar *stream;
	gsize len;
	guint32 seed;
	Run whole, chunked, bytes;

	if (size == 0)
		return 0;
	seed = data[0];
	stream = (const gchar *)data + 1;
	len = size - 1;

	run_init(&whole);
	run_init(&chunked);
	run_init(&bytes);
	osc_sse_parser_feed(whole.parser, stream, len);
	for (gsize i = 0; i < len;) {
		gsize n;

		seed = seed * 1103515245u + 12345u;
		n = MIN((seed >> 16) % 9, len - i); /* 0 to 8 bytes */
		osc_sse_parser_feed(chunked.parser, stream + i, n);
		i += n;
	}
	for (gsize i = 0; i < len; i++)
		osc_sse_parser_feed(bytes.parser, stream + i, 1);
	run_finish(&whole);
	run_finish(&chunked);
	run_finish(&bytes);

	g_assert_cmpstr(whole.log->str, ==, chunked.log->str);
	g_assert_cmpstr(whole.log->str, ==, bytes.log->str);
	g_string_free(whole.log, TRUE);
	g_string_free(chunked.log, TRUE);
	g_string_free(bytes.log, TRUE);
	return 0;
}
