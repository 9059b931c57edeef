/* The figures of one connection, from its events (summary.h). Times are the events'
 * t_ns -- capture timestamps where the drivers have them -- so a slow terminal or a
 * paused --step never shows in them. Numbers are printed with integer arithmetic:
 * an LC_NUMERIC with a decimal comma can never leak into the JSON. */
#include <config.h>
#include <inttypes.h>
#include <string.h>
#include "hs/summary.h"

void hs_summary_init(hs_summary *s)
{
	memset(s, 0, sizeof(*s));
}

bool hs_summary_empty(const hs_summary *s)
{
	return s->segments[HS_DIR_OUT] == 0 && s->segments[HS_DIR_IN] == 0;
}

static void handshake(hs_summary *s, enum hs_dir d, uint8_t flags, uint64_t t)
{
	bool syn = flags & HS_SYN, ack = flags & HS_ACK;

	if (s->handshake_done || (flags & HS_RST))
		return;
	if (syn && !ack) {
		if (s->seen_syn && d != s->syn_dir)
			return; /* a simultaneous open: no single answer to time */
		s->seen_syn = true;
		s->syn_dir = d;
		s->t_syn = t; /* a retransmitted SYN restarts the clock */
		s->seen_synack = false;
		return;
	}
	if (!s->seen_syn)
		return;
	if (syn && ack && d != s->syn_dir) {
		bool first = !s->seen_synack;
		s->seen_synack = true;
		s->t_synack = t; /* the reaction to time is to the last SYN,ACK */
		if (!first)
			return;
		if (s->syn_dir == HS_DIR_OUT) {
			s->has_rtt = true;
			s->rtt_ns = t - s->t_syn;
		} else if (!s->has_reaction) {
			s->has_reaction = true;
			s->reaction_ns = t - s->t_syn;
		}
		return;
	}
	if (ack && !syn && d == s->syn_dir && s->seen_synack) {
		s->handshake_done = true;
		if (s->syn_dir == HS_DIR_OUT) {
			s->has_reaction = true;
			s->reaction_ns = t - s->t_synack;
		} else {
			s->has_rtt = true;
			s->rtt_ns = t - s->t_synack;
		}
	}
}

void hs_summary_add(hs_summary *s, const hs_event *ev)
{
	if (ev->type == HS_EV_OPEN) {
		hs_summary_init(s);
		return;
	}
	if (ev->type != HS_EV_SEGMENT || !ev->seg || ev->lost)
		return;
	const hs_segment *seg = ev->seg;
	enum hs_dir d = ev->dir == HS_DIR_IN ? HS_DIR_IN : HS_DIR_OUT;
	uint64_t t = ev->t_ns;

	s->segments[d]++;
	s->bytes[d] += hs_seg_len(seg);
	if (ev->note == HS_NOTE_RETRANSMISSION)
		s->retransmissions[d]++;
	handshake(s, d, seg->flags, t);
	if ((seg->flags & (HS_FIN | HS_RST)) && !s->seen_close) {
		s->seen_close = true;
		s->t_first_close = t;
	}
	if (s->seen_close && t >= s->t_first_close) {
		s->has_teardown = true;
		s->teardown_ns = t - s->t_first_close;
	}
}

/* Seconds with 6 decimals ("0.000051"). */
static void put_secs(hs_sbuf *b, uint64_t ns)
{
	uint64_t us = (ns + 500) / 1000;

	hs_sb_printf(b, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

/* Milliseconds with 3 decimals ("0.051 ms"). */
static void put_ms(hs_sbuf *b, uint64_t ns)
{
	uint64_t us = (ns + 500) / 1000;

	hs_sb_printf(b, "%" PRIu64 ".%03" PRIu64 " ms", us / 1000, us % 1000);
}

void hs_summary_json(const hs_summary *s, hs_sbuf *b)
{
	hs_sb_printf(b, "{");
	if (s->has_rtt) {
		hs_sb_printf(b, "\"rtt\":");
		put_secs(b, s->rtt_ns);
		hs_sb_printf(b, ",");
	}
	if (s->has_reaction) {
		hs_sb_printf(b, "\"reaction\":");
		put_secs(b, s->reaction_ns);
		hs_sb_printf(b, ",");
	}
	if (s->has_teardown) {
		hs_sb_printf(b, "\"teardown\":");
		put_secs(b, s->teardown_ns);
		hs_sb_printf(b, ",");
	}
	hs_sb_printf(b, "\"segments\":[%" PRIu64 ",%" PRIu64 "],\"bytes\":[%" PRIu64 ",%" PRIu64 "],"
	             "\"retransmissions\":[%" PRIu64 ",%" PRIu64 "]}",
	             s->segments[0], s->segments[1], s->bytes[0], s->bytes[1], s->retransmissions[0],
	             s->retransmissions[1]);
}

static void side_text(const hs_summary *s, int d, const char *from, const char *to, hs_sbuf *b)
{
	hs_sb_printf(b, "%s->%s %" PRIu64 " segment%s, %" PRIu64 " byte%s", from, to, s->segments[d],
	             s->segments[d] == 1 ? "" : "s", s->bytes[d], s->bytes[d] == 1 ? "" : "s");
	if (s->retransmissions[d])
		hs_sb_printf(b, " (%" PRIu64 " retransmitted)", s->retransmissions[d]);
}

void hs_summary_text(const hs_summary *s, const char *out_name, const char *in_name, hs_sbuf *b)
{
	const char *sep = "";

	if (s->has_rtt) {
		hs_sb_printf(b, "rtt ");
		put_ms(b, s->rtt_ns);
		sep = ", ";
	}
	if (s->has_reaction) {
		hs_sb_printf(b, "%sreaction ", sep);
		put_ms(b, s->reaction_ns);
		sep = ", ";
	}
	if (s->has_teardown) {
		hs_sb_printf(b, "%steardown ", sep);
		put_ms(b, s->teardown_ns);
		sep = ", ";
	}
	if (*sep)
		hs_sb_printf(b, "; ");
	side_text(s, HS_DIR_OUT, out_name, in_name, b);
	hs_sb_printf(b, "; ");
	side_text(s, HS_DIR_IN, in_name, out_name, b);
}
