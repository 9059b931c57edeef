/* Decoding captured frames into TCP segments and ICMP errors.
 *
 * Every read is bounds-checked against the captured length. Checksums are classified,
 * never used to drop: segments the local kernel sent carry partial checksums (offload).
 * Frames we have no use for (ARP, UDP, ICMP echo, later fragments) decode to
 * HS_PKT_NONE with status 0; only malformed frames give -1. */
#include <config.h>

#include <pcap/dlt.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/bytes.h"
#include "hs/segment.h"

#define ETH_HLEN 14
#define VLAN_TAG_LEN 4
#define MAX_VLAN_TAGS 2
#define SLL_HLEN 16
#define SLL_PROTO_OFF 14
#define SLL2_HLEN 20
#define NULL_HLEN 4
#define LINKTYPE_RAW 101

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8

#define IPV4_MIN_HLEN 20
#define IPV6_HLEN 40
#define TCP_MIN_HLEN 20
#define ICMP_HLEN 8
#define QUOTED_TCP_LEN 8 /* what an ICMP error must quote: ports and seq */

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_DSTOPTS_ 60
#define MAX_EXT_HEADERS 8

/* BSD address families seen in DLT_NULL/DLT_LOOP headers. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_LINUX 10
#define BSD_AF_INET6_NET 24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30



static int fail(const char **err, const char *msg)
{
	if (err)
		*err = msg;
	return -1;
}

static void set_v4(hs_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	memcpy(&a->u.v4, p, 4);
}

static void set_v6(hs_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	memcpy(&a->u.v6, p, 16);
}

/* ---- TCP ------------------------------------------------------------------------------ */

/* The bytes of an option list cut by the capture (n of them) that hold whole
 * options: a short snaplen must not make the last, cut one look malformed. */
static size_t whole_options(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (p[i] == 0 || p[i] == 1) { /* EOL, NOP: one byte */
			i++;
			continue;
		}
		if (i + 2 > n || p[i + 1] < 2 || i + p[i + 1] > n)
			break;
		i += p[i + 1];
	}
	return i;
}

/* len bytes captured of a TCP segment of wire_len bytes (the IP header's count; a
 * capture with a small snaplen keeps only the start): the header is decoded as far
 * as it was captured -- the 20 fixed bytes at least --, the options that were, and
 * the payload's captured part, with out->truncated saying how much is missing. */
static int decode_tcp(const uint8_t *buf, size_t len, size_t wire_len, const hs_addr *src, const hs_addr *dst,
                      hs_segment *out, const char **err)
{
	memset(out, 0, sizeof(*out));
	if (len < TCP_MIN_HLEN)
		return fail(err, "truncated TCP header");
	if (wire_len < len)
		wire_len = len;
	size_t doff = (size_t)(buf[12] >> 4) * 4;
	if (doff < TCP_MIN_HLEN)
		return fail(err, "bad TCP data offset");
	if (doff > wire_len)
		return fail(err, "TCP data offset past the end of the segment");
	if (src)
		out->src.addr = *src;
	if (dst)
		out->dst.addr = *dst;
	out->src.port = hs_get16(buf);
	out->dst.port = hs_get16(buf + 2);
	out->seq = hs_get32(buf + 4);
	out->ack = hs_get32(buf + 8);
	out->flags = buf[13];
	out->win = hs_get16(buf + 14);
	out->csum = hs_get16(buf + 16);
	out->urp = hs_get16(buf + 18);
	/* A broken or cut option list does not make the segment less real: keep what
	 * decoded. */
	size_t opt_cap = (doff < len ? doff : len) - TCP_MIN_HLEN;
	if (doff > len) /* cut in its options: only the ones captured whole */
		opt_cap = whole_options(buf + TCP_MIN_HLEN, opt_cap);
	(void)hs_opts_decode(buf + TCP_MIN_HLEN, opt_cap, &out->opts, NULL);
	/* The payload starts where the header ends, or where the capture did. */
	out->payload = buf + (doff < len ? doff : len);
	out->len = doff < len ? len - doff : 0;
	out->truncated = wire_len - doff - out->len;
	if (src && dst && !out->truncated)
		out->csum_status = (uint8_t)hs_tcp_csum_classify(src, dst, buf, len);
	return 0;
}

