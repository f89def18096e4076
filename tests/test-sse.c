/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include "osc-service-private.h"
#include "osc-sse.h"
#include "osc-test-utils.h"

#define KEY_A "user-key-alpha-123"
#define KEY_B "user-key-bravo-456"

/* ---- a minimal SSE client over SoupSession, parsing what the server sends ---- */

typedef struct {
	gchar *name;
	gchar *id;
	gchar *data_text;
	JsonNode *data;
	gchar *raw; /* the whole frame, as sent */
} SseEvent;

typedef struct {
	SoupMessage *msg;
	GInputStream *stream;
	GCancellable *cancel;
	GString *buf;
	GPtrArray *events;
	GPtrArray *comments;
	gboolean closed;
	GError *error; /* why the stream ended, when not at its proper end */
	gboolean paused; /* stop reading, to play a slow consumer */
	gboolean reading;
	guint8 chunk[16384];
} SseClient;

static void
sse_event_free(SseEvent *e)
{
	g_free(e->name);
	g_free(e->id);
	g_free(e->data_text);
	g_clear_pointer(&e->data, json_node_unref);
	g_free(e->raw);
	g_free(e);
}

static void
sse_parse(SseClient *c)
{
	gchar *sep;

	while ((sep = strstr(c->buf->str, "\r\n\r\n")) != NULL) {
		gsize len = (gsize)(sep - c->buf->str) + 4;
		g_autofree gchar *frame = g_strndup(c->buf->str, len);
		g_auto(GStrv) lines = g_strsplit(frame, "\r\n", -1);

		g_string_erase(c->buf, 0, (gssize)len);
		if (g_str_has_prefix(frame, ": ")) {
			g_ptr_array_add(c->comments, g_strdup(lines[0]));
			continue;
		} else {
			SseEvent *e = g_new0(SseEvent, 1);
			e->raw = g_strdup(frame);
			for (guint i = 0; lines[i] != NULL; i++) {
				if (g_str_has_prefix(lines[i], "event: "))
					e->name = g_strdup(lines[i] + 7);
				else if (g_str_has_prefix(lines[i], "id: "))
					e->id = g_strdup(lines[i] + 4);
				else if (g_str_has_prefix(lines[i], "data: "))
					e->data_text = g_strdup(lines[i] + 6);
			}
			if (e->data_text != NULL) {
				g_autoptr(JsonParser) p = json_parser_new();
				if (json_parser_load_from_data(p, e->data_text, -1, NULL))
					e->data = json_node_ref(json_parser_get_root(p));
			}
			g_ptr_array_add(c->events, e);
		}
	}
}

static void sse_read_more(SseClient *c);

static void
sse_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	SseClient *c = user_data;
	g_autoptr(GError) error = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);

	c->reading = FALSE;
	if (n <= 0) {
		c->closed = TRUE;
		c->error = g_steal_pointer(&error);
		return;
	}
	g_string_append_len(c->buf, (const gchar *)c->chunk, n);
	sse_parse(c);
	sse_read_more(c);
}

static void
sse_read_more(SseClient *c)
{
	if (c->closed || c->paused || c->reading)
		return;
	c->reading = TRUE;
	g_input_stream_read_async(c->stream, c->chunk, sizeof(c->chunk), G_PRIORITY_DEFAULT,
				  c->cancel, sse_read_cb, c);
}

typedef struct {
	SseClient *c;
	gboolean done;
} SendWait;

static void
sse_send_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	SendWait *w = user_data;
	g_autoptr(GError) error = NULL;

	w->c->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
	g_assert_no_error(error);
	w->done = TRUE;
}

static gboolean
send_done(gpointer data)
{
	return ((SendWait *)data)->done;
}

/* @headers: name, value, … NULL */
static SseClient *
sse_connect(SoupSession *session, const gchar *url, const gchar *const *headers)
{
	SseClient *c = g_new0(SseClient, 1);
	SendWait w = {c, FALSE};

	c->msg = soup_message_new("GET", url);
	for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
		soup_message_headers_append(soup_message_get_request_headers(c->msg), headers[i],
					    headers[i + 1]);
	c->cancel = g_cancellable_new();
	c->buf = g_string_new(NULL);
	c->events = g_ptr_array_new_with_free_func((GDestroyNotify)sse_event_free);
	c->comments = g_ptr_array_new_with_free_func(g_free);
	soup_session_send_async(session, c->msg, G_PRIORITY_DEFAULT, NULL, sse_send_cb, &w);
	osc_test_wait_until(send_done, &w, 10000);
	g_assert_cmpuint(soup_message_get_status(c->msg), ==, 200);
	g_assert_cmpstr(soup_message_headers_get_content_type(
			    soup_message_get_response_headers(c->msg), NULL),
			==, "text/event-stream");
	sse_read_more(c);
	return c;
}

