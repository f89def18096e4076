/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* the default limit on a value's serialised plaintext */
#define OSC_VALUE_DEFAULT_MAX_SIZE (1024 * 1024)

JsonNode *
osc_value_normalize(JsonNode *value, GError **error);
gchar *
osc_value_to_python_json(JsonNode *value, gsize *out_len);
JsonNode *
osc_value_parse(const gchar *text, gssize len, GError **error);
gchar *
osc_json_to_string(JsonNode *node, gsize *out_len);
gchar *
osc_json_compact(const gchar *text, gssize len, gsize *out_len, GError **error);
gboolean
osc_json_compact_append(GString *out, const gchar *text, gssize len, GError **error);
void
osc_json_append_quoted(GString *out, const gchar *str);
gboolean
osc_json_validate(const gchar *text, gssize len, GError **error);
JsonNode *
osc_json_parse(const gchar *text, gsize len, GError **error);
gboolean
osc_json_node_is_big_int(JsonNode *node);
const gchar *
osc_json_node_get_text(JsonNode *node);
gboolean
osc_json_check_surrogates(const gchar *text, gsize len, GError **error);
/* spans of strictly valid JSON (osc_json_validate() ran first) */
gsize
osc_json_skip_ws(const gchar *text, gsize len, gsize i);
gsize
osc_json_skip_string(const gchar *text, gsize len, gsize i);
gsize
osc_json_skip_value(const gchar *text, gsize len, gsize i);
gboolean
osc_json_object_member_span(const gchar *text, gsize len, const gchar *name, gsize *start,
			    gsize *end);

/* timestamps: API.md §1.8 */
gchar *
osc_timestamp_now_db(void);
gchar *
osc_timestamp_db_to_api(const gchar *db_text);
gchar *
osc_timestamp_now_api(void);
gchar *
osc_timestamp_from_datetime(GDateTime *dt);

G_END_DECLS
