/* JSON lines (--json), a contract for scripts (INTERFACE.md, "--json"): one object
 * per line, no spaces, fields in a fixed order, plain integers, "t" in seconds with
 * 6 decimals. Numbers are printed with integer arithmetic only, so an LC_NUMERIC with
 * a decimal comma can never leak into it. */
#include <config.h>

#include <inttypes.h>
#include <string.h>

#include "hs/md5sig.h"
#include "hs/addr.h"
#include "hs/output.h"
#include "hs/render.h"
#include "hs/state.h"
#include "line.h"

static void json_conn(hs_output *o, const hs_event *ev)
{
	const hs_conn_view *k = ev->conn;
	char ep[HS_ENDPOINT_STRLEN];
	line l;

	line_init(&l, false);
	line_raw(&l, "{\"type\":\"conn\"", 14);
	json_field_str(&l, "id", k->id);
	json_field_str(&l, "local", hs_endpoint_format(k->local, ep, sizeof(ep)));
	json_field_str(&l, "remote", hs_endpoint_format(k->remote, ep, sizeof(ep)));
	json_field_str(&l, "state", hs_state_name(k->state));
	json_field_str(&l, "peer_state", hs_state_name(k->peer_state));
	line_printf(&l, ",\"age\":%ld", k->age_s);
	json_field_str(&l, "guard", k->guard ? k->guard : "");
	line_printf(&l, ",\"stale\":%s", k->stale ? "true" : "false");
	json_field_str(&l, "probe", k->probe ? k->probe : "");
	line_printf(&l, ",\"unread\":%" PRIu32 "}", k->unread);
	line_write(&l, o->fp);
}


static void json_segment(hs_output *o, const hs_event *ev)
{
	const hs_segment *s = ev->seg;
	char ep[HS_ENDPOINT_STRLEN], flags[64], opts[2048];
	/* SACK edges also relative, and D-SACK judged against SEG.ACK (RFC 2883). */
	hs_opts_view ov = { .has_ack = (s->flags & HS_ACK) != 0, .ack = s->ack,
	                    .rel = (s->flags & HS_ACK) != 0, .base = s->ack - ev->rack };
	static const char hex[] = "0123456789abcdef";
	line l;

	line_init(&l, false);
	json_begin(&l, "segment", ev->t_ns);
	json_field_str(&l, "dir", ev->dir == HS_DIR_OUT ? "out" : "in");
	json_field_str(&l, "src", hs_endpoint_format(&s->src, ep, sizeof(ep)));
	json_field_str(&l, "dst", hs_endpoint_format(&s->dst, ep, sizeof(ep)));
	/* No flags at all: "" rather than hs_flags_format's "none", which is no flag name. */
	json_field_str(&l, "flags", s->flags ? hs_flags_format(s->flags, flags, sizeof(flags)) : "");
	line_printf(&l, ",\"seq\":%" PRIu32 ",\"ack\":%" PRIu32 ",\"rseq\":%" PRIu32
	            ",\"rack\":%" PRIu32 ",\"win\":%u,\"len\":%zu,\"opts\":%s",
	            s->seq, s->ack, ev->rseq, ev->rack, s->win, hs_seg_len(s),
	            hs_opts_format_json_view(&s->opts, &ov, opts, sizeof(opts)));
	if (ev->win_shift)
		line_printf(&l, ",\"win_scaled\":%lu", (unsigned long)s->win << ev->win_shift);
	json_field_str(&l, "state", hs_state_name(ev->state));
	json_field_str(&l, "peer_state", hs_state_name(ev->peer_state));
	if (ev->peer_assumed) /* absent: the peer's own segments showed it */
		json_field_str(&l, "peer_state_basis", "assumed");
	if (s->len > 0 && s->payload) {
		line_raw(&l, ",\"data\":", 8);
		json_bytes(&l, s->payload, s->len);
		if (o->hex) {
			line_raw(&l, ",\"data_hex\":\"", 13);
			for (size_t i = 0; i < s->len && !l.failed; i++) {
				char h[2] = { hex[s->payload[i] >> 4], hex[s->payload[i] & 15] };
				line_raw(&l, h, 2);
			}
			line_raw(&l, "\"", 1);
		}
	}
	const char *note = note_of(ev);
	if (note)
		json_field_str(&l, "note", note);
	if (ev->tfo) /* RFC 7413: what the SYN,ACK did with a Fast Open SYN's data */
		json_field_str(&l, "tfo", ev->tfo);
	if (s->truncated) /* -r of tcpdump -s N: "len" is SEG.LEN, "data" what was kept */
		line_printf(&l, ",\"captured\":%zu", s->len);
	if (ev->spoofed) /* observed: hs sent it, as the end src names */
		line_raw(&l, ",\"spoofed\":true", 15);
	if (ev->has_t_other) { /* two captures: when the other capture point saw it */
		char t[32];
		format_time(ev->t_other_ns, t, sizeof(t));
		line_printf(&l, ",\"t_other\":%s", t);
	}
	if (ev->lost)
		line_raw(&l, ",\"lost\":true", 12);
	if (ev->script_line) /* hs script: the line that sent or matched it */
		line_printf(&l, ",\"script_line\":%u", ev->script_line);
	if (o->verbose >= 1) {
		char nt[512];
		line_printf(&l, ",\"ttl\":%u,\"csum\":%u", s->ttl, s->csum);
		if (s->csum_status != HS_CSUM_UNCHECKED)
			json_field_str(&l, "csum_status", hs_csum_name(s->csum_status));
		json_field_str(&l, "notation", notation_of(ev, nt, sizeof(nt)));
	} else if (s->csum_status == HS_CSUM_BAD) {
		json_field_str(&l, "csum_status", hs_csum_name(s->csum_status));
	}
	if (s->md5_status) /* TCP-MD5 checked with the user's key */
		json_field_str(&l, "md5", hs_md5_status_name(s->md5_status));
	line_raw(&l, "}", 1);
	line_write(&l, o->fp);
}

