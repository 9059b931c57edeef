/* Building a segment as raw IP bytes, without libnet: for pcap output (-w) and for
 * tests. The IP fields and the checksum follow tx->ip, as lib/sender.c writes them
 * (but an IPv4 ID that is not given is 0 here: the sender's counter is its own). */
#include <config.h>

#include <string.h>
#include <sys/socket.h>

#include "hs/bytes.h"
#include "hs/segment.h"
#include "hs/sender.h"

#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define HOP_LIMIT 64
#define IPV4_DF 0x4000
#define PROTO_TCP 6
#define IP_MAXLEN 65535



/* Adds bytes to a running ones' complement sum (16-bit big-endian words). */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n >= 2; p += 2, n -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Pseudo-header sum: addresses, protocol and the TCP length (RFC 9293 3.1, RFC 8200 8.1). */
static uint32_t pseudo_sum(const hs_addr *src, const hs_addr *dst, uint32_t tcp_len)
{
	uint32_t sum = 0;

	if (src->family == AF_INET) {
		sum = sum_bytes(sum, (const uint8_t *)&src->u.v4, 4);
		sum = sum_bytes(sum, (const uint8_t *)&dst->u.v4, 4);
	} else {
		sum = sum_bytes(sum, src->u.v6.s6_addr, 16);
		sum = sum_bytes(sum, dst->u.v6.s6_addr, 16);
	}
	sum += PROTO_TCP;
	sum += tcp_len >> 16;
	sum += tcp_len & 0xffff;
	return sum;
}

static void put_ipv4(uint8_t *p, const hs_endpoint *src, const hs_endpoint *dst, const hs_ip_fields *ip,
                     size_t total)
{
	memset(p, 0, IPV4_HLEN);
	p[0] = 0x45;
	p[1] = ip->set_tos ? ip->tos : 0;
	hs_put16(p + 2, (uint16_t)total);
	hs_put16(p + 4, ip->set_ip_id ? ip->ip_id : 0);
	hs_put16(p + 6, ip->set_df && !ip->df ? 0 : IPV4_DF);
	p[8] = ip->set_ttl ? ip->ttl : HOP_LIMIT;
	p[9] = PROTO_TCP;
	memcpy(p + 12, &src->addr.u.v4, 4);
	memcpy(p + 16, &dst->addr.u.v4, 4);
	hs_put16(p + 10, fold(sum_bytes(0, p, IPV4_HLEN)));
}

static void put_ipv6(uint8_t *p, const hs_endpoint *src, const hs_endpoint *dst, const hs_ip_fields *ip,
                     size_t payload)
{
	uint8_t tc = ip->set_tos ? ip->tos : 0;

	memset(p, 0, IPV6_HLEN);
	uint32_t fl = ip->set_flow ? ip->flow & 0xfffff : 0;

	p[0] = (uint8_t)(0x60 | tc >> 4);   /* version, traffic class, flow label */
	p[1] = (uint8_t)(tc << 4 | fl >> 16);
	p[2] = (uint8_t)(fl >> 8);
	p[3] = (uint8_t)fl;
	hs_put16(p + 4, (uint16_t)payload);
	p[6] = PROTO_TCP;
	p[7] = ip->set_ttl ? ip->ttl : HOP_LIMIT;
	memcpy(p + 8, src->addr.u.v6.s6_addr, 16);
	memcpy(p + 24, dst->addr.u.v6.s6_addr, 16);
}

/* The TCP header and options of tx (checksum 0), tcp_hlen bytes at t. */
static void put_tcp_header(uint8_t *t, const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx,
                           size_t tcp_hlen)
{
	hs_put16(t, src->port);
	hs_put16(t + 2, dst->port);
	hs_put32(t + 4, tx->seq);
	hs_put32(t + 8, tx->ack);
	t[12] = (uint8_t)((tcp_hlen / 4) << 4);
	t[13] = tx->flags;
	hs_put16(t + 14, tx->win);
	hs_put16(t + 16, 0);
	hs_put16(t + 18, tx->urp);
	memcpy(t + TCP_HLEN, tx->opts, tx->opt_len);
	memset(t + TCP_HLEN + tx->opt_len, 0, tcp_hlen - TCP_HLEN - tx->opt_len); /* EOL padding */
}

