// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_prog: the data plane's cost per packet, from BPF_PROG_TEST_RUN.
 *
 * Each path (established IPv4 TCP, IPv4 TCP SYN, IPv4 UDP, IPv6 TCP, and
 * non-VIP IPv4) is timed as many calls with repeat=1 and the original frame
 * each time: a kernel-side repeat would feed each run's output (an already
 * encapsulated frame) into the next.  The figure per call is the kernel's
 * own `duration` (default) or the wall time around the syscall (--wall).
 * Two baselines are timed the same way, on the same frame, in the same
 * rounds: an empty XDP_PASS program (the fixed cost of the harness) and a
 * MAC-swap XDP_TX program (the cheapest forwarder); see bpf/bench.bpf.c.
 *
 * The bench runs in a private network namespace (unshare(CLONE_NEWNET), so
 * it vanishes with the process) holding a veth pair with an address, a
 * route toward the backends and a permanent neighbour for the next hop, so
 * bpf_fib_lookup succeeds as in production and egress == ingress gives
 * XDP_TX.  Every path is checked once, outside timing, for its verdict, its
 * output and its counters; the counters are checked again after timing.
 *
 * --compare NAME=OBJECT times other builds of xlb.bpf.o on the same maps in
 * the same rounds, so a change can be judged within one run.
 */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/hash.h>
#include "bench.skel.h"
#include "log.h"
#include "xlb.h"

#define IF_LB		"xlbb0"		/* the LB's device: ingress and egress */
#define IF_PEER		"xlbb1"
#define MAC_LB		"\x02\x00\x00\x00\x00\x01"
#define MAC_NH		"\x02\x00\x00\x00\x00\x02"	/* next hop (neighbour) */
#define MAC_CLIENT	"\x02\x00\x00\x00\x00\xfe"	/* upstream router */
/* The static next hop: configured, but never expected in the output in fib mode. */
#define MAC_STATIC	"\x02\x00\x00\x00\x00\x5e"
#define NBACKENDS	8
#define HASH_SEED	0x786c6200U
#define BLOCK		500		/* calls per program before switching */
#define FRAME_MAX	256

#define MAX_COMPARE	4

/* The first three programs are always these; --compare adds more. */
enum prog_idx { PR_XLB, PR_SWAP, PR_EMPTY, PR_NBASE };
#define MAX_PROGS	(PR_NBASE + MAX_COMPARE)

struct prog {
	const char *name;
	int fd;
	int is_lb;		/* xlb or a --compare build of it */
	struct bpf_object *obj;	/* --compare only */
};

enum path_idx { PA_EST4, PA_SYN4, PA_UDP4, PA_EST6, PA_NOVIP4, NPATHS };

struct path {
	const char *name;
	double target;		/* ratio to xdp_swap_tx; 0 = none set */
	int expect;		/* XDP verdict of xlb */
	int new_flow;		/* ring lookups per packet (0 or 1); -1 n/a */
	__u32 vip_id;		/* 0 for non-VIP */
	int vary_sport;		/* new source port on every call */
	__u8 frame[FRAME_MAX];
	__u32 len;
};

struct opts {
	int rounds;
	int calls;
	int cpu;
	int wall;
	int syn_vary;
	int verbose;
	int ncompare;
	char *compare[MAX_COMPARE];	/* "NAME=OBJECT" */
};

struct bench {
	struct opts o;
	struct xlb *x;
	struct bench_bpf *skel;
	struct prog progs[MAX_PROGS];
	int nprogs;
	__u32 ifindex;
	int fib;		/* 1: bpf_fib_lookup resolves; 0: SKIP_FIB */
	const char *fib_why;	/* why fib mode was abandoned */
	int netns;		/* in our private network namespace */
	struct path paths[NPATHS];
};

/* ---- network namespace ------------------------------------------------ */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command in our namespace; 0, or -EIO after saying which
 * command failed. */
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pr_debug("+ %s\n", cmd);
	rc = system(cmd);
	if (rc) {
		pr_warn("bench: '%s' failed (status %d)\n", cmd, rc);
		return -EIO;
	}
	return 0;
}

/* /proc/sys/net is per namespace: this writes our private one. */
static int sysctl_set(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f) {
		err = -errno;
		pr_warn("bench: cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	if (fputs(val, f) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		pr_warn("bench: cannot set %s: %s\n", path, strerror(-err));
	return err;
}

static int if_running(const char *ifname)
{
	struct ifreq ifr = {};
	int fd, up;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	up = !ioctl(fd, SIOCGIFFLAGS, &ifr) && (ifr.ifr_flags & IFF_RUNNING);
	close(fd);
	return up;
}

/* A fresh veth sometimes stays NO-CARRIER until its peer is toggled. */
static int wait_running(const char *ifname, const char *peer)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (if_running(ifname))
			return 0;
		if (i == 50 && (sh("ip link set %s down", peer) || sh("ip link set %s up", peer)))
			return -EIO;
		usleep(10000);
	}
	pr_warn("bench: %s has no carrier after 2 s\n", ifname);
	return -EIO;
}

/*
 * Build the LB's side of the network in a private namespace: a veth with
 * 10.0.0.1/24 and fd00::1/64, the backends (10.1.0.0/24, fd01::/64) behind
 * the next hop 10.0.0.2/fd00::2, whose MAC is a permanent neighbour entry.
 */