int hs_decode_tcp(const uint8_t *buf, size_t len, const hs_addr *src, const hs_addr *dst,
                  hs_segment *out, const char **err)
{
	return decode_tcp(buf, len, len, src, dst, out, err);
}

const char *hs_csum_name(enum hs_csum c)
{
	switch (c) {
	case HS_CSUM_OK: return "ok";
	case HS_CSUM_OFFLOAD: return "offload";
	case HS_CSUM_BAD: return "bad";
	default: return "";
	}
}

enum hs_csum hs_tcp_csum_classify(const hs_addr *src, const hs_addr *dst, const uint8_t *tcp, size_t len)
{
	if (len < TCP_MIN_HLEN || src->family != dst->family ||
	    (src->family != AF_INET && src->family != AF_INET6))
		return HS_CSUM_UNCHECKED;
	uint16_t field = hs_get16(tcp + 16);
	/* One's complement: 0x0000 and 0xffff are the same number. */
	uint16_t want = hs_tcp_checksum(src, dst, tcp, len);
	if (field == want || ((field == 0 || field == 0xffff) && (want == 0 || want == 0xffff)))
		return HS_CSUM_OK;
	if (field == hs_tcp_checksum_partial(src, dst, len))
		return HS_CSUM_OFFLOAD;
	return HS_CSUM_BAD;
}

/* ---- IP headers --------------------------------------------------------------------- */

/* The parts of an IP header the decoders need. */
typedef struct ip_info {
	size_t hlen;   /* bytes up to the upper-layer header */
	size_t end;    /* bytes of the datagram that were captured */
	size_t total;  /* bytes of the datagram as sent (its length field) */
	uint8_t proto; /* upper-layer protocol */
	uint8_t ttl;
	bool has_id;   /* IPv4: the Identification field is in id */
	uint16_t id;
	bool later_fragment;
	bool partial;  /* not the whole datagram: cut by the snaplen, or a first fragment */
	bool fragment; /* a first fragment */
	hs_addr src, dst;
} ip_info;

static int parse_ipv4(const uint8_t *buf, size_t len, ip_info *ip, const char **err)
{
	if (len < IPV4_MIN_HLEN)
		return fail(err, "truncated IPv4 header");
	if (buf[0] >> 4 != 4)
		return fail(err, "not an IPv4 header");
	size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < IPV4_MIN_HLEN)
		return fail(err, "bad IPv4 header length");
	if (ihl > len)
		return fail(err, "truncated IPv4 header");
	size_t total = hs_get16(buf + 2);
	/* Total length 0: a large GSO packet captured before segmentation. */
	if (total == 0)
		total = len;
	if (total < ihl)
		return fail(err, "bad IPv4 total length");
	ip->hlen = ihl;
	/* Trust the total length over the frame (Ethernet padding); a short capture
	 * (snaplen) keeps what is there. */
	ip->end = total < len ? total : len;
	ip->total = total;
	ip->proto = buf[9];
	ip->ttl = buf[8];
	ip->id = hs_get16(buf + 4);
	ip->has_id = true;
	ip->later_fragment = (hs_get16(buf + 6) & 0x1fff) != 0;
	ip->fragment = (hs_get16(buf + 6) & 0x2000) != 0; /* MF */
	ip->partial = total > len || ip->fragment;
	set_v4(&ip->src, buf + 12);
	set_v4(&ip->dst, buf + 16);
	return 0;
}

/* Walks the extension headers to the upper layer. Sets later_fragment for
 * fragments other than the first, and proto 59 (no next header) where the walk
 * cannot go on. */
