/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xlb ABI: the map keys, values and constants shared by the XDP data plane
 * (bpf/) and userspace (user/, tests/).  Types and constants only.
 *
 * Byte order: fields marked NBO are network byte order, HBO host byte order.
 * Every struct is explicitly padded and size-checked at the end of the file,
 * so a layout change breaks the build on both sides.  When a map's key or
 * value layout changes, bump that map's version suffix below.
 */
#ifndef XLB_XLB_H
#define XLB_XLB_H

#include <linux/types.h>

/* Version of the whole pinned layout; xlbd refuses to adopt a different one. */
#define XLB_LAYOUT_VERSION	2

/*
 * Map names.  The BPF object declares its maps under these names and
 * userspace pins them under <pin root>/<name>.  The suffix is the layout
 * version of that one map.
 */
#define XLB_MAP_VIPS		xlb_vips_v2
#define XLB_MAP_BACKENDS	xlb_backends_v1
#define XLB_MAP_RINGS		xlb_rings_v1
#define XLB_MAP_ANCHORS		xlb_anchors_v1
#define XLB_MAP_CONNTRACK	xlb_conntrack_v2
#define XLB_MAP_VIP_STATS	xlb_vstats_v2
#define XLB_MAP_BACKEND_STATS	xlb_bstats_v2
#define XLB_MAP_DEVMAP		xlb_devmap_v1
#define XLB_MAP_HOT		xlb_hot_v1	/* VIP filter, config, global counters */
#define XLB_MAP_FLOW_CACHE	xlb_flowcache_v1
#define XLB_MAP_DECAP_ADDRS	xlb_decap_addrs_v1
#define XLB_MAP_DECAP_STATS	xlb_decap_stats_v1
#define XLB_MAP_HC_STATS	xlb_hcstats_v1	/* bpf/hc.bpf.c; not pinned */

#define XLB_STR_(x)		#x
#define XLB_STR(x)		XLB_STR_(x)

#define XLB_PIN_ROOT_DEFAULT	"/sys/fs/bpf/xlb"

/* Address families as stored in the maps (not the host's AF_* values). */
#define XLB_AF_INET		4
#define XLB_AF_INET6		6

/* Defaults for the runtime-sized maps (set before load). */
#define XLB_DEF_MAX_VIPS	1024
#define XLB_DEF_MAX_BACKENDS	65536
#define XLB_DEF_CONNTRACK	1000000
#define XLB_DEF_RING_SIZE	65537
#define XLB_MAX_RING_SIZE	1048573	/* largest prime ring size we accept */
#define XLB_DEVMAP_SIZE		256

/*
 * The VIP filter: a bitmap of XLB_VFILTER_BITS bits over a fold of the
 * destination address.  A clear bit proves the address is no VIP, so
 * non-VIP traffic leaves after one array read.  Stored as u32 words.
 */
#define XLB_VFILTER_BITS	65536
#define XLB_VFILTER_WORDS	(XLB_VFILTER_BITS / 32)

/* struct xlb_vip_key.proto value of the per-address marker entry. */
#define XLB_PROTO_ADDR_MARKER	0

/*
 * VIP key: (address, port, protocol).  port 0 matches every port of the
 * address.  For every address that has at least one VIP, userspace also
 * keeps a marker entry {addr, port 0, proto XLB_PROTO_ADDR_MARKER}, which lets
 * the data plane recognise VIP-bound packets it cannot fully parse
 * (fragments, IP options, truncated L4) and drop them instead of leaking
 * them to the host.
 */
struct xlb_vip_key {
	__u32 addr[4];		/* NBO; IPv4 in addr[0], addr[1..3] zero */
	__u16 port;		/* NBO; 0 = every port */
	__u8 proto;		/* IPPROTO_TCP, IPPROTO_UDP, or 0 (marker) */
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
};

/* VIP flags */
#define XLB_VIP_F_HASH_SRC_ONLY	(1U << 0) /* ring slot from source address only */
#define XLB_VIP_F_NO_CONNTRACK	(1U << 1) /* never record flows (pure Maglev) */
#define XLB_VIP_F_DEAD_DROP	(1U << 2) /* flows of an unusable backend are dropped,
					   * not re-chosen (dead-backend policy) */
#define XLB_VIP_F_MARKER	(1U << 31) /* value of a marker entry */
#define XLB_VIP_F_ALL		(XLB_VIP_F_HASH_SRC_ONLY | XLB_VIP_F_NO_CONNTRACK | \
				 XLB_VIP_F_DEAD_DROP)

