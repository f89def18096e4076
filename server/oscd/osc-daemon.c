/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscDaemon"

#include "config.h"

#include "osc-daemon.h"

#include <gio/gunixfdlist.h>
#include <gio/gunixsocketaddress.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <unistd.h>

#include "osc-error.h"
#include "osc-log.h"
#include "osc-service-private.h"
#include "osc-sse.h"

/* the most a user key read from Backup()'s descriptor may be */
#define OSC_DAEMON_USER_KEY_MAX 4096
/* how long Backup() waits for the descriptor to deliver the key */
#define OSC_DAEMON_USER_KEY_TIMEOUT_MS 5000

/**
 * OscDaemon:
 *
 * oscd's org.opensecureconf.Server1 object: the generated skeleton, filled from an
 * #OscService. Properties follow the service's signals (no polling); methods that touch
 * the database run on the service's worker threads and complete from there; Reload()
 * and Backup() are authorized in g_authorize_method (which GDBus runs in a thread of its
 * own, where asking the bus for the caller's uid may block).
 */
struct _OscDaemon {
	OscDBusServer1Skeleton parent_instance;

	OscService *service;
	gchar *config_path;
	gint64 started_at; /* monotonic, µs */
	gboolean stopping;
	guint32 own_uid;
};

static void osc_daemon_iface_init(OscDBusServer1Iface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(OscDaemon, osc_daemon, OSC_DBUS_TYPE_SERVER1_SKELETON,
			      G_IMPLEMENT_INTERFACE(OSC_DBUS_TYPE_SERVER1, osc_daemon_iface_init))

/**
 * osc_daemon_uid_is_privileged:
 * @caller_uid: who calls
 * @own_uid: the user oscd runs as
 *
 * The rule for Reload() and Backup(): root or oscd's own user.
 */
gboolean
osc_daemon_uid_is_privileged(guint32 caller_uid, guint32 own_uid)
{
	return caller_uid == 0 || caller_uid == own_uid;
}

/**
 * osc_daemon_sd_notify:
 * @state: newline-separated assignments, e.g. "READY=1\nSTATUS=Serving"
 *
 * The sd_notify(3) protocol: one datagram to $NOTIFY_SOCKET, a path or, starting with
 * '@', an abstract socket name. Without $NOTIFY_SOCKET (not started by systemd with
 * Type=notify) there is nobody to tell and this succeeds.
 */
gboolean
osc_daemon_sd_notify(const gchar *state, GError **error)
{
	const gchar *path = g_getenv("NOTIFY_SOCKET");
	g_autoptr(GSocket) sock = NULL;
	g_autoptr(GSocketAddress) addr = NULL;
	gssize sent;

	g_return_val_if_fail(state != NULL, FALSE);

	if (path == NULL || path[0] == '\0')
		return TRUE;
	if (path[0] == '@' && path[1] != '\0') {
		addr = g_unix_socket_address_new_with_type(path + 1, -1,
							   G_UNIX_SOCKET_ADDRESS_ABSTRACT);
	} else if (path[0] == '/') {
		addr = g_unix_socket_address_new(path);
	} else {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "NOTIFY_SOCKET=%s: not a socket path or abstract name", path);
		return FALSE;
	}
	sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_DEFAULT,
			    error);
	if (sock == NULL)
		return FALSE;
	sent = g_socket_send_to(sock, addr, state, strlen(state), NULL, error);
	if (sent < 0) {
		g_prefix_error(error, "NOTIFY_SOCKET=%s: ", path);
		return FALSE;
	}
	return TRUE;
}

/* ---- authorization (a GDBus thread: blocking is allowed here) ---- */

static gboolean
osc_daemon_method_is_privileged(const gchar *method)
{
	return g_strcmp0(method, "Reload") == 0 || g_strcmp0(method, "Backup") == 0;
}

