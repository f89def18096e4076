/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscPages"

#include "config.h"

#include "osc-metrics-page.h"

#include <glib/gi18n.h>

#include "osc-metrics.h"
#include "osc-pages-private.h"

/*
 * Metrics: GET /metrics parsed with osc_metrics_parse(), one expandable row per family
 * (type and help text), its samples with their labels and values inside.
 */

struct _OscMetricsPage {
	AdwBin parent_instance;

	OscClient *client;
	OscPageLoad load;

	GtkStack *stack;
	AdwStatusPage *error_page;
	AdwPreferencesGroup *group;
	GtkListBox *family_box;

	/* family name → OscMetricFamily, and the names in order of appearance */
	GHashTable *families;
	GPtrArray *order;
};

G_DEFINE_FINAL_TYPE(OscMetricsPage, osc_metrics_page, ADW_TYPE_BIN)

enum {
	PROP_0,
	PROP_CLIENT,
	N_PROPS,
};

static GParamSpec *properties[N_PROPS];

typedef struct {
	gchar *name;
	gchar *type;
	gchar *help;
	GPtrArray *samples; /* OscMetricSample, borrowed from the parse */
} OscMetricFamily;

static void
osc_metric_family_free(OscMetricFamily *family)
{
	g_free(family->name);
	g_free(family->type);
	g_free(family->help);
	g_ptr_array_unref(family->samples);
	g_free(family);
}

/* "# HELP name text": osc_metrics_parse() skips the help texts, the page shows them */
static GHashTable *
osc_metrics_page_parse_help(const gchar *text)
{
	GHashTable *help = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		const gchar *line = lines[i];
		const gchar *space;

		if (!g_str_has_prefix(line, "# HELP "))
			continue;
		line += strlen("# HELP ");
		space = strchr(line, ' ');
		if (space == NULL)
			continue;
		g_hash_table_replace(help, g_strndup(line, space - line),
				     g_strchomp(g_strdup(space + 1)));
	}
	return help;
}

/* the family a sample belongs to: its own name, or with a histogram/counter suffix cut */
static gchar *
osc_metrics_page_family_of(const gchar *sample, GHashTable *types)
{
	static const gchar *const suffixes[] = {"_bucket", "_sum", "_count", "_total", "_created"};

	if (types != NULL && g_hash_table_contains(types, sample))
		return g_strdup(sample);
	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		if (g_str_has_suffix(sample, suffixes[i])) {
			g_autofree gchar *base =
				g_strndup(sample, strlen(sample) - strlen(suffixes[i]));
			if (types != NULL && g_hash_table_contains(types, base))
				return g_steal_pointer(&base);
		}
	}
	return g_strdup(sample);
}

/* foo{a="1",b="2"}, labels sorted so that the rows read the same on every refresh */
static gchar *
osc_metrics_page_sample_title(OscMetricSample *sample)
{
	GList *keys = g_list_sort(g_hash_table_get_keys(sample->labels), (GCompareFunc)g_strcmp0);
	GString *s = g_string_new(sample->name);

	if (keys == NULL)
		return g_string_free(s, FALSE);
	g_string_append_c(s, '{');
	for (GList *l = keys; l != NULL; l = l->next) {
		const gchar *k = l->data;
		g_string_append_printf(s, "%s%s=\"%s\"", l != keys ? "," : "", k,
				       (const gchar *)g_hash_table_lookup(sample->labels, k));
	}
	g_list_free(keys);
	g_string_append_c(s, '}');
	return g_string_free(s, FALSE);
}

static GtkWidget *
osc_metrics_page_family_row(OscMetricFamily *family)
{
	GtkWidget *row = adw_expander_row_new();
	g_autofree gchar *subtitle = NULL;
	/* TRANSLATORS: the number of samples of a metric family */
	g_autofree gchar *count = g_strdup_printf(
		g_dngettext(GETTEXT_PACKAGE, "%u sample", "%u samples", family->samples->len),
		family->samples->len);
	GtkWidget *badge = gtk_label_new(count);

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), family->name);
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
	subtitle = family->help != NULL && family->help[0] != '\0'
			   ? g_strdup_printf("%s — %s", family->type, family->help)
			   : g_strdup(family->type);
	adw_expander_row_set_subtitle(ADW_EXPANDER_ROW(row), subtitle);
	gtk_widget_add_css_class(badge, "dim-label");
	adw_expander_row_add_action(ADW_EXPANDER_ROW(row), badge);
	for (guint i = 0; i < family->samples->len; i++) {
		OscMetricSample *sample = g_ptr_array_index(family->samples, i);
		g_autofree gchar *title = osc_metrics_page_sample_title(sample);
		g_autofree gchar *value = g_strdup_printf("%.15g", sample->value);
		GtkWidget *sample_row = osc_pages_value_row(title, NULL, value);

		adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(sample_row), FALSE);
		adw_expander_row_add_row(ADW_EXPANDER_ROW(row), sample_row);
	}
	return row;
}

