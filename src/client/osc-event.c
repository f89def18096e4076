/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscClient"

#include "config.h"

#include "osc-event.h"

#include "osc-client-private.h"
#include "osc-event-private.h"

/**
 * OscEvent:
 *
 * One event of an #OscEventStream (API.md §5): `connected`, `created`, `updated`,
 * `deleted`, `sync` or `reset`, with the members of its JSON payload. Immutable.
 */
struct _OscEvent {
	GObject parent_instance;

	gchar *event_type;
	gchar *id;
	gchar *key;
	gchar *environment;
	gchar *category;
	gchar *timestamp;
	gchar *node_id;
	gchar *subscription_id;
	JsonNode *data;
	JsonNode *payload;
	gchar *payload_string;
};

G_DEFINE_FINAL_TYPE(OscEvent, osc_event, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_EVENT_TYPE,
	PROP_ID,
	PROP_KEY,
	PROP_ENVIRONMENT,
	PROP_CATEGORY,
	PROP_TIMESTAMP,
	PROP_NODE_ID,
	PROP_SUBSCRIPTION_ID,
	PROP_DATA,
	PROP_PAYLOAD,
	N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
osc_event_finalize(GObject *object)
{
	OscEvent *self = OSC_EVENT(object);

	g_free(self->event_type);
	g_free(self->id);
	g_free(self->key);
	g_free(self->environment);
	g_free(self->category);
	g_free(self->timestamp);
	g_free(self->node_id);
	g_free(self->subscription_id);
	g_clear_pointer(&self->data, json_node_unref);
	g_clear_pointer(&self->payload, json_node_unref);
	g_free(self->payload_string);
	G_OBJECT_CLASS(osc_event_parent_class)->finalize(object);
}

static void
osc_event_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscEvent *self = OSC_EVENT(object);

	switch (prop_id) {
	case PROP_EVENT_TYPE:
		g_value_set_string(value, self->event_type);
		break;
	case PROP_ID:
		g_value_set_string(value, self->id);
		break;
	case PROP_KEY:
		g_value_set_string(value, self->key);
		break;
	case PROP_ENVIRONMENT:
		g_value_set_string(value, self->environment);
		break;
	case PROP_CATEGORY:
		g_value_set_string(value, self->category);
		break;
	case PROP_TIMESTAMP:
		g_value_set_string(value, self->timestamp);
		break;
	case PROP_NODE_ID:
		g_value_set_string(value, self->node_id);
		break;
	case PROP_SUBSCRIPTION_ID:
		g_value_set_string(value, self->subscription_id);
		break;
	case PROP_DATA:
		g_value_set_boxed(value, self->data);
		break;
	case PROP_PAYLOAD:
		g_value_set_boxed(value, self->payload);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_event_class_init(OscEventClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

	object_class->finalize = osc_event_finalize;
	object_class->get_property = osc_event_get_property;

	/**
	 * OscEvent:event-type:
	 *
	 * The SSE event name: `connected`, `created`, `updated`, `deleted`, `sync`, `reset`,
	 * or whatever else the server sent.
	 */
	properties[PROP_EVENT_TYPE] = g_param_spec_string("event-type", NULL, NULL, NULL, flags);
	/**
	 * OscEvent:id:
	 *
	 * The SSE event id (the server's sequence number), or %NULL.
	 */
	properties[PROP_ID] = g_param_spec_string("id", NULL, NULL, NULL, flags);
	/**
	 * OscEvent:key:
	 *
	 * The entry's key, for change events.
	 */
	properties[PROP_KEY] = g_param_spec_string("key", NULL, NULL, NULL, flags);
	/**
	 * OscEvent:environment:
	 *
	 * The entry's environment, for change events.
	 */
	properties[PROP_ENVIRONMENT] = g_param_spec_string("environment", NULL, NULL, NULL, flags);
	/**
	 * OscEvent:category:
	 *
	 * The entry's category, or %NULL.
	 */
	properties[PROP_CATEGORY] = g_param_spec_string("category", NULL, NULL, NULL, flags);
	/**
	 * OscEvent:timestamp:
	 *
	 * When the server sent the event, as it wrote it (`timestamp`, or `server_time` for
	 * `connected`).
	 */
	properties[PROP_TIMESTAMP] = g_param_spec_string("timestamp", NULL, NULL, NULL, flags);
	/**
	 * OscEvent:node-id:
	 *
	 * The server node the event comes from, or %NULL.
	 */
	properties[PROP_NODE_ID] = g_param_spec_string("node-id", NULL, NULL, NULL, flags);
	/**
	 * OscEvent:subscription-id:
	 *
	 * For `connected`: the server's id of the subscription.
	 */
	properties[PROP_SUBSCRIPTION_ID] =
		g_param_spec_string("subscription-id", NULL, NULL, NULL, flags);
	/**
	 * OscEvent:data:
	 *
	 * The payload's `data` member (`{"value": …}` for creates and updates seen with a user
	 * key that opens the entry), or %NULL when it is absent or null.
	 */
	properties[PROP_DATA] = g_param_spec_boxed("data", NULL, NULL, JSON_TYPE_NODE, flags);
	/**
	 * OscEvent:payload:
	 *
	 * The whole JSON payload of the event.
	 */
	properties[PROP_PAYLOAD] = g_param_spec_boxed("payload", NULL, NULL, JSON_TYPE_NODE, flags);

	g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
osc_event_init(OscEvent *self)
{
}

static gchar *
osc_event_dup_member(JsonObject *obj, const gchar *name)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, name) : NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return NULL;
	if (json_node_get_value_type(node) == G_TYPE_STRING)
		return g_strdup(json_node_get_string(node));
	return json_to_string(node, FALSE);
}

/**
 * osc_event_new_from_sse:
 * @event_type: the SSE event name
 * @data: the event's data text (JSON)
 * @id: (nullable): the event id
 *
 * Returns: the event, or %NULL with @error set when @data is not JSON
 */
OscEvent *
osc_event_new_from_sse(const gchar *event_type, const gchar *data, const gchar *id, GError **error)
{
	g_autoptr(OscEvent) self = NULL;
	g_autoptr(JsonNode) payload = NULL;
	JsonObject *obj = NULL;
	JsonNode *member;

	payload = osc_client_parse_json(data, -1, error);
	if (payload == NULL)
		return NULL;
	self = g_object_new(OSC_TYPE_EVENT, NULL);
	self->event_type = g_strdup(event_type);
	self->id = g_strdup(id);
	self->payload_string = g_strdup(data);
	if (JSON_NODE_HOLDS_OBJECT(payload))
		obj = json_node_get_object(payload);
	self->key = osc_event_dup_member(obj, "key");
	self->environment = osc_event_dup_member(obj, "environment");
	self->category = osc_event_dup_member(obj, "category");
	self->timestamp = osc_event_dup_member(obj, "timestamp");
	if (self->timestamp == NULL)
		self->timestamp = osc_event_dup_member(obj, "server_time");
	self->node_id = osc_event_dup_member(obj, "node_id");
	self->subscription_id = osc_event_dup_member(obj, "subscription_id");
	member = obj != NULL ? json_object_get_member(obj, "data") : NULL;
	if (member != NULL && !JSON_NODE_HOLDS_NULL(member))
		self->data = json_node_ref(member);
	self->payload = g_steal_pointer(&payload);
	return g_steal_pointer(&self);
}

const gchar *
osc_event_get_event_type(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->event_type;
}

/**
 * osc_event_get_id:
 *
 * Returns: (nullable): the SSE event id
 */
const gchar *
osc_event_get_id(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->id;
}

/**
 * osc_event_get_key:
 *
 * Returns: (nullable): the entry's key
 */
const gchar *
osc_event_get_key(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->key;
}

/**
 * osc_event_get_environment:
 *
 * Returns: (nullable): the entry's environment
 */
const gchar *
osc_event_get_environment(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->environment;
}

/**
 * osc_event_get_category:
 *
 * Returns: (nullable): the entry's category
 */
const gchar *
osc_event_get_category(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->category;
}

/**
 * osc_event_get_timestamp:
 *
 * Returns: (nullable): when the server sent the event
 */
const gchar *
osc_event_get_timestamp(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->timestamp;
}

/**
 * osc_event_get_node_id:
 *
 * Returns: (nullable): the node the event comes from
 */
const gchar *
osc_event_get_node_id(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->node_id;
}

/**
 * osc_event_get_subscription_id:
 *
 * Returns: (nullable): for `connected`, the subscription id
 */
const gchar *
osc_event_get_subscription_id(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->subscription_id;
}

/**
 * osc_event_get_data:
 *
 * Returns: (transfer none) (nullable): the payload's `data` member
 */
JsonNode *
osc_event_get_data(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->data;
}

/**
 * osc_event_get_value:
 *
 * Returns: (transfer none) (nullable): `data.value`: the entry's new value, present only
 *   when the stream sent a user key that opens the entry
 */
JsonNode *
osc_event_get_value(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);

	if (self->data == NULL || !JSON_NODE_HOLDS_OBJECT(self->data))
		return NULL;
	return json_object_get_member(json_node_get_object(self->data), "value");
}

/**
 * osc_event_get_value_string:
 *
 * Returns: (transfer full) (nullable): `data.value` as JSON text
 */
gchar *
osc_event_get_value_string(OscEvent *self)
{
	JsonNode *value = osc_event_get_value(self);

	return value != NULL ? json_to_string(value, FALSE) : NULL;
}

/**
 * osc_event_get_payload:
 *
 * Returns: (transfer none): the whole JSON payload
 */
JsonNode *
osc_event_get_payload(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->payload;
}

/**
 * osc_event_get_payload_string:
 *
 * Returns: the payload as the server sent it
 */
const gchar *
osc_event_get_payload_string(OscEvent *self)
{
	g_return_val_if_fail(OSC_IS_EVENT(self), NULL);
	return self->payload_string;
}
