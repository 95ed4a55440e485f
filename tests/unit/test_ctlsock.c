// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the control socket server (cmocka).  Each test runs the
 * server's dispatch loop in a thread on a socket in a fresh temp directory
 * and drives it with plain AF_UNIX clients from the test thread.  Every wait
 * is bounded (socket timeouts, a server loop deadline, a child deadline).
 * The peer credential tests fork a child that becomes nobody (65534); they
 * need root and are skipped, with a message, without it.
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
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <jansson.h>
#include "ctlsock.h"
#include "log.h"

#define NOBODY		65534
#define IO_TIMEOUT_MS	3000
#define SERVER_MAX_MS	30000

static int skipped;

struct srv {
	struct xlb_ctl *c;
	pthread_t th;
	bool running;
	atomic_int stop;
	int dispatch_err;
	char dir[64];
	char sub[96];
	char path[128];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Commands of the test handler: echo (the default) returns the request and
 * who the peer is; fail returns -EINVAL without a reply; noreply returns 0
 * without one; clients counts connections; big returns n bytes of data.
 */
static int handler(void *ctx, const struct xlb_ctl_peer *peer, json_t *req, json_t **reply)
{
	struct srv *s = ctx;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_int_t n;
	char *data;

	if (!cmd)
		cmd = "echo";
	if (!strcmp(cmd, "fail"))
		return -EINVAL;
	if (!strcmp(cmd, "noreply"))
		return 0;
	if (!strcmp(cmd, "clients")) {
		*reply = json_pack("{s:b, s:i}", "ok", 1, "clients",
				   (json_int_t)xlb_ctl_nclients(s->c));
		return 0;
	}
	if (!strcmp(cmd, "big")) {
		n = json_integer_value(json_object_get(req, "n"));
		data = malloc((size_t)n + 1);
		if (!data)
			return -ENOMEM;
		memset(data, 'x', (size_t)n);
		data[n] = '\0';
		*reply = json_pack("{s:b, s:s}", "ok", 1, "data", data);
		free(data);
		return 0;
	}
	/* "self" checks that pid and uid came through SO_PEERCRED. */
	if (peer->pid == getpid() && peer->uid == geteuid())
		*reply = json_pack("{s:b, s:O, s:s}", "ok", 1, "echo", req, "peer", "self");
	else
		*reply = json_pack("{s:b, s:O, s:i}", "ok", 1, "echo", req, "peer",
				   (json_int_t)peer->uid);
	return 0;
}

static void *server_loop(void *arg)
{
	struct srv *s = arg;
	uint64_t end = now_ms() + SERVER_MAX_MS;
	int err;

	while (!atomic_load(&s->stop) && now_ms() < end) {
		err = xlb_ctl_dispatch(s->c, 20);
		if (err) {
			s->dispatch_err = err;
			break;
		}
	}
	return NULL;
}

static struct xlb_ctl_opts default_opts(struct srv *s)
{
	struct xlb_ctl_opts o = {
		.path = s->path,
		.max_clients = 8,
		.max_request_bytes = 4096,
		.idle_timeout_ms = 10000,
		.handle = handler,
		.ctx = s,
	};
	return o;
}

/* A temp dir reachable by nobody; the socket goes one level below it, in a
 * directory xlb_ctl_open() has to create. */
static struct srv *srv_new(void)
{
	struct srv *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	strcpy(s->dir, "/tmp/xlb-ctl-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	assert_int_equal(chmod(s->dir, 0755), 0);
	snprintf(s->sub, sizeof(s->sub), "%s/run", s->dir);
	snprintf(s->path, sizeof(s->path), "%s/xlbd.sock", s->sub);
	return s;
}

static void srv_start(struct srv *s, const struct xlb_ctl_opts *o)
{
	int err = xlb_ctl_open(o, &s->c);

	if (err)
		fail_msg("xlb_ctl_open: %s", strerror(-err));
	assert_int_equal(pthread_create(&s->th, NULL, server_loop, s), 0);
	s->running = true;
}

static void srv_stop(struct srv *s)
{
	if (s->running) {
		atomic_store(&s->stop, 1);
		pthread_join(s->th, NULL);
		s->running = false;
	}
	xlb_ctl_close(s->c);
	s->c = NULL;
}

static void srv_free(struct srv *s)
{
	srv_stop(s);
	unlink(s->path);
	rmdir(s->sub);
	rmdir(s->dir);
	free(s);
}

struct cli {
	int fd;
	size_t len;
	char buf[1 << 16];
};

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int cli_connect(struct cli *k, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	k->len = 0;
	k->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (k->fd < 0)
		return -errno;
	set_timeouts(k->fd);
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	if (connect(k->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(k->fd);
		k->fd = -1;
		return err;
	}
	return 0;
}

static struct cli *cli_new(const char *path)
{
	struct cli *k = calloc(1, sizeof(*k));
	int err;

	assert_non_null(k);
	err = cli_connect(k, path);
	if (err)
		fail_msg("connect %s: %s", path, strerror(-err));
	return k;
}

static void cli_free(struct cli *k)
{
	if (!k)
		return;
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

static int cli_send(struct cli *k, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(k->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void cli_puts(struct cli *k, const char *s)
{
	int err = cli_send(k, s, strlen(s));

	if (err)
		fail_msg("send: %s", strerror(-err));
}

/* The next line without its '\n': returns its length, -1 at EOF (or reset:
 * the server closing with our bytes unread), -2 on timeout. */
static int cli_line(struct cli *k, char *out, size_t outlen)
{
	char *nl;
	size_t n;
	ssize_t r;

	for (;;) {
		nl = memchr(k->buf, '\n', k->len);
		if (nl) {
			n = (size_t)(nl - k->buf);
			assert_true(n < outlen);
			memcpy(out, k->buf, n);
			out[n] = '\0';
			k->len -= n + 1;
			memmove(k->buf, nl + 1, k->len);
			return (int)n;
		}
		assert_true(k->len < sizeof(k->buf));
		r = recv(k->fd, k->buf + k->len, sizeof(k->buf) - k->len, 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return -1;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -2;
		if (r < 0)
			fail_msg("recv: %s", strerror(errno));
		k->len += (size_t)r;
	}
}

static void expect_line(struct cli *k, const char *want)
{
	char line[4096];
	int n = cli_line(k, line, sizeof(line));

	if (n < 0)
		fail_msg("expected %s, got %s", want, n == -1 ? "EOF" : "a timeout");
	if (strcmp(line, want))
		fail_msg("expected %s\n     got %s", want, line);
}

static void expect_prefix(struct cli *k, const char *want)
{
	char line[4096];
	int n = cli_line(k, line, sizeof(line));
	json_t *j;

	if (n < 0)
		fail_msg("expected %s..., got %s", want, n == -1 ? "EOF" : "a timeout");
	if (strncmp(line, want, strlen(want)))
		fail_msg("expected %s...\n     got %s", want, line);
	/* Whatever the error quotes, the line itself is valid JSON. */
	j = json_loads(line, 0, NULL);

	if (!j)
		fail_msg("reply is not JSON: %s", line);
	json_decref(j);
}

static void expect_eof(struct cli *k)
{
	char line[4096];
	int n = cli_line(k, line, sizeof(line));

	if (n != -1)
		fail_msg("expected EOF, got %s", n == -2 ? "a timeout" : line);
}

/* Ask the server how many clients it holds until it says @want. */
static void wait_clients(struct cli *k, int want)
{
	uint64_t end = now_ms() + IO_TIMEOUT_MS;
	char line[256], exp[64];

	snprintf(exp, sizeof(exp), "{\"ok\":true,\"clients\":%d}", want);
	do {
		cli_puts(k, "{\"cmd\":\"clients\"}\n");
		assert_true(cli_line(k, line, sizeof(line)) > 0);
		if (!strcmp(line, exp))
			return;
		usleep(10000);
	} while (now_ms() < end);
	fail_msg("server holds %s, wanted %d clients", line, want);
}

static void test_echo(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	size_t total = 0;
	struct cli *k;
	char last = 0;
	ssize_t r;

	(void)state;
	srv_start(s, &o);
	k = cli_new(s->path);
	cli_puts(k, "{\"cmd\":\"echo\",\"x\":1,\"s\":\"a\\nb\"}\n");
	expect_line(k, "{\"ok\":true,\"echo\":{\"cmd\":\"echo\",\"x\":1,\"s\":\"a\\nb\"},\"peer\":\"self\"}");
	cli_puts(k, "{\"cmd\":\"fail\"}\n");
	expect_line(k, "{\"ok\":false,\"error\":\"Invalid argument\"}");
	cli_puts(k, "{\"cmd\":\"noreply\"}\r\n");
	expect_line(k, "{\"ok\":true}");
	/* Blank lines are skipped, not errors. */
	cli_puts(k, "\n\n{}\n");
	expect_line(k, "{\"ok\":true,\"echo\":{},\"peer\":\"self\"}");
	/* A client that shuts down its writing side still gets its reply. */
	cli_puts(k, "{\"x\":2}\n{\"x\":");
	shutdown(k->fd, SHUT_WR);
	expect_line(k, "{\"ok\":true,\"echo\":{\"x\":2},\"peer\":\"self\"}");
	expect_eof(k);
	cli_free(k);

	/* The same with a reply larger than the socket buffer still queued in
	 * the server when it sees EOF: all of it arrives before the close. */
	k = cli_new(s->path);
	cli_puts(k, "{\"cmd\":\"big\",\"n\":600000}\n");
	shutdown(k->fd, SHUT_WR);
	usleep(100000);
	while ((r = recv(k->fd, k->buf, sizeof(k->buf), 0)) > 0) {
		total += (size_t)r;
		last = k->buf[r - 1];
	}
	assert_int_equal(r, 0);
	assert_int_equal(total, strlen("{\"ok\":true,\"data\":\"\"}\n") + 600000);
	assert_int_equal(last, '\n');
	cli_free(k);
	srv_free(s);
}

static void test_pipelined(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	char req[4096], want[128];
	struct cli *k;
	size_t len = 0;
	int i;

	(void)state;
	srv_start(s, &o);
	k = cli_new(s->path);
	for (i = 0; i < 50; i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len, "{\"i\":%d}\n", i);
	cli_puts(k, req);
	for (i = 0; i < 50; i++) {
		snprintf(want, sizeof(want), "{\"ok\":true,\"echo\":{\"i\":%d},\"peer\":\"self\"}", i);
		expect_line(k, want);
	}
	/* One request split over several writes. */
	cli_puts(k, "{\"i\"");
	usleep(50000);
	cli_puts(k, ":77}");
	usleep(50000);
	cli_puts(k, "\n");
	expect_line(k, "{\"ok\":true,\"echo\":{\"i\":77},\"peer\":\"self\"}");
	cli_free(k);
	srv_free(s);
}

static void test_malformed(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	struct cli *k;

	(void)state;
	srv_start(s, &o);
	k = cli_new(s->path);
	cli_puts(k, "{\"a\":\n");
	expect_prefix(k, "{\"ok\":false,\"error\":\"invalid JSON at column ");
	cli_puts(k, "{\"a\":1,\"a\":2}\n");
	expect_prefix(k, "{\"ok\":false,\"error\":\"invalid JSON at column ");
	cli_puts(k, "[1,2]\n");
	expect_line(k, "{\"ok\":false,\"error\":\"invalid JSON at column 1: a request is an object, got an array\"}");
	cli_puts(k, "\"str\"\n");
	expect_prefix(k, "{\"ok\":false,\"error\":\"invalid JSON at column ");
	/* Bytes that are not UTF-8 must not break the error line. */
	cli_puts(k, "{\"a\":\"\xff\xfe\"}\n");
	expect_prefix(k, "{\"ok\":false,\"error\":\"invalid JSON at column ");
	cli_puts(k, "{} trailing\n");
	expect_prefix(k, "{\"ok\":false,\"error\":\"invalid JSON at column ");
	/* The connection is still usable. */
	cli_puts(k, "{\"ok\":1}\n");
	expect_line(k, "{\"ok\":true,\"echo\":{\"ok\":1},\"peer\":\"self\"}");
	cli_free(k);
	srv_free(s);
}

/* A line of exactly @len bytes, a valid request, plus '\n'. */
static char *line_of(size_t len)
{
	char *p = malloc(len + 2);
	size_t i;

	assert_non_null(p);
	strcpy(p, "{\"pad\":\"");
	for (i = strlen(p); i < len - 2; i++)
		p[i] = 'y';
	strcpy(p + len - 2, "\"}");
	strcat(p, "\n");
	assert_int_equal(strlen(p), len + 1);
	return p;
}

static void test_oversized(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	struct cli *k, *k2;
	char *ok = line_of(256), *big = line_of(257), *huge;

	(void)state;
	o.max_request_bytes = 256;
	srv_start(s, &o);
	k = cli_new(s->path);
	/* At the limit: accepted, twice in a row (the buffer is reused). */
	cli_puts(k, ok);
	expect_prefix(k, "{\"ok\":true,\"echo\":{\"pad\":\"yyy");
	cli_puts(k, ok);
	expect_prefix(k, "{\"ok\":true,\"echo\":{\"pad\":\"yyy");
	/* At the limit with the '\n' arriving later: a full buffer is not yet
	 * an oversized line. */
	cli_send(k, ok, 256);
	usleep(50000);
	cli_puts(k, "\n");
	expect_prefix(k, "{\"ok\":true,\"echo\":{\"pad\":\"yyy");
	/* One byte over: an error, then the connection is closed. */
	cli_puts(k, big);
	expect_line(k, "{\"ok\":false,\"error\":\"request too large (limit 256 bytes)\"}");
	expect_eof(k);

	/* Endless bytes without a newline: the same, and the server lives. */
	k2 = cli_new(s->path);
	huge = malloc(100000);
	assert_non_null(huge);
	memset(huge, 'z', 100000);
	cli_send(k2, huge, 100000);	/* may fail with EPIPE once closed */
	expect_line(k2, "{\"ok\":false,\"error\":\"request too large (limit 256 bytes)\"}");
	expect_eof(k2);
	cli_free(k2);

	cli_free(k);
	k = cli_new(s->path);
	wait_clients(k, 1);
	cli_free(k);
	free(huge);
	free(ok);
	free(big);
	srv_free(s);
}

static void test_too_many(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	struct cli *a, *b, *c, *d;

	(void)state;
	o.max_clients = 2;
	srv_start(s, &o);
	a = cli_new(s->path);
	b = cli_new(s->path);
	wait_clients(a, 2);
	c = cli_new(s->path);
	expect_line(c, "{\"ok\":false,\"error\":\"too many clients (limit 2)\"}");
	expect_eof(c);
	/* A slot freed is a slot usable again. */
	cli_free(a);
	wait_clients(b, 1);
	d = cli_new(s->path);
	cli_puts(d, "{}\n");
	expect_line(d, "{\"ok\":true,\"echo\":{},\"peer\":\"self\"}");
	cli_free(b);
	cli_free(c);
	cli_free(d);
	srv_free(s);
}

static void test_idle(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	struct cli *half, *busy;
	uint64_t t0, dt;
	int i;

	(void)state;
	o.idle_timeout_ms = 300;
	srv_start(s, &o);
	half = cli_new(s->path);
	busy = cli_new(s->path);
	t0 = now_ms();
	cli_puts(half, "{\"cmd\":");
	/* A client sending complete requests more often than the timeout stays
	 * connected past it; the half-written one does not. */
	for (i = 0; i < 8; i++) {
		cli_puts(busy, "{}\n");
		expect_line(busy, "{\"ok\":true,\"echo\":{},\"peer\":\"self\"}");
		usleep(100000);
	}
	expect_line(half, "{\"ok\":false,\"error\":\"idle timeout (no complete request in 300 ms)\"}");
	expect_eof(half);
	dt = now_ms() - t0;
	assert_true(dt >= 280);
	wait_clients(busy, 1);
	cli_free(half);
	cli_free(busy);
	srv_free(s);
}

static void test_slow_reader(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	static const char big[] = "{\"cmd\":\"big\",\"n\":32768}\n";
	struct cli *slow, *fast;
	char want[64], req[32];
	uint64_t t0;
	int i;

	(void)state;
	o.max_output_bytes = 64 * 1024;
	srv_start(s, &o);
	slow = cli_new(s->path);
	fast = cli_new(s->path);
	wait_clients(fast, 2);
	/* Far more reply bytes than the socket and the 64 KiB queue hold. */
	for (i = 0; i < 64; i++)
		if (cli_send(slow, big, strlen(big)) < 0)
			break;
	t0 = now_ms();
	for (i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "{\"ok\":true,\"echo\":{\"i\":%d},\"peer\":\"self\"}", i);
		snprintf(req, sizeof(req), "{\"i\":%d}\n", i);
		cli_puts(fast, req);
		expect_line(fast, want);
	}
	assert_true(now_ms() - t0 < 2000);
	/* The non-reader was dropped rather than buffered without end. */
	wait_clients(fast, 1);
	cli_free(slow);
	cli_free(fast);
	srv_free(s);
}

static void test_modes(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	struct stat st;

	(void)state;
	srv_start(s, &o);
	assert_int_equal(lstat(s->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(stat(s->sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	srv_stop(s);
	/* Closing removes the socket. */
	assert_int_equal(lstat(s->path, &st), -1);
	assert_int_equal(errno, ENOENT);

	/* Only root may give the file to a group it is not in. */
	if (geteuid() == 0) {
		o.group = "nogroup";
		srv_start(s, &o);
		assert_int_equal(lstat(s->path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0660);
		assert_int_equal(st.st_gid, NOBODY);
		srv_stop(s);
	}

	o.group = "no-such-group-xlb";
	assert_int_equal(xlb_ctl_open(&o, &s->c), -ENOENT);
	assert_null(s->c);
	srv_free(s);
}

/*
 * In a child: become uid nobody with @gid and @sup as groups, connect, send
 * one request, and compare the reply's start with @want.  Only system calls
 * and string functions run in the child: the parent has threads.  Exit
 * codes: 0 match, 77 cannot drop privileges, 2 connect failed (its errno
 * in *@connect_errno), 3 mismatch, 4 I/O.
 */
static int as_nobody(const char *path, gid_t gid, const gid_t *sup, size_t nsup, const char *want,
		     int *connect_errno)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int pipefd[2], status = 0, fd, e;
	char buf[512];
	uint64_t end;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		if (setgroups(nsup, sup) || setgid(gid) || setuid(NOBODY))
			_exit(77);
		strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		set_timeouts(fd);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			e = errno;
			if (write(pipefd[1], &e, sizeof(e)) < 0)
				_exit(4);
			_exit(2);
		}
		/* A refused peer may be closed already: the reply still waits
		 * in our receive queue, so a failed send is not the verdict. */
		if (send(fd, "{}\n", 3, MSG_NOSIGNAL) != 3 && errno != EPIPE)
			_exit(4);
		while (len < sizeof(buf) - 1) {
			n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
			if (n <= 0)
				break;
			len += (size_t)n;
			if (memchr(buf, '\n', len))
				break;
		}
		buf[len] = '\0';
		_exit(strncmp(buf, want, strlen(want)) ? 3 : 0);
	}
	close(pipefd[1]);
	end = now_ms() + 2 * IO_TIMEOUT_MS;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(pipefd[0]);
			fail_msg("child as nobody did not finish");
		}
		usleep(10000);
	}
	*connect_errno = 0;
	if (read(pipefd[0], &e, sizeof(e)) == sizeof(e))
		*connect_errno = e;
	close(pipefd[0]);
	if (!WIFEXITED(status))
		fail_msg("child as nobody died (status %d)", status);
	return WEXITSTATUS(status);
}

#define SKIP_NOT_ROOT()								\
	do {									\
		if (geteuid() != 0) {						\
			print_message("skipped: needs root to become nobody\n"); \
			skipped++;						\
			srv_free(s);						\
			skip();							\
		}								\
	} while (0)

static void check_child(int rc, int cerr, struct srv *s)
{
	if (rc == 77) {
		print_message("skipped: setgroups/setgid/setuid to nobody failed\n");
		skipped++;
		srv_free(s);
		skip();
	}
	if (rc == 2)
		fail_msg("child could not connect: %s", strerror(cerr));
	if (rc)
		fail_msg("child as nobody: exit %d (3: unexpected reply)", rc);
}

static void test_nonroot_refused(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	int rc, cerr;

	(void)state;
	SKIP_NOT_ROOT();
	srv_start(s, &o);
	/* Mode 0600 alone keeps nobody out at connect(). */
	rc = as_nobody(s->path, NOBODY, NULL, 0, "", &cerr);
	if (rc == 77)
		check_child(rc, cerr, s);
	assert_int_equal(rc, 2);
	assert_int_equal(cerr, EACCES);
	/* With the file opened up by mistake, the credential check still says no. */
	assert_int_equal(chmod(s->path, 0666), 0);
	rc = as_nobody(s->path, NOBODY, NULL, 0,
		       "{\"ok\":false,\"error\":\"permission denied: uid 65534 is not root\"}\n",
		       &cerr);
	check_child(rc, cerr, s);
	srv_free(s);
}

static void test_group_allowed(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	gid_t sup[] = { 100, NOBODY };
	int rc, cerr;

	(void)state;
	SKIP_NOT_ROOT();
	o.group = "65534";
	srv_start(s, &o);
	/* Primary group. */
	rc = as_nobody(s->path, NOBODY, NULL, 0, "{\"ok\":true,\"echo\":{},\"peer\":65534}\n", &cerr);
	check_child(rc, cerr, s);
	/* Supplementary group; the file is opened up so that only the server's
	 * check decides. */
	assert_int_equal(chmod(s->path, 0666), 0);
	rc = as_nobody(s->path, 65533, sup, 2, "{\"ok\":true,\"echo\":{},\"peer\":65534}\n", &cerr);
	check_child(rc, cerr, s);
	/* Neither: refused, naming the group. */
	rc = as_nobody(s->path, 65533, sup, 1,
		       "{\"ok\":false,\"error\":\"permission denied: uid 65534 is not root and not in group 65534\"}\n",
		       &cerr);
	check_child(rc, cerr, s);
	srv_free(s);
}

static void test_stale_and_live(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xlb_ctl *other = NULL;
	struct stat st;
	struct cli *k;
	int fd;

	(void)state;
	/* A socket file nobody listens on, as a kill -9 leaves it. */
	assert_int_equal(mkdir(s->sub, 0755), 0);
	strcpy(sa.sun_path, s->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(lstat(s->path, &st), 0);
	srv_start(s, &o);
	k = cli_new(s->path);
	cli_puts(k, "{}\n");
	expect_line(k, "{\"ok\":true,\"echo\":{},\"peer\":\"self\"}");

	/* A second server on a live socket is refused and leaves it alone. */
	assert_int_equal(xlb_ctl_open(&o, &other), -EADDRINUSE);
	assert_null(other);
	cli_free(k);
	k = cli_new(s->path);
	cli_puts(k, "{}\n");
	expect_line(k, "{\"ok\":true,\"echo\":{},\"peer\":\"self\"}");
	cli_free(k);
	srv_stop(s);

	/* Something that is not a socket is never removed. */
	fd = open(s->path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(xlb_ctl_open(&o, &other), -EEXIST);
	assert_int_equal(lstat(s->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	srv_free(s);
}

static void test_bad_opts(void **state)
{
	struct srv *s = srv_new();
	struct xlb_ctl_opts o = default_opts(s);
	struct xlb_ctl *c = NULL;
	char longpath[200];

	(void)state;
	o.max_clients = 0;
	assert_int_equal(xlb_ctl_open(&o, &c), -EINVAL);
	o = default_opts(s);
	o.handle = NULL;
	assert_int_equal(xlb_ctl_open(&o, &c), -EINVAL);
	o = default_opts(s);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	o.path = longpath;
	assert_int_equal(xlb_ctl_open(&o, &c), -ENAMETOOLONG);
	assert_null(c);
	xlb_ctl_close(NULL);
	assert_int_equal(xlb_ctl_next_timeout_ms(NULL), -1);
	srv_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_nonroot_refused),
		cmocka_unit_test(test_group_allowed),
		cmocka_unit_test(test_stale_and_live),
		cmocka_unit_test(test_bad_opts),
	};
	int n = (int)(sizeof(tests) / sizeof(tests[0])), failed;

	/* A peer that disappears must not kill the test either. */
	signal(SIGPIPE, SIG_IGN);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	fflush(stderr);
	if (skipped)
		printf("\nctlsock: %d passed, %d failed, %d skipped\n", n - failed - skipped, failed,
		       skipped);
	else
		printf("\nctlsock: %d passed, %d failed\n", n - failed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