static void
sse_close(SseClient *c)
{
	if (c == NULL)
		return;
	g_cancellable_cancel(c->cancel);
	/* let the cancelled read come back before freeing what it writes into */
	while (c->reading)
		g_main_context_iteration(NULL, TRUE);
	g_clear_object(&c->stream);
	g_clear_object(&c->msg);
	g_clear_object(&c->cancel);
	g_clear_error(&c->error);
	g_string_free(c->buf, TRUE);
	g_ptr_array_unref(c->events);
	g_ptr_array_unref(c->comments);
	g_free(c);
}

typedef struct {
	SseClient *c;
	guint n;
} CountWait;

static gboolean
have_events(gpointer data)
{
	CountWait *w = data;
	return w->c->events->len >= w->n;
}

static void
sse_wait(SseClient *c, guint n)
{
	CountWait w = {c, n};
	osc_test_wait_until(have_events, &w, 10000);
}

static SseEvent *
sse_event(SseClient *c, guint i)
{
	g_assert_cmpuint(i, <, c->events->len);
	return g_ptr_array_index(c->events, i);
}

static JsonObject *
sse_data(SseClient *c, guint i)
{
	SseEvent *e = sse_event(c, i);
	g_assert_nonnull(e->data);
	return json_node_get_object(e->data);
}

/* ---- a raw HTTP/1.1 client, to see the stream byte for byte ---- */

typedef struct {
	GSocketConnection *conn;
	GString *data;
	gboolean eof;
	gboolean reading;
	guint8 chunk[4096];
} RawClient;

static void
raw_read_more(RawClient *r);

static void
raw_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	RawClient *r = user_data;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, NULL);

	r->reading = FALSE;
	if (n <= 0) {
		r->eof = TRUE;
		return;
	}
	g_string_append_len(r->data, (const gchar *)r->chunk, n);
	raw_read_more(r);
}

static void
raw_read_more(RawClient *r)
{
	if (r->eof || r->reading)
		return;
	r->reading = TRUE;
	g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(r->conn)), r->chunk,
				  sizeof(r->chunk), G_PRIORITY_DEFAULT, NULL, raw_read_cb, r);
}

static RawClient *
raw_request(guint port, const gchar *request)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GError) error = NULL;
	RawClient *r = g_new0(RawClient, 1);

	/* a connect completes in the kernel's backlog: no need to run the server's loop */
	r->conn = g_socket_client_connect_to_host(client, "127.0.0.1", (guint16)port, NULL, &error);
	g_assert_no_error(error);
	g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(r->conn)), request,
				  strlen(request), NULL, NULL, &error);
	g_assert_no_error(error);
	r->data = g_string_new(NULL);
	raw_read_more(r);
	return r;
}

static void
raw_free(RawClient *r)
{
	g_io_stream_close(G_IO_STREAM(r->conn), NULL, NULL);
	while (r->reading)
		g_main_context_iteration(NULL, TRUE);
	g_object_unref(r->conn);
	g_string_free(r->data, TRUE);
	g_free(r);
}

/* Decodes a chunked body; *complete: it ended with the last chunk (and nothing after). */
static gchar *
dechunk(const gchar *body, gboolean *complete)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const gchar *p = body;

	*complete = FALSE;
	for (;;) {
		gchar *end = NULL;
		guint64 size = g_ascii_strtoull(p, &end, 16);

		g_assert_true(end != p);
		g_assert_true(g_str_has_prefix(end, "\r\n"));
		p = end + 2;
		if (size == 0) {
			*complete = g_str_equal(p, "\r\n");
			break;
		}
		g_assert_cmpuint(strlen(p), >=, size + 2);
		g_string_append_len(out, p, (gssize)size);
		p += size;
		g_assert_true(g_str_has_prefix(p, "\r\n"));
		p += 2;
		if (*p == '\0')
			break;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- fixture: an in-process service ---- */

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	SoupSession *session;
	gchar *base;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->config->sse_keepalive_interval = 1;
	f->config->sse_queue_size = GPOINTER_TO_UINT(data) != 0 ? GPOINTER_TO_UINT(data) : 100;
	f->service = osc_test_service_new(f->config);
	f->base = osc_test_service_base_url(f->service);
	f->session = osc_test_session_new();
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->session);
	g_clear_object(&f->service);
	g_clear_pointer(&f->config, osc_config_free);
	g_free(f->base);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

