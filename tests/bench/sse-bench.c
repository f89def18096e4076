/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * sse-bench: a Server-Sent Events load generator and meter for oscd.
 *
 * Opens N subscribers to GET /sse/subscribe (plain non-blocking sockets, one epoll loop,
 * so that 10,000 of them cost the client little), waits for every `connected` event,
 * measures the server's RSS with them idle, then creates entries (POST /configs, new key
 * each time) from W writer connections in the same loop — at a steady rate, or as fast
 * as the server answers — and measures, for every delivery to every subscriber, the time
 * from the write of the POST to the arrival of its `created` event (both CLOCK_MONOTONIC in
 * this process). The event's `data:` JSON carries the key, "sse-<run>-<seq>", and the
 * writer kept the send time of each <seq>.
 *
 * The stream is decoded properly: HTTP/1.1 chunked transfer coding, then SSE lines
 * (CRLF or LF), `event:` then `data:`; comment lines (keep-alives) are counted and ignored.
 *
 * Prints a human summary and one machine-readable line starting "RESULT " (key=value
 * pairs) that run-sse-bench parses. See tests/bench/README.md.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_EVENTS 1024
#define READ_CHUNK 65536

typedef enum {
	KIND_SUB,
	KIND_WRITER,
} ConnKind;

typedef enum {
	ST_IDLE,       /* not opened yet (subscriber) or free (writer) */
	ST_CONNECTING, /* connect() in progress */
	ST_HEADERS,    /* request sent, reading the response head */
	ST_BODY,       /* reading the body (stream, or a writer's Content-Length) */
	ST_CLOSED,
} ConnState;

typedef struct {
	char *data;
	size_t len;
	size_t cap;
} Buf;

typedef struct {
	int fd;
	ConnKind kind;
	ConnState state;
	unsigned index;
	Buf in;	 /* raw bytes from the socket */
	Buf sse; /* decoded (de-chunked) stream bytes, subscribers only */
	Buf out; /* unsent request bytes */
	size_t out_off;
	/* chunked decoding */
	bool chunked;
	int chunk_phase; /* 0: size line, 1: data, 2: CRLF after data */
	size_t chunk_left;
	/* SSE */
	char event[24];
	bool connected;
	uint64_t received;
	/* writer */
	int64_t inflight_seq; /* -1: none */
	size_t body_left;
	int status;
	bool keep_alive;
} Conn;

typedef struct {
	/* options */
	const char *host;
	unsigned port;
	unsigned subscribers;
	unsigned writers;
	double rate; /* writes per second; 0: as fast as possible */
	double duration;
	double settle;
	double hold; /* > 0: only hold the subscribers open this long, no writes */
	double drain_timeout;
	double connect_timeout;
	unsigned connect_window;
	unsigned sources;
	const char *user_key;
	bool sub_user_key;
	long server_pid;
	const char *environment;
	bool quiet;

	/* state */
	int ep;
	int timer_fd;
	Conn *subs;
	Conn *wconns;
	char run_id[32];
	size_t run_id_len;
	int64_t *send_ns; /* by seq */
	int64_t *first_ns; /* by seq: first and last delivery of that event, any subscriber */
	int64_t *last_ns;
	size_t send_cap;
	uint64_t next_seq;
	uint64_t writes_ok;
	uint64_t writes_failed;
	uint64_t owed; /* rate mode: ticks not yet turned into writes */
	bool writing;
	unsigned opened;	/* subscribers with connect() issued */
	unsigned connected; /* subscribers that got `connected` */
	unsigned sub_failed;
	uint64_t deliveries;
	uint64_t foreign; /* events for keys not ours */
	uint64_t resets;
	uint64_t keepalives;
	uint64_t other_events;
	uint32_t *lat_us;
	size_t lat_len, lat_cap;
	int64_t first_delivery_ns; /* to subscriber 0 */
	int64_t last_delivery_ns;
	uint64_t sub0_deliveries;
	int64_t write_start_ns, write_end_ns;
	struct sockaddr_in server;
} Bench;

static Bench B;

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "sse-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (q == NULL && n > 0) {
		fprintf(stderr, "sse-bench: out of memory\n");
		exit(1);
	}
	return q;
}

static void
buf_reserve(Buf *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + extra)
		cap *= 2;
	b->data = xrealloc(b->data, cap + 1);
	b->cap = cap;
}

