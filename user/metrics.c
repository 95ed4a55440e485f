// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * See metrics.h; docs/metrics.md lists every family.  A scrape first
 * collects (one batch read per counter map, label sets built once per VIP
 * and backend, ring info from a cache), then writes family after family,
 * so each family appears once with all its series.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <microhttpd.h>
#include "addr.h"
#include "api.h"
#include "config.h"
#include "expo.h"
#include "health.h"
#include "lb.h"
#include "log.h"
#include "metrics.h"
#include "vipring.h"
#include "xlb.h"

#ifndef XLB_VERSION
#define XLB_VERSION "unknown"
#endif
#ifndef XLB_COMMIT
#define XLB_COMMIT "unknown"
#endif

#define CT_REFRESH_MS	10000		/* a conntrack walk starts this often */
#define CT_STEP_US	2000		/* and runs this long per call */
#define CT_CHUNK	1024		/* entries per batch read */
#define CT_PAUSE_MS	8		/* between steps of a walk (the loop's own work) */
#define CT_IDLE_MS	120000		/* no walks once scrapes stop this long */
#define LABELS_MAX	256

struct xlb_metrics_ring {
	__u64 gen;		/* ring gen the info is of; 0: none */
	int err;		/* xlb_vip_ring_info()'s result */
	struct xlb_ring_info info;
};

/*
 * Kept from one scrape to the next.  A scrape of 10,000 backends needs
 * megabytes; allocated afresh each time they cost page faults (slow in a
 * VM) and, freed, TLB flushes.
 */
struct ct_walk {
	bool active, first;
	__u32 cursor;			/* the batch cursor (a bucket) */
	__u64 partial;			/* entries seen so far */
	__u64 started_us;		/* CLOCK_MONOTONIC of the last start */
	__u64 scraped_us;		/* ... of the last render; 0: none yet */
	struct xlb_flow_key *keys;	/* CT_CHUNK of each */
	struct xlb_flow *vals;
};

struct xlb_metrics_scratch {
	struct ct_walk walk;
	struct xlb_counters *vc, *bc;	/* by VIP id, backend id */
	__u32 vc_n, bc_n;
	char (*vlab)[LABELS_MAX];	/* by VIP index: vip="..." */
	char (*blab)[LABELS_MAX];	/* by backend, VIP after VIP */
	__u32 vlab_n, blab_n;
	struct xlb_metrics_ring *rings;	/* ring info by VIP id, keyed by ring gen */
	__u32 n_rings;
	char *spare;			/* a text given back, for the next render */
	size_t spare_cap;
	char *lent;			/* the last text handed out */
	size_t lent_cap;
};

/* *p holds at least @n elements of @size bytes (grown, never shrunk). */
static int grow(void *p, __u32 *have, __u32 n, size_t size)
{
	void *np;

	if (n <= *have)
		return 0;
	np = realloc(*(void **)p, (size_t)n * size);
	if (!np)
		return -ENOMEM;
	*(void **)p = np;
	*have = n;
	return 0;
}

/* What one scrape collected before writing (arrays in the scratch). */
struct scrape {
	struct xlb_global_stats gs;
	const struct xlb_counters *vc;	/* by VIP id */
	const struct xlb_counters *bc;	/* by backend id */
	char (*vlab)[LABELS_MAX];	/* by VIP index: vip="..." */
	char (*blab)[LABELS_MAX];	/* by backend, VIP after VIP */
	__u32 n_be;
};

