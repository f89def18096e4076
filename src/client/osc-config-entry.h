/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#if !defined(OSC_CLIENT_INSIDE) && !defined(OSC_CLIENT_COMPILATION)
#error "Only <libosc-client.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "osc-client-export.h"

G_BEGIN_DECLS

#define OSC_TYPE_CONFIG_ENTRY (osc_config_entry_get_type())

typedef struct _OscConfigEntry OscConfigEntry;

OSC_CLIENT_EXPORT
GType
osc_config_entry_get_type(void);

OSC_CLIENT_EXPORT
OscConfigEntry *
osc_config_entry_new(const gchar *key,
		     const gchar *environment,
		     const gchar *category,
		     JsonNode *value);
OSC_CLIENT_EXPORT
OscConfigEntry *
osc_config_entry_new_from_string(const gchar *key,
				 const gchar *environment,
				 const gchar *category,
				 const gchar *value_json,
				 GError **error);
OSC_CLIENT_EXPORT
OscConfigEntry *
osc_config_entry_new_from_json(JsonNode *node, GError **error);
OSC_CLIENT_EXPORT
OscConfigEntry *
osc_config_entry_ref(OscConfigEntry *self);
OSC_CLIENT_EXPORT
void
osc_config_entry_unref(OscConfigEntry *self);

OSC_CLIENT_EXPORT
const gchar *
osc_config_entry_get_key(const OscConfigEntry *self);
OSC_CLIENT_EXPORT
const gchar *
osc_config_entry_get_environment(const OscConfigEntry *self);
OSC_CLIENT_EXPORT
const gchar *
osc_config_entry_get_category(const OscConfigEntry *self);
OSC_CLIENT_EXPORT
JsonNode *
osc_config_entry_get_value(const OscConfigEntry *self);
OSC_CLIENT_EXPORT
gchar *
osc_config_entry_get_value_string(const OscConfigEntry *self);
OSC_CLIENT_EXPORT
gint64
osc_config_entry_get_id(const OscConfigEntry *self);
OSC_CLIENT_EXPORT
const gchar *
osc_config_entry_get_created_at(const OscConfigEntry *self);
OSC_CLIENT_EXPORT
const gchar *
osc_config_entry_get_updated_at(const OscConfigEntry *self);
OSC_CLIENT_EXPORT
const gchar *
osc_config_entry_get_etag(const OscConfigEntry *self);
OSC_CLIENT_EXPORT
JsonNode *
osc_config_entry_to_json(const OscConfigEntry *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscConfigEntry, osc_config_entry_unref)

G_END_DECLS
