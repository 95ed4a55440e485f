// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the config schema (cmocka, no root): defaults, the binary
 * forms the daemon uses, one exact message per invalid input, the canonical
 * dump, the round trip, and the reload diff.  argv[1] overrides the path of
 * the example config (deploy/xlb.json, relative to the repository root).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "addr.h"
#include "config.h"

static const char *example_path = "deploy/xlb.json";

/* The smallest valid config, and fragments to build the invalid ones. */
#define IFACE	"\"interfaces\": [{\"name\": \"eth0\"}]"
#define MIN	"{\"version\": 1, " IFACE "}"
#define WITH(x)	"{\"version\": 1, " IFACE ", " x "}"
#define VIP1(x)	WITH("\"vips\": [{\"vip\": \"10.0.0.1:80/tcp\", " x "}]")
#define BE1(x)	VIP1("\"backends\": [{\"address\": \"10.1.0.1\", " x "}]")

static struct xlb_cfg *parse_ok(const char *text)
{
	char err[XLB_CFG_ERRLEN];
	struct xlb_cfg *c = NULL;
	int ret = xlb_config_parse(text, strlen(text), &c, err, sizeof(err));

	if (ret)
		fail_msg("rejected (%d): %s\n%s", ret, err, text);
	assert_non_null(c);
	return c;
}

static char *dump_ok(const struct xlb_cfg *c)
{
	char *t = NULL;

	assert_int_equal(xlb_config_dump(c, &t), 0);
	assert_non_null(t);
	return t;
}

static void test_minimal_defaults(void **state)
{
	struct xlb_cfg *c = parse_ok(MIN);
	__u32 a[4];
	__u8 fam;

	(void)state;
	assert_int_equal(c->version, 1);
	assert_int_equal(c->n_ifaces, 1);
	assert_string_equal(c->ifaces[0].name, "eth0");
	assert_int_equal(c->ifaces[0].mode, XLB_CFG_MODE_NATIVE);
	assert_string_equal(c->pin_root, "/sys/fs/bpf/xlb");
	assert_int_equal(c->hash_seed, 0);
	assert_int_equal(c->limits.max_vips, 1024);
	assert_int_equal(c->limits.max_backends, 65536);
	assert_int_equal(c->limits.conntrack, 1000000);
	assert_int_equal(c->encap.src4, htonl(0xac100000));
	assert_int_equal(c->encap.src4_len, 16);
	assert_int_equal(xlb_addr_parse("fd00:786c:6200::", a, &fam), 0);
	assert_memory_equal(c->encap.src6, a, 16);
	assert_int_equal(c->encap.src6_len, 96);
	assert_false(c->next_hop.has_static);
	assert_false(c->next_hop.skip_fib);
	assert_string_equal(c->control.socket, "/run/xlb/xlbd.sock");
	assert_null(c->control.group);
	assert_int_equal(c->control.max_clients, 16);
	assert_int_equal(c->control.max_request_bytes, 65536);
	assert_int_equal(c->control.idle_timeout_s, 60);
	assert_string_equal(c->metrics.listen, "127.0.0.1:9641");
	assert_int_equal(c->metrics.family, XLB_AF_INET);
	assert_int_equal(c->metrics.addr[0], htonl(0x7f000001));
	assert_int_equal(c->metrics.port, 9641);
	assert_string_equal(c->state_file, "/var/lib/xlb/state.json");
	assert_int_equal(c->n_vips, 0);
	assert_null(c->vips);
	xlb_config_free(c);
}

static void test_vip_defaults(void **state)
{
	struct xlb_cfg *c = parse_ok(VIP1("\"backends\": [{\"address\": \"10.1.0.1\"}]"));
	const struct xlb_cfg_vip *v;

	(void)state;
	assert_int_equal(c->n_vips, 1);
	v = &c->vips[0];
	assert_int_equal(v->key.family, XLB_AF_INET);
	assert_int_equal(v->key.addr[0], htonl(0x0a000001));
	assert_int_equal(v->key.port, htons(80));
	assert_int_equal(v->key.proto, IPPROTO_TCP);
	assert_int_equal(v->ring_size, XLB_DEF_RING_SIZE);
	assert_int_equal(v->hash, XLB_CFG_HASH_5TUPLE);
	assert_true(v->conntrack);
	assert_int_equal(v->encap, XLB_ENCAP_IPIP);
	assert_int_equal(xlb_cfg_vip_flags(v), 0);
	assert_int_equal(v->n_backends, 1);
	assert_int_equal(v->backends[0].family, XLB_AF_INET);
	assert_int_equal(v->backends[0].addr[0], htonl(0x0a010001));
	assert_int_equal(v->backends[0].weight, 100);
	assert_int_equal(v->backends[0].state, XLB_CFG_BE_UP);
	xlb_config_free(c);
}

static const char full_text[] =
	"{\"version\": 1,\n"
	" \"interfaces\": [{\"name\": \"eth1\", \"mode\": \"generic\"}, {\"name\": \"eth0\"}],\n"
	" \"pin_root\": \"/sys/fs/bpf/xlb-a\", \"hash_seed\": 4294967295,\n"
	" \"limits\": {\"max_vips\": 16, \"max_backends\": 128, \"conntrack\": 1024},\n"
	" \"encap\": {\"src4\": \"10.200.0.0/24\", \"src6\": \"fd00:1:2::/96\"},\n"
	" \"next_hop\": {\"static\": {\"ifname\": \"veth-lb\", \"dmac\": \"02:00:00:00:00:AA\",\n"
	"                          \"smac\": \"02:00:00:00:00:bb\"}, \"skip_fib\": true},\n"
	" \"control\": {\"socket\": \"/tmp/x.sock\", \"group\": \"xlb\", \"max_clients\": 1,\n"
	"             \"max_request_bytes\": 256, \"idle_timeout_s\": 3600},\n"
	" \"metrics\": {\"listen\": \"[::1]:80\"},\n"
	" \"state_file\": \"/tmp/state.json\",\n"
	" \"vips\": [\n"
	"  {\"vip\": \"[2001:db8::1]:443/udp\", \"ring_size\": 13, \"hash\": \"src\",\n"
	"   \"conntrack\": false, \"encap\": \"ipip\",\n"
	"   \"backends\": [{\"address\": \"2001:db8:1::2\", \"weight\": 0, \"state\": \"drain\"},\n"
	"                {\"address\": \"10.1.0.9\", \"weight\": 65535}]},\n"
	"  {\"vip\": \"10.0.0.1/tcp\"},\n"
	"  {\"vip\": \"10.0.0.1:80/tcp\", \"backends\": [{\"address\": \"10.1.0.2\"},\n"
	"   {\"address\": \"10.1.0.10\"}, {\"address\": \"10.1.0.1\"}]}\n"
	" ]}\n";

static void test_full(void **state)
{
	struct xlb_cfg *c = parse_ok(full_text);
	const struct xlb_cfg_vip *v;
	const __u8 dmac[6] = { 2, 0, 0, 0, 0, 0xaa }, smac[6] = { 2, 0, 0, 0, 0, 0xbb };
	__u32 a[4];
	__u8 fam;

	(void)state;
	/* Interfaces, VIPs and backends come out sorted. */
	assert_int_equal(c->n_ifaces, 2);
	assert_string_equal(c->ifaces[0].name, "eth0");
	assert_int_equal(c->ifaces[0].mode, XLB_CFG_MODE_NATIVE);
	assert_string_equal(c->ifaces[1].name, "eth1");
	assert_int_equal(c->ifaces[1].mode, XLB_CFG_MODE_GENERIC);
	assert_string_equal(c->pin_root, "/sys/fs/bpf/xlb-a");
	assert_int_equal(c->hash_seed, 0xffffffffU);
	assert_int_equal(c->limits.max_vips, 16);
	assert_int_equal(c->limits.max_backends, 128);
	assert_int_equal(c->limits.conntrack, 1024);
	assert_int_equal(c->encap.src4, htonl(0x0ac80000));
	assert_int_equal(c->encap.src4_len, 24);
	assert_int_equal(xlb_addr_parse("fd00:1:2::", a, &fam), 0);
	assert_memory_equal(c->encap.src6, a, 16);
	assert_true(c->next_hop.has_static);
	assert_true(c->next_hop.skip_fib);
	assert_string_equal(c->next_hop.ifname, "veth-lb");
	assert_memory_equal(c->next_hop.dmac, dmac, 6);
	assert_memory_equal(c->next_hop.smac, smac, 6);
	assert_string_equal(c->control.socket, "/tmp/x.sock");
	assert_string_equal(c->control.group, "xlb");
	assert_int_equal(c->control.max_clients, 1);
	assert_int_equal(c->control.max_request_bytes, 256);
	assert_int_equal(c->control.idle_timeout_s, 3600);
	assert_int_equal(c->metrics.family, XLB_AF_INET6);
	assert_int_equal(c->metrics.port, 80);
	assert_string_equal(c->metrics.listen, "[::1]:80");
	assert_string_equal(c->state_file, "/tmp/state.json");

	assert_int_equal(c->n_vips, 3);
	/* IPv4 first; port 0 (all ports) before port 80. */
	assert_int_equal(c->vips[0].key.port, 0);
	assert_int_equal(c->vips[1].key.port, htons(80));
	assert_int_equal(c->vips[1].n_backends, 3);
	assert_int_equal(c->vips[1].backends[0].addr[0], htonl(0x0a010001));
	assert_int_equal(c->vips[1].backends[1].addr[0], htonl(0x0a010002));
	assert_int_equal(c->vips[1].backends[2].addr[0], htonl(0x0a01000a));
	v = &c->vips[2];
	assert_int_equal(v->key.family, XLB_AF_INET6);
	assert_int_equal(v->key.proto, IPPROTO_UDP);
	assert_int_equal(v->key.port, htons(443));
	assert_int_equal(v->ring_size, 13);
	assert_int_equal(v->hash, XLB_CFG_HASH_SRC);
	assert_false(v->conntrack);
	assert_int_equal(xlb_cfg_vip_flags(v), XLB_VIP_F_HASH_SRC_ONLY | XLB_VIP_F_NO_CONNTRACK);
	assert_int_equal(v->n_backends, 2);
	/* A v6 VIP may have a v4 backend (6-in-4); families sort v4 first. */
	assert_int_equal(v->backends[0].family, XLB_AF_INET);
	assert_int_equal(v->backends[0].weight, 65535);
	assert_int_equal(v->backends[1].family, XLB_AF_INET6);
	assert_int_equal(v->backends[1].weight, 0);
	assert_int_equal(v->backends[1].state, XLB_CFG_BE_DRAIN);
	xlb_config_free(c);
}

