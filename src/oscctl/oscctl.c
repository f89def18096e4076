/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "oscctl"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>

#include <libosc-client.h>
#include <locale.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "oscctl-keyring.h"

/*
 * oscctl: the command line of OpenSecureConf, on libosc-client's public API.
 *
 *   oscctl [CONNECTION OPTIONS] COMMAND [OPTIONS] [ARGS]
 *
 * Each command has its own GOptionContext, which also carries the connection options, so
 * they may come before or after the command. Server and keys come from the options, then
 * OSC_URL / OSC_USER_KEY / OSC_API_KEY, then the keyring (`oscctl login`). Secrets are never
 * taken as arguments (they would show in `ps`) and never echoed.
 *
 * Exit codes: 0 success, 1 error, 2 usage, 3 not found, 4 authentication.
 */

enum {
	OSCCTL_EXIT_OK = 0,
	OSCCTL_EXIT_ERROR = 1,
	OSCCTL_EXIT_USAGE = 2,
	OSCCTL_EXIT_NOT_FOUND = 3,
	OSCCTL_EXIT_AUTH = 4,
};

#define OSCCTL_ERROR (oscctl_error_quark())
typedef enum {
	OSCCTL_ERROR_USAGE,
	OSCCTL_ERROR_FAILED,
} OscctlError;
static GQuark
oscctl_error_quark(void)
{
	return g_quark_from_static_string("oscctl-error-quark");
}

typedef struct {
	/* connection options */
	gchar *url;
	gchar *user_key_file;
	gboolean user_key_stdin;
	gchar *api_key_file;
	gboolean json;
	gint timeout;
	gboolean insecure;
	gchar *ca_file;
	gboolean no_keyring;

	/* resolved */
	const gchar *command;
	gchar *user_key;
	gchar *api_key;
	gboolean user_key_from_keyring;
	gboolean stdin_taken; /* by a secret: a value can no longer come from stdin */
	OscctlCredentials *stored;
	gboolean stored_looked_up;
	OscClient *client;
} Oscctl;

typedef gint (*OscctlCommandFunc)(Oscctl *self, gint argc, gchar **argv, GError **error);

typedef struct {
	const gchar *name;
	const gchar *args;
	const gchar *summary;
	OscctlCommandFunc func;
} OscctlCommand;

/* ---- small helpers ---- */

static void
oscctl_wipe(gchar *s)
{
	if (s != NULL) {
		memset(s, 0, strlen(s));
		g_free(s);
	}
}

static gboolean oscctl_usage(GError **error, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
oscctl_usage(GError **error, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *msg = NULL;

	va_start(args, format);
	msg = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, OSCCTL_ERROR, OSCCTL_ERROR_USAGE, msg);
	return FALSE;
}

static void
oscctl_print_json(JsonNode *node)
{
	g_autofree gchar *text = json_to_string(node, TRUE);
	g_print("%s\n", text);
}

/* the whole of stdin, at most 64 MiB */
static gchar *
oscctl_read_stdin(GError **error)
{
	g_autoptr(GString) buf = g_string_new(NULL);
	gchar chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		g_string_append_len(buf, chunk, (gssize)n);
		if (buf->len > 64 * 1024 * 1024) {
			g_set_error_literal(error, OSCCTL_ERROR, OSCCTL_ERROR_FAILED,
					    _("Standard input is too large"));
			return NULL;
		}
	}
	if (ferror(stdin)) {
		g_set_error_literal(error, OSCCTL_ERROR, OSCCTL_ERROR_FAILED,
				    _("Cannot read standard input"));
		return NULL;
	}
	return g_string_free(g_steal_pointer(&buf), FALSE);
}

/* a secret from a file or stdin: the first line, without its line end */
static gchar *
oscctl_secret_from_text(gchar *text, const gchar *what, GError **error)
{
	gchar *nl = strpbrk(text, "\r\n");

	if (nl != NULL)
		*nl = '\0';
	if (text[0] == '\0') {
		oscctl_wipe(text);
		/* Translators: %s is "user key", "API key", "new user key" or "backup password",
		 * translated separately */
		g_set_error(error, OSCCTL_ERROR, OSCCTL_ERROR_USAGE, _("The %s is empty"), what);
		return NULL;
	}
	return text;
}

static gchar *
oscctl_secret_from_file(const gchar *path, const gchar *what, GError **error)
{
	gchar *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, error)) {
		/* Translators: %s is "user key", "API key", "new user key" or "backup password",
		 * translated separately; the reason follows the colon */
		g_prefix_error(error, _("Cannot read the %s: "), what);
		return NULL;
	}
	return oscctl_secret_from_text(text, what, error);
}

static gchar *
oscctl_secret_from_stdin(Oscctl *self, const gchar *what, GError **error)
{
	gchar *text;

	if (self->stdin_taken) {
		oscctl_usage(error, _("Only one thing can be read from standard input"));
		return NULL;
	}
	self->stdin_taken = TRUE;
	text = oscctl_read_stdin(error);
	if (text == NULL)
		return NULL;
	return oscctl_secret_from_text(text, what, error);
}

