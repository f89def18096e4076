/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <string.h>

#include "osc-backup.h"
#include "osc-crypto.h"
#include "osc-error.h"
#include "osc-test-utils.h"
#include "osc-value.h"

/*
 * Backup and import (API.md §4.12, §4.13, §6.5, §7, D-3, D-5). A backup always costs one
 * 480,000-iteration PBKDF2 to write and one to read, so every test here counts its
 * backups and imports; the whole file stays well under a minute.
 */

#define KEY_A	 "user-key-alpha-123"
#define KEY_B	 "user-key-bravo-456"
#define PASSWORD "backup-password-42"

/* §6.5 backup vector */
#define VECTOR_PASSWORD "backup-pass-123"
#define VECTOR_BSALT	"6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283"
#define VECTOR_PLAINTEXT                                                                           \
	"{\"version\": \"2.2.0\", \"backup_id\": \"backup-1700000000\", \"backup_timestamp\": "    \
	"\"2023-11-14T22:13:20.000001Z\", \"total_keys\": 1, \"configurations\": [{\"id\": 1, "    \
	"\"key\": \"database\", \"category\": \"config\", \"environment\": \"production\", "       \
	"\"value\": {\"host\": \"localhost\", \"port\": 5432}, \"created_at\": "                   \
	"\"2023-11-14T22:00:00.123456Z\", \"updated_at\": \"2023-11-14T22:00:00.123456Z\"}]}"
#define VECTOR_BACKUP_DATA                                                                         \
	"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoNnQUFBQUFCbFVfRUFFUkVSRVJFUkVSRVJFUkVSRVJFUkVV" \
	"VTd1WGZnbVY1Y2pxRDhxWGQyNHVPcnVQdzl2M1lCcDFqN0hGbm5VMWZiR1VPYnh6ZmdUMjJxSFluQmVQaDFMX2tf" \
	"UDdxX2RoUG9QOFNyM0tZY3pLUEVFdGZHUWRZVnoyZGlLaWI2NWNfTHZIUXA2YWM5ajNSb0ttTFJoeHFLWjk4UFJz" \
	"SFNlVjlDWWFLZHZick9xWGRjM0Q3OV85dWxQTm5ldGVNWGI0MzhUbnU1NWhELWRxNGhpQXlxN3ZkSzdTQTI4RXIw" \
	"MTFQLVJ0aEtaRFlqNjV3TFE0Y0tsYjh5bXJteEtxRVpKM1MyZmZYWThvbEpWc1BVQTJSSmp1NVRZWVJ2bXItbTlm" \
	"Y1MxR0o5eE1PRnQtQVdaSmJpa2Fkcnpfc1FaUUg3TzdDU2Q1N0RNbDJYSXVuOUI5c3I3TzVwWkJsV3JfY2tiQVJJ" \
	"cDJqN3ZYaldBb1BvaThDZjVIMXh6SXRmdVc4X1U1YmFEeEhocUhPNU9yWUxlVFJ3WG9jdUFkbjNfVmxHZzhxbG1f" \
	"Ym50aHcxTVplT29VVUZXbkxVbGw5QkZQVWNzb0N1cGRpNGZLUENWNVZUMmwxVUNHeTZMZ01DQVJPWXE3UmNPMUdf" \
	"MGlmLU00M1dFVnFlaTJRX1U5SW1vTkNKZGZSYlRTLV9XMF9wY1RheFZoalRjMlc4T3pDbVRaT3RzZU0zVnI1OFpD" \
	"cHRpTmM9"

#define DECRYPT_FAILED "Decryption failed: invalid password or corrupted backup"

/* Under AddressSanitizer one 480,000-iteration PBKDF2 takes ~20 s: keep only cheap tests */
static gboolean
skip_if_sanitized(void)
{
	if (osc_test_is_sanitized() && g_getenv("OSC_TEST_SLOW") == NULL) {
		g_test_skip("480,000-iteration PBKDF2 is too slow under AddressSanitizer "
			    "(set OSC_TEST_SLOW=1 to run)");
		return TRUE;
	}
	return FALSE;
}

static gchar *
python_json(JsonNode *node)
{
	return osc_value_to_python_json(node, NULL);
}

/* ---- unit: envelope, base64, document ---- */

static void
test_backup_vector_decrypt(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) plain = NULL;

	if (skip_if_sanitized())
		return;
	plain = osc_backup_decrypt(VECTOR_PASSWORD, strlen(VECTOR_PASSWORD), VECTOR_BACKUP_DATA,
				   &error);
	g_assert_no_error(error);
	g_assert_nonnull(plain);
	g_assert_cmpmem(g_bytes_get_data(plain, NULL), g_bytes_get_size(plain), VECTOR_PLAINTEXT,
			strlen(VECTOR_PLAINTEXT));
}

static void
test_backup_vector_encrypt(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bsalt = osc_test_hex_to_bytes(VECTOR_BSALT);
	g_autofree gchar *backup_data = NULL;
	guint8 iv[16];

	if (skip_if_sanitized())
		return;
	g_assert_cmpuint(g_bytes_get_size(bsalt), ==, 32);
	memset(iv, 0x11, sizeof(iv));
	backup_data = osc_backup_encrypt(VECTOR_PASSWORD, strlen(VECTOR_PASSWORD), VECTOR_PLAINTEXT,
					 strlen(VECTOR_PLAINTEXT), g_bytes_get_data(bsalt, NULL),
					 1700000000, iv, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(backup_data, ==, VECTOR_BACKUP_DATA);
}

static void
test_backup_base64(void)
{
	/* expected results checked against Python 3's base64.b64decode (non-validating) */
	static const struct {
		const gchar *in;
		const gchar *out_hex; /* NULL: must fail with @message */
		const gchar *message;
	} cases[] = {
		{"", "", NULL},
		{"YWJj", "616263", NULL},
		{"YWJjZA==", "61626364", NULL},
		/* outside the alphabet: skipped (blanks, newlines, punctuation, url-safe chars) */
		{"YW Jj\n", "616263", NULL},
		{"YWJj!*\n", "616263", NULL},
		{"Y-W_J.j", "616263", NULL},
		{"abc=", "69b7", NULL},
		{"YQ==", "61", NULL},
		{"YQ===", "61", NULL},
		{"abc", NULL, "Incorrect padding"},
		{"YQ", NULL, "Incorrect padding"},
		{"YWJjZA=", NULL, "Incorrect padding"},
		{"abcde", NULL,
		 "Invalid base64-encoded string: number of data characters (5) cannot be 1 more "
		 "than "
		 "a multiple of 4"},
		{"a", NULL,
		 "Invalid base64-encoded string: number of data characters (1) cannot be 1 more "
		 "than "
		 "a multiple of 4"},
		/* the count is of data characters only */
		{"ab!c d\ne", NULL,
		 "Invalid base64-encoded string: number of data characters (5) cannot be 1 more "
		 "than "
		 "a multiple of 4"},
		{"YWJjZ===", NULL,
		 "Invalid base64-encoded string: number of data characters (5) cannot be 1 more "
		 "than "
		 "a multiple of 4"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		gsize len = 0;
		g_autofree guint8 *out = osc_backup_base64_decode(cases[i].in, &len, &error);

		g_test_message("base64 case %u: %s", i, cases[i].in);
		if (cases[i].out_hex == NULL) {
			g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
			g_assert_cmpstr(error->message, ==, cases[i].message);
			g_assert_null(out);
		} else {
			g_autoptr(GBytes) expected = osc_test_hex_to_bytes(cases[i].out_hex);
			g_assert_no_error(error);
			g_assert_cmpmem(out, len, g_bytes_get_data(expected, NULL),
					g_bytes_get_size(expected));
		}
	}
}

static void
test_backup_too_short(void)
{
	guint8 zeros[32] = {0};
	g_autofree gchar *b31 = g_base64_encode(zeros, 31);
	g_autofree gchar *b32 = g_base64_encode(zeros, 32);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) plain = NULL;

	/* both answered before any PBKDF2 */
	plain = osc_backup_decrypt(PASSWORD, strlen(PASSWORD), "YWJj", &error);
	g_assert_null(plain);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, "Invalid backup data: too short");
	g_clear_error(&error);
	plain = osc_backup_decrypt(PASSWORD, strlen(PASSWORD), b31, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, "Invalid backup data: too short");
	g_clear_error(&error);
	plain = osc_backup_decrypt(PASSWORD, strlen(PASSWORD), "abc", &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, "Incorrect padding");
	g_clear_error(&error);

	if (skip_if_sanitized())
		return;
	/* exactly a salt and no token: long enough, but nothing decrypts */
	plain = osc_backup_decrypt(PASSWORD, strlen(PASSWORD), b32, &error);
	g_assert_null(plain);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, DECRYPT_FAILED);
}

static void
test_backup_wrong_password(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) plain = NULL;

	if (skip_if_sanitized())
		return;
	plain = osc_backup_decrypt("backup-pass-124", 15, VECTOR_BACKUP_DATA, &error);
	g_assert_null(plain);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, DECRYPT_FAILED);
}

static OscBackupDocument *
parse_doc(const gchar *text, GError **error)
{
	return osc_backup_parse_document(text, strlen(text), error);
}

static void
test_backup_document(void)
{
	static const gchar *const invalid_format[] = {
		"[]",
		"[{\"configurations\": []}]",
		"\"configurations\"",
		"42",
		"null",
		"{}",
		"{\"version\": \"2.2.0\", \"total_keys\": 0}",
		"{\"configurations\": {}}",
		"{\"configurations\": null}",
		"{\"configurations\": \"[]\"}",
		"{\"configurations\": [1]}",
		"{\"configurations\": [null]}",
		"{\"configurations\": [{\"key\": \"a\", \"environment\": \"e\", \"value\": 1}, "
		"[]]}",
		"{\"configurations\": [{\"key\": \"a\", \"environment\": \"e\", \"value\": 1}, "
		"{\"key\": \"b\", \"\\ude0e\": 1}]}",
	};
	static const gchar *const not_json[] = {"", "not json", "{\"configurations\": [",
						"\xff\xfe{}"};
	g_autoptr(GError) error = NULL;
	g_autoptr(OscBackupDocument) doc = NULL;
	OscBackupItem *item;
	g_autofree gchar *value_text = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(not_json); i++) {
		g_autoptr(OscBackupDocument) bad = parse_doc(not_json[i], &error);
		g_assert_null(bad);
		g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
		g_assert_cmpuint(strlen(error->message), >, 0);
		g_clear_error(&error);
	}
	for (guint i = 0; i < G_N_ELEMENTS(invalid_format); i++) {
		g_autoptr(OscBackupDocument) bad = parse_doc(invalid_format[i], &error);
		g_test_message("document: %s", invalid_format[i]);
		g_assert_null(bad);
		g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
		g_assert_cmpstr(error->message, ==, "Invalid backup format");
		g_clear_error(&error);
	}

	/* extra members everywhere; no version, id or timestamps */
	doc = parse_doc("{\"configurations\": [], \"extra\": {\"x\": [1, 2]}, \"total_keys\": 99}",
			&error);
	g_assert_no_error(error);
	g_assert_nonnull(doc);
	g_assert_null(doc->backup_id);
	g_assert_null(doc->backup_timestamp);
	g_assert_cmpuint(doc->items->len, ==, 0);
	g_clear_pointer(&doc, osc_backup_document_free);

	doc = parse_doc(
		"{\"backup_id\": \"backup-7\", \"backup_timestamp\": "
		"\"2026-01-01T00:00:00.000000Z\", "
		"\"configurations\": ["
		"{\"id\": 7, \"key\": \"k\", \"environment\": \"e\", \"category\": \"c\", "
		"\"value\": {\"a\": [1, null]}, \"created_at\": \"x\", \"whatever\": true},"
		"{\"environment\": \"e\", \"value\": 1},"
		"{\"key\": \"k2\", \"value\": 1},"
		"{\"key\": \"k3\", \"environment\": \"e\"},"
		"{\"key\": \"k4\", \"environment\": \"e\", \"category\": null, \"value\": \"v\"},"
		"{\"key\": 5, \"environment\": \"e\", \"value\": 1},"
		"{\"key\": \"k6\", \"environment\": \"\", \"value\": 1},"
		"{\"key\": \"k7\", \"environment\": \"e\", \"category\": 3, \"value\": 1}"
		"]}",
		&error);
	g_assert_no_error(error);
	g_assert_nonnull(doc);
	g_assert_cmpstr(doc->backup_id, ==, "backup-7");
	g_assert_cmpstr(doc->backup_timestamp, ==, "2026-01-01T00:00:00.000000Z");
	g_assert_cmpuint(doc->items->len, ==, 8);

	item = g_ptr_array_index(doc->items, 0);
	g_assert_null(item->error);
	g_assert_cmpstr(item->key, ==, "k");
	g_assert_cmpstr(item->environment, ==, "e");
	g_assert_cmpstr(item->category, ==, "c");
	value_text = python_json(item->value);
	g_assert_cmpstr(value_text, ==, "{\"a\": [1, null]}");

	item = g_ptr_array_index(doc->items, 1);
	g_assert_null(item->key);
	g_assert_cmpstr(item->error, ==, "key is required");
	item = g_ptr_array_index(doc->items, 2);
	g_assert_cmpstr(item->key, ==, "k2");
	g_assert_cmpstr(item->error, ==, "environment is required");
	item = g_ptr_array_index(doc->items, 3);
	g_assert_cmpstr(item->key, ==, "k3");
	g_assert_cmpstr(item->error, ==, "value is required");
	item = g_ptr_array_index(doc->items, 4);
	g_assert_null(item->error);
	g_assert_null(item->category);
	item = g_ptr_array_index(doc->items, 5);
	g_assert_nonnull(item->error);
	item = g_ptr_array_index(doc->items, 6);
	g_assert_cmpstr(item->error, ==, "environment is required");
	item = g_ptr_array_index(doc->items, 7);
	g_assert_nonnull(item->error);
}