static int collect(struct xlb_metrics_src *src, struct scrape *s)
{
	struct xlb_metrics_scratch *sc = src->scratch;
	struct xlb_lb *lb = src->lb;
	__u32 i, j, k, max_vip = 0, max_be = 0;
	char a[XLB_VIP_STRLEN], b[INET6_ADDRSTRLEN];
	size_t l;
	int err;

	for (i = 0; i < lb->n_vips; i++) {
		const struct xlb_lb_vip *v = lb->vips[i];

		if (v->id > max_vip)
			max_vip = v->id;
		for (j = 0; j < v->n_backends; j++)
			if (v->backends[j].id > max_be)
				max_be = v->backends[j].id;
		s->n_be += v->n_backends;
	}
	err = grow(&sc->vc, &sc->vc_n, max_vip + 1, sizeof(*sc->vc)) ?:
	      grow(&sc->bc, &sc->bc_n, max_be + 1, sizeof(*sc->bc)) ?:
	      grow(&sc->vlab, &sc->vlab_n, lb->n_vips + 1, sizeof(*sc->vlab)) ?:
	      grow(&sc->blab, &sc->blab_n, s->n_be + 1, sizeof(*sc->blab));
	if (err)
		goto out;
	s->vc = sc->vc;
	s->bc = sc->bc;
	s->vlab = sc->vlab;
	s->blab = sc->blab;
	err = xlb_stats_global(lb->x, &s->gs);
	if (!err)
		err = xlb_stats_vips(lb->x, 0, max_vip + 1, sc->vc);
	if (!err)
		err = xlb_stats_backends(lb->x, 0, max_be + 1, sc->bc);
	if (err)
		goto out;
	for (i = 0, k = 0; i < lb->n_vips; i++) {
		const struct xlb_lb_vip *v = lb->vips[i];

		xlb_vip_key_fmt(&v->key, a, sizeof(a));
		l = 0;
		err = xlb_expo_label(s->vlab[i], LABELS_MAX, &l, "vip", a);
		for (j = 0; !err && j < v->n_backends; j++, k++) {
			const struct xlb_lb_backend *be = &v->backends[j];
			size_t bl = l;

			xlb_addr_fmt(be->addr, be->family, b, sizeof(b));
			memcpy(s->blab[k], s->vlab[i], l + 1);
			err = xlb_expo_label(s->blab[k], LABELS_MAX, &bl, "backend", b);
		}
		if (err)
			goto out;
	}
out:
	return err;
}

/* The ring's info, recomputed only when its gen changed: a checksum walks
 * the whole ring (65537 slots by default), too slow for every scrape.
 * Rings built by apply have it already; adopted ones are walked once. */
static const struct xlb_metrics_ring *ring_info(struct xlb_metrics_src *src,
						const struct xlb_lb_vip *v)
{
	struct xlb_metrics_scratch *sc = src->scratch;
	struct xlb_metrics_ring *c;

	if (!sc->rings) {
		sc->rings = calloc(src->lb->max_vips, sizeof(*sc->rings));
		if (!sc->rings)
			return NULL;
		sc->n_rings = src->lb->max_vips;
	}
	if (v->id >= sc->n_rings)
		return NULL;
	c = &sc->rings[v->id];
	if (c->gen != v->ring.gen) {
		c->err = xlb_vip_ring_info(&v->ring, &c->info);
		c->gen = v->ring.gen;
	}
	return c;
}

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static struct xlb_metrics_scratch *scratch(struct xlb_metrics_src *src)
{
	if (!src->scratch)
		src->scratch = calloc(1, sizeof(*src->scratch));
	return src->scratch;
}

/*
 * Count the connection table a little at a time.  A full walk costs about
 * 1 us per entry here (half a second for a full 1M-entry table), far too
 * long to stall the daemon's loop; so a walk is cut into steps of at most
 * @budget_us, resumed from the batch cursor on the next call (every
 * dispatch and every scrape), and its total is published when it ends.
 * A new walk starts ct_refresh_ms after the previous one started, and only
 * while someone scrapes (a render in the last CT_IDLE_MS): nobody pays for
 * counts nobody reads.  Entries added or evicted during a walk may be
 * missed or counted twice: a gauge.
 */