static int parse_ipv6(const uint8_t *buf, size_t len, ip_info *ip, const char **err)
{
	if (len < IPV6_HLEN)
		return fail(err, "truncated IPv6 header");
	if (buf[0] >> 4 != 6)
		return fail(err, "not an IPv6 header");
	size_t total = IPV6_HLEN + hs_get16(buf + 4);
	/* Payload length 0: a jumbogram / large GSO packet; the capture tells the size. */
	if (total == IPV6_HLEN)
		total = len;
	ip->end = total < len ? total : len;
	ip->total = total;
	ip->ttl = buf[7];
	ip->has_id = false;
	ip->id = 0;
	ip->later_fragment = false;
	ip->partial = total > len;
	ip->fragment = false;
	set_v6(&ip->src, buf + 8);
	set_v6(&ip->dst, buf + 24);

	uint8_t nh = buf[6];
	size_t off = IPV6_HLEN;
	for (int i = 0; i < MAX_EXT_HEADERS; i++) {
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_: {
			if (off + 2 > ip->end)
				return fail(err, "truncated IPv6 extension header");
			size_t hlen = ((size_t)buf[off + 1] + 1) * 8;
			if (off + hlen > ip->end)
				return fail(err, "truncated IPv6 extension header");
			nh = buf[off];
			off += hlen;
			break;
		}
		case IPPROTO_FRAGMENT_:
			if (off + 8 > ip->end)
				return fail(err, "truncated IPv6 fragment header");
			if ((hs_get16(buf + off + 2) & 0xfff8) != 0)
				ip->later_fragment = true;
			ip->partial = true;
			ip->fragment = true;
			nh = buf[off];
			off += 8;
			break;
		default:
			ip->proto = nh;
			ip->hlen = off;
			return 0;
		}
	}
	return fail(err, "too many IPv6 extension headers");
}

/* ---- ICMP errors ---------------------------------------------------------------------- */

static bool icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 11 || type == 12;
}

static bool icmp6_is_error(uint8_t type)
{
	return type >= 1 && type <= 4;
}

/* The quoted datagram of an ICMP error: its IP header and the first 8 bytes of TCP.
 * Returns 1 when it quotes TCP (icmp filled), 0 when not, -1 when malformed. */
static int decode_quoted(const uint8_t *buf, size_t len, int family, hs_icmp_error *icmp, const char **err)
{
	ip_info q;

	memset(&q, 0, sizeof(q));
	if (family == AF_INET ? parse_ipv4(buf, len, &q, err) < 0 : parse_ipv6(buf, len, &q, err) < 0)
		return -1;
	if (q.proto != IPPROTO_TCP_ || q.later_fragment)
		return 0;
	if (q.hlen + QUOTED_TCP_LEN > q.end)
		return fail(err, "ICMP error quotes too little of the TCP header");
	const uint8_t *tcp = buf + q.hlen;
	icmp->orig_src.addr = q.src;
	icmp->orig_dst.addr = q.dst;
	icmp->orig_src.port = hs_get16(tcp);
	icmp->orig_dst.port = hs_get16(tcp + 2);
	icmp->orig_seq = hs_get32(tcp + 4);
	return 1;
}

static int decode_icmp(const uint8_t *buf, const ip_info *ip, int family, hs_packet *out, const char **err)
{
	const uint8_t *icmp = buf + ip->hlen;
	size_t len = ip->end - ip->hlen;

	if (len < ICMP_HLEN)
		return fail(err, family == AF_INET ? "truncated ICMP header" : "truncated ICMPv6 header");
	if (family == AF_INET ? !icmp4_is_error(icmp[0]) : !icmp6_is_error(icmp[0]))
		return 0;

	hs_icmp_error *e = &out->u.icmp;
	memset(e, 0, sizeof(*e));
	int rc = decode_quoted(icmp + ICMP_HLEN, len - ICMP_HLEN, family, e, err);
	if (rc <= 0)
		return rc;
	e->reporter.addr = ip->src;
	e->family = (uint8_t)family;
	e->type = icmp[0];
	e->code = icmp[1];
	if (family == AF_INET && e->type == 3 && e->code == 4)
		e->mtu = hs_get16(icmp + 6); /* RFC 1191 4 */
	else if (family == AF_INET6 && e->type == 2)
		e->mtu = hs_get32(icmp + 4); /* RFC 4443 3.2 */
	out->kind = HS_PKT_ICMP;
	return 0;
}

