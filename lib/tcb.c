/* The TCP control block: RFC 9293 event processing, with RFC 5961 for RST and SYN
 * in synchronized states, RFC 7323 for timestamps and window scaling and RFC 6298
 * for the retransmission backoff. Sans-I/O: time comes in as `now`, segments go out
 * through hs_tcb_out; nothing here allocates, prints or reads a clock.
 *
 * Simplifications, chosen for a tool that crafts single connections:
 * - data is consumed as soon as it arrives in order, so the advertised window is
 *   constant (cfg.window) and every data segment is acknowledged at once;
 * - out-of-order data is not kept: it is answered with a duplicate ACK (plus a
 *   SACK block for it when SACK was negotiated) and the peer retransmits;
 * - an acceptable RST in SYN-RECEIVED ends the connection (result "reset") instead
 *   of silently going back to LISTEN, so that `hs listen` can report it;
 * - a zero window is probed with one byte of new data on the retransmission timer,
 *   and probes count as retransmissions.
 *
 * The peer's state is inferred from evidence, one rule for every path:
 * - segments from the peer move it: its SYN (SYN-SENT), its SYN,ACK (SYN-RECEIVED),
 *   its ACK of our SYN (ESTABLISHED), its FIN (FIN-WAIT-1, or LAST-ACK once it has
 *   acknowledged our FIN), its ACK of our FIN (CLOSE-WAIT, or TIME-WAIT after its
 *   own FIN), its RST (CLOSED);
 * - of our segments only ACKs and RSTs move it, and ACKs are assumed to arrive (no
 *   one acknowledges an ACK): the ACK completing its handshake (ESTABLISHED), the
 *   ACK of its FIN (FIN-WAIT-1 -> FIN-WAIT-2, CLOSING -> TIME-WAIT, LAST-ACK ->
 *   CLOSED). Our SYN and FIN do not move it: their acknowledgement is the evidence.
 *   While our own FIN is in flight, our ACK of its FIN leaves it in FIN-WAIT-1
 *   (it may get our FIN first); its ACK of our FIN then shows FIN-WAIT-1 -> CLOSING,
 *   and since our ACK of its FIN went out before, CLOSING -> TIME-WAIT;
 * - a retransmission from the peer (SYN,ACK, FIN) shows that our ACK was lost: its
 *   state goes back to what it was before that ACK, and our new ACK moves it again;
 *   a network copy of a segment (same TSval, or same IPv4 ID without timestamps) is
 *   no retransmission: it is noted "duplicate" and moves nothing;
 * - every move follows an edge of RFC 9293's state diagram, none is skipped (a FIN,ACK
 *   that acknowledges our FIN: ESTABLISHED -> CLOSE-WAIT -> LAST-ACK);
 * - what our segments do to the peer is applied when the driver says they left
 *   (hs_tcb_sent), and stays "assumed" until the peer echoes a TSval at least as new
 *   (or, without timestamps, sends its next in-sequence segment).
 * Within one input, changes are recorded in this order: what the segment shows
 * about the peer, what it does to us, what our replies do to the peer.
 */
#include <config.h>

#include <string.h>
#include <sys/socket.h>

#include "hs/seq.h"
#include "hs/tcb.h"

#define OUR_MSS_DEFAULT 1460
#define PEER_MSS_DEFAULT 536   /* RFC 9293 3.7.1: when the peer sends no MSS option */
#define PEER_MSS_MIN 48        /* a smaller MSS option is clamped (as Linux does) */
#define WSCALE_MAX 14          /* RFC 7323 2.3 */
#define TS_OPT_SPACE 12        /* NOP,NOP,TS: taken from the payload of each segment */
#define RTO_MAX_NS (120ull * 1000000000ull)
#define NS_PER_MS 1000000u
#define SEND_MAX (1u << 30)    /* more outstanding data than this breaks seq compares */
#define HS_COPY_NS 2000000ull  /* an identical segment this soon is a network copy: no
                                * stack resends within 2 ms (Linux's tail-loss probe waits
                                * at least 10 ms, its RTO 200 ms) */

/* ICMP types and codes we act on; everything else (time exceeded, ...) is soft. */
#define ICMP4_DEST_UNREACH 3
#define ICMP4_PROT_UNREACH 2
#define ICMP4_PORT_UNREACH 3
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PARAM_PROB 4
#define ICMP6_PORT_UNREACH 4
#define ICMP6_UNKNOWN_NEXTHDR 1

static const char *const note_names[HS_NOTE_COUNT] = {
	[HS_NOTE_NONE] = "",
	[HS_NOTE_RETRANSMISSION] = "retransmission",
	[HS_NOTE_DUPLICATE] = "duplicate",
	[HS_NOTE_OUT_OF_WINDOW] = "out-of-window",
	[HS_NOTE_OUT_OF_ORDER] = "out-of-order",
	[HS_NOTE_PARTIAL] = "partial",
	[HS_NOTE_CHALLENGE_ACK] = "challenge-ack",
	[HS_NOTE_DUP_ACK] = "dup-ack",
	[HS_NOTE_UNACCEPTABLE] = "unacceptable",
	[HS_NOTE_KEEPALIVE] = "keepalive",
	[HS_NOTE_WINDOW_UPDATE] = "window-update",
	[HS_NOTE_ZERO_WINDOW] = "zero-window",
	[HS_NOTE_ZERO_WINDOW_PROBE] = "zero-window-probe",
	[HS_NOTE_KEEPALIVE_ACK] = "keepalive-ack",
	[HS_NOTE_WINDOW_FULL] = "window-full",
	[HS_NOTE_CHALLENGE_THROTTLED] = "challenge-ack-throttled",
	[HS_NOTE_SYN_DATA] = "syn-data-not-accepted",
	[HS_NOTE_PMTU] = "pmtu",
};

static const char *const result_names[HS_RES_COUNT] = {
	[HS_RES_NONE] = "",
	[HS_RES_CLOSED] = "closed",
	[HS_RES_REFUSED] = "refused",
	[HS_RES_RESET] = "reset",
	[HS_RES_ABORTED] = "aborted",
	[HS_RES_TIMEOUT] = "timeout",
	[HS_RES_UNREACHABLE] = "unreachable",
};

const char *hs_note_name(enum hs_note n)
{
	if ((int)n < 0 || (int)n >= HS_NOTE_COUNT)
		return "?";
	return note_names[n];
}

const char *hs_result_name(enum hs_result r)
{
	if ((int)r < 0 || (int)r >= HS_RES_COUNT)
		return "?";
	return result_names[r];
}

void hs_tcb_config_default(hs_tcb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->window = 64240;
	hs_opt_spec_default(&cfg->syn_opts);
	cfg->max_retries = 3;
	cfg->rto_ns = 1000000000ull;
	cfg->time_wait_ns = 1000000000ull;
	cfg->challenge_acks_per_sec = 10;
}

/* ---- small helpers ------------------------------------------------------------------ */

