/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-backup-page.h"

#include <glib/gi18n.h>

#include <openssl/crypto.h>

#include "osc-pages-private.h"

/*
 * Backup: export the entries (filtered by environment and category) encrypted with a
 * password to a file chosen with GtkFileChooserNative, and import such a file with an
 * overwrite choice; progress while it runs, the outcome or the error under the button.
 */

struct _OscBackupPage {
	AdwBin parent_instance;

	OscClient *client;
	OscPageLoad load;

	GtkStack *stack;
	AdwStatusPage *error_page;
	AdwComboRow *environment_row;
	AdwComboRow *category_row;
	GtkStringList *environments;
	GtkStringList *categories;
	AdwPasswordEntryRow *export_password;
	AdwPasswordEntryRow *export_password2;
	AdwPasswordEntryRow *import_password;
	GtkSwitch *overwrite_switch;
	GtkProgressBar *export_progress;
	GtkProgressBar *import_progress;
	GtkLabel *export_status;
	GtkLabel *import_status;

	GCancellable *job; /* the export or import running, if any */
	guint pulse_source;
	GtkFileChooserNative *chooser;
	gchar *password; /* the import's, while its file loads */
	gboolean overwrite;
	GFile *file;
	gint64 exported;
};

G_DEFINE_FINAL_TYPE(OscBackupPage, osc_backup_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_CLIENT,
	N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
osc_backup_page_wipe_password(OscBackupPage *self)
{
	if (self->password != NULL)
		OPENSSL_cleanse(self->password, strlen(self->password));
	g_clear_pointer(&self->password, g_free);
}

static gboolean
osc_backup_page_pulse_cb(gpointer user_data)
{
	OscBackupPage *self = OSC_BACKUP_PAGE(user_data);

	gtk_progress_bar_pulse(self->export_progress);
	gtk_progress_bar_pulse(self->import_progress);
	return G_SOURCE_CONTINUE;
}

static void
osc_backup_page_set_status(GtkLabel *label, const gchar *text, gboolean error)
{
	gtk_label_set_text(label, text);
	gtk_widget_set_visible(GTK_WIDGET(label), text != NULL);
	if (error) {
		gtk_widget_add_css_class(GTK_WIDGET(label), "error");
		gtk_widget_remove_css_class(GTK_WIDGET(label), "success");
	} else {
		gtk_widget_remove_css_class(GTK_WIDGET(label), "error");
		gtk_widget_add_css_class(GTK_WIDGET(label), "success");
	}
}

static void
osc_backup_page_update_actions(OscBackupPage *self)
{
	gboolean idle = self->client != NULL && self->job == NULL;

	gtk_widget_action_set_enabled(GTK_WIDGET(self), "backup.export", idle);
	gtk_widget_action_set_enabled(GTK_WIDGET(self), "backup.import", idle);
}

static void
osc_backup_page_begin(OscBackupPage *self, GtkProgressBar *progress, GtkLabel *status)
{
	g_assert(self->job == NULL);
	self->job = g_cancellable_new();
	gtk_progress_bar_set_fraction(progress, 0);
	gtk_widget_set_visible(GTK_WIDGET(progress), TRUE);
	osc_backup_page_set_status(status, NULL, FALSE);
	self->pulse_source = g_timeout_add(100, osc_backup_page_pulse_cb, self);
	osc_backup_page_update_actions(self);
}

static void
osc_backup_page_end(OscBackupPage *self, GtkProgressBar *progress, GtkLabel *status,
		    const gchar *text, gboolean error)
{
	g_clear_object(&self->job);
	g_clear_handle_id(&self->pulse_source, g_source_remove);
	gtk_widget_set_visible(GTK_WIDGET(progress), FALSE);
	osc_backup_page_set_status(status, text, error);
	osc_backup_page_update_actions(self);
	osc_backup_page_wipe_password(self);
	g_clear_object(&self->file);
}

static void
osc_backup_page_fail(OscBackupPage *self, gboolean export, const GError *error)
{
	g_autofree gchar *text = osc_pages_error_text(error);

	osc_backup_page_end(self, export ? self->export_progress : self->import_progress,
			    export ? self->export_status : self->import_status, text, TRUE);
}

/* the choices of a combo row; the first ("All") means no filter */
static gchar *
osc_backup_page_dup_choice(AdwComboRow *row, GtkStringList *list)
{
	guint i = adw_combo_row_get_selected(row);

	if (i == 0 || i == GTK_INVALID_LIST_POSITION)
		return NULL;
	return g_strdup(gtk_string_list_get_string(list, i));
}

/* ---- export ---- */

static void
osc_backup_page_written_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	OscBackupPage *self;
	g_autofree gchar *name = NULL;
	g_autofree gchar *text = NULL;

	if (!g_file_replace_contents_finish(G_FILE(source), result, NULL, &error) &&
	    osc_pages_is_cancelled(error))
		return;
	self = OSC_BACKUP_PAGE(user_data);
	if (error != NULL) {
		g_prefix_error(&error, _("Could not write the backup file: "));
		osc_backup_page_fail(self, TRUE, error);
		return;
	}
	name = g_file_get_parse_name(G_FILE(source));
	text = g_strdup_printf(
		g_dngettext(GETTEXT_PACKAGE, "Exported %lld entry to %s", "Exported %lld entries to %s",
			    (gulong)self->exported),
		(long long)self->exported, name);
	osc_backup_page_end(self, self->export_progress, self->export_status, text, FALSE);
}

