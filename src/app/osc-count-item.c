/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>

#include "osc-count-item.h"

/* One row of the environment sidebar or the category filter: a name and how many entries
 * carry it. The name NULL stands for "All". */
struct _OscCountItem {
	GObject parent_instance;
	gchar *name;
	guint count;
};

G_DEFINE_FINAL_TYPE(OscCountItem, osc_count_item, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_LABEL, PROP_COUNT, N_PROPS };

static GParamSpec *properties[N_PROPS];

static void
osc_count_item_finalize(GObject *object)
{
	OscCountItem *self = OSC_COUNT_ITEM(object);

	g_free(self->name);
	G_OBJECT_CLASS(osc_count_item_parent_class)->finalize(object);
}

static void
osc_count_item_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscCountItem *self = OSC_COUNT_ITEM(object);

	switch (prop_id) {
	case PROP_NAME:
		g_value_set_string(value, self->name);
		break;
	case PROP_LABEL:
		g_value_set_string(value, osc_count_item_get_label(self));
		break;
	case PROP_COUNT:
		g_value_set_uint(value, self->count);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_count_item_set_property(GObject *object,
			    guint prop_id,
			    const GValue *value,
			    GParamSpec *pspec)
{
	OscCountItem *self = OSC_COUNT_ITEM(object);

	switch (prop_id) {
	case PROP_NAME:
		self->name = g_value_dup_string(value);
		break;
	case PROP_COUNT:
		osc_count_item_set_count(self, g_value_get_uint(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_count_item_class_init(OscCountItemClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = osc_count_item_finalize;
	object_class->get_property = osc_count_item_get_property;
	object_class->set_property = osc_count_item_set_property;

	properties[PROP_NAME] =
	    g_param_spec_string("name", NULL, NULL, NULL,
				G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
	properties[PROP_LABEL] =
	    g_param_spec_string("label", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	properties[PROP_COUNT] =
	    g_param_spec_uint("count", NULL, NULL, 0, G_MAXUINT, 0,
			      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
osc_count_item_init(OscCountItem *self)
{
}

OscCountItem *
osc_count_item_new(const gchar *name)
{
	return g_object_new(OSC_TYPE_COUNT_ITEM, "name", name, NULL);
}

const gchar *
osc_count_item_get_name(OscCountItem *self)
{
	g_return_val_if_fail(OSC_IS_COUNT_ITEM(self), NULL);
	return self->name;
}

const gchar *
osc_count_item_get_label(OscCountItem *self)
{
	g_return_val_if_fail(OSC_IS_COUNT_ITEM(self), NULL);
	return self->name != NULL ? self->name : _("All");
}

guint
osc_count_item_get_count(OscCountItem *self)
{
	g_return_val_if_fail(OSC_IS_COUNT_ITEM(self), 0);
	return self->count;
}

void
osc_count_item_set_count(OscCountItem *self, guint count)
{
	g_return_if_fail(OSC_IS_COUNT_ITEM(self));
	if (self->count == count)
		return;
	self->count = count;
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_COUNT]);
}

/* "All" first, then by name */
gint
osc_count_item_compare(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const OscCountItem *ia = a, *ib = b;

	if (ia->name == NULL || ib->name == NULL)
		return (ia->name == NULL ? 0 : 1) - (ib->name == NULL ? 0 : 1);
	return g_utf8_collate(ia->name, ib->name);
}
