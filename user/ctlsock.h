/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xlbd's control socket: a bounded, non-blocking server of newline-delimited
 * JSON on an AF_UNIX stream socket, driven from the daemon's one event loop.
 *
 * The module owns an epoll fd (xlb_ctl_fd()) that holds the listener and every
 * client.  The daemon adds that fd to its own epoll with EPOLLIN and, when it
 * is readable or when xlb_ctl_next_timeout_ms() has elapsed, calls
 * xlb_ctl_dispatch(c, 0).  Nothing here blocks or spawns threads; the handler
 * runs inside xlb_ctl_dispatch(), one request at a time, in arrival order.
 *
 * Every resource a peer can hold is bounded: request size, client count,
 * idle time (only a complete request resets it, so a half-written request
 * cannot pin a slot) and the replies queued for a peer that does not read.
 */
#ifndef XLB_CTLSOCK_H
#define XLB_CTLSOCK_H

#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

struct xlb_ctl;

/* Who sent a request, from SO_PEERCRED at accept time. */
struct xlb_ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	unsigned long long id;	/* connection serial, for log lines */
};

/*
 * Called for each request, a JSON object the server still owns (incref it to
 * keep it).  Set *@reply to a new reference; the server sends it as one line
 * and drops the reference.  Returning a negative errno with no reply sends
 * {"ok":false,"error":"<strerror>"}; returning 0 with no reply sends
 * {"ok":true}.  The handler must not call xlb_ctl_close().
 */
typedef int (*xlb_ctl_handler_t)(void *ctx, const struct xlb_ctl_peer *peer, json_t *request,
				 json_t **reply);

#define XLB_CTL_DEF_MAX_OUTPUT	(1U << 20)

struct xlb_ctl_opts {
	const char *path;		/* socket path; its directory is created 0755 */
	const char *group;		/* name or number; NULL: root only, mode 0600 */
	unsigned int max_clients;	/* >= 1 */
	size_t max_request_bytes;	/* one line, without its '\n'; >= 2 */
	unsigned int idle_timeout_ms;	/* 0: never */
	size_t max_output_bytes;	/* per client queued replies; 0: 1 MiB */
	xlb_ctl_handler_t handle;
	void *ctx;
};

/*
 * Create the socket and start listening.  A socket file left by a dead
 * daemon is replaced; one that a live process answers on gives -EADDRINUSE
 * and is left alone.  Returns 0 or a negative errno (with a message logged).
 */
int xlb_ctl_open(const struct xlb_ctl_opts *o, struct xlb_ctl **out);

/* The module's epoll fd: add it to the daemon's epoll with EPOLLIN. */
int xlb_ctl_fd(const struct xlb_ctl *c);

/*
 * Accept, read, answer and write what is ready, waiting at most @timeout_ms
 * (-1: until something happens; 0: not at all, for use from the daemon's
 * loop), then close idle clients.  Returns 0 or a negative errno on a fatal
 * error of the listener or the epoll fd; a client's errors only close it.
 */
int xlb_ctl_dispatch(struct xlb_ctl *c, int timeout_ms);

/* Milliseconds until the next idle client expires; -1 if none can. */
int xlb_ctl_next_timeout_ms(const struct xlb_ctl *c);

/* Number of connected clients (including those being closed). */
unsigned int xlb_ctl_nclients(const struct xlb_ctl *c);

/* Close every client and the listener, and unlink the socket if it is still
 * ours.  Accepts NULL. */
void xlb_ctl_close(struct xlb_ctl *c);

#endif /* XLB_CTLSOCK_H */
