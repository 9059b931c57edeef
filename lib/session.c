/* The loop around one TCB: capture -> TCB -> send -> output. */
#include <config.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include "hs/clock.h"
#include "hs/craft.h"
#include "hs/seq.h"
#include "hs/session.h"

static void release_pending(hs_session *s);

int hs_session_open(hs_session *s, const hs_session_params *p, hs_output *out,
                    const volatile sig_atomic_t *stop, uint64_t t0)
{
	bool eperm = false, nodev = false;
	char filter[512];

	memset(s, 0, sizeof(*s));
	s->out = out;
	s->t0 = t0;
	uint64_t mono = hs_now_ns(), wall = hs_wall_ns();
	s->wall_t0 = wall - (mono > t0 ? mono - t0 : 0);
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
		s->pcap_out = p->pcap_out;
	}
	s->family = p->local.addr.family ? p->local.addr.family : AF_INET;
	if (hs_sender_open(&s->snd, s->family, p->capture_iface, &eperm, s->err, sizeof(s->err)) < 0)
		return HS_EXIT_ENV;
	s->md5 = p->md5;
	hs_sender_set_md5(s->snd, &s->md5);
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

	free(s->pre_call);
	s->pre_call = NULL;
	if (s->out)
		release_pending(s);
	for (int k = 0; k < s->nheld; k++) {
		free(s->held[k].ip);
		s->held[k].ip = NULL;
	}
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
	/* A terminal echoes the Enter; from a pipe or file, end the line ourselves so
	 * what follows starts on a line of its own. */
	if (!fgets(line, sizeof(line), stdin) || !isatty(STDIN_FILENO))
		fputc('\n', stderr);
}

static void segment_from_tx(const hs_session *s, const hs_tx *tx, hs_segment *seg);

enum step_answer { STEP_SEND = 0, STEP_SKIP = 1, STEP_EDIT = 2, STEP_QUIT = 3 };

/* Reads one answer line (the rest of an over-long line is dropped). EOF is Enter. */
static bool read_answer(char *line, size_t len)
{
	bool tty = isatty(STDIN_FILENO);

	if (!fgets(line, (int)len, stdin)) {
		line[0] = '\0';
		fputc('\n', stderr);
		return false;
	}
	size_t n = strlen(line);
	if (n && line[n - 1] != '\n') {
		int c;
		while ((c = getchar()) != EOF && c != '\n')
			;
	}
	/* A terminal echoes the line; from a pipe, end ours so that what follows starts
	 * on a line of its own. */
	if (!tty)
		fputc('\n', stderr);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	return true;
}

/* --step: the prompt for one segment (what: its flags and sequence number; notation:
 * the segment in packetdrill's notation, or NULL), and the answer: Enter sends, s
 * skips, q quits, anything else is an edit parsed into *sp. A bad edit is asked for
 * again on a terminal; from a pipe it ends the run (exit 2, s->err). */
static enum step_answer step_ask(hs_session *s, const char *what, const char *notation, hs_seg_spec *sp)
{
	char line[1024], err[200];

	if (s->out) /* what is shown is all there is before the question */
		hs_output_idle(s->out);
	for (;;) {
		if (notation)
			fprintf(stderr, "-- press Enter to send %s: %s | s skip, q quit, or a segment / field=value --",
			        what, notation);
		else
			fprintf(stderr, "-- press Enter to send %s | s skip, q quit --", what);
		fflush(stderr);
		const char *p = line;
		if (!read_answer(line, sizeof(line)))
			return STEP_SEND;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return STEP_SEND;
		if (strcmp(p, "s") == 0 || strcmp(p, "skip") == 0)
			return STEP_SKIP;
		if (strcmp(p, "q") == 0 || strcmp(p, "quit") == 0)
			return STEP_QUIT;
		hs_seg_spec_init(sp);
		if (notation && hs_edit_parse(p, sp, err, sizeof(err)) == 0)
			return STEP_EDIT;
		if (!notation)
			snprintf(err, sizeof(err), "this prompt takes Enter, s or q, not \"%.60s\"", p);
		if (!isatty(STDIN_FILENO)) {
			snprintf(s->err, sizeof(s->err), "--step: %s", err);
			s->quit_code = HS_EXIT_USAGE;
			return STEP_QUIT;
		}
		fprintf(stderr, "hs: %s; try again\n", err);
	}
}

/* The prompt for out->tx: "SYN (seq 0)" and the segment in the notation. */
static enum step_answer step_pause(hs_session *s, const hs_tx *tx, hs_seg_spec *sp)
{
	char flags[48], what[80], notation[512];
	hs_segment seg;

	hs_flags_format(tx->flags, flags, sizeof(flags));
	snprintf(what, sizeof(what), "%s (seq %u)", flags, hs_tcb_rel_snd(&s->tcb, tx->seq));
	segment_from_tx(s, tx, &seg);
	hs_notation_format(&seg, s->tcb.iss, s->tcb.irs_known ? s->tcb.irs : 0, notation, sizeof(notation));
	return step_ask(s, what, notation, sp);
}

/* Said, so that the lines account for every segment the TCB made. */
static void skipped(hs_session *s, const hs_tx *tx)
{
	char flags[48];

	hs_session_info(s, "--step: %s (seq %u) skipped, not sent", hs_flags_format(tx->flags, flags, sizeof(flags)),
	                hs_tcb_rel_snd(&s->tcb, tx->seq));
}

