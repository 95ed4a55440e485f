// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlb: the XDP load balancer.  This file only dispatches; each concern
 * lives in its own header.  See docs/design.md for the packet path.
 */
#include "maps.bpf.h"
#include "parse.bpf.h"
#include "lb.bpf.h"
#include "fwd.bpf.h"
#include "stats.bpf.h"

static __always_inline int is_syn(const struct pkt *p)
{
	return p->key.proto == IPPROTO_TCP &&
	       (p->tcp_flags & (0x02 | 0x10)) == 0x02;	/* SYN, not ACK */
}

/*
 * Choose the backend for a VIP packet: the recorded one if still usable,
 * else the ring's, and record the choice.  The recorded one comes from
 * this CPU's flow cache while the cache read the connection table less than
 * a second ago, else from the connection table.  Returns this CPU's value
 * of the chosen backend (struct xlb_backend_pcpu), or NULL with *why set.
 */
static __always_inline struct xlb_backend_pcpu *
choose(const struct pkt *p, const struct xlb_vip *vip, __u32 hash,
       const struct xlb_config *cfg, __u64 now, int *new_flow, int *why)
{
	int track = !(vip->flags & XLB_VIP_F_NO_CONNTRACK), syn = is_syn(p);
	struct xlb_flow_slot *c = NULL;
	struct xlb_backend_pcpu *bs;
	struct xlb_flow *f = NULL;
	__u32 id, rec = 0;	/* rec: the recorded backend, 0 = none known */
	int fresh = 0;

	if (track) {
		c = flow_slot(hash, cfg);
		fresh = c && now - c->checked <= cfg->hz && c->vip_id == vip->id &&
			flow_key_eq(&c->key, &p->key);
		if (fresh) {
			rec = c->backend_id;
		} else {
			f = bpf_map_lookup_elem(&XLB_MAP_CONNTRACK, &p->key);
			if (f && f->vip_id == vip->id) {
				rec = f->backend_id;
				flow_touch(f, now, cfg);
				flow_slot_fill(c, p, rec, vip->id, now);
			}
		}
	}
	if (rec && !syn) {
		bs = backend_get(rec, cfg, why);
		if (bs)
			return bs;
		if (*why == XLB_R_BACKEND_UNUSABLE && (vip->flags & XLB_VIP_F_DEAD_DROP))
			return NULL;	/* dead-backend policy: drop */
	}
	if (vip->flags & XLB_VIP_F_HASH_SRC_ONLY)
		hash = xlb_src_hash(p->key.src,
				    p->key.family == XLB_AF_INET ? 1 : 4, cfg->seed);
	id = ring_pick(vip, hash, why);
	if (!id)
		return NULL;
	bs = backend_get(id, cfg, why);
	if (!bs)
		return NULL;
	*new_flow = 1;
	if (!track)
		return bs;
	/* A SYN whose flow is already recorded with this very choice (a
	 * retransmitted SYN, or a new connection on the same 5-tuple that the
	 * ring sends to the same backend) finds the entry as it would write
	 * it: keep it rather than rewrite it. */
	if (rec != id) {
		struct xlb_flow nf = {
			.backend_id = id,
			.vip_id = vip->id,
			.last_seen = now,
		};

		if (bpf_map_update_elem(&XLB_MAP_CONNTRACK, &p->key, &nf, BPF_ANY))
			count_event(XLB_R_CT_UPDATE_FAIL);
		else
			flow_slot_fill(c, p, id, vip->id, now);
	}
	return bs;
}