static void ct_step(struct xlb_metrics_src *src, __u64 budget_us, bool scrape)
{
	struct xlb_metrics_scratch *sc = scratch(src);
	unsigned int every = src->ct_refresh_ms ? src->ct_refresh_ms : CT_REFRESH_MS;
	struct ct_walk *w;
	__u64 t0 = now_us();
	int fd, ret;

	if (!sc)
		return;
	w = &sc->walk;
	if (!src->ct_capacity) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		fd = xlb_map_fd(src->lb->x, XLB_STR(XLB_MAP_CONNTRACK));
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			src->ct_capacity = info.max_entries;
	}
	if (scrape)
		w->scraped_us = t0;
	if (!w->active) {
		if (w->started_us && t0 - w->started_us < (__u64)every * 1000)
			return;
		if (!w->scraped_us || t0 - w->scraped_us > (__u64)CT_IDLE_MS * 1000)
			return;
		if (!w->keys)
			w->keys = calloc(CT_CHUNK, sizeof(*w->keys));
		if (!w->vals)
			w->vals = calloc(CT_CHUNK, sizeof(*w->vals));
		if (!w->keys || !w->vals)
			return;
		w->active = true;
		w->first = true;
		w->partial = 0;
		w->started_us = t0;
	}
	fd = xlb_map_fd(src->lb->x, XLB_STR(XLB_MAP_CONNTRACK));
	do {
		__u32 count = CT_CHUNK, next = 0;

		ret = bpf_map_lookup_batch(fd, w->first ? NULL : &w->cursor, &next, w->keys,
					   w->vals, &count, NULL);
		if (ret && errno != ENOENT) {
			pr_debug("xlbd: metrics: conntrack walk: %s\n", strerror(errno));
			w->active = false;	/* tried again next period */
			return;
		}
		w->partial += count;
		if (ret) {
			/* ENOENT: that was the last batch. */
			src->ct_entries = w->partial;
			src->ct_read_ms = xlb_lb_now_ms() ?: 1;
			w->active = false;
			return;
		}
		w->cursor = next;
		w->first = false;
	} while (now_us() - t0 < budget_us);
}

static bool be_up(const struct xlb_lb_backend *be)
{
	return be->hstate != XLB_BS_DOWN && !be->down;
}

/* Families of one u64 per backend. */
enum be_field { BE_PACKETS, BE_BYTES, BE_NEW_FLOWS, BE_UP, BE_WEIGHT, BE_EFF_WEIGHT, BE_CHANGES };

static __u64 be_value(const struct scrape *s, const struct xlb_lb_backend *be, enum be_field f)
{
	switch (f) {
	case BE_PACKETS:
		return s->bc[be->id].packets;
	case BE_BYTES:
		return s->bc[be->id].bytes;
	case BE_NEW_FLOWS:
		return s->bc[be->id].new_flows;
	case BE_UP:
		return be_up(be);
	case BE_WEIGHT:
		return be->weight;
	case BE_EFF_WEIGHT:
		return be->eff_weight;
	case BE_CHANGES:
		return be->transitions;
	}
	return 0;
}

