// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the health-check probe engine (cmocka), on loopback only.
 * Each test runs real servers on 127.0.0.1 ephemeral ports in threads of
 * its own (a TCP listener that accepts and closes, a small HTTP server with
 * a settable status, body and delay, a UDP echo server) and drives the
 * engine from the test thread.  Every wait is bounded: the engine loop by a
 * deadline, the servers by poll timeouts and a stop flag.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "health.h"
#include "log.h"

#define SRV_POLL_MS	20

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- servers ---- */

enum srv_kind { SRV_TCP, SRV_HTTP, SRV_UDP };

struct srv {
	enum srv_kind kind;
	int fd;
	uint16_t port;
	pthread_t th;
	atomic_int stop;
	atomic_int accepted;
	/* HTTP */
	pthread_mutex_t mu;
	int status;
	char body[128];
	int delay_ms;
	char last_req[1024];
};

static void *srv_loop(void *arg)
{
	struct srv *s = arg;
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	char buf[2048], out[512];
	int c, status, delay, len;
	ssize_t n;
	size_t got;
	uint64_t end;
	struct sockaddr_storage peer;
	socklen_t plen;

	while (!atomic_load(&s->stop)) {
		if (poll(&p, 1, SRV_POLL_MS) <= 0)
			continue;
		if (s->kind == SRV_UDP) {
			plen = sizeof(peer);
			n = recvfrom(s->fd, buf, sizeof(buf) - 6, 0, (struct sockaddr *)&peer, &plen);
			if (n < 0)
				continue;
			memmove(buf + 5, buf, (size_t)n);
			memcpy(buf, "pong ", 5);
			sendto(s->fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&peer, plen);
			continue;
		}
		c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		atomic_fetch_add(&s->accepted, 1);
		if (s->kind == SRV_TCP) {
			close(c);
			continue;
		}
		/* HTTP: one request per connection, read to the blank line. */
		got = 0;
		buf[0] = '\0';
		end = now_ms() + 1000;
		while (got < sizeof(buf) - 1 && !strstr(buf, "\r\n\r\n") && now_ms() < end) {
			struct pollfd cp = { .fd = c, .events = POLLIN };

			if (poll(&cp, 1, SRV_POLL_MS) <= 0)
				continue;
			n = recv(c, buf + got, sizeof(buf) - 1 - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
			buf[got] = '\0';
		}
		buf[got] = '\0';
		pthread_mutex_lock(&s->mu);
		got = got < sizeof(s->last_req) - 1 ? got : sizeof(s->last_req) - 1;
		memcpy(s->last_req, buf, got);
		s->last_req[got] = '\0';
		status = s->status;
		delay = s->delay_ms;
		len = snprintf(out, sizeof(out),
			       "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
			       status, strlen(s->body), s->body);
		pthread_mutex_unlock(&s->mu);
		end = now_ms() + (uint64_t)delay;
		while (now_ms() < end && !atomic_load(&s->stop))
			usleep(5000);
		send(c, out, (size_t)len, MSG_NOSIGNAL);
		close(c);
	}
	return NULL;
}

/* Bind on 127.0.0.1:@port or [::1]:@port (0: ephemeral) and serve in a
 * thread. */
static struct srv *srv_start_af(enum srv_kind kind, uint16_t port, int af)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr *sa = af == AF_INET6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a;
	socklen_t len = af == AF_INET6 ? sizeof(a6) : sizeof(a);
	int one = 1;

	assert_non_null(s);
	s->kind = kind;
	s->status = 200;
	strcpy(s->body, "all ok");
	pthread_mutex_init(&s->mu, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(af, (kind == SRV_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(s->fd, sa, len), 0);
	if (kind != SRV_UDP)
		assert_int_equal(listen(s->fd, 4096), 0);
	assert_int_equal(getsockname(s->fd, sa, &len), 0);
	s->port = ntohs(af == AF_INET6 ? a6.sin6_port : a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, srv_loop, s), 0);
	return s;
}

static struct srv *srv_start(enum srv_kind kind, uint16_t port)
{
	return srv_start_af(kind, port, AF_INET);
}

static void srv_stop(struct srv *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->fd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static void srv_set(struct srv *s, int status, const char *body, int delay_ms)
{
	pthread_mutex_lock(&s->mu);
	s->status = status;
	snprintf(s->body, sizeof(s->body), "%s", body);
	s->delay_ms = delay_ms;
	pthread_mutex_unlock(&s->mu);
}

/* A port nobody listens on: bound once, then released. */
static uint16_t closed_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- engine side ---- */

#define MAX_EVENTS 64

struct rec {
	struct xlb_hc *hc;
	bool del_self;
	int n;			/* events kept, at most MAX_EVENTS */
	int total;		/* events seen */
	struct {
		int id;
		bool up;
		char why[64];
		uint64_t ms;
	} ev[MAX_EVENTS];
};

static void on_change(void *user, int id, bool up, const char *why)
{
	struct rec *r = user;

	r->total++;
	if (r->n < MAX_EVENTS) {
		r->ev[r->n].id = id;
		r->ev[r->n].up = up;
		snprintf(r->ev[r->n].why, sizeof(r->ev[r->n].why), "%s", why);
		r->ev[r->n].ms = now_ms();
		r->n++;
	}
	if (r->del_self)
		assert_int_equal(xlb_hc_del(r->hc, id), 0);
}

static struct xlb_hc_spec spec(enum xlb_hc_type type, uint16_t port)
{
	struct xlb_hc_spec sp = {
		.type = type,
		.interval_ms = 50,
		.timeout_ms = 40,
		.rise = 2,
		.fall = 2,
		.jitter_pct = -1,
		.on_change = on_change,
	};

	sp.addr.v4.sin_family = AF_INET;
	sp.addr.v4.sin_port = htons(port);
	sp.addr.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sp;
}

static struct xlb_hc *engine(void)
{
	struct xlb_hc *hc = NULL;

	assert_int_equal(xlb_hc_open(&hc), 0);
	assert_non_null(hc);
	assert_true(xlb_hc_fd(hc) >= 0);
	xlb_hc_seed(hc, 42);
	return hc;
}

/* Dispatch until @r has @n events or @max_ms pass; returns whether it did. */
static bool run_events(struct xlb_hc *hc, struct rec *r, int n, unsigned int max_ms)
{
	uint64_t end = now_ms() + max_ms;

	while (r->n < n && now_ms() < end)
		assert_int_equal(xlb_hc_dispatch(hc, 10), 0);
	return r->n >= n;
}

static void run_for(struct xlb_hc *hc, unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end)
		assert_int_equal(xlb_hc_dispatch(hc, 10), 0);
}

/* ---- tests ---- */

static void test_tcp_down_up(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct srv *s = srv_start(SRV_TCP, 0);
	uint16_t port = s->port;
	struct xlb_hc_spec sp = spec(XLB_HC_TCP, port);
	struct xlb_hc_status st;
	uint64_t t0, dt;
	int id;

	(void)state;
	r.hc = hc;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	/* Unknown: the first result decides. */
	assert_true(run_events(hc, &r, 1, 1000));
	assert_true(r.ev[0].up);
	assert_string_equal(r.ev[0].why, "connect ok");

	/* Killed: down after fall failures, within fall * interval + timeout. */
	srv_stop(s);
	t0 = now_ms();
	assert_true(run_events(hc, &r, 2, 2000));
	dt = r.ev[1].ms - t0;
	assert_false(r.ev[1].up);
	assert_string_equal(r.ev[1].why, "connect refused");
	print_message("tcp: down %llu ms after the listener closed\n", (unsigned long long)dt);
	/* Generous: a loaded CI machine stretches timers; the bound still
	 * catches a target that never goes down or waits far beyond fall. */
	assert_true(dt <= 1000);
	assert_int_equal(xlb_hc_get(hc, id, &st), 0);
	assert_int_equal(st.state, XLB_HC_DOWN);
	assert_int_equal(st.fail_run, 2);

	/* Back: rise successes bring it up, after at most one backoff wait. */
	s = srv_start(SRV_TCP, port);
	t0 = now_ms();
	assert_true(run_events(hc, &r, 3, 2000));
	assert_true(r.ev[2].up);
	assert_int_equal(xlb_hc_get(hc, id, &st), 0);
	assert_int_equal(st.state, XLB_HC_UP);
	assert_int_equal(st.ok_run, 2);
	assert_int_equal(st.transitions, 3);
	assert_true(st.successes >= 3 && st.failures >= 2);
	assert_int_equal(st.probes, st.successes + st.failures);
	assert_true(r.ev[2].ms - t0 <= 1500);
	assert_int_equal(xlb_hc_count(hc), 1);
	xlb_hc_close(hc);
	srv_stop(s);
}

static void test_http_ok(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct srv *s = srv_start(SRV_HTTP, 0);
	struct xlb_hc_spec sp = spec(XLB_HC_HTTP, s->port);
	struct xlb_hc_status st;
	int id;

	(void)state;
	sp.path = "/healthz";
	sp.host = "hc.test";
	sp.expect_body = "ok";
	sp.expect_status = "200";
	sp.timeout_ms = 45;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_true(run_events(hc, &r, 1, 2000));
	assert_true(r.ev[0].up);
	assert_string_equal(r.ev[0].why, "HTTP 200");
	/* Stays up over a few more probes. */
	run_for(hc, 200);
	assert_int_equal(r.n, 1);
	assert_int_equal(xlb_hc_get(hc, id, &st), 0);
	assert_true(st.successes >= 3);
	assert_int_equal(st.failures, 0);
	assert_true(st.last_latency_us > 0 && st.last_latency_us < 45000);
	pthread_mutex_lock(&s->mu);
	assert_non_null(strstr(s->last_req, "GET /healthz HTTP/1.1\r\n"));
	assert_non_null(strstr(s->last_req, "\r\nHost: hc.test\r\n"));
	pthread_mutex_unlock(&s->mu);
	xlb_hc_close(hc);
	srv_stop(s);
}

/* IPv6: the address goes into the URL in brackets. */
static void test_http_ipv6(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct srv *s = srv_start_af(SRV_HTTP, 0, AF_INET6);
	struct xlb_hc_spec sp = spec(XLB_HC_HTTP, 0);
	int id;

	(void)state;
	memset(&sp.addr, 0, sizeof(sp.addr));
	sp.addr.v6.sin6_family = AF_INET6;
	sp.addr.v6.sin6_port = htons(s->port);
	sp.addr.v6.sin6_addr = in6addr_loopback;
	sp.expect_body = "ok";
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_true(run_events(hc, &r, 1, 2000));
	assert_true(r.ev[0].up);
	pthread_mutex_lock(&s->mu);
	assert_non_null(strstr(s->last_req, "GET / HTTP/1.1\r\n"));
	pthread_mutex_unlock(&s->mu);
	xlb_hc_close(hc);
	srv_stop(s);
}

/* One HTTP target against a server answering @status/@body after @delay;
 * checks it goes down with @why. */
static void http_down(int status, const char *body, int delay, unsigned int timeout,
		      const char *why)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct srv *s = srv_start(SRV_HTTP, 0);
	struct xlb_hc_spec sp = spec(XLB_HC_HTTP, s->port);
	struct xlb_hc_status st;
	int id;

	srv_set(s, status, body, delay);
	sp.expect_body = "ok";
	sp.interval_ms = 200;
	sp.timeout_ms = timeout;
	sp.initial = XLB_HC_UP;
	sp.fall = 1;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_true(run_events(hc, &r, 1, 2000));
	assert_false(r.ev[0].up);
	assert_string_equal(r.ev[0].why, why);
	assert_int_equal(xlb_hc_get(hc, id, &st), 0);
	assert_string_equal(st.last_why, why);
	assert_false(st.last_ok);
	/* Our own deadline, not libcurl's backstop, ends a slow probe. */
	if (!strncmp(why, "timeout", 7))
		assert_true(st.last_latency_us < (timeout + 30) * 1000);
	xlb_hc_close(hc);
	srv_stop(s);
}

