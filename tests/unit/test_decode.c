/* Decoding real frames captured from the Linux kernel (captures/frames.h), frames
 * derived from them for the link types and headers the kernel did not give us,
 * and malformed variants. Run under ASan to make the truncation loops meaningful. */
#include <config.h>

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/segment.h"
#include "captures/frames.h"
#include "tap.h"

#define ETH 14

static const char *ep(const hs_endpoint *e)
{
	static char buf[4][HS_ENDPOINT_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return hs_endpoint_format(e, buf[i], sizeof(buf[i]));
}

static const char *flags(uint8_t f)
{
	static char buf[64];

	return hs_flags_format(f, buf, sizeof(buf));
}

/* Decodes a copy of exactly len bytes on the heap, so that ASan sees any overread. */
static int decode(int dlt, const uint8_t *frame, size_t len, hs_packet *pkt, const char **err)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, frame, len);
	*err = NULL;
	int rc = hs_decode_frame(dlt, copy, len, pkt, err);
	/* The payload points into the buffer: rebase it onto the caller's frame. */
	if (rc == 0 && pkt->kind == HS_PKT_TCP && pkt->u.tcp.payload)
		pkt->u.tcp.payload = frame + (pkt->u.tcp.payload - copy);
	free(copy);
	return rc;
}

static void check_linux_syn(const hs_packet *p, const char *what)
{
	char msg[128];
	const hs_segment *s = &p->u.tcp;

	snprintf(msg, sizeof(msg), "%s: TCP", what);
	EQ_INT(p->kind, HS_PKT_TCP, msg);
	snprintf(msg, sizeof(msg), "%s: endpoints", what);
	EQ_STR(ep(&s->src), "198.18.0.1:45640", msg);
	EQ_STR(ep(&s->dst), "198.18.0.2:8080", msg);
	snprintf(msg, sizeof(msg), "%s: seq/ack/flags/win/ttl", what);
	OK(s->seq == 3008272002u && s->ack == 0 && s->flags == HS_SYN && s->win == 64240 && s->ttl == 64, msg);
	snprintf(msg, sizeof(msg), "%s: Linux options", what);
	OK(s->opts.has == (HS_HAS_MSS | HS_HAS_SACKOK | HS_HAS_TS | HS_HAS_WSCALE) && s->opts.mss == 1460 &&
	   s->opts.ts_val == 2349780833u && s->opts.ts_ecr == 0 && s->opts.wscale == 10, msg);
	snprintf(msg, sizeof(msg), "%s: no payload", what);
	EQ_INT(s->len, 0, msg);
}

static void test_real_ipv4(void)
{
	hs_packet p;
	const char *err;
	char buf[128];

	EQ_INT(decode(DLT_EN10MB, eth_syn, sizeof(eth_syn), &p, &err), 0, "SYN decodes");
	check_linux_syn(&p, "veth SYN");
	EQ_INT(p.u.tcp.csum, 0x8c56, "checksum kept as captured (partial, not verified)");
	EQ_INT(p.u.tcp.opts.raw_len, 20, "SYN option bytes kept");
	EQ_STR(hs_opts_format(&p.u.tcp.opts, buf, sizeof(buf)), "mss 1460,sackOK,ts 2349780833 0,nop,wscale 10",
	       "SYN options as text");
	EQ_STR(hs_opts_format_json(&p.u.tcp.opts, buf, sizeof(buf)),
	       "{\"mss\":1460,\"sack\":true,\"ts\":[2349780833,0],\"wscale\":10}", "SYN options as JSON");

	EQ_INT(decode(DLT_EN10MB, eth_synack, sizeof(eth_synack), &p, &err), 0, "SYN,ACK decodes");
	EQ_INT(p.kind, HS_PKT_TCP, "SYN,ACK is TCP");
	EQ_STR(ep(&p.u.tcp.src), "198.18.0.2:8080", "SYN,ACK source");
	EQ_STR(flags(p.u.tcp.flags), "SYN,ACK", "SYN,ACK flags");
	OK(p.u.tcp.seq == 1465304384u && p.u.tcp.ack == 3008272003u && p.u.tcp.win == 65160, "SYN,ACK numbers");
	OK(p.u.tcp.opts.ts_val == 1001890174u && p.u.tcp.opts.ts_ecr == 2349780833u, "SYN,ACK echoes TSval");

	EQ_INT(decode(DLT_EN10MB, eth_data, sizeof(eth_data), &p, &err), 0, "data segment decodes");
	EQ_STR(flags(p.u.tcp.flags), "PSH,ACK", "data flags");
	OK(p.u.tcp.seq == 3008272003u && p.u.tcp.ack == 1465304385u && p.u.tcp.win == 63, "data numbers");
	EQ_INT(p.u.tcp.len, 6, "data length");
	OK(p.u.tcp.len == 6 && memcmp(p.u.tcp.payload, "hello\n", 6) == 0, "data payload");
	OK(p.u.tcp.payload == eth_data + ETH + 20 + 32, "payload points into the frame");
	EQ_STR(hs_opts_format(&p.u.tcp.opts, buf, sizeof(buf)), "nop,nop,ts 2349780833 1001890174", "data options");

	EQ_INT(decode(DLT_EN10MB, eth_data_srv, sizeof(eth_data_srv), &p, &err), 0, "server data decodes");
	OK(p.u.tcp.len == 9 && memcmp(p.u.tcp.payload, "hi hello\n", 9) == 0, "server payload");

	EQ_INT(decode(DLT_EN10MB, eth_fin, sizeof(eth_fin), &p, &err), 0, "FIN decodes");
	EQ_STR(flags(p.u.tcp.flags), "FIN,ACK", "FIN flags");
	OK(p.u.tcp.seq == 1465304394u && p.u.tcp.ack == 3008272009u && p.u.tcp.len == 0, "FIN numbers");

	EQ_INT(decode(DLT_EN10MB, eth_rstack, sizeof(eth_rstack), &p, &err), 0, "RST,ACK decodes");
	EQ_STR(flags(p.u.tcp.flags), "RST,ACK", "RST,ACK flags");
	EQ_STR(ep(&p.u.tcp.src), "198.18.0.2:9", "RST from the closed port");
	OK(p.u.tcp.seq == 0 && p.u.tcp.ack == 3213359245u && p.u.tcp.win == 0, "RST,ACK numbers");
	EQ_INT(p.u.tcp.opts.has, 0, "RST,ACK has no options");

	EQ_INT(decode(DLT_EN10MB, eth_icmp_unreach, sizeof(eth_icmp_unreach), &p, &err), 0, "ICMP decodes");
	EQ_INT(p.kind, HS_PKT_ICMP, "ICMP port unreachable is an ICMP error");
	hs_icmp_error *ic = &p.u.icmp;
	OK(ic->family == AF_INET && ic->type == 3 && ic->code == 3, "ICMP type 3 code 3");
	hs_addr_format(&ic->reporter.addr, buf, sizeof(buf));
	EQ_STR(buf, "198.18.0.2", "ICMP reporter");
	EQ_STR(ep(&ic->orig_src), "198.18.0.1:45020", "quoted source");
	EQ_STR(ep(&ic->orig_dst), "198.18.0.2:7777", "quoted destination");
	EQ_INT(ic->orig_seq, 2813487467u, "quoted sequence number");

	EQ_INT(decode(DLT_EN10MB, eth_arp, sizeof(eth_arp), &p, &err), 0, "ARP is not an error");
	EQ_INT(p.kind, HS_PKT_NONE, "ARP is NONE");
}

