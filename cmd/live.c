/* hs rst A:PORT B:PORT and hs fin A:PORT B:PORT: act on a live connection between
 * two other endpoints (hs runs on a router between them, or anywhere their segments
 * pass), with segments whose source address is spoofed.
 *
 * 1. Learn the numbers. Every segment X->Y tells X's next sequence number (seq +
 *    len, +1 for SYN/FIN) and, through its ACK field, Y's (Y's next byte is what X
 *    expects). A connection that carries nothing is asked: one byte of data with a
 *    random (out-of-window) sequence number, sent to Y as if from X, makes a stack
 *    answer with a duplicate ACK carrying its SND.NXT and RCV.NXT (RFC 9293
 *    3.10.7.4). Linux rate-limits those answers per socket (tcp_invalid_ratelimit,
 *    500 ms) only for segments without data: hence the byte.
 * 2. rst: send RST to each end as the other, seq = its RCV.NXT exactly (RFC 5961
 *    accepts nothing else at once; an in-window miss only draws a challenge ACK,
 *    itself rate-limited, so silence after an RST proves nothing). Then probe each
 *    end with one byte far below its window: an end that dropped the connection
 *    answers RST; one that kept it answers at once with a duplicate ACK, carrying a
 *    D-SACK block that names the probe when SACK is on, and fresh numbers: the next
 *    round (--count) uses them, with a burst of RSTs if the data keeps flowing.
 *    fin: send FIN,ACK to B as A and report B's answer: its ACK of the FIN (B is in
 *    CLOSE-WAIT), then its own FIN if its application closes (ACKed as A).
 *
 * What the connection is -- both ends' numbers and states, notes, network copies --
 * is the observer's (lib/observer.c): every captured segment of it goes there, and
 * its changes come out as events. Here: our questions and their answers, our own
 * segments recognised in the capture (they are not the ends': an ask or a probe
 * carries made-up numbers), and when their lines go out. What our RSTs did is
 * concluded from the probes' answers; our FIN and ACK as A go to the observer as
 * hs's (hs_observer_spoofed), which B takes and A never hears of.
 *
 * Captured on "any", a forwarded segment shows twice (in on one interface, out on
 * the other) and our own segments once: both are recognised and dropped. */
#include <config.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "cli.h"
#include "hs/random.h"
#include "hs/privs.h"
#include "hs/capture.h"
#include "hs/clock.h"
#include "hs/observer.h"
#include "hs/route.h"
#include "hs/sender.h"
#include "hs/seq.h"

enum { SIDE_A = HS_OBS_A, SIDE_B = HS_OBS_B };

#define SENT_SLOTS 128
#define DUP_WINDOW_NS HS_OBS_COPY_NS     /* the two copies of a forwarded segment */
#define PASSIVE_MAX_NS (200 * HS_NS_PER_MS) /* how long to wait before asking */
#define ASK_AGAIN_NS (300 * HS_NS_PER_MS) /* then doubling */
#define PROBE_BELOW 0x40000000u          /* how far below RCV.NXT a probe goes */
#define MAX_PROBES 8                     /* per end and round */
#define BUSY_NS (50 * HS_NS_PER_MS)      /* data seen this recently: the end is sending */
#define MAX_BURST 8
#define DEFAULT_COUNT 3

/* What we ask of an end, and what it answered: the connection itself is in l->ob. */
struct side {
	hs_endpoint ep;
	const char *name;     /* "A" or "B" */
	bool rst;             /* it answered RST since we started asking (it has no connection) */
	/* This round's questions to it (probes after the RST; the FIN of hs fin). */
	uint64_t asked_at;    /* when the first left (0: none) */
	bool answered;        /* it sent something captured after that */
	bool alive;           /* it answered a probe with an ACK naming it (D-SACK) */
	uint32_t probe_seq[MAX_PROBES];
	int nprobe;
	/* hs fin */
	bool fin_sent;        /* we sent a FIN as this end, */
	uint32_t fin_end;     /* numbered up to here */
	bool fin_acked;       /* this end acknowledged the FIN sent as the other */
};

/* A segment we sent, to recognise it when the capture brings it. */
struct sent {
	int from;
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t len;
	bool used;            /* the capture brought it already */
	/* Its line waits for the capture's copy (the time it left, its place on the wire). */
	bool shown;
	hs_segment seg;       /* payload: a static probe byte or NULL */
	const char *purpose;  /* static */
	uint64_t sent_ns;     /* when sendto() returned */
	uint64_t echo_ns;     /* when the capture brought it */
	bool fed;             /* given to the observer as hs's segment (our FIN, ACK as A): */
	hs_obs_out effect;    /* what it did there, shown with its line */
};

