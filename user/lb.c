// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* See lb.h. */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "lb.h"
#include "log.h"
#include "maglev.h"

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

struct xlb_lb_vip *xlb_lb_vip_find(const struct xlb_lb *lb, const struct xlb_vip_key *k)
{
	__u32 i;

	for (i = 0; i < lb->n_vips; i++)
		if (!memcmp(&lb->vips[i]->key, k, sizeof(*k)))
			return lb->vips[i];
	return NULL;
}

static void vip_free(struct xlb_lb_vip *v)
{
	if (!v)
		return;
	xlb_vip_ring_release(&v->ring);
	free(v->backends);
	free(v);
}

void xlb_lb_close(struct xlb_lb *lb)
{
	__u32 i;

	if (!lb)
		return;
	for (i = 0; i < lb->n_vips; i++)
		vip_free(lb->vips[i]);
	free(lb->vips);
	free(lb->vip_used);
	free(lb->be_used);
	xlb_close(lb->x);
	free(lb);
}

/* A backend id not used now, and not used recently: ids advance like a
 * clock, so a deleted id comes back only after every other one has been
 * handed out, long after connection entries naming it have gone. */
static __u32 be_id_alloc(struct xlb_lb *lb)
{
	__u32 n;

	for (n = 1; n < lb->max_backends; n++) {
		__u32 id = lb->be_cursor;

		lb->be_cursor = lb->be_cursor + 1 >= lb->max_backends ? 1 : lb->be_cursor + 1;
		if (!lb->be_used[id]) {
			lb->be_used[id] = 1;
			return id;
		}
	}
	return 0;
}

static __u32 vip_id_alloc(struct xlb_lb *lb)
{
	__u32 id;

	for (id = 1; id < lb->max_vips; id++) {
		if (!lb->vip_used[id]) {
			lb->vip_used[id] = 1;
			return id;
		}
	}
	return 0;
}

static void to_maglev(const struct xlb_lb_backend *b, struct maglev_backend *m, bool cfg_only)
{
	memset(m, 0, sizeof(*m));
	m->id = b->id;
	m->weight = b->weight;
	m->state = b->state == XLB_CFG_BE_DRAIN ? MAGLEV_DRAIN : MAGLEV_UP;
	if (!cfg_only && b->down)
		m->state = MAGLEV_DOWN;
	maglev_ident_addr(m, b->family, b->addr, 0);
}

const char *xlb_be_hstate_name(int s)
{
	static const char *const names[XLB_BS__COUNT] = {
		[XLB_BS_UP] = "up",
		[XLB_BS_DOWN] = "down",
		[XLB_BS_DRAINING] = "draining",
		[XLB_BS_SLOW_START] = "slow-start",
		[XLB_BS_UNKNOWN] = "unknown",
	};

	return s >= 0 && s < XLB_BS__COUNT ? names[s] : "?";
}

__u64 xlb_lb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* Slow start's steps, in % of the weight; each lasts a quarter of the ramp. */
static const __u8 ramp_pct[4] = { 10, 25, 50, 75 };

__u16 xlb_lb_ramp(__u16 w, __u64 elapsed_ms, __u32 slow_start_s, __u64 *next_ms)
{
	__u64 total = (__u64)slow_start_s * 1000;
	__u32 step, e;

	if (next_ms)
		*next_ms = 0;
	if (!w || !total || elapsed_ms >= total)
		return w;
	step = (__u32)(elapsed_ms * 4 / total);
	if (next_ms)
		*next_ms = (total * (step + 1) + 3) / 4 - elapsed_ms;
	e = (__u32)w * ramp_pct[step] / 100;
	return e ? (__u16)e : 1;
}

/* The weight @b would have in the ring if it is in it: slow start and the
 * latency-adaptive share applied, never below 1 for a weight > 0. */
static __u16 weight_now(const struct xlb_lb_vip *v, const struct xlb_lb_backend *b, __u64 now_ms)
{
	__u32 w = b->weight;

	if (b->hstate == XLB_BS_SLOW_START)
		w = xlb_lb_ramp(b->weight, now_ms > b->since_ms ? now_ms - b->since_ms : 0,
				v->slow_start_s, NULL);
	if (w && b->lat_pct && b->lat_pct < 100) {
		w = w * b->lat_pct / 100;
		if (!w)
			w = 1;
	}
	return (__u16)w;
}

