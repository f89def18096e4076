/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "osc-cluster.h"
#include "osc-service.h"
#include "osc-sse.h"

G_BEGIN_DECLS

/* the metric families of API.md §10, registered once per service */
typedef struct {
	OscMetric *http_requests;
	OscMetric *http_duration;
	OscMetric *config_operations;
	OscMetric *config_reads;
	OscMetric *config_writes;
	OscMetric *config_entries;
	OscMetric *cluster_nodes;
	OscMetric *cluster_nodes_healthy;
	OscMetric *cluster_sync_duration;
	OscMetric *encryption_operations;
	OscMetric *api_errors;
	OscMetric *key_derivations;
	OscMetric *key_cache_entries;
	OscMetric *list_cache_lookups;
	OscMetric *list_cache_refused;
	OscMetric *list_cache_bytes;
	OscMetric *db_commits;
	OscMetric *db_syncs;
	OscMetric *db_writes_refused;
	guint64 derivations_seen; /* key cache derivations already counted */
	guint64 commits_seen;	  /* store commits already counted */
	guint64 syncs_seen;	  /* store syncs already counted */
} OscServiceMetrics;

OscServiceMetrics *
osc_service_get_metric_families(OscService *self);
OscSseHub *
osc_service_get_sse_hub(OscService *self);
OscCluster *
osc_service_get_cluster(OscService *self);
void
osc_service_adjust_entry_count(OscService *self, gint delta);

G_END_DECLS
