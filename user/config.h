/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one JSON schema of xlb: the config file (xlbd --config), the control
 * API and the dump (xlbctl config dump) all go through this code, so what
 * xlbd accepts, what it persists and what it prints cannot drift apart.
 * docs/xlb.json.5.md is the reference for the format.
 *
 * Pure C with jansson, no libbpf, so the unit tests need no root.  Every
 * default is applied at parse time: a struct xlb_cfg is always complete,
 * and holds the binary forms (NBO addresses, VIP keys) the daemon writes to
 * the maps.  Every int function returns 0 or a negative errno; on error
 * nothing is returned and @err holds one message naming the JSON path and
 * what was expected.
 */
#ifndef XLB_CONFIG_H
#define XLB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <xlb/xlb.h>

#define XLB_CFG_VERSION		1
#define XLB_CFG_IFNAMSIZ	16	/* IFNAMSIZ: 15 characters and the NUL */
#define XLB_CFG_GROUPSIZ	33	/* group names up to 32 characters */
#define XLB_CFG_ERRLEN		512	/* enough for any message we write */

/* Ranges and defaults; docs/xlb.json.5.md states the same numbers. */
#define XLB_CFG_MIN_MAX_VIPS		2
#define XLB_CFG_MAX_MAX_VIPS		65536
#define XLB_CFG_MIN_MAX_BACKENDS	2
#define XLB_CFG_MAX_MAX_BACKENDS	1048576
#define XLB_CFG_MIN_CONNTRACK		1024
#define XLB_CFG_MAX_CONNTRACK		100000000
#define XLB_CFG_DEF_SRC4		"172.16.0.0/16"
#define XLB_CFG_DEF_SRC6		"fd00:786c:6200::/96"
#define XLB_CFG_DEF_SOCKET		"/run/xlb/xlbd.sock"
#define XLB_CFG_DEF_MAX_CLIENTS		16
#define XLB_CFG_DEF_MAX_REQUEST		65536
#define XLB_CFG_DEF_IDLE_TIMEOUT	60
#define XLB_CFG_DEF_METRICS		"127.0.0.1:9641"
#define XLB_CFG_DEF_STATE_FILE		"/var/lib/xlb/state.json"
#define XLB_CFG_DEF_WEIGHT		100

enum xlb_cfg_mode {
	XLB_CFG_MODE_NATIVE,	/* driver XDP */
	XLB_CFG_MODE_GENERIC,	/* skb XDP */
};

enum xlb_cfg_hash {
	XLB_CFG_HASH_5TUPLE,	/* ring slot from the whole 5-tuple */
	XLB_CFG_HASH_SRC,	/* from the source address only: client affinity */
};

/* Backend states a config can ask for; the values are enum maglev_state's. */
enum xlb_cfg_be_state {
	XLB_CFG_BE_UP = 0,	/* MAGLEV_UP */
	XLB_CFG_BE_DRAIN = 1,	/* MAGLEV_DRAIN: no new flows */
};

/* Health checks (docs/xlb.json.5.md, "health"). */
enum xlb_cfg_hc_type {
	XLB_CFG_HC_NONE,	/* no checks: backends count as up */
	XLB_CFG_HC_TCP,		/* connect succeeds */
	XLB_CFG_HC_HTTP,	/* GET answers an expected status (and body) */
	XLB_CFG_HC_HTTPS,
	XLB_CFG_HC_UDP,		/* payload sent, a reply (holding expect_reply) back */
};

/* What happens to connection entries of a backend that went down. */
enum xlb_cfg_dead {
	XLB_CFG_DEAD_RECHOOSE,	/* re-chosen from the ring (default) */
	XLB_CFG_DEAD_DROP,	/* their packets are dropped */
};

/* What a VIP does when every backend is down. */
enum xlb_cfg_alldown {
	XLB_CFG_ALLDOWN_DROP,		/* drop (default) */
	XLB_CFG_ALLDOWN_FAIL_OPEN,	/* keep forwarding as if all were up */
};

