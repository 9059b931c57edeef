/* Sending crafted segments: libnet 1.1.6 builds each datagram (LIBNET_NONE: build
 * only), hs's own raw socket sends it (IPPROTO_RAW: the header is ours; the kernel
 * routes, resolves the neighbour and picks the interface) -- what libnet's RAW4/RAW6
 * modes do, without their start-up: libnet_open_raw4 raises the socket's send buffer
 * 128 bytes at a time, ~6,500 setsockopt() calls (1.7 ms measured on an idle host, the
 * largest item in perf's profile of a run), for a buffer the default already covers
 * (one datagram is at most 64 KiB).
 *
 * Build order per packet, as libnet requires: TCP options -> TCP (with the payload)
 * -> IPv4/IPv6. The protocol tags of the previous packet are passed back so that
 * libnet patches its blocks in place. Measured on libnet 1.1.6: that gives the same
 * bytes as a fresh build when the option length or the payload length changes
 * (20 -> 12 -> 40 -> 4 bytes of options, 0 <-> n bytes of payload), but not when
 * the options block appears or disappears (a stale block stays in the chain), so
 * then the packet is cleared and built from scratch. The gain is small: building
 * and coalescing a packet takes 0.1-0.3 us either way, against tens of us for the
 * sendto() itself. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <libnet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hs/err.h"
#include "hs/guard.h"
#include "hs/sender.h"

#define IPV4_DONT_FRAGMENT 0x4000
#define DEFAULT_TTL 64

struct hs_sender {
	libnet_t *l;     /* LIBNET_NONE: builds, never sends */
	int fd;          /* raw socket, IPPROTO_RAW */
	int family;
	/* Tags of the blocks built for the previous packet; 0 = none yet. */
	libnet_ptag_t opt_tag, tcp_tag, ip_tag;
	uint16_t ip_id;
	hs_md5_key md5;  /* len 0: segments go unsigned */
};

/* The IPv4 identification only has to differ between datagrams in flight (RFC 6864);
 * start somewhere unpredictable so two hs runs do not emit the same sequence. */
static uint16_t initial_ip_id(void)
{
	uint16_t id;
	struct timespec ts;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == (ssize_t)sizeof(id))
		return id;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint16_t)(ts.tv_nsec ^ getpid());
}

/* libnet's raw sockets ignore the device; bind the socket to it so that segments
 * leave through the interface the user named (the kernel still routes on it). */
static int bind_to_device(hs_sender *s, const char *iface, bool *eperm, char *err, size_t errlen)
{
	int fd = s->fd;

	if (strlen(iface) >= IFNAMSIZ) {
		hs_seterr(err, errlen, "interface name too long: %s", iface);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface) + 1) != 0) {
		int e = errno;
		if (e == EPERM || e == EACCES) {
			*eperm = true;
			hs_seterr(err, errlen, "cannot bind the raw socket to %s: %s (hs needs CAP_NET_RAW: run as root)",
			       iface, strerror(e));
		} else {
			hs_seterr(err, errlen, "cannot send on %s: %s", iface, e == ENODEV ? "no such interface" : strerror(e));
		}
		return -1;
	}
	return 0;
}

