// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * /metrics render benchmark (root): a real data plane opened with
 * xlb_lb_open() and programmed with xlb_lb_apply() from a generated config
 * (V VIPs, half IPv4 and half IPv6, B backends each), pinned under a
 * private root in a private network namespace, its counters filled with
 * large values so numbers have realistic widths.  Times the whole render
 * (collect + write) R times and prints the median, after one cold render
 * (first allocations and their page faults).  Also times one whole walk of
 * a connection table filled to its capacity (what xlb_conntrack_entries
 * costs, spread over many steps by xlbd).
 *
 * Prints figures; exits 0 whether or not the 50 ms target is met, non-zero
 * only when setup fails.  The pins are removed however it ends, short of
 * SIGKILL (then: rm -r /sys/fs/bpf/xlbbench-PID).
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "config.h"
#include "health.h"
#include "lb.h"
#include "log.h"
#include "metrics.h"
#include "xlb.h"

#define MAX_RUNS 201

static char pin_root[64];

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

static void cleanup(void)
{
	if (pin_root[0])
		xlb_unpin_all(pin_root);
}

static void on_signal(int sig)
{
	(void)sig;
	exit(1);	/* runs cleanup() */
}

/* The config text: V VIPs of B backends each. */
static char *make_config(unsigned int v, unsigned int b, unsigned int ring, unsigned int ct)
{
	size_t cap = 4096 + (size_t)v * (160 + (size_t)b * 48), len = 0;
	char *s = malloc(cap);
	unsigned int i, j;

	if (!s)
		return NULL;
	len += snprintf(s + len, cap - len,
			"{\"version\": 1, \"interfaces\": [{\"name\": \"lo\"}], \"pin_root\": \"%s\", \"state_file\": \"/nonexistent/x\",\n"
			" \"limits\": {\"max_vips\": %u, \"max_backends\": %u, \"conntrack\": %u},\n"
			" \"vips\": [\n",
			pin_root, v + 2, v * b + 2, ct);
	for (i = 0; i < v; i++) {
		bool six = i % 2;

		if (six)
			len += snprintf(s + len, cap - len,
					"%s{\"vip\": \"[fd00:100::%x]:443/tcp\", \"ring_size\": %u, "
					"\"backends\": [",
					i ? "," : "", i, ring);
		else
			len += snprintf(s + len, cap - len,
					"%s{\"vip\": \"10.%u.%u.1:80/tcp\", \"ring_size\": %u, "
					"\"backends\": [",
					i ? "," : "", 100 + i / 256, i % 256, ring);
		for (j = 0; j < b; j++) {
			if (six)
				len += snprintf(s + len, cap - len,
						"%s{\"address\": \"fd00:200:%x::%x\"}", j ? "," : "",
						i, j + 1);
			else
				len += snprintf(s + len, cap - len,
						"%s{\"address\": \"10.%u.%u.%u\"}", j ? "," : "",
						200 + i / 256, i % 256, j + 1);
		}
		len += snprintf(s + len, cap - len, "]}\n");
	}
	snprintf(s + len, cap - len, "]}\n");
	return s;
}

/* Every per-CPU counter of VIPs and backends set to large values. */
static int fill_counters(struct xlb *x, __u32 n_vips, __u32 n_be)
{
	int ncpus = libbpf_num_possible_cpus(), fdv, fdb, err = 0, c;
	struct xlb_backend_pcpu *bv = NULL;
	struct xlb_counters *vv = NULL;
	__u32 id;

	fdv = xlb_map_fd(x, XLB_STR(XLB_MAP_VIP_STATS));
	fdb = xlb_map_fd(x, XLB_STR(XLB_MAP_BACKEND_STATS));
	vv = calloc(ncpus, sizeof(*vv));
	bv = calloc(ncpus, sizeof(*bv));
	if (fdv < 0 || fdb < 0 || !vv || !bv) {
		err = -ENOMEM;
		goto out;
	}
	for (id = 1; !err && id <= n_be; id++) {
		for (c = 0; c < ncpus; c++) {
			bv[c].c.packets = 123456789ULL * (id + c);
			bv[c].c.bytes = 98765432101ULL * (id + c);
			bv[c].c.new_flows = 1234567ULL * (id + c);
		}
		if (bpf_map_update_elem(fdb, &id, bv, BPF_ANY))
			err = -errno;
	}
	for (id = 1; !err && id <= n_vips; id++) {
		for (c = 0; c < ncpus; c++) {
			vv[c].packets = 1234567891ULL * (id + c);
			vv[c].bytes = 987654321012ULL * (id + c);
			vv[c].new_flows = 12345678ULL * (id + c);
		}
		if (bpf_map_update_elem(fdv, &id, vv, BPF_ANY))
			err = -errno;
	}
out:
	free(vv);
	free(bv);
	return err;
}