__u16 xlb_lb_eff_weight(const struct xlb_lb_vip *v, const struct xlb_lb_backend *b, __u64 now_ms)
{
	if ((b->down && !v->fail_open) || b->state == XLB_CFG_BE_DRAIN)
		return 0;
	return weight_now(v, b, now_ms);
}

/*
 * The configured (@cfg, for the anchor) and the live (@live) Maglev view of
 * @n backends of @v.  Returns true if the VIP fails open: every backend
 * that the configuration puts in the ring is down, and the policy says to
 * keep forwarding as if they were not.
 */
static bool live_view(const struct xlb_lb_vip *v, const struct xlb_lb_backend *b, __u32 n,
		      __u64 now_ms, struct maglev_backend *cfg, struct maglev_backend *live)
{
	__u32 i, eligible = 0, alive = 0;
	bool open;

	for (i = 0; i < n; i++) {
		if (b[i].state == XLB_CFG_BE_DRAIN || !b[i].weight)
			continue;
		eligible++;
		alive += !b[i].down;
	}
	open = v->all_down == XLB_CFG_ALLDOWN_FAIL_OPEN && eligible && !alive;
	for (i = 0; i < n; i++) {
		to_maglev(&b[i], &cfg[i], true);
		live[i] = cfg[i];
		if (b[i].down && !open)
			live[i].state = MAGLEV_DOWN;
		else if (live[i].state == MAGLEV_UP)
			live[i].weight = weight_now(v, &b[i], now_ms);
	}
	return open;
}

/* Set or clear XLB_BE_F_UNUSABLE of @b in the map, if it differs. */
static int set_flag(struct xlb_lb *lb, struct xlb_lb_backend *b, bool on)
{
	struct xlb_backend be;
	int ret;

	if (b->flagged == on)
		return 0;
	ret = xlb_backend_get(lb->x, b->id, &be);
	if (ret)
		return ret;
	if (on)
		be.flags |= XLB_BE_F_UNUSABLE;
	else
		be.flags &= (__u8)~XLB_BE_F_UNUSABLE;
	ret = xlb_backend_set(lb->x, b->id, &be);
	if (!ret)
		b->flagged = on;
	return ret;
}

/*
 * Publish the live ring of @v built over backends @b (n of them; @b may be
 * a new array that is not yet v->backends), with the unusable flags
 * ordered around it.  On success v->fail_open and each eff_weight are set.
 */
static int publish(struct xlb_lb *lb, struct xlb_lb_vip *v, struct xlb_lb_backend *b, __u32 n,
		   bool config_changed, __u64 now_ms, const char **why)
{
	struct maglev_backend *cfg = calloc(n ? n : 1, sizeof(*cfg));
	struct maglev_backend *live = calloc(n ? n : 1, sizeof(*live));
	bool open;
	__u32 i;
	int ret = 0;

	if (!cfg || !live) {
		ret = -ENOMEM;
		goto out;
	}
	open = live_view(v, b, n, now_ms, cfg, live);
	/* A backend coming back is usable before the ring names it ... */
	for (i = 0; !ret && i < n; i++)
		if (!b[i].down || open)
			ret = set_flag(lb, &b[i], false);
	if (!ret)
		ret = xlb_vip_ring_apply_live(lb->x, &v->ring, cfg, live, n, config_changed, why);
	/* ... and one going down leaves the ring before its flows move. */
	for (i = 0; !ret && i < n; i++)
		if (b[i].down && !open)
			ret = set_flag(lb, &b[i], true);
	if (ret)
		goto out;
	if (open != v->fail_open) {
		char name[XLB_VIP_STRLEN];

		xlb_vip_key_fmt(&v->key, name, sizeof(name));
		if (open)
			pr_warn("%s: every backend is down: failing open (forwarding as if all were up)\n",
				name);
		else
			pr_warn("%s: a backend is up again: no longer failing open\n", name);
	}
	v->fail_open = open;
	for (i = 0; i < n; i++)
		b[i].eff_weight = xlb_lb_eff_weight(v, &b[i], now_ms);
out:
	free(cfg);
	free(live);
	return ret;
}

