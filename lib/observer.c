/* The observer: both ends of a connection hs is not an end of, tracked from the
 * segments that pass the capture point (see observer.h for the model). */
#include <config.h>
#include <string.h>
#include "hs/observer.h"
#include "hs/seq.h"

#define WS_MAX 14 /* RFC 7323 2.3: larger shifts are taken as 14 */

void hs_observer_init(hs_observer *ob, const hs_endpoint *a, const hs_endpoint *b)
{
	memset(ob, 0, sizeof(*ob));
	ob->side[HS_OBS_A].ep = *a;
	ob->side[HS_OBS_B].ep = *b;
}

int hs_observer_sender(const hs_observer *ob, const hs_segment *seg)
{
	for (int i = 0; i < 2; i++)
		if (hs_endpoint_equal(&seg->src, &ob->side[i].ep) && hs_endpoint_equal(&seg->dst, &ob->side[!i].ep))
			return i;
	return -1;
}

uint32_t hs_observer_rel(const hs_observer *ob, int side, uint32_t seq)
{
	return ob->side[side].iss_known ? seq - ob->side[side].iss : 0;
}

/* ---- state changes ---------------------------------------------------------------- */

/* Move side to `to`. A sender's move is certain (assumed false); a receiver's is
 * assumed until `confirm` (with confirm_ack) shows it took the segment. */
static void move(hs_observer *ob, hs_obs_out *out, int side, hs_state to, const char *why, bool assumed,
                 enum hs_obs_confirm confirm, uint32_t confirm_ack)
{
	hs_obs_side *s = &ob->side[side];

	if (s->state == to)
		return;
	if (out->nchange < HS_OBS_MAXCHANGE)
		out->change[out->nchange++] = (hs_change){
			.peer = side == HS_OBS_B, .from = s->state, .to = to, .why = why, .assumed = assumed,
		};
	s->state = to;
	s->assumed = assumed;
	s->confirm = assumed ? (uint8_t)confirm : HS_OBS_CONFIRM_NONE;
	s->confirm_ack = confirm_ack;
}

static void certain(hs_observer *ob, hs_obs_out *out, int side, hs_state to, const char *why)
{
	move(ob, out, side, to, why, false, HS_OBS_CONFIRM_NONE, 0);
	ob->side[side].assumed = false;
}

/* Its own segment shows that side never left `to`: what moved it (the other end's
 * segment) did not arrive. */
static void correct(hs_observer *ob, hs_obs_out *out, int side, hs_state to, const char *why)
{
	hs_obs_side *s = &ob->side[side];

	if (out->nchange < HS_OBS_MAXCHANGE)
		out->change[out->nchange++] = (hs_change){
			.peer = side == HS_OBS_B, .from = s->state, .to = to, .why = why, .correction = true,
		};
	s->state = to;
	s->assumed = false;
	s->confirm = HS_OBS_CONFIRM_NONE;
}

/* ---- network copies ------------------------------------------------------------- */

static bool same_datagram(const hs_obs_recent *r, int from, const hs_segment *seg)
{
	bool has_ts = (seg->opts.has & HS_HAS_TS) != 0;

	return r->from == from && r->seq == seg->seq && r->ack == seg->ack && r->flags == seg->flags &&
	       r->win == seg->win && r->len == hs_seg_len(seg) && r->has_ts == has_ts && (!has_ts || r->tsval == seg->opts.ts_val) &&
	       r->nsack == seg->opts.nsack && (!r->nsack || r->sack0 == seg->opts.sack[0].left) &&
	       r->has_ip_id == seg->has_ip_id && (!r->has_ip_id || r->ip_id == seg->ip_id);
}

/* 0: news; 1: a copy within HS_OBS_COPY_NS of the first; 2: a copy arriving later
 * (only a TSval or a non-zero IPv4 ID tells that: without either, the same segment
 * again after a while is a resend). News is remembered. */
