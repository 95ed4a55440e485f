/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libxlb: load or adopt the data plane, attach it, and read and write its
 * maps.  Used by the tests, the tools and the daemon.  Every function
 * returns 0 or a negative errno.
 */
#ifndef XLB_LIB_H
#define XLB_LIB_H

#include <stdbool.h>
#include <xlb/xlb.h>

struct xlb;

struct xlb_opts {
	const char *pin_root;	/* NULL: XLB_PIN_ROOT_DEFAULT; "": no pinning */
	__u32 max_vips;		/* 0: XLB_DEF_MAX_VIPS */
	__u32 max_backends;	/* 0: XLB_DEF_MAX_BACKENDS */
	__u32 conntrack_size;	/* 0: XLB_DEF_CONNTRACK */
	__u32 hash_seed;	/* same on every host of a cluster */
};

enum xlb_attach_mode {
	XLB_MODE_NATIVE,	/* driver XDP; fails if the driver lacks it */
	XLB_MODE_GENERIC,	/* skb (generic) XDP, any device */
};

/*
 * Load the data plane.  With a pin root, maps already pinned there are
 * reused (their contents kept) and new ones are pinned.  A fresh config map
 * gets the default outer source prefixes.
 */
int xlb_open(const struct xlb_opts *opts, struct xlb **out);
void xlb_close(struct xlb *x);
int xlb_prog_fd(const struct xlb *x);
const char *xlb_pin_root(const struct xlb *x);
/* fd of one of the data plane's maps, by name macro value (e.g. "xlb_vips_v1") */
int xlb_map_fd(const struct xlb *x, const char *name);

/* Attach to @ifname with a bpf_link pinned as <root>/link_<ifname>. */
int xlb_attach(struct xlb *x, const char *ifname, enum xlb_attach_mode mode);
/* Detach the link pinned for @ifname under @pin_root and remove its pin. */
int xlb_detach(const char *pin_root, const char *ifname);
/* mkdir -p with mode 0700 (for pin directories). */
int xlb_mkdir_p(const char *path);
/* Remove every pin under @pin_root and the directory itself. */
int xlb_unpin_all(const char *pin_root);

/* VIPs: also maintain the address marker and the VIP filter. */
int xlb_vip_set(struct xlb *x, const struct xlb_vip_key *k, const struct xlb_vip *v);
int xlb_vip_del(struct xlb *x, const struct xlb_vip_key *k);
int xlb_vip_get(struct xlb *x, const struct xlb_vip_key *k, struct xlb_vip *v);

int xlb_backend_set(struct xlb *x, __u32 id, const struct xlb_backend *b);
int xlb_backend_get(struct xlb *x, __u32 id, struct xlb_backend *b);
int xlb_backend_del(struct xlb *x, __u32 id);

/*
 * Publish @ring (@m slots of backend ids) for VIP @vip_id: build a new inner
 * map, fill it, then switch with one update of the outer map.  Packets see
 * the old ring or the new one, never a mix.
 */
int xlb_ring_publish(struct xlb *x, __u32 vip_id, const __u32 *ring, __u32 m);
/* Keep / read VIP @vip_id's anchor table (same format; never forwarded on). */
int xlb_anchor_store(struct xlb *x, __u32 vip_id, const __u32 *ring, __u32 m);
int xlb_anchor_read(struct xlb *x, __u32 vip_id, __u32 **ring, __u32 *m);
/* Remove VIP @vip_id's ring and anchor (its packets then drop as no_ring). */
int xlb_ring_clear(struct xlb *x, __u32 vip_id);
/* Read the live ring: *ring is malloc'd (caller frees), *m its size. */
int xlb_ring_read(struct xlb *x, __u32 vip_id, __u32 **ring, __u32 *m);

int xlb_config_get(struct xlb *x, struct xlb_config *c);
int xlb_config_set(struct xlb *x, const struct xlb_config *c);
/* Allow redirects to @ifindex (or stop allowing them). */
int xlb_devmap_add(struct xlb *x, __u32 ifindex);
int xlb_devmap_del(struct xlb *x, __u32 ifindex);

/* Counters summed over CPUs. */
int xlb_stats_global(struct xlb *x, struct xlb_global_stats *out);
int xlb_stats_vip(struct xlb *x, __u32 vip_id, struct xlb_counters *out);
int xlb_stats_backend(struct xlb *x, __u32 id, struct xlb_counters *out);
/* Counters of ids [first, first + n) into out[0..n-1], with batch reads
 * (a few syscalls for thousands of ids, where the calls above cost one
 * each). */
int xlb_stats_vips(struct xlb *x, __u32 first, __u32 n, struct xlb_counters *out);
int xlb_stats_backends(struct xlb *x, __u32 first, __u32 n, struct xlb_counters *out);
/* Zero the counters of VIP/backend @id (before an id is reused). */
int xlb_stats_vip_reset(struct xlb *x, __u32 vip_id);
int xlb_stats_backend_reset(struct xlb *x, __u32 id);

/* Entries in the connection table now (a batch walk: ~1 ms per 100k). */
int xlb_conntrack_count(struct xlb *x, __u64 *n);

/* Name ("no_ring") and kind ("drop", "pass", "event") of a reason. */
const char *xlb_reason_name(int reason);
const char *xlb_reason_kind(int reason);
/*
 * The data plane counts a pass or a drop under its reason only (one
 * increment per packet): add each PASS and DROP reason of @s, summed over
 * CPUs, to its verdict.  xlb_stats_global() does it already; for readers
 * of the raw map.
 */
void xlb_stats_global_fold(struct xlb_global_stats *s);
/* Name of an XDP action ("pass", "tx", ...). */
const char *xlb_verdict_name(int act);

#endif /* XLB_LIB_H */
