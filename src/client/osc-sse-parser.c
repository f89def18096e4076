/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscClient"

#include "config.h"

#include "osc-sse-parser.h"

#include <string.h>

/* a line longer than this is dropped (and flagged): a server cannot make us buffer for ever */
#define OSC_SSE_DEFAULT_MAX_LINE (16 * 1024 * 1024)

struct _OscSseParser {
	OscSseEventFunc event_func;
	OscSseCommentFunc comment_func;
	gpointer user_data;

	GString *line;
	gboolean skip_lf;    /* the last chunk ended in CR: a leading LF belongs to it */
	gboolean discarding; /* the current line is over max_line */
	gboolean overflowed;
	gsize max_line;

	GString *data;
	gboolean has_data;
	gchar *event;
	gchar *last_event_id;
	gint64 retry;
};

OscSseParser *
osc_sse_parser_new(OscSseEventFunc event_func, OscSseCommentFunc comment_func, gpointer user_data)
{
	OscSseParser *self = g_new0(OscSseParser, 1);

	self->event_func = event_func;
	self->comment_func = comment_func;
	self->user_data = user_data;
	self->line = g_string_new(NULL);
	self->data = g_string_new(NULL);
	self->max_line = OSC_SSE_DEFAULT_MAX_LINE;
	self->retry = -1;
	return self;
}

void
osc_sse_parser_free(OscSseParser *self)
{
	if (self == NULL)
		return;
	g_string_free(self->line, TRUE);
	g_string_free(self->data, TRUE);
	g_free(self->event);
	g_free(self->last_event_id);
	g_free(self);
}

static void
osc_sse_parser_dispatch(OscSseParser *self)
{
	g_autofree gchar *event = g_steal_pointer(&self->event);

	if (!self->has_data) {
		/* no data: nothing to dispatch, and the event type does not carry over */
		g_string_truncate(self->data, 0);
		return;
	}
	/* the data buffer's last "\n" is not part of the data */
	if (self->data->len > 0 && self->data->str[self->data->len - 1] == '\n')
		g_string_truncate(self->data, self->data->len - 1);
	self->has_data = FALSE;
	if (self->event_func != NULL)
		self->event_func(event != NULL && event[0] != '\0' ? event : "message",
				 self->data->str, self->last_event_id, self->user_data);
	g_string_truncate(self->data, 0);
}

static void
osc_sse_parser_process_line(OscSseParser *self, const gchar *line, gsize len)
{
	const gchar *colon;
	g_autofree gchar *field = NULL;
	const gchar *value;
	gsize value_len;

	if (len == 0) {
		osc_sse_parser_dispatch(self);
		return;
	}
	if (line[0] == ':') {
		value = line + 1;
		if (*value == ' ')
			value++;
		if (self->comment_func != NULL)
			self->comment_func(value, self->user_data);
		return;
	}
	colon = memchr(line, ':', len);
	if (colon != NULL) {
		field = g_strndup(line, (gsize)(colon - line));
		value = colon + 1;
		if (*value == ' ')
			value++;
		value_len = len - (gsize)(value - line);
	} else {
		field = g_strndup(line, len);
		value = "";
		value_len = 0;
	}

	if (g_str_equal(field, "event")) {
		g_free(self->event);
		self->event = g_strndup(value, value_len);
	} else if (g_str_equal(field, "data")) {
		g_string_append_len(self->data, value, (gssize)value_len);
		g_string_append_c(self->data, '\n');
		self->has_data = TRUE;
	} else if (g_str_equal(field, "id")) {
		if (memchr(value, '\0', value_len) == NULL) {
			g_free(self->last_event_id);
			self->last_event_id = value_len > 0 ? g_strndup(value, value_len) : NULL;
		}
	} else if (g_str_equal(field, "retry")) {
		guint64 ms = 0;
		g_autofree gchar *text = g_strndup(value, value_len);
		if (g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT64, &ms, NULL))
			self->retry = (gint64)ms;
	}
	/* other fields are ignored */
}

static void
osc_sse_parser_end_line(OscSseParser *self)
{
	if (self->discarding) {
		self->discarding = FALSE;
	} else {
		osc_sse_parser_process_line(self, self->line->str, self->line->len);
	}
	g_string_truncate(self->line, 0);
}

/**
 * osc_sse_parser_feed:
 * @data: bytes from the stream, in any chunking
 *
 * Calls the event and comment functions for whatever @data completes.
 */
void
osc_sse_parser_feed(OscSseParser *self, const gchar *data, gsize len)
{
	gsize i = 0;

	g_return_if_fail(self != NULL);

	/* an empty chunk must not forget a CR that ended the one before */
	if (len == 0)
		return;
	if (self->skip_lf && data[0] == '\n')
		i = 1;
	self->skip_lf = FALSE;
	while (i < len) {
		gsize start = i;
		gsize n;

		while (i < len && data[i] != '\r' && data[i] != '\n')
			i++;
		n = i - start;
		if (!self->discarding) {
			if (self->line->len + n > self->max_line) {
				self->discarding = TRUE;
				self->overflowed = TRUE;
				g_string_truncate(self->line, 0);
			} else {
				g_string_append_len(self->line, data + start, (gssize)n);
			}
		}
		if (i == len)
			break;
		if (data[i] == '\r') {
			if (i + 1 < len) {
				if (data[i + 1] == '\n')
					i++;
			} else {
				self->skip_lf = TRUE;
			}
		}
		i++;
		osc_sse_parser_end_line(self);
	}
}

/* the stream ended: an incomplete event is discarded, as the specification says */
void
osc_sse_parser_finish(OscSseParser *self)
{
	g_return_if_fail(self != NULL);

	g_string_truncate(self->line, 0);
	g_string_truncate(self->data, 0);
	self->has_data = FALSE;
	self->discarding = FALSE;
	self->skip_lf = FALSE;
	g_clear_pointer(&self->event, g_free);
}

const gchar *
osc_sse_parser_get_last_event_id(OscSseParser *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->last_event_id;
}

/* the last `retry:` in milliseconds, or -1 */
gint64
osc_sse_parser_get_retry(OscSseParser *self)
{
	g_return_val_if_fail(self != NULL, -1);
	return self->retry;
}

void
osc_sse_parser_set_max_line(OscSseParser *self, gsize max_line)
{
	g_return_if_fail(self != NULL);
	self->max_line = max_line;
}

/* whether some line was dropped for being over the limit */
gboolean
osc_sse_parser_get_overflowed(OscSseParser *self)
{
	g_return_val_if_fail(self != NULL, FALSE);
	return self->overflowed;
}