/* reads a line from the terminal without echo; NULL when stdin is not a terminal */
static gchar *
oscctl_prompt_secret(const gchar *prompt, GError **error)
{
	struct termios old, quiet;
	gchar buf[4096];
	gchar *line;

	if (!isatty(STDIN_FILENO)) {
		g_set_error(error, OSCCTL_ERROR, OSCCTL_ERROR_USAGE,
			    _("%s: standard input is not a terminal to ask on"), prompt);
		return NULL;
	}
	g_printerr("%s: ", prompt);
	if (tcgetattr(STDIN_FILENO, &old) != 0) {
		g_set_error_literal(error, OSCCTL_ERROR, OSCCTL_ERROR_FAILED,
				    _("Cannot configure the terminal"));
		return NULL;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	line = fgets(buf, sizeof(buf), stdin);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (line == NULL) {
		g_set_error_literal(error, OSCCTL_ERROR, OSCCTL_ERROR_FAILED, _("No input"));
		return NULL;
	}
	line = oscctl_secret_from_text(g_strdup(buf), prompt, error);
	memset(buf, 0, sizeof(buf));
	return line;
}

/* asks twice, for secrets that are being set */
static gchar *
oscctl_prompt_new_secret(const gchar *prompt, GError **error)
{
	g_autofree gchar *again_prompt = g_strdup_printf(_("%s (again)"), prompt);
	gchar *first = oscctl_prompt_secret(prompt, error);
	gchar *again;

	if (first == NULL)
		return NULL;
	again = oscctl_prompt_secret(again_prompt, error);
	if (again == NULL) {
		oscctl_wipe(first);
		return NULL;
	}
	if (!g_str_equal(first, again)) {
		oscctl_wipe(first);
		oscctl_wipe(again);
		oscctl_usage(error, _("The two entries differ"));
		return NULL;
	}
	oscctl_wipe(again);
	return first;
}

/* ---- connection options and credentials ---- */

static GOptionGroup *
oscctl_connection_group(Oscctl *self)
{
	/* Translators: in the option descriptions, URL, FILE, ENV, CATEGORY, KEY, VALUE, ETAG,
	 * SECONDS, ID and COUNT name the options' arguments, which stay in English */
	const GOptionEntry entries[] = {
		{"url", 'u', 0, G_OPTION_ARG_STRING, &self->url,
		 N_("The server (default: $OSC_URL, then the keyring)"), "URL"},
		{"user-key-stdin", 0, 0, G_OPTION_ARG_NONE, &self->user_key_stdin,
		 N_("Read the user key from standard input"), NULL},
		{"user-key-file", 0, 0, G_OPTION_ARG_FILENAME, &self->user_key_file,
		 N_("Read the user key from FILE (default: $OSC_USER_KEY, the keyring, a prompt)"),
		 "FILE"},
		{"api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &self->api_key_file,
		 N_("Read the API key from FILE (default: $OSC_API_KEY, then the keyring)"),
		 "FILE"},
		{"json", 'j', 0, G_OPTION_ARG_NONE, &self->json, N_("Print JSON, for scripts"),
		 NULL},
		{"timeout", 0, 0, G_OPTION_ARG_INT, &self->timeout,
		 N_("Seconds to wait for the server (default: 30)"), "SECONDS"},
		{"insecure", 'k', 0, G_OPTION_ARG_NONE, &self->insecure,
		 N_("Do not check the server's TLS certificate"), NULL},
		{"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &self->ca_file,
		 N_("Trust the certificate authorities in FILE"), "FILE"},
		{"no-keyring", 0, 0, G_OPTION_ARG_NONE, &self->no_keyring,
		 N_("Do not read credentials from the keyring"), NULL},
		G_OPTION_ENTRY_NULL,
	};
	/* translated here: GLib prints the group heading as it is given */
	GOptionGroup *group =
		g_option_group_new("connection", _("Connection options:"),
				   _("Show the options every command takes"), NULL, NULL);

	g_option_group_set_translation_domain(group, GETTEXT_PACKAGE);
	g_option_group_add_entries(group, entries);
	return group;
}

static const OscctlCredentials *
oscctl_stored(Oscctl *self, const gchar *url)
{
	g_autoptr(GError) error = NULL;

	if (self->no_keyring)
		return NULL;
	if (!self->stored_looked_up) {
		self->stored_looked_up = TRUE;
		self->stored = oscctl_keyring_lookup(url, &error);
		if (error != NULL)
			g_debug("keyring: %s", error->message);
	}
	return self->stored;
}

static gchar *
oscctl_env(const gchar *name)
{
	const gchar *v = g_getenv(name);
	return v != NULL && v[0] != '\0' ? g_strdup(v) : NULL;
}

/* the server URL: --url, $OSC_URL, then the keyring's most recent */
static gboolean
oscctl_resolve_url(Oscctl *self, GError **error)
{
	const OscctlCredentials *stored;

	if (self->url == NULL)
		self->url = oscctl_env("OSC_URL");
	if (self->url != NULL) {
		/* one spelling per server, for the keyring: no trailing '/' */
		gsize len = strlen(g_strstrip(self->url));
		while (len > 0 && self->url[len - 1] == '/')
			self->url[--len] = '\0';
		return TRUE;
	}
	stored = oscctl_stored(self, NULL);
	if (stored != NULL) {
		self->url = g_strdup(stored->url);
		return TRUE;
	}
	return oscctl_usage(error, _("No server: use --url, set OSC_URL or run 'oscctl login'"));
}

typedef enum {
	OSCCTL_USER_KEY_NONE,	  /* the command does not use it */
	OSCCTL_USER_KEY_OPTIONAL, /* use one if there is one; never ask */
	OSCCTL_USER_KEY_REQUIRED, /* ask on the terminal as a last resort */
} OscctlUserKeyNeed;

static gboolean
oscctl_resolve_keys(Oscctl *self, OscctlUserKeyNeed need, GError **error)
{
	const OscctlCredentials *stored = NULL;

	if (self->user_key_stdin && self->user_key_file != NULL)
		return oscctl_usage(error,
				    _("--user-key-stdin and --user-key-file exclude each other"));
	/* API key: --api-key-file, $OSC_API_KEY, the keyring */
	if (self->api_key_file != NULL) {
		self->api_key = oscctl_secret_from_file(self->api_key_file, _("API key"), error);
		if (self->api_key == NULL)
			return FALSE;
	}
	if (self->api_key == NULL)
		self->api_key = oscctl_env("OSC_API_KEY");
	if (self->api_key == NULL) {
		stored = oscctl_stored(self, self->url);
		if (stored != NULL && g_strcmp0(stored->url, self->url) == 0)
			self->api_key = g_strdup(stored->api_key);
	}

	if (need == OSCCTL_USER_KEY_NONE)
		return TRUE;
	if (self->user_key_stdin)
		self->user_key = oscctl_secret_from_stdin(self, _("user key"), error);
	else if (self->user_key_file != NULL)
		self->user_key = oscctl_secret_from_file(self->user_key_file, _("user key"), error);
	else
		self->user_key = oscctl_env("OSC_USER_KEY");
	if (self->user_key == NULL && (self->user_key_stdin || self->user_key_file != NULL))
		return FALSE;
	if (self->user_key == NULL) {
		stored = oscctl_stored(self, self->url);
		if (stored != NULL && g_strcmp0(stored->url, self->url) == 0 &&
		    stored->user_key != NULL) {
			self->user_key = g_strdup(stored->user_key);
			self->user_key_from_keyring = TRUE;
		}
	}
	if (self->user_key == NULL && need == OSCCTL_USER_KEY_REQUIRED) {
		if (!isatty(STDIN_FILENO))
			return oscctl_usage(error, _("No user key: use --user-key-stdin, "
						     "--user-key-file, OSC_USER_KEY or 'oscctl "
						     "login'"));
		self->user_key = oscctl_prompt_secret(_("User key"), error);
		if (self->user_key == NULL)
			return FALSE;
		self->stdin_taken = TRUE;
	}
	return TRUE;
}

/* resolves what the command needs and makes the client */
static gboolean
oscctl_connect(Oscctl *self, OscctlUserKeyNeed need, GError **error)
{
	if (!oscctl_resolve_url(self, error) || !oscctl_resolve_keys(self, need, error))
		return FALSE;
	if (self->timeout < 0)
		return oscctl_usage(error, _("--timeout must not be negative"));
	self->client = g_object_new(OSC_TYPE_CLIENT, "base-url", self->url, "user-key",
				    self->user_key, "api-key", self->api_key, "timeout",
				    self->timeout > 0 ? (guint)self->timeout : 30u, "tls-verify",
				    !self->insecure, "ca-file", self->ca_file, NULL);
	return TRUE;
}

/* parses a command's options; positional arguments are left in argv */
static gboolean
oscctl_parse(Oscctl *self, const gchar *parameter, const gchar *summary,
	     const GOptionEntry *entries, gint *argc, gchar ***argv, GError **error)
{
	g_autoptr(GOptionContext) context = g_option_context_new(parameter);

	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_set_summary(context, summary);
	if (entries != NULL)
		g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_add_group(context, oscctl_connection_group(self));
	/* a GOptionError is a usage error: main() maps the domain to exit code 2 */
	return g_option_context_parse(context, argc, argv, error);
}

/* the positional arguments after the command name, exactly @min..@max of them */
static gboolean
oscctl_check_args(gint argc, gint min, gint max, GError **error)
{
	gint n = argc - 1;

	if (n < min)
		return oscctl_usage(error, _("Missing arguments"));
	if (max >= 0 && n > max)
		return oscctl_usage(error, _("Too many arguments"));
	return TRUE;
}

/* ---- values ---- */

/* a JSON value, or, for a bare word that is not JSON, that text as a string */
static JsonNode *
oscctl_parse_value(const gchar *text)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonNode *node;

	if (json_parser_load_from_data(parser, text, -1, NULL) &&
	    json_parser_get_root(parser) != NULL)
		return json_node_ref(json_parser_get_root(parser));
	node = json_node_new(JSON_NODE_VALUE);
	json_node_set_string(node, text);
	return node;
}

/* strings print as themselves, everything else as JSON */
static gchar *
oscctl_value_text(JsonNode *value, gboolean pretty)
{
	if (value == NULL)
		return g_strdup("null");
	if (JSON_NODE_HOLDS_VALUE(value) && json_node_get_value_type(value) == G_TYPE_STRING)
		return g_strdup(json_node_get_string(value));
	return json_to_string(value, pretty);
}

