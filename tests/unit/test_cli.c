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
	ok("v a " VIP " r 7 h 5tuple c on e ipip",
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
	"xlbctl backend set VIP ADDR weight W",
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
		assert_int_equal(j, 16);
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
		{ "vip help", { "Usage: xlbctl vip { add | del | list | show | help } [ARGS]",
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
		{ "backend set --help", { "Usage: xlbctl backend set VIP ADDR weight W",
					  "weight W" }, "state" },
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
		  "one of ring-size, hash, conntrack, encap" },
		{ "backend set " VIP " " BE " state drain", "xlbctl: backend set: 'state': unknown "
		  "keyword: expected one of weight" },
		{ "vip add " VIP " hash src h 5tuple",
		  "xlbctl: vip add: hash given twice: expected each keyword at most once" },
		{ "backend add " VIP " " BE " weight 1 weight 2",
		  "xlbctl: backend add: weight given twice: expected each keyword at most once" },
		{ "backend add " VIP " " BE " weight",
		  "xlbctl: backend add: weight: missing W: expected an integer 0..65535" },
		{ "backend add " VIP,
		  "xlbctl: backend add: missing ADDR: expected a unicast IPv4 or IPv6 address" },
		{ "vip del", "xlbctl: vip del: missing VIP: expected ADDR:PORT/PROTO" },
		{ "maglev show", "xlbctl: maglev show: missing VIP: expected ADDR:PORT/PROTO" },
		{ "backend set " VIP " " BE,
		  "xlbctl: backend set: missing weight W: expected an integer 0..65535" },
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
		{ "vip frob", "xlbctl: vip: 'frob': unknown command: expected one of add, del, list, "
		  "show, help" },
		{ "vip", "xlbctl: vip: missing COMMAND: expected one of add, del, list, show, help" },
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
	assert_int_equal(i, 16);
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
