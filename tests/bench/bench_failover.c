// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * make bench: the time from a backend's death to its removal from the live
 * ring, through the daemon's own health manager (user/hcmgr.c) and a real
 * data plane.
 *
 * In a private network namespace (unshare: the kernel removes it on exit),
 * one VIP has 10 backends, each a TCP listener on its own 127.0.0.x
 * address.  A "death" closes one listener (connections are then refused,
 * as when a backend's process dies); the clock runs until the ring read
 * back from the map no longer names that backend.  The listener then
 * comes back, and the next trial starts once it is in the ring again.
 * Each health setting runs several trials; the expected window is
 * interval * (fall - 1) to interval * fall (+ jitter), since the death
 * falls at a random point between two probes.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include "config.h"
#include "hcmgr.h"
#include "lb.h"
#include "log.h"
#include "xlb.h"

#define NBE	10
#define PORT	7000

static int listen_on(int i)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -errno;
	a.sin_addr.s_addr = htonl(0x7f000001 + (__u32)i);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 128)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Accept and close whatever the probes opened, so backlogs never fill. */
static void drain(const int *fds)
{
	int i, c;

	for (i = 0; i < NBE; i++)
		while (fds[i] >= 0 && (c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(c);
}

static bool in_ring(struct xlb_lb *lb, __u32 vip_id, __u32 be_id)
{
	__u32 *ring = NULL, m = 0, s;
	bool hit = false;

	if (xlb_ring_read(lb->x, vip_id, &ring, &m))
		return false;
	for (s = 0; s < m && !hit; s++)
		hit = ring[s] == be_id;
	free(ring);
	return hit;
}

/* Run the manager until @cond (backend @be in the ring == @want) holds or
 * @limit_ms passes; returns the ms it took, or -1. */
static double run_until(struct xlb_hm *hm, struct xlb_lb *lb, int ep, const int *fds,
			__u32 vip_id, __u32 be_id, bool want, double limit_ms)
{
	struct timespec t0, t;
	struct epoll_event ev;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		epoll_wait(ep, &ev, 1, 5);
		xlb_hm_dispatch(hm);
		drain(fds);
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6;
		if (in_ring(lb, vip_id, be_id) == want)
			return ms;
		if (ms > limit_ms)
			return -1;
	}
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int trial_set(unsigned int interval, unsigned int timeout, unsigned int fall, int trials)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char json[4096], err[XLB_CFG_ERRLEN];
	struct xlb_cfg *cfg = NULL;
	struct xlb_lb *lb = NULL;
	struct xlb_hm *hm = NULL;
	double ms[32], lo, hi;
	int fds[NBE], i, n, ep = -1, ret = 0, victim;
	size_t off;

	for (i = 0; i < NBE; i++)
		fds[i] = -1;
	off = (size_t)snprintf(json, sizeof(json),
			       "{\"version\": 1, \"interfaces\": [{\"name\": \"lo\"}], \"limits\": {\"max_vips\": 16, \"max_backends\": 64,"
			       " \"conntrack\": 4096}, \"vips\": [{\"vip\": \"10.200.0.1:%d/tcp\","
			       " \"ring_size\": 65537, \"health\": {\"type\": \"tcp\", \"interval_ms\": %u,"
			       " \"timeout_ms\": %u, \"rise\": 1, \"fall\": %u}, \"backends\": [",
			       PORT, interval, timeout, fall);
	for (i = 0; i < NBE; i++)
		off += (size_t)snprintf(json + off, sizeof(json) - off, "%s{\"address\": \"127.0.0.%d\"}",
					i ? ", " : "", i + 1);
	snprintf(json + off, sizeof(json) - off, "]}]}");
	ret = xlb_config_parse(json, strlen(json), &cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "bench_failover: config: %s\n", err);
		goto out;
	}
	free(cfg->pin_root);
	cfg->pin_root = strdup("");	/* nothing pinned */
	for (i = 0; i < NBE; i++) {
		fds[i] = listen_on(i);
		if (fds[i] < 0) {
			ret = fds[i];
			fprintf(stderr, "bench_failover: listen: %s\n", strerror(-ret));
			goto out;
		}
	}
	ret = cfg->pin_root ? xlb_lb_open(cfg, &lb) : -ENOMEM;
	if (!ret)
		ret = xlb_lb_apply(lb, cfg, err, sizeof(err));
	if (!ret)
		ret = xlb_hm_open(lb, &hm);
	if (!ret)
		ret = xlb_hm_sync(hm, cfg);
	if (ret) {
		fprintf(stderr, "bench_failover: setup: %s %s\n", strerror(-ret), err);
		goto out;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, xlb_hm_fd(hm), &ev)) {
		ret = -errno;
		goto out;
	}
	/* Every backend up, the first round over. */
	for (i = 0; i < NBE; i++)
		if (run_until(hm, lb, ep, fds, lb->vips[0]->id, lb->vips[0]->backends[i].id, true,
			      10000) < 0) {
			fprintf(stderr, "bench_failover: backend %d never in the ring\n", i);
			ret = -ETIMEDOUT;
			goto out;
		}
	run_until(hm, lb, ep, fds, 0, 0, true, interval * 3.0);	/* settle */
	for (n = 0; n < trials && n < 32; n++) {
		struct xlb_lb_vip *v = lb->vips[0];

		victim = n % NBE;
		/* Die at a random point between two probes. */
		run_until(hm, lb, ep, fds, 0, 0, true, (double)(rand() % (int)interval));
		close(fds[victim]);
		fds[victim] = -1;
		ms[n] = run_until(hm, lb, ep, fds, v->id, v->backends[victim].id, false,
				  interval * (fall + 4.0) + timeout);
		fds[victim] = listen_on(victim);
		if (ms[n] < 0 || fds[victim] < 0 ||
		    run_until(hm, lb, ep, fds, v->id, v->backends[victim].id, true,
			      interval * 20.0) < 0) {
			fprintf(stderr, "bench_failover: trial %d did not complete\n", n);
			ret = -ETIMEDOUT;
			goto out;
		}
	}
	qsort(ms, (size_t)n, sizeof(ms[0]), dcmp);
	lo = interval * (fall - 1) * 0.9;
	hi = interval * fall * 1.1 + XLB_HM_DEBOUNCE_MS;
	printf("%-28s %6u %6u %4u %6d %8.1f %8.1f %8.1f   %.0f..%.0f\n", "tcp, connection refused",
	       interval, timeout, fall, n, ms[0], ms[n / 2], ms[n - 1], lo, hi);
