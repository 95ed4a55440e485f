// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Data-path health probes, LB side: see hcpath.h. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hc.skel.h"
#include "log.h"
#include "hcpath.h"

struct xlb_hcpath {
	struct hc_bpf *skel;
};

const char *xlb_hcpath_counter_name(int idx)
{
	static const char *const n[XLB_HCP_MAX] = {
		[XLB_HCP_ENCAP] = "encap",
		[XLB_HCP_NO_BACKEND] = "no_backend",
		[XLB_HCP_FIB_FAIL] = "fib_fail",
		[XLB_HCP_ERROR] = "error",
	};

	return idx >= 0 && idx < XLB_HCP_MAX ? n[idx] : "unknown";
}

/* Point @map at the data plane's pin <root>/<name>; -ENOENT if absent. */
static int adopt(struct bpf_map *map, const char *root)
{
	char path[PATH_MAX];
	int fd, n, err = 0;

	n = snprintf(path, sizeof(path), "%s/%s", root, bpf_map__name(map));
	if (n < 0 || n >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		pr_warn("hcpath: cannot open %s: %s%s\n", path, strerror(-err),
			err == -ENOENT ? " (load the data plane first)" : "");
		return err;
	}
	err = bpf_map__reuse_fd(map, fd);
	if (err)
		pr_warn("hcpath: cannot adopt %s: %s\n", path, strerror(-err));
	close(fd);
	return err;
}

int xlb_hcpath_open(const char *pin_root, struct xlb_hcpath **out)
{
	const char *root = pin_root ? pin_root : XLB_PIN_ROOT_DEFAULT;
	struct xlb_hcpath *h;
	int err;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->skel = hc_bpf__open();
	if (!h->skel) {
		err = -errno;
		pr_warn("hcpath: cannot open the BPF object: %s\n", strerror(-err));
		goto out;
	}
	err = adopt(h->skel->maps.XLB_MAP_BACKENDS, root);
	if (err)
		goto out;
	err = adopt(h->skel->maps.XLB_MAP_HOT, root);
	if (err)
		goto out;
	err = hc_bpf__load(h->skel);
	if (err) {
		pr_warn("hcpath: cannot load the BPF object: %s (maps pinned under %s must have this layout)\n",
			strerror(-err), root);
		goto out;
	}
	*out = h;
	return 0;
out:
	xlb_hcpath_close(h);
	return err;
}

void xlb_hcpath_close(struct xlb_hcpath *h)
{
	if (!h)
		return;
	hc_bpf__destroy(h->skel);
	free(h);
}

static int hook_of(const char *ifname, struct bpf_tc_hook *hook)
{
	unsigned int ifindex = if_nametoindex(ifname);

	if (!ifindex) {
		pr_warn("hcpath: no interface %s\n", ifname);
		return -ENODEV;
	}
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = (int)ifindex;
	hook->attach_point = BPF_TC_EGRESS;
	return 0;
}

int xlb_hcpath_attach(struct xlb_hcpath *h, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLB_HCPATH_TC_HANDLE,
		    .priority = XLB_HCPATH_TC_PRIO, .flags = BPF_TC_F_REPLACE);
	struct bpf_tc_hook hook;
	int err, quiet;

	if (!h || !ifname)
		return -EINVAL;
	err = hook_of(ifname, &hook);
	if (err)
		return err;
	/* The clsact qdisc may be there already (ours, or another tool's). */
	quiet = xlb_log_libbpf_quiet();
	err = bpf_tc_hook_create(&hook);
	xlb_log_libbpf_restore(quiet);
	if (err && err != -EEXIST) {
		pr_warn("hcpath: cannot add a clsact qdisc to %s: %s\n", ifname, strerror(-err));
		return err;
	}
	opts.prog_fd = bpf_program__fd(h->skel->progs.xlb_hc_egress);
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_warn("hcpath: cannot attach to %s egress: %s\n", ifname, strerror(-err));
	return err;
}

int xlb_hcpath_query(const char *ifname, uint32_t *prog_id)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLB_HCPATH_TC_HANDLE,
		    .priority = XLB_HCPATH_TC_PRIO);
	struct bpf_tc_hook hook;
	int err, quiet;

	err = hook_of(ifname, &hook);
	if (err)
		return err;
	quiet = xlb_log_libbpf_quiet();
	err = bpf_tc_query(&hook, &opts);
	xlb_log_libbpf_restore(quiet);
	/* No qdisc at all reads as EINVAL from the kernel. */
	if (err == -EINVAL || err == -ENOENT)
		return -ENOENT;
	if (!err)
		*prog_id = opts.prog_id;
	return err;
}

int xlb_hcpath_detach(const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XLB_HCPATH_TC_HANDLE,
		    .priority = XLB_HCPATH_TC_PRIO);
	struct bpf_tc_hook hook;
	uint32_t id;
	int err;

	err = xlb_hcpath_query(ifname, &id);
	if (err)
		return err;
	err = hook_of(ifname, &hook);
	if (err)
		return err;
	err = bpf_tc_detach(&hook, &opts);
	if (err)
		pr_warn("hcpath: cannot detach from %s: %s\n", ifname, strerror(-err));
	return err;
}

static int sum_percpu(int fd, uint64_t out[XLB_HCP_MAX])
{
	int ncpus = libbpf_num_possible_cpus(), err = 0, i, c;
	uint64_t *v;
	__u32 k;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < XLB_HCP_MAX; i++) {
		k = (__u32)i;
		if (bpf_map_lookup_elem(fd, &k, v)) {
			err = -errno;
			goto out;
		}
		out[i] = 0;
		for (c = 0; c < ncpus; c++)
			out[i] += v[c];
	}
out:
	free(v);
	return err;
}

int xlb_hcpath_stats(const struct xlb_hcpath *h, uint64_t out[XLB_HCP_MAX])
{
	if (!h)
		return -EINVAL;
	return sum_percpu(bpf_map__fd(h->skel->maps.XLB_MAP_HC_STATS), out);
}

int xlb_hcpath_stats_iface(const char *ifname, uint64_t out[XLB_HCP_MAX])
{
	struct bpf_prog_info pi = {};
	struct bpf_map_info mi;
	__u32 ids[16], len, i, n;
	uint32_t id;
	int pfd = -1, mfd = -1, err;

	err = xlb_hcpath_query(ifname, &id);
	if (err)
		return err;
	pfd = bpf_prog_get_fd_by_id(id);
	if (pfd < 0)
		return -errno;
	len = sizeof(pi);
	pi.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	pi.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(pfd, &pi, &len)) {
		err = -errno;
		goto out;
	}
	n = pi.nr_map_ids < 16 ? pi.nr_map_ids : 16;
	err = -ENOENT;
	for (i = 0; i < n && err == -ENOENT; i++) {
		mfd = bpf_map_get_fd_by_id(ids[i]);
		if (mfd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		len = sizeof(mi);
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &len) &&
		    !strcmp(mi.name, XLB_STR(XLB_MAP_HC_STATS)))
			err = sum_percpu(mfd, out);
		close(mfd);
		mfd = -1;
	}
out:
	close(pfd);
	return err;
}
