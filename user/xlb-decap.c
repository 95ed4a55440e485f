// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlb-decap: install the backend-side decapsulator (bpf/decap.bpf.c) on an
 * interface and leave it running.
 *
 * The program is attached with a bpf_link.  The link and both maps are
 * pinned under <pin root>/<IFACE>/, so the decapsulator outlives this tool
 * and `detach` and `stats` find it again.  Pin layout (one directory per
 * interface):
 *
 *	<root>/<IFACE>/link			the XDP bpf_link
 *	<root>/<IFACE>/xlb_decap_addrs_v1	accepted outer destinations
 *	<root>/<IFACE>/xlb_decap_stats_v1	per-CPU counters
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/xlb.h>
#include "decap.skel.h"
#include "addr.h"
#include "log.h"
#include "xlb.h"

#define PIN_ROOT_DEFAULT	"/sys/fs/bpf/xlb-decap"
#define LINK_PIN		"link"
#define MAP_ADDRS		XLB_STR(XLB_MAP_DECAP_ADDRS)
#define MAP_STATS		XLB_STR(XLB_MAP_DECAP_STATS)

/* Exit codes: 1 the command failed (bad arguments included), 2 the options
 * or the command name are wrong. */
#define EXIT_USAGE		2

struct opts {
	const char *pin_root;
	bool generic;
	bool json;
};

static const char *const counter_names[XLB_DC_MAX] = {
	[XLB_DC_DECAP4] = "decap4",
	[XLB_DC_DECAP6] = "decap6",
	[XLB_DC_NOT_OURS] = "not_ours",
	[XLB_DC_MALFORMED] = "malformed",
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlb-decap [-v] COMMAND [ARGS] [OPTIONS]\n"
		"\n"
		"Remove xlb's outer IPv4/IPv6 header (IPIP, IP6IP6, 4-in-6, 6-in-4) in XDP on a\n"
		"backend's interface, for packets sent to one of the given tunnel addresses.\n"
		"The program stays attached after xlb-decap exits.\n"
		"\n"
		"Commands:\n"
		"  attach IFACE ADDR [ADDR...]  attach and accept tunnel packets to each ADDR\n"
		"                               (IPv4 or IPv6, at most %d)\n"
		"  detach IFACE                 detach and remove the pins\n"
		"  stats IFACE                  print the counters summed over CPUs\n"
		"  show IFACE                   print the link and the accepted addresses\n"
		"  help                         print this text\n"
		"\n"
		"Options:\n"
		"  --generic        attach in generic (skb) mode; default is native (driver) XDP\n"
		"  --pin-root DIR   pins go under DIR/IFACE/ (default %s)\n"
		"  -j, --json       JSON output for stats and show\n"
		"  -v, --verbose    more messages (twice: libbpf debug)\n"
		"  -h, --help       print this text\n"
		"\n"
		"Commands may be abbreviated to an unambiguous prefix.\n",
		XLB_DECAP_MAX_ADDRS, PIN_ROOT_DEFAULT);
}

/* "<root>/<iface>[/<name>]" into path[PATH_MAX]. */
static int pin_path(char *path, const char *root, const char *iface, const char *name)
{
	int n;

	if (name)
		n = snprintf(path, PATH_MAX, "%s/%s/%s", root, iface, name);
	else
		n = snprintf(path, PATH_MAX, "%s/%s", root, iface);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* The interface name becomes a directory name: refuse anything that could
 * escape the pin root. */
static int iface_check(const char *iface)
{
	if (!*iface || strlen(iface) >= IFNAMSIZ || strchr(iface, '/') ||
	    !strcmp(iface, ".") || !strcmp(iface, "..")) {
		pr_warn("xlb-decap: invalid interface name '%s'\n", iface);
		return -EINVAL;
	}
	return 0;
}

/* Remove the pins this tool creates for @iface and its directory.  Returns
 * 0, or the first error other than "not there". */
static int unpin_all(const char *root, const char *iface)
{
	static const char *const names[] = { LINK_PIN, MAP_ADDRS, MAP_STATS };
	char path[PATH_MAX];
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (pin_path(path, root, iface, names[i]))
			return -ENAMETOOLONG;
		if (unlink(path) && errno != ENOENT && !err) {
			err = -errno;
			pr_warn("xlb-decap: cannot remove %s: %s\n", path, strerror(-err));
		}
	}
	if (pin_path(path, root, iface, NULL))
		return -ENAMETOOLONG;
	if (rmdir(path) && errno != ENOENT && !err) {
		err = -errno;
		pr_warn("xlb-decap: cannot remove %s: %s\n", path, strerror(-err));
	}
	/* The root goes too once the last interface is gone; a root that
	 * still holds something else is left alone. */
	rmdir(root);
	return err;
}

