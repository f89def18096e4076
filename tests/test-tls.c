/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * An in-process OscService serving HTTPS (OSC_HTTPS_ENABLED and the OSC_SSL_* settings):
 * certificates made at test time with the openssl command, a SoupSession that trusts
 * exactly them, encrypted private keys, and client certificates (OSC_SSL_CA_CERTS).
 *
 * LeakSanitizer crashes after any TLS use (TOOLCHAIN.md §10); the integration suite runs
 * with detect_leaks=0.
 */

#define G_LOG_DOMAIN "OscTestTls"

#include "config.h"

#include <glib/gstdio.h>

#include "osc-service-private.h"
#include "osc-sse.h"
#include "osc-test-utils.h"

#define USER_KEY     "tls-test-user-key-0001"
#define KEY_PASSWORD "xyz"

typedef struct {
	gchar *tmpdir;
	OscConfig *config;
	OscService *service;
	gchar *base; /* https://127.0.0.1:<port> */
	guint port;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->tmpdir = osc_test_make_tmpdir();
	f->config = osc_test_config_new(f->tmpdir);
	f->config->https_enabled = TRUE;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_object(&f->service);
	g_clear_pointer(&f->config, osc_config_free);
	g_free(f->base);
	osc_test_rm_rf(f->tmpdir);
	g_free(f->tmpdir);
}

static gchar *
tmp_path(Fixture *f, const gchar *name)
{
	return g_build_filename(f->tmpdir, name, NULL);
}

/* ---- certificates, made with the openssl command in the test's directory ---- */

static void openssl_run(Fixture *f, const gchar *first, ...) G_GNUC_NULL_TERMINATED;

static void
openssl_run(Fixture *f, const gchar *first, ...)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *output = NULL;
	va_list args;

	g_ptr_array_add(argv, (gpointer) "openssl");
	va_start(args, first);
	for (const gchar *a = first; a != NULL; a = va_arg(args, const gchar *))
		g_ptr_array_add(argv, (gpointer)a);
	va_end(args);
	g_ptr_array_add(argv, NULL);

	g_subprocess_launcher_set_cwd(launcher, f->tmpdir);
	proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &output, NULL, &error);
	g_assert_no_error(error);
	if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0) {
		g_autofree gchar *cmd = g_strjoinv(" ", (gchar **)argv->pdata);
		g_error("%s failed:\n%s", cmd, output);
	}
}

/* NAME.crt + NAME.key: self-signed, RSA 2048, for 127.0.0.1; unencrypted key */
static void
make_self_signed_rsa(Fixture *f, const gchar *name)
{
	g_autofree gchar *crt = g_strconcat(name, ".crt", NULL);
	g_autofree gchar *key = g_strconcat(name, ".key", NULL);

	openssl_run(f, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
		    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
		    "subjectAltName=IP:127.0.0.1", NULL);
}

/* NAME.crt + NAME.key: self-signed, P-256, for 127.0.0.1; key encrypted with @password */
static void
make_self_signed_encrypted(Fixture *f, const gchar *name, const gchar *password)
{
	g_autofree gchar *crt = g_strconcat(name, ".crt", NULL);
	g_autofree gchar *key = g_strconcat(name, ".key", NULL);
	g_autofree gchar *pass = g_strconcat("pass:", password, NULL);

	openssl_run(f, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
		    "-aes256", "-pass", pass, "-out", key, NULL);
	openssl_run(f, "req", "-x509", "-new", "-key", key, "-passin", pass, "-out", crt, "-days",
		    "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", NULL);
}

/* NAME.crt + NAME.key: a certificate authority */
static void
make_ca(Fixture *f, const gchar *name)
{
	g_autofree gchar *crt = g_strconcat(name, ".crt", NULL);
	g_autofree gchar *key = g_strconcat(name, ".key", NULL);
	g_autofree gchar *subj = g_strconcat("/CN=OpenSecureConf test CA ", name, NULL);

	openssl_run(f, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		    "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", subj, "-addext",
		    "basicConstraints=critical,CA:TRUE", "-addext",
		    "keyUsage=critical,keyCertSign,cRLSign", NULL);
}

