// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_health: the probe engine's CPU cost.  In a network namespace of its
 * own (unshare), a forked child opens N TCP listeners on 127.0.0.1 and
 * accepts (and, for HTTP, answers) every connection; the parent probes them
 * all with the engine at a 1 s interval and reports, after a warm-up, the
 * probes completed per second and its own CPU time (getrusage(RUSAGE_SELF),
 * user + sys) as a percentage of one core.  The child's work is not
 * counted.  The kernel's loopback handshake runs partly in softirq context
 * on the connecting CPU and is charged to the engine, so the figure is an
 * upper bound of what probes over a NIC cost.
 *
 *   bench_health [--seconds S] [--warmup S] [--targets N] [--http]
 *
 * Without --targets it runs TCP at 1,000 and 5,000 targets and HTTP at
 * 1,000.  Exits 0 unless the setup fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "health.h"
#include "log.h"

#define PORT_BASE	20000
#define MAX_TARGETS	20000
#define TARGET_PCT	5.0	/* goal for 1,000 targets at 1 s, % of one core */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's CPU time in seconds: user into *@user, user + sys returned. */
static double cpu_s(double *user)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	return *user + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int lo_up(void)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		err = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
out:
	close(fd);
	return err;
}

/* Keep the two sides on CPUs of their own (the engine on the last one, the
 * listeners on the first), so that migrations and a shared cache do not
 * blur the engine's figure.  Best effort: one CPU runs both. */
static void pin_cpu(int which)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (n < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(which ? (int)n - 1 : 0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ---- the listener side (a child process) ---- */

static const char http_reply[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

/* Tags in the epoll data: listeners and connections. */
#define TAG_LISTEN	(1ULL << 32)

/* Accept everything on @n listeners; with @http, read one request per
 * connection and answer it.  Writes one byte to @ready when listening.
 * Runs until killed. */
static void listener_main(unsigned int n, bool http, int ready)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct epoll_event ev, evs[256];
	char buf[2048];
	unsigned int i;
	int ep, fd, c, k, one = 1;
	ssize_t r;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		_exit(1);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < n; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		a.sin_port = htons((uint16_t)(PORT_BASE + i));
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1024)) {
			fprintf(stderr, "bench_health: listener %u: %s\n", i, strerror(errno));
			_exit(1);
		}
		ev.events = EPOLLIN;
		ev.data.u64 = TAG_LISTEN | (uint64_t)fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			_exit(1);
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;) {
		k = epoll_wait(ep, evs, 256, -1);
		for (i = 0; k > 0 && i < (unsigned int)k; i++) {
			fd = (int)(uint32_t)evs[i].data.u64;
			if (evs[i].data.u64 & TAG_LISTEN) {
				while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if (!http) {
						close(c);
						continue;
					}
					ev.events = EPOLLIN;
					ev.data.u64 = (uint64_t)c;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev))
						close(c);
				}
				continue;
			}
			/* A probe's request fits one read; answer and close. */
			r = read(fd, buf, sizeof(buf));
			if (r > 0)
				(void)!write(fd, http_reply, sizeof(http_reply) - 1);
			close(fd);
		}
	}
}

/* ---- the engine side ---- */

struct run {
	unsigned int n;
	bool http;
	double seconds, warmup;
};

static uint64_t total_probes(struct xlb_hc *hc, const int *ids, unsigned int n, uint64_t *fails)
{
	struct xlb_hc_status st;
	uint64_t p = 0, f = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (xlb_hc_get(hc, ids[i], &st))
			continue;
		p += st.probes;
		f += st.failures;
	}
	*fails = f;
	return p;
}

/*
 * The kernel's share, for scale: what one probe's socket calls cost with no
 * engine around them (socket, SO_LINGER, non-blocking connect, close, one
 * connection per listener in turn, paced like the probes).  Returns
 * microseconds of this process's CPU per connection, or a negative value.
 */
static double kernel_floor_us(unsigned int n)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	double u, c0, c1;
	unsigned int i;
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c0 = cpu_s(&u);
	for (i = 0; i < n; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		a.sin_port = htons((uint16_t)(PORT_BASE + i));
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	c1 = cpu_s(&u);
	return 1e6 * (c1 - c0) / n;
}