static int copy_of(hs_observer *ob, int from, const hs_segment *seg, uint64_t t_ns)
{
	for (unsigned i = 0; i < HS_OBS_RECENT && i < ob->nrecent; i++) {
		const hs_obs_recent *r = &ob->recent[i];
		if (!same_datagram(r, from, seg))
			continue;
		if (t_ns >= r->t_ns && t_ns - r->t_ns < HS_OBS_COPY_NS)
			return 1;
		if (r->has_ts || (r->has_ip_id && r->ip_id != 0))
			return 2;
	}
	ob->recent[ob->nrecent++ % HS_OBS_RECENT] = (hs_obs_recent){
		.from = from, .seq = seg->seq, .ack = seg->ack, .flags = seg->flags, .win = seg->win, .len = hs_seg_len(seg),
		.has_ts = (seg->opts.has & HS_HAS_TS) != 0, .tsval = seg->opts.ts_val, .nsack = seg->opts.nsack,
		.sack0 = seg->opts.nsack ? seg->opts.sack[0].left : 0, .has_ip_id = seg->has_ip_id,
		.ip_id = seg->ip_id, .t_ns = t_ns,
	};
	if (ob->nrecent >= 2 * HS_OBS_RECENT)
		ob->nrecent -= HS_OBS_RECENT; /* keep the index going round, never overflowing */
	return 0;
}

/* ---- numbers ---------------------------------------------------------------------- */

static uint32_t seg_end(const hs_segment *seg)
{
	return seg->seq + (uint32_t)hs_seg_len(seg) + ((seg->flags & HS_SYN) ? 1u : 0u) + ((seg->flags & HS_FIN) ? 1u : 0u);
}

static void advance_nxt(hs_obs_side *s, uint32_t nxt)
{
	if (!s->nxt_known || hs_seq_gt(nxt, s->snd_nxt))
		s->snd_nxt = nxt;
	s->nxt_known = true;
}

/* The shift that applies to side's window fields: both SYNs carried the option. */
static uint8_t shift_of(const hs_observer *ob, int side)
{
	const hs_obs_side *s = &ob->side[side], *o = &ob->side[!side];

	return s->ws_offered && o->ws_offered ? s->ws : 0;
}

/* ack acknowledges side's SYN (anything at all when its SYN was not seen). */
static bool acks_syn(const hs_obs_side *s, uint32_t ack)
{
	return !s->syn_seen || (hs_seq_gt(ack, s->iss) && (!s->nxt_known || hs_seq_leq(ack, s->snd_nxt)));
}

/* A new connection on the same four-tuple (a SYN with a new ISS once both ends are
 * done): forget the old one's numbers, keep the states the new one moves on from. */
static void restart(hs_observer *ob)
{
	for (int i = 0; i < 2; i++) {
		hs_obs_side *s = &ob->side[i];
		hs_obs_side keep = { .ep = s->ep, .state = s->state };
		*s = keep;
	}
	ob->started = false;
}

static bool ended(hs_state s)
{
	return s == HS_CLOSED || s == HS_LISTEN || s == HS_TIME_WAIT;
}

/* ---- notes ------------------------------------------------------------------------ */

/* What the segment is, as Wireshark's TCP analysis says it, judged by the numbers
 * before it. Returns the note; *zwp when it is a zero-window probe (whose byte is not
 * taken: SND.NXT stays). */
static enum hs_note classify(const hs_observer *ob, int x, const hs_segment *seg, bool *zwp)
{
	const hs_obs_side *X = &ob->side[x], *Y = &ob->side[!x];
	uint8_t fl = seg->flags;
	bool syn = fl & HS_SYN, fin = fl & HS_FIN, ack = fl & HS_ACK;
	bool carries = hs_seg_len(seg) > 0 || syn || fin;
	bool pure = ack && !syn && !fin && hs_seg_len(seg) == 0;
	uint32_t nxt = X->snd_nxt;

