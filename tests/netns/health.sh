# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Health-check tests, sourced by tests/netns/run.sh (its topology, helpers
# and variables).  Each test runs xlbd in the lb namespace with health
# checks on backends be1 and be2, and controls the backends' servers:
#
#   hcserver.py NAME   data on HC_PORT (sends "NAME\n" at once, then
#                      answers "NAME <bytes>" at EOF), HTTP health on
#                      HC_HTTP and HTTPS on HC_HTTPS (GET answers as the
#                      mode file says), UDP on
#                      HC_UDP ("ping" -> "pong NAME" unless the mode is
#                      "silent")
#   mode file          ok | 500 | alt (200 and 500 in turn) | silent |
#                      slow (HTTP answers after 30 ms)
#
# The servers run on ports of their own, so killing one never touches the
# other tests' servers.

HC_PORT=9090
HC_HTTP=9091
HC_UDP=9092
HC_HTTPS=9093

hc_scripts() {
	cat >"$TMP/hcserver.py" <<'EOF'
import os, socket, sys, threading, time

name, modefile = sys.argv[1], sys.argv[2]
dport, hport, uport = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
turn = [0]
lock = threading.Lock()

def mode():
    try:
        with open(modefile) as f:
            return f.read().strip()
    except OSError:
        return "ok"

def listener(port, kind):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    if kind == socket.SOCK_STREAM:
        s.listen(256)
    return s

def data(c):
    try:
        c.settimeout(30)
        c.sendall((name + "\n").encode())
        n = 0
        while True:
            b = c.recv(65536)
            if not b:
                break
            n += len(b)
        c.sendall(("%s %d\n" % (name, n)).encode())
    except OSError:
        pass
    c.close()

def http(c):
    try:
        c.settimeout(5)
        req = b""
        while b"\r\n\r\n" not in req and len(req) < 8192:
            b = c.recv(4096)
            if not b:
                break
            req += b
        m = mode()
        if m == "slow":
            time.sleep(0.03)
        if m == "alt":
            with lock:
                turn[0] += 1
                m = "ok" if turn[0] % 2 else "500"
        status = "500 Internal Server Error" if m == "500" else "200 OK"
        body = ("fail" if m == "500" else "ok") + " " + name
        c.sendall(("HTTP/1.0 %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                   % (status, len(body), body)).encode())
    except OSError:
        pass
    c.close()

def accept_loop(s, fn):
    while True:
        c, _ = s.accept()
        threading.Thread(target=fn, args=(c,), daemon=True).start()

def udp_loop(s):
    while True:
        b, a = s.recvfrom(2048)
        if mode() != "silent" and b.startswith(b"ping"):
            s.sendto(("pong " + name).encode(), a)

ds, hs, us = listener(dport, socket.SOCK_STREAM), listener(hport, socket.SOCK_STREAM), \
    listener(uport, socket.SOCK_DGRAM)
threading.Thread(target=accept_loop, args=(hs, http), daemon=True).start()
if len(sys.argv) > 7:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[7], sys.argv[8])
    def https(c):
        try:
            c.settimeout(5)
            c = ctx.wrap_socket(c, server_side=True)
        except (OSError, ssl.SSLError):
            c.close()
            return
        http(c)
    threading.Thread(target=accept_loop, args=(listener(int(sys.argv[6]), socket.SOCK_STREAM), https),
                     daemon=True).start()
threading.Thread(target=udp_loop, args=(us,), daemon=True).start()
accept_loop(ds, data)
EOF
	# hcclient.py HOST PORT N SECS: N long-lived connections, each told its
	# backend by the first line; data every 0.2 s for SECS; then per
	# backend: "NAME ok K failed F".
	cat >"$TMP/hcclient.py" <<'EOF'
import socket, sys, time

host, port, count, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
conns = []
for _ in range(count):
    s = socket.create_connection((host, port), timeout=3)
    f = s.makefile("rb")
    conns.append([s, f.readline().decode().strip(), 0, None])
end = time.time() + secs
while time.time() < end:
    for c in conns:
        if c[3] is None:
            try:
                c[0].sendall(b"y" * 100)
                c[2] += 100
            except OSError as e:
                c[3] = repr(e)
    time.sleep(0.2)
res = {}
for c in conns:
    if c[3] is None:
        try:
            c[0].settimeout(5)
            c[0].shutdown(socket.SHUT_WR)
            data = b""
            while True:
                b = c[0].recv(4096)
                if not b:
                    break
                data += b
            w = data.decode().split()
            if not (len(w) == 2 and w[0] == c[1] and int(w[1]) == c[2]):
                c[3] = "reply %r for %d bytes" % (data, c[2])
        except OSError as e:
            c[3] = repr(e)
    r = res.setdefault(c[1], [0, 0])
    r[0 if c[3] is None else 1] += 1
print(" ".join("%s ok %d failed %d" % (k, v[0], v[1]) for k, v in sorted(res.items())))
EOF
	# hcconns.py HOST PORT N: N short connections; prints "ok K failed F
	# NAME n ...".
	cat >"$TMP/hcconns.py" <<'EOF'
import socket, sys

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok, failed, per = 0, 0, {}
for i in range(count):
    try:
        s = socket.create_connection((host, port), timeout=1.5)
        s.settimeout(1.5)
        n = s.makefile("rb").readline().decode().strip()
        s.close()
        if not n:
            raise OSError("no name")
        per[n] = per.get(n, 0) + 1
        ok += 1
    except OSError:
        failed += 1
print("ok %d failed %d %s" % (ok, failed, " ".join("%s %d" % kv for kv in sorted(per.items()))))
EOF
}

# hc_server NS NAME: (re)start NAME's server in NS.
hc_server() {
	ns_spawn "$1" "$TMP/hc-$2.log" 900 "$PY" "$TMP/hcserver.py" "$2" "$TMP/hc-$2.mode" \
		"$HC_PORT" "$HC_HTTP" "$HC_UDP" "$HC_HTTPS" "$TMP/hc-cert.pem" "$TMP/hc-key.pem" &&
		wait_listen "$1" "$HC_PORT" "health server $2" &&
		wait_listen "$1" "$HC_HTTPS" "health server $2 (HTTPS)"
}

hc_kill() { pkill -KILL -f -- "$TMP/hcserver.py $1 " ; }
hc_mode() { echo "$2" >"$TMP/hc-$1.mode"; }

# A clean start for each health test: no xlbd of ours, no pins, servers up
# and healthy.
hc_setup() {
	[ -z "$TOPO_ERR" ] || { MSG="topology: $TOPO_ERR"; return 1; }
	pkill -KILL -f -- "--config $TMP/" 2>/dev/null
	if [ -d "$PIN_ROOT/xlbd" ]; then
		nsb "$NS_L" timeout 20 "$LBSETUP" down --pin-root "$PIN_ROOT/xlbd" --iface lv \
			>/dev/null 2>&1
		rm -rf "$PIN_ROOT/xlbd"
	fi
	rm -f "$TMP/xlbd-state.json"
	HC_LOG0=$(cat "$TMP/xlbd.log" 2>/dev/null | wc -l)
	[ -f "$TMP/hcserver.py" ] || hc_scripts
	# A self-signed certificate for the HTTPS checks (CN "xlb-backend").
	[ -f "$TMP/hc-cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 1 \
		-subj /CN=xlb-backend -keyout "$TMP/hc-key.pem" -out "$TMP/hc-cert.pem" \
		>/dev/null 2>&1 || { MSG="openssl req failed"; return 1; }
	hc_mode be1 ok
	hc_mode be2 ok
	pgrep -f -- "$TMP/hcserver.py be1 " >/dev/null || hc_server "$NS_B1" be1 || return 1
	pgrep -f -- "$TMP/hcserver.py be2 " >/dev/null || hc_server "$NS_B2" be2 || return 1
}

# hc_config VIPS: write the daemon's config with these VIP objects.
hc_config() {
	cat >"$TMP/xlbd.json" <<EOF
{"version": 1, "interfaces": [{"name": "lv"}], "pin_root": "$PIN_ROOT/xlbd",
 "control": {"socket": "$TMP/xlbd.sock"}, "state_file": "$TMP/xlbd-state.json",
 "vips": [$1]}
EOF
}

# hc_field VIP ADDR EXPR: a backend's field from "backend list" (python
# expression over b, the backend object).
hc_field() {
	ctl -j backend list "$1" 2>/dev/null | "$PY" -c '
import json, sys
vip, addr, expr = sys.argv[1], sys.argv[2], sys.argv[3]
for v in json.load(sys.stdin).get("vips", []):
    for b in v["backends"]:
        if b["address"] == addr:
            print(eval(expr))' "$1" "$2" "$3"
}

# hc_wait VIP ADDR STATE SECS: wait for a backend's state; prints the ms
# it took.
hc_wait() {
	local vip=$1 addr=$2 want=$3 secs=$4 t0 i s

	t0=$(date +%s%N)
	for i in $(seq 1 $((secs * 50))); do
		s=$(hc_field "$vip" "$addr" 'b["health"]["state"]')
		if [ "$s" = "$want" ]; then
			echo $((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		sleep 0.02
	done
	echo "never (last: $s)"
	return 1
}

# hc_changed_at VIP ADDR: the wall clock (ms) of the backend's last state
# change, from its "since_s" and the time of the query.
hc_changed_at() {
	local t since

	t=$(($(date +%s%N) / 1000000))
	since=$(hc_field "$1" "$2" 'int(b["health"]["since_s"] * 1000)')
	echo $((t - since))
}

hc_finish() {
	xlbd_detach
}

# After each health test, passed or failed: no xlbd of ours, no pins.
hc_teardown() {
	pkill -KILL -f -- "--config $TMP/" 2>/dev/null
	if [ -d "$PIN_ROOT/xlbd" ]; then
		nsb "$NS_L" timeout 20 "$LBSETUP" down --pin-root "$PIN_ROOT/xlbd" --iface lv \
			>/dev/null 2>&1
		rm -rf "$PIN_ROOT/xlbd"
	fi
	hc_mode be1 ok
	hc_mode be2 ok
	nsx "$NS_B1" ip addr add "$VIP4/32" dev lo 2>/dev/null
	return 0
}

# Kill a backend's server: down within the configured bounds; new
# connections reach only the other; its long-lived connections see no
# failure.  Bring it back: up after rise successes, through slow start.
_health_kill() {
	local vip="$VIP4:$HC_PORT/tcp" out ms lc t0 w ws prev ok lo hi

	hc_setup || return 1
	# interval 200, timeout 100, fall 3, jitter 10%: down between
	# 200*(3-1) = 400 ms and 200*3 + 100 = 700 ms after the kill, each
	# delay +-10%.
	hc_config "{\"vip\": \"$vip\", \"slow_start_s\": 4,
	  \"health\": {\"type\": \"tcp\", \"interval_ms\": 200, \"timeout_ms\": 100,
	               \"rise\": 2, \"fall\": 3, \"jitter_pct\": 10, \"backoff_max_ms\": 800},
	  \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
	xlbd_start || return 1
	ms=$(hc_wait "$vip" "$B14" up 5) && hc_wait "$vip" "$B24" up 5 >/dev/null ||
		{ MSG="backends not up after start: $ms"; return 1; }

	ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/hcclient.py" "$VIP4" "$HC_PORT" 20 4 \
		>"$TMP/hclong.out" 2>&1 &
	lc=$!
	sleep 1
	t0=$(($(date +%s%N) / 1000000))
	hc_kill be1
	ms=$(hc_wait "$vip" "$B14" down 5) || { MSG="be1 not down after its kill: $ms"; return 1; }
	ms=$(($(hc_changed_at "$vip" "$B14") - t0))
	# +-10% jitter on each delay, plus 50 ms for the clocks and the kill.
	lo=$((400 * 9 / 10 - 50)) hi=$((700 * 11 / 10 + 50))
	log "be1 killed: marked down after $ms ms (bounds $lo..$hi ms)"
	[ "$ms" -ge "$lo" ] && [ "$ms" -le "$hi" ] || { MSG="down after $ms ms, outside $lo..$hi"; return 1; }
	out=$(hc_field "$vip" "$B14" 'b["health"].get("last_result", "")')
	grep -qi "refused" <<<"$out" || { MSG="down reason: '$out'"; return 1; }
	[ "$(hc_field "$vip" "$B14" 'b["effective_weight"]')" = 0 ] || { MSG="be1 keeps a weight"; return 1; }

	fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/hcconns.py" "$VIP4" "$HC_PORT" 40 \
		>"$TMP/hc.out" 2>&1
	log "new connections with be1 down: $(cat "$TMP/hc.out")"
	grep -q "^ok 40 failed 0 be2 40$" "$TMP/hc.out" || { MSG="new connections: $(cat "$TMP/hc.out")"; return 1; }
	wait "$lc"
	log "long-lived connections across the kill: $(cat "$TMP/hclong.out")"
	grep -Eq "be2 ok [1-9][0-9]* failed 0" "$TMP/hclong.out" ||
		{ MSG="connections to be2 failed: $(cat "$TMP/hclong.out")"; return 1; }

	# Back: rise 2 at interval 200, after at most one backed-off delay
	# (800 ms): up (slow start) within 0.8 + 2 * 0.2 s plus slack.
	t0=$(date +%s%N)
	hc_server "$NS_B1" be1 || { MSG="be1 restart: $TOPO_ERR"; return 1; }
	ms=$(hc_wait "$vip" "$B14" slow-start 5) || { MSG="be1 not back: $ms"; return 1; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	log "be1 restarted: in slow start after $ms ms"
	[ "$ms" -le 2500 ] || { MSG="be1 back only after $ms ms"; return 1; }
	# The effective weight ramps 10, 25, 50, 75 then 100 over 4 s.
	ws=() prev=-1 ok=1
	for i in $(seq 1 60); do
		w=$(hc_field "$vip" "$B14" 'b["effective_weight"]')
		if [ -n "$w" ] && [ "$w" != "$prev" ]; then
			ws+=("$w")
			[ "$w" -lt "$prev" ] && ok=0
			prev=$w
		fi
		[ "$(hc_field "$vip" "$B14" 'b["health"]["state"]')" = up ] && break
		sleep 0.1
	done
	w=$(hc_field "$vip" "$B14" 'b["effective_weight"]')
	[ "$w" != "$prev" ] && ws+=("$w") && prev=$w
	log "slow start: effective weights ${ws[*]}"
	[ "$ok" = 1 ] && [ "${#ws[@]}" -ge 3 ] && [ "$prev" = 100 ] ||
		{ MSG="slow start weights: ${ws[*]}"; return 1; }
	[ "$(hc_field "$vip" "$B14" 'b["health"]["state"]')" = up ] || { MSG="be1 not up after slow start"; return 1; }
	fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/hcconns.py" "$VIP4" "$HC_PORT" 60 \
		>"$TMP/hc.out" 2>&1
	log "after recovery: $(cat "$TMP/hc.out")"
	grep -Eq "^ok 60 failed 0 be1 [1-9][0-9]* be2 [1-9]" "$TMP/hc.out" ||
		{ MSG="after recovery: $(cat "$TMP/hc.out")"; return 1; }
	[ "$(tail -n +$((HC_LOG0 + 1)) "$TMP/xlbd.log" | grep -c "backend $B14: up -> down")" = 1 ] ||
		{ MSG="not one log line for the transition: $(grep "$B14" "$TMP/xlbd.log" | head -n3)"; return 1; }
	hc_finish
}

# HTTP returning 500, and a UDP server that stops answering: each detected,
# each recovered.
_health_http_udp() {
	local vh="$VIP4:$HC_PORT/tcp" vu="$VIP4:$HC_UDP/udp" ms out

	hc_setup || return 1
	hc_config "{\"vip\": \"$vh\",
	  \"health\": {\"type\": \"http\", \"port\": $HC_HTTP, \"path\": \"/health\",
	               \"expect_status\": \"200\", \"expect_body\": \"ok\",
	               \"interval_ms\": 200, \"timeout_ms\": 150, \"rise\": 2, \"fall\": 2},
	  \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]},
	 {\"vip\": \"$vu\",
	  \"health\": {\"type\": \"udp\", \"payload\": \"ping\", \"expect_reply\": \"pong\",
	               \"interval_ms\": 200, \"timeout_ms\": 150, \"rise\": 2, \"fall\": 2},
	  \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
	xlbd_start || return 1
	for v in "$vh" "$vu"; do
		for a in "$B14" "$B24"; do
			ms=$(hc_wait "$v" "$a" up 5) || { MSG="$v $a not up: $ms"; return 1; }
		done
	done
	hc_mode be1 500
	ms=$(hc_wait "$vh" "$B14" down 5) || { MSG="HTTP 500 not detected: $ms"; return 1; }
	out=$(hc_field "$vh" "$B14" 'b["health"].get("last_result", "")')
	log "HTTP 500 on be1: down after $ms ms ($out)"
	grep -q "500" <<<"$out" || { MSG="HTTP reason: '$out'"; return 1; }
	[ "$(hc_field "$vu" "$B14" 'b["health"]["state"]')" = up ] || { MSG="UDP check moved with HTTP"; return 1; }
	fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/hcconns.py" "$VIP4" "$HC_PORT" 30 \
		>"$TMP/hc.out" 2>&1
	grep -q "^ok 30 failed 0 be2 30$" "$TMP/hc.out" || { MSG="with be1 down: $(cat "$TMP/hc.out")"; return 1; }
	hc_mode be1 silent
	ms=$(hc_wait "$vu" "$B14" down 5) || { MSG="silent UDP not detected: $ms"; return 1; }
	out=$(hc_field "$vu" "$B14" 'b["health"].get("last_result", "")')
	log "UDP silent on be1: down after $ms ms ($out)"
	grep -qi "timeout\|timed out" <<<"$out" || { MSG="UDP reason: '$out'"; return 1; }
	hc_mode be1 ok
	ms=$(hc_wait "$vh" "$B14" up 5) && ms=$(hc_wait "$vu" "$B14" up 5) ||
		{ MSG="be1 did not recover: $ms"; return 1; }
	hc_finish
}

# A backend failing every other probe for 60 s: with rise 2 and fall 3 it
# never changes state.
_health_flap() {
	local vip="$VIP4:$HC_PORT/tcp" out t0

	hc_setup || return 1
	# interval 500 / timeout 400: a probe slowed by a loaded machine must
	# not pass for one of the failures the test makes.
	hc_config "{\"vip\": \"$vip\",
	  \"health\": {\"type\": \"http\", \"port\": $HC_HTTP, \"path\": \"/\",
	               \"interval_ms\": 500, \"timeout_ms\": 400, \"rise\": 2, \"fall\": 3},
	  \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
	# -vv: every probe result goes to the log, to explain a failure.
	xlbd_start -vv || return 1
	hc_wait "$vip" "$B14" up 5 >/dev/null || { MSG="be1 not up"; return 1; }
	t0=$(hc_field "$vip" "$B14" 'b["health"]["transitions"]')
	hc_mode be1 alt
	sleep "${HC_FLAP_SECS:-60}"
	out=$(hc_field "$vip" "$B14" '"%s %d %d %d" % (b["health"]["state"], b["health"]["transitions"], b["health"]["probes"], b["health"]["failures"])')
	hc_mode be1 ok
	log "be1 failing every other probe for ${HC_FLAP_SECS:-60} s: state, transitions, probes, failures: $out"
	set -- $out
	[ "$1" = up ] && [ "$2" = "$t0" ] || {
		MSG="flapped: $out (transitions before: $t0)"
		grep "10.0.3.2" "$TMP/xlbd.log" | grep -B6 -- "-> down" | tail -n 14 >&2
		return 1
	}
	# Half of the probes failed, and there were enough of them.
	[ "$3" -ge $((${HC_FLAP_SECS:-60} * 3 / 2)) ] && [ "$4" -ge $(($3 * 4 / 10)) ] ||
		{ MSG="not probed as expected: $out"; return 1; }
	hc_finish
}

# Drain: no new flow reaches the drained backend; its established flows
# carry on to their end.
_health_drain() {
	local vip="$VIP4:$HC_PORT/tcp" lc

	hc_setup || return 1
	hc_config "{\"vip\": \"$vip\",
	  \"health\": {\"type\": \"tcp\", \"interval_ms\": 200, \"timeout_ms\": 100},
	  \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
	xlbd_start || return 1
	hc_wait "$vip" "$B14" up 5 >/dev/null || { MSG="be1 not up"; return 1; }
	ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/hcclient.py" "$VIP4" "$HC_PORT" 20 3 \
		>"$TMP/hclong.out" 2>&1 &
	lc=$!
	sleep 0.5
	ctl backend drain "$vip" "$B14" || { MSG="drain failed"; return 1; }
	[ "$(hc_field "$vip" "$B14" 'b["health"]["state"]')" = draining ] || { MSG="be1 not draining"; return 1; }
	fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/hcconns.py" "$VIP4" "$HC_PORT" 40 \
		>"$TMP/hc.out" 2>&1
	log "new connections while be1 drains: $(cat "$TMP/hc.out")"
	grep -q "^ok 40 failed 0 be2 40$" "$TMP/hc.out" || { MSG="drain: $(cat "$TMP/hc.out")"; return 1; }
	wait "$lc"
	log "established connections across the drain: $(cat "$TMP/hclong.out")"
	grep -Eq "^be1 ok [1-9][0-9]* failed 0 be2 ok [1-9][0-9]* failed 0$" "$TMP/hclong.out" ||
		{ MSG="established flows: $(cat "$TMP/hclong.out")"; return 1; }
	hc_finish
}

# Every backend down (their health endpoints fail; the service itself
# works): "drop" drops, "fail-open" keeps forwarding; both recover.
_health_all_down() {
	local vip="$VIP4:$HC_PORT/tcp" pol out

	hc_setup || return 1
	for pol in drop fail-open; do
		hc_config "{\"vip\": \"$vip\", \"all_down\": \"$pol\",
		  \"health\": {\"type\": \"http\", \"port\": $HC_HTTP, \"interval_ms\": 200,
		               \"timeout_ms\": 100, \"rise\": 1, \"fall\": 1},
		  \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
		if [ "$pol" = drop ]; then
			xlbd_start || return 1
		else
			ctl config reload || { MSG="reload with fail-open failed"; return 1; }
		fi
		hc_mode be1 ok
		hc_mode be2 ok
		hc_wait "$vip" "$B14" up 5 >/dev/null && hc_wait "$vip" "$B24" up 5 >/dev/null ||
			{ MSG="$pol: backends not up"; return 1; }
		hc_mode be1 500
		hc_mode be2 500
		hc_wait "$vip" "$B14" down 5 >/dev/null && hc_wait "$vip" "$B24" down 5 >/dev/null ||
			{ MSG="$pol: backends not down"; return 1; }
		sleep 0.2
		fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/hcconns.py" "$VIP4" "$HC_PORT" 10 \
			>"$TMP/hc.out" 2>&1
		log "all down, policy $pol: $(cat "$TMP/hc.out")"
		if [ "$pol" = drop ]; then
			grep -q "^ok 0 failed 10" "$TMP/hc.out" || { MSG="drop: $(cat "$TMP/hc.out")"; return 1; }
			out=$(ctl -j stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["reasons"].get("ring_empty_slot", 0))')
			[ "${out:-0}" -gt 0 ] || { MSG="drop: no ring_empty_slot drops counted"; return 1; }
		else
			grep -Eq "^ok 10 failed 0 be1 [0-9]+ be2 [0-9]+|^ok 10 failed 0 be[12] 10" "$TMP/hc.out" ||
				{ MSG="fail-open: $(cat "$TMP/hc.out")"; return 1; }
		fi
		hc_mode be1 ok
		hc_mode be2 ok
		hc_wait "$vip" "$B14" up 5 >/dev/null && hc_wait "$vip" "$B24" up 5 >/dev/null ||
			{ MSG="$pol: no recovery"; return 1; }
		fg_run ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/hcconns.py" "$VIP4" "$HC_PORT" 20 \
			>"$TMP/hc.out" 2>&1
		grep -q "^ok 20 failed 0" "$TMP/hc.out" || { MSG="$pol recovery: $(cat "$TMP/hc.out")"; return 1; }
	done
	hc_finish
}

# A restarted xlbd starts from the pinned state: the down backend stays
# down and out of the ring, the others stay in, and nothing leaves the
# ring before the first round of probes.
_health_restart() {
	local vip="$VIP4:$HC_PORT/tcp" out lc

	hc_setup || return 1
	hc_config "{\"vip\": \"$vip\",
	  \"health\": {\"type\": \"http\", \"port\": $HC_HTTP, \"interval_ms\": 200,
	               \"timeout_ms\": 150, \"rise\": 2, \"fall\": 2},
	  \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
	xlbd_start || return 1
	hc_wait "$vip" "$B24" up 5 >/dev/null && hc_wait "$vip" "$B14" up 5 >/dev/null ||
		{ MSG="backends not up"; return 1; }
	hc_mode be1 500
	hc_wait "$vip" "$B14" down 5 >/dev/null || { MSG="be1 not down"; return 1; }
	ip netns exec "$NS_C" timeout 60 "$PY" "$TMP/hcconns.py" "$VIP4" "$HC_PORT" 60 \
		>"$TMP/hcr.out" 2>&1 &
	lc=$!
	kill -9 "$(pgrep -P "$XLBD_PID")" || { MSG="no xlbd to kill"; return 1; }
	wait "$XLBD_PID" 2>/dev/null
	HC_LOG0=$(wc -l <"$TMP/xlbd.log")
	xlbd_start || return 1
	out="$(hc_field "$vip" "$B14" 'b["health"]["state"]') $(hc_field "$vip" "$B24" 'b["health"]["state"]')"
	log "right after the restart: be1 and be2 are: $out"
	[ "$out" = "down up" ] || { MSG="restart did not start from the pinned state: $out"; return 1; }
	wait "$lc"
	log "new connections across the restart: $(cat "$TMP/hcr.out")"
	grep -q "^ok 60 failed 0 be2 60$" "$TMP/hcr.out" || { MSG="across the restart: $(cat "$TMP/hcr.out")"; return 1; }
	tail -n +$((HC_LOG0 + 1)) "$TMP/xlbd.log" | grep -q "first round complete: 1 up, 1 down" ||
		{ MSG="no complete first round: $(tail -n +$((HC_LOG0 + 1)) "$TMP/xlbd.log" | grep round)"; return 1; }
	hc_mode be1 ok
	hc_wait "$vip" "$B14" up 5 >/dev/null || { MSG="be1 did not come back"; return 1; }
	hc_finish
}

# Latency-adaptive weights: a backend whose probes take well above the
# VIP's median gets a smaller share, never nothing; back to normal, its
# full weight returns.
_health_latency() {
	local vip="$VIP4:$HC_PORT/tcp" ms w

	hc_setup || return 1
	hc_config "{\"vip\": \"$vip\", \"latency_adaptive\": true,
	  \"health\": {\"type\": \"http\", \"port\": $HC_HTTP, \"interval_ms\": 100,
	               \"timeout_ms\": 90, \"rise\": 1, \"fall\": 3},
	  \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
	xlbd_start || return 1
	hc_wait "$vip" "$B14" up 5 >/dev/null && hc_wait "$vip" "$B24" up 5 >/dev/null ||
		{ MSG="backends not up"; return 1; }
	hc_mode be1 slow
	for ms in $(seq 1 100); do
		w=$(hc_field "$vip" "$B14" 'b["effective_weight"]')
		[ "$w" -lt 100 ] 2>/dev/null && break
		sleep 0.1
	done
	log "be1 answering its probes 30 ms late: effective weight $w of 100"
	[ "$w" = 25 ] || [ "$w" = 50 ] || { MSG="slow be1 kept weight $w"; return 1; }
	[ "$(hc_field "$vip" "$B14" 'b["health"]["state"]')" = up ] || { MSG="slow be1 not up"; return 1; }
	hc_mode be1 ok
	for ms in $(seq 1 100); do
		w=$(hc_field "$vip" "$B14" 'b["effective_weight"]')
		[ "$w" = 100 ] && break
		sleep 0.1
	done
	log "be1 fast again: effective weight $w"
	[ "$w" = 100 ] || { MSG="be1 did not get its weight back: $w"; return 1; }
	hc_finish
}

# Data-path probes through xlbd: the probe goes to the VIP, encapsulated
# to each backend as client traffic is.  Without the VIP on its lo, a
# backend fails its check although its own address still answers.
_health_datapath() {
	local vip="$VIP4:$HC_PORT/tcp" out

	hc_setup || return 1
	# Locally sent probes carry a partial checksum that veth would hand
	# on unfinished (a NIC finishes it).
	nsx "$NS_L" ethtool -K lv tx off >/dev/null || { MSG="ethtool -K lv tx off"; return 1; }
	hc_config "{\"vip\": \"$vip\",
	  \"health\": {\"type\": \"tcp\", \"datapath\": true, \"interval_ms\": 200,
	               \"timeout_ms\": 150, \"rise\": 2, \"fall\": 2},
	  \"backends\": [{\"address\": \"$B14\"}, {\"address\": \"$B24\"}]}"
	xlbd_start || return 1
	hc_wait "$vip" "$B14" up 5 >/dev/null && hc_wait "$vip" "$B24" up 5 >/dev/null ||
		{ MSG="backends not up through the data path: $(tail -n3 "$TMP/xlbd.log")"; return 1; }
	nsx "$NS_L" tc filter show dev lv egress | grep -q "handle 0x584c" ||
		{ MSG="no probe encapsulator on lv egress"; return 1; }
	nsx "$NS_B1" ip addr del "$VIP4/32" dev lo || { MSG="ip addr del"; return 1; }
	out=$(hc_wait "$vip" "$B14" down 5) || { MSG="be1 without the VIP not down: $out"; return 1; }
	log "be1 without the VIP on lo: down after $out ms ($(hc_field "$vip" "$B14" 'b["health"].get("last_result", "")'))"
	nsx "$NS_L" "$PY" -c "import socket; socket.create_connection(('$B14', $HC_PORT), timeout=2).close()" ||
		{ MSG="be1's own address does not answer"; return 1; }
	[ "$(hc_field "$vip" "$B24" 'b["health"]["state"]')" = up ] || { MSG="be2 went down too"; return 1; }
	nsx "$NS_B1" ip addr add "$VIP4/32" dev lo || { MSG="ip addr add"; return 1; }
	out=$(hc_wait "$vip" "$B14" up 5) || { MSG="be1 with the VIP back not up: $out"; return 1; }
	hc_finish || return 1
	! nsx "$NS_L" tc filter show dev lv egress | grep -q "handle 0x584c" ||
		{ MSG="probe encapsulator left on lv after detach"; return 1; }
}

# HTTPS checks: up through TLS, down on HTTP 500; with tls_verify, a
# self-signed certificate fails the check.
_health_https() {
	local vip="$VIP4:$HC_PORT/tcp" out

	hc_setup || return 1
	hc_config "{\"vip\": \"$vip\",
	  \"health\": {\"type\": \"https\", \"port\": $HC_HTTPS, \"path\": \"/health\",
	               \"interval_ms\": 200, \"timeout_ms\": 150, \"rise\": 2, \"fall\": 2},
	  \"backends\": [{\"address\": \"$B14\"},
	               {\"address\": \"$B24\", \"health\": {\"tls_verify\": true, \"host\": \"xlb-backend\"}}]}"
	xlbd_start || return 1
	out=$(hc_wait "$vip" "$B14" up 5) || { MSG="be1 not up over HTTPS: $out"; return 1; }
	out=$(hc_wait "$vip" "$B24" down 5) ||
		{ MSG="be2 with tls_verify and a self-signed certificate: $out"; return 1; }
	out=$(hc_field "$vip" "$B24" 'b["health"].get("last_result", "")')
	log "be2 with tls_verify: down ($out)"
	grep -qi "certificate\|SSL" <<<"$out" || { MSG="tls_verify reason: '$out'"; return 1; }
	hc_mode be1 500
	out=$(hc_wait "$vip" "$B14" down 5) || { MSG="HTTPS 500 not detected: $out"; return 1; }
	log "be1 answering 500 over HTTPS: down after $out ms ($(hc_field "$vip" "$B14" 'b["health"].get("last_result", "")'))"
	hc_mode be1 ok
	hc_wait "$vip" "$B14" up 5 >/dev/null || { MSG="be1 not back over HTTPS"; return 1; }
	hc_finish
}

for t in health_kill health_http_udp health_flap health_drain health_all_down health_restart \
	health_latency health_datapath health_https; do
	eval "test_$t() { local rc; _$t; rc=\$?; hc_teardown; return \$rc; }"
done
HEALTH_TESTS=(health_kill health_http_udp health_flap health_drain health_all_down health_restart
	health_latency health_datapath health_https)
