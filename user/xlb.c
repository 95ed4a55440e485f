// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libxlb: see xlb.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/hash.h>
#include "xlb.skel.h"
#include "log.h"
#include "xlb.h"

#define XLB_MAX_LINKS 16

struct xlb {
	struct xlb_bpf *skel;
	char pin_root[PATH_MAX];	/* "" when not pinning */
	__u32 max_vips;
	__u32 max_backends;
	__u32 seed;			/* flow hash seed, kept in the config map */
	__u32 hz;			/* kernel jiffies per second */
	__u32 vip_mask;			/* VIP table slots - 1 */
	__u32 flow_mask;		/* flow cache slots per CPU - 1 */
	__u32 hot_viptab;		/* first VIP table entry of the hot map */
	int ncpus;
	int links[XLB_MAX_LINKS];		/* unpinned links, closed with us */
	int nlinks;
};

static const char *const reason_upper[] = {
#define XLB_X_NAME(name, kind) #name,
	XLB_REASONS(XLB_X_NAME)
#undef XLB_X_NAME
};

static const char *const reason_kinds[] = {
#define XLB_X_KIND(name, kind) #kind,
	XLB_REASONS(XLB_X_KIND)
#undef XLB_X_KIND
};

const char *xlb_reason_name(int r)
{
	static char lower[XLB_R_MAX][32];
	int i;

	if (r < 0 || r >= XLB_R_MAX)
		return "unknown";
	if (!lower[r][0]) {
		for (i = 0; reason_upper[r][i] && i < 31; i++)
			lower[r][i] = (char)tolower((unsigned char)reason_upper[r][i]);
	}
	return lower[r];
}

const char *xlb_reason_kind(int r)
{
	if (r < 0 || r >= XLB_R_MAX)
		return "unknown";
	if (!strcmp(reason_kinds[r], "DROP"))
		return "drop";
	if (!strcmp(reason_kinds[r], "PASS"))
		return "pass";
	return "event";
}

void xlb_stats_global_fold(struct xlb_global_stats *s)
{
	int r;

	for (r = 0; r < XLB_R_MAX; r++) {
		if (!strcmp(reason_kinds[r], "DROP"))
			s->verdict[XDP_DROP] += s->reason[r];
		else if (!strcmp(reason_kinds[r], "PASS"))
			s->verdict[XDP_PASS] += s->reason[r];
	}
}

const char *xlb_verdict_name(int act)
{
	static const char *const n[] = { "aborted", "drop", "pass", "tx", "redirect" };

	return act >= 0 && act < 5 ? n[act] : "unknown";
}

/* "<root>/<prefix><name>" into path[PATH_MAX]; -ENAMETOOLONG if it does not fit. */
static int pin_path(char *path, const char *root, const char *prefix, const char *name)
{
	int n = snprintf(path, PATH_MAX, "%s/%s%s", root, prefix, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int xlb_mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t i, len = strlen(path);

	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		tmp[i] = path[i];
	}
	return 0;
}

int xlb_prog_fd(const struct xlb *x)
{
	return bpf_program__fd(x->skel->progs.xlb_xdp);
}

const char *xlb_pin_root(const struct xlb *x)
{
	return x->pin_root;
}

int xlb_map_fd(const struct xlb *x, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(x->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

#define MAP_FD(x, macro) bpf_map__fd((x)->skel->maps.macro)

static int sys_err(int rc)
{
	return rc ? -errno : 0;
}

/* Kernel jiffies per second: the resolution of CLOCK_MONOTONIC_COARSE is
 * one tick. */
static __u32 kernel_hz(void)
{
	struct timespec res;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) || res.tv_sec || !res.tv_nsec)
		return 1000;	/* at worst a next hop is trusted for less */
	return (__u32)((1000000000L + res.tv_nsec / 2) / res.tv_nsec);
}

/* Fill the config fields that belong to libxlb, keeping @gen (or 1). */
static void config_own(const struct xlb *x, struct xlb_config *c, __u32 gen)
{
	c->seed = x->seed;
	c->be_gen = gen ? gen : 1;
	c->max_vips = x->max_vips;
	c->max_backends = x->max_backends;
	c->hz = x->hz;
	c->vip_mask = x->vip_mask;
	c->flow_mask = x->flow_mask;
	c->hot_viptab = x->hot_viptab;
}