/* ---- HTTP: in-process services ---- */

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	gchar *base;
} Node;

typedef struct {
	Node a;
	Node b;
	SoupSession *session;
} Fixture;

enum {
	FIX_TWO = 1 << 0,	   /* a second, independent service (own salt) */
	FIX_SMALL_LIMITS = 1 << 1, /* max_body_size 1 KiB, max_import_size 8 KiB */
};

static void
node_start(Node *n, guint flags)
{
	n->tmpdir = osc_test_make_tmpdir();
	n->config = osc_test_config_new(n->tmpdir);
	if (flags & FIX_SMALL_LIMITS) {
		n->config->max_body_size = 1024;
		n->config->max_import_size = 8192;
	}
	n->service = osc_test_service_new(n->config);
	n->base = osc_test_service_base_url(n->service);
}

static void
node_stop(Node *n)
{
	g_clear_object(&n->service);
	g_clear_pointer(&n->config, osc_config_free);
	g_clear_pointer(&n->base, g_free);
	osc_test_rm_rf(n->tmpdir);
	g_clear_pointer(&n->tmpdir, g_free);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	guint flags = GPOINTER_TO_UINT(data);

	node_start(&f->a, flags);
	if (flags & FIX_TWO)
		node_start(&f->b, flags);
	f->session = osc_test_session_new();
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->session);
	node_stop(&f->a);
	if (f->b.service != NULL)
		node_stop(&f->b);
}

static JsonObject *
obj(OscTestResponse *resp)
{
	g_assert_nonnull(resp->json);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(resp->json));
	return json_node_get_object(resp->json);
}

static gint64
int_member(OscTestResponse *resp, const gchar *name)
{
	JsonObject *o = obj(resp);

	g_assert_true(json_object_has_member(o, name));
	return json_object_get_int_member(o, name);
}

/*
 * @user_key, @password: NULL leaves the header out; @content_type is used when @body is set.
 */
static OscTestResponse *
request(Fixture *f, Node *n, const gchar *method, const gchar *path, const gchar *body,
	const gchar *user_key, const gchar *password)
{
	g_autofree gchar *url = g_strconcat(n->base, path, NULL);
	g_autoptr(GBytes) bytes = body != NULL ? g_bytes_new(body, strlen(body)) : NULL;
	const gchar *headers[5] = {NULL};
	guint i = 0;

	if (user_key != NULL) {
		headers[i++] = "X-User-Key";
		headers[i++] = user_key;
	}
	if (password != NULL) {
		headers[i++] = "X-Backup-Password";
		headers[i++] = password;
	}
	return osc_test_http_full(f->session, method, url, "application/json", bytes, headers);
}

static void
create_entry(Fixture *f, Node *n, const gchar *user_key, const gchar *key, const gchar *env,
	     const gchar *category, const gchar *value_json)
{
	g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
	JsonObject *o = json_object_new();
	g_autoptr(GError) error = NULL;
	JsonNode *value = json_from_string(value_json, &error);
	g_autofree gchar *body = NULL;
	g_autoptr(OscTestResponse) resp = NULL;

	g_assert_no_error(error);
	json_object_set_string_member(o, "key", key);
	json_object_set_member(o, "value", value);
	if (category != NULL)
		json_object_set_string_member(o, "category", category);
	else
		json_object_set_null_member(o, "category");
	json_object_set_string_member(o, "environment", env);
	json_node_take_object(root, o);
	body = json_to_string(root, FALSE);
	resp = request(f, n, "POST", "/configs", body, user_key, NULL);
	g_assert_cmpuint(resp->status, ==, 201);
}

/* GET /configs/{key}?environment=…&mode=full */
static OscTestResponse *
read_entry(Fixture *f, Node *n, const gchar *user_key, const gchar *key, const gchar *env)
{
	g_autofree gchar *k = g_uri_escape_string(key, NULL, FALSE);
	g_autofree gchar *e = g_uri_escape_string(env, NULL, FALSE);
	g_autofree gchar *path = g_strdup_printf("/configs/%s?environment=%s&mode=full", k, e);

	return request(f, n, "GET", path, NULL, user_key, NULL);
}

/* the entry's value in Python's JSON form, after asserting it reads */
static gchar *
read_value(Fixture *f, Node *n, const gchar *user_key, const gchar *key, const gchar *env)
{
	g_autoptr(OscTestResponse) resp = read_entry(f, n, user_key, key, env);

	g_assert_cmpuint(resp->status, ==, 200);
	return python_json(json_object_get_member(obj(resp), "value"));
}

static OscTestResponse *
do_backup(Fixture *f, Node *n, const gchar *user_key, const gchar *query)
{
	g_autofree gchar *path = g_strconcat("/backup", query, NULL);

	return request(f, n, "POST", path, NULL, user_key, PASSWORD);
}

/* query form, fully percent-encoded as requests and URLSearchParams do */
static OscTestResponse *
import_query(Fixture *f, Node *n, const gchar *user_key, const gchar *password,
	     const gchar *backup_data, const gchar *overwrite)
{
	g_autofree gchar *escaped = g_uri_escape_string(backup_data, NULL, FALSE);
	g_autofree gchar *path = NULL;

	if (overwrite != NULL)
		path = g_strdup_printf("/import?backup_data=%s&overwrite=%s", escaped, overwrite);
	else
		path = g_strdup_printf("/import?backup_data=%s", escaped);
	return request(f, n, "POST", path, NULL, user_key, password);
}

/* JSON body form, as the JS client sends it; @overwrite_json NULL leaves the member out */
static OscTestResponse *
import_body(Fixture *f, Node *n, const gchar *user_key, const gchar *password,
	    const gchar *backup_data, const gchar *overwrite_json, const gchar *query)
{
	g_autoptr(JsonNode) bd = json_node_new(JSON_NODE_VALUE);
	g_autofree gchar *bd_json = NULL;
	g_autofree gchar *body = NULL;
	g_autofree gchar *path = g_strconcat("/import", query != NULL ? query : "", NULL);

	json_node_set_string(bd, backup_data);
	bd_json = json_to_string(bd, FALSE);
	if (overwrite_json != NULL)
		body = g_strdup_printf("{\"backup_data\":%s,\"overwrite\":%s}", bd_json,
				       overwrite_json);
	else
		body = g_strdup_printf("{\"backup_data\":%s}", bd_json);
	return request(f, n, "POST", path, body, user_key, password);
}

static gchar *
make_backup(const gchar *document)
{
	g_autoptr(GError) error = NULL;
	gchar *backup_data = osc_backup_encrypt(PASSWORD, strlen(PASSWORD), document,
						strlen(document), NULL, 0, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(backup_data);
	return backup_data;
}

/* decrypts a backup in-process; returns the plaintext document */
static gchar *
open_backup(const gchar *backup_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) plain =
		osc_backup_decrypt(PASSWORD, strlen(PASSWORD), backup_data, &error);
	gsize len = 0;
	const gchar *data;

	g_assert_no_error(error);
	data = g_bytes_get_data(plain, &len);
	return g_strndup(data, len);
}

static JsonNode *
parse_json(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = json_from_string(text, &error);

	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

/* everything the store holds, tokens and revisions included */
static gchar *
store_snapshot(Node *n)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows =
		osc_store_list(osc_service_get_store(n->service), NULL, NULL, &error);
	GString *out = g_string_new(NULL);

	g_assert_no_error(error);
	for (guint i = 0; i < rows->len; i++) {
		OscEntryRow *r = g_ptr_array_index(rows, i);
		g_string_append_printf(out,
				       "%" G_GINT64_FORMAT "|%s|%s|%s|%s|%s|%s|%s|%" G_GINT64_FORMAT
				       "|%" G_GINT64_FORMAT "\n",
				       r->id, r->key, r->environment,
				       r->category != NULL ? r->category : "(null)", r->token,
				       r->fingerprint != NULL ? r->fingerprint : "(null)",
				       r->created_at, r->updated_at, r->version, r->revision);
	}
	return g_string_free(out, FALSE);
}

static gchar *
list_full(Fixture *f, Node *n, const gchar *user_key)
{
	g_autoptr(OscTestResponse) resp =
		request(f, n, "GET", "/configs?mode=full", NULL, user_key, NULL);

	g_assert_cmpuint(resp->status, ==, 200);
	return g_strdup(resp->body);
}

/* the value of one unlabelled Prometheus sample */
static gdouble
metric_value(Fixture *f, Node *n, const gchar *name)
{
	g_autoptr(OscTestResponse) resp = request(f, n, "GET", "/metrics", NULL, NULL, NULL);
	g_autofree gchar *needle = g_strdup_printf("\n%s ", name);
	const gchar *p;

	g_assert_cmpuint(resp->status, ==, 200);
	p = strstr(resp->body, needle);
	g_assert_nonnull(p);
	return g_ascii_strtod(p + strlen(needle), NULL);
}

/* the 422 item whose loc is [@where, @name], or NULL */
static JsonObject *
find_item(OscTestResponse *resp, const gchar *where, const gchar *name)
{
	JsonArray *items;

	g_assert_cmpuint(resp->status, ==, 422);
	items = json_object_get_array_member(obj(resp), "detail");
	for (guint i = 0; i < json_array_get_length(items); i++) {
		JsonObject *item = json_array_get_object_element(items, i);
		JsonArray *loc = json_object_get_array_member(item, "loc");
		if (json_array_get_length(loc) == 2 &&
		    g_str_equal(json_array_get_string_element(loc, 0), where) &&
		    g_str_equal(json_array_get_string_element(loc, 1), name))
			return item;
	}
	return NULL;
}

static guint
n_items(OscTestResponse *resp)
{
	g_assert_cmpuint(resp->status, ==, 422);
	return json_array_get_length(json_object_get_array_member(obj(resp), "detail"));
}

/* ---- a minimal SSE reader (as in test-sse.c) ---- */

typedef struct {
	gchar *name;
	JsonNode *data;
} SseEvent;