/* Encapsulation toward the backend.  The outer family is the backend's. */
#define XLB_ENCAP_IPIP		0	/* IPIP, IP6IP6, 4-in-6 or 6-in-4 */

struct xlb_vip {
	__u32 id;		/* HBO; 1..max_vips-1, index of rings/vip stats */
	__u32 flags;		/* HBO; XLB_VIP_F_* */
	__u8 encap;		/* XLB_ENCAP_* */
	__u8 pad[3];
	__u32 reserved;		/* zero */
};

/*
 * The data plane's VIP table: an open-addressed copy of the VIP entries of
 * xlb_vips (markers excluded), in a plain array of XLB_VIPTAB_SLOTS(max_vips)
 * slots, so that a lookup is a few inlined array reads rather than a hash map
 * call (docs/performance.md).  A key lives in one of the XLB_VIPTAB_PROBES
 * slots from xlb_vip_slot_hash() & (slots - 1), in order; a lookup stops at
 * an empty slot and skips deleted ones.  libxlb writes it beside xlb_vips.
 */
#define XLB_VIPTAB_PROBES	8
#define XLB_VIPTAB_TOMB		0xff	/* key.family of a deleted slot */
/* A power of two at least 4 times max_vips: chains stay short. */
#define XLB_VIPTAB_SLOTS(max_vips) \
	(1U << (32 - __builtin_clz((__u32)(max_vips) * 4U - 1U)))

struct xlb_vip_slot {
	struct xlb_vip_key key;	/* key.family: 0 = empty, XLB_VIPTAB_TOMB = deleted */
	struct xlb_vip vip;
	__u32 pad;
};

/*
 * Rings: an ARRAY_OF_MAPS indexed by VIP id.  Each inner map is an array
 * (BPF_F_INNER_MAP | BPF_F_MMAPABLE) of 8-byte elements, each holding two
 * u32 (HBO) slots, so an mmap of the ring has no padding.  Element 0 is the
 * header {M, 0}; slot s (0..M-1) is half (s & 1) of element 1 + s / 2 and
 * holds a backend id (0 = unset).  The inner map has 1 + (M + 1) / 2
 * elements.  Keeping M inside the ring makes the size and the content
 * switch together in the one outer-map update that publishes a new ring.
 */
#define XLB_RING_HDR		1
/* Anchors: the same layout in a second array of maps, which the data plane
 * never reads.  The control plane keeps each VIP's anchor table there
 * (docs/maglev.md) so that a restarted xlbd resumes the same chain. */
#define XLB_RING_ELEMS(m)	(XLB_RING_HDR + ((m) + 1) / 2)

/* Backend flags */
#define XLB_BE_F_UNUSABLE	(1U << 0) /* existing flows are re-chosen, or dropped
					   * under XLB_VIP_F_DEAD_DROP */

/*
 * Backend: indexed by backend id (HBO), 1..max_backends-1; id 0 means "no
 * backend".  An id names one (VIP, backend address) membership, so the same
 * host in two VIPs has two ids and two sets of counters.
 */
struct xlb_backend {
	__u32 addr[4];		/* NBO; IPv4 in addr[0] */
	__u8 family;		/* XLB_AF_*; 0 = unset entry */
	__u8 flags;		/* XLB_BE_F_* */
	__u16 pad;
	__u32 vip_id;		/* HBO; owning VIP, informational */
};

/* Conntrack key: the 5-tuple as seen on the wire. */
struct xlb_flow_key {
	__u32 src[4];		/* NBO */
	__u32 dst[4];		/* NBO */
	__u16 sport;		/* NBO */
	__u16 dport;		/* NBO */
	__u8 proto;		/* IPPROTO_* */
	__u8 family;		/* XLB_AF_* */
	__u16 pad;		/* zero */
};

struct xlb_flow {
	__u32 backend_id;	/* HBO */
	__u32 vip_id;		/* HBO; a hit for another VIP id is a miss */
	__u64 last_seen;	/* HBO; kernel jiffies (xlb_config.hz a second),
				 * refreshed at most once a second */
};

/*
 * The flow cache: each CPU's copy of the connection entries of the flows it
 * saw last, in front of the connection table (an LRU hash, whose lookup is
 * the costliest step of an established packet: docs/performance.md).  A
 * plain array holding one block of (flow_mask + 1) slots per possible CPU;
 * a flow's slot on CPU c is c * (flow_mask + 1) + (flow hash & flow_mask).
 * A slot is trusted for a second after the connection entry was last read
 * or written (@checked); then the entry is read again (which also keeps it
 * fresh in the LRU).  Only the data plane reads or writes it.
 */
