/* The crafting core: hs_tcb_template / hs_tcb_closed, hs_craft_build against a
 * connection's numbers, what a crafted segment does to the TCB once it has left
 * (hs_tcb_sent_crafted), taking crafted data back (hs_tcb_forget_unacked), and the
 * peer's reaction classes. Specs are built by hand (the notation parser is not used). */
#include <config.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/craft.h"
#include "hs/notation.h"
#include "hs/opts.h"
#include "hs/seq.h"
#include "hs/state.h"
#include "hs/tcb.h"
#include "tap.h"
#include "tcb_fixture.h"

#define WIN_EST (64240 >> 7) /* our window after the handshake (wscale 7) */

static const hs_state S_CLOSED = HS_CLOSED, S_SR = HS_SYN_RECEIVED, S_EST = HS_ESTABLISHED,
	S_FW1 = HS_FIN_WAIT_1, S_FW2 = HS_FIN_WAIT_2, S_CW = HS_CLOSE_WAIT, S_LA = HS_LAST_ACK;

/* ---- helpers (as in test_tcb.c) ------------------------------------------------- */







static void with_data(hs_segment *s, const char *text)
{
	s->payload = (const uint8_t *)text;
	s->len = strlen(text);
}




/* Header fields of one segment. */
static void check_seg(const hs_tx *x, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
                      uint32_t len, const char *ctx)
{
	char flagbuf[64], wantbuf[64];
	EQ_STR(flag_names(x->flags, flagbuf), flag_names(flags, wantbuf), what(ctx, "flags"));
	EQ_INT(x->seq, seq, what(ctx, "seq"));
	EQ_INT(x->ack, ack, what(ctx, "ack"));
	EQ_INT(x->win, win, what(ctx, "win"));
	EQ_INT(x->len, len, what(ctx, "len"));
}

static void check_tx(const hs_tcb_out *o, int i, uint8_t flags, uint32_t seq, uint32_t ack,
                     uint16_t win, uint32_t len, const char *ctx)
{
	if (i >= o->ntx) {
		OK(0, what(ctx, "segment present"));
		printf("#   only %d segments\n", o->ntx);
		return;
	}
	check_seg(&o->tx[i], flags, seq, ack, win, len, ctx);
}





/* The default SYN options (mss=1460,sack,ts,nop,wscale=7) with TS val/ecr. */
static void syn_opts_bytes(uint8_t b[20], uint32_t val, uint32_t ecr)
{
	static const uint8_t syn[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
	memcpy(b, syn, 20);
	put32(b + 8, val);
	put32(b + 12, ecr);
}

/* NOP,NOP,TS val/ecr: what a segment carries after the handshake. */
static void est_opts_bytes(uint8_t b[12], uint32_t val, uint32_t ecr)
{
	static const uint8_t ts[12] = { 1, 1, 8, 10 };
	memcpy(b, ts, 12);
	put32(b + 4, val);
	put32(b + 8, ecr);
}

/* ---- fixtures ------------------------------------------------------------------- */


/* est_full, then the peer's FIN (IRS+1) at 2 ms: CLOSE-WAIT, RCV.NXT = IRS + 2. */
static void close_wait(hs_tcb *t, hs_tcb_out *o)
{
	est_full(t, o);
	hs_segment s = pseg(t, HS_FIN | HS_ACK, IRS + 1, ISS + 1, 1000);
	with_ts(&s, PEER_TS + 1, TSC + 1);
	tcb_input(t, &s, 2 * MS, o);
}

/* The peer's ACK (seq IRS + 1 unless after its FIN) with its TS. */
static void peer_ack(hs_tcb *t, uint32_t seq, uint32_t ack, uint64_t now, hs_tcb_out *o)
{
	hs_segment s = pseg(t, HS_ACK, seq, ack, 1000);
	with_ts(&s, PEER_TS + 10 + (uint32_t)(now / MS), TSC + 1);
	hs_tcb_input(t, &s, now, o);
	hs_tcb_sent_all(t, now, o);
}

/* hs_craft_build with no base; the build must succeed. */
static hs_tx craft(const hs_tcb *t, const hs_seg_spec *sp, const uint8_t *data, uint32_t len,
                   uint64_t now, const char *ctx)
{
	hs_tx tx;
	char err[256] = "";

	memset(&tx, 0, sizeof(tx));
	int rc = hs_craft_build(t, sp, NULL, data, len, now, &tx, err, sizeof(err));
	EQ_INT(rc, 0, what(ctx, "built"));
	if (rc != 0)
		printf("#   err: %s\n", err);
	return tx;
}

/* The crafted segment as out->tx[0] of an otherwise empty out, as the driver hands
 * it to hs_tcb_sent_crafted. */
static void crafted_out(hs_tcb_out *o, const hs_tx *tx)
{
	memset(o, 0, sizeof(*o));
	o->tx[0] = *tx;
	o->ntx = 1;
}

static void spec_flags(hs_seg_spec *sp, uint8_t flags)
{
	hs_seg_spec_init(sp);
	sp->have_flags = true;
	sp->flags = flags;
}

static const uint8_t hello[] = "hello"; /* 5 bytes of data (the NUL is not sent) */

/* ---- hs_tcb_template / hs_tcb_closed ---------------------------------------------- */

static void test_established_template_ack(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tx tx;
	uint8_t want[12];

	est_full(&t, &o);
	memset(&tx, 0xab, sizeof(tx));
	hs_tcb_template(&t, HS_ACK, 10 * MS, &tx);
	check_seg(&tx, HS_ACK, ISS + 1, IRS + 1, WIN_EST, 0, "template ACK");
	est_opts_bytes(want, TSC + 10, PEER_TS);
	check_opts(&tx, want, sizeof(want), "template ACK");
	OK(tx.has_ts, "template ACK: has_ts");
	EQ_INT(tx.tsval, TSC + 10, "template ACK: tsval now");
	OK(tx.data == NULL, "template ACK: no data");
	EQ_INT(tx.urp, 0, "template ACK: urp 0");
	OK(!tx.crafted, "template ACK: not crafted");
	OK(!tx.ip.bad_csum && !tx.ip.set_ttl, "template ACK: no IP fields");
	EQ_INT(tx.note, HS_NOTE_NONE, "template ACK: no note");


	/* Later: TSval moves on, TSecr follows TS.Recent. */
	hs_segment s = pseg(&t, HS_PSH | HS_ACK, IRS + 1, ISS + 1, 1000);
	with_ts(&s, PEER_TS + 7, TSC + 1);
	with_data(&s, "abc");
	tcb_input(&t, &s, 20 * MS, &o);
	hs_tcb_template(&t, HS_ACK, 30 * MS, &tx);
	EQ_INT(tx.ack, IRS + 4, "template ACK after data: ack RCV.NXT");
	check_ts(&tx, TSC + 30, PEER_TS + 7, "template ACK after data");

	/* FIN,ACK: the same numbers. */
	hs_tcb_template(&t, HS_FIN | HS_ACK, 30 * MS, &tx);
	check_seg(&tx, HS_FIN | HS_ACK, ISS + 1, IRS + 4, WIN_EST, 0, "template FIN,ACK");
}

static void test_established_template_syn(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tx tx;
	uint8_t want[20];

	est_full(&t, &o);
	/* A SYN into a synchronized connection goes at SND.NXT (RFC 5961 4: any SYN there
	 * draws a challenge ACK), not at ISS. */
	hs_tcb_template(&t, HS_SYN, 10 * MS, &tx);
	check_seg(&tx, HS_SYN, ISS + 1, 0, 64240, 0, "template SYN");
	syn_opts_bytes(want, TSC + 10, 0);
	check_opts(&tx, want, sizeof(want), "template SYN");
	OK(tx.has_ts, "template SYN: has_ts");
	EQ_INT(tx.tsval, TSC + 10, "template SYN: tsval");

	/* SYN,ACK: SND.NXT, RCV.NXT, the options both sides offered (TSecr TS.Recent). */
	hs_tcb_template(&t, HS_SYN | HS_ACK, 10 * MS, &tx);
	check_seg(&tx, HS_SYN | HS_ACK, ISS + 1, IRS + 1, 64240, 0, "template SYN,ACK");
	syn_opts_bytes(want, TSC + 10, PEER_TS);
	check_opts(&tx, want, sizeof(want), "template SYN,ACK");
	/* Regression: has_ts was left false for a SYN,ACK whose options carry our TSval. */
	OK(tx.has_ts, "template SYN,ACK: has_ts (its options carry TS)");
	EQ_INT(tx.tsval, TSC + 10, "template SYN,ACK: tsval");

	/* SYN options without TS: has_ts must say so. */
	hs_tcb_config c = cfg_base();
	char err[128];
	EQ_INT(hs_opt_spec_parse("mss=1200", &c.syn_opts, err, sizeof(err)), 0, "syn opts mss=1200");
	hs_tcb_closed(&t, &c, 0);
	hs_tcb_template(&t, HS_SYN, 10 * MS, &tx);
	static const uint8_t mss[4] = { 2, 4, 0x04, 0xb0 };
	check_opts(&tx, mss, sizeof(mss), "template SYN without TS");
	/* Regression: has_ts was set for every SYN, also one without a TS option. */
	OK(!tx.has_ts, "template SYN without TS: has_ts false");
}

static void test_established_template_rst(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tx tx;

	est_full(&t, &o);
	hs_tcb_template(&t, HS_RST, 10 * MS, &tx);
	check_seg(&tx, HS_RST, ISS + 1, 0, 0, 0, "template RST");
	hs_tcb_template(&t, HS_RST | HS_ACK, 10 * MS, &tx);
	check_seg(&tx, HS_RST | HS_ACK, ISS + 1, IRS + 1, 0, 0, "template RST,ACK");
}

static void test_closed_template_syn(void)
{
	hs_tcb t;
	hs_tx tx;
	uint8_t want[20];
	hs_tcb_config c = cfg_base();

	memset(&t, 0xab, sizeof(t));
	hs_tcb_closed(&t, &c, 100 * MS);
	EQ_INT(t.state, S_CLOSED, "closed: CLOSED");
	EQ_INT(t.peer_state, S_CLOSED, "closed: peer CLOSED");
	EQ_INT(t.snd_nxt, ISS, "closed: SND.NXT = ISS");
	EQ_INT(t.result, HS_RES_NONE, "closed: no result");
	EQ_INT(hs_tcb_deadline(&t), 0, "closed: no timer");
	OK(!t.irs_known, "closed: IRS unknown");

	hs_tcb_template(&t, HS_SYN, 105 * MS, &tx);
	check_seg(&tx, HS_SYN, ISS, 0, 64240, 0, "closed template SYN");
	syn_opts_bytes(want, TSC + 5, 0);
	check_opts(&tx, want, sizeof(want), "closed template SYN (TSval from the open time)");
	EQ_INT(tx.tsval, TSC + 5, "closed template SYN: tsval");

	/* An ACK in CLOSED: no options (nothing negotiated), window unscaled. */
	hs_tcb_template(&t, HS_ACK, 105 * MS, &tx);
	check_seg(&tx, HS_ACK, ISS, 0, 64240, 0, "closed template ACK");
	EQ_INT(tx.opt_len, 0, "closed template ACK: no options");
	OK(!tx.has_ts, "closed template ACK: no TS");
}

/* ---- hs_craft_build ------------------------------------------------------------ */

static void test_established_build_default(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	uint8_t want[12];

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, NULL, 0, 10 * MS, "default");
	check_seg(&tx, HS_ACK, ISS + 1, IRS + 1, WIN_EST, 0, "default");
	est_opts_bytes(want, TSC + 10, PEER_TS);
	check_opts(&tx, want, sizeof(want), "default");
	OK(tx.crafted, "default: crafted");
	OK(tx.has_ts, "default: has_ts");
	EQ_INT(tx.tsval, TSC + 10, "default: tsval");
	OK(tx.data == NULL, "default: no data");
	EQ_INT(tx.urp, 0, "default: urp");
	OK(!tx.ip.set_ttl && !tx.ip.set_tos && !tx.ip.set_ip_id && !tx.ip.set_df && !tx.ip.bad_csum,
	   "default: no IP fields");
	EQ_INT(tx.note, HS_NOTE_NONE, "default: no note");
	OK(!tx.reply_rst, "default: not a reply RST");
}

