// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the Prometheus exposition builder (cmocka, no root): label
 * escaping, VIP labels with IPv6 in brackets, histogram lines, families
 * written once, and the errors that bad input gets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "addr.h"
#include "expo.h"

/* Render what @fn writes and compare it with @want. */
static void expect_text(struct xlb_expo *e, const char *want)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(xlb_expo_finish(e, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	if (strcmp(text, want))
		fprintf(stderr, "got:\n%s\nwanted:\n%s\n", text, want);
	assert_string_equal(text, want);
	free(text);
}

static void test_escaping(void **state)
{
	char lab[128];
	size_t l = 0;

	(void)state;
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "a", "x\"y\\z\nw"), 0);
	assert_string_equal(lab, "a=\"x\\\"y\\\\z\\nw\"");
	assert_int_equal(l, strlen(lab));
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "b", ""), 0);
	assert_string_equal(lab, "a=\"x\\\"y\\\\z\\nw\",b=\"\"");
	/* Bad names, and no room: the buffer is left as it was. */
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "1a", "v"), -EINVAL);
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "a-b", "v"), -EINVAL);
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "__x", "v"), -EINVAL);
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "a:b", "v"), -EINVAL);
	assert_int_equal(xlb_expo_label(lab, 26, &l, "c", "toolong"), -ENOSPC);
	assert_string_equal(lab, "a=\"x\\\"y\\\\z\\nw\",b=\"\"");
}

static void test_help_and_samples(void **state)
{
	struct xlb_expo e;
	char lab[64];
	size_t l = 0;

	(void)state;
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	assert_int_equal(xlb_expo_family(&e, "x_total", XLB_EXPO_COUNTER, "a \\ b\nc \"q\""), 0);
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "k", "v\"1"), 0);
	xlb_expo_u64(&e, lab, NULL, NULL, 18446744073709551615ULL);
	xlb_expo_u64(&e, lab, "reason", "no_ring", 0);
	xlb_expo_u64(&e, NULL, NULL, NULL, 7);
	assert_int_equal(xlb_expo_family(&e, "g", XLB_EXPO_GAUGE, "gauge"), 0);
	xlb_expo_f64(&e, "", "s", "up", 0.5);
	xlb_expo_f64(&e, NULL, NULL, NULL, 1.0 / 3);
	xlb_expo_f64(&e, NULL, NULL, NULL, 1e300 * 1e300);
	expect_text(&e, "# HELP x_total a \\\\ b\\nc \"q\"\n"
			"# TYPE x_total counter\n"
			"x_total{k=\"v\\\"1\"} 18446744073709551615\n"
			"x_total{k=\"v\\\"1\",reason=\"no_ring\"} 0\n"
			"x_total 7\n"
			"# HELP g gauge\n"
			"# TYPE g gauge\n"
			"g{s=\"up\"} 0.5\n"
			"g 0.33333333333333331\n"
			"g +Inf\n");
}

static void test_vip_labels(void **state)
{
	struct xlb_vip_key k = { .port = htons(443), .proto = IPPROTO_TCP,
				 .family = XLB_AF_INET6 };
	char v[XLB_VIP_STRLEN], lab[128];
	size_t l = 0;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", k.addr), 1);
	xlb_vip_key_fmt(&k, v, sizeof(v));
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "vip", v), 0);
	assert_string_equal(lab, "vip=\"[2001:db8::1]:443/tcp\"");
	memset(&k, 0, sizeof(k));
	k.family = XLB_AF_INET;
	k.port = htons(53);
	k.proto = IPPROTO_UDP;
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", k.addr), 1);
	xlb_vip_key_fmt(&k, v, sizeof(v));
	l = 0;
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "vip", v), 0);
	assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "backend", "fd00:3::2"), 0);
	assert_string_equal(lab, "vip=\"10.0.0.1:53/udp\",backend=\"fd00:3::2\"");
}