struct xlb_flow_slot {
	struct xlb_flow_key key;	/* the flow; family 0 = empty */
	__u32 backend_id;	/* HBO; as in the connection entry */
	__u32 vip_id;		/* HBO */
	__u64 checked;		/* HBO; jiffies of the last connection table read */
	__u64 pad;
};
#define XLB_FLOW_CACHE_MAX	65536	/* slots per CPU at most */

/*
 * Per-VIP and per-backend counters.  Both maps are plain arrays holding one
 * block of max_vips (max_backends) values per possible CPU: the value of id
 * i on CPU c is entry c * max + i.  A plain array costs the data plane less
 * than a per-CPU one here (docs/performance.md), and each CPU still writes
 * only its own entries.
 */
struct xlb_counters {
	__u64 packets;
	__u64 bytes;		/* bytes of the frames as received */
	__u64 new_flows;	/* ring lookups (SYN, miss, re-choice) */
	__u64 reserved;
};

/*
 * Next hop learnt from bpf_fib_lookup for one backend, kept per CPU beside
 * the backend's counters and trusted for a second (xlb_config.hz jiffies),
 * so the FIB is asked about once a second per backend and CPU rather than for
 * every packet.
 */
struct xlb_nh_cache {
	__u64 expires;		/* HBO; kernel jiffies; 0 = empty */
	__u32 ifindex;		/* HBO; egress device */
	__u16 mtu;		/* HBO; route MTU (outer packets above it drop) */
	__u8 dmac[6];
	__u8 smac[6];
	__u8 pad[6];
};


/*
 * This CPU's copy of a backend entry (struct xlb_backend), so that a packet
 * whose flow is known reads one per-backend value instead of two.  It is
 * current while @gen equals xlb_config.be_gen, which userspace bumps after
 * every write to the backends map; on a mismatch the data plane copies the
 * entry again.
 */
struct xlb_be_cache {
	__u32 addr[4];		/* NBO; copy of xlb_backend.addr */
	__u8 family;		/* copy of xlb_backend.family (0 = unset) */
	__u8 flags;		/* copy of xlb_backend.flags */
	__u16 pad;
	__u32 gen;		/* HBO; xlb_config.be_gen of the copy; 0 = empty */
	__u32 reserved[2];
};

/* Per-CPU value of the backend counters map: counters, next hop, and the
 * copy of the backend entry. */
struct xlb_backend_pcpu {
	struct xlb_counters c;
	struct xlb_nh_cache nh;
	struct xlb_be_cache be;
};

/*
 * Global counters.  X(name, kind): kind is DROP for drop reasons, PASS for
 * reasons a packet went to the kernel, EVENT for other events.  Every drop
 * increments exactly one DROP reason.  Each possible CPU has one struct
 * xlb_global_stats in the hot map (union xlb_hot), at entry
 * XLB_HOT_GSTATS + CPU id: a plain array, so that counting does not touch a
 * vmalloc'd per-CPU page (docs/performance.md).
 */
#define XLB_REASONS(X)						\
	X(NOT_IP, PASS)		/* neither IPv4 nor IPv6 (ARP...) */	\
	X(NOT_VIP, PASS)	/* no VIP for the destination */	\
	X(TRUNC_L2, PASS)	/* Ethernet/VLAN header cut short */	\
	X(TRUNC_L3, PASS)	/* IP header cut short */		\
	X(BAD_IHL, PASS)	/* IPv4 IHL < 5 */			\
	X(BAD_LEN, PASS)	/* IP length < header or > frame */	\
	X(NO_NEIGH, PASS)	/* encapsulated, kernel resolves neigh */ \
	X(DEVMAP_MISS, PASS)	/* encapsulated, egress not in devmap */ \
	X(FRAGMENT, DROP)	/* IP fragment to a VIP address */	\
	X(IP_OPTIONS, DROP)	/* IPv4 options to a VIP address */	\
	X(IPV6_EXT, DROP)	/* IPv6 extension header to a VIP */	\
	X(TRUNC_L4, DROP)	/* TCP/UDP header cut short, to a VIP */ \
	X(BAD_TCP_DOFF, DROP)	/* TCP data offset < 5, to a VIP */	\
	X(VIP_PROTO, DROP)	/* other protocol to a VIP address */	\
	X(NO_RING, DROP)	/* VIP has no published ring */		\
	X(RING_EMPTY_SLOT, DROP) /* ring slot holds backend 0 */	\
	X(BAD_BACKEND, DROP)	/* ring names an unset backend */	\
	X(BACKEND_UNUSABLE, DROP) /* chosen backend is unusable */	\
	X(ADJUST_HEAD, DROP)	/* no headroom for the encapsulation */	\
	X(NO_ROUTE, DROP)	/* no route and no static next hop */	\
	X(FRAG_NEEDED, DROP)	/* encapsulated packet exceeds MTU */	\
	X(FIB_STATIC, EVENT)	/* fib failed, static next hop used */	\
	X(CT_UPDATE_FAIL, EVENT) /* flow could not be recorded */

