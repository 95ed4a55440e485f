// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packet fixtures: run every case of a fixture file (tests/prog/
 * gen_fixtures.py) through the real xlb.bpf.o with BPF_PROG_TEST_RUN and
 * check the verdict, the output frame byte for byte, and that every counter
 * moved by exactly the expected amount (all others by zero).
 *
 * Usage: test_prog FIXTURES.json
 */
#include <stdlib.h>
#include <jansson.h>
#include <netinet/in.h>
#include "addr.h"
#include "harness.h"

#define MAX_FRAME 4096
#define MAX_IDS 256

struct snap {
	struct xlb_global_stats g;
	struct xlb_counters vip[MAX_IDS];
	struct xlb_counters be[MAX_IDS];
};

static struct xlb *x;
static int vip_ids[MAX_IDS], nvip_ids;
static int be_ids[MAX_IDS], nbe_ids;

static int hex_decode(const char *s, unsigned char *buf, size_t cap, size_t *len)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > cap)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		buf[i] = (unsigned char)b;
	}
	*len = n / 2;
	return 0;
}

static int snapshot(struct snap *s)
{
	int i, err;

	err = xlb_stats_global(x, &s->g);
	for (i = 0; !err && i < nvip_ids; i++)
		err = xlb_stats_vip(x, (__u32)vip_ids[i], &s->vip[vip_ids[i]]);
	for (i = 0; !err && i < nbe_ids; i++)
		err = xlb_stats_backend(x, (__u32)be_ids[i], &s->be[be_ids[i]]);
	return err;
}

static int verdict_of(const char *s)
{
	static const char *const n[] = { "aborted", "drop", "pass", "tx", "redirect" };
	int i;

	for (i = 0; i < 5; i++)
		if (!strcmp(s, n[i]))
			return i;
	return -1;
}

/* Check the counter deltas of one object kind against @exp ({"id": [p, b, nf]}). */
static bool check_objs(const char *kind, json_t *exp, const int *ids, int nids,
		       const struct xlb_counters *before, const struct xlb_counters *after)
{
	bool ok = true;
	int i;

	for (i = 0; i < nids; i++) {
		char key[16];
		long long want[3] = { 0, 0, 0 }, got[3];
		json_t *e;
		int id = ids[i], k;

		snprintf(key, sizeof(key), "%d", id);
		e = json_object_get(exp, key);
		for (k = 0; e && k < 3; k++)
			want[k] = json_integer_value(json_array_get(e, (size_t)k));
		got[0] = (long long)(after[id].packets - before[id].packets);
		got[1] = (long long)(after[id].bytes - before[id].bytes);
		got[2] = (long long)(after[id].new_flows - before[id].new_flows);
		for (k = 0; k < 3; k++) {
			static const char *const f[] = { "packets", "bytes", "new_flows" };

			if (got[k] != want[k]) {
				fprintf(stderr, "    %s %d %s moved by %lld, expected %lld\n",
					kind, id, f[k], got[k], want[k]);
				ok = false;
			}
		}
	}
	return ok;
}

