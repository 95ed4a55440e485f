// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The health-check probe engine; see health.h for the contract.  Single
 * threaded, non-blocking, level-triggered epoll.  Deadlines (next probe,
 * probe timeout) live in one binary min-heap, and one timerfd in the epoll
 * set is armed for the earliest of the heap top and libcurl's own timer.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <curl/curl.h>
#include "health.h"
#include "log.h"

#define HC_BATCH	64	/* epoll events per dispatch */
#define HC_MAX_FIRE	512	/* probe starts and expiries per dispatch */
#define HC_MAX_RANGES	8	/* expected status ranges */
#define HC_UDP_BUF	2048
#define HC_NEVER	UINT64_MAX
#define HC_MAX_SLOTS	(1U << 30)	/* ids fit the 30 bits of an event tag */
#define HC_BACKOFF_MUL	8		/* default backoff cap, in intervals */
#define HC_SLACK_DIV	5		/* start slack: this fraction of the jitter window */
#define HC_SLACK_MAX_US	20000

/* What an epoll event is about, packed in its u64: kind, slot, probe seq. */
enum { EV_TIMER, EV_PROBE, EV_CURL };

struct hc_range {
	unsigned int lo, hi;
};

struct hc_target {
	int id;
	uint32_t seq;		/* bumped per probe, so a stale event is ignored */
	size_t heap_idx;	/* SIZE_MAX: not in the heap */
	uint64_t due_us;	/* next probe start, or the running probe's deadline */
	bool in_flight;
	int fd;			/* TCP/UDP probe socket; -1: none */
	uint64_t start_us;
	uint64_t sched_us;	/* when the running probe was due (it may start early) */

	enum xlb_hc_type type;
	struct sockaddr_storage sa;
	socklen_t salen;
	unsigned int interval_ms, timeout_ms, rise, fall, jitter_pct, backoff_max_ms;
	uint32_t mark;		/* SO_MARK; 0: none */
	uint64_t slack_us;	/* a probe may start this much before its time */
	xlb_hc_change_t on_change;
	void *user;
	char name[80];		/* "tcp 10.0.0.1:80", for log lines */

	/* UDP */
	void *payload;
	size_t payload_len;
	char *expect;		/* UDP reply or HTTP body substring; NULL: any */

	/* HTTP */
	CURL *easy;
	char *url;
	struct curl_slist *hdrs, *connect_to;
	struct hc_range ranges[HC_MAX_RANGES];
	unsigned int nranges;
	char *body;
	size_t body_len, body_cap;
	bool body_full;

	struct xlb_hc_status st;
};

struct xlb_hc {
	int epfd, tfd;
	uint64_t armed_us;	/* timerfd's absolute expiry; HC_NEVER: disarmed */
	uint64_t rng;
	CURLM *multi;
	uint64_t curl_due_us;	/* libcurl's timer; HC_NEVER: none */
	struct hc_target **slots;
	unsigned int nslots, count, hint;
	struct hc_target **heap;
	size_t nheap, heap_cap;
};

static int curl_users;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t ev_tag(unsigned int kind, unsigned int slot, uint32_t seq)
{
	return (uint64_t)kind << 62 | (uint64_t)(slot & (HC_MAX_SLOTS - 1)) << 32 | seq;
}

