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
};

struct xlb_lb_vip {
	struct xlb_vip_key key;
	__u32 id;		/* data-plane VIP id */
	__u32 flags;		/* XLB_VIP_F_* */
	__u8 encap;
	struct xlb_vip_ring ring;
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

/* Find a VIP by key, or NULL. */
struct xlb_lb_vip *xlb_lb_vip_find(const struct xlb_lb *lb, const struct xlb_vip_key *k);

#endif /* XLB_LB_H */