static __always_inline int lb_forward(struct xdp_md *ctx, struct pkt *p,
				      const struct xlb_vip *vip,
				      const struct xlb_config *cfg)
{
	int nw = p->key.family == XLB_AF_INET ? 1 : 4;
	struct xlb_backend_pcpu *bs;
	struct nexthop nh = {};
	__u8 omac[2 * ETH_ALEN];
	__u32 hash, src[4] = {}, olen;
	int new_flow = 0, why = XLB_R_NO_RING, r, act;
	__u64 now;
	void *data;

	/* Jiffies: about free, where bpf_ktime_get_coarse_ns() is a helper
	 * call (docs/performance.md). */
	now = bpf_jiffies64();
	hash = xlb_flow_hash(p->key.src, p->key.dst, nw, p->key.sport,
			     p->key.dport, p->key.proto, cfg->seed);
	bs = choose(p, vip, hash, cfg, now, &new_flow, &why);
	count_vip(vip->id, cfg->max_vips, p->frame_len, new_flow);
	if (!bs)
		return count(XDP_DROP, why);

	outer_src(cfg, bs->be.family, hash, src);
	olen = bs->be.family == XLB_AF_INET ? sizeof(struct iphdr) :
					       sizeof(struct ipv6hdr);
	r = nexthop_lookup(ctx, cfg, &bs->be, src, p->l3_len + olen, p->tos, now,
			   &nh, &bs->nh);
	if (r == XLB_R_NO_ROUTE || r == XLB_R_FRAG_NEEDED)
		return count(XDP_DROP, r);

	/* Keep the received MACs: a packet handed to the kernel must still
	 * be addressed to this host. */
	data = (void *)(long)ctx->data;
	if (data + sizeof(omac) > (void *)(long)ctx->data_end)
		return count(XDP_DROP, XLB_R_ADJUST_HEAD);
	__builtin_memcpy(omac, data, sizeof(omac));
	if (r == XLB_R_NO_NEIGH) {
		__builtin_memcpy(nh.dmac, omac, ETH_ALEN);
		__builtin_memcpy(nh.smac, omac + ETH_ALEN, ETH_ALEN);
	}
	if (encap(ctx, p, &bs->be, src, hash, nh.dmac, nh.smac))
		return count(XDP_DROP, XLB_R_ADJUST_HEAD);
	bs->c.packets++;
	bs->c.bytes += p->frame_len;
	bs->c.new_flows += new_flow;

	if (r == XLB_R_NO_NEIGH)
		return count(XDP_PASS, XLB_R_NO_NEIGH);
	if (nh.ifindex == ctx->ingress_ifindex)
		return count(XDP_TX, -1);
	act = bpf_redirect_map(&XLB_MAP_DEVMAP, nh.ifindex, XDP_PASS);
	if (act == XDP_REDIRECT)
		return count(XDP_REDIRECT, -1);
	/* Egress not in the devmap: let the kernel route the encapsulated
	 * packet, addressed to this host as it arrived. */
	data = (void *)(long)ctx->data;
	if (data + sizeof(omac) > (void *)(long)ctx->data_end)
		return count(XDP_DROP, XLB_R_ADJUST_HEAD);
	__builtin_memcpy(data, omac, sizeof(omac));
	return count(XDP_PASS, XLB_R_DEVMAP_MISS);
}

SEC("xdp")
int xlb_xdp(struct xdp_md *ctx)
{
	__u32 k = XLB_HOT_CONFIG;
	struct xlb_config *cfg;
	struct xlb_vip *vip;
	union xlb_hot *h;
	struct pkt p = {};
	int r;

	r = parse_pkt(ctx, &p);
	if (r >= 0)
		return count(XDP_PASS, r);
	if (!vfilter_maybe(&p))
		return count(XDP_PASS, XLB_R_NOT_VIP);
	parse_l4(ctx, &p);
	if (p.frag || p.ext || p.l4_trunc ||
	    (p.key.proto != IPPROTO_TCP && p.key.proto != IPPROTO_UDP)) {
		if (!is_vip_addr(&p))
			return count(XDP_PASS, XLB_R_NOT_VIP);
		if (p.frag)
			r = XLB_R_FRAGMENT;
		else if (p.ext)
			r = p.key.family == XLB_AF_INET ? XLB_R_IP_OPTIONS :
							  XLB_R_IPV6_EXT;
		else if (p.l4_trunc)
			r = XLB_R_TRUNC_L4;
		else
			r = XLB_R_VIP_PROTO;
		return count(XDP_DROP, r);
	}
	h = bpf_map_lookup_elem(&XLB_MAP_HOT, &k);
	if (!h)
		return count(XDP_PASS, XLB_R_NOT_VIP);
	cfg = &h->cfg;
	vip = vip_lookup(&p, cfg);
	if (!vip)
		return count(XDP_PASS, XLB_R_NOT_VIP);
	if (p.tcp_doff_bad)
		return count(XDP_DROP, XLB_R_BAD_TCP_DOFF);
	return lb_forward(ctx, &p, vip, cfg);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