/* splitmix64: tiny, seedable, and good enough to spread start times. */
static uint64_t prng(struct xlb_hc *hc)
{
	uint64_t z = (hc->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* @delay_ms spread by +-jitter/2, in µs, so that the mean stays @delay_ms. */
static uint64_t jittered_us(struct xlb_hc *hc, const struct hc_target *t, unsigned int delay_ms)
{
	uint64_t d = (uint64_t)delay_ms * 1000, span = d * t->jitter_pct / 100;

	if (!span)
		return d;
	return d - span / 2 + prng(hc) % (span + 1);
}

/* ---- deadline heap ---- */

static bool heap_less(const struct xlb_hc *hc, size_t a, size_t b)
{
	return hc->heap[a]->due_us < hc->heap[b]->due_us;
}

static void heap_swap(struct xlb_hc *hc, size_t a, size_t b)
{
	struct hc_target *t = hc->heap[a];

	hc->heap[a] = hc->heap[b];
	hc->heap[b] = t;
	hc->heap[a]->heap_idx = a;
	hc->heap[b]->heap_idx = b;
}

static void heap_fix(struct xlb_hc *hc, size_t i)
{
	size_t c;

	while (i && heap_less(hc, i, (i - 1) / 2)) {
		heap_swap(hc, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		c = 2 * i + 1;
		if (c >= hc->nheap)
			break;
		if (c + 1 < hc->nheap && heap_less(hc, c + 1, c))
			c++;
		if (!heap_less(hc, c, i))
			break;
		heap_swap(hc, i, c);
		i = c;
	}
}

/* The heap has room for every target (grown in xlb_hc_add()), so this
 * cannot fail. */
static void heap_set(struct xlb_hc *hc, struct hc_target *t, uint64_t due)
{
	t->due_us = due;
	if (t->heap_idx == SIZE_MAX) {
		t->heap_idx = hc->nheap;
		hc->heap[hc->nheap++] = t;
	}
	heap_fix(hc, t->heap_idx);
}

static void heap_remove(struct xlb_hc *hc, struct hc_target *t)
{
	size_t i = t->heap_idx;

	if (i == SIZE_MAX)
		return;
	t->heap_idx = SIZE_MAX;
	if (i != --hc->nheap) {
		hc->heap[i] = hc->heap[hc->nheap];
		hc->heap[i]->heap_idx = i;
		heap_fix(hc, i);
	}
}

static uint64_t earliest_us(const struct xlb_hc *hc)
{
	uint64_t e = hc->curl_due_us;

	if (hc->nheap && hc->heap[0]->due_us < e)
		e = hc->heap[0]->due_us;
	return e;
}

/*
 * Arm the timerfd for the earliest deadline.  Setting a timerfd also clears
 * its expirations, so the fd stays readable only while work is due; an
 * expired deadline is re-armed (in the past: fires at once) rather than
 * skipped, or a backlog left by HC_MAX_FIRE would never wake the daemon.
 */
static void rearm(struct xlb_hc *hc)
{
	struct itimerspec its = {};
	uint64_t e = earliest_us(hc), now = now_us();

	if (e == hc->armed_us && e > now)
		return;
	if (e != HC_NEVER) {
		if (!e)
			e = 1;	/* it_value 0 would disarm */
		its.it_value.tv_sec = e / 1000000;
		its.it_value.tv_nsec = (e % 1000000) * 1000;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(hc->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		pr_warn("health: timerfd_settime: %s\n", strerror(errno));
	hc->armed_us = e;
}

/* ---- results and the state machine ---- */

static const char *state_name(enum xlb_hc_state s)
{
	return s == XLB_HC_UP ? "up" : s == XLB_HC_DOWN ? "down" : "unknown";
}

/* Release what the running probe holds; the target stays scheduled. */
static void probe_stop(struct xlb_hc *hc, struct hc_target *t)
{
	if (t->fd >= 0) {
		close(t->fd);	/* also leaves the epoll set */
		t->fd = -1;
	}
	if (t->easy && t->in_flight)
		curl_multi_remove_handle(hc->multi, t->easy);
	t->in_flight = false;
}

/*
 * Account one completed probe, move the state machine and schedule the
 * next probe.  The callback runs last, since it may delete @t.
 */
const uint32_t xlb_hc_lat_bounds_us[XLB_HC_LAT_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
};

static void probe_done(struct xlb_hc *hc, struct hc_target *t, bool ok, const char *why)
{
	struct xlb_hc_status *st = &t->st;
	enum xlb_hc_state old = st->state;
	uint64_t now = now_us(), lat = now - t->start_us, next;
	char reason[sizeof(st->last_why)];
	xlb_hc_change_t cb;
	unsigned int cap, i;

	probe_stop(hc, t);
	st->probes++;
	st->last_ok = ok;
	st->last_latency_us = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
	snprintf(st->last_why, sizeof(st->last_why), "%s", why);
	st->lat_sum_us += lat;
	for (i = 0; i < XLB_HC_LAT_BUCKETS; i++)
		if (lat <= xlb_hc_lat_bounds_us[i])
			st->lat_le[i]++;
	if (ok) {
		st->successes++;
		st->ok_run++;
		st->fail_run = 0;
	} else {
		st->failures++;
		st->fail_run++;
		st->ok_run = 0;
	}

	if (old == XLB_HC_UNKNOWN)
		st->state = ok ? XLB_HC_UP : XLB_HC_DOWN;
	else if (old == XLB_HC_UP && !ok && st->fail_run >= t->fall)
		st->state = XLB_HC_DOWN;
	else if (old == XLB_HC_DOWN && ok && st->ok_run >= t->rise)
		st->state = XLB_HC_UP;

	/* Half-open trials: a failure while down doubles the wait, a success
	 * returns to the normal pace to collect the rise successes quickly. */
	cap = t->backoff_max_ms;
	if (st->state == XLB_HC_DOWN && !ok)
		st->delay_ms = st->delay_ms > cap / 2 ? cap : st->delay_ms * 2;
	else
		st->delay_ms = t->interval_ms;
	if (st->delay_ms < t->interval_ms)
		st->delay_ms = t->interval_ms;
	/* From when it was due, not when it started: starting within the
	 * slack must not shorten the interval. */
	next = t->sched_us + jittered_us(hc, t, st->delay_ms);
	heap_set(hc, t, next > now ? next : now);

	pr_debug("health: %s: probe %s in %llu us: %s\n", t->name, ok ? "ok" : "failed",
		 (unsigned long long)lat, why);
	if (st->state == old)
		return;
	st->transitions++;
	pr_debug("health: %s: %s -> %s: %s\n", t->name, state_name(old), state_name(st->state),
		why);
	cb = t->on_change;
	if (!cb)
		return;
	/* Our copy: the callback may free @t and with it st->last_why. */
	snprintf(reason, sizeof(reason), "%s", why);
	cb(t->user, t->id, st->state == XLB_HC_UP, reason);
}

static void probe_fail_errno(struct xlb_hc *hc, struct hc_target *t, int err, const char *op)
{
	char why[64];

	if (err == ECONNREFUSED)
		snprintf(why, sizeof(why), "%s",
			 t->type == XLB_HC_UDP ? "port unreachable" : "connect refused");
	else
		snprintf(why, sizeof(why), "%s: %s", op, strerror(err));
	probe_done(hc, t, false, why);
}

static void probe_timeout(struct xlb_hc *hc, struct hc_target *t)
{
	char why[64];

	snprintf(why, sizeof(why), "timeout after %u ms", t->timeout_ms);
	probe_done(hc, t, false, why);
}

/* ---- TCP and UDP ---- */

/* Returns 0 with the socket in the epoll set, or a negative errno. */
static int sock_start(struct xlb_hc *hc, struct hc_target *t)
{
	bool udp = t->type == XLB_HC_UDP;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct epoll_event ev = {
		.events = udp ? EPOLLIN : EPOLLOUT,
		.data.u64 = ev_tag(EV_PROBE, (unsigned int)t->id, t->seq),
	};
	int fd, err = 0;

	fd = socket(t->sa.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	/* Close with a RST: thousands of checks a second must not leave as
	 * many sockets in TIME_WAIT on our side. */
	if (!udp && setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg))) {
		err = -errno;
		goto out;
	}
	/* Before connect(), so that the SYN carries it too. */
	if (t->mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &t->mark, sizeof(t->mark))) {
		err = -errno;
		goto out;
	}
	/* A connected UDP socket is what turns an ICMP port unreachable into
	 * ECONNREFUSED on the next recv(). */
	if (connect(fd, (struct sockaddr *)&t->sa, t->salen) && errno != EINPROGRESS) {
		err = -errno;
		goto out;
	}
	if (udp && send(fd, t->payload ? t->payload : "", t->payload_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	if (epoll_ctl(hc->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		goto out;
	}
	t->fd = fd;
out:
	if (err)
		close(fd);
	return err;
}

static void sock_event(struct xlb_hc *hc, struct hc_target *t, uint32_t events)
{
	char buf[HC_UDP_BUF], why[64];
	socklen_t len = sizeof(int);
	ssize_t n;
	int soerr = 0;

	if (t->type != XLB_HC_UDP) {
		/* A failed connect always raises EPOLLERR; only then is there
		 * an error to fetch (one syscall less per healthy probe). */
		if (events & (EPOLLERR | EPOLLHUP) &&
		    getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
			soerr = errno;
		if (events & (EPOLLERR | EPOLLHUP) && !soerr)
			soerr = ECONNRESET;	/* hung up after connecting */
		if (soerr)
			probe_fail_errno(hc, t, soerr, "connect");
		else
			probe_done(hc, t, true, "connect ok");
		return;
	}
	n = recv(t->fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		probe_fail_errno(hc, t, errno, "recv");
		return;
	}
	if (t->expect && !memmem(buf, (size_t)n, t->expect, strlen(t->expect))) {
		snprintf(why, sizeof(why), "reply lacks '%s'", t->expect);
		probe_done(hc, t, false, why);
		return;
	}
	probe_done(hc, t, true, "reply received");
}

/* ---- HTTP through libcurl's multi interface ---- */

static size_t http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct hc_target *t = arg;
	size_t n = size * nmemb, room;
	char *p;

	if (!t->expect)
		return n;
	if (t->body_len + n + 1 > t->body_cap && t->body_cap < XLB_HC_BODY_MAX + 1) {
		p = realloc(t->body, XLB_HC_BODY_MAX + 1);
		if (!p)
			return 0;
		t->body = p;
		t->body_cap = XLB_HC_BODY_MAX + 1;
	}
	room = t->body_cap - 1 - t->body_len;
	if (n > room) {
		/* Enough to judge: abort the transfer rather than read a
		 * huge body, and judge on what we have. */
		memcpy(t->body + t->body_len, data, room);
		t->body_len += room;
		t->body_full = true;
		return 0;
	}
	memcpy(t->body + t->body_len, data, n);
	t->body_len += n;
	return n;
}

static bool status_ok(const struct hc_target *t, long code)
{
	unsigned int i;

	for (i = 0; i < t->nranges; i++)
		if (code >= t->ranges[i].lo && code <= t->ranges[i].hi)
			return true;
	return false;
}

static void http_done(struct xlb_hc *hc, struct hc_target *t, CURLcode rc)
{
	char why[64];
	long code = 0, oserr = 0;

	if (rc == CURLE_WRITE_ERROR && t->body_full)
		rc = CURLE_OK;
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		probe_timeout(hc, t);
		return;
	}
	if (rc != CURLE_OK) {
		curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &oserr);
		if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
			snprintf(why, sizeof(why), "connect refused");
		else
			snprintf(why, sizeof(why), "HTTP: %s", curl_easy_strerror(rc));
		probe_done(hc, t, false, why);
		return;
	}
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	snprintf(why, sizeof(why), "HTTP %ld", code);
	if (!status_ok(t, code)) {
		probe_done(hc, t, false, why);
		return;
	}
	if (t->expect) {
		if (!t->body || !memmem(t->body, t->body_len, t->expect, strlen(t->expect))) {
			snprintf(why, sizeof(why), "body lacks '%s'", t->expect);
			probe_done(hc, t, false, why);
			return;
		}
	}
	probe_done(hc, t, true, why);
}

/* Collect finished transfers.  A message's memory dies with
 * curl_multi_remove_handle(), so copy what we need before judging. */
static void curl_drain(struct xlb_hc *hc)
{
	struct hc_target *t;
	CURLMsg *m;
	CURLcode rc;
	CURL *e;
	int left;

	while ((m = curl_multi_info_read(hc->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		e = m->easy_handle;
		rc = m->data.result;
		t = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
		if (t && t->in_flight)
			http_done(hc, t, rc);
	}
}

static int curl_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct xlb_hc *hc = userp;
	struct epoll_event ev = { .data.u64 = ev_tag(EV_CURL, 0, (uint32_t)s) };

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		/* curl may have closed it already, which left the set. */
		epoll_ctl(hc->epfd, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(hc->multi, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (socketp) {
		if (!epoll_ctl(hc->epfd, EPOLL_CTL_MOD, s, &ev))
			return 0;
	} else if (!epoll_ctl(hc->epfd, EPOLL_CTL_ADD, s, &ev) ||
		   (errno == EEXIST && !epoll_ctl(hc->epfd, EPOLL_CTL_MOD, s, &ev))) {
		/* Any non-NULL pointer marks the socket as registered. */
		curl_multi_assign(hc->multi, s, hc);
		return 0;
	}
	/* The transfer then runs into its deadline and fails as a timeout. */
	pr_warn("health: epoll_ctl for libcurl socket %d: %s\n", s, strerror(errno));
	return 0;
}

static int curl_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct xlb_hc *hc = userp;

	(void)m;
	hc->curl_due_us = timeout_ms < 0 ? HC_NEVER : now_us() + (uint64_t)timeout_ms * 1000;
	return 0;
}

static void curl_kick(struct xlb_hc *hc, curl_socket_t s, int mask)
{
	int running;

	curl_multi_socket_action(hc->multi, s, mask, &running);
}

/* libcurl calls this on each new socket before it connects. */
static int http_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	const struct hc_target *t = arg;

	if (purpose != CURLSOCKTYPE_IPCXN || !t->mark)
		return CURL_SOCKOPT_OK;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &t->mark, sizeof(t->mark))) {
		pr_debug("health: %s: SO_MARK: %s\n", t->name, strerror(errno));
		return CURL_SOCKOPT_ERROR;
	}
	return CURL_SOCKOPT_OK;
}

static int http_setup(struct hc_target *t, const struct xlb_hc_spec *sp, const char *ip,
		      unsigned int port)
{
	const char *scheme = t->type == XLB_HC_HTTPS ? "https" : "http";
	const char *path = sp->path ? sp->path : "/";
	char *s = NULL;
	int err = 0;

	t->easy = curl_easy_init();
	if (!t->easy)
		return -ENOMEM;
	if (asprintf(&t->url, "%s://%s:%u%s", scheme, sp->host ? sp->host : ip, port, path) < 0) {
		t->url = NULL;
		err = -ENOMEM;
		goto out;
	}
	if (sp->host) {
		/* The URL names the host, so TLS sends it as SNI and checks
		 * the certificate against it; CONNECT_TO sends the connection
		 * to the backend's address without any name lookup. */
		if (asprintf(&s, "%s:%u:%s:%u", sp->host, port, ip, port) < 0) {
			s = NULL;
			err = -ENOMEM;
			goto out;
		}
		t->connect_to = curl_slist_append(NULL, s);
		free(s);
		/* Exactly the configured Host, without curl's ":port". */
		if (asprintf(&s, "Host: %s", sp->host) < 0) {
			s = NULL;
			err = -ENOMEM;
			goto out;
		}
		t->hdrs = curl_slist_append(NULL, s);
		if (!t->connect_to || !t->hdrs) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (curl_easy_setopt(t->easy, CURLOPT_URL, t->url) ||
	    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t) ||
	    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, http_write) ||
	    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t) ||
	    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L) ||
	    /* Our heap deadline is authoritative; curl's is a backstop. */
	    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms + 1000) ||
	    /* Every check is a new connection, as a new client's would be. */
	    curl_easy_setopt(t->easy, CURLOPT_FORBID_REUSE, 1L) ||
	    curl_easy_setopt(t->easy, CURLOPT_FRESH_CONNECT, 1L) ||
	    /* http_proxy in xlbd's environment must not reroute checks. */
	    curl_easy_setopt(t->easy, CURLOPT_NOPROXY, "*") ||
	    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "xlb-health/1") ||
	    curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYPEER, sp->tls_verify ? 1L : 0L) ||
	    curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYHOST, sp->tls_verify ? 2L : 0L) ||
	    (t->mark && (curl_easy_setopt(t->easy, CURLOPT_SOCKOPTFUNCTION, http_sockopt) ||
			 curl_easy_setopt(t->easy, CURLOPT_SOCKOPTDATA, t))) ||
	    (t->connect_to && curl_easy_setopt(t->easy, CURLOPT_CONNECT_TO, t->connect_to)) ||
	    (t->hdrs && curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->hdrs))) {
		err = -EINVAL;
		goto out;
	}
