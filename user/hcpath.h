/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Data-path health probes, LB side: load bpf/hc.bpf.c (tc clsact egress)
 * on top of a data plane pinned under a pin root, and attach it to the
 * interfaces that probe packets leave by.  See docs/design.md, "Data-path
 * health probes".
 *
 * For each backend a datapath VIP probes, the health engine gets a spec
 * whose target is VIP:port and whose mark is xlb_hc_mark(backend id); the
 * program encapsulates the marked packets toward that backend.
 *
 * The tc filter holds the program and the maps it uses, so it keeps
 * working after the process exits; a new process re-attaches (replace,
 * atomic) with xlb_hcpath_attach().  Every function returns 0 or a
 * negative errno.
 */
#ifndef XLB_HCPATH_H
#define XLB_HCPATH_H

#include <stdint.h>
#include <xlb/xlb.h>

/* Our filter on each clsact egress: one fixed handle and priority, so a
 * restart finds and replaces it, and detach removes only it. */
#define XLB_HCPATH_TC_HANDLE	0x584c
#define XLB_HCPATH_TC_PRIO	1

struct xlb_hcpath;

/* The SO_MARK that makes a probe follow the data path to @backend_id
 * (1..XLB_HC_MARK_ID_MASK); 0 when the id cannot be carried. */
static inline uint32_t xlb_hc_mark(uint32_t backend_id)
{
	if (!backend_id || backend_id > XLB_HC_MARK_ID_MASK)
		return 0;
	return XLB_HC_MARK_BASE | backend_id;
}

/*
 * Load the program, adopting the data plane's backends and config maps
 * pinned under @pin_root (NULL: XLB_PIN_ROOT_DEFAULT): load the data plane
 * first (xlb_open()).  -ENOENT: nothing pinned there.
 */
int xlb_hcpath_open(const char *pin_root, struct xlb_hcpath **out);

/* Attach to @ifname's clsact egress, creating the qdisc if needed, and
 * replacing our filter if one is there (a restarted daemon's). */
int xlb_hcpath_attach(struct xlb_hcpath *h, const char *ifname);

/* Remove our filter from @ifname, leaving the clsact qdisc and any other
 * filter.  -ENOENT: not attached.  Needs no loaded program. */
int xlb_hcpath_detach(const char *ifname);

/* Id of the program our filter on @ifname runs: 0 with *@prog_id set,
 * -ENOENT when none. */
int xlb_hcpath_query(const char *ifname, uint32_t *prog_id);

/* Counters of this load, summed over CPUs, indexed by enum xlb_hcp_counter. */
int xlb_hcpath_stats(const struct xlb_hcpath *h, uint64_t out[XLB_HCP_MAX]);

/* The same for the program attached to @ifname (by whichever process). */
int xlb_hcpath_stats_iface(const char *ifname, uint64_t out[XLB_HCP_MAX]);

/* Name of a counter ("encap", "no_backend", "fib_fail", "error"). */
const char *xlb_hcpath_counter_name(int idx);

/* Free the process's handle; attached filters stay.  Accepts NULL. */
void xlb_hcpath_close(struct xlb_hcpath *h);

#endif /* XLB_HCPATH_H */
