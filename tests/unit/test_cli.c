// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of xlbctl's grammar (cmocka, no root): the exact request of
 * every command, prefixes and ambiguity, help at every level, one exact
 * message per invalid input, the global options, -batch line splitting,
 * and that docs/xlbctl.8.md holds the text generated from the table.
 * argv[1] overrides the path of the man page (relative to the repository
 * root); "--markdown" prints the generated section instead of testing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include "cli.h"

static const char *doc_path = "docs/xlbctl.8.md";

#define VIP	"10.0.0.1:80/tcp"
#define BE	"10.1.0.5"

/* Parse @line as the words after the global options. */
static int parse_line(const char *line, json_t **req, char *err, size_t errlen)
{
	char **argv;
	int argc, ret;

	assert_int_equal(xlb_cli_split_line(line, &argc, &argv), 0);
	err[0] = '\0';
	ret = xlb_cli_parse(argc, argv, req, err, errlen);
	free(argv);
	return ret;
}

static void ok(const char *line, const char *want_text)
{
	char err[XLB_CLI_ERRLEN];
	json_t *req = NULL, *want;
	char *got;
	int ret;

	ret = parse_line(line, &req, err, sizeof(err));
	if (ret)
		fail_msg("'%s': rejected (%d): %s", line, ret, err);
	want = json_loads(want_text, 0, NULL);
	assert_non_null(want);
	if (!json_equal(req, want)) {
		got = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
		fail_msg("'%s':\n got  %s\n want %s", line, got, want_text);
	}
	json_decref(want);
	json_decref(req);
}

static void bad(const char *line, const char *msg)
{
	char err[XLB_CLI_ERRLEN];
	json_t *req = (json_t *)1;
	int ret;

	ret = parse_line(line, &req, err, sizeof(err));
	if (ret != -EINVAL)
		fail_msg("'%s': got %d, expected -EINVAL", line, ret);
	assert_null(req);
	if (strcmp(err, msg))
		fail_msg("'%s':\n got  %s\n want %s", line, err, msg);
}

/* The help text @line prints; free() it. */
static char *help(const char *line)
{
	char err[XLB_CLI_ERRLEN];
	json_t *req = NULL;
	char *text;
	int ret;

	ret = parse_line(line, &req, err, sizeof(err));
	if (ret != XLB_CLI_HELP)
		fail_msg("'%s': got %d (%s), expected XLB_CLI_HELP", line, ret, err);
	assert_int_equal(json_object_size(req), 1);
	assert_true(json_is_string(json_object_get(req, "help")));
	text = strdup(json_string_value(json_object_get(req, "help")));
	json_decref(req);
	assert_non_null(text);
	return text;
}

static void has(const char *text, const char *what, const char *line)
{
	if (!strstr(text, what))
		fail_msg("help of '%s' lacks '%s':\n%s", line, what, text);
}

static void lacks(const char *text, const char *what, const char *line)
{
	if (strstr(text, what))
		fail_msg("help of '%s' has '%s':\n%s", line, what, text);
}

static void test_vip_commands(void **state)
{
	(void)state;
	ok("vip add " VIP, "{\"cmd\":\"vip.add\",\"vip\":\"" VIP "\"}");
	ok("vip add " VIP " ring-size 4093 hash src conntrack off encap ipip",
	   "{\"cmd\":\"vip.add\",\"vip\":\"" VIP "\",\"ring_size\":4093,\"hash\":\"src\","
	   "\"conntrack\":false,\"encap\":\"ipip\"}");
	ok("vip add " VIP " conntrack on hash 5tuple ring-size 1048573",
	   "{\"cmd\":\"vip.add\",\"vip\":\"" VIP "\",\"ring_size\":1048573,\"hash\":\"5tuple\","
	   "\"conntrack\":true}");
	/* Canonical forms: lower-case compressed IPv6, explicit port 0. */
	ok("vip add [2001:DB8:0::1]:443/udp",
	   "{\"cmd\":\"vip.add\",\"vip\":\"[2001:db8::1]:443/udp\"}");
	ok("vip add 10.0.0.1/udp", "{\"cmd\":\"vip.add\",\"vip\":\"10.0.0.1:0/udp\"}");
	ok("vip del " VIP, "{\"cmd\":\"vip.del\",\"vip\":\"" VIP "\"}");
	ok("vip show " VIP, "{\"cmd\":\"vip.show\",\"vip\":\"" VIP "\"}");
	ok("vip list", "{\"cmd\":\"vip.list\"}");
}

