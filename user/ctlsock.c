// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket server; see ctlsock.h for the contract.  Single
 * threaded, non-blocking, level-triggered epoll.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "ctlsock.h"
#include "log.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

#define CTL_BATCH		64	/* events, and accepts, per dispatch round */
#define CTL_IN_INITIAL		4096
#define CTL_ERRLEN		256

struct ctl_client {
	int fd;			/* -1: free slot */
	uint32_t gen;		/* bumped on reuse, so a stale event is ignored */
	uint32_t events;	/* what is registered with epoll */
	bool closing;		/* no more reads; closed once out is flushed */
	struct xlb_ctl_peer peer;
	uint64_t deadline_ms;	/* CLOCK_MONOTONIC; 0: no idle timeout */
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_off, out_len, out_cap;
};

struct xlb_ctl {
	char *path;
	int lfd, epfd;
	bool bound;		/* path is ours to unlink */
	dev_t dev;		/* of the socket file we bound */
	ino_t ino;
	bool has_group;
	gid_t gid;
	char *group;
	unsigned int max_clients, nclients;
	size_t max_req, max_out;
	unsigned int idle_ms;
	xlb_ctl_handler_t handle;
	void *ctx;
	unsigned long long serial;
	struct ctl_client *cl;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * One error line.  Messages can quote peer bytes (jansson's "near '...'"),
 * which may not be UTF-8 and which json_string() would refuse, so anything
 * outside printable ASCII becomes '?'.  Returns a malloc'd line with its
 * '\n', or NULL on allocation failure.
 */
static char *err_line(const char *msg)
{
	char clean[CTL_ERRLEN];
	json_t *j;
	char *s, *line = NULL;
	size_t i;

	for (i = 0; msg[i] && i < sizeof(clean) - 1; i++)
		clean[i] = (msg[i] >= 0x20 && msg[i] < 0x7f) ? msg[i] : '?';
	clean[i] = '\0';
	j = json_pack("{s:b, s:s}", "ok", 0, "error", clean);
	if (!j)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s && asprintf(&line, "%s\n", s) < 0)
		line = NULL;
	free(s);
	return line;
}

/*
 * Refuse a connection that never gets a slot.  The socket is new, so its
 * send buffer is empty and one short line fits without blocking; if it does
 * not, the peer loses only the explanation.
 */
static void reject_fd(int fd, const char *msg)
{
	char *line = err_line(msg);

	if (line && send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		pr_debug("ctl: could not send rejection: %s\n", strerror(errno));
	free(line);
	close(fd);
}

static uint64_t client_key(const struct xlb_ctl *c, const struct ctl_client *cl)
{
	/* 0 is the listener, so slots count from 1. */
	return ((uint64_t)cl->gen << 32) | (uint64_t)(cl - c->cl + 1);
}

static void client_close(struct xlb_ctl *c, struct ctl_client *cl, const char *why)
{
	if (cl->fd < 0)
		return;
	pr_debug("ctl: client %llu (pid %d uid %u) closed: %s\n", cl->peer.id,
		 (int)cl->peer.pid, (unsigned int)cl->peer.uid, why);
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	free(cl->in);
	free(cl->out);
	/* Keep gen: it is what tells a later event for this slot apart. */
	*cl = (struct ctl_client){ .fd = -1, .gen = cl->gen };
	c->nclients--;
}

static int client_set_events(struct xlb_ctl *c, struct ctl_client *cl)
{
	struct epoll_event e = {};
	uint32_t ev = 0;

	if (!cl->closing)
		ev |= EPOLLIN;
	if (cl->out_len > cl->out_off)
		ev |= EPOLLOUT;
	if (ev == cl->events)
		return 0;
	e.events = ev;
	e.data.u64 = client_key(c, cl);
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &e) < 0)
		return -errno;
	cl->events = ev;
	return 0;
}

/*
 * Queue @len bytes for the peer.  A peer that sends requests but does not
 * read the replies would make us buffer without end: past max_out it is
 * dropped (-ENOBUFS) rather than letting it stall or bloat the daemon.
 */
static int client_queue(struct xlb_ctl *c, struct ctl_client *cl, const char *buf, size_t len)
{
	size_t pending = cl->out_len - cl->out_off, cap;
	char *p;

	if (pending + len > c->max_out) {
		pr_warn("ctl: client %llu (pid %d) does not read its replies (over %zu bytes queued): closing it\n",
			cl->peer.id, (int)cl->peer.pid, c->max_out);
		return -ENOBUFS;
	}
	if (cl->out_off) {
		memmove(cl->out, cl->out + cl->out_off, pending);
		cl->out_off = 0;
		cl->out_len = pending;
	}
	if (pending + len > cl->out_cap) {
		cap = cl->out_cap ? cl->out_cap : 4096;
		while (cap < pending + len)
			cap *= 2;
		if (cap > c->max_out)
			cap = c->max_out;
		p = realloc(cl->out, cap);
		if (!p)
			return -ENOMEM;
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, buf, len);
	cl->out_len += len;
	return 0;
}

