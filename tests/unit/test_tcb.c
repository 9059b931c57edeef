/* The TCP control block, driven by hand-built segments from the peer: every
 * transition, every field of every segment it sends, and the peer's inferred state. */
#include <config.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/seq.h"
#include "hs/state.h"
#include "hs/tcb.h"
#include "tap.h"
#include "tcb_fixture.h"


static const hs_state S_CLOSED = HS_CLOSED, S_LISTEN = HS_LISTEN, S_SS = HS_SYN_SENT,
	S_SR = HS_SYN_RECEIVED, S_EST = HS_ESTABLISHED, S_FW1 = HS_FIN_WAIT_1,
	S_FW2 = HS_FIN_WAIT_2, S_CW = HS_CLOSE_WAIT, S_CLOSING = HS_CLOSING,
	S_LA = HS_LAST_ACK, S_TW = HS_TIME_WAIT;

static void tcb_timer(hs_tcb *t, uint64_t now, hs_tcb_out *o)
{
	hs_tcb_timer(t, now, o);
	hs_tcb_sent_all(t, now, o);
}
static void tcb_icmp(hs_tcb *t, const hs_icmp_error *e, uint64_t now, hs_tcb_out *o)
{
	hs_tcb_icmp(t, e, now, o);
	hs_tcb_sent_all(t, now, o);
}
static int tcb_send(hs_tcb *t, const uint8_t *d, uint32_t n, uint64_t now, hs_tcb_out *o)
{
	int rc = hs_tcb_send(t, d, n, now, o);
	hs_tcb_sent_all(t, now, o);
	return rc;
}
static int tcb_close(hs_tcb *t, uint64_t now, hs_tcb_out *o)
{
	int rc = hs_tcb_close(t, now, o);
	hs_tcb_sent_all(t, now, o);
	return rc;
}
static void tcb_abort(hs_tcb *t, bool ack, uint64_t now, hs_tcb_out *o)
{
	hs_tcb_abort(t, ack, now, o);
	hs_tcb_sent_all(t, now, o);
}
static void tcb_probe(hs_tcb *t, bool keepalive, uint64_t now, hs_tcb_out *o)
{
	hs_tcb_probe(t, keepalive, now, o);
	hs_tcb_sent_all(t, now, o);
}






static void with_data(hs_segment *s, const char *text)
{
	s->payload = (const uint8_t *)text;
	s->len = strlen(text);
}

/* ---- checking helpers ------------------------------------------------------------- */




static void check_tx(const hs_tcb_out *o, int i, uint8_t flags, uint32_t seq, uint32_t ack,
                     uint16_t win, uint32_t len, const char *ctx)
{
	if (i >= o->ntx) {
		OK(0, what(ctx, "segment present"));
		printf("#   only %d segments\n", o->ntx);
		return;
	}
	const hs_tx *x = &o->tx[i];
	char flagbuf[64], wantbuf[64];
	EQ_STR(flag_names(x->flags, flagbuf), flag_names(flags, wantbuf), what(ctx, "flags"));
	EQ_INT(x->seq, seq, what(ctx, "seq"));
	EQ_INT(x->ack, ack, what(ctx, "ack"));
	EQ_INT(x->win, win, what(ctx, "win"));
	EQ_INT(x->len, len, what(ctx, "len"));
}





/* ---- fixtures ------------------------------------------------------------------- */


/* Active open with no TS, no wscale: the peer offers only MSS, window win. */
static void est_plain(hs_tcb *t, hs_tcb_out *o, uint16_t mss, uint16_t win)
{
	hs_tcb_config c = cfg_base();
	tcb_connect(t, &c, 0, o);
	hs_segment s = pseg(t, HS_SYN | HS_ACK, IRS, ISS + 1, win);
	with_syn_opts(&s, mss, false, false, -1);
	tcb_input(t, &s, 1 * MS, o);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_names(void)
{
	static const char *const names[] = { "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED",
		"ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT" };
	for (int i = 0; i < HS_STATE_COUNT; i++) {
		EQ_STR(hs_state_name((hs_state)i), names[i], "state name");
		EQ_INT(hs_state_parse(names[i]), i, "state parse round trip");
	}
	EQ_STR(hs_state_name((hs_state)99), "?", "state name out of range");
	EQ_INT(hs_state_parse("ESTABLISHED "), -1, "parse is exact");
	EQ_INT(hs_state_parse("established"), -1, "parse is case-sensitive");
	EQ_INT(hs_state_parse("SYN_SENT"), -1, "underscore spelling rejected");
	EQ_INT(hs_state_parse(NULL), -1, "parse NULL");

	EQ_STR(hs_note_name(HS_NOTE_NONE), "", "note none");
	EQ_STR(hs_note_name(HS_NOTE_RETRANSMISSION), "retransmission", "note retransmission");
	EQ_STR(hs_note_name(HS_NOTE_DUPLICATE), "duplicate", "note duplicate");
	EQ_STR(hs_note_name(HS_NOTE_OUT_OF_WINDOW), "out-of-window", "note out-of-window");
	EQ_STR(hs_note_name(HS_NOTE_OUT_OF_ORDER), "out-of-order", "note out-of-order");
	EQ_STR(hs_note_name(HS_NOTE_PARTIAL), "partial", "note partial");
	EQ_STR(hs_note_name(HS_NOTE_CHALLENGE_ACK), "challenge-ack", "note challenge-ack");
	EQ_STR(hs_note_name(HS_NOTE_DUP_ACK), "dup-ack", "note dup-ack");
	EQ_STR(hs_note_name(HS_NOTE_UNACCEPTABLE), "unacceptable", "note unacceptable");
	EQ_STR(hs_note_name(HS_NOTE_KEEPALIVE), "keepalive", "note keepalive");
	EQ_STR(hs_note_name(HS_NOTE_WINDOW_UPDATE), "window-update", "note window-update");
	EQ_STR(hs_note_name(HS_NOTE_ZERO_WINDOW), "zero-window", "note zero-window");
	EQ_STR(hs_note_name(HS_NOTE_COUNT), "?", "note out of range");

	EQ_STR(hs_result_name(HS_RES_NONE), "", "result none");
	EQ_STR(hs_result_name(HS_RES_CLOSED), "closed", "result closed");
	EQ_STR(hs_result_name(HS_RES_REFUSED), "refused", "result refused");
	EQ_STR(hs_result_name(HS_RES_RESET), "reset", "result reset");
	EQ_STR(hs_result_name(HS_RES_ABORTED), "aborted", "result aborted");
	EQ_STR(hs_result_name(HS_RES_TIMEOUT), "timeout", "result timeout");
	EQ_STR(hs_result_name(HS_RES_UNREACHABLE), "unreachable", "result unreachable");
	EQ_STR(hs_result_name(HS_RES_COUNT), "?", "result out of range");
}

static void test_config_default(void)
{
	hs_tcb_config c;

	memset(&c, 0xab, sizeof(c));
	hs_tcb_config_default(&c);
	EQ_INT(c.window, 64240, "default window");
	EQ_INT(c.max_retries, 3, "default retries");
	EQ_INT(c.rto_ns, SEC, "default RTO 1 s");
	EQ_INT(c.time_wait_ns, SEC, "default TIME-WAIT 1 s");
	EQ_INT(c.syn_opts.n, 5, "default SYN options: 5 items");
	EQ_INT(c.local.addr.family, 0, "default local unset");
}

static void test_active_open(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	memset(&o, 0xab, sizeof(o));
	tcb_connect(&t, &c, 0, &o);
	EQ_INT(t.state, S_SS, "connect: SYN-SENT");
	EQ_INT(t.peer_state, S_CLOSED, "connect: peer CLOSED (not yet known to listen)");
	EQ_INT(o.ntx, 1, "connect: one segment");
	check_tx(&o, 0, HS_SYN, ISS, 0, 64240, 0, "connect SYN");
	uint8_t syn[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
	put32(syn + 8, TSC);
	check_opts(&o.tx[0], syn, sizeof(syn), "connect SYN");
	EQ_INT(o.tx[0].note, HS_NOTE_NONE, "connect: no note");
	EQ_INT(o.nchange, 1, "connect: one change");
	check_change(&o, 0, false, S_CLOSED, S_SS, "SYN sent", "connect");
	EQ_INT(o.result, HS_RES_NONE, "connect: no result");
	EQ_INT(hs_tcb_deadline(&t), 1 * SEC, "connect: RTO timer 1 s");
	EQ_INT(t.snd_una, ISS, "snd_una = iss");
	EQ_INT(t.snd_nxt, ISS + 1, "snd_nxt = iss + 1");
	OK(!hs_tcb_all_acked(&t), "SYN not acked yet");

	/* The SYN,ACK at 5 ms: MSS 1400, SACK, TS 777, wscale 8, window 65160. */
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 65160);
	with_syn_opts(&s, 1400, true, true, 8);
	s.opts.ts_val = 777;
	s.opts.ts_ecr = TSC;
	tcb_input(&t, &s, 5 * MS, &o);
	EQ_INT(t.state, S_EST, "SYN,ACK: ESTABLISHED");
	EQ_INT(t.peer_state, S_EST, "SYN,ACK: peer ESTABLISHED once our ACK is out");
	EQ_INT(o.ntx, 1, "SYN,ACK: one ACK");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 1, 64240 >> 7, 0, "handshake ACK");
	uint8_t ack_opts[12] = { 1, 1, 8, 10 };
	put32(ack_opts + 4, TSC + 5);
	put32(ack_opts + 8, 777);
	check_opts(&o.tx[0], ack_opts, sizeof(ack_opts), "handshake ACK");
	EQ_INT(o.nchange, 4, "SYN,ACK: four changes");
	check_change(&o, 0, true, S_CLOSED, S_LISTEN, "it was listening", "SYN,ACK 0");
	check_change(&o, 1, true, S_LISTEN, S_SR, "SYN,ACK received", "SYN,ACK 1");
	check_change(&o, 2, false, S_SS, S_EST, "SYN,ACK received", "SYN,ACK 2");
	check_change(&o, 3, true, S_SR, S_EST, "ACK sent", "SYN,ACK 3");
	EQ_INT(o.change[1].cause, 0, "SYN,ACK: the peer's change is caused by the input");
	EQ_INT(o.change[2].cause, 0, "SYN,ACK: our change is caused by the input");
	EQ_INT(o.change[3].cause, 1, "SYN,ACK: the peer's ESTABLISHED is caused by tx[0]");
	OK(!o.change[1].assumed, "SYN,ACK: the peer's SYN-RECEIVED is seen");
	OK(o.change[3].assumed, "SYN,ACK: the peer's ESTABLISHED is assumed (our ACK)");
	OK(t.peer_assumed, "SYN,ACK: peer state assumed until it answers");
	EQ_INT(o.acked, 1, "SYN,ACK: the SYN counts as one byte acked");
	EQ_INT(o.in_note, HS_NOTE_NONE, "SYN,ACK: no note");
	EQ_INT(o.data_len, 0, "SYN,ACK: no data");
	EQ_INT(t.irs, IRS, "irs recorded");
	OK(t.irs_known, "irs known");
	EQ_INT(t.rcv_nxt, IRS + 1, "rcv_nxt = irs + 1");
	EQ_INT(t.snd_una, ISS + 1, "snd_una = iss + 1");
	EQ_INT(t.snd_wnd, 65160, "window of the SYN,ACK is not scaled");
	OK(t.ws_ok && t.ts_ok && t.sack_ok, "wscale, TS and SACK negotiated");
	EQ_INT(t.snd_wscale, 8, "snd_wscale = peer's shift");
	EQ_INT(t.rcv_wscale, 7, "rcv_wscale = ours");
	EQ_INT(t.peer_mss, 1400, "peer MSS");
	EQ_INT(t.ts_recent, 777, "ts_recent from the SYN,ACK");
	EQ_INT(hs_tcb_deadline(&t), 0, "no timer once the SYN is acked");
	OK(hs_tcb_all_acked(&t), "all acked");
	EQ_INT(hs_tcb_rel_snd(&t, ISS + 1), 1, "relative snd");
	EQ_INT(hs_tcb_rel_rcv(&t, IRS + 1), 1, "relative rcv");

	/* Later windows from the peer are scaled by its shift. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 200);
	with_ts(&s, 780, TSC + 5);
	tcb_input(&t, &s, 6 * MS, &o);
	EQ_INT(t.snd_wnd, 200u << 8, "later windows are scaled");
	EQ_INT(o.in_note, HS_NOTE_WINDOW_UPDATE, "window change without data: window-update");
	EQ_INT(o.ntx, 0, "pure ACK: nothing sent");
	EQ_INT(t.ts_recent, 780, "ts_recent follows the peer");
}

/* A resumed connection (connect --close keep, then fin) has seen no window from the
 * peer in this process: the saved one (the SYN,ACK's, unscaled: 1000 here) is no
 * base, so the peer's answer to the keepalive is no window update -- Wireshark,
 * reading this process's capture, has no earlier window either. A change after it is. */
static void test_resumed_window_update_needs_a_window_seen(void)
{
	hs_tcb t, u;
	hs_tcb_out o;
	hs_tcb_snapshot snap;
	hs_segment s;

	est_full(&t, &o);
	hs_tcb_snapshot_take(&t, 2 * SEC, &snap);
	EQ_INT(snap.snd_wnd, 1000, "saved: the SYN,ACK's window, unscaled");
	hs_tcb_config c = cfg_base();
	hs_tcb_resume(&u, &c, &snap, 10 * SEC);
	hs_tcb_probe(&u, true, 10 * SEC, &o);
	s = pseg(&u, HS_ACK, IRS + 1, ISS + 1, 200);
	tcb_input(&u, &s, 10 * SEC + MS, &o);
	EQ_INT(o.in_note, HS_NOTE_NONE, "resumed: the first window seen is no window-update");
	s = pseg(&u, HS_ACK, IRS + 1, ISS + 1, 300);
	tcb_input(&u, &s, 10 * SEC + 2 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_WINDOW_UPDATE, "then a new window, same ACK: window-update");
	s = pseg(&u, HS_ACK, IRS + 1, ISS + 1, 300);
	tcb_input(&u, &s, 10 * SEC + 30 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_KEEPALIVE_ACK, "the same again after our keepalive: keepalive-ack");
}

static void test_active_open_no_options(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	tcb_connect(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 29200);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(t.state, S_EST, "bare SYN,ACK: ESTABLISHED");
	EQ_INT(t.peer_mss, 536, "no MSS option: 536");
	OK(!t.ts_ok && !t.sack_ok && !t.ws_ok, "nothing negotiated");
	EQ_INT(t.snd_wscale, 0, "no snd_wscale");
	EQ_INT(t.rcv_wscale, 0, "no rcv_wscale without the peer's wscale");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 1, 64240, 0, "bare handshake ACK");
	EQ_INT(o.tx[0].opt_len, 0, "no options after the handshake");

	/* Our SYN offered no TS: a TS from the peer alone does not turn it on. */
	c.syn_opts.n = 1; /* mss=1460 only */
	tcb_connect(&t, &c, 0, &o);
	EQ_INT(o.tx[0].opt_len, 4, "SYN with MSS only");
	s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 29200);
	with_syn_opts(&s, 1460, true, true, 7);
	tcb_input(&t, &s, 2 * MS, &o);
	OK(!t.ts_ok && !t.sack_ok && !t.ws_ok, "only what both SYNs carried");
	EQ_INT(o.tx[0].win, 64240, "window unscaled without wscale");
	EQ_INT(o.tx[0].opt_len, 0, "no TS on the ACK");

	/* A tiny MSS option is clamped so that segments keep a sane size. */
	tcb_connect(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 29200);
	with_syn_opts(&s, 1, false, false, -1);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(t.peer_mss, 48, "MSS 1 clamped to 48");
}

