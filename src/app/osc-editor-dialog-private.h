/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <gtksourceview/gtksource.h>

#include "osc-editor-dialog.h"

G_BEGIN_DECLS

struct _OscEditorDialog {
	AdwWindow parent_instance;

	/* template */
	AdwEntryRow *key_row;
	AdwEntryRow *environment_row;
	AdwEntryRow *category_row;
	GtkSourceView *value_view;
	GtkSourceBuffer *value_buffer;
	GtkLabel *error_label;
	GtkLabel *type_label;
	GtkRevealer *changed_revealer;
	GtkLabel *changed_label;
	GtkRevealer *conflict_revealer;
	GtkSourceView *theirs_view;
	GtkSourceBuffer *theirs_buffer;
	GtkWidget *save_button;

	/* state */
	OscClient *client;
	OscEntryStore *store;
	gchar *key; /* NULL for a new entry */
	gchar *environment;
	gchar *etag;
	gchar *theirs_etag;
	gchar *saved_value; /* what our last save sent, to recognise its own event */
	GCancellable *cancellable;
	gboolean busy;
	gboolean valid;
};

G_END_DECLS
