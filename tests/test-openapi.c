/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * Checks server/lib/openapi.json (served at /openapi.json) and server/lib/docs.html (served
 * at /docs) against the routes the server serves. The table below mirrors the routes table
 * of server/lib/osc-http-server.c: a route added there belongs here and in both documents.
 */

#define G_LOG_DOMAIN "OscOpenApi"

#include "config.h"

#include <json-glib/json-glib.h>

#include <string.h>

static const struct {
	const gchar *path;
	const gchar *methods; /* lower case, space separated; HEAD is implied by GET */
} expected_paths[] = {
	{"/", "get"},
	{"/health", "get"},
	{"/ready", "get"},
	{"/metrics", "get"},
	{"/openapi.json", "get"},
	{"/docs", "get"},
	{"/configs", "get post"},
	{"/configs/{key}", "get put delete"},
	{"/configs/{key}/versions", "get"},
	{"/configs/{key}/rollback", "post"},
	{"/stats", "get"},
	{"/stats/operations", "get"},
	{"/backup", "post"},
	{"/import", "post"},
	{"/rekey", "post"},
	{"/cluster/status", "get"},
	{"/cluster/health", "get"},
	{"/cluster/distribution", "get"},
	{"/cluster/configs", "get"},
	{"/cluster/salt", "get post"},
	{"/cluster/replicate", "post"},
	{"/cluster/digest", "get"},
	{"/cluster/rows", "get"},
	{"/cluster/fetch", "post"},
	{"/sse/subscribe", "get"},
	{"/sse/stats", "get"},
	{"/sse/subscriptions", "get"},
	{"/sse/health", "get"},
};

/* the members of a Path Item that are operations (OpenAPI 3.1, "Path Item Object") */
static const gchar *const operation_methods[] = {
	"get", "put", "post", "delete", "options", "head", "patch", "trace", NULL,
};

static gchar *
source_file(const gchar *name)
{
	/* G_TEST_DIST is tests/ in the source tree */
	return g_test_build_filename(G_TEST_DIST, "..", "server", "lib", name, NULL);
}

static JsonNode *
load_openapi(void)
{
	g_autofree gchar *path = source_file("openapi.json");
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) error = NULL;
	JsonNode *root;

	json_parser_load_from_file(parser, path, &error);
	g_assert_no_error(error);
	root = json_parser_get_root(parser);
	g_assert_nonnull(root);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	return json_node_ref(root);
}

static JsonObject *
object_member(JsonObject *obj, const gchar *name)
{
	JsonNode *node = json_object_get_member(obj, name);

	if (node == NULL)
		g_error("member \"%s\" is missing", name);
	if (!JSON_NODE_HOLDS_OBJECT(node))
		g_error("member \"%s\" is not an object", name);
	return json_node_get_object(node);
}

static const gchar *
string_member(JsonObject *obj, const gchar *name)
{
	JsonNode *node = json_object_get_member(obj, name);

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

static gboolean
is_operation(const gchar *member)
{
	return g_strv_contains(operation_methods, member);
}

/* ---- tests ---- */

static void
test_version(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	JsonObject *doc = json_node_get_object(root);
	JsonObject *info;
	const gchar *openapi = string_member(doc, "openapi");

	g_assert_nonnull(openapi);
	g_assert_true(g_str_has_prefix(openapi, "3.1"));
	info = object_member(doc, "info");
	g_assert_nonnull(string_member(info, "title"));
	/* the protocol version GET / reports */
	g_assert_cmpstr(string_member(info, "version"), ==, OSC_COMPAT_VERSION);
}

static void
test_paths(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	JsonObject *paths = object_member(json_node_get_object(root), "paths");
	g_autoptr(GList) members = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(expected_paths); i++) {
		g_auto(GStrv) want = g_strsplit(expected_paths[i].methods, " ", -1);
		g_autoptr(GList) ops = NULL;
		JsonObject *item;

		if (!json_object_has_member(paths, expected_paths[i].path))
			g_error("path %s is not documented", expected_paths[i].path);
		item = object_member(paths, expected_paths[i].path);
		for (guint j = 0; want[j] != NULL; j++) {
			if (!json_object_has_member(item, want[j]))
				g_error("%s %s is not documented", want[j], expected_paths[i].path);
		}
		ops = json_object_get_members(item);
		for (GList *l = ops; l != NULL; l = l->next) {
			const gchar *m = l->data;

			if (!is_operation(m))
				continue;
			/* HEAD is served on every GET route; documenting it is optional */
			if (g_str_equal(m, "head") &&
			    g_strv_contains((const gchar *const *)want, "get"))
				continue;
			if (!g_strv_contains((const gchar *const *)want, m))
				g_error("%s %s is documented but not served", m,
					expected_paths[i].path);
		}
	}

	/* and nothing we do not serve */
	members = json_object_get_members(paths);
	for (GList *l = members; l != NULL; l = l->next) {
		gboolean known = FALSE;

		for (guint i = 0; i < G_N_ELEMENTS(expected_paths); i++)
			known = known || g_str_equal(l->data, expected_paths[i].path);
		if (!known)
			g_error("path %s is documented but not served", (const gchar *)l->data);
	}
	g_assert_cmpuint(json_object_get_size(paths), ==, G_N_ELEMENTS(expected_paths));
}