static void
osc_backup_page_backup_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = osc_client_backup_finish(OSC_CLIENT(source), result, &error);
	g_autoptr(JsonGenerator) gen = NULL;
	g_autoptr(GBytes) bytes = NULL;
	OscBackupPage *self;
	gchar *data;
	gsize len;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_BACKUP_PAGE(user_data);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node) ||
	    osc_pages_json_string(json_node_get_object(node), "backup_data") == NULL) {
		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The server’s backup has no backup_data"));
		g_prefix_error(&error, _("The export failed: "));
		osc_backup_page_fail(self, TRUE, error);
		return;
	}
	self->exported = osc_pages_json_int(json_node_get_object(node), "total_keys");
	gtk_progress_bar_set_fraction(self->export_progress, 0.5);
	/* the file is what POST /backup answered: backup_data plus its count, time and id */
	gen = json_generator_new();
	json_generator_set_pretty(gen, TRUE);
	json_generator_set_root(gen, node);
	data = json_generator_to_data(gen, &len);
	bytes = g_bytes_new_take(data, len);
	g_file_replace_contents_bytes_async(self->file, bytes, NULL, FALSE,
					    G_FILE_CREATE_PRIVATE |
						    G_FILE_CREATE_REPLACE_DESTINATION,
					    self->job, osc_backup_page_written_cb, self);
}

/**
 * osc_backup_page_export_to_file:
 * @file: where to write the backup
 *
 * Exports with the filters and password shown, as the Export button does once a file
 * is chosen. The outcome shows under the button.
 */
void
osc_backup_page_export_to_file(OscBackupPage *self, GFile *file)
{
	const gchar *p1, *p2;
	g_autofree gchar *env = NULL, *cat = NULL;

	g_return_if_fail(OSC_IS_BACKUP_PAGE(self));
	g_return_if_fail(G_IS_FILE(file));

	if (self->client == NULL || self->job != NULL)
		return;
	p1 = gtk_editable_get_text(GTK_EDITABLE(self->export_password));
	p2 = gtk_editable_get_text(GTK_EDITABLE(self->export_password2));
	if (p1[0] == '\0') {
		osc_backup_page_set_status(self->export_status,
					   _("Enter a password for the backup"), TRUE);
		return;
	}
	if (!g_str_equal(p1, p2)) {
		osc_backup_page_set_status(self->export_status, _("The passwords do not match"),
					   TRUE);
		return;
	}
	env = osc_backup_page_dup_choice(self->environment_row, self->environments);
	cat = osc_backup_page_dup_choice(self->category_row, self->categories);
	osc_backup_page_begin(self, self->export_progress, self->export_status);
	self->file = g_object_ref(file);
	osc_client_backup_async(self->client, p1, cat, env, self->job, osc_backup_page_backup_cb,
				self);
}

