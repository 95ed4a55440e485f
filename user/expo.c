// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * See expo.h.  A scrape of a large balancer writes a few hundred thousand
 * lines, so numbers are formatted by hand rather than through printf, and
 * label sets are built once per object and copied as they are.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expo.h"

#define EXPO_MIN_CAP	4096

int xlb_expo_init(struct xlb_expo *e, char *buf, size_t cap)
{
	memset(e, 0, sizeof(*e));
	if (buf && cap) {
		e->buf = buf;
		e->cap = cap;
		e->buf[0] = '\0';
		return 0;
	}
	free(buf);
	e->cap = cap > EXPO_MIN_CAP ? cap : EXPO_MIN_CAP;
	e->buf = malloc(e->cap);
	if (!e->buf) {
		e->cap = 0;
		e->err = -ENOMEM;
		return -ENOMEM;
	}
	e->buf[0] = '\0';
	return 0;
}

void xlb_expo_release(struct xlb_expo *e)
{
	unsigned int i;

	if (!e)
		return;
	for (i = 0; i < e->n_families; i++)
		free(e->names[i]);
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

int xlb_expo_finish(struct xlb_expo *e, char **text, size_t *len)
{
	int err = e->err;

	if (!err) {
		*text = e->buf;
		*len = e->len;
		e->buf = NULL;
	}
	xlb_expo_release(e);
	return err;
}

/* Room for @n more bytes and the NUL; false (and e->err) if there is none. */
static bool reserve(struct xlb_expo *e, size_t n)
{
	size_t cap;
	char *nb;

	if (e->err)
		return false;
	if (e->len + n + 1 <= e->cap)
		return true;
	cap = e->cap ? e->cap : EXPO_MIN_CAP;
	while (cap < e->len + n + 1)
		cap *= 2;
	nb = realloc(e->buf, cap);
	if (!nb) {
		e->err = -ENOMEM;
		return false;
	}
	e->buf = nb;
	e->cap = cap;
	return true;
}

static void put(struct xlb_expo *e, const char *s, size_t n)
{
	if (!reserve(e, n))
		return;
	memcpy(e->buf + e->len, s, n);
	e->len += n;
	e->buf[e->len] = '\0';
}

static void puts_(struct xlb_expo *e, const char *s)
{
	put(e, s, strlen(s));
}

/* Shortest of %.15g / %.17g that reads back as @v; Go's spellings of the
 * special values, which is what Prometheus parses. */
static void fmt_f64(double v, char *buf, size_t size)
{
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
	} else {
		snprintf(buf, size, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, size, "%.17g", v);
	}
}

static void put_f64(struct xlb_expo *e, double v)
{
	char tmp[40];

	fmt_f64(v, tmp, sizeof(tmp));
	puts_(e, tmp);
}

/* Help text: only backslash and newline are escaped. */
static void put_help(struct xlb_expo *e, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(e, "\\\\", 2);
		else if (*s == '\n')
			put(e, "\\n", 2);
		else
			put(e, s, 1);
	}
}

