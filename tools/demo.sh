#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make demo: xlb balancing real HTTP traffic over three backends, all in
# network namespaces on this machine, then taking one backend out.
#
#   client ---- router ---- lb        xlb, native XDP, XDP_TX back out
#                 |---- be1           xlb-decap, VIP on lo, HTTP on VIP:80
#                 |---- be2           (same)
#                 `---- be3           (same)
#
# The router routes the VIP to the lb; the lb encapsulates each flow (IPIP)
# toward a backend chosen from the VIP's ring and sends it back to the
# router; the backend decapsulates in XDP and answers the client directly
# (DSR).
#
# Usage: tools/demo.sh          (as root; build first with make)
# Environment: DEMO_REQUESTS (default 3000), DEMO_CONCURRENCY (default 50).
# Exits 0 only if the traffic did what the output says.  Everything it
# creates carries its pid and is removed on exit, error or Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=tests/netns/lib.sh
. tests/netns/lib.sh || exit 1

OUT=.output
XLB_DECAP=${XLB_DECAP:-$OUT/xlb-decap}
LBSETUP=${LBSETUP:-$OUT/tests/lbsetup}
PY=/usr/bin/python3
REQUESTS=${DEMO_REQUESTS:-3000}
CONC=${DEMO_CONCURRENCY:-50}
HELD=30					# keep-alive connections across it
MIN_PCT=99				# fail below this share answered

ID=$$
PIN_ROOT=/sys/fs/bpf/xlbdemo-$ID
NS_C=xlbdemo-$ID-client
NS_R=xlbdemo-$ID-router
NS_L=xlbdemo-$ID-lb
LB_IFACE=lv
LB_UP=0
VIP=10.100.0.1
PORT=80
LINK_MTU=1600		# >= 1500 + 20: the encapsulated frame must fit
BE_NAMES=(be1 be2 be3)
BE_ADDRS=(10.0.3.2 10.0.4.2 10.0.5.2)
DOWN_ID=2		# the backend taken out in part 2
TMP=
LOG=/dev/null
OK=0 FAILED=0 STOPPED=0
T0=$(date +%s.%N)

say() { printf '%s\n' "$*" >&8; }
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- teardown

cleanup() {
	local rc=$?

	trap - EXIT INT TERM
	# On failure keep the temporary directory: it holds the log.
	if [ "$OK" != 1 ] && [ "$STOPPED" != 1 ] && [ -f "$LOG" ]; then
		[ "$rc" != 0 ] && [ "$FAILED" != 1 ] && say "FAILED (exit $rc); log: $LOG"
		TMP=
	fi
	lib_teardown
}

fail() {
	FAILED=1
	say ""
	say "FAILED: $*"
	[ -f "$LOG" ] && say "log: $LOG"
	exit 1
}

# Our terminal is 8 (output) and 9 (errors, for the traps); 1 and 2 go to
# the log once it exists.
exec 8>&1 9>&2
trap cleanup EXIT
trap 'STOPPED=1; say ""; say "interrupted; cleaning up"; exit 130' INT
trap 'STOPPED=1; say ""; say "terminated; cleaning up"; exit 143' TERM

# ---------------------------------------------------------------- python