/* ---- import ---- */

static void
osc_backup_page_imported_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		osc_client_import_backup_finish(OSC_CLIENT(source), result, &error);
	OscBackupPage *self;
	JsonObject *obj;
	g_autofree gchar *text = NULL;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_BACKUP_PAGE(user_data);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The import summary is not a JSON object"));
		g_prefix_error(&error, _("The import failed: "));
		osc_backup_page_fail(self, FALSE, error);
		return;
	}
	obj = json_node_get_object(node);
	/* TRANSLATORS: the result of an import */
	text = g_strdup_printf(
		_("Imported %lld, skipped %lld, overwritten %lld, failed %lld"),
		(long long)osc_pages_json_int(obj, "imported"),
		(long long)osc_pages_json_int(obj, "skipped"),
		(long long)osc_pages_json_int(obj, "overwritten"),
		(long long)osc_pages_json_int(obj, "failed"));
	osc_backup_page_end(self, self->import_progress, self->import_status, text,
			    osc_pages_json_int(obj, "failed") > 0);
	/* the filters may have new choices now */
	osc_backup_page_reload(self);
}

/* a file written by Export (JSON with backup_data), or the bare base64 text */
static gchar *
osc_backup_page_backup_data(const gchar *contents, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree gchar *text = NULL;

	if (json_parser_load_from_data(parser, contents, (gssize)len, NULL)) {
		JsonNode *root = json_parser_get_root(parser);
		const gchar *data =
			root != NULL && JSON_NODE_HOLDS_OBJECT(root)
				? osc_pages_json_string(json_node_get_object(root), "backup_data")
				: NULL;

		if (data == NULL) {
			g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
					    _("The file is JSON but has no backup_data"));
			return NULL;
		}
		return g_strdup(data);
	}
	text = g_strstrip(g_strndup(contents, len));
	if (text[0] == '\0' || !g_utf8_validate(text, -1, NULL)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    _("The file is not a backup"));
		return NULL;
	}
	return g_steal_pointer(&text);
}

static void
osc_backup_page_loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *contents = NULL;
	g_autofree gchar *data = NULL;
	gsize len = 0;
	OscBackupPage *self;

	if (!g_file_load_contents_finish(G_FILE(source), result, &contents, &len, NULL, &error) &&
	    osc_pages_is_cancelled(error))
		return;
	self = OSC_BACKUP_PAGE(user_data);
	if (contents != NULL)
		data = osc_backup_page_backup_data(contents, len, &error);
	if (data == NULL) {
		g_prefix_error(&error, _("Could not read the backup file: "));
		osc_backup_page_fail(self, FALSE, error);
		return;
	}
	gtk_progress_bar_set_fraction(self->import_progress, 0.5);
	osc_client_import_backup_async(self->client, data, self->password, self->overwrite,
				       self->job, osc_backup_page_imported_cb, self);
}

/**
 * osc_backup_page_import_from_file:
 * @file: the backup file
 *
 * Imports @file with the password and overwrite choice shown, as the Import button does
 * once a file is chosen. The summary shows under the button.
 */
void
osc_backup_page_import_from_file(OscBackupPage *self, GFile *file)
{
	const gchar *password;

	g_return_if_fail(OSC_IS_BACKUP_PAGE(self));
	g_return_if_fail(G_IS_FILE(file));

	if (self->client == NULL || self->job != NULL)
		return;
	password = gtk_editable_get_text(GTK_EDITABLE(self->import_password));
	if (password[0] == '\0') {
		osc_backup_page_set_status(self->import_status,
					   _("Enter the password the backup was made with"), TRUE);
		return;
	}
	osc_backup_page_begin(self, self->import_progress, self->import_status);
	self->password = g_strdup(password);
	self->overwrite = gtk_switch_get_active(self->overwrite_switch);
	self->file = g_object_ref(file);
	g_file_load_contents_async(file, self->job, osc_backup_page_loaded_cb, self);
}