/* NAME.crt + NAME.key: a server (for 127.0.0.1) or client certificate issued by @ca */
static void
make_issued(Fixture *f, const gchar *name, const gchar *ca, gboolean server)
{
	static guint serial = 1000;
	g_autofree gchar *crt = g_strconcat(name, ".crt", NULL);
	g_autofree gchar *key = g_strconcat(name, ".key", NULL);
	g_autofree gchar *csr = g_strconcat(name, ".csr", NULL);
	g_autofree gchar *ext = g_strconcat(name, ".ext", NULL);
	g_autofree gchar *ext_path = tmp_path(f, ext);
	g_autofree gchar *ca_crt = g_strconcat(ca, ".crt", NULL);
	g_autofree gchar *ca_key = g_strconcat(ca, ".key", NULL);
	g_autofree gchar *subj = g_strconcat("/CN=", server ? "127.0.0.1" : name, NULL);
	g_autofree gchar *serial_text = g_strdup_printf("%u", serial++);
	g_autoptr(GError) error = NULL;
	const gchar *extensions = server ? "basicConstraints=CA:FALSE\n"
					   "keyUsage=critical,digitalSignature\n"
					   "extendedKeyUsage=serverAuth\n"
					   "subjectAltName=IP:127.0.0.1\n"
					 : "basicConstraints=CA:FALSE\n"
					   "keyUsage=critical,digitalSignature\n"
					   "extendedKeyUsage=clientAuth\n";

	g_file_set_contents(ext_path, extensions, -1, &error);
	g_assert_no_error(error);
	openssl_run(f, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		    "-nodes", "-keyout", key, "-out", csr, "-subj", subj, NULL);
	openssl_run(f, "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-set_serial",
		    serial_text, "-days", "2", "-extfile", ext, "-out", crt, NULL);
}

static void
use_certificate(Fixture *f, const gchar *name)
{
	g_autofree gchar *crt = g_strconcat(name, ".crt", NULL);
	g_autofree gchar *key = g_strconcat(name, ".key", NULL);

	g_free(f->config->ssl_certfile);
	f->config->ssl_certfile = tmp_path(f, crt);
	g_free(f->config->ssl_keyfile);
	f->config->ssl_keyfile = tmp_path(f, key);
}

static GTlsCertificate *
load_certificate(Fixture *f, const gchar *name)
{
	g_autofree gchar *crt = g_strconcat(name, ".crt", NULL);
	g_autofree gchar *key = g_strconcat(name, ".key", NULL);
	g_autofree gchar *crt_path = tmp_path(f, crt);
	g_autofree gchar *key_path = tmp_path(f, key);
	g_autoptr(GError) error = NULL;
	GTlsCertificate *cert = g_tls_certificate_new_from_files(crt_path, key_path, &error);

	g_assert_no_error(error);
	return cert;
}

/* ---- the service ---- */

/* Starts the service; FALSE (and @error) when it refuses to. */
static gboolean
service_start(Fixture *f, GError **error)
{
	g_autoptr(OscService) service = osc_service_new(f->config, error);

	if (service == NULL || !osc_service_start(service, error))
		return FALSE;
	f->service = g_steal_pointer(&service);
	f->port = osc_service_get_port(f->service);
	f->base = g_strdup_printf("https://127.0.0.1:%u", f->port);
	return TRUE;
}

static void
service_start_ok(Fixture *f)
{
	g_autoptr(GError) error = NULL;

	service_start(f, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->service);
}

/* the error with which the service refuses to start */
static GError *
service_start_error(Fixture *f)
{
	GError *error = NULL;

	g_assert_false(service_start(f, &error));
	g_assert_nonnull(error);
	g_assert_null(f->service);
	g_test_message("start-up error: %s", error->message);
	return error;
}