static void config_defaults(struct xlb_config *c)
{
	memset(c, 0, sizeof(*c));
	inet_pton(AF_INET, "172.16.0.0", &c->src4);
	inet_pton(AF_INET, "255.255.0.0", &c->src4_mask);
	/* fd00:786c:6200::/96 ("xlb" in the ULA global id) */
	inet_pton(AF_INET6, "fd00:786c:6200::", c->src6);
}

/* The config is the hot map's entry XLB_HOT_CONFIG; the rest of the entry
 * stays zero. */
static int config_write(struct xlb *x, const struct xlb_config *c)
{
	union xlb_hot h = { .cfg = *c };
	__u32 k = XLB_HOT_CONFIG;

	return sys_err(bpf_map_update_elem(MAP_FD(x, XLB_MAP_HOT), &k, &h, BPF_ANY));
}

int xlb_open(const struct xlb_opts *opts, struct xlb **out)
{
	const char *root = opts->pin_root ? opts->pin_root : XLB_PIN_ROOT_DEFAULT;
	__u32 nct = opts->conntrack_size ? opts->conntrack_size : XLB_DEF_CONNTRACK;
	struct xlb_config cfg, zero_cfg = {};
	struct bpf_map *map;
	struct xlb *x;
	int err;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->max_vips = opts->max_vips ? opts->max_vips : XLB_DEF_MAX_VIPS;
	x->max_backends = opts->max_backends ? opts->max_backends : XLB_DEF_MAX_BACKENDS;
	x->ncpus = libbpf_num_possible_cpus();
	if (x->ncpus <= 0) {
		err = x->ncpus ? x->ncpus : -EINVAL;
		goto out;
	}
	if (x->max_vips < 2 || x->max_backends < 2 || nct < 2) {
		pr_warn("xlb: map sizes must be at least 2\n");
		err = -EINVAL;
		goto out;
	}
	/* The counters hold one block of max_vips (max_backends) per CPU. */
	if ((__u64)x->max_backends * (__u32)x->ncpus > UINT32_MAX / 2 ||
	    (__u64)x->max_vips * (__u32)x->ncpus > UINT32_MAX / 2 || x->max_vips > (1U << 24)) {
		pr_warn("xlb: max_vips/max_backends too large for %d CPUs\n", x->ncpus);
		err = -EINVAL;
		goto out;
	}
	if (strlen(root) >= sizeof(x->pin_root) - 64) {
		err = -ENAMETOOLONG;
		goto out;
	}
	strcpy(x->pin_root, root);

	x->skel = xlb_bpf__open();
	if (!x->skel) {
		err = -errno;
		pr_warn("xlb: cannot open the BPF object: %s\n", strerror(-err));
		goto out;
	}
	x->seed = opts->hash_seed;
	x->hz = kernel_hz();
	bpf_map__set_max_entries(x->skel->maps.XLB_MAP_VIPS, x->max_vips * 2);
	bpf_map__set_max_entries(x->skel->maps.XLB_MAP_RINGS, x->max_vips);
	bpf_map__set_max_entries(x->skel->maps.XLB_MAP_ANCHORS, x->max_vips);
	bpf_map__set_max_entries(x->skel->maps.XLB_MAP_VIP_STATS,
				 x->max_vips * (__u32)x->ncpus);
	bpf_map__set_max_entries(x->skel->maps.XLB_MAP_BACKENDS, x->max_backends);
	bpf_map__set_max_entries(x->skel->maps.XLB_MAP_BACKEND_STATS,
				 x->max_backends * (__u32)x->ncpus);
	bpf_map__set_max_entries(x->skel->maps.XLB_MAP_CONNTRACK, nct);

	x->vip_mask = XLB_VIPTAB_SLOTS(x->max_vips) - 1;
	x->hot_viptab = XLB_HOT_GSTATS + (__u32)x->ncpus;
	bpf_map__set_max_entries(x->skel->maps.XLB_MAP_HOT,
				 x->hot_viptab + XLB_HOT_VIPTAB_ENTRIES(x->max_vips));
	/* A power of two up to the connection table's size. */
	for (x->flow_mask = 1; x->flow_mask < XLB_FLOW_CACHE_MAX && x->flow_mask < nct;)
		x->flow_mask <<= 1;
	x->flow_mask--;
	bpf_map__set_max_entries(x->skel->maps.XLB_MAP_FLOW_CACHE,
				 (x->flow_mask + 1) * (__u32)x->ncpus);

	if (x->pin_root[0]) {
		err = xlb_mkdir_p(x->pin_root);
		if (err) {
			pr_warn("xlb: cannot create %s: %s\n", x->pin_root, strerror(-err));
			goto out;
		}
		bpf_object__for_each_map(map, x->skel->obj) {
			char path[PATH_MAX];
			const char *name = bpf_map__name(map);

			/* libbpf's internal maps (.rodata...) are never pinned. */
			if (bpf_map__is_internal(map) || strncmp(name, "xlb_", 4))
				continue;
			err = pin_path(path, x->pin_root, "", name);
			if (!err)
				err = bpf_map__set_pin_path(map, path);
			if (err)
				goto out;
			/* The kernel adds BPF_F_RDONLY_PROG to every devmap but
			 * refuses it at creation; libbpf reuses a pin only with
			 * identical flags. */
			if (bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP_HASH && !access(path, F_OK))
				bpf_map__set_map_flags(map, bpf_map__map_flags(map) | BPF_F_RDONLY_PROG);
		}
	}
	err = xlb_bpf__load(x->skel);
	if (err) {
		pr_warn("xlb: cannot load the BPF object: %s%s%s\n", strerror(-err),
			x->pin_root[0] ? "; pinned maps under " : "",
			x->pin_root[0] ? x->pin_root : "");
		if (x->pin_root[0])
			pr_warn("xlb: if they exist, they must have the same layout and sizes (run with -v for libbpf's reason)\n");
		goto out;
	}
	err = xlb_config_get(x, &cfg);
	if (err)
		goto out;
	if (!memcmp(&cfg, &zero_cfg, sizeof(cfg)))
		config_defaults(&cfg);
	/* The seed comes from this load, not from an earlier one. */
	config_own(x, &cfg, cfg.be_gen);
	err = config_write(x, &cfg);
	if (err)
		goto out;
	*out = x;
	return 0;
out:
	xlb_close(x);
	return err;
}

