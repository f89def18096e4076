/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define OSC_TYPE_COUNT_ITEM (osc_count_item_get_type())
G_DECLARE_FINAL_TYPE(OscCountItem, osc_count_item, OSC, COUNT_ITEM, GObject)

OscCountItem *
osc_count_item_new(const gchar *name);
const gchar *
osc_count_item_get_name(OscCountItem *self);
const gchar *
osc_count_item_get_label(OscCountItem *self);
guint
osc_count_item_get_count(OscCountItem *self);
void
osc_count_item_set_count(OscCountItem *self, guint count);
gint
osc_count_item_compare(gconstpointer a, gconstpointer b, gpointer user_data);

G_END_DECLS