/* a session that trusts exactly the certificates in @trusted (a PEM file in the tmpdir) */
static SoupSession *
session_trusting(Fixture *f, const gchar *trusted)
{
	SoupSession *session = osc_test_session_new();
	g_autofree gchar *name = g_strconcat(trusted, ".crt", NULL);
	g_autofree gchar *path = tmp_path(f, name);
	g_autoptr(GError) error = NULL;
	g_autoptr(GTlsDatabase) db = g_tls_file_database_new(path, &error);

	g_assert_no_error(error);
	soup_session_set_tls_database(session, db);
	/* a failed handshake must fail fast, not hang the test */
	g_object_set(session, "timeout", 10, NULL);
	return session;
}

/* ---- requests that may fail at the TLS level ---- */

typedef struct {
	GMainLoop *loop;
	GBytes *bytes;
	GError *error;
} Wait;

static void
request_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Wait *wait = user_data;

	wait->bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &wait->error);
	g_main_loop_quit(wait->loop);
}

/*
 * Sends @method @url (with a JSON @body and an X-User-Key when given), optionally presenting
 * @client_cert, spinning the default context (where the service runs). Returns the status,
 * or 0 with @error when no HTTP answer came.
 */
static guint
request_send(SoupSession *session, const gchar *method, const gchar *url, const gchar *body,
	     const gchar *user_key, GTlsCertificate *client_cert, GTlsCertificate **peer,
	     GError **error)
{
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	Wait wait = {0};
	guint status = 0;

	/* per message: libsoup may open a new connection for any request */
	if (client_cert != NULL)
		soup_message_set_tls_client_certificate(msg, client_cert);
	if (user_key != NULL)
		soup_message_headers_append(soup_message_get_request_headers(msg), "X-User-Key",
					    user_key);
	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
	}
	wait.loop = g_main_loop_new(NULL, FALSE);
	soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, request_cb, &wait);
	g_main_loop_run(wait.loop);
	g_main_loop_unref(wait.loop);
	if (wait.bytes != NULL) {
		status = soup_message_get_status(msg);
		g_bytes_unref(wait.bytes);
	} else {
		g_propagate_error(error, wait.error);
	}
	if (peer != NULL) {
		GTlsCertificate *cert = soup_message_get_tls_peer_certificate(msg);
		*peer = cert != NULL ? g_object_ref(cert) : NULL;
	}
	return status;
}

static guint
request_get(SoupSession *session, const gchar *url, GTlsCertificate *client_cert,
	    GTlsCertificate **peer, GError **error)
{
	return request_send(session, "GET", url, NULL, NULL, client_cert, peer, error);
}

/* a request the server must refuse: a TLS or connection error, or anyway no 200 */
static void
assert_refused(SoupSession *session, const gchar *url, GTlsCertificate *client_cert)
{
	g_autoptr(GError) error = NULL;
	guint status = request_get(session, url, client_cert, NULL, &error);

	g_test_message("refused with status %u, error %s", status,
		       error != NULL ? error->message : "(none)");
	g_assert_cmpuint(status, !=, 200);
	g_assert_true(status == 0 || status >= 400);
}

static gchar *
url_for(Fixture *f, const gchar *path)
{
	return g_strconcat(f->base, path, NULL);
}

/* ---- tests ---- */

static gboolean
have_tls(void)
{
	g_autofree gchar *openssl = g_find_program_in_path("openssl");

	if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
		g_test_skip("no TLS backend (glib-networking)");
		return FALSE;
	}
	if (openssl == NULL) {
		g_test_skip("no openssl command to make certificates with");
		return FALSE;
	}
	return TRUE;
}

