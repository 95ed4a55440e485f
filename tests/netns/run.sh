#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Netns tests: real TCP through the real XDP load balancer.
#
#   client ---- router ---- lb        (xlb, native XDP, XDP_TX back out)
#                 |  \
#                 |   `---- be1       (xlb-decap, VIP on lo, TCP server)
#                 `-------- be2       (xlb-decap, VIP on lo, TCP server)
#
# The client connects to the VIP; the router routes the VIP to the lb, the
# lb encapsulates toward a backend and sends the packet back to the router,
# which forwards it to the backend; the backend decapsulates in XDP and
# answers the client directly (DSR).
#
# Usage: tests/netns/run.sh [TEST...]      (default: every test)
# Prints PASS/FAIL/SKIP per test and ends with
# "netns: N passed, N failed[, N skipped]".  Everything it creates carries
# this run's pid and is removed on exit, error or interrupt.
#
# Environment: XLB_DECAP, LBSETUP override the binaries under .output/;
# NETNS_CONNS sets the connections per e2e test (default 200).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/netns/lib.sh
. tests/netns/lib.sh || exit 1

OUT=.output
XLB_DECAP=${XLB_DECAP:-$OUT/xlb-decap}
LBSETUP=${LBSETUP:-$OUT/tests/lbsetup}
XLBD=${XLBD:-$OUT/xlbd}
XLBCTL=${XLBCTL:-$OUT/xlbctl}
BENCH_METRICS=${BENCH_METRICS:-$OUT/tests/bench_metrics}
HCPROBE=${HCPROBE:-$OUT/tests/hcprobe}
PY=/usr/bin/python3
CONNS=${NETNS_CONNS:-200}

ID=$$
PIN_ROOT=/sys/fs/bpf/xlbtest-$ID
NS_C=xlbt-$ID-client
NS_R=xlbt-$ID-router
NS_L=xlbt-$ID-lb
NS_B1=xlbt-$ID-be1
NS_B2=xlbt-$ID-be2
NS_T=xlbt-$ID-tool
PORT=8080

# Addresses.  Router side of each link is .1 / ::1.
C4=10.0.1.2 C6=fd00:1::2
L4=10.0.2.2 L6=fd00:2::2
B14=10.0.3.2 B16=fd00:3::2
B24=10.0.4.2 B26=fd00:4::2
VIP4=10.100.0.1          # IPv4 VIP, IPv4 backends (IPIP)
VIP6=fd00:100::1         # IPv6 VIP, IPv6 backends (IP6IP6)
VIP46=10.100.0.2         # IPv4 VIP, IPv6 backends (4-in-6)
LINK_MTU=1600            # >= 1500 + 40: the encapsulated frame must fit

TMP=
LB_UP=0
LB_IFACE=lv
npass=0 nfail=0 nskip=0
MSG=

log() { echo "  $*"; }

# ---------------------------------------------------------------- teardown

cleanup() {
	trap - EXIT INT TERM
	# An xlbd whose timeout(1) parent was killed is no longer ours to
	# track by pid; its command line names this run's temp dir.
	[ -n "$TMP" ] && pkill -KILL -f -- "--config $TMP/" 2>/dev/null
	lib_teardown
}

# A trap runs with the redirections of whatever command it interrupts, so
# it reports on a descriptor of its own.
exec 9>&2
trap cleanup EXIT
trap 'echo "netns: interrupted" >&9; exit 130' INT
trap 'echo "netns: terminated" >&9; exit 143' TERM

# ---------------------------------------------------------------- helpers