static SseClient *
subscribe(Fixture *f, const gchar *query, const gchar *user_key, const gchar *last_id)
{
	g_autofree gchar *url = g_strconcat(f->base, "/sse/subscribe", query, NULL);
	const gchar *headers[5] = {NULL};
	guint n = 0;
	SseClient *c;

	if (user_key != NULL) {
		headers[n++] = "X-User-Key";
		headers[n++] = user_key;
	}
	if (last_id != NULL) {
		headers[n++] = "Last-Event-ID";
		headers[n++] = last_id;
	}
	c = sse_connect(f->session, url, headers);
	sse_wait(c, 1);
	g_assert_cmpstr(sse_event(c, 0)->name, ==, "connected");
	return c;
}

static void
write_entry(Fixture *f,
	    const gchar *method,
	    const gchar *user_key,
	    const gchar *key,
	    const gchar *env,
	    const gchar *body)
{
	g_autofree gchar *url = NULL;
	g_autoptr(OscTestResponse) resp = NULL;

	if (g_str_equal(method, "POST"))
		url = g_strconcat(f->base, "/configs", NULL);
	else
		url = g_strdup_printf("%s/configs/%s?environment=%s", f->base, key, env);
	resp = osc_test_http(f->session, method, url, body, "X-User-Key", user_key, NULL);
	g_assert_cmpuint(resp->status, <, 300);
}

static void
create(Fixture *f, const gchar *user_key, const gchar *key, const gchar *env, const gchar *cat)
{
	g_autofree gchar *body = g_strdup_printf(
	    "{\"key\":\"%s\",\"value\":{\"n\":\"%s\"},\"environment\":\"%s\",\"category\":%s%s%s}",
	    key, key, env, cat ? "\"" : "", cat ? cat : "null", cat ? "\"" : "");
	write_entry(f, "POST", user_key, key, env, body);
}

static JsonObject *
get_json(Fixture *f, const gchar *path, OscTestResponse **keep)
{
	g_autofree gchar *url = g_strconcat(f->base, path, NULL);
	*keep = osc_test_http(f->session, "GET", url, NULL, NULL, NULL);
	g_assert_cmpuint((*keep)->status, ==, 200);
	return json_node_get_object((*keep)->json);
}

/* ---- tests ---- */

static void
test_sse_framing(Fixture *f, gconstpointer data)
{
	SseClient *c = subscribe(f, "?environment=prod", NULL, NULL);
	SseEvent *connected = sse_event(c, 0);
	JsonObject *filters = json_object_get_object_member(sse_data(c, 0), "filters");
	SseEvent *created;
	g_autofree gchar *expected = NULL;

	/* event:, id:, exactly one single-line data:, blank line; CRLF everywhere */
	g_assert_true(g_str_has_prefix(connected->raw, "event: connected\r\nid: "));
	g_assert_nonnull(json_object_get_string_member(sse_data(c, 0), "subscription_id"));
	g_assert_true(json_object_get_null_member(filters, "key"));
	g_assert_cmpstr(json_object_get_string_member(filters, "environment"), ==, "prod");
	g_assert_true(g_str_has_suffix(json_object_get_string_member(sse_data(c, 0), "server_time"),
				       "Z"));

	create(f, KEY_A, "db", "prod", "cfg");
	sse_wait(c, 2);
	created = sse_event(c, 1);
	g_assert_cmpstr(created->name, ==, "created");
	expected = g_strdup_printf("event: created\r\nid: %s\r\ndata: %s\r\n\r\n", created->id,
				   created->data_text);
	g_assert_cmpstr(created->raw, ==, expected);
	g_assert_null(strchr(created->data_text, '\n'));
	g_assert_cmpuint(g_ascii_strtoull(created->id, NULL, 10), >,
			 g_ascii_strtoull(connected->id, NULL, 10));
	g_assert_cmpstr(json_object_get_string_member(sse_data(c, 1), "key"), ==, "db");
	g_assert_cmpstr(json_object_get_string_member(sse_data(c, 1), "category"), ==, "cfg");
	g_assert_nonnull(json_object_get_string_member(sse_data(c, 1), "node_id"));
	/* no user key on the stream: no value */
	g_assert_true(json_object_get_null_member(sse_data(c, 1), "data"));
	sse_close(c);
}

