// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The daemon's balancer core (user/lb.c) against the real data plane:
 * apply a whole configuration, re-apply it without rewriting a ring,
 * remove and drain backends without moving other flows, adopt what an
 * earlier instance left pinned without republishing, and remove a VIP.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include "config.h"
#include "addr.h"
#include "lb.h"
#include "api.h"
#include "harness.h"
#include "hcmgr.h"
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

static char pin_root[64];
static struct xlb_lb *lb;

static const char *cfg_fmt =
	"{\"version\": 1, \"interfaces\": [{\"name\": \"lo\"}], \"pin_root\": \"%s\","
	" \"hash_seed\": 7,"
	" \"limits\": {\"max_vips\": 16, \"max_backends\": 64, \"conntrack\": 65536},"
	" \"next_hop\": {\"static\": {\"ifname\": \"%s\", \"dmac\": \"02:00:00:00:00:aa\","
	"   \"smac\": \"02:00:00:00:00:bb\"}, \"skip_fib\": true},"
	" \"vips\": [%s]}";

static int load_cfg(const char *vips, const char *nh_if, struct xlb_cfg **cfg)
{
	char text[4096], err[XLB_CFG_ERRLEN];
	int ret;

	snprintf(text, sizeof(text), cfg_fmt, pin_root, nh_if, vips);
	ret = xlb_config_parse(text, strlen(text), cfg, err, sizeof(err));
	if (ret)
		fprintf(stderr, "    config: %s\n", err);
	return ret;
}

static int apply(const char *vips)
{
	struct xlb_cfg *cfg = NULL;
	char err[256] = "";
	int ret;

	ret = load_cfg(vips, "lo", &cfg);
	if (!ret)
		ret = xlb_lb_apply(lb, cfg, err, sizeof(err));
	if (ret)
		fprintf(stderr, "    apply: %s (%s)\n", err, strerror(-ret));
	xlb_config_free(cfg);
	return ret;
}

struct frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

/* Send a TCP frame to 10.0.0.1:80; returns the last octet of the outer
 * destination (the backend 10.1.0.N), 0 if not sent, -1 if passed. */
static int send_tcp(__u32 saddr, __u16 sport, bool syn)
{
	unsigned char out[256];
	__u32 out_len = sizeof(out), retval;
	struct frame f = {};

	f.eth.h_proto = htons(ETH_P_IP);
	f.ip.version = 4;
	f.ip.ihl = 5;
	f.ip.ttl = 64;
	f.ip.protocol = IPPROTO_TCP;
	f.ip.tot_len = htons(sizeof(f.ip) + sizeof(f.tcp));
	f.ip.saddr = saddr;
	f.ip.daddr = htonl(0x0a000001);
	f.tcp.source = htons(sport);
	f.tcp.dest = htons(80);
	f.tcp.doff = 5;
	f.tcp.syn = syn;
	f.tcp.ack = !syn;
	if (xt_run(xlb_prog_fd(lb->x), &f, sizeof(f), out, &out_len, &retval))
		return 0;
	if (retval == XDP_PASS)
		return -1;
	if (retval != XDP_TX || out_len != sizeof(f) + 20)
		return 0;
	return out[14 + 19];
}

static __u32 inner_ring_id(__u32 vip_id)
{
	__u32 id = 0;

	bpf_map_lookup_elem(xlb_map_fd(lb->x, XLB_STR(XLB_MAP_RINGS)), &vip_id, &id);
	return id;
}

#define VIP1(backends) "{\"vip\": \"10.0.0.1:80/tcp\", \"ring_size\": 4093, \"backends\": [" backends "]}"
#define VIP6 "{\"vip\": \"[2001:db8::1]:53/udp\", \"backends\": [{\"address\": \"fc00::1\"}]}"
#define B1 "{\"address\": \"10.1.0.1\", \"weight\": 100}"
#define B2 "{\"address\": \"10.1.0.2\", \"weight\": 100}"
#define B3 "{\"address\": \"10.1.0.3\", \"weight\": 200}"
#define B3D "{\"address\": \"10.1.0.3\", \"weight\": 200, \"state\": \"drain\"}"

#define NFLOWS 2000

static int est[NFLOWS];