/* An edit answered at a prompt: the replacement for tx, built against it. */
static bool step_edit(hs_session *s, hs_tx *tx, const hs_seg_spec *sp)
{
	char err[256];
	hs_tx edited;

	if (hs_craft_build(&s->tcb, sp, tx, NULL, 0, hs_now_ns(), &edited, err, sizeof(err)) < 0) {
		hs_session_info(s, "--step: %s; the segment goes as it was", err);
		return false;
	}
	*tx = edited;
	return true;
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
	seg->urp = tx->urp;
	seg->ttl = tx->ip.set_ttl ? tx->ip.ttl : 64;
	/* What goes on the wire: with ip.bad_csum, the wrong checksum. */
	seg->csum = hs_tx_checksum(&s->tcb.cfg.local, &s->tcb.cfg.remote, tx);
	seg->csum_status = tx->ip.bad_csum ? HS_CSUM_BAD : HS_CSUM_OK;
	seg->payload = tx->data;
	seg->len = tx->len;
	if (tx->opt_len)
		hs_opts_decode(tx->opts, tx->opt_len, &seg->opts, &err);
}

/* Every event goes out through here: in the order given, and never with a time before
 * one already shown (the capture's clock and ours are read through an offset: a few
 * microseconds of jitter must not make the output run backwards). */
static void show(hs_session *s, hs_event *ev)
{
	/* Our segments whose copies came first are shown first: wire order. */
	release_pending(s);
	/* The connection's first event names its ends (once the peer is known: a
	 * listener learns it from the SYN). */
	if (!s->opened && (ev->type == HS_EV_SEGMENT || ev->type == HS_EV_STATE || ev->type == HS_EV_ICMP) &&
	    s->tcb.cfg.remote.addr.family != 0 && s->tcb.cfg.remote.port != 0) {
		s->opened = true;
		hs_event open = {
			.type = HS_EV_OPEN, .t_ns = ev->t_ns, .local = &s->tcb.cfg.local, .remote = &s->tcb.cfg.remote,
			.local_name = "us", .remote_name = "peer", .wall_t0_ns = s->wall_t0,
		};
		show(s, &open);
	}
	if (ev->t_ns < s->last_t_ns)
		ev->t_ns = s->last_t_ns;
	s->last_t_ns = ev->t_ns;
	hs_output_emit(s->out, ev);
}

static void show_change(hs_session *s, const hs_change *c, uint64_t t, bool by_segment)
{
	hs_event ev = { .type = HS_EV_STATE, .t_ns = t, .change = *c, .by_segment = by_segment };
	show(s, &ev);
}

/* A change a call made, shown just before the segment the call sent. */
static void show_call_change(hs_session *s, const hs_change *c, uint64_t t)
{
	hs_event ev = { .type = HS_EV_STATE, .t_ns = t, .change = *c, .by_call = true };
	show(s, &ev);
}

/* The captured datagram being taken in, for the event that shows it. */
static void with_cur_ip(const hs_session *s, hs_event *ev)
{
	ev->ip = s->cur_ip;
	ev->ip_caplen = s->cur_ip ? s->cur_caplen : 0;
	ev->ip_len = s->cur_ip ? s->cur_len : 0;
}

/* Shows held[0..i]: held[i] at t_mono (its captured copy's time; the copy is the one
 * being taken in when captured), the older ones, whose copies never came, at the
 * time their sendto() returned. */
static void release_now(hs_session *s, int i, uint64_t t_mono, bool captured)
{
	for (int k = 0; k <= i; k++) {
		hs_held *h = &s->held[k];
		uint64_t t = since_start(s, k == i ? t_mono : h->sent_ns);
		for (int j = 0; j < h->nbefore; j++)
			show_call_change(s, &h->before[j], t);
		h->ev.t_ns = t;
		h->ev.seg = &h->seg;
		if (k == i && captured && s->cur_ip) { /* what really left (the kernel's IP ID) */
			with_cur_ip(s, &h->ev);
		} else {
			h->ev.ip = h->ip;
			h->ev.ip_caplen = h->ev.ip_len = h->ip ? h->ip_len : 0;
		}
		show(s, &h->ev);
		free(h->ip);
		h->ip = NULL;
		if (k == i) { /* its captured copy came: later copies are the network's */
			s->left[s->nleft % 8].seq = h->seg.seq;
			s->left[s->nleft % 8].ack = h->seg.ack;
			s->left[s->nleft % 8].len = (uint32_t)h->seg.len;
			s->left[s->nleft % 8].flags = h->seg.flags;
			s->left[s->nleft % 8].at = t_mono;
			s->nleft++;
		}
		if (h->ev.t_ns > t)
			t = h->ev.t_ns;
		for (int j = 0; j < h->nchange; j++)
			show_change(s, &h->change[j], t, true);
	}
	memmove(s->held, s->held + i + 1, (size_t)(s->nheld - i - 1) * sizeof(s->held[0]));
	s->nheld -= i + 1;
}

/* The held segments whose captured copies came while a reply may wait behind them
 * in the capture: shown now. */
static void release_pending(hs_session *s)
{
	if (s->pend_release) {
		int i = s->pend_release - 1;
		s->pend_release = 0;
		release_now(s, i, s->pend_t, false);
	}
}

/* release_now() after the pending ones (i counts in the array as it is before). */
static void release(hs_session *s, int i, uint64_t t_mono, bool captured)
{
	int p = s->pend_release;

	release_pending(s);
	if (i - p >= 0)
		release_now(s, i - p, t_mono, captured);
}

static void release_all(hs_session *s)
{
	if (s->nheld > 0)
		release(s, s->nheld - 1, s->held[s->nheld - 1].sent_ns, false);
}