# A TCP server per backend: reads the whole request, answers
# "<name> <bytes received>".  Dual-stack, so one serves every test.
write_scripts() {
	cat >"$TMP/server.py" <<'EOF'
import socket, socketserver, sys

name, port = sys.argv[1], int(sys.argv[2])

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(5)
        n = 0
        while True:
            b = self.request.recv(65536)
            if not b:
                break
            n += len(b)
        self.request.sendall(("%s %d\n" % (name, n)).encode())

class Server(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

Server(("::", port), Handler).serve_forever()
EOF
	# Sequential connections; request sizes vary so that full-size
	# segments (1500-byte frames, encapsulated above 1500) are carried.
	cat >"$TMP/client.py" <<'EOF'
import socket, sys

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sizes = [64, 3000, 20000]
ok, errors, per = 0, [], {}
for i in range(count):
    size = sizes[i % len(sizes)]
    try:
        s = socket.create_connection((host, port), timeout=3)
        s.settimeout(3)
        s.sendall(b"x" * size)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        s.close()
        words = data.decode().split()
        if len(words) != 2 or int(words[1]) != size:
            raise RuntimeError("reply %r to a %d-byte request" % (data, size))
        per[words[0]] = per.get(words[0], 0) + 1
        ok += 1
    except Exception as e:
        errors.append("connection %d: %r" % (i, e))
        if len(errors) >= 5:
            break
print("ok %d failed %d %s" % (ok, len(errors),
      " ".join("%s %d" % kv for kv in sorted(per.items()))))
for e in errors:
    print("error " + e)
EOF
	# Long-lived connections: each sends a chunk every 0.2 s for a few
	# seconds, then checks the backend counted every byte.
	cat >"$TMP/longclient.py" <<'EOF'
import socket, sys, time

host, port, count, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
conns = [socket.create_connection((host, port), timeout=3) for _ in range(count)]
sent = [0] * count
end = time.time() + secs
while time.time() < end:
    for i, s in enumerate(conns):
        s.sendall(b"y" * 100)
        sent[i] += 100
    time.sleep(0.2)
ok, bad = 0, []
for i, s in enumerate(conns):
    try:
        s.settimeout(5)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        words = data.decode().split()
        if len(words) == 2 and int(words[1]) == sent[i]:
            ok += 1
        else:
            bad.append("connection %d: %r for %d bytes" % (i, data, sent[i]))
    except Exception as e:
        bad.append("connection %d: %r" % (i, e))
print("ok %d failed %d" % (ok, len(bad)))
for b in bad[:5]:
    print("error " + b)
EOF
}

start_server() {
	ns_spawn "$1" "$TMP/server-$2.log" 1800 "$PY" "$TMP/server.py" "$2" "$PORT" &&
		wait_listen "$1" "$PORT" "server on $2"
}

topology() {
	local ns

	ns_add "$NS_C" && ns_add "$NS_R" && ns_add "$NS_L" &&
		ns_add "$NS_B1" && ns_add "$NS_B2" || { TOPO_ERR="ip netns add failed"; return 1; }
	ns_sysctls "$NS_C" 0 && ns_sysctls "$NS_R" 1 && ns_sysctls "$NS_B1" 0 &&
		ns_sysctls "$NS_B2" 0 || { TOPO_ERR="sysctl failed"; return 1; }
	# The lb forwards what XDP hands to the kernel (neighbour unknown).
	ns_sysctls "$NS_L" 1 || { TOPO_ERR="sysctl failed"; return 1; }
	for ns in "$NS_B1" "$NS_B2"; do
		# DSR: the VIP on lo must not be announced or answered in ARP.
		nsx "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2 || { TOPO_ERR="sysctl failed"; return 1; }
	done

	link "$NS_C" cv "$C4" "$C6" "$NS_R" rc 10.0.1.1 fd00:1::1 1500 &&
		link "$NS_L" lv "$L4" "$L6" "$NS_R" rl 10.0.2.1 fd00:2::1 "$LINK_MTU" &&
		link "$NS_B1" bv "$B14" "$B16" "$NS_R" rb1 10.0.3.1 fd00:3::1 "$LINK_MTU" &&
		link "$NS_B2" bv "$B24" "$B26" "$NS_R" rb2 10.0.4.1 fd00:4::1 "$LINK_MTU" ||
		{ TOPO_ERR=${TOPO_ERR:-"veth setup failed"}; return 1; }

	# Checksums stay partial otherwise and are wrong after XDP (trap 4).
	nsx "$NS_C" ethtool -K cv tx off >/dev/null || { TOPO_ERR="ethtool -K cv tx off failed"; return 1; }

	nsx "$NS_C" ip route add default via 10.0.1.1 &&
		nsx "$NS_C" ip -6 route add default via fd00:1::1 &&
		nsx "$NS_L" ip route add default via 10.0.2.1 &&
		nsx "$NS_L" ip -6 route add default via fd00:2::1 &&
		nsx "$NS_B1" ip route add default via 10.0.3.1 &&
		nsx "$NS_B1" ip -6 route add default via fd00:3::1 &&
		nsx "$NS_B2" ip route add default via 10.0.4.1 &&
		nsx "$NS_B2" ip -6 route add default via fd00:4::1 &&
		nsx "$NS_R" ip route add 10.100.0.0/24 via "$L4" &&
		nsx "$NS_R" ip -6 route add fd00:100::/64 via "$L6" ||
		{ TOPO_ERR="routes failed"; return 1; }

	for ns in "$NS_B1" "$NS_B2"; do
		nsx "$ns" ip addr add "$VIP4/32" dev lo &&
			nsx "$ns" ip addr add "$VIP46/32" dev lo &&
			nsx "$ns" ip addr add "$VIP6/128" dev lo nodad ||
			{ TOPO_ERR="VIP on lo failed"; return 1; }
	done

	# Frames the lb sends back with XDP_TX vanish unless the receiving
	# veth runs XDP too (trap 3).  The decapsulator with an address no
	# tunnel packet uses is a pass-through that also counts them.
	decap_attach "$NS_R" rl 10.0.2.1 || { TOPO_ERR="xlb-decap attach on the router failed"; return 1; }
	decap_attach "$NS_B1" bv "$B14" "$B16" || { TOPO_ERR="xlb-decap attach on be1 failed"; return 1; }
	decap_attach "$NS_B2" bv "$B24" "$B26" || { TOPO_ERR="xlb-decap attach on be2 failed"; return 1; }

	write_scripts
	start_server "$NS_B1" be1 && start_server "$NS_B2" be2
}

lb_up() {
	local out

	out=$(nsb "$NS_L" timeout 30 "$LBSETUP" up --pin-root "$PIN_ROOT/lb" --iface lv "$@" 2>&1) || {
		MSG="lbsetup up failed: $(echo "$out" | tail -n1)"
		return 1
	}
	LB_UP=1
}

lb_down() {
	local out

	[ "$LB_UP" = 1 ] || return 0
	LB_UP=0
	out=$(nsb "$NS_L" timeout 30 "$LBSETUP" down --pin-root "$PIN_ROOT/lb" --iface lv 2>&1) || {
		MSG="lbsetup down failed: $out"
		return 1
	}
	if nsx "$NS_L" ip -o link show dev lv | grep -q ' xdp'; then
		MSG="XDP still attached to lv after lbsetup down"
		return 1
	fi
}

# "$1" is the "lbsetup stats" output; prints the value of line "$2 $3".
stat_of() {
	awk -v a="$2" -v b="$3" '$1 == a && $2 == b { v = ($1 == "backend" ? $6 : $3) } END { print v + 0 }' <<<"$1"
}

# ---------------------------------------------------------------- tests

# The operator tool itself: errors, attach/show/stats/detach, pins, modes.
test_decap_cli() {
	local root=$PIN_ROOT/decap-tool out rc f

	[ -x "$XLB_DECAP" ] || { MSG="not built: $XLB_DECAP (run make)"; return 1; }
	ns_add "$NS_T" || { MSG="ip netns add failed"; return 1; }
	nsx "$NS_T" ip link add name ta type veth peer name tb &&
		nsx "$NS_T" ip link set ta up && nsx "$NS_T" ip link set tb up ||
		{ MSG="veth setup failed"; return 1; }

	out=$(nsb "$NS_T" "$XLB_DECAP" attach ta 10.0.0.1 10.0.0.300 --pin-root "$root" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && grep -q "10.0.0.300" <<<"$out" ||
		{ MSG="bad address: rc $rc, '$out'"; return 1; }
	out=$(nsb "$NS_T" "$XLB_DECAP" attach nosuchdev 10.0.0.1 --pin-root "$root" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && grep -q "nosuchdev" <<<"$out" ||
		{ MSG="bad interface: rc $rc, '$out'"; return 1; }
	out=$(nsb "$NS_T" "$XLB_DECAP" frobnicate 2>&1)
	rc=$?
	[ $rc -ne 0 ] && grep -q "frobnicate" <<<"$out" ||
		{ MSG="bad command: rc $rc, '$out'"; return 1; }
	out=$(nsb "$NS_T" "$XLB_DECAP" attach lo 10.0.0.1 --pin-root "$root" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && grep -q -- "--generic" <<<"$out" ||
		{ MSG="native on lo: rc $rc, '$out'"; return 1; }
	[ ! -e "$root" ] || { MSG="failed attaches left pins in $root"; return 1; }
	nsb "$NS_T" "$XLB_DECAP" help | grep -q "attach IFACE ADDR" ||
		{ MSG="help does not describe attach"; return 1; }

	out=$(nsb "$NS_T" "$XLB_DECAP" attach ta 10.0.0.1 fd00::1 --pin-root "$root" 2>&1) ||
		{ MSG="attach failed: $out"; return 1; }
	nsx "$NS_T" ip -o link show dev ta | grep -q ' xdp ' ||
		{ MSG="no native XDP on ta after attach"; return 1; }
	for f in link xlb_decap_addrs_v1 xlb_decap_stats_v1; do
		[ -e "$root/ta/$f" ] || { MSG="missing pin $root/ta/$f"; return 1; }
	done
	out=$(nsb "$NS_T" "$XLB_DECAP" attach ta 10.0.0.2 --pin-root "$root" 2>&1) &&
		{ MSG="second attach succeeded"; return 1; }
	grep -q "already attached" <<<"$out" || { MSG="second attach: '$out'"; return 1; }
	out=$(nsb "$NS_T" "$XLB_DECAP" sh ta -j --pin-root "$root" 2>&1) ||
		{ MSG="show failed: $out"; return 1; }
	grep -q '"attached":true' <<<"$out" && grep -q '"10.0.0.1"' <<<"$out" &&
		grep -q '"fd00::1"' <<<"$out" || { MSG="show -j: '$out'"; return 1; }
	out=$(nsb "$NS_T" "$XLB_DECAP" st ta --pin-root "$root" 2>&1) ||
		{ MSG="stats failed: $out"; return 1; }
	[ "$(awk '{ print $1 }' <<<"$out" | tr '\n' ' ')" = "decap4 decap6 not_ours malformed " ] ||
		{ MSG="stats: '$out'"; return 1; }
	out=$(nsb "$NS_T" "$XLB_DECAP" detach ta --pin-root "$root" 2>&1) ||
		{ MSG="detach failed: $out"; return 1; }
	nsx "$NS_T" ip -o link show dev ta | grep -q ' xdp' &&
		{ MSG="XDP still on ta after detach"; return 1; }
	[ ! -e "$root" ] || { MSG="detach left $root"; return 1; }
	nsb "$NS_T" "$XLB_DECAP" detach ta --pin-root "$root" >/dev/null 2>&1 &&
		{ MSG="detach of nothing succeeded"; return 1; }

	out=$(nsb "$NS_T" "$XLB_DECAP" attach ta 10.0.0.1 --generic --pin-root "$root" 2>&1) ||
		{ MSG="generic attach failed: $out"; return 1; }
	nsx "$NS_T" ip -o link show dev ta | grep -q ' xdpgeneric ' ||
		{ MSG="no generic XDP on ta after attach --generic"; return 1; }
	# The pins outlive the interface; detach still cleans up.
	nsx "$NS_T" ip link del ta
	out=$(nsb "$NS_T" "$XLB_DECAP" detach ta --pin-root "$root" 2>&1) ||
		{ MSG="detach after the interface went away failed: $out"; return 1; }
	[ ! -e "$root" ] || { MSG="detach left $root"; return 1; }
	return 0
}

# Drive $CONNS connections to $1 through the lb set up with the remaining
# arguments and check that both backends served and the lb transmitted.
e2e() {
	local vip=$1 tunnel=$2 out stats res ok n1 n2 tx drop d1 d2 d1b d2b p1 p2
	shift 2

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	d1b=$(decap_stat "$NS_B1" bv "$tunnel")
	d2b=$(decap_stat "$NS_B2" bv "$tunnel")
	lb_up "$@" || return 1

	fg_run ip netns exec "$NS_C" timeout 180 "$PY" "$TMP/client.py" "$vip" "$PORT" "$CONNS" \
		>"$TMP/client.out" 2>&1
	out=$(cat "$TMP/client.out")
	stats=$(nsb "$NS_L" timeout 30 "$LBSETUP" stats --pin-root "$PIN_ROOT/lb" 2>&1)
	res=$?
	lb_down || return 1
	[ $res -eq 0 ] || { MSG="lbsetup stats failed: $(tail -n1 <<<"$stats")"; return 1; }

	read -r _ ok _ <<<"$(head -n1 <<<"$out")"
	n1=$(awk '{ for (i = 5; i < NF; i += 2) if ($i == "be1") print $(i + 1) }' <<<"$(head -n1 <<<"$out")")
	n2=$(awk '{ for (i = 5; i < NF; i += 2) if ($i == "be2") print $(i + 1) }' <<<"$(head -n1 <<<"$out")")
	tx=$(stat_of "$stats" verdict tx)
	drop=$(stat_of "$stats" verdict drop)
	p1=$(stat_of "$stats" backend 1)
	p2=$(stat_of "$stats" backend 2)
	d1=$(( $(decap_stat "$NS_B1" bv "$tunnel") - d1b ))
	d2=$(( $(decap_stat "$NS_B2" bv "$tunnel") - d2b ))
	log "client: $(head -n1 <<<"$out")"
	log "lb: tx $tx redirect $(stat_of "$stats" verdict redirect) drop $drop pass $(stat_of "$stats" verdict pass) (no_neigh $(stat_of "$stats" reason no_neigh)), backend packets $p1/$p2; $tunnel be1 $d1 be2 $d2"

	if [ "${ok:-0}" != "$CONNS" ]; then
		MSG="${ok:-0}/$CONNS connections completed: $(grep -m1 '^error' <<<"$out" || tail -n1 <<<"$out")"
		return 1
	fi
	[ "${n1:-0}" -gt 0 ] && [ "${n2:-0}" -gt 0 ] ||
		{ MSG="not both backends answered: be1 ${n1:-0}, be2 ${n2:-0}"; return 1; }
	if [ "${E2E_VERDICT:-tx}" = tx ]; then
		[ "$tx" -gt 0 ] || { MSG="lb counted no XDP_TX"; return 1; }
	else
		[ "$(stat_of "$stats" verdict "$E2E_VERDICT")" -gt 0 ] && [ "$tx" -eq 0 ] ||
			{ MSG="lb verdicts: tx $tx, $E2E_VERDICT $(stat_of "$stats" verdict "$E2E_VERDICT")"; return 1; }
	fi
	if [ -n "${E2E_REASON:-}" ]; then
		[ "$(stat_of "$stats" reason "$E2E_REASON")" -gt 100 ] ||
			{ MSG="lb reason $E2E_REASON: $(stat_of "$stats" reason "$E2E_REASON")"; return 1; }
	fi
	[ "$drop" -eq 0 ] || { MSG="lb dropped $drop packets"; return 1; }
	[ "$p1" -gt 0 ] && [ "$p2" -gt 0 ] ||
		{ MSG="lb backend counters: $p1/$p2 packets"; return 1; }
	[ "$d1" -gt 0 ] && [ "$d2" -gt 0 ] ||
		{ MSG="backends decapsulated $d1/$d2 $tunnel packets"; return 1; }
	return 0
}

test_e2e_tcp() {
	e2e "$VIP4" decap4 --vip "$VIP4:$PORT/tcp" --backend "1=$B14" --backend "2=$B24"
}

test_e2e_tcp6() {
	e2e "$VIP6" decap6 --vip "[$VIP6]:$PORT/tcp" --backend "1=$B16" --backend "2=$B26"
}

test_e2e_4in6() {
	e2e "$VIP46" decap6 --vip "$VIP46:$PORT/tcp" --backend "1=$B16" --backend "2=$B26"
}

# Two-armed LB: the backends are reached through a second device, so the
# FIB's egress differs from the ingress and packets leave by
# bpf_redirect_map instead of XDP_TX.
test_e2e_redirect() {
	local rc

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	if [ -z "${REDIR_UP:-}" ]; then
		link "$NS_L" lv2 10.0.6.2 fd00:6::2 "$NS_R" rl2 10.0.6.1 fd00:6::1 "$LINK_MTU" ||
			{ MSG="second lb link failed"; return 1; }
		# The receiving veth needs XDP of its own (trap 3).
		decap_attach "$NS_R" rl2 10.0.6.1 || { MSG="xlb-decap on rl2 failed"; return 1; }
		REDIR_UP=1
	fi
	nsx "$NS_L" ip route add 10.0.3.0/24 via 10.0.6.1 dev lv2 &&
		nsx "$NS_L" ip route add 10.0.4.0/24 via 10.0.6.1 dev lv2 ||
		{ MSG="routes via lv2 failed"; return 1; }
	if [ "${1:-}" = miss ]; then
		# lv2 left out of the devmap: the encapsulated packets go to the
		# kernel, re-addressed to this host, and it forwards them.
		E2E_VERDICT=pass E2E_REASON=devmap_miss e2e "$VIP4" decap4 --vip "$VIP4:$PORT/tcp" --backend "1=$B14" \
			--backend "2=$B24"
	else
		E2E_VERDICT=redirect e2e "$VIP4" decap4 --vip "$VIP4:$PORT/tcp" --backend "1=$B14" \
			--backend "2=$B24" --egress lv2
	fi
	rc=$?
	nsx "$NS_L" ip route del 10.0.3.0/24 via 10.0.6.1 dev lv2
	nsx "$NS_L" ip route del 10.0.4.0/24 via 10.0.6.1 dev lv2
	return $rc
}

test_e2e_devmap_miss() {
	test_e2e_redirect miss
}

XLBD_PID=

xlbd_start() {
	local i

	nsenter --net="/run/netns/$NS_L" timeout 300 "$XLBD" --config "$TMP/xlbd.json" "$@" \
		>>"$TMP/xlbd.log" 2>&1 8>&- 9>&- &
	XLBD_PID=$!
	BG_PIDS+=("$XLBD_PID")
	for i in $(seq 1 100); do
		ctl -j status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	MSG="xlbd did not answer within 10 s: $(tail -n2 "$TMP/xlbd.log")"
	return 1
}

ctl() { "$XLBCTL" -s "$TMP/xlbd.sock" -p "$PIN_ROOT/xlbd" "$@"; }

# xlbctl detach, then wait up to 5 s for xlbd to exit.
xlbd_detach() {
	local i

	ctl detach >/dev/null || { MSG="detach failed"; return 1; }
	for i in $(seq 1 50); do
		kill -0 "$XLBD_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	return 0
}

link_id() {
	ctl -j status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["link_id"])'
}

# Entries in the pinned connection table, with no daemon running.
ct_entries_offline() {
	nsb "$NS_L" bpftool -j map dump pinned "$PIN_ROOT/xlbd/xlb_conntrack_v2" 2>/dev/null |
		"$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

ct_entries() {
	ctl -j status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["conntrack_entries"])'
}

# The daemon and the CLI: configure through xlbctl, kill -9 xlbd under live
# long-lived connections (forwarding goes on, stats read the pins), restart
# (the same link is adopted), drain, reload a bad and a good config, detach.
test_daemon() {
	local out l1 l2 lc i ct1 ct2

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	cat >"$TMP/xlbd.json" <<EOF
{"version": 1, "interfaces": [{"name": "lv"}], "pin_root": "$PIN_ROOT/xlbd",
 "control": {"socket": "$TMP/xlbd.sock"}, "state_file": "$TMP/xlbd-state.json", "vips": []}
EOF
	xlbd_start || return 1
	ctl vip add "$VIP4:$PORT/tcp" && ctl backend add "$VIP4:$PORT/tcp" "$B14" &&
		ctl backend add "$VIP4:$PORT/tcp" "$B24" || { MSG="xlbctl vip/backend add failed"; return 1; }
	out=$(ctl backend add "$VIP4:$PORT/tcp" "$B24" 2>&1) && { MSG="duplicate backend accepted"; return 1; }
	grep -q "already" <<<"$out" || { MSG="duplicate backend: '$out'"; return 1; }
	out=$(ctl backend add "$VIP4:$PORT/tcp" 10.0.9.9 weight 70000 2>&1)
	[ $? -eq 2 ] && grep -q "weight" <<<"$out" || { MSG="weight 70000: '$out'"; return 1; }
	l1=$(link_id) || { MSG="status failed"; return 1; }

	# The socket: a non-root peer is refused; malformed, oversized and
	# half-written requests get errors and the daemon keeps serving.
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$XLBCTL" -s "$TMP/xlbd.sock" status 2>&1) &&
		{ MSG="a non-root peer was served"; return 1; }
	grep -qi "permission denied" <<<"$out" || { MSG="non-root peer: '$out'"; return 1; }
	out=$(timeout 10 "$PY" - "$TMP/xlbd.sock" <<'EOF'
import json, socket, sys
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    return s, s.makefile("rb")
s, f = conn()
s.sendall(b"this is not json\n{\"cmd\":\"status\"}\n")
a, b = json.loads(f.readline()), json.loads(f.readline())
s2, f2 = conn()
s2.sendall(b"x" * 70000 + b"\n")
c = json.loads(f2.readline())
s3, f3 = conn()
s3.sendall(b'{"cmd": "sta')        # half-written, left open
s4, f4 = conn()
s4.sendall(b'{"cmd":"status"}\n')
d = json.loads(f4.readline())
print(a["ok"], "error" in a, b["ok"], c["ok"], "too large" in c.get("error", ""), d["ok"])
EOF
)
	[ "$out" = "False True True False True True" ] || { MSG="socket bounds: '$out'"; return 1; }

	ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/longclient.py" "$VIP4" "$PORT" 20 4 \
		>"$TMP/long.out" 2>&1 &
	lc=$!
	sleep 1
	# $XLBD_PID is timeout(1); xlbd is its child.
	kill -9 "$(pgrep -P "$XLBD_PID")" || { MSG="no xlbd process to kill"; return 1; }
	wait "$XLBD_PID" 2>/dev/null
	out=$(ctl stats 2>&1) || { MSG="stats with xlbd down failed: $out"; return 1; }
	grep -q "not running" <<<"$out" || { MSG="offline stats: '$out'"; return 1; }
	wait "$lc"
	log "long-lived connections while xlbd was killed: $(head -n1 "$TMP/long.out")"
	grep -q "^ok 20 failed 0" "$TMP/long.out" ||
		{ MSG="long-lived connections broke: $(sed -n 2p "$TMP/long.out")"; return 1; }

	ct1=$(ct_entries_offline)
	xlbd_start || return 1
	l2=$(link_id)
	[ "$l1" = "$l2" ] || { MSG="link $l1 not adopted (now $l2)"; return 1; }
	ct2=$(ct_entries)
	log "connection table: $ct1 entries before the restart, $ct2 after"
	[ "${ct2:-0}" -ge 20 ] && [ "${ct2:-0}" -ge "${ct1:-0}" ] ||
		{ MSG="connection entries lost across the restart: $ct1 -> $ct2"; return 1; }
	out=$(timeout 3.5 "$XLBCTL" -s "$TMP/xlbd.sock" stats watch 1 2>&1)
	[ "$(grep -c "pps" <<<"$out")" -ge 2 ] || { MSG="stats watch printed no rates: '$out'"; return 1; }
	fg_run ip netns exec "$NS_C" timeout 120 "$PY" "$TMP/client.py" "$VIP4" "$PORT" 60 \
		>"$TMP/d.out" 2>&1
	grep -q "^ok 60 failed 0" "$TMP/d.out" || { MSG="after restart: $(head -n2 "$TMP/d.out")"; return 1; }

	ctl backend drain "$VIP4:$PORT/tcp" "$B24" || { MSG="drain failed"; return 1; }
	fg_run ip netns exec "$NS_C" timeout 120 "$PY" "$TMP/client.py" "$VIP4" "$PORT" 30 \
		>"$TMP/d.out" 2>&1
	log "after draining be2: $(head -n1 "$TMP/d.out")"
	grep -q "^ok 30 failed 0 be1 30$" "$TMP/d.out" || { MSG="drain: $(head -n1 "$TMP/d.out")"; return 1; }

	# Reload: a broken file changes nothing, a good one replaces the state.
	cp "$TMP/xlbd.json" "$TMP/xlbd.good"
	echo '{"version": 1, "vips": [' >"$TMP/xlbd.json"
	ctl config reload >/dev/null 2>&1 && { MSG="a broken config was reloaded"; return 1; }
	ctl vip show "$VIP4:$PORT/tcp" >/dev/null || { MSG="VIP lost after a rejected reload"; return 1; }
	cp "$TMP/xlbd.good" "$TMP/xlbd.json"
	ctl config reload || { MSG="reload of a good config failed"; return 1; }
	out=$(ctl vip list)
	[ -z "$out" ] || { MSG="reload did not replace the state: '$out'"; return 1; }

	xlbd_detach || return 1
	nsx "$NS_L" ip -o link show dev lv | grep -q ' xdp' && { MSG="XDP still attached after detach"; return 1; }
	[ ! -e "$PIN_ROOT/xlbd" ] || { MSG="pins left after detach"; return 1; }
	return 0
}

# Crash safety: 200 state-changing commands while xlbd is killed with
# SIGKILL at random points of their handling.  Every acknowledged change
# must be in the state after the final restart, and the state file must
# always be whole.
test_daemon_crash() {
	local i acked=() out addr kills=0 t0=$SECONDS pid killer

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	cat >"$TMP/xlbd.json" <<EOF
{"version": 1, "interfaces": [{"name": "lv"}], "pin_root": "$PIN_ROOT/xlbd",
 "control": {"socket": "$TMP/xlbd.sock"}, "state_file": "$TMP/xlbd-crash.json",
 "vips": [{"vip": "$VIP4:$PORT/tcp", "ring_size": 4093, "backends": [{"address": "$B14"}]}]}
EOF
	rm -f "$TMP/xlbd-crash.json"
	xlbd_start || return 1
	for i in $(seq 1 200); do
		[ $((SECONDS - t0)) -lt 150 ] || { MSG="time limit after $i commands"; return 1; }
		addr=10.2.$((i / 200)).$((i % 200 + 1))
		pid=$(pgrep -P "$XLBD_PID")
		killer=
		if [ $((RANDOM % 8)) -eq 0 ] && [ -n "$pid" ]; then
			(sleep "0.00$((RANDOM % 10))"; kill -9 "$pid" 2>/dev/null) &
			killer=$!
			kills=$((kills + 1))
		fi
		if ctl backend add "$VIP4:$PORT/tcp" "$addr" weight 1 >/dev/null 2>&1; then
			acked+=("$addr")
		fi
		[ -z "$killer" ] || wait "$killer" 2>/dev/null
		if ! kill -0 "$(pgrep -P "$XLBD_PID")" 2>/dev/null; then
			wait "$XLBD_PID" 2>/dev/null
			"$XLBD" --check-config "$TMP/xlbd-crash.json" >/dev/null 2>&1 ||
				{ MSG="torn state file after a kill: $("$XLBD" --check-config "$TMP/xlbd-crash.json" 2>&1)"; return 1; }
			xlbd_start || return 1
		fi
	done
	# One last kill and restart, then every acknowledged change must be there.
	kill -9 "$(pgrep -P "$XLBD_PID")"
	wait "$XLBD_PID" 2>/dev/null
	xlbd_start || return 1
	out=$(ctl -j vip show "$VIP4:$PORT/tcp") || { MSG="vip show failed"; return 1; }
	for addr in "${acked[@]}"; do
		grep -q "\"$addr\"" <<<"$out" || { MSG="acknowledged backend $addr lost"; return 1; }
	done
	log "${#acked[@]} of 200 changes acknowledged, $kills kills: all acknowledged changes kept"
	[ "${#acked[@]}" -gt 100 ] && [ "$kills" -gt 5 ] ||
		{ MSG="too few acknowledged changes (${#acked[@]}) or kills ($kills) to mean anything"; return 1; }
	xlbd_detach || return 1
	return 0
}

# Every xlbctl command against the real daemon, success and error cases,
# -batch (validated whole before anything is sent), config dump reproducing
# the state, and a pinned layout of another version refused unless --replace.
test_cli() {
	local out V="$VIP4:$PORT/tcp" i

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	cat >"$TMP/xlbd.json" <<EOF
{"version": 1, "interfaces": [{"name": "lv"}], "pin_root": "$PIN_ROOT/xlbd",
 "control": {"socket": "$TMP/xlbd.sock"}, "state_file": "$TMP/xlbd-cli.json", "vips": []}
EOF
	rm -f "$TMP/xlbd-cli.json"
	# Another layout's pin: refused, then replaced on request.
	mkdir -p "$PIN_ROOT/xlbd"
	bpftool map create "$PIN_ROOT/xlbd/xlb_vips_v0" type array key 4 value 4 entries 1 name old ||
		{ MSG="bpftool map create failed"; return 1; }
	out=$(nsb "$NS_L" timeout 20 "$XLBD" --config "$TMP/xlbd.json" 2>&1) &&
		{ MSG="xlbd adopted another layout"; return 1; }
	grep -q "another layout" <<<"$out" && grep -q -- "--replace" <<<"$out" ||
		{ MSG="layout refusal: '$out'"; return 1; }
	xlbd_start --replace || return 1
	[ ! -e "$PIN_ROOT/xlbd/xlb_vips_v0" ] || { MSG="--replace kept the old pin"; return 1; }

	ctl vip add "$V" ring-size 4093 hash src conntrack on &&
		ctl backend add "$V" "$B14" weight 10 &&
		ctl backend add "$V" "$B24" weight 20 state drain &&
		ctl backend set "$V" "$B14" weight 30 &&
		ctl backend undrain "$V" "$B24" || { MSG="a change was refused"; return 1; }
	out=$(ctl vip show "$V") && grep -q "ring 4093" <<<"$out" || { MSG="vip show: '$out'"; return 1; }
	out=$(ctl backend list "$V")
	grep -q "$B14 .*weight 30 .*effective 30 " <<<"$out" && grep -q "$B24 .*weight 20 .*effective 20 *up" <<<"$out" ||
		{ MSG="backend list: '$out'"; return 1; }
	out=$(ctl maglev show "$V") && grep -q "ring 4093 slots" <<<"$out" ||
		{ MSG="maglev show: '$out'"; return 1; }
	ctl -j vip list | "$PY" -c 'import json,sys; json.load(sys.stdin)' ||
		{ MSG="vip list -j is not JSON"; return 1; }
	ctl stats >/dev/null && ctl status >/dev/null || { MSG="stats/status failed"; return 1; }

	# Health options: a partial vip set keeps the other keys; vip show prints them.
	ctl vip set "$V" health tcp interval 200 dead-backend drop && ctl vip set "$V" rise 1 &&
		ctl backend set "$V" "$B24" health-port 81 || { MSG="a health change was refused"; return 1; }
	out=$(ctl vip show "$V")
	grep -q "health tcp port $PORT interval 200ms timeout 200ms rise 1 fall 3" <<<"$out" &&
		grep -q "dead-backend drop, all-down drop" <<<"$out" || { MSG="vip show health: '$out'"; return 1; }
	ctl config dump | grep -q '"port": 81' || { MSG="backend override not in the dump"; return 1; }
	# An override without a type needs a VIP with checks: "none" is refused first.
	ctl vip set "$V" health none 2>&1 | grep -q "health.type: missing: the VIP has no checks" ||
		{ MSG="none accepted under a typeless override"; return 1; }
	ctl backend set "$V" "$B24" health-override clear &&
		ctl vip set "$V" health none dead-backend rechoose || { MSG="health reset refused"; return 1; }
	out=$(ctl vip show "$V") && grep -q "health none; dead-backend rechoose" <<<"$out" ||
		{ MSG="vip show after reset: '$out'"; return 1; }

	# config dump reproduces the state: it is a valid config with this VIP.
	ctl config dump >"$TMP/dump.json" && "$XLBD" --check-config "$TMP/dump.json" >/dev/null &&
		grep -q '"ring_size": 4093' "$TMP/dump.json" || { MSG="config dump does not reload"; return 1; }

	# Errors: named argument, non-zero exit, nothing changed.
	for c in "vip add 10.0.0.300:80/tcp" "vip add 10.0.0.1:70000/tcp" "vip add $V" \
		 "vip show 10.9.9.9:80/tcp" "backend add $V $B14" "backend set $V 10.7.7.7 weight 1" \
		 "backend add $V 10.7.7.7 weight 70000" "vip add 10.0.0.9:80/tcp ring-size 1000" \
		 "frobnicate" "backend d $V $B14" "vip set $V" "vip set $V path /x" \
		 "vip set $V health tcp timeout 2000"; do
		# shellcheck disable=SC2086
		out=$(ctl $c 2>&1) && { MSG="'xlbctl $c' succeeded"; return 1; }
		[ -n "$out" ] || { MSG="'xlbctl $c' failed silently"; return 1; }
	done
	cmp -s <(ctl config dump) "$TMP/dump.json" || { MSG="a refused command changed the state"; return 1; }

	# -batch: a bad line anywhere means nothing is sent.
	printf 'backend add %s 10.0.7.1\nbackend add %s 10.0.7.300\n' "$V" "$V" >"$TMP/batch"
	ctl -batch "$TMP/batch" >/dev/null 2>&1 && { MSG="a bad batch ran"; return 1; }
	ctl backend list "$V" | grep -q 10.0.7.1 && { MSG="a bad batch was half-applied"; return 1; }
	printf '# comment\nbackend add %s 10.0.7.1\nbackend del %s 10.0.7.1\nvip del %s\n' \
		"$V" "$V" "$V" >"$TMP/batch"
	ctl -batch "$TMP/batch" || { MSG="a good batch failed"; return 1; }
	[ -z "$(ctl vip list)" ] || { MSG="vip del in the batch did not apply"; return 1; }
	ctl help | grep -q "backend" && ctl vip help | grep -q "vip add" || { MSG="help"; return 1; }

	# SIGHUP reloads the config file like "config reload".
	sed -i "s|\"vips\": \[\]|\"vips\": [{\"vip\": \"$V\", \"backends\": [{\"address\": \"$B14\"}]}]|" \
		"$TMP/xlbd.json"
	kill -HUP "$(pgrep -P "$XLBD_PID")" || { MSG="no xlbd to signal"; return 1; }
	for i in $(seq 1 50); do
		ctl vip list | grep -q "$VIP4" && break
		sleep 0.1
	done
	ctl backend list "$V" | grep -q "$B14" || { MSG="SIGHUP did not reload the config"; return 1; }

	# Reload: what needs a restart is reported; what reshapes the data
	# plane is refused whole.
	sed -i 's|"vips": \[|"metrics": {"listen": "127.0.0.1:9700"}, "vips": [|' "$TMP/xlbd.json"
	out=$(ctl config reload 2>&1) && grep -q "after restarting xlbd: metrics" <<<"$out" ||
		{ MSG="reload with a new metrics address: '$out'"; return 1; }
	sed -i 's|"vips": \[|"limits": {"max_vips": 8}, "vips": [|' "$TMP/xlbd.json"
	out=$(ctl config reload 2>&1) && { MSG="a limits change was reloaded"; return 1; }
	grep -q "limits" <<<"$out" || { MSG="limits change: '$out'"; return 1; }

	xlbd_detach || return 1
	return 0
}

# While xlb is attached with VIPs configured, the LB host's own traffic
# keeps working: ARP and ND resolve, pings answer, and TCP to the host's own
# address (v4 and v6) reaches the host's stack; xlb counts it as passed.
test_host_traffic() {
	local stats out ok fam addr

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	lb_up --vip "$VIP4:$PORT/tcp" --backend "1=$B14" --backend "2=$B24" || return 1
	if [ -z "${LBHOST_UP:-}" ]; then
		start_server "$NS_L" lbhost || { MSG="server on the lb failed"; return 1; }
		LBHOST_UP=1
	fi
	# Forget the neighbours so ARP and ND must cross the XDP program.
	nsx "$NS_R" ip neigh flush dev rl
	nsx "$NS_L" ip neigh flush dev lv
	nsx "$NS_R" ping -c 3 -i 0.2 -W 2 "$L4" >/dev/null 2>&1 || { MSG="ping $L4 failed"; return 1; }
	nsx "$NS_R" ping -6 -c 3 -i 0.2 -W 2 "$L6" >/dev/null 2>&1 || { MSG="ping $L6 failed"; return 1; }
	for fam in 4 6; do
		addr=$L4
		[ $fam = 6 ] && addr=$L6
		fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/client.py" "$addr" "$PORT" 20 \
			>"$TMP/host.out" 2>&1
		out=$(head -n1 "$TMP/host.out")
		read -r _ ok _ <<<"$out"
		[ "${ok:-0}" = 20 ] && grep -q "lbhost 20" <<<"$out" ||
			{ MSG="TCP to the lb's own $addr: $out"; return 1; }
	done
	stats=$(nsb "$NS_L" timeout 30 "$LBSETUP" stats --pin-root "$PIN_ROOT/lb" 2>&1) ||
		{ MSG="lbsetup stats failed"; return 1; }
	log "lb: pass $(stat_of "$stats" verdict pass) (not_ip $(stat_of "$stats" reason not_ip), not_vip $(stat_of "$stats" reason not_vip)), tx $(stat_of "$stats" verdict tx), drop $(stat_of "$stats" verdict drop)"
	[ "$(stat_of "$stats" reason not_ip)" -gt 0 ] || { MSG="no ARP seen by xlb"; return 1; }
	[ "$(stat_of "$stats" reason not_vip)" -gt 40 ] || { MSG="host traffic not seen by xlb"; return 1; }
	[ "$(stat_of "$stats" verdict tx)" -eq 0 ] || { MSG="xlb sent host traffic away"; return 1; }
	[ "$(stat_of "$stats" verdict drop)" -eq 0 ] || { MSG="xlb dropped host traffic"; return 1; }
	return 0
}

# shellcheck source=tests/netns/health.sh
. tests/netns/health.sh || exit 1

# ---------------------------------------------------------------- metrics

MPORT=9641		# xlbd's default metrics port
PPORT=9090		# the test's Prometheus, on 127.0.0.1 in the lb namespace
UPORT=9000		# UDP VIP port of the Prometheus test
PROMETHEUS=${PROMETHEUS:-prometheus}
PROMTOOL=${PROMTOOL:-promtool}

# curl from inside the lb namespace, bounded.
mcurl() { nsx "$NS_L" curl -s --max-time 5 "$@"; }

# A config for xlbd with the VIP objects "$2" (JSON, comma-separated) and
# the state file $1 (removed first: a fresh start).
metrics_config() {
	rm -f "$1"
	cat >"$TMP/xlbd.json" <<EOF
{"version": 1, "interfaces": [{"name": "lv"}], "pin_root": "$PIN_ROOT/xlbd",
 "control": {"socket": "$TMP/xlbd.sock"}, "state_file": "$1", "vips": [$2]}
EOF
}

# Detach and stop xlbd if it runs, keeping the test's message.
xlbd_stop() {
	local msg=$MSG

	if [ -n "$XLBD_PID" ] && kill -0 "$XLBD_PID" 2>/dev/null; then
		xlbd_detach >/dev/null 2>&1 || kill "$XLBD_PID" 2>/dev/null
		wait "$XLBD_PID" 2>/dev/null
	fi
	MSG=$msg
}

# UDP datagrams at a fixed rate from 64 source ports (so the ring spreads
# them over the backends): HOST PORT COUNT RATE.
write_udp_sender() {
	cat >"$TMP/udpsend.py" <<'EOF'
import socket, sys, time
host, port, count, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
socks = [socket.socket(fam, socket.SOCK_DGRAM) for _ in range(64)]
t = time.monotonic()
sent = 0
for i in range(count):
    try:
        socks[i % 64].sendto(b"m" * 64, (host, port))
        sent += 1
    except OSError:
        pass  # ICMP unreachable from the backend, reported on the next send
    t += 1.0 / rate
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)
print("sent %d" % sent)
EOF
}

# The VIPs the metrics tests use: TCP over IPv4 and IPv6, and UDP.
metrics_vips() {
	printf '%s' "{\"vip\": \"$VIP4:$PORT/tcp\", \"ring_size\": 4093, \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\", \"weight\": 50}]},
 {\"vip\": \"[$VIP6]:$PORT/tcp\", \"ring_size\": 4093, \"backends\": [{\"address\": \"$B16\"}, {\"address\": \"$B26\"}]},
 {\"vip\": \"$VIP4:$UPORT/udp\", \"ring_size\": 4093, \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
}

# Value of the series "$2" (name and labels, exactly as written) in scrape $1.
series() {
	awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print "none" }' "$1"
}

# /metrics served by xlbd: content type, HEAD, 404, 405 with Allow, the
# series of real traffic (IPv6 VIPs in brackets), every family once,
# promtool check metrics clean, not reachable from other namespaces by
# default, and a stuck client does not stall the daemon.
test_metrics() {
	local rc

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	command -v "$PROMTOOL" >/dev/null && command -v curl >/dev/null ||
		{ MSG="promtool or curl missing (make deps)"; return 1; }
	metrics_config "$TMP/xlbd-metrics.json" "$(metrics_vips)"
	xlbd_start || return 1
	metrics_checks
	rc=$?
	xlbd_stop
	return $rc
}

metrics_checks() {
	local out code s=$TMP/scrape v f m ok stuck t0

	fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/client.py" "$VIP4" "$PORT" 20 \
		>"$TMP/m4.out" 2>&1
	fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/client.py" "$VIP6" "$PORT" 20 \
		>"$TMP/m6.out" 2>&1
	grep -q "^ok 20 failed 0" "$TMP/m4.out" && grep -q "^ok 20 failed 0" "$TMP/m6.out" ||
		{ MSG="traffic: $(head -n1 "$TMP/m4.out") / $(head -n1 "$TMP/m6.out")"; return 1; }

	code=$(mcurl -D "$TMP/hdr" -o "$s" -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
	[ "$code" = 200 ] || { MSG="GET /metrics: HTTP $code"; return 1; }
	grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$TMP/hdr" ||
		{ MSG="content type: $(grep -i '^content-type' "$TMP/hdr")"; return 1; }
	out=$("$PROMTOOL" check metrics <"$s" 2>&1)
	[ $? -eq 0 ] && [ -z "$out" ] || { MSG="promtool check metrics: $(head -n3 <<<"$out")"; return 1; }
	out=$(grep '^# TYPE' "$s" | awk '{ print $3 }' | sort | uniq -d)
	[ -z "$out" ] || { MSG="families written twice: $out"; return 1; }
	for f in xlb_backend_packets_total xlb_backend_bytes_total xlb_backend_new_flows_total \
		 xlb_backend_up xlb_backend_weight xlb_backend_effective_weight xlb_backend_state \
		 xlb_backend_state_changes_total xlb_vip_packets_total xlb_vip_bytes_total \
		 xlb_vip_new_flows_total xlb_vip_healthy_backends xlb_vip_backends \
		 xlb_vip_ring_imbalance xlb_vip_ring_info xlb_vip_ring_rebuilds_total xlb_packets_total \
		 xlb_drops_total xlb_events_total xlb_fib_failures_total xlb_conntrack_entries \
		 xlb_conntrack_capacity xlb_xdp_attached xlb_build_info xlb_config_reloads_total \
		 xlb_config_reload_failures_total xlb_control_requests_total xlb_control_errors_total \
		 xlb_daemon_start_time_seconds; do
		grep -q "^# TYPE $f " "$s" || { MSG="family $f missing"; return 1; }
	done
	for m in "$VIP4:$PORT/tcp\",backend=\"$B14" "$VIP4:$PORT/tcp\",backend=\"$B24" \
		 "[$VIP6]:$PORT/tcp\",backend=\"$B16" "[$VIP6]:$PORT/tcp\",backend=\"$B26"; do
		v=$(series "$s" "xlb_backend_packets_total{vip=\"$m\"}")
		[ "$v" != none ] && [ "$v" -gt 0 ] || { MSG="xlb_backend_packets_total{$m}: $v"; return 1; }
	done
	v=$(series "$s" "xlb_backend_weight{vip=\"$VIP4:$PORT/tcp\",backend=\"$B24\"}")
	[ "$v" = 50 ] || { MSG="weight of $B24: $v"; return 1; }
	v=$(series "$s" "xlb_vip_backends{vip=\"[$VIP6]:$PORT/tcp\"}")
	[ "$v" = 2 ] || { MSG="xlb_vip_backends of the IPv6 VIP: $v"; return 1; }
	v=$(series "$s" "xlb_backend_state{vip=\"$VIP4:$PORT/tcp\",backend=\"$B14\",state=\"up\"}")
	[ "$v" = 1 ] || { MSG="state up of $B14: $v"; return 1; }
	v=$(series "$s" 'xlb_xdp_attached{interface="lv",mode="native"}')
	[ "$v" = 1 ] || { MSG="xlb_xdp_attached: $v"; return 1; }
	v=$(series "$s" 'xlb_packets_total{verdict="tx"}')
	[ "$v" != none ] && [ "$v" -gt 0 ] || { MSG="xlb_packets_total tx: $v"; return 1; }
	# The checksum label: the same as xlbctl maglev show gives.
	out=$(ctl -j maglev show "$VIP4:$PORT/tcp" | "$PY" -c \
		'import json,sys; d=json.load(sys.stdin); print(d.get("live_checksum", d.get("checksum", "")))')
	grep -q "^xlb_vip_ring_info{vip=\"$VIP4:$PORT/tcp\",checksum=\"0x0*${out#0x}\"} 1$" "$s" ||
		{ MSG="ring checksum label: xlbctl says '$out', scrape: $(grep "^xlb_vip_ring_info{vip=\"$VIP4:$PORT" "$s")"; return 1; }

	code=$(mcurl -I -o "$TMP/head" -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
	[ "$code" = 200 ] || { MSG="HEAD /metrics: HTTP $code"; return 1; }
	for p in / /metricsx /metrics/x; do
		code=$(mcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT$p")
		[ "$code" = 404 ] || { MSG="GET $p: HTTP $code, wanted 404"; return 1; }
	done
	for m in POST PUT DELETE; do
		code=$(mcurl -X "$m" -d x -D "$TMP/hdr" -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$MPORT/metrics")
		[ "$code" = 405 ] && grep -qi '^Allow: GET, HEAD' "$TMP/hdr" ||
			{ MSG="$m /metrics: HTTP $code, $(grep -i '^allow' "$TMP/hdr")"; return 1; }
	done

	# Not reachable from elsewhere by default (127.0.0.1 only).
	for a in "$L4" "[$L6]"; do
		nsx "$NS_C" curl -s --max-time 3 -o /dev/null "http://$a:$MPORT/metrics" &&
			{ MSG="metrics reachable from the client at $a"; return 1; }
		nsx "$NS_R" curl -s --max-time 3 -o /dev/null "http://$a:$MPORT/metrics" &&
			{ MSG="metrics reachable from the router at $a"; return 1; }
	done

	# A stuck client (half a request, never read) and 20 idle connections
	# (above the limit of 16): the control socket and a new scrape are
	# still served at once.
	nsx "$NS_L" timeout 20 "$PY" - "$MPORT" >"$TMP/stuck.out" 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
conns = []
for i in range(21):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        if i == 0:
            s.sendall(b"GET /metr")
        conns.append(s)
    except OSError:
        pass
print("open %d" % len(conns), flush=True)
time.sleep(4)
EOF
	stuck=$!
	sleep 1
	t0=$(date +%s%N)
	ctl -j status >/dev/null || { MSG="control socket with stuck metrics clients"; kill "$stuck"; return 1; }
	ok=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$ok" -lt 1000 ] || { MSG="status took $ok ms with stuck metrics clients"; kill "$stuck"; return 1; }
	wait "$stuck"
	log "stuck metrics clients: $(cat "$TMP/stuck.out"); status answered in $ok ms"
	code=$(mcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
	[ "$code" = 200 ] || { MSG="GET /metrics after the stuck clients: HTTP $code"; return 1; }

	out=$("$PROMTOOL" check rules deploy/prometheus/xlb.rules.yml 2>&1) ||
		{ MSG="promtool check rules: $(tail -n3 <<<"$out")"; return 1; }

	# Probe latency histograms, which xlbd shows once health checks are
	# wired in: rendered from a real health engine by the bench program
	# (its own netns and pins), and linted.
	fg_run timeout 60 "$BENCH_METRICS" -v 4 -b 3 -H -r 1 -c 1024 -o "$TMP/hist.prom" \
		>"$TMP/bench.out" 2>&1 || { MSG="bench_metrics -H: $(tail -n2 "$TMP/bench.out")"; return 1; }
	[ "$(grep -c '^xlb_backend_probe_latency_seconds_count{' "$TMP/hist.prom")" = 12 ] ||
		{ MSG="probe histograms: $(grep -c '^xlb_backend_probe_latency_seconds_count' "$TMP/hist.prom") of 12"; return 1; }
	out=$("$PROMTOOL" check metrics <"$TMP/hist.prom" 2>&1)
	[ $? -eq 0 ] && [ -z "$out" ] || { MSG="promtool check metrics (histograms): $(head -n3 <<<"$out")"; return 1; }
	return 0
}

# Start Prometheus in the lb namespace scraping xlbd every second, with its
# own storage and our alerting rules; wait until the target is up.
prom_start() {
	local i

	cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/deploy/prometheus/xlb.rules.yml
scrape_configs:
  - job_name: xlb
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
	ns_spawn "$NS_L" "$TMP/prometheus.log" 120 "$PROMETHEUS" \
		--config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prometheus-data" \
		--web.listen-address="127.0.0.1:$PPORT"
	PROM_PID=${BG_PIDS[-1]}
	wait_listen "$NS_L" "$PPORT" prometheus || { MSG="$TOPO_ERR: $(tail -n2 "$TMP/prometheus.log")"; TOPO_ERR=; return 1; }
	for i in $(seq 1 100); do
		[ "$(promq 'up{job="xlb"}' | awk '{ print $2 }')" = 1 ] && return 0
		sleep 0.2
	done
	MSG="Prometheus never scraped xlbd: $(promq 'up' 2>&1 | head -n2)"
	return 1
}

prom_stop() {
	[ -n "${PROM_PID:-}" ] || return 0
	kill "$PROM_PID" 2>/dev/null
	wait "$PROM_PID" 2>/dev/null
	PROM_PID=
}

# promq QUERY [TIME]: an instant query; one "BACKEND VALUE" line per
# series ("-" for no backend label).
promq() {
	local args=(--data-urlencode "query=$1")

	[ -n "${2:-}" ] && args+=(--data-urlencode "time=$2")
	nsx "$NS_L" curl -s --max-time 5 -G "http://127.0.0.1:$PPORT/api/v1/query" "${args[@]}" |
		"$PY" -c 'import json, sys
d = json.load(sys.stdin)
if d.get("status") != "success":
    sys.exit("query failed: %s" % d.get("error"))
for r in d["data"]["result"]:
    print(r["metric"].get("backend", "-"), r["value"][1])'
}

# A real Prometheus scrapes xlbd while 3000 UDP datagrams go to a VIP; the
# increase of xlb_backend_packets_total over the sending window, as
# Prometheus computes it, matches for each backend what its decapsulator
# counted within 10%; the alerting rules load and evaluate.
test_prometheus() {
	local rc

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	command -v "$PROMETHEUS" >/dev/null && command -v curl >/dev/null ||
		{ MSG="prometheus or curl missing (make deps)"; return 1; }
	metrics_config "$TMP/xlbd-prom.json" "$(metrics_vips)"
	xlbd_start || return 1
	prometheus_checks
	rc=$?
	prom_stop
	xlbd_stop
	return $rc
}

prometheus_checks() {
	local n=3000 t0 t1 dms d1b d2b d1 d2 p1 p2 out be want got q

	prom_start || return 1
	write_udp_sender
	sleep 1.5
	t0=$(date +%s.%N)
	d1b=$(decap_stat "$NS_B1" bv decap4)
	d2b=$(decap_stat "$NS_B2" bv decap4)
	fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/udpsend.py" "$VIP4" "$UPORT" "$n" 1000 \
		>"$TMP/udp.out" 2>&1
	grep -q "^sent $n$" "$TMP/udp.out" || { MSG="UDP sender: $(head -n2 "$TMP/udp.out")"; return 1; }
	sleep 2.5	# scraped at least twice after the last datagram
	d1=$(( $(decap_stat "$NS_B1" bv decap4) - d1b ))
	d2=$(( $(decap_stat "$NS_B2" bv decap4) - d2b ))
	t1=$(date +%s.%N)
	dms=$("$PY" -c "print(int(round(($t1 - $t0) * 1000)))")
	q="xlb_backend_packets_total{vip=\"$VIP4:$UPORT/udp\"}"
	out=$(promq "$q - $q offset ${dms}ms" "$t1") || { MSG="query: $out"; return 1; }
	p1=$(awk -v b="$B14" '$1 == b { printf "%d", $2 }' <<<"$out")
	p2=$(awk -v b="$B24" '$1 == b { printf "%d", $2 }' <<<"$out")
	log "sent $n datagrams in $dms ms window; Prometheus increase: be1 ${p1:-none} be2 ${p2:-none}; decapsulated: be1 $d1 be2 $d2"
	[ $((d1 + d2)) -ge $((n * 9 / 10)) ] || { MSG="backends decapsulated only $((d1 + d2)) of $n"; return 1; }
	for be in 1 2; do
		if [ $be = 1 ]; then want=$d1 got=${p1:-}; else want=$d2 got=${p2:-}; fi
		[ -n "$got" ] || { MSG="no series for backend $be: '$out'"; return 1; }
		[ "$want" -gt $((n / 10)) ] || { MSG="backend $be got only $want datagrams"; return 1; }
		[ $((got * 10)) -ge $((want * 9)) ] && [ $((got * 10)) -le $((want * 11)) ] ||
			{ MSG="backend $be: Prometheus says $got, the backend counted $want"; return 1; }
	done
	out=$(nsx "$NS_L" curl -s --max-time 5 "http://127.0.0.1:$PPORT/api/v1/rules" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
rules = [r for g in d["data"]["groups"] for r in g["rules"]]
bad = [r["name"] + ": " + r.get("lastError", "") for r in rules if r.get("health") != "ok"]
print(len(rules), "; ".join(bad))')
	[ "${out%% *}" -ge 5 ] && [ -z "${out#* }" ] || { MSG="alerting rules: $out"; return 1; }
	log "alerting rules loaded and evaluated: ${out%% *}"
	# Every query of the Grafana dashboard parses and runs.
	out=$(nsx "$NS_L" timeout 30 "$PY" - "$PWD/deploy/prometheus/grafana-dashboard.json" "$PPORT" <<'EOF'
import json, sys, urllib.parse, urllib.request
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
bad = []
for e in exprs:
    q = e.replace("$__rate_interval", "5s").replace("$instance", ".*").replace("$vip", ".*")
    url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[2], urllib.parse.urlencode({"query": q}))
    try:
        r = json.load(urllib.request.urlopen(url, timeout=5))
        if r.get("status") != "success":
            bad.append("%s: %s" % (e, r.get("error")))
    except Exception as x:
        bad.append("%s: %s" % (e, x))
print(len(exprs), "; ".join(bad))
EOF
)
	[ "${out%% *}" -ge 10 ] && [ -z "${out#* }" ] || { MSG="dashboard queries: $out"; return 1; }
	log "Grafana dashboard: ${out%% *} queries run"
	return 0
}

# A backend killed behind a VIP with a TCP health check: xlb_backend_up
# goes to 0 in Prometheus.  Needs health checks in xlbd (the config
# schema and the daemon's wiring); skipped, saying which, until they land.
test_prometheus_backend_down() {
	local rc vip

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	command -v "$PROMETHEUS" >/dev/null || { MSG="prometheus missing (make deps)"; return 1; }
	vip="{\"vip\": \"$VIP4:$PORT/tcp\", \"ring_size\": 4093,
 \"health\": {\"type\": \"tcp\", \"port\": 8081, \"interval_ms\": 200, \"timeout_ms\": 100, \"rise\": 1, \"fall\": 2},
 \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
	metrics_config "$TMP/xlbd-down.json" "$vip"
	if ! out=$("$XLBD" --check-config "$TMP/xlbd.json" 2>&1); then
		MSG="health checks are not in the config schema yet: $out"
		return 77
	fi
	xlbd_start || return 1
	backend_down_checks
	rc=$?
	prom_stop
	xlbd_stop
	stop_hc_listeners
	return $rc
}

HC_PIDS=()

stop_hc_listeners() {
	local p

	for p in "${HC_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	HC_PIDS=()
}

backend_down_checks() {
	local i s=$TMP/scrape-down out

	# What the health checks probe: a listener on 8081 on each backend.
	for ns in "$NS_B1" "$NS_B2"; do
		ns_spawn "$ns" "$TMP/hc-$ns.log" 120 "$PY" -c '
import socket, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 8081)); s.listen(64)
while True:
    c, _ = s.accept(); c.close()'
		HC_PIDS+=("${BG_PIDS[-1]}")
		wait_listen "$ns" 8081 "health listener" || { MSG=$TOPO_ERR; TOPO_ERR=; return 1; }
	done
	sleep 1
	mcurl -o "$s" "http://127.0.0.1:$MPORT/metrics"
	if ! grep -q '^xlb_backend_probe_latency_seconds_count' "$s"; then
		MSG="health checks are not wired into xlbd yet (no probe metrics); xlb_backend_up cannot fall"
		return 77
	fi
	prom_start || return 1
	for i in $(seq 1 25); do
		out=$(promq "xlb_backend_up{vip=\"$VIP4:$PORT/tcp\"}")
		[ "$(awk '{ s += $2 } END { print s + 0 }' <<<"$out")" = 2 ] && break
		sleep 0.2
	done
	[ "$(awk '{ s += $2 } END { print s + 0 }' <<<"$out")" = 2 ] ||
		{ MSG="backends not both up before the kill: $out"; return 1; }
	kill "${HC_PIDS[1]}"
	for i in $(seq 1 50); do
		out=$(promq "xlb_backend_up{vip=\"$VIP4:$PORT/tcp\",backend=\"$B24\"}")
		[ "$(awk '{ print $2 }' <<<"$out")" = 0 ] && break
		sleep 0.2
	done
	[ "$(awk '{ print $2 }' <<<"$out")" = 0 ] ||
		{ MSG="xlb_backend_up of the killed backend: '$out' after 10 s"; return 1; }
	out=$(promq "xlb_backend_up{vip=\"$VIP4:$PORT/tcp\",backend=\"$B14\"}")
	[ "$(awk '{ print $2 }' <<<"$out")" = 1 ] || { MSG="the live backend went down too: '$out'"; return 1; }
	out=$(promq "xlb_vip_healthy_backends{vip=\"$VIP4:$PORT/tcp\"}")
	[ "$(awk '{ print $2 }' <<<"$out")" = 1 ] || { MSG="xlb_vip_healthy_backends: '$out'"; return 1; }
	return 0
}

# ---------------------------------------------------------------- data-path probes

HC_BASE=$((0x58400000))	# XLB_HC_MARK_BASE

# Connect from the lb to $1:$PORT with SO_MARK $2, send nothing, and print
# the name of the server that answered ("be1"), or "error ...".
hc_ident() {
	ip netns exec "$NS_L" timeout 10 "$PY" - "$1" "$PORT" "$2" <<'EOF' 2>&1
import socket, sys
host, port, mark = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
s.settimeout(3)
try:
    s.connect((host, port))
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    print(data.decode().split()[0])
except Exception as e:
    print("error %r" % e)
EOF
}

# hc_probe TARGET [ARGS]: one check by the probe engine, from the lb;
# prints "up ..." or "down ...".
hc_probe() {
	local t=$1
	shift
	nsx "$NS_L" timeout 20 "$HCPROBE" probe "$t" --timeout 700 "$@" 2>&1
}

hc_expect() {
	local what=$1 want=$2 out
	shift 2

	out=$(hc_probe "$@")
	log "$what: $out"
	[ "${out%% *}" = "$want" ] || { MSG="$what: expected $want, got '$out'"; return 1; }
}

hc_prog_ids() {
	nsx "$NS_L" tc -j filter show dev lv egress |
		"$PY" -c 'import json,sys; print(" ".join(str(f["options"]["prog"]["id"]) for f in json.load(sys.stdin) if "options" in f))'
}

# Probes that follow the data path: the tc egress program on the lb's
# backend-facing veth encapsulates marked probes to VIP:port toward the
# backend the mark names.  A backend whose VIP is missing from lo fails the
# check although its own address still answers.
hc_datapath_body() {
	local b out id1 id2 stats

	[ -x "$HCPROBE" ] || { MSG="not built: $HCPROBE (run make)"; return 1; }
	lb_up --vip "$VIP4:$PORT/tcp" --backend "1=$B14" --backend "2=$B24" \
		--backend "3=$B16" --backend "4=$B26" || return 1
	out=$(nsb "$NS_L" timeout 20 "$HCPROBE" attach --pin-root "$PIN_ROOT/lb" --iface lv 2>&1) ||
		{ MSG="hcprobe attach failed: $out"; return 1; }
	HC_ATTACHED=1
	# Locally generated TCP leaves with a partial checksum, which veths
	# carry along and the backend's native-XDP decapsulator then drops on
	# the floor (trap 4; a NIC finishes the checksum on transmit).
	nsx "$NS_L" ethtool -K lv tx off >/dev/null || { MSG="ethtool -K lv tx off failed"; return 1; }

	# The mark picks the backend: IPIP (1, 2), 4-in-6 (3), IP6IP6 (4).
	for b in "1 $VIP4 be1" "2 $VIP4 be2" "3 $VIP4 be1" "4 $VIP6 be2"; do
		set -- $b
		out=$(hc_ident "$2" $((HC_BASE + $1)))
		log "mark base+$1 to $2: $out"
		[ "$out" = "$3" ] || { MSG="mark base+$1 to $2: expected $3, got '$out'"; return 1; }
	done
	hc_expect "engine, mark base+1" up "$VIP4:$PORT/tcp" --mark $((HC_BASE + 1)) || return 1
	hc_expect "engine, mark base+4" up "[$VIP6]:$PORT/tcp" --mark $((HC_BASE + 4)) || return 1
	# An id with no backend is dropped, never sent to the VIP unwrapped.
	hc_expect "engine, mark base+9 (no backend)" down "$VIP4:$PORT/tcp" --mark $((HC_BASE + 9)) || return 1

	# be1 loses the VIP on lo: its data path is broken, its address is not.
	nsx "$NS_B1" ip addr del "$VIP4/32" dev lo || { MSG="ip addr del on be1 failed"; return 1; }
	HC_VIP_GONE=1
	hc_expect "VIP gone from be1: engine, mark base+1" down "$VIP4:$PORT/tcp" --mark $((HC_BASE + 1)) || return 1
	hc_expect "VIP gone from be1: engine, be1's own address" up "$B14:$PORT/tcp" || return 1
	hc_expect "VIP gone from be1: engine, mark base+2" up "$VIP4:$PORT/tcp" --mark $((HC_BASE + 2)) || return 1
	nsx "$NS_B1" ip addr add "$VIP4/32" dev lo || { MSG="ip addr add on be1 failed"; return 1; }
	HC_VIP_GONE=
	hc_expect "VIP back on be1: engine, mark base+1" up "$VIP4:$PORT/tcp" --mark $((HC_BASE + 1)) || return 1

	# Every marked packet took the tc path, none the XDP one: had one left
	# unwrapped, the lb would have balanced it to whichever backend.
	stats=$(nsb "$NS_L" "$HCPROBE" stats --iface lv 2>&1) || { MSG="hcprobe stats failed: $stats"; return 1; }
	log "probe encapsulator: $(tr '\n' ' ' <<<"$stats")"
	[ "$(awk '$1 == "encap" { print $2 }' <<<"$stats")" -ge 20 ] &&
		[ "$(awk '$1 == "no_backend" { print $2 }' <<<"$stats")" -ge 1 ] &&
		[ "$(awk '$1 == "fib_fail" || $1 == "error" { n += $2 } END { print n + 0 }' <<<"$stats")" -eq 0 ] ||
		{ MSG="probe encapsulator counters: $(tr '\n' ' ' <<<"$stats")"; return 1; }
	out=$(nsb "$NS_L" timeout 30 "$LBSETUP" stats --pin-root "$PIN_ROOT/lb" 2>&1) ||
		{ MSG="lbsetup stats failed"; return 1; }
	out=$(awk '$1 == "vip" && $2 == 1 { print $4 }' <<<"$out")
	[ "$out" = 0 ] || { MSG="$out probe packets went through the XDP data path unwrapped"; return 1; }

	# A restarted daemon re-attaches: the filter is replaced, not doubled.
	id1=$(hc_prog_ids)
	out=$(nsb "$NS_L" timeout 20 "$HCPROBE" attach --pin-root "$PIN_ROOT/lb" --iface lv 2>&1) ||
		{ MSG="second attach failed: $out"; return 1; }
	id2=$(hc_prog_ids)
	log "program on lv egress: $id1, after re-attach: $id2"
	[ -n "$id2" ] && [ "${id2// /}" = "$id2" ] && [ "$id1" != "$id2" ] ||
		{ MSG="re-attach: programs '$id1' then '$id2'"; return 1; }
	hc_expect "after re-attach: engine, mark base+2" up "$VIP4:$PORT/tcp" --mark $((HC_BASE + 2)) || return 1

	stats=$(nsb "$NS_L" "$HCPROBE" stats --iface lv 2>&1) || { MSG="hcprobe stats failed: $stats"; return 1; }
	[ "$(awk '$1 == "encap" { print $2 }' <<<"$stats")" -gt 0 ] ||
		{ MSG="nothing encapsulated after re-attach: $(tr '\n' ' ' <<<"$stats")"; return 1; }

	out=$(nsb "$NS_L" "$HCPROBE" detach --iface lv 2>&1) || { MSG="detach failed: $out"; return 1; }
	HC_ATTACHED=
	[ -z "$(hc_prog_ids)" ] || { MSG="a filter is left on lv egress"; return 1; }
	nsb "$NS_L" "$HCPROBE" detach --iface lv >/dev/null 2>&1 && { MSG="detach of nothing succeeded"; return 1; }
	return 0
}

test_hc_datapath() {
	local rc

	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	HC_ATTACHED= HC_VIP_GONE=
	hc_datapath_body
	rc=$?
	# Whatever failed: the other tests need be1's VIP and a clean lv.
	[ -z "$HC_VIP_GONE" ] || nsx "$NS_B1" ip addr add "$VIP4/32" dev lo
	[ -z "$HC_ATTACHED" ] || nsb "$NS_L" "$HCPROBE" detach --iface lv >/dev/null 2>&1
	nsx "$NS_L" ethtool -K lv tx on >/dev/null 2>&1
	return $rc
}

ALL_TESTS=(decap_cli e2e_tcp e2e_tcp6 e2e_4in6 e2e_redirect e2e_devmap_miss host_traffic hc_datapath daemon
	   daemon_crash cli "${HEALTH_TESTS[@]}" metrics prometheus prometheus_backend_down)

# ---------------------------------------------------------------- main

run_test() {
	local name=$1 rc

	MSG=
	"test_$name"
	rc=$?
	lb_down >/dev/null 2>&1
	if [ $rc -eq 0 ]; then
		echo "PASS $name"
		npass=$((npass + 1))
	elif [ $rc -eq 77 ]; then
		echo "SKIP $name: $MSG"
		nskip=$((nskip + 1))
	else
		echo "FAIL $name: ${MSG:-exit $rc}"
		nfail=$((nfail + 1))
	fi
}

skip_all() {
	local t

	for t in "${TESTS[@]}"; do
		echo "SKIP $t: $1"
		nskip=$((nskip + 1))
	done
}

summary() {
	if [ "$nskip" -gt 0 ]; then
		echo "netns: $npass passed, $nfail failed, $nskip skipped"
	else
		echo "netns: $npass passed, $nfail failed"
	fi
}

TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=("${ALL_TESTS[@]}")
for t in "${TESTS[@]}"; do
	if ! declare -F "test_$t" >/dev/null; then
		echo "netns: unknown test '$t' (tests: ${ALL_TESTS[*]})" >&2
		exit 2
	fi
done

if [ "$(id -u)" -ne 0 ]; then
	skip_all "needs root"
elif [ ! -x "$PY" ]; then
	skip_all "$PY not found"
else
	missing=
	for b in "$XLB_DECAP" "$LBSETUP" "$XLBD" "$XLBCTL"; do
		[ -x "$b" ] || missing="$missing $b"
	done
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	TMP=$(mktemp -d "/tmp/xlbtest-$ID.XXXXXX")
	if [ -n "$missing" ]; then
		TOPO_ERR="not built:$missing (run make)"
	else
		topology
	fi
	for t in "${TESTS[@]}"; do
		if [ -n "$TOPO_ERR" ] && [ "$t" != decap_cli ]; then
			echo "FAIL $t: topology: $TOPO_ERR"
			nfail=$((nfail + 1))
			continue
		fi
		run_test "$t"
	done
fi
summary
[ "$nfail" -eq 0 ]
