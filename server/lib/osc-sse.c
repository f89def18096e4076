/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscSse"

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "osc-crypto.h"
#include "osc-sse.h"
#include "osc-value.h"

/*
 * One registry for every connection (the original kept one per worker process, D35).
 *
 * libsoup answers the request and writes the response head (status, the headers of
 * §5.1, CORS, Date, Server); as soon as it has, the hub takes the connection over
 * (soup_server_message_steal_connection()) and writes the chunked body itself: libsoup's
 * per-message machinery (I/O state, buffers, an unpause source per chunk) cost ~21 KB and
 * ~25 µs per delivery, which did not scale to 10,000 subscribers. Every event is formatted
 * and chunk-framed once and the one refcounted GBytes is queued to every matching
 * subscriber and written with non-blocking writes; one epoll set watches all subscriber
 * sockets, for a hang-up always and for writability while a subscriber has a backlog.
 *
 * Each subscriber's queue is its frames not yet completely written. Writers never wait:
 * a full queue drops events and, once it drains, the subscriber gets a `reset` so it
 * knows to reload (D37).
 */

typedef struct {
	guint64 id;
	gchar *kind;
	OscEntryRow *row;
	gchar *timestamp;
} OscSseLogEntry;

typedef struct {
	OscSseHub *hub;
	SoupServerMessage *msg; /* until libsoup has written the head */
	GIOStream *stream;	/* then the connection, ours */
	GPollableOutputStream *out;
	gchar *id;
	gchar *f_key; /* NULL: absent; "": given empty (matches all) */
	gchar *f_env;
	gchar *f_cat;
	OscDerivedKey *dk;
	gint64 created_mono;
	gchar *created_at;
	GQueue pending; /* GBytes*, chunk-framed, oldest first */
	gsize offset;	/* of the head of pending already written */
	gboolean overflowed : 1;
	gboolean closing : 1; /* no more frames: the stream is ending */
	gboolean dead : 1;    /* a write failed: removed from the registry when idle */
	gboolean want_out : 1;
	gboolean dirty : 1; /* in the hub's dirty list, at dirty_pos */
	guint dirty_pos;
	gulong finished_id;
	gulong wrote_headers_id;
	guint64 serial; /* the epoll registration's tag */
	gint fd;	  /* registered with the hub's epoll set, or -1 */
} OscSseSub;

struct _OscSseHub {
	GObject parent_instance;

	gchar *node_id;
	guint queue_size;
	guint keepalive_interval;
	guint log_size;
	guint keepalive_id;
	/* one epoll set watches every subscriber socket: a GSource per subscriber would make
	 * each main-loop iteration cost O(subscribers) */
	gint epfd;
	guint epoll_id;
	guint reap_id;
	GPtrArray *dirty; /* OscSseSub* with frames to write at the end of this iteration */
	guint flush_id;
	guint64 next_serial;
	GHashTable *by_serial; /* serial → OscSseSub* */

	GHashTable *subs;	 /* OscSseSub* set, owns */
	GHashTable *by_key_index; /* key filter → GPtrArray of OscSseSub* */
	GPtrArray *any_key;	 /* subs without a key filter */
	GQueue log;		 /* OscSseLogEntry*, oldest first */
	guint64 seq;

	/* statistics of §4.15 */
	guint64 total_created;
	guint64 closed;
	GHashTable *by_key; /* filter value → count of open subs (entries stay at 0) */
	GHashTable *by_environment;
	GHashTable *by_category;
	gchar *last_created_at;
	guint64 total_sent;
	GHashTable *by_type; /* event name → deliveries */
	guint64 dropped;
	gchar *last_sent_at;
	guint64 keepalive_sent;
	guint64 disconnections;
	gdouble closed_duration_total;
	guint max_queue_reached;

	OscMetrics *metrics;
	OscMetric *m_active;
	OscMetric *m_subs_total;
	OscMetric *m_subs_closed;
	OscMetric *m_events_sent;
	OscMetric *m_events_dropped;
	OscMetric *m_keepalive;
	OscMetric *m_disconnections;
	OscMetric *m_duration;
	OscMetric *m_resets;
};

G_DEFINE_FINAL_TYPE(OscSseHub, osc_sse_hub, G_TYPE_OBJECT)

enum { PROP_0, PROP_ACTIVE, N_PROPS };
static GParamSpec *hub_props[N_PROPS];

/* the end of a chunked body */
static const gchar osc_sse_last_chunk[] = "0\r\n\r\n";

static void
osc_sse_log_entry_free(OscSseLogEntry *e)
{
	g_free(e->kind);
	osc_entry_row_free(e->row);
	g_free(e->timestamp);
	g_free(e);
}

static void
osc_sse_sub_unwatch(OscSseSub *sub)
{
	if (sub->fd >= 0) {
		/* before the socket is closed: a closed fd may be reused by another */
		epoll_ctl(sub->hub->epfd, EPOLL_CTL_DEL, sub->fd, NULL);
		sub->fd = -1;
	}
	g_hash_table_remove(sub->hub->by_serial, &sub->serial);
}

static void
osc_sse_stream_closed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	/* the peer may be gone already: nothing to report */
	g_io_stream_close_finish(G_IO_STREAM(source), result, NULL);
}

static void
osc_sse_sub_free(OscSseSub *sub)
{
	if (sub->dirty)
		g_ptr_array_index(sub->hub->dirty, sub->dirty_pos) = NULL;
	osc_sse_sub_unwatch(sub);
	if (sub->msg != NULL) {
		g_clear_signal_handler(&sub->finished_id, sub->msg);
		g_clear_signal_handler(&sub->wrote_headers_id, sub->msg);
		g_clear_object(&sub->msg);
	}
	if (sub->stream != NULL) {
		/* asynchronously: closing TLS writes a close_notify, which must not block */
		g_io_stream_close_async(sub->stream, G_PRIORITY_DEFAULT, NULL,
					osc_sse_stream_closed_cb, NULL);
		g_clear_object(&sub->stream);
	}
	g_queue_clear_full(&sub->pending, (GDestroyNotify)g_bytes_unref);
	g_free(sub->id);
	g_free(sub->f_key);
	g_free(sub->f_env);
	g_free(sub->f_cat);
	g_clear_pointer(&sub->dk, osc_derived_key_unref);
	g_free(sub->created_at);
	g_free(sub);
}

