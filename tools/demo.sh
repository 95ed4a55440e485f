#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make demo: the xlb daemon (xlbd) balancing real HTTP traffic over three
# backends, all in network namespaces on this machine, driven with xlbctl;
# then one backend is drained.
#
#   client ---- router ---- lb        xlbd: xlb in native XDP, XDP_TX back out
#                 |---- be1           xlb-decap, VIP on lo, HTTP on VIP:80
#                 |---- be2           (same)
#                 `---- be3           (same)
#
# The router routes the VIP to the lb; the lb encapsulates each flow (IPIP)
# toward a backend chosen from the VIP's Maglev ring and sends it back to
# the router; the backend decapsulates in XDP and answers the client
# directly (DSR).
#
# The demo writes a config file, starts xlbd with it in the lb's namespace,
# sends HTTP requests through the VIP and shows how they spread (xlbctl
# stats, and what the client saw), then drains one backend with xlbctl:
# new connections avoid it, while keep-alive connections already on it go
# on being answered by it until the client closes them.
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
XLBD=${XLBD:-$OUT/xlbd}
XLBCTL=${XLBCTL:-$OUT/xlbctl}
PY=/usr/bin/python3
REQUESTS=${DEMO_REQUESTS:-3000}
CONC=${DEMO_CONCURRENCY:-50}
HELD=30					# keep-alive connections across the drain
MIN_PCT=99				# fail below this share answered

ID=$$
PIN_ROOT=/sys/fs/bpf/xlbdemo-$ID	# removed whole by lib_teardown
XLBD_PINS=$PIN_ROOT/xlbd		# xlbd's pin_root
NS_C=xlbdemo-$ID-client
NS_R=xlbdemo-$ID-router
NS_L=xlbdemo-$ID-lb
LB_IFACE=lv
LB_UP=0				# lib.sh: no lbsetup instance to take down
VIP=10.100.0.1
PORT=80
VIPKEY=$VIP:$PORT/tcp
LINK_MTU=1600		# >= 1500 + 20: the encapsulated frame must fit
BE_NAMES=(be1 be2 be3)
BE_ADDRS=(10.0.3.2 10.0.4.2 10.0.5.2)
DRAIN=1			# index of the backend drained in part 2
TMP=
LOG=/dev/null
SOCK=
CONF=
XLBD_PID=
OK=0 FAILED=0 STOPPED=0
T0=$(date +%s.%N)

say() { printf '%s\n' "$*" >&8; }
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# xlbctl on our xlbd.  The socket is a file and the pins are in our mount
# namespace, so it runs from here; every call is bounded.
ctl() { timeout 10 "$XLBCTL" -s "$SOCK" -p "$XLBD_PINS" "$@"; }

# Show a command and its output, indented.
show() {
	local out rc

	out=$("$@" 2>"$TMP/show.err")
	rc=$?
	say "   \$ xlbctl ${*:2}"
	[ -n "$out" ] && sed 's/^/     /' <<<"$out" >&8
	# Its errors, without the shell's trace of the call.
	[ $rc -ne 0 ] && grep -v '^+' "$TMP/show.err" | sed 's/^/     /' >&8
	return $rc
}

# Is PID one of our background jobs, still running?  (The job table, not
# ps, so that a recycled pid is never taken for ours.)
job_alive() {
	case " $(jobs -pr | tr '\n' ' ') " in *" $1 "*) return 0 ;; esac
	return 1
}

# ---------------------------------------------------------------- teardown