/* ---- file choosers ---- */

static void
osc_backup_page_chooser_cb(GtkNativeDialog *dialog, gint response, gpointer user_data)
{
	OscBackupPage *self = OSC_BACKUP_PAGE(user_data);
	gboolean save = gtk_file_chooser_get_action(GTK_FILE_CHOOSER(dialog)) ==
			GTK_FILE_CHOOSER_ACTION_SAVE;
	g_autoptr(GFile) file = NULL;

	if (response == GTK_RESPONSE_ACCEPT)
		file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
	g_clear_object(&self->chooser);
	if (file == NULL)
		return;
	if (save)
		osc_backup_page_export_to_file(self, file);
	else
		osc_backup_page_import_from_file(self, file);
}

static void
osc_backup_page_choose(OscBackupPage *self, gboolean save)
{
	GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
	g_autoptr(GtkFileFilter) filter = gtk_file_filter_new();

	if (self->chooser != NULL)
		return;
	self->chooser = gtk_file_chooser_native_new(
		save ? _("Export Backup") : _("Import Backup"),
		GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
		save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
		save ? _("_Export") : _("_Import"), _("_Cancel"));
	gtk_file_filter_set_name(filter, _("Backups"));
	gtk_file_filter_add_pattern(filter, "*.json");
	gtk_file_filter_add_pattern(filter, "*.txt");
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), filter);
	if (save) {
		g_autoptr(GDateTime) now = g_date_time_new_now_local();
		g_autofree gchar *name =
			g_date_time_format(now, "opensecureconf-backup-%Y%m%d.json");

		gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser), name);
	}
	gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
	g_signal_connect(self->chooser, "response", G_CALLBACK(osc_backup_page_chooser_cb), self);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void
osc_backup_page_export_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	OscBackupPage *self = OSC_BACKUP_PAGE(widget);
	const gchar *p1 = gtk_editable_get_text(GTK_EDITABLE(self->export_password));
	const gchar *p2 = gtk_editable_get_text(GTK_EDITABLE(self->export_password2));

	/* say what is wrong before asking for a file */
	if (p1[0] == '\0' || !g_str_equal(p1, p2)) {
		osc_backup_page_set_status(self->export_status,
					   p1[0] == '\0' ? _("Enter a password for the backup")
							 : _("The passwords do not match"),
					   TRUE);
		return;
	}
	osc_backup_page_choose(self, TRUE);
}

static void
osc_backup_page_import_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	OscBackupPage *self = OSC_BACKUP_PAGE(widget);

	if (gtk_editable_get_text(GTK_EDITABLE(self->import_password))[0] == '\0') {
		osc_backup_page_set_status(self->import_status,
					   _("Enter the password the backup was made with"), TRUE);
		return;
	}
	osc_backup_page_choose(self, FALSE);
}

/* ---- the filter choices ---- */

static void
osc_backup_page_fill_choices(AdwComboRow *row, GtkStringList *list, JsonObject *counts)
{
	g_autoptr(GList) members = counts != NULL ? json_object_get_members(counts) : NULL;
	g_autofree gchar *selected = osc_backup_page_dup_choice(row, list);
	guint n = g_list_model_get_n_items(G_LIST_MODEL(list));
	guint keep = 0, i = 1;

	gtk_string_list_splice(list, 0, n, NULL);
	gtk_string_list_append(list, _("All"));
	for (GList *l = members; l != NULL; l = l->next, i++) {
		gtk_string_list_append(list, l->data);
		if (g_strcmp0(selected, l->data) == 0)
			keep = i;
	}
	adw_combo_row_set_selected(row, keep);
}