static void test_established_build_data(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "data");
	check_seg(&tx, HS_PSH | HS_ACK, ISS + 1, IRS + 1, WIN_EST, 5, "data");
	OK(tx.data == hello, "data: the caller's bytes, by pointer");
	check_ts(&tx, TSC + 10, PEER_TS, "data");

	/* A length that agrees with the data is fine. */
	sp.have_len = true;
	sp.len = 5;
	tx = craft(&t, &sp, hello, 5, 10 * MS, "data with (5)");
	EQ_INT(tx.len, 5, "data with (5): len");
	OK(tx.data == hello, "data with (5): pointer");
}

static void test_closed_build_default(void)
{
	hs_tcb t;
	hs_seg_spec sp;
	uint8_t want[20];
	hs_tcb_config c = cfg_base();

	hs_tcb_closed(&t, &c, 0);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, NULL, 0, 7 * MS, "closed default");
	check_seg(&tx, HS_SYN, ISS, 0, 64240, 0, "closed default");
	syn_opts_bytes(want, TSC + 7, 0);
	check_opts(&tx, want, sizeof(want), "closed default");
	OK(tx.has_ts, "closed default: has_ts");
	EQ_INT(tx.tsval, TSC + 7, "closed default: tsval");
	OK(tx.crafted, "closed default: crafted");

	/* With data it is still a SYN (a probe carrying data). */
	tx = craft(&t, &sp, hello, 5, 7 * MS, "closed data");
	check_seg(&tx, HS_SYN, ISS, 0, 64240, 5, "closed data");
}

static void test_established_build_numbers(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	hs_tx tx;

	est_full(&t, &o);
	/* Move RCV.NXT and SND.NXT away from ISN + 1 so that every base is told apart. */
	hs_segment s = pseg(&t, HS_PSH | HS_ACK, IRS + 1, ISS + 1, 1000);
	with_ts(&s, PEER_TS + 1, TSC + 1);
	with_data(&s, "0123456789");
	tcb_input(&t, &s, 2 * MS, &o);
	static uint8_t buf[20];
	EQ_INT(hs_tcb_send(&t, buf, 20, 3 * MS, &o), 0, "send 20");
	hs_tcb_sent_all(&t, 3 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 21, "SND.NXT = ISS + 21");
	EQ_INT(t.rcv_nxt, IRS + 11, "RCV.NXT = IRS + 11");

	hs_seg_spec_init(&sp);
	sp.seq = (hs_num){ HS_NUM_REL, 3 };
	sp.ack = (hs_num){ HS_NUM_REL, 4 };
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "REL");
	EQ_INT(tx.seq, ISS + 3, "REL: seq from ISS");
	EQ_INT(tx.ack, IRS + 4, "REL: ack from IRS");

	sp.seq = (hs_num){ HS_NUM_FWD, 7 };
	sp.ack = (hs_num){ HS_NUM_FWD, 2 };
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "FWD");
	EQ_INT(tx.seq, ISS + 21 + 7, "FWD: seq from SND.NXT");
	EQ_INT(tx.ack, IRS + 11 + 2, "FWD: ack from RCV.NXT");

	sp.seq = (hs_num){ HS_NUM_BACK, 5 };
	sp.ack = (hs_num){ HS_NUM_BACK, 6 };
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "BACK");
	EQ_INT(tx.seq, ISS + 21 - 5, "BACK: seq before SND.NXT");
	EQ_INT(tx.ack, IRS + 11 - 6, "BACK: ack before RCV.NXT");

	sp.seq = (hs_num){ HS_NUM_ABS, 0xdeadbeefu };
	sp.ack = (hs_num){ HS_NUM_ABS, 7 };
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "ABS");
	EQ_INT(tx.seq, 0xdeadbeefu, "ABS: seq as given");
	EQ_INT(tx.ack, 7, "ABS: ack as given");

	/* Wrap-around: BACK past 0. */
	sp.seq = (hs_num){ HS_NUM_BACK, ISS + 22 };
	sp.ack = (hs_num){ HS_NUM_UNSET, 0 };
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "BACK wraps");
	EQ_INT(tx.seq, 0xffffffffu, "BACK wraps: seq");
	EQ_INT(tx.ack, IRS + 11, "unset ack: RCV.NXT");

	/* No ACK flag: ack 0 unless given. */
	spec_flags(&sp, HS_RST);
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "RST");
	check_seg(&tx, HS_RST, ISS + 21, 0, 0, 0, "RST");
	sp.ack = (hs_num){ HS_NUM_ABS, 77 };
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "RST with ack");
	EQ_INT(tx.ack, 77, "RST with an ack given: kept");

	/* SYN into the connection: SND.NXT unless given. */
	spec_flags(&sp, HS_SYN);
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "SYN");
	EQ_INT(tx.seq, ISS + 21, "SYN: SND.NXT");
	sp.seq = (hs_num){ HS_NUM_FWD, 1 };
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "SYN +1");
	EQ_INT(tx.seq, ISS + 22, "SYN with +1: after SND.NXT");
}

/* A held segment edited (--step): fields not given keep base's, +N/-N count from
 * base's numbers. */
