/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#if !defined(OSC_CLIENT_INSIDE) && !defined(OSC_CLIENT_COMPILATION)
#error "Only <libosc-client.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "osc-client-export.h"
#include "osc-event.h"

G_BEGIN_DECLS

#define OSC_TYPE_EVENT_STREAM (osc_event_stream_get_type())

OSC_CLIENT_EXPORT
G_DECLARE_FINAL_TYPE(OscEventStream, osc_event_stream, OSC, EVENT_STREAM, GObject)

OSC_CLIENT_EXPORT
OscEventStream *
osc_event_stream_new(const gchar *base_url, const gchar *api_key);

OSC_CLIENT_EXPORT
void
osc_event_stream_start(OscEventStream *self);
OSC_CLIENT_EXPORT
void
osc_event_stream_stop(OscEventStream *self);

OSC_CLIENT_EXPORT
gboolean
osc_event_stream_get_connected(OscEventStream *self);
OSC_CLIENT_EXPORT
gboolean
osc_event_stream_get_running(OscEventStream *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_stream_get_subscription_id(OscEventStream *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_stream_get_last_event_id(OscEventStream *self);
OSC_CLIENT_EXPORT
void
osc_event_stream_set_last_event_id(OscEventStream *self, const gchar *last_event_id);

OSC_CLIENT_EXPORT
guint64
osc_event_stream_get_events_received(OscEventStream *self);
OSC_CLIENT_EXPORT
guint64
osc_event_stream_get_event_count(OscEventStream *self, const gchar *event_type);
OSC_CLIENT_EXPORT
guint64
osc_event_stream_get_keepalives_received(OscEventStream *self);
OSC_CLIENT_EXPORT
guint64
osc_event_stream_get_reconnections(OscEventStream *self);
OSC_CLIENT_EXPORT
guint64
osc_event_stream_get_errors(OscEventStream *self);
OSC_CLIENT_EXPORT
gdouble
osc_event_stream_get_uptime(OscEventStream *self);
OSC_CLIENT_EXPORT
JsonNode *
osc_event_stream_get_statistics(OscEventStream *self);

G_END_DECLS