struct live {
	struct cli *c;
	hs_output out;
	hs_capture *cap;
	hs_sender *snd;
	uint64_t t0;
	int count;
	struct side side[2];
	hs_observer ob;       /* both ends of the connection, from what passes */
	struct sent sent[SENT_SLOTS];
	unsigned nsent;
	unsigned seen;        /* segments of the connection seen (not ours) */
	uint64_t last_t;      /* the latest time shown: output never runs backwards */
	bool finishing;
	char err[256];
};

/* ---- output ------------------------------------------------------------------------ */

static uint64_t since_start(const struct live *l, uint64_t ts)
{
	return ts > l->t0 ? ts - l->t0 : 0;
}

/* Every event goes out through here, never with a time before one already shown. */
static void emit(struct live *l, hs_event *ev)
{
	if (ev->t_ns < l->last_t)
		ev->t_ns = l->last_t;
	l->last_t = ev->t_ns;
	hs_output_emit(&l->out, ev);
}

static const hs_obs_side *obs(const struct live *l, int side)
{
	return &l->ob.side[side];
}

/* The observer's changes, as state events (A's: peer false; B's: peer true). */
static void show_changes(struct live *l, const hs_obs_out *o, uint64_t ts, bool by_segment)
{
	for (int i = 0; i < o->nchange; i++) {
		hs_event ev = { .type = HS_EV_STATE, .t_ns = since_start(l, ts), .change = o->change[i],
		                .by_segment = by_segment };
		emit(l, &ev);
	}
}

/* A segment event: A -> B is "out", B -> A "in" (the views name the ends from
 * HS_EV_OPEN); o: what the observer made of it (NULL: it was not given one). */
static void show_segment(struct live *l, const hs_segment *seg, int from, uint64_t ts, bool spoofed,
                         const char *note_text, const hs_obs_out *o, bool captured)
{
	hs_event ev;

	hs_observer_event(&l->ob, seg, from, o, &ev);
	ev.t_ns = since_start(l, ts);
	ev.spoofed = spoofed;
	ev.note_text = note_text;
	/* The datagram as captured, for the sinks (pcapng); else they encode seg. */
	if (captured && hs_capture_last_ip(l->cap, &ev.ip, &ev.ip_caplen, &ev.ip_len) < 0)
		ev.ip = NULL;
	emit(l, &ev);
	if (o)
		show_changes(l, o, ts, true);
}

static void drain(struct live *l);

/* Shows the lines of our segments sent up to sent[upto] (the capture's copy of it
 * came at ts_upto) that are still waiting; the older ones at the time their
 * sendto() returned. upto -1: those overdue at now (all if now is UINT64_MAX). */
static void show_sent(struct live *l, int upto, uint64_t ts_upto, uint64_t now)
{
	unsigned n = l->nsent < SENT_SLOTS ? l->nsent : SENT_SLOTS;
	unsigned first = l->nsent < SENT_SLOTS ? 0 : l->nsent % SENT_SLOTS;

	for (unsigned k = 0; k < n; k++) {
		unsigned i = (first + k) % SENT_SLOTS;
		struct sent *s = &l->sent[i];
		if (s->shown)
			continue;
		if (upto < 0 && now != UINT64_MAX && now < s->sent_ns + HS_ECHO_WAIT_NS)
			break;
		s->shown = true;
		show_segment(l, &s->seg, s->from, (int)i == upto ? ts_upto : s->sent_ns, true, s->purpose,
		             s->fed ? &s->effect : NULL, (int)i == upto);
		if ((int)i == upto)
			break;
	}
}