/* A timer deadline; 0 means "not running", so never return 0. */
static uint64_t deadline_after(uint64_t now, uint64_t delay)
{
	uint64_t d = now + delay;
	return d ? d : 1;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* SEG.LEN: payload plus one for each of SYN and FIN. */
static uint32_t seg_len(const hs_segment *seg)
{
	uint32_t n = seg->len > UINT32_MAX - 2 ? UINT32_MAX - 2 : (uint32_t)seg->len;
	return n + !!(seg->flags & HS_SYN) + !!(seg->flags & HS_FIN);
}

static uint32_t payload_len(const hs_segment *seg)
{
	return seg->len > UINT32_MAX - 2 ? UINT32_MAX - 2 : (uint32_t)seg->len;
}

static uint32_t ts_value(const hs_tcb *t, uint64_t now)
{
	uint64_t ms = now > t->t_open_ns ? (now - t->t_open_ns) / NS_PER_MS : 0;
	return t->cfg.ts_clock + (uint32_t)ms;
}

/* cause: 0 for the input itself, k for out->tx[k-1] (see hs_change). */
static void record(hs_tcb_out *out, bool peer, hs_state from, hs_state to, const char *why, int cause)
{
	if (from == to || out->nchange >= HS_TCB_MAXCHANGE)
		return;
	hs_change *c = &out->change[out->nchange++];
	memset(c, 0, sizeof(*c));
	c->peer = peer;
	c->from = from;
	c->to = to;
	c->why = why;
	c->cause = (int8_t)cause;
	c->assumed = peer && cause > 0;
}

static void set_state(hs_tcb *t, hs_state to, const char *why, hs_tcb_out *out)
{
	record(out, false, t->state, to, why, 0);
	t->state = to;
}

static void set_peer_by(hs_tcb *t, hs_state to, const char *why, int cause, hs_tcb_out *out)
{
	record(out, true, t->peer_state, to, why, cause);
	t->peer_state = to;
	/* The peer's own segment is evidence; ours is only sent. */
	t->peer_assumed = cause > 0;
}

static void set_peer(hs_tcb *t, hs_state to, const char *why, hs_tcb_out *out)
{
	set_peer_by(t, to, why, 0, out);
}

/* The peer's own segment shows that what we assumed of it (from our segment, which
 * did not arrive) is wrong: it is still where it was. No move along the diagram, a
 * correction of our inference (hs_change.correction). */
static void peer_correct(hs_tcb *t, hs_state actual, const char *why, hs_tcb_out *out)
{
	int n = out->nchange;

	set_peer(t, actual, why, out);
	if (out->nchange > n)
		out->change[n].correction = true;
}

/* The connection is over: CLOSED, no timers, the result reported once. */
static void finish(hs_tcb *t, enum hs_result res, const char *why, hs_tcb_out *out)
{
	t->result_state = t->state;
	set_state(t, HS_CLOSED, why, out);
	t->rtx_deadline = 0;
	t->tw_deadline = 0;
	t->result = res;
	out->result = res;
}

static void enter_time_wait(hs_tcb *t, const char *why, uint64_t now, hs_tcb_out *out)
{
	set_state(t, HS_TIME_WAIT, why, out);
	t->rtx_deadline = 0;
	t->tw_deadline = deadline_after(now, t->cfg.time_wait_ns);
}

/* ---- options ------------------------------------------------------------------------ */

/* What our SYN offers, read back from the bytes cfg.syn_opts encodes to (so that raw
 * items count for what they are on the wire). */
static void our_offer(const hs_tcb *t, hs_tcp_opts *o)
{
	uint8_t buf[HS_OPT_MAXLEN];
	const char *err = NULL;
	int n = hs_opt_spec_encode(&t->cfg.syn_opts, 0, 0, buf, &err);

	memset(o, 0, sizeof(*o));
	if (n > 0)
		(void)hs_opts_decode(buf, (size_t)n, o, &err);
}

static uint16_t our_mss(const hs_tcb *t)
{
	hs_tcp_opts o;

	our_offer(t, &o);
	return (o.has & HS_HAS_MSS) ? o.mss : OUR_MSS_DEFAULT;
}

/* Settle the options from the peer's SYN against our offer (RFC 7323, 2018). */
static void negotiate(hs_tcb *t, const hs_tcp_opts *peer)
{
	hs_tcp_opts ours;

	our_offer(t, &ours);
	if (peer->has & HS_HAS_MSS)
		t->peer_mss = peer->mss < PEER_MSS_MIN ? PEER_MSS_MIN : peer->mss;
	else
		t->peer_mss = PEER_MSS_DEFAULT;
	t->sack_ok = (peer->has & HS_HAS_SACKOK) && (ours.has & HS_HAS_SACKOK);
	t->ts_ok = (peer->has & HS_HAS_TS) && (ours.has & HS_HAS_TS);
	t->ws_ok = (peer->has & HS_HAS_WSCALE) && (ours.has & HS_HAS_WSCALE);
	t->snd_wscale = t->ws_ok ? (peer->wscale > WSCALE_MAX ? WSCALE_MAX : peer->wscale) : 0;
	t->rcv_wscale = t->ws_ok ? (ours.wscale > WSCALE_MAX ? WSCALE_MAX : ours.wscale) : 0;
}

static void spec_add(hs_opt_spec *s, uint8_t kind, uint32_t v1)
{
	hs_opt_item *it = &s->item[s->n++];
	it->kind = kind;
	it->v1 = v1;
	it->ts_auto = kind == HS_OPTK_TS;
}

/* SYN,ACK options as Linux lays them out, limited to what both sides offered. */
static int synack_opts(const hs_tcb *t, uint64_t now, uint8_t out[HS_OPT_MAXLEN])
{
	hs_opt_spec s;
	const char *err = NULL;

	memset(&s, 0, sizeof(s));
	spec_add(&s, HS_OPTK_MSS, our_mss(t));
	if (t->ts_ok && t->sack_ok) {
		spec_add(&s, HS_OPTK_SACKOK, 0);
		spec_add(&s, HS_OPTK_TS, 0);
	} else if (t->ts_ok) {
		spec_add(&s, HS_OPTK_NOP, 0);
		spec_add(&s, HS_OPTK_NOP, 0);
		spec_add(&s, HS_OPTK_TS, 0);
	} else if (t->sack_ok) {
		spec_add(&s, HS_OPTK_NOP, 0);
		spec_add(&s, HS_OPTK_NOP, 0);
		spec_add(&s, HS_OPTK_SACKOK, 0);
	}
	if (t->ws_ok) {
		spec_add(&s, HS_OPTK_NOP, 0);
		spec_add(&s, HS_OPTK_WSCALE, t->rcv_wscale);
	}
	if (t->tfo_answer) { /* RFC 7413 4.1.2: the cookie the client asked for */
		hs_opt_item *it = &s.item[s.n++];
		it->kind = HS_OPTK_TFO;
		it->len = t->cfg.tfo_cookie_len;
		memcpy(it->data, t->cfg.tfo_cookie, it->len);
	}
	int n = hs_opt_spec_encode(&s, ts_value(t, now), t->ts_recent, out, &err);
	if (t->tfo_answer && t->cfg.md5_space && (n < 0 || ((n + 3) & ~3) + t->cfg.md5_space > HS_OPT_MAXLEN)) {
		/* The MD5 signature comes first (RFC 2385 is not optional): no room for the
		 * cookie, which the client then does not get (it asks again next time). */
		s.n--;
		n = hs_opt_spec_encode(&s, ts_value(t, now), t->ts_recent, out, &err);
	}
	return n < 0 ? 0 : n;
}

/* Options of a segment after the handshake: TS when negotiated, an optional SACK block. */
static void ooo_blocks(const hs_tcb *t, hs_tcp_opts *b);

/* Options of a segment after the handshake: TS when negotiated, SACK blocks for the
 * out-of-order data we hold (RFC 2018: the most recently received first), or the
 * block given. */
static void est_opts(const hs_tcb *t, hs_tx *tx, uint64_t now, const hs_tcp_opts *sack)
{
	hs_tcp_opts held;

	if (!sack && t->sack_ok && t->nooo > 0 && (tx->flags & HS_ACK) && !(tx->flags & HS_RST)) {
		ooo_blocks(t, &held);
		sack = &held;
	}
	int n = hs_opts_encode_established(t->ts_ok, ts_value(t, now), t->ts_recent, sack, tx->opts);
	/* With an MD5 signature (20 bytes) fewer SACK blocks fit: the oldest go, as
	 * Linux leaves them out. */
	hs_tcp_opts fewer;
	if (sack && t->cfg.md5_space && n > 0 && ((n + 3) & ~3) + t->cfg.md5_space > HS_OPT_MAXLEN) {
		fewer = *sack;
		while (fewer.nsack > 0 && (n < 0 || ((n + 3) & ~3) + t->cfg.md5_space > HS_OPT_MAXLEN)) {
			fewer.nsack--;
			n = hs_opts_encode_established(t->ts_ok, ts_value(t, now), t->ts_recent, fewer.nsack ? &fewer : NULL,
			                               tx->opts);
		}
	}
	tx->opt_len = (uint8_t)(n < 0 ? 0 : n);
	tx->has_ts = t->ts_ok;
	tx->tsval = ts_value(t, now);
}

/* ---- our segments --------------------------------------------------------------- */

/* Our FIN left before this segment and is not acknowledged: the peer may get it first. */
static bool our_fin_before(const hs_tcb *t, const hs_tx *tx)
{
	return t->fin_sent && !t->fin_acked && hs_seq_gt(tx->seq, t->fin_seq);
}

/* Where our RST sends the peer: RFC 9293 3.10.7.3, a passive open in SYN-RECEIVED
 * goes back to LISTEN; any other connection to CLOSED. */
static hs_state peer_after_rst(const hs_tcb *t)
{
	return t->peer_state == HS_SYN_RECEIVED && t->active_open ? HS_LISTEN : HS_CLOSED;
}

/* What one of our segments, once it has left, does to the peer's inferred state (see
 * the top comment). cause is k+1 for out->tx[k]. */
static void peer_sees(hs_tcb *t, const hs_tx *tx, int cause, hs_tcb_out *out)
{
	hs_state before = t->peer_state;

	if (tx->reply_rst && !(t->probing && t->peer_state == HS_SYN_RECEIVED))
		return; /* (a probe's RST for the SYN,ACK it drew closes that half-open connection) */
	if (tx->flags & HS_RST) {
		set_peer_by(t, peer_after_rst(t), "RST sent",
		            cause, out);
	} else if ((tx->flags & HS_ACK) && !(tx->flags & HS_SYN)) {
		/* Our ACK completes its handshake only if it is acceptable there: at its
		 * RCV.NXT (not a keepalive's old byte) and acknowledging its SYN exactly. */
		if (t->peer_state == HS_SYN_RECEIVED && hs_seq_geq(tx->seq, t->snd_una) && tx->ack == t->rcv_nxt &&
		    tx->note != HS_NOTE_KEEPALIVE)
			set_peer_by(t, HS_ESTABLISHED, "ACK sent", cause, out);
		if (t->peer_fin_seen && tx->ack == t->peer_fin_seq + 1) {
			switch (t->peer_state) {
			case HS_FIN_WAIT_1:
				if (!our_fin_before(t, tx) && !(tx->flags & HS_FIN))
					set_peer_by(t, HS_FIN_WAIT_2, "ACK sent", cause, out);
				break;
			case HS_CLOSING:
				set_peer_by(t, HS_TIME_WAIT, "ACK sent", cause, out);
				break;
			case HS_LAST_ACK:
				set_peer_by(t, HS_CLOSED, "ACK sent", cause, out);
				break;
			default:
				break;
			}
		}
	}
	if (t->peer_state != before) {
		t->peer_assumed_has_ts = tx->has_ts;
		t->peer_assumed_tsval = tx->tsval;
	}
}

void hs_tcb_sent(hs_tcb *t, int k, uint64_t now, hs_tcb_out *out)
{
	(void)now;
	if (k < 0 || k >= out->ntx)
		return;
	peer_sees(t, &out->tx[k], k + 1, out);
}

void hs_tcb_sent_all(hs_tcb *t, uint64_t now, hs_tcb_out *out)
{
	for (int k = 0; k < out->ntx; k++)
		hs_tcb_sent(t, k, now, out);
}

/* A pure ACK that repeats our previous segment's ACK and window and sends nothing
 * new is a duplicate ACK (Wireshark's rule, which counts no outstanding data); it
 * keeps a note it already has (challenge-ack, keepalive-ack). Remembers the ACK
 * and window that the next one is judged against. */
static void note_tx_ack(hs_tcb *t, hs_tx *tx)
{
	/* Called before any data is attached: our data segments carry PSH, the keepalive
	 * probe (one old byte, no PSH) its own note. */
	bool pure = (tx->flags & (HS_SYN | HS_FIN | HS_RST | HS_PSH | HS_ACK)) == HS_ACK;

	if (pure && tx->note == HS_NOTE_NONE && t->tx_seen && tx->win != 0 && tx->win == t->last_tx_win &&
	    tx->ack == t->last_tx_ack && tx->seq == t->snd_max)
		tx->note = HS_NOTE_DUP_ACK;
	if (tx->flags & HS_RST)
		return;
	t->tx_seen = true;
	t->last_tx_keepalive = tx->note == HS_NOTE_KEEPALIVE;
	t->last_tx_ack = tx->ack;
	t->last_tx_win = tx->win;
}

/* Appends one segment (header fields, window). Options and data are the caller's to
 * fill. NULL when out->tx is full. */
static hs_tx *append_tx(hs_tcb *t, uint8_t flags, uint32_t seq, uint32_t ack, enum hs_note note,
                        hs_tcb_out *out)
{
	if (out->ntx >= HS_TCB_MAXTX)
		return NULL;
	hs_tx *tx = &out->tx[out->ntx++];
	memset(tx, 0, sizeof(*tx));
	tx->ip = t->cfg.ip;
	tx->flags = flags;
	tx->seq = seq;
	tx->ack = (flags & HS_ACK) ? ack : 0;
	tx->note = note;
	if (flags & HS_RST)
		tx->win = 0;
	else if (flags & HS_SYN)
		tx->win = t->cfg.window; /* RFC 7323 2.2: never scaled in a SYN */
	else
		tx->win = (uint16_t)(t->cfg.window >> t->rcv_wscale);
	note_tx_ack(t, tx);
	return tx;
}

/* A segment of this connection. Its effect on the peer's state is applied once it
 * has left (hs_tcb_sent). */
static hs_tx *emit(hs_tcb *t, uint8_t flags, uint32_t seq, uint32_t ack, enum hs_note note,
                   hs_tcb_out *out)
{
	return append_tx(t, flags, seq, ack, note, out);
}

/* RFC 9293 3.10.7: the reset for a segment that does not belong to this connection's
 * state (its ACK names something we never sent). It is aimed at whatever stale
 * connection sent it, so it says nothing about the peer's state here. */
static void send_reply_rst(hs_tcb *t, uint32_t seq, bool with_ack, uint32_t ack, hs_tcb_out *out)
{
	hs_tx *tx = append_tx(t, with_ack ? HS_RST | HS_ACK : HS_RST, seq, ack, HS_NOTE_NONE, out);

	if (tx)
		tx->reply_rst = true;
}

static void arm_rtx(hs_tcb *t, uint64_t now)
{
	if (!t->rtx_deadline)
		t->rtx_deadline = deadline_after(now, t->rto_cur);
}

static void send_syn(hs_tcb *t, enum hs_note note, uint64_t now, hs_tcb_out *out)
{
	hs_tx *tx = emit(t, HS_SYN, t->iss, 0, note, out);
	const char *err = NULL;

	if (tx) {
		int n = hs_opt_spec_encode(&t->cfg.syn_opts, ts_value(t, now), 0, tx->opts, &err);
		tx->opt_len = (uint8_t)(n < 0 ? 0 : n);
		/* RFC 7413 Fast Open: the data rides in the SYN (a resent SYN too, so that
		 * SND.NXT means the same whatever the SYN,ACK answers) */
		if (t->tfo_syn_len && t->nchunk > 0) {
			tx->data = t->chunk[0].p;
			tx->len = t->tfo_syn_len;
		}
	}
	arm_rtx(t, now);
}

static void send_synack(hs_tcb *t, enum hs_note note, uint64_t now, hs_tcb_out *out)
{
	hs_tx *tx = emit(t, HS_SYN | HS_ACK, t->iss, t->rcv_nxt, note, out);

	if (tx)
		tx->opt_len = (uint8_t)synack_opts(t, now, tx->opts);
	arm_rtx(t, now);
}

static void send_ack(hs_tcb *t, enum hs_note note, uint64_t now, hs_tcb_out *out)
{
	hs_tx *tx = emit(t, HS_ACK, t->snd_nxt, t->rcv_nxt, note, out);

	if (tx)
		est_opts(t, tx, now, NULL);
}

/* RFC 9293 3.10.7.1: the reset for a segment that arrives in CLOSED. */
static void send_reset_for(hs_tcb *t, const hs_segment *seg, hs_tcb_out *out)
{
	if (seg->flags & HS_ACK)
		send_reply_rst(t, seg->ack, false, 0, out);
	else
		send_reply_rst(t, 0, true, seg->seq + seg_len(seg), out);
}

/* Bytes queued at seq up to the end of its chunk; *p points at them. 0 if none. */
static uint32_t chunk_at(const hs_tcb *t, uint32_t seq, const uint8_t **p)
{
	for (int i = 0; i < t->nchunk; i++) {
		uint32_t off = seq - t->chunk[i].seq;
		if (off < t->chunk[i].len) {
			*p = t->chunk[i].p + off;
			return t->chunk[i].len - off;
		}
	}
	*p = NULL;
	return 0;
}

static void drop_acked_chunks(hs_tcb *t)
{
	int keep = 0;

	for (int i = 0; i < t->nchunk; i++)
		if (hs_seq_gt(t->chunk[i].seq + t->chunk[i].len, t->snd_una))
			t->chunk[keep++] = t->chunk[i];
	t->nchunk = keep;
}

/* Payload per segment: the peer's MSS less the option space we use (RFC 9293 3.7.1). */
static uint32_t seg_max(const hs_tcb *t)
{
	uint32_t mss = t->peer_mss < PEER_MSS_MIN ? PEER_MSS_MIN : t->peer_mss;
	if (t->path_mss && t->path_mss < mss)
		mss = t->path_mss;
	return mss - (t->ts_ok ? TS_OPT_SPACE : 0) - t->cfg.md5_space;
}

/* Queued bytes not sent yet. */
static bool unsent_data(const hs_tcb *t)
{
	const uint8_t *p;

	return hs_seq_lt(t->snd_nxt, t->snd_end) && chunk_at(t, t->snd_nxt, &p) > 0;
}

static void send_data(hs_tcb *t, uint32_t seq, uint32_t n, bool fin, enum hs_note note,
                      uint64_t now, hs_tcb_out *out)
{
	const uint8_t *p;
	uint8_t flags = HS_PSH | HS_ACK | (fin ? HS_FIN : 0);

	(void)chunk_at(t, seq, &p);
	/* Data up to the right edge of the peer's window (a FIN segment is never "full") */
	if (note == HS_NOTE_NONE && !fin && seq + n == t->snd_una + t->snd_wnd)
		note = HS_NOTE_WINDOW_FULL;
	hs_tx *tx = emit(t, flags, seq, t->rcv_nxt, note, out);
	if (!tx)
		return;
	tx->data = p;
	tx->len = n;
	est_opts(t, tx, now, NULL);
}

static bool state_can_transmit(hs_state s)
{
	return s == HS_ESTABLISHED || s == HS_CLOSE_WAIT || s == HS_FIN_WAIT_1 || s == HS_LAST_ACK;
}

/* Sends queued data the window allows, then a queued FIN (on the last data segment
 * when it goes out together). Returns how many segments went out. */
static int send_pending(hs_tcb *t, uint64_t now, hs_tcb_out *out)
{
	int sent = 0;

	if (!state_can_transmit(t->state))
		return 0;
	while (out->ntx < HS_TCB_MAXTX) {
		if (hs_seq_lt(t->snd_nxt, t->snd_end)) {
			int32_t usable = hs_seq_diff(t->snd_una + t->snd_wnd, t->snd_nxt);
			if (usable <= 0)
				break;
			const uint8_t *p;
			uint32_t n = min_u32(chunk_at(t, t->snd_nxt, &p), seg_max(t));
			n = min_u32(n, (uint32_t)usable);
			if (n == 0)
				break; /* no queued bytes there (a TCB rebuilt without snd_end) */
			bool fin = t->fin_queued && !t->fin_sent && t->snd_nxt + n == t->snd_end;
			send_data(t, t->snd_nxt, n, fin, HS_NOTE_NONE, now, out);
			t->snd_nxt += n;
			if (fin) {
				t->fin_seq = t->snd_nxt++;
				t->fin_sent = true;
			}
		} else if (t->fin_queued && !t->fin_sent) {
			hs_tx *tx = emit(t, HS_FIN | HS_ACK, t->snd_nxt, t->rcv_nxt, HS_NOTE_NONE, out);
			if (tx)
				est_opts(t, tx, now, NULL);
			t->fin_seq = t->snd_nxt++;
			t->fin_sent = true;
		} else {
			break;
		}
		sent++;
	}
	if (hs_seq_gt(t->snd_nxt, t->snd_max))
		t->snd_max = t->snd_nxt; /* after a go-back (path MTU) it stays where it was */
	/* Something in flight, or data held back by a zero window (the persist timer). */
	if (sent || (t->snd_una == t->snd_nxt && unsent_data(t)))
		arm_rtx(t, now);
	return sent;
}

/* ---- the timer -------------------------------------------------------------------- */

/* Resends the oldest unacknowledged segment (a zero-window probe if nothing is). */
static void retransmit_oldest(hs_tcb *t, uint64_t now, hs_tcb_out *out)
{
	const uint8_t *p;

	if (t->crafted_una)
		return; /* hs send's crafted data is never resent: the peer takes it or not */

	if (t->snd_una == t->iss) {
		if (t->irs_known)
			send_synack(t, HS_NOTE_RETRANSMISSION, now, out);
		else
			send_syn(t, HS_NOTE_RETRANSMISSION, now, out);
		return;
	}
	if (t->snd_una == t->snd_nxt) {
		/* RFC 9293 3.8.6.1: one new byte beyond the closed window */
		if (chunk_at(t, t->snd_nxt, &p) == 0)
			return;
		send_data(t, t->snd_nxt, 1, false, HS_NOTE_ZERO_WINDOW_PROBE, now, out);
		t->snd_max = ++t->snd_nxt;
		return;
	}
	if (t->fin_sent && t->snd_una == t->fin_seq) {
		hs_tx *tx = emit(t, HS_FIN | HS_ACK, t->fin_seq, t->rcv_nxt, HS_NOTE_RETRANSMISSION, out);
		if (tx)
			est_opts(t, tx, now, NULL);
		return;
	}
	uint32_t sent_end = t->fin_sent ? t->fin_seq : t->snd_nxt;
	uint32_t n = min_u32(chunk_at(t, t->snd_una, &p), seg_max(t));
	n = min_u32(n, sent_end - t->snd_una);
	if (n == 0)
		return;
	bool fin = t->fin_sent && t->snd_una + n == t->fin_seq;
	/* The probe byte again while the window stays shut: still a probe. */
	bool probe = t->snd_wnd == 0 && n == 1 && !fin;
	send_data(t, t->snd_una, n, fin, probe ? HS_NOTE_ZERO_WINDOW_PROBE : HS_NOTE_RETRANSMISSION, now, out);
}

static void retransmit_timeout(hs_tcb *t, uint64_t now, hs_tcb_out *out)
{
	bool pending = hs_seq_lt(t->snd_una, t->snd_nxt) || unsent_data(t);

	t->rtx_deadline = 0;
	if (!pending)
		return;
	if (t->retries >= t->cfg.max_retries) {
		finish(t, HS_RES_TIMEOUT, "retransmissions exhausted", out);
		return;
	}
	t->retries++;
	t->rto_cur = t->rto_cur * 2 > RTO_MAX_NS ? RTO_MAX_NS : t->rto_cur * 2; /* RFC 6298 5.5 */
	retransmit_oldest(t, now, out);
	t->rtx_deadline = deadline_after(now, t->rto_cur);
}

void hs_tcb_timer(hs_tcb *t, uint64_t now, hs_tcb_out *out)
{
	memset(out, 0, sizeof(*out));
	if (t->tw_deadline && now >= t->tw_deadline) {
		finish(t, HS_RES_CLOSED, "2MSL", out);
		return;
	}
	if (t->rtx_deadline && now >= t->rtx_deadline)
		retransmit_timeout(t, now, out);
}

uint64_t hs_tcb_deadline(const hs_tcb *t)
{
	if (!t->rtx_deadline)
		return t->tw_deadline;
	if (!t->tw_deadline)
		return t->rtx_deadline;
	return t->rtx_deadline < t->tw_deadline ? t->rtx_deadline : t->tw_deadline;
}

/* ---- opening ---------------------------------------------------------------------- */

static void tcb_init(hs_tcb *t, const hs_tcb_config *cfg, uint64_t now)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->state = HS_CLOSED;
	t->peer_state = HS_CLOSED;
	t->iss = cfg->iss;
	t->snd_una = t->snd_nxt = t->snd_max = cfg->iss;
	t->snd_end = cfg->iss + 1; /* data starts after the SYN */
	t->rcv_wnd = cfg->window;
	t->peer_mss = PEER_MSS_DEFAULT;
	t->rto_cur = cfg->rto_ns;
	t->t_open_ns = now;
}

