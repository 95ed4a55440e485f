// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Maglev table builder: see maglev.h and docs/maglev.md.
 *
 * Every decision uses fixed-width integer arithmetic on values that are
 * the same on every host: identities are hashed as bytes, sorted with
 * memcmp, and no floating point, pointer value or host byte order takes
 * part.  Floating point appears only in maglev_stats(), for display.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xlb/hash.h>
#include "maglev.h"

/* Seeds of the two per-backend hashes: distinct so offset and skip are independent. */
#define MAGLEV_SEED_OFFSET	0x2c9277b5U
#define MAGLEV_SEED_SKIP	0xac4c1b51U

#define FNV64_BASIS		0xcbf29ce484222325ULL
#define FNV64_PRIME		0x100000001b3ULL

bool maglev_valid_m(__u32 m)
{
	__u32 d;

	if (m < 2 || m > MAGLEV_MAX_M)
		return false;
	if (m % 2 == 0)
		return m == 2;
	for (d = 3; d * d <= m; d += 2)
		if (m % d == 0)
			return false;
	return true;
}

int maglev_ident_addr(struct maglev_backend *b, __u8 family, const __u32 addr[4], __u16 port)
{
	size_t alen;

	if (family == XLB_AF_INET)
		alen = 4;
	else if (family == XLB_AF_INET6)
		alen = 16;
	else
		return -EINVAL;
	/* addr and port are NBO, so their bytes are in wire order on any host. */
	memset(b->ident, 0, sizeof(b->ident));
	b->ident[0] = family;
	memcpy(&b->ident[1], addr, alen);
	memcpy(&b->ident[1 + alen], &port, 2);
	b->ident_len = (__u8)(1 + alen + 2);
	return 0;
}

static int ident_cmp(const struct maglev_backend *a, const struct maglev_backend *b)
{
	int c = memcmp(a->ident, b->ident, a->ident_len < b->ident_len ? a->ident_len : b->ident_len);

	if (c)
		return c;
	return (int)a->ident_len - (int)b->ident_len;
}

static int be_cmp(const void *a, const void *b)
{
	return ident_cmp(a, b);
}

static int u32_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * murmur3 over the identity bytes.  Words are assembled from bytes
 * explicitly (little-endian), never loaded, so the value is the same on
 * hosts of either byte order.
 */
static __u32 ident_hash(const struct maglev_backend *b, __u32 seed)
{
	__u32 h = seed, k, i, j, len = b->ident_len;

	for (i = 0; i + 4 <= len; i += 4) {
		k = (__u32)b->ident[i] | (__u32)b->ident[i + 1] << 8 |
		    (__u32)b->ident[i + 2] << 16 | (__u32)b->ident[i + 3] << 24;
		h = xlb_mix(h, k);
	}
	if (i < len) {
		k = 0;
		for (j = 0; i + j < len; j++)
			k |= (__u32)b->ident[i + j] << (8 * j);
		h = xlb_mix(h, k);
	}
	return xlb_fmix(h, len);
}

