/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "osc-test-utils.h"

/*
 * oscctl end to end: every command against a spawned oscd, with the exit codes, the --json
 * output parsed, values and secrets from standard input, and the keyring through libsecret's
 * file backend (SECRET_BACKEND=file), so no keyring daemon is needed or touched.
 */

#define KEY	"cli-user-key-alpha-1"
#define KEY2	"cli-user-key-bravo-2"
#define API_KEY "cli-api-key-0123456789"

typedef struct {
	gchar *tmpdir;
	GSubprocess *oscd;
	gchar *url;
	gchar *oscctl;
	gchar *keyring;
} Fixture;

typedef struct {
	gint status;
	gchar *out;
	gchar *err;
	JsonNode *json;
} Result;

static void
result_free(Result *r)
{
	g_free(r->out);
	g_free(r->err);
	g_clear_pointer(&r->json, json_node_unref);
	g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Result, result_free)

static void
die_with_parent(gpointer data)
{
	/* a failed assertion must not leave oscd running (and holding the test's pipes) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	gboolean api_key = GPOINTER_TO_INT(data);
	const gchar *oscd = g_getenv("OSCD_PATH");
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *db = NULL;
	g_autofree gchar *salt = NULL;

	g_assert_nonnull(oscd);
	f->tmpdir = osc_test_make_tmpdir();
	f->oscctl = g_test_build_filename(G_TEST_BUILT, "..", "src", "oscctl", "oscctl", NULL);
	f->keyring = g_build_filename(f->tmpdir, "keyring", NULL);
	db = g_build_filename(f->tmpdir, "configurations.db", NULL);
	salt = g_build_filename(f->tmpdir, "encryption.salt", NULL);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST", "127.0.0.1", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_HOST_PORT", "0", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_DATABASE_PATH", db, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_SALT_FILE_PATH", salt, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_PBKDF2_ITERATIONS", "1000", TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_LOG_LEVEL", "warning", TRUE);
	if (api_key) {
		g_subprocess_launcher_setenv(launcher, "OSC_API_KEY_REQUIRED", "true", TRUE);
		g_subprocess_launcher_setenv(launcher, "OSC_API_KEY", API_KEY, TRUE);
	}
	g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
	f->oscd = g_subprocess_launcher_spawn(launcher, &error, oscd, NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->oscd));
	while (f->url == NULL) {
		g_autofree gchar *line =
			g_data_input_stream_read_line_utf8(out, NULL, NULL, &error);
		const gchar *at;

		g_assert_no_error(error);
		g_assert_nonnull(line);
		at = strstr(line, "listening on ");
		if (at != NULL) {
			f->url = g_strstrip(g_strdup(at + strlen("listening on ")));
			if (g_str_has_suffix(f->url, "/"))
				f->url[strlen(f->url) - 1] = '\0';
		}
	}
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_subprocess_send_signal(f->oscd, SIGTERM);
	g_subprocess_wait(f->oscd, NULL, NULL);
	g_clear_object(&f->oscd);
	g_free(f->url);
	g_free(f->oscctl);
	g_free(f->keyring);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

/*
 * The environment of every run: the test's server and user key, the file keyring; @env
 * adds NAME=VALUE overrides, and NAME alone unsets.
 */
static GSubprocessLauncher *
launcher_new(Fixture *f, const gchar *const *env, GSubprocessFlags flags)
{
	GSubprocessLauncher *launcher = g_subprocess_launcher_new(flags);

	g_subprocess_launcher_setenv(launcher, "OSC_URL", f->url, TRUE);
	g_subprocess_launcher_setenv(launcher, "OSC_USER_KEY", KEY, TRUE);
	g_subprocess_launcher_unsetenv(launcher, "OSC_API_KEY");
	g_subprocess_launcher_setenv(launcher, "SECRET_BACKEND", "file", TRUE);
	g_subprocess_launcher_setenv(launcher, "SECRET_FILE_TEST_PATH", f->keyring, TRUE);
	g_subprocess_launcher_setenv(launcher, "SECRET_FILE_TEST_PASSWORD", "keyring-pw", TRUE);
	g_subprocess_launcher_setenv(launcher, "LC_ALL", "C.UTF-8", TRUE);
	for (guint i = 0; env != NULL && env[i] != NULL; i++) {
		const gchar *eq = strchr(env[i], '=');
		if (eq == NULL) {
			g_subprocess_launcher_unsetenv(launcher, env[i]);
		} else {
			g_autofree gchar *name = g_strndup(env[i], (gsize)(eq - env[i]));
			g_subprocess_launcher_setenv(launcher, name, eq + 1, TRUE);
		}
	}
	return launcher;
}

static Result *
run_argv(Fixture *f, const gchar *input, const gchar *const *env, GPtrArray *args)
{
	g_autoptr(GSubprocessLauncher) launcher =
		launcher_new(f, env,
			     G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	Result *r = g_new0(Result, 1);

	g_ptr_array_insert(args, 0, f->oscctl);
	g_ptr_array_add(args, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)args->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, input != NULL ? input : "", NULL, &r->out, &r->err,
				      &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	r->status = g_subprocess_get_exit_status(proc);
	if (r->out != NULL && r->out[0] != '\0') {
		g_autoptr(JsonParser) parser = json_parser_new();
		if (json_parser_load_from_data(parser, r->out, -1, NULL))
			r->json = json_node_ref(json_parser_get_root(parser));
	}
	if (g_test_verbose())
		g_printerr("oscctl %s → %d\n%s%s", (gchar *)args->pdata[1], r->status, r->out,
			   r->err);
	return r;
}

static Result *run(Fixture *f, const gchar *input, const gchar *const *env,
		   ...) G_GNUC_NULL_TERMINATED;

static Result *
run(Fixture *f, const gchar *input, const gchar *const *env, ...)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	va_list ap;

	va_start(ap, env);
	for (const gchar *a = va_arg(ap, const gchar *); a != NULL; a = va_arg(ap, const gchar *))
		g_ptr_array_add(args, (gpointer)a);
	va_end(ap);
	return run_argv(f, input, env, args);
}

/* runs and checks the exit status, showing the output when it differs */
#define RUN_EXPECT(r, status_, ...)                                                                \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_clear_pointer(&(r), result_free);                                                \
		(r) = run(__VA_ARGS__, NULL);                                                      \
		if ((r)->status != (status_))                                                      \
			g_error("exit %d, expected %d\nstdout: %s\nstderr: %s", (r)->status,       \
				(status_), (r)->out, (r)->err);                                    \
	}                                                                                          \
	G_STMT_END

