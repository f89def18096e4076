#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
"""Checks that each icon is well-formed SVG with the size its hicolor directory expects.

Usage: check-icons.py ICON SIZE [ICON SIZE ...]
"""
import sys
import xml.etree.ElementTree as ET

SVG = '{http://www.w3.org/2000/svg}'


def check(path, size):
    root = ET.parse(path).getroot()
    if root.tag != SVG + 'svg':
        return f'{path}: the root element is {root.tag}, not svg'
    want = f'0 0 {size} {size}'
    if root.get('viewBox') != want:
        return f'{path}: viewBox is {root.get("viewBox")!r}, expected {want!r}'
    for attr in ('width', 'height'):
        if root.get(attr) != str(size):
            return f'{path}: {attr} is {root.get(attr)!r}, expected {size}'
    # symbolic icons are recoloured by GTK: one colour, no gradients or images
    if path.endswith('-symbolic.svg'):
        for el in root.iter():
            if el.tag in (SVG + 'linearGradient', SVG + 'radialGradient', SVG + 'image'):
                return f'{path}: a symbolic icon cannot use {el.tag[len(SVG):]}'
    return None


def main(args):
    if len(args) == 0 or len(args) % 2 != 0:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    for path, size in zip(args[::2], args[1::2]):
        try:
            problem = check(path, int(size))
        except (ET.ParseError, OSError) as e:
            problem = f'{path}: {e}'
        if problem:
            print(problem, file=sys.stderr)
            failed = True
        else:
            print(f'{path}: ok')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