struct bad {
	const char *json;
	const char *msg;	/* the message must start with this */
};

static const struct bad bad[] = {
	/* Document level */
	{ "[]", "expected a JSON object at the top level, got an array" },
	{ "{\"version\": 1, \"interfaces\": [", "JSON syntax error at line 1:" },
	{ MIN " x", "JSON syntax error at line 1:" },
	{ "{\"version\": 1, \"version\": 1, " IFACE "}", "JSON syntax error at line 1:" },
	{ "{" IFACE "}", "version: missing (expected 1)" },
	{ "{\"version\": 2, " IFACE "}", "version: expected 1 (the only version this xlb reads), got 2" },
	{ "{\"version\": \"1\", " IFACE "}", "version: expected 1 (the only version this xlb reads), got \"1\"" },
	{ WITH("\"vipz\": []"), "vipz: unknown key (expected one of: version, interfaces," },
	/* Interfaces */
	{ "{\"version\": 1}", "interfaces: missing" },
	{ "{\"version\": 1, \"interfaces\": []}", "interfaces: expected an array of at least one interface, got []" },
	{ "{\"version\": 1, \"interfaces\": [{\"name\": \"abcdefghijklmnop\"}]}", "interfaces[0].name: expected an interface name" },
	{ "{\"version\": 1, \"interfaces\": [{\"name\": \"eth 0\"}]}", "interfaces[0].name: expected an interface name" },
	{ "{\"version\": 1, \"interfaces\": [{\"name\": \"eth0\"}, {\"name\": \"eth0\"}]}", "interfaces[1].name: duplicate of interfaces[0] (eth0)" },
	{ "{\"version\": 1, \"interfaces\": [{\"name\": \"eth0\", \"mode\": \"xdp\"}]}", "interfaces[0].mode: expected \"native\" or \"generic\", got \"xdp\"" },
	{ "{\"version\": 1, \"interfaces\": [{\"name\": \"eth0\", \"mtu\": 1500}]}", "interfaces[0].mtu: unknown key (expected one of: name, mode)" },
	{ "{\"version\": 1, \"interfaces\": [\"eth0\"]}", "interfaces[0]: expected an object, got \"eth0\"" },
	/* Globals */
	{ WITH("\"pin_root\": \"xlb\""), "pin_root: expected an absolute path of at most 4095 bytes, got \"xlb\"" },
	{ WITH("\"hash_seed\": -1"), "hash_seed: expected an integer 0..4294967295, got -1" },
	{ WITH("\"hash_seed\": 4294967296"), "hash_seed: expected an integer 0..4294967295, got 4294967296" },
	{ WITH("\"hash_seed\": \"1\""), "hash_seed: expected an integer 0..4294967295, got \"1\"" },
	{ WITH("\"limits\": {\"max_vips\": 1}"), "limits.max_vips: expected an integer 2..65536, got 1" },
	{ WITH("\"limits\": {\"max_backends\": 1048577}"), "limits.max_backends: expected an integer 2..1048576, got 1048577" },
	{ WITH("\"limits\": {\"conntrack\": 1.5}"), "limits.conntrack: expected an integer 1024..100000000, got 1.5" },
	{ WITH("\"limits\": {\"max_vip\": 4}"), "limits.max_vip: unknown key (expected one of: max_vips, max_backends, conntrack)" },
	{ WITH("\"limits\": []"), "limits: expected an object, got an array" },
	{ WITH("\"encap\": {\"src4\": \"172.16.0.0/33\"}"), "encap.src4: expected an IPv4 prefix ADDR/LEN with LEN 8..32, got \"172.16.0.0/33\"" },
	{ WITH("\"encap\": {\"src4\": \"172.16.0.0/7\"}"), "encap.src4: expected an IPv4 prefix" },
	{ WITH("\"encap\": {\"src4\": \"172.16.0.1/16\"}"), "encap.src4: expected an IPv4 prefix ADDR/LEN with LEN 8..32, got \"172.16.0.1/16\" with host bits set" },
	{ WITH("\"encap\": {\"src4\": \"fd00::/16\"}"), "encap.src4: expected an IPv4 prefix" },
	{ WITH("\"encap\": {\"src6\": \"fd00::/64\"}"), "encap.src6: expected an IPv6 prefix ADDR/96, got \"fd00::/64\"" },
	{ WITH("\"encap\": {\"src6\": \"fd00::1:0:1/96\"}"), "encap.src6: expected an IPv6 prefix ADDR/96, got \"fd00::1:0:1/96\" with host bits set" },
	{ WITH("\"next_hop\": {\"static\": {\"ifname\": \"eth0\", \"dmac\": \"aa:bb:cc:dd:ee\", \"smac\": \"02:00:00:00:00:01\"}}"), "next_hop.static.dmac: expected a unicast MAC address aa:bb:cc:dd:ee:ff, got \"aa:bb:cc:dd:ee\"" },
	{ WITH("\"next_hop\": {\"static\": {\"ifname\": \"eth0\", \"dmac\": \"a:bb:cc:dd:ee:ff\", \"smac\": \"02:00:00:00:00:01\"}}"), "next_hop.static.dmac: expected a unicast MAC" },
	{ WITH("\"next_hop\": {\"static\": {\"ifname\": \"eth0\", \"dmac\": \"02:00:00:00:00:02\", \"smac\": \"01:00:5e:00:00:01\"}}"), "next_hop.static.smac: expected a unicast MAC" },
	{ WITH("\"next_hop\": {\"static\": {\"dmac\": \"02:00:00:00:00:02\", \"smac\": \"02:00:00:00:00:01\"}}"), "next_hop.static.ifname: missing" },
	{ WITH("\"next_hop\": {\"static\": {\"ifname\": \"eth0\", \"dmac\": \"02:00:00:00:00:02\", \"smac\": \"02:00:00:00:00:01\", \"vlan\": 5}}"), "next_hop.static.vlan: unknown key" },
	{ WITH("\"next_hop\": {\"skip_fib\": true}"), "next_hop.skip_fib: true needs next_hop.static" },
	{ WITH("\"next_hop\": {\"skip_fib\": \"yes\"}"), "next_hop.skip_fib: expected true or false, got \"yes\"" },
	{ WITH("\"control\": {\"socket\": \"/run/xlb/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\"}"), "control.socket: expected an absolute path of at most 107 bytes" },
	{ WITH("\"control\": {\"group\": \"\"}"), "control.group: expected null or a group name of 1..32 characters, got \"\"" },
	{ WITH("\"control\": {\"group\": 0}"), "control.group: expected null or a group name of 1..32 characters, got 0" },
	{ WITH("\"control\": {\"max_clients\": 0}"), "control.max_clients: expected an integer 1..1024, got 0" },
	{ WITH("\"control\": {\"max_request_bytes\": 255}"), "control.max_request_bytes: expected an integer 256..1048576, got 255" },
	{ WITH("\"control\": {\"idle_timeout_s\": 3601}"), "control.idle_timeout_s: expected an integer 1..3600, got 3601" },
	{ WITH("\"control\": {\"timeout\": 5}"), "control.timeout: unknown key" },
	{ WITH("\"metrics\": {\"listen\": \"::1:9641\"}"), "metrics.listen: expected ADDR:PORT or [ADDR6]:PORT with PORT 1..65535, got \"::1:9641\"" },
	{ WITH("\"metrics\": {\"listen\": \"127.0.0.1:0\"}"), "metrics.listen: expected ADDR:PORT" },
	{ WITH("\"metrics\": {\"listen\": \"127.0.0.1\"}"), "metrics.listen: expected ADDR:PORT" },
	{ WITH("\"metrics\": {\"listen\": \"[127.0.0.1]:80\"}"), "metrics.listen: expected ADDR:PORT" },
	{ WITH("\"state_file\": 5"), "state_file: expected an absolute path, got 5" },
	/* VIPs */
	{ WITH("\"vips\": {}"), "vips: expected an array of VIPs, got an object" },
	{ WITH("\"vips\": [\"10.0.0.1:80/tcp\"]"), "vips[0]: expected an object, got \"10.0.0.1:80/tcp\"" },
	{ WITH("\"vips\": [{\"ring_size\": 13}]"), "vips[0].vip: missing (expected a VIP ADDR:PORT/PROTO" },
	{ WITH("\"vips\": [{\"vip\": \"10.0.0.1:80\"}]"), "vips[0].vip: missing /tcp or /udp: expected ADDR:PORT/PROTO, got \"10.0.0.1:80\"" },
	{ WITH("\"vips\": [{\"vip\": \"10.0.0.300:80/tcp\"}]"), "vips[0].vip: invalid address: expected IPv4 or [IPv6], got \"10.0.0.300:80/tcp\"" },
	{ WITH("\"vips\": [{\"vip\": \"10.0.0.1:70000/tcp\"}]"), "vips[0].vip: invalid port: expected 0-65535, got \"10.0.0.1:70000/tcp\"" },
	{ WITH("\"vips\": [{\"vip\": \"10.0.0.1:80/sctp\"}]"), "vips[0].vip: unknown protocol: expected tcp or udp" },
	{ WITH("\"vips\": [{\"vip\": \"0.0.0.0:80/tcp\"}]"), "vips[0].vip: expected a unicast address, got \"0.0.0.0:80/tcp\"" },
	{ VIP1("\"ring_size\": 65536"), "vips[0].ring_size: expected a prime 2..1048573, got 65536" },
	{ VIP1("\"ring_size\": 1048583"), "vips[0].ring_size: expected a prime 2..1048573, got 1048583" },
	{ VIP1("\"ring_size\": \"13\""), "vips[0].ring_size: expected a prime 2..1048573, got \"13\"" },
	{ VIP1("\"hash\": \"dst\""), "vips[0].hash: expected \"5tuple\" or \"src\", got \"dst\"" },
	{ VIP1("\"conntrack\": \"true\""), "vips[0].conntrack: expected true or false, got \"true\"" },
	{ VIP1("\"encap\": \"gue\""), "vips[0].encap: expected \"ipip\", got \"gue\"" },
	{ VIP1("\"weight\": 5"), "vips[0].weight: unknown key (expected one of: vip, ring_size, hash, conntrack, encap, health, slow_start_s, latency_adaptive, dead_backend, all_down, backends)" },
	{ VIP1("\"backends\": {}"), "vips[0].backends: expected an array of backends, got an object" },
	{ WITH("\"vips\": [{\"vip\": \"10.0.0.1:80/tcp\"}, {\"vip\": \"10.0.0.2:80/tcp\"},"
	       " {\"vip\": \"10.0.0.1:80/tcp\"}]"), "vips[2].vip: duplicate of vips[0] (10.0.0.1:80/tcp)" },
	{ WITH("\"vips\": [{\"vip\": \"[2001:db8::1]:80/tcp\"}, {\"vip\": \"[2001:db8:0:0::1]:80/tcp\"}]"),
	  "vips[1].vip: duplicate of vips[0] ([2001:db8::1]:80/tcp)" },
	{ WITH("\"limits\": {\"max_vips\": 2}, \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\"}, {\"vip\": \"10.0.0.2:80/tcp\"}]"),
	  "vips: 2 VIPs, more than limits.max_vips - 1 (1)" },
	/* Backends */
	{ VIP1("\"backends\": [\"10.1.0.1\"]"), "vips[0].backends[0]: expected an object, got \"10.1.0.1\"" },
	{ BE1("\"wieght\": 5"), "vips[0].backends[0].wieght: unknown key (expected one of: address, weight, state, health)" },
	{ VIP1("\"backends\": [{\"weight\": 5}]"), "vips[0].backends[0].address: missing (expected a unicast IPv4 or IPv6 address)" },
	{ VIP1("\"backends\": [{\"address\": \"10.1.0\"}]"), "vips[0].backends[0].address: expected a unicast IPv4 or IPv6 address, got \"10.1.0\"" },
	{ VIP1("\"backends\": [{\"address\": \"224.0.0.1\"}]"), "vips[0].backends[0].address: expected a unicast IPv4 or IPv6 address, got \"224.0.0.1\"" },
	{ VIP1("\"backends\": [{\"address\": \"::\"}]"), "vips[0].backends[0].address: expected a unicast" },
	{ WITH("\"vips\": [{\"vip\": \"10.0.0.1:80/tcp\"}, {\"vip\": \"10.0.0.2:80/tcp\", \"backends\": "
	       "[{\"address\": \"10.1.0.1\", \"weight\": 70000}]}]"),
	  "vips[1].backends[0].weight: expected an integer 0..65535, got 70000" },
	{ BE1("\"weight\": -1"), "vips[0].backends[0].weight: expected an integer 0..65535, got -1" },
	{ BE1("\"weight\": true"), "vips[0].backends[0].weight: expected an integer 0..65535, got true" },
	{ BE1("\"state\": \"down\""), "vips[0].backends[0].state: expected \"up\" or \"drain\", got \"down\"" },
	{ VIP1("\"backends\": [{\"address\": \"10.1.0.1\"}, {\"address\": \"10.1.0.2\"}, {\"address\": \"10.1.0.1\"}]"),
	  "vips[0].backends[2].address: duplicate of vips[0].backends[0] (10.1.0.1)" },
	{ WITH("\"limits\": {\"max_backends\": 3}, \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\", \"backends\": "
	       "[{\"address\": \"10.1.0.1\"}]}, {\"vip\": \"10.0.0.2:80/tcp\", \"backends\": "
	       "[{\"address\": \"10.1.0.1\"}, {\"address\": \"10.1.0.2\"}]}]"),
	  "vips[1].backends: 3 backends in all VIPs so far, more than limits.max_backends - 1 (2)" },
};