static void
buf_append(Buf *b, const char *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
buf_consume(Buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

static void
buf_free(Buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static long
read_status_kib(long pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long v = -1;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			v = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* the server's user + system CPU time in seconds, from /proc/PID/stat */
static double
read_cpu_s(long pid)
{
	char path[64], line[1024];
	unsigned long ut = 0, st = 0;
	FILE *f;
	char *p;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (p == NULL || (p = strrchr(line, ')')) == NULL)
		return -1;
	/* after "pid (comm)": state is field 3; utime and stime are fields 14 and 15 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void
lat_add(uint32_t us)
{
	if (B.lat_len == B.lat_cap) {
		B.lat_cap = B.lat_cap ? B.lat_cap * 2 : 65536;
		B.lat_us = xrealloc(B.lat_us, B.lat_cap * sizeof(uint32_t));
	}
	B.lat_us[B.lat_len++] = us;
}

static void
ep_set(Conn *c, uint32_t events, int op)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};
	if (epoll_ctl(B.ep, op, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void
conn_close(Conn *c, bool reset)
{
	if (c->fd >= 0) {
		if (reset) {
			/* RST instead of FIN: no TIME_WAIT left on the client's ports */
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(c->fd);
	}
	c->fd = -1;
	c->state = ST_CLOSED;
	buf_free(&c->in);
	buf_free(&c->sse);
	buf_free(&c->out);
}

static void
conn_open(Conn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		die("socket (raise the fd limit: ulimit -n)");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (B.sources > 1 && c->kind == KIND_SUB) {
		/* spread the subscribers over 127.0.0.1..127.0.0.K so that no source address
		 * runs out of ephemeral ports */
		struct sockaddr_in src = {.sin_family = AF_INET};
		src.sin_addr.s_addr = htonl(0x7f000001u + (c->index % B.sources));
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			die("bind source address");
	}
	c->fd = fd;
	c->state = ST_CONNECTING;
	c->chunked = false;
	c->chunk_phase = 0;
	c->chunk_left = 0;
	c->event[0] = '\0';
	c->inflight_seq = -1;
	if (connect(fd, (struct sockaddr *)&B.server, sizeof(B.server)) < 0 &&
	    errno != EINPROGRESS)
		die("connect");
	ep_set(c, EPOLLIN | EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_ADD);
}

/* writes what is pending in c->out; TRUE when all is sent */
static bool
conn_flush(Conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ep_set(c, EPOLLIN | EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_MOD);
				return false;
			}
			return false;
		}
		c->out_off += (size_t)n;
	}
	c->out.len = 0;
	c->out_off = 0;
	ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
	return true;
}

static void
sub_send_request(Conn *c)
{
	char req[512];
	int n;

	if (B.sub_user_key)
		n = snprintf(req, sizeof(req),
			     "GET /sse/subscribe HTTP/1.1\r\nHost: %s:%u\r\n"
			     "Accept: text/event-stream\r\nX-User-Key: %s\r\n\r\n",
			     B.host, B.port, B.user_key);
	else
		n = snprintf(req, sizeof(req),
			     "GET /sse/subscribe HTTP/1.1\r\nHost: %s:%u\r\n"
			     "Accept: text/event-stream\r\n\r\n",
			     B.host, B.port);
	buf_append(&c->out, req, (size_t)n);
	c->state = ST_HEADERS;
	conn_flush(c);
}

static void
writer_send(Conn *c)
{
	char body[256], head[512];
	uint64_t seq = B.next_seq++;
	int bn, hn;

	if (seq >= B.send_cap) {
		size_t cap = B.send_cap ? B.send_cap * 2 : 65536;
		B.send_ns = xrealloc(B.send_ns, cap * sizeof(int64_t));
		memset(B.send_ns + B.send_cap, 0, (cap - B.send_cap) * sizeof(int64_t));
		B.first_ns = xrealloc(B.first_ns, cap * sizeof(int64_t));
		memset(B.first_ns + B.send_cap, 0, (cap - B.send_cap) * sizeof(int64_t));
		B.last_ns = xrealloc(B.last_ns, cap * sizeof(int64_t));
		memset(B.last_ns + B.send_cap, 0, (cap - B.send_cap) * sizeof(int64_t));
		B.send_cap = cap;
	}
	bn = snprintf(body, sizeof(body),
		      "{\"key\":\"sse-%s-%llu\",\"value\":{\"n\":%llu},\"environment\":\"%s\","
		      "\"category\":\"sse-bench\"}",
		      B.run_id, (unsigned long long)seq, (unsigned long long)seq, B.environment);
	hn = snprintf(head, sizeof(head),
		      "POST /configs HTTP/1.1\r\nHost: %s:%u\r\nX-User-Key: %s\r\n"
		      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		      B.host, B.port, B.user_key, bn);
	buf_append(&c->out, head, (size_t)hn);
	buf_append(&c->out, body, (size_t)bn);
	c->inflight_seq = (int64_t)seq;
	c->state = ST_HEADERS;
	c->status = 0;
	B.send_ns[seq] = now_ns();
	conn_flush(c);
}

