/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The balancer as the daemon holds it: the data plane (libxlb), plus the
 * VIPs and backends it programmed, their ids, and each VIP's Maglev rings.
 * xlb_lb_apply() makes the data plane match a whole configuration
 * (declarative); xlb_lb_open() adopts what an earlier instance left pinned,
 * without rewriting any ring.
 */
#ifndef XLB_LB_H
#define XLB_LB_H

#include <stdbool.h>
#include "config.h"
#include "vipring.h"
#include "xlb.h"

/* A backend's state as operators see it (xlbctl backend list, metrics). */
enum xlb_be_hstate {
	XLB_BS_UP,		/* in the live ring at its configured weight */
	XLB_BS_DOWN,		/* failed its health checks: out of the live ring */
	XLB_BS_DRAINING,	/* configured drain: no new flows, flows continue */
	XLB_BS_SLOW_START,	/* recovered or added: weight ramping up */
	XLB_BS_UNKNOWN,		/* checked, no result yet: kept as it was */
	XLB_BS__COUNT,
};

/* "up", "down", "draining", "slow-start", "unknown". */
const char *xlb_be_hstate_name(int s);

struct xlb_lb_backend {
	__u32 addr[4];		/* NBO */
	__u8 family;		/* XLB_AF_* */
	__u8 state;		/* enum xlb_cfg_be_state */
	__u16 weight;
	__u32 id;		/* data-plane backend id */
	bool down;		/* failed its health checks (health view) */
	/* Health and weights, kept by the daemon's health manager. */
	__u8 hstate;		/* enum xlb_be_hstate */
	__u16 eff_weight;	/* its weight in the live ring now */
	int hc_id;		/* health engine target; -1: not checked */
	__u64 since_ms;		/* CLOCK_MONOTONIC ms of the last state change */
	__u64 transitions;	/* state changes */
	__u8 lat_pct;		/* latency-adaptive share of the weight, 25..100 */
	bool flagged;		/* XLB_BE_F_UNUSABLE is set in the map */
	bool adopted;		/* found pinned at open: its health state is resumed */
};

struct xlb_lb_vip {
	struct xlb_vip_key key;
	__u32 id;		/* data-plane VIP id */
	__u32 flags;		/* XLB_VIP_F_* */
	__u8 encap;
	struct xlb_vip_ring ring;
	__u8 all_down;		/* enum xlb_cfg_alldown */
	__u32 slow_start_s;	/* 0: off */
	bool latency_adaptive;
	bool fail_open;		/* every backend is down and the VIP fails open */
	__u32 n_backends;
	struct xlb_lb_backend *backends;
};

struct xlb_lb {
	struct xlb *x;
	__u32 max_vips;
	__u32 max_backends;
	__u32 seed;
	__u32 n_vips;
	struct xlb_lb_vip **vips;
	__u8 *vip_used;		/* by VIP id */
	__u8 *be_used;		/* by backend id */
	__u32 be_cursor;	/* next backend id to try: ids are not reused soon */
	bool adopted;		/* open found an earlier instance's state */
};

/*
 * Load the data plane as @cfg sizes and seeds it, pinned under its
 * pin_root.  VIPs and backends already pinned there are adopted with
 * their ids, health flags, live rings and stored anchors, so the first
 * apply of the same configuration rewrites nothing.
 */
int xlb_lb_open(const struct xlb_cfg *cfg, struct xlb_lb **out);
void xlb_lb_close(struct xlb_lb *lb);

/*
 * Make the data plane match @cfg: config map, VIPs, backends and rings.
 * Rings that do not change are not published.  A backend is only deleted
 * after the ring that no longer names it is live.  *err gets a message on
 * failure.
 */
int xlb_lb_apply(struct xlb_lb *lb, const struct xlb_cfg *cfg, char *err, size_t errlen);

/*
 * The health view of one backend (health checks): a backend that is down
 * leaves the live ring (not the anchor) and is flagged unusable, so its
 * established flows are re-chosen; back up, the live ring returns to the
 * anchor.  -ENOENT for an unknown VIP or backend.
 */
int xlb_lb_set_health(struct xlb_lb *lb, const struct xlb_vip_key *k, const __u32 addr[4],
		      __u8 family, bool down);

/*
 * Rebuild @v's live ring from its backends' health view (down, hstate,
 * since_ms, lat_pct) at time @now_ms (CLOCK_MONOTONIC ms), publish it if
 * it changed, and set the unusable flags in the order that never strands a
 * packet: flags cleared before the ring names a backend again, set after
 * the ring stops naming it.  With every backend down, the VIP's all_down
 * policy decides: drop (an empty ring) or fail open (the ring as if all
 * were up, no flag set).
 */
int xlb_lb_vip_refresh(struct xlb_lb *lb, struct xlb_lb_vip *v, __u64 now_ms);

/*
 * Slow start: the effective weight of a backend of configured weight @w,
 * @elapsed_ms into a ramp of @slow_start_s seconds.  The ramp has a few
 * steps (10%, 25%, 50%, 75% of the weight, then all of it), so it costs a
 * few ring rebuilds.  *@next_ms (may be NULL) gets the ms until the next
 * step, 0 once the ramp is over.
 */
__u16 xlb_lb_ramp(__u16 w, __u64 elapsed_ms, __u32 slow_start_s, __u64 *next_ms);

/* The weight @b has in @v's live ring at @now_ms (0 when out of it). */
__u16 xlb_lb_eff_weight(const struct xlb_lb_vip *v, const struct xlb_lb_backend *b, __u64 now_ms);

/* CLOCK_MONOTONIC in ms. */
__u64 xlb_lb_now_ms(void);

/* Find a VIP's backend by address, or NULL (@v may be NULL). */
struct xlb_lb_backend *xlb_lb_backend_find(const struct xlb_lb_vip *v, const __u32 addr[4],
					   __u8 family);

/* Find a VIP by key, or NULL. */
struct xlb_lb_vip *xlb_lb_vip_find(const struct xlb_lb *lb, const struct xlb_vip_key *k);

#endif /* XLB_LB_H */