	*zwp = false;
	if (!X->nxt_known)
		return HS_NOTE_NONE;
	/* A probe into a zero window: one new byte (BSD), or the keepalive form Linux sends. */
	if (Y->wnd_known && Y->wnd == 0 && !syn && !fin &&
	    ((hs_seg_len(seg) == 1 && seg->seq == nxt) || (hs_seg_len(seg) <= 1 && seg->seq == nxt - 1))) {
		*zwp = seg->seq == nxt;
		return HS_NOTE_ZERO_WINDOW_PROBE;
	}
	if (ack && !syn && !fin && hs_seg_len(seg) <= 1 && seg->seq == nxt - 1)
		return HS_NOTE_KEEPALIVE; /* no data or one old byte */
	if (pure && X->challenge_due && !(fl & HS_RST))
		return HS_NOTE_CHALLENGE_ACK; /* its answer to the RST or SYN it did not take */
	/* The SYN,ACK of a simultaneous open repeats its SYN's number: not a resend. */
	bool first_synack = syn && ack && X->active && !X->synack_sent;
	if (carries && hs_seq_lt(seg->seq, nxt) && !first_synack)
		return HS_NOTE_RETRANSMISSION;
	if (carries && hs_seq_gt(seg->seq, nxt))
		return HS_NOTE_OUT_OF_ORDER; /* something before it was not seen (yet) */
	if (seg->win == 0 && !syn && !fin)
		return HS_NOTE_ZERO_WINDOW;
	if (pure && X->wnd_known && Y->una_known && seg->ack == Y->snd_una && seg->seq == nxt) {
		if (seg->win != X->wnd)
			return HS_NOTE_WINDOW_UPDATE;
		return Y->last_keepalive ? HS_NOTE_KEEPALIVE_ACK : HS_NOTE_DUP_ACK;
	}
	return HS_NOTE_NONE;
}

/* ---- what a segment does ------------------------------------------------------------ */

static void take_rst(hs_observer *ob, int x, const hs_segment *seg, hs_obs_out *out)
{
	hs_obs_side *X = &ob->side[x], *Y = &ob->side[!x];
	bool acceptable = false;

	X->rst_sent = true;
	/* RFC 9293 3.10.7: in SYN-SENT an RST counts if it acknowledges the SYN; in the
	 * synchronized states if its number is in the window (RFC 5961 stacks want RCV.NXT
	 * exactly, which is where an end's own RST is). */
	switch (Y->state) {
	case HS_CLOSED:
	case HS_LISTEN:
		break;
	case HS_SYN_SENT:
		acceptable = (seg->flags & HS_ACK) && acks_syn(Y, seg->ack);
		break;
	default: {
		/* RFC 5961 3.2: only an RST at RCV.NXT resets; one elsewhere in the window
		 * draws a challenge ACK and leaves the connection as it was (Linux, the BSDs
		 * and Windows all do this); one outside the window is dropped. */
		uint32_t wnd = (uint32_t)Y->wnd << shift_of(ob, !x);
		acceptable = !X->nxt_known || seg->seq == X->snd_nxt;
		if (!acceptable) {
			out->note = HS_NOTE_UNACCEPTABLE;
			if (Y->wnd_known && hs_seq_in(seg->seq, X->snd_nxt, X->snd_nxt + wnd))
				Y->challenge_due = true;
		}
		break;
	}
	}
	if (X->state != HS_LISTEN)
		certain(ob, out, x, HS_CLOSED, "RST sent");
	if (acceptable)
		move(ob, out, !x, Y->passive && Y->state == HS_SYN_RECEIVED ? HS_LISTEN : HS_CLOSED, "RST received", true,
		     HS_OBS_CONFIRM_NONE, 0);
}

/* Its SYN or SYN,ACK: what the sender is in (and the other end, when the handshake
 * shows it). */