static void test_invalid(void **state)
{
	char err[XLB_CFG_ERRLEN];
	struct xlb_cfg sentinel, *c;
	size_t i;
	int ret;

	(void)state;
	assert_true(sizeof(bad) / sizeof(bad[0]) >= 25);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = &sentinel;
		memset(err, 0, sizeof(err));
		ret = xlb_config_parse(bad[i].json, strlen(bad[i].json), &c, err, sizeof(err));
		if (ret != -EINVAL || c != &sentinel)
			fail_msg("case %zu: returned %d, out %s\n%s", i, ret,
				 c == &sentinel ? "untouched" : "written", bad[i].json);
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("case %zu: message\n  got:      %s\n  expected: %s...\n%s", i, err,
				 bad[i].msg, bad[i].json);
	}
}

/* The valid edges of every range (the other side of test_invalid). */
static void test_edges(void **state)
{
	static const char *const ok[] = {
		WITH("\"hash_seed\": 4294967295"),
		WITH("\"limits\": {\"max_vips\": 65536, \"max_backends\": 1048576, \"conntrack\": 100000000}"),
		WITH("\"limits\": {\"max_vips\": 2, \"max_backends\": 2, \"conntrack\": 1024}"),
		WITH("\"encap\": {\"src4\": \"10.0.0.0/8\"}"),
		WITH("\"encap\": {\"src4\": \"10.1.2.3/32\"}"),
		WITH("\"control\": {\"group\": null, \"max_clients\": 1024, \"max_request_bytes\": 1048576}"),
		WITH("\"next_hop\": {\"static\": null}"),
		WITH("\"metrics\": {\"listen\": \"0.0.0.0:65535\"}"),
		VIP1("\"ring_size\": 1048573"),
		VIP1("\"ring_size\": 2"),
		BE1("\"weight\": 0"),
		BE1("\"weight\": 65535"),
		"{\"version\": 1, \"interfaces\": [{\"name\": \"abcdefghijklmno\"}]}",
		WITH("\"vips\": [{\"vip\": \"10.0.0.1:80/tcp\"}, {\"vip\": \"10.0.0.1:80/udp\"},"
		     " {\"vip\": \"10.0.0.1/tcp\"}]"),
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		xlb_config_free(parse_ok(ok[i]));
}

/* The minimal config as the daemon writes it: the format is an interface. */
static const char min_dump[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"interfaces\": [\n"
	"    {\n"
	"      \"name\": \"eth0\",\n"
	"      \"mode\": \"native\"\n"
	"    }\n"
	"  ],\n"
	"  \"pin_root\": \"/sys/fs/bpf/xlb\",\n"
	"  \"hash_seed\": 0,\n"
	"  \"limits\": {\n"
	"    \"max_vips\": 1024,\n"
	"    \"max_backends\": 65536,\n"
	"    \"conntrack\": 1000000\n"
	"  },\n"
	"  \"encap\": {\n"
	"    \"src4\": \"172.16.0.0/16\",\n"
	"    \"src6\": \"fd00:786c:6200::/96\"\n"
	"  },\n"
	"  \"next_hop\": {\n"
	"    \"static\": null,\n"
	"    \"skip_fib\": false\n"
	"  },\n"
	"  \"control\": {\n"
	"    \"socket\": \"/run/xlb/xlbd.sock\",\n"
	"    \"group\": null,\n"
	"    \"max_clients\": 16,\n"
	"    \"max_request_bytes\": 65536,\n"
	"    \"idle_timeout_s\": 60\n"
	"  },\n"
	"  \"metrics\": {\n"
	"    \"listen\": \"127.0.0.1:9641\"\n"
	"  },\n"
	"  \"state_file\": \"/var/lib/xlb/state.json\",\n"
	"  \"vips\": []\n"
	"}\n";

static void test_dump_minimal(void **state)
{
	struct xlb_cfg *c = parse_ok(MIN);
	char *t = dump_ok(c);

	(void)state;
	assert_string_equal(t, min_dump);
	free(t);
	xlb_config_free(c);
}

/* full_text with every list and every object's keys in another order. */
static const char full_reordered[] =
	"{\"vips\": [\n"
	"  {\"backends\": [{\"address\": \"10.1.0.1\"}, {\"address\": \"10.1.0.10\"},\n"
	"                {\"weight\": 100, \"address\": \"10.1.0.2\", \"state\": \"up\"}],\n"
	"   \"vip\": \"10.0.0.1:80/tcp\"},\n"
	"  {\"vip\": \"10.0.0.1:0/tcp\", \"ring_size\": 65537},\n"
	"  {\"backends\": [{\"weight\": 65535, \"address\": \"10.1.0.9\"},\n"
	"                {\"state\": \"drain\", \"weight\": 0, \"address\": \"2001:db8:1:0::2\"}],\n"
	"   \"encap\": \"ipip\", \"conntrack\": false, \"hash\": \"src\", \"ring_size\": 13,\n"
	"   \"vip\": \"[2001:0db8::0001]:443/udp\"}],\n"
	" \"state_file\": \"/tmp/state.json\", \"metrics\": {\"listen\": \"[0::1]:80\"},\n"
	" \"control\": {\"idle_timeout_s\": 3600, \"max_request_bytes\": 256, \"max_clients\": 1,\n"
	"             \"group\": \"xlb\", \"socket\": \"/tmp/x.sock\"},\n"
	" \"next_hop\": {\"skip_fib\": true, \"static\": {\"smac\": \"02:00:00:00:00:BB\",\n"
	"              \"dmac\": \"02:00:00:00:00:aa\", \"ifname\": \"veth-lb\"}},\n"
	" \"encap\": {\"src6\": \"fd00:1:2:0::/96\", \"src4\": \"10.200.0.0/24\"},\n"
	" \"limits\": {\"conntrack\": 1024, \"max_backends\": 128, \"max_vips\": 16},\n"
	" \"hash_seed\": 4294967295, \"pin_root\": \"/sys/fs/bpf/xlb-a\",\n"
	" \"interfaces\": [{\"name\": \"eth0\", \"mode\": \"native\"}, {\"mode\": \"generic\", \"name\": \"eth1\"}],\n"
	" \"version\": 1}\n";

static void test_dump_canonical(void **state)
{
	struct xlb_cfg *a = parse_ok(full_text), *b = parse_ok(full_reordered);
	char *ta = dump_ok(a), *tb = dump_ok(b);

	(void)state;
	assert_string_equal(ta, tb);
	assert_true(xlb_config_equal(a, b));
	/* Spot checks of the canonical forms. */
	assert_non_null(strstr(ta, "\"vip\": \"[2001:db8::1]:443/udp\""));
	assert_non_null(strstr(ta, "\"vip\": \"10.0.0.1:0/tcp\""));
	assert_non_null(strstr(ta, "\"dmac\": \"02:00:00:00:00:aa\""));
	assert_non_null(strstr(ta, "\"src6\": \"fd00:1:2::/96\""));
	assert_non_null(strstr(ta, "\"listen\": \"[::1]:80\""));
	assert_true(strstr(ta, "10.0.0.1:0/tcp") < strstr(ta, "10.0.0.1:80/tcp"));
	assert_true(strstr(ta, "\"10.1.0.2\"") < strstr(ta, "\"10.1.0.10\""));
	assert_int_equal(ta[strlen(ta) - 1], '\n');
	free(ta);
	free(tb);
	xlb_config_free(a);
	xlb_config_free(b);
}

static void round_trip(const char *text)
{
	struct xlb_cfg *a = parse_ok(text), *b;
	char *t1 = dump_ok(a), *t2;

	b = parse_ok(t1);
	assert_true(xlb_config_equal(a, b));
	t2 = dump_ok(b);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	xlb_config_free(a);
	xlb_config_free(b);
}

static void test_round_trip(void **state)
{
	(void)state;
	round_trip(MIN);
	round_trip(full_text);
	round_trip(full_reordered);
}

/* xlb_config_equal() must see every field, or the round trip proves nothing. */
static void test_equal_detects(void **state)
{
	static const char *const variants[] = {
		WITH("\"hash_seed\": 1"),
		WITH("\"pin_root\": \"/x\""),
		"{\"version\": 1, \"interfaces\": [{\"name\": \"eth0\", \"mode\": \"generic\"}]}",
		WITH("\"limits\": {\"conntrack\": 1025}"),
		WITH("\"encap\": {\"src4\": \"172.16.0.0/17\"}"),
		WITH("\"next_hop\": {\"static\": {\"ifname\": \"eth0\", \"dmac\": \"02:00:00:00:00:02\","
		     " \"smac\": \"02:00:00:00:00:01\"}}"),
		WITH("\"control\": {\"group\": \"adm\"}"),
		WITH("\"control\": {\"idle_timeout_s\": 61}"),
		WITH("\"metrics\": {\"listen\": \"127.0.0.1:9642\"}"),
		WITH("\"state_file\": \"/x\""),
		VIP1("\"ring_size\": 13"),
	};
	static const char base_vip[] = BE1("\"weight\": 1");
	static const char *const vip_variants[] = {
		BE1("\"weight\": 2"),
		BE1("\"weight\": 1, \"state\": \"drain\""),
		VIP1("\"hash\": \"src\", \"backends\": [{\"address\": \"10.1.0.1\", \"weight\": 1}]"),
		VIP1("\"conntrack\": false, \"backends\": [{\"address\": \"10.1.0.1\", \"weight\": 1}]"),
		VIP1("\"backends\": [{\"address\": \"10.1.0.2\", \"weight\": 1}]"),
	};
	struct xlb_cfg *m = parse_ok(MIN), *v, *bv = parse_ok(base_vip);
	size_t i;

	(void)state;
	assert_true(xlb_config_equal(m, m));
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		v = parse_ok(variants[i]);
		if (xlb_config_equal(m, v))
			fail_msg("equal to the minimal config: %s", variants[i]);
		xlb_config_free(v);
	}
	for (i = 0; i < sizeof(vip_variants) / sizeof(vip_variants[0]); i++) {
		v = parse_ok(vip_variants[i]);
		if (xlb_config_equal(bv, v))
			fail_msg("equal to %s: %s", base_vip, vip_variants[i]);
		xlb_config_free(v);
	}
	xlb_config_free(m);
	xlb_config_free(bv);
}

static void test_example_file(void **state)
{
	char err[XLB_CFG_ERRLEN] = "";
	struct xlb_cfg *c = NULL;
	__u32 i, j, seen = 0, overrides = 0;
	char *t;

	(void)state;
	if (xlb_config_load(example_path, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(c->n_vips >= 3);
	assert_true(c->n_ifaces >= 1);
	/* The example shows a TCP check, an HTTP one and a backend override. */
	for (i = 0; i < c->n_vips; i++) {
		seen |= 1U << c->vips[i].health.type;
		for (j = 0; j < c->vips[i].n_backends; j++)
			overrides += c->vips[i].backends[j].has_health;
	}
	assert_true(seen & (1U << XLB_CFG_HC_TCP));
	assert_true(seen & (1U << XLB_CFG_HC_HTTP));
	assert_true(overrides >= 1);
	t = dump_ok(c);
	round_trip(t);
	free(t);
	xlb_config_free(c);
}

static void test_load_errors(void **state)
{
	char err[XLB_CFG_ERRLEN], path[] = "/tmp/xlb-test-config-XXXXXX";
	static const char text[] = "{\"version\": 1,\n \"interfaces\": [{\"name\": \"eth0\"}],\n"
				   " \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\",\n"
				   "   \"backends\": [{\"address\": \"10.1.0.1\" \"weight\": 5}]}]}\n";
	struct xlb_cfg *c = NULL;
	char want[256];
	int fd;

	(void)state;
	assert_int_equal(xlb_config_load("/nonexistent/xlb.json", &c, err, sizeof(err)), -ENOENT);
	assert_null(c);
	assert_string_equal(err, "/nonexistent/xlb.json: No such file or directory");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(xlb_config_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
	/* A missing comma on line 4; jansson puts the column at the end of the
	 * token it choked on ("weight"). */
	snprintf(want, sizeof(want), "%s: JSON syntax error at line 4:47:", path);
	if (strncmp(err, want, strlen(want)))
		fail_msg("got %s\nexpected %s", err, want);
	unlink(path);
}

/* Small, absent and NULL error buffers never overflow. */
static void test_err_buffer(void **state)
{
	const char *t = BE1("\"weight\": 70000");
	char small[8];
	struct xlb_cfg *c = NULL;

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(xlb_config_parse(t, strlen(t), &c, small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "vips[0]");
	assert_int_equal(xlb_config_parse(t, strlen(t), &c, NULL, 0), -EINVAL);
	assert_null(c);
}

/* The control API parses one VIP with the same rules. */
static void test_vip_api(void **state)
{
	char err[XLB_CFG_ERRLEN];
	struct xlb_cfg_vip v;
	json_t *j, *back;
	struct xlb_cfg *lim = parse_ok(WITH("\"limits\": {\"max_backends\": 2}"));

	(void)state;
	j = json_pack("{s:s, s:[{s:s}, {s:s}]}", "vip", "[2001:db8::5]:53/udp", "backends",
		      "address", "10.1.0.1", "address", "10.1.0.2");
	assert_non_null(j);
	assert_int_equal(xlb_config_vip_from_json(j, "request.vip", lim, &v, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "request.vip.backends: 2 backends in all VIPs so far, more than "
				 "limits.max_backends - 1 (1)");
	assert_int_equal(xlb_config_vip_from_json(j, NULL, NULL, &v, err, sizeof(err)), 0);
	assert_int_equal(v.n_backends, 2);
	assert_int_equal(v.key.family, XLB_AF_INET6);
	back = xlb_config_vip_to_json(&v);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_object_get(back, "vip")),
			    "[2001:db8::5]:53/udp");
	assert_int_equal(json_integer_value(json_object_get(back, "ring_size")), 65537);
	json_decref(back);
	xlb_config_vip_clear(&v);
	xlb_config_vip_clear(NULL);
	json_decref(j);

	/* The health keys and policies, and a backend override, the same way. */
	j = json_loads("{\"vip\": \"10.0.0.1:80/tcp\", \"health\": {\"type\": \"tcp\"}, "
		       "\"dead_backend\": \"drop\", \"backends\": [{\"address\": \"10.1.0.1\", "
		       "\"health\": {\"port\": 81}}]}", 0, NULL);
	assert_int_equal(xlb_config_vip_from_json(j, NULL, NULL, &v, err, sizeof(err)), 0);
	assert_int_equal(v.health.type, XLB_CFG_HC_TCP);
	assert_int_equal(v.dead_backend, XLB_CFG_DEAD_DROP);
	assert_true(v.backends[0].has_health);
	assert_int_equal(v.backends[0].health.port, 81);
	back = xlb_config_vip_to_json(&v);
	assert_string_equal(json_string_value(json_object_get(json_object_get(back, "health"),
							      "type")), "tcp");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(
		json_object_get(back, "backends"), 0), "health"), "port")), 81);
	json_decref(back);
	xlb_config_vip_clear(&v);
	json_decref(j);
	j = json_loads("{\"vip\": \"10.0.0.1:80/tcp\", \"health\": {\"type\": \"tcp\", "
		       "\"path\": \"/\"}}", 0, NULL);
	assert_int_equal(xlb_config_vip_from_json(j, "request", NULL, &v, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "request.health.path: only for http and https checks (the type "
				 "is \"tcp\")");
	json_decref(j);

	j = json_pack("{s:s, s:i}", "vip", "10.0.0.1:80/tcp", "weight", 3);
	assert_int_equal(xlb_config_vip_from_json(j, NULL, NULL, &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "vip.weight: unknown key (expected one of: vip, ring_size, hash, "
				 "conntrack, encap, health, slow_start_s, latency_adaptive, "
				 "dead_backend, all_down, backends)");
	json_decref(j);
	/* A string built by hand can carry a NUL that JSON text cannot. */
	j = json_pack("{s:s%}", "vip", "10.0.0.1:80/tcp\0x", (size_t)17);
	assert_int_equal(xlb_config_vip_from_json(j, NULL, NULL, &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "vip.vip: expected a VIP ADDR:PORT/PROTO, [ADDR6]:PORT/PROTO or "
				 "ADDR/PROTO, got a string with a NUL byte");
	json_decref(j);
	xlb_config_free(lim);
}

static struct xlb_cfg_diff *diff_ok(const char *a, const char *b, struct xlb_cfg **ca,
				    struct xlb_cfg **cb)
{
	struct xlb_cfg_diff *d = NULL;

	*ca = parse_ok(a);
	*cb = parse_ok(b);
	assert_int_equal(xlb_config_diff(*ca, *cb, &d), 0);
	assert_non_null(d);
	return d;
}

#define DIFF_BASE                                                                            \
	WITH("\"vips\": ["                                                                   \
	     "{\"vip\": \"10.0.0.1:80/tcp\", \"backends\": [{\"address\": \"10.1.0.1\"},"     \
	     " {\"address\": \"10.1.0.2\"}, {\"address\": \"10.1.0.3\"}]},"                   \
	     "{\"vip\": \"10.0.0.2:80/tcp\", \"backends\": [{\"address\": \"10.1.0.1\"}]}]")

static void test_diff_none(void **state)
{
	struct xlb_cfg *a, *b;
	struct xlb_cfg_diff *d = diff_ok(DIFF_BASE, DIFF_BASE, &a, &b);

	(void)state;
	assert_true(xlb_config_diff_empty(d));
	xlb_config_diff_free(d);
	xlb_config_diff_free(NULL);
	xlb_config_free(a);
	xlb_config_free(b);
	xlb_config_free(NULL);
}

static void test_diff_vips(void **state)
{
	/* 10.0.0.2 removed, 10.0.0.3 added, 10.0.0.1 kept as is. */
	const char *n = WITH("\"vips\": ["
			     "{\"vip\": \"10.0.0.3:80/tcp\"},"
			     "{\"vip\": \"10.0.0.1:80/tcp\", \"backends\": [{\"address\": \"10.1.0.3\"},"
			     " {\"address\": \"10.1.0.2\"}, {\"address\": \"10.1.0.1\"}]}]");
	struct xlb_cfg *a, *b;
	struct xlb_cfg_diff *d = diff_ok(DIFF_BASE, n, &a, &b);

	(void)state;
	assert_int_equal(d->restart, 0);
	assert_false(d->next_hop);
	assert_int_equal(d->n_vip_add, 1);
	assert_int_equal(d->vip_add[0]->key.addr[0], htonl(0x0a000003));
	assert_int_equal(d->n_vip_del, 1);
	assert_int_equal(d->vip_del[0]->key.addr[0], htonl(0x0a000002));
	assert_int_equal(d->n_vip_mod, 0);
	assert_false(xlb_config_diff_empty(d));
	xlb_config_diff_free(d);
	xlb_config_free(a);
	xlb_config_free(b);
}

static void test_diff_backends(void **state)
{
	/* On 10.0.0.1: .1 reweighted, .2 drained, .3 removed, .4 added. */
	const char *n = WITH("\"vips\": ["
			     "{\"vip\": \"10.0.0.1:80/tcp\", \"backends\": ["
			     "{\"address\": \"10.1.0.1\", \"weight\": 50},"
			     "{\"address\": \"10.1.0.2\", \"state\": \"drain\"},"
			     "{\"address\": \"10.1.0.4\"}]},"
			     "{\"vip\": \"10.0.0.2:80/tcp\", \"backends\": [{\"address\": \"10.1.0.1\"}]}]");
	struct xlb_cfg *a, *b;
	struct xlb_cfg_diff *d = diff_ok(DIFF_BASE, n, &a, &b);
	const struct xlb_cfg_vip_change *vc;

	(void)state;
	assert_int_equal(d->n_vip_add + d->n_vip_del, 0);
	assert_int_equal(d->n_vip_mod, 1);
	vc = &d->vip_mod[0];
	assert_ptr_equal(vc->old, &a->vips[0]);
	assert_ptr_equal(vc->new, &b->vips[0]);
	assert_int_equal(vc->changed, 0);
	assert_int_equal(vc->n_be_add, 1);
	assert_int_equal(vc->be_add[0]->addr[0], htonl(0x0a010004));
	assert_int_equal(vc->n_be_del, 1);
	assert_int_equal(vc->be_del[0]->addr[0], htonl(0x0a010003));
	assert_int_equal(vc->n_be_mod, 2);
	assert_int_equal(vc->be_mod[0].changed, XLB_CFG_B_WEIGHT);
	assert_int_equal(vc->be_mod[0].old->weight, 100);
	assert_int_equal(vc->be_mod[0].new->weight, 50);
	assert_int_equal(vc->be_mod[1].changed, XLB_CFG_B_STATE);
	assert_int_equal(vc->be_mod[1].new->state, XLB_CFG_BE_DRAIN);
	xlb_config_diff_free(d);
	xlb_config_free(a);
	xlb_config_free(b);
}

static void test_diff_vip_options(void **state)
{
	const char *n = WITH("\"vips\": ["
			     "{\"vip\": \"10.0.0.1:80/tcp\", \"backends\": [{\"address\": \"10.1.0.1\"},"
			     " {\"address\": \"10.1.0.2\"}, {\"address\": \"10.1.0.3\"}]},"
			     "{\"vip\": \"10.0.0.2:80/tcp\", \"ring_size\": 13, \"hash\": \"src\","
			     " \"conntrack\": false, \"backends\": [{\"address\": \"10.1.0.1\"}]}]");
	struct xlb_cfg *a, *b;
	struct xlb_cfg_diff *d = diff_ok(DIFF_BASE, n, &a, &b);

	(void)state;
	assert_int_equal(d->n_vip_mod, 1);
	assert_int_equal(d->vip_mod[0].new->key.addr[0], htonl(0x0a000002));
	assert_int_equal(d->vip_mod[0].changed,
			 XLB_CFG_V_RING_SIZE | XLB_CFG_V_HASH | XLB_CFG_V_CONNTRACK);
	assert_int_equal(d->vip_mod[0].n_be_add + d->vip_mod[0].n_be_del + d->vip_mod[0].n_be_mod,
			 0);
	assert_int_equal(d->restart, 0);
	xlb_config_diff_free(d);
	xlb_config_free(a);
	xlb_config_free(b);
}

static void test_diff_restart(void **state)
{
	static const struct {
		const char *json;
		__u32 bits;
		bool next_hop;
	} cases[] = {
		{ "{\"version\": 1, \"interfaces\": [{\"name\": \"eth1\"}]}", XLB_CFG_R_INTERFACES, false },
		{ "{\"version\": 1, \"interfaces\": [{\"name\": \"eth0\", \"mode\": \"generic\"}]}",
		  XLB_CFG_R_INTERFACES, false },
		{ WITH("\"pin_root\": \"/sys/fs/bpf/b\""), XLB_CFG_R_PIN_ROOT, false },
		{ WITH("\"hash_seed\": 7"), XLB_CFG_R_HASH_SEED, false },
		{ WITH("\"limits\": {\"max_vips\": 8}"), XLB_CFG_R_LIMITS, false },
		{ WITH("\"encap\": {\"src6\": \"fd00::/96\"}"), XLB_CFG_R_ENCAP, false },
		{ WITH("\"control\": {\"max_clients\": 2}"), XLB_CFG_R_CONTROL, false },
		{ WITH("\"metrics\": {\"listen\": \"[::]:9641\"}"), XLB_CFG_R_METRICS, false },
		{ WITH("\"state_file\": \"/tmp/s.json\""), XLB_CFG_R_STATE_FILE, false },
		{ WITH("\"hash_seed\": 7, \"limits\": {\"conntrack\": 2048}"),
		  XLB_CFG_R_HASH_SEED | XLB_CFG_R_LIMITS, false },
		/* The static next hop is a config-map write: no restart. */
		{ WITH("\"next_hop\": {\"static\": {\"ifname\": \"eth0\", \"dmac\": \"02:00:00:00:00:02\","
		       " \"smac\": \"02:00:00:00:00:01\"}}"), 0, true },
	};
	struct xlb_cfg *a, *b;
	struct xlb_cfg_diff *d;
	char buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = diff_ok(MIN, cases[i].json, &a, &b);
		if (d->restart != cases[i].bits || d->next_hop != cases[i].next_hop)
			fail_msg("case %zu: restart %#x next_hop %d, expected %#x %d", i, d->restart,
				 d->next_hop, cases[i].bits, cases[i].next_hop);
		assert_false(xlb_config_diff_empty(d));
		xlb_config_diff_free(d);
		xlb_config_free(a);
		xlb_config_free(b);
	}
	assert_string_equal(xlb_config_restart_fmt(XLB_CFG_R_INTERFACES | XLB_CFG_R_HASH_SEED |
						   XLB_CFG_R_STATE_FILE, buf, sizeof(buf)),
			    "interfaces, hash_seed, state_file");
	assert_string_equal(xlb_config_restart_fmt(0, buf, sizeof(buf)), "");
}

/* ---- health checks and failure policies -------------------------------- */

#define HC(x)	VIP1("\"health\": {" x "}")
#define HCBE(vh, bh)                                                                         \
	VIP1("\"health\": {" vh "}, \"backends\": [{\"address\": \"10.1.0.1\", \"health\": {" bh \
	     "}}, {\"address\": \"10.1.0.2\"}]")
#define VIP0(x)	WITH("\"vips\": [{\"vip\": \"10.0.0.1/tcp\", " x "}]")

static void test_health_defaults(void **state)
{
	struct xlb_cfg *c = parse_ok(VIP1("\"backends\": [{\"address\": \"10.1.0.1\"}]"));
	const struct xlb_cfg_vip *v = &c->vips[0];

	(void)state;
	assert_int_equal(v->health.type, XLB_CFG_HC_NONE);
	assert_int_equal(v->health.port, 80);
	assert_int_equal(v->health.interval_ms, 1000);
	assert_int_equal(v->health.timeout_ms, 500);
	assert_int_equal(v->slow_start_s, 0);
	assert_false(v->latency_adaptive);
	assert_int_equal(v->dead_backend, XLB_CFG_DEAD_RECHOOSE);
	assert_int_equal(v->all_down, XLB_CFG_ALLDOWN_DROP);
	assert_false(v->backends[0].has_health);
	xlb_config_free(c);

	/* "health": null is none. */
	c = parse_ok(VIP1("\"health\": null"));
	assert_int_equal(c->vips[0].health.type, XLB_CFG_HC_NONE);
	xlb_config_free(c);

	c = parse_ok(HC("\"type\": \"tcp\""));
	v = &c->vips[0];
	assert_int_equal(v->health.type, XLB_CFG_HC_TCP);
	assert_int_equal(v->health.port, 80);
	assert_int_equal(v->health.interval_ms, XLB_CFG_DEF_HC_INTERVAL_MS);
	assert_int_equal(v->health.timeout_ms, XLB_CFG_DEF_HC_TIMEOUT_MS);
	assert_int_equal(v->health.rise, 2);
	assert_int_equal(v->health.fall, 3);
	assert_int_equal(v->health.jitter_pct, 10);
	assert_int_equal(v->health.backoff_max_ms, 0);
	assert_false(v->health.datapath);
	assert_null(v->health.path);
	assert_null(v->health.payload);
	assert_int_equal(v->health.set, 0);
	xlb_config_free(c);

	/* A short interval pulls the default timeout down with it. */
	c = parse_ok(HC("\"type\": \"tcp\", \"interval_ms\": 200"));
	assert_int_equal(c->vips[0].health.timeout_ms, 200);
	xlb_config_free(c);
	c = parse_ok(HC("\"type\": \"http\""));
	v = &c->vips[0];
	assert_string_equal(v->health.path, "/");
	assert_string_equal(v->health.expect_status, "200-399");
	assert_null(v->health.host);
	assert_null(v->health.expect_body);
	assert_false(v->health.tls_verify);
	xlb_config_free(c);
}

static void test_health_types(void **state)
{
	struct xlb_cfg *c;
	const struct xlb_cfg_health *h;

	(void)state;
	c = parse_ok(HC("\"type\": \"https\", \"port\": 8443, \"interval_ms\": 10, \"timeout_ms\": 10,"
			" \"rise\": 100, \"fall\": 1, \"jitter_pct\": 50, \"backoff_max_ms\": 10,"
			" \"datapath\": true, \"path\": \"/healthz?x=1\", \"host\": \"example.com\","
			" \"expect_status\": \"200,204,300-399\", \"expect_body\": \"OK ok\","
			" \"tls_verify\": true"));
	h = &c->vips[0].health;
	assert_int_equal(h->type, XLB_CFG_HC_HTTPS);
	assert_int_equal(h->port, 8443);
	assert_int_equal(h->interval_ms, 10);
	assert_int_equal(h->timeout_ms, 10);
	assert_int_equal(h->rise, 100);
	assert_int_equal(h->fall, 1);
	assert_int_equal(h->jitter_pct, 50);
	assert_int_equal(h->backoff_max_ms, 10);
	assert_true(h->datapath);
	assert_string_equal(h->path, "/healthz?x=1");
	assert_string_equal(h->host, "example.com");
	assert_string_equal(h->expect_status, "200,204,300-399");
	assert_string_equal(h->expect_body, "OK ok");
	assert_true(h->tls_verify);
	xlb_config_free(c);

	c = parse_ok(WITH("\"vips\": [{\"vip\": \"10.0.0.1:53/udp\", \"health\": {\"type\": \"udp\","
			  " \"payload\": \"\\u0000\\u0001ping\", \"expect_reply\": \"pong\","
			  " \"interval_ms\": 3600000, \"timeout_ms\": 3600000,"
			  " \"backoff_max_ms\": 3600000}}]"));
	h = &c->vips[0].health;
	assert_int_equal(h->type, XLB_CFG_HC_UDP);
	assert_int_equal(h->payload_len, 6);
	assert_memory_equal(h->payload, "\0\1ping", 6);
	assert_string_equal(h->expect_reply, "pong");
	xlb_config_free(c);

	/* A port-0 VIP checks the port it is told. */
	c = parse_ok(VIP0("\"health\": {\"type\": \"tcp\", \"port\": 22}"));
	assert_int_equal(c->vips[0].health.port, 22);
	xlb_config_free(c);
	c = parse_ok(VIP0("\"health\": {\"type\": \"none\"}"));
	assert_int_equal(c->vips[0].health.type, XLB_CFG_HC_NONE);
	xlb_config_free(c);

	/* Policies. */
	c = parse_ok(VIP1("\"slow_start_s\": 3600, \"latency_adaptive\": true, "
			  "\"dead_backend\": \"drop\", \"all_down\": \"fail-open\""));
	assert_int_equal(c->vips[0].slow_start_s, 3600);
	assert_true(c->vips[0].latency_adaptive);
	assert_int_equal(c->vips[0].dead_backend, XLB_CFG_DEAD_DROP);
	assert_int_equal(c->vips[0].all_down, XLB_CFG_ALLDOWN_FAIL_OPEN);
	assert_int_equal(xlb_cfg_vip_flags(&c->vips[0]), XLB_VIP_F_DEAD_DROP);
	xlb_config_free(c);
}

static void test_health_override(void **state)
{
	struct xlb_cfg *c;
	const struct xlb_cfg_backend *b;

	(void)state;
	/* Inherited keys come from the VIP; the override's own are recorded. */
	c = parse_ok(HCBE("\"type\": \"http\", \"path\": \"/a\", \"interval_ms\": 2000, "
			  "\"timeout_ms\": 1500, \"backoff_max_ms\": 4000",
			  "\"port\": 8080, \"interval_ms\": 1000, \"host\": \"b.example\""));
	b = &c->vips[0].backends[0];
	assert_true(b->has_health);
	assert_int_equal(b->health.set, XLB_CFG_HK_PORT | XLB_CFG_HK_INTERVAL | XLB_CFG_HK_HOST);
	assert_int_equal(b->health.type, XLB_CFG_HC_HTTP);
	assert_int_equal(b->health.port, 8080);
	assert_string_equal(b->health.path, "/a");
	assert_string_equal(b->health.host, "b.example");
	/* The inherited timeout and backoff follow the override's interval. */
	assert_int_equal(b->health.interval_ms, 1000);
	assert_int_equal(b->health.timeout_ms, 1000);
	assert_int_equal(b->health.backoff_max_ms, 4000);
	assert_false(c->vips[0].backends[1].has_health);
	assert_null(c->vips[0].health.host);
	xlb_config_free(c);

	/* A type change drops the VIP's keys of the other type. */
	c = parse_ok(HCBE("\"type\": \"http\", \"path\": \"/a\"", "\"type\": \"udp\", "
			  "\"payload\": \"x\""));
	b = &c->vips[0].backends[0];
	assert_int_equal(b->health.type, XLB_CFG_HC_UDP);
	assert_null(b->health.path);
	assert_null(b->health.expect_status);
	assert_int_equal(b->health.payload_len, 1);
	xlb_config_free(c);

	/* On a VIP without checks, an override with a type checks that backend. */
	c = parse_ok(VIP1("\"backends\": [{\"address\": \"10.1.0.1\", \"health\": {\"type\": \"tcp\","
			  " \"port\": 81}}]"));
	b = &c->vips[0].backends[0];
	assert_int_equal(b->health.type, XLB_CFG_HC_TCP);
	assert_int_equal(b->health.port, 81);
	assert_int_equal(b->health.interval_ms, 1000);
	assert_int_equal(b->health.set, XLB_CFG_HK_TYPE | XLB_CFG_HK_PORT);
	xlb_config_free(c);

	/* "health": null on a backend is no override. */
	c = parse_ok(BE1("\"health\": null"));
	assert_false(c->vips[0].backends[0].has_health);
	xlb_config_free(c);

	round_trip(HCBE("\"type\": \"http\", \"path\": \"/a\"", "\"host\": null, \"expect_body\": "
			"\"up\", \"type\": \"https\", \"tls_verify\": true"));
	round_trip(HCBE("\"type\": \"tcp\"", "\"type\": \"none\""));
	round_trip(VIP0("\"health\": {\"type\": \"tcp\", \"port\": 22}, \"backends\": "
			"[{\"address\": \"10.1.0.1\", \"health\": {\"port\": 23, \"datapath\": true}}]"));
}

static const struct bad hc_bad[] = {
	{ VIP1("\"health\": \"tcp\""), "vips[0].health: expected an object, got \"tcp\"" },
	{ VIP1("\"health\": {}"), "vips[0].health.type: missing (expected \"none\", \"tcp\"" },
	{ HC("\"type\": \"icmp\""), "vips[0].health.type: expected \"none\", \"tcp\", \"http\", "
	  "\"https\" or \"udp\", got \"icmp\"" },
	{ HC("\"type\": \"tcp\", \"intervall_ms\": 5"),
	  "vips[0].health.intervall_ms: unknown key (expected one of: type, port, interval_ms," },
	{ HC("\"type\": \"tcp\", \"path\": \"/\""),
	  "vips[0].health.path: only for http and https checks (the type is \"tcp\")" },
	{ HC("\"type\": \"udp\", \"host\": \"a\""),
	  "vips[0].health.host: only for http and https checks (the type is \"udp\")" },
	{ HC("\"type\": \"http\", \"tls_verify\": true"),
	  "vips[0].health.tls_verify: only for https checks (the type is \"http\")" },
	{ HC("\"type\": \"https\", \"payload\": \"x\""),
	  "vips[0].health.payload: only for udp checks (the type is \"https\")" },
	{ HC("\"type\": \"none\", \"interval_ms\": 100"),
	  "vips[0].health.interval_ms: only for tcp, http, https and udp checks (the type is "
	  "\"none\")" },
	{ HC("\"type\": \"tcp\", \"port\": 0"), "vips[0].health.port: expected an integer 1..65535, got 0" },
	{ HC("\"type\": \"tcp\", \"port\": \"80\""), "vips[0].health.port: expected an integer 1..65535, got \"80\"" },
	{ HC("\"type\": \"tcp\", \"interval_ms\": 9"), "vips[0].health.interval_ms: expected an integer 10..3600000, got 9" },
	{ HC("\"type\": \"tcp\", \"interval_ms\": 3600001"), "vips[0].health.interval_ms: expected an integer 10..3600000" },
	{ HC("\"type\": \"tcp\", \"timeout_ms\": 0"), "vips[0].health.timeout_ms: expected an integer 1..3600000, got 0" },
	{ HC("\"type\": \"tcp\", \"timeout_ms\": 1001"), "vips[0].health.timeout_ms: expected at most interval_ms (1000), got 1001" },
	{ HC("\"type\": \"tcp\", \"interval_ms\": 100, \"timeout_ms\": 200"), "vips[0].health.timeout_ms: expected at most interval_ms (100), got 200" },
	{ HC("\"type\": \"tcp\", \"rise\": 0"), "vips[0].health.rise: expected an integer 1..100, got 0" },
	{ HC("\"type\": \"tcp\", \"fall\": 101"), "vips[0].health.fall: expected an integer 1..100, got 101" },
	{ HC("\"type\": \"tcp\", \"jitter_pct\": 51"), "vips[0].health.jitter_pct: expected an integer 0..50, got 51" },
	{ HC("\"type\": \"tcp\", \"backoff_max_ms\": 999"), "vips[0].health.backoff_max_ms: expected 0 or at least interval_ms (1000), got 999" },
	{ HC("\"type\": \"tcp\", \"datapath\": 1"), "vips[0].health.datapath: expected true or false, got 1" },
	{ HC("\"type\": \"http\", \"path\": \"healthz\""), "vips[0].health.path: expected a path starting with '/'" },
	{ HC("\"type\": \"http\", \"path\": \"/a b\""), "vips[0].health.path: expected a path starting with '/', without spaces or control characters, got \"/a b\"" },
	{ HC("\"type\": \"http\", \"path\": \"/a\\nb\""), "vips[0].health.path: expected a path starting with '/'" },
	{ HC("\"type\": \"http\", \"path\": null"), "vips[0].health.path: expected a path starting with '/'" },
	{ HC("\"type\": \"http\", \"host\": \"\""), "vips[0].health.host: expected null or a host name" },
	{ HC("\"type\": \"http\", \"expect_status\": \"200-\""), "vips[0].health.expect_status: expected status codes or ranges within 100..599, such as \"200,204,300-399\", got \"200-\"" },
	{ HC("\"type\": \"http\", \"expect_status\": \"99\""), "vips[0].health.expect_status: expected status codes" },
	{ HC("\"type\": \"http\", \"expect_status\": \"200,600\""), "vips[0].health.expect_status: expected status codes" },
	{ HC("\"type\": \"http\", \"expect_status\": \"399-300\""), "vips[0].health.expect_status: expected status codes" },
	{ HC("\"type\": \"http\", \"expect_status\": \"200,,204\""), "vips[0].health.expect_status: expected status codes" },
	{ HC("\"type\": \"http\", \"expect_status\": \"\""), "vips[0].health.expect_status: expected status codes" },
	{ HC("\"type\": \"http\", \"expect_body\": 5"), "vips[0].health.expect_body: expected null or a string without control characters, got 5" },
	{ HC("\"type\": \"udp\", \"payload\": 5"), "vips[0].health.payload: expected null or a string, got 5" },
	{ HC("\"type\": \"udp\", \"expect_reply\": \"a\\u0000b\""), "vips[0].health.expect_reply: expected null or a string without control characters, got a string with a NUL byte" },
	{ VIP0("\"health\": {\"type\": \"tcp\"}"), "vips[0].health.port: missing: the VIP's port is 0 (every port), so a check needs one (expected 1..65535)" },
	{ VIP1("\"slow_start_s\": 3601"), "vips[0].slow_start_s: expected an integer 0..3600, got 3601" },
	{ VIP1("\"latency_adaptive\": \"on\""), "vips[0].latency_adaptive: expected true or false, got \"on\"" },
	{ VIP1("\"dead_backend\": \"reset\""), "vips[0].dead_backend: expected \"rechoose\" or \"drop\", got \"reset\"" },
	{ VIP1("\"all_down\": \"fail_open\""), "vips[0].all_down: expected \"drop\" or \"fail-open\", got \"fail_open\"" },
	/* Overrides */
	{ BE1("\"health\": {\"port\": 81}"), "vips[0].backends[0].health.type: missing: the VIP has no checks (type \"none\"), so an override must give a type" },
	{ BE1("\"health\": []"), "vips[0].backends[0].health: expected an object, got an array" },
	{ HCBE("\"type\": \"tcp\"", "\"path\": \"/\""), "vips[0].backends[0].health.path: only for http and https checks (the type is \"tcp\")" },
	{ HCBE("\"type\": \"tcp\"", "\"timeout_ms\": 1001"), "vips[0].backends[0].health.timeout_ms: expected at most interval_ms (1000), got 1001" },
	{ HCBE("\"type\": \"tcp\", \"interval_ms\": 500, \"backoff_max_ms\": 600", "\"backoff_max_ms\": 400"),
	  "vips[0].backends[0].health.backoff_max_ms: expected 0 or at least interval_ms (500), got 400" },
	{ HCBE("\"type\": \"tcp\"", "\"colour\": 1"), "vips[0].backends[0].health.colour: unknown key" },
	{ VIP0("\"backends\": [{\"address\": \"10.1.0.1\", \"health\": {\"type\": \"tcp\"}}]"),
	  "vips[0].backends[0].health.port: missing: the VIP's port is 0" },
};

static void test_health_invalid(void **state)
{
	char err[XLB_CFG_ERRLEN], big[XLB_CFG_MAX_HC_PAYLOAD * 6 + 200];
	struct xlb_cfg sentinel, *c;
	size_t i;
	int ret, n;

	(void)state;
	for (i = 0; i < sizeof(hc_bad) / sizeof(hc_bad[0]); i++) {
		c = &sentinel;
		memset(err, 0, sizeof(err));
		ret = xlb_config_parse(hc_bad[i].json, strlen(hc_bad[i].json), &c, err, sizeof(err));
		if (ret != -EINVAL || c != &sentinel)
			fail_msg("case %zu: returned %d\n%s", i, ret, hc_bad[i].json);
		if (strncmp(err, hc_bad[i].msg, strlen(hc_bad[i].msg)))
			fail_msg("case %zu: message\n  got:      %s\n  expected: %s...\n%s", i, err,
				 hc_bad[i].msg, hc_bad[i].json);
	}
	/* The payload limit is in bytes, NULs included. */
	n = snprintf(big, sizeof(big), "{\"version\": 1, " IFACE ", \"vips\": [{\"vip\": "
		     "\"10.0.0.1:53/udp\", \"health\": {\"type\": \"udp\", \"payload\": \"");
	for (i = 0; i < XLB_CFG_MAX_HC_PAYLOAD - 4; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "\\u0000");
	snprintf(big + n, sizeof(big) - (size_t)n, "1234\"}}]}");
	xlb_config_free(parse_ok(big));
	snprintf(big + n, sizeof(big) - (size_t)n, "12345\"}}]}");
	ret = xlb_config_parse(big, strlen(big), &c, err, sizeof(err));
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(err, "vips[0].health.payload: expected at most 1024 bytes, got 1025");
}

static void test_health_dump(void **state)
{
	static const char *const texts[] = {
		HC("\"type\": \"tcp\""),
		HC("\"type\": \"http\", \"host\": \"h\""),
		HC("\"type\": \"https\", \"expect_body\": \"x\""),
		WITH("\"vips\": [{\"vip\": \"10.0.0.1:53/udp\", \"health\": {\"type\": \"udp\", "
		     "\"payload\": \"a\\u0000b\"}}]"),
		HCBE("\"type\": \"http\"", "\"interval_ms\": 100"),
		VIP1("\"dead_backend\": \"drop\", \"all_down\": \"fail-open\", \"slow_start_s\": 30, "
		     "\"latency_adaptive\": true"),
	};
	struct xlb_cfg *c;
	json_t *j, *v, *h, *bh;
	char *t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		round_trip(texts[i]);

	/* None is written as just its type; the policies always. */
	c = parse_ok(VIP1("\"backends\": [{\"address\": \"10.1.0.1\"}]"));
	t = dump_ok(c);
	assert_non_null(strstr(t, "      \"health\": {\n        \"type\": \"none\"\n      },\n"
				  "      \"slow_start_s\": 0,\n      \"latency_adaptive\": false,\n"
				  "      \"dead_backend\": \"rechoose\",\n      \"all_down\": \"drop\",\n"));
	/* A backend without an override has no "health". */
	assert_null(strstr(strstr(t, "\"backends\""), "health"));
	free(t);
	xlb_config_free(c);

	/* Every key of the type, defaults written out, in the table's order. */
	c = parse_ok(HCBE("\"type\": \"http\"", "\"interval_ms\": 100, \"host\": null"));
	j = xlb_config_to_json(c);
	v = json_array_get(json_object_get(j, "vips"), 0);
	h = json_object_get(v, "health");
	assert_int_equal(json_object_size(h), 13);
	assert_string_equal(json_string_value(json_object_get(h, "path")), "/");
	assert_string_equal(json_string_value(json_object_get(h, "expect_status")), "200-399");
	assert_true(json_is_null(json_object_get(h, "host")));
	assert_int_equal(json_integer_value(json_object_get(h, "port")), 80);
	assert_null(json_object_get(h, "tls_verify"));
	/* The override: its keys only. */
	bh = json_object_get(json_array_get(json_object_get(v, "backends"), 0), "health");
	assert_int_equal(json_object_size(bh), 2);
	assert_int_equal(json_integer_value(json_object_get(bh, "interval_ms")), 100);
	assert_true(json_is_null(json_object_get(bh, "host")));
	assert_null(json_object_get(json_array_get(json_object_get(v, "backends"), 1), "health"));
	json_decref(j);
	xlb_config_free(c);
}

static void test_health_equal(void **state)
{
	static const char base[] = HCBE("\"type\": \"http\"", "\"interval_ms\": 100");
	static const char *const variants[] = {
		HCBE("\"type\": \"https\"", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"port\": 81", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"path\": \"/x\"", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"host\": \"x\"", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"expect_status\": \"200\"", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"expect_body\": \"x\"", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"rise\": 1", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"fall\": 1", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"jitter_pct\": 0", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"backoff_max_ms\": 1000", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"datapath\": true", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\", \"timeout_ms\": 400", "\"interval_ms\": 100"),
		HCBE("\"type\": \"http\"", "\"interval_ms\": 101"),
		HCBE("\"type\": \"http\"", "\"interval_ms\": 100, \"rise\": 2"),
		HCBE("\"type\": \"http\", \"interval_ms\": 100", "\"interval_ms\": 100"),
		VIP1("\"health\": {\"type\": \"http\"}, \"backends\": [{\"address\": \"10.1.0.1\", "
		     "\"health\": {\"interval_ms\": 100}}, {\"address\": \"10.1.0.2\"}],"
		     " \"slow_start_s\": 1"),
		VIP1("\"health\": {\"type\": \"http\"}, \"backends\": [{\"address\": \"10.1.0.1\", "
		     "\"health\": {\"interval_ms\": 100}}, {\"address\": \"10.1.0.2\"}],"
		     " \"latency_adaptive\": true"),
		VIP1("\"health\": {\"type\": \"http\"}, \"backends\": [{\"address\": \"10.1.0.1\", "
		     "\"health\": {\"interval_ms\": 100}}, {\"address\": \"10.1.0.2\"}],"
		     " \"dead_backend\": \"drop\""),
		VIP1("\"health\": {\"type\": \"http\"}, \"backends\": [{\"address\": \"10.1.0.1\", "
		     "\"health\": {\"interval_ms\": 100}}, {\"address\": \"10.1.0.2\"}],"
		     " \"all_down\": \"fail-open\""),
		VIP1("\"health\": {\"type\": \"http\"}, \"backends\": [{\"address\": \"10.1.0.1\"}, "
		     "{\"address\": \"10.1.0.2\"}]"),
	};
	struct xlb_cfg *b = parse_ok(base), *v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		v = parse_ok(variants[i]);
		if (xlb_config_equal(b, v))
			fail_msg("equal to %s: %s", base, variants[i]);
		xlb_config_free(v);
	}
	xlb_config_free(b);
}

static void test_health_diff(void **state)
{
	static const struct {
		const char *a, *b;
		__u32 vip;	/* changed bits */
		__u32 be0, be1;	/* changed bits of backends 0 and 1, ~0U: not modified */
	} cases[] = {
		/* The VIP's check: every backend without an override changes. */
		{ HCBE("\"type\": \"http\"", "\"interval_ms\": 100"),
		  HCBE("\"type\": \"http\", \"path\": \"/x\"", "\"interval_ms\": 100"),
		  XLB_CFG_V_HEALTH, XLB_CFG_B_HEALTH, XLB_CFG_B_HEALTH },
		/* ... except where the override gives what changed. */
		{ HCBE("\"type\": \"http\"", "\"interval_ms\": 100"),
		  HCBE("\"type\": \"http\", \"interval_ms\": 2000", "\"interval_ms\": 100"),
		  XLB_CFG_V_HEALTH, ~0U, XLB_CFG_B_HEALTH },
		{ HCBE("\"type\": \"http\"", "\"interval_ms\": 100"),
		  HCBE("\"type\": \"http\"", "\"interval_ms\": 200"), 0, XLB_CFG_B_HEALTH, ~0U },
		/* An override equal to the VIP's check changes nothing effective. */
		{ HCBE("\"type\": \"http\"", "\"interval_ms\": 100"),
		  HCBE("\"type\": \"http\"", "\"interval_ms\": 1000"), 0, XLB_CFG_B_HEALTH, ~0U },
		{ HCBE("\"type\": \"tcp\"", "\"rise\": 2"), HC("\"type\": \"tcp\"") "", 0, ~0U, ~0U },
		{ VIP1("\"slow_start_s\": 5"), VIP1("\"slow_start_s\": 6"), XLB_CFG_V_HEALTH, ~0U, ~0U },
		{ VIP1("\"latency_adaptive\": true"), VIP1("\"ring_size\": 65537"), XLB_CFG_V_HEALTH, ~0U, ~0U },
		{ VIP1("\"dead_backend\": \"drop\""), VIP1("\"ring_size\": 65537"), XLB_CFG_V_POLICY, ~0U, ~0U },
		{ VIP1("\"all_down\": \"fail-open\""), VIP1("\"ring_size\": 65537"), XLB_CFG_V_POLICY, ~0U, ~0U },
	};
	struct xlb_cfg *a, *b;
	struct xlb_cfg_diff *d;
	size_t i;
	__u32 j, want;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = diff_ok(cases[i].a, cases[i].b, &a, &b);
		if (i == 4) {
			/* backends removed; only the adds/dels, no health change on the VIP */
			assert_int_equal(d->n_vip_mod, 1);
			assert_int_equal(d->vip_mod[0].changed, 0);
			assert_int_equal(d->vip_mod[0].n_be_mod, 0);
			goto next;
		}
		assert_int_equal(d->n_vip_mod, 1);
		if (d->vip_mod[0].changed != cases[i].vip)
			fail_msg("case %zu: changed %#x, expected %#x", i, d->vip_mod[0].changed,
				 cases[i].vip);
		for (j = 0; j < 2; j++) {
			const struct xlb_cfg_vip_change *vc = &d->vip_mod[0];
			__u32 k, got = ~0U;

			want = j ? cases[i].be1 : cases[i].be0;
			for (k = 0; k < vc->n_be_mod; k++)
				if (vc->be_mod[k].new == &b->vips[0].backends[j])
					got = vc->be_mod[k].changed;
			if (got != want)
				fail_msg("case %zu backend %u: changed %#x, expected %#x", i, j, got,
					 want);
		}
next:
		xlb_config_diff_free(d);
		xlb_config_free(a);
		xlb_config_free(b);
	}
}

