/* hs_bpf_conn: the exact filter text, that libpcap compiles it for every link type
 * we capture on, and that the compiled program takes exactly the right frames. */
#include <config.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "hs/capture.h"
#include "tap.h"

static hs_endpoint ep(const char *addr, uint16_t port)
{
	hs_endpoint e = { .port = port };

	if (!addr)
		return e;
	if (inet_pton(AF_INET, addr, &e.addr.u.v4) == 1)
		e.addr.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &e.addr.u.v6) == 1)
		e.addr.family = AF_INET6;
	else
		abort();
	return e;
}

/* ---- hand-made packets ------------------------------------------------------------ */

struct pkt {
	uint8_t b[256];
	size_t len;
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void addr4(uint8_t *p, const char *s)
{
	if (inet_pton(AF_INET, s, p) != 1)
		abort();
}

static void addr6(uint8_t *p, const char *s)
{
	if (inet_pton(AF_INET6, s, p) != 1)
		abort();
}

/* An IPv4 header (no options) for proto and a body of blen bytes. */
static void ip4_header(struct pkt *k, const char *src, const char *dst, uint8_t proto, size_t blen)
{
	memset(k, 0, sizeof(*k));
	k->b[0] = 0x45;
	put16(k->b + 2, (unsigned)(20 + blen));
	k->b[6] = 0x40; /* DF */
	k->b[8] = 64;
	k->b[9] = proto;
	addr4(k->b + 12, src);
	addr4(k->b + 16, dst);
	k->len = 20 + blen;
}

static void ip6_header(struct pkt *k, const char *src, const char *dst, uint8_t nh, size_t blen)
{
	memset(k, 0, sizeof(*k));
	k->b[0] = 0x60;
	put16(k->b + 4, (unsigned)blen);
	k->b[6] = nh;
	k->b[7] = 64;
	addr6(k->b + 8, src);
	addr6(k->b + 24, dst);
	k->len = 40 + blen;
}

/* A 20-byte TCP (or 8-byte UDP) header with the given ports at off. */
static void ports(struct pkt *k, size_t off, unsigned sport, unsigned dport)
{
	put16(k->b + off, sport);
	put16(k->b + off + 2, dport);
}

static struct pkt tcp4(const char *src, unsigned sport, const char *dst, unsigned dport)
{
	struct pkt k;

	ip4_header(&k, src, dst, IPPROTO_TCP, 20);
	ports(&k, 20, sport, dport);
	k.b[32] = 0x50;
	k.b[33] = 0x12; /* SYN,ACK */
	return k;
}

static struct pkt udp4(const char *src, unsigned sport, const char *dst, unsigned dport)
{
	struct pkt k;

	ip4_header(&k, src, dst, IPPROTO_UDP, 8);
	ports(&k, 20, sport, dport);
	put16(k.b + 24, 8);
	return k;
}

static struct pkt tcp6(const char *src, unsigned sport, const char *dst, unsigned dport)
{
	struct pkt k;

	ip6_header(&k, src, dst, IPPROTO_TCP, 20);
	ports(&k, 40, sport, dport);
	k.b[52] = 0x50;
	k.b[53] = 0x02; /* SYN */
	return k;
}

/* ICMP type/code from src to dst quoting a TCP segment qsrc:qsport -> qdst:qdport. */
static struct pkt icmp4(const char *src, const char *dst, uint8_t type, uint8_t code,
                        const char *qsrc, unsigned qsport, const char *qdst, unsigned qdport)
{
	struct pkt k, q = tcp4(qsrc, qsport, qdst, qdport);

	ip4_header(&k, src, dst, IPPROTO_ICMP, 8 + 28);
	k.b[20] = type;
	k.b[21] = code;
	memcpy(k.b + 28, q.b, 28);
	return k;
}

static struct pkt icmp6(const char *src, const char *dst, uint8_t type, const char *qsrc,
                        unsigned qsport, const char *qdst, unsigned qdport)
{
	struct pkt k, q = tcp6(qsrc, qsport, qdst, qdport);

	ip6_header(&k, src, dst, IPPROTO_ICMPV6, 8 + 48);
	k.b[40] = type;
	memcpy(k.b + 48, q.b, 48);
	return k;
}

/* A neighbour solicitation for target, sent to its solicited-node address. */
static struct pkt ns6(const char *src, const char *target)
{
	struct pkt k;

	ip6_header(&k, src, "ff02::1:ff00:1", IPPROTO_ICMPV6, 24);
	k.b[7] = 255;
	k.b[40] = 135;
	addr6(k.b + 48, target);
	return k;
}

/* ---- link layers ------------------------------------------------------------------ */

static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW };

