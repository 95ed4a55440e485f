// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The xlb JSON schema: parse and validate, canonical dump, and the diff a
 * reload applies.  docs/xlb.json.5.md documents every key.
 *
 * Parsing walks the schema, not the document, so every key is read in one
 * fixed order and the first error met is the one reported.  Messages are
 * "PATH: what was expected, got WHAT", PATH being the JSON path
 * ("vips[1].backends[0].weight") an operator can find in the file.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "addr.h"
#include "config.h"
#include "maglev.h"

#define PATHLEN		160	/* "vips[65535].backends[65535].address" and room */
#define GOTLEN		64	/* quoted value in a message */
#define PATH_MAXLEN	4096	/* PATH_MAX */
#define MAX_FILE_BYTES	(256U << 20)	/* ~2.5M backends: far above any limit */

struct perr {
	char *buf;
	size_t len;
};

static int fail(struct perr *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct perr *e, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!e->buf || !e->len)
		return -EINVAL;
	if (path && *path)
		n = snprintf(e->buf, e->len, "%s: ", path);
	if (n >= 0 && (size_t)n < e->len) {
		va_start(ap, fmt);
		vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Paths cut short end in "...": a long unknown key must not hide the rest. */
static void path_end(char *d, int n)
{
	if (n < 0 || n >= PATHLEN)
		strcpy(d + PATHLEN - 4, "...");
}

static void path_key(char *d, const char *base, const char *key)
{
	path_end(d, snprintf(d, PATHLEN, "%s%s%s", base, *base ? "." : "", key));
}

static void path_idx(char *d, const char *base, size_t i)
{
	path_end(d, snprintf(d, PATHLEN, "%s[%zu]", base, i));
}

/* @len bytes of @s quoted for a message, cut short, control bytes hidden. */
static const char *quote(const char *s, size_t len, char *buf)
{
	size_t i, n = len > GOTLEN - 6 ? GOTLEN - 6 : len;

	buf[0] = '"';
	memcpy(buf + 1, s, n);
	for (i = 1; i <= n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	strcpy(buf + 1 + n, len > n ? "...\"" : "\"");
	return buf;
}

/* The offending value for a message. */
static const char *got(const json_t *v, char *buf)
{

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_INTEGER:
		snprintf(buf, GOTLEN, "%lld", (long long)json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, GOTLEN, "%.17g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	case JSON_STRING:
		break;
	}
	return quote(json_string_value(v), json_string_length(v), buf);
}

static int want_object(struct perr *e, const json_t *v, const char *path)
{
	char g[GOTLEN];

	if (!json_is_object(v))
		return fail(e, path, "expected an object, got %s", got(v, g));
	return 0;
}

/* Reject keys outside @allowed (NULL-terminated): typos must not be ignored. */
static int check_keys(struct perr *e, const json_t *obj, const char *base,
		      const char *const *allowed)
{
	char p[PATHLEN], list[256];
	const char *k;
	json_t *v;
	size_t i, n;

	json_object_foreach((json_t *)obj, k, v) {
		for (i = 0; allowed[i]; i++)
			if (!strcmp(k, allowed[i]))
				break;
		if (allowed[i])
			continue;
		list[0] = '\0';
		for (i = 0, n = 0; allowed[i] && n < sizeof(list); i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
					      allowed[i]);
		path_key(p, base, k);
		return fail(e, p, "unknown key (expected one of: %s)", list);
	}
	return 0;
}

static int get_u32(struct perr *e, const json_t *obj, const char *base, const char *key,
		   long long min, long long max, __u32 def, __u32 *out)
{
	json_t *v = json_object_get(obj, key);
	char p[PATHLEN], g[GOTLEN];
	json_int_t i;

	if (!v) {
		*out = def;
		return 0;
	}
	path_key(p, base, key);
	if (!json_is_integer(v))
		return fail(e, p, "expected an integer %lld..%lld, got %s", min, max, got(v, g));
	i = json_integer_value(v);
	if (i < min || i > max)
		return fail(e, p, "expected an integer %lld..%lld, got %s", min, max, got(v, g));
	*out = (__u32)i;
	return 0;
}

static int get_bool(struct perr *e, const json_t *obj, const char *base, const char *key,
		    bool def, bool *out)
{
	json_t *v = json_object_get(obj, key);
	char p[PATHLEN], g[GOTLEN];

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v)) {
		path_key(p, base, key);
		return fail(e, p, "expected true or false, got %s", got(v, g));
	}
	*out = json_is_true(v);
	return 0;
}

/*
 * A string member; *out points into @obj.  @def NULL makes the key required.
 * @what says what was expected ("an absolute path").
 */
static int get_str(struct perr *e, const json_t *obj, const char *base, const char *key,
		   const char *def, const char *what, const char **out)
{
	json_t *v = json_object_get(obj, key);
	char p[PATHLEN], g[GOTLEN];

	path_key(p, base, key);
	if (!v) {
		if (!def)
			return fail(e, p, "missing (expected %s)", what);
		*out = def;
		return 0;
	}
	if (!json_is_string(v))
		return fail(e, p, "expected %s, got %s", what, got(v, g));
	/* A document built by hand (the API) may hold NUL bytes. */
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fail(e, p, "expected %s, got a string with a NUL byte", what);
	*out = json_string_value(v);
	return 0;
}

/* A string member that must be one of @names; *out is its index. */
static int get_enum(struct perr *e, const json_t *obj, const char *base, const char *key,
		    const char *const *names, __u8 def, __u8 *out)
{
	json_t *v = json_object_get(obj, key);
	char p[PATHLEN], g[GOTLEN], list[128];
	size_t i, n = 0;

	if (!v) {
		*out = def;
		return 0;
	}
	if (json_is_string(v)) {
		for (i = 0; names[i]; i++) {
			if (!strcmp(json_string_value(v), names[i]) &&
			    strlen(names[i]) == json_string_length(v)) {
				*out = (__u8)i;
				return 0;
			}
		}
	}
	list[0] = '\0';
	for (i = 0; names[i] && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
				      !i ? "" : names[i + 1] ? ", " : " or ", names[i]);
	path_key(p, base, key);
	return fail(e, p, "expected %s, got %s", list, got(v, g));
}

static int get_path(struct perr *e, const json_t *obj, const char *base, const char *key,
		    const char *def, size_t maxlen, char **out)
{
	char p[PATHLEN], g[GOTLEN];
	const char *s = NULL;
	int err;

	err = get_str(e, obj, base, key, def, "an absolute path", &s);
	if (err)
		return err;
	path_key(p, base, key);
	if (s[0] != '/' || strlen(s) >= maxlen)
		return fail(e, p, "expected an absolute path of at most %zu bytes, got %s",
			    maxlen - 1, quote(s, strlen(s), g));
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* The kernel's dev_valid_name(). */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n >= XLB_CFG_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]))
			return false;
	return true;
}

static int get_ifname(struct perr *e, const json_t *obj, const char *base, const char *key,
		      char name[XLB_CFG_IFNAMSIZ])
{
	static const char what[] = "an interface name of 1..15 characters without '/', ':' "
				   "or spaces";
	char p[PATHLEN], g[GOTLEN];
	const char *s = NULL;
	int err;

	err = get_str(e, obj, base, key, NULL, what, &s);
	if (err)
		return err;
	if (!ifname_ok(s)) {
		path_key(p, base, key);
		return fail(e, p, "expected %s, got %s", what, got(json_object_get(obj, key), g));
	}
	strcpy(name, s);
	return 0;
}

/*
 * Strict "aa:bb:cc:dd:ee:ff": xlb_mac_parse() alone would also take "a:b:c:d:e:f"
 * and a leading space, and the canonical dump must reproduce what was read.
 */
static int get_mac(struct perr *e, const json_t *obj, const char *base, const char *key,
		   bool is_src, __u8 mac[6])
{
	static const char what[] = "a unicast MAC address aa:bb:cc:dd:ee:ff";
	char p[PATHLEN], g[GOTLEN];
	const char *s = NULL;
	int err, i;

	err = get_str(e, obj, base, key, NULL, what, &s);
	if (err)
		return err;
	path_key(p, base, key);
	if (strlen(s) != 17)
		goto bad;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			goto bad;
	if (xlb_mac_parse(s, mac))
		goto bad;
	/* Zero is never a station; a multicast source is never valid. */
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) || (is_src && (mac[0] & 1)))
		goto bad;
	return 0;
bad:
	return fail(e, p, "expected %s, got %s", what, got(json_object_get(obj, key), g));
}

static bool addr_unicast(const __u32 a[4], __u8 family)
{
	__u32 h = ntohl(a[0]);

	if (family == XLB_AF_INET)
		return h && (h >> 28) != 0xe && h != 0xffffffffU;
	return (a[0] | a[1] | a[2] | a[3]) && (h >> 24) != 0xff;
}

