// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lbsetup: the netns tests' stand-in for the daemon.  It drives libxlb to
 * bring one VIP up on one interface, take it down again, and print the
 * counters.  Run it with `nsenter --net=/run/netns/NS` rather than
 * `ip netns exec`, which hides /sys/fs/bpf.
 *
 *   lbsetup up --pin-root DIR --iface IF [--generic] [--seed N]
 *              --vip ADDR:PORT/PROTO --backend ID=ADDR [--backend ...]
 *              [--ring-size M] [--egress IF]
 *   lbsetup down --pin-root DIR --iface IF
 *   lbsetup stats --pin-root DIR
 *   lbsetup backend-down --pin-root DIR --id N
 *
 * Every invocation must use the same map sizes, because reopening pinned
 * maps of another size fails; lbsetup therefore uses fixed ones.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "xlb.h"
#include "addr.h"
#include "log.h"

/* Small enough for a shared test machine; the same in every command. */
#define LB_MAX_VIPS		16
#define LB_MAX_BACKENDS		256
#define LB_CONNTRACK		65536
#define LB_VIP_ID		1
#define LB_MAX_CMD_BACKENDS	64

struct lb_args {
	const char *cmd;
	const char *pin_root;
	const char *iface;
	const char *egress;
	const char *vip;
	bool generic;
	__u32 seed;
	__u32 ring_size;
	__u32 down_id;
	int nbe;
	__u32 be_id[LB_MAX_CMD_BACKENDS];
	struct xlb_backend be[LB_MAX_CMD_BACKENDS];
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage:\n"
		"  lbsetup up --pin-root DIR --iface IF [--generic] [--seed N]\n"
		"             --vip ADDR:PORT/PROTO --backend ID=ADDR [--backend ...]\n"
		"             [--ring-size M] [--egress IF]   (IF: a redirect target)\n"
		"  lbsetup down --pin-root DIR --iface IF\n"
		"  lbsetup stats --pin-root DIR\n"
		"  lbsetup backend-down --pin-root DIR --id N\n"
		"\n"
		"up loads the LB with its maps pinned under DIR, attaches it to IF (native\n"
		"XDP unless --generic), sets VIP id %d and the backends, and publishes a\n"
		"ring of M slots (default %d) filled with the backend ids round robin.\n"
		"down detaches from IF and removes every pin under DIR.  stats prints the\n"
		"global verdict and reason counters and the VIP's and backends' counters.\n"
		"backend-down takes backend N out of service: it republishes the ring\n"
		"(same size) round robin over the other backends in it, then marks N\n"
		"unusable, so that N's flows are re-chosen while the other backends' flows\n"
		"stay where they are.\n",
		LB_VIP_ID, XLB_DEF_RING_SIZE);
}

static int parse_u32(const char *opt, const char *s, __u32 min, __u32 max, __u32 *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (!*s || *end || errno || v < min || v > max || s[0] == '-') {
		pr_warn("lbsetup: invalid %s '%s': expected %u..%u\n", opt, s, min, max);
		return -EINVAL;
	}
	*out = (__u32)v;
	return 0;
}

/* "ID=ADDR" */
static int parse_backend(struct lb_args *a, const char *s)
{
	char buf[128], *eq;
	struct xlb_backend *b;
	int err;

	if (a->nbe == LB_MAX_CMD_BACKENDS) {
		pr_warn("lbsetup: too many --backend (at most %d)\n", LB_MAX_CMD_BACKENDS);
		return -E2BIG;
	}
	if (strlen(s) >= sizeof(buf) || !(eq = strchr(s, '='))) {
		pr_warn("lbsetup: invalid --backend '%s': expected ID=ADDR\n", s);
		return -EINVAL;
	}
	strcpy(buf, s);
	buf[eq - s] = '\0';
	err = parse_u32("backend id", buf, 1, LB_MAX_BACKENDS - 1, &a->be_id[a->nbe]);
	if (err)
		return err;
	b = &a->be[a->nbe];
	memset(b, 0, sizeof(*b));
	if (xlb_addr_parse(eq + 1, b->addr, &b->family)) {
		pr_warn("lbsetup: invalid --backend address '%s': expected IPv4 or IPv6\n", eq + 1);
		return -EINVAL;
	}
	b->vip_id = LB_VIP_ID;
	a->nbe++;
	return 0;
}