/* Releases the held segments whose copies are overdue. */
static void release_overdue(hs_session *s, uint64_t now)
{
	int last = -1;

	for (int k = 0; k < s->nheld; k++)
		if (now >= s->held[k].sent_ns + HS_ECHO_WAIT_NS)
			last = k;
	if (last >= 0)
		release(s, last, s->held[last].sent_ns, false);
}

/* The capture's copy of a held segment: the same numbers, flags and length. */
static int held_find(const hs_session *s, const hs_segment *seg)
{
	for (int k = 0; k < s->nheld; k++) {
		const hs_segment *h = &s->held[k].seg;
		if (h->seq == seg->seq && h->flags == seg->flags && h->len == seg->len &&
		    (!(h->flags & HS_ACK) || h->ack == seg->ack))
			return k;
	}
	return -1;
}

/* -w: our own segments are recorded as built; the capture's copy replaces the record
 * when it comes (the capture keeps one copy of each). */
static void dump_sent(hs_session *s, const hs_tx *tx)
{
	uint8_t buf[60 + HS_OPT_MAXLEN + 65536];
	int n = hs_segment_encode_ip(&s->tcb.cfg.local, &s->tcb.cfg.remote, tx, buf, sizeof(buf));

	if (n > 0)
		hs_capture_dump_ip(s->cap, buf, (size_t)n);
}

/* -w FILE.pcapng: the datagram as it was built for sending, kept with the held line
 * (its captured copy, when it comes, is shown instead). */
static void encode_sent(const hs_session *s, const hs_tx *tx, hs_held *h)
{
	size_t cap = 60 + HS_OPT_MAXLEN + (size_t)tx->len + 40;
	uint8_t *buf = malloc(cap);
	int n = buf ? hs_segment_encode_ip(&s->tcb.cfg.local, &s->tcb.cfg.remote, tx, buf, cap) : -1;

	if (n <= 0) {
		free(buf);
		return; /* the sink encodes the segment from the event instead */
	}
	h->ip = buf;
	h->ip_len = (size_t)n;
}

/* Holds the line of out->tx[i], just sent, until its captured copy comes. before:
 * changes to show ahead of it (the call that made it), after: those it caused. */
