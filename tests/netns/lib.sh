# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034
#
# Shared by tests/netns/run.sh and tools/demo.sh: network namespaces, veth
# links, the backend decapsulator, background processes, and a teardown
# that removes only what this run created.  Source it; it runs nothing.
#
# The caller sets:
#   ID         this run's id (its pid); every name below carries it
#   PIN_ROOT   /sys/fs/bpf/<prefix>-$ID: the LB pins under $PIN_ROOT/lb, each
#              decapsulator's under $PIN_ROOT/decap-<namespace suffix>
#   LBSETUP, XLB_DECAP   the binaries
#   LB_IFACE   the LB's interface (default lv)
#   TMP        a temporary directory (optional; removed by lib_teardown)
# and lib.sh keeps:
#   NAMESPACES the namespaces created with ns_add
#   BG_PIDS    background processes started with fg_run or ns_spawn
#   TOPO_ERR   the reason the last failing setup step gives

NAMESPACES=()
BG_PIDS=()
TOPO_ERR=

# ---------------------------------------------------------------- processes

# Our background processes that are still running.  Asking the shell's job
# table, not ps, means a recycled pid is never taken for ours.
our_running() {
	local running pid

	running=" $(jobs -pr | tr '\n' ' ') "
	for pid in "${BG_PIDS[@]}"; do
		case "$running" in *" $pid "*) echo "$pid" ;; esac
	done
}

# TERM our background processes, wait up to 5 s, then KILL what is left.
stop_bg() {
	local pid i left

	left=$(our_running)
	for pid in $left; do
		kill "$pid" 2>/dev/null
	done
	for i in $(seq 1 50); do
		left=$(our_running)
		[ -z "$left" ] && break
		sleep 0.1
	done
	for pid in $left; do
		kill -KILL "$pid" 2>/dev/null
	done
}

# Run a command in the background and wait for it, so that a signal to the
# script is handled at once rather than after the command ends.  The
# command must be a program, not a shell function, so that the pid killed
# on teardown is the program's.  Descriptors 8 and 9 (the scripts' own
# terminal output) are not passed on.
fg_run() {
	local pid rc

	"$@" 8>&- 9>&- &
	pid=$!
	BG_PIDS+=("$pid")
	wait "$pid"
	rc=$?
	unset 'BG_PIDS[-1]'
	return $rc
}

# ns_spawn NS LOG SECONDS CMD...: start CMD in NS in the background, its
# output to LOG.  Not through a shell function: $! must be the process
# itself (ip execs timeout), so that killing it ends CMD.  timeout bounds
# its life even if the script is killed with -9.
ns_spawn() {
	local ns=$1 log=$2 secs=$3
	shift 3

	ip netns exec "$ns" timeout "$secs" "$@" >"$log" 2>&1 8>&- 9>&- &
	BG_PIDS+=("$!")
}

# wait_listen NS PORT WHAT: wait up to 5 s for a TCP listener on PORT.
wait_listen() {
	local ns=$1 port=$2 what=$3 i

	for i in $(seq 1 50); do
		nsx "$ns" ss -Hltn "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	TOPO_ERR="$what not listening on port $port after 5 s"
	return 1
}

# ---------------------------------------------------------------- namespaces

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# nsenter keeps our mount namespace, so /sys/fs/bpf stays visible (trap 1).
nsb() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

ns_add() {
	ip netns add "$1" || return 1
	NAMESPACES+=("$1")
	nsx "$1" ip link set lo up
}

# New namespaces start with kernel defaults (trap 7): say what we want.
ns_sysctls() {
	local ns=$1 fwd=$2 k

	nsx "$ns" sysctl -qw net.ipv4.ip_forward="$fwd" \
		net.ipv6.conf.all.forwarding="$fwd" \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 || return 1
	for k in all default lo; do
		nsx "$ns" sysctl -qw net.ipv4.conf.$k.rp_filter=0 || return 1
	done
}

dev_sysctls() {
	local ns=$1 dev=$2

	nsx "$ns" sysctl -qw net.ipv4.conf."$dev".rp_filter=0 \
		net.ipv6.conf."$dev".accept_dad=0
}