/**
 * osc_sse_format_event:
 *
 * One SSE frame as the original's clients parse it (API.md §5.2): `event: ` line, our
 * `id: ` line (D-4), exactly one single-line `data: ` line, a blank line; CRLF endings.
 */
gchar *
osc_sse_format_event(const gchar *event, guint64 id, const gchar *data)
{
	return g_strdup_printf("event: %s\r\nid: %" G_GUINT64_FORMAT "\r\ndata: %s\r\n\r\n", event,
			       id, data);
}

/* a frame holding a plaintext value is wiped when the last subscriber's copy is written */
static void
osc_sse_wipe_free(gpointer data)
{
	OPENSSL_cleanse(data, strlen(data));
	g_free(data);
}

/* Wraps @text (taken) in one HTTP/1.1 chunk; @wipe: the text holds a plaintext value,
 * wiped when the last subscriber's copy is written. */
static GBytes *
osc_sse_chunk_new(gchar *text, gboolean wipe)
{
	gsize len = strlen(text);
	gchar head[24];
	gint head_len = g_snprintf(head, sizeof(head), "%" G_GSIZE_MODIFIER "x\r\n", len);
	gsize total = (gsize)head_len + len + 2;
	gchar *buf = g_malloc(total + 1);

	memcpy(buf, head, (gsize)head_len);
	memcpy(buf + head_len, text, len);
	memcpy(buf + head_len + len, "\r\n", 3);
	if (wipe) {
		OPENSSL_cleanse(text, len);
		g_free(text);
		return g_bytes_new_with_free_func(buf, total, osc_sse_wipe_free, buf);
	}
	g_free(text);
	return g_bytes_new_take(buf, total);
}

static void
osc_sse_count_filter(GHashTable *table, const gchar *value, gint delta)
{
	gpointer old;

	if (value == NULL || value[0] == '\0')
		return;
	old = g_hash_table_lookup(table, value);
	g_hash_table_replace(table, g_strdup(value),
			     GINT_TO_POINTER(MAX(GPOINTER_TO_INT(old) + delta, 0)));
}

static gboolean
osc_sse_sub_is_wildcard(OscSseSub *sub)
{
	return (sub->f_key == NULL || sub->f_key[0] == '\0') &&
	       (sub->f_env == NULL || sub->f_env[0] == '\0') &&
	       (sub->f_cat == NULL || sub->f_cat[0] == '\0');
}

static void
osc_sse_index_remove(OscSseHub *self, OscSseSub *sub)
{
	if (sub->f_key != NULL && sub->f_key[0] != '\0') {
		GPtrArray *list = g_hash_table_lookup(self->by_key_index, sub->f_key);
		if (list != NULL) {
			g_ptr_array_remove_fast(list, sub);
			if (list->len == 0)
				g_hash_table_remove(self->by_key_index, sub->f_key);
		}
	} else {
		g_ptr_array_remove_fast(self->any_key, sub);
	}
}

/* Forgets @sub and ends its connection; @by_client: the client went away. */
static void
osc_sse_sub_remove(OscSseHub *self, OscSseSub *sub, gboolean by_client)
{
	gdouble duration = (gdouble)(g_get_monotonic_time() - sub->created_mono) / G_USEC_PER_SEC;

	osc_sse_index_remove(self, sub);
	osc_sse_count_filter(self->by_key, sub->f_key, -1);
	osc_sse_count_filter(self->by_environment, sub->f_env, -1);
	osc_sse_count_filter(self->by_category, sub->f_cat, -1);
	self->closed++;
	self->closed_duration_total += duration;
	if (by_client) {
		self->disconnections++;
		osc_metric_inc(self->m_disconnections, 1, NULL);
	}
	osc_metric_inc(self->m_subs_closed, 1, NULL);
	osc_metric_observe(self->m_duration, duration, NULL);
	osc_metric_set(self->m_active, (gdouble)(g_hash_table_size(self->subs) - 1), NULL);
	g_debug("subscription %s closed after %.1f s", sub->id, duration);
	g_hash_table_remove(self->subs, sub);
	g_object_notify_by_pspec(G_OBJECT(self), hub_props[PROP_ACTIVE]);
}

static gboolean
osc_sse_reap_cb(gpointer user_data)
{
	OscSseHub *self = OSC_SSE_HUB(user_data);
	g_autoptr(GPtrArray) dead = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;

	self->reap_id = 0;
	g_hash_table_iter_init(&iter, self->subs);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (((OscSseSub *)key)->dead)
			g_ptr_array_add(dead, key);
	}
	for (guint i = 0; i < dead->len; i++)
		osc_sse_sub_remove(self, g_ptr_array_index(dead, i), TRUE);
	return G_SOURCE_REMOVE;
}

/* A write failed: the client is gone. Removed later, not under a caller's loop over the
 * subscribers. */
static void
osc_sse_sub_kill(OscSseSub *sub)
{
	if (sub->dead)
		return;
	sub->dead = TRUE;
	sub->closing = TRUE;
	osc_sse_sub_unwatch(sub);
	g_queue_clear_full(&sub->pending, (GDestroyNotify)g_bytes_unref);
	sub->offset = 0;
	if (sub->hub->reap_id == 0)
		sub->hub->reap_id = g_idle_add(osc_sse_reap_cb, sub->hub);
}

static void
osc_sse_sub_set_want_out(OscSseSub *sub, gboolean want)
{
	struct epoll_event ev = {0};

	if (sub->want_out == want || sub->fd < 0)
		return;
	sub->want_out = want;
	ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	ev.data.u64 = sub->serial;
	epoll_ctl(sub->hub->epfd, EPOLL_CTL_MOD, sub->fd, &ev);
}

static void
osc_sse_send_reset(OscSseHub *self, OscSseSub *sub, const gchar *reason);

