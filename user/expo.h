/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A builder for the Prometheus text exposition format, version 0.0.4: one
 * growing in-memory buffer, families with # HELP and # TYPE, escaped label
 * values, counters, gauges and histograms.  Pure C, no libbpf.
 *
 * Every family is opened once (a second xlb_expo_family() with the same
 * name fails with -EEXIST) and all its series follow it; a sample always
 * belongs to the family opened last.  Errors are sticky: after the first
 * one every call does nothing and xlb_expo_finish() returns it, so callers
 * need not check each line.
 *
 * Labels are passed as one pre-built string, `a="x",b="y"` (no braces),
 * made with xlb_expo_label(); one label may be added per sample (@xname,
 * @xval), which is how state="..." and le="..." series are written
 * without rebuilding the common part.
 */
#ifndef XLB_EXPO_H
#define XLB_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xlb_expo_type {
	XLB_EXPO_COUNTER,	/* name must end in _total */
	XLB_EXPO_GAUGE,
	XLB_EXPO_HISTOGRAM,	/* samples through xlb_expo_hist() only */
};

#define XLB_EXPO_MAX_FAMILIES	128
#define XLB_EXPO_MAX_BUCKETS	32	/* of a histogram, +Inf not counted */

struct xlb_expo {
	char *buf;
	size_t len, cap;
	int err;				/* first error, sticky */
	char family[128];			/* the family samples go to */
	size_t family_len;
	enum xlb_expo_type type;
	unsigned int n_families;
	/* The le="" strings of the last histogram bounds, formatted once. */
	double hb[XLB_EXPO_MAX_BUCKETS];
	char hle[XLB_EXPO_MAX_BUCKETS][32];
	unsigned int hn;
	char *names[XLB_EXPO_MAX_FAMILIES];	/* families opened so far */
};

/* Start empty in @buf (@cap bytes, taken over: freed or grown by the
 * builder), or, with @buf NULL, in a new buffer of @cap bytes (0: a small
 * default).  Reusing the last scrape's buffer spares a large allocation
 * and its page faults on every scrape. */
int xlb_expo_init(struct xlb_expo *e, char *buf, size_t cap);
/* Free the buffer and the names.  Accepts NULL. */
void xlb_expo_release(struct xlb_expo *e);
/* Hand the text over (NUL-terminated; the caller frees it) or the first
 * error; either way @e is released. */
int xlb_expo_finish(struct xlb_expo *e, char **text, size_t *len);

/*
 * Open family @name ([a-zA-Z_:][a-zA-Z0-9_:]*) with its help text (any
 * bytes; backslashes and newlines are escaped).  -EINVAL for a bad name or
 * a counter without _total, -EEXIST for a family already written.
 */
int xlb_expo_family(struct xlb_expo *e, const char *name, enum xlb_expo_type type,
		    const char *help);

/*
 * Append `,name="value"` (no comma when *len is 0) to @buf (@size bytes,
 * NUL-terminated), escaping \ " and newline in the value.  -EINVAL for a
 * bad label name, -ENOSPC if it does not fit (the buffer is left as it
 * was).
 */
int xlb_expo_label(char *buf, size_t size, size_t *len, const char *name, const char *value);

/* One sample of the current counter or gauge; @labels may be NULL or "",
 * @xname NULL for no extra label. */
void xlb_expo_u64(struct xlb_expo *e, const char *labels, const char *xname, const char *xval,
		  uint64_t v);
void xlb_expo_f64(struct xlb_expo *e, const char *labels, const char *xname, const char *xval,
		  double v);

/*
 * One series of the current histogram: @n buckets with upper bounds
 * @bounds (increasing) and cumulative counts @le (non-decreasing, each
 * <= @count), then +Inf = @count, _sum and _count.  -EINVAL (sticky) for
 * bounds or counts out of order, or more than XLB_EXPO_MAX_BUCKETS.
 */
void xlb_expo_hist(struct xlb_expo *e, const char *labels, unsigned int n, const double *bounds,
		   const uint64_t *le, double sum, uint64_t count);

#endif /* XLB_EXPO_H */
