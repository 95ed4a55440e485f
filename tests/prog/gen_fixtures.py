#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Packet fixtures for the xlb XDP program, written as JSON for test_prog.

Every case has a name, a description, an input frame, the expected XDP
verdict, the expected output frame (for verdicts that send), and the exact
counter deltas it must cause.  Frames are built with scapy, so checksums and
lengths in the expected output are computed independently of the data plane.
The flow hash is mirrored from include/xlb/hash.h so the expected backend and
outer source address of each flow can be predicted; test_unit checks the C
hash against the same vectors (tests/unit/hash_vectors.txt).
"""
import ipaddress
import json
import sys

from scapy.all import (ARP, Dot1AD, Dot1Q, Ether, ICMP, IP, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting,
                       ICMPv6ND_NS, Raw, TCP, UDP)

M32 = 0xFFFFFFFF
SEED = 0x5EED1234


def rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M32


def mix(h, k):
    k = (k * 0xCC9E2D51) & M32
    k = rotl(k, 15)
    k = (k * 0x1B873593) & M32
    h ^= k
    h = rotl(h, 13)
    return (h * 5 + 0xE6546B64) & M32


def fmix(h, n):
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def words(addr):
    b = ipaddress.ip_address(addr).packed
    return [int.from_bytes(b[i:i + 4], "big") for i in range(0, len(b), 4)]


def flow_hash(src, dst, sport, dport, proto, seed=SEED):
    s, d = words(src), words(dst)
    h = seed
    for i in range(len(s)):
        h = mix(h, s[i])
        h = mix(h, d[i])
    h = mix(h, (sport << 16) | dport)
    h = mix(h, proto)
    return fmix(h, len(s))


def src_hash(src, seed=SEED):
    s = words(src)
    h = seed ^ 0x5BD1E995
    for w in s:
        h = mix(h, w)
    return fmix(h, len(s))


# ---------------------------------------------------------------- topology
CLIENT_MAC = "02:00:00:00:00:01"
LB_MAC = "02:00:00:00:00:02"
NH_DMAC = "02:00:00:00:00:aa"
NH_SMAC = "02:00:00:00:00:bb"
C4, C4B = "192.0.2.10", "192.0.2.77"
C6 = "2001:db8:c::10"
SRC4_PREFIX, SRC4_MASK = "172.16.0.0", "255.255.0.0"
SRC6_PREFIX = "fd00:786c:6200::"

BACKENDS = {
    1: {"addr": "10.1.0.1"},
    2: {"addr": "10.1.0.2"},
    3: {"addr": "fc00:1::3"},
    4: {"addr": "10.1.0.4", "unusable": True},
    5: {"addr": "fc00:1::5"},
    6: {"addr": "10.1.0.6"},
    # 9 is deliberately never written: a ring naming it hits bad_backend
}

# name -> (vip string, id, flags, ring size, ring fill (cycled over slots) or None)
VIPS = {
    "web": ("10.0.0.1:80/tcp", 1, [], 13, [1, 2]),
    "dns": ("10.0.0.1:53/udp", 2, [], 7, [1]),
    "web6": ("[2001:db8::1]:443/tcp", 3, [], 11, [3, 5]),
    "any": ("10.0.0.2:0/tcp", 4, [], 7, [2]),
    "sticky": ("10.0.0.3:80/tcp", 5, ["hash_src_only"], 251, [1, 2, 6]),
    "noring": ("10.0.0.4:80/tcp", 6, [], 0, None),
    "holes": ("10.0.0.5:80/tcp", 7, [], 5, [0]),
    "to6": ("10.0.0.6:80/tcp", 8, [], 7, [3]),
    "dns6to4": ("[2001:db8::2]:53/udp", 9, [], 7, [1]),
    "down": ("10.0.0.7:80/tcp", 10, [], 7, [4]),
    "ghost": ("10.0.0.8:80/tcp", 11, [], 7, [9]),
    "stateless": ("10.0.0.9:80/tcp", 12, ["no_conntrack"], 13, [1, 2]),
    "udp6": ("[2001:db8::3]:5000/udp", 13, [], 7, [5]),
    # dead-backend policy: flows recorded on unusable backend 4 (CONNTRACK)
    "deaddrop": ("10.0.0.10:80/tcp", 14, ["dead_drop"], 7, [1]),
    "deadpick": ("10.0.0.11:80/tcp", 15, [], 7, [2]),
}

# Connection entries written before the cases run: (key, backend id, VIP name).
# The data plane never records a flow on an unusable backend itself; these
# stand for flows recorded before their backend was marked unusable.
CONNTRACK = [
    (("192.0.2.10", "10.0.0.10", 40000, 80, 6), 4, "deaddrop"),
    (("192.0.2.10", "10.0.0.10", 40001, 80, 6), 2, "deaddrop"),
    (("192.0.2.10", "10.0.0.11", 40000, 80, 6), 4, "deadpick"),
]


def vip_parts(name):
    s = VIPS[name][0]
    hostport, proto = s.rsplit("/", 1)
    host, port = hostport.rsplit(":", 1)
    return host.strip("[]"), int(port), proto


def ring_backend(name, h):
    _, _, _, m, fill = VIPS[name]
    return fill[(h % m) % len(fill)]


def hx(b):
    return bytes(b).hex()


# ---------------------------------------------------------------- cases
cases = []
flows = set()   # conntrack as the data plane should hold it


def case(name, desc, frame, verdict, out=None, reasons=(), vip=None,
         backend=None):
    """vip/backend: (id, new_flow) whose counters move by this frame."""
    frame = bytes(frame)
    c = {"name": name, "desc": desc, "in": hx(frame), "verdict": verdict,
         "reasons": {}, "vip": {}, "backend": {}}
    for r in reasons:
        c["reasons"][r] = c["reasons"].get(r, 0) + 1
    if out is not None:
        c["out"] = hx(out)
    if vip:
        c["vip"][str(vip[0])] = [1, len(frame), int(vip[1])]
    if backend:
        c["backend"][str(backend[0])] = [1, len(frame), int(backend[1])]
    cases.append(c)


def l3_offset(frame):
    return 18 if frame[12:14] in (b"\x81\x00", b"\x88\xa8") else 14


def encap(frame, be_id, h):
    """The frame xlb must send for @frame toward backend @be_id."""
    frame = bytes(frame)
    off = l3_offset(frame)
    inner = frame[off:]
    v = inner[0] >> 4
    if v == 4:
        ilen = int.from_bytes(inner[2:4], "big")
        tos = inner[1]
        df = bool(inner[6] & 0x40)
        nh = 4
    else:
        ilen = 40 + int.from_bytes(inner[4:6], "big")
        tos = ((inner[0] & 0x0F) << 4) | (inner[1] >> 4)
        df = False
        nh = 41
    be = BACKENDS[be_id]["addr"]
    if ipaddress.ip_address(be).version == 4:
        pre = int(ipaddress.IPv4Address(SRC4_PREFIX))
        mask = int(ipaddress.IPv4Address(SRC4_MASK))
        src = str(ipaddress.IPv4Address((pre & mask) | (h & ~mask & M32)))
        outer = IP(version=4, ihl=5, tos=tos, len=ilen + 20, id=0,
                   flags="DF" if df else 0, frag=0, ttl=64, proto=nh,
                   src=src, dst=be)
        et = 0x0800
    else:
        src = str(ipaddress.IPv6Address(
            ipaddress.IPv6Address(SRC6_PREFIX).packed[:12] + h.to_bytes(4, "big")))
        outer = IPv6(version=6, tc=tos, fl=h & 0xFFFFF, plen=ilen, nh=nh,
                     hlim=64, src=src, dst=be)
        et = 0x86DD
    return bytes(Ether(dst=NH_DMAC, src=NH_SMAC, type=et) / outer / Raw(inner))


def fwd(name, desc, frame, vipname, syn=False, src_only=False, key=None,
        rechoose=False):
    """A VIP packet that must be encapsulated and sent (XDP_TX).
    rechoose: its flow is recorded on an unusable backend."""
    frame = bytes(frame)
    vid = VIPS[vipname][1]
    tracked = "no_conntrack" not in VIPS[vipname][2]
    sip, dip, sport, dport, proto = key
    h = flow_hash(sip, dip, sport, dport, proto)
    new = syn or not tracked or key not in flows or rechoose
    if new:
        pick = ring_backend(vipname, src_hash(sip) if src_only else h)
        if tracked:
            flows.add(key)
            ct_backend[key] = pick
    be = ct_backend.get(key) if tracked else pick
    case(name, desc, frame, "tx", out=encap(frame, be, h),
         reasons=["fib_static"], vip=(vid, new), backend=(be, new))
    return be


ct_backend = {}
for _key, _be, _vip in CONNTRACK:
    flows.add(_key)
    ct_backend[_key] = _be


def eth(vlan=None, ad=False):
    e = Ether(dst=LB_MAC, src=CLIENT_MAC)
    if vlan is not None:
        e = e / (Dot1AD(vlan=vlan) if ad else Dot1Q(vlan=vlan))
    return e


def tcp4(dst, dport, flags="S", src=C4, sport=40000, payload=b"", ip_kw=None,
         **kw):
    return eth(**kw) / IP(src=src, dst=dst, **(ip_kw or {})) / \
        TCP(sport=sport, dport=dport, flags=flags, seq=1000) / Raw(payload)


def udp4(dst, dport, src=C4, sport=40000, payload=b"query", **kw):
    return eth(**kw) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload)


def tcp6(dst, dport, flags="S", src=C6, sport=40000, payload=b"", tc=0):
    return eth() / IPv6(src=src, dst=dst, tc=tc) / \
        TCP(sport=sport, dport=dport, flags=flags) / Raw(payload)


def udp6(dst, dport, src=C6, sport=40000, payload=b"query"):
    return eth() / IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload)


def k4(dst, dport, proto=6, src=C4, sport=40000):
    return (src, dst, sport, dport, proto)


WEB = "10.0.0.1"
W6 = "2001:db8::1"

# --- IPv4 TCP to a two-backend VIP
for i, sp in enumerate([40000, 40001, 40002, 40003, 51515]):
    fwd(f"tcp4_syn_{i}", f"IPv4 TCP SYN from port {sp}: new flow, ring pick, IPIP",
        tcp4(WEB, 80, "S", sport=sp), "web", syn=True, key=k4(WEB, 80, sport=sp))
fwd("tcp4_ack_known", "IPv4 ACK of a flow opened by a SYN: conntrack hit, no new flow",
    tcp4(WEB, 80, "A"), "web", key=k4(WEB, 80))
fwd("tcp4_psh_payload", "IPv4 PSH/ACK with 100 bytes: conntrack hit, inner bytes unchanged",
    tcp4(WEB, 80, "PA", payload=b"x" * 100), "web", key=k4(WEB, 80))
fwd("tcp4_ack_unknown", "IPv4 ACK with no conntrack entry (flow from another LB): miss, ring pick",
    tcp4(WEB, 80, "A", sport=45000), "web", key=k4(WEB, 80, sport=45000))
fwd("tcp4_ack_unknown_again", "the same ACK again: now a conntrack hit",
    tcp4(WEB, 80, "A", sport=45000), "web", key=k4(WEB, 80, sport=45000))
fwd("tcp4_syn_again", "a SYN on a known flow always consults the ring (new flow)",
    tcp4(WEB, 80, "S"), "web", syn=True, key=k4(WEB, 80))
fwd("tcp4_synack_dir", "SYN+ACK toward a VIP is not a SYN: conntrack hit",
    tcp4(WEB, 80, "SA"), "web", key=k4(WEB, 80))
fwd("tcp4_fin", "IPv4 FIN/ACK: conntrack hit", tcp4(WEB, 80, "FA"), "web", key=k4(WEB, 80))
fwd("tcp4_rst", "IPv4 RST: conntrack hit", tcp4(WEB, 80, "R"), "web", key=k4(WEB, 80))
fwd("tcp4_big", "IPv4 1400-byte payload", tcp4(WEB, 80, "PA", payload=b"\xab" * 1400),
    "web", key=k4(WEB, 80))
fwd("tcp4_dscp_ecn", "DSCP EF + ECT(1): the outer TOS copies the inner one",
    tcp4(WEB, 80, "S", sport=41000, ip_kw={"tos": 0xB9}), "web", syn=True,
    key=k4(WEB, 80, sport=41000))
fwd("tcp4_ecn_ce", "ECN CE mark is copied to the outer header",
    tcp4(WEB, 80, "A", sport=41000, ip_kw={"tos": 0x03}), "web", key=k4(WEB, 80, sport=41000))
fwd("tcp4_ttl1", "inner TTL 1: xlb is a tunnel entry, not a router hop: forwarded, inner TTL unchanged",
    tcp4(WEB, 80, "S", sport=41001, ip_kw={"ttl": 1}), "web", syn=True,
    key=k4(WEB, 80, sport=41001))
fwd("tcp4_df", "inner DF: the outer header carries DF too",
    tcp4(WEB, 80, "S", sport=41002, ip_kw={"flags": "DF"}), "web", syn=True,
    key=k4(WEB, 80, sport=41002))
fwd("tcp4_vlan", "802.1Q-tagged SYN: encapsulated, sent untagged",
    tcp4(WEB, 80, "S", sport=41003, vlan=100), "web", syn=True, key=k4(WEB, 80, sport=41003))
fwd("tcp4_qinq_outer", "802.1ad-tagged SYN: encapsulated, sent untagged",
    tcp4(WEB, 80, "S", sport=41004, vlan=200, ad=True), "web", syn=True,
    key=k4(WEB, 80, sport=41004))
pad = bytes(tcp4(WEB, 80, "A", sport=41005)) + b"\x00" * 6   # 54 -> 60 byte minimum frame
fwd("tcp4_eth_padding", "60-byte frame with Ethernet padding: lengths from the IP header, padding kept after the inner packet",
    pad, "web", key=k4(WEB, 80, sport=41005))
fwd("tcp4_other_client", "another client address", tcp4(WEB, 80, "S", src=C4B, sport=41006),
    "web", syn=True, key=k4(WEB, 80, src=C4B, sport=41006))

# --- UDP
fwd("udp4", "IPv4 UDP to a UDP VIP: new flow", udp4(WEB, 53), "dns", key=k4(WEB, 53, 17))
fwd("udp4_again", "the same UDP flow: conntrack hit", udp4(WEB, 53), "dns", key=k4(WEB, 53, 17))
fwd("udp4_other_port", "UDP from another source port: new flow", udp4(WEB, 53, sport=999),
    "dns", key=k4(WEB, 53, 17, sport=999))
u0 = eth() / IP(src=C4, dst=WEB) / UDP(sport=40010, dport=53, chksum=0) / Raw(b"nocsum")
fwd("udp4_zero_csum", "UDP with checksum 0 (none): forwarded untouched", u0, "dns",
    key=k4(WEB, 53, 17, sport=40010))

# --- IPv6
fwd("tcp6_syn", "IPv6 TCP SYN: IP6IP6", tcp6(W6, 443, "S"), "web6", syn=True,
    key=(C6, W6, 40000, 443, 6))
fwd("tcp6_ack", "IPv6 ACK: conntrack hit", tcp6(W6, 443, "A", payload=b"GET /"), "web6",
    key=(C6, W6, 40000, 443, 6))
fwd("tcp6_tc", "IPv6 traffic class 0xb9: copied to the outer header", tcp6(W6, 443, "S", sport=40100, tc=0xB9),
    "web6", syn=True, key=(C6, W6, 40100, 443, 6))
fwd("udp6", "IPv6 UDP: IP6IP6", udp6("2001:db8::3", 5000), "udp6",
    key=(C6, "2001:db8::3", 40000, 5000, 17))
fwd("udp6_to4", "IPv6 UDP VIP with an IPv4 backend: 6-in-4", udp6("2001:db8::2", 53),
    "dns6to4", key=(C6, "2001:db8::2", 40000, 53, 17))
fwd("tcp4_to6", "IPv4 VIP with an IPv6 backend: 4-in-6", tcp4("10.0.0.6", 80, "S"), "to6",
    syn=True, key=k4("10.0.0.6", 80))

# --- port 0 and source-hash VIPs
fwd("port0_22", "port-0 VIP matches port 22", tcp4("10.0.0.2", 22, "S"), "any", syn=True,
    key=k4("10.0.0.2", 22))
fwd("port0_8080", "port-0 VIP matches port 8080", tcp4("10.0.0.2", 8080, "S"), "any",
    syn=True, key=k4("10.0.0.2", 8080))
b1 = fwd("srchash_a", "source-hash VIP: ring slot from the client address only",
         tcp4("10.0.0.3", 80, "S", sport=1111), "sticky", syn=True, src_only=True,
         key=k4("10.0.0.3", 80, sport=1111))
b2 = fwd("srchash_b", "same client, other port: the same backend",
         tcp4("10.0.0.3", 80, "S", sport=2222), "sticky", syn=True, src_only=True,
         key=k4("10.0.0.3", 80, sport=2222))
assert b1 == b2
fwd("srchash_c", "another client on the source-hash VIP", tcp4("10.0.0.3", 80, "S", src=C4B),
    "sticky", syn=True, src_only=True, key=k4("10.0.0.3", 80, src=C4B))
fwd("stateless_1", "no-conntrack VIP: every packet consults the ring",
    tcp4("10.0.0.9", 80, "A"), "stateless", key=k4("10.0.0.9", 80))
fwd("stateless_2", "no-conntrack VIP: the same flow again is again a ring pick",
    tcp4("10.0.0.9", 80, "A"), "stateless", key=k4("10.0.0.9", 80))

# --- not for a VIP: passed untouched
P = "pass"
case("nonvip_tcp", "TCP to an address that is no VIP", tcp4("10.9.9.9", 80), P, reasons=["not_vip"])
case("nonvip_port", "TCP to a VIP address on another port", tcp4(WEB, 81), P, reasons=["not_vip"])
case("nonvip_proto", "UDP to a TCP-only VIP address and port", udp4(WEB, 80), P, reasons=["not_vip"])
case("nonvip_port0_udp", "UDP to a port-0 TCP VIP address", udp4("10.0.0.2", 53), P, reasons=["not_vip"])
case("nonvip_tcp6", "IPv6 TCP to a non-VIP address", tcp6("2001:db8::99", 443), P, reasons=["not_vip"])
case("nonvip_icmp", "ICMP echo to a non-VIP address", eth() / IP(src=C4, dst="10.9.9.9") / ICMP(),
     P, reasons=["not_vip"])
case("arp_request", "ARP request", Ether(dst="ff:ff:ff:ff:ff:ff", src=CLIENT_MAC) /
     ARP(op=1, psrc=C4, pdst="10.0.0.1"), P, reasons=["not_ip"])
case("arp_reply", "ARP reply", Ether(dst=LB_MAC, src=CLIENT_MAC) /
     ARP(op=2, psrc=C4, pdst="192.0.2.1", hwsrc=CLIENT_MAC, hwdst=LB_MAC), P, reasons=["not_ip"])
case("nd_solicit", "IPv6 neighbour solicitation", Ether(dst="33:33:ff:00:00:01", src=CLIENT_MAC) /
     IPv6(src=C6, dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt="2001:db8:c::1"),
     P, reasons=["not_vip"])
case("lldp", "other ethertype (LLDP)", Ether(dst="01:80:c2:00:00:0e", src=CLIENT_MAC, type=0x88CC) /
     Raw(b"\x02\x07\x04" + b"\x00" * 40), P, reasons=["not_ip"])
case("qinq_double", "two stacked VLAN tags: only one is parsed, passed", Ether(dst=LB_MAC, src=CLIENT_MAC) /
     Dot1AD(vlan=1) / Dot1Q(vlan=2) / IP(src=C4, dst=WEB) / TCP(dport=80), P, reasons=["not_ip"])

# --- VIP address, but not a packet xlb can balance: dropped and counted
D = "drop"
case("vip_icmp", "ICMP echo to a VIP address: dropped (vip_proto)",
     eth() / IP(src=C4, dst=WEB) / ICMP(), D, reasons=["vip_proto"])
case("frag_first", "first IPv4 fragment (MF) to a VIP: dropped",
     eth() / IP(src=C4, dst=WEB, flags="MF", id=7) / TCP(dport=80) / Raw(b"a" * 32), D,
     reasons=["fragment"])
case("frag_later", "non-first IPv4 fragment to a VIP: dropped",
     eth() / IP(src=C4, dst=WEB, frag=4, id=7, proto=6) / Raw(b"a" * 32), D, reasons=["fragment"])
case("frag_nonvip", "IPv4 fragment to a non-VIP address: passed",
     eth() / IP(src=C4, dst="10.9.9.9", flags="MF") / TCP(dport=80), P, reasons=["not_vip"])
case("frag6_vip", "IPv6 fragment header to a VIP: dropped",
     eth() / IPv6(src=C6, dst=W6) / IPv6ExtHdrFragment(m=1, id=5) / TCP(dport=443), D,
     reasons=["fragment"])
case("ipopt_vip", "IPv4 options (IHL 6) to a VIP: dropped",
     eth() / IP(src=C4, dst=WEB, options=b"\x01\x01\x01\x00") / TCP(dport=80), D,
     reasons=["ip_options"])
case("ipopt_nonvip", "IPv4 options to a non-VIP address: passed",
     eth() / IP(src=C4, dst="10.9.9.9", options=b"\x01\x01\x01\x00") / TCP(dport=80), P,
     reasons=["not_vip"])
case("ext6_hbh_vip", "IPv6 hop-by-hop header to a VIP: dropped",
     eth() / IPv6(src=C6, dst=W6) / IPv6ExtHdrHopByHop() / TCP(dport=443), D, reasons=["ipv6_ext"])
case("ext6_dst_vip", "IPv6 destination options to a VIP: dropped",
     eth() / IPv6(src=C6, dst=W6) / IPv6ExtHdrDestOpt() / TCP(dport=443), D, reasons=["ipv6_ext"])
case("ext6_rt_vip", "IPv6 routing header to a VIP: dropped",
     eth() / IPv6(src=C6, dst=W6) / IPv6ExtHdrRouting() / TCP(dport=443), D, reasons=["ipv6_ext"])
case("ext6_unknown_vip", "IPv6 experimental next header 253 to a VIP: dropped",
     eth() / IPv6(src=C6, dst=W6, nh=253) / Raw(b"\x06\x00" + b"\x00" * 30), D, reasons=["ipv6_ext"])
case("ext6_nonvip", "IPv6 hop-by-hop header to a non-VIP address: passed",
     eth() / IPv6(src=C6, dst="2001:db8::99") / IPv6ExtHdrHopByHop() / TCP(dport=443), P,
     reasons=["not_vip"])
case("tcp_doff4", "TCP data offset 4 to a VIP: dropped",
     eth() / IP(src=C4, dst=WEB) / TCP(dport=80, dataofs=4), D, reasons=["bad_tcp_doff"])

# --- malformed headers and truncation at every boundary
base = bytes(tcp4(WEB, 80, "S", sport=48000))
case("trunc_eth_vlan", "802.1Q ethertype with the tag cut off (16 bytes)",
     bytes(eth(vlan=5))[:16], P, reasons=["trunc_l2"])
case("trunc_ip4_0", "IPv4 ethertype, no IP header at all (14 bytes)", base[:14], P,
     reasons=["trunc_l3"])
case("trunc_ip4_19", "IPv4 header cut at 19 bytes", base[:14 + 19], P, reasons=["trunc_l3"])
b6 = bytes(tcp6(W6, 443, "S", sport=48001))
case("trunc_ip6_39", "IPv6 header cut at 39 bytes", b6[:14 + 39], P, reasons=["trunc_l3"])


def set_ip4(frame, off, val, size=1, fix_csum=True):
    b = bytearray(frame)
    b[14 + off:14 + off + size] = val.to_bytes(size, "big")
    if fix_csum:
        b[24:26] = b"\x00\x00"
        s = sum(int.from_bytes(b[14 + i:16 + i], "big") for i in range(0, (b[14] & 15) * 4, 2))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        b[24:26] = (~s & 0xFFFF).to_bytes(2, "big")
    return bytes(b)


case("ihl4", "IPv4 IHL 4 (< 5): passed for the kernel to reject", set_ip4(base, 0, 0x44), P,
     reasons=["bad_ihl"])
case("ihl0", "IPv4 IHL 0", set_ip4(base, 0, 0x40, fix_csum=False), P, reasons=["bad_ihl"])
case("ipver6_in_v4", "version 6 in an IPv4 ethertype frame", set_ip4(base, 0, 0x65, fix_csum=False),
     P, reasons=["bad_ihl"])
case("totlen_short", "IPv4 total length 10 (< header)", set_ip4(base, 2, 10, 2), P,
     reasons=["bad_len"])
case("totlen_long", "IPv4 total length beyond the frame", set_ip4(base, 2, 1500, 2), P,
     reasons=["bad_len"])
b6l = bytearray(b6)
b6l[18:20] = (1000).to_bytes(2, "big")
case("plen6_long", "IPv6 payload length beyond the frame", bytes(b6l), P, reasons=["bad_len"])
case("trunc_tcp_0", "IPv4 header complete, TCP header absent, to a VIP: dropped",
     set_ip4(base[:14 + 20], 2, 20, 2), D, reasons=["trunc_l4"])
case("trunc_tcp_19", "TCP header cut at 19 bytes, to a VIP: dropped",
     set_ip4(base[:14 + 20 + 19], 2, 39, 2), D, reasons=["trunc_l4"])
case("trunc_tcp_iplen", "frame holds a TCP header but the IP length ends before it: dropped",
     set_ip4(base, 2, 30, 2), D, reasons=["trunc_l4"])
bu = bytes(udp4(WEB, 53))
case("trunc_udp_4", "UDP header cut at 4 bytes, to a VIP: dropped",
     set_ip4(bu[:14 + 20 + 4], 2, 24, 2), D, reasons=["trunc_l4"])
b6t = bytearray(b6[:14 + 40 + 10])
b6t[18:20] = (10).to_bytes(2, "big")
case("trunc_tcp6", "IPv6 TCP header cut at 10 bytes, to a VIP: dropped", bytes(b6t), D,
     reasons=["trunc_l4"])
case("trunc_tcp_nonvip", "TCP header cut short, to a non-VIP address: passed",
     set_ip4(bytes(tcp4("10.9.9.9", 80))[:14 + 20 + 8], 2, 28, 2), P, reasons=["not_vip"])

# --- ring and backend states
case("no_ring", "VIP without a published ring: dropped", tcp4("10.0.0.4", 80), D,
     reasons=["no_ring"], vip=(6, False))
case("ring_empty_slot", "ring slot holding backend 0: dropped, never sent to address 0",
     tcp4("10.0.0.5", 80), D, reasons=["ring_empty_slot"], vip=(7, False))
case("backend_unusable", "ring names an unusable backend: dropped", tcp4("10.0.0.7", 80), D,
     reasons=["backend_unusable"], vip=(10, False))
case("backend_unset", "ring names a backend id that was never written: dropped",
     tcp4("10.0.0.8", 80), D, reasons=["bad_backend"], vip=(11, False))

# --- dead-backend policy (XLB_VIP_F_DEAD_DROP): established packets of a
# flow recorded on an unusable backend
DD, DP = "10.0.0.10", "10.0.0.11"
case("dead_drop_est", "flag set: established packet to an unusable backend is dropped",
     tcp4(DD, 80, "A"), D, reasons=["backend_unusable"], vip=(14, False))
case("dead_drop_est_again", "flag set: the entry is kept, so the next packet drops too",
     tcp4(DD, 80, "PA", payload=b"more"), D, reasons=["backend_unusable"], vip=(14, False))
fwd("dead_drop_usable", "flag set: a flow on a usable backend keeps it (not the ring's)",
    tcp4(DD, 80, "A", sport=40001), "deaddrop", key=k4(DD, 80, sport=40001))
fwd("dead_drop_syn", "flag set: a SYN never uses conntrack: ring pick, recorded anew",
    tcp4(DD, 80, "S"), "deaddrop", syn=True, key=k4(DD, 80))
fwd("dead_drop_after_syn", "flag set: after the SYN the flow is on the ring's backend",
    tcp4(DD, 80, "A"), "deaddrop", key=k4(DD, 80))
fwd("dead_rechoose_est", "flag clear: established packet to an unusable backend is re-chosen",
    tcp4(DP, 80, "A"), "deadpick", key=k4(DP, 80), rechoose=True)
fwd("dead_rechoose_again", "flag clear: the re-choice was recorded: conntrack hit",
    tcp4(DP, 80, "A"), "deadpick", key=k4(DP, 80))

setup = {
    "seed": SEED,
    "config": {"src4": SRC4_PREFIX, "src4_mask": SRC4_MASK, "src6": SRC6_PREFIX,
               "nh_dmac": NH_DMAC, "nh_smac": NH_SMAC},
    "backends": [{"id": i, "addr": b["addr"], "unusable": b.get("unusable", False)}
                 for i, b in BACKENDS.items()],
    "vips": [{"name": n, "vip": v[0], "id": v[1], "flags": v[2], "ring_size": v[3],
              "fill": v[4]} for n, v in VIPS.items()],
    "conntrack": [{"src": k[0], "dst": k[1], "sport": k[2], "dport": k[3], "proto": k[4],
                   "backend": be, "vip": VIPS[v][1]} for k, be, v in CONNTRACK],
    "cases": cases,
}
json.dump(setup, sys.stdout, indent=1)
print(f"{len(cases)} cases", file=sys.stderr)
