// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * hcprobe: the netns tests' driver for data-path health probes.  It drives
 * user/hcpath.[ch] (the tc egress encapsulator) and the probe engine
 * (user/health.[ch]) the way xlbd does.  Run it with
 * `nsenter --net=/run/netns/NS` (ip netns exec hides /sys/fs/bpf).
 *
 *   hcprobe attach --pin-root DIR --iface IF    load over the pinned LB, attach
 *   hcprobe detach --iface IF
 *   hcprobe stats --iface IF                    counters of the attached program
 *   hcprobe probe ADDR:PORT/PROTO [--mark N] [--http] [--timeout MS]
 *
 * probe runs one target in the engine (rise 1, fall 1) until its first
 * result, prints "up REASON" or "down REASON", and exits 0 when up, 1 when
 * down, 2 on a usage or setup error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include "addr.h"
#include "health.h"
#include "hcpath.h"
#include "log.h"

struct result {
	bool done, up;
	char why[64];
};

static void on_change(void *user, int id, bool up, const char *why)
{
	struct result *r = user;

	(void)id;
	r->done = true;
	r->up = up;
	snprintf(r->why, sizeof(r->why), "%s", why);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int probe(const char *target, uint32_t mark, bool http, unsigned int timeout_ms)
{
	struct xlb_hc_spec sp = {
		.interval_ms = timeout_ms,
		.timeout_ms = timeout_ms,
		.rise = 1,
		.fall = 1,
		.jitter_pct = -1,
		.on_change = on_change,
		.mark = mark,
	};
	struct result r = {};
	struct xlb_vip_key k;
	struct xlb_hc *hc = NULL;
	const char *msg = NULL;
	uint64_t end;
	int id, err;

	if (xlb_vip_key_parse(target, &k, &msg) || !k.port) {
		fprintf(stderr, "hcprobe: invalid target '%s': %s\n", target,
			msg ? msg : "expected ADDR:PORT/PROTO with a port");
		return 2;
	}
	sp.type = http ? XLB_HC_HTTP : k.proto == IPPROTO_UDP ? XLB_HC_UDP : XLB_HC_TCP;
	if (k.family == XLB_AF_INET) {
		sp.addr.v4.sin_family = AF_INET;
		sp.addr.v4.sin_port = k.port;
		memcpy(&sp.addr.v4.sin_addr, k.addr, 4);
	} else {
		sp.addr.v6.sin6_family = AF_INET6;
		sp.addr.v6.sin6_port = k.port;
		memcpy(&sp.addr.v6.sin6_addr, k.addr, 16);
	}
	err = xlb_hc_open(&hc);
	if (!err)
		err = xlb_hc_add(hc, &sp, &r, &id);
	if (err) {
		fprintf(stderr, "hcprobe: %s\n", strerror(-err));
		xlb_hc_close(hc);
		return 2;
	}
	end = now_ms() + timeout_ms + 2000;
	while (!r.done && now_ms() < end && !err)
		err = xlb_hc_dispatch(hc, 50);
	xlb_hc_close(hc);
	if (!r.done) {
		fprintf(stderr, "hcprobe: no result%s%s\n", err ? ": " : "", err ? strerror(-err) : "");
		return 2;
	}
	printf("%s %s\n", r.up ? "up" : "down", r.why);
	return r.up ? 0 : 1;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage:\n"
		   "  hcprobe attach --pin-root DIR --iface IF\n"
		   "  hcprobe detach --iface IF\n"
		   "  hcprobe stats --iface IF\n"
		   "  hcprobe probe ADDR:PORT/PROTO [--mark N] [--http] [--timeout MS]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-root", required_argument, NULL, 'p' },
		{ "iface", required_argument, NULL, 'i' },
		{ "mark", required_argument, NULL, 'm' },
		{ "http", no_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *cmd, *root = NULL, *iface = NULL;
	unsigned int timeout_ms = 1000;
	struct xlb_hcpath *h = NULL;
	uint64_t c[XLB_HCP_MAX];
	uint32_t mark = 0;
	bool http = false;
	int o, err, i;

	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	optind = 2;
	while ((o = getopt_long(argc, argv, "p:i:m:Ht:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'p': root = optarg; break;
		case 'i': iface = optarg; break;
		case 'm': mark = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'H': http = true; break;
		case 't': timeout_ms = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'v': xlb_log_set_level(XLB_LOG_DEBUG); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	xlb_log_libbpf();
	if (!strcmp(cmd, "probe")) {
		if (optind != argc - 1 || !timeout_ms) {
			usage(stderr);
			return 2;
		}
		return probe(argv[optind], mark, http, timeout_ms);
	}
	if (!iface || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "attach")) {
		err = xlb_hcpath_open(root, &h);
		if (!err)
			err = xlb_hcpath_attach(h, iface);
		xlb_hcpath_close(h);
	} else if (!strcmp(cmd, "detach")) {
		err = xlb_hcpath_detach(iface);
	} else if (!strcmp(cmd, "stats")) {
		err = xlb_hcpath_stats_iface(iface, c);
		for (i = 0; !err && i < XLB_HCP_MAX; i++)
			printf("%s %llu\n", xlb_hcpath_counter_name(i), (unsigned long long)c[i]);
	} else {
		fprintf(stderr, "hcprobe: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (err)
		fprintf(stderr, "hcprobe %s %s: %s\n", cmd, iface, strerror(-err));
	return err ? 1 : 0;
}