void hs_tcb_connect(hs_tcb *t, const hs_tcb_config *cfg, uint64_t now, hs_tcb_out *out)
{
	memset(out, 0, sizeof(*out));
	tcb_init(t, cfg, now);
	t->active_open = true;
	set_state(t, HS_SYN_SENT, "SYN sent", out);
	if (cfg->syn_data && cfg->syn_data_len) {
		/* RFC 7413 3: the data is queued after the SYN; what fits goes in it */
		uint32_t len = cfg->syn_data_len < SEND_MAX ? cfg->syn_data_len : SEND_MAX;
		t->chunk[0].p = cfg->syn_data;
		t->chunk[0].len = len;
		t->chunk[0].seq = t->iss + 1;
		t->nchunk = 1;
		t->snd_end = t->iss + 1 + len;
		t->tfo_syn_len = min_u32(len, HS_TFO_SYN_DATA_MAX);
	}
	send_syn(t, HS_NOTE_NONE, now, out);
	t->snd_nxt = t->snd_max = t->iss + 1 + t->tfo_syn_len;
}

void hs_tcb_resume(hs_tcb *t, const hs_tcb_config *cfg, const hs_tcb_snapshot *snap, uint64_t now)
{
	hs_tcb_config c = *cfg;

	c.iss = snap->iss;
	c.ts_clock = snap->ts_val; /* TSval continues from where the saving process left it */
	tcb_init(t, &c, now);
	t->state = snap->state;
	t->peer_state = snap->peer_state;
	t->irs = snap->irs;
	t->irs_known = true;
	t->snd_una = t->snd_nxt = t->snd_max = t->snd_end = snap->snd_nxt;
	t->rcv_nxt = snap->rcv_nxt;
	t->rcv_high = snap->rcv_nxt;
	t->snd_wnd = snap->snd_wnd;
	t->snd_wl1 = snap->rcv_nxt;
	t->snd_wl2 = snap->snd_nxt;
	t->peer_mss = snap->peer_mss ? snap->peer_mss : PEER_MSS_DEFAULT;
	t->snd_wscale = snap->snd_wscale;
	t->rcv_wscale = snap->rcv_wscale;
	t->ws_ok = snap->ws_ok;
	t->sack_ok = snap->sack_ok;
	t->ts_ok = snap->ts_ok;
	t->ts_recent = snap->ts_recent;
	/* Crafted data the peer may hold beyond SND.NXT: at most a window's worth. */
	if (snap->beyond_sent && hs_seq_gt(snap->beyond_end, snap->snd_nxt) &&
	    snap->beyond_end - snap->snd_nxt <= (1u << 30) && hs_seq_gt(snap->beyond_start, snap->snd_nxt) &&
	    hs_seq_lt(snap->beyond_start, snap->beyond_end)) {
		t->beyond_sent = true;
		t->beyond_start = snap->beyond_start;
		t->beyond_end = snap->beyond_end;
		t->beyond_fin = snap->beyond_fin && hs_seq_geq(snap->beyond_fin_seq, snap->snd_nxt) &&
		                hs_seq_lt(snap->beyond_fin_seq, snap->beyond_end);
		t->beyond_fin_seq = snap->beyond_fin_seq;
	}
	/* A kept CLOSE-WAIT connection has already taken the peer's FIN. */
	if (t->state == HS_CLOSE_WAIT) {
		t->peer_fin_seen = true;
		t->peer_fin_seq = t->rcv_nxt - 1;
	}
}

