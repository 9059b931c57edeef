/* The loop around one TCB: capture -> TCB -> send -> output. */
#include <config.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "hs/clock.h"
#include "hs/seq.h"
#include "hs/session.h"

int hs_session_open(hs_session *s, const hs_session_params *p, hs_output *out,
                    const volatile sig_atomic_t *stop, uint64_t t0)
{
	bool eperm = false, nodev = false;
	char filter[512];

	memset(s, 0, sizeof(*s));
	s->out = out;
	s->t0 = t0;
	s->stop = stop;
	s->step = p->step;

	/* The filter goes on before the first send: setting one later flushes what
	 * was already queued, and the SYN,ACK can arrive within microseconds. */
	if (hs_capture_open(&s->cap, p->capture_iface, &eperm, &nodev, s->err, sizeof(s->err)) < 0)
		return HS_EXIT_ENV;
	if (hs_bpf_conn(&p->local, &p->remote, filter, sizeof(filter)) < 0) {
		snprintf(s->err, sizeof(s->err), "internal error: capture filter too long");
		return HS_EXIT_ENV;
	}
	if (hs_capture_filter(s->cap, filter, s->err, sizeof(s->err)) < 0)
		return HS_EXIT_ENV;
	if (p->pcap_out) {
		if (hs_capture_dump_open(s->cap, p->pcap_out, s->err, sizeof(s->err)) < 0)
			return HS_EXIT_ENV;
		s->dumping = true;
	}
	s->family = p->local.addr.family ? p->local.addr.family : AF_INET;
	if (hs_sender_open(&s->snd, s->family, p->capture_iface, &eperm, s->err, sizeof(s->err)) < 0)
		return HS_EXIT_ENV;
	if (p->guard) {
		int rc = p->listen
			? hs_guard_install_listen(&s->guard, &p->local, &eperm, s->err, sizeof(s->err))
			: hs_guard_install_conn(&s->guard, &p->local, &p->remote, &eperm, s->err, sizeof(s->err));
		if (rc < 0)
			return HS_EXIT_ENV;
	}
	return HS_EXIT_OK;
}

void hs_session_close(hs_session *s, bool keep_guard)
{
	char err[256];

	if (!keep_guard && s->guard.table[0])
		hs_guard_remove(&s->guard, err, sizeof(err));
	if (s->cap) {
		hs_capture_close(s->cap);
		s->cap = NULL;
	}
	if (s->snd) {
		hs_sender_close(s->snd);
		s->snd = NULL;
	}
}

static uint64_t since_start(const hs_session *s, uint64_t now)
{
	return now > s->t0 ? now - s->t0 : 0;
}

void hs_step_pause(const char *what)
{
	char line[16];

	fprintf(stderr, "-- press Enter to send %s --", what);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		fputc('\n', stderr);
}

/* --step: let the user read what happened before the next segment leaves. */
static void step_pause(hs_session *s, const hs_tx *tx)
{
	char flags[48], what[80];

	hs_flags_format(tx->flags, flags, sizeof(flags));
	snprintf(what, sizeof(what), "%s (seq %u)", flags, hs_tcb_rel_snd(&s->tcb, tx->seq));
	hs_step_pause(what);
}

static void segment_from_tx(const hs_session *s, const hs_tx *tx, hs_segment *seg)
{
	const char *err;

	memset(seg, 0, sizeof(*seg));
	seg->src = s->tcb.cfg.local;
	seg->dst = s->tcb.cfg.remote;
	seg->seq = tx->seq;
	seg->ack = tx->ack;
	seg->flags = tx->flags;
	seg->win = tx->win;
	seg->ttl = 64;
	seg->csum = hs_tx_checksum(&s->tcb.cfg.local, &s->tcb.cfg.remote, tx);
	seg->csum_status = HS_CSUM_OK;
	seg->payload = tx->data;
	seg->len = tx->len;
	if (tx->opt_len)
		hs_opts_decode(tx->opts, tx->opt_len, &seg->opts, &err);
}

