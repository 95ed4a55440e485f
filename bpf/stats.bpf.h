/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU counters: global (verdicts, reasons), per VIP, per backend. */
#ifndef XLB_STATS_BPF_H
#define XLB_STATS_BPF_H

#include "maps.bpf.h"

/* This CPU's global counters (NULL only if the map is sized wrong). */
static __always_inline struct xlb_global_stats *gstats(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&XLB_MAP_GLOBAL_STATS, &cpu);
}

/* Count one packet under @act and, if @reason < XLB_R_MAX, that reason.
 * Returns @act so callers can `return count(...)`. */
static __always_inline int count(int act, int reason)
{
	struct xlb_global_stats *g = gstats();

	if (g) {
		g->verdict[act & (XLB_VERDICT_SLOTS - 1)]++;
		if (reason >= 0 && reason < XLB_R_MAX)
			g->reason[reason]++;
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
