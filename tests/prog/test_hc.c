// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The data-path probe encapsulator (bpf/hc.bpf.c) with BPF_PROG_TEST_RUN, in
 * a private network namespace with a veth and routes toward the backends:
 *  - unmarked packets, and marks outside the probe range, leave untouched;
 *  - a probe mark wraps the packet toward that backend (IPIP, 4-in-6,
 *    IP6IP6): every outer field, a valid IPv4 checksum, the outer source in
 *    the configured prefix, the inner bytes unchanged, the mark cleared, and
 *    a redirect;
 *  - an unset or out-of-range backend id and an unroutable backend are
 *    dropped, never passed on unwrapped; each counts under its reason.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include "hc.skel.h"
#include "harness.h"

#define MAX_BACKENDS	64

static struct hc_bpf *skel;
static int prog_fd, ifindex;

struct frame4 {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

struct frame6 {
	struct ethhdr eth;
	struct ipv6hdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

static const __u8 dmac[6] = { 0x02, 0, 0, 0, 0, 0x0d }, smac[6] = { 0x02, 0, 0, 0, 0, 0x05 };

static void mk4(struct frame4 *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->eth.h_dest, dmac, 6);
	memcpy(f->eth.h_source, smac, 6);
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tos = 0x28;
	f->ip.ttl = 64;
	f->ip.frag_off = htons(0x4000);
	f->ip.protocol = IPPROTO_TCP;
	f->ip.tot_len = htons(sizeof(f->ip) + sizeof(f->tcp));
	inet_pton(AF_INET, "10.9.0.1", &f->ip.saddr);
	inet_pton(AF_INET, "10.100.0.1", &f->ip.daddr);
	f->ip.check = 0x1234;	/* carried as it is: not ours to check */
	f->tcp.source = htons(40000);
	f->tcp.dest = htons(80);
	f->tcp.doff = 5;
	f->tcp.syn = 1;
	f->tcp.check = 0xabcd;
}

static void mk6(struct frame6 *f)
{
	__u32 w = htonl(6U << 28 | 0x2eU << 20 | 0x12345);

	memset(f, 0, sizeof(*f));
	memcpy(f->eth.h_dest, dmac, 6);
	memcpy(f->eth.h_source, smac, 6);
	f->eth.h_proto = htons(ETH_P_IPV6);
	memcpy(&f->ip, &w, 4);
	f->ip.payload_len = htons(sizeof(f->tcp));
	f->ip.nexthdr = IPPROTO_TCP;
	f->ip.hop_limit = 64;
	inet_pton(AF_INET6, "fd09::1", &f->ip.saddr);
	inet_pton(AF_INET6, "fd00:100::1", &f->ip.daddr);
	f->tcp.source = htons(40000);
	f->tcp.dest = htons(80);
	f->tcp.doff = 5;
	f->tcp.syn = 1;
	f->tcp.check = 0xabcd;
}

/* Run @in with skb->mark @mark from the veth; the mark afterwards in
 * *@mark_out.  Output buffers start 2 bytes into an aligned one, so that
 * the IP header after Ethernet is aligned. */
static int run(const void *in, __u32 len, __u32 mark, void *out, __u32 *out_len, __u32 *ret,
	       __u32 *mark_out)
{
	struct __sk_buff ctx = { .mark = mark, .ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = *out_len, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .ctx_out = &ctx, .ctx_size_out = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	*out_len = o.data_size_out;
	*ret = o.retval;
	*mark_out = ctx.mark;
	return 0;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	return rc == 0 ? 0 : -1;
}

static void counters(__u64 c[XLB_HCP_MAX])
{
	int ncpus = libbpf_num_possible_cpus(), i, k;
	__u64 v[ncpus];
	__u32 key;

	for (i = 0; i < XLB_HCP_MAX; i++) {
		key = (__u32)i;
		c[i] = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.XLB_MAP_HC_STATS), &key, v))
			continue;
		for (k = 0; k < ncpus; k++)
			c[i] += v[k];
	}
}

static bool set_backend(__u32 id, const char *addr)
{
	struct xlb_backend b = {};

	if (strchr(addr, ':')) {
		b.family = XLB_AF_INET6;
		inet_pton(AF_INET6, addr, b.addr);
	} else {
		b.family = XLB_AF_INET;
		inet_pton(AF_INET, addr, b.addr);
	}
	return !bpf_map_update_elem(bpf_map__fd(skel->maps.XLB_MAP_BACKENDS), &id, &b, 0);
}