void xlb_close(struct xlb *x)
{
	int i;

	if (!x)
		return;
	for (i = 0; i < x->nlinks; i++)
		close(x->links[i]);
	xlb_bpf__destroy(x->skel);
	free(x);
}

int xlb_attach(struct xlb *x, const char *ifname, enum xlb_attach_mode mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	char path[PATH_MAX];
	unsigned int ifindex;
	int fd = -1, err, quiet;

	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		pr_warn("xlb: no interface %s\n", ifname);
		return -ENODEV;
	}
	lo.flags = mode == XLB_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	quiet = xlb_log_libbpf_quiet();
	fd = bpf_link_create(xlb_prog_fd(x), (int)ifindex, BPF_XDP, &lo);
	err = fd < 0 ? -errno : 0;
	xlb_log_libbpf_restore(quiet);
	if (err) {
		if (mode == XLB_MODE_NATIVE && (err == -EOPNOTSUPP || err == -EINVAL))
			pr_warn("xlb: native XDP not supported by %s: try generic mode\n", ifname);
		else if (err == -EBUSY || err == -EEXIST)
			pr_warn("xlb: %s already has an XDP program attached\n", ifname);
		else
			pr_warn("xlb: cannot attach to %s: %s\n", ifname, strerror(-err));
		goto out;
	}
	err = xlb_devmap_add(x, ifindex);
	if (err)
		goto out;
	if (x->pin_root[0]) {
		err = pin_path(path, x->pin_root, "link_", ifname);
		if (err)
			goto out;
		if (bpf_obj_pin(fd, path)) {
			err = -errno;
			pr_warn("xlb: cannot pin link at %s: %s\n", path, strerror(-err));
			goto out;
		}
		close(fd);
		return 0;
	}
	if (x->nlinks == XLB_MAX_LINKS) {
		err = -ENOSPC;
		goto out;
	}
	x->links[x->nlinks++] = fd;
	return 0;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

int xlb_detach(const char *pin_root, const char *ifname)
{
	char path[PATH_MAX];
	int fd, err = 0;

	err = pin_path(path, pin_root ? pin_root : XLB_PIN_ROOT_DEFAULT, "link_", ifname);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_link_detach(fd))
		err = -errno;
	close(fd);
	if (!err && unlink(path))
		err = -errno;
	return err;
}

int xlb_unpin_all(const char *pin_root)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(pin_root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (pin_path(path, pin_root, "", de->d_name) == 0 && unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(pin_root) && !err)
		err = -errno;
	return err;
}