static void test_http_503(void **state)
{
	(void)state;
	http_down(503, "ok", 0, 100, "HTTP 503");
}

static void test_http_body(void **state)
{
	(void)state;
	http_down(200, "fine, thanks", 0, 100, "body lacks 'ok'");
}

static void test_http_timeout(void **state)
{
	(void)state;
	http_down(200, "ok", 600, 100, "timeout after 100 ms");
}

static void test_udp_up(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct srv *s = srv_start(SRV_UDP, 0);
	struct xlb_hc_spec sp = spec(XLB_HC_UDP, s->port);
	struct xlb_hc_status st;
	int id;

	(void)state;
	sp.payload = "ping";
	sp.payload_len = 4;
	sp.expect_reply = "pong ping";
	sp.initial = XLB_HC_DOWN;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_true(run_events(hc, &r, 1, 1000));
	assert_true(r.ev[0].up);
	assert_string_equal(r.ev[0].why, "reply received");
	assert_int_equal(xlb_hc_get(hc, id, &st), 0);
	/* Start state DOWN: rise successes were needed. */
	assert_int_equal(st.successes, 2);
	xlb_hc_close(hc);
	srv_stop(s);
}

static void test_udp_refused(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct xlb_hc_spec sp = spec(XLB_HC_UDP, closed_port(SOCK_DGRAM));
	struct xlb_hc_status st;
	int id;

	(void)state;
	sp.payload = "ping";
	sp.payload_len = 4;
	sp.initial = XLB_HC_UP;
	sp.interval_ms = 500;
	sp.timeout_ms = 400;
	sp.fall = 1;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_true(run_events(hc, &r, 1, 1000));
	assert_false(r.ev[0].up);
	assert_string_equal(r.ev[0].why, "port unreachable");
	assert_int_equal(xlb_hc_get(hc, id, &st), 0);
	/* Told by ICMP, not by waiting out the timeout. */
	assert_true(st.last_latency_us < 100000);
	xlb_hc_close(hc);
}

