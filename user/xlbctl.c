// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlbctl: the operator's CLI.  It parses and validates a command (user/cli.c)
 * before anything is sent, sends it to xlbd as one JSON line, and prints the
 * reply as a table, or as JSON with -j.  `xlbctl stats` also works with no
 * daemon running: it reads the pinned maps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "cli.h"
#include "config.h"
#include "xlb.h"

static struct xlb_cli_opts opts;
static json_t *prev_stats;	/* the previous sample, with watch */
static json_t *cur_config;	/* config.dump's "config", for vip list and show */
static long watch_secs;

/* ---------------------------------------------------------------- transport */

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Send @req and read one reply line into *reply. */
static int ctl_call(FILE *f, int fd, const json_t *req, json_t **reply)
{
	char *text = json_dumps(req, JSON_COMPACT), *line = NULL;
	json_error_t jerr;
	size_t cap = 0, len;
	int err = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n';
	if (write(fd, text, len + 1) != (ssize_t)(len + 1))
		err = -errno ? -errno : -EIO;
	free(text);
	if (err)
		return err;
	if (getline(&line, &cap, f) < 0) {
		free(line);
		return -ECONNRESET;
	}
	*reply = json_loads(line, JSON_ALLOW_NUL, &jerr);
	free(line);
	return *reply ? 0 : -EPROTO;
}

/* ---------------------------------------------------------------- offline */

static int pin_fd(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", opts.pin_root, name);
	return bpf_obj_get(path);
}

/* Counters of id @key summed over the CPUs: the counter maps hold one block
 * of values per CPU, entry cpu * (max_entries / ncpu) + id. */
static json_t *pcpu_counters(int fd, __u32 key, size_t stride_words)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info), max;
	__u64 *v, s[3] = { 0, 0, 0 };

	if (ncpu <= 0 || bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return NULL;
	max = info.max_entries / (__u32)ncpu;
	v = calloc(1, stride_words * 8);
	if (!v)
		return NULL;
	for (c = 0; c < ncpu; c++) {
		__u32 k = (__u32)c * max + key;

		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		s[0] += v[0];
		s[1] += v[1];
		s[2] += v[2];
	}
	free(v);
	return json_pack("{s:I, s:I, s:I}", "packets", (json_int_t)s[0], "bytes", (json_int_t)s[1],
			 "new_flows", (json_int_t)s[2]);
}

