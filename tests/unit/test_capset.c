/* Captured packets grouped into connections and copies paired (capset.h), driven by
 * hand-built segments: grouping by 4-tuple and its reuse, which end is A, copies
 * across two captures and within one, lost segments, resends. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/capset.h"
#include "tap.h"

#define MS 1000000ull
#define US 1000ull

static hs_endpoint EA, EB, EC, E6A, E6B;

static hs_cappkt P[64];
static size_t NP;
static hs_capset CS;

static void reset(void)
{
	hs_capset_free(&CS);
	memset(P, 0, sizeof(P));
	NP = 0;
}

/* A segment src -> dst with the given header fields (window 64240). */
static hs_segment seg(hs_endpoint src, hs_endpoint dst, uint8_t flags, uint32_t seq, uint32_t ack, size_t len)
{
	hs_segment s;

	memset(&s, 0, sizeof(s));
	s.src = src;
	s.dst = dst;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = 64240;
	s.len = len;
	s.ttl = 64;
	return s;
}

static hs_segment with_id(hs_segment s, uint16_t id)
{
	s.has_ip_id = true;
	s.ip_id = id;
	return s;
}

static hs_segment with_ts(hs_segment s, uint32_t tsval)
{
	s.opts.has |= HS_HAS_TS;
	s.opts.ts_val = tsval;
	return s;
}

/* Adds s as captured in `file` at t (ns); returns its read order. */
static size_t add(int file, uint64_t t, hs_segment s)
{
	hs_cappkt *p = &P[NP];

	p->wall_ns = 1700000000ull * 1000000000ull + t;
	p->order = NP;
	p->file = file;
	p->pkt.kind = HS_PKT_TCP;
	p->pkt.u.tcp = s;
	return NP++;
}

static int build(bool two_files)
{
	char err[128];
	return hs_capset_build(&CS, P, NP, two_files, err, sizeof(err));
}

/* The sorted index of the packet read as `order`. */
static long at(size_t order)
{
	for (size_t i = 0; i < NP; i++)
		if (P[i].order == order)
			return (long)i;
	return -1;
}

static bool ep_is(const hs_endpoint *e, const hs_endpoint *want)
{
	return hs_endpoint_equal(e, want);
}

static void test_one_connection_grouped(void)
{
	reset();
	add(0, 0 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0));
	add(0, 1 * MS, seg(EB, EA, HS_SYN | HS_ACK, 5000, 1001, 0));
	add(0, 2 * MS, seg(EA, EB, HS_ACK, 1001, 5001, 0));
	add(0, 3 * MS, seg(EA, EB, HS_ACK | HS_PSH, 1001, 5001, 10));
	add(0, 4 * MS, seg(EB, EA, HS_ACK, 5001, 1011, 0));
	EQ_INT(build(false), 0, "one connection: built");
	EQ_INT(CS.nconn, 1, "one connection: one");
	EQ_INT(CS.conn[0].n, 5, "one connection: all five packets in it");
	for (size_t i = 0; i < NP; i++)
		EQ_INT(P[i].conn, 0, "one connection: packet in connection 0");
	for (size_t j = 0; j < CS.conn[0].n; j++)
		EQ_INT(CS.conn[0].pk[j], (long)j, "one connection: packets in time order");
	OK(ep_is(&CS.conn[0].a, &EA) && ep_is(&CS.conn[0].b, &EB), "one connection: A is the SYN's sender");
}

static void test_two_connections_interleaved(void)
{
	reset();
	/* Read out of time order: the second connection's packets come first in the file(s). */
	add(0, 2 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0));
	add(0, 4 * MS, seg(EB, EA, HS_SYN | HS_ACK, 5000, 1001, 0));
	add(0, 1 * MS, seg(EC, EB, HS_SYN, 7000, 0, 0));
	add(0, 3 * MS, seg(EB, EC, HS_SYN | HS_ACK, 9000, 7001, 0));
	add(0, 5 * MS, seg(EC, EB, HS_ACK, 7001, 9001, 0));
	EQ_INT(build(false), 0, "interleaved: built");
	EQ_INT(CS.nconn, 2, "interleaved: two connections");
	OK(ep_is(&CS.conn[0].a, &EC), "interleaved: the first connection is the one whose SYN came first");
	OK(ep_is(&CS.conn[1].a, &EA), "interleaved: the second is A's");
	EQ_INT(CS.conn[0].n, 3, "interleaved: three packets in the first");
	EQ_INT(CS.conn[1].n, 2, "interleaved: two in the second");
	for (size_t i = 1; i < NP; i++)
		OK(P[i - 1].wall_ns <= P[i].wall_ns, "interleaved: packets sorted by time");
	EQ_INT(P[at(2)].conn, 0, "interleaved: C's SYN in the first");
	EQ_INT(P[at(0)].conn, 1, "interleaved: A's SYN in the second");
	EQ_INT(P[at(4)].conn, 0, "interleaved: C's ACK in the first");
}