/* The callback may delete the target that it is told about. */
static void test_del_in_callback(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct xlb_hc_spec sp = spec(XLB_HC_TCP, closed_port(SOCK_STREAM));
	struct xlb_hc_status st;
	int id;

	(void)state;
	r.hc = hc;
	r.del_self = true;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_true(run_events(hc, &r, 1, 1000));
	assert_int_equal(xlb_hc_get(hc, id, &st), -ENOENT);
	assert_int_equal(xlb_hc_count(hc), 0);
	run_for(hc, 100);
	assert_int_equal(r.n, 1);
	xlb_hc_close(hc);
}

static void test_backoff(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct srv *s = srv_start(SRV_TCP, 0);
	struct xlb_hc_spec dead = spec(XLB_HC_TCP, closed_port(SOCK_STREAM));
	struct xlb_hc_spec live = spec(XLB_HC_TCP, s->port);
	struct xlb_hc_status sd, sl;
	int id_dead, id_live;

	(void)state;
	dead.interval_ms = live.interval_ms = 20;
	dead.timeout_ms = live.timeout_ms = 15;
	dead.fall = 1;
	dead.backoff_max_ms = 320;
	assert_int_equal(xlb_hc_add(hc, &dead, &r, &id_dead), 0);
	assert_int_equal(xlb_hc_add(hc, &live, &r, &id_live), 0);
	run_for(hc, 1500);
	assert_int_equal(xlb_hc_get(hc, id_dead, &sd), 0);
	assert_int_equal(xlb_hc_get(hc, id_live, &sl), 0);
	print_message("backoff: %llu probes of the dead target, %llu of the live one\n",
		      (unsigned long long)sd.probes, (unsigned long long)sl.probes);
	/* Delays 40, 80, 160, 320, 320...: about 7 probes in 1.5 s, not 75. */
	assert_int_equal(sd.state, XLB_HC_DOWN);
	assert_int_equal(sd.delay_ms, 320);
	assert_true(sd.probes >= 3 && sd.probes <= 12);
	assert_true(sl.probes >= 30);
	assert_int_equal(sl.state, XLB_HC_UP);
	xlb_hc_close(hc);
	srv_stop(s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_jitter(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct srv *s = srv_start(SRV_TCP, 0);
	struct xlb_hc_spec sp = spec(XLB_HC_TCP, s->port);
	struct xlb_hc_status st;
	uint64_t first[100], end;
	int ids[100], i, started, distinct;

	(void)state;
	sp.interval_ms = 1000;
	sp.timeout_ms = 500;
	sp.jitter_pct = 0;	/* the default, 10% */
	for (i = 0; i < 100; i++)
		assert_int_equal(xlb_hc_add(hc, &sp, &r, &ids[i]), 0);
	end = now_ms() + 1000;
	do {
		assert_int_equal(xlb_hc_dispatch(hc, 5), 0);
		for (i = started = 0; i < 100; i++) {
			assert_int_equal(xlb_hc_get(hc, ids[i], &st), 0);
			first[i] = st.last_start_ms;
			started += !!first[i];
		}
	} while (started < 100 && now_ms() < end);
	assert_int_equal(started, 100);
	qsort(first, 100, sizeof(first[0]), cmp_u64);
	for (i = 1, distinct = 1; i < 100; i++)
		distinct += first[i] != first[i - 1];
	print_message("jitter: first probes over %llu ms, %d distinct ms\n",
		      (unsigned long long)(first[99] - first[0]), distinct);
	assert_true(first[99] - first[0] >= 50 && first[99] - first[0] <= 120);
	assert_true(distinct >= 30);
	xlb_hc_close(hc);
	srv_stop(s);
}

static void test_scale(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct srv *s = srv_start(SRV_TCP, 0);
	struct xlb_hc_spec sp = spec(XLB_HC_TCP, s->port);
	struct xlb_hc_status st;
	uint64_t end, t0, dt, worst = 0, probes = 0, fails = 0;
	int ids[200], i, calls = 0;

	(void)state;
	sp.jitter_pct = 0;
	for (i = 0; i < 200; i++)
		assert_int_equal(xlb_hc_add(hc, &sp, &r, &ids[i]), 0);
	end = now_ms() + 1000;
	while (now_ms() < end) {
		t0 = now_ms();
		assert_int_equal(xlb_hc_dispatch(hc, 10), 0);
		dt = now_ms() - t0;
		worst = dt > worst ? dt : worst;
		calls++;
	}
	for (i = 0; i < 200; i++) {
		assert_int_equal(xlb_hc_get(hc, ids[i], &st), 0);
		probes += st.probes;
		fails += st.failures;
		assert_int_equal(st.state, XLB_HC_UP);
	}
	print_message("scale: %llu probes (%llu failed), %d dispatches, slowest %llu ms\n",
		      (unsigned long long)probes, (unsigned long long)fails, calls,
		      (unsigned long long)worst);
	/* 200 targets * 20 probes a second, with slack for ASan. */
	assert_true(probes >= 200 * 20 * 3 / 10);
	assert_int_equal(fails, 0);
	assert_true(worst <= 250);
	/* Each came up exactly once, and nothing flapped. */
	assert_int_equal(r.total, 200);
	xlb_hc_close(hc);

	/* A quiet engine (next probe 2 s away) still honours the timeout. */
	hc = engine();
	sp.interval_ms = 2000;
	sp.jitter_pct = -1;
	r.total = r.n = 0;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &ids[0]), 0);
	assert_true(run_events(hc, &r, 1, 1000));
	t0 = now_ms();
	assert_int_equal(xlb_hc_dispatch(hc, 0), 0);
	assert_true(now_ms() - t0 <= 100);
	t0 = now_ms();
	assert_int_equal(xlb_hc_dispatch(hc, 30), 0);
	dt = now_ms() - t0;
	assert_true(dt >= 25 && dt <= 500);
	assert_true(xlb_hc_next_timeout_ms(hc) > 1000);
	xlb_hc_close(hc);
	srv_stop(s);
}

