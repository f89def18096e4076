/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib.h>

#include "osc-sse-parser.h"

/* what the parser reported, as "event|id|data" and "#comment" lines */
typedef struct {
	GPtrArray *seen;
	OscSseParser *parser;
} Fixture;

static void
event_cb(const gchar *event, const gchar *data, const gchar *id, gpointer user_data)
{
	Fixture *f = user_data;
	g_ptr_array_add(f->seen, g_strdup_printf("%s|%s|%s", event, id != NULL ? id : "-", data));
}

static void
comment_cb(const gchar *comment, gpointer user_data)
{
	Fixture *f = user_data;
	g_ptr_array_add(f->seen, g_strdup_printf("#%s", comment));
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->seen = g_ptr_array_new_with_free_func(g_free);
	f->parser = osc_sse_parser_new(event_cb, comment_cb, f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	osc_sse_parser_free(f->parser);
	g_ptr_array_unref(f->seen);
}

static void
feed(Fixture *f, const gchar *text)
{
	osc_sse_parser_feed(f->parser, text, strlen(text));
}

static void
assert_seen(Fixture *f, const gchar *const *expected)
{
	guint n = g_strv_length((gchar **)expected);

	for (guint i = 0; i < MIN(n, f->seen->len); i++)
		g_assert_cmpstr(g_ptr_array_index(f->seen, i), ==, expected[i]);
	g_assert_cmpuint(f->seen->len, ==, n);
}

/* the server's own framing (API.md §5.2, D-4): CRLF, event before id and data */
static void
test_crlf(Fixture *f, gconstpointer data)
{
	const gchar *const expected[] = {"connected|7|{\"subscription_id\":\"s\"}",
					 "#keep-alive 2026-01-01T00:00:00.000000Z",
					 "created|8|{\"key\":\"a\"}", NULL};

	feed(f, "event: connected\r\nid: 7\r\ndata: {\"subscription_id\":\"s\"}\r\n\r\n"
		": keep-alive 2026-01-01T00:00:00.000000Z\r\n\r\n"
		"event: created\r\nid: 8\r\ndata: {\"key\":\"a\"}\r\n\r\n");
	assert_seen(f, expected);
	g_assert_cmpstr(osc_sse_parser_get_last_event_id(f->parser), ==, "8");
}

static void
test_lf_and_cr(Fixture *f, gconstpointer data)
{
	const gchar *const expected[] = {"a|-|1", "b|-|2", "c|-|3", NULL};

	feed(f, "event: a\ndata: 1\n\n");
	feed(f, "event: b\rdata: 2\r\r");
	feed(f, "event: c\r\ndata: 3\n\r\n");
	assert_seen(f, expected);
}

/* every split point of a frame gives the same result, CR|LF across chunks (and an empty
 * chunk between them) included */
static void
test_any_chunking(Fixture *f, gconstpointer data)
{
	const gchar *frame = "event: updated\r\nid: 42\r\ndata: {\"v\":1}\r\n\r\n: ka\r\n\r\n"
			     "data: x\r\ndata: y\r\n\r\n";
	gsize len = strlen(frame);

	for (gsize cut = 0; cut <= len; cut++) {
		g_autoptr(OscSseParser) p = NULL;
		const gchar *const expected[] = {"updated|42|{\"v\":1}", "#ka", "message|42|x\ny",
						 NULL};

		g_ptr_array_set_size(f->seen, 0);
		p = osc_sse_parser_new(event_cb, comment_cb, f);
		osc_sse_parser_feed(p, frame, cut);
		/* an empty chunk between CR and LF must not turn them into two line ends */
		osc_sse_parser_feed(p, frame + cut, 0);
		osc_sse_parser_feed(p, frame + cut, len - cut);
		assert_seen(f, expected);
	}
	/* and byte by byte */
	g_ptr_array_set_size(f->seen, 0);
	for (gsize i = 0; i < len; i++)
		osc_sse_parser_feed(f->parser, frame + i, 1);
	g_assert_cmpuint(f->seen->len, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(f->seen, 2), ==, "message|42|x\ny");
}

static void
test_multiline_data(Fixture *f, gconstpointer data)
{
	const gchar *const expected[] = {"message|-|first\nsecond\n\nfourth", NULL};

	feed(f, "data: first\ndata:second\ndata\ndata: fourth\n\n");
	assert_seen(f, expected);
}

static void
test_comments(Fixture *f, gconstpointer data)
{
	const gchar *const expected[] = {"#ping", "#", "#:x", "e|-|d", NULL};

	/* comments may sit inside an event without ending it */
	feed(f, ": ping\n:\n::x\nevent: e\n: in between\ndata: d\n\n");
	g_ptr_array_remove_index(f->seen, 3); /* "#in between" */
	assert_seen(f, expected);
}

static void
test_id_persists(Fixture *f, gconstpointer data)
{
	const gchar *const expected[] = {"a|5|1", "b|5|2", "c|-|3", NULL};

	feed(f, "id: 5\nevent: a\ndata: 1\n\nevent: b\ndata: 2\n\nid\nevent: c\ndata: 3\n\n");
	assert_seen(f, expected);
	g_assert_null(osc_sse_parser_get_last_event_id(f->parser));
}

static void
test_no_data(Fixture *f, gconstpointer data)
{
	const gchar *const expected[] = {"message|-|x", NULL};

	/* an event without data is not dispatched, and its type does not carry over */
	feed(f, "event: lonely\n\ndata: x\n\n\n\n");
	assert_seen(f, expected);
}

static void
test_fields(Fixture *f, gconstpointer data)
{
	const gchar *const expected[] = {"e| 9|  two spaces", NULL};

	feed(f, "retry: 1500\nunknown: field\nevent:e\nid:  9\ndata:   two spaces\n\n");
	assert_seen(f, expected);
	g_assert_cmpint(osc_sse_parser_get_retry(f->parser), ==, 1500);
	feed(f, "retry: soon\n");
	g_assert_cmpint(osc_sse_parser_get_retry(f->parser), ==, 1500);
}

static void
test_finish_discards(Fixture *f, gconstpointer data)
{
	const gchar *const expected[] = {"message|-|next", NULL};

	/* a stream that ends mid-event loses that event, not the next connection's first */
	feed(f, "event: half\ndata: partial");
	osc_sse_parser_finish(f->parser);
	feed(f, "data: next\n\n");
	assert_seen(f, expected);
}

static void
test_long_line(Fixture *f, gconstpointer data)
{
	g_autofree gchar *big = g_strnfill(100, 'x');
	const gchar *const expected[] = {"message|-|small", NULL};

	osc_sse_parser_set_max_line(f->parser, 64);
	feed(f, "data: ");
	feed(f, big);
	feed(f, "\n\ndata: small\n\n");
	assert_seen(f, expected);
	g_assert_true(osc_sse_parser_get_overflowed(f->parser));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/osc/client/sse-parser/crlf", test_crlf);
	ADD("/osc/client/sse-parser/lf-and-cr", test_lf_and_cr);
	ADD("/osc/client/sse-parser/any-chunking", test_any_chunking);
	ADD("/osc/client/sse-parser/multiline-data", test_multiline_data);
	ADD("/osc/client/sse-parser/comments", test_comments);
	ADD("/osc/client/sse-parser/id-persists", test_id_persists);
	ADD("/osc/client/sse-parser/no-data", test_no_data);
	ADD("/osc/client/sse-parser/fields", test_fields);
	ADD("/osc/client/sse-parser/finish-discards", test_finish_discards);
	ADD("/osc/client/sse-parser/long-line", test_long_line);
#undef ADD
	return g_test_run();
}