static void test_synack_with_data_and_fin(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	c.syn_opts.n = 1;
	tcb_connect(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN | HS_ACK | HS_FIN, IRS, ISS + 1, 60000);
	with_data(&s, "hi");
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_CW, "SYN,ACK+data+FIN: ESTABLISHED then CLOSE-WAIT");
	EQ_INT(o.data_len, 2, "data in the SYN,ACK delivered");
	EQ_INT(o.data_seq, IRS + 1, "after the SYN");
	OK(o.peer_fin, "FIN in the SYN,ACK taken");
	EQ_INT(o.ntx, 1, "one ACK for all of it");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 4, 64240, 0, "ACK of SYN, data and FIN");
	check_change(&o, 0, true, S_CLOSED, S_LISTEN, "it was listening", "synack+fin 0");
	check_change(&o, 1, true, S_LISTEN, S_SR, "SYN,ACK received", "synack+fin 1");
	check_change(&o, 2, false, S_SS, S_EST, "SYN,ACK received", "synack+fin 2");
	check_change(&o, 3, true, S_SR, S_FW1, "FIN received", "synack+fin 3");
	check_change(&o, 4, false, S_EST, S_CW, "FIN received", "synack+fin 4");
	check_change(&o, 5, true, S_FW1, S_FW2, "ACK sent", "synack+fin 5");
	EQ_INT(o.nchange, 6, "six changes");
}

static void test_refused(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	tcb_connect(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_RST | HS_ACK, 0, ISS + 1, 0);
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_CLOSED, "RST,ACK: CLOSED");
	EQ_INT(o.result, HS_RES_REFUSED, "RST,ACK: refused");
	EQ_INT(t.result, HS_RES_REFUSED, "tcb keeps the result");
	EQ_INT(o.ntx, 0, "RST,ACK: nothing sent");
	EQ_INT(o.nchange, 1, "RST,ACK: one change (the peer was CLOSED already)");
	check_change(&o, 0, false, S_SS, S_CLOSED, "RST received", "refused");
	EQ_INT(hs_tcb_deadline(&t), 0, "refused: no timer");

	/* An RST whose ACK is not ours, or with no ACK, is ignored. */
	tcb_connect(&t, &c, 0, &o);
	s = pseg(&t, HS_RST | HS_ACK, 0, ISS + 7, 0);
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_SS, "RST with bad ack: still SYN-SENT");
	EQ_INT(o.in_note, HS_NOTE_UNACCEPTABLE, "RST with bad ack: unacceptable");
	EQ_INT(o.ntx, 0, "RST with bad ack: no reply");
	EQ_INT(o.result, HS_RES_NONE, "RST with bad ack: no result");
	s = pseg(&t, HS_RST, 0, 0, 0);
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_SS, "RST without ACK: still SYN-SENT");
	EQ_INT(o.ntx, 0, "RST without ACK: no reply");
	/* A bare ACK (no SYN) with the right number is dropped too. */
	s = pseg(&t, HS_ACK, IRS, ISS + 1, 100);
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_SS, "ACK without SYN: still SYN-SENT");
	EQ_INT(o.ntx, 0, "ACK without SYN: dropped");
}

static void test_syn_timeout(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();
	uint64_t want_at[] = { 1 * SEC, 3 * SEC, 7 * SEC, 15 * SEC };
	int retransmissions = 0;

	tcb_connect(&t, &c, 0, &o);
	EQ_INT(hs_tcb_deadline(&t), 1 * SEC, "first RTO after 1 s");
	memset(&o, 0xab, sizeof(o));
	tcb_timer(&t, 999 * MS, &o);
	EQ_INT(o.ntx, 0, "timer before the deadline: nothing");
	EQ_INT(o.nchange, 0, "timer before the deadline: out reset");
	EQ_INT(o.result, HS_RES_NONE, "timer before the deadline: no result");
	for (int i = 0; i < 3; i++) {
		uint64_t at = hs_tcb_deadline(&t);
		EQ_INT(at, want_at[i], "deadlines double: 1, 2, 4 s apart");
		tcb_timer(&t, at, &o);
		retransmissions += o.ntx;
		check_tx(&o, 0, HS_SYN, ISS, 0, 64240, 0, "retransmitted SYN");
		EQ_INT(o.tx[0].note, HS_NOTE_RETRANSMISSION, "SYN retransmission noted");
		check_ts(&o.tx[0], TSC + (uint32_t)(at / MS), 0, "retransmitted SYN");
		EQ_INT(t.state, S_SS, "still SYN-SENT");
		EQ_INT(t.retries, i + 1, "retries counted");
	}
	EQ_INT(hs_tcb_deadline(&t), want_at[3], "last wait 8 s");
	tcb_timer(&t, want_at[3], &o);
	EQ_INT(retransmissions, 3, "exactly max_retries retransmissions");
	EQ_INT(o.ntx, 0, "giving up sends nothing");
	EQ_INT(t.state, S_CLOSED, "timeout: CLOSED");
	EQ_INT(o.result, HS_RES_TIMEOUT, "timeout result");
	EQ_INT(t.result_state, S_SS, "timeout: the wait began in SYN-SENT");
	check_change(&o, 0, false, S_SS, S_CLOSED, "retransmissions exhausted", "timeout");
	EQ_INT(hs_tcb_deadline(&t), 0, "timeout: no timer left");

	/* max_retries 0: the first expiry gives up. */
	c.max_retries = 0;
	c.rto_ns = 250 * MS;
	tcb_connect(&t, &c, 10 * SEC, &o);
	EQ_INT(hs_tcb_deadline(&t), 10 * SEC + 250 * MS, "RTO from cfg");
	tcb_timer(&t, 10 * SEC + 250 * MS, &o);
	EQ_INT(o.result, HS_RES_TIMEOUT, "no retries: timeout at once");
	EQ_INT(o.ntx, 0, "no retries: no retransmission");
}

static void test_duplicate_synack(void)
{
	hs_tcb t;
	hs_tcb_out o;

	est_full(&t, &o);
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 1000);
	with_syn_opts(&s, 1400, true, true, 8);
	s.opts.ts_val = 9300; /* resent 300 ms later: a new TSval */
	tcb_input(&t, &s, 300 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "SYN,ACK again: retransmission");
	EQ_INT(t.state, S_EST, "SYN,ACK again: still ESTABLISHED");
	EQ_INT(o.ntx, 1, "SYN,ACK again: ACK again");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 1, 64240 >> 7, 0, "ACK again");
	EQ_INT(o.tx[0].note, HS_NOTE_DUP_ACK, "ACK again: not a challenge but a duplicate ACK");
	EQ_INT(o.nchange, 2, "our ACK was lost: peer back to SYN-RECEIVED, then ESTABLISHED");
	check_change(&o, 0, true, S_EST, S_SR, "SYN,ACK resent: our ACK was lost", "dup SYN,ACK 1");
	OK(o.change[0].correction, "a correction of what we assumed, not a move");
	check_change(&o, 1, true, S_SR, S_EST, "ACK sent", "dup SYN,ACK 2");
	EQ_INT(t.snd_wnd, 1000, "duplicate SYN,ACK does not touch the window");
}

static void test_bad_ack_synack(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	tcb_connect(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, 424242, 1000);
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_SS, "bad-ack SYN,ACK: still SYN-SENT");
	EQ_INT(o.in_note, HS_NOTE_UNACCEPTABLE, "bad-ack SYN,ACK: unacceptable");
	EQ_INT(o.ntx, 1, "bad-ack SYN,ACK: one RST");
	check_tx(&o, 0, HS_RST, 424242, 0, 0, 0, "RST for a bad ack");
	EQ_INT(o.tx[0].opt_len, 0, "RST without options");
	EQ_INT(o.nchange, 0, "bad-ack: no state change (peer_state CLOSED->CLOSED is none)");
	OK(!t.irs_known, "bad-ack: irs not taken");
	/* ack == iss is also bad (acknowledges nothing) */
	s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS, 1000);
	tcb_input(&t, &s, 1 * MS, &o);
	check_tx(&o, 0, HS_RST, ISS, 0, 0, 0, "RST for ack == iss");
	/* then the right SYN,ACK still completes */
	s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 1000);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(t.state, S_EST, "good SYN,ACK after a bad one: ESTABLISHED");
}

static void test_simultaneous_open(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	c.syn_opts.n = 1; /* MSS only: simple option bytes */
	tcb_connect(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN, IRS, 0, 5000);
	with_syn_opts(&s, 1200, false, false, -1);
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_SR, "SYN in SYN-SENT: SYN-RECEIVED");
	EQ_INT(t.peer_state, S_SS, "peer SYN-SENT");
	check_tx(&o, 0, HS_SYN | HS_ACK, ISS, IRS + 1, 64240, 0, "simultaneous SYN,ACK");
	uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };
	check_opts(&o.tx[0], mss_only, 4, "simultaneous SYN,ACK");
	check_change(&o, 0, true, S_CLOSED, S_SS, "SYN received", "simultaneous 1");
	check_change(&o, 1, false, S_SS, S_SR, "SYN received", "simultaneous 2");

	s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 5000);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(t.state, S_EST, "its SYN,ACK in SYN-RECEIVED: ESTABLISHED");
	EQ_INT(t.peer_state, S_EST, "peer ESTABLISHED after our ACK");
	EQ_INT(o.acked, 1, "our SYN acked");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 1, 64240, 0, "ACK of its SYN,ACK");
	check_change(&o, 0, true, S_SS, S_SR, "SYN,ACK received", "simultaneous 3");
	check_change(&o, 1, false, S_SR, S_EST, "SYN,ACK received", "simultaneous 4");
	check_change(&o, 2, true, S_SR, S_EST, "ACK sent", "simultaneous 5");
}

static void test_passive_open(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	memset(&c.remote, 0, sizeof(c.remote)); /* accept any source */
	hs_tcb_listen(&t, &c, 0, &o);
	EQ_INT(t.state, S_LISTEN, "listen: LISTEN");
	EQ_INT(o.ntx, 0, "listen: nothing sent");
	check_change(&o, 0, false, S_CLOSED, S_LISTEN, "listen", "listen");
	EQ_INT(hs_tcb_deadline(&t), 0, "LISTEN: no timer");

	/* A Linux client's SYN at 10 ms: mss 1460, sackOK, TS 4242 0, nop, wscale 7. */
	hs_segment s = pseg(&t, HS_SYN, 7000, 0, 64240);
	s.src = endpoint("198.18.0.9", 33333);
	with_syn_opts(&s, 1460, true, true, 7);
	s.opts.ts_val = 4242;
	tcb_input(&t, &s, 10 * MS, &o);
	EQ_INT(t.state, S_SR, "SYN: SYN-RECEIVED");
	EQ_INT(t.peer_state, S_SS, "SYN: peer SYN-SENT");
	OK(hs_endpoint_equal(&t.cfg.remote, &s.src), "remote filled from the SYN");
	EQ_INT(o.ntx, 1, "SYN: one SYN,ACK");
	check_tx(&o, 0, HS_SYN | HS_ACK, ISS, 7001, 64240, 0, "SYN,ACK");
	uint8_t sa[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
	put32(sa + 8, TSC + 10);
	put32(sa + 12, 4242);
	check_opts(&o.tx[0], sa, sizeof(sa), "SYN,ACK echoing a Linux SYN");
	check_change(&o, 0, true, S_CLOSED, S_SS, "SYN received", "passive 1");
	check_change(&o, 1, false, S_LISTEN, S_SR, "SYN received", "passive 2");
	EQ_INT(o.nchange, 2, "SYN: two changes");
	EQ_INT(hs_tcb_deadline(&t), 10 * MS + SEC, "SYN,ACK retransmission timer");
	EQ_INT(t.snd_wnd, 64240, "window from the SYN");

	/* Its ACK: window 502 << 7. */
	s = pseg(&t, HS_ACK, 7001, ISS + 1, 502);
	s.src = t.cfg.remote;
	with_ts(&s, 4250, TSC + 10);
	tcb_input(&t, &s, 11 * MS, &o);
	EQ_INT(t.state, S_EST, "ACK: ESTABLISHED");
	EQ_INT(t.peer_state, S_EST, "ACK: peer ESTABLISHED");
	EQ_INT(o.ntx, 0, "pure ACK: nothing to send");
	EQ_INT(o.acked, 1, "our SYN acked");
	check_change(&o, 0, true, S_SS, S_EST, "ACK received", "passive 3");
	check_change(&o, 1, false, S_SR, S_EST, "ACK received", "passive 4");
	EQ_INT(t.snd_wnd, 502u << 7, "window after the handshake is scaled");
	EQ_INT(t.ts_recent, 4250, "ts_recent updated");
	EQ_INT(hs_tcb_deadline(&t), 0, "timer stopped");
	EQ_INT(t.snd_wl1, 7001, "SND.WL1");
	EQ_INT(t.snd_wl2, ISS + 1, "SND.WL2");
}

static void test_passive_echo_variants(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();
	hs_segment s;

	/* The peer offers no TS: MSS, NOP, NOP, SACK-permitted, NOP, wscale. */
	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN, 7000, 0, 64240);
	with_syn_opts(&s, 1460, true, false, 7);
	tcb_input(&t, &s, 0, &o);
	uint8_t no_ts[12] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7 };
	check_opts(&o.tx[0], no_ts, sizeof(no_ts), "SYN,ACK without TS");
	OK(!t.ts_ok && t.sack_ok && t.ws_ok, "negotiated SACK and wscale, not TS");

	/* TS only. */
	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN, 7000, 0, 64240);
	with_syn_opts(&s, 1460, false, true, -1);
	tcb_input(&t, &s, 0, &o);
	uint8_t ts_only[16] = { 2, 4, 0x05, 0xb4, 1, 1, 8, 10 };
	put32(ts_only + 8, TSC);
	put32(ts_only + 12, 9000);
	check_opts(&o.tx[0], ts_only, sizeof(ts_only), "SYN,ACK with TS only");
	EQ_INT(t.rcv_wscale, 0, "no wscale: our windows unscaled");

	/* Nothing offered: MSS only; the peer's MSS defaults to 536. */
	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN, 7000, 0, 64240);
	tcb_input(&t, &s, 0, &o);
	uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };
	check_opts(&o.tx[0], mss_only, sizeof(mss_only), "SYN,ACK to a bare SYN");
	EQ_INT(t.peer_mss, 536, "bare SYN: peer MSS 536");

	/* Our spec limits the echo: mss=1400,wscale=3 against a full offer. */
	char err[128];
	OK(hs_opt_spec_parse("mss=1400,wscale=3", &c.syn_opts, err, sizeof(err)) == 0, "parse spec");
	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN, 7000, 0, 64240);
	with_syn_opts(&s, 1460, true, true, 9);
	tcb_input(&t, &s, 0, &o);
	uint8_t limited[8] = { 2, 4, 0x05, 0x78, 1, 3, 3, 3 };
	check_opts(&o.tx[0], limited, sizeof(limited), "SYN,ACK limited by our spec");
	OK(!t.ts_ok && !t.sack_ok && t.ws_ok, "only wscale negotiated");
	EQ_INT(t.snd_wscale, 9, "peer shift 9");
	EQ_INT(t.rcv_wscale, 3, "our shift 3");
	EQ_INT(o.tx[0].win, 64240, "SYN,ACK window never scaled");

	/* An empty spec: still MSS 1460. */
	c.syn_opts.n = 0;
	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN, 7000, 0, 64240);
	with_syn_opts(&s, 1460, true, true, 7);
	tcb_input(&t, &s, 0, &o);
	check_opts(&o.tx[0], mss_only, sizeof(mss_only), "empty spec: MSS 1460 only");

	/* A peer shift above 14 is taken as 14 (RFC 7323 2.3). */
	hs_tcb_config_default(&c);
	c.local = endpoint("198.18.0.1", 40000);
	c.remote = endpoint("198.18.0.2", 8080);
	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN, 7000, 0, 64240);
	with_syn_opts(&s, 1460, false, false, 15);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.snd_wscale, 14, "shift clamped to 14");
}

