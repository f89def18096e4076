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

G_BEGIN_DECLS

#define OSC_TYPE_EVENT (osc_event_get_type())

OSC_CLIENT_EXPORT
G_DECLARE_FINAL_TYPE(OscEvent, osc_event, OSC, EVENT, GObject)

OSC_CLIENT_EXPORT
const gchar *
osc_event_get_event_type(OscEvent *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_get_id(OscEvent *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_get_key(OscEvent *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_get_environment(OscEvent *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_get_category(OscEvent *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_get_timestamp(OscEvent *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_get_node_id(OscEvent *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_get_subscription_id(OscEvent *self);
OSC_CLIENT_EXPORT
JsonNode *
osc_event_get_data(OscEvent *self);
OSC_CLIENT_EXPORT
JsonNode *
osc_event_get_value(OscEvent *self);
OSC_CLIENT_EXPORT
gchar *
osc_event_get_value_string(OscEvent *self);
OSC_CLIENT_EXPORT
JsonNode *
osc_event_get_payload(OscEvent *self);
OSC_CLIENT_EXPORT
const gchar *
osc_event_get_payload_string(OscEvent *self);

G_END_DECLS
