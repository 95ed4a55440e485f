// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Maglev table builder benchmark (no root): build time, balance, and the
 * slots moved when one backend is removed, for plain Maglev (a fresh
 * build of the new set) and for maglev_rebuild() from the previous table.
 * As root it also times publication into the kernel (xlb_ring_publish:
 * a new inner map filled through mmap, then one outer-map update).
 *
 * Prints figures and exits 0 whether or not a target is met; non-zero
 * only when a build fails.  docs/maglev.md has the figures.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <unistd.h>
#include "maglev.h"
#include "xlb.h"
#include "log.h"

#define SEED		0x5eed1234U
#define MAX_RUNS	101

static const __u32 sizes_n[] = { 10, 100, 1000, 5000 };
static const __u32 sizes_m[] = { 65537, 655373 };

struct row {
	__u32 n, m;
	double build_ms, rebuild_ms, max_ratio;
	double plain_moved, plain_nec, plain_unnec;	/* % of m */
	double re_moved, re_nec, re_unnec;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), dbl_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* n backends 10.x.y.z, equal weight, ids in reverse so they never follow the order */
static void make_backends(struct maglev_backend *be, __u32 n)
{
	__u32 i, a[4] = { 0 };

	for (i = 0; i < n; i++) {
		memset(&be[i], 0, sizeof(be[i]));
		a[0] = htonl(0x0a000000U + 1 + i);
		maglev_ident_addr(&be[i], XLB_AF_INET, a, 0);
		be[i].id = n - i;
		be[i].weight = 1;
		be[i].state = MAGLEV_UP;
	}
}

static int fail(const char *what, int err, const char *msg)
{
	fprintf(stderr, "bench_maglev: %s: %s (%s)\n", what, strerror(-err), msg ? msg : "");
	return 1;
}

static int measure(struct row *r, __u32 n, __u32 m, int runs, int removals)
{
	struct maglev_backend *be = calloc(n, sizeof(*be)), *less = calloc(n, sizeof(*less));
	struct maglev_table *t = NULL, *plain = NULL, *re = NULL;
	double tb[MAX_RUNS], tr[MAX_RUNS * 8], t0;
	struct maglev_stats st;
	struct maglev_move mv;
	const char *msg = NULL;
	int i, k, nr = 0, ret = 1, err;
	__u32 gone;

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->m = m;
	if (!be || !less) {
		fprintf(stderr, "bench_maglev: out of memory\n");
		goto out;
	}
	make_backends(be, n);
	for (i = 0; i < runs; i++) {
		maglev_free(t);
		t0 = now_ms();
		err = maglev_build(be, n, m, SEED, &t, &msg);
		tb[i] = now_ms() - t0;
		if (err) {
			ret = fail("build", err, msg);
			goto out;
		}
	}
	r->build_ms = median(tb, runs);
	maglev_stats(t, &st);
	r->max_ratio = st.max_ratio;

	/* Remove backends spread over the set, one at a time, and average. */
	for (k = 0; k < removals; k++) {
		gone = (__u32)(((__u64)k * 2 + 1) * n / (2 * (__u64)removals));
		memcpy(less, be, gone * sizeof(*be));
		memcpy(less + gone, be + gone + 1, (n - gone - 1) * sizeof(*be));
		err = maglev_build(less, n - 1, m, SEED, &plain, &msg);
		if (err) {
			ret = fail("build without one", err, msg);
			goto out;
		}
		maglev_movement(t, plain, &mv);
		r->plain_moved += 100.0 * mv.moved / m / removals;
		r->plain_nec += 100.0 * mv.necessary / m / removals;
		r->plain_unnec += 100.0 * mv.unnecessary / m / removals;
		for (i = 0; i < (runs + removals - 1) / removals && nr < MAX_RUNS * 8; i++) {
			maglev_free(re);
			t0 = now_ms();
			err = maglev_rebuild(t, less, n - 1, m, SEED, &re, &msg);
			tr[nr++] = now_ms() - t0;
			if (err) {
				ret = fail("rebuild", err, msg);
				goto out;
			}
		}
		maglev_movement(t, re, &mv);
		r->re_moved += 100.0 * mv.moved / m / removals;
		r->re_nec += 100.0 * mv.necessary / m / removals;
		r->re_unnec += 100.0 * mv.unnecessary / m / removals;
		maglev_free(plain);
		plain = NULL;
	}
	r->rebuild_ms = median(tr, nr);
	ret = 0;
out:
	maglev_free(re);
	maglev_free(plain);
	maglev_free(t);
	free(less);
	free(be);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_maglev [-r RUNS] [-k REMOVALS]\n"
		   "  -r RUNS      builds timed per size, median reported (default 11, max %d)\n"
		   "  -k REMOVALS  backends removed one at a time per size, averaged (default 5)\n",
		MAX_RUNS);
}

/* Median time to publish each (M, N) table into a loaded data plane (no
 * pins).  Returns 0, or a negative errno. */