static int open_lb(const struct lb_args *a, struct xlb **x)
{
	struct xlb_opts o = {
		.pin_root = a->pin_root,
		.max_vips = LB_MAX_VIPS,
		.max_backends = LB_MAX_BACKENDS,
		.conntrack_size = LB_CONNTRACK,
		.hash_seed = a->seed,
	};
	int err = xlb_open(&o, x);

	if (err)
		pr_warn("lbsetup: cannot load the LB with pins in %s: %s\n", a->pin_root,
			strerror(-err));
	return err;
}

/* Open the LB pinned at --pin-root; unlike open_lb, never create one
 * (xlb_open would make an empty LB where there is nothing to read). */
static int open_existing_lb(const struct lb_args *a, struct xlb **x)
{
	struct stat st;
	int err;

	if (stat(a->pin_root, &st)) {
		err = -errno;
		pr_warn("lbsetup: no LB pinned at %s: %s\n", a->pin_root, strerror(-err));
		return err;
	}
	return open_lb(a, x);
}

static int cmd_up(const struct lb_args *a)
{
	struct xlb_vip_key k;
	struct xlb_vip v = { .id = LB_VIP_ID, .encap = XLB_ENCAP_IPIP };
	struct xlb *x = NULL;
	struct stat st;
	const char *msg = NULL;
	__u32 *ring = NULL, i, m = a->ring_size ? a->ring_size : XLB_DEF_RING_SIZE;
	bool fresh, attached = false;
	int err;

	if (!a->iface || !a->vip || !a->nbe) {
		pr_warn("lbsetup: up needs --iface, --vip and at least one --backend\n");
		return -EINVAL;
	}
	if (xlb_vip_key_parse(a->vip, &k, &msg)) {
		pr_warn("lbsetup: invalid --vip '%s': %s\n", a->vip, msg);
		return -EINVAL;
	}
	ring = calloc(m, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	for (i = 0; i < m; i++)
		ring[i] = a->be_id[i % (__u32)a->nbe];

	fresh = stat(a->pin_root, &st) != 0;
	err = open_lb(a, &x);
	if (err)
		goto out;
	err = xlb_attach(x, a->iface, a->generic ? XLB_MODE_GENERIC : XLB_MODE_NATIVE);
	if (err)
		goto out;
	attached = true;
	if (a->egress) {
		unsigned int ifindex = if_nametoindex(a->egress);

		err = ifindex ? xlb_devmap_add(x, ifindex) : -ENODEV;
		if (err) {
			pr_warn("lbsetup: cannot add --egress %s to the devmap: %s\n", a->egress,
				strerror(-err));
			goto out;
		}
	}
	err = xlb_vip_set(x, &k, &v);
	if (err) {
		pr_warn("lbsetup: cannot set VIP %s: %s\n", a->vip, strerror(-err));
		goto out;
	}
	for (i = 0; i < (__u32)a->nbe; i++) {
		err = xlb_backend_set(x, a->be_id[i], &a->be[i]);
		if (!err)
			err = xlb_stats_backend_reset(x, a->be_id[i]);
		if (err) {
			pr_warn("lbsetup: cannot set backend %u: %s\n", a->be_id[i], strerror(-err));
			goto out;
		}
	}
	err = xlb_ring_publish(x, LB_VIP_ID, ring, m);
	if (err) {
		pr_warn("lbsetup: cannot publish a ring of %u slots: %s\n", m, strerror(-err));
		goto out;
	}
	printf("lbsetup: %s on %s (%s XDP), %d backends, ring %u\n", a->vip, a->iface,
	       a->generic ? "generic" : "native", a->nbe, m);
out:
	xlb_close(x);
	if (err && attached)
		xlb_detach(a->pin_root, a->iface);
	if (err && fresh)
		xlb_unpin_all(a->pin_root);
	free(ring);
	return err;
}

static int cmd_down(const struct lb_args *a)
{
	int err, err2;

	if (!a->iface) {
		pr_warn("lbsetup: down needs --iface\n");
		return -EINVAL;
	}
	err = xlb_detach(a->pin_root, a->iface);
	if (err && err != -ENOENT)
		pr_warn("lbsetup: cannot detach from %s: %s\n", a->iface, strerror(-err));
	if (err == -ENOENT)
		err = 0;
	err2 = xlb_unpin_all(a->pin_root);
	if (err2)
		pr_warn("lbsetup: cannot remove the pins under %s: %s\n", a->pin_root,
			strerror(-err2));
	return err ? err : err2;
}

/*
 * Take a backend out of service the way the daemon will: publish a ring
 * without it first, then mark it unusable.  In that order no packet ever
 * finds the backend in the ring once it is unusable (which would be a
 * backend_unusable drop); its flows are re-chosen from the new ring, and
 * the connection table keeps every other flow on its backend.
 */
static int cmd_backend_down(const struct lb_args *a)
{
	struct xlb_backend b;
	struct xlb *x = NULL;
	__u32 *ring = NULL, *keep = NULL, m = 0, nkeep = 0, i, j;
	bool seen;
	int err;

	if (!a->down_id) {
		pr_warn("lbsetup: backend-down needs --id N\n");
		return -EINVAL;
	}
	err = open_existing_lb(a, &x);
	if (err)
		return err;
	err = xlb_backend_get(x, a->down_id, &b);
	if (!err && !b.family)
		err = -ENOENT;
	if (err) {
		pr_warn("lbsetup: no backend %u: %s\n", a->down_id, strerror(-err));
		goto out;
	}
	err = xlb_ring_read(x, LB_VIP_ID, &ring, &m);
	if (err) {
		pr_warn("lbsetup: cannot read the ring of VIP %d: %s\n", LB_VIP_ID, strerror(-err));
		goto out;
	}
	/* The other backends in the ring, in order of first appearance. */
	keep = calloc(m, sizeof(*keep));
	if (!keep) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m; i++) {
		if (!ring[i] || ring[i] == a->down_id)
			continue;
		for (seen = false, j = 0; j < nkeep && !seen; j++)
			seen = keep[j] == ring[i];
		if (!seen)
			keep[nkeep++] = ring[i];
	}
	if (!nkeep) {
		pr_warn("lbsetup: backend %u is the last one in the ring; not taking it out\n",
			a->down_id);
		err = -EBUSY;
		goto out;
	}
	for (i = 0; i < m; i++)
		ring[i] = keep[i % nkeep];
	err = xlb_ring_publish(x, LB_VIP_ID, ring, m);
	if (err) {
		pr_warn("lbsetup: cannot publish a ring of %u slots: %s\n", m, strerror(-err));
		goto out;
	}
	b.flags |= XLB_BE_F_UNUSABLE;
	err = xlb_backend_set(x, a->down_id, &b);
	if (err) {
		pr_warn("lbsetup: cannot mark backend %u unusable: %s\n", a->down_id,
			strerror(-err));
		goto out;
	}
	printf("lbsetup: ring of VIP %d republished (%u slots) over backends", LB_VIP_ID, m);
	for (j = 0; j < nkeep; j++)
		printf(" %u", keep[j]);
	printf(", backend %u marked unusable\n", a->down_id);
out:
	xlb_close(x);
	free(ring);
	free(keep);
	return err;
}

