/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "osc-app"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>

#include "osc-application.h"

int
main(int argc, char *argv[])
{
	g_autoptr(OscApplication) app = NULL;
	/* OSC_LOCALEDIR points at uninstalled catalogs (the build tree's po/, see po/README.md) */
	const gchar *localedir = g_getenv("OSC_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE,
		       localedir != NULL && localedir[0] != '\0' ? localedir : LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	/* the embedded server writes to sockets peers may close */
	signal(SIGPIPE, SIG_IGN);

	app = osc_application_new(OSC_APP_ID, G_APPLICATION_DEFAULT_FLAGS);
	return g_application_run(G_APPLICATION(app), argc, argv);
}