static void test_backend_commands(void **state)
{
	(void)state;
	ok("backend add " VIP " " BE " weight 10",
	   "{\"cmd\":\"backend.add\",\"vip\":\"" VIP "\",\"address\":\"" BE "\",\"weight\":10}");
	ok("backend add " VIP " " BE,
	   "{\"cmd\":\"backend.add\",\"vip\":\"" VIP "\",\"address\":\"" BE "\"}");
	ok("backend add [2001:db8::1]:80/tcp 2001:DB8:0:0::5 state drain weight 0",
	   "{\"cmd\":\"backend.add\",\"vip\":\"[2001:db8::1]:80/tcp\",\"address\":\"2001:db8::5\","
	   "\"state\":\"drain\",\"weight\":0}");
	ok("backend add " VIP " " BE " weight 65535 state up",
	   "{\"cmd\":\"backend.add\",\"vip\":\"" VIP "\",\"address\":\"" BE "\","
	   "\"weight\":65535,\"state\":\"up\"}");
	ok("backend del " VIP " " BE,
	   "{\"cmd\":\"backend.del\",\"vip\":\"" VIP "\",\"address\":\"" BE "\"}");
	ok("backend set " VIP " " BE " weight 7",
	   "{\"cmd\":\"backend.set\",\"vip\":\"" VIP "\",\"address\":\"" BE "\",\"weight\":7}");
	ok("backend drain " VIP " " BE,
	   "{\"cmd\":\"backend.drain\",\"vip\":\"" VIP "\",\"address\":\"" BE "\"}");
	ok("backend undrain " VIP " " BE,
	   "{\"cmd\":\"backend.undrain\",\"vip\":\"" VIP "\",\"address\":\"" BE "\"}");
	ok("backend list", "{\"cmd\":\"backend.list\"}");
	ok("backend list " VIP, "{\"cmd\":\"backend.list\",\"vip\":\"" VIP "\"}");
}

static void test_other_commands(void **state)
{
	(void)state;
	ok("stats", "{\"cmd\":\"stats\"}");
	ok("stats " VIP, "{\"cmd\":\"stats\",\"vip\":\"" VIP "\"}");
	ok("stats w 5", "{\"cmd\":\"stats\",\"watch\":5}");
	ok("maglev show " VIP, "{\"cmd\":\"maglev.show\",\"vip\":\"" VIP "\"}");
	ok("status", "{\"cmd\":\"status\"}");
	ok("config dump", "{\"cmd\":\"config.dump\"}");
	ok("config reload", "{\"cmd\":\"config.reload\"}");
	ok("detach", "{\"cmd\":\"detach\"}");
	ok("detach eth0", "{\"cmd\":\"detach\",\"interface\":\"eth0\"}");
	ok("detach veth-lb.100", "{\"cmd\":\"detach\",\"interface\":\"veth-lb.100\"}");
}

static void test_prefixes(void **state)
{
	(void)state;
	ok("v a " VIP, "{\"cmd\":\"vip.add\",\"vip\":\"" VIP "\"}");
	/* "r" could be ring-size or rise, "h" hash, health, health-port or host. */
	ok("v a " VIP " rin 7 ha 5tuple c on en ipip",
	   "{\"cmd\":\"vip.add\",\"vip\":\"" VIP "\",\"ring_size\":7,\"hash\":\"5tuple\","
	   "\"conntrack\":true,\"encap\":\"ipip\"}");
	ok("vi sh " VIP, "{\"cmd\":\"vip.show\",\"vip\":\"" VIP "\"}");
	ok("v l", "{\"cmd\":\"vip.list\"}");
	ok("b de " VIP " " BE,
	   "{\"cmd\":\"backend.del\",\"vip\":\"" VIP "\",\"address\":\"" BE "\"}");
	ok("b dr " VIP " " BE,
	   "{\"cmd\":\"backend.drain\",\"vip\":\"" VIP "\",\"address\":\"" BE "\"}");
	ok("back u " VIP " " BE,
	   "{\"cmd\":\"backend.undrain\",\"vip\":\"" VIP "\",\"address\":\"" BE "\"}");
	ok("b s " VIP " " BE " w 5",
	   "{\"cmd\":\"backend.set\",\"vip\":\"" VIP "\",\"address\":\"" BE "\",\"weight\":5}");
	ok("b a " VIP " " BE " we 1 st drain",
	   "{\"cmd\":\"backend.add\",\"vip\":\"" VIP "\",\"address\":\"" BE "\","
	   "\"weight\":1,\"state\":\"drain\"}");
	ok("b l", "{\"cmd\":\"backend.list\"}");
	ok("stats", "{\"cmd\":\"stats\"}");
	ok("statu", "{\"cmd\":\"status\"}");
	ok("m s " VIP, "{\"cmd\":\"maglev.show\",\"vip\":\"" VIP "\"}");
	ok("c d", "{\"cmd\":\"config.dump\"}");
	ok("co r", "{\"cmd\":\"config.reload\"}");
	ok("d lo", "{\"cmd\":\"detach\",\"interface\":\"lo\"}");
}

static void test_ambiguous(void **state)
{
	(void)state;
	bad("b d " VIP " " BE, "xlbctl: backend: 'd': ambiguous command: matches del, drain");
	bad("s", "xlbctl: 's': ambiguous object: matches stats, status");
	bad("stat", "xlbctl: 'stat': ambiguous object: matches stats, status");
	bad("help st", "xlbctl: help: 'st': ambiguous object: matches stats, status");
}

