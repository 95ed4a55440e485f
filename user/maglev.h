/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maglev table builder: which backend owns each slot of a VIP's ring.
 * Pure C, no libbpf, no floating point in any decision, so the unit tests
 * need no root and every host computes byte-identical tables.
 *
 * A table depends only on the set of (identity, weight, state), the seed
 * and M (maglev_build), or additionally on the previous table
 * (maglev_rebuild).  Never on backend ids or on the order of the input.
 * docs/maglev.md has the algorithm and what operators must do to keep
 * hosts identical.  Every int function returns 0 or a negative errno.
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <stdbool.h>
#include <linux/types.h>
#include <xlb/xlb.h>

#define MAGLEV_IDENT_MAX	32	/* bytes of a backend identity */
#define MAGLEV_MAX_BACKENDS	65536	/* per VIP */
#define MAGLEV_MAX_M		XLB_MAX_RING_SIZE
#define MAGLEV_NONE		0xffffffffU	/* struct maglev_table.owner: unset */

enum maglev_state {
	MAGLEV_UP,	/* takes a share of the slots in proportion to its weight */
	MAGLEV_DRAIN,	/* no slots: no new flows; conntrack keeps the old ones */
	MAGLEV_DOWN,	/* no slots: failed its health checks */
};

/*
 * One backend of a VIP.  The identity is what Maglev hashes, sorts by and
 * checksums, so it must be the same on every host and must not change
 * when the backend is re-added: use maglev_ident_addr().  The id is only
 * copied into the ring, because two hosts may number the same backend
 * differently.
 */
struct maglev_backend {
	__u32 id;		/* data-plane backend id, nonzero, distinct in a VIP */
	__u32 weight;		/* relative share; 0 gets no slots */
	__u8 state;		/* enum maglev_state */
	__u8 ident_len;		/* 1..MAGLEV_IDENT_MAX */
	__u8 pad[2];
	__u8 ident[MAGLEV_IDENT_MAX];	/* opaque bytes, compared with memcmp */
};

/*
 * A built table.  Read-only for callers; free with maglev_free().  be[]
 * holds copies of the input in canonical order (by identity), and owner[]
 * and slots[] index into it.
 */
struct maglev_table {
	__u32 m;		/* ring size, prime */
	__u32 n;		/* entries in be[] (all inputs, any state) */
	__u32 seed;
	__u32 empty;		/* unset slots: 0, or m when no backend is up */
	__u32 *ring;		/* m backend ids (0 = unset): for xlb_ring_publish() */
	__u32 *owner;		/* m indices into be[], MAGLEV_NONE = unset */
	__u32 *slots;		/* n: slots owned by be[i] */
	struct maglev_backend *be;
};

struct maglev_stats {
	__u32 backends;		/* backends up with weight > 0 */
	__u32 empty;		/* unset slots */
	/*
	 * slots / (M * weight / total weight) over the backends up with
	 * weight > 0: the mean is 1 when no slot is empty, so max_ratio is
	 * the max/mean imbalance.  Display only: no decision uses them.
	 */
	double max_ratio;
	double min_ratio;
};

/* Slots moved between two tables of the same M, compared by identity. */
struct maglev_move {
	__u32 moved;		/* slots whose owner's identity differs */
	__u32 necessary;	/* sum over identities of max(0, slots before - slots after) */
	__u32 unnecessary;	/* moved - necessary */
};

/* True if @m is prime and 2 <= m <= MAGLEV_MAX_M. */
bool maglev_valid_m(__u32 m);

/*
 * Fill @b's identity from an address (@addr NBO, IPv4 in addr[0]) and a
 * port (NBO, 0 when the backend has none): family byte, address bytes and
 * port bytes in network order, so the bytes are the same on any host.
 */
int maglev_ident_addr(struct maglev_backend *b, __u8 family, const __u32 addr[4], __u16 port);

/*
 * Build a table from scratch: the Maglev population, with weights.  The
 * result depends only on the set of (identity, weight, state), @seed and
 * @m.  Backends that are up with weight > 0 share all m slots (see
 * docs/maglev.md for the share rule); when there is none, the ring is all
 * zero (every slot unset) and 0 is returned, because "no backend usable"
 * is a state the data plane must express (it drops as ring_empty_slot).
 *
 * Returns -EINVAL, with *err (if @err is not NULL) pointing to a static
 * message, when @m is not a prime in [2, MAGLEV_MAX_M], when n is above
 * MAGLEV_MAX_BACKENDS, on an identity length out of range, an unknown
 * state, an id of 0, or a duplicate identity or id.  -ENOMEM.
 */
int maglev_build(const struct maglev_backend *be, __u32 n, __u32 m, __u32 seed,
		 struct maglev_table **out, const char **err);

/*
 * Build a table that moves as few slots as possible from @prev: each
 * backend's share is computed as in maglev_build(), every slot whose
 * previous owner is still up and within its new share keeps it, and only
 * the rest are given out, in Maglev preference order.  Only the minimum
 * number of slots changes owner.
 *
 * The result depends on @prev as well, so hosts stay identical only if
 * they apply the same sequence of configurations starting from the same
 * table.  Chain it for configuration changes (the anchor); for health
 * changes, which hosts see differently, rebuild from the anchor instead
 * of from the previous live table (docs/maglev.md).  @prev NULL is maglev_build(); an all-unset
 * @prev gives exactly maglev_build()'s table.  @prev->m must equal @m
 * (-EINVAL otherwise: changing M reshuffles everything, so build afresh).
 * @prev's ids are ignored: owners are matched by identity.  Other errors
 * as maglev_build().
 */
int maglev_rebuild(const struct maglev_table *prev, const struct maglev_backend *be, __u32 n,
		   __u32 m, __u32 seed, struct maglev_table **out, const char **err);

/*
 * Wrap a live ring (@m backend ids, e.g. from xlb_ring_read()) and the
 * backends its ids name into a table, to use as maglev_rebuild()'s @prev
 * after a restart.  Slots with id 0 or an id not in @be are unset.
 * Validation as maglev_build().
 */
int maglev_from_ring(const __u32 *ring, __u32 m, const struct maglev_backend *be, __u32 n,
		     struct maglev_table **out, const char **err);

void maglev_free(struct maglev_table *t);

/*
 * *sum = 64-bit FNV-1a over M and each slot's owner identity
 * (docs/maglev.md gives the exact bytes).  Ids are left out, so two hosts
 * that numbered the same backends differently agree when their flows
 * agree.  About 0.65 ms at M = 65537: compute it on demand.
 */
int maglev_checksum(const struct maglev_table *t, __u64 *sum);

int maglev_stats(const struct maglev_table *t, struct maglev_stats *st);

/* How many slots changed owner from @a to @b; -EINVAL if their M differ. */
int maglev_movement(const struct maglev_table *a, const struct maglev_table *b,
		    struct maglev_move *mv);

#endif /* XLB_MAGLEV_H */
