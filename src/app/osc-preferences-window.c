/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>

#include "osc-preferences-window.h"

/* The settings a person changes: bound straight to GSettings, applied by their readers. */
struct _OscPreferencesWindow {
	AdwPreferencesWindow parent_instance;
	GSettings *settings;
	AdwComboRow *theme_row;
	GtkSpinButton *clipboard_spin;
	GtkSwitch *mask_switch;
	GtkSpinButton *refresh_spin;
};

G_DEFINE_FINAL_TYPE(OscPreferencesWindow, osc_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static gboolean
osc_preferences_theme_get_cb(GValue *value, GVariant *variant, gpointer user_data)
{
	const gchar *nick = g_variant_get_string(variant, NULL);

	g_value_set_uint(value, g_str_equal(nick, "light") ? 1 : g_str_equal(nick, "dark") ? 2 : 0);
	return TRUE;
}

static GVariant *
osc_preferences_theme_set_cb(const GValue *value, const GVariantType *type, gpointer user_data)
{
	static const gchar *nicks[] = {"default", "light", "dark"};
	guint idx = g_value_get_uint(value);

	return g_variant_new_string(nicks[MIN(idx, G_N_ELEMENTS(nicks) - 1)]);
}

static void
osc_preferences_window_dispose(GObject *object)
{
	OscPreferencesWindow *self = OSC_PREFERENCES_WINDOW(object);

	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_PREFERENCES_WINDOW);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(osc_preferences_window_parent_class)->dispose(object);
}

static void
osc_preferences_window_class_init(OscPreferencesWindowClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	G_OBJECT_CLASS(klass)->dispose = osc_preferences_window_dispose;
	gtk_widget_class_set_template_from_resource(
	    widget_class, "/org/opensecureconf/Admin/ui/osc-preferences-window.ui");
	gtk_widget_class_bind_template_child(widget_class, OscPreferencesWindow, theme_row);
	gtk_widget_class_bind_template_child(widget_class, OscPreferencesWindow, clipboard_spin);
	gtk_widget_class_bind_template_child(widget_class, OscPreferencesWindow, mask_switch);
	gtk_widget_class_bind_template_child(widget_class, OscPreferencesWindow, refresh_spin);
}

static void
osc_preferences_window_init(OscPreferencesWindow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

OscPreferencesWindow *
osc_preferences_window_new(GSettings *settings)
{
	OscPreferencesWindow *self;

	g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);

	self = g_object_new(OSC_TYPE_PREFERENCES_WINDOW, NULL);
	self->settings = g_object_ref(settings);
	g_settings_bind_with_mapping(settings, "color-scheme", self->theme_row, "selected",
				     G_SETTINGS_BIND_DEFAULT, osc_preferences_theme_get_cb,
				     osc_preferences_theme_set_cb, NULL, NULL);
	g_settings_bind(settings, "clipboard-timeout", self->clipboard_spin, "value",
			G_SETTINGS_BIND_DEFAULT);
	g_settings_bind(settings, "mask-values", self->mask_switch, "active",
			G_SETTINGS_BIND_DEFAULT);
	g_settings_bind(settings, "auto-refresh-interval", self->refresh_spin, "value",
			G_SETTINGS_BIND_DEFAULT);
	return self;
}