static gboolean
osc_daemon_authorize_method(GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation)
{
	OscDaemon *self = OSC_DAEMON(skeleton);
	GDBusConnection *connection = g_dbus_method_invocation_get_connection(invocation);
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	const gchar *method = g_dbus_method_invocation_get_method_name(invocation);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	guint32 uid = G_MAXUINT32;

	if (!osc_daemon_method_is_privileged(method))
		return TRUE;
	if (sender == NULL) {
		/* a peer-to-peer connection: no bus to ask; we never export on one */
		g_dbus_method_invocation_return_error(invocation, OSC_ERROR, OSC_ERROR_FORBIDDEN,
						      "%s needs a bus connection", method);
		return FALSE;
	}
	reply = g_dbus_connection_call_sync(
		connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		"GetConnectionUnixUser", g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
		G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	if (reply == NULL) {
		g_dbus_method_invocation_return_error(invocation, OSC_ERROR, OSC_ERROR_FORBIDDEN,
						      "%s: cannot tell who calls: %s", method,
						      error->message);
		return FALSE;
	}
	g_variant_get(reply, "(u)", &uid);
	if (!osc_daemon_uid_is_privileged(uid, self->own_uid)) {
		g_message("D-Bus %s refused for uid %u (%s)", method, uid, sender);
		g_dbus_method_invocation_return_error(invocation, OSC_ERROR, OSC_ERROR_FORBIDDEN,
						      "%s is only allowed to root and to the user "
						      "oscd runs as",
						      method);
		return FALSE;
	}
	return TRUE;
}

/* ---- helpers ---- */

/* D-Bus clients get OscError names (registered); anything else becomes Failed */
static void
osc_daemon_return_error(GDBusMethodInvocation *invocation, const GError *error)
{
	if (error->domain == OSC_ERROR) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_error_literal(invocation, OSC_ERROR, OSC_ERROR_FAILED,
						      error->message);
}

static gboolean
osc_daemon_refuse_when_stopping(OscDaemon *self, GDBusMethodInvocation *invocation)
{
	if (!self->stopping)
		return FALSE;
	g_dbus_method_invocation_return_error_literal(invocation, OSC_ERROR, OSC_ERROR_UNAVAILABLE,
						      "oscd is shutting down");
	return TRUE;
}

typedef struct {
	OscDaemon *self;
	GDBusMethodInvocation *invocation;
	/* Backup() only */
	gchar *path;
	gchar *password;
	gint fd;
	guint min_user_key_length; /* read on the main thread, which Reload() changes it on */
} OscDaemonJob;

/* takes the handler's reference on @invocation: completing the call gives it up */
static OscDaemonJob *
osc_daemon_job_new(OscDaemon *self, GDBusMethodInvocation *invocation)
{
	OscDaemonJob *job = g_new0(OscDaemonJob, 1);

	job->self = g_object_ref(self);
	job->invocation = invocation;
	job->fd = -1;
	return job;
}

static void
osc_daemon_job_free(OscDaemonJob *job)
{
	if (job->password != NULL) {
		OPENSSL_cleanse(job->password, strlen(job->password));
		g_free(job->password);
	}
	if (job->fd >= 0)
		close(job->fd);
	g_free(job->path);
	/* completing a call takes the invocation's reference; an uncompleted one is a bug */
	g_warn_if_fail(job->invocation == NULL);
	g_object_unref(job->self);
	g_free(job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OscDaemonJob, osc_daemon_job_free)

/* ---- methods ---- */

static gboolean
osc_daemon_handle_get_status(OscDBusServer1 *object, GDBusMethodInvocation *invocation)
{
	OscDaemon *self = OSC_DAEMON(object);
	const OscConfig *config = osc_service_get_config(self->service);
	g_autoptr(GPtrArray) uris = osc_service_get_uris(self->service);
	g_autoptr(GVariantBuilder) b = g_variant_builder_new(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariantBuilder) urls = g_variant_builder_new(G_VARIANT_TYPE_STRING_ARRAY);
	guint64 uptime = (guint64)(g_get_monotonic_time() - self->started_at) / G_USEC_PER_SEC;

	for (guint i = 0; i < uris->len; i++) {
		g_autofree gchar *uri = g_uri_to_string(g_ptr_array_index(uris, i));
		g_variant_builder_add(urls, "s", uri);
	}
	g_variant_builder_add(b, "{sv}", "status",
			      g_variant_new_string(self->stopping ? "stopping" : "healthy"));
	g_variant_builder_add(b, "{sv}", "version", g_variant_new_string(PACKAGE_VERSION));
	g_variant_builder_add(b, "{sv}", "api_version", g_variant_new_string(OSC_COMPAT_VERSION));
	g_variant_builder_add(b, "{sv}", "node_id",
			      g_variant_new_string(osc_service_get_node_id(self->service)));
	g_variant_builder_add(b, "{sv}", "listen_urls", g_variant_builder_end(urls));
	g_variant_builder_add(b, "{sv}", "uptime_seconds", g_variant_new_uint64(uptime));
	g_variant_builder_add(b, "{sv}", "entries",
			      g_variant_new_int64(osc_service_get_entry_count(self->service)));
	g_variant_builder_add(b, "{sv}", "cluster_enabled",
			      g_variant_new_boolean(config->cluster_enabled));
	g_variant_builder_add(b, "{sv}", "healthy_nodes",
			      g_variant_new_uint32(osc_dbus_server1_get_healthy_nodes(object)));
	g_variant_builder_add(b, "{sv}", "total_nodes",
			      g_variant_new_uint32(osc_dbus_server1_get_total_nodes(object)));
	g_variant_builder_add(b, "{sv}", "active_subscriptions",
			      g_variant_new_uint32(osc_sse_hub_get_active(
				      osc_service_get_sse_hub(self->service))));
	g_variant_builder_add(b, "{sv}", "api_key_required",
			      g_variant_new_boolean(config->api_key_required));
	g_variant_builder_add(b, "{sv}", "https_enabled",
			      g_variant_new_boolean(config->https_enabled));
	osc_dbus_server1_complete_get_status(object, invocation, g_variant_builder_end(b));
	return TRUE;
}

static void
osc_daemon_list_job(gpointer data, gpointer user_data)
{
	g_autoptr(OscDaemonJob) job = data;
	OscStore *store = osc_service_get_store(job->self->service);
	OscDBusServer1 *object = OSC_DBUS_SERVER1(job->self);
	const gchar *method = g_dbus_method_invocation_get_method_name(job->invocation);
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GError) error = NULL;

	if (g_str_equal(method, "ListEnvironments"))
		names = osc_store_list_environments(store, &error);
	else
		names = osc_store_list_categories(store, &error);
	if (names == NULL) {
		osc_daemon_return_error(g_steal_pointer(&job->invocation), error);
		return;
	}
	g_ptr_array_add(names, NULL);
	if (g_str_equal(method, "ListEnvironments"))
		osc_dbus_server1_complete_list_environments(object,
							    g_steal_pointer(&job->invocation),
							    (const gchar *const *)names->pdata);
	else
		osc_dbus_server1_complete_list_categories(object, g_steal_pointer(&job->invocation),
							  (const gchar *const *)names->pdata);
}

static gboolean
osc_daemon_handle_list(OscDBusServer1 *object, GDBusMethodInvocation *invocation)
{
	OscDaemon *self = OSC_DAEMON(object);

	if (osc_daemon_refuse_when_stopping(self, invocation))
		return TRUE;
	osc_service_push_job(self->service, osc_daemon_list_job,
			     osc_daemon_job_new(self, invocation));
	return TRUE;
}

/* GET /stats's groups as a{sx}: empty names counted under @empty_name, first-seen order */
static GVariant *
osc_daemon_counts_variant(GPtrArray *counts, const gchar *empty_name, guint *n_groups)
{
	g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(GArray) totals = g_array_new(FALSE, TRUE, sizeof(gint64));
	g_autoptr(GVariantBuilder) b = g_variant_builder_new(G_VARIANT_TYPE("a{sx}"));

	for (guint i = 0; i < counts->len; i++) {
		OscStoreCount *c = g_ptr_array_index(counts, i);
		const gchar *name = (c->name == NULL || c->name[0] == '\0') ? empty_name : c->name;
		gpointer at = NULL;

		if (!g_hash_table_lookup_extended(index, name, NULL, &at)) {
			gint64 zero = 0;
			at = GUINT_TO_POINTER(names->len);
			g_hash_table_insert(index, (gpointer)name, at);
			g_ptr_array_add(names, (gpointer)name);
			g_array_append_val(totals, zero);
		}
		g_array_index(totals, gint64, GPOINTER_TO_UINT(at)) += c->count;
	}
	for (guint i = 0; i < names->len; i++)
		g_variant_builder_add(b, "{sx}", (const gchar *)g_ptr_array_index(names, i),
				      g_array_index(totals, gint64, i));
	*n_groups = names->len;
	return g_variant_builder_end(b);
}

static void
osc_daemon_stats_job(gpointer data, gpointer user_data)
{
	g_autoptr(OscDaemonJob) job = data;
	OscStore *store = osc_service_get_store(job->self->service);
	g_autoptr(GPtrArray) by_cat = NULL;
	g_autoptr(GPtrArray) by_env = NULL;
	g_autoptr(GVariantBuilder) b = g_variant_builder_new(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GError) error = NULL;
	GVariant *cats, *envs;
	guint n_cats = 0, n_envs = 0;
	gint64 total = 0;

	by_cat = osc_store_count_by(store, "category", &error);
	if (by_cat != NULL)
		by_env = osc_store_count_by(store, "environment", &error);
	if (by_env == NULL) {
		g_prefix_error(&error, "Internal error retrieving statistics: ");
		osc_daemon_return_error(g_steal_pointer(&job->invocation), error);
		return;
	}
	for (guint i = 0; i < by_cat->len; i++)
		total += ((OscStoreCount *)g_ptr_array_index(by_cat, i))->count;
	cats = osc_daemon_counts_variant(by_cat, "uncategorized", &n_cats);
	envs = osc_daemon_counts_variant(by_env, "unspecified", &n_envs);
	g_variant_builder_add(b, "{sv}", "total_keys", g_variant_new_int64(total));
	g_variant_builder_add(b, "{sv}", "total_categories", g_variant_new_uint32(n_cats));
	g_variant_builder_add(b, "{sv}", "total_environments", g_variant_new_uint32(n_envs));
	g_variant_builder_add(b, "{sv}", "keys_by_category", cats);
	g_variant_builder_add(b, "{sv}", "keys_by_environment", envs);
	osc_dbus_server1_complete_stats(OSC_DBUS_SERVER1(job->self),
					g_steal_pointer(&job->invocation),
					g_variant_builder_end(b));
}

static gboolean
osc_daemon_handle_stats(OscDBusServer1 *object, GDBusMethodInvocation *invocation)
{
	OscDaemon *self = OSC_DAEMON(object);

	if (osc_daemon_refuse_when_stopping(self, invocation))
		return TRUE;
	osc_service_push_job(self->service, osc_daemon_stats_job,
			     osc_daemon_job_new(self, invocation));
	return TRUE;
}

/* main thread: the configuration is read again the way main() read it at start-up */
static gboolean
osc_daemon_handle_reload(OscDBusServer1 *object, GDBusMethodInvocation *invocation)
{
	OscDaemon *self = OSC_DAEMON(object);
	g_autoptr(OscConfig) next = osc_config_new();
	g_auto(GStrv) applied = NULL;
	g_auto(GStrv) restart_needed = NULL;
	g_autoptr(GError) error = NULL;

	if (osc_daemon_refuse_when_stopping(self, invocation))
		return TRUE;
	if ((self->config_path != NULL &&
	     !osc_config_load_keyfile(next, self->config_path, &error)) ||
	    !osc_config_load_environ(next, NULL, &error) ||
	    !osc_service_reload(self->service, next, &applied, &restart_needed, &error)) {
		g_warning("configuration reload refused: %s", error->message);
		osc_daemon_return_error(invocation, error);
		return TRUE;
	}
	if (g_strv_contains((const gchar *const *)applied, "log_level"))
		osc_log_set_level(next->log_level);
	if (applied[0] != NULL) {
		g_autofree gchar *text = g_strjoinv(", ", applied);
		g_message("configuration reloaded: %s", text);
	}
	if (restart_needed[0] != NULL) {
		g_autofree gchar *text = g_strjoinv(", ", restart_needed);
		g_message("configuration reloaded; changed but only applied after a restart: %s",
			  text);
	}
	osc_dbus_server1_complete_reload(object, invocation, (const gchar *const *)applied,
					 (const gchar *const *)restart_needed);
	return TRUE;
}

/* reads the user key from Backup()'s descriptor: up to the limit, until end of file */
static gchar *
osc_daemon_read_user_key(gint fd, gsize *len_out, GError **error)
{
	g_autofree gchar *buf = g_malloc0(OSC_DAEMON_USER_KEY_MAX + 1);
	gsize len = 0;
	gint64 deadline = g_get_monotonic_time() + OSC_DAEMON_USER_KEY_TIMEOUT_MS * 1000;

	for (;;) {
		GPollFD pfd = {fd, G_IO_IN | G_IO_HUP | G_IO_ERR, 0};
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		gssize n;

		if (left <= 0 || g_poll(&pfd, 1, (gint)left) == 0) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "the user key descriptor delivered no end of file within %u ms",
				    OSC_DAEMON_USER_KEY_TIMEOUT_MS);
			goto fail;
		}
		n = read(fd, buf + len, OSC_DAEMON_USER_KEY_MAX + 1 - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			int errsv = errno;
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "cannot read the user key descriptor: %s", g_strerror(errsv));
			goto fail;
		}
		if (n == 0)
			break;
		len += (gsize)n;
		if (len > OSC_DAEMON_USER_KEY_MAX) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "the user key is longer than %u bytes",
				    OSC_DAEMON_USER_KEY_MAX);
			goto fail;
		}
	}
	/* `echo KEY |` and files written by editors end with one */
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (memchr(buf, '\0', len) != NULL || !g_utf8_validate(buf, (gssize)len, NULL)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "the user key is not UTF-8 text");
		goto fail;
	}
	*len_out = len;
	return g_steal_pointer(&buf);
