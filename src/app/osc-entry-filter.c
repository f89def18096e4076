/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <string.h>

#include "osc-entry-filter.h"
#include "osc-entry-item.h"

/*
 * What the list shows: entries of one environment and one category (NULL: any) whose key or
 * category contains the search text, ignoring case. One filter instead of a GtkEveryFilter
 * of three: it is asked 100,000 times per keystroke.
 */
struct _OscEntryFilter {
	GtkFilter parent_instance;
	gchar *search;	/* case-folded, NULL when empty */
	gchar *search_text;
	gchar *environment;
	gchar *category;
};

G_DEFINE_FINAL_TYPE(OscEntryFilter, osc_entry_filter, GTK_TYPE_FILTER)

enum { PROP_0, PROP_SEARCH, PROP_ENVIRONMENT, PROP_CATEGORY, N_PROPS };

static GParamSpec *properties[N_PROPS];

static gboolean
osc_entry_filter_contains(const gchar *haystack, const gchar *needle)
{
	g_autofree gchar *folded = NULL;

	if (haystack == NULL)
		return FALSE;
	folded = g_utf8_casefold(haystack, -1);
	return strstr(folded, needle) != NULL;
}

static gboolean
osc_entry_filter_match(GtkFilter *filter, gpointer object)
{
	OscEntryFilter *self = OSC_ENTRY_FILTER(filter);
	OscEntryItem *item = OSC_ENTRY_ITEM(object);

	if (self->environment != NULL &&
	    g_strcmp0(self->environment, osc_entry_item_get_environment(item)) != 0)
		return FALSE;
	if (self->category != NULL &&
	    g_strcmp0(self->category, osc_entry_item_get_category(item)) != 0)
		return FALSE;
	if (self->search == NULL)
		return TRUE;
	return osc_entry_filter_contains(osc_entry_item_get_key(item), self->search) ||
	       osc_entry_filter_contains(osc_entry_item_get_category(item), self->search);
}

static GtkFilterMatch
osc_entry_filter_get_strictness(GtkFilter *filter)
{
	OscEntryFilter *self = OSC_ENTRY_FILTER(filter);

	if (self->search == NULL && self->environment == NULL && self->category == NULL)
		return GTK_FILTER_MATCH_ALL;
	return GTK_FILTER_MATCH_SOME;
}

static void
osc_entry_filter_finalize(GObject *object)
{
	OscEntryFilter *self = OSC_ENTRY_FILTER(object);

	g_free(self->search);
	g_free(self->search_text);
	g_free(self->environment);
	g_free(self->category);
	G_OBJECT_CLASS(osc_entry_filter_parent_class)->finalize(object);
}

static void
osc_entry_filter_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscEntryFilter *self = OSC_ENTRY_FILTER(object);

	switch (prop_id) {
	case PROP_SEARCH:
		g_value_set_string(value, self->search_text);
		break;
	case PROP_ENVIRONMENT:
		g_value_set_string(value, self->environment);
		break;
	case PROP_CATEGORY:
		g_value_set_string(value, self->category);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_entry_filter_set_property(GObject *object,
			      guint prop_id,
			      const GValue *value,
			      GParamSpec *pspec)
{
	OscEntryFilter *self = OSC_ENTRY_FILTER(object);

	switch (prop_id) {
	case PROP_SEARCH:
		osc_entry_filter_set_search(self, g_value_get_string(value));
		break;
	case PROP_ENVIRONMENT:
		osc_entry_filter_set_environment(self, g_value_get_string(value));
		break;
	case PROP_CATEGORY:
		osc_entry_filter_set_category(self, g_value_get_string(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_entry_filter_class_init(OscEntryFilterClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkFilterClass *filter_class = GTK_FILTER_CLASS(klass);
	GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

	object_class->finalize = osc_entry_filter_finalize;
	object_class->get_property = osc_entry_filter_get_property;
	object_class->set_property = osc_entry_filter_set_property;
	filter_class->match = osc_entry_filter_match;
	filter_class->get_strictness = osc_entry_filter_get_strictness;

	properties[PROP_SEARCH] = g_param_spec_string("search", NULL, NULL, NULL, rw);
	properties[PROP_ENVIRONMENT] = g_param_spec_string("environment", NULL, NULL, NULL, rw);
	properties[PROP_CATEGORY] = g_param_spec_string("category", NULL, NULL, NULL, rw);
	g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
osc_entry_filter_init(OscEntryFilter *self)
{
}

OscEntryFilter *
osc_entry_filter_new(void)
{
	return g_object_new(OSC_TYPE_ENTRY_FILTER, NULL);
}

const gchar *
osc_entry_filter_get_search(OscEntryFilter *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_FILTER(self), NULL);
	return self->search_text;
}

void
osc_entry_filter_set_search(OscEntryFilter *self, const gchar *search)
{
	g_autofree gchar *folded = NULL;
	GtkFilterChange change = GTK_FILTER_CHANGE_DIFFERENT;

	g_return_if_fail(OSC_IS_ENTRY_FILTER(self));
	if (search != NULL && search[0] == '\0')
		search = NULL;
	if (g_strcmp0(self->search_text, search) == 0)
		return;
	folded = search != NULL ? g_utf8_casefold(search, -1) : NULL;
	/* typing on narrows the result, deleting widens it: GTK refilters only what it must */
	if (self->search == NULL)
		change = GTK_FILTER_CHANGE_MORE_STRICT;
	else if (folded == NULL)
		change = GTK_FILTER_CHANGE_LESS_STRICT;
	else if (strstr(folded, self->search) != NULL)
		change = GTK_FILTER_CHANGE_MORE_STRICT;
	else if (strstr(self->search, folded) != NULL)
		change = GTK_FILTER_CHANGE_LESS_STRICT;
	g_free(self->search_text);
	self->search_text = g_strdup(search);
	g_free(self->search);
	self->search = g_steal_pointer(&folded);
	gtk_filter_changed(GTK_FILTER(self), change);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SEARCH]);
}

static void
osc_entry_filter_set_exact(OscEntryFilter *self, gchar **field, const gchar *value, guint prop)
{
	GtkFilterChange change = GTK_FILTER_CHANGE_DIFFERENT;

	if (value != NULL && value[0] == '\0')
		value = NULL;
	if (g_strcmp0(*field, value) == 0)
		return;
	if (*field == NULL)
		change = GTK_FILTER_CHANGE_MORE_STRICT;
	else if (value == NULL)
		change = GTK_FILTER_CHANGE_LESS_STRICT;
	g_free(*field);
	*field = g_strdup(value);
	gtk_filter_changed(GTK_FILTER(self), change);
	g_object_notify_by_pspec(G_OBJECT(self), properties[prop]);
}

const gchar *
osc_entry_filter_get_environment(OscEntryFilter *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_FILTER(self), NULL);
	return self->environment;
}

void
osc_entry_filter_set_environment(OscEntryFilter *self, const gchar *environment)
{
	g_return_if_fail(OSC_IS_ENTRY_FILTER(self));
	osc_entry_filter_set_exact(self, &self->environment, environment, PROP_ENVIRONMENT);
}

const gchar *
osc_entry_filter_get_category(OscEntryFilter *self)
{
	g_return_val_if_fail(OSC_IS_ENTRY_FILTER(self), NULL);
	return self->category;
}

void
osc_entry_filter_set_category(OscEntryFilter *self, const gchar *category)
{
	g_return_if_fail(OSC_IS_ENTRY_FILTER(self));
	osc_entry_filter_set_exact(self, &self->category, category, PROP_CATEGORY);
}
