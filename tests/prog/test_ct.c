// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Connection-table behaviour and atomic ring switches, on the real object
 * with BPF_PROG_TEST_RUN:
 *  - an established flow keeps its backend when the ring is rewritten
 *    without it, while new flows follow the new ring;
 *  - a flow whose backend became unusable (or was deleted) is re-chosen and
 *    the new choice recorded;
 *  - a conntrack entry recorded for another VIP id is a miss;
 *  - a CPU's flow cache trusts a connection entry for about a second: a
 *    change made elsewhere shows after that, not before;
 *  - the VIP table: a key is found past deleted slots of its chain, a
 *    deleted key is gone, its slot is reused, and a chain holds at most
 *    XLB_VIPTAB_PROBES keys;
 *  - the next hop comes from the FIB, is cached per backend for about a
 *    second (a neighbour change shows after expiry), and the route MTU is
 *    enforced from the cache too;
 *  - while a thread keeps switching a VIP's ring between the Maglev tables of
 *    two backend sets,
 *    1,000,000 new flows each go to a backend of old U new, none hits an
 *    unset slot, and established flows never move.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <xlb/hash.h>
#include "addr.h"
#include "maglev.h"
#include "vipring.h"
#include "harness.h"

#define VIP_ADDR "10.0.0.1"
#define NBACKENDS 4
#define RING_M 65537
#define SWITCH_PACKETS 1000000
#define ESTABLISHED 1000
#define TIME_LIMIT_S 120

static struct xlb *x;
static int prog_fd;
static __u32 be_addr[NBACKENDS + 1];
static __u32 vip_id = 1;

struct frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

static void mkframe(struct frame *f, __u32 saddr, __u16 sport, bool syn)
{
	memset(f, 0, sizeof(*f));
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_TCP;
	f->ip.tot_len = htons(sizeof(f->ip) + sizeof(f->tcp));
	f->ip.saddr = saddr;
	inet_pton(AF_INET, VIP_ADDR, &f->ip.daddr);
	f->tcp.source = htons(sport);
	f->tcp.dest = htons(80);
	f->tcp.doff = 5;
	if (syn)
		f->tcp.syn = 1;
	else
		f->tcp.ack = 1;
}

/* Send one frame; returns the backend (1..NBACKENDS) it was sent to, 0 if it
 * was not sent, -1 if it went somewhere that is no backend. */
static int send_frame(const struct frame *f)
{
	unsigned char out[256];
	__u32 out_len = sizeof(out), retval, dst;
	int i;

	if (xt_run(prog_fd, f, sizeof(*f), out, &out_len, &retval) || retval != XDP_TX)
		return 0;
	if (out_len != sizeof(*f) + 20 || out[12] != 0x08 || out[13] != 0x00 || out[23] != 4)
		return -1;
	memcpy(&dst, out + 14 + 16, 4);
	for (i = 1; i <= NBACKENDS; i++)
		if (dst == be_addr[i])
			return i;
	return -1;
}

static int publish(const __u32 *ids, int n)
{
	static __u32 ring[RING_M];
	int s;

	for (s = 0; s < RING_M; s++)
		ring[s] = ids[s % n];
	return xlb_ring_publish(x, vip_id, ring, RING_M);
}

static int ct_backend(__u32 saddr, __u16 sport, __u32 *id)
{
	struct xlb_flow_key k = {};
	struct xlb_flow f;

	k.family = XLB_AF_INET;
	k.proto = IPPROTO_TCP;
	k.src[0] = saddr;
	inet_pton(AF_INET, VIP_ADDR, &k.dst[0]);
	k.sport = htons(sport);
	k.dport = htons(80);
	if (bpf_map_lookup_elem(xlb_map_fd(x, XLB_STR(XLB_MAP_CONNTRACK)), &k, &f))
		return -errno;
	*id = f.backend_id;
	return 0;
}

static int set_backend(int id, __u8 flags)
{
	struct xlb_backend b = { .family = XLB_AF_INET, .flags = flags };

	b.addr[0] = be_addr[id];
	return xlb_backend_set(x, (__u32)id, &b);
}