typedef struct {
	SoupMessage *msg;
	GInputStream *stream;
	GCancellable *cancel;
	GString *buf;
	GPtrArray *events;
	gboolean reading;
	gboolean closed;
	gboolean sent;
	guint8 chunk[16384];
} SseClient;

static void
sse_event_free(SseEvent *e)
{
	g_free(e->name);
	g_clear_pointer(&e->data, json_node_unref);
	g_free(e);
}

static void
sse_parse(SseClient *c)
{
	gchar *sep;

	while ((sep = strstr(c->buf->str, "\r\n\r\n")) != NULL) {
		gsize len = (gsize)(sep - c->buf->str) + 4;
		g_autofree gchar *frame = g_strndup(c->buf->str, len);
		g_auto(GStrv) lines = g_strsplit(frame, "\r\n", -1);
		SseEvent *e;

		g_string_erase(c->buf, 0, (gssize)len);
		if (frame[0] == ':')
			continue;
		e = g_new0(SseEvent, 1);
		for (guint i = 0; lines[i] != NULL; i++) {
			if (g_str_has_prefix(lines[i], "event: "))
				e->name = g_strdup(lines[i] + 7);
			else if (g_str_has_prefix(lines[i], "data: "))
				e->data = json_from_string(lines[i] + 6, NULL);
		}
		g_ptr_array_add(c->events, e);
	}
}

static void sse_read_more(SseClient *c);

static void
sse_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	SseClient *c = user_data;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, NULL);

	c->reading = FALSE;
	if (n <= 0) {
		c->closed = TRUE;
		return;
	}
	g_string_append_len(c->buf, (const gchar *)c->chunk, n);
	sse_parse(c);
	sse_read_more(c);
}

static void
sse_read_more(SseClient *c)
{
	if (c->closed || c->reading)
		return;
	c->reading = TRUE;
	g_input_stream_read_async(c->stream, c->chunk, sizeof(c->chunk), G_PRIORITY_DEFAULT,
				  c->cancel, sse_read_cb, c);
}

static void
sse_send_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	SseClient *c = user_data;
	g_autoptr(GError) error = NULL;

	c->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
	g_assert_no_error(error);
	c->sent = TRUE;
}

static gboolean
sse_sent(gpointer data)
{
	return ((SseClient *)data)->sent;
}

typedef struct {
	SseClient *c;
	guint n;
} SseWait;

static gboolean
sse_have(gpointer data)
{
	SseWait *w = data;
	return w->c->events->len >= w->n;
}

static void
sse_wait(SseClient *c, guint n)
{
	SseWait w = {c, n};
	osc_test_wait_until(sse_have, &w, 10000);
}

static SseClient *
sse_subscribe(Fixture *f, Node *n, const gchar *user_key)
{
	g_autofree gchar *url = g_strconcat(n->base, "/sse/subscribe", NULL);
	SseClient *c = g_new0(SseClient, 1);

	c->msg = soup_message_new("GET", url);
	if (user_key != NULL)
		soup_message_headers_append(soup_message_get_request_headers(c->msg), "X-User-Key",
					    user_key);
	c->cancel = g_cancellable_new();
	c->buf = g_string_new(NULL);
	c->events = g_ptr_array_new_with_free_func((GDestroyNotify)sse_event_free);
	soup_session_send_async(f->session, c->msg, G_PRIORITY_DEFAULT, NULL, sse_send_cb, c);
	osc_test_wait_until(sse_sent, c, 10000);
	g_assert_cmpuint(soup_message_get_status(c->msg), ==, 200);
	sse_read_more(c);
	sse_wait(c, 1);
	g_assert_cmpstr(((SseEvent *)g_ptr_array_index(c->events, 0))->name, ==, "connected");
	return c;
}

static void
sse_close(SseClient *c)
{
	g_cancellable_cancel(c->cancel);
	while (c->reading)
		g_main_context_iteration(NULL, TRUE);
	g_clear_object(&c->stream);
	g_clear_object(&c->msg);
	g_clear_object(&c->cancel);
	g_string_free(c->buf, TRUE);
	g_ptr_array_unref(c->events);
	g_free(c);
}

static SseEvent *
sse_event(SseClient *c, guint i)
{
	g_assert_cmpuint(i, <, c->events->len);
	return g_ptr_array_index(c->events, i);
}

static JsonObject *
sse_data(SseClient *c, guint i)
{
	SseEvent *e = sse_event(c, i);

	g_assert_nonnull(e->data);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(e->data));
	return json_node_get_object(e->data);
}

/* data.value of event @i, in Python's JSON form */
static gchar *
sse_value(SseClient *c, guint i)
{
	JsonObject *d = json_object_get_object_member(sse_data(c, i), "data");

	g_assert_nonnull(d);
	return python_json(json_object_get_member(d, "value"));
}

/* ---- HTTP tests ---- */

static const struct {
	const gchar *key;
	const gchar *env;
	const gchar *category;
	const gchar *value; /* in Python's JSON form, which is also how it must come back */
} round_trip_entries[] = {
	{"unicode", "prod", "i18n",
	 "{\"greeting\": \"h\\u00e9llo w\\u00f6rld \\u2713 \\u65e5\\u672c\\u8a9e\", "
	 "\"emoji\": \"\\ud83d\\udd10\", \"quote\": \"a \\\"b\\\" \\\\ c\\n\"}"},
	{"nested", "prod", NULL,
	 "{\"a\": {\"b\": {\"c\": [1, {\"d\": null, \"f\": 2.5}]}}, \"e\": true, \"z\": {}}"},
	{"array", "staging", "lists", "[1, \"two\", 3.5, false, null, [4, []], {\"k\": \"v\"}]"},
	{"int", "prod", "numbers", "42"},
	{"bigint", "prod", "numbers", "-9007199254740993"},
	{"bool", "dev", NULL, "true"},
	{"false", "dev", "flags", "false"},
	{"string", "dev", "strings", "\"plain string\""},
	{"empty-string", "dev", "strings", "\"\""},
	{"unicode-key-\xc3\xa9", "dev", "cat\xc3\xa9gorie", "\"x\""},
};

static void
test_backup_round_trip(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) backup = NULL;
	g_autoptr(OscTestResponse) import = NULL;
	g_autoptr(OscTestResponse) other_key = NULL;
	g_autoptr(OscTestResponse) list_b = NULL;
	g_autoptr(JsonNode) doc = NULL;
	g_autofree gchar *plaintext = NULL;
	g_autofree gchar *salt_a = NULL;
	g_autofree gchar *salt_b = NULL;
	const gchar *backup_data;
	JsonArray *configs;
	guint n = G_N_ELEMENTS(round_trip_entries);

	if (skip_if_sanitized())
		return;
	for (guint i = 0; i < n; i++)
		create_entry(f, &f->a, KEY_A, round_trip_entries[i].key, round_trip_entries[i].env,
			     round_trip_entries[i].category, round_trip_entries[i].value);

	backup = do_backup(f, &f->a, KEY_A, "");
	g_assert_cmpuint(backup->status, ==, 200);
	g_assert_cmpint(int_member(backup, "total_keys"), ==, n);
	g_assert_cmpint(int_member(backup, "total_configs"), ==, n);
	g_assert_true(g_str_has_prefix(json_object_get_string_member(obj(backup), "backup_id"),
				       "backup-"));
	g_assert_true(g_str_has_suffix(
		json_object_get_string_member(obj(backup), "backup_timestamp"), "Z"));
	backup_data = json_object_get_string_member(obj(backup), "backup_data");
	/* standard base64 only */
	for (const gchar *p = backup_data; *p != '\0'; p++)
		g_assert_true(g_ascii_isalnum(*p) || *p == '+' || *p == '/' || *p == '=');

	/* the document as the original writes it: Python's dumper, ASCII only (§7.1, §6.3) */
	plaintext = open_backup(backup_data);
	g_assert_true(g_str_has_prefix(plaintext, "{\"version\": \"2.2.0\", \"backup_id\": \""));
	for (const gchar *p = plaintext; *p != '\0'; p++)
		g_assert_cmpuint((guchar)*p, <, 0x80);
	g_assert_nonnull(strstr(plaintext, "\"h\\u00e9llo w\\u00f6rld"));
	doc = parse_json(plaintext);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(doc), "backup_id"), ==,
			json_object_get_string_member(obj(backup), "backup_id"));
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(doc), "total_keys"), ==, n);
	configs = json_object_get_array_member(json_node_get_object(doc), "configurations");
	g_assert_cmpuint(json_array_get_length(configs), ==, n);
	for (guint i = 0; i < n; i++) {
		JsonObject *c = json_array_get_object_element(configs, i);
		g_autofree gchar *v = python_json(json_object_get_member(c, "value"));
		g_assert_cmpstr(json_object_get_string_member(c, "key"), ==,
				round_trip_entries[i].key);
		g_assert_cmpstr(v, ==, round_trip_entries[i].value);
		g_assert_true(json_object_has_member(c, "id"));
		g_assert_true(json_object_has_member(c, "created_at"));
		g_assert_true(json_object_has_member(c, "updated_at"));
		g_assert_true(json_object_has_member(c, "category"));
	}

	/* into another server: its own salt, another user key */
	import = import_body(f, &f->b, KEY_B, PASSWORD, backup_data, "false", NULL);
	g_assert_cmpuint(import->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(import), "message"), ==,
			"Import completed");
	g_assert_cmpstr(json_object_get_string_member(obj(import), "backup_id"), ==,
			json_object_get_string_member(obj(backup), "backup_id"));
	g_assert_cmpstr(json_object_get_string_member(obj(import), "backup_timestamp"), ==,
			json_object_get_string_member(obj(backup), "backup_timestamp"));
	g_assert_cmpint(int_member(import, "total_in_backup"), ==, n);
	g_assert_cmpint(int_member(import, "imported"), ==, n);
	g_assert_cmpint(int_member(import, "skipped"), ==, 0);
	g_assert_cmpint(int_member(import, "failed"), ==, 0);
	g_assert_cmpuint(
		json_array_get_length(json_object_get_array_member(obj(import), "failed_keys")), ==,
		0);
	g_assert_cmpint(int_member(import, "imported_count"), ==, n);

	g_file_get_contents(f->a.config->salt_file_path, &salt_a, NULL, NULL);
	g_file_get_contents(f->b.config->salt_file_path, &salt_b, NULL, NULL);
	g_assert_nonnull(salt_a);
	g_assert_nonnull(salt_b);
	g_assert_true(memcmp(salt_a, salt_b, 64) != 0);

	for (guint i = 0; i < n; i++) {
		g_autoptr(OscTestResponse) a = read_entry(
			f, &f->a, KEY_A, round_trip_entries[i].key, round_trip_entries[i].env);
		g_autoptr(OscTestResponse) b = read_entry(
			f, &f->b, KEY_B, round_trip_entries[i].key, round_trip_entries[i].env);
		g_autofree gchar *va = NULL;
		g_autofree gchar *vb = NULL;
		JsonNode *cat;

		g_test_message("entry %s", round_trip_entries[i].key);
		g_assert_cmpuint(a->status, ==, 200);
		g_assert_cmpuint(b->status, ==, 200);
		va = python_json(json_object_get_member(obj(a), "value"));
		vb = python_json(json_object_get_member(obj(b), "value"));
		g_assert_cmpstr(va, ==, round_trip_entries[i].value);
		g_assert_cmpstr(vb, ==, round_trip_entries[i].value);
		cat = json_object_get_member(obj(b), "category");
		g_assert_nonnull(cat);
		if (round_trip_entries[i].category == NULL)
			g_assert_true(JSON_NODE_HOLDS_NULL(cat));
		else
			g_assert_cmpstr(json_node_get_string(cat), ==,
					round_trip_entries[i].category);
		g_assert_cmpstr(json_object_get_string_member(obj(b), "environment"), ==,
				round_trip_entries[i].env);
		/* fresh rows: the backup's timestamps are not restored */
		g_assert_cmpstr(json_object_get_string_member(obj(a), "created_at"), !=,
				json_object_get_string_member(obj(b), "created_at"));
	}
	/* re-encrypted under the importing key, so only it opens them (D-3) */
	other_key = request(f, &f->b, "GET", "/configs", NULL, KEY_A, NULL);
	g_assert_cmpuint(other_key->status, ==, 401);
	list_b = request(f, &f->b, "GET", "/configs", NULL, KEY_B, NULL);
	g_assert_cmpuint(list_b->status, ==, 200);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(list_b->json)), ==, n);
}