/* "ADDR/LEN" of @family, host bits zero. */
static int get_prefix(struct perr *e, const json_t *obj, const char *base, const char *key,
		      const char *def, __u8 family, __u8 min, __u8 max, __u32 addr[4], __u8 *plen)
{
	char p[PATHLEN], g[GOTLEN], buf[INET6_ADDRSTRLEN + 8], what[64], *sl, *end;
	const char *s = NULL;
	unsigned long len;
	__u8 fam;
	int err, i;

	snprintf(what, sizeof(what), "an %s prefix ADDR/LEN with LEN %u..%u",
		 family == XLB_AF_INET ? "IPv4" : "IPv6", min, max);
	if (min == max)
		snprintf(what, sizeof(what), "an %s prefix ADDR/%u",
			 family == XLB_AF_INET ? "IPv4" : "IPv6", min);
	err = get_str(e, obj, base, key, def, what, &s);
	if (err)
		return err;
	path_key(p, base, key);
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	sl = strchr(buf, '/');
	if (!sl || !isdigit((unsigned char)sl[1]))
		goto bad;
	*sl++ = '\0';
	errno = 0;
	len = strtoul(sl, &end, 10);
	if (*end || errno || len < min || len > max)
		goto bad;
	if (xlb_addr_parse(buf, addr, &fam) || fam != family)
		goto bad;
	for (i = 0; i < 4; i++) {
		long bits = (long)len - i * 32;
		__u32 mask = bits >= 32 ? 0xffffffffU : bits <= 0 ? 0 : ~(0xffffffffU >> bits);

		if (ntohl(addr[i]) & ~mask)
			return fail(e, p, "expected %s, got %s with host bits set", what,
				    quote(s, strlen(s), g));
	}
	*plen = (__u8)len;
	return 0;
bad:
	return fail(e, p, "expected %s, got %s", what, quote(s, strlen(s), g));
}

static void listen_fmt(const __u32 addr[4], __u8 family, __u16 port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	xlb_addr_fmt(addr, family, a, sizeof(a));
	snprintf(buf, len, family == XLB_AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* "ADDR:PORT" or "[ADDR6]:PORT", port 1..65535; stored in canonical form. */
static int get_listen(struct perr *e, const json_t *obj, const char *base, const char *key,
		      struct xlb_cfg *c)
{
	static const char what[] = "ADDR:PORT or [ADDR6]:PORT with PORT 1..65535";
	char p[PATHLEN], g[GOTLEN], buf[INET6_ADDRSTRLEN + 16], *host, *port, *end;
	const char *s = NULL;
	unsigned long n;
	__u8 fam;
	int err;

	err = get_str(e, obj, base, key, XLB_CFG_DEF_METRICS, what, &s);
	if (err)
		return err;
	path_key(p, base, key);
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	host = buf;
	if (*host == '[') {
		char *rb = strchr(host, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		*rb = '\0';
		host++;
		port = rb + 2;
	} else {
		port = strrchr(host, ':');
		/* A bare IPv6 address is ambiguous: the port needs brackets. */
		if (!port || port != strchr(host, ':'))
			goto bad;
		*port++ = '\0';
	}
	if (!isdigit((unsigned char)*port))
		goto bad;
	errno = 0;
	n = strtoul(port, &end, 10);
	if (*end || errno || n < 1 || n > 65535)
		goto bad;
	if (xlb_addr_parse(host, c->metrics.addr, &fam))
		goto bad;
	if ((fam == XLB_AF_INET6) != (s[0] == '['))
		goto bad;
	c->metrics.family = fam;
	c->metrics.port = (__u16)n;
	listen_fmt(c->metrics.addr, fam, c->metrics.port, buf, sizeof(buf));
	c->metrics.listen = strdup(buf);
	return c->metrics.listen ? 0 : -ENOMEM;
bad:
	return fail(e, p, "expected %s, got %s", what, got(json_object_get(obj, key), g));
}

int xlb_cfg_vip_key_cmp(const struct xlb_vip_key *a, const struct xlb_vip_key *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	/* NBO, so byte order is numeric order. */
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (r)
		return r < 0 ? -1 : 1;
	if (a->port != b->port)
		return ntohs(a->port) < ntohs(b->port) ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return 0;
}

int xlb_cfg_backend_cmp(const struct xlb_cfg_backend *a, const struct xlb_cfg_backend *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	return r < 0 ? -1 : r > 0;
}

static int vip_cmp(const void *a, const void *b)
{
	return xlb_cfg_vip_key_cmp(&((const struct xlb_cfg_vip *)a)->key,
				   &((const struct xlb_cfg_vip *)b)->key);
}

static int be_cmp(const void *a, const void *b)
{
	return xlb_cfg_backend_cmp(a, b);
}

static int iface_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xlb_cfg_iface *)a)->name,
		      ((const struct xlb_cfg_iface *)b)->name);
}

struct sort_ctx {
	const char *base;
	size_t size;
	int (*cmp)(const void *, const void *);
};

/* Ties broken by input position, so duplicates come out in document order. */
static int perm_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int r = c->cmp(c->base + i * c->size, c->base + j * c->size);

	return r ? r : (i > j) - (i < j);
}

/*
 * Sort @n elements of @base in place.  If two compare equal, return -EEXIST
 * with *first and *dup the input positions of the first duplicate in
 * document order (the earliest second occurrence) and the element it
 * repeats; @base is then left in input order.
 */
static int sort_unique(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
		       size_t *first, size_t *dup)
{
	struct sort_ctx c = { base, size, cmp };
	size_t *perm = NULL, i, best = SIZE_MAX;
	char *tmp = NULL;
	int err = 0;

	if (n < 2)
		return 0;
	perm = malloc(n * sizeof(*perm));
	tmp = malloc(n * size);
	if (!perm || !tmp) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		perm[i] = i;
	qsort_r(perm, n, sizeof(*perm), perm_cmp, &c);
	for (i = 1; i < n; i++) {
		if (cmp(c.base + perm[i - 1] * size, c.base + perm[i] * size))
			continue;
		/* perm[i - 1] is earlier; the run's first element is what it repeats. */
		if (perm[i] < best) {
			size_t j = i - 1;

			while (j > 0 && !cmp(c.base + perm[j - 1] * size, c.base + perm[i] * size))
				j--;
			best = perm[i];
			*dup = perm[i];
			*first = perm[j];
		}
	}
	if (best != SIZE_MAX) {
		err = -EEXIST;
		goto out;
	}
	for (i = 0; i < n; i++)
		memcpy(tmp + i * size, c.base + perm[i] * size, size);
	memcpy(base, tmp, n * size);
out:
	free(tmp);
	free(perm);
	return err;
}

static const char *const mode_names[] = { "native", "generic", NULL };
static const char *const hash_names[] = { "5tuple", "src", NULL };
static const char *const encap_names[] = { "ipip", NULL };
static const char *const state_names[] = { "up", "drain", NULL };

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* ---------------------------------------------------------------- health */

static const char *const hc_type_names[] = { "none", "tcp", "http", "https", "udp", NULL };
static const char *const dead_names[] = { "rechoose", "drop", NULL };
static const char *const alldown_names[] = { "drop", "fail-open", NULL };

#define HT(t)		(1U << (t))
#define HT_CHECKS	(HT(XLB_CFG_HC_TCP) | HT(XLB_CFG_HC_HTTP) | HT(XLB_CFG_HC_HTTPS) | \
			 HT(XLB_CFG_HC_UDP))
#define HT_HTTP		(HT(XLB_CFG_HC_HTTP) | HT(XLB_CFG_HC_HTTPS))

/* The keys of a health object in canonical order, and the types they belong to. */
static const struct hc_key {
	const char *name;
	__u32 bit;	/* XLB_CFG_HK_* */
	__u32 types;	/* HT() of the types that take it */
	const char *only;	/* the message when the type does not take it */
} hc_keys[] = {
	{ "type", XLB_CFG_HK_TYPE, HT_CHECKS | HT(XLB_CFG_HC_NONE), NULL },
	{ "port", XLB_CFG_HK_PORT, HT_CHECKS, NULL },
	{ "interval_ms", XLB_CFG_HK_INTERVAL, HT_CHECKS, NULL },
	{ "timeout_ms", XLB_CFG_HK_TIMEOUT, HT_CHECKS, NULL },
	{ "rise", XLB_CFG_HK_RISE, HT_CHECKS, NULL },
	{ "fall", XLB_CFG_HK_FALL, HT_CHECKS, NULL },
	{ "jitter_pct", XLB_CFG_HK_JITTER, HT_CHECKS, NULL },
	{ "backoff_max_ms", XLB_CFG_HK_BACKOFF, HT_CHECKS, NULL },
	{ "datapath", XLB_CFG_HK_DATAPATH, HT_CHECKS, NULL },
	{ "path", XLB_CFG_HK_PATH, HT_HTTP, "only for http and https checks" },
	{ "host", XLB_CFG_HK_HOST, HT_HTTP, "only for http and https checks" },
	{ "expect_status", XLB_CFG_HK_STATUS, HT_HTTP, "only for http and https checks" },
	{ "expect_body", XLB_CFG_HK_BODY, HT_HTTP, "only for http and https checks" },
	{ "tls_verify", XLB_CFG_HK_TLS_VERIFY, HT(XLB_CFG_HC_HTTPS), "only for https checks" },
	{ "payload", XLB_CFG_HK_PAYLOAD, HT(XLB_CFG_HC_UDP), "only for udp checks" },
	{ "expect_reply", XLB_CFG_HK_REPLY, HT(XLB_CFG_HC_UDP), "only for udp checks" },
};

