/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include "osc-dbus-generated.h"
#include "osc-service.h"

G_BEGIN_DECLS

#define OSC_DAEMON_BUS_NAME "org.opensecureconf.Server1"
#define OSC_DAEMON_OBJECT_PATH "/org/opensecureconf/Server1"

#define OSC_TYPE_DAEMON (osc_daemon_get_type())
G_DECLARE_FINAL_TYPE(OscDaemon, osc_daemon, OSC, DAEMON, OscDBusServer1Skeleton)

OscDaemon *
osc_daemon_new(OscService *service, const gchar *config_path);
void
osc_daemon_shutdown(OscDaemon *self);

gboolean
osc_daemon_uid_is_privileged(guint32 caller_uid, guint32 own_uid);
gboolean
osc_daemon_sd_notify(const gchar *state, GError **error);

G_END_DECLS