static void
test_sse_filters(Fixture *f, gconstpointer data)
{
	SseClient *all = subscribe(f, "", NULL, NULL);
	SseClient *by_key = subscribe(f, "?key=a", NULL, NULL);
	SseClient *by_env = subscribe(f, "?environment=staging", NULL, NULL);
	SseClient *by_cat = subscribe(f, "?category=cfg", NULL, NULL);
	SseClient *combined = subscribe(f, "?key=a&environment=prod&category=cfg", NULL, NULL);
	SseClient *empty = subscribe(f, "?key=&environment=", NULL, NULL);

	create(f, KEY_A, "a", "prod", "cfg");	  /* all, key, cat, combined, empty */
	create(f, KEY_A, "a", "staging", NULL);	  /* all, key, env, empty */
	create(f, KEY_A, "b", "staging", "cfg");  /* all, env, cat, empty */
	write_entry(f, "PUT", KEY_A, "a", "prod", "{\"value\":1}");	/* stored category cfg */
	write_entry(f, "DELETE", KEY_A, "a", "prod", NULL);		/* stored category cfg */

	sse_wait(all, 6);
	sse_wait(empty, 6);
	sse_wait(by_key, 5);
	sse_wait(by_env, 3);
	sse_wait(by_cat, 5);
	sse_wait(combined, 4);
	/* the last one everybody could see arrived everywhere; now compare names */
	g_assert_cmpuint(all->events->len, ==, 6);
	g_assert_cmpuint(by_key->events->len, ==, 5);
	g_assert_cmpuint(by_env->events->len, ==, 3);
	/* D-4: the category filter sees updates and deletes by the row's stored category */
	g_assert_cmpuint(by_cat->events->len, ==, 5);
	g_assert_cmpstr(sse_event(by_cat, 3)->name, ==, "updated");
	g_assert_cmpstr(sse_event(by_cat, 4)->name, ==, "deleted");
	g_assert_cmpuint(combined->events->len, ==, 4);
	g_assert_cmpstr(sse_event(combined, 1)->name, ==, "created");
	g_assert_cmpstr(sse_event(combined, 2)->name, ==, "updated");
	g_assert_cmpstr(sse_event(combined, 3)->name, ==, "deleted");
	g_assert_cmpuint(empty->events->len, ==, 6);
	sse_close(all);
	sse_close(by_key);
	sse_close(by_env);
	sse_close(by_cat);
	sse_close(combined);
	sse_close(empty);
}

static void
test_sse_value_gating(Fixture *f, gconstpointer data)
{
	SseClient *owner = subscribe(f, "", KEY_A, NULL);
	SseClient *other = subscribe(f, "", KEY_B, NULL);
	SseClient *anon = subscribe(f, "", NULL, NULL);
	JsonObject *d;

	create(f, KEY_A, "secret", "prod", NULL);
	write_entry(f, "PUT", KEY_A, "secret", "prod", "{\"value\":\"v2\"}");
	sse_wait(owner, 3);
	sse_wait(other, 3);
	sse_wait(anon, 3);
	d = json_object_get_object_member(sse_data(owner, 1), "data");
	g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(
			    json_object_get_object_member(sse_data(owner, 1), "data"), "value"),
			    "n"),
			==, "secret");
	g_assert_nonnull(d);
	g_assert_cmpstr(json_object_get_string_member(
			    json_object_get_object_member(sse_data(owner, 2), "data"), "value"),
			==, "v2");
	g_assert_true(json_object_get_null_member(sse_data(other, 1), "data"));
	g_assert_true(json_object_get_null_member(sse_data(other, 2), "data"));
	g_assert_true(json_object_get_null_member(sse_data(anon, 2), "data"));
	/* the plaintext never appears in a stream that may not see it */
	g_assert_null(strstr(sse_event(other, 2)->raw, "v2"));
	sse_close(owner);
	sse_close(other);
	sse_close(anon);
}

static gboolean
has_comment(gpointer data)
{
	return ((SseClient *)data)->comments->len > 0;
}

