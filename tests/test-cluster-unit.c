/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The cluster's configuration parsing and salt fingerprint (no processes, no network).
 */

#include "config.h"

#include "osc-cluster.h"
#include "osc-error.h"
#include "osc-test-utils.h"

static GPtrArray *
parse(const gchar *nodes, const gchar *node_id, gboolean https, GError **error)
{
	g_autoptr(OscConfig) config = osc_config_new();

	g_strfreev(config->cluster_nodes);
	config->cluster_nodes = g_strsplit(nodes, ",", -1);
	g_free(config->cluster_node_id);
	config->cluster_node_id = g_strdup(node_id);
	config->https_enabled = https;
	config->port = 9000;
	return osc_cluster_parse_peers(config, error);
}

static gchar *
describe(GPtrArray *peers)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < peers->len; i++) {
		OscClusterPeer *p = peers->pdata[i];
		g_string_append_printf(out, "%s%s=%s", i > 0 ? " " : "", p->id, p->url);
	}
	return g_string_free(out, FALSE);
}

static void
test_parse_peers(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) peers = NULL;
	g_autofree gchar *text = NULL;

	/* blanks, a scheme, a trailing slash, an empty entry, a duplicate and ourselves */
	peers = parse(" node1:9000 ,http://node2:9001/,, https://node3:9002,node1:9000,node0:9000",
		      "node0:9000", FALSE, &error);
	g_assert_no_error(error);
	text = describe(peers);
	g_assert_cmpstr(text, ==,
			"node1:9000=http://node1:9000 node2:9001=http://node2:9001 "
			"node3:9002=https://node3:9002");
	g_clear_pointer(&peers, g_ptr_array_unref);
	g_clear_pointer(&text, g_free);

	/* no scheme: https when TLS is on; IPv6 literals */
	peers = parse("node1:9000,[::1]:9001", "node0:9000", TRUE, &error);
	g_assert_no_error(error);
	text = describe(peers);
	g_assert_cmpstr(text, ==, "node1:9000=https://node1:9000 [::1]:9001=https://[::1]:9001");
	g_clear_pointer(&peers, g_ptr_array_unref);

	/* refused, naming the variable */
	for (guint i = 0; i < 4; i++) {
		static const gchar *const bad[] = {"node1", "node1:port", "ftp://node1:21",
						   "http://node1:9000/path"};
		peers = parse(bad[i], "node0:9000", FALSE, &error);
		g_assert_null(peers);
		g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, "OSC_CLUSTER_NODES"));
		g_clear_error(&error);
	}
}

static void
test_salt_fingerprint(void)
{
	guint8 a[64], b[64];
	g_autoptr(GBytes) sa = NULL;
	g_autoptr(GBytes) sb = NULL;
	g_autofree gchar *fa = NULL;
	g_autofree gchar *fa2 = NULL;
	g_autofree gchar *fb = NULL;
	g_autofree gchar *fi = NULL;
	g_autofree gchar *hex = NULL;

	for (guint i = 0; i < 64; i++) {
		a[i] = (guint8)i;
		b[i] = (guint8)(i + 1);
	}
	sa = g_bytes_new(a, sizeof(a));
	sb = g_bytes_new(b, sizeof(b));
	fa = osc_cluster_salt_fingerprint(sa, 480000);
	fa2 = osc_cluster_salt_fingerprint(sa, 480000);
	fb = osc_cluster_salt_fingerprint(sb, 480000);
	fi = osc_cluster_salt_fingerprint(sa, 1000);
	g_assert_cmpuint(strlen(fa), ==, 32);
	g_assert_cmpstr(fa, ==, fa2);
	g_assert_cmpstr(fa, !=, fb);
	g_assert_cmpstr(fa, !=, fi); /* another iteration count derives other keys */
	/* it is not the salt, nor a prefix of it */
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, a, sizeof(a));
	g_assert_false(g_str_has_prefix(hex, fa));
}

static void
test_partition_switch(void)
{
	g_autofree gchar *dir = osc_test_make_tmpdir();
	g_autofree gchar *path = g_build_filename(dir, "cut", NULL);

	g_unsetenv("OSC_TEST_PARTITION_FILE");
	g_assert_false(osc_cluster_partitioned());
	g_setenv("OSC_TEST_PARTITION_FILE", path, TRUE);
	g_assert_false(osc_cluster_partitioned());
	g_assert_true(g_file_set_contents(path, "", 0, NULL));
	g_assert_true(osc_cluster_partitioned());
	g_unsetenv("OSC_TEST_PARTITION_FILE");
	g_assert_false(osc_cluster_partitioned());
	osc_test_rm_rf(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/osc/cluster-unit/parse-peers", test_parse_peers);
	g_test_add_func("/osc/cluster-unit/salt-fingerprint", test_salt_fingerprint);
	g_test_add_func("/osc/cluster-unit/partition-switch", test_partition_switch);
	return g_test_run();
}
