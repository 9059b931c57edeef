/* What the views share (line.h): the line builder, colors and glyphs, escaping, the
 * time format and the pieces of events every view says the same way. */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/addr.h"
#include "hs/notation.h"
#include "line.h"

/* ---- a line under construction ---------------------------------------------------- */

void line_init(line *l, bool color)
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
int display_width(const char *s, size_t n)
{
	int w = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* Bytes that take no columns (escape codes). */
void line_raw(line *l, const char *s, size_t n)
{
	if (!line_reserve(l, n))
		return;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

void line_putn(line *l, const char *s, size_t n)
{
	line_raw(l, s, n);
	if (!l->failed)
		l->col += display_width(s, n);
}

void line_puts(line *l, const char *s)
{
	line_putn(l, s, strlen(s));
}

void line_putc(line *l, char c)
{
	line_putn(l, &c, 1);
}

void line_printf(line *l, const char *fmt, ...)
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
void line_text(line *l, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		line_putc(l, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
}

void line_pad(line *l, int col)
{
	while (l->col < col && !l->failed)
		line_putc(l, ' ');
}

/* Pad to col, but leave at least min spaces after what is there. */
void line_gap(line *l, int col, int min)
{
	line_pad(l, l->col + min > col ? l->col + min : col);
}

/* Trailing blanks go (padding for columns that stayed empty); one write. */
void line_write(line *l, FILE *fp)
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

void line_color(line *l, const char *code)
{
	if (l->color)
		line_raw(l, code, strlen(code));
}

void line_colored(line *l, const char *code, const char *s)
{
	line_color(l, code);
	line_puts(l, s);
	line_color(l, C_RESET);
}

const char *arrow_right(const hs_output *o) { return o->ascii ? "->" : "\u2192"; }
const char *arrow_left(const hs_output *o) { return o->ascii ? "<-" : "\u2190"; }
const char *ellipsis(const hs_output *o) { return o->ascii ? "..." : "\u2026"; }

const char *dir_arrow(const hs_output *o, enum hs_dir d)
{
	return d == HS_DIR_OUT ? arrow_right(o) : arrow_left(o);
}

/* ---- escaping ----------------------------------------------------------------------- */

/* The escape for one byte (or the byte itself) into tmp; returns its length. */
size_t escape_byte(uint8_t c, bool json, char tmp[8])
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
size_t escape_into(const uint8_t *p, size_t n, char *out, size_t outlen, bool json,
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
void json_bytes(line *l, const uint8_t *p, size_t n)
{
	char tmp[8];

	line_raw(l, "\"", 1);
	for (size_t i = 0; i < n && !l->failed; i++)
		line_raw(l, tmp, escape_byte(p[i], true, tmp));
	line_raw(l, "\"", 1);
}

/* A JSON string of text: valid UTF-8 passes through, stray bytes become \u00XX, so
 * the line stays valid JSON whatever the caller hands in. */
void json_str(line *l, const char *s)
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

void json_field_str(line *l, const char *key, const char *val)
{
	line_printf(l, ",\"%s\":", key);
	json_str(l, val);
}

void format_time(uint64_t t_ns, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, t_ns / 1000000000u, t_ns % 1000000000u / 1000u);
}
const char *note_of(const hs_event *ev)
{
	if (ev->note_text && ev->note_text[0])
		return ev->note_text;
	if (ev->note != HS_NOTE_NONE)
		return hs_note_name(ev->note);
	return NULL;
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
const char *notation_of(const hs_event *ev, char *buf, size_t len)
{
	const hs_segment *s = ev->seg;

	return hs_notation_format(s, s->seq - ev->rseq, (s->flags & HS_ACK) ? s->ack - ev->rack : 0, buf, len);
}
void put_endpoints(const hs_output *o, line *l, const hs_event *ev)
{
	char a[HS_ENDPOINT_STRLEN], b[HS_ENDPOINT_STRLEN];

	if (ev->local && ev->remote)
		line_printf(l, " %s %s %s", hs_endpoint_format(ev->local, a, sizeof(a)), arrow_right(o),
		            hs_endpoint_format(ev->remote, b, sizeof(b)));
	else if (ev->remote)
		line_printf(l, " %s", hs_endpoint_format(ev->remote, b, sizeof(b)));
	else if (ev->local)
		line_printf(l, " %s", hs_endpoint_format(ev->local, a, sizeof(a)));
}

/* The one line on stderr that every failure prints (INTERFACE.md, exit status). */
void error_line(const hs_output *o, const hs_event *ev)
{
	line l;

	/* What the view wrote before it comes first, also where both go to one place. */
	if (o->fp && o->fp != o->err)
		fflush(o->fp);
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
void json_begin(line *l, const char *type, uint64_t t_ns)
{
	char t[32];

	format_time(t_ns, t, sizeof(t));
	line_printf(l, "{\"type\":\"%s\",\"t\":%s", type, t);
}
bool summary_has_figures(const hs_summary *s)
{
	return s && (s->segments[0] || s->segments[1] || s->has_rtt || s->has_reaction || s->has_teardown);
}

bool summary_text(const hs_output *o, const hs_summary *s, char *buf, size_t len)
{
	hs_sbuf b = { buf, len, 0, false };

	if (len == 0 || !summary_has_figures(s))
		return false;
	buf[0] = '\0';
	hs_summary_text(s, side_name(o, 0), side_name(o, 1), &b);
	return buf[0] != '\0';
}

const char *side_name(const hs_output *o, int side)
{
	if (o->names[side])
		return o->names[side];
	return side == 0 ? (o->observed ? "A" : "us") : (o->observed ? "B" : "peer");
}