static int net_setup(struct bench *b)
{
	int err;

	if (unshare(CLONE_NEWNET)) {
		err = -errno;
		pr_warn("bench: unshare(CLONE_NEWNET): %s\n", strerror(-err));
		return err;
	}
	b->netns = 1;
	if (sh("ip link add " IF_LB " address 02:00:00:00:00:01 type veth peer name "
	       IF_PEER " address 02:00:00:00:00:02") ||
	    sh("ip link set " IF_PEER " up") || sh("ip link set " IF_LB " up") ||
	    sh("ip addr add 10.0.0.1/24 dev " IF_LB) ||
	    sh("ip -6 addr add fd00::1/64 dev " IF_LB " nodad") ||
	    sh("ip neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 nud permanent dev " IF_LB) ||
	    sh("ip -6 neigh replace fd00::2 lladdr 02:00:00:00:00:02 nud permanent dev " IF_LB) ||
	    sh("ip route add 10.1.0.0/24 via 10.0.0.2 dev " IF_LB) ||
	    sh("ip -6 route add fd01::/64 via fd00::2 dev " IF_LB))
		return -EIO;
	err = sysctl_set("/proc/sys/net/ipv4/ip_forward", "1");
	err = err ?: sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	err = err ?: sysctl_set("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
	err = err ?: sysctl_set("/proc/sys/net/ipv4/conf/default/rp_filter", "0");
	err = err ?: sysctl_set("/proc/sys/net/ipv4/conf/" IF_LB "/rp_filter", "0");
	if (err)
		return err;
	if (wait_running(IF_LB, IF_PEER))
		return -EIO;
	b->ifindex = if_nametoindex(IF_LB);
	return b->ifindex ? 0 : -ENODEV;
}

/* ---- frames ----------------------------------------------------------- */

static __u16 csum16(const void *p, size_t len)
{
	const __u16 *w = p;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Write an Ethernet frame toward the LB carrying TCP (@flags) or UDP from
 * @src:@sport to @dst:@dport, with a small payload: 64 bytes for IPv4, 84
 * for IPv6.  L4 checksums are left zero: the data plane never reads them.
 */
static __u32 build_frame(__u8 *buf, int af, int proto, const char *src, const char *dst,
			 __u16 sport, __u16 dport, __u8 flags)
{
	struct ethhdr *eth = (void *)buf;
	__u32 l4len = proto == IPPROTO_TCP ? sizeof(struct tcphdr) + 10 :
					     sizeof(struct udphdr) + 22;
	__u8 *l4;

	memset(buf, 0, FRAME_MAX);
	memcpy(eth->h_dest, MAC_LB, ETH_ALEN);
	memcpy(eth->h_source, MAC_CLIENT, ETH_ALEN);
	if (af == AF_INET) {
		struct iphdr *ip = (void *)(eth + 1);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(sizeof(*ip) + l4len);
		ip->frag_off = htons(0x4000);	/* DF */
		ip->ttl = 64;
		ip->protocol = proto;
		inet_pton(AF_INET, src, &ip->saddr);
		inet_pton(AF_INET, dst, &ip->daddr);
		ip->check = csum16(ip, sizeof(*ip));
		l4 = (__u8 *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->payload_len = htons(l4len);
		ip6->nexthdr = proto;
		ip6->hop_limit = 64;
		inet_pton(AF_INET6, src, &ip6->saddr);
		inet_pton(AF_INET6, dst, &ip6->daddr);
		l4 = (__u8 *)(ip6 + 1);
	}
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)l4;

		th->source = htons(sport);
		th->dest = htons(dport);
		th->seq = htonl(1000);
		th->ack_seq = htonl(flags & 0x10 ? 2000 : 0);
		th->doff = 5;
		((__u8 *)th)[13] = flags;
		th->window = htons(65535);
	} else {
		struct udphdr *uh = (void *)l4;

		uh->source = htons(sport);
		uh->dest = htons(dport);
		uh->len = htons(l4len);
	}
	return (__u32)(l4 - buf) + l4len;
}

/* ---- data plane setup -------------------------------------------------- */

static int vip_add(struct bench *b, int af, const char *addr, __u16 port, __u8 proto,
		   __u32 vip_id, __u32 first_be)
{
	struct xlb_vip_key k = { .port = htons(port), .proto = proto };
	struct xlb_vip v = { .id = vip_id, .encap = XLB_ENCAP_IPIP };
	__u32 *ring, m = XLB_DEF_RING_SIZE, i;
	int err;

	k.family = af == AF_INET ? XLB_AF_INET : XLB_AF_INET6;
	inet_pton(af, addr, k.addr);
	for (i = 0; i < NBACKENDS; i++) {
		struct xlb_backend be = { .vip_id = vip_id };
		char a[INET6_ADDRSTRLEN];

		be.family = k.family;
		if (af == AF_INET)
			snprintf(a, sizeof(a), "10.1.0.%u", first_be + i);
		else
			snprintf(a, sizeof(a), "fd01::%x", first_be + i);
		inet_pton(af, a, be.addr);
		err = xlb_backend_set(b->x, first_be + i, &be);
		if (err)
			return err;
	}
	ring = calloc(m, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	/* Any full ring will do: a flow reads exactly one slot. */
	for (i = 0; i < m; i++)
		ring[i] = first_be + i % NBACKENDS;
	err = xlb_ring_publish(b->x, vip_id, ring, m);
	free(ring);
	return err ?: xlb_vip_set(b->x, &k, &v);
}

static int dataplane_setup(struct bench *b)
{
	struct xlb_opts xo = { .pin_root = "", .hash_seed = HASH_SEED };
	struct xlb_config cfg;
	int err;

	err = xlb_open(&xo, &b->x);
	if (err)
		return err;
	b->skel = bench_bpf__open_and_load();
	if (!b->skel) {
		err = -errno;
		pr_warn("bench: cannot load bench.bpf.o: %s\n", strerror(-err));
		return err;
	}
	b->progs[PR_XLB] = (struct prog){ .name = "xlb", .fd = xlb_prog_fd(b->x), .is_lb = 1 };
	b->progs[PR_SWAP] = (struct prog){ .name = "swap_tx",
					   .fd = bpf_program__fd(b->skel->progs.xdp_swap_tx) };
	b->progs[PR_EMPTY] = (struct prog){ .name = "empty",
					    .fd = bpf_program__fd(b->skel->progs.xdp_empty) };
	b->nprogs = PR_NBASE;

	err = vip_add(b, AF_INET, "198.51.100.1", 80, IPPROTO_TCP, 1, 1);
	err = err ?: vip_add(b, AF_INET, "198.51.100.1", 53, IPPROTO_UDP, 2, 1 + NBACKENDS);
	err = err ?: vip_add(b, AF_INET6, "2001:db8::1", 80, IPPROTO_TCP, 3, 1 + 2 * NBACKENDS);
	if (err) {
		pr_warn("bench: cannot configure VIPs: %s\n", strerror(-err));
		return err;
	}
	/* A static next hop is configured as in production, with a MAC that
	 * shows in the output if it is ever used instead of the fib's. */
	err = xlb_config_get(b->x, &cfg);
	if (err)
		return err;
	cfg.flags = XLB_CFG_F_STATIC_NH | (b->fib ? 0 : XLB_CFG_F_SKIP_FIB);
	cfg.nh_ifindex = b->ifindex;
	memcpy(cfg.nh_dmac, MAC_STATIC, ETH_ALEN);
	memcpy(cfg.nh_smac, MAC_LB, ETH_ALEN);
	err = xlb_config_set(b->x, &cfg);
	return err ?: xlb_devmap_add(b->x, b->ifindex);
}

/*
 * The current build's map for @m of a --compare object: the one of the same
 * name, or else one whose name differs only in the version suffix (_vN) and
 * that has the same type, key and value sizes, so that a build from before a
 * layout bump still sees the VIPs, backends and rings.  -ENOENT: none (the
 * object keeps a private map).
 */
static int same_map(struct bench *b, const struct bpf_map *m)
{
	const char *name = bpf_map__name(m), *v = strrchr(name, '_');
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char alt[64];
	int fd, n;

	fd = xlb_map_fd(b->x, name);
	if (fd >= 0 || !v || v[1] != 'v' || (size_t)(v - name) + 4 > sizeof(alt))
		return fd;
	for (n = 1; n < 10; n++) {
		snprintf(alt, sizeof(alt), "%.*s_v%d", (int)(v - name), name, n);
		fd = xlb_map_fd(b->x, alt);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		if (info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
		    info.value_size == bpf_map__value_size(m))
			return fd;
	}
	return -ENOENT;
}

/* Copy the current VIP table (in the hot map) to an old build's own VIP
 * table map @fd, one struct xlb_vip_slot per entry. */
static int compare_old_viptab(int hfd, int fd)
{
	__u32 e = XLB_HOT_CONFIG, s;
	struct xlb_config cfg;
	union xlb_hot h;

	if (bpf_map_lookup_elem(hfd, &e, &h))
		return -errno;
	cfg = h.cfg;
	for (s = 0; s <= cfg.vip_mask; s++) {
		e = cfg.hot_viptab + s / XLB_HOT_VIPS;
		if (bpf_map_lookup_elem(hfd, &e, &h) ||
		    bpf_map_update_elem(fd, &s, &h.vips[s % XLB_HOT_VIPS], BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * A build from before the hot map (union xlb_hot) has the VIP filter, the
 * config and the VIP table in maps of their own, which stay private: give
 * them the current filter's words (one u32 word per entry there), config
 * (its older, shorter layout is a prefix of the current one) and VIP
 * table, so that it sees the same VIPs and settings.
 */
static int compare_old_maps(struct bench *b, struct bpf_object *obj)
{
	int hfd = xlb_map_fd(b->x, XLB_STR(XLB_MAP_HOT)), fd, err;
	struct bpf_map *m;
	union xlb_hot h;
	__u32 e, i, w;

	bpf_object__for_each_map(m, obj) {
		fd = bpf_map__fd(m);
		if (!strncmp(bpf_map__name(m), "xlb_viptab_", 11) &&
		    bpf_map__value_size(m) == sizeof(struct xlb_vip_slot)) {
			err = compare_old_viptab(hfd, fd);
			if (err)
				return err;
			continue;
		}
		if (!strncmp(bpf_map__name(m), "xlb_config_", 11) &&
		    bpf_map__value_size(m) <= sizeof(struct xlb_config)) {
			e = XLB_HOT_CONFIG;
			w = 0;
			if (bpf_map_lookup_elem(hfd, &e, &h) ||
			    bpf_map_update_elem(fd, &w, &h.cfg, BPF_ANY))
				return -errno;
			continue;
		}
		if (strncmp(bpf_map__name(m), "xlb_vfilter_", 12) ||
		    bpf_map__value_size(m) != sizeof(__u32))
			continue;
		for (e = 0; e < XLB_HOT_FILTER_ENTRIES; e++) {
			if (bpf_map_lookup_elem(hfd, &e, &h))
				return -errno;
			for (i = 0; i < XLB_HOT_WORDS; i++) {
				w = e * XLB_HOT_WORDS + i;
				if (bpf_map_update_elem(fd, &w, &h.vfilter[i], BPF_ANY))
					return -errno;
			}
		}
	}
	return 0;
}

/*
 * --compare NAME=OBJECT: load another build of xlb.bpf.o on the bench's own
 * maps (matched by name; maps it alone has stay private), to be timed in
 * the same rounds as the current build.
 */
static int compare_load(struct bench *b, char *spec)
{
	char *eq = strchr(spec, '=');
	struct prog *pr = &b->progs[b->nprogs];
	struct bpf_program *prog;
	struct bpf_map *m;
	int err, fd;

	if (!eq || eq == spec || !eq[1]) {
		pr_warn("bench: bad --compare '%s': expected NAME=OBJECT\n", spec);
		return -EINVAL;
	}
	*eq = '\0';
	pr->name = spec;
	pr->is_lb = 1;
	pr->obj = bpf_object__open_file(eq + 1, NULL);
	if (!pr->obj) {
		err = -errno;
		pr_warn("bench: cannot open %s: %s\n", eq + 1, strerror(-err));
		return err;
	}
	b->nprogs++;	/* main() closes pr->obj from here on */
	bpf_object__for_each_map(m, pr->obj) {
		if (bpf_map__is_internal(m)) {
			size_t sz;
			__u32 *seed = (__u32 *)bpf_map__initial_value(m, &sz);

			/* Builds that read the seed from .rodata hold it alone
			 * there; later builds read it from the config map. */
			if (!seed || sz != sizeof(*seed)) {
				pr_warn("bench: %s: unexpected %s layout\n", eq + 1,
					bpf_map__name(m));
				return -EINVAL;
			}
			*seed = HASH_SEED;
			continue;
		}
		fd = same_map(b, m);
		/* Before the hot map, the global counters had a map of their
		 * own, one entry per CPU: size it as its build did, so that
		 * the build counts as it would in production. */
		if (fd < 0 && !strncmp(bpf_map__name(m), "xlb_gstats_", 11) &&
		    bpf_map__set_max_entries(m, (__u32)libbpf_num_possible_cpus())) {
			pr_warn("bench: %s: cannot size %s\n", eq + 1, bpf_map__name(m));
			return -EINVAL;
		}
		if (fd >= 0 && bpf_map__reuse_fd(m, fd)) {
			err = -errno;
			pr_warn("bench: %s: map %s does not fit the current layout\n",
				eq + 1, bpf_map__name(m));
			return err;
		}
	}
	err = bpf_object__load(pr->obj);
	if (err) {
		pr_warn("bench: cannot load %s: %s\n", eq + 1, strerror(-err));
		return err;
	}
	err = compare_old_maps(b, pr->obj);
	if (err) {
		pr_warn("bench: %s: cannot fill its VIP filter: %s\n", eq + 1, strerror(-err));
		return err;
	}
	prog = bpf_object__find_program_by_name(pr->obj, "xlb_xdp");
	if (!prog) {
		pr_warn("bench: %s has no program xlb_xdp\n", eq + 1);
		return -ENOENT;
	}
	pr->fd = bpf_program__fd(prog);
	return 0;
}

/* Switch the running data plane to the static next hop only. */
static int fallback_config(struct bench *b)
{
	struct xlb_config cfg;
	int err;

	err = xlb_config_get(b->x, &cfg);
	if (err)
		return err;
	cfg.flags |= XLB_CFG_F_SKIP_FIB;
	return xlb_config_set(b->x, &cfg);
}

static void paths_init(struct bench *b)
{
	struct path *p = b->paths;

	p[PA_EST4] = (struct path){ .name = "established IPv4 TCP", .target = 2.2,
				    .expect = XDP_TX, .new_flow = 0, .vip_id = 1 };
	p[PA_EST4].len = build_frame(p[PA_EST4].frame, AF_INET, IPPROTO_TCP, "192.0.2.1",
				     "198.51.100.1", 40001, 80, 0x10);
	p[PA_SYN4] = (struct path){ .name = "IPv4 TCP SYN (new flow)", .target = 3.0,
				    .expect = XDP_TX, .new_flow = 1, .vip_id = 1,
				    .vary_sport = b->o.syn_vary };
	p[PA_SYN4].len = build_frame(p[PA_SYN4].frame, AF_INET, IPPROTO_TCP, "192.0.2.2",
				     "198.51.100.1", 40002, 80, 0x02);
	p[PA_UDP4] = (struct path){ .name = "IPv4 UDP", .target = 2.2,
				    .expect = XDP_TX, .new_flow = 0, .vip_id = 2 };
	p[PA_UDP4].len = build_frame(p[PA_UDP4].frame, AF_INET, IPPROTO_UDP, "192.0.2.3",
				     "198.51.100.1", 40003, 53, 0);
	p[PA_EST6] = (struct path){ .name = "IPv6 TCP (established)",
				    .expect = XDP_TX, .new_flow = 0, .vip_id = 3 };
	p[PA_EST6].len = build_frame(p[PA_EST6].frame, AF_INET6, IPPROTO_TCP, "2001:db8:1::1",
				     "2001:db8::1", 40004, 80, 0x10);
	p[PA_NOVIP4] = (struct path){ .name = "non-VIP IPv4 (pass)", .target = 1.3,
				      .expect = XDP_PASS, .new_flow = -1 };
	p[PA_NOVIP4].len = build_frame(p[PA_NOVIP4].frame, AF_INET, IPPROTO_TCP, "192.0.2.5",
				       "198.51.100.200", 40005, 80, 0x10);
}

/* ---- running ----------------------------------------------------------- */

static int run_once(struct bench *b, int prog, const __u8 *frame, __u32 len, __u8 *out,
		    __u32 *out_len, __u32 *retval)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = b->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = out ? FRAME_MAX : 0,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(b->progs[prog].fd, &t))
		return -errno;
	*retval = t.retval;
	if (out_len)
		*out_len = t.data_size_out;
	return 0;
}

struct snap {
	struct xlb_global_stats g;
	struct xlb_counters v[4];	/* by VIP id */
};

static int snap_take(struct bench *b, struct snap *s)
{
	int err = xlb_stats_global(b->x, &s->g);
	__u32 i;

	memset(s->v, 0, sizeof(s->v));
	for (i = 1; i < 4 && !err; i++)
		err = xlb_stats_vip(b->x, i, &s->v[i]);
	return err;
}

/*
 * Compare counter deltas with what @want_calls calls of each path should
 * have produced.  Prints every difference; returns the number found.
 */
static int snap_check(struct bench *b, const struct snap *s0, const struct snap *s1,
		      const long *want_calls)
{
	__u64 verdict[XLB_VERDICT_SLOTS] = {}, reason[XLB_REASON_SLOTS] = {};
	__u64 newf[4] = {}, pkts[4] = {};
	int i, bad = 0;

	for (i = 0; i < NPATHS; i++) {
		const struct path *p = &b->paths[i];

		verdict[p->expect] += want_calls[i];
		if (p->expect == XDP_PASS)
			reason[XLB_R_NOT_VIP] += want_calls[i];
		if (p->vip_id) {
			pkts[p->vip_id] += want_calls[i];
			newf[p->vip_id] += p->new_flow > 0 ? want_calls[i] : 0;
		}
	}
	for (i = 0; i < XLB_VERDICT_SLOTS; i++) {
		__u64 d = s1->g.verdict[i] - s0->g.verdict[i];

		if (d != verdict[i]) {
			pr_warn("  verdict %s: %llu packets, expected %llu\n",
				xlb_verdict_name(i), (unsigned long long)d,
				(unsigned long long)verdict[i]);
			bad++;
		}
	}
	for (i = 0; i < XLB_R_MAX; i++) {
		__u64 d = s1->g.reason[i] - s0->g.reason[i];

		if (d != reason[i]) {
			pr_warn("  counter %s (%s): %llu, expected %llu\n", xlb_reason_name(i),
				xlb_reason_kind(i), (unsigned long long)d,
				(unsigned long long)reason[i]);
			bad++;
		}
	}
	for (i = 1; i < 4; i++) {
		__u64 dp = s1->v[i].packets - s0->v[i].packets;
		__u64 dn = s1->v[i].new_flows - s0->v[i].new_flows;

		if (dp != pkts[i] || dn != newf[i]) {
			pr_warn("  VIP %d: %llu packets, %llu new flows; expected %llu, %llu\n", i,
				(unsigned long long)dp, (unsigned long long)dn,
				(unsigned long long)pkts[i], (unsigned long long)newf[i]);
			bad++;
		}
	}
	return bad;
}

/* Check one path's output frame: encapsulated toward a backend, addressed
 * to the next hop the fib (or, in fallback, the static config) gives. */
static int check_output(struct bench *b, const struct path *p, const __u8 *out, __u32 len)
{
	const __u8 *dmac = b->fib ? (const __u8 *)MAC_NH : (const __u8 *)MAC_STATIC;
	int v6 = p - b->paths == PA_EST6;
	__u32 olen = v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u16 proto = *(const __u16 *)(out + 12);

	if (len != p->len + olen) {
		pr_warn("  output is %u bytes, expected %u\n", len, p->len + olen);
		return 1;
	}
	if (memcmp(out, dmac, ETH_ALEN) || memcmp(out + ETH_ALEN, MAC_LB, ETH_ALEN)) {
		pr_warn("  output MACs %02x:..:%02x <- %02x:..:%02x, expected the %s next hop\n",
			out[0], out[5], out[6], out[11], b->fib ? "fib's" : "static");
		return 1;
	}
	if (proto != htons(v6 ? ETH_P_IPV6 : ETH_P_IP) ||
	    out[ETH_HLEN + (v6 ? 6 : 9)] != (v6 ? IPPROTO_IPV6 : IPPROTO_IPIP)) {
		pr_warn("  output is not %s\n", v6 ? "IP6IP6" : "IPIP");
		return 1;
	}
	if (memcmp(out + ETH_HLEN + olen, p->frame + ETH_HLEN, p->len - ETH_HLEN)) {
		pr_warn("  inner packet changed\n");
		return 1;
	}
	return 0;
}

/* The verdict program @prog must give on @p's frame. */
static int expect_of(const struct bench *b, int prog, const struct path *p)
{
	if (b->progs[prog].is_lb)
		return p->expect;
	return prog == PR_SWAP ? XDP_TX : XDP_PASS;
}

/* The VIP filter bit of a frame's destination address. */
static __u32 frame_vfilter_bit(const struct path *p)
{
	const __u8 *l3 = p->frame + ETH_HLEN;
	__u32 dst[4];

	if (*(const __u16 *)(p->frame + 12) == htons(ETH_P_IP)) {
		memcpy(dst, l3 + offsetof(struct iphdr, daddr), 4);
		return xlb_vfilter_bit(dst, 1);
	}
	memcpy(dst, l3 + offsetof(struct ipv6hdr, daddr), 16);
	return xlb_vfilter_bit(dst, 4);
}

/*
 * Outside timing: send each established flow once so conntrack has it,
 * then run every path once and check verdict, output and counters.
 */
static int verify(struct bench *b)
{
	static const int est[] = { PA_EST4, PA_UDP4, PA_EST6 };
	__u8 out[FRAME_MAX];
	__u32 rv, olen;
	unsigned int i;
	int err, prog;

	/* The non-VIP path is meant to end at the VIP filter. */
	for (i = 0; i < NPATHS; i++) {
		if (b->paths[i].vip_id &&
		    frame_vfilter_bit(&b->paths[i]) == frame_vfilter_bit(&b->paths[PA_NOVIP4])) {
			pr_warn("bench: the non-VIP address shares a VIP filter bit with '%s': "
				"pick another one\n", b->paths[i].name);
			return -EINVAL;
		}
	}
	for (i = 0; i < sizeof(est) / sizeof(est[0]); i++) {
		const struct path *p = &b->paths[est[i]];

		err = run_once(b, PR_XLB, p->frame, p->len, NULL, NULL, &rv);
		if (err)
			return err;
	}
	for (i = 0; i < NPATHS; i++) {
		const struct path *p = &b->paths[i];
		long want[NPATHS] = {};
		struct snap s0, s1;
		int bad = 0;

		want[i] = 1;
		err = snap_take(b, &s0);
		err = err ?: run_once(b, PR_XLB, p->frame, p->len, out, &olen, &rv);
		err = err ?: snap_take(b, &s1);
		if (err)
			return err;
		if (rv != (__u32)p->expect) {
			pr_warn("  verdict %s, expected %s\n", xlb_verdict_name((int)rv),
				xlb_verdict_name(p->expect));
			bad++;
		}
		bad += snap_check(b, &s0, &s1, want);
		if (p->expect == XDP_TX)
			bad += check_output(b, p, out, olen);
		else if (olen != p->len || memcmp(out, p->frame, olen))
			bad++, pr_warn("  a passed frame was changed\n");
		for (prog = PR_XLB + 1; prog < b->nprogs; prog++) {
			err = run_once(b, prog, p->frame, p->len, NULL, NULL, &rv);
			if (err)
				return err;
			if (rv != (__u32)expect_of(b, prog, p)) {
				pr_warn("  %s returned %s\n", b->progs[prog].name,
					xlb_verdict_name((int)rv));
				bad++;
			}
		}
		if (bad) {
			pr_warn("bench: path '%s' does not take the intended path (see above)\n",
				p->name);
			return -EPROTO;
		}
		pr_info("verified: %-26s %s\n", p->name, xlb_verdict_name(p->expect));
	}
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/*
 * @n calls of @prog on @p's frame, repeat=1 each.  Adds the kernel's
 * per-call durations to *dur and the wall time to *wall (ns).  Counts
 * calls whose verdict is not @expect in *wrong.
 */
static int time_block(struct bench *b, int prog, struct path *p, int n, int expect,
		      __u64 *dur, __u64 *wall, long *wrong)
{
	struct xdp_md ctx = { .data_end = p->len, .ingress_ifindex = b->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = p->frame, .data_size_in = p->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	__u16 *sport = (__u16 *)(p->frame + ETH_HLEN + sizeof(struct iphdr));
	int fd = b->progs[prog].fd, vary = p->vary_sport && b->progs[prog].is_lb;
	/* vary_sport is only set on an IPv4 TCP path */
	__u64 d = 0, t0;
	int i;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (vary)
			*sport = htons((__u16)(1024 + (ntohs(*sport) - 1024 + 1) % 60000));
		if (bpf_prog_test_run_opts(fd, &t))
			return -errno;
		d += t.duration;
		*wrong += t.retval != (__u32)expect;
	}
	*wall += now_ns() - t0;
	*dur += d;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Figures of one path, each the median over rounds of a per-round value. */
struct result {
	double ns[MAX_PROGS];		/* per packet */
	double net;			/* xlb minus empty */
	double ratio[MAX_PROGS];	/* program / swap_tx */
	double rel[MAX_PROGS];		/* program / xlb */
	double wall_empty;		/* wall ns per call of the empty program */
};

/* per[] holds ns per call, indexed [round][path][program]. */
#define PER(r, pa, pr) per[((r) * NPATHS + (pa)) * b->nprogs + (pr)]

static void summarise(struct bench *b, const double *per, const double *wempty,
		      struct result *res)
{
	int nr = b->o.rounds, r, k, i;
	double tmp[nr];

	for (i = 0; i < NPATHS; i++) {
		for (k = 0; k < b->nprogs; k++) {
			for (r = 0; r < nr; r++)
				tmp[r] = PER(r, i, k);
			res[i].ns[k] = median(tmp, nr);
			for (r = 0; r < nr; r++)
				tmp[r] = PER(r, i, k) / PER(r, i, PR_SWAP);
			res[i].ratio[k] = median(tmp, nr);
			for (r = 0; r < nr; r++)
				tmp[r] = PER(r, i, k) / PER(r, i, PR_XLB);
			res[i].rel[k] = median(tmp, nr);
		}
		for (r = 0; r < nr; r++)
			tmp[r] = PER(r, i, PR_XLB) - PER(r, i, PR_EMPTY);
		res[i].net = median(tmp, nr);
		for (r = 0; r < nr; r++)
			tmp[r] = wempty[r * NPATHS + i];
		res[i].wall_empty = median(tmp, nr);
	}
}

static int measure(struct bench *b, struct result *res)
{
	int nr = b->o.rounds, np = NPATHS * b->nprogs, r, k, i, done, err;
	double *per = calloc((size_t)nr * np, sizeof(*per));
	double *wempty = calloc((size_t)nr * NPATHS, sizeof(*wempty));
	__u64 *dur = calloc((size_t)np, sizeof(*dur));
	__u64 *wall = calloc((size_t)np, sizeof(*wall));
	long calls[NPATHS] = {}, wrong = 0;
	struct snap s0, s1;

	if (!per || !wempty || !dur || !wall) {
		err = -ENOMEM;
		goto out;
	}
	err = snap_take(b, &s0);
	if (err)
		goto out;
	for (r = 0; r < nr; r++) {
		memset(dur, 0, (size_t)np * sizeof(*dur));
		memset(wall, 0, (size_t)np * sizeof(*wall));
		/* Blocks of every (path, program) pair in turn, starting at a
		 * different pair each round, so drift hits all of them. */
		for (done = 0; done < b->o.calls; done += BLOCK) {
			int n = b->o.calls - done < BLOCK ? b->o.calls - done : BLOCK;

			for (k = 0; k < np; k++) {
				int pair = (k + r) % np, pa = pair / b->nprogs;
				int pr = pair % b->nprogs;
				struct path *p = &b->paths[pa];

				err = time_block(b, pr, p, n, expect_of(b, pr, p), &dur[pair],
						 &wall[pair], &wrong);
				if (err)
					goto out;
				if (pr == PR_XLB)
					calls[pa] += n;
			}
		}
		for (k = 0; k < np; k++)
			per[r * np + k] = (double)(b->o.wall ? wall[k] : dur[k]) / b->o.calls;
		for (i = 0; i < NPATHS; i++)
			wempty[r * NPATHS + i] =
				(double)wall[i * b->nprogs + PR_EMPTY] / b->o.calls;
	}
	err = snap_take(b, &s1);
	if (err)
		goto out;
	if (wrong) {
		pr_warn("bench: %ld timed calls returned an unexpected verdict\n", wrong);
		err = -EPROTO;
		goto out;
	}
	/* --compare builds share the counters and may count differently. */
	if (b->nprogs == PR_NBASE && snap_check(b, &s0, &s1, calls)) {
		pr_warn("bench: the counters after timing show another path (see above)\n");
		err = -EPROTO;
		goto out;
	}
	summarise(b, per, wempty, res);
out:
	free(wall);
	free(dur);
	free(wempty);
	free(per);
	return err;
}

static void print_results(struct bench *b, const struct result *res, int cpu)
{
	char date[64];
	time_t t = time(NULL);
	int i, k;

	strftime(date, sizeof(date), "%Y-%m-%d %H:%M %Z", localtime(&t));
	printf("xlb data plane cost per packet (BPF_PROG_TEST_RUN), %s\n", date);
	printf("method: %d rounds x %d calls per program and path, repeat=1, original frame "
	       "each call,\n        programs interleaved in blocks of %d; figure = %s;\n"
	       "        medians over rounds; CPU %d\n",
	       b->o.rounds, b->o.calls, BLOCK,
	       b->o.wall ? "wall time around the syscall / calls" :
			   "sum of kernel-reported duration / calls",
	       cpu);
	if (b->fib)
		printf("next hop: bpf_fib_lookup succeeds (veth %s in a private netns, "
		       "permanent neighbour); egress == ingress -> XDP_TX\n", IF_LB);
	else
		printf("next hop: FALLBACK XLB_CFG_F_SKIP_FIB static next hop (%s); "
		       "the fib lookup is NOT in these figures\n", b->fib_why);
	if (b->o.wall)
		printf("note: the wall time includes the syscall (about %.0f ns here), which dilutes "
		       "every ratio;\n      the targets are meant for the default (duration) "
		       "figures\n", res[PA_EST4].wall_empty);
	printf("SYN path: %s\n", b->o.syn_vary ?
	       "a new source port on every call (a new conntrack key each time)" :
	       "the same SYN every call (a ring lookup each time; the flow is already recorded\n"
	       "          with the backend the ring picks, so conntrack is not rewritten: see --syn-vary)");
	printf("\n%-26s %7s %8s %8s %8s %8s  %s\n", "path", "verdict", "ns/pkt", "-empty",
	       "swap_tx", "ratio", "target");
	for (i = 0; i < NPATHS; i++) {
		const struct path *p = &b->paths[i];
		char tgt[32] = "-";

		if (p->target > 0)
			snprintf(tgt, sizeof(tgt), "<= %.1fx %s", p->target,
				 res[i].ratio[PR_XLB] <= p->target ? "met" : "MISSED");
		printf("%-26s %7s %8.1f %8.1f %8.1f %7.2fx  %s\n", p->name,
		       xlb_verdict_name(p->expect), res[i].ns[PR_XLB], res[i].net,
		       res[i].ns[PR_SWAP], res[i].ratio[PR_XLB], tgt);
	}
	printf("\nbaselines on the established IPv4 TCP frame: empty XDP_PASS %.1f ns, "
	       "MAC-swap XDP_TX %.1f ns;\nwall time per call of the empty program "
	       "(syscall included): %.0f ns\n",
	       res[PA_EST4].ns[PR_EMPTY], res[PA_EST4].ns[PR_SWAP], res[PA_EST4].wall_empty);
	if (b->nprogs == PR_NBASE)
		return;
	printf("\ncompared in the same rounds: ratio to swap_tx (and to xlb)\n%-26s %9s",
	       "path", "xlb");
	for (k = PR_NBASE; k < b->nprogs; k++)
		printf("  %16.16s", b->progs[k].name);
	printf("\n");
	for (i = 0; i < NPATHS; i++) {
		printf("%-26s %8.2fx", b->paths[i].name, res[i].ratio[PR_XLB]);
		for (k = PR_NBASE; k < b->nprogs; k++)
			printf("  %7.2fx (%5.3f)", res[i].ratio[k], res[i].rel[k]);
		printf("\n");
	}
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_prog [-r ROUNDS] [-n CALLS] [-c CPU] [--wall] [--syn-vary]\n"
		"                  [--compare NAME=OBJECT]... [-v]\n"
		"  -r, --rounds N   rounds (default 7); figures are medians over rounds\n"
		"  -n, --calls N    calls per program and path in each round (default 20000)\n"
		"  -c, --cpu N      CPU to pin to (default: the last one allowed)\n"
		"      --wall       time with wall clock around each syscall instead of the\n"
		"                   kernel-reported duration\n"
		"      --syn-vary   a new source port on every SYN call\n"
		"      --compare NAME=OBJECT\n"
		"                   also time another build of xlb.bpf.o (e.g. a saved copy\n"
		"                   from before a change) on the same maps, in the same\n"
		"                   rounds; up to %d times\n"
		"  -v, --verbose    show setup steps and libbpf messages\n", MAX_COMPARE);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "calls", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "wall", no_argument, NULL, 'W' },
		{ "syn-vary", no_argument, NULL, 'S' },
		{ "compare", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char *end;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "r:n:c:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
		case 'n':
		case 'c':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < (c == 'c' ? 0 : 1) || v > 100000000) {
				fprintf(stderr, "bench_prog: bad -%c '%s': expected a %s integer\n",
					c, optarg, c == 'c' ? "CPU number" : "positive");
				return -EINVAL;
			}
			if (c == 'r')
				o->rounds = (int)v;
			else if (c == 'n')
				o->calls = (int)v;
			else
				o->cpu = (int)v;
			break;
		case 'W':
			o->wall = 1;
			break;
		case 'S':
			o->syn_vary = 1;
			break;
		case 'C':
			if (o->ncompare == MAX_COMPARE) {
				fprintf(stderr, "bench_prog: at most %d --compare\n", MAX_COMPARE);
				return -EINVAL;
			}
			o->compare[o->ncompare++] = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bench_prog: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int pin_cpu(int want)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	if (want < 0) {
		for (cpu = CPU_SETSIZE - 1; cpu >= 0 && !CPU_ISSET(cpu, &set); cpu--)
			;
		want = cpu;
	} else if (want >= CPU_SETSIZE || !CPU_ISSET(want, &set)) {
		pr_warn("bench: CPU %d is not available\n", want);
		return -EINVAL;
	}
	CPU_ZERO(&set);
	CPU_SET(want, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return want;
}

static void stats_warn(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int on = 0;

	if (!f)
		return;
	if (fscanf(f, "%d", &on) != 1)
		on = 0;
	fclose(f);
	if (on)
		pr_warn("bench: WARNING: kernel.bpf_stats_enabled is on; it slows every "
			"program and skews the figures\n");
}

int main(int argc, char **argv)
{
	struct bench b = { .o = { .rounds = 7, .calls = 20000, .cpu = -1 } };
	struct result res[NPATHS] = {};
	int err, cpu, i;

	err = parse_opts(argc, argv, &b.o);
	if (err)
		return 2;
	xlb_log_set_level(b.o.verbose > 1 ? XLB_LOG_DEBUG :
			  b.o.verbose ? XLB_LOG_INFO : XLB_LOG_WARN);
	xlb_log_libbpf();
	stats_warn();

	cpu = pin_cpu(b.o.cpu);
	if (cpu < 0) {
		err = cpu;
		pr_warn("bench: cannot pin to a CPU: %s\n", strerror(-err));
		goto out;
	}
	err = net_setup(&b);
	if (!b.netns) {
		pr_warn("bench: needs root (a network namespace and BPF)\n");
		goto out;
	}
	b.fib = !err;
	if (err) {
		/* Fall back to the static next hop on a device of the private
		 * namespace that always exists. */
		b.fib_why = "the veth/route/neighbour setup failed";
		b.ifindex = if_nametoindex("lo");
		if (!b.ifindex) {
			err = -ENODEV;
			goto out;
		}
		pr_warn("bench: fib lookup cannot be made to succeed: using XLB_CFG_F_SKIP_FIB\n");
	}
	err = dataplane_setup(&b);
	for (i = 0; !err && i < b.o.ncompare; i++)
		err = compare_load(&b, b.o.compare[i]);
	if (err)
		goto out;
	paths_init(&b);
	err = verify(&b);
	if (err && err != -EPROTO)
		goto out;
	if (err && b.fib) {
		pr_warn("bench: WARNING: the paths are wrong with bpf_fib_lookup (see above): "
			"retrying with XLB_CFG_F_SKIP_FIB\n");
		b.fib = 0;
		b.fib_why = "bpf_fib_lookup did not give the next hop: see the warnings";
		err = fallback_config(&b);
		for (i = PR_NBASE; !err && i < b.nprogs; i++)
			err = compare_old_maps(&b, b.progs[i].obj);
		err = err ?: verify(&b);
	}
	if (err)
		goto out;
	err = measure(&b, res);
	if (err)
		goto out;
	print_results(&b, res, cpu);
out:
	for (i = PR_NBASE; i < b.nprogs; i++)
		bpf_object__close(b.progs[i].obj);
	bench_bpf__destroy(b.skel);
	xlb_close(b.x);
	if (err) {
		fprintf(stderr, "bench: setup or verification failed: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