#define N_HC_KEYS	(sizeof(hc_keys) / sizeof(hc_keys[0]))
#define DEF_HC_PATH	"/"
#define DEF_HC_STATUS	"200-399"

static const char *const hc_key_names[] = {
	"type", "port", "interval_ms", "timeout_ms", "rise", "fall", "jitter_pct",
	"backoff_max_ms", "datapath", "path", "host", "expect_status", "expect_body",
	"tls_verify", "payload", "expect_reply", NULL,
};

void xlb_cfg_health_clear(struct xlb_cfg_health *h)
{
	free(h->path);
	free(h->host);
	free(h->expect_status);
	free(h->expect_body);
	free(h->payload);
	free(h->expect_reply);
	h->path = h->host = h->expect_status = h->expect_body = h->payload = NULL;
	h->expect_reply = NULL;
	h->payload_len = 0;
}

static int dup_mem(char **dst, const char *src, size_t len)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = malloc(len + 1);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, len);
	(*dst)[len] = '\0';
	return 0;
}

/* A deep copy; on -ENOMEM @dst holds nothing to free. */
int xlb_cfg_health_copy(struct xlb_cfg_health *dst, const struct xlb_cfg_health *src)
{
	int err;

	*dst = *src;
	dst->path = dst->host = dst->expect_status = dst->expect_body = NULL;
	dst->payload = dst->expect_reply = NULL;
	err = dup_mem(&dst->path, src->path, src->path ? strlen(src->path) : 0) ?:
	      dup_mem(&dst->host, src->host, src->host ? strlen(src->host) : 0) ?:
	      dup_mem(&dst->expect_status, src->expect_status,
		      src->expect_status ? strlen(src->expect_status) : 0) ?:
	      dup_mem(&dst->expect_body, src->expect_body,
		      src->expect_body ? strlen(src->expect_body) : 0) ?:
	      dup_mem(&dst->payload, src->payload, src->payload_len) ?:
	      dup_mem(&dst->expect_reply, src->expect_reply,
		      src->expect_reply ? strlen(src->expect_reply) : 0);
	if (err)
		xlb_cfg_health_clear(dst);
	return err;
}

/* "200,204,300-399": codes or LO-HI ranges within 100..599, LO <= HI. */
bool xlb_cfg_expect_status_ok(const char *s)
{
	unsigned long lo, hi;
	char *end;

	if (!s || !*s)
		return false;
	for (;;) {
		if (!isdigit((unsigned char)*s))
			return false;
		lo = strtoul(s, &end, 10);
		hi = lo;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return false;
			hi = strtoul(end + 1, &end, 10);
		}
		if (lo < 100 || hi > 599 || lo > hi)
			return false;
		if (!*end)
			return true;
		if (*end != ',')
			return false;
		s = end + 1;
	}
}

static bool hc_printable(const char *s, bool space_ok)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || (!space_ok && *s == ' '))
			return false;
	return true;
}

/*
 * One optional string of a health object: null and "" (when @empty_null)
 * read as NULL.  @check: 'p' an HTTP path, 'h' a host, 's' a status list,
 * anything else any text without control characters.
 */
