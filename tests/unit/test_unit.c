// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests (cmocka, no root): the shared flow hash against fixed vectors
 * (computed by the independent Python mirror; a change here breaks
 * cross-host and cross-version determinism), VIP/address parsing, and the
 * reason table.
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
#include <xlb/hash.h>
#include "addr.h"
#include "xlb.h"

static const char *vectors_path = "tests/unit/hash_vectors.txt";

static void test_hash_vectors(void **state)
{
	char line[512], kind[8], src[64], dst[64];
	unsigned long seed, sport, dport, proto, want;
	int n = 0;
	FILE *f = fopen(vectors_path, "r");

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		__u32 s[4], d[4], got;
		__u8 fs, fd = 0;

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%7s %lu %63s %63s %lu %lu %lu %lu", kind, &seed, src,
					dst, &sport, &dport, &proto, &want), 8);
		assert_int_equal(xlb_addr_parse(src, s, &fs), 0);
		if (!strcmp(kind, "flow")) {
			assert_int_equal(xlb_addr_parse(dst, d, &fd), 0);
			assert_int_equal(fs, fd);
			got = xlb_flow_hash(s, d, fs == XLB_AF_INET ? 1 : 4, htons((__u16)sport),
					    htons((__u16)dport), (__u8)proto, (__u32)seed);
		} else {
			got = xlb_src_hash(s, fs == XLB_AF_INET ? 1 : 4, (__u32)seed);
		}
		if (got != want)
			fail_msg("%s: got %u, expected %lu", line, got, want);
		n++;
	}
	fclose(f);
	assert_true(n >= 10);
}

static void test_hash_spread(void **state)
{
	/* 65536 flows over 13 slots: every slot within 10% of the mean. */
	unsigned int cnt[13] = { 0 };
	__u32 s[4] = { 0 }, d[4] = { 0 };
	unsigned int i;

	(void)state;
	d[0] = htonl(0x0a000001);
	for (i = 0; i < 65536; i++) {
		s[0] = htonl(0xc0000200 | (i >> 8));
		cnt[xlb_flow_hash(s, d, 1, htons((__u16)(i & 0xff) + 1024), htons(80), 6, 1) % 13]++;
	}
	for (i = 0; i < 13; i++) {
		assert_true(cnt[i] > 65536 / 13 * 9 / 10);
		assert_true(cnt[i] < 65536 / 13 * 11 / 10);
	}
}

static void test_vip_parse_ok(void **state)
{
	struct xlb_vip_key k;
	char buf[XLB_VIP_STRLEN];

	(void)state;
	assert_int_equal(xlb_vip_key_parse("10.0.0.1:80/tcp", &k, NULL), 0);
	assert_int_equal(k.family, XLB_AF_INET);
	assert_int_equal(k.proto, IPPROTO_TCP);
	assert_int_equal(ntohs(k.port), 80);
	assert_int_equal(k.addr[0], htonl(0x0a000001));
	assert_string_equal(xlb_vip_key_fmt(&k, buf, sizeof(buf)), "10.0.0.1:80/tcp");

	assert_int_equal(xlb_vip_key_parse("[2001:db8::1]:443/udp", &k, NULL), 0);
	assert_int_equal(k.family, XLB_AF_INET6);
	assert_int_equal(k.proto, IPPROTO_UDP);
	assert_string_equal(xlb_vip_key_fmt(&k, buf, sizeof(buf)), "[2001:db8::1]:443/udp");

	assert_int_equal(xlb_vip_key_parse("10.0.0.2/tcp", &k, NULL), 0);
	assert_int_equal(k.port, 0);
	assert_int_equal(xlb_vip_key_parse("2001:db8::5/tcp", &k, NULL), 0);
	assert_int_equal(k.family, XLB_AF_INET6);
	assert_int_equal(k.port, 0);
}

static void test_vip_parse_errors(void **state)
{
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "10.0.0.1:80", "missing /tcp" },
		{ "10.0.0.1:80/sctp", "unknown protocol" },
		{ "10.0.0.256:80/tcp", "invalid address" },
		{ "10.0.0.1:65536/tcp", "invalid port" },
		{ "10.0.0.1:-1/tcp", "invalid port" },
		{ "10.0.0.1:/tcp", "invalid port" },
		{ "10.0.0.1:8x/tcp", "invalid port" },
		{ "[2001:db8::1:80/tcp", "missing ']'" },
		{ "[2001:db8::1]80/tcp", "expected ':PORT'" },
		{ "host.example:80/tcp", "invalid address" },
		{ "", "missing /tcp" },
	};
	struct xlb_vip_key k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;

		assert_int_equal(xlb_vip_key_parse(bad[i].in, &k, &err), -EINVAL);
		assert_non_null(err);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].in, err, bad[i].msg);
	}
}

static void test_mac_parse(void **state)
{
	__u8 mac[6];

	(void)state;
	assert_int_equal(xlb_mac_parse("02:00:00:00:00:aa", mac), 0);
	assert_int_equal(mac[5], 0xaa);
	assert_int_equal(xlb_mac_parse("02:00:00:00:00", mac), -EINVAL);
	assert_int_equal(xlb_mac_parse("02:00:00:00:00:aa:bb", mac), -EINVAL);
}

static void test_reason_names(void **state)
{
	int r, s;

	(void)state;
	assert_string_equal(xlb_reason_name(XLB_R_NO_RING), "no_ring");
	assert_string_equal(xlb_reason_kind(XLB_R_NO_RING), "drop");
	assert_string_equal(xlb_reason_kind(XLB_R_NOT_VIP), "pass");
	assert_string_equal(xlb_reason_name(XLB_R_MAX), "unknown");
	for (r = 0; r < XLB_R_MAX; r++)
		for (s = r + 1; s < XLB_R_MAX; s++)
			assert_string_not_equal(xlb_reason_name(r), xlb_reason_name(s));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_hash_spread),
		cmocka_unit_test(test_vip_parse_ok),
		cmocka_unit_test(test_vip_parse_errors),
		cmocka_unit_test(test_mac_parse),
		cmocka_unit_test(test_reason_names),
	};
	int n = (int)(sizeof(tests) / sizeof(tests[0])), failed;

	if (argc > 1)
		vectors_path = argv[1];
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	fflush(stderr);
	printf("\nunit: %d passed, %d failed\n", n - failed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