out:
	free(s);
	return err;
}

/* ---- probes ---- */

static void probe_start(struct xlb_hc *hc, struct hc_target *t, uint64_t now)
{
	int err;

	t->seq++;
	t->start_us = now;
	t->sched_us = t->due_us > now ? t->due_us : now;
	t->st.last_start_ms = now / 1000;
	t->in_flight = true;
	heap_set(hc, t, now + (uint64_t)t->timeout_ms * 1000);
	if (t->easy) {
		t->body_len = 0;
		t->body_full = false;
		if (curl_multi_add_handle(hc->multi, t->easy)) {
			/* Not added: nothing for probe_stop() to remove. */
			t->in_flight = false;
			probe_done(hc, t, false, "HTTP: cannot start");
		}
		return;
	}
	err = sock_start(hc, t);
	if (err)
		probe_fail_errno(hc, t, -err, "connect");
}

static struct hc_target *slot_get(const struct xlb_hc *hc, int id)
{
	if (!hc || id < 0 || (unsigned int)id >= hc->nslots)
		return NULL;
	return hc->slots[id];
}

static void handle_event(struct xlb_hc *hc, const struct epoll_event *ev)
{
	unsigned int kind = ev->data.u64 >> 62, slot = (ev->data.u64 >> 32) & (HC_MAX_SLOTS - 1);
	uint32_t low = (uint32_t)ev->data.u64;
	struct hc_target *t;
	int mask = 0;

	switch (kind) {
	case EV_TIMER:
		/* Deadlines are run after the events; rearm() resets the fd. */
		break;
	case EV_PROBE:
		t = slot_get(hc, (int)slot);
		if (t && t->in_flight && t->seq == low && t->fd >= 0)
			sock_event(hc, t, ev->events);
		break;
	case EV_CURL:
		if (ev->events & EPOLLIN)
			mask |= CURL_CSELECT_IN;
		if (ev->events & EPOLLOUT)
			mask |= CURL_CSELECT_OUT;
		if (ev->events & (EPOLLERR | EPOLLHUP))
			mask |= CURL_CSELECT_ERR;
		curl_kick(hc, (curl_socket_t)low, mask);
		break;
	}
}

