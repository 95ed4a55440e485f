// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* See api.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "addr.h"
#include "api.h"
#include "health.h"
#include "maglev.h"

#define ERRLEN 512

static json_t *err_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *err_reply(const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *ok_reply(void)
{
	return json_pack("{s:b}", "ok", 1);
}

int xlb_state_write(const char *path, const char *text)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t len = strlen(text), off = 0;
	int fd = -1, dfd = -1, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd)) {
		err = -errno;
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		err = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		err = -errno;
		goto out;
	}
	/* The rename itself must reach the disk before we acknowledge. */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		err = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (err)
		unlink(tmp);
	return err;
}

int xlb_api_commit_json(struct xlb_api *a, const json_t *next, char *err, size_t errlen)
{
	struct xlb_cfg_diff *diff = NULL;
	struct xlb_cfg *cfg = NULL;
	char *text = NULL, aerr[ERRLEN] = "";
	int ret;

	a->restart_note[0] = '\0';
	ret = xlb_config_from_json(next, &cfg, err, errlen);
	if (ret)
		goto out;
	ret = xlb_config_diff(a->cfg, cfg, &diff);
	if (ret) {
		snprintf(err, errlen, "comparing configurations: %s", strerror(-ret));
		goto out;
	}
	/* These shape the loaded data plane itself: refuse rather than run
	 * with a state file that does not describe it. */
	if (diff->restart & (XLB_CFG_R_PIN_ROOT | XLB_CFG_R_HASH_SEED | XLB_CFG_R_LIMITS)) {
		char what[128];

		ret = -EINVAL;
		snprintf(err, errlen, "%s change only with a restart of xlbd (--replace)",
			 xlb_config_restart_fmt(diff->restart & (XLB_CFG_R_PIN_ROOT |
				XLB_CFG_R_HASH_SEED | XLB_CFG_R_LIMITS), what, sizeof(what)));
		goto out;
	}
	ret = xlb_config_dump(cfg, &text);
	if (ret) {
		snprintf(err, errlen, "cannot serialise the state: %s", strerror(-ret));
		goto out;
	}
	ret = xlb_lb_apply(a->lb, cfg, aerr, sizeof(aerr));
	if (ret) {
		snprintf(err, errlen, "%s", aerr);
		goto rollback;
	}
	if (a->state_path && *a->state_path) {
		ret = xlb_state_write(a->state_path, text);
		if (ret) {
			snprintf(err, errlen, "cannot write the state file %s: %s", a->state_path,
				 strerror(-ret));
			goto rollback;
		}
	}
	/* Accepted; what only a restart applies (sockets, interfaces) is
	 * reported, not silently ignored.  The encap prefixes and the next
	 * hop are config-map writes and took effect already. */
	if (diff->restart & ~(XLB_CFG_R_ENCAP))
		xlb_config_restart_fmt(diff->restart & ~XLB_CFG_R_ENCAP, a->restart_note,
				       sizeof(a->restart_note));
	xlb_config_free(a->cfg);
	a->cfg = cfg;
	cfg = NULL;
	if (a->applied)
		a->applied(a->ctx, a->cfg);
	goto out;
rollback:
	/* Put the data plane back as the accepted state has it. */
	xlb_lb_apply(a->lb, a->cfg, aerr, sizeof(aerr));
out:
	xlb_config_diff_free(diff);
	free(text);
	xlb_config_free(cfg);
	return ret;
}

int xlb_api_reload(struct xlb_api *a, char *err, size_t errlen)
{
	struct xlb_cfg *cfg = NULL;
	json_t *j = NULL;
	int ret;

	a->reloads++;
	ret = xlb_config_load(a->config_path, &cfg, err, errlen);
	if (!ret) {
		j = xlb_config_to_json(cfg);
		ret = j ? xlb_api_commit_json(a, j, err, errlen) : -ENOMEM;
	}
	if (ret)
		a->reload_failures++;
	json_decref(j);
	xlb_config_free(cfg);
	return ret;
}

/* ---------------------------------------------------------------- lookups */

