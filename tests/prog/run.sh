#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Packet fixtures: generate them with scapy, run them through the real object.
set -u
cd "$(dirname "$0")/../.."
fx=$(mktemp --suffix=.json)
trap 'rm -f "$fx"' EXIT
if ! /usr/bin/python3 tests/prog/gen_fixtures.py >"$fx"; then
	echo "prog: fixture generation failed"
	echo "prog: 0 passed, 1 failed"
	exit 1
fi
exec .output/tests/test_prog "$fx"