static void
test_backup_vector_import(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) import = NULL;
	g_autoptr(OscTestResponse) read = NULL;
	g_autoptr(OscTestResponse) full = NULL;

	if (skip_if_sanitized())
		return;
	import = import_query(f, &f->a, KEY_A, VECTOR_PASSWORD, VECTOR_BACKUP_DATA, NULL);
	g_assert_cmpuint(import->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(import), "backup_id"), ==,
			"backup-1700000000");
	g_assert_cmpstr(json_object_get_string_member(obj(import), "backup_timestamp"), ==,
			"2023-11-14T22:13:20.000001Z");
	g_assert_cmpint(int_member(import, "total_in_backup"), ==, 1);
	g_assert_cmpint(int_member(import, "imported"), ==, 1);
	g_assert_cmpint(int_member(import, "skipped"), ==, 0);
	g_assert_cmpint(int_member(import, "failed"), ==, 0);

	read = request(f, &f->a, "GET", "/configs/database?environment=production", NULL, KEY_A,
		       NULL);
	g_assert_cmpuint(read->status, ==, 200);
	g_assert_cmpstr(read->body, ==,
			"{\"id\":1,\"key\":\"database\",\"category\":\"config\","
			"\"environment\":\"production\",\"value\":{\"host\":\"localhost\","
			"\"port\":5432}}");
	full = read_entry(f, &f->a, KEY_A, "database", "production");
	g_assert_cmpstr(json_object_get_string_member(obj(full), "created_at"), !=,
			"2023-11-14T22:00:00.123456Z");
}

static gchar *
backup_keys(const gchar *backup_data)
{
	g_autofree gchar *plaintext = open_backup(backup_data);
	g_autoptr(JsonNode) doc = parse_json(plaintext);
	JsonObject *o = json_node_get_object(doc);
	JsonArray *configs = json_object_get_array_member(o, "configurations");
	GString *out = g_string_new(NULL);

	g_assert_cmpint(json_object_get_int_member(o, "total_keys"), ==,
			json_array_get_length(configs));
	for (guint i = 0; i < json_array_get_length(configs); i++) {
		JsonObject *c = json_array_get_object_element(configs, i);
		g_string_append_printf(out, "%s%s/%s", i > 0 ? "," : "",
				       json_object_get_string_member(c, "key"),
				       json_object_get_string_member(c, "environment"));
	}
	return g_string_free(out, FALSE);
}

static void
test_backup_filters(Fixture *f, gconstpointer data)
{
	static const struct {
		const gchar *query;
		guint total;
		const gchar *keys; /* NULL: not opened (saves a PBKDF2) */
	} cases[] = {
		{"", 4, NULL},
		{"?category=cfg", 2, "a/prod,c/staging"},
		{"?environment=staging", 2, "c/staging,d/staging"},
		{"?category=cfg&environment=prod", 1, "a/prod"},
		{"?category=nothing", 0, ""},
	};

	if (skip_if_sanitized())
		return;
	create_entry(f, &f->a, KEY_A, "a", "prod", "cfg", "1");
	create_entry(f, &f->a, KEY_A, "b", "prod", "other", "2");
	create_entry(f, &f->a, KEY_A, "c", "staging", "cfg", "3");
	create_entry(f, &f->a, KEY_A, "d", "staging", NULL, "4");
	/* another key's entry matches some filters but is never exported with KEY_A */
	create_entry(f, &f->a, KEY_B, "e", "prod", "cfg", "5");

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(OscTestResponse) resp = do_backup(f, &f->a, KEY_A, cases[i].query);

		g_test_message("backup%s", cases[i].query);
		g_assert_cmpuint(resp->status, ==, 200);
		g_assert_cmpint(int_member(resp, "total_keys"), ==, cases[i].total);
		g_assert_cmpint(int_member(resp, "total_configs"), ==, cases[i].total);
		if (cases[i].keys != NULL) {
			g_autofree gchar *keys = backup_keys(
				json_object_get_string_member(obj(resp), "backup_data"));
			g_assert_cmpstr(keys, ==, cases[i].keys);
		}
	}

	/* D-3: entries match, none opens with this key → 401, no backup (no PBKDF2 either) */
	{
		g_autoptr(OscTestResponse) denied = do_backup(f, &f->a, KEY_B, "?category=other");
		g_autoptr(OscTestResponse) stranger =
			do_backup(f, &f->a, "user-key-charlie-789", "");
		g_autoptr(OscTestResponse) own = do_backup(f, &f->a, KEY_B, "?environment=prod");
		g_autoptr(OscTestResponse) empty =
			do_backup(f, &f->a, "user-key-charlie-789", "?environment=nowhere");

		g_assert_cmpuint(denied->status, ==, 401);
		g_assert_nonnull(osc_test_json_detail(denied));
		g_assert_cmpuint(stranger->status, ==, 401);
		/* KEY_B's own entry is exported, KEY_A's are left out */
		g_assert_cmpuint(own->status, ==, 200);
		g_assert_cmpint(int_member(own, "total_keys"), ==, 1);
		g_assert_cmpuint(empty->status, ==, 200);
		g_assert_cmpint(int_member(empty, "total_keys"), ==, 0);
	}
}

/* flips one bit of the decoded blob at @offset (from the end when negative) */
static gchar *
garble(const gchar *backup_data, gssize offset)
{
	gsize len = 0;
	g_autofree guint8 *blob = g_base64_decode(backup_data, &len);

	if (offset < 0)
		offset += (gssize)len;
	g_assert_cmpint(offset, >=, 0);
	g_assert_cmpint(offset, <, (gssize)len);
	blob[offset] ^= 0x01;
	return g_base64_encode(blob, len);
}

typedef struct {
	const gchar *what;
	const gchar *password;
	const gchar *backup_data;
	const gchar *detail; /* NULL: any string */
} RejectCase;

/* each import is refused with 400 and changes nothing */
static void
reject_all(Fixture *f, const RejectCase *cases, gsize n, const gchar *before,
	   const gchar *list_before)
{
	for (gsize i = 0; i < n; i++) {
		g_autoptr(OscTestResponse) resp = import_query(f, &f->a, KEY_A, cases[i].password,
							       cases[i].backup_data, "true");
		g_autofree gchar *after = store_snapshot(&f->a);
		g_autofree gchar *list_after = list_full(f, &f->a, KEY_A);

		g_test_message("import rejected: %s", cases[i].what);
		g_assert_cmpuint(resp->status, ==, 400);
		g_assert_nonnull(osc_test_json_detail(resp));
		if (cases[i].detail != NULL)
			g_assert_cmpstr(osc_test_json_detail(resp), ==, cases[i].detail);
		g_assert_cmpstr(after, ==, before);
		g_assert_cmpstr(list_after, ==, list_before);
	}
}

static void
test_backup_rejected(Fixture *f, gconstpointer data)
{
	g_autoptr(OscTestResponse) backup = NULL;
	g_autofree gchar *before = NULL;
	g_autofree gchar *list_before = NULL;
	g_autofree gchar *garbled = NULL;
	g_autofree gchar *garbled_salt = NULL;
	g_autofree gchar *truncated = NULL;
	g_autofree gchar *truncated_odd = NULL;
	const gchar *backup_data;
	gsize len, half;

	if (skip_if_sanitized())
		return;
	create_entry(f, &f->a, KEY_A, "keep", "prod", "c", "{\"v\": 1}");
	create_entry(f, &f->a, KEY_A, "keep", "dev", NULL, "[1]");
	backup = do_backup(f, &f->a, KEY_A, "");
	g_assert_cmpuint(backup->status, ==, 200);
	backup_data = json_object_get_string_member(obj(backup), "backup_data");
	/* an import that would change something, were it accepted */
	{
		g_autoptr(OscTestResponse) del = request(
			f, &f->a, "DELETE", "/configs/keep?environment=dev", NULL, KEY_A, NULL);
		g_assert_cmpuint(del->status, ==, 200);
	}
	before = store_snapshot(&f->a);
	list_before = list_full(f, &f->a, KEY_A);

	len = strlen(backup_data);
	half = len / 2 / 4 * 4;
	truncated = g_strndup(backup_data, half);
	truncated_odd = g_strndup(backup_data, half + 1);
	garbled = garble(backup_data, (gssize)(32 + (len * 3 / 4 - 32) / 2));
	garbled_salt = garble(backup_data, 5);

	{
		const RejectCase cases[] = {
			{"wrong password", "not-the-password", backup_data, DECRYPT_FAILED},
			{"truncated", PASSWORD, truncated, DECRYPT_FAILED},
			/* "Invalid base64-encoded string: …" or "Incorrect padding" */
			{"truncated, bad base64", PASSWORD, truncated_odd, NULL},
			{"garbled token", PASSWORD, garbled, DECRYPT_FAILED},
			{"garbled salt", PASSWORD, garbled_salt, DECRYPT_FAILED},
			{"too short", PASSWORD, "AAAAAAAAAAAAAAAAAAAAAAAA",
			 "Invalid backup data: too short"},
			{"5 data characters", PASSWORD, "ab!cde",
			 "Invalid base64-encoded string: number of data characters (5) cannot be 1 "
			 "more than a multiple of 4"},
			{"padding", PASSWORD, "abc", "Incorrect padding"},
			{"empty", PASSWORD, "", "Invalid backup data: too short"},
		};

		reject_all(f, cases, G_N_ELEMENTS(cases), before, list_before);
	}
	g_assert_cmpint(osc_service_get_entry_count(f->a.service), ==, 1);
}

static void
test_backup_bad_document(Fixture *f, gconstpointer data)
{
	static const struct {
		const gchar *doc;
		const gchar *detail; /* NULL: any string */
	} cases[] = {
		{"this is not JSON", NULL},
		{"{\"configurations\": {\"key\": \"x\"}}", "Invalid backup format"},
		/* a valid entry before the bad one: nothing is imported (D-5, all or nothing) */
		{"{\"configurations\": [{\"key\": \"first\", \"environment\": \"prod\", \"value\": "
		 "1}, "
		 "\"second\"]}",
		 "Invalid backup format"},
		/* valid JSON that json-glib cannot read (a lone surrogate escape in a member
		 * name), after a good entry that the streamed import has already written inside
		 * its transaction: found by fuzz-backup */
		{"{\"configurations\": [{\"key\": \"first\", \"environment\": \"prod\", \"value\": "
		 "1}, {\"key\": \"k\", \"environment\": \"e\", \"value\": 1, \"x\\ude0e\": 2}]}",
		 "Invalid backup format"},
	};
	g_autofree gchar *before = NULL;

	if (skip_if_sanitized())
		return;
	create_entry(f, &f->a, KEY_A, "present", "prod", NULL, "1");
	before = store_snapshot(&f->a);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *backup_data = make_backup(cases[i].doc);
		g_autoptr(OscTestResponse) resp =
			import_query(f, &f->a, KEY_A, PASSWORD, backup_data, "true");
		g_autofree gchar *after = store_snapshot(&f->a);

		g_test_message("document: %s", cases[i].doc);
		g_assert_cmpuint(resp->status, ==, 400);
		g_assert_nonnull(osc_test_json_detail(resp));
		g_assert_cmpuint(strlen(osc_test_json_detail(resp)), >, 0);
		if (cases[i].detail != NULL)
			g_assert_cmpstr(osc_test_json_detail(resp), ==, cases[i].detail);
		g_assert_cmpstr(after, ==, before);
	}

	/* an empty list is a valid, if useless, backup */
	{
		g_autofree gchar *backup_data = make_backup("{\"configurations\": []}");
		g_autoptr(OscTestResponse) resp =
			import_query(f, &f->a, KEY_A, PASSWORD, backup_data, "true");
		g_autofree gchar *after = store_snapshot(&f->a);

		g_assert_cmpuint(resp->status, ==, 200);
		g_assert_cmpint(int_member(resp, "total_in_backup"), ==, 0);
		g_assert_cmpint(int_member(resp, "imported"), ==, 0);
		g_assert_cmpint(int_member(resp, "failed"), ==, 0);
		g_assert_cmpstr(after, ==, before);
	}
}

