/* The observer, driven by hand-built segments in both directions: both sides' states
 * and why, notes, relative numbers, network copies, and what it must ignore. */
#include <config.h>

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/observer.h"
#include "tap.h"

#define MS 1000000ull

static hs_endpoint EA, EB, EC;
static const uint8_t payload[2048];

enum { A = HS_OBS_A, B = HS_OBS_B };

/* A segment from `from` (A or B; -1: from C to B) with the given header fields. */
static hs_segment seg(int from, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, size_t len)
{
	hs_segment s;

	memset(&s, 0, sizeof(s));
	s.src = from == A ? EA : from == B ? EB : EC;
	s.dst = from == A ? EB : from == B ? EA : EB;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = win;
	s.len = len;
	s.payload = len ? payload : NULL;
	s.ttl = 64;
	return s;
}

/* The same with an IPv4 ID / a TSval. */
static hs_segment seg_id(int from, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, size_t len, uint16_t id)
{
	hs_segment s = seg(from, flags, seq, ack, win, len);
	s.has_ip_id = true;
	s.ip_id = id;
	return s;
}

static hs_segment seg_ts(int from, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, size_t len, uint32_t tsval)
{
	hs_segment s = seg(from, flags, seq, ack, win, len);
	s.opts.has |= HS_HAS_TS;
	s.opts.ts_val = tsval;
	return s;
}

static uint64_t now;

static int feed(hs_observer *ob, hs_segment s, hs_obs_out *o)
{
	now += 100 * MS; /* further apart than HS_OBS_COPY_NS: identical segments are resends */
	return hs_observer_segment(ob, &s, now, o);
}

/* out has the change (side A: peer false) from -> to for why, with this `assumed`. */
static bool has_change(const hs_obs_out *o, int side, hs_state from, hs_state to, const char *why, bool assumed)
{
	for (int i = 0; i < o->nchange; i++) {
		const hs_change *c = &o->change[i];
		if (c->peer == (side == B) && c->from == from && c->to == to && !c->correction &&
		    c->assumed == assumed && (!why || (c->why && strcmp(c->why, why) == 0)))
			return true;
	}
	return false;
}

static bool has_correction(const hs_obs_out *o, int side, hs_state from, hs_state to)
{
	for (int i = 0; i < o->nchange; i++) {
		const hs_change *c = &o->change[i];
		if (c->peer == (side == B) && c->from == from && c->to == to && c->correction)
			return true;
	}
	return false;
}

#define STATES(o, sa, sb, what) do { EQ_INT((o)->state[A], (sa), what ": A's state"); \
	EQ_INT((o)->state[B], (sb), what ": B's state"); } while (0)

static void init(hs_observer *ob)
{
	hs_observer_init(ob, &EA, &EB);
	now = 0;
}

/* A -> B handshake: A ISS 1000, B ISS 5000. */
static void handshake(hs_observer *ob)
{
	hs_obs_out o;
	feed(ob, seg(A, HS_SYN, 1000, 0, 65535, 0), &o);
	feed(ob, seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0), &o);
	feed(ob, seg(A, HS_ACK, 1001, 5001, 512, 0), &o);
}

static void test_closed_syn_handshake(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	EQ_INT(feed(&ob, seg(A, HS_SYN, 1000, 0, 65535, 0), &o), A, "SYN: from A");
	OK(has_change(&o, A, HS_CLOSED, HS_SYN_SENT, "SYN sent", false), "SYN: A CLOSED -> SYN-SENT, certain");
	EQ_INT(o.nchange, 1, "SYN: B does not move until it answers");
	STATES(&o, HS_SYN_SENT, HS_CLOSED, "SYN");
	EQ_INT(o.rseq, 0, "SYN: rseq 0");
	EQ_INT(o.note, HS_NOTE_NONE, "SYN: no note");

	EQ_INT(feed(&ob, seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0), &o), B, "SYN,ACK: from B");
	OK(has_change(&o, B, HS_CLOSED, HS_LISTEN, "it was listening", false), "SYN,ACK: B was listening");
	OK(has_change(&o, B, HS_LISTEN, HS_SYN_RECEIVED, "SYN,ACK sent", false), "SYN,ACK: B LISTEN -> SYN-RECEIVED");
	OK(has_change(&o, A, HS_SYN_SENT, HS_ESTABLISHED, "SYN,ACK received", true),
	   "SYN,ACK: A ESTABLISHED on receipt, assumed");
	EQ_INT(o.change[0].peer, true, "SYN,ACK: the sender's changes come first");
	STATES(&o, HS_ESTABLISHED, HS_SYN_RECEIVED, "SYN,ACK");
	EQ_INT(o.assumed[A], true, "SYN,ACK: A's state assumed");
	EQ_INT(o.rseq, 0, "SYN,ACK: rseq 0");
	EQ_INT(o.rack, 1, "SYN,ACK: rack 1");

	feed(&ob, seg(A, HS_ACK, 1001, 5001, 512, 0), &o);
	OK(has_change(&o, B, HS_SYN_RECEIVED, HS_ESTABLISHED, "ACK received", true), "ACK: B ESTABLISHED, assumed");
	EQ_INT(o.nchange, 1, "ACK: A does not move again");
	EQ_INT(o.assumed[A], false, "ACK: A's own ACK confirms its ESTABLISHED");
	EQ_INT(o.assumed[B], true, "ACK: B's still assumed");
	STATES(&o, HS_ESTABLISHED, HS_ESTABLISHED, "ACK");
	EQ_INT(o.rseq, 1, "ACK: rseq 1");
	EQ_INT(o.rack, 1, "ACK: rack 1");
	EQ_INT(ob.side[A].iss, 1000, "A's ISS from its SYN");
	EQ_INT(ob.side[B].iss, 5000, "B's ISS from its SYN,ACK");
	OK(ob.side[A].syn_seen && ob.side[B].syn_seen, "both SYNs seen");

	feed(&ob, seg(B, HS_ACK | HS_PSH, 5001, 1001, 65535, 10), &o);
	EQ_INT(o.assumed[B], false, "B's data confirms its ESTABLISHED");
	EQ_INT(o.nchange, 0, "B's data: no change");
}