static int hc_get_str(struct perr *e, const json_t *obj, const char *base, const char *key,
		      int check, char **out)
{
	json_t *v = json_object_get(obj, key);
	char p[PATHLEN], g[GOTLEN];
	const char *what, *s;
	bool ok = true;

	switch (check) {
	case 'p':
		what = "a path starting with '/', without spaces or control characters";
		break;
	case 'h':
		what = "null or a host name without spaces or control characters";
		break;
	case 's':
		what = "status codes or ranges within 100..599, such as \"200,204,300-399\"";
		break;
	default:
		what = "null or a string without control characters";
		break;
	}
	path_key(p, base, key);
	free(*out);
	*out = NULL;
	if (json_is_null(v) && (check == 'h' || check == 't'))
		return 0;
	if (!json_is_string(v))
		return fail(e, p, "expected %s, got %s", what, got(v, g));
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return fail(e, p, "expected %s, got a string with a NUL byte", what);
	if (strlen(s) > XLB_CFG_MAX_HC_STRING)
		return fail(e, p, "expected at most %d bytes, got %zu", XLB_CFG_MAX_HC_STRING,
			    strlen(s));
	switch (check) {
	case 'p':
		ok = s[0] == '/' && hc_printable(s, false);
		break;
	case 'h':
		ok = s[0] && hc_printable(s, false);
		break;
	case 's':
		ok = xlb_cfg_expect_status_ok(s);
		break;
	default:
		ok = hc_printable(s, true);
		break;
	}
	if (!ok)
		return fail(e, p, "expected %s, got %s", what, got(v, g));
	if (!*s && check == 't')
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int hc_get_payload(struct perr *e, const json_t *obj, const char *base,
			  struct xlb_cfg_health *h)
{
	json_t *v = json_object_get(obj, "payload");
	char p[PATHLEN], g[GOTLEN];
	size_t n;

	path_key(p, base, "payload");
	free(h->payload);
	h->payload = NULL;
	h->payload_len = 0;
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(e, p, "expected null or a string, got %s", got(v, g));
	n = json_string_length(v);
	if (n > XLB_CFG_MAX_HC_PAYLOAD)
		return fail(e, p, "expected at most %d bytes, got %zu", XLB_CFG_MAX_HC_PAYLOAD, n);
	if (!n)
		return 0;
	h->payload_len = n;
	return dup_mem(&h->payload, json_string_value(v), n);
}

/* Fill the defaults of the type's own keys and drop what it does not use. */
static int health_normalize(struct xlb_cfg_health *h)
{
	if (!(HT(h->type) & HT_HTTP)) {
		free(h->path);
		free(h->host);
		free(h->expect_status);
		free(h->expect_body);
		h->path = h->host = h->expect_status = h->expect_body = NULL;
	} else {
		if (!h->path && !(h->path = strdup(DEF_HC_PATH)))
			return -ENOMEM;
		if (!h->expect_status && !(h->expect_status = strdup(DEF_HC_STATUS)))
			return -ENOMEM;
	}
	if (h->type != XLB_CFG_HC_HTTPS)
		h->tls_verify = false;
	if (h->type != XLB_CFG_HC_UDP) {
		free(h->payload);
		free(h->expect_reply);
		h->payload = h->expect_reply = NULL;
		h->payload_len = 0;
	}
	return 0;
}

static void hc_types_fmt(__u8 t, char *buf, size_t len)
{
	snprintf(buf, len, "the type is \"%s\"", hc_type_names[t < 5 ? t : 0]);
}

/*
 * A VIP's "health" (@base NULL), or a backend's override of the VIP's
 * resolved check @base.  @vip_port is the VIP's port (HBO), the default
 * port.  On error @h holds nothing to free.
 */
static int health_parse(struct perr *e, const json_t *obj, const char *path,
			const struct xlb_cfg_health *base, __u16 vip_port, struct xlb_cfg_health *h)
{
	char p[PATHLEN], why[64];
	bool given_timeout, given_backoff;
	__u32 v;
	size_t i;
	int err;

	memset(h, 0, sizeof(*h));
	if (base) {
		err = xlb_cfg_health_copy(h, base);
		if (err)
			return err;
		h->set = 0;
	} else {
		h->type = XLB_CFG_HC_NONE;
		h->port = vip_port;
		h->interval_ms = XLB_CFG_DEF_HC_INTERVAL_MS;
		h->timeout_ms = XLB_CFG_DEF_HC_TIMEOUT_MS;
		h->rise = XLB_CFG_DEF_HC_RISE;
		h->fall = XLB_CFG_DEF_HC_FALL;
		h->jitter_pct = XLB_CFG_DEF_HC_JITTER_PCT;
	}
	if (!obj || json_is_null(obj))
		goto done;
	err = want_object(e, obj, path) ?: check_keys(e, obj, path, hc_key_names);
	if (err)
		goto out;
	path_key(p, path, "type");
	if (json_object_get(obj, "type")) {
		err = get_enum(e, obj, path, "type", hc_type_names, 0, &h->type);
		if (err)
			goto out;
		h->set |= XLB_CFG_HK_TYPE;
	} else if (!base) {
		err = fail(e, p, "missing (expected \"none\", \"tcp\", \"http\", \"https\" or "
			   "\"udp\")");
		goto out;
	} else if (h->type == XLB_CFG_HC_NONE) {
		err = fail(e, p, "missing: the VIP has no checks (type \"none\"), so an override "
			   "must give a type");
		goto out;
	}
	/* Keys of another type are mistakes, not something to ignore. */
	for (i = 1; i < N_HC_KEYS; i++) {
		if (!json_object_get(obj, hc_keys[i].name) || (hc_keys[i].types & HT(h->type)))
			continue;
		path_key(p, path, hc_keys[i].name);
		hc_types_fmt(h->type, why, sizeof(why));
		err = fail(e, p, "%s (%s)", hc_keys[i].only ? hc_keys[i].only :
			   "only for tcp, http, https and udp checks", why);
		goto out;
	}
	given_timeout = json_object_get(obj, "timeout_ms") != NULL;
	given_backoff = json_object_get(obj, "backoff_max_ms") != NULL;
	for (i = 1; i < N_HC_KEYS; i++) {
		const char *k = hc_keys[i].name;

		if (!json_object_get(obj, k))
			continue;
		h->set |= hc_keys[i].bit;
		switch (hc_keys[i].bit) {
		case XLB_CFG_HK_PORT:
			err = get_u32(e, obj, path, k, 1, 65535, 0, &v);
			h->port = (__u16)v;
			break;
		case XLB_CFG_HK_INTERVAL:
			err = get_u32(e, obj, path, k, XLB_CFG_MIN_HC_INTERVAL_MS,
				      XLB_CFG_MAX_HC_INTERVAL_MS, 0, &h->interval_ms);
			break;
		case XLB_CFG_HK_TIMEOUT:
			err = get_u32(e, obj, path, k, 1, XLB_CFG_MAX_HC_INTERVAL_MS, 0,
				      &h->timeout_ms);
			break;
		case XLB_CFG_HK_RISE:
			err = get_u32(e, obj, path, k, 1, XLB_CFG_MAX_HC_RISE_FALL, 0, &h->rise);
			break;
		case XLB_CFG_HK_FALL:
			err = get_u32(e, obj, path, k, 1, XLB_CFG_MAX_HC_RISE_FALL, 0, &h->fall);
			break;
		case XLB_CFG_HK_JITTER:
			err = get_u32(e, obj, path, k, 0, XLB_CFG_MAX_HC_JITTER_PCT, 0,
				      &h->jitter_pct);
			break;
		case XLB_CFG_HK_BACKOFF:
			err = get_u32(e, obj, path, k, 0, XLB_CFG_MAX_HC_INTERVAL_MS, 0,
				      &h->backoff_max_ms);
			break;
		case XLB_CFG_HK_DATAPATH:
			err = get_bool(e, obj, path, k, false, &h->datapath);
			break;
		case XLB_CFG_HK_PATH:
			err = hc_get_str(e, obj, path, k, 'p', &h->path);
			break;
		case XLB_CFG_HK_HOST:
			err = hc_get_str(e, obj, path, k, 'h', &h->host);
			break;
		case XLB_CFG_HK_STATUS:
			err = hc_get_str(e, obj, path, k, 's', &h->expect_status);
			break;
		case XLB_CFG_HK_BODY:
			err = hc_get_str(e, obj, path, k, 't', &h->expect_body);
			break;
		case XLB_CFG_HK_TLS_VERIFY:
			err = get_bool(e, obj, path, k, false, &h->tls_verify);
			break;
		case XLB_CFG_HK_PAYLOAD:
			err = hc_get_payload(e, obj, path, h);
			break;
		case XLB_CFG_HK_REPLY:
			err = hc_get_str(e, obj, path, k, 't', &h->expect_reply);
			break;
		}
		if (err)
			goto out;
	}
	/* What was not given follows the interval rather than contradict it. */
	if (!given_timeout && h->timeout_ms > h->interval_ms)
		h->timeout_ms = h->interval_ms;
	if (!given_backoff && h->backoff_max_ms && h->backoff_max_ms < h->interval_ms)
		h->backoff_max_ms = h->interval_ms;
	if (!base)
		h->set = 0;
	if (h->type == XLB_CFG_HC_NONE)
		goto done;
	if (h->timeout_ms > h->interval_ms) {
		path_key(p, path, "timeout_ms");
		err = fail(e, p, "expected at most interval_ms (%u), got %u", h->interval_ms,
			   h->timeout_ms);
		goto out;
	}
	if (h->backoff_max_ms && h->backoff_max_ms < h->interval_ms) {
		path_key(p, path, "backoff_max_ms");
		err = fail(e, p, "expected 0 or at least interval_ms (%u), got %u",
			   h->interval_ms, h->backoff_max_ms);
		goto out;
	}
done:
	if (h->type != XLB_CFG_HC_NONE && !h->port) {
		path_key(p, path, "port");
		err = fail(e, p, "missing: the VIP's port is 0 (every port), so a check needs "
			   "one (expected 1..65535)");
		goto out;
	}
	err = health_normalize(h);
out:
	if (err)
		xlb_cfg_health_clear(h);
	return err;
}

/* @mask: the XLB_CFG_HK_* keys to write (a VIP's: all; an override's: its set). */
static json_t *health_to_json(const struct xlb_cfg_health *h, __u32 mask)
{
	json_t *o = json_object(), *v;
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < N_HC_KEYS; i++) {
		if (!(mask & hc_keys[i].bit) || !(hc_keys[i].types & HT(h->type)))
			continue;
		switch (hc_keys[i].bit) {
		case XLB_CFG_HK_TYPE:
			v = json_string(hc_type_names[h->type < 5 ? h->type : 0]);
			break;
		case XLB_CFG_HK_PORT:
			v = json_integer(h->port);
			break;
		case XLB_CFG_HK_INTERVAL:
			v = json_integer(h->interval_ms);
			break;
		case XLB_CFG_HK_TIMEOUT:
			v = json_integer(h->timeout_ms);
			break;
		case XLB_CFG_HK_RISE:
			v = json_integer(h->rise);
			break;
		case XLB_CFG_HK_FALL:
			v = json_integer(h->fall);
			break;
		case XLB_CFG_HK_JITTER:
			v = json_integer(h->jitter_pct);
			break;
		case XLB_CFG_HK_BACKOFF:
			v = json_integer(h->backoff_max_ms);
			break;
		case XLB_CFG_HK_DATAPATH:
			v = json_boolean(h->datapath);
			break;
		case XLB_CFG_HK_PATH:
			v = json_string(h->path ? h->path : DEF_HC_PATH);
			break;
		case XLB_CFG_HK_HOST:
			v = h->host ? json_string(h->host) : json_null();
			break;
		case XLB_CFG_HK_STATUS:
			v = json_string(h->expect_status ? h->expect_status : DEF_HC_STATUS);
			break;
		case XLB_CFG_HK_BODY:
			v = h->expect_body ? json_string(h->expect_body) : json_null();
			break;
		case XLB_CFG_HK_TLS_VERIFY:
			v = json_boolean(h->tls_verify);
			break;
		case XLB_CFG_HK_PAYLOAD:
			v = json_stringn(h->payload ? h->payload : "", h->payload_len);
			break;
		case XLB_CFG_HK_REPLY:
			v = h->expect_reply ? json_string(h->expect_reply) : json_null();
			break;
		default:
			v = NULL;
			break;
		}
		if (json_object_set_new(o, hc_keys[i].name, v)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static bool mem_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && (!al || !memcmp(a, b, al));
}

/* The same check: only the keys its type uses count. */
bool xlb_cfg_health_equal(const struct xlb_cfg_health *a, const struct xlb_cfg_health *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == XLB_CFG_HC_NONE)
		return true;
	if (a->port != b->port || a->interval_ms != b->interval_ms ||
	    a->timeout_ms != b->timeout_ms || a->rise != b->rise || a->fall != b->fall ||
	    a->jitter_pct != b->jitter_pct || a->backoff_max_ms != b->backoff_max_ms ||
	    a->datapath != b->datapath)
		return false;
	if ((HT(a->type) & HT_HTTP) &&
	    (!str_eq(a->path, b->path) || !str_eq(a->host, b->host) ||
	     !str_eq(a->expect_status, b->expect_status) ||
	     !str_eq(a->expect_body, b->expect_body)))
		return false;
	if (a->type == XLB_CFG_HC_HTTPS && a->tls_verify != b->tls_verify)
		return false;
	if (a->type == XLB_CFG_HC_UDP &&
	    (!mem_eq(a->payload, a->payload_len, b->payload, b->payload_len) ||
	     !str_eq(a->expect_reply, b->expect_reply)))
		return false;
	return true;
}

static int backend_parse(struct perr *e, const json_t *obj, const char *path,
			 const struct xlb_cfg_vip *vip, struct xlb_cfg_backend *b)
{
	static const char *const keys[] = { "address", "weight", "state", "health", NULL };
	static const char what[] = "a unicast IPv4 or IPv6 address";
	char p[PATHLEN], g[GOTLEN];
	const char *s = NULL;
	json_t *hc;
	__u32 w;
	int err;

	memset(b, 0, sizeof(*b));
	err = want_object(e, obj, path) ?: check_keys(e, obj, path, keys) ?:
	      get_str(e, obj, path, "address", NULL, what, &s);
	if (err)
		return err;
	if (xlb_addr_parse(s, b->addr, &b->family) || !addr_unicast(b->addr, b->family)) {
		path_key(p, path, "address");
		return fail(e, p, "expected %s, got %s", what,
			    got(json_object_get(obj, "address"), g));
	}
	err = get_u32(e, obj, path, "weight", 0, 65535, XLB_CFG_DEF_WEIGHT, &w) ?:
	      get_enum(e, obj, path, "state", state_names, XLB_CFG_BE_UP, &b->state);
	b->weight = (__u16)w;
	if (err)
		return err;
	/* An override is resolved here, so the daemon only sees complete checks. */
	hc = json_object_get(obj, "health");
	if (!hc || json_is_null(hc))
		return 0;
	path_key(p, path, "health");
	err = health_parse(e, hc, p, &vip->health, ntohs(vip->key.port), &b->health);
	if (err)
		return err;
	b->has_health = true;
	return 0;
}

void xlb_config_vip_clear(struct xlb_cfg_vip *vip)
{
	__u32 i;

	if (!vip)
		return;
	for (i = 0; i < vip->n_backends; i++)
		xlb_cfg_health_clear(&vip->backends[i].health);
	xlb_cfg_health_clear(&vip->health);
	free(vip->backends);
	memset(vip, 0, sizeof(*vip));
}

/* @max_be: most backends this VIP may have, given the limits and the other VIPs. */
static int vip_parse(struct perr *e, const json_t *obj, const char *path, __u32 max_be,
		     __u32 max_backends, struct xlb_cfg_vip *vip)
{
	static const char *const keys[] = { "vip", "ring_size", "hash", "conntrack", "encap",
					    "health", "slow_start_s", "latency_adaptive",
					    "dead_backend", "all_down", "backends", NULL };
	static const char what[] = "a VIP ADDR:PORT/PROTO, [ADDR6]:PORT/PROTO or ADDR/PROTO";
	char p[PATHLEN], bp[PATHLEN], g[GOTLEN];
	const char *s = NULL, *why = NULL;
	json_t *arr, *v;
	size_t i, first, dup;
	int err;

	memset(vip, 0, sizeof(*vip));
	err = want_object(e, obj, path) ?: check_keys(e, obj, path, keys) ?:
	      get_str(e, obj, path, "vip", NULL, what, &s);
	if (err)
		return err;
	if (xlb_vip_key_parse(s, &vip->key, &why) || !addr_unicast(vip->key.addr, vip->key.family)) {
		path_key(p, path, "vip");
		return fail(e, p, "%s, got %s", why ? why : "expected a unicast address",
			    got(json_object_get(obj, "vip"), g));
	}
	v = json_object_get(obj, "ring_size");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 2 ||
		  json_integer_value(v) > XLB_MAX_RING_SIZE ||
		  !maglev_valid_m((__u32)json_integer_value(v)))) {
		path_key(p, path, "ring_size");
		return fail(e, p, "expected a prime 2..%u, got %s", XLB_MAX_RING_SIZE, got(v, g));
	}
	vip->ring_size = v ? (__u32)json_integer_value(v) : XLB_DEF_RING_SIZE;
	err = get_enum(e, obj, path, "hash", hash_names, XLB_CFG_HASH_5TUPLE, &vip->hash) ?:
	      get_bool(e, obj, path, "conntrack", true, &vip->conntrack) ?:
	      get_enum(e, obj, path, "encap", encap_names, XLB_ENCAP_IPIP, &vip->encap);
	if (err)
		return err;
	path_key(p, path, "health");
	err = health_parse(e, json_object_get(obj, "health"), p, NULL, ntohs(vip->key.port),
			   &vip->health) ?:
	      get_u32(e, obj, path, "slow_start_s", 0, XLB_CFG_MAX_SLOW_START_S, 0,
		      &vip->slow_start_s) ?:
	      get_bool(e, obj, path, "latency_adaptive", false, &vip->latency_adaptive) ?:
	      get_enum(e, obj, path, "dead_backend", dead_names, XLB_CFG_DEAD_RECHOOSE,
		       &vip->dead_backend) ?:
	      get_enum(e, obj, path, "all_down", alldown_names, XLB_CFG_ALLDOWN_DROP,
		       &vip->all_down);
	if (err)
		goto out;

	path_key(p, path, "backends");
	arr = json_object_get(obj, "backends");
	if (!arr)
		goto out;
	if (!json_is_array(arr)) {
		err = fail(e, p, "expected an array of backends, got %s", got(arr, g));
		goto out;
	}
	if (json_array_size(arr) > MAGLEV_MAX_BACKENDS) {
		err = fail(e, p, "%zu backends, more than %u in one VIP", json_array_size(arr),
			   MAGLEV_MAX_BACKENDS);
		goto out;
	}
	if (json_array_size(arr) > max_be) {
		err = fail(e, p, "%zu backends in all VIPs so far, more than "
			   "limits.max_backends - 1 (%u)",
			   json_array_size(arr) + (max_backends - 1 - max_be), max_backends - 1);
		goto out;
	}
	if (!json_array_size(arr))
		goto out;
	vip->backends = calloc(json_array_size(arr), sizeof(*vip->backends));
	if (!vip->backends) {
		err = -ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, v) {
		path_idx(bp, p, i);
		err = backend_parse(e, v, bp, vip, &vip->backends[i]);
		if (err)
			goto out;
		vip->n_backends++;
	}
	err = sort_unique(vip->backends, vip->n_backends, sizeof(*vip->backends), be_cmp, &first,
			  &dup);
	if (err == -EEXIST) {
		char a[INET6_ADDRSTRLEN], ap[PATHLEN];

		path_idx(bp, p, dup);
		path_key(ap, bp, "address");
		xlb_addr_fmt(vip->backends[dup].addr, vip->backends[dup].family, a, sizeof(a));
		err = fail(e, ap, "duplicate of %s[%zu] (%s)", p, first, a);
	}