static __u64 fnv1a(__u64 h, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

/* Up with weight > 0: the only backends that get slots. */
static __u32 eff_weight(const struct maglev_backend *b)
{
	return b->state == MAGLEV_UP ? b->weight : 0;
}

static void set_err(const char **err, const char *msg)
{
	if (err)
		*err = msg;
}

/*
 * One allocation for the table and its arrays: a process that rebuilds
 * rings over and over then reuses the same heap memory instead of
 * faulting fresh pages in every time.  The ring is not cleared: the
 * builders write every slot.
 */
static struct maglev_table *table_alloc(__u32 m, __u32 n)
{
	size_t arr = ((size_t)2 * m + n) * sizeof(__u32);
	struct maglev_table *t;

	/* the struct and the u32 arrays keep be[] 8-byte aligned */
	arr = (arr + 7) & ~(size_t)7;
	t = malloc(sizeof(*t) + arr + (size_t)n * sizeof(*t->be));
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->m = m;
	t->n = n;
	t->ring = (__u32 *)(t + 1);
	t->owner = t->ring + m;
	t->slots = t->owner + m;
	t->be = (struct maglev_backend *)((char *)(t + 1) + arr);
	memset(t->owner, 0xff, (size_t)m * sizeof(*t->owner));
	memset(t->slots, 0, (size_t)n * sizeof(*t->slots));
	return t;
}

void maglev_free(struct maglev_table *t)
{
	free(t);
}

/*
 * Validate the input and allocate a table holding it in canonical order
 * (sorted by identity), which is what makes the result independent of the
 * caller's order.
 */
static int table_new(const struct maglev_backend *be, __u32 n, __u32 m,
		     struct maglev_table **out, const char **err)
{
	struct maglev_table *t = NULL;
	__u32 *ids = NULL, i;
	int ret = -EINVAL;

	if (!maglev_valid_m(m)) {
		set_err(err, "ring size must be a prime between 2 and 1048573");
		goto out;
	}
	if (n > MAGLEV_MAX_BACKENDS) {
		set_err(err, "too many backends for one VIP (at most 65536)");
		goto out;
	}
	if (n && !be) {
		set_err(err, "no backend array");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!be[i].ident_len || be[i].ident_len > MAGLEV_IDENT_MAX) {
			set_err(err, "backend identity length must be 1..32 bytes");
			goto out;
		}
		if (be[i].state > MAGLEV_DOWN) {
			set_err(err, "unknown backend state");
			goto out;
		}
		if (!be[i].id) {
			set_err(err, "backend id 0 is reserved");
			goto out;
		}
	}
	ret = -ENOMEM;
	t = table_alloc(m, n);
	ids = malloc((n ? n : 1) * sizeof(*ids));
	if (!t || !ids)
		goto out;
	if (n)
		memcpy(t->be, be, (size_t)n * sizeof(*be));
	qsort(t->be, n, sizeof(*t->be), be_cmp);
	for (i = 0; i < n; i++)
		ids[i] = t->be[i].id;
	qsort(ids, n, sizeof(*ids), u32_cmp);
	ret = -EINVAL;
	for (i = 1; i < n; i++) {
		if (!ident_cmp(&t->be[i - 1], &t->be[i])) {
			set_err(err, "duplicate backend identity");
			goto out;
		}
		if (ids[i - 1] == ids[i]) {
			set_err(err, "duplicate backend id");
			goto out;
		}
	}
	*out = t;
	t = NULL;
	ret = 0;
out:
	free(ids);
	maglev_free(t);
	return ret;
}

/*
 * Slot heap for the share computation.  The order is the one in which the
 * highest-averages procedure hands out seats: by priority w / (q + 1/2),
 * higher first, ties to the lower canonical index.  Priorities are
 * compared as 2w / (2q + 1) by cross-multiplication: w < 2^32 and
 * 2q + 1 < 2^22, so the products fit in 64 bits exactly.
 */
struct share_heap {
	__u32 *h;
	__u32 len;
	const __u32 *w, *q;
	int dq;		/* +1: priority of the next seat, -1: of the last one held */
};

/* Does @a come before @b in the seat order? */
static bool seat_before(const struct share_heap *s, __u32 a, __u32 b)
{
	__u64 la = (__u64)s->w[a] * (2 * (__u64)s->q[b] + s->dq);
	__u64 lb = (__u64)s->w[b] * (2 * (__u64)s->q[a] + s->dq);

	if (la != lb)
		return la > lb;
	return a < b;
}

/* The heap's top is the first in seat order (adding) or the last (removing). */
static bool heap_above(const struct share_heap *s, __u32 a, __u32 b)
{
	return s->dq > 0 ? seat_before(s, a, b) : seat_before(s, b, a);
}

static void heap_down(struct share_heap *s, __u32 i)
{
	__u32 c, tmp;

	for (;;) {
		c = 2 * i + 1;
		if (c >= s->len)
			return;
		if (c + 1 < s->len && heap_above(s, s->h[c + 1], s->h[c]))
			c++;
		if (!heap_above(s, s->h[c], s->h[i]))
			return;
		tmp = s->h[c];
		s->h[c] = s->h[i];
		s->h[i] = tmp;
		i = c;
	}
}

/*
 * Shares by the Sainte-Laguë (Webster) divisor method: q[i] is w[i]/d
 * rounded half up, for the divisor d that makes the shares sum to m; ties
 * go to the lower canonical index.  Why a divisor method rather than
 * largest remainders: it is population-monotone.  When one backend is
 * added, removed or re-weighted, no other backend's share moves against
 * the change, so maglev_rebuild() never moves a slot between two
 * backends the change did not touch.  Equal weights still get floor or
 * ceil of m/n.
 *
 * Computed as: round every share at d = W/m, then hand out or take back
 * the few seats the rounding missed, in seat order.  The result is the
 * first m seats of the seat order, which is the definition.
 */