static void write_backends(struct xlb_expo *e, struct xlb_metrics_src *src, const struct scrape *s)
{
	static const struct {
		const char *name;
		enum xlb_expo_type type;
		enum be_field f;
		const char *help;
	} fam[] = {
		{ "xlb_backend_packets_total", XLB_EXPO_COUNTER, BE_PACKETS,
		  "Packets the data plane sent to the backend." },
		{ "xlb_backend_bytes_total", XLB_EXPO_COUNTER, BE_BYTES,
		  "Bytes of the frames sent to the backend, as received." },
		{ "xlb_backend_new_flows_total", XLB_EXPO_COUNTER, BE_NEW_FLOWS,
		  "Ring lookups that chose the backend (new flows, re-choices)." },
		{ "xlb_backend_up", XLB_EXPO_GAUGE, BE_UP,
		  "1 unless the backend failed its health checks." },
		{ "xlb_backend_weight", XLB_EXPO_GAUGE, BE_WEIGHT, "Configured weight." },
		{ "xlb_backend_effective_weight", XLB_EXPO_GAUGE, BE_EFF_WEIGHT,
		  "Weight in the live ring now (slow start, drain, health)." },
		{ "xlb_backend_state_changes_total", XLB_EXPO_COUNTER, BE_CHANGES,
		  "Health state changes of the backend." },
	};
	const struct xlb_lb *lb = src->lb;
	double bounds[XLB_HC_LAT_BUCKETS];
	struct xlb_hc_status st;
	bool hist = false;
	__u32 f, i, j, k;
	int h;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		xlb_expo_family(e, fam[f].name, fam[f].type, fam[f].help);
		for (i = 0, k = 0; i < lb->n_vips; i++)
			for (j = 0; j < lb->vips[i]->n_backends; j++, k++)
				xlb_expo_u64(e, s->blab[k], NULL, NULL,
					     be_value(s, &lb->vips[i]->backends[j], fam[f].f));
	}
	xlb_expo_family(e, "xlb_backend_state", XLB_EXPO_GAUGE,
			"1 for the backend's current state, 0 for the others.");
	for (i = 0, k = 0; i < lb->n_vips; i++) {
		for (j = 0; j < lb->vips[i]->n_backends; j++, k++) {
			const struct xlb_lb_backend *be = &lb->vips[i]->backends[j];
			int cur = be->hstate < XLB_BS__COUNT ? be->hstate : XLB_BS_UNKNOWN;

			for (h = 0; h < XLB_BS__COUNT; h++)
				xlb_expo_u64(e, s->blab[k], "state", xlb_be_hstate_name(h), h == cur);
		}
	}
	if (!src->hc)
		return;
	for (h = 0; h < XLB_HC_LAT_BUCKETS; h++)
		bounds[h] = xlb_hc_lat_bounds_us[h] / 1e6;
	for (i = 0, k = 0; i < lb->n_vips; i++) {
		for (j = 0; j < lb->vips[i]->n_backends; j++, k++) {
			const struct xlb_lb_backend *be = &lb->vips[i]->backends[j];

			if (be->hc_id < 0 || xlb_hc_get(src->hc, be->hc_id, &st))
				continue;
			if (!hist)
				xlb_expo_family(e, "xlb_backend_probe_latency_seconds",
						XLB_EXPO_HISTOGRAM,
						"Duration of the backend's health probes, failures included.");
			hist = true;
			xlb_expo_hist(e, s->blab[k], XLB_HC_LAT_BUCKETS, bounds, st.lat_le,
				      st.lat_sum_us / 1e6, st.probes);
		}
	}
}

