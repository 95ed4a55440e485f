// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlbctl's command grammar.  One table (objects, their commands, each
 * command's arguments) drives the parser, the help at every level and the
 * man page section, so a command cannot exist without its documentation.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "addr.h"
#include "cli.h"
#include "config.h"
#include "maglev.h"

#define PROG		"xlbctl"
#define LABELLEN	32
#define MAX_KW		32	/* keywords of one command */
#define IFNAMELEN	15	/* IFNAMSIZ - 1 */
#define STR_(x)		#x
#define STR(x)		STR_(x)

/* How a value is checked and written into the request. */
enum arg_type {
	T_VIP,
	T_ADDR,
	T_IFACE,
	T_RING,
	T_HASH,
	T_ONOFF,
	T_ENCAP,
	T_WEIGHT,
	T_STATE,
	T_SECS,
	T_HCTYPE,
	T_PORT,
	T_MS,
	T_COUNT,
	T_PCT,
	T_URLPATH,
	T_HOST,
	T_STATUS,
	T_TEXT,
	T_SLOW,
	T_DEAD,
	T_ALLDOWN,
	T_CLEAR,
	T_MAX,
};

struct type_desc {
	const char *meta;	/* in synopses */
	const char *expect;	/* the message when a value is missing or wrong */
	const char *where;	/* what META stands for; NULL when meta says it all */
	/* 0 and *val, or -EINVAL and (optionally) *why replacing expect */
	int (*parse)(const char *s, json_t **val, const char **why);
};

#define A_OPT	(1U << 0)	/* positional that may be left out (only last ones) */
#define A_REQ	(1U << 1)	/* keyword that must be given */

struct cli_arg {
	const char *kw;		/* keyword; NULL for a positional */
	/* JSON key in the request; NULL ends a list.  "health.port" is the
	 * key "port" of the object "health". */
	const char *key;
	enum arg_type type;
	unsigned int flags;	/* A_* */
	const char *desc;	/* for keywords: one line for the help and the man page */
	/* Keywords of one group show as one [GROUP] in the synopsis. */
	const char *group;
};

#define C_NEED_KW	(1U << 0)	/* at least one keyword */

struct cli_cmd {
	const char *name;	/* NULL: the object itself is the command (stats) */
	const char *id;		/* "cmd" of the request; NULL ends a list */
	const char *desc;
	const struct cli_arg *args;	/* positionals first */
	unsigned int flags;	/* C_* */
};

struct cli_obj {
	const char *name;
	const struct cli_cmd *cmds;	/* NULL: help */
};

static bool addr_unicast(const __u32 a[4], __u8 family)
{
	__u32 h = ntohl(a[0]);

	/* The same rule as config.c: what the daemon would refuse, refuse here. */
	if (family == XLB_AF_INET)
		return h && (h >> 28) != 0xe && h != 0xffffffffU;
	return (a[0] | a[1] | a[2] | a[3]) && (h >> 24) != 0xff;
}

static int new_val(json_t *v, json_t **val)
{
	if (!v)
		return -ENOMEM;
	*val = v;
	return 0;
}

static int parse_vip(const char *s, json_t **val, const char **why)
{
	struct xlb_vip_key k;
	char buf[XLB_VIP_STRLEN];

	if (xlb_vip_key_parse(s, &k, why))
		return -EINVAL;
	if (!addr_unicast(k.addr, k.family)) {
		*why = "not a unicast address: expected ADDR:PORT/PROTO with a unicast ADDR";
		return -EINVAL;
	}
	return new_val(json_string(xlb_vip_key_fmt(&k, buf, sizeof(buf))), val);
}

static int parse_addr(const char *s, json_t **val, const char **why)
{
	char buf[INET6_ADDRSTRLEN];
	__u32 a[4];
	__u8 fam;

	(void)why;
	if (xlb_addr_parse(s, a, &fam) || !addr_unicast(a, fam))
		return -EINVAL;
	return new_val(json_string(xlb_addr_fmt(a, fam, buf, sizeof(buf))), val);
}

static int parse_iface(const char *s, json_t **val, const char **why)
{
	size_t len = strlen(s), i;

	(void)why;
	/* The kernel's dev_valid_name(), so a typo fails here and not in xlbd. */
	if (!len || len > IFNAMELEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]))
			return -EINVAL;
	return new_val(json_string(s), val);
}

/* Plain decimal only: "+1", " 1", "0x10" and "1e3" are typos, not numbers. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || strlen(s) > 10)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_ring(const char *s, json_t **val, const char **why)
{
	unsigned long m;

	(void)why;
	if (parse_uint(s, MAGLEV_MAX_M, &m) || !maglev_valid_m((__u32)m))
		return -EINVAL;
	return new_val(json_integer((json_int_t)m), val);
}

static int parse_weight(const char *s, json_t **val, const char **why)
{
	unsigned long w;

	(void)why;
	if (parse_uint(s, 65535, &w))
		return -EINVAL;
	return new_val(json_integer((json_int_t)w), val);
}

static int parse_secs(const char *s, json_t **val, const char **why)
{
	unsigned long w;

	(void)why;
	if (parse_uint(s, 3600, &w) || !w)
		return -EINVAL;
	return new_val(json_integer((json_int_t)w), val);
}

/* Values are matched exactly: a prefix of a value in a script is a trap. */
static int parse_enum(const char *s, json_t **val, const char *a, const char *b)
{
	if (strcmp(s, a) && (!b || strcmp(s, b)))
		return -EINVAL;
	return new_val(json_string(s), val);
}

static int parse_hash(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_enum(s, val, "5tuple", "src");
}

static int parse_onoff(const char *s, json_t **val, const char **why)
{
	(void)why;
	if (strcmp(s, "on") && strcmp(s, "off"))
		return -EINVAL;
	return new_val(json_boolean(!strcmp(s, "on")), val);
}

