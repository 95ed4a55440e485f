/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The health manager: turns the configuration's health checks into probe
 * targets of the engine (health.h), and probe results into the balancer's
 * health view (lb.h): backends down or up, slow-start ramps, the
 * latency-adaptive share, each VIP's all-down policy.  Ring rebuilds are
 * debounced (XLB_HM_DEBOUNCE_MS) and limited to the VIPs that changed.
 *
 * A daemon that starts, or restarts on pinned state, removes no backend
 * from a ring until every target has a first result (or a bound passes):
 * results gathered before that are applied together.  A restarted daemon
 * starts each target from the state the pins recorded (down if flagged
 * unusable, else up), so rise and fall count from there.
 *
 * Integration: add xlb_hm_fd() to the daemon's epoll (EPOLLIN), call
 * xlb_hm_dispatch() when it is readable, and xlb_hm_sync() after every
 * configuration the balancer accepted.
 */
#ifndef XLB_HCMGR_H
#define XLB_HCMGR_H

#include "config.h"
#include "health.h"
#include "lb.h"

#define XLB_HM_DEBOUNCE_MS	20	/* changes within this window: one rebuild */
#define XLB_HM_ADAPT_MS		2000	/* latency-adaptive evaluation period */
#define XLB_HM_HOLD_MAX_MS	30000	/* the first round waits at most this long */

struct xlb_hm;

/* Per-target context the daemon can read (status, metrics). */
struct xlb_hm_stats {
	__u64 rebuilds;		/* debounced VIP ring refreshes */
	__u64 transitions;	/* health transitions applied */
	bool holding;		/* still waiting for the first round */
};

/* Open with an engine of its own.  Returns 0 or a negative errno. */
int xlb_hm_open(struct xlb_lb *lb, struct xlb_hm **out);
void xlb_hm_close(struct xlb_hm *hm);

/* The fd to poll for EPOLLIN. */
int xlb_hm_fd(const struct xlb_hm *hm);

/* Run what is ready: probe results, due rebuilds, ramps.  0 or -errno. */
int xlb_hm_dispatch(struct xlb_hm *hm);

/*
 * Make the probe targets match @cfg (which the balancer has just applied):
 * new checks start, removed ones stop, changed ones restart from the
 * backend's current state.  A backend whose check is removed counts as up.
 */
int xlb_hm_sync(struct xlb_hm *hm, const struct xlb_cfg *cfg);

/* The engine, to read a target's status (xlb_hc_get() with hc_id). */
struct xlb_hc *xlb_hm_engine(const struct xlb_hm *hm);

void xlb_hm_get_stats(const struct xlb_hm *hm, struct xlb_hm_stats *st);

/* True if @cfg has a data-path check (a VIP's or a backend's): the probe
 * encapsulator (hcpath.h) must then be attached to the interfaces. */
bool xlb_hm_needs_datapath(const struct xlb_cfg *cfg);

#endif /* XLB_HCMGR_H */