static int bench(const struct run *r)
{
	struct xlb_hc_spec sp = {
		.type = r->http ? XLB_HC_HTTP : XLB_HC_TCP,
		.interval_ms = 1000,
		.timeout_ms = 500,
		.rise = 2,
		.fall = 2,
	};
	double t0, t1, c0, u0, u1, wall, cpu, floor_us = 0;
	uint64_t p0, p1, f0, f1;
	struct xlb_hc *hc = NULL;
	int pfd[2] = { -1, -1 }, *ids = NULL, err = 0, status;
	unsigned int i;
	pid_t pid = -1;
	char b;

	ids = calloc(r->n, sizeof(*ids));
	if (!ids || pipe2(pfd, O_CLOEXEC)) {
		err = -ENOMEM;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto out;
	}
	if (!pid) {
		close(pfd[0]);
		pin_cpu(0);
		listener_main(r->n, r->http, pfd[1]);
		_exit(0);
	}
	close(pfd[1]);
	pfd[1] = -1;
	if (read(pfd[0], &b, 1) != 1) {
		fprintf(stderr, "bench_health: the listeners did not start\n");
		err = -EIO;
		goto out;
	}
	if (!r->http) {
		floor_us = kernel_floor_us(r->n < 1000 ? r->n : 1000);
		if (floor_us < 0) {
			err = -EIO;
			goto out;
		}
	}
	err = xlb_hc_open(&hc);
	if (err)
		goto out;
	xlb_hc_seed(hc, 1);
	sp.addr.v4.sin_family = AF_INET;
	sp.addr.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < r->n; i++) {
		sp.addr.v4.sin_port = htons((uint16_t)(PORT_BASE + i));
		err = xlb_hc_add(hc, &sp, NULL, &ids[i]);
		if (err)
			goto out;
	}
	/* The first probes spread over the jitter window only (10% of the
	 * interval); the warm-up lets the schedule settle to its steady
	 * spread before anything is measured. */
	t1 = now_s() + r->warmup;
	while (now_s() < t1)
		if ((err = xlb_hc_dispatch(hc, 100)))
			goto out;
	p0 = total_probes(hc, ids, r->n, &f0);
	c0 = cpu_s(&u0);
	t0 = now_s();
	t1 = t0 + r->seconds;
	while (now_s() < t1)
		if ((err = xlb_hc_dispatch(hc, 100)))
			goto out;
	wall = now_s() - t0;
	cpu = cpu_s(&u1) - c0;
	p1 = total_probes(hc, ids, r->n, &f1);
	printf("health %-4s %5u targets, interval 1 s: %6.0f probes/s (%llu failed), "
	       "engine CPU %5.2f%% of one core (user %.2f%%), %.0f us per probe%s\n",
	       r->http ? "http" : "tcp", r->n, (double)(p1 - p0) / wall,
	       (unsigned long long)(f1 - f0), 100.0 * cpu / wall, 100.0 * (u1 - u0) / wall,
	       p1 > p0 ? 1e6 * cpu / (double)(p1 - p0) : 0.0,
	       r->n == 1000 && !r->http ? (100.0 * cpu / wall < TARGET_PCT ? "  [goal < 5%: met]"
									: "  [goal < 5%: MISSED]")
					    : "");
	if (floor_us > 0)
		printf("    kernel floor, the same socket calls without the engine: %.0f us per connection\n",
		       floor_us);
	fflush(stdout);
out:
	if (err)
		fprintf(stderr, "bench_health: %u targets: %s\n", r->n, strerror(-err));
	xlb_hc_close(hc);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(ids);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "targets", required_argument, NULL, 'n' },
		{ "http", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct run runs[3] = {
		{ .n = 1000 }, { .n = 5000 }, { .n = 1000, .http = true },
	};
	struct rlimit rl = { .rlim_cur = 4 * MAX_TARGETS, .rlim_max = 4 * MAX_TARGETS };
	double seconds = 10, warmup = 3;
	unsigned int n = 0, nruns = 3, i;
	bool http = false;
	double l1, l5, l15;
	FILE *f;
	int o, err;

	while ((o = getopt_long(argc, argv, "s:w:n:Hh", opts, NULL)) != -1) {
		switch (o) {
		case 's': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'n': n = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'H': http = true; break;
		default:
			fprintf(o == 'h' ? stdout : stderr,
				"Usage: bench_health [--seconds S] [--warmup S] [--targets N] [--http]\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (seconds <= 0 || warmup < 0 || n > MAX_TARGETS) {
		fprintf(stderr, "bench_health: --seconds > 0, --warmup >= 0, --targets <= %d\n",
			MAX_TARGETS);
		return 2;
	}
	if (n) {
		runs[0].n = n;
		runs[0].http = http;
		nruns = 1;
	}
	/* Each process holds at most two descriptors per target (the child:
	 * a listener and an accepted socket).  Without CAP_SYS_RESOURCE the
	 * hard limit is as far as it goes. */
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		if (getrlimit(RLIMIT_NOFILE, &rl))
			return 1;
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	for (i = 0; i < nruns; i++) {
		if (rl.rlim_cur < 2 * (rlim_t)runs[i].n + 64) {
			fprintf(stderr, "bench_health: RLIMIT_NOFILE %llu is too low for %u targets\n",
				(unsigned long long)rl.rlim_cur, runs[i].n);
			return 1;
		}
	}
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "bench_health: unshare(CLONE_NEWNET): %s (needs root)\n", strerror(errno));
		return 1;
	}
	pin_cpu(1);
	err = lo_up();
	if (err) {
		fprintf(stderr, "bench_health: lo up: %s\n", strerror(-err));
		return 1;
	}
	xlb_log_set_level(XLB_LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	printf("probe engine, %.0f s after a %.0f s warm-up (private netns, 127.0.0.1; listeners in a child, not counted):\n",
	       seconds, warmup);
	/* Other work on the machine inflates the figures: say how much. */
	f = fopen("/proc/loadavg", "r");
	if (f && fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
		printf("    load average before: %.2f %.2f %.2f (%ld CPUs)\n", l1, l5, l15,
		       sysconf(_SC_NPROCESSORS_ONLN));
	if (f)
		fclose(f);
	for (i = 0; i < nruns; i++) {
		runs[i].seconds = seconds;
		runs[i].warmup = warmup;
		if (bench(&runs[i]))
			return 1;
	}
	return 0;
}