static int vip_nwords(__u8 family)
{
	return family == XLB_AF_INET ? 1 : 4;
}

static void marker_key(const struct xlb_vip_key *k, struct xlb_vip_key *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->addr, k->addr, sizeof(m->addr));
	m->family = k->family;
	m->proto = XLB_PROTO_ADDR_MARKER;
}

static int vfilter_update(struct xlb *x, __u32 bit, bool set)
{
	int fd = MAP_FD(x, XLB_MAP_HOT);
	__u32 e = bit / (32 * XLB_HOT_WORDS), *w;
	union xlb_hot h;

	if (bpf_map_lookup_elem(fd, &e, &h))
		return -errno;
	w = &h.vfilter[(bit >> 5) % XLB_HOT_WORDS];
	if (set)
		*w |= 1U << (bit & 31);
	else
		*w &= ~(1U << (bit & 31));
	return sys_err(bpf_map_update_elem(fd, &e, &h, BPF_ANY));
}

static int vip_key_check(const struct xlb_vip_key *k)
{
	if (k->family != XLB_AF_INET && k->family != XLB_AF_INET6)
		return -EAFNOSUPPORT;
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	if (k->family == XLB_AF_INET && (k->addr[1] || k->addr[2] || k->addr[3]))
		return -EINVAL;
	return 0;
}

/* The VIP table's slot @idx: in entry hot_viptab + idx / XLB_HOT_VIPS of the
 * hot map (union xlb_hot). */
static int viptab_read(struct xlb *x, __u32 idx, struct xlb_vip_slot *s)
{
	__u32 e = x->hot_viptab + idx / XLB_HOT_VIPS;
	union xlb_hot h;

	if (bpf_map_lookup_elem(MAP_FD(x, XLB_MAP_HOT), &e, &h))
		return -errno;
	*s = h.vips[idx % XLB_HOT_VIPS];
	return 0;
}

/* Write slot @idx.  The entry's other slots are written back unchanged:
 * only libxlb writes VIP table entries. */
static int viptab_write(struct xlb *x, __u32 idx, const struct xlb_vip_slot *s)
{
	int fd = MAP_FD(x, XLB_MAP_HOT);
	__u32 e = x->hot_viptab + idx / XLB_HOT_VIPS;
	union xlb_hot h;

	if (bpf_map_lookup_elem(fd, &e, &h))
		return -errno;
	h.vips[idx % XLB_HOT_VIPS] = *s;
	return sys_err(bpf_map_update_elem(fd, &e, &h, BPF_ANY));
}

/*
 * Where @k is in the VIP table (struct xlb_vip_slot): 0 with *slot its index
 * and *cur its content; else -ENOENT with *slot the first free (empty or
 * deleted) slot of its chain, or -ENOSPC when the chain has none.
 */
static int viptab_find(struct xlb *x, const struct xlb_vip_key *k, __u32 *slot,
		       struct xlb_vip_slot *cur)
{
	__u32 h = xlb_vip_slot_hash(k->addr, vip_nwords(k->family), k->port, k->proto);
	__u32 i, idx, free_idx = UINT32_MAX;
	int err;

	for (i = 0; i < XLB_VIPTAB_PROBES; i++) {
		idx = (h + i) & x->vip_mask;
		err = viptab_read(x, idx, cur);
		if (err)
			return err;
		if (!cur->key.family || cur->key.family == XLB_VIPTAB_TOMB) {
			if (free_idx == UINT32_MAX)
				free_idx = idx;
			if (!cur->key.family)
				break;	/* the chain ends here */
			continue;
		}
		if (!memcmp(&cur->key, k, sizeof(*k))) {
			*slot = idx;
			return 0;
		}
	}
	*slot = free_idx;
	return free_idx == UINT32_MAX ? -ENOSPC : -ENOENT;
}

/*
 * Put @k -> @v in the VIP table.  A new key goes in as a deleted slot
 * first and is then made live by changing its family byte alone, so that a
 * packet reading the slot meanwhile sees either no entry or the whole one.
 */
static int viptab_put(struct xlb *x, const struct xlb_vip_key *k, const struct xlb_vip *v)
{
	struct xlb_vip_slot s;
	__u32 idx;
	int err;

	err = viptab_find(x, k, &idx, &s);
	if (err && err != -ENOENT)
		return err;
	memset(&s, 0, sizeof(s));
	s.key = *k;
	s.vip = *v;
	if (err == -ENOENT) {
		s.key.family = XLB_VIPTAB_TOMB;
		err = viptab_write(x, idx, &s);
		if (err)
			return err;
		s.key.family = k->family;
	}
	return viptab_write(x, idx, &s);
}