void hs_tcb_snapshot_take(const hs_tcb *t, uint64_t now, hs_tcb_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->state = t->state;
	snap->peer_state = t->peer_state;
	snap->iss = t->iss;
	snap->irs = t->irs;
	snap->snd_nxt = t->snd_nxt;
	snap->rcv_nxt = t->rcv_nxt;
	snap->snd_wnd = t->snd_wnd;
	snap->peer_mss = t->peer_mss;
	snap->snd_wscale = t->snd_wscale;
	snap->rcv_wscale = t->rcv_wscale;
	snap->ws_ok = t->ws_ok;
	snap->sack_ok = t->sack_ok;
	snap->ts_ok = t->ts_ok;
	snap->ts_recent = t->ts_recent;
	snap->ts_val = ts_value(t, now);
	snap->beyond_sent = t->beyond_sent;
	snap->beyond_start = t->beyond_start;
	snap->beyond_end = t->beyond_end;
	snap->beyond_fin = t->beyond_fin;
	snap->beyond_fin_seq = t->beyond_fin_seq;
}

void hs_tcb_probe(hs_tcb *t, bool keepalive, uint64_t now, hs_tcb_out *out)
{
	memset(out, 0, sizeof(*out));
	/* The keepalive carries one old byte, as BSD's do: Linux rate-limits its answers
	 * to out-of-window segments without data (tcp_invalid_ratelimit, 500 ms), but
	 * answers an old data byte at once (with a D-SACK when SACK is on). */
	static const uint8_t garbage = 0;
	hs_tx *tx = append_tx(t, HS_ACK, keepalive ? t->snd_nxt - 1 : t->snd_nxt, t->rcv_nxt,
	                      keepalive ? HS_NOTE_KEEPALIVE : HS_NOTE_DUP_ACK, out);
	if (!tx)
		return;
	est_opts(t, tx, now, NULL);
	if (keepalive) {
		tx->data = &garbage;
		tx->len = 1;
	}
}

void hs_tcb_listen(hs_tcb *t, const hs_tcb_config *cfg, uint64_t now, hs_tcb_out *out)
{
	memset(out, 0, sizeof(*out));
	tcb_init(t, cfg, now);
	set_state(t, HS_LISTEN, "listen", out);
}

/* Takes the peer's SYN: its ISN, options and (unscaled) window. */
static void take_peer_syn(hs_tcb *t, const hs_segment *seg)
{
	t->irs = seg->seq;
	t->irs_known = true;
	t->rcv_nxt = seg->seq + 1;
	t->rcv_high = t->rcv_nxt;
	negotiate(t, &seg->opts);
	if (t->ts_ok)
		t->ts_recent = seg->opts.ts_val;
	t->snd_wnd = seg->win;
	t->peer_wnd_seen = true; /* its window, judged as Wireshark does (unscaled in a SYN) */
	t->snd_wl1 = seg->seq;
	t->snd_wl2 = (seg->flags & HS_ACK) ? seg->ack : t->iss;
}

/* ---- processing one segment in a synchronized state --------------------------------- */

/* What one input segment did, gathered before the state transitions are applied. */
typedef struct rx {
	const hs_segment *seg;
	uint64_t now;
	uint32_t text_seq;   /* sequence number of the first payload byte */
	bool syn_acked;      /* it acknowledged our SYN */
	bool fin_acked;      /* it acknowledged our FIN */
	bool fin_accepted;   /* its FIN was taken */
	bool trimmed;        /* payload cut at the right edge of our window */
	bool need_ack;
	uint32_t rcv_high;   /* t->rcv_high before this segment */
	bool sack;           /* out-of-order data: answer with a duplicate ACK and SACK blocks */
} rx;

static bool in_rcv_window(const hs_tcb *t, uint32_t seq)
{
	return hs_seq_in(seq, t->rcv_nxt, t->rcv_nxt + t->rcv_wnd);
}

/* RFC 9293 3.10.7.4, the four cases of segment acceptability. */
static bool acceptable(const hs_tcb *t, const hs_segment *seg)
{
	uint32_t len = seg_len(seg);

	if (len == 0)
		return t->rcv_wnd == 0 ? seg->seq == t->rcv_nxt : in_rcv_window(t, seg->seq);
	if (t->rcv_wnd == 0)
		return false;
	return in_rcv_window(t, seg->seq) || in_rcv_window(t, seg->seq + len - 1);
}

/* RFC 5961 7: a challenge ACK, unless this second's share is used up (a flood of
 * forged RSTs or SYNs must not make us a reflector); then the input is only noted. */
static void send_challenge(hs_tcb *t, uint64_t now, hs_tcb_out *out)
{
	if (now - t->chal_since >= 1000000000ull || now < t->chal_since) {
		t->chal_since = now;
		t->chal_count = 0;
	}
	if (t->cfg.challenge_acks_per_sec && t->chal_count >= t->cfg.challenge_acks_per_sec) {
		out->in_note = HS_NOTE_CHALLENGE_THROTTLED;
		return;
	}
	t->chal_count++;
	send_ack(t, HS_NOTE_CHALLENGE_ACK, now, out);
}

/* RFC 5961 3.2: only an RST at exactly RCV.NXT resets; one elsewhere in the window
 * draws a challenge ACK; the rest are ignored. */
static void input_rst(hs_tcb *t, const hs_segment *seg, uint64_t now, hs_tcb_out *out)
{
	if (seg->seq == t->rcv_nxt) {
		set_peer(t, HS_CLOSED, "RST received", out);
		/* In TIME-WAIT the orderly close had already finished. */
		finish(t, t->state == HS_TIME_WAIT ? HS_RES_CLOSED : HS_RES_RESET, "RST received", out);
	} else if (in_rcv_window(t, seg->seq)) {
		send_challenge(t, now, out);
	} else {
		out->in_note = HS_NOTE_UNACCEPTABLE;
	}
}

/* A SYN in SYN-RECEIVED or a synchronized state. Returns true if processing goes on
 * (the peer's SYN,ACK in a simultaneous open), false when the segment is done with. */
static bool input_syn(hs_tcb *t, const hs_segment *seg, rx *r, hs_tcb_out *out)
{
	bool with_ack = seg->flags & HS_ACK;

	if (seg->seq == t->irs && t->state == HS_SYN_RECEIVED) {
		if (!with_ack) { /* our SYN,ACK was lost */
			out->in_note = HS_NOTE_RETRANSMISSION;
			send_synack(t, HS_NOTE_RETRANSMISSION, r->now, out);
			return false;
		}
		if (hs_seq_gt(seg->ack, t->snd_una) && hs_seq_leq(seg->ack, t->snd_nxt)) {
			set_peer(t, HS_SYN_RECEIVED, "SYN,ACK received", out);
			r->need_ack = true; /* RFC 9293 figure 8: the SYN,ACK is acknowledged */
			return true;
		}
	} else if (seg->seq == t->irs && with_ack) { /* our ACK of its SYN,ACK was lost */
		out->in_note = HS_NOTE_RETRANSMISSION;
		if (t->peer_state == HS_ESTABLISHED)
			peer_correct(t, HS_SYN_RECEIVED, "SYN,ACK resent: our ACK was lost", out);
		send_ack(t, HS_NOTE_NONE, r->now, out);
		return false;
	}
	send_challenge(t, r->now, out); /* RFC 5961 4.2 */
	return false;
}

/* RFC 9293 restarts 2MSL when the peer's FIN comes again: our ACK was lost. The peer
 * resends with its timer doubling each time, so wait at least three of its last gaps
 * (the next resend, and some): with a short --time-wait, a FIN resent after we were
 * gone would meet the local kernel's RST, and the peer would not close cleanly. */
static uint64_t time_wait_after_resent_fin(const hs_tcb *t, uint64_t now)
{
	uint64_t gap = now > t->peer_fin_at ? now - t->peer_fin_at : 0;
	uint64_t wait = gap > RTO_MAX_NS / 3 ? RTO_MAX_NS : 3 * gap;

	return wait > t->cfg.time_wait_ns ? wait : t->cfg.time_wait_ns;
}

/* A segment outside the window: answered with an ACK, classified for the user. */
static void input_unacceptable(hs_tcb *t, const hs_segment *seg, uint64_t now, hs_tcb_out *out)
{
	uint32_t len = seg_len(seg);
	bool fin_again = (seg->flags & HS_FIN) && t->peer_fin_seen &&
	                 seg->seq + payload_len(seg) == t->peer_fin_seq;

	if (fin_again) {
		out->in_note = HS_NOTE_RETRANSMISSION;
		/* Our ACK of its FIN was lost: its state is what it was before that ACK. */
		if (t->peer_state == HS_FIN_WAIT_2)
			peer_correct(t, HS_FIN_WAIT_1, "FIN resent: our ACK was lost", out);
		else if (t->peer_state == HS_CLOSED)
			peer_correct(t, HS_LAST_ACK, "FIN resent: our ACK was lost", out);
		else if (t->peer_state == HS_TIME_WAIT)
			peer_correct(t, HS_CLOSING, "FIN resent: our ACK was lost", out);
		if (t->state == HS_TIME_WAIT)
			t->tw_deadline = deadline_after(now, time_wait_after_resent_fin(t, now));
		t->peer_fin_at = now;
	} else if (len <= 1 && !(seg->flags & (HS_SYN | HS_FIN)) && seg->seq == t->rcv_nxt - 1 &&
	           (seg->flags & HS_ACK)) {
		out->in_note = HS_NOTE_KEEPALIVE; /* with no data or one old byte (BSD's) */
	} else if (len > 0 && hs_seq_leq(seg->seq + len, t->rcv_nxt)) {
		out->in_note = HS_NOTE_RETRANSMISSION;
	} else {
		out->in_note = HS_NOTE_OUT_OF_WINDOW;
	}
	send_ack(t, out->in_note == HS_NOTE_KEEPALIVE ? HS_NOTE_KEEPALIVE_ACK : HS_NOTE_NONE, now, out);
}

