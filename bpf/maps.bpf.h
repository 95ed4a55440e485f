/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The data plane's maps.  Sizes here are placeholders: userspace sets every
 * max_entries from its configuration before load (user/xlb.c).
 */
#ifndef XLB_MAPS_BPF_H
#define XLB_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xlb/xlb.h>

/* Not preallocated: the elements then come from the slab (the direct map)
 * rather than one vmalloc'd area, and up to 2048 entries the bucket array is
 * kmalloc'd too, so a lookup walks no vmalloc page (docs/performance.md). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip);
	__uint(max_entries, XLB_DEF_MAX_VIPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} XLB_MAP_VIPS SEC(".maps");

/* The VIP filter's bitmap, the config, each CPU's global counters, then
 * the VIP table (struct xlb_vip_slot); see union xlb_hot.  Userspace sets
 * the size. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, union xlb_hot);
	__uint(max_entries, XLB_HOT_GSTATS + 1);
} XLB_MAP_HOT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_backend);
	__uint(max_entries, XLB_DEF_MAX_BACKENDS);
} XLB_MAP_BACKENDS SEC(".maps");

/* Inner ring template: userspace creates each real ring with
 * XLB_RING_ELEMS(M) elements (see include/xlb/xlb.h). */
struct xlb_ring_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, XLB_DEF_MAX_VIPS);
	__array(values, struct xlb_ring_inner);
} XLB_MAP_RINGS SEC(".maps");

/* Not read by the program: pinned storage for the control plane's anchor
 * tables, with the rings' layout. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, XLB_DEF_MAX_VIPS);
	__array(values, struct xlb_ring_inner);
} XLB_MAP_ANCHORS SEC(".maps");

/* Each CPU's flow cache, in front of the connection table; see struct
 * xlb_flow_slot.  Userspace sets the size. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_flow_slot);
	__uint(max_entries, 1);
} XLB_MAP_FLOW_CACHE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_flow);
	__uint(max_entries, XLB_DEF_CONNTRACK);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} XLB_MAP_CONNTRACK SEC(".maps");

/* Per VIP and CPU: entry cpu * max_vips + id (see struct xlb_counters). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_counters);
	__uint(max_entries, XLB_DEF_MAX_VIPS);
} XLB_MAP_VIP_STATS SEC(".maps");

/* Per backend and CPU, entry cpu * max_backends + id: counters, the cached
 * next hop, a copy of the backend entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_backend_pcpu);
	__uint(max_entries, XLB_DEF_MAX_BACKENDS);
} XLB_MAP_BACKEND_STATS SEC(".maps");

/* Egress devices for bpf_redirect_map, keyed by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, XLB_DEVMAP_SIZE);
} XLB_MAP_DEVMAP SEC(".maps");


#endif /* XLB_MAPS_BPF_H */