# xlbctl detach (xlbd detaches, unpins and exits); failing that, TERM
# (timeout(1) passes it on to xlbd, which runs with --detach-on-exit);
# failing that, KILL: lib_teardown then removes the pins, and with them the
# link.  $XLBD_PID is timeout(1) and xlbd its child: killing timeout alone
# would leave xlbd running.
xlbd_stop() {
	local i

	[ -n "$XLBD_PID" ] && job_alive "$XLBD_PID" || return 0
	if [ -S "$SOCK" ] &&
	   timeout 5 "$XLBCTL" -s "$SOCK" -p "$XLBD_PINS" detach >/dev/null 2>&1; then
		for i in $(seq 1 50); do
			job_alive "$XLBD_PID" || return 0
			sleep 0.1
		done
	fi
	kill -TERM "$XLBD_PID" 2>/dev/null
	for i in $(seq 1 50); do
		job_alive "$XLBD_PID" || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2046
	kill -KILL $(pgrep -P "$XLBD_PID") 2>/dev/null
	for i in $(seq 1 10); do
		job_alive "$XLBD_PID" || return 0
		sleep 0.1
	done
	kill -KILL "$XLBD_PID" 2>/dev/null
}

cleanup() {
	local rc=$?

	trap - EXIT INT TERM
	# On failure keep the temporary directory: it holds the log.
	if [ "$OK" != 1 ] && [ "$STOPPED" != 1 ] && [ -f "$LOG" ]; then
		[ "$rc" != 0 ] && [ "$FAILED" != 1 ] && say "FAILED (exit $rc); log: $LOG"
		TMP=
	fi
	xlbd_stop
	lib_teardown
}

fail() {
	FAILED=1
	say ""
	say "FAILED: $*"
	[ -f "$LOG" ] && say "log: $LOG (xlbd's own: $TMP/xlbd.log)"
	exit 1
}

# Our terminal is 8 (output) and 9 (errors, for the traps); 1 and 2 go to
# the log once it exists.
exec 8>&1 9>&2
trap cleanup EXIT
trap 'STOPPED=1; say ""; say "interrupted; cleaning up"; exit 130' INT
trap 'STOPPED=1; say ""; say "terminated; cleaning up"; exit 143' TERM

# ---------------------------------------------------------------- python

# Server, clients and reports in one file.
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