static bool test_lb(void)
{
	struct xlb_cfg *cfg = NULL;
	struct xlb_lb_vip *v;
	struct xlb_vip_key k;
	char err[256] = "";
	int cnt[8] = { 0 }, i, b, moved = 0;
	__u32 ring_id, vid;

	XT_ASSERT(!apply(VIP1(B1 "," B2 "," B3) "," VIP6), "first apply");
	XT_ASSERT(!xlb_vip_key_parse("10.0.0.1:80/tcp", &k, NULL), "key");
	v = xlb_lb_vip_find(lb, &k);
	XT_ASSERT(v && v->n_backends == 3, "VIP with 3 backends");
	vid = v->id;
	for (i = 0; i < NFLOWS; i++) {
		est[i] = send_tcp(htonl(0xc0000000 | (__u32)i), 1000, true);
		XT_ASSERT(est[i] >= 1 && est[i] <= 3, "flow %d went to %d", i, est[i]);
		cnt[est[i]]++;
	}
	printf("    spread over weights 1:1:2: %d %d %d\n", cnt[1], cnt[2], cnt[3]);
	XT_ASSERT(cnt[3] > cnt[1] * 3 / 2 && cnt[3] > cnt[2] * 3 / 2, "weight 200 not honoured");

	/* The same configuration again: no ring is rewritten. */
	ring_id = inner_ring_id(vid);
	XT_ASSERT(!apply(VIP1(B1 "," B2 "," B3) "," VIP6), "re-apply");
	XT_ASSERT_EQ(inner_ring_id(vid), ring_id);

	/* Remove 10.1.0.2: flows elsewhere stay, its flows are re-chosen. */
	XT_ASSERT(!apply(VIP1(B1 "," B3) "," VIP6), "remove a backend");
	XT_ASSERT(inner_ring_id(vid) != ring_id, "ring not republished");
	for (i = 0; i < NFLOWS; i++) {
		b = send_tcp(htonl(0xc0000000 | (__u32)i), 1000, false);
		if (est[i] != 2 && b != est[i])
			moved++;
		XT_ASSERT(b == 1 || b == 3, "flow %d went to %d after removal", i, b);
		est[i] = b;
	}
	XT_ASSERT_EQ(moved, 0);
	for (i = 0; i < 200; i++)
		XT_ASSERT(send_tcp(htonl(0xc1000000 | (__u32)i), 2000, true) != 2, "new flow on removed");

	/* Drain 10.1.0.3: no new flows, established ones stay. */
	XT_ASSERT(!apply(VIP1(B1 "," B3D) "," VIP6), "drain");
	for (i = 0; i < 200; i++)
		XT_ASSERT_EQ(send_tcp(htonl(0xc2000000 | (__u32)i), 3000, true), 1);
	for (i = 0; i < NFLOWS; i++)
		XT_ASSERT(send_tcp(htonl(0xc0000000 | (__u32)i), 1000, false) == est[i],
			  "established flow %d moved on drain", i);

	/* A restarted daemon adopts everything and rewrites nothing. */
	ring_id = inner_ring_id(vid);
	xlb_lb_close(lb);
	lb = NULL;
	XT_ASSERT(!load_cfg(VIP1(B1 "," B3D) "," VIP6, "lo", &cfg), "config");
	XT_ASSERT(!xlb_lb_open(cfg, &lb), "reopen");
	XT_ASSERT(lb->adopted, "nothing adopted");
	v = xlb_lb_vip_find(lb, &k);
	XT_ASSERT(v && v->id == vid && v->n_backends == 2, "VIP not adopted with its id");
	XT_ASSERT_EQ(inner_ring_id(vid), ring_id);
	XT_ASSERT(!xlb_lb_apply(lb, cfg, err, sizeof(err)), "apply after adopt: %s", err);
	xlb_config_free(cfg);
	cfg = NULL;
	XT_ASSERT_EQ(inner_ring_id(vid), ring_id);
	for (i = 0; i < NFLOWS; i += 7)
		XT_ASSERT(send_tcp(htonl(0xc0000000 | (__u32)i), 1000, false) == est[i],
			  "flow %d moved across the restart", i);

	/* A configuration the data plane cannot take changes nothing. */
	XT_ASSERT(!load_cfg(VIP1(B1) "," VIP6, "nosuchdev0", &cfg), "config");
	XT_ASSERT(xlb_lb_apply(lb, cfg, err, sizeof(err)) == -ENODEV, "bad next hop accepted");
	xlb_config_free(cfg);
	XT_ASSERT(strstr(err, "nosuchdev0") != NULL, "message '%s' does not name the device", err);
	XT_ASSERT_EQ(inner_ring_id(vid), ring_id);

	/* Remove the VIP: its traffic goes to the kernel. */
	XT_ASSERT(!apply(VIP6), "remove VIP");
	XT_ASSERT_EQ(send_tcp(htonl(0xc0000001), 1000, false), -1);
	XT_ASSERT(!xlb_lb_vip_find(lb, &k), "VIP still held");
	XT_ASSERT_EQ(inner_ring_id(vid), 0);
	return true;
}