static void test_listen_misc(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();
	hs_segment s;

	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_RST, 1, 0, 0);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.state, S_LISTEN, "RST in LISTEN ignored");
	EQ_INT(o.ntx, 0, "RST in LISTEN: no reply");

	s = pseg(&t, HS_ACK, 1, 31337, 100);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.state, S_LISTEN, "ACK in LISTEN: still LISTEN");
	EQ_INT(o.ntx, 1, "ACK in LISTEN: RST");
	check_tx(&o, 0, HS_RST, 31337, 0, 0, 0, "RST for an ACK in LISTEN");

	/* A SYN from another source than the configured remote is not ours. */
	s = pseg(&t, HS_SYN, 7000, 0, 100);
	s.src = endpoint("198.18.0.2", 8081);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.state, S_LISTEN, "SYN from another port ignored");
	EQ_INT(o.ntx, 0, "SYN from another port: no reply");
	s.src = endpoint("198.18.0.2", 8080);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.state, S_SR, "SYN from the remote accepted");

	EQ_INT(t.peer_state, S_SS, "peer SYN-SENT");

	/* Retransmitted SYN in SYN-RECEIVED: SYN,ACK again. */
	tcb_input(&t, &s, 200 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "SYN again: retransmission");
	EQ_INT(o.ntx, 1, "SYN again: SYN,ACK again");
	check_tx(&o, 0, HS_SYN | HS_ACK, ISS, 7001, 64240, 0, "SYN,ACK again");
	EQ_INT(o.tx[0].note, HS_NOTE_RETRANSMISSION, "SYN,ACK again: retransmission");
	EQ_INT(t.state, S_SR, "still SYN-RECEIVED");

	/* A SYN with another ISN: challenge ACK. */
	s.seq = 9999;
	tcb_input(&t, &s, 200 * MS, &o);
	check_tx(&o, 0, HS_ACK, ISS + 1, 7001, 64240, 0, "challenge in SYN-RECEIVED");
	EQ_INT(o.tx[0].note, HS_NOTE_CHALLENGE_ACK, "challenge ACK noted");

	/* ICMP means nothing in LISTEN. */
	hs_tcb_listen(&t, &c, 0, &o);
	hs_icmp_error e;
	memset(&e, 0, sizeof(e));
	e.family = AF_INET;
	e.type = 3;
	e.code = 3;
	e.orig_src = c.local;
	e.orig_dst = c.remote;
	e.orig_seq = ISS;
	tcb_icmp(&t, &e, 0, &o);
	EQ_INT(t.state, S_LISTEN, "ICMP in LISTEN ignored");
	/* A remote with an address but no port: any source. */
	c.remote.port = 0;
	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN, 7000, 0, 100);
	s.src = endpoint("198.18.0.77", 1234);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.state, S_SR, "remote port 0: any source");
	EQ_INT(t.cfg.remote.port, 1234, "remote port filled in");
	c.remote.port = 8080;

	/* The SYN,ACK timer: retransmit, then give up. */
	c.max_retries = 1;
	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN, 7000, 0, 100);
	tcb_input(&t, &s, 0, &o);
	tcb_timer(&t, SEC, &o);
	check_tx(&o, 0, HS_SYN | HS_ACK, ISS, 7001, 64240, 0, "SYN,ACK retransmission");
	EQ_INT(o.tx[0].note, HS_NOTE_RETRANSMISSION, "SYN,ACK retransmission noted");
	EQ_INT(hs_tcb_deadline(&t), 3 * SEC, "then 2 s");
	tcb_timer(&t, 3 * SEC, &o);
	EQ_INT(o.result, HS_RES_TIMEOUT, "SYN-RECEIVED: timeout");
	EQ_INT(t.state, S_CLOSED, "SYN-RECEIVED timeout: CLOSED");
	EQ_INT(t.result_state, HS_SYN_RECEIVED, "SYN-RECEIVED timeout: result_state");

	/* A bad ACK in SYN-RECEIVED draws an RST. */
	hs_tcb_listen(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN, 7000, 0, 100);
	tcb_input(&t, &s, 0, &o);
	s = pseg(&t, HS_ACK, 7001, 5555, 100);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.state, S_SR, "bad ACK: still SYN-RECEIVED");
	EQ_INT(o.in_note, HS_NOTE_UNACCEPTABLE, "bad ACK: unacceptable");
	check_tx(&o, 0, HS_RST, 5555, 0, 0, 0, "RST for a bad ACK in SYN-RECEIVED");
	EQ_INT(o.nchange, 0, "a reply RST says nothing about the peer");
	EQ_INT(t.peer_state, S_SS, "peer still SYN-SENT");

	/* An exact RST in SYN-RECEIVED ends it. */
	s = pseg(&t, HS_RST, 7001, 0, 0);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.state, S_CLOSED, "RST in SYN-RECEIVED: CLOSED");
	EQ_INT(o.result, HS_RES_RESET, "RST in SYN-RECEIVED: reset");
}

static void test_client_ack_with_data(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	c.syn_opts.n = 1;
	hs_tcb_listen(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN, 7000, 0, 64240);
	tcb_input(&t, &s, 0, &o);
	s = pseg(&t, HS_ACK | HS_PSH, 7001, ISS + 1, 64240);
	with_data(&s, "hello");
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_EST, "ACK with data: ESTABLISHED");
	OK(o.data == s.payload, "data points into the segment");
	EQ_INT(o.data_len, 5, "data length");
	EQ_INT(o.data_seq, 7001, "data seq");
	EQ_INT(t.rcv_nxt, 7006, "rcv_nxt advanced");
	EQ_INT(o.ntx, 1, "data acknowledged");
	check_tx(&o, 0, HS_ACK, ISS + 1, 7006, 64240, 0, "ACK of the client's data");
	check_change(&o, 0, true, S_SS, S_EST, "ACK received", "ACK+data 1");
	check_change(&o, 1, false, S_SR, S_EST, "ACK received", "ACK+data 2");
	EQ_INT(o.nchange, 2, "ACK+data: two changes");
}

static void test_data_in(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;

	est_full(&t, &o); /* ts_recent 9000, rcv_nxt IRS+1, TS on, SACK on */

	/* In order. */
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 1, ISS + 1, 1000);
	with_data(&s, "abc");
	with_ts(&s, 9100, TSC);
	tcb_input(&t, &s, 20 * MS, &o);
	EQ_INT(o.data_len, 3, "in order: 3 bytes");
	EQ_INT(o.data_seq, IRS + 1, "in order: seq");
	OK(o.data && memcmp(o.data, "abc", 3) == 0, "in order: bytes");
	EQ_INT(o.in_note, HS_NOTE_NONE, "in order: no note");
	EQ_INT(t.rcv_nxt, IRS + 4, "in order: rcv_nxt");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 4, 64240 >> 7, 0, "ACK of in-order data");
	check_ts(&o.tx[0], TSC + 20, 9100, "ACK of in-order data");
	EQ_INT(t.ts_recent, 9100, "ts_recent from in-order data");

	/* Out of order: a gap of 6 bytes. */
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 10, ISS + 1, 1000);
	with_data(&s, "xyz");
	with_ts(&s, 9200, TSC);
	tcb_input(&t, &s, 21 * MS, &o);
	EQ_INT(o.data_len, 0, "out of order: not delivered");
	OK(o.data == NULL, "out of order: no data pointer");
	EQ_INT(o.in_note, HS_NOTE_OUT_OF_ORDER, "out of order noted");
	EQ_INT(t.rcv_nxt, IRS + 4, "out of order: rcv_nxt unchanged");
	EQ_INT(o.ntx, 1, "out of order: one dup ACK");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 4, 64240 >> 7, 0, "dup ACK");
	uint8_t sack[24] = { 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 5, 10 };
	put32(sack + 4, TSC + 21);
	put32(sack + 8, 9100);
	put32(sack + 16, IRS + 10);
	put32(sack + 20, IRS + 13);
	check_opts(&o.tx[0], sack, sizeof(sack), "dup ACK with TS and SACK block");
	EQ_INT(t.ts_recent, 9100, "ts_recent not taken from a segment beyond RCV.NXT");

	/* Partial overlap: "bcdef" at IRS+2, "bc" already seen. */
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 2, ISS + 1, 1000);
	with_data(&s, "bcdef");
	with_ts(&s, 9300, TSC);
	tcb_input(&t, &s, 22 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_PARTIAL, "overlap: partial");
	EQ_INT(o.data_len, 3, "overlap: only the new bytes");
	EQ_INT(o.data_seq, IRS + 4, "overlap: from rcv_nxt");
	OK(o.data == s.payload + 2 && memcmp(o.data, "def", 3) == 0, "overlap: pointer trimmed");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 7, 64240 >> 7, 0, "ACK after overlap");
	EQ_INT(t.ts_recent, 9300, "ts_recent from an overlapping segment");

	/* Entirely old. */
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 1, ISS + 1, 1000);
	with_data(&s, "abc");
	with_ts(&s, 9400, TSC);
	tcb_input(&t, &s, 23 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "old data: retransmission");
	EQ_INT(o.data_len, 0, "old data: nothing delivered");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 7, 64240 >> 7, 0, "ACK of old data");
	check_ts(&o.tx[0], TSC + 23, 9300, "ACK of old data echoes the last in-window TSval");

	/* Beyond the window. */
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 7 + 64240 + 100, ISS + 1, 1000);
	with_data(&s, "zz");
	tcb_input(&t, &s, 24 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_OUT_OF_WINDOW, "beyond the window: out-of-window");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 7, 64240 >> 7, 0, "ACK for out-of-window");
	/* A pure ACK behind the window is out of window too. */
	s = pseg(&t, HS_ACK, IRS - 100, ISS + 1, 1000);
	tcb_input(&t, &s, 24 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_OUT_OF_WINDOW, "old pure ACK: out-of-window");
	EQ_INT(o.ntx, 1, "old pure ACK: answered");

	/* Keepalive: seq = rcv_nxt - 1, no data. */
	s = pseg(&t, HS_ACK, IRS + 6, ISS + 1, 1000);
	tcb_input(&t, &s, 25 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_KEEPALIVE, "keepalive");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 7, 64240 >> 7, 0, "keepalive answered");

	/* A segment without ACK in a synchronized state is dropped. */
	s = pseg(&t, HS_PSH, IRS + 7, 0, 1000);
	with_data(&s, "q");
	tcb_input(&t, &s, 25 * MS, &o);
	EQ_INT(o.data_len, 0, "no ACK flag: not delivered");
	EQ_INT(o.ntx, 0, "no ACK flag: dropped");
	EQ_INT(t.rcv_nxt, IRS + 7, "no ACK flag: rcv_nxt unchanged");

	/* Data running past the right window edge is cut there. */
	est_plain(&t, &o, 1460, 60000);
	t.rcv_wnd = 4; /* as if the window were tiny */
	s = pseg(&t, HS_ACK | HS_PSH | HS_FIN, IRS + 1, ISS + 1, 1000);
	with_data(&s, "123456");
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.data_len, 4, "trimmed to the window");
	OK(!o.peer_fin, "FIN past the window not taken");
	EQ_INT(t.state, S_EST, "still ESTABLISHED");
}

static void test_ack_processing(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static uint8_t buf[3000];

	est_plain(&t, &o, 1000, 10000);
	/* ACK of something never sent. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 500, 10000);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_UNACCEPTABLE, "ACK of unsent data: unacceptable");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 1, 64240, 0, "ACK for an ACK of unsent data");
	EQ_INT(t.snd_una, ISS + 1, "snd_una unchanged");

	EQ_INT(tcb_send(&t, buf, 1500, 3 * MS, &o), 0, "send 1500");
	EQ_INT(o.ntx, 2, "two segments (MSS 1000)");
	/* The same ACK again while data is outstanding: dup ACK. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 10000);
	tcb_input(&t, &s, 4 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_DUP_ACK, "dup ACK noted");
	EQ_INT(o.acked, 0, "dup ACK acks nothing");
	/* A partial ACK: 1000 bytes, timer restarted. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1001, 10000);
	tcb_input(&t, &s, 5 * MS, &o);
	EQ_INT(o.acked, 1000, "acked 1000");
	EQ_INT(o.in_note, HS_NOTE_NONE, "new ACK: no note");
	EQ_INT(hs_tcb_deadline(&t), 5 * MS + SEC, "timer restarted on a new ACK");
	OK(!hs_tcb_all_acked(&t), "500 bytes still out");
	/* An older ACK (below snd_una) is ignored, window included. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 0);
	tcb_input(&t, &s, 6 * MS, &o);
	EQ_INT(t.snd_wnd, 10000, "old ACK's window ignored");
	EQ_INT(o.ntx, 0, "old ACK: nothing sent");
	/* The rest, with a zero window. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1501, 0);
	tcb_input(&t, &s, 7 * MS, &o);
	EQ_INT(o.acked, 500, "acked 500");
	EQ_INT(o.in_note, HS_NOTE_ZERO_WINDOW, "window closed: zero-window");
	EQ_INT(t.snd_wnd, 0, "window 0");
	OK(hs_tcb_all_acked(&t), "all acked");
	EQ_INT(hs_tcb_deadline(&t), 0, "timer stopped when all is acked");

	/* Window update rules: an ACK with an older seq does not move the window. */
	s = pseg(&t, HS_ACK, IRS, ISS + 1501, 500);
	t.snd_wl1 = IRS + 1;
	t.rcv_nxt = IRS; /* pretend IRS is in the window, to reach the WL check */
	tcb_input(&t, &s, 8 * MS, &o);
	EQ_INT(t.snd_wnd, 0, "SND.WL1 newer: window kept");
	t.rcv_nxt = IRS + 1;
}

