#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Run every test layer (unit, packet, netns) and print one closing line:
# "N passed, N failed[, N skipped]".  Each layer ends its own output with
# "LAYER: N passed, N failed[, N skipped]"; a layer that dies without that
# line counts as one failure.
set -u
cd "$(dirname "$0")/.."
OUT=.output
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

total_pass=0 total_fail=0 total_skip=0

run_layer() {
	local name=$1; shift
	local log rc line p f s
	log=$(mktemp)
	echo "=== $name: $*"
	timeout --kill-after=10 "${LAYER_TIMEOUT:-900}" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "=== $name: no summary line (exit $rc): counted as 1 failure"
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	s=0
	grep -q skipped <<<"$line" && s=$(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "=== $name: exit $rc with no failed test: counted as 1 failure"
		f=1
	fi
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
}

if [ "$(id -u)" -ne 0 ]; then
	echo "make check needs root (BPF, XDP and network namespaces)" >&2
	exit 1
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

run_layer unit "$OUT/tests/test_unit"
run_layer maglev "$OUT/tests/test_maglev"
run_layer config "$OUT/tests/test_config"
run_layer cli "$OUT/tests/test_cli"
run_layer ctlsock "$OUT/tests/test_ctlsock"
run_layer health "$OUT/tests/test_health"
run_layer metrics "$OUT/tests/test_metrics"
run_layer prog tests/prog/run.sh
run_layer ct "$OUT/tests/test_ct"
run_layer hcpath "$OUT/tests/test_hc"
run_layer lb "$OUT/tests/test_lb"
run_layer netns tests/netns/run.sh

echo
if [ "$total_skip" -gt 0 ]; then
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
