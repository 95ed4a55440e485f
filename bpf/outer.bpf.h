/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The outer header toward a backend, written the same way by the XDP data
 * plane (bpf/fwd.bpf.h) and by the data-path probe encapsulator
 * (bpf/hc.bpf.c): IPv4 with DF and DSCP/ECN copied from the inner packet,
 * TTL 64 and a checksum, or IPv6 with the traffic class copied and the flow
 * label from the flow hash.
 */
#ifndef XLB_OUTER_BPF_H
#define XLB_OUTER_BPF_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <xlb/xlb.h>
#include "csum.bpf.h"

#define OUTER_TTL	64
#define OUTER_IP_DF	0x4000

/* What the outer header carries of the inner packet. */
struct outer_in {
	__u8 proto;	/* IPPROTO_IPIP or IPPROTO_IPV6: the inner family */
	__u8 tos;	/* inner DSCP/ECN (traffic class) */
	__u8 df;	/* inner IPv4 DF: copied to an IPv4 outer header */
	__u16 len;	/* inner IP packet length, header included */
};

/*
 * Write the Ethernet type and the outer header after @eth (MACs left to the
 * caller), toward @family/@daddr from @src.  Returns 0, or -1 if the
 * header does not fit before @end.
 */
static __always_inline int outer_write(struct ethhdr *eth, void *end, __u8 family,
				       const __u32 *daddr, const __u32 *src,
				       const struct outer_in *in, __u32 hash)
{
	if (family == XLB_AF_INET) {
		struct iphdr *o = (void *)(eth + 1);

		if ((void *)(o + 1) > end)
			return -1;
		eth->h_proto = bpf_htons(ETH_P_IP);
		*(__u8 *)o = 0x45;
		o->tos = in->tos;
		o->tot_len = bpf_htons(in->len + sizeof(*o));
		o->id = 0;
		o->frag_off = in->df ? bpf_htons(OUTER_IP_DF) : 0;
		o->ttl = OUTER_TTL;
		o->protocol = in->proto;
		o->check = 0;
		o->saddr = src[0];
		o->daddr = daddr[0];
		o->check = ipv4_csum(o);
	} else {
		struct ipv6hdr *o = (void *)(eth + 1);

		if ((void *)(o + 1) > end)
			return -1;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		*(__u32 *)o = bpf_htonl(6U << 28 | (__u32)in->tos << 20 | (hash & 0xfffff));
		o->payload_len = bpf_htons(in->len);
		o->nexthdr = in->proto;
		o->hop_limit = OUTER_TTL;
		__builtin_memcpy(&o->saddr, src, 16);
		__builtin_memcpy(&o->daddr, daddr, 16);
	}
	return 0;
}

#endif /* XLB_OUTER_BPF_H */