static void write_vips(struct xlb_expo *e, struct xlb_metrics_src *src, const struct scrape *s)
{
	const struct xlb_lb *lb = src->lb;
	const struct xlb_metrics_ring *r;
	char lab[LABELS_MAX + 48], sum[24];
	__u32 i, j, n;
	size_t l;

	xlb_expo_family(e, "xlb_vip_packets_total", XLB_EXPO_COUNTER,
			"Packets to the VIP that the data plane forwarded or dropped.");
	for (i = 0; i < lb->n_vips; i++)
		xlb_expo_u64(e, s->vlab[i], NULL, NULL, s->vc[lb->vips[i]->id].packets);
	xlb_expo_family(e, "xlb_vip_bytes_total", XLB_EXPO_COUNTER,
			"Bytes of the frames to the VIP, as received.");
	for (i = 0; i < lb->n_vips; i++)
		xlb_expo_u64(e, s->vlab[i], NULL, NULL, s->vc[lb->vips[i]->id].bytes);
	xlb_expo_family(e, "xlb_vip_new_flows_total", XLB_EXPO_COUNTER,
			"Ring lookups for the VIP (new flows, re-choices).");
	for (i = 0; i < lb->n_vips; i++)
		xlb_expo_u64(e, s->vlab[i], NULL, NULL, s->vc[lb->vips[i]->id].new_flows);
	xlb_expo_family(e, "xlb_vip_backends", XLB_EXPO_GAUGE, "Configured backends of the VIP.");
	for (i = 0; i < lb->n_vips; i++)
		xlb_expo_u64(e, s->vlab[i], NULL, NULL, lb->vips[i]->n_backends);
	xlb_expo_family(e, "xlb_vip_healthy_backends", XLB_EXPO_GAUGE,
			"Backends of the VIP that are not down.");
	for (i = 0; i < lb->n_vips; i++) {
		for (j = 0, n = 0; j < lb->vips[i]->n_backends; j++)
			n += be_up(&lb->vips[i]->backends[j]);
		xlb_expo_u64(e, s->vlab[i], NULL, NULL, n);
	}
	xlb_expo_family(e, "xlb_vip_ring_rebuilds_total", XLB_EXPO_COUNTER,
			"Live rings published for the VIP by this xlbd.");
	for (i = 0; i < lb->n_vips; i++)
		xlb_expo_u64(e, s->vlab[i], NULL, NULL, lb->vips[i]->ring.publishes);
	xlb_expo_family(e, "xlb_vip_ring_slots", XLB_EXPO_GAUGE, "Size M of the VIP's ring.");
	for (i = 0; i < lb->n_vips; i++)
		xlb_expo_u64(e, s->vlab[i], NULL, NULL, lb->vips[i]->ring.m);
	xlb_expo_family(e, "xlb_vip_ring_empty_slots", XLB_EXPO_GAUGE,
			"Slots of the live ring with no backend (their packets drop).");
	for (i = 0; i < lb->n_vips; i++) {
		r = ring_info(src, lb->vips[i]);
		if (r && !r->err)
			xlb_expo_u64(e, s->vlab[i], NULL, NULL, r->info.stats.empty);
	}
	xlb_expo_family(e, "xlb_vip_ring_imbalance", XLB_EXPO_GAUGE,
			"Largest slot share of a backend over its weighted mean (1: even).");
	for (i = 0; i < lb->n_vips; i++) {
		r = ring_info(src, lb->vips[i]);
		if (r && !r->err)
			xlb_expo_f64(e, s->vlab[i], NULL, NULL, r->info.stats.max_ratio);
	}
	xlb_expo_family(e, "xlb_vip_ring_info", XLB_EXPO_GAUGE,
			"Always 1; label checksum is the live ring's 64-bit checksum, equal on "
			"every host with the same configuration (compare the label, not a value).");
	for (i = 0; i < lb->n_vips; i++) {
		r = ring_info(src, lb->vips[i]);
		if (!r || r->err)
			continue;
		snprintf(sum, sizeof(sum), "0x%016llx", (unsigned long long)r->info.live_checksum);
		l = strlen(s->vlab[i]);
		memcpy(lab, s->vlab[i], l + 1);
		if (!xlb_expo_label(lab, sizeof(lab), &l, "checksum", sum))
			xlb_expo_u64(e, lab, NULL, NULL, 1);
	}
}

