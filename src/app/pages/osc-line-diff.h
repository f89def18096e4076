/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OSC_LINE_DIFF_SAME,
	OSC_LINE_DIFF_REMOVED,
	OSC_LINE_DIFF_ADDED,
} OscLineDiffOp;

typedef struct {
	OscLineDiffOp op;
	gchar *text; /* the line, without its newline */
} OscLineDiffLine;

/* the lines of @old_text and @new_text as a shortest edit: a GPtrArray of OscLineDiffLine
 * (it frees them), removals before additions within a change */
GPtrArray *
osc_line_diff(const gchar *old_text, const gchar *new_text);
/* "  kept\n- removed\n+ added\n" */
gchar *
osc_line_diff_to_string(GPtrArray *diff);
/* how many lines were removed and added */
void
osc_line_diff_count(GPtrArray *diff, guint *removed, guint *added);

G_END_DECLS