static bool setup(void)
{
	struct xlb_config cfg = {};
	__u32 k = XLB_HOT_CONFIG;

	XT_ASSERT(!xt_private_netns(), "netns");
	/* bpf_fib_lookup() answers only for devices that forward. */
	XT_ASSERT(!sh("ip link set lo up && sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 && "
		      "ip link add xlbhc0 type veth peer name xlbhc1 && ip link set xlbhc0 up && "
		      "ip link set xlbhc1 up && ip addr add 10.9.0.1/24 dev xlbhc0 && "
		      "ip addr add fd09::1/64 dev xlbhc0 nodad && "
		      "ip route add 10.1.0.0/24 via 10.9.0.2 dev xlbhc0 && "
		      "ip -6 route add fd01::/64 via fd09::2 dev xlbhc0"), "netns setup");
	ifindex = (int)if_nametoindex("xlbhc0");
	XT_ASSERT(ifindex > 0, "no xlbhc0");
	xlb_log_libbpf();
	skel = hc_bpf__open();
	XT_ASSERT(skel, "open hc.bpf.o");
	bpf_map__set_max_entries(skel->maps.XLB_MAP_BACKENDS, MAX_BACKENDS);
	XT_ASSERT(!hc_bpf__load(skel), "load hc.bpf.o");
	prog_fd = bpf_program__fd(skel->progs.xlb_hc_egress);
	inet_pton(AF_INET, "172.16.0.0", &cfg.src4);
	inet_pton(AF_INET, "255.255.0.0", &cfg.src4_mask);
	inet_pton(AF_INET6, "fd00:786c:6200::", cfg.src6);
	XT_ASSERT(!bpf_map_update_elem(bpf_map__fd(skel->maps.XLB_MAP_HOT), &k,
				       &(union xlb_hot){ .cfg = cfg }, 0),
		  "config");
	XT_ASSERT(set_backend(1, "10.1.0.5") && set_backend(2, "fd01::5") &&
		  set_backend(4, "10.7.0.5"), "backends");
	return true;
}

static bool same(const void *exp, __u32 elen, const void *got, __u32 glen)
{
	if (elen == glen && !memcmp(exp, got, elen))
		return true;
	xt_hexdiff(exp, elen, got, glen);
	return false;
}

static bool test_untouched(void)
{
	struct frame4 f;
	unsigned char out[256];
	__u32 len, ret, mark;
	const __u32 marks[] = { 0, 0x12345678, XLB_HC_MARK_BASE - 1, (XLB_HC_MARK_BASE | 0xfffff) + 1 };
	unsigned int i;

	mk4(&f);
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		len = sizeof(out);
		XT_ASSERT(!run(&f, sizeof(f), marks[i], out, &len, &ret, &mark), "test run");
		XT_ASSERT(ret == TC_ACT_OK, "mark %#x: verdict %u", marks[i], ret);
		XT_ASSERT_EQ(mark, marks[i]);
		XT_ASSERT(same(&f, sizeof(f), out, len), "mark %#x changed the packet", marks[i]);
	}
	return true;
}

