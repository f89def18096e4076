/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "osc-connection.h"
#include "osc-editor-dialog.h"
#include "osc-entry-filter.h"
#include "osc-window.h"

G_BEGIN_DECLS

struct _OscWindow {
	AdwApplicationWindow parent_instance;

	/* template */
	AdwToastOverlay *toast_overlay;
	AdwViewSwitcherTitle *switcher_title;
	AdwViewStack *view_stack;
	AdwFlap *flap;
	GtkListBox *env_list;
	GtkSearchBar *search_bar;
	GtkSearchEntry *search_entry;
	GtkDropDown *category_dropdown;
	GtkStack *content_stack;
	GtkColumnView *column_view;
	GtkColumnViewColumn *value_column;
	GtkSingleSelection *selection;
	GtkSortListModel *sort_model;
	GtkFilterListModel *filter_model;
	OscEntryFilter *filter;
	GtkMenuButton *connection_button;
	GtkRevealer *banner_revealer;
	GtkLabel *banner_label;
	GtkRevealer *keyring_revealer;
	GtkLabel *count_label;
	GtkSpinner *spinner;
	GtkWidget *history_button;
	GMenu *tools_section;

	/* state */
	GSettings *settings;
	OscEntryStore *store;
	OscConnection *connection;
	gchar *connection_id;
	OscClient *client;
	OscEventStream *events;
	GCancellable *cancellable; /* of the current connection */
	gboolean had_connected;
	gboolean load_failed;
	gboolean mask_values;
	GPtrArray *value_cells; /* GtkListItem of the value column that are bound */
	GPtrArray *pages;	/* the other pages of the view stack: each has "client" */
	OscEditorDialog *editor; /* weak */
	AdwMessageDialog *delete_dialog; /* weak */
	GtkWindow *connection_dialog;	 /* weak */
	OscEntryItem *changed_item;	 /* highlighted until the editor closes */

	/* undo of the last delete */
	gchar *undo_key;
	gchar *undo_environment;
	gchar *undo_category;
	gchar *undo_value_json;

	/* clipboard clearing */
	gchar *copied_value;
	guint clipboard_source;
};

void
_osc_window_class_add_actions(GtkWidgetClass *widget_class);
void
_osc_window_update_actions(OscWindow *self);
OscEntryItem *
_osc_window_get_selected(OscWindow *self);
void
_osc_window_reload(OscWindow *self);
void
_osc_window_show_banner(OscWindow *self, const gchar *text);
void
_osc_window_rebuild_connection_menu(OscWindow *self);

G_END_DECLS