static void
test_sse_keepalive(Fixture *f, gconstpointer data)
{
	SseClient *c = subscribe(f, "", NULL, NULL);
	g_autoptr(OscTestResponse) resp = NULL;
	JsonObject *stats;
	const gchar *comment;

	/* the fixture sets a 1 s interval */
	osc_test_wait_until(has_comment, c, 3000);
	comment = g_ptr_array_index(c->comments, 0);
	g_assert_true(g_str_has_prefix(comment, ": keep-alive "));
	g_assert_true(g_str_has_suffix(comment, "Z"));
	stats = get_json(f, "/sse/stats", &resp);
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(stats, "connection_health"),
			    "keepalive_sent"),
			>=, 1);
	sse_close(c);
}

static void
test_sse_replay(Fixture *f, gconstpointer data)
{
	SseClient *c = subscribe(f, "?environment=prod", KEY_A, NULL);
	SseClient *again, *ancient, *bogus;
	g_autofree gchar *last = NULL;

	create(f, KEY_A, "k1", "prod", NULL);
	sse_wait(c, 2);
	last = g_strdup(sse_event(c, 1)->id);
	sse_close(c);

	create(f, KEY_A, "k2", "prod", NULL);
	create(f, KEY_A, "other", "staging", NULL); /* filtered out on replay too */
	create(f, KEY_A, "k3", "prod", NULL);
	write_entry(f, "PUT", KEY_A, "k2", "prod", "{\"value\":\"k2b\"}");

	again = subscribe(f, "?environment=prod", KEY_A, last);
	sse_wait(again, 4);
	g_assert_cmpstr(sse_event(again, 1)->name, ==, "created");
	g_assert_cmpstr(json_object_get_string_member(sse_data(again, 1), "key"), ==, "k2");
	g_assert_cmpstr(json_object_get_string_member(sse_data(again, 2), "key"), ==, "k3");
	g_assert_cmpstr(sse_event(again, 3)->name, ==, "updated");
	/* replayed values are decrypted for the key that opens them */
	g_assert_cmpstr(json_object_get_string_member(
			    json_object_get_object_member(sse_data(again, 3), "data"), "value"),
			==, "k2b");
	g_assert_cmpuint(g_ascii_strtoull(sse_event(again, 1)->id, NULL, 10), >,
			 g_ascii_strtoull(last, NULL, 10));

	/* older than anything this server can replay: the client must reload */
	ancient = subscribe(f, "", NULL, "5");
	sse_wait(ancient, 2);
	g_assert_cmpstr(sse_event(ancient, 1)->name, ==, "reset");
	bogus = subscribe(f, "", NULL, "not-a-number");
	sse_wait(bogus, 2);
	g_assert_cmpstr(sse_event(bogus, 1)->name, ==, "reset");
	sse_close(again);
	sse_close(ancient);
	sse_close(bogus);
}

static gboolean
has_reset(gpointer data)
{
	SseClient *c = data;
	for (guint i = 0; i < c->events->len; i++) {
		if (g_str_equal(sse_event(c, i)->name, "reset"))
			return TRUE;
	}
	return FALSE;
}

static void
test_sse_overflow(Fixture *f, gconstpointer data)
{
	SseClient *slow = subscribe(f, "", KEY_A, NULL);
	g_autoptr(OscTestResponse) resp = NULL;
	g_autoptr(GString) big = g_string_new(NULL);
	JsonObject *events;
	gboolean saw_reset = FALSE;
	guint i;

	/* stop reading; with 256 KiB values the socket buffers fill and the 4-chunk queue
	 * (fixture data) overflows: events are dropped, never the writer blocked */
	slow->paused = TRUE;
	g_string_append_c(big, '"');
	for (i = 0; i < 256 * 1024; i++)
		g_string_append_c(big, 'x');
	g_string_append_c(big, '"');
	for (i = 0; i < 60; i++) {
		g_autofree gchar *key = g_strdup_printf("big%u", i);
		g_autofree gchar *body = g_strdup_printf(
		    "{\"key\":\"%s\",\"value\":%s,\"environment\":\"e\"}", key, big->str);
		write_entry(f, "POST", KEY_A, key, "e", body);
	}
	events = json_object_get_object_member(get_json(f, "/sse/stats", &resp), "events");
	g_assert_cmpint(json_object_get_int_member(events, "dropped_queue_full"), >, 0);

	/* read again: once drained the subscriber is told it missed events */
	slow->paused = FALSE;
	sse_read_more(slow);
	osc_test_wait_until(has_reset, slow, 10000);
	for (i = 0; i < slow->events->len; i++)
		saw_reset |= g_str_equal(sse_event(slow, i)->name, "reset");
	g_assert_true(saw_reset);
	/* fewer than the 60 created events arrived: the reset stands for the rest */
	g_assert_cmpuint(slow->events->len, <, 1 + 60 + 1);
	sse_close(slow);
}

