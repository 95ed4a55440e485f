// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Maglev builder tests (cmocka, no root): balance, determinism (golden
 * vectors from an independent Python mirror, insertion order, ids),
 * minimal disruption against plain Maglev, weight changes, the checksum,
 * and input validation.  Ends with "maglev: N passed, N failed".
 *
 * Movement and counts are recomputed here from the rings and identities
 * rather than taken from maglev_movement()/slots[], which are themselves
 * checked against the recount.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "maglev.h"

#define M_SMALL		251
#define M_MID		4093
#define M_DEF		65537

/* xorshift64*: a fixed sequence, so every run tests the same cases */
static __u64 rng_state = 0x9e3779b97f4a7c15ULL;

static __u32 rnd(__u32 bound)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (__u32)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % bound;
}

static void shuffle(struct maglev_backend *be, __u32 n)
{
	struct maglev_backend tmp;
	__u32 i, j;

	for (i = n; i > 1; i--) {
		j = rnd(i);
		tmp = be[i - 1];
		be[i - 1] = be[j];
		be[j] = tmp;
	}
}

/* Backend @i of a generated set: 10.<i>/16-ish IPv4, or IPv6 for odd sets. */
static void mk(struct maglev_backend *b, const char *addr, __u16 port, __u32 id, __u32 w,
	       __u8 state)
{
	__u32 a[4] = { 0 };
	__u8 fam = strchr(addr, ':') ? XLB_AF_INET6 : XLB_AF_INET;

	memset(b, 0, sizeof(*b));
	if (inet_pton(fam == XLB_AF_INET ? AF_INET : AF_INET6, addr, a) != 1)
		fail_msg("bad test address %s", addr);
	assert_int_equal(maglev_ident_addr(b, fam, a, htons(port)), 0);
	b->id = id;
	b->weight = w;
	b->state = state;
}

static void mk_n(struct maglev_backend *b, __u32 i, __u32 id, __u32 w)
{
	char s[32];

	snprintf(s, sizeof(s), "10.%u.%u.%u", 100 + i / 65536, (i / 256) % 256, i % 256);
	mk(b, s, 0, id, w, MAGLEV_UP);
}

static struct maglev_backend *equal_set(__u32 n)
{
	struct maglev_backend *be = calloc(n ? n : 1, sizeof(*be));
	__u32 i;

	assert_non_null(be);
	for (i = 0; i < n; i++)
		mk_n(&be[i], i, i + 1, 1);
	return be;
}

static struct maglev_table *build(const struct maglev_backend *be, __u32 n, __u32 m, __u32 seed)
{
	struct maglev_table *t = NULL;
	const char *err = NULL;
	int ret = maglev_build(be, n, m, seed, &t, &err);

	if (ret)
		fail_msg("maglev_build(n=%u, m=%u): %d %s", n, m, ret, err ? err : "");
	return t;
}

static struct maglev_table *rebuild(const struct maglev_table *prev,
				    const struct maglev_backend *be, __u32 n, __u32 seed)
{
	struct maglev_table *t = NULL;
	const char *err = NULL;
	int ret = maglev_rebuild(prev, be, n, prev->m, seed, &t, &err);

	if (ret)
		fail_msg("maglev_rebuild(n=%u): %d %s", n, ret, err ? err : "");
	return t;
}

static bool same_ident(const struct maglev_backend *a, const struct maglev_backend *b)
{
	return a->ident_len == b->ident_len && !memcmp(a->ident, b->ident, a->ident_len);
}

/* be[] index of the backend named by ring id @id, by linear search: independent of owner[]. */
static const struct maglev_backend *by_id(const struct maglev_table *t, __u32 id)
{
	__u32 i;

	for (i = 0; i < t->n; i++)
		if (t->be[i].id == id)
			return &t->be[i];
	return NULL;
}

/*
 * Check a table against its own ring: no slot names an unknown id,
 * owner[] and slots[] agree with the ring, empty counts the zeros.
 */
static void check_consistent(const struct maglev_table *t)
{
	__u32 *cnt = calloc(t->n ? t->n : 1, sizeof(*cnt)), s, i, empty = 0;

	assert_non_null(cnt);
	for (s = 0; s < t->m; s++) {
		if (!t->ring[s]) {
			assert_int_equal(t->owner[s], MAGLEV_NONE);
			empty++;
			continue;
		}
		assert_true(t->owner[s] < t->n);
		assert_int_equal(t->be[t->owner[s]].id, t->ring[s]);
		cnt[t->owner[s]]++;
	}
	assert_int_equal(empty, t->empty);
	for (i = 0; i < t->n; i++)
		if (cnt[i] != t->slots[i])
			fail_msg("backend %u: slots[] says %u, ring has %u", i, t->slots[i], cnt[i]);
	free(cnt);
}

/* Map a's be[] to b's by identity, quadratically, so it trusts no ordering. */
static __u32 *ident_map(const struct maglev_table *a, const struct maglev_table *b)
{
	__u32 *map = malloc((a->n ? a->n : 1) * sizeof(*map)), i, j;

	assert_non_null(map);
	for (i = 0; i < a->n; i++) {
		map[i] = MAGLEV_NONE;
		for (j = 0; j < b->n; j++)
			if (same_ident(&a->be[i], &b->be[j]))
				map[i] = j;
	}
	return map;
}