# Wait until both ends of a veth are operationally UP.  A fresh veth
# sometimes stays NO-CARRIER until it is bounced (trap 11).
wait_up() {
	local ns1=$1 d1=$2 ns2=$3 d2=$4 i

	for i in $(seq 1 60); do
		if nsx "$ns1" ip -o link show dev "$d1" | grep -q 'state UP' &&
		   nsx "$ns2" ip -o link show dev "$d2" | grep -q 'state UP'; then
			return 0
		fi
		if [ "$i" = 20 ] || [ "$i" = 40 ]; then
			nsx "$ns2" ip link set dev "$d2" down
			nsx "$ns2" ip link set dev "$d2" up
			nsx "$ns1" ip link set dev "$d1" down
			nsx "$ns1" ip link set dev "$d1" up
		fi
		sleep 0.1
	done
	TOPO_ERR="veth $d1/$d2 not UP after 6 s"
	return 1
}

# veth between $ns1/$d1 (address $a1 $a16) and $ns2/$d2 ($a2 $a26).
link() {
	local ns1=$1 d1=$2 a1=$3 a16=$4 ns2=$5 d2=$6 a2=$7 a26=$8 mtu=$9

	nsx "$ns1" ip link add name "$d1" mtu "$mtu" type veth \
		peer name "$d2" mtu "$mtu" netns "$ns2" || return 1
	dev_sysctls "$ns1" "$d1" && dev_sysctls "$ns2" "$d2" || return 1
	nsx "$ns1" ip addr add "$a1/24" dev "$d1" || return 1
	nsx "$ns1" ip addr add "$a16/64" dev "$d1" nodad || return 1
	nsx "$ns2" ip addr add "$a2/24" dev "$d2" || return 1
	nsx "$ns2" ip addr add "$a26/64" dev "$d2" nodad || return 1
	nsx "$ns1" ip link set dev "$d1" up && nsx "$ns2" ip link set dev "$d2" up || return 1
	wait_up "$ns1" "$d1" "$ns2" "$d2"
}

# ---------------------------------------------------------------- decapsulator

decap_attach() {
	local ns=$1 dev=$2
	shift 2

	nsb "$ns" timeout 20 "$XLB_DECAP" attach "$dev" "$@" \
		--pin-root "$PIN_ROOT/decap-${ns##*-}" >/dev/null
}

decap_stat() {
	local ns=$1 dev=$2 counter=$3

	nsb "$ns" timeout 20 "$XLB_DECAP" stats "$dev" --pin-root "$PIN_ROOT/decap-${ns##*-}" |
		awk -v c="$counter" '$1 == c { print $2 }'
}

# ---------------------------------------------------------------- teardown

# Remove everything this run created, and nothing else: our background
# processes, the LB and decapsulators pinned under our PIN_ROOT, our
# namespaces, PIN_ROOT itself (only if its name ends in our id) and TMP.
lib_teardown() {
	local ns dir ifdir

	stop_bg
	if [ "${LB_UP:-0}" = 1 ] || [ -d "$PIN_ROOT/lb" ]; then
		timeout 20 "$LBSETUP" down --pin-root "$PIN_ROOT/lb" --iface "${LB_IFACE:-lv}" \
			>/dev/null 2>&1
	fi
	for dir in "$PIN_ROOT"/decap-*; do
		[ -d "$dir" ] || continue
		for ifdir in "$dir"/*; do
			[ -d "$ifdir" ] || continue
			timeout 20 "$XLB_DECAP" detach "${ifdir##*/}" --pin-root "$dir" >/dev/null 2>&1
		done
	done
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NAMESPACES=()
	# Only ever our own root: directly under /sys/fs/bpf, named for our id.
	case "$PIN_ROOT" in
	/sys/fs/bpf/*/*) ;;
	/sys/fs/bpf/?*-"$ID") [ -n "$ID" ] && rm -rf "$PIN_ROOT" ;;
	esac
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
}
