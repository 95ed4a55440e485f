/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Parsing and formatting of addresses and VIP keys.  No libbpf. */
#ifndef XLB_ADDR_H
#define XLB_ADDR_H

#include <stddef.h>
#include <xlb/xlb.h>

/* Longest string xlb_vip_key_fmt() writes, NUL included. */
#define XLB_VIP_STRLEN	64

/* Parse an IPv4 or IPv6 address (no brackets) into addr[4] (NBO) and
 * *family (XLB_AF_*).  Returns 0 or -EINVAL. */
int xlb_addr_parse(const char *s, __u32 addr[4], __u8 *family);
/* Format addr into buf; returns buf. */
const char *xlb_addr_fmt(const __u32 addr[4], __u8 family, char *buf, size_t len);

/*
 * Parse "ADDR:PORT/PROTO", "[ADDR6]:PORT/PROTO", "ADDR/PROTO" (port 0, all
 * ports).  PROTO is tcp or udp.  Returns 0, or -EINVAL with *err (if not
 * NULL) pointing to a static message naming what was expected.
 */
int xlb_vip_key_parse(const char *s, struct xlb_vip_key *k, const char **err);
/* Format a VIP key as "addr:port/proto" ("[v6]:port/proto"). */
const char *xlb_vip_key_fmt(const struct xlb_vip_key *k, char *buf, size_t len);

/* Parse a MAC "aa:bb:cc:dd:ee:ff".  Returns 0 or -EINVAL. */
int xlb_mac_parse(const char *s, __u8 mac[6]);

#endif /* XLB_ADDR_H */
