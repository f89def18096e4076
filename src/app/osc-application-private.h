/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "osc-application.h"

G_BEGIN_DECLS

struct _OscApplication {
	AdwApplication parent_instance;
	GSettings *settings;
	OscConnectionList *connections;
	OscLocalServer *local;
	gchar *local_user_key;
	gboolean local_key_persistent;
	GPtrArray *local_key_waiters; /* GTask */
	gboolean headless;
	gboolean quitting;
	guint sigint_source;
	guint sigterm_source;
};

void
_osc_application_add_actions(OscApplication *self);

G_END_DECLS