/* A restart while a backend is down resumes the same anchor: once the
 * backend is back, the ring is the anchor again, byte for byte, as on a
 * host that never restarted (docs/maglev.md). */
static bool test_health_restart(void)
{
	struct xlb_ring_info i0, i1, info;
	struct xlb_cfg *cfg = NULL;
	struct xlb_lb_vip *v;
	struct xlb_vip_key k;
	__u32 b2[4] = { htonl(0x0a010002), 0, 0, 0 }, ring_id;
	char err[256] = "";
	int i;

	XT_ASSERT(lb != NULL, "no balancer");
	XT_ASSERT(!load_cfg(VIP1(B1 "," B2 "," B3), "lo", &cfg), "config");
	XT_ASSERT(!xlb_lb_apply(lb, cfg, err, sizeof(err)), "apply: %s", err);
	XT_ASSERT(!xlb_vip_key_parse("10.0.0.1:80/tcp", &k, NULL), "key");
	v = xlb_lb_vip_find(lb, &k);
	XT_ASSERT(v && !xlb_vip_ring_info(&v->ring, &i0), "ring info");

	XT_ASSERT(!xlb_lb_set_health(lb, &k, b2, XLB_AF_INET, true), "mark down");
	XT_ASSERT(!xlb_vip_ring_info(&v->ring, &i1), "ring info");
	XT_ASSERT_EQ(i1.anchor_checksum, i0.anchor_checksum);
	XT_ASSERT(i1.live_checksum != i0.live_checksum, "live ring kept a down backend");
	for (i = 0; i < 300; i++)
		XT_ASSERT(send_tcp(htonl(0xc4000000 | (__u32)i), 4000, true) != 2,
			  "new flow sent to a down backend");

	/* Restart while 10.1.0.2 is down. */
	ring_id = inner_ring_id(v->id);
	xlb_lb_close(lb);
	lb = NULL;
	XT_ASSERT(!xlb_lb_open(cfg, &lb), "reopen");
	XT_ASSERT(!xlb_lb_apply(lb, cfg, err, sizeof(err)), "apply after restart: %s", err);
	xlb_config_free(cfg);
	v = xlb_lb_vip_find(lb, &k);
	XT_ASSERT(v && !xlb_vip_ring_info(&v->ring, &info), "ring info after restart");
	XT_ASSERT_EQ(info.anchor_checksum, i0.anchor_checksum);
	XT_ASSERT_EQ(info.live_checksum, i1.live_checksum);
	XT_ASSERT_EQ(inner_ring_id(v->id), ring_id);

	/* Back up: the live ring is the anchor again. */
	XT_ASSERT(!xlb_lb_set_health(lb, &k, b2, XLB_AF_INET, false), "mark up");
	XT_ASSERT(!xlb_vip_ring_info(&v->ring, &info), "ring info");
	XT_ASSERT_EQ(info.live_checksum, i0.live_checksum);
	return true;
}

static char state_path[128];

/* Send one request; returns the reply's "ok" and keeps the reply in *out. */
static bool call(struct xlb_api *a, const char *text, json_t **out)
{
	json_t *req = json_loads(text, 0, NULL), *reply = NULL;
	bool ok;

	if (!req) {
		fprintf(stderr, "    bad test request %s\n", text);
		return false;
	}
	xlb_api_handle(a, req, &reply);
	json_decref(req);
	ok = json_is_true(json_object_get(reply, "ok"));
	if (out)
		*out = reply;
	else
		json_decref(reply);
	return ok;
}