static void emit_changes(hs_session *s, const hs_tcb_out *o, int cause, bool by_segment, uint64_t t,
                         hs_state *state, hs_state *peer)
{
	for (int i = 0; i < o->nchange; i++) {
		const hs_change *c = &o->change[i];
		if (c->cause != cause)
			continue;
		if (c->peer)
			*peer = c->to;
		else
			*state = c->to;
		hs_event ev = { .type = HS_EV_STATE, .t_ns = t, .change = *c, .by_segment = by_segment };
		hs_output_emit(s->out, &ev);
	}
}

/* The state each side is in just before the changes of this output. */
static void states_before(const hs_tcb *t, const hs_tcb_out *o, hs_state *state, hs_state *peer)
{
	bool seen_self = false, seen_peer = false;

	*state = t->state;
	*peer = t->peer_state;
	for (int i = 0; i < o->nchange; i++) {
		const hs_change *c = &o->change[i];
		if (c->peer && !seen_peer) {
			*peer = c->from;
			seen_peer = true;
		} else if (!c->peer && !seen_self) {
			*state = c->from;
			seen_self = true;
		}
	}
}

/* -w: our own segments go into the file even when hs exits before the capture
 * brings them back (the capture keeps one copy of each). */
static void dump_sent(hs_session *s, const hs_tx *tx)
{
	uint8_t buf[60 + HS_OPT_MAXLEN + 65536];
	int n = hs_segment_encode_ip(&s->tcb.cfg.local, &s->tcb.cfg.remote, tx, buf, sizeof(buf));

	if (n > 0)
		hs_capture_dump_ip(s->cap, buf, (size_t)n);
}

int hs_session_apply(hs_session *s, hs_tcb_out *o, const hs_segment *in, uint64_t in_ts)
{
	uint64_t sent_at[HS_TCB_MAXTX];
	int failed = -1;

	/* Hot path: answer first. */
	for (int i = 0; i < o->ntx; i++) {
		if (s->step)
			step_pause(s, &o->tx[i]);
		/* Stamped before the send: on a veth the peer's answer is generated inside
		 * our sendto(), and its capture time must not precede our segment's. */
		sent_at[i] = hs_now_ns();
		if (hs_sender_send(s->snd, &s->tcb.cfg.local, &s->tcb.cfg.remote, &o->tx[i], s->err,
		                   sizeof(s->err)) < 0 && failed < 0)
			failed = i;
		if (o->tx[i].flags & HS_RST)
			s->sent_rst = true;
	}

	/* Then tell. */
	hs_state state, peer;
	states_before(&s->tcb, o, &state, &peer);
	bool by_segment = in || o->ntx > 0;
	uint64_t t_in = since_start(s, in ? in_ts : (o->ntx ? sent_at[0] : hs_now_ns()));

	if (in) {
		/* The in-segment shows the states after the changes it caused. */
		hs_state st = state, pe = peer;
		for (int i = 0; i < o->nchange; i++)
			if (o->change[i].cause == 0)
				*(o->change[i].peer ? &pe : &st) = o->change[i].to;
		hs_event ev = {
			.type = HS_EV_SEGMENT, .t_ns = t_in, .dir = HS_DIR_IN, .seg = in,
			.rseq = hs_tcb_rel_rcv(&s->tcb, in->seq), .rack = in->ack - s->tcb.iss,
			.state = st, .peer_state = pe, .note = o->in_note,
		};
		if (!(in->flags & HS_ACK))
			ev.rack = 0;
		if (s->tcb.ws_ok && !(in->flags & HS_SYN))
			ev.win_shift = s->tcb.snd_wscale;
		hs_output_emit(s->out, &ev);
	}
	emit_changes(s, o, 0, by_segment, t_in, &state, &peer);

	for (int i = 0; i < o->ntx; i++) {
		hs_segment seg;
		const hs_tx *tx = &o->tx[i];
		segment_from_tx(s, tx, &seg);
		hs_state st = state, pe = peer;
		for (int k = 0; k < o->nchange; k++)
			if (o->change[k].cause == i + 1)
				*(o->change[k].peer ? &pe : &st) = o->change[k].to;
		hs_event ev = {
			.type = HS_EV_SEGMENT, .t_ns = since_start(s, sent_at[i]), .dir = HS_DIR_OUT, .seg = &seg,
			.rseq = hs_tcb_rel_snd(&s->tcb, tx->seq),
			.rack = (tx->flags & HS_ACK) ? hs_tcb_rel_rcv(&s->tcb, tx->ack) : 0,
			.state = st, .peer_state = pe, .note = tx->note,
		};
		if (s->tcb.ws_ok && !(tx->flags & (HS_SYN | HS_RST)))
			ev.win_shift = s->tcb.rcv_wscale;
		hs_output_emit(s->out, &ev);
		emit_changes(s, o, i + 1, true, ev.t_ns, &state, &peer);
		if (s->dumping)
			dump_sent(s, tx);
	}
	return failed < 0 ? 0 : -1;
}