/* ---- IP ----------------------------------------------------------------------------- */

static int decode_upper(const uint8_t *buf, const ip_info *ip, int family, hs_packet *out, const char **err)
{
	if (ip->later_fragment)
		return 0;
	if (ip->proto == IPPROTO_TCP_) {
		hs_segment *seg = &out->u.tcp;
		size_t wire = ip->total > ip->hlen ? ip->total - ip->hlen : 0;
		if (decode_tcp(buf + ip->hlen, ip->end - ip->hlen, wire, &ip->src, &ip->dst, seg, err) < 0)
			return -1;
		seg->ttl = ip->ttl;
		seg->ip_id = ip->id;
		seg->has_ip_id = ip->has_id;
		if (ip->partial)
			seg->csum_status = HS_CSUM_UNCHECKED;
		seg->fragment = ip->fragment;
		out->kind = HS_PKT_TCP;
		return 0;
	}
	if ((family == AF_INET && ip->proto == IPPROTO_ICMP_) ||
	    (family == AF_INET6 && ip->proto == IPPROTO_ICMPV6_))
		return decode_icmp(buf, ip, family, out, err);
	return 0;
}

static int decode_ipv4(const uint8_t *buf, size_t len, hs_packet *out, const char **err)
{
	ip_info ip;

	if (parse_ipv4(buf, len, &ip, err) < 0)
		return -1;
	return decode_upper(buf, &ip, AF_INET, out, err);
}

static int decode_ipv6(const uint8_t *buf, size_t len, hs_packet *out, const char **err)
{
	ip_info ip;

	if (parse_ipv6(buf, len, &ip, err) < 0)
		return -1;
	return decode_upper(buf, &ip, AF_INET6, out, err);
}

int hs_decode_ip(const uint8_t *buf, size_t len, hs_packet *out, const char **err)
{
	out->kind = HS_PKT_NONE;
	if (len < 1)
		return fail(err, "empty IP packet");
	switch (buf[0] >> 4) {
	case 4:
		return decode_ipv4(buf, len, out, err);
	case 6:
		return decode_ipv6(buf, len, out, err);
	default:
		return fail(err, "unknown IP version");
	}
}

/* ---- link layers ---------------------------------------------------------------------- */

static int decode_ethertype(uint16_t type, const uint8_t *buf, size_t len, hs_packet *out, const char **err)
{
	if (type == ETHERTYPE_IPV4)
		return decode_ipv4(buf, len, out, err);
	if (type == ETHERTYPE_IPV6)
		return decode_ipv6(buf, len, out, err);
	return 0;
}

static int decode_ethernet(const uint8_t *buf, size_t len, hs_packet *out, const char **err)
{
	if (len < ETH_HLEN)
		return fail(err, "truncated Ethernet header");
	size_t off = ETH_HLEN - 2;
	uint16_t type = hs_get16(buf + off);
	for (int tags = 0; (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD) && tags < MAX_VLAN_TAGS; tags++) {
		off += VLAN_TAG_LEN;
		if (off + 2 > len)
			return fail(err, "truncated 802.1Q tag");
		type = hs_get16(buf + off);
	}
	off += 2;
	return decode_ethertype(type, buf + off, len - off, out, err);
}

static int decode_null(const uint8_t *buf, size_t len, hs_packet *out, const char **err)
{
	if (len < NULL_HLEN)
		return fail(err, "truncated loopback header");
	/* The family is in the capturing host's byte order (DLT_NULL) or big-endian
	 * (DLT_LOOP): accept either. */
	uint32_t be = hs_get32(buf);
	uint32_t le = (uint32_t)buf[3] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[1] << 8 | buf[0];
	uint32_t af = be < 256 ? be : le;
	switch (af) {
	case BSD_AF_INET:
		return decode_ipv4(buf + NULL_HLEN, len - NULL_HLEN, out, err);
	case BSD_AF_INET6_LINUX:
	case BSD_AF_INET6_NET:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return decode_ipv6(buf + NULL_HLEN, len - NULL_HLEN, out, err);
	default:
		return 0;
	}
}