#define XLB_CFG_DEF_HC_INTERVAL_MS	1000
#define XLB_CFG_DEF_HC_TIMEOUT_MS	500
#define XLB_CFG_DEF_HC_RISE		2
#define XLB_CFG_DEF_HC_FALL		3
#define XLB_CFG_DEF_HC_JITTER_PCT	10
#define XLB_CFG_MAX_HC_JITTER_PCT	50
#define XLB_CFG_MIN_HC_INTERVAL_MS	10
#define XLB_CFG_MAX_HC_INTERVAL_MS	3600000
#define XLB_CFG_MAX_HC_RISE_FALL	100
#define XLB_CFG_MAX_SLOW_START_S	3600
#define XLB_CFG_MAX_HC_PAYLOAD		1024	/* bytes of a UDP probe */
#define XLB_CFG_MAX_HC_STRING		1024	/* path, host, expect_* */

/* Bits of xlb_cfg_health.set: which keys a backend's override gives. */
#define XLB_CFG_HK_TYPE		(1U << 0)
#define XLB_CFG_HK_PORT		(1U << 1)
#define XLB_CFG_HK_INTERVAL	(1U << 2)
#define XLB_CFG_HK_TIMEOUT	(1U << 3)
#define XLB_CFG_HK_RISE		(1U << 4)
#define XLB_CFG_HK_FALL		(1U << 5)
#define XLB_CFG_HK_JITTER	(1U << 6)
#define XLB_CFG_HK_BACKOFF	(1U << 7)
#define XLB_CFG_HK_DATAPATH	(1U << 8)
#define XLB_CFG_HK_PATH		(1U << 9)
#define XLB_CFG_HK_HOST		(1U << 10)
#define XLB_CFG_HK_STATUS	(1U << 11)
#define XLB_CFG_HK_BODY		(1U << 12)
#define XLB_CFG_HK_TLS_VERIFY	(1U << 13)
#define XLB_CFG_HK_PAYLOAD	(1U << 14)
#define XLB_CFG_HK_REPLY	(1U << 15)

/*
 * One resolved health check: every default applied.  Strings are owned
 * (NULL: not given); payload may hold NULs.
 */
struct xlb_cfg_health {
	__u8 type;		/* enum xlb_cfg_hc_type */
	bool datapath;		/* probe the VIP through the encapsulation */
	__u16 port;		/* HBO; the VIP's port unless given (0 only with type NONE) */
	__u32 interval_ms;	/* XLB_CFG_MIN..MAX_HC_INTERVAL_MS */
	__u32 timeout_ms;	/* 1..interval_ms */
	__u32 rise, fall;	/* 1..XLB_CFG_MAX_HC_RISE_FALL */
	__u32 jitter_pct;	/* 0..XLB_CFG_MAX_HC_JITTER_PCT */
	__u32 backoff_max_ms;	/* delay cap while down; 0: 8 * interval_ms */
	/* http, https */
	char *path;		/* set (default "/") for http and https */
	char *host;		/* NULL: the backend address */
	char *expect_status;	/* set (default "200-399") for http and https */
	char *expect_body;	/* NULL: any body */
	bool tls_verify;
	/* udp */
	char *payload;		/* NULL: empty datagram */
	size_t payload_len;
	char *expect_reply;	/* NULL: any reply */
	/* For a backend's override: the XLB_CFG_HK_* keys it gives itself
	 * (the rest follow the VIP's).  0 in a VIP's own health. */
	__u32 set;
};

struct xlb_cfg_iface {
	char name[XLB_CFG_IFNAMSIZ];
	__u8 mode;		/* enum xlb_cfg_mode */
};

struct xlb_cfg_backend {
	__u32 addr[4];		/* NBO; IPv4 in addr[0] */
	__u8 family;		/* XLB_AF_* */
	__u8 state;		/* enum xlb_cfg_be_state */
	__u16 weight;		/* HBO; 0..65535 */
	bool has_health;	/* the backend overrides the VIP's health */
	struct xlb_cfg_health health;	/* resolved VIP health + override; valid if has_health */
};

struct xlb_cfg_vip {
	struct xlb_vip_key key;	/* as the vips map wants it */
	__u32 ring_size;	/* prime, <= XLB_MAX_RING_SIZE */
	__u8 hash;		/* enum xlb_cfg_hash */
	__u8 encap;		/* XLB_ENCAP_* */
	bool conntrack;
	struct xlb_cfg_health health;	/* type NONE: no checks */
	__u32 slow_start_s;	/* 0: off; else ramp time after recovery or addition */
	bool latency_adaptive;	/* scale weights down for slow backends */
	__u8 dead_backend;	/* enum xlb_cfg_dead */
	__u8 all_down;		/* enum xlb_cfg_alldown */
	__u32 n_backends;
	struct xlb_cfg_backend *backends;	/* sorted: xlb_cfg_backend_cmp() */
};