static void json_state(hs_output *o, const hs_event *ev)
{
	line l;

	line_init(&l, false);
	json_begin(&l, "state", ev->t_ns);
	json_field_str(&l, "from", hs_state_name(ev->change.from));
	json_field_str(&l, "to", hs_state_name(ev->change.to));
	json_field_str(&l, "why", ev->change.why ? ev->change.why : "");
	if (o->observed) /* neither end is us: "A" or "B" */
		json_field_str(&l, "side", o->names[ev->change.peer ? 1 : 0]);
	else if (ev->change.peer)
		json_field_str(&l, "side", "peer");
	if ((ev->change.peer || o->observed) && ev->change.assumed)
		json_field_str(&l, "basis", "assumed");
	if (ev->change.correction)
		line_raw(&l, ",\"correction\":true", 18);
	if (ev->by_segment)
		json_field_str(&l, "cause", "segment");
	else if (ev->by_call)
		json_field_str(&l, "cause", "call");
	line_raw(&l, "}", 1);
	line_write(&l, o->fp);
}

static void json_icmp(hs_output *o, const hs_event *ev)
{
	const hs_icmp_error *ic = ev->icmp;
	char a[HS_ENDPOINT_STRLEN], b[HS_ENDPOINT_STRLEN], about[2 * HS_ENDPOINT_STRLEN + 2];
	line l;

	line_init(&l, false);
	json_begin(&l, "icmp", ev->t_ns);
	json_field_str(&l, "from", hs_addr_format(&ic->reporter.addr, a, sizeof(a)));
	line_printf(&l, ",\"icmp_type\":%u,\"icmp_code\":%u", ic->type, ic->code);
	json_field_str(&l, "text", hs_icmp_text(ic));
	if (ic->mtu)
		line_printf(&l, ",\"mtu\":%u", ic->mtu);
	if (ic->orig_src.addr.family != 0) {
		snprintf(about, sizeof(about), "%s>%s", hs_endpoint_format(&ic->orig_src, a, sizeof(a)),
		         hs_endpoint_format(&ic->orig_dst, b, sizeof(b)));
		json_field_str(&l, "about", about);
	}
	line_raw(&l, "}", 1);
	line_write(&l, o->fp);
}

static void json_info(hs_output *o, const hs_event *ev)
{
	line l;

	line_init(&l, false);
	json_begin(&l, "info", ev->t_ns);
	json_field_str(&l, "text", ev->text);
	line_raw(&l, "}", 1);
	line_write(&l, o->fp);
}

/* ,"summary":{...} (summary.h) when the connection has figures: a result with no
 * segment (a usage error, hs ls) carries none. */
static void json_summary(line *l, const hs_summary *s)
{
	char buf[1024];
	hs_sbuf b = { buf, sizeof(buf), 0, false };

	if (!summary_has_figures(s))
		return;
	buf[0] = '\0';
	hs_summary_json(s, &b);
	if (b.full || buf[0] != '{') /* never half an object in the contract */
		return;
	line_raw(l, ",\"summary\":", 11);
	line_raw(l, buf, b.pos);
}