static size_t frame(int dlt, const struct pkt *ip, uint8_t *out)
{
	unsigned ethertype = (ip->b[0] >> 4) == 6 ? 0x86dd : 0x0800;
	size_t hl = 0;

	switch (dlt) {
	case DLT_EN10MB:
		memset(out, 0, 12);
		out[0] = 0x02;
		out[6] = 0x02;
		out[11] = 1;
		put16(out + 12, ethertype);
		hl = 14;
		break;
	case DLT_LINUX_SLL:
		memset(out, 0, 16);
		put16(out + 2, 1);    /* ARPHRD_ETHER */
		put16(out + 4, 6);    /* address length */
		out[6] = 0x02;
		put16(out + 14, ethertype);
		hl = 16;
		break;
	default:
		break;
	}
	memcpy(out + hl, ip->b, ip->len);
	return hl + ip->len;
}

/* Compiles expr for dlt; returns 0, or -1 (and a TAP diagnostic). */
static int compile(int dlt, const char *expr, struct bpf_program *prog)
{
	pcap_t *p = pcap_open_dead(dlt, 65535);

	if (!p)
		return -1;
	int rc = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc != 0)
		printf("# %s: %s\n", pcap_datalink_val_to_name(dlt), pcap_geterr(p));
	pcap_close(p);
	return rc;
}

/* Whether expr, compiled for every link type, takes ip framed in each of them.
 * Returns 1 or 0 when all agree, -1 otherwise. */
static int matches(const char *expr, const struct pkt *ip)
{
	int verdict = -2;

	for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		struct bpf_program prog;
		uint8_t buf[512];
		struct pcap_pkthdr h = { 0 };

		if (compile(dlts[i], expr, &prog) != 0)
			return -1;
		h.caplen = h.len = (bpf_u_int32)frame(dlts[i], ip, buf);
		int m = pcap_offline_filter(&prog, &h, buf) != 0;
		pcap_freecode(&prog);
		if (verdict == -2)
			verdict = m;
		else if (verdict != m)
			return -1;
	}
	return verdict;
}

static int compiles_everywhere(const char *expr)
{
	static const int all[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct bpf_program prog;

		if (compile(all[i], expr, &prog) != 0)
			return 0;
		pcap_freecode(&prog);
	}
	return 1;
}

/* ---- the tests -------------------------------------------------------------------- */

#define L4 "198.18.0.1"
#define R4 "198.18.0.2"
#define L6 "2001:db8::1"
#define R6 "2001:db8::2"

static void test_ipv4_conn(void)
{
	hs_endpoint l = ep(L4, 40000), r = ep(R4, 8080);
	char f[512];

	EQ_INT(hs_bpf_conn(&l, &r, f, sizeof(f)), 0, "v4: builds");
	EQ_STR(f, "(ip and tcp and ((src host 198.18.0.1 and src port 40000 and dst host 198.18.0.2 and dst port 8080)"
	          " or (src host 198.18.0.2 and src port 8080 and dst host 198.18.0.1 and dst port 40000)))"
	          " or (icmp and dst host 198.18.0.1 and (icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))",
	       "v4: exact text");
	OK(compiles_everywhere(f), "v4: compiles for EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL");

	struct pkt k;
	k = tcp4(L4, 40000, R4, 8080);
	EQ_INT(matches(f, &k), 1, "v4: local -> remote matches");
	k = tcp4(R4, 8080, L4, 40000);
	EQ_INT(matches(f, &k), 1, "v4: remote -> local matches");
	k = tcp4(R4, 8081, L4, 40000);
	EQ_INT(matches(f, &k), 0, "v4: wrong remote port does not match");
	k = tcp4(R4, 8080, L4, 40001);
	EQ_INT(matches(f, &k), 0, "v4: wrong local port does not match");
	k = tcp4("198.18.0.3", 8080, L4, 40000);
	EQ_INT(matches(f, &k), 0, "v4: wrong remote address does not match");
	k = tcp4(L4, 8080, R4, 40000);
	EQ_INT(matches(f, &k), 0, "v4: ports swapped (A:Q -> B:P) does not match");
	k = udp4(R4, 8080, L4, 40000);
	EQ_INT(matches(f, &k), 0, "v4: UDP with the same ports does not match");
	k = icmp4(R4, L4, 3, 3, L4, 40000, R4, 8080);
	EQ_INT(matches(f, &k), 1, "v4: ICMP port unreachable to local matches");
	k = icmp4("198.18.0.254", L4, 11, 0, L4, 40000, R4, 8080);
	EQ_INT(matches(f, &k), 1, "v4: ICMP time exceeded from a router matches");
	k = icmp4(R4, L4, 8, 0, L4, 40000, R4, 8080);
	EQ_INT(matches(f, &k), 0, "v4: ICMP echo request does not match");
	k = icmp4(L4, R4, 3, 3, R4, 8080, L4, 40000);
	EQ_INT(matches(f, &k), 0, "v4: ICMP error sent by local does not match");
}