static void hold(hs_session *s, const hs_tcb_out *o, int i, uint64_t sent_ns, hs_state state,
                 hs_state peer, bool assumed, const hs_change *before, int nbefore)
{
	const hs_tx *tx = &o->tx[i];

	if (s->dumping)
		dump_sent(s, tx);
	if (s->nheld == HS_SESSION_HELD)
		release(s, 0, s->held[0].sent_ns, false);
	hs_held *h = &s->held[s->nheld++];
	memset(h, 0, sizeof(*h));
	if (s->out && hs_output_has_sinks(s->out)) /* a sink (pcapng) writes the datagram itself */
		encode_sent(s, tx, h);
	segment_from_tx(s, tx, &h->seg);
	h->sent_ns = sent_ns;
	h->ev = (hs_event){
		.type = HS_EV_SEGMENT, .dir = HS_DIR_OUT, .seg = &h->seg,
		.rseq = hs_tcb_rel_snd(&s->tcb, tx->seq),
		/* Before the peer's ISN is known (a probe), an ACK we craft counts from 0. */
		.rack = !(tx->flags & HS_ACK) ? 0 : s->tcb.irs_known ? hs_tcb_rel_rcv(&s->tcb, tx->ack) : tx->ack,
		.state = state, .peer_state = peer, .peer_assumed = assumed, .note = tx->note,
	};
	if (s->tcb.ws_ok && !(tx->flags & (HS_SYN | HS_RST)))
		h->ev.win_shift = s->tcb.rcv_wscale;
	for (int k = 0; k < o->nchange; k++)
		if (o->change[k].cause == i + 1 && h->nchange < HS_TCB_MAXCHANGE)
			h->change[h->nchange++] = o->change[k];
	for (int k = 0; k < nbefore && k < HS_TCB_MAXCHANGE; k++)
		h->before[h->nbefore++] = before[k];
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

static void apply_change(const hs_change *c, hs_state *state, hs_state *peer, bool *assumed)
{
	if (c->peer) {
		*peer = c->to;
		*assumed = c->assumed;
	} else {
		*state = c->to;
	}
}

/* The segment that arrived, with the states it left each side in. */
static void show_input(hs_session *s, const hs_tcb_out *o, const hs_segment *in, uint64_t in_ts,
                       hs_state state, hs_state peer, bool assumed)
{
	hs_event ev = {
		.type = HS_EV_SEGMENT, .t_ns = since_start(s, in_ts), .dir = HS_DIR_IN, .seg = in,
		.rseq = hs_tcb_rel_rcv(&s->tcb, in->seq), .rack = in->ack - s->tcb.iss,
		.state = state, .peer_state = peer, .peer_assumed = assumed, .note = o->in_note,
	};
	if (!(in->flags & HS_ACK))
		ev.rack = 0;
	char tfo_note[32];
	if (o->tfo) { /* RFC 7413: shown in the note when there is none (lines), and as "tfo" */
		ev.tfo = o->tfo;
		snprintf(tfo_note, sizeof(tfo_note), "tfo %s", o->tfo);
		if (o->in_note == HS_NOTE_NONE)
			ev.note_text = tfo_note;
	}
	if (s->tcb.ws_ok && !(in->flags & (HS_SYN | HS_RST)))
		ev.win_shift = s->tcb.snd_wscale;
	with_cur_ip(s, &ev);
	show(s, &ev);
}

static int send_one(hs_session *s, hs_tcb_out *o, int i, uint64_t *sent_ns)
{
	const hs_tx *tx = &o->tx[i];

	/* Signed here too (the sender signs again, the same digest) so that the line
	 * held for it and -w show the segment as it leaves. */
	if (s->md5.len && hs_md5sig_sign_tx(&o->tx[i], &s->tcb.cfg.local, &s->tcb.cfg.remote, &s->md5,
	                                    s->err, sizeof(s->err)) != 0)
		return -1;
	int rc = hs_sender_send(s->snd, &s->tcb.cfg.local, &s->tcb.cfg.remote, tx, s->err, sizeof(s->err));
	*sent_ns = hs_now_ns();
	if (rc < 0)
		return -1;
	s->sent++;
	s->last_sent_ns = *sent_ns;
	if (tx->flags & HS_RST) {
		s->sent_rst = true;
		s->rst_seq[s->nrst++ % 8] = tx->seq;
	}
	if (tx->crafted)
		hs_tcb_sent_crafted(&s->tcb, i, !s->craft_no_rtx, *sent_ns, o);
	else
		hs_tcb_sent(&s->tcb, i, *sent_ns, o);
	return 0;
}

/* --step: the cause is on the screen before the prompt; whatever the peer sends while
 * we wait is taken in, and the held segment leaves up to date, or not at all when the
 * connection ended meanwhile or a newer ACK already went out. */
static int apply_step(hs_session *s, hs_tcb_out *o, const hs_segment *in, uint64_t in_ts)
{
	hs_state state, peer;
	bool assumed;
	int failed = -1;

	/* An edit at a call's prompt that makes its segment another kind (no FIN where
	 * the call closes, an RST that is not at SND.NXT, ...) undoes the call: the TCB
	 * goes back to where it was, and only the edited segment leaves, with what it
	 * does itself (hs_tcb_sent_crafted). */
	if (s->confirmed && s->pending == STEP_EDIT && s->pre_call && o->ntx > 0) {
		hs_tx edited;
		char err[200];
		const hs_tx *call = &o->tx[0];
		/* Built on the TCB as it was before the call (an abort leaves it CLOSED). */
		if (hs_craft_build(s->pre_call, &s->pending_spec, call, NULL, 0, hs_now_ns(), &edited, err, sizeof(err)) == 0 &&
		    (((edited.flags ^ call->flags) & (HS_SYN | HS_FIN | HS_RST)) || edited.seq != call->seq ||
		     edited.len != call->len)) {
			s->tcb = *s->pre_call;
			memset(o, 0, sizeof(*o));
			o->tx[0] = edited;
			o->ntx = 1;
			s->pending = STEP_SEND;
			hs_session_info(s, "--step: the edit replaces what the call would send: the call is undone");
		}
	}
	free(s->pre_call);
	s->pre_call = NULL;

	assumed = s->tcb.peer_assumed;
	states_before(&s->tcb, o, &state, &peer);
	for (int k = 0; k < o->nchange; k++)
		if (o->change[k].cause == 0)
			apply_change(&o->change[k], &state, &peer, &assumed);
	if (in)
		show_input(s, o, in, in_ts, state, peer, assumed);
	uint64_t t = since_start(s, in ? in_ts : hs_now_ns());
	for (int k = 0; k < o->nchange; k++)
		if (o->change[k].cause == 0) {
			if (in)
				show_change(s, &o->change[k], t, true);
			else if (o->ntx > 0)
				show_call_change(s, &o->change[k], t);
			else
				show_change(s, &o->change[k], t, false);
		}

	bool confirmed = s->confirmed;
	int pending = s->pending;
	hs_seg_spec pending_spec = s->pending_spec;
	s->confirmed = false;
	s->pending = STEP_SEND;
	for (int i = 0; i < o->ntx; i++) {
		hs_tx *tx = &o->tx[i];
		bool pure_ack = tx->flags == HS_ACK && tx->len == 0;
		uint64_t sent_ns;
		hs_seg_spec sp;
		/* Taken in during a pause: the held segment's ACK, refreshed, says it all. */
		if (pure_ack && s->depth > 0 && s->ack_waiting)
			continue;
		if (s->quit)
			break;
		if (confirmed) { /* the call's own segments: the user answered before it */
			enum step_answer a = i == 0 ? (enum step_answer)pending : STEP_SEND;
			if (a == STEP_SKIP) {
				skipped(s, tx);
				continue;
			}
			if (a == STEP_EDIT && !step_edit(s, tx, &pending_spec))
				a = STEP_SEND;
			if (send_one(s, o, i, &sent_ns) < 0) {
				failed = i;
				break;
			}
			hold(s, o, i, sent_ns, s->tcb.state, s->tcb.peer_state, s->tcb.peer_assumed, NULL, 0);
			continue;
		}
		hs_session_drain(s); /* everything so far on the screen */
		unsigned sent_before = s->sent;
		uint32_t ack_before = s->tcb.rcv_nxt;
		enum step_answer a = step_pause(s, tx, &sp);
		if (s->stop && *s->stop)
			break; /* interrupted at the prompt: the run ends, this one stays unsent */
		if (a == STEP_QUIT) {
			s->quit = true;
			break;
		}
		bool was_waiting = s->ack_waiting;
		s->ack_waiting = (tx->flags & HS_ACK) && !(tx->flags & HS_RST);
		s->depth++;
		hs_session_drain(s);
		s->depth--;
		s->ack_waiting = was_waiting;
		if (a == STEP_SKIP) { /* as if lost on the way: the TCB's timer may send it again */
			skipped(s, tx);
			continue;
		}
		if (s->tcb.result != HS_RES_NONE && !s->observe && !(tx->flags & HS_RST) && a != STEP_EDIT)
			break; /* the connection ended while we waited: nothing more to send (a
			        * probe after the end, asking whether the peer took our RST, goes) */
		if (a != STEP_EDIT && pure_ack && s->sent != sent_before && s->tcb.rcv_nxt == ack_before)
			continue; /* an ACK as new went out meanwhile */
		if (!tx->crafted)
			hs_tcb_refresh(&s->tcb, tx, hs_now_ns());
		if (a == STEP_EDIT)
			step_edit(s, tx, &sp);
		if (send_one(s, o, i, &sent_ns) < 0) {
			failed = i;
			break;
		}
		hold(s, o, i, sent_ns, s->tcb.state, s->tcb.peer_state, s->tcb.peer_assumed, NULL, 0);
	}
	return failed < 0 ? 0 : -1;
}

int hs_session_apply(hs_session *s, hs_tcb_out *o, const hs_segment *in, uint64_t in_ts)
{
	uint64_t sent_at[HS_TCB_MAXTX];
	bool sent_ok[HS_TCB_MAXTX];
	bool assumed_in = s->tcb.peer_assumed;
	int failed = -1;

	if (s->step)
		return apply_step(s, o, in, in_ts);

	/* Hot path: answer first. */
	for (int i = 0; i < o->ntx; i++) {
		sent_ok[i] = send_one(s, o, i, &sent_at[i]) == 0;
		if (!sent_ok[i] && failed < 0)
			failed = i;
	}

	/* Then tell. */
	hs_state state, peer;
	bool assumed = assumed_in;
	states_before(&s->tcb, o, &state, &peer);
	for (int k = 0; k < o->nchange; k++)
		if (o->change[k].cause == 0)
			apply_change(&o->change[k], &state, &peer, &assumed);

	/* What the input (a segment, a timer, a call) changed: shown with the segment
	 * that arrived, or ahead of the first segment it made us send. */
	hs_change before[HS_TCB_MAXCHANGE];
	int nbefore = 0;
	for (int k = 0; k < o->nchange; k++)
		if (o->change[k].cause == 0)
			before[nbefore++] = o->change[k];
	int first = -1;
	for (int i = 0; i < o->ntx && first < 0; i++)
		if (sent_ok[i])
			first = i;
	if (in || first < 0) {
		if (in)
			show_input(s, o, in, in_ts, state, peer, assumed);
		uint64_t t = since_start(s, in ? in_ts : hs_now_ns());
		for (int k = 0; k < nbefore; k++)
			show_change(s, &before[k], t, in != NULL);
		nbefore = 0;
	}

	for (int i = 0; i < o->ntx; i++) {
		if (!sent_ok[i])
			continue;
		for (int k = 0; k < o->nchange; k++)
			if (o->change[k].cause == i + 1)
				apply_change(&o->change[k], &state, &peer, &assumed);
		hold(s, o, i, sent_at[i], state, peer, assumed, before, i == first ? nbefore : 0);
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
		.state = s->tcb.state, .peer_state = s->tcb.peer_state, .peer_assumed = s->tcb.peer_assumed,
	};
	if (!(seg->flags & HS_ACK))
		ev.rack = 0;
	with_cur_ip(s, &ev);
	show(s, &ev);
}

/* What a receiving stack drops before TCP sees it: a first fragment that no
 * reassembly completed (the capture sees fragments as they come), a segment whose
 * checksum is wrong (one from offload, the pseudo-header sum only, is fine). Shown,
 * with why, and not acted on. */
static const char *dropped_why(const hs_segment *seg)
{
	if (seg->fragment)
		return "fragment-ignored";
	if (seg->csum_status == HS_CSUM_BAD)
		return "bad-checksum-ignored";
	return NULL;
}

static void show_dropped(hs_session *s, const hs_segment *seg, uint64_t ts, const char *why)
{
	hs_event ev = {
		.type = HS_EV_SEGMENT, .t_ns = since_start(s, ts), .dir = HS_DIR_IN, .seg = seg,
		.rseq = hs_tcb_rel_rcv(&s->tcb, seg->seq), .rack = (seg->flags & HS_ACK) ? seg->ack - s->tcb.iss : 0,
		.state = s->tcb.state, .peer_state = s->tcb.peer_state, .peer_assumed = s->tcb.peer_assumed,
		.note_text = why,
	};
	with_cur_ip(s, &ev);
	show(s, &ev);
}

static bool from_us(const hs_tcb *t, const hs_segment *seg)
{
	return hs_endpoint_equal(&seg->src, &t->cfg.local) && hs_endpoint_equal(&seg->dst, &t->cfg.remote);
}

/* A copy of one of our segments that the capture already brought (nft dup on the
 * way out, a bridge): shown, noted, since -w holds it too. */
static bool our_copy(hs_session *s, const hs_segment *seg, uint64_t ts)
{
	for (unsigned k = 0; k < 8 && k < s->nleft; k++) {
		if (s->left[k].seq != seg->seq || s->left[k].ack != seg->ack || s->left[k].flags != seg->flags ||
		    s->left[k].len != seg->len || ts < s->left[k].at || ts - s->left[k].at > 20 * HS_NS_PER_MS)
			continue;
		hs_event ev = {
			.type = HS_EV_SEGMENT, .t_ns = since_start(s, ts), .dir = HS_DIR_OUT, .seg = seg,
			.rseq = hs_tcb_rel_snd(&s->tcb, seg->seq),
			.rack = (seg->flags & HS_ACK) ? hs_tcb_rel_rcv(&s->tcb, seg->ack) : 0,
			.state = s->tcb.state, .peer_state = s->tcb.peer_state, .peer_assumed = s->tcb.peer_assumed,
			.note = HS_NOTE_DUPLICATE,
		};
		with_cur_ip(s, &ev);
		show(s, &ev);
		return true;
	}
	return false;
}

/* Did we send an RST with this sequence number? */
static bool sent_this_rst(const hs_session *s, uint32_t seq)
{
	for (unsigned k = 0; k < 8 && k < s->nrst; k++)
		if (s->rst_seq[k] == seq)
			return true;
	return false;
}

/* Our own segments come back through the capture; an RST we did not send is the
 * local kernel's (no guard, or a guard that does not cover this segment). Ours is
 * told by its sequence number, not by our having sent some RST: the kernel's (or
 * another program's) RST after ours is still not ours. */
static void check_own_echo(hs_session *s, const hs_segment *seg, uint64_t ts)
{
	if (our_copy(s, seg, ts))
		return;
	if (!(seg->flags & HS_RST) || sent_this_rst(s, seg->seq))
		return;
	s->kernel_rsts++;
	hs_event ev = {
		.type = HS_EV_SEGMENT, .t_ns = since_start(s, ts), .dir = HS_DIR_OUT, .seg = seg,
		.rseq = hs_tcb_rel_snd(&s->tcb, seg->seq), .rack = hs_tcb_rel_rcv(&s->tcb, seg->ack),
		.state = s->tcb.state, .peer_state = s->tcb.peer_state, .peer_assumed = s->tcb.peer_assumed,
		.note_text = "kernel-rst",
	};
	with_cur_ip(s, &ev);
	show(s, &ev);
}

static bool icmp_about_us(const hs_tcb *t, const hs_icmp_error *e)
{
	return hs_endpoint_equal(&e->orig_src, &t->cfg.local) &&
	       (t->cfg.remote.port == 0 || hs_endpoint_equal(&e->orig_dst, &t->cfg.remote));
}

/* One captured packet: the peer's segments to the TCB (and our answer out at once),
 * our own to their held lines, ICMP errors to the TCB. Returns 0, or -1 (s->err). */
static int take_packet(hs_session *s, const hs_packet *pkt, uint64_t ts)
{
	hs_tcb_out o;

	if (pkt->kind == HS_PKT_TCP) {
		hs_segment checked;
		const hs_segment *seg = &pkt->u.tcp;
		bool peer = from_peer(&s->tcb, seg);
		const char *why = peer ? dropped_why(seg) : NULL;
		/* TCP-MD5 (RFC 2385 2.0): a segment without the option, or with a wrong
		 * digest, is discarded by a receiver holding a key: shown, not acted on. */
		if (peer && !why && s->md5.len) {
			checked = *seg;
			checked.md5_status = (uint8_t)hs_md5sig_check(seg, &s->md5);
			seg = &checked;
			if (checked.md5_status == HS_MD5_BAD)
				why = "md5-bad-ignored";
			else if (checked.md5_status == HS_MD5_MISSING)
				why = "md5-missing-ignored";
		}
		if (peer && !why && s->watching && !s->answered) {
			s->answered = true;
			s->answer = *seg;
			s->answer.payload = NULL; /* the capture's buffer: not ours to keep */
		}
		if (why) {
			show_dropped(s, seg, ts, why);
		} else if (peer && s->observe) {
			observe_in(s, seg, ts);
		} else if (peer) {
			/* Listening on any address: the first SYN chooses ours. */
			if (s->tcb.state == HS_LISTEN && s->tcb.cfg.local.addr.family == 0 &&
			    (seg->flags & (HS_SYN | HS_ACK | HS_RST)) == HS_SYN &&
			    seg->dst.addr.family == s->family)
				s->tcb.cfg.local.addr = seg->dst.addr;
			note_peer_seq(s, seg);
			hs_tcb_input(&s->tcb, seg, ts, &o);
			if (hs_session_apply(s, &o, seg, ts) < 0)
				return -1;
		} else if (from_us(&s->tcb, seg)) {
			int k = held_find(s, seg);
			if (k >= 0 && k < s->pend_release) {
				/* a second copy of one already come: shown as the network's */
				release_pending(s);
				k = held_find(s, seg);
			}
			if (k >= 0 && !s->cur_ip && !s->step && !s->pend_release) {
				/* Shown when the capture is empty or before the next event: a reply
				 * the peer sent inside our sendto() is answered first. (With a sink
				 * the captured datagram must be shown now, while it is at hand.) */
				s->pend_release = k + 1;
				s->pend_t = ts;
			} else if (k >= 0) {
				release(s, k, ts, true);
			} else {
				check_own_echo(s, seg, ts);
			}
		}
	} else if (pkt->kind == HS_PKT_ICMP && icmp_about_us(&s->tcb, &pkt->u.icmp)) {
		hs_event ev = { .type = HS_EV_ICMP, .t_ns = since_start(s, ts), .icmp = &pkt->u.icmp };
		with_cur_ip(s, &ev);
		show(s, &ev);
		s->last_icmp = pkt->u.icmp;
		s->have_icmp = true;
		if (s->watching && !s->answered)
			s->answered = s->answer_icmp = true;
		hs_tcb_icmp(&s->tcb, &pkt->u.icmp, ts, &o);
		if (hs_session_apply(s, &o, NULL, ts) < 0)
			return -1;
	}
	return 0;
}

/* take_packet() with the packet's datagram at hand for the events that show it. A
 * --step pause inside takes in others, each with its own; the capture's buffer then
 * holds another packet, so the outer one shows no datagram after (the sink encodes
 * its segment instead). */
static int take(hs_session *s, const hs_packet *pkt, uint64_t ts)
{
	if (!s->out || !hs_output_has_sinks(s->out) || hs_capture_last_ip(s->cap, &s->cur_ip, &s->cur_caplen, &s->cur_len) < 0)
		s->cur_ip = NULL;
	int rc = take_packet(s, pkt, ts);
	s->cur_ip = NULL;
	return rc;
}

bool hs_session_write_failed(hs_session *s)
{
	const char *which;
	int e = s->out ? hs_output_write_error(s->out, &which) : 0;

	if (e) {
		snprintf(s->err, sizeof(s->err), "cannot write to %s: %s", which, strerror(e));
		return true;
	}
	e = s->out ? s->out->sink_errno : 0;
	if (e) {
		const char *path = s->out->pcapng_path;
		snprintf(s->err, sizeof(s->err), "cannot write %s: %s",
		         path && strcmp(path, "-") != 0 ? path : "the capture to stdout", strerror(e));
		return true;
	}
	e = s->cap ? hs_capture_dump_error(s->cap) : 0;
	if (e) {
		snprintf(s->err, sizeof(s->err), "cannot write %s: %s",
		         s->pcap_out && strcmp(s->pcap_out, "-") != 0 ? s->pcap_out : "the capture to stdout", strerror(e));
		return true;
	}
	return false;
}

enum hs_run hs_session_drain(hs_session *s)
{
	hs_packet pkt;
	uint64_t ts;

	if (!s->cap)
		return HS_RUN_GOAL;
	for (;;) {
		release_pending(s); /* their copies are not outstanding */
		/* What is in the capture now; then, while our own segments' copies are
		 * outstanding, whatever comes until they are overdue. */
		uint64_t deadline = s->nheld ? s->held[0].sent_ns + HS_ECHO_WAIT_NS : 0;
		int rc = hs_capture_next(s->cap, deadline, &pkt, &ts, s->err, sizeof(s->err));
		if (rc == -2)
			continue;
		if (rc < 0)
			return HS_RUN_ERROR;
		if (rc == 0) {
			if (s->nheld && hs_now_ns() < s->held[0].sent_ns + HS_ECHO_WAIT_NS)
				continue;
			release_all(s);
			break;
		}
		if (take(s, &pkt, ts) < 0)
			return HS_RUN_ERROR;
	}
	if (s->quit)
		return HS_RUN_QUIT;
	if (s->tcb.result != HS_RES_NONE)
		return HS_RUN_ENDED;
	if (s->stop && *s->stop)
		return HS_RUN_SIGNAL;
	return hs_session_write_failed(s) ? HS_RUN_WRITE : HS_RUN_GOAL;
}

/* What a call would send, built on a copy of the TCB (the call itself is made only
 * once the user has answered, on what arrived meanwhile). Returns false for calls
 * whose segment cannot be foreseen here (data: the bytes are the caller's). */
static bool preview_call(const hs_session *s, const char *what, hs_tx *tx)
{
	hs_tcb *copy = malloc(sizeof(*copy));
	hs_tcb_out o;
	bool ok = false;

	if (!copy)
		return false;
	*copy = s->tcb;
	if (strcmp(what, "FIN") == 0)
		ok = hs_tcb_close(copy, hs_now_ns(), &o) == 0;
	else if (strncmp(what, "RST", 3) == 0)
		ok = (hs_tcb_abort(copy, strcmp(what, "RST,ACK") == 0, hs_now_ns(), &o), true);
	ok = ok && o.ntx > 0;
	if (ok)
		*tx = o.tx[0];
	free(copy);
	return ok;
}

enum hs_run hs_session_before_call(hs_session *s, const char *what)
{
	enum hs_run r = hs_session_drain(s);
	hs_tx tx;

	if (r != HS_RUN_GOAL || !s->step)
		return r;
	s->pending = STEP_SEND;
	if (preview_call(s, what, &tx)) {
		s->pending = step_pause(s, &tx, &s->pending_spec);
	} else {
		hs_seg_spec unused;
		s->pending = step_ask(s, what, NULL, &unused);
	}
	if (s->pending == STEP_QUIT) {
		s->pending = STEP_SEND;
		s->quit = true;
		return HS_RUN_QUIT;
	}
	r = hs_session_drain(s);
	s->confirmed = r == HS_RUN_GOAL;
	free(s->pre_call);
	s->pre_call = NULL;
	if (s->confirmed && s->pending == STEP_EDIT) { /* the state the call starts from */
		s->pre_call = malloc(sizeof(*s->pre_call));
		if (s->pre_call)
			*s->pre_call = s->tcb;
	}
	return r;
}

int hs_session_send_crafted(hs_session *s, const hs_tx *tx)
{
	hs_tcb_out o;

	memset(&o, 0, sizeof(o));
	o.tx[0] = *tx;
	o.tx[0].crafted = true;
	o.ntx = 1;
	return hs_session_apply(s, &o, NULL, 0);
}

void hs_session_watch(hs_session *s)
{
	s->watching = true;
	s->answered = false;
	s->answer_icmp = false;
}

/* The next packet: what the capture holds already, at once; only when it holds
 * nothing are the lines rendered meanwhile written, and then the wait begins. So a
 * reply that came during our own send is answered before any output is written. */
static int next_packet(hs_session *s, uint64_t deadline, hs_packet *pkt, uint64_t *ts)
{
	if (s->out && s->out->deferred) {
		int rc = hs_capture_next(s->cap, 0, pkt, ts, s->err, sizeof(s->err));
		if (rc != 0)
			return rc;
		release_pending(s);
		hs_output_flush(s->out);
	}
	/* Busy poll for a moment after we sent: the peer's answer (its data after the
	 * handshake, the ACK of ours) usually comes within it, and waking a process that
	 * sleeps in poll() costs more than that on a loaded host (scheduler latency: the
	 * kernel's own TCP answers in softirq and never waits for it). Bounded by
	 * HS_SESSION_SPIN_NS after each send, so an idle hs sleeps. */
	uint64_t now = hs_now_ns();
	uint64_t spin_end = s->last_sent_ns + HS_SESSION_SPIN_NS;
	if (deadline && deadline < spin_end)
		spin_end = deadline;
	while (now < spin_end && !(s->stop && *s->stop)) {
		int rc = hs_capture_next(s->cap, 0, pkt, ts, s->err, sizeof(s->err));
		if (rc != 0)
			return rc;
		sched_yield(); /* a peer on this CPU runs meanwhile */
		now = hs_now_ns();
	}
	return hs_capture_next(s->cap, deadline, pkt, ts, s->err, sizeof(s->err));
}

static enum hs_run run_loop(hs_session *s, hs_goal_fn goal, void *arg, uint64_t idle_deadline);

enum hs_run hs_session_run(hs_session *s, hs_goal_fn goal, void *arg, uint64_t idle_deadline)
{
	/* --step prompts the user in the middle of the loop: lines go out at once. */
	bool defer = s->out && !s->step && !s->out->deferred;

	if (defer)
		hs_output_defer(s->out, true);
	enum hs_run r = run_loop(s, goal, arg, idle_deadline);
	if (defer)
		hs_output_defer(s->out, false);
	return r;
}

static enum hs_run run_loop(hs_session *s, hs_goal_fn goal, void *arg, uint64_t idle_deadline)
{
	hs_packet pkt;
	hs_tcb_out o;
	uint64_t ts;

	for (;;) {
		if (s->quit)
			return HS_RUN_QUIT;
		if (s->tcb.result != HS_RES_NONE && !s->observe)
			return HS_RUN_ENDED;
		if (goal && goal(&s->tcb, arg))
			return HS_RUN_GOAL;
		if (s->stop && *s->stop)
			return HS_RUN_SIGNAL;
		if (hs_session_write_failed(s))
			return HS_RUN_WRITE;

		uint64_t timer = hs_tcb_deadline(&s->tcb);
		uint64_t deadline = timer;
		if (idle_deadline && (!deadline || idle_deadline < deadline))
			deadline = idle_deadline;
		if (s->nheld) {
			uint64_t echo = s->held[0].sent_ns + HS_ECHO_WAIT_NS;
			if (!deadline || echo < deadline)
				deadline = echo;
		}
		if (!deadline) /* nothing to wait for but the peer (or a signal): block */
			deadline = hs_now_ns() + 3600 * HS_NS_PER_SEC;
		/* A view holding a row (the ladder's last segment) draws it after a
		 * quiet while, not only when the next event comes. */
		uint64_t quiet = s->out && hs_output_holding(s->out) ? hs_now_ns() + HS_OUTPUT_IDLE_NS : 0;
		if (quiet && quiet < deadline)
			deadline = quiet;

		int rc = next_packet(s, deadline, &pkt, &ts);
		if (rc == -2)
			continue; /* the loop head sees the stop flag */
		if (rc < 0)
			return HS_RUN_ERROR;
		if (rc == 0) {
			uint64_t now = hs_now_ns();
			release_overdue(s, now);
			if (quiet && now >= quiet)
				hs_output_idle(s->out);
			if (timer && now >= timer) {
				hs_tcb_timer(&s->tcb, now, &o);
				if (hs_session_apply(s, &o, NULL, now) < 0)
					return HS_RUN_ERROR;
			} else if (idle_deadline && now >= idle_deadline) {
				return HS_RUN_IDLE;
			}
			continue;
		}
		if (take(s, &pkt, ts) < 0)
			return HS_RUN_ERROR;
	}
}

void hs_session_info(hs_session *s, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	release_all(s);
	hs_event ev = { .type = HS_EV_INFO, .t_ns = since_start(s, hs_now_ns()), .text = text };
	show(s, &ev);
}

void hs_session_result(hs_session *s, const char *outcome, int exit_code, const char *conn_id,
                       const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	release_all(s);
	/* A capture that lost frames leaves lines out: say so, and how many. */
	unsigned long drops = 0;
	char warn[160];
	if (s->cap && hs_capture_drops_text(s->cap, &drops, warn, sizeof(warn))) {
		hs_event w = { .type = HS_EV_INFO, .t_ns = since_start(s, hs_now_ns()), .text = warn };
		show(s, &w);
	}
	hs_event ev = {
		.type = HS_EV_RESULT, .t_ns = since_start(s, hs_now_ns()), .text = text, .capture_drops = drops,
		.outcome = outcome, .exit_code = exit_code, .conn_id = conn_id,
		.reaction = s->reaction, .reactions = s->reactions,
		.local = s->tcb.cfg.local.addr.family ? &s->tcb.cfg.local : NULL,
		.remote = s->tcb.cfg.remote.addr.family ? &s->tcb.cfg.remote : NULL,
		.final_state = s->tcb.state, .final_peer_state = s->tcb.peer_state,
		.peer_assumed = s->tcb.peer_assumed,
	};
	show(s, &ev);
}

void hs_session_set_md5(hs_session *s, const hs_md5_key *key)
{
	if (key && key->len)
		s->md5 = *key;
	else
		memset(&s->md5, 0, sizeof(s->md5));
	hs_sender_set_md5(s->snd, &s->md5);
}