static void run_deadlines(struct xlb_hc *hc)
{
	unsigned int budget = HC_MAX_FIRE;
	uint64_t now = now_us();
	struct hc_target *t;

	/* Probes due within their slack start now too: one wakeup serves a
	 * few milliseconds' worth of them rather than one each.  Timeouts
	 * never fire early, and a target's first probe keeps the exact time
	 * xlb_hc_add() spread it to. */
	while (hc->nheap && budget--) {
		t = hc->heap[0];
		if (t->due_us > now + (t->in_flight || !t->st.last_start_ms ? 0 : t->slack_us))
			break;
		if (t->in_flight)
			probe_timeout(hc, t);
		else
			probe_start(hc, t, now);
	}
	if (hc->curl_due_us <= now_us()) {
		hc->curl_due_us = HC_NEVER;
		curl_kick(hc, CURL_SOCKET_TIMEOUT, 0);
	}
}

/* ---- API ---- */

int xlb_hc_open(struct xlb_hc **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = ev_tag(EV_TIMER, 0, 0) };
	struct xlb_hc *hc;
	int err = 0;

	*out = NULL;
	hc = calloc(1, sizeof(*hc));
	if (!hc)
		return -ENOMEM;
	hc->epfd = hc->tfd = -1;
	hc->armed_us = hc->curl_due_us = HC_NEVER;
	if (getrandom(&hc->rng, sizeof(hc->rng), GRND_NONBLOCK) != sizeof(hc->rng))
		hc->rng = now_us() ^ ((uint64_t)getpid() << 32);
	if (!curl_users && curl_global_init(CURL_GLOBAL_DEFAULT)) {
		free(hc);
		return -ENOMEM;
	}
	curl_users++;
	hc->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (hc->epfd < 0) {
		err = -errno;
		goto out;
	}
	hc->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (hc->tfd < 0) {
		err = -errno;
		goto out;
	}
	if (epoll_ctl(hc->epfd, EPOLL_CTL_ADD, hc->tfd, &ev)) {
		err = -errno;
		goto out;
	}
	hc->multi = curl_multi_init();
	if (!hc->multi) {
		err = -ENOMEM;
		goto out;
	}
	if (curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb) ||
	    curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc) ||
	    curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) ||
	    curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc)) {
		err = -EINVAL;
		goto out;
	}
	*out = hc;