static void test_established_build_edit(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	hs_tx base, tx;
	char err[256] = "";
	static const uint8_t other[3] = { 'x', 'y', 'z' };

	est_full(&t, &o);
	hs_tcb_template(&t, HS_PSH | HS_ACK, 5 * MS, &base); /* TSval TSC + 5 */
	base.seq = ISS + 101;
	base.ack = IRS + 51;
	base.win = 300;
	base.data = hello;
	base.len = 5;
	base.urp = 2;
	base.ip.set_ttl = true;
	base.ip.ttl = 9;

	/* Nothing given: base as it is (its options too, TSval not refreshed). */
	hs_seg_spec_init(&sp);
	EQ_INT(hs_craft_build(&t, &sp, &base, NULL, 0, 10 * MS, &tx, err, sizeof(err)), 0, "edit nothing");
	check_seg(&tx, HS_PSH | HS_ACK, ISS + 101, IRS + 51, 300, 5, "edit nothing");
	OK(tx.data == hello, "edit nothing: base's data");
	EQ_INT(tx.urp, 2, "edit nothing: base's urp");
	OK(tx.ip.set_ttl && tx.ip.ttl == 9, "edit nothing: base's TTL");
	check_ts(&tx, TSC + 5, PEER_TS, "edit nothing: base's options");
	OK(tx.has_ts, "edit nothing: has_ts");
	EQ_INT(tx.tsval, TSC + 5, "edit nothing: tsval from the options");
	OK(tx.crafted, "edit: crafted");

	/* +N / -N from base's numbers, not SND.NXT / RCV.NXT. */
	sp.seq = (hs_num){ HS_NUM_FWD, 3 };
	sp.ack = (hs_num){ HS_NUM_BACK, 2 };
	sp.have_win = true;
	sp.win = 77;
	sp.ip.set_tos = true;
	sp.ip.tos = 0x10;
	EQ_INT(hs_craft_build(&t, &sp, &base, NULL, 0, 10 * MS, &tx, err, sizeof(err)), 0, "edit +3 -2");
	EQ_INT(tx.seq, ISS + 104, "edit +3: from base's seq");
	EQ_INT(tx.ack, IRS + 49, "edit -2: from base's ack");
	EQ_INT(tx.win, 77, "edit win");
	EQ_INT(tx.flags, HS_PSH | HS_ACK, "edit: base's flags");
	EQ_INT(tx.len, 5, "edit: base's length");
	OK(tx.ip.set_ttl && tx.ip.ttl == 9 && tx.ip.set_tos && tx.ip.tos == 0x10, "edit: base's TTL and the new TOS");

	/* REL still from the ISNs. */
	sp.seq = (hs_num){ HS_NUM_REL, 1 };
	sp.ack = (hs_num){ HS_NUM_REL, 1 };
	EQ_INT(hs_craft_build(&t, &sp, &base, NULL, 0, 10 * MS, &tx, err, sizeof(err)), 0, "edit REL");
	EQ_INT(tx.seq, ISS + 1, "edit REL: seq from ISS");
	EQ_INT(tx.ack, IRS + 1, "edit REL: ack from IRS");

	/* A length: zeros of it in place of base's data. */
	hs_seg_spec_init(&sp);
	sp.have_len = true;
	sp.len = 3;
	EQ_INT(hs_craft_build(&t, &sp, &base, NULL, 0, 10 * MS, &tx, err, sizeof(err)), 0, "edit len=3");
	EQ_INT(tx.len, 3, "edit len=3: len");
	OK(tx.data && tx.data != hello && tx.data[0] == 0 && tx.data[1] == 0 && tx.data[2] == 0,
	   "edit len=3: zeros");

	/* New bytes given by the caller. */
	hs_seg_spec_init(&sp);
	EQ_INT(hs_craft_build(&t, &sp, &base, other, 3, 10 * MS, &tx, err, sizeof(err)), 0, "edit data");
	EQ_INT(tx.len, 3, "edit data: len");
	OK(tx.data == other, "edit data: the new bytes");

	/* len=0: the data goes. */
	sp.have_len = true;
	sp.len = 0;
	EQ_INT(hs_craft_build(&t, &sp, &base, NULL, 0, 10 * MS, &tx, err, sizeof(err)), 0, "edit len=0");
	EQ_INT(tx.len, 0, "edit len=0: len");
	OK(tx.data == NULL, "edit len=0: no data");

	/* Flags that make it a SYN,ACK: the template's window and options; base's
	 * numbers. */
	spec_flags(&sp, HS_SYN | HS_ACK);
	EQ_INT(hs_craft_build(&t, &sp, &base, NULL, 0, 10 * MS, &tx, err, sizeof(err)), 0, "edit to SYN,ACK");
	check_seg(&tx, HS_SYN | HS_ACK, ISS + 101, IRS + 51, 64240, 5, "edit to SYN,ACK");
	uint8_t want[20];
	syn_opts_bytes(want, TSC + 10, PEER_TS);
	check_opts(&tx, want, sizeof(want), "edit to SYN,ACK: the template's options");
	OK(tx.has_ts, "edit to SYN,ACK: has_ts");
	EQ_INT(tx.tsval, TSC + 10, "edit to SYN,ACK: tsval");

	/* The other way: a SYN edited into an ACK takes the established options. */
	hs_tx synbase;
	hs_tcb_template(&t, HS_SYN, 5 * MS, &synbase);
	spec_flags(&sp, HS_ACK);
	EQ_INT(hs_craft_build(&t, &sp, &synbase, NULL, 0, 10 * MS, &tx, err, sizeof(err)), 0, "edit SYN to ACK");
	EQ_INT(tx.seq, ISS + 1, "edit SYN to ACK: SND.NXT");
	EQ_INT(tx.win, WIN_EST, "edit SYN to ACK: the scaled window");
	uint8_t estw[12];
	est_opts_bytes(estw, TSC + 10, PEER_TS);
	check_opts(&tx, estw, sizeof(estw), "edit SYN to ACK: established options");

	/* Flags without SYN change: base's options stay. */
	spec_flags(&sp, HS_FIN | HS_ACK);
	EQ_INT(hs_craft_build(&t, &sp, &base, NULL, 0, 10 * MS, &tx, err, sizeof(err)), 0, "edit to FIN,ACK");
	EQ_INT(tx.flags, HS_FIN | HS_ACK, "edit to FIN,ACK: flags");
	EQ_INT(tx.seq, ISS + 101, "edit to FIN,ACK: base's seq");
	EQ_INT(tx.tsval, TSC + 5, "edit to FIN,ACK: base's options");
}

static void test_established_build_length(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	hs_tx tx;
	char err[256];
	static uint8_t big[HS_CRAFT_MAX_PAYLOAD + 1];

	est_full(&t, &o);

	/* A length without data: that many zeros. */
	hs_seg_spec_init(&sp);
	sp.have_len = true;
	sp.len = 4;
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "len 4");
	check_seg(&tx, HS_PSH | HS_ACK, ISS + 1, IRS + 1, WIN_EST, 4, "len 4");
	OK(tx.data && tx.data[0] == 0 && tx.data[1] == 0 && tx.data[2] == 0 && tx.data[3] == 0, "len 4: zeros");
	sp.len = 0;
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "len 0");
	check_seg(&tx, HS_ACK, ISS + 1, IRS + 1, WIN_EST, 0, "len 0");
	OK(tx.data == NULL, "len 0: no data");

	/* A length that differs from the data's. */
	sp.len = 4;
	strcpy(err, "");
	EQ_INT(hs_craft_build(&t, &sp, NULL, hello, 5, 10 * MS, &tx, err, sizeof(err)), -1, "len 4 with 5 bytes: -1");
	OK(strstr(err, "(4)") && strstr(err, "(5 bytes)"), "len mismatch: the message gives both");
	printf("#   %s\n", err);

	/* Too long. */
	sp.len = HS_CRAFT_MAX_PAYLOAD + 1;
	strcpy(err, "");
	EQ_INT(hs_craft_build(&t, &sp, NULL, NULL, 0, 10 * MS, &tx, err, sizeof(err)), -1, "len 65496: -1");
	OK(strstr(err, "65496") != NULL, "len 65496: the message gives the length");
	hs_seg_spec_init(&sp);
	strcpy(err, "");
	EQ_INT(hs_craft_build(&t, &sp, NULL, big, sizeof(big), 10 * MS, &tx, err, sizeof(err)), -1,
	       "65496 bytes of data: -1");
	OK(err[0] != '\0', "65496 bytes of data: a message");
	/* 65495 bytes and 12 of options (TS) do not fit either; 65483 do. */
	strcpy(err, "");
	EQ_INT(hs_craft_build(&t, &sp, NULL, big, HS_CRAFT_MAX_PAYLOAD, 10 * MS, &tx, err, sizeof(err)), -1,
	       "65495 bytes + TS: -1");
	OK(strstr(err, "12") != NULL, "65495 bytes + TS: the message gives the options");
	EQ_INT(hs_craft_build(&t, &sp, NULL, big, HS_CRAFT_MAX_PAYLOAD - 12, 10 * MS, &tx, err, sizeof(err)), 0,
	       "65483 bytes + TS: fits");
	EQ_INT(tx.len, HS_CRAFT_MAX_PAYLOAD - 12, "65483 bytes: len");
}

static void test_established_build_fields(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	hs_tx tx;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	sp.have_win = true;
	sp.win = 1234;
	sp.have_urg = true;
	sp.urg = 77;
	sp.ip.set_ttl = true;
	sp.ip.ttl = 3;
	sp.ip.set_tos = true;
	sp.ip.tos = 0xb8;
	sp.ip.set_ip_id = true;
	sp.ip.ip_id = 4242;
	sp.ip.set_df = true;
	sp.ip.df = false;
	sp.ip.bad_csum = true;
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "fields");
	EQ_INT(tx.win, 1234, "fields: win as given (unscaled)");
	EQ_INT(tx.urp, 77, "fields: urp");
	OK(tx.ip.set_ttl, "fields: set_ttl");
	EQ_INT(tx.ip.ttl, 3, "fields: ttl");
	OK(tx.ip.set_tos, "fields: set_tos");
	EQ_INT(tx.ip.tos, 0xb8, "fields: tos");
	OK(tx.ip.set_ip_id, "fields: set_ip_id");
	EQ_INT(tx.ip.ip_id, 4242, "fields: ip_id");
	OK(tx.ip.set_df, "fields: set_df");
	OK(!tx.ip.df, "fields: df 0");
	OK(tx.ip.bad_csum, "fields: bad_csum");
	OK(tx.crafted, "fields: crafted");
	EQ_INT(tx.seq, ISS + 1, "fields: seq untouched");
}

