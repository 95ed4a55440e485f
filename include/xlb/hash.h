/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow hash, shared by the data plane and userspace (tests and tools
 * predict ring slots and outer source addresses with it).  It must give the
 * same value on every host for the same input and seed, so it works on the
 * 32-bit words exactly as they sit in the packet (network byte order) and
 * never depends on the host's endianness.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>

#ifndef XLB_INLINE
#define XLB_INLINE static inline __attribute__((always_inline))
#endif

/* Word order within a u32 loaded from packet bytes is the host's; fold it
 * to a byte-order-independent value by hashing the bytes' big-endian value.
 */
XLB_INLINE __u32 xlb_be32_val(__u32 w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(w);
#else
	return w;
#endif
}

XLB_INLINE __u32 xlb_be16_val(__u16 w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__u16)((w >> 8) | (w << 8));
#else
	return w;
#endif
}

XLB_INLINE __u32 xlb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* One murmur3-style mixing round: returns the updated state. */
XLB_INLINE __u32 xlb_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51U;
	k = xlb_rotl32(k, 15);
	k *= 0x1b873593U;
	h ^= k;
	h = xlb_rotl32(h, 13);
	return h * 5 + 0xe6546b64U;
}

/* Final avalanche: every input bit affects every output bit. */
XLB_INLINE __u32 xlb_fmix(__u32 h, __u32 len)
{
	h ^= len;
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

/*
 * Hash of a flow.  src/dst are 4 NBO words (IPv4: word 0 only, nwords 1),
 * ports NBO as on the wire.  Returns the 32-bit flow hash.
 */
XLB_INLINE __u32 xlb_flow_hash(const __u32 *src, const __u32 *dst, int nwords,
			       __u16 sport, __u16 dport, __u8 proto, __u32 seed)
{
	__u32 h = seed;
	int i;

	for (i = 0; i < 4; i++) {
		if (i >= nwords)
			break;
		h = xlb_mix(h, xlb_be32_val(src[i]));
		h = xlb_mix(h, xlb_be32_val(dst[i]));
	}
	h = xlb_mix(h, xlb_be16_val(sport) << 16 | xlb_be16_val(dport));
	h = xlb_mix(h, proto);
	return xlb_fmix(h, (__u32)nwords);
}

/* Hash of the source address only (client affinity). */
XLB_INLINE __u32 xlb_src_hash(const __u32 *src, int nwords, __u32 seed)
{
	__u32 h = seed ^ 0x5bd1e995U;
	int i;

	for (i = 0; i < 4; i++) {
		if (i >= nwords)
			break;
		h = xlb_mix(h, xlb_be32_val(src[i]));
	}
	return xlb_fmix(h, (__u32)nwords);
}

/* Home slot hash of a VIP key in the VIP table (struct xlb_vip_slot): @addr
 * NBO words (IPv4: nwords 1), @port NBO. */
XLB_INLINE __u32 xlb_vip_slot_hash(const __u32 *addr, int nwords, __u16 port, __u8 proto)
{
	__u32 h = 0x786c6221U;
	int i;

	for (i = 0; i < 4; i++) {
		if (i >= nwords)
			break;
		h = xlb_mix(h, xlb_be32_val(addr[i]));
	}
	h = xlb_mix(h, xlb_be16_val(port) << 8 | proto);
	return xlb_fmix(h, (__u32)nwords);
}

/* Fold of a destination address to a VIP-filter bit index. */
XLB_INLINE __u32 xlb_vfilter_bit(const __u32 *addr, int nwords)
{
	__u32 x = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (i >= nwords)
			break;
		x ^= xlb_be32_val(addr[i]);
	}
	x ^= x >> 16;
	x *= 0x45d9f3bU;
	x ^= x >> 16;
	return x & 0xffff;
}

#endif /* XLB_HASH_H */