/* The same handshake with B the one that connects: A is just the name of an end. */
static void test_closed_syn_from_b(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	feed(&ob, seg(B, HS_SYN, 7, 0, 65535, 0), &o);
	OK(has_change(&o, B, HS_CLOSED, HS_SYN_SENT, "SYN sent", false), "B CLOSED -> SYN-SENT");
	feed(&ob, seg(A, HS_SYN | HS_ACK, 900, 8, 65535, 0), &o);
	OK(has_change(&o, A, HS_LISTEN, HS_SYN_RECEIVED, "SYN,ACK sent", false), "A LISTEN -> SYN-RECEIVED");
	OK(has_change(&o, B, HS_SYN_SENT, HS_ESTABLISHED, "SYN,ACK received", true), "B ESTABLISHED, assumed");
	feed(&ob, seg(B, HS_ACK, 8, 901, 512, 0), &o);
	OK(has_change(&o, A, HS_SYN_RECEIVED, HS_ESTABLISHED, "ACK received", true), "A ESTABLISHED, assumed");
	STATES(&o, HS_ESTABLISHED, HS_ESTABLISHED, "after the handshake");
	EQ_INT(o.rseq, 1, "B's ACK: rseq 1");
	EQ_INT(o.rack, 1, "B's ACK: rack 1");
}

/* The capture began after the SYN: the SYN,ACK shows both what B and what A did. */
static void test_closed_synack_first(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	feed(&ob, seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0), &o);
	OK(has_change(&o, B, HS_LISTEN, HS_SYN_RECEIVED, "SYN,ACK sent", false), "B LISTEN -> SYN-RECEIVED");
	OK(has_change(&o, A, HS_CLOSED, HS_SYN_SENT, "SYN sent", false), "A had sent a SYN");
	OK(has_change(&o, A, HS_SYN_SENT, HS_ESTABLISHED, "SYN,ACK received", true), "A ESTABLISHED, assumed");
	EQ_INT(ob.side[A].iss, 1000, "A's ISS: the SYN,ACK's ACK - 1");
	EQ_INT(o.rack, 1, "rack 1");
}

static void test_established_data_both_ways(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_ACK | HS_PSH, 1001, 5001, 512, 100), &o);
	EQ_INT(o.rseq, 1, "A's data: rseq 1");
	EQ_INT(o.note, HS_NOTE_NONE, "A's data: no note");
	EQ_INT(ob.side[A].snd_nxt, 1101, "A's SND.NXT past its data");
	EQ_INT(ob.side[A].last_len, 100, "A's last data length");
	feed(&ob, seg(B, HS_ACK | HS_PSH, 5001, 1101, 65535, 300), &o);
	EQ_INT(o.rseq, 1, "B's data: rseq 1");
	EQ_INT(o.rack, 101, "B's data: rack 101");
	EQ_INT(ob.side[A].snd_una, 1101, "A's SND.UNA: B's ACK");
	EQ_INT(ob.side[B].snd_nxt, 5301, "B's SND.NXT past its data");
	feed(&ob, seg(A, HS_ACK, 1101, 5301, 512, 0), &o);
	EQ_INT(o.rack, 301, "A's ACK: rack 301");
	EQ_INT(o.note, HS_NOTE_NONE, "A's new ACK: no note");
	EQ_INT(o.nchange, 0, "data: no state change");
	STATES(&o, HS_ESTABLISHED, HS_ESTABLISHED, "data");
	EQ_INT(ob.side[B].snd_una, 5301, "B's SND.UNA");
}

/* A closes first: A FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT, B CLOSE-WAIT -> LAST-ACK -> CLOSED. */
static void test_established_active_close(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_FIN | HS_ACK, 1001, 5001, 512, 0), &o);
	OK(has_change(&o, A, HS_ESTABLISHED, HS_FIN_WAIT_1, "FIN sent", false), "A FIN-WAIT-1");
	OK(has_change(&o, B, HS_ESTABLISHED, HS_CLOSE_WAIT, "FIN received", true), "B CLOSE-WAIT, assumed");
	EQ_INT(ob.side[A].fin_seq, 1001, "A's FIN number");
	feed(&ob, seg(B, HS_ACK, 5001, 1002, 65535, 0), &o);
	OK(has_change(&o, A, HS_FIN_WAIT_1, HS_FIN_WAIT_2, "ACK received", true), "A FIN-WAIT-2");
	EQ_INT(o.assumed[B], false, "B's ACK of the FIN confirms its CLOSE-WAIT");
	STATES(&o, HS_FIN_WAIT_2, HS_CLOSE_WAIT, "half-closed");
	feed(&ob, seg(B, HS_FIN | HS_ACK, 5001, 1002, 65535, 0), &o);
	OK(has_change(&o, B, HS_CLOSE_WAIT, HS_LAST_ACK, "FIN sent", false), "B LAST-ACK");
	OK(has_change(&o, A, HS_FIN_WAIT_2, HS_TIME_WAIT, "FIN received", true), "A TIME-WAIT, assumed");
	feed(&ob, seg(A, HS_ACK, 1002, 5002, 512, 0), &o);
	OK(has_change(&o, B, HS_LAST_ACK, HS_CLOSED, "ACK received", true), "B CLOSED");
	EQ_INT(o.assumed[A], false, "A's ACK of the FIN confirms its TIME-WAIT");
	STATES(&o, HS_TIME_WAIT, HS_CLOSED, "closed");
	EQ_INT(o.rack, 2, "the last ACK: rack 2");
}