static int client_queue_err(struct xlb_ctl *c, struct ctl_client *cl, const char *msg)
{
	char *line = err_line(msg);
	int err;

	if (!line)
		return -ENOMEM;
	err = client_queue(c, cl, line, strlen(line));
	free(line);
	return err;
}

/* Write what the socket takes now; the rest waits for EPOLLOUT. */
static int client_flush(struct ctl_client *cl)
{
	ssize_t n;

	while (cl->out_off < cl->out_len) {
		n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		cl->out_off += (size_t)n;
	}
	cl->out_off = cl->out_len = 0;
	return 0;
}

/* After any change: write, then close or re-arm epoll as the state says. */
static void client_settle(struct xlb_ctl *c, struct ctl_client *cl)
{
	int err = client_flush(cl);

	if (err) {
		client_close(c, cl, strerror(-err));
		return;
	}
	if (cl->closing && cl->out_len == cl->out_off) {
		client_close(c, cl, "done");
		return;
	}
	err = client_set_events(c, cl);
	if (err)
		client_close(c, cl, strerror(-err));
}

/* One complete line, without its '\n'.  Returns 0 or a negative errno that
 * closes the client. */
static int client_line(struct xlb_ctl *c, struct ctl_client *cl, const char *line, size_t len)
{
	char msg[CTL_ERRLEN];
	json_t *req, *reply = NULL;
	json_error_t jerr;
	char *text;
	int ret, err;

	if (len && line[len - 1] == '\r')
		len--;
	/* Blank lines are harmless keep-typing noise from interactive tools;
	 * they do not count as a request, so they do not reset the idle timer. */
	if (!len)
		return 0;
	if (c->idle_ms)
		cl->deadline_ms = now_ms() + c->idle_ms;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!req) {
		snprintf(msg, sizeof(msg), "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return client_queue_err(c, cl, msg);
	}
	if (!json_is_object(req)) {
		json_decref(req);
		return client_queue_err(c, cl,
					"invalid JSON at column 1: a request is an object, got an array");
	}

	ret = c->handle(c->ctx, &cl->peer, req, &reply);
	json_decref(req);
	if (!reply) {
		if (ret < 0)
			return client_queue_err(c, cl, strerror(-ret));
		reply = json_pack("{s:b}", "ok", 1);
		if (!reply)
			return -ENOMEM;
	}
	/* JSON_COMPACT escapes newlines inside strings, so a reply is one line. */
	text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (!text)
		return client_queue_err(c, cl, "internal error: the reply could not be encoded");
	err = client_queue(c, cl, text, strlen(text));
	if (!err)
		err = client_queue(c, cl, "\n", 1);
	free(text);
	return err;
}

/*
 * One read, then every complete line in order.  The input buffer grows to at
 * most max_req + 1 bytes: if that much arrives with no '\n', the line is over
 * the limit whatever follows.
 */
static int client_read(struct xlb_ctl *c, struct ctl_client *cl)
{
	char msg[CTL_ERRLEN];
	size_t start = 0, cap;
	ssize_t n;
	char *nl, *p;
	int err;

	if (cl->in_len == cl->in_cap) {
		cap = cl->in_cap ? cl->in_cap * 2 : CTL_IN_INITIAL;
		if (cap > c->max_req + 1)
			cap = c->max_req + 1;
		p = realloc(cl->in, cap);
		if (!p)
			return -ENOMEM;
		cl->in = p;
		cl->in_cap = cap;
	}
	n = recv(cl->fd, cl->in + cl->in_len, cl->in_cap - cl->in_len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -errno;
	}
	if (n == 0) {
		/* The peer may have only shut down its writing side and still
		 * wait for replies: answer what came, drop a partial line. */
		cl->closing = true;
		cl->in_len = 0;
		return 0;
	}
	cl->in_len += (size_t)n;

	while (!cl->closing && (nl = memchr(cl->in + start, '\n', cl->in_len - start))) {
		err = client_line(c, cl, cl->in + start, (size_t)(nl - (cl->in + start)));
		/* Write as we go: a reading peer that pipelines many requests
		 * must not hit the output bound that is meant for non-readers. */
		if (!err)
			err = client_flush(cl);
		if (err)
			return err;
		start = (size_t)(nl - cl->in) + 1;
	}
	cl->in_len -= start;
	memmove(cl->in, cl->in + start, cl->in_len);

	if (cl->in_len > c->max_req) {
		snprintf(msg, sizeof(msg), "request too large (limit %zu bytes)", c->max_req);
		pr_warn("ctl: client %llu (pid %d): %s\n", cl->peer.id, (int)cl->peer.pid, msg);
		cl->closing = true;
		cl->in_len = 0;
		return client_queue_err(c, cl, msg);
	}
	return 0;
}

