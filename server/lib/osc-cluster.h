/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

#include "osc-config.h"
#include "osc-service.h"
#include "osc-store.h"

G_BEGIN_DECLS

/* sent on every inter-node request: the sender's node id and its salt fingerprint */
#define OSC_CLUSTER_NODE_HEADER "X-OSC-Node"
#define OSC_CLUSTER_SALT_HEADER "X-OSC-Salt-Fingerprint"

/**
 * OscClusterPeer:
 * @id: the peer as configured, `host:port`
 * @url: its base URL, `http(s)://host:port`
 */
typedef struct {
	gchar *id;
	gchar *url;
} OscClusterPeer;

void
osc_cluster_peer_free(OscClusterPeer *peer);
GPtrArray *
osc_cluster_parse_peers(const OscConfig *config, GError **error);
gchar *
osc_cluster_salt_fingerprint(GBytes *salt, guint iterations);
gboolean
osc_cluster_bootstrap_salt(const OscConfig *config, gboolean *adopted, GError **error);
gboolean
osc_cluster_partitioned(void);

#define OSC_TYPE_CLUSTER (osc_cluster_get_type())
G_DECLARE_FINAL_TYPE(OscCluster, osc_cluster, OSC, CLUSTER, GObject)

OscCluster *
osc_cluster_new(OscService *service, GError **error);
void
osc_cluster_start(OscCluster *self);
void
osc_cluster_stop(OscCluster *self);
void
osc_cluster_local_change(OscCluster *self, const gchar *key, const gchar *environment);
void
osc_cluster_request_sync(OscCluster *self);
guint
osc_cluster_get_total_nodes(OscCluster *self);
guint
osc_cluster_get_healthy_nodes(OscCluster *self);
const gchar *
osc_cluster_get_salt_fingerprint(OscCluster *self);
JsonNode *
osc_cluster_build_status(OscCluster *self, gboolean full);

G_END_DECLS