static void test_send(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static uint8_t buf[5000];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;

	/* Not before the connection is established. */
	hs_tcb_config c = cfg_base();
	tcb_connect(&t, &c, 0, &o);
	EQ_INT(tcb_send(&t, buf, 10, 0, &o), -1, "send in SYN-SENT: -1");
	EQ_INT(o.ntx, 0, "send in SYN-SENT: nothing");

	/* MSS 1000, window 2500: 1000 + 1000 + 500. */
	est_plain(&t, &o, 1000, 2500);
	EQ_INT(tcb_send(&t, buf, 4000, 10 * MS, &o), 0, "send 4000");
	EQ_INT(o.ntx, 3, "three segments fit the window");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 1, 64240, 1000, "data 1");
	check_tx(&o, 1, HS_PSH | HS_ACK, ISS + 1001, IRS + 1, 64240, 1000, "data 2");
	check_tx(&o, 2, HS_PSH | HS_ACK, ISS + 2001, IRS + 1, 64240, 500, "data 3 (window)");
	OK(o.tx[0].data == buf && o.tx[1].data == buf + 1000 && o.tx[2].data == buf + 2000,
	   "data pointers into the caller's buffer");
	EQ_INT(o.tx[0].opt_len, 0, "no TS: no options on data");
	EQ_INT(t.snd_nxt, ISS + 2501, "snd_nxt");
	EQ_INT(hs_tcb_deadline(&t), 10 * MS + SEC, "retransmission timer running");
	EQ_INT(t.nchunk, 1, "one chunk queued");

	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1001, 2500);
	tcb_input(&t, &s, 20 * MS, &o);
	EQ_INT(o.acked, 1000, "ACK of 1000");
	EQ_INT(o.ntx, 1, "window opens by 1000: one segment");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 2501, IRS + 1, 64240, 1000, "data 4");
	OK(o.tx[0].data == buf + 2500, "data 4 pointer");

	s = pseg(&t, HS_ACK, IRS + 1, ISS + 3501, 2500);
	tcb_input(&t, &s, 30 * MS, &o);
	EQ_INT(o.ntx, 1, "the last 500");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 3501, IRS + 1, 64240, 500, "data 5");

	s = pseg(&t, HS_ACK, IRS + 1, ISS + 4001, 2500);
	tcb_input(&t, &s, 40 * MS, &o);
	EQ_INT(o.acked, 500, "acked the rest");
	OK(hs_tcb_all_acked(&t), "all acked");
	EQ_INT(hs_tcb_deadline(&t), 0, "timer stopped");
	EQ_INT(t.nchunk, 0, "chunk released");

	/* MAXTX segments per call; the rest as ACKs arrive. */
	est_plain(&t, &o, 100, 60000);
	EQ_INT(tcb_send(&t, buf, 1000, 0, &o), 0, "send 1000 at MSS 100");
	EQ_INT(o.ntx, HS_TCB_MAXTX, "at most HS_TCB_MAXTX segments");
	EQ_INT(t.snd_nxt, ISS + 1 + 100 * HS_TCB_MAXTX, "snd_nxt after 4 segments");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 201, 60000);
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(o.ntx, HS_TCB_MAXTX, "ACK releases more");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 401, IRS + 1, 64240, 100, "next segment after the ACK");

	/* Two chunks: a segment never spans chunks. */
	est_plain(&t, &o, 1460, 60000);
	EQ_INT(tcb_send(&t, buf, 10, 0, &o), 0, "chunk 1");
	EQ_INT(tcb_send(&t, buf + 100, 20, 0, &o), 0, "chunk 2");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 11, IRS + 1, 64240, 20, "second chunk");
	OK(o.tx[0].data == buf + 100, "second chunk's pointer");
	EQ_INT(tcb_send(&t, buf, 0, 0, &o), 0, "empty send is fine");
	EQ_INT(o.ntx, 0, "empty send: nothing");

	/* With TS the payload leaves room for the option: 1400 - 12. The SYN,ACK's
	 * window (1000) was unscaled; the next ACK's 1000 means 256000. */
	est_full(&t, &o);
	EQ_INT(t.snd_wnd, 1000, "SYN,ACK window taken as is");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 1000);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(t.snd_wnd, 256000, "then scaled by 2^8");
	EQ_INT(tcb_send(&t, buf, 3000, 50 * MS, &o), 0, "send with TS");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 1, 64240 >> 7, 1388, "data with TS");
	check_tx(&o, 1, HS_PSH | HS_ACK, ISS + 1389, IRS + 1, 64240 >> 7, 1388, "data with TS 2");
	check_tx(&o, 2, HS_PSH | HS_ACK, ISS + 2777, IRS + 1, 64240 >> 7, 224, "data with TS 3");
	check_ts(&o.tx[0], TSC + 50, 9000, "data carries TS");

	/* The chunk table fills up. */
	est_plain(&t, &o, 1460, 0); /* zero window: nothing leaves */
	int rc = 0;
	for (int i = 0; i < HS_TCB_MAXCHUNKS && rc == 0; i++)
		rc = tcb_send(&t, buf, 1, 0, &o);
	EQ_INT(rc, 0, "64 chunks fit");
	EQ_INT(tcb_send(&t, buf, 1, 0, &o), -1, "the 65th does not");
	EQ_INT(tcb_send(&t, NULL, 1, 0, &o), -1, "NULL data rejected");
}

static void test_zero_window_probe(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static uint8_t buf[100];

	est_plain(&t, &o, 1460, 0);
	EQ_INT(tcb_send(&t, buf, 100, 0, &o), 0, "send into a zero window");
	EQ_INT(o.ntx, 0, "nothing sent into a zero window");
	EQ_INT(hs_tcb_deadline(&t), SEC, "persist timer armed");
	tcb_timer(&t, SEC, &o);
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 1, 64240, 1, "zero-window probe");
	EQ_INT(o.tx[0].note, HS_NOTE_ZERO_WINDOW_PROBE, "probe noted: zero-window-probe");
	/* The peer takes the byte and opens its window. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 2, 1000);
	tcb_input(&t, &s, SEC + 1 * MS, &o);
	EQ_INT(o.acked, 1, "probe byte acked");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 2, IRS + 1, 64240, 99, "the rest after the window opens");
}

static void test_data_retransmission(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static uint8_t buf[3000];

	est_plain(&t, &o, 1000, 60000);
	tcb_send(&t, buf, 2500, 0, &o);
	EQ_INT(o.ntx, 3, "3 segments out");
	tcb_timer(&t, SEC, &o);
	EQ_INT(o.ntx, 1, "one retransmission");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 1, 64240, 1000, "oldest segment again");
	EQ_INT(o.tx[0].note, HS_NOTE_RETRANSMISSION, "data retransmission noted");
	OK(o.tx[0].data == buf, "retransmission points at the first byte");
	EQ_INT(hs_tcb_deadline(&t), 3 * SEC, "RTO doubled");
	EQ_INT(t.retries, 1, "one retry");
	/* Progress resets the backoff. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1001, 60000);
	tcb_input(&t, &s, 3 * SEC - 1, &o);
	EQ_INT(t.retries, 0, "retries reset");
	EQ_INT(t.rto_cur, SEC, "RTO back to cfg");
	EQ_INT(hs_tcb_deadline(&t), 4 * SEC - 1, "timer restarted");
	tcb_timer(&t, 4 * SEC - 1, &o);
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1001, IRS + 1, 64240, 1000, "next oldest segment");
	/* The peer acks everything: no more timer. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 2501, 60000);
	tcb_input(&t, &s, 5 * SEC, &o);
	EQ_INT(hs_tcb_deadline(&t), 0, "all acked: no timer");
	tcb_timer(&t, 100 * SEC, &o);
	EQ_INT(o.ntx, 0, "timer without deadline: nothing");

	/* Data exhausts the retries too. */
	hs_tcb_config c = cfg_base();
	c.max_retries = 2;
	tcb_connect(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 60000);
	tcb_input(&t, &s, 0, &o);
	tcb_send(&t, buf, 10, 0, &o);
	tcb_timer(&t, 1 * SEC, &o);
	tcb_timer(&t, 3 * SEC, &o);
	EQ_INT(o.ntx, 1, "second data retransmission");
	tcb_timer(&t, 7 * SEC, &o);
	EQ_INT(o.result, HS_RES_TIMEOUT, "data timeout");
	EQ_INT(t.result_state, S_EST, "data timeout: result_state ESTABLISHED");
	check_change(&o, 0, false, S_EST, S_CLOSED, "retransmissions exhausted", "data timeout");
}

static void test_active_close(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;

	est_full(&t, &o);
	EQ_INT(tcb_close(&t, 100 * MS, &o), 0, "close");
	EQ_INT(t.state, S_FW1, "close: FIN-WAIT-1");
	EQ_INT(t.peer_state, S_EST, "our FIN: peer still ESTABLISHED");
	check_change(&o, 0, false, S_EST, S_FW1, "FIN sent", "close");
	EQ_INT(o.nchange, 1, "close: one change");
	check_tx(&o, 0, HS_FIN | HS_ACK, ISS + 1, IRS + 1, 64240 >> 7, 0, "FIN");
	check_ts(&o.tx[0], TSC + 100, 9000, "FIN");
	EQ_INT(hs_tcb_deadline(&t), 100 * MS + SEC, "FIN retransmission timer");
	EQ_INT(tcb_close(&t, 100 * MS, &o), -1, "second close: -1");
	EQ_INT(tcb_send(&t, (const uint8_t *)"x", 1, 0, &o), -1, "send after close: -1");

	/* The FIN is retransmitted on the timer. */
	tcb_timer(&t, 100 * MS + SEC, &o);
	check_tx(&o, 0, HS_FIN | HS_ACK, ISS + 1, IRS + 1, 64240 >> 7, 0, "FIN again");
	EQ_INT(o.tx[0].note, HS_NOTE_RETRANSMISSION, "FIN retransmission noted");

	s = pseg(&t, HS_ACK, IRS + 1, ISS + 2, 1000);
	with_ts(&s, 9500, TSC + 100);
	tcb_input(&t, &s, 2 * SEC, &o);
	EQ_INT(t.state, S_FW2, "ACK of FIN: FIN-WAIT-2");
	EQ_INT(t.peer_state, S_CW, "peer CLOSE-WAIT");
	EQ_INT(o.acked, 1, "FIN counts as one");
	check_change(&o, 0, true, S_EST, S_CW, "our FIN acknowledged", "FW2 1");
	check_change(&o, 1, false, S_FW1, S_FW2, "our FIN acknowledged", "FW2 2");
	EQ_INT(o.ntx, 0, "ACK of FIN: nothing to send");
	EQ_INT(hs_tcb_deadline(&t), 0, "FIN-WAIT-2: no timer");
	OK(hs_tcb_all_acked(&t), "FIN acked: all acked");

	/* Half-close: the peer still sends. */
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 1, ISS + 2, 1000);
	with_data(&s, "late data");
	with_ts(&s, 9600, TSC + 100);
	tcb_input(&t, &s, 3 * SEC, &o);
	EQ_INT(o.data_len, 9, "FIN-WAIT-2: data delivered");
	check_tx(&o, 0, HS_ACK, ISS + 2, IRS + 10, 64240 >> 7, 0, "FIN-WAIT-2: data acked");
	check_ts(&o.tx[0], TSC + 3000, 9600, "half-close ACK");

	s = pseg(&t, HS_FIN | HS_ACK, IRS + 10, ISS + 2, 1000);
	with_ts(&s, 9700, TSC + 100);
	tcb_input(&t, &s, 4 * SEC, &o);
	EQ_INT(t.state, S_TW, "FIN: TIME-WAIT");
	OK(o.peer_fin, "peer_fin");
	check_tx(&o, 0, HS_ACK, ISS + 2, IRS + 11, 64240 >> 7, 0, "ACK of the peer's FIN");
	check_change(&o, 0, true, S_CW, S_LA, "FIN received", "TW 1");
	check_change(&o, 1, false, S_FW2, S_TW, "FIN received", "TW 2");
	check_change(&o, 2, true, S_LA, S_CLOSED, "ACK sent", "TW 3");
	EQ_INT(o.change[2].cause, 1, "peer CLOSED caused by our ACK (tx[0])");
	EQ_INT(t.peer_state, S_CLOSED, "peer CLOSED once our last ACK is out");
	EQ_INT(hs_tcb_deadline(&t), 5 * SEC, "2MSL timer");

	/* A network copy of the FIN (same TSval): no retransmission, nothing moves. */
	tcb_input(&t, &s, 4 * SEC + 100 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_DUPLICATE, "FIN copy: duplicate");
	EQ_INT(o.ntx, 0, "FIN copy: not answered");
	EQ_INT(o.nchange, 0, "FIN copy: the peer stays CLOSED");
	EQ_INT(hs_tcb_deadline(&t), 5 * SEC, "FIN copy: 2MSL not restarted");

	/* The FIN again, with a new TSval: our ACK was lost. */
	with_ts(&s, 9900, TSC + 100);
	tcb_input(&t, &s, 4 * SEC + 500 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "FIN again: retransmission");
	check_tx(&o, 0, HS_ACK, ISS + 2, IRS + 11, 64240 >> 7, 0, "ACK of the FIN again");
	/* Restarted for three of the peer's last gaps (0.5 s): its next resend comes
	 * after twice that, and must still find us. */
	EQ_INT(hs_tcb_deadline(&t), 6 * SEC, "2MSL restarted, for three of its gaps");
	check_change(&o, 0, true, S_CLOSED, S_LA, "FIN resent: our ACK was lost", "TW again 1");
	OK(o.change[0].correction, "TW again: a correction");
	check_change(&o, 1, true, S_LA, S_CLOSED, "ACK sent", "TW again 2");
	EQ_INT(t.state, S_TW, "still TIME-WAIT");

	tcb_timer(&t, 5 * SEC + 500 * MS, &o);
	EQ_INT(t.state, S_TW, "not yet");
	tcb_timer(&t, 6 * SEC, &o);
	EQ_INT(t.state, S_CLOSED, "2MSL: CLOSED");
	EQ_INT(o.result, HS_RES_CLOSED, "2MSL: closed");
	check_change(&o, 0, false, S_TW, S_CLOSED, "2MSL", "2MSL");
	EQ_INT(o.ntx, 0, "2MSL: nothing sent");
	EQ_INT(hs_tcb_deadline(&t), 0, "no timer after CLOSED");

	/* A segment after CLOSED draws an RST. */
	s = pseg(&t, HS_ACK, IRS + 11, ISS + 2, 1000);
	tcb_input(&t, &s, 7 * SEC, &o);
	check_tx(&o, 0, HS_RST, ISS + 2, 0, 0, 0, "RST from CLOSED");
	s = pseg(&t, HS_SYN, 1, 0, 1000);
	tcb_input(&t, &s, 6 * SEC, &o);
	check_tx(&o, 0, HS_RST | HS_ACK, 0, 2, 0, 0, "RST,ACK for a SYN in CLOSED");
	s = pseg(&t, HS_RST, 1, 0, 1000);
	tcb_input(&t, &s, 6 * SEC, &o);
	EQ_INT(o.ntx, 0, "RST in CLOSED: nothing");
}

static void test_merged_fin_ack(void)
{
	hs_tcb t;
	hs_tcb_out o;

	est_plain(&t, &o, 1460, 60000);
	tcb_close(&t, 0, &o);
	hs_segment s = pseg(&t, HS_FIN | HS_ACK, IRS + 1, ISS + 2, 60000);
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_TW, "FIN+ACK: TIME-WAIT");
	OK(o.peer_fin, "FIN+ACK: peer_fin");
	EQ_INT(o.acked, 1, "FIN+ACK: our FIN acked");
	check_tx(&o, 0, HS_ACK, ISS + 2, IRS + 2, 64240, 0, "ACK of FIN+ACK");
	/* No state skipped: its ACK field first, then its FIN, on both sides. */
	EQ_INT(o.nchange, 5, "FIN+ACK: five changes");
	check_change(&o, 0, true, S_EST, S_CW, "our FIN acknowledged", "merged 1");
	check_change(&o, 1, true, S_CW, S_LA, "FIN received", "merged 2");
	check_change(&o, 2, false, S_FW1, S_FW2, "our FIN acknowledged", "merged 3");
	check_change(&o, 3, false, S_FW2, S_TW, "FIN received", "merged 4");
	check_change(&o, 4, true, S_LA, S_CLOSED, "ACK sent", "merged 5");
	OK(o.change[4].assumed, "merged: the peer's CLOSED is assumed");
	EQ_INT(hs_tcb_deadline(&t), 1 * MS + SEC, "TIME-WAIT timer");
}

static void test_simultaneous_close(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;

	est_plain(&t, &o, 1460, 60000);
	tcb_close(&t, 0, &o);
	s = pseg(&t, HS_FIN | HS_ACK, IRS + 1, ISS + 1, 60000); /* does not ack our FIN */
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_CLOSING, "FIN crossing ours: CLOSING");
	EQ_INT(t.peer_state, S_FW1, "peer FIN-WAIT-1 (our FIN still in flight)");
	check_tx(&o, 0, HS_ACK, ISS + 2, IRS + 2, 64240, 0, "ACK in CLOSING");
	check_change(&o, 0, true, S_EST, S_FW1, "FIN received", "simclose 1");
	check_change(&o, 1, false, S_FW1, S_CLOSING, "FIN received", "simclose 2");
	EQ_INT(o.nchange, 2, "our ACK does not move a peer that may get our FIN first");
	EQ_INT(hs_tcb_deadline(&t), SEC, "CLOSING: FIN timer still running");

	s = pseg(&t, HS_ACK, IRS + 2, ISS + 2, 60000);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(t.state, S_TW, "ACK of our FIN: TIME-WAIT");
	EQ_INT(t.peer_state, S_TW, "peer TIME-WAIT");
	check_change(&o, 0, true, S_FW1, S_CLOSING, "our FIN acknowledged", "simclose 3");
	check_change(&o, 1, true, S_CLOSING, S_TW, "our ACK of its FIN", "simclose 4");
	check_change(&o, 2, false, S_CLOSING, S_TW, "our FIN acknowledged", "simclose 5");
	EQ_INT(o.ntx, 0, "nothing to send");
	EQ_INT(hs_tcb_deadline(&t), 2 * MS + SEC, "2MSL from now");

	/* Its FIN again (it never got our ACK): back to CLOSING, ACK, TIME-WAIT. */
	s = pseg(&t, HS_FIN | HS_ACK, IRS + 1, ISS + 2, 60000);
	tcb_input(&t, &s, 3 * MS, &o);
	check_change(&o, 0, true, S_TW, S_CLOSING, "FIN resent: our ACK was lost", "simclose 6");
	check_change(&o, 1, true, S_CLOSING, S_TW, "ACK sent", "simclose 7");
}

