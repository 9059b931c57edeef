/* The pcapng sink (-w FILE.pcapng, --pcapng): every packet of the run, each with a
 * comment (frame.comment in tshark) saying what it did to each side's state and
 * its note:
 *
 *   CLOSED → SYN-SENT; peer CLOSED                              (hs connect: SYN)
 *   SYN-SENT → ESTABLISHED; peer CLOSED → LISTEN → SYN-RECEIVED (its SYN,ACK)
 *   ESTABLISHED; peer SYN-RECEIVED → ESTABLISHED (assumed)      (our ACK)
 *   ESTABLISHED; peer ESTABLISHED [retransmission]
 *   LISTEN → SYN-RECEIVED; peer CLOSED → SYN-SENT               (hs listen: SYN)
 *   A SYN-SENT → ESTABLISHED; B SYN-RECEIVED                    (observed)
 *   ICMP communication administratively prohibited; SYN-SENT → CLOSED
 *
 * Per side (ours, then the peer's; A's, then B's): the changes the packet caused,
 * chained ("FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT"; a correction reads "still X, not
 * Y"), or the state it left unchanged; "(assumed)" where the peer's state rests on
 * a segment of ours not known to have arrived. Then the note in brackets, as the
 * lines show it. Arrows are UTF-8 whatever the locale: pcapng comments are UTF-8.
 *
 * Which changes a packet caused is the events' word (the same the lines and JSON
 * views use): HS_EV_STATE with by_segment follows its segment, at once; with
 * by_call it precedes the segment of ours that the call sent. So a packet is
 * written when any other event comes (the next packet, a call's change, a line of
 * commentary, the result) or at close, its comment complete: while hs waits with
 * nothing to say, the last packet waits in memory.
 *
 * Bytes: the datagram the event carries (captured, or encoded for sending); a
 * segment without them is encoded from its hs_segment (hs_segment_encode_ip), so
 * no packet is missing. ICMP errors are written when their event carries the
 * datagram (hs's own sessions do). Times: HS_EV_OPEN's wall_t0_ns + t_ns.
 *
 * Nothing left behind: the writer opens the path at once (a path that cannot be
 * written is refused before the run sends anything) but writes nothing until the
 * run has told something; a run that ends before (bad input found after the
 * options, a die() that exits without closing the output) leaves no new file and
 * an existing one as it was. The process's exit closes a sink still open (an
 * atexit handler), so that a run ended by die() keeps its last packet. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "hs/clock.h"
#include "hs/output.h"
#include "hs/pcapng.h"
#include "hs/render.h"
#include "hs/sbuf.h"
#include "hs/sender.h"
#include "hs/state.h"

#define ARROW "\u2192"
#define MAXCHANGE 16
#define COMMENT_MAX 1024
#define ENCODE_MAX (60 + 60 + 65536) /* IP header, TCP header with options, payload */

/* The packet waiting for the changes it causes. */
struct held {
	bool on;
	bool icmp;
	uint64_t t_ns;
	uint8_t *ip;            /* a copy, cap bytes allocated */
	size_t caplen, len, cap;
	hs_state state, peer_state; /* after it (segments) */
	bool peer_assumed;
	hs_change change[MAXCHANGE];
	int nchange;
	char note[96];          /* "[retransmission]" ... */
	char icmp_text[96];     /* "ICMP port unreachable" */
};

struct sink {
	hs_pcapng *w;
	bool begun;             /* the run has told something: the file is written */
	bool have_t0;
	uint64_t wall_t0;
	bool observed;
	char names[2][16];
	struct held pkt;
	hs_change call[MAXCHANGE]; /* by_call changes, for our next segment */
	int ncall;
	hs_output *out;
	int err;
};

/* The sink still open at exit (one per process: -w names one file). */
static struct sink *open_sink;
static bool atexit_done;

static void fail(struct sink *k, int e)
{
	if (!e || k->err)
		return;
	k->err = e;
	if (k->out && !k->out->sink_errno) { /* the run sees it and ends (HS_RUN_WRITE) */
		k->out->sink_errno = e;
		k->out->sink_name = "pcapng";
	}
}