/* Mark @k's slot deleted (its family byte alone changes).  0 if absent. */
static int viptab_del(struct xlb *x, const struct xlb_vip_key *k)
{
	struct xlb_vip_slot s;
	__u32 idx;
	int err;

	err = viptab_find(x, k, &idx, &s);
	if (err)
		return err == -ENOENT || err == -ENOSPC ? 0 : err;
	s.key.family = XLB_VIPTAB_TOMB;
	return viptab_write(x, idx, &s);
}

int xlb_vip_set(struct xlb *x, const struct xlb_vip_key *k, const struct xlb_vip *v)
{
	struct xlb_vip mv = { .flags = XLB_VIP_F_MARKER }, old;
	struct xlb_vip_key mk;
	bool existed;
	int err;

	err = vip_key_check(k);
	if (err)
		return err;
	if (!v->id || v->id >= x->max_vips || (v->flags & ~XLB_VIP_F_ALL) ||
	    v->encap != XLB_ENCAP_IPIP)
		return -EINVAL;
	/* Entry first, filter bit last: a packet only takes the VIP path once
	 * everything it needs is in place.  The data plane looks VIPs up in
	 * the VIP table; xlb_vips is what userspace reads, with the markers. */
	existed = !bpf_map_lookup_elem(MAP_FD(x, XLB_MAP_VIPS), k, &old);
	err = sys_err(bpf_map_update_elem(MAP_FD(x, XLB_MAP_VIPS), k, v, BPF_ANY));
	if (!err) {
		err = viptab_put(x, k, v);
		if (err && !existed)
			bpf_map_delete_elem(MAP_FD(x, XLB_MAP_VIPS), k);
	}
	if (err)
		return err;
	marker_key(k, &mk);
	err = sys_err(bpf_map_update_elem(MAP_FD(x, XLB_MAP_VIPS), &mk, &mv, BPF_ANY));
	if (err)
		return err;
	return vfilter_update(x, xlb_vfilter_bit(k->addr, vip_nwords(k->family)), true);
}

int xlb_vip_get(struct xlb *x, const struct xlb_vip_key *k, struct xlb_vip *v)
{
	return sys_err(bpf_map_lookup_elem(MAP_FD(x, XLB_MAP_VIPS), k, v));
}

int xlb_vip_del(struct xlb *x, const struct xlb_vip_key *k)
{
	int fd = MAP_FD(x, XLB_MAP_VIPS);
	struct xlb_vip_key cur, next, mk;
	bool addr_used = false, bit_used = false;
	__u32 bit = xlb_vfilter_bit(k->addr, vip_nwords(k->family));
	void *prev = NULL;
	int err;

	err = vip_key_check(k);
	if (err)
		return err;
	err = sys_err(bpf_map_delete_elem(fd, k));
	if (err)
		return err;
	err = viptab_del(x, k);
	if (err)
		return err;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		cur = next;
		prev = &cur;
		if (cur.proto == XLB_PROTO_ADDR_MARKER) {
			if (!(cur.family == k->family &&
			      !memcmp(cur.addr, k->addr, sizeof(cur.addr))) &&
			    xlb_vfilter_bit(cur.addr, vip_nwords(cur.family)) == bit)
				bit_used = true;
			continue;
		}
		if (cur.family == k->family && !memcmp(cur.addr, k->addr, sizeof(cur.addr)))
			addr_used = true;
	}
	if (addr_used)
		return 0;
	if (!bit_used) {
		err = vfilter_update(x, bit, false);
		if (err)
			return err;
	}
	marker_key(k, &mk);
	err = sys_err(bpf_map_delete_elem(fd, &mk));
	return err == -ENOENT ? 0 : err;
}

/*
 * After a write to the backends map: bump xlb_config.be_gen, so that every
 * CPU's copy of the entries (struct xlb_be_cache) is taken again.  The entry
 * is written first, so a copy taken under the new generation is the new one.
 */
static int be_gen_bump(struct xlb *x)
{
	struct xlb_config c;
	int err;

	err = xlb_config_get(x, &c);
	if (err)
		return err;
	if (!++c.be_gen)
		c.be_gen = 1;
	return config_write(x, &c);
}

