// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* See vipring.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vipring.h"

static __u64 ring_gen;

int xlb_vip_ring_init(struct xlb_vip_ring *r, __u32 vip_id, __u32 m, __u32 seed)
{
	memset(r, 0, sizeof(*r));
	if (!vip_id || !maglev_valid_m(m))
		return -EINVAL;
	r->vip_id = vip_id;
	r->m = m;
	r->seed = seed;
	r->gen = ++ring_gen;
	return 0;
}

void xlb_vip_ring_release(struct xlb_vip_ring *r)
{
	if (!r)
		return;
	maglev_free(r->anchor);
	maglev_free(r->live);
	r->anchor = NULL;
	r->live = NULL;
	r->gen = ++ring_gen;
}

int xlb_vip_ring_apply(struct xlb *x, struct xlb_vip_ring *r, const struct maglev_backend *cfg,
		       __u32 n, const bool *down, bool config_changed, const char **err)
{
	struct maglev_backend *live = calloc(n ? n : 1, sizeof(*live));
	__u32 i;
	int ret;

	if (!live)
		return -ENOMEM;
	memcpy(live, cfg, n * sizeof(*cfg));
	for (i = 0; down && i < n; i++)
		if (down[i])
			live[i].state = MAGLEV_DOWN;
	ret = xlb_vip_ring_apply_live(x, r, cfg, live, n, config_changed, err);
	free(live);
	return ret;
}

int xlb_vip_ring_apply_live(struct xlb *x, struct xlb_vip_ring *r, const struct maglev_backend *cfg,
			    const struct maglev_backend *live_be, __u32 n, bool config_changed,
			    const char **err)
{
	struct maglev_table *anchor = NULL, *live = NULL;
	int ret;

	if (config_changed || !r->anchor) {
		ret = maglev_rebuild(r->anchor, cfg, n, r->m, r->seed, &anchor, err);
		if (ret)
			goto out;
	}
	ret = maglev_rebuild(anchor ? anchor : r->anchor, live_be, n, r->m, r->seed, &live, err);
	if (ret)
		goto out;
	/* The anchor is kept beside the rings, so a restart resumes the chain
	 * exactly; it is stored before the live ring that derives from it. */
	if (anchor && (!r->anchor ||
		       memcmp(r->anchor->ring, anchor->ring, (size_t)r->m * sizeof(__u32)))) {
		ret = xlb_anchor_store(x, r->vip_id, anchor->ring, anchor->m);
		if (ret)
			goto out;
	}
	if (!r->live || memcmp(r->live->ring, live->ring, (size_t)r->m * sizeof(__u32))) {
		ret = xlb_ring_publish(x, r->vip_id, live->ring, live->m);
		if (ret)
			goto out;
		r->publishes++;
	}
	/* Committed: swap in the new tables. */
	if (anchor) {
		maglev_free(r->anchor);
		r->anchor = anchor;
		anchor = NULL;
	}
	maglev_free(r->live);
	r->live = live;
	live = NULL;
	r->gen = ++ring_gen;
	r->info_gen = 0;
	if (!xlb_vip_ring_info(r, &r->info))
		r->info_gen = r->gen;
out:
	maglev_free(anchor);
	maglev_free(live);
	return ret;
}

int xlb_vip_ring_info(const struct xlb_vip_ring *r, struct xlb_ring_info *info)
{
	int ret;

	if (r->info_gen && r->info_gen == r->gen) {
		*info = r->info;
		return 0;
	}
	memset(info, 0, sizeof(*info));
	if (!r->live || !r->anchor)
		return -ENOENT;
	ret = maglev_checksum(r->live, &info->live_checksum);
	if (!ret)
		ret = maglev_checksum(r->anchor, &info->anchor_checksum);
	if (!ret)
		ret = maglev_stats(r->live, &info->stats);
	return ret;
}
