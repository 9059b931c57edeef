/* Rendering hs_event as human lines or JSON lines.
 *
 * Every line is composed in memory first (a stack buffer that moves to the heap only
 * for very long lines) and written with one fwrite, then flushed: scripts read stdout
 * line by line through pipes, and a line is never half-written when a signal ends
 * the process between events.
 *
 * JSON is a contract for scripts (INTERFACE.md, "--json"): one object per line, no
 * spaces, fields in a fixed order, plain integers, "t" in seconds with 6 decimals.
 * Numbers are printed with integer arithmetic only, so an LC_NUMERIC with a decimal
 * comma can never leak into it.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/addr.h"
#include "hs/output.h"
#include "hs/render.h"
#include "hs/summary.h"
#include "hs/notation.h"
#include "hs/state.h"

/* ---- a line under construction ---------------------------------------------------- */

#define LINE_STACK 4096

typedef struct line {
	char *p;
	size_t len, cap;  /* cap keeps one byte free for the final '\n' */
	int col;          /* display columns so far (escape codes do not count) */
	bool color;
	bool failed;      /* out of memory: the line is dropped */
	char stack[LINE_STACK];
} line;

static void line_init(line *l, bool color)
{
	l->p = l->stack;
	l->len = 0;
	l->cap = sizeof(l->stack);
	l->col = 0;
	l->color = color;
	l->failed = false;
}

static bool line_reserve(line *l, size_t more)
{
	if (l->failed)
		return false;
	if (l->len + more + 1 <= l->cap)
		return true;
	size_t cap = l->cap;
	while (cap < l->len + more + 1)
		cap *= 2;
	char *np = l->p == l->stack ? malloc(cap) : realloc(l->p, cap);
	if (!np) {
		l->failed = true;
		return false;
	}
	if (l->p == l->stack)
		memcpy(np, l->stack, l->len);
	l->p = np;
	l->cap = cap;
	return true;
}