static void test_real_ipv6(void)
{
	hs_packet p;
	const char *err;
	char buf[128];

	EQ_INT(decode(DLT_EN10MB, eth_syn6, sizeof(eth_syn6), &p, &err), 0, "IPv6 SYN decodes");
	EQ_INT(p.kind, HS_PKT_TCP, "IPv6 SYN is TCP");
	EQ_STR(ep(&p.u.tcp.src), "[2001:db8::1]:43642", "IPv6 source");
	EQ_STR(ep(&p.u.tcp.dst), "[2001:db8::2]:8080", "IPv6 destination");
	OK(p.u.tcp.seq == 2865108709u && p.u.tcp.flags == HS_SYN && p.u.tcp.win == 64800 && p.u.tcp.ttl == 64,
	   "IPv6 SYN numbers and hop limit");
	EQ_INT(p.u.tcp.opts.mss, 1440, "IPv6 MSS");

	EQ_INT(decode(DLT_EN10MB, eth_icmp6_unreach, sizeof(eth_icmp6_unreach), &p, &err), 0, "ICMPv6 decodes");
	EQ_INT(p.kind, HS_PKT_ICMP, "ICMPv6 port unreachable is an ICMP error");
	OK(p.u.icmp.family == AF_INET6 && p.u.icmp.type == 1 && p.u.icmp.code == 4, "ICMPv6 type 1 code 4");
	hs_addr_format(&p.u.icmp.reporter.addr, buf, sizeof(buf));
	EQ_STR(buf, "2001:db8::2", "ICMPv6 reporter");
	EQ_STR(ep(&p.u.icmp.orig_src), "[2001:db8::1]:39244", "ICMPv6 quoted source");
	EQ_STR(ep(&p.u.icmp.orig_dst), "[2001:db8::2]:7777", "ICMPv6 quoted destination");
	EQ_INT(p.u.icmp.orig_seq, 4118574423u, "ICMPv6 quoted seq");

	EQ_INT(decode(DLT_EN10MB, eth_ns6, sizeof(eth_ns6), &p, &err), 0, "neighbour solicitation decodes");
	EQ_INT(p.kind, HS_PKT_NONE, "neighbour solicitation is NONE");
	EQ_INT(decode(DLT_EN10MB, eth_mld6_hbh, sizeof(eth_mld6_hbh), &p, &err), 0, "MLD behind hop-by-hop decodes");
	EQ_INT(p.kind, HS_PKT_NONE, "MLD is NONE");
}