static void write_global(struct xlb_expo *e, struct xlb_metrics_src *src, const struct scrape *s)
{
	static const int fib[] = { XLB_R_NO_ROUTE, XLB_R_NO_NEIGH, XLB_R_FRAG_NEEDED,
				   XLB_R_FIB_STATIC };
	char lab[LABELS_MAX];
	const char *name, *mode;
	size_t l, i;
	int r;

	xlb_expo_family(e, "xlb_packets_total", XLB_EXPO_COUNTER,
			"Packets the XDP program handled, by verdict.");
	for (r = 0; r < 5; r++)
		xlb_expo_u64(e, NULL, "verdict", xlb_verdict_name(r), s->gs.verdict[r]);
	xlb_expo_family(e, "xlb_drops_total", XLB_EXPO_COUNTER,
			"Packets the data plane dropped, by reason (one reason per drop).");
	for (r = 0; r < XLB_R_MAX; r++)
		if (!strcmp(xlb_reason_kind(r), "drop"))
			xlb_expo_u64(e, NULL, "reason", xlb_reason_name(r), s->gs.reason[r]);
	xlb_expo_family(e, "xlb_events_total", XLB_EXPO_COUNTER,
			"Packets passed to the kernel, and other events, by reason.");
	for (r = 0; r < XLB_R_MAX; r++)
		if (strcmp(xlb_reason_kind(r), "drop"))
			xlb_expo_u64(e, NULL, "reason", xlb_reason_name(r), s->gs.reason[r]);
	xlb_expo_family(e, "xlb_fib_failures_total", XLB_EXPO_COUNTER,
			"FIB lookups that gave no usable next hop, by outcome (the same "
			"packets are also in xlb_drops_total or xlb_events_total).");
	for (i = 0; i < sizeof(fib) / sizeof(fib[0]); i++)
		xlb_expo_u64(e, NULL, "reason", xlb_reason_name(fib[i]), s->gs.reason[fib[i]]);

	ct_step(src, CT_STEP_US, true);
	if (src->ct_read_ms) {
		xlb_expo_family(e, "xlb_conntrack_entries", XLB_EXPO_GAUGE,
				"Entries in the connection table (counted at most every few seconds).");
		xlb_expo_u64(e, NULL, NULL, NULL, src->ct_entries);
	}
	if (src->ct_capacity) {
		xlb_expo_family(e, "xlb_conntrack_capacity", XLB_EXPO_GAUGE,
				"Size of the connection table (LRU: full evicts the oldest flows).");
		xlb_expo_u64(e, NULL, NULL, NULL, src->ct_capacity);
	}

	xlb_expo_family(e, "xlb_xdp_attached", XLB_EXPO_GAUGE,
			"1 for every interface xlbd attached to or adopted, with its XDP mode.");
	for (i = 0; src->ifaces && i < json_array_size(src->ifaces); i++) {
		json_t *o = json_array_get(src->ifaces, i);

		name = json_string_value(json_object_get(o, "name"));
		mode = json_string_value(json_object_get(o, "mode"));
		l = 0;
		if (name && mode && !xlb_expo_label(lab, sizeof(lab), &l, "interface", name) &&
		    !xlb_expo_label(lab, sizeof(lab), &l, "mode", mode))
			xlb_expo_u64(e, lab, NULL, NULL, 1);
	}

	xlb_expo_family(e, "xlb_build_info", XLB_EXPO_GAUGE, "Always 1; labels: the build.");
	l = 0;
	if (!xlb_expo_label(lab, sizeof(lab), &l, "version", XLB_VERSION) &&
	    !xlb_expo_label(lab, sizeof(lab), &l, "commit", XLB_COMMIT))
		xlb_expo_u64(e, lab, NULL, NULL, 1);
}

static void write_daemon(struct xlb_expo *e, const struct xlb_metrics_src *src)
{
	const struct xlb_api *a = src->api;

	if (src->start_time > 0) {
		xlb_expo_family(e, "xlb_daemon_start_time_seconds", XLB_EXPO_GAUGE,
				"When xlbd started, in seconds since the epoch.");
		xlb_expo_f64(e, NULL, NULL, NULL, src->start_time);
	}
	if (!a)
		return;
	xlb_expo_family(e, "xlb_config_reloads_total", XLB_EXPO_COUNTER,
			"Reloads of the config file asked for (SIGHUP, xlbctl config reload).");
	xlb_expo_u64(e, NULL, NULL, NULL, a->reloads);
	xlb_expo_family(e, "xlb_config_reload_failures_total", XLB_EXPO_COUNTER,
			"Reloads refused (invalid file, or the data plane refused it).");
	xlb_expo_u64(e, NULL, NULL, NULL, a->reload_failures);
	xlb_expo_family(e, "xlb_control_requests_total", XLB_EXPO_COUNTER,
			"Requests on the control socket.");
	xlb_expo_u64(e, NULL, NULL, NULL, a->requests);
	xlb_expo_family(e, "xlb_control_errors_total", XLB_EXPO_COUNTER,
			"Requests on the control socket that failed.");
	xlb_expo_u64(e, NULL, NULL, NULL, a->errors);
}

