/* The line view (the default): one line per segment, state change, ICMP error or
 * note, aligned in columns for people; the result line last (on stderr when hs
 * fails). */
#include <config.h>

#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/md5sig.h"
#include "hs/addr.h"
#include "hs/output.h"
#include "hs/render.h"
#include "hs/state.h"
#include "line.h"

#define TIME_W 11     /* "   0.000412": seconds, right-aligned */
#define INDENT (TIME_W + 2)
#define FLAGS_W 13    /* "FIN,PSH,ACK" and two spaces */
#define WIN_W 11      /* "win 65535" and two spaces; a scaled window runs wider */
#define WHY_COL 48    /* where the reason of a state change starts */
#define PAYLOAD_SHOW 200 /* escaped characters of payload shown in human mode */

/* What the previous human line was: consecutive state lines at the same instant
 * leave the time column empty after the first, so they read as one step. */
enum { LAST_NONE = 0, LAST_STATE, LAST_OTHER, LAST_END /* its summary said already */ };

static void put_time(line *l, uint64_t t_ns, bool blank)
{
	char t[32];

	if (blank) {
		line_pad(l, INDENT);
		return;
	}
	format_time(t_ns, t, sizeof(t));
	line_printf(l, "%*s  ", TIME_W, t);
}
static bool has_options(const hs_tcp_opts *o)
{
	return o->has != 0 || o->raw_len != 0;
}

/* ---- human lines --------------------------------------------------------------------- */

/* "seq 1:7" / "seq 1000:1006" / "seq 1000:1006 (rel 0:6)", padded to its column. */
static void human_seq(const hs_output *o, line *l, const char *name, uint32_t abs, uint32_t rel,
                      size_t len, int width)
{
	bool absolute = o->absolute || o->verbose >= 1;
	int start = l->col;

	line_printf(l, "%s %" PRIu32, name, absolute ? abs : rel);
	if (len > 0)
		line_printf(l, ":%" PRIu32, (uint32_t)((absolute ? abs : rel) + len));
	if (absolute && o->verbose >= 1) {
		line_printf(l, " (rel %" PRIu32, rel);
		if (len > 0)
			line_printf(l, ":%" PRIu32, (uint32_t)(rel + len));
		line_puts(l, ")");
	}
	line_gap(l, start + width, 2);
}

static void human_payload_text(const hs_output *o, const hs_event *ev, const char *dircolor)
{
	const hs_segment *s = ev->seg;
	char esc[PAYLOAD_SHOW + 1];
	size_t used;
	line l;

	line_init(&l, o->color);
	line_pad(&l, INDENT);
	line_colored(&l, dircolor, "|");
	line_puts(&l, " \"");
	escape_into(s->payload, s->len, esc, sizeof(esc), false, &used);
	line_puts(&l, esc);
	line_puts(&l, "\"");
	if (used < s->len) {
		line_puts(&l, ellipsis(o));
		line_printf(&l, "(%zu bytes)", s->len);
	}
	line_write(&l, o->fp);
}

/* 16 bytes a line: offset, hex in two groups of 8, printable ASCII. */
static void human_payload_hex(const hs_output *o, const hs_event *ev, const char *dircolor)
{
	const hs_segment *s = ev->seg;
	line l;

	line_init(&l, o->color);
	for (size_t off = 0; off < s->len; off += 16) {
		size_t n = s->len - off < 16 ? s->len - off : 16;
		line_pad(&l, INDENT);
		line_colored(&l, dircolor, "|");
		line_printf(&l, " %04zx  ", off);
		for (size_t i = 0; i < 16; i++) {
			if (i < n)
				line_printf(&l, "%02x ", s->payload[off + i]);
			else
				line_puts(&l, "   ");
			if (i == 7)
				line_putc(&l, ' ');
		}
		line_putc(&l, ' ');
		for (size_t i = 0; i < n; i++) {
			uint8_t c = s->payload[off + i];
			line_putc(&l, c >= 0x20 && c < 0x7f ? (char)c : '.');
		}
		line_write(&l, o->fp);
	}
}

