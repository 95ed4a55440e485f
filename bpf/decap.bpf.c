// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlb-decap: the backend side.  Attached to a backend's NIC (XDP), it
 * removes xlb's outer IPv4/IPv6 header from IPIP, IP6IP6, 4-in-6 and 6-in-4
 * packets addressed to one of this host's configured tunnel addresses, so
 * the inner packet reaches the VIP bound to `lo` and the backend answers
 * the client directly.  Everything else passes untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xlb/xlb.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_decap_key);
	__type(value, __u32);
	__uint(max_entries, XLB_DECAP_MAX_ADDRS);
} XLB_MAP_DECAP_ADDRS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLB_DC_MAX);
} XLB_MAP_DECAP_STATS SEC(".maps");

struct vlan_hdr_ {
	__be16 tci;
	__be16 encap_proto;
};

static __always_inline int dcount(int act, __u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&XLB_MAP_DECAP_STATS, &idx);

	if (c)
		(*c)++;
	return act;
}

/*
 * Remove the @olen-byte outer header that follows an @l2-byte L2 header:
 * set the L2 ethertype to the inner family, move the L2 header forward
 * over the outer header (olen >= 20 > l2, so the two do not overlap), and
 * drop the bytes in front of it.  @l2 and @olen are constants at every
 * call.  Returns the XDP action.  Invalidates every packet pointer.
 */
static __always_inline int strip(struct xdp_md *ctx, __u16 *ptype, __u8 inner,
				 const __u32 l2, const __u32 olen, __u32 idx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + olen + l2 > end)
		return dcount(XDP_PASS, XLB_DC_MALFORMED);
	*ptype = inner == IPPROTO_IPIP ? bpf_htons(ETH_P_IP) :
					 bpf_htons(ETH_P_IPV6);
	__builtin_memcpy(data + olen, data, l2);
	if (bpf_xdp_adjust_head(ctx, (int)olen))
		return dcount(XDP_DROP, XLB_DC_MALFORMED);
	return dcount(XDP_PASS, idx);
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct xlb_decap_key k = {};
	__u32 l2 = sizeof(*eth), olen, idx;
	__u16 proto, *ptype;
	__u8 inner, *in;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	proto = eth->h_proto;
	ptype = data + 2 * ETH_ALEN;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr_ *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > end)
			return XDP_PASS;
		proto = vh->encap_proto;
		ptype = &vh->encap_proto;
		l2 += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = data + l2;

		if ((void *)(iph + 1) > end)
			return XDP_PASS;
		if (iph->protocol != IPPROTO_IPIP && iph->protocol != IPPROTO_IPV6)
			return XDP_PASS;
		if (iph->ihl != 5 ||
		    (iph->frag_off & bpf_htons(0x3fff)))	/* MF or offset */
			return dcount(XDP_PASS, XLB_DC_MALFORMED);
		k.family = XLB_AF_INET;
		k.addr[0] = iph->daddr;
		inner = iph->protocol;
		olen = sizeof(*iph);
		idx = XLB_DC_DECAP4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = data + l2;

		if ((void *)(ip6h + 1) > end)
			return XDP_PASS;
		if (ip6h->nexthdr != IPPROTO_IPIP && ip6h->nexthdr != IPPROTO_IPV6)
			return XDP_PASS;
		k.family = XLB_AF_INET6;
		__builtin_memcpy(k.addr, &ip6h->daddr, 16);
		inner = ip6h->nexthdr;
		olen = sizeof(*ip6h);
		idx = XLB_DC_DECAP6;
	} else {
		return XDP_PASS;
	}

	if (!bpf_map_lookup_elem(&XLB_MAP_DECAP_ADDRS, &k))
		return dcount(XDP_PASS, XLB_DC_NOT_OURS);

	/* The inner header must be what the outer one announces. */
	in = data + l2 + olen;
	if ((void *)(in + 1) > end ||
	    (*in >> 4) != (inner == IPPROTO_IPIP ? 4 : 6))
		return dcount(XDP_PASS, XLB_DC_MALFORMED);

	if (l2 == sizeof(*eth))
		return olen == sizeof(struct iphdr) ?
			strip(ctx, ptype, inner, sizeof(*eth), sizeof(struct iphdr), idx) :
			strip(ctx, ptype, inner, sizeof(*eth), sizeof(struct ipv6hdr), idx);
	return olen == sizeof(struct iphdr) ?
		strip(ctx, ptype, inner, sizeof(*eth) + 4, sizeof(struct iphdr), idx) :
		strip(ctx, ptype, inner, sizeof(*eth) + 4, sizeof(struct ipv6hdr), idx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