/* failed_keys[i] as "key: error" */
static gchar *
failed_key(OscTestResponse *resp, guint i)
{
	JsonArray *failed = json_object_get_array_member(obj(resp), "failed_keys");
	JsonObject *item;

	g_assert_cmpuint(i, <, json_array_get_length(failed));
	item = json_array_get_object_element(failed, i);
	g_assert_cmpuint(json_object_get_size(item), ==, 2);
	return g_strdup_printf("%s: %s", json_object_get_string_member(item, "key"),
			       json_object_get_string_member(item, "error"));
}

static void
test_backup_invalid_items(Fixture *f, gconstpointer data)
{
	g_autofree gchar *long_key = g_strnfill(256, 'k');
	g_autofree gchar *doc = g_strdup_printf(
		"{\"configurations\": ["
		"{\"key\": \"good1\", \"environment\": \"prod\", \"value\": 1},"
		"{\"environment\": \"prod\", \"value\": 2},"
		"{\"key\": \"noenv\", \"value\": 3},"
		"{\"key\": \"noval\", \"environment\": \"prod\"},"
		"{\"key\": \"good2\", \"environment\": \"prod\", \"category\": \"c\", "
		"\"value\": {\"x\": [1, 2.5, null]}, \"id\": 99, \"created_at\": \"never\"},"
		"{\"key\": \"%s\", \"environment\": \"prod\", \"value\": 4},"
		"{\"key\": \"nullval\", \"environment\": \"prod\", \"value\": null},"
		"{\"key\": \"floatval\", \"environment\": \"prod\", \"value\": 2.5},"
		"{\"key\": \"intfloat\", \"environment\": \"prod\", \"value\": 5.0},"
		"{\"key\": \"lone\", \"environment\": \"prod\", \"value\": \"x\\ud83dy\"}"
		"], \"comment\": \"no version, id or timestamps\"}",
		long_key);
	g_autofree gchar *backup_data = NULL;
	g_autoptr(OscTestResponse) resp = NULL;
	JsonArray *failed;
	g_autofree gchar *v1 = NULL;
	g_autofree gchar *v2 = NULL;
	g_autofree gchar *v3 = NULL;
	static const gchar *const expected_failed[] = {"unknown: key is required",
						       "noenv: environment is required",
						       "noval: value is required", NULL};

	if (skip_if_sanitized())
		return;
	backup_data = make_backup(doc);
	resp = import_body(f, &f->a, KEY_A, PASSWORD, backup_data, NULL, NULL);
	g_assert_cmpuint(resp->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(resp), "backup_id"), ==, "unknown");
	g_assert_cmpstr(json_object_get_string_member(obj(resp), "backup_timestamp"), ==,
			"unknown");
	g_assert_cmpint(int_member(resp, "total_in_backup"), ==, 10);
	g_assert_cmpint(int_member(resp, "imported"), ==, 3);
	g_assert_cmpint(int_member(resp, "skipped"), ==, 0);
	g_assert_cmpint(int_member(resp, "failed"), ==, 7);
	failed = json_object_get_array_member(obj(resp), "failed_keys");
	g_assert_cmpuint(json_array_get_length(failed), ==, 7);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(resp), "errors")),
			 ==, 7);
	for (guint i = 0; expected_failed[i] != NULL; i++) {
		g_autofree gchar *fk = failed_key(resp, i);
		g_assert_cmpstr(fk, ==, expected_failed[i]);
	}
	/* json-glib would have stored "x" and dropped the "y": the entry fails instead */
	{
		g_autofree gchar *fk = failed_key(resp, 6);
		g_assert_cmpstr(fk, ==, "lone: a string holds a lone UTF-16 surrogate escape, which "
					"cannot be stored as text");
	}
	/* the long key, null and a fractional top-level value: reported under their keys */
	{
		g_autofree gchar *fk3 = failed_key(resp, 3);
		g_autofree gchar *fk4 = failed_key(resp, 4);
		g_autofree gchar *fk5 = failed_key(resp, 5);
		g_autofree gchar *prefix = g_strconcat(long_key, ": ", NULL);
		g_assert_true(g_str_has_prefix(fk3, prefix));
		g_assert_true(g_str_has_prefix(fk4, "nullval: "));
		g_assert_true(g_str_has_prefix(fk5, "floatval: "));
	}

	v1 = read_value(f, &f->a, KEY_A, "good1", "prod");
	v2 = read_value(f, &f->a, KEY_A, "good2", "prod");
	v3 = read_value(f, &f->a, KEY_A, "intfloat", "prod");
	g_assert_cmpstr(v1, ==, "1");
	g_assert_cmpstr(v2, ==, "{\"x\": [1, 2.5, null]}");
	/* §3.3: a zero fraction becomes an integer */
	g_assert_cmpstr(v3, ==, "5");
	{
		g_autoptr(OscTestResponse) good2 = read_entry(f, &f->a, KEY_A, "good2", "prod");
		g_autoptr(OscTestResponse) noval = read_entry(f, &f->a, KEY_A, "noval", "prod");
		g_assert_cmpstr(json_object_get_string_member(obj(good2), "category"), ==, "c");
		g_assert_cmpint(json_object_get_int_member(obj(good2), "id"), !=, 99);
		g_assert_cmpstr(json_object_get_string_member(obj(good2), "created_at"), !=,
				"never");
		g_assert_cmpuint(noval->status, ==, 404);
	}
	g_assert_cmpint(osc_service_get_entry_count(f->a.service), ==, 3);
}

static void
test_backup_overwrite(Fixture *f, gconstpointer data)
{
	static const gchar *const doc =
		"{\"version\": \"2.2.0\", \"backup_id\": \"backup-1\", \"backup_timestamp\": "
		"\"t\", "
		"\"total_keys\": 3, \"configurations\": ["
		"{\"key\": \"x\", \"environment\": \"prod\", \"category\": \"new\", \"value\": 2},"
		"{\"key\": \"y\", \"environment\": \"prod\", \"category\": null, \"value\": "
		"\"y2\"},"
		"{\"key\": \"z\", \"environment\": \"prod\", \"category\": null, \"value\": "
		"\"z\"}]}";
	g_autofree gchar *backup_data = NULL;
	g_autoptr(OscTestResponse) x0 = NULL;
	g_autoptr(OscTestResponse) y0 = NULL;
	g_autoptr(OscTestResponse) keep = NULL;
	g_autoptr(OscTestResponse) replace = NULL;

	if (skip_if_sanitized())
		return;
	backup_data = make_backup(doc);
	create_entry(f, &f->a, KEY_A, "x", "prod", "old", "1");
	create_entry(f, &f->a, KEY_A, "y", "prod", "keep", "\"y1\"");
	/* same key in another environment: a different entry, never touched */
	create_entry(f, &f->a, KEY_A, "x", "dev", "old", "\"dev\"");
	x0 = read_entry(f, &f->a, KEY_A, "x", "prod");
	y0 = read_entry(f, &f->a, KEY_A, "y", "prod");

	keep = import_query(f, &f->a, KEY_A, PASSWORD, backup_data, "false");
	g_assert_cmpuint(keep->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(obj(keep), "backup_id"), ==, "backup-1");
	g_assert_cmpint(int_member(keep, "total_in_backup"), ==, 3);
	g_assert_cmpint(int_member(keep, "imported"), ==, 1);
	g_assert_cmpint(int_member(keep, "skipped"), ==, 2);
	g_assert_cmpint(int_member(keep, "failed"), ==, 0);
	g_assert_cmpint(int_member(keep, "skipped_count"), ==, 2);
	{
		g_autoptr(OscTestResponse) x1 = read_entry(f, &f->a, KEY_A, "x", "prod");
		g_autoptr(OscTestResponse) y1 = read_entry(f, &f->a, KEY_A, "y", "prod");
		g_autofree gchar *z = read_value(f, &f->a, KEY_A, "z", "prod");

		/* skipped entries are untouched, timestamps included */
		g_assert_cmpstr(x1->body, ==, x0->body);
		g_assert_cmpstr(y1->body, ==, y0->body);
		g_assert_cmpstr(z, ==, "\"z\"");
	}

	replace = import_query(f, &f->a, KEY_A, PASSWORD, backup_data, "true");
	g_assert_cmpuint(replace->status, ==, 200);
	g_assert_cmpint(int_member(replace, "imported"), ==, 3);
	g_assert_cmpint(int_member(replace, "overwritten"), ==, 3);
	g_assert_cmpint(int_member(replace, "skipped"), ==, 0);
	g_assert_cmpint(int_member(replace, "failed"), ==, 0);
	{
		g_autoptr(OscTestResponse) x2 = read_entry(f, &f->a, KEY_A, "x", "prod");
		g_autoptr(OscTestResponse) y2 = read_entry(f, &f->a, KEY_A, "y", "prod");
		g_autoptr(OscTestResponse) z2 = read_entry(f, &f->a, KEY_A, "z", "prod");
		g_autofree gchar *xdev = read_value(f, &f->a, KEY_A, "x", "dev");

		g_assert_cmpint(json_object_get_int_member(obj(x2), "value"), ==, 2);
		g_assert_cmpstr(json_object_get_string_member(obj(x2), "category"), ==, "new");
		g_assert_cmpint(json_object_get_int_member(obj(x2), "id"), ==,
				json_object_get_int_member(obj(x0), "id"));
		g_assert_cmpstr(json_object_get_string_member(obj(x2), "created_at"), ==,
				json_object_get_string_member(obj(x0), "created_at"));
		g_assert_cmpstr(json_object_get_string_member(obj(x2), "updated_at"), !=,
				json_object_get_string_member(obj(x0), "updated_at"));
		g_assert_cmpstr(json_object_get_string_member(obj(y2), "value"), ==, "y2");
		/* a null category in the backup does not clear the stored one */
		g_assert_cmpstr(json_object_get_string_member(obj(y2), "category"), ==, "keep");
		g_assert_cmpstr(json_object_get_string_member(obj(y2), "updated_at"), !=,
				json_object_get_string_member(obj(y0), "updated_at"));
		g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(obj(z2), "category")));
		g_assert_cmpstr(xdev, ==, "\"dev\"");
		g_assert_cmpstr(soup_message_headers_get_one(x2->headers, "ETag"), !=,
				soup_message_headers_get_one(x0->headers, "ETag"));
	}
	g_assert_cmpint(osc_service_get_entry_count(f->a.service), ==, 4);
}