def hold(vip, port, count, ready, go, stop, out):
    """Open count keep-alive connections, one GET each, and write who
    answered to ready.  When the file go appears, each connection sends a
    GET every 0.25 s on the same TCP connection (never a new one) until
    the file stop appears (at least 3, at most 25 s), then closes."""
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
        s = {"c": None, "before": None, "after": [], "error": None, "port": None}
        try:
            s["before"] = get(c)
            s["c"], s["port"] = c, c.sock.getsockname()[1]
            c.auto_open = 0              # a lost connection is an error, not reopened
        except Exception as e:
            s["error"] = "open: " + type(e).__name__
            c.close()
        conns.append(s)
    with open(ready + ".tmp", "w") as f:
        json.dump([s["before"] for s in conns], f)
    os.rename(ready + ".tmp", ready)
    deadline = time.monotonic() + 30
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.05)

    def run(s):
        c = s["c"]
        if c is None:
            return
        end = time.monotonic() + 25
        while len(s["after"]) < 200 and time.monotonic() < end:
            try:
                if c.sock is None or c.sock.getsockname()[1] != s["port"]:
                    raise ConnectionError("not the same connection")
                s["after"].append(get(c))
            except Exception as e:
                s["error"] = {"ConnectionResetError": "reset", "TimeoutError": "timed out",
                              "RemoteDisconnected": "closed by the server"}.get(
                                  type(e).__name__, type(e).__name__)
                break
            if len(s["after"]) >= 3 and os.path.exists(stop):
                break
            time.sleep(0.25)
        c.close()

    threads = [threading.Thread(target=run, args=(s,)) for s in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res = [{"before": s["before"], "after": s["after"], "error": s["error"]} for s in conns]
    json.dump(res, open(out, "w"))


def count(keys):
    d = {}
    for k in keys:
        d[k] = d.get(k, 0) + 1
    return ", ".join("%s %d" % kv for kv in sorted(d.items()))


def status(path, vip):
    """One line from `xlbctl -j status`; exit 1 unless attached natively."""
    s = json.load(open(path))
    ifs = s.get("interfaces", [])
    v = [x for x in s.get("vips", []) if x.get("vip") == vip]
    print("    daemon %s; %s; VIP %s, %d backends; conntrack table %d entries"
          % (s.get("daemon", "?"),
             ", ".join("%s: %s XDP, bpf link %s" % (i["name"], i["mode"], i["link_id"])
                       for i in ifs) or "no interface",
             vip, len(v[0]["backends"]) if v else 0, s.get("conntrack_capacity", 0)))
    sys.exit(0 if v and ifs and all(i["mode"] == "native" for i in ifs) else 1)


def backends(path):
    return dict((b["address"], b) for b in json.load(open(path))["vips"][0]["backends"])


def table(client, before, after, names, min_pct, drained):
    """The spread of one run of load: what the client saw and what xlbctl
    -j stats counted over it.  Exit 1 if the traffic did not work."""
    c = json.load(open(client))
    sb, sa = json.load(open(before)), json.load(open(after))
    bb, ba = backends(before), backends(after)
    names = dict(x.split("=") for x in names.split(","))       # address -> name
    sent, ok = c["sent"], c["ok"]
    pct = 100.0 * ok / sent if sent else 0.0
    print("   answered %d of %d (%.2f%%) in %.1f s, %.0f requests/s"
          % (ok, sent, pct, c["seconds"], sent / max(c["seconds"], 1e-6)))
    if c["errors"]:
        print("   not answered: " + ", ".join("%s %d" % kv for kv in sorted(c["errors"].items())))
    print()
    fmt = "   %-14s %9s %6s   %-6s %9s %9s %10s"
    print("   %-14s %16s   %s" % ("", "client's view", "xlbctl stats, this step only"))
    print(fmt % ("backend", "answered", "share", "state", "new flows", "packets", "bytes"))
    tot, bad, d = [0, 0, 0], [], {}
    for addr in sorted(ba, key=lambda a: names.get(a, a)):
        f, g = ba[addr]["stats"], bb.get(addr, {}).get("stats", {})
        d[addr] = [f[k] - g.get(k, 0) for k in ("new_flows", "packets", "bytes")]
        tot = [x + y for x, y in zip(tot, d[addr])]
        name = names.get(addr, "?")
        n = c["per"].get(name, 0)
        state = ba[addr]["state"] if ba[addr].get("up", True) else "down"
        print(fmt % ("%s %s" % (name, addr), n, "%.1f%%" % (100.0 * n / sent if sent else 0),
                     state, d[addr][0], d[addr][1], d[addr][2]))
        if d[addr][0] < n:               # every answer began with a SYN through the lb
            bad.append("xlb counted %d new flows to %s, which answered %d requests"
                       % (d[addr][0], name, n))
        if not drained and not n:
            bad.append("%s answered nothing" % name)
    print(fmt % ("total", ok, "%.1f%%" % pct, "", tot[0], tot[1], tot[2]))
    dv = dict((k, sa["verdicts"][k] - sb["verdicts"].get(k, 0)) for k in sa["verdicts"])
    print("   xlb verdicts: " + ", ".join("%s %d" % (k, dv.get(k, 0))
                                         for k in ("tx", "redirect", "pass", "drop", "aborted")))
    other = ok - sum(c["per"].get(names.get(a), 0) for a in ba)
    if pct < min_pct:
        bad.append("only %.2f%% of the requests were answered (at least %d%% needed)"
                   % (pct, min_pct))
    if other:
        bad.append("%d replies from no known backend" % other)
    if dv.get("drop", 0) or dv.get("aborted", 0):
        bad.append("xlb dropped packets")
    if drained:
        addr = [a for a, n in names.items() if n == drained][0]
        if c["per"].get(drained):
            bad.append("%s answered %d new connections after it was drained"
                       % (drained, c["per"][drained]))
        if d[addr][0]:
            bad.append("xlb sent %d new flows to %s after it was drained" % (d[addr][0], drained))
        if not d[addr][1]:
            bad.append("xlb forwarded nothing to %s: its existing connections stopped" % drained)
        if ba[addr]["state"] != "drain":
            bad.append("xlbctl stats shows %s as %s, not drain" % (drained, ba[addr]["state"]))
    for m in bad:
        print("   PROBLEM: " + m)
    if c["first_errors"]:
        print("\n".join("   (" + e + ")" for e in c["first_errors"]), file=sys.stderr)
    sys.exit(1 if bad else 0)


def ready(path):
    """The keep-alive connections' first answers, as 'be1 10, be2 9, ...'."""
    print(count(n or "failed" for n in json.load(open(path))))


def maglev(before, after, drained_addr):
    """Exit 1 unless the drained backend lost all its slots, the others
    took them and the checksum changed."""
    b, a = json.load(open(before)), json.load(open(after))
    sb = dict((x["address"], x["slots"]) for x in b["backends"])
    sa = dict((x["address"], x["slots"]) for x in a["backends"])
    bad = []
    if not sb.get(drained_addr):
        bad.append("%s had no slots before the drain" % drained_addr)
    if sa.get(drained_addr):
        bad.append("%s still has %d slots after the drain" % (drained_addr, sa[drained_addr]))
    if sum(sa.values()) + a.get("empty_slots", 0) != a["ring_size"] or a.get("empty_slots"):
        bad.append("the ring after the drain has empty or missing slots")
    if a["checksum"] == b["checksum"]:
        bad.append("the ring's checksum did not change")
    for m in bad:
        print("   PROBLEM: " + m)
    sys.exit(1 if bad else 0)


def held(path, drained, names):
    """Summarise hold's result; exit 1 unless every connection was
    answered, each time, by the backend that answered it first."""
    res = json.load(open(path))
    others = "/".join(n for n in names.split(",") if n != drained)
    opened = [r for r in res if r["before"]]
    on_d = [r for r in opened if r["before"] == drained]
    rest = [r for r in opened if r["before"] != drained]

    def line(rs, who, what):
        reqs = sum(len(r["after"]) for r in rs)
        good = [r for r in rs if not r["error"] and len(r["after"]) >= 3
                and all(x == r["before"] for x in r["after"])]
        print("   %-8s %2d connections, %3d requests: %s" % (
            who, len(rs), reqs,
            what if len(good) == len(rs) else "%d of %d connections broke (%s)" % (
                len(rs) - len(good), len(rs),
                count(r["error"] or "answered by " + "/".join(sorted(set(r["after"])))
                      for r in rs if r not in good))))
        return len(good) == len(rs)

    print("   the %d keep-alive connections opened before the drain, meanwhile:" % len(res))
    ok = line(on_d, drained, "every one answered by %s, on the same connection" % drained)
    ok = line(rest, others, "every one answered by the same backend as before") and ok
    bad = []
    if len(opened) < len(res):
        bad.append("%d of %d keep-alive connections could not be opened"
                   % (len(res) - len(opened), len(res)))
    if not on_d:
        bad.append("no keep-alive connection was on %s: nothing to show" % drained)
    if not ok:
        bad.append("existing connections did not carry on across the drain")
    for m in bad:
        print("   PROBLEM: " + m)
    sys.exit(1 if bad else 0)


cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "serve":
    serve(args[0], args[1], int(args[2]))
elif cmd == "load":
    load(args[0], int(args[1]), int(args[2]), int(args[3]), args[4])
elif cmd == "hold":
    hold(args[0], int(args[1]), int(args[2]), *args[3:7])
elif cmd == "status":
    status(args[0], args[1])
elif cmd == "table":
    table(args[0], args[1], args[2], args[3], float(args[4]), args[5])
elif cmd == "ready":
    ready(args[0])
elif cmd == "maglev":
    maglev(args[0], args[1], args[2])
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
	# The same for the health probes xlbd sends from the lb (a NIC would
	# finish their checksums).
	nsx "$NS_L" ethtool -K lv tx off || { TOPO_ERR="ethtool -K lv tx off failed"; return 1; }
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
}