/* The engine's fd alone tells when there is work: a daemon that only
 * polls it (no next_timeout) still gets its probes run. */
static void test_fd_wakes(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc = engine();
	struct srv *s = srv_start(SRV_TCP, 0);
	struct xlb_hc_spec sp = spec(XLB_HC_TCP, s->port);
	struct pollfd p = { .events = POLLIN };
	uint64_t end = now_ms() + 1000;
	int id, n = 0;

	(void)state;
	p.fd = xlb_hc_fd(hc);
	sp.initial = XLB_HC_DOWN;
	sp.rise = 3;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	while (r.n < 1 && now_ms() < end) {
		if (poll(&p, 1, 100) == 1) {
			n++;
			assert_int_equal(xlb_hc_dispatch(hc, 0), 0);
		}
	}
	assert_int_equal(r.n, 1);
	assert_true(r.ev[0].up);
	assert_true(n >= 3);
	assert_true(xlb_hc_next_timeout_ms(hc) >= 0);
	xlb_hc_close(hc);
	srv_stop(s);
}

/* The fwmark ss(8) reports for the socket connected to 127.0.0.1:@port
 * (@ss_proto "t" or "u"): -1 when there is no such socket, 0 for none. */
static long long ss_mark(const char *ss_proto, uint16_t port)
{
	char cmd[128], line[1024], *p;
	long long m = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ss -Hn%se dst 127.0.0.1:%u 2>/dev/null", ss_proto, port);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "fwmark:0x");
		m = p ? strtoll(p + 9, NULL, 16) : 0;
	}
	pclose(f);
	return m;
}