/*
 * Writes what @sub has queued, as far as the socket takes it without blocking; the rest
 * waits for the socket to turn writable.
 */
static void
osc_sse_sub_flush(OscSseSub *sub)
{
	while (sub->out != NULL && !sub->dead && sub->pending.length > 0) {
		GOutputVector vec[16];
		gsize n = 0, written = 0;
		g_autoptr(GError) error = NULL;
		GPollableReturn ret;

		for (GList *l = sub->pending.head; l != NULL && n < G_N_ELEMENTS(vec);
		     l = l->next) {
			gsize size = 0;
			const guint8 *data = g_bytes_get_data(l->data, &size);
			gsize skip = n == 0 ? sub->offset : 0;
			vec[n].buffer = data + skip;
			vec[n].size = size - skip;
			n++;
		}
		ret = g_pollable_output_stream_writev_nonblocking(sub->out, vec, n, &written, NULL,
								  &error);
		if (ret == G_POLLABLE_RETURN_FAILED) {
			g_debug("subscription %s: %s", sub->id, error->message);
			osc_sse_sub_kill(sub);
			return;
		}
		if (ret == G_POLLABLE_RETURN_WOULD_BLOCK) {
			osc_sse_sub_set_want_out(sub, TRUE);
			return;
		}
		/* whole frames written leave the queue */
		{
			gsize done = written + sub->offset;
			while (sub->pending.length > 0) {
				gsize size = g_bytes_get_size(g_queue_peek_head(&sub->pending));
				if (done < size)
					break;
				done -= size;
				g_bytes_unref(g_queue_pop_head(&sub->pending));
			}
			sub->offset = done;
		}
		/* after a short write, go on: a TLS connection writes one record (16 KiB) at a
		 * time; a full socket answers WOULD_BLOCK */
	}
	if (sub->out == NULL || sub->dead)
		return;
	osc_sse_sub_set_want_out(sub, FALSE);
	/* drained after an overflow: tell the client it missed events */
	if (sub->overflowed && !sub->closing) {
		sub->overflowed = FALSE;
		osc_sse_send_reset(sub->hub, sub, "overflow");
	}
}

static gboolean
osc_sse_flush_cb(gpointer user_data)
{
	OscSseHub *self = OSC_SSE_HUB(user_data);
	g_autoptr(GPtrArray) dirty = g_steal_pointer(&self->dirty);

	self->flush_id = 0;
	self->dirty = g_ptr_array_new();
	for (guint i = 0; i < dirty->len; i++) {
		OscSseSub *sub = g_ptr_array_index(dirty, i);
		/* NULL: removed since it was queued to */
		if (sub == NULL)
			continue;
		sub->dirty = FALSE;
		osc_sse_sub_flush(sub);
	}
	return G_SOURCE_REMOVE;
}

/*
 * Queues one frame; frames shared by many subscribers are one refcounted GBytes. It is
 * written at the end of this main-loop iteration, together with whatever else is queued
 * to the subscriber by then: under load, several events leave in one write.
 */
static void
osc_sse_enqueue(OscSseSub *sub, GBytes *frame)
{
	OscSseHub *self = sub->hub;

	g_queue_push_tail(&sub->pending, g_bytes_ref(frame));
	/* before the connection is ours, the hand-over writes what waits */
	if (sub->out == NULL || sub->dead || sub->dirty)
		return;
	sub->dirty = TRUE;
	sub->dirty_pos = self->dirty->len;
	g_ptr_array_add(self->dirty, sub);
	/* at the default priority, so that a busy main loop does not hold it back */
	if (self->flush_id == 0)
		self->flush_id = g_idle_add_full(G_PRIORITY_DEFAULT, osc_sse_flush_cb, self, NULL);
}

static void
osc_sse_enqueue_text(OscSseSub *sub, gchar *text)
{
	g_autoptr(GBytes) frame = osc_sse_chunk_new(text, FALSE);
	osc_sse_enqueue(sub, frame);
}

static void
osc_sse_send_reset(OscSseHub *self, OscSseSub *sub, const gchar *reason)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *data = NULL;
	g_autofree gchar *ts = osc_timestamp_now_api();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "reason");
	json_builder_add_string_value(b, reason);
	json_builder_set_member_name(b, "last_event_id");
	json_builder_add_int_value(b, (gint64)self->seq);
	json_builder_set_member_name(b, "timestamp");
	json_builder_add_string_value(b, ts);
	json_builder_set_member_name(b, "node_id");
	json_builder_add_string_value(b, self->node_id);
	json_builder_end_object(b);
	node = json_builder_get_root(b);
	data = osc_json_to_string(node, NULL);
	osc_metric_inc(self->m_resets, 1, reason, NULL);
	osc_sse_enqueue_text(sub, osc_sse_format_event("reset", self->seq, data));
}

/*
 * An event-stream client sends nothing after its request, so its socket turning readable
 * means it hung up (recv() → 0), failed, or is closing TLS (a close_notify alert).
 */
static gboolean
osc_sse_epoll_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	OscSseHub *self = OSC_SSE_HUB(user_data);
	struct epoll_event events[256];
	gint n = epoll_wait(self->epfd, events, G_N_ELEMENTS(events), 0);

	for (gint i = 0; i < n; i++) {
		guint64 serial = events[i].data.u64;
		OscSseSub *sub = g_hash_table_lookup(self->by_serial, &serial);

		/* a tag whose subscription is gone already: nothing to do */
		if (sub == NULL || sub->dead)
			continue;
		if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			osc_sse_sub_remove(self, sub, TRUE);
		else if (events[i].events & EPOLLOUT)
			osc_sse_sub_flush(sub);
	}
	return G_SOURCE_CONTINUE;
}

static void
osc_sse_sub_watch(OscSseHub *self, OscSseSub *sub, GSocket *socket)
{
	struct epoll_event ev = {0};

	sub->fd = -1;
	if (self->epfd < 0)
		return;
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = sub->serial;
	if (epoll_ctl(self->epfd, EPOLL_CTL_ADD, g_socket_get_fd(socket), &ev) == 0)
		sub->fd = g_socket_get_fd(socket);
}