int xlb_backend_set(struct xlb *x, __u32 id, const struct xlb_backend *b)
{
	int err;

	if (!id || id >= x->max_backends)
		return -ERANGE;
	if (b->family != XLB_AF_INET && b->family != XLB_AF_INET6)
		return -EAFNOSUPPORT;
	err = sys_err(bpf_map_update_elem(MAP_FD(x, XLB_MAP_BACKENDS), &id, b, BPF_ANY));
	return err ?: be_gen_bump(x);
}

int xlb_backend_get(struct xlb *x, __u32 id, struct xlb_backend *b)
{
	if (!id || id >= x->max_backends)
		return -ERANGE;
	return sys_err(bpf_map_lookup_elem(MAP_FD(x, XLB_MAP_BACKENDS), &id, b));
}

int xlb_backend_del(struct xlb *x, __u32 id)
{
	struct xlb_backend zero = {};
	int err;

	if (!id || id >= x->max_backends)
		return -ERANGE;
	err = sys_err(bpf_map_update_elem(MAP_FD(x, XLB_MAP_BACKENDS), &id, &zero, BPF_ANY));
	return err ?: be_gen_bump(x);
}

static size_t ring_bytes(__u32 m)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (size_t)XLB_RING_ELEMS(m) * 8;

	return (len + page - 1) / page * page;
}

static int publish_to(struct xlb *x, int outer, __u32 vip_id, const __u32 *ring, __u32 m);
static int read_from(struct xlb *x, int outer, __u32 vip_id, __u32 **ring, __u32 *m);

int xlb_ring_publish(struct xlb *x, __u32 vip_id, const __u32 *ring, __u32 m)
{
	return publish_to(x, MAP_FD(x, XLB_MAP_RINGS), vip_id, ring, m);
}

int xlb_anchor_store(struct xlb *x, __u32 vip_id, const __u32 *ring, __u32 m)
{
	return publish_to(x, MAP_FD(x, XLB_MAP_ANCHORS), vip_id, ring, m);
}

int xlb_ring_read(struct xlb *x, __u32 vip_id, __u32 **ring, __u32 *m)
{
	return read_from(x, MAP_FD(x, XLB_MAP_RINGS), vip_id, ring, m);
}

int xlb_anchor_read(struct xlb *x, __u32 vip_id, __u32 **ring, __u32 *m)
{
	return read_from(x, MAP_FD(x, XLB_MAP_ANCHORS), vip_id, ring, m);
}

static int publish_to(struct xlb *x, int outer, __u32 vip_id, const __u32 *ring, __u32 m)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	size_t len;
	__u32 *p = MAP_FAILED;
	int fd, err;

	if (!vip_id || vip_id >= x->max_vips)
		return -ERANGE;
	if (!m || m > XLB_MAX_RING_SIZE)
		return -EINVAL;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_ring", sizeof(__u32), 8,
			    XLB_RING_ELEMS(m), &mo);
	if (fd < 0)
		return -errno;
	len = ring_bytes(m);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	p[0] = m;
	p[1] = 0;
	memcpy(p + 2 * XLB_RING_HDR, ring, (size_t)m * sizeof(*ring));
	err = sys_err(bpf_map_update_elem(outer, &vip_id, &fd, BPF_ANY));
out:
	if (p != MAP_FAILED)
		munmap(p, len);
	close(fd);
	return err;
}

int xlb_ring_clear(struct xlb *x, __u32 vip_id)
{
	int err;

	if (!vip_id || vip_id >= x->max_vips)
		return -ERANGE;
	err = sys_err(bpf_map_delete_elem(MAP_FD(x, XLB_MAP_RINGS), &vip_id));
	if (!err || err == -ENOENT)
		err = sys_err(bpf_map_delete_elem(MAP_FD(x, XLB_MAP_ANCHORS), &vip_id));
	return err == -ENOENT ? 0 : err;
}