struct moves {
	__u32 moved, necessary, unnecessary;
	__u32 others;	/* moved between two backends, neither of them @focus */
};

/*
 * Slots whose owner identity differs from @a to @b; necessary is the
 * least any table with @b's counts must move.  @focus: index in a->be
 * of a re-weighted backend (MAGLEV_NONE: none).
 */
static struct moves count_moves(const struct maglev_table *a, const struct maglev_table *b,
				__u32 focus)
{
	__u32 *map = ident_map(a, b), s, i, oa, ob, after, fb;
	struct moves mv = { 0 };

	assert_int_equal(a->m, b->m);
	fb = focus == MAGLEV_NONE ? MAGLEV_NONE : map[focus];
	for (s = 0; s < a->m; s++) {
		oa = a->owner[s];
		ob = b->owner[s];
		if (oa != MAGLEV_NONE && map[oa] == ob && ob != MAGLEV_NONE)
			continue;
		if (oa == MAGLEV_NONE && ob == MAGLEV_NONE)
			continue;
		mv.moved++;
		if (focus != MAGLEV_NONE && oa != focus && ob != fb)
			mv.others++;
	}
	for (i = 0; i < a->n; i++) {
		after = map[i] == MAGLEV_NONE ? 0 : b->slots[map[i]];
		if (a->slots[i] > after)
			mv.necessary += a->slots[i] - after;
	}
	if (a->empty > b->empty)
		mv.necessary += a->empty - b->empty;
	mv.unnecessary = mv.moved - mv.necessary;
	free(map);
	return mv;
}

/* The counts of @a and @b agree backend by backend (by identity). */
static void check_same_counts(const struct maglev_table *a, const struct maglev_table *b)
{
	__u32 *map = ident_map(a, b), i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_not_equal(map[i], MAGLEV_NONE);
		if (a->slots[i] != b->slots[map[i]])
			fail_msg("backend %u: %u slots vs %u", i, a->slots[i], b->slots[map[i]]);
	}
	free(map);
}

static void test_valid_m(void **state)
{
	static const __u32 good[] = { 2, 3, 251, 4093, 65537, 655373, 1048573 };
	static const __u32 bad[] = { 0, 1, 4, 9, 65535, 65536, 1048575, 1048583, 4294967291U };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!maglev_valid_m(good[i]))
			fail_msg("%u rejected", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (maglev_valid_m(bad[i]))
			fail_msg("%u accepted", bad[i]);
}

/* No empty slot, and every backend gets floor(M/N) or ceil(M/N) slots. */
static void test_equal_shares(void **state)
{
	static const __u32 ns[] = { 1, 2, 3, 10, 100, 1000 };
	static const __u32 ms[] = { M_SMALL, M_MID, M_DEF };
	struct maglev_backend *be = equal_set(1000);
	struct maglev_table *t;
	__u32 s, i, lo, hi;
	size_t a, b;

	(void)state;
	for (a = 0; a < sizeof(ms) / sizeof(ms[0]); a++) {
		for (b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
			t = build(be, ns[b], ms[a], 1);
			check_consistent(t);
			assert_int_equal(t->empty, 0);
			for (s = 0; s < t->m; s++)
				if (!t->ring[s])
					fail_msg("n=%u m=%u: slot %u empty", ns[b], ms[a], s);
			lo = ms[a] / ns[b];
			hi = lo + (ms[a] % ns[b] != 0);
			for (i = 0; i < t->n; i++)
				if (t->slots[i] < lo || t->slots[i] > hi)
					fail_msg("n=%u m=%u: backend %u has %u slots, not %u..%u",
						 ns[b], ms[a], i, t->slots[i], lo, hi);
			maglev_free(t);
		}
	}
	free(be);
}

/* |slots - M w / W| <= limit (relative if @rel) for every backend up. */
static void check_shares(const struct maglev_table *t, double limit, bool rel)
{
	__u64 W = 0;
	double exact, dev;
	__u32 i;

	for (i = 0; i < t->n; i++)
		W += t->be[i].state == MAGLEV_UP ? t->be[i].weight : 0;
	for (i = 0; i < t->n; i++) {
		if (t->be[i].state != MAGLEV_UP || !t->be[i].weight) {
			if (t->slots[i])
				fail_msg("backend %u (weight %u, state %u) owns %u slots", i,
					 t->be[i].weight, t->be[i].state, t->slots[i]);
			continue;
		}
		exact = (double)t->m * t->be[i].weight / (double)W;
		dev = t->slots[i] - exact;
		if (dev < 0)
			dev = -dev;
		if (rel)
			dev /= exact;
		if (dev > limit)
			fail_msg("backend %u weight %u: %u slots, share %.2f", i, t->be[i].weight,
				 t->slots[i], exact);
	}
}