static void
osc_metrics_page_text_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text =
		osc_client_get_metrics_text_finish(OSC_CLIENT(source), result, &error);
	g_autoptr(GHashTable) types = NULL;
	g_autoptr(GHashTable) help = NULL;
	g_autoptr(GPtrArray) samples = NULL;
	g_autofree gchar *description = NULL;
	OscMetricsPage *self;

	if (osc_pages_is_cancelled(error))
		return;
	self = OSC_METRICS_PAGE(user_data);
	if (text != NULL)
		samples = osc_metrics_parse(text, &types, &error);
	if (samples == NULL) {
		g_prefix_error(&error, "%s", _("The metrics could not be read: "));
		osc_page_load_fail(&self->load, error);
		osc_page_load_end(&self->load);
		return;
	}
	help = osc_metrics_page_parse_help(text);
	g_hash_table_remove_all(self->families);
	g_ptr_array_set_size(self->order, 0);
	for (guint i = 0; i < samples->len; i++) {
		OscMetricSample *sample = g_ptr_array_index(samples, i);
		g_autofree gchar *name = osc_metrics_page_family_of(sample->name, types);
		OscMetricFamily *family = g_hash_table_lookup(self->families, name);

		if (family == NULL) {
			const gchar *type = g_hash_table_lookup(types, name);

			family = g_new0(OscMetricFamily, 1);
			family->name = g_strdup(name);
			family->type = g_strdup(type != NULL ? type : "untyped");
			family->help = g_strdup(g_hash_table_lookup(help, name));
			/* the samples live as long as the family */
			family->samples = g_ptr_array_new_with_free_func(
				(GDestroyNotify)osc_metric_sample_free);
			g_hash_table_insert(self->families, family->name, family);
			g_ptr_array_add(self->order, family->name);
		}
		g_ptr_array_add(family->samples, sample);
	}
	/* the families own the samples now */
	g_ptr_array_set_free_func(samples, NULL);
	osc_pages_list_box_clear(self->family_box);
	for (guint i = 0; i < self->order->len; i++)
		gtk_list_box_append(self->family_box,
				    osc_metrics_page_family_row(g_hash_table_lookup(
					    self->families, g_ptr_array_index(self->order, i))));
	description = g_strdup_printf(
		/* TRANSLATORS: e.g. "12 families from GET /metrics" */
		g_dngettext(GETTEXT_PACKAGE, "%u family from GET /metrics",
			    "%u families from GET /metrics", self->order->len),
		self->order->len);
	adw_preferences_group_set_description(self->group, description);
	osc_page_load_end(&self->load);
}

/**
 * osc_metrics_page_reload:
 *
 * Reads `GET /metrics` again.
 */
void
osc_metrics_page_reload(OscMetricsPage *self)
{
	g_return_if_fail(OSC_IS_METRICS_PAGE(self));

	if (self->client == NULL) {
		osc_page_load_show_empty(&self->load);
		return;
	}
	osc_page_load_begin(&self->load, 1);
	osc_client_get_metrics_text_async(self->client, self->load.cancellable,
					  osc_metrics_page_text_cb, self);
}

guint
osc_metrics_page_get_n_families(OscMetricsPage *self)
{
	return self->order->len;
}

const gchar *
osc_metrics_page_get_family_type(OscMetricsPage *self, const gchar *family)
{
	OscMetricFamily *f = g_hash_table_lookup(self->families, family);

	return f != NULL ? f->type : NULL;
}

guint
osc_metrics_page_get_n_samples(OscMetricsPage *self, const gchar *family)
{
	OscMetricFamily *f = g_hash_table_lookup(self->families, family);

	return f != NULL ? f->samples->len : 0;
}

