/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscLog"

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <unistd.h>

#include "osc-log.h"
#include "osc-value.h"

/* the original's rotation: 100 MB × 5 files */
#define OSC_LOG_ROTATE_SIZE (100 * 1024 * 1024)
#define OSC_LOG_ROTATE_KEEP 5

static GMutex log_lock;
static GLogLevelFlags log_threshold = G_LOG_LEVEL_INFO;
/* (atomic) what osc_log_would_drop() reads without the lock: the threshold's rank, and
 * whether our writer is installed */
static gint log_threshold_rank = -1;
static OscLogFormat log_format = OSC_LOG_FORMAT_JSON;
static gchar *log_path = NULL;
static FILE *log_file = NULL;
static goffset log_size = 0;
/* records wait here up to OSC_LOG_FLUSH_MS: one write() per request on the main thread
 * cost a third of the throughput at the default level */
static GString *log_buf = NULL;
static gboolean log_flush_scheduled = FALSE;
#define OSC_LOG_FLUSH_MS 100
#define OSC_LOG_FLUSH_BYTES (64 * 1024)

static const gchar *
osc_log_level_name(GLogLevelFlags level)
{
	if (level & G_LOG_LEVEL_ERROR)
		return "critical";
	if (level & G_LOG_LEVEL_CRITICAL)
		return "error";
	if (level & G_LOG_LEVEL_WARNING)
		return "warning";
	if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
		return "info";
	return "debug";
}

/* lower bits are more severe; MESSAGE counts as INFO */
static guint
osc_log_rank(GLogLevelFlags level)
{
	if (level & G_LOG_LEVEL_ERROR)
		return 0;
	if (level & G_LOG_LEVEL_CRITICAL)
		return 1;
	if (level & G_LOG_LEVEL_WARNING)
		return 2;
	if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
		return 3;
	return 4;
}

/**
 * osc_log_format_fields:
 *
 * Formats one structured log record: a JSON object (`timestamp`, `level`, `logger`,
 * `event`, and every `OSC_*` field as a lower-case member without the prefix) or a console
 * line. Callers never pass secrets as fields.
 */
gchar *
osc_log_format_fields(GLogLevelFlags level,
		      const GLogField *fields,
		      gsize n_fields,
		      OscLogFormat format)
{
	const gchar *message = NULL;
	const gchar *domain = NULL;
	g_autofree gchar *ts = osc_timestamp_now_api();

	for (gsize i = 0; i < n_fields; i++) {
		if (g_str_equal(fields[i].key, "MESSAGE") && fields[i].length < 0)
			message = fields[i].value;
		else if (g_str_equal(fields[i].key, "GLIB_DOMAIN") && fields[i].length < 0)
			domain = fields[i].value;
	}
	if (format == OSC_LOG_FORMAT_CONSOLE) {
		return g_strdup_printf("%s %-8s %s: %s\n", ts, osc_log_level_name(level),
				       domain != NULL ? domain : "oscd",
				       message != NULL ? message : "");
	} else {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;
		gsize len = 0;
		gchar *text;
		gchar *line;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "timestamp");
		json_builder_add_string_value(b, ts);
		json_builder_set_member_name(b, "level");
		json_builder_add_string_value(b, osc_log_level_name(level));
		json_builder_set_member_name(b, "logger");
		json_builder_add_string_value(b, domain != NULL ? domain : "oscd");
		json_builder_set_member_name(b, "event");
		json_builder_add_string_value(b, message != NULL ? message : "");
		for (gsize i = 0; i < n_fields; i++) {
			g_autofree gchar *name = NULL;
			if (!g_str_has_prefix(fields[i].key, "OSC_") || fields[i].length >= 0)
				continue;
			name = g_ascii_strdown(fields[i].key + 4, -1);
			json_builder_set_member_name(b, name);
			json_builder_add_string_value(b, fields[i].value);
		}
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		text = osc_json_to_string(root, &len);
		line = g_strconcat(text, "\n", NULL);
		g_free(text);
		return line;
	}
}

static void
osc_log_rotate_locked(void)
{
	fclose(log_file);
	log_file = NULL;
	for (gint i = OSC_LOG_ROTATE_KEEP - 1; i >= 1; i--) {
		g_autofree gchar *from = g_strdup_printf("%s.%d", log_path, i);
		g_autofree gchar *to = g_strdup_printf("%s.%d", log_path, i + 1);
		g_rename(from, to);
	}
	{
		g_autofree gchar *first = g_strdup_printf("%s.1", log_path);
		g_rename(log_path, first);
	}
	log_file = fopen(log_path, "ae");
	log_size = 0;
}