out:
	if (err) {
		pr_warn("health: cannot create the probe engine: %s\n", strerror(-err));
		xlb_hc_close(hc);
	}
	return err;
}

void xlb_hc_seed(struct xlb_hc *hc, uint64_t seed)
{
	if (hc)
		hc->rng = seed;
}

int xlb_hc_fd(const struct xlb_hc *hc)
{
	return hc ? hc->epfd : -EINVAL;
}

int xlb_hc_next_timeout_ms(const struct xlb_hc *hc)
{
	uint64_t e, now;

	if (!hc)
		return -1;
	e = earliest_us(hc);
	if (e == HC_NEVER)
		return -1;
	now = now_us();
	if (e <= now)
		return 0;
	/* Round up: waking early would only find nothing due and spin. */
	e = (e - now + 999) / 1000;
	return e > INT_MAX ? INT_MAX : (int)e;
}

int xlb_hc_dispatch(struct xlb_hc *hc, int timeout_ms)
{
	struct epoll_event evs[HC_BATCH];
	int n, i, wait, err = 0;

	if (!hc)
		return -EINVAL;
	wait = xlb_hc_next_timeout_ms(hc);
	if (timeout_ms >= 0 && (wait < 0 || wait > timeout_ms))
		wait = timeout_ms;
	n = epoll_wait(hc->epfd, evs, HC_BATCH, wait);
	if (n < 0) {
		if (errno != EINTR)
			err = -errno;
		goto out;
	}
	for (i = 0; i < n; i++)
		handle_event(hc, &evs[i]);
	curl_drain(hc);
	run_deadlines(hc);
	curl_drain(hc);
out:
	rearm(hc);
	return err;
}

