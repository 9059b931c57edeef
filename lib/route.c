/* Source address and interface the way the kernel would choose them, and the local
 * ports in use, from /proc (which shows the current network namespace). */
#include <config.h>
#include <sys/ioctl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hs/random.h"
#include "hs/route.h"

static bool is_loopback(const hs_addr *a)
{
	if (a->family == AF_INET)
		return (ntohl(a->u.v4.s_addr) >> 24) == 127;
	return a->family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->u.v6);
}

static bool is_link_local6(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

static bool ifa_address(const struct ifaddrs *ifa, hs_addr *out)
{
	hs_endpoint e;

	if (!ifa->ifa_addr || (ifa->ifa_addr->sa_family != AF_INET && ifa->ifa_addr->sa_family != AF_INET6))
		return false;
	hs_endpoint_from_sockaddr(ifa->ifa_addr, &e);
	*out = e.addr;
	return true;
}

/* The interface that holds addr, into iface. Returns 0 or -1. */
static int iface_holding(const hs_addr *addr, char *iface, size_t iflen)
{
	struct ifaddrs *list, *ifa;
	int rc = -1;

	if (getifaddrs(&list) < 0)
		return -1;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		hs_addr a;
		if (ifa_address(ifa, &a) && hs_addr_equal(&a, addr) && ifa->ifa_name) {
			snprintf(iface, iflen, "%s", ifa->ifa_name);
			rc = 0;
			break;
		}
	}
	freeifaddrs(list);
	return rc;
}

int hs_route_source(const hs_addr *dst, const char *bind_iface, hs_addr *src, char *iface, size_t iflen,
                    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	hs_endpoint to = { .port = 9 }, from;
	char dtext[INET6_ADDRSTRLEN + 1], stext[INET6_ADDRSTRLEN + 1];
	int fd;

	if (!dst || (dst->family != AF_INET && dst->family != AF_INET6)) {
		snprintf(err, errlen, "no destination address");
		return -1;
	}
	hs_addr_format(dst, dtext, sizeof(dtext));
	fd = socket(dst->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open a %s socket: %s", dst->family == AF_INET ? "IPv4" : "IPv6",
		         strerror(errno));
		return -1;
	}
	if (bind_iface && *bind_iface &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, bind_iface, (socklen_t)strlen(bind_iface) + 1) < 0) {
		int e = errno;
		close(fd);
		if (e == ENODEV)
			snprintf(err, errlen, "no such interface %s", bind_iface);
		else
			snprintf(err, errlen, "cannot bind to interface %s: %s%s", bind_iface, strerror(e),
			         e == EPERM ? " (needs CAP_NET_RAW)" : "");
		return -1;
	}
	/* A UDP connect() only routes: no packet leaves. */
	to.addr = *dst;
	sslen = (socklen_t)hs_endpoint_to_sockaddr(&to, &ss);
	if (dst->family == AF_INET6 && is_link_local6(&dst->u.v6) && bind_iface && *bind_iface)
		((struct sockaddr_in6 *)(void *)&ss)->sin6_scope_id = if_nametoindex(bind_iface);
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0) {
		int e = errno;
		close(fd);
		if (e == ENETUNREACH || e == EHOSTUNREACH)
			snprintf(err, errlen, "no route to %s: %s", dtext, strerror(e));
		else if (e == EINVAL && dst->family == AF_INET6 && is_link_local6(&dst->u.v6))
			snprintf(err, errlen, "link-local destination %s needs an interface (-i IFACE)", dtext);
		else
			snprintf(err, errlen, "cannot choose a source address for %s: %s", dtext, strerror(e));
		return -1;
	}
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "cannot choose a source address for %s: %s", dtext, strerror(e));
		return -1;
	}
	close(fd);
	hs_endpoint_from_sockaddr(&ss, &from);
	*src = from.addr;
	if (!iface || !iflen)
		return 0;
	/* Local destinations are reached through lo, whatever interface holds them. */
	if (hs_addr_equal(src, dst) || is_loopback(src) || is_loopback(dst)) {
		snprintf(iface, iflen, "lo");
		return 0;
	}
	if (bind_iface && *bind_iface) {
		snprintf(iface, iflen, "%s", bind_iface);
		return 0;
	}
	if (iface_holding(src, iface, iflen) < 0) {
		hs_addr_format(src, stext, sizeof(stext));
		snprintf(err, errlen, "the source address %s for %s is on no interface (use -i IFACE)", stext, dtext);
		return -1;
	}
	return 0;
}