/* libsoup went away with the message before writing the head: the client hung up */
static void
osc_sse_sub_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	OscSseSub *sub = user_data;
	osc_sse_sub_remove(sub->hub, sub, !sub->closing);
}

/*
 * libsoup has written the status line and headers: from here on the connection is ours
 * (libsoup drops the message; it emits no "finished" for a stolen connection).
 */
static void
osc_sse_sub_wrote_headers_cb(SoupServerMessage *msg, gpointer user_data)
{
	OscSseSub *sub = user_data;
	GSocket *socket = soup_server_message_get_socket(msg);
	GOutputStream *out;

	/* (NULL only for a connection given to soup_server_accept_iostream(), which oscd
	 * does not use: without a socket to watch, the stream is refused below) */
	if (socket != NULL)
		g_object_ref(socket);
	g_clear_signal_handler(&sub->finished_id, msg);
	g_clear_signal_handler(&sub->wrote_headers_id, msg);
	sub->stream = soup_server_message_steal_connection(msg);
	g_clear_object(&sub->msg);
	out = sub->stream != NULL ? g_io_stream_get_output_stream(sub->stream) : NULL;
	if (socket == NULL || out == NULL || !G_IS_POLLABLE_OUTPUT_STREAM(out) ||
	    !g_pollable_output_stream_can_poll(G_POLLABLE_OUTPUT_STREAM(out))) {
		g_warning("SSE subscription %s: the connection cannot be watched and written "
			  "without blocking; closing it",
			  sub->id);
		g_clear_object(&socket);
		osc_sse_sub_kill(sub);
		return;
	}
	sub->out = G_POLLABLE_OUTPUT_STREAM(out);
	/* an event is one small write that must leave now, not wait for the previous one's
	 * ACK (Nagle) while the client delays that ACK */
	if (g_socket_get_family(socket) != G_SOCKET_FAMILY_UNIX &&
	    !g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL))
		g_debug("subscription %s: cannot set TCP_NODELAY", sub->id);
	osc_sse_sub_watch(sub->hub, sub, socket);
	g_object_unref(socket);
	osc_sse_sub_flush(sub);
}

/* Ends @sub's stream properly (the last chunk) and forgets it; server shutdown. */
static void
osc_sse_sub_end(OscSseHub *self, OscSseSub *sub)
{
	sub->closing = TRUE;
	if (sub->msg != NULL) {
		/* libsoup has not written the head yet: let it answer an empty stream */
		g_clear_signal_handler(&sub->finished_id, sub->msg);
		g_clear_signal_handler(&sub->wrote_headers_id, sub->msg);
		soup_message_body_complete(soup_server_message_get_response_body(sub->msg));
		soup_server_message_unpause(sub->msg);
	} else if (!sub->dead) {
		g_autoptr(GBytes) last = g_bytes_new_static(osc_sse_last_chunk,
							    sizeof(osc_sse_last_chunk) - 1);
		/* best effort: a client that is not reading gets a truncated stream */
		osc_sse_enqueue(sub, last);
		osc_sse_sub_flush(sub);
	}
	osc_sse_sub_remove(self, sub, FALSE);
}

static gboolean
osc_sse_filter_matches(const gchar *filter, const gchar *value)
{
	if (filter == NULL || filter[0] == '\0')
		return TRUE;
	return value != NULL && g_str_equal(filter, value);
}

static gboolean
osc_sse_sub_matches(OscSseSub *sub, OscEntryRow *row)
{
	return osc_sse_filter_matches(sub->f_key, row->key) &&
	       osc_sse_filter_matches(sub->f_env, row->environment) &&
	       osc_sse_filter_matches(sub->f_cat, row->category);
}

/* D-4: the plaintext goes only to a subscriber whose key encrypted the entry */
static gboolean
osc_sse_sub_opens(OscSseSub *sub, OscEntryRow *row)
{
	const gchar *fp;

	if (sub->dk == NULL || row->fingerprint == NULL)
		return FALSE;
	fp = osc_derived_key_get_fingerprint(sub->dk);
	return osc_crypto_equal(fp, strlen(fp), row->fingerprint, strlen(row->fingerprint));
}

static gchar *
osc_sse_event_data(OscSseHub *self, OscEntryRow *row, const gchar *timestamp, JsonNode *value)
{
	JsonObject *obj = json_object_new();
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

	json_object_set_string_member(obj, "key", row->key);
	json_object_set_string_member(obj, "environment", row->environment);
	if (row->category != NULL)
		json_object_set_string_member(obj, "category", row->category);
	else
		json_object_set_null_member(obj, "category");
	json_object_set_string_member(obj, "timestamp", timestamp);
	json_object_set_string_member(obj, "node_id", self->node_id);
	if (value != NULL) {
		JsonObject *data = json_object_new();
		json_object_set_member(data, "value", json_node_ref(value));
		json_object_set_object_member(obj, "data", data);
	} else {
		json_object_set_null_member(obj, "data");
	}
	json_node_take_object(node, obj);
	return osc_json_to_string(node, NULL);
}

/* Adds @sent deliveries and @dropped drops of a @kind event to the statistics. */
static void
osc_sse_count(OscSseHub *self, const gchar *kind, guint sent, guint dropped)
{
	gpointer n = g_hash_table_lookup(self->by_type, kind);

	/* a type appears once an event of it matched, even if every delivery dropped */
	g_hash_table_replace(self->by_type, g_strdup(kind),
			     GSIZE_TO_POINTER(GPOINTER_TO_SIZE(n) + sent));
	/* deliveries that were queued, as the original counts them */
	self->total_sent += sent;
	if (sent > 0)
		osc_metric_inc(self->m_events_sent, sent, kind, NULL);
	if (dropped > 0) {
		self->dropped += dropped;
		self->max_queue_reached = self->queue_size;
		osc_metric_inc(self->m_events_dropped, dropped, NULL);
	}
}