static bool run_case(json_t *c, int prog_fd)
{
	static unsigned char in[MAX_FRAME], out[MAX_FRAME + 512], exp[MAX_FRAME + 512];
	static struct snap before, after;
	const char *want_v = json_string_value(json_object_get(c, "verdict"));
	json_t *reasons = json_object_get(c, "reasons"), *jout = json_object_get(c, "out");
	size_t in_len, exp_len;
	__u32 out_len = sizeof(out), retval;
	bool ok = true;
	int r, v, err;

	XT_ASSERT(!hex_decode(json_string_value(json_object_get(c, "in")), in, sizeof(in), &in_len),
		  "bad input hex");
	XT_ASSERT(!snapshot(&before), "reading counters");
	err = xt_run(prog_fd, in, (__u32)in_len, out, &out_len, &retval);
	XT_ASSERT(!err, "BPF_PROG_TEST_RUN: %s", strerror(-err));
	XT_ASSERT(!snapshot(&after), "reading counters");

	v = verdict_of(want_v);
	if ((int)retval != v) {
		fprintf(stderr, "    verdict %s, expected %s\n", xlb_verdict_name((int)retval), want_v);
		ok = false;
	}
	if (jout) {
		XT_ASSERT(!hex_decode(json_string_value(jout), exp, sizeof(exp), &exp_len),
			  "bad output hex");
	} else {
		/* Not sent: the frame must leave exactly as it came. */
		memcpy(exp, in, in_len);
		exp_len = in_len;
	}
	if (exp_len != out_len || memcmp(exp, out, exp_len)) {
		fprintf(stderr, "    output frame differs (left expected, right got)\n");
		xt_hexdiff(exp, exp_len, out, out_len);
		ok = false;
	}

	for (v = 0; v < XLB_VERDICT_SLOTS; v++) {
		__u64 d = after.g.verdict[v] - before.g.verdict[v];
		__u64 w = v == verdict_of(want_v) ? 1 : 0;

		if (d != w) {
			fprintf(stderr, "    verdict counter %s moved by %llu, expected %llu\n",
				xlb_verdict_name(v), (unsigned long long)d, (unsigned long long)w);
			ok = false;
		}
	}
	for (r = 0; r < XLB_REASON_SLOTS; r++) {
		__u64 d = after.g.reason[r] - before.g.reason[r];
		json_t *w = r < XLB_R_MAX ? json_object_get(reasons, xlb_reason_name(r)) : NULL;
		__u64 want = w ? (__u64)json_integer_value(w) : 0;

		if (d != want) {
			fprintf(stderr, "    reason %s moved by %llu, expected %llu\n",
				xlb_reason_name(r), (unsigned long long)d, (unsigned long long)want);
			ok = false;
		}
	}
	/* A reason the fixture names must exist. */
	{
		const char *name;
		json_t *val;

		json_object_foreach(reasons, name, val) {
			bool found = false;

			for (r = 0; r < XLB_R_MAX; r++)
				found |= !strcmp(name, xlb_reason_name(r));
			if (!found) {
				fprintf(stderr, "    fixture names unknown reason %s\n", name);
				ok = false;
			}
		}
	}
	ok &= check_objs("vip", json_object_get(c, "vip"), vip_ids, nvip_ids, before.vip, after.vip);
	ok &= check_objs("backend", json_object_get(c, "backend"), be_ids, nbe_ids, before.be,
			 after.be);
	return ok;
}

static int flag_bits(json_t *flags, __u32 *out)
{
	size_t i;
	json_t *f;

	*out = 0;
	json_array_foreach(flags, i, f) {
		const char *s = json_string_value(f);

		if (!s)
			return -EINVAL;
		if (!strcmp(s, "hash_src_only"))
			*out |= XLB_VIP_F_HASH_SRC_ONLY;
		else if (!strcmp(s, "no_conntrack"))
			*out |= XLB_VIP_F_NO_CONNTRACK;
		else if (!strcmp(s, "dead_drop"))
			*out |= XLB_VIP_F_DEAD_DROP;
		else
			return -EINVAL;
	}
	return 0;
}

