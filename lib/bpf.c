/* BPF filter text for one connection.
 *
 * The filter must be exact: hs runs next to a kernel stack and other traffic, and
 * every frame the filter lets through costs a wake-up and a decode on the hot path.
 * Each direction of the 4-tuple is spelled out in full (a plain "host A and host B
 * and port P and port Q" would also take A:Q -> B:P), and ICMP is limited to the
 * error types that can quote one of our segments, so that echo requests and IPv6
 * neighbour discovery never wake us up. */
#include <config.h>

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "hs/capture.h"

/* A string builder that remembers whether anything was cut off. */
struct text {
	char *buf;
	size_t len, used;
	bool overflow;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	size_t room = t->used < t->len ? t->len - t->used : 0;

	va_start(ap, fmt);
	int n = vsnprintf(room ? t->buf + t->used : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		t->overflow = true;
	else
		t->used += (size_t)n;
}

/* Appends " and <dir> host ADDR" (if the address is known) and " and <dir> port N"
 * (if the port is known); *first says whether a term was written before. */
static void put_endpoint(struct text *t, const char *dir, const hs_endpoint *e, bool *first)
{
	char addr[INET6_ADDRSTRLEN];

	if (e->addr.family == AF_INET || e->addr.family == AF_INET6) {
		if (!inet_ntop(e->addr.family, &e->addr.u, addr, sizeof(addr))) {
			t->overflow = true;
			return;
		}
		put(t, "%s%s host %s", *first ? "" : " and ", dir, addr);
		*first = false;
	}
	if (e->port) {
		put(t, "%s%s port %u", *first ? "" : " and ", dir, (unsigned)e->port);
		*first = false;
	}
}

static bool endpoint_known(const hs_endpoint *e)
{
	return e->addr.family != 0 || e->port != 0;
}

/* "(src host A and src port P and dst host B and dst port Q)" with the known terms. */
static void put_direction(struct text *t, const hs_endpoint *from, const hs_endpoint *to)
{
	bool first = true;

	put(t, "(");
	put_endpoint(t, "src", from, &first);
	put_endpoint(t, "dst", to, &first);
	put(t, ")");
}

static void put_tcp(struct text *t, int family, const hs_endpoint *local, const hs_endpoint *remote)
{
	const char *proto = family == AF_INET ? "ip and tcp" : family == AF_INET6 ? "ip6 and tcp" : "tcp";

	if (!endpoint_known(local) && !endpoint_known(remote)) {
		put(t, "(%s)", proto);
		return;
	}
	put(t, "(%s and (", proto);
	put_direction(t, local, remote);
	put(t, " or ");
	put_direction(t, remote, local);
	put(t, "))");
}

/* ICMP errors that quote a datagram: destination unreachable, time exceeded,
 * parameter problem. */
static void put_icmp4(struct text *t, const hs_endpoint *local)
{
	char addr[INET_ADDRSTRLEN];

	put(t, "(icmp and ");
	if (local->addr.family == AF_INET && inet_ntop(AF_INET, &local->addr.u.v4, addr, sizeof(addr)))
		put(t, "dst host %s and ", addr);
	put(t, "(icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))");
}

/* ICMPv6 error messages are types 0-127, informational ones (echo, neighbour and
 * router discovery, MLD) 128-255. ip6[40] is the type when no extension header
 * comes first, which is also the only case "icmp6" matches. */
static void put_icmp6(struct text *t, const hs_endpoint *local)
{
	char addr[INET6_ADDRSTRLEN];

	put(t, "(icmp6 and ");
	if (local->addr.family == AF_INET6 && inet_ntop(AF_INET6, &local->addr.u.v6, addr, sizeof(addr)))
		put(t, "dst host %s and ", addr);
	put(t, "ip6[40] < 128)");
}

int hs_bpf_conn(const hs_endpoint *local, const hs_endpoint *remote, char *buf, size_t len)
{
	struct text t = { .buf = buf, .len = len };
	int family = local->addr.family ? local->addr.family : remote->addr.family;

	if (!buf || len == 0)
		return -1;
	buf[0] = '\0';
	if (local->addr.family && remote->addr.family && local->addr.family != remote->addr.family)
		return -1;
	if (family != 0 && family != AF_INET && family != AF_INET6)
		return -1;

	put_tcp(&t, family, local, remote);
	if (family != AF_INET6) {
		put(&t, " or ");
		put_icmp4(&t, local);
	}
	if (family != AF_INET) {
		put(&t, " or ");
		put_icmp6(&t, local);
	}
	if (t.overflow) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

int hs_bpf_range(const hs_addr *local, uint16_t port_lo, uint16_t port_hi, const hs_endpoint *remote,
                 char *buf, size_t len)
{
	struct text t = { .buf = buf, .len = len };
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	int family = remote->addr.family;
	const char *proto = family == AF_INET ? "ip and tcp" : "ip6 and tcp";
	hs_endpoint lep = { .addr = *local };

	if (!buf || len == 0)
		return -1;
	buf[0] = '\0';
	if ((family != AF_INET && family != AF_INET6) || local->family != family || !remote->port || !port_lo ||
	    port_lo > port_hi || !inet_ntop(family, &local->u, l, sizeof(l)) ||
	    !inet_ntop(family, &remote->addr.u, r, sizeof(r)))
		return -1;
	/* The peer's segments, and of ours only the SYNs as they leave (their capture
	 * time starts each handshake's RTT): our ACKs and RSTs would only fill the ring.
	 * The flags byte: tcp[13] for IPv4; ip6[53] for IPv6 without extension headers
	 * (libpcap has no tcp[] for IPv6). */
	put(&t, "(%s and ((src host %s and src portrange %u-%u and dst host %s and dst port %u and %s & 2 != 0) or "
	    "(src host %s and src port %u and dst host %s and dst portrange %u-%u)))",
	    proto, l, port_lo, port_hi, r, remote->port, family == AF_INET ? "tcp[13]" : "ip6[53]", r, remote->port, l,
	    port_lo, port_hi);
	put(&t, " or ");
	if (family == AF_INET)
		put_icmp4(&t, &lep);
	else
		put_icmp6(&t, &lep);
	if (t.overflow) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}