static void test_passive_close(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static uint8_t buf[100];

	est_plain(&t, &o, 1460, 60000);
	s = pseg(&t, HS_FIN | HS_ACK | HS_PSH, IRS + 1, ISS + 1, 60000);
	with_data(&s, "bye");
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_CW, "peer FIN: CLOSE-WAIT");
	OK(o.peer_fin, "peer_fin set");
	EQ_INT(o.data_len, 3, "data before the FIN delivered");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 5, 64240, 0, "ACK of data and FIN");
	check_change(&o, 0, true, S_EST, S_FW1, "FIN received", "passive close 1");
	check_change(&o, 1, false, S_EST, S_CW, "FIN received", "passive close 2");
	check_change(&o, 2, true, S_FW1, S_FW2, "ACK sent", "passive close 3");
	EQ_INT(o.change[2].cause, 1, "peer FIN-WAIT-2 caused by tx[0]");
	EQ_INT(t.peer_state, S_FW2, "peer FIN-WAIT-2");

	/* New data after its FIN is ignored with an ACK. */
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 5, ISS + 1, 60000);
	with_data(&s, "more");
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.data_len, 0, "data after FIN ignored");
	EQ_INT(o.in_note, HS_NOTE_UNACCEPTABLE, "data after FIN: unacceptable");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 5, 64240, 0, "ACK for data after FIN");
	/* Its FIN again while we are in CLOSE-WAIT. */
	s = pseg(&t, HS_FIN | HS_ACK, IRS + 4, ISS + 1, 60000);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "FIN again in CLOSE-WAIT");
	check_change(&o, 0, true, S_FW2, S_FW1, "FIN resent: our ACK was lost", "FIN again 1");
	check_change(&o, 1, true, S_FW1, S_FW2, "ACK sent", "FIN again 2");

	/* We may still send in CLOSE-WAIT. */
	EQ_INT(tcb_send(&t, buf, 10, 3 * MS, &o), 0, "send in CLOSE-WAIT");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 5, 64240, 10, "data in CLOSE-WAIT");
	EQ_INT(tcb_close(&t, 4 * MS, &o), 0, "close in CLOSE-WAIT");
	EQ_INT(t.state, S_LA, "LAST-ACK");
	check_change(&o, 0, false, S_CW, S_LA, "FIN sent", "LAST-ACK");
	check_tx(&o, 0, HS_FIN | HS_ACK, ISS + 11, IRS + 5, 64240, 0, "our FIN after the data");
	EQ_INT(t.peer_state, S_FW2, "peer FIN-WAIT-2 until it acks our FIN");

	s = pseg(&t, HS_ACK, IRS + 5, ISS + 12, 60000);
	tcb_input(&t, &s, 5 * MS, &o);
	EQ_INT(t.state, S_CLOSED, "ACK of our FIN: CLOSED");
	EQ_INT(o.result, HS_RES_CLOSED, "passive close: closed");
	EQ_INT(o.acked, 11, "data and FIN acked");
	check_change(&o, 0, true, S_FW2, S_TW, "our FIN acknowledged", "passive close 4");
	check_change(&o, 1, false, S_LA, S_CLOSED, "our FIN acknowledged", "passive close 5");
	EQ_INT(o.ntx, 0, "nothing after CLOSED");
	EQ_INT(hs_tcb_deadline(&t), 0, "no timer");
}

static void test_fin_after_data(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static uint8_t buf[3000];

	/* Window 1000, MSS 1000: 2500 bytes need three windows; close at once. */
	est_plain(&t, &o, 1000, 1000);
	tcb_send(&t, buf, 2500, 0, &o);
	EQ_INT(o.ntx, 1, "first 1000");
	EQ_INT(tcb_close(&t, 0, &o), 0, "close with data queued");
	EQ_INT(t.state, S_FW1, "FIN-WAIT-1 at once");
	check_change(&o, 0, false, S_EST, S_FW1, "close requested", "close with data");
	EQ_INT(o.ntx, 0, "window full: no FIN yet");
	OK(!t.fin_sent, "FIN waits for the data");

	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1001, 1000);
	tcb_input(&t, &s, 1 * MS, &o);
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1001, IRS + 1, 64240, 1000, "middle 1000");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 2001, 1000);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.ntx, 1, "last data carries the FIN");
	check_tx(&o, 0, HS_FIN | HS_PSH | HS_ACK, ISS + 2001, IRS + 1, 64240, 500, "data+FIN");
	EQ_INT(t.fin_seq, ISS + 2501, "fin_seq after the data");
	EQ_INT(t.snd_nxt, ISS + 2502, "snd_nxt past the FIN");

	/* Retransmission of the last segment keeps its FIN. */
	tcb_timer(&t, 2 * MS + SEC, &o);
	check_tx(&o, 0, HS_FIN | HS_PSH | HS_ACK, ISS + 2001, IRS + 1, 64240, 500, "data+FIN again");

	/* Data acked, FIN not: the FIN alone is retransmitted. */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 2501, 1000);
	tcb_input(&t, &s, 3 * SEC, &o);
	EQ_INT(t.state, S_FW1, "FIN not yet acked: FIN-WAIT-1");
	tcb_timer(&t, 4 * SEC, &o);
	check_tx(&o, 0, HS_FIN | HS_ACK, ISS + 2501, IRS + 1, 64240, 0, "FIN alone again");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 2502, 1000);
	tcb_input(&t, &s, 5 * SEC, &o);
	EQ_INT(t.state, S_FW2, "then FIN-WAIT-2");

	/* Data and FIN in the same call: window open, close sends the rest with FIN. */
	est_plain(&t, &o, 1000, 0);
	tcb_send(&t, buf, 1500, 0, &o);
	EQ_INT(o.ntx, 0, "zero window: nothing");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 0);
	t.snd_wnd = 60000; /* the window opens without an event that sends */
	tcb_close(&t, 0, &o);
	EQ_INT(o.ntx, 2, "close sends the data and the FIN on it");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 1, 64240, 1000, "data 1 at close");
	check_tx(&o, 1, HS_FIN | HS_PSH | HS_ACK, ISS + 1001, IRS + 1, 64240, 500, "data 2 + FIN at close");
	check_change(&o, 0, false, S_EST, S_FW1, "close requested", "close sends data");
}

static void test_close_early(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	tcb_connect(&t, &c, 0, &o);
	EQ_INT(tcb_close(&t, 1 * MS, &o), 0, "close in SYN-SENT");
	EQ_INT(t.state, S_CLOSED, "SYN-SENT close: CLOSED");
	EQ_INT(o.ntx, 0, "SYN-SENT close: nothing sent");
	EQ_INT(hs_tcb_deadline(&t), 0, "SYN-SENT close: no timer");
	EQ_INT(tcb_close(&t, 1 * MS, &o), -1, "close in CLOSED: -1");

	hs_tcb_listen(&t, &c, 0, &o);
	EQ_INT(tcb_close(&t, 1 * MS, &o), 0, "close in LISTEN");
	EQ_INT(t.state, S_CLOSED, "LISTEN close: CLOSED");

	/* SYN-RECEIVED: the FIN follows the SYN,ACK. */
	hs_tcb_listen(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN, 7000, 0, 60000);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(tcb_close(&t, 1 * MS, &o), 0, "close in SYN-RECEIVED");
	EQ_INT(t.state, S_FW1, "SYN-RECEIVED close: FIN-WAIT-1");
	check_tx(&o, 0, HS_FIN | HS_ACK, ISS + 1, 7001, 64240, 0, "FIN from SYN-RECEIVED");
	/* Its ACK of the SYN and the FIN together. */
	s = pseg(&t, HS_ACK, 7001, ISS + 2, 60000);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(t.state, S_FW2, "ACK of SYN and FIN: FIN-WAIT-2");
	EQ_INT(o.acked, 2, "SYN and FIN acked");
	check_change(&o, 0, true, S_SS, S_EST, "ACK received", "SR close 1");
	check_change(&o, 1, true, S_EST, S_CW, "our FIN acknowledged", "SR close 2");
	check_change(&o, 2, false, S_FW1, S_FW2, "our FIN acknowledged", "SR close 3");
}

static void test_rst(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;

	est_full(&t, &o);
	/* Outside the window: ignored. */
	s = pseg(&t, HS_RST, IRS + 1 + 64240 + 5, 0, 0);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(t.state, S_EST, "RST out of window: ignored");
	EQ_INT(o.in_note, HS_NOTE_UNACCEPTABLE, "RST out of window: unacceptable");
	EQ_INT(o.ntx, 0, "RST out of window: no reply");
	s = pseg(&t, HS_RST, IRS, 0, 0);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.ntx, 0, "RST just behind the window: no reply");

	/* In the window, not exact: challenge ACK. */
	s = pseg(&t, HS_RST, IRS + 100, 0, 0);
	tcb_input(&t, &s, 3 * MS, &o);
	EQ_INT(t.state, S_EST, "RST in window: still ESTABLISHED");
	EQ_INT(o.ntx, 1, "RST in window: challenge ACK");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 1, 64240 >> 7, 0, "challenge ACK");
	EQ_INT(o.tx[0].note, HS_NOTE_CHALLENGE_ACK, "challenge ACK noted");
	check_ts(&o.tx[0], TSC + 3, 9000, "challenge ACK");
	EQ_INT(o.result, HS_RES_NONE, "no result");

	/* Exact: reset. */
	s = pseg(&t, HS_RST | HS_ACK, IRS + 1, ISS + 1, 0);
	tcb_input(&t, &s, 4 * MS, &o);
	EQ_INT(t.state, S_CLOSED, "exact RST: CLOSED");
	EQ_INT(o.result, HS_RES_RESET, "exact RST: reset");
	EQ_INT(o.ntx, 0, "exact RST: nothing sent");
	check_change(&o, 0, true, S_EST, S_CLOSED, "RST received", "reset 1");
	check_change(&o, 1, false, S_EST, S_CLOSED, "RST received", "reset 2");

	/* SYN in ESTABLISHED: challenge ACK, whatever its seq. */
	est_full(&t, &o);
	s = pseg(&t, HS_SYN, 123456, 0, 1000);
	tcb_input(&t, &s, 5 * MS, &o);
	EQ_INT(t.state, S_EST, "SYN in ESTABLISHED: still ESTABLISHED");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 1, 64240 >> 7, 0, "challenge ACK for a SYN");
	EQ_INT(o.tx[0].note, HS_NOTE_CHALLENGE_ACK, "SYN challenge noted");
	s = pseg(&t, HS_SYN, IRS + 1, 0, 1000); /* in window */
	tcb_input(&t, &s, 5 * MS, &o);
	EQ_INT(o.tx[0].note, HS_NOTE_CHALLENGE_ACK, "in-window SYN: challenge too");
	EQ_INT(t.state, S_EST, "in-window SYN does not reset");

	/* RST in TIME-WAIT: gone, but the close had finished. */
	est_plain(&t, &o, 1460, 60000);
	tcb_close(&t, 0, &o);
	s = pseg(&t, HS_FIN | HS_ACK, IRS + 1, ISS + 2, 60000);
	tcb_input(&t, &s, 0, &o);
	s = pseg(&t, HS_RST, IRS + 2, 0, 0);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.state, S_CLOSED, "RST in TIME-WAIT: CLOSED");
	EQ_INT(o.result, HS_RES_CLOSED, "RST in TIME-WAIT: result closed");
}

static hs_icmp_error icmp_for(const hs_tcb *t, int family, uint8_t type, uint8_t code, uint32_t seq)
{
	hs_icmp_error e;

	memset(&e, 0, sizeof(e));
	e.family = (uint8_t)family;
	e.type = type;
	e.code = code;
	e.reporter = endpoint("198.18.0.254", 0);
	e.orig_src = t->cfg.local;
	e.orig_dst = t->cfg.remote;
	e.orig_seq = seq;
	return e;
}

static void test_icmp(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();
	hs_icmp_error e;

	/* Handshake: port, host, net, protocol unreachable are all hard
	 * (fragmentation needed is not: RFC 1191, test_established_icmp_frag_needed). */
	uint8_t codes[] = { 3, 1, 0, 2 };
	for (size_t i = 0; i < sizeof(codes); i++) {
		tcb_connect(&t, &c, 0, &o);
		e = icmp_for(&t, AF_INET, 3, codes[i], ISS);
		tcb_icmp(&t, &e, 1 * MS, &o);
		EQ_INT(t.state, S_CLOSED, "SYN-SENT + ICMP unreachable: CLOSED");
		EQ_INT(o.result, HS_RES_UNREACHABLE, "SYN-SENT + ICMP unreachable: unreachable");
	}
	check_change(&o, 0, false, S_SS, S_CLOSED, "ICMP unreachable", "ICMP change");

	/* Time exceeded: soft. */
	tcb_connect(&t, &c, 0, &o);
	e = icmp_for(&t, AF_INET, 11, 0, ISS);
	tcb_icmp(&t, &e, 1 * MS, &o);
	EQ_INT(t.state, S_SS, "time exceeded: soft");
	EQ_INT(o.nchange, 0, "time exceeded: no change");
	/* Not our 4-tuple. */
	e = icmp_for(&t, AF_INET, 3, 3, ISS);
	e.orig_dst.port = 9;
	tcb_icmp(&t, &e, 1 * MS, &o);
	EQ_INT(t.state, S_SS, "ICMP for another connection ignored");
	/* Quoting a seq we never sent. */
	e = icmp_for(&t, AF_INET, 3, 3, ISS + 100000);
	tcb_icmp(&t, &e, 1 * MS, &o);
	EQ_INT(t.state, S_SS, "ICMP quoting a foreign seq ignored");
	EQ_INT(o.in_note, HS_NOTE_UNACCEPTABLE, "foreign seq: unacceptable");

	/* IPv6: port unreachable (type 1 code 4) in SYN-SENT. */
	c.local = endpoint("2001:db8::1", 40000);
	c.remote = endpoint("2001:db8::2", 8080);
	tcb_connect(&t, &c, 0, &o);
	e = icmp_for(&t, AF_INET6, 1, 4, ISS);
	tcb_icmp(&t, &e, 1 * MS, &o);
	EQ_INT(o.result, HS_RES_UNREACHABLE, "ICMPv6 port unreachable: unreachable");
	tcb_connect(&t, &c, 0, &o);
	e = icmp_for(&t, AF_INET6, 3, 0, ISS); /* time exceeded */
	tcb_icmp(&t, &e, 1 * MS, &o);
	EQ_INT(t.state, S_SS, "ICMPv6 time exceeded: soft");

	/* Synchronized: host unreachable is soft, port unreachable hard. */
	est_full(&t, &o);
	e = icmp_for(&t, AF_INET, 3, 1, ISS + 1);
	tcb_icmp(&t, &e, 2 * MS, &o);
	EQ_INT(t.state, S_EST, "ESTABLISHED + host unreachable: soft");
	EQ_INT(o.in_note, HS_NOTE_NONE, "soft error: no note");
	EQ_INT(o.result, HS_RES_NONE, "soft error: no result");
	e = icmp_for(&t, AF_INET, 3, 4, ISS + 1);
	tcb_icmp(&t, &e, 2 * MS, &o);
	EQ_INT(t.state, S_EST, "ESTABLISHED + frag needed: soft");
	e = icmp_for(&t, AF_INET, 3, 3, ISS + 1);
	tcb_icmp(&t, &e, 2 * MS, &o);
	EQ_INT(t.state, S_CLOSED, "ESTABLISHED + port unreachable: hard");
	EQ_INT(o.result, HS_RES_UNREACHABLE, "port unreachable: unreachable");
	est_full(&t, &o);
	e = icmp_for(&t, AF_INET, 3, 2, ISS + 1);
	tcb_icmp(&t, &e, 2 * MS, &o);
	EQ_INT(o.result, HS_RES_UNREACHABLE, "protocol unreachable: hard");
}