static void test_ipv6_conn(void)
{
	hs_endpoint l = ep(L6, 40000), r = ep(R6, 8080);
	char f[512];

	EQ_INT(hs_bpf_conn(&l, &r, f, sizeof(f)), 0, "v6: builds");
	EQ_STR(f, "(ip6 and tcp and ((src host 2001:db8::1 and src port 40000 and dst host 2001:db8::2 and dst port 8080)"
	          " or (src host 2001:db8::2 and src port 8080 and dst host 2001:db8::1 and dst port 40000)))"
	          " or (icmp6 and dst host 2001:db8::1 and ip6[40] < 128)",
	       "v6: exact text");
	OK(compiles_everywhere(f), "v6: compiles for EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL");

	struct pkt k;
	k = tcp6(L6, 40000, R6, 8080);
	EQ_INT(matches(f, &k), 1, "v6: local -> remote matches");
	k = tcp6(R6, 8080, L6, 40000);
	EQ_INT(matches(f, &k), 1, "v6: remote -> local matches");
	k = tcp6(R6, 8081, L6, 40000);
	EQ_INT(matches(f, &k), 0, "v6: wrong remote port does not match");
	k = tcp6("2001:db8::3", 8080, L6, 40000);
	EQ_INT(matches(f, &k), 0, "v6: wrong remote address does not match");
	k = tcp4(R4, 8080, L4, 40000);
	EQ_INT(matches(f, &k), 0, "v6: an IPv4 segment does not match");
	k = icmp6(R6, L6, 1, L6, 40000, R6, 8080);
	EQ_INT(matches(f, &k), 1, "v6: ICMPv6 destination unreachable to local matches");
	k = icmp6("2001:db8::fe", L6, 2, L6, 40000, R6, 8080);
	EQ_INT(matches(f, &k), 1, "v6: ICMPv6 packet too big matches");
	k = ns6(R6, L6);
	EQ_INT(matches(f, &k), 0, "v6: neighbour solicitation (multicast) does not match");
	k = icmp6(R6, L6, 135, L6, 40000, R6, 8080);
	EQ_INT(matches(f, &k), 0, "v6: neighbour solicitation to local (unicast) does not match");
	k = icmp6(R6, L6, 128, L6, 40000, R6, 8080);
	EQ_INT(matches(f, &k), 0, "v6: echo request does not match");
}

static void test_listen(void)
{
	hs_endpoint l = ep(L4, 8080), any = ep(NULL, 0);
	char f[512];

	EQ_INT(hs_bpf_conn(&l, &any, f, sizeof(f)), 0, "listen on address: builds");
	EQ_STR(f, "(ip and tcp and ((src host 198.18.0.1 and src port 8080) or (dst host 198.18.0.1 and dst port 8080)))"
	          " or (icmp and dst host 198.18.0.1 and (icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))",
	       "listen on address: exact text");
	OK(compiles_everywhere(f), "listen on address: compiles everywhere");

	struct pkt k;
	k = tcp4("198.18.7.7", 51000, L4, 8080);
	EQ_INT(matches(f, &k), 1, "listen: a SYN from anyone to the port matches");
	k = tcp4(L4, 8080, "198.18.7.7", 51000);
	EQ_INT(matches(f, &k), 1, "listen: our SYN,ACK matches");
	k = tcp4("198.18.7.7", 51000, L4, 8081);
	EQ_INT(matches(f, &k), 0, "listen: another port does not match");
	k = tcp4("198.18.7.7", 51000, "198.18.0.9", 8080);
	EQ_INT(matches(f, &k), 0, "listen: another local address does not match");

	hs_endpoint port_only = ep(NULL, 8080);
	EQ_INT(hs_bpf_conn(&port_only, &any, f, sizeof(f)), 0, "listen on any address: builds");
	EQ_STR(f, "(tcp and ((src port 8080) or (dst port 8080)))"
	          " or (icmp and (icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))"
	          " or (icmp6 and ip6[40] < 128)",
	       "listen on any address: exact text");
	OK(compiles_everywhere(f), "listen on any address: compiles everywhere");
	k = tcp6(R6, 51000, L6, 8080);
	EQ_INT(matches(f, &k), 1, "listen on any: an IPv6 SYN matches");
	k = tcp4(R4, 51000, "198.18.0.9", 8080);
	EQ_INT(matches(f, &k), 1, "listen on any: an IPv4 SYN to any address matches");
	k = ns6(R6, L6);
	EQ_INT(matches(f, &k), 0, "listen on any: neighbour solicitation does not match");

	hs_endpoint l6 = ep(L6, 8080);
	EQ_INT(hs_bpf_conn(&l6, &any, f, sizeof(f)), 0, "listen on v6 address: builds");
	OK(compiles_everywhere(f), "listen on v6 address: compiles everywhere");
	OK(strstr(f, "icmp[0]") == NULL, "listen on v6 address: no IPv4 ICMP part");
}