/* Weighted shares: within 1% of the weight share, weight 0 and not-up get none. */
static void test_weighted_shares(void **state)
{
	struct maglev_backend be[200];
	struct maglev_table *t;
	__u32 i, n, round;

	(void)state;
	for (i = 0; i < 4; i++)
		mk_n(&be[i], i, i + 1, i + 1);
	t = build(be, 4, M_DEF, 7);
	check_consistent(t);
	assert_int_equal(t->empty, 0);
	check_shares(t, 0.01, true);
	maglev_free(t);

	for (round = 0; round < 6; round++) {
		/* large mixed sets whose smallest share is still > 100 slots */
		n = round % 2 ? 50 : 100;
		for (i = 0; i < n; i++)
			mk_n(&be[i], i, 1000 + i, round % 2 ? 100 + rnd(901) : 1 + rnd(10));
		/* plus backends that must get nothing */
		mk_n(&be[n], n, 5000, 0);
		mk_n(&be[n + 1], n + 1, 5001, 7);
		be[n + 1].state = MAGLEV_DRAIN;
		mk_n(&be[n + 2], n + 2, 5002, 7);
		be[n + 2].state = MAGLEV_DOWN;
		t = build(be, n + 3, M_DEF, round);
		check_consistent(t);
		assert_int_equal(t->empty, 0);
		check_shares(t, 0.01, true);
		/* and, in absolute terms, within one slot of the exact share */
		check_shares(t, 1.0, false);
		maglev_free(t);
	}

	/*
	 * Skewed weights (one backend 10^4 times the rest put together, whose
	 * shares are all below half a slot): a divisor method rounds the small
	 * ones to 0 and the big one takes every slot, beyond its exact share
	 * by the sum of theirs (1.6 slots here).  Stated bound: no empty
	 * slot, max/mean <= 1 + N/M, and quick (calendar, not passes).
	 */
	for (i = 0; i < 200; i++)
		mk_n(&be[i], i, i + 1, i == 0 ? 4000000000U : 1 + rnd(1000));
	t = build(be, 200, M_DEF, 3);
	check_consistent(t);
	assert_int_equal(t->empty, 0);
	{
		struct maglev_stats st;

		assert_int_equal(maglev_stats(t, &st), 0);
		assert_true(st.max_ratio <= 1.0 + 200.0 / M_DEF);
	}
	maglev_free(t);
}

/* 1000 insertion orders (half with other ids) give the same table. */
static void test_order_independence(void **state)
{
	struct maglev_backend *be = calloc(1000, sizeof(*be)), *ref_be;
	struct maglev_table *ref, *t;
	__u64 ref_sum, sum;
	__u32 i, s, k, n = 100, *ids;

	(void)state;
	assert_non_null(be);
	for (i = 0; i < n; i++) {
		mk_n(&be[i], i, i + 1, 1 + rnd(20));
		be[i].state = i % 17 == 3 ? MAGLEV_DRAIN : MAGLEV_UP;
	}
	ref_be = malloc(n * sizeof(*be));
	ids = malloc(n * sizeof(*ids));
	assert_non_null(ref_be);
	assert_non_null(ids);
	memcpy(ref_be, be, n * sizeof(*be));
	ref = build(ref_be, n, M_MID, 42);
	assert_int_equal(maglev_checksum(ref, &ref_sum), 0);
	for (k = 0; k < 1000; k++) {
		bool new_ids = k % 2;

		shuffle(be, n);
		if (new_ids) {
			/* another host's numbering: a shuffled, shifted set of ids */
			for (i = 0; i < n; i++)
				ids[i] = 7 + i * 3;
			for (i = n; i > 1; i--) {
				__u32 j = rnd(i), x = ids[i - 1];

				ids[i - 1] = ids[j];
				ids[j] = x;
			}
			for (i = 0; i < n; i++)
				be[i].id = ids[i];
		}
		t = build(be, n, M_MID, 42);
		assert_int_equal(maglev_checksum(t, &sum), 0);
		if (sum != ref_sum)
			fail_msg("order %u: checksum %#llx vs %#llx", k, (unsigned long long)sum,
				 (unsigned long long)ref_sum);
		for (s = 0; s < t->m; s++) {
			const struct maglev_backend *a = by_id(t, t->ring[s]);
			const struct maglev_backend *b = by_id(ref, ref->ring[s]);

			if (!a || !b || !same_ident(a, b))
				fail_msg("order %u: slot %u differs", k, s);
		}
		if (!new_ids && memcmp(t->ring, ref->ring, t->m * sizeof(*t->ring)))
			fail_msg("order %u: same ids but the ring bytes differ", k);
		maglev_free(t);
		if (new_ids) {
			/* back to the reference ids for the next same-id round */
			for (i = 0; i < n; i++)
				for (s = 0; s < n; s++)
					if (same_ident(&be[i], &ref_be[s]))
						be[i].id = ref_be[s].id;
		}
	}
	/* larger set, fewer rounds */
	maglev_free(ref);
	free(be);
	be = equal_set(1000);
	ref = build(be, 1000, M_DEF, 9);
	assert_int_equal(maglev_checksum(ref, &ref_sum), 0);
	for (k = 0; k < 10; k++) {
		shuffle(be, 1000);
		t = build(be, 1000, M_DEF, 9);
		assert_int_equal(maglev_checksum(t, &sum), 0);
		assert_true(sum == ref_sum);
		assert_memory_equal(t->ring, ref->ring, M_DEF * sizeof(*t->ring));
		maglev_free(t);
	}
	maglev_free(ref);
	free(ids);
	free(ref_be);
	free(be);
}