static bool reply_says(json_t *reply, const char *what)
{
	const char *e = json_string_value(json_object_get(reply, "error"));
	bool ok = e && strstr(e, what);

	if (!ok)
		fprintf(stderr, "    reply error '%s' lacks '%s'\n", e ? e : "(none)", what);
	json_decref(reply);
	return ok;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &n, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static bool api(struct xlb_api *a)
{
	char *before, *after;
	json_t *r;
	struct xlb_cfg *saved = NULL;
	char err[256];
	const char *sum;

	XT_ASSERT(call(a, "{\"cmd\":\"vip.add\",\"vip\":\"10.0.0.1:80/tcp\",\"ring_size\":251}", NULL),
		  "vip.add");
	XT_ASSERT(call(a, "{\"cmd\":\"backend.add\",\"vip\":\"10.0.0.1:80/tcp\",\"address\":\"10.1.0.1\"}",
		       NULL), "backend.add 1");
	XT_ASSERT(call(a, "{\"cmd\":\"backend.add\",\"vip\":\"10.0.0.1:80/tcp\",\"address\":\"10.1.0.2\","
			  "\"weight\":300}", NULL), "backend.add 2");
	XT_ASSERT(send_tcp(htonl(0xc3000001), 1, true) > 0, "VIP added through the API forwards");

	/* The state file holds exactly the accepted state, and reproduces it. */
	before = read_file(state_path);
	XT_ASSERT(before != NULL, "no state file at %s", state_path);
	XT_ASSERT(strstr(before, "10.1.0.2") && strstr(before, "300"), "state file lacks the change");
	XT_ASSERT(!xlb_config_parse(before, strlen(before), &saved, err, sizeof(err)),
		  "state file does not parse: %s", err);
	XT_ASSERT(xlb_config_equal(saved, a->cfg), "state file differs from the accepted state");
	xlb_config_free(saved);

	/* Rejected changes: each names the problem, and nothing changes. */
	XT_ASSERT(!call(a, "{\"cmd\":\"backend.add\",\"vip\":\"10.0.0.1:80/tcp\",\"address\":\"10.1.0.1\"}",
			&r), "duplicate backend accepted");
	XT_ASSERT(reply_says(r, "already in vip"), "duplicate");
	XT_ASSERT(!call(a, "{\"cmd\":\"backend.add\",\"vip\":\"10.9.9.9:80/tcp\",\"address\":\"10.1.0.3\"}",
			&r), "unknown VIP accepted");
	XT_ASSERT(reply_says(r, "no such VIP"), "unknown VIP");
	XT_ASSERT(!call(a, "{\"cmd\":\"backend.set\",\"vip\":\"10.0.0.1:80/tcp\",\"address\":\"10.1.0.1\","
			  "\"weight\":70000}", &r), "weight 70000 accepted");
	XT_ASSERT(reply_says(r, "weight"), "weight range");
	XT_ASSERT(!call(a, "{\"cmd\":\"vip.add\",\"vip\":\"10.0.0.1:99999/tcp\"}", &r), "bad port");
	XT_ASSERT(reply_says(r, "port"), "port");
	XT_ASSERT(!call(a, "{\"cmd\":\"vip.add\",\"vip\":\"10.0.0.7:80/tcp\",\"ring_size\":1000}", &r),
		  "non-prime ring accepted");
	XT_ASSERT(reply_says(r, "ring_size"), "ring size");
	XT_ASSERT(!call(a, "{\"cmd\":\"frobnicate\"}", &r), "unknown command accepted");
	XT_ASSERT(reply_says(r, "unknown command"), "unknown command");
	XT_ASSERT(!call(a, "{\"cmd\":\"vip.del\",\"vip\":\"10.0.0.1:80/tcp\",\"force\":1}", &r),
		  "unknown argument accepted");
	XT_ASSERT(reply_says(r, "force"), "unknown argument");
	after = read_file(state_path);
	XT_ASSERT(after && !strcmp(before, after), "a rejected change touched the state file");
	free(after);
	free(before);

	/* Drain and weight changes go through; maglev.show reports them. */
	XT_ASSERT(call(a, "{\"cmd\":\"backend.drain\",\"vip\":\"10.0.0.1:80/tcp\",\"address\":\"10.1.0.2\"}",
		       NULL), "drain");
	XT_ASSERT(call(a, "{\"cmd\":\"maglev.show\",\"vip\":\"10.0.0.1:80/tcp\"}", &r), "maglev.show");
	sum = json_string_value(json_object_get(r, "checksum"));
	XT_ASSERT(sum && strlen(sum) == 16, "checksum");
	XT_ASSERT_EQ(json_integer_value(json_object_get(json_array_get(json_object_get(r, "backends"), 0),
							"slots")) +
			     json_integer_value(json_object_get(json_array_get(json_object_get(r, "backends"), 1),
								"slots")),
		     251);
	json_decref(r);
	XT_ASSERT(call(a, "{\"cmd\":\"stats\"}", &r), "stats");
	XT_ASSERT(json_integer_value(json_object_get(json_object_get(r, "verdicts"), "tx")) > 0, "tx");
	json_decref(r);
	XT_ASSERT(call(a, "{\"cmd\":\"vip.del\",\"vip\":\"10.0.0.1:80/tcp\"}", NULL), "vip.del");
	XT_ASSERT_EQ(send_tcp(htonl(0xc3000001), 1, true), -1);
	return true;
}

static bool test_api(void)
{
	struct xlb_api a = { .lb = lb, .state_path = state_path };
	bool ok;

	snprintf(state_path, sizeof(state_path), "/tmp/xlbtest-state-%d.json", (int)getpid());
	if (!lb || load_cfg("", "lo", &a.cfg))
		return false;
	ok = api(&a);
	xlb_config_free(a.cfg);
	unlink(state_path);
	return ok;
}

/* The VIP's config object in the accepted state, from config.dump. */
static json_t *cfg_vip(struct xlb_api *a, const char *vip)
{
	json_t *r = NULL, *v, *out = NULL;
	size_t i;

	if (!call(a, "{\"cmd\":\"config.dump\"}", &r)) {
		json_decref(r);
		return NULL;
	}
	json_array_foreach(json_object_get(json_object_get(r, "config"), "vips"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "vip")) ?: "", vip))
			out = json_incref(v);
	json_decref(r);
	return out;
}

