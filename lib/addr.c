/* Addresses and endpoints: numeric parsing with inet_pton, names with getaddrinfo
 * (never libnet's resolvers, which guess), and formatting. */
#include <config.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/addr.h"

int hs_addr_parse(const char *s, hs_addr *out)
{
	hs_addr a;

	memset(&a, 0, sizeof(a));
	if (!s)
		return -1;
	if (inet_pton(AF_INET, s, &a.u.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.u.v6) == 1)
		a.family = AF_INET6;
	else
		return -1;
	*out = a;
	return 0;
}

static void addr_from_sockaddr(const struct sockaddr *sa, hs_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		out->family = AF_INET;
		out->u.v4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		out->family = AF_INET6;
		out->u.v6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	}
}

int hs_addr_resolve(const char *s, int family, hs_addr *out, const char **err)
{
	hs_addr a;

	if (!s || !*s) {
		if (err)
			*err = "empty host name";
		return -1;
	}
	if (hs_addr_parse(s, &a) == 0) {
		if (family && a.family != family) {
			if (err)
				*err = family == AF_INET ? "not an IPv4 address" : "not an IPv6 address";
			return -1;
		}
		*out = a;
		return 0;
	}

	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family ? family : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(s, NULL, &hints, &res);
	if (rc != 0) {
		if (err)
			*err = gai_strerror(rc);
		return -1;
	}
	/* The first answer of a usable family, in the resolver's preference order. */
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) {
			addr_from_sockaddr(ai->ai_addr, out);
			freeaddrinfo(res);
			return 0;
		}
	}
	freeaddrinfo(res);
	if (err)
		*err = "host name has no IPv4 or IPv6 address";
	return -1;
}

int hs_port_parse(const char *s, uint16_t *out)
{
	unsigned v = 0;

	if (!s || !*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int hs_endpoint_parse(const char *s, hs_endpoint *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	size_t hlen;
	hs_endpoint e;

	if (!s)
		return -1;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hlen = (size_t)(colon - s);
		/* An unbracketed IPv6 address would make the port ambiguous. */
		if (hlen == 0 || hlen >= sizeof(host) || memchr(s, ':', hlen))
			return -1;
		memcpy(host, s, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';
	memset(&e, 0, sizeof(e));
	if (hs_addr_parse(host, &e.addr) < 0 || hs_port_parse(port, &e.port) < 0)
		return -1;
	if (s[0] != '[' && e.addr.family != AF_INET)
		return -1;
	*out = e;
	return 0;
}

static int split_fail(const char **err, const char *msg)
{
	if (err)
		*err = msg;
	return -1;
}

int hs_host_split(const char *s, char *host, size_t hostlen, uint16_t *port, const char **err)
{
	const char *h = s, *p = NULL;
	size_t n;

	if (!s || !host || !hostlen || !port)
		return split_fail(err, "no host");
	*port = 0;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return split_fail(err, "a '[' without its ']' (write [V6] or [V6]:PORT)");
		if (close[1] == ':')
			p = close + 2;
		else if (close[1] != '\0')
			return split_fail(err, "after [V6] only :PORT may follow (write [V6]:PORT)");
		h = s + 1;
		n = (size_t)(close - h);
	} else {
		const char *colon = strchr(s, ':');
		if (colon && !strchr(colon + 1, ':')) { /* exactly one ':': HOST:PORT */
			p = colon + 1;
			n = (size_t)(colon - s);
		} else {
			n = strlen(s);
		}
	}
	if (n == 0)
		return split_fail(err, "empty host");
	if (n >= hostlen)
		return split_fail(err, "host name too long");
	if (memchr(h, ']', n) || memchr(h, '[', n))
		return split_fail(err, "a stray bracket");
	if (p && hs_port_parse(p, port) < 0)
		return split_fail(err, "bad port after ':' (must be a number from 1 to 65535)");
	memcpy(host, h, n);
	host[n] = '\0';
	return 0;
}

bool hs_addr_equal(const hs_addr *a, const hs_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	if (a->family == AF_INET6)
		return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
	return true; /* both unset */
}

bool hs_endpoint_equal(const hs_endpoint *a, const hs_endpoint *b)
{
	return a->port == b->port && hs_addr_equal(&a->addr, &b->addr);
}

const char *hs_addr_format(const hs_addr *a, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!len)
		return buf;
	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, &a->u, tmp, sizeof(tmp)))
		snprintf(tmp, sizeof(tmp), "?");
	snprintf(buf, len, "%s", tmp);
	return buf;
}

const char *hs_endpoint_format(const hs_endpoint *e, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	hs_addr_format(&e->addr, tmp, sizeof(tmp));
	if (len)
		snprintf(buf, len, e->addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u", tmp, e->port);
	return buf;
}

size_t hs_endpoint_to_sockaddr(const hs_endpoint *e, void *ss)
{
	memset(ss, 0, sizeof(struct sockaddr_storage));
	if (e->addr.family == AF_INET) {
		struct sockaddr_in *sin = ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(e->port);
		sin->sin_addr = e->addr.u.v4;
		return sizeof(*sin);
	}
	if (e->addr.family == AF_INET6) {
		struct sockaddr_in6 *sin6 = ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(e->port);
		sin6->sin6_addr = e->addr.u.v6;
		return sizeof(*sin6);
	}
	return 0;
}

void hs_endpoint_from_sockaddr(const void *sa, hs_endpoint *e)
{
	const struct sockaddr *s = sa;

	addr_from_sockaddr(s, &e->addr);
	if (s->sa_family == AF_INET)
		e->port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (s->sa_family == AF_INET6)
		e->port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else
		e->port = 0;
}