static void
test_operations(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	JsonObject *doc = json_node_get_object(root);
	JsonObject *paths = object_member(doc, "paths");
	JsonObject *schemes = object_member(object_member(doc, "components"), "securitySchemes");
	g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GList) path_names = json_object_get_members(paths);
	guint n_ops = 0;

	for (GList *p = path_names; p != NULL; p = p->next) {
		JsonObject *item = object_member(paths, p->data);
		g_autoptr(GList) members = json_object_get_members(item);

		for (GList *l = members; l != NULL; l = l->next) {
			JsonObject *op, *responses;
			const gchar *id, *summary;
			g_autoptr(GList) codes = NULL;

			if (!is_operation(l->data))
				continue;
			n_ops++;
			op = object_member(item, l->data);
			id = string_member(op, "operationId");
			summary = string_member(op, "summary");
			if (id == NULL || id[0] == '\0')
				g_error("%s %s has no operationId", (gchar *)l->data,
					(gchar *)p->data);
			if (summary == NULL || summary[0] == '\0')
				g_error("%s %s has no summary", (gchar *)l->data, (gchar *)p->data);
			if (!g_hash_table_add(ids, (gpointer)id))
				g_error("operationId %s is used twice", id);

			responses = object_member(op, "responses");
			g_assert_cmpuint(json_object_get_size(responses), >, 0);
			codes = json_object_get_members(responses);
			for (GList *c = codes; c != NULL; c = c->next) {
				const gchar *code = c->data;
				guint64 status = 0;

				if (!g_str_equal(code, "default") &&
				    (!g_ascii_string_to_unsigned(code, 10, 100, 599, &status,
								 NULL)))
					g_error("%s %s: response key %s is not a status code",
						(gchar *)l->data, (gchar *)p->data, code);
			}

			/* every security requirement names a declared scheme */
			if (json_object_has_member(op, "security")) {
				JsonArray *reqs = json_object_get_array_member(op, "security");

				for (guint i = 0; i < json_array_get_length(reqs); i++) {
					JsonObject *req = json_array_get_object_element(reqs, i);
					g_autoptr(GList) names = json_object_get_members(req);

					for (GList *n = names; n != NULL; n = n->next) {
						if (!json_object_has_member(schemes, n->data))
							g_error("%s: unknown security scheme %s",
								id, (gchar *)n->data);
					}
				}
			}
		}
	}
	g_assert_cmpuint(n_ops, ==, g_hash_table_size(ids));
	g_assert_cmpuint(n_ops, >=, G_N_ELEMENTS(expected_paths));
}

static void
test_security_schemes(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	JsonObject *schemes = object_member(object_member(json_node_get_object(root), "components"),
					    "securitySchemes");
	static const struct {
		const gchar *scheme;
		const gchar *header;
	} want[] = {{"ApiKey", "X-API-Key"}, {"UserKey", "X-User-Key"}};

	for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
		JsonObject *s = object_member(schemes, want[i].scheme);

		g_assert_cmpstr(string_member(s, "type"), ==, "apiKey");
		g_assert_cmpstr(string_member(s, "in"), ==, "header");
		g_assert_cmpstr(string_member(s, "name"), ==, want[i].header);
	}
}