static void
test_https(Fixture *f, gconstpointer data)
{
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(GTlsCertificate) ours = NULL;
	g_autoptr(GTlsCertificate) peer = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *health = NULL;
	g_autofree gchar *configs = NULL;
	g_autofree gchar *entry = NULL;
	g_autoptr(OscTestResponse) created = NULL;
	g_autoptr(OscTestResponse) read = NULL;
	g_autoptr(OscTestResponse) updated = NULL;
	g_autoptr(OscTestResponse) listed = NULL;
	g_autoptr(OscTestResponse) deleted = NULL;
	g_autoptr(OscTestResponse) gone = NULL;
	g_autoptr(GPtrArray) uris = NULL;
	JsonObject *obj;

	if (!have_tls())
		return;
	make_self_signed_rsa(f, "server");
	use_certificate(f, "server");
	service_start_ok(f);

	/* the service says https */
	uris = osc_service_get_uris(f->service);
	g_assert_cmpuint(uris->len, >, 0);
	g_assert_cmpstr(g_uri_get_scheme(g_ptr_array_index(uris, 0)), ==, "https");

	session = session_trusting(f, "server");
	health = url_for(f, "/health");
	g_assert_cmpuint(request_get(session, health, NULL, &peer, &error), ==, 200);
	g_assert_no_error(error);
	/* and it is our certificate that was presented */
	ours = load_certificate(f, "server");
	g_assert_nonnull(peer);
	g_assert_true(g_tls_certificate_is_same(peer, ours));

	/* the whole CRUD cycle over TLS */
	configs = url_for(f, "/configs");
	entry = url_for(f, "/configs/database?environment=production");
	created = osc_test_http(session, "POST", configs,
				"{\"key\":\"database\",\"value\":{\"host\":\"db\"},"
				"\"environment\":\"production\",\"category\":\"config\"}",
				"X-User-Key", USER_KEY, NULL);
	g_assert_cmpuint(created->status, ==, 201);
	read = osc_test_http(session, "GET", entry, NULL, "X-User-Key", USER_KEY, NULL);
	g_assert_cmpuint(read->status, ==, 200);
	obj = json_node_get_object(read->json);
	g_assert_cmpstr(
		json_object_get_string_member(json_object_get_object_member(obj, "value"), "host"),
		==, "db");
	updated = osc_test_http(session, "PUT", entry, "{\"value\":\"db2\"}", "X-User-Key",
				USER_KEY, NULL);
	g_assert_cmpuint(updated->status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(updated->json), "value"),
			==, "db2");
	listed = osc_test_http(session, "GET", configs, NULL, "X-User-Key", USER_KEY, NULL);
	g_assert_cmpuint(listed->status, ==, 200);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(listed->json)), ==, 1);
	deleted = osc_test_http(session, "DELETE", entry, NULL, "X-User-Key", USER_KEY, NULL);
	g_assert_cmpuint(deleted->status, ==, 200);
	gone = osc_test_http(session, "GET", entry, NULL, "X-User-Key", USER_KEY, NULL);
	g_assert_cmpuint(gone->status, ==, 404);
}

static void
test_plain_http_refused(Fixture *f, gconstpointer data)
{
	g_autoptr(SoupSession) session = osc_test_session_new();
	g_autofree gchar *url = NULL;

	if (!have_tls())
		return;
	make_self_signed_rsa(f, "server");
	use_certificate(f, "server");
	service_start_ok(f);

	g_object_set(session, "timeout", 10, NULL);
	url = g_strdup_printf("http://127.0.0.1:%u/health", f->port);
	assert_refused(session, url, NULL);
}