struct xlb_cfg {
	__u32 version;
	__u32 n_ifaces;
	struct xlb_cfg_iface *ifaces;		/* sorted by name */
	char *pin_root;
	__u32 hash_seed;
	struct {
		__u32 max_vips;
		__u32 max_backends;
		__u32 conntrack;
	} limits;
	struct {
		__u32 src4;		/* NBO; host bits zero */
		__u8 src4_len;		/* 8..32 */
		__u32 src6[4];		/* NBO; host bits zero */
		__u8 src6_len;		/* 96 */
	} encap;
	struct {
		bool has_static;
		char ifname[XLB_CFG_IFNAMSIZ];	/* valid if has_static */
		__u8 dmac[6];
		__u8 smac[6];
		bool skip_fib;		/* implies has_static */
	} next_hop;
	struct {
		char *socket;
		char *group;		/* NULL: root only */
		__u32 max_clients;
		__u32 max_request_bytes;
		__u32 idle_timeout_s;
	} control;
	struct {
		char *listen;		/* as written, for messages */
		__u32 addr[4];		/* NBO */
		__u8 family;		/* XLB_AF_* */
		__u16 port;		/* HBO; 1..65535 */
	} metrics;
	char *state_file;
	__u32 n_vips;
	struct xlb_cfg_vip *vips;	/* sorted: xlb_cfg_vip_key_cmp() */
};

/*
 * Parse @len bytes of JSON text.  On success *out is a complete config
 * (free with xlb_config_free()).  On error *out is untouched and @err
 * (@errlen bytes, XLB_CFG_ERRLEN is enough) holds the message.  -EINVAL for
 * an invalid config, -ENOMEM.
 */
int xlb_config_parse(const char *text, size_t len, struct xlb_cfg **out, char *err, size_t errlen);
/* As xlb_config_parse() for a file; every message starts with "@path: ". */
int xlb_config_load(const char *path, struct xlb_cfg **out, char *err, size_t errlen);
/* As xlb_config_parse() for a document already decoded (the control API). */
int xlb_config_from_json(const json_t *root, struct xlb_cfg **out, char *err, size_t errlen);

/*
 * One VIP object of the schema (the control API's "vip add"), checked as in
 * a config against @limits_cfg (its limits only; NULL: the defaults).
 * @path prefixes messages ("vip" if NULL).  Free with xlb_config_vip_clear().
 */
int xlb_config_vip_from_json(const json_t *obj, const char *path, const struct xlb_cfg *limits_cfg,
			     struct xlb_cfg_vip *vip, char *err, size_t errlen);
void xlb_config_vip_clear(struct xlb_cfg_vip *vip);
json_t *xlb_config_vip_to_json(const struct xlb_cfg_vip *vip);

/*
 * Canonical JSON: every default written out, keys in a fixed order, VIPs
 * and backends sorted.  The same config always gives the same document,
 * whatever the order of the input.  NULL on allocation failure.
 */
json_t *xlb_config_to_json(const struct xlb_cfg *cfg);
/* The canonical text: 2-space indent and a trailing newline; free() it. */
int xlb_config_dump(const struct xlb_cfg *cfg, char **text);

/* True if @a and @b describe the same configuration. */
bool xlb_config_equal(const struct xlb_cfg *a, const struct xlb_cfg *b);
void xlb_config_free(struct xlb_cfg *cfg);

/* The sort orders of the canonical form: family, address, then port, proto. */
int xlb_cfg_vip_key_cmp(const struct xlb_vip_key *a, const struct xlb_vip_key *b);
int xlb_cfg_backend_cmp(const struct xlb_cfg_backend *a, const struct xlb_cfg_backend *b);

/* True if @s is a valid "expect_status": "200,204,300-399", codes 100..599. */
bool xlb_cfg_expect_status_ok(const char *s);

/*
 * The control API's partial edit of a "health" object: a copy of @cur (NULL:
 * {}) with @update's keys set, those whose value is null removed.  When
 * @update gives a "type", keys of @cur that type does not take are dropped,
 * so "interval_ms" survives a change from http to tcp and "path" does not.
 * A new "interval_ms" drops a kept "timeout_ms" above it and a kept
 * non-zero "backoff_max_ms" below it, so they take their defaults again.
 * NULL on allocation failure; validation is the parser's.
 */