/* The reply `stats` would get, read from the pinned maps. */
static int offline_stats(json_t **reply)
{
	int vfd = pin_fd(XLB_STR(XLB_MAP_VIPS)), bfd = pin_fd(XLB_STR(XLB_MAP_BACKENDS));
	int gfd = pin_fd(XLB_STR(XLB_MAP_HOT)), vsfd = pin_fd(XLB_STR(XLB_MAP_VIP_STATS));
	int bsfd = pin_fd(XLB_STR(XLB_MAP_BACKEND_STATS));
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info), id;
	struct xlb_vip_key cur, next;
	json_t *vips = NULL, *vj, *rj;
	void *prev = NULL;
	int err = 0, ncpu = libbpf_num_possible_cpus(), c, r;
	__u64 *g = NULL;

	if (vfd < 0 || bfd < 0 || gfd < 0 || vsfd < 0 || bsfd < 0) {
		err = -ENOENT;
		goto out;
	}
	if (bpf_obj_get_info_by_fd(bfd, &info, &ilen)) {
		err = -errno;
		goto out;
	}
	vips = json_array();
	while (!bpf_map_get_next_key(vfd, prev, &next)) {
		char name[XLB_VIP_STRLEN], addr[64];
		struct xlb_vip v;
		json_t *bes = json_array();

		cur = next;
		prev = &cur;
		if (cur.proto == XLB_PROTO_ADDR_MARKER || bpf_map_lookup_elem(vfd, &cur, &v)) {
			json_decref(bes);
			continue;
		}
		for (id = 1; id < info.max_entries; id++) {
			struct xlb_backend b;

			if (bpf_map_lookup_elem(bfd, &id, &b) || !b.family || b.vip_id != v.id)
				continue;
			json_array_append_new(bes, json_pack("{s:s, s:i, s:b, s:o}", "address",
				xlb_addr_fmt(b.addr, b.family, addr, sizeof(addr)), "id", (int)id,
				"up", !(b.flags & XLB_BE_F_UNUSABLE), "stats",
				pcpu_counters(bsfd, id, sizeof(struct xlb_backend_pcpu) / 8)));
		}
		json_array_append_new(vips, json_pack("{s:s, s:i, s:o, s:o}", "vip",
			xlb_vip_key_fmt(&cur, name, sizeof(name)), "id", (int)v.id, "backends", bes,
			"stats", pcpu_counters(vsfd, v.id, sizeof(struct xlb_counters) / 8)));
	}
	g = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(union xlb_hot));
	vj = json_object();
	rj = json_object();
	/* The global counters: one entry per CPU in the hot map, after the
	 * VIP filter (union xlb_hot). */
	for (c = 0; g && c < ncpu; c++)
		if (bpf_map_lookup_elem(gfd, &(__u32){ XLB_HOT_GSTATS + (__u32)c },
					(union xlb_hot *)g + c))
			break;
	if (g && ncpu > 0 && c == ncpu) {
		struct xlb_global_stats sum = {};

		for (c = 0; c < ncpu; c++) {
			struct xlb_global_stats *p = &((union xlb_hot *)g + c)->g;

			for (r = 0; r < XLB_VERDICT_SLOTS; r++)
				sum.verdict[r] += p->verdict[r];
			for (r = 0; r < XLB_REASON_SLOTS; r++)
				sum.reason[r] += p->reason[r];
		}
		xlb_stats_global_fold(&sum);
		for (r = 0; r < 5; r++)
			json_object_set_new(vj, xlb_verdict_name(r), json_integer((json_int_t)sum.verdict[r]));
		for (r = 0; r < XLB_R_MAX; r++)
			json_object_set_new(rj, xlb_reason_name(r), json_integer((json_int_t)sum.reason[r]));
	}
	*reply = json_pack("{s:b, s:o, s:o, s:o, s:b}", "ok", 1, "vips", vips, "verdicts", vj,
			   "reasons", rj, "offline", 1);
	vips = NULL;
out:
	free(g);
	json_decref(vips);
	for (c = 0; c < 5; c++) {
		int fds[5] = { vfd, bfd, gfd, vsfd, bsfd };

		if (fds[c] >= 0)
			close(fds[c]);
	}
	return err;
}

/* ---------------------------------------------------------------- output */