/* rate mode: turn owed ticks into writes on free writer connections */
static void
writers_kick(void)
{
	for (unsigned i = 0; i < B.writers; i++) {
		Conn *w = &B.wconns[i];
		if (!B.writing)
			return;
		if (w->state != ST_IDLE)
			continue;
		if (B.rate > 0) {
			if (B.owed == 0)
				return;
			B.owed--;
		}
		writer_send(w);
	}
}

/* ---- the SSE stream ---- */

static void
sse_event_data(Conn *c, const char *data, size_t len)
{
	const char *k, *end = data + len;
	int64_t t = now_ns();

	if (strcmp(c->event, "connected") == 0) {
		if (!c->connected) {
			c->connected = true;
			B.connected++;
		}
		return;
	}
	if (strcmp(c->event, "reset") == 0) {
		B.resets++;
		return;
	}
	if (strcmp(c->event, "created") != 0) {
		B.other_events++;
		return;
	}
	/* {"key":"sse-<run>-<seq>",... */
	k = memmem(data, len, "\"key\":\"", 7);
	if (k == NULL) {
		B.foreign++;
		return;
	}
	k += 7;
	if ((size_t)(end - k) < 4 + B.run_id_len + 2 || memcmp(k, "sse-", 4) != 0 ||
	    memcmp(k + 4, B.run_id, B.run_id_len) != 0 || k[4 + B.run_id_len] != '-') {
		B.foreign++;
		return;
	}
	k += 4 + B.run_id_len + 1;
	uint64_t seq = strtoull(k, NULL, 10);
	if (seq >= B.next_seq || B.send_ns[seq] == 0) {
		B.foreign++;
		return;
	}
	int64_t d = t - B.send_ns[seq];
	lat_add(d <= 0 ? 0 : d / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(d / 1000));
	B.deliveries++;
	c->received++;
	if (B.first_ns[seq] == 0)
		B.first_ns[seq] = t;
	B.last_ns[seq] = t;
	if (c->index == 0) {
		if (B.sub0_deliveries == 0)
			B.first_delivery_ns = t;
		B.last_delivery_ns = t;
		B.sub0_deliveries++;
	}
}

static void
sse_process(Conn *c)
{
	size_t start = 0;
	char *p = c->sse.data;

	for (;;) {
		char *nl = memchr(p + start, '\n', c->sse.len - start);
		size_t llen;
		char *line;

		if (nl == NULL)
			break;
		line = p + start;
		llen = (size_t)(nl - line);
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen == 0) {
			c->event[0] = '\0'; /* end of the event */
		} else if (line[0] == ':') {
			B.keepalives++;
		} else if (llen > 6 && memcmp(line, "event:", 6) == 0) {
			size_t o = line[6] == ' ' ? 7 : 6, n = llen - o;
			if (n >= sizeof(c->event))
				n = sizeof(c->event) - 1;
			memcpy(c->event, line + o, n);
			c->event[n] = '\0';
		} else if (llen >= 5 && memcmp(line, "data:", 5) == 0) {
			size_t o = (llen > 5 && line[5] == ' ') ? 6 : 5;
			sse_event_data(c, line + o, llen - o);
		}
		start = (size_t)(nl - p) + 1;
	}
	buf_consume(&c->sse, start);
}

/* returns false when the stream ended */
static bool
sub_body(Conn *c)
{
	size_t pos = 0;

	if (!c->chunked) {
		buf_append(&c->sse, c->in.data, c->in.len);
		c->in.len = 0;
		sse_process(c);
		return true;
	}
	while (pos < c->in.len) {
		if (c->chunk_phase == 0) {
			char *nl = memchr(c->in.data + pos, '\n', c->in.len - pos);
			if (nl == NULL)
				break;
			c->chunk_left = strtoul(c->in.data + pos, NULL, 16);
			pos = (size_t)(nl - c->in.data) + 1;
			if (c->chunk_left == 0) {
				buf_consume(&c->in, pos);
				return false; /* last chunk: the server ended the stream */
			}
			c->chunk_phase = 1;
		} else if (c->chunk_phase == 1) {
			size_t n = c->in.len - pos;
			if (n > c->chunk_left)
				n = c->chunk_left;
			buf_append(&c->sse, c->in.data + pos, n);
			pos += n;
			c->chunk_left -= n;
			if (c->chunk_left == 0)
				c->chunk_phase = 2;
		} else {
			char *nl = memchr(c->in.data + pos, '\n', c->in.len - pos);
			if (nl == NULL)
				break;
			pos = (size_t)(nl - c->in.data) + 1;
			c->chunk_phase = 0;
		}
	}
	buf_consume(&c->in, pos);
	sse_process(c);
	return true;
}