static const char *req_str(const json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

/* Index of the VIP @s (any accepted spelling) in the JSON "vips" array. */
static int vip_index(json_t *vips, const char *s, struct xlb_vip_key *k, json_t **err)
{
	const char *why = NULL;
	size_t i;
	json_t *v;

	if (!s) {
		*err = err_reply("missing argument 'vip': expected ADDR:PORT/PROTO");
		return -EINVAL;
	}
	if (xlb_vip_key_parse(s, k, &why)) {
		*err = err_reply("vip '%s': %s", s, why);
		return -EINVAL;
	}
	json_array_foreach(vips, i, v) {
		struct xlb_vip_key o;

		if (!xlb_vip_key_parse(json_string_value(json_object_get(v, "vip")), &o, NULL) &&
		    !memcmp(&o, k, sizeof(o)))
			return (int)i;
	}
	return -ENOENT;
}

/* The index of the request's VIP, which must exist; else < 0 with *err. */
static int vip_existing(json_t *vips, const json_t *req, struct xlb_vip_key *k, json_t **err)
{
	char name[XLB_VIP_STRLEN];
	int vi = vip_index(vips, req_str(req, "vip"), k, err);

	if (vi == -ENOENT)
		*err = err_reply("vip %s: no such VIP", xlb_vip_key_fmt(k, name, sizeof(name)));
	return vi;
}

static int backend_index(json_t *bes, const char *s, __u32 addr[4], __u8 *fam, json_t **err)
{
	size_t i;
	json_t *b;

	if (!s) {
		*err = err_reply("missing argument 'address': expected an IPv4 or IPv6 address");
		return -EINVAL;
	}
	if (xlb_addr_parse(s, addr, fam)) {
		*err = err_reply("address '%s': expected an IPv4 or IPv6 address", s);
		return -EINVAL;
	}
	json_array_foreach(bes, i, b) {
		__u32 o[4];
		__u8 of;

		if (!xlb_addr_parse(json_string_value(json_object_get(b, "address")), o, &of) &&
		    of == *fam && !memcmp(o, addr, 16))
			return (int)i;
	}
	return -ENOENT;
}

/* ---------------------------------------------------------------- changes */

static const char *const vip_opts[] = { "ring_size", "hash", "conntrack", "encap", "health",
					"slow_start_s", "latency_adaptive", "dead_backend",
					"all_down", NULL };

/* Copy the request's keys named in @keys into @dst. */
static void copy_opts(json_t *dst, const json_t *req, const char *const *keys)
{
	int i;

	for (i = 0; keys[i]; i++) {
		json_t *v = json_object_get(req, keys[i]);

		if (v)
			json_object_set(dst, keys[i], v);
	}
}

/* Reject request keys a command does not take, naming the first. */
static json_t *check_keys(const json_t *req, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)req, key, v) {
		int i;

		if (!strcmp(key, "cmd"))
			continue;
		for (i = 0; allowed[i] && strcmp(allowed[i], key); i++)
			;
		if (!allowed[i])
			return err_reply("unknown argument '%s'", key);
	}
	return NULL;
}

/*
 * Apply the request's "health_update" to @obj's "health" (a VIP's check or
 * a backend's override): the keys given replace, null ones are removed.
 */
static json_t *health_update(json_t *obj, const json_t *req)
{
	json_t *up = json_object_get(req, "health_update"), *m;

	if (!up)
		return NULL;
	if (!json_is_object(up))
		return err_reply("health_update: expected an object of health keys");
	m = xlb_config_health_merge(json_object_get(obj, "health"), up);
	if (!m || json_object_set_new(obj, "health", m))
		return err_reply("out of memory");
	return NULL;
}