static void info(struct live *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void info(struct live *l, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* What has arrived comes first: the line says what was known when it was said. */
	drain(l);
	show_sent(l, -1, 0, UINT64_MAX);
	hs_event ev = { .type = HS_EV_INFO, .t_ns = since_start(l, hs_now_ns()), .text = text };
	emit(l, &ev);
}

/* What no segment shows, found by asking (side took the RST): the observer's state
 * for it, shown as a change. */
static void conclude(struct live *l, int side, hs_state to, const char *why)
{
	hs_obs_out o;

	hs_observer_conclude(&l->ob, side, to, why, &o);
	show_changes(l, &o, hs_now_ns(), false);
}

static int finish(struct live *l, const char *outcome, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int finish(struct live *l, const char *outcome, int code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!l->finishing && l->cap) {
		l->finishing = true; /* a capture error while draining ends here, not again */
		drain(l);
	}
	show_sent(l, -1, 0, UINT64_MAX);
	unsigned long drops = 0;
	char warn[160];
	if (l->cap && hs_capture_drops_text(l->cap, &drops, warn, sizeof(warn))) {
		hs_event w = { .type = HS_EV_INFO, .t_ns = since_start(l, hs_now_ns()), .text = warn };
		emit(l, &w);
	}
	hs_event ev = {
		.type = HS_EV_RESULT, .t_ns = since_start(l, hs_now_ns()), .text = text, .capture_drops = drops,
		.outcome = outcome, .exit_code = code,
		.local = &l->side[SIDE_A].ep, .remote = &l->side[SIDE_B].ep,
		.final_state = obs(l, SIDE_A)->state, .final_peer_state = obs(l, SIDE_B)->state,
		.peer_assumed = obs(l, SIDE_B)->assumed,
	};
	emit(l, &ev);
	if (l->cap)
		hs_capture_close(l->cap);
	if (l->snd)
		hs_sender_close(l->snd);
	l->cap = NULL;
	l->snd = NULL;
	return code;
}

static __attribute__((noreturn)) void interrupted(struct live *l)
{
	exit(finish(l, "interrupted", 128 + hs_stop_signal, "interrupted by %s", cli_signal_name(hs_stop_signal)));
}

static __attribute__((noreturn)) void failed(struct live *l, const char *what)
{
	exit(finish(l, "error", HS_EXIT_ENV, "%s", what));
}

/* ---- sending ----------------------------------------------------------------------- */

/* Send a segment to the other end as if from side `from`; its line waits for the
 * capture's copy. feed: the observer takes it as hs's segment in that end's name
 * (what it does to the receiver shows with the line); the others -- questions with
 * made-up numbers, RSTs whose effect the probes find out -- it never sees. */
static void send_as(struct live *l, int from, uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *data,
                    uint32_t len, const char *purpose, bool feed)
{
	const struct side *src = &l->side[from], *dst = &l->side[!from];
	hs_tx tx;
	hs_segment seg;
	char err[256];

	memset(&tx, 0, sizeof(tx));
	tx.flags = flags;
	tx.seq = seq;
	tx.ack = (flags & HS_ACK) ? ack : 0;
	tx.win = (flags & HS_RST) ? 0 : obs(l, from)->wnd;
	tx.data = data;
	tx.len = len;
	if (l->c->step) {
		char what[64], fl[32];
		snprintf(what, sizeof(what), "%s as %s->%s", hs_flags_format(flags, fl, sizeof(fl)), src->name, dst->name);
		hs_output_idle(&l->out); /* all shown before the question */
		hs_step_pause(what);
	}
	/* The slot about to be reused must have been shown. */
	if (l->nsent >= SENT_SLOTS && !l->sent[l->nsent % SENT_SLOTS].shown)
		show_sent(l, (int)(l->nsent % SENT_SLOTS), l->sent[l->nsent % SENT_SLOTS].sent_ns, 0);
	struct sent *s = &l->sent[l->nsent++ % SENT_SLOTS];
	*s = (struct sent){ .from = from, .seq = tx.seq, .ack = tx.ack, .flags = flags, .len = len };
	if (hs_sender_send(l->snd, &src->ep, &dst->ep, &tx, err, sizeof(err)) < 0) {
		char msg[400];
		snprintf(msg, sizeof(msg), "cannot send to %s: %s", dst->name, err);
		failed(l, msg);
	}
	if (l->c->pcap_out) {
		uint8_t ip[120];
		int n = hs_segment_encode_ip(&src->ep, &dst->ep, &tx, ip, sizeof(ip));
		if (n > 0)
			hs_capture_dump_ip(l->cap, ip, (size_t)n);
	}
	memset(&seg, 0, sizeof(seg));
	seg.src = src->ep;
	seg.dst = dst->ep;
	seg.seq = tx.seq;
	seg.ack = tx.ack;
	seg.flags = flags;
	seg.win = tx.win;
	seg.ttl = 64;
	seg.csum = hs_tx_checksum(&src->ep, &dst->ep, &tx);
	seg.csum_status = tx.ip.bad_csum ? HS_CSUM_BAD : HS_CSUM_OK; /* never crafted here */
	seg.payload = data;
	seg.len = len;
	s->seg = seg;
	s->purpose = purpose;
	s->sent_ns = hs_now_ns();
	/* Taken now, in the order it left: the answers it draws come after it. */
	if (feed) {
		s->fed = true;
		hs_observer_spoofed(&l->ob, &s->seg, &s->effect);
	}
}

/* One byte of data: answered at once, and not rate-limited like a bare ACK. */
static const uint8_t probe_byte[1] = { 0 };

/* Ask `to` for its numbers: a byte at a random sequence number (almost surely out of
 * its window), acknowledging a random one (so that, were the byte in the window, the
 * segment would still be dropped for its ACK). */
static void ask(struct live *l, int to)
{
	send_as(l, !to, HS_ACK, hs_random32(), hs_random32(), probe_byte, 1, "ask", false);
}

/* Probe `to` after our RST: a byte far below its window, answered with a duplicate
 * ACK (and a D-SACK block naming it) by an end that kept the connection, with RST by
 * one that did not. That RST's seq is the probe's ACK field: far below the other
 * end's window too, so that it cannot disturb it, and unlike any RST we send. */
static void probe(struct live *l, int to)
{
	struct side *t = &l->side[to];
	uint32_t seq = obs(l, !to)->snd_nxt - PROBE_BELOW;

	if (t->nprobe == MAX_PROBES)
		return;
	t->probe_seq[t->nprobe++] = seq;
	if (!t->asked_at)
		t->asked_at = hs_now_ns();
	send_as(l, !to, HS_ACK, seq, obs(l, to)->snd_nxt - PROBE_BELOW, probe_byte, 1, "probe", false);
}

/* Start a round of questions to a side. */
static void new_round(struct side *s)
{
	s->asked_at = 0;
	s->answered = false;
	s->alive = false;
	s->nprobe = 0;
}

/* ---- sniffing ---------------------------------------------------------------------- */

/* Each segment we send shows once on the way out, so a match is used up: an
 * identical segment later is not ours -- unless it comes within DUP_WINDOW_NS of the
 * first copy (the same datagram seen again on another interface of "any"). Its
 * line goes out now, at ts. */
static bool is_ours(struct live *l, int from, const hs_segment *seg, uint64_t ts)
{
	unsigned n = l->nsent < SENT_SLOTS ? l->nsent : SENT_SLOTS;

	for (unsigned i = 0; i < n; i++) {
		struct sent *s = &l->sent[i];
		bool same = s->from == from && s->seq == seg->seq && s->flags == seg->flags && s->len == seg->len &&
		            (!(s->flags & HS_ACK) || s->ack == seg->ack);
		if (same && s->used && ts >= s->echo_ns && ts - s->echo_ns < DUP_WINDOW_NS)
			return true;
		if (same && !s->used) {
			s->used = true;
			s->echo_ns = ts;
			if (!s->shown)
				show_sent(l, (int)i, ts, 0);
			return true;
		}
	}
	return false;
}

/* Does a SACK block of seg name one of our probes of x? */
static bool names_probe(const struct side *x, const hs_segment *seg)
{
	if (!(seg->opts.has & HS_HAS_SACK))
		return false;
	for (int i = 0; i < seg->opts.nsack && i < HS_OPT_MAXSACK; i++)
		for (int k = 0; k < x->nprobe; k++)
			if (seg->opts.sack[i].left == x->probe_seq[k])
				return true;
	return false;
}

/* What a segment from `from`, captured at ts, answers of our questions. */
static void answers(struct live *l, int from, const hs_segment *seg, uint64_t ts)
{
	struct side *x = &l->side[from], *y = &l->side[!from];

	/* What it sent before our question left cannot be its answer. */
	if (x->asked_at && ts >= x->asked_at)
		x->answered = true;
	if (seg->flags & HS_RST) {
		x->rst = true;
		return;
	}
	/* hs fin: B's ACK of the FIN we sent as A. */
	if ((seg->flags & HS_ACK) && y->fin_sent && !x->fin_acked && hs_seq_geq(seg->ack, y->fin_end))
		x->fin_acked = true;
	if (x->nprobe && names_probe(x, seg))
		x->alive = true;
}

/* When the oldest line of ours still waiting for its captured copy is overdue (0: none). */
static uint64_t held_deadline(const struct live *l)
{
	unsigned n = l->nsent < SENT_SLOTS ? l->nsent : SENT_SLOTS;
	uint64_t d = 0;

	for (unsigned i = 0; i < n; i++)
		if (!l->sent[i].shown && (!d || l->sent[i].sent_ns + HS_ECHO_WAIT_NS < d))
			d = l->sent[i].sent_ns + HS_ECHO_WAIT_NS;
	return d;
}

/* Wait until deadline (0: do not block) for the next segment of the connection that
 * is neither ours nor a copy; give it to the observer and show it. Returns its
 * sender, or -1 at the deadline. */
static int sniff(struct live *l, uint64_t deadline)
{
	hs_packet pkt;
	uint64_t ts;

	for (;;) {
		if (hs_stop_signal)
			interrupted(l);
		/* While a line of ours waits for its copy, wake when that is overdue. */
		uint64_t wake = deadline, held = held_deadline(l);
		if (held && deadline && held < deadline)
			wake = held;
		/* A view holding a row (the ladder) draws it after a quiet while. */
		uint64_t quiet = hs_output_holding(&l->out) ? hs_now_ns() + HS_OUTPUT_IDLE_NS : 0;
		if (quiet && wake && quiet < wake)
			wake = quiet;
		int rc = hs_capture_next(l->cap, wake, &pkt, &ts, l->err, sizeof(l->err));
		if (rc == -2)
			continue;
		if (rc < 0)
			failed(l, l->err);
		if (rc == 0) {
			if (quiet && hs_now_ns() >= quiet)
				hs_output_idle(&l->out);
			show_sent(l, -1, 0, hs_now_ns());
			if (wake != deadline && hs_now_ns() < deadline)
				continue;
			return -1;
		}
		if (pkt.kind == HS_PKT_ICMP) {
			hs_event ev = { .type = HS_EV_ICMP, .t_ns = since_start(l, ts), .icmp = &pkt.u.icmp };
			if (hs_capture_last_ip(l->cap, &ev.ip, &ev.ip_caplen, &ev.ip_len) < 0)
				ev.ip = NULL;
			emit(l, &ev);
			continue;
		}
		if (pkt.kind != HS_PKT_TCP)
			continue;
		const hs_segment *seg = &pkt.u.tcp;
		int from = hs_observer_sender(&l->ob, seg);
		if (from < 0 || is_ours(l, from, seg, ts))
			continue;
		/* What the end it is addressed to drops unseen teaches nothing about it. */
		if (seg->fragment || seg->csum_status == HS_CSUM_BAD) {
			show_segment(l, seg, from, ts, false, seg->fragment ? "fragment-ignored" : "bad-checksum-ignored",
			             NULL, true);
			continue;
		}
		hs_obs_out o;
		hs_observer_segment(&l->ob, seg, ts, &o);
		if (o.copy)
			continue;
		l->seen++;
		answers(l, from, seg, ts);
		show_segment(l, seg, from, ts, false, NULL, &o, true);
		return from;
	}
}

/* Take in what is already captured, without waiting: the newest numbers. */
static void drain(struct live *l)
{
	while (sniff(l, 0) >= 0)
		;
}

/* ---- learning the numbers ---------------------------------------------------------- */

static bool numbers_known(const struct live *l)
{
	return obs(l, SIDE_A)->nxt_known && obs(l, SIDE_B)->nxt_known;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Returns 0 once both numbers are known, or the exit status (result shown). */
static int learn_numbers(struct live *l)
{
	struct side *a = &l->side[SIDE_A], *b = &l->side[SIDE_B];
	uint64_t timeout = l->c->timeout_ns;
	uint64_t start = hs_now_ns(), deadline = start + timeout;
	uint64_t next_ask = start + min_u64(timeout / 2, PASSIVE_MAX_NS);
	int asked = 0;

	while (!numbers_known(l)) {
		uint64_t now = hs_now_ns();
		if (now >= deadline)
			break;
		if (asked && a->rst && b->rst)
			break;
		if (now >= next_ask) {
			if (!asked)
				info(l, l->seen ? "not enough seen yet: asking both ends for their numbers"
				                : "nothing seen yet: asking both ends for their numbers");
			a->rst = b->rst = false;
			ask(l, SIDE_B);
			ask(l, SIDE_A);
			next_ask = now + (ASK_AGAIN_NS << (asked < 5 ? asked : 5));
			asked++;
			continue;
		}
		sniff(l, min_u64(deadline, next_ask));
	}
	if (numbers_known(l)) {
		info(l, "learned from %s: %s's next seq %u (%s's RCV.NXT), %s's next seq %u (%s's RCV.NXT)",
		     asked ? "the answers" : "the traffic", a->name, obs(l, SIDE_A)->snd_nxt, b->name, b->name,
		     obs(l, SIDE_B)->snd_nxt, a->name);
		return 0;
	}

	char ea[HS_ENDPOINT_STRLEN], eb[HS_ENDPOINT_STRLEN], secs[32];
	hs_endpoint_format(&a->ep, ea, sizeof(ea));
	hs_endpoint_format(&b->ep, eb, sizeof(eb));
	snprintf(secs, sizeof(secs), "%.3g", (double)timeout / HS_NS_PER_SEC);
	if (a->rst && b->rst)
		return finish(l, "timeout", HS_EXIT_TIMEOUT,
		              "no connection %s <-> %s: both ends answer RST to our questions, and nothing of it "
		              "passed", ea, eb);
	if (a->rst || b->rst)
		return finish(l, "timeout", HS_EXIT_TIMEOUT,
		              "no connection %s <-> %s: %s answers RST to our questions, %s nothing, and nothing of "
		              "it passed within %s s", ea, eb, a->rst ? "A" : "B", a->rst ? "B" : "A", secs);
	return finish(l, "timeout", HS_EXIT_TIMEOUT,
	              "no segment of %s <-> %s seen within %s s, and neither end answered (does its traffic "
	              "pass through this host? try -i or a longer --timeout)", ea, eb, secs);
}

/* ---- rst --------------------------------------------------------------------------- */

static bool decided(const struct side *s)
{
	return s->rst || s->alive;
}

/* Took it: answers RST, or nothing at all (an end that kept the connection answers a
 * probe at once). */
static bool took(const struct side *s)
{
	return s->rst || !s->answered;
}

/* How many RSTs to send to the receiver of `from`'s data: one at its RCV.NXT, and,
 * from the second round on while `from` is sending, more at the RCV.NXT its segments
 * still in flight will make (spaced by the last segment's length): with data arriving
 * every few microseconds, one exact RST often finds RCV.NXT moved on. Those that miss
 * draw at most a (rate-limited) challenge ACK. */
static int burst(const struct live *l, int from, int round)
{
	const hs_obs_side *x = obs(l, from);

	if (round == 1 || !x->last_len || hs_now_ns() - x->last_data_ns > BUSY_NS)
		return 1;
	int n = 2 << (round - 1);
	return n < MAX_BURST ? n : MAX_BURST;
}

/* After the RSTs: probe each end until it has answered, or the deadline. A probe can
 * go unanswered even by an end that took the RST (it lands in the socket's backlog
 * behind the RST, and the closed socket drops it), so it is repeated. */
static void await_verdicts(struct live *l, const bool tried[2], uint64_t deadline)
{
	uint64_t every = l->c->timeout_ns / MAX_PROBES;
	uint64_t next = 0;

	if (every < 10 * HS_NS_PER_MS)
		every = 10 * HS_NS_PER_MS;
	for (;;) {
		bool all = true;
		for (int i = SIDE_B; i >= SIDE_A; i--)
			all = all && (!tried[i] || decided(&l->side[i]));
		uint64_t now = hs_now_ns();
		if (all || now >= deadline)
			return;
		if (now >= next) {
			for (int i = SIDE_B; i >= SIDE_A; i--)
				if (tried[i] && !decided(&l->side[i]))
					probe(l, i);
			next = now + every;
		}
		sniff(l, min_u64(next, deadline));
	}
}

/* Say what the probes found; an end that took the RST is CLOSED (the RST it answered
 * with showed that already; silence shows nothing, so it is concluded). */
static void report(struct live *l, int i)
{
	struct side *s = &l->side[i];

	if (s->rst)
		info(l, "%s took the RST: it answers RST (no connection left)", s->name);
	else if (s->answered)
		info(l, "%s did not take the RST: it still answers with ACKs, expecting seq %u", s->name,
		     obs(l, !i)->snd_nxt);
	else
		info(l, "%s does not answer our probes: taking the RST as accepted", s->name);
	if (took(s))
		conclude(l, i, HS_CLOSED, s->rst ? "took the RST" : "took the RST (no answer to our probes)");
}

static int do_rst(struct live *l)
{
	struct side *a = &l->side[SIDE_A], *b = &l->side[SIDE_B];
	uint8_t flags = l->c->ack ? (HS_RST | HS_ACK) : HS_RST;
	bool tried[2];

	a->rst = b->rst = false; /* those were answers to our questions, not to RSTs */
	for (int round = 1; round <= l->count; round++) {
		drain(l);
		/* To each end as the other: the RST's seq is the receiver's RCV.NXT, which is
		 * the sender's next seq. */
		for (int i = SIDE_B; i >= SIDE_A; i--) {
			struct side *to = &l->side[i];
			const hs_obs_side *from = obs(l, !i);
			tried[i] = !to->rst;
			if (!tried[i])
				continue;
			new_round(to);
			int n = burst(l, !i, round);
			for (int k = 0; k < n; k++)
				send_as(l, !i, flags, from->snd_nxt + (uint32_t)k * from->last_len, obs(l, i)->snd_nxt, NULL,
				        0, n > 1 ? "burst" : NULL, false);
		}
		await_verdicts(l, tried, hs_now_ns() + l->c->timeout_ns);
		for (int i = SIDE_B; i >= SIDE_A; i--)
			if (tried[i])
				report(l, i);
		if (took(a) && took(b))
			return finish(l, "reset", HS_EXIT_OK, "%s", a->rst && b->rst ? "both ends took the RST"
			              : "both ends took the RST (one does not answer our probes)");
		if (round < l->count)
			info(l, "again with the newest numbers (round %d of %d)", round + 1, l->count);
	}
	const char *who = !took(a) && !took(b) ? "neither end" : !took(a) ? "A" : "B";
	return finish(l, "rejected", HS_EXIT_PEER,
	              "%s took the RST in %d rounds: it still answers with ACKs (the connection moves faster "
	              "than we learn its numbers; try a larger --count)", who, l->count);
}

/* ---- fin --------------------------------------------------------------------------- */

static int do_fin(struct live *l)
{
	struct side *a = &l->side[SIDE_A], *b = &l->side[SIDE_B];
	double secs = (double)l->c->timeout_ns / HS_NS_PER_SEC;

	a->rst = b->rst = false;
	for (int round = 1; round <= l->count && !b->fin_acked; round++) {
		if (round > 1) {
			info(l, "B did not acknowledge the FIN; again with the newest numbers (round %d of %d)", round,
			     l->count);
			/* Its answers showed it never took the last one. */
			if (obs(l, SIDE_B)->state == HS_CLOSE_WAIT && obs(l, SIDE_B)->assumed)
				conclude(l, SIDE_B, HS_ESTABLISHED, "did not take the FIN");
		}
		drain(l);
		if (b->fin_acked)
			break;
		a->fin_sent = true;
		a->fin_end = obs(l, SIDE_A)->snd_nxt + 1;
		new_round(b);
		b->asked_at = hs_now_ns();
		send_as(l, SIDE_A, HS_FIN | HS_ACK, obs(l, SIDE_A)->snd_nxt, obs(l, SIDE_B)->snd_nxt, NULL, 0, NULL, true);
		uint64_t deadline = hs_now_ns() + l->c->timeout_ns;
		while (!b->fin_acked && !b->rst && sniff(l, deadline) >= 0)
			;
		if (b->rst)
			return finish(l, "reset", HS_EXIT_PEER, "B answered our FIN with RST");
		if (!b->fin_acked && !b->answered)
			return finish(l, "timeout", HS_EXIT_TIMEOUT, "B did not answer our FIN within %.3g s", secs);
	}
	if (!b->fin_acked)
		return finish(l, "rejected", HS_EXIT_PEER,
		              "B did not acknowledge our FIN in %d rounds: it answers with other ACKs", l->count);
	info(l, "B acknowledged the FIN: it is in CLOSE-WAIT (A does not know)");

	/* B's application may close in turn: acknowledge its FIN as A, or B would
	 * retransmit it to an A that cannot take it. */
	uint64_t deadline = hs_now_ns() + l->c->timeout_ns;
	while (!obs(l, SIDE_B)->fin_sent && !b->rst && sniff(l, deadline) >= 0)
		;
	if (obs(l, SIDE_B)->fin_sent) {
		send_as(l, SIDE_A, HS_ACK, a->fin_end, obs(l, SIDE_B)->fin_seq + 1, NULL, 0, NULL, true);
		return finish(l, "closed", HS_EXIT_OK,
		              "B acknowledged our FIN and closed its side too; we acknowledged its FIN as A");
	}
	return finish(l, "half-closed", HS_EXIT_OK,
	              "B acknowledged our FIN and stays in CLOSE-WAIT; A still has the connection");
}

/* ---- the command ------------------------------------------------------------------- */

static void check_options(const struct cli *c, bool fin)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ O_SPORT, "--sport" }, { O_ISN, "--isn" }, { O_WINDOW, "--window" }, { O_OPT, "--opt" },
		{ O_SEND, "--send" }, { O_CLOSE, "--close" }, { O_RETRIES, "--retries" },
		{ O_NOGUARD, "--no-guard" }, { O_TIMEWAIT, "--time-wait" }, { O_ACK, "--ack" }, { O_WAIT, "--wait" },
	};
	unsigned ok = O_TIMEOUT | O_COUNT | O_STEP | O_HEX | (fin ? 0 : O_ACK);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (c->given & ~ok & names[i].bit)
			die(HS_EXIT_USAGE, "option %s does not apply to hs %s A:PORT B:PORT", names[i].name,
			    fin ? "fin" : "rst");
}

