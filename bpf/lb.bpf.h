/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* VIP lookup, connection table (and each CPU's flow cache in front of it),
 * backend entries, and Maglev ring lookup. */
#ifndef XLB_LB_BPF_H
#define XLB_LB_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"
#include <xlb/hash.h>

/* Returns 1 when the VIP filter cannot rule out @p's destination. */
static __always_inline int vfilter_maybe(const struct pkt *p)
{
	int nw = p->key.family == XLB_AF_INET ? 1 : 4;
	__u32 bit = xlb_vfilter_bit(p->key.dst, nw);
	__u32 e = bit / (32 * XLB_HOT_WORDS);
	union xlb_hot *h = bpf_map_lookup_elem(&XLB_MAP_HOT, &e);

	return h && (h->vfilter[(bit >> 5) % XLB_HOT_WORDS] & (1U << (bit & 31)));
}

/* Returns 1 when some VIP exists on @p's destination address. */
static __always_inline int is_vip_addr(const struct pkt *p)
{
	struct xlb_vip_key k = {};

	__builtin_memcpy(k.addr, p->key.dst, sizeof(k.addr));
	k.family = p->key.family;
	k.proto = XLB_PROTO_ADDR_MARKER;
	return bpf_map_lookup_elem(&XLB_MAP_VIPS, &k) != NULL;
}

/* Returns 1 when two VIP keys are equal. */
static __always_inline int vip_key_eq(const struct xlb_vip_key *a,
				      const struct xlb_vip_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4];
}

/* The VIP table's entry for @k (@cfg: its vip_mask and hot_viptab), or
 * NULL. */
static __always_inline struct xlb_vip *viptab_find(const struct xlb_vip_key *k,
						   int nw, const struct xlb_config *cfg)
{
	__u32 h = xlb_vip_slot_hash(k->addr, nw, k->port, k->proto), i, idx, e;
	__u32 mask = cfg->vip_mask, base = cfg->hot_viptab;
	struct xlb_vip_slot *s;
	union xlb_hot *hot;

#pragma clang loop unroll(disable)
	for (i = 0; i < XLB_VIPTAB_PROBES; i++) {
		idx = (h + i) & mask;
		e = base + idx / XLB_HOT_VIPS;
		hot = bpf_map_lookup_elem(&XLB_MAP_HOT, &e);
		if (!hot)
			return NULL;
		s = &hot->vips[idx % XLB_HOT_VIPS];
		if (!s->key.family)
			return NULL;	/* an empty slot ends the chain */
		if (vip_key_eq(&s->key, k))
			return &s->vip;
	}
	return NULL;
}

/* The VIP for (dst, dport, proto), falling back to the port-0 VIP.
 * Returns NULL when there is none.  Never a marker. */
static __always_inline struct xlb_vip *vip_lookup(const struct pkt *p,
						  const struct xlb_config *cfg)
{
	int nw = p->key.family == XLB_AF_INET ? 1 : 4;
	struct xlb_vip_key k = {};
	struct xlb_vip *v;

	__builtin_memcpy(k.addr, p->key.dst, sizeof(k.addr));
	k.family = p->key.family;
	k.proto = p->key.proto;
	k.port = p->key.dport;
	v = viptab_find(&k, nw, cfg);
	if (v)
		return v;
	k.port = 0;
	return viptab_find(&k, nw, cfg);
}

/*
 * This CPU's per-backend value for @id (counters, next hop, and a copy of
 * the backend entry), if the backend can take traffic.  The copy is taken
 * again from the backends map when it is older than cfg->be_gen,
 * so the backends map is read only after userspace changed a backend.
 * Returns NULL with *why set to the drop reason: bad_backend for an unset
 * entry, backend_unusable for one flagged XLB_BE_F_UNUSABLE.
 */