static bool from_peer(const hs_tcb *t, const hs_segment *seg)
{
	const hs_endpoint *r = &t->cfg.remote, *l = &t->cfg.local;

	if (l->addr.family == 0) { /* listening on any address */
		if (seg->dst.port != l->port)
			return false;
	} else if (!hs_endpoint_equal(&seg->dst, l)) {
		return false;
	}
	if (r->addr.family == 0 || r->port == 0) /* listening: any peer until one is chosen */
		return true;
	return hs_endpoint_equal(&seg->src, r);
}

/* How far the peer's sequence space reaches: shows data it sent while no hs ran. */
static void note_peer_seq(hs_session *s, const hs_segment *seg)
{
	uint32_t end = seg->seq + (uint32_t)seg->len + !!(seg->flags & HS_SYN) + !!(seg->flags & HS_FIN);

	if (seg->flags & HS_RST)
		return;
	if (!s->inputs || hs_seq_gt(end, s->peer_next))
		s->peer_next = end;
	s->inputs++;
	s->last_in_flags = seg->flags;
}

/* Once the TCB has ended (hs rst checking that the peer took its RST), the peer's
 * segments are shown and counted but answer nothing. */
static void observe_in(hs_session *s, const hs_segment *seg, uint64_t ts)
{
	s->inputs++;
	s->last_in_flags = seg->flags;
	hs_event ev = {
		.type = HS_EV_SEGMENT, .t_ns = since_start(s, ts), .dir = HS_DIR_IN, .seg = seg,
		.rseq = hs_tcb_rel_rcv(&s->tcb, seg->seq), .rack = seg->ack - s->tcb.iss,
		.state = s->tcb.state, .peer_state = s->tcb.peer_state,
	};
	if (!(seg->flags & HS_ACK))
		ev.rack = 0;
	hs_output_emit(s->out, &ev);
}

static bool from_us(const hs_tcb *t, const hs_segment *seg)
{
	return hs_endpoint_equal(&seg->src, &t->cfg.local) && hs_endpoint_equal(&seg->dst, &t->cfg.remote);
}

/* Our own segments come back through the capture; an RST we did not send is the
 * local kernel's (no guard, or a guard that does not cover this segment). */
static void check_own_echo(hs_session *s, const hs_segment *seg, uint64_t ts)
{
	if (!(seg->flags & HS_RST) || s->sent_rst)
		return;
	s->kernel_rsts++;
	hs_event ev = {
		.type = HS_EV_SEGMENT, .t_ns = since_start(s, ts), .dir = HS_DIR_OUT, .seg = seg,
		.rseq = hs_tcb_rel_snd(&s->tcb, seg->seq), .rack = hs_tcb_rel_rcv(&s->tcb, seg->ack),
		.state = s->tcb.state, .peer_state = s->tcb.peer_state, .note_text = "kernel-rst",
	};
	hs_output_emit(s->out, &ev);
}

static bool icmp_about_us(const hs_tcb *t, const hs_icmp_error *e)
{
	return hs_endpoint_equal(&e->orig_src, &t->cfg.local) &&
	       (t->cfg.remote.port == 0 || hs_endpoint_equal(&e->orig_dst, &t->cfg.remote));
}