int hs_decode_frame(int dlt, const uint8_t *buf, size_t len, hs_packet *out, const char **err)
{
	out->kind = HS_PKT_NONE;
	switch (dlt) {
	case DLT_EN10MB:
		return decode_ethernet(buf, len, out, err);
	case DLT_LINUX_SLL:
		if (len < SLL_HLEN)
			return fail(err, "truncated Linux cooked header");
		return decode_ethertype(hs_get16(buf + SLL_PROTO_OFF), buf + SLL_HLEN, len - SLL_HLEN, out, err);
	case DLT_LINUX_SLL2:
		if (len < SLL2_HLEN)
			return fail(err, "truncated Linux cooked v2 header");
		return decode_ethertype(hs_get16(buf), buf + SLL2_HLEN, len - SLL2_HLEN, out, err);
	case DLT_RAW:
	case LINKTYPE_RAW:
		return hs_decode_ip(buf, len, out, err);
	case DLT_IPV4:
		return decode_ipv4(buf, len, out, err);
	case DLT_IPV6:
		return decode_ipv6(buf, len, out, err);
	case DLT_NULL:
	case DLT_LOOP:
		return decode_null(buf, len, out, err);
	default:
		return fail(err, "unsupported link type");
	}
}

/* ---- flags ----------------------------------------------------------------------------- */

/* Bytes of link header in front of the IP header, or -1 for frames that carry no
 * IPv4/IPv6 datagram (or are too short to tell). */
long hs_link_header_len(int dlt, const uint8_t *f, size_t len)
{
	size_t off, proto_at;

	switch (dlt) {
	case DLT_EN10MB:
		off = 14;
		proto_at = 12;
		/* 802.1Q / 802.1ad tags: the EtherType moves 4 bytes on per tag. */
		while (len >= proto_at + 2) {
			unsigned type = (unsigned)f[proto_at] << 8 | f[proto_at + 1];
			if (type != 0x8100 && type != 0x88a8)
				break;
			proto_at += 4;
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		off = 16;
		proto_at = 14;
		break;
	case DLT_LINUX_SLL2:
		off = 20;
		proto_at = 0;
		break;
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		return len >= 1 && ((f[0] >> 4) == 4 || (f[0] >> 4) == 6) ? 0 : -1;
	case DLT_NULL:
	case DLT_LOOP:
		off = 4;
		proto_at = SIZE_MAX; /* address family in host or network order: check the IP version */
		break;
	default:
		return -1;
	}
	if (len <= off)
		return -1;
	if (proto_at != SIZE_MAX) {
		unsigned type = (unsigned)f[proto_at] << 8 | f[proto_at + 1];
		if (type != 0x0800 && type != 0x86dd)
			return -1;
	}
	unsigned version = f[off] >> 4;
	return version == 4 || version == 6 ? (long)off : -1;
}

const char *hs_flags_format(uint8_t flags, char *buf, size_t len)
{
	static const struct { uint8_t bit; const char *name; } names[] = {
		{ HS_FIN, "FIN" }, { HS_SYN, "SYN" }, { HS_RST, "RST" }, { HS_PSH, "PSH" },
		{ HS_ACK, "ACK" }, { HS_URG, "URG" }, { HS_ECE, "ECE" }, { HS_CWR, "CWR" },
	};
	char tmp[sizeof("FIN,SYN,RST,PSH,ACK,URG,ECE,CWR")];
	size_t pos = 0;

	if (!len)
		return buf;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		if (pos)
			tmp[pos++] = ',';
		memcpy(tmp + pos, names[i].name, 3);
		pos += 3;
	}
	tmp[pos] = '\0';
	/* Copy bounded: a short buffer gets a truncated, terminated string. */
	const char *src = pos ? tmp : "none";
	size_t n = strlen(src);
	if (n >= len)
		n = len - 1;
	memcpy(buf, src, n);
	buf[n] = '\0';
	return buf;
}