static __always_inline struct xlb_backend_pcpu *
backend_get(__u32 id, const struct xlb_config *cfg, int *why)
{
	__u32 k = bpf_get_smp_processor_id() * cfg->max_backends + id;
	__u32 gen = cfg->be_gen;
	struct xlb_backend_pcpu *bs;
	struct xlb_backend *be;

	if (id >= cfg->max_backends)
		goto bad;
	bs = bpf_map_lookup_elem(&XLB_MAP_BACKEND_STATS, &k);
	if (!bs)
		goto bad;
	if (bs->be.gen != gen || !gen) {
		be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &id);
		if (!be)
			goto bad;
		/* A new address needs a new next hop. */
		if (bs->be.family != be->family || bs->be.addr[0] != be->addr[0] ||
		    bs->be.addr[1] != be->addr[1] || bs->be.addr[2] != be->addr[2] ||
		    bs->be.addr[3] != be->addr[3])
			bs->nh.expires = 0;
		__builtin_memcpy(bs->be.addr, be->addr, sizeof(bs->be.addr));
		bs->be.family = be->family;
		bs->be.flags = be->flags;
		bs->be.gen = gen;
	}
	if (!bs->be.family)
		goto bad;
	if (bs->be.flags & XLB_BE_F_UNUSABLE) {
		*why = XLB_R_BACKEND_UNUSABLE;
		return NULL;
	}
	return bs;
bad:
	*why = XLB_R_BAD_BACKEND;
	return NULL;
}

/* Refresh a flow's last_seen (jiffies), at most once a second. */
static __always_inline void flow_touch(struct xlb_flow *f, __u64 now,
				       const struct xlb_config *cfg)
{
	if (now - f->last_seen > cfg->hz)
		f->last_seen = now;
}

/* Returns 1 when two flow keys are equal (pad included: zero in both). */
static __always_inline int flow_key_eq(const struct xlb_flow_key *a,
				       const struct xlb_flow_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4] && x[5] == y[5] && x[6] == y[6] && x[7] == y[7] &&
	       x[8] == y[8] && x[9] == y[9];
}

/* This CPU's flow cache slot for flow hash @hash (NULL only if the map is
 * sized wrong); see struct xlb_flow_slot. */
static __always_inline struct xlb_flow_slot *flow_slot(__u32 hash,
						       const struct xlb_config *cfg)
{
	__u32 k = bpf_get_smp_processor_id() * (cfg->flow_mask + 1) +
		  (hash & cfg->flow_mask);

	return bpf_map_lookup_elem(&XLB_MAP_FLOW_CACHE, &k);
}

/* Record in this CPU's flow cache what the connection table holds now. */
static __always_inline void flow_slot_fill(struct xlb_flow_slot *c, const struct pkt *p,
					   __u32 backend_id, __u32 vip_id, __u64 now)
{
	if (!c)
		return;
	__builtin_memcpy(&c->key, &p->key, sizeof(c->key));
	c->backend_id = backend_id;
	c->vip_id = vip_id;
	c->checked = now;
}

/*
 * Pick a backend id from the VIP's ring.  Returns the id (> 0), or 0 with
 * *why set to the drop reason.  The ring's size travels in its entry 0, so
 * a concurrently published ring is seen whole or not at all.
 */
static __always_inline __u32 ring_pick(const struct xlb_vip *vip, __u32 hash,
				       int *why)
{
	__u32 vid = vip->id, zero = 0, slot, elem, id;
	__u32 *hdr, *pair;
	void *ring;

	ring = bpf_map_lookup_elem(&XLB_MAP_RINGS, &vid);
	if (!ring)
		goto no_ring;
	hdr = bpf_map_lookup_elem(ring, &zero);
	if (!hdr || !hdr[0])
		goto no_ring;
	slot = hash % hdr[0];
	elem = XLB_RING_HDR + slot / 2;
	pair = bpf_map_lookup_elem(ring, &elem);
	if (!pair)
		goto no_ring;
	id = pair[slot & 1];
	if (!id) {
		*why = XLB_R_RING_EMPTY_SLOT;
		return 0;
	}
	return id;
no_ring:
	*why = XLB_R_NO_RING;
	return 0;
}

#endif /* XLB_LB_BPF_H */