int hs_sender_open(hs_sender **out, int family, const char *iface, bool *eperm, char *err, size_t errlen)
{
	char ebuf[LIBNET_ERRBUF_SIZE] = "";
	bool perm_dummy;

	if (!eperm)
		eperm = &perm_dummy;
	*eperm = false;
	*out = NULL;
	if (family != AF_INET && family != AF_INET6) {
		hs_seterr(err, errlen, "sender: unsupported address family %d", family);
		return -1;
	}
	hs_sender *s = calloc(1, sizeof(*s));
	if (!s) {
		hs_seterr(err, errlen, "sender: out of memory");
		return -1;
	}
	s->family = family;
	s->fd = -1;
	s->ip_id = initial_ip_id();

	s->fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (s->fd < 0) {
		int e = errno;
		if (e == EPERM || e == EACCES) {
			*eperm = true;
			hs_seterr(err, errlen, "cannot open a raw socket: %s (hs needs CAP_NET_RAW: run as root)",
			       strerror(EPERM));
		} else {
			hs_seterr(err, errlen, "cannot open a raw socket: %s", strerror(e));
		}
		free(s);
		return -1;
	}
	/* IPPROTO_RAW implies IP_HDRINCL (IPv4) and IPV6_HDRINCL (IPv6, Linux >= 4.5);
	 * said once more for IPv4, as libnet does. */
	int one = 1;
	if (family == AF_INET)
		(void)setsockopt(s->fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	s->l = libnet_init(LIBNET_NONE, NULL, ebuf);
	if (!s->l) {
		hs_seterr(err, errlen, "cannot build segments: %s", ebuf[0] ? ebuf : "libnet_init failed");
		hs_sender_close(s);
		return -1;
	}
	if (iface && *iface && strcmp(iface, "any") != 0 && bind_to_device(s, iface, eperm, err, errlen) != 0) {
		hs_sender_close(s);
		return -1;
	}
	/* Marked as hs's own: a kept port's reservation rule lets its SYNs pass. Needs
	 * CAP_NET_ADMIN, which hs has here; without it a crafted SYN from a kept port is
	 * refused (EPERM), nothing else changes. */
	unsigned mark = HS_GUARD_OWN_MARK;
	(void)setsockopt(s->fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	*out = s;
	return 0;
}

static void forget_packet(hs_sender *s)
{
	libnet_clear_packet(s->l);
	s->opt_tag = s->tcp_tag = s->ip_tag = 0;
}

/* Builds the three blocks, reusing the previous packet's tags. ip_id is the IPv4
 * Identification to write. Every field of tx->ip is written on every call (defaults
 * included), so nothing crafted stays in a reused block. Returns 0 or -1. */
static int build(hs_sender *s, const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx, uint16_t ip_id)
{
	uint32_t tcp_len = LIBNET_TCP_H + tx->opt_len + tx->len;
	const hs_ip_fields *ip = &tx->ip;
	uint8_t ttl = ip->set_ttl ? ip->ttl : DEFAULT_TTL;
	uint8_t tos = ip->set_tos ? ip->tos : 0;
	/* libnet 1.1.6 computes the checksum only for sum 0 and writes any other value
	 * through htons(): it takes the host-order number, as hs_tx_checksum gives it. */
	uint16_t sum = ip->bad_csum ? hs_tx_checksum(src, dst, tx) : 0;
	libnet_ptag_t t;

	if (tx->opt_len > 0) {
		t = libnet_build_tcp_options(tx->opts, tx->opt_len, s->l, s->opt_tag);
		if (t == -1)
			return -1;
		s->opt_tag = t;
	}
	t = libnet_build_tcp(src->port, dst->port, tx->seq, tx->ack, tx->flags, tx->win, sum, tx->urp,
	                     (uint16_t)tcp_len, tx->len ? tx->data : NULL, tx->len, s->l, s->tcp_tag);
	if (t == -1)
		return -1;
	s->tcp_tag = t;
	/* libnet sets the block's "compute the checksum" flag when sum is 0 but never
	 * clears it: a block reused from a segment with a computed checksum would get
	 * the right checksum over our wrong one. (Back to sum 0, the flag is set again.) */
	if (sum && libnet_toggle_checksum(s->l, t, LIBNET_OFF) == -1)
		return -1;

	if (s->family == AF_INET) {
		uint16_t frag = ip->set_df && !ip->df ? 0 : IPV4_DONT_FRAGMENT;
		t = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + tcp_len), tos, ip_id, frag, ttl,
		                      IPPROTO_TCP, 0, src->addr.u.v4.s_addr, dst->addr.u.v4.s_addr,
		                      NULL, 0, s->l, s->ip_tag);
	} else {
		struct libnet_in6_addr a, b;
		memcpy(&a, &src->addr.u.v6, sizeof(a));
		memcpy(&b, &dst->addr.u.v6, sizeof(b));
		uint32_t fl = ip->set_flow ? ip->flow & 0xfffff : 0;
		t = libnet_build_ipv6(tos, fl, (uint16_t)tcp_len, IPPROTO_TCP, ttl, a, b, NULL, 0, s->l, s->ip_tag);
		if (t == -1)
			return -1;
		/* libnet 1.1.6 writes the flow label's low byte where its middle byte goes
		 * ("fl & 0x0FF00 >> 8"; measured: 0x12345 went out as 0x14545, 1 as 0x101):
		 * the first 4 bytes are written here as RFC 8200 3 has them. */
		uint8_t *h = libnet_getpbuf(s->l, t);
		if (!h || libnet_getpbuf_size(s->l, t) < 4)
			return -1;
		h[0] = (uint8_t)(0x60 | tos >> 4);
		h[1] = (uint8_t)(tos << 4 | fl >> 16);
		h[2] = (uint8_t)(fl >> 8);
		h[3] = (uint8_t)fl;
	}
	if (t == -1)
		return -1;
	s->ip_tag = t;
	return 0;
}

