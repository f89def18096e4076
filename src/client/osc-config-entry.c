/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscClient"

#include "config.h"

#include "osc-config-entry.h"

#include "osc-client-error.h"
#include "osc-client-private.h"

/**
 * OscConfigEntry:
 *
 * One configuration entry as the server describes it: the (key, environment) pair, its
 * category and JSON value and, when the server sent them, its row id, timestamps and ETag.
 *
 * Entries are immutable and reference counted; they may be shared between threads.
 * osc_config_entry_new() makes one to pass to the bulk calls of #OscClient.
 */
struct _OscConfigEntry {
	gint ref_count;
	gchar *key;
	gchar *environment;
	gchar *category;
	JsonNode *value;
	gint64 id;
	gchar *created_at;
	gchar *updated_at;
	gchar *etag;
};

G_DEFINE_BOXED_TYPE(OscConfigEntry, osc_config_entry, osc_config_entry_ref, osc_config_entry_unref)

/**
 * osc_config_entry_new:
 * @key: the entry's key
 * @environment: its environment
 * @category: (nullable): its category
 * @value: (nullable): its value; %NULL for an item that only names an entry (bulk reads
 *   and deletes)
 *
 * Returns: (transfer full): a new entry with no id, timestamps or ETag
 */
OscConfigEntry *
osc_config_entry_new(const gchar *key, const gchar *environment, const gchar *category,
		     JsonNode *value)
{
	OscConfigEntry *self;

	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(environment != NULL, NULL);

	self = g_new0(OscConfigEntry, 1);
	self->ref_count = 1;
	self->key = g_strdup(key);
	self->environment = g_strdup(environment);
	self->category = g_strdup(category);
	self->value = value != NULL ? json_node_copy(value) : NULL;
	self->id = -1;
	return self;
}

/**
 * osc_config_entry_new_from_string:
 * @key: the entry's key
 * @environment: its environment
 * @category: (nullable): its category
 * @value_json: (nullable): its value as JSON text
 * @error: return location for a %OSC_CLIENT_ERROR_VALIDATION error
 *
 * Like osc_config_entry_new(), for bindings where #JsonNode is awkward.
 *
 * Returns: (transfer full): a new entry, or %NULL when @value_json is not JSON
 */
OscConfigEntry *
osc_config_entry_new_from_string(const gchar *key, const gchar *environment, const gchar *category,
				 const gchar *value_json, GError **error)
{
	g_autoptr(JsonNode) value = NULL;

	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(environment != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (value_json != NULL) {
		value = osc_client_parse_json(value_json, -1, error);
		if (value == NULL)
			return NULL;
	}
	return osc_config_entry_new(key, environment, category, value);
}

static const gchar *
osc_json_object_get_string(JsonObject *obj, const gchar *name)
{
	JsonNode *node = json_object_get_member(obj, name);

	if (node == NULL || JSON_NODE_TYPE(node) != JSON_NODE_VALUE ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

/**
 * osc_config_entry_new_from_json:
 * @node: a configuration object as the server sends it (API.md §3.4)
 * @error: return location for a %OSC_CLIENT_ERROR_INVALID_RESPONSE error
 *
 * Returns: (transfer full): the entry, or %NULL when @node lacks `key`, `environment` or
 *   `value`
 */
OscConfigEntry *
osc_config_entry_new_from_json(JsonNode *node, GError **error)
{
	OscConfigEntry *self;
	JsonObject *obj;
	JsonNode *id;
	const gchar *key;
	const gchar *environment;

	g_return_val_if_fail(node != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_INVALID_RESPONSE,
				    "Configuration is not a JSON object");
		return NULL;
	}
	obj = json_node_get_object(node);
	key = osc_json_object_get_string(obj, "key");
	environment = osc_json_object_get_string(obj, "environment");
	if (key == NULL || environment == NULL || !json_object_has_member(obj, "value")) {
		g_set_error_literal(error, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_INVALID_RESPONSE,
				    "Configuration lacks key, environment or value");
		return NULL;
	}
	self = osc_config_entry_new(key, environment, osc_json_object_get_string(obj, "category"),
				    json_object_get_member(obj, "value"));
	id = json_object_get_member(obj, "id");
	if (id != NULL && JSON_NODE_HOLDS_VALUE(id) && json_node_get_value_type(id) == G_TYPE_INT64)
		self->id = json_node_get_int(id);
	self->created_at = g_strdup(osc_json_object_get_string(obj, "created_at"));
	self->updated_at = g_strdup(osc_json_object_get_string(obj, "updated_at"));
	self->etag = g_strdup(osc_json_object_get_string(obj, "etag"));
	return self;
}

/* the ETag of a single-entry response travels in a header, not in the body */
void
osc_config_entry_set_etag(OscConfigEntry *self, const gchar *etag)
{
	g_assert(self != NULL);

	if (etag == NULL)
		return;
	g_free(self->etag);
	self->etag = g_strdup(etag);
}

/**
 * osc_config_entry_ref:
 *
 * Returns: (transfer full): @self
 */
OscConfigEntry *
osc_config_entry_ref(OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, NULL);

	g_atomic_int_inc(&self->ref_count);
	return self;
}

void
osc_config_entry_unref(OscConfigEntry *self)
{
	g_return_if_fail(self != NULL);

	if (!g_atomic_int_dec_and_test(&self->ref_count))
		return;
	g_free(self->key);
	g_free(self->environment);
	g_free(self->category);
	g_clear_pointer(&self->value, json_node_unref);
	g_free(self->created_at);
	g_free(self->updated_at);
	g_free(self->etag);
	g_free(self);
}

const gchar *
osc_config_entry_get_key(const OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->key;
}

const gchar *
osc_config_entry_get_environment(const OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->environment;
}

/**
 * osc_config_entry_get_category:
 *
 * Returns: (nullable): the category, or %NULL when the entry has none
 */
const gchar *
osc_config_entry_get_category(const OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->category;
}

/**
 * osc_config_entry_get_value:
 *
 * Returns: (transfer none) (nullable): the value, or %NULL for an item made without one
 */
JsonNode *
osc_config_entry_get_value(const OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->value;
}

/**
 * osc_config_entry_get_value_string:
 *
 * The value as compact JSON text: `json.loads()` it in Python.
 *
 * Returns: (transfer full) (nullable): the JSON text, or %NULL when there is no value
 */
gchar *
osc_config_entry_get_value_string(const OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, NULL);

	if (self->value == NULL)
		return NULL;
	return json_to_string(self->value, FALSE);
}

