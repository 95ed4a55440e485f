// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Baseline programs for `make bench` (tests/bench/bench_prog.c).  The data
 * plane is timed as a ratio to these, measured the same way in the same run:
 * xdp_empty gives the fixed cost of the timing harness, xdp_swap_tx the
 * cheapest program that still forwards a frame.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_empty(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

/* Send the frame back where it came from: swap the Ethernet addresses. */
SEC("xdp")
int xdp_swap_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 tmp[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