static int publish_times(int runs)
{
	struct xlb_opts o = { .pin_root = "", .max_vips = 4, .max_backends = 8192,
			      .conntrack_size = 1024 };
	static struct maglev_backend be[5000];
	struct maglev_table *t = NULL;
	double ms[MAX_RUNS], med;
	struct xlb *x = NULL;
	size_t a, b;
	int i, err;

	make_backends(be, 5000);
	err = xlb_open(&o, &x);
	if (err)
		goto out;
	printf("\npublication into the kernel (xlb_ring_publish: new inner map, mmap fill, one\n"
	       "outer-map update), median of %d:\n", runs);
	for (a = 0; a < sizeof(sizes_m) / sizeof(sizes_m[0]); a++) {
		for (b = 0; b < sizeof(sizes_n) / sizeof(sizes_n[0]); b++) {
			err = maglev_build(be, sizes_n[b], sizes_m[a], SEED, &t, NULL);
			if (err)
				goto out;
			for (i = 0; i < runs; i++) {
				double t0 = now_ms();

				err = xlb_ring_publish(x, 1, t->ring, t->m);
				if (err)
					goto out;
				ms[i] = now_ms() - t0;
			}
			med = median(ms, runs);
			printf("  M=%-7u N=%-5u %7.3f ms%s\n", sizes_m[a], sizes_n[b], med,
			       sizes_m[a] == 65537 && sizes_n[b] == 1000 ?
				       (med < 5.0 ? "   (target < 5 ms: met)" : "   (target < 5 ms: MISSED)") :
				       "");
			maglev_free(t);
			t = NULL;
		}
	}
out:
	maglev_free(t);
	xlb_close(x);
	return err;
}

int main(int argc, char **argv)
{
	struct row rows[sizeof(sizes_n) / sizeof(sizes_n[0]) * sizeof(sizes_m) / sizeof(sizes_m[0])];
	int runs = 11, removals = 5, c, nrows = 0, i;
	size_t a, b;
	const struct row *ref = NULL;
	bool imb_ok = true;

	while ((c = getopt(argc, argv, "r:k:h")) != -1) {
		switch (c) {
		case 'r':
			runs = atoi(optarg);
			break;
		case 'k':
			removals = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || removals < 1 || removals > 50) {
		usage(stderr);
		return 2;
	}

	printf("Maglev builder: equal weights, seed %#x, median of %d builds; removal figures are\n"
	       "the mean over %d single-backend removals, in %% of M.\n\n",
	       SEED, runs, removals);
	printf("%7s %5s | %8s %10s | %9s %9s | %-23s | %-23s\n", "", "", "build", "rebuild",
	       "imbalance", "", "plain Maglev: moved %", "rebuild: moved %");
	printf("%7s %5s | %8s %10s | %9s %9s | %7s %7s %7s | %7s %7s %7s\n", "M", "N", "ms", "ms",
	       "max/mean", "1+N/M", "total", "needed", "extra", "total", "needed", "extra");
	for (a = 0; a < sizeof(sizes_m) / sizeof(sizes_m[0]); a++) {
		for (b = 0; b < sizeof(sizes_n) / sizeof(sizes_n[0]); b++) {
			struct row *r = &rows[nrows];

			if (measure(r, sizes_n[b], sizes_m[a], runs, removals))
				return 1;
			nrows++;
			printf("%7u %5u | %8.3f %10.3f | %9.5f %9.5f | %7.3f %7.3f %7.3f | %7.3f %7.3f %7.3f\n",
			       r->m, r->n, r->build_ms, r->rebuild_ms, r->max_ratio,
			       1.0 + (double)r->n / r->m, r->plain_moved, r->plain_nec,
			       r->plain_unnec, r->re_moved, r->re_nec, r->re_unnec);
			fflush(stdout);
		}
	}
	for (i = 0; i < nrows; i++) {
		if (rows[i].n == 1000 && rows[i].m == 65537)
			ref = &rows[i];
		if (rows[i].max_ratio > 1.0 + (double)rows[i].n / rows[i].m + 1e-9)
			imb_ok = false;
	}
	printf("\ntargets:\n");
	if (ref) {
		printf("  build N=1000 M=65537 < 2 ms:                 %.3f ms  %s\n", ref->build_ms,
		       ref->build_ms < 2.0 ? "met" : "MISSED");
		printf("  extra movement <= half of plain Maglev's:     %.3f%% vs %.3f%%  %s\n",
		       ref->re_unnec, ref->plain_unnec,
		       ref->re_unnec <= ref->plain_unnec / 2 ? "met" : "MISSED");
	}
	printf("  imbalance <= 1 + N/M on every row:            %s\n", imb_ok ? "met" : "MISSED");
	if (geteuid() == 0) {
		int err = publish_times(runs);

		if (err)
			fprintf(stderr, "bench_maglev: publication not measured: %s\n", strerror(-err));
	} else {
		printf("\npublication: not measured (needs root)\n");
	}
	return 0;
}