int xlb_lb_vip_refresh(struct xlb_lb *lb, struct xlb_lb_vip *v, __u64 now_ms)
{
	return publish(lb, v, v->backends, v->n_backends, false, now_ms, NULL);
}

static int add_vip(struct xlb_lb *lb, struct xlb_lb_vip *v)
{
	struct xlb_lb_vip **nv = realloc(lb->vips, (lb->n_vips + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	lb->vips = nv;
	lb->vips[lb->n_vips++] = v;
	return 0;
}

/* Adopt the VIPs, backends and live rings an earlier instance left. */
static int adopt(struct xlb_lb *lb)
{
	int vfd = xlb_map_fd(lb->x, XLB_STR(XLB_MAP_VIPS));
	struct xlb_vip_key cur, next;
	struct maglev_backend *mb = NULL;
	struct xlb_lb_vip *v;
	void *prev = NULL;
	__u32 id, i, *ring = NULL, m;
	int err = 0;

	while (!bpf_map_get_next_key(vfd, prev, &next)) {
		struct xlb_vip val;

		cur = next;
		prev = &cur;
		if (cur.proto == XLB_PROTO_ADDR_MARKER || bpf_map_lookup_elem(vfd, &cur, &val))
			continue;
		if (!val.id || val.id >= lb->max_vips || lb->vip_used[val.id])
			continue;
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		v->key = cur;
		v->id = val.id;
		v->flags = val.flags;
		v->encap = val.encap;
		err = add_vip(lb, v);
		if (err) {
			free(v);
			return err;
		}
		lb->vip_used[val.id] = 1;
	}
	for (id = 1; id < lb->max_backends; id++) {
		struct xlb_backend b;
		struct xlb_lb_backend *nb;

		if (xlb_backend_get(lb->x, id, &b) || !b.family)
			continue;
		for (i = 0; i < lb->n_vips && lb->vips[i]->id != b.vip_id; i++)
			;
		if (i == lb->n_vips)
			continue;	/* an orphan: apply never names it */
		v = lb->vips[i];
		nb = realloc(v->backends, (v->n_backends + 1) * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		v->backends = nb;
		nb = &v->backends[v->n_backends++];
		memset(nb, 0, sizeof(*nb));
		memcpy(nb->addr, b.addr, sizeof(nb->addr));
		nb->family = b.family;
		nb->weight = 1;
		nb->id = id;
		nb->down = !!(b.flags & XLB_BE_F_UNUSABLE);
		nb->flagged = nb->down;
		nb->adopted = true;
		nb->hstate = nb->down ? XLB_BS_DOWN : XLB_BS_UP;
		nb->hc_id = -1;
		nb->lat_pct = 100;
		nb->since_ms = xlb_lb_now_ms();
		lb->be_used[id] = 1;
		if (id >= lb->be_cursor)
			lb->be_cursor = id + 1 >= lb->max_backends ? 1 : id + 1;
	}
	/* Each live ring becomes the published table, and the stored anchor
	 * the previous anchor (the live ring, if none was stored): applying
	 * the configuration that made them moves nothing. */
	for (i = 0; i < lb->n_vips; i++) {
		__u32 j, *anchor = NULL, am = 0;

		v = lb->vips[i];
		if (xlb_ring_read(lb->x, v->id, &ring, &m))
			continue;
		if (xlb_anchor_read(lb->x, v->id, &anchor, &am) || am != m) {
			free(anchor);
			anchor = NULL;
		}
		mb = calloc(v->n_backends ? v->n_backends : 1, sizeof(*mb));
		err = mb ? xlb_vip_ring_init(&v->ring, v->id, m, lb->seed) : -ENOMEM;
		for (j = 0; !err && j < v->n_backends; j++)
			to_maglev(&v->backends[j], &mb[j], true);
		if (!err)
			err = maglev_from_ring(anchor ? anchor : ring, m, mb, v->n_backends,
					       &v->ring.anchor, NULL);
		free(anchor);
		if (!err)
			err = maglev_from_ring(ring, m, mb, v->n_backends, &v->ring.live, NULL);
		free(mb);
		mb = NULL;
		free(ring);
		ring = NULL;
		if (err)
			return err;
	}
	lb->adopted = lb->n_vips > 0;
	return 0;
}

int xlb_lb_open(const struct xlb_cfg *cfg, struct xlb_lb **out)
{
	struct xlb_opts o = {
		.pin_root = cfg->pin_root,
		.max_vips = cfg->limits.max_vips,
		.max_backends = cfg->limits.max_backends,
		.conntrack_size = cfg->limits.conntrack,
		.hash_seed = cfg->hash_seed,
	};
	struct xlb_lb *lb;
	int err;

	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return -ENOMEM;
	lb->max_vips = cfg->limits.max_vips;
	lb->max_backends = cfg->limits.max_backends;
	lb->seed = cfg->hash_seed;
	lb->be_cursor = 1;
	lb->vip_used = calloc(lb->max_vips, 1);
	lb->be_used = calloc(lb->max_backends, 1);
	if (!lb->vip_used || !lb->be_used) {
		err = -ENOMEM;
		goto out;
	}
	err = xlb_open(&o, &lb->x);
	if (!err)
		err = adopt(lb);
	if (err)
		goto out;
	*out = lb;
	return 0;
out:
	xlb_lb_close(lb);
	return err;
}

static int apply_globals(struct xlb_lb *lb, const struct xlb_cfg *cfg, char *err, size_t errlen)
{
	struct xlb_config c;
	int ret;

	ret = xlb_config_get(lb->x, &c);
	if (ret)
		return fail(err, errlen, ret, "reading the config map: %s", strerror(-ret));
	c.src4 = cfg->encap.src4;
	c.src4_mask = htonl(cfg->encap.src4_len ? ~0U << (32 - cfg->encap.src4_len) : 0);
	memcpy(c.src6, cfg->encap.src6, sizeof(c.src6));
	c.flags = 0;
	c.nh_ifindex = 0;
	memset(c.nh_dmac, 0, sizeof(c.nh_dmac));
	memset(c.nh_smac, 0, sizeof(c.nh_smac));
	if (cfg->next_hop.has_static) {
		c.nh_ifindex = if_nametoindex(cfg->next_hop.ifname);
		if (!c.nh_ifindex)
			return fail(err, errlen, -ENODEV, "next_hop.static.ifname: no interface %s",
				    cfg->next_hop.ifname);
		memcpy(c.nh_dmac, cfg->next_hop.dmac, 6);
		memcpy(c.nh_smac, cfg->next_hop.smac, 6);
		c.flags |= XLB_CFG_F_STATIC_NH;
		if (cfg->next_hop.skip_fib)
			c.flags |= XLB_CFG_F_SKIP_FIB;
		ret = xlb_devmap_add(lb->x, c.nh_ifindex);
		if (ret)
			return fail(err, errlen, ret, "devmap: %s", strerror(-ret));
	}
	ret = xlb_config_set(lb->x, &c);
	return ret ? fail(err, errlen, ret, "writing the config map: %s", strerror(-ret)) : 0;
}

static void release_backend(struct xlb_lb *lb, const struct xlb_lb_backend *b)
{
	xlb_backend_del(lb->x, b->id);
	xlb_stats_backend_reset(lb->x, b->id);
	lb->be_used[b->id] = 0;
}

static int remove_vip(struct xlb_lb *lb, __u32 idx)
{
	struct xlb_lb_vip *v = lb->vips[idx];
	__u32 i;
	int err;

	err = xlb_vip_del(lb->x, &v->key);
	if (err && err != -ENOENT)
		return err;
	xlb_ring_clear(lb->x, v->id);
	for (i = 0; i < v->n_backends; i++)
		release_backend(lb, &v->backends[i]);
	xlb_stats_vip_reset(lb->x, v->id);
	lb->vip_used[v->id] = 0;
	vip_free(v);
	lb->vips[idx] = lb->vips[--lb->n_vips];
	return 0;
}

struct xlb_lb_backend *xlb_lb_backend_find(const struct xlb_lb_vip *v, const __u32 addr[4],
					   __u8 family)
{
	__u32 i;

	for (i = 0; v && i < v->n_backends; i++)
		if (v->backends[i].family == family &&
		    !memcmp(v->backends[i].addr, addr, sizeof(v->backends[i].addr)))
			return &v->backends[i];
	return NULL;
}

static const struct xlb_lb_backend *find_be(const struct xlb_lb_vip *v, const struct xlb_cfg_backend *b)
{
	return xlb_lb_backend_find(v, b->addr, b->family);
}

/* Bring one VIP in line with @cv.  On success the VIP holds exactly the
 * configured backends; backends it dropped are released after the new
 * ring is live. */
static int apply_vip(struct xlb_lb *lb, struct xlb_lb_vip *v, const struct xlb_cfg_vip *cv,
		     char *err, size_t errlen)
{
	struct xlb_lb_backend *nb = NULL;
	struct xlb_vip val = { .id = v->id, .flags = xlb_cfg_vip_flags(cv), .encap = cv->encap };
	char name[XLB_VIP_STRLEN];
	const char *why = NULL;
	__u8 old_all_down = v->all_down;
	__u32 old_slow = v->slow_start_s;
	__u64 now = xlb_lb_now_ms();
	__u32 i, j;
	int ret;

	xlb_vip_key_fmt(&cv->key, name, sizeof(name));
	nb = calloc(cv->n_backends ? cv->n_backends : 1, sizeof(*nb));
	if (!nb) {
		ret = -ENOMEM;
		goto out;
	}
	v->all_down = cv->all_down;
	v->slow_start_s = cv->slow_start_s;
	v->latency_adaptive = cv->latency_adaptive;
	for (i = 0; i < cv->n_backends; i++) {
		const struct xlb_cfg_backend *cb = &cv->backends[i];
		const struct xlb_lb_backend *old = find_be(v, cb);
		struct xlb_backend be = { .family = cb->family, .vip_id = v->id };

		if (old) {
			__u8 hs = old->hstate;

			nb[i] = *old;
			nb[i].state = cb->state;
			nb[i].weight = cb->weight;
			/* Drain is configured; health states are the
			 * health manager's.  Back from drain ramps up. */
			if (cb->state == XLB_CFG_BE_DRAIN && hs != XLB_BS_DOWN)
				hs = XLB_BS_DRAINING;
			else if (cb->state != XLB_CFG_BE_DRAIN && hs == XLB_BS_DRAINING)
				hs = cv->slow_start_s ? XLB_BS_SLOW_START : XLB_BS_UP;
			if (hs != nb[i].hstate) {
				pr_warn("%s: backend %u: %s -> %s (configured)\n", name, nb[i].id,
					xlb_be_hstate_name(nb[i].hstate), xlb_be_hstate_name(hs));
				nb[i].hstate = hs;
				nb[i].since_ms = now;
				nb[i].transitions++;
			}
			continue;
		}
		memcpy(nb[i].addr, cb->addr, sizeof(cb->addr));
		nb[i].family = cb->family;
		nb[i].state = cb->state;
		nb[i].weight = cb->weight;
		nb[i].hc_id = -1;
		nb[i].lat_pct = 100;
		nb[i].since_ms = now;
		/* An addition to a VIP that has backends ramps up; a new
		 * VIP's or a fresh daemon's first backends do not (there is
		 * nothing to protect, they would all ramp alike). */
		if (cb->state == XLB_CFG_BE_DRAIN)
			nb[i].hstate = XLB_BS_DRAINING;
		else if (v->n_backends && cv->slow_start_s)
			nb[i].hstate = XLB_BS_SLOW_START;
		else
			nb[i].hstate = XLB_BS_UP;
		nb[i].id = be_id_alloc(lb);
		if (!nb[i].id) {
			ret = fail(err, errlen, -ENOSPC, "%s: no free backend id (limits.max_backends)",
				   name);
			goto undo;
		}
		memcpy(be.addr, cb->addr, sizeof(be.addr));
		ret = xlb_stats_backend_reset(lb->x, nb[i].id);
		if (!ret)
			ret = xlb_backend_set(lb->x, nb[i].id, &be);
		if (ret) {
			fail(err, errlen, ret, "%s: writing backend %u: %s", name, nb[i].id,
			     strerror(-ret));
			goto undo;
		}
	}
	ret = xlb_vip_set(lb->x, &cv->key, &val);
	if (ret) {
		fail(err, errlen, ret, "%s: writing the VIP: %s", name, strerror(-ret));
		goto undo;
	}
	v->flags = val.flags;
	v->encap = val.encap;
	if (v->ring.m != cv->ring_size) {
		/* A new M reshuffles everything: start the chain afresh. */
		xlb_vip_ring_release(&v->ring);
		ret = xlb_vip_ring_init(&v->ring, v->id, cv->ring_size, lb->seed);
		if (ret) {
			fail(err, errlen, ret, "%s: ring size %u", name, cv->ring_size);
			goto undo;
		}
	}
	ret = publish(lb, v, nb, cv->n_backends, true, now, &why);
	if (ret) {
		fail(err, errlen, ret, "%s: ring: %s", name, why ? why : strerror(-ret));
		goto undo;
	}
	/* The live ring no longer names dropped backends: release them. */
	for (j = 0; j < v->n_backends; j++) {
		for (i = 0; i < cv->n_backends && nb[i].id != v->backends[j].id; i++)
			;
		if (i == cv->n_backends)
			release_backend(lb, &v->backends[j]);
	}
	free(v->backends);
	v->backends = nb;
	v->n_backends = cv->n_backends;
	nb = NULL;
	goto out;
undo:
	/* Give back the ids this call took; entries written for them are
	 * unreachable (no ring names them) and are cleared. */
	for (i = 0; i < cv->n_backends; i++)
		if (nb[i].id && !find_be(v, &cv->backends[i]))
			release_backend(lb, &nb[i]);
	v->all_down = old_all_down;
	v->slow_start_s = old_slow;
out:
	free(nb);
	return ret;
}

int xlb_lb_set_health(struct xlb_lb *lb, const struct xlb_vip_key *k, const __u32 addr[4],
		      __u8 family, bool down)
{
	struct xlb_lb_vip *v = xlb_lb_vip_find(lb, k);
	struct xlb_lb_backend *b = xlb_lb_backend_find(v, addr, family), save;
	int ret;

	if (!b)
		return -ENOENT;
	if (b->down == down)
		return 0;
	save = *b;
	b->down = down;
	b->hstate = down ? XLB_BS_DOWN : b->state == XLB_CFG_BE_DRAIN ? XLB_BS_DRAINING : XLB_BS_UP;
	b->since_ms = xlb_lb_now_ms();
	b->transitions++;
	ret = xlb_lb_vip_refresh(lb, v, b->since_ms);
	if (ret) {
		save.flagged = b->flagged;
		*b = save;
	}
	return ret;
}

int xlb_lb_apply(struct xlb_lb *lb, const struct xlb_cfg *cfg, char *err, size_t errlen)
{
	__u32 i, j;
	int ret;

	ret = apply_globals(lb, cfg, err, errlen);
	if (ret)
		return ret;
	for (i = 0; i < lb->n_vips;) {
		for (j = 0; j < cfg->n_vips; j++)
			if (!memcmp(&cfg->vips[j].key, &lb->vips[i]->key, sizeof(cfg->vips[j].key)))
				break;
		if (j < cfg->n_vips) {
			i++;
			continue;
		}
		ret = remove_vip(lb, i);
		if (ret)
			return fail(err, errlen, ret, "removing a VIP: %s", strerror(-ret));
	}
	for (j = 0; j < cfg->n_vips; j++) {
		const struct xlb_cfg_vip *cv = &cfg->vips[j];
		struct xlb_lb_vip *v = xlb_lb_vip_find(lb, &cv->key);

		if (!v) {
			v = calloc(1, sizeof(*v));
			if (!v)
				return -ENOMEM;
			v->key = cv->key;
			v->id = vip_id_alloc(lb);
			ret = v->id ? add_vip(lb, v) : -ENOSPC;
			if (ret) {
				if (v->id)
					lb->vip_used[v->id] = 0;
				free(v);
				return fail(err, errlen, ret, "no room for another VIP (limits.max_vips)");
			}
			xlb_stats_vip_reset(lb->x, v->id);
		}
		ret = apply_vip(lb, v, cv, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}