/* The same handshake twice on one 4-tuple, something between them, the same ISN. */
static void reuse(uint8_t between_a, uint8_t between_b, int nbetween)
{
	reset();
	add(0, 0 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0));
	add(0, 1 * MS, seg(EB, EA, HS_SYN | HS_ACK, 5000, 1001, 0));
	add(0, 2 * MS, seg(EA, EB, HS_ACK, 1001, 5001, 0));
	if (nbetween >= 1)
		add(0, 3 * MS, seg(EA, EB, between_a, 1001, 5001, 0));
	if (nbetween >= 2)
		add(0, 4 * MS, seg(EB, EA, between_b, 5001, 1002, 0));
	add(0, 10 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0));
	add(0, 11 * MS, seg(EB, EA, HS_SYN | HS_ACK, 6000, 1001, 0));
}

static void test_reuse_after_rst(void)
{
	reuse(HS_RST | HS_ACK, 0, 1);
	EQ_INT(build(false), 0, "reuse after RST: built");
	EQ_INT(CS.nconn, 2, "reuse after RST: a SYN after the RST starts a second connection");
	EQ_INT(CS.conn[0].n, 4, "reuse after RST: four packets in the first");
	EQ_INT(CS.conn[1].n, 2, "reuse after RST: SYN and SYN,ACK in the second");
}

static void test_reuse_after_both_fins(void)
{
	reuse(HS_FIN | HS_ACK, HS_FIN | HS_ACK, 2);
	EQ_INT(build(false), 0, "reuse after FINs: built");
	EQ_INT(CS.nconn, 2, "reuse after FINs: a SYN after FINs from both ends starts a second connection");
	EQ_INT(CS.conn[1].n, 2, "reuse after FINs: two packets in the second");

	reuse(HS_FIN | HS_ACK, 0, 1);
	EQ_INT(build(false), 0, "one FIN: built");
	EQ_INT(CS.nconn, 1, "one FIN: the same SYN again is a retransmission, not a new connection");
}

static void test_reuse_syn_new_isn(void)
{
	reset();
	add(0, 0 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0));
	add(0, 1000 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0)); /* retransmitted */
	add(0, 2000 * MS, seg(EA, EB, HS_SYN, 4000, 0, 0)); /* a new ISN: a new connection */
	add(0, 2001 * MS, seg(EB, EA, HS_SYN | HS_ACK, 9000, 4001, 0));
	EQ_INT(build(false), 0, "new ISN: built");
	EQ_INT(CS.nconn, 2, "new ISN: two connections");
	EQ_INT(CS.conn[0].n, 2, "new ISN: the SYN and its retransmission in the first");
	EQ_INT(CS.conn[1].n, 2, "new ISN: the new SYN and its SYN,ACK in the second");
}

static void test_a_by_syn(void)
{
	reset();
	add(0, 0 * MS, seg(EB, EA, HS_ACK, 5000, 900, 0)); /* first sender: B */
	add(0, 1 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0));
	EQ_INT(build(false), 0, "A by SYN: built");
	EQ_INT(CS.nconn, 1, "A by SYN: one connection");
	OK(ep_is(&CS.conn[0].a, &EA) && ep_is(&CS.conn[0].b, &EB), "A by SYN: A sent the SYN, not the first segment");
}

static void test_a_by_synack(void)
{
	reset();
	add(0, 0 * MS, seg(EA, EB, HS_ACK, 5001, 1001, 0)); /* first sender: A as written */
	add(0, 1 * MS, seg(EA, EB, HS_SYN | HS_ACK, 5000, 1001, 0));
	EQ_INT(build(false), 0, "A by SYN,ACK: built");
	OK(ep_is(&CS.conn[0].a, &EB) && ep_is(&CS.conn[0].b, &EA), "A by SYN,ACK: A is the SYN,ACK's receiver");
}

static void test_a_by_first_sender(void)
{
	reset();
	add(0, 0 * MS, seg(EB, EA, HS_ACK | HS_PSH, 5001, 1001, 20));
	add(0, 1 * MS, seg(EA, EB, HS_ACK, 1001, 5021, 0));
	EQ_INT(build(false), 0, "A by first sender: built");
	OK(ep_is(&CS.conn[0].a, &EB) && ep_is(&CS.conn[0].b, &EA), "A by first sender: no SYN, A sent the first");
}