static void test_established_build_opts(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	hs_tx tx;
	char err[256];

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	sp.have_opts = true;
	EQ_INT(hs_opt_spec_parse("mss=1200", &sp.opts, err, sizeof(err)), 0, "opts mss=1200 parsed");
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "opts mss");
	static const uint8_t mss[4] = { 2, 4, 0x04, 0xb0 };
	check_opts(&tx, mss, sizeof(mss), "opts mss");
	OK(!tx.has_ts, "opts mss: no TS");

	/* ts: filled with TSval now and TSecr TS.Recent. */
	EQ_INT(hs_opt_spec_parse("nop,nop,ts", &sp.opts, err, sizeof(err)), 0, "opts ts parsed");
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "opts ts");
	uint8_t want[12];
	est_opts_bytes(want, TSC + 10, PEER_TS);
	check_opts(&tx, want, sizeof(want), "opts ts");
	OK(tx.has_ts, "opts ts: has_ts");
	EQ_INT(tx.tsval, TSC + 10, "opts ts: tsval");

	/* A fixed TS value: has_ts/tsval follow the bytes. */
	EQ_INT(hs_opt_spec_parse("nop,nop,ts=4711:5", &sp.opts, err, sizeof(err)), 0, "opts ts=4711:5 parsed");
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "opts ts fixed");
	OK(tx.has_ts, "opts ts fixed: has_ts");
	EQ_INT(tx.tsval, 4711, "opts ts fixed: tsval");

	/* "<>": no options at all. */
	EQ_INT(hs_opt_spec_parse("", &sp.opts, err, sizeof(err)), 0, "opts empty parsed");
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "opts none");
	EQ_INT(tx.opt_len, 0, "opts none: opt_len 0");
	OK(!tx.has_ts, "opts none: has_ts false");

	/* Over 40 bytes. */
	memset(&sp.opts, 0, sizeof(sp.opts));
	for (int i = 0; i < 11; i++) {
		sp.opts.item[i].kind = HS_OPTK_MSS;
		sp.opts.item[i].v1 = 1000;
	}
	sp.opts.n = 11;
	strcpy(err, "");
	EQ_INT(hs_craft_build(&t, &sp, NULL, NULL, 0, 10 * MS, &tx, err, sizeof(err)), -1, "44 bytes of options: -1");
	OK(strncmp(err, "options:", 8) == 0, "44 bytes of options: the message says options");
}

/* ---- hs_tcb_sent_crafted ----------------------------------------------------------- */

/* Data at SND.NXT, not to be retransmitted (hs send), then the peer's ACK. */
static void test_established_sent_crafted_data(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "crafted data");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 6, "crafted data: SND.NXT advances");
	EQ_INT(t.snd_end, ISS + 6, "crafted data: snd_end too");
	EQ_INT(t.snd_max, ISS + 6, "crafted data: snd_max too");
	EQ_INT(t.snd_una, ISS + 1, "crafted data: SND.UNA stays");
	EQ_INT(t.nchunk, 1, "crafted data: one chunk");
	OK(t.crafted_una, "crafted data: crafted_una");
	EQ_INT(hs_tcb_deadline(&t), 0, "crafted data, no retransmit: no timer");
	EQ_INT(o.nchange, 0, "crafted data: no change");
	EQ_INT(t.state, S_EST, "crafted data: ESTABLISHED");
	OK(!hs_tcb_all_acked(&t), "crafted data: not all acked");

	/* The peer acknowledges it. */
	peer_ack(&t, IRS + 1, ISS + 6, 20 * MS, &o);
	EQ_INT(o.acked, 5, "ACK of crafted data: 5 acked");
	EQ_INT(o.in_note, HS_NOTE_NONE, "ACK of crafted data: no note (not unacceptable)");
	EQ_INT(o.ntx, 0, "ACK of crafted data: nothing sent");
	EQ_INT(t.snd_una, ISS + 6, "ACK of crafted data: SND.UNA");
	OK(!t.crafted_una, "ACK of crafted data: crafted_una cleared");
	OK(hs_tcb_all_acked(&t), "ACK of crafted data: all acked");

	/* A timer fire far later: nothing to resend. */
	hs_tcb_timer(&t, 100 * SEC, &o);
	EQ_INT(o.ntx, 0, "after the ACK: the timer sends nothing");

	/* Our own data carries on after it. */
	static uint8_t more[3] = { 1, 2, 3 };
	EQ_INT(hs_tcb_send(&t, more, 3, 30 * MS, &o), 0, "send after crafted data");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 6, IRS + 1, WIN_EST, 3, "send after crafted data");
}

/* k out of range: nothing. */
static void test_established_sent_crafted_bad_index(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "bad index");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 1, false, 10 * MS, &o);
	hs_tcb_sent_crafted(&t, -1, false, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 1, "k out of range: SND.NXT unchanged");
	EQ_INT(o.nchange, 0, "k out of range: no change");
}

static void test_established_sent_crafted_data_retransmit(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "retransmit");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, true, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 6, "retransmit: SND.NXT advances");
	OK(!t.crafted_una, "retransmit: not crafted_una");
	EQ_INT(hs_tcb_deadline(&t), 10 * MS + SEC, "retransmit: timer armed (RTO 1 s)");
	EQ_INT(o.nchange, 0, "retransmit: no change");

	hs_tcb_timer(&t, 10 * MS + SEC, &o);
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 1, WIN_EST, 5, "timer resends the crafted data");
	OK(o.ntx >= 1 && o.tx[0].data == hello, "resent: the crafted bytes");
	EQ_INT(o.ntx >= 1 ? (int)o.tx[0].note : -1, HS_NOTE_RETRANSMISSION, "resent: noted as retransmission");
	EQ_INT(hs_tcb_deadline(&t), 10 * MS + 3 * SEC, "resent: RTO doubled");

	/* The peer's ACK ends it. */
	peer_ack(&t, IRS + 1, ISS + 6, 1100 * MS, &o);
	EQ_INT(o.acked, 5, "retransmitted crafted data acked");
	EQ_INT(hs_tcb_deadline(&t), 0, "acked: timer stopped");
}

static void test_established_sent_crafted_data_no_retransmit(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "no retransmit");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(hs_tcb_deadline(&t), 0, "no retransmit: no timer");
	hs_tcb_timer(&t, 10 * MS + SEC, &o);
	EQ_INT(o.ntx, 0, "no retransmit: the timer sends nothing at 1 s");
	hs_tcb_timer(&t, 60 * SEC, &o);
	EQ_INT(o.ntx, 0, "no retransmit: nor at 60 s");
	EQ_INT(o.result, HS_RES_NONE, "no retransmit: no timeout");
	EQ_INT(t.state, S_EST, "no retransmit: still ESTABLISHED");
}

/* Duplicate ACKs while crafted data (hs send) is unacknowledged: crafted_una data is
 * "never retransmitted" (tcb.h), by the timer or by fast retransmit. */
static void test_established_sent_crafted_dupacks_no_fast_retransmit(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	int sent = 0;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "dupacks");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	for (int i = 0; i < 5; i++) {
		peer_ack(&t, IRS + 1, ISS + 1, (20 + (uint64_t)i) * MS, &o);
		sent += o.ntx;
	}
	/* Regression: the third duplicate ACK resent crafted data (fast retransmit) that
	 * hs send never retransmits. */
	EQ_INT(sent, 0, "dup ACKs: crafted data not fast-retransmitted");
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 5, "dup ACKs: the crafted data is still taken back");
}

static void test_established_sent_crafted_data_not_at_snd_nxt(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	sp.seq = (hs_num){ HS_NUM_FWD, 10 };
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "data beyond SND.NXT");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, true, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 1, "beyond SND.NXT: SND.NXT unchanged");
	EQ_INT(t.snd_end, ISS + 1, "beyond SND.NXT: snd_end unchanged");
	EQ_INT(t.snd_max, ISS + 1, "beyond SND.NXT: snd_max unchanged");
	EQ_INT(t.nchunk, 0, "beyond SND.NXT: no chunk");
	EQ_INT(hs_tcb_deadline(&t), 0, "beyond SND.NXT: no timer");
	OK(!t.crafted_una, "beyond SND.NXT: not crafted_una");
	EQ_INT(o.nchange, 0, "beyond SND.NXT: no change");

	/* Wholly before SND.NXT (one old byte): nothing new. */
	sp.seq = (hs_num){ HS_NUM_BACK, 1 };
	tx = craft(&t, &sp, hello, 1, 10 * MS, "data before SND.NXT");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 1, "before SND.NXT: SND.NXT unchanged");
	EQ_INT(t.nchunk, 0, "before SND.NXT: no chunk");
	OK(!t.crafted_una, "before SND.NXT: not crafted_una");

	/* An ACK from the peer short of the data beyond: unacceptable. */
	peer_ack(&t, IRS + 1, ISS + 6, 20 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_UNACCEPTABLE, "ACK of data never taken: unacceptable");
	EQ_INT(o.acked, 0, "ACK of data never taken: nothing acked");
}

