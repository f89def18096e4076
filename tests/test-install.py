#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
"""
`meson install --destdir` into a temporary directory, then check the installed tree:
everything where distributions expect it (binaries, library, typelib, GIR, headers,
pkg-config file, man pages, completions, D-Bus and systemd files), everything meson says
it installs present and under the prefix, and the parts that are only built sometimes
(the app's desktop file, metainfo, icons, GSettings schema) checked when meson lists them.

Usage: test-install.py MESON BUILDDIR   (TAP on stdout)
"""

import configparser
import signal
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

results = []


def check(ok, name, detail=""):
    results.append((bool(ok), name, detail))
    return ok


def introspect(meson, builddir, what):
    out = subprocess.run([meson, "introspect", what, builddir], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    meson, builddir = sys.argv[1], sys.argv[2]
    options = {o["name"]: o["value"] for o in introspect(meson, builddir, "--buildoptions")}
    installed = introspect(meson, builddir, "--installed")
    prefix = options["prefix"]

    def p(*parts):
        return os.path.join(prefix, *parts)

    bindir, libdir = p(options["bindir"]), p(options["libdir"])
    datadir, includedir = p(options["datadir"]), p(options["includedir"])
    mandir = p(options["mandir"])

    destdir = tempfile.mkdtemp(prefix="osc-install-")
    try:
        env = dict(os.environ, DESTDIR=destdir)
        proc = subprocess.run([meson, "install", "-C", builddir, "--no-rebuild", "--quiet"],
                              env=env, capture_output=True, text=True)
        if not check(proc.returncode == 0, "meson install --destdir",
                     proc.stdout + proc.stderr):
            return

        def d(path):
            return destdir + path

        def exists(path, name=None, mode=None):
            ok = os.path.isfile(d(path))
            if ok and mode is not None:
                ok = os.stat(d(path)).st_mode & mode == mode
            return check(ok, name or ("installed " + path))

        # what meson says it installs is there, and nothing lands outside the prefix
        missing = [dst for dst in installed.values() if not os.path.lexists(d(dst))]
        check(not missing, "every file meson lists is installed", "\n".join(missing))
        outside = []
        for root, _, files in os.walk(destdir):
            for f in files:
                path = os.path.join(root, f)[len(destdir):]
                if not path.startswith(prefix.rstrip("/") + "/"):
                    outside.append(path)
        check(not outside, "nothing installed outside the prefix " + prefix, "\n".join(outside))

        # programs, library, introspection, headers, pkg-config
        x = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        exists(os.path.join(bindir, "oscd"), mode=x)
        exists(os.path.join(bindir, "oscctl"), mode=x)
        exists(os.path.join(libdir, "libosc-client-1.so.0"))
        check(os.path.islink(d(os.path.join(libdir, "libosc-client-1.so"))),
              "libosc-client-1.so development link")
        exists(os.path.join(libdir, "girepository-1.0", "Osc-1.0.typelib"))
        gir = os.path.join(datadir, "gir-1.0", "Osc-1.0.gir")
        if exists(gir):
            root = ET.parse(d(gir)).getroot()
            ns = {"c": "http://www.gtk.org/introspection/core/1.0"}
            namespace = root.find("c:namespace", ns)
            check(namespace is not None and namespace.get("name") == "Osc"
                  and namespace.get("version") == "1.0", "GIR namespace Osc-1.0")
        exists(os.path.join(includedir, "osc-client-1", "osc-client.h"))
        exists(os.path.join(includedir, "osc-client-1", "libosc-client.h"))
        pc = os.path.join(libdir, "pkgconfig", "osc-client-1.pc")
        if exists(pc) and shutil.which("pkg-config"):
            pcenv = dict(os.environ, PKG_CONFIG_PATH=d(os.path.dirname(pc)))
            r = subprocess.run(["pkg-config", "--validate", "osc-client-1"], env=pcenv,
                               capture_output=True, text=True)
            check(r.returncode == 0, "pkg-config --validate osc-client-1", r.stderr)
            r = subprocess.run(["pkg-config", "--variable=includedir", "osc-client-1"],
                               env=pcenv, capture_output=True, text=True)
            check(r.stdout.strip() == includedir, "osc-client-1.pc includedir",
                  r.stdout + r.stderr)

        # man pages and completions
        exists(os.path.join(mandir, "man1", "oscctl.1"))
        exists(os.path.join(mandir, "man8", "oscd.8"))
        exists(os.path.join(datadir, "bash-completion", "completions", "oscctl"))

        # D-Bus
        dbus = os.path.join(datadir, "dbus-1")
        iface = os.path.join(dbus, "interfaces", "org.opensecureconf.Server1.xml")
        if exists(iface):
            root = ET.parse(d(iface)).getroot()
            names = [i.get("name") for i in root.findall("interface")]
            check(names == ["org.opensecureconf.Server1"], "interface XML names the interface",
                  repr(names))
        for kind, expect in (("services", {"Exec": os.path.join(bindir, "oscd") +
                                           " --bus=session --quiet"}),
                             ("system-services", {"User": "root",
                                                  "SystemdService": "oscd.service"})):
            path = os.path.join(dbus, kind, "org.opensecureconf.Server1.service")
            if exists(path):
                cp = configparser.ConfigParser(interpolation=None)
                cp.optionxform = str
                cp.read(d(path))
                sec = cp["D-BUS Service"] if cp.has_section("D-BUS Service") else {}
                check(sec.get("Name") == "org.opensecureconf.Server1", kind + " file Name=")
                for key, value in expect.items():
                    check(sec.get(key) == value, "%s file %s=%s" % (kind, key, value),
                          repr(sec.get(key)))
        policy = os.path.join(dbus, "system.d", "org.opensecureconf.Server1.conf")
        if exists(policy):
            root = ET.parse(d(policy)).getroot()
            owners = [pol.get("user") for pol in root.findall("policy")
                      if pol.find("allow[@own='org.opensecureconf.Server1']") is not None]
            check(sorted(owners) == ["oscd", "root"], "only oscd and root own the name",
                  repr(owners))

        # systemd: the unit where systemd.pc says (relative to our prefix), the sysusers
        # entry, the EnvironmentFile example
        units = [dst for dst in installed.values() if dst.endswith("/oscd.service")]
        if check(len(units) == 1 and units[0].startswith(prefix) and
                 units[0].endswith("/lib/systemd/system/oscd.service"),
                 "oscd.service in lib/systemd/system", repr(units)):
            unit = configparser.ConfigParser(interpolation=None, strict=False)
            unit.optionxform = str
            unit.read(d(units[0]))
            svc = unit["Service"]
            check(svc.get("Type") == "notify", "oscd.service Type=notify")
            check(svc.get("ExecStart", "").split()[0] == os.path.join(bindir, "oscd"),
                  "oscd.service ExecStart= is the installed oscd", svc.get("ExecStart"))
            check(svc.get("EnvironmentFile") == "-/etc/opensecureconf/oscd.env",
                  "oscd.service EnvironmentFile=")
            for key in ("ProtectSystem", "NoNewPrivileges", "PrivateTmp",
                        "RestrictAddressFamilies", "StateDirectory", "User"):
                check(key in svc, "oscd.service sets " + key)
        exists(os.path.join(prefix, "lib", "sysusers.d", "oscd.conf"))
        exists(os.path.join(datadir, "doc", "opensecureconf", "oscd.env"))

        system_bus(builddir, d(policy))

        # the app's data files: only in builds that have them (-Dgui=true)
        app = "org.opensecureconf.Admin"
        optional = {
            "desktop file": os.path.join(datadir, "applications", app + ".desktop"),
            "metainfo": os.path.join(datadir, "metainfo", app + ".metainfo.xml"),
            "scalable icon": os.path.join(datadir, "icons", "hicolor", "scalable", "apps",
                                          app + ".svg"),
            "symbolic icon": os.path.join(datadir, "icons", "hicolor", "symbolic", "apps",
                                          app + "-symbolic.svg"),
            "GSettings schema": os.path.join(datadir, "glib-2.0", "schemas",
                                             app + ".gschema.xml"),
        }
        listed = set(installed.values())
        for name, path in optional.items():
            if path in listed:
                exists(path, name)
            else:
                results.append((True, name, "SKIP not built in this configuration"))
    finally:
        shutil.rmtree(destdir, ignore_errors=True)


SYSTEM_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=%(socket)s</listen>
  <!-- the default policy of Debian's system.conf -->
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>%(policy)s</include>
</busconfig>
"""

BUS = ["org.opensecureconf.Server1", "/org/opensecureconf/Server1"]


def system_bus(builddir, policy):
    """The installed bus policy on a bus with the system bus's default policy: oscd (as
    root) owns the name, callers reach the interface, nothing else gets through."""
    name = "system bus policy"
    daemon, gdbus = shutil.which("dbus-daemon"), shutil.which("gdbus")
    if os.geteuid() != 0 or daemon is None or gdbus is None or not os.path.isfile(policy):
        results.append((True, name, "SKIP needs root, dbus-daemon and gdbus"))
        return
    tmp = tempfile.mkdtemp(prefix="osc-sysbus-")
    bus = oscd = None
    try:
        conf = os.path.join(tmp, "system.conf")
        with open(conf, "w") as f:
            f.write(SYSTEM_CONF % {"socket": os.path.join(tmp, "bus"), "policy": policy})
        bus = subprocess.Popen([daemon, "--config-file=" + conf, "--nofork",
                                "--print-address=1"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        address = bus.stdout.readline().strip()
        if not check(address.startswith("unix:"), "dbus-daemon accepts the bus policy"):
            return
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address, OSC_HOST="127.0.0.1",
                   OSC_HOST_PORT="0", OSC_PBKDF2_ITERATIONS="1000",
                   OSC_DATABASE_PATH=os.path.join(tmp, "db"),
                   OSC_SALT_FILE_PATH=os.path.join(tmp, "salt"))
        oscd = subprocess.Popen([os.path.join(builddir, "server", "oscd", "oscd"), "--quiet",
                                 "--bus=system"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

        def call(*args):
            return subprocess.run([gdbus] + list(args), env=env, capture_output=True,
                                  text=True, timeout=20)

        r = call("wait", "--system", "--timeout", "10", BUS[0])
        if not check(r.returncode == 0 and oscd.poll() is None,
                     "root may own org.opensecureconf.Server1", r.stderr):
            return
        r = call("call", "--system", "--dest", BUS[0], "--object-path", BUS[1],
                 "--method", "org.opensecureconf.Server1.GetStatus")
        check(r.returncode == 0 and "'healthy'" in r.stdout,
              "the policy lets callers reach the interface", r.stdout + r.stderr)
        r = call("call", "--system", "--dest", BUS[0], "--object-path", BUS[1],
                 "--method", "org.freedesktop.DBus.Properties.Get",
                 "org.opensecureconf.Server1", "Version")
        check(r.returncode == 0, "the policy lets callers read properties", r.stderr)
        r = call("call", "--system", "--dest", BUS[0], "--object-path", BUS[1],
                 "--method", "org.freedesktop.DBus.Properties.Set",
                 "org.opensecureconf.Server1", "Version", "<'x'>")
        check(r.returncode != 0 and "AccessDenied" in r.stderr,
              "the policy keeps other methods out", r.stdout + r.stderr)
        r = call("call", "--system", "--dest", BUS[0], "--object-path", BUS[1],
                 "--method", "org.opensecureconf.Server1.Reload")
        check(r.returncode == 0, "root may call Reload", r.stderr)
    finally:
        for proc in (oscd, bus):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if oscd is not None:
            check(oscd.returncode == 0, "oscd on the system bus stops cleanly",
                  "exit status %s" % oscd.returncode)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        print("1..%d" % len(results))
        for i, (ok, name, detail) in enumerate(results, 1):
            skip = detail.startswith("SKIP")
            print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name,
                                     " # " + detail if skip else ""))
            if not ok and detail:
                for line in detail.splitlines():
                    print("# " + line)
    sys.exit(0 if all(ok for ok, _, _ in results) else 1)
