/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Prometheus metrics of xlbd (docs/metrics.md): the rendering of every
 * xlb_* family from the balancer, the health engine and the daemon's
 * counters, and the HTTP endpoint that serves it.
 *
 * The endpoint is libmicrohttpd in external-event mode, with no thread of
 * its own: xlb_metrics_fd() is an epoll fd that the daemon adds to its own
 * epoll with EPOLLIN; after every wakeup of its loop the daemon calls
 * xlb_metrics_dispatch() (MHD requires that whenever it has a timeout
 * pending, not only when the fd is readable), and bounds its wait with
 * xlb_metrics_next_timeout_ms().  Dispatch also advances the walk that
 * counts the connection table, a bounded step at a time.  Only GET and HEAD of /metrics are
 * served (404 elsewhere, 405 for other methods).  A slow or stuck client
 * cannot stall the loop: sockets are non-blocking, each response body is
 * rendered whole in memory before it is queued, connections are limited
 * in number and time out when idle.
 */
#ifndef XLB_METRICS_H
#define XLB_METRICS_H

#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>

struct xlb_lb;
struct xlb_hc;
struct xlb_api;
struct xlb_ring_info;
struct xlb_cfg;

/* What a scrape renders.  The daemon owns the objects; they must outlive
 * the renders that read them. */
struct xlb_metrics_src {
	struct xlb_lb *lb;		/* required */
	struct xlb_hc *hc;		/* NULL: no probe metrics */
	struct xlb_api *api;		/* NULL: no daemon counters */
	json_t *ifaces;			/* [{name, mode}]: xlb_xdp_attached; NULL: none */
	double start_time;		/* unix seconds; 0: not rendered (see open) */
	unsigned int ct_refresh_ms;	/* conntrack walks start this often; 0: 10000 */

	/* Kept by the renderer between scrapes (start zeroed). */
	__u64 ct_entries;		/* last complete count of the connection table */
	__u64 ct_read_ms;		/* CLOCK_MONOTONIC ms it completed; 0: never */
	__u64 ct_capacity;		/* max_entries of the map; 0: not read yet */
	struct xlb_metrics_scratch *scratch;	/* buffers reused by every scrape */
};

/*
 * Render the whole exposition into a malloc'd, NUL-terminated *text.
 * Returns 0 or a negative errno.  Give the text back with
 * xlb_metrics_text_put() (the next render reuses it) or free() it.
 */
int xlb_metrics_render(struct xlb_metrics_src *src, char **text, size_t *len);
void xlb_metrics_text_put(struct xlb_metrics_src *src, char *text);
/* Free what the renderer keeps in @src (not the objects it points to).
 * After xlb_metrics_close() of the server that used it. */
void xlb_metrics_src_release(struct xlb_metrics_src *src);

#define XLB_METRICS_MAX_CONNS		16
#define XLB_METRICS_TIMEOUT_S		10

struct xlb_metrics_opts {
	__u32 addr[4];			/* NBO; IPv4 in addr[0] */
	__u8 family;			/* XLB_AF_* */
	__u16 port;			/* HBO; 1..65535 */
	unsigned int max_conns;		/* 0: XLB_METRICS_MAX_CONNS */
	unsigned int timeout_s;		/* idle connection timeout; 0: XLB_METRICS_TIMEOUT_S */
};

/* The options @cfg's metrics section gives (listen address and port). */
void xlb_metrics_opts_from_cfg(const struct xlb_cfg *cfg, struct xlb_metrics_opts *o);

struct xlb_metrics;

/* Listen on @o's address (SO_REUSEADDR); @src is read on every scrape.
 * A zero src->start_time is set to now. */
int xlb_metrics_open(const struct xlb_metrics_opts *o, struct xlb_metrics_src *src,
		     struct xlb_metrics **out);
int xlb_metrics_fd(const struct xlb_metrics *m);
/* Serve what is ready, without blocking.  0 or a negative errno. */
int xlb_metrics_dispatch(struct xlb_metrics *m);
/* Milliseconds until dispatch is due regardless of the fd; -1: none. */
int xlb_metrics_next_timeout_ms(struct xlb_metrics *m);
/* Close every connection and the listener.  Accepts NULL. */
void xlb_metrics_close(struct xlb_metrics *m);

#endif /* XLB_METRICS_H */