static void
test_backup_overwrite_other_key(Fixture *f, gconstpointer data)
{
	static const gchar *const doc =
		"{\"configurations\": ["
		"{\"key\": \"shared\", \"environment\": \"prod\", \"category\": \"evil\", "
		"\"value\": "
		"\"b\"},"
		"{\"key\": \"bonly\", \"environment\": \"prod\", \"value\": 1}]}";
	g_autofree gchar *backup_data = NULL;
	g_autoptr(OscTestResponse) resp = NULL;
	g_autoptr(OscTestResponse) again = NULL;
	g_autoptr(OscTestResponse) shared0 = NULL;
	g_autoptr(OscTestResponse) shared1 = NULL;
	g_autoptr(OscTestResponse) bonly_a = NULL;
	g_autofree gchar *bonly_b = NULL;
	g_autofree gchar *shared_row = NULL;
	g_autofree gchar *after = NULL;
	JsonObject *failed;

	if (skip_if_sanitized())
		return;
	backup_data = make_backup(doc);
	create_entry(f, &f->a, KEY_A, "shared", "prod", "mine", "\"a\"");
	shared0 = read_entry(f, &f->a, KEY_A, "shared", "prod");
	shared_row = store_snapshot(&f->a);

	resp = import_body(f, &f->a, KEY_B, PASSWORD, backup_data, "true", NULL);
	g_assert_cmpuint(resp->status, ==, 200);
	g_assert_cmpint(int_member(resp, "total_in_backup"), ==, 2);
	g_assert_cmpint(int_member(resp, "imported"), ==, 1);
	g_assert_cmpint(int_member(resp, "overwritten"), ==, 0);
	g_assert_cmpint(int_member(resp, "skipped"), ==, 0);
	g_assert_cmpint(int_member(resp, "failed"), ==, 1);
	failed = json_array_get_object_element(
		json_object_get_array_member(obj(resp), "failed_keys"), 0);
	g_assert_cmpstr(json_object_get_string_member(failed, "key"), ==, "shared");
	g_assert_nonnull(strstr(json_object_get_string_member(failed, "error"), "does not match"));

	/* the entry is exactly as before: value, category, token, timestamps */
	shared1 = read_entry(f, &f->a, KEY_A, "shared", "prod");
	g_assert_cmpstr(shared1->body, ==, shared0->body);
	after = store_snapshot(&f->a);
	g_assert_true(g_str_has_prefix(after, shared_row));
	bonly_b = read_value(f, &f->a, KEY_B, "bonly", "prod");
	g_assert_cmpstr(bonly_b, ==, "1");
	bonly_a = read_entry(f, &f->a, KEY_A, "bonly", "prod");
	g_assert_cmpuint(bonly_a->status, ==, 401);

	/* without overwrite, existing entries are skipped whoever owns them */
	again = import_query(f, &f->a, KEY_B, PASSWORD, backup_data, "no");
	g_assert_cmpuint(again->status, ==, 200);
	g_assert_cmpint(int_member(again, "imported"), ==, 0);
	g_assert_cmpint(int_member(again, "skipped"), ==, 2);
	g_assert_cmpint(int_member(again, "failed"), ==, 0);
}

/* requests quotes everything but unreserved characters; this quotes only '+' */
static gchar *
escape_plus_only(const gchar *s)
{
	GString *out = g_string_new(NULL);

	for (const gchar *p = s; *p != '\0'; p++) {
		if (*p == '+')
			g_string_append(out, "%2B");
		else
			g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

static void
test_backup_request_forms(Fixture *f, gconstpointer data)
{
	g_autofree gchar *plus_only = escape_plus_only(VECTOR_BACKUP_DATA);
	g_autofree gchar *plus_path = g_strdup_printf("/import?backup_data=%s", plus_only);
	g_autoptr(OscTestResponse) by_query = NULL;
	g_autoptr(OscTestResponse) by_plus = NULL;
	g_autoptr(OscTestResponse) by_body = NULL;
	g_autoptr(OscTestResponse) query_wins = NULL;
	g_autofree gchar *value = NULL;

	if (skip_if_sanitized())
		return;
	g_assert_nonnull(strchr(VECTOR_BACKUP_DATA, '+'));

	by_query = import_query(f, &f->a, KEY_A, VECTOR_PASSWORD, VECTOR_BACKUP_DATA, NULL);
	g_assert_cmpuint(by_query->status, ==, 200);
	g_assert_cmpint(int_member(by_query, "imported"), ==, 1);

	/* only '+' escaped, '/' and '=' left as they are */
	by_plus = request(f, &f->a, "POST", plus_path, NULL, KEY_A, VECTOR_PASSWORD);
	g_assert_cmpuint(by_plus->status, ==, 200);
	g_assert_cmpint(int_member(by_plus, "imported"), ==, 0);
	g_assert_cmpint(int_member(by_plus, "skipped"), ==, 1);

	/* the JS client: a JSON body, no query string */
	by_body = import_body(f, &f->a, KEY_A, VECTOR_PASSWORD, VECTOR_BACKUP_DATA, "true", NULL);
	g_assert_cmpuint(by_body->status, ==, 200);
	g_assert_cmpint(int_member(by_body, "imported"), ==, 1);
	g_assert_cmpint(int_member(by_body, "overwritten"), ==, 1);

	/* query first: overwrite=false in the query beats the body's true */
	query_wins = import_body(f, &f->a, KEY_A, VECTOR_PASSWORD, VECTOR_BACKUP_DATA, "true",
				 "?overwrite=false");
	g_assert_cmpuint(query_wins->status, ==, 200);
	g_assert_cmpint(int_member(query_wins, "skipped"), ==, 1);
	g_assert_cmpint(int_member(query_wins, "overwritten"), ==, 0);

	/* JSON escapes in the body ("\u0041" is "A"), and a repeated member: the last counts */
	{
		g_autofree gchar *escaped = NULL;
		g_autofree gchar *body = NULL;
		g_autoptr(OscTestResponse) resp = NULL;
		g_auto(GStrv) parts = g_strsplit(VECTOR_BACKUP_DATA, "A", -1);

		g_assert_cmpuint(g_strv_length(parts), >, 1);
		escaped = g_strjoinv("\\u0041", parts);
		body = g_strdup_printf("{\"overwrite\":true,\"backup_data\":\"x\","
				       "\"backup_data\":\"%s\",\"overwrite\":false}",
				       escaped);
		resp = request(f, &f->a, "POST", "/import", body, KEY_A, VECTOR_PASSWORD);
		g_assert_cmpuint(resp->status, ==, 200);
		g_assert_cmpint(int_member(resp, "skipped"), ==, 1);
		g_assert_cmpint(int_member(resp, "overwritten"), ==, 0);
	}

	/* wrapped at 76 columns, as base64(1) writes it: line breaks are skipped */
	{
		GString *wrapped = g_string_new(NULL);
		g_autofree gchar *text = NULL;
		g_autoptr(OscTestResponse) resp = NULL;

		for (const gchar *p = VECTOR_BACKUP_DATA; *p != '\0'; p++) {
			g_string_append_c(wrapped, *p);
			if ((p - VECTOR_BACKUP_DATA) % 76 == 75)
				g_string_append(wrapped, "\r\n");
		}
		text = g_string_free(wrapped, FALSE);
		resp = import_body(f, &f->a, KEY_A, VECTOR_PASSWORD, text, "false", NULL);
		g_assert_cmpuint(resp->status, ==, 200);
		g_assert_cmpint(int_member(resp, "skipped"), ==, 1);
	}

	value = read_value(f, &f->a, KEY_A, "database", "production");
	g_assert_cmpstr(value, ==, "{\"host\": \"localhost\", \"port\": 5432}");
}

/*
 * §1.5: header bytes are taken as ISO-8859-1 and the password re-encoded as UTF-8 before
 * PBKDF2, like the original; a client sending UTF-8 "ä" (C3 A4) therefore encrypts under
 * the four bytes C3 83 C2 A4.
 */
static void
test_backup_password_latin1(Fixture *f, gconstpointer data)
{
	const gchar *wire = "p\xc3\xa4ss-w\xc3\xb6rd";
	const gchar *as_python = "p\xc3\x83\xc2\xa4ss-w\xc3\x83\xc2\xb6rd";
	g_autoptr(OscTestResponse) backup = NULL;
	g_autoptr(OscTestResponse) import = NULL;
	g_autoptr(GBytes) plain = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *backup_data;

	if (skip_if_sanitized())
		return;
	create_entry(f, &f->a, KEY_A, "k", "prod", NULL, "1");
	backup = request(f, &f->a, "POST", "/backup", NULL, KEY_A, wire);
	g_assert_cmpuint(backup->status, ==, 200);
	backup_data = json_object_get_string_member(obj(backup), "backup_data");
	plain = osc_backup_decrypt(as_python, strlen(as_python), backup_data, &error);
	g_assert_no_error(error);
	g_assert_nonnull(plain);
	import = import_query(f, &f->a, KEY_A, wire, backup_data, NULL);
	g_assert_cmpuint(import->status, ==, 200);
	g_assert_cmpint(int_member(import, "skipped"), ==, 1);
}

/*
 * A row written by the original has no key fingerprint until a key opens it. Overwriting it
 * by import must still follow D-3: another key fails, the key that opens it succeeds (and
 * the fingerprint recorded on the way must not deadlock against the import's transaction).
 */
static void
test_backup_overwrite_legacy_row(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscDerivedKey) dk = NULL;
	g_autoptr(OscEntryRow) row = NULL;
	g_autofree gchar *token = NULL;
	g_autofree gchar *backup_data = NULL;
	g_autofree gchar *before = NULL;
	g_autofree gchar *after = NULL;
	g_autofree gchar *value = NULL;
	g_autoptr(OscTestResponse) other = NULL;
	g_autoptr(OscTestResponse) owner = NULL;
	JsonObject *failed;

	if (skip_if_sanitized())
		return;
	dk = osc_key_cache_derive(osc_service_get_key_cache(f->a.service), KEY_A, strlen(KEY_A),
				  NULL, &error);
	g_assert_no_error(error);
	token = osc_fernet_encrypt(osc_derived_key_get_bytes(dk), (const guint8 *)"\"legacy\"", 8,
				   1700000000, NULL, &error);
	g_assert_no_error(error);
	row = osc_store_insert(osc_service_get_store(f->a.service), "legacy", "prod", "old", token,
			       NULL, &error);
	g_assert_no_error(error);
	g_assert_null(row->fingerprint);
	backup_data = make_backup("{\"configurations\": [{\"key\": \"legacy\", \"environment\": "
				  "\"prod\", \"category\": null, \"value\": \"new\"}]}");
	before = store_snapshot(&f->a);

	other = import_query(f, &f->a, KEY_B, PASSWORD, backup_data, "true");
	g_assert_cmpuint(other->status, ==, 200);
	g_assert_cmpint(int_member(other, "imported"), ==, 0);
	g_assert_cmpint(int_member(other, "failed"), ==, 1);
	failed = json_array_get_object_element(
		json_object_get_array_member(obj(other), "failed_keys"), 0);
	g_assert_cmpstr(json_object_get_string_member(failed, "key"), ==, "legacy");
	after = store_snapshot(&f->a);
	g_assert_cmpstr(after, ==, before);

	owner = import_query(f, &f->a, KEY_A, PASSWORD, backup_data, "true");
	g_assert_cmpuint(owner->status, ==, 200);
	g_assert_cmpint(int_member(owner, "imported"), ==, 1);
	g_assert_cmpint(int_member(owner, "overwritten"), ==, 1);
	g_assert_cmpint(int_member(owner, "failed"), ==, 0);
	value = read_value(f, &f->a, KEY_A, "legacy", "prod");
	g_assert_cmpstr(value, ==, "\"new\"");
	{
		g_autoptr(OscTestResponse) by_b = read_entry(f, &f->a, KEY_B, "legacy", "prod");
		g_assert_cmpuint(by_b->status, ==, 401);
	}
}

/*
 * Rows written by the original (no fingerprint) in a list and a backup: each key sees only
 * what it opens, and the fingerprint is recorded for the rows it opened (the cursor's rows
 * are SQLite's own memory: recording it must work on a copy).
 */
static void
test_backup_legacy_rows_list(Fixture *f, gconstpointer data)
{
	OscStore *store = osc_service_get_store(f->a.service);
	OscKeyCache *cache = osc_service_get_key_cache(f->a.service);
	g_autoptr(GError) error = NULL;
	g_autoptr(OscDerivedKey) dk_a = NULL;
	g_autoptr(OscDerivedKey) dk_b = NULL;
	g_autoptr(OscTestResponse) list = NULL;
	g_autoptr(OscTestResponse) backup = NULL;
	g_autoptr(OscEntryRow) row_a = NULL;
	g_autoptr(OscEntryRow) row_b = NULL;
	g_autofree gchar *doc = NULL;
	JsonArray *items;

	if (skip_if_sanitized())
		return;
	dk_a = osc_key_cache_derive(cache, KEY_A, strlen(KEY_A), NULL, &error);
	g_assert_no_error(error);
	dk_b = osc_key_cache_derive(cache, KEY_B, strlen(KEY_B), NULL, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 2; i++) {
		OscDerivedKey *dk = i == 0 ? dk_a : dk_b;
		const gchar *key = i == 0 ? "legacy-a" : "legacy-b";
		g_autofree gchar *token = osc_fernet_encrypt(osc_derived_key_get_bytes(dk),
							     (const guint8 *)"{\"n\": 1}", 8,
							     1700000000, NULL, &error);
		g_autoptr(OscEntryRow) row = NULL;

		g_assert_no_error(error);
		row = osc_store_insert(store, key, "legacy", NULL, token, NULL, &error);
		g_assert_no_error(error);
	}

	list = request(f, &f->a, "GET", "/configs?environment=legacy", NULL, KEY_A, NULL);
	g_assert_cmpuint(list->status, ==, 200);
	items = json_node_get_array(list->json);
	g_assert_cmpuint(json_array_get_length(items), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(items, 0),
						      "key"),
			==, "legacy-a");
	g_assert_cmpstr(list->body, ==,
			"[{\"id\":1,\"key\":\"legacy-a\",\"category\":null,"
			"\"environment\":\"legacy\",\"value\":{\"n\":1}}]");
	row_a = osc_store_get(store, "legacy-a", "legacy", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(row_a->fingerprint, ==, osc_derived_key_get_fingerprint(dk_a));
	row_b = osc_store_get(store, "legacy-b", "legacy", &error);
	g_assert_no_error(error);
	g_assert_null(row_b->fingerprint);

	backup = request(f, &f->a, "POST", "/backup?environment=legacy", NULL, KEY_B, PASSWORD);
	g_assert_cmpuint(backup->status, ==, 200);
	g_assert_cmpint(int_member(backup, "total_keys"), ==, 1);
	doc = open_backup(json_object_get_string_member(obj(backup), "backup_data"));
	g_assert_nonnull(strstr(doc, "\"key\": \"legacy-b\""));
	g_assert_null(strstr(doc, "legacy-a"));
}

static void
test_backup_validation(Fixture *f, gconstpointer data)
{
	static const gchar *const good_bools[] = {"t",	  "f",	   "y",	  "n",	 "yes",	 "no",
						  "on",	  "off",   "1",	  "0",	 "true", "false",
						  "TRUE", "False", "YeS", "OFF", NULL};
	static const gchar *const bad_bools[] = {"maybe", "2", "", "truee", "-1", "nope", NULL};
	g_autofree gchar *before = store_snapshot(&f->a);
	g_autofree gchar *after = NULL;

	/* X-Backup-Password absent: 422 before anything else runs */
	{
		g_autoptr(OscTestResponse) imp =
			import_query(f, &f->a, KEY_A, NULL, VECTOR_BACKUP_DATA, NULL);
		g_autoptr(OscTestResponse) bak =
			request(f, &f->a, "POST", "/backup", NULL, KEY_A, NULL);
		JsonObject *item = find_item(imp, "header", "X-Backup-Password");

		g_assert_nonnull(item);
		g_assert_cmpstr(json_object_get_string_member(item, "type"), ==, "missing");
		g_assert_cmpstr(json_object_get_string_member(item, "msg"), ==, "Field required");
		g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(item, "input")));
		g_assert_cmpuint(n_items(imp), ==, 1);
		g_assert_nonnull(find_item(bak, "header", "X-Backup-Password"));
		g_assert_cmpuint(n_items(bak), ==, 1);
	}
	/* present but empty: ours refuses it (the original takes "") */
	{
		g_autoptr(OscTestResponse) imp =
			import_query(f, &f->a, KEY_A, "", VECTOR_BACKUP_DATA, NULL);
		g_autoptr(OscTestResponse) bak =
			request(f, &f->a, "POST", "/backup", NULL, KEY_A, "");

		g_assert_cmpuint(imp->status, ==, 400);
		g_assert_cmpstr(osc_test_json_detail(imp), ==,
				"X-Backup-Password must not be empty");
		g_assert_cmpuint(bak->status, ==, 400);
		g_assert_cmpstr(osc_test_json_detail(bak), ==,
				"X-Backup-Password must not be empty");
	}
	/* no backup_data anywhere */
	{
		static const gchar *const bodies[] = {NULL,
						      "{}",
						      "{\"overwrite\": true}",
						      "{\"backup_data\": 5}",
						      "{\"backup_data\": null}",
						      "[\"backup_data\"]",
						      "not json",
						      NULL};
		for (guint i = 0; i < G_N_ELEMENTS(bodies) - 1; i++) {
			g_autoptr(OscTestResponse) resp =
				request(f, &f->a, "POST", "/import", bodies[i], KEY_A, PASSWORD);
			JsonObject *item = find_item(resp, "query", "backup_data");

			g_test_message("body: %s", bodies[i] != NULL ? bodies[i] : "(none)");
			g_assert_nonnull(item);
			g_assert_cmpstr(json_object_get_string_member(item, "type"), ==, "missing");
			g_assert_cmpstr(json_object_get_string_member(item, "msg"), ==,
					"Field required");
			g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(item, "input")));
			g_assert_cmpuint(n_items(resp), ==, 1);
		}
	}
	/* everything at once: all items in one 422 */
	{
		g_autoptr(OscTestResponse) resp =
			request(f, &f->a, "POST", "/import?overwrite=maybe", NULL, KEY_A, NULL);
		g_assert_nonnull(find_item(resp, "header", "X-Backup-Password"));
		g_assert_nonnull(find_item(resp, "query", "backup_data"));
		g_assert_nonnull(find_item(resp, "query", "overwrite"));
		g_assert_cmpuint(n_items(resp), ==, 3);
	}
	/* overwrite spellings (checked without a password, so nothing runs) */
	for (guint i = 0; good_bools[i] != NULL; i++) {
		g_autoptr(OscTestResponse) resp =
			import_query(f, &f->a, KEY_A, NULL, "AAAA", good_bools[i]);
		g_test_message("overwrite=%s", good_bools[i]);
		g_assert_null(find_item(resp, "query", "overwrite"));
		g_assert_cmpuint(n_items(resp), ==, 1);
	}
	for (guint i = 0; bad_bools[i] != NULL; i++) {
		g_autoptr(OscTestResponse) resp =
			import_query(f, &f->a, KEY_A, PASSWORD, "AAAA", bad_bools[i]);
		JsonObject *item = find_item(resp, "query", "overwrite");

		g_test_message("overwrite=%s", bad_bools[i]);
		g_assert_nonnull(item);
		g_assert_cmpstr(json_object_get_string_member(item, "type"), ==, "bool_parsing");
		g_assert_cmpstr(json_object_get_string_member(item, "msg"), ==,
				"Input should be a valid boolean, unable to interpret input");
		g_assert_cmpstr(json_object_get_string_member(item, "input"), ==, bad_bools[i]);
		g_assert_cmpuint(n_items(resp), ==, 1);
	}
	/* the user key is still required */
	{
		g_autoptr(OscTestResponse) resp =
			import_query(f, &f->a, NULL, PASSWORD, VECTOR_BACKUP_DATA, NULL);
		g_assert_nonnull(find_item(resp, "header", "x-user-key"));
	}
	after = store_snapshot(&f->a);
	g_assert_cmpstr(after, ==, before);
}