static int read_from(struct xlb *x, int outer, __u32 vip_id, __u32 **ring, __u32 *m)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), inner_id, *p = MAP_FAILED, *r = NULL;
	size_t len = 0;
	int fd = -1, err;

	if (!vip_id || vip_id >= x->max_vips)
		return -ERANGE;
	err = sys_err(bpf_map_lookup_elem(outer, &vip_id, &inner_id));
	if (err)
		return err;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	err = sys_err(bpf_obj_get_info_by_fd(fd, &info, &info_len));
	if (err)
		goto out;
	len = (size_t)info.max_entries * 8;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	if (!p[0] || XLB_RING_ELEMS(p[0]) > info.max_entries) {
		err = -EUCLEAN;
		goto out;
	}
	r = malloc((size_t)p[0] * sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(r, p + 2 * XLB_RING_HDR, (size_t)p[0] * sizeof(*r));
	*m = p[0];
	*ring = r;
out:
	if (p != MAP_FAILED)
		munmap(p, len);
	close(fd);
	return err;
}

int xlb_config_get(struct xlb *x, struct xlb_config *c)
{
	__u32 k = XLB_HOT_CONFIG;
	union xlb_hot h;

	if (bpf_map_lookup_elem(MAP_FD(x, XLB_MAP_HOT), &k, &h))
		return -errno;
	*c = h.cfg;
	return 0;
}

/* The seed, the backends generation, the counter block sizes and hz are
 * libxlb's: whatever @c holds there, the current ones are kept. */
int xlb_config_set(struct xlb *x, const struct xlb_config *c)
{
	struct xlb_config cur, nc = *c;
	int err;

	err = xlb_config_get(x, &cur);
	if (err)
		return err;
	config_own(x, &nc, cur.be_gen);
	return config_write(x, &nc);
}

int xlb_devmap_add(struct xlb *x, __u32 ifindex)
{
	return sys_err(bpf_map_update_elem(MAP_FD(x, XLB_MAP_DEVMAP), &ifindex, &ifindex, BPF_ANY));
}

int xlb_devmap_del(struct xlb *x, __u32 ifindex)
{
	return sys_err(bpf_map_delete_elem(MAP_FD(x, XLB_MAP_DEVMAP), &ifindex));
}

/*
 * The counter maps hold one block of @max values of @stride u64 words per
 * CPU.  Sum the first @nwords words of id @id over the CPUs into @out.
 */
static int flat_sum(struct xlb *x, int fd, __u32 max, __u32 id, __u64 *out, size_t nwords,
		    size_t stride)
{
	__u64 *val;
	size_t i;
	int cpu, err = 0;

	val = calloc(stride, sizeof(__u64));
	if (!val)
		return -ENOMEM;
	memset(out, 0, nwords * sizeof(__u64));
	for (cpu = 0; cpu < x->ncpus && !err; cpu++) {
		__u32 k = (__u32)cpu * max + id;

		err = sys_err(bpf_map_lookup_elem(fd, &k, val));
		for (i = 0; !err && i < nwords; i++)
			out[i] += val[i];
	}
	free(val);
	return err;
}

/* Zero id @id's value on every CPU. */
static int flat_zero(struct xlb *x, int fd, __u32 max, __u32 id, size_t stride)
{
	__u64 *val;
	int cpu, err = 0;

	val = calloc(stride, sizeof(__u64));
	if (!val)
		return -ENOMEM;
	for (cpu = 0; cpu < x->ncpus && !err; cpu++) {
		__u32 k = (__u32)cpu * max + id;

		err = sys_err(bpf_map_update_elem(fd, &k, val, BPF_ANY));
	}
	free(val);
	return err;
}

#define NWORDS(t) (sizeof(t) / sizeof(__u64))

/* The global counters: one entry per CPU in the hot map, after the VIP
 * filter (union xlb_hot). */
int xlb_stats_global(struct xlb *x, struct xlb_global_stats *out)
{
	int fd = MAP_FD(x, XLB_MAP_HOT);
	union xlb_hot h;
	__u32 cpu, k;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (cpu = 0; cpu < (__u32)x->ncpus; cpu++) {
		k = XLB_HOT_GSTATS + cpu;
		if (bpf_map_lookup_elem(fd, &k, &h))
			return -errno;
		for (i = 0; i < XLB_VERDICT_SLOTS; i++)
			out->verdict[i] += h.g.verdict[i];
		for (i = 0; i < XLB_REASON_SLOTS; i++)
			out->reason[i] += h.g.reason[i];
	}
	xlb_stats_global_fold(out);
	return 0;
}

int xlb_stats_vip(struct xlb *x, __u32 vip_id, struct xlb_counters *out)
{
	if (vip_id >= x->max_vips)
		return -ERANGE;
	return flat_sum(x, MAP_FD(x, XLB_MAP_VIP_STATS), x->max_vips, vip_id, (__u64 *)out,
			NWORDS(*out), NWORDS(*out));
}

