/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define OSC_TYPE_ENTRY_FILTER (osc_entry_filter_get_type())
G_DECLARE_FINAL_TYPE(OscEntryFilter, osc_entry_filter, OSC, ENTRY_FILTER, GtkFilter)

OscEntryFilter *
osc_entry_filter_new(void);
const gchar *
osc_entry_filter_get_search(OscEntryFilter *self);
void
osc_entry_filter_set_search(OscEntryFilter *self, const gchar *search);
const gchar *
osc_entry_filter_get_environment(OscEntryFilter *self);
void
osc_entry_filter_set_environment(OscEntryFilter *self, const gchar *environment);
const gchar *
osc_entry_filter_get_category(OscEntryFilter *self);
void
osc_entry_filter_set_category(OscEntryFilter *self, const gchar *category);

G_END_DECLS