/* Both FINs cross: each end goes FIN-WAIT-1 -> CLOSING -> TIME-WAIT. */
static void test_established_simultaneous_close(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_FIN | HS_ACK, 1001, 5001, 512, 0), &o);
	feed(&ob, seg(B, HS_FIN | HS_ACK, 5001, 1001, 65535, 0), &o); /* not acknowledging A's FIN */
	OK(has_correction(&o, B, HS_CLOSE_WAIT, HS_ESTABLISHED), "B never was in CLOSE-WAIT");
	OK(has_change(&o, B, HS_ESTABLISHED, HS_FIN_WAIT_1, "FIN sent", false), "B FIN-WAIT-1");
	OK(has_change(&o, B, HS_FIN_WAIT_1, HS_CLOSING, "FIN received", true), "B CLOSING (A's FIN arrives)");
	OK(has_change(&o, A, HS_FIN_WAIT_1, HS_CLOSING, "FIN received", true), "A CLOSING");
	STATES(&o, HS_CLOSING, HS_CLOSING, "crossed FINs");
	feed(&ob, seg(A, HS_ACK, 1002, 5002, 512, 0), &o);
	OK(has_change(&o, B, HS_CLOSING, HS_TIME_WAIT, "ACK received", true), "B TIME-WAIT");
	feed(&ob, seg(B, HS_ACK, 5002, 1002, 65535, 0), &o);
	OK(has_change(&o, A, HS_CLOSING, HS_TIME_WAIT, "ACK received", true), "A TIME-WAIT");
	STATES(&o, HS_TIME_WAIT, HS_TIME_WAIT, "both in TIME-WAIT");
}

/* A half-closes; B keeps sending, A keeps acknowledging from FIN-WAIT-2. */
static void test_finwait2_half_close(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_FIN | HS_ACK, 1001, 5001, 512, 0), &o);
	feed(&ob, seg(B, HS_ACK, 5001, 1002, 65535, 0), &o);
	feed(&ob, seg(B, HS_ACK | HS_PSH, 5001, 1002, 65535, 100), &o);
	EQ_INT(o.nchange, 0, "B's data in CLOSE-WAIT: no change");
	EQ_INT(o.note, HS_NOTE_NONE, "B's data: no note");
	feed(&ob, seg(A, HS_ACK, 1002, 5101, 512, 0), &o);
	EQ_INT(o.nchange, 0, "A's ACK in FIN-WAIT-2: no change");
	EQ_INT(o.note, HS_NOTE_NONE, "A's ACK: no note");
	STATES(&o, HS_FIN_WAIT_2, HS_CLOSE_WAIT, "half-closed");
	EQ_INT(o.rack, 101, "A acknowledges B's data");
}

static void test_established_rst_from_a(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_RST, 1001, 0, 0, 0), &o);
	OK(has_change(&o, A, HS_ESTABLISHED, HS_CLOSED, "RST sent", false), "A CLOSED");
	OK(has_change(&o, B, HS_ESTABLISHED, HS_CLOSED, "RST received", true), "B CLOSED, assumed");
	EQ_INT(o.note, HS_NOTE_NONE, "an acceptable RST: no note");
	OK(ob.side[A].rst_sent && !ob.side[B].rst_sent, "A sent the RST");
	EQ_INT(ob.side[A].snd_nxt, 1001, "an RST takes no sequence number");
}

static void test_established_rst_from_b(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(B, HS_RST | HS_ACK, 5001, 1001, 0, 0), &o);
	OK(has_change(&o, B, HS_ESTABLISHED, HS_CLOSED, "RST sent", false), "B CLOSED");
	OK(has_change(&o, A, HS_ESTABLISHED, HS_CLOSED, "RST received", true), "A CLOSED, assumed");
	STATES(&o, HS_CLOSED, HS_CLOSED, "reset");
}

/* An RST far from what the receiver expects: the sender has no connection, the
 * receiver ignores it. */
static void test_established_rst_out_of_window(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(B, HS_RST, 5001 - 0x40000000u, 0, 0, 0), &o);
	OK(has_change(&o, B, HS_ESTABLISHED, HS_CLOSED, "RST sent", false), "B CLOSED");
	EQ_INT(o.state[A], HS_ESTABLISHED, "A keeps its connection");
	EQ_INT(o.note, HS_NOTE_UNACCEPTABLE, "note: unacceptable");
	EQ_INT(o.nchange, 1, "one change");
}

/* RFC 5961 3.2: an RST in the window but not at RCV.NXT does not reset; the
 * receiver's next ACK is its challenge ACK. */
static void test_established_rst_in_window_challenge(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_RST, 1011, 0, 0, 0), &o);
	OK(has_change(&o, A, HS_ESTABLISHED, HS_CLOSED, "RST sent", false), "the RST's sender: CLOSED");
	EQ_INT(o.state[B], HS_ESTABLISHED, "an RST 10 past RCV.NXT: B keeps its connection");
	EQ_INT(o.nchange, 1, "only the sender's change");
	EQ_INT(o.note, HS_NOTE_UNACCEPTABLE, "note: unacceptable (as a reset)");
	feed(&ob, seg(B, HS_ACK, 5001, 1001, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_CHALLENGE_ACK, "B's next ACK: its challenge ACK");
	EQ_INT(o.nchange, 0, "the challenge ACK changes nothing");
	EQ_INT(o.state[B], HS_ESTABLISHED, "B ESTABLISHED");
	feed(&ob, seg(B, HS_ACK, 5001, 1001, 65535, 0), &o);
	OK(o.note != HS_NOTE_CHALLENGE_ACK, "the one after it is no challenge ACK");
}

/* RFC 5961 4.2: a SYN into a synchronized connection draws a challenge ACK. */
static void test_established_syn_challenge(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_SYN, 7000, 0, 512, 0), &o);
	EQ_INT(o.state[B], HS_ESTABLISHED, "a SYN in ESTABLISHED: B keeps its connection");
	feed(&ob, seg(B, HS_ACK, 5001, 1001, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_CHALLENGE_ACK, "B's answer: a challenge ACK");
	EQ_INT(o.state[B], HS_ESTABLISHED, "B still ESTABLISHED");
}

/* RFC 5961 5.2: data acknowledging what B never sent is dropped, B answers with
 * an ACK (a challenge ACK); the same data sent again with a right ACK is taken. */