static int parse_status(struct hc_target *t, const char *s)
{
	unsigned long lo, hi;
	char *end;

	for (;;) {
		if (t->nranges == HC_MAX_RANGES)
			return -EINVAL;
		errno = 0;
		lo = strtoul(s, &end, 10);
		if (end == s || errno)
			return -EINVAL;
		hi = lo;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s || errno)
				return -EINVAL;
		}
		if (lo < 100 || hi > 599 || lo > hi)
			return -EINVAL;
		t->ranges[t->nranges].lo = (unsigned int)lo;
		t->ranges[t->nranges].hi = (unsigned int)hi;
		t->nranges++;
		if (!*end)
			return 0;
		if (*end != ',')
			return -EINVAL;
		s = end + 1;
	}
}

/* Text that goes into a URL or a header line: printable, no separators that
 * would change its meaning. */
static bool clean_text(const char *s, const char *forbid)
{
	for (; *s; s++)
		if (*s <= ' ' || *s == 0x7f || strchr(forbid, *s))
			return false;
	return true;
}

static int check_spec(const struct xlb_hc_spec *sp)
{
	bool http = sp->type == XLB_HC_HTTP || sp->type == XLB_HC_HTTPS;

	if (sp->type > XLB_HC_UDP || sp->initial > XLB_HC_DOWN)
		return -EINVAL;
	if (sp->addr.sa.sa_family == AF_INET ? !sp->addr.v4.sin_port
	    : sp->addr.sa.sa_family == AF_INET6 ? !sp->addr.v6.sin6_port : true)
		return -EINVAL;
	if (!sp->interval_ms || !sp->timeout_ms || sp->timeout_ms > sp->interval_ms ||
	    !sp->rise || !sp->fall || sp->jitter_pct > XLB_HC_MAX_JITTER_PCT ||
	    sp->interval_ms > INT_MAX / 1000)
		return -EINVAL;
	if (sp->backoff_max_ms && sp->backoff_max_ms < sp->interval_ms)
		return -EINVAL;
	if (http && sp->path && (sp->path[0] != '/' || !clean_text(sp->path, "#")))
		return -EINVAL;
	if (http && sp->host && (!*sp->host || !clean_text(sp->host, "/?#@")))
		return -EINVAL;
	if (sp->type == XLB_HC_UDP && sp->payload_len && !sp->payload)
		return -EINVAL;
	return 0;
}