fail:
	OPENSSL_cleanse(buf, OSC_DAEMON_USER_KEY_MAX + 1);
	return NULL;
}

static gboolean
osc_daemon_backup_run(OscDaemonJob *job, guint *total, gchar **backup_id, GError **error)
{
	OscService *service = job->self->service;
	g_autoptr(OscDerivedKey) dk = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *user_key = NULL;
	gsize user_key_len = 0;
	JsonObject *obj;
	const gchar *data;

	user_key = osc_daemon_read_user_key(job->fd, &user_key_len, error);
	if (user_key == NULL)
		return FALSE;
	close(job->fd);
	job->fd = -1;
	if (g_utf8_strlen(user_key, (gssize)user_key_len) < job->min_user_key_length) {
		OPENSSL_cleanse(user_key, user_key_len);
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "the user key must be at least %u characters long",
			    job->min_user_key_length);
		return FALSE;
	}
	dk = osc_key_cache_derive(osc_service_get_key_cache(service), user_key, user_key_len, NULL,
				  error);
	OPENSSL_cleanse(user_key, user_key_len);
	if (dk == NULL)
		return FALSE;
	node = osc_service_backup(service, dk, job->password, strlen(job->password), NULL, NULL,
				  error);
	if (node == NULL)
		return FALSE;
	obj = json_node_get_object(node);
	data = json_object_get_string_member(obj, "backup_data");
	/* the file holds only what the password protects; still nobody else's business */
	if (!g_file_set_contents_full(job->path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
				      error)) {
		g_prefix_error(error, "cannot write the backup: ");
		return FALSE;
	}
	*total = (guint)json_object_get_int_member(obj, "total_keys");
	*backup_id = g_strdup(json_object_get_string_member(obj, "backup_id"));
	return TRUE;
}