/* @text padded with spaces to @width characters; printf would pad by bytes */
static gchar *
oscctl_pad(const gchar *text, glong width)
{
	glong len = g_utf8_strlen(text, -1);
	GString *s = g_string_new(text);

	for (; len < width; len++)
		g_string_append_c(s, ' ');
	return g_string_free(s, FALSE);
}

/* the width that aligns what follows the longest of the NULL-terminated @labels */
static glong
oscctl_labels_width(const gchar *const *labels)
{
	glong width = 0;

	for (guint i = 0; labels[i] != NULL; i++)
		width = MAX(width, g_utf8_strlen(labels[i], -1));
	return width + 1;
}

static void
oscctl_print_field(glong width, const gchar *label, const gchar *value)
{
	g_autofree gchar *head = oscctl_pad(label, width);

	g_print("%s%s\n", head, value);
}

static void
oscctl_print_number_field(glong width, const gchar *label, gint64 number)
{
	g_autofree gchar *value = g_strdup_printf("%" G_GINT64_FORMAT, number);

	oscctl_print_field(width, label, value);
}

static void
oscctl_print_entry_details(OscConfigEntry *entry)
{
	g_autofree gchar *value = oscctl_value_text(osc_config_entry_get_value(entry), TRUE);
	const gchar *cat = osc_config_entry_get_category(entry);
	/* Translators: the field labels of 'oscctl get --full'; the values are aligned after
	 * the longest */
	const gchar *labels[] = {_("key:"),  _("environment:"), _("category:"),
				 _("id:"),   _("created:"),	_("updated:"),
				 _("etag:"), _("value:"),	NULL};
	glong width = oscctl_labels_width(labels);

	oscctl_print_field(width, labels[0], osc_config_entry_get_key(entry));
	oscctl_print_field(width, labels[1], osc_config_entry_get_environment(entry));
	oscctl_print_field(width, labels[2], cat != NULL ? cat : "-");
	if (osc_config_entry_get_id(entry) >= 0)
		oscctl_print_number_field(width, labels[3], osc_config_entry_get_id(entry));
	if (osc_config_entry_get_created_at(entry) != NULL)
		oscctl_print_field(width, labels[4], osc_config_entry_get_created_at(entry));
	if (osc_config_entry_get_updated_at(entry) != NULL)
		oscctl_print_field(width, labels[5], osc_config_entry_get_updated_at(entry));
	if (osc_config_entry_get_etag(entry) != NULL)
		oscctl_print_field(width, labels[6], osc_config_entry_get_etag(entry));
	oscctl_print_field(width, labels[7], value);
}

/* ---- commands ---- */