/*
 * One backend removed or added, N = 10, 100, 1000 at M = 65537: plain
 * Maglev (a fresh build) moves some slots it need not; the rebuild moves
 * exactly the necessary ones (stated bound: 0 unnecessary, which is also
 * no worse than plain), and its counts are the fresh build's.
 */
static void test_remove_add_one(void **state)
{
	static const __u32 ns[] = { 10, 100, 1000 };
	struct maglev_backend *be = equal_set(1001), *less;
	struct maglev_table *base, *plain, *re;
	struct moves pm, rm;
	__u32 n, gone, k;
	size_t a;

	(void)state;
	less = calloc(1001, sizeof(*less));
	assert_non_null(less);
	for (a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
		n = ns[a];
		base = build(be, n, M_DEF, 11);
		for (k = 0; k < 2; k++) {
			/* remove one */
			gone = k ? n - 1 : n / 3;
			memcpy(less, be, gone * sizeof(*be));
			memcpy(less + gone, be + gone + 1, (n - gone - 1) * sizeof(*be));
			plain = build(less, n - 1, M_DEF, 11);
			re = rebuild(base, less, n - 1, 11);
			check_consistent(re);
			assert_int_equal(re->empty, 0);
			pm = count_moves(base, plain, MAGLEV_NONE);
			rm = count_moves(base, re, MAGLEV_NONE);
			print_message("  remove, n=%u: plain Maglev moves %u (%u unnecessary), "
				      "rebuild %u (%u)\n", n, pm.moved, pm.unnecessary, rm.moved,
				      rm.unnecessary);
			assert_int_equal(rm.necessary, pm.necessary);
			assert_int_equal(rm.unnecessary, 0);
			assert_true(rm.unnecessary <= pm.unnecessary);
			/* the measurement can see movement: plain Maglev has some */
			if (n >= 100)
				assert_true(pm.unnecessary > 0);
			check_same_counts(re, plain);
			maglev_free(plain);
			maglev_free(re);
		}
		/* add one */
		plain = build(be, n + 1, M_DEF, 11);
		re = rebuild(base, be, n + 1, 11);
		check_consistent(re);
		pm = count_moves(base, plain, MAGLEV_NONE);
		rm = count_moves(base, re, MAGLEV_NONE);
		print_message("  add,    n=%u: plain Maglev moves %u (%u unnecessary), "
			      "rebuild %u (%u)\n", n, pm.moved, pm.unnecessary, rm.moved,
			      rm.unnecessary);
		assert_int_equal(rm.unnecessary, 0);
		assert_true(rm.unnecessary <= pm.unnecessary);
		if (n >= 100)
			assert_true(pm.unnecessary > 0);
		check_same_counts(re, plain);
		maglev_free(plain);
		maglev_free(re);
		maglev_free(base);
	}
	free(less);
	free(be);
}

/*
 * Re-weighting backend A moves only slots to or from A (stated bound: 0
 * slots between other backends), exactly |change of A's slots| of them,
 * and that change is within 2 slots of M * (w'/W' - w/W).
 */
static void test_reweight(void **state)
{
	static const struct {
		__u32 from, to;
	} cases[] = { { 1, 3 }, { 3, 1 }, { 2, 0 }, { 1, 10 }, { 5, 4 } };
	struct maglev_backend be[100];
	struct maglev_table *base, *re, *plain;
	struct moves rm, pm;
	__u32 n = 100, i, a = 37, fa;
	__u64 W0, W1;
	double want, got;
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		W0 = 0;
		for (i = 0; i < n; i++) {
			mk_n(&be[i], i, i + 1, i == a ? cases[c].from : 1 + i % 5);
			W0 += be[i].weight;
		}
		base = build(be, n, M_DEF, 5);
		be[a].weight = cases[c].to;
		W1 = W0 - cases[c].from + cases[c].to;
		re = rebuild(base, be, n, 5);
		plain = build(be, n, M_DEF, 5);
		check_consistent(re);
		check_same_counts(re, plain);
		for (fa = 0; fa < base->n; fa++)
			if (same_ident(&base->be[fa], &be[a]))
				break;
		assert_true(fa < base->n);
		rm = count_moves(base, re, fa);
		pm = count_moves(base, plain, fa);
		print_message("  weight %u -> %u: rebuild moves %u (%u between others), "
			      "plain Maglev %u (%u)\n", cases[c].from, cases[c].to, rm.moved,
			      rm.others, pm.moved, pm.others);
		assert_int_equal(rm.others, 0);
		assert_int_equal(rm.unnecessary, 0);
		got = (double)re->slots[fa] - (double)base->slots[fa];
		assert_int_equal(rm.moved, (__u32)(got < 0 ? -got : got));
		want = (double)M_DEF * cases[c].to / W1 - (double)M_DEF * cases[c].from / W0;
		if (got - want > 2 || want - got > 2)
			fail_msg("weight %u -> %u: A's slots changed by %.0f, expected %.1f",
				 cases[c].from, cases[c].to, got, want);
		maglev_free(plain);
		maglev_free(re);
		maglev_free(base);
	}
}