static void take_syn(hs_observer *ob, int x, const hs_segment *seg, bool resent, hs_obs_out *out)
{
	hs_obs_side *X = &ob->side[x], *Y = &ob->side[!x];
	int y = !x;

	if (!(seg->flags & HS_ACK)) {
		if (ended(X->state) || X->state == HS_SYN_SENT) {
			certain(ob, out, x, HS_SYN_SENT, "SYN sent");
			X->active = true;
			if (Y->state == HS_SYN_SENT) { /* simultaneous open: each takes the other's SYN */
				move(ob, out, y, HS_SYN_RECEIVED, "SYN received", true, HS_OBS_CONFIRM_ACK, seg->seq + 1);
				move(ob, out, x, HS_SYN_RECEIVED, "SYN received", true, HS_OBS_CONFIRM_ACK, Y->iss + 1);
			}
		} else if (resent && X->assumed && X->state == HS_ESTABLISHED && X->active && !X->synack_sent) {
			correct(ob, out, x, HS_SYN_SENT, "SYN resent: the SYN,ACK did not arrive");
		} else if (!resent && !ended(Y->state) && Y->state != HS_SYN_SENT && Y->state != HS_SYN_RECEIVED) {
			/* A new SYN into a synchronized connection: RFC 5961 4.2, a challenge ACK. */
			Y->challenge_due = true;
		}
		return;
	}
	/* SYN,ACK */
	if (ended(X->state)) {
		if (X->state != HS_LISTEN)
			certain(ob, out, x, HS_LISTEN, "it was listening");
		certain(ob, out, x, HS_SYN_RECEIVED, "SYN,ACK sent");
		X->passive = true;
		if (Y->state == HS_CLOSED) { /* its SYN was not seen */
			certain(ob, out, y, HS_SYN_SENT, "SYN sent");
			Y->active = true;
		}
	} else if (X->state == HS_SYN_SENT) {
		certain(ob, out, x, HS_SYN_RECEIVED, "SYN received"); /* simultaneous open */
	} else if (X->state == HS_SYN_RECEIVED) {
		X->assumed = false;
	} else if (resent && X->assumed && X->state == HS_ESTABLISHED && X->synack_sent) {
		correct(ob, out, x, HS_SYN_RECEIVED, "SYN,ACK resent: the ACK did not arrive");
	}
	X->synack_sent = true;
	if ((Y->state == HS_SYN_SENT || Y->state == HS_SYN_RECEIVED) && acks_syn(Y, seg->ack))
		move(ob, out, y, HS_ESTABLISHED, "SYN,ACK received", true, HS_OBS_CONFIRM_ACK, seg->seq + 1);
}

/* What a segment does to its receiver y: its ACK first (as a stack takes it), then its
 * FIN (the sender's first, numbered fin_seq). */
static void receiver_takes(hs_observer *ob, int y, const hs_segment *seg, bool acks_y_fin, bool fin_first,
                           uint32_t fin_seq, hs_obs_out *out)
{
	hs_obs_side *Y = &ob->side[y];

	if (acks_y_fin) {
		if (Y->state == HS_FIN_WAIT_1)
			move(ob, out, y, HS_FIN_WAIT_2, "ACK received", true, HS_OBS_CONFIRM_NONE, 0);
		else if (Y->state == HS_CLOSING)
			move(ob, out, y, HS_TIME_WAIT, "ACK received", true, HS_OBS_CONFIRM_NONE, 0);
		else if (Y->state == HS_LAST_ACK)
			move(ob, out, y, HS_CLOSED, "ACK received", true, HS_OBS_CONFIRM_NONE, 0);
	}
	if ((seg->flags & HS_ACK) && Y->state == HS_SYN_RECEIVED && acks_syn(Y, seg->ack))
		move(ob, out, y, HS_ESTABLISHED, "ACK received", true, HS_OBS_CONFIRM_ANY, 0);
	if (fin_first) {
		uint32_t after = fin_seq + 1;
		if (Y->state == HS_ESTABLISHED)
			move(ob, out, y, HS_CLOSE_WAIT, "FIN received", true, HS_OBS_CONFIRM_ACK, after);
		else if (Y->state == HS_FIN_WAIT_1)
			move(ob, out, y, HS_CLOSING, "FIN received", true, HS_OBS_CONFIRM_ACK, after);
		else if (Y->state == HS_FIN_WAIT_2)
			move(ob, out, y, HS_TIME_WAIT, "FIN received", true, HS_OBS_CONFIRM_ACK, after);
	}
}