/* Queues @frame to @sub unless its queue is full; FALSE: dropped (counted by the caller). */
static gboolean
osc_sse_deliver_frame(OscSseHub *self, OscSseSub *sub, GBytes *frame)
{
	if (sub->pending.length >= self->queue_size || sub->overflowed) {
		sub->overflowed = TRUE;
		return FALSE;
	}
	osc_sse_enqueue(sub, frame);
	return TRUE;
}

/* @wipe: @data holds a plaintext value */
static void
osc_sse_deliver(OscSseHub *self,
		OscSseSub *sub,
		const gchar *kind,
		guint64 id,
		const gchar *data,
		gboolean wipe)
{
	g_autoptr(GBytes) frame = osc_sse_chunk_new(osc_sse_format_event(kind, id, data), wipe);
	gboolean sent = osc_sse_deliver_frame(self, sub, frame);

	osc_sse_count(self, kind, sent ? 1 : 0, sent ? 0 : 1);
}

static void
osc_sse_log_add(OscSseHub *self, guint64 id, const gchar *kind, OscEntryRow *row, const gchar *ts)
{
	OscSseLogEntry *e;

	if (self->log_size == 0)
		return;
	e = g_new0(OscSseLogEntry, 1);
	e->id = id;
	e->kind = g_strdup(kind);
	e->row = osc_entry_row_copy(row);
	e->timestamp = g_strdup(ts);
	g_queue_push_tail(&self->log, e);
	while (self->log.length > self->log_size)
		osc_sse_log_entry_free(g_queue_pop_head(&self->log));
}

static void
osc_sse_collect(OscSseHub *self, OscEntryRow *row, GPtrArray *out)
{
	GPtrArray *keyed = g_hash_table_lookup(self->by_key_index, row->key);

	if (keyed != NULL) {
		for (guint i = 0; i < keyed->len; i++) {
			OscSseSub *sub = g_ptr_array_index(keyed, i);
			if (!sub->closing && osc_sse_sub_matches(sub, row))
				g_ptr_array_add(out, sub);
		}
	}
	for (guint i = 0; i < self->any_key->len; i++) {
		OscSseSub *sub = g_ptr_array_index(self->any_key, i);
		if (!sub->closing && osc_sse_sub_matches(sub, row))
			g_ptr_array_add(out, sub);
	}
}

/**
 * osc_sse_hub_publish:
 * @kind: `created`, `updated`, `deleted` or `sync`
 * @row: the row after the change (before it, for a deletion): its stored category is the
 *   one events carry, so category filters see updates and deletes too (D-4, D36)
 * @value: (nullable): the plaintext value, for subscribers whose key opens @row
 *
 * Main thread. Never blocks: slow subscribers lose events and get a `reset`.
 */
void
osc_sse_hub_publish(OscSseHub *self, const gchar *kind, OscEntryRow *row, JsonNode *value)
{
	g_autoptr(GPtrArray) targets = g_ptr_array_new();
	g_autofree gchar *ts = osc_timestamp_now_api();
	g_autofree gchar *plain = NULL;
	g_autofree gchar *gated = NULL;
	g_autoptr(GBytes) gated_frame = NULL;
	g_autoptr(GBytes) plain_frame = NULL;
	guint sent = 0, dropped = 0;
	guint64 id;

	g_return_if_fail(OSC_IS_SSE_HUB(self));
	g_return_if_fail(row != NULL);

	id = ++self->seq;
	osc_sse_log_add(self, id, kind, row, ts);
	osc_sse_collect(self, row, targets);
	if (targets->len == 0)
		return;
	/* each frame is formatted once and shared by every subscriber it goes to */
	gated = osc_sse_event_data(self, row, ts, NULL);
	gated_frame = osc_sse_chunk_new(osc_sse_format_event(kind, id, gated), FALSE);
	for (guint i = 0; i < targets->len; i++) {
		OscSseSub *sub = g_ptr_array_index(targets, i);
		gboolean with_value = value != NULL && osc_sse_sub_opens(sub, row);

		if (with_value && plain_frame == NULL) {
			plain = osc_sse_event_data(self, row, ts, value);
			plain_frame =
			    osc_sse_chunk_new(osc_sse_format_event(kind, id, plain), TRUE);
		}
		if (osc_sse_deliver_frame(self, sub, with_value ? plain_frame : gated_frame))
			sent++;
		else
			dropped++;
	}
	osc_sse_count(self, kind, sent, dropped);
	g_free(self->last_sent_at);
	self->last_sent_at = g_strdup(ts);
	if (plain != NULL)
		OPENSSL_cleanse(plain, strlen(plain));
}

static void
osc_sse_replay(OscSseHub *self, OscSseSub *sub, const gchar *last_event_id)
{
	guint64 last = 0;
	OscSseLogEntry *oldest = g_queue_peek_head(&self->log);

	if (!g_ascii_string_to_unsigned(last_event_id, 10, 0, G_MAXUINT64, &last, NULL)) {
		osc_sse_send_reset(self, sub, "invalid-last-event-id");
		return;
	}
	if (last == self->seq)
		return;
	/* ids are only comparable within this process's sequence and while the log still
	 * holds the next one: anything else is a gap the client must reload across */
	if (last > self->seq || oldest == NULL || last + 1 < oldest->id) {
		osc_sse_send_reset(self, sub, "gap");
		return;
	}
	for (GList *l = self->log.head; l != NULL; l = l->next) {
		OscSseLogEntry *e = l->data;
		g_autoptr(JsonNode) value = NULL;
		g_autofree gchar *data = NULL;

		if (e->id <= last || !osc_sse_sub_matches(sub, e->row))
			continue;
		if (!g_str_equal(e->kind, "deleted") && osc_sse_sub_opens(sub, e->row)) {
			g_autoptr(GBytes) plain = osc_fernet_decrypt(
			    osc_derived_key_get_bytes(sub->dk), e->row->token,
			    strlen(e->row->token), 0, 0, NULL);
			if (plain != NULL) {
				gsize len = 0;
				const gchar *p = g_bytes_get_data(plain, &len);
				value = osc_value_parse(p, (gssize)len, NULL);
				OPENSSL_cleanse((gpointer)p, len);
			}
		}
		data = osc_sse_event_data(self, e->row, e->timestamp, value);
		osc_sse_deliver(self, sub, e->kind, e->id, data, value != NULL);
		if (value != NULL)
			OPENSSL_cleanse(data, strlen(data));
	}
}