static int shares(const __u32 *w, __u32 n, __u32 m, __u32 *q)
{
	struct share_heap s = { .w = w, .q = q };
	__u64 W = 0, sum = 0;
	__u32 i, top;
	int ret = 0;

	for (i = 0; i < n; i++)
		W += w[i];
	if (!W) {
		memset(q, 0, (size_t)n * sizeof(*q));
		goto out;
	}
	for (i = 0; i < n; i++) {
		/* m < 2^21, w < 2^32, W < 2^49: exact in 64 bits */
		q[i] = (__u32)((2 * (__u64)m * w[i] + W) / (2 * W));
		sum += q[i];
	}
	if (sum == m)
		goto out;
	s.h = malloc((size_t)n * sizeof(*s.h));
	if (!s.h) {
		ret = -ENOMEM;
		goto out;
	}
	s.dq = sum < m ? 1 : -1;
	for (i = 0; i < n; i++)
		if (w[i] && (s.dq > 0 || q[i]))
			s.h[s.len++] = i;
	for (i = s.len / 2; i-- > 0;)
		heap_down(&s, i);
	while (sum != m) {
		top = s.h[0];
		if (s.dq > 0) {
			q[top]++;
			sum++;
		} else {
			q[top]--;
			sum--;
			if (!q[top])
				s.h[0] = s.h[--s.len];
		}
		heap_down(&s, 0);
	}
out:
	free(s.h);
	return ret;
}

/* Per-backend state of the population loop. */
struct turn {
	__u32 pos;	/* next position of the walk along the permutation */
	__u32 skip;
	__u32 off;	/* position 0 of the permutation */
	__u32 inv;	/* skip^-1 mod m; 0 until the tail needs it */
	__u32 taken;	/* turns taken so far */
	__u32 next;	/* next backend in the same pass */
};

/* a^-1 mod m for prime m and 0 < a < m (extended Euclid). */
static __u32 inv_mod(__u32 a, __u32 m)
{
	__s64 t = 0, nt = 1, r = m, nr = a, q, tmp;

	while (nr) {
		q = r / nr;
		tmp = t - q * nt;
		t = nt;
		nt = tmp;
		tmp = r - q * nr;
		r = nr;
		nr = tmp;
	}
	return (__u32)(t < 0 ? t + m : t);
}

/*
 * a * b mod m for a, b < m <= 2^20, with mu = floor(2^44 / m) and no
 * division: x * mu < m * 2^44 < 2^64, and the quotient estimate is off
 * by at most x / 2^44 < 1/16, so one correction step is enough.
 */
static inline __u32 mulmod(__u32 a, __u32 b, __u32 m, __u64 mu)
{
	__u64 x = (__u64)a * b, r = x - ((x * mu) >> 44) * m;

	return (__u32)(r >= m ? r - m : r);
}

/*
 * The Maglev population over the free slots (owner[s] == MAGLEV_NONE):
 * backend i takes cap[i] slots, each the first free slot along its
 * permutation off, off + skip, off + 2 skip, ... (mod m).
 *
 * Turns are weighted round robin: backend i's k-th turn comes in pass
 * floor(k * wmax / w[i]), so a backend with half the weight turns every
 * other pass, and with equal weights every backend turns once per pass in
 * canonical order, which is the paper's loop.  Passes are buckets of a
 * calendar, which costs O(m + n) however skewed the weights are.  cap[]
 * is exact, so a backend stops at its share and the counts never depend
 * on the order of turns.  The caller guarantees sum(cap) = @nfree, the
 * number of free slots.
 *
 * The tail: a walk costs m / (free slots) probes, so the last few slots
 * would cost most of the build.  Once at most @tail slots are free, a
 * turn instead takes the free slot of lowest rank in the backend's
 * permutation, rank(s) = (s - off) * skip^-1 mod m.  It is the same slot
 * the walk would reach: every slot of lower rank was passed by the walk
 * and was taken then, and a taken slot stays taken.  So the table is the
 * paper's, at about half the cost.
 */