static void test_abort(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	est_full(&t, &o);
	tcb_abort(&t, true, 7 * MS, &o);
	EQ_INT(t.state, S_CLOSED, "abort: CLOSED");
	EQ_INT(o.result, HS_RES_ABORTED, "abort: aborted");
	check_tx(&o, 0, HS_RST | HS_ACK, ISS + 1, IRS + 1, 0, 0, "RST,ACK");
	check_ts(&o.tx[0], TSC + 7, 9000, "RST,ACK carries TS");
	check_change(&o, 0, false, S_EST, S_CLOSED, "RST sent", "abort 1");
	check_change(&o, 1, true, S_EST, S_CLOSED, "RST sent", "abort 2");
	EQ_INT(o.change[0].cause, 0, "abort: our change caused by the call");
	EQ_INT(o.change[1].cause, 1, "abort: the peer's caused by the RST");
	EQ_INT(t.peer_state, S_CLOSED, "abort: peer CLOSED");
	EQ_INT(hs_tcb_deadline(&t), 0, "abort: no timer");

	est_plain(&t, &o, 1460, 60000);
	tcb_abort(&t, false, 0, &o);
	check_tx(&o, 0, HS_RST, ISS + 1, 0, 0, 0, "bare RST");
	EQ_INT(o.tx[0].opt_len, 0, "bare RST: no options");

	/* In SYN-SENT the RST goes out too (the peer may hold a half-open connection). */
	tcb_connect(&t, &c, 0, &o);
	tcb_abort(&t, false, 0, &o);
	check_tx(&o, 0, HS_RST, ISS + 1, 0, 0, 0, "RST from SYN-SENT");
	EQ_INT(hs_tcb_deadline(&t), 0, "SYN-SENT abort: timer stopped");

	hs_tcb_listen(&t, &c, 0, &o);
	tcb_abort(&t, true, 0, &o);
	EQ_INT(o.ntx, 0, "abort in LISTEN: nothing sent");
	EQ_INT(t.state, S_CLOSED, "abort in LISTEN: CLOSED");
	EQ_INT(o.result, HS_RES_ABORTED, "abort in LISTEN: aborted");
}

static void test_wraparound(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();
	hs_segment s;
	static uint8_t buf[40];
	const uint32_t iss = 0xFFFFFFF0u, irs = 0xFFFFFFF8u;

	c.iss = iss;
	c.syn_opts.n = 1;
	tcb_connect(&t, &c, 0, &o);
	check_tx(&o, 0, HS_SYN, iss, 0, 64240, 0, "SYN near 2^32");
	s = pseg(&t, HS_SYN | HS_ACK, irs, iss + 1, 60000);
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.state, S_EST, "wrap: ESTABLISHED");
	check_tx(&o, 0, HS_ACK, iss + 1, irs + 1, 64240, 0, "wrap: handshake ACK");

	EQ_INT(tcb_send(&t, buf, 40, 2 * MS, &o), 0, "send across the wrap");
	check_tx(&o, 0, HS_PSH | HS_ACK, 0xFFFFFFF1u, 0xFFFFFFF9u, 64240, 40, "data across the wrap");
	EQ_INT(t.snd_nxt, 0x19, "snd_nxt wrapped");
	s = pseg(&t, HS_ACK, irs + 1, 0x10, 60000);
	tcb_input(&t, &s, 3 * MS, &o);
	EQ_INT(o.acked, 31, "partial ACK across the wrap");
	EQ_INT(t.snd_una, 0x10, "snd_una wrapped");
	OK(!hs_tcb_all_acked(&t), "not all acked");
	s = pseg(&t, HS_ACK, irs + 1, 0x19, 60000);
	tcb_input(&t, &s, 4 * MS, &o);
	EQ_INT(o.acked, 9, "rest acked");
	OK(hs_tcb_all_acked(&t), "all acked after the wrap");

	/* The peer's data crosses the wrap too. */
	s = pseg(&t, HS_ACK | HS_PSH, 0xFFFFFFF9u, 0x19, 60000);
	with_data(&s, "0123456789abcdefghij");
	tcb_input(&t, &s, 5 * MS, &o);
	EQ_INT(o.data_len, 20, "20 bytes across the wrap");
	EQ_INT(o.data_seq, 0xFFFFFFF9u, "data seq");
	EQ_INT(t.rcv_nxt, 0x0D, "rcv_nxt wrapped");
	check_tx(&o, 0, HS_ACK, 0x19, 0x0D, 64240, 0, "ACK after the wrap");
	/* Old data from before the wrap. */
	s = pseg(&t, HS_ACK | HS_PSH, 0xFFFFFFFEu, 0x19, 60000);
	with_data(&s, "5678");
	tcb_input(&t, &s, 6 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "old data across the wrap");
	/* Overlap across the wrap. */
	s = pseg(&t, HS_ACK | HS_PSH, 0xFFFFFFFEu, 0x19, 60000);
	with_data(&s, "56789abcdefghijKLM");
	tcb_input(&t, &s, 6 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_PARTIAL, "partial across the wrap");
	EQ_INT(o.data_len, 3, "3 new bytes");
	OK(o.data && memcmp(o.data, "KLM", 3) == 0, "the new bytes");
	EQ_INT(t.rcv_nxt, 0x10, "rcv_nxt");
	/* Close across the wrap. */
	tcb_close(&t, 7 * MS, &o);
	check_tx(&o, 0, HS_FIN | HS_ACK, 0x19, 0x10, 64240, 0, "FIN after the wrap");
	s = pseg(&t, HS_FIN | HS_ACK, 0x10, 0x1A, 60000);
	tcb_input(&t, &s, 8 * MS, &o);
	EQ_INT(t.state, S_TW, "wrap: TIME-WAIT");
	check_tx(&o, 0, HS_ACK, 0x1A, 0x11, 64240, 0, "last ACK");

	/* RST exactly at rcv_nxt right at the wrap. */
	c.iss = 5;
	tcb_connect(&t, &c, 0, &o);
	s = pseg(&t, HS_SYN | HS_ACK, 0xFFFFFFFFu, 6, 60000);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.rcv_nxt, 0, "rcv_nxt = 0 after irs 0xffffffff");
	s = pseg(&t, HS_RST, 0xFFFFFFFFu, 0, 0);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(t.state, S_EST, "RST at rcv_nxt - 1 ignored");
	s = pseg(&t, HS_RST, 0, 0, 0);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(o.result, HS_RES_RESET, "RST at rcv_nxt 0: reset");
}

static void test_ts_echo(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static uint8_t buf[10];

	est_full(&t, &o);
	check_ts(&o.tx[0], TSC + 1, 9000, "handshake ACK echoes the SYN,ACK's TSval");
	tcb_send(&t, buf, 10, 250 * MS, &o);
	check_ts(&o.tx[0], TSC + 250, 9000, "data TSval = ts_clock + ms since open");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 11, 1000);
	with_ts(&s, 9999, TSC + 250);
	tcb_input(&t, &s, 300 * MS, &o);
	EQ_INT(t.ts_recent, 9999, "ts_recent from the ACK");
	tcb_send(&t, buf, 10, 400 * MS, &o);
	check_ts(&o.tx[0], TSC + 400, 9999, "next segment echoes 9999");
	/* A segment beyond rcv_nxt does not update ts_recent. */
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 50, ISS + 21, 1000);
	with_data(&s, "zz");
	with_ts(&s, 12345, TSC + 400);
	tcb_input(&t, &s, 410 * MS, &o);
	check_ts(&o.tx[0], TSC + 410, 9999, "out-of-order: TSecr unchanged");

	/* TSval wraps with a large ts_clock. */
	hs_tcb_config c = cfg_base();
	c.ts_clock = 0xFFFFFFFFu;
	tcb_connect(&t, &c, 0, &o);
	tcb_timer(&t, SEC, &o);
	check_ts(&o.tx[0], 999, 0, "TSval wraps modulo 2^32");
}

static void test_out_reset(void)
{
	hs_tcb t;
	hs_tcb_out o;

	est_full(&t, &o);
	hs_segment s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 1000);
	tcb_input(&t, &s, 2 * MS, &o); /* window update */
	memset(&o, 0x5a, sizeof(o));
	tcb_input(&t, &s, 50 * MS, &o); /* the same again: a duplicate ACK, nothing else */
	EQ_INT(o.ntx, 0, "input resets ntx");
	EQ_INT(o.nchange, 0, "input resets nchange");
	EQ_INT(o.in_note, HS_NOTE_DUP_ACK, "input resets in_note (then notes the dup-ack)");
	OK(o.data == NULL && o.data_len == 0, "input resets data");
	EQ_INT(o.acked, 0, "input resets acked");
	OK(!o.peer_fin, "input resets peer_fin");
	memset(&o, 0x5a, sizeof(o));
	tcb_icmp(&t, &(hs_icmp_error){ .family = AF_INET, .type = 11 }, 0, &o);
	EQ_INT(o.ntx, 0, "icmp resets out");
	memset(&o, 0x5a, sizeof(o));
	EQ_INT(tcb_send(&t, NULL, 0, 0, &o), 0, "empty send");
	EQ_INT(o.ntx, 0, "send resets out");
	memset(&o, 0x5a, sizeof(o));
	hs_tcb_listen(&t, &t.cfg, 0, &o);
	EQ_INT(o.ntx, 0, "listen resets out");
	EQ_INT(o.nchange, 1, "listen: one change only");
}


/* A kept connection saved by one process and resumed by another continues with
 * the same numbers, options and TSval (never going back). */
static void test_resume(void)
{
	hs_tcb t, u;
	hs_tcb_out o;
	hs_tcb_snapshot snap;
	hs_segment s;

	est_full(&t, &o);
	hs_tcb_snapshot_take(&t, 2 * SEC, &snap);
	EQ_INT(snap.state, S_EST, "snapshot: state");
	EQ_INT(snap.peer_state, S_EST, "snapshot: peer state");
	EQ_INT(snap.snd_nxt, ISS + 1, "snapshot: SND.NXT");
	EQ_INT(snap.rcv_nxt, IRS + 1, "snapshot: RCV.NXT");
	EQ_INT(snap.ts_val, TSC + 2000, "snapshot: TSval now");
	OK(snap.ts_ok && snap.sack_ok && snap.ws_ok, "snapshot: options");

	hs_tcb_config c = cfg_base();
	c.iss = 77; /* ignored: the snapshot's ISS counts */
	hs_tcb_resume(&u, &c, &snap, 50 * SEC);
	EQ_INT(u.state, S_EST, "resumed: ESTABLISHED");
	EQ_INT(u.iss, ISS, "resumed: ISS");
	EQ_INT(u.snd_nxt, ISS + 1, "resumed: SND.NXT");
	EQ_INT(u.snd_una, ISS + 1, "resumed: SND.UNA");
	EQ_INT(u.rcv_nxt, IRS + 1, "resumed: RCV.NXT");
	EQ_INT(u.snd_wscale, 8, "resumed: peer's shift");
	EQ_INT(u.rcv_wscale, 7, "resumed: our shift");
	EQ_INT(hs_tcb_deadline(&u), 0, "resumed: no timer");
	OK(hs_tcb_all_acked(&u), "resumed: nothing in flight");

	/* The keepalive: one old byte at SND.NXT-1, TSval continuing from the snapshot. */
	tcb_probe(&u, true, 50 * SEC + 5 * MS, &o);
	check_tx(&o, 0, HS_ACK, ISS, IRS + 1, 64240 >> 7, 1, "keepalive");
	EQ_INT(o.tx[0].note, HS_NOTE_KEEPALIVE, "keepalive noted");
	check_ts(&o.tx[0], TSC + 2000 + 5, 9000, "keepalive");
	EQ_INT(o.nchange, 0, "keepalive changes nothing");
	EQ_INT(u.snd_nxt, ISS + 1, "keepalive: SND.NXT unchanged");
	tcb_probe(&u, false, 50 * SEC + 5 * MS, &o);
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 1, 64240 >> 7, 0, "dup ACK");
	EQ_INT(o.tx[0].note, HS_NOTE_DUP_ACK, "dup ACK noted");

	/* The peer's answer is a plain ACK: nothing to send back. */
	s = pseg(&u, HS_ACK, IRS + 1, ISS + 1, 1000);
	with_ts(&s, 9900, TSC + 2005);
	tcb_input(&u, &s, 50 * SEC + 6 * MS, &o);
	EQ_INT(o.ntx, 0, "answer to keepalive: no reply");
	EQ_INT(u.state, S_EST, "answer to keepalive: still ESTABLISHED");
	EQ_INT(u.ts_recent, 9900, "answer to keepalive: TS.Recent");

	/* An RST answer (the peer lost the connection) at RCV.NXT ends it. */
	s = pseg(&u, HS_RST, IRS + 1, 0, 0);
	tcb_input(&u, &s, 50 * SEC + 7 * MS, &o);
	EQ_INT(u.result, HS_RES_RESET, "RST answer: reset");
	EQ_INT(u.state, S_CLOSED, "RST answer: CLOSED");

	/* A kept CLOSE-WAIT connection knows the peer's FIN: close goes to LAST-ACK. */
	snap.state = S_CW;
	snap.peer_state = HS_FIN_WAIT_2;
	snap.rcv_nxt = IRS + 2;
	hs_tcb_resume(&u, &c, &snap, 0);
	EQ_INT(tcb_close(&u, 0, &o), 0, "close in resumed CLOSE-WAIT");
	EQ_INT(u.state, S_LA, "resumed CLOSE-WAIT: LAST-ACK");
	check_tx(&o, 0, HS_FIN | HS_ACK, ISS + 1, IRS + 2, 64240 >> 7, 0, "resumed: FIN");
}

/* cork: data queued by hs_tcb_send goes out with the FIN in one segment on close. */
static void test_cork(void)
{
	hs_tcb t;
	hs_tcb_out o;

	est_full(&t, &o);
	t.cork = true;
	EQ_INT(tcb_send(&t, (const uint8_t *)"last words", 10, 10 * MS, &o), 0, "corked send");
	EQ_INT(o.ntx, 0, "corked: nothing sent");
	EQ_INT(tcb_close(&t, 10 * MS, &o), 0, "close");
	EQ_INT(o.ntx, 1, "one segment");
	check_tx(&o, 0, HS_FIN | HS_PSH | HS_ACK, ISS + 1, IRS + 1, 64240 >> 7, 10, "data and FIN");
	OK(o.tx[0].data && memcmp(o.tx[0].data, "last words", 10) == 0, "data and FIN: the bytes");
	EQ_INT(t.state, S_FW1, "FIN-WAIT-1");
	EQ_INT(t.snd_nxt, ISS + 12, "SND.NXT after data and FIN");
	OK(!t.cork, "close uncorks");
}

/* ---- fidelity: network copies, sent-time effects, assumed peer states ----------- */

static void test_established_synack_copy(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	tcb_connect(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 1000);
	with_syn_opts(&s, 1400, true, true, 8);
	s.opts.ts_ecr = TSC;
	tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(t.peer_state, S_EST, "copy: peer ESTABLISHED after our ACK");
	/* The same datagram again (nft dup): same TSval. */
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_DUPLICATE, "SYN,ACK copy: duplicate");
	EQ_INT(o.nchange, 0, "SYN,ACK copy: the peer does not go back to SYN-RECEIVED");
	EQ_INT(o.ntx, 0, "SYN,ACK copy: not answered");
	EQ_INT(t.peer_state, S_EST, "SYN,ACK copy: peer still ESTABLISHED");
}

