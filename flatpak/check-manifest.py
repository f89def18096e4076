#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
"""Lints a Flatpak manifest beyond what flatpak-builder --show-manifest parses.

Usage: check-manifest.py MANIFEST.json

- every module's local sources (dir, file, patch, script with a path) exist, and a "dir"
  source that builds with meson has a meson.build; module references (a string naming another
  manifest file) are followed;
- the sandbox holes are the ones this app needs and no more: no host filesystem access
  (the file chooser goes through the portal), no session-wide bus access;
- the command is the app's binary and the id matches the manifest's file name.
"""
import json
import os
import sys

ALLOWED_FINISH_ARGS = {
    '--share=network',           # remote servers, and the embedded one on loopback
    '--socket=wayland',
    '--socket=fallback-x11',
    '--device=dri',              # GL rendering
    '--talk-name=org.freedesktop.secrets',  # the keyring, through libsecret
}
LOCAL_SOURCE_TYPES = {'dir', 'file', 'patch', 'script'}


def check_module(module, base, where, problems):
    if isinstance(module, str):
        path = os.path.join(base, module)
        if not os.path.isfile(path):
            problems.append(f'{where}: module file {module} does not exist')
            return
        with open(path, encoding='utf-8') as f:
            module = json.load(f)
        base = os.path.dirname(path)
    name = module.get('name')
    if not name:
        problems.append(f'{where}: a module has no name')
        return
    where = f'{where}/{name}'
    if not module.get('sources'):
        problems.append(f'{where}: no sources')
    for source in module.get('sources', []):
        if isinstance(source, str):
            path = os.path.join(base, source)
            if not os.path.isfile(path):
                problems.append(f'{where}: source file {source} does not exist')
            continue
        kind = source.get('type')
        if kind not in LOCAL_SOURCE_TYPES or 'path' not in source:
            if kind in ('archive', 'file') and not source.get('sha256'):
                problems.append(f'{where}: {kind} source {source.get("url")} has no sha256')
            continue
        path = os.path.normpath(os.path.join(base, source['path']))
        if kind == 'dir':
            if not os.path.isdir(path):
                problems.append(f'{where}: dir source {source["path"]} does not exist')
            elif module.get('buildsystem') == 'meson' and \
                    not os.path.isfile(os.path.join(path, 'meson.build')):
                problems.append(f'{where}: dir source {source["path"]} has no meson.build')
        elif not os.path.isfile(path):
            problems.append(f'{where}: {kind} source {source["path"]} does not exist')
    for sub in module.get('modules', []):
        check_module(sub, base, where, problems)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    manifest_path = argv[1]
    with open(manifest_path, encoding='utf-8') as f:
        manifest = json.load(f)
    base = os.path.dirname(os.path.abspath(manifest_path))
    problems = []

    app_id = manifest.get('id') or manifest.get('app-id')
    if os.path.basename(manifest_path) != f'{app_id}.json':
        problems.append(f'the id {app_id} does not match the file name')
    if manifest.get('command') != 'opensecureconf':
        problems.append(f'the command is {manifest.get("command")}, not opensecureconf')
    for arg in manifest.get('finish-args', []):
        if arg not in ALLOWED_FINISH_ARGS:
            problems.append(f'finish-arg {arg} is not one this app needs')
    for arg in ALLOWED_FINISH_ARGS - set(manifest.get('finish-args', [])):
        problems.append(f'finish-arg {arg} is missing')
    if not manifest.get('modules'):
        problems.append('no modules')
    for module in manifest.get('modules', []):
        check_module(module, base, 'modules', problems)

    for p in problems:
        print(f'{manifest_path}: {p}', file=sys.stderr)
    if not problems:
        print(f'{manifest_path}: ok')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