static void
osc_backup_page_stats_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = osc_client_get_stats_finish(OSC_CLIENT(source), result, &error);
	OscBackupPage *self;
	JsonObject *obj;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_BACKUP_PAGE(user_data);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		if (error == NULL)
			g_set_error_literal(&error, OSC_CLIENT_ERROR,
					    OSC_CLIENT_ERROR_INVALID_RESPONSE,
					    _("The statistics are not a JSON object"));
		osc_page_load_fail(&self->load, error);
		osc_page_load_end(&self->load);
		return;
	}
	obj = json_node_get_object(node);
	osc_backup_page_fill_choices(self->environment_row, self->environments,
				     osc_pages_json_object(obj, "keys_by_environment"));
	/* "uncategorized" is how /stats counts entries without one, not a category to filter */
	osc_backup_page_fill_choices(self->category_row, self->categories,
				     osc_pages_json_object(obj, "keys_by_category"));
	for (guint i = g_list_model_get_n_items(G_LIST_MODEL(self->categories)); i-- > 1;)
		if (g_str_equal(gtk_string_list_get_string(self->categories, i), "uncategorized"))
			gtk_string_list_remove(self->categories, i);
	osc_page_load_end(&self->load);
}

/**
 * osc_backup_page_reload:
 *
 * Loads the environments and categories offered as export filters again.
 */
void
osc_backup_page_reload(OscBackupPage *self)
{
	g_return_if_fail(OSC_IS_BACKUP_PAGE(self));

	osc_backup_page_update_actions(self);
	if (self->client == NULL) {
		/* no callback will end the job: a cancelled one returns without touching us */
		if (self->job != NULL) {
			g_cancellable_cancel(self->job);
			gtk_widget_set_visible(GTK_WIDGET(self->import_progress), FALSE);
			osc_backup_page_end(self, self->export_progress, self->export_status, NULL,
					    FALSE);
		}
		osc_page_load_show_empty(&self->load);
		return;
	}
	osc_page_load_begin(&self->load, 1);
	osc_client_get_stats_async(self->client, self->load.cancellable, osc_backup_page_stats_cb,
				   self);
}

gboolean
osc_backup_page_get_busy(OscBackupPage *self)
{
	return self->job != NULL;
}

const gchar *
osc_backup_page_get_export_status(OscBackupPage *self)
{
	return gtk_label_get_text(self->export_status);
}

const gchar *
osc_backup_page_get_import_status(OscBackupPage *self)
{
	return gtk_label_get_text(self->import_status);
}

void
osc_backup_page_set_export_password(OscBackupPage *self, const gchar *password, const gchar *again)
{
	gtk_editable_set_text(GTK_EDITABLE(self->export_password), password);
	gtk_editable_set_text(GTK_EDITABLE(self->export_password2), again);
}

void
osc_backup_page_set_import_password(OscBackupPage *self, const gchar *password, gboolean overwrite)
{
	gtk_editable_set_text(GTK_EDITABLE(self->import_password), password);
	gtk_switch_set_active(self->overwrite_switch, overwrite);
}

void
osc_backup_page_set_export_filter(OscBackupPage *self, const gchar *environment,
				  const gchar *category)
{
	struct {
		AdwComboRow *row;
		GtkStringList *list;
		const gchar *want;
	} f[] = {{self->environment_row, self->environments, environment},
		 {self->category_row, self->categories, category}};

	for (guint k = 0; k < G_N_ELEMENTS(f); k++) {
		guint sel = 0;

		for (guint i = 1;
		     f[k].want != NULL && i < g_list_model_get_n_items(G_LIST_MODEL(f[k].list));
		     i++)
			if (g_str_equal(gtk_string_list_get_string(f[k].list, i), f[k].want))
				sel = i;
		adw_combo_row_set_selected(f[k].row, sel);
	}
}

/**
 * osc_backup_page_new:
 * @client: (nullable): the client to show, or %NULL
 *
 * Returns: (transfer floating): a new page
 */
