/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef XLB_CSUM_BPF_H
#define XLB_CSUM_BPF_H

#include <linux/ip.h>

/* Fold a 32-bit-or-wider one's-complement sum to 16 bits, complemented. */
static __always_inline __u16 csum_fold_(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Header checksum of a 20-byte IPv4 header (its check field must be 0).
 * Works on a header in the packet or on the stack. */
static __always_inline __u16 ipv4_csum(const struct iphdr *iph)
{
	const __u32 *w = (const __u32 *)iph;
	__u64 sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];

	return csum_fold_(sum);
}

#endif /* XLB_CSUM_BPF_H */
