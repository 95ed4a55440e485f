/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared helpers for the packet-layer tests: load the real xlb.bpf.o through
 * libxlb (no pins), run frames with BPF_PROG_TEST_RUN, compare bytes with a
 * hex diff, and report in the "LAYER: N passed, N failed" form.
 */
#ifndef XLB_TEST_HARNESS_H
#define XLB_TEST_HARNESS_H

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "xlb.h"
#include "log.h"

static int xt_passed, xt_failed;

#define XT_FAIL(fmt, ...)                                                     \
	do {                                                                  \
		fprintf(stderr, "    %s:%d: " fmt "\n", __FILE__, __LINE__,       \
			##__VA_ARGS__);                                       \
		return false;                                                 \
	} while (0)

#define XT_ASSERT(cond, fmt, ...)                                             \
	do {                                                                  \
		if (!(cond))                                                  \
			XT_FAIL("%s: " fmt, #cond, ##__VA_ARGS__);            \
	} while (0)

#define XT_ASSERT_EQ(a, b)                                                    \
	do {                                                                  \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		if (a_ != b_)                                                 \
			XT_FAIL("%s == %s: got %lld, expected %lld", #a, #b,  \
				a_, b_);                                      \
	} while (0)

/* Record one test's result and print its line. */
static inline void xt_report(const char *name, bool ok)
{
	if (ok)
		xt_passed++;
	else
		xt_failed++;
	printf("%s %s\n", ok ? "ok  " : "FAIL", name);
	fflush(stdout);
}

static inline int xt_summary(const char *layer)
{
	printf("%s: %d passed, %d failed\n", layer, xt_passed, xt_failed);
	return xt_failed ? 1 : 0;
}

/*
 * Move into a fresh network namespace: no routes, so bpf_fib_lookup fails
 * and the configured static next hop is what forwards (docs/design.md).
 */
static inline int xt_private_netns(void)
{
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Stay on the CPU we run on: the data plane keeps per-CPU state (next-hop
 * cache, flow cache), and a test that expects a cache hit must send its
 * packets from one CPU.
 */
static inline int xt_pin_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Load the data plane without pins. */
static inline int xt_load(struct xlb **x, __u32 seed, __u32 conntrack)
{
	struct xlb_opts o = {
		.pin_root = "",
		.max_vips = 64,
		.max_backends = 256,
		.conntrack_size = conntrack,
		.hash_seed = seed,
	};

	xlb_log_libbpf();
	return xlb_open(&o, x);
}

/* Run one frame; *out_len in: buffer size, out: frame length. */
static inline int xt_run(int prog_fd, const void *in, __u32 in_len, void *out,
			 __u32 *out_len, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = in_len,
		    .data_out = out, .data_size_out = *out_len, .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err)
		return -errno;
	*out_len = o.data_size_out;
	*retval = o.retval;
	return 0;
}

/* Print expected and actual frames side by side, 16 bytes a row, marking
 * the rows that differ. */
static inline void xt_hexdiff(const unsigned char *exp, size_t elen,
			      const unsigned char *got, size_t glen)
{
	size_t n = elen > glen ? elen : glen, i, j;

	fprintf(stderr, "    expected %zu bytes, got %zu bytes\n", elen, glen);
	for (i = 0; i < n; i += 16) {
		bool diff = false;

		for (j = i; j < i + 16 && j < n; j++)
			if (j >= elen || j >= glen || exp[j] != got[j])
				diff = true;
		fprintf(stderr, "    %c %04zx ", diff ? '!' : ' ', i);
		for (j = i; j < i + 16; j++) {
			if (j < elen)
				fprintf(stderr, "%02x", exp[j]);
			else
				fprintf(stderr, "  ");
		}
		fprintf(stderr, " | ");
		for (j = i; j < i + 16; j++) {
			if (j < glen)
				fprintf(stderr, "%02x%s", got[j],
					j < elen && exp[j] == got[j] ? "" : "*");
			else if (j < elen)
				fprintf(stderr, "-- ");
		}
		fprintf(stderr, "\n");
	}
}

#endif /* XLB_TEST_HARNESS_H */
