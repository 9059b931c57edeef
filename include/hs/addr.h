/* Addresses and endpoints of either family, parsed without any resolver magic. */
#ifndef HS_ADDR_H
#define HS_ADDR_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct hs_addr {
	int family; /* AF_INET or AF_INET6; 0 = unset */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
} hs_addr;

typedef struct hs_endpoint {
	hs_addr addr;
	uint16_t port;
} hs_endpoint;

/* Longest text hs_endpoint_format() writes: "[v6]:port" plus NUL. */
#define HS_ENDPOINT_STRLEN (INET6_ADDRSTRLEN + 9)

/* Numeric address only (inet_pton). Returns 0 or -1. */
int hs_addr_parse(const char *s, hs_addr *out);
/* Numeric address, or a host name resolved with getaddrinfo (family: 0 = any).
 * Returns 0, or -1 with *err set to a static message. */
int hs_addr_resolve(const char *s, int family, hs_addr *out, const char **err);
/* "1".."65535" only; returns 0 or -1. */
int hs_port_parse(const char *s, uint16_t *out);
/* "ADDR:PORT" or "[V6]:PORT". Returns 0 or -1. */
int hs_endpoint_parse(const char *s, hs_endpoint *out);
/* A host argument as people type it: "HOST", "[V6]", "HOST:PORT" or "[V6]:PORT".
 * host (hostlen bytes) gets the host without brackets; *port the port when one is
 * given, else 0. An unbracketed text with more than one ':' is an IPv6 address and
 * all host (its last group cannot be told from a port: write [V6]:PORT).
 * Returns 0, or -1 with *err set to a static message (empty host, a '[' without
 * its ']', text after the ']' that is not :PORT, a bad port, too long). */
int hs_host_split(const char *s, char *host, size_t hostlen, uint16_t *port, const char **err);
bool hs_addr_equal(const hs_addr *a, const hs_addr *b);
bool hs_endpoint_equal(const hs_endpoint *a, const hs_endpoint *b);
/* Writes "a.b.c.d" or "x::y"; returns buf. */
const char *hs_addr_format(const hs_addr *a, char *buf, size_t len);
/* Writes "a.b.c.d:port" or "[x::y]:port"; returns buf. */
const char *hs_endpoint_format(const hs_endpoint *e, char *buf, size_t len);
/* Fills sockaddr_storage from an endpoint; returns its length. */
size_t hs_endpoint_to_sockaddr(const hs_endpoint *e, void *ss);
void hs_endpoint_from_sockaddr(const void *sa, hs_endpoint *e);

#endif
