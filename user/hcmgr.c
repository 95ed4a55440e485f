// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* See hcmgr.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include "addr.h"
#include "hcmgr.h"
#include "hcpath.h"
#include "log.h"

#define NEVER	UINT64_MAX

/* One probe target: one backend of one VIP with a check configured. */
struct hm_target {
	struct xlb_hm *hm;
	struct xlb_vip_key vip;
	__u32 addr[4];
	__u8 family;
	int id;			/* engine id */
	struct xlb_cfg_health h;	/* the check as configured (owned), to notice changes */
	__u32 be_id;		/* the backend id a data-path probe's mark carries */
	bool visited;		/* sync's sweep mark */
	__u64 probes, lat_sum;	/* engine counters at the last adaptive pass */
};

struct xlb_hm {
	struct xlb_lb *lb;
	struct xlb_hc *hc;
	int epfd, tfd;
	struct hm_target **t;
	__u32 n, cap;
	struct hm_target **by_id;	/* by engine id */
	__u32 by_id_cap;
	struct xlb_vip_key *dirty;	/* VIPs to refresh */
	__u32 n_dirty, dirty_cap;
	__u64 flush_at;		/* NEVER when nothing is dirty */
	__u64 ramp_at;		/* next slow-start step; NEVER: none */
	__u64 adapt_at;		/* next latency-adaptive pass */
	__u64 hold_until;	/* first round: give up waiting then */
	__u64 hold_check_at;	/* next look at whether the round is complete */
	__u64 armed;
	bool holding;
	bool synced;		/* a first sync happened */
	struct xlb_hm_stats st;
};

static const char *vip_name(const struct xlb_vip_key *k, char *buf, size_t len)
{
	return xlb_vip_key_fmt(k, buf, len);
}

static struct xlb_lb_backend *find_backend(struct xlb_lb *lb, const struct xlb_vip_key *k,
					   const __u32 addr[4], __u8 family, struct xlb_lb_vip **vp)
{
	struct xlb_lb_vip *v = xlb_lb_vip_find(lb, k);

	if (vp)
		*vp = v;
	return xlb_lb_backend_find(v, addr, family);
}

static void mark_dirty(struct xlb_hm *hm, const struct xlb_vip_key *k, __u64 now)
{
	struct xlb_vip_key *nd;
	__u32 i;

	for (i = 0; i < hm->n_dirty; i++)
		if (!memcmp(&hm->dirty[i], k, sizeof(*k)))
			return;
	if (hm->n_dirty == hm->dirty_cap) {
		__u32 cap = hm->dirty_cap ? hm->dirty_cap * 2 : 16;

		nd = realloc(hm->dirty, cap * sizeof(*nd));
		if (!nd) {
			pr_warn("health: out of memory: VIP ring refresh deferred\n");
			return;
		}
		hm->dirty = nd;
		hm->dirty_cap = cap;
	}
	hm->dirty[hm->n_dirty++] = *k;
	if (hm->flush_at == NEVER)
		hm->flush_at = now + XLB_HM_DEBOUNCE_MS;
}

static void note_ramp(struct xlb_hm *hm, const struct xlb_lb_vip *v,
		      const struct xlb_lb_backend *b, __u64 now)
{
	__u64 next;

	if (b->hstate != XLB_BS_SLOW_START)
		return;
	xlb_lb_ramp(b->weight, now - b->since_ms, v->slow_start_s, &next);
	if (!next)
		next = 1;	/* over: the tick turns it up */
	if (now + next < hm->ramp_at)
		hm->ramp_at = now + next;
}

/* Move @b to @to, logging it once with @why. */
static void set_state(struct xlb_hm *hm, struct xlb_lb_vip *v, struct xlb_lb_backend *b,
		      __u8 to, const char *why, __u64 now)
{
	char vn[XLB_VIP_STRLEN], an[INET6_ADDRSTRLEN];

	if (b->hstate == to)
		return;
	/* Transitions are rare and what an operator looks for: logged at
	 * the default level, once each (the engine's own line is debug). */
	pr_warn("%s: backend %s: %s -> %s: %s\n", vip_name(&v->key, vn, sizeof(vn)),
		xlb_addr_fmt(b->addr, b->family, an, sizeof(an)), xlb_be_hstate_name(b->hstate),
		xlb_be_hstate_name(to), why);
	b->hstate = to;
	b->since_ms = now;
	b->transitions++;
	hm->st.transitions++;
	mark_dirty(hm, &v->key, now);
	note_ramp(hm, v, b, now);
}