static void
osc_daemon_backup_job(gpointer data, gpointer user_data)
{
	g_autoptr(OscDaemonJob) job = data;
	g_autofree gchar *backup_id = NULL;
	g_autoptr(GError) error = NULL;
	guint total = 0;

	if (!osc_daemon_backup_run(job, &total, &backup_id, &error)) {
		g_message("D-Bus backup to %s failed: %s", job->path, error->message);
		osc_daemon_return_error(g_steal_pointer(&job->invocation), error);
		return;
	}
	g_message("D-Bus backup of %u entries written to %s", total, job->path);
	osc_dbus_server1_complete_backup(OSC_DBUS_SERVER1(job->self),
					 g_steal_pointer(&job->invocation), NULL, total, backup_id);
}

static gboolean
osc_daemon_handle_backup(OscDBusServer1 *object, GDBusMethodInvocation *invocation,
			 GUnixFDList *fd_list, const gchar *path, const gchar *password,
			 GVariant *user_key)
{
	OscDaemon *self = OSC_DAEMON(object);
	g_autoptr(OscDaemonJob) job = NULL;
	g_autoptr(GError) error = NULL;
	gint32 index = g_variant_get_handle(user_key);

	if (osc_daemon_refuse_when_stopping(self, invocation))
		return TRUE;
	if (!g_path_is_absolute(path)) {
		g_dbus_method_invocation_return_error(
			invocation, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			"the backup path must be absolute, not '%s'", path);
		return TRUE;
	}
	/* HTTP accepts an empty X-Backup-Password for the original's sake; a file on disk
	 * protected by nothing is refused here */
	if (password[0] == '\0') {
		g_dbus_method_invocation_return_error_literal(
			invocation, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			"the backup password must not be empty");
		return TRUE;
	}
	if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length(fd_list)) {
		g_dbus_method_invocation_return_error_literal(invocation, OSC_ERROR,
							      OSC_ERROR_INVALID_ARGUMENT,
							      "the user key descriptor is missing");
		return TRUE;
	}
	job = osc_daemon_job_new(self, invocation);
	job->fd = g_unix_fd_list_get(fd_list, index, &error);
	if (job->fd < 0) {
		osc_daemon_return_error(g_steal_pointer(&job->invocation), error);
		return TRUE;
	}
	job->path = g_strdup(path);
	job->password = g_strdup(password);
	job->min_user_key_length = osc_service_get_config(self->service)->min_user_key_length;
	osc_service_push_job(self->service, osc_daemon_backup_job, g_steal_pointer(&job));
	return TRUE;
}