int xlb_metrics_render(struct xlb_metrics_src *src, char **text, size_t *len)
{
	struct xlb_metrics_scratch *sc;
	struct scrape s = {};
	struct xlb_expo e;
	size_t cap;
	int err;

	if (!src || !src->lb || !text || !len)
		return -EINVAL;
	sc = scratch(src);
	if (!sc)
		return -ENOMEM;
	err = collect(src, &s);
	if (err)
		return err;
	/* The spare buffer, or one a little larger than the last text. */
	err = xlb_expo_init(&e, sc->spare, sc->spare ? sc->spare_cap : sc->lent_cap);
	sc->spare = NULL;
	if (err)
		return err;
	write_backends(&e, src, &s);
	write_vips(&e, src, &s);
	write_global(&e, src, &s);
	write_daemon(&e, src);
	cap = e.cap;
	err = xlb_expo_finish(&e, text, len);
	if (!err) {
		sc->lent = *text;
		sc->lent_cap = cap;
	}
	return err;
}

void xlb_metrics_text_put(struct xlb_metrics_src *src, char *text)
{
	struct xlb_metrics_scratch *sc = src ? src->scratch : NULL;

	if (!text)
		return;
	if (sc && text == sc->lent && !sc->spare) {
		sc->spare = text;
		sc->spare_cap = sc->lent_cap;
		sc->lent = NULL;
		return;
	}
	if (sc && text == sc->lent)
		sc->lent = NULL;
	free(text);
}

void xlb_metrics_src_release(struct xlb_metrics_src *src)
{
	struct xlb_metrics_scratch *sc = src ? src->scratch : NULL;

	if (!sc)
		return;
	free(sc->vc);
	free(sc->bc);
	free(sc->vlab);
	free(sc->blab);
	free(sc->rings);
	free(sc->spare);
	free(sc->walk.keys);
	free(sc->walk.vals);
	free(sc);
	src->scratch = NULL;
}

/* ---------------------------------------------------------------- HTTP */

struct xlb_metrics {
	struct MHD_Daemon *d;
	struct xlb_metrics_src *src;
	__u64 scrapes;
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int status, const char *body,
			       const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A body MHD is sending; back to the renderer once sent (or dropped). */
struct lent_text {
	struct xlb_metrics *m;
	char *text;
};

static void text_done(void *cls)
{
	struct lent_text *t = cls;

	xlb_metrics_text_put(t->m->src, t->text);
	free(t);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req_ctx)
{
	struct xlb_metrics *m = cls;
	struct lent_text *t = NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;
	__u64 t0 = xlb_lb_now_ms();
	char *text = NULL;
	size_t len = 0;
	int err;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req_ctx;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET or HEAD\n",
			       "GET, HEAD");
	if (strcmp(url, "/metrics"))
		return respond(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n",
			       NULL);
	t = malloc(sizeof(*t));
	err = t ? xlb_metrics_render(m->src, &text, &len) : -ENOMEM;
	if (err) {
		free(t);
		pr_warn("xlbd: metrics: rendering failed: %s\n", strerror(-err));
		return respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering the metrics failed\n",
			       NULL);
	}
	t->m = m;
	t->text = text;
	r = MHD_create_response_from_buffer_with_free_callback_cls(len, text, text_done, t);
	if (!r) {
		xlb_metrics_text_put(m->src, text);
		free(t);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	m->scrapes++;
	pr_debug("xlbd: metrics: %zu bytes rendered in %llu ms\n", len,
		 (unsigned long long)(xlb_lb_now_ms() - t0));
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pr_info("xlbd: metrics: %s%s", msg, msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

/* Our own listener, so that a bind failure gets its errno in our message. */
static int listen_on(const struct xlb_metrics_opts *o, int *out)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} sa = {};
	socklen_t slen;
	int fd = -1, one = 1, err;

	if (o->family == XLB_AF_INET) {
		sa.v4.sin_family = AF_INET;
		sa.v4.sin_port = htons(o->port);
		memcpy(&sa.v4.sin_addr, o->addr, 4);
		slen = sizeof(sa.v4);
	} else if (o->family == XLB_AF_INET6) {
		sa.v6.sin6_family = AF_INET6;
		sa.v6.sin6_port = htons(o->port);
		memcpy(&sa.v6.sin6_addr, o->addr, 16);
		slen = sizeof(sa.v6);
	} else {
		return -EINVAL;
	}
	if (!o->port)
		return -EINVAL;
	fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (o->family == XLB_AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, &sa.sa, slen) || listen(fd, 64)) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