static void print_counters(const char *what, __u32 id, const struct xlb_counters *c)
{
	printf("%s %u packets %llu bytes %llu new_flows %llu\n", what, id,
	       (unsigned long long)c->packets, (unsigned long long)c->bytes,
	       (unsigned long long)c->new_flows);
}

static int cmd_stats(const struct lb_args *a)
{
	struct xlb_global_stats g;
	struct xlb_counters c;
	struct xlb_backend b;
	struct xlb *x = NULL;
	char buf[64];
	__u32 id;
	int err, i;

	err = open_existing_lb(a, &x);
	if (err)
		return err;
	err = xlb_stats_global(x, &g);
	if (err) {
		pr_warn("lbsetup: cannot read the global counters: %s\n", strerror(-err));
		goto out;
	}
	for (i = 0; i <= 4; i++)
		printf("verdict %s %llu\n", xlb_verdict_name(i), (unsigned long long)g.verdict[i]);
	for (i = 0; i < XLB_R_MAX; i++)
		printf("reason %s %llu %s\n", xlb_reason_name(i), (unsigned long long)g.reason[i],
		       xlb_reason_kind(i));
	err = xlb_stats_vip(x, LB_VIP_ID, &c);
	if (err)
		goto out;
	print_counters("vip", LB_VIP_ID, &c);
	for (id = 1; id < LB_MAX_BACKENDS; id++) {
		if (xlb_backend_get(x, id, &b) || !b.family)
			continue;
		err = xlb_stats_backend(x, id, &c);
		if (err)
			goto out;
		printf("backend %u addr %s packets %llu bytes %llu new_flows %llu state %s\n",
		       id, xlb_addr_fmt(b.addr, b.family, buf, sizeof(buf)),
		       (unsigned long long)c.packets, (unsigned long long)c.bytes,
		       (unsigned long long)c.new_flows,
		       b.flags & XLB_BE_F_UNUSABLE ? "unusable" : "usable");
	}
out:
	if (err)
		pr_warn("lbsetup: cannot read the counters: %s\n", strerror(-err));
	xlb_close(x);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "pin-root", required_argument, NULL, 'p' },
		{ "iface", required_argument, NULL, 'i' },
		{ "generic", no_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 's' },
		{ "vip", required_argument, NULL, 'V' },
		{ "backend", required_argument, NULL, 'b' },
		{ "ring-size", required_argument, NULL, 'r' },
		{ "egress", required_argument, NULL, 'e' },
		{ "id", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static struct lb_args a;
	int c, err, verbose = 0;

	xlb_log_libbpf();
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", lopts, NULL)) != -1) {
		err = 0;
		switch (c) {
		case 'p':
			a.pin_root = optarg;
			break;
		case 'i':
			a.iface = optarg;
			break;
		case 'g':
			a.generic = true;
			break;
		case 's':
			err = parse_u32("--seed", optarg, 0, UINT32_MAX, &a.seed);
			break;
		case 'V':
			a.vip = optarg;
			break;
		case 'b':
			err = parse_backend(&a, optarg);
			break;
		case 'e':
			a.egress = optarg;
			break;
		case 'r':
			err = parse_u32("--ring-size", optarg, 1, XLB_MAX_RING_SIZE, &a.ring_size);
			break;
		case 'n':
			err = parse_u32("--id", optarg, 1, LB_MAX_BACKENDS - 1, &a.down_id);
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			pr_warn("lbsetup: option '%s' needs an argument\n", argv[optind - 1]);
			return 2;
		default:
			pr_warn("lbsetup: unknown option '%s'\n", argv[optind - 1]);
			return 2;
		}
		if (err)
			return 2;
	}
	xlb_log_set_level(verbose >= 2 ? XLB_LOG_DEBUG : verbose ? XLB_LOG_INFO : XLB_LOG_WARN);
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	a.cmd = argv[optind];
	if (!strcmp(a.cmd, "help")) {
		usage(stdout);
		return 0;
	}
	/* The default root belongs to a real deployment; tests name their own. */
	if (!a.pin_root || !*a.pin_root) {
		pr_warn("lbsetup: --pin-root DIR is required\n");
		return 2;
	}
	if (!strcmp(a.cmd, "up"))
		err = cmd_up(&a);
	else if (!strcmp(a.cmd, "down"))
		err = cmd_down(&a);
	else if (!strcmp(a.cmd, "stats"))
		err = cmd_stats(&a);
	else if (!strcmp(a.cmd, "backend-down"))
		err = cmd_backend_down(&a);
	else {
		pr_warn("lbsetup: unknown command '%s': expected up, down, stats, backend-down"
			" or help\n", a.cmd);
		return 2;
	}
	return err ? 1 : 0;
}