/* Anything else that is not an RST. fin_first: it carries the sender's first FIN. */
static void take_other(hs_observer *ob, int x, const hs_segment *seg, bool fin_first, bool resent,
                       bool dropped, hs_obs_out *out)
{
	hs_obs_side *X = &ob->side[x], *Y = &ob->side[!x];
	int y = !x;
	bool ack = seg->flags & HS_ACK, fin = seg->flags & HS_FIN;
	bool acks_y_fin = ack && Y->fin_sent && hs_seq_geq(seg->ack, Y->fin_seq + 1);

	/* The sender is synchronized: it took the other's SYN,ACK (or ACK). */
	if (ack && X->state == HS_SYN_SENT) {
		if (ended(Y->state)) { /* the SYN,ACK was not seen */
			if (Y->state != HS_LISTEN)
				certain(ob, out, y, HS_LISTEN, "it was listening");
			certain(ob, out, y, HS_SYN_RECEIVED, "SYN,ACK sent");
			Y->passive = true;
		}
		certain(ob, out, x, HS_ESTABLISHED, "SYN,ACK received");
	} else if (ack && X->state == HS_SYN_RECEIVED) {
		certain(ob, out, x, HS_ESTABLISHED, "ACK received");
	}

	/* Its FIN again: it never got the ACK that moved it on. */
	if (fin && !fin_first && resent && X->assumed) {
		if (X->state == HS_FIN_WAIT_2)
			correct(ob, out, x, HS_FIN_WAIT_1, "FIN resent: the ACK did not arrive");
		else if (X->state == HS_CLOSED)
			correct(ob, out, x, HS_LAST_ACK, "FIN resent: the ACK did not arrive");
		else if (X->state == HS_TIME_WAIT)
			correct(ob, out, x, HS_CLOSING, "FIN resent: the ACK did not arrive");
	}
	/* Its first FIN. */
	if (fin_first) {
		if (X->state == HS_CLOSE_WAIT && X->assumed && Y->fin_sent && !acks_y_fin) {
			/* It closed before the other's FIN arrived: a simultaneous close. */
			correct(ob, out, x, HS_ESTABLISHED, "FIN sent before the other's arrived");
			certain(ob, out, x, HS_FIN_WAIT_1, "FIN sent");
			move(ob, out, x, HS_CLOSING, "FIN received", true, HS_OBS_CONFIRM_ACK, Y->fin_seq + 1);
		} else if (X->state == HS_CLOSE_WAIT) {
			certain(ob, out, x, HS_LAST_ACK, "FIN sent");
		} else if (X->state == HS_ESTABLISHED || X->state == HS_SYN_RECEIVED) {
			certain(ob, out, x, HS_FIN_WAIT_1, "FIN sent");
		}
	}

	if (!dropped)
		receiver_takes(ob, y, seg, acks_y_fin, fin_first, X->fin_seq, out);
}

static void fill(const hs_observer *ob, int x, const hs_segment *seg, hs_obs_out *out)
{
	out->rseq = hs_observer_rel(ob, x, seg->seq);
	out->rack = (seg->flags & HS_ACK) ? hs_observer_rel(ob, !x, seg->ack) : 0;
	out->win_shift = (seg->flags & HS_SYN) ? 0 : shift_of(ob, x);
	for (int i = 0; i < 2; i++) {
		out->state[i] = ob->side[i].state;
		out->assumed[i] = ob->side[i].assumed;
	}
}