static const char *const top_lines[] = {
	"Usage: xlbctl [OPTIONS] OBJECT COMMAND [ARGS]",
	"xlbctl vip add VIP [ring-size M] [hash 5tuple|src] [conntrack on|off] [encap ipip]",
	"xlbctl backend add VIP ADDR [weight W] [state up|drain]",
	"xlbctl backend set VIP ADDR [weight W] [HEALTH-OPTIONS] [health-override clear]",
	"xlbctl vip set VIP [ring-size M] [hash 5tuple|src] [conntrack on|off] [encap ipip] "
	"[HEALTH-OPTIONS] [POLICY-OPTIONS]",
	"xlbctl backend list [VIP]",
	"xlbctl stats [VIP]",
	"xlbctl maglev show VIP",
	"xlbctl status",
	"xlbctl config reload",
	"xlbctl detach [IFACE]",
	"xlbctl help [OBJECT]",
	"-batch FILE",
	"--pin-root DIR",
	"Exit status: 0 ok, 1 a command failed, 2 usage error.",
};

static void test_help_top(void **state)
{
	static const char *const lines[] = { "help", "-h", "--help", "h", "he" };
	unsigned int i, j;
	char syn[256];

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char *t = help(lines[i]);

		for (j = 0; j < sizeof(top_lines) / sizeof(top_lines[0]); j++)
			has(t, top_lines[j], lines[i]);
		/* Every command of the table, whatever this list says. */
		for (j = 0; !xlb_cli_synopsis(j, syn, sizeof(syn)); j++)
			has(t, syn, lines[i]);
		assert_int_equal(j, 17);
		free(t);
	}
	/* help for help is the top-level help. */
	{
		char *t = help("help help");

		has(t, top_lines[0], "help help");
		free(t);
	}
}

struct level {
	const char *line;
	const char *want[4];
	const char *not;	/* a line of another object */
};

static void test_help_objects(void **state)
{
	static const struct level lv[] = {
		{ "vip help", { "Usage: xlbctl vip { add | set | del | list | show | help } [ARGS]",
				"xlbctl vip add VIP [ring-size M]", "xlbctl vip show VIP",
				"VIP    := ADDR:PORT/PROTO" }, "xlbctl backend" },
		{ "v -h", { "xlbctl vip del VIP", "xlbctl vip list" }, "xlbctl backend" },
		{ "help vip", { "xlbctl vip del VIP", "ring-size M" }, "xlbctl backend" },
		{ "backend help", { "xlbctl backend add VIP ADDR [weight W] [state up|drain]",
				    "xlbctl backend drain VIP ADDR", "xlbctl backend undrain VIP ADDR",
				    "W      := an integer 0..65535" }, "vip add" },
		{ "b --help", { "xlbctl backend del VIP ADDR", "xlbctl backend list [VIP]" },
		  "vip add" },
		{ "stats help", { "Usage: xlbctl stats [VIP]", "pinned maps" }, "xlbctl vip" },
		{ "maglev help", { "xlbctl maglev show VIP", "imbalance" }, "xlbctl vip" },
		{ "status help", { "Usage: xlbctl status", "conntrack fill" }, "VIP" },
		{ "config help", { "xlbctl config dump", "xlbctl config reload" }, "VIP" },
		{ "c h", { "xlbctl config dump", "xlbctl config reload" }, "VIP" },
		{ "detach help", { "Usage: xlbctl detach [IFACE]", "IFACE  := an interface name" },
		  "VIP" },
		{ "help detach", { "Usage: xlbctl detach [IFACE]" }, "VIP" },
		/* The command level. */
		{ "vip add help", { "Usage: xlbctl vip add VIP [ring-size M] [hash 5tuple|src]",
				    "ring-size M", "conntrack on|off", "M      := a prime 2..1048573" },
		  "vip del" },
		{ "backend set --help", { "Usage: xlbctl backend set VIP ADDR [weight W]",
					  "weight W", "health-override clear", "  HEALTH-OPTIONS:" },
		  "state" },
		{ "vip set help", { "Usage: xlbctl vip set VIP [ring-size M]",
				    "interval MS", "  POLICY-OPTIONS:", "LIST   := HTTP status codes" },
		  "xlbctl backend" },
		{ "b a -h", { "Usage: xlbctl backend add VIP ADDR [weight W] [state up|drain]",
			      "state up|drain" }, "backend del" },
		{ "maglev show help", { "Usage: xlbctl maglev show VIP" }, "xlbctl vip" },
		{ "config dump help", { "Usage: xlbctl config dump" }, "reload" },
	};
	unsigned int i, j;

	(void)state;
	for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		char *t = help(lv[i].line);

		for (j = 0; j < 4 && lv[i].want[j]; j++)
			has(t, lv[i].want[j], lv[i].line);
		lacks(t, lv[i].not, lv[i].line);
		free(t);
	}
	bad("vip help me", "xlbctl: vip help: unexpected argument 'me': expected nothing more");
	bad("vip add help me",
	    "xlbctl: vip add help: unexpected argument 'me': expected nothing more");
	bad("help vip add", "xlbctl: help: unexpected argument 'add': expected at most an OBJECT");
}

