/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <string.h>

#include "osc-entry-item.h"

/* how much of a value the list shows: a row is one line, and 100,000 rows must stay cheap */
#define OSC_PREVIEW_CHARS 80

/* One configuration entry as the list shows it. Values are kept as compact JSON text. */
struct _OscEntryItem {
	GObject parent_instance;
	gchar *key;
	gchar *environment;
	gchar *category;
	gchar *value_json;
	gchar *preview;
	gchar *updated_at;
	gchar *etag;
	gboolean changed;
};

G_DEFINE_FINAL_TYPE(OscEntryItem, osc_entry_item, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_KEY,
	PROP_ENVIRONMENT,
	PROP_CATEGORY,
	PROP_VALUE_JSON,
	PROP_PREVIEW,
	PROP_UPDATED_AT,
	PROP_ETAG,
	PROP_CHANGED,
	PROP_CSS_CLASSES,
	PROP_UPDATED_DISPLAY,
	N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
osc_entry_item_finalize(GObject *object)
{
	OscEntryItem *self = OSC_ENTRY_ITEM(object);

	g_free(self->key);
	g_free(self->environment);
	g_free(self->category);
	g_free(self->value_json);
	g_free(self->preview);
	g_free(self->updated_at);
	g_free(self->etag);
	G_OBJECT_CLASS(osc_entry_item_parent_class)->finalize(object);
}

static void
osc_entry_item_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscEntryItem *self = OSC_ENTRY_ITEM(object);

	switch (prop_id) {
	case PROP_KEY:
		g_value_set_string(value, self->key);
		break;
	case PROP_ENVIRONMENT:
		g_value_set_string(value, self->environment);
		break;
	case PROP_CATEGORY:
		g_value_set_string(value, self->category);
		break;
	case PROP_VALUE_JSON:
		g_value_set_string(value, self->value_json);
		break;
	case PROP_PREVIEW:
		g_value_set_string(value, osc_entry_item_get_preview(self));
		break;
	case PROP_UPDATED_AT:
		g_value_set_string(value, self->updated_at);
		break;
	case PROP_ETAG:
		g_value_set_string(value, self->etag);
		break;
	case PROP_CHANGED:
		g_value_set_boolean(value, self->changed);
		break;
	case PROP_UPDATED_DISPLAY:
		g_value_take_string(value, osc_entry_item_dup_updated_display(self));
		break;
	case PROP_CSS_CLASSES: {
		static const gchar *changed[] = {"osc-changed", NULL};
		static const gchar *none[] = {NULL};

		g_value_set_boxed(value, self->changed ? changed : none);
		break;
	}
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_entry_item_class_init(OscEntryItemClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

	object_class->finalize = osc_entry_item_finalize;
	object_class->get_property = osc_entry_item_get_property;

	properties[PROP_KEY] = g_param_spec_string("key", NULL, NULL, NULL, ro);
	properties[PROP_ENVIRONMENT] = g_param_spec_string("environment", NULL, NULL, NULL, ro);
	properties[PROP_CATEGORY] = g_param_spec_string("category", NULL, NULL, NULL, ro);
	properties[PROP_VALUE_JSON] = g_param_spec_string("value-json", NULL, NULL, NULL, ro);
	properties[PROP_PREVIEW] = g_param_spec_string("preview", NULL, NULL, NULL, ro);
	properties[PROP_UPDATED_AT] = g_param_spec_string("updated-at", NULL, NULL, NULL, ro);
	properties[PROP_ETAG] = g_param_spec_string("etag", NULL, NULL, NULL, ro);
	properties[PROP_CHANGED] = g_param_spec_boolean("changed", NULL, NULL, FALSE, ro);
	properties[PROP_UPDATED_DISPLAY] =
	    g_param_spec_string("updated-display", NULL, NULL, NULL, ro);
	/* for a cell's css-classes: marks the row whose entry changed under the editor */
	properties[PROP_CSS_CLASSES] =
	    g_param_spec_boxed("css-classes", NULL, NULL, G_TYPE_STRV, ro);
	g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
osc_entry_item_init(OscEntryItem *self)
{
}

OscEntryItem *
osc_entry_item_new(const gchar *key,
		   const gchar *environment,
		   const gchar *category,
		   const gchar *value_json,
		   const gchar *updated_at,
		   const gchar *etag)
{
	OscEntryItem *self;

	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(environment != NULL, NULL);

	self = g_object_new(OSC_TYPE_ENTRY_ITEM, NULL);
	self->key = g_strdup(key);
	self->environment = g_strdup(environment);
	self->category = g_strdup(category);
	self->value_json = g_strdup(value_json);
	self->updated_at = g_strdup(updated_at);
	self->etag = g_strdup(etag);
	return self;
}

const gchar *
osc_entry_item_get_key(OscEntryItem *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(self), NULL);
	return self->key;
}

const gchar *
osc_entry_item_get_environment(OscEntryItem *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(self), NULL);
	return self->environment;
}

const gchar *
osc_entry_item_get_category(OscEntryItem *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(self), NULL);
	return self->category;
}