static void test_link_types(void)
{
	hs_packet p;
	const char *err;
	uint8_t f[256];

	EQ_INT(decode(DLT_LINUX_SLL, sll_syn, sizeof(sll_syn), &p, &err), 0, "SLL frame decodes");
	check_linux_syn(&p, "SLL SYN");
	EQ_INT(decode(DLT_LINUX_SLL2, sll2_syn, sizeof(sll2_syn), &p, &err), 0, "SLL2 frame decodes");
	check_linux_syn(&p, "SLL2 SYN");

	EQ_INT(decode(DLT_EN10MB, lo_syn, sizeof(lo_syn), &p, &err), 0, "lo frame decodes");
	EQ_STR(ep(&p.u.tcp.src), "127.0.0.1:55834", "lo source");
	EQ_STR(ep(&p.u.tcp.dst), "127.0.0.1:8080", "lo destination");
	OK(p.u.tcp.seq == 2722040580u && p.u.tcp.opts.mss == 65495 && p.u.tcp.win == 65495, "lo SYN numbers");

	/* Raw IP: the real SYN without its Ethernet header. */
	const uint8_t *ip4 = eth_syn + ETH, *ip6 = eth_syn6 + ETH;
	size_t ip4len = sizeof(eth_syn) - ETH, ip6len = sizeof(eth_syn6) - ETH;
	EQ_INT(decode(DLT_RAW, ip4, ip4len, &p, &err), 0, "DLT_RAW IPv4");
	check_linux_syn(&p, "DLT_RAW SYN");
	EQ_INT(decode(101, ip4, ip4len, &p, &err), 0, "LINKTYPE_RAW IPv4");
	check_linux_syn(&p, "LINKTYPE_RAW SYN");
	EQ_INT(decode(DLT_RAW, ip6, ip6len, &p, &err), 0, "DLT_RAW IPv6");
	EQ_INT(p.u.tcp.seq, 2865108709u, "DLT_RAW IPv6 seq");
	EQ_INT(decode(DLT_IPV4, ip4, ip4len, &p, &err), 0, "DLT_IPV4");
	EQ_INT(p.kind, HS_PKT_TCP, "DLT_IPV4 is TCP");
	EQ_INT(decode(DLT_IPV6, ip6, ip6len, &p, &err), 0, "DLT_IPV6");
	EQ_INT(p.kind, HS_PKT_TCP, "DLT_IPV6 is TCP");
	EQ_INT(decode(DLT_IPV6, ip4, ip4len, &p, &err), -1, "IPv4 bytes on DLT_IPV6 refused");
	EQ_STR(err, "not an IPv6 header", "version mismatch message");

	/* DLT_NULL (host order) and DLT_LOOP (network order). */
	const uint8_t null_le[4] = { 2, 0, 0, 0 }, loop_be[4] = { 0, 0, 0, 2 }, null6[4] = { 30, 0, 0, 0 };
	memcpy(f, null_le, 4);
	memcpy(f + 4, ip4, ip4len);
	EQ_INT(decode(DLT_NULL, f, 4 + ip4len, &p, &err), 0, "DLT_NULL AF_INET little-endian");
	check_linux_syn(&p, "DLT_NULL SYN");
	memcpy(f, loop_be, 4);
	EQ_INT(decode(DLT_LOOP, f, 4 + ip4len, &p, &err), 0, "DLT_LOOP AF_INET big-endian");
	EQ_INT(p.kind, HS_PKT_TCP, "DLT_LOOP is TCP");
	memcpy(f, null6, 4);
	memcpy(f + 4, ip6, ip6len);
	EQ_INT(decode(DLT_NULL, f, 4 + ip6len, &p, &err), 0, "DLT_NULL AF_INET6 (Darwin 30)");
	EQ_INT(p.u.tcp.seq, 2865108709u, "DLT_NULL IPv6 seq");
	f[0] = 17;
	EQ_INT(decode(DLT_NULL, f, 4 + ip6len, &p, &err), 0, "DLT_NULL other family");
	EQ_INT(p.kind, HS_PKT_NONE, "DLT_NULL other family is NONE");

	/* 802.1Q and QinQ: the real SYN with tags inserted after the MAC addresses. */
	const uint8_t tag_q[4] = { 0x81, 0x00, 0x00, 0x0a }, tag_ad[4] = { 0x88, 0xa8, 0x00, 0x64 };
	memcpy(f, eth_syn, 12);
	memcpy(f + 12, tag_q, 4);
	memcpy(f + 16, eth_syn + 12, sizeof(eth_syn) - 12);
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn) + 4, &p, &err), 0, "802.1Q frame decodes");
	check_linux_syn(&p, "802.1Q SYN");
	memcpy(f + 12, tag_ad, 4);
	memcpy(f + 16, tag_q, 4);
	memcpy(f + 20, eth_syn + 12, sizeof(eth_syn) - 12);
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn) + 8, &p, &err), 0, "802.1ad+802.1Q frame decodes");
	check_linux_syn(&p, "QinQ SYN");
	EQ_INT(decode(DLT_EN10MB, f, 19, &p, &err), -1, "truncated inside the tags");
	EQ_STR(err, "truncated 802.1Q tag", "tag truncation message");

	EQ_INT(decode(DLT_IEEE802_11, eth_syn, sizeof(eth_syn), &p, &err), -1, "unsupported link type");
	EQ_STR(err, "unsupported link type", "unsupported link type message");
}