/* UTF-8 continuation bytes take no column of their own. */
static int display_width(const char *s, size_t n)
{
	int w = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* Bytes that take no columns (escape codes). */
static void line_raw(line *l, const char *s, size_t n)
{
	if (!line_reserve(l, n))
		return;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void line_putn(line *l, const char *s, size_t n)
{
	line_raw(l, s, n);
	if (!l->failed)
		l->col += display_width(s, n);
}

static void line_puts(line *l, const char *s)
{
	line_putn(l, s, strlen(s));
}

static void line_putc(line *l, char c)
{
	line_putn(l, &c, 1);
}

__attribute__((format(printf, 2, 3)))
static void line_printf(line *l, const char *fmt, ...)
{
	va_list ap;

	for (int tries = 0; tries < 2 && !l->failed; tries++) {
		size_t room = l->cap - l->len - 1;
		va_start(ap, fmt);
		int n = vsnprintf(l->p + l->len, room + 1, fmt, ap);
		va_end(ap);
		if (n < 0) {
			l->failed = true;
			return;
		}
		if ((size_t)n <= room) {
			l->col += display_width(l->p + l->len, (size_t)n);
			l->len += (size_t)n;
			return;
		}
		line_reserve(l, (size_t)n);
	}
}

/* Text from elsewhere (a reason, an info line) shown to a person: control bytes
 * become '?' so that nothing can drive the terminal. */
static void line_text(line *l, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		line_putc(l, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
}

static void line_pad(line *l, int col)
{
	while (l->col < col && !l->failed)
		line_putc(l, ' ');
}

/* Pad to col, but leave at least min spaces after what is there. */
static void line_gap(line *l, int col, int min)
{
	line_pad(l, l->col + min > col ? l->col + min : col);
}

/* Trailing blanks go (padding for columns that stayed empty); one write. */
static void line_write(line *l, FILE *fp)
{
	if (!l->failed && fp) {
		while (l->len > 0 && l->p[l->len - 1] == ' ')
			l->len--;
		l->p[l->len++] = '\n';
		fwrite(l->p, 1, l->len, fp);
	}
	if (l->p != l->stack)
		free(l->p);
	line_init(l, l->color);
}

/* ---- colors and glyphs ------------------------------------------------------------ */

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"

static void line_color(line *l, const char *code)
{
	if (l->color)
		line_raw(l, code, strlen(code));
}

static void line_colored(line *l, const char *code, const char *s)
{
	line_color(l, code);
	line_puts(l, s);
	line_color(l, C_RESET);
}

static const char *arrow_right(const hs_output *o) { return o->ascii ? "->" : "\u2192"; }
static const char *arrow_left(const hs_output *o) { return o->ascii ? "<-" : "\u2190"; }
static const char *ellipsis(const hs_output *o) { return o->ascii ? "..." : "\u2026"; }

static const char *dir_arrow(const hs_output *o, enum hs_dir d)
{
	return d == HS_DIR_OUT ? arrow_right(o) : arrow_left(o);
}

/* ---- escaping ----------------------------------------------------------------------- */

/* The escape for one byte (or the byte itself) into tmp; returns its length. */
static size_t escape_byte(uint8_t c, bool json, char tmp[8])
{
	switch (c) {
	case '"': memcpy(tmp, "\\\"", 2); return 2;
	case '\\': memcpy(tmp, "\\\\", 2); return 2;
	case '\n': memcpy(tmp, "\\n", 2); return 2;
	case '\r': memcpy(tmp, "\\r", 2); return 2;
	case '\t': memcpy(tmp, "\\t", 2); return 2;
	default:
		break;
	}
	if (c >= 0x20 && c < 0x7f) {
		tmp[0] = (char)c;
		return 1;
	}
	/* JSON: \u00XX maps byte XX to code point XX, so data.encode("latin-1") gives
	 * back the exact payload bytes. */
	static const char hex[] = "0123456789abcdef";
	if (json) {
		memcpy(tmp, "\\u00", 4);
		tmp[4] = hex[c >> 4];
		tmp[5] = hex[c & 15];
		return 6;
	}
	memcpy(tmp, "\\x", 2);
	tmp[2] = hex[c >> 4];
	tmp[3] = hex[c & 15];
	return 4;
}

/* Escapes whole bytes only (never half an escape) until out is full; *consumed tells
 * how many input bytes made it. */
static size_t escape_into(const uint8_t *p, size_t n, char *out, size_t outlen, bool json,
                          size_t *consumed)
{
	size_t w = 0, i = 0;
	char tmp[8];

	if (outlen == 0) {
		if (consumed)
			*consumed = 0;
		return 0;
	}
	for (; i < n; i++) {
		size_t k = escape_byte(p[i], json, tmp);
		if (w + k > outlen - 1)
			break;
		memcpy(out + w, tmp, k);
		w += k;
	}
	out[w] = '\0';
	if (consumed)
		*consumed = i;
	return w;
}

size_t hs_escape_text(const uint8_t *p, size_t n, char *out, size_t outlen, bool json)
{
	return escape_into(p, n, out, outlen, json, NULL);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		len = 2; cp = c & 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3; cp = c & 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4; cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string of payload bytes: every byte >= 0x7f escaped (see escape_byte). */
static void json_bytes(line *l, const uint8_t *p, size_t n)
{
	char tmp[8];

	line_raw(l, "\"", 1);
	for (size_t i = 0; i < n && !l->failed; i++)
		line_raw(l, tmp, escape_byte(p[i], true, tmp));
	line_raw(l, "\"", 1);
}

/* A JSON string of text: valid UTF-8 passes through, stray bytes become \u00XX, so
 * the line stays valid JSON whatever the caller hands in. */
static void json_str(line *l, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	char tmp[8];

	line_raw(l, "\"", 1);
	for (size_t i = 0; i < n && !l->failed;) {
		size_t k = p[i] >= 0x80 ? utf8_seq(p + i, n - i) : 0;
		if (k > 0) {
			line_raw(l, (const char *)p + i, k);
			i += k;
		} else {
			line_raw(l, tmp, escape_byte(p[i], true, tmp));
			i++;
		}
	}
	line_raw(l, "\"", 1);
}

static void json_field_str(line *l, const char *key, const char *val)
{
	line_printf(l, ",\"%s\":", key);
	json_str(l, val);
}

/* ---- shared pieces ------------------------------------------------------------------ */

#define TIME_W 11     /* "   0.000412": seconds, right-aligned */
#define INDENT (TIME_W + 2)
#define FLAGS_W 13    /* "FIN,PSH,ACK" and two spaces */
#define WIN_W 11      /* "win 65535" and two spaces; a scaled window runs wider */
#define WHY_COL 48    /* where the reason of a state change starts */
#define PAYLOAD_SHOW 200 /* escaped characters of payload shown in human mode */

/* What the previous human line was: consecutive state lines at the same instant
 * leave the time column empty after the first, so they read as one step. */
enum { LAST_NONE = 0, LAST_STATE, LAST_OTHER };

static void format_time(uint64_t t_ns, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, t_ns / 1000000000u, t_ns % 1000000000u / 1000u);
}

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

static const char *endpoint(const hs_endpoint *e, char *buf, size_t len)
{
	return hs_endpoint_format(e, buf, len);
}

static const char *note_of(const hs_event *ev)
{
	if (ev->note_text && ev->note_text[0])
		return ev->note_text;
	if (ev->note != HS_NOTE_NONE)
		return hs_note_name(ev->note);
	return NULL;
}

static bool has_options(const hs_tcp_opts *o)
{
	return o->has != 0 || o->raw_len != 0;
}

static const char *icmp_v4_unreach(uint8_t code)
{
	static const char *const text[] = {
		"network unreachable", "host unreachable", "protocol unreachable",
		"port unreachable", "fragmentation needed", "source route failed",
		"destination network unknown", "destination host unknown",
		"source host isolated", "network administratively prohibited",
		"host administratively prohibited", "network unreachable for TOS",
		"host unreachable for TOS", "communication administratively prohibited",
		"host precedence violation", "precedence cutoff in effect",
	};
	return code < sizeof(text) / sizeof(text[0]) ? text[code] : "destination unreachable";
}

static const char *icmp_v6_unreach(uint8_t code)
{
	static const char *const text[] = {
		"no route to destination", "administratively prohibited",
		"beyond scope of source address", "address unreachable", "port unreachable",
		"source address failed policy", "reject route to destination",
	};
	return code < sizeof(text) / sizeof(text[0]) ? text[code] : "destination unreachable";
}

/* What an ICMP error means, in words (RFC 792/1812 for v4, RFC 4443 for v6). */
const char *hs_icmp_text(const hs_icmp_error *ic)
{
	if (ic->family == AF_INET6) {
		switch (ic->type) {
		case 1: return icmp_v6_unreach(ic->code);
		case 2: return "packet too big";
		case 3: return ic->code == 1 ? "fragment reassembly time exceeded" : "hop limit exceeded";
		case 4: return "parameter problem";
		default: return "ICMPv6 error";
		}
	}
	switch (ic->type) {
	case 3: return icmp_v4_unreach(ic->code);
	case 4: return "source quench";
	case 5: return "redirect";
	case 11: return ic->code == 1 ? "fragment reassembly time exceeded" : "TTL exceeded";
	case 12: return "parameter problem";
	default: return "ICMP error";
	}
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

/* The segment in packetdrill's notation, numbers relative as the line shows them:
 * the sender's ISN is SEG.SEQ - rseq, the receiver's SEG.ACK - rack. */
static const char *notation_of(const hs_event *ev, char *buf, size_t len)
{
	const hs_segment *s = ev->seg;

	return hs_notation_format(s, s->seq - ev->rseq, (s->flags & HS_ACK) ? s->ack - ev->rack : 0, buf, len);
}

static void human_segment(hs_output *o, const hs_event *ev)
{
	const hs_segment *s = ev->seg;
	bool absolute = o->absolute || o->verbose >= 1;
	int seq_w = 4 + (absolute ? 10 : 6) + (o->verbose >= 1 ? 8 : 0) + 2;
	int ack_w = 4 + (absolute ? 10 : 5) + (o->verbose >= 1 ? 8 : 0) + 2;
	const char *dircolor = (s->flags & HS_RST) ? C_RED
	                       : ev->dir == HS_DIR_OUT ? C_GREEN : C_CYAN;
	char flags[64], opts[512];
	line l;

	line_init(&l, o->color);
	put_time(&l, ev->t_ns, false);

	line_color(&l, dircolor);
	line_puts(&l, dir_arrow(o, ev->dir));
	line_putc(&l, ' ');
	int start = l.col;
	line_puts(&l, hs_flags_format(s->flags, flags, sizeof(flags)));
	line_color(&l, C_RESET);
	line_gap(&l, start + FLAGS_W, 2);

	human_seq(o, &l, "seq", s->seq, ev->rseq, s->len, seq_w);
	if (s->flags & HS_ACK)
		human_seq(o, &l, "ack", s->ack, ev->rack, 0, ack_w);
	else
		line_pad(&l, l.col + ack_w);
	start = l.col;
	line_printf(&l, "win %u", s->win);
	if (ev->win_shift) /* what the window means in bytes: the header value scaled */
		line_printf(&l, " (%lu)", (unsigned long)s->win << ev->win_shift);
	line_gap(&l, start + WIN_W, 2);

	if (s->len > 0)
		line_printf(&l, "len %zu  ", s->len);
	if (s->flags & HS_URG)
		line_printf(&l, "urg %u  ", s->urp);
	if (o->verbose >= 1)
		line_printf(&l, "ttl %u  csum 0x%04x%s  ", s->ttl, s->csum,
		            s->csum_status == HS_CSUM_OFFLOAD ? " (offload)" : s->csum_status == HS_CSUM_BAD ? " (bad)" : "");
	else if (s->csum_status == HS_CSUM_BAD) /* a receiver drops it: always worth a word */
		line_printf(&l, "csum 0x%04x (bad)  ", s->csum);
	if (has_options(&s->opts)) {
		line_putc(&l, '<');
		line_text(&l, hs_opts_format(&s->opts, opts, sizeof(opts)));
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
	if (c->peer)
		line_puts(&l, "peer ");
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
		line_printf(&l, " about %s %s %s", endpoint(&ic->orig_src, a, sizeof(a)), arrow_right(o),
		            endpoint(&ic->orig_dst, b, sizeof(b)));
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

static void put_endpoints(const hs_output *o, line *l, const hs_event *ev)
{
	char a[HS_ENDPOINT_STRLEN], b[HS_ENDPOINT_STRLEN];

	if (ev->local && ev->remote)
		line_printf(l, " %s %s %s", endpoint(ev->local, a, sizeof(a)), arrow_right(o),
		            endpoint(ev->remote, b, sizeof(b)));
	else if (ev->remote)
		line_printf(l, " %s", endpoint(ev->remote, b, sizeof(b)));
	else if (ev->local)
		line_printf(l, " %s", endpoint(ev->local, a, sizeof(a)));
}

/* The one line on stderr that every failure prints (INTERFACE.md, exit status). */
static void error_line(const hs_output *o, const hs_event *ev)
{
	line l;

	line_init(&l, false);
	line_puts(&l, "hs: ");
	if (ev->text && ev->text[0]) {
		line_text(&l, ev->text);
	} else {
		line_text(&l, ev->outcome ? ev->outcome : "failed");
		put_endpoints(o, &l, ev);
	}
	line_write(&l, o->err);
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
	line_printf(&l, "%-4s %-22s %-22s ", k->id, endpoint(k->local, a, sizeof(a)), endpoint(k->remote, b, sizeof(b)));
	line_color(&l, C_BOLD);
	line_printf(&l, "%-12s", hs_state_name(k->state));
	line_color(&l, C_RESET);
	line_printf(&l, " %-12s %4lds  %-17s ", hs_state_name(k->peer_state), k->age_s,
	            k->guard && k->guard[0] ? k->guard : "-");
	line_colored(&l, k->stale ? C_RED : C_GREEN, k->status ? k->status : "");
	line_write(&l, o->fp);
}

static void json_conn(hs_output *o, const hs_event *ev)
{
	const hs_conn_view *k = ev->conn;
	char ep[HS_ENDPOINT_STRLEN];
	line l;

	line_init(&l, false);
	line_raw(&l, "{\"type\":\"conn\"", 14);
	json_field_str(&l, "id", k->id);
	json_field_str(&l, "local", endpoint(k->local, ep, sizeof(ep)));
	json_field_str(&l, "remote", endpoint(k->remote, ep, sizeof(ep)));
	json_field_str(&l, "state", hs_state_name(k->state));
	json_field_str(&l, "peer_state", hs_state_name(k->peer_state));
	line_printf(&l, ",\"age\":%ld", k->age_s);
	json_field_str(&l, "guard", k->guard ? k->guard : "");
	line_printf(&l, ",\"stale\":%s", k->stale ? "true" : "false");
	json_field_str(&l, "probe", k->probe ? k->probe : "");
	line_printf(&l, ",\"unread\":%" PRIu32 "}", k->unread);
	line_write(&l, o->fp);
}

static void human_result(hs_output *o, const hs_event *ev)
{
	line l;

	if (ev->exit_code != 0) {
		error_line(o, ev);
		return;
	}
	if (ev->listing) {
		if (ev->count == 0 && !o->quiet) {
			line_init(&l, o->color);
			line_puts(&l, "no kept connections");
			line_write(&l, o->fp);
		}
		return;
	}
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
	case HS_EV_END:
		break;
	}
	o->last_line = ev->type == HS_EV_STATE ? LAST_STATE : LAST_OTHER;
	o->last_t_ns = ev->t_ns;
}

/* ---- JSON lines ---------------------------------------------------------------------- */

static void json_begin(line *l, const char *type, uint64_t t_ns)
{
	char t[32];

	format_time(t_ns, t, sizeof(t));
	line_printf(l, "{\"type\":\"%s\",\"t\":%s", type, t);
}

static void json_segment(hs_output *o, const hs_event *ev)
{
	const hs_segment *s = ev->seg;
	char ep[HS_ENDPOINT_STRLEN], flags[64], opts[1024];
	static const char hex[] = "0123456789abcdef";
	line l;

	line_init(&l, false);
	json_begin(&l, "segment", ev->t_ns);
	json_field_str(&l, "dir", ev->dir == HS_DIR_OUT ? "out" : "in");
	json_field_str(&l, "src", endpoint(&s->src, ep, sizeof(ep)));
	json_field_str(&l, "dst", endpoint(&s->dst, ep, sizeof(ep)));
	/* No flags at all: "" rather than hs_flags_format's "none", which is no flag name. */
	json_field_str(&l, "flags", s->flags ? hs_flags_format(s->flags, flags, sizeof(flags)) : "");
	line_printf(&l, ",\"seq\":%" PRIu32 ",\"ack\":%" PRIu32 ",\"rseq\":%" PRIu32
	            ",\"rack\":%" PRIu32 ",\"win\":%u,\"len\":%zu,\"opts\":%s",
	            s->seq, s->ack, ev->rseq, ev->rack, s->win, s->len,
	            hs_opts_format_json(&s->opts, opts, sizeof(opts)));
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
	if (o->verbose >= 1) {
		char nt[512];
		line_printf(&l, ",\"ttl\":%u,\"csum\":%u", s->ttl, s->csum);
		if (s->csum_status != HS_CSUM_UNCHECKED)
			json_field_str(&l, "csum_status", hs_csum_name(s->csum_status));
		json_field_str(&l, "notation", notation_of(ev, nt, sizeof(nt)));
	} else if (s->csum_status == HS_CSUM_BAD) {
		json_field_str(&l, "csum_status", hs_csum_name(s->csum_status));
	}
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
	if (ev->change.peer)
		json_field_str(&l, "side", "peer");
	if (ev->change.peer && ev->change.assumed)
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
		snprintf(about, sizeof(about), "%s>%s", endpoint(&ic->orig_src, a, sizeof(a)),
		         endpoint(&ic->orig_dst, b, sizeof(b)));
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

static void json_result(hs_output *o, const hs_event *ev)
{
	char ep[HS_ENDPOINT_STRLEN], t[32];
	line l;

	line_init(&l, false);
	line_raw(&l, "{\"type\":\"result\"", 16);
	json_field_str(&l, "outcome", ev->outcome);
	line_printf(&l, ",\"exit\":%d", ev->exit_code);
	if (ev->local)
		json_field_str(&l, "local", endpoint(ev->local, ep, sizeof(ep)));
	if (ev->remote)
		json_field_str(&l, "remote", endpoint(ev->remote, ep, sizeof(ep)));
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
	if (ev->text)
		json_field_str(&l, "message", ev->text);
	format_time(ev->t_ns, t, sizeof(t));
	line_printf(&l, ",\"t\":%s}", t);
	line_write(&l, o->fp);
	if (ev->exit_code != 0)
		error_line(o, ev);
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
	case HS_EV_END:
		break;
	}
}

/* ---- entry points -------------------------------------------------------------------- */

/* The first write error on stdout of any hs_output: kept here too, so that it can be
 * asked for once the hs_output (a driver's, on its stack) is gone. */
static int stdout_errno;

void hs_output_init(hs_output *o, FILE *fp, FILE *err)
{
	const char *cs = nl_langinfo(CODESET);

	memset(o, 0, sizeof(*o));
	o->fp = fp;
	o->err = err;
	o->ascii = !(cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0));
	o->last_line = LAST_NONE;
	hs_summary_init(&o->sum);
}

/* ---- the renderer table ---------------------------------------------------------------- */

static void lines_emit(hs_output *o, void *self, const hs_event *ev)
{
	(void)self;
	emit_human(o, ev);
}

static void json_emit(hs_output *o, void *self, const hs_event *ev)
{
	(void)self;
	emit_json(o, ev);
}

const hs_render_ops hs_render_lines = { .name = "lines", .emit = lines_emit };
const hs_render_ops hs_render_json = { .name = "json", .emit = json_emit };

static const hs_render_ops *view_ops(enum hs_view v)
{
	switch (v) {
	case HS_VIEW_JSON: return &hs_render_json;
	case HS_VIEW_LADDER: return &hs_render_ladder;
	case HS_VIEW_LINES: break;
	}
	return &hs_render_lines;
}

int hs_output_add_sink(hs_output *o, const hs_render_ops *ops, char *err, size_t errlen)
{
	void *self = NULL;

	if (o->nsink == HS_OUTPUT_MAXSINK) {
		snprintf(err, errlen, "too many outputs");
		return -1;
	}
	if (ops->open && ops->open(o, &self, err, errlen) < 0)
		return -1;
	o->sink[o->nsink].ops = ops;
	o->sink[o->nsink].self = self;
	o->nsink++;
	return 0;
}

int hs_output_close(hs_output *o)
{
	if (o->closed)
		return o->sink_errno;
	o->closed = true;
	if (o->view_ops && o->view_ops->close)
		o->view_ops->close(o, o->view_self);
	o->view_self = NULL;
	for (int i = 0; i < o->nsink; i++) {
		int e = o->sink[i].ops->close ? o->sink[i].ops->close(o, o->sink[i].self) : 0;
		if (e && !o->sink_errno) {
			o->sink_errno = e;
			o->sink_name = o->sink[i].ops->name;
		}
		o->sink[i].self = NULL;
	}
	o->nsink = 0;
	return o->sink_errno;
}

bool hs_output_is_json(const hs_output *o)
{
	return o->view == HS_VIEW_JSON;
}

static void flush_streams(hs_output *o)
{
	/* A closed pipe (EPIPE), a full disk (ENOSPC): remembered, so that the run
	 * ends instead of going on with nobody told; the first error is the one kept. */
	errno = 0;
	if ((fflush(o->fp) == EOF || ferror(o->fp)) && !o->fp_errno) {
		o->fp_errno = errno ? errno : EIO;
		if (o->fp == stdout && !stdout_errno)
			stdout_errno = o->fp_errno;
	}
	errno = 0;
	if (o->err && (fflush(o->err) == EOF || ferror(o->err)) && !o->err_errno)
		o->err_errno = errno ? errno : EIO;
}

void hs_output_emit(hs_output *o, const hs_event *in)
{
	hs_event copy;
	const hs_event *ev = in;

	if (!o->fp || o->closed)
		return;
	if (!o->view_ops) {
		char err[256];
		o->view_ops = view_ops(o->view);
		if (o->view_ops->open && o->view_ops->open(o, &o->view_self, err, sizeof(err)) < 0) {
			/* A view that cannot start (out of memory): the lines instead. */
			o->view_ops = &hs_render_lines;
			o->view_self = NULL;
		}
	}
	if (in->type == HS_EV_OPEN) { /* who the ends are, for the views that name them */
		o->observed = in->observed;
		o->names[0] = in->local_name ? in->local_name : in->observed ? "A" : "us";
		o->names[1] = in->remote_name ? in->remote_name : in->observed ? "B" : "peer";
	}
	/* The summary: fed every event, handed to the ones that end a connection. */
	hs_summary_add(&o->sum, in);
	if ((in->type == HS_EV_END || in->type == HS_EV_RESULT) && !in->summary && !in->listing) {
		copy = *in;
		copy.summary = &o->sum;
		ev = &copy;
	}
	o->view_ops->emit(o, o->view_self, ev);
	for (int i = 0; i < o->nsink; i++)
		o->sink[i].ops->emit(o, o->sink[i].self, ev);
	if (ev->type == HS_EV_RESULT)
		hs_output_close(o);
	flush_streams(o);
}

int hs_output_stdout_error(void)
{
	return stdout_errno;
}

int hs_output_write_error(const hs_output *o, const char **which)
{
	if (which)
		*which = o->fp == stderr ? "stderr" : "stdout";
	return o->fp ? o->fp_errno : 0;
}