static bool test_keeps_backend(void)
{
	__u32 one[] = { 1 }, two[] = { 2 }, c = htonl(0xc0000201), id;
	struct frame f, g;

	XT_ASSERT(!publish(one, 1), "publish");
	mkframe(&f, c, 1000, true);
	XT_ASSERT_EQ(send_frame(&f), 1);
	mkframe(&f, c, 1000, false);
	XT_ASSERT_EQ(send_frame(&f), 1);
	XT_ASSERT(!publish(two, 1), "publish");
	XT_ASSERT_EQ(send_frame(&f), 1);	/* established: stays */
	XT_ASSERT(!ct_backend(c, 1000, &id), "conntrack entry");
	XT_ASSERT_EQ(id, 1);
	mkframe(&g, c, 1001, false);
	XT_ASSERT_EQ(send_frame(&g), 2);	/* new flow: new ring */
	mkframe(&g, c, 1002, true);
	XT_ASSERT_EQ(send_frame(&g), 2);
	return true;
}

static bool test_unusable_rechosen(void)
{
	__u32 two[] = { 2 }, c = htonl(0xc0000202), id;
	struct xlb_counters before, after;
	struct frame f;

	XT_ASSERT(!publish((__u32[]){ 1 }, 1), "publish");
	mkframe(&f, c, 2000, true);
	XT_ASSERT_EQ(send_frame(&f), 1);
	XT_ASSERT(!publish(two, 1), "publish");
	mkframe(&f, c, 2000, false);
	XT_ASSERT_EQ(send_frame(&f), 1);
	XT_ASSERT(!set_backend(1, XLB_BE_F_UNUSABLE), "mark unusable");
	XT_ASSERT(!xlb_stats_backend(x, 2, &before), "stats");
	XT_ASSERT_EQ(send_frame(&f), 2);	/* re-chosen from the ring */
	XT_ASSERT(!xlb_stats_backend(x, 2, &after), "stats");
	XT_ASSERT_EQ(after.new_flows - before.new_flows, 1);
	XT_ASSERT(!ct_backend(c, 2000, &id), "conntrack entry");
	XT_ASSERT_EQ(id, 2);			/* and recorded */
	XT_ASSERT(!set_backend(1, 0), "mark usable");
	XT_ASSERT_EQ(send_frame(&f), 2);	/* stays on its new backend */
	return true;
}

static bool test_deleted_rechosen(void)
{
	__u32 c = htonl(0xc0000203), id;
	struct frame f;

	XT_ASSERT(!publish((__u32[]){ 3 }, 1), "publish");
	mkframe(&f, c, 3000, true);
	XT_ASSERT_EQ(send_frame(&f), 3);
	XT_ASSERT(!publish((__u32[]){ 4 }, 1), "publish");
	XT_ASSERT(!xlb_backend_del(x, 3), "delete backend");
	mkframe(&f, c, 3000, false);
	XT_ASSERT_EQ(send_frame(&f), 4);
	XT_ASSERT(!ct_backend(c, 3000, &id), "conntrack entry");
	XT_ASSERT_EQ(id, 4);
	XT_ASSERT(!set_backend(3, 0), "restore backend");
	return true;
}

static bool test_other_vip_entry(void)
{
	struct xlb_flow_key k = {};
	struct xlb_flow fl = { .backend_id = 1, .vip_id = 99 };
	__u32 c = htonl(0xc0000204);
	struct frame f;

	k.family = XLB_AF_INET;
	k.proto = IPPROTO_TCP;
	k.src[0] = c;
	inet_pton(AF_INET, VIP_ADDR, &k.dst[0]);
	k.sport = htons(4000);
	k.dport = htons(80);
	XT_ASSERT(!bpf_map_update_elem(xlb_map_fd(x, XLB_STR(XLB_MAP_CONNTRACK)), &k, &fl, 0),
		  "plant entry");
	XT_ASSERT(!publish((__u32[]){ 2 }, 1), "publish");
	mkframe(&f, c, 4000, false);
	XT_ASSERT_EQ(send_frame(&f), 2);
	return true;
}

static double now_s(void);

static bool test_flow_cache(void)
{
	struct xlb_flow_key k = {};
	struct xlb_flow fl = { .backend_id = 3, .vip_id = 1 };
	__u32 c = htonl(0xc0000205);
	struct frame f;
	double t;

	XT_ASSERT(!publish((__u32[]){ 1 }, 1), "publish");
	mkframe(&f, c, 5000, true);
	XT_ASSERT_EQ(send_frame(&f), 1);
	mkframe(&f, c, 5000, false);
	XT_ASSERT_EQ(send_frame(&f), 1);
	/* The entry changes behind this CPU's back (as another CPU or
	 * userspace could do). */
	k.family = XLB_AF_INET;
	k.proto = IPPROTO_TCP;
	k.src[0] = c;
	inet_pton(AF_INET, VIP_ADDR, &k.dst[0]);
	k.sport = htons(5000);
	k.dport = htons(80);
	t = now_s();
	XT_ASSERT(!bpf_map_update_elem(xlb_map_fd(x, XLB_STR(XLB_MAP_CONNTRACK)), &k, &fl, 0),
		  "rewrite entry");
	if (now_s() - t < 0.5)
		XT_ASSERT_EQ(send_frame(&f), 1);	/* from the flow cache */
	usleep(1300 * 1000);
	XT_ASSERT_EQ(send_frame(&f), 3);		/* the entry read again */
	XT_ASSERT_EQ(send_frame(&f), 3);
	return true;
}