/* Every prefix of a real frame must give -1 or NONE, or a TCP segment whose fixed
 * header was captured (payload cut to what was captured, SEG.LEN still the whole
 * one's, from the IP header), or an ICMP error whose quote still holds the TCP ports
 * and seq. Never a crash (ASan). hdr_end: where that part ends (TCP: its options). */
static void truncate_all(int dlt, const uint8_t *frame, size_t len, size_t hdr_end, const char *what)
{
	int bad = 0;
	hs_packet p;
	const char *err;

	for (size_t n = 0; n < len; n++) {
		int rc = decode(dlt, frame, n, &p, &err);
		if (rc == -1) {
			if (!err || !*err)
				bad++;
			continue;
		}
		if (rc != 0 ||
		    (p.kind == HS_PKT_TCP && (p.u.tcp.len != (n > hdr_end ? n - hdr_end : 0) ||
		                              hs_seg_len(&p.u.tcp) != len - hdr_end ||
		                              (p.u.tcp.len && p.u.tcp.payload != frame + hdr_end))) ||
		    (p.kind == HS_PKT_ICMP && n < hdr_end))
			bad++;
	}
	char msg[128];
	snprintf(msg, sizeof(msg), "%s: every truncation is -1 (with a message), NONE, or a short payload", what);
	EQ_INT(bad, 0, msg);
}

static void test_truncation(void)
{
	hs_packet p;
	const char *err;

	truncate_all(DLT_EN10MB, eth_syn, sizeof(eth_syn), sizeof(eth_syn), "SYN");
	truncate_all(DLT_EN10MB, eth_data, sizeof(eth_data), ETH + 20 + 32, "data");
	truncate_all(DLT_EN10MB, eth_syn6, sizeof(eth_syn6), sizeof(eth_syn6), "IPv6 SYN");
	truncate_all(DLT_EN10MB, eth_icmp_unreach, sizeof(eth_icmp_unreach), ETH + 20 + 8 + 20 + 8, "ICMP");
	truncate_all(DLT_EN10MB, eth_icmp6_unreach, sizeof(eth_icmp6_unreach), ETH + 40 + 8 + 40 + 8, "ICMPv6");
	truncate_all(DLT_LINUX_SLL2, sll2_syn, sizeof(sll2_syn), sizeof(sll2_syn), "SLL2 SYN");

	/* Captured less than the IP total length, TCP header complete: keep the part. */
	EQ_INT(decode(DLT_EN10MB, eth_data, sizeof(eth_data) - 2, &p, &err), 0, "snaplen-cut data segment");
	OK(p.kind == HS_PKT_TCP && p.u.tcp.len == 4 && memcmp(p.u.tcp.payload, "hell", 4) == 0,
	   "payload is what was captured");
	EQ_INT(p.u.tcp.truncated, 2, "the rest of SEG.LEN is counted as truncated (tcpdump -s N)");
	EQ_INT(hs_seg_len(&p.u.tcp), 6, "SEG.LEN from the IP header's length, not the capture's");
	EQ_INT(p.u.tcp.csum_status, HS_CSUM_UNCHECKED, "a cut segment's checksum cannot be checked");
	/* Cut in its options (tcpdump -s 70 of a SYN): the header is there, the options
	 * that were captured too; SEG.LEN is still right. */
	EQ_INT(decode(DLT_EN10MB, eth_syn, sizeof(eth_syn) - 1, &p, &err), 0, "TCP header cut in its options");
	OK(p.kind == HS_PKT_TCP && p.u.tcp.flags == HS_SYN && p.u.tcp.len == 0 && p.u.tcp.truncated == 0,
	   "a SYN cut in its options is still a SYN of no payload");
	OK(p.u.tcp.opts.has & HS_HAS_MSS, "the options before the cut decoded");
	{
		char ot[256];
		OK(strstr(hs_opts_format(&p.u.tcp.opts, ot, sizeof(ot)), "bad-opt") == NULL,
		   "the option the capture cut is left out, not shown malformed");
	}
	EQ_INT(decode(DLT_EN10MB, eth_syn, ETH + 20 + 20, &p, &err), 0, "only the fixed TCP header (tcpdump -s 54)");
	OK(p.kind == HS_PKT_TCP && p.u.tcp.flags == HS_SYN && !p.u.tcp.opts.has, "the SYN, no options");
	EQ_INT(decode(DLT_EN10MB, eth_syn, ETH + 19, &p, &err), -1, "IPv4 header cut");
	EQ_STR(err, "truncated IPv4 header", "IPv4 cut message");
	EQ_INT(decode(DLT_EN10MB, eth_syn, ETH + 30, &p, &err), -1, "TCP fixed header cut");
	EQ_STR(err, "truncated TCP header", "TCP cut message");
	EQ_INT(decode(DLT_EN10MB, eth_syn, 10, &p, &err), -1, "Ethernet header cut");
	EQ_STR(err, "truncated Ethernet header", "Ethernet cut message");
	EQ_INT(decode(DLT_LINUX_SLL, sll_syn, 15, &p, &err), -1, "SLL header cut");
	EQ_INT(decode(DLT_EN10MB, eth_syn6, ETH + 39, &p, &err), -1, "IPv6 header cut");
	EQ_STR(err, "truncated IPv6 header", "IPv6 cut message");

	/* Ethernet padding: the IP total length wins over the frame length. */
	uint8_t f[128];
	memcpy(f, eth_rstack, sizeof(eth_rstack));
	memset(f + sizeof(eth_rstack), 0, 6);
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_rstack) + 6, &p, &err), 0, "padded RST decodes");
	EQ_INT(p.u.tcp.len, 0, "padding is not payload");
}