/* ---- properties and the signal, from the service's signals ---- */

static void
osc_daemon_entry_changed_cb(OscService *service, gint kind, OscEntryRow *row, JsonNode *value,
			    gpointer user_data)
{
	OscDBusServer1 *object = OSC_DBUS_SERVER1(user_data);

	/* the value stays here: only names cross D-Bus */
	osc_dbus_server1_set_entries(object, osc_service_get_entry_count(service));
	osc_dbus_server1_emit_config_changed(object, row->key, row->environment,
					     row->category != NULL ? row->category : "",
					     osc_change_kind_to_string((OscChangeKind)kind));
}

static void
osc_daemon_bulk_change_cb(OscService *service, const gchar *reason, gpointer user_data)
{
	OscDBusServer1 *object = OSC_DBUS_SERVER1(user_data);

	osc_dbus_server1_set_entries(object, osc_service_get_entry_count(service));
	osc_dbus_server1_emit_config_changed(object, "", "", "", "reset");
}

static void
osc_daemon_active_cb(GObject *hub, GParamSpec *pspec, gpointer user_data)
{
	osc_dbus_server1_set_active_subscriptions(OSC_DBUS_SERVER1(user_data),
						  osc_sse_hub_get_active(OSC_SSE_HUB(hub)));
}

/**
 * osc_daemon_shutdown:
 *
 * Stops answering (Unavailable) and stops following the service; call when shutdown
 * starts, before the service's workers go away.
 */
