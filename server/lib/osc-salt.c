/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscSalt"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osc-crypto.h"
#include "osc-error.h"
#include "osc-salt.h"

/* a salt file is a few dozen bytes; anything this big is not one */
#define SALT_MAX_FILE_SIZE (1024 * 1024)

static void
salt_set_errno_error(GError **error, int errsv, const gchar *what, const gchar *path)
{
	g_set_error(error,
		    G_IO_ERROR,
		    g_io_error_from_errno(errsv),
		    "%s %s: %s",
		    what,
		    path,
		    g_strerror(errsv));
}

/**
 * osc_salt_load:
 * @path: the salt file
 * @error: return location for a #GError
 *
 * Reads the whole salt file (API.md §6.1: its whole content is the salt, whatever its
 * length). A missing file is %G_IO_ERROR_NOT_FOUND; an empty one %OSC_ERROR_CORRUPT.
 *
 * Returns: (transfer full): the salt, or %NULL on error
 */
GBytes *
osc_salt_load(const gchar *path, GError **error)
{
	g_autoptr(GByteArray) buf = NULL;
	struct stat st;
	int fd;

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		int errsv = errno;
		salt_set_errno_error(error, errsv, "cannot open salt file", path);
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		int errsv = errno;
		salt_set_errno_error(error, errsv, "cannot stat salt file", path);
		g_close(fd, NULL);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_NOT_REGULAR_FILE,
			    "salt file %s is not a regular file",
			    path);
		g_close(fd, NULL);
		return NULL;
	}
	if (st.st_size > SALT_MAX_FILE_SIZE) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_CORRUPT, "salt file %s is too large", path);
		g_close(fd, NULL);
		return NULL;
	}

	/* read to the end rather than trusting st_size: the file may change under us */
	buf = g_byte_array_sized_new((guint)st.st_size + 1);
	for (;;) {
		guint8 chunk[4096];
		gssize n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int errsv = errno;
			salt_set_errno_error(error, errsv, "cannot read salt file", path);
			g_close(fd, NULL);
			return NULL;
		}
		if (n == 0)
			break;
		if (buf->len + (gsize)n > SALT_MAX_FILE_SIZE) {
			g_set_error(error,
				    OSC_ERROR,
				    OSC_ERROR_CORRUPT,
				    "salt file %s is too large",
				    path);
			g_close(fd, NULL);
			return NULL;
		}
		g_byte_array_append(buf, chunk, (guint)n);
	}
	g_close(fd, NULL);

	if (buf->len == 0) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_CORRUPT, "salt file %s is empty", path);
		return NULL;
	}
	if ((st.st_mode & 0077) != 0) {
		/* like ssh with a private key: whoever else can read the salt has half of every
		 * key, whoever can write it can make every value unreadable; refuse rather than
		 * keep serving with it */
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_PERMISSION_DENIED,
			    "salt file %s is accessible by group or others (mode %04o); "
			    "make it private with: chmod 600 %s",
			    path,
			    (guint)(st.st_mode & 07777),
			    path);
		return NULL;
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

