/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * bench-ceiling: the cheapest possible libsoup 3 server, as the ceiling the HTTP benchmark
 * (tests/bench/run-http-bench) compares oscd against. One handler, answering every request
 * with 200 {"status":"healthy"} (application/json), on 127.0.0.1:PORT, one thread, no
 * logging: whatever oscd does above this is oscd's own cost.
 *
 *   bench-ceiling PORT     (0: any free port; the "listening on" line says which)
 */

#include <glib-unix.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>

static const char body[] = "{\"status\":\"healthy\"}";

static void
ceiling_handler(SoupServer *server,
		SoupServerMessage *msg,
		const char *path,
		GHashTable *query,
		gpointer user_data)
{
	soup_server_message_set_status(msg, 200, NULL);
	soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_STATIC, body,
					 sizeof(body) - 1);
}

static gboolean
ceiling_quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SoupServer) server = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autoptr(GInetAddress) lo = NULL;
	g_autoptr(GSocketAddress) addr = NULL;
	guint64 port = 0;
	GSList *uris;

	if (argc != 2 || !g_ascii_string_to_unsigned(argv[1], 10, 0, 65535, &port, NULL)) {
		g_printerr("usage: %s PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	server = soup_server_new("server-header", "bench-ceiling", NULL);
	soup_server_add_handler(server, NULL, ceiling_handler, NULL, NULL);
	lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	addr = g_inet_socket_address_new(lo, (guint16)port);
	if (!soup_server_listen(server, addr, 0, &error)) {
		g_printerr("bench-ceiling: %s\n", error->message);
		return 1;
	}
	/* PORT 0 picks a free port: the line below says which (the scripts read it) */
	uris = soup_server_get_uris(server);
	for (GSList *l = uris; l != NULL; l = l->next) {
		g_autofree gchar *uri = g_uri_to_string(l->data);
		g_print("  listening on %s\n", uri);
	}
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, ceiling_quit_cb, loop);
	g_unix_signal_add(SIGINT, ceiling_quit_cb, loop);
	g_main_loop_run(loop);
	return 0;
}