static void
test_untrusted_client_side(Fixture *f, gconstpointer data)
{
	/* the system trust store knows nothing of our self-signed certificate: the checks on
	 * the client side are real, so the successes above mean something */
	g_autoptr(SoupSession) session = osc_test_session_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *url = NULL;

	if (!have_tls())
		return;
	make_self_signed_rsa(f, "server");
	use_certificate(f, "server");
	service_start_ok(f);

	g_object_set(session, "timeout", 10, NULL);
	url = url_for(f, "/health");
	g_assert_cmpuint(request_get(session, url, NULL, NULL, &error), ==, 0);
	g_assert_error(error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
}

static void
test_encrypted_key(Fixture *f, gconstpointer data)
{
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(GTlsCertificate) ours = NULL;
	g_autoptr(GTlsCertificate) peer = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *key_text = NULL;

	if (!have_tls())
		return;
	make_self_signed_encrypted(f, "server", KEY_PASSWORD);
	use_certificate(f, "server");
	g_file_get_contents(f->config->ssl_keyfile, &key_text, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(key_text, "ENCRYPTED PRIVATE KEY"));
	f->config->ssl_keyfile_password = g_strdup(KEY_PASSWORD);
	service_start_ok(f);

	session = session_trusting(f, "server");
	url = url_for(f, "/health");
	g_assert_cmpuint(request_get(session, url, NULL, &peer, &error), ==, 200);
	g_assert_no_error(error);
	g_assert_nonnull(peer);
	/* the public half, as the file holds it */
	{
		g_autofree gchar *crt = tmp_path(f, "server.crt");
		ours = g_tls_certificate_new_from_file(crt, &error);
		g_assert_no_error(error);
	}
	g_assert_true(g_tls_certificate_is_same(peer, ours));
}

static void
test_encrypted_key_wrong_password(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	if (!have_tls())
		return;
	make_self_signed_encrypted(f, "server", KEY_PASSWORD);
	use_certificate(f, "server");
	f->config->ssl_keyfile_password = g_strdup("not-" KEY_PASSWORD);
	error = service_start_error(f);
	g_assert_true(strstr(error->message, "OSC_SSL_KEYFILE_PASSWORD") != NULL ||
		      strstr(error->message, "decrypt") != NULL);
	/* and the password itself is not repeated */
	g_assert_null(strstr(error->message, "not-" KEY_PASSWORD));
}

static void
test_encrypted_key_no_password(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	if (!have_tls())
		return;
	make_self_signed_encrypted(f, "server", KEY_PASSWORD);
	use_certificate(f, "server");
	error = service_start_error(f);
	g_assert_true(strstr(error->message, "OSC_SSL_KEYFILE_PASSWORD") != NULL ||
		      strstr(error->message, "decrypt") != NULL);
}

static void
test_missing_certificate(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	if (!have_tls())
		return;
	make_self_signed_rsa(f, "server");
	use_certificate(f, "server");
	g_free(f->config->ssl_certfile);
	f->config->ssl_certfile = tmp_path(f, "no-such-cert.pem");
	error = service_start_error(f);
	/* names the file, so the operator knows what to fix */
	g_assert_nonnull(strstr(error->message, "no-such-cert.pem"));

	/* the same with a password-protected key, which takes another path */
	g_clear_error(&error);
	make_self_signed_encrypted(f, "enc", KEY_PASSWORD);
	use_certificate(f, "enc");
	g_free(f->config->ssl_certfile);
	f->config->ssl_certfile = tmp_path(f, "no-such-cert.pem");
	f->config->ssl_keyfile_password = g_strdup(KEY_PASSWORD);
	error = service_start_error(f);
	g_assert_nonnull(strstr(error->message, "no-such-cert.pem"));
}

static void
test_missing_key(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	if (!have_tls())
		return;
	make_self_signed_rsa(f, "server");
	use_certificate(f, "server");
	g_free(f->config->ssl_keyfile);
	f->config->ssl_keyfile = tmp_path(f, "no-such-key.pem");
	error = service_start_error(f);
	g_assert_nonnull(strstr(error->message, "no-such-key.pem"));
}

/* ---- client certificates (OSC_SSL_CA_CERTS) ---- */

/* ca: the clients' CA (also issues the server certificate); other: an unrelated one */
static void
setup_client_auth(Fixture *f)
{
	g_autofree gchar *ca_path = tmp_path(f, "ca.crt");

	make_ca(f, "ca");
	make_ca(f, "other");
	make_issued(f, "server", "ca", TRUE);
	make_issued(f, "client", "ca", FALSE);
	make_issued(f, "stranger", "other", FALSE);
	use_certificate(f, "server");
	f->config->ssl_ca_certs = g_strdup(ca_path);
	service_start_ok(f);
}

static void
test_client_cert_accepted(Fixture *f, gconstpointer data)
{
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(GTlsCertificate) client = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *configs = NULL;
	guint status;

	if (!have_tls())
		return;
	setup_client_auth(f);
	session = session_trusting(f, "ca");
	client = load_certificate(f, "client");
	url = url_for(f, "/health");
	status = request_get(session, url, client, NULL, &error);
	if (status != 200) {
		/* fails this test only, so that the rejection tests still run */
		g_test_fail_printf("a client certificate issued by OSC_SSL_CA_CERTS was refused: "
				   "status %u, %s",
				   status, error != NULL ? error->message : "no error");
		return;
	}

	/* and real work */
	configs = url_for(f, "/configs");
	g_assert_cmpuint(request_send(session, "POST", configs,
				      "{\"key\":\"k\",\"value\":1,\"environment\":\"e\"}", USER_KEY,
				      client, NULL, &error),
			 ==, 201);
	g_assert_no_error(error);
}

static void
test_client_cert_missing(Fixture *f, gconstpointer data)
{
	g_autoptr(SoupSession) session = NULL;
	g_autofree gchar *url = NULL;

	if (!have_tls())
		return;
	setup_client_auth(f);
	session = session_trusting(f, "ca");
	url = url_for(f, "/health");
	assert_refused(session, url, NULL);
}

static void
test_client_cert_other_ca(Fixture *f, gconstpointer data)
{
	g_autoptr(SoupSession) session = NULL;
	g_autoptr(GTlsCertificate) stranger = NULL;
	g_autofree gchar *url = NULL;

	if (!have_tls())
		return;
	setup_client_auth(f);
	session = session_trusting(f, "ca");
	stranger = load_certificate(f, "stranger");
	url = url_for(f, "/health");
	assert_refused(session, url, stranger);
}

static void
test_client_ca_missing(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	if (!have_tls())
		return;
	make_self_signed_rsa(f, "server");
	use_certificate(f, "server");
	f->config->ssl_ca_certs = tmp_path(f, "no-such-ca.pem");
	error = service_start_error(f);
	g_assert_nonnull(strstr(error->message, "OSC_SSL_CA_CERTS"));
}

/* ---- an event stream over TLS ---- */

typedef struct {
	SoupMessage *msg;
	GInputStream *stream;
	GCancellable *cancel;
	GString *buf;
	GError *error;
	gboolean opened;
	gboolean reading;
	gboolean closed;
	gboolean paused;
	guint8 chunk[16384];
} TlsSse;

static void
tls_sse_read_more(TlsSse *c);

static void
tls_sse_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	TlsSse *c = user_data;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &c->error);

	c->reading = FALSE;
	if (n <= 0) {
		c->closed = TRUE;
		return;
	}
	g_string_append_len(c->buf, (const gchar *)c->chunk, n);
	tls_sse_read_more(c);
}