static void parse_pair(const struct cli *c, hs_endpoint *a, hs_endpoint *b)
{
	if (c->nargs != 2)
		die(HS_EXIT_USAGE, "a live connection is named by two endpoints: A:PORT B:PORT");
	for (int i = 0; i < 2; i++)
		if (hs_endpoint_parse(c->args[i], i ? b : a) < 0)
			die(HS_EXIT_USAGE, "bad endpoint \"%s\": use ADDR:PORT or [IPv6]:PORT", c->args[i]);
	if (a->addr.family != b->addr.family)
		die(HS_EXIT_USAGE, "%s and %s are of different address families", c->args[0], c->args[1]);
	if (hs_endpoint_equal(a, b))
		die(HS_EXIT_USAGE, "A and B are the same endpoint (%s)", c->args[0]);
}

static void open_io(struct live *l)
{
	const char *iface = l->c->iface ? l->c->iface : "any";
	bool eperm = false, nodev = false;
	char filter[1024];

	cli_check_iface(l->c);
	if (hs_capture_open(&l->cap, iface, &eperm, &nodev, l->err, sizeof(l->err)) < 0)
		die(HS_EXIT_ENV, "%s", l->err);
	if (hs_bpf_conn(&l->side[SIDE_A].ep, &l->side[SIDE_B].ep, filter, sizeof(filter)) < 0)
		die(HS_EXIT_ENV, "internal error: capture filter too long");
	if (hs_capture_filter(l->cap, filter, l->err, sizeof(l->err)) < 0)
		die(HS_EXIT_ENV, "%s", l->err);
	if (l->c->pcap_out && hs_capture_dump_open(l->cap, l->c->pcap_out, l->err, sizeof(l->err)) < 0)
		die(HS_EXIT_ENV, "%s", l->err);
	/* Not bound to -i: the segments to A and those to B may leave by different
	 * interfaces, and the kernel's routes know which. */
	if (hs_sender_open(&l->snd, l->side[SIDE_A].ep.addr.family, NULL, &eperm, l->err, sizeof(l->err)) < 0)
		die(HS_EXIT_ENV, "%s", l->err);
	/* A and B sign with a TCP-MD5 key: what is injected must be signed with it to be taken. */
	hs_sender_set_md5(l->snd, &l->c->md5);
	/* Sockets open, no guard to remove: no capability is needed any more. */
	hs_drop_privileges(false, l->err, sizeof(l->err));
}