static void mkframe_to(struct frame *f, __u32 saddr, __u16 sport, __u32 daddr, __u16 dport)
{
	mkframe(f, saddr, sport, false);
	f->ip.daddr = daddr;
	f->tcp.dest = htons(dport);
}

static bool test_vip_table(void)
{
	enum { N = XLB_VIPTAB_PROBES + 1 };
	struct xlb_vip_key k[N];
	struct xlb_vip v = {};
	struct xlb_config cfg;
	__u32 home = 0, daddr, c = htonl(0xc0000206), ring[7];
	__u16 port[N];
	struct frame f;
	int n = 0, i, p;

	XT_ASSERT(!xlb_config_get(x, &cfg), "config");
	inet_pton(AF_INET, "10.0.0.77", &daddr);
	/* Ports whose keys share one home slot: one chain. */
	for (p = 1000; p < 65536 && n < N; p++) {
		struct xlb_vip_key t = { .proto = IPPROTO_TCP, .family = XLB_AF_INET };
		__u32 h;

		t.addr[0] = daddr;
		t.port = htons((__u16)p);
		h = xlb_vip_slot_hash(t.addr, 1, t.port, t.proto) & cfg.vip_mask;
		if (!n)
			home = h;
		if (h != home)
			continue;
		k[n] = t;
		port[n++] = (__u16)p;
	}
	XT_ASSERT_EQ(n, N);
	for (i = 0; i < 7; i++)
		ring[i] = 2;
	for (i = 0; i < 3; i++) {
		v.id = 20 + (__u32)i;
		XT_ASSERT(!xlb_ring_publish(x, v.id, ring, 7), "publish");
		XT_ASSERT(!xlb_vip_set(x, &k[i], &v), "add VIP %d", i);
	}
	mkframe_to(&f, c, 6000, daddr, port[2]);
	XT_ASSERT_EQ(send_frame(&f), 2);
	XT_ASSERT(!xlb_vip_del(x, &k[1]), "delete the middle VIP");
	mkframe_to(&f, c, 6000, daddr, port[1]);
	XT_ASSERT_EQ(send_frame(&f), 0);		/* passed: not a VIP now */
	mkframe_to(&f, c, 6000, daddr, port[2]);
	XT_ASSERT_EQ(send_frame(&f), 2);		/* found past the deleted slot */
	v.id = 21;
	XT_ASSERT(!xlb_vip_set(x, &k[1], &v), "add it again");
	mkframe_to(&f, c, 6000, daddr, port[1]);
	XT_ASSERT_EQ(send_frame(&f), 2);
	/* Fill the chain: XLB_VIPTAB_PROBES keys fit, one more does not. */
	for (i = 3; i < N; i++) {
		v.id = 20 + (__u32)i;
		if (i < N - 1)
			XT_ASSERT(!xlb_vip_set(x, &k[i], &v), "add VIP %d", i);
		else
			XT_ASSERT_EQ(xlb_vip_set(x, &k[i], &v), -ENOSPC);
	}
	mkframe_to(&f, c, 6000, daddr, port[N - 2]);
	XT_ASSERT(!xlb_ring_publish(x, 20 + N - 2, ring, 7), "publish");
	XT_ASSERT_EQ(send_frame(&f), 2);
	for (i = 0; i < N - 1; i++) {
		XT_ASSERT(!xlb_vip_del(x, &k[i]), "delete VIP %d", i);
		xlb_ring_clear(x, 20 + (__u32)i);
	}
	mkframe_to(&f, c, 6000, daddr, port[2]);
	XT_ASSERT_EQ(send_frame(&f), 0);
	return true;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		fprintf(stderr, "    '%s' failed (%d)\n", cmd, rc);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Send @f (padded to @len bytes) in from device @ifindex; returns the
 * verdict and copies the destination MAC of the output into @dmac. */
static const __u8 lb_mac[6] = { 2, 0, 0, 0, 0, 0x1b };	/* the LB's own */

static int send_on(int ifindex, __u32 saddr, __u16 sport, __u32 len, __u8 dmac[6])
{
	static unsigned char in[2048], out[2048 + 64];
	struct frame *f = (struct frame *)in;
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	memset(in, 0, sizeof(in));
	mkframe(f, saddr, sport, false);
	memcpy(f->eth.h_dest, lb_mac, 6);
	f->ip.tot_len = htons((__u16)(len - sizeof(f->eth)));
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	memcpy(dmac, out, 6);
	return (int)o.retval;
}

static bool nexthop_cache(void)
{
	const __u8 mac1[6] = { 2, 0, 0, 0, 0, 0x11 }, mac2[6] = { 2, 0, 0, 0, 0, 0x22 };
	struct xlb_global_stats g0, g1;
	struct xlb_config cfg;
	__u32 c = htonl(0xc0000205);
	__u8 dmac[6];
	cpu_set_t one;
	double t;
	int ifindex;

	XT_ASSERT(!sh("ip link add xlbnh0 type veth peer name xlbnh1 && ip link set xlbnh0 up && "
		      "ip link set xlbnh1 up && ip addr add 10.9.0.1/24 dev xlbnh0 && "
		      "sysctl -qw net.ipv4.ip_forward=1 && "
		      "ip neigh replace 10.9.0.2 lladdr 02:00:00:00:00:11 dev xlbnh0 nud permanent && "
		      "ip route add 10.1.0.0/24 via 10.9.0.2 dev xlbnh0"), "netns setup");
	ifindex = (int)if_nametoindex("xlbnh0");
	XT_ASSERT(ifindex > 0, "no xlbnh0");
	XT_ASSERT(!xlb_config_get(x, &cfg), "config");
	cfg.flags = XLB_CFG_F_STATIC_NH;	/* the FIB first; static only as fallback */
	XT_ASSERT(!xlb_config_set(x, &cfg), "config");
	XT_ASSERT(!publish((__u32[]){ 1 }, 1), "publish");
	XT_ASSERT(!xlb_stats_backend_reset(x, 1), "reset backend 1 (empties its cache)");
	XT_ASSERT(!xlb_stats_global(x, &g0), "stats");

	/* The cache is per CPU: every packet of this test on one CPU. */
	CPU_ZERO(&one);
	CPU_SET((int)sched_getcpu(), &one);
	XT_ASSERT(!sched_setaffinity(0, sizeof(one), &one), "pin to one CPU");
	t = now_s();
	XT_ASSERT_EQ(send_on(ifindex, c, 6000, 64, dmac), XDP_TX);
	XT_ASSERT(!memcmp(dmac, mac1, 6), "first packet: FIB neighbour MAC expected");
	XT_ASSERT(!sh("ip neigh replace 10.9.0.2 lladdr 02:00:00:00:00:22 dev xlbnh0 nud permanent"),
		  "neigh");
	XT_ASSERT_EQ(send_on(ifindex, c, 6000, 64, dmac), XDP_TX);
	if (now_s() - t < 0.8)
		XT_ASSERT(!memcmp(dmac, mac1, 6), "within the cache period the cached MAC is used");
	usleep(1200 * 1000);
	XT_ASSERT_EQ(send_on(ifindex, c, 6000, 64, dmac), XDP_TX);
	XT_ASSERT(!memcmp(dmac, mac2, 6), "after expiry the new neighbour MAC is used");

	/* Egress MTU 300: 400-byte packets (420 outer) drop, from the FIB and
	 * then from the cache; small ones pass. */
	XT_ASSERT(!sh("ip link set dev xlbnh0 mtu 300"), "link mtu");
	usleep(1200 * 1000);
	XT_ASSERT_EQ(send_on(ifindex, c, 6000, 414, dmac), XDP_DROP);	/* FIB: frag_needed */
	XT_ASSERT_EQ(send_on(ifindex, c, 6000, 64, dmac), XDP_TX);	/* fills the cache */
	XT_ASSERT_EQ(send_on(ifindex, c, 6000, 414, dmac), XDP_DROP);	/* cache: frag_needed */
	XT_ASSERT_EQ(send_on(ifindex, c, 6000, 294, dmac), XDP_TX);	/* 300 outer: fits */
	XT_ASSERT(!xlb_stats_global(x, &g1), "stats");
	XT_ASSERT_EQ(g1.reason[XLB_R_FRAG_NEEDED] - g0.reason[XLB_R_FRAG_NEEDED], 2);
	XT_ASSERT_EQ(g1.reason[XLB_R_FIB_STATIC] - g0.reason[XLB_R_FIB_STATIC], 0);

	/* No neighbour and no static next hop: the encapsulated packet goes
	 * to the kernel, still addressed to this host, counted no_neigh. */
	XT_ASSERT(!sh("ip link set dev xlbnh0 mtu 1500 && ip neigh del 10.9.0.2 dev xlbnh0"), "neigh del");
	cfg.flags = 0;
	XT_ASSERT(!xlb_config_set(x, &cfg), "config");
	usleep(1200 * 1000);
	XT_ASSERT(!xlb_stats_global(x, &g0), "stats");
	XT_ASSERT_EQ(send_on(ifindex, c, 6000, 64, dmac), XDP_PASS);
	XT_ASSERT(!memcmp(dmac, lb_mac, 6), "kernel-bound packet must keep this host's MAC");
	XT_ASSERT(!xlb_stats_global(x, &g1), "stats");
	XT_ASSERT_EQ(g1.reason[XLB_R_NO_NEIGH] - g0.reason[XLB_R_NO_NEIGH], 1);
	XT_ASSERT_EQ(g1.verdict[XDP_PASS] - g0.verdict[XDP_PASS], 1);
	return true;
}

/* The other tests use the static next hop only: restore it whatever happens. */
static bool test_nexthop_cache(void)
{
	struct xlb_config cfg;
	cpu_set_t all;
	bool ok;

	sched_getaffinity(0, sizeof(all), &all);
	ok = nexthop_cache();
	sched_setaffinity(0, sizeof(all), &all);	/* it pins itself to one CPU */
	if (xlb_config_get(x, &cfg))
		return false;
	cfg.flags = XLB_CFG_F_STATIC_NH | XLB_CFG_F_SKIP_FIB;
	return !xlb_config_set(x, &cfg) && ok;
}

/* Verdict and reason for a frame to VIP_ADDR:@dport with IP protocol @proto. */
static int probe(__u16 dport, __u8 proto, int *reason)
{
	struct xlb_global_stats g0, g1;
	unsigned char out[256];
	__u32 out_len = sizeof(out), retval;
	struct frame f;
	int r;

	mkframe(&f, htonl(0xc0000206), 7000, true);
	f.tcp.dest = htons(dport);
	f.ip.protocol = proto;
	if (xlb_stats_global(x, &g0) || xt_run(prog_fd, &f, sizeof(f), out, &out_len, &retval) ||
	    xlb_stats_global(x, &g1))
		return -1;
	*reason = -1;
	for (r = 0; r < XLB_R_MAX; r++)
		if (g1.reason[r] != g0.reason[r] && r != XLB_R_FIB_STATIC)
			*reason = r;
	return (int)retval;
}

static bool test_vip_delete(void)
{
	struct xlb_vip_key a, b;
	struct xlb_vip va = { .id = 1 }, vb = { .id = 2 };
	__u32 word, w;
	union xlb_hot hot;
	int why;

	XT_ASSERT(!xlb_vip_key_parse(VIP_ADDR ":80/tcp", &a, NULL), "parse");
	XT_ASSERT(!xlb_vip_key_parse(VIP_ADDR ":443/tcp", &b, NULL), "parse");
	XT_ASSERT(!xlb_vip_set(x, &b, &vb), "add second VIP");
	vip_id = 2;
	XT_ASSERT(!publish((__u32[]){ 2 }, 1), "publish");
	vip_id = 1;
	XT_ASSERT(!xlb_vip_del(x, &a), "delete first VIP");
	XT_ASSERT_EQ(xlb_vip_del(x, &a), -ENOENT);
	XT_ASSERT_EQ(probe(443, IPPROTO_TCP, &why), XDP_TX);	/* the other VIP still works */
	XT_ASSERT_EQ(probe(80, IPPROTO_TCP, &why), XDP_PASS);
	XT_ASSERT_EQ(why, XLB_R_NOT_VIP);
	XT_ASSERT_EQ(probe(80, IPPROTO_ICMP, &why), XDP_DROP);	/* still a VIP address */
	XT_ASSERT_EQ(why, XLB_R_VIP_PROTO);
	XT_ASSERT(!xlb_vip_del(x, &b), "delete second VIP");
	XT_ASSERT_EQ(probe(80, IPPROTO_ICMP, &why), XDP_PASS);	/* no longer a VIP address */
	XT_ASSERT_EQ(why, XLB_R_NOT_VIP);
	XT_ASSERT_EQ(probe(443, IPPROTO_TCP, &why), XDP_PASS);
	word = xlb_vfilter_bit(a.addr, 1) >> 5;
	XT_ASSERT(!bpf_map_lookup_elem(xlb_map_fd(x, XLB_STR(XLB_MAP_HOT)),
				       &(__u32){ word / XLB_HOT_WORDS }, &hot),
		  "filter word");
	w = hot.vfilter[word % XLB_HOT_WORDS];
	XT_ASSERT_EQ(w & (1U << (xlb_vfilter_bit(a.addr, 1) & 31)), 0);
	XT_ASSERT(!xlb_vip_set(x, &a, &va), "re-add the first VIP");
	XT_ASSERT(!publish((__u32[]){ 1 }, 1), "publish");
	XT_ASSERT_EQ(probe(80, IPPROTO_TCP, &why), XDP_TX);
	return true;
}

/* Send @count SYNs from distinct sources; which backends got them (bitmask). */
static unsigned int syn_spread(int count, __u32 base)
{
	unsigned int seen = 0;
	struct frame f;
	int i, b;

	for (i = 0; i < count; i++) {
		mkframe(&f, htonl(base + (__u32)i), (__u16)(10000 + i), true);
		b = send_frame(&f);
		if (b > 0)
			seen |= 1U << b;
		else
			seen |= 1U;	/* bit 0: not sent, or not to a backend */
	}
	return seen;
}

static bool vip_ring(struct xlb_vip_ring *r)
{
	struct maglev_backend cfg[NBACKENDS];
	struct xlb_ring_info i0, info;
	bool down[NBACKENDS] = { false };
	__u32 c4 = htonl(0xc0000207);
	const char *why = NULL;
	struct frame f;
	int i, sport = 0;

	for (i = 0; i < NBACKENDS; i++) {
		__u32 addr[4] = { be_addr[i + 1], 0, 0, 0 };

		memset(&cfg[i], 0, sizeof(cfg[i]));
		cfg[i].id = (__u32)i + 1;
		cfg[i].weight = 1;
		cfg[i].state = MAGLEV_UP;
		XT_ASSERT(!maglev_ident_addr(&cfg[i], XLB_AF_INET, addr, 0), "ident");
	}
	XT_ASSERT(!xlb_vip_ring_init(r, vip_id, 65537, 42), "init");
	XT_ASSERT(!xlb_vip_ring_apply(x, r, cfg, NBACKENDS, NULL, true, NULL), "apply");
	XT_ASSERT_EQ(r->publishes, 1);
	XT_ASSERT_EQ(syn_spread(400, 0x0b000000), 0x1e);	/* all four, nothing else */
	XT_ASSERT(!xlb_vip_ring_info(r, &i0), "info");
	XT_ASSERT_EQ(i0.live_checksum, i0.anchor_checksum);
	XT_ASSERT_EQ(i0.stats.backends, 4);
	XT_ASSERT(i0.stats.max_ratio < 1.0 + 4.0 / 65537 + 1e-9, "imbalance %f", i0.stats.max_ratio);

	/* Unchanged input: nothing is published again. */
	XT_ASSERT(!xlb_vip_ring_apply(x, r, cfg, NBACKENDS, NULL, false, NULL), "apply");
	XT_ASSERT(!xlb_vip_ring_apply(x, r, cfg, NBACKENDS, NULL, true, NULL), "apply");
	XT_ASSERT_EQ(r->publishes, 1);

	/* A flow on backend 4, to check drain later. */
	do {
		mkframe(&f, c4, (__u16)(20000 + sport++), true);
	} while (send_frame(&f) != 4 && sport < 1000);
	XT_ASSERT(sport < 1000, "no flow landed on backend 4");

	/* Backend 3 fails: the live table changes, the anchor does not. */
	down[2] = true;
	XT_ASSERT(!xlb_vip_ring_apply(x, r, cfg, NBACKENDS, down, false, NULL), "apply");
	XT_ASSERT_EQ(r->publishes, 2);
	XT_ASSERT_EQ(syn_spread(400, 0x0b100000), 0x16);	/* 1, 2, 4 */
	XT_ASSERT(!xlb_vip_ring_info(r, &info), "info");
	XT_ASSERT_EQ(info.anchor_checksum, i0.anchor_checksum);
	XT_ASSERT(info.live_checksum != i0.live_checksum, "live ring unchanged after a failure");
	XT_ASSERT_EQ(info.stats.backends, 3);

	/* It recovers: back on the anchor, byte for byte. */
	down[2] = false;
	XT_ASSERT(!xlb_vip_ring_apply(x, r, cfg, NBACKENDS, down, false, NULL), "apply");
	XT_ASSERT_EQ(r->publishes, 3);
	XT_ASSERT(!xlb_vip_ring_info(r, &info), "info");
	XT_ASSERT_EQ(info.live_checksum, i0.live_checksum);

	/* Drain backend 4: no new flows, its established flow stays. */
	cfg[3].state = MAGLEV_DRAIN;
	XT_ASSERT(!xlb_vip_ring_apply(x, r, cfg, NBACKENDS, down, true, NULL), "apply");
	XT_ASSERT_EQ(r->publishes, 4);
	XT_ASSERT_EQ(syn_spread(400, 0x0b200000), 0x0e);	/* 1, 2, 3 */
	mkframe(&f, c4, (__u16)(20000 + sport - 1), false);
	XT_ASSERT_EQ(send_frame(&f), 4);

	/* A bad configuration changes nothing. */
	XT_ASSERT(!xlb_vip_ring_info(r, &i0), "info");
	memcpy(cfg[1].ident, cfg[0].ident, sizeof(cfg[0].ident));
	XT_ASSERT_EQ(xlb_vip_ring_apply(x, r, cfg, NBACKENDS, down, true, &why), -EINVAL);
	XT_ASSERT(why != NULL, "no message for a duplicate backend");
	XT_ASSERT_EQ(r->publishes, 4);
	XT_ASSERT(!xlb_vip_ring_info(r, &info), "info");
	XT_ASSERT_EQ(info.live_checksum, i0.live_checksum);
	XT_ASSERT_EQ(syn_spread(100, 0x0b300000), 0x0e);
	return true;
}

static bool test_vip_ring(void)
{
	struct xlb_vip_ring r;
	bool ok = vip_ring(&r);

	xlb_vip_ring_release(&r);
	return ok;
}

static volatile int stop_switching;
static long switches;
static int switch_err;

static struct maglev_table *tables[2];	/* Maglev rings over {1, 2} and {3, 4} */

static int build_tables(void)
{
	struct maglev_backend be[2];
	int t, i, err;

	for (t = 0; t < 2; t++) {
		for (i = 0; i < 2; i++) {
			__u32 addr[4] = { be_addr[2 * t + i + 1], 0, 0, 0 };

			memset(&be[i], 0, sizeof(be[i]));
			be[i].id = (__u32)(2 * t + i + 1);
			be[i].weight = 1;
			be[i].state = MAGLEV_UP;
			err = maglev_ident_addr(&be[i], XLB_AF_INET, addr, 0);
			if (err)
				return err;
		}
		err = maglev_build(be, 2, RING_M, 42, &tables[t], NULL);
		if (err)
			return err;
	}
	return 0;
}

static void *switcher(void *arg)
{
	(void)arg;
	while (!stop_switching) {
		const struct maglev_table *t = tables[switches & 1];

		switch_err = xlb_ring_publish(x, vip_id, t->ring, t->m);
		if (switch_err)
			break;
		switches++;
	}
	return NULL;
}

static bool test_switch_under_load(void)
{
	static int est_be[ESTABLISHED];
	struct xlb_global_stats g0, g1;
	pthread_t th;
	struct frame f;
	time_t t0 = time(NULL);
	long i, bad = 0, notsent = 0, moved = 0, per_be[NBACKENDS + 1] = { 0 };
	bool ok = true;

	XT_ASSERT(!build_tables(), "Maglev tables");
	XT_ASSERT(!xlb_ring_publish(x, vip_id, tables[0]->ring, tables[0]->m), "publish");
	for (i = 0; i < ESTABLISHED; i++) {
		mkframe(&f, htonl(0xc6000000 | (__u32)i), 5000, true);
		est_be[i] = send_frame(&f);
		XT_ASSERT(est_be[i] == 1 || est_be[i] == 2, "established flow %ld on %d", i, est_be[i]);
	}
	XT_ASSERT(!xlb_stats_global(x, &g0), "stats");
	stop_switching = 0;
	switches = 0;
	XT_ASSERT(!pthread_create(&th, NULL, switcher, NULL), "thread");
	for (i = 0; i < SWITCH_PACKETS; i++) {
		int b;

		if ((i & 0xffff) == 0 && time(NULL) - t0 > TIME_LIMIT_S) {
			fprintf(stderr, "    time limit after %ld packets\n", i);
			ok = false;
			break;
		}
		if (i % 64 == 0) {
			long e = (i / 64) % ESTABLISHED;

			mkframe(&f, htonl(0xc6000000 | (__u32)e), 5000, false);
			if (send_frame(&f) != est_be[e])
				moved++;
		}
		/* A new flow each time: distinct (source, port). */
		mkframe(&f, htonl(0x0a800000 | (__u32)(i >> 16)), (__u16)(i & 0xffff), true);
		b = send_frame(&f);
		if (b > 0)
			per_be[b]++;
		else if (b == 0)
			notsent++;
		else
			bad++;
	}
	stop_switching = 1;
	pthread_join(th, NULL);
	maglev_free(tables[0]);
	maglev_free(tables[1]);
	XT_ASSERT(!xlb_stats_global(x, &g1), "stats");
	printf("    %ld packets, %ld ring switches; per backend: %ld %ld %ld %ld\n", i, switches,
	       per_be[1], per_be[2], per_be[3], per_be[4]);
	XT_ASSERT_EQ(switch_err, 0);
	XT_ASSERT(switches >= 10, "only %ld switches happened: no concurrency tested", switches);
	XT_ASSERT_EQ(bad, 0);
	XT_ASSERT_EQ(notsent, 0);
	XT_ASSERT_EQ(moved, 0);
	XT_ASSERT_EQ(g1.reason[XLB_R_RING_EMPTY_SLOT] - g0.reason[XLB_R_RING_EMPTY_SLOT], 0);
	XT_ASSERT_EQ(g1.reason[XLB_R_NO_RING] - g0.reason[XLB_R_NO_RING], 0);
	XT_ASSERT(per_be[1] && per_be[2] && per_be[3] && per_be[4],
		  "both rings must have been seen");
	return ok;
}

int main(void)
{
	struct xlb_vip_key k;
	struct xlb_vip v = { .id = 1 };
	struct xlb_config cfg;
	int i, err;

	err = xt_private_netns();
	if (!err)
		err = xt_pin_cpu();
	if (!err)
		err = xt_load(&x, 42, 1 << 21);
	if (err)
		goto fail;
	prog_fd = xlb_prog_fd(x);
	err = xlb_config_get(x, &cfg);
	if (err)
		goto fail;
	cfg.flags = XLB_CFG_F_STATIC_NH | XLB_CFG_F_SKIP_FIB;
	cfg.nh_ifindex = 1;
	err = xlb_config_set(x, &cfg);
	for (i = 1; !err && i <= NBACKENDS; i++) {
		be_addr[i] = htonl(0x0a010000 | (__u32)i);
		err = set_backend(i, 0);
	}
	if (!err)
		err = xlb_vip_key_parse(VIP_ADDR ":80/tcp", &k, NULL);
	if (!err)
		err = xlb_vip_set(x, &k, &v);
	if (err)
		goto fail;

	xt_report("established flow keeps its backend after the ring drops it", test_keeps_backend());
	xt_report("flow to an unusable backend is re-chosen and recorded", test_unusable_rechosen());
	xt_report("flow to a deleted backend is re-chosen", test_deleted_rechosen());
	xt_report("conntrack entry of another VIP id is a miss", test_other_vip_entry());
	xt_report("flow cache: a changed entry shows after about a second, not before",
		  test_flow_cache());
	xt_report("VIP table: chains, deleted slots skipped and reused, at most 8 keys a chain",
		  test_vip_table());
	xt_report("deleting VIPs keeps, then removes, the address marker and filter bit",
		  test_vip_delete());
	xt_report("VIP ring: anchor and live tables, failure, recovery, drain, only changes published",
		  test_vip_ring());
	xt_report("next hop from the FIB, cached about 1 s, route MTU enforced, unknown neighbour to the kernel",
		  test_nexthop_cache());
	xt_report("ring switch under 1M new flows: old U new only, no unset slot",
		  test_switch_under_load());
	xlb_close(x);
	return xt_summary("ct");
fail:
	fprintf(stderr, "setup failed: %s\n", strerror(-err));
	xlb_close(x);
	xt_failed++;
	return xt_summary("ct");
}