GtkWidget *
osc_backup_page_new(OscClient *client)
{
	return g_object_new(OSC_TYPE_BACKUP_PAGE, "client", client, NULL);
}

OscClient *
osc_backup_page_get_client(OscBackupPage *self)
{
	g_return_val_if_fail(OSC_IS_BACKUP_PAGE(self), NULL);
	return self->client;
}

void
osc_backup_page_set_client(OscBackupPage *self, OscClient *client)
{
	g_return_if_fail(OSC_IS_BACKUP_PAGE(self));
	g_return_if_fail(client == NULL || OSC_IS_CLIENT(client));

	if (!g_set_object(&self->client, client))
		return;
	if (client == NULL || gtk_widget_get_mapped(GTK_WIDGET(self)))
		osc_backup_page_reload(self);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CLIENT]);
}

static void
osc_backup_page_reload_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	osc_backup_page_reload(OSC_BACKUP_PAGE(widget));
}

static void
osc_backup_page_map(GtkWidget *widget)
{
	OscBackupPage *self = OSC_BACKUP_PAGE(widget);

	GTK_WIDGET_CLASS(osc_backup_page_parent_class)->map(widget);
	osc_backup_page_reload(self);
}

static void
osc_backup_page_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscBackupPage *self = OSC_BACKUP_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		g_value_set_object(value, self->client);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_backup_page_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	OscBackupPage *self = OSC_BACKUP_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		osc_backup_page_set_client(self, g_value_get_object(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_backup_page_dispose(GObject *object)
{
	OscBackupPage *self = OSC_BACKUP_PAGE(object);

	osc_page_load_clear(&self->load);
	g_cancellable_cancel(self->job);
	g_clear_object(&self->job);
	g_clear_handle_id(&self->pulse_source, g_source_remove);
	if (self->chooser != NULL) {
		g_signal_handlers_disconnect_by_data(self->chooser, self);
		gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
		g_clear_object(&self->chooser);
	}
	osc_backup_page_wipe_password(self);
	g_clear_object(&self->file);
	g_clear_object(&self->client);
	/* AdwBin keeps a pointer to its child: take the stack out through it before the
	 * template children go */
	adw_bin_set_child(ADW_BIN(self), NULL);
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_BACKUP_PAGE);
	G_OBJECT_CLASS(osc_backup_page_parent_class)->dispose(object);
}

static void
osc_backup_page_class_init(OscBackupPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = osc_backup_page_get_property;
	object_class->set_property = osc_backup_page_set_property;
	object_class->dispose = osc_backup_page_dispose;
	widget_class->map = osc_backup_page_map;

	properties[PROP_CLIENT] = g_param_spec_object("client", NULL, NULL, OSC_TYPE_CLIENT,
						      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
							      G_PARAM_EXPLICIT_NOTIFY);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	gtk_widget_class_set_template_from_resource(widget_class,
						    OSC_PAGES_RESOURCE "osc-backup-page.ui");
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, stack);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, error_page);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, environment_row);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, category_row);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, environments);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, categories);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, export_password);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, export_password2);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, import_password);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, overwrite_switch);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, export_progress);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, import_progress);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, export_status);
	gtk_widget_class_bind_template_child(widget_class, OscBackupPage, import_status);

	gtk_widget_class_install_action(widget_class, "page.reload", NULL,
					osc_backup_page_reload_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F5, 0, "page.reload", NULL);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
					    "page.reload", NULL);

	gtk_widget_class_install_action(widget_class, "backup.export", NULL,
					osc_backup_page_export_action);
	gtk_widget_class_install_action(widget_class, "backup.import", NULL,
					osc_backup_page_import_action);
}

static void
osc_backup_page_init(OscBackupPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->load.stack = self->stack;
	self->load.error_page = self->error_page;
	g_object_set_data(G_OBJECT(self), "osc-page-load", &self->load);
	osc_page_load_show_empty(&self->load);
	gtk_string_list_append(self->environments, _("All"));
	gtk_string_list_append(self->categories, _("All"));
	osc_backup_page_update_actions(self);
}