int cmd_live(struct cli *c, bool fin)
{
	struct live l;
	char ea[HS_ENDPOINT_STRLEN], eb[HS_ENDPOINT_STRLEN];
	uint64_t wall;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.t0 = hs_now_ns();
	wall = hs_wall_ns();
	l.count = (c->given & O_COUNT) ? c->count : DEFAULT_COUNT;
	if (l.count < 1)
		l.count = 1;
	l.side[SIDE_A].name = "A";
	l.side[SIDE_B].name = "B";
	check_options(c, fin);
	parse_pair(c, &l.side[SIDE_A].ep, &l.side[SIDE_B].ep);
	cli_enter_netns(c);
	cli_output_init(c, &l.out);
	/* Relative numbers need the ISNs, which a live connection never shows. */
	l.out.absolute = true;
	cli_install_signals();
	open_io(&l);
	hs_observer_init(&l.ob, &l.side[SIDE_A].ep, &l.side[SIDE_B].ep);

	hs_event open = {
		.type = HS_EV_OPEN, .observed = true, .local = &l.side[SIDE_A].ep, .remote = &l.side[SIDE_B].ep,
		.local_name = "A", .remote_name = "B",
		.wall_t0_ns = wall,
	};
	emit(&l, &open);
	info(&l, "A = %s, B = %s: watching on %s", hs_endpoint_format(&l.side[SIDE_A].ep, ea, sizeof(ea)),
	     hs_endpoint_format(&l.side[SIDE_B].ep, eb, sizeof(eb)), c->iface ? c->iface : "any");
	int rc = learn_numbers(&l);
	if (rc != 0)
		return rc;
	return fin ? do_fin(&l) : do_rst(&l);
}