static void test_established_ipid_tells_copy_without_ts(void)
{
	hs_tcb t;
	hs_tcb_out o;

	est_plain(&t, &o, 1460, 60000);
	hs_segment s = pseg(&t, HS_ACK | HS_PSH, IRS + 1, ISS + 1, 60000);
	with_data(&s, "abc");
	s.has_ip_id = true;
	s.ip_id = 77;
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.data_len, 3, "data taken");
	tcb_input(&t, &s, 3 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_DUPLICATE, "same IPv4 ID: a copy");
	s.ip_id = 78;
	tcb_input(&t, &s, 300 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "new IPv4 ID: a retransmission");
	EQ_INT(o.ntx, 1, "a retransmission is acknowledged again");
	/* IPv6 without timestamps (or Linux's IPv4 ID 0): only time tells. */
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 4, ISS + 1, 60000);
	with_data(&s, "de"); /* one byte again would be a keepalive */
	tcb_input(&t, &s, 400 * MS, &o);
	tcb_input(&t, &s, 400 * MS + 100000, &o);
	EQ_INT(o.in_note, HS_NOTE_DUPLICATE, "no TS, no IP ID, 0.1 ms later: a copy");
	tcb_input(&t, &s, 600 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "no TS, no IP ID, 200 ms later: a resend");
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 6, ISS + 1, 60000);
	with_data(&s, "fg");
	s.has_ip_id = true;
	s.ip_id = 0;
	tcb_input(&t, &s, 700 * MS, &o);
	tcb_input(&t, &s, 900 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "IPv4 ID 0 (Linux SYN,ACKs): not proof of a copy");
	/* Timestamps alone are not proof either: one millisecond, one TSval. */
	s = pseg(&t, HS_ACK, IRS + 8, ISS + 1, 60000);
	with_ts(&s, 9999, TSC);
	s.has_ip_id = true;
	s.ip_id = 100;
	tcb_input(&t, &s, 1000 * MS, &o);
	s.ip_id = 101;
	tcb_input(&t, &s, 1000 * MS + 300000, &o);
	OK(o.in_note != HS_NOTE_DUPLICATE, "same TSval, another IPv4 ID: not a copy");
}

static void test_synsent_peer_moves_when_ack_leaves(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	hs_tcb_connect(&t, &c, 0, &o);
	hs_tcb_sent_all(&t, 0, &o);
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 1000);
	with_syn_opts(&s, 1400, true, true, 8);
	hs_tcb_input(&t, &s, 1 * MS, &o);
	EQ_INT(o.ntx, 1, "held: the ACK is built");
	EQ_INT(t.peer_state, S_SR, "held: the peer is SYN-RECEIVED while our ACK has not left");
	/* The peer retransmits its SYN,ACK while we hold the ACK (--step). */
	hs_tcb_out o2;
	s.opts.ts_val = 10000;
	hs_tcb_input(&t, &s, 900 * MS, &o2);
	EQ_INT(o2.nchange, 0, "held: a resent SYN,ACK does not move a peer that never left SYN-RECEIVED");
	EQ_INT(o2.in_note, HS_NOTE_RETRANSMISSION, "held: resent SYN,ACK noted");
	/* The held ACK is brought up to date, then leaves. */
	hs_tcb_refresh(&t, &o.tx[0], 950 * MS);
	EQ_INT(o.tx[0].ack, IRS + 1, "refresh: ack RCV.NXT");
	EQ_INT(o.tx[0].tsval, TSC + 950, "refresh: TSval now, not when built");
	hs_tcb_sent(&t, 0, 950 * MS, &o);
	EQ_INT(t.peer_state, S_EST, "sent: peer ESTABLISHED");
	OK(t.peer_assumed, "sent: assumed");
}

static void test_established_tsecr_confirms_assumed_peer(void)
{
	hs_tcb t;
	hs_tcb_out o;

	est_full(&t, &o); /* our ACK at 1 ms: TSval TSC + 1 */
	OK(t.peer_assumed, "after our ACK: assumed");
	hs_segment s = pseg(&t, HS_ACK | HS_PSH, IRS + 1, ISS + 1, 1000);
	with_data(&s, "x");
	with_ts(&s, 9100, TSC); /* echoes the SYN's TSval: says nothing of our ACK */
	tcb_input(&t, &s, 5 * MS, &o);
	OK(t.peer_assumed, "TSecr older than our ACK: still assumed");
	s = pseg(&t, HS_ACK | HS_PSH, IRS + 2, ISS + 1, 1000);
	with_data(&s, "y");
	with_ts(&s, 9200, TSC + 1);
	tcb_input(&t, &s, 6 * MS, &o);
	OK(!t.peer_assumed, "TSecr of our ACK: seen");
}

static void test_synreceived_reply_rst_is_not_the_peers(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	hs_tcb_listen(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN, 7000, 0, 100);
	tcb_input(&t, &s, 0, &o);
	s = pseg(&t, HS_ACK, 7001, 5555, 100);
	tcb_input(&t, &s, 0, &o);
	OK(o.ntx == 1 && o.tx[0].reply_rst, "a bad ACK draws a reply RST");
	EQ_INT(t.peer_state, S_SS, "the reply RST moves nothing");
}

/* ---- notes, as Wireshark's TCP analysis judges the same segments ----------------- */

/* The peer's first segment is lost: the next one opens a gap (out-of-order), a
 * pure segment right after it continues the stream (no note), our ACK repeats the
 * previous one (dup-ack), and the re-sent segments are retransmissions -- also the
 * one that fills the hole hs was waiting at. */
static void test_established_data_after_gap_then_retransmitted(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static const uint8_t hello[] = "helloworld";

	est_full(&t, &o);
	s = pseg(&t, HS_PSH | HS_ACK, IRS + 6, ISS + 1, 200);
	s.payload = hello + 5;
	s.len = 5;
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_OUT_OF_ORDER, "beyond the gap: out-of-order");
	EQ_INT(o.ntx, 1, "beyond the gap: an ACK");
	EQ_INT(o.tx[0].note, HS_NOTE_DUP_ACK, "our ACK repeats the handshake's: dup-ack");
	s = pseg(&t, HS_FIN | HS_ACK, IRS + 11, ISS + 1, 200);
	tcb_input(&t, &s, 3 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_NONE, "FIN right after it: no new gap, no note");
	EQ_INT(o.tx[0].note, HS_NOTE_DUP_ACK, "our ACK again: dup-ack");
	s = pseg(&t, HS_PSH | HS_ACK, IRS + 1, ISS + 1, 200);
	s.payload = hello;
	s.len = 5;
	tcb_input(&t, &s, 200 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "the hole filled: retransmission");
	EQ_INT(o.data_len, 5, "the hole filled: delivered");
	EQ_INT(o.reasm_len, 5, "the held rest follows it");
	OK(o.peer_fin, "and the held FIN is taken");
	EQ_INT(t.state, S_CW, "CLOSE-WAIT");
	check_tx(&o, 0, HS_ACK, ISS + 1, IRS + 12, 64240 >> 7, 0, "one ACK for all of it");
	EQ_INT(o.tx[0].note, HS_NOTE_NONE, "our ACK of it is new");
	s = pseg(&t, HS_FIN | HS_PSH | HS_ACK, IRS + 6, ISS + 1, 200);
	s.payload = hello + 5;
	s.len = 5;
	tcb_input(&t, &s, 201 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_RETRANSMISSION, "the rest again: retransmission");
	EQ_INT(o.data_len, 0, "nothing new in it");
}

/* Out-of-order pieces are held (with SACK blocks for exactly what is held, the
 * newest first) and delivered once, in order, when the hole fills. */
static void test_established_ooo_held_and_sacked(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static const uint8_t abc[] = "aaaaabbbbbcccccddddd";

	est_full(&t, &o);
	s = pseg(&t, HS_PSH | HS_ACK, IRS + 11, ISS + 1, 200); /* ccccc */
	s.payload = abc + 10;
	s.len = 5;
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(t.nooo, 1, "held: one range");
	EQ_INT(o.tx[0].ack, IRS + 1, "dup ACK at RCV.NXT");
	hs_tcp_opts got;
	const char *err;
	hs_opts_decode(o.tx[0].opts, o.tx[0].opt_len, &got, &err);
	EQ_INT(got.nsack, 1, "one SACK block");
	EQ_INT(got.sack[0].left, IRS + 11, "block left");
	EQ_INT(got.sack[0].right, IRS + 16, "block right");
	s = pseg(&t, HS_PSH | HS_ACK, IRS + 16, ISS + 1, 200); /* ddddd: joins it */
	s.payload = abc + 15;
	s.len = 5;
	tcb_input(&t, &s, 3 * MS, &o);
	EQ_INT(t.nooo, 1, "adjacent pieces merge");
	s = pseg(&t, HS_PSH | HS_ACK, IRS + 6, ISS + 1, 200); /* bbbbb: still a hole before it */
	s.payload = abc + 5;
	s.len = 5;
	tcb_input(&t, &s, 4 * MS, &o);
	EQ_INT(t.nooo, 1, "and merge again");
	hs_opts_decode(o.tx[0].opts, o.tx[0].opt_len, &got, &err);
	EQ_INT(got.sack[0].left, IRS + 6, "the block grew left");
	EQ_INT(got.sack[0].right, IRS + 21, "to all that is held");
	s = pseg(&t, HS_PSH | HS_ACK, IRS + 1, ISS + 1, 200); /* aaaaa: the hole */
	s.payload = abc;
	s.len = 5;
	tcb_input(&t, &s, 5 * MS, &o);
	EQ_INT(o.data_len, 5, "the hole");
	EQ_INT(o.reasm_len, 15, "and the 15 held bytes after it");
	EQ_INT(t.rcv_nxt, IRS + 21, "RCV.NXT past all of it");
	EQ_INT(t.nooo, 0, "nothing held");
	EQ_INT(memcmp(t.ooo_buf + ((IRS + 6) & (HS_TCB_OOO_BYTES - 1)), abc + 5, 5), 0, "held bytes kept");
	hs_opts_decode(o.tx[0].opts, o.tx[0].opt_len, &got, &err);
	EQ_INT(got.nsack, 0, "no SACK once nothing is held");
}

/* Three duplicate ACKs (or ACKs with new SACK information) resend SND.UNA at once. */
static void test_established_fast_retransmit(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static const uint8_t data[3000] = { 1 };

	est_full(&t, &o); /* MSS 1400, TS: 1388 a segment */
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 1000); /* the window, scaled: 1000 << 8 */
	with_ts(&s, 9050, TSC + 1);
	tcb_input(&t, &s, 5 * MS, &o);
	tcb_send(&t, data, 3000, 10 * MS, &o);
	EQ_INT(o.ntx, 3, "three segments out");
	for (int i = 0; i < 2; i++) {
		s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 1000);
		with_ts(&s, 9100 + i, TSC + 10);
		tcb_input(&t, &s, (20 + i) * MS, &o);
		EQ_INT(o.ntx, 0, "dup ACK 1, 2: nothing yet");
	}
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 1000);
	with_ts(&s, 9102, TSC + 10);
	tcb_input(&t, &s, 22 * MS, &o);
	EQ_INT(o.ntx, 1, "the third: fast retransmit");
	EQ_INT(o.tx[0].seq, ISS + 1, "of SND.UNA");
	EQ_INT(o.tx[0].note, HS_NOTE_RETRANSMISSION, "noted");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 1000);
	with_ts(&s, 9103, TSC + 10);
	tcb_input(&t, &s, 23 * MS, &o);
	EQ_INT(o.ntx, 0, "once per hole");

	/* A reopening window changes on every ACK: new SACK information counts. */
	est_full(&t, &o);
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 1000);
	with_ts(&s, 9050, TSC + 1);
	tcb_input(&t, &s, 5 * MS, &o);
	tcb_send(&t, data, 3000, 10 * MS, &o);
	for (int i = 0; i < 3; i++) {
		s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, (uint16_t)(1000 + i));
		with_ts(&s, 9100 + i, TSC + 10);
		s.opts.nsack = 1;
		s.opts.sack[0].left = ISS + 1389;
		s.opts.sack[0].right = ISS + 1389 + 500 * (uint32_t)(i + 1);
		tcb_input(&t, &s, (20 + i) * MS, &o);
	}
	EQ_INT(o.ntx, 1, "new SACK blocks with a changing window: fast retransmit");
	EQ_INT(o.tx[0].seq, ISS + 1, "of SND.UNA");
}

/* RFC 5961 7: at most challenge_acks_per_sec challenge ACKs a second. */
static void test_established_challenge_ack_throttled(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	int sent = 0, throttled = 0;

	est_full(&t, &o);
	for (int i = 0; i < 30; i++) {
		s = pseg(&t, HS_RST, IRS + 10 + (uint32_t)i, 0, 0);
		tcb_input(&t, &s, SEC + (uint64_t)i * MS, &o);
		sent += o.ntx;
		throttled += o.in_note == HS_NOTE_CHALLENGE_THROTTLED;
	}
	EQ_INT(sent, 10, "ten challenge ACKs in a second");
	EQ_INT(throttled, 20, "the rest noted throttled");
	s = pseg(&t, HS_RST, IRS + 50, 0, 0);
	tcb_input(&t, &s, 2 * SEC + 100 * MS, &o);
	EQ_INT(o.ntx, 1, "a second later: again");
	EQ_INT(t.state, S_EST, "none of them reset");
}

/* RFC 7413: data in a SYN without a cookie we know is not taken, and says so. */
static void test_listen_syn_with_data(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	hs_tcb_listen(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN, 7000, 0, 100);
	with_data(&s, "GET /");
	tcb_input(&t, &s, 0, &o);
	EQ_INT(o.in_note, HS_NOTE_SYN_DATA, "noted: not accepted");
	check_tx(&o, 0, HS_SYN | HS_ACK, ISS, 7001, 64240, 0, "SYN,ACK acknowledges the SYN only");
}

/* ---- RFC 7413 TCP Fast Open ------------------------------------------------------- */

static const uint8_t TFO_COOKIE[8] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04 };

/* Our SYN options ask with this cookie (or for one, when n is 0). */
static void with_tfo_spec(hs_tcb_config *c, uint8_t n)
{
	hs_opt_item *it = &c->syn_opts.item[c->syn_opts.n++];
	memset(it, 0, sizeof(*it));
	it->kind = HS_OPTK_TFO;
	it->len = n;
	memcpy(it->data, TFO_COOKIE, n);
}

static void with_tfo(hs_segment *s, uint8_t n)
{
	s->opts.has |= HS_HAS_TFO;
	s->opts.tfo_len = n;
	memcpy(s->opts.tfo_cookie, TFO_COOKIE, n);
}

/* The SYN carries the data after its options, and SND.NXT counts it; a SYN,ACK that
 * acknowledges SYN and data: nothing more to send, nothing in flight. */
static void test_synsent_syn_data_acked(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();
	static const uint8_t data[] = "hello";

	with_tfo_spec(&c, 8);
	c.syn_data = data;
	c.syn_data_len = 5;
	tcb_connect(&t, &c, 0, &o);
	check_tx(&o, 0, HS_SYN, ISS, 0, 64240, 5, "SYN with data");
	OK(o.tx[0].data == data, "the SYN's data is the caller's");
	EQ_INT(t.snd_nxt, ISS + 1 + 5, "SND.NXT counts SYN and data");
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1 + 5, 65535);
	with_syn_opts(&s, 1460, false, false, -1);
	tcb_input(&t, &s, MS, &o);
	EQ_STR(o.tfo ? o.tfo : "(null)", "data-acked", "the SYN,ACK acknowledged the data");
	EQ_INT(t.state, S_EST, "established");
	EQ_INT(t.snd_una, ISS + 6, "SND.UNA past the data");
	EQ_INT(t.snd_nxt, ISS + 6, "SND.NXT unchanged");
	EQ_INT(o.ntx, 1, "one segment: the ACK");
	check_tx(&o, 0, HS_ACK, ISS + 6, IRS + 1, 64240, 0, "ACK, no data again");
	OK(hs_tcb_all_acked(&t), "all acknowledged");
	EQ_INT(t.rtx_deadline, 0, "no timer");
}