static bool check_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
	int i;

	for (i = 0; i < 10; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static bool test_ipip(void)
{
	struct frame4 f;
	unsigned char obuf[258] __attribute__((aligned(4))), *out = obuf + 2;
	const struct ethhdr *eth = (void *)out;
	const struct iphdr *o = (void *)(eth + 1);
	__u32 len = sizeof(obuf) - 2, ret, mark, a;

	mk4(&f);
	XT_ASSERT(!run(&f, sizeof(f), XLB_HC_MARK_BASE + 1, out, &len, &ret, &mark), "test run");
	XT_ASSERT_EQ(ret, TC_ACT_REDIRECT);
	XT_ASSERT_EQ(mark, 0);
	XT_ASSERT_EQ(len, sizeof(f) + sizeof(*o));
	XT_ASSERT(!memcmp(eth->h_dest, dmac, 6) && !memcmp(eth->h_source, smac, 6), "MACs");
	XT_ASSERT_EQ(ntohs(eth->h_proto), ETH_P_IP);
	XT_ASSERT_EQ(o->version, 4);
	XT_ASSERT_EQ(o->ihl, 5);
	XT_ASSERT_EQ(o->tos, 0x28);
	XT_ASSERT_EQ(ntohs(o->tot_len), sizeof(f) - sizeof(f.eth) + sizeof(*o));
	XT_ASSERT_EQ(o->id, 0);
	XT_ASSERT_EQ(ntohs(o->frag_off), 0x4000);
	XT_ASSERT_EQ(o->ttl, 64);
	XT_ASSERT_EQ(o->protocol, IPPROTO_IPIP);
	XT_ASSERT(check_csum(o), "outer IPv4 checksum %#x", ntohs(o->check));
	inet_pton(AF_INET, "10.1.0.5", &a);
	XT_ASSERT_EQ(o->daddr, a);
	XT_ASSERT_EQ(ntohl(o->saddr) >> 16, 0xac10);	/* 172.16/16 */
	XT_ASSERT(same(&f.ip, sizeof(f) - sizeof(f.eth), o + 1, len - sizeof(*eth) - sizeof(*o)),
		  "inner packet changed");
	return true;
}

static bool test_4in6(void)
{
	struct frame4 f;
	unsigned char obuf[258] __attribute__((aligned(4))), *out = obuf + 2, a[16], p[16];
	const struct ethhdr *eth = (void *)out;
	const struct ipv6hdr *o = (void *)(eth + 1);
	__u32 len = sizeof(obuf) - 2, ret, mark, w;

	mk4(&f);
	XT_ASSERT(!run(&f, sizeof(f), XLB_HC_MARK_BASE + 2, out, &len, &ret, &mark), "test run");
	XT_ASSERT_EQ(ret, TC_ACT_REDIRECT);
	XT_ASSERT_EQ(len, sizeof(f) + sizeof(*o));
	XT_ASSERT_EQ(ntohs(eth->h_proto), ETH_P_IPV6);
	memcpy(&w, o, 4);
	w = ntohl(w);
	XT_ASSERT_EQ(w >> 28, 6);
	XT_ASSERT_EQ((w >> 20) & 0xff, 0x28);
	XT_ASSERT_EQ(ntohs(o->payload_len), sizeof(f) - sizeof(f.eth));
	XT_ASSERT_EQ(o->nexthdr, IPPROTO_IPIP);
	XT_ASSERT_EQ(o->hop_limit, 64);
	inet_pton(AF_INET6, "fd01::5", a);
	inet_pton(AF_INET6, "fd00:786c:6200::", p);
	XT_ASSERT(!memcmp(&o->daddr, a, 16), "outer destination");
	XT_ASSERT(!memcmp(&o->saddr, p, 12), "outer source prefix");
	XT_ASSERT(same(&f.ip, sizeof(f) - sizeof(f.eth), o + 1, len - sizeof(*eth) - sizeof(*o)),
		  "inner packet changed");
	return true;
}

static bool test_ip6ip6(void)
{
	struct frame6 f;
	unsigned char obuf[258] __attribute__((aligned(4))), *out = obuf + 2, a[16];
	const struct ethhdr *eth = (void *)out;
	const struct ipv6hdr *o = (void *)(eth + 1);
	__u32 len = sizeof(obuf) - 2, ret, mark, w;

	mk6(&f);
	XT_ASSERT(!run(&f, sizeof(f), XLB_HC_MARK_BASE + 2, out, &len, &ret, &mark), "test run");
	XT_ASSERT_EQ(ret, TC_ACT_REDIRECT);
	XT_ASSERT_EQ(mark, 0);
	XT_ASSERT_EQ(len, sizeof(f) + sizeof(*o));
	XT_ASSERT_EQ(ntohs(eth->h_proto), ETH_P_IPV6);
	memcpy(&w, o, 4);
	w = ntohl(w);
	XT_ASSERT_EQ(w >> 28, 6);
	XT_ASSERT_EQ((w >> 20) & 0xff, 0x2e);
	XT_ASSERT_EQ(ntohs(o->payload_len), sizeof(f) - sizeof(f.eth));
	XT_ASSERT_EQ(o->nexthdr, IPPROTO_IPV6);
	XT_ASSERT_EQ(o->hop_limit, 64);
	inet_pton(AF_INET6, "fd01::5", a);
	XT_ASSERT(!memcmp(&o->daddr, a, 16), "outer destination");
	XT_ASSERT(same(&f.ip, sizeof(f) - sizeof(f.eth), o + 1, len - sizeof(*eth) - sizeof(*o)),
		  "inner packet changed");
	return true;
}

static bool test_drops(void)
{
	struct frame4 f;
	unsigned char out[256];
	__u32 len, ret, mark;
	__u64 c0[XLB_HCP_MAX], c1[XLB_HCP_MAX];
	/* unset id, id beyond the map, id 0, no route to the backend */
	const __u32 marks[] = { XLB_HC_MARK_BASE + 9, XLB_HC_MARK_BASE + MAX_BACKENDS + 1,
				XLB_HC_MARK_BASE, XLB_HC_MARK_BASE + 4 };
	unsigned int i;

	mk4(&f);
	counters(c0);
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		len = sizeof(out);
		XT_ASSERT(!run(&f, sizeof(f), marks[i], out, &len, &ret, &mark), "test run");
		XT_ASSERT(ret == TC_ACT_SHOT, "mark %#x: verdict %u", marks[i], ret);
	}
	counters(c1);
	XT_ASSERT_EQ(c1[XLB_HCP_NO_BACKEND] - c0[XLB_HCP_NO_BACKEND], 3);
	XT_ASSERT_EQ(c1[XLB_HCP_FIB_FAIL] - c0[XLB_HCP_FIB_FAIL], 1);
	XT_ASSERT_EQ(c1[XLB_HCP_ENCAP] - c0[XLB_HCP_ENCAP], 0);
	XT_ASSERT_EQ(c1[XLB_HCP_ERROR], 0);
	return true;
}

int main(void)
{
	bool ok = setup();

	xt_report("setup: private netns, veth, routes, hc.bpf.o loaded", ok);
	if (ok) {
		xt_report("unmarked and foreign marks: TC_ACT_OK, bytes unchanged", test_untouched());
		xt_report("IPv4 probe to an IPv4 backend: IPIP, every outer field", test_ipip());
		xt_report("IPv4 probe to an IPv6 backend: 4-in-6", test_4in6());
		xt_report("IPv6 probe to an IPv6 backend: IP6IP6", test_ip6ip6());
		xt_report("no backend, bad id, no route: dropped and counted", test_drops());
	}
	hc_bpf__destroy(skel);
	return xt_summary("hcpath");
}
