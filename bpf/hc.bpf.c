// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Data-path health probes, on the LB host (tc clsact egress).
 *
 * A probe socket of xlbd addresses the VIP and carries SO_MARK
 * XLB_HC_MARK_BASE + backend id.  Locally generated packets never pass the
 * XDP program, so this program does for them what the XDP program does for
 * a client's packet: it puts an outer IPv4/IPv6 header toward that backend
 * in front of the (unchanged) inner packet, with the same outer source
 * prefix, TTL and flow label rules (bpf/fwd.bpf.h), and sends it to the
 * backend's next hop.  The backend's decapsulator and its VIP on lo then
 * have to work for the probe to succeed.  The backend answers from the VIP
 * straight to this host's address, as it would answer a client.
 *
 * Unmarked packets leave untouched (TC_ACT_OK).  A marked packet is never
 * sent unencapsulated: it would reach the VIP through the normal data path
 * and probe some other backend.  So every failure is a counted drop.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xlb/xlb.h>
#include "outer.bpf.h"

#define AF_INET_	2
#define AF_INET6_	10
#define IP_DF_		0x4000

/* The data plane's own maps, adopted from its pins by userspace
 * (user/hcpath.c, bpf_map__reuse_fd): one source of truth for backends and
 * the outer source prefixes.  The sizes here are replaced by the pins'. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_backend);
	__uint(max_entries, XLB_DEF_MAX_BACKENDS);
} XLB_MAP_BACKENDS SEC(".maps");

/* Only its config entry (XLB_HOT_CONFIG) is read here. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, union xlb_hot);
	__uint(max_entries, XLB_HOT_GSTATS);
} XLB_MAP_HOT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLB_HCP_MAX);
} XLB_MAP_HC_STATS SEC(".maps");

/* Count @idx on this CPU and return @act. */
static __always_inline int hcount(int act, __u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&XLB_MAP_HC_STATS, &idx);

	if (c)
		(*c)++;
	return act;
}

/* What the outer header needs from the inner one. */
struct inner {
	__u32 len;		/* inner IP packet, header included */
	__u8 family;		/* XLB_AF_* */
	__u8 tos;		/* TOS / traffic class (DSCP and ECN) */
	__u8 df;		/* IPv4 DF set */
};

/*
 * Read the inner IP header that follows the Ethernet header.  Returns 0, or
 * -1 for a packet that is not Ethernet + IPv4/IPv6 with its IP header in
 * the linear area.  May pull data into the linear area, which invalidates
 * every packet pointer.
 */
static __always_inline int read_inner(struct __sk_buff *skb, struct inner *in)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if (data + sizeof(*eth) + sizeof(struct ipv6hdr) > end) {
		if (bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(struct ipv6hdr)) &&
		    bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(struct iphdr)))
			return -1;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		eth = data;
	}
	if ((void *)(eth + 1) > end || eth->h_proto != skb->protocol ||
	    skb->len <= sizeof(*eth))
		return -1;
	in->len = skb->len - sizeof(*eth);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > end || iph->version != 4)
			return -1;
		in->family = XLB_AF_INET;
		in->tos = iph->tos;
		in->df = !!(iph->frag_off & bpf_htons(IP_DF_));
		return 0;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > end || ip6h->version != 6)
			return -1;
		in->family = XLB_AF_INET6;
		in->tos = (__u8)(bpf_ntohl(*(__u32 *)ip6h) >> 20);
		in->df = 0;
		return 0;
	}
	return -1;
}

/*
 * Write Ethernet's type and the outer header toward @be into the room
 * bpf_skb_adjust_room() made after the Ethernet header; the MACs stay (the
 * neighbour code rewrites them on redirect).  Returns 0 or -1.  Works on
 * fresh packet pointers and leaves them valid.
 */
static __always_inline int write_outer(struct __sk_buff *skb, const struct xlb_backend *be,
				       const struct inner *in, const __u32 *src, __u32 hash)
{
	struct outer_in o = {
		.proto = in->family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6,
		.tos = in->tos,
		.df = in->df,
		.len = (__u16)in->len,
	};
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return -1;
	return outer_write(eth, (void *)(long)skb->data_end, be->family, be->addr, src, &o, hash);
}

/*
 * Route the outer packet: first as this host's own output through the
 * device the probe was leaving by (the common case: one uplink), then as a
 * forwarded packet from it (a backend behind another device; that needs
 * forwarding on, as the data plane does).  Either way only the egress
 * device and the next hop are used: bpf_redirect_neigh() resolves the MAC.
 * Returns 0 with @fib filled, or -1.
 */