static void
test_backup_events(Fixture *f, gconstpointer data)
{
	static const gchar *const doc =
		"{\"configurations\": ["
		"{\"key\": \"existing\", \"environment\": \"prod\", \"category\": null, \"value\": "
		"\"new\"},"
		"{\"key\": \"n1\", \"environment\": \"prod\", \"category\": \"c\", \"value\": "
		"{\"a\": 1}},"
		"{\"key\": \"bad\", \"value\": 1},"
		"{\"key\": \"n2\", \"environment\": \"dev\", \"value\": [1, 2]}]}";
	g_autofree gchar *backup_data = NULL;
	g_autoptr(OscTestResponse) resp = NULL;
	g_autofree gchar *v1 = NULL;
	g_autofree gchar *v2 = NULL;
	g_autofree gchar *v3 = NULL;
	SseClient *owner;
	SseClient *anon;

	if (skip_if_sanitized())
		return;
	backup_data = make_backup(doc);
	create_entry(f, &f->a, KEY_A, "existing", "prod", "c1", "\"old\"");
	g_assert_cmpfloat(metric_value(f, &f->a, "osc_config_entries_total"), ==, 1.0);
	owner = sse_subscribe(f, &f->a, KEY_A);
	anon = sse_subscribe(f, &f->a, NULL);

	resp = import_body(f, &f->a, KEY_A, PASSWORD, backup_data, "true", NULL);
	g_assert_cmpuint(resp->status, ==, 200);
	g_assert_cmpint(int_member(resp, "imported"), ==, 3);
	g_assert_cmpint(int_member(resp, "overwritten"), ==, 1);
	g_assert_cmpint(int_member(resp, "failed"), ==, 1);

	sse_wait(owner, 4);
	g_assert_cmpstr(sse_event(owner, 1)->name, ==, "updated");
	g_assert_cmpstr(json_object_get_string_member(sse_data(owner, 1), "key"), ==, "existing");
	g_assert_cmpstr(json_object_get_string_member(sse_data(owner, 1), "environment"), ==,
			"prod");
	v1 = sse_value(owner, 1);
	g_assert_cmpstr(v1, ==, "\"new\"");
	g_assert_cmpstr(sse_event(owner, 2)->name, ==, "created");
	g_assert_cmpstr(json_object_get_string_member(sse_data(owner, 2), "key"), ==, "n1");
	g_assert_cmpstr(json_object_get_string_member(sse_data(owner, 2), "category"), ==, "c");
	v2 = sse_value(owner, 2);
	g_assert_cmpstr(v2, ==, "{\"a\": 1}");
	g_assert_cmpstr(sse_event(owner, 3)->name, ==, "created");
	g_assert_cmpstr(json_object_get_string_member(sse_data(owner, 3), "key"), ==, "n2");
	g_assert_cmpstr(json_object_get_string_member(sse_data(owner, 3), "environment"), ==,
			"dev");
	v3 = sse_value(owner, 3);
	g_assert_cmpstr(v3, ==, "[1, 2]");

	/* without a user key: the same events, no value (D-4) */
	sse_wait(anon, 4);
	for (guint i = 1; i < 4; i++) {
		g_assert_cmpstr(sse_event(anon, i)->name, ==, sse_event(owner, i)->name);
		g_assert_true(
			JSON_NODE_HOLDS_NULL(json_object_get_member(sse_data(anon, i), "data")));
	}

	/* the entry gauge follows the import */
	g_assert_cmpfloat(metric_value(f, &f->a, "osc_config_entries_total"), ==, 3.0);
	g_assert_cmpint(osc_service_get_entry_count(f->a.service), ==, 3);

	/* one event per imported entry and no more: the next one is this sentinel's */
	create_entry(f, &f->a, KEY_A, "sentinel", "prod", NULL, "0");
	sse_wait(owner, 5);
	g_assert_cmpstr(sse_event(owner, 4)->name, ==, "created");
	g_assert_cmpstr(json_object_get_string_member(sse_data(owner, 4), "key"), ==, "sentinel");
	g_assert_cmpfloat(metric_value(f, &f->a, "osc_config_entries_total"), ==, 4.0);
	sse_close(owner);
	sse_close(anon);
}