int hs_addr_check_local(const hs_addr *addr, const char *iface, char *err, size_t errlen)
{
	hs_endpoint ep = { .addr = *addr, .port = 0 };
	struct sockaddr_storage ss;
	char text[INET6_ADDRSTRLEN + 1];
	socklen_t sslen;
	int fd, e = 0;

	hs_addr_format(addr, text, sizeof(text));
	sslen = (socklen_t)hs_endpoint_to_sockaddr(&ep, &ss);
	if (!sslen) {
		snprintf(err, errlen, "no address to bind to");
		return -1;
	}
	if (addr->family == AF_INET6 && is_link_local6(&addr->u.v6) && iface && *iface)
		((struct sockaddr_in6 *)(void *)&ss)->sin6_scope_id = if_nametoindex(iface);
	fd = socket(addr->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open a socket to check %s: %s", text, strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0)
		e = errno;
	close(fd);
	if (!e)
		return 0;
	if (e == EADDRNOTAVAIL)
		snprintf(err, errlen, "%s is not an address of this host: bind() would fail with %s "
		         "(see ip addr; or omit ADDR to listen on all)", text, strerror(e));
	else if (e == EINVAL && addr->family == AF_INET6 && is_link_local6(&addr->u.v6))
		snprintf(err, errlen, "link-local address %s needs an interface (-i IFACE)", text);
	else
		snprintf(err, errlen, "cannot bind to %s: %s", text, strerror(e));
	return -1;
}

int hs_iface_mtu(const char *name)
{
	struct ifreq ifr;
	int fd, mtu = -1;

	if (!name || !*name || strlen(name) >= sizeof(ifr.ifr_name))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

bool hs_iface_exists(const char *name)
{
	return name && *name && strlen(name) < IF_NAMESIZE && if_nametoindex(name) != 0;
}

int hs_iface_addr(const char *name, int family, hs_addr *out)
{
	struct ifaddrs *list, *ifa;
	int rc = -1;

	if (!name || getifaddrs(&list) < 0)
		return -1;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		hs_addr a;
		if (!ifa->ifa_name || strcmp(ifa->ifa_name, name) != 0 || !ifa_address(ifa, &a))
			continue;
		if (a.family != family || (family == AF_INET6 && is_link_local6(&a.u.v6)))
			continue;
		*out = a;
		rc = 0;
		break;
	}
	freeifaddrs(list);
	return rc;
}

/* ---- local ports, from /proc/net/tcp and tcp6 -------------------------------------- */

#define TCP_LISTEN_STATE 0x0A

/* Calls mark(port, arg) for each socket line of /proc/net/tcp{,6} (only LISTEN ones
 * when listening_only). Lines look like
 *   "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 ..." */
static void each_local_port(bool listening_only, void (*mark)(uint16_t, void *), void *arg)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "re");
		char line[512];

		if (!f)
			continue; /* no IPv6 in this kernel: nothing to mark */
		if (!fgets(line, sizeof(line), f)) { /* the header */
			fclose(f);
			continue;
		}
		while (fgets(line, sizeof(line), f)) {
			char local[64];
			unsigned port, state;
			char *colon;

			if (sscanf(line, "%*s %63s %*s %x", local, &state) != 2)
				continue;
			colon = strrchr(local, ':');
			if (!colon || sscanf(colon + 1, "%x", &port) != 1 || port > 65535)
				continue;
			if (listening_only && state != TCP_LISTEN_STATE)
				continue;
			mark((uint16_t)port, arg);
		}
		fclose(f);
	}
}

struct port_query {
	uint16_t port;
	bool found;
};

static void match_port(uint16_t port, void *arg)
{
	struct port_query *q = arg;

	if (port == q->port)
		q->found = true;
}

bool hs_local_port_in_use(uint16_t port, bool listening_only)
{
	struct port_query q = { port, false };

	each_local_port(listening_only, match_port, &q);
	return q.found;
}

/* One bit per port. */
struct port_set {
	unsigned char bits[65536 / 8];
};

