/* Playing scenario scripts (lib/play.c): timing, "<" lines built, ">" lines matched,
 * every way a script fails and its block for people, hs_sack_shift on bad bytes;
 * without privileges or network. Segments from the peer are made by hand. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/craft.h"
#include "hs/play.h"
#include "tap.h"

#define MS 1000000ull
#define S_NS 1000000000ull
#define OUR_ISN 1000u
#define PEER_ISN 4294967250u /* 46 before the wrap: the peer's byte 101 is 55 on the wire */

static hs_script S;
static hs_play P;
static hs_tx TX;
static char err[512];
static const uint8_t zeros[200];

/* Parse text and start playing it; on a parse error S is empty (every check after fails). */
static bool load(const char *text, uint32_t our_isn, uint32_t ts_base, uint64_t any_wait)
{
	hs_script_free(&S);
	err[0] = '\0';
	bool ok = hs_script_parse(text, strlen(text), "t.pkt", &S, err, sizeof(err)) == 0;
	if (!ok)
		printf("# parse: %s\n", err);
	hs_play_init(&P, &S, our_isn, ts_base, any_wait);
	return ok;
}

static hs_segment seg(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	hs_segment g;

	memset(&g, 0, sizeof(g));
	g.flags = flags;
	g.seq = seq;
	g.ack = ack;
	g.win = win;
	return g;
}

static void seg_opts(hs_segment *g, const uint8_t *o, size_t n)
{
	const char *e = NULL;

	memset(&g->opts, 0, sizeof(g->opts));
	if (hs_opts_decode(o, n, &g->opts, &e) != 0)
		printf("# options: %s\n", e ? e : "?");
}

static void seg_data(hs_segment *g, size_t n)
{
	g->payload = zeros;
	g->len = n;
}

/* Build line P.cur at t and report it sent at t; the built segment stays in TX. */
static int send_line(uint64_t t)
{
	if (hs_play_build(&P, t, &TX) != 0)
		return -1;
	hs_play_done(&P, t, &TX);
	return 0;
}

/* The peer's SYN,ACK to our SYN (client role). */
static hs_segment peer_synack(uint32_t our_isn)
{
	return seg(HS_SYN | HS_ACK, PEER_ISN, our_isn + 1, 65160);
}

/* ---- timing ------------------------------------------------------------------------ */

