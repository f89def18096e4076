#!/bin/sh
# Usage: verify-unit.sh SYSTEMD-ANALYZE UNIT-FILE
# Runs `systemd-analyze verify` on UNIT-FILE (copied as oscd.service, the name it is
# installed under) and fails on any complaint: systemd only warns about settings it
# ignores, so its exit status alone is not enough.
set -eu
analyze=$1
unit=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$unit" "$dir/oscd.service"
cd "$dir"
status=0
out=$("$analyze" verify --man=no ./oscd.service 2>&1) || status=$?
if [ -n "$out" ]; then
	printf '%s\n' "$out"
fi
if [ "$status" -ne 0 ] || [ -n "$out" ]; then
	echo "systemd-analyze verify: exit status $status, output above" >&2
	exit 1
fi
echo "oscd.service: systemd-analyze verify has no complaint"
