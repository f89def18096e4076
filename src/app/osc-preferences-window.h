/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define OSC_TYPE_PREFERENCES_WINDOW (osc_preferences_window_get_type())
G_DECLARE_FINAL_TYPE(OscPreferencesWindow,
		     osc_preferences_window,
		     OSC,
		     PREFERENCES_WINDOW,
		     AdwPreferencesWindow)

OscPreferencesWindow *
osc_preferences_window_new(GSettings *settings);

G_END_DECLS