/*
 * Look at the link pinned for @iface.  Returns 1 when it is attached to a
 * device, 0 when there is no pin or the link is defunct (its device went
 * away), or a negative errno.  *ifindex gets the device when attached.
 */
static int pinned_link_state(const char *root, const char *iface, __u32 *ifindex)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	err = pin_path(path, root, iface, LINK_PIN);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if (info.type != BPF_LINK_TYPE_XDP)
		return -EUCLEAN;
	*ifindex = info.xdp.ifindex;
	return info.xdp.ifindex ? 1 : 0;
}

static int pin_maps_and_link(struct decap_bpf *skel, int link_fd, const char *root,
			     const char *iface)
{
	char path[PATH_MAX];
	int err;

	err = pin_path(path, root, iface, NULL);
	if (!err)
		err = xlb_mkdir_p(path);
	if (err) {
		pr_warn("xlb-decap: cannot create %s: %s\n", path, strerror(-err));
		return err;
	}
	err = pin_path(path, root, iface, MAP_ADDRS);
	if (!err)
		err = bpf_map__pin(skel->maps.XLB_MAP_DECAP_ADDRS, path);
	if (err)
		goto out;
	err = pin_path(path, root, iface, MAP_STATS);
	if (!err)
		err = bpf_map__pin(skel->maps.XLB_MAP_DECAP_STATS, path);
	if (err)
		goto out;
	/* The link last: its pin is what marks a complete installation. */
	err = pin_path(path, root, iface, LINK_PIN);
	if (!err && bpf_obj_pin(link_fd, path))
		err = -errno;
out:
	if (err)
		pr_warn("xlb-decap: cannot pin %s: %s\n", path, strerror(-err));
	return err;
}

static int cmd_attach(const struct opts *o, int argc, char **argv)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	struct xlb_decap_key keys[XLB_DECAP_MAX_ADDRS];
	const char *iface, *mode = o->generic ? "generic" : "native";
	struct decap_bpf *skel = NULL;
	unsigned int ifindex;
	__u32 one = 1, cur_ifindex = 0;
	int i, n, fd = -1, err, quiet;
	bool pinned = false;

	if (argc < 2) {
		pr_warn("xlb-decap: attach needs IFACE and at least one ADDR\n");
		return -EINVAL;
	}
	iface = argv[0];
	err = iface_check(iface);
	if (err)
		return err;
	n = argc - 1;
	if (n > XLB_DECAP_MAX_ADDRS) {
		pr_warn("xlb-decap: %d addresses given, at most %d are accepted\n", n,
			XLB_DECAP_MAX_ADDRS);
		return -E2BIG;
	}
	memset(keys, 0, sizeof(keys));
	for (i = 0; i < n; i++) {
		if (xlb_addr_parse(argv[i + 1], keys[i].addr, &keys[i].family)) {
			pr_warn("xlb-decap: invalid address '%s': expected IPv4 or IPv6\n",
				argv[i + 1]);
			return -EINVAL;
		}
	}
	ifindex = if_nametoindex(iface);
	if (!ifindex) {
		pr_warn("xlb-decap: no interface '%s'\n", iface);
		return -ENODEV;
	}

	err = pinned_link_state(o->pin_root, iface, &cur_ifindex);
	if (err < 0) {
		pr_warn("xlb-decap: cannot inspect the pins of %s under %s: %s\n", iface,
			o->pin_root, strerror(-err));
		return err;
	}
	if (err > 0) {
		pr_warn("xlb-decap: already attached to %s (pins in %s/%s): run 'xlb-decap detach %s' first\n",
			iface, o->pin_root, iface, iface);
		return -EEXIST;
	}
	/* Leftovers of an interface that went away, or of a failed run. */
	err = unpin_all(o->pin_root, iface);
	if (err)
		return err;

	skel = decap_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		pr_warn("xlb-decap: cannot load the BPF program: %s\n", strerror(-err));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (bpf_map__update_elem(skel->maps.XLB_MAP_DECAP_ADDRS, &keys[i],
					 sizeof(keys[i]), &one, sizeof(one), BPF_ANY)) {
			err = -errno;
			pr_warn("xlb-decap: cannot add address '%s': %s\n", argv[i + 1],
				strerror(-err));
			goto out;
		}
	}

	lo.flags = o->generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	quiet = xlb_log_libbpf_quiet();
	fd = bpf_link_create(bpf_program__fd(skel->progs.xlb_decap), (int)ifindex, BPF_XDP, &lo);
	err = fd < 0 ? -errno : 0;
	xlb_log_libbpf_restore(quiet);
	if (err) {
		if (err == -EBUSY || err == -EEXIST)
			pr_warn("xlb-decap: %s already has an XDP program: remove it first\n", iface);
		else if (!o->generic && err == -EOPNOTSUPP)
			pr_warn("xlb-decap: native XDP not supported by %s: try --generic\n", iface);
		else if (!o->generic)
			pr_warn("xlb-decap: native XDP refused by %s: %s (check its MTU and queue counts, or try --generic)\n",
				iface, strerror(-err));
		else
			pr_warn("xlb-decap: cannot attach to %s: %s\n", iface, strerror(-err));
		goto out;
	}

	err = pin_maps_and_link(skel, fd, o->pin_root, iface);
	if (err)
		goto out;
	pinned = true;
	printf("xlb-decap: attached to %s (%s XDP, %d address%s), pins in %s/%s\n", iface, mode, n,
	       n == 1 ? "" : "es", o->pin_root, iface);