static void test_errors(void)
{
	hs_endpoint l = ep(L4, 40000), r = ep(R4, 8080), r6 = ep(R6, 8080), nothing = ep(NULL, 0);
	char f[512];

	EQ_INT(hs_bpf_conn(&l, &r, f, sizeof(f)), 0, "size: reference");
	size_t need = strlen(f) + 1;
	char *small = malloc(need);
	EQ_INT(hs_bpf_conn(&l, &r, small, need), 0, "size: exactly enough room");
	EQ_STR(small, f, "size: same text");
	EQ_INT(hs_bpf_conn(&l, &r, small, need - 1), -1, "size: one byte short fails");
	EQ_STR(small, "", "size: buffer left empty on failure");
	int all_fail = 1;
	for (size_t n = 0; n < need; n++)
		all_fail &= hs_bpf_conn(&l, &r, small, n) == -1;
	OK(all_fail, "size: every shorter buffer fails");
	free(small);

	EQ_INT(hs_bpf_conn(&l, &r6, f, sizeof(f)), -1, "mixed families fail");
	EQ_INT(hs_bpf_conn(&nothing, &nothing, f, sizeof(f)), 0, "nothing known: builds");
	OK(compiles_everywhere(f), "nothing known: compiles everywhere");
}

/* hs connect --count: a port range toward one peer; of ours only the SYNs. */
static void test_range(void)
{
	char f[1024];
	hs_endpoint r4 = ep(R4, 8080), r6 = ep(R6, 8080);
	hs_endpoint l4 = ep(L4, 0), l6 = ep(L6, 0);
	struct pkt k;

	OK(hs_bpf_range(&l4.addr, 40000, 40099, &r4, f, sizeof(f)) == 0, "range: v4 filter");
	OK(compiles_everywhere(f), "range: v4 compiles for every link type");
	k = tcp4(R4, 8080, L4, 40050);
	EQ_INT(matches(f, &k), 1, "range: the peer's segment to a port in the range");
	k = tcp4(R4, 8080, L4, 40100);
	EQ_INT(matches(f, &k), 0, "range: not to a port above it");
	k = tcp4(R4, 8081, L4, 40050);
	EQ_INT(matches(f, &k), 0, "range: not from another peer port");
	k = tcp4(L4, 40000, R4, 8080);
	k.b[33] = 0x02;
	EQ_INT(matches(f, &k), 1, "range: our SYN as it leaves");
	k.b[33] = 0x10;
	EQ_INT(matches(f, &k), 0, "range: not our bare ACK (it would only fill the ring)");
	k = icmp4("198.18.0.254", L4, 3, 1, L4, 40000, R4, 8080);
	EQ_INT(matches(f, &k), 1, "range: an ICMP error to us");

	OK(hs_bpf_range(&l6.addr, 40000, 40099, &r6, f, sizeof(f)) == 0, "range: v6 filter");
	OK(compiles_everywhere(f), "range: v6 compiles for every link type");
	k = tcp6(L6, 40001, R6, 8080);
	EQ_INT(matches(f, &k), 1, "range: our IPv6 SYN");
	k.b[53] = 0x10;
	EQ_INT(matches(f, &k), 0, "range: not our IPv6 ACK");
	k = tcp6(R6, 8080, L6, 40099);
	EQ_INT(matches(f, &k), 1, "range: the peer's IPv6 segment");
	OK(hs_bpf_range(&l4.addr, 40000, 40099, &r6, f, sizeof(f)) < 0, "range: mixed families refused");
	OK(hs_bpf_range(&l4.addr, 5, 1, &r4, f, sizeof(f)) < 0, "range: an empty range refused");
	OK(hs_bpf_range(&l4.addr, 1, 5, &r4, f, 20) < 0, "range: a small buffer refused");
}

int main(void)
{
	test_range();
	test_ipv4_conn();
	test_ipv6_conn();
	test_listen();
	test_errors();
	return tap_done();
}