static long long hc_int(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(json_object_get(o, "health"), k));
}

static const char *hc_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(json_object_get(o, "health"), k));
}

/* vip.set and the backend's health override: whole, partial, removed. */
static bool api_health(struct xlb_api *a)
{
	const char *V = "10.0.0.2:80/tcp";
	json_t *r, *v, *b;

	XT_ASSERT(call(a, "{\"cmd\":\"vip.add\",\"vip\":\"10.0.0.2:80/tcp\",\"health\":"
			  "{\"type\":\"http\",\"path\":\"/h\"},\"all_down\":\"fail-open\"}", NULL),
		  "vip.add with health");
	XT_ASSERT(call(a, "{\"cmd\":\"backend.add\",\"vip\":\"10.0.0.2:80/tcp\",\"address\":"
			  "\"10.1.0.1\",\"health\":{\"port\":8080}}", NULL), "backend.add override");
	v = cfg_vip(a, V);
	XT_ASSERT(v && !strcmp(hc_str(v, "path") ?: "", "/h"), "health path");
	XT_ASSERT(!strcmp(json_string_value(json_object_get(v, "all_down")) ?: "", "fail-open"),
		  "all_down");
	b = json_array_get(json_object_get(v, "backends"), 0);
	XT_ASSERT_EQ(hc_int(b, "port"), 8080);
	json_decref(v);

	/* A partial edit keeps the other keys. */
	XT_ASSERT(call(a, "{\"cmd\":\"vip.set\",\"vip\":\"10.0.0.2:80/tcp\",\"health_update\":"
			  "{\"interval_ms\":200},\"dead_backend\":\"drop\",\"ring_size\":251}", NULL),
		  "vip.set partial");
	v = cfg_vip(a, V);
	XT_ASSERT(v && hc_int(v, "interval_ms") == 200 && hc_int(v, "timeout_ms") == 200,
		  "interval and timeout after the partial edit");
	XT_ASSERT(!strcmp(hc_str(v, "path") ?: "", "/h"), "path kept");
	XT_ASSERT_EQ(json_integer_value(json_object_get(v, "ring_size")), 251);
	XT_ASSERT(!strcmp(json_string_value(json_object_get(v, "dead_backend")) ?: "", "drop"),
		  "dead_backend");
	json_decref(v);
	XT_ASSERT(call(a, "{\"cmd\":\"vip.set\",\"vip\":\"10.0.0.2:80/tcp\",\"health_update\":"
			  "{\"type\":\"tcp\"}}", NULL), "vip.set type change");
	v = cfg_vip(a, V);
	XT_ASSERT(v && !strcmp(hc_str(v, "type") ?: "", "tcp") && !hc_str(v, "path") &&
		  hc_int(v, "interval_ms") == 200, "http keys dropped, interval kept");
	json_decref(v);

	/* Rejected: semantic errors name the key; nothing changes. */
	XT_ASSERT(!call(a, "{\"cmd\":\"vip.set\",\"vip\":\"10.0.0.2:80/tcp\",\"health_update\":"
			   "{\"path\":\"/x\"}}", &r), "path on tcp accepted");
	XT_ASSERT(reply_says(r, "health.path: only for http and https checks"), "path on tcp");
	XT_ASSERT(!call(a, "{\"cmd\":\"vip.set\",\"vip\":\"10.0.0.2:80/tcp\"}", &r),
		  "empty vip.set accepted");
	XT_ASSERT(reply_says(r, "nothing to change"), "empty vip.set");
	XT_ASSERT(!call(a, "{\"cmd\":\"vip.set\",\"vip\":\"10.0.0.9:80/tcp\",\"slow_start_s\":1}",
			&r), "vip.set on an unknown VIP accepted");
	XT_ASSERT(reply_says(r, "no such VIP"), "vip.set unknown VIP");
	XT_ASSERT(!call(a, "{\"cmd\":\"vip.set\",\"vip\":\"10.0.0.2:80/tcp\",\"backends\":[]}",
			&r), "vip.set backends accepted");
	XT_ASSERT(reply_says(r, "unknown argument 'backends'"), "vip.set backends");

	/* Backend override: edit, then remove. */
	XT_ASSERT(call(a, "{\"cmd\":\"backend.set\",\"vip\":\"10.0.0.2:80/tcp\",\"address\":"
			  "\"10.1.0.1\",\"health_update\":{\"rise\":5}}", NULL), "backend.set partial");
	v = cfg_vip(a, V);
	b = json_array_get(json_object_get(v, "backends"), 0);
	XT_ASSERT(hc_int(b, "port") == 8080 && hc_int(b, "rise") == 5 &&
		  json_object_size(json_object_get(b, "health")) == 2, "override merged");
	json_decref(v);
	XT_ASSERT(call(a, "{\"cmd\":\"backend.set\",\"vip\":\"10.0.0.2:80/tcp\",\"address\":"
			  "\"10.1.0.1\",\"health\":null,\"weight\":7}", NULL), "backend.set remove");
	v = cfg_vip(a, V);
	b = json_array_get(json_object_get(v, "backends"), 0);
	XT_ASSERT(!json_object_get(b, "health") && json_integer_value(json_object_get(b, "weight")) == 7,
		  "override removed, weight set");
	json_decref(v);
	XT_ASSERT(!call(a, "{\"cmd\":\"backend.set\",\"vip\":\"10.0.0.2:80/tcp\",\"address\":"
			   "\"10.1.0.1\"}", &r), "empty backend.set accepted");
	XT_ASSERT(reply_says(r, "expected at least one"), "empty backend.set");
	/* "health": null resets the VIP to no checks. */
	XT_ASSERT(call(a, "{\"cmd\":\"vip.set\",\"vip\":\"10.0.0.2:80/tcp\",\"health\":null}",
		       NULL), "vip.set health null");
	v = cfg_vip(a, V);
	XT_ASSERT(v && !strcmp(hc_str(v, "type") ?: "", "none") &&
		  json_object_size(json_object_get(v, "health")) == 1, "reset to none");
	json_decref(v);
	XT_ASSERT(call(a, "{\"cmd\":\"vip.del\",\"vip\":\"10.0.0.2:80/tcp\"}", NULL), "vip.del");
	return true;
}