static JsonObject *
json_obj(Result *r)
{
	g_assert_nonnull(r->json);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(r->json));
	return json_node_get_object(r->json);
}

static void
assert_json_value(JsonObject *entry, const gchar *expected)
{
	g_autoptr(JsonNode) want = json_from_string(expected, NULL);
	g_assert_true(json_node_equal(json_object_get_member(entry, "value"), want));
}

static void
test_crud(Fixture *f, gconstpointer data)
{
	g_autoptr(Result) r = NULL;
	g_autofree gchar *etag = NULL;
	JsonArray *array;

	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "database", "{\"host\":\"db\",\"port\":5432}", "-e",
		   "production", "-c", "db");
	g_assert_true(g_str_has_prefix(r->out, "Created database in production (etag \""));
	/* a bare word that is not JSON is a string; numbers and booleans are JSON */
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "greeting", "hello world", "-e", "production");
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "replicas", "3", "-e", "production", "--json");
	assert_json_value(json_obj(r), "3");
	/* values from standard input, "-" or no VALUE, without the final newline */
	RUN_EXPECT(r, 0, f, "[1, 2, \"three\"]\n", NULL, "set", "list", "-", "-e", "staging");
	RUN_EXPECT(r, 0, f, "multi\nline\n", NULL, "set", "text", "-e", "staging", "-c", "misc");

	RUN_EXPECT(r, 0, f, NULL, NULL, "get", "greeting", "-e", "production");
	g_assert_cmpstr(r->out, ==, "hello world\n");
	RUN_EXPECT(r, 0, f, NULL, NULL, "get", "text", "-e", "staging");
	g_assert_cmpstr(r->out, ==, "multi\nline\n");
	RUN_EXPECT(r, 0, f, NULL, NULL, "get", "list", "-e", "staging", "--json");
	assert_json_value(json_obj(r), "[1,2,\"three\"]");
	g_assert_cmpstr(json_object_get_string_member(json_obj(r), "key"), ==, "list");
	g_assert_true(json_object_has_member(json_obj(r), "created_at"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "get", "database", "--full", "-e", "production");
	g_assert_nonnull(strstr(r->out, "category:    db\n"));
	g_assert_nonnull(strstr(r->out, "etag:        \"1\"\n"));
	g_assert_nonnull(strstr(r->out, "\"port\" : 5432"));

	/* update; a stale ETag is refused; --create-only refuses to update */
	RUN_EXPECT(r, 0, f, NULL, NULL, "get", "database", "-e", "production", "--json");
	etag = g_strdup(json_object_get_string_member(json_obj(r), "etag"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "database", "{\"host\":\"db2\"}", "-e", "production",
		   "--if-match", etag);
	g_assert_true(g_str_has_prefix(r->out, "Updated database in production"));
	RUN_EXPECT(r, 1, f, NULL, NULL, "set", "database", "{}", "-e", "production", "--if-match",
		   etag);
	g_assert_nonnull(strstr(r->err, "Precondition failed"));
	RUN_EXPECT(r, 1, f, NULL, NULL, "set", "database", "{}", "-e", "production",
		   "--create-only");
	g_assert_nonnull(strstr(r->err, "already exists"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "get", "database", "-e", "production", "--json");
	assert_json_value(json_obj(r), "{\"host\":\"db2\"}");
	/* the category stays when an update does not name one */
	g_assert_cmpstr(json_object_get_string_member(json_obj(r), "category"), ==, "db");

	RUN_EXPECT(r, 0, f, NULL, NULL, "ls");
	g_assert_true(g_str_has_prefix(r->out, "KEY"));
	g_assert_nonnull(strstr(r->out, "greeting"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "ls", "--json", "-e", "staging");
	g_assert_true(JSON_NODE_HOLDS_ARRAY(r->json));
	array = json_node_get_array(r->json);
	g_assert_cmpuint(json_array_get_length(array), ==, 2);
	RUN_EXPECT(r, 0, f, NULL, NULL, "ls", "--full", "-c", "db");
	g_assert_nonnull(strstr(r->out, "UPDATED"));
	g_assert_nonnull(strstr(r->out, "database"));
	g_assert_null(strstr(r->out, "greeting"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "envs");
	g_assert_cmpstr(r->out, ==, "production\nstaging\n");
	RUN_EXPECT(r, 0, f, NULL, NULL, "categories", "--json");
	g_assert_true(JSON_NODE_HOLDS_ARRAY(r->json));
	g_assert_cmpuint(json_array_get_length(json_node_get_array(r->json)), ==, 2);
	RUN_EXPECT(r, 0, f, NULL, NULL, "stats", "--json");
	g_assert_cmpint(json_object_get_int_member(json_obj(r), "total_keys"), ==, 5);
	RUN_EXPECT(r, 0, f, NULL, NULL, "stats");
	g_assert_nonnull(strstr(r->out, "entries:      5"));

	RUN_EXPECT(r, 0, f, NULL, NULL, "rm", "greeting", "-e", "production");
	g_assert_cmpstr(r->out, ==, "Deleted greeting from production\n");
	RUN_EXPECT(r, 3, f, NULL, NULL, "rm", "greeting", "-e", "production");
	RUN_EXPECT(r, 3, f, NULL, NULL, "get", "greeting", "-e", "production");
	g_assert_nonnull(strstr(r->err, "not found"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "rm", "text", "-e", "staging", "--json");
	g_assert_true(json_object_get_boolean_member(json_obj(r), "deleted"));
}

static void
test_exit_codes(Fixture *f, gconstpointer data)
{
	g_autoptr(Result) r = NULL;
	const gchar *no_server[] = {"OSC_URL", NULL};
	const gchar *short_key[] = {"OSC_USER_KEY=short", NULL};
	const gchar *other_key[] = {"OSC_USER_KEY=" KEY2, NULL};
	const gchar *no_key[] = {"OSC_USER_KEY", NULL};
	const gchar *dead[] = {"OSC_URL=http://127.0.0.1:9", NULL};

	/* usage */
	RUN_EXPECT(r, 2, f, NULL, NULL);
	RUN_EXPECT(r, 2, f, NULL, NULL, "frobnicate");
	RUN_EXPECT(r, 2, f, NULL, NULL, "get", "k");
	g_assert_nonnull(strstr(r->err, "--environment is required"));
	RUN_EXPECT(r, 2, f, NULL, NULL, "get", "k", "-e", "prod", "--no-such-option");
	RUN_EXPECT(r, 2, f, NULL, NULL, "get", "a", "b", "-e", "prod");
	RUN_EXPECT(r, 2, f, NULL, NULL, "cluster", "frob");
	RUN_EXPECT(r, 2, f, NULL, NULL, "set", "k", "1", "-e", "p", "--create-only", "--if-match",
		   "1");
	RUN_EXPECT(r, 2, f, NULL, no_server, "--no-keyring", "ls");
	g_assert_nonnull(strstr(r->err, "No server"));
	/* no user key, and stdin is no terminal to ask on */
	RUN_EXPECT(r, 2, f, NULL, no_key, "ls");
	g_assert_nonnull(strstr(r->err, "No user key"));
	/* the user key and the value cannot both come from stdin */
	RUN_EXPECT(r, 2, f, KEY "\n", no_key, "--user-key-stdin", "set", "k", "-", "-e", "p");

	/* authentication: a short key, and a key that does not open the entry */
	RUN_EXPECT(r, 4, f, NULL, short_key, "ls");
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "mine", "1", "-e", "prod");
	RUN_EXPECT(r, 4, f, NULL, other_key, "get", "mine", "-e", "prod");
	g_assert_nonnull(strstr(r->err, "does not match"));

	/* not found */
	RUN_EXPECT(r, 3, f, NULL, NULL, "get", "absent", "-e", "prod", "--json");
	g_assert_cmpstr(r->out, ==, "");

	/* errors: nobody listens there */
	RUN_EXPECT(r, 1, f, NULL, dead, "--timeout", "5", "health");
	g_assert_nonnull(strstr(r->err, "Failed to connect"));

	/* help and version */
	RUN_EXPECT(r, 0, f, NULL, NULL, "--help");
	g_assert_nonnull(strstr(r->out, "rekey"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "help");
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "--help");
	g_assert_nonnull(strstr(r->out, "--if-match"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "--version");
	g_assert_true(g_str_has_prefix(r->out, "oscctl "));
}

/* the user key from stdin or a file; options before and after the command */
static void
test_key_sources(Fixture *f, gconstpointer data)
{
	g_autoptr(Result) r = NULL;
	const gchar *no_key[] = {"OSC_USER_KEY", "OSC_URL", NULL};
	g_autofree gchar *key_file = g_build_filename(f->tmpdir, "user.key", NULL);

	g_assert_true(g_file_set_contents(key_file, KEY "\n", -1, NULL));
	RUN_EXPECT(r, 0, f, KEY "\n", no_key, "--url", f->url, "--user-key-stdin", "set", "k", "v",
		   "-e", "p");
	RUN_EXPECT(r, 0, f, NULL, no_key, "get", "k", "-e", "p", "--url", f->url, "--user-key-file",
		   key_file);
	g_assert_cmpstr(r->out, ==, "v\n");
	RUN_EXPECT(r, 0, f, NULL, no_key, "-u", f->url, "--user-key-file", key_file, "ls", "-j");
	g_assert_true(JSON_NODE_HOLDS_ARRAY(r->json));
}

static void
test_backup_restore(Fixture *f, gconstpointer data)
{
	g_autoptr(Result) r = NULL;
	g_autofree gchar *file = g_build_filename(f->tmpdir, "prod.backup", NULL);
	g_autofree gchar *pw = g_build_filename(f->tmpdir, "backup.pw", NULL);
	GStatBuf st;

	g_assert_true(g_file_set_contents(pw, "backup-password\n", -1, NULL));
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "a", "1", "-e", "prod");
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "b", "{\"x\":true}", "-e", "prod");
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "c", "3", "-e", "dev");

	/* no password source and no terminal: usage */
	RUN_EXPECT(r, 2, f, NULL, NULL, "backup", "--output", file);
	RUN_EXPECT(r, 2, f, NULL, NULL, "backup");
	RUN_EXPECT(r, 0, f, NULL, NULL, "backup", "--output", file, "--password-file", pw, "-e",
		   "prod");
	g_assert_true(g_str_has_prefix(r->out, "Saved 2 entries to "));
	g_assert_cmpint(g_stat(file, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	RUN_EXPECT(r, 0, f, "backup-password\n", NULL, "backup", "--output", file,
		   "--password-stdin", "--json");
	g_assert_cmpint(json_object_get_int_member(json_obj(r), "total_keys"), ==, 3);
	g_assert_false(json_object_has_member(json_obj(r), "backup_data"));

	RUN_EXPECT(r, 0, f, NULL, NULL, "rm", "a", "-e", "prod");
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "b", "\"changed\"", "-e", "prod");
	RUN_EXPECT(r, 1, f, "wrong-password\n", NULL, "restore", file, "--password-stdin");
	g_assert_nonnull(strstr(r->err, "Decryption failed"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "restore", file, "--password-file", pw);
	g_assert_cmpstr(r->out, ==, "Imported 1, skipped 2, failed 0 of 3\n");
	RUN_EXPECT(r, 0, f, NULL, NULL, "get", "b", "-e", "prod");
	g_assert_cmpstr(r->out, ==, "changed\n");
	RUN_EXPECT(r, 0, f, NULL, NULL, "restore", file, "--password-file", pw, "--overwrite",
		   "--json");
	g_assert_cmpint(json_object_get_int_member(json_obj(r), "imported"), ==, 3);
	RUN_EXPECT(r, 0, f, NULL, NULL, "get", "b", "-e", "prod", "--json");
	assert_json_value(json_obj(r), "{\"x\":true}");
	RUN_EXPECT(r, 1, f, NULL, NULL, "restore", pw, "--password-file", pw);
}

static void
test_rekey(Fixture *f, gconstpointer data)
{
	g_autoptr(Result) r = NULL;
	const gchar *new_key[] = {"OSC_USER_KEY=" KEY2, NULL};

	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "a", "1", "-e", "prod");
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "b", "2", "-e", "dev");
	RUN_EXPECT(r, 0, f, KEY2 "\n", NULL, "rekey", "--new-key-stdin");
	g_assert_cmpstr(r->out, ==, "Re-encrypted 2 entries with the new user key\n");
	RUN_EXPECT(r, 4, f, NULL, NULL, "get", "a", "-e", "prod");
	RUN_EXPECT(r, 0, f, NULL, new_key, "get", "a", "-e", "prod");
	g_assert_cmpstr(r->out, ==, "1\n");
	/* stdin that is not a terminal gives the new key too */
	RUN_EXPECT(r, 0, f, KEY "\n", new_key, "rekey", "--json");
	g_assert_cmpint(json_object_get_int_member(json_obj(r), "rekeyed"), ==, 2);
	RUN_EXPECT(r, 0, f, NULL, NULL, "get", "b", "-e", "dev");
}

static void
test_keyring(Fixture *f, gconstpointer data)
{
	g_autoptr(Result) r = NULL;
	const gchar *bare[] = {"OSC_URL", "OSC_USER_KEY", NULL};
	const gchar *short_key[] = {"OSC_USER_KEY=short", NULL};
	g_autofree gchar *url_slash = g_strconcat(f->url, "/", NULL);
	g_autofree gchar *new_key_file = g_build_filename(f->tmpdir, "new.key", NULL);

	/* a key the server refuses is not stored */
	RUN_EXPECT(r, 4, f, NULL, short_key, "login", "--url", f->url);
	g_assert_false(g_file_test(f->keyring, G_FILE_TEST_EXISTS));

	RUN_EXPECT(r, 0, f, KEY "\n", bare, "login", "--url", url_slash, "--user-key-stdin");
	{
		g_autofree gchar *want =
			g_strdup_printf("Stored the credentials for %s in the keyring\n", f->url);
		g_assert_cmpstr(r->out, ==, want);
	}
	g_assert_true(g_file_test(f->keyring, G_FILE_TEST_EXISTS));
	/* the keyring file holds no key in clear */
	{
		g_autofree gchar *contents = NULL;
		gsize len = 0;
		g_assert_true(g_file_get_contents(f->keyring, &contents, &len, NULL));
		g_assert_null(g_strstr_len(contents, (gssize)len, KEY));
	}

	/* server and key from the keyring alone */
	RUN_EXPECT(r, 0, f, NULL, bare, "set", "k", "from-keyring", "-e", "prod");
	RUN_EXPECT(r, 0, f, NULL, bare, "get", "k", "-e", "prod");
	g_assert_cmpstr(r->out, ==, "from-keyring\n");
	/* the environment wins over the keyring */
	RUN_EXPECT(r, 4, f, NULL, short_key, "get", "k", "-e", "prod");
	/* --no-keyring ignores it */
	RUN_EXPECT(r, 2, f, NULL, bare, "--no-keyring", "get", "k", "-e", "prod");

	/* rekey with the stored key updates the keyring */
	g_assert_true(g_file_set_contents(new_key_file, KEY2, -1, NULL));
	RUN_EXPECT(r, 0, f, NULL, bare, "rekey", "--new-key-file", new_key_file);
	g_assert_nonnull(strstr(r->out, "(keyring updated)"));
	RUN_EXPECT(r, 0, f, NULL, bare, "get", "k", "-e", "prod");
	RUN_EXPECT(r, 4, f, NULL, NULL, "get", "k", "-e", "prod"); /* OSC_USER_KEY: the old one */

	RUN_EXPECT(r, 0, f, NULL, bare, "logout", "--json");
	g_assert_true(json_object_get_boolean_member(json_obj(r), "removed"));
	RUN_EXPECT(r, 2, f, NULL, bare, "ls");
	RUN_EXPECT(r, 0, f, NULL, NULL, "logout");
	g_assert_true(g_str_has_prefix(r->out, "No stored credentials"));

	/* --no-verify stores without asking the server */
	RUN_EXPECT(r, 0, f, NULL, NULL, "login", "--no-verify", "--json");
	g_assert_false(json_object_get_boolean_member(json_obj(r), "verified"));
	RUN_EXPECT(r, 0, f, NULL, NULL, "logout", "--all");
}

static void
test_api_key(Fixture *f, gconstpointer data)
{
	g_autoptr(Result) r = NULL;
	const gchar *with_key[] = {"OSC_API_KEY=" API_KEY, NULL};
	const gchar *bare[] = {"OSC_URL", "OSC_USER_KEY", NULL};
	g_autofree gchar *file = g_build_filename(f->tmpdir, "api.key", NULL);

	g_assert_true(g_file_set_contents(file, API_KEY "\n", -1, NULL));
	RUN_EXPECT(r, 4, f, NULL, NULL, "ls");
	g_assert_nonnull(strstr(r->err, "Forbidden"));
	RUN_EXPECT(r, 4, f, NULL, NULL, "cluster", "status");
	RUN_EXPECT(r, 0, f, NULL, with_key, "set", "k", "1", "-e", "p");
	RUN_EXPECT(r, 0, f, NULL, NULL, "--api-key-file", file, "get", "k", "-e", "p");
	RUN_EXPECT(r, 0, f, NULL, NULL, "cluster", "status", "--api-key-file", file, "--json");
	g_assert_false(json_object_get_boolean_member(json_obj(r), "enabled"));

	/* login stores the API key too */
	RUN_EXPECT(r, 0, f, NULL, with_key, "login");
	RUN_EXPECT(r, 0, f, NULL, bare, "get", "k", "-e", "p");
	g_assert_cmpstr(r->out, ==, "1\n");
	RUN_EXPECT(r, 0, f, NULL, bare, "logout");
}

static void
test_cluster_health(Fixture *f, gconstpointer data)
{
	g_autoptr(Result) r = NULL;
	const gchar *no_key[] = {"OSC_USER_KEY", NULL};

	RUN_EXPECT(r, 0, f, NULL, no_key, "cluster", "status");
	g_assert_cmpstr(r->out, ==, "clustering:    off\n");
	RUN_EXPECT(r, 0, f, NULL, no_key, "cluster", "status", "--json");
	g_assert_false(json_object_get_boolean_member(json_obj(r), "enabled"));
	RUN_EXPECT(r, 0, f, NULL, no_key, "health");
	g_assert_nonnull(strstr(r->out, ": healthy (node "));
	RUN_EXPECT(r, 0, f, NULL, no_key, "health", "--json");
	g_assert_cmpstr(json_object_get_string_member(json_obj(r), "status"), ==, "healthy");
}

static gchar *
read_line(GDataInputStream *in)
{
	g_autoptr(GError) error = NULL;
	gchar *line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(line);
	return line;
}

static void
test_watch(Fixture *f, gconstpointer data)
{
	g_autoptr(Result) r = NULL;
	g_autoptr(GSubprocessLauncher) launcher = launcher_new(
		f, NULL, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GSubprocess) watch = NULL;
	g_autoptr(GSubprocess) human = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GDataInputStream) err = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *connected = NULL;
	g_autofree gchar *created = NULL;
	g_autofree gchar *deleted = NULL;
	g_autofree gchar *hello = NULL;
	g_autofree gchar *line = NULL;
	g_autoptr(JsonNode) ev = NULL;

	/* --json: one object per line; stops by itself after -n change events */
	watch = g_subprocess_launcher_spawn(launcher, &error, f->oscctl, "watch", "--json", "-n",
					    "2", "-e", "prod", NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(watch));
	connected = read_line(out);
	ev = json_from_string(connected, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(ev), "type"), ==,
			"connected");
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "other-env", "0", "-e", "dev");
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "watched", "{\"v\":1}", "-e", "prod");
	RUN_EXPECT(r, 0, f, NULL, NULL, "rm", "watched", "-e", "prod");
	created = read_line(out);
	deleted = read_line(out);
	g_clear_pointer(&ev, json_node_unref);
	ev = json_from_string(created, &error);
	g_assert_no_error(error);
	{
		JsonObject *o = json_node_get_object(ev);
		JsonObject *payload = json_object_get_object_member(o, "payload");
		g_autoptr(JsonNode) want = json_from_string("{\"value\":{\"v\":1}}", NULL);

		g_assert_cmpstr(json_object_get_string_member(o, "type"), ==, "created");
		g_assert_cmpstr(json_object_get_string_member(payload, "key"), ==, "watched");
		g_assert_true(json_node_equal(json_object_get_member(payload, "data"), want));
		g_assert_nonnull(json_object_get_string_member(o, "id"));
	}
	g_assert_nonnull(strstr(deleted, "\"type\":\"deleted\""));
	g_subprocess_wait_check(watch, NULL, &error);
	g_assert_no_error(error);

	/* people's output; Ctrl+C ends it with success */
	human = g_subprocess_launcher_spawn(launcher, &error, f->oscctl, "watch", NULL);
	g_assert_no_error(error);
	err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(human));
	hello = read_line(err);
	g_assert_true(g_str_has_prefix(hello, "Connected (subscription "));
	RUN_EXPECT(r, 0, f, NULL, NULL, "set", "seen", "hello", "-e", "prod", "-c", "cat");
	g_clear_object(&out);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(human));
	line = read_line(out);
	g_assert_nonnull(strstr(line, " created  seen @ prod [cat] = hello"));
	g_subprocess_send_signal(human, SIGINT);
	g_subprocess_wait_check(human, NULL, &error);
	g_assert_no_error(error);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn, api)                                                                         \
	g_test_add(path, Fixture, GINT_TO_POINTER(api), fixture_setup, fn, fixture_teardown)
	ADD("/osc/oscctl/crud", test_crud, FALSE);
	ADD("/osc/oscctl/exit-codes", test_exit_codes, FALSE);
	ADD("/osc/oscctl/key-sources", test_key_sources, FALSE);
	ADD("/osc/oscctl/backup-restore", test_backup_restore, FALSE);
	ADD("/osc/oscctl/rekey", test_rekey, FALSE);
	ADD("/osc/oscctl/keyring", test_keyring, FALSE);
	ADD("/osc/oscctl/api-key", test_api_key, TRUE);
	ADD("/osc/oscctl/cluster-health", test_cluster_health, FALSE);
	ADD("/osc/oscctl/watch", test_watch, FALSE);
#undef ADD
	return g_test_run();
}