static int parse_encap(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_enum(s, val, "ipip", NULL);
}

static int parse_state(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_enum(s, val, "up", "drain");
}

static int parse_hctype(const char *s, json_t **val, const char **why)
{
	(void)why;
	if (strcmp(s, "none") && strcmp(s, "tcp") && strcmp(s, "http") && strcmp(s, "https") &&
	    strcmp(s, "udp"))
		return -EINVAL;
	return new_val(json_string(s), val);
}

static int parse_int_range(const char *s, json_t **val, unsigned long min, unsigned long max)
{
	unsigned long v;

	if (parse_uint(s, max, &v) || v < min)
		return -EINVAL;
	return new_val(json_integer((json_int_t)v), val);
}

static int parse_port(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_int_range(s, val, 1, 65535);
}

static int parse_ms(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_int_range(s, val, 0, XLB_CFG_MAX_HC_INTERVAL_MS);
}

static int parse_count(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_int_range(s, val, 1, XLB_CFG_MAX_HC_RISE_FALL);
}

static int parse_pct(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_int_range(s, val, 0, XLB_CFG_MAX_HC_JITTER_PCT);
}

static int parse_slow(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_int_range(s, val, 0, XLB_CFG_MAX_SLOW_START_S);
}

/* Text for a check: no control characters; @space_ok for bodies and payloads. */
static bool text_ok(const char *s, bool space_ok)
{
	if (strlen(s) > XLB_CFG_MAX_HC_STRING)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || (!space_ok && *s == ' '))
			return false;
	return true;
}

static int parse_urlpath(const char *s, json_t **val, const char **why)
{
	(void)why;
	if (s[0] != '/' || !text_ok(s, false))
		return -EINVAL;
	return new_val(json_string(s), val);
}

static int parse_host(const char *s, json_t **val, const char **why)
{
	(void)why;
	if (!s[0] || !text_ok(s, false))
		return -EINVAL;
	return new_val(json_string(s), val);
}

static int parse_status(const char *s, json_t **val, const char **why)
{
	(void)why;
	if (strlen(s) > XLB_CFG_MAX_HC_STRING || !xlb_cfg_expect_status_ok(s))
		return -EINVAL;
	return new_val(json_string(s), val);
}

static int parse_text(const char *s, json_t **val, const char **why)
{
	(void)why;
	if (!text_ok(s, true))
		return -EINVAL;
	return new_val(json_string(s), val);
}

static int parse_dead(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_enum(s, val, "rechoose", "drop");
}

static int parse_alldown(const char *s, json_t **val, const char **why)
{
	(void)why;
	return parse_enum(s, val, "drop", "fail-open");
}

/* "clear": the value is null, which removes the key in the daemon. */
static int parse_clear(const char *s, json_t **val, const char **why)
{
	(void)why;
	if (strcmp(s, "clear"))
		return -EINVAL;
	return new_val(json_null(), val);
}

static const struct type_desc types[T_MAX] = {
	[T_VIP] = { "VIP", "expected ADDR:PORT/PROTO",
		    "ADDR:PORT/PROTO, [ADDR6]:PORT/PROTO or ADDR/PROTO; PROTO is tcp or udp, "
		    "PORT 0..65535 (0 or none: every port)", parse_vip },
	[T_ADDR] = { "ADDR", "expected a unicast IPv4 or IPv6 address",
		     "a unicast IPv4 or IPv6 address (no brackets)", parse_addr },
	[T_IFACE] = { "IFACE", "expected an interface name of 1..15 characters",
		      "an interface name (1..15 characters)", parse_iface },
	[T_RING] = { "M", "expected a prime 2.." STR(XLB_MAX_RING_SIZE),
		     "a prime 2.." STR(XLB_MAX_RING_SIZE) ": the Maglev table size", parse_ring },
	[T_HASH] = { "5tuple|src", "expected 5tuple or src", NULL, parse_hash },
	[T_ONOFF] = { "on|off", "expected on or off", NULL, parse_onoff },
	[T_ENCAP] = { "ipip", "expected ipip", NULL, parse_encap },
	[T_WEIGHT] = { "W", "expected an integer 0..65535", "an integer 0..65535: the weight",
		       parse_weight },
	[T_STATE] = { "up|drain", "expected up or drain", NULL, parse_state },
	[T_SECS] = { "SECONDS", "expected an integer 1..3600", "an interval of 1..3600 seconds",
		     parse_secs },
	[T_HCTYPE] = { "none|tcp|http|https|udp", "expected none, tcp, http, https or udp", NULL,
		       parse_hctype },
	[T_PORT] = { "PORT", "expected an integer 1..65535", "a port 1..65535", parse_port },
	[T_MS] = { "MS", "expected an integer 0..3600000", "milliseconds, an integer 0..3600000 "
		   "(xlbd checks each key's own range)", parse_ms },
	[T_COUNT] = { "N", "expected an integer 1..100", "an integer 1..100", parse_count },
	[T_PCT] = { "PCT", "expected an integer 0..50", "a percentage 0..50", parse_pct },
	[T_URLPATH] = { "URLPATH", "expected a path starting with '/', without spaces or control "
			"characters", "an HTTP path starting with '/' (query included), without "
			"spaces or control characters", parse_urlpath },
	[T_HOST] = { "HOST", "expected a host name without spaces or control characters",
		     "a host name (HTTP Host header and TLS SNI)", parse_host },
	[T_STATUS] = { "LIST", "expected status codes or ranges within 100..599, such as "
		       "200,204,300-399", "HTTP status codes or ranges within 100..599, separated "
		       "by commas: 200,204,300-399", parse_status },
	[T_TEXT] = { "TEXT", "expected at most 1024 bytes without control characters",
		     "at most 1024 bytes without control characters (quote it in -batch lines)",
		     parse_text },
	[T_SLOW] = { "SECS", "expected an integer 0..3600", "0..3600 seconds (0: off)",
		     parse_slow },
	[T_DEAD] = { "rechoose|drop", "expected rechoose or drop", NULL, parse_dead },
	[T_ALLDOWN] = { "drop|fail-open", "expected drop or fail-open", NULL, parse_alldown },
	[T_CLEAR] = { "clear", "expected clear", NULL, parse_clear },
};

