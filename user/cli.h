/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The front half of xlbctl: argv (or one -batch line) to a validated JSON
 * request for xlbd, and the help text and man page section generated from
 * the same command table, so the three cannot drift apart.
 *
 * Pure C with jansson: no sockets, no libbpf, so the unit tests need no
 * root.  Everything is checked before a request exists, so nothing invalid
 * is ever sent.  Every int function returns 0 (or XLB_CLI_HELP) or a
 * negative errno; on -EINVAL @err holds one line "xlbctl: ..." naming the
 * bad argument and what was expected.
 */
#ifndef XLB_CLI_H
#define XLB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define XLB_CLI_ERRLEN		768	/* enough for any message we write */
#define XLB_CLI_LINE_MAX	4096	/* bytes of a -batch line, newline included */

/* xlb_cli_parse() result: *request is {"help": TEXT}, print TEXT to stdout. */
#define XLB_CLI_HELP		1

/* Exit status of xlbctl; docs/xlbctl.8.md states the same. */
#define XLB_CLI_EXIT_OK		0	/* every command succeeded */
#define XLB_CLI_EXIT_FAIL	1	/* a command was refused or failed */
#define XLB_CLI_EXIT_USAGE	2	/* bad command line: nothing was sent */

/* Global options.  Strings point into the argv given to xlb_cli_opts_parse(). */
struct xlb_cli_opts {
	bool json;		/* -j: JSON output */
	bool help;		/* -h: print the top-level help */
	int verbose;		/* number of -v */
	const char *batch;	/* -batch FILE, "-" is stdin; NULL: none */
	const char *socket;	/* -s PATH; XLB_CFG_DEF_SOCKET if not given */
	const char *pin_root;	/* -p DIR; XLB_PIN_ROOT_DEFAULT if not given */
};

/*
 * Parse the options that come before OBJECT.  @argv[0] is the program name.
 * Returns the index of the first word that is not an option (argc if none),
 * or -EINVAL.  -batch together with a command is refused, since one of
 * them would be silently ignored.
 */
int xlb_cli_opts_parse(int argc, char **argv, struct xlb_cli_opts *o, char *err, size_t errlen);

/*
 * Parse "OBJECT COMMAND [ARGS]": @argv[0] is OBJECT (the words after the
 * global options, or one -batch line).  Every word accepts an unambiguous
 * prefix, except values.  Returns 0 with *request set to the request, e.g.
 * {"cmd":"backend.add","vip":"10.0.0.1:80/tcp","address":"10.1.0.5",
 * "weight":10}, with the VIP and addresses in canonical form and only the
 * options given (the daemon applies the schema's defaults).  Health options
 * nest in "health" (vip add, backend add: the object itself) or in
 * "health_update" (vip set, backend set: a partial edit the daemon merges
 * into the current object); or
 * XLB_CLI_HELP with *request = {"help": TEXT}; or -EINVAL (with @err) or
 * -ENOMEM, *request NULL.  The caller json_decref()s *request.
 */
int xlb_cli_parse(int argc, char **argv, json_t **request, char *err, size_t errlen);

/*
 * Split one -batch line into words: separated by blanks, a word starting
 * with '#' starts a comment, double quotes group blanks into a word (\" and
 * \\ escape inside them).  *argv is one allocation, NULL-terminated: free()
 * it.  An empty or comment-only line gives *argc 0.  -E2BIG when the line
 * is XLB_CLI_LINE_MAX bytes or longer, -EINVAL on an unterminated quote,
 * -ENOMEM.
 */
int xlb_cli_split_line(const char *line, int *argc, char ***argv);

/* The top-level help text (xlbctl help); free() it.  NULL on ENOMEM. */
char *xlb_cli_help_text(void);

/*
 * The "OBJECTS AND COMMANDS" and "OPTIONS" sections of docs/xlbctl.8.md,
 * generated from the tables; free() *text.  The unit test checks that the
 * page holds exactly this text.
 */
int xlb_cli_markdown(char **text);

/* Synopsis of the @i-th command of the table; -ENOENT past the last. */
int xlb_cli_synopsis(unsigned int i, char *buf, size_t len);

#endif /* XLB_CLI_H */