/*
 * A random sequence of changes, applied on two "hosts" that see every
 * config in a different order and with different ids: at every step the
 * checksums agree, the counts are the fresh build's, nothing moves that
 * need not, and rebuilding an unchanged set changes nothing.
 */
static void test_rebuild_sequence(void **state)
{
	struct maglev_backend cur[300], h2[300];
	struct maglev_table *a, *b, *na, *nb, *fresh, *same;
	__u64 sa, sb;
	__u32 n = 60, next = 60, step, i, op;
	struct moves mv;

	(void)state;
	for (i = 0; i < n; i++)
		mk_n(&cur[i], i, i + 1, 1 + rnd(4));
	memcpy(h2, cur, n * sizeof(*cur));
	for (i = 0; i < n; i++)
		h2[i].id = 10000 - i;
	shuffle(h2, n);
	a = build(cur, n, M_MID, 77);
	b = build(h2, n, M_MID, 77);
	for (step = 0; step < 150; step++) {
		op = rnd(5);
		i = rnd(n);
		if (op == 0 && n < 299) {			/* add */
			mk_n(&cur[n], next, next + 1, 1 + rnd(4));
			next++;
			n++;
		} else if (op == 1 && n > 2) {			/* remove */
			cur[i] = cur[n - 1];
			n--;
		} else if (op == 2) {				/* re-weight */
			cur[i].weight = rnd(6);
		} else if (op == 3) {				/* drain or fail */
			cur[i].state = rnd(2) ? MAGLEV_DRAIN : MAGLEV_DOWN;
		} else {					/* back up */
			cur[i].state = MAGLEV_UP;
		}
		memcpy(h2, cur, n * sizeof(*cur));
		for (i = 0; i < n; i++)
			h2[i].id = 100000 + cur[i].id * 7;
		shuffle(h2, n);
		na = rebuild(a, cur, n, 77);
		nb = rebuild(b, h2, n, 77);
		fresh = build(cur, n, M_MID, 77);
		check_consistent(na);
		check_same_counts(na, fresh);
		mv = count_moves(a, na, MAGLEV_NONE);
		if (mv.unnecessary)
			fail_msg("step %u (op %u): %u unnecessary moves", step, op, mv.unnecessary);
		assert_int_equal(maglev_checksum(na, &sa), 0);
		assert_int_equal(maglev_checksum(nb, &sb), 0);
		if (sa != sb)
			fail_msg("step %u: hosts diverged", step);
		same = rebuild(na, h2, n, 77);
		assert_memory_equal(same->owner, nb->owner, M_MID * sizeof(*same->owner));
		maglev_free(same);
		maglev_free(fresh);
		maglev_free(a);
		maglev_free(b);
		a = na;
		b = nb;
	}
	maglev_free(a);
	maglev_free(b);
}

/*
 * Health is seen per host, so health-driven tables are rebuilt from the
 * anchor (the table of the configured set), not chained: a host that saw
 * a backend fail and recover ends with the anchor, like a host that saw
 * nothing.  Chaining would not (shown, not asserted).  A second failure
 * while the first lasts moves fewer slots than plain Maglev would.
 */
static void test_anchor_health(void **state)
{
	struct maglev_backend *be = equal_set(1000);
	struct maglev_table *anchor, *one, *two, *back, *chain1, *chain2, *p1, *p2;
	struct moves am, pm;
	__u64 sa, sb, sc;

	(void)state;
	anchor = build(be, 1000, M_DEF, 21);
	be[10].state = MAGLEV_DOWN;
	one = rebuild(anchor, be, 1000, 21);
	p1 = build(be, 1000, M_DEF, 21);
	chain1 = rebuild(anchor, be, 1000, 21);
	be[500].state = MAGLEV_DOWN;
	two = rebuild(anchor, be, 1000, 21);
	p2 = build(be, 1000, M_DEF, 21);
	am = count_moves(one, two, MAGLEV_NONE);
	pm = count_moves(p1, p2, MAGLEV_NONE);
	print_message("  second failure: anchored moves %u (%u unnecessary), plain Maglev %u (%u)\n",
		      am.moved, am.unnecessary, pm.moved, pm.unnecessary);
	assert_true(am.unnecessary <= pm.unnecessary);
	check_same_counts(two, p2);
	be[10].state = MAGLEV_UP;
	be[500].state = MAGLEV_UP;
	back = rebuild(anchor, be, 1000, 21);
	chain2 = rebuild(chain1, be, 1000, 21);
	assert_int_equal(maglev_checksum(anchor, &sa), 0);
	assert_int_equal(maglev_checksum(back, &sb), 0);
	assert_int_equal(maglev_checksum(chain2, &sc), 0);
	assert_true(sa == sb);
	assert_memory_equal(anchor->ring, back->ring, M_DEF * sizeof(*back->ring));
	print_message("  after recovery: anchored %s the anchor, chained %s\n",
		      sa == sb ? "is" : "is NOT", sa == sc ? "is" : "is not");
	maglev_free(chain2);
	maglev_free(back);
	maglev_free(p2);
	maglev_free(two);
	maglev_free(chain1);
	maglev_free(p1);
	maglev_free(one);
	maglev_free(anchor);
	free(be);
}

