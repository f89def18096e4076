/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "osc-key-cache.h"
#include "osc-metrics.h"
#include "osc-store.h"

G_BEGIN_DECLS

#define OSC_TYPE_SSE_HUB (osc_sse_hub_get_type())
G_DECLARE_FINAL_TYPE(OscSseHub, osc_sse_hub, OSC, SSE_HUB, GObject)

OscSseHub *
osc_sse_hub_new(OscMetrics *metrics,
		const gchar *node_id,
		guint queue_size,
		guint keepalive_interval,
		guint log_size);
void
osc_sse_hub_subscribe(OscSseHub *self,
		      SoupServerMessage *msg,
		      const gchar *key,
		      const gchar *environment,
		      const gchar *category,
		      OscDerivedKey *dk,
		      const gchar *last_event_id);
void
osc_sse_hub_publish(OscSseHub *self, const gchar *kind, OscEntryRow *row, JsonNode *value);
void
osc_sse_hub_publish_reset(OscSseHub *self, const gchar *reason);
guint
osc_sse_hub_get_queue_size(OscSseHub *self);
void
osc_sse_hub_close_all(OscSseHub *self);
guint
osc_sse_hub_get_active(OscSseHub *self);
guint64
osc_sse_hub_get_total_sent(OscSseHub *self);
guint64
osc_sse_hub_get_last_event_id(OscSseHub *self);
JsonNode *
osc_sse_hub_build_stats(OscSseHub *self);
JsonNode *
osc_sse_hub_build_subscriptions(OscSseHub *self);
gchar *
osc_sse_format_event(const gchar *event, guint64 id, const gchar *data);

G_END_DECLS
