#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make bench: print the data plane's cost per packet (docs/performance.md),
# the Maglev builder's, the health checks' and the /metrics render's costs.
# bench_prog builds its topology in a network namespace of its own
# (unshare), which the kernel removes when it exits, however it exits: there
# is nothing here to clean up.  Arguments are passed on (see --help).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" -ne 0 ]; then
	echo "make bench needs root (BPF and a network namespace)" >&2
	exit 1
fi
if [ "$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)" != 0 ]; then
	echo "warning: kernel.bpf_stats_enabled is on and slows every BPF program;" \
	     "the bench leaves it alone, the figures will be skewed" >&2
fi
.output/tests/bench_maglev || exit 1
echo
.output/tests/bench_failover || exit 1
echo
# /metrics: 1,000 VIPs x 10 backends on a real data plane (private netns
# and pin root of its own, removed when it exits).
.output/tests/bench_metrics || exit 1
# ... and with a health check (a latency histogram) on every backend.
.output/tests/bench_metrics -H || exit 1
echo
# The health-check engine's CPU use; its own private network namespace too.
.output/tests/bench_health || exit 1
echo
exec .output/tests/bench_prog "$@"