static gboolean
no_active(gpointer data)
{
	Fixture *f = data;
	g_autoptr(OscTestResponse) resp = NULL;
	JsonObject *subs = json_object_get_object_member(get_json(f, "/sse/stats", &resp),
							 "subscriptions");
	return json_object_get_int_member(subs, "active") == 0;
}

static void
test_sse_hangup(Fixture *f, gconstpointer data)
{
	SseClient *c = subscribe(f, "?key=x", NULL, NULL);
	g_autoptr(OscTestResponse) list = NULL;
	g_autoptr(OscTestResponse) stats_resp = NULL;
	g_autoptr(OscTestResponse) health = NULL;
	g_autofree gchar *list_url = g_strconcat(f->base, "/sse/subscriptions", NULL);
	JsonArray *subs;
	JsonObject *stats;

	list = osc_test_http(f->session, "GET", list_url, NULL, NULL, NULL);
	subs = json_node_get_array(list->json);
	g_assert_cmpuint(json_array_get_length(subs), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(
			    json_object_get_object_member(json_array_get_object_element(subs, 0),
							  "filters"),
			    "key"),
			==, "x");
	sse_close(c);
	/* the server notices the hang-up and forgets the subscription */
	osc_test_wait_until(no_active, f, 5000);
	stats = json_object_get_object_member(get_json(f, "/sse/stats", &stats_resp),
					      "subscriptions");
	g_assert_cmpint(json_object_get_int_member(stats, "closed"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(stats, "total_created"), ==, 1);
	/* the per-filter count drops to 0 and stays listed */
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(stats, "by_key"),
						   "x"),
			==, 0);
	g_assert_cmpint(json_object_get_int_member(get_json(f, "/sse/health", &health),
						   "active_subscriptions"),
			==, 0);
}

static void
test_sse_many(Fixture *f, gconstpointer data)
{
	SseClient *subs[100];
	g_autoptr(OscTestResponse) stats_resp = NULL;
	g_autoptr(OscTestResponse) metrics = NULL;
	g_autofree gchar *metrics_url = g_strconcat(f->base, "/metrics", NULL);
	JsonObject *events;

	for (guint i = 0; i < G_N_ELEMENTS(subs); i++)
		subs[i] = subscribe(f, "", NULL, NULL);
	for (guint i = 0; i < 100; i++) {
		g_autofree gchar *key = g_strdup_printf("k%03u", i);
		create(f, KEY_A, key, "e", NULL);
	}
	for (guint i = 0; i < G_N_ELEMENTS(subs); i++) {
		guint64 prev = 0;
		sse_wait(subs[i], 101);
		g_assert_cmpuint(subs[i]->events->len, ==, 101);
		for (guint j = 1; j <= 100; j++) {
			g_autofree gchar *key = g_strdup_printf("k%03u", j - 1);
			guint64 id = g_ascii_strtoull(sse_event(subs[i], j)->id, NULL, 10);
			g_assert_cmpstr(json_object_get_string_member(sse_data(subs[i], j), "key"),
					==, key);
			g_assert_cmpuint(id, >, prev);
			prev = id;
		}
	}
	events = json_object_get_object_member(get_json(f, "/sse/stats", &stats_resp), "events");
	g_assert_cmpint(json_object_get_int_member(events, "total_sent"), ==, 100 * 100);
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(events, "by_type"), "created"),
			==, 100 * 100);
	g_assert_cmpint(json_object_get_int_member(events, "dropped_queue_full"), ==, 0);
	metrics = osc_test_http(f->session, "GET", metrics_url, NULL, NULL, NULL);
	g_assert_nonnull(strstr(metrics->body, "sse_events_sent_total{event_type=\"created\"} 10000"));
	g_assert_nonnull(strstr(metrics->body, "sse_active_subscriptions 100"));
	for (guint i = 0; i < G_N_ELEMENTS(subs); i++)
		sse_close(subs[i]);
}

