#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
"""Checks that every language translates every message of the current sources.

Usage: check-complete.py SRCDIR PODIR

Fails when a C or .ui file under server/, src/ or data/ marks strings for translation
(_(), N_(), C_(), NC_(), ngettext(), translatable="yes") but is not in PODIR/POTFILES, or
when a desktop, metainfo or schema file in data/ is missing from it. Then extracts the
messages of the files in POTFILES from SRCDIR with xgettext, the way
`meson compile opensecureconf-pot` does (the 'glib' preset), and runs msgcmp on each
language of PODIR/LINGUAS: a message that is missing, untranslated or fuzzy fails.
"""
import os
import re
import subprocess
import sys
import tempfile

# meson's i18n 'glib' preset, less the --flag arguments (they only add c-format marks)
XGETTEXT_ARGS = [
    '--from-code=UTF-8', '--add-comments', '--keyword=_', '--keyword=N_',
    '--keyword=C_:1c,2', '--keyword=NC_:1c,2', '--keyword=g_dcgettext:2',
    '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
]


def read_list(path):
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


MARKS = re.compile(r'(^|[^A-Za-z0-9_])(N?C?_|ngettext|g_dngettext)\(\s*"|translatable="yes"')


def unlisted_sources(srcdir, listed):
    """files with translatable strings that POTFILES does not name"""
    found = []
    for top in ('server', 'src', 'data'):
        for root, dirs, files in os.walk(os.path.join(srcdir, top)):
            dirs[:] = [d for d in dirs if not d.startswith(('.', '_build'))]
            for name in files:
                path = os.path.relpath(os.path.join(root, name), srcdir)
                if name.endswith(('.desktop.in', '.metainfo.xml.in', '.gschema.xml')):
                    found.append(path)
                elif name.endswith(('.c', '.ui')):
                    with open(os.path.join(srcdir, path), encoding='utf-8') as f:
                        if MARKS.search(f.read()):
                            found.append(path)
    return sorted(set(found) - set(listed))


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    srcdir, podir = argv[1], argv[2]
    sources = read_list(os.path.join(podir, 'POTFILES'))
    missing = [s for s in sources if not os.path.isfile(os.path.join(srcdir, s))]
    if missing:
        print('POTFILES names files that do not exist:\n  ' + '\n  '.join(missing),
              file=sys.stderr)
        return 1
    unlisted = unlisted_sources(srcdir, sources)
    if unlisted:
        print('These files have translatable strings but are not in POTFILES:\n  ' +
              '\n  '.join(unlisted), file=sys.stderr)
        return 1
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, 'messages.pot')
        subprocess.run(['xgettext', '--package-name=opensecureconf', '-D', srcdir,
                        '-o', pot] + XGETTEXT_ARGS + sources, check=True)
        for lang in read_list(os.path.join(podir, 'LINGUAS')):
            proc = subprocess.run(['msgcmp', os.path.join(podir, lang + '.po'), pot],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f'{lang}.po is incomplete:\n{proc.stderr}', file=sys.stderr)
                failed = True
            else:
                print(f'{lang}.po translates every message')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