static void set_port(uint16_t port, void *arg)
{
	struct port_set *s = arg;

	s->bits[port / 8] |= (unsigned char)(1u << (port % 8));
}

static bool has_port(const struct port_set *s, unsigned port)
{
	return s->bits[port / 8] & (1u << (port % 8));
}

/* ip_local_reserved_ports: "8080,9000-9010" (possibly empty). */
static void mark_reserved(struct port_set *s)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_reserved_ports", "re");
	char buf[4096];
	char *p, *tok, *save = NULL;

	if (!f)
		return;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return;
	}
	fclose(f);
	for (p = buf; (tok = strtok_r(p, ",\n", &save)); p = NULL) {
		unsigned lo, hi;
		int n = sscanf(tok, "%u-%u", &lo, &hi);
		if (n == 1)
			hi = lo;
		if (n < 1 || lo > hi || hi > 65535)
			continue;
		for (unsigned port = lo; port <= hi; port++)
			set_port((uint16_t)port, s);
	}
}

uint16_t hs_pick_ephemeral_port(void)
{
	static struct port_set used; /* 8 KiB: static, not on the stack */
	uint16_t range_lo, range_hi;
	unsigned lo, hi, span, start;

	hs_ephemeral_range(&range_lo, &range_hi);
	lo = range_lo;
	hi = range_hi;
	hs_local_ports_used(used.bits);
	span = hi - lo + 1;
	start = hs_random32() % span;
	/* From a random point, the first free port in the range. */
	for (unsigned k = 0; k < span; k++) {
		unsigned port = lo + (start + k) % span;
		if (!has_port(&used, port))
			return (uint16_t)port;
	}
	return 0;
}

/* The interface that holds link-local address a (its scope id), or 0 for any other
 * address (or none found: bind() then says EINVAL, as before). */
static unsigned link_local_scope(const struct in6_addr *a)
{
	struct ifaddrs *list, *i;
	unsigned scope = 0;

	if (!IN6_IS_ADDR_LINKLOCAL(a) || getifaddrs(&list) != 0)
		return 0;
	for (i = list; i && !scope; i = i->ifa_next) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)i->ifa_addr;
		if (sin6 && sin6->sin6_family == AF_INET6 && memcmp(&sin6->sin6_addr, a, sizeof(*a)) == 0)
			scope = sin6->sin6_scope_id ? sin6->sin6_scope_id : if_nametoindex(i->ifa_name);
	}
	freeifaddrs(list);
	return scope;
}

int hs_port_hold_any(hs_endpoint *local)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	local->port = 0;
	int fd = hs_port_hold(local);
	if (fd < 0)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	local->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

int hs_port_hold(const hs_endpoint *local)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int family = local->addr.family == AF_INET ? AF_INET : AF_INET6;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr = local->addr.u.v4;
		sin->sin_port = htons(local->port);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		int off = 0;
		sin6->sin6_family = AF_INET6;
		if (local->addr.family == AF_INET6) {
			sin6->sin6_addr = local->addr.u.v6;
			/* bind() to a link-local address needs its interface (EINVAL without). */
			sin6->sin6_scope_id = link_local_scope(&local->addr.u.v6);
		}
		else /* no address yet (hs listen PORT): [::] and 0.0.0.0 both */
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		sin6->sin6_port = htons(local->port);
		sl = sizeof(*sin6);
	}
	/* No SO_REUSEADDR, no listen(): a second bind() of the port fails, connect()
	 * never picks it, and the kernel still owns no socket the peer's segments
	 * could reach (the guard keeps answering for us). */
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void hs_local_ports_used(uint8_t bits[8192])
{
	struct port_set *s = (struct port_set *)bits;

	memset(bits, 0, 8192);
	each_local_port(false, set_port, s);
	mark_reserved(s);
}

void hs_ephemeral_range(uint16_t *lo, uint16_t *hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	unsigned a, b;

	*lo = 32768;
	*hi = 60999;
	if (!f)
		return;
	if (fscanf(f, "%u %u", &a, &b) == 2 && a >= 1 && a <= b && b <= 65535) {
		*lo = (uint16_t)a;
		*hi = (uint16_t)b;
	}
	fclose(f);
}
