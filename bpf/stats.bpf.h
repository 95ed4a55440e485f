/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU counters: global (verdicts, reasons), per VIP, per backend. */
#ifndef XLB_STATS_BPF_H
#define XLB_STATS_BPF_H

#include "maps.bpf.h"

/* This CPU's global counters (NULL only if the map is sized wrong). */
static __always_inline struct xlb_global_stats *gstats(void)
{
	__u32 k = XLB_HOT_GSTATS + bpf_get_smp_processor_id();
	union xlb_hot *h = bpf_map_lookup_elem(&XLB_MAP_HOT, &k);

	return h ? &h->g : NULL;
}

/* Count one packet under @reason if @reason < XLB_R_MAX, else under @act.
 * Every pass or drop has a reason of its kind, so its verdict is the sum of
 * its reasons, which userspace adds (xlb_stats_global_fold()): one increment
 * per packet.  Returns @act so callers can `return count(...)`. */
static __always_inline int count(int act, int reason)
{
	struct xlb_global_stats *g = gstats();

	if (g) {
		if (reason >= 0 && reason < XLB_R_MAX)
			g->reason[reason]++;
		else
			g->verdict[act & (XLB_VERDICT_SLOTS - 1)]++;
	}
	return act;
}

/* Count an event that does not decide the verdict. */
static __always_inline void count_event(int reason)
{
	struct xlb_global_stats *g = gstats();

	if (g && reason >= 0 && reason < XLB_R_MAX)
		g->reason[reason]++;
}

/* Add a packet (and a new flow if @new_flow) to this CPU's counters of VIP
 * @id (@max: xlb_config.max_vips). */
static __always_inline void count_vip(__u32 id, __u32 max, __u32 bytes,
				      int new_flow)
{
	__u32 k = bpf_get_smp_processor_id() * max + id;
	struct xlb_counters *c;

	if (id >= max)
		return;
	c = bpf_map_lookup_elem(&XLB_MAP_VIP_STATS, &k);

	if (c) {
		c->packets++;
		c->bytes += bytes;
		c->new_flows += new_flow;
	}
}

#endif /* XLB_STATS_BPF_H */