# Server, clients and report in one file: serve | load | hold | report.
write_python() {
	cat >"$TMP/demo.py" <<'EOF'
import asyncio, http.client, json, os, socketserver, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(name, addr, port):
    """HTTP/1.1 server answering every GET with the backend's name."""
    body = ("%s\n" % name).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "xlb-demo"
        timeout = 30                     # idle keep-alive connections end

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 1024
        allow_reuse_address = True

        def server_bind(self):           # no reverse DNS lookup of the VIP
            socketserver.TCPServer.server_bind(self)
            self.server_name, self.server_port = name, port

    Server((addr, port), Handler).serve_forever()


def load(vip, port, count, conc, out):
    """count GETs, each on its own TCP connection, conc at a time; none
    started after 40 s, none waited for more than 5 s."""
    req = ("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % vip).encode()
    per, errors, first = {}, {}, []

    async def one():
        r, w = await asyncio.open_connection(vip, port)
        try:
            w.write(req)
            data = await r.read()
        finally:
            w.close()
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200 ") or not body.strip():
            raise ValueError("bad reply %r" % data[:60])
        return body.decode().strip()

    async def bounded(sem, i):
        async with sem:
            if time.monotonic() > deadline:
                errors["not sent (40 s limit)"] = errors.get("not sent (40 s limit)", 0) + 1
                return
            try:
                name = await asyncio.wait_for(one(), 5)
                per[name] = per.get(name, 0) + 1
            except Exception as e:
                kind = type(e).__name__
                errors[kind] = errors.get(kind, 0) + 1
                if len(first) < 5:
                    first.append("request %d: %r" % (i, e))

    async def main():
        sem = asyncio.Semaphore(conc)
        await asyncio.gather(*(bounded(sem, i) for i in range(count)))

    t = time.monotonic()
    deadline = t + 40
    asyncio.run(main())
    res = {"sent": count, "ok": sum(per.values()), "per": per, "errors": errors,
           "first_errors": first, "seconds": time.monotonic() - t}
    json.dump(res, open(out, "w"))
    print(json.dumps(res))


def hold(vip, port, count, ready, go, out):
    """Open count keep-alive connections, one GET each; when the file go
    appears, one more GET on each, and note who answered."""
    def get(c):
        c.request("GET", "/", headers={"Host": vip})
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise ValueError("status %d" % r.status)
        return body.decode().strip()

    conns = []
    for _ in range(count):
        c = http.client.HTTPConnection(vip, port, timeout=3)
        try:
            conns.append([c, get(c), None, None])
        except Exception as e:
            conns.append([None, None, None, type(e).__name__])
    open(ready, "w").write("ready\n")
    deadline = time.monotonic() + 30
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.05)

    def again(slot):
        c = slot[0]
        if c is None:
            return
        try:
            slot[2] = get(c)
        except Exception as e:
            slot[3] = {"ConnectionResetError": "reset", "TimeoutError": "timed out",
                       "RemoteDisconnected": "closed"}.get(type(e).__name__,
                                                           type(e).__name__)
        c.close()
        if slot[3]:                      # what a client does next
            c = http.client.HTTPConnection(vip, port, timeout=3)
            try:
                slot.append(get(c))
            except Exception as e:
                slot.append("failed (%s)" % type(e).__name__)
            c.close()

    threads = [threading.Thread(target=again, args=(s,)) for s in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res = [{"before": s[1], "after": s[2], "error": s[3],
            "reconnect": s[4] if len(s) > 4 else None} for s in conns]
    json.dump(res, open(out, "w"))
    print(json.dumps(res))


def parse_stats(path):
    s = {"verdict": {}, "reason": {}, "kind": {}, "backend": {}}
    if not path:
        return s
    for line in open(path):
        w = line.split()
        if w[:1] == ["verdict"]:
            s["verdict"][w[1]] = int(w[2])
        elif w[:1] == ["reason"]:
            s["reason"][w[1]] = int(w[2])
            s["kind"][w[1]] = w[3] if len(w) > 3 else "?"
        elif w[:1] == ["backend"]:
            f = dict(zip(w[2::2], w[3::2]))
            s["backend"][int(w[1])] = f
    return s


def report(client, before, after, names, min_pct, forbid, legend):
    """Print the table for one run of load; exit 1 if it did not work."""
    c = json.load(open(client))
    b, a = parse_stats(before), parse_stats(after)
    names = dict((int(k), v) for k, v in (x.split("=") for x in names.split(",")))
    sent, ok = c["sent"], c["ok"]
    pct = 100.0 * ok / sent if sent else 0.0
    print("   answered %d of %d (%.2f%%) in %.1f s, %.0f requests/s"
          % (ok, sent, pct, c["seconds"], sent / max(c["seconds"], 1e-6)))
    if c["errors"]:
        print("   not answered: " + ", ".join("%s %d" % kv for kv in sorted(c["errors"].items())))
    print()
    fmt = "   %-20s %-9s %8s %6s  %11s %11s %10s"
    print(fmt % ("backend", "lb state", "answered", "share", "lb packets", "lb bytes",
                 "new flows"))
    tot, few = [0, 0, 0], []
    for i in sorted(a["backend"]):
        f, g = a["backend"][i], b["backend"].get(i, {})
        d = [int(f[k]) - int(g.get(k, 0)) for k in ("packets", "bytes", "new_flows")]
        tot = [x + y for x, y in zip(tot, d)]
        n = c["per"].get(names.get(i, "?"), 0)
        if d[2] < n:                     # every answer began with a SYN through the lb
            few.append("the lb counted %d new flows to %s, which answered %d requests"
                       % (d[2], names.get(i, "?"), n))
        print(fmt % ("%d %s %s" % (i, names.get(i, "?"), f["addr"]), f.get("state", "?"),
                     n, "%.1f%%" % (100.0 * n / sent if sent else 0), d[0], d[1], d[2]))
    other = ok - sum(c["per"].get(names.get(i), 0) for i in a["backend"])
    print(fmt % ("total", "", ok, "%.1f%%" % pct, tot[0], tot[1], tot[2]))
    if legend:
        print("   (answered: replies the client got from each backend.  lb: xlb's per-backend")
        print("   counters, client-to-backend packets only, as replies bypass the lb)")
    print()
    dv = dict((k, a["verdict"][k] - b["verdict"].get(k, 0)) for k in a["verdict"])
    dr = dict((k, a["reason"][k] - b["reason"].get(k, 0)) for k in a["reason"])
    print("   lb verdicts   " + ", ".join("%s %d" % (k, dv.get(k, 0))
                                         for k in ("tx", "redirect", "pass", "drop", "aborted")))

    def reasons(kind):
        r = ["%s %d" % (k, v) for k, v in dr.items() if v and a["kind"].get(k) == kind]
        return ", ".join(r) if r else "none"
    print("   lb drops      " + reasons("drop"))
    p = reasons("pass")
    if p != "none":
        print("   lb passed     %s (handed to the kernel untouched)" % p)
    if reasons("event") != "none":
        print("   lb events     " + reasons("event"))
    print()
    bad = []
    if pct < min_pct:
        bad.append("only %.2f%% of the requests were answered (at least %d%% needed)"
                   % (pct, min_pct))
    if other:
        bad.append("%d replies from no known backend" % other)
    bad += few
    for f in filter(None, forbid.split(",")):
        if c["per"].get(f):
            bad.append("%s answered %d requests after it was taken out" % (f, c["per"][f]))
        i = [k for k, v in names.items() if v == f]
        if i and i[0] in a["backend"]:
            d = (int(a["backend"][i[0]]["packets"])
                 - int(b["backend"].get(i[0], {}).get("packets", 0)))
            if d:
                bad.append("the lb sent %d packets to %s after it was taken out" % (d, f))
    if sum(dr.get(k, 0) for k in dr if a["kind"].get(k) == "drop"):
        bad.append("the lb dropped packets")
    for m in bad:
        print("   PROBLEM: " + m)
    if c["first_errors"]:
        print("\n".join("   (" + e + ")" for e in c["first_errors"]), file=sys.stderr)
    sys.exit(1 if bad else 0)


def held(path, down, names):
    """Summarise hold's result; exit 1 unless the connections on the
    remaining backends all survived and those on down all moved."""
    res = json.load(open(path))
    survivors = "/".join(n for n in names.split(",") if n != down)
    opened = [r for r in res if r["before"]]
    keep = [r for r in opened if r["before"] != down]
    moved = [r for r in opened if r["before"] == down]
    same = [r for r in keep if r["after"] == r["before"]]

    def count(keys):
        d = {}
        for k in keys:
            d[k] = d.get(k, 0) + 1
        return ", ".join("%s %d" % kv for kv in sorted(d.items()))
    print("   %d keep-alive connections open across the change (a request before, one after):"
          % len(res))
    print("   %2d on %-8s %d answered again by the same backend on the same connection"
          % (len(keep), survivors, len(same)))
    if moved:
        print("   %2d on %-8s %s" % (len(moved), down,
              count(("answered by " + r["after"]) if r["after"] else r["error"]
                    for r in moved)) + (": their packets now go to %s, which have no such"
                                        " connection" % survivors
                                        if all(r["error"] == "reset" for r in moved) else ""))
        print("   %15s%s" % ("", "then reconnected: " + count(r["reconnect"] or "-"
                                                             for r in moved)))
    bad = []
    if len(opened) < len(res):
        bad.append("%d of %d keep-alive connections could not be opened"
                   % (len(res) - len(opened), len(res)))
    if len(same) != len(keep):
        bad.append("%d connections on %s broke: %s" % (
            len(keep) - len(same), survivors,
            count(r["error"] or ("answered by " + r["after"]) for r in keep
                  if r["after"] != r["before"])))
    if any(r["after"] == down for r in moved):
        bad.append("%s still answered on its connections after it was taken out" % down)
    if any(not r["after"] and (r["reconnect"] or "failed").split()[0] not in names.split(",")
           or r["reconnect"] == down for r in moved):
        bad.append("reconnecting after %s was taken out did not reach %s" % (down, survivors))
    for m in bad:
        print("   PROBLEM: " + m)
    sys.exit(1 if bad else 0)


cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "serve":
    serve(args[0], args[1], int(args[2]))
elif cmd == "load":
    load(args[0], int(args[1]), int(args[2]), int(args[3]), args[4])
elif cmd == "hold":
    hold(args[0], int(args[1]), int(args[2]), args[3], args[4], args[5])
elif cmd == "report":
    report(args[0], args[1], args[2], args[3], float(args[4]), args[5], args[6] == "legend")
elif cmd == "held":
    held(args[0], args[1], args[2])
EOF
}

# ---------------------------------------------------------------- setup

be_ns() { echo "xlbdemo-$ID-${BE_NAMES[$1]}"; }

setup() {
	local i ns

	ns_add "$NS_C" && ns_add "$NS_R" && ns_add "$NS_L" || { TOPO_ERR="ip netns add failed"; return 1; }
	for i in 0 1 2; do
		ns_add "$(be_ns $i)" || { TOPO_ERR="ip netns add failed"; return 1; }
	done
	ns_sysctls "$NS_C" 0 && ns_sysctls "$NS_R" 1 || { TOPO_ERR="sysctl failed"; return 1; }
	# The lb forwards what XDP hands to the kernel (neighbour unknown).
	ns_sysctls "$NS_L" 1 || { TOPO_ERR="sysctl failed"; return 1; }

	link "$NS_C" cv 10.0.1.2 fd00:1::2 "$NS_R" rc 10.0.1.1 fd00:1::1 1500 &&
		link "$NS_L" lv 10.0.2.2 fd00:2::2 "$NS_R" rl 10.0.2.1 fd00:2::1 "$LINK_MTU" ||
		{ TOPO_ERR=${TOPO_ERR:-"veth setup failed"}; return 1; }
	# Checksums stay partial otherwise and are wrong after XDP (trap 4).
	nsx "$NS_C" ethtool -K cv tx off || { TOPO_ERR="ethtool -K cv tx off failed"; return 1; }
	nsx "$NS_C" ip route add default via 10.0.1.1 &&
		nsx "$NS_L" ip route add default via 10.0.2.1 &&
		nsx "$NS_R" ip route add "$VIP/32" via 10.0.2.2 || { TOPO_ERR="routes failed"; return 1; }
	# Frames the lb sends back with XDP_TX vanish unless the receiving
	# veth runs XDP too (trap 3): the decapsulator with an address no
	# tunnel packet uses is a pass-through.
	decap_attach "$NS_R" rl 10.0.2.1 || { TOPO_ERR="xlb-decap on the router failed"; return 1; }

	for i in 0 1 2; do
		ns=$(be_ns $i)
		ns_sysctls "$ns" 0 &&
			# DSR: the VIP on lo must not be announced or answered in ARP.
			nsx "$ns" sysctl -w net.ipv4.conf.all.arp_ignore=1 \
				net.ipv4.conf.all.arp_announce=2 || { TOPO_ERR="sysctl failed"; return 1; }
		link "$ns" bv "${BE_ADDRS[$i]}" "fd00:$((i + 3))::2" "$NS_R" "rb$((i + 1))" \
			"10.0.$((i + 3)).1" "fd00:$((i + 3))::1" "$LINK_MTU" ||
			{ TOPO_ERR=${TOPO_ERR:-"veth setup failed"}; return 1; }
		nsx "$ns" ip route add default via "10.0.$((i + 3)).1" &&
			nsx "$ns" ip addr add "$VIP/32" dev lo || { TOPO_ERR="backend addresses failed"; return 1; }
		decap_attach "$ns" bv "${BE_ADDRS[$i]}" ||
			{ TOPO_ERR="xlb-decap on ${BE_NAMES[$i]} failed"; return 1; }
		ns_spawn "$ns" "$TMP/server-${BE_NAMES[$i]}.log" 300 \
			"$PY" "$TMP/demo.py" serve "${BE_NAMES[$i]}" "$VIP" "$PORT" ||
			{ TOPO_ERR="cannot start the server on ${BE_NAMES[$i]}"; return 1; }
	done
	for i in 0 1 2; do
		wait_listen "$(be_ns $i)" "$PORT" "HTTP server on ${BE_NAMES[$i]}" || return 1
	done

	nsb "$NS_L" timeout 30 "$LBSETUP" up --pin-root "$PIN_ROOT/lb" --iface "$LB_IFACE" \
		--vip "$VIP:$PORT/tcp" --backend "1=${BE_ADDRS[0]}" --backend "2=${BE_ADDRS[1]}" \
		--backend "3=${BE_ADDRS[2]}" || { TOPO_ERR="lbsetup up failed"; return 1; }
	LB_UP=1
	nsx "$NS_L" ip -o link show dev "$LB_IFACE" | grep -q ' xdp ' ||
		{ TOPO_ERR="no native XDP program on the lb's $LB_IFACE"; return 1; }
}

stats() {
	nsb "$NS_L" timeout 30 "$LBSETUP" stats --pin-root "$PIN_ROOT/lb" >"$1"
}

# report CLIENT_JSON BEFORE AFTER [FORBIDDEN_BACKEND]: the table (to the
# terminal); fails if the traffic did not do what it should.
report() {
	"$PY" "$TMP/demo.py" report "$1" "$2" "$3" "1=be1,2=be2,3=be3" "$MIN_PCT" "${4:-}" \
		"${5:-}" >&8
}

# ---------------------------------------------------------------- main

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces and XDP)" >&2
	exit 1