static void test_established_sent_crafted_fin(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	spec_flags(&sp, HS_FIN | HS_ACK);
	hs_tx tx = craft(&t, &sp, NULL, 0, 10 * MS, "crafted FIN");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.state, S_FW1, "crafted FIN: FIN-WAIT-1");
	EQ_INT(o.nchange, 1, "crafted FIN: one change");
	check_change(&o, 0, false, S_EST, S_FW1, "FIN sent", "crafted FIN");
	EQ_INT(o.nchange >= 1 ? o.change[0].cause : -1, 1, "crafted FIN: caused by tx[0]");
	EQ_INT(t.snd_nxt, ISS + 2, "crafted FIN: SND.NXT + 1");
	OK(t.fin_sent, "crafted FIN: fin_sent");
	EQ_INT(t.fin_seq, ISS + 1, "crafted FIN: fin_seq");
	EQ_INT(t.peer_state, S_EST, "crafted FIN: the peer is ESTABLISHED until it answers");

	peer_ack(&t, IRS + 1, ISS + 2, 20 * MS, &o);
	EQ_INT(o.acked, 1, "ACK of the crafted FIN: 1 acked");
	EQ_INT(t.state, S_FW2, "ACK of the crafted FIN: FIN-WAIT-2");

	/* Data and FIN in one segment. */
	est_full(&t, &o);
	spec_flags(&sp, HS_FIN | HS_PSH | HS_ACK);
	tx = craft(&t, &sp, hello, 5, 10 * MS, "crafted data,FIN");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, true, 10 * MS, &o);
	EQ_INT(t.state, S_FW1, "crafted data,FIN: FIN-WAIT-1");
	EQ_INT(t.snd_nxt, ISS + 7, "crafted data,FIN: SND.NXT + 6");
	EQ_INT(t.fin_seq, ISS + 6, "crafted data,FIN: fin_seq after the data");
	EQ_INT(hs_tcb_deadline(&t), 10 * MS + SEC, "crafted data,FIN with retransmit: timer");
	hs_tcb_timer(&t, 10 * MS + SEC, &o);
	check_tx(&o, 0, HS_FIN | HS_PSH | HS_ACK, ISS + 1, IRS + 1, WIN_EST, 5, "data,FIN resent");
}

static void test_close_wait_sent_crafted_fin(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	close_wait(&t, &o);
	EQ_INT(t.state, S_CW, "fixture: CLOSE-WAIT");
	EQ_INT(t.peer_state, S_FW2, "fixture: peer FIN-WAIT-2");
	spec_flags(&sp, HS_FIN | HS_ACK);
	hs_tx tx = craft(&t, &sp, NULL, 0, 10 * MS, "CLOSE-WAIT FIN");
	EQ_INT(tx.ack, IRS + 2, "CLOSE-WAIT FIN: ack after the peer's FIN");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.state, S_LA, "CLOSE-WAIT + FIN: LAST-ACK");
	EQ_INT(o.nchange, 1, "CLOSE-WAIT + FIN: one change");
	check_change(&o, 0, false, S_CW, S_LA, "FIN sent", "CLOSE-WAIT + FIN");
	EQ_INT(o.nchange >= 1 ? o.change[0].cause : -1, 1, "CLOSE-WAIT + FIN: cause 1");
	EQ_INT(t.snd_nxt, ISS + 2, "CLOSE-WAIT + FIN: SND.NXT + 1");

	peer_ack(&t, IRS + 2, ISS + 2, 20 * MS, &o);
	EQ_INT(t.state, S_CLOSED, "ACK of the crafted FIN in LAST-ACK: CLOSED");
	EQ_INT(o.result, HS_RES_CLOSED, "LAST-ACK acked: closed");
}

static void test_established_sent_crafted_rst(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	spec_flags(&sp, HS_RST);
	hs_tx tx = craft(&t, &sp, NULL, 0, 10 * MS, "exact RST");
	EQ_INT(tx.seq, ISS + 1, "exact RST: seq SND.NXT");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.state, S_CLOSED, "exact RST: CLOSED");
	EQ_INT(o.result, HS_RES_ABORTED, "exact RST: out result aborted");
	EQ_INT(t.result, HS_RES_ABORTED, "exact RST: tcb result aborted");
	EQ_INT(t.result_state, S_EST, "exact RST: result_state ESTABLISHED");
	EQ_INT(t.peer_state, S_CLOSED, "exact RST: peer CLOSED");
	EQ_INT(o.nchange, 2, "exact RST: two changes");
	check_change(&o, 0, false, S_EST, S_CLOSED, "RST sent", "exact RST 0");
	check_change(&o, 1, true, S_EST, S_CLOSED, "RST sent", "exact RST 1");
	EQ_INT(o.nchange >= 2 ? o.change[0].cause : -1, 1, "exact RST: our change caused by tx[0]");
	EQ_INT(o.nchange >= 2 ? o.change[1].cause : -1, 1, "exact RST: peer change caused by tx[0]");
	OK(o.nchange >= 2 && o.change[1].assumed, "exact RST: peer CLOSED assumed");
	OK(!(o.nchange >= 1 && o.change[0].assumed), "exact RST: our own change is not assumed");
	EQ_INT(hs_tcb_deadline(&t), 0, "exact RST: no timer");

	/* With data in flight, an RST at SND.UNA is exact too. */
	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	tx = craft(&t, &sp, hello, 5, 10 * MS, "data before RST");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	spec_flags(&sp, HS_RST | HS_ACK);
	sp.seq = (hs_num){ HS_NUM_REL, 1 };
	tx = craft(&t, &sp, NULL, 0, 11 * MS, "RST at SND.UNA");
	EQ_INT(tx.seq, ISS + 1, "RST at SND.UNA: seq");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 11 * MS, &o);
	EQ_INT(t.state, S_CLOSED, "RST at SND.UNA: CLOSED");
	EQ_INT(o.result, HS_RES_ABORTED, "RST at SND.UNA: aborted");
}

static void test_established_sent_crafted_rst_out_of_window(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	spec_flags(&sp, HS_RST);
	sp.seq = (hs_num){ HS_NUM_FWD, 1000 };
	hs_tx tx = craft(&t, &sp, NULL, 0, 10 * MS, "RST +1000");
	EQ_INT(tx.seq, ISS + 1001, "RST +1000: seq");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.state, S_EST, "RST +1000: still ESTABLISHED");
	EQ_INT(o.result, HS_RES_NONE, "RST +1000: no out result");
	EQ_INT(t.result, HS_RES_NONE, "RST +1000: no tcb result");
	EQ_INT(t.peer_state, S_EST, "RST +1000: peer still ESTABLISHED");
	EQ_INT(o.nchange, 0, "RST +1000: no change");
	EQ_INT(t.snd_nxt, ISS + 1, "RST +1000: SND.NXT unchanged");
}

static void test_established_sent_crafted_syn(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	spec_flags(&sp, HS_SYN);
	hs_tx tx = craft(&t, &sp, NULL, 0, 10 * MS, "SYN in ESTABLISHED");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, true, 10 * MS, &o);
	EQ_INT(t.state, S_EST, "SYN: still ESTABLISHED");
	EQ_INT(t.peer_state, S_EST, "SYN: peer still ESTABLISHED");
	EQ_INT(o.nchange, 0, "SYN: no change");
	EQ_INT(t.snd_nxt, ISS + 1, "SYN: SND.NXT unchanged");
	EQ_INT(hs_tcb_deadline(&t), 0, "SYN: no timer");

	/* A SYN with data at SND.NXT: no more. */
	sp.seq = (hs_num){ HS_NUM_FWD, 0 };
	tx = craft(&t, &sp, hello, 5, 10 * MS, "SYN+data at SND.NXT");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 1, "SYN+data: SND.NXT unchanged");
	EQ_INT(t.nchunk, 0, "SYN+data: no chunk");
}

static void test_established_sent_crafted_bad_csum(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	sp.ip.bad_csum = true;
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "bad checksum data");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, true, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 1, "bad checksum: SND.NXT unchanged");
	EQ_INT(t.snd_end, ISS + 1, "bad checksum: snd_end unchanged");
	EQ_INT(t.nchunk, 0, "bad checksum: no chunk");
	EQ_INT(hs_tcb_deadline(&t), 0, "bad checksum: no timer");
	EQ_INT(o.nchange, 0, "bad checksum: no change");

	/* A bad-checksum FIN or RST changes nothing either. */
	spec_flags(&sp, HS_FIN | HS_ACK);
	sp.ip.bad_csum = true;
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "bad checksum FIN");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.state, S_EST, "bad checksum FIN: still ESTABLISHED");
	spec_flags(&sp, HS_RST);
	sp.ip.bad_csum = true;
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "bad checksum RST");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.state, S_EST, "bad checksum RST: still ESTABLISHED");
	EQ_INT(t.result, HS_RES_NONE, "bad checksum RST: no result");
	EQ_INT(t.peer_state, S_EST, "bad checksum RST: peer ESTABLISHED");
}