static int populate(struct maglev_table *t, const __u32 *w, const __u32 *cap, __u32 nfree,
		    __u32 seed)
{
	__u32 m = t->m, n = t->n, npass = 0, wmax = 0, ntail, nfs = 0;
	__u32 i, k, p, s, pos, skip, nx, tp, r, best, rbest;
	__u32 *head, *tail, *fs;
	struct turn *tu;
	__u64 *occ, last, mu = (1ULL << 44) / m;
	size_t sz_tu, sz_occ, sz_pass;
	bool in_tail = false;
	char *mem = NULL;
	int ret = 0;

	for (i = 0; i < n; i++)
		if (cap[i] && w[i] > wmax)
			wmax = w[i];
	if (!wmax || !nfree)
		goto out;
	for (i = 0; i < n; i++) {
		if (!cap[i])
			continue;
		/* (cap - 1) * wmax / w < m * wmax / W <= m: the pass index fits */
		last = (__u64)(cap[i] - 1) * wmax / w[i];
		if (last + 1 > npass)
			npass = (__u32)(last + 1);
	}
	/*
	 * ceil(sqrt(m)): the walks to fill the last t slots cost about
	 * m ln(t) probes and the scans t^2 / 2 ranks; measured best near here.
	 */
	for (ntail = 1; (__u64)ntail * ntail < m; ntail++)
		;
	sz_tu = ((size_t)n * sizeof(*tu) + 7) & ~(size_t)7;
	sz_occ = (size_t)(m + 63) / 64 * sizeof(*occ);
	sz_pass = (size_t)npass * sizeof(*head);
	mem = malloc(sz_tu + sz_occ + 2 * sz_pass + (size_t)ntail * sizeof(*fs));
	if (!mem) {
		ret = -ENOMEM;
		goto out;
	}
	tu = (struct turn *)mem;
	occ = (__u64 *)(mem + sz_tu);
	head = (__u32 *)(mem + sz_tu + sz_occ);
	tail = head + npass;
	fs = tail + npass;
	memset(occ, 0, sz_occ);
	memset(head, 0xff, sz_pass);
	/* An L1-sized bitmap, not owner[], is what the walk reads. */
	for (s = 0; s < m; s++)
		if (t->owner[s] != MAGLEV_NONE)
			occ[s / 64] |= 1ULL << (s % 64);
	for (i = 0; i < n; i++) {
		if (!cap[i])
			continue;
		tu[i].off = ident_hash(&t->be[i], seed ^ MAGLEV_SEED_OFFSET) % m;
		tu[i].skip = m > 2 ? ident_hash(&t->be[i], seed ^ MAGLEV_SEED_SKIP) % (m - 1) + 1
				   : 1;
		tu[i].pos = tu[i].off;
		tu[i].inv = 0;
		tu[i].taken = 0;
		tu[i].next = MAGLEV_NONE;
		if (head[0] == MAGLEV_NONE)
			head[0] = i;
		else
			tu[tail[0]].next = i;
		tail[0] = i;
	}
	for (p = 0; p < npass; p++) {
		for (i = head[p]; i != MAGLEV_NONE; i = nx) {
			nx = tu[i].next;
			if (nfree > ntail) {
				pos = tu[i].pos;
				skip = tu[i].skip;
				/* m is prime, so the walk visits every slot: a free one is found */
				while (occ[pos / 64] & (1ULL << (pos % 64))) {
					pos += skip;
					pos = pos >= m ? pos - m : pos;
				}
				occ[pos / 64] |= 1ULL << (pos % 64);
				t->owner[pos] = i;
				pos += skip;
				tu[i].pos = pos >= m ? pos - m : pos;
			} else {
				if (!in_tail) {
					for (s = 0; s < m; s++)
						if (!(occ[s / 64] & (1ULL << (s % 64))))
							fs[nfs++] = s;
					in_tail = true;
				}
				if (!tu[i].inv)
					tu[i].inv = inv_mod(tu[i].skip, m);
				best = 0;
				rbest = MAGLEV_NONE;
				for (k = 0; k < nfs; k++) {
					s = fs[k];
					r = mulmod(s >= tu[i].off ? s - tu[i].off : s + m - tu[i].off,
						   tu[i].inv, m, mu);
					if (r < rbest) {
						rbest = r;
						best = k;
					}
				}
				t->owner[fs[best]] = i;
				fs[best] = fs[--nfs];
			}
			nfree--;
			t->slots[i]++;
			if (++tu[i].taken == cap[i])
				continue;
			/* strictly later than p, since wmax / w >= 1 */
			tp = (__u32)((__u64)tu[i].taken * wmax / w[i]);
			tu[i].next = MAGLEV_NONE;
			if (head[tp] == MAGLEV_NONE)
				head[tp] = i;
			else
				tu[tail[tp]].next = i;
			tail[tp] = i;
		}
	}
out:
	free(mem);
	return ret;
}