fi
for b in "$XLB_DECAP" "$LBSETUP"; do
	[ -x "$b" ] || { echo "demo: $b is not built: run 'make' first" >&2; exit 1; }
done
for b in "$PY" ip ethtool nsenter ss sysctl timeout; do
	command -v "$b" >/dev/null || { echo "demo: $b not found: run 'make deps'" >&2; exit 1; }
done
case "$REQUESTS$CONC" in
*[!0-9]*) echo "demo: DEMO_REQUESTS and DEMO_CONCURRENCY are numbers" >&2; exit 2 ;;
esac
[ "$REQUESTS" -ge 10 ] && [ "$REQUESTS" -le 100000 ] && [ "$CONC" -ge 1 ] && [ "$CONC" -le 500 ] ||
	{ echo "demo: DEMO_REQUESTS 10..100000, DEMO_CONCURRENCY 1..500" >&2; exit 2; }
REQUESTS2=$(( (REQUESTS + 1) / 2 ))	# after the failure

TMP=$(mktemp -d "/tmp/xlb-demo-$ID.XXXXXX") || exit 1
LOG=$TMP/demo.log
exec >>"$LOG" 2>&1
set -x
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
write_python

say "xlb demo: an XDP load balancer in front of three HTTP backends (run $ID)"
say ""
say "  client 10.0.1.2 --- router --- lb 10.0.2.2      xlb on $LB_IFACE, native XDP"
say "                        |------- be1 ${BE_ADDRS[0]}     xlb-decap (XDP), VIP on lo,"
say "                        |------- be2 ${BE_ADDRS[1]}     HTTP server on $VIP:$PORT"
say "                        \`------- be3 ${BE_ADDRS[2]}"
say ""
say "  The router sends VIP $VIP to the lb.  xlb picks a backend per flow from"
say "  the VIP's ring, encapsulates (IPIP) and sends the packet back out; the backend"
say "  decapsulates and answers the client directly (DSR)."
say ""
setup || fail "setup: ${TOPO_ERR:-failed}"
say "  setup done in $(elapsed) s"
say ""