static void test_histogram(void **state)
{
	const double bounds[] = { 0.001, 0.01, 0.1 };
	const uint64_t le[] = { 2, 5, 5 };
	const uint64_t bad[] = { 3, 2, 5 };
	const double badb[] = { 0.01, 0.001, 0.1 };
	struct xlb_expo e;

	(void)state;
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	assert_int_equal(xlb_expo_family(&e, "h_seconds", XLB_EXPO_HISTOGRAM, "h"), 0);
	xlb_expo_hist(&e, "b=\"x\"", 3, bounds, le, 1.25, 7);
	xlb_expo_hist(&e, NULL, 3, bounds, (const uint64_t[]){ 0, 0, 0 }, 0, 0);
	expect_text(&e, "# HELP h_seconds h\n"
			"# TYPE h_seconds histogram\n"
			"h_seconds_bucket{b=\"x\",le=\"0.001\"} 2\n"
			"h_seconds_bucket{b=\"x\",le=\"0.01\"} 5\n"
			"h_seconds_bucket{b=\"x\",le=\"0.1\"} 5\n"
			"h_seconds_bucket{b=\"x\",le=\"+Inf\"} 7\n"
			"h_seconds_sum{b=\"x\"} 1.25\n"
			"h_seconds_count{b=\"x\"} 7\n"
			"h_seconds_bucket{le=\"0.001\"} 0\n"
			"h_seconds_bucket{le=\"0.01\"} 0\n"
			"h_seconds_bucket{le=\"0.1\"} 0\n"
			"h_seconds_bucket{le=\"+Inf\"} 0\n"
			"h_seconds_sum 0\n"
			"h_seconds_count 0\n");

	/* A second family with other bounds: its own le values. */
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	xlb_expo_family(&e, "a_seconds", XLB_EXPO_HISTOGRAM, "a");
	xlb_expo_hist(&e, NULL, 1, bounds, le, 0, 2);
	xlb_expo_family(&e, "b_seconds", XLB_EXPO_HISTOGRAM, "b");
	xlb_expo_hist(&e, NULL, 1, (const double[]){ 2.5 }, le, 0, 2);
	expect_text(&e, "# HELP a_seconds a\n# TYPE a_seconds histogram\n"
			"a_seconds_bucket{le=\"0.001\"} 2\n"
			"a_seconds_bucket{le=\"+Inf\"} 2\n"
			"a_seconds_sum 0\na_seconds_count 2\n"
			"# HELP b_seconds b\n# TYPE b_seconds histogram\n"
			"b_seconds_bucket{le=\"2.5\"} 2\n"
			"b_seconds_bucket{le=\"+Inf\"} 2\n"
			"b_seconds_sum 0\nb_seconds_count 2\n");

	/* Counts that are not cumulative, bounds out of order, a count
	 * below a bucket: refused, and the error sticks. */
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	xlb_expo_family(&e, "h", XLB_EXPO_HISTOGRAM, "h");
	xlb_expo_hist(&e, NULL, 3, bounds, bad, 0, 5);
	assert_int_equal(e.err, -EINVAL);
	xlb_expo_release(&e);
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	xlb_expo_family(&e, "h", XLB_EXPO_HISTOGRAM, "h");
	xlb_expo_hist(&e, NULL, 3, badb, le, 0, 7);
	assert_int_equal(e.err, -EINVAL);
	xlb_expo_release(&e);
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	xlb_expo_family(&e, "h", XLB_EXPO_HISTOGRAM, "h");
	xlb_expo_hist(&e, NULL, 3, bounds, le, 0, 4);
	assert_int_equal(e.err, -EINVAL);
	xlb_expo_release(&e);
	/* A scalar sample in a histogram family, and the reverse. */
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	xlb_expo_family(&e, "h", XLB_EXPO_HISTOGRAM, "h");
	xlb_expo_u64(&e, NULL, NULL, NULL, 1);
	assert_int_equal(e.err, -EINVAL);
	xlb_expo_release(&e);
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	xlb_expo_family(&e, "g", XLB_EXPO_GAUGE, "g");
	xlb_expo_hist(&e, NULL, 3, bounds, le, 0, 7);
	assert_int_equal(e.err, -EINVAL);
	xlb_expo_release(&e);
}

static void test_family_once(void **state)
{
	struct xlb_expo e;
	char *text = NULL;
	size_t len;

	(void)state;
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	assert_int_equal(xlb_expo_family(&e, "a_total", XLB_EXPO_COUNTER, "a"), 0);
	xlb_expo_u64(&e, NULL, NULL, NULL, 1);
	assert_int_equal(xlb_expo_family(&e, "b", XLB_EXPO_GAUGE, "b"), 0);
	assert_int_equal(xlb_expo_family(&e, "a_total", XLB_EXPO_COUNTER, "again"), -EEXIST);
	/* Sticky: nothing more is written, finish reports it. */
	xlb_expo_u64(&e, NULL, NULL, NULL, 2);
	assert_int_equal(xlb_expo_finish(&e, &text, &len), -EEXIST);
	assert_null(text);

	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	assert_int_equal(xlb_expo_family(&e, "packets", XLB_EXPO_COUNTER, "x"), -EINVAL);
	xlb_expo_release(&e);
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	assert_int_equal(xlb_expo_family(&e, "9lives", XLB_EXPO_GAUGE, "x"), -EINVAL);
	xlb_expo_release(&e);
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	assert_int_equal(xlb_expo_family(&e, "a b", XLB_EXPO_GAUGE, "x"), -EINVAL);
	xlb_expo_release(&e);
	/* A sample before any family. */
	assert_int_equal(xlb_expo_init(&e, NULL, 0), 0);
	xlb_expo_u64(&e, NULL, NULL, NULL, 1);
	assert_int_equal(e.err, -EINVAL);
	xlb_expo_release(&e);
}

/* Many series: the buffer grows past its first size and every line is
 * there, once. */
static void test_growth(void **state)
{
	struct xlb_expo e;
	char lab[64], *text = NULL, *p;
	size_t len, l;
	int i, lines = 0;

	(void)state;
	/* Starting in a small buffer of the caller's, which it takes over. */
	assert_int_equal(xlb_expo_init(&e, malloc(16), 16), 0);
	assert_int_equal(xlb_expo_family(&e, "n_total", XLB_EXPO_COUNTER, "n"), 0);
	for (i = 0; i < 20000; i++) {
		char v[16];

		snprintf(v, sizeof(v), "%d", i);
		l = 0;
		assert_int_equal(xlb_expo_label(lab, sizeof(lab), &l, "i", v), 0);
		xlb_expo_u64(&e, lab, NULL, NULL, (uint64_t)i * 1000);
	}
	assert_int_equal(xlb_expo_finish(&e, &text, &len), 0);
	for (p = text; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 20000 + 2);
	assert_non_null(strstr(text, "\nn_total{i=\"19999\"} 19999000\n"));
	assert_int_equal(strstr(text, "# TYPE n_total"), strstr(text, "# TYPE"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_help_and_samples),
		cmocka_unit_test(test_vip_labels),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_family_once),
		cmocka_unit_test(test_growth),
	};
	int n = (int)(sizeof(tests) / sizeof(tests[0])), failed;

	failed = cmocka_run_group_tests(tests, NULL, NULL);
	fflush(stderr);
	printf("\nmetrics: %d passed, %d failed\n", n - failed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