/* Resolves a local JSON pointer ("#/a/b~1c") inside @root (RFC 6901). */
static JsonNode *
resolve_pointer(JsonNode *root, const gchar *ref)
{
	g_auto(GStrv) tokens = NULL;
	JsonNode *node = root;

	if (!g_str_has_prefix(ref, "#"))
		return NULL;
	if (ref[1] == '\0')
		return root;
	if (ref[1] != '/')
		return NULL;
	tokens = g_strsplit(ref + 2, "/", -1);
	for (guint i = 0; tokens[i] != NULL; i++) {
		g_autoptr(GString) token = g_string_new(tokens[i]);

		g_string_replace(token, "~1", "/", 0);
		g_string_replace(token, "~0", "~", 0);
		if (JSON_NODE_HOLDS_OBJECT(node)) {
			node = json_object_get_member(json_node_get_object(node), token->str);
		} else if (JSON_NODE_HOLDS_ARRAY(node)) {
			JsonArray *array = json_node_get_array(node);
			guint64 index = 0;

			if (json_array_get_length(array) == 0 ||
			    !g_ascii_string_to_unsigned(token->str, 10, 0,
							json_array_get_length(array) - 1, &index,
							NULL))
				return NULL;
			node = json_array_get_element(array, (guint)index);
		} else {
			return NULL;
		}
		if (node == NULL)
			return NULL;
	}
	return node;
}

static void
check_refs(JsonNode *root, JsonNode *node, guint *n_refs)
{
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *obj = json_node_get_object(node);
		g_autoptr(GList) members = json_object_get_members(obj);

		for (GList *l = members; l != NULL; l = l->next) {
			JsonNode *child = json_object_get_member(obj, l->data);

			if (g_str_equal(l->data, "$ref") && JSON_NODE_HOLDS_VALUE(child) &&
			    json_node_get_value_type(child) == G_TYPE_STRING) {
				const gchar *ref = json_node_get_string(child);

				if (resolve_pointer(root, ref) == NULL)
					g_error("$ref %s does not resolve inside the document",
						ref);
				(*n_refs)++;
			} else {
				check_refs(root, child, n_refs);
			}
		}
	} else if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);

		for (guint i = 0; i < json_array_get_length(array); i++)
			check_refs(root, json_array_get_element(array, i), n_refs);
	}
}

static void
test_refs(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	guint n_refs = 0;

	/* the resolver itself */
	g_assert_nonnull(resolve_pointer(root, "#/paths/~1configs~1{key}"));
	g_assert_null(resolve_pointer(root, "#/components/schemas/NoSuchSchema"));
	g_assert_null(resolve_pointer(root, "other.json#/a"));

	check_refs(root, root, &n_refs);
	g_assert_cmpuint(n_refs, >, 0);
}