/**
 * osc_sse_hub_subscribe:
 * @msg: a GET /sse/subscribe request that passed its checks
 * @dk: (nullable): the subscriber's derived key, when it sent X-User-Key
 * @last_event_id: (nullable): the Last-Event-ID header, to replay what was missed
 *
 * Turns @msg into an endless event stream: headers, the `connected` event, then the
 * replay (or a `reset`) and live events.
 */
void
osc_sse_hub_subscribe(OscSseHub *self,
		      SoupServerMessage *msg,
		      const gchar *key,
		      const gchar *environment,
		      const gchar *category,
		      OscDerivedKey *dk,
		      const gchar *last_event_id)
{
	SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
	OscSseSub *sub = g_new0(OscSseSub, 1);
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *data = NULL;
	const gchar *filters[][2] = {{"key", key}, {"environment", environment},
				     {"category", category}};

	sub->hub = self;
	sub->msg = g_object_ref(msg);
	sub->id = g_uuid_string_random();
	sub->f_key = g_strdup(key);
	sub->f_env = g_strdup(environment);
	sub->f_cat = g_strdup(category);
	sub->dk = dk != NULL ? osc_derived_key_ref(dk) : NULL;
	sub->created_mono = g_get_monotonic_time();
	sub->created_at = osc_timestamp_now_api();

	soup_server_message_set_status(msg, 200, NULL);
	soup_message_headers_set_content_type(h, "text/event-stream; charset=utf-8", NULL);
	soup_message_headers_replace(h, "Cache-Control", "no-store");
	soup_message_headers_replace(h, "Connection", "keep-alive");
	soup_message_headers_replace(h, "X-Accel-Buffering", "no");
	soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
	soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
	sub->finished_id =
	    g_signal_connect(msg, "finished", G_CALLBACK(osc_sse_sub_finished_cb), sub);
	sub->wrote_headers_id =
	    g_signal_connect(msg, "wrote-headers", G_CALLBACK(osc_sse_sub_wrote_headers_cb), sub);

	sub->fd = -1;
	sub->serial = ++self->next_serial;
	g_hash_table_insert(self->by_serial, &sub->serial, sub);
	g_hash_table_add(self->subs, sub);
	if (key != NULL && key[0] != '\0') {
		GPtrArray *list = g_hash_table_lookup(self->by_key_index, key);
		if (list == NULL) {
			list = g_ptr_array_new();
			g_hash_table_insert(self->by_key_index, g_strdup(key), list);
		}
		g_ptr_array_add(list, sub);
	} else {
		g_ptr_array_add(self->any_key, sub);
	}
	self->total_created++;
	osc_sse_count_filter(self->by_key, key, 1);
	osc_sse_count_filter(self->by_environment, environment, 1);
	osc_sse_count_filter(self->by_category, category, 1);
	g_free(self->last_created_at);
	self->last_created_at = g_strdup(sub->created_at);
	osc_metric_inc(self->m_subs_total, 1, NULL);
	osc_metric_set(self->m_active, g_hash_table_size(self->subs), NULL);
	g_object_notify_by_pspec(G_OBJECT(self), hub_props[PROP_ACTIVE]);

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "subscription_id");
	json_builder_add_string_value(b, sub->id);
	json_builder_set_member_name(b, "filters");
	json_builder_begin_object(b);
	for (guint i = 0; i < G_N_ELEMENTS(filters); i++) {
		json_builder_set_member_name(b, filters[i][0]);
		if (filters[i][1] != NULL)
			json_builder_add_string_value(b, filters[i][1]);
		else
			json_builder_add_null_value(b);
	}
	json_builder_end_object(b);
	json_builder_set_member_name(b, "server_time");
	json_builder_add_string_value(b, sub->created_at);
	json_builder_set_member_name(b, "node_id");
	json_builder_add_string_value(b, self->node_id);
	json_builder_set_member_name(b, "last_event_id");
	json_builder_add_int_value(b, (gint64)self->seq);
	json_builder_end_object(b);
	node = json_builder_get_root(b);
	data = osc_json_to_string(node, NULL);
	{
		/* when resuming, `connected` carries the client's own id: the replay that
		 * follows has lower ids than ours, and ids must not go backwards in a stream */
		guint64 connected_id = self->seq;
		guint64 resume = 0;
		if (last_event_id != NULL &&
		    g_ascii_string_to_unsigned(last_event_id, 10, 0, self->seq, &resume, NULL))
			connected_id = resume;
		osc_sse_enqueue_text(sub, osc_sse_format_event("connected", connected_id, data));
	}

	if (last_event_id != NULL && last_event_id[0] != '\0')
		osc_sse_replay(self, sub, last_event_id);
}

static gboolean
osc_sse_keepalive_cb(gpointer user_data)
{
	OscSseHub *self = OSC_SSE_HUB(user_data);
	g_autofree gchar *ts = osc_timestamp_now_api();
	g_autoptr(GBytes) frame =
	    osc_sse_chunk_new(g_strdup_printf(": keep-alive %s\r\n\r\n", ts), FALSE);
	guint sent = 0;
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, self->subs);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		OscSseSub *sub = key;
		/* a full queue already means the client is not reading; don't add to it */
		if (sub->pending.length >= self->queue_size || sub->closing)
			continue;
		osc_sse_enqueue(sub, frame);
		sent++;
	}
	self->keepalive_sent += sent;
	if (sent > 0)
		osc_metric_inc(self->m_keepalive, sent, NULL);
	return G_SOURCE_CONTINUE;
}

/**
 * osc_sse_hub_publish_reset:
 * @reason: why, e.g. `import`
 *
 * Tells every subscriber to reload, in place of more change events than any queue holds
 * (a large import). The log is emptied, so a Last-Event-ID from before it resets too.
 */