static void human_segment(hs_output *o, const hs_event *ev)
{
	const hs_segment *s = ev->seg;
	bool absolute = o->absolute || o->verbose >= 1;
	int seq_w = 4 + (absolute ? 10 : 6) + (o->verbose >= 1 ? 8 : 0) + 2;
	int ack_w = 4 + (absolute ? 10 : 5) + (o->verbose >= 1 ? 8 : 0) + 2;
	const char *dircolor = (s->flags & HS_RST) ? C_RED
	                       : ev->dir == HS_DIR_OUT ? C_GREEN : C_CYAN;
	char flags[64], opts[1024];
	line l;
	/* SACK edges in the numbers the line shows (relative unless -A/-v); D-SACK judged
	 * against SEG.ACK (RFC 2883). */
	hs_opts_view ov = { .has_ack = (s->flags & HS_ACK) != 0, .ack = s->ack,
	                    .rel = !absolute && (s->flags & HS_ACK), .base = s->ack - ev->rack };

	line_init(&l, o->color);
	put_time(&l, ev->t_ns, false);

	line_color(&l, dircolor);
	line_puts(&l, dir_arrow(o, ev->dir));
	line_putc(&l, ' ');
	int start = l.col;
	line_puts(&l, hs_flags_format(s->flags, flags, sizeof(flags)));
	line_color(&l, C_RESET);
	line_gap(&l, start + FLAGS_W, 2);

	human_seq(o, &l, "seq", s->seq, ev->rseq, hs_seg_len(s), seq_w);
	if (s->flags & HS_ACK)
		human_seq(o, &l, "ack", s->ack, ev->rack, 0, ack_w);
	else
		line_pad(&l, l.col + ack_w);
	start = l.col;
	line_printf(&l, "win %u", s->win);
	if (ev->win_shift) /* what the window means in bytes: the header value scaled */
		line_printf(&l, " (%lu)", (unsigned long)s->win << ev->win_shift);
	line_gap(&l, start + WIN_W, 2);

	if (s->truncated) /* tcpdump -s N: the rest of the payload was not kept */
		line_printf(&l, "len %zu (%zu captured)  ", hs_seg_len(s), s->len);
	else if (s->len > 0)
		line_printf(&l, "len %zu  ", s->len);
	if (s->flags & HS_URG)
		line_printf(&l, "urg %u  ", s->urp);
	if (o->verbose >= 1)
		line_printf(&l, "ttl %u  csum 0x%04x%s  ", s->ttl, s->csum,
		            s->csum_status == HS_CSUM_OFFLOAD ? " (offload)" : s->csum_status == HS_CSUM_BAD ? " (bad)" : "");
	else if (s->csum_status == HS_CSUM_BAD) /* a receiver drops it: always worth a word */
		line_printf(&l, "csum 0x%04x (bad)  ", s->csum);
	if (s->md5_status) /* checked with the user's TCP-MD5 key: ok, bad, missing */
		line_printf(&l, "md5 %s  ", hs_md5_status_name(s->md5_status));
	if (has_options(&s->opts)) {
		line_putc(&l, '<');
		line_text(&l, hs_opts_format_view(&s->opts, &ov, opts, sizeof(opts)));
		line_puts(&l, ">  ");
	}
	const char *note = note_of(ev);
	if (o->observed) {
		/* Lines show no addresses: an observed connection's say who sent what. */
		char who[160];
		const char *from = o->names[ev->dir == HS_DIR_OUT ? 0 : 1], *to = o->names[ev->dir == HS_DIR_OUT ? 1 : 0];
		snprintf(who, sizeof(who), "%s%s->%s%s%s", ev->spoofed ? "as " : "", from, to, note ? ", " : "",
		         note ? note : "");
		line_color(&l, C_YELLOW);
		line_putc(&l, '[');
		line_text(&l, who);
		line_putc(&l, ']');
		line_color(&l, C_RESET);
	} else if (note) {
		line_color(&l, C_YELLOW);
		line_putc(&l, '[');
		line_text(&l, note);
		line_putc(&l, ']');
		line_color(&l, C_RESET);
	}
	if (ev->script_line) { /* hs script: the line that sent or matched it */
		line_color(&l, C_DIM);
		line_printf(&l, " [line %u]", ev->script_line);
		line_color(&l, C_RESET);
	}
	if (ev->lost) { /* two captures: it left, and never came where it was going */
		line_color(&l, C_RED);
		line_puts(&l, " [lost]");
		line_color(&l, C_RESET);
	} else if (ev->has_t_other) { /* two captures: when the far end's saw it */
		char t[32];
		format_time(ev->t_other_ns, t, sizeof(t));
		line_color(&l, C_DIM);
		line_printf(&l, " (arrived %s)", t);
		line_color(&l, C_RESET);
	}
	line_write(&l, o->fp);
	if (o->verbose >= 1) { /* the same segment in packetdrill's notation */
		char nt[512];
		line_init(&l, o->color);
		put_time(&l, ev->t_ns, true);
		line_color(&l, C_DIM);
		line_puts(&l, "= ");
		line_text(&l, notation_of(ev, nt, sizeof(nt)));
		line_color(&l, C_RESET);
		line_write(&l, o->fp);
	}

	if (s->len > 0 && s->payload) {
		if (o->hex)
			human_payload_hex(o, ev, dircolor);
		else
			human_payload_text(o, ev, dircolor);
	}
}