static void new_ack(hs_tcb *t, uint32_t ack, rx *r, hs_tcb_out *out)
{
	out->acked += ack - t->snd_una;
	if (t->snd_una == t->iss)
		r->syn_acked = true;
	t->snd_una = ack;
	if (hs_seq_gt(ack, t->snd_nxt))
		t->snd_nxt = ack; /* sent before a go-back, and it arrived after all */
	if (t->fin_sent && !t->fin_acked && hs_seq_gt(ack, t->fin_seq)) {
		t->fin_acked = true;
		r->fin_acked = true;
	}
	drop_acked_chunks(t);
	if (t->snd_una == t->snd_nxt)
		t->crafted_una = false;
	t->dupacks = 0;
	t->fast_rtx_done = false;
	/* RFC 6298 5.3: restart the timer with a fresh RTO, stop it when all is acked. */
	t->retries = 0;
	t->rto_cur = t->cfg.rto_ns;
	t->rtx_deadline = t->snd_una == t->snd_nxt ? 0 : deadline_after(r->now, t->rto_cur);
}

/* RFC 5681 3.2 / RFC 6675: the peer acknowledges SND.UNA again while data is
 * outstanding -- with the same window (a duplicate ACK), or with SACK blocks that
 * report data above SND.UNA it had not reported before (which counts although a
 * reopening window changes with every ACK). At HS_TCB_DUPTHRESH, the segment at
 * SND.UNA goes again at once instead of after the retransmission timer; once per
 * hole (until SND.UNA moves). The timer and its backoff are left as they are. */
static void fast_retransmit(hs_tcb *t, const rx *r, bool same_window_dup, hs_tcb_out *out)
{
	const hs_segment *seg = r->seg;
	bool new_sack = false;

	if (t->snd_una == t->snd_nxt || seg->ack != t->snd_una || payload_len(seg) > 0 ||
	    (seg->flags & (HS_SYN | HS_FIN | HS_RST)))
		return;
	if (t->sack_ok)
		for (int i = 0; i < seg->opts.nsack && i < HS_OPT_MAXSACK; i++) {
			uint32_t right = seg->opts.sack[i].right;
			if (hs_seq_gt(right, t->snd_una) && hs_seq_leq(right, t->snd_nxt) &&
			    (t->sack_high == 0 || hs_seq_gt(right, t->sack_high))) {
				t->sack_high = right;
				new_sack = true;
			}
		}
	if (!same_window_dup && !new_sack)
		return;
	if (++t->dupacks < HS_TCB_DUPTHRESH || t->fast_rtx_done)
		return;
	t->fast_rtx_done = true;
	retransmit_oldest(t, r->now, out);
}

/* The peer acknowledges crafted data we sent beyond SND.NXT (hs_tcb_sent_crafted):
 * it held it out of order, and the gap before it is filled. Our send sequence space
 * reaches that far after all; a crafted FIN among it is our close. */
static void take_beyond_ack(hs_tcb *t, uint32_t ack, hs_tcb_out *out)
{
	bool fin = t->beyond_fin && hs_seq_gt(ack, t->beyond_fin_seq) && !t->fin_sent &&
	           (t->state == HS_ESTABLISHED || t->state == HS_CLOSE_WAIT);
	uint32_t data_end = fin ? t->beyond_fin_seq : ack;

	drop_acked_chunks(t);
	t->snd_nxt = t->snd_max = t->snd_end = data_end;
	if (fin) {
		set_state(t, t->state == HS_CLOSE_WAIT ? HS_LAST_ACK : HS_FIN_WAIT_1, "our crafted FIN taken", out);
		t->fin_queued = t->fin_sent = true;
		t->fin_seq = t->beyond_fin_seq;
		t->snd_nxt = t->snd_max = t->fin_seq + 1;
	}
	if (hs_seq_geq(ack, t->beyond_end))
		t->beyond_sent = t->beyond_fin = false;
}

/* The ACK field (RFC 9293 3.10.7.4, fifth step). Returns false if the segment is dropped. */
static bool process_ack(hs_tcb *t, rx *r, hs_tcb_out *out)
{
	const hs_segment *seg = r->seg;
	uint32_t ack = seg->ack;
	bool pure = payload_len(seg) == 0 && !(seg->flags & (HS_SYN | HS_FIN));

	if (t->state == HS_SYN_RECEIVED &&
	    !(hs_seq_gt(ack, t->snd_una) && hs_seq_leq(ack, t->snd_nxt))) {
		out->in_note = HS_NOTE_UNACCEPTABLE;
		send_reply_rst(t, ack, false, 0, out);
		return false;
	}
	/* Only an ACK that reaches into it: the gap before it was filled. */
	if (hs_seq_gt(ack, t->snd_max) && t->beyond_sent && hs_seq_gt(ack, t->beyond_start) &&
	    hs_seq_leq(ack, t->beyond_end))
		take_beyond_ack(t, ack, out);
	if (hs_seq_gt(ack, t->snd_max)) { /* acknowledges something not yet sent */
		out->in_note = HS_NOTE_UNACCEPTABLE;
		send_ack(t, HS_NOTE_NONE, r->now, out);
		return false;
	}
	/* A duplicate ACK repeats the peer's previous ACK, window and sequence number
	 * (Wireshark's rule: outstanding data is not required); the window is compared
	 * below. Both need a window seen by this process: a resumed connection's saved
	 * one (from the SYN,ACK, perhaps) is no base. */
	bool same_ack = ack == t->snd_una;
	bool challenge = t->challenge_expected;
	t->challenge_expected = false; /* only the first answer is the challenge ACK */
	bool dup = same_ack && pure && t->peer_wnd_seen && seg->seq == r->rcv_high && seg->win != 0;
	bool window_changed = false;
	if (hs_seq_gt(ack, t->snd_una))
		new_ack(t, ack, r, out);
	if (hs_seq_lt(ack, t->snd_una))
		return true; /* an old ACK: the window it carries is stale too */

	if (hs_seq_lt(t->snd_wl1, seg->seq) ||
	    (t->snd_wl1 == seg->seq && hs_seq_leq(t->snd_wl2, ack))) {
		uint32_t wnd = (uint32_t)seg->win << ((seg->flags & HS_SYN) ? 0 : t->snd_wscale);
		bool changed = wnd != t->snd_wnd;
		bool comparable = t->peer_wnd_seen;
		t->snd_wnd = wnd;
		t->snd_wl1 = seg->seq;
		t->snd_wl2 = ack;
		t->peer_wnd_seen = true;
		if (changed && comparable && same_ack && pure && wnd != 0)
			out->in_note = HS_NOTE_WINDOW_UPDATE;
		if (changed)
			dup = false;
		window_changed = changed;
	}
	/* Every segment that shows a zero window says so, not only the first one. */
	if (seg->win == 0 && !(seg->flags & (HS_SYN | HS_FIN)))
		out->in_note = HS_NOTE_ZERO_WINDOW;
	else if (challenge && same_ack && pure)
		out->in_note = HS_NOTE_CHALLENGE_ACK; /* RFC 5961: the answer to our crafted RST or SYN */
	else if (dup)
		out->in_note = t->last_tx_keepalive ? HS_NOTE_KEEPALIVE_ACK : HS_NOTE_DUP_ACK;
	fast_retransmit(t, r, same_ack && pure && !window_changed, out);
	return true;
}

/* ---- out-of-order data ----------------------------------------------------------- */

/* Offset of seq from RCV.NXT: ranges sort by it. */
static uint32_t from_rcv_nxt(const hs_tcb *t, uint32_t seq)
{
	return seq - t->rcv_nxt;
}

/* Holds [start, start + len) of the peer's data beyond RCV.NXT (clamped to what the
 * ring and our window cover), merging it into the held ranges. */
static void ooo_hold(hs_tcb *t, uint32_t start, const uint8_t *p, uint32_t len)
{
	uint32_t room = t->rcv_wnd < HS_TCB_OOO_BYTES ? t->rcv_wnd : HS_TCB_OOO_BYTES;
	uint32_t off = from_rcv_nxt(t, start);

	if (!p || len == 0 || off >= room)
		return;
	if (len > room - off)
		len = room - off;
	uint32_t end = start + len;

	/* Merge with every range it touches; insert in order. */
	uint32_t left = start, right = end;
	int keep = 0, at = -1;
	hs_seq_range merged[HS_TCB_OOO_RANGES + 1];
	for (int i = 0; i < t->nooo; i++) {
		uint32_t l = t->ooo[i].left, r = t->ooo[i].right;
		if (from_rcv_nxt(t, r) < from_rcv_nxt(t, left) || from_rcv_nxt(t, l) > from_rcv_nxt(t, right)) {
			if (at < 0 && from_rcv_nxt(t, l) > from_rcv_nxt(t, right))
				at = keep++;
			merged[keep].left = l;
			merged[keep].right = r;
			keep++;
			continue;
		}
		if (from_rcv_nxt(t, l) < from_rcv_nxt(t, left))
			left = l;
		if (from_rcv_nxt(t, r) > from_rcv_nxt(t, right))
			right = r;
	}
	if (at < 0)
		at = keep++;
	if (keep > HS_TCB_OOO_RANGES)
		return; /* one piece too many to track: not held, the peer resends it */
	merged[at].left = left;
	merged[at].right = right;
	for (uint32_t i = 0; i < len; i++)
		t->ooo_buf[(start + i) & (HS_TCB_OOO_BYTES - 1)] = p[i];
	memcpy(t->ooo, merged, (size_t)keep * sizeof(t->ooo[0]));
	t->nooo = keep;
	t->ooo_recent = start;
}

/* RCV.NXT has moved: held data that now follows it becomes in-order. */
static void ooo_pull(hs_tcb *t, hs_tcb_out *out)
{
	while (t->nooo > 0 && hs_seq_leq(t->ooo[0].left, t->rcv_nxt)) {
		if (hs_seq_gt(t->ooo[0].right, t->rcv_nxt)) {
			out->reasm_len += t->ooo[0].right - t->rcv_nxt;
			t->rcv_nxt = t->ooo[0].right;
		}
		memmove(t->ooo, t->ooo + 1, (size_t)(t->nooo - 1) * sizeof(t->ooo[0]));
		t->nooo--;
	}
}

/* SACK blocks for what we hold: the range with the latest piece first (RFC 2018 4),
 * then the others in order. */
static void ooo_blocks(const hs_tcb *t, hs_tcp_opts *b)
{
	int first = 0;

	memset(b, 0, sizeof(*b));
	for (int i = 0; i < t->nooo; i++)
		if (hs_seq_geq(t->ooo_recent, t->ooo[i].left) && hs_seq_lt(t->ooo_recent, t->ooo[i].right))
			first = i;
	for (int k = 0; k < t->nooo && b->nsack < HS_OPT_MAXSACK; k++) {
		int i = k == 0 ? first : (k <= first ? k - 1 : k);
		b->sack[b->nsack].left = t->ooo[i].left;
		b->sack[b->nsack].right = t->ooo[i].right;
		b->nsack++;
	}
}