/* A real SYN's 20 option bytes replaced by the kinds hs decodes beyond the usual four:
 * the frame decoder hands them to the option decoder whole, and cuts them cleanly. */
static void test_new_option_kinds(void)
{
	hs_packet p;
	const char *err;
	uint8_t f[sizeof(eth_syn)];
	const size_t opt = ETH + 20 + 20;
	const uint8_t kinds[20] = { 30, 4, 0x01, 0x81, 34, 2, 1, 1, 29, 6, 1, 2, 0xaa, 0xbb,
	                            254, 4, 0xf9, 0x89, 1, 1 };
	char ot[512];

	memcpy(f, eth_syn, sizeof(eth_syn));
	memcpy(f + opt, kinds, sizeof(kinds));
	EQ_INT(decode(DLT_EN10MB, f, sizeof(f), &p, &err), 0, "SYN with MPTCP, TFO, AO, TFO-exp decodes");
	EQ_INT(p.u.tcp.opts.has, HS_HAS_MPTCP | HS_HAS_TFO | HS_HAS_AO | HS_HAS_TFO_EXP, "their has bits");
	EQ_STR(hs_opts_format(&p.u.tcp.opts, ot, sizeof(ot)),
	       "mptcp MP_CAPABLE version 1 flags 0x81,tfo cookiereq,nop,nop,ao keyid 1 rnext 2 mac aabb,"
	       "tfo-exp cookiereq,nop,nop", "their text");
	/* Cut by the capture inside the AO option: MPTCP and TFO stay, nothing is read past. */
	EQ_INT(decode(DLT_EN10MB, f, opt + 11, &p, &err), 0, "cut inside the AO option");
	EQ_INT(p.u.tcp.opts.has, HS_HAS_MPTCP | HS_HAS_TFO, "the options before the cut");
	EQ_STR(hs_opts_format(&p.u.tcp.opts, ot, sizeof(ot)), "mptcp MP_CAPABLE version 1 flags 0x81,tfo cookiereq,nop,nop",
	       "the cut option is left out");
	/* An MPTCP option whose length byte overruns the header: malformed, the rest kept. */
	f[opt + 9] = 40;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(f), &p, &err), 0, "AO overrunning the header: segment kept");
	OK(strstr(hs_opts_format(&p.u.tcp.opts, ot, sizeof(ot)), "bad-opt (TCP option overruns the option space) 1d28") != NULL,
	   "the overrun shown with its bytes");
}