static long long ival(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* The previous sample's counters for the same VIP (and backend address). */
static json_t *prev_counters(const char *vip, const char *addr)
{
	json_t *v, *b;
	size_t i, j;

	json_array_foreach(json_object_get(prev_stats, "vips"), i, v) {
		if (strcmp(json_string_value(json_object_get(v, "vip")) ?: "", vip))
			continue;
		if (!addr)
			return json_object_get(v, "stats");
		json_array_foreach(json_object_get(v, "backends"), j, b)
			if (!strcmp(json_string_value(json_object_get(b, "address")) ?: "", addr))
				return json_object_get(b, "stats");
	}
	return NULL;
}

static long long ival(json_t *o, const char *k);

/* With watch: the rates since the previous sample, per second. */
static void print_rates(json_t *now, json_t *before)
{
	if (!watch_secs || !before) {
		putchar('\n');
		return;
	}
	printf("  | %10.1f pps %12.1f B/s %8.1f new/s\n",
	       (double)(ival(now, "packets") - ival(before, "packets")) / (double)watch_secs,
	       (double)(ival(now, "bytes") - ival(before, "bytes")) / (double)watch_secs,
	       (double)(ival(now, "new_flows") - ival(before, "new_flows")) / (double)watch_secs);
}

/* The VIP's health check and policies, from the config (vip list and show). */
static void print_vip_cfg(const char *vip)
{
	json_t *v, *h;
	const char *type, *path;
	size_t i;

	json_array_foreach(json_object_get(cur_config, "vips"), i, v) {
		if (strcmp(json_string_value(json_object_get(v, "vip")) ?: "", vip))
			continue;
		h = json_object_get(v, "health");
		type = json_string_value(json_object_get(h, "type")) ?: "none";
		printf("  health %s", type);
		if (strcmp(type, "none")) {
			printf(" port %lld interval %lldms timeout %lldms rise %lld fall %lld",
			       ival(h, "port"), ival(h, "interval_ms"), ival(h, "timeout_ms"),
			       ival(h, "rise"), ival(h, "fall"));
			path = json_string_value(json_object_get(h, "path"));
			if (path)
				printf(" path %s", path);
			if (json_is_true(json_object_get(h, "datapath")))
				printf(" datapath");
		}
		printf("; dead-backend %s, all-down %s, slow-start %llds%s\n",
		       json_string_value(json_object_get(v, "dead_backend")) ?: "-",
		       json_string_value(json_object_get(v, "all_down")) ?: "-",
		       ival(v, "slow_start_s"),
		       json_is_true(json_object_get(v, "latency_adaptive")) ? ", latency-adaptive" : "");
		return;
	}
}

static void print_vips(json_t *reply, bool stats)
{
	json_t *v, *b, *s;
	size_t i, j;

	json_array_foreach(json_object_get(reply, "vips"), i, v) {
		s = json_object_get(v, "stats");
		if (stats) {
			const char *vn = json_string_value(json_object_get(v, "vip"));

			printf("%-32s packets %12lld  bytes %14lld  new flows %10lld", vn,
			       ival(s, "packets"), ival(s, "bytes"), ival(s, "new_flows"));
			print_rates(s, prev_counters(vn, NULL));
		} else {
			printf("%-32s id %-4lld ring %lld\n", json_string_value(json_object_get(v, "vip")),
			       ival(v, "id"), ival(v, "ring_size"));
			if (cur_config)
				print_vip_cfg(json_string_value(json_object_get(v, "vip")) ?: "");
		}
		json_array_foreach(json_object_get(v, "backends"), j, b) {
			const char *health = json_is_false(json_object_get(b, "up")) ? "down" : "up";

			s = json_object_get(b, "stats");
			if (stats) {
				const char *bn = json_string_value(json_object_get(b, "address"));

				printf("  %-30s packets %12lld  bytes %14lld  new flows %10lld  %s %s",
				       bn, ival(s, "packets"), ival(s, "bytes"), ival(s, "new_flows"),
				       json_string_value(json_object_get(b, "state")) ?: "", health);
				print_rates(s, prev_counters(json_string_value(json_object_get(v, "vip")),
							     bn));
			} else {
				json_t *h = json_object_get(b, "health");
				const char *hs = json_string_value(json_object_get(h, "state"));

				printf("  %-30s id %-5lld weight %-5lld effective %-5lld %-10s",
				       json_string_value(json_object_get(b, "address")), ival(b, "id"),
				       ival(b, "weight"), ival(b, "effective_weight"), hs ? hs : health);
				if (json_object_get(h, "last_result"))
					printf("  last probe: %s, %.1f ms",
					       json_string_value(json_object_get(h, "last_result")),
					       json_real_value(json_object_get(h, "latency_ms")));
				else if (json_is_true(json_object_get(h, "checked")))
					printf("  last probe: none yet");
				printf("\n");
			}
		}
	}
}

static void print_stats(json_t *reply)
{
	json_t *vj = json_object_get(reply, "verdicts"), *rj = json_object_get(reply, "reasons");
	bool any = false;
	int r;

	if (json_is_true(json_object_get(reply, "offline")))
		printf("(xlbd is not running: read from the pinned maps under %s)\n", opts.pin_root);
	print_vips(reply, true);
	printf("verdicts: pass %lld  drop %lld  tx %lld  redirect %lld  aborted %lld\n",
	       ival(vj, "pass"), ival(vj, "drop"), ival(vj, "tx"), ival(vj, "redirect"),
	       ival(vj, "aborted"));
	printf("drops:");
	for (r = 0; r < XLB_R_MAX; r++) {
		long long n = ival(rj, xlb_reason_name(r));

		if (n && !strcmp(xlb_reason_kind(r), "drop")) {
			printf(" %s %lld", xlb_reason_name(r), n);
			any = true;
		}
	}
	printf("%s\n", any ? "" : " none");
}

static void print_maglev(json_t *reply)
{
	json_t *b;
	size_t i;
	long long m = ival(reply, "ring_size");

	printf("ring %lld slots, checksum %s (anchor %s), max/mean imbalance %.5f, empty %lld\n", m,
	       json_string_value(json_object_get(reply, "checksum")),
	       json_string_value(json_object_get(reply, "anchor_checksum")),
	       json_real_value(json_object_get(reply, "imbalance")), ival(reply, "empty_slots"));
	json_array_foreach(json_object_get(reply, "backends"), i, b)
		printf("  %-30s id %-5lld slots %8lld  %6.2f%%\n",
		       json_string_value(json_object_get(b, "address")), ival(b, "id"),
		       ival(b, "slots"), m ? 100.0 * (double)ival(b, "slots") / (double)m : 0.0);
}

static int print_reply(const char *cmd, json_t *reply)
{
	if (!json_is_true(json_object_get(reply, "ok"))) {
		fprintf(stderr, "xlbctl: %s\n",
			json_string_value(json_object_get(reply, "error")) ?: "request failed");
		return XLB_CLI_EXIT_FAIL;
	}
	if (json_string_value(json_object_get(reply, "restart_required")))
		fprintf(stderr, "xlbctl: applied; these take effect only after restarting xlbd: %s\n",
			json_string_value(json_object_get(reply, "restart_required")));
	if (opts.json) {
		json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		return XLB_CLI_EXIT_OK;
	}
	if (!strcmp(cmd, "stats")) {
		print_stats(reply);
		json_decref(prev_stats);
		prev_stats = json_incref(reply);
	}
	else if (!strcmp(cmd, "maglev.show"))
		print_maglev(reply);
	else if (!strcmp(cmd, "vip.list") || !strcmp(cmd, "vip.show") || !strcmp(cmd, "backend.list"))
		print_vips(reply, false);
	else if (!strcmp(cmd, "config.dump") || !strcmp(cmd, "status")) {
		json_t *c = json_object_get(reply, "config");

		json_dumpf(c ? c : reply, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
	return XLB_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- main */

/* The health checks live in the config: vip list and show print them from it. */
static void fetch_config(FILE *f, int fd)
{
	json_t *req = json_pack("{s:s}", "cmd", "config.dump"), *reply = NULL;

	if (req && !ctl_call(f, fd, req, &reply) && json_is_true(json_object_get(reply, "ok")))
		cur_config = json_incref(json_object_get(reply, "config"));
	json_decref(reply);
	json_decref(req);
}

static int run(json_t **reqs, int n)
{
	FILE *f = NULL;
	int fd, i, rc = XLB_CLI_EXIT_OK;

	fd = ctl_connect(opts.socket);
	if (fd < 0) {
		const char *cmd = json_string_value(json_object_get(reqs[0], "cmd"));
		json_t *reply = NULL;

		if (n == 1 && cmd && !strcmp(cmd, "stats") && !offline_stats(&reply)) {
			rc = print_reply(cmd, reply);
			json_decref(reply);
			return rc;
		}
		fprintf(stderr, "xlbctl: cannot reach xlbd at %s: %s\n", opts.socket, strerror(-fd));
		return XLB_CLI_EXIT_FAIL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return XLB_CLI_EXIT_FAIL;
	}
	for (i = 0; i < n && rc == XLB_CLI_EXIT_OK; i++) {
		const char *cmd = json_string_value(json_object_get(reqs[i], "cmd"));
		json_t *reply = NULL;
		int err = ctl_call(f, fd, reqs[i], &reply);

		if (!err && !opts.json && (!strcmp(cmd, "vip.list") || !strcmp(cmd, "vip.show")))
			fetch_config(f, fd);
		if (err) {
			fprintf(stderr, "xlbctl: %s: %s\n", cmd, strerror(-err));
			rc = XLB_CLI_EXIT_FAIL;
		} else {
			rc = print_reply(cmd, reply);
		}
		json_decref(reply);
		json_decref(cur_config);
		cur_config = NULL;
	}
	fclose(f);
	return rc;
}

/* Parse every line of the batch file before anything is sent. */
static int load_batch(json_t ***reqs, int *n)
{
	FILE *f = strcmp(opts.batch, "-") ? fopen(opts.batch, "r") : stdin;
	char *line = NULL, err[XLB_CLI_ERRLEN];
	size_t cap = 0;
	int lineno = 0, rc = 0;

	if (!f) {
		fprintf(stderr, "xlbctl: -batch %s: %s\n", opts.batch, strerror(errno));
		return XLB_CLI_EXIT_USAGE;
	}
	*reqs = NULL;
	*n = 0;
	while (getline(&line, &cap, f) >= 0) {
		char **av = NULL;
		json_t *req = NULL, **nr;
		int ac, ret;

		lineno++;
		ret = xlb_cli_split_line(line, &ac, &av);
		if (!ret && ac)
			ret = xlb_cli_parse(ac, av, &req, err, sizeof(err));
		else if (ret)
			snprintf(err, sizeof(err), "%s", strerror(-ret));
		free(av);
		if (ret == XLB_CLI_HELP) {
			json_decref(req);
			continue;
		}
		if (ret) {
			fprintf(stderr, "xlbctl: %s:%d: %s\n", opts.batch, lineno, err);
			rc = XLB_CLI_EXIT_USAGE;
			break;
		}
		if (!req)
			continue;
		nr = realloc(*reqs, (size_t)(*n + 1) * sizeof(*nr));
		if (!nr) {
			json_decref(req);
			rc = XLB_CLI_EXIT_FAIL;
			break;
		}
		*reqs = nr;
		(*reqs)[(*n)++] = req;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	char err[XLB_CLI_ERRLEN];
	json_t **reqs = NULL, *req = NULL;
	int idx, n = 0, rc, i;

	idx = xlb_cli_opts_parse(argc, argv, &opts, err, sizeof(err));
	if (idx < 0) {
		fprintf(stderr, "%s\n", err);
		return XLB_CLI_EXIT_USAGE;
	}
	if (opts.batch) {
		rc = load_batch(&reqs, &n);
		if (!rc && n)
			rc = run(reqs, n);
		for (i = 0; i < n; i++)
			json_decref(reqs[i]);
		free(reqs);
		return rc;
	}
	if (opts.help || idx >= argc) {
		char *h[] = { "help", NULL };

		xlb_cli_parse(1, h, &req, err, sizeof(err));
		printf("%s", json_string_value(json_object_get(req, "help")));
		json_decref(req);
		return opts.help ? XLB_CLI_EXIT_OK : XLB_CLI_EXIT_USAGE;
	}
	rc = xlb_cli_parse(argc - idx, argv + idx, &req, err, sizeof(err));
	if (rc == XLB_CLI_HELP) {
		printf("%s", json_string_value(json_object_get(req, "help")));
		json_decref(req);
		return XLB_CLI_EXIT_OK;
	}
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return XLB_CLI_EXIT_USAGE;
	}
	watch_secs = (long)json_integer_value(json_object_get(req, "watch"));
	json_object_del(req, "watch");
	rc = run(&req, 1);
	while (watch_secs && rc == XLB_CLI_EXIT_OK) {
		/* Until interrupted: each sample shows the rates since the last. */
		fflush(stdout);
		sleep((unsigned int)watch_secs);
		printf("\n");
		rc = run(&req, 1);
	}
	json_decref(prev_stats);
	json_decref(req);
	return rc;
}