int hs_observer_segment(hs_observer *ob, const hs_segment *seg, uint64_t t_ns, hs_obs_out *out)
{
	memset(out, 0, sizeof(*out));
	out->from = hs_observer_sender(ob, seg);
	if (out->from < 0)
		return -1;
	int x = out->from, y = !x;
	hs_obs_side *X = &ob->side[x], *Y = &ob->side[y];
	uint8_t fl = seg->flags;
	bool syn = fl & HS_SYN, ack = fl & HS_ACK, fin = fl & HS_FIN;

	int copy = copy_of(ob, x, seg, t_ns);
	if (copy) {
		out->copy = copy == 1;
		out->note = HS_NOTE_DUPLICATE;
		fill(ob, x, seg, out);
		return x;
	}
	if (fl & HS_RST) {
		take_rst(ob, x, seg, out);
		X->last_ns = t_ns;
		X->last_keepalive = false;
		fill(ob, x, seg, out);
		return x;
	}

	if (syn && !ack && X->syn_seen && seg->seq != X->iss && ended(X->state) && ended(Y->state))
		restart(ob);
	if (!ob->started && !syn) {
		/* Joined mid-connection: both ends were synchronized before the first segment. */
		certain(ob, out, x, HS_ESTABLISHED, "joined mid-connection");
		move(ob, out, y, HS_ESTABLISHED, "joined mid-connection", true, HS_OBS_CONFIRM_ANY, 0);
	}
	ob->started = true;

	/* ISS: its SYN's number, else the first seen of it (its own or the other's ACK). */
	if (syn && !X->syn_seen) {
		X->iss = seg->seq;
		X->iss_known = X->syn_seen = true;
	} else if (!X->iss_known) {
		X->iss = seg->seq;
		X->iss_known = true;
	}
	if (ack && !Y->iss_known) {
		Y->iss = syn ? seg->ack - 1 : seg->ack; /* a SYN,ACK acknowledges the SYN */
		Y->iss_known = true;
		Y->syn_seen = syn; /* (its number, if not the segment) */
	}

	/* It acknowledges numbers only hs used as Y (hs_observer_spoofed): Y's stack drops
	 * it as acknowledging what it never sent (RFC 9293 3.10.7.4). */
	bool dropped = ack && Y->spoofed && hs_seq_gt(seg->ack, Y->snd_nxt) && hs_seq_leq(seg->ack, Y->spoof_end);
	/* An ACK of data Y never sent (it sent its SYN, and everything it sent was seen):
	 * Y drops the segment and answers with an ACK (RFC 5961 5.2, RFC 9293 3.10.7.4). */
	bool unsent = ack && !Y->spoofed && Y->syn_seen && Y->sent_known && !(seg->flags & HS_SYN) &&
	              hs_seq_gt(seg->ack, Y->sent_end);
	if (unsent) {
		dropped = true;
		Y->challenge_due = true;
	}
	bool zwp;
	out->note = classify(ob, x, seg, &zwp);
	if (dropped && out->note == HS_NOTE_NONE)
		out->note = HS_NOTE_UNACCEPTABLE;
	bool resent = out->note == HS_NOTE_RETRANSMISSION;
	bool fin_first = fin && !X->fin_sent;

	if (!zwp)
		advance_nxt(X, seg_end(seg));
	if (!X->sent_known || hs_seq_gt(seg_end(seg), X->sent_end))
		X->sent_end = seg_end(seg);
	X->sent_known = true;
	if (fin_first) {
		X->fin_sent = true;
		X->fin_seq = seg->seq + (uint32_t)hs_seg_len(seg) + (syn ? 1u : 0u);
	}
	if (syn) {
		X->ws_offered = (seg->opts.has & HS_HAS_WSCALE) != 0;
		X->ws = seg->opts.wscale > WS_MAX ? WS_MAX : seg->opts.wscale;
	}
	if (ack && !dropped) {
		/* What X acknowledges, Y sent: Y's SND.NXT is at least that. */
		advance_nxt(Y, seg->ack);
		if (!Y->una_known || hs_seq_gt(seg->ack, Y->snd_una))
			Y->snd_una = seg->ack;
		Y->una_known = true;
	}

	if (syn && !dropped)
		take_syn(ob, x, seg, resent, out);
	else if (syn)
		; /* a SYN,ACK its receiver drops: nothing to say of either */
	else
		take_other(ob, x, seg, fin_first, resent, dropped, out);
	/* A SYN with FIN (or a SYN,ACK carrying a FIN): the FIN's part, once the SYN's is done. */
	if (syn && fin_first && !dropped)
		take_other(ob, x, seg, true, false, dropped, out);

	/* Its own segment confirms where the other's put it (unless it is a SYN or FIN
	 * sent again: that one showed above that it never got there). */
	if (X->assumed && ack && !(resent && (syn || fin)) &&
	    (X->confirm == HS_OBS_CONFIRM_ANY ||
	     (X->confirm == HS_OBS_CONFIRM_ACK && hs_seq_geq(seg->ack, X->confirm_ack))))
		X->assumed = false;
	X->wnd = seg->win;
	X->wnd_known = true;
	X->challenge_due = false; /* answered, or it went on without answering */
	X->last_keepalive = out->note == HS_NOTE_KEEPALIVE;
	if (out->note == HS_NOTE_KEEPALIVE_ACK)
		Y->last_keepalive = false; /* answered: the next one is a plain dup-ack */
	if (hs_seg_len(seg)) {
		X->last_len = (uint32_t)hs_seg_len(seg);
		X->last_data_ns = t_ns;
	}
	X->last_ns = t_ns;
	fill(ob, x, seg, out);
	return x;
}