static void test_established_ack_unsent(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_ACK | HS_PSH, 1001, 6001, 512, 5), &o);
	EQ_INT(o.note, HS_NOTE_UNACCEPTABLE, "an ACK of 1000 bytes B never sent: unacceptable");
	EQ_INT(ob.side[B].snd_nxt, 5001, "B's SND.NXT stays where B's own segments put it");
	feed(&ob, seg(B, HS_ACK, 5001, 1001, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_CHALLENGE_ACK, "B's answer: a challenge ACK");
	EQ_INT(o.rack, 1, "B acknowledges none of the dropped data (ack 1: the SYN)");
	now += 100000000;
	feed(&ob, seg(A, HS_ACK | HS_PSH, 1001, 5001, 512, 5), &o);
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "the same bytes again: a retransmission on the wire");
	feed(&ob, seg(B, HS_ACK, 5001, 1006, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_NONE, "B's ACK of them: no note");
	STATES(&o, HS_ESTABLISHED, HS_ESTABLISHED, "after an ACK of unsent data");
}

/* Connection refused: B answers the SYN with RST,ACK. */
static void test_synsent_rst_refused(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	feed(&ob, seg(A, HS_SYN, 1000, 0, 65535, 0), &o);
	feed(&ob, seg(B, HS_RST | HS_ACK, 0, 1001, 0, 0), &o);
	OK(has_change(&o, A, HS_SYN_SENT, HS_CLOSED, "RST received", true), "A CLOSED: refused");
	EQ_INT(o.state[B], HS_CLOSED, "B stays CLOSED");
	EQ_INT(o.nchange, 1, "only A moves");
	/* An RST not acknowledging the SYN is not taken (RFC 9293 3.10.7.3). */
	init(&ob);
	feed(&ob, seg(A, HS_SYN, 1000, 0, 65535, 0), &o);
	feed(&ob, seg(B, HS_RST | HS_ACK, 0, 77, 0, 0), &o);
	EQ_INT(o.state[A], HS_SYN_SENT, "a bad ACK in the RST: A still SYN-SENT");
}

/* Both ends send a SYN: both SYN-RECEIVED, then ESTABLISHED. */
static void test_closed_simultaneous_open(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	feed(&ob, seg(A, HS_SYN, 1000, 0, 65535, 0), &o);
	feed(&ob, seg(B, HS_SYN, 5000, 0, 65535, 0), &o);
	OK(has_change(&o, B, HS_CLOSED, HS_SYN_SENT, "SYN sent", false), "B SYN-SENT");
	OK(has_change(&o, B, HS_SYN_SENT, HS_SYN_RECEIVED, "SYN received", true), "B SYN-RECEIVED");
	OK(has_change(&o, A, HS_SYN_SENT, HS_SYN_RECEIVED, "SYN received", true), "A SYN-RECEIVED");
	STATES(&o, HS_SYN_RECEIVED, HS_SYN_RECEIVED, "both SYNs");
	feed(&ob, seg(A, HS_SYN | HS_ACK, 1000, 5001, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_NONE, "A's SYN,ACK repeats its SYN's number: no retransmission");
	OK(has_change(&o, B, HS_SYN_RECEIVED, HS_ESTABLISHED, "SYN,ACK received", true), "B ESTABLISHED");
	feed(&ob, seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_NONE, "B's SYN,ACK: no note");
	OK(has_change(&o, A, HS_SYN_RECEIVED, HS_ESTABLISHED, "SYN,ACK received", true), "A ESTABLISHED");
	EQ_INT(o.assumed[B], false, "B's SYN,ACK acknowledging A's SYN confirms B");
	STATES(&o, HS_ESTABLISHED, HS_ESTABLISHED, "simultaneous open");
}

/* The capture begins mid-connection. */
static void test_closed_joined_mid_connection(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	feed(&ob, seg(B, HS_ACK | HS_PSH, 70000, 123456, 1000, 50), &o);
	OK(has_change(&o, B, HS_CLOSED, HS_ESTABLISHED, "joined mid-connection", false), "B joined");
	OK(has_change(&o, A, HS_CLOSED, HS_ESTABLISHED, "joined mid-connection", true), "A joined, assumed");
	EQ_INT(o.rseq, 0, "B's ISS: its first number seen");
	EQ_INT(o.rack, 0, "A's ISS: B's first ACK");
	EQ_INT(o.note, HS_NOTE_NONE, "the first segment: no note");
	feed(&ob, seg(A, HS_ACK, 123456, 70050, 1000, 0), &o);
	EQ_INT(o.rack, 50, "A's ACK: rack 50");
	EQ_INT(o.nchange, 0, "nothing moves");
	EQ_INT(o.assumed[A], false, "A's own ACK confirms it");

	/* A FIN first: its sender FIN-WAIT-1, the other CLOSE-WAIT. */
	init(&ob);
	feed(&ob, seg(A, HS_FIN | HS_ACK, 10, 20, 1000, 0), &o);
	OK(has_change(&o, A, HS_ESTABLISHED, HS_FIN_WAIT_1, "FIN sent", false), "a FIN first: A FIN-WAIT-1");
	OK(has_change(&o, B, HS_ESTABLISHED, HS_CLOSE_WAIT, "FIN received", true), "B CLOSE-WAIT");
	STATES(&o, HS_FIN_WAIT_1, HS_CLOSE_WAIT, "joined at the FIN");

	/* An RST first joins nothing: the end that sent it has no connection. */
	init(&ob);
	feed(&ob, seg(B, HS_RST, 99, 0, 0, 0), &o);
	EQ_INT(o.nchange, 0, "an RST first: no change");
	STATES(&o, HS_CLOSED, HS_CLOSED, "an RST first");
	OK(ob.side[B].rst_sent && !ob.side[B].iss_known, "an RST first: seen, no ISS from it");
}

static void test_synsent_syn_retransmitted(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	feed(&ob, seg(A, HS_SYN, 1000, 0, 65535, 0), &o);
	feed(&ob, seg(A, HS_SYN, 1000, 0, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "the SYN again: retransmission");
	EQ_INT(o.nchange, 0, "no change");
	/* Resent after the SYN,ACK: that did not arrive, A is still SYN-SENT. */
	feed(&ob, seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0), &o);
	feed(&ob, seg(A, HS_SYN, 1000, 0, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "the SYN after the SYN,ACK: retransmission");
	OK(has_correction(&o, A, HS_ESTABLISHED, HS_SYN_SENT), "A still SYN-SENT, not ESTABLISHED");
	STATES(&o, HS_SYN_SENT, HS_SYN_RECEIVED, "after the resent SYN");
}

static void test_synreceived_synack_retransmitted(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	feed(&ob, seg(A, HS_SYN, 1000, 0, 65535, 0), &o);
	feed(&ob, seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0), &o);
	feed(&ob, seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "the SYN,ACK again: retransmission");
	EQ_INT(o.nchange, 0, "no change");
	/* After A's ACK: that ACK did not arrive, B is still SYN-RECEIVED. */
	feed(&ob, seg(A, HS_ACK, 1001, 5001, 512, 0), &o);
	feed(&ob, seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "the SYN,ACK after the ACK: retransmission");
	OK(has_correction(&o, B, HS_ESTABLISHED, HS_SYN_RECEIVED), "B still SYN-RECEIVED, not ESTABLISHED");
}

static void test_established_data_retransmitted(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_ACK, 1001, 5001, 512, 100), &o);
	feed(&ob, seg(A, HS_ACK, 1101, 5001, 512, 100), &o);
	feed(&ob, seg(A, HS_ACK, 1001, 5001, 512, 100), &o);
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "data below SND.NXT: retransmission");
	EQ_INT(ob.side[A].snd_nxt, 1201, "SND.NXT stays at the highest");
	EQ_INT(o.rseq, 1, "rseq of the resent data");
	feed(&ob, seg(A, HS_ACK, 1201, 5001, 512, 100), &o);
	EQ_INT(o.note, HS_NOTE_NONE, "new data: no note");
}