static json_t *change(struct xlb_api *a, const char *cmd, const json_t *req)
{
	static const char *const k_vip[] = { "vip", NULL };
	static const char *const k_vip_add[] = { "vip", "ring_size", "hash", "conntrack", "encap",
						 "health", "slow_start_s", "latency_adaptive",
						 "dead_backend", "all_down", NULL };
	static const char *const k_vip_set[] = { "vip", "ring_size", "hash", "conntrack", "encap",
						 "health", "health_update", "slow_start_s",
						 "latency_adaptive", "dead_backend", "all_down",
						 NULL };
	static const char *const k_be[] = { "vip", "address", NULL };
	static const char *const k_be_add[] = { "vip", "address", "weight", "state", "health",
						NULL };
	static const char *const k_be_set[] = { "vip", "address", "weight", "health",
						"health_update", NULL };
	char err[ERRLEN], name[XLB_VIP_STRLEN];
	json_t *next, *vips, *vip, *bes, *e = NULL;
	struct xlb_vip_key k;
	__u32 addr[4];
	__u8 fam;
	int vi, bi, ret;

	next = xlb_config_to_json(a->cfg);
	if (!next)
		return err_reply("out of memory");
	vips = json_object_get(next, "vips");
	if (!strcmp(cmd, "vip.add")) {
		e = check_keys(req, k_vip_add);
		if (e)
			goto out;
		vi = vip_index(vips, req_str(req, "vip"), &k, &e);
		if (vi >= 0)
			e = err_reply("vip %s: already exists", xlb_vip_key_fmt(&k, name, sizeof(name)));
		if (e)
			goto out;
		vip = json_pack("{s:s, s:[]}", "vip", xlb_vip_key_fmt(&k, name, sizeof(name)),
				"backends");
		copy_opts(vip, req, vip_opts);
		json_array_append_new(vips, vip);
	} else if (!strcmp(cmd, "vip.set")) {
		e = check_keys(req, k_vip_set);
		if (e)
			goto out;
		vi = vip_existing(vips, req, &k, &e);
		if (e)
			goto out;
		if (json_object_size(req) < 3) {
			e = err_reply("vip.set: nothing to change: expected at least one of "
				      "ring_size, hash, conntrack, encap, health, health_update, "
				      "slow_start_s, latency_adaptive, dead_backend, all_down");
			goto out;
		}
		vip = json_array_get(vips, (size_t)vi);
		/* "health" replaces the whole check; "health_update" edits it. */
		copy_opts(vip, req, vip_opts);
		e = health_update(vip, req);
		if (e)
			goto out;
	} else if (!strcmp(cmd, "vip.del")) {
		e = check_keys(req, k_vip);
		if (e)
			goto out;
		vi = vip_existing(vips, req, &k, &e);
		if (e)
			goto out;
		json_array_remove(vips, (size_t)vi);
	} else {
		bool add = !strcmp(cmd, "backend.add"), set = !strcmp(cmd, "backend.set");
		json_t *b;

		e = check_keys(req, add ? k_be_add : set ? k_be_set : k_be);
		if (e)
			goto out;
		vi = vip_existing(vips, req, &k, &e);
		if (e)
			goto out;
		bes = json_object_get(json_array_get(vips, (size_t)vi), "backends");
		bi = backend_index(bes, req_str(req, "address"), addr, &fam, &e);
		if (e)
			goto out;
		if (add && bi >= 0) {
			e = err_reply("backend %s: already in vip %s", req_str(req, "address"),
				      xlb_vip_key_fmt(&k, name, sizeof(name)));
			goto out;
		}
		if (!add && bi < 0) {
			e = err_reply("backend %s: not in vip %s", req_str(req, "address"),
				      xlb_vip_key_fmt(&k, name, sizeof(name)));
			goto out;
		}
		if (add) {
			b = json_pack("{s:s}", "address", req_str(req, "address"));
			copy_opts(b, req, (const char *const[]){ "weight", "state", "health", NULL });
			json_array_append_new(bes, b);
		} else if (!strcmp(cmd, "backend.del")) {
			json_array_remove(bes, (size_t)bi);
		} else {
			b = json_array_get(bes, (size_t)bi);
			if (set) {
				if (json_object_size(req) < 4) {
					e = err_reply("missing argument 'weight', 'health' or "
						      "'health_update': expected at least one");
					goto out;
				}
				copy_opts(b, req, (const char *const[]){ "weight", "health", NULL });
				/* null: the backend follows the VIP's check again */
				if (json_is_null(json_object_get(b, "health")))
					json_object_del(b, "health");
				e = health_update(b, req);
				if (e)
					goto out;
			} else {
				json_object_set_new(b, "state",
						    json_string(strcmp(cmd, "backend.drain") ? "up" : "drain"));
			}
		}
	}
	ret = xlb_api_commit_json(a, next, err, sizeof(err));
	e = ret ? err_reply("%s", err) : ok_reply();
out:
	json_decref(next);
	return e;
}

