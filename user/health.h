/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The health-check probe engine: TCP connect, HTTP(S) GET and UDP
 * request/reply probes of many targets, all non-blocking, driven from the
 * daemon's one event loop.  No threads of our own (libcurl is only given IP
 * literals, so it never starts a resolver thread).
 *
 * Integration mirrors ctlsock.h: the engine owns an epoll fd (xlb_hc_fd())
 * that holds every probe socket, libcurl's sockets and a timerfd armed for
 * the next deadline, so the fd turns readable whenever there is work.  The
 * daemon adds it to its own epoll with EPOLLIN and calls
 * xlb_hc_dispatch(hc, 0) when it is readable (xlb_hc_next_timeout_ms() may
 * also bound the daemon's own wait, but need not).
 *
 * State per target, with rise/fall counting:
 *   UNKNOWN --first result--> UP or DOWN   (on_change fires)
 *   UP   --fall consecutive failures-->  DOWN (on_change fires)
 *   DOWN --rise consecutive successes--> UP   (on_change fires)
 * The start state is spec->initial: UNKNOWN (the default, first result
 * decides, so a fresh daemon learns the truth after one round) or UP/DOWN
 * (a restarted daemon resuming its previous view).
 *
 * While DOWN, every failed probe doubles the delay to the next one, up to
 * backoff_max_ms: a dead backend costs little, and each probe is a
 * half-open trial.  One success resets the delay to interval_ms so that the
 * rise successes needed to come back arrive at the normal pace.
 *
 * To serve many targets with few wakeups, a probe may start up to a fifth
 * of its jitter window early (at most 20 ms; never without jitter, never a
 * target's first probe); the next one is still scheduled from when it was
 * due, so intervals keep their mean.  Timeouts never fire early.
 */
#ifndef XLB_HEALTH_H
#define XLB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct xlb_hc;

enum xlb_hc_type {
	XLB_HC_TCP,	/* connect succeeds */
	XLB_HC_HTTP,	/* GET answers an expected status (and body) */
	XLB_HC_HTTPS,
	XLB_HC_UDP,	/* payload sent, a reply (containing expect) comes back */
};

enum xlb_hc_state {
	XLB_HC_UNKNOWN,
	XLB_HC_UP,
	XLB_HC_DOWN,
};

/*
 * Called on every state transition, from inside xlb_hc_dispatch().  @why is
 * a short reason ("connect refused", "timeout after 500 ms", "HTTP 503",
 * "body lacks 'ok'", "HTTP 200"), valid only during the call.  The callback
 * may call xlb_hc_add() and xlb_hc_del() (its own id included), but not
 * xlb_hc_close().
 */
typedef void (*xlb_hc_change_t)(void *user, int id, bool up, const char *why);

#define XLB_HC_DEF_JITTER_PCT	10
#define XLB_HC_MAX_JITTER_PCT	50
#define XLB_HC_BODY_MAX		65536	/* bytes of a body searched for expect_body */

struct xlb_hc_spec {
	enum xlb_hc_type type;
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} addr;				/* target; family AF_INET or AF_INET6, port != 0 */
	unsigned int interval_ms;	/* >= 1: between probes while up */
	unsigned int timeout_ms;	/* >= 1, <= interval_ms: one probe's budget */
	unsigned int rise;		/* >= 1: successes to come up */
	unsigned int fall;		/* >= 1: failures to go down */
	int jitter_pct;			/* spread of each delay, % of it; <0: none, 0: default 10 */
	unsigned int backoff_max_ms;	/* cap of the delay while down; 0: 8 * interval_ms */
	enum xlb_hc_state initial;	/* start state; UNKNOWN: first result decides */
	xlb_hc_change_t on_change;	/* may be NULL */
	uint32_t mark;			/* SO_MARK of every probe socket (needs
					 * CAP_NET_ADMIN); 0: none.  Data-path
					 * probes: xlb_hc_mark() in hcpath.h */

	/* HTTP/HTTPS */
	const char *path;		/* NULL: "/" */
	const char *host;		/* Host header and TLS SNI; NULL: the address */
	const char *expect_status;	/* "200,204,300-399"; NULL: "200-399" */
	const char *expect_body;	/* substring of the first 64 KiB; NULL: any */
	bool tls_verify;		/* HTTPS: verify the certificate against host */

	/* UDP */
	const void *payload;		/* sent as one datagram; may be empty */
	size_t payload_len;
	const char *expect_reply;	/* substring the reply must hold; NULL: any reply */
};

/* Upper bounds (microseconds) of the probe latency histogram's buckets;
 * a last, implicit bucket is +Inf (the count of all probes). */
#define XLB_HC_LAT_BUCKETS	12
extern const uint32_t xlb_hc_lat_bounds_us[XLB_HC_LAT_BUCKETS];

struct xlb_hc_status {
	enum xlb_hc_state state;
	bool last_ok;			/* result of the last completed probe */
	char last_why[64];		/* its reason, as on_change would give it */
	uint32_t last_latency_us;	/* duration of the last completed probe */
	uint64_t last_start_ms;		/* CLOCK_MONOTONIC ms the last probe started; 0: never */
	unsigned int delay_ms;		/* current delay between probes (grows while down) */
	unsigned int ok_run, fail_run;	/* consecutive successes / failures */
	uint64_t probes;		/* completed probes */
	uint64_t successes, failures;
	uint64_t transitions;
	/* Latency of every completed probe, failures included, cumulative
	 * as Prometheus wants it: lat_le[i] counts probes <= bound i. */
	uint64_t lat_le[XLB_HC_LAT_BUCKETS];
	uint64_t lat_sum_us;
};

/* Create an engine.  Returns 0 or a negative errno. */
int xlb_hc_open(struct xlb_hc **out);

/* Seed the jitter PRNG (xlb_hc_open() seeds it from getrandom()), so that
 * tests and benchmarks can repeat a schedule. */
void xlb_hc_seed(struct xlb_hc *hc, uint64_t seed);

/* The engine's epoll fd: add it to the daemon's epoll with EPOLLIN. */
int xlb_hc_fd(const struct xlb_hc *hc);

/*
 * Handle ready sockets, then start due probes and expire late ones, waiting
 * at most @timeout_ms for something to happen (-1: until the next deadline
 * or event; 0: not at all).  Work per call is bounded, so a backlog spreads
 * over a few calls rather than stalling the daemon.  Returns 0 or a
 * negative errno on a fatal error of the engine itself; a probe's errors
 * are only results.
 */
int xlb_hc_dispatch(struct xlb_hc *hc, int timeout_ms);

/* Milliseconds until the next deadline (0: work is due now); -1: none. */
int xlb_hc_next_timeout_ms(const struct xlb_hc *hc);

/*
 * Start probing a target; the spec's strings and payload are copied.  The
 * first probe starts within jitter of now.  Returns 0 with *@id set, or
 * -EINVAL for a bad spec, or another negative errno.
 */
int xlb_hc_add(struct xlb_hc *hc, const struct xlb_hc_spec *spec, void *user, int *id);

/* Stop probing a target and forget it (a probe in flight is abandoned).
 * Returns 0 or -ENOENT. */
int xlb_hc_del(struct xlb_hc *hc, int id);

/* Copy a target's state and counters.  Returns 0 or -ENOENT. */
int xlb_hc_get(const struct xlb_hc *hc, int id, struct xlb_hc_status *st);

/* Number of targets. */
unsigned int xlb_hc_count(const struct xlb_hc *hc);

/* Abandon every probe and free everything.  Accepts NULL. */
void xlb_hc_close(struct xlb_hc *hc);

#endif /* XLB_HEALTH_H */