/* RFC 7413 4.2.2: only the SYN acknowledged: SND.NXT goes back to ISS + 1 and the
 * data goes again right after the handshake, with the ACK. */
static void test_synsent_syn_data_not_acked(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();
	static const uint8_t data[] = "hello";

	with_tfo_spec(&c, 8);
	c.syn_data = data;
	c.syn_data_len = 5;
	tcb_connect(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 65535);
	with_syn_opts(&s, 1460, false, false, -1);
	tcb_input(&t, &s, MS, &o);
	EQ_STR(o.tfo ? o.tfo : "(null)", "syn-only", "the SYN,ACK acknowledged only the SYN");
	EQ_INT(t.state, S_EST, "established");
	EQ_INT(t.snd_una, ISS + 1, "SND.UNA after the SYN");
	EQ_INT(o.ntx, 1, "one segment: the data, acknowledging the SYN,ACK");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 1, 64240, 5, "the data again");
	EQ_INT(o.tx[0].note, HS_NOTE_RETRANSMISSION, "noted a retransmission (it went in the SYN)");
	EQ_INT(t.snd_nxt, ISS + 6, "SND.NXT after it");
	OK(t.rtx_deadline != 0, "its timer runs");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 6, 65535);
	tcb_input(&t, &s, 2 * MS, &o);
	OK(hs_tcb_all_acked(&t), "then acknowledged");
}

/* More data than fits: 536 bytes in the SYN, the rest after the handshake. */
static void test_synsent_syn_data_longer_than_mss(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();
	static uint8_t data[1000];

	with_tfo_spec(&c, 8);
	c.syn_data = data;
	c.syn_data_len = sizeof(data);
	tcb_connect(&t, &c, 0, &o);
	check_tx(&o, 0, HS_SYN, ISS, 0, 64240, HS_TFO_SYN_DATA_MAX, "SYN with 536 bytes");
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1 + HS_TFO_SYN_DATA_MAX, 65535);
	with_syn_opts(&s, 1460, false, false, -1);
	tcb_input(&t, &s, MS, &o);
	EQ_STR(o.tfo ? o.tfo : "(null)", "data-acked", "acked");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1 + HS_TFO_SYN_DATA_MAX, IRS + 1, 64240, 1000 - HS_TFO_SYN_DATA_MAX,
	         "the rest");
}

/* A cookie request in the SYN; the cookie in the SYN,ACK is kept for the next SYN. */
static void test_synsent_tfo_cookie_request(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	memset(&c.syn_opts, 0, sizeof(c.syn_opts));
	with_tfo_spec(&c, 0);
	tcb_connect(&t, &c, 0, &o);
	static const uint8_t req[] = { 34, 2, 0, 0 };
	check_opts(&o.tx[0], req, sizeof(req), "SYN: a cookie request");
	check_tx(&o, 0, HS_SYN, ISS, 0, 64240, 0, "no data");
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 65535);
	with_tfo(&s, 8);
	tcb_input(&t, &s, MS, &o);
	EQ_INT(t.tfo_peer_cookie_len, 8, "the cookie kept");
	OK(memcmp(t.tfo_peer_cookie, TFO_COOKIE, 8) == 0, "its bytes");
	OK(o.tfo == NULL, "no data to judge");
}

/* The server side: a request is answered with our cookie in the SYN,ACK. */
static void test_listen_tfo_cookie_request(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	c.tfo_cookie_len = 8;
	memcpy(c.tfo_cookie, TFO_COOKIE, 8);
	hs_tcb_listen(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN, 7000, 0, 100);
	with_syn_opts(&s, 1460, false, false, -1);
	with_tfo(&s, 0);
	tcb_input(&t, &s, 0, &o);
	check_tx(&o, 0, HS_SYN | HS_ACK, ISS, 7001, 64240, 0, "SYN,ACK");
	hs_tcp_opts d;
	const char *err = NULL;
	EQ_INT(hs_opts_decode(o.tx[0].opts, o.tx[0].opt_len, &d, &err), 0, "its options decode");
	OK(d.has & HS_HAS_TFO, "carry TFO");
	EQ_INT(d.tfo_len, 8, "with our cookie");
	OK(memcmp(d.tfo_cookie, TFO_COOKIE, 8) == 0, "its bytes");
}

/* With an MD5 key the signature takes 20 option bytes: a 16-byte cookie no longer
 * fits beside MSS, SACK-permitted, timestamps and window scale, and is left out
 * (the signature is not optional) -- the SYN,ACK still goes. */
static void test_listen_tfo_cookie_request_md5_no_room(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	c.tfo_cookie_len = 16;
	memcpy(c.tfo_cookie, "0123456789abcdef", 16);
	c.md5_space = 20;
	hs_tcb_listen(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN, 7000, 0, 100);
	with_syn_opts(&s, 1460, true, true, 7);
	with_tfo(&s, 0);
	tcb_input(&t, &s, 0, &o);
	EQ_INT(o.ntx, 1, "a SYN,ACK goes");
	check_tx(&o, 0, HS_SYN | HS_ACK, ISS, 7001, 64240, 0, "SYN,ACK");
	OK(((o.tx[0].opt_len + 3) & ~3) + 20 <= 40, "its options leave the signature room");
	hs_tcp_opts d;
	const char *err = NULL;
	EQ_INT(hs_opts_decode(o.tx[0].opts, o.tx[0].opt_len, &d, &err), 0, "its options decode");
	OK(!(d.has & HS_HAS_TFO), "no cookie: no room for it");
	OK(d.has & HS_HAS_TS, "the timestamps stay");
}

/* Data in a SYN with our cookie: acknowledged in the SYN,ACK and delivered. */
static void test_listen_syn_data_valid_cookie(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	c.tfo_cookie_len = 8;
	memcpy(c.tfo_cookie, TFO_COOKIE, 8);
	hs_tcb_listen(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN, 7000, 0, 100);
	with_tfo(&s, 8);
	with_data(&s, "GET /");
	tcb_input(&t, &s, 0, &o);
	EQ_INT(o.in_note, HS_NOTE_NONE, "no note");
	EQ_STR(o.tfo ? o.tfo : "(null)", "data-acked", "taken");
	EQ_INT(o.data_len, 5, "delivered");
	EQ_INT(o.data_seq, 7001, "from after the SYN");
	check_tx(&o, 0, HS_SYN | HS_ACK, ISS, 7006, 64240, 0, "SYN,ACK acknowledges SYN and data");
	hs_tcp_opts d;
	const char *err = NULL;
	(void)hs_opts_decode(o.tx[0].opts, o.tx[0].opt_len, &d, &err);
	OK(!(d.has & HS_HAS_TFO), "no cookie in the SYN,ACK: the client has the right one");
	s = pseg(&t, HS_ACK, 7006, ISS + 1, 100);
	tcb_input(&t, &s, MS, &o);
	EQ_INT(t.state, S_EST, "the ACK completes it");
}

/* Data in a SYN with a wrong cookie: only the SYN, and the right cookie offered. */
static void test_listen_syn_data_wrong_cookie(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	c.tfo_cookie_len = 8;
	memcpy(c.tfo_cookie, TFO_COOKIE, 8);
	c.tfo_cookie[0] ^= 1;
	hs_tcb_listen(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN, 7000, 0, 100);
	with_tfo(&s, 8);
	with_data(&s, "GET /");
	tcb_input(&t, &s, 0, &o);
	EQ_INT(o.in_note, HS_NOTE_SYN_DATA, "noted: not accepted");
	EQ_STR(o.tfo ? o.tfo : "(null)", "syn-only", "tfo: syn-only");
	EQ_INT(o.data_len, 0, "nothing delivered");
	check_tx(&o, 0, HS_SYN | HS_ACK, ISS, 7001, 64240, 0, "SYN,ACK acknowledges the SYN only");
}

/* Every segment showing a zero window is noted zero-window, also when it repeats
 * the ACK while data is outstanding (not dup-ack: that needs an open window). */
static void test_established_zero_window_again(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static uint8_t buf[3000];

	est_plain(&t, &o, 1000, 10000);
	EQ_INT(tcb_send(&t, buf, 3000, 2 * MS, &o), 0, "send 3000");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1001, 0);
	tcb_input(&t, &s, 3 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_ZERO_WINDOW, "window closes: zero-window");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1001, 0);
	tcb_input(&t, &s, 250 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_ZERO_WINDOW, "still closed: zero-window again, not dup-ack");
}

/* A probe sent again while the window stays shut is still a zero-window probe. */
static void test_established_zero_window_probe_again(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static uint8_t buf[100];

	est_plain(&t, &o, 1460, 0);
	EQ_INT(tcb_send(&t, buf, 100, 0, &o), 0, "send into a zero window");
	tcb_timer(&t, SEC, &o);
	EQ_INT(o.tx[0].note, HS_NOTE_ZERO_WINDOW_PROBE, "first probe");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 0);
	tcb_input(&t, &s, SEC + MS, &o);
	EQ_INT(o.in_note, HS_NOTE_ZERO_WINDOW, "its answer: zero-window");
	tcb_timer(&t, hs_tcb_deadline(&t), &o);
	EQ_INT(o.ntx, 1, "probe again");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 1, 64240, 1, "second probe");
	EQ_INT(o.tx[0].note, HS_NOTE_ZERO_WINDOW_PROBE, "second probe: zero-window-probe, not retransmission");
}

/* Data up to the right edge of the peer's window: window-full. */
static void test_established_send_window_full(void)
{
	hs_tcb t;
	hs_tcb_out o;
	static uint8_t buf[3000];

	est_plain(&t, &o, 1000, 1500);
	EQ_INT(tcb_send(&t, buf, 3000, 2 * MS, &o), 0, "send 3000 into 1500");
	EQ_INT(o.ntx, 2, "two segments");
	EQ_INT(o.tx[0].note, HS_NOTE_NONE, "first segment: room left");
	EQ_INT(o.tx[1].len, 500, "second segment: what the window allows");
	EQ_INT(o.tx[1].note, HS_NOTE_WINDOW_FULL, "second segment: window-full");
}

/* The peer's keepalive (no data, or one old byte) and our answer to it. */
static void test_established_keepalive_in(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;
	static const uint8_t old = 0;

	est_full(&t, &o);
	s = pseg(&t, HS_ACK, IRS, ISS + 1, 200);
	tcb_input(&t, &s, 2 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_KEEPALIVE, "keepalive");
	EQ_INT(o.ntx, 1, "answered");
	EQ_INT(o.tx[0].note, HS_NOTE_KEEPALIVE_ACK, "our answer: keepalive-ack");
	s = pseg(&t, HS_ACK, IRS, ISS + 1, 200);
	s.payload = &old;
	s.len = 1;
	tcb_input(&t, &s, 3 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_KEEPALIVE, "keepalive with one old byte: keepalive, not retransmission");
	EQ_INT(o.tx[0].note, HS_NOTE_KEEPALIVE_ACK, "our answer: keepalive-ack");
}

/* The peer's answer to our keepalive repeats its ACK: keepalive-ack, not dup-ack. */
static void test_established_keepalive_answered(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_segment s;

	est_full(&t, &o);
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 200);
	tcb_input(&t, &s, 2 * MS, &o);
	tcb_probe(&t, true, 3 * MS, &o);
	EQ_INT(o.tx[0].note, HS_NOTE_KEEPALIVE, "our probe: keepalive");
	s = pseg(&t, HS_ACK, IRS + 1, ISS + 1, 200);
	tcb_input(&t, &s, 4 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_KEEPALIVE_ACK, "its answer: keepalive-ack");
}

/* RFC 1191: "fragmentation needed" quoting our segment: smaller, at once. */
static void test_established_icmp_frag_needed(void)
{
	hs_tcb t;
	hs_tcb_out o;
	static uint8_t data[1448];

	est_plain(&t, &o, 1460, 60000);
	tcb_send(&t, data, sizeof(data), 2 * MS, &o);
	EQ_INT(o.ntx, 1, "one segment");
	EQ_INT(o.tx[0].len, 1448, "of 1448 bytes");
	hs_icmp_error e;
	memset(&e, 0, sizeof(e));
	e.family = AF_INET;
	e.type = 3;
	e.code = 4;
	e.mtu = 1280;
	e.orig_src = t.cfg.local;
	e.orig_dst = t.cfg.remote;
	e.orig_seq = ISS + 1;
	tcb_icmp(&t, &e, 3 * MS, &o);
	EQ_INT(t.state, S_EST, "still ESTABLISHED");
	EQ_INT(o.ntx, 2, "sent again at once, in two");
	EQ_INT(o.tx[0].seq, ISS + 1, "from SND.UNA");
	EQ_INT(o.tx[0].len, 1240, "what MTU 1280 allows (IPv4 and TCP headers off)");
	EQ_INT(o.tx[1].len, 208, "and the rest");
	EQ_INT(o.tx[0].note, HS_NOTE_PMTU, "noted pmtu");
	EQ_INT(hs_tcb_deadline(&t), 2 * MS + SEC, "the timer not restarted");
	/* The same ICMP again (for the first big segment): nothing more to do. */
	tcb_icmp(&t, &e, 4 * MS, &o);
	EQ_INT(o.ntx, 0, "already that small");
	/* Port unreachable would end it; frag-needed in SYN-SENT must not. */
	hs_tcb_config c = cfg_base();
	tcb_connect(&t, &c, 0, &o);
	e.orig_seq = ISS;
	tcb_icmp(&t, &e, 1 * MS, &o);
	EQ_INT(t.state, S_SS, "frag-needed for a SYN: still SYN-SENT");
}

int main(void)
{
	test_names();
	test_config_default();
	test_active_open();
	test_active_open_no_options();
	test_synack_with_data_and_fin();
	test_refused();
	test_syn_timeout();
	test_duplicate_synack();
	test_established_synack_copy();
	test_established_ipid_tells_copy_without_ts();
	test_synsent_peer_moves_when_ack_leaves();
	test_established_tsecr_confirms_assumed_peer();
	test_synreceived_reply_rst_is_not_the_peers();
	test_bad_ack_synack();
	test_simultaneous_open();
	test_passive_open();
	test_passive_echo_variants();
	test_listen_misc();
	test_client_ack_with_data();
	test_data_in();
	test_ack_processing();
	test_send();
	test_zero_window_probe();
	test_data_retransmission();
	test_active_close();
	test_merged_fin_ack();
	test_simultaneous_close();
	test_passive_close();
	test_fin_after_data();
	test_close_early();
	test_rst();
	test_icmp();
	test_abort();
	test_wraparound();
	test_ts_echo();
	test_out_reset();
	test_resume();
	test_cork();
	test_resumed_window_update_needs_a_window_seen();
	test_established_data_after_gap_then_retransmitted();
	test_established_ooo_held_and_sacked();
	test_established_fast_retransmit();
	test_established_challenge_ack_throttled();
	test_listen_syn_with_data();
	test_synsent_syn_data_acked();
	test_synsent_syn_data_not_acked();
	test_synsent_syn_data_longer_than_mss();
	test_synsent_tfo_cookie_request();
	test_listen_tfo_cookie_request();
	test_listen_tfo_cookie_request_md5_no_room();
	test_listen_syn_data_valid_cookie();
	test_listen_syn_data_wrong_cookie();
	test_established_icmp_frag_needed();
	test_established_zero_window_again();
	test_established_zero_window_probe_again();
	test_established_send_window_full();
	test_established_keepalive_in();
	test_established_keepalive_answered();
	return tap_done();
}