static void
osc_log_flush_locked(void)
{
	FILE *out;

	if (log_buf == NULL || log_buf->len == 0)
		return;
	if (log_file != NULL && log_size + (goffset)log_buf->len > OSC_LOG_ROTATE_SIZE)
		osc_log_rotate_locked();
	out = log_file != NULL ? log_file : stdout;
	fwrite(log_buf->str, 1, log_buf->len, out);
	fflush(out);
	log_size += (goffset)log_buf->len;
	g_string_truncate(log_buf, 0);
}

/**
 * osc_log_flush:
 *
 * Writes out buffered records (oscd calls it before exiting).
 */
void
osc_log_flush(void)
{
	g_mutex_lock(&log_lock);
	osc_log_flush_locked();
	g_mutex_unlock(&log_lock);
}

static gboolean
osc_log_flush_cb(gpointer user_data)
{
	g_mutex_lock(&log_lock);
	log_flush_scheduled = FALSE;
	osc_log_flush_locked();
	g_mutex_unlock(&log_lock);
	return G_SOURCE_REMOVE;
}

static GLogWriterOutput
osc_log_writer_cb(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
	g_autofree gchar *line = NULL;
	gboolean schedule = FALSE;

	if (osc_log_rank(level) > osc_log_rank(log_threshold))
		return G_LOG_WRITER_HANDLED;
	line = osc_log_format_fields(level, fields, n_fields, log_format);

	g_mutex_lock(&log_lock);
	if (log_buf == NULL)
		log_buf = g_string_sized_new(OSC_LOG_FLUSH_BYTES);
	g_string_append(log_buf, line);
	/* warnings and worse go out at once; so does a full buffer */
	if (osc_log_rank(level) <= 2 || log_buf->len >= OSC_LOG_FLUSH_BYTES) {
		osc_log_flush_locked();
	} else if (!log_flush_scheduled) {
		log_flush_scheduled = TRUE;
		schedule = TRUE;
	}
	g_mutex_unlock(&log_lock);
	/* on the default main context, which oscd runs; from any thread */
	if (schedule)
		g_timeout_add(OSC_LOG_FLUSH_MS, osc_log_flush_cb, NULL);
	return G_LOG_WRITER_HANDLED;
}

/**
 * osc_log_would_drop:
 *
 * Whether a record of @level in @domain would be thrown away, so that a caller on a hot
 * path can skip building it (g_log_structured() formats its message first). Thread-safe.
 */
gboolean
osc_log_would_drop(GLogLevelFlags level, const gchar *domain)
{
	gint rank = g_atomic_int_get(&log_threshold_rank);

	if (rank < 0)
		return g_log_writer_default_would_drop(level, domain);
	return osc_log_rank(level) > (guint)rank;
}

/**
 * osc_log_set_level:
 * @level: the least severe level written from now on
 *
 * Changes the threshold of the writer osc_log_setup() installed (a configuration reload).
 */
void
osc_log_set_level(GLogLevelFlags level)
{
	g_mutex_lock(&log_lock);
	log_threshold = level;
	if (g_atomic_int_get(&log_threshold_rank) >= 0)
		g_atomic_int_set(&log_threshold_rank, osc_log_rank(level));
	g_mutex_unlock(&log_lock);
}

/**
 * osc_log_setup:
 * @level: the least severe level written
 * @format: JSON or console lines
 * @path: (nullable): a file to append to (rotated at 100 MB, 5 kept), else stdout
 *
 * Installs the process's structured log writer (oscd only; the app keeps GLib's).
 */
gboolean
osc_log_setup(GLogLevelFlags level, OscLogFormat format, const gchar *path, GError **error)
{
	g_mutex_lock(&log_lock);
	log_threshold = level;
	g_atomic_int_set(&log_threshold_rank, osc_log_rank(level));
	log_format = format;
	if (path != NULL && path[0] != '\0') {
		int fd = g_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		GStatBuf st;

		if (fd < 0) {
			int errsv = errno;
			g_mutex_unlock(&log_lock);
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
				    "cannot open log file %s: %s", path, g_strerror(errsv));
			return FALSE;
		}
		if (log_file != NULL)
			fclose(log_file);
		log_file = fdopen(fd, "a");
		g_free(log_path);
		log_path = g_strdup(path);
		log_size = g_stat(path, &st) == 0 ? st.st_size : 0;
	}
	g_mutex_unlock(&log_lock);
	g_log_set_writer_func(osc_log_writer_cb, NULL, NULL);
	return TRUE;
}
