/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Parsing: Ethernet (one optional 802.1Q/802.1ad tag), IPv4/IPv6, TCP/UDP.
 * The parser never modifies the packet.
 */
#ifndef XLB_PARSE_BPF_H
#define XLB_PARSE_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <xlb/xlb.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

struct vlan_hdr_ {
	__be16 tci;
	__be16 encap_proto;
};

/* What the parser learned about a packet. */
struct pkt {
	struct xlb_flow_key key;	/* 5-tuple; ports zero until L4 parsed */
	__u32 l3_off;			/* offset of the IP header from data */
	__u32 l4_off;			/* offset of the L4 header from data */
	__u32 l3_len;			/* IP packet length, header included */
	__u32 frame_len;		/* bytes received */
	__u8 tos;			/* DSCP/ECN byte (IPv4 TOS, IPv6 TC) */
	__u8 tcp_flags;			/* byte 13 of the TCP header */
	__u8 df;			/* IPv4 DF bit set */
	__u8 l4_trunc;			/* L4 header does not fit */
	__u8 frag;			/* IP fragment */
	__u8 ext;			/* IPv4 options / IPv6 extension hdr */
	__u8 tcp_doff_bad;		/* TCP data offset < 5 */
	__u8 pad;
};

#define IP_MF_		0x2000
#define IP_OFFSET_	0x1fff
#define IP_DF_		0x4000

/*
 * Parse L2 and L3.  Fills *p but the L4 fields (parse_l4() does those, so
 * that a packet the VIP filter rules out never reads its L4 header).
 * Returns -1 when the packet is IPv4/IPv6 with a sound IP header
 * (p->key.family set), or an enum xlb_reason (a PASS reason) when it must
 * go to the kernel untouched.  Reads only; invalidates no pointers.
 */
static __always_inline int parse_pkt(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u16 proto;

	p->frame_len = (__u32)(end - data);
	if ((void *)(eth + 1) > end)
		return XLB_R_TRUNC_L2;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr_ *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > end)
			return XLB_R_TRUNC_L2;
		proto = vh->encap_proto;
		off += sizeof(*vh);
	}
	p->l3_off = off;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = data + off;
		__u32 ihl, tot;

		if ((void *)(iph + 1) > end)
			return XLB_R_TRUNC_L3;
		ihl = iph->ihl * 4;
		if (iph->version != 4 || ihl < sizeof(*iph))
			return XLB_R_BAD_IHL;
		tot = bpf_ntohs(iph->tot_len);
		if (tot < ihl || data + off + tot > end)
			return XLB_R_BAD_LEN;
		p->key.family = XLB_AF_INET;
		p->key.src[0] = iph->saddr;
		p->key.dst[0] = iph->daddr;
		p->key.proto = iph->protocol;
		p->l3_len = tot;
		p->tos = iph->tos;
		p->df = !!(iph->frag_off & bpf_htons(IP_DF_));
		p->frag = !!(iph->frag_off & bpf_htons(IP_MF_ | IP_OFFSET_));
		p->ext = ihl != sizeof(*iph);
		/* Options and fragments are dropped if for a VIP, so the L4
		 * header is only looked for in plain, whole datagrams. */
		p->l4_off = off + sizeof(*iph);
		return -1;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = data + off;
		__u32 tot;
		__u8 l4proto;

		if ((void *)(ip6h + 1) > end)
			return XLB_R_TRUNC_L3;
		if (ip6h->version != 6)
			return XLB_R_BAD_IHL;
		tot = bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h);
		if (data + off + tot > end)
			return XLB_R_BAD_LEN;
		p->key.family = XLB_AF_INET6;
		__builtin_memcpy(p->key.src, &ip6h->saddr, 16);
		__builtin_memcpy(p->key.dst, &ip6h->daddr, 16);
		p->key.proto = ip6h->nexthdr;
		p->l3_len = tot;
		p->tos = (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
		l4proto = ip6h->nexthdr;
		if (l4proto == IPPROTO_FRAGMENT)
			p->frag = 1;
		else if (l4proto == IPPROTO_HOPOPTS || l4proto == IPPROTO_ROUTING ||
		    l4proto == IPPROTO_DSTOPTS || l4proto == IPPROTO_AH ||
		    l4proto == IPPROTO_ESP || l4proto == IPPROTO_MH ||
		    l4proto == 139 /* HIP */ || l4proto == 140 /* shim6 */ ||
		    l4proto == 253 || l4proto == 254 /* experimental */)
			p->ext = 1;
		p->l4_off = off + sizeof(*ip6h);
		return -1;
	}
	return XLB_R_NOT_IP;
}

/*
 * Parse the TCP or UDP header of a packet parse_pkt() accepted, unless it
 * is a fragment or has IP options / IPv6 extension headers (dropped if for
 * a VIP, so the L4 header is only looked for in plain, whole datagrams).
 * Sets the ports, the TCP flags and data offset check, or p->l4_trunc.
 * Reads only; invalidates no pointers.
 */
static __always_inline void parse_l4(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = p->l4_off;
	__u8 l4proto = p->key.proto;

	if (p->frag || p->ext)
		return;
	/* The bound the verifier needs (never hit: the L4 header starts at
	 * most a VLAN tag and a 40-byte IPv6 header in). */
	if (off > sizeof(struct ethhdr) + sizeof(struct vlan_hdr_) + sizeof(struct ipv6hdr)) {
		p->l4_trunc = 1;
		return;
	}
	if (l4proto == IPPROTO_TCP) {
		struct tcphdr *th = data + off;

		if ((void *)(th + 1) > end ||
		    off + sizeof(*th) > p->l3_off + p->l3_len) {
			p->l4_trunc = 1;
			return;
		}
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		p->tcp_doff_bad = th->doff < 5;
	} else if (l4proto == IPPROTO_UDP) {
		struct udphdr *uh = data + off;

		if ((void *)(uh + 1) > end ||
		    off + sizeof(*uh) > p->l3_off + p->l3_len) {
			p->l4_trunc = 1;
			return;
		}
		p->key.sport = uh->source;
		p->key.dport = uh->dest;
	}
}

#endif /* XLB_PARSE_BPF_H */