static bool
header_has(const char *head, size_t len, const char *name, const char *value)
{
	/* case-insensitive "\r\nName: ...value..." */
	size_t nlen = strlen(name);
	const char *p = head, *end = head + len;

	while ((p = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL) {
		p += 2;
		if ((size_t)(end - p) > nlen + 1 && strncasecmp(p, name, nlen) == 0 &&
		    p[nlen] == ':') {
			const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
			size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
			char tmp[256];
			if (value == NULL)
				return true;
			if (l >= sizeof(tmp))
				l = sizeof(tmp) - 1;
			memcpy(tmp, p, l);
			tmp[l] = '\0';
			return strcasestr(tmp + nlen + 1, value) != NULL;
		}
	}
	return false;
}

static long
header_long(const char *head, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = head, *end = head + len;

	while ((p = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL) {
		p += 2;
		if ((size_t)(end - p) > nlen + 1 && strncasecmp(p, name, nlen) == 0 &&
		    p[nlen] == ':')
			return strtol(p + nlen + 1, NULL, 10);
	}
	return -1;
}

static void
sub_fail(Conn *c, const char *why)
{
	if (!B.quiet && B.sub_failed < 5)
		fprintf(stderr, "sse-bench: subscriber %u: %s\n", c->index, why);
	B.sub_failed++;
	if (c->connected) {
		c->connected = false;
		B.connected--;
	}
	conn_close(c, true);
}

static void
sub_input(Conn *c)
{
	if (c->state == ST_HEADERS) {
		char *eoh = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
		size_t hlen;
		if (eoh == NULL)
			return;
		hlen = (size_t)(eoh - c->in.data) + 4;
		if (c->in.len < 12 || strncmp(c->in.data + 9, "200", 3) != 0) {
			sub_fail(c, "the subscription was refused (not HTTP 200)");
			return;
		}
		c->chunked = header_has(c->in.data, hlen, "Transfer-Encoding", "chunked");
		buf_consume(&c->in, hlen);
		c->state = ST_BODY;
	}
	if (c->state == ST_BODY && !sub_body(c))
		sub_fail(c, "the server ended the stream");
}

static void
writer_input(Conn *c)
{
	for (;;) {
		if (c->state == ST_HEADERS) {
			char *eoh = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
			size_t hlen;
			long cl;
			if (eoh == NULL)
				return;
			hlen = (size_t)(eoh - c->in.data) + 4;
			c->status = c->in.len >= 12 ? atoi(c->in.data + 9) : 0;
			cl = header_long(c->in.data, hlen, "Content-Length");
			c->keep_alive = !header_has(c->in.data, hlen, "Connection", "close");
			c->body_left = cl > 0 ? (size_t)cl : 0;
			buf_consume(&c->in, hlen);
			c->state = ST_BODY;
		}
		if (c->state == ST_BODY) {
			size_t n = c->in.len < c->body_left ? c->in.len : c->body_left;
			buf_consume(&c->in, n);
			c->body_left -= n;
			if (c->body_left > 0)
				return;
			if (c->status == 201) {
				B.writes_ok++;
			} else {
				B.writes_failed++;
				if (c->inflight_seq >= 0)
					B.send_ns[c->inflight_seq] = 0;
				if (!B.quiet && B.writes_failed <= 3)
					fprintf(stderr, "sse-bench: a create answered HTTP %d\n",
						c->status);
			}
			c->inflight_seq = -1;
			c->state = ST_IDLE;
			if (!c->keep_alive) {
				conn_close(c, false);
				conn_open(c);
				return;
			}
			if (B.writing && B.rate <= 0)
				writer_send(c);
			else if (B.writing)
				writers_kick();
			if (c->in.len == 0)
				return;
		} else {
			return;
		}
	}
}

static void
conn_event(Conn *c, uint32_t events)
{
	char tmp[READ_CHUNK];

	if (c->state == ST_CONNECTING) {
		int err = 0;
		socklen_t elen = sizeof(err);
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err != 0) {
			errno = err;
			if (c->kind == KIND_SUB) {
				sub_fail(c, strerror(err));
				return;
			}
			die("writer connect");
		}
		if (c->kind == KIND_SUB) {
			sub_send_request(c);
		} else {
			c->state = ST_IDLE;
			ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
			if (B.writing && B.rate > 0)
				writers_kick();
			else if (B.writing)
				writer_send(c);
		}
		return;
	}
	if ((events & EPOLLOUT) && c->out.len > 0)
		conn_flush(c);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);
			if (n > 0) {
				buf_append(&c->in, tmp, (size_t)n);
				if ((size_t)n < sizeof(tmp))
					break;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			/* EOF or error */
			if (c->kind == KIND_SUB) {
				if (c->in.len > 0)
					sub_input(c);
				if (c->fd >= 0)
					sub_fail(c, n == 0 ? "the server closed the connection"
							   : strerror(errno));
			} else {
				fprintf(stderr, "sse-bench: a writer connection was closed\n");
				conn_close(c, false);
				conn_open(c);
			}
			return;
		}
		if (c->kind == KIND_SUB)
			sub_input(c);
		else
			writer_input(c);
	}
}