int maglev_rebuild(const struct maglev_table *prev, const struct maglev_backend *be, __u32 n,
		   __u32 m, __u32 seed, struct maglev_table **out, const char **err)
{
	struct maglev_table *t = NULL;
	__u32 *w = NULL, *q = NULL, *map = NULL, i, j, s, o;
	__u64 w_total = 0, lack, nfree;
	int ret;

	*out = NULL;
	ret = table_new(be, n, m, &t, err);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (prev && prev->m != m) {
		set_err(err, "previous ring has another size: build afresh");
		goto out;
	}
	t->seed = seed;
	ret = -ENOMEM;
	w = malloc((n ? n : 1) * sizeof(*w));
	q = malloc((n ? n : 1) * sizeof(*q));
	map = prev ? malloc((prev->n ? prev->n : 1) * sizeof(*map)) : NULL;
	if (!w || !q || (prev && !map))
		goto out;
	for (i = 0; i < n; i++) {
		w[i] = eff_weight(&t->be[i]);
		w_total += w[i];
	}
	ret = shares(w, n, m, q);
	if (ret)
		goto out;
	if (prev) {
		/* Both lists are in canonical order: match identities by merging. */
		for (i = 0, j = 0; i < prev->n; i++) {
			while (j < n && ident_cmp(&t->be[j], &prev->be[i]) < 0)
				j++;
			map[i] = j < n && !ident_cmp(&t->be[j], &prev->be[i]) ? j : MAGLEV_NONE;
		}
		/*
		 * Keep each slot whose owner is still entitled to it.  An owner
		 * above its new share keeps its lowest-numbered slots: any fixed
		 * rule would do, this one is a single pass.
		 */
		for (s = 0; s < m; s++) {
			o = prev->owner[s];
			if (o >= prev->n || map[o] == MAGLEV_NONE)
				continue;
			o = map[o];
			if (t->slots[o] < q[o]) {
				t->owner[s] = o;
				t->slots[o]++;
			}
		}
	}
	/*
	 * What each backend still lacks is its number of turns.  The lacks add
	 * up to the free slots because the shares add up to m; check it, since
	 * the population would never end otherwise.
	 */
	for (i = 0, lack = 0; i < n; i++) {
		q[i] -= t->slots[i];
		lack += q[i];
	}
	for (s = 0, nfree = 0; s < m; s++)
		nfree += t->owner[s] == MAGLEV_NONE;
	if (w_total && lack != nfree) {
		set_err(err, "internal error: shares do not cover the ring");
		ret = -EFAULT;
		goto out;
	}
	ret = populate(t, w, q, (__u32)nfree, seed);
	if (ret)
		goto out;
	for (s = 0; s < m; s++) {
		o = t->owner[s];
		if (o == MAGLEV_NONE) {
			t->ring[s] = 0;
			t->empty++;
		} else {
			t->ring[s] = t->be[o].id;
		}
	}
	*out = t;
	t = NULL;
out:
	free(map);
	free(q);
	free(w);
	maglev_free(t);
	return ret;
}

int maglev_build(const struct maglev_backend *be, __u32 n, __u32 m, __u32 seed,
		 struct maglev_table **out, const char **err)
{
	return maglev_rebuild(NULL, be, n, m, seed, out, err);
}

static int u64_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

int maglev_from_ring(const __u32 *ring, __u32 m, const struct maglev_backend *be, __u32 n,
		     struct maglev_table **out, const char **err)
{
	struct maglev_table *t = NULL;
	__u64 *byid = NULL;
	__u32 s, lo, hi, mid, i, id, o, last_id = 0, last_o = MAGLEV_NONE;
	int ret;

	*out = NULL;
	ret = table_new(be, n, m, &t, err);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (!ring) {
		set_err(err, "no ring");
		goto out;
	}
	ret = -ENOMEM;
	byid = malloc((n ? n : 1) * sizeof(*byid));
	if (!byid)
		goto out;
	/* (id << 32 | index), sorted: a binary search maps a slot's id to its owner */
	for (i = 0; i < n; i++)
		byid[i] = (__u64)t->be[i].id << 32 | i;
	qsort(byid, n, sizeof(*byid), u64_cmp);
	for (s = 0; s < m; s++) {
		id = ring[s];
		if (id && id == last_id) {
			o = last_o;
		} else {
			o = MAGLEV_NONE;
			for (lo = 0, hi = n; id && lo < hi;) {
				mid = lo + (hi - lo) / 2;
				if ((__u32)(byid[mid] >> 32) < id) {
					lo = mid + 1;
				} else if ((__u32)(byid[mid] >> 32) > id) {
					hi = mid;
				} else {
					o = (__u32)byid[mid];
					break;
				}
			}
			last_id = id;
			last_o = o;
		}
		if (o == MAGLEV_NONE) {
			t->ring[s] = 0;
			t->empty++;
			continue;
		}
		t->owner[s] = o;
		t->ring[s] = id;
		t->slots[o]++;
	}
	*out = t;
	t = NULL;
	ret = 0;
out:
	free(byid);
	maglev_free(t);
	return ret;
}