/* @n distinct flows into the connection table, in batches. */
static int fill_conntrack(struct xlb *x, __u32 n)
{
	enum { CHUNK = 8192 };
	int fd = xlb_map_fd(x, XLB_STR(XLB_MAP_CONNTRACK)), err = 0;
	struct xlb_flow_key *k = calloc(CHUNK, sizeof(*k));
	struct xlb_flow *v = calloc(CHUNK, sizeof(*v));
	__u32 i = 0, j, cnt;

	if (fd < 0 || !k || !v) {
		err = -ENOMEM;
		goto out;
	}
	while (i < n) {
		cnt = n - i < CHUNK ? n - i : CHUNK;
		for (j = 0; j < cnt; j++) {
			k[j].src[0] = htonl(0x0b000000 + i + j);
			k[j].dst[0] = htonl(0x0a640001);
			k[j].sport = htons(1024 + (i + j) % 60000);
			k[j].dport = htons(80);
			k[j].proto = 6;
			k[j].family = XLB_AF_INET;
			v[j].backend_id = 1;
			v[j].vip_id = 1;
		}
		if (bpf_map_update_batch(fd, k, v, &cnt, NULL)) {
			err = -errno;
			goto out;
		}
		i += cnt;
	}
out:
	free(k);
	free(v);
	return err;
}

/*
 * A TCP health check on every backend, against a closed port on loopback,
 * so every backend gets probe results and a latency histogram; the engine
 * runs until each target has completed a probe (at most 5 s).
 */
static int add_health(struct xlb_lb *lb, struct xlb_hc **out)
{
	struct xlb_hc_spec sp = {};
	struct xlb_hc_status st;
	struct xlb_hc *hc = NULL;
	__u32 i, j, left;
	double t0 = now_ms();
	int err, id;

	err = xlb_hc_open(&hc);
	if (err)
		goto out;
	sp.type = XLB_HC_TCP;
	sp.addr.v4.sin_family = AF_INET;
	sp.addr.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sp.addr.v4.sin_port = htons(9);
	sp.interval_ms = 1000;
	sp.timeout_ms = 200;
	sp.rise = sp.fall = 1;
	for (i = 0; i < lb->n_vips; i++) {
		for (j = 0; j < lb->vips[i]->n_backends; j++) {
			err = xlb_hc_add(hc, &sp, NULL, &id);
			if (err)
				goto out;
			lb->vips[i]->backends[j].hc_id = id;
		}
	}
	do {
		xlb_hc_dispatch(hc, 50);
		for (i = 0, left = 0; i < lb->n_vips; i++)
			for (j = 0; j < lb->vips[i]->n_backends; j++)
				if (!xlb_hc_get(hc, lb->vips[i]->backends[j].hc_id, &st) && !st.probes)
					left++;
	} while (left && now_ms() - t0 < 5000);
	*out = hc;
	hc = NULL;
out:
	xlb_hc_close(hc);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_metrics [-v VIPS] [-b BACKENDS_PER_VIP] [-r RUNS] [-m RING_SIZE]\n"
		   "                     [-c CONNTRACK] [-H] [-o FILE]\n"
		   "  defaults: 1000 VIPs x 10 backends, 21 runs, ring 4093, conntrack 1000000\n"
		   "  -H       a health check on every backend (probe latency histograms)\n"
		   "  -o FILE  write the last scrape to FILE\n");
}