static __always_inline int route(struct __sk_buff *skb, const struct xlb_backend *be,
				 const __u32 *src, const struct inner *in,
				 struct bpf_fib_lookup *fib)
{
	__u32 olen = be->family == XLB_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	struct bpf_fib_lookup q = {};
	int rc;

	q.ifindex = skb->ifindex;
	q.tot_len = in->len + olen;
	if (be->family == XLB_AF_INET) {
		q.family = AF_INET_;
		q.tos = in->tos;
		q.l4_protocol = in->family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
		q.ipv4_src = src[0];
		q.ipv4_dst = be->addr[0];
	} else {
		q.family = AF_INET6_;
		q.l4_protocol = in->family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
		__builtin_memcpy(q.ipv6_src, src, 16);
		__builtin_memcpy(q.ipv6_dst, be->addr, 16);
	}
	__builtin_memcpy(fib, &q, sizeof(q));
	rc = bpf_fib_lookup(skb, fib, sizeof(*fib), BPF_FIB_LOOKUP_OUTPUT);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return 0;
	__builtin_memcpy(fib, &q, sizeof(q));
	rc = bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return 0;
	return -1;
}

SEC("tc")
int xlb_hc_egress(struct __sk_buff *skb)
{
	__u32 mark = skb->mark, id, key = XLB_HOT_CONFIG, src[4] = {}, hash;
	const struct xlb_backend *be;
	const struct xlb_config *cfg;
	union xlb_hot *hot;
	struct bpf_redir_neigh nh = {};
	struct bpf_fib_lookup fib;
	struct inner in = {};
	__u64 flags;
	__u32 olen;

	if ((mark & XLB_HC_MARK_MASK) != XLB_HC_MARK_BASE)
		return TC_ACT_OK;
	id = mark & XLB_HC_MARK_ID_MASK;
	be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &id);
	if (!id || !be || (be->family != XLB_AF_INET && be->family != XLB_AF_INET6))
		return hcount(TC_ACT_SHOT, XLB_HCP_NO_BACKEND);
	hot = bpf_map_lookup_elem(&XLB_MAP_HOT, &key);
	cfg = hot ? &hot->cfg : NULL;
	if (!cfg || read_inner(skb, &in))
		return hcount(TC_ACT_SHOT, XLB_HCP_ERROR);

	/* The outer source as the data plane picks it (outer_src() in
	 * fwd.bpf.h), from this flow's hash. */
	hash = bpf_get_hash_recalc(skb);
	if (be->family == XLB_AF_INET) {
		src[0] = (cfg->src4 & cfg->src4_mask) | (bpf_htonl(hash) & ~cfg->src4_mask);
		olen = sizeof(struct iphdr);
		flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;
	} else {
		src[0] = cfg->src6[0];
		src[1] = cfg->src6[1];
		src[2] = cfg->src6[2];
		src[3] = bpf_htonl(hash);
		olen = sizeof(struct ipv6hdr);
		flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV6;
	}
	if (route(skb, be, src, &in, &fib))
		return hcount(TC_ACT_SHOT, XLB_HCP_FIB_FAIL);

	/* Room for the outer header between Ethernet and the inner IP
	 * header; the kernel marks the skb encapsulated (inner headers, GSO
	 * type) so that offloads still finish the inner checksum. */
	if (bpf_skb_adjust_room(skb, olen, BPF_ADJ_ROOM_MAC, flags))
		return hcount(TC_ACT_SHOT, XLB_HCP_ERROR);
	if (write_outer(skb, be, &in, src, hash))
		return hcount(TC_ACT_SHOT, XLB_HCP_ERROR);
	/* bpf_redirect_neigh() picks the family from skb->protocol; kernels
	 * that do not switch it on a 4-in-6 or 6-in-4 adjust_room would send
	 * a broken frame, so refuse rather than guess. */
	if (skb->protocol != bpf_htons(be->family == XLB_AF_INET ? ETH_P_IP : ETH_P_IPV6))
		return hcount(TC_ACT_SHOT, XLB_HCP_ERROR);

	/* Once encapsulated it is an ordinary packet: the mark must not make
	 * the egress device's own copy of this program wrap it again. */
	skb->mark = 0;
	if (fib.family == AF_INET_) {
		nh.nh_family = AF_INET_;
		nh.ipv4_nh = fib.ipv4_dst;
	} else {
		nh.nh_family = AF_INET6_;
		__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
	}
	hcount(0, XLB_HCP_ENCAP);
	return (int)bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