static void test_closed_sent_crafted(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	hs_tcb_config c = cfg_base();

	hs_tcb_closed(&t, &c, 0);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, NULL, 0, 10 * MS, "probe SYN");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, true, 10 * MS, &o);
	EQ_INT(t.state, S_CLOSED, "probe SYN: CLOSED");
	EQ_INT(t.peer_state, S_CLOSED, "probe SYN: peer CLOSED");
	EQ_INT(t.snd_nxt, ISS, "probe SYN: SND.NXT unchanged");
	EQ_INT(o.nchange, 0, "probe SYN: no change");
	EQ_INT(hs_tcb_deadline(&t), 0, "probe SYN: no timer");

	/* An ACK with data and an RST at SND.NXT: nothing either. */
	spec_flags(&sp, HS_PSH | HS_ACK);
	tx = craft(&t, &sp, hello, 5, 10 * MS, "probe data");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, true, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS, "probe data: SND.NXT unchanged");
	EQ_INT(t.nchunk, 0, "probe data: no chunk");
	EQ_INT(o.nchange, 0, "probe data: no change");
	spec_flags(&sp, HS_RST);
	tx = craft(&t, &sp, NULL, 0, 10 * MS, "probe RST");
	EQ_INT(tx.seq, ISS, "probe RST: seq SND.NXT");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(o.result, HS_RES_NONE, "probe RST: no result");
	EQ_INT(t.result, HS_RES_NONE, "probe RST: no tcb result");
	EQ_INT(o.nchange, 0, "probe RST: no change");
}

/* Our ACK of the peer's SYN,ACK is held (--step) and a crafted one leaves instead:
 * the peer's handshake completes as with hs_tcb_sent. */
static void test_established_sent_crafted_ack_peer_syn_received(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	hs_tcb_config c = cfg_base();

	tcb_connect(&t, &c, 0, &o);
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 1000);
	with_syn_opts(&s, 1400, true, true, 8);
	s.opts.ts_ecr = TSC;
	hs_tcb_input(&t, &s, 1 * MS, &o); /* the TCB's own ACK is never sent */
	EQ_INT(t.state, S_EST, "held: ESTABLISHED");
	EQ_INT(t.peer_state, S_SR, "held: peer SYN-RECEIVED");

	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, NULL, 0, 5 * MS, "crafted handshake ACK");
	check_seg(&tx, HS_ACK, ISS + 1, IRS + 1, WIN_EST, 0, "crafted handshake ACK");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 5 * MS, &o);
	EQ_INT(t.peer_state, S_EST, "crafted ACK: peer ESTABLISHED");
	EQ_INT(o.nchange, 1, "crafted ACK: one change");
	check_change(&o, 0, true, S_SR, S_EST, "ACK sent", "crafted ACK");
	EQ_INT(o.nchange >= 1 ? o.change[0].cause : -1, 1, "crafted ACK: caused by tx[0]");
	OK(o.nchange >= 1 && o.change[0].assumed, "crafted ACK: assumed");
	OK(t.peer_assumed, "crafted ACK: peer state assumed");
	OK(t.peer_assumed_has_ts, "crafted ACK: assumed with TS");
	EQ_INT(t.peer_assumed_tsval, TSC + 5, "crafted ACK: confirmed by an echo of its TSval");
	EQ_INT(t.snd_nxt, ISS + 1, "crafted ACK: SND.NXT unchanged");

	/* A crafted ACK with data in the same position: both. */
	tcb_connect(&t, &c, 0, &o);
	hs_tcb_input(&t, &s, 1 * MS, &o);
	tx = craft(&t, &sp, hello, 5, 5 * MS, "crafted handshake ACK+data");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 5 * MS, &o);
	EQ_INT(t.peer_state, S_EST, "crafted ACK+data: peer ESTABLISHED");
	EQ_INT(t.snd_nxt, ISS + 6, "crafted ACK+data: SND.NXT advances");
}

/* ---- hs_tcb_forget_unacked --------------------------------------------------------- */

static void test_established_forget_unacked_data(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	static uint8_t own[4] = { 9, 8, 7, 6 };

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "forget data");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 6, "forget data: sent");

	memset(&o, 0xab, sizeof(o));
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 5, "forget data: 5 taken back");
	EQ_INT(o.nchange, 0, "forget data: no change");
	EQ_INT(t.snd_nxt, ISS + 1, "forget data: SND.NXT = SND.UNA");
	EQ_INT(t.snd_una, ISS + 1, "forget data: SND.UNA");
	EQ_INT(t.snd_end, ISS + 1, "forget data: snd_end");
	EQ_INT(t.snd_max, ISS + 1, "forget data: snd_max");
	EQ_INT(t.nchunk, 0, "forget data: no chunk");
	OK(!t.crafted_una, "forget data: crafted_una cleared");
	OK(hs_tcb_all_acked(&t), "forget data: all acked");
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 0, "forget again: 0");

	/* The connection goes on from SND.UNA. */
	EQ_INT(hs_tcb_send(&t, own, 4, 20 * MS, &o), 0, "send after forget");
	check_tx(&o, 0, HS_PSH | HS_ACK, ISS + 1, IRS + 1, WIN_EST, 4, "send after forget");
	OK(o.ntx >= 1 && o.tx[0].data == own, "send after forget: our bytes");
	EQ_INT(t.snd_nxt, ISS + 5, "send after forget: SND.NXT");
	peer_ack(&t, IRS + 1, ISS + 5, 30 * MS, &o);
	EQ_INT(o.acked, 4, "send after forget: acked");
	EQ_INT(o.in_note, HS_NOTE_NONE, "send after forget: ACK accepted");
}

static void test_established_forget_unacked_partly_acked(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "partly");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	peer_ack(&t, IRS + 1, ISS + 3, 20 * MS, &o);
	EQ_INT(o.acked, 2, "partly: 2 acked");
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 3, "partly: the other 3 taken back");
	EQ_INT(t.snd_nxt, ISS + 3, "partly: SND.NXT = SND.UNA");
	EQ_INT(t.snd_end, ISS + 3, "partly: snd_end");
}

static void test_established_forget_unacked_fin(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	spec_flags(&sp, HS_FIN | HS_ACK);
	hs_tx tx = craft(&t, &sp, NULL, 0, 10 * MS, "forget FIN");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.state, S_FW1, "forget FIN: FIN-WAIT-1 first");

	EQ_INT(hs_tcb_forget_unacked(&t, &o), 1, "forget FIN: 1 taken back");
	EQ_INT(t.state, S_EST, "forget FIN: ESTABLISHED again");
	EQ_INT(o.nchange, 1, "forget FIN: one change");
	check_change(&o, 0, false, S_FW1, S_EST, "our FIN not acknowledged", "forget FIN");
	EQ_INT(t.snd_nxt, ISS + 1, "forget FIN: SND.NXT");
	OK(!t.fin_sent && !t.fin_queued, "forget FIN: no FIN queued or sent");

	/* A real close later works as usual. */
	EQ_INT(hs_tcb_close(&t, 20 * MS, &o), 0, "close after forget");
	EQ_INT(t.state, S_FW1, "close after forget: FIN-WAIT-1");
	check_tx(&o, 0, HS_FIN | HS_ACK, ISS + 1, IRS + 1, WIN_EST, 0, "close after forget: FIN");

	/* LAST-ACK back to CLOSE-WAIT. */
	close_wait(&t, &o);
	spec_flags(&sp, HS_FIN | HS_ACK);
	tx = craft(&t, &sp, hello, 5, 10 * MS, "forget data,FIN");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.state, S_LA, "forget data,FIN: LAST-ACK first");
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 6, "forget data,FIN: 6 taken back");
	EQ_INT(t.state, S_CW, "forget data,FIN: CLOSE-WAIT again");
	check_change(&o, 0, false, S_LA, S_CW, "our FIN not acknowledged", "forget LAST-ACK");
	EQ_INT(t.snd_nxt, ISS + 1, "forget data,FIN: SND.NXT");
}

static void test_established_forget_unacked_all_acked(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 0, "nothing sent: 0");

	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "acked");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	peer_ack(&t, IRS + 1, ISS + 6, 20 * MS, &o);
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 0, "all acked: 0");
	EQ_INT(t.snd_nxt, ISS + 6, "all acked: SND.NXT stays");
	EQ_INT(o.nchange, 0, "all acked: no change");

	/* An acknowledged crafted FIN stays. */
	spec_flags(&sp, HS_FIN | HS_ACK);
	tx = craft(&t, &sp, NULL, 0, 30 * MS, "acked FIN");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 30 * MS, &o);
	peer_ack(&t, IRS + 1, ISS + 7, 40 * MS, &o);
	EQ_INT(t.state, S_FW2, "acked FIN: FIN-WAIT-2");
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 0, "acked FIN: 0");
	EQ_INT(t.state, S_FW2, "acked FIN: still FIN-WAIT-2");
}

static void test_established_forget_unacked_retransmit(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	static uint8_t own[10];

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "retransmit=true");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, true, 10 * MS, &o);
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 0, "retransmit=true: not taken back");
	EQ_INT(t.snd_nxt, ISS + 6, "retransmit=true: SND.NXT stays");
	EQ_INT(hs_tcb_deadline(&t), 10 * MS + SEC, "retransmit=true: timer still running");

	/* Our own data in flight: not crafted, not taken back. */
	est_full(&t, &o);
	EQ_INT(hs_tcb_send(&t, own, 10, 10 * MS, &o), 0, "own data");
	EQ_INT(hs_tcb_forget_unacked(&t, &o), 0, "own data: not taken back");
	EQ_INT(t.snd_nxt, ISS + 11, "own data: SND.NXT stays");
}