static gboolean
salt_write_all(int fd, const guint8 *data, gsize len)
{
	while (len > 0) {
		gssize n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

static gboolean
salt_fsync_dir(const gchar *dir, GError **error)
{
	int fd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

	if (fd < 0 || fsync(fd) != 0) {
		int errsv = errno;
		salt_set_errno_error(error, errsv, "cannot sync directory", dir);
		if (fd >= 0)
			g_close(fd, NULL);
		return FALSE;
	}
	g_close(fd, NULL);
	return TRUE;
}

/*
 * Creates @path holding @data, mode 0600, atomically and without ever replacing an existing
 * file: the data goes to a temporary file in the same directory first (O_CREAT|O_EXCL, 0600,
 * fsync'd), which is then hard-linked into place (link() fails rather than replace). Where the
 * file system has no hard links, renameat2(RENAME_NOREPLACE) does the same. If @path exists
 * the error is %G_IO_ERROR_EXISTS and nothing is changed.
 */
static gboolean
salt_create_exclusive(const gchar *path, const guint8 *data, gsize len, GError **error)
{
	g_autofree gchar *dir = g_path_get_dirname(path);
	g_autofree gchar *base = g_path_get_basename(path);
	g_autofree gchar *tmp = NULL;
	gboolean linked = FALSE;
	int fd;

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int errsv = errno;
		salt_set_errno_error(error, errsv, "cannot create directory", dir);
		return FALSE;
	}

	tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		int errsv = errno;
		salt_set_errno_error(error, errsv, "cannot create a temporary file in", dir);
		return FALSE;
	}
	/* mkstemp applies the umask, which can only make it stricter; make it exactly 0600 */
	if (fchmod(fd, 0600) != 0 || !salt_write_all(fd, data, len) || fsync(fd) != 0) {
		int errsv = errno;
		salt_set_errno_error(error, errsv, "cannot write salt file", tmp);
		g_close(fd, NULL);
		g_unlink(tmp);
		return FALSE;
	}
	if (!g_close(fd, error)) {
		g_prefix_error(error, "cannot write salt file %s: ", tmp);
		g_unlink(tmp);
		return FALSE;
	}

	if (link(tmp, path) == 0) {
		linked = TRUE;
	} else if (errno == EEXIST) {
		g_unlink(tmp);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "salt file %s already exists",
			    path);
		return FALSE;
	} else if (errno == EPERM || errno == ENOTSUP || errno == EXDEV || errno == EMLINK) {
		/* no hard links here (e.g. some FUSE or network file systems) */
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
			int errsv = errno;
			g_unlink(tmp);
			if (errsv == EEXIST) {
				g_set_error(error,
					    G_IO_ERROR,
					    G_IO_ERROR_EXISTS,
					    "salt file %s already exists",
					    path);
			} else {
				salt_set_errno_error(error, errsv, "cannot create salt file", path);
			}
			return FALSE;
		}
	} else {
		int errsv = errno;
		g_unlink(tmp);
		salt_set_errno_error(error, errsv, "cannot create salt file", path);
		return FALSE;
	}

	/* the new name must survive a crash before anyone relies on the salt */
	if (!salt_fsync_dir(dir, error)) {
		if (linked)
			g_unlink(tmp);
		return FALSE;
	}
	if (linked && g_unlink(tmp) != 0) {
		/* harmless: a stray hidden temporary copy of a non-secret salt */
		g_debug("cannot remove %s: %s", tmp, g_strerror(errno));
	}
	return TRUE;
}

/**
 * osc_salt_load_or_create:
 * @path: the salt file
 * @created: (out) (optional): set to %TRUE if this call created the file
 * @error: return location for a #GError
 *
 * Loads the salt file, creating it with %OSC_SALT_LEN random bytes (mode 0600, parent
 * directories 0700) if it does not exist. An existing file is never replaced, even if it is
 * empty or unreadable: that is an error. When several processes or threads race to create the
 * file, exactly one wins and all of them return its content.
 *
 * Returns: (transfer full): the salt, or %NULL on error
 */
GBytes *
osc_salt_load_or_create(const gchar *path, gboolean *created, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	guint8 salt[OSC_SALT_LEN];
	GBytes *bytes;

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (created != NULL)
		*created = FALSE;

	bytes = osc_salt_load(path, &error_local);
	if (bytes != NULL)
		return bytes;
	if (!g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	g_clear_error(&error_local);

	if (!osc_crypto_random(salt, sizeof(salt), error))
		return NULL;
	if (!salt_create_exclusive(path, salt, sizeof(salt), &error_local)) {
		if (!g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_EXISTS)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		/* someone else created it in the meantime: theirs is the salt */
		g_debug("salt file %s was created concurrently; loading it", path);
		return osc_salt_load(path, error);
	}

	g_info("created salt file %s", path);
	if (created != NULL)
		*created = TRUE;
	return g_bytes_new(salt, sizeof(salt));
}

/**
 * osc_salt_write:
 * @path: the salt file
 * @salt: the salt to store (not empty)
 * @error: return location for a #GError
 *
 * Creates the salt file with the given content, atomically and with mode 0600. Used when a
 * cluster node takes the salt of its peers; refuses with %G_IO_ERROR_EXISTS if the file is
 * already there.
 *
 * Returns: %TRUE on success
 */
gboolean
osc_salt_write(const gchar *path, GBytes *salt, GError **error)
{
	gconstpointer data;
	gsize len = 0;

	g_return_val_if_fail(path != NULL, FALSE);
	g_return_val_if_fail(salt != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	data = g_bytes_get_data(salt, &len);
	if (len == 0) {
		g_set_error_literal(error,
				    OSC_ERROR,
				    OSC_ERROR_INVALID_ARGUMENT,
				    "a salt cannot be empty");
		return FALSE;
	}
	return salt_create_exclusive(path, data, len, error);
}