static void human_state(hs_output *o, const hs_event *ev)
{
	const hs_change *c = &ev->change;
	bool same_step = o->last_line == LAST_STATE && o->last_t_ns == ev->t_ns;
	line l;

	line_init(&l, o->color);
	put_time(&l, ev->t_ns, same_step);
	if (o->observed) { /* neither end is us: name both */
		line_puts(&l, o->names[c->peer ? 1 : 0]);
		line_putc(&l, ' ');
	} else if (c->peer) {
		line_puts(&l, "peer ");
	}
	if (c->correction) { /* not a move: what we assumed was wrong */
		line_puts(&l, "still ");
		line_colored(&l, C_BOLD, hs_state_name(c->to));
		line_puts(&l, ", not ");
		line_puts(&l, hs_state_name(c->from));
	} else {
		line_colored(&l, C_BOLD, hs_state_name(c->from));
		line_putc(&l, ' ');
		line_puts(&l, arrow_right(o));
		line_putc(&l, ' ');
		line_colored(&l, C_BOLD, hs_state_name(c->to));
	}
	if (c->why && c->why[0]) {
		line_gap(&l, WHY_COL, 2);
		line_color(&l, C_DIM);
		line_text(&l, c->why);
		/* Inferred from our segment, which no answer has shown to have arrived. */
		if (c->assumed)
			line_puts(&l, " (assumed)");
		line_color(&l, C_RESET);
	}
	line_write(&l, o->fp);
}

static void human_icmp(hs_output *o, const hs_event *ev)
{
	const hs_icmp_error *ic = ev->icmp;
	char a[HS_ENDPOINT_STRLEN], b[HS_ENDPOINT_STRLEN];
	line l;

	line_init(&l, o->color);
	put_time(&l, ev->t_ns, false);
	line_color(&l, C_RED);
	line_puts(&l, arrow_left(o));
	line_puts(&l, ic->family == AF_INET6 ? " ICMPv6 " : " ICMP ");
	line_puts(&l, hs_icmp_text(ic));
	line_color(&l, C_RESET);
	line_printf(&l, " from %s (type %u code %u)", hs_addr_format(&ic->reporter.addr, a, sizeof(a)),
	            ic->type, ic->code);
	if (ic->mtu)
		line_printf(&l, " mtu %u", ic->mtu);
	if (ic->orig_src.addr.family != 0)
		line_printf(&l, " about %s %s %s", hs_endpoint_format(&ic->orig_src, a, sizeof(a)), arrow_right(o),
		            hs_endpoint_format(&ic->orig_dst, b, sizeof(b)));
	line_write(&l, o->fp);
}