/* One side's part of the comment: its changes chained, or its state as it stays. */
static void side_text(hs_sbuf *b, const struct held *p, bool peer, const char *prefix)
{
	const hs_change *prev = NULL;
	bool assumed = false;

	hs_sb_printf(b, "%s", prefix);
	for (int i = 0; i < p->nchange; i++) {
		const hs_change *c = &p->change[i];
		if (c->peer != peer)
			continue;
		assumed |= c->assumed;
		if (c->correction) {
			hs_sb_printf(b, "%sstill %s, not %s", prev ? ", " : "", hs_state_name(c->to), hs_state_name(c->from));
		} else if (prev && !prev->correction && prev->to == c->from) {
			hs_sb_printf(b, " " ARROW " %s", hs_state_name(c->to));
		} else {
			hs_sb_printf(b, "%s%s " ARROW " %s", prev ? ", " : "", hs_state_name(c->from), hs_state_name(c->to));
		}
		prev = c;
	}
	if (!prev) {
		hs_sb_printf(b, "%s", hs_state_name(peer ? p->peer_state : p->state));
		assumed = peer && p->peer_assumed;
	}
	/* Our own side is never assumed (the TCB knows it); either side of an observed
	 * connection may be, as the lines say. */
	if (assumed)
		hs_sb_printf(b, " (assumed)");
}

static void comment_of(const struct sink *k, const struct held *p, char *buf, size_t len)
{
	hs_sbuf b = { .p = buf, .len = len };
	char pre0[24], pre1[24];

	buf[0] = '\0';
	snprintf(pre0, sizeof(pre0), "%s%s", k->observed ? k->names[0] : "", k->observed ? " " : "");
	snprintf(pre1, sizeof(pre1), "%s ", k->observed ? k->names[1] : "peer");
	if (p->icmp) {
		/* Not a segment: its words, then what it changed (if anything). */
		hs_sb_printf(&b, "%s", p->icmp_text);
		bool own = false, peer = false;
		for (int i = 0; i < p->nchange; i++) {
			peer |= p->change[i].peer;
			own |= !p->change[i].peer;
		}
		if (own) {
			hs_sb_printf(&b, "; ");
			side_text(&b, p, false, pre0);
		}
		if (peer) {
			hs_sb_printf(&b, "; ");
			side_text(&b, p, true, pre1);
		}
	} else {
		side_text(&b, p, false, pre0);
		hs_sb_printf(&b, "; ");
		side_text(&b, p, true, pre1);
	}
	if (p->note[0])
		hs_sb_printf(&b, " %s", p->note);
}

static void write_held(struct sink *k)
{
	char comment[COMMENT_MAX];
	struct held *p = &k->pkt;

	if (!p->on)
		return;
	p->on = false;
	if (k->err)
		return;
	comment_of(k, p, comment, sizeof(comment));
	fail(k, hs_pcapng_write(k->w, k->wall_t0 + p->t_ns, p->ip, p->caplen, p->len, comment));
}

static bool hold_bytes(struct held *p, const uint8_t *ip, size_t caplen, size_t len)
{
	if (caplen > p->cap) {
		uint8_t *n = realloc(p->ip, caplen);
		if (!n)
			return false;
		p->ip = n;
		p->cap = caplen;
	}
	memcpy(p->ip, ip, caplen);
	p->caplen = caplen;
	p->len = len;
	return true;
}

/* A segment that came without its datagram: encoded from what the event says (the
 * IP ID, TOS and DF it had are not known: 0, 0, off). */