/* The segment text (RFC 9293 3.10.7.4, seventh step). */
static void process_text(hs_tcb *t, rx *r, hs_tcb_out *out)
{
	const hs_segment *seg = r->seg;
	uint32_t len = payload_len(seg);
	uint32_t start = r->text_seq;

	if (len == 0)
		return;
	r->need_ack = true;
	if (t->peer_fin_seen) { /* nothing can follow its FIN */
		out->in_note = HS_NOTE_UNACCEPTABLE;
		return;
	}
	if (hs_seq_gt(start, t->rcv_nxt)) {
		out->in_note = HS_NOTE_OUT_OF_ORDER;
		ooo_hold(t, start, seg->payload, len);
		r->sack = true; /* the duplicate ACK that shows the hole, with SACK blocks */
		return;
	}
	uint32_t skip = t->rcv_nxt - start;
	if (skip > 0)
		out->in_note = HS_NOTE_PARTIAL;
	if (skip >= len)
		return; /* only the FIN after it is new */
	uint32_t n = len - skip;
	if (n > t->rcv_wnd) {
		n = t->rcv_wnd;
		r->trimmed = true;
	}
	out->data = seg->payload + skip;
	out->data_len = n;
	out->data_seq = t->rcv_nxt;
	t->rcv_nxt += n;
	ooo_pull(t, out);
}

/* The FIN bit (eighth step): taken only when it is next in sequence. */
static void process_fin(hs_tcb *t, rx *r, hs_tcb_out *out)
{
	const hs_segment *seg = r->seg;

	uint32_t fin_seq;

	if (t->peer_fin_seen || r->trimmed)
		return;
	if (seg->flags & HS_FIN) {
		fin_seq = r->text_seq + payload_len(seg);
		r->need_ack = true;
		if (fin_seq != t->rcv_nxt) {
			/* After a hole: held with the data before it, taken when that comes. */
			if (hs_seq_gt(fin_seq, t->rcv_nxt) && hs_seq_lt(fin_seq, t->rcv_nxt + t->rcv_wnd)) {
				t->ooo_fin = true;
				t->ooo_fin_seq = fin_seq;
			}
			if (out->in_note == HS_NOTE_NONE)
				out->in_note = HS_NOTE_OUT_OF_ORDER;
			return;
		}
	} else if (t->ooo_fin && t->ooo_fin_seq == t->rcv_nxt) {
		fin_seq = t->ooo_fin_seq; /* the hole before the held FIN has filled */
		r->need_ack = true;
	} else {
		return;
	}
	t->peer_fin_seen = true;
	t->peer_fin_at = r->now;
	t->peer_fin_seq = fin_seq;
	t->rcv_nxt = fin_seq + 1;
	out->peer_fin = true;
	r->fin_accepted = true;
}

/* Its ACK of our FIN, as the peer lives it. */
static void peer_got_our_fin(hs_tcb *t, hs_tcb_out *out)
{
	switch (t->peer_state) {
	case HS_ESTABLISHED:
		set_peer(t, HS_CLOSE_WAIT, "our FIN acknowledged", out);
		break;
	case HS_FIN_WAIT_2:
		set_peer(t, HS_TIME_WAIT, "our FIN acknowledged", out);
		break;
	case HS_FIN_WAIT_1: /* simultaneous close; our ACK of its FIN went out before */
		set_peer(t, HS_CLOSING, "our FIN acknowledged", out);
		set_peer(t, HS_TIME_WAIT, "our ACK of its FIN", out);
		break;
	default:
		break;
	}
}

/* Its FIN, as the peer lives it. */
static void peer_sent_fin(hs_tcb *t, hs_tcb_out *out)
{
	if (t->fin_acked)
		set_peer(t, HS_LAST_ACK, "FIN received", out);
	else
		set_peer(t, HS_FIN_WAIT_1, "FIN received", out);
}

/* Every move along an edge of RFC 9293's diagram, in the order the segment is
 * processed (its ACK field, then its FIN): a FIN,ACK that acknowledges our FIN takes
 * the peer ESTABLISHED -> CLOSE-WAIT -> LAST-ACK and us FIN-WAIT-1 -> FIN-WAIT-2 ->
 * TIME-WAIT, never straight across. */
static void transitions(hs_tcb *t, rx *r, hs_tcb_out *out)
{
	/* What the segment shows about the peer. */
	if (r->syn_acked && t->peer_state == HS_SYN_SENT)
		set_peer(t, HS_ESTABLISHED, "ACK received", out);
	if (r->fin_acked)
		peer_got_our_fin(t, out);
	if (r->fin_accepted)
		peer_sent_fin(t, out);

	/* What it does to us. */
	if (r->syn_acked && t->state == HS_SYN_RECEIVED)
		set_state(t, HS_ESTABLISHED, (r->seg->flags & HS_SYN) ? "SYN,ACK received" : "ACK received", out);
	if (r->fin_acked) {
		if (t->state == HS_FIN_WAIT_1)
			set_state(t, HS_FIN_WAIT_2, "our FIN acknowledged", out);
		else if (t->state == HS_CLOSING)
			enter_time_wait(t, "our FIN acknowledged", r->now, out);
		else if (t->state == HS_LAST_ACK)
			finish(t, HS_RES_CLOSED, "our FIN acknowledged", out);
	}
	if (r->fin_accepted) {
		if (t->state == HS_ESTABLISHED || t->state == HS_SYN_RECEIVED)
			set_state(t, HS_CLOSE_WAIT, "FIN received", out);
		else if (t->state == HS_FIN_WAIT_1)
			set_state(t, HS_CLOSING, "FIN received", out);
		else if (t->state == HS_FIN_WAIT_2)
			enter_time_wait(t, "FIN received", r->now, out);
	}
}

/* Text, FIN, state changes, then what we send back: new data the window now allows
 * (which carries the ACK) or a bare ACK. */
static void finish_input(hs_tcb *t, rx *r, hs_tcb_out *out)
{
	process_text(t, r, out);
	process_fin(t, r, out);
	transitions(t, r, out);
	if (t->state == HS_CLOSED)
		return;
	int sent = send_pending(t, r->now, out);
	if (r->sack || (r->need_ack && sent == 0))
		send_ack(t, HS_NOTE_NONE, r->now, out); /* with SACK blocks for what we hold */
}

/* Where the segment stands in the peer's stream, as Wireshark judges it from what
 * was seen before: data (or SYN, FIN) below the furthest byte seen was sent before
 * -- a retransmission, also when it fills the hole we were waiting at; data
 * beyond RCV.NXT is out-of-order only where it opens the gap (beyond the furthest
 * byte seen: "previous segment not captured"), not when it continues after it. */
static void note_resent(const hs_segment *seg, const rx *r, hs_tcb_out *out)
{
	bool carries = payload_len(seg) > 0 || (seg->flags & (HS_SYN | HS_FIN));

	if (out->in_note != HS_NOTE_NONE && out->in_note != HS_NOTE_OUT_OF_ORDER)
		return;
	if (carries && hs_seq_lt(seg->seq, r->rcv_high))
		out->in_note = HS_NOTE_RETRANSMISSION;
	else if (out->in_note == HS_NOTE_OUT_OF_ORDER && !hs_seq_gt(seg->seq, r->rcv_high))
		out->in_note = HS_NOTE_NONE;
}

static void input_synchronized(hs_tcb *t, const hs_segment *seg, uint64_t now, hs_tcb_out *out)
{
	rx r = { .seg = seg, .now = now, .text_seq = seg->seq + !!(seg->flags & HS_SYN), .rcv_high = t->rcv_high };

	if (!(seg->flags & HS_RST) && hs_seq_gt(seg->seq + seg_len(seg), t->rcv_high))
		t->rcv_high = seg->seq + seg_len(seg);
	if (seg->flags & HS_RST) {
		input_rst(t, seg, now, out);
		return;
	}
	if (seg->flags & HS_SYN) {
		if (!input_syn(t, seg, &r, out))
			return;
	} else if (!acceptable(t, seg)) {
		input_unacceptable(t, seg, now, out);
		return;
	}
	/* Evidence that our segment which moved the peer arrived: the peer echoes its
	 * TSval (or a later one); without timestamps, its next acceptable segment. */
	if (t->peer_assumed && (!t->peer_assumed_has_ts ||
	    ((seg->opts.has & HS_HAS_TS) && hs_seq_geq(seg->opts.ts_ecr, t->peer_assumed_tsval))))
		t->peer_assumed = false;
	/* RFC 7323 4.3, simplified: the newest TSval from a segment not beyond RCV.NXT */
	if (t->ts_ok && (seg->opts.has & HS_HAS_TS) && hs_seq_leq(seg->seq, t->rcv_nxt))
		t->ts_recent = seg->opts.ts_val;
	if (!(seg->flags & HS_ACK)) {
		out->in_note = HS_NOTE_UNACCEPTABLE;
		return;
	}
	if (!process_ack(t, &r, out))
		return;
	finish_input(t, &r, out);
	note_resent(seg, &r, out);
}

/* ---- processing one segment before synchronization ------------------------------- */

static void input_closed(hs_tcb *t, const hs_segment *seg, hs_tcb_out *out)
{
	if (!t->probing) /* a probe's answer is what was asked for, not unacceptable */
		out->in_note = HS_NOTE_UNACCEPTABLE;
	else if ((seg->flags & (HS_SYN | HS_ACK | HS_RST)) == (HS_SYN | HS_ACK)) {
		set_peer(t, HS_SYN_RECEIVED, "SYN,ACK received", out); /* it listens: a half-open connection */
		t->probe_reset_seq = seg->ack;
	}
	if (!(seg->flags & HS_RST))
		send_reset_for(t, seg, out);
}

static bool remote_is_set(const hs_endpoint *e)
{
	return e->addr.family != 0 && e->port != 0;
}

static void input_listen(hs_tcb *t, const hs_segment *seg, uint64_t now, hs_tcb_out *out)
{
	if (remote_is_set(&t->cfg.remote) && !hs_endpoint_equal(&seg->src, &t->cfg.remote)) {
		out->in_note = HS_NOTE_UNACCEPTABLE;
		return;
	}
	if (seg->flags & HS_RST) {
		out->in_note = HS_NOTE_UNACCEPTABLE;
		return;
	}
	if (seg->flags & HS_ACK) {
		out->in_note = HS_NOTE_UNACCEPTABLE;
		send_reply_rst(t, seg->ack, false, 0, out);
		return;
	}
	if (!(seg->flags & HS_SYN)) {
		out->in_note = HS_NOTE_UNACCEPTABLE;
		return;
	}
	if (!remote_is_set(&t->cfg.remote))
		t->cfg.remote = seg->src;
	/* RFC 7413 4.1.2: data in a SYN is taken only with a valid cookie (ours, exactly);
	 * otherwise our SYN,ACK acknowledges the SYN alone and the client sends the data
	 * again. A request (or a wrong cookie) is answered with ours when we have one. */
	const hs_tcp_opts *o = &seg->opts;
	bool has_tfo = (o->has & HS_HAS_TFO) != 0;
	bool cookie_ok = has_tfo && t->cfg.tfo_cookie_len && o->tfo_len == t->cfg.tfo_cookie_len &&
	                 memcmp(o->tfo_cookie, t->cfg.tfo_cookie, o->tfo_len) == 0;
	t->tfo_answer = has_tfo && t->cfg.tfo_cookie_len && !cookie_ok;
	bool take = cookie_ok && payload_len(seg) > 0 && seg->len == payload_len(seg) && !seg->truncated &&
	            payload_len(seg) <= t->rcv_wnd;
	if (payload_len(seg) > 0 && !take) {
		out->in_note = HS_NOTE_SYN_DATA;
		if (has_tfo)
			out->tfo = "syn-only";
	}
	take_peer_syn(t, seg);
	if (take) {
		out->data = seg->payload;
		out->data_len = payload_len(seg);
		out->data_seq = seg->seq + 1;
		t->rcv_nxt += payload_len(seg);
		t->rcv_high = t->rcv_nxt;
		out->tfo = "data-acked";
	}
	set_peer(t, HS_SYN_SENT, "SYN received", out);
	set_state(t, HS_SYN_RECEIVED, "SYN received", out);
	send_synack(t, HS_NOTE_NONE, now, out);
	t->snd_nxt = t->snd_max = t->iss + 1;
}