static void test_malformed(void)
{
	hs_packet p;
	const char *err;
	uint8_t f[256];
	const size_t tcp = ETH + 20;

	/* Data offset below 5 and past the buffer. */
	memcpy(f, eth_syn, sizeof(eth_syn));
	f[tcp + 12] = 0x40;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), -1, "data offset 4");
	EQ_STR(err, "bad TCP data offset", "data offset 4 message");
	f[tcp + 12] = 0xf0;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), -1, "data offset 15 past the segment");

	/* Broken option lists do not drop the segment: what decoded stays. */
	memcpy(f, eth_syn, sizeof(eth_syn));
	f[tcp + 20 + 17] = 0; /* wscale length 0 */
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), 0, "option length 0: segment kept");
	OK(p.kind == HS_PKT_TCP && p.u.tcp.opts.mss == 1460 && (p.u.tcp.opts.has & HS_HAS_TS) &&
	   !(p.u.tcp.opts.has & HS_HAS_WSCALE), "options before the bad one kept");
	f[tcp + 20 + 17] = 1;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), 0, "option length 1: segment kept");
	f[tcp + 20 + 17] = 4; /* wscale running past the option space */
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), 0, "overrunning option: segment kept");
	EQ_INT(p.u.tcp.opts.has & HS_HAS_WSCALE, 0, "overrunning option not stored");
	memcpy(f, eth_syn, sizeof(eth_syn));
	f[tcp + 20 + 1] = 0; /* MSS length 0: nothing decodes */
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), 0, "first option bad: segment kept");
	EQ_INT(p.u.tcp.opts.has, 0, "no options from a list broken at the start");
	EQ_INT(p.u.tcp.seq, 3008272002u, "header fields still there");

	/* SACK with 5 blocks (42 bytes: only possible outside a real header). */
	uint8_t sack5[42] = { 5, 42 };
	hs_tcp_opts o;
	EQ_INT(hs_opts_decode(sack5, sizeof(sack5), &o, &err), -1, "SACK with 5 blocks rejected");

	/* IPv4: IHL 4, total length below the header, a later fragment, a first fragment. */
	memcpy(f, eth_syn, sizeof(eth_syn));
	f[ETH] = 0x44;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), -1, "IHL 4");
	EQ_STR(err, "bad IPv4 header length", "IHL message");
	memcpy(f, eth_syn, sizeof(eth_syn));
	f[ETH + 2] = 0;
	f[ETH + 3] = 19;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), -1, "total length 19");
	EQ_STR(err, "bad IPv4 total length", "total length message");
	memcpy(f, eth_syn, sizeof(eth_syn));
	f[ETH + 6] = 0x00;
	f[ETH + 7] = 0x10;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), 0, "later fragment");
	EQ_INT(p.kind, HS_PKT_NONE, "later fragment is NONE");
	f[ETH + 6] = 0x20; /* MF, offset 0 */
	f[ETH + 7] = 0x00;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), 0, "first fragment");
	EQ_INT(p.kind, HS_PKT_TCP, "first fragment is TCP");
	memcpy(f, eth_syn, sizeof(eth_syn));
	f[ETH + 9] = 17;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), 0, "UDP");
	EQ_INT(p.kind, HS_PKT_NONE, "UDP is NONE");
	memcpy(f, eth_syn, sizeof(eth_syn));
	f[ETH] = 0x55;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn), &p, &err), -1, "version 5 in an IPv4 ethertype");

	/* IPv4 with 4 bytes of IP options (IHL 6). */
	memcpy(f, eth_syn, ETH + 20);
	f[ETH] = 0x46;
	f[ETH + 3] = (uint8_t)(f[ETH + 3] + 4);
	memcpy(f + ETH + 20, "\x01\x01\x01\x00", 4);
	memcpy(f + ETH + 24, eth_syn + ETH + 20, sizeof(eth_syn) - ETH - 20);
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn) + 4, &p, &err), 0, "IPv4 with options");
	check_linux_syn(&p, "IHL 6 SYN");
	truncate_all(DLT_EN10MB, f, sizeof(eth_syn) + 4, sizeof(eth_syn) + 4, "IHL 6 SYN");
	EQ_INT(decode(DLT_EN10MB, f, ETH + 22, &p, &err), -1, "cut inside the IP options");
	EQ_STR(err, "truncated IPv4 header", "cut IP options message");

	/* Total length 0 (a GSO super-packet seen before segmentation): the capture decides. */
	memcpy(f, eth_data, sizeof(eth_data));
	f[ETH + 2] = f[ETH + 3] = 0;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_data), &p, &err), 0, "IPv4 total length 0");
	EQ_INT(p.u.tcp.len, 6, "IPv4 total length 0: payload from the capture");
	memcpy(f, eth_syn6, sizeof(eth_syn6));
	f[ETH + 4] = f[ETH + 5] = 0;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_syn6), &p, &err), 0, "IPv6 payload length 0");
	EQ_INT(p.kind, HS_PKT_TCP, "IPv6 payload length 0: still TCP");

	/* Raw IP that is neither version, nothing at all, a short loopback header. */
	EQ_INT(decode(DLT_RAW, eth_syn, 0, &p, &err), -1, "empty raw packet");
	EQ_STR(err, "empty IP packet", "empty raw packet message");
	memcpy(f, eth_syn + ETH, 20);
	f[0] = 0x75;
	EQ_INT(decode(DLT_RAW, f, 20, &p, &err), -1, "IP version 7");
	EQ_STR(err, "unknown IP version", "IP version 7 message");
	EQ_INT(decode(DLT_NULL, eth_syn, 3, &p, &err), -1, "short loopback header");
	EQ_STR(err, "truncated loopback header", "short loopback header message");

	/* ICMP: echo request is not an error; an error quoting UDP is NONE. */
	memcpy(f, eth_icmp_unreach, sizeof(eth_icmp_unreach));
	f[ETH + 20] = 8;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_icmp_unreach), &p, &err), 0, "echo request");
	EQ_INT(p.kind, HS_PKT_NONE, "echo request is NONE");
	memcpy(f, eth_icmp_unreach, sizeof(eth_icmp_unreach));
	f[ETH + 20 + 8 + 9] = 17;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_icmp_unreach), &p, &err), 0, "unreachable quoting UDP");
	EQ_INT(p.kind, HS_PKT_NONE, "quoting UDP is NONE");
	memcpy(f, eth_icmp_unreach, sizeof(eth_icmp_unreach));
	f[ETH + 20] = 11; /* time exceeded, same quote */
	EQ_INT(decode(DLT_EN10MB, f, sizeof(eth_icmp_unreach), &p, &err), 0, "time exceeded");
	OK(p.kind == HS_PKT_ICMP && p.u.icmp.type == 11 && p.u.icmp.orig_seq == 2813487467u, "time exceeded decoded");
	/* The quote shortened to IP header + 7 bytes of TCP (no full seq). */
	memcpy(f, eth_icmp_unreach, sizeof(eth_icmp_unreach));
	f[ETH + 3] = 20 + 8 + 20 + 7;
	EQ_INT(decode(DLT_EN10MB, f, ETH + 20 + 8 + 20 + 7, &p, &err), -1, "ICMP quoting 7 TCP bytes");
	EQ_STR(err, "ICMP error quotes too little of the TCP header", "short quote message");
}