static bool encode_segment(struct held *p, const hs_segment *s)
{
	hs_tx tx;

	if (p->cap < ENCODE_MAX) {
		uint8_t *n = realloc(p->ip, ENCODE_MAX);
		if (!n)
			return false;
		p->ip = n;
		p->cap = ENCODE_MAX;
	}
	memset(&tx, 0, sizeof(tx));
	tx.flags = s->flags;
	tx.seq = s->seq;
	tx.ack = s->ack;
	tx.win = s->win;
	tx.urp = s->urp;
	tx.opt_len = s->opts.raw_len;
	memcpy(tx.opts, s->opts.raw, s->opts.raw_len);
	tx.data = s->payload;
	tx.len = s->payload ? (uint32_t)s->len : 0;
	tx.ip.set_ttl = true;
	tx.ip.ttl = s->ttl ? s->ttl : 64;
	tx.ip.set_ip_id = s->has_ip_id;
	tx.ip.ip_id = s->ip_id;
	tx.ip.bad_csum = s->csum_status == HS_CSUM_BAD;
	int n = hs_segment_encode_ip(&s->src, &s->dst, &tx, p->ip, p->cap);
	if (n <= 0)
		return false;
	p->caplen = p->len = (size_t)n;
	return true;
}

static void note_text(const hs_event *ev, const struct sink *k, char *buf, size_t len)
{
	const char *note = ev->note_text && ev->note_text[0] ? ev->note_text
	                   : ev->note != HS_NOTE_NONE ? hs_note_name(ev->note) : NULL;
	hs_sbuf b = { .p = buf, .len = len };

	buf[0] = '\0';
	if (note)
		hs_sb_printf(&b, "[%s]", note);
	if (ev->spoofed)
		hs_sb_printf(&b, "%s[sent by hs as %s]", note ? " " : "", k->names[ev->dir == HS_DIR_OUT ? 0 : 1]);
	if (ev->lost) /* two captures: it left, and never came where it was going */
		hs_sb_printf(&b, "%s[lost]", note || ev->spoofed ? " " : "");
	if (ev->script_line) /* hs script: the line that sent or matched it */
		hs_sb_printf(&b, "%s[script line %u]", b.pos ? " " : "", ev->script_line);
}

static void take_segment(struct sink *k, const hs_event *ev)
{
	struct held *p = &k->pkt;

	write_held(k);
	bool ok = ev->ip && ev->ip_caplen ? hold_bytes(p, ev->ip, ev->ip_caplen, ev->ip_len ? ev->ip_len : ev->ip_caplen)
	                                  : encode_segment(p, ev->seg);
	if (!ok)
		return; /* nothing to write (out of memory, or a segment no IP can carry) */
	p->on = true;
	p->icmp = false;
	p->t_ns = ev->t_ns;
	p->state = ev->state;
	p->peer_state = ev->peer_state;
	p->peer_assumed = ev->peer_assumed;
	p->nchange = 0;
	note_text(ev, k, p->note, sizeof(p->note));
	/* What the call that sent it changed, said just before it. */
	if (ev->dir == HS_DIR_OUT && !k->observed) {
		for (int i = 0; i < k->ncall; i++)
			p->change[p->nchange++] = k->call[i];
		k->ncall = 0;
	}
}

static void take_icmp(struct sink *k, const hs_event *ev)
{
	struct held *p = &k->pkt;

	write_held(k);
	if (!ev->ip || !ev->ip_caplen || !hold_bytes(p, ev->ip, ev->ip_caplen, ev->ip_len ? ev->ip_len : ev->ip_caplen))
		return;
	p->on = true;
	p->icmp = true;
	p->t_ns = ev->t_ns;
	p->nchange = 0;
	p->note[0] = '\0';
	snprintf(p->icmp_text, sizeof(p->icmp_text), "%s %s", ev->icmp && ev->icmp->family == AF_INET6 ? "ICMPv6" : "ICMP",
	         ev->icmp ? hs_icmp_text(ev->icmp) : "error");
}

static void take_state(struct sink *k, const hs_event *ev)
{
	struct held *p = &k->pkt;

	/* An ICMP error's changes come right after it with neither mark (the TCB's
	 * input was no segment). */
	if (p->on && (ev->by_segment || (p->icmp && !ev->by_call))) {
		if (p->nchange < MAXCHANGE)
			p->change[p->nchange++] = ev->change;
		return;
	}
	/* The held packet's own changes come right after it: it is complete now. */
	write_held(k);
	if (ev->by_call && k->ncall < MAXCHANGE)
		k->call[k->ncall++] = ev->change;
	/* else a timer's change (2MSL): no packet did it */
}