/* a big value, so that a client that stops reading soon has a backlog on the server */
static gchar *
big_body(const gchar *key, gsize size)
{
	g_autoptr(GString) body = g_string_new(NULL);

	g_string_append_printf(body, "{\"key\":\"%s\",\"environment\":\"e\",\"value\":\"", key);
	for (gsize i = 0; i < size; i++)
		g_string_append_c(body, 'x');
	g_string_append(body, "\"}");
	return g_string_free(g_steal_pointer(&body), FALSE);
}

static gboolean
backlogged(gpointer data)
{
	Fixture *f = data;
	g_autoptr(OscTestResponse) resp = NULL;
	g_autofree gchar *url = g_strconcat(f->base, "/sse/subscriptions", NULL);
	JsonArray *subs;
	guint n = 0;

	resp = osc_test_http(f->session, "GET", url, NULL, NULL, NULL);
	subs = json_node_get_array(resp->json);
	for (guint i = 0; i < json_array_get_length(subs); i++)
		n += json_object_get_int_member(json_array_get_object_element(subs, i),
						"queue_size") > 0;
	return n > 0;
}

static void
test_sse_hangup_many(Fixture *f, gconstpointer data)
{
	SseClient *subs[60];
	g_autoptr(OscTestResponse) resp = NULL;
	JsonObject *stats;
	guint i;

	for (i = 0; i < G_N_ELEMENTS(subs); i++)
		subs[i] = subscribe(f, i % 2 == 0 ? "?key=k" : "", i % 3 == 0 ? KEY_A : NULL, NULL);
	/* a third stop reading, and get the (big) values: the server holds unwritten frames
	 * for them when they go */
	for (i = 0; i < G_N_ELEMENTS(subs); i += 3)
		subs[i]->paused = TRUE;
	for (i = 0; i < 60 && !backlogged(f); i++) {
		g_autofree gchar *body = big_body("k", 512 * 1024);
		write_entry(f, i == 0 ? "POST" : "PUT", KEY_A, "k", "e", body);
	}
	g_assert_true(backlogged(f));
	for (i = 0; i < G_N_ELEMENTS(subs); i++)
		sse_close(subs[i]);
	osc_test_wait_until(no_active, f, 10000);
	stats = get_json(f, "/sse/stats", &resp);
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(stats,
										  "subscriptions"),
						   "closed"),
			==, G_N_ELEMENTS(subs));
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(stats, "connection_health"),
			    "disconnections_detected"),
			==, G_N_ELEMENTS(subs));
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(
				json_object_get_object_member(stats, "subscriptions"), "by_key"),
			    "k"),
			==, 0);
	/* the server still serves new subscribers and events */
	{
		SseClient *c = subscribe(f, "", NULL, NULL);
		create(f, KEY_A, "after", "e", NULL);
		sse_wait(c, 2);
		g_assert_cmpstr(sse_event(c, 1)->name, ==, "created");
		sse_close(c);
	}
}

static void
stop_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(osc_service_stop_finish(OSC_SERVICE(source), result, &error));
	g_assert_no_error(error);
	*(gboolean *)user_data = TRUE;
}

static gboolean
is_true(gpointer data)
{
	return *(gboolean *)data;
}

static gboolean
all_closed(gpointer data)
{
	SseClient **subs = data;
	for (guint i = 0; subs[i] != NULL; i++) {
		if (!subs[i]->closed)
			return FALSE;
	}
	return TRUE;
}

static gboolean
no_active_is_4(gpointer data)
{
	return osc_sse_hub_get_active(data) == 4;
}

static gboolean
raw_has_events(gpointer data)
{
	RawClient *r = data;
	return strstr(r->data->str, "event: created") != NULL &&
	       g_str_has_suffix(r->data->str, "\r\n\r\n\r\n");
}

static gboolean
raw_eof(gpointer data)
{
	return ((RawClient *)data)->eof;
}