/* The real IPv6 SYN with extension headers inserted before TCP. */
static size_t syn6_with_ext(uint8_t *f, const uint8_t *ext, size_t extlen, uint8_t first)
{
	size_t hdr = ETH + 40, tcplen = sizeof(eth_syn6) - hdr;

	memcpy(f, eth_syn6, hdr);
	memcpy(f + hdr, ext, extlen);
	memcpy(f + hdr + extlen, eth_syn6 + hdr, tcplen);
	uint16_t plen = (uint16_t)(tcplen + extlen);
	f[ETH + 4] = (uint8_t)(plen >> 8);
	f[ETH + 5] = (uint8_t)plen;
	f[ETH + 6] = first;
	return hdr + extlen + tcplen;
}

static void test_ipv6_ext(void)
{
	hs_packet p;
	const char *err;
	uint8_t f[256];
	size_t n;

	/* hop-by-hop -> routing -> destination options -> TCP */
	const uint8_t chain[] = {
		43, 0, 1, 4, 0, 0, 0, 0,                     /* HBH: PadN */
		60, 0, 0, 0, 0, 0, 0, 0,                     /* routing, type 0, segments left 0 */
		6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* dest opts, 16 bytes */
	};
	n = syn6_with_ext(f, chain, sizeof(chain), 0);
	EQ_INT(decode(DLT_EN10MB, f, n, &p, &err), 0, "extension header chain");
	OK(p.kind == HS_PKT_TCP && p.u.tcp.seq == 2865108709u && p.u.tcp.opts.mss == 1440, "TCP behind the chain");
	truncate_all(DLT_EN10MB, f, n, n, "IPv6 with extension headers");
	EQ_INT(decode(DLT_EN10MB, f, ETH + 40 + 20, &p, &err), -1, "chain cut in the dest opts header");
	EQ_STR(err, "truncated IPv6 extension header", "chain cut message");

	/* A header length running past the payload. */
	uint8_t longext[sizeof(chain)];
	memcpy(longext, chain, sizeof(chain));
	longext[17] = 40;
	n = syn6_with_ext(f, longext, sizeof(longext), 0);
	EQ_INT(decode(DLT_EN10MB, f, n, &p, &err), -1, "extension header longer than the packet");

	/* Fragment header: offset 0 decodes, a later fragment is NONE. */
	const uint8_t frag0[] = { 6, 0, 0x00, 0x01, 0, 0, 0, 42 };
	n = syn6_with_ext(f, frag0, sizeof(frag0), 44);
	EQ_INT(decode(DLT_EN10MB, f, n, &p, &err), 0, "first IPv6 fragment");
	EQ_INT(p.kind, HS_PKT_TCP, "first IPv6 fragment is TCP");
	const uint8_t frag1[] = { 6, 0, 0x00, 0x08, 0, 0, 0, 42 };
	n = syn6_with_ext(f, frag1, sizeof(frag1), 44);
	EQ_INT(decode(DLT_EN10MB, f, n, &p, &err), 0, "later IPv6 fragment");
	EQ_INT(p.kind, HS_PKT_NONE, "later IPv6 fragment is NONE");
	EQ_INT(decode(DLT_EN10MB, f, ETH + 40 + 5, &p, &err), -1, "fragment header cut");

	/* No next header (59) and an endless chain. */
	n = syn6_with_ext(f, chain, 0, 59);
	EQ_INT(decode(DLT_EN10MB, f, n, &p, &err), 0, "no next header");
	EQ_INT(p.kind, HS_PKT_NONE, "no next header is NONE");
	uint8_t loop[9 * 8];
	memset(loop, 0, sizeof(loop));
	for (int i = 0; i < 9; i++)
		loop[8 * i] = 60;
	n = syn6_with_ext(f, loop, sizeof(loop), 60);
	EQ_INT(decode(DLT_EN10MB, f, n, &p, &err), -1, "too many extension headers");
}

static void test_decode_tcp_and_flags(void)
{
	hs_segment s;
	const char *err;
	char buf[64];

	EQ_INT(hs_decode_tcp(eth_syn + ETH + 20, sizeof(eth_syn) - ETH - 20, NULL, NULL, &s, &err), 0,
	       "hs_decode_tcp without addresses");
	OK(s.src.port == 45640 && s.dst.port == 8080 && s.src.addr.family == 0, "ports only");

	EQ_STR(hs_flags_format(0, buf, sizeof(buf)), "none", "no flags");
	EQ_STR(hs_flags_format(0xff, buf, sizeof(buf)), "FIN,SYN,RST,PSH,ACK,URG,ECE,CWR", "all flags in order");
	EQ_STR(hs_flags_format(HS_SYN | HS_ACK, buf, sizeof(buf)), "SYN,ACK", "SYN,ACK");
	EQ_STR(hs_flags_format(HS_FIN | HS_PSH | HS_ACK, buf, sizeof(buf)), "FIN,PSH,ACK", "FIN,PSH,ACK");
	EQ_STR(hs_flags_format(HS_SYN | HS_ACK, buf, 4), "SYN", "flags truncated safely");
}

