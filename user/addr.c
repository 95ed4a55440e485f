// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"

int xlb_addr_parse(const char *s, __u32 addr[4], __u8 *family)
{
	struct in6_addr a6;
	struct in_addr a4;

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, &a4) == 1) {
		addr[0] = a4.s_addr;
		*family = XLB_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		memcpy(addr, &a6, 16);
		*family = XLB_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *xlb_addr_fmt(const __u32 addr[4], __u8 family, char *buf, size_t len)
{
	if (!inet_ntop(family == XLB_AF_INET ? AF_INET : AF_INET6, addr, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

int xlb_vip_key_parse(const char *s, struct xlb_vip_key *k, const char **err)
{
	char buf[XLB_VIP_STRLEN * 2], *host, *port = NULL, *proto, *end;
	const char *msg = NULL;
	unsigned long p = 0;

	memset(k, 0, sizeof(*k));
	if (strlen(s) >= sizeof(buf)) {
		msg = "VIP too long: expected ADDR:PORT/PROTO";
		goto fail;
	}
	strcpy(buf, s);
	proto = strrchr(buf, '/');
	if (!proto) {
		msg = "missing /tcp or /udp: expected ADDR:PORT/PROTO";
		goto fail;
	}
	*proto++ = '\0';
	if (!strcmp(proto, "tcp")) {
		k->proto = IPPROTO_TCP;
	} else if (!strcmp(proto, "udp")) {
		k->proto = IPPROTO_UDP;
	} else {
		msg = "unknown protocol: expected tcp or udp";
		goto fail;
	}
	host = buf;
	if (*host == '[') {
		char *rb = strchr(host, ']');

		if (!rb) {
			msg = "missing ']' after IPv6 address";
			goto fail;
		}
		*rb = '\0';
		host++;
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1]) {
			msg = "expected ':PORT' after ']'";
			goto fail;
		}
	} else {
		char *c = strrchr(host, ':');

		/* One colon: v4 with port.  More: a bare IPv6 address. */
		if (c && c == strchr(host, ':')) {
			*c = '\0';
			port = c + 1;
		}
	}
	if (xlb_addr_parse(host, k->addr, &k->family)) {
		msg = "invalid address: expected IPv4 or [IPv6]";
		goto fail;
	}
	if (port) {
		errno = 0;
		p = strtoul(port, &end, 10);
		if (!*port || *end || errno || p > 65535) {
			msg = "invalid port: expected 0-65535";
			goto fail;
		}
	}
	k->port = htons((__u16)p);
	return 0;
fail:
	if (err)
		*err = msg;
	return -EINVAL;
}

const char *xlb_vip_key_fmt(const struct xlb_vip_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	const char *proto = k->proto == IPPROTO_TCP ? "tcp" :
			    k->proto == IPPROTO_UDP ? "udp" : "any";

	xlb_addr_fmt(k->addr, k->family, a, sizeof(a));
	if (k->family == XLB_AF_INET6)
		snprintf(buf, len, "[%s]:%u/%s", a, ntohs(k->port), proto);
	else
		snprintf(buf, len, "%s:%u/%s", a, ntohs(k->port), proto);
	return buf;
}

int xlb_mac_parse(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	return 0;
}