static void human_info(hs_output *o, const hs_event *ev)
{
	line l;

	line_init(&l, o->color);
	put_time(&l, ev->t_ns, false);
	line_color(&l, C_DIM);
	line_puts(&l, "# ");
	line_text(&l, ev->text ? ev->text : "");
	line_color(&l, C_RESET);
	line_write(&l, o->fp);
}

/* ---- kept connections (hs ls) ---------------------------------------------------- */

static void human_conn(hs_output *o, const hs_event *ev)
{
	const hs_conn_view *k = ev->conn;
	char a[HS_ENDPOINT_STRLEN], b[HS_ENDPOINT_STRLEN];
	line l;

	if (ev->first) {
		line_init(&l, o->color);
		line_color(&l, C_BOLD);
		line_printf(&l, "%-4s %-22s %-22s %-12s %-12s %5s  %-17s %s", "ID", "LOCAL", "REMOTE", "STATE", "PEER",
		            "AGE", "GUARD", "STATUS");
		line_color(&l, C_RESET);
		line_write(&l, o->fp);
	}
	line_init(&l, o->color);
	line_printf(&l, "%-4s %-22s %-22s ", k->id, hs_endpoint_format(k->local, a, sizeof(a)), hs_endpoint_format(k->remote, b, sizeof(b)));
	line_color(&l, C_BOLD);
	line_printf(&l, "%-12s", hs_state_name(k->state));
	line_color(&l, C_RESET);
	line_printf(&l, " %-12s %4lds  %-17s ", hs_state_name(k->peer_state), k->age_s,
	            k->guard && k->guard[0] ? k->guard : "-");
	line_colored(&l, k->stale ? C_RED : C_GREEN, k->status ? k->status : "");
	line_write(&l, o->fp);
}

/* "A 198.18.0.1:40000 <-> B 198.18.0.2:80": only for a connection hs observes (live
 * rst/fin, -r), whose lines name their ends; hs's own runs name theirs in the result. */
static void human_open(hs_output *o, const hs_event *ev)
{
	char a[HS_ENDPOINT_STRLEN], b[HS_ENDPOINT_STRLEN];
	line l;

	if (!ev->observed)
		return;
	line_init(&l, o->color);
	put_time(&l, ev->t_ns, false);
	line_color(&l, C_BOLD);
	if (ev->conn_index > 0)
		line_printf(&l, "connection %d: ", ev->conn_index);
	line_text(&l, side_name(o, 0));
	if (ev->local)
		line_printf(&l, " %s", hs_endpoint_format(ev->local, a, sizeof(a)));
	line_puts(&l, " <-> ");
	line_text(&l, side_name(o, 1));
	if (ev->remote)
		line_printf(&l, " %s", hs_endpoint_format(ev->remote, b, sizeof(b)));
	line_color(&l, C_RESET);
	line_write(&l, o->fp);
}

/* The figures of the connection (summary.h) on a line of their own. */
static void human_summary(hs_output *o, const hs_event *ev)
{
	char text[512];
	line l;

	if (!summary_text(o, ev->summary, text, sizeof(text)))
		return;
	line_init(&l, o->color);
	put_time(&l, ev->t_ns, true);
	line_color(&l, C_DIM);
	line_text(&l, text);
	line_color(&l, C_RESET);
	line_write(&l, o->fp);
}

