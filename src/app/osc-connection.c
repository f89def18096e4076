/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>

#include "osc-connection.h"

/* A saved server: where it is and how to trust it. Its keys live in the keyring. */
struct _OscConnection {
	GObject parent_instance;
	gchar *id;
	gchar *name;
	gchar *url;
	gchar *ca_file;
	gboolean tls_verify;
};

G_DEFINE_FINAL_TYPE(OscConnection, osc_connection, G_TYPE_OBJECT)

enum { PROP_0, PROP_ID, PROP_NAME, PROP_URL, PROP_CA_FILE, PROP_TLS_VERIFY, N_PROPS };

static GParamSpec *properties[N_PROPS];

static void
osc_connection_finalize(GObject *object)
{
	OscConnection *self = OSC_CONNECTION(object);

	g_free(self->id);
	g_free(self->name);
	g_free(self->url);
	g_free(self->ca_file);
	G_OBJECT_CLASS(osc_connection_parent_class)->finalize(object);
}

static void
osc_connection_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscConnection *self = OSC_CONNECTION(object);

	switch (prop_id) {
	case PROP_ID:
		g_value_set_string(value, self->id);
		break;
	case PROP_NAME:
		g_value_set_string(value, self->name);
		break;
	case PROP_URL:
		g_value_set_string(value, self->url);
		break;
	case PROP_CA_FILE:
		g_value_set_string(value, self->ca_file);
		break;
	case PROP_TLS_VERIFY:
		g_value_set_boolean(value, self->tls_verify);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_connection_class_init(OscConnectionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

	object_class->finalize = osc_connection_finalize;
	object_class->get_property = osc_connection_get_property;

	properties[PROP_ID] = g_param_spec_string("id", NULL, NULL, NULL, ro);
	properties[PROP_NAME] = g_param_spec_string("name", NULL, NULL, NULL, ro);
	properties[PROP_URL] = g_param_spec_string("url", NULL, NULL, NULL, ro);
	properties[PROP_CA_FILE] = g_param_spec_string("ca-file", NULL, NULL, NULL, ro);
	properties[PROP_TLS_VERIFY] = g_param_spec_boolean("tls-verify", NULL, NULL, TRUE, ro);
	g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
osc_connection_init(OscConnection *self)
{
	self->tls_verify = TRUE;
}

OscConnection *
osc_connection_new(const gchar *id,
		   const gchar *name,
		   const gchar *url,
		   const gchar *ca_file,
		   gboolean tls_verify)
{
	OscConnection *self;

	g_return_val_if_fail(id != NULL && id[0] != '\0', NULL);

	self = g_object_new(OSC_TYPE_CONNECTION, NULL);
	self->id = g_strdup(id);
	self->name = g_strdup(name != NULL && name[0] != '\0' ? name : url);
	self->url = g_strdup(url);
	self->ca_file = ca_file != NULL && ca_file[0] != '\0' ? g_strdup(ca_file) : NULL;
	self->tls_verify = tls_verify;
	return self;
}

/* the embedded server; its URL is known once it runs */
OscConnection *
osc_connection_new_local(void)
{
	return osc_connection_new(OSC_CONNECTION_LOCAL_ID, _("Local"), NULL, NULL, TRUE);
}

const gchar *
osc_connection_get_id(OscConnection *self)
{
	g_return_val_if_fail(OSC_IS_CONNECTION(self), NULL);
	return self->id;
}

const gchar *
osc_connection_get_name(OscConnection *self)
{
	g_return_val_if_fail(OSC_IS_CONNECTION(self), NULL);
	return self->name;
}

const gchar *
osc_connection_get_url(OscConnection *self)
{
	g_return_val_if_fail(OSC_IS_CONNECTION(self), NULL);
	return self->url;
}

const gchar *
osc_connection_get_ca_file(OscConnection *self)
{
	g_return_val_if_fail(OSC_IS_CONNECTION(self), NULL);
	return self->ca_file;
}

gboolean
osc_connection_get_tls_verify(OscConnection *self)
{
	g_return_val_if_fail(OSC_IS_CONNECTION(self), TRUE);
	return self->tls_verify;
}

gboolean
osc_connection_is_local(OscConnection *self)
{
	g_return_val_if_fail(OSC_IS_CONNECTION(self), FALSE);
	return g_str_equal(self->id, OSC_CONNECTION_LOCAL_ID);
}