uint16_t hs_tcp_checksum(const hs_addr *src, const hs_addr *dst, const uint8_t *tcp, size_t len)
{
	if (len < TCP_HLEN)
		return 0;
	uint32_t sum = pseudo_sum(src, dst, (uint32_t)len);
	sum = sum_bytes(sum, tcp, 16);      /* up to the checksum field */
	sum = sum_bytes(sum, tcp + 18, len - 18);
	return fold(sum);
}

uint16_t hs_tcp_checksum_partial(const hs_addr *src, const hs_addr *dst, size_t len)
{
	return (uint16_t)~fold(pseudo_sum(src, dst, (uint32_t)len));
}

/* The checksum a bad_csum segment carries instead of good: good + 1 (mod 0xffff), or
 * the next value that is neither 0 (libnet would compute the right one), nor good,
 * nor the pseudo-header sum of an offloaded segment (a capture would call it
 * "offload", not "bad"). 0xffff never comes out: with good 0 it would verify. */
static uint16_t wrong_checksum(uint16_t good, uint16_t partial)
{
	uint16_t v = good;

	do
		v = (uint16_t)((v + 1u) % 0xffffu);
	while (v == 0 || v == good || v == partial);
	return v;
}

/* What goes on the wire for a segment whose right checksum is good. */
static uint16_t wire_checksum(const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx, size_t tcp_len,
                              uint16_t good)
{
	if (!tx->ip.bad_csum)
		return good;
	return wrong_checksum(good, hs_tcp_checksum_partial(&src->addr, &dst->addr, tcp_len));
}

uint16_t hs_tx_checksum(const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx)
{
	uint8_t hdr[TCP_HLEN + HS_OPT_MAXLEN + 3];
	int family = src->addr.family;

	if ((family != AF_INET && family != AF_INET6) || dst->addr.family != family)
		return 0;
	if (tx->opt_len > HS_OPT_MAXLEN || (tx->len && !tx->data))
		return 0;
	size_t tcp_hlen = TCP_HLEN + (((size_t)tx->opt_len + 3) & ~(size_t)3);
	put_tcp_header(hdr, src, dst, tx, tcp_hlen);
	uint32_t sum = pseudo_sum(&src->addr, &dst->addr, (uint32_t)(tcp_hlen + tx->len));
	sum = sum_bytes(sum, hdr, tcp_hlen);
	if (tx->len)
		sum = sum_bytes(sum, tx->data, tx->len); /* tcp_hlen is even: the words line up */
	return wire_checksum(src, dst, tx, tcp_hlen + tx->len, fold(sum));
}

int hs_segment_encode_ip(const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx,
                         uint8_t *buf, size_t buflen)
{
	int family = src->addr.family;

	if ((family != AF_INET && family != AF_INET6) || dst->addr.family != family)
		return -1;
	if (tx->opt_len > HS_OPT_MAXLEN || (tx->len && !tx->data))
		return -1;
	size_t opt_padded = ((size_t)tx->opt_len + 3) & ~(size_t)3;
	size_t tcp_hlen = TCP_HLEN + opt_padded;
	size_t tcp_len = tcp_hlen + tx->len;
	size_t ip_hlen = family == AF_INET ? IPV4_HLEN : IPV6_HLEN;
	/* IPv4 total length and IPv6 payload length are both 16-bit fields. */
	if (tcp_len + (family == AF_INET ? IPV4_HLEN : 0) > IP_MAXLEN || ip_hlen + tcp_len > buflen)
		return -1;

	if (family == AF_INET)
		put_ipv4(buf, src, dst, &tx->ip, ip_hlen + tcp_len);
	else
		put_ipv6(buf, src, dst, &tx->ip, tcp_len);

	uint8_t *t = buf + ip_hlen;
	put_tcp_header(t, src, dst, tx, tcp_hlen);
	if (tx->len)
		memcpy(t + tcp_hlen, tx->data, tx->len);
	uint32_t sum = pseudo_sum(&src->addr, &dst->addr, (uint32_t)tcp_len);
	hs_put16(t + 16, wire_checksum(src, dst, tx, tcp_len, fold(sum_bytes(sum, t, tcp_len))));
	return (int)(ip_hlen + tcp_len);
}
