/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Not built: the sample for po/check-format-macros.py. Each call that must be reported is
 * marked "flagged" on the line where it starts; no other line may be reported.
 */

static void
sample(gint64 n, gsize size, const gchar *name)
{
	/* translatable strings glued together with a format macro */
	text = g_strdup_printf(_("Version %" G_GINT64_FORMAT), n); /* flagged */
	text = g_strdup_printf(N_("%" G_GSIZE_FORMAT " bytes"), size); /* flagged */
	text = g_strdup_printf(C_("backup", "%" G_GUINT64_FORMAT " entries"), n); /* flagged */
	text = g_strdup_printf(NC_("backup", "%" G_GUINT64_FORMAT " kept"), n); /* flagged */
	text = g_strdup_printf(Q_("count|%" G_GINT64_FORMAT), n); /* flagged */
	text = g_strdup_printf(
		g_dngettext(GETTEXT_PACKAGE, /* flagged */
			    "Exported %" G_GINT64_FORMAT " entry to %s",
			    "Exported %" G_GINT64_FORMAT " entries to %s", (gulong)n),
		n, name);
	text = g_strdup_printf(ngettext("%" PRId64 " entry", "%" PRId64 " entries", n), n); /* flagged */
	text = g_strdup_printf(g_dpgettext2(NULL, "size", "%" G_GINT64_MODIFIER "d"), n); /* flagged */
	text = g_strdup_printf(dngettext(GETTEXT_PACKAGE, "%" PRIu64 " node", /* flagged */
					 "%" PRIu64 " nodes", n),
			       n);

	/* fine: plain conversions, macros outside translatable strings, macro names in text */
	text = g_strdup_printf(_("Version %lld"), (long long)n);
	text = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%lld entry", "%lld entries",
					   (gulong)n),
			       (long long)n);
	text = g_strdup_printf("%" G_GINT64_FORMAT, n);
	text = g_strdup_printf(_("Version %s"), "%" G_GINT64_FORMAT);
	text = g_strdup(_("Write \"%lld\", not \"%\" G_GINT64_FORMAT (the macro)"));
	text = my_("%" G_GINT64_FORMAT);
	g_message("%" G_GSIZE_FORMAT " bytes (\"_(\" is not a call here)", size);
}
