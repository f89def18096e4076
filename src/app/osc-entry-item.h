/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define OSC_TYPE_ENTRY_ITEM (osc_entry_item_get_type())
G_DECLARE_FINAL_TYPE(OscEntryItem, osc_entry_item, OSC, ENTRY_ITEM, GObject)

OscEntryItem *
osc_entry_item_new(const gchar *key,
		   const gchar *environment,
		   const gchar *category,
		   const gchar *value_json,
		   const gchar *updated_at,
		   const gchar *etag);
const gchar *
osc_entry_item_get_key(OscEntryItem *self);
const gchar *
osc_entry_item_get_environment(OscEntryItem *self);
const gchar *
osc_entry_item_get_category(OscEntryItem *self);
const gchar *
osc_entry_item_get_value_json(OscEntryItem *self);
const gchar *
osc_entry_item_get_preview(OscEntryItem *self);
const gchar *
osc_entry_item_get_updated_at(OscEntryItem *self);
const gchar *
osc_entry_item_get_etag(OscEntryItem *self);
void
osc_entry_item_set_category(OscEntryItem *self, const gchar *category);
void
osc_entry_item_set_value_json(OscEntryItem *self, const gchar *value_json);
void
osc_entry_item_set_updated_at(OscEntryItem *self, const gchar *updated_at);
void
osc_entry_item_set_etag(OscEntryItem *self, const gchar *etag);
gchar *
osc_entry_item_dup_updated_display(OscEntryItem *self);
gboolean
osc_entry_item_get_changed(OscEntryItem *self);
void
osc_entry_item_set_changed(OscEntryItem *self, gboolean changed);

G_END_DECLS