/* Checksum classification over real kernel frames (partial: offload) and frames
 * made valid, corrupted or cut short from them. */
static void test_checksums(void)
{
	hs_packet p;
	const char *err;
	uint8_t f[sizeof(eth_data)];
	const size_t ip = ETH, tcp = ETH + 20, tcp_len = sizeof(eth_data) - ETH - 20;

	EQ_STR(hs_csum_name(HS_CSUM_OK), "ok", "csum name ok");
	EQ_STR(hs_csum_name(HS_CSUM_OFFLOAD), "offload", "csum name offload");
	EQ_STR(hs_csum_name(HS_CSUM_BAD), "bad", "csum name bad");
	EQ_STR(hs_csum_name(HS_CSUM_UNCHECKED), "", "csum name unchecked");

	EQ_INT(decode(DLT_EN10MB, eth_syn, sizeof(eth_syn), &p, &err), 0, "SYN decodes");
	EQ_INT(p.u.tcp.csum_status, HS_CSUM_OFFLOAD, "kernel SYN on a veth: partial checksum (offload)");
	EQ_INT(hs_tcp_checksum_partial(&p.u.tcp.src.addr, &p.u.tcp.dst.addr, 40), 0x8c56,
	       "the partial value is the pseudo-header sum");
	EQ_INT(decode(DLT_EN10MB, eth_syn6, sizeof(eth_syn6), &p, &err), 0, "IPv6 SYN decodes");
	EQ_INT(p.u.tcp.csum_status, HS_CSUM_OFFLOAD, "kernel IPv6 SYN on a veth: offload");

	/* The data segment with its checksum completed: ok. */
	memcpy(f, eth_data, sizeof(f));
	EQ_INT(decode(DLT_EN10MB, f, sizeof(f), &p, &err), 0, "data decodes");
	EQ_INT(p.u.tcp.csum_status, HS_CSUM_OFFLOAD, "kernel data segment: offload");
	uint16_t good = hs_tcp_checksum(&p.u.tcp.src.addr, &p.u.tcp.dst.addr, f + tcp, tcp_len);
	f[tcp + 16] = (uint8_t)(good >> 8);
	f[tcp + 17] = (uint8_t)good;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(f), &p, &err), 0, "completed data decodes");
	EQ_INT(p.u.tcp.csum, good, "the field as written");
	EQ_INT(hs_tcp_csum_classify(&p.u.tcp.src.addr, &p.u.tcp.dst.addr, f + tcp, tcp_len), HS_CSUM_OK,
	       "classify: valid checksum ok");
	EQ_INT(p.u.tcp.csum_status, HS_CSUM_OK, "decoded: valid checksum ok");
	/* One payload bit flipped: bad (neither valid nor the pseudo-header sum). */
	f[sizeof(f) - 1] ^= 0x01;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(f), &p, &err), 0, "corrupted data decodes");
	EQ_INT(p.u.tcp.csum_status, HS_CSUM_BAD, "corrupted payload: bad");
	f[sizeof(f) - 1] ^= 0x01;
	f[tcp + 17] ^= 0x10;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(f), &p, &err), 0, "wrong checksum decodes");
	EQ_INT(p.u.tcp.csum_status, HS_CSUM_BAD, "wrong checksum field: bad");
	/* Cut by the snaplen: the sum cannot be checked. */
	EQ_INT(decode(DLT_EN10MB, eth_data, sizeof(eth_data) - 1, &p, &err), 0, "cut data decodes");
	EQ_INT(p.u.tcp.csum_status, HS_CSUM_UNCHECKED, "cut short: unchecked");
	/* A first fragment (MF set): not the whole segment either. */
	memcpy(f, eth_data, sizeof(f));
	f[ip + 6] |= 0x20;
	EQ_INT(decode(DLT_EN10MB, f, sizeof(f), &p, &err), 0, "first fragment decodes");
	EQ_INT(p.u.tcp.csum_status, HS_CSUM_UNCHECKED, "first fragment: unchecked");
	/* Without addresses (hs_decode_tcp alone) nothing is classified. */
	hs_segment seg;
	EQ_INT(hs_decode_tcp(eth_data + tcp, tcp_len, NULL, NULL, &seg, &err), 0, "bare TCP decodes");
	EQ_INT(seg.csum_status, HS_CSUM_UNCHECKED, "no addresses: unchecked");
}

int main(void)
{
	test_checksums();
	test_real_ipv4();
	test_real_ipv6();
	test_link_types();
	test_truncation();
	test_malformed();
	test_new_option_kinds();
	test_ipv6_ext();
	test_decode_tcp_and_flags();
	return tap_done();
}