#define POS(k, t)		{ NULL, k, t, 0, NULL, NULL }
#define POS_OPT(k, t)		{ NULL, k, t, A_OPT, NULL, NULL }
#define KW(w, k, t, f, d)	{ w, k, t, f, d, NULL }
#define GKW(g, w, k, t, d)	{ w, k, t, 0, d, g }
#define END			{ NULL, NULL, 0, 0, NULL, NULL }

#define G_HEALTH	"HEALTH-OPTIONS"
#define G_POLICY	"POLICY-OPTIONS"

/* The health check keywords, writing the keys of the object @P. */
#define HEALTH_KWS(P)                                                                         \
	GKW(G_HEALTH, "health", P ".type", T_HCTYPE,                                          \
	    "Check type: none (default), a TCP connect, an HTTP(S) GET, or a UDP exchange."), \
	GKW(G_HEALTH, "health-port", P ".port", T_PORT,                                       \
	    "Port to check (default: the VIP's port; needed when it is 0)."),                 \
	GKW(G_HEALTH, "interval", P ".interval_ms", T_MS,                                     \
	    "Milliseconds between probes, 10..3600000 (default 1000)."),                      \
	GKW(G_HEALTH, "timeout", P ".timeout_ms", T_MS,                                       \
	    "Milliseconds a probe may take, 1..interval (default 500, or the interval if "    \
	    "shorter)."),                                                                     \
	GKW(G_HEALTH, "rise", P ".rise", T_COUNT,                                             \
	    "Successes in a row that bring a backend up (default 2)."),                       \
	GKW(G_HEALTH, "fall", P ".fall", T_COUNT,                                             \
	    "Failures in a row that take a backend down (default 3)."),                       \
	GKW(G_HEALTH, "jitter", P ".jitter_pct", T_PCT,                                       \
	    "Random spread of the interval in percent (default 10)."),                        \
	GKW(G_HEALTH, "backoff-max", P ".backoff_max_ms", T_MS,                               \
	    "Longest delay between probes of a down backend (default 0: 8 times the "         \
	    "interval)."),                                                                    \
	GKW(G_HEALTH, "datapath", P ".datapath", T_ONOFF,                                     \
	    "Probe the VIP address through the encapsulation, as clients reach the backend "  \
	    "(default off: the backend address)."),                                           \
	GKW(G_HEALTH, "path", P ".path", T_URLPATH, "http, https: the path to GET (default /)."), \
	GKW(G_HEALTH, "host", P ".host", T_HOST,                                              \
	    "http, https: Host header and SNI (default: the backend address)."),              \
	GKW(G_HEALTH, "expect-status", P ".expect_status", T_STATUS,                          \
	    "http, https: statuses that pass (default 200-399)."),                            \
	GKW(G_HEALTH, "expect-body", P ".expect_body", T_TEXT,                                \
	    "http, https: text the body must hold (default: any body)."),                     \
	GKW(G_HEALTH, "tls-verify", P ".tls_verify", T_ONOFF,                                 \
	    "https: verify the backend's certificate (default off)."),                        \
	GKW(G_HEALTH, "payload", P ".payload", T_TEXT,                                        \
	    "udp: the datagram to send (default empty)."),                                    \
	GKW(G_HEALTH, "expect-reply", P ".expect_reply", T_TEXT,                              \
	    "udp: text the reply must hold (default: any reply).")

#define POLICY_KWS                                                                            \
	GKW(G_POLICY, "slow-start", "slow_start_s", T_SLOW,                                   \
	    "Ramp a recovered or added backend's weight up over SECS (default 0: off)."),     \
	GKW(G_POLICY, "latency-adaptive", "latency_adaptive", T_ONOFF,                        \
	    "Lower the weight of backends whose probes are slow (default off)."),             \
	GKW(G_POLICY, "dead-backend", "dead_backend", T_DEAD,                                 \
	    "Flows of a backend that went down: re-choose a live one (default), or drop "     \
	    "their packets."),                                                                \
	GKW(G_POLICY, "all-down", "all_down", T_ALLDOWN,                                      \
	    "When every backend is down: drop (default), or keep the last backends "          \
	    "(fail-open).")

static const struct cli_arg a_vip_add[] = {
	POS("vip", T_VIP),
	KW("ring-size", "ring_size", T_RING, 0,
	   "Maglev table size (default 65537); use at least 100 times the number of backends."),
	KW("hash", "hash", T_HASH, 0,
	   "Pick the ring slot from the whole 5-tuple (default), or from the source address "
	   "only (client affinity)."),
	KW("conntrack", "conntrack", T_ONOFF, 0,
	   "Record flows in the connection table (default on); off gives stateless Maglev."),
	KW("encap", "encap", T_ENCAP, 0,
	   "Encapsulation toward the backends (default and only value for now)."),
	HEALTH_KWS("health"),
	POLICY_KWS,
	END,
};

static const struct cli_arg a_vip_set[] = {
	POS("vip", T_VIP),
	KW("ring-size", "ring_size", T_RING, 0,
	   "New Maglev table size; the table is rebuilt, so most flows without a connection "
	   "entry move."),
	KW("hash", "hash", T_HASH, 0, "What picks the ring slot: the 5-tuple or the source."),
	KW("conntrack", "conntrack", T_ONOFF, 0, "Record flows in the connection table."),
	KW("encap", "encap", T_ENCAP, 0, "Encapsulation toward the backends."),
	HEALTH_KWS("health_update"),
	POLICY_KWS,
	END,
};