enum xlb_reason {
#define XLB_X_ENUM(name, kind) XLB_R_##name,
	XLB_REASONS(XLB_X_ENUM)
#undef XLB_X_ENUM
	XLB_R_MAX
};

#define XLB_REASON_SLOTS	32	/* room for growth without a layout bump */
#define XLB_VERDICT_SLOTS	8	/* indexed by XDP action (XDP_ABORTED..) */

struct xlb_global_stats {
	__u64 verdict[XLB_VERDICT_SLOTS];	/* packets per XDP action */
	__u64 reason[XLB_REASON_SLOTS];		/* packets per enum xlb_reason */
};


/* Config flags */
#define XLB_CFG_F_STATIC_NH	(1U << 0) /* static next hop is configured */
#define XLB_CFG_F_SKIP_FIB	(1U << 1) /* always use the static next hop */

/*
 * Runtime configuration: a single-entry array.  The outer source address of
 * encapsulated packets is the configured prefix with the low bits replaced
 * by the flow hash, so a backend's RSS spreads flows over its queues.
 */
struct xlb_config {
	__u32 src4;		/* NBO; outer IPv4 source prefix */
	__u32 src4_mask;	/* NBO; bits taken from the prefix */
	__u32 src6[4];		/* NBO; outer IPv6 source prefix (/96 used) */
	__u32 flags;		/* HBO; XLB_CFG_F_* */
	__u32 nh_ifindex;	/* HBO; static next hop device */
	__u8 nh_dmac[6];	/* static next hop destination MAC */
	__u8 nh_smac[6];	/* static next hop source MAC */
	/* Written by libxlb alone (xlb_config_set keeps them): */
	__u32 seed;		/* HBO; flow hash seed, from xlb_open */
	__u32 be_gen;		/* HBO; backends generation: bumped after every
				 * backend write; never 0 */
	__u32 max_vips;		/* HBO; per-CPU block size of the VIP counters */
	__u32 max_backends;	/* HBO; the same for the backend counters */
	__u32 hz;		/* HBO; kernel jiffies per second */
	__u32 vip_mask;		/* HBO; slots of xlb_viptab - 1 */
	__u32 flow_mask;	/* HBO; flow cache slots per CPU - 1 */
	__u32 hot_viptab;	/* HBO; first VIP table entry of the hot map */
	__u32 pad;
};

/*
 * The hot map (XLB_MAP_HOT): the VIP filter and the global counters in one
 * plain array with the runtime configuration and the VIP table, so that a
 * packet that is not for a VIP reads a single map, and a forwarded one two
 * maps fewer (each distinct map costs a cold first read;
 * docs/performance.md).
 * Entries 0 .. XLB_HOT_FILTER_ENTRIES - 1 hold the filter: word w of the
 * bitmap (bits 32w .. 32w + 31) is vfilter[w % XLB_HOT_WORDS] of entry
 * w / XLB_HOT_WORDS.  Entry XLB_HOT_CONFIG holds struct xlb_config (the rest
 * of the entry zero).  Entry XLB_HOT_GSTATS + cpu holds that CPU's global
 * counters.  Entry xlb_config.hot_viptab (XLB_HOT_GSTATS + possible CPUs)
 * and on hold the VIP table: slot s is vips[s % XLB_HOT_VIPS] of entry
 * hot_viptab + s / XLB_HOT_VIPS.  Userspace sizes the map to hot_viptab +
 * XLB_HOT_VIPTAB_ENTRIES(max_vips).
 */
#define XLB_HOT_WORDS		64	/* filter words per entry (2048 bits) */
#define XLB_HOT_FILTER_ENTRIES	(XLB_VFILTER_WORDS / XLB_HOT_WORDS)
#define XLB_HOT_CONFIG		XLB_HOT_FILTER_ENTRIES	/* the config entry */
#define XLB_HOT_GSTATS		(XLB_HOT_CONFIG + 1)	/* first CPU's counters */
#define XLB_HOT_VIPS		8	/* VIP table slots per entry */
#define XLB_HOT_VIPTAB_ENTRIES(max_vips) \
	((XLB_VIPTAB_SLOTS(max_vips) + XLB_HOT_VIPS - 1) / XLB_HOT_VIPS)