/* A handshake captured near A (file 0) and near B (file 1), 1 ms one way; returns
 * nothing, packets read in the order: A's SYN (f0, f1), B's SYN,ACK (f1, f0), A's ACK
 * (f0, f1). */
static void two_file_handshake(void)
{
	add(0, 0 * MS, with_id(seg(EA, EB, HS_SYN, 1000, 0, 0), 11));
	add(1, 1 * MS, with_id(seg(EA, EB, HS_SYN, 1000, 0, 0), 11));
	add(1, 2 * MS, with_id(seg(EB, EA, HS_SYN | HS_ACK, 5000, 1001, 0), 0));
	add(0, 3 * MS, with_id(seg(EB, EA, HS_SYN | HS_ACK, 5000, 1001, 0), 0));
	add(0, 4 * MS, with_id(seg(EA, EB, HS_ACK, 1001, 5001, 0), 12));
	add(1, 5 * MS, with_id(seg(EA, EB, HS_ACK, 1001, 5001, 0), 12));
}

static void test_two_files_copies(void)
{
	reset();
	two_file_handshake();
	EQ_INT(build(true), 0, "two files: built");
	EQ_INT(CS.nconn, 1, "two files: one connection");
	for (size_t k = 0; k < NP; k += 2) {
		EQ_INT(P[at(k)].twin, at(k + 1), "two files: the earlier copy keeps the later as its twin");
		OK(!P[at(k)].is_copy && P[at(k + 1)].is_copy, "two files: the later copy is the copy");
		OK(P[at(k + 1)].wall_ns > P[at(k)].wall_ns, "two files: t_other is the later time");
		OK(!P[at(k)].lost, "two files: nothing lost");
	}
	EQ_INT(P[at(2)].file, 1, "two files: B's SYN,ACK shown from the file near B");
}

static void test_one_file_double_capture(void)
{
	reset();
	/* A router on "any": each segment in, then out, 50 us later. */
	add(0, 0 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0));
	add(0, 0 * MS + 50 * US, seg(EA, EB, HS_SYN, 1000, 0, 0));
	add(0, 1 * MS, seg(EB, EA, HS_SYN | HS_ACK, 5000, 1001, 0));
	add(0, 1 * MS + 50 * US, seg(EB, EA, HS_SYN | HS_ACK, 5000, 1001, 0));
	add(0, 2 * MS, seg(EA, EB, HS_ACK, 1001, 5001, 0));
	add(0, 2 * MS + 50 * US, seg(EA, EB, HS_ACK, 1001, 5001, 0));
	EQ_INT(build(false), 0, "double capture: built");
	EQ_INT(CS.nconn, 1, "double capture: one connection");
	for (size_t k = 0; k < NP; k += 2) {
		EQ_INT(P[at(k)].twin, at(k + 1), "double capture: each segment paired with its copy");
		OK(P[at(k + 1)].is_copy, "double capture: the second is the copy");
		OK(!P[at(k)].lost, "double capture: nothing lost in one file");
	}
}

static void test_lost_segment(void)
{
	reset();
	two_file_handshake();
	size_t data = add(0, 6 * MS, with_id(seg(EA, EB, HS_ACK | HS_PSH, 1001, 5001, 100), 13)); /* never reached B */
	add(0, 206 * MS, with_id(seg(EA, EB, HS_ACK | HS_PSH, 1001, 5001, 100), 14));
	add(1, 207 * MS, with_id(seg(EA, EB, HS_ACK | HS_PSH, 1001, 5001, 100), 14));
	size_t late = add(0, 300 * MS, with_id(seg(EA, EB, HS_ACK | HS_FIN, 1101, 5001, 0), 15)); /* file 1 had stopped */
	EQ_INT(build(true), 0, "lost: built");
	OK(P[at(data)].lost, "lost: a segment only near its sender while the other capture ran is lost");
	EQ_INT(P[at(data)].twin, -1, "lost: it has no copy");
	EQ_INT(P[at(data + 1)].twin, at(data + 2), "lost: its retransmission was paired");
	OK(!P[at(data + 1)].lost, "lost: the retransmission is not lost");
	OK(!P[at(late)].lost, "lost: after the other capture's last packet, nothing tells");
}