/*
 * digest(b) = FNV-1a-64 of (ident_len, ident bytes); the checksum is
 * FNV-1a-64 of M (4 bytes, little-endian) followed, for every slot in
 * order, by its owner's digest (8 bytes, little-endian; 8 zero bytes when
 * unset).  Bytes are spelled out so another implementation can reproduce
 * it on any host.
 */
int maglev_checksum(const struct maglev_table *t, __u64 *sum)
{
	__u64 *dig = NULL, h = FNV64_BASIS, d;
	__u8 buf[8];
	__u32 i, s, o;
	int k, ret = -EINVAL;

	if (!t || !sum)
		goto out;
	ret = -ENOMEM;
	dig = malloc((t->n ? t->n : 1) * sizeof(*dig));
	if (!dig)
		goto out;
	for (i = 0; i < t->n; i++) {
		buf[0] = t->be[i].ident_len;
		dig[i] = fnv1a(fnv1a(FNV64_BASIS, buf, 1), t->be[i].ident, t->be[i].ident_len);
	}
	for (k = 0; k < 4; k++)
		buf[k] = (__u8)(t->m >> (8 * k));
	h = fnv1a(h, buf, 4);
	for (s = 0; s < t->m; s++) {
		o = t->owner[s];
		d = o == MAGLEV_NONE ? 0 : dig[o];
		for (k = 0; k < 8; k++)
			buf[k] = (__u8)(d >> (8 * k));
		h = fnv1a(h, buf, 8);
	}
	*sum = h;
	ret = 0;
out:
	free(dig);
	return ret;
}

int maglev_stats(const struct maglev_table *t, struct maglev_stats *st)
{
	__u64 W = 0;
	double expect, r;
	__u32 i;

	if (!t || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->empty = t->empty;
	for (i = 0; i < t->n; i++)
		W += eff_weight(&t->be[i]);
	for (i = 0; i < t->n; i++) {
		if (!eff_weight(&t->be[i]))
			continue;
		expect = (double)t->m * eff_weight(&t->be[i]) / (double)W;
		r = t->slots[i] / expect;
		if (!st->backends++ || r > st->max_ratio)
			st->max_ratio = r;
		if (st->backends == 1 || r < st->min_ratio)
			st->min_ratio = r;
	}
	return 0;
}

int maglev_movement(const struct maglev_table *a, const struct maglev_table *b,
		    struct maglev_move *mv)
{
	__u32 *map = NULL, i, j, s, oa, ob, after;
	int ret = -EINVAL;

	if (!a || !b || !mv || a->m != b->m)
		goto out;
	ret = -ENOMEM;
	map = malloc((a->n ? a->n : 1) * sizeof(*map));
	if (!map)
		goto out;
	memset(mv, 0, sizeof(*mv));
	for (i = 0, j = 0; i < a->n; i++) {
		while (j < b->n && ident_cmp(&b->be[j], &a->be[i]) < 0)
			j++;
		map[i] = j < b->n && !ident_cmp(&b->be[j], &a->be[i]) ? j : MAGLEV_NONE;
	}
	for (s = 0; s < a->m; s++) {
		oa = a->owner[s];
		ob = b->owner[s];
		if (oa == MAGLEV_NONE ? ob != MAGLEV_NONE : map[oa] != ob || ob == MAGLEV_NONE)
			mv->moved++;
	}
	/* "unset" counts as one more owner, so filling an empty ring is necessary too */
	for (i = 0; i < a->n; i++) {
		after = map[i] == MAGLEV_NONE ? 0 : b->slots[map[i]];
		if (a->slots[i] > after)
			mv->necessary += a->slots[i] - after;
	}
	if (a->empty > b->empty)
		mv->necessary += a->empty - b->empty;
	mv->unnecessary = mv->moved - mv->necessary;
	ret = 0;
out:
	free(map);
	return ret;
}
