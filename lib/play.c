/* Playing a scenario script: timing, building "<" lines, matching ">" lines
 * (include/hs/play.h). No I/O. */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hs/craft.h"
#include "hs/notation.h"
#include "hs/opts.h"
#include "hs/play.h"
#include "hs/seq.h"

#define NS_PER_MS 1000000ull

/* LEN zero bytes for "<" lines with a payload: never written, shared by every tx. */
static const uint8_t zeros[HS_CRAFT_MAX_PAYLOAD];

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static const hs_scr_line *cur_line(const hs_play *p)
{
	return p->cur < p->s->n ? &p->s->line[p->cur] : NULL;
}

static void fail(hs_play *p, int why, uint64_t t, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fail(hs_play *p, int why, uint64_t t, const char *fmt, ...)
{
	va_list ap;

	p->fail = why;
	p->fail_line = p->cur;
	p->fail_t_ns = t;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

void hs_sack_shift(uint8_t *o, size_t n, uint32_t delta)
{
	size_t i = 0;

	while (i < n) {
		if (o[i] == HS_OPTK_EOL)
			return;
		if (o[i] == HS_OPTK_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return;
		if (o[i] == HS_OPTK_SACK)
			for (size_t b = i + 2; b + 4 <= i + o[i + 1]; b += 4) {
				uint32_t v = ((uint32_t)o[b] << 24 | (uint32_t)o[b + 1] << 16 | (uint32_t)o[b + 2] << 8 |
				              o[b + 3]) + delta;
				o[b] = (uint8_t)(v >> 24);
				o[b + 1] = (uint8_t)(v >> 16);
				o[b + 2] = (uint8_t)(v >> 8);
				o[b + 3] = (uint8_t)v;
			}
		i += o[i + 1];
	}
}

void hs_play_init(hs_play *p, const hs_script *s, uint32_t our_isn, uint32_t ts_base, uint64_t any_wait_ns)
{
	memset(p, 0, sizeof(*p));
	p->s = s;
	p->our_isn = our_isn;
	p->snd_nxt = our_isn;
	p->ts_base = ts_base;
	p->any_wait_ns = any_wait_ns ? any_wait_ns : HS_PLAY_ANY_WAIT_NS;
}

/* The window [*lo, *hi] a line's time allows (for "<" and command lines, *lo is
 * when it is due). */
static void window(const hs_play *p, const hs_scr_line *l, uint64_t *lo, uint64_t *hi)
{
	const hs_scr_time *t = &l->time;
	uint64_t base = t->kind == HS_SCR_T_REL || (t->kind == HS_SCR_T_RANGE && t->rel) ? p->prev_ns : 0;

	switch (t->kind) {
	case HS_SCR_T_ANY:
		*lo = 0;
		*hi = p->prev_ns + p->any_wait_ns;
		return;
	case HS_SCR_T_RANGE:
		*lo = sub_sat(base + t->t_ns, t->tol_ns);
		*hi = base + t->t2_ns + t->tol_ns;
		return;
	default:
		*lo = sub_sat(base + t->t_ns, t->tol_ns);
		*hi = base + t->t_ns + t->tol_ns;
		return;
	}
}

/* When a "<" or command line is due. */
static uint64_t due(const hs_play *p, const hs_scr_line *l)
{
	const hs_scr_time *t = &l->time;
	uint64_t base = t->kind == HS_SCR_T_REL || (t->kind == HS_SCR_T_RANGE && t->rel) ? p->prev_ns : 0;
	return t->kind == HS_SCR_T_ANY ? p->prev_ns : base + t->t_ns;
}

enum hs_play_do hs_play_next(hs_play *p, uint64_t now, uint64_t *at)
{
	const hs_scr_line *l = cur_line(p);
	uint64_t lo, hi;

	*at = now;
	if (p->fail)
		return HS_PLAY_FAILED;
	if (!l)
		return HS_PLAY_DONE;
	if (l->kind == HS_SCR_EXPECT) {
		window(p, l, &lo, &hi);
		uint64_t deadline = l->time.kind == HS_SCR_T_ANY ? hi : hi + HS_PLAY_LATE_GRACE_NS;
		*at = deadline;
		if (now > deadline) {
			if (deadline == hi)
				fail(p, HS_PLAY_F_MISSING, now, "no segment from the peer by %" PRIu64 ".%06" PRIu64 " s",
				     hi / 1000000000u, hi % 1000000000u / 1000u);
			else
				fail(p, HS_PLAY_F_MISSING, now, "no segment from the peer by %" PRIu64 ".%06" PRIu64
				     " s (nor in the %u s after)", hi / 1000000000u, hi % 1000000000u / 1000u,
				     (unsigned)(HS_PLAY_LATE_GRACE_NS / 1000000000u));
			return HS_PLAY_FAILED;
		}
		return HS_PLAY_WAIT;
	}
	*at = due(p, l);
	if (now < *at)
		return HS_PLAY_SLEEP;
	return l->kind == HS_SCR_SEND ? HS_PLAY_SEND : HS_PLAY_SHELL;
}

int hs_play_build(hs_play *p, uint64_t now, hs_tx *tx)
{
	const hs_scr_line *l = cur_line(p);
	const char *e = NULL;

	memset(tx, 0, sizeof(*tx));
	if (!l || l->kind != HS_SCR_SEND) {
		fail(p, HS_PLAY_F_BUILD, now, "no segment to send here");
		return -1;
	}
	const hs_seg_spec *sp = &l->spec;
	tx->flags = sp->have_flags ? sp->flags : HS_ACK;
	tx->seq = sp->seq.how == HS_NUM_UNSET ? p->snd_nxt : sp->seq.how == HS_NUM_ABS ? sp->seq.v : p->our_isn + sp->seq.v;
	if (sp->ack.how == HS_NUM_ABS) {
		tx->ack = sp->ack.v;
	} else if (sp->ack.how == HS_NUM_REL) {
		if (!p->peer_isn_known) {
			fail(p, HS_PLAY_F_BUILD, now,
			     "ack %" PRIu32 " is relative to the peer's ISN, which no SYN from the peer has shown yet "
			     "(write ack =N for a number as it goes on the wire)", sp->ack.v);
			return -1;
		}
		tx->ack = p->peer_isn + sp->ack.v;
	} else if (tx->flags & HS_ACK) {
		if (!p->rcv_known) {
			fail(p, HS_PLAY_F_BUILD, now, "the segment has ACK but no ack number, and the peer has sent nothing "
			     "to acknowledge yet (give ack N)");
			return -1;
		}
		tx->ack = p->rcv_nxt;
	}
	tx->win = sp->have_win ? sp->win : 65535;
	if (sp->have_urg)
		tx->urp = sp->urg;
	if (sp->have_opts) {
		uint32_t tsval = p->ts_base + (uint32_t)(now / NS_PER_MS);
		int n = hs_opt_spec_encode(&sp->opts, tsval, p->peer_ts ? p->peer_tsval : 0, tx->opts, &e);
		if (n < 0) {
			fail(p, HS_PLAY_F_BUILD, now, "options: %s", e ? e : "cannot be encoded");
			return -1;
		}
		tx->opt_len = (uint8_t)n;
		hs_sack_shift(tx->opts, tx->opt_len, p->peer_isn);
		hs_tcp_opts d;
		if (hs_opts_decode(tx->opts, tx->opt_len, &d, &e) == 0 && (d.has & HS_HAS_TS)) {
			tx->has_ts = true;
			tx->tsval = d.ts_val;
		}
	}
	if (l->have_data) {
		tx->data = l->data;
		tx->len = l->data_len;
	} else if (sp->have_len) {
		if (sp->len > sizeof(zeros)) {
			fail(p, HS_PLAY_F_BUILD, now, "a payload of %" PRIu32 " bytes is more than %zu", sp->len, sizeof(zeros));
			return -1;
		}
		tx->data = zeros;
		tx->len = sp->len;
	}
	tx->ip = sp->ip;
	tx->crafted = true;
	return 0;
}

void hs_play_done(hs_play *p, uint64_t at, const hs_tx *tx)
{
	if (!cur_line(p) || p->fail)
		return;
	if (tx) {
		uint32_t end = tx->seq + tx->len + ((tx->flags & HS_SYN) ? 1 : 0) + ((tx->flags & HS_FIN) ? 1 : 0);
		if (hs_seq_gt(end, p->snd_nxt))
			p->snd_nxt = end;
	}
	if (at > p->prev_ns)
		p->prev_ns = at;
	p->cur++;
}

void hs_play_shell_failed(hs_play *p, uint64_t at, const char *why)
{
	if (!cur_line(p) || p->fail)
		return;
	fail(p, HS_PLAY_F_SHELL, at, "%s", why);
}

/* The peer's segment as the script writes it: SACK blocks relative to our ISN. */
static hs_segment relative(const hs_play *p, const hs_segment *seg)
{
	hs_segment c = *seg;
	hs_sack_shift(c.opts.raw, c.opts.raw_len, 0u - p->our_isn);
	return c;
}

static uint32_t peer_base(const hs_play *p)
{
	return p->peer_isn_known ? p->peer_isn : 0;
}

unsigned hs_play_segment(hs_play *p, const hs_segment *seg, uint64_t t)
{
	const hs_scr_line *l = cur_line(p);
	char why[200];
	uint64_t lo, hi;

	if (p->fail || !l)
		return 0;
	/* Learnt before matching: the SYN's own numbers are relative to it. */
	if ((seg->flags & HS_SYN) && !p->peer_isn_known) {
		p->peer_isn = seg->seq;
		p->peer_isn_known = true;
	}
	uint32_t end = seg->seq + (uint32_t)hs_seg_len(seg) + ((seg->flags & HS_SYN) ? 1 : 0) +
	               ((seg->flags & HS_FIN) ? 1 : 0);
	if (!(seg->flags & HS_RST) && (!p->rcv_known || hs_seq_gt(end, p->rcv_nxt))) {
		p->rcv_nxt = end;
		p->rcv_known = true;
	}
	if (seg->opts.has & HS_HAS_TS) {
		p->peer_ts = true;
		p->peer_tsval = seg->opts.ts_val;
	}
	if (l->kind != HS_SCR_EXPECT) {
		fail(p, HS_PLAY_F_UNEXPECTED, t, "the peer sent a segment where the script has %s",
		     l->kind == HS_SCR_SEND ? "a segment of hs's to send" : "a command to run");
		return 0;
	}
	hs_segment rel = relative(p, seg);
	if (!hs_script_match(l, &rel, peer_base(p), p->our_isn, why, sizeof(why))) {
		fail(p, HS_PLAY_F_MISMATCH, t, "%s", why);
		return 0;
	}
	/* A segment taken in while a command ran arrived, for the script, when it ended. */
	uint64_t te = t > p->prev_ns ? t : p->prev_ns;
	window(p, l, &lo, &hi);
	if (te < lo || te > hi) {
		char when[128] = "";
		if (te != t) /* it came while a command ran */
			snprintf(when, sizeof(when), ", during the command before, so at its end, %" PRIu64 ".%06" PRIu64
			         " s,", te / 1000000000u, te % 1000000000u / 1000u);
		fail(p, te < lo ? HS_PLAY_F_EARLY : HS_PLAY_F_LATE, t,
		     "it came at %" PRIu64 ".%06" PRIu64 " s%s expected from %" PRIu64 ".%06" PRIu64 " to %" PRIu64
		     ".%06" PRIu64 " s",
		     t / 1000000000u, t % 1000000000u / 1000u, te != t ? when : ",",
		     lo / 1000000000u, lo % 1000000000u / 1000u, hi / 1000000000u, hi % 1000000000u / 1000u);
		return 0;
	}
	p->prev_ns = te;
	p->cur++;
	return l->lineno;
}

int hs_play_exit_code(const hs_play *p)
{
	switch (p->fail) {
	case HS_PLAY_F_OK:
		return 0;
	case HS_PLAY_F_MISSING:
		return 3;
	case HS_PLAY_F_BUILD:
		return 2;
	default:
		return 1;
	}
}

const char *hs_play_failure_format(const hs_play *p, const char *file, const hs_segment *seg, char *buf,
                                   size_t len)
{
	const hs_scr_line *l = p->fail_line < p->s->n ? &p->s->line[p->fail_line] : NULL;
	char actual[512] = "";
	const char *head;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!l)
		return buf;
	if (seg) {
		hs_segment rel = relative(p, seg);
		hs_notation_format(&rel, peer_base(p), p->our_isn, actual, sizeof(actual));
	}
	switch (p->fail) {
	case HS_PLAY_F_MISMATCH: head = "the peer's segment does not match"; break;
	case HS_PLAY_F_EARLY: head = "the peer's segment came too early"; break;
	case HS_PLAY_F_LATE: head = "the peer's segment came too late"; break;
	case HS_PLAY_F_UNEXPECTED: head = "the peer sent a segment the script does not expect"; break;
	case HS_PLAY_F_MISSING: head = "the peer did not send the segment"; break;
	case HS_PLAY_F_SHELL: head = "the command failed"; break;
	case HS_PLAY_F_BUILD: head = "cannot send this segment"; break;
	default: return buf;
	}
	const char *what = l->kind == HS_SCR_EXPECT ? "expected:" : l->kind == HS_SCR_SEND ? "next:" : "command:";
	uint64_t t = p->fail_t_ns;
	snprintf(buf, len,
	         "%s:%u: %s\n"
	         "  %-9s %s\n"
	         "%s%s%s"
	         "  why:      %s\n"
	         "  at:       %" PRIu64 ".%06" PRIu64 " s\n",
	         file ? file : "-", l->lineno, head, what, l->text ? l->text : "",
	         seg ? "  actual:   " : "", seg ? actual : "", seg ? "\n" : "", p->why,
	         t / 1000000000u, t % 1000000000u / 1000u);
	return buf;
}