/* The API's partial edit of a health object. */
static void test_health_merge(void **state)
{
	json_t *cur = json_loads("{\"type\": \"http\", \"port\": 80, \"interval_ms\": 1000, "
				 "\"path\": \"/x\", \"host\": null}", 0, NULL);
	json_t *up, *m, *want;

	(void)state;
	up = json_loads("{\"interval_ms\": 200}", 0, NULL);
	m = xlb_config_health_merge(cur, up);
	want = json_loads("{\"type\": \"http\", \"port\": 80, \"interval_ms\": 200, "
			  "\"path\": \"/x\", \"host\": null}", 0, NULL);
	assert_true(json_equal(m, want));
	json_decref(m);
	json_decref(want);
	json_decref(up);

	up = json_loads("{\"type\": \"tcp\", \"port\": null}", 0, NULL);
	m = xlb_config_health_merge(cur, up);
	want = json_loads("{\"type\": \"tcp\", \"interval_ms\": 1000}", 0, NULL);
	assert_true(json_equal(m, want));
	json_decref(m);
	json_decref(want);
	json_decref(up);

	up = json_loads("{\"type\": \"none\"}", 0, NULL);
	m = xlb_config_health_merge(cur, up);
	want = json_loads("{\"type\": \"none\"}", 0, NULL);
	assert_true(json_equal(m, want));
	json_decref(m);
	json_decref(want);
	json_decref(up);

	/* A shorter interval lets a kept timeout and backoff fall back to defaults. */
	json_object_set_new(cur, "timeout_ms", json_integer(500));
	json_object_set_new(cur, "backoff_max_ms", json_integer(8000));
	up = json_loads("{\"interval_ms\": 100}", 0, NULL);
	m = xlb_config_health_merge(cur, up);
	assert_null(json_object_get(m, "timeout_ms"));
	assert_int_equal(json_integer_value(json_object_get(m, "backoff_max_ms")), 8000);
	json_decref(m);
	json_decref(up);
	up = json_loads("{\"interval_ms\": 9000}", 0, NULL);
	m = xlb_config_health_merge(cur, up);
	assert_int_equal(json_integer_value(json_object_get(m, "timeout_ms")), 500);
	assert_null(json_object_get(m, "backoff_max_ms"));
	json_decref(m);
	json_decref(up);

	up = json_loads("{\"rise\": 5}", 0, NULL);
	m = xlb_config_health_merge(NULL, up);
	assert_true(json_equal(m, up));
	json_decref(m);
	json_decref(up);
	json_decref(cur);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_vip_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_dump_minimal),
		cmocka_unit_test(test_dump_canonical),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_equal_detects),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_vip_api),
		cmocka_unit_test(test_diff_none),
		cmocka_unit_test(test_diff_vips),
		cmocka_unit_test(test_diff_backends),
		cmocka_unit_test(test_diff_vip_options),
		cmocka_unit_test(test_diff_restart),
		cmocka_unit_test(test_health_defaults),
		cmocka_unit_test(test_health_types),
		cmocka_unit_test(test_health_override),
		cmocka_unit_test(test_health_invalid),
		cmocka_unit_test(test_health_dump),
		cmocka_unit_test(test_health_equal),
		cmocka_unit_test(test_health_diff),
		cmocka_unit_test(test_health_merge),
	};
	int n = (int)(sizeof(tests) / sizeof(tests[0])), failed;

	if (argc > 1)
		example_path = argv[1];
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	fflush(stderr);
	printf("\nconfig: %d passed, %d failed\n", n - failed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