static void
tls_sse_read_more(TlsSse *c)
{
	if (c->closed || c->paused || c->reading)
		return;
	c->reading = TRUE;
	g_input_stream_read_async(c->stream, c->chunk, sizeof(c->chunk), G_PRIORITY_DEFAULT,
				  c->cancel, tls_sse_read_cb, c);
}

static void
tls_sse_open_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	TlsSse *c = user_data;

	c->stream = soup_session_send_finish(SOUP_SESSION(source), result, &c->error);
	g_assert_no_error(c->error);
	c->opened = TRUE;
	tls_sse_read_more(c);
}

static gboolean
tls_sse_opened(gpointer data)
{
	return ((TlsSse *)data)->opened;
}

static TlsSse *
tls_sse_open(SoupSession *session, const gchar *url, const gchar *user_key)
{
	TlsSse *c = g_new0(TlsSse, 1);

	c->msg = soup_message_new("GET", url);
	if (user_key != NULL)
		soup_message_headers_append(soup_message_get_request_headers(c->msg), "X-User-Key",
					    user_key);
	c->buf = g_string_new(NULL);
	c->cancel = g_cancellable_new();
	soup_session_send_async(session, c->msg, G_PRIORITY_DEFAULT, c->cancel, tls_sse_open_cb,
				c);
	osc_test_wait_until(tls_sse_opened, c, 10000);
	g_assert_cmpuint(soup_message_get_status(c->msg), ==, 200);
	return c;
}