static void
test_backup_body_limit(Fixture *f, gconstpointer data)
{
	/* max_body_size 1 KiB, max_import_size 8 KiB */
	g_autofree gchar *fill_6k = g_strnfill(5997, 'A'); /* 5997 data chars: fails at once */
	g_autofree gchar *fill_10k = g_strnfill(10000, 'A');
	g_autofree gchar *fill_2k = g_strnfill(2000, 'v');
	g_autofree gchar *body_6k = g_strdup_printf("{\"backup_data\":\"%s\"}", fill_6k);
	g_autofree gchar *body_10k = g_strdup_printf("{\"backup_data\":\"%s\"}", fill_10k);
	g_autofree gchar *config_2k =
		g_strdup_printf("{\"key\":\"k\",\"environment\":\"e\",\"value\":\"%s\"}", fill_2k);
	g_autofree gchar *before = store_snapshot(&f->a);
	g_autofree gchar *after = NULL;
	g_autoptr(OscTestResponse) within = NULL;
	g_autoptr(OscTestResponse) over = NULL;
	g_autoptr(OscTestResponse) configs = NULL;

	/* an import may be larger than other bodies */
	within = request(f, &f->a, "POST", "/import", body_6k, KEY_A, PASSWORD);
	g_assert_cmpuint(within->status, ==, 400);
	g_assert_cmpstr(osc_test_json_detail(within), ==,
			"Invalid base64-encoded string: number of data characters (5997) cannot be "
			"1 more than a multiple of 4");
	over = request(f, &f->a, "POST", "/import", body_10k, KEY_A, PASSWORD);
	g_assert_cmpuint(over->status, ==, 413);
	g_assert_nonnull(osc_test_json_detail(over));
	configs = request(f, &f->a, "POST", "/configs", config_2k, KEY_A, NULL);
	g_assert_cmpuint(configs->status, ==, 413);
	after = store_snapshot(&f->a);
	g_assert_cmpstr(after, ==, before);
}

typedef struct {
	GMainLoop *loop;
	GBytes *bytes;
	GError *error;
} ChunkedWait;

static void
chunked_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	ChunkedWait *w = user_data;

	w->bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &w->error);
	g_main_loop_quit(w->loop);
}

/* the status of a POST whose body goes without a Content-Length (chunked) */
static guint
post_chunked_status(Fixture *f, Node *n, const gchar *path, const gchar *body)
{
	g_autofree gchar *url = g_strconcat(n->base, path, NULL);
	g_autoptr(GInputStream) stream =
		g_memory_input_stream_new_from_data(g_strdup(body), (gssize)strlen(body), g_free);
	g_autoptr(SoupMessage) msg = soup_message_new("POST", url);
	SoupMessageHeaders *h = soup_message_get_request_headers(msg);
	ChunkedWait w = {0};
	guint status;

	soup_message_headers_append(h, "X-User-Key", KEY_A);
	soup_message_headers_append(h, "X-Backup-Password", PASSWORD);
	soup_message_set_request_body(msg, "application/json", stream, -1);
	g_assert_cmpint(soup_message_headers_get_encoding(h), ==, SOUP_ENCODING_CHUNKED);
	w.loop = g_main_loop_new(NULL, FALSE);
	soup_session_send_and_read_async(f->session, msg, G_PRIORITY_DEFAULT, NULL, chunked_cb, &w);
	g_main_loop_run(w.loop);
	g_main_loop_unref(w.loop);
	/* the server may answer early and close: only the status matters here */
	g_clear_error(&w.error);
	g_clear_pointer(&w.bytes, g_bytes_unref);
	status = soup_message_get_status(msg);
	return status;
}

static void
test_backup_body_limit_chunked(Fixture *f, gconstpointer data)
{
	g_autofree gchar *fill_10k = g_strnfill(10000, 'A');
	g_autofree gchar *body_10k = g_strdup_printf("{\"backup_data\":\"%s\"}", fill_10k);
	g_autofree gchar *fill_2k = g_strnfill(2000, 'A');
	g_autofree gchar *body_2k = g_strdup_printf("{\"backup_data\":\"%s\"}", fill_2k);

	guint import_status, backup_status;

	/* the limit holds whether or not the client announces the length (D-7, D-8) */
	import_status = post_chunked_status(f, &f->a, "/import", body_10k);
	backup_status = post_chunked_status(f, &f->a, "/backup", body_2k);
	g_test_message("chunked: /import %u, /backup %u", import_status, backup_status);
	/* 413, or 411 Length Required for a server that refuses chunked bodies outright */
	if (import_status != 411)
		g_assert_cmpuint(import_status, ==, 413);
	if (backup_status != 411)
		g_assert_cmpuint(backup_status, ==, 413);
}

/* ---- large ---- */

#define LARGE_N 5000

static gchar *
large_value(guint i)
{
	return g_strdup_printf("{\"i\": %u, \"name\": \"entry-%u \\u00e9\", \"tags\": [\"x\", %u, "
			       "null], \"on\": %s}",
			       i, i, i % 7, i % 2 ? "true" : "false");
}

static const gchar *
large_env(guint i)
{
	static const gchar *const envs[] = {"prod", "staging", "dev"};
	return envs[i % 3];
}

static void
test_backup_large(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OscDerivedKey) dk = NULL;
	g_autoptr(OscTestResponse) backup = NULL;
	g_autoptr(OscTestResponse) import = NULL;
	g_autoptr(OscTestResponse) list = NULL;
	gint64 start;

	if (skip_if_sanitized())
		return;
	dk = osc_key_cache_derive(osc_service_get_key_cache(f->a.service), KEY_A, strlen(KEY_A),
				  NULL, &error);
	g_assert_no_error(error);
	/* written as the service writes them (value → Python JSON → Fernet under KEY_A, its
	 * fingerprint), but in one transaction: 5,000 separate commits only measure fsync */
	start = g_get_monotonic_time();
	{
		g_autoptr(GArray) ops =
			g_array_sized_new(FALSE, TRUE, sizeof(OscStoreImportOp), LARGE_N);
		g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);

		for (guint i = 0; i < LARGE_N; i++) {
			g_autofree gchar *text = large_value(i);
			g_autoptr(JsonNode) value = parse_json(text);
			gsize len = 0;
			g_autofree gchar *plain = osc_value_to_python_json(value, &len);
			gchar *key = g_strdup_printf("key-%05u", i);
			gchar *cat = i % 5 == 0 ? NULL : g_strdup_printf("cat-%u", i % 4);
			gchar *token = osc_fernet_encrypt(
				osc_derived_key_get_bytes(dk), (const guint8 *)plain, len,
				g_get_real_time() / G_USEC_PER_SEC, NULL, &error);
			OscStoreImportOp op = {0};

			g_assert_no_error(error);
			g_ptr_array_add(strings, key);
			g_ptr_array_add(strings, token);
			if (cat != NULL)
				g_ptr_array_add(strings, cat);
			op.key = key;
			op.environment = large_env(i);
			op.category = cat;
			op.token = token;
			op.fingerprint = osc_derived_key_get_fingerprint(dk);
			g_array_append_val(ops, op);
		}
		g_assert_true(osc_store_import(osc_service_get_store(f->a.service),
					       (OscStoreImportOp *)(gpointer)ops->data, ops->len,
					       NULL, NULL, &error));
		g_assert_no_error(error);
		for (guint i = 0; i < ops->len; i++) {
			OscStoreImportOp *op = &g_array_index(ops, OscStoreImportOp, i);
			g_assert_cmpint(op->result, ==, OSC_STORE_IMPORT_CREATED);
			g_clear_pointer(&op->row, osc_entry_row_free);
		}
	}
	g_test_message("%u entries created in %.2f s", LARGE_N,
		       (g_get_monotonic_time() - start) / 1e6);

	start = g_get_monotonic_time();
	backup = do_backup(f, &f->a, KEY_A, "");
	g_assert_cmpuint(backup->status, ==, 200);
	g_assert_cmpint(int_member(backup, "total_keys"), ==, LARGE_N);
	g_test_message("backup: %.2f s, %zu bytes of backup_data",
		       (g_get_monotonic_time() - start) / 1e6,
		       strlen(json_object_get_string_member(obj(backup), "backup_data")));

	start = g_get_monotonic_time();
	import = import_body(f, &f->b, KEY_B, PASSWORD,
			     json_object_get_string_member(obj(backup), "backup_data"), "false",
			     NULL);
	g_assert_cmpuint(import->status, ==, 200);
	g_test_message("import: %.2f s", (g_get_monotonic_time() - start) / 1e6);
	g_assert_cmpint(int_member(import, "total_in_backup"), ==, LARGE_N);
	g_assert_cmpint(int_member(import, "imported"), ==, LARGE_N);
	g_assert_cmpint(int_member(import, "failed"), ==, 0);
	g_assert_cmpint(osc_service_get_entry_count(f->b.service), ==, LARGE_N);

	list = request(f, &f->b, "GET", "/configs", NULL, KEY_B, NULL);
	g_assert_cmpuint(list->status, ==, 200);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(list->json)), ==, LARGE_N);

	for (guint i = 0; i < LARGE_N; i += LARGE_N / 50) {
		guint j = i + i % 97; /* not only multiples of 100 */
		g_autofree gchar *key = g_strdup_printf("key-%05u", j);
		g_autofree gchar *expected = large_value(j);
		g_autoptr(JsonNode) expected_node = parse_json(expected);
		g_autofree gchar *expected_py = python_json(expected_node);
		g_autoptr(OscTestResponse) resp = read_entry(f, &f->b, KEY_B, key, large_env(j));
		g_autofree gchar *got = NULL;
		JsonNode *cat;

		g_assert_cmpuint(resp->status, ==, 200);
		got = python_json(json_object_get_member(obj(resp), "value"));
		g_assert_cmpstr(got, ==, expected_py);
		cat = json_object_get_member(obj(resp), "category");
		if (j % 5 == 0) {
			g_assert_true(JSON_NODE_HOLDS_NULL(cat));
		} else {
			g_autofree gchar *c = g_strdup_printf("cat-%u", j % 4);
			g_assert_cmpstr(json_node_get_string(cat), ==, c);
		}
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/osc/backup/vector/decrypt", test_backup_vector_decrypt);
	g_test_add_func("/osc/backup/vector/encrypt", test_backup_vector_encrypt);
	g_test_add_func("/osc/backup/base64", test_backup_base64);
	g_test_add_func("/osc/backup/too-short", test_backup_too_short);
	g_test_add_func("/osc/backup/wrong-password", test_backup_wrong_password);
	g_test_add_func("/osc/backup/document", test_backup_document);
#define ADD(path, fn, flags)                                                                       \
	g_test_add(path, Fixture, GUINT_TO_POINTER(flags), fixture_setup, fn, fixture_teardown)
	ADD("/osc/backup/http/round-trip", test_backup_round_trip, FIX_TWO);
	ADD("/osc/backup/http/vector-import", test_backup_vector_import, 0);
	ADD("/osc/backup/http/filters", test_backup_filters, 0);
	ADD("/osc/backup/http/rejected", test_backup_rejected, 0);
	ADD("/osc/backup/http/bad-document", test_backup_bad_document, 0);
	ADD("/osc/backup/http/invalid-items", test_backup_invalid_items, 0);
	ADD("/osc/backup/http/overwrite", test_backup_overwrite, 0);
	ADD("/osc/backup/http/overwrite-other-key", test_backup_overwrite_other_key, 0);
	ADD("/osc/backup/http/request-forms", test_backup_request_forms, 0);
	ADD("/osc/backup/http/password-latin1", test_backup_password_latin1, 0);
	ADD("/osc/backup/http/overwrite-legacy-row", test_backup_overwrite_legacy_row, 0);
	ADD("/osc/backup/http/legacy-rows-list", test_backup_legacy_rows_list, 0);
	ADD("/osc/backup/http/validation", test_backup_validation, 0);
	ADD("/osc/backup/http/events", test_backup_events, 0);
	ADD("/osc/backup/http/body-limit", test_backup_body_limit, FIX_SMALL_LIMITS);
	ADD("/osc/backup/http/body-limit-chunked", test_backup_body_limit_chunked,
	    FIX_SMALL_LIMITS);
	ADD("/osc/backup/large", test_backup_large, FIX_TWO);
#undef ADD
	return g_test_run();
}