static void input_syn_sent(hs_tcb *t, const hs_segment *seg, uint64_t now, hs_tcb_out *out)
{
	bool ack_ok = false;

	if (seg->flags & HS_ACK) {
		if (!(hs_seq_gt(seg->ack, t->snd_una) && hs_seq_leq(seg->ack, t->snd_nxt))) {
			out->in_note = HS_NOTE_UNACCEPTABLE;
			if (!(seg->flags & HS_RST))
				send_reply_rst(t, seg->ack, false, 0, out);
			return;
		}
		ack_ok = true;
	}
	if (seg->flags & HS_RST) {
		if (ack_ok)
			finish(t, HS_RES_REFUSED, "RST received", out);
		else
			out->in_note = HS_NOTE_UNACCEPTABLE;
		return;
	}
	if (!(seg->flags & HS_SYN)) {
		out->in_note = HS_NOTE_UNACCEPTABLE;
		return;
	}
	take_peer_syn(t, seg);
	if (!ack_ok) { /* simultaneous open */
		set_peer(t, HS_SYN_SENT, "SYN received", out);
		set_state(t, HS_SYN_RECEIVED, "SYN received", out);
		send_synack(t, HS_NOTE_NONE, now, out);
		return;
	}
	rx r = { .seg = seg, .now = now, .text_seq = seg->seq + 1, .need_ack = true };
	/* RFC 7413 4.2.2: a SYN,ACK that acknowledges only the SYN (or part of its data):
	 * SND.NXT goes back to what it covers, and the rest goes again at once, after
	 * the handshake, as a client stack sends it. */
	if ((seg->opts.has & HS_HAS_TFO) && seg->opts.tfo_len > 0 && seg->opts.tfo_len <= 16) {
		t->tfo_peer_cookie_len = seg->opts.tfo_len; /* RFC 7413 4.1.2: for the next SYN */
		memcpy(t->tfo_peer_cookie, seg->opts.tfo_cookie, seg->opts.tfo_len);
	}
	bool tfo_resend = t->tfo_syn_len && seg->ack != t->snd_nxt;
	if (t->tfo_syn_len) {
		out->tfo = seg->ack == t->snd_nxt ? "data-acked" : seg->ack == t->iss + 1 ? "syn-only" : "data-partly-acked";
		if (tfo_resend)
			t->snd_nxt = seg->ack;
	}
	/* RFC 9293 figure 5: a SYN,ACK comes from LISTEN -> SYN-RECEIVED (it was listening). */
	if (t->peer_state == HS_CLOSED)
		set_peer(t, HS_LISTEN, "it was listening", out);
	set_peer(t, HS_SYN_RECEIVED, "SYN,ACK received", out);
	new_ack(t, seg->ack, &r, out);
	set_state(t, HS_ESTABLISHED, "SYN,ACK received", out);
	finish_input(t, &r, out);
	/* The SYN's data again: sent before, as Wireshark would call it */
	for (int i = 0; tfo_resend && i < out->ntx; i++)
		if (out->tx[i].len && hs_seq_lt(out->tx[i].seq, t->snd_max) && out->tx[i].note == HS_NOTE_NONE)
			out->tx[i].note = HS_NOTE_RETRANSMISSION;
}

/* A network copy of one of the peer's latest segments: every field the same,
 * including what a resend would change (the TSval; without timestamps the IPv4 ID).
 * Without either (IPv6, no timestamps) a copy cannot be told from a resend. */
static bool seen_before(hs_tcb *t, const hs_segment *seg, uint64_t now)
{
	struct hs_tcb_seen n = {
		.seq = seg->seq, .ack = seg->ack, .win = seg->win, .csum = seg->csum,
		.len = payload_len(seg), .flags = seg->flags, .used = true,
		.has_ts = (seg->opts.has & HS_HAS_TS) != 0, .tsval = seg->opts.ts_val,
		.has_ip_id = seg->has_ip_id, .ip_id = seg->ip_id, .at = now, .src = seg->src,
	};

	if (!n.has_ts)
		n.tsval = 0;
	if (!n.has_ip_id)
		n.ip_id = 0;
	for (unsigned i = 0; i < HS_TCB_RECENT; i++) {
		const struct hs_tcb_seen *r = &t->recent[i];
		if (!r->used || r->seq != n.seq || r->ack != n.ack || r->win != n.win || r->csum != n.csum ||
		    r->len != n.len || r->flags != n.flags || r->has_ts != n.has_ts || r->tsval != n.tsval ||
		    r->has_ip_id != n.has_ip_id || r->ip_id != n.ip_id || !hs_endpoint_equal(&r->src, &n.src))
			continue;
		/* Every field the same. What a resend changes tells them apart: its TSval
		 * (but the peer's clock ticks once a millisecond, so two segments of one
		 * millisecond share one: a different IPv4 ID still proves them apart, as the
		 * ID test above does), or, without timestamps, its IPv4 ID -- unless the ID is
		 * 0, as Linux sends its SYN,ACKs: then, as over IPv6, only time can tell, and a
		 * copy comes within HS_COPY_NS while no stack resends that fast. */
		if (n.has_ts || (n.has_ip_id && n.ip_id != 0) || now - r->at < HS_COPY_NS)
			return true;
	}
	t->recent[t->recent_next] = n;
	t->recent_next = (t->recent_next + 1) % HS_TCB_RECENT;
	return false;
}

void hs_tcb_input(hs_tcb *t, const hs_segment *seg, uint64_t now, hs_tcb_out *out)
{
	memset(out, 0, sizeof(*out));
	if (seen_before(t, seg, now)) { /* also once CLOSED: a late copy draws no RST */
		out->in_note = HS_NOTE_DUPLICATE;
		return;
	}
	switch (t->state) {
	case HS_CLOSED:
		input_closed(t, seg, out);
		break;
	case HS_LISTEN:
		input_listen(t, seg, now, out);
		break;
	case HS_SYN_SENT:
		input_syn_sent(t, seg, now, out);
		break;
	default:
		input_synchronized(t, seg, now, out);
		break;
	}
}

/* ---- ICMP ----------------------------------------------------------------------------- */

static bool icmp_unreachable(const hs_icmp_error *icmp)
{
	if (icmp->family == AF_INET)
		return icmp->type == ICMP4_DEST_UNREACH;
	return icmp->type == ICMP6_DEST_UNREACH ||
	       (icmp->type == ICMP6_PARAM_PROB && icmp->code == ICMP6_UNKNOWN_NEXTHDR);
}

/* Port or protocol unreachable: no one will ever answer (RFC 1122 4.2.3.9). */
static bool icmp_port_or_proto(const hs_icmp_error *icmp)
{
	if (icmp->family == AF_INET)
		return icmp->code == ICMP4_PROT_UNREACH || icmp->code == ICMP4_PORT_UNREACH;
	if (icmp->type == ICMP6_PARAM_PROB)
		return true;
	return icmp->code == ICMP6_PORT_UNREACH;
}

/* "Fragmentation needed" (ICMPv4 3/4) or "packet too big" (ICMPv6 2). */
static bool icmp_too_big(const hs_icmp_error *icmp)
{
	return (icmp->family == AF_INET && icmp->type == ICMP4_DEST_UNREACH && icmp->code == 4) ||
	       (icmp->family == AF_INET6 && icmp->type == 2);
}

/* RFC 1191 / RFC 8201: a router on the path cannot forward our segment whole. The
 * segment size comes down to what its MTU allows (IP and TCP headers off; a router
 * that names no MTU gets RFC 1191's plateau 576; never below IPv4's 576 or IPv6's
 * 1280, as Linux's min_pmtu), and what is in flight goes again at once, smaller. */
static void path_mtu(hs_tcb *t, const hs_icmp_error *icmp, uint64_t now, hs_tcb_out *out)
{
	bool v6 = icmp->family == AF_INET6;
	uint32_t floor = v6 ? 1280 : 576, hdr = (v6 ? 40 : 20) + 20;
	uint32_t mtu = icmp->mtu ? icmp->mtu : floor;

	if (mtu < floor)
		mtu = floor;
	if (mtu > 65535)
		mtu = 65535;
	uint32_t mss = mtu - hdr;
	uint32_t cur = t->path_mss ? t->path_mss : t->peer_mss;
	if (mss >= cur || hs_seq_geq(icmp->orig_seq, t->snd_nxt) || t->snd_una == t->snd_nxt)
		return; /* nothing of ours that size in flight: nothing to do */
	t->path_mss = (uint16_t)mss;
	/* Go back to SND.UNA and send again, in the new size; a FIN sent goes again too. */
	t->snd_nxt = t->snd_una;
	if (t->fin_sent && !t->fin_acked)
		t->fin_sent = false;
	int first = out->ntx;
	send_pending(t, now, out);
	for (int i = first; i < out->ntx; i++)
		out->tx[i].note = HS_NOTE_PMTU;
}

void hs_tcb_icmp(hs_tcb *t, const hs_icmp_error *icmp, uint64_t now, hs_tcb_out *out)
{
	memset(out, 0, sizeof(*out));
	if (t->state == HS_CLOSED || t->state == HS_LISTEN)
		return;
	if (!hs_endpoint_equal(&icmp->orig_src, &t->cfg.local) ||
	    !hs_endpoint_equal(&icmp->orig_dst, &t->cfg.remote))
		return;
	/* RFC 5927 4.1: the quoted segment must be one we could have sent */
	if (!(hs_seq_geq(icmp->orig_seq, t->snd_una) && hs_seq_leq(icmp->orig_seq, t->snd_nxt))) {
		out->in_note = HS_NOTE_UNACCEPTABLE;
		return;
	}
	if (icmp_too_big(icmp)) {
		path_mtu(t, icmp, now, out);
		return;
	}
	if (!icmp_unreachable(icmp))
		return; /* time exceeded and the like: soft */
	bool handshake = t->state == HS_SYN_SENT || t->state == HS_SYN_RECEIVED;
	if (handshake || icmp_port_or_proto(icmp))
		finish(t, HS_RES_UNREACHABLE, "ICMP unreachable", out);
}

/* ---- user requests ---------------------------------------------------------------- */

int hs_tcb_send(hs_tcb *t, const uint8_t *data, uint32_t len, uint64_t now, hs_tcb_out *out)
{
	memset(out, 0, sizeof(*out));
	if (t->state != HS_ESTABLISHED && t->state != HS_CLOSE_WAIT)
		return -1;
	if (len == 0)
		return 0;
	if (!data || len > SEND_MAX || (uint32_t)(t->snd_end - t->snd_una) > SEND_MAX - len)
		return -1;
	drop_acked_chunks(t);
	if (t->nchunk >= HS_TCB_MAXCHUNKS)
		return -1;
	t->chunk[t->nchunk].p = data;
	t->chunk[t->nchunk].len = len;
	t->chunk[t->nchunk].seq = t->snd_end;
	t->nchunk++;
	t->snd_end += len;
	if (!t->cork)
		send_pending(t, now, out);
	return 0;
}