/* hangs up: cancelled, libsoup closes the connection instead of reading on to reuse it */
static void
tls_sse_free(TlsSse *c)
{
	g_cancellable_cancel(c->cancel);
	while (c->reading)
		g_main_context_iteration(NULL, TRUE);
	g_clear_object(&c->stream);
	g_clear_object(&c->cancel);
	g_clear_object(&c->msg);
	g_clear_error(&c->error);
	g_string_free(c->buf, TRUE);
	g_free(c);
}

/* the number of complete frames (events and comments) received */
static guint
tls_sse_frames(TlsSse *c)
{
	guint n = 0;
	for (const gchar *p = c->buf->str; (p = strstr(p, "\r\n\r\n")) != NULL; p += 4)
		n++;
	return n;
}

typedef struct {
	TlsSse *c;
	const gchar *needle;
} TlsSseWait;

static gboolean
tls_sse_has(gpointer data)
{
	TlsSseWait *w = data;
	return strstr(w->c->buf->str, w->needle) != NULL;
}

static void
tls_sse_wait_for(TlsSse *c, const gchar *needle)
{
	TlsSseWait w = {c, needle};
	osc_test_wait_until(tls_sse_has, &w, 20000);
}

/* a whole reset frame arrived */
static gboolean
tls_sse_has_reset(gpointer data)
{
	TlsSse *c = data;
	const gchar *reset = strstr(c->buf->str, "event: reset\r\n");
	return reset != NULL && strstr(reset, "\r\n\r\n") != NULL;
}

static gboolean
tls_sse_closed(gpointer data)
{
	return ((TlsSse *)data)->closed;
}

typedef struct {
	OscSseHub *hub;
	guint n;
} ActiveWait;

static gboolean
active_is(gpointer data)
{
	ActiveWait *w = data;
	return osc_sse_hub_get_active(w->hub) == w->n;
}

static void
stop_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(osc_service_stop_finish(OSC_SERVICE(source), result, &error));
	*(gboolean *)user_data = TRUE;
}

static gboolean
is_true(gpointer data)
{
	return *(gboolean *)data;
}

/*
 * The hub writes the stream itself on the connection libsoup hands over: over TLS too,
 * with non-blocking writes that may stop half-way through a record (a slow reader), and
 * a clean end at shutdown.
 */