static void target_free(struct hc_target *t)
{
	if (!t)
		return;
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->hdrs);
	curl_slist_free_all(t->connect_to);
	free(t->url);
	free(t->body);
	free(t->expect);
	free(t->payload);
	free(t);
}

static int slot_alloc(struct xlb_hc *hc)
{
	struct hc_target **p;
	unsigned int i, n;

	if (hc->count < hc->nslots) {
		for (i = 0; i < hc->nslots; i++) {
			n = (hc->hint + i) % hc->nslots;
			if (!hc->slots[n]) {
				hc->hint = n + 1;
				return (int)n;
			}
		}
	}
	if (hc->nslots >= HC_MAX_SLOTS)
		return -ENOSPC;
	n = hc->nslots ? hc->nslots * 2 : 16;
	p = realloc(hc->slots, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + hc->nslots, 0, (n - hc->nslots) * sizeof(*p));
	hc->slots = p;
	/* The heap holds at most one entry per slot. */
	p = realloc(hc->heap, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	hc->heap = p;
	hc->heap_cap = n;
	i = hc->nslots;
	hc->nslots = n;
	hc->hint = i + 1;
	return (int)i;
}

int xlb_hc_add(struct xlb_hc *hc, const struct xlb_hc_spec *sp, void *user, int *id)
{
	static const char *const types[] = { "tcp", "http", "https", "udp" };
	const char *expect;
	struct hc_target *t = NULL;
	char ip[INET6_ADDRSTRLEN + 2], a[INET6_ADDRSTRLEN];
	unsigned int port;
	uint64_t span;
	int err, slot;

	if (!hc || !sp || !id)
		return -EINVAL;
	err = check_spec(sp);
	if (err)
		goto out;
	t = calloc(1, sizeof(*t));
	if (!t) {
		err = -ENOMEM;
		goto out;
	}
	t->fd = -1;
	t->heap_idx = SIZE_MAX;
	t->type = sp->type;
	if (sp->addr.sa.sa_family == AF_INET) {
		memcpy(&t->sa, &sp->addr.v4, sizeof(sp->addr.v4));
		t->salen = sizeof(sp->addr.v4);
		inet_ntop(AF_INET, &sp->addr.v4.sin_addr, a, sizeof(a));
		snprintf(ip, sizeof(ip), "%s", a);
		port = ntohs(sp->addr.v4.sin_port);
	} else {
		memcpy(&t->sa, &sp->addr.v6, sizeof(sp->addr.v6));
		t->salen = sizeof(sp->addr.v6);
		inet_ntop(AF_INET6, &sp->addr.v6.sin6_addr, a, sizeof(a));
		snprintf(ip, sizeof(ip), "[%s]", a);
		port = ntohs(sp->addr.v6.sin6_port);
	}
	snprintf(t->name, sizeof(t->name), "%s %s:%u", types[sp->type], ip, port);
	if (sp->mark)	/* data-path probes share VIP:port; the mark tells them apart */
		snprintf(t->name + strlen(t->name), sizeof(t->name) - strlen(t->name),
			 " mark %#x", sp->mark);
	t->interval_ms = sp->interval_ms;
	t->timeout_ms = sp->timeout_ms;
	t->rise = sp->rise;
	t->fall = sp->fall;
	t->jitter_pct = sp->jitter_pct < 0 ? 0 : sp->jitter_pct ? (unsigned int)sp->jitter_pct
								 : XLB_HC_DEF_JITTER_PCT;
	t->backoff_max_ms = sp->backoff_max_ms;
	/* Well inside the jitter window, so that it does not undo the spread:
	 * 20 ms at a 1 s interval and the default jitter; none without jitter. */
	t->slack_us = (uint64_t)sp->interval_ms * 1000 * t->jitter_pct / 100 / HC_SLACK_DIV;
	if (t->slack_us > HC_SLACK_MAX_US)
		t->slack_us = HC_SLACK_MAX_US;
	if (!t->backoff_max_ms)
		t->backoff_max_ms = sp->interval_ms > UINT_MAX / HC_BACKOFF_MUL
					    ? UINT_MAX
					    : sp->interval_ms * HC_BACKOFF_MUL;
	t->on_change = sp->on_change;
	t->user = user;
	t->mark = sp->mark;
	t->st.state = sp->initial;
	t->st.delay_ms = sp->interval_ms;

	expect = sp->type == XLB_HC_UDP ? sp->expect_reply
		 : sp->type == XLB_HC_TCP ? NULL
					  : sp->expect_body;
	if (expect && *expect && !(t->expect = strdup(expect))) {
		err = -ENOMEM;
		goto out;
	}
	if (sp->type == XLB_HC_UDP && sp->payload_len) {
		t->payload = malloc(sp->payload_len);
		if (!t->payload) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(t->payload, sp->payload, sp->payload_len);
		t->payload_len = sp->payload_len;
	}
	if (sp->type == XLB_HC_HTTP || sp->type == XLB_HC_HTTPS) {
		err = parse_status(t, sp->expect_status ? sp->expect_status : "200-399");
		if (err)
			goto out;
		err = http_setup(t, sp, ip, port);
		if (err)
			goto out;
	}

	slot = slot_alloc(hc);
	if (slot < 0) {
		err = slot;
		goto out;
	}
	t->id = slot;
	hc->slots[slot] = t;
	hc->count++;
	/* The first probe lands anywhere in the jitter window, so targets
	 * added together (a config load) do not fire in lockstep. */
	span = (uint64_t)t->interval_ms * 1000 * t->jitter_pct / 100;
	heap_set(hc, t, now_us() + (span ? prng(hc) % (span + 1) : 0));
	rearm(hc);
	*id = slot;
	t = NULL;
out:
	target_free(t);
	return err;
}

int xlb_hc_del(struct xlb_hc *hc, int id)
{
	struct hc_target *t = slot_get(hc, id);

	if (!t)
		return -ENOENT;
	probe_stop(hc, t);
	heap_remove(hc, t);
	hc->slots[id] = NULL;
	hc->count--;
	target_free(t);
	return 0;
}

int xlb_hc_get(const struct xlb_hc *hc, int id, struct xlb_hc_status *st)
{
	const struct hc_target *t = slot_get(hc, id);

	if (!t)
		return -ENOENT;
	*st = t->st;
	return 0;
}

unsigned int xlb_hc_count(const struct xlb_hc *hc)
{
	return hc ? hc->count : 0;
}

void xlb_hc_close(struct xlb_hc *hc)
{
	unsigned int i;

	if (!hc)
		return;
	for (i = 0; i < hc->nslots; i++)
		xlb_hc_del(hc, (int)i);
	if (hc->multi)
		curl_multi_cleanup(hc->multi);
	if (hc->tfd >= 0)
		close(hc->tfd);
	if (hc->epfd >= 0)
		close(hc->epfd);
	free(hc->slots);
	free(hc->heap);
	free(hc);
	if (!--curl_users)
		curl_global_cleanup();
}