void xlb_metrics_opts_from_cfg(const struct xlb_cfg *cfg, struct xlb_metrics_opts *o)
{
	memset(o, 0, sizeof(*o));
	memcpy(o->addr, cfg->metrics.addr, sizeof(o->addr));
	o->family = cfg->metrics.family;
	o->port = cfg->metrics.port;
}

int xlb_metrics_open(const struct xlb_metrics_opts *o, struct xlb_metrics_src *src,
		     struct xlb_metrics **out)
{
	struct xlb_metrics *m = NULL;
	char a[INET6_ADDRSTRLEN];
	unsigned int flags;
	int fd = -1, err;

	*out = NULL;
	if (!o || !src || !src->lb)
		return -EINVAL;
	xlb_addr_fmt(o->addr, o->family, a, sizeof(a));
	err = listen_on(o, &fd);
	if (err) {
		pr_warn("xlbd: metrics: cannot listen on %s%s%s:%u: %s (set metrics.listen)\n",
			o->family == XLB_AF_INET6 ? "[" : "", a,
			o->family == XLB_AF_INET6 ? "]" : "", o->port, strerror(-err));
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		err = -ENOMEM;
		goto out;
	}
	m->src = src;
	if (src->start_time <= 0)
		src->start_time = (double)time(NULL);
	flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (o->family == XLB_AF_INET6 ? MHD_USE_IPv6 : 0);
	m->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, m, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)(o->max_conns ? o->max_conns : XLB_METRICS_MAX_CONNS),
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)(o->timeout_s ? o->timeout_s : XLB_METRICS_TIMEOUT_S),
		MHD_OPTION_END);
	if (!m->d) {
		pr_warn("xlbd: metrics: the HTTP server did not start\n");
		err = -EIO;
		goto out;
	}
	fd = -1;	/* the daemon's now */
	pr_info("xlbd: metrics on http://%s%s%s:%u/metrics\n", o->family == XLB_AF_INET6 ? "[" : "",
		a, o->family == XLB_AF_INET6 ? "]" : "", o->port);
	*out = m;
	m = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(m);
	return err;
}

int xlb_metrics_fd(const struct xlb_metrics *m)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

int xlb_metrics_dispatch(struct xlb_metrics *m)
{
	int err = MHD_run(m->d) == MHD_YES ? 0 : -EIO;

	ct_step(m->src, CT_STEP_US, false);
	return err;
}

int xlb_metrics_next_timeout_ms(struct xlb_metrics *m)
{
	struct xlb_metrics_scratch *sc = m->src->scratch;
	MHD_UNSIGNED_LONG_LONG t;
	int walk = sc && sc->walk.active ? CT_PAUSE_MS : -1;

	if (MHD_get_timeout(m->d, &t) != MHD_YES)
		return walk;
	if (walk >= 0 && t > (MHD_UNSIGNED_LONG_LONG)walk)
		return walk;
	return t > INT_MAX ? INT_MAX : (int)t;
}

void xlb_metrics_close(struct xlb_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