int hs_tcb_close(hs_tcb *t, uint64_t now, hs_tcb_out *out)
{
	const char *why = t->snd_nxt == t->snd_end ? "FIN sent" : "close requested";

	memset(out, 0, sizeof(*out));
	switch (t->state) {
	case HS_LISTEN:
		finish(t, HS_RES_CLOSED, "close in LISTEN", out);
		return 0;
	case HS_SYN_SENT:
		finish(t, HS_RES_CLOSED, "close in SYN-SENT", out);
		return 0;
	case HS_SYN_RECEIVED:
	case HS_ESTABLISHED:
		set_state(t, HS_FIN_WAIT_1, why, out);
		break;
	case HS_CLOSE_WAIT:
		set_state(t, HS_LAST_ACK, why, out);
		break;
	default:
		return -1;
	}
	t->fin_queued = true;
	t->cork = false;
	send_pending(t, now, out);
	return 0;
}

void hs_tcb_abort(hs_tcb *t, bool ack, uint64_t now, hs_tcb_out *out)
{
	memset(out, 0, sizeof(*out));
	if (t->state == HS_CLOSED || t->state == HS_LISTEN) {
		finish(t, HS_RES_ABORTED, "abort", out);
		return;
	}
	finish(t, HS_RES_ABORTED, "RST sent", out);
	hs_tx *tx = emit(t, ack ? HS_RST | HS_ACK : HS_RST, t->snd_nxt, t->rcv_nxt, HS_NOTE_NONE, out);
	if (tx)
		est_opts(t, tx, now, NULL);
}

void hs_tcb_refresh(const hs_tcb *t, hs_tx *tx, uint64_t now)
{
	const char *err = NULL;

	if (tx->flags & HS_RST)
		return;
	if (tx->flags & HS_SYN) {
		int n;
		if (tx->flags & HS_ACK) {
			tx->ack = t->rcv_nxt;
			n = synack_opts(t, now, tx->opts);
		} else {
			n = hs_opt_spec_encode(&t->cfg.syn_opts, ts_value(t, now), 0, tx->opts, &err);
		}
		tx->opt_len = (uint8_t)(n < 0 ? 0 : n);
		return;
	}
	if (tx->flags & HS_ACK)
		tx->ack = t->rcv_nxt;
	tx->win = (uint16_t)(t->cfg.window >> t->rcv_wscale);
	est_opts(t, tx, now, NULL);
}

bool hs_tcb_all_acked(const hs_tcb *t)
{
	return hs_seq_geq(t->snd_una, t->snd_end) && (!t->fin_queued || t->fin_acked);
}

/* ---- crafted segments (hs send, --step edits) ------------------------------------- */

void hs_tcb_closed(hs_tcb *t, const hs_tcb_config *cfg, uint64_t now)
{
	tcb_init(t, cfg, now);
	t->probing = true;
	t->active_open = true;
}

void hs_tcb_template(const hs_tcb *t, uint8_t flags, uint64_t now, hs_tx *tx)
{
	const char *err = NULL;
	int n;

	/* Built here, not through append_tx: that one remembers our last ACK. */
	memset(tx, 0, sizeof(*tx));
	tx->flags = flags;
	/* A SYN opens at ISS; one into a synchronized connection (RFC 5961 4) goes where
	 * any segment would, at SND.NXT. */
	bool opening = t->state == HS_CLOSED || t->state == HS_LISTEN || t->state == HS_SYN_SENT ||
	               t->state == HS_SYN_RECEIVED;
	tx->seq = (flags & HS_SYN) && opening ? t->iss : t->snd_nxt;
	tx->ack = (flags & HS_ACK) ? t->rcv_nxt : 0;
	if (flags & HS_RST)
		tx->win = 0;
	else if (flags & HS_SYN)
		tx->win = t->cfg.window;
	else
		tx->win = (uint16_t)(t->cfg.window >> t->rcv_wscale);
	if (flags & HS_SYN) {
		if (flags & HS_ACK) {
			n = synack_opts(t, now, tx->opts);
		} else {
			n = hs_opt_spec_encode(&t->cfg.syn_opts, ts_value(t, now), 0, tx->opts, &err);
		}
		tx->opt_len = (uint8_t)(n < 0 ? 0 : n);
		/* Whether it carries our TSval is what the bytes say (raw items count too). */
		hs_tcp_opts o;
		tx->has_ts = tx->opt_len && hs_opts_decode(tx->opts, tx->opt_len, &o, &err) == 0 && (o.has & HS_HAS_TS);
		tx->tsval = tx->has_ts ? o.ts_val : 0;
	} else if (t->state != HS_CLOSED && t->state != HS_LISTEN && t->state != HS_SYN_SENT) {
		est_opts(t, tx, now, NULL);
	}
}

/* The exact RST of RFC 5961 3.2: SEG.SEQ is the peer's RCV.NXT. We know it only
 * within [SND.UNA, SND.NXT]: with nothing in flight it is SND.NXT; otherwise an
 * RST at SND.UNA (what a peer that lost everything since expects) or SND.NXT (what
 * one that got it all expects) is taken as exact. */
static bool rst_exact(const hs_tcb *t, uint32_t seq)
{
	return seq == t->snd_nxt || seq == t->snd_una;
}

void hs_tcb_sent_crafted(hs_tcb *t, int k, bool retransmit, uint64_t now, hs_tcb_out *out)
{
	if (k < 0 || k >= out->ntx)
		return;
	hs_tx *tx = &out->tx[k];
	bool synced = t->state == HS_ESTABLISHED || t->state == HS_CLOSE_WAIT || t->state == HS_SYN_RECEIVED ||
	              t->state == HS_FIN_WAIT_1 || t->state == HS_FIN_WAIT_2 || t->state == HS_CLOSING ||
	              t->state == HS_LAST_ACK || t->state == HS_TIME_WAIT;

	/* What our next pure ACK is judged against (note_tx_ack): this one. */
	if (!(tx->flags & HS_RST)) {
		t->tx_seen = true;
		t->last_tx_keepalive = false;
		t->last_tx_ack = tx->ack;
		t->last_tx_win = tx->win;
	}
	/* RFC 5961: a SYN, an RST that is not exact, and an ACK of data the peer never
	 * sent draw a challenge ACK: its answer is noted as one. */
	t->challenge_expected = synced && !tx->ip.bad_csum &&
	                        ((tx->flags & HS_SYN) || ((tx->flags & HS_RST) && !rst_exact(t, tx->seq)) ||
	                         ((tx->flags & HS_ACK) && hs_seq_gt(tx->ack, t->rcv_nxt)));
	if (!synced || (tx->flags & HS_SYN) || tx->ip.bad_csum)
		return; /* a probe, a SYN into a connection, a segment the peer drops: no
		         * change on this side (the peer's answer shows what it did) */
	if (tx->flags & HS_RST) {
		if (!rst_exact(t, tx->seq))
			return; /* RFC 5961 3.2: the peer answers with a challenge ACK, no more */
		int n = out->nchange;
		finish(t, HS_RES_ABORTED, "RST sent", out);
		for (int i = n; i < out->nchange; i++)
			out->change[i].cause = (int8_t)(k + 1);
		set_peer_by(t, peer_after_rst(t), "RST sent",
		            k + 1, out);
		return;
	}
	/* Data or FIN from SND.NXT on with nothing else queued: the send sequence space
	 * grows by it, as if the TCB had sent it itself. */
	bool fin = (tx->flags & HS_FIN) && (t->state == HS_ESTABLISHED || t->state == HS_CLOSE_WAIT ||
	                                    t->state == HS_SYN_RECEIVED);
	/* It may start before SND.NXT (old bytes again, as a repacketized resend): the
	 * peer takes what is new. */
	uint32_t skip = t->snd_nxt - tx->seq;
	bool at_nxt = hs_seq_leq(tx->seq, t->snd_nxt) && (skip < tx->len || (skip == tx->len && fin));
	if (at_nxt && t->snd_nxt == t->snd_end && !t->fin_queued) {
		if (tx->len > skip && tx->data) {
			drop_acked_chunks(t);
			if (t->nchunk < HS_TCB_MAXCHUNKS) {
				t->chunk[t->nchunk].p = tx->data + skip;
				t->chunk[t->nchunk].len = tx->len - skip;
				t->chunk[t->nchunk].seq = t->snd_end;
				t->nchunk++;
				t->snd_end += tx->len - skip;
				t->snd_nxt += tx->len - skip;
			}
		}
		if (fin && t->snd_nxt == tx->seq + tx->len) {
			int n = out->nchange;
			set_state(t, t->state == HS_CLOSE_WAIT ? HS_LAST_ACK : HS_FIN_WAIT_1, "FIN sent", out);
			for (int i = n; i < out->nchange; i++)
				out->change[i].cause = (int8_t)(k + 1);
			t->fin_queued = t->fin_sent = true;
			t->fin_seq = t->snd_nxt++;
		}
		if (hs_seq_gt(t->snd_nxt, t->snd_max))
			t->snd_max = t->snd_nxt;
		t->crafted_una = !retransmit;
		if (retransmit)
			arm_rtx(t, now);
	} else if ((tx->len > 0 || (tx->flags & HS_FIN)) && hs_seq_gt(tx->seq, t->snd_nxt) &&
	           hs_seq_diff(tx->seq, t->snd_nxt) < (1 << 30)) {
		/* Beyond SND.NXT: the peer may hold it out of order (see take_beyond_ack). */
		uint32_t end = tx->seq + tx->len + !!(tx->flags & HS_FIN);
		if (!t->beyond_sent || hs_seq_gt(end, t->beyond_end))
			t->beyond_end = end;
		if (!t->beyond_sent || hs_seq_lt(tx->seq, t->beyond_start))
			t->beyond_start = tx->seq;
		t->beyond_sent = true;
		if (tx->flags & HS_FIN) {
			t->beyond_fin = true;
			t->beyond_fin_seq = tx->seq + tx->len;
		}
	}
	peer_sees(t, tx, k + 1, out);
}

uint32_t hs_tcb_forget_unacked(hs_tcb *t, hs_tcb_out *out)
{
	uint32_t n = t->snd_nxt - t->snd_una;

	memset(out, 0, sizeof(*out));
	if (n == 0 || !t->crafted_una)
		return 0;
	if (t->fin_sent && !t->fin_acked) {
		t->fin_queued = t->fin_sent = false;
		if (t->state == HS_FIN_WAIT_1)
			set_state(t, HS_ESTABLISHED, "our FIN not acknowledged", out);
		else if (t->state == HS_LAST_ACK)
			set_state(t, HS_CLOSE_WAIT, "our FIN not acknowledged", out);
		else if (t->state == HS_CLOSING)
			set_state(t, HS_CLOSE_WAIT, "our FIN not acknowledged", out);
	}
	t->snd_nxt = t->snd_max = t->snd_end = t->snd_una;
	drop_acked_chunks(t);
	t->nchunk = 0;
	t->rtx_deadline = 0;
	t->crafted_una = false;
	return n;
}

void hs_tcb_probe_reset(hs_tcb *t, uint64_t now, hs_tcb_out *out)
{
	(void)now;
	memset(out, 0, sizeof(*out));
	if (t->probing && t->peer_state == HS_SYN_RECEIVED)
		send_reply_rst(t, t->probe_reset_seq, false, 0, out);
}