out:
	if (err)
		xlb_config_vip_clear(vip);
	return err;
}

int xlb_config_vip_from_json(const json_t *obj, const char *path, const struct xlb_cfg *limits_cfg,
			     struct xlb_cfg_vip *vip, char *err, size_t errlen)
{
	struct perr e = { err, errlen };
	__u32 maxb = limits_cfg ? limits_cfg->limits.max_backends : XLB_DEF_MAX_BACKENDS;

	if (err && errlen)
		err[0] = '\0';
	return vip_parse(&e, obj, path ? path : "vip", maxb - 1, maxb, vip);
}

static int ifaces_parse(struct perr *e, const json_t *root, struct xlb_cfg *c)
{
	static const char *const keys[] = { "name", "mode", NULL };
	json_t *arr = json_object_get(root, "interfaces"), *v;
	char p[PATHLEN], g[GOTLEN];
	size_t i, first, dup;
	int err;

	if (!arr)
		return fail(e, "interfaces", "missing (expected an array of at least one "
			    "{\"name\": IFNAME})");
	if (!json_is_array(arr) || !json_array_size(arr))
		return fail(e, "interfaces", "expected an array of at least one interface, got %s",
			    json_is_array(arr) ? "[]" : got(arr, g));
	c->ifaces = calloc(json_array_size(arr), sizeof(*c->ifaces));
	if (!c->ifaces)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		path_idx(p, "interfaces", i);
		err = want_object(e, v, p) ?: check_keys(e, v, p, keys) ?:
		      get_ifname(e, v, p, "name", c->ifaces[i].name) ?:
		      get_enum(e, v, p, "mode", mode_names, XLB_CFG_MODE_NATIVE,
			       &c->ifaces[i].mode);
		if (err)
			return err;
		c->n_ifaces++;
	}
	err = sort_unique(c->ifaces, c->n_ifaces, sizeof(*c->ifaces), iface_cmp, &first, &dup);
	if (err == -EEXIST) {
		snprintf(p, sizeof(p), "interfaces[%zu].name", dup);
		return fail(e, p, "duplicate of interfaces[%zu] (%s)", first, c->ifaces[dup].name);
	}
	return err;
}

static int vips_parse(struct perr *e, const json_t *root, struct xlb_cfg *c)
{
	json_t *arr = json_object_get(root, "vips"), *v;
	char p[PATHLEN], g[GOTLEN], k[XLB_VIP_STRLEN];
	size_t i, first, dup, total = 0;
	int err;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return fail(e, "vips", "expected an array of VIPs, got %s", got(arr, g));
	if (json_array_size(arr) > c->limits.max_vips - 1)
		return fail(e, "vips", "%zu VIPs, more than limits.max_vips - 1 (%u)",
			    json_array_size(arr), c->limits.max_vips - 1);
	if (!json_array_size(arr))
		return 0;
	c->vips = calloc(json_array_size(arr), sizeof(*c->vips));
	if (!c->vips)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		path_idx(p, "vips", i);
		err = vip_parse(e, v, p, c->limits.max_backends - 1 - (__u32)total,
				c->limits.max_backends, &c->vips[i]);
		if (err)
			return err;
		c->n_vips++;
		total += c->vips[i].n_backends;
	}
	err = sort_unique(c->vips, c->n_vips, sizeof(*c->vips), vip_cmp, &first, &dup);
	if (err == -EEXIST) {
		snprintf(p, sizeof(p), "vips[%zu].vip", dup);
		return fail(e, p, "duplicate of vips[%zu] (%s)", first,
			    xlb_vip_key_fmt(&c->vips[dup].key, k, sizeof(k)));
	}
	return err;
}