int main(int argc, char **argv)
{
	unsigned int vips = 1000, per = 10, runs = 21, ring = 4093, ct = 1000000;
	struct xlb_metrics_src src = {};
	double t[MAX_RUNS], t0, cold, ctms;
	char err[XLB_CFG_ERRLEN], *text = NULL, *conf = NULL;
	struct xlb_cfg *cfg = NULL;
	struct xlb_lb *lb = NULL;
	const char *outfile = NULL;
	struct xlb_hc *hc = NULL;
	bool health = false;
	FILE *f;
	size_t len = 0;
	__u64 n;
	unsigned int i;
	int c, ret = 1;

	while ((c = getopt(argc, argv, "v:b:r:m:c:Ho:h")) != -1) {
		switch (c) {
		case 'H':
			health = true;
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'v':
			vips = (unsigned int)atoi(optarg);
			break;
		case 'b':
			per = (unsigned int)atoi(optarg);
			break;
		case 'r':
			runs = (unsigned int)atoi(optarg);
			break;
		case 'm':
			ring = (unsigned int)atoi(optarg);
			break;
		case 'c':
			ct = (unsigned int)atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!vips || vips > 30000 || !per || per > 100 || !runs || runs > MAX_RUNS) {
		fprintf(stderr, "bench_metrics: VIPS 1..30000, BACKENDS 1..100, RUNS 1..%d\n",
			MAX_RUNS);
		return 2;
	}
	xlb_log_set_level(XLB_LOG_WARN);
	xlb_log_libbpf();
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "bench_metrics: unshare(CLONE_NEWNET): %s (needs root)\n",
			strerror(errno));
		return 1;
	}
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/xlbbench-%d", (int)getpid());
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	conf = make_config(vips, per, ring, ct);
	if (!conf || xlb_config_parse(conf, strlen(conf), &cfg, err, sizeof(err))) {
		fprintf(stderr, "bench_metrics: config: %s\n", conf ? err : "out of memory");
		goto out;
	}
	t0 = now_ms();
	if (xlb_lb_open(cfg, &lb) || xlb_lb_apply(lb, cfg, err, sizeof(err))) {
		fprintf(stderr, "bench_metrics: cannot program the data plane: %s\n", err);
		goto out;
	}
	printf("metrics render: %u VIPs x %u backends (ring %u)%s, programmed in %.0f ms\n", vips,
	       per, ring, health ? ", health-checked" : "", now_ms() - t0);
	if (fill_counters(lb->x, vips, vips * per)) {
		fprintf(stderr, "bench_metrics: cannot fill the counters\n");
		goto out;
	}
	if (health && add_health(lb, &hc)) {
		fprintf(stderr, "bench_metrics: cannot start the health checks\n");
		goto out;
	}
	src.lb = lb;
	src.hc = hc;
	src.start_time = 1.0;
	/* The conntrack walk (at most 2 ms per render) is timed on its own
	 * below; here the table is empty. */
	t0 = now_ms();
	if (xlb_metrics_render(&src, &text, &len)) {
		fprintf(stderr, "bench_metrics: render failed\n");
		goto out;
	}
	cold = now_ms() - t0;
	xlb_metrics_text_put(&src, text);
	for (i = 0; i < runs; i++) {
		t0 = now_ms();
		if (xlb_metrics_render(&src, &text, &len)) {
			fprintf(stderr, "bench_metrics: render failed\n");
			goto out;
		}
		t[i] = now_ms() - t0;
		if (i == runs - 1 && outfile) {
			f = fopen(outfile, "w");
			if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
				fprintf(stderr, "bench_metrics: cannot write %s\n", outfile);
				xlb_metrics_text_put(&src, text);
				goto out;
			}
		}
		xlb_metrics_text_put(&src, text);
	}
	qsort(t, runs, sizeof(t[0]), dbl_cmp);
	printf("  render: median %.2f ms (min %.2f, max %.2f, %u runs), %zu bytes; "
	       "cold first render %.1f ms\n",
	       t[runs / 2], t[0], t[runs - 1], runs, len, cold);
	printf("  target: median under 50 ms: %s\n", t[runs / 2] < 50 ? "met" : "NOT MET");

	if (fill_conntrack(lb->x, ct)) {
		fprintf(stderr, "bench_metrics: cannot fill the connection table\n");
		goto out;
	}
	t0 = now_ms();
	if (xlb_conntrack_count(lb->x, &n)) {
		fprintf(stderr, "bench_metrics: conntrack count failed\n");
		goto out;
	}
	ctms = now_ms() - t0;
	printf("  conntrack: a walk of %llu entries costs %.1f ms in all; xlbd spreads it in\n"
	       "  steps of at most 2 ms, one every 8 ms while it lasts, once every 10 s\n",
	       (unsigned long long)n, ctms);
	ret = 0;
out:
	xlb_metrics_src_release(&src);
	xlb_hc_close(hc);
	xlb_lb_close(lb);
	xlb_config_free(cfg);
	free(conf);
	return ret;
}