static const struct cli_arg a_vip[] = { POS("vip", T_VIP), END };
static const struct cli_arg a_vip_opt[] = { POS_OPT("vip", T_VIP), END };
static const struct cli_arg a_none[] = { END };
static const struct cli_arg a_vip_addr[] = { POS("vip", T_VIP), POS("address", T_ADDR), END };
static const struct cli_arg a_iface_opt[] = { POS_OPT("interface", T_IFACE), END };

static const struct cli_arg a_be_add[] = {
	POS("vip", T_VIP),
	POS("address", T_ADDR),
	KW("weight", "weight", T_WEIGHT, 0,
	   "Relative share of the VIP's ring (default 100); 0 takes no new flows."),
	KW("state", "state", T_STATE, 0,
	   "drain takes no new flows while existing ones continue (default up)."),
	HEALTH_KWS("health"),
	END,
};

static const struct cli_arg a_be_set[] = {
	POS("vip", T_VIP),
	POS("address", T_ADDR),
	KW("weight", "weight", T_WEIGHT, 0,
	   "The new weight; only the slots that must move change owner."),
	HEALTH_KWS("health_update"),
	KW("health-override", "health", T_CLEAR, 0,
	   "Remove the backend's health override: it follows the VIP's check again. Health "
	   "options given with it start a new override."),
	END,
};

