/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control API of xlbd: one JSON request in, one JSON reply out.  Every
 * change goes through the same path: the current configuration is edited
 * as JSON, validated whole by the config parser, applied to the data plane,
 * and written to the state file (atomically) before it is acknowledged.
 * A rejected change leaves the data plane, the state file and the
 * in-memory configuration as they were.
 */
#ifndef XLB_API_H
#define XLB_API_H

#include <jansson.h>
#include "config.h"
#include "lb.h"

struct xlb_api {
	struct xlb_lb *lb;
	struct xlb_cfg *cfg;		/* the accepted state (owned) */
	const char *state_path;		/* NULL or "": not persisted */
	const char *config_path;	/* what "config reload" reads */
	/* daemon-provided facts for "status" (NULL: left out) */
	json_t *(*status_extra)(void *ctx);
	/* Called after each accepted configuration is applied and persisted
	 * (the health manager syncs its checks to it); may be NULL. */
	void (*applied)(void *ctx, const struct xlb_cfg *cfg);
	void *ctx;
	/* The health probe engine, to show each backend's last probe; NULL:
	 * no health columns. */
	struct xlb_hc *hc;
	__u64 requests, errors, reloads, reload_failures;
	/* After a commit: what changed but takes effect only after a restart
	 * ("interfaces, control"), or "". */
	char restart_note[128];
};

/* Handle one request object; *reply is always set (an {"ok": false,
 * "error": ...} object on failure).  Returns 0 or the request's error. */
int xlb_api_handle(struct xlb_api *a, const json_t *req, json_t **reply);

/* Replace the state with @next (validated whole, applied, persisted);
 * on failure nothing changes and @err says why.  Takes no ownership. */
int xlb_api_commit_json(struct xlb_api *a, const json_t *next, char *err, size_t errlen);

/* Re-read config_path and commit it (SIGHUP, "config reload"). */
int xlb_api_reload(struct xlb_api *a, char *err, size_t errlen);

/* Write @text to @path atomically: temp file, fsync, rename, fsync dir. */
int xlb_state_write(const char *path, const char *text);

#endif /* XLB_API_H */