# The example config: deploy/xlb.json cut down to this demo, with a pin
# root, socket and state file of this run's own.
write_config() {
	cat >"$CONF" <<EOF
{
  "version": 1,
  "interfaces": [{ "name": "$LB_IFACE", "mode": "native" }],
  "pin_root": "$XLBD_PINS",
  "hash_seed": 2166136261,
  "limits": { "max_vips": 16, "max_backends": 256, "conntrack": 65536 },
  "control": { "socket": "$SOCK" },
  "state_file": "$TMP/state.json",
  "vips": [
    {
      "vip": "$VIPKEY",
      "health": { "type": "http", "path": "/", "datapath": true, "interval_ms": 500,
                  "timeout_ms": 400 },
      "backends": [
        { "address": "${BE_ADDRS[0]}" },
        { "address": "${BE_ADDRS[1]}" },
        { "address": "${BE_ADDRS[2]}" }
      ]
    }
  ]
}
EOF
}

# Start xlbd in the lb's namespace (nsenter, not ip netns exec, so that it
# sees /sys/fs/bpf: trap 1) and wait up to 10 s for xlbctl status.
# timeout(1) bounds its life even if this script is killed with -9, and
# its TERM makes xlbd detach (--detach-on-exit).
xlbd_start() {
	local end=$((SECONDS + 10))

	nsenter --net="/run/netns/$NS_L" timeout 180 "$XLBD" --config "$CONF" --detach-on-exit \
		>>"$TMP/xlbd.log" 2>&1 8>&- 9>&- &
	XLBD_PID=$!
	BG_PIDS+=("$XLBD_PID")
	while [ "$SECONDS" -le "$end" ]; do
		timeout 2 "$XLBCTL" -s "$SOCK" -p "$XLBD_PINS" status >/dev/null 2>&1 && return 0
		job_alive "$XLBD_PID" ||
			{ TOPO_ERR="xlbd exited: $(tail -n2 "$TMP/xlbd.log" | tr '\n' ' ')"; return 1; }
		sleep 0.1
	done
	TOPO_ERR="xlbd did not answer xlbctl status within 10 s"
	return 1
}