static int setup(json_t *root)
{
	json_t *cfgj = json_object_get(root, "config"), *e;
	struct xlb_config cfg;
	__u32 a[4];
	__u8 fam;
	size_t i;
	int err;

	err = xlb_config_get(x, &cfg);
	if (err)
		return err;
	if (xlb_addr_parse(json_string_value(json_object_get(cfgj, "src4")), a, &fam))
		return -EINVAL;
	cfg.src4 = a[0];
	if (xlb_addr_parse(json_string_value(json_object_get(cfgj, "src4_mask")), a, &fam))
		return -EINVAL;
	cfg.src4_mask = a[0];
	if (xlb_addr_parse(json_string_value(json_object_get(cfgj, "src6")), cfg.src6, &fam))
		return -EINVAL;
	if (xlb_mac_parse(json_string_value(json_object_get(cfgj, "nh_dmac")), cfg.nh_dmac) ||
	    xlb_mac_parse(json_string_value(json_object_get(cfgj, "nh_smac")), cfg.nh_smac))
		return -EINVAL;
	/* Under BPF_PROG_TEST_RUN the ingress device is lo: a static next hop
	 * on lo makes forwarded packets come back as XDP_TX. */
	cfg.nh_ifindex = 1;
	cfg.flags = XLB_CFG_F_STATIC_NH;
	err = xlb_config_set(x, &cfg);
	if (err)
		return err;

	json_array_foreach(json_object_get(root, "backends"), i, e) {
		struct xlb_backend b = {};
		__u32 id = (__u32)json_integer_value(json_object_get(e, "id"));

		if (xlb_addr_parse(json_string_value(json_object_get(e, "addr")), b.addr, &b.family))
			return -EINVAL;
		if (json_is_true(json_object_get(e, "unusable")))
			b.flags |= XLB_BE_F_UNUSABLE;
		err = xlb_backend_set(x, id, &b);
		if (err)
			return err;
	}
	json_array_foreach(json_object_get(root, "vips"), i, e) {
		struct xlb_vip_key k;
		struct xlb_vip v = {};
		const char *why = NULL;
		json_t *fill = json_object_get(e, "fill");
		__u32 m = (__u32)json_integer_value(json_object_get(e, "ring_size")), s, *ring;

		if (xlb_vip_key_parse(json_string_value(json_object_get(e, "vip")), &k, &why)) {
			fprintf(stderr, "fixture VIP: %s\n", why);
			return -EINVAL;
		}
		v.id = (__u32)json_integer_value(json_object_get(e, "id"));
		err = flag_bits(json_object_get(e, "flags"), &v.flags);
		if (!err)
			err = xlb_vip_set(x, &k, &v);
		if (err)
			return err;
		if (!m)
			continue;
		ring = calloc(m, sizeof(*ring));
		if (!ring)
			return -ENOMEM;
		for (s = 0; s < m; s++)
			ring[s] = (__u32)json_integer_value(
				json_array_get(fill, s % json_array_size(fill)));
		err = xlb_ring_publish(x, v.id, ring, m);
		free(ring);
		if (err)
			return err;
	}
	/* Flows recorded before the cases run (e.g. on a backend that has
	 * since become unusable). */
	json_array_foreach(json_object_get(root, "conntrack"), i, e) {
		struct xlb_flow_key k = {};
		struct xlb_flow f = {};
		__u32 d[4];

		if (xlb_addr_parse(json_string_value(json_object_get(e, "src")), k.src, &fam) ||
		    xlb_addr_parse(json_string_value(json_object_get(e, "dst")), d, &k.family))
			return -EINVAL;
		memcpy(k.dst, d, sizeof(k.dst));
		k.sport = htons((__u16)json_integer_value(json_object_get(e, "sport")));
		k.dport = htons((__u16)json_integer_value(json_object_get(e, "dport")));
		k.proto = (__u8)json_integer_value(json_object_get(e, "proto"));
		f.backend_id = (__u32)json_integer_value(json_object_get(e, "backend"));
		f.vip_id = (__u32)json_integer_value(json_object_get(e, "vip"));
		if (bpf_map_update_elem(xlb_map_fd(x, XLB_STR(XLB_MAP_CONNTRACK)), &k, &f, BPF_ANY))
			return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *root = NULL, *c;
	size_t i;
	int err, prog_fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURES.json\n", argv[0]);
		return 2;
	}
	for (i = 0; i < MAX_IDS && i < 16; i++) {
		vip_ids[nvip_ids++] = (int)i;
		be_ids[nbe_ids++] = (int)i;
	}
	root = json_load_file(argv[1], 0, &jerr);
	if (!root) {
		fprintf(stderr, "%s:%d: %s\n", argv[1], jerr.line, jerr.text);
		xt_failed++;
		goto out;
	}
	err = xt_private_netns();
	if (!err)
		err = xt_pin_cpu();
	if (!err)
		err = xt_load(&x, (__u32)json_integer_value(json_object_get(root, "seed")), 4096);
	if (!err)
		err = setup(root);
	if (err) {
		fprintf(stderr, "setup failed: %s\n", strerror(-err));
		xt_failed++;
		goto out;
	}
	prog_fd = xlb_prog_fd(x);
	json_array_foreach(json_object_get(root, "cases"), i, c) {
		char name[160];

		snprintf(name, sizeof(name), "%s: %s",
			 json_string_value(json_object_get(c, "name")),
			 json_string_value(json_object_get(c, "desc")));
		xt_report(name, run_case(c, prog_fd));
	}
out:
	json_decref(root);
	xlb_close(x);
	return xt_summary("prog");
}
