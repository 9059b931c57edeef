/* Choosing the source address and interface the way the kernel would. */
#ifndef HS_ROUTE_H
#define HS_ROUTE_H
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include "hs/addr.h"

/* Source address for dst (connect a UDP socket, getsockname) and the interface that
 * holds it ("lo" for local destinations). iface may be NULL or a buffer of 32 bytes;
 * when bind_iface is non-NULL the socket is bound to it first (SO_BINDTODEVICE).
 * Returns 0, or -1 with err. */
int hs_route_source(const hs_addr *dst, const char *bind_iface, hs_addr *src, char *iface, size_t iflen,
                    char *err, size_t errlen);
/* Could a socket bind() to addr here, i.e. does this host hold it (or does
 * ip_nonlocal_bind allow it)? Tried with a UDP socket bound to addr, port 0 (a
 * link-local IPv6 address needs iface for its scope). Returns 0 when it may,
 * -1 with err ("198.18.0.9 is not an address of this host ...") when not. */
int hs_addr_check_local(const hs_addr *addr, const char *iface, char *err, size_t errlen);
/* Does the interface exist? */
bool hs_iface_exists(const char *name);
/* The MTU of interface name (bytes of an IP datagram it sends unfragmented), or -1. */
int hs_iface_mtu(const char *name);
/* First address of family on iface (not link-local for IPv6). Returns 0 or -1. */
int hs_iface_addr(const char *name, int family, hs_addr *out);
/* Is a local TCP socket bound to this port (any address)? Reads /proc/net/tcp{,6}.
 * listening_only: only LISTEN sockets. */
bool hs_local_port_in_use(uint16_t port, bool listening_only);
/* Every port a local TCP socket uses (any state, any address: /proc/net/tcp{,6},
 * read once) or ip_local_reserved_ports holds: one bit per port (port / 8, bit port % 8). */
void hs_local_ports_used(uint8_t bits[8192]);
/* ip_local_port_range (32768-60999 when it cannot be read). */
void hs_ephemeral_range(uint16_t *lo, uint16_t *hi);
/* Pick a free ephemeral port (not in use locally, per /proc). */
uint16_t hs_pick_ephemeral_port(void);
/* Hold local's port for as long as this process runs: a TCP socket bound to
 * local's address and port (both families on [::] when local has no address),
 * never listening. Another hs (or any program) cannot bind the port meanwhile,
 * and a local connect() does not pick it as its ephemeral port. Returns the
 * descriptor (close-on-exec; left open until exit), or -1 with errno (EADDRINUSE:
 * someone holds it already). */
int hs_port_hold(const hs_endpoint *local);
/* The same for a port the kernel picks: bind() to port 0 on local's address takes
 * a free one from ip_local_port_range (never a reserved one, nor one any socket has,
 * TIME-WAIT included), at random, without reading the socket tables: written to
 * local->port. Returns the descriptor, or -1 with errno (EADDRINUSE: none free). */
int hs_port_hold_any(hs_endpoint *local);

#endif