/* Rebuilding from an all-unset table is the fresh build; from a live ring too. */
static void test_rebuild_from_empty_and_ring(void **state)
{
	struct maglev_backend *be = equal_set(300);
	struct maglev_table *empty, *fresh, *re, *adopted, *re2;
	const char *err = NULL;
	__u32 *ring, s;

	(void)state;
	for (s = 0; s < 300; s++)
		be[s].weight = 1 + s % 3;
	empty = build(be, 0, M_DEF, 4);
	fresh = build(be, 300, M_DEF, 4);
	re = rebuild(empty, be, 300, 4);
	assert_memory_equal(re->ring, fresh->ring, M_DEF * sizeof(*re->ring));

	/* adopt the live ring, with one slot naming an id we no longer know */
	ring = malloc(M_DEF * sizeof(*ring));
	assert_non_null(ring);
	memcpy(ring, fresh->ring, M_DEF * sizeof(*ring));
	ring[5] = 999999;
	shuffle(be, 300);
	assert_int_equal(maglev_from_ring(ring, M_DEF, be, 300, &adopted, &err), 0);
	check_consistent(adopted);
	assert_int_equal(adopted->empty, 1);
	for (s = 0; s < M_DEF; s++)
		if (s != 5)
			assert_int_equal(adopted->ring[s], fresh->ring[s]);
	re2 = rebuild(adopted, be, 300, 4);
	check_consistent(re2);
	check_same_counts(re2, fresh);
	/* one free slot, one backend short of its share: the ring is restored */
	assert_int_equal(count_moves(fresh, re2, MAGLEV_NONE).moved, 0);
	maglev_free(re2);
	assert_int_equal(maglev_from_ring(NULL, M_DEF, be, 300, &re2, &err), -EINVAL);
	assert_null(re2);

	maglev_free(adopted);
	free(ring);
	maglev_free(re);
	maglev_free(fresh);
	maglev_free(empty);
	free(be);
}