out:
	if (ep >= 0)
		close(ep);
	for (i = 0; i < NBE; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	xlb_hm_close(hm);
	xlb_lb_close(lb);
	xlb_config_free(cfg);
	return ret;
}

int main(void)
{
	int ret;

	if (unshare(CLONE_NEWNET)) {
		perror("bench_failover: unshare(CLONE_NEWNET)");
		return 1;
	}
	if (system("ip link set lo up"))
		return 1;
	srand(1);
	xlb_log_set_level(XLB_LOG_QUIET);	/* transitions are the figures, not news */
	printf("xlb health: time from a backend's death to its removal from the live ring\n");
	printf("method: 10 TCP backends on 127.0.0.x in a private netns, one listener closed per trial;\n"
	       "        time until the ring read back from the data plane no longer names it;\n"
	       "        expected: interval*(fall-1) .. interval*fall, +-10%% jitter, + the %d ms debounce\n\n",
	       XLB_HM_DEBOUNCE_MS);
	printf("%-28s %6s %6s %4s %6s %8s %8s %8s   %s\n", "death", "ivl_ms", "tmo_ms", "fall",
	       "trials", "min_ms", "med_ms", "max_ms", "expected_ms");
	ret = trial_set(100, 50, 2, 10);
	if (!ret)
		ret = trial_set(1000, 500, 3, 4);
	return ret ? 1 : 0;
}
