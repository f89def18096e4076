/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define OSC_CONNECTION_LOCAL_ID "local"

#define OSC_TYPE_CONNECTION (osc_connection_get_type())
G_DECLARE_FINAL_TYPE(OscConnection, osc_connection, OSC, CONNECTION, GObject)

OscConnection *
osc_connection_new(const gchar *id,
		   const gchar *name,
		   const gchar *url,
		   const gchar *ca_file,
		   gboolean tls_verify);
OscConnection *
osc_connection_new_local(void);
const gchar *
osc_connection_get_id(OscConnection *self);
const gchar *
osc_connection_get_name(OscConnection *self);
const gchar *
osc_connection_get_url(OscConnection *self);
const gchar *
osc_connection_get_ca_file(OscConnection *self);
gboolean
osc_connection_get_tls_verify(OscConnection *self);
gboolean
osc_connection_is_local(OscConnection *self);

G_END_DECLS
