#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
"""Ask a running oscd for an encrypted backup over D-Bus, without the user key ever
being part of a D-Bus message: it goes through a pipe whose read end is passed with the
call (a Unix file descriptor, type 'h').

    oscd-dbus-backup.py [--system] PATH

PATH is where oscd writes the backup (absolute; oscd must be able to write there, under
oscd.service that is below /var/lib/opensecureconf). The user key comes from OSC_USER_KEY
or a prompt, the backup password from OSC_BACKUP_PASSWORD or a prompt. Only root and the
user oscd runs as may call Backup.
"""

import getpass
import os
import sys

from gi.repository import Gio, GLib

NAME = "org.opensecureconf.Server1"
PATH = "/org/opensecureconf/Server1"


def main(argv):
    bus_type = Gio.BusType.SESSION
    if argv[1:2] == ["--system"]:
        bus_type = Gio.BusType.SYSTEM
        argv = argv[1:]
    if len(argv) != 2 or not os.path.isabs(argv[1]):
        sys.exit("usage: oscd-dbus-backup.py [--system] ABSOLUTE-PATH")
    user_key = os.environ.get("OSC_USER_KEY") or getpass.getpass("User key: ")
    password = os.environ.get("OSC_BACKUP_PASSWORD") or getpass.getpass("Backup password: ")

    read_end, write_end = os.pipe()
    os.write(write_end, user_key.encode())
    os.close(write_end)  # oscd reads until end of file
    fds = Gio.UnixFDList.new()
    index = fds.append(read_end)
    os.close(read_end)

    bus = Gio.bus_get_sync(bus_type)
    try:
        reply, _ = bus.call_with_unix_fd_list_sync(
            NAME, PATH, NAME, "Backup",
            GLib.Variant("(aysh)", (argv[1].encode() + b"\0", password, index)),
            GLib.VariantType("(us)"), Gio.DBusCallFlags.NONE,
            300 * 1000,  # PBKDF2 with 480,000 iterations for the password
            fds, None)
    except GLib.Error as e:
        sys.exit("Backup failed: %s (%s)" % (Gio.DBusError.get_remote_error(e), e.message))
    total, backup_id = reply.unpack()
    print("%s: %d entries, %s" % (argv[1], total, backup_id))


if __name__ == "__main__":
    main(sys.argv)