/**
 * osc_metrics_page_new:
 * @client: (nullable): the client to show, or %NULL
 *
 * Returns: (transfer floating): a new page
 */
GtkWidget *
osc_metrics_page_new(OscClient *client)
{
	return g_object_new(OSC_TYPE_METRICS_PAGE, "client", client, NULL);
}

OscClient *
osc_metrics_page_get_client(OscMetricsPage *self)
{
	g_return_val_if_fail(OSC_IS_METRICS_PAGE(self), NULL);
	return self->client;
}

void
osc_metrics_page_set_client(OscMetricsPage *self, OscClient *client)
{
	g_return_if_fail(OSC_IS_METRICS_PAGE(self));
	g_return_if_fail(client == NULL || OSC_IS_CLIENT(client));

	if (!g_set_object(&self->client, client))
		return;
	if (client == NULL || gtk_widget_get_mapped(GTK_WIDGET(self)))
		osc_metrics_page_reload(self);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CLIENT]);
}

static void
osc_metrics_page_reload_action(GtkWidget *widget, const gchar *action_name, GVariant *param)
{
	osc_metrics_page_reload(OSC_METRICS_PAGE(widget));
}

static void
osc_metrics_page_map(GtkWidget *widget)
{
	OscMetricsPage *self = OSC_METRICS_PAGE(widget);

	GTK_WIDGET_CLASS(osc_metrics_page_parent_class)->map(widget);
	osc_metrics_page_reload(self);
}

static void
osc_metrics_page_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	OscMetricsPage *self = OSC_METRICS_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		g_value_set_object(value, self->client);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_metrics_page_set_property(GObject *object, guint prop_id, const GValue *value,
			      GParamSpec *pspec)
{
	OscMetricsPage *self = OSC_METRICS_PAGE(object);

	switch (prop_id) {
	case PROP_CLIENT:
		osc_metrics_page_set_client(self, g_value_get_object(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
osc_metrics_page_dispose(GObject *object)
{
	OscMetricsPage *self = OSC_METRICS_PAGE(object);

	osc_page_load_clear(&self->load);
	g_clear_pointer(&self->families, g_hash_table_unref);
	g_clear_pointer(&self->order, g_ptr_array_unref);
	g_clear_object(&self->client);
	/* AdwBin keeps a pointer to its child: take the stack out through it before the
	 * template children go */
	adw_bin_set_child(ADW_BIN(self), NULL);
	gtk_widget_dispose_template(GTK_WIDGET(self), OSC_TYPE_METRICS_PAGE);
	G_OBJECT_CLASS(osc_metrics_page_parent_class)->dispose(object);
}

static void
osc_metrics_page_class_init(OscMetricsPageClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = osc_metrics_page_get_property;
	object_class->set_property = osc_metrics_page_set_property;
	object_class->dispose = osc_metrics_page_dispose;
	widget_class->map = osc_metrics_page_map;

	properties[PROP_CLIENT] = g_param_spec_object("client", NULL, NULL, OSC_TYPE_CLIENT,
						      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
							      G_PARAM_EXPLICIT_NOTIFY);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	gtk_widget_class_set_template_from_resource(widget_class,
						    OSC_PAGES_RESOURCE "osc-metrics-page.ui");
	gtk_widget_class_bind_template_child(widget_class, OscMetricsPage, stack);
	gtk_widget_class_bind_template_child(widget_class, OscMetricsPage, error_page);
	gtk_widget_class_bind_template_child(widget_class, OscMetricsPage, group);
	gtk_widget_class_bind_template_child(widget_class, OscMetricsPage, family_box);

	gtk_widget_class_install_action(widget_class, "page.reload", NULL,
					osc_metrics_page_reload_action);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F5, 0, "page.reload", NULL);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
					    "page.reload", NULL);
}

static void
osc_metrics_page_init(OscMetricsPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->load.stack = self->stack;
	self->load.error_page = self->error_page;
	g_object_set_data(G_OBJECT(self), "osc-page-load", &self->load);
	osc_page_load_show_empty(&self->load);
	self->families = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					       (GDestroyNotify)osc_metric_family_free);
	self->order = g_ptr_array_new();
}
