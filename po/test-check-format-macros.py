#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests check-format-macros.py on its sample.

Usage: test-check-format-macros.py CHECKER SAMPLEDIR

SAMPLEDIR holds POTFILES and sample.c, whose calls that must be reported are marked
"flagged" on the line where they start: the checker reports exactly those lines, and fails.
"""
import contextlib
import importlib.util
import io
import os
import re
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    checker, sampledir = argv[1], argv[2]
    spec = importlib.util.spec_from_file_location('check_format_macros', checker)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    with open(os.path.join(sampledir, 'sample.c'), encoding='utf-8') as f:
        expected = {n for n, line in enumerate(f, 1) if re.search(r'/\* flagged \*/', line)}
    found = set()
    for problem in module.check(sampledir, 'sample.c'):
        print(problem)
        found.add(int(problem.split(':')[1]))
    ok = True
    if not expected:
        print('the sample marks no line as flagged', file=sys.stderr)
        ok = False
    if found - expected:
        print(f'reported but fine: lines {sorted(found - expected)}', file=sys.stderr)
        ok = False
    if expected - found:
        print(f'missed: lines {sorted(expected - found)}', file=sys.stderr)
        ok = False

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = module.main([checker, sampledir, sampledir])
    if status != 1 or 'sample.c:' not in stderr.getvalue():
        print(f'the checker returned {status} on the sample, not 1 with the list', file=sys.stderr)
        ok = False
    if ok:
        print(f'all {len(expected)} flagged calls reported, nothing else')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
