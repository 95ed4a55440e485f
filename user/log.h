/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Levelled logging; libbpf's own messages are routed here, one level down. */
#ifndef XLB_LOG_H
#define XLB_LOG_H

enum xlb_log_level {
	XLB_LOG_QUIET = -1,	/* as a level to set: nothing is printed */
	XLB_LOG_WARN,
	XLB_LOG_INFO,
	XLB_LOG_DEBUG,
};

void xlb_log_set_level(enum xlb_log_level lvl);
enum xlb_log_level xlb_log_get_level(void);
/* Route libbpf's messages through this logger (call once at start). */
void xlb_log_libbpf(void);
/* Silence libbpf while a call that is expected to fail runs; returns the
 * previous state for xlb_log_libbpf_restore(). */
int xlb_log_libbpf_quiet(void);
void xlb_log_libbpf_restore(int prev);

void xlb_log(enum xlb_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_warn(...)	xlb_log(XLB_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	xlb_log(XLB_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	xlb_log(XLB_LOG_DEBUG, __VA_ARGS__)

#endif /* XLB_LOG_H */