# ---- part 1: spread
say "1. $REQUESTS HTTP requests to http://$VIP/, a new TCP connection each, $CONC at a time"
stats "$TMP/stats0" || fail "lbsetup stats failed"
fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/demo.py" load "$VIP" "$PORT" \
	"$REQUESTS" "$CONC" "$TMP/load1.json" || fail "the HTTP client failed"
stats "$TMP/stats1" || fail "lbsetup stats failed"
report "$TMP/load1.json" "$TMP/stats0" "$TMP/stats1" "" legend ||
	fail "part 1: the traffic did not do what it should (see above)"

# ---- part 2: one backend out
DOWN=${BE_NAMES[$((DOWN_ID - 1))]}
say "2. $DOWN taken out of service: the ring is republished without it, then it is"
say "   marked unusable (no health checks yet: lbsetup backend-down stands in for them)"
rm -f "$TMP/held.ready" "$TMP/held.go"
ns_spawn "$NS_C" "$TMP/hold.log" 60 "$PY" "$TMP/demo.py" hold "$VIP" "$PORT" "$HELD" \
	"$TMP/held.ready" "$TMP/held.go" "$TMP/held.json"
HOLD_PID=$!
for i in $(seq 1 200); do
	[ -e "$TMP/held.ready" ] && break
	kill -0 "$HOLD_PID" 2>/dev/null || break
	sleep 0.05
