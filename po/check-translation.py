#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
"""Runs a program in a language and checks that a message appears translated.

Usage: check-translation.py --localedir DIR --language LANG --msgid MSGID -- PROGRAM [ARGS...]

The expected text is MSGID's translation in DIR/LANG/LC_MESSAGES/opensecureconf.mo, the
catalog the build made. The program runs with LC_ALL=C.UTF-8 (the one UTF-8 locale every
Debian system has; GNU gettext honours LANGUAGE in it, but not in plain "C"), LANGUAGE=LANG
and OSC_LOCALEDIR=DIR, and must print the translation and not the English text.
"""
import argparse
import gettext
import os
import subprocess
import sys

DOMAIN = 'opensecureconf'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--localedir', required=True)
    parser.add_argument('--language', required=True)
    parser.add_argument('--msgid', required=True)
    parser.add_argument('command', nargs='+')
    args = parser.parse_args()

    catalog = gettext.translation(DOMAIN, localedir=args.localedir, languages=[args.language])
    expected = catalog.gettext(args.msgid)
    if expected == args.msgid:
        print(f'{args.language}: {args.msgid!r} is not translated', file=sys.stderr)
        return 1

    env = dict(os.environ)
    for var in ('LANG', 'LC_MESSAGES'):
        env.pop(var, None)
    env.update({'LC_ALL': 'C.UTF-8', 'LANGUAGE': args.language,
                'OSC_LOCALEDIR': args.localedir})
    proc = subprocess.run(args.command, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60, check=False)
    output = (proc.stdout + proc.stderr).decode('utf-8')
    if proc.returncode != 0:
        print(f'{args.command} exited with {proc.returncode}:\n{output}', file=sys.stderr)
        return 1
    if expected not in output:
        print(f'{args.language}: {expected!r} is not in the output:\n{output}', file=sys.stderr)
        return 1
    if args.msgid in output:
        print(f'{args.language}: the English {args.msgid!r} is in the output', file=sys.stderr)
        return 1
    print(f'{args.language}: found {expected!r}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