static void
test_schemas(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	JsonObject *schemas =
		object_member(object_member(json_node_get_object(root), "components"), "schemas");
	static const gchar *const names[] = {
		"ConfigEntryShort", "ConfigEntryFull",	   "ConfigCreate",
		"ConfigUpdate",	    "ConfigValue",	   "ErrorDetail",
		"ValidationError",  "ValidationItem",	   "Stats",
		"OperationStats",   "ServiceInfo",	   "ClusterStatus",
		"ClusterHealth",    "ClusterDistribution", "ClusterConfigItem",
		"SseConnected",	    "SseChange",	   "SseReset",
		"SseStats",	    "SseSubscription",	   "SseHealth",
	};
	/* versions, backup and re-key */
	static const gchar *const more_names[] = {
		"ConfigVersion", "ConfigVersionList", "ConfigVersionValue", "ConfigEntryVersioned",
		"BackupResult",	 "BackupDocument",    "ImportRequest",	    "ImportResult",
		"ImportFailure", "RekeyResult",
	};
	JsonArray *one_of;
	g_autoptr(GPtrArray) types = g_ptr_array_new();
	static const gchar *const value_types[] = {"object",  "string", "integer",
						   "boolean", "array",	NULL};

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if (!json_object_has_member(schemas, names[i]))
			g_error("schema %s is missing", names[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(more_names); i++) {
		if (!json_object_has_member(schemas, more_names[i]))
			g_error("schema %s is missing", more_names[i]);
	}

	/* value: object | string | integer | boolean | array, nothing else */
	one_of = json_object_get_array_member(object_member(schemas, "ConfigValue"), "oneOf");
	g_assert_nonnull(one_of);
	for (guint i = 0; i < json_array_get_length(one_of); i++) {
		JsonObject *member = json_array_get_object_element(one_of, i);
		const gchar *type = string_member(member, "type");

		g_assert_nonnull(type);
		g_ptr_array_add(types, (gpointer)type);
	}
	g_assert_cmpuint(types->len, ==, G_N_ELEMENTS(value_types) - 1);
	for (guint i = 0; value_types[i] != NULL; i++)
		g_assert_true(
			g_ptr_array_find_with_equal_func(types, value_types[i], g_str_equal, NULL));
}

/* resolves {"$ref": …} items (one level, as the document uses them) */
static JsonObject *
deref(JsonNode *root, JsonNode *node)
{
	JsonObject *obj = json_node_get_object(node);
	const gchar *ref = string_member(obj, "$ref");

	if (ref == NULL)
		return obj;
	node = resolve_pointer(root, ref);
	g_assert_nonnull(node);
	return json_node_get_object(node);
}

static JsonObject *
operation(JsonNode *root, const gchar *path, const gchar *method)
{
	return object_member(
		object_member(object_member(json_node_get_object(root), "paths"), path), method);
}

/* the parameter @in:@name of @op or of its path item (after resolving $ref), or NULL */
static JsonObject *
find_param(JsonNode *root, const gchar *path, JsonObject *op, const gchar *in, const gchar *name)
{
	JsonObject *item = object_member(object_member(json_node_get_object(root), "paths"), path);
	JsonObject *holders[] = {op, item};

	for (guint h = 0; h < G_N_ELEMENTS(holders); h++) {
		JsonArray *params;

		if (!json_object_has_member(holders[h], "parameters"))
			continue;
		params = json_object_get_array_member(holders[h], "parameters");
		for (guint i = 0; i < json_array_get_length(params); i++) {
			JsonObject *p = deref(root, json_array_get_element(params, i));

			if (g_strcmp0(string_member(p, "in"), in) == 0 &&
			    g_strcmp0(string_member(p, "name"), name) == 0)
				return p;
		}
	}
	return NULL;
}

static void
assert_param(JsonNode *root, const gchar *path, const gchar *method, const gchar *in,
	     const gchar *name, gboolean required)
{
	JsonObject *p = find_param(root, path, operation(root, path, method), in, name);

	if (p == NULL)
		g_error("%s %s does not document %s %s", method, path, in, name);
	if (json_object_get_boolean_member_with_default(p, "required", FALSE) != required)
		g_error("%s %s: %s %s should %sbe required", method, path, in, name,
			required ? "" : "not ");
}

static void
assert_codes(JsonNode *root, const gchar *path, const gchar *method, const gchar *const *codes)
{
	JsonObject *responses = object_member(operation(root, path, method), "responses");

	for (guint i = 0; codes[i] != NULL; i++) {
		if (!json_object_has_member(responses, codes[i]))
			g_error("%s %s does not document %s", method, path, codes[i]);
	}
}

/* the "detail" strings of the examples of one response */
static GPtrArray *
example_details(JsonNode *root, const gchar *path, const gchar *method, const gchar *code)
{
	JsonObject *response = deref(
		root, json_object_get_member(
			      object_member(operation(root, path, method), "responses"), code));
	JsonObject *media = object_member(object_member(response, "content"), "application/json");
	JsonObject *examples = object_member(media, "examples");
	g_autoptr(GList) names = json_object_get_members(examples);
	GPtrArray *details = g_ptr_array_new();

	for (GList *l = names; l != NULL; l = l->next) {
		JsonObject *value = object_member(object_member(examples, l->data), "value");
		const gchar *detail = string_member(value, "detail");

		if (detail != NULL)
			g_ptr_array_add(details, (gpointer)detail);
	}
	return details;
}

static void
assert_required(JsonNode *root, const gchar *schema, const gchar *const *members)
{
	JsonObject *s = object_member(
		object_member(object_member(json_node_get_object(root), "components"), "schemas"),
		schema);
	JsonArray *required = json_object_get_array_member(s, "required");
	JsonObject *props = object_member(s, "properties");

	g_assert_nonnull(required);
	for (guint i = 0; members[i] != NULL; i++) {
		gboolean found = FALSE;

		for (guint j = 0; j < json_array_get_length(required); j++)
			found = found ||
				g_str_equal(json_array_get_string_element(required, j), members[i]);
		if (!found || !json_object_has_member(props, members[i]))
			g_error("schema %s does not require %s", schema, members[i]);
	}
}

/* GET /sse/subscribe: the stream, its events and the headers that shape it */
static void
test_sse_subscribe(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	JsonObject *op = object_member(
		object_member(object_member(json_node_get_object(root), "paths"), "/sse/subscribe"),
		"get");
	JsonObject *ok = object_member(object_member(op, "responses"), "200");
	JsonObject *content = object_member(ok, "content");
	JsonArray *params = json_object_get_array_member(op, "parameters");
	const gchar *description = string_member(op, "description");
	static const gchar *const events[] = {"`connected`",  "`created`", "`updated`",
					      "`deleted`",    "`sync`",	   "`reset`",
					      ": keep-alive", NULL};
	static const gchar *const want_params[] = {
		"query:key",	     "query:environment",    "query:category",
		"header:X-User-Key", "header:Last-Event-ID", NULL};
	g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
	const gchar *example;

	g_assert_true(json_object_has_member(content, "text/event-stream"));
	g_assert_cmpuint(json_object_get_size(content), ==, 1);
	g_assert_nonnull(description);
	for (guint i = 0; events[i] != NULL; i++) {
		if (strstr(description, events[i]) == NULL)
			g_error("/sse/subscribe does not describe %s", events[i]);
	}

	/* the example frames are what a client parses: event, id, one data line, blank */
	example = string_member(object_member(content, "text/event-stream"), "example");
	g_assert_nonnull(example);
	g_assert_true(g_str_has_prefix(example, "event: connected\r\nid: "));
	g_assert_nonnull(strstr(example, "\r\ndata: {"));
	g_assert_true(g_str_has_suffix(example, "\r\n\r\n"));

	g_assert_nonnull(params);
	for (guint i = 0; i < json_array_get_length(params); i++) {
		JsonObject *p = deref(root, json_array_get_element(params, i));

		g_assert_false(json_object_get_boolean_member_with_default(p, "required", FALSE));
		g_ptr_array_add(seen, g_strdup_printf("%s:%s", string_member(p, "in"),
						      string_member(p, "name")));
	}
	for (guint i = 0; want_params[i] != NULL; i++) {
		if (!g_ptr_array_find_with_equal_func(seen, want_params[i], g_str_equal, NULL))
			g_error("/sse/subscribe does not document %s", want_params[i]);
	}
}

/* POST /cluster/salt: the write-back of a missing salt file (200 created), 400 and 409 */
static void
test_cluster_salt_post(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	JsonObject *responses = object_member(
		object_member(object_member(object_member(json_node_get_object(root), "paths"),
					    "/cluster/salt"),
			      "post"),
		"responses");
	static const gchar *const codes[] = {"200", "400", "409", "500", NULL};
	JsonObject *examples;
	JsonObject *created;

	for (guint i = 0; codes[i] != NULL; i++) {
		if (!json_object_has_member(responses, codes[i]))
			g_error("POST /cluster/salt does not document %s", codes[i]);
	}
	examples = object_member(
		object_member(object_member(object_member(responses, "200"), "content"),
			      "application/json"),
		"examples");
	created = object_member(object_member(examples, "created"), "value");
	g_assert_cmpstr(string_member(created, "status"), ==, "created");
	g_assert_cmpint(json_object_get_int_member(created, "size_bytes"), ==, 64);
}

/* POST /backup and POST /import: the password header, both request forms, the errors */
static void
test_backup_import(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	static const gchar *const backup_codes[] = {"200", "400", "401", "403", "422", "500", NULL};
	static const gchar *const import_codes[] = {"200", "400", "401", "403", "411",
						    "413", "422", "500", NULL};
	static const gchar *const backup_members[] = {"backup_data",	  "total_keys",
						      "backup_timestamp", "backup_id",
						      "total_configs",	  NULL};
	static const gchar *const import_members[] = {
		"message",     "backup_id",	 "backup_timestamp", "total_in_backup",
		"imported",    "skipped",	 "failed",	     "failed_keys",
		"overwritten", "imported_count", "skipped_count",    "errors",
		NULL};
	static const gchar *const import_errors[] = {
		"X-Backup-Password must not be empty",
		"Incorrect padding",
		"Invalid backup data: too short",
		"Decryption failed: invalid password or corrupted backup",
		"Invalid backup format",
		NULL};
	g_autoptr(GPtrArray) details = NULL;
	JsonObject *body;

	assert_param(root, "/backup", "post", "header", "X-Backup-Password", TRUE);
	assert_param(root, "/backup", "post", "query", "category", FALSE);
	assert_param(root, "/backup", "post", "query", "environment", FALSE);
	assert_codes(root, "/backup", "post", backup_codes);
	assert_required(root, "BackupResult", backup_members);

	assert_param(root, "/import", "post", "header", "X-Backup-Password", TRUE);
	/* query or JSON body (D-5): neither form is required on its own */
	assert_param(root, "/import", "post", "query", "backup_data", FALSE);
	assert_param(root, "/import", "post", "query", "overwrite", FALSE);
	body = object_member(operation(root, "/import", "post"), "requestBody");
	g_assert_false(json_object_get_boolean_member_with_default(body, "required", TRUE));
	g_assert_true(json_object_has_member(object_member(body, "content"), "application/json"));
	assert_codes(root, "/import", "post", import_codes);
	assert_required(root, "ImportResult", import_members);

	details = example_details(root, "/import", "post", "400");
	for (guint i = 0; import_errors[i] != NULL; i++) {
		if (!g_ptr_array_find_with_equal_func(details, import_errors[i], g_str_equal, NULL))
			g_error("POST /import has no 400 example \"%s\"", import_errors[i]);
	}
}

/* POST /rekey: the new key's header and its refusals */
static void
test_rekey(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	static const gchar *const codes[] = {"200", "400", "401", "403", "422", "500", NULL};
	static const gchar *const members[] = {"message", "rekeyed", NULL};
	g_autoptr(GPtrArray) details = NULL;

	assert_param(root, "/rekey", "post", "header", "X-New-User-Key", TRUE);
	assert_codes(root, "/rekey", "post", codes);
	assert_required(root, "RekeyResult", members);
	details = example_details(root, "/rekey", "post", "400");
	g_assert_true(g_ptr_array_find_with_equal_func(
		details, "X-New-User-Key must differ from X-User-Key", g_str_equal, NULL));
}

/* the version history: list, read one (GET /configs/{key}?version=N), roll back */
static void
test_versions(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	static const gchar *const list_codes[] = {"200", "401", "403", "404", "422", NULL};
	static const gchar *const rollback_codes[] = {"200", "401", "403", "404",
						      "412", "422", NULL};
	static const gchar *const version_members[] = {
		"key",	   "category",	 "environment",	  "version", "current",
		"deleted", "created_at", "superseded_at", "node_id", NULL};
	static const gchar *const value_members[] = {"key",	"category", "environment", "value",
						     "version", "current",  "deleted",	   NULL};
	JsonObject *ok;
	JsonObject *info = object_member(json_node_get_object(root), "info");
	g_autoptr(GPtrArray) details = NULL;

	assert_param(root, "/configs/{key}/versions", "get", "path", "key", TRUE);
	assert_param(root, "/configs/{key}/versions", "get", "query", "environment", TRUE);
	assert_codes(root, "/configs/{key}/versions", "get", list_codes);
	assert_required(root, "ConfigVersion", version_members);

	assert_param(root, "/configs/{key}", "get", "query", "version", FALSE);
	assert_required(root, "ConfigVersionValue", value_members);
	details = example_details(root, "/configs/{key}", "get", "404");
	g_assert_true(g_ptr_array_find_with_equal_func(
		details, "Version 9 of 'database' not found in environment 'production'",
		g_str_equal, NULL));

	assert_param(root, "/configs/{key}/rollback", "post", "path", "key", TRUE);
	assert_param(root, "/configs/{key}/rollback", "post", "query", "environment", TRUE);
	assert_param(root, "/configs/{key}/rollback", "post", "query", "version", TRUE);
	assert_param(root, "/configs/{key}/rollback", "post", "header", "If-Match", FALSE);
	assert_codes(root, "/configs/{key}/rollback", "post", rollback_codes);
	ok = object_member(
		object_member(operation(root, "/configs/{key}/rollback", "post"), "responses"),
		"200");
	g_assert_true(json_object_has_member(object_member(ok, "headers"), "ETag"));

	/* how much history is kept is part of the contract */
	g_assert_nonnull(strstr(string_member(info, "description"), "OSC_VERSIONS_KEPT"));
}

/* a chunked request body is refused (411) on every route: those that take a body say so */
static void
test_length_required(void)
{
	g_autoptr(JsonNode) root = load_openapi();
	JsonObject *paths = object_member(json_node_get_object(root), "paths");
	g_autoptr(GList) path_names = json_object_get_members(paths);
	guint n_bodies = 0;

	for (GList *p = path_names; p != NULL; p = p->next) {
		JsonObject *item = object_member(paths, p->data);
		g_autoptr(GList) members = json_object_get_members(item);

		for (GList *l = members; l != NULL; l = l->next) {
			JsonObject *op;

			if (!is_operation(l->data))
				continue;
			op = object_member(item, l->data);
			if (!json_object_has_member(op, "requestBody"))
				continue;
			n_bodies++;
			if (!json_object_has_member(object_member(op, "responses"), "411"))
				g_error("%s %s takes a body but does not document 411",
					(gchar *)l->data, (gchar *)p->data);
		}
	}
	/* POST /configs, PUT /configs/{key}, POST /cluster/salt, POST /import */
	g_assert_cmpuint(n_bodies, >=, 4);
}

/* docs.html: self-contained, and its route table names every documented path */
static void
test_docs_html(void)
{
	g_autofree gchar *path = source_file("docs.html");
	g_autofree gchar *html = NULL;
	g_autofree gchar *lower = NULL;
	g_autoptr(GError) error = NULL;
	static const gchar *const forbidden[] = {"<script",    "<link", "<iframe", "<img",
						 "@import",    "src=",	"url(",	   "href=\"http",
						 "href='http", NULL};
	static const gchar *const mentions[] = {"X-Backup-Password", "X-New-User-Key",
						"OSC_VERSIONS_KEPT", "OSC_MAX_IMPORT_SIZE", NULL};

	g_file_get_contents(path, &html, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_utf8_validate(html, -1, NULL));
	lower = g_ascii_strdown(html, -1);

	g_assert_nonnull(strstr(lower, "<!doctype html>"));
	g_assert_nonnull(strstr(lower, "<title>"));
	g_assert_nonnull(strstr(lower, "prefers-color-scheme"));
	g_assert_nonnull(strstr(html, "href=\"/openapi.json\""));
	for (guint i = 0; forbidden[i] != NULL; i++) {
		if (strstr(lower, forbidden[i]) != NULL)
			g_error("docs.html contains %s: it must stay self-contained", forbidden[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(expected_paths); i++) {
		g_autofree gchar *cell = g_strdup_printf("<code>%s</code>", expected_paths[i].path);

		if (strstr(html, cell) == NULL)
			g_error("docs.html does not list %s", expected_paths[i].path);
	}
	/* the headers and settings the backup, re-key and version sections explain */
	for (guint i = 0; mentions[i] != NULL; i++) {
		if (strstr(html, mentions[i]) == NULL)
			g_error("docs.html does not mention %s", mentions[i]);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/osc/openapi/version", test_version);
	g_test_add_func("/osc/openapi/paths", test_paths);
	g_test_add_func("/osc/openapi/operations", test_operations);
	g_test_add_func("/osc/openapi/security-schemes", test_security_schemes);
	g_test_add_func("/osc/openapi/refs", test_refs);
	g_test_add_func("/osc/openapi/schemas", test_schemas);
	g_test_add_func("/osc/openapi/sse-subscribe", test_sse_subscribe);
	g_test_add_func("/osc/openapi/cluster-salt-post", test_cluster_salt_post);
	g_test_add_func("/osc/openapi/backup-import", test_backup_import);
	g_test_add_func("/osc/openapi/rekey", test_rekey);
	g_test_add_func("/osc/openapi/versions", test_versions);
	g_test_add_func("/osc/openapi/length-required", test_length_required);
	g_test_add_func("/osc/openapi/docs-html", test_docs_html);

	return g_test_run();
}