done
[ -e "$TMP/held.ready" ] || fail "the keep-alive client did not get ready"
out=$(nsb "$NS_L" timeout 30 "$LBSETUP" backend-down --pin-root "$PIN_ROOT/lb" --id "$DOWN_ID") ||
	fail "lbsetup backend-down failed"
say "   lb: ${out#lbsetup: }"
touch "$TMP/held.go"
wait "$HOLD_PID" || fail "the keep-alive client failed"
"$PY" "$TMP/demo.py" held "$TMP/held.json" "$DOWN" \
	"$(IFS=,; echo "${BE_NAMES[*]}")" >&8 ||
	fail "part 2: the traffic did not do what it should (see above)"
say ""
say "   then $REQUESTS2 new requests (lb counters since the change):"
stats "$TMP/stats2" || fail "lbsetup stats failed"
fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/demo.py" load "$VIP" "$PORT" \
	"$REQUESTS2" "$CONC" "$TMP/load2.json" || fail "the HTTP client failed"
stats "$TMP/stats3" || fail "lbsetup stats failed"
report "$TMP/load2.json" "$TMP/stats2" "$TMP/stats3" "$DOWN" ||
	fail "part 2: the traffic did not do what it should (see above)"

OK=1
cleanup
say "demo passed in $(elapsed) s (namespaces, XDP programs and pins removed)"