static void client_event(struct xlb_ctl *c, struct ctl_client *cl, uint32_t ev)
{
	int err;

	if (!cl->closing && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		err = client_read(c, cl);
		if (err) {
			client_close(c, cl, strerror(-err));
			return;
		}
	} else if (cl->closing && (ev & (EPOLLHUP | EPOLLERR))) {
		client_close(c, cl, "peer gone");
		return;
	}
	client_settle(c, cl);
}

/* Supplementary groups of the peer: SO_PEERGROUPS (4.13+) holds them as they
 * were at connect(); /proc is the fallback for older kernels. */
static bool peer_in_group(int fd, pid_t pid, gid_t gid)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);
	char path[64], line[4096], *p, *end;
	bool found = false;
	unsigned long v;
	unsigned int i;
	FILE *f;

	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		for (i = 0; i < len / sizeof(gid_t); i++)
			if (groups[i] == gid)
				return true;
		return false;
	}
	if (errno != ENOPROTOOPT)
		return false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Groups:", 7))
			continue;
		for (p = line + 7;; p = end) {
			errno = 0;
			v = strtoul(p, &end, 10);
			if (end == p || errno)
				break;
			if (v == gid) {
				found = true;
				break;
			}
		}
		break;
	}
	fclose(f);
	return found;
}

static bool peer_allowed(struct xlb_ctl *c, int fd, const struct ucred *cr, char *why, size_t len)
{
	/* Our own uid gains nothing it could not do to us already; it lets a
	 * daemon run as a dedicated user and its tests run without root. */
	if (cr->uid == 0 || cr->uid == geteuid())
		return true;
	if (c->has_group && (cr->gid == c->gid || peer_in_group(fd, cr->pid, c->gid)))
		return true;
	if (c->has_group)
		snprintf(why, len, "permission denied: uid %u is not root and not in group %s",
			 (unsigned int)cr->uid, c->group);
	else
		snprintf(why, len, "permission denied: uid %u is not root", (unsigned int)cr->uid);
	return false;
}

static struct ctl_client *free_slot(struct xlb_ctl *c)
{
	unsigned int i;

	for (i = 0; i < c->max_clients; i++)
		if (c->cl[i].fd < 0)
			return &c->cl[i];
	return NULL;
}

static int ctl_accept(struct xlb_ctl *c)
{
	char why[CTL_ERRLEN];
	struct epoll_event e = {};
	struct ctl_client *cl;
	socklen_t len;
	struct ucred cr;
	int i, fd;

	for (i = 0; i < CTL_BATCH; i++) {
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
#if EAGAIN != EWOULDBLOCK
			case EWOULDBLOCK:
#endif
				return 0;
			case EINTR:
			case ECONNABORTED:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				/* Transient: existing clients keep being served. */
				pr_warn("ctl: accept: %s\n", strerror(errno));
				return 0;
			default:
				return -errno;
			}
		}
		len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
			pr_warn("ctl: SO_PEERCRED: %s\n", strerror(errno));
			close(fd);
			continue;
		}
		if (!peer_allowed(c, fd, &cr, why, sizeof(why))) {
			pr_warn("ctl: refused pid %d: %s\n", (int)cr.pid, why);
			reject_fd(fd, why);
			continue;
		}
		cl = free_slot(c);
		if (!cl) {
			snprintf(why, sizeof(why), "too many clients (limit %u)", c->max_clients);
			pr_warn("ctl: refused pid %d: %s\n", (int)cr.pid, why);
			reject_fd(fd, why);
			continue;
		}
		cl->fd = fd;
		cl->gen++;
		cl->closing = false;
		cl->peer.pid = cr.pid;
		cl->peer.uid = cr.uid;
		cl->peer.gid = cr.gid;
		cl->peer.id = ++c->serial;
		cl->deadline_ms = c->idle_ms ? now_ms() + c->idle_ms : 0;
		cl->events = EPOLLIN;
		e.events = EPOLLIN;
		e.data.u64 = client_key(c, cl);
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			pr_warn("ctl: epoll add: %s\n", strerror(errno));
			close(fd);
			cl->fd = -1;
			continue;
		}
		c->nclients++;
		pr_debug("ctl: client %llu connected (pid %d uid %u gid %u)\n", cl->peer.id,
			 (int)cr.pid, (unsigned int)cr.uid, (unsigned int)cr.gid);
	}
	return 0;
}