stats() { ctl -j stats "$VIPKEY" >"$1"; }

# table CLIENT_JSON BEFORE AFTER [DRAINED_NAME]: the spread (to the
# terminal); fails if the traffic did not do what it should.
NAMES="${BE_ADDRS[0]}=${BE_NAMES[0]},${BE_ADDRS[1]}=${BE_NAMES[1]},${BE_ADDRS[2]}=${BE_NAMES[2]}"
table() {
	"$PY" "$TMP/demo.py" table "$1" "$2" "$3" "$NAMES" "$MIN_PCT" "${4:-}" >&8
}

# Established connections on port 80 in a backend's namespace.
estab() { nsx "$1" ss -Htn state established "( sport = :$PORT )" | wc -l; }

# ---------------------------------------------------------------- main

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces and XDP)" >&2
	exit 1
fi
for b in "$XLB_DECAP" "$XLBD" "$XLBCTL"; do
	[ -x "$b" ] || { echo "demo: $b is not built: run 'make' first" >&2; exit 1; }
done
for b in "$PY" ip ethtool nsenter pgrep ss sysctl timeout; do
	command -v "$b" >/dev/null || { echo "demo: $b not found: run 'make deps'" >&2; exit 1; }
done
case "$REQUESTS$CONC" in
*[!0-9]*) echo "demo: DEMO_REQUESTS and DEMO_CONCURRENCY are numbers" >&2; exit 2 ;;
esac
[ "$REQUESTS" -ge 10 ] && [ "$REQUESTS" -le 100000 ] && [ "$CONC" -ge 1 ] && [ "$CONC" -le 500 ] ||
	{ echo "demo: DEMO_REQUESTS 10..100000, DEMO_CONCURRENCY 1..500" >&2; exit 2; }