static void
test_sse_stop(Fixture *f, gconstpointer data)
{
	SseClient *subs[4] = {NULL};
	OscSseHub *hub = osc_service_get_sse_hub(f->service);
	gboolean stopped = FALSE;
	RawClient *raw;
	g_autofree gchar *head = NULL;
	g_autofree gchar *events = NULL;
	g_auto(GStrv) frames = NULL;
	const gchar *body;
	gboolean complete = FALSE;

	subs[0] = subscribe(f, "", NULL, NULL);
	subs[1] = subscribe(f, "?environment=e", KEY_A, NULL);
	subs[2] = subscribe(f, "?key=x", NULL, NULL);
	raw = raw_request(osc_service_get_port(f->service),
			  "GET /sse/subscribe?key=x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			  "Origin: http://example.org\r\n\r\n");
	osc_test_wait_until(no_active_is_4, hub, 10000);
	create(f, KEY_A, "x", "e", NULL);
	sse_wait(subs[0], 2);
	sse_wait(subs[1], 2);
	sse_wait(subs[2], 2);
	osc_test_wait_until(raw_has_events, raw, 10000);
	g_assert_cmpuint(osc_sse_hub_get_active(hub), ==, 4);

	/* every open stream ends, at its proper end (the last chunk), and is forgotten */
	osc_service_stop_async(f->service, 2000, NULL, stop_cb, &stopped);
	g_assert_cmpuint(osc_sse_hub_get_active(hub), ==, 0);
	osc_test_wait_until(is_true, &stopped, 10000);
	osc_test_wait_until(all_closed, subs, 10000);
	for (guint i = 0; subs[i] != NULL; i++) {
		g_assert_no_error(subs[i]->error);
		g_assert_cmpuint(subs[i]->events->len, ==, 2);
		g_assert_cmpuint(subs[i]->buf->len, ==, 0);
		sse_close(subs[i]);
	}

	/* on the wire: the head of §5.1 (with CORS), then HTTP/1.1 chunks holding the
	 * frames, and the last chunk */
	osc_test_wait_until(raw_eof, raw, 10000);
	body = strstr(raw->data->str, "\r\n\r\n");
	g_assert_nonnull(body);
	head = g_ascii_strdown(raw->data->str, body + 2 - raw->data->str);
	body += 4;
	g_assert_true(g_str_has_prefix(head, "http/1.1 200 ok\r\n"));
	g_assert_nonnull(strstr(head, "\r\ncontent-type: text/event-stream; charset=utf-8\r\n"));
	g_assert_nonnull(strstr(head, "\r\ncache-control: no-store\r\n"));
	g_assert_nonnull(strstr(head, "\r\nconnection: keep-alive\r\n"));
	g_assert_nonnull(strstr(head, "\r\nx-accel-buffering: no\r\n"));
	g_assert_nonnull(strstr(head, "\r\ntransfer-encoding: chunked\r\n"));
	g_assert_nonnull(strstr(head, "\r\naccess-control-allow-origin: *\r\n"));
	events = dechunk(body, &complete);
	g_assert_true(complete);
	frames = g_strsplit(events, "\r\n\r\n", -1);
	/* connected, created, then nothing after the last blank line */
	g_assert_cmpuint(g_strv_length(frames), ==, 3);
	g_assert_true(g_str_has_prefix(frames[0], "event: connected\r\nid: "));
	g_assert_true(g_str_has_prefix(frames[1], "event: created\r\nid: "));
	g_assert_nonnull(strstr(frames[1], "\r\ndata: {\"key\":\"x\""));
	g_assert_cmpstr(frames[2], ==, "");
	raw_free(raw);
}

static void
test_sse_api_key(Fixture *f, gconstpointer data)
{
	g_autofree gchar *url = g_strconcat(f->base, "/sse/subscribe", NULL);
	g_autoptr(OscTestResponse) short_key = NULL;

	/* a present but short user key is refused like everywhere else */
	short_key = osc_test_http(f->session, "GET", url, NULL, "X-User-Key", "short", NULL);
	g_assert_cmpuint(short_key->status, ==, 401);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
#define ADD(path, fn, data) g_test_add(path, Fixture, data, fixture_setup, fn, fixture_teardown)
	ADD("/osc/sse/framing", test_sse_framing, NULL);
	ADD("/osc/sse/filters", test_sse_filters, NULL);
	ADD("/osc/sse/value-gating", test_sse_value_gating, NULL);
	ADD("/osc/sse/keepalive", test_sse_keepalive, NULL);
	ADD("/osc/sse/replay", test_sse_replay, NULL);
	ADD("/osc/sse/overflow", test_sse_overflow, GUINT_TO_POINTER(4));
	ADD("/osc/sse/hangup", test_sse_hangup, NULL);
	ADD("/osc/sse/many", test_sse_many, NULL);
	ADD("/osc/sse/user-key", test_sse_api_key, NULL);
	ADD("/osc/sse/hangup-many", test_sse_hangup_many, GUINT_TO_POINTER(4));
	ADD("/osc/sse/stop", test_sse_stop, NULL);
#undef ADD
	return g_test_run();
}