static void expire_idle(struct xlb_ctl *c)
{
	char msg[CTL_ERRLEN];
	struct ctl_client *cl;
	uint64_t now;
	unsigned int i;

	if (!c->idle_ms || !c->nclients)
		return;
	now = now_ms();
	for (i = 0; i < c->max_clients; i++) {
		cl = &c->cl[i];
		if (cl->fd < 0 || cl->deadline_ms > now)
			continue;
		/* Best effort: say why, in case the peer is a person at a prompt. */
		if (!cl->closing) {
			snprintf(msg, sizeof(msg), "idle timeout (no complete request in %u ms)",
				 c->idle_ms);
			if (!client_queue_err(c, cl, msg))
				client_flush(cl);
		}
		client_close(c, cl, "idle timeout");
	}
}

int xlb_ctl_next_timeout_ms(const struct xlb_ctl *c)
{
	uint64_t now, min = UINT64_MAX;
	unsigned int i;

	if (!c || !c->idle_ms || !c->nclients)
		return -1;
	for (i = 0; i < c->max_clients; i++)
		if (c->cl[i].fd >= 0 && c->cl[i].deadline_ms < min)
			min = c->cl[i].deadline_ms;
	if (min == UINT64_MAX)
		return -1;
	now = now_ms();
	if (min <= now)
		return 0;
	return min - now > INT_MAX ? INT_MAX : (int)(min - now);
}

int xlb_ctl_dispatch(struct xlb_ctl *c, int timeout_ms)
{
	struct epoll_event ev[CTL_BATCH];
	struct ctl_client *cl;
	int n, i, t, err = 0;
	uint64_t idx;

	t = xlb_ctl_next_timeout_ms(c);
	if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
		timeout_ms = t;
	n = epoll_wait(c->epfd, ev, CTL_BATCH, timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	for (i = 0; i < n; i++) {
		if (!ev[i].data.u64) {
			err = ctl_accept(c);
			if (err) {
				pr_warn("ctl: accept on %s: %s\n", c->path, strerror(-err));
				goto out;
			}
			continue;
		}
		idx = (ev[i].data.u64 & 0xffffffffULL) - 1;
		if (idx >= c->max_clients)
			continue;
		cl = &c->cl[idx];
		if (cl->fd < 0 || cl->gen != (uint32_t)(ev[i].data.u64 >> 32))
			continue;
		client_event(c, cl, ev[i].events);
	}
out:
	expire_idle(c);
	return err;
}

int xlb_ctl_fd(const struct xlb_ctl *c)
{
	return c ? c->epfd : -EINVAL;
}

unsigned int xlb_ctl_nclients(const struct xlb_ctl *c)
{
	return c ? c->nclients : 0;
}

static int resolve_group(struct xlb_ctl *c, const char *name)
{
	struct group gr, *res = NULL;
	char buf[4096], *end;
	unsigned long v;
	int err;

	err = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (!err && res) {
		c->gid = res->gr_gid;
		goto found;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name && !*end && !errno && v < UINT_MAX) {
		c->gid = (gid_t)v;
		goto found;
	}
	pr_warn("ctl: control.group: no group named \"%s\"%s%s\n", name, err ? ": " : "",
		err ? strerror(err) : "");
	return err ? -err : -ENOENT;
found:
	c->has_group = true;
	c->group = strdup(name);
	return c->group ? 0 : -ENOMEM;
}

/* mkdir -p of the socket's directory; new directories get 0755 so that a
 * configured group can reach the socket, whose own mode does the guarding. */
static int make_parent_dir(const char *path)
{
	char *dir = strdup(path), *p;
	int err = 0;

	if (!dir)
		return -ENOMEM;
	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			err = -errno;
			pr_warn("ctl: cannot create directory %s: %s\n", dir, strerror(errno));
			goto out;
		}
		*p = '/';
	}
out:
	free(dir);
	return err;
}

/*
 * A socket file outlives a daemon killed with -9.  Remove it only when
 * nothing answers on it: unlinking a live daemon's socket would cut its
 * clients off from it while it keeps running.
 */
