/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscBenchSse"

#include "config.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "osc-metrics.h"
#include "osc-sse.h"

/*
 * SSE delivery to one subscriber, without the store: run-sse-bench's one-subscriber
 * figure is bounded by how fast oscd commits creates (one fdatasync each), so this one
 * publishes `created` events straight into an OscSseHub, in-process, behind a libsoup
 * server, as fast as it can, to one subscriber: a client thread on a plain blocking
 * socket that reads the stream and counts the events. Run by hand:
 *   bench-sse [SECONDS]          (default 3)
 * Prints events published/s, events delivered/s, and drops (the hub's queue is 100, as
 * oscd's default; a drop means the client fell behind by that much).
 */

typedef struct {
	guint16 port;
	gint connected; /* atomic: the `connected` event arrived */
	gint stop;	/* atomic */
	gint count;	/* atomic: `created` events received */
	gintptr last_us; /* atomic: when the last one arrived (µs) */
} Client;

static gpointer
client_thread(gpointer data)
{
	Client *c = data;
	static const gchar needle[] = "event: created\r\n";
	const gsize nlen = sizeof(needle) - 1;
	struct sockaddr_in addr = {0};
	gint fd = socket(AF_INET, SOCK_STREAM, 0);
	gchar request[128];
	gchar buf[65536 + 32];
	gsize keep = 0;

	addr.sin_family = AF_INET;
	addr.sin_port = htons(c->port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		g_error("connect: %s", g_strerror(errno));
	g_snprintf(request, sizeof(request), "GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	if (write(fd, request, strlen(request)) != (gssize)strlen(request))
		g_error("write: %s", g_strerror(errno));
	while (!g_atomic_int_get(&c->stop)) {
		gssize n = read(fd, buf + keep, sizeof(buf) - keep - 1);
		gint found = 0;
		gsize len;

		if (n <= 0)
			break;
		len = keep + (gsize)n;
		buf[len] = '\0';
		if (!g_atomic_int_get(&c->connected) && strstr(buf, "event: connected\r\n") != NULL)
			g_atomic_int_set(&c->connected, 1);
		for (const gchar *p = buf; (p = strstr(p, needle)) != NULL; p += nlen)
			found++;
		if (found > 0) {
			g_atomic_int_add(&c->count, found);
			g_atomic_pointer_set(&c->last_us, (gintptr)g_get_monotonic_time());
		}
		/* an event name cut by the read: keep its start for the next one */
		keep = MIN(len, nlen - 1);
		memmove(buf, buf + len - keep, keep);
	}
	close(fd);
	return NULL;
}

static void
handler_cb(SoupServer *server,
	   SoupServerMessage *msg,
	   const char *path,
	   GHashTable *query,
	   gpointer user_data)
{
	osc_sse_hub_subscribe(OSC_SSE_HUB(user_data), msg, NULL, NULL, NULL, NULL, NULL);
}

int
main(int argc, char **argv)
{
	gdouble seconds = argc > 1 ? g_ascii_strtod(argv[1], NULL) : 3.0;
	g_autoptr(OscMetrics) metrics = osc_metrics_new();
	g_autoptr(OscSseHub) hub = osc_sse_hub_new(metrics, "bench", 100, 15, 10000);
	g_autoptr(SoupServer) server = soup_server_new(NULL, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) stats = NULL;
	GSList *uris;
	Client client = {0};
	GThread *thread;
	OscEntryRow row = {0};
	gint64 start, end, published = 0, deadline;
	gint64 dropped;

	soup_server_add_handler(server, "/sse", handler_cb, hub, NULL);
	if (!soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
		g_error("listen: %s", error->message);
	uris = soup_server_get_uris(server);
	client.port = (guint16)g_uri_get_port(uris->data);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	thread = g_thread_new("client", client_thread, &client);
	while (!g_atomic_int_get(&client.connected))
		g_main_context_iteration(NULL, TRUE);

	row.key = (gchar *)"bench-key";
	row.environment = (gchar *)"production";
	row.category = (gchar *)"config";
	row.token = (gchar *)"token";
	start = g_get_monotonic_time();
	deadline = start + (gint64)(seconds * G_USEC_PER_SEC);
	while (g_get_monotonic_time() < deadline) {
		for (guint i = 0; i < 64; i++) {
			osc_sse_hub_publish(hub, "created", &row, NULL);
			published++;
		}
		/* let the hub write what waits for the socket */
		while (g_main_context_iteration(NULL, FALSE))
			;
	}
	end = g_get_monotonic_time();
	stats = osc_sse_hub_build_stats(hub);
	dropped = json_object_get_int_member(
	    json_object_get_object_member(json_node_get_object(stats), "events"),
	    "dropped_queue_full");
	/* what was queued arrives: wait for it (or 5 s) */
	deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (g_atomic_int_get(&client.count) < published - dropped &&
	       g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);

	g_print("published  %" G_GINT64_FORMAT " events in %.2f s = %.0f events/s\n", published,
		(gdouble)(end - start) / G_USEC_PER_SEC,
		(gdouble)published * G_USEC_PER_SEC / (gdouble)(end - start));
	g_print("delivered  %" G_GINT64_FORMAT " events to one subscriber = %.0f events/s "
		"(first publish to last arrival)\n",
		(gint64)g_atomic_int_get(&client.count),
		(gdouble)(gint64)g_atomic_int_get(&client.count) * G_USEC_PER_SEC /
		    (gdouble)((gint64)(gintptr)g_atomic_pointer_get(&client.last_us) - start));
	g_print("dropped    %" G_GINT64_FORMAT " (queue full: the client fell 100 events behind; "
		"each drop run ends with a reset)\n",
		dropped);
	g_print("RESULT published_per_s=%.0f delivered_per_s=%.0f dropped=%" G_GINT64_FORMAT "\n",
		(gdouble)published * G_USEC_PER_SEC / (gdouble)(end - start),
		(gdouble)(gint64)g_atomic_int_get(&client.count) * G_USEC_PER_SEC /
		    (gdouble)((gint64)(gintptr)g_atomic_pointer_get(&client.last_us) - start),
		dropped);
	g_atomic_int_set(&client.stop, 1);
	osc_sse_hub_close_all(hub);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_thread_join(thread);
	return 0;
}