void
osc_sse_hub_publish_reset(OscSseHub *self, const gchar *reason)
{
	GHashTableIter iter;
	gpointer key;

	g_return_if_fail(OSC_IS_SSE_HUB(self));

	self->seq++;
	g_queue_clear_full(&self->log, (GDestroyNotify)osc_sse_log_entry_free);
	g_hash_table_iter_init(&iter, self->subs);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		OscSseSub *sub = key;
		if (sub->closing)
			continue;
		/* a subscriber already overflowing gets its reset when it drains */
		if (sub->pending.length >= self->queue_size) {
			sub->overflowed = TRUE;
			continue;
		}
		osc_sse_send_reset(self, sub, reason);
	}
}

guint
osc_sse_hub_get_queue_size(OscSseHub *self)
{
	return self->queue_size;
}

/* Ends every stream (server shutdown). */
void
osc_sse_hub_close_all(OscSseHub *self)
{
	g_autoptr(GList) subs = g_hash_table_get_keys(self->subs);

	for (GList *l = subs; l != NULL; l = l->next)
		osc_sse_sub_end(self, l->data);
}

guint
osc_sse_hub_get_active(OscSseHub *self)
{
	return g_hash_table_size(self->subs);
}

guint64
osc_sse_hub_get_total_sent(OscSseHub *self)
{
	return self->total_sent;
}

guint64
osc_sse_hub_get_last_event_id(OscSseHub *self)
{
	return self->seq;
}

static JsonObject *
osc_sse_counts_object(GHashTable *table)
{
	JsonObject *obj = json_object_new();
	g_autoptr(GList) keys = g_hash_table_get_keys(table);

	keys = g_list_sort(keys, (GCompareFunc)g_strcmp0);
	for (GList *l = keys; l != NULL; l = l->next)
		json_object_set_int_member(obj, l->data,
					   (gint64)GPOINTER_TO_SIZE(g_hash_table_lookup(table, l->data)));
	return obj;
}

static void
osc_sse_set_nullable(JsonObject *obj, const gchar *name, const gchar *value)
{
	if (value != NULL)
		json_object_set_string_member(obj, name, value);
	else
		json_object_set_null_member(obj, name);
}

/* §4.15, with the mean duration of closed subscriptions computed for real (D38) */
JsonNode *
osc_sse_hub_build_stats(OscSseHub *self)
{
	JsonObject *root = json_object_new();
	JsonObject *subs = json_object_new();
	JsonObject *events = json_object_new();
	JsonObject *health = json_object_new();
	JsonObject *perf = json_object_new();
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	GHashTableIter iter;
	gpointer key;
	guint wildcard = 0;
	gdouble mean = self->closed > 0 ? self->closed_duration_total / (gdouble)self->closed : 0;

	g_hash_table_iter_init(&iter, self->subs);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		wildcard += osc_sse_sub_is_wildcard(key) ? 1 : 0;
	json_object_set_int_member(subs, "total_created", (gint64)self->total_created);
	json_object_set_int_member(subs, "active", g_hash_table_size(self->subs));
	json_object_set_int_member(subs, "closed", (gint64)self->closed);
	json_object_set_int_member(subs, "wildcard", wildcard);
	json_object_set_object_member(subs, "by_key", osc_sse_counts_object(self->by_key));
	json_object_set_object_member(subs, "by_environment",
				      osc_sse_counts_object(self->by_environment));
	json_object_set_object_member(subs, "by_category", osc_sse_counts_object(self->by_category));
	osc_sse_set_nullable(subs, "last_created_at", self->last_created_at);

	json_object_set_int_member(events, "total_sent", (gint64)self->total_sent);
	json_object_set_object_member(events, "by_type", osc_sse_counts_object(self->by_type));
	json_object_set_int_member(events, "dropped_queue_full", (gint64)self->dropped);
	osc_sse_set_nullable(events, "last_sent_at", self->last_sent_at);
	json_object_set_int_member(events, "last_event_id", (gint64)self->seq);

	json_object_set_int_member(health, "keepalive_sent", (gint64)self->keepalive_sent);
	json_object_set_int_member(health, "disconnections_detected", (gint64)self->disconnections);

	json_object_set_double_member(perf, "average_subscription_duration_seconds",
				      round(mean * 100.0) / 100.0);
	json_object_set_int_member(perf, "max_queue_size_reached", self->max_queue_reached);

	json_object_set_object_member(root, "subscriptions", subs);
	json_object_set_object_member(root, "events", events);
	json_object_set_object_member(root, "connection_health", health);
	json_object_set_object_member(root, "performance", perf);
	json_node_take_object(node, root);
	return node;
}

static gint
osc_sse_sub_compare(gconstpointer a, gconstpointer b)
{
	const OscSseSub *sa = *(OscSseSub *const *)a;
	const OscSseSub *sb = *(OscSseSub *const *)b;
	return sa->created_mono < sb->created_mono ? -1 : sa->created_mono > sb->created_mono;
}

/* §4.16 */
JsonNode *
osc_sse_hub_build_subscriptions(OscSseHub *self)
{
	JsonArray *array = json_array_new();
	JsonNode *node = json_node_new(JSON_NODE_ARRAY);
	g_autoptr(GPtrArray) subs = g_ptr_array_new();
	gint64 now = g_get_monotonic_time();
	GHashTableIter iter;
	gpointer key;

	/* (g_hash_table_get_keys_as_ptr_array() is GLib 2.76) */
	g_hash_table_iter_init(&iter, self->subs);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(subs, key);

	g_ptr_array_sort(subs, osc_sse_sub_compare);
	for (guint i = 0; i < subs->len; i++) {
		OscSseSub *sub = g_ptr_array_index(subs, i);
		JsonObject *obj = json_object_new();
		JsonObject *filters = json_object_new();
		gdouble duration = (gdouble)(now - sub->created_mono) / G_USEC_PER_SEC;

		json_object_set_string_member(obj, "subscription_id", sub->id);
		osc_sse_set_nullable(filters, "key", sub->f_key);
		osc_sse_set_nullable(filters, "environment", sub->f_env);
		osc_sse_set_nullable(filters, "category", sub->f_cat);
		json_object_set_object_member(obj, "filters", filters);
		json_object_set_string_member(obj, "created_at", sub->created_at);
		json_object_set_double_member(obj, "duration_seconds",
					      round(duration * 100.0) / 100.0);
		json_object_set_int_member(obj, "queue_size", sub->pending.length);
		json_object_set_int_member(obj, "queue_max_size", self->queue_size);
		json_object_set_boolean_member(obj, "values", sub->dk != NULL);
		json_array_add_object_element(array, obj);
	}
	json_node_take_array(node, array);
	return node;
}

