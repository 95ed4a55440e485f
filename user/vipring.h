/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A VIP's ring as the control plane keeps it: the anchor table, chained over
 * configuration changes and identical on every host, and the live table
 * built from the anchor with the backends that failed health checks taken
 * out (docs/maglev.md, "how hosts stay identical").  Only a live table that
 * differs from the published one is published.
 */
#ifndef XLB_VIPRING_H
#define XLB_VIPRING_H

#include <stdbool.h>
#include "maglev.h"
#include "xlb.h"

/* What an operator compares across hosts and watches (xlbctl maglev show). */
struct xlb_ring_info {
	__u64 live_checksum;		/* maglev_checksum() of the live table */
	__u64 anchor_checksum;		/* ... and of the anchor */
	struct maglev_stats stats;	/* of the live table; max_ratio = max/mean */
};

struct xlb_vip_ring {
	__u32 vip_id;
	__u32 m;			/* ring size (prime) */
	__u32 seed;
	struct maglev_table *anchor;	/* NULL until the first apply */
	struct maglev_table *live;	/* what is published; NULL before */
	__u64 publishes;		/* rings published by this object */
	__u64 gen;			/* unique in the process; new whenever anchor or
					 * live may have changed (caches of the info) */
	/* The info of the tables apply built, computed once there: a
	 * checksum walks the whole ring, too slow for every scrape. */
	__u64 info_gen;			/* == gen: info is current */
	struct xlb_ring_info info;
};

/* Start empty: nothing built or published yet.  -EINVAL on a bad @m. */
int xlb_vip_ring_init(struct xlb_vip_ring *r, __u32 vip_id, __u32 m, __u32 seed);
void xlb_vip_ring_release(struct xlb_vip_ring *r);

/*
 * Apply the configured backends @cfg (n of them; state MAGLEV_UP or
 * MAGLEV_DRAIN, as configured) and the health view @down (n flags, NULL =
 * all healthy).  With @config_changed (or on the first call) the anchor is
 * rebuilt from the previous anchor; the live table is always rebuilt from
 * the anchor with the failed backends MAGLEV_DOWN.  The live ring is
 * published only when it differs from the published one.  On error nothing
 * changes, neither here nor in the data plane.  *err (may be NULL) gets a
 * message for -EINVAL.
 */
int xlb_vip_ring_apply(struct xlb *x, struct xlb_vip_ring *r, const struct maglev_backend *cfg,
		       __u32 n, const bool *down, bool config_changed, const char **err);

/*
 * The general form: the anchor from @cfg as above, the live table from
 * @live (the same n backends, same ids and identities, with the health
 * view and effective weights applied: MAGLEV_DOWN for failed backends, a
 * lower weight during slow start).  xlb_vip_ring_apply() is this with
 * @live = @cfg plus the @down flags.
 */
int xlb_vip_ring_apply_live(struct xlb *x, struct xlb_vip_ring *r, const struct maglev_backend *cfg,
			    const struct maglev_backend *live, __u32 n, bool config_changed,
			    const char **err);

int xlb_vip_ring_info(const struct xlb_vip_ring *r, struct xlb_ring_info *info);

#endif /* XLB_VIPRING_H */
