// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlbd: the xlb daemon.  It loads the configuration (or the last accepted
 * state), loads or adopts the pinned data plane, attaches to the configured
 * interfaces with pinned bpf_links (upgrading an adopted link's program in
 * place), programs VIPs, backends and rings, and serves the control socket.
 * Exiting leaves the data plane forwarding unless asked to detach.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>
#include "api.h"
#include "config.h"
#include "ctlsock.h"
#include "hcmgr.h"
#include "hcpath.h"
#include "lb.h"
#include "log.h"
#include "metrics.h"
#include "xlb.h"

#define DEF_CONFIG "/etc/xlb/xlb.json"

struct daemon {
	const char *config_path;
	const char *state_path;		/* override of the config's state_file */
	const char *socket_path;	/* override of control.socket */
	bool detach_on_exit;
	bool replace;
	bool stop;
	bool detach_requested;
	struct xlb_api api;
	struct xlb_ctl *ctl;
	struct xlb_hm *hm;		/* health checks */
	struct xlb_hcpath *hcpath;	/* data-path probe encapsulator, once needed */
	json_t *ifaces;			/* status: [{name, mode, link_id, adopted}] */
	struct xlb_metrics_src msrc;	/* what /metrics renders (.hc: the health engine) */
	struct xlb_metrics *metrics;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlbd [--config FILE] [--state FILE] [--socket PATH] [--detach-on-exit]\n"
		"            [--replace] [-v]\n"
		"       xlbd --check-config FILE\n"
		"\n"
		"  --config FILE      configuration (default " DEF_CONFIG "); read at start when\n"
		"                     no state file exists, and on SIGHUP / xlbctl config reload\n"
		"  --state FILE       the last accepted state (default: the config's state_file);\n"
		"                     loaded at start in preference to --config\n"
		"  --socket PATH      control socket (default: the config's control.socket)\n"
		"  --detach-on-exit   detach from the interfaces and unpin when exiting\n"
		"  --replace          replace pinned objects of another layout instead of refusing\n"
		"  --check-config F   validate F and exit (0: valid, 1: invalid)\n"
		"  -v                 more messages (twice: debug, with libbpf's)\n");
}

/* The pinned names of this layout; anything else named xlb_* under the pin
 * root belongs to another layout version. */
static int check_layout(const char *root, const char **other)
{
	static char name[256];
	static const char *const ours[] = {
		XLB_STR(XLB_MAP_VIPS), XLB_STR(XLB_MAP_BACKENDS), XLB_STR(XLB_MAP_RINGS),
		XLB_STR(XLB_MAP_ANCHORS),
		XLB_STR(XLB_MAP_CONNTRACK), XLB_STR(XLB_MAP_VIP_STATS),
		XLB_STR(XLB_MAP_BACKEND_STATS), XLB_STR(XLB_MAP_DEVMAP),
		XLB_STR(XLB_MAP_HOT),
		XLB_STR(XLB_MAP_FLOW_CACHE), NULL,
	};
	struct dirent *de;
	DIR *d = opendir(root);
	int i;

	*other = NULL;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "xlb_", 4))
			continue;
		for (i = 0; ours[i] && strcmp(ours[i], de->d_name); i++)
			;
		if (!ours[i]) {
			snprintf(name, sizeof(name), "%s", de->d_name);
			*other = name;
			break;
		}
	}
	closedir(d);
	return 0;
}

/* Attach to @ifc, or adopt the link an earlier xlbd pinned for it and
 * point it at this instance's program (atomic, no detach). */