static int version_parse(struct perr *e, const json_t *root, struct xlb_cfg *c)
{
	json_t *v = json_object_get(root, "version");
	char g[GOTLEN];

	if (!v)
		return fail(e, "version", "missing (expected %d)", XLB_CFG_VERSION);
	if (!json_is_integer(v) || json_integer_value(v) != XLB_CFG_VERSION)
		return fail(e, "version", "expected %d (the only version this xlb reads), got %s",
			    XLB_CFG_VERSION, got(v, g));
	c->version = XLB_CFG_VERSION;
	return 0;
}

static int next_hop_parse(struct perr *e, const json_t *root, struct xlb_cfg *c)
{
	static const char *const keys[] = { "static", "skip_fib", NULL };
	static const char *const skeys[] = { "ifname", "dmac", "smac", NULL };
	json_t *nh = json_object_get(root, "next_hop"), *st;
	int err;

	if (!nh)
		return 0;
	err = want_object(e, nh, "next_hop") ?: check_keys(e, nh, "next_hop", keys);
	if (err)
		return err;
	st = json_object_get(nh, "static");
	if (st && !json_is_null(st)) {
		err = want_object(e, st, "next_hop.static") ?:
		      check_keys(e, st, "next_hop.static", skeys) ?:
		      get_ifname(e, st, "next_hop.static", "ifname", c->next_hop.ifname) ?:
		      get_mac(e, st, "next_hop.static", "dmac", false, c->next_hop.dmac) ?:
		      get_mac(e, st, "next_hop.static", "smac", true, c->next_hop.smac);
		if (err)
			return err;
		c->next_hop.has_static = true;
	}
	err = get_bool(e, nh, "next_hop", "skip_fib", false, &c->next_hop.skip_fib);
	if (err)
		return err;
	/* Without the FIB and without a static next hop nothing could be sent. */
	if (c->next_hop.skip_fib && !c->next_hop.has_static)
		return fail(e, "next_hop.skip_fib", "true needs next_hop.static");
	return 0;
}

static int control_parse(struct perr *e, const json_t *root, struct xlb_cfg *c)
{
	static const char *const keys[] = { "socket", "group", "max_clients", "max_request_bytes",
					    "idle_timeout_s", NULL };
	static const char what[] = "null or a group name of 1..32 characters";
	json_t *ctl = json_object_get(root, "control"), *g;
	char p[PATHLEN], gb[GOTLEN];
	const char *s = NULL;
	size_t i;
	int err;

	if (ctl) {
		err = want_object(e, ctl, "control") ?: check_keys(e, ctl, "control", keys);
		if (err)
			return err;
	}
	/* sun_path holds 108 bytes with the NUL. */
	err = get_path(e, ctl, "control", "socket", XLB_CFG_DEF_SOCKET,
		       sizeof(((struct sockaddr_un *)0)->sun_path), &c->control.socket);
	if (err)
		return err;
	g = json_object_get(ctl, "group");
	if (g && !json_is_null(g)) {
		err = get_str(e, ctl, "control", "group", NULL, what, &s);
		if (err)
			return err;
		for (i = 0; s[i]; i++)
			if (s[i] == ':' || s[i] == '/' || isspace((unsigned char)s[i]) ||
			    (unsigned char)s[i] < 0x20)
				break;
		if (!i || s[i] || i >= XLB_CFG_GROUPSIZ) {
			path_key(p, "control", "group");
			return fail(e, p, "expected %s, got %s", what, got(g, gb));
		}
		c->control.group = strdup(s);
		if (!c->control.group)
			return -ENOMEM;
	}
	return get_u32(e, ctl, "control", "max_clients", 1, 1024, XLB_CFG_DEF_MAX_CLIENTS,
		       &c->control.max_clients) ?:
	       get_u32(e, ctl, "control", "max_request_bytes", 256, 1048576,
		       XLB_CFG_DEF_MAX_REQUEST, &c->control.max_request_bytes) ?:
	       get_u32(e, ctl, "control", "idle_timeout_s", 1, 3600, XLB_CFG_DEF_IDLE_TIMEOUT,
		       &c->control.idle_timeout_s);
}

static int cfg_parse(struct perr *e, const json_t *root, struct xlb_cfg *c)
{
	static const char *const keys[] = { "version", "interfaces", "pin_root", "hash_seed",
					    "limits", "encap", "next_hop", "control", "metrics",
					    "state_file", "vips", NULL };
	static const char *const lkeys[] = { "max_vips", "max_backends", "conntrack", NULL };
	static const char *const ekeys[] = { "src4", "src6", NULL };
	static const char *const mkeys[] = { "listen", NULL };
	json_t *lim, *enc, *met;
	char g[GOTLEN];
	int err;

	if (!json_is_object(root))
		return fail(e, NULL, "expected a JSON object at the top level, got %s",
			    got(root, g));
	err = check_keys(e, root, "", keys) ?: version_parse(e, root, c) ?:
	      ifaces_parse(e, root, c) ?:
	      get_path(e, root, "", "pin_root", XLB_PIN_ROOT_DEFAULT, PATH_MAXLEN, &c->pin_root) ?:
	      get_u32(e, root, "", "hash_seed", 0, 0xffffffffLL, 0, &c->hash_seed);
	if (err)
		return err;

	/* Absent sections are read as empty objects: json_object_get(NULL) is NULL. */
	lim = json_object_get(root, "limits");
	if (lim) {
		err = want_object(e, lim, "limits") ?: check_keys(e, lim, "limits", lkeys);
		if (err)
			return err;
	}
	err = get_u32(e, lim, "limits", "max_vips", XLB_CFG_MIN_MAX_VIPS, XLB_CFG_MAX_MAX_VIPS,
		      XLB_DEF_MAX_VIPS, &c->limits.max_vips) ?:
	      get_u32(e, lim, "limits", "max_backends", XLB_CFG_MIN_MAX_BACKENDS,
		      XLB_CFG_MAX_MAX_BACKENDS, XLB_DEF_MAX_BACKENDS, &c->limits.max_backends) ?:
	      get_u32(e, lim, "limits", "conntrack", XLB_CFG_MIN_CONNTRACK, XLB_CFG_MAX_CONNTRACK,
		      XLB_DEF_CONNTRACK, &c->limits.conntrack);
	if (err)
		return err;

	enc = json_object_get(root, "encap");
	if (enc) {
		err = want_object(e, enc, "encap") ?: check_keys(e, enc, "encap", ekeys);
		if (err)
			return err;
	}
	{
		__u32 a4[4];

		err = get_prefix(e, enc, "encap", "src4", XLB_CFG_DEF_SRC4, XLB_AF_INET, 8, 32, a4,
				 &c->encap.src4_len) ?:
		      get_prefix(e, enc, "encap", "src6", XLB_CFG_DEF_SRC6, XLB_AF_INET6, 96, 96,
				 c->encap.src6, &c->encap.src6_len);
		c->encap.src4 = a4[0];
	}
	if (err)
		return err;

	err = next_hop_parse(e, root, c) ?: control_parse(e, root, c);
	if (err)
		return err;

	met = json_object_get(root, "metrics");
	if (met) {
		err = want_object(e, met, "metrics") ?: check_keys(e, met, "metrics", mkeys);
		if (err)
			return err;
	}
	return get_listen(e, met, "metrics", "listen", c) ?:
	       get_path(e, root, "", "state_file", XLB_CFG_DEF_STATE_FILE, PATH_MAXLEN,
			&c->state_file) ?:
	       vips_parse(e, root, c);
}