static void json_result(hs_output *o, const hs_event *ev)
{
	char ep[HS_ENDPOINT_STRLEN], t[32];
	line l;

	line_init(&l, false);
	line_raw(&l, "{\"type\":\"result\"", 16);
	json_field_str(&l, "outcome", ev->outcome);
	line_printf(&l, ",\"exit\":%d", ev->exit_code);
	if (ev->local)
		json_field_str(&l, "local", hs_endpoint_format(ev->local, ep, sizeof(ep)));
	if (ev->remote)
		json_field_str(&l, "remote", hs_endpoint_format(ev->remote, ep, sizeof(ep)));
	if (ev->listing) {
		line_printf(&l, ",\"count\":%d", ev->count);
	} else {
		json_field_str(&l, "state", hs_state_name(ev->final_state));
		json_field_str(&l, "peer_state", hs_state_name(ev->final_peer_state));
		if (ev->peer_assumed)
			json_field_str(&l, "peer_state_basis", "assumed");
	}
	if (ev->reaction)
		json_field_str(&l, "reaction", ev->reaction);
	if (ev->reactions)
		line_printf(&l, ",\"reactions\":%s", ev->reactions);
	if (ev->conn_id)
		json_field_str(&l, "conn", ev->conn_id);
	if (ev->capture_drops)
		line_printf(&l, ",\"capture_drops\":%lu", ev->capture_drops);
	if (ev->script_line) /* hs script: the line at fault */
		line_printf(&l, ",\"script_line\":%u", ev->script_line);
	if (!ev->listing)
		json_summary(&l, ev->summary);
	if (ev->text)
		json_field_str(&l, "message", ev->text);
	format_time(ev->t_ns, t, sizeof(t));
	line_printf(&l, ",\"t\":%s}", t);
	line_write(&l, o->fp);
	if (ev->exit_code != 0)
		error_line(o, ev);
}

/* A connection begins: its ends and what they are called ("us"/"peer", "A"/"B"). */
static void json_open(hs_output *o, const hs_event *ev)
{
	char ep[HS_ENDPOINT_STRLEN];
	line l;

	line_init(&l, false);
	json_begin(&l, "open", ev->t_ns);
	if (ev->local)
		json_field_str(&l, "local", hs_endpoint_format(ev->local, ep, sizeof(ep)));
	if (ev->remote)
		json_field_str(&l, "remote", hs_endpoint_format(ev->remote, ep, sizeof(ep)));
	json_field_str(&l, "local_name", side_name(o, 0));
	json_field_str(&l, "remote_name", side_name(o, 1));
	line_printf(&l, ",\"observed\":%s", ev->observed ? "true" : "false");
	if (ev->conn_index > 0)
		line_printf(&l, ",\"conn\":%d", ev->conn_index);
	line_raw(&l, "}", 1);
	line_write(&l, o->fp);
}

/* A connection of -r ends: both sides' final states and its figures. */
static void json_end(hs_output *o, const hs_event *ev)
{
	char ep[HS_ENDPOINT_STRLEN];
	line l;

	line_init(&l, false);
	json_begin(&l, "end", ev->t_ns);
	if (ev->conn_index > 0)
		line_printf(&l, ",\"conn\":%d", ev->conn_index);
	if (ev->local)
		json_field_str(&l, "local", hs_endpoint_format(ev->local, ep, sizeof(ep)));
	if (ev->remote)
		json_field_str(&l, "remote", hs_endpoint_format(ev->remote, ep, sizeof(ep)));
	json_field_str(&l, "state", hs_state_name(ev->final_state));
	json_field_str(&l, "peer_state", hs_state_name(ev->final_peer_state));
	if (ev->peer_assumed)
		json_field_str(&l, "peer_state_basis", "assumed");
	json_summary(&l, ev->summary);
	line_raw(&l, "}", 1);
	line_write(&l, o->fp);
}

static void emit_json(hs_output *o, const hs_event *ev)
{
	switch (ev->type) {
	case HS_EV_SEGMENT:
		if (ev->seg)
			json_segment(o, ev);
		break;
	case HS_EV_STATE:
		/* Every change, as the human lines show it ("cause":"segment" when the
		 * segment line before it caused it). */
		json_state(o, ev);
		break;
	case HS_EV_ICMP:
		if (ev->icmp)
			json_icmp(o, ev);
		break;
	case HS_EV_INFO:
		json_info(o, ev);
		break;
	case HS_EV_CONN:
		if (ev->conn)
			json_conn(o, ev);
		break;
	case HS_EV_RESULT:
		json_result(o, ev);
		break;
	case HS_EV_OPEN:
		json_open(o, ev);
		break;
	case HS_EV_END:
		json_end(o, ev);
		break;
	}
}

static void json_emit(hs_output *o, void *self, const hs_event *ev)
{
	(void)self;
	emit_json(o, ev);
}

const hs_render_ops hs_render_json = { .name = "json", .emit = json_emit };