/* Dispatch until ss sees the probe socket toward @port (the socket lives
 * from the dispatch that starts a probe to the one that reads its result);
 * returns its mark, or -1 if it was never seen within 2 s. */
static long long probe_mark(struct xlb_hc *hc, const char *ss_proto, uint16_t port)
{
	uint64_t end = now_ms() + 2000;
	long long m;

	while (now_ms() < end) {
		assert_int_equal(xlb_hc_dispatch(hc, 5), 0);
		m = ss_mark(ss_proto, port);
		if (m >= 0)
			return m;
	}
	return -1;
}

/* SO_MARK reaches every kind of probe socket, set before the first packet
 * (the data-path probe program keys on it), and an unmarked spec leaves
 * sockets unmarked.  Checked from outside the engine, with ss(8). */
static void test_mark(void **state)
{
	struct rec r = {};
	struct xlb_hc *hc;
	struct srv *u, *h;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct xlb_hc_spec sp;
	uint16_t lport;
	int lfd, id;

	(void)state;
	if (geteuid()) {
		print_message("mark: SO_MARK needs CAP_NET_ADMIN: skipped (run as root)\n");
		skip();
	}
	/* A listener that never accepts keeps the probe's connection open
	 * in its backlog, however slowly this test looks. */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 64), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
	lport = ntohs(a.sin_port);

	hc = engine();
	r.hc = hc;
	sp = spec(XLB_HC_TCP, lport);
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_int_equal(probe_mark(hc, "t", lport), 0);
	assert_int_equal(xlb_hc_del(hc, id), 0);
	run_for(hc, 20);
	assert_int_equal(ss_mark("t", lport), -1);

	sp.mark = 0x58400007;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_int_equal(probe_mark(hc, "t", lport), 0x58400007);
	assert_true(run_events(hc, &r, 1, 1000));
	assert_true(r.ev[0].up);
	assert_int_equal(xlb_hc_del(hc, id), 0);

	u = srv_start(SRV_UDP, 0);
	sp = spec(XLB_HC_UDP, u->port);
	sp.mark = 0x58400008;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_int_equal(probe_mark(hc, "u", u->port), 0x58400008);
	assert_true(run_events(hc, &r, 2, 1000));
	assert_true(r.ev[1].up);
	assert_int_equal(xlb_hc_del(hc, id), 0);

	/* libcurl's own socket: slow answers keep it open to be seen. */
	h = srv_start(SRV_HTTP, 0);
	srv_set(h, 200, "ok", 30);
	sp = spec(XLB_HC_HTTP, h->port);
	sp.mark = 0x58400009;
	sp.interval_ms = 300;
	sp.timeout_ms = 250;
	assert_int_equal(xlb_hc_add(hc, &sp, &r, &id), 0);
	assert_int_equal(probe_mark(hc, "t", h->port), 0x58400009);
	assert_true(run_events(hc, &r, 3, 2000));
	assert_string_equal(r.ev[2].why, "HTTP 200");
	assert_true(r.ev[2].up);
	xlb_hc_close(hc);
	srv_stop(h);
	srv_stop(u);
	close(lfd);
}

