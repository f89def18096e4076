/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * An incremental parser for the text/event-stream format (the WHATWG "server-sent events"
 * rules): lines end in CRLF, LF or CR, also when a chunk boundary falls between CR and LF;
 * `:` starts a comment; `field: value` with one optional space after the colon; `data`
 * lines accumulate, joined with "\n"; a blank line dispatches the event when it has data;
 * `id` (without NUL) sets the last event id, which persists across events; `retry` sets the
 * reconnection time. Not a GObject: OscEventStream owns one per connection.
 */
typedef struct _OscSseParser OscSseParser;

/* @event: the event type ("message" when the stream named none); @id: the last event id
 * in force for this event, or NULL */
typedef void (*OscSseEventFunc)(const gchar *event,
				const gchar *data,
				const gchar *id,
				gpointer user_data);
/* @comment: the text after the colon, leading space removed */
typedef void (*OscSseCommentFunc)(const gchar *comment, gpointer user_data);

OscSseParser *
osc_sse_parser_new(OscSseEventFunc event_func, OscSseCommentFunc comment_func, gpointer user_data);
void
osc_sse_parser_free(OscSseParser *self);
void
osc_sse_parser_feed(OscSseParser *self, const gchar *data, gsize len);
void
osc_sse_parser_finish(OscSseParser *self);
const gchar *
osc_sse_parser_get_last_event_id(OscSseParser *self);
gint64
osc_sse_parser_get_retry(OscSseParser *self);
void
osc_sse_parser_set_max_line(OscSseParser *self, gsize max_line);
gboolean
osc_sse_parser_get_overflowed(OscSseParser *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscSseParser, osc_sse_parser_free)

G_END_DECLS