out:
	/* Closing an unpinned link detaches the program. */
	if (fd >= 0)
		close(fd);
	if (err && !pinned)
		unpin_all(o->pin_root, iface);
	decap_bpf__destroy(skel);
	return err;
}

static int cmd_detach(const struct opts *o, int argc, char **argv)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const char *iface;
	struct stat st;
	int fd = -1, err;

	if (argc != 1) {
		pr_warn("xlb-decap: detach needs exactly one IFACE\n");
		return -EINVAL;
	}
	iface = argv[0];
	err = iface_check(iface);
	if (err)
		return err;
	err = pin_path(path, o->pin_root, iface, LINK_PIN);
	if (!err)
		err = pin_path(dir, o->pin_root, iface, NULL);
	if (err)
		return err;

	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT && !stat(dir, &st)) {
			/* Maps left without a link: nothing runs, tidy up. */
			pr_warn("xlb-decap: no link pinned for %s, removing the leftover pins\n",
				iface);
			err = unpin_all(o->pin_root, iface);
		} else if (err == -ENOENT) {
			pr_warn("xlb-decap: not attached to %s (no pin at %s)\n", iface, path);
		} else {
			pr_warn("xlb-decap: cannot open %s: %s\n", path, strerror(-err));
		}
		goto out;
	}
	/* A link whose device is gone detaches as a no-op. */
	if (bpf_link_detach(fd)) {
		err = -errno;
		pr_warn("xlb-decap: cannot detach from %s: %s\n", iface, strerror(-err));
		goto out;
	}
	err = unpin_all(o->pin_root, iface);
	if (!err)
		printf("xlb-decap: detached from %s\n", iface);
out:
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * Open the map pinned as @name for @iface and check that it has the
 * layout this build expects.
 */
static int open_pinned_map(const struct opts *o, const char *iface, const char *name,
			   __u32 type, __u32 key_size, __u32 value_size, __u32 min_entries,
			   int *out)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	err = pin_path(path, o->pin_root, iface, name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			pr_warn("xlb-decap: not attached to %s (no pin at %s)\n", iface, path);
		else
			pr_warn("xlb-decap: cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		pr_warn("xlb-decap: cannot inspect %s: %s\n", path, strerror(-err));
		goto out;
	}
	if (info.type != type || info.key_size != key_size || info.value_size != value_size ||
	    info.max_entries < min_entries) {
		pr_warn("xlb-decap: %s has another layout than this xlb-decap expects\n", path);
		err = -EUCLEAN;
		goto out;
	}
	*out = fd;
	return 0;
out:
	close(fd);
	return err;
}

static int cmd_stats(const struct opts *o, int argc, char **argv)
{
	__u64 sum[XLB_DC_MAX] = {}, *vals = NULL;
	const char *iface;
	int ncpus, fd = -1, err, cpu;
	__u32 i;

	if (argc != 1) {
		pr_warn("xlb-decap: stats needs exactly one IFACE\n");
		return -EINVAL;
	}
	iface = argv[0];
	err = iface_check(iface);
	if (err)
		return err;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	err = open_pinned_map(o, iface, MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
			      sizeof(__u64), XLB_DC_MAX, &fd);
	if (err)
		return err;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < XLB_DC_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			err = -errno;
			pr_warn("xlb-decap: cannot read counter %s: %s\n", counter_names[i],
				strerror(-err));
			goto out;
		}
		for (cpu = 0; cpu < ncpus; cpu++)
			sum[i] += vals[cpu];
	}
	if (o->json) {
		printf("{\"iface\":\"%s\"", iface);
		for (i = 0; i < XLB_DC_MAX; i++)
			printf(",\"%s\":%llu", counter_names[i], (unsigned long long)sum[i]);
		printf("}\n");
	} else {
		for (i = 0; i < XLB_DC_MAX; i++)
			printf("%-10s %llu\n", counter_names[i], (unsigned long long)sum[i]);
	}