/* ---------------------------------------------------------------- queries */

static json_t *counters_json(const struct xlb_counters *c)
{
	return json_pack("{s:I, s:I, s:I}", "packets", (json_int_t)c->packets, "bytes",
			 (json_int_t)c->bytes, "new_flows", (json_int_t)c->new_flows);
}

/* A backend's health: its state, since when, and its last probe. */
static json_t *health_json(const struct xlb_api *a, const struct xlb_lb_backend *b, __u64 now)
{
	struct xlb_hc_status st;
	json_t *h;

	h = json_pack("{s:s, s:f, s:I}", "state", xlb_be_hstate_name(b->hstate), "since_s",
		      (double)(now - b->since_ms) / 1000.0, "transitions",
		      (json_int_t)b->transitions);
	if (!h || !a->hc || b->hc_id < 0 || xlb_hc_get(a->hc, b->hc_id, &st))
		return h;
	json_object_set_new(h, "checked", json_true());
	if (!st.probes)
		return h;
	json_object_set_new(h, "last_ok", json_boolean(st.last_ok));
	json_object_set_new(h, "last_result", json_string(st.last_why));
	json_object_set_new(h, "latency_ms", json_real(st.last_latency_us / 1000.0));
	json_object_set_new(h, "probes", json_integer((json_int_t)st.probes));
	json_object_set_new(h, "failures", json_integer((json_int_t)st.failures));
	return h;
}

static json_t *vip_json(struct xlb_api *a, const struct xlb_lb_vip *v, bool with_stats)
{
	char name[XLB_VIP_STRLEN], addr[64];
	__u64 now = xlb_lb_now_ms();
	struct xlb_counters c;
	json_t *o, *bes;
	__u32 i;

	o = json_pack("{s:s, s:i, s:i}", "vip", xlb_vip_key_fmt(&v->key, name, sizeof(name)), "id",
		      (int)v->id, "ring_size", (int)v->ring.m);
	bes = json_array();
	for (i = 0; i < v->n_backends; i++) {
		const struct xlb_lb_backend *b = &v->backends[i];
		json_t *bj = json_pack("{s:s, s:i, s:i, s:s, s:b}", "address",
				       xlb_addr_fmt(b->addr, b->family, addr, sizeof(addr)), "id",
				       (int)b->id, "weight", (int)b->weight, "state",
				       b->state == XLB_CFG_BE_DRAIN ? "drain" : "up", "up", !b->down);

		json_object_set_new(bj, "effective_weight", json_integer(b->eff_weight));
		json_object_set_new(bj, "health", health_json(a, b, now));
		if (with_stats && !xlb_stats_backend(a->lb->x, b->id, &c))
			json_object_set_new(bj, "stats", counters_json(&c));
		json_array_append_new(bes, bj);
	}
	json_object_set_new(o, "backends", bes);
	if (v->fail_open)
		json_object_set_new(o, "fail_open", json_true());
	if (with_stats && !xlb_stats_vip(a->lb->x, v->id, &c))
		json_object_set_new(o, "stats", counters_json(&c));
	return o;
}

