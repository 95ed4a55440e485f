// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

static enum xlb_log_level log_level = XLB_LOG_WARN;
static int libbpf_quiet;

void xlb_log_set_level(enum xlb_log_level lvl)
{
	log_level = lvl;
}

enum xlb_log_level xlb_log_get_level(void)
{
	return log_level;
}

static void vlog(enum xlb_log_level lvl, const char *fmt, va_list ap)
{
	if (lvl > log_level)
		return;
	vfprintf(stderr, fmt, ap);
}

void xlb_log(enum xlb_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	enum xlb_log_level ours;

	if (libbpf_quiet)
		return 0;
	/* Demoted one level: libbpf warnings are our info, and so on. */
	switch (lvl) {
	case LIBBPF_WARN:
		ours = XLB_LOG_INFO;
		break;
	default:
		ours = XLB_LOG_DEBUG;
		break;
	}
	vlog(ours, fmt, ap);
	return 0;
}

void xlb_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

int xlb_log_libbpf_quiet(void)
{
	int prev = libbpf_quiet;

	libbpf_quiet = 1;
	return prev;
}

void xlb_log_libbpf_restore(int prev)
{
	libbpf_quiet = prev;
}