/* A FIN resent in FIN-WAIT-2: the ACK that moved it there did not arrive. */
static void test_finwait2_fin_retransmitted(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_FIN | HS_ACK, 1001, 5001, 512, 0), &o);
	feed(&ob, seg(B, HS_ACK, 5001, 1002, 65535, 0), &o);
	feed(&ob, seg(A, HS_FIN | HS_ACK, 1001, 5001, 512, 0), &o);
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "the FIN again: retransmission");
	OK(has_correction(&o, A, HS_FIN_WAIT_2, HS_FIN_WAIT_1), "A still FIN-WAIT-1");
	EQ_INT(o.state[B], HS_CLOSE_WAIT, "B does not move again");
}

/* The same datagram captured twice ("any" in a router): a copy within
 * HS_OBS_COPY_NS; told by its IPv4 ID or TSval later; without either, the same
 * segment later is a resend. */
static void test_established_network_copies(void)
{
	hs_observer ob;
	hs_obs_out o;
	hs_segment s;

	init(&ob);
	handshake(&ob);
	s = seg_id(A, HS_ACK, 1001, 5001, 512, 100, 4242);
	hs_observer_segment(&ob, &s, 100 * MS, &o);
	EQ_INT(o.copy, false, "the first: no copy");
	s.ttl = 63; /* forwarded */
	hs_observer_segment(&ob, &s, 100 * MS + 30000, &o);
	EQ_INT(o.copy, true, "30 us later: a copy");
	EQ_INT(o.note, HS_NOTE_DUPLICATE, "the copy: duplicate");
	EQ_INT(o.rseq, 1, "the copy: rseq");
	EQ_INT(ob.side[A].snd_nxt, 1101, "the copy teaches nothing");
	hs_observer_segment(&ob, &s, 100 * MS + HS_OBS_COPY_NS + 1, &o);
	EQ_INT(o.copy, false, "beyond HS_OBS_COPY_NS: not a copy to drop");
	EQ_INT(o.note, HS_NOTE_DUPLICATE, "same IPv4 ID later: still the same datagram");
	s.ip_id = 4243;
	hs_observer_segment(&ob, &s, 100 * MS + 50000, &o);
	EQ_INT(o.copy, false, "another IPv4 ID: not a copy");
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "another IPv4 ID: a resend");

	/* TSval instead of an ID (IPv6). */
	s = seg_ts(B, HS_ACK, 5001, 1101, 65535, 10, 777);
	hs_observer_segment(&ob, &s, 200 * MS, &o);
	hs_observer_segment(&ob, &s, 200 * MS + 1000, &o);
	EQ_INT(o.copy, true, "same TSval 1 us later: a copy");
	s.opts.ts_val = 778;
	hs_observer_segment(&ob, &s, 200 * MS + 2000, &o);
	EQ_INT(o.copy, false, "another TSval: not a copy");
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "another TSval: a resend");

	/* Neither: only time tells. */
	s = seg(B, HS_ACK, 5011, 1101, 65535, 10);
	hs_observer_segment(&ob, &s, 300 * MS, &o);
	hs_observer_segment(&ob, &s, 300 * MS + 5000, &o);
	EQ_INT(o.copy, true, "no ID, no TSval, 5 us later: a copy");
	hs_observer_segment(&ob, &s, 300 * MS + HS_OBS_COPY_NS + 1, &o);
	EQ_INT(o.copy, false, "no ID, no TSval, later: not a copy");
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "no ID, no TSval, later: a resend");
}

static void test_established_out_of_order(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_ACK, 1101, 5001, 512, 100), &o); /* 1001..1100 not seen */
	EQ_INT(o.note, HS_NOTE_OUT_OF_ORDER, "beyond SND.NXT: out-of-order");
	feed(&ob, seg(A, HS_ACK, 1001, 5001, 512, 100), &o);
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "the hole filled: retransmission (as Wireshark says)");
	feed(&ob, seg(A, HS_ACK, 1201, 5001, 512, 100), &o);
	EQ_INT(o.note, HS_NOTE_NONE, "in order again");
}