static int clear_stale(const struct sockaddr_un *sa)
{
	const char *path = sa->sun_path;
	struct stat st;
	int fd, err = 0;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		pr_warn("ctl: %s: %s\n", path, strerror(errno));
		return err;
	}
	if (!S_ISSOCK(st.st_mode)) {
		pr_warn("ctl: %s exists and is not a socket: refusing to replace it\n", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) || errno == EAGAIN ||
	    errno == EINPROGRESS) {
		/* EAGAIN: the listener's backlog is full, so it is alive. */
		pr_warn("ctl: %s: another daemon is listening on it (stop it first)\n", path);
		err = -EADDRINUSE;
		goto out;
	}
	if (errno != ECONNREFUSED) {
		err = -errno;
		pr_warn("ctl: %s: cannot tell whether it is in use: %s\n", path, strerror(errno));
		goto out;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		err = -errno;
		pr_warn("ctl: cannot remove stale socket %s: %s\n", path, strerror(errno));
		goto out;
	}
	pr_info("ctl: removed stale socket %s\n", path);
out:
	close(fd);
	return err;
}

int xlb_ctl_open(const struct xlb_ctl_opts *o, struct xlb_ctl **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 0 };
	struct xlb_ctl *c = NULL;
	mode_t mode;
	struct stat st;
	unsigned int i;
	int err;

	if (!o || !out || !o->path || !o->handle || !o->max_clients || o->max_request_bytes < 2 ||
	    o->max_request_bytes > (1U << 30) || !*o->path) {
		pr_warn("ctl: invalid options\n");
		return -EINVAL;
	}
	if (strlen(o->path) >= sizeof(sa.sun_path)) {
		pr_warn("ctl: socket path too long (max %zu bytes): %s\n", sizeof(sa.sun_path) - 1,
			o->path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, o->path);

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->lfd = c->epfd = -1;
	c->max_clients = o->max_clients;
	c->max_req = o->max_request_bytes;
	c->max_out = o->max_output_bytes ? o->max_output_bytes : XLB_CTL_DEF_MAX_OUTPUT;
	c->idle_ms = o->idle_timeout_ms;
	c->handle = o->handle;
	c->ctx = o->ctx;
	c->path = strdup(o->path);
	c->cl = calloc(o->max_clients, sizeof(*c->cl));
	if (!c->path || !c->cl) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < c->max_clients; i++)
		c->cl[i].fd = -1;
	if (o->group) {
		err = resolve_group(c, o->group);
		if (err)
			goto out;
	}

	err = make_parent_dir(o->path) ?: clear_stale(&sa);
	if (err)
		goto out;

	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0) {
		err = -errno;
		goto out;
	}
	/* bind() creates the file with the socket inode's mode minus the umask:
	 * restricting it first leaves no moment where the file is open to all. */
	if (fchmod(c->lfd, 0600) < 0)
		pr_debug("ctl: fchmod before bind: %s\n", strerror(errno));
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		pr_warn("ctl: bind %s: %s\n", o->path, strerror(errno));
		goto out;
	}
	c->bound = true;
	if (lstat(o->path, &st) == 0) {
		c->dev = st.st_dev;
		c->ino = st.st_ino;
	}
	if (c->has_group && chown(o->path, (uid_t)-1, c->gid) < 0) {
		err = -errno;
		pr_warn("ctl: chown %s to group %s: %s\n", o->path, c->group, strerror(errno));
		goto out;
	}
	mode = c->has_group ? 0660 : 0600;
	if (chmod(o->path, mode) < 0) {
		err = -errno;
		pr_warn("ctl: chmod %s: %s\n", o->path, strerror(errno));
		goto out;
	}
	if (listen(c->lfd, c->max_clients < 64 ? 64 : (int)c->max_clients) < 0) {
		err = -errno;
		goto out;
	}
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0) {
		err = -errno;
		goto out;
	}
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &e) < 0) {
		err = -errno;
		goto out;
	}
	pr_info("ctl: listening on %s (mode %04o%s%s)\n", o->path, (unsigned int)mode,
		c->has_group ? ", group " : "", c->has_group ? c->group : "");
	*out = c;
	c = NULL;
	err = 0;
out:
	xlb_ctl_close(c);
	return err;
}

void xlb_ctl_close(struct xlb_ctl *c)
{
	struct stat st;
	unsigned int i;

	if (!c)
		return;
	if (c->cl)
		for (i = 0; i < c->max_clients; i++)
			client_close(c, &c->cl[i], "server closing");
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->lfd >= 0)
		close(c->lfd);
	/* Only our own file: a successor may already have bound a new one. */
	if (c->bound && lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	free(c->cl);
	free(c->group);
	free(c->path);
	free(c);
}
