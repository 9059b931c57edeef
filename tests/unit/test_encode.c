/* hs_segment_encode_ip: encode, decode back, and check both checksums with an
 * independent ones' complement sum. */
#include <config.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/notation.h"
#include "hs/opts.h"
#include "hs/segment.h"
#include "hs/sender.h"
#include "tap.h"

/* Straightforward RFC 1071 sum, written differently from lib/encode.c on purpose:
 * byte pairs accumulated into 64 bits, folded at the end. */
static uint64_t add_words(uint64_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc += (i % 2 == 0) ? (uint64_t)p[i] * 256 : p[i];
	return acc;
}

static uint16_t fold64(uint64_t acc)
{
	while (acc > 0xffff)
		acc = (acc >> 16) + (acc & 0xffff);
	return (uint16_t)acc;
}

/* Sum over pseudo-header + TCP segment (checksum field included): 0xffff if right. */
static uint16_t tcp_verify(const uint8_t *pkt, int family, size_t ip_hlen, size_t tcp_len)
{
	uint8_t pseudo[40];
	size_t n;

	if (family == AF_INET) {
		memcpy(pseudo, pkt + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = 6;
		pseudo[10] = (uint8_t)(tcp_len >> 8);
		pseudo[11] = (uint8_t)tcp_len;
		n = 12;
	} else {
		memcpy(pseudo, pkt + 8, 32);
		pseudo[32] = (uint8_t)(tcp_len >> 24);
		pseudo[33] = (uint8_t)(tcp_len >> 16);
		pseudo[34] = (uint8_t)(tcp_len >> 8);
		pseudo[35] = (uint8_t)tcp_len;
		pseudo[36] = pseudo[37] = pseudo[38] = 0;
		pseudo[39] = 6;
		n = 40;
	}
	return fold64(add_words(add_words(0, pseudo, n), pkt + ip_hlen, tcp_len));
}

static void fill_tx(hs_tx *tx, const uint8_t *data, uint32_t len)
{
	hs_opt_spec spec;
	char err[128];
	const char *e;

	memset(tx, 0, sizeof(*tx));
	tx->flags = HS_PSH | HS_ACK;
	tx->seq = 0xfffffff0u;
	tx->ack = 123456789;
	tx->win = 502;
	/* 23 bytes of options, EOL-padded to 24 by hs_opt_spec_encode. */
	hs_opt_spec_parse("mss=1400,sack,ts=111:222,nop,wscale=3,raw=99:aa", &spec, err, sizeof(err));
	int n = hs_opt_spec_encode(&spec, 0, 0, tx->opts, &e);
	tx->opt_len = (uint8_t)n;
	tx->data = data;
	tx->len = len;
}

static void check_roundtrip(const char *srcs, const char *dsts, uint32_t datalen)
{
	hs_endpoint src, dst;
	hs_tx tx;
	uint8_t data[1500], pkt[2000];
	hs_packet p;
	const char *err = NULL;
	char what[160];
	const char *fam = strchr(srcs, '[') ? "IPv6" : "IPv4";

	for (uint32_t i = 0; i < datalen; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	hs_endpoint_parse(srcs, &src);
	hs_endpoint_parse(dsts, &dst);
	fill_tx(&tx, data, datalen);
	int family = src.addr.family;
	size_t ip_hlen = family == AF_INET ? 20 : 40;

	int n = hs_segment_encode_ip(&src, &dst, &tx, pkt, sizeof(pkt));
	snprintf(what, sizeof(what), "%s, %u data bytes: length", fam, datalen);
	EQ_INT(n, (long long)(ip_hlen + 20 + 24 + datalen), what);
	if (n < 0)
		return;
	size_t tcp_len = (size_t)n - ip_hlen;

	snprintf(what, sizeof(what), "%s, %u: decodes", fam, datalen);
	EQ_INT(hs_decode_ip(pkt, (size_t)n, &p, &err), 0, what);
	const hs_segment *s = &p.u.tcp;
	snprintf(what, sizeof(what), "%s, %u: endpoints", fam, datalen);
	OK(p.kind == HS_PKT_TCP && hs_endpoint_equal(&s->src, &src) && hs_endpoint_equal(&s->dst, &dst), what);
	snprintf(what, sizeof(what), "%s, %u: header fields", fam, datalen);
	OK(s->seq == tx.seq && s->ack == tx.ack && s->flags == tx.flags && s->win == 502 && s->urp == 0 &&
	   s->ttl == 64, what);
	snprintf(what, sizeof(what), "%s, %u: options", fam, datalen);
	OK(s->opts.has == (HS_HAS_MSS | HS_HAS_SACKOK | HS_HAS_TS | HS_HAS_WSCALE | HS_HAS_UNKNOWN) &&
	   s->opts.mss == 1400 && s->opts.ts_val == 111 && s->opts.ts_ecr == 222 && s->opts.wscale == 3 &&
	   s->opts.raw_len == 24 && s->opts.raw[23] == 0, what);
	snprintf(what, sizeof(what), "%s, %u: payload", fam, datalen);
	OK(s->len == datalen && (datalen == 0 || memcmp(s->payload, data, datalen) == 0), what);

	snprintf(what, sizeof(what), "%s, %u: TCP checksum verifies", fam, datalen);
	EQ_INT(tcp_verify(pkt, family, ip_hlen, tcp_len), 0xffff, what);
	uint16_t field = (uint16_t)(pkt[ip_hlen + 16] << 8 | pkt[ip_hlen + 17]);
	snprintf(what, sizeof(what), "%s, %u: hs_tx_checksum is the field on the wire", fam, datalen);
	EQ_INT(hs_tx_checksum(&src, &dst, &tx), field, what);
	snprintf(what, sizeof(what), "%s, %u: hs_tcp_checksum over the bytes agrees", fam, datalen);
	EQ_INT(hs_tcp_checksum(&src.addr, &dst.addr, pkt + ip_hlen, tcp_len), field, what);
	snprintf(what, sizeof(what), "%s, %u: decoded checksum classified ok", fam, datalen);
	EQ_INT(s->csum_status, HS_CSUM_OK, what);
	if (family == AF_INET) {
		EQ_INT(fold64(add_words(0, pkt, 20)), 0xffff, "IPv4 header checksum verifies");
		OK(pkt[0] == 0x45 && pkt[6] == 0x40 && pkt[7] == 0 && pkt[9] == 6, "IPv4: version/IHL, DF, protocol");
		EQ_INT(pkt[2] << 8 | pkt[3], n, "IPv4 total length");
	} else {
		OK(pkt[0] == 0x60 && pkt[6] == 6 && pkt[7] == 64, "IPv6: version, next header, hop limit");
		EQ_INT(pkt[4] << 8 | pkt[5], (long long)tcp_len, "IPv6 payload length");
	}

	/* A flipped payload bit must break the checksum (the test can fail). */
	if (datalen) {
		pkt[n - 1] ^= 0x01;
		snprintf(what, sizeof(what), "%s, %u: corrupted segment fails the check", fam, datalen);
		OK(tcp_verify(pkt, family, ip_hlen, tcp_len) != 0xffff, what);
	}
}

static void test_limits(void)
{
	hs_endpoint a4, b4, a6;
	hs_tx tx;
	uint8_t pkt[100];

	hs_endpoint_parse("198.18.0.1:1000", &a4);
	hs_endpoint_parse("198.18.0.2:2000", &b4);
	hs_endpoint_parse("[2001:db8::1]:1000", &a6);
	memset(&tx, 0, sizeof(tx));
	tx.flags = HS_SYN;
	EQ_INT(hs_segment_encode_ip(&a4, &b4, &tx, pkt, sizeof(pkt)), 40, "bare SYN is 40 bytes");
	EQ_INT(hs_segment_encode_ip(&a4, &b4, &tx, pkt, 39), -1, "buffer too small");
	EQ_INT(hs_segment_encode_ip(&a4, &a6, &tx, pkt, sizeof(pkt)), -1, "mixed families refused");
	tx.opt_len = 41;
	EQ_INT(hs_segment_encode_ip(&a4, &b4, &tx, pkt, sizeof(pkt)), -1, "41 option bytes refused");
	tx.opt_len = 0;
	tx.len = 5;
	tx.data = NULL;
	EQ_INT(hs_segment_encode_ip(&a4, &b4, &tx, pkt, sizeof(pkt)), -1, "length without data refused");

	/* An odd option length is padded to the next multiple of 4. */
	tx.len = 0;
	tx.opt_len = 3;
	tx.opts[0] = 3;
	tx.opts[1] = 3;
	tx.opts[2] = 7;
	int n = hs_segment_encode_ip(&a4, &b4, &tx, pkt, sizeof(pkt));
	EQ_INT(n, 44, "3 option bytes padded to 4");
	EQ_INT(pkt[20 + 12] >> 4, 6, "data offset 6");
	EQ_INT(pkt[20 + 23], 0, "padding is EOL");
	EQ_INT(hs_tx_checksum(&a4, &b4, &tx), pkt[20 + 16] << 8 | pkt[20 + 17], "hs_tx_checksum with padded options");
	EQ_INT(hs_tx_checksum(&a4, &a6, &tx), 0, "hs_tx_checksum: mixed families give 0");
	tx.len = 5;
	tx.data = NULL;
	EQ_INT(hs_tx_checksum(&a4, &b4, &tx), 0, "hs_tx_checksum: length without data gives 0");
}

/* Encodes tx from a to b and decodes it back; returns the length (or -1). */
static int encode_decode(const hs_endpoint *a, const hs_endpoint *b, const hs_tx *tx, uint8_t *pkt, size_t len,
                         hs_packet *p)
{
	const char *err = NULL;
	int n = hs_segment_encode_ip(a, b, tx, pkt, len);

	memset(p, 0, sizeof(*p));
	if (n < 0 || hs_decode_ip(pkt, (size_t)n, p, &err) != 0 || p->kind != HS_PKT_TCP)
		return -1;
	return n;
}

static void test_ip_fields(void)
{
	hs_endpoint a4, b4, a6, b6;
	hs_tx tx;
	hs_packet p;
	uint8_t pkt[200];
	const uint8_t data[5] = { 'h', 'e', 'l', 'l', 'o' };
	const hs_segment *s = &p.u.tcp;

	hs_endpoint_parse("198.18.0.1:40000", &a4);
	hs_endpoint_parse("198.18.0.2:8080", &b4);
	hs_endpoint_parse("[2001:db8::1]:40000", &a6);
	hs_endpoint_parse("[2001:db8::2]:8080", &b6);
	memset(&tx, 0, sizeof(tx));
	tx.flags = HS_PSH | HS_ACK | HS_URG;
	tx.seq = 1000;
	tx.ack = 2000;
	tx.win = 512;
	tx.data = data;
	tx.len = sizeof(data);

	/* Defaults: TTL 64, TOS 0, ID 0, DF set, urp 0, checksum right. */
	int n = encode_decode(&a4, &b4, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(n, 45, "defaults: encodes and decodes");
	OK(pkt[1] == 0 && pkt[4] == 0 && pkt[5] == 0 && pkt[6] == 0x40 && pkt[7] == 0 && pkt[8] == 64,
	   "defaults: TOS 0, ID 0, DF, TTL 64");
	OK(s->ttl == 64 && s->urp == 0 && s->has_ip_id && s->ip_id == 0, "defaults decoded");
	EQ_INT(s->csum_status, HS_CSUM_OK, "defaults: checksum ok");
	uint16_t good = (uint16_t)(pkt[36] << 8 | pkt[37]);
	EQ_INT(hs_tx_checksum(&a4, &b4, &tx), good, "defaults: hs_tx_checksum is the right one");

	tx.ip.set_ttl = true;
	tx.ip.ttl = 3;
	tx.ip.set_tos = true;
	tx.ip.tos = 0xb8; /* DSCP EF */
	tx.ip.set_ip_id = true;
	tx.ip.ip_id = 0xbeef;
	tx.urp = 3;
	n = encode_decode(&a4, &b4, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(n, 45, "crafted IPv4: encodes and decodes");
	EQ_INT(pkt[8], 3, "TTL on the wire");
	EQ_INT(s->ttl, 3, "TTL decoded");
	EQ_INT(pkt[1], 0xb8, "TOS on the wire");
	EQ_INT(pkt[4] << 8 | pkt[5], 0xbeef, "IPv4 ID on the wire");
	OK(s->has_ip_id && s->ip_id == 0xbeef, "IPv4 ID decoded");
	EQ_INT(pkt[6] << 8 | pkt[7], 0x4000, "DF stays set by default");
	EQ_INT(pkt[38] << 8 | pkt[39], 3, "urgent pointer on the wire");
	EQ_INT(s->urp, 3, "urgent pointer decoded");
	EQ_INT(fold64(add_words(0, pkt, 20)), 0xffff, "crafted IPv4 header checksum verifies");
	EQ_INT(s->csum_status, HS_CSUM_OK, "crafted, no bad_csum: checksum ok");
	EQ_INT(tcp_verify(pkt, AF_INET, 20, 25), 0xffff, "crafted: TCP checksum verifies (urp included)");
	EQ_INT(hs_tx_checksum(&a4, &b4, &tx), pkt[36] << 8 | pkt[37], "crafted: hs_tx_checksum is the field");
	OK(hs_tx_checksum(&a4, &b4, &tx) != good, "urp is in the checksum");

	tx.ip.set_df = true;
	tx.ip.df = false;
	n = encode_decode(&a4, &b4, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(pkt[6] << 8 | pkt[7], 0, "set_df without df: DF clear");
	OK(n == 45 && !s->fragment, "DF clear: still one whole datagram");
	tx.ip.df = true;
	encode_decode(&a4, &b4, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(pkt[6] << 8 | pkt[7], 0x4000, "set_df with df: DF set");

	/* A bad checksum: the right one + 1, classified bad on decode. */
	uint16_t right = hs_tx_checksum(&a4, &b4, &tx);
	tx.ip.bad_csum = true;
	n = encode_decode(&a4, &b4, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(n, 45, "bad_csum: encodes and decodes");
	uint16_t field = (uint16_t)(pkt[36] << 8 | pkt[37]);
	EQ_INT(field, (right + 1) % 0xffff, "bad_csum: the right checksum + 1");
	EQ_INT(s->csum_status, HS_CSUM_BAD, "bad_csum: decoded as bad");
	OK(tcp_verify(pkt, AF_INET, 20, 25) != 0xffff, "bad_csum: does not verify");
	EQ_INT(hs_tx_checksum(&a4, &b4, &tx), field, "bad_csum: hs_tx_checksum gives the wrong value on the wire");
	EQ_INT(fold64(add_words(0, pkt, 20)), 0xffff, "bad_csum: IPv4 header checksum still right");
	tx.ip.bad_csum = false;
	encode_decode(&a4, &b4, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(s->csum_status, HS_CSUM_OK, "bad_csum off again: ok");

	/* Right checksum 0xfffe: + 1 mod 0xffff would be 0, so another wrong nonzero one.
	 * Find a sequence number that gives it (the checksum moves with seq). */
	hs_tx t2 = tx;
	uint32_t seq = 0;
	for (uint32_t k = 0; k < 0x10000; k++) {
		t2.seq = k;
		if (hs_tx_checksum(&a4, &b4, &t2) == 0xfffe) {
			seq = k;
			break;
		}
	}
	t2.seq = seq;
	OK(hs_tx_checksum(&a4, &b4, &t2) == 0xfffe, "found a segment whose checksum is 0xfffe");
	t2.ip.bad_csum = true;
	uint16_t w = hs_tx_checksum(&a4, &b4, &t2);
	OK(w != 0 && w != 0xfffe && w != 0xffff, "right 0xfffe: the wrong one is neither 0, 0xffff nor right");
	encode_decode(&a4, &b4, &t2, pkt, sizeof(pkt), &p);
	EQ_INT(pkt[36] << 8 | pkt[37], w, "right 0xfffe: on the wire as hs_tx_checksum says");
	EQ_INT(s->csum_status, HS_CSUM_BAD, "right 0xfffe: decoded as bad");

	/* IPv6: hop limit and traffic class; the IPv4-only fields change nothing. */
	memset(&tx.ip, 0, sizeof(tx.ip));
	tx.urp = 0;
	n = encode_decode(&a6, &b6, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(n, 65, "IPv6 defaults: encodes and decodes");
	OK(pkt[0] == 0x60 && pkt[1] == 0 && pkt[7] == 64 && s->ttl == 64 && !s->has_ip_id,
	   "IPv6 defaults: traffic class 0, hop limit 64");
	uint8_t plain[200];
	memcpy(plain, pkt, (size_t)n);
	tx.ip.set_ttl = true;
	tx.ip.ttl = 1;
	tx.ip.set_tos = true;
	tx.ip.tos = 0xb9;
	tx.ip.set_ip_id = true;
	tx.ip.ip_id = 7;
	tx.ip.set_df = true;
	tx.urp = 0x1234;
	n = encode_decode(&a6, &b6, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(n, 65, "IPv6 crafted: encodes and decodes");
	EQ_INT(pkt[7], 1, "IPv6 hop limit on the wire");
	EQ_INT(s->ttl, 1, "IPv6 hop limit decoded");
	OK(pkt[0] == 0x6b && pkt[1] == 0x90 && pkt[2] == 0 && pkt[3] == 0, "IPv6 traffic class 0xb9, flow label 0");
	OK(memcmp(pkt + 4, plain + 4, 3) == 0 && memcmp(pkt + 8, plain + 8, 32) == 0,
	   "IPv6: ID and DF ignored, rest of the header unchanged");
	EQ_INT(s->urp, 0x1234, "IPv6 urgent pointer decoded");
	EQ_INT(s->csum_status, HS_CSUM_OK, "IPv6 crafted: checksum ok");
	tx.ip.bad_csum = true;
	right = (uint16_t)(pkt[56] << 8 | pkt[57]);
	encode_decode(&a6, &b6, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(s->csum_status, HS_CSUM_BAD, "IPv6 bad_csum: decoded as bad");
	EQ_INT(pkt[56] << 8 | pkt[57], (right + 1) % 0xffff, "IPv6 bad_csum: the right checksum + 1");
	EQ_INT(hs_tx_checksum(&a6, &b6, &tx), pkt[56] << 8 | pkt[57], "IPv6 bad_csum: hs_tx_checksum agrees");

	/* IPv6 flow label: 20 bits after the traffic class (RFC 8200 3), bits above ignored. */
	tx.ip.bad_csum = false;
	tx.ip.set_flow = true;
	tx.ip.flow = 0xf12345;
	n = encode_decode(&a6, &b6, &tx, pkt, sizeof(pkt), &p);
	EQ_INT(n, 65, "IPv6 flow label: encodes and decodes");
	OK(pkt[0] == 0x6b && pkt[1] == 0x91 && pkt[2] == 0x23 && pkt[3] == 0x45,
	   "IPv6 traffic class 0xb9, flow label 0x12345 (0xf12345 cut to 20 bits)");
	EQ_INT(s->csum_status, HS_CSUM_OK, "IPv6 flow label: checksum ok");
	/* merged like the other fields: a crafted segment's own flow label wins */
	hs_ip_fields base = { .set_flow = true, .flow = 1 }, over = { .set_flow = true, .flow = 2 };
	hs_ip_fields_merge(&base, &over);
	OK(base.set_flow && base.flow == 2, "hs_ip_fields_merge takes the flow label");
}

int main(void)
{
	check_roundtrip("198.18.0.1:40000", "198.18.0.2:8080", 0);
	check_roundtrip("198.18.0.1:40000", "198.18.0.2:8080", 13); /* odd length: last byte padded in the sum */
	check_roundtrip("198.18.0.1:65535", "198.18.0.2:1", 1400);
	check_roundtrip("[2001:db8::1]:40000", "[2001:db8::2]:8080", 0);
	check_roundtrip("[2001:db8::1]:40000", "[2001:db8::2]:8080", 13);
	check_roundtrip("[2001:db8::ffff:1]:1", "[2001:db8::2]:65535", 1400);
	test_limits();
	test_ip_fields();
	return tap_done();
}