static void test_established_keepalive(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(B, HS_ACK, 5001, 1001, 65535, 0), &o);
	feed(&ob, seg(A, HS_ACK, 1000, 5001, 512, 0), &o);
	EQ_INT(o.note, HS_NOTE_KEEPALIVE, "SND.NXT - 1, no data: keepalive");
	EQ_INT(ob.side[A].snd_nxt, 1001, "a keepalive takes no number");
	feed(&ob, seg(B, HS_ACK, 5001, 1001, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_KEEPALIVE_ACK, "its answer: keepalive-ack");
	feed(&ob, seg(A, HS_ACK, 1000, 5001, 512, 1), &o);
	EQ_INT(o.note, HS_NOTE_KEEPALIVE, "one old byte (BSD): keepalive");
	feed(&ob, seg(B, HS_ACK, 5001, 1001, 65535, 0), &o);
	feed(&ob, seg(B, HS_ACK, 5001, 1001, 65535, 0), &o);
	EQ_INT(o.note, HS_NOTE_DUP_ACK, "the same ACK again, no keepalive before: dup-ack");
}

static void test_established_zero_window(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_ACK, 1001, 5001, 512, 100), &o);
	feed(&ob, seg(B, HS_ACK, 5001, 1101, 0, 0), &o);
	EQ_INT(o.note, HS_NOTE_ZERO_WINDOW, "window 0: zero-window");
	feed(&ob, seg(A, HS_ACK, 1101, 5001, 512, 1), &o);
	EQ_INT(o.note, HS_NOTE_ZERO_WINDOW_PROBE, "one byte into it: zero-window-probe");
	EQ_INT(ob.side[A].snd_nxt, 1101, "the probe's byte is not taken");
	feed(&ob, seg(A, HS_ACK, 1100, 5001, 512, 0), &o);
	EQ_INT(o.note, HS_NOTE_ZERO_WINDOW_PROBE, "Linux's probe (SND.NXT - 1): zero-window-probe");
	feed(&ob, seg(B, HS_ACK, 5001, 1101, 0, 0), &o);
	EQ_INT(o.note, HS_NOTE_ZERO_WINDOW, "still 0: zero-window again");
	feed(&ob, seg(B, HS_ACK, 5001, 1101, 4000, 0), &o);
	EQ_INT(o.note, HS_NOTE_WINDOW_UPDATE, "the window opens: window-update");
	feed(&ob, seg(A, HS_ACK, 1101, 5001, 512, 1), &o);
	EQ_INT(o.note, HS_NOTE_NONE, "a byte into an open window: new data");
}

static void test_synsent_window_scale(void)
{
	hs_observer ob;
	hs_obs_out o;
	hs_segment s;

	init(&ob);
	s = seg(A, HS_SYN, 1000, 0, 65535, 0);
	s.opts.has = HS_HAS_WSCALE;
	s.opts.wscale = 7;
	feed(&ob, s, &o);
	EQ_INT(o.win_shift, 0, "a SYN's window is never scaled");
	s = seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0);
	s.opts.has = HS_HAS_WSCALE;
	s.opts.wscale = 9;
	feed(&ob, s, &o);
	EQ_INT(o.win_shift, 0, "a SYN,ACK's window is never scaled");
	feed(&ob, seg(A, HS_ACK, 1001, 5001, 512, 0), &o);
	EQ_INT(o.win_shift, 7, "A's windows: << 7");
	feed(&ob, seg(B, HS_ACK, 5001, 1001, 100, 0), &o);
	EQ_INT(o.win_shift, 9, "B's windows: << 9");

	/* Offered by one side only: no scaling either way. */
	init(&ob);
	s = seg(A, HS_SYN, 1000, 0, 65535, 0);
	s.opts.has = HS_HAS_WSCALE;
	s.opts.wscale = 7;
	feed(&ob, s, &o);
	feed(&ob, seg(B, HS_SYN | HS_ACK, 5000, 1001, 65535, 0), &o);
	feed(&ob, seg(A, HS_ACK, 1001, 5001, 512, 0), &o);
	EQ_INT(o.win_shift, 0, "only A offered: no scaling");
}

/* Numbers around 2^32. */
static void test_established_sequence_wrap(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	feed(&ob, seg(A, HS_SYN, 0xffffff00u, 0, 65535, 0), &o);
	feed(&ob, seg(B, HS_SYN | HS_ACK, 0xfffffff0u, 0xffffff01u, 65535, 0), &o);
	feed(&ob, seg(A, HS_ACK, 0xffffff01u, 0xfffffff1u, 512, 0), &o);
	feed(&ob, seg(A, HS_ACK, 0xffffff01u, 0xfffffff1u, 512, 0x200), &o);
	EQ_INT(ob.side[A].snd_nxt, 0x101, "SND.NXT wraps");
	feed(&ob, seg(A, HS_ACK, 0x101, 0xfffffff1u, 512, 100), &o);
	EQ_INT(o.note, HS_NOTE_NONE, "after the wrap: in order");
	EQ_INT(o.rseq, 0x201, "rseq across the wrap");
	feed(&ob, seg(A, HS_ACK, 0xffffff01u, 0xfffffff1u, 512, 0x200), &o);
	EQ_INT(o.note, HS_NOTE_RETRANSMISSION, "before the wrap again: retransmission");
	feed(&ob, seg(B, HS_ACK | HS_PSH, 0xfffffff1u, 0x165, 65535, 0x20), &o);
	EQ_INT(o.rack, 0x265, "rack across the wrap");
	EQ_INT(ob.side[B].snd_nxt, 0x11, "B's SND.NXT wraps");
	feed(&ob, seg(B, HS_FIN | HS_ACK, 0x11, 0x165, 65535, 0), &o);
	feed(&ob, seg(A, HS_ACK, 0x165, 0x12, 512, 0), &o);
	EQ_INT(o.state[B], HS_FIN_WAIT_2, "the ACK of a FIN past the wrap counts");
}