/* ---- reactions ---------------------------------------------------------------------- */

static hs_segment answer(uint8_t flags, uint32_t seq, uint32_t ack, size_t len)
{
	static const uint8_t payload[16];
	hs_segment s;

	memset(&s, 0, sizeof(s));
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = 1000;
	s.payload = len ? payload : NULL;
	s.len = len;
	return s;
}

static hs_tx ours_tx(uint8_t flags, uint32_t seq, uint32_t ack)
{
	hs_tx tx;

	memset(&tx, 0, sizeof(tx));
	tx.flags = flags;
	tx.seq = seq;
	tx.ack = ack;
	tx.crafted = true;
	return tx;
}

static void check_react(enum hs_reaction got, enum hs_reaction want, const char *ctx)
{
	EQ_STR(hs_reaction_name(got), hs_reaction_name(want), ctx);
}

static void test_reaction_classify(void)
{
	const uint32_t una = ISS + 1, rnxt = IRS + 1;
	hs_tx ack = ours_tx(HS_PSH | HS_ACK, una, rnxt);
	hs_tx rst = ours_tx(HS_RST, una, 0);
	hs_tx syn = ours_tx(HS_SYN, ISS, 0);
	hs_segment a;

	a = answer(HS_RST, rnxt, 0, 0);
	check_react(hs_reaction_classify(&ack, una, rnxt, &a), HS_REACT_RST, "RST: rst");
	a = answer(HS_RST | HS_ACK, 0, ISS + 1, 0);
	check_react(hs_reaction_classify(&syn, ISS, 0, &a), HS_REACT_RST, "RST,ACK to a SYN: rst");
	a = answer(HS_SYN | HS_ACK, IRS, ISS + 1, 0);
	check_react(hs_reaction_classify(&syn, ISS, 0, &a), HS_REACT_SYN_ACK, "SYN,ACK: syn-ack");
	a = answer(HS_FIN | HS_ACK, rnxt, una, 0);
	check_react(hs_reaction_classify(&ack, una, rnxt, &a), HS_REACT_FIN, "FIN: fin");
	a = answer(HS_FIN | HS_PSH | HS_ACK, rnxt, una, 5);
	check_react(hs_reaction_classify(&ack, una, rnxt, &a), HS_REACT_FIN, "data,FIN: fin");
	a = answer(HS_PSH | HS_ACK, rnxt, una + 5, 5);
	check_react(hs_reaction_classify(&ack, una, rnxt, &a), HS_REACT_DATA, "payload: data");
	a = answer(HS_ACK, rnxt, una, 1);
	check_react(hs_reaction_classify(&rst, una, rnxt, &a), HS_REACT_DATA, "payload to our RST: data");
	a = answer(HS_SYN, IRS, 0, 0);
	check_react(hs_reaction_classify(&ack, una, rnxt, &a), HS_REACT_NONE, "bare SYN: none");
	a = answer(0, rnxt, 0, 0);
	check_react(hs_reaction_classify(&ack, una, rnxt, &a), HS_REACT_NONE, "no flags: none");

	/* Bare ACKs. */
	a = answer(HS_ACK, rnxt, una, 0);
	check_react(hs_reaction_classify(&rst, una, rnxt, &a), HS_REACT_CHALLENGE_ACK, "ACK to our RST: challenge-ack");
	check_react(hs_reaction_classify(&syn, una, rnxt, &a), HS_REACT_CHALLENGE_ACK, "ACK to our SYN: challenge-ack");
	hs_tx ahead = ours_tx(HS_ACK, una, rnxt + 10);
	check_react(hs_reaction_classify(&ahead, una, rnxt, &a), HS_REACT_CHALLENGE_ACK,
	            "ACK to our ACK beyond its SND.NXT: challenge-ack");
	a = answer(HS_ACK, rnxt, una + 5, 0);
	check_react(hs_reaction_classify(&ack, una, rnxt, &a), HS_REACT_ACK, "ACK advancing: ack");
	check_react(hs_reaction_classify(&ahead, una, rnxt, &a), HS_REACT_CHALLENGE_ACK,
	            "advancing ACK, but ours was beyond: challenge-ack");
	a = answer(HS_ACK, rnxt, una, 0);
	check_react(hs_reaction_classify(&ack, una, rnxt, &a), HS_REACT_DUP_ACK, "ACK at SND.UNA: dup-ack");
	a = answer(HS_ACK, rnxt, una - 1, 0);
	check_react(hs_reaction_classify(&ack, una, rnxt, &a), HS_REACT_DUP_ACK, "old ACK: dup-ack");
	hs_tx behind = ours_tx(HS_ACK, una, rnxt - 3);
	a = answer(HS_ACK, rnxt, una + 1, 0);
	check_react(hs_reaction_classify(&behind, una, rnxt, &a), HS_REACT_ACK, "our ACK behind RCV.NXT: not a challenge");
	/* Across the wrap. */
	hs_tx wrap = ours_tx(HS_ACK, 0xfffffff0u, 7);
	a = answer(HS_ACK, 7, 0x10, 0);
	check_react(hs_reaction_classify(&wrap, 0xfffffff0u, 7, &a), HS_REACT_ACK, "ACK across the wrap: ack");
	a = answer(HS_ACK, 7, 0xfffffff0u, 0);
	check_react(hs_reaction_classify(&wrap, 0xfffffff0u, 7, &a), HS_REACT_DUP_ACK, "no advance at the wrap: dup-ack");
	hs_tx wrapahead = ours_tx(HS_ACK, 0xfffffff0u, 2);
	check_react(hs_reaction_classify(&wrapahead, 0xfffffff0u, 0xfffffffeu, &a), HS_REACT_CHALLENGE_ACK,
	            "our ACK beyond across the wrap: challenge-ack");
}

static void test_reaction_names(void)
{
	static const char *const names[HS_REACT_COUNT] = {
		"none", "ack", "challenge-ack", "dup-ack", "data", "rst", "fin", "syn-ack", "icmp",
	};
	char err[256];

	for (int r = 0; r < HS_REACT_COUNT; r++) {
		char ctx[64];
		unsigned mask = 0xdead;
		snprintf(ctx, sizeof(ctx), "name %d", r);
		EQ_STR(hs_reaction_name((enum hs_reaction)r), names[r], ctx);
		snprintf(ctx, sizeof(ctx), "name %d parses back", r);
		EQ_INT(hs_reaction_parse_list(hs_reaction_name((enum hs_reaction)r), &mask, err, sizeof(err)), 0, ctx);
		snprintf(ctx, sizeof(ctx), "name %d: its bit", r);
		EQ_INT(mask, 1u << r, ctx);
	}
	EQ_STR(hs_reaction_name(HS_REACT_COUNT), "?", "name out of range: ?");
}

static void test_reaction_parse_list(void)
{
	unsigned mask;
	char err[256];

	mask = 0;
	EQ_INT(hs_reaction_parse_list("ack,rst", &mask, err, sizeof(err)), 0, "ack,rst: 0");
	EQ_INT(mask, (1u << HS_REACT_ACK) | (1u << HS_REACT_RST), "ack,rst: mask");
	EQ_INT(hs_reaction_parse_list("syn-ack,icmp,challenge-ack", &mask, err, sizeof(err)), 0, "three: 0");
	EQ_INT(mask, (1u << HS_REACT_SYN_ACK) | (1u << HS_REACT_ICMP) | (1u << HS_REACT_CHALLENGE_ACK), "three: mask");

	strcpy(err, "");
	EQ_INT(hs_reaction_parse_list("ack,bogus", &mask, err, sizeof(err)), -1, "ack,bogus: -1");
	OK(strstr(err, "\"bogus\"") != NULL, "ack,bogus: the message names bogus");
	OK(strstr(err, "challenge-ack") != NULL, "ack,bogus: the message lists the known ones");
	printf("#   %s\n", err);
	strcpy(err, "");
	EQ_INT(hs_reaction_parse_list("", &mask, err, sizeof(err)), -1, "empty: -1");
	OK(err[0] != '\0', "empty: a message");
	EQ_INT(hs_reaction_parse_list("ack,,rst", &mask, err, sizeof(err)), -1, "empty item: -1");
	EQ_INT(hs_reaction_parse_list("acks", &mask, err, sizeof(err)), -1, "acks (prefix match): -1");
	EQ_INT(hs_reaction_parse_list("a-very-long-word-that-is-no-reaction-at-all", &mask, err, sizeof(err)), -1,
	       "long unknown word: -1");
}