static int check_segment(const hs_sender *s, const hs_endpoint *src, const hs_endpoint *dst,
                         const hs_tx *tx, char *err, size_t errlen)
{
	size_t ip_h = s->family == AF_INET ? LIBNET_IPV4_H : 0; /* IPv6 counts the payload only */

	if (src->addr.family != s->family || dst->addr.family != s->family) {
		hs_seterr(err, errlen, "send: address family does not match the sender");
		return -1;
	}
	if (tx->opt_len > HS_OPT_MAXLEN || tx->opt_len % 4) {
		hs_seterr(err, errlen, "send: option length %u is not a multiple of 4 up to 40", (unsigned)tx->opt_len);
		return -1;
	}
	if (tx->len && !tx->data) {
		hs_seterr(err, errlen, "send: payload without data");
		return -1;
	}
	if ((size_t)tx->len > 65535 - ip_h - LIBNET_TCP_H - tx->opt_len) {
		hs_seterr(err, errlen, "send: payload of %lu bytes does not fit in one datagram", (unsigned long)tx->len);
		return -1;
	}
	return 0;
}

int hs_sender_send(hs_sender *s, const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx,
                   char *err, size_t errlen)
{
	hs_tx signed_tx;

	/* The digest covers the header and payload exactly as they leave, so it is
	 * computed last, before libnet checksums the segment with the option in it. */
	if (s->md5.len) {
		signed_tx = *tx;
		if (hs_md5sig_sign_tx(&signed_tx, src, dst, &s->md5, err, errlen) != 0)
			return -1;
		tx = &signed_tx;
	}
	if (check_segment(s, src, dst, tx, err, errlen) != 0)
		return -1;

	/* Reusing a chain is safe only while the options block stays (see the top). */
	bool had_opts = s->opt_tag != 0;
	if (s->ip_tag && had_opts != (tx->opt_len > 0))
		forget_packet(s);
	/* A given ID leaves the counter alone. The kernel replaces an ID of 0 when DF is
	 * clear (raw_send_hdrinc -> ip_select_ident); with DF set, 0 goes out as 0. */
	uint16_t ip_id = tx->ip.set_ip_id ? tx->ip.ip_id : s->ip_id++;
	if (build(s, src, dst, tx, ip_id) != 0) {
		/* A half-updated chain cannot be trusted: start over once. */
		forget_packet(s);
		if (build(s, src, dst, tx, ip_id) != 0) {
			hs_seterr(err, errlen, "cannot build segment: %s", libnet_geterror(s->l));
			forget_packet(s);
			return -1;
		}
	}
	uint8_t *pkt = NULL;
	uint32_t len = 0;
	size_t want = (s->family == AF_INET ? LIBNET_IPV4_H : LIBNET_IPV6_H) + LIBNET_TCP_H + tx->opt_len + tx->len;
	if (libnet_pblock_coalesce(s->l, &pkt, &len) < 0 || len != want) {
		hs_seterr(err, errlen, "cannot build segment: %s", libnet_geterror(s->l));
		free(pkt);
		return -1;
	}
	/* The destination as libnet's raw writers give it: port 0, the address only. */
	struct sockaddr_storage to;
	socklen_t tolen;
	memset(&to, 0, sizeof(to));
	if (s->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&to;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, &dst->addr.u.v4, 4);
		tolen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, &dst->addr.u.v6, 16);
		tolen = sizeof(*sin6);
	}
	ssize_t n = sendto(s->fd, pkt, len, 0, (struct sockaddr *)&to, tolen);
	int e = errno;
	free(pkt);
	if (n < 0 || (size_t)n != want) {
		/* errno names the cause: EPERM from an OUTPUT drop rule, ENETUNREACH... */
		hs_seterr(err, errlen, "cannot send segment: %s", n < 0 ? strerror(e) : "short write");
		return -1;
	}
	return 0;
}

void hs_sender_set_md5(hs_sender *s, const hs_md5_key *key)
{
	if (key && key->len)
		s->md5 = *key;
	else
		memset(&s->md5, 0, sizeof(s->md5));
}

void hs_sender_close(hs_sender *s)
{
	if (!s)
		return;
	if (s->l)
		libnet_destroy(s->l);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