enum hs_run hs_session_run(hs_session *s, hs_goal_fn goal, void *arg, uint64_t idle_deadline)
{
	hs_packet pkt;
	hs_tcb_out o;
	uint64_t ts;

	for (;;) {
		if (s->tcb.result != HS_RES_NONE && !s->observe)
			return HS_RUN_ENDED;
		if (goal && goal(&s->tcb, arg))
			return HS_RUN_GOAL;
		if (s->stop && *s->stop)
			return HS_RUN_SIGNAL;

		uint64_t timer = hs_tcb_deadline(&s->tcb);
		uint64_t deadline = timer;
		if (idle_deadline && (!deadline || idle_deadline < deadline))
			deadline = idle_deadline;
		if (!deadline) /* nothing to wait for but the peer (or a signal): block */
			deadline = hs_now_ns() + 3600 * HS_NS_PER_SEC;

		int rc = hs_capture_next(s->cap, deadline, &pkt, &ts, s->err, sizeof(s->err));
		if (rc == -2)
			continue; /* the loop head sees the stop flag */
		if (rc < 0)
			return HS_RUN_ERROR;
		if (rc == 0) {
			uint64_t now = hs_now_ns();
			if (timer && now >= timer) {
				hs_tcb_timer(&s->tcb, now, &o);
				if (hs_session_apply(s, &o, NULL, now) < 0)
					return HS_RUN_ERROR;
			} else if (idle_deadline && now >= idle_deadline) {
				return HS_RUN_IDLE;
			}
			continue;
		}
		if (pkt.kind == HS_PKT_TCP) {
			const hs_segment *seg = &pkt.u.tcp;
			if (from_peer(&s->tcb, seg) && s->observe) {
				observe_in(s, seg, ts);
			} else if (from_peer(&s->tcb, seg)) {
				/* Listening on any address: the first SYN chooses ours. */
				if (s->tcb.state == HS_LISTEN && s->tcb.cfg.local.addr.family == 0 &&
				    (seg->flags & (HS_SYN | HS_ACK | HS_RST)) == HS_SYN &&
				    seg->dst.addr.family == s->family)
					s->tcb.cfg.local.addr = seg->dst.addr;
				note_peer_seq(s, seg);
				hs_tcb_input(&s->tcb, seg, ts, &o);
				if (hs_session_apply(s, &o, seg, ts) < 0)
					return HS_RUN_ERROR;
			} else if (from_us(&s->tcb, seg)) {
				check_own_echo(s, seg, ts);
			}
		} else if (pkt.kind == HS_PKT_ICMP && icmp_about_us(&s->tcb, &pkt.u.icmp)) {
			hs_event ev = { .type = HS_EV_ICMP, .t_ns = since_start(s, ts), .icmp = &pkt.u.icmp };
			hs_output_emit(s->out, &ev);
			s->last_icmp = pkt.u.icmp;
			s->have_icmp = true;
			hs_tcb_icmp(&s->tcb, &pkt.u.icmp, ts, &o);
			if (hs_session_apply(s, &o, NULL, ts) < 0)
				return HS_RUN_ERROR;
		}
	}
}

void hs_session_info(hs_session *s, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	hs_event ev = { .type = HS_EV_INFO, .t_ns = since_start(s, hs_now_ns()), .text = text };
	hs_output_emit(s->out, &ev);
}

void hs_session_result(hs_session *s, const char *outcome, int exit_code, const char *conn_id,
                       const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	hs_event ev = {
		.type = HS_EV_RESULT, .t_ns = since_start(s, hs_now_ns()), .text = text,
		.outcome = outcome, .exit_code = exit_code, .conn_id = conn_id,
		.local = s->tcb.cfg.local.addr.family ? &s->tcb.cfg.local : NULL,
		.remote = s->tcb.cfg.remote.addr.family ? &s->tcb.cfg.remote : NULL,
		.final_state = s->tcb.state, .final_peer_state = s->tcb.peer_state,
	};
	hs_output_emit(s->out, &ev);
}