/* A health result for @b: up or down. */
static void apply(struct xlb_hm *hm, struct xlb_lb_vip *v, struct xlb_lb_backend *b, bool up,
		  const char *why, __u64 now)
{
	bool was_down = b->down;
	__u8 to;

	if (!up) {
		b->down = true;
		set_state(hm, v, b, XLB_BS_DOWN, why, now);
		if (!was_down)
			mark_dirty(hm, &v->key, now);
		return;
	}
	b->down = false;
	if (b->state == XLB_CFG_BE_DRAIN)
		to = XLB_BS_DRAINING;
	else if (was_down && v->slow_start_s)
		to = XLB_BS_SLOW_START;
	else if (b->hstate == XLB_BS_SLOW_START)
		to = XLB_BS_SLOW_START;	/* an addition's first result */
	else
		to = XLB_BS_UP;
	set_state(hm, v, b, to, why, now);
	if (was_down)
		mark_dirty(hm, &v->key, now);
}

static void on_change(void *user, int id, bool up, const char *why)
{
	struct hm_target *t = user;
	struct xlb_hm *hm = t->hm;
	struct xlb_lb_vip *v;
	struct xlb_lb_backend *b;

	(void)id;
	if (hm->holding)
		return;		/* the end of the first round applies it */
	b = find_backend(hm->lb, &t->vip, t->addr, t->family, &v);
	if (b)
		apply(hm, v, b, up, why, xlb_lb_now_ms());
}

static void end_hold(struct xlb_hm *hm, __u64 now, bool all_seen)
{
	__u32 i, up = 0, down = 0, unknown = 0;

	hm->holding = false;
	for (i = 0; i < hm->n; i++) {
		struct hm_target *t = hm->t[i];
		struct xlb_hc_status st;
		struct xlb_lb_vip *v;
		struct xlb_lb_backend *b = find_backend(hm->lb, &t->vip, t->addr, t->family, &v);

		if (!b || xlb_hc_get(hm->hc, t->id, &st))
			continue;
		if (st.state == XLB_HC_UNKNOWN) {
			unknown++;
			continue;
		}
		st.state == XLB_HC_UP ? up++ : down++;
		apply(hm, v, b, st.state == XLB_HC_UP, st.last_why[0] ? st.last_why : "restored",
		      now);
	}
	pr_warn("health: first round %s: %u up, %u down, %u without a result yet\n",
		all_seen ? "complete" : "timed out", up, down, unknown);
}

/* During the first round: has every target a result? */
static bool all_seen(const struct xlb_hm *hm)
{
	struct xlb_hc_status st;
	__u32 i;

	for (i = 0; i < hm->n; i++)
		if (!xlb_hc_get(hm->hc, hm->t[i]->id, &st) && !st.probes)
			return false;
	return true;
}

static void ramp_tick(struct xlb_hm *hm, __u64 now)
{
	__u32 i, j;

	hm->ramp_at = NEVER;
	for (i = 0; i < hm->lb->n_vips; i++) {
		struct xlb_lb_vip *v = hm->lb->vips[i];

		for (j = 0; j < v->n_backends; j++) {
			struct xlb_lb_backend *b = &v->backends[j];

			if (b->hstate != XLB_BS_SLOW_START)
				continue;
			if (!v->slow_start_s || now - b->since_ms >= (__u64)v->slow_start_s * 1000) {
				set_state(hm, v, b, XLB_BS_UP, "slow start over", now);
				continue;
			}
			if (xlb_lb_eff_weight(v, b, now) != b->eff_weight)
				mark_dirty(hm, &v->key, now);
			note_ramp(hm, v, b, now);
		}
	}
}

static int u64_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Latency-adaptive VIPs: a backend whose mean probe latency over the last
 * period is above twice the VIP's median gets half its weight, above four
 * times a quarter, never less, so no backend starves.  Latencies under
 * 1 ms are never penalised: that is noise, not a slow backend.
 */