static json_t *query(struct xlb_api *a, const char *cmd, const json_t *req)
{
	struct xlb_lb_vip *v = NULL;
	struct xlb_vip_key k;
	const char *why = NULL, *s = req_str(req, "vip");
	json_t *out, *arr;
	__u32 i;

	if (s) {
		char name[XLB_VIP_STRLEN];

		if (xlb_vip_key_parse(s, &k, &why))
			return err_reply("vip '%s': %s", s, why);
		v = xlb_lb_vip_find(a->lb, &k);
		if (!v)
			return err_reply("vip %s: no such VIP", xlb_vip_key_fmt(&k, name, sizeof(name)));
	} else if (!strcmp(cmd, "vip.show") || !strcmp(cmd, "maglev.show")) {
		return err_reply("missing argument 'vip': expected ADDR:PORT/PROTO");
	}
	if (!strcmp(cmd, "config.dump")) {
		out = ok_reply();
		json_object_set_new(out, "config", xlb_config_to_json(a->cfg));
		return out;
	}
	if (!strcmp(cmd, "maglev.show")) {
		struct xlb_ring_info info;
		char sum[32], addr[64];
		json_t *slots = json_array();

		if (xlb_vip_ring_info(&v->ring, &info))
			return err_reply("vip %s: no ring built yet", s);
		for (i = 0; i < v->ring.live->n; i++) {
			const struct maglev_backend *b = &v->ring.live->be[i];
			__u32 j;

			for (j = 0; j < v->n_backends && v->backends[j].id != b->id; j++)
				;
			json_array_append_new(slots, json_pack("{s:s, s:i, s:i}", "address",
				j < v->n_backends ? xlb_addr_fmt(v->backends[j].addr,
								 v->backends[j].family, addr,
								 sizeof(addr)) : "?",
				"id", (int)b->id, "slots", (int)v->ring.live->slots[i]));
		}
		snprintf(sum, sizeof(sum), "%016llx", (unsigned long long)info.live_checksum);
		out = json_pack("{s:b, s:i, s:s, s:o, s:f, s:i}", "ok", 1, "ring_size", (int)v->ring.m,
				"checksum", sum, "backends", slots, "imbalance", info.stats.max_ratio,
				"empty_slots", (int)info.stats.empty);
		snprintf(sum, sizeof(sum), "%016llx", (unsigned long long)info.anchor_checksum);
		json_object_set_new(out, "anchor_checksum", json_string(sum));
		return out;
	}
	out = ok_reply();
	arr = json_array();
	for (i = 0; i < a->lb->n_vips; i++)
		if (!v || a->lb->vips[i] == v)
			json_array_append_new(arr, vip_json(a, a->lb->vips[i], !strcmp(cmd, "stats")));
	json_object_set_new(out, "vips", arr);
	if (!strcmp(cmd, "stats")) {
		struct xlb_global_stats g;
		json_t *vj = json_object(), *rj = json_object();
		int r;

		if (!xlb_stats_global(a->lb->x, &g)) {
			for (r = 0; r < 5; r++)
				json_object_set_new(vj, xlb_verdict_name(r), json_integer((json_int_t)g.verdict[r]));
			for (r = 0; r < XLB_R_MAX; r++)
				json_object_set_new(rj, xlb_reason_name(r), json_integer((json_int_t)g.reason[r]));
		}
		json_object_set_new(out, "verdicts", vj);
		json_object_set_new(out, "reasons", rj);
	}
	if (!strcmp(cmd, "status") && a->status_extra) {
		json_t *extra = a->status_extra(a->ctx);

		json_object_update(out, extra);
		json_decref(extra);
	}
	return out;
}

int xlb_api_handle(struct xlb_api *a, const json_t *req, json_t **reply)
{
	static const char *const changes[] = { "vip.add", "vip.set", "vip.del", "backend.add",
					       "backend.del", "backend.set", "backend.drain",
					       "backend.undrain", NULL };
	static const char *const queries[] = { "vip.list", "vip.show", "backend.list", "stats",
					       "maglev.show", "status", "config.dump", NULL };
	const char *cmd = req_str(req, "cmd");
	char err[ERRLEN];
	int i;

	a->requests++;
	*reply = NULL;
	if (!json_is_object(req) || !cmd) {
		*reply = err_reply("a request is an object with a \"cmd\" string");
		goto out;
	}
	for (i = 0; changes[i]; i++)
		if (!strcmp(cmd, changes[i]))
			*reply = change(a, cmd, req);
	for (i = 0; queries[i]; i++)
		if (!strcmp(cmd, queries[i]))
			*reply = query(a, cmd, req);
	if (!strcmp(cmd, "config.reload")) {
		*reply = xlb_api_reload(a, err, sizeof(err)) ? err_reply("%s", err) : ok_reply();
		if (*reply && a->restart_note[0] && json_is_true(json_object_get(*reply, "ok")))
			json_object_set_new(*reply, "restart_required", json_string(a->restart_note));
	}
	if (!*reply)
		*reply = err_reply("unknown command '%s'", cmd);
out:
	if (!*reply)
		*reply = err_reply("out of memory");
	if (!json_is_true(json_object_get(*reply, "ok"))) {
		a->errors++;
		return -EINVAL;
	}
	return 0;
}