static void test_ipv6_weak_window(void)
{
	reset();
	/* IPv6, no timestamps: nothing tells a resend from a copy, 100 ms. */
	add(0, 0 * MS, seg(E6A, E6B, HS_SYN, 1000, 0, 0));
	add(1, 90 * MS, seg(E6A, E6B, HS_SYN, 1000, 0, 0));
	add(1, 1000 * MS, seg(E6B, E6A, HS_SYN | HS_ACK, 5000, 1001, 0));
	add(0, 1150 * MS, seg(E6B, E6A, HS_SYN | HS_ACK, 5000, 1001, 0));
	EQ_INT(build(true), 0, "IPv6 weak: built");
	EQ_INT(CS.nconn, 1, "IPv6 weak: one connection");
	EQ_INT(P[at(0)].twin, at(1), "IPv6 weak: a copy within 100 ms is paired");
	EQ_INT(P[at(2)].twin, -1, "IPv6 weak: 150 ms apart is not a copy");
	OK(!P[at(3)].is_copy, "IPv6 weak: the later one stays shown");

	reset();
	/* With TSvals the window is 2 s. */
	add(0, 0 * MS, with_ts(seg(E6A, E6B, HS_SYN, 1000, 0, 0), 77));
	add(1, 1500 * MS, with_ts(seg(E6A, E6B, HS_SYN, 1000, 0, 0), 77));
	add(0, 3000 * MS, with_ts(seg(E6A, E6B, HS_SYN, 1000, 0, 0), 78));
	add(1, 5500 * MS, with_ts(seg(E6A, E6B, HS_SYN, 1000, 0, 0), 78));
	EQ_INT(build(true), 0, "IPv6 TS: built");
	EQ_INT(P[at(0)].twin, at(1), "IPv6 TS: a copy 1.5 s later is paired (TSval tells)");
	EQ_INT(P[at(2)].twin, -1, "IPv6 TS: 2.5 s later is not");
}

static void test_resends_not_copies(void)
{
	reset();
	/* Two files: a segment and its resend (a new TSval); file 1 holds only the resend. */
	add(0, 0 * MS, with_ts(seg(E6A, E6B, HS_SYN, 1000, 0, 0), 100));
	add(0, 300 * MS, with_ts(seg(E6A, E6B, HS_SYN, 1000, 0, 0), 400));
	add(1, 301 * MS, with_ts(seg(E6A, E6B, HS_SYN, 1000, 0, 0), 400));
	EQ_INT(build(true), 0, "resend, two files: built");
	EQ_INT(P[at(0)].twin, -1, "resend, two files: the first is not paired with the resend's copy");
	EQ_INT(P[at(1)].twin, at(2), "resend, two files: the resend with its own copy");

	reset();
	/* Two files, a different IPv4 ID. */
	add(0, 0 * MS, with_id(seg(EA, EB, HS_SYN, 1000, 0, 0), 1));
	add(1, 1 * MS, with_id(seg(EA, EB, HS_SYN, 1000, 0, 0), 2));
	EQ_INT(build(true), 0, "resend, IPv4 ID: built");
	EQ_INT(P[at(0)].twin, -1, "resend, IPv4 ID: another ID is not a copy");

	reset();
	/* Two files: the same file twice is not a copy. */
	add(0, 0 * MS, with_id(seg(EA, EB, HS_SYN, 1000, 0, 0), 1));
	add(0, 1 * MS, with_id(seg(EA, EB, HS_SYN, 1000, 0, 0), 1));
	EQ_INT(build(true), 0, "resend, same file: built");
	EQ_INT(P[at(0)].twin, -1, "resend, same file: a copy comes from the other file");

	reset();
	/* One file: identical, but further apart than HS_OBS_COPY_NS. */
	add(0, 0 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0));
	add(0, HS_OBS_COPY_NS + 1 * MS, seg(EA, EB, HS_SYN, 1000, 0, 0));
	EQ_INT(build(false), 0, "resend, one file: built");
	EQ_INT(P[at(0)].twin, -1, "resend, one file: beyond HS_OBS_COPY_NS it is a resend");
	OK(!P[at(1)].is_copy, "resend, one file: shown");
}

int main(void)
{
	hs_endpoint_parse("198.18.1.2:40000", &EA);
	hs_endpoint_parse("198.18.2.2:5000", &EB);
	hs_endpoint_parse("198.18.3.3:40001", &EC);
	hs_endpoint_parse("[2001:db8::1]:40000", &E6A);
	hs_endpoint_parse("[2001:db8::2]:5000", &E6B);
	test_one_connection_grouped();
	test_two_connections_interleaved();
	test_reuse_after_rst();
	test_reuse_after_both_fins();
	test_reuse_syn_new_isn();
	test_a_by_syn();
	test_a_by_synack();
	test_a_by_first_sender();
	test_two_files_copies();
	test_one_file_double_capture();
	test_lost_segment();
	test_ipv6_weak_window();
	test_resends_not_copies();
	reset();
	return tap_done();
}