static const struct cli_cmd c_vip[] = {
	{ "add", "vip.add", "Add a VIP, with no backend yet. With health, its backends are "
	  "checked and those that fail leave the ring.", a_vip_add, 0 },
	{ "set", "vip.set", "Change options of a VIP (at least one). Health options edit its "
	  "current check: the keys not given are kept, and a new type drops the keys it does "
	  "not take.", a_vip_set, C_NEED_KW },
	{ "del", "vip.del", "Delete a VIP and its backends.", a_vip, 0 },
	{ "list", "vip.list", "List the VIPs, their options and health checks.", a_none, 0 },
	{ "show", "vip.show", "Show one VIP, its options, its health check and its backends.",
	  a_vip, 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct cli_cmd c_backend[] = {
	{ "add", "backend.add", "Add a backend to a VIP. Health options override the VIP's "
	  "check for this backend; the keys not given follow the VIP's.", a_be_add, 0 },
	{ "del", "backend.del", "Remove a backend from a VIP; its flows move to the others.",
	  a_vip_addr, 0 },
	{ "set", "backend.set", "Change the weight or the health override of a backend (at "
	  "least one). Health options edit its current override.", a_be_set, C_NEED_KW },
	{ "drain", "backend.drain", "Send no new flows to a backend; existing flows continue.",
	  a_vip_addr, 0 },
	{ "undrain", "backend.undrain", "Put a drained backend back in service.", a_vip_addr, 0 },
	{ "list", "backend.list", "List the backends of every VIP, or of one.", a_vip_opt, 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct cli_arg a_stats[] = {
	POS_OPT("vip", T_VIP),
	KW("watch", "watch", T_SECS, 0,
	   "Print again every SECONDS, with packet, byte and new-flow rates per second over "
	   "the interval, until interrupted."),
	END,
};

static const struct cli_cmd c_stats[] = {
	{ NULL, "stats",
	  "Packets, bytes and new flows per VIP and per backend, of every VIP or of one. "
	  "Works without xlbd: reads the pinned maps.", a_stats, 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct cli_cmd c_maglev[] = {
	{ "show", "maglev.show",
	  "Slots per backend, imbalance and checksum of a VIP's Maglev table.", a_vip, 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct cli_cmd c_status[] = {
	{ NULL, "status", "The daemon, the attach mode, the interfaces and the map usage "
	  "(conntrack fill).", a_none, 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct cli_cmd c_config[] = {
	{ "dump", "config.dump",
	  "Print the current state in the config schema: what xlbd --config loads to "
	  "reproduce it.", a_none, 0 },
	{ "reload", "config.reload",
	  "Make xlbd re-read its config file and apply only the difference; an invalid file "
	  "changes nothing.", a_none, 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct cli_cmd c_detach[] = {
	{ NULL, "detach", "Detach xlb from every interface, or from IFACE. Pinned maps stay.",
	  a_iface_opt, 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static const struct cli_obj objs[] = {
	{ "vip", c_vip },
	{ "backend", c_backend },
	{ "stats", c_stats },
	{ "maglev", c_maglev },
	{ "status", c_status },
	{ "config", c_config },
	{ "detach", c_detach },
	{ "help", NULL },
};

#define N_OBJS	(sizeof(objs) / sizeof(objs[0]))

enum opt_id { O_JSON, O_BATCH, O_SOCKET, O_PIN_ROOT, O_VERBOSE, O_HELP };

struct cli_opt {
	enum opt_id id;
	const char *names[3];	/* every spelling; the first is the one messages use */
	const char *meta;	/* the value's name; NULL: a flag */
	const char *desc;
};

static const struct cli_opt opts[] = {
	{ O_JSON, { "-j", "-json", "--json" }, NULL,
	  "JSON output: one object per command, on every show, list and stats." },
	{ O_BATCH, { "-batch", "-b", "--batch" }, "FILE",
	  "Run the commands of FILE ('-': standard input), one per line, without the "
	  "leading xlbctl. Blanks separate words, double quotes group them, a word starting "
	  "with '#' starts a comment, and a line is shorter than " STR(XLB_CLI_LINE_MAX) " bytes. Every line is checked before the first is sent; the "
	  "first failing command stops the batch." },
	{ O_SOCKET, { "-s", "--socket", NULL }, "PATH",
	  "Control socket of xlbd (default " XLB_CFG_DEF_SOCKET ")." },
	{ O_PIN_ROOT, { "-p", "--pin-root", NULL }, "DIR",
	  "Where the BPF maps are pinned (default " XLB_PIN_ROOT_DEFAULT "); stats reads "
	  "them when xlbd is down." },
	{ O_VERBOSE, { "-v", "--verbose", NULL }, NULL, "More messages; twice for debug." },
	{ O_HELP, { "-h", "--help", NULL }, NULL, "Print the help and exit." },
};

#define N_OPTS	(sizeof(opts) / sizeof(opts[0]))

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return;
	n = snprintf(err, errlen, PROG ": ");
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool is_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "-h") || !strcmp(s, "--help");
}

#define NO_MATCH	(-1)
#define AMBIGUOUS	(-2)

/*
 * Index of the name @word spells out or is the only prefix of; an exact
 * name wins over longer ones it is a prefix of.
 */
static int match(const char *word, const char *const *names, int n)
{
	size_t len = strlen(word);
	int i, found = NO_MATCH;

	if (!len)
		return NO_MATCH;
	for (i = 0; i < n; i++) {
		if (!strcmp(word, names[i]))
			return i;
		if (!strncmp(word, names[i], len))
			found = found == NO_MATCH ? i : AMBIGUOUS;
	}
	return found;
}

/* "a, b, c" of @names, or of those @word is a prefix of. */
static void join(char *buf, size_t len, const char *const *names, int n, const char *word)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		if (word && strncmp(word, names[i], strlen(word)))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", names[i]);
	}
}

static void match_err(char *err, size_t errlen, const char *where, const char *what,
		      const char *word, const char *const *names, int n, int r)
{
	char list[512];

	join(list, sizeof(list), names, n, r == AMBIGUOUS ? word : NULL);
	if (r == AMBIGUOUS)
		set_err(err, errlen, "%s'%s': ambiguous %s: matches %s", where, word, what, list);
	else
		set_err(err, errlen, "%s'%s': unknown %s: expected one of %s", where, word, what,
			list);
}

static int n_cmds(const struct cli_obj *o)
{
	int n = 0;

	while (o->cmds && o->cmds[n].id)
		n++;
	return n;
}

static bool is_direct(const struct cli_obj *o)
{
	return o->cmds && !o->cmds[0].name;
}

static void label(char *buf, size_t len, const struct cli_obj *o, const struct cli_cmd *c)
{
	if (c->name)
		snprintf(buf, len, "%s %s", o->name, c->name);
	else
		snprintf(buf, len, "%s", o->name);
}

/* ---- help ------------------------------------------------------------ */

static void put_synopsis(FILE *f, const struct cli_obj *o, const struct cli_cmd *c)
{
	const struct cli_arg *a;

	fprintf(f, PROG " %s", o->name);
	if (c->name)
		fprintf(f, " %s", c->name);
	for (a = c->args; a->key; a++) {
		const char *meta = types[a->type].meta;

		if (a->group) {
			if (a == c->args || !a[-1].group || strcmp(a[-1].group, a->group))
				fprintf(f, " [%s]", a->group);
		} else if (!a->kw) {
			fprintf(f, a->flags & A_OPT ? " [%s]" : " %s", meta);
		} else {
			fprintf(f, a->flags & A_REQ ? " %s %s" : " [%s %s]", a->kw, meta);
		}
	}
}

static void mark_types(const struct cli_cmd *c, bool *used)
{
	const struct cli_arg *a;

	for (a = c->args; a->key; a++)
		used[a->type] = true;
}

static void put_where(FILE *f, const bool *used)
{
	const char *lead = "\nwhere  ";
	int t;

	for (t = 0; t < T_MAX; t++) {
		if (!used[t] || !types[t].where)
			continue;
		fprintf(f, "%s%-6s := %s\n", lead, types[t].meta, types[t].where);
		lead = "       ";
	}
}

static void put_keywords(FILE *f, const struct cli_cmd *c)
{
	const struct cli_arg *a;
	char kw[48];

	for (a = c->args; a->key; a++) {
		if (!a->kw)
			continue;
		if (a->group && (a == c->args || !a[-1].group || strcmp(a[-1].group, a->group)))
			fprintf(f, "  %s:\n", a->group);
		snprintf(kw, sizeof(kw), "%s %s", a->kw, types[a->type].meta);
		fprintf(f, "    %-20s %s\n", kw, a->desc);
	}
}

static void put_cmd_help(FILE *f, const struct cli_obj *o, const struct cli_cmd *c)
{
	bool used[T_MAX] = { false };

	fprintf(f, "Usage: ");
	put_synopsis(f, o, c);
	fprintf(f, "\n\n%s\n", c->desc);
	if (c->args[0].key) {
		bool kws = false;
		const struct cli_arg *a;

		for (a = c->args; a->key; a++)
			kws |= a->kw != NULL;
		if (kws) {
			fprintf(f, "\nKeywords (any unambiguous prefix):\n");
			put_keywords(f, c);
		}
	}
	mark_types(c, used);
	put_where(f, used);
}

static void put_obj_help(FILE *f, const struct cli_obj *o)
{
	bool used[T_MAX] = { false };
	int i, n = n_cmds(o);

	if (is_direct(o)) {
		put_cmd_help(f, o, &o->cmds[0]);
		return;
	}
	fprintf(f, "Usage: " PROG " %s {", o->name);
	for (i = 0; i < n; i++)
		fprintf(f, "%s %s", i ? " |" : "", o->cmds[i].name);
	fprintf(f, " | help } [ARGS]\n\n");
	for (i = 0; i < n; i++) {
		fprintf(f, "  ");
		put_synopsis(f, o, &o->cmds[i]);
		fprintf(f, "\n      %s\n", o->cmds[i].desc);
		put_keywords(f, &o->cmds[i]);
		mark_types(&o->cmds[i], used);
	}
	put_where(f, used);
}

static void put_top_help(FILE *f)
{
	bool used[T_MAX] = { false };
	size_t i, j;
	int k;

	fprintf(f, "Usage: " PROG " [OPTIONS] OBJECT COMMAND [ARGS]\n"
		   "       " PROG " [OPTIONS] -batch FILE\n"
		   "       " PROG " OBJECT help\n\n"
		   "Objects and commands (any unambiguous prefix):\n");
	for (i = 0; i < N_OBJS; i++) {
		const struct cli_obj *o = &objs[i];

		for (k = 0; k < n_cmds(o); k++) {
			fprintf(f, "  ");
			put_synopsis(f, o, &o->cmds[k]);
			fprintf(f, "\n");
			mark_types(&o->cmds[k], used);
		}
	}
	fprintf(f, "  " PROG " help [OBJECT]\n");
	put_where(f, used);
	fprintf(f, "\nOptions:\n");
	for (i = 0; i < N_OPTS; i++) {
		char names[48];
		size_t off = 0;

		for (j = 0; j < 3 && opts[i].names[j]; j++)
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s%s%s",
						j ? ", " : "", opts[i].names[j],
						opts[i].meta ? " " : "",
						opts[i].meta ? opts[i].meta : "");
		fprintf(f, "  %s\n      %s\n", names, opts[i].desc);
	}
	fprintf(f, "\nExit status: %d ok, %d a command failed, %d usage error.\n",
		XLB_CLI_EXIT_OK, XLB_CLI_EXIT_FAIL, XLB_CLI_EXIT_USAGE);
}

/* Run @put into a string; NULL on ENOMEM. */
static char *capture(void (*put)(FILE *, const void *, const void *), const void *a,
		     const void *b)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	put(f, a, b);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static void cap_top(FILE *f, const void *a, const void *b)
{
	(void)a;
	(void)b;
	put_top_help(f);
}

static void cap_obj(FILE *f, const void *a, const void *b)
{
	(void)b;
	put_obj_help(f, a);
}

static void cap_cmd(FILE *f, const void *a, const void *b)
{
	put_cmd_help(f, a, b);
}

char *xlb_cli_help_text(void)
{
	return capture(cap_top, NULL, NULL);
}

static int help_request(char *text, json_t **request)
{
	int err = 0;

	if (!text)
		return -ENOMEM;
	*request = json_pack("{s:s}", "help", text);
	if (!*request)
		err = -ENOMEM;
	free(text);
	return err ?: XLB_CLI_HELP;
}

/* ---- man page ---------------------------------------------------------- */

static void put_markdown(FILE *f, const void *a, const void *b)
{
	bool used[T_MAX] = { false };
	const struct cli_arg *arg;
	size_t i, j;
	int k, t;

	(void)a;
	(void)b;
	fprintf(f, "## OBJECTS AND COMMANDS\n\n"
		   "OBJECT, COMMAND and keywords accept any unambiguous prefix (`" PROG
		   " v a` is `" PROG " vip add`); values must be spelled out. `help`, `-h` or "
		   "`--help` in place of a COMMAND or of the arguments prints the synopsis of "
		   "that level.\n");
	for (i = 0; i < N_OBJS; i++) {
		const struct cli_obj *o = &objs[i];

		if (!o->cmds)
			continue;
		fprintf(f, "\n### %s\n\n", o->name);
		for (k = 0; k < n_cmds(o); k++) {
			const struct cli_cmd *c = &o->cmds[k];

			fprintf(f, "- `");
			put_synopsis(f, o, c);
			fprintf(f, "`  \n  %s\n", c->desc);
			for (arg = c->args; arg->key; arg++) {
				if (!arg->kw)
					continue;
				if (arg->group && (!arg[-1].group ||
						   strcmp(arg[-1].group, arg->group)))
					fprintf(f, "  - %s:\n", arg->group);
				fprintf(f, "%s  - `%s %s`: %s\n", arg->group ? "  " : "", arg->kw,
					types[arg->type].meta, arg->desc);
			}
			mark_types(c, used);
		}
	}
	fprintf(f, "\n### help\n\n- `" PROG " help [OBJECT]`  \n"
		   "  Print the synopsis of every command, or of one object's.\n");
	fprintf(f, "\n### Arguments\n\n");
	for (t = 0; t < T_MAX; t++)
		if (used[t] && types[t].where)
			fprintf(f, "- `%s`: %s.\n", types[t].meta, types[t].where);
	fprintf(f, "\n## OPTIONS\n\n"
		   "Options come before OBJECT.\n\n");
	for (i = 0; i < N_OPTS; i++) {
		fprintf(f, "- ");
		for (j = 0; j < 3 && opts[i].names[j]; j++)
			fprintf(f, "%s`%s%s%s`", j ? ", " : "", opts[i].names[j],
				opts[i].meta ? " " : "", opts[i].meta ? opts[i].meta : "");
		fprintf(f, "  \n  %s\n", opts[i].desc);
	}
}

int xlb_cli_markdown(char **text)
{
	*text = capture(put_markdown, NULL, NULL);
	return *text ? 0 : -ENOMEM;
}

int xlb_cli_synopsis(unsigned int i, char *buf, size_t len)
{
	size_t o;
	int k;

	for (o = 0; o < N_OBJS; o++) {
		for (k = 0; k < n_cmds(&objs[o]); k++, i--) {
			FILE *f;

			if (i)
				continue;
			f = fmemopen(buf, len, "w");
			if (!f)
				return -errno;
			put_synopsis(f, &objs[o], &objs[o].cmds[k]);
			/* fmemopen NUL-terminates while there is room. */
			if (fclose(f) || strnlen(buf, len) >= len)
				return -ENOSPC;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- parsing ----------------------------------------------------------- */

static int parse_value(const struct cli_arg *a, const char *lbl, const char *s, json_t *req,
		       char *err, size_t errlen)
{
	const struct type_desc *t = &types[a->type];
	const char *why = NULL;
	json_t *val = NULL;
	int ret;

	const char *dot = strchr(a->key, '.');
	char outer[32];

	ret = t->parse(s, &val, &why);
	if (ret == -EINVAL)
		set_err(err, errlen, "%s: %s '%s': %s", lbl, a->kw ? a->kw : t->meta, s,
			why ? why : t->expect);
	if (ret)
		return ret;
	if (dot) {
		json_t *o;

		snprintf(outer, sizeof(outer), "%.*s", (int)(dot - a->key), a->key);
		o = json_object_get(req, outer);
		if (!o) {
			o = json_object();
			if (!o || json_object_set_new(req, outer, o)) {
				json_decref(val);
				return -ENOMEM;
			}
		}
		req = o;
	}
	if (json_object_set_new(req, dot ? dot + 1 : a->key, val))
		return -ENOMEM;
	return 0;
}

static int parse_args(const struct cli_obj *o, const struct cli_cmd *c, int argc, char **argv,
		      json_t *req, char *err, size_t errlen)
{
	/* The table is ours: MAX_KW only has to exceed its longest keyword list. */
	const char *kwnames[MAX_KW];
	const struct cli_arg *kws = NULL, *a;
	bool seen[MAX_KW] = { false };
	char lbl[LABELLEN];
	int i = 0, n_kw = 0, k, ret;

	label(lbl, sizeof(lbl), o, c);
	for (a = c->args; a->key && !a->kw; a++)
		;
	kws = a;
	for (; a->key && n_kw < MAX_KW; a++)
		kwnames[n_kw++] = a->kw;
	for (a = c->args; a->key && !a->kw; a++) {
		/* A keyword where an optional positional could stand means
		 * the positional was left out ("stats watch 5"). */
		if ((a->flags & A_OPT) && i < argc && n_kw && match(argv[i], kwnames, n_kw) >= 0)
			break;
		if (i >= argc) {
			if (a->flags & A_OPT)
				break;
			set_err(err, errlen, "%s: missing %s: %s", lbl, types[a->type].meta,
				types[a->type].expect);
			return -EINVAL;
		}
		ret = parse_value(a, lbl, argv[i++], req, err, errlen);
		if (ret)
			return ret;
	}
	while (i < argc) {
		const char *w = argv[i];

		if (!n_kw) {
			set_err(err, errlen, "%s: unexpected argument '%s': expected nothing more",
				lbl, w);
			return -EINVAL;
		}
		k = match(w, kwnames, n_kw);
		if (k < 0) {
			char where[LABELLEN + 2];

			snprintf(where, sizeof(where), "%s: ", lbl);
			match_err(err, errlen, where, "keyword", w, kwnames, n_kw, k);
			return -EINVAL;
		}
		a = &kws[k];
		if (seen[k]) {
			set_err(err, errlen, "%s: %s given twice: expected each keyword at most once",
				lbl, a->kw);
			return -EINVAL;
		}
		seen[k] = true;
		if (i + 1 >= argc) {
			set_err(err, errlen, "%s: %s: missing %s: %s", lbl, a->kw,
				types[a->type].meta, types[a->type].expect);
			return -EINVAL;
		}
		ret = parse_value(a, lbl, argv[i + 1], req, err, errlen);
		if (ret)
			return ret;
		i += 2;
	}
	if (c->flags & C_NEED_KW) {
		for (k = 0; k < n_kw && !seen[k]; k++)
			;
		if (k == n_kw) {
			set_err(err, errlen, "%s: missing OPTIONS: expected at least one keyword "
				"(see '" PROG " %s help')", lbl, lbl);
			return -EINVAL;
		}
	}
	for (k = 0; k < n_kw; k++) {
		if (!(kws[k].flags & A_REQ) || seen[k])
			continue;
		set_err(err, errlen, "%s: missing %s %s: %s", lbl, kws[k].kw,
			types[kws[k].type].meta, types[kws[k].type].expect);
		return -EINVAL;
	}
	return 0;
}

static int parse_cmd(const struct cli_obj *o, const struct cli_cmd *c, int argc, char **argv,
		     json_t **request, char *err, size_t errlen)
{
	json_t *req;
	int ret;

	/* Only the first argument: later, "help" may be a value (an IFACE). */
	if (argc && is_help(argv[0])) {
		if (argc > 1) {
			char lbl[LABELLEN];

			label(lbl, sizeof(lbl), o, c);
			set_err(err, errlen, "%s help: unexpected argument '%s': expected nothing "
				"more", lbl, argv[1]);
			return -EINVAL;
		}
		return help_request(capture(cap_cmd, o, c), request);
	}
	req = json_pack("{s:s}", "cmd", c->id);
	if (!req)
		return -ENOMEM;
	ret = parse_args(o, c, argc, argv, req, err, errlen);
	if (ret)
		json_decref(req);
	else
		*request = req;
	return ret;
}

static int parse_help(int argc, char **argv, json_t **request, char *err, size_t errlen)
{
	const char *names[N_OBJS];
	size_t i;
	int k;

	if (!argc)
		return help_request(xlb_cli_help_text(), request);
	if (argc > 1) {
		set_err(err, errlen, "help: unexpected argument '%s': expected at most an OBJECT",
			argv[1]);
		return -EINVAL;
	}
	for (i = 0; i < N_OBJS; i++)
		names[i] = objs[i].name;
	k = match(argv[0], names, (int)N_OBJS);
	if (k < 0) {
		match_err(err, errlen, "help: ", "object", argv[0], names, (int)N_OBJS, k);
		return -EINVAL;
	}
	if (!objs[k].cmds)
		return help_request(xlb_cli_help_text(), request);
	return help_request(capture(cap_obj, &objs[k], NULL), request);
}

int xlb_cli_parse(int argc, char **argv, json_t **request, char *err, size_t errlen)
{
	const char *names[N_OBJS + 1];
	const struct cli_obj *o;
	char where[LABELLEN];
	int k, n, i, ret;
	size_t j;

	*request = NULL;
	for (j = 0; j < N_OBJS; j++)
		names[j] = objs[j].name;
	if (argc < 1) {
		char list[160];

		join(list, sizeof(list), names, (int)N_OBJS, NULL);
		set_err(err, errlen, "missing OBJECT: expected one of %s", list);
		ret = -EINVAL;
		goto out;
	}
	if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
		ret = parse_help(argc - 1, argv + 1, request, err, errlen);
		goto out;
	}
	k = match(argv[0], names, (int)N_OBJS);
	if (k < 0) {
		match_err(err, errlen, "", "object", argv[0], names, (int)N_OBJS, k);
		ret = -EINVAL;
		goto out;
	}
	o = &objs[k];
	if (!o->cmds) {
		ret = parse_help(argc - 1, argv + 1, request, err, errlen);
		goto out;
	}
	if (is_direct(o)) {
		ret = parse_cmd(o, &o->cmds[0], argc - 1, argv + 1, request, err, errlen);
		goto out;
	}

	n = n_cmds(o);
	for (i = 0; i < n; i++)
		names[i] = o->cmds[i].name;
	names[n++] = "help";
	if (argc < 2) {
		char list[160];

		join(list, sizeof(list), names, n, NULL);
		set_err(err, errlen, "%s: missing COMMAND: expected one of %s", o->name, list);
		ret = -EINVAL;
		goto out;
	}
	k = is_help(argv[1]) ? n - 1 : match(argv[1], names, n);
	if (k < 0) {
		snprintf(where, sizeof(where), "%s: ", o->name);
		match_err(err, errlen, where, "command", argv[1], names, n, k);
		ret = -EINVAL;
		goto out;
	}
	if (k == n - 1) {
		if (argc > 2) {
			set_err(err, errlen, "%s help: unexpected argument '%s': expected nothing "
				"more", o->name, argv[2]);
			ret = -EINVAL;
			goto out;
		}
		ret = help_request(capture(cap_obj, o, NULL), request);
		goto out;
	}
	ret = parse_cmd(o, &o->cmds[k], argc - 2, argv + 2, request, err, errlen);
out:
	return ret;
}

/* ---- global options ---------------------------------------------------- */

int xlb_cli_opts_parse(int argc, char **argv, struct xlb_cli_opts *o, char *err, size_t errlen)
{
	const struct cli_opt *opt;
	const char **dst;
	int i;
	size_t j, k;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (w[0] != '-' || !w[1])
			break;
		if (!strcmp(w, "--")) {
			i++;
			break;
		}
		opt = NULL;
		for (j = 0; j < N_OPTS && !opt; j++)
			for (k = 0; k < 3 && opts[j].names[k]; k++)
				if (!strcmp(w, opts[j].names[k]))
					opt = &opts[j];
		if (!opt) {
			set_err(err, errlen, "'%s': unknown option: expected one of -j, -batch, -s, "
				"-p, -v, -h", w);
			return -EINVAL;
		}
		switch (opt->id) {
		case O_JSON:
			o->json = true;
			continue;
		case O_VERBOSE:
			o->verbose++;
			continue;
		case O_HELP:
			o->help = true;
			continue;
		case O_BATCH:
			dst = &o->batch;
			break;
		case O_SOCKET:
			dst = &o->socket;
			break;
		case O_PIN_ROOT:
			dst = &o->pin_root;
			break;
		default:
			return -EINVAL;
		}
		if (*dst) {
			set_err(err, errlen, "%s given twice: expected it at most once",
				opt->names[0]);
			return -EINVAL;
		}
		if (i + 1 >= argc || !argv[i + 1][0]) {
			set_err(err, errlen, "%s: missing %s", w, opt->meta);
			return -EINVAL;
		}
		*dst = argv[++i];
	}
	if (o->batch && i < argc && !o->help) {
		set_err(err, errlen, "-batch: unexpected command '%s': expected either -batch FILE "
			"or a command", argv[i]);
		return -EINVAL;
	}
	if (!o->socket)
		o->socket = XLB_CFG_DEF_SOCKET;
	if (!o->pin_root)
		o->pin_root = XLB_PIN_ROOT_DEFAULT;
	return i;
}

/* ---- -batch lines ------------------------------------------------------ */

int xlb_cli_split_line(const char *line, int *argc, char ***argv)
{
	size_t len = strnlen(line, XLB_CLI_LINE_MAX), nptr;
	const char *p = line;
	char **v = NULL, *out;
	int n = 0, err = 0;

	*argc = 0;
	*argv = NULL;
	if (len >= XLB_CLI_LINE_MAX) {
		err = -E2BIG;
		goto out;
	}
	/*
	 * One block, so the caller has a single free(): a word takes at least
	 * one byte plus a separator, and its copy is never longer than its
	 * text plus the NUL.
	 */
	nptr = len / 2 + 2;
	v = malloc(nptr * sizeof(*v) + len + 1);
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	out = (char *)(v + nptr);
	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		v[n++] = out;
		while (*p && !isspace((unsigned char)*p)) {
			if (*p != '"') {
				*out++ = *p++;
				continue;
			}
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				*out++ = *p;
			}
			if (!*p) {
				err = -EINVAL;
				goto out;
			}
			p++;
		}
		*out++ = '\0';
	}
	v[n] = NULL;
	*argc = n;
	*argv = v;
	v = NULL;
out:
	free(v);
	return err;
}