REQUESTS2=$(( (REQUESTS + 1) / 2 ))	# during the drain

TMP=$(mktemp -d "/tmp/xlb-demo-$ID.XXXXXX") || exit 1
LOG=$TMP/demo.log
SOCK=$TMP/xlbd.sock
CONF=$TMP/xlb.json
exec >>"$LOG" 2>&1
set -x
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
write_python
write_config

DNAME=${BE_NAMES[$DRAIN]}
DADDR=${BE_ADDRS[$DRAIN]}
say "xlb demo: the xlbd daemon in front of three HTTP backends (run $ID)"
say ""
say "  client 10.0.1.2 --- router --- lb 10.0.2.2      xlbd on $LB_IFACE, native XDP"
say "                        |------- be1 ${BE_ADDRS[0]}     xlb-decap (XDP), VIP on lo,"
say "                        |------- be2 ${BE_ADDRS[1]}     HTTP server on $VIP:$PORT"
say "                        \`------- be3 ${BE_ADDRS[2]}"
say ""
say "  The router sends VIP $VIP to the lb.  xlb picks a backend per flow from"
say "  the VIP's Maglev ring, encapsulates (IPIP) and sends the packet back out;"
say "  the backend decapsulates and answers the client directly (DSR)."
say ""
setup || fail "setup: ${TOPO_ERR:-failed}"
say "  namespaces, links and HTTP servers up in $(elapsed) s; the config, $CONF:"
sed 's/^/    /' "$CONF" >&8
say ""
say "  \$ xlbd --config $CONF --detach-on-exit     (in the lb's namespace)"
T_XLBD=$(date +%s.%N)
xlbd_start || fail "xlbd: $TOPO_ERR"
say "  \$ xlbctl -j status      (answered after $(awk -v a="$T_XLBD" -v b="$(date +%s.%N)" \
	'BEGIN { printf "%.1f", b - a }') s; in short:)"
ctl -j status >"$TMP/status.json" || fail "xlbctl status failed"
"$PY" "$TMP/demo.py" status "$TMP/status.json" "$VIPKEY" >&8 ||
	fail "xlbd is not attached in native XDP mode with the demo's VIP"
nsx "$NS_L" ip -o link show dev "$LB_IFACE" | grep -q ' xdp ' ||
	fail "no native XDP program on the lb's $LB_IFACE"
say ""

# ---- part 1: spread
say "1. $REQUESTS HTTP requests to http://$VIP/, a new TCP connection each, $CONC at a time"
stats "$TMP/stats0" || fail "xlbctl stats failed"
fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/demo.py" load "$VIP" "$PORT" \
	"$REQUESTS" "$CONC" "$TMP/load1.json" || fail "the HTTP client failed"
stats "$TMP/stats1" || fail "xlbctl stats failed"
table "$TMP/load1.json" "$TMP/stats0" "$TMP/stats1" ||
	fail "part 1: the traffic did not do what it should (see above)"
say ""

# ---- part 2: drain
say "2. Drain $DNAME: new connections must avoid it; those it has must carry on"
rm -f "$TMP/held.ready" "$TMP/held.go" "$TMP/held.stop"
ns_spawn "$NS_C" "$TMP/hold.log" 90 "$PY" "$TMP/demo.py" hold "$VIP" "$PORT" "$HELD" \
	"$TMP/held.ready" "$TMP/held.go" "$TMP/held.stop" "$TMP/held.json"