json_t *xlb_config_health_merge(const json_t *cur, const json_t *update);

/* A health check's strings are owned: a deep copy (on -ENOMEM @dst holds
 * nothing to free), and their release. */
int xlb_cfg_health_copy(struct xlb_cfg_health *dst, const struct xlb_cfg_health *src);
void xlb_cfg_health_clear(struct xlb_cfg_health *h);
/* The same check: the type and the keys that type uses. */
bool xlb_cfg_health_equal(const struct xlb_cfg_health *a, const struct xlb_cfg_health *b);
/* The check a backend gets: its override, or its VIP's. */
const struct xlb_cfg_health *xlb_cfg_backend_health(const struct xlb_cfg_vip *v,
						    const struct xlb_cfg_backend *b);

/* VIP flags (XLB_VIP_F_*) for the vips map. */
__u32 xlb_cfg_vip_flags(const struct xlb_cfg_vip *vip);

/*
 * What a reload must do.  Globals that only a restart can apply, as bits of
 * xlb_cfg_diff.restart: the maps are sized, pinned and seeded at load, and
 * the sockets are bound once.
 */
#define XLB_CFG_R_INTERFACES	(1U << 0)
#define XLB_CFG_R_PIN_ROOT	(1U << 1)
#define XLB_CFG_R_HASH_SEED	(1U << 2)
#define XLB_CFG_R_LIMITS	(1U << 3)
#define XLB_CFG_R_ENCAP		(1U << 4)
#define XLB_CFG_R_CONTROL	(1U << 5)
#define XLB_CFG_R_METRICS	(1U << 6)
#define XLB_CFG_R_STATE_FILE	(1U << 7)

/* xlb_cfg_vip_change.changed */
#define XLB_CFG_V_RING_SIZE	(1U << 0)
#define XLB_CFG_V_HASH		(1U << 1)
#define XLB_CFG_V_CONNTRACK	(1U << 2)
#define XLB_CFG_V_ENCAP		(1U << 3)
#define XLB_CFG_V_HEALTH	(1U << 4)	/* health, slow start, latency mode */
#define XLB_CFG_V_POLICY	(1U << 5)	/* dead_backend, all_down */

/* xlb_cfg_be_change.changed */
#define XLB_CFG_B_WEIGHT	(1U << 0)
#define XLB_CFG_B_STATE		(1U << 1)
#define XLB_CFG_B_HEALTH	(1U << 2)	/* its effective health check */

struct xlb_cfg_be_change {
	const struct xlb_cfg_backend *old, *new;
	__u32 changed;		/* XLB_CFG_B_* */
};

/* A VIP in both configs whose options or backends differ. */
struct xlb_cfg_vip_change {
	const struct xlb_cfg_vip *old, *new;
	__u32 changed;		/* XLB_CFG_V_* */
	__u32 n_be_add, n_be_del, n_be_mod;
	const struct xlb_cfg_backend **be_add;	/* in new, sorted */
	const struct xlb_cfg_backend **be_del;	/* in old, sorted */
	struct xlb_cfg_be_change *be_mod;	/* sorted */
};

/*
 * Pointers into the two configs: a diff is valid while both are.  Every
 * list is in canonical order.
 */
struct xlb_cfg_diff {
	__u32 restart;		/* XLB_CFG_R_*: changed, needs a restart */
	bool next_hop;		/* next_hop changed: rewrite the config map */
	__u32 n_vip_add, n_vip_del, n_vip_mod;
	const struct xlb_cfg_vip **vip_add;	/* in new */
	const struct xlb_cfg_vip **vip_del;	/* in old */
	struct xlb_cfg_vip_change *vip_mod;
};

int xlb_config_diff(const struct xlb_cfg *old, const struct xlb_cfg *new,
		    struct xlb_cfg_diff **out);
/* True if @d has nothing to apply and nothing needing a restart. */
bool xlb_config_diff_empty(const struct xlb_cfg_diff *d);
/* "interfaces, hash_seed": the names of the XLB_CFG_R_* bits in @restart. */
const char *xlb_config_restart_fmt(__u32 restart, char *buf, size_t len);
void xlb_config_diff_free(struct xlb_cfg_diff *d);

#endif /* XLB_CONFIG_H */