static gint
oscctl_cmd_get(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autofree gchar *environment = NULL;
	gboolean full = FALSE;
	const GOptionEntry entries[] = {
		{"environment", 'e', 0, G_OPTION_ARG_STRING, &environment, N_("The environment"),
		 "ENV"},
		{"full", 0, 0, G_OPTION_ARG_NONE, &full, N_("Show every field, not only the value"),
		 NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(OscConfigEntry) entry = NULL;

	if (!oscctl_parse(self, "KEY -e ENV", N_("Print an entry's value."), entries, &argc, &argv,
			  error) ||
	    !oscctl_check_args(argc, 1, 1, error))
		return -1;
	if (environment == NULL)
		return oscctl_usage(error, _("--environment is required")), -1;
	if (!oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		return -1;
	entry = osc_client_read(self->client, argv[1], environment, full || self->json, NULL,
				error);
	if (entry == NULL)
		return -1;
	if (self->json) {
		g_autoptr(JsonNode) node = osc_config_entry_to_json(entry);
		oscctl_print_json(node);
	} else if (full) {
		oscctl_print_entry_details(entry);
	} else {
		g_autofree gchar *text = oscctl_value_text(osc_config_entry_get_value(entry), TRUE);
		g_print("%s\n", text);
	}
	return OSCCTL_EXIT_OK;
}

static gint
oscctl_cmd_set(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autofree gchar *environment = NULL;
	g_autofree gchar *category = NULL;
	g_autofree gchar *if_match = NULL;
	g_autofree gchar *text = NULL;
	gboolean create_only = FALSE;
	const GOptionEntry entries[] = {
		{"environment", 'e', 0, G_OPTION_ARG_STRING, &environment, N_("The environment"),
		 "ENV"},
		{"category", 'c', 0, G_OPTION_ARG_STRING, &category,
		 N_("The category (an update without it keeps the stored one)"), "CATEGORY"},
		{"create-only", 0, 0, G_OPTION_ARG_NONE, &create_only,
		 N_("Fail if the entry exists instead of updating it"), NULL},
		{"if-match", 0, 0, G_OPTION_ARG_STRING, &if_match,
		 N_("Update only if the entry still has this ETag"), "ETAG"},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(JsonNode) value = NULL;
	g_autoptr(OscConfigEntry) entry = NULL;
	g_autoptr(GError) local = NULL;
	gboolean created = FALSE;

	if (!oscctl_parse(self, "KEY [VALUE|-] -e ENV",
			  N_("Create or update an entry. VALUE is JSON; a word that is not JSON is "
			     "taken as a string;\n"
			     "'-' or no VALUE reads it from standard input."),
			  entries, &argc, &argv, error) ||
	    !oscctl_check_args(argc, 1, 2, error))
		return -1;
	if (environment == NULL)
		return oscctl_usage(error, _("--environment is required")), -1;
	if (create_only && if_match != NULL)
		return oscctl_usage(error, _("--create-only and --if-match exclude each other")),
		       -1;
	if (!oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		return -1;
	if (argc < 3 || g_str_equal(argv[2], "-")) {
		if (self->stdin_taken)
			return oscctl_usage(error,
					    _("Standard input was already read for a secret: "
					      "give VALUE as an argument")),
			       -1;
		text = oscctl_read_stdin(error);
		if (text == NULL)
			return -1;
		/* "echo value | oscctl set k" must not store the newline */
		g_strchomp(text);
	} else {
		text = g_strdup(argv[2]);
	}
	value = oscctl_parse_value(text);

	if (if_match == NULL) {
		entry = osc_client_create(self->client, argv[1], environment, value, category, NULL,
					  &local);
		created = entry != NULL;
		if (entry == NULL &&
		    (create_only ||
		     !g_error_matches(local, OSC_CLIENT_ERROR, OSC_CLIENT_ERROR_ALREADY_EXISTS))) {
			g_propagate_error(error, g_steal_pointer(&local));
			return -1;
		}
	}
	if (entry == NULL) {
		entry = osc_client_update(self->client, argv[1], environment, value, category,
					  if_match, NULL, error);
		if (entry == NULL)
			return -1;
	}
	if (self->json) {
		g_autoptr(JsonNode) node = osc_config_entry_to_json(entry);
		oscctl_print_json(node);
	} else {
		g_print(created ? _("Created %s in %s (etag %s)\n")
				: _("Updated %s in %s (etag %s)\n"),
			osc_config_entry_get_key(entry), osc_config_entry_get_environment(entry),
			osc_config_entry_get_etag(entry) != NULL ? osc_config_entry_get_etag(entry)
								 : "-");
	}
	return OSCCTL_EXIT_OK;
}

static gint
oscctl_cmd_rm(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autofree gchar *environment = NULL;
	g_autofree gchar *if_match = NULL;
	const GOptionEntry entries[] = {
		{"environment", 'e', 0, G_OPTION_ARG_STRING, &environment, N_("The environment"),
		 "ENV"},
		{"if-match", 0, 0, G_OPTION_ARG_STRING, &if_match,
		 N_("Delete only if the entry still has this ETag"), "ETAG"},
		G_OPTION_ENTRY_NULL,
	};

	if (!oscctl_parse(self, "KEY -e ENV", N_("Delete an entry."), entries, &argc, &argv,
			  error) ||
	    !oscctl_check_args(argc, 1, 1, error))
		return -1;
	if (environment == NULL)
		return oscctl_usage(error, _("--environment is required")), -1;
	if (!oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		return -1;
	if (!osc_client_delete(self->client, argv[1], environment, if_match, NULL, error))
		return -1;
	if (self->json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) node = NULL;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "deleted");
		json_builder_add_boolean_value(b, TRUE);
		json_builder_set_member_name(b, "key");
		json_builder_add_string_value(b, argv[1]);
		json_builder_set_member_name(b, "environment");
		json_builder_add_string_value(b, environment);
		json_builder_end_object(b);
		node = json_builder_get_root(b);
		oscctl_print_json(node);
	} else {
		g_print(_("Deleted %s from %s\n"), argv[1], environment);
	}
	return OSCCTL_EXIT_OK;
}

/* one-line value for tables: compact JSON, cut at @width characters */
static gchar *
oscctl_value_cell(JsonNode *value, glong width)
{
	g_autofree gchar *text = oscctl_value_text(value, FALSE);
	g_autofree gchar *flat = g_strdelimit(g_strdup(text), "\r\n\t", ' ');

	if (g_utf8_strlen(flat, -1) <= width)
		return g_steal_pointer(&flat);
	return g_strconcat(g_utf8_substring(flat, 0, width - 1), "…", NULL);
}

/* one line of the 'ls' table; the id and updated columns only with --full */
static void
oscctl_print_row(gboolean full, glong wi, const gchar *id, glong wk, const gchar *key, glong we,
		 const gchar *env, glong wc, const gchar *cat, glong wu, const gchar *updated,
		 const gchar *value)
{
	g_autofree gchar *pi = oscctl_pad(id, wi);
	g_autofree gchar *pk = oscctl_pad(key, wk);
	g_autofree gchar *pe = oscctl_pad(env, we);
	g_autofree gchar *pc = oscctl_pad(cat, wc);
	g_autofree gchar *pu = oscctl_pad(updated, wu);

	if (full)
		g_print("%s %s %s %s %s %s\n", pi, pk, pe, pc, pu, value);
	else
		g_print("%s %s %s %s\n", pk, pe, pc, value);
}

static gint
oscctl_cmd_ls(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autofree gchar *environment = NULL;
	g_autofree gchar *category = NULL;
	gboolean full = FALSE;
	const GOptionEntry entries[] = {
		{"environment", 'e', 0, G_OPTION_ARG_STRING, &environment,
		 N_("Only entries of this environment"), "ENV"},
		{"category", 'c', 0, G_OPTION_ARG_STRING, &category,
		 N_("Only entries of this category"), "CATEGORY"},
		{"full", 0, 0, G_OPTION_ARG_NONE, &full, N_("Also show ids and times"), NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GPtrArray) list = NULL;
	/* Translators: the column headings of 'oscctl ls' */
	const gchar *h_id = _("ID"), *h_key = _("KEY"), *h_env = _("ENVIRONMENT");
	const gchar *h_cat = _("CATEGORY"), *h_updated = _("UPDATED"), *h_value = _("VALUE");
	glong wk = g_utf8_strlen(h_key, -1), we = g_utf8_strlen(h_env, -1);
	glong wc = g_utf8_strlen(h_cat, -1), wi = MAX(6, g_utf8_strlen(h_id, -1));
	glong wu = MAX(27, g_utf8_strlen(h_updated, -1));

	if (!oscctl_parse(self, "", N_("List entries."), entries, &argc, &argv, error) ||
	    !oscctl_check_args(argc, 0, 0, error))
		return -1;
	if (!oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		return -1;
	list = osc_client_list(self->client, category, environment, full, NULL, error);
	if (list == NULL)
		return -1;
	if (self->json) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
		JsonArray *array = json_array_new();

		for (guint i = 0; i < list->len; i++)
			json_array_add_element(
				array, osc_config_entry_to_json(g_ptr_array_index(list, i)));
		json_node_take_array(node, array);
		oscctl_print_json(node);
		return OSCCTL_EXIT_OK;
	}
	for (guint i = 0; i < list->len; i++) {
		OscConfigEntry *e = g_ptr_array_index(list, i);
		const gchar *cat = osc_config_entry_get_category(e);

		wk = MAX(wk, g_utf8_strlen(osc_config_entry_get_key(e), -1));
		we = MAX(we, g_utf8_strlen(osc_config_entry_get_environment(e), -1));
		wc = MAX(wc, cat != NULL ? g_utf8_strlen(cat, -1) : 1);
	}
	oscctl_print_row(full, wi, h_id, wk, h_key, we, h_env, wc, h_cat, wu, h_updated, h_value);
	for (guint i = 0; i < list->len; i++) {
		OscConfigEntry *e = g_ptr_array_index(list, i);
		const gchar *cat = osc_config_entry_get_category(e);
		const gchar *updated = osc_config_entry_get_updated_at(e);
		g_autofree gchar *cell = oscctl_value_cell(osc_config_entry_get_value(e), 60);
		g_autofree gchar *id =
			g_strdup_printf("%" G_GINT64_FORMAT, osc_config_entry_get_id(e));

		oscctl_print_row(full, wi, id, wk, osc_config_entry_get_key(e), we,
				 osc_config_entry_get_environment(e), wc, cat != NULL ? cat : "-",
				 wu, updated != NULL ? updated : "-", cell);
	}
	if (list->len == 0)
		g_printerr(_("No entries.\n"));
	return OSCCTL_EXIT_OK;
}

static gint
oscctl_print_names(Oscctl *self, gchar **names)
{
	if (self->json) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
		JsonArray *array = json_array_new();

		for (guint i = 0; names[i] != NULL; i++)
			json_array_add_string_element(array, names[i]);
		json_node_take_array(node, array);
		oscctl_print_json(node);
	} else {
		for (guint i = 0; names[i] != NULL; i++)
			g_print("%s\n", names[i]);
	}
	return OSCCTL_EXIT_OK;
}

static gint
oscctl_cmd_envs(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_auto(GStrv) names = NULL;

	if (!oscctl_parse(self, "", N_("List the environments in use."), NULL, &argc, &argv,
			  error) ||
	    !oscctl_check_args(argc, 0, 0, error) ||
	    !oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		return -1;
	names = osc_client_list_environments(self->client, NULL, error);
	return names != NULL ? oscctl_print_names(self, names) : -1;
}

static gint
oscctl_cmd_categories(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_auto(GStrv) names = NULL;

	if (!oscctl_parse(self, "", N_("List the categories in use."), NULL, &argc, &argv, error) ||
	    !oscctl_check_args(argc, 0, 0, error) ||
	    !oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		return -1;
	names = osc_client_list_categories(self->client, NULL, error);
	return names != NULL ? oscctl_print_names(self, names) : -1;
}

/* ---- watch ---- */

typedef struct {
	Oscctl *self;
	GMainLoop *loop;
	gint max_events;
	gint seen;
	gint exit_code;
	GError *error;
} OscctlWatch;

static void
oscctl_watch_print(OscctlWatch *w, OscEvent *event)
{
	const gchar *type = osc_event_get_event_type(event);

	if (w->self->json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) node = NULL;
		g_autofree gchar *text = NULL;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "type");
		json_builder_add_string_value(b, type);
		json_builder_set_member_name(b, "id");
		if (osc_event_get_id(event) != NULL)
			json_builder_add_string_value(b, osc_event_get_id(event));
		else
			json_builder_add_null_value(b);
		json_builder_set_member_name(b, "payload");
		json_builder_add_value(b, json_node_copy(osc_event_get_payload(event)));
		json_builder_end_object(b);
		node = json_builder_get_root(b);
		/* one event per line (NDJSON), flushed so that pipes see it at once */
		text = json_to_string(node, FALSE);
		g_print("%s\n", text);
	} else if (g_str_equal(type, "connected")) {
		g_printerr(_("Connected (subscription %s)\n"),
			   osc_event_get_subscription_id(event) != NULL
				   ? osc_event_get_subscription_id(event)
				   : "?");
	} else if (g_str_equal(type, "reset")) {
		/* Translators: %s is a timestamp */
		g_print(_("%s reset: events were missed, reload\n"),
			osc_event_get_timestamp(event) != NULL ? osc_event_get_timestamp(event)
							       : "-");
	} else {
		JsonNode *value = osc_event_get_value(event);
		g_autofree gchar *cell = value != NULL ? oscctl_value_cell(value, 80) : NULL;
		const gchar *cat = osc_event_get_category(event);

		g_print("%s %-8s %s @ %s%s%s%s%s%s\n",
			osc_event_get_timestamp(event) != NULL ? osc_event_get_timestamp(event)
							       : "-",
			type, osc_event_get_key(event) != NULL ? osc_event_get_key(event) : "?",
			osc_event_get_environment(event) != NULL ? osc_event_get_environment(event)
								 : "?",
			cat != NULL ? " [" : "", cat != NULL ? cat : "", cat != NULL ? "]" : "",
			cell != NULL ? " = " : "", cell != NULL ? cell : "");
	}
	fflush(stdout);
}

static void
oscctl_watch_event_cb(OscEventStream *stream, OscEvent *event, gpointer user_data)
{
	OscctlWatch *w = user_data;

	oscctl_watch_print(w, event);
	if (g_str_equal(osc_event_get_event_type(event), "connected"))
		return;
	w->seen++;
	if (w->max_events > 0 && w->seen >= w->max_events)
		g_main_loop_quit(w->loop);
}

static void
oscctl_watch_error_cb(OscEventStream *stream, const GError *error, gpointer user_data)
{
	OscctlWatch *w = user_data;

	if (!osc_event_stream_get_running(stream)) {
		/* gave up: that is the command's error */
		g_clear_error(&w->error);
		w->error = g_error_copy(error);
		g_main_loop_quit(w->loop);
		return;
	}
	g_printerr(_("%s; reconnecting\n"), error->message);
}

static gboolean
oscctl_watch_signal_cb(gpointer user_data)
{
	OscctlWatch *w = user_data;

	g_main_loop_quit(w->loop);
	return G_SOURCE_CONTINUE;
}

static gint
oscctl_cmd_watch(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autofree gchar *key = NULL;
	g_autofree gchar *environment = NULL;
	g_autofree gchar *category = NULL;
	g_autofree gchar *last_event_id = NULL;
	gboolean no_values = FALSE;
	gint max_events = 0;
	const GOptionEntry entries[] = {
		{"key", 0, 0, G_OPTION_ARG_STRING, &key, N_("Only events about this key"), "KEY"},
		{"environment", 'e', 0, G_OPTION_ARG_STRING, &environment,
		 N_("Only events about this environment"), "ENV"},
		{"category", 'c', 0, G_OPTION_ARG_STRING, &category,
		 N_("Only events about this category"), "CATEGORY"},
		{"no-values", 0, 0, G_OPTION_ARG_NONE, &no_values,
		 N_("Do not send the user key, so events come without values"), NULL},
		{"since", 0, 0, G_OPTION_ARG_STRING, &last_event_id,
		 N_("Start with the events after this event id"), "ID"},
		{"count", 'n', 0, G_OPTION_ARG_INT, &max_events,
		 N_("Stop after COUNT change events"), "COUNT"},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(OscEventStream) stream = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	OscctlWatch w = {0};
	guint sigint, sigterm;

	if (!oscctl_parse(self, "",
			  N_("Print change events as they happen, reconnecting as needed, until "
			     "Ctrl+C."),
			  entries, &argc, &argv, error) ||
	    !oscctl_check_args(argc, 0, 0, error))
		return -1;
	if (!oscctl_connect(self, no_values ? OSCCTL_USER_KEY_NONE : OSCCTL_USER_KEY_OPTIONAL,
			    error))
		return -1;
	stream = g_object_new(OSC_TYPE_EVENT_STREAM, "base-url", self->url, "api-key",
			      self->api_key, "user-key", no_values ? NULL : self->user_key, "key",
			      key, "environment", environment, "category", category, "tls-verify",
			      !self->insecure, "initial-delay", 1.0, "max-delay", 30.0,
			      "last-event-id", last_event_id, NULL);
	loop = g_main_loop_new(NULL, FALSE);
	w.self = self;
	w.loop = loop;
	w.max_events = max_events;
	g_signal_connect(stream, "event", G_CALLBACK(oscctl_watch_event_cb), &w);
	g_signal_connect(stream, "reset", G_CALLBACK(oscctl_watch_event_cb), &w);
	g_signal_connect(stream, "error", G_CALLBACK(oscctl_watch_error_cb), &w);
	sigint = g_unix_signal_add(SIGINT, oscctl_watch_signal_cb, &w);
	sigterm = g_unix_signal_add(SIGTERM, oscctl_watch_signal_cb, &w);
	osc_event_stream_start(stream);
	g_main_loop_run(loop);
	osc_event_stream_stop(stream);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	if (w.error != NULL) {
		g_propagate_error(error, w.error);
		return -1;
	}
	return OSCCTL_EXIT_OK;
}

/* ---- backup, restore, rekey ---- */

typedef struct {
	gchar *file;
	gboolean from_stdin;
	gboolean prompt;
} OscctlPasswordOptions;

static gchar *
oscctl_get_password(Oscctl *self, OscctlPasswordOptions *o, gboolean confirm, GError **error)
{
	if ((o->file != NULL) + o->from_stdin + o->prompt > 1) {
		oscctl_usage(error, _("Give the backup password one way only"));
		return NULL;
	}
	if (o->file != NULL)
		return oscctl_secret_from_file(o->file, _("backup password"), error);
	if (o->from_stdin)
		return oscctl_secret_from_stdin(self, _("backup password"), error);
	if (!o->prompt && (!isatty(STDIN_FILENO) || self->stdin_taken)) {
		oscctl_usage(error, _("No backup password: use --password-file, --password-stdin "
				      "or --password-prompt"));
		return NULL;
	}
	return confirm ? oscctl_prompt_new_secret(_("Backup password"), error)
		       : oscctl_prompt_secret(_("Backup password"), error);
}

static gint
oscctl_cmd_backup(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autofree gchar *output = NULL;
	g_autofree gchar *environment = NULL;
	g_autofree gchar *category = NULL;
	OscctlPasswordOptions pw = {0};
	const GOptionEntry entries[] = {
		{"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
		 N_("Write the backup to FILE (mode 0600)"), "FILE"},
		{"environment", 'e', 0, G_OPTION_ARG_STRING, &environment,
		 N_("Only entries of this environment"), "ENV"},
		{"category", 'c', 0, G_OPTION_ARG_STRING, &category,
		 N_("Only entries of this category"), "CATEGORY"},
		{"password-file", 0, 0, G_OPTION_ARG_FILENAME, &pw.file,
		 N_("Read the backup password from FILE"), "FILE"},
		{"password-stdin", 0, 0, G_OPTION_ARG_NONE, &pw.from_stdin,
		 N_("Read the backup password from standard input"), NULL},
		{"password-prompt", 0, 0, G_OPTION_ARG_NONE, &pw.prompt,
		 N_("Ask for the backup password (the default on a terminal)"), NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(JsonNode) backup = NULL;
	g_autofree gchar *text = NULL;
	gchar *password = NULL;
	JsonObject *obj;

	if (!oscctl_parse(self, "--output FILE", N_("Save an encrypted backup of the entries."),
			  entries, &argc, &argv, error) ||
	    !oscctl_check_args(argc, 0, 0, error))
		goto out;
	if (output == NULL) {
		oscctl_usage(error, _("--output is required"));
		goto out;
	}
	if (!oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		goto out;
	password = oscctl_get_password(self, &pw, TRUE, error);
	if (password == NULL)
		goto out;
	backup = osc_client_backup(self->client, password, category, environment, NULL, error);
	if (backup == NULL)
		goto out;
	if (!JSON_NODE_HOLDS_OBJECT(backup) ||
	    !json_object_has_member(json_node_get_object(backup), "backup_data")) {
		g_set_error_literal(error, OSCCTL_ERROR, OSCCTL_ERROR_FAILED,
				    _("The server's backup has no backup_data"));
		goto out;
	}
	text = json_to_string(backup, TRUE);
	if (!g_file_set_contents_full(output, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
				      error))
		goto out;
	obj = json_node_get_object(backup);
	if (self->json) {
		g_autoptr(JsonNode) summary = json_node_copy(backup);
		json_object_remove_member(json_node_get_object(summary), "backup_data");
		json_object_set_string_member(json_node_get_object(summary), "file", output);
		oscctl_print_json(summary);
	} else {
		gint64 n = json_object_get_int_member_with_default(obj, "total_keys", 0);

		/* Translators: the last %s is the backup's id */
		g_print(ngettext("Saved %lld entry to %s (%s)\n", "Saved %lld entries to %s (%s)\n",
				 (gulong)n),
			(long long)n, output,
			json_object_get_string_member_with_default(obj, "backup_id", "backup"));
	}
	oscctl_wipe(password);
	g_free(pw.file);
	return OSCCTL_EXIT_OK;
out:
	oscctl_wipe(password);
	g_free(pw.file);
	return -1;
}

/* a file that `oscctl backup` wrote (the server's JSON), or bare base64 backup data */
static gchar *
oscctl_read_backup_file(const gchar *path, GError **error)
{
	g_autofree gchar *text = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();

	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	if (json_parser_load_from_data(parser, text, -1, NULL)) {
		JsonNode *root = json_parser_get_root(parser);
		if (root != NULL && JSON_NODE_HOLDS_OBJECT(root) &&
		    json_object_has_member(json_node_get_object(root), "backup_data"))
			return g_strdup(json_object_get_string_member(json_node_get_object(root),
								      "backup_data"));
		g_set_error(error, OSCCTL_ERROR, OSCCTL_ERROR_FAILED,
			    _("%s is JSON without backup_data"), path);
		return NULL;
	}
	return g_strstrip(g_steal_pointer(&text));
}

static gint
oscctl_cmd_restore(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	gboolean overwrite = FALSE;
	OscctlPasswordOptions pw = {0};
	const GOptionEntry entries[] = {
		{"overwrite", 0, 0, G_OPTION_ARG_NONE, &overwrite,
		 N_("Replace entries that exist (default: skip them)"), NULL},
		{"password-file", 0, 0, G_OPTION_ARG_FILENAME, &pw.file,
		 N_("Read the backup password from FILE"), "FILE"},
		{"password-stdin", 0, 0, G_OPTION_ARG_NONE, &pw.from_stdin,
		 N_("Read the backup password from standard input"), NULL},
		{"password-prompt", 0, 0, G_OPTION_ARG_NONE, &pw.prompt,
		 N_("Ask for the backup password (the default on a terminal)"), NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(JsonNode) result = NULL;
	g_autofree gchar *data = NULL;
	gchar *password = NULL;
	gint ret = -1;

	if (!oscctl_parse(self, "FILE", N_("Import a backup made with 'oscctl backup'."), entries,
			  &argc, &argv, error) ||
	    !oscctl_check_args(argc, 1, 1, error))
		goto out;
	data = oscctl_read_backup_file(argv[1], error);
	if (data == NULL || !oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		goto out;
	password = oscctl_get_password(self, &pw, FALSE, error);
	if (password == NULL)
		goto out;
	result = osc_client_import_backup(self->client, data, password, overwrite, NULL, error);
	if (result == NULL)
		goto out;
	if (self->json) {
		oscctl_print_json(result);
	} else if (JSON_NODE_HOLDS_OBJECT(result)) {
		JsonObject *obj = json_node_get_object(result);
		JsonArray *failed = json_object_get_array_member(obj, "failed_keys");

		g_print(_("Imported %lld, skipped %lld, failed %lld of %lld\n"),
			(long long)json_object_get_int_member_with_default(obj, "imported", 0),
			(long long)json_object_get_int_member_with_default(obj, "skipped", 0),
			(long long)json_object_get_int_member_with_default(obj, "failed", 0),
			(long long)json_object_get_int_member_with_default(obj, "total_in_backup",
									   0));
		for (guint i = 0; failed != NULL && i < json_array_get_length(failed); i++) {
			JsonObject *f = json_array_get_object_element(failed, i);
			g_print("  %s: %s\n",
				json_object_get_string_member_with_default(f, "key", "?"),
				json_object_get_string_member_with_default(f, "error", "?"));
		}
	}
	ret = OSCCTL_EXIT_OK;
out:
	oscctl_wipe(password);
	g_free(pw.file);
	return ret;
}

static gint
oscctl_cmd_rekey(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autofree gchar *new_key_file = NULL;
	gboolean new_key_stdin = FALSE;
	const GOptionEntry entries[] = {
		{"new-key-file", 0, 0, G_OPTION_ARG_FILENAME, &new_key_file,
		 N_("Read the new user key from FILE"), "FILE"},
		{"new-key-stdin", 0, 0, G_OPTION_ARG_NONE, &new_key_stdin,
		 N_("Read the new user key from standard input"), NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(JsonNode) result = NULL;
	gchar *new_key = NULL;
	gboolean keyring_updated = FALSE;
	gint ret = -1;

	if (!oscctl_parse(
		    self, "",
		    N_("Re-encrypt every entry the user key opens with a new user key.\n"
		       "The new key comes from --new-key-file, --new-key-stdin, or a prompt."),
		    entries, &argc, &argv, error) ||
	    !oscctl_check_args(argc, 0, 0, error))
		goto out;
	if (new_key_file != NULL && new_key_stdin) {
		oscctl_usage(error, _("--new-key-file and --new-key-stdin exclude each other"));
		goto out;
	}
	if (!oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		goto out;
	if (new_key_file != NULL)
		new_key = oscctl_secret_from_file(new_key_file, _("new user key"), error);
	else if (new_key_stdin || (!isatty(STDIN_FILENO) && !self->stdin_taken))
		new_key = oscctl_secret_from_stdin(self, _("new user key"), error);
	else
		new_key = oscctl_prompt_new_secret(_("New user key"), error);
	if (new_key == NULL)
		goto out;
	result = osc_client_rekey(self->client, new_key, NULL, error);
	if (result == NULL)
		goto out;
	/* the stored key would no longer open anything */
	if (self->user_key_from_keyring) {
		OscctlCredentials creds = {self->url, new_key, self->api_key};
		g_autoptr(GError) local = NULL;

		keyring_updated = oscctl_keyring_store(&creds, &local);
		if (!keyring_updated)
			g_printerr(_("oscctl: the keyring still holds the old user key: %s\n"),
				   local->message);
	}
	if (self->json) {
		json_object_set_boolean_member(json_node_get_object(result), "keyring_updated",
					       keyring_updated);
		oscctl_print_json(result);
	} else {
		gint64 n = json_object_get_int_member_with_default(json_node_get_object(result),
								   "rekeyed", 0);

		if (keyring_updated)
			g_print(ngettext("Re-encrypted %lld entry with the new user key (keyring "
					 "updated)\n",
					 "Re-encrypted %lld entries with the new user key (keyring "
					 "updated)\n",
					 (gulong)n),
				(long long)n);
		else
			g_print(ngettext("Re-encrypted %lld entry with the new user key\n",
					 "Re-encrypted %lld entries with the new user key\n",
					 (gulong)n),
				(long long)n);
	}
	ret = OSCCTL_EXIT_OK;
out:
	oscctl_wipe(new_key);
	return ret;
}

/* ---- stats, cluster, health ---- */

static void
oscctl_print_counts(JsonObject *obj, const gchar *member)
{
	JsonObject *counts = json_object_get_object_member(obj, member);
	g_autoptr(GList) names = counts != NULL ? json_object_get_members(counts) : NULL;

	for (GList *l = names; l != NULL; l = l->next) {
		g_autofree gchar *name = oscctl_pad(l->data, 24);

		g_print("  %s %" G_GINT64_FORMAT "\n", name,
			json_object_get_int_member(counts, l->data));
	}
}

static gint
oscctl_cmd_stats(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autoptr(JsonNode) stats = NULL;
	/* Translators: the labels of 'oscctl stats'; the numbers are aligned after the longest */
	const gchar *labels[] = {_("entries:"), _("categories:"), _("environments:"), NULL};
	JsonObject *obj;
	glong width;

	if (!oscctl_parse(self, "", N_("Show entry counts by category and environment."), NULL,
			  &argc, &argv, error) ||
	    !oscctl_check_args(argc, 0, 0, error) ||
	    !oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		return -1;
	stats = osc_client_get_stats(self->client, NULL, error);
	if (stats == NULL)
		return -1;
	if (self->json || !JSON_NODE_HOLDS_OBJECT(stats)) {
		oscctl_print_json(stats);
		return OSCCTL_EXIT_OK;
	}
	obj = json_node_get_object(stats);
	width = oscctl_labels_width(labels);
	oscctl_print_number_field(width, labels[0],
				  json_object_get_int_member_with_default(obj, "total_keys", 0));
	oscctl_print_number_field(
		width, labels[1],
		json_object_get_int_member_with_default(obj, "total_categories", 0));
	oscctl_print_counts(obj, "keys_by_category");
	oscctl_print_number_field(
		width, labels[2],
		json_object_get_int_member_with_default(obj, "total_environments", 0));
	oscctl_print_counts(obj, "keys_by_environment");
	return OSCCTL_EXIT_OK;
}

static gint
oscctl_cmd_cluster(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autoptr(JsonNode) status = NULL;
	/* Translators: the labels of 'oscctl cluster status'; the values are aligned after the
	 * longest */
	const gchar *labels[] = {_("clustering:"), _("node:"), _("healthy nodes:"), NULL};
	g_autofree gchar *on = NULL;
	g_autofree gchar *nodes = NULL;
	JsonObject *obj;
	glong width;

	if (!oscctl_parse(self, "status", N_("Show the cluster's status."), NULL, &argc, &argv,
			  error) ||
	    !oscctl_check_args(argc, 1, 1, error))
		return -1;
	if (!g_str_equal(argv[1], "status"))
		return oscctl_usage(error, _("Unknown cluster command '%s' (try 'status')"),
				    argv[1]),
		       -1;
	if (!oscctl_connect(self, OSCCTL_USER_KEY_OPTIONAL, error))
		return -1;
	status = osc_client_get_cluster_status(self->client, NULL, error);
	if (status == NULL)
		return -1;
	if (self->json || !JSON_NODE_HOLDS_OBJECT(status)) {
		oscctl_print_json(status);
		return OSCCTL_EXIT_OK;
	}
	obj = json_node_get_object(status);
	width = oscctl_labels_width(labels);
	if (!json_object_get_boolean_member_with_default(obj, "enabled", FALSE)) {
		oscctl_print_field(width, labels[0], _("off"));
		return OSCCTL_EXIT_OK;
	}
	/* Translators: %s is the cluster mode, such as "replica" */
	on = g_strdup_printf(_("on (%s)"),
			     json_object_get_string_member_with_default(obj, "mode", "?"));
	/* Translators: healthy nodes of all nodes */
	nodes = g_strdup_printf(
		_("%lld of %lld"),
		(long long)json_object_get_int_member_with_default(obj, "healthy_nodes", 0),
		(long long)json_object_get_int_member_with_default(obj, "total_nodes", 0));
	oscctl_print_field(width, labels[0], on);
	oscctl_print_field(width, labels[1],
			   json_object_get_string_member_with_default(obj, "node_id", "?"));
	oscctl_print_field(width, labels[2], nodes);
	return OSCCTL_EXIT_OK;
}

static gint
oscctl_cmd_health(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	g_autoptr(JsonNode) info = NULL;
	g_autoptr(JsonNode) health = NULL;
	JsonObject *i;
	JsonObject *h;

	if (!oscctl_parse(self, "", N_("Check that the server answers."), NULL, &argc, &argv,
			  error) ||
	    !oscctl_check_args(argc, 0, 0, error) ||
	    !oscctl_connect(self, OSCCTL_USER_KEY_OPTIONAL, error))
		return -1;
	info = osc_client_get_service_info(self->client, NULL, error);
	if (info == NULL)
		return -1;
	health = osc_client_get_cluster_health(self->client, NULL, error);
	if (health == NULL)
		return -1;
	if (self->json) {
		oscctl_print_json(health);
		return OSCCTL_EXIT_OK;
	}
	i = JSON_NODE_HOLDS_OBJECT(info) ? json_node_get_object(info) : NULL;
	h = JSON_NODE_HOLDS_OBJECT(health) ? json_node_get_object(health) : NULL;
	/* Translators: URL: status (node NODE-ID, SERVICE VERSION) */
	g_print(_("%s: %s (node %s, %s %s)\n"), self->url,
		h != NULL ? json_object_get_string_member_with_default(h, "status", "?") : "?",
		h != NULL ? json_object_get_string_member_with_default(h, "node_id", "?") : "?",
		i != NULL ? json_object_get_string_member_with_default(i, "service", "?") : "?",
		i != NULL ? json_object_get_string_member_with_default(i, "version", "?") : "?");
	return OSCCTL_EXIT_OK;
}

/* ---- login, logout ---- */

static gint
oscctl_cmd_login(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	gboolean no_verify = FALSE;
	const GOptionEntry entries[] = {
		{"no-verify", 0, 0, G_OPTION_ARG_NONE, &no_verify,
		 N_("Store without checking the keys against the server"), NULL},
		G_OPTION_ENTRY_NULL,
	};
	OscctlCredentials creds = {0};

	if (!oscctl_parse(self, "--url URL",
			  N_("Store the server URL, user key and API key in the keyring.\n"
			     "The user key comes from --user-key-stdin, --user-key-file, "
			     "OSC_USER_KEY or a prompt;\nthe API key from --api-key-file or "
			     "OSC_API_KEY."),
			  entries, &argc, &argv, error) ||
	    !oscctl_check_args(argc, 0, 0, error))
		return -1;
	/* what is being stored must not come from what is stored */
	self->no_keyring = TRUE;
	if (!oscctl_resolve_url(self, error))
		return -1;
	if (!oscctl_connect(self, OSCCTL_USER_KEY_REQUIRED, error))
		return -1;
	if (!no_verify) {
		g_autoptr(JsonNode) stats = osc_client_get_stats(self->client, NULL, error);
		if (stats == NULL) {
			g_prefix_error(error, _("Not stored: "));
			return -1;
		}
	}
	creds.url = self->url;
	creds.user_key = self->user_key;
	creds.api_key = self->api_key;
	if (!oscctl_keyring_store(&creds, error)) {
		g_prefix_error(error, _("Cannot store in the keyring: "));
		return -1;
	}
	if (self->json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) node = NULL;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "url");
		json_builder_add_string_value(b, creds.url);
		json_builder_set_member_name(b, "api_key");
		json_builder_add_boolean_value(b, creds.api_key != NULL);
		json_builder_set_member_name(b, "verified");
		json_builder_add_boolean_value(b, !no_verify);
		json_builder_end_object(b);
		node = json_builder_get_root(b);
		oscctl_print_json(node);
	} else {
		g_print(_("Stored the credentials for %s in the keyring\n"), creds.url);
	}
	return OSCCTL_EXIT_OK;
}

static gint
oscctl_cmd_logout(Oscctl *self, gint argc, gchar **argv, GError **error)
{
	gboolean all = FALSE;
	const GOptionEntry entries[] = {
		{"all", 'a', 0, G_OPTION_ARG_NONE, &all, N_("Forget every server"), NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autofree gchar *url = NULL;
	guint cleared = 0;

	if (!oscctl_parse(self, "[--url URL | --all]", N_("Remove stored credentials."), entries,
			  &argc, &argv, error) ||
	    !oscctl_check_args(argc, 0, 0, error))
		return -1;
	if (!all) {
		if (!oscctl_resolve_url(self, error))
			return -1;
		url = g_strdup(self->url);
	}
	if (!oscctl_keyring_clear(url, &cleared, error))
		return -1;
	if (self->json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) node = NULL;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "removed");
		json_builder_add_boolean_value(b, cleared > 0);
		json_builder_end_object(b);
		node = json_builder_get_root(b);
		oscctl_print_json(node);
	} else if (cleared > 0 && url != NULL) {
		g_print(_("Removed the stored credentials for %s\n"), url);
	} else if (cleared > 0) {
		g_print(_("Removed the stored credentials\n"));
	} else if (url != NULL) {
		g_print(_("No stored credentials for %s\n"), url);
	} else {
		g_print(_("No stored credentials\n"));
	}
	return OSCCTL_EXIT_OK;
}

/* ---- main ---- */

static const OscctlCommand oscctl_commands[] = {
	{"get", "KEY -e ENV [--full]", N_("Print an entry's value"), oscctl_cmd_get},
	{"set", "KEY [VALUE|-] -e ENV", N_("Create or update an entry"), oscctl_cmd_set},
	{"rm", "KEY -e ENV", N_("Delete an entry"), oscctl_cmd_rm},
	{"ls", "[-e ENV] [-c CATEGORY] [--full]", N_("List entries"), oscctl_cmd_ls},
	{"envs", "", N_("List the environments in use"), oscctl_cmd_envs},
	{"categories", "", N_("List the categories in use"), oscctl_cmd_categories},
	{"watch", "[--key KEY] [-e ENV] [-c CATEGORY]", N_("Print change events as they happen"),
	 oscctl_cmd_watch},
	{"backup", "--output FILE", N_("Save an encrypted backup"), oscctl_cmd_backup},
	{"restore", "FILE [--overwrite]", N_("Import a backup"), oscctl_cmd_restore},
	{"rekey", "", N_("Re-encrypt the entries with a new user key"), oscctl_cmd_rekey},
	{"stats", "", N_("Show entry counts"), oscctl_cmd_stats},
	{"cluster", "status", N_("Show the cluster's status"), oscctl_cmd_cluster},
	{"health", "", N_("Check that the server answers"), oscctl_cmd_health},
	{"login", "--url URL", N_("Store the server and keys in the keyring"), oscctl_cmd_login},
	{"logout", "[--url URL | --all]", N_("Remove stored credentials"), oscctl_cmd_logout},
};

static gchar *
oscctl_commands_help(void)
{
	GString *s = g_string_new(_("Commands:"));

	g_string_append_c(s, '\n');

	for (guint i = 0; i < G_N_ELEMENTS(oscctl_commands); i++) {
		g_autofree gchar *usage =
			g_strdup_printf("%s %s", oscctl_commands[i].name, oscctl_commands[i].args);
		g_string_append_printf(s, "  %-40s %s\n", usage, _(oscctl_commands[i].summary));
	}
	g_string_append_c(s, '\n');
	g_string_append(s, _("Run 'oscctl COMMAND --help' for a command's options.\n"
			     "Exit status: 0 success, 1 error, 2 usage, 3 not found, "
			     "4 authentication.\nSee oscctl(1)."));
	return g_string_free(s, FALSE);
}

static gint
oscctl_exit_code(const GError *error)
{
	if (error->domain == OSCCTL_ERROR && error->code == OSCCTL_ERROR_USAGE)
		return OSCCTL_EXIT_USAGE;
	if (error->domain == G_OPTION_ERROR)
		return OSCCTL_EXIT_USAGE;
	if (error->domain == OSC_CLIENT_ERROR) {
		switch (error->code) {
		case OSC_CLIENT_ERROR_NOT_FOUND:
			return OSCCTL_EXIT_NOT_FOUND;
		case OSC_CLIENT_ERROR_AUTHENTICATION:
			return OSCCTL_EXIT_AUTH;
		default:
			return OSCCTL_EXIT_ERROR;
		}
	}
	return OSCCTL_EXIT_ERROR;
}

static void
oscctl_clear(Oscctl *self)
{
	g_free(self->url);
	g_free(self->user_key_file);
	g_free(self->api_key_file);
	g_free(self->ca_file);
	oscctl_wipe(self->user_key);
	oscctl_wipe(self->api_key);
	g_clear_pointer(&self->stored, oscctl_credentials_free);
	g_clear_object(&self->client);
}

int
main(int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *description = NULL;
	g_autofree gchar *prgname = NULL;
	Oscctl self = {0};
	gboolean version = FALSE;
	const GOptionEntry entries[] = {
		{"version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"),
		 NULL},
		G_OPTION_ENTRY_NULL,
	};
	const OscctlCommand *command = NULL;
	const gchar *localedir = g_getenv("OSC_LOCALEDIR");
	gint ret;

	/* OSC_LOCALEDIR points at uninstalled catalogs (the build tree's po/, see po/README.md) */
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE,
		       localedir != NULL && localedir[0] != '\0' ? localedir : LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	description = oscctl_commands_help();
	g_set_prgname("oscctl");

	/* connection options may come before the command; stop at the command's name */
	context = g_option_context_new("COMMAND [ARGS…]");
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_set_summary(context, N_("Manage OpenSecureConf configuration entries."));
	/* already translated: dgettext() leaves a string that is not a msgid as it is */
	g_option_context_set_description(context, description);
	g_option_context_set_strict_posix(context, TRUE);
	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_add_group(context, oscctl_connection_group(&self));
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr(_("oscctl: %s\nTry 'oscctl --help'.\n"), error->message);
		oscctl_clear(&self);
		return OSCCTL_EXIT_USAGE;
	}
	if (version) {
		g_print("oscctl %s (libosc-client)\n", PACKAGE_VERSION);
		oscctl_clear(&self);
		return OSCCTL_EXIT_OK;
	}
	if (argc < 2 || g_str_equal(argv[1], "help")) {
		g_autofree gchar *help = g_option_context_get_help(context, TRUE, NULL);
		if (argc < 2) {
			g_printerr("%s", help);
			oscctl_clear(&self);
			return OSCCTL_EXIT_USAGE;
		}
		g_print("%s", help);
		oscctl_clear(&self);
		return OSCCTL_EXIT_OK;
	}
	for (guint i = 0; i < G_N_ELEMENTS(oscctl_commands); i++) {
		if (g_str_equal(argv[1], oscctl_commands[i].name))
			command = &oscctl_commands[i];
	}
	if (command == NULL) {
		g_printerr(_("oscctl: unknown command '%s'\nTry 'oscctl --help'.\n"), argv[1]);
		oscctl_clear(&self);
		return OSCCTL_EXIT_USAGE;
	}

	/* the command sees "oscctl CMD" as its name, so that its --help reads right */
	self.command = command->name;
	prgname = g_strdup_printf("oscctl %s", command->name);
	argv[1] = prgname;
	g_set_prgname(prgname);
	ret = command->func(&self, argc - 1, argv + 1, &error);
	if (ret < 0) {
		g_assert(error != NULL);
		ret = oscctl_exit_code(error);
		g_printerr("oscctl %s: %s\n", command->name, error->message);
		if (ret == OSCCTL_EXIT_USAGE)
			g_printerr(_("Try 'oscctl %s --help'.\n"), command->name);
	}
	oscctl_clear(&self);
	return ret;
}