static void adapt_tick(struct xlb_hm *hm, __u64 now)
{
	__u64 *lat = NULL;
	__u32 i, j;

	hm->adapt_at = now + XLB_HM_ADAPT_MS;
	for (i = 0; i < hm->lb->n_vips; i++) {
		struct xlb_lb_vip *v = hm->lb->vips[i];
		__u64 *tl, med;
		__u32 n = 0;

		if (!v->latency_adaptive || !v->n_backends)
			continue;
		tl = realloc(lat, 2 * v->n_backends * sizeof(*lat));
		if (!tl)
			break;
		lat = tl;
		for (j = 0; j < v->n_backends; j++) {
			struct xlb_lb_backend *b = &v->backends[j];
			struct xlb_hc_status st;
			struct hm_target *t = NULL;

			lat[v->n_backends + j] = 0;
			if (b->hc_id >= 0 && (__u32)b->hc_id < hm->by_id_cap)
				t = hm->by_id[b->hc_id];
			if (!t || xlb_hc_get(hm->hc, t->id, &st))
				continue;
			if (st.probes > t->probes && !b->down) {
				lat[v->n_backends + j] = (st.lat_sum_us - t->lat_sum) /
							 (st.probes - t->probes);
				lat[n++] = lat[v->n_backends + j];
			}
			t->probes = st.probes;
			t->lat_sum = st.lat_sum_us;
		}
		if (n < 2)
			continue;
		/* The lower median: with two backends, the faster one is the
		 * reference, so that the slower can be told apart at all. */
		qsort(lat, n, sizeof(*lat), u64_cmp);
		med = lat[(n - 1) / 2];
		for (j = 0; j < v->n_backends; j++) {
			struct xlb_lb_backend *b = &v->backends[j];
			__u64 l = lat[v->n_backends + j];
			__u8 pct = 100;

			if (!l)
				continue;	/* no fresh figure: keep the share */
			if (l > 1000 && l > 4 * med)
				pct = 25;
			else if (l > 1000 && l > 2 * med)
				pct = 50;
			if (pct != b->lat_pct) {
				char vn[XLB_VIP_STRLEN], an[INET6_ADDRSTRLEN];

				pr_info("%s: backend %s: latency %llu us, median %llu us: weight share %u%%\n",
					vip_name(&v->key, vn, sizeof(vn)),
					xlb_addr_fmt(b->addr, b->family, an, sizeof(an)),
					(unsigned long long)l, (unsigned long long)med, pct);
				b->lat_pct = pct;
				mark_dirty(hm, &v->key, now);
			}
		}
	}
	free(lat);
}

/* Refresh the dirty VIPs; one that fails stays dirty and is retried a
 * second later (nothing in the data plane changed for it). */
static void flush(struct xlb_hm *hm, __u64 now)
{
	__u32 i, kept = 0;
	int ret;

	for (i = 0; i < hm->n_dirty; i++) {
		struct xlb_lb_vip *v = xlb_lb_vip_find(hm->lb, &hm->dirty[i]);
		char vn[XLB_VIP_STRLEN];

		if (!v)
			continue;
		ret = xlb_lb_vip_refresh(hm->lb, v, now);
		if (!ret) {
			hm->st.rebuilds++;
			continue;
		}
		pr_warn("%s: ring refresh failed, retrying in 1 s: %s\n",
			vip_name(&v->key, vn, sizeof(vn)), strerror(-ret));
		hm->dirty[kept++] = hm->dirty[i];
	}
	hm->n_dirty = kept;
	hm->flush_at = kept ? now + 1000 : NEVER;
}

