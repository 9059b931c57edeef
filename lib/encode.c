/* Building a segment as raw IP bytes with correct checksums, without libnet:
 * for pcap output (-w) and for tests. */
#include <config.h>

#include <string.h>
#include <sys/socket.h>

#include "hs/segment.h"
#include "hs/sender.h"

#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define HOP_LIMIT 64
#define IPV4_DF 0x4000
#define PROTO_TCP 6
#define IP_MAXLEN 65535

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

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

static void put_ipv4(uint8_t *p, const hs_endpoint *src, const hs_endpoint *dst, size_t total)
{
	memset(p, 0, IPV4_HLEN);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)total);
	put16(p + 6, IPV4_DF);
	p[8] = HOP_LIMIT;
	p[9] = PROTO_TCP;
	memcpy(p + 12, &src->addr.u.v4, 4);
	memcpy(p + 16, &dst->addr.u.v4, 4);
	put16(p + 10, fold(sum_bytes(0, p, IPV4_HLEN)));
}

static void put_ipv6(uint8_t *p, const hs_endpoint *src, const hs_endpoint *dst, size_t payload)
{
	memset(p, 0, IPV6_HLEN);
	p[0] = 0x60;
	put16(p + 4, (uint16_t)payload);
	p[6] = PROTO_TCP;
	p[7] = HOP_LIMIT;
	memcpy(p + 8, src->addr.u.v6.s6_addr, 16);
	memcpy(p + 24, dst->addr.u.v6.s6_addr, 16);
}

/* The TCP header and options of tx (checksum 0), tcp_hlen bytes at t. */
static void put_tcp_header(uint8_t *t, const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx,
                           size_t tcp_hlen)
{
	put16(t, src->port);
	put16(t + 2, dst->port);
	put32(t + 4, tx->seq);
	put32(t + 8, tx->ack);
	t[12] = (uint8_t)((tcp_hlen / 4) << 4);
	t[13] = tx->flags;
	put16(t + 14, tx->win);
	put16(t + 16, 0);
	put16(t + 18, 0);
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
	return fold(sum);
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
		put_ipv4(buf, src, dst, ip_hlen + tcp_len);
	else
		put_ipv6(buf, src, dst, tcp_len);

	uint8_t *t = buf + ip_hlen;
	put_tcp_header(t, src, dst, tx, tcp_hlen);
	if (tx->len)
		memcpy(t + tcp_hlen, tx->data, tx->len);
	uint32_t sum = pseudo_sum(&src->addr, &dst->addr, (uint32_t)tcp_len);
	put16(t + 16, fold(sum_bytes(sum, t, tcp_len)));
	return (int)(ip_hlen + tcp_len);
}