/**
 * osc_config_entry_get_id:
 *
 * Returns: the server's row id, or -1 when unknown
 */
gint64
osc_config_entry_get_id(const OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, -1);
	return self->id;
}

/**
 * osc_config_entry_get_created_at:
 *
 * Returns: (nullable): the creation time as the server wrote it (ISO 8601, UTC), or %NULL
 *   when the answer did not carry it (short form)
 */
const gchar *
osc_config_entry_get_created_at(const OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->created_at;
}

/**
 * osc_config_entry_get_updated_at:
 *
 * Returns: (nullable): the time of the last change, or %NULL when not known
 */
const gchar *
osc_config_entry_get_updated_at(const OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->updated_at;
}

/**
 * osc_config_entry_get_etag:
 *
 * The entity tag of this revision, quotes included (`"12"`), to pass as the if-match
 * argument of osc_client_update() or osc_client_delete().
 *
 * Returns: (nullable): the ETag, or %NULL when the answer carried none (lists)
 */
const gchar *
osc_config_entry_get_etag(const OscConfigEntry *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->etag;
}

/**
 * osc_config_entry_to_json:
 *
 * The entry as a JSON object with the members of API.md §3.4 that are known, plus `etag`
 * when there is one.
 *
 * Returns: (transfer full): a new JSON object node
 */
JsonNode *
osc_config_entry_to_json(const OscConfigEntry *self)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	g_return_val_if_fail(self != NULL, NULL);

	json_builder_begin_object(b);
	if (self->id >= 0) {
		json_builder_set_member_name(b, "id");
		json_builder_add_int_value(b, self->id);
	}
	json_builder_set_member_name(b, "key");
	json_builder_add_string_value(b, self->key);
	json_builder_set_member_name(b, "category");
	if (self->category != NULL)
		json_builder_add_string_value(b, self->category);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "environment");
	json_builder_add_string_value(b, self->environment);
	json_builder_set_member_name(b, "value");
	if (self->value != NULL)
		json_builder_add_value(b, json_node_copy(self->value));
	else
		json_builder_add_null_value(b);
	if (self->created_at != NULL) {
		json_builder_set_member_name(b, "created_at");
		json_builder_add_string_value(b, self->created_at);
	}
	if (self->updated_at != NULL) {
		json_builder_set_member_name(b, "updated_at");
		json_builder_add_string_value(b, self->updated_at);
	}
	if (self->etag != NULL) {
		json_builder_set_member_name(b, "etag");
		json_builder_add_string_value(b, self->etag);
	}
	json_builder_end_object(b);
	return json_builder_get_root(b);
}