HOLD_PID=$!
for i in $(seq 1 200); do
	[ -e "$TMP/held.ready" ] && break
	job_alive "$HOLD_PID" || break
	sleep 0.05
done
[ -e "$TMP/held.ready" ] || fail "the keep-alive client did not get ready"
say "   $HELD keep-alive connections opened first: $("$PY" "$TMP/demo.py" ready "$TMP/held.ready")"
say ""
ctl -j maglev show "$VIPKEY" >"$TMP/maglev0" || fail "xlbctl maglev show failed"
show ctl maglev show "$VIPKEY" || fail "xlbctl maglev show failed"
show ctl backend drain "$VIPKEY" "$DADDR" || fail "xlbctl backend drain failed"
show ctl backend list "$VIPKEY" || fail "xlbctl backend list failed"
ctl -j maglev show "$VIPKEY" >"$TMP/maglev1" || fail "xlbctl maglev show failed"
show ctl maglev show "$VIPKEY" || fail "xlbctl maglev show failed"
"$PY" "$TMP/demo.py" maglev "$TMP/maglev0" "$TMP/maglev1" "$DADDR" >&8 ||
	fail "part 2: the ring did not change as a drain should (see above)"
say ""
say "   $REQUESTS2 new requests, while each keep-alive connection sends one every 0.25 s:"
stats "$TMP/stats2" || fail "xlbctl stats failed"
touch "$TMP/held.go"
fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/demo.py" load "$VIP" "$PORT" \
	"$REQUESTS2" "$CONC" "$TMP/load2.json" || fail "the HTTP client failed"
stats "$TMP/stats3" || fail "xlbctl stats failed"
n_open=$(estab "$(be_ns "$DRAIN")")
touch "$TMP/held.stop"
wait "$HOLD_PID" || fail "the keep-alive client failed"
table "$TMP/load2.json" "$TMP/stats2" "$TMP/stats3" "$DNAME" ||
	fail "part 2: the traffic did not do what it should (see above)"
say "   ($DNAME: no new flow; its packets are those of its keep-alive connections)"
say ""
"$PY" "$TMP/demo.py" held "$TMP/held.json" "$DNAME" "$(IFS=,; echo "${BE_NAMES[*]}")" >&8 ||
	fail "part 2: the keep-alive connections did not do what they should (see above)"
n_held=$("$PY" -c 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1])) if r["before"] == sys.argv[2]))' \
	"$TMP/held.json" "$DNAME")
for i in $(seq 1 50); do
	n_left=$(estab "$(be_ns "$DRAIN")")
	[ "$n_left" = 0 ] && break
	sleep 0.1
done
say "   ss on $DNAME: $n_open established connections during the drain, $n_left once the client closed them"
[ "$n_open" = "$n_held" ] ||
	fail "$DNAME had $n_open established connections, expected its $n_held keep-alive ones"
[ "$n_left" = 0 ] || fail "$DNAME still has $n_left established connections"
say ""

# ---- part 3: the product's own view, and its teardown
say "3. Totals since xlbd started, and teardown"
show ctl stats "$VIPKEY" || fail "xlbctl stats failed"
show ctl detach || fail "xlbctl detach failed"
for i in $(seq 1 50); do
	job_alive "$XLBD_PID" || break
	sleep 0.1
done
job_alive "$XLBD_PID" && fail "xlbd still running 5 s after xlbctl detach"
nsx "$NS_L" ip -o link show dev "$LB_IFACE" | grep -q ' xdp' &&
	fail "XDP still attached to $LB_IFACE after xlbctl detach"
[ -e "$XLBD_PINS" ] && [ -n "$(ls -A "$XLBD_PINS")" ] && fail "pins left in $XLBD_PINS after xlbctl detach"
say "   xlbd exited; XDP is off $LB_IFACE and its pins are gone"

OK=1
cleanup
say ""
say "demo passed in $(elapsed) s (namespaces, XDP programs, pins and files removed)"