void
osc_daemon_shutdown(OscDaemon *self)
{
	g_return_if_fail(OSC_IS_DAEMON(self));

	self->stopping = TRUE;
	if (self->service != NULL) {
		g_signal_handlers_disconnect_by_data(self->service, self);
		g_signal_handlers_disconnect_by_data(osc_service_get_sse_hub(self->service), self);
	}
}

static void
osc_daemon_finalize(GObject *object)
{
	OscDaemon *self = OSC_DAEMON(object);

	if (self->service != NULL) {
		g_signal_handlers_disconnect_by_data(self->service, self);
		g_signal_handlers_disconnect_by_data(osc_service_get_sse_hub(self->service), self);
	}
	g_clear_object(&self->service);
	g_free(self->config_path);
	G_OBJECT_CLASS(osc_daemon_parent_class)->finalize(object);
}

static void
osc_daemon_iface_init(OscDBusServer1Iface *iface)
{
	iface->handle_get_status = osc_daemon_handle_get_status;
	iface->handle_list_environments = osc_daemon_handle_list;
	iface->handle_list_categories = osc_daemon_handle_list;
	iface->handle_stats = osc_daemon_handle_stats;
	iface->handle_reload = osc_daemon_handle_reload;
	iface->handle_backup = osc_daemon_handle_backup;
}