int xlb_config_from_json(const json_t *root, struct xlb_cfg **out, char *err, size_t errlen)
{
	struct perr e = { err, errlen };
	struct xlb_cfg *c;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ret = cfg_parse(&e, root, c);
	if (ret == -ENOMEM)
		fail(&e, NULL, "out of memory");
	if (ret) {
		xlb_config_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int xlb_config_parse(const char *text, size_t len, struct xlb_cfg **out, char *err, size_t errlen)
{
	struct perr e = { err, errlen };
	json_error_t jerr;
	json_t *root;
	int ret;

	/* Duplicate keys would let a second "weight" silently win.  NULs are
	 * let in for a UDP check's payload; every other string refuses them. */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!root)
		return fail(&e, NULL, "JSON syntax error at line %d:%d: %s", jerr.line,
			    jerr.column, jerr.text);
	ret = xlb_config_from_json(root, out, err, errlen);
	json_decref(root);
	return ret;
}

int xlb_config_load(const char *path, struct xlb_cfg **out, char *err, size_t errlen)
{
	struct perr e = { err, errlen };
	char msg[XLB_CFG_ERRLEN] = "";
	char *buf = NULL;
	size_t n = 0, cap = 0, r;
	FILE *f;
	int ret;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		fail(&e, path, "%s", strerror(-ret));
		return ret;
	}
	do {
		if (n == cap) {
			char *nb;

			if (cap >= MAX_FILE_BYTES) {
				ret = fail(&e, path, "larger than %u bytes", MAX_FILE_BYTES);
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				fail(&e, path, "out of memory");
				goto out;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	if (ferror(f)) {
		ret = -EIO;
		fail(&e, path, "read error");
		goto out;
	}
	ret = xlb_config_parse(buf, n, out, msg, sizeof(msg));
	if (ret)
		fail(&e, path, "%s", msg);
out:
	free(buf);
	fclose(f);
	return ret;
}

void xlb_config_free(struct xlb_cfg *c)
{
	__u32 i;

	if (!c)
		return;
	for (i = 0; i < c->n_vips; i++)
		xlb_config_vip_clear(&c->vips[i]);
	free(c->vips);
	free(c->ifaces);
	free(c->pin_root);
	free(c->control.socket);
	free(c->control.group);
	free(c->metrics.listen);
	free(c->state_file);
	free(c);
}

__u32 xlb_cfg_vip_flags(const struct xlb_cfg_vip *vip)
{
	return (vip->hash == XLB_CFG_HASH_SRC ? XLB_VIP_F_HASH_SRC_ONLY : 0) |
	       (vip->conntrack ? 0 : XLB_VIP_F_NO_CONNTRACK) |
	       (vip->dead_backend == XLB_CFG_DEAD_DROP ? XLB_VIP_F_DEAD_DROP : 0);
}

static void mac_fmt(const __u8 m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

json_t *xlb_config_vip_to_json(const struct xlb_cfg_vip *vip)
{
	char k[XLB_VIP_STRLEN], a[INET6_ADDRSTRLEN];
	json_t *bes = json_array(), *hc;
	__u32 i;

	if (!bes)
		return NULL;
	for (i = 0; i < vip->n_backends; i++) {
		const struct xlb_cfg_backend *b = &vip->backends[i];
		json_t *bj = json_pack("{s:s, s:I, s:s}", "address",
				       xlb_addr_fmt(b->addr, b->family, a, sizeof(a)), "weight",
				       (json_int_t)b->weight, "state", state_names[b->state & 1]);

		/* Only the keys the override gives: the rest follow the VIP. */
		if (bj && b->has_health &&
		    json_object_set_new(bj, "health", health_to_json(&b->health, b->health.set))) {
			json_decref(bj);
			bj = NULL;
		}
		if (json_array_append_new(bes, bj)) {
			json_decref(bes);
			return NULL;
		}
	}
	hc = health_to_json(&vip->health, ~0U);
	if (!hc) {
		json_decref(bes);
		return NULL;
	}
	return json_pack("{s:s, s:I, s:s, s:b, s:s, s:o, s:I, s:b, s:s, s:s, s:o}", "vip",
			 xlb_vip_key_fmt(&vip->key, k, sizeof(k)), "ring_size",
			 (json_int_t)vip->ring_size, "hash", hash_names[vip->hash & 1], "conntrack",
			 vip->conntrack, "encap", encap_names[0], "health", hc,
			 "slow_start_s", (json_int_t)vip->slow_start_s,
			 "latency_adaptive", vip->latency_adaptive,
			 "dead_backend", dead_names[vip->dead_backend & 1],
			 "all_down", alldown_names[vip->all_down & 1], "backends", bes);
}

json_t *xlb_config_to_json(const struct xlb_cfg *c)
{
	char s4[INET6_ADDRSTRLEN + 4], s6[INET6_ADDRSTRLEN + 4], a[INET6_ADDRSTRLEN];
	char dmac[18], smac[18];
	json_t *ifs = json_array(), *vips = json_array(), *st;
	__u32 i, a4[4] = { c->encap.src4 };

	if (!ifs || !vips)
		goto fail;
	for (i = 0; i < c->n_ifaces; i++)
		if (json_array_append_new(ifs, json_pack("{s:s, s:s}", "name", c->ifaces[i].name,
							 "mode", mode_names[c->ifaces[i].mode & 1])))
			goto fail;
	for (i = 0; i < c->n_vips; i++)
		if (json_array_append_new(vips, xlb_config_vip_to_json(&c->vips[i])))
			goto fail;
	snprintf(s4, sizeof(s4), "%s/%u", xlb_addr_fmt(a4, XLB_AF_INET, a, sizeof(a)),
		 c->encap.src4_len);
	snprintf(s6, sizeof(s6), "%s/%u", xlb_addr_fmt(c->encap.src6, XLB_AF_INET6, a, sizeof(a)),
		 c->encap.src6_len);
	if (c->next_hop.has_static) {
		mac_fmt(c->next_hop.dmac, dmac);
		mac_fmt(c->next_hop.smac, smac);
		st = json_pack("{s:s, s:s, s:s}", "ifname", c->next_hop.ifname, "dmac", dmac,
			       "smac", smac);
	} else {
		st = json_null();
	}
	/* json_pack keeps this key order, which is the canonical one; "o" steals. */
	return json_pack("{s:I, s:o, s:s, s:I, s:{s:I, s:I, s:I}, s:{s:s, s:s}, s:{s:o, s:b},"
			 " s:{s:s, s:o, s:I, s:I, s:I}, s:{s:s}, s:s, s:o}",
			 "version", (json_int_t)c->version, "interfaces", ifs,
			 "pin_root", c->pin_root, "hash_seed", (json_int_t)c->hash_seed,
			 "limits", "max_vips", (json_int_t)c->limits.max_vips,
			 "max_backends", (json_int_t)c->limits.max_backends,
			 "conntrack", (json_int_t)c->limits.conntrack,
			 "encap", "src4", s4, "src6", s6,
			 "next_hop", "static", st, "skip_fib", c->next_hop.skip_fib,
			 "control", "socket", c->control.socket,
			 "group", c->control.group ? json_string(c->control.group) : json_null(),
			 "max_clients", (json_int_t)c->control.max_clients,
			 "max_request_bytes", (json_int_t)c->control.max_request_bytes,
			 "idle_timeout_s", (json_int_t)c->control.idle_timeout_s,
			 "metrics", "listen", c->metrics.listen,
			 "state_file", c->state_file, "vips", vips);
fail:
	json_decref(ifs);
	json_decref(vips);
	return NULL;
}

int xlb_config_dump(const struct xlb_cfg *c, char **text)
{
	json_t *j = xlb_config_to_json(c);
	char *s = NULL, *t;
	size_t n;
	int err = 0;

	if (!j)
		return -ENOMEM;
	s = json_dumps(j, JSON_INDENT(2));
	if (!s) {
		err = -ENOMEM;
		goto out;
	}
	n = strlen(s);
	t = malloc(n + 2);
	if (!t) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(t, s, n);
	t[n] = '\n';
	t[n + 1] = '\0';
	*text = t;
out:
	free(s);
	json_decref(j);
	return err;
}

static bool vip_health_eq(const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b)
{
	return xlb_cfg_health_equal(&a->health, &b->health) &&
	       a->slow_start_s == b->slow_start_s && a->latency_adaptive == b->latency_adaptive;
}

static bool vip_opts_eq(const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b)
{
	return a->ring_size == b->ring_size && a->hash == b->hash &&
	       a->conntrack == b->conntrack && a->encap == b->encap && vip_health_eq(a, b) &&
	       a->dead_backend == b->dead_backend && a->all_down == b->all_down;
}

/* The check a backend gets: its override, or the VIP's. */
const struct xlb_cfg_health *xlb_cfg_backend_health(const struct xlb_cfg_vip *v,
					      const struct xlb_cfg_backend *b)
{
	return b->has_health ? &b->health : &v->health;
}

/* As written: the same override keys, not only the same effective check. */
static bool be_override_eq(const struct xlb_cfg_backend *a, const struct xlb_cfg_backend *b)
{
	return a->has_health == b->has_health &&
	       (!a->has_health || (a->health.set == b->health.set &&
				   xlb_cfg_health_equal(&a->health, &b->health)));
}

static bool vip_eq(const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b)
{
	__u32 i;

	if (xlb_cfg_vip_key_cmp(&a->key, &b->key) || !vip_opts_eq(a, b) ||
	    a->n_backends != b->n_backends)
		return false;
	for (i = 0; i < a->n_backends; i++)
		if (xlb_cfg_backend_cmp(&a->backends[i], &b->backends[i]) ||
		    a->backends[i].weight != b->backends[i].weight ||
		    a->backends[i].state != b->backends[i].state ||
		    !be_override_eq(&a->backends[i], &b->backends[i]))
			return false;
	return true;
}

static bool ifaces_eq(const struct xlb_cfg *a, const struct xlb_cfg *b)
{
	__u32 i;

	if (a->n_ifaces != b->n_ifaces)
		return false;
	for (i = 0; i < a->n_ifaces; i++)
		if (strcmp(a->ifaces[i].name, b->ifaces[i].name) ||
		    a->ifaces[i].mode != b->ifaces[i].mode)
			return false;
	return true;
}

static bool next_hop_eq(const struct xlb_cfg *a, const struct xlb_cfg *b)
{
	if (a->next_hop.has_static != b->next_hop.has_static ||
	    a->next_hop.skip_fib != b->next_hop.skip_fib)
		return false;
	return !a->next_hop.has_static ||
	       (!strcmp(a->next_hop.ifname, b->next_hop.ifname) &&
		!memcmp(a->next_hop.dmac, b->next_hop.dmac, 6) &&
		!memcmp(a->next_hop.smac, b->next_hop.smac, 6));
}

static bool control_eq(const struct xlb_cfg *a, const struct xlb_cfg *b)
{
	return str_eq(a->control.socket, b->control.socket) &&
	       str_eq(a->control.group, b->control.group) &&
	       a->control.max_clients == b->control.max_clients &&
	       a->control.max_request_bytes == b->control.max_request_bytes &&
	       a->control.idle_timeout_s == b->control.idle_timeout_s;
}

static __u32 restart_bits(const struct xlb_cfg *a, const struct xlb_cfg *b)
{
	__u32 r = 0;

	if (!ifaces_eq(a, b))
		r |= XLB_CFG_R_INTERFACES;
	if (!str_eq(a->pin_root, b->pin_root))
		r |= XLB_CFG_R_PIN_ROOT;
	if (a->hash_seed != b->hash_seed)
		r |= XLB_CFG_R_HASH_SEED;
	if (memcmp(&a->limits, &b->limits, sizeof(a->limits)))
		r |= XLB_CFG_R_LIMITS;
	if (a->encap.src4 != b->encap.src4 || a->encap.src4_len != b->encap.src4_len ||
	    memcmp(a->encap.src6, b->encap.src6, 16) || a->encap.src6_len != b->encap.src6_len)
		r |= XLB_CFG_R_ENCAP;
	if (!control_eq(a, b))
		r |= XLB_CFG_R_CONTROL;
	if (a->metrics.family != b->metrics.family || a->metrics.port != b->metrics.port ||
	    memcmp(a->metrics.addr, b->metrics.addr, 16))
		r |= XLB_CFG_R_METRICS;
	if (!str_eq(a->state_file, b->state_file))
		r |= XLB_CFG_R_STATE_FILE;
	return r;
}

bool xlb_config_equal(const struct xlb_cfg *a, const struct xlb_cfg *b)
{
	__u32 i;

	if (a->version != b->version || restart_bits(a, b) || !next_hop_eq(a, b) ||
	    a->n_vips != b->n_vips)
		return false;
	for (i = 0; i < a->n_vips; i++)
		if (!vip_eq(&a->vips[i], &b->vips[i]))
			return false;
	return true;
}

static void vip_change_clear(struct xlb_cfg_vip_change *vc)
{
	free(vc->be_add);
	free(vc->be_del);
	free(vc->be_mod);
}

void xlb_config_diff_free(struct xlb_cfg_diff *d)
{
	__u32 i;

	if (!d)
		return;
	for (i = 0; i < d->n_vip_mod; i++)
		vip_change_clear(&d->vip_mod[i]);
	free(d->vip_add);
	free(d->vip_del);
	free(d->vip_mod);
	free(d);
}

/* Backends of one VIP present in both configs: a merge of two sorted lists. */
static int vip_change(const struct xlb_cfg_vip *o, const struct xlb_cfg_vip *n,
		      struct xlb_cfg_vip_change *vc)
{
	__u32 i = 0, j = 0;

	memset(vc, 0, sizeof(*vc));
	vc->old = o;
	vc->new = n;
	vc->changed = (o->ring_size != n->ring_size ? XLB_CFG_V_RING_SIZE : 0) |
		      (o->hash != n->hash ? XLB_CFG_V_HASH : 0) |
		      (o->conntrack != n->conntrack ? XLB_CFG_V_CONNTRACK : 0) |
		      (o->encap != n->encap ? XLB_CFG_V_ENCAP : 0) |
		      (!vip_health_eq(o, n) ? XLB_CFG_V_HEALTH : 0) |
		      (o->dead_backend != n->dead_backend || o->all_down != n->all_down ?
		       XLB_CFG_V_POLICY : 0);
	if (n->n_backends) {
		vc->be_add = calloc(n->n_backends, sizeof(*vc->be_add));
		vc->be_mod = calloc(n->n_backends, sizeof(*vc->be_mod));
		if (!vc->be_add || !vc->be_mod)
			return -ENOMEM;
	}
	if (o->n_backends) {
		vc->be_del = calloc(o->n_backends, sizeof(*vc->be_del));
		if (!vc->be_del)
			return -ENOMEM;
	}
	while (i < o->n_backends || j < n->n_backends) {
		int r = i == o->n_backends ? 1 : j == n->n_backends ? -1 :
			xlb_cfg_backend_cmp(&o->backends[i], &n->backends[j]);

		if (r < 0) {
			vc->be_del[vc->n_be_del++] = &o->backends[i++];
		} else if (r > 0) {
			vc->be_add[vc->n_be_add++] = &n->backends[j++];
		} else {
			const struct xlb_cfg_backend *a = &o->backends[i++], *b = &n->backends[j++];
			__u32 ch = (a->weight != b->weight ? XLB_CFG_B_WEIGHT : 0) |
				   (a->state != b->state ? XLB_CFG_B_STATE : 0) |
				   (!xlb_cfg_health_equal(xlb_cfg_backend_health(o, a),
							  xlb_cfg_backend_health(n, b)) ?
				    XLB_CFG_B_HEALTH : 0);

			if (ch)
				vc->be_mod[vc->n_be_mod++] =
					(struct xlb_cfg_be_change){ a, b, ch };
		}
	}
	return 0;
}

int xlb_config_diff(const struct xlb_cfg *old, const struct xlb_cfg *new,
		    struct xlb_cfg_diff **out)
{
	struct xlb_cfg_diff *d;
	__u32 i = 0, j = 0;
	int err = 0;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->restart = restart_bits(old, new);
	d->next_hop = !next_hop_eq(old, new);
	/* calloc(0) may be NULL: allocate one spare so NULL always means failure. */
	d->vip_add = calloc(new->n_vips + 1, sizeof(*d->vip_add));
	d->vip_del = calloc(old->n_vips + 1, sizeof(*d->vip_del));
	d->vip_mod = calloc((old->n_vips < new->n_vips ? old->n_vips : new->n_vips) + 1,
			    sizeof(*d->vip_mod));
	if (!d->vip_add || !d->vip_del || !d->vip_mod) {
		err = -ENOMEM;
		goto out;
	}
	while (i < old->n_vips || j < new->n_vips) {
		int r = i == old->n_vips ? 1 : j == new->n_vips ? -1 :
			xlb_cfg_vip_key_cmp(&old->vips[i].key, &new->vips[j].key);
		struct xlb_cfg_vip_change *vc;

		if (r < 0) {
			d->vip_del[d->n_vip_del++] = &old->vips[i++];
			continue;
		}
		if (r > 0) {
			d->vip_add[d->n_vip_add++] = &new->vips[j++];
			continue;
		}
		vc = &d->vip_mod[d->n_vip_mod];
		err = vip_change(&old->vips[i++], &new->vips[j++], vc);
		if (err) {
			vip_change_clear(vc);
			goto out;
		}
		if (vc->changed || vc->n_be_add || vc->n_be_del || vc->n_be_mod)
			d->n_vip_mod++;
		else
			vip_change_clear(vc);
	}
	*out = d;
	d = NULL;
out:
	xlb_config_diff_free(d);
	return err;
}

bool xlb_config_diff_empty(const struct xlb_cfg_diff *d)
{
	return !d->restart && !d->next_hop && !d->n_vip_add && !d->n_vip_del && !d->n_vip_mod;
}

const char *xlb_config_restart_fmt(__u32 restart, char *buf, size_t len)
{
	static const char *const names[] = { "interfaces", "pin_root", "hash_seed", "limits",
					     "encap", "control", "metrics", "state_file" };
	size_t i, n = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && n < len; i++)
		if (restart & (1U << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", names[i]);
	return buf;
}

json_t *xlb_config_health_merge(const json_t *cur, const json_t *update)
{
	json_t *out = json_is_object(cur) ? json_deep_copy(cur) : json_object(), *v, *t;
	const char *k;
	void *tmp;
	__u8 type;
	size_t i;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)update, k, v) {
		if (json_is_null(v))
			json_object_del(out, k);
		else if (json_object_set(out, k, v))
			goto fail;
	}
	/* A shorter interval would leave the timeout and backoff kept from
	 * @cur invalid: let them take their defaults again, as when absent. */
	v = json_object_get(update, "interval_ms");
	if (json_is_integer(v)) {
		json_int_t iv = json_integer_value(v);
		json_t *to = json_object_get(out, "timeout_ms"), *bo;

		if (!json_object_get(update, "timeout_ms") && json_is_integer(to) &&
		    json_integer_value(to) > iv)
			json_object_del(out, "timeout_ms");
		bo = json_object_get(out, "backoff_max_ms");
		if (!json_object_get(update, "backoff_max_ms") && json_is_integer(bo) &&
		    json_integer_value(bo) && json_integer_value(bo) < iv)
			json_object_del(out, "backoff_max_ms");
	}
	t = json_object_get(update, "type");
	if (!json_is_string(t))
		return out;
	for (type = 0; hc_type_names[type] && strcmp(hc_type_names[type], json_string_value(t));
	     type++)
		;
	if (!hc_type_names[type])
		return out;	/* the parser says what is wrong */
	json_object_foreach_safe(out, tmp, k, v) {
		if (json_object_get(update, k))
			continue;
		for (i = 0; i < N_HC_KEYS && strcmp(hc_keys[i].name, k); i++)
			;
		if (i < N_HC_KEYS && !(hc_keys[i].types & HT(type)))
			json_object_del(out, k);
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}
