/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "libosc-client.h"

G_BEGIN_DECLS

#define OSC_PAGES_RESOURCE "/org/opensecureconf/Admin/pages/"

/*
 * What every page shows in its GtkStack: "empty" (no client), "loading", "content" or
 * "error". The tests read it through osc_pages_get_state() to wait for a load.
 */
const gchar *
osc_pages_get_state(GtkWidget *page);

/* a page's shared plumbing: its stack, the status pages, and the load in flight */
typedef struct {
	GtkStack *stack;
	AdwStatusPage *error_page;
	GCancellable *cancellable;
	guint pending;	/* calls still running in this load */
	gboolean failed;
} OscPageLoad;

void
osc_page_load_begin(OscPageLoad *load, guint n_calls);
/* one call ended; TRUE when it was the last of the load */
gboolean
osc_page_load_end(OscPageLoad *load);
void
osc_page_load_fail(OscPageLoad *load, const GError *error);
void
osc_page_load_show_empty(OscPageLoad *load);
void
osc_page_load_clear(OscPageLoad *load);
gboolean
osc_pages_is_cancelled(const GError *error);

/* tolerant JSON readers: a missing or mistyped member reads as 0 / NULL */
gint64
osc_pages_json_int(JsonObject *obj, const gchar *name);
gdouble
osc_pages_json_double(JsonObject *obj, const gchar *name);
const gchar *
osc_pages_json_string(JsonObject *obj, const gchar *name);
JsonObject *
osc_pages_json_object(JsonObject *obj, const gchar *name);

/* rows of a GtkListBox */
void
osc_pages_list_box_clear(GtkListBox *box);
GtkWidget *
osc_pages_value_row(const gchar *title, const gchar *subtitle, const gchar *value);
void
osc_pages_value_row_set(GtkWidget *row, const gchar *value);
const gchar *
osc_pages_value_row_get(GtkWidget *row);

/* a message for a failed call, for an AdwStatusPage or a toast */
gchar *
osc_pages_error_text(const GError *error);

G_END_DECLS