int xlb_stats_backend(struct xlb *x, __u32 id, struct xlb_counters *out)
{
	if (id >= x->max_backends)
		return -ERANGE;
	return flat_sum(x, MAP_FD(x, XLB_MAP_BACKEND_STATS), x->max_backends, id,
			(__u64 *)out, NWORDS(*out), NWORDS(struct xlb_backend_pcpu));
}

int xlb_stats_vip_reset(struct xlb *x, __u32 vip_id)
{
	if (vip_id >= x->max_vips)
		return -ERANGE;
	return flat_zero(x, MAP_FD(x, XLB_MAP_VIP_STATS), x->max_vips, vip_id,
			 NWORDS(struct xlb_counters));
}

int xlb_stats_backend_reset(struct xlb *x, __u32 id)
{
	if (id >= x->max_backends)
		return -ERANGE;
	return flat_zero(x, MAP_FD(x, XLB_MAP_BACKEND_STATS), x->max_backends, id,
			 NWORDS(struct xlb_backend_pcpu));
}

/*
 * Sum ids @first..@first+@n-1 of a counter array with one block of @max
 * entries per CPU (key cpu * max + id; @stride u64 words a value, the
 * first @nwords summed) into @out, with batch reads of up to CHUNK keys.
 */
static int flat_sum_range(struct xlb *x, int fd, __u32 max, __u32 first, __u32 n, __u64 *out,
			  size_t nwords, size_t stride)
{
	enum { CHUNK = 1024 };
	__u32 *keys = NULL, in, next, i, cpu, base, done, count;
	__u64 *vals = NULL;
	int ret, err = 0;
	size_t w;

	memset(out, 0, (size_t)n * nwords * sizeof(__u64));
	keys = calloc(CHUNK, sizeof(*keys));
	vals = calloc(CHUNK, stride * sizeof(__u64));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (cpu = 0; cpu < (__u32)x->ncpus; cpu++) {
		base = cpu * max + first;
		for (done = 0; done < n; done += count) {
			/* A batch starts after the key passed in: NULL for key 0. */
			in = base + done - 1;
			count = n - done < CHUNK ? n - done : CHUNK;
			ret = bpf_map_lookup_batch(fd, base + done ? &in : NULL, &next, keys, vals,
						   &count, NULL);
			if (ret && errno != ENOENT) {
				err = -errno;
				goto out;
			}
			for (i = 0; i < count; i++) {
				if (keys[i] < base || keys[i] - base >= n)
					continue;
				for (w = 0; w < nwords; w++)
					out[(size_t)(keys[i] - base) * nwords + w] +=
						vals[(size_t)i * stride + w];
			}
			if (ret || !count)
				break;	/* ENOENT: the end of the array */
		}
	}
out:
	free(keys);
	free(vals);
	return err;
}

int xlb_stats_vips(struct xlb *x, __u32 first, __u32 n, struct xlb_counters *out)
{
	if (first > x->max_vips || n > x->max_vips - first)
		return -ERANGE;
	return flat_sum_range(x, MAP_FD(x, XLB_MAP_VIP_STATS), x->max_vips, first, n,
			      (__u64 *)out, NWORDS(*out), NWORDS(*out));
}

int xlb_stats_backends(struct xlb *x, __u32 first, __u32 n, struct xlb_counters *out)
{
	if (first > x->max_backends || n > x->max_backends - first)
		return -ERANGE;
	return flat_sum_range(x, MAP_FD(x, XLB_MAP_BACKEND_STATS), x->max_backends, first, n,
			      (__u64 *)out, NWORDS(*out), NWORDS(struct xlb_backend_pcpu));
}

int xlb_conntrack_count(struct xlb *x, __u64 *n)
{
	enum { CHUNK = 4096 };
	int fd = MAP_FD(x, XLB_MAP_CONNTRACK), err = 0;
	struct xlb_flow_key *keys;
	struct xlb_flow *vals;
	__u64 in = 0, out = 0;
	bool first = true;

	*n = 0;
	keys = calloc(CHUNK, sizeof(*keys));
	vals = calloc(CHUNK, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = CHUNK;
		int ret = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count,
					       NULL);

		if (ret && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		*n += count;
		if (ret)
			break;	/* ENOENT: that was the last batch */
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return err;
}