static void test_other_connection_ignored(void)
{
	hs_observer ob;
	hs_obs_out o;
	hs_segment s;

	init(&ob);
	handshake(&ob);
	s = seg(-1, HS_RST, 1001, 0, 0, 0); /* C -> B */
	EQ_INT(hs_observer_segment(&ob, &s, 10 * MS, &o), -1, "C -> B: not of this connection");
	EQ_INT(o.from, -1, "out->from -1");
	EQ_INT(o.nchange, 0, "no change");
	EQ_INT(ob.side[A].state, HS_ESTABLISHED, "A unchanged");
	EQ_INT(ob.side[B].state, HS_ESTABLISHED, "B unchanged");
	s = seg(A, HS_RST, 1001, 0, 0, 0);
	s.dst = EC; /* A -> C */
	EQ_INT(hs_observer_sender(&ob, &s), -1, "A -> C: not of this connection");
	s.dst = EB;
	s.src.port++; /* another port of A's */
	EQ_INT(hs_observer_segment(&ob, &s, 11 * MS, &o), -1, "another port: not of this connection");
	EQ_INT(ob.side[A].state, HS_ESTABLISHED, "A still unchanged");
}

/* A driver's conclusion ("B took the RST"): a certain change, once. */
static void test_established_conclude(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	hs_observer_conclude(&ob, B, HS_CLOSED, "took the RST", &o);
	EQ_INT(o.from, B, "from: the side");
	EQ_INT(o.nchange, 1, "one change");
	OK(has_change(&o, B, HS_ESTABLISHED, HS_CLOSED, "took the RST", false), "B ESTABLISHED -> CLOSED");
	STATES(&o, HS_ESTABLISHED, HS_CLOSED, "concluded");
	hs_observer_conclude(&ob, B, HS_CLOSED, "took the RST", &o);
	EQ_INT(o.nchange, 0, "already there: no change");
	hs_observer_conclude(&ob, A, HS_CLOSED, "took the RST", &o);
	OK(has_change(&o, A, HS_ESTABLISHED, HS_CLOSED, "took the RST", false), "A ESTABLISHED -> CLOSED");
	EQ_INT(ob.side[A].state, HS_CLOSED, "A's state kept");
}

/* The same four-tuple again once both are done: a new connection, new numbers. */
static void test_timewait_new_connection(void)
{
	hs_observer ob;
	hs_obs_out o;

	init(&ob);
	handshake(&ob);
	feed(&ob, seg(A, HS_FIN | HS_ACK, 1001, 5001, 512, 0), &o);
	feed(&ob, seg(B, HS_FIN | HS_ACK, 5001, 1002, 65535, 0), &o);
	feed(&ob, seg(A, HS_ACK, 1002, 5002, 512, 0), &o);
	STATES(&o, HS_TIME_WAIT, HS_CLOSED, "closed");
	feed(&ob, seg(A, HS_SYN, 90000, 0, 65535, 0), &o);
	OK(has_change(&o, A, HS_TIME_WAIT, HS_SYN_SENT, "SYN sent", false), "A TIME-WAIT -> SYN-SENT");
	EQ_INT(o.rseq, 0, "the new SYN: rseq 0 (a new ISS)");
	EQ_INT(o.note, HS_NOTE_NONE, "the new SYN: no note");
	feed(&ob, seg(B, HS_SYN | HS_ACK, 3000, 90001, 65535, 0), &o);
	OK(has_change(&o, B, HS_LISTEN, HS_SYN_RECEIVED, "SYN,ACK sent", false), "B answers the new SYN");
	EQ_INT(o.rack, 1, "rack 1 in the new connection");
}

/* hs fin as A: B takes the FIN, A never hears of it (B's answers acknowledge what A
 * never sent: A's stack drops them). */
static void test_established_spoofed_fin(void)
{
	hs_observer ob;
	hs_obs_out o;
	hs_segment s;

	init(&ob);
	handshake(&ob);
	s = seg(A, HS_RST, 1001, 0, 0, 0);
	EQ_INT(hs_observer_spoofed(&ob, &s, &o), A, "a spoofed RST: from A");
	EQ_INT(o.nchange, 0, "a spoofed RST changes nothing (the driver concludes)");
	s = seg(A, HS_FIN | HS_ACK, 999, 5001, 512, 0);
	hs_observer_spoofed(&ob, &s, &o);
	EQ_INT(o.nchange, 0, "a spoofed FIN off B's RCV.NXT changes nothing");
	s = seg(A, HS_FIN | HS_ACK, 1001, 5001, 512, 0);
	hs_observer_spoofed(&ob, &s, &o);
	OK(has_change(&o, B, HS_ESTABLISHED, HS_CLOSE_WAIT, "FIN received", true), "B CLOSE-WAIT, assumed");
	EQ_INT(o.nchange, 1, "A does not move");
	EQ_INT(o.rseq, 1, "rseq of the spoofed FIN");
	EQ_INT(ob.side[A].snd_nxt, 1001, "A's SND.NXT stays");
	OK(!ob.side[A].fin_sent, "A sent no FIN");
	feed(&ob, seg(B, HS_ACK, 5001, 1002, 65535, 0), &o);
	EQ_INT(o.assumed[B], false, "B's ACK of it confirms B's CLOSE-WAIT");
	EQ_INT(o.note, HS_NOTE_UNACCEPTABLE, "B's ACK: unacceptable at A");
	EQ_INT(ob.side[A].snd_nxt, 1001, "A's SND.NXT still stays");
	feed(&ob, seg(B, HS_FIN | HS_ACK, 5001, 1002, 65535, 0), &o);
	OK(has_change(&o, B, HS_CLOSE_WAIT, HS_LAST_ACK, "FIN sent", false), "B LAST-ACK");
	EQ_INT(o.state[A], HS_ESTABLISHED, "A drops B's FIN: still ESTABLISHED");
	EQ_INT(o.nchange, 1, "only B moves");
	feed(&ob, seg(A, HS_ACK, 1001, 5001, 512, 0), &o); /* A's own answer */
	EQ_INT(o.nchange, 0, "A's ACK not covering B's FIN: nothing");
	s = seg(A, HS_ACK, 1002, 5002, 512, 0);
	hs_observer_spoofed(&ob, &s, &o);
	OK(has_change(&o, B, HS_LAST_ACK, HS_CLOSED, "ACK received", true), "our ACK as A: B CLOSED");
	STATES(&o, HS_ESTABLISHED, HS_CLOSED, "after hs fin");
}