/* "end A TIME-WAIT, B CLOSED" for a connection of -r, then its figures. */
static void human_end(hs_output *o, const hs_event *ev)
{
	line l;

	line_init(&l, o->color);
	put_time(&l, ev->t_ns, false);
	line_puts(&l, "end");
	if (ev->conn_index > 0)
		line_printf(&l, " of connection %d", ev->conn_index);
	line_puts(&l, ": ");
	line_text(&l, side_name(o, 0));
	line_putc(&l, ' ');
	line_colored(&l, C_BOLD, hs_state_name(ev->final_state));
	line_puts(&l, ", ");
	line_text(&l, side_name(o, 1));
	line_putc(&l, ' ');
	line_colored(&l, C_BOLD, hs_state_name(ev->final_peer_state));
	if (ev->peer_assumed)
		line_puts(&l, " assumed");
	line_write(&l, o->fp);
	human_summary(o, ev);
}

static void human_result(hs_output *o, const hs_event *ev)
{
	line l;

	if (ev->exit_code != 0) {
		/* A run that saw segments and then failed (refused, reset, unreachable): its
		 * figures first, on stdout like every line of the run; then the one line. */
		if (!o->quiet && !ev->listing && o->last_line != LAST_END)
			human_summary(o, ev);
		error_line(o, ev);
		return;
	}
	if (ev->listing) {
		if (ev->text && ev->text[0]) { /* -r: "2 connections in x.pcap" -- the result, also with -q */
			line_init(&l, o->color);
			if (!o->quiet)
				put_time(&l, ev->t_ns, false);
			line_text(&l, ev->text);
			line_write(&l, o->fp);
		} else if (ev->count == 0 && !o->quiet) {
			line_init(&l, o->color);
			line_puts(&l, "no kept connections");
			line_write(&l, o->fp);
		}
		return;
	}
	if (!o->quiet && o->last_line != LAST_END)
		human_summary(o, ev);
	line_init(&l, o->color);
	if (!o->quiet)
		put_time(&l, ev->t_ns, false);
	line_color(&l, C_BOLD);
	line_color(&l, C_GREEN);
	line_text(&l, ev->outcome ? ev->outcome : "done");
	line_color(&l, C_RESET);
	put_endpoints(o, &l, ev);
	line_puts(&l, " (");
	line_colored(&l, C_BOLD, hs_state_name(ev->final_state));
	line_puts(&l, ", peer ");
	line_colored(&l, C_BOLD, hs_state_name(ev->final_peer_state));
	if (ev->peer_assumed)
		line_puts(&l, " assumed");
	line_puts(&l, ")");
	if (ev->reaction) {
		line_puts(&l, ", reaction ");
		line_colored(&l, C_BOLD, ev->reaction);
	}
	if (ev->conn_id) {
		line_puts(&l, ", kept as ");
		line_text(&l, ev->conn_id);
	}
	if (ev->text && ev->text[0]) {
		line_puts(&l, o->ascii ? " - " : " \u2014 ");
		line_text(&l, ev->text);
	}
	line_write(&l, o->fp);
}

static void emit_human(hs_output *o, const hs_event *ev)
{
	if (o->quiet && ev->type != HS_EV_RESULT)
		return;
	switch (ev->type) {
	case HS_EV_SEGMENT:
		if (ev->seg)
			human_segment(o, ev);
		break;
	case HS_EV_STATE:
		human_state(o, ev);
		break;
	case HS_EV_ICMP:
		if (ev->icmp)
			human_icmp(o, ev);
		break;
	case HS_EV_INFO:
		human_info(o, ev);
		break;
	case HS_EV_CONN:
		if (ev->conn)
			human_conn(o, ev);
		break;
	case HS_EV_RESULT:
		human_result(o, ev);
		break;
	case HS_EV_OPEN:
		human_open(o, ev);
		break;
	case HS_EV_END:
		human_end(o, ev);
		break;
	}
	o->last_line = ev->type == HS_EV_STATE ? LAST_STATE : ev->type == HS_EV_END ? LAST_END : LAST_OTHER;
	o->last_t_ns = ev->t_ns;
}

static void lines_emit(hs_output *o, void *self, const hs_event *ev)
{
	(void)self;
	emit_human(o, ev);
}
const hs_render_ops hs_render_lines = { .name = "lines", .emit = lines_emit };