union xlb_hot {
	__u32 vfilter[XLB_HOT_WORDS];	/* filter entries: bitmap words, HBO */
	struct xlb_config cfg;		/* the config entry */
	struct xlb_global_stats g;	/* counter entries */
	struct xlb_vip_slot vips[XLB_HOT_VIPS];	/* VIP table entries */
};

/*
 * Decapsulator (bpf/decap.bpf.c): the outer destination addresses a backend
 * accepts encapsulated packets for.  Value: u32, unused (1).
 */
struct xlb_decap_key {
	__u32 addr[4];		/* NBO; IPv4 in addr[0] */
	__u8 family;		/* XLB_AF_* */
	__u8 pad[3];
};
#define XLB_DECAP_MAX_ADDRS	64

/* Decapsulator counters: a per-CPU array indexed by these. */
enum xlb_decap_counter {
	XLB_DC_DECAP4,		/* outer IPv4 removed */
	XLB_DC_DECAP6,		/* outer IPv6 removed */
	XLB_DC_NOT_OURS,	/* tunnel packet to another address: passed */
	XLB_DC_MALFORMED,	/* broken outer/inner header: passed */
	XLB_DC_MAX
};

/*
 * Data-path health probes (bpf/hc.bpf.c, docs/design.md).  A probe socket
 * of the LB host carries SO_MARK XLB_HC_MARK_BASE + backend id; the tc
 * egress program encapsulates such packets toward that backend exactly as
 * the XDP program encapsulates client traffic.  The top 12 bits of the mark
 * (0x584, "X" and a 4) say "probe", the low 20 bits are the id, so ids up to
 * XLB_HC_MARK_ID_MASK can be probed this way, and one policy-routing rule
 * (ip rule add fwmark 0x58400000/0xfff00000 ...) matches every probe.
 */
#define XLB_HC_MARK_BASE	0x58400000U
#define XLB_HC_MARK_MASK	0xfff00000U	/* bits that must equal the base */
#define XLB_HC_MARK_ID_MASK	0x000fffffU	/* bits that hold the backend id */
_Static_assert((XLB_HC_MARK_BASE & XLB_HC_MARK_ID_MASK) == 0 &&
	       (XLB_HC_MARK_MASK | XLB_HC_MARK_ID_MASK) == 0xffffffffU, "probe mark layout");

/* Probe encapsulator counters: a per-CPU array of u64 indexed by these. */
enum xlb_hcp_counter {
	XLB_HCP_ENCAP,		/* encapsulated and redirected toward the backend */
	XLB_HCP_NO_BACKEND,	/* id out of range or unset entry: dropped */
	XLB_HCP_FIB_FAIL,	/* no route to the backend: dropped */
	XLB_HCP_ERROR,		/* not IP, no room, or a helper failed: dropped */
	XLB_HCP_MAX
};

_Static_assert(sizeof(struct xlb_decap_key) == 20, "xlb_decap_key layout");
_Static_assert(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key layout");
_Static_assert(sizeof(struct xlb_vip) == 16, "xlb_vip layout");
_Static_assert(sizeof(struct xlb_vip_slot) == 40, "xlb_vip_slot layout");
_Static_assert(sizeof(struct xlb_backend) == 24, "xlb_backend layout");
_Static_assert(sizeof(struct xlb_flow_key) == 40, "xlb_flow_key layout");
_Static_assert(sizeof(struct xlb_flow) == 16, "xlb_flow layout");
_Static_assert(sizeof(struct xlb_counters) == 32, "xlb_counters layout");
_Static_assert(sizeof(struct xlb_nh_cache) == 32, "xlb_nh_cache layout");
_Static_assert(sizeof(struct xlb_be_cache) == 32, "xlb_be_cache layout");
_Static_assert(sizeof(struct xlb_backend_pcpu) == 96, "xlb_backend_pcpu layout");
_Static_assert(sizeof(struct xlb_global_stats) == 320, "xlb_global_stats layout");
_Static_assert(sizeof(union xlb_hot) == 320, "xlb_hot layout");
_Static_assert(XLB_HOT_FILTER_ENTRIES * XLB_HOT_WORDS == XLB_VFILTER_WORDS, "xlb_hot filter");
_Static_assert(sizeof(struct xlb_config) == 80, "xlb_config layout");
_Static_assert(sizeof(struct xlb_flow_slot) == 64, "xlb_flow_slot layout");
_Static_assert(XLB_R_MAX <= XLB_REASON_SLOTS, "too many reasons");

#endif /* XLB_XLB_H */