static void
test_sse(Fixture *f, gconstpointer data)
{
	g_autoptr(SoupSession) session = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *configs = NULL;
	g_autoptr(GString) big = g_string_new(NULL);
	TlsSse *live, *slow, *leaving;
	ActiveWait active = {NULL, 0};
	gboolean stopped = FALSE;
	guint frames;

	if (!have_tls())
		return;
	make_self_signed_rsa(f, "server");
	use_certificate(f, "server");
	f->config->sse_queue_size = 4;
	f->config->sse_keepalive_interval = 1;
	service_start_ok(f);
	active.hub = osc_service_get_sse_hub(f->service);
	session = session_trusting(f, "server");
	url = url_for(f, "/sse/subscribe");
	configs = url_for(f, "/configs");

	live = tls_sse_open(session, url, USER_KEY);
	slow = tls_sse_open(session, url, USER_KEY);
	leaving = tls_sse_open(session, url, NULL);
	tls_sse_wait_for(live, "event: connected\r\nid: ");
	tls_sse_wait_for(slow, "event: connected\r\nid: ");
	tls_sse_wait_for(leaving, "event: connected\r\nid: ");

	/* a hang-up over TLS is noticed */
	tls_sse_free(leaving);
	active.n = 2;
	osc_test_wait_until(active_is, &active, 10000);

	/* big values: the slow reader's socket fills, frames wait and then drop */
	slow->paused = TRUE;
	for (guint i = 0; i < 256 * 1024; i++)
		g_string_append_c(big, 'v');
	for (guint i = 0; i < 24; i++) {
		g_autofree gchar *body = g_strdup_printf(
		    "{\"key\":\"big%u\",\"value\":\"%s\",\"environment\":\"e\"}", i, big->str);
		g_autoptr(OscTestResponse) resp =
		    osc_test_http(session, "POST", configs, body, "X-User-Key", USER_KEY, NULL);
		g_assert_cmpuint(resp->status, ==, 201);
	}
	/* the reader that keeps up gets every event, values included, intact */
	tls_sse_wait_for(live, "\"key\":\"big23\"");
	g_assert_cmpuint(tls_sse_frames(live), >=, 25);
	g_assert_nonnull(strstr(live->buf->str, big->str));

	/* the slow one, once it reads again, gets what fitted in its queue, then a reset */
	slow->paused = FALSE;
	tls_sse_read_more(slow);
	g_assert_null(strstr(slow->buf->str, "\"key\":\"big23\""));
	/* frames are never cut: every one up to the reset is whole (events with one data
	 * line of valid JSON, or keep-alive comments), and fewer events than were created */
	{
		const gchar *reset;
		g_autofree gchar *upto = NULL;
		g_auto(GStrv) parts = NULL;
		guint events = 0;

		osc_test_wait_until(tls_sse_has_reset, slow, 20000);
		reset = strstr(slow->buf->str, "event: reset\r\n");
		g_assert_nonnull(strstr(reset, "\"reason\":\"overflow\""));
		upto = g_strndup(slow->buf->str, (gsize)(strstr(reset, "\r\n\r\n") - slow->buf->str));
		parts = g_strsplit(upto, "\r\n\r\n", -1);
		for (guint i = 0; parts[i] != NULL; i++) {
			g_auto(GStrv) lines = g_strsplit(parts[i], "\r\n", -1);
			g_autoptr(JsonParser) parser = json_parser_new();

			if (g_str_has_prefix(parts[i], ": keep-alive ")) {
				g_assert_cmpuint(g_strv_length(lines), ==, 1);
				continue;
			}
			g_assert_cmpuint(g_strv_length(lines), ==, 3);
			g_assert_true(g_str_has_prefix(lines[0], "event: "));
			g_assert_true(g_str_has_prefix(lines[1], "id: "));
			g_assert_true(g_str_has_prefix(lines[2], "data: "));
			g_assert_true(json_parser_load_from_data(parser, lines[2] + 6, -1, NULL));
			events++;
		}
		frames = events;
	}
	/* connected, what fitted in the queue and the socket, and the reset */
	g_assert_cmpuint(frames, <, 1 + 24 + 1);

	/* shutdown ends both streams at their proper end, over TLS */
	osc_service_stop_async(f->service, 2000, NULL, stop_cb, &stopped);
	osc_test_wait_until(is_true, &stopped, 10000);
	osc_test_wait_until(tls_sse_closed, live, 10000);
	osc_test_wait_until(tls_sse_closed, slow, 10000);
	g_assert_no_error(live->error);
	g_assert_no_error(slow->error);
	tls_sse_free(live);
	tls_sse_free(slow);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/osc/tls/https", test_https);
	ADD("/osc/tls/sse", test_sse);
	ADD("/osc/tls/plain-http-refused", test_plain_http_refused);
	ADD("/osc/tls/untrusted-client-side", test_untrusted_client_side);
	ADD("/osc/tls/encrypted-key", test_encrypted_key);
	ADD("/osc/tls/encrypted-key-wrong-password", test_encrypted_key_wrong_password);
	ADD("/osc/tls/encrypted-key-no-password", test_encrypted_key_no_password);
	ADD("/osc/tls/missing-certificate", test_missing_certificate);
	ADD("/osc/tls/missing-key", test_missing_key);
	ADD("/osc/tls/client-cert/accepted", test_client_cert_accepted);
	ADD("/osc/tls/client-cert/missing", test_client_cert_missing);
	ADD("/osc/tls/client-cert/other-ca", test_client_cert_other_ca);
	ADD("/osc/tls/client-cert/ca-file-missing", test_client_ca_missing);
#undef ADD

	return g_test_run();
}