static bool test_api_health(void)
{
	struct xlb_api a = { .lb = lb, .state_path = state_path };
	bool ok;

	snprintf(state_path, sizeof(state_path), "/tmp/xlbtest-state-%d.json", (int)getpid());
	if (!lb || load_cfg("", "lo", &a.cfg))
		return false;
	ok = api_health(&a);
	xlb_config_free(a.cfg);
	unlink(state_path);
	return ok;
}

/* ------------------------------------------------------- health manager */

static int hm_listen(int i)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7001) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	a.sin_addr.s_addr = htonl(0x7f000001 + (__u32)i);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 && (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int hm_fds[3];

/* How many ring slots name backend @idx of the VIP (-1: any backend). */
static __u32 hm_slots(const struct xlb_lb_vip *v, int idx)
{
	__u32 *ring = NULL, m = 0, s, n = 0;

	if (xlb_ring_read(lb->x, v->id, &ring, &m))
		return 0;
	for (s = 0; s < m; s++)
		n += idx < 0 ? ring[s] != 0 : ring[s] == v->backends[idx].id;
	free(ring);
	return n;
}

/* Run the manager (accepting probe connections) until @done or @ms pass. */
static bool hm_pump(struct xlb_hm *hm, int ms, bool (*done)(const struct xlb_lb_vip *),
		    const struct xlb_lb_vip *v)
{
	struct timespec t0, t;
	int i, c;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		usleep(2000);
		xlb_hm_dispatch(hm);
		for (i = 0; i < 3; i++)
			while (hm_fds[i] >= 0 && (c = accept(hm_fds[i], NULL, NULL)) >= 0)
				close(c);
		if (done && done(v))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
	return false;
}

static bool all_up(const struct xlb_lb_vip *v)
{
	return v->backends[0].hstate == XLB_BS_UP && v->backends[1].hstate == XLB_BS_UP &&
	       v->backends[2].hstate == XLB_BS_UP;
}

static bool first_down(const struct xlb_lb_vip *v)
{
	return v->backends[0].hstate == XLB_BS_DOWN;
}

static bool first_ramping(const struct xlb_lb_vip *v)
{
	return v->backends[0].hstate == XLB_BS_SLOW_START;
}

static bool first_up(const struct xlb_lb_vip *v)
{
	return v->backends[0].hstate == XLB_BS_UP;
}

static bool failing_open(const struct xlb_lb_vip *v)
{
	return v->fail_open;
}

/*
 * The health manager on the real data plane and real probes: a closed
 * listener takes its backend out of the live ring and flags it; back, it
 * ramps through slow start; with every backend down, fail-open keeps the
 * ring whole and flags nothing.
 */
static bool test_health_manager(void)
{
	const char *vip = "{\"vip\": \"10.0.0.3:7001/tcp\", \"slow_start_s\": 1,"
			  " \"all_down\": \"fail-open\", \"health\": {\"type\": \"tcp\","
			  " \"interval_ms\": 40, \"timeout_ms\": 30, \"rise\": 1, \"fall\": 1},"
			  " \"backends\": [{\"address\": \"127.0.0.1\"}, {\"address\": \"127.0.0.2\"},"
			  " {\"address\": \"127.0.0.3\"}]}";
	struct xlb_vip_key k;
	struct xlb_cfg *cfg = NULL;
	struct xlb_hm *hm = NULL;
	struct xlb_lb_vip *v;
	struct xlb_backend be;
	__u16 w, seen[8];
	int i, n = 0;
	bool ok = false;

	XT_ASSERT(!system("ip link set dev lo up"), "lo up");
	for (i = 0; i < 3; i++)
		hm_fds[i] = hm_listen(i);
	XT_ASSERT(hm_fds[0] >= 0 && hm_fds[1] >= 0 && hm_fds[2] >= 0, "listeners");
	if (load_cfg(vip, "lo", &cfg) || xlb_lb_apply(lb, cfg, NULL, 0) ||
	    xlb_hm_open(lb, &hm) || xlb_hm_sync(hm, cfg)) {
		XT_FAIL("setup");
		goto out;
	}
	XT_ASSERT(!xlb_vip_key_parse("10.0.0.3:7001/tcp", &k, NULL), "key");
	v = xlb_lb_vip_find(lb, &k);
	XT_ASSERT(v && v->n_backends == 3, "VIP");
	XT_ASSERT(v->backends[0].hstate == XLB_BS_UNKNOWN, "unknown before the first result");
	XT_ASSERT(hm_pump(hm, 3000, all_up, v), "all up after the first round");
	XT_ASSERT_EQ(hm_slots(v, -1), v->ring.m);

	close(hm_fds[0]);
	hm_fds[0] = -1;
	XT_ASSERT(hm_pump(hm, 3000, first_down, v), "closed listener: down");
	hm_pump(hm, 60, NULL, v);	/* past the debounce */
	XT_ASSERT_EQ(hm_slots(v, 0), 0);
	XT_ASSERT_EQ(hm_slots(v, -1), v->ring.m);
	XT_ASSERT(!xlb_backend_get(lb->x, v->backends[0].id, &be) &&
		  (be.flags & XLB_BE_F_UNUSABLE), "down backend flagged unusable");
	XT_ASSERT_EQ(v->backends[0].eff_weight, 0);

	hm_fds[0] = hm_listen(0);
	XT_ASSERT(hm_pump(hm, 3000, first_ramping, v), "back: slow start");
	hm_pump(hm, 40, NULL, v);	/* past the debounce */
	XT_ASSERT(!xlb_backend_get(lb->x, v->backends[0].id, &be) &&
		  !(be.flags & XLB_BE_F_UNUSABLE), "unflagged when back");
	/* 10, 25, 50, 75% then all of it, each step a quarter of 1 s. */
	while (!first_up(v) && n < 8) {
		w = v->backends[0].eff_weight;
		if (!n || seen[n - 1] != w)
			seen[n++] = w;
		hm_pump(hm, 20, first_up, v);
	}
	XT_ASSERT(first_up(v), "slow start over");
	hm_pump(hm, 40, NULL, v);	/* past the debounce */
	XT_ASSERT(n >= 3 && seen[0] == 10, "ramp started at 10%% (saw %d steps, first %u)", n,
		  n ? seen[0] : 0);
	for (i = 1; i < n; i++)
		XT_ASSERT(seen[i] > seen[i - 1], "ramp step %d not up: %u after %u", i, seen[i],
			  seen[i - 1]);
	XT_ASSERT_EQ(v->backends[0].eff_weight, 100);
	XT_ASSERT(v->backends[0].transitions >= 3, "transitions counted");

	for (i = 0; i < 3; i++) {
		close(hm_fds[i]);
		hm_fds[i] = -1;
	}
	XT_ASSERT(hm_pump(hm, 3000, failing_open, v), "all down: fail open");
	hm_pump(hm, 60, NULL, v);
	for (i = 0; i < 3; i++) {
		XT_ASSERT(v->backends[i].hstate == XLB_BS_DOWN, "backend %d down", i);
		XT_ASSERT(hm_slots(v, i) > 0, "fail-open ring names backend %d", i);
		XT_ASSERT(!xlb_backend_get(lb->x, v->backends[i].id, &be) &&
			  !(be.flags & XLB_BE_F_UNUSABLE), "fail-open flags nothing (%d)", i);
	}
	ok = true;
out:
	for (i = 0; i < 3; i++)
		if (hm_fds[i] >= 0)
			close(hm_fds[i]);
	xlb_hm_close(hm);
	xlb_config_free(cfg);
	return ok;
}

int main(void)
{
	struct xlb_cfg *cfg = NULL;
	int err;

	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/xlbtest-lb-%d", (int)getpid());
	err = xt_private_netns();
	if (!err)
		err = xt_pin_cpu();
	if (!err)
		err = load_cfg("", "lo", &cfg);
	if (!err)
		err = xlb_lb_open(cfg, &lb);
	xlb_config_free(cfg);
	if (err) {
		fprintf(stderr, "setup failed: %s\n", strerror(-err));
		xt_failed++;
	} else {
		xt_report("apply, re-apply, remove, drain, adopt after restart, reject, remove VIP",
			  test_lb());
		xt_report("control API: changes validated, applied and persisted; rejects change nothing",
			  test_api());
		xt_report("restart while a backend is down keeps the anchor; recovery returns to it",
			  test_health_restart());
		xt_report("control API: vip.set and backend health overrides, whole and partial",
			  test_api_health());
		xt_report("health manager: down leaves the ring and is flagged, slow start ramps, all down fails open",
			  test_health_manager());
	}
	xlb_lb_close(lb);
	xlb_unpin_all(pin_root);
	return xt_summary("lb");
}