static void test_errors(void **state)
{
	static const struct {
		const char *line, *msg;
	} cases[] = {
		{ "backend add " VIP " " BE " weight 70000",
		  "xlbctl: backend add: weight '70000': expected an integer 0..65535" },
		{ "backend add " VIP " " BE " weight -1",
		  "xlbctl: backend add: weight '-1': expected an integer 0..65535" },
		{ "backend set " VIP " " BE " weight 0x10",
		  "xlbctl: backend set: weight '0x10': expected an integer 0..65535" },
		{ "backend set " VIP " " BE " weight 99999999999",
		  "xlbctl: backend set: weight '99999999999': expected an integer 0..65535" },
		{ "backend add " VIP " " BE " weight \"\"",
		  "xlbctl: backend add: weight '': expected an integer 0..65535" },
		{ "vip add 10.0.0.1:99999/tcp",
		  "xlbctl: vip add: VIP '10.0.0.1:99999/tcp': invalid port: expected 0-65535" },
		{ "vip add 10.0.0.1:80/sctp",
		  "xlbctl: vip add: VIP '10.0.0.1:80/sctp': unknown protocol: expected tcp or udp" },
		{ "vip del 10.0.0.256:80/tcp", "xlbctl: vip del: VIP '10.0.0.256:80/tcp': "
		  "invalid address: expected IPv4 or [IPv6]" },
		{ "vip show 10.0.0.1:80", "xlbctl: vip show: VIP '10.0.0.1:80': missing /tcp or "
		  "/udp: expected ADDR:PORT/PROTO" },
		{ "vip add 224.0.0.1:80/tcp", "xlbctl: vip add: VIP '224.0.0.1:80/tcp': not a "
		  "unicast address: expected ADDR:PORT/PROTO with a unicast ADDR" },
		{ "backend add " VIP " 10.1.0.999", "xlbctl: backend add: ADDR '10.1.0.999': "
		  "expected a unicast IPv4 or IPv6 address" },
		{ "backend del " VIP " 0.0.0.0", "xlbctl: backend del: ADDR '0.0.0.0': "
		  "expected a unicast IPv4 or IPv6 address" },
		{ "backend drain " VIP " [2001:db8::5]", "xlbctl: backend drain: ADDR "
		  "'[2001:db8::5]': expected a unicast IPv4 or IPv6 address" },
		{ "vip add " VIP " ring-size 100",
		  "xlbctl: vip add: ring-size '100': expected a prime 2..1048573" },
		{ "vip add " VIP " ring-size 1048583",
		  "xlbctl: vip add: ring-size '1048583': expected a prime 2..1048573" },
		{ "vip add " VIP " ring-size 1",
		  "xlbctl: vip add: ring-size '1': expected a prime 2..1048573" },
		{ "vip add " VIP " hash dst", "xlbctl: vip add: hash 'dst': expected 5tuple or src" },
		{ "vip add " VIP " hash s", "xlbctl: vip add: hash 's': expected 5tuple or src" },
		{ "vip add " VIP " conntrack yes",
		  "xlbctl: vip add: conntrack 'yes': expected on or off" },
		{ "vip add " VIP " encap gre", "xlbctl: vip add: encap 'gre': expected ipip" },
		{ "backend add " VIP " " BE " state down",
		  "xlbctl: backend add: state 'down': expected up or drain" },
		{ "vip add " VIP " weight 1", "xlbctl: vip add: 'weight': unknown keyword: expected "
		  "one of ring-size, hash, conntrack, encap, health, health-port, interval, timeout, "
		  "rise, fall, jitter, backoff-max, datapath, path, host, expect-status, expect-body, "
		  "tls-verify, payload, expect-reply, slow-start, latency-adaptive, dead-backend, "
		  "all-down" },
		{ "backend set " VIP " " BE " state drain", "xlbctl: backend set: 'state': unknown "
		  "keyword: expected one of weight, health, health-port, interval, timeout, rise, "
		  "fall, jitter, backoff-max, datapath, path, host, expect-status, expect-body, "
		  "tls-verify, payload, expect-reply, health-override" },
		{ "vip add " VIP " hash src ha 5tuple",
		  "xlbctl: vip add: hash given twice: expected each keyword at most once" },
		{ "backend add " VIP " " BE " weight 1 weight 2",
		  "xlbctl: backend add: weight given twice: expected each keyword at most once" },
		{ "backend add " VIP " " BE " weight",
		  "xlbctl: backend add: weight: missing W: expected an integer 0..65535" },
		{ "backend add " VIP,
		  "xlbctl: backend add: missing ADDR: expected a unicast IPv4 or IPv6 address" },
		{ "vip del", "xlbctl: vip del: missing VIP: expected ADDR:PORT/PROTO" },
		{ "maglev show", "xlbctl: maglev show: missing VIP: expected ADDR:PORT/PROTO" },
		{ "backend set " VIP " " BE, "xlbctl: backend set: missing OPTIONS: expected at least "
		  "one keyword (see 'xlbctl backend set help')" },
		{ "vip list all", "xlbctl: vip list: unexpected argument 'all': expected nothing more" },
		{ "status now", "xlbctl: status: unexpected argument 'now': expected nothing more" },
		{ "stats " VIP " " BE,
		  "xlbctl: stats: '" BE "': unknown keyword: expected one of watch" },
		{ "stats watch 0", "xlbctl: stats: watch '0': expected an integer 1..3600" },
		{ "stats watch", "xlbctl: stats: watch: missing SECONDS: expected an integer 1..3600" },
		{ "backend del " VIP " " BE " " BE,
		  "xlbctl: backend del: unexpected argument '" BE "': expected nothing more" },
		{ "config dump now",
		  "xlbctl: config dump: unexpected argument 'now': expected nothing more" },
		{ "detach averyveryverylongname", "xlbctl: detach: IFACE 'averyveryverylongname': "
		  "expected an interface name of 1..15 characters" },
		{ "detach eth0 eth1", "xlbctl: detach: unexpected argument 'eth1': expected nothing "
		  "more" },
		{ "detach a/b",
		  "xlbctl: detach: IFACE 'a/b': expected an interface name of 1..15 characters" },
		{ "frob", "xlbctl: 'frob': unknown object: expected one of vip, backend, stats, "
		  "maglev, status, config, detach, help" },
		{ "", "xlbctl: missing OBJECT: expected one of vip, backend, stats, maglev, status, "
		  "config, detach, help" },
		{ "vip frob", "xlbctl: vip: 'frob': unknown command: expected one of add, set, del, "
		  "list, show, help" },
		{ "vip", "xlbctl: vip: missing COMMAND: expected one of add, set, del, list, show, "
		  "help" },
		{ "backend", "xlbctl: backend: missing COMMAND: expected one of add, del, set, "
		  "drain, undrain, list, help" },
		{ "help frob", "xlbctl: help: 'frob': unknown object: expected one of vip, backend, "
		  "stats, maglev, status, config, detach, help" },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad(cases[i].line, cases[i].msg);
}

/* Health checks and failure policies: nested in "health" (vip add, backend
 * add) or "health_update" (the partial edits of vip set and backend set). */
static void test_health_commands(void **state)
{
	(void)state;
	ok("vip add " VIP " health http path /healthz?full=1 host www.example.com "
	   "expect-status 200,204,300-399 expect-body OK interval 2000 timeout 300 rise 1 fall 5 "
	   "jitter 0 backoff-max 16000 datapath on health-port 8080",
	   "{\"cmd\":\"vip.add\",\"vip\":\"" VIP "\",\"health\":{\"type\":\"http\","
	   "\"path\":\"/healthz?full=1\",\"host\":\"www.example.com\","
	   "\"expect_status\":\"200,204,300-399\",\"expect_body\":\"OK\",\"interval_ms\":2000,"
	   "\"timeout_ms\":300,\"rise\":1,\"fall\":5,\"jitter_pct\":0,"
	   "\"backoff_max_ms\":16000,\"datapath\":true,\"port\":8080}}");
	ok("vip add " VIP " health https tls-verify on slow-start 30 latency-adaptive on "
	   "dead-backend drop all-down fail-open",
	   "{\"cmd\":\"vip.add\",\"vip\":\"" VIP "\",\"health\":{\"type\":\"https\","
	   "\"tls_verify\":true},\"slow_start_s\":30,\"latency_adaptive\":true,"
	   "\"dead_backend\":\"drop\",\"all_down\":\"fail-open\"}");
	ok("vip add 10.0.0.1:53/udp health udp payload \"ping me\" expect-reply pong",
	   "{\"cmd\":\"vip.add\",\"vip\":\"10.0.0.1:53/udp\",\"health\":{\"type\":\"udp\","
	   "\"payload\":\"ping me\",\"expect_reply\":\"pong\"}}");
	ok("vip add " VIP " health none slow-start 0",
	   "{\"cmd\":\"vip.add\",\"vip\":\"" VIP "\",\"health\":{\"type\":\"none\"},"
	   "\"slow_start_s\":0}");
	/* vip set: partial edits. */
	ok("vip set " VIP " interval 200",
	   "{\"cmd\":\"vip.set\",\"vip\":\"" VIP "\",\"health_update\":{\"interval_ms\":200}}");
	ok("vip set " VIP " health tcp ring-size 13 all-down drop",
	   "{\"cmd\":\"vip.set\",\"vip\":\"" VIP "\",\"health_update\":{\"type\":\"tcp\"},"
	   "\"ring_size\":13,\"all_down\":\"drop\"}");
	ok("vip set " VIP " dead-backend rechoose",
	   "{\"cmd\":\"vip.set\",\"vip\":\"" VIP "\",\"dead_backend\":\"rechoose\"}");
	/* Backends: an override, its edits, its removal. */
	ok("backend add " VIP " " BE " weight 5 health-port 8081 path /b",
	   "{\"cmd\":\"backend.add\",\"vip\":\"" VIP "\",\"address\":\"" BE "\",\"weight\":5,"
	   "\"health\":{\"port\":8081,\"path\":\"/b\"}}");
	ok("backend set " VIP " " BE " fall 2",
	   "{\"cmd\":\"backend.set\",\"vip\":\"" VIP "\",\"address\":\"" BE "\","
	   "\"health_update\":{\"fall\":2}}");
	ok("backend set " VIP " " BE " health-override clear weight 3",
	   "{\"cmd\":\"backend.set\",\"vip\":\"" VIP "\",\"address\":\"" BE "\","
	   "\"health\":null,\"weight\":3}");
	ok("backend set " VIP " " BE " health-o clear health tcp",
	   "{\"cmd\":\"backend.set\",\"vip\":\"" VIP "\",\"address\":\"" BE "\","
	   "\"health\":null,\"health_update\":{\"type\":\"tcp\"}}");
	/* Prefixes of the new keywords. */
	ok("v se " VIP " int 100 ti 50 ris 2 fa 1 j 5 b 0 da off la off de drop al drop sl 10",
	   "{\"cmd\":\"vip.set\",\"vip\":\"" VIP "\",\"health_update\":{\"interval_ms\":100,"
	   "\"timeout_ms\":50,\"rise\":2,\"fall\":1,\"jitter_pct\":5,\"backoff_max_ms\":0,"
	   "\"datapath\":false},\"latency_adaptive\":false,\"dead_backend\":\"drop\","
	   "\"all_down\":\"drop\",\"slow_start_s\":10}");
}

static void test_health_errors(void **state)
{
	static const struct {
		const char *line, *msg;
	} cases[] = {
		{ "vip add " VIP " health icmp",
		  "xlbctl: vip add: health 'icmp': expected none, tcp, http, https or udp" },
		{ "vip add " VIP " health-port 0",
		  "xlbctl: vip add: health-port '0': expected an integer 1..65535" },
		{ "vip add " VIP " interval 3600001",
		  "xlbctl: vip add: interval '3600001': expected an integer 0..3600000" },
		{ "vip add " VIP " timeout 1s",
		  "xlbctl: vip add: timeout '1s': expected an integer 0..3600000" },
		{ "vip add " VIP " rise 0", "xlbctl: vip add: rise '0': expected an integer 1..100" },
		{ "vip add " VIP " fall 101", "xlbctl: vip add: fall '101': expected an integer 1..100" },
		{ "vip add " VIP " jitter 51", "xlbctl: vip add: jitter '51': expected an integer 0..50" },
		{ "vip add " VIP " datapath yes", "xlbctl: vip add: datapath 'yes': expected on or off" },
		{ "vip add " VIP " path healthz", "xlbctl: vip add: path 'healthz': expected a path "
		  "starting with '/', without spaces or control characters" },
		{ "vip add " VIP " path \"/a b\"", "xlbctl: vip add: path '/a b': expected a path "
		  "starting with '/', without spaces or control characters" },
		{ "vip add " VIP " host \"\"", "xlbctl: vip add: host '': expected a host name "
		  "without spaces or control characters" },
		{ "vip add " VIP " expect-status 200-", "xlbctl: vip add: expect-status '200-': "
		  "expected status codes or ranges within 100..599, such as 200,204,300-399" },
		{ "vip add " VIP " expect-status 600", "xlbctl: vip add: expect-status '600': "
		  "expected status codes or ranges within 100..599, such as 200,204,300-399" },
		{ "vip add " VIP " tls-verify 1", "xlbctl: vip add: tls-verify '1': expected on or off" },
		{ "vip add " VIP " slow-start 3601",
		  "xlbctl: vip add: slow-start '3601': expected an integer 0..3600" },
		{ "vip add " VIP " dead-backend reset",
		  "xlbctl: vip add: dead-backend 'reset': expected rechoose or drop" },
		{ "vip add " VIP " all-down open",
		  "xlbctl: vip add: all-down 'open': expected drop or fail-open" },
		{ "vip add " VIP " health-override clear", "xlbctl: vip add: 'health-override': "
		  "unknown keyword: expected one of ring-size, hash, conntrack, encap, health, health-port, interval, timeout, "
		  "rise, fall, jitter, backoff-max, datapath, path, host, expect-status, expect-body, "
		  "tls-verify, payload, expect-reply, slow-start, latency-adaptive, dead-backend, "
		  "all-down" },
		{ "vip add " VIP " r 7", "xlbctl: vip add: 'r': ambiguous keyword: matches ring-size, "
		  "rise" },
		{ "vip add " VIP " e ipip", "xlbctl: vip add: 'e': ambiguous keyword: matches encap, "
		  "expect-status, expect-body, expect-reply" },
		{ "vip set " VIP, "xlbctl: vip set: missing OPTIONS: expected at least one keyword "
		  "(see 'xlbctl vip set help')" },
		{ "vip set " VIP " interval", "xlbctl: vip set: interval: missing MS: expected an "
		  "integer 0..3600000" },
		{ "vip set " VIP " interval 5 interval 6",
		  "xlbctl: vip set: interval given twice: expected each keyword at most once" },
		{ "vip set", "xlbctl: vip set: missing VIP: expected ADDR:PORT/PROTO" },
		{ "vip set " VIP " state up", "xlbctl: vip set: 'state': unknown keyword: expected "
		  "one of ring-size, hash, conntrack, encap, health, health-port, interval, timeout, "
		  "rise, fall, jitter, backoff-max, datapath, path, host, expect-status, expect-body, "
		  "tls-verify, payload, expect-reply, slow-start, latency-adaptive, dead-backend, "
		  "all-down" },
		{ "backend set " VIP " " BE " health-override yes",
		  "xlbctl: backend set: health-override 'yes': expected clear" },
		{ "backend add " VIP " " BE " slow-start 5", "xlbctl: backend add: 'slow-start': "
		  "unknown keyword: expected one of weight, state, health, health-port, interval, "
		  "timeout, rise, fall, jitter, backoff-max, datapath, path, host, expect-status, "
		  "expect-body, tls-verify, payload, expect-reply" },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad(cases[i].line, cases[i].msg);
}

static void test_opts(void **state)
{
	char err[XLB_CLI_ERRLEN];
	struct xlb_cli_opts o;
	char *a1[] = { "xlbctl", "-j", "-s", "/tmp/s", "-v", "--verbose", "vip", "list", NULL };
	char *a2[] = { "xlbctl", "-batch", "cmds.txt", NULL };
	char *a3[] = { "xlbctl", "-b", "-", "-p", "/sys/fs/bpf/x", "--json", NULL };
	char *a4[] = { "xlbctl", "stats", NULL };
	char *a5[] = { "xlbctl", "--", "-j", NULL };
	char *a6[] = { "xlbctl", "-h", NULL };

	(void)state;
	assert_int_equal(xlb_cli_opts_parse(7, a1, &o, err, sizeof(err)), 6);
	assert_true(o.json);
	assert_int_equal(o.verbose, 2);
	assert_string_equal(o.socket, "/tmp/s");
	assert_string_equal(o.pin_root, "/sys/fs/bpf/xlb");
	assert_null(o.batch);

	assert_int_equal(xlb_cli_opts_parse(3, a2, &o, err, sizeof(err)), 3);
	assert_string_equal(o.batch, "cmds.txt");
	assert_false(o.json);

	assert_int_equal(xlb_cli_opts_parse(6, a3, &o, err, sizeof(err)), 6);
	assert_string_equal(o.batch, "-");
	assert_string_equal(o.pin_root, "/sys/fs/bpf/x");
	assert_true(o.json);

	assert_int_equal(xlb_cli_opts_parse(2, a4, &o, err, sizeof(err)), 1);
	assert_string_equal(o.socket, "/run/xlb/xlbd.sock");
	assert_false(o.help);

	assert_int_equal(xlb_cli_opts_parse(3, a5, &o, err, sizeof(err)), 2);
	assert_false(o.json);

	assert_int_equal(xlb_cli_opts_parse(2, a6, &o, err, sizeof(err)), 2);
	assert_true(o.help);
}

static void test_opts_errors(void **state)
{
	static const struct {
		int argc;
		char *argv[6];
		const char *msg;
	} cases[] = {
		{ 3, { "xlbctl", "-x", "vip" },
		  "xlbctl: '-x': unknown option: expected one of -j, -batch, -s, -p, -v, -h" },
		{ 2, { "xlbctl", "-s" }, "xlbctl: -s: missing PATH" },
		{ 2, { "xlbctl", "-batch" }, "xlbctl: -batch: missing FILE" },
		{ 3, { "xlbctl", "--pin-root", "" }, "xlbctl: --pin-root: missing DIR" },
		{ 5, { "xlbctl", "-s", "a", "--socket", "b" },
		  "xlbctl: -s given twice: expected it at most once" },
		{ 5, { "xlbctl", "-b", "f", "vip", "list" }, "xlbctl: -batch: unexpected command "
		  "'vip': expected either -batch FILE or a command" },
	};
	char err[XLB_CLI_ERRLEN];
	struct xlb_cli_opts o;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[7] = { NULL };

		memcpy(argv, cases[i].argv, sizeof(cases[i].argv));
		err[0] = '\0';
		assert_int_equal(xlb_cli_opts_parse(cases[i].argc, argv, &o, err, sizeof(err)),
				 -EINVAL);
		if (strcmp(err, cases[i].msg))
			fail_msg("case %u:\n got  %s\n want %s", i, err, cases[i].msg);
	}
}

static void split_ok(const char *line, int n, const char *const *want)
{
	char **argv;
	int argc, i;

	assert_int_equal(xlb_cli_split_line(line, &argc, &argv), 0);
	if (argc != n)
		fail_msg("'%s': %d words, expected %d", line, argc, n);
	for (i = 0; i < n; i++)
		if (strcmp(argv[i], want[i]))
			fail_msg("'%s': word %d is '%s', expected '%s'", line, i, argv[i], want[i]);
	assert_null(argv[n]);
	free(argv);
}

static void test_split(void **state)
{
	static const char *const w1[] = { "backend", "add", VIP, BE, "weight", "10" };
	static const char *const w2[] = { "detach", "a b", "xy zw", "" };
	static const char *const w3[] = { "a\"b\\c", "x\\ny" };
	static const char *const w4[] = { "vip", "list" };
	static const char *const w5[] = { "#x", "a#b" };
	char **argv;
	char *line;
	int argc;

	(void)state;
	split_ok("backend add " VIP "  " BE "\tweight 10\r\n", 6, w1);
	split_ok("detach \"a b\" x\"y z\"w \"\"", 4, w2);
	split_ok("\"a\\\"b\\\\c\" x\\ny", 2, w3);
	split_ok("  vip list   # the rest is a comment \"", 2, w4);
	split_ok("\"#x\" a#b", 2, w5);
	split_ok("# a whole comment line", 0, NULL);
	split_ok("", 0, NULL);
	split_ok(" \t \n", 0, NULL);

	assert_int_equal(xlb_cli_split_line("vip add \"10.0.0.1", &argc, &argv), -EINVAL);
	assert_null(argv);
	assert_int_equal(argc, 0);
	assert_int_equal(xlb_cli_split_line("a \"b\\\"", &argc, &argv), -EINVAL);

	/* XLB_CLI_LINE_MAX - 1 bytes is the longest line; one more is refused. */
	line = malloc(XLB_CLI_LINE_MAX + 1);
	assert_non_null(line);
	memset(line, 'a', XLB_CLI_LINE_MAX);
	line[XLB_CLI_LINE_MAX] = '\0';
	assert_int_equal(xlb_cli_split_line(line, &argc, &argv), -E2BIG);
	assert_null(argv);
	line[XLB_CLI_LINE_MAX - 1] = '\0';
	assert_int_equal(xlb_cli_split_line(line, &argc, &argv), 0);
	assert_int_equal(argc, 1);
	assert_int_equal(strlen(argv[0]), XLB_CLI_LINE_MAX - 1);
	free(argv);
	/* The most words a line can hold: every other byte a separator. */
	for (argc = 0; argc < XLB_CLI_LINE_MAX - 1; argc++)
		line[argc] = argc % 2 ? ' ' : 'a';
	assert_int_equal(xlb_cli_split_line(line, &argc, &argv), 0);
	assert_int_equal(argc, XLB_CLI_LINE_MAX / 2);
	assert_null(argv[argc]);
	free(argv);
	free(line);
}

/* A -batch line is parsed exactly as the same words on the command line. */
static void test_batch_line(void **state)
{
	(void)state;
	ok("  backend add " VIP " " BE " weight 10   # canary\n",
	   "{\"cmd\":\"backend.add\",\"vip\":\"" VIP "\",\"address\":\"" BE "\",\"weight\":10}");
	ok("detach \"eth0\"", "{\"cmd\":\"detach\",\"interface\":\"eth0\"}");
	bad("detach \"eth 0\"",
	    "xlbctl: detach: IFACE 'eth 0': expected an interface name of 1..15 characters");
}

static char *read_doc(void)
{
	FILE *f = fopen(doc_path, "r");
	char *text;
	long len;

	if (!f)
		fail_msg("%s: %s", doc_path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	return text;
}

static void test_man_page(void **state)
{
	static const char *const sections[] = {
		"## NAME", "## SYNOPSIS", "## DESCRIPTION", "## OBJECTS AND COMMANDS",
		"## OPTIONS", "## EXIT STATUS", "## EXAMPLES", "## SEE ALSO",
	};
	char *doc = read_doc(), *gen = NULL, syn[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (!strstr(doc, sections[i]))
			fail_msg("%s lacks %s", doc_path, sections[i]);
	for (i = 0; !xlb_cli_synopsis(i, syn, sizeof(syn)); i++)
		if (!strstr(doc, syn))
			fail_msg("%s lacks the command '%s'", doc_path, syn);
	assert_int_equal(i, 17);
	assert_int_equal(xlb_cli_markdown(&gen), 0);
	if (!strstr(doc, gen))
		fail_msg("%s is stale: regenerate its OBJECTS AND COMMANDS and OPTIONS with "
			 "'test_cli --markdown'", doc_path);
	free(gen);
	free(doc);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vip_commands),
		cmocka_unit_test(test_backend_commands),
		cmocka_unit_test(test_other_commands),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_ambiguous),
		cmocka_unit_test(test_help_top),
		cmocka_unit_test(test_help_objects),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_health_commands),
		cmocka_unit_test(test_health_errors),
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_opts_errors),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_batch_line),
		cmocka_unit_test(test_man_page),
	};
	int n = (int)(sizeof(tests) / sizeof(tests[0])), failed;

	if (argc > 1 && !strcmp(argv[1], "--markdown")) {
		char *text = NULL;

		if (xlb_cli_markdown(&text))
			return 1;
		fputs(text, stdout);
		free(text);
		return 0;
	}
	if (argc > 1)
		doc_path = argv[1];
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	fflush(stderr);
	printf("\ncli: %d passed, %d failed\n", n - failed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