static void test_reaction_matches(void)
{
	unsigned ack = 1u << HS_REACT_ACK;
	unsigned rst_fin = (1u << HS_REACT_RST) | (1u << HS_REACT_FIN);
	unsigned dup = 1u << HS_REACT_DUP_ACK;

	OK(hs_reaction_matches(HS_REACT_ACK, ack), "ack takes ack");
	OK(hs_reaction_matches(HS_REACT_DUP_ACK, ack), "ack takes dup-ack");
	OK(hs_reaction_matches(HS_REACT_CHALLENGE_ACK, ack), "ack takes challenge-ack");
	OK(!hs_reaction_matches(HS_REACT_DATA, ack), "ack does not take data");
	OK(!hs_reaction_matches(HS_REACT_RST, ack), "ack does not take rst");
	OK(!hs_reaction_matches(HS_REACT_NONE, ack), "ack does not take none");
	OK(!hs_reaction_matches(HS_REACT_SYN_ACK, ack), "ack does not take syn-ack");
	OK(hs_reaction_matches(HS_REACT_DUP_ACK, dup), "dup-ack takes dup-ack");
	OK(!hs_reaction_matches(HS_REACT_ACK, dup), "dup-ack does not take ack");
	OK(!hs_reaction_matches(HS_REACT_CHALLENGE_ACK, dup), "dup-ack does not take challenge-ack");
	OK(hs_reaction_matches(HS_REACT_RST, rst_fin), "rst,fin takes rst");
	OK(hs_reaction_matches(HS_REACT_FIN, rst_fin), "rst,fin takes fin");
	OK(!hs_reaction_matches(HS_REACT_DATA, rst_fin), "rst,fin does not take data");
	OK(!hs_reaction_matches(HS_REACT_ACK, rst_fin), "rst,fin does not take ack");
	OK(hs_reaction_matches(HS_REACT_NONE, 1u << HS_REACT_NONE), "none takes none");
	OK(!hs_reaction_matches(HS_REACT_ICMP, 0), "empty mask takes nothing");
}

/* Data that starts before SND.NXT and goes past it: the peer takes the new part. */
static void test_established_crafted_overlap(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	sp.seq = (hs_num){ HS_NUM_BACK, 1 };
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "overlap");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	EQ_INT(t.snd_nxt, ISS + 5, "overlap: SND.NXT grows by the new bytes");
	EQ_INT(t.nchunk, 1, "overlap: one chunk");
	OK(t.chunk[0].p == hello + 1, "overlap: the chunk starts at the first new byte");
	EQ_INT(t.chunk[0].len, 4, "overlap: 4 new bytes");
	peer_ack(&t, IRS + 1, ISS + 5, 20 * MS, &o);
	EQ_INT(o.acked, 4, "overlap: acknowledged");
	EQ_INT(t.snd_una, ISS + 5, "overlap: SND.UNA");
}

/* Data (and a FIN) beyond SND.NXT that the peer held out of order: once in-order
 * data fills the gap, its ACK covers both and is taken; the FIN among it is our
 * close. Kept across processes through the snapshot. */
static void test_established_crafted_beyond_taken(void)
{
	hs_tcb t, r;
	hs_tcb_out o;
	hs_seg_spec sp;
	hs_tcb_snapshot snap;

	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	sp.seq = (hs_num){ HS_NUM_FWD, 1 };
	sp.have_flags = true;
	sp.flags = HS_FIN | HS_PSH | HS_ACK;
	hs_tx tx = craft(&t, &sp, hello, 5, 10 * MS, "beyond with FIN");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	OK(t.beyond_sent, "beyond: remembered");
	EQ_INT(t.beyond_start, ISS + 2, "beyond: start");
	EQ_INT(t.beyond_end, ISS + 8, "beyond: end (5 bytes and the FIN)");
	OK(t.beyond_fin && t.beyond_fin_seq == ISS + 7, "beyond: the FIN");
	EQ_INT(t.state, S_EST, "beyond: still ESTABLISHED");

	/* Another process takes over (hs send again). */
	hs_tcb_snapshot_take(&t, 20 * MS, &snap);
	hs_tcb_config c = cfg_base();
	hs_tcb_resume(&r, &c, &snap, 30 * MS);
	OK(r.beyond_sent && r.beyond_start == ISS + 2 && r.beyond_end == ISS + 8 && r.beyond_fin,
	   "beyond: carried by the snapshot");

	/* One byte at SND.NXT fills the gap. */
	hs_seg_spec_init(&sp);
	tx = craft(&r, &sp, (const uint8_t *)"x", 1, 40 * MS, "gap filler");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&r, 0, false, 40 * MS, &o);
	EQ_INT(r.snd_nxt, ISS + 2, "filler: SND.NXT");
	peer_ack(&r, IRS + 1, ISS + 8, 50 * MS, &o);
	OK(o.in_note != HS_NOTE_UNACCEPTABLE, "the ACK of it all is taken");
	EQ_INT(r.snd_una, ISS + 8, "SND.UNA past our crafted FIN");
	EQ_INT(r.state, HS_FIN_WAIT_2, "our crafted FIN taken: FIN-WAIT-2");
	EQ_INT(r.peer_state, S_CW, "the peer got our FIN: CLOSE-WAIT");
	OK(!r.beyond_sent, "beyond: done");
	EQ_INT(hs_tcb_forget_unacked(&r, &o), 0, "nothing to take back");

	/* An ACK that stops short of the data beyond is still unacceptable. */
	est_full(&t, &o);
	hs_seg_spec_init(&sp);
	sp.seq = (hs_num){ HS_NUM_FWD, 10 };
	tx = craft(&t, &sp, hello, 5, 10 * MS, "beyond, far");
	crafted_out(&o, &tx);
	hs_tcb_sent_crafted(&t, 0, false, 10 * MS, &o);
	peer_ack(&t, IRS + 1, ISS + 5, 20 * MS, &o);
	EQ_INT(o.in_note, HS_NOTE_UNACCEPTABLE, "an ACK into the gap: unacceptable");
}

/* An edit that turns an RST (no ACK field, window 0) into a FIN,ACK takes RCV.NXT
 * and the window and options the TCB would send. */
static void test_established_edit_rst_to_fin(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_seg_spec sp;
	hs_tx base, tx;
	char err[200];

	est_full(&t, &o);
	hs_tcb_template(&t, HS_RST, 5 * MS, &base);
	hs_seg_spec_init(&sp);
	sp.have_flags = true;
	sp.flags = HS_FIN | HS_ACK;
	EQ_INT(hs_craft_build(&t, &sp, &base, NULL, 0, 10 * MS, &tx, err, sizeof(err)), 0, "RST -> FIN,ACK");
	EQ_INT(tx.seq, base.seq, "RST -> FIN,ACK: the RST's seq");
	EQ_INT(tx.ack, IRS + 1, "RST -> FIN,ACK: RCV.NXT, not the RST's 0");
	EQ_INT(tx.win, WIN_EST, "RST -> FIN,ACK: our window, not the RST's 0");
	OK(tx.has_ts, "RST -> FIN,ACK: the TCB's options (TS)");
}

/* Our RST to a peer in SYN-RECEIVED that we opened actively: back to LISTEN. */
static void test_syn_received_peer_rst_listen(void)
{
	hs_tcb t;
	hs_tcb_out o;
	hs_tcb_config c = cfg_base();

	hs_tcb_connect(&t, &c, 0, &o); /* peer effects not applied: its SYN,ACK is next */
	hs_segment s = pseg(&t, HS_SYN | HS_ACK, IRS, ISS + 1, 1000);
	hs_tcb_input(&t, &s, 1 * MS, &o); /* our ACK built, not sent: the peer stays SYN-RECEIVED */
	EQ_INT(t.peer_state, S_SR, "peer SYN-RECEIVED before our ACK leaves");
	hs_tcb_out a;
	memset(&a, 0, sizeof(a));
	hs_tcb_template(&t, HS_RST, 2 * MS, &a.tx[0]);
	a.tx[0].crafted = true;
	a.ntx = 1;
	hs_tcb_sent_crafted(&t, 0, true, 2 * MS, &a);
	EQ_INT(t.peer_state, HS_LISTEN, "our exact RST: the passive peer back in LISTEN");
}

int main(void)
{
	test_established_template_ack();
	test_established_template_syn();
	test_established_template_rst();
	test_closed_template_syn();
	test_established_build_default();
	test_established_build_data();
	test_closed_build_default();
	test_established_build_numbers();
	test_established_build_edit();
	test_established_build_length();
	test_established_build_fields();
	test_established_build_opts();
	test_established_sent_crafted_data();
	test_established_sent_crafted_bad_index();
	test_established_sent_crafted_data_retransmit();
	test_established_sent_crafted_data_no_retransmit();
	test_established_sent_crafted_dupacks_no_fast_retransmit();
	test_established_sent_crafted_data_not_at_snd_nxt();
	test_established_sent_crafted_fin();
	test_close_wait_sent_crafted_fin();
	test_established_sent_crafted_rst();
	test_established_sent_crafted_rst_out_of_window();
	test_established_sent_crafted_syn();
	test_established_sent_crafted_bad_csum();
	test_closed_sent_crafted();
	test_established_sent_crafted_ack_peer_syn_received();
	test_established_forget_unacked_data();
	test_established_forget_unacked_partly_acked();
	test_established_forget_unacked_fin();
	test_established_forget_unacked_all_acked();
	test_established_forget_unacked_retransmit();
	test_reaction_classify();
	test_reaction_names();
	test_reaction_parse_list();
	test_reaction_matches();
	test_established_crafted_overlap();
	test_established_crafted_beyond_taken();
	test_established_edit_rst_to_fin();
	test_syn_received_peer_rst_listen();
	return tap_done();
}