static void
osc_sse_hub_finalize(GObject *object)
{
	OscSseHub *self = OSC_SSE_HUB(object);

	g_clear_handle_id(&self->keepalive_id, g_source_remove);
	g_clear_handle_id(&self->epoll_id, g_source_remove);
	g_clear_handle_id(&self->reap_id, g_source_remove);
	g_clear_handle_id(&self->flush_id, g_source_remove);
	g_hash_table_unref(self->subs);
	g_ptr_array_unref(self->dirty);
	g_hash_table_unref(self->by_serial);
	if (self->epfd >= 0)
		close(self->epfd);
	g_hash_table_unref(self->by_key_index);
	g_ptr_array_unref(self->any_key);
	g_queue_clear_full(&self->log, (GDestroyNotify)osc_sse_log_entry_free);
	g_hash_table_unref(self->by_key);
	g_hash_table_unref(self->by_environment);
	g_hash_table_unref(self->by_category);
	g_hash_table_unref(self->by_type);
	g_free(self->last_created_at);
	g_free(self->last_sent_at);
	g_free(self->node_id);
	g_clear_object(&self->metrics);
	G_OBJECT_CLASS(osc_sse_hub_parent_class)->finalize(object);
}

static void
osc_sse_hub_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscSseHub *self = OSC_SSE_HUB(object);

	switch (prop_id) {
	case PROP_ACTIVE:
		g_value_set_uint(value, osc_sse_hub_get_active(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
osc_sse_hub_class_init(OscSseHubClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = osc_sse_hub_finalize;
	object_class->get_property = osc_sse_hub_get_property;

	/**
	 * OscSseHub:active:
	 *
	 * The open subscriptions; notified on the main context when one opens or closes
	 * (oscd's ActiveSubscriptions D-Bus property follows it).
	 */
	hub_props[PROP_ACTIVE] =
	    g_param_spec_uint("active", NULL, NULL, 0, G_MAXUINT, 0,
			      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, hub_props);
}

static void
osc_sse_hub_init(OscSseHub *self)
{
	self->subs = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					   (GDestroyNotify)osc_sse_sub_free, NULL);
	self->by_key_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						   (GDestroyNotify)g_ptr_array_unref);
	self->any_key = g_ptr_array_new();
	self->by_serial = g_hash_table_new(g_int64_hash, g_int64_equal);
	self->dirty = g_ptr_array_new();
	self->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (self->epfd >= 0)
		self->epoll_id = g_unix_fd_add(self->epfd, G_IO_IN, osc_sse_epoll_cb, self);
	else
		g_warning("epoll_create1: %s; hang-ups are noticed at the next keep-alive",
			  g_strerror(errno));
	g_queue_init(&self->log);
	self->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->by_environment = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->by_category = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->by_type = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	/* Event ids continue across restarts: seeded from the clock in microseconds, so a
	 * Last-Event-ID from an earlier run is always older than this run's log (→ reset),
	 * and ids stay below 2^53 for JavaScript clients. */
	self->seq = (guint64)g_get_real_time();
}

OscSseHub *
osc_sse_hub_new(OscMetrics *metrics,
		const gchar *node_id,
		guint queue_size,
		guint keepalive_interval,
		guint log_size)
{
	OscSseHub *self = g_object_new(OSC_TYPE_SSE_HUB, NULL);
	const gchar *const type_labels[] = {"event_type", NULL};
	const gchar *const reason_labels[] = {"reason", NULL};

	self->node_id = g_strdup(node_id);
	self->queue_size = MAX(queue_size, 1);
	self->keepalive_interval = MAX(keepalive_interval, 1);
	self->log_size = log_size;
	self->metrics = g_object_ref(metrics);
	self->m_active = osc_metrics_add_gauge(metrics, "sse_active_subscriptions",
					       "Open SSE subscriptions", NULL);
	self->m_subs_total = osc_metrics_add_counter(metrics, "sse_subscriptions_total",
						     "SSE subscriptions opened", NULL);
	self->m_subs_closed = osc_metrics_add_counter(metrics, "sse_subscriptions_closed_total",
						      "SSE subscriptions closed", NULL);
	self->m_events_sent = osc_metrics_add_counter(metrics, "sse_events_sent_total",
						      "SSE events queued to subscribers",
						      type_labels);
	self->m_events_dropped = osc_metrics_add_counter(
	    metrics, "sse_events_dropped_total", "SSE events dropped on a full queue", NULL);
	self->m_keepalive = osc_metrics_add_counter(metrics, "sse_keepalive_sent_total",
						    "SSE keep-alive comments sent", NULL);
	self->m_disconnections = osc_metrics_add_counter(
	    metrics, "sse_disconnections_total", "SSE subscribers that went away", NULL);
	self->m_duration = osc_metrics_add_histogram(
	    metrics, "sse_subscription_duration_seconds", "SSE subscription lifetime", NULL,
	    osc_metrics_default_buckets, G_N_ELEMENTS(osc_metrics_default_buckets));
	self->m_resets = osc_metrics_add_counter(metrics, "sse_resets_total",
						 "SSE reset events sent (client must reload)",
						 reason_labels);
	self->keepalive_id =
	    g_timeout_add_seconds(self->keepalive_interval, osc_sse_keepalive_cb, self);
	return self;
}