static int attach_iface(struct daemon *dm, const struct xlb_cfg_iface *ifc)
{
	struct xlb *x = dm->api.lb->x;
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	bool adopted = false;
	int fd, err;

	snprintf(path, sizeof(path), "%s/link_%s", xlb_pin_root(x), ifc->name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_link_update(fd, xlb_prog_fd(x), NULL);
		if (err) {
			err = -errno;
			pr_warn("xlbd: cannot update the pinned link on %s: %s\n", ifc->name,
				strerror(-err));
			close(fd);
			return err;
		}
		adopted = true;
		err = xlb_devmap_add(x, if_nametoindex(ifc->name));
	} else {
		err = xlb_attach(x, ifc->name,
				 ifc->mode == XLB_CFG_MODE_GENERIC ? XLB_MODE_GENERIC : XLB_MODE_NATIVE);
		if (err)
			return err;
		fd = bpf_obj_get(path);
	}
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		json_array_append_new(dm->ifaces,
				      json_pack("{s:s, s:s, s:i, s:b}", "name", ifc->name, "mode",
						ifc->mode == XLB_CFG_MODE_GENERIC ? "generic" : "native",
						"link_id", (int)info.id, "adopted", adopted));
		pr_info("xlbd: %s %s (link %u)\n", adopted ? "adopted" : "attached to", ifc->name,
			info.id);
	}
	if (fd >= 0)
		close(fd);
	return err;
}

static json_t *status_extra(void *ctx)
{
	struct daemon *dm = ctx;

	__u64 ct = 0;

	xlb_conntrack_count(dm->api.lb->x, &ct);
	return json_pack("{s:s, s:O, s:s, s:I, s:I, s:I, s:I, s:I}", "daemon", "running",
			 "interfaces", dm->ifaces, "pin_root", dm->api.cfg->pin_root, "requests",
			 (json_int_t)dm->api.requests, "request_errors", (json_int_t)dm->api.errors,
			 "conntrack_entries", (json_int_t)ct, "conntrack_capacity",
			 (json_int_t)dm->api.cfg->limits.conntrack, "reloads",
			 (json_int_t)dm->api.reloads);
}

/* Every accepted configuration: health checks follow it. */
static void applied(void *ctx, const struct xlb_cfg *cfg)
{
	struct daemon *dm = ctx;
	__u32 i;
	int ret;

	/* Data-path probes leave through the interfaces' egress program;
	 * attaching again replaces it (a restarted daemon's). */
	if (!dm->hcpath && xlb_hm_needs_datapath(cfg)) {
		ret = xlb_hcpath_open(cfg->pin_root, &dm->hcpath);
		for (i = 0; !ret && i < cfg->n_ifaces; i++)
			ret = xlb_hcpath_attach(dm->hcpath, cfg->ifaces[i].name);
		if (ret)
			pr_warn("xlbd: data-path probes: cannot attach the egress program: %s; "
				"those checks will fail\n", strerror(-ret));
	}
	ret = xlb_hm_sync(dm->hm, cfg);
	if (ret)
		pr_warn("xlbd: health checks: %s\n", strerror(-ret));
}

static int handle(void *ctx, const struct xlb_ctl_peer *peer, json_t *req, json_t **reply)
{
	struct daemon *dm = ctx;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	pr_debug("xlbd: request %s from pid %d uid %u\n", cmd ? cmd : "?", (int)peer->pid,
		 (unsigned int)peer->uid);
	if (cmd && !strcmp(cmd, "detach")) {
		const char *ifname = json_string_value(json_object_get(req, "interface"));
		int err;

		if (!ifname) {
			/* Everything: detach, unpin, and exit. */
			dm->detach_requested = true;
			dm->stop = true;
			*reply = json_pack("{s:b}", "ok", 1);
			return 0;
		}
		err = xlb_detach(dm->api.cfg->pin_root, ifname);
		*reply = err ? json_pack("{s:b, s:s++}", "ok", 0, "error", "detach ", ifname, ": ",
					 strerror(-err)) :
			       json_pack("{s:b}", "ok", 1);
		return 0;
	}
	xlb_api_handle(&dm->api, req, reply);
	return 0;
}

static void detach_all(struct daemon *dm)
{
	__u32 i;

	for (i = 0; i < dm->api.cfg->n_ifaces; i++) {
		int err = xlb_detach(dm->api.cfg->pin_root, dm->api.cfg->ifaces[i].name);

		if (err && err != -ENOENT)
			pr_warn("xlbd: detach %s: %s\n", dm->api.cfg->ifaces[i].name, strerror(-err));
		err = xlb_hcpath_detach(dm->api.cfg->ifaces[i].name);
		if (err && err != -ENOENT)
			pr_warn("xlbd: detach the probe encapsulator from %s: %s\n",
				dm->api.cfg->ifaces[i].name, strerror(-err));
	}
}