static void arm(struct xlb_hm *hm)
{
	struct itimerspec its = {};
	__u64 at = hm->flush_at;

	if (hm->ramp_at < at)
		at = hm->ramp_at;
	if (hm->adapt_at < at)
		at = hm->adapt_at;
	if (hm->holding && hm->hold_until < at)
		at = hm->hold_until;
	if (hm->holding && hm->hold_check_at < at)
		at = hm->hold_check_at;
	if (at == hm->armed)
		return;
	hm->armed = at;
	if (at != NEVER) {
		its.it_value.tv_sec = at / 1000;
		its.it_value.tv_nsec = (long)(at % 1000) * 1000000;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(hm->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		pr_warn("health: timerfd_settime: %s\n", strerror(errno));
}

int xlb_hm_dispatch(struct xlb_hm *hm)
{
	__u64 ticks, now;
	int ret;

	if (read(hm->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		pr_debug("health: timerfd read: %s\n", strerror(errno));
	hm->armed = 0;
	ret = xlb_hc_dispatch(hm->hc, 0);
	if (ret)
		return ret;
	now = xlb_lb_now_ms();
	if (hm->holding && now >= hm->hold_check_at) {
		bool seen = all_seen(hm);

		hm->hold_check_at = now + 100;
		if (seen || now >= hm->hold_until)
			end_hold(hm, now, seen);
	}
	if (now >= hm->ramp_at)
		ramp_tick(hm, now);
	if (now >= hm->adapt_at)
		adapt_tick(hm, now);
	if (hm->n_dirty && now >= hm->flush_at)
		flush(hm, now);
	arm(hm);
	return 0;
}

static void target_free(struct xlb_hm *hm, __u32 idx)
{
	struct hm_target *t = hm->t[idx];

	if ((__u32)t->id < hm->by_id_cap)
		hm->by_id[t->id] = NULL;
	xlb_hc_del(hm->hc, t->id);
	xlb_cfg_health_clear(&t->h);
	free(t);
	hm->t[idx] = hm->t[--hm->n];
}

static int target_add(struct xlb_hm *hm, const struct xlb_cfg_vip *cv,
		      const struct xlb_cfg_health *h, struct xlb_lb_backend *b)
{
	static const enum xlb_hc_type types[] = {
		[XLB_CFG_HC_TCP] = XLB_HC_TCP, [XLB_CFG_HC_HTTP] = XLB_HC_HTTP,
		[XLB_CFG_HC_HTTPS] = XLB_HC_HTTPS, [XLB_CFG_HC_UDP] = XLB_HC_UDP,
	};
	struct xlb_hc_spec spec = {};
	struct hm_target *t = NULL;
	__u16 port = h->port ? h->port : ntohs(cv->key.port);
	const __u32 *dst;
	__u8 fam;
	int ret;

	if (hm->n == hm->cap) {
		__u32 cap = hm->cap ? hm->cap * 2 : 64;
		struct hm_target **nt = realloc(hm->t, cap * sizeof(*nt));

		if (!nt) {
			ret = -ENOMEM;
			goto err;
		}
		hm->t = nt;
		hm->cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		ret = -ENOMEM;
		goto err;
	}
	t->hm = hm;
	t->vip = cv->key;
	memcpy(t->addr, b->addr, sizeof(t->addr));
	t->family = b->family;
	t->be_id = h->datapath ? b->id : 0;
	t->visited = true;
	ret = xlb_cfg_health_copy(&t->h, h);
	if (ret)
		goto err;

	spec.type = types[h->type];
	/* A data-path probe goes to the VIP, marked so that the egress
	 * program encapsulates it to this backend as client traffic is. */
	dst = h->datapath ? cv->key.addr : b->addr;
	fam = h->datapath ? cv->key.family : b->family;
	if (h->datapath) {
		spec.mark = xlb_hc_mark(b->id);
		if (!spec.mark) {
			ret = -ERANGE;	/* an id beyond the mark's bits */
			goto err;
		}
	}
	if (fam == XLB_AF_INET) {
		spec.addr.v4.sin_family = AF_INET;
		spec.addr.v4.sin_port = htons(port);
		spec.addr.v4.sin_addr.s_addr = dst[0];
	} else {
		spec.addr.v6.sin6_family = AF_INET6;
		spec.addr.v6.sin6_port = htons(port);
		memcpy(&spec.addr.v6.sin6_addr, dst, 16);
	}
	spec.interval_ms = h->interval_ms;
	spec.timeout_ms = h->timeout_ms;
	spec.rise = h->rise;
	spec.fall = h->fall;
	spec.jitter_pct = h->jitter_pct ? (int)h->jitter_pct : -1;
	spec.backoff_max_ms = h->backoff_max_ms;
	/* A daemon resuming pinned state starts from it; otherwise a known
	 * failure stays down until it rises, and the rest wait for a result. */
	if (b->down)
		spec.initial = XLB_HC_DOWN;
	else if (!hm->synced && b->adopted)
		spec.initial = XLB_HC_UP;
	else
		spec.initial = XLB_HC_UNKNOWN;
	spec.on_change = on_change;
	spec.path = h->path;
	spec.host = h->host;
	spec.expect_status = h->expect_status;
	spec.expect_body = h->expect_body;
	spec.tls_verify = h->tls_verify;
	spec.payload = h->payload;
	spec.payload_len = h->payload_len;
	spec.expect_reply = h->expect_reply;
	ret = xlb_hc_add(hm->hc, &spec, t, &t->id);
	if (ret)
		goto err;
	if ((__u32)t->id >= hm->by_id_cap) {
		__u32 cap = (__u32)t->id * 2 + 64;
		struct hm_target **nb = realloc(hm->by_id, cap * sizeof(*nb));

		if (!nb) {
			xlb_hc_del(hm->hc, t->id);
			ret = -ENOMEM;
			goto err;
		}
		memset(nb + hm->by_id_cap, 0, (cap - hm->by_id_cap) * sizeof(*nb));
		hm->by_id = nb;
		hm->by_id_cap = cap;
	}
	hm->by_id[t->id] = t;
	hm->t[hm->n++] = t;
	b->hc_id = t->id;
	if (spec.initial == XLB_HC_UNKNOWN && b->hstate == XLB_BS_UP)
		b->hstate = XLB_BS_UNKNOWN;
	return 0;
err:
	if (t)
		xlb_cfg_health_clear(&t->h);
	free(t);
	return ret;
}

int xlb_hm_sync(struct xlb_hm *hm, const struct xlb_cfg *cfg)
{
	__u64 now = xlb_lb_now_ms(), bound = 0;
	__u32 i, j, k;
	int err, ret = 0;

	for (i = 0; i < hm->n; i++)
		hm->t[i]->visited = false;
	for (i = 0; i < cfg->n_vips; i++) {
		const struct xlb_cfg_vip *cv = &cfg->vips[i];
		struct xlb_lb_vip *v = xlb_lb_vip_find(hm->lb, &cv->key);

		for (j = 0; v && j < cv->n_backends; j++) {
			const struct xlb_cfg_backend *cb = &cv->backends[j];
			const struct xlb_cfg_health *h = xlb_cfg_backend_health(cv, cb);
			struct xlb_lb_backend *b = xlb_lb_backend_find(v, cb->addr, cb->family);
			struct hm_target *t = NULL;

			if (!b)
				continue;
			if (b->hstate == XLB_BS_SLOW_START)
				note_ramp(hm, v, b, now);
			for (k = 0; k < hm->n; k++)
				if (!memcmp(&hm->t[k]->vip, &cv->key, sizeof(cv->key)) &&
				    hm->t[k]->family == cb->family &&
				    !memcmp(hm->t[k]->addr, cb->addr, 16))
					t = hm->t[k];
			if (h->type == XLB_CFG_HC_NONE) {
				b->hc_id = -1;
				continue;	/* a target left unvisited goes below */
			}
			/* The same check, and for a data-path probe the same
			 * backend id in its mark: nothing to do. */
			if (t && xlb_cfg_health_equal(&t->h, h) &&
			    t->be_id == (h->datapath ? b->id : 0)) {
				t->visited = true;
				b->hc_id = t->id;
				continue;
			}
			if (t) {
				t->visited = true;	/* replaced now */
				for (k = 0; hm->t[k] != t; k++)
					;
				target_free(hm, k);
			}
			err = target_add(hm, cv, h, b);
			if (err)
				ret = err;
		}
	}
	/* Checks that are gone: their backends count as up again. */
	for (i = 0; i < hm->n;) {
		struct hm_target *t = hm->t[i];
		struct xlb_lb_vip *v;
		struct xlb_lb_backend *b;

		if (t->visited) {
			i++;
			continue;
		}
		b = find_backend(hm->lb, &t->vip, t->addr, t->family, &v);
		if (b) {
			b->hc_id = -1;
			if (b->down || b->hstate == XLB_BS_UNKNOWN)
				apply(hm, v, b, true, "health check removed", now);
		}
		target_free(hm, i);
	}
	if (!hm->synced) {
		hm->synced = true;
		hm->holding = hm->n > 0;
		/* Twice the longest interval (its first probe may come as
		 * late as one interval plus jitter), its timeout, a second
		 * of slack; never more than XLB_HM_HOLD_MAX_MS. */
		for (i = 0; i < cfg->n_vips; i++)
			for (j = 0; j < cfg->vips[i].n_backends; j++) {
				const struct xlb_cfg_health *h =
					xlb_cfg_backend_health(&cfg->vips[i], &cfg->vips[i].backends[j]);
				__u64 b = (__u64)h->interval_ms * 2 + h->timeout_ms + 1000;

				if (h->type != XLB_CFG_HC_NONE && b > bound)
					bound = b;
			}
		hm->hold_until = now + (bound < XLB_HM_HOLD_MAX_MS ? bound : XLB_HM_HOLD_MAX_MS);
		hm->hold_check_at = now + 100;
	}
	if (hm->n_dirty)
		flush(hm, now);	/* configuration changes apply at once */
	arm(hm);
	return ret;
}

int xlb_hm_open(struct xlb_lb *lb, struct xlb_hm **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct xlb_hm *hm = calloc(1, sizeof(*hm));
	int ret;

	if (!hm)
		return -ENOMEM;
	hm->lb = lb;
	hm->epfd = -1;
	hm->tfd = -1;
	hm->flush_at = NEVER;
	hm->ramp_at = NEVER;
	hm->adapt_at = xlb_lb_now_ms() + XLB_HM_ADAPT_MS;
	hm->armed = NEVER;
	ret = xlb_hc_open(&hm->hc);
	if (ret)
		goto err;
	hm->epfd = epoll_create1(EPOLL_CLOEXEC);
	hm->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (hm->epfd < 0 || hm->tfd < 0) {
		ret = -errno;
		goto err;
	}
	ev.data.fd = hm->tfd;
	if (epoll_ctl(hm->epfd, EPOLL_CTL_ADD, hm->tfd, &ev)) {
		ret = -errno;
		goto err;
	}
	ev.data.fd = xlb_hc_fd(hm->hc);
	if (epoll_ctl(hm->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
		ret = -errno;
		goto err;
	}
	arm(hm);
	*out = hm;
	return 0;
err:
	xlb_hm_close(hm);
	return ret;
}

void xlb_hm_close(struct xlb_hm *hm)
{
	__u32 i;

	if (!hm)
		return;
	for (i = 0; i < hm->n; i++) {
		xlb_cfg_health_clear(&hm->t[i]->h);
		free(hm->t[i]);
	}
	free(hm->t);
	free(hm->by_id);
	free(hm->dirty);
	xlb_hc_close(hm->hc);
	if (hm->tfd >= 0)
		close(hm->tfd);
	if (hm->epfd >= 0)
		close(hm->epfd);
	free(hm);
}

int xlb_hm_fd(const struct xlb_hm *hm)
{
	return hm->epfd;
}

struct xlb_hc *xlb_hm_engine(const struct xlb_hm *hm)
{
	return hm->hc;
}

void xlb_hm_get_stats(const struct xlb_hm *hm, struct xlb_hm_stats *st)
{
	*st = hm->st;
	st->holding = hm->holding;
}

bool xlb_hm_needs_datapath(const struct xlb_cfg *cfg)
{
	__u32 i, j;

	for (i = 0; i < cfg->n_vips; i++) {
		const struct xlb_cfg_vip *v = &cfg->vips[i];

		for (j = 0; j < v->n_backends; j++) {
			const struct xlb_cfg_health *h = xlb_cfg_backend_health(v, &v->backends[j]);

			if (h->type != XLB_CFG_HC_NONE && h->datapath)
				return true;
		}
	}
	return false;
}