/* opens subscribers while fewer than connect_window are pending */
static void
subs_open_more(void)
{
	while (B.opened < B.subscribers && B.opened - (B.connected + B.sub_failed) < B.connect_window)
		conn_open(&B.subs[B.opened++]);
}

static void
timer_event(void)
{
	uint64_t ticks = 0;
	if (read(B.timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	if (B.writing && B.rate > 0) {
		B.owed += ticks;
		writers_kick();
	}
}

typedef bool (*DoneFunc)(void);

/* runs the loop until @done or the deadline (ns, absolute); TRUE if done */
static bool
run_until(DoneFunc done, int64_t deadline)
{
	struct epoll_event evs[MAX_EVENTS];

	for (;;) {
		int64_t now = now_ns();
		int timeout;

		if (done != NULL && done())
			return true;
		if (now >= deadline)
			return false;
		timeout = (int)((deadline - now + 999999) / 1000000);
		if (timeout > 100)
			timeout = 100;
		int n = epoll_wait(B.ep, evs, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				timer_event();
			else
				conn_event(evs[i].data.ptr, evs[i].events);
		}
		if (B.opened < B.subscribers)
			subs_open_more();
	}
}

static bool
all_connected(void)
{
	return B.connected + B.sub_failed >= B.subscribers;
}

static bool
writers_ready(void)
{
	for (unsigned i = 0; i < B.writers; i++)
		if (B.wconns[i].state != ST_IDLE)
			return false;
	return true;
}

static bool
all_delivered(void)
{
	bool idle = writers_ready();
	return idle && B.deliveries >= B.writes_ok * (uint64_t)B.connected;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* the time one event took to reach every subscriber (last − first delivery): the server's
 * fan-out cost, independent of the write rate; median and max over the events */
static void
fanout_spread(double *median_ms, double *max_ms)
{
	int64_t *d = calloc(B.next_seq + 1, sizeof(int64_t));
	size_t n = 0;

	for (uint64_t i = 0; i < B.next_seq; i++)
		if (B.first_ns[i] != 0)
			d[n++] = B.last_ns[i] - B.first_ns[i];
	qsort(d, n, sizeof(int64_t), cmp_i64);
	*median_ms = n ? d[n / 2] / 1e6 : 0;
	*max_ms = n ? d[n - 1] / 1e6 : 0;
	free(d);
}

static double
pct_ms(double p)
{
	size_t i;
	if (B.lat_len == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(B.lat_len - 1) + 0.5);
	return B.lat_us[i] / 1000.0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: sse-bench --port PORT [options]\n"
		"  --host ADDR          server address (IPv4; default 127.0.0.1)\n"
		"  --port PORT          server port\n"
		"  --subscribers N      concurrent subscribers (default 1)\n"
		"  --writers W          writer connections (default 4)\n"
		"  --rate R             creates per second; 0 = as fast as the server answers "
		"(default 0)\n"
		"  --duration S         seconds of writing (default 3)\n"
		"  --settle S           idle seconds before reading the idle RSS (default 1)\n"
		"  --hold S             only open the subscribers and keep them idle S seconds "
		"(load for another benchmark); no writes\n"
		"  --drain-timeout S    seconds to wait for the last deliveries (default 10)\n"
		"  --connect-timeout S  seconds to open all subscribers (default 60)\n"
		"  --connect-window N   subscribers connecting at once (default 64)\n"
		"  --sources K          spread subscribers over 127.0.0.1..127.0.0.K (default: "
		"1 per 20000)\n"
		"  --user-key KEY       X-User-Key of the writer (default bench-user-key-0001)\n"
		"  --sub-user-key       subscribers send X-User-Key too (they get values)\n"
		"  --environment ENV    environment of the created entries (default sse-bench)\n"
		"  --server-pid PID     read the server's RSS from /proc/PID/status\n"
		"  --quiet              no progress lines\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'h'},
	    {"port", required_argument, NULL, 'p'},
	    {"subscribers", required_argument, NULL, 'n'},
	    {"writers", required_argument, NULL, 'w'},
	    {"rate", required_argument, NULL, 'r'},
	    {"duration", required_argument, NULL, 'd'},
	    {"settle", required_argument, NULL, 's'},
	    {"hold", required_argument, NULL, 'H'},
	    {"drain-timeout", required_argument, NULL, 'D'},
	    {"connect-timeout", required_argument, NULL, 'C'},
	    {"connect-window", required_argument, NULL, 'W'},
	    {"sources", required_argument, NULL, 'S'},
	    {"user-key", required_argument, NULL, 'k'},
	    {"sub-user-key", no_argument, NULL, 'K'},
	    {"environment", required_argument, NULL, 'e'},
	    {"server-pid", required_argument, NULL, 'P'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, '?'},
	    {NULL, 0, NULL, 0},
	};
	int o;
	long rss0, rss_idle, rss_after, hwm;
	int64_t t_connect0, t_connect1;
	double scpu0, scpu1, ccpu0, ccpu1, scpu_c0, scpu_c1;
	struct rlimit rl;

	B.host = "127.0.0.1";
	B.subscribers = 1;
	B.writers = 4;
	B.duration = 3;
	B.settle = 1;
	B.drain_timeout = 10;
	B.connect_timeout = 60;
	B.connect_window = 64;
	B.user_key = "bench-user-key-0001";
	B.environment = "sse-bench";

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'h': B.host = optarg; break;
		case 'p': B.port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': B.subscribers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': B.writers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': B.rate = strtod(optarg, NULL); break;
		case 'd': B.duration = strtod(optarg, NULL); break;
		case 's': B.settle = strtod(optarg, NULL); break;
		case 'H': B.hold = strtod(optarg, NULL); break;
		case 'D': B.drain_timeout = strtod(optarg, NULL); break;
		case 'C': B.connect_timeout = strtod(optarg, NULL); break;
		case 'W': B.connect_window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'S': B.sources = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': B.user_key = optarg; break;
		case 'K': B.sub_user_key = true; break;
		case 'e': B.environment = optarg; break;
		case 'P': B.server_pid = strtol(optarg, NULL, 10); break;
		case 'q': B.quiet = true; break;
		default: usage(o == '?' ? stdout : stderr); return o == '?' ? 0 : 2;
		}
	}
	if (B.port == 0 || B.port > 65535 || B.subscribers == 0 || B.writers == 0 ||
	    B.connect_window == 0) {
		usage(stderr);
		return 2;
	}
	if (B.sources == 0)
		B.sources = 1 + B.subscribers / 20000;

	/* one fd per subscriber, plus the writers and a margin */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)B.subscribers + B.writers + 16) {
		fprintf(stderr, "sse-bench: the fd limit (%llu) is too low for %u subscribers\n",
			(unsigned long long)rl.rlim_cur, B.subscribers);
		return 1;
	}

	B.server.sin_family = AF_INET;
	B.server.sin_port = htons((uint16_t)B.port);
	if (inet_pton(AF_INET, B.host, &B.server.sin_addr) != 1) {
		fprintf(stderr, "sse-bench: --host must be an IPv4 address\n");
		return 2;
	}
	B.run_id_len = (size_t)snprintf(B.run_id, sizeof(B.run_id), "%lx%x",
					(unsigned long)time(NULL), (unsigned)getpid());

	B.ep = epoll_create1(EPOLL_CLOEXEC);
	if (B.ep < 0)
		die("epoll_create1");
	B.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (B.timer_fd < 0)
		die("timerfd_create");
	{
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
		epoll_ctl(B.ep, EPOLL_CTL_ADD, B.timer_fd, &ev);
	}

	B.subs = calloc(B.subscribers, sizeof(Conn));
	B.wconns = calloc(B.writers, sizeof(Conn));
	if (B.subs == NULL || B.wconns == NULL)
		die("calloc");
	for (unsigned i = 0; i < B.subscribers; i++) {
		B.subs[i].fd = -1;
		B.subs[i].kind = KIND_SUB;
		B.subs[i].index = i;
	}

	/* writers first: they are idle until the write phase */
	for (unsigned i = 0; i < B.writers; i++) {
		B.wconns[i].fd = -1;
		B.wconns[i].kind = KIND_WRITER;
		B.wconns[i].index = i;
		conn_open(&B.wconns[i]);
	}
	if (!run_until(writers_ready, now_ns() + 5000000000LL)) {
		fprintf(stderr, "sse-bench: the writers could not connect\n");
		return 1;
	}

	rss0 = read_status_kib(B.server_pid, "VmRSS");

	/* ---- open the subscribers ---- */
	t_connect0 = now_ns();
	scpu_c0 = read_cpu_s(B.server_pid);
	subs_open_more();
	if (!run_until(all_connected, t_connect0 + (int64_t)(B.connect_timeout * 1e9))) {
		fprintf(stderr, "sse-bench: only %u of %u subscribers connected in %.0f s\n",
			B.connected, B.subscribers, B.connect_timeout);
	}
	t_connect1 = now_ns();
	scpu_c1 = read_cpu_s(B.server_pid);
	if (!B.quiet)
		fprintf(stderr, "sse-bench: %u/%u subscribers connected in %.2f s (%u failed)\n",
			B.connected, B.subscribers, (double)(t_connect1 - t_connect0) / 1e9,
			B.sub_failed);
	run_until(NULL, now_ns() + (int64_t)(B.settle * 1e9));
	rss_idle = read_status_kib(B.server_pid, "VmRSS");
	if (B.hold > 0) {
		printf("HOLD subscribers=%u connected=%u rss0_kib=%ld rss_idle_kib=%ld\n",
		       B.subscribers, B.connected, rss0, rss_idle);
		fflush(stdout);
		run_until(NULL, now_ns() + (int64_t)(B.hold * 1e9));
		for (unsigned i = 0; i < B.subscribers; i++)
			if (B.subs[i].fd >= 0)
				conn_close(&B.subs[i], true);
		return B.connected == B.subscribers ? 0 : 1;
	}

	/* ---- write ---- */
	B.writing = true;
	scpu0 = read_cpu_s(B.server_pid);
	ccpu0 = self_cpu_s();
	B.write_start_ns = now_ns();
	if (B.rate > 0) {
		struct itimerspec its = {0};
		int64_t period = (int64_t)(1e9 / B.rate);
		its.it_interval.tv_sec = period / 1000000000;
		its.it_interval.tv_nsec = period % 1000000000;
		its.it_value.tv_nsec = 1; /* at once */
		timerfd_settime(B.timer_fd, 0, &its, NULL);
	} else {
		for (unsigned i = 0; i < B.writers; i++)
			if (B.wconns[i].state == ST_IDLE)
				writer_send(&B.wconns[i]);
	}
	run_until(NULL, B.write_start_ns + (int64_t)(B.duration * 1e9));
	B.writing = false;
	B.write_end_ns = now_ns();
	{
		struct itimerspec its = {0};
		timerfd_settime(B.timer_fd, 0, &its, NULL);
	}
	/* let the last requests answer and their events arrive */
	bool drained = run_until(all_delivered, now_ns() + (int64_t)(B.drain_timeout * 1e9));
	int64_t t_drained = now_ns();
	scpu1 = read_cpu_s(B.server_pid);
	ccpu1 = self_cpu_s();
	rss_after = read_status_kib(B.server_pid, "VmRSS");
	hwm = read_status_kib(B.server_pid, "VmHWM");

	/* ---- report ---- */
	qsort(B.lat_us, B.lat_len, sizeof(uint32_t), cmp_u32);
	double wsecs = (double)(B.write_end_ns - B.write_start_ns) / 1e9;
	double sub0_secs = (double)(B.last_delivery_ns - B.first_delivery_ns) / 1e9;
	double sub0_rate = B.sub0_deliveries > 1 && sub0_secs > 0
			       ? (double)(B.sub0_deliveries - 1) / sub0_secs
			       : 0;
	uint64_t expected = B.writes_ok * (uint64_t)B.connected;
	uint64_t missing = expected > B.deliveries ? expected - B.deliveries : 0;
	double per_sub = (rss0 >= 0 && rss_idle >= 0 && B.connected > 0)
			     ? (double)(rss_idle - rss0) * 1024.0 / B.connected
			     : -1;
	double lat_max = B.lat_len ? B.lat_us[B.lat_len - 1] / 1000.0 : 0;
	double busy_s = (double)(t_drained - B.write_start_ns) / 1e9;
	double server_cpu = scpu0 >= 0 ? (scpu1 - scpu0) / busy_s * 100 : -1;
	double client_cpu = (ccpu1 - ccpu0) / busy_s * 100;
	double connect_s = (double)(t_connect1 - t_connect0) / 1e9;
	double spread_med = 0, spread_max = 0;
	fanout_spread(&spread_med, &spread_max);
	double server_cpu_connect =
	    /* below 0.2 s the clock-tick granularity of /proc makes the figure meaningless */
	    scpu_c0 >= 0 && connect_s >= 0.2 ? (scpu_c1 - scpu_c0) / connect_s * 100 : -1;

	printf("subscribers:   %u connected of %u (%u failed) in %.2f s\n", B.connected,
	       B.subscribers, B.sub_failed, (double)(t_connect1 - t_connect0) / 1e9);
	printf("writes:        %llu created (%llu failed) in %.2f s = %.0f/s (%s, %u writer "
	       "connections)\n",
	       (unsigned long long)B.writes_ok, (unsigned long long)B.writes_failed, wsecs,
	       B.writes_ok / wsecs, B.rate > 0 ? "steady rate" : "as fast as possible",
	       B.writers);
	printf("deliveries:    %llu of %llu expected (%llu missing, %llu resets, %llu "
	       "keep-alives)%s\n",
	       (unsigned long long)B.deliveries, (unsigned long long)expected,
	       (unsigned long long)missing, (unsigned long long)B.resets,
	       (unsigned long long)B.keepalives, drained ? "" : " [drain timed out]");
	printf("cpu:           server %.0f%%, this client %.0f%% while writing and draining "
	       "(%.2f s; 200%% = 2 cores); server %.0f%% while subscribers connected\n",
	       server_cpu, client_cpu, busy_s, server_cpu_connect);
	printf("fan-out:       one event reaches all %u subscribers in %.2f ms (median; max %.2f "
	       "ms) = %.0f deliveries/s\n",
	       B.connected, spread_med, spread_max,
	       spread_med > 0 ? B.connected / (spread_med / 1000) : 0);
	printf("subscriber 0:  %llu events, %.0f events/s\n",
	       (unsigned long long)B.sub0_deliveries, sub0_rate);
	printf("latency:       create->delivery p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max "
	       "%.2f ms (%zu samples)\n",
	       pct_ms(50), pct_ms(90), pct_ms(99), lat_max, B.lat_len);
	if (B.server_pid > 0)
		printf("server RSS:    %ld KiB before, %ld KiB with %u idle subscribers (%.0f "
		       "bytes each), %ld KiB after writing (peak %ld KiB)\n",
		       rss0, rss_idle, B.connected, per_sub, rss_after, hwm);
	printf("RESULT subscribers=%u connected=%u failed=%u connect_s=%.3f writes=%llu "
	       "write_failed=%llu write_s=%.3f write_rate=%.1f deliveries=%llu expected=%llu "
	       "missing=%llu resets=%llu sub0_events=%llu sub0_rate=%.1f p50_ms=%.3f "
	       "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f rss0_kib=%ld rss_idle_kib=%ld "
	       "per_sub_bytes=%.0f rss_after_kib=%ld hwm_kib=%ld server_cpu_pct=%.0f "
	       "client_cpu_pct=%.0f busy_s=%.3f connect_cpu_pct=%.0f drained=%d fanout_ms=%.3f "
	       "fanout_max_ms=%.3f\n",
	       B.subscribers, B.connected, B.sub_failed,
	       (double)(t_connect1 - t_connect0) / 1e9, (unsigned long long)B.writes_ok,
	       (unsigned long long)B.writes_failed, wsecs, B.writes_ok / wsecs,
	       (unsigned long long)B.deliveries, (unsigned long long)expected,
	       (unsigned long long)missing, (unsigned long long)B.resets,
	       (unsigned long long)B.sub0_deliveries, sub0_rate, pct_ms(50), pct_ms(90),
	       pct_ms(99), lat_max, rss0, rss_idle, per_sub, rss_after, hwm, server_cpu,
	       client_cpu, busy_s, server_cpu_connect, drained ? 1 : 0, spread_med, spread_max);
	fflush(stdout);

	for (unsigned i = 0; i < B.subscribers; i++)
		if (B.subs[i].fd >= 0)
			conn_close(&B.subs[i], true);
	for (unsigned i = 0; i < B.writers; i++)
		if (B.wconns[i].fd >= 0)
			conn_close(&B.wconns[i], false);
	free(B.subs);
	free(B.wconns);
	free(B.send_ns);
	free(B.first_ns);
	free(B.last_ns);
	free(B.lat_us);
	close(B.timer_fd);
	close(B.ep);
	return 0;
}