static int load_initial(struct daemon *dm, struct xlb_cfg **cfg)
{
	char err[XLB_CFG_ERRLEN];
	struct xlb_cfg *c = NULL;
	const char *state;
	struct stat st;
	int ret;

	ret = xlb_config_load(dm->config_path, &c, err, sizeof(err));
	if (ret) {
		/* Without a readable config, the last accepted state will do. */
		if (!dm->state_path || stat(dm->state_path, &st)) {
			pr_warn("xlbd: %s\n", err);
			return ret;
		}
	}
	state = dm->state_path ? dm->state_path : c->state_file;
	if (!stat(state, &st)) {
		struct xlb_cfg *s = NULL;

		ret = xlb_config_load(state, &s, err, sizeof(err));
		if (ret) {
			pr_warn("xlbd: the state file is invalid: %s\n", err);
			xlb_config_free(c);
			return ret;
		}
		pr_info("xlbd: state from %s\n", state);
		xlb_config_free(c);
		c = s;
	}
	*cfg = c;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "detach-on-exit", no_argument, NULL, 'd' },
		{ "replace", no_argument, NULL, 'r' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct daemon dm = { .config_path = DEF_CONFIG };
	struct xlb_cfg *cfg = NULL;
	struct xlb_ctl_opts co = {};
	char err[XLB_CFG_ERRLEN];
	const char *other, *state;
	char *state_copy = NULL;
	struct epoll_event ev;
	sigset_t mask;
	int c, ep = -1, sfd = -1, ret = 1, verbose = 0;
	__u32 i;

	while ((c = getopt_long(argc, argv, "c:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			dm.config_path = optarg;
			break;
		case 's':
			dm.state_path = optarg;
			break;
		case 'S':
			dm.socket_path = optarg;
			break;
		case 'd':
			dm.detach_on_exit = true;
			break;
		case 'r':
			dm.replace = true;
			break;
		case 'C':
			if (xlb_config_load(optarg, &cfg, err, sizeof(err))) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			xlb_config_free(cfg);
			printf("%s: valid\n", optarg);
			return 0;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xlbd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	xlb_log_set_level(verbose >= 2 ? XLB_LOG_DEBUG : verbose ? XLB_LOG_INFO : XLB_LOG_WARN);
	xlb_log_libbpf();

	if (load_initial(&dm, &cfg))
		return 1;
	if (check_layout(cfg->pin_root, &other) == 0 && other) {
		if (!dm.replace) {
			pr_warn("xlbd: %s holds %s, from another layout version; refusing to adopt it.\n"
				"xlbd: run with --replace to detach it and start afresh (flows are re-balanced)\n",
				cfg->pin_root, other);
			goto out;
		}
		pr_warn("xlbd: --replace: removing the pins of the other layout under %s\n",
			cfg->pin_root);
		for (i = 0; i < cfg->n_ifaces; i++)
			xlb_detach(cfg->pin_root, cfg->ifaces[i].name);
		xlb_unpin_all(cfg->pin_root);
	}
	if (xlb_lb_open(cfg, &dm.api.lb)) {
		pr_warn("xlbd: cannot load or adopt the data plane under %s\n", cfg->pin_root);
		goto out;
	}
	dm.api.cfg = cfg;
	cfg = NULL;
	/* The accepted config is replaced on every change: keep our own copy
	 * of the path rather than a pointer into it. */
	state_copy = strdup(dm.state_path ? dm.state_path : dm.api.cfg->state_file);
	if (!state_copy)
		goto out;
	state = state_copy;
	dm.api.state_path = state;
	dm.api.config_path = dm.config_path;
	dm.api.status_extra = status_extra;
	dm.api.ctx = &dm;
	dm.ifaces = json_array();
	if (xlb_lb_apply(dm.api.lb, dm.api.cfg, err, sizeof(err))) {
		pr_warn("xlbd: %s\n", err);
		goto out;
	}
	for (i = 0; i < dm.api.cfg->n_ifaces; i++)
		if (attach_iface(&dm, &dm.api.cfg->ifaces[i]))
			goto out;
	{
		char *text = NULL;
		char dir[512];

		snprintf(dir, sizeof(dir), "%s", state);
		if (strrchr(dir, '/'))
			*strrchr(dir, '/') = '\0';
		xlb_mkdir_p(dir);
		if (xlb_config_dump(dm.api.cfg, &text) || xlb_state_write(state, text)) {
			pr_warn("xlbd: cannot write the state file %s\n", state);
			free(text);
			goto out;
		}
		free(text);
	}

	if (xlb_hm_open(dm.api.lb, &dm.hm)) {
		pr_warn("xlbd: cannot start the health checks\n");
		goto out;
	}
	dm.api.hc = xlb_hm_engine(dm.hm);
	dm.api.applied = applied;
	applied(&dm, dm.api.cfg);

	co.path = dm.socket_path ? dm.socket_path : dm.api.cfg->control.socket;
	co.group = dm.api.cfg->control.group;
	co.max_clients = dm.api.cfg->control.max_clients;
	co.max_request_bytes = dm.api.cfg->control.max_request_bytes;
	co.idle_timeout_ms = dm.api.cfg->control.idle_timeout_s * 1000;
	co.handle = handle;
	co.ctx = &dm;
	if (xlb_ctl_open(&co, &dm.ctl))
		goto out;
	{
		struct xlb_metrics_opts mo;

		dm.msrc.lb = dm.api.lb;
		dm.msrc.api = &dm.api;
		dm.msrc.hc = xlb_hm_engine(dm.hm);
		dm.msrc.ifaces = dm.ifaces;
		xlb_metrics_opts_from_cfg(dm.api.cfg, &mo);
		if (xlb_metrics_open(&mo, &dm.msrc, &dm.metrics))
			goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0)
		goto out;
	ev.events = EPOLLIN;
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = xlb_ctl_fd(dm.ctl);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = xlb_hm_fd(dm.hm);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = xlb_metrics_fd(dm.metrics);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);

	sd_notify(0, "READY=1\nSTATUS=forwarding");
	pr_info("xlbd: ready, %u VIPs, control socket %s\n", dm.api.lb->n_vips, co.path);
	while (!dm.stop) {
		struct epoll_event evs[4];
		bool hm_ready = false;
		int n, k, t = xlb_ctl_next_timeout_ms(dm.ctl);
		int mt = xlb_metrics_next_timeout_ms(dm.metrics);

		if (mt >= 0 && (t < 0 || mt < t))
			t = mt;
		n = epoll_wait(ep, evs, 4, t < 0 || t > 1000 ? 1000 : t);
		if (n < 0 && errno != EINTR)
			break;
		for (k = 0; k < n; k++) {
			/* The health manager's fd turns readable whenever it has
			 * work: probe sockets, its timers, the engine's. */
			if (evs[k].data.fd == xlb_hm_fd(dm.hm))
				hm_ready = true;
			if (evs[k].data.fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					if (xlb_api_reload(&dm.api, err, sizeof(err)))
						pr_warn("xlbd: reload rejected, nothing changed: %s\n", err);
					else
						pr_info("xlbd: reloaded %s\n", dm.config_path);
					if (dm.api.restart_note[0])
						pr_warn("xlbd: changed, applied only after a restart: %s\n",
							dm.api.restart_note);
				} else {
					dm.stop = true;
				}
			}
		}
		if (xlb_ctl_dispatch(dm.ctl, 0))
			break;
		if (hm_ready && xlb_hm_dispatch(dm.hm))
			break;
		/* After every wakeup, not only when its fd is readable: MHD's rule
		 * whenever it has a timeout pending. */
		xlb_metrics_dispatch(dm.metrics);
	}
	sd_notify(0, "STOPPING=1");
	if (dm.detach_on_exit || dm.detach_requested) {
		detach_all(&dm);
		xlb_unpin_all(dm.api.cfg->pin_root);
		pr_info("xlbd: detached\n");
	}
	ret = 0;
out:
	xlb_metrics_close(dm.metrics);
	xlb_metrics_src_release(&dm.msrc);
	xlb_ctl_close(dm.ctl);
	xlb_hm_close(dm.hm);
	xlb_hcpath_close(dm.hcpath);
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	json_decref(dm.ifaces);
	xlb_lb_close(dm.api.lb);
	xlb_config_free(dm.api.cfg);
	xlb_config_free(cfg);
	free(state_copy);
	return ret;
}
