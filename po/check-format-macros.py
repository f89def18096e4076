#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
"""Fails when a translatable C string is glued together with a format macro.

Usage: check-format-macros.py SRCDIR PODIR

xgettext cannot expand macros, so _("Version %" G_GINT64_FORMAT) is extracted as the
fragment "Version %": the full string is never in the catalog and stays English at run
time. Translatable strings use plain conversions instead, with a cast to match:
_("Version %lld"), (long long) version. This checks every C file that PODIR/POTFILES names
for calls of the gettext family (_(), N_(), C_(), NC_(), Q_(), ngettext(), g_dngettext(),
g_dpgettext2(), ...) whose arguments, up to the first parenthesis, hold a G_*_FORMAT,
G_*_MODIFIER or PRI* macro. Comments and the text of string literals are not looked at.
"""
import os
import re
import sys

CALL = re.compile(r'(?<![A-Za-z0-9_])(N?C?_|Q_|(?:g_)?d?c?n?p?gettext(?:2|_noop)?)\(')
# what is not code: string and character literals, comments
NOT_CODE = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|//[^\n]*|/\*.*?\*/', re.S)
MACRO = re.compile(r'\b(G_[A-Z0-9_]*_(?:FORMAT|MODIFIER)|PRI[diouxX][A-Z0-9_]*)\b')


def read_list(path):
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


def blank(text):
    """@text with the inside of literals and comments made spaces, newlines and length kept"""
    def repl(m):
        t = m.group(0)
        if t[0] in '"\'':
            return t[0] + re.sub(r'[^\n]', ' ', t[1:-1]) + t[-1]
        return re.sub(r'[^\n]', ' ', t)
    return NOT_CODE.sub(repl, text)


def check(srcdir, path):
    with open(os.path.join(srcdir, path), encoding='utf-8') as f:
        code = blank(f.read())
    problems = []
    for call in CALL.finditer(code):
        end = call.end()
        while end < len(code) and code[end] not in '()':
            end += 1
        macro = MACRO.search(code, call.end(), end)
        if macro is not None:
            line = code.count('\n', 0, call.start()) + 1
            problems.append(f'{path}:{line}: {call.group(1)}() uses {macro.group(1)}')
    return problems


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    srcdir, podir = argv[1], argv[2]
    problems = []
    for path in read_list(os.path.join(podir, 'POTFILES')):
        if path.endswith('.c') and os.path.isfile(os.path.join(srcdir, path)):
            problems += check(srcdir, path)
    if problems:
        print('Translatable strings built with format macros (xgettext extracts only the '
              'part before the macro; use %lld/%llu with a cast):\n  ' +
              '\n  '.join(problems), file=sys.stderr)
        return 1
    print('no translatable string uses a format macro')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