static void test_bad_spec(void **state)
{
	struct xlb_hc *hc = engine();
	struct xlb_hc_spec sp = spec(XLB_HC_HTTP, 80), b;
	int id;

	(void)state;
	b = sp, b.addr.v4.sin_port = 0;
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.addr.sa.sa_family = AF_UNIX;
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.timeout_ms = 60;
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.rise = 0;
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.interval_ms = 0;
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.jitter_pct = 51;
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.path = "healthz";
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.path = "/a b";
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.host = "a\r\nX-Evil: 1";
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.expect_status = "200-";
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.expect_status = "99";
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.expect_status = "399-200";
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), -EINVAL);
	b = sp, b.expect_status = "200,204,300-399";
	assert_int_equal(xlb_hc_add(hc, &b, NULL, &id), 0);
	assert_int_equal(xlb_hc_count(hc), 1);
	assert_int_equal(xlb_hc_del(hc, id), 0);
	assert_int_equal(xlb_hc_del(hc, id), -ENOENT);
	assert_int_equal(xlb_hc_del(hc, -1), -ENOENT);
	assert_int_equal(xlb_hc_next_timeout_ms(hc), -1);
	xlb_hc_close(hc);
	xlb_hc_close(NULL);
	assert_int_equal(xlb_hc_next_timeout_ms(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_down_up),
		cmocka_unit_test(test_http_ok),
		cmocka_unit_test(test_http_ipv6),
		cmocka_unit_test(test_http_503),
		cmocka_unit_test(test_http_body),
		cmocka_unit_test(test_http_timeout),
		cmocka_unit_test(test_udp_up),
		cmocka_unit_test(test_udp_refused),
		cmocka_unit_test(test_del_in_callback),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_fd_wakes),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test(test_mark),
	};
	int n = (int)(sizeof(tests) / sizeof(tests[0])), failed;

	signal(SIGPIPE, SIG_IGN);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	fflush(stderr);
	printf("\nhealth: %d passed, %d failed\n", n - failed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