static __u64 fnv(__u64 h, const void *p, size_t len)
{
	const __u8 *b = p;

	while (len--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The checksum is the documented FNV-1a, over identities, not ids. */
static void test_checksum(void **state)
{
	struct maglev_backend *be = equal_set(20);
	struct maglev_table *t, *u;
	__u64 want, got, dig, other;
	__u32 s, o, tmp;
	__u8 le[8];
	int k;

	(void)state;
	t = build(be, 20, M_SMALL, 1);
	want = 0xcbf29ce484222325ULL;
	for (k = 0; k < 4; k++)
		le[k] = (__u8)(M_SMALL >> (8 * k));
	want = fnv(want, le, 4);
	for (s = 0; s < t->m; s++) {
		o = t->owner[s];
		le[0] = t->be[o].ident_len;
		dig = fnv(fnv(0xcbf29ce484222325ULL, le, 1), t->be[o].ident, t->be[o].ident_len);
		for (k = 0; k < 8; k++)
			le[k] = (__u8)(dig >> (8 * k));
		want = fnv(want, le, 8);
	}
	assert_int_equal(maglev_checksum(t, &got), 0);
	assert_true(got == want);
	/* ids play no part */
	for (s = 0; s < 20; s++)
		be[s].id += 1000;
	u = build(be, 20, M_SMALL, 1);
	assert_int_equal(maglev_checksum(u, &other), 0);
	assert_true(other == got);
	/* two slots swapped: detected */
	tmp = u->owner[0];
	u->owner[0] = u->owner[1];
	u->owner[1] = tmp;
	assert_int_equal(maglev_checksum(u, &other), 0);
	assert_true(other != got);
	/* another seed: another table */
	maglev_free(u);
	u = build(be, 20, M_SMALL, 2);
	assert_int_equal(maglev_checksum(u, &other), 0);
	assert_true(other != got);
	assert_int_equal(maglev_checksum(NULL, &other), -EINVAL);
	maglev_free(u);
	maglev_free(t);
	free(be);
}

static void test_stats_and_movement(void **state)
{
	struct maglev_backend *be = equal_set(30);
	struct maglev_table *t, *u;
	struct maglev_stats st;
	struct maglev_move mv;
	struct moves mine;
	double r, max = 0, min = 1e9;
	__u32 i;

	(void)state;
	be[3].weight = 0;
	be[4].weight = 5;
	t = build(be, 30, M_MID, 1);
	assert_int_equal(maglev_stats(t, &st), 0);
	assert_int_equal(st.backends, 29);
	assert_int_equal(st.empty, 0);
	for (i = 0; i < t->n; i++) {
		if (!t->be[i].weight)
			continue;
		r = t->slots[i] / ((double)M_MID * t->be[i].weight / 33.0);
		max = r > max ? r : max;
		min = r < min ? r : min;
	}
	assert_true(st.max_ratio > max - 1e-9 && st.max_ratio < max + 1e-9);
	assert_true(st.min_ratio > min - 1e-9 && st.min_ratio < min + 1e-9);
	assert_true(st.max_ratio <= 1.0 + 33.0 / M_MID);

	/* maglev_movement() agrees with the recount here */
	be[7] = be[29];
	be[10].weight = 3;
	u = build(be, 29, M_MID, 1);
	assert_int_equal(maglev_movement(t, u, &mv), 0);
	mine = count_moves(t, u, MAGLEV_NONE);
	assert_int_equal(mv.moved, mine.moved);
	assert_int_equal(mv.necessary, mine.necessary);
	assert_int_equal(mv.unnecessary, mine.unnecessary);
	assert_true(mv.moved > 0);
	maglev_free(u);
	u = build(be, 29, M_SMALL, 1);
	assert_int_equal(maglev_movement(t, u, &mv), -EINVAL);
	maglev_free(u);
	maglev_free(t);
	free(be);
}

/* Zero backends, or none up with weight > 0: an all-zero ring, documented. */
static void test_no_usable_backend(void **state)
{
	struct maglev_backend *be = equal_set(5);
	struct maglev_table *t;
	struct maglev_stats st;
	__u32 s, i;

	(void)state;
	for (i = 0; i < 4; i++) {
		if (i == 1)
			for (s = 0; s < 5; s++)
				be[s].weight = 0;
		if (i == 2)
			for (s = 0; s < 5; s++) {
				be[s].state = MAGLEV_DRAIN;
				be[s].weight = 1;
			}
		if (i == 3)
			for (s = 0; s < 5; s++)
				be[s].state = MAGLEV_DOWN;
		t = build(i ? be : NULL, i ? 5 : 0, M_SMALL, 1);
		assert_int_equal(t->empty, M_SMALL);
		for (s = 0; s < M_SMALL; s++)
			assert_int_equal(t->ring[s], 0);
		assert_int_equal(maglev_stats(t, &st), 0);
		assert_int_equal(st.backends, 0);
		assert_int_equal(st.empty, M_SMALL);
		maglev_free(t);
	}
	free(be);
}

static void expect_einval(const struct maglev_backend *be, __u32 n, __u32 m, const char *what)
{
	struct maglev_table *t = (struct maglev_table *)1;
	const char *err = NULL;
	int ret = maglev_build(be, n, m, 1, &t, &err);

	if (ret != -EINVAL)
		fail_msg("%s: got %d, expected -EINVAL", what, ret);
	if (t)
		fail_msg("%s: *out not cleared", what);
	if (!err || !strstr(err, what))
		fail_msg("%s: message '%s'", what, err ? err : "(none)");
}

static void test_invalid(void **state)
{
	struct maglev_backend *be = equal_set(MAGLEV_MAX_BACKENDS + 1);
	struct maglev_table *t, *prev;
	const char *err = NULL;

	(void)state;
	expect_einval(be, 3, 65536, "prime");
	expect_einval(be, 3, 1, "prime");
	expect_einval(be, 3, 0, "prime");
	expect_einval(be, 3, 1048583, "prime");		/* prime, but too big */
	expect_einval(be, MAGLEV_MAX_BACKENDS + 1, M_SMALL, "too many");
	expect_einval(NULL, 3, M_SMALL, "no backend array");
	be[2] = be[1];
	be[2].id = 77;
	expect_einval(be, 3, M_SMALL, "duplicate backend identity");
	be[2].weight = 0;	/* even a backend that gets no slot */
	expect_einval(be, 3, M_SMALL, "duplicate backend identity");
	mk_n(&be[2], 2, 2, 1);
	be[2].id = be[0].id;
	expect_einval(be, 3, M_SMALL, "duplicate backend id");
	be[2].id = 0;
	expect_einval(be, 3, M_SMALL, "id 0");
	be[2].id = 3;
	be[2].ident_len = 0;
	expect_einval(be, 3, M_SMALL, "identity length");
	be[2].ident_len = MAGLEV_IDENT_MAX + 1;
	expect_einval(be, 3, M_SMALL, "identity length");
	mk_n(&be[2], 2, 3, 1);
	be[2].state = 9;
	expect_einval(be, 3, M_SMALL, "state");
	be[2].state = MAGLEV_UP;
	{
		__u32 addr[4] = { 0 };

		assert_int_equal(maglev_ident_addr(&be[2], 5, addr, 0), -EINVAL);
	}

	/* rebuild across ring sizes */
	prev = build(be, 3, M_SMALL, 1);
	assert_int_equal(maglev_rebuild(prev, be, 3, M_MID, 1, &t, &err), -EINVAL);
	assert_null(t);
	assert_non_null(strstr(err, "another size"));
	maglev_free(prev);
	free(be);
}

/*
 * Golden vectors from an independent Python mirror of docs/maglev.md
 * (plain permutation walks, seats handed out one by one).  A change here
 * breaks cross-host and cross-version determinism: hosts running
 * different xlb versions would disagree.
 */
struct gv_be {
	const char *addr;
	__u16 port;
	__u32 weight;
	__u8 state;
};

static __u32 gv_set(const char *name, struct maglev_backend *be)
{
	static const struct gv_be mixed[] = {
		{ "10.1.0.1", 80, 1, MAGLEV_UP },  { "10.1.0.2", 80, 2, MAGLEV_UP },
		{ "2001:db8::1", 0, 3, MAGLEV_UP }, { "2001:db8::2", 8080, 4, MAGLEV_UP },
		{ "10.1.0.3", 0, 5, MAGLEV_DRAIN }, { "10.1.0.4", 0, 0, MAGLEV_UP },
	};
	char a[32];
	__u32 i, n = 0;

	if (!strcmp(name, "v4 equal") || !strcmp(name, "tiny")) {
		for (i = 1; i <= (strcmp(name, "tiny") ? 5U : 3U); i++) {
			snprintf(a, sizeof(a), "10.1.0.%u", i);
			mk(&be[n++], a, 0, 50 + i, 1, MAGLEV_UP);
		}
	} else if (!strcmp(name, "mixed")) {
		for (i = 0; i < 6; i++)
			mk(&be[n++], mixed[i].addr, mixed[i].port, 9 - i, mixed[i].weight,
			   mixed[i].state);
	} else if (!strcmp(name, "forty") || !strcmp(name, "forty rebuilt")) {
		bool re = name[5];

		for (i = 1; i <= 40; i++) {
			if (re && (i == 5 || i == 20))
				continue;
			snprintf(a, sizeof(a), "10.2.0.%u", i);
			mk(&be[n++], a, 0, i, re && i == 7 ? 10 : i % 7 + 1,
			   i == 13 ? MAGLEV_DOWN : MAGLEV_UP);
		}
		if (re) {
			mk(&be[n++], "10.2.1.1", 0, 41, 3, MAGLEV_UP);
			mk(&be[n++], "10.2.1.2", 0, 42, 1, MAGLEV_UP);
		}
	} else if (!strcmp(name, "big") || !strcmp(name, "big rebuilt")) {
		bool re = name[3];

		for (i = 1; i <= 100; i++) {
			if (re && i == 50)
				continue;
			snprintf(a, sizeof(a), "10.3.0.%u", i);
			mk(&be[n++], a, 0, i, i % 4 + 1, MAGLEV_UP);
		}
		if (re)
			mk(&be[n++], "10.3.0.200", 0, 200, 2, MAGLEV_UP);
	}
	return n;
}

static void test_golden_vectors(void **state)
{
	static const struct {
		const char *name, *prev;
		__u32 m, seed;
		__u64 sum;
	} gv[] = {
		{ "v4 equal", NULL, 251, 1, 0x4986edd4e5750b0eULL },
		{ "mixed", NULL, 251, 0xdeadbeef, 0xee70c8ab4b9bdff7ULL },
		{ "forty", NULL, 4093, 7, 0x61aa19342b42ba89ULL },
		{ "forty rebuilt", "forty", 4093, 7, 0xd99e08e4413a5037ULL },
		{ "tiny", NULL, 2, 3, 0x8626a78e25e9c781ULL },
		{ "none", NULL, 251, 1, 0x815ce74e87ab8dfeULL },
		{ "big", NULL, 65537, 0x5eed, 0x85f48d0a73d3a002ULL },
		{ "big rebuilt", "big", 65537, 0x5eed, 0x2e4e952bc9e741bcULL },
	};
	struct maglev_table *tabs[sizeof(gv) / sizeof(gv[0])] = { NULL };
	struct maglev_backend be[128];
	const struct maglev_table *prev;
	const char *err = NULL;
	size_t i, j;
	__u64 sum;
	__u32 n;

	(void)state;
	for (i = 0; i < sizeof(gv) / sizeof(gv[0]); i++) {
		n = gv_set(gv[i].name, be);
		prev = NULL;
		for (j = 0; gv[i].prev && j < i; j++)
			if (!strcmp(gv[j].name, gv[i].prev))
				prev = tabs[j];
		assert_true(!gv[i].prev || prev);
		shuffle(be, n);
		assert_int_equal(maglev_rebuild(prev, be, n, gv[i].m, gv[i].seed, &tabs[i], &err), 0);
		check_consistent(tabs[i]);
		assert_int_equal(maglev_checksum(tabs[i], &sum), 0);
		if (sum != gv[i].sum)
			fail_msg("%s: checksum %#018llx, expected %#018llx", gv[i].name,
				 (unsigned long long)sum, (unsigned long long)gv[i].sum);
	}
	for (i = 0; i < sizeof(gv) / sizeof(gv[0]); i++)
		maglev_free(tabs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_m),
		cmocka_unit_test(test_equal_shares),
		cmocka_unit_test(test_weighted_shares),
		cmocka_unit_test(test_order_independence),
		cmocka_unit_test(test_remove_add_one),
		cmocka_unit_test(test_reweight),
		cmocka_unit_test(test_rebuild_sequence),
		cmocka_unit_test(test_anchor_health),
		cmocka_unit_test(test_rebuild_from_empty_and_ring),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_stats_and_movement),
		cmocka_unit_test(test_no_usable_backend),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_golden_vectors),
	};
	int n = (int)(sizeof(tests) / sizeof(tests[0])), failed;

	failed = cmocka_run_group_tests(tests, NULL, NULL);
	fflush(stderr);
	printf("\nmaglev: %d passed, %d failed\n", n - failed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