static void
osc_daemon_class_init(OscDaemonClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GDBusInterfaceSkeletonClass *skeleton_class = G_DBUS_INTERFACE_SKELETON_CLASS(klass);

	object_class->finalize = osc_daemon_finalize;
	skeleton_class->g_authorize_method = osc_daemon_authorize_method;
}

static void
osc_daemon_init(OscDaemon *self)
{
	self->started_at = g_get_monotonic_time();
	self->own_uid = (guint32)getuid();
}

/**
 * osc_daemon_new:
 * @service: a started #OscService
 * @config_path: (nullable): the keyfile Reload() reads again, as given to `oscd --config`
 *
 * Returns: the object to export at %OSC_DAEMON_OBJECT_PATH
 */
OscDaemon *
osc_daemon_new(OscService *service, const gchar *config_path)
{
	OscDaemon *self = g_object_new(OSC_TYPE_DAEMON, NULL);
	OscDBusServer1 *object = OSC_DBUS_SERVER1(self);
	const OscConfig *config = osc_service_get_config(service);
	g_autoptr(GPtrArray) uris = osc_service_get_uris(service);
	g_autofree gchar *url = NULL;
	OscSseHub *hub = osc_service_get_sse_hub(service);

	self->service = g_object_ref(service);
	self->config_path = g_strdup(config_path);
	if (uris->len > 0)
		url = g_uri_to_string(g_ptr_array_index(uris, 0));
	osc_dbus_server1_set_version(object, PACKAGE_VERSION);
	osc_dbus_server1_set_node_id(object, osc_service_get_node_id(service));
	osc_dbus_server1_set_listen_url(object, url != NULL ? url : "");
	osc_dbus_server1_set_cluster_enabled(object, config->cluster_enabled);
	/* clustering is refused at start-up in this version (osc_service_new) */
	osc_dbus_server1_set_healthy_nodes(object, config->cluster_enabled ? 1 : 0);
	osc_dbus_server1_set_total_nodes(object, config->cluster_enabled ? 1 : 0);
	osc_dbus_server1_set_entries(object, osc_service_get_entry_count(service));
	osc_dbus_server1_set_active_subscriptions(object, osc_sse_hub_get_active(hub));

	g_signal_connect_object(service, "entry-changed", G_CALLBACK(osc_daemon_entry_changed_cb),
				self, 0);
	g_signal_connect_object(service, "bulk-change", G_CALLBACK(osc_daemon_bulk_change_cb), self,
				0);
	g_signal_connect_object(hub, "notify::active", G_CALLBACK(osc_daemon_active_cb), self, 0);
	return self;
}