static void test_abs_send_due(void)
{
	uint64_t at = 0;

	load("0.100 < S 0:0(0)\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_next(&P, 0, &at), HS_PLAY_SLEEP, "abs send: sleep before its time");
	EQ_INT(at, 100 * MS, "abs send: sleep until 0.100");
	EQ_INT(hs_play_next(&P, 100 * MS - 1, &at), HS_PLAY_SLEEP, "abs send: 1 ns before: still sleep");
	EQ_INT(hs_play_next(&P, 100 * MS, &at), HS_PLAY_SEND, "abs send: due at its time");
	EQ_INT(at, 100 * MS, "abs send: at is the due time");
	EQ_INT(hs_play_next(&P, 250 * MS, &at), HS_PLAY_SEND, "abs send: late still sends");
	EQ_INT(P.cur, 0, "abs send: next does not move on");
	EQ_INT(send_line(250 * MS), 0, "abs send: built");
	EQ_INT(P.prev_ns, 250 * MS, "abs send: previous time is when it left");
	EQ_INT(hs_play_next(&P, 250 * MS, &at), HS_PLAY_DONE, "abs send: then done");
	EQ_INT(hs_play_exit_code(&P), 0, "abs send: exit 0");
}

static void test_rel_send_late_shifts_next(void)
{
	uint64_t at = 0;

	load("0.100 < S 0:0(0)\n+0.100 < F 1:1(0)\n+0 `true`\n", OUR_ISN, 0, 0);
	EQ_INT(send_line(130 * MS), 0, "rel send: first line sent 30 ms late");
	EQ_INT(hs_play_next(&P, 200 * MS, &at), HS_PLAY_SLEEP, "rel send: +0.1 not due at 0.200");
	EQ_INT(at, 230 * MS, "rel send: +0.1 counts from the actual 0.130");
	EQ_INT(hs_play_next(&P, 230 * MS, &at), HS_PLAY_SEND, "rel send: due at 0.230");
	EQ_INT(send_line(231 * MS), 0, "rel send: second sent at 0.231");
	EQ_INT(hs_play_next(&P, 231 * MS, &at), HS_PLAY_SHELL, "rel command: +0 due at once");
	EQ_INT(at, 231 * MS, "rel command: due at the previous actual time");
	hs_play_done(&P, 500 * MS, NULL);
	EQ_INT(P.prev_ns, 500 * MS, "rel command: previous time is when it ended");
	EQ_INT(hs_play_next(&P, 500 * MS, &at), HS_PLAY_DONE, "rel command: then done");
}

/* Load a one-">"-line server script and feed the peer's SYN at t: the fail code
 * (0 when it matched), *ret what hs_play_segment returned. */
static int syn_at(const char *text, uint64_t t, unsigned *ret)
{
	hs_segment g = seg(HS_SYN, PEER_ISN, 0, 29200);

	load(text, OUR_ISN, 0, 0);
	*ret = hs_play_segment(&P, &g, t);
	return P.fail;
}

static void test_expect_abs_window(void)
{
	uint64_t at = 0;
	unsigned r = 9;

	load("0.100 > S 0:0(0)\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_next(&P, 0, &at), HS_PLAY_WAIT, "abs expect: wait at the start");
	EQ_INT(at, 104 * MS + HS_PLAY_LATE_GRACE_NS, "abs expect: until 0.100 + 4 ms tolerance, + the grace for a late one");
	EQ_INT(syn_at("0.100 > S 0:0(0)\n", 96 * MS, &r), HS_PLAY_F_OK, "abs expect: 0.096 (T - tol) matches");
	EQ_INT(r, 1, "abs expect: returns file line 1");
	EQ_INT(P.prev_ns, 96 * MS, "abs expect: previous time is its arrival");
	EQ_INT(syn_at("0.100 > S 0:0(0)\n", 104 * MS, &r), HS_PLAY_F_OK, "abs expect: 0.104 (T + tol) matches");
	EQ_INT(syn_at("0.100 > S 0:0(0)\n", 96 * MS - 1, &r), HS_PLAY_F_EARLY, "abs expect: 1 ns before: EARLY");
	EQ_INT(r, 0, "abs expect: early returns 0");
	EQ_INT(hs_play_exit_code(&P), 1, "abs expect: early exits 1");
	EQ_STR(P.why, "it came at 0.095999 s, expected from 0.096000 to 0.104000 s", "abs expect: early why");
	EQ_INT(syn_at("0.100 > S 0:0(0)\n", 104 * MS + 1, &r), HS_PLAY_F_LATE, "abs expect: 1 ns after: LATE");
	EQ_INT(hs_play_exit_code(&P), 1, "abs expect: late exits 1");
	EQ_INT(P.fail_line, 0, "abs expect: late: line index 0");
	EQ_INT(P.fail_t_ns, 104 * MS + 1, "abs expect: late: found at its arrival");
	EQ_INT(syn_at("--tolerance_usecs=0\n0.100 > S 0:0(0)\n", 100 * MS + 1, &r), HS_PLAY_F_LATE,
	       "abs expect: tolerance 0: 1 ns late is LATE");
	EQ_INT(syn_at("--tolerance_usecs=0\n0.100 > S 0:0(0)\n", 100 * MS, &r), HS_PLAY_F_OK,
	       "abs expect: tolerance 0: on time matches");
	EQ_INT(r, 2, "abs expect: the file line counts the option line");
}

/* A relative ">" line counts from the previous line's actual time (our late SYN,ACK). */
static void test_expect_rel_after_actual(void)
{
	const char *text = "0~1 > S 0:0(0)\n+0.1 < S. 0:0(0) ack 1\n+0.1 > . 1:1(0) ack 1\n";
	hs_segment syn = seg(HS_SYN, PEER_ISN, 0, 29200);
	hs_segment ack = seg(HS_ACK, PEER_ISN + 1, OUR_ISN + 1, 502);
	uint64_t at = 0;

	for (int run = 0; run < 3; run++) {
		load(text, OUR_ISN, 0, 0);
		OK(hs_play_segment(&P, &syn, 500 * MS) == 1, "rel expect: SYN in 0~1 at 0.5");
		EQ_INT(hs_play_next(&P, 500 * MS, &at), HS_PLAY_SLEEP, "rel expect: +0.1 send sleeps");
		EQ_INT(at, 600 * MS, "rel expect: send due 0.1 after the SYN's arrival");
		EQ_INT(send_line(610 * MS), 0, "rel expect: SYN,ACK sent at 0.610");
		EQ_INT(hs_play_next(&P, 610 * MS, &at), HS_PLAY_WAIT, "rel expect: wait for the ACK");
		EQ_INT(at, 714 * MS + HS_PLAY_LATE_GRACE_NS, "rel expect: deadline 0.610 + 0.1 + tol");
		uint64_t t = run == 0 ? 706 * MS : run == 1 ? 706 * MS - 1 : 714 * MS + 1;
		unsigned r = hs_play_segment(&P, &ack, t);
		if (run == 0)
			OK(r == 3 && P.fail == 0, "rel expect: ACK at 0.706 (0.710 - tol) matches line 3");
		else
			OK(r == 0 && P.fail == (run == 1 ? HS_PLAY_F_EARLY : HS_PLAY_F_LATE) && P.fail_line == 2,
			   run == 1 ? "rel expect: 1 ns before the window: EARLY" : "rel expect: after it: LATE");
	}
}

static void test_expect_range(void)
{
	const char *abs = "0.1~0.3 > S 0:0(0)\n";
	const char *rel = "0 > S 0:0(0)\n+0 < S. 0:0(0) ack 1\n+0.1~+0.2 > . 1:1(0) ack 1\n";
	hs_segment syn = seg(HS_SYN, PEER_ISN, 0, 29200), ack = seg(HS_ACK, PEER_ISN + 1, OUR_ISN + 1, 502);
	uint64_t at = 0;
	unsigned r;

	load(abs, OUR_ISN, 0, 0);
	EQ_INT(hs_play_next(&P, 0, &at), HS_PLAY_WAIT, "range: wait");
	EQ_INT(at, 304 * MS + HS_PLAY_LATE_GRACE_NS, "range: deadline B + tol");
	EQ_INT(syn_at(abs, 96 * MS, &r), 0, "range: A - tol matches");
	EQ_INT(syn_at(abs, 200 * MS, &r), 0, "range: inside matches");
	EQ_INT(syn_at(abs, 304 * MS, &r), 0, "range: B + tol matches");
	EQ_INT(syn_at(abs, 96 * MS - 1, &r), HS_PLAY_F_EARLY, "range: before A - tol: EARLY");
	EQ_INT(syn_at(abs, 304 * MS + 1, &r), HS_PLAY_F_LATE, "range: after B + tol: LATE");

	static const struct {
		uint64_t t;
		int fail;
		const char *what;
	} c[] = {
		{ 146 * MS - 1, HS_PLAY_F_EARLY, "rel range: before prev + A - tol: EARLY" },
		{ 146 * MS, 0, "rel range: prev + A - tol matches" },
		{ 254 * MS, 0, "rel range: prev + B + tol matches" },
		{ 254 * MS + 1, HS_PLAY_F_LATE, "rel range: after prev + B + tol: LATE" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		load(rel, OUR_ISN, 0, 0);
		hs_play_segment(&P, &syn, 0);
		send_line(50 * MS); /* late: the range counts from 0.050 */
		if (i == 0) {
			EQ_INT(hs_play_next(&P, 50 * MS, &at), HS_PLAY_WAIT, "rel range: wait");
			EQ_INT(at, 254 * MS + HS_PLAY_LATE_GRACE_NS, "rel range: deadline 0.050 + 0.2 + tol");
		}
		hs_play_segment(&P, &ack, c[i].t);
		EQ_INT(P.fail, c[i].fail, c[i].what);
	}
}

static void test_any_wait(void)
{
	const char *text = "0 `true`\n* > S 0:0(0)\n";
	hs_segment syn = seg(HS_SYN, PEER_ISN, 0, 29200);
	uint64_t at = 0;

	load(text, OUR_ISN, 0, 0);
	EQ_INT(P.any_wait_ns, HS_PLAY_ANY_WAIT_NS, "any: 0 takes the default wait");
	hs_play_done(&P, 500 * MS, NULL);
	EQ_INT(hs_play_next(&P, 500 * MS, &at), HS_PLAY_WAIT, "any: wait");
	EQ_INT(at, 500 * MS + 10 * S_NS, "any: until the previous line + 10 s");
	EQ_INT(hs_play_segment(&P, &syn, 500 * MS + 10 * S_NS), 2, "any: at the last moment matches");

	load(text, OUR_ISN, 0, 2 * S_NS);
	hs_play_done(&P, 500 * MS, NULL);
	EQ_INT(hs_play_next(&P, 500 * MS, &at), HS_PLAY_WAIT, "any 2 s: wait");
	EQ_INT(at, 2500 * MS, "any 2 s: until the previous line + 2 s");
	EQ_INT(hs_play_next(&P, 2500 * MS, &at), HS_PLAY_WAIT, "any 2 s: still waiting at the deadline");
	EQ_INT(hs_play_next(&P, 2500 * MS + 1, &at), HS_PLAY_FAILED, "any 2 s: past it: FAILED");
	EQ_INT(P.fail, HS_PLAY_F_MISSING, "any 2 s: MISSING");
	EQ_INT(P.fail_line, 1, "any 2 s: line index 1");
	EQ_INT(hs_play_exit_code(&P), 3, "any 2 s: exit 3");

	load(text, OUR_ISN, 0, 2 * S_NS);
	hs_play_done(&P, 500 * MS, NULL);
	EQ_INT(hs_play_segment(&P, &syn, 501 * MS), 2, "any: right after the previous line matches");
}

static void test_expect_deadline_missing(void)
{
	hs_segment syn = seg(HS_SYN, PEER_ISN, 0, 29200);
	uint64_t at = 0;

	load("0.100 > S 0:0(0)\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_next(&P, 104 * MS, &at), HS_PLAY_WAIT, "missing: at the window's end still waits");
	EQ_INT(at, 1104 * MS, "missing: the deadline is the window's end + HS_PLAY_LATE_GRACE_NS");
	EQ_INT(hs_play_next(&P, 104 * MS + 1, &at), HS_PLAY_WAIT, "missing: past the window: waits for a late one");
	EQ_INT(hs_play_next(&P, 1104 * MS, &at), HS_PLAY_WAIT, "missing: at the deadline still waits");
	EQ_INT(hs_play_next(&P, 1104 * MS + 1, &at), HS_PLAY_FAILED, "missing: past the deadline: FAILED");
	EQ_INT(P.fail, HS_PLAY_F_MISSING, "missing: fail MISSING");
	EQ_INT(P.fail_line, 0, "missing: line index 0");
	EQ_INT(P.fail_t_ns, 1104 * MS + 1, "missing: found at now");
	EQ_INT(hs_play_exit_code(&P), 3, "missing: exit 3");
	EQ_STR(P.why, "no segment from the peer by 0.104000 s (nor in the 1 s after)", "missing: why");
	EQ_INT(hs_play_next(&P, 200 * MS, &at), HS_PLAY_FAILED, "missing: stays FAILED");
	EQ_INT(hs_play_segment(&P, &syn, 200 * MS), 0, "missing: a late segment is not matched");
	EQ_INT(P.fail, HS_PLAY_F_MISSING, "missing: a late segment changes nothing");
	OK(!P.peer_isn_known, "missing: the peer's ISN not learnt after the end");
}

/* A segment that comes after its line's window, within HS_PLAY_LATE_GRACE_NS: LATE
 * (exit 1), not MISSING -- the peer did send it. */
static void test_expect_late_within_grace(void)
{
	hs_segment syn = seg(HS_SYN, PEER_ISN, 0, 29200);
	uint64_t at = 0;

	load("0.100 > S 0:0(0)\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_next(&P, 600 * MS, &at), HS_PLAY_WAIT, "grace: half a second late still waits");
	EQ_INT(hs_play_segment(&P, &syn, 600 * MS), 0, "grace: the late segment fails the line");
	EQ_INT(P.fail, HS_PLAY_F_LATE, "grace: LATE, not MISSING");
	EQ_INT(hs_play_exit_code(&P), 1, "grace: exit 1");
}

/* A segment captured while a command ran arrives, for the script, when it ended. */
static void test_command_segment_at_end(void)
{
	hs_segment syn = seg(HS_SYN, PEER_ISN, 0, 29200);
	uint64_t at = 0;

	load("0 `sleep 0.5`\n+0 > S 0:0(0)\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_next(&P, 0, &at), HS_PLAY_SHELL, "command: due at 0");
	hs_play_done(&P, 500 * MS, NULL);
	EQ_INT(hs_play_next(&P, 500 * MS, &at), HS_PLAY_WAIT, "command: then wait");
	EQ_INT(at, 504 * MS + HS_PLAY_LATE_GRACE_NS, "command: +0 counts from its end");
	EQ_INT(hs_play_segment(&P, &syn, 100 * MS), 2, "command: SYN captured at 0.1 matches +0 after 0.5");
	EQ_INT(P.prev_ns, 500 * MS, "command: the match counts at the command's end");

	load("0 `sleep 0.3`\n0.1 > S 0:0(0)\n", OUR_ISN, 0, 0);
	hs_play_done(&P, 300 * MS, NULL);
	EQ_INT(hs_play_segment(&P, &syn, 100 * MS), 0, "command: SYN at 0.1 during a command ending at 0.3");
	EQ_INT(P.fail, HS_PLAY_F_LATE, "command: it is LATE for a line at 0.1");
	EQ_STR(P.why, "it came at 0.100000 s, during the command before, so at its end, 0.300000 s, expected from "
	       "0.096000 to 0.104000 s", "command: why names when it came and when it counts");
}

/* ---- building "<" lines -------------------------------------------------------------- */

static void test_build_syn(void)
{
	static const uint8_t want[] = { 2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7, 0, 0 };

	load("0 < S 0:0(0) win 1000 <mss 1460,sackOK,nop,wscale 7>\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_build(&P, 0, &TX), 0, "build SYN: ok");
	EQ_INT(TX.flags, HS_SYN, "build SYN: flags");
	EQ_INT(TX.seq, OUR_ISN, "build SYN: seq 0 is our ISN");
	EQ_INT(TX.ack, 0, "build SYN: no ack");
	EQ_INT(TX.win, 1000, "build SYN: win given");
	EQ_INT(TX.opt_len, sizeof(want), "build SYN: options padded to 12");
	OK(memcmp(TX.opts, want, sizeof(want)) == 0, "build SYN: option bytes");
	OK(TX.crafted && !TX.has_ts && TX.len == 0 && TX.urp == 0, "build SYN: crafted, no data, no TS");
	EQ_INT(P.cur, 0, "build SYN: build does not move on");
	EQ_INT(P.fail, 0, "build SYN: no failure");
}

static void test_build_seq_default(void)
{
	const char *text = "0 < S 0:0(0)\n"
	                   "+0 > S. 0:0(0) ack 1\n"
	                   "+0 < . 1:1(0) ack 1\n"
	                   "+0 < P. 1:11(10) ack 1 urg 3\n"
	                   "+0 < . 1:1(0) ack 1\n" /* an old number does not move SND.NXT back */
	                   "+0 < F. ack 1\n"
	                   "+0 < . ack 1\n"
	                   "+0 < . 5:5(0) ack 1\n";
	hs_segment sa = peer_synack(OUR_ISN);

	load(text, OUR_ISN, 0, 0);
	send_line(0);
	EQ_INT(P.snd_nxt, OUR_ISN + 1, "build seq: the SYN counts 1");
	hs_play_segment(&P, &sa, 0);
	send_line(0);
	EQ_INT(TX.seq, OUR_ISN + 1, "build seq: 1 is ISN + 1");
	EQ_INT(TX.win, 65535, "build: default win 65535");
	send_line(0);
	EQ_INT(TX.len, 10, "build data: LEN 10");
	OK(TX.data && memcmp(TX.data, zeros, 10) == 0, "build data: zero bytes");
	EQ_INT(TX.urp, 3, "build data: urg");
	EQ_INT(P.snd_nxt, OUR_ISN + 11, "build seq: the payload counts");
	send_line(0);
	EQ_INT(TX.seq, OUR_ISN + 1, "build seq: an older number as given");
	EQ_INT(P.snd_nxt, OUR_ISN + 11, "build seq: SND.NXT stays at the highest");
	send_line(0);
	EQ_INT(TX.seq, OUR_ISN + 11, "build seq: FIN without SEQ takes SND.NXT");
	EQ_INT(TX.flags, HS_FIN | HS_ACK, "build seq: FIN flags");
	send_line(0);
	EQ_INT(TX.seq, OUR_ISN + 12, "build seq: the FIN counts 1");
	send_line(0);
	EQ_INT(TX.seq, OUR_ISN + 5, "build seq: explicit 5 is ISN + 5");
	EQ_INT(P.fail, 0, "build seq: no failure");
}

static void test_build_ack(void)
{
	const char *text = "0 < S 0:0(0)\n"
	                   "+0 > S. 0:0(0) ack 1\n"
	                   "+0 < . 1:1(0) ack 1\n"
	                   "+0 > P. 1:101(100) ack 1\n"
	                   "+0 < . 1:1(0)\n"
	                   "+0 < . 1:1(0) ack =77\n"
	                   "+0 < . 1:1(0) ack 7\n"
	                   "+0 < R 1:1(0)\n";
	hs_segment sa = peer_synack(OUR_ISN);
	hs_segment data = seg(HS_PSH | HS_ACK, PEER_ISN + 1, OUR_ISN + 1, 502);

	seg_data(&data, 100);
	load(text, OUR_ISN, 0, 0);
	send_line(0);
	EQ_INT(hs_play_segment(&P, &sa, 0), 2, "build ack: SYN,ACK matched");
	EQ_INT(send_line(0), 0, "build ack 1: ok");
	EQ_INT(TX.ack, PEER_ISN + 1, "build ack 1: the peer's ISN + 1");
	EQ_INT(hs_play_segment(&P, &data, 0), 4, "build ack: 100 bytes matched");
	EQ_INT(P.rcv_nxt, 55, "build ack: RCV.NXT wrapped past 2^32");
	EQ_INT(send_line(0), 0, "build ack default: ok");
	EQ_INT(TX.ack, 55, "build ack default: what the peer sent so far (wrapped)");
	EQ_INT(send_line(0), 0, "build ack =77: ok");
	EQ_INT(TX.ack, 77, "build ack =77: absolute");
	EQ_INT(send_line(0), 0, "build ack 7: ok");
	EQ_INT(TX.ack, (uint32_t)(PEER_ISN + 7), "build ack 7: relative to the peer's ISN");
	EQ_INT(send_line(0), 0, "build RST: ok");
	EQ_INT(TX.ack, 0, "build RST without ACK: ack 0");
	EQ_INT(P.fail, 0, "build ack: no failure");
}

/* The peer's RST does not advance what a "<" line's default ack acknowledges. */
static void test_build_ack_after_rst(void)
{
	hs_segment rst = seg(HS_RST | HS_ACK, 5, OUR_ISN + 1, 0);

	load("0 < S 0:0(0)\n+0 > R. * ack 1\n+0 < . 1:1(0)\n+0 < . 1:1(0) ack =9\n", OUR_ISN, 0, 0);
	send_line(0);
	EQ_INT(hs_play_segment(&P, &rst, 0), 2, "after RST: the RST matched");
	OK(!P.rcv_known && !P.peer_isn_known, "after RST: nothing received to acknowledge, no ISN");
	EQ_INT(hs_play_build(&P, 0, &TX), -1, "after RST: ACK without ack refused");
	EQ_INT(P.fail, HS_PLAY_F_BUILD, "after RST: BUILD");
}

static void test_build_failures(void)
{
	load("0 < S 0:0(0)\n+0 < . 1:1(0) ack 1\n", OUR_ISN, 0, 0);
	send_line(0);
	EQ_INT(hs_play_build(&P, 5 * MS, &TX), -1, "build ack 1 before the peer's SYN: refused");
	EQ_INT(P.fail, HS_PLAY_F_BUILD, "build ack 1 early: BUILD");
	EQ_INT(P.fail_line, 1, "build ack 1 early: line index 1");
	EQ_INT(P.fail_t_ns, 5 * MS, "build ack 1 early: at now");
	EQ_INT(hs_play_exit_code(&P), 2, "build ack 1 early: exit 2");
	OK(strncmp(P.why, "ack 1 is relative to the peer's ISN", 35) == 0, "build ack 1 early: why");
	uint64_t at;
	EQ_INT(hs_play_next(&P, 5 * MS, &at), HS_PLAY_FAILED, "build failure: next says FAILED");

	load("0 < S 0:0(0)\n+0 < . 1:1(0)\n", OUR_ISN, 0, 0);
	send_line(0);
	EQ_INT(hs_play_build(&P, 0, &TX), -1, "build ACK without ack, nothing from the peer: refused");
	EQ_INT(hs_play_exit_code(&P), 2, "build ACK without ack: exit 2");
	OK(strncmp(P.why, "the segment has ACK but no ack number", 37) == 0, "build ACK without ack: why");

	load("0 < S 0:0(0)\n+0 < . 1:1(0) ack =77\n", OUR_ISN, 0, 0);
	send_line(0);
	EQ_INT(hs_play_build(&P, 0, &TX), 0, "build ack =77 before the peer's SYN: ok");
	EQ_INT(TX.ack, 77, "build ack =77: as given");

	load("0 > S 0:0(0)\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_build(&P, 0, &TX), -1, "build on a \">\" line: refused");
	EQ_STR(P.why, "no segment to send here", "build on a \">\" line: why");

	load("0 < S 0:0(0)\n", OUR_ISN, 0, 0);
	S.line[0].spec.have_len = true;
	S.line[0].spec.len = HS_CRAFT_MAX_PAYLOAD + 1;
	EQ_INT(hs_play_build(&P, 0, &TX), -1, "build a payload over the maximum: refused");
	EQ_STR(P.why, "a payload of 65496 bytes is more than 65495", "build a payload over the maximum: why");
}

static void test_build_ts(void)
{
	const char *text = "0 < S 0:0(0) <mss 1460,ts>\n"
	                   "+0 > S. 0:0(0) ack 1 <...>\n"
	                   "+0.05 < . 1:1(0) ack 1 <nop,nop,ts>\n";
	/* TS val 777, ecr 4294967290 (0xfffffffa) */
	static const uint8_t o[] = { 2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 3, 9, 0xff, 0xff, 0xff, 0xfa };
	hs_segment sa = peer_synack(OUR_ISN);
	hs_tcp_opts d;
	const char *e;

	seg_opts(&sa, o, sizeof(o));
	load(text, OUR_ISN, 0xffffff00u, 0);
	EQ_INT(send_line(250 * MS), 0, "build ts: SYN built at 0.250");
	memset(&d, 0, sizeof(d));
	OK(hs_opts_decode(TX.opts, TX.opt_len, &d, &e) == 0 && (d.has & HS_HAS_TS), "build ts: a TS option");
	EQ_INT(d.ts_val, 0xffffff00u + 250, "build ts: TSval = ts_base + 250 ms");
	EQ_INT(d.ts_ecr, 0, "build ts: TSecr 0 before the peer's TSval");
	OK(TX.has_ts && TX.tsval == 0xffffff00u + 250, "build ts: tx says its TSval");
	EQ_INT(hs_play_segment(&P, &sa, 250 * MS), 2, "build ts: the peer's SYN,ACK with TS");
	EQ_INT(send_line(300 * MS), 0, "build ts: ACK built at 0.300");
	memset(&d, 0, sizeof(d));
	OK(hs_opts_decode(TX.opts, TX.opt_len, &d, &e) == 0 && (d.has & HS_HAS_TS), "build ts: ACK has TS");
	EQ_INT(d.ts_val, 44, "build ts: TSval wraps past 2^32");
	EQ_INT(d.ts_ecr, 777, "build ts: TSecr echoes the peer's TSval");
	EQ_INT(TX.opt_len, 12, "build ts: nop,nop,ts is 12 bytes");
	EQ_INT(TX.opts[0], HS_OPTK_NOP, "build ts: nop first");
}

static void test_build_sack(void)
{
	const char *text = "0 < S 0:0(0)\n"
	                   "+0 > S. 0:0(0) ack 1\n"
	                   "+0 < . 1:1(0) ack 1 <nop,nop,sack 101:201 301:401>\n"
	                   "+0 < . 1:1(0) ack 1 <nop,nop,sack 1:46>\n";
	hs_segment sa = peer_synack(OUR_ISN);
	hs_tcp_opts d;
	const char *e;

	load(text, OUR_ISN, 0, 0);
	send_line(0);
	hs_play_segment(&P, &sa, 0);
	EQ_INT(send_line(0), 0, "build sack: ok");
	memset(&d, 0, sizeof(d));
	OK(hs_opts_decode(TX.opts, TX.opt_len, &d, &e) == 0 && (d.has & HS_HAS_SACK) && d.nsack == 2,
	   "build sack: two blocks");
	EQ_INT(d.sack[0].left, 55, "build sack: 101 is the peer's ISN + 101 (wrapped)");
	EQ_INT(d.sack[0].right, 155, "build sack: 201");
	EQ_INT(d.sack[1].left, 255, "build sack: 301");
	EQ_INT(d.sack[1].right, 355, "build sack: 401");
	EQ_INT(send_line(0), 0, "build sack at the wrap: ok");
	memset(&d, 0, sizeof(d));
	OK(hs_opts_decode(TX.opts, TX.opt_len, &d, &e) == 0 && d.nsack == 1, "build sack at the wrap: one block");
	EQ_INT(d.sack[0].left, PEER_ISN + 1, "build sack at the wrap: 1 below 2^32");
	EQ_INT(d.sack[0].right, 0, "build sack at the wrap: 46 is 0 on the wire");
	/* the script's own spec is not shifted by building twice */
	EQ_INT(S.line[3].spec.opts.item[2].kind, HS_OPTK_SACK, "build sack: spec item is SACK");
}

static void test_build_our_isn_wrap(void)
{
	const char *text = "0 < S 0:0(0)\n+0 > S. 0:0(0) ack 1\n+0 < P. 1:11(10) ack 1\n+0 < F. ack 1\n";
	hs_segment sa = peer_synack(0xffffffffu);

	load(text, 0xffffffffu, 0, 0);
	send_line(0);
	EQ_INT(TX.seq, 0xffffffffu, "wrap: SYN at ISN 2^32-1");
	EQ_INT(P.snd_nxt, 0, "wrap: SND.NXT wraps to 0");
	EQ_INT(hs_play_segment(&P, &sa, 0), 2, "wrap: SYN,ACK ack 0 on the wire is ack 1");
	send_line(0);
	EQ_INT(TX.seq, 0, "wrap: 1 is 0 on the wire");
	send_line(0);
	EQ_INT(TX.seq, 10, "wrap: FIN after 10 bytes at 10");
	EQ_INT(P.snd_nxt, 11, "wrap: SND.NXT 11");
}

/* ---- matching ">" lines -------------------------------------------------------------- */

static void test_client_learns_isn(void)
{
	hs_segment sa = peer_synack(OUR_ISN);
	uint64_t at = 0;

	load("// client\n0 < S 0:0(0)\n\n+0 > S. 0:0(0) ack 1 win 65160\n", OUR_ISN, 0, 0);
	send_line(0);
	OK(!P.peer_isn_known, "client: the peer's ISN unknown before its SYN,ACK");
	EQ_INT(hs_play_segment(&P, &sa, 1 * MS), 4, "client: SYN,ACK matched, file line 4");
	OK(P.peer_isn_known && P.peer_isn == PEER_ISN, "client: the peer's ISN learnt from its SYN,ACK");
	OK(P.rcv_known && P.rcv_nxt == PEER_ISN + 1, "client: RCV.NXT after the SYN");
	EQ_INT(P.cur, 2, "client: moved on");
	EQ_INT(P.prev_ns, 1 * MS, "client: previous time is the arrival");
	EQ_INT(hs_play_next(&P, 1 * MS, &at), HS_PLAY_DONE, "client: done");
}

static void test_server_learns_isn(void)
{
	const char *text = "0 > S 0:0(0) win 29200 <mss 1460>\n+0 < S. 0:0(0) ack 1 <mss 1400>\n+0 > . 1:1(0) ack 1\n";
	static const uint8_t mss[] = { 2, 4, 0x05, 0xb4 };
	hs_segment syn = seg(HS_SYN, PEER_ISN, 0, 29200), ack = seg(HS_ACK, PEER_ISN + 1, OUR_ISN + 1, 502);

	seg_opts(&syn, mss, sizeof(mss));
	load(text, OUR_ISN, 0, 0);
	EQ_INT(hs_play_segment(&P, &syn, 0), 1, "server: SYN matched line 1");
	OK(P.peer_isn_known && P.peer_isn == PEER_ISN, "server: the peer's ISN learnt from its SYN");
	EQ_INT(send_line(0), 0, "server: SYN,ACK built");
	OK(TX.flags == (HS_SYN | HS_ACK) && TX.seq == OUR_ISN && TX.ack == PEER_ISN + 1, "server: SYN,ACK numbers");
	EQ_INT(hs_play_segment(&P, &ack, 0), 3, "server: ACK matched line 3");
	EQ_INT(hs_play_exit_code(&P), 0, "server: exit 0");
}

static const char *mm_text = "0 < S 0:0(0)\n"
                             "+0 > S. 0:0(0) ack 1 win 65160\n"
                             "+0 < . 1:1(0) ack 1\n"
                             "+0 > P. 1:11(10) ack 1 win 502 <nop,nop,TS val 5 ecr 6>\n";
static const uint8_t mm_ts[] = { 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6 };

static hs_segment mm_data(void)
{
	hs_segment g = seg(HS_PSH | HS_ACK, PEER_ISN + 1, OUR_ISN + 1, 502);

	seg_data(&g, 10);
	seg_opts(&g, mm_ts, sizeof(mm_ts));
	return g;
}

/* Play mm_text to its line 4. */
static void mm_start(void)
{
	hs_segment sa = peer_synack(OUR_ISN);

	load(mm_text, OUR_ISN, 0, 0);
	send_line(0);
	hs_play_segment(&P, &sa, 0);
	send_line(0);
}

static void test_mismatch(void)
{
	static const struct {
		const char *field;
		const char *why;
	} c[] = {
		{ "flags", "flags P. expected, got ." },
		{ "seq", "seq 1 expected, got 2" },
		{ "length", "length 10 expected, got 9" },
		{ "ack", "ack 1 expected, got 5" },
		{ "win", "win 502 expected, got 501" },
		{ "options", "options <nop,nop,ts 5 6> expected, got <nop,nop,ts 6 6>" },
	};
	char what[100];

	mm_start();
	hs_segment g = mm_data();
	EQ_INT(hs_play_segment(&P, &g, 0), 4, "mismatch: the unchanged segment matches");
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		mm_start();
		g = mm_data();
		switch (i) {
		case 0: g.flags = HS_ACK; break;
		case 1: g.seq++; break;
		case 2: g.len = 9; break;
		case 3: g.ack = OUR_ISN + 5; break;
		case 4: g.win = 501; break;
		default: {
			uint8_t o[sizeof(mm_ts)];
			memcpy(o, mm_ts, sizeof(o));
			o[7] = 6;
			seg_opts(&g, o, sizeof(o));
		}
		}
		unsigned r = hs_play_segment(&P, &g, 0);
		snprintf(what, sizeof(what), "mismatch %s: returns 0, MISMATCH at index 3, exit 1", c[i].field);
		OK(r == 0 && P.fail == HS_PLAY_F_MISMATCH && P.fail_line == 3 && hs_play_exit_code(&P) == 1 &&
		   P.cur == 3, what);
		snprintf(what, sizeof(what), "mismatch %s: why", c[i].field);
		EQ_STR(P.why, c[i].why, what);
	}
	/* on the SYN,ACK itself: the ISN is learnt before matching, the window differs */
	load(mm_text, OUR_ISN, 0, 0);
	send_line(0);
	hs_segment sa = peer_synack(OUR_ISN);
	sa.win = 1;
	EQ_INT(hs_play_segment(&P, &sa, 0), 0, "mismatch SYN,ACK: 0");
	OK(P.fail == HS_PLAY_F_MISMATCH && P.fail_line == 1, "mismatch SYN,ACK: index 1");
	EQ_STR(P.why, "win 65160 expected, got 1", "mismatch SYN,ACK: why (seq not at fault)");
}

static void test_unexpected(void)
{
	uint64_t at = 0;
	hs_segment sa = peer_synack(OUR_ISN);
	hs_segment rst = seg(HS_RST, 5, 0, 0);

	load("0 < S 0:0(0)\n+0 > S. 0:0(0) ack 1\n+0 < . 1:1(0) ack 1\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_segment(&P, &rst, 0), 0, "unexpected before our SYN: 0");
	EQ_INT(P.fail, HS_PLAY_F_UNEXPECTED, "unexpected before our SYN: UNEXPECTED");
	EQ_INT(P.fail_line, 0, "unexpected before our SYN: index 0");
	EQ_STR(P.why, "the peer sent a segment where the script has a segment of hs's to send",
	       "unexpected before a \"<\" line: why");
	EQ_INT(hs_play_exit_code(&P), 1, "unexpected: exit 1");
	EQ_INT(hs_play_next(&P, 0, &at), HS_PLAY_FAILED, "unexpected: next FAILED");

	load("0 < S 0:0(0)\n+0 > S. 0:0(0) ack 1\n+0.1 < . 1:1(0) ack 1\n", OUR_ISN, 0, 0);
	send_line(0);
	EQ_INT(hs_play_segment(&P, &sa, 1 * MS), 2, "retransmission: the first SYN,ACK matches");
	EQ_INT(hs_play_next(&P, 20 * MS, &at), HS_PLAY_SLEEP, "retransmission: sleeping until our ACK");
	EQ_INT(hs_play_segment(&P, &sa, 20 * MS), 0, "retransmission: a second SYN,ACK while sleeping");
	OK(P.fail == HS_PLAY_F_UNEXPECTED && P.fail_line == 2, "retransmission: UNEXPECTED at index 2");

	load("0 `true`\n+0 > S 0:0(0)\n", OUR_ISN, 0, 0);
	hs_segment syn = seg(HS_SYN, PEER_ISN, 0, 29200);
	EQ_INT(hs_play_segment(&P, &syn, 0), 0, "unexpected while a command is next: 0");
	EQ_INT(P.fail, HS_PLAY_F_UNEXPECTED, "unexpected before a command: UNEXPECTED");
	EQ_STR(P.why, "the peer sent a segment where the script has a command to run",
	       "unexpected before a command: why");
}

static void test_after_end_ignored(void)
{
	hs_segment syn = seg(HS_SYN, PEER_ISN, 0, 29200);
	hs_segment data = seg(HS_ACK, PEER_ISN + 1, OUR_ISN + 1, 502);
	uint64_t at = 0;

	seg_data(&data, 50);
	load("0 > S 0:0(0)\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_segment(&P, &syn, 0), 1, "after the end: last line matched");
	EQ_INT(hs_play_segment(&P, &data, 1 * MS), 0, "after the end: a segment returns 0");
	EQ_INT(P.fail, HS_PLAY_F_OK, "after the end: no failure");
	EQ_INT(P.rcv_nxt, PEER_ISN + 1, "after the end: nothing learnt");
	EQ_INT(hs_play_next(&P, 1 * MS, &at), HS_PLAY_DONE, "after the end: still DONE");
	EQ_INT(hs_play_exit_code(&P), 0, "after the end: exit 0");
	hs_play_shell_failed(&P, 2 * MS, "late");
	EQ_INT(P.fail, HS_PLAY_F_OK, "after the end: a late command failure changes nothing");
}

static void test_shell_failed(void)
{
	uint64_t at = 0;

	load("0 `false`\n+0 > S 0:0(0)\n", OUR_ISN, 0, 0);
	EQ_INT(hs_play_next(&P, 0, &at), HS_PLAY_SHELL, "shell: due");
	hs_play_shell_failed(&P, 20 * MS, "exited with status 1");
	EQ_INT(P.fail, HS_PLAY_F_SHELL, "shell: SHELL");
	EQ_INT(P.fail_line, 0, "shell: index 0");
	EQ_INT(P.fail_t_ns, 20 * MS, "shell: at its end");
	EQ_STR(P.why, "exited with status 1", "shell: why as given");
	EQ_INT(hs_play_exit_code(&P), 1, "shell: exit 1");
	EQ_INT(hs_play_next(&P, 20 * MS, &at), HS_PLAY_FAILED, "shell: next FAILED");
	hs_play_done(&P, 20 * MS, NULL);
	EQ_INT(P.cur, 0, "shell: done after the failure does not move on");
}

/* A ">" line's SACK blocks are relative to our ISN (they acknowledge our data). */
static void test_expect_sack(void)
{
	const uint32_t isn = 0xffffff9cu; /* our byte 101 is 1 on the wire */
	const char *fmt = "0 < S 0:0(0)\n+0 > S. 0:0(0) ack 1\n+0 < P. 1:201(200) ack 1\n"
	                  "+0 > . 1:1(0) ack 1 <nop,nop,sack %s>\n";
	static const uint8_t o[] = { 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 101 };
	char text[300];
	hs_segment sa = peer_synack(isn), g = seg(HS_ACK, PEER_ISN + 1, isn + 1, 502);

	seg_opts(&g, o, sizeof(o));
	for (int run = 0; run < 2; run++) {
		snprintf(text, sizeof(text), fmt, run ? "100:201" : "101:201");
		load(text, isn, 0, 0);
		send_line(0);
		hs_play_segment(&P, &sa, 0);
		send_line(0);
		unsigned r = hs_play_segment(&P, &g, 0);
		if (!run) {
			EQ_INT(r, 4, "expect sack 101:201: matches blocks absolute 1:101");
		} else {
			OK(r == 0 && P.fail == HS_PLAY_F_MISMATCH, "expect sack 100:201: mismatch");
			EQ_STR(P.why, "options <nop,nop,sack 100-201> expected, got <nop,nop,sack 101-201>",
			       "expect sack: why in relative numbers");
		}
	}
	OK(memcmp(g.opts.raw, o, sizeof(o)) == 0, "expect sack: the caller's segment is left alone");
}

/* ---- the failure block --------------------------------------------------------------- */

static void test_failure_format(void)
{
	char buf[1024];
	uint64_t at;
	hs_segment g;

	/* MISMATCH, with the actual segment in relative numbers */
	mm_start();
	g = mm_data();
	g.flags = HS_ACK;
	hs_play_segment(&P, &g, 1234567 * 1000ull);
	EQ_STR(hs_play_failure_format(&P, "t.pkt", &g, buf, sizeof(buf)),
	       "t.pkt:4: the peer's segment does not match\n"
	       "  expected: P. 1:11(10) ack 1 win 502 <nop,nop,TS val 5 ecr 6>\n"
	       "  actual:   . 1:11(10) ack 1 win 502 <nop,nop,TS val 5 ecr 6>\n"
	       "  why:      flags P. expected, got .\n"
	       "  at:       1.234567 s\n",
	       "format MISMATCH: whole block");

	/* EARLY / LATE */
	unsigned r;
	syn_at("0.100 > S 0:0(0)\n", 50 * MS, &r);
	g = seg(HS_SYN, PEER_ISN, 0, 29200);
	hs_play_failure_format(&P, "t.pkt", &g, buf, sizeof(buf));
	EQ_STR(buf,
	       "t.pkt:1: the peer's segment came too early\n"
	       "  expected: S 0:0(0)\n"
	       "  actual:   S 0:0(0) win 29200\n"
	       "  why:      it came at 0.050000 s, expected from 0.096000 to 0.104000 s\n"
	       "  at:       0.050000 s\n",
	       "format EARLY: whole block");
	syn_at("0.100 > S 0:0(0)\n", 2 * S_NS, &r);
	hs_play_failure_format(&P, "t.pkt", &g, buf, sizeof(buf));
	OK(strncmp(buf, "t.pkt:1: the peer's segment came too late\n", 42) == 0, "format LATE: first line");

	/* UNEXPECTED before a "<" line */
	load("0 < S 0:0(0)\n+0 > S. 0:0(0) ack 1\n+0.1 < . 1:1(0) ack 1 // ours\n", OUR_ISN, 0, 0);
	send_line(0);
	g = peer_synack(OUR_ISN);
	hs_play_segment(&P, &g, 0);
	hs_play_segment(&P, &g, 30 * MS);
	EQ_STR(hs_play_failure_format(&P, "t.pkt", &g, buf, sizeof(buf)),
	       "t.pkt:3: the peer sent a segment the script does not expect\n"
	       "  next:     . 1:1(0) ack 1\n"
	       "  actual:   S. 0:0(0) ack 1 win 65160\n"
	       "  why:      the peer sent a segment where the script has a segment of hs's to send\n"
	       "  at:       0.030000 s\n",
	       "format UNEXPECTED: whole block, line as written without its comment");

	/* MISSING: no actual line */
	load("0.100 > S 0:0(0)\n", OUR_ISN, 0, 0);
	hs_play_next(&P, 1104 * MS + 1000, &at);
	EQ_STR(hs_play_failure_format(&P, "t.pkt", NULL, buf, sizeof(buf)),
	       "t.pkt:1: the peer did not send the segment\n"
	       "  expected: S 0:0(0)\n"
	       "  why:      no segment from the peer by 0.104000 s (nor in the 1 s after)\n"
	       "  at:       1.104001 s\n",
	       "format MISSING: whole block");

	/* SHELL */
	load("0 < S 0:0(0)\n+0 `exit 2`\n", OUR_ISN, 0, 0);
	send_line(0);
	hs_play_shell_failed(&P, 7 * MS, "exited with status 2");
	EQ_STR(hs_play_failure_format(&P, NULL, NULL, buf, sizeof(buf)),
	       "-:2: the command failed\n"
	       "  command:  exit 2\n"
	       "  why:      exited with status 2\n"
	       "  at:       0.007000 s\n",
	       "format SHELL: whole block, no file name: -");

	/* BUILD */
	load("0 < S 0:0(0)\n+0 < . 1:1(0) ack 1\n", OUR_ISN, 0, 0);
	send_line(0);
	hs_play_build(&P, 0, &TX);
	hs_play_failure_format(&P, "t.pkt", NULL, buf, sizeof(buf));
	EQ_STR(buf,
	       "t.pkt:2: cannot send this segment\n"
	       "  next:     . 1:1(0) ack 1\n"
	       "  why:      ack 1 is relative to the peer's ISN, which no SYN from the peer has shown yet "
	       "(write ack =N for a number as it goes on the wire)\n"
	       "  at:       0.000000 s\n",
	       "format BUILD: whole block, \"next:\" for a \"<\" line");

	/* cut, empty, no failure */
	char small[16];
	hs_play_failure_format(&P, "t.pkt", NULL, small, sizeof(small));
	EQ_STR(small, "t.pkt:2: cannot", "format: cut to the buffer, NUL-terminated");
	small[0] = 'X';
	hs_play_failure_format(&P, "t.pkt", NULL, small, 0);
	EQ_INT(small[0], 'X', "format: len 0 writes nothing");
	load("0 < S 0:0(0)\n", OUR_ISN, 0, 0);
	EQ_STR(hs_play_failure_format(&P, "t.pkt", NULL, buf, sizeof(buf)), "", "format: no failure: empty");
}

/* ---- hs_sack_shift -------------------------------------------------------------------- */

/* Shift a heap copy of exactly n bytes (so ASan sees a read past the end), compare. */
static bool shifted(const uint8_t *in, size_t n, uint32_t delta, const uint8_t *want)
{
	uint8_t *b = malloc(n ? n : 1);
	bool eq;

	if (!b)
		return false;
	if (n)
		memcpy(b, in, n);
	hs_sack_shift(b, n, delta);
	eq = n == 0 || memcmp(b, want, n) == 0;
	free(b);
	return eq;
}

static void test_sack_shift(void)
{
	static const uint8_t two[] = { 1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	static const uint8_t two_s[] = { 1, 1, 5, 18, 0, 0, 0, 11, 0, 0, 0, 12, 0, 0, 0, 9, 0, 0, 0, 10 };
	static const uint8_t ts_sack[] = { 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	static const uint8_t ts_sack_s[] = { 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 1, 1, 0, 0, 1, 2 };
	static const uint8_t eol[] = { 0, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2 };

	OK(shifted(two, sizeof(two), 10, two_s), "sack shift: two blocks, both edges, across 2^32");
	OK(shifted(ts_sack, sizeof(ts_sack), 256, ts_sack_s), "sack shift: TS values left alone");
	OK(shifted(two_s, sizeof(two_s), 0u - 10u, two), "sack shift: and back");
	OK(shifted(eol, sizeof(eol), 7, eol), "sack shift: nothing after EOL");

	/* malformed: each left as it is, nothing read past n */
	static const struct {
		uint8_t b[12];
		size_t n;
		const char *what;
	} bad[] = {
		{ { 5 }, 1, "sack shift: a kind byte alone at the end" },
		{ { 1, 1, 5 }, 3, "sack shift: a kind after NOPs at the end" },
		{ { 5, 10, 0, 0, 0, 1 }, 6, "sack shift: length past the end" },
		{ { 5, 0, 0, 0, 0, 1, 0, 0, 0, 2 }, 10, "sack shift: length 0 (no endless loop)" },
		{ { 5, 1, 0, 0, 0, 1, 0, 0, 0, 2 }, 10, "sack shift: length 1" },
		{ { 5, 2, 5, 3, 0, 0 }, 6, "sack shift: empty SACK, then one of length 3" },
		{ { 2, 4, 5, 180, 5, 255 }, 6, "sack shift: MSS then a length of 255" },
		{ { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 12, "sack shift: NOPs only" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		OK(shifted(bad[i].b, bad[i].n, 0x01010101u, bad[i].b), bad[i].what);
	OK(shifted(NULL, 0, 5, NULL), "sack shift: no bytes");
	/* a SACK whose length is 2 + 4: one edge only, shifted, the byte after it untouched */
	static const uint8_t half[] = { 5, 6, 0, 0, 0, 1, 9 };
	static const uint8_t half_s[] = { 5, 6, 0, 0, 0, 3, 9 };
	OK(shifted(half, 7, 2, half_s), "sack shift: a half block, the next byte untouched");
}

int main(void)
{
	test_abs_send_due();
	test_rel_send_late_shifts_next();
	test_expect_abs_window();
	test_expect_rel_after_actual();
	test_expect_range();
	test_any_wait();
	test_expect_deadline_missing();
	test_expect_late_within_grace();
	test_command_segment_at_end();
	test_build_syn();
	test_build_seq_default();
	test_build_ack();
	test_build_ack_after_rst();
	test_build_failures();
	test_build_ts();
	test_build_sack();
	test_build_our_isn_wrap();
	test_client_learns_isn();
	test_server_learns_isn();
	test_mismatch();
	test_unexpected();
	test_after_end_ignored();
	test_shell_failed();
	test_expect_sack();
	test_failure_format();
	test_sack_shift();
	hs_script_free(&S);
	return tap_done();
}