/* Kernel to kernel (captures/observed.sh): a tcpdump capture of six connections,
 * each left by the two kernels in other states; the observer must end each with the
 * states `ss` showed on both sides then (captures/observed.ss). */
#define REPLAY_MAX 512
static void test_capture_kernel_states(void)
{
	const char *dir = getenv("HS_TESTS");
	char path[1024], ebuf[PCAP_ERRBUF_SIZE];
	static uint8_t frames[REPLAY_MAX][256];
	static size_t flen[REPLAY_MAX];
	static uint64_t fts[REPLAY_MAX];
	int n = 0;

	snprintf(path, sizeof(path), "%s/unit/captures/observed.pcap", dir ? dir : "tests");
	pcap_t *p = pcap_open_offline(path, ebuf);
	OK(p != NULL, "observed.pcap opens (HS_TESTS: the source tree's tests/)");
	if (!p) {
		printf("#   %s\n", ebuf);
		return;
	}
	int dlt = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	while (n < REPLAY_MAX && pcap_next_ex(p, &h, &d) == 1) {
		flen[n] = h->caplen < sizeof(frames[0]) ? h->caplen : sizeof(frames[0]);
		memcpy(frames[n], d, flen[n]);
		fts[n] = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000ull;
		n++;
	}
	pcap_close(p);

	snprintf(path, sizeof(path), "%s/unit/captures/observed.ss", dir ? dir : "tests");
	FILE *f = fopen(path, "r");
	OK(f != NULL, "observed.ss opens");
	if (!f)
		return;
	unsigned port;
	char want_a[32], want_b[32];
	int conns = 0;
	while (fscanf(f, "%u %31s %31s", &port, want_a, want_b) == 3) {
		hs_observer ob;
		hs_obs_out o;
		hs_packet pkt;
		const char *err;
		bool found = false;
		int notes = 0, taken = 0;

		/* A: the end that sent the SYN to the port. */
		for (int i = 0; i < n && !found; i++)
			if (hs_decode_frame(dlt, frames[i], flen[i], &pkt, &err) == 0 && pkt.kind == HS_PKT_TCP &&
			    pkt.u.tcp.dst.port == port && (pkt.u.tcp.flags & (HS_SYN | HS_ACK)) == HS_SYN) {
				hs_observer_init(&ob, &pkt.u.tcp.src, &pkt.u.tcp.dst);
				found = true;
			}
		OK(found, "the capture has the connection's SYN");
		if (!found)
			continue;
		for (int i = 0; i < n; i++) {
			if (hs_decode_frame(dlt, frames[i], flen[i], &pkt, &err) != 0 || pkt.kind != HS_PKT_TCP)
				continue;
			if (hs_observer_segment(&ob, &pkt.u.tcp, fts[i], &o) < 0)
				continue;
			taken++;
			for (int k = 0; k < o.nchange; k++)
				printf("# %u: %s %s -> %s (%s)%s\n", port, o.change[k].peer ? "B" : "A",
				       hs_state_name(o.change[k].from), hs_state_name(o.change[k].to), o.change[k].why,
				       o.change[k].assumed ? " assumed" : "");
			/* A whole capture of a clean connection: nothing resent, lost or copied. */
			if (o.note == HS_NOTE_RETRANSMISSION || o.note == HS_NOTE_OUT_OF_ORDER ||
			    o.note == HS_NOTE_DUPLICATE)
				notes++;
		}
		char what[128];
		snprintf(what, sizeof(what), "port %u: A ends %s, as ss showed", port, want_a);
		EQ_STR(hs_state_name(ob.side[A].state), want_a, what);
		snprintf(what, sizeof(what), "port %u: B ends %s, as ss showed", port, want_b);
		EQ_STR(hs_state_name(ob.side[B].state), want_b, what);
		snprintf(what, sizeof(what), "port %u: no retransmission, out-of-order or duplicate", port);
		EQ_INT(notes, 0, what);
		OK(taken >= 5, "the connection's segments were taken");
		conns++;
	}
	fclose(f);
	EQ_INT(conns, 6, "six connections checked");
}

int main(void)
{
	hs_endpoint_parse("198.18.1.2:40000", &EA);
	hs_endpoint_parse("198.18.2.2:5000", &EB);
	hs_endpoint_parse("198.18.3.3:40000", &EC);
	test_closed_syn_handshake();
	test_closed_syn_from_b();
	test_closed_synack_first();
	test_established_data_both_ways();
	test_established_active_close();
	test_established_simultaneous_close();
	test_finwait2_half_close();
	test_established_rst_from_a();
	test_established_rst_from_b();
	test_established_rst_out_of_window();
	test_established_rst_in_window_challenge();
	test_established_syn_challenge();
	test_established_ack_unsent();
	test_synsent_rst_refused();
	test_closed_simultaneous_open();
	test_closed_joined_mid_connection();
	test_synsent_syn_retransmitted();
	test_synreceived_synack_retransmitted();
	test_established_data_retransmitted();
	test_finwait2_fin_retransmitted();
	test_established_network_copies();
	test_established_out_of_order();
	test_established_keepalive();
	test_established_zero_window();
	test_synsent_window_scale();
	test_established_sequence_wrap();
	test_other_connection_ignored();
	test_established_conclude();
	test_timewait_new_connection();
	test_established_spoofed_fin();
	test_capture_kernel_states();
	return tap_done();
}