const gchar *
osc_entry_item_get_value_json(OscEntryItem *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(self), NULL);
	return self->value_json;
}

/* made on first use: most of 100,000 rows are never shown */
const gchar *
osc_entry_item_get_preview(OscEntryItem *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(self), NULL);
	if (self->preview == NULL && self->value_json != NULL) {
		const gchar *end = self->value_json;
		glong n = 0;

		while (*end != '\0' && n < OSC_PREVIEW_CHARS) {
			end = g_utf8_next_char(end);
			n++;
		}
		if (*end == '\0')
			self->preview = g_strdup(self->value_json);
		else
			self->preview = g_strdup_printf("%.*s…", (int)(end - self->value_json),
							self->value_json);
		g_strdelimit(self->preview, "\n\r\t", ' ');
	}
	return self->preview;
}

const gchar *
osc_entry_item_get_updated_at(OscEntryItem *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(self), NULL);
	return self->updated_at;
}

const gchar *
osc_entry_item_get_etag(OscEntryItem *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(self), NULL);
	return self->etag;
}

static void
osc_entry_item_set_string(OscEntryItem *self, gchar **field, const gchar *value, guint prop)
{
	if (g_strcmp0(*field, value) == 0)
		return;
	g_free(*field);
	*field = g_strdup(value);
	g_object_notify_by_pspec(G_OBJECT(self), properties[prop]);
}

void
osc_entry_item_set_category(OscEntryItem *self, const gchar *category)
{
	g_return_if_fail(OSC_IS_ENTRY_ITEM(self));
	osc_entry_item_set_string(self, &self->category, category, PROP_CATEGORY);
}

void
osc_entry_item_set_value_json(OscEntryItem *self, const gchar *value_json)
{
	g_return_if_fail(OSC_IS_ENTRY_ITEM(self));
	if (g_strcmp0(self->value_json, value_json) == 0)
		return;
	g_clear_pointer(&self->preview, g_free);
	osc_entry_item_set_string(self, &self->value_json, value_json, PROP_VALUE_JSON);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_PREVIEW]);
}

void
osc_entry_item_set_updated_at(OscEntryItem *self, const gchar *updated_at)
{
	g_return_if_fail(OSC_IS_ENTRY_ITEM(self));
	if (g_strcmp0(self->updated_at, updated_at) == 0)
		return;
	osc_entry_item_set_string(self, &self->updated_at, updated_at, PROP_UPDATED_AT);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_UPDATED_DISPLAY]);
}

/**
 * osc_entry_item_dup_updated_display:
 *
 * Returns: (transfer full) (nullable): the update time in local time, to the minute; the
 *   server's text as it is when it is not ISO 8601 (naive times are local, API.md §1.8)
 */
gchar *
osc_entry_item_dup_updated_display(OscEntryItem *self)
{
	g_autoptr(GTimeZone) local = NULL;
	g_autoptr(GDateTime) dt = NULL;
	g_autoptr(GDateTime) shown = NULL;

	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(self), NULL);
	if (self->updated_at == NULL)
		return NULL;
	local = g_time_zone_new_local();
	dt = g_date_time_new_from_iso8601(self->updated_at, local);
	if (dt == NULL)
		return g_strdup(self->updated_at);
	shown = g_date_time_to_local(dt);
	return g_date_time_format(shown, "%Y-%m-%d %H:%M");
}

void
osc_entry_item_set_etag(OscEntryItem *self, const gchar *etag)
{
	g_return_if_fail(OSC_IS_ENTRY_ITEM(self));
	osc_entry_item_set_string(self, &self->etag, etag, PROP_ETAG);
}

gboolean
osc_entry_item_get_changed(OscEntryItem *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_ITEM(self), FALSE);
	return self->changed;
}

/* whether the row is shown as changed underneath the user (set and cleared by the window) */
void
osc_entry_item_set_changed(OscEntryItem *self, gboolean changed)
{
	g_return_if_fail(OSC_IS_ENTRY_ITEM(self));
	if (self->changed == changed)
		return;
	self->changed = changed;
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CHANGED]);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CSS_CLASSES]);
}