int hs_observer_spoofed(hs_observer *ob, const hs_segment *seg, hs_obs_out *out)
{
	memset(out, 0, sizeof(*out));
	out->from = hs_observer_sender(ob, seg);
	if (out->from < 0)
		return -1;
	int x = out->from, y = !x;
	hs_obs_side *X = &ob->side[x], *Y = &ob->side[y];
	bool ack = seg->flags & HS_ACK, fin = seg->flags & HS_FIN;

	/* Only what is at the receiver's RCV.NXT does something there: the sender's next
	 * number, or the one after what hs sent as it before. */
	bool at_rcv_nxt = X->nxt_known && (seg->seq == X->snd_nxt || (X->spoofed && seg->seq == X->spoof_end));
	if (!(seg->flags & (HS_RST | HS_SYN)) && at_rcv_nxt) {
		uint32_t end = seg_end(seg);
		if (!X->spoofed || hs_seq_gt(end, X->spoof_end))
			X->spoof_end = end;
		X->spoofed = true;
		/* A FIN again (the first did not arrive: the driver concluded so) moves the
		 * receiver again from where it is. */
		bool acks_y_fin = ack && Y->fin_sent && hs_seq_geq(seg->ack, Y->fin_seq + 1);
		receiver_takes(ob, y, seg, acks_y_fin, fin, seg->seq + (uint32_t)hs_seg_len(seg), out);
	}
	fill(ob, x, seg, out);
	return x;
}

void hs_observer_conclude(hs_observer *ob, int side, hs_state to, const char *why, hs_obs_out *out)
{
	memset(out, 0, sizeof(*out));
	out->from = side;
	certain(ob, out, side, to, why);
	for (int i = 0; i < 2; i++) {
		out->state[i] = ob->side[i].state;
		out->assumed[i] = ob->side[i].assumed;
	}
}

void hs_observer_event(const hs_observer *ob, const hs_segment *seg, int from, const hs_obs_out *o, hs_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = HS_EV_SEGMENT;
	ev->dir = from == HS_OBS_A ? HS_DIR_OUT : HS_DIR_IN;
	ev->seg = seg;
	ev->rseq = hs_observer_rel(ob, from, seg->seq);
	ev->rack = (seg->flags & HS_ACK) ? hs_observer_rel(ob, !from, seg->ack) : 0;
	ev->state = ob->side[HS_OBS_A].state;
	ev->peer_state = ob->side[HS_OBS_B].state;
	ev->peer_assumed = ob->side[HS_OBS_B].assumed;
	if (o) {
		ev->rseq = o->rseq;
		ev->rack = o->rack;
		ev->win_shift = o->win_shift;
		ev->note = o->note;
		ev->state = o->state[HS_OBS_A];
		ev->peer_state = o->state[HS_OBS_B];
		ev->peer_assumed = o->assumed[HS_OBS_B];
	}
}

void hs_observer_iss(hs_observer *ob, int side, uint32_t iss)
{
	ob->side[side].iss = iss;
	ob->side[side].iss_known = true;
}
