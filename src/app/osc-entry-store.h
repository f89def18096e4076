/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gio/gio.h>
#include <libosc-client.h>

#include "osc-entry-item.h"

G_BEGIN_DECLS

#define OSC_TYPE_ENTRY_STORE (osc_entry_store_get_type())
G_DECLARE_FINAL_TYPE(OscEntryStore, osc_entry_store, OSC, ENTRY_STORE, GObject)

OscEntryStore *
osc_entry_store_new(void);
GListModel *
osc_entry_store_get_entries(OscEntryStore *self);
GListModel *
osc_entry_store_get_environments(OscEntryStore *self);
GListModel *
osc_entry_store_get_categories(OscEntryStore *self);
gboolean
osc_entry_store_get_loading(OscEntryStore *self);
void
osc_entry_store_clear(OscEntryStore *self);
void
osc_entry_store_add_entries(OscEntryStore *self, GPtrArray *entries, guint start, guint end);
OscEntryItem *
osc_entry_store_upsert(OscEntryStore *self, OscConfigEntry *entry);
OscEntryItem *
osc_entry_store_lookup(OscEntryStore *self, const gchar *key, const gchar *environment);
gboolean
osc_entry_store_remove(OscEntryStore *self, const gchar *key, const gchar *environment);
OscEntryItem *
osc_entry_store_apply_event(OscEntryStore *self, OscEvent *event);
void
osc_entry_store_load_async(OscEntryStore *self,
			   OscClient *client,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
gboolean
osc_entry_store_load_finish(OscEntryStore *self, GAsyncResult *result, GError **error);

G_END_DECLS