out:
	free(vals);
	close(fd);
	return err;
}

static int cmd_show(const struct opts *o, int argc, char **argv)
{
	struct xlb_decap_key cur, next;
	char buf[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE];
	const char *iface, *sep = "";
	__u32 ifindex = 0;
	void *prev = NULL;
	int fd = -1, err, state;

	if (argc != 1) {
		pr_warn("xlb-decap: show needs exactly one IFACE\n");
		return -EINVAL;
	}
	iface = argv[0];
	err = iface_check(iface);
	if (err)
		return err;
	err = open_pinned_map(o, iface, MAP_ADDRS, BPF_MAP_TYPE_HASH, sizeof(struct xlb_decap_key),
			      sizeof(__u32), 1, &fd);
	if (err)
		return err;
	state = pinned_link_state(o->pin_root, iface, &ifindex);
	if (state < 0) {
		err = state;
		pr_warn("xlb-decap: cannot inspect the link of %s: %s\n", iface, strerror(-err));
		goto out;
	}
	/* The ifindex is the link's; its name is looked up in our namespace. */
	if (!state || !if_indextoname(ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "%s", state ? "?" : "-");
	if (o->json)
		printf("{\"iface\":\"%s\",\"attached\":%s,\"ifindex\":%u,\"addrs\":[", iface,
		       state ? "true" : "false", ifindex);
	else
		printf("iface    %s\nattached %s (ifindex %u, %s)\n", iface, state ? "yes" : "no",
		       ifindex, ifname);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		cur = next;
		prev = &cur;
		xlb_addr_fmt(cur.addr, cur.family, buf, sizeof(buf));
		if (o->json)
			printf("%s\"%s\"", sep, buf);
		else
			printf("addr     %s\n", buf);
		sep = ",";
	}
	if (o->json)
		printf("]}\n");
out:
	close(fd);
	return err;
}

static int cmd_help(const struct opts *o, int argc, char **argv)
{
	(void)o;
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

struct cmd {
	const char *name;
	int (*fn)(const struct opts *o, int argc, char **argv);
};

static const struct cmd cmds[] = {
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "stats", cmd_stats },
	{ "show", cmd_show },
	{ "help", cmd_help },
};

/* The command named exactly @s, or the only one @s is a prefix of. */
static const struct cmd *cmd_find(const char *s)
{
	const struct cmd *found = NULL;
	size_t i, len = strlen(s);

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cmds[i].name, s))
			return &cmds[i];
		if (len && !strncmp(cmds[i].name, s, len)) {
			if (found) {
				pr_warn("xlb-decap: ambiguous command '%s' (%s or %s?)\n", s,
					found->name, cmds[i].name);
				return NULL;
			}
			found = &cmds[i];
		}
	}
	if (!found)
		pr_warn("xlb-decap: unknown command '%s': try 'xlb-decap help'\n", s);
	return found;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "generic", no_argument, NULL, 'g' },
		{ "pin-root", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct opts o = { .pin_root = PIN_ROOT_DEFAULT };
	const struct cmd *cmd;
	int c, verbose = 0, err;
	size_t len;

	xlb_log_libbpf();
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jvh", lopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			o.generic = true;
			break;
		case 'p':
			o.pin_root = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			pr_warn("xlb-decap: option '%s' needs an argument\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			pr_warn("xlb-decap: unknown option '%s': try 'xlb-decap help'\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	xlb_log_set_level(verbose >= 2 ? XLB_LOG_DEBUG : verbose ? XLB_LOG_INFO : XLB_LOG_WARN);

	len = strlen(o.pin_root);
	while (len > 1 && o.pin_root[len - 1] == '/')
		len--;
	if (!len || len >= PATH_MAX - IFNAMSIZ - 32) {
		pr_warn("xlb-decap: invalid --pin-root '%s'\n", o.pin_root);
		return EXIT_USAGE;
	}
	if (len != strlen(o.pin_root))
		o.pin_root = strndup(o.pin_root, len);
	if (!o.pin_root)
		return 1;

	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = cmd_find(argv[optind]);
	if (!cmd)
		return EXIT_USAGE;
	if (o.generic && cmd->fn != cmd_attach) {
		pr_warn("xlb-decap: --generic only applies to attach\n");
		return EXIT_USAGE;
	}
	err = cmd->fn(&o, argc - optind - 1, argv + optind + 1);
	return err ? 1 : 0;
}