static void sink_emit(hs_output *o, void *self, const hs_event *ev)
{
	struct sink *k = self;

	if (!k)
		return;
	k->out = o;
	if (ev->type != HS_EV_RESULT)
		k->begun = true;
	if (!k->have_t0) {
		/* Without an HS_EV_OPEN first, t_ns counts from now - t_ns. */
		uint64_t now = hs_wall_ns();
		k->wall_t0 = ev->type == HS_EV_OPEN && ev->wall_t0_ns ? ev->wall_t0_ns
		             : now > ev->t_ns ? now - ev->t_ns : 0;
		k->have_t0 = true;
	}
	switch (ev->type) {
	case HS_EV_OPEN:
		write_held(k);
		k->ncall = 0;
		k->observed = ev->observed;
		snprintf(k->names[0], sizeof(k->names[0]), "%s", ev->local_name ? ev->local_name : ev->observed ? "A" : "us");
		snprintf(k->names[1], sizeof(k->names[1]), "%s", ev->remote_name ? ev->remote_name : ev->observed ? "B" : "peer");
		if (ev->wall_t0_ns)
			k->wall_t0 = ev->wall_t0_ns;
		break;
	case HS_EV_SEGMENT:
		if (ev->seg)
			take_segment(k, ev);
		break;
	case HS_EV_STATE:
		take_state(k, ev);
		break;
	case HS_EV_ICMP:
		take_icmp(k, ev);
		break;
	case HS_EV_END:
	case HS_EV_RESULT:
		write_held(k);
		k->ncall = 0;
		break;
	case HS_EV_INFO:
	case HS_EV_CONN:
		write_held(k); /* its changes came right after it: it is complete */
		break;
	}
}

static int finish(struct sink *k)
{
	int e;

	if (k->begun) {
		write_held(k);
		e = hs_pcapng_close(k->w);
	} else {
		e = hs_pcapng_discard(k->w);
	}
	free(k->pkt.ip);
	if (open_sink == k)
		open_sink = NULL;
	int first = k->err ? k->err : e;
	free(k);
	return first;
}

/* exit() without hs_output_close (die()): the held packet is written and the file
 * closed, or a file the run never wrote to removed. */
static void close_at_exit(void)
{
	if (open_sink) {
		open_sink->out = NULL; /* the driver's hs_output may be gone */
		finish(open_sink);
	}
}

static int sink_open(hs_output *o, void **self, char *err, size_t errlen)
{
	struct sink *k = calloc(1, sizeof(*k));
	const char *path = o->pcapng_path ? o->pcapng_path : "-";

	*self = NULL;
	if (!k) {
		snprintf(err, errlen, "cannot write %s: out of memory", path);
		return -1;
	}
	if (hs_pcapng_open(&k->w, path, err, errlen) < 0) {
		free(k);
		return -1;
	}
	k->out = o;
	snprintf(k->names[0], sizeof(k->names[0]), "us");
	snprintf(k->names[1], sizeof(k->names[1]), "peer");
	if (!atexit_done)
		atexit_done = atexit(close_at_exit) == 0;
	if (!open_sink)
		open_sink = k;
	*self = k;
	return 0;
}

static int sink_close(hs_output *o, void *self)
{
	(void)o;
	return self ? finish(self) : 0;
}

/* A packet waits for the changes that follow it; they come at once, so after a quiet
 * while (hs_output_idle) it is complete: on disk then, not only at the next event. */
static bool sink_holding(hs_output *o, void *self)
{
	struct sink *k = self;

	(void)o;
	return k && k->pkt.on;
}

static void sink_idle(hs_output *o, void *self)
{
	(void)o;
	if (self)
		write_held(self);
}

const hs_render_ops hs_render_pcapng = {
	.name = "pcapng", .open = sink_open, .emit = sink_emit, .holding = sink_holding, .idle = sink_idle,
	.close = sink_close,
};
