/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Encapsulation toward the backend and next-hop resolution. */
#ifndef XLB_FWD_BPF_H
#define XLB_FWD_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"
#include "csum.bpf.h"
#include "outer.bpf.h"
#include "stats.bpf.h"

#define AF_INET_	2
#define AF_INET6_	10

struct nexthop {
	__u32 ifindex;
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
};

/* The outer source address for a flow: the configured prefix with the low
 * bits taken from the flow hash (see struct xlb_config). */
static __always_inline void outer_src(const struct xlb_config *cfg, __u8 family,
				      __u32 hash, __u32 *src)
{
	if (family == XLB_AF_INET) {
		src[0] = (cfg->src4 & cfg->src4_mask) |
			 (bpf_htonl(hash) & ~cfg->src4_mask);
	} else {
		src[0] = cfg->src6[0];
		src[1] = cfg->src6[1];
		src[2] = cfg->src6[2];
		src[3] = bpf_htonl(hash);
	}
}

/*
 * Resolve the next hop toward @be for an outer packet of @tot_len bytes.
 * A next hop learnt from the FIB is kept in @cache (this CPU's, for this
 * backend) for a second; @now is the time in jiffies.  Returns -1 with *nh filled,
 * or the enum xlb_reason to act on: XLB_R_NO_NEIGH (hand the encapsulated
 * packet to the kernel, which resolves the neighbour), XLB_R_NO_ROUTE or
 * XLB_R_FRAG_NEEDED (drop).
 */
static __always_inline int nexthop_lookup(struct xdp_md *ctx,
					  const struct xlb_config *cfg,
					  const struct xlb_be_cache *be,
					  const __u32 *src, __u32 tot_len,
					  __u8 tos, __u64 now, struct nexthop *nh,
					  struct xlb_nh_cache *cache)
{
	struct bpf_fib_lookup fib = {}, probe;
	int rc;

	if (cfg->flags & XLB_CFG_F_SKIP_FIB)
		goto static_nh;
	if (cache->expires > now) {
		if (tot_len > cache->mtu)
			return XLB_R_FRAG_NEEDED;
		nh->ifindex = cache->ifindex;
		__builtin_memcpy(nh->dmac, cache->dmac, ETH_ALEN);
		__builtin_memcpy(nh->smac, cache->smac, ETH_ALEN);
		return -1;
	}
	fib.ifindex = ctx->ingress_ifindex;
	if (be->family == XLB_AF_INET) {
		fib.family = AF_INET_;
		fib.tos = tos;
		fib.l4_protocol = IPPROTO_IPIP;
		fib.ipv4_src = src[0];
		fib.ipv4_dst = be->addr[0];
	} else {
		fib.family = AF_INET6_;
		fib.flowinfo = 0;
		fib.l4_protocol = IPPROTO_IPV6;
		__builtin_memcpy(fib.ipv6_src, src, 16);
		__builtin_memcpy(fib.ipv6_dst, be->addr, 16);
	}
	/* Learn the route's MTU for the cache: a lookup with the largest
	 * length reports it as FRAG_NEEDED (a lookup rewrites its params, so
	 * it runs on a copy). */
	__builtin_memcpy(&probe, &fib, sizeof(fib));
	probe.tot_len = 0xffff;
	bpf_fib_lookup(ctx, &probe, sizeof(probe), 0);
	fib.tot_len = tot_len;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		nh->ifindex = fib.ifindex;
		__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
		__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
		cache->ifindex = fib.ifindex;
		cache->mtu = probe.mtu_result;
		__builtin_memcpy(cache->dmac, fib.dmac, ETH_ALEN);
		__builtin_memcpy(cache->smac, fib.smac, ETH_ALEN);
		cache->expires = now + cfg->hz;
		return -1;
	}
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return XLB_R_FRAG_NEEDED;
	if (!(cfg->flags & XLB_CFG_F_STATIC_NH))
		return rc == BPF_FIB_LKUP_RET_NO_NEIGH ? XLB_R_NO_NEIGH :
							 XLB_R_NO_ROUTE;
	count_event(XLB_R_FIB_STATIC);
static_nh:
	if (!(cfg->flags & XLB_CFG_F_STATIC_NH))
		return XLB_R_NO_ROUTE;
	nh->ifindex = cfg->nh_ifindex;
	__builtin_memcpy(nh->dmac, cfg->nh_dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, cfg->nh_smac, ETH_ALEN);
	return -1;
}

/*
 * Put Ethernet (@dmac, @smac) and the outer IP header toward @be in front of
 * the packet's IP header, replacing its L2 header (a VLAN tag is not
 * carried over).  The inner packet is untouched.  Returns 0, or -1 when the
 * head cannot grow.  Invalidates every packet pointer.
 */
static __always_inline int encap(struct xdp_md *ctx, const struct pkt *p,
				 const struct xlb_be_cache *be, const __u32 *src,
				 __u32 hash, const __u8 *dmac, const __u8 *smac)
{
	__u32 olen = be->family == XLB_AF_INET ? sizeof(struct iphdr) :
						  sizeof(struct ipv6hdr);
	struct outer_in in = {
		.proto = p->key.family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6,
		.tos = p->tos,
		.df = p->df,
		.len = (__u16)p->l3_len,
	};
	struct ethhdr *eth;

	if (bpf_xdp_adjust_head(ctx, (int)p->l3_off - (int)(sizeof(*eth) + olen)))
		return -1;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	return outer_write(eth, (void *)(long)ctx->data_end, be->family, be->addr, src, &in, hash);
}

#endif /* XLB_FWD_BPF_H */