static bool valid_name(const char *s, bool colon)
{
	const char *p;

	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (p = s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || (colon && *p == ':'))
			continue;
		return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int xlb_expo_family(struct xlb_expo *e, const char *name, enum xlb_expo_type type,
		    const char *help)
{
	static const char *const tname[] = { "counter", "gauge", "histogram" };
	unsigned int i;
	int err = 0;

	if (e->err)
		return e->err;
	if (!valid_name(name, true) || strlen(name) >= sizeof(e->family) || (unsigned int)type > 2 ||
	    (type == XLB_EXPO_COUNTER && !ends_with(name, "_total"))) {
		err = -EINVAL;
		goto out;
	}
	for (i = 0; i < e->n_families; i++) {
		if (!strcmp(e->names[i], name)) {
			err = -EEXIST;
			goto out;
		}
	}
	if (e->n_families == XLB_EXPO_MAX_FAMILIES) {
		err = -E2BIG;
		goto out;
	}
	e->names[e->n_families] = strdup(name);
	if (!e->names[e->n_families]) {
		err = -ENOMEM;
		goto out;
	}
	e->n_families++;
	snprintf(e->family, sizeof(e->family), "%s", name);
	e->family_len = strlen(name);
	e->type = type;
	puts_(e, "# HELP ");
	puts_(e, name);
	put(e, " ", 1);
	put_help(e, help ? help : "");
	puts_(e, "\n# TYPE ");
	puts_(e, name);
	put(e, " ", 1);
	puts_(e, tname[type]);
	put(e, "\n", 1);
	err = e->err;
out:
	if (err && !e->err)
		e->err = err;
	return err;
}

int xlb_expo_label(char *buf, size_t size, size_t *len, const char *name, const char *value)
{
	size_t n = *len, need = strlen(name) + 4 + (n ? 1 : 0);
	const char *p;
	int err = 0;

	if (!valid_name(name, false) || !strncmp(name, "__", 2)) {
		err = -EINVAL;
		goto out;
	}
	for (p = value; *p; p++)
		need += (*p == '\\' || *p == '"' || *p == '\n') ? 2 : 1;
	if (n + need >= size) {
		err = -ENOSPC;
		goto out;
	}
	if (n)
		buf[n++] = ',';
	memcpy(buf + n, name, strlen(name));
	n += strlen(name);
	buf[n++] = '=';
	buf[n++] = '"';
	for (p = value; *p; p++) {
		if (*p == '\\' || *p == '"') {
			buf[n++] = '\\';
			buf[n++] = *p;
		} else if (*p == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *p;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
	*len = n;
out:
	return err;
}

/* "name{labels,xname="xval"} " for the current family; @suffix is
 * "_bucket" etc. for histograms.  @xval is written as it is: callers
 * pass names, numbers and states, never user text.  The hot path of a
 * scrape: one reservation, then plain copies. */
static void put_series(struct xlb_expo *e, const char *suffix, const char *labels,
		       const char *xname, const char *xval)
{
	size_t sl = strlen(suffix), ll = labels ? strlen(labels) : 0;
	size_t xl = xname ? strlen(xname) : 0, vl = xname ? strlen(xval) : 0;
	char *p;

	if (!reserve(e, e->family_len + sl + ll + xl + vl + 8))
		return;
	p = e->buf + e->len;
	memcpy(p, e->family, e->family_len);
	p += e->family_len;
	memcpy(p, suffix, sl);
	p += sl;
	if (ll || xl) {
		*p++ = '{';
		if (ll)
			memcpy(p, labels, ll);
		p += ll;
		if (xl) {
			if (ll)
				*p++ = ',';
			memcpy(p, xname, xl);
			p += xl;
			*p++ = '=';
			*p++ = '"';
			memcpy(p, xval, vl);
			p += vl;
			*p++ = '"';
		}
		*p++ = '}';
	}
	*p++ = ' ';
	*p = '\0';
	e->len = (size_t)(p - e->buf);
}

/* "V\n" */
static void put_u64_line(struct xlb_expo *e, uint64_t v)
{
	char tmp[24];
	int i = (int)sizeof(tmp);
	size_t n;

	tmp[--i] = '\n';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	n = sizeof(tmp) - (size_t)i;
	if (!reserve(e, n))
		return;
	memcpy(e->buf + e->len, tmp + i, n);
	e->len += n;
	e->buf[e->len] = '\0';
}

static bool check_scalar(struct xlb_expo *e)
{
	if (e->err)
		return false;
	if (!e->family[0] || e->type == XLB_EXPO_HISTOGRAM) {
		e->err = -EINVAL;
		return false;
	}
	return true;
}

void xlb_expo_u64(struct xlb_expo *e, const char *labels, const char *xname, const char *xval,
		  uint64_t v)
{
	if (!check_scalar(e))
		return;
	put_series(e, "", labels, xname, xval);
	put_u64_line(e, v);
}

void xlb_expo_f64(struct xlb_expo *e, const char *labels, const char *xname, const char *xval,
		  double v)
{
	if (!check_scalar(e))
		return;
	put_series(e, "", labels, xname, xval);
	put_f64(e, v);
	put(e, "\n", 1);
}

void xlb_expo_hist(struct xlb_expo *e, const char *labels, unsigned int n, const double *bounds,
		   const uint64_t *le, double sum, uint64_t count)
{
	unsigned int i;

	if (e->err)
		return;
	if (!e->family[0] || e->type != XLB_EXPO_HISTOGRAM || n > XLB_EXPO_MAX_BUCKETS) {
		e->err = -EINVAL;
		return;
	}
	for (i = 0; i < n; i++) {
		if ((i && (bounds[i] <= bounds[i - 1] || le[i] < le[i - 1])) || le[i] > count ||
		    isnan(bounds[i])) {
			e->err = -EINVAL;
			return;
		}
	}
	/* Every series of a family has the same bounds: format them once. */
	if (e->hn != n || memcmp(e->hb, bounds, n * sizeof(*bounds))) {
		for (i = 0; i < n; i++)
			fmt_f64(bounds[i], e->hle[i], sizeof(e->hle[i]));
		memcpy(e->hb, bounds, n * sizeof(*bounds));
		e->hn = n;
	}
	for (i = 0; i < n; i++) {
		put_series(e, "_bucket", labels, "le", e->hle[i]);
		put_u64_line(e, le[i]);
	}
	put_series(e, "_bucket", labels, "le", "+Inf");
	put_u64_line(e, count);
	put_series(e, "_sum", labels, NULL, NULL);
	put_f64(e, sum);
	put(e, "\n", 1);
	put_series(e, "_count", labels, NULL, NULL);
	put_u64_line(e, count);
}
