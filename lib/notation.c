/* Segment notation (packetdrill's) and field=value edits: see include/hs/notation.h.
 *
 * The subset of packetdrill's grammar (parser.y: tcp_packet_spec, from the flags on)
 * accepted here, words separated by blanks:
 *
 *     FLAGS [START:END(LEN)] [ack N] [win N] [urg N] [<OPTION,OPTION,...>]
 *
 *   FLAGS   letters F S R P . U E W as packetdrill prints them ('.' = ACK, E = ECE,
 *           W = CWR), plus hs's A (ACK) and C (CWR), or '-' for none. packetdrill's
 *           own 'A' is AccECN's AE bit, which hs cannot send: here A means ACK.
 *           Names (SYN,ACK) and "none" are accepted too (hs_flags_parse).
 *   START:END(LEN)  one word without blanks, right after the flags; END must be
 *           START + LEN modulo 2^32 (SYN and FIN take no room in END, as in
 *           packetdrill: "S 0:0(0)"); LEN <= 65495. START is relative to our ISN.
 *   ack N   N, +N, -N or =N (hs_num_parse); relative to the peer's ISN. Taken even
 *           without the ACK flag (a crafted segment may carry it).
 *   win N   0 .. 65535, unscaled.  urg N  0 .. 65535, taken even without URG.
 *           ack, win and urg may come in any order, each once.
 *   <...>   last; "<>" is no options. Items, separated by ',':
 *             nop  eol  sackOK  mss N  wscale N (0..255)  TS val N ecr N
 *             sack L:R [L:R ...]   (1 to 4 blocks, kept as given: absolute 32-bit
 *                                   values, where packetdrill's scripts are relative)
 *             md5 [HEX]            (16 bytes of digest; without it, zeros)
 *             FO [HEX]             (TCP Fast Open, kind 34; without a cookie, a request)
 *           and hs's --opt items (hs_opt_spec_parse): ts alone (TSval/TSecr filled in
 *           at send time), tfo, mss=N, wscale=N, ts=VAL:ECR, raw=KIND:HEX, ...
 *           Words are matched in any case. At most 40 bytes once encoded.
 *
 * Not accepted: packetdrill's timing and direction ("+0 <"), IP info ("[ect0]"),
 * "<...>" (any options), FOEXP, ECN (AccECN), numbers split by blanks ("0 : 0 ( 0 )").
 * Numbers are decimal or 0x hex.
 *
 * Every parser works on a copy of the spec and stores it only on success, so a
 * refused edit changes nothing. */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hs/bytes.h"
#include "hs/sbuf.h"
#include "hs/notation.h"
#include "hs/payload.h"

#define MAX_SEG_LEN 65495      /* the largest payload of an IPv4 datagram of 65535 */
#define QUOTE_MAX 80           /* bytes of the user's text shown in a message */
#define QUOTE_BUF (QUOTE_MAX + 4)
#define MSG_MAX 256
#define MAX_ITEM_WORDS 6       /* "TS val N ecr N" is 5; "sack" takes up to 4 blocks */
#define MAX_COPY 512           /* a value handed to a parser that needs a C string */
#define MD5_DIGEST 16
#define TFO_COOKIE_MAX 16

#define KNOWN_FIELDS "flags, seq, ack, win, urg, len, opt, ttl, tos, id, df, csum"
#define KNOWN_OPTIONS "nop, eol, sackOK, mss N, wscale N, TS val N ecr N, sack L:R, md5 [HEX], " \
	"FO [HEX], ts, and --opt items such as mss=N, raw=KIND:HEX"
#define KNOWN_FLAGS "letters FSRP.AUECW, '-', or names FIN,SYN,RST,PSH,ACK,URG,ECE,CWR"

/* Where a message goes: one line, never longer than len - 1. */
typedef struct perr {
	char *buf;
	size_t len;
} perr;

static int fail(perr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(perr *e, const char *fmt, ...)
{
	va_list ap;

	if (e->buf && e->len) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A piece of the user's text (not NUL-terminated). */
typedef struct span {
	const char *p;
	size_t n;
} span;

/* The user's text for a message: control bytes and '"' shown as '?' so that the
 * message stays one line and its quotes balanced; long text cut with "...". */
static const char *quote(char out[QUOTE_BUF], span s)
{
	size_t n = s.n <= QUOTE_MAX ? s.n : QUOTE_MAX;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		out[i] = (c < 0x20 || c == 0x7f || c == '"') ? '?' : (char)c;
	}
	if (n < s.n) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static span span_of(const char *s)
{
	return (span){ s, strlen(s) };
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static span trim(span s)
{
	while (s.n && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

static bool span_is(span s, const char *word)
{
	return strlen(word) == s.n && strncasecmp(s.p, word, s.n) == 0;
}

/* The next blank-separated word of s, advancing s past it; n == 0 at the end. */
static span next_word(span *s)
{
	span w;

	*s = trim(*s);
	w.p = s->p;
	w.n = 0;
	while (w.n < s->n && !is_blank(s->p[w.n]))
		w.n++;
	s->p += w.n;
	s->n -= w.n;
	return w;
}

/* ---- numbers ---------------------------------------------------------------------- */

enum { NUM_OK = 0, NUM_BAD = -1, NUM_BIG = -2 };

static int digit(char c, unsigned base)
{
	if (base == 16)
		return hs_hex_digit((unsigned char)c);
	return c >= '0' && c <= '9' ? c - '0' : -1;
}

/* Decimal or 0x hex, no sign, no blanks, value <= max. Anything but digits is
 * NUM_BAD, whatever its size, so that a message says the right thing. */
static int parse_u32(span s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;
	bool big = false;

	if (s.n > 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i >= s.n)
		return NUM_BAD;
	for (; i < s.n; i++) {
		int d = digit(s.p[i], base);
		if (d < 0)
			return NUM_BAD;
		v = v * base + (unsigned)d;
		if (v > max) {
			big = true;
			v = max; /* no overflow, however many digits */
		}
	}
	if (big)
		return NUM_BIG;
	*out = (uint32_t)v;
	return NUM_OK;
}

/* A number named what (for the message), 0 .. max. */
static int parse_value(span s, const char *what, uint32_t max, uint32_t *out, perr *e)
{
	char q[QUOTE_BUF];
	int rc = parse_u32(s, max, out);

	if (rc == NUM_BAD)
		return fail(e, "%s \"%s\" is not a number", what, quote(q, s));
	if (rc == NUM_BIG)
		return fail(e, "%s \"%s\" is over %" PRIu32, what, quote(q, s), max);
	return 0;
}

static int parse_num(span s, hs_num *out, perr *e)
{
	char q[QUOTE_BUF];
	hs_num n = { .how = HS_NUM_REL };
	span digits = s;

	if (s.n && (s.p[0] == '+' || s.p[0] == '-' || s.p[0] == '=')) {
		n.how = s.p[0] == '+' ? HS_NUM_FWD : s.p[0] == '-' ? HS_NUM_BACK : HS_NUM_ABS;
		digits.p++;
		digits.n--;
	}
	int rc = parse_u32(digits, UINT32_MAX, &n.v);
	if (rc == NUM_BAD)
		return fail(e, "number \"%s\" is not N, +N, -N or =N", quote(q, s));
	if (rc == NUM_BIG)
		return fail(e, "number \"%s\" is over 4294967295", quote(q, s));
	*out = n;
	return 0;
}

/* ---- flags ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	uint8_t bit;
} flag_names[] = {
	{ "FIN", HS_FIN }, { "SYN", HS_SYN }, { "RST", HS_RST }, { "PSH", HS_PSH },
	{ "ACK", HS_ACK }, { "URG", HS_URG }, { "ECE", HS_ECE }, { "CWR", HS_CWR },
};

static int flag_letter(char c)
{
	switch (c) {
	case 'F': return HS_FIN;
	case 'S': return HS_SYN;
	case 'R': return HS_RST;
	case 'P': return HS_PSH;
	case '.': case 'A': return HS_ACK;
	case 'U': return HS_URG;
	case 'E': return HS_ECE;
	case 'C': case 'W': return HS_CWR;
	default: return -1;
	}
}

/* "SYN,ACK" (separators , | +). Returns 0, or -1 without a message. */
static int parse_flag_names(span s, uint8_t *out)
{
	uint8_t f = 0;
	size_t i = 0;

	while (i <= s.n) {
		size_t j = i;
		while (j < s.n && s.p[j] != ',' && s.p[j] != '|' && s.p[j] != '+')
			j++;
		span name = { s.p + i, j - i };
		size_t k = 0;
		while (k < sizeof(flag_names) / sizeof(flag_names[0]) && !span_is(name, flag_names[k].name))
			k++;
		if (k == sizeof(flag_names) / sizeof(flag_names[0]))
			return -1;
		f |= flag_names[k].bit;
		i = j + 1;
	}
	*out = f;
	return 0;
}

/* Letters, names first: "ECE" and "CWR" are names, not E+C+E or C+W+R. */
static int parse_flags(span s, uint8_t *out, perr *e)
{
	char q[QUOTE_BUF];

	if (s.n == 0)
		return fail(e, "flags \"\": none given (%s)", KNOWN_FLAGS);
	if (span_is(s, "none") || span_is(s, "0") || span_is(s, "-")) {
		*out = 0;
		return 0;
	}
	if (parse_flag_names(s, out) == 0)
		return 0;
	uint8_t f = 0;
	for (size_t i = 0; i < s.n; i++) {
		int bit = flag_letter(s.p[i]);
		if (bit < 0) {
			if (s.p[i] >= 0x21 && s.p[i] < 0x7f && s.p[i] != '"')
				return fail(e, "flags \"%s\": unknown flag '%c' (%s)", quote(q, s), s.p[i], KNOWN_FLAGS);
			return fail(e, "flags \"%s\": unknown flag (%s)", quote(q, s), KNOWN_FLAGS);
		}
		if (f & bit)
			return fail(e, "flags \"%s\": '%c' given twice", quote(q, s), s.p[i]);
		f |= (uint8_t)bit;
	}
	*out = f;
	return 0;
}

/* ---- options ------------------------------------------------------------------------ */

/* Adds an item, refusing a list that would not fit in 40 bytes once encoded. */
static int append_item(hs_opt_spec *spec, const hs_opt_item *it, span whole, perr *e)
{
	char q[QUOTE_BUF];
	uint8_t wire[HS_OPT_MAXLEN];
	const char *why = NULL;

	if (spec->n < HS_OPT_MAXLEN) {
		spec->item[spec->n++] = *it;
		if (hs_opt_spec_encode(spec, 0, 0, wire, &why) >= 0)
			return 0;
		spec->n--;
	}
	return fail(e, "options over 40 bytes at \"%s\"", quote(q, whole));
}

/* Even-length hex into at most max bytes; returns the count, or -1. */
static int parse_hex(span s, uint8_t *out, size_t max)
{
	if (s.n % 2 != 0 || s.n / 2 > max)
		return -1;
	for (size_t i = 0; i < s.n; i += 2) {
		int hi = hs_hex_digit((unsigned char)s.p[i]), lo = hs_hex_digit((unsigned char)s.p[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(s.n / 2);
}



/* "sack L:R [L:R ...]": a raw kind-5 item (hs_opt_item has no SACK blocks). */
static int parse_sack(const span *w, int nw, span whole, hs_opt_item *it, perr *e)
{
	char q[QUOTE_BUF];

	if (nw == 1)
		return fail(e, "\"sack\" needs blocks L:R (SACK-permitted is sackOK)");
	if (nw - 1 > HS_OPT_MAXSACK)
		return fail(e, "\"%s\": at most %d SACK blocks", quote(q, whole), HS_OPT_MAXSACK);
	it->raw = true;
	it->kind = HS_OPTK_SACK;
	for (int i = 1; i < nw; i++) {
		const char *colon = memchr(w[i].p, ':', w[i].n);
		uint32_t l, r;
		if (!colon || parse_u32((span){ w[i].p, (size_t)(colon - w[i].p) }, UINT32_MAX, &l) != NUM_OK ||
		    parse_u32((span){ colon + 1, w[i].n - (size_t)(colon + 1 - w[i].p) }, UINT32_MAX, &r) != NUM_OK)
			return fail(e, "SACK block \"%s\" is not L:R (each 0 .. 4294967295)", quote(q, w[i]));
		hs_put32(it->data + it->len, l);
		hs_put32(it->data + it->len + 4, r);
		it->len = (uint8_t)(it->len + 8);
	}
	return 0;
}

static int parse_ts_words(const span *w, int nw, span whole, hs_opt_item *it, perr *e)
{
	char q[QUOTE_BUF];

	it->kind = HS_OPTK_TS;
	if (nw == 1) {
		it->ts_auto = true;
		return 0;
	}
	if (nw != 5 || !span_is(w[1], "val") || !span_is(w[3], "ecr"))
		return fail(e, "\"%s\" is not TS val N ecr N", quote(q, whole));
	if (parse_value(w[2], "TS val", UINT32_MAX, &it->v1, e) < 0 ||
	    parse_value(w[4], "TS ecr", UINT32_MAX, &it->v2, e) < 0)
		return -1;
	return 0;
}

/* md5 [HEX] and FO [HEX]: kind, the most bytes, and whether exactly that many. */
static int parse_blob(const span *w, int nw, span whole, hs_opt_item *it, perr *e)
{
	char q[QUOTE_BUF];
	bool md5 = span_is(w[0], "md5");

	it->kind = md5 ? HS_OPTK_MD5 : HS_OPTK_TFO;
	if (nw == 1)
		return 0;
	int n = nw == 2 ? parse_hex(w[1], it->data, md5 ? MD5_DIGEST : TFO_COOKIE_MAX) : -1;
	if (n < 0 || (md5 && n != MD5_DIGEST))
		return fail(e, md5 ? "\"%s\" is not md5 [HEX] with 16 bytes of hex"
		                   : "\"%s\" is not FO [HEX] with at most 16 bytes of hex", quote(q, whole));
	it->len = (uint8_t)n;
	/* hs's md5 item is a placeholder of zeros: a given digest goes as raw bytes. */
	it->raw = md5;
	return 0;
}

/* A one-word item in hs's --opt syntax, parsed by hs_opt_spec_parse. */
static int parse_hs_item(span whole, hs_opt_item *it, perr *e)
{
	char copy[MAX_COPY], q[QUOTE_BUF];
	hs_opt_spec one;

	if (whole.n >= sizeof(copy))
		return fail(e, "option \"%s\" is too long", quote(q, whole));
	memcpy(copy, whole.p, whole.n);
	copy[whole.n] = '\0';
	if (hs_opt_spec_parse(copy, &one, e->buf, e->len) < 0)
		return -1;
	if (one.n != 1)
		return fail(e, "option \"%s\" is not one item", quote(q, whole));
	*it = one.item[0];
	return 0;
}

static int parse_item_words(const span *w, int nw, span whole, hs_opt_item *it, perr *e)
{
	char q[QUOTE_BUF];
	uint32_t v;

	memset(it, 0, sizeof(*it));
	if (span_is(w[0], "nop") || span_is(w[0], "eol") || span_is(w[0], "sackOK")) {
		if (nw != 1)
			return fail(e, "option \"%s\" takes no value", quote(q, whole));
		it->kind = span_is(w[0], "nop") ? HS_OPTK_NOP : span_is(w[0], "eol") ? HS_OPTK_EOL : HS_OPTK_SACKOK;
		return 0;
	}
	if (span_is(w[0], "mss") || span_is(w[0], "wscale")) {
		bool mss = span_is(w[0], "mss");
		if (nw != 2)
			return fail(e, "\"%s\" is not %s", quote(q, whole), mss ? "mss N" : "wscale N");
		if (parse_value(w[1], mss ? "mss" : "wscale", mss ? 65535 : 255, &v, e) < 0)
			return -1;
		it->kind = mss ? HS_OPTK_MSS : HS_OPTK_WSCALE;
		it->v1 = v;
		return 0;
	}
	if (span_is(w[0], "TS"))
		return parse_ts_words(w, nw, whole, it, e);
	if (span_is(w[0], "sack"))
		return parse_sack(w, nw, whole, it, e);
	if (span_is(w[0], "md5") || span_is(w[0], "FO"))
		return parse_blob(w, nw, whole, it, e);
	if (span_is(w[0], "bytes"))
		return fail(e, "\"%s\": option bytes that are no well-formed option cannot be sent", quote(q, whole));
	if (nw == 1 && (memchr(w[0].p, '=', w[0].n) || span_is(w[0], "tfo")))
		return parse_hs_item(whole, it, e);
	return fail(e, "unknown option \"%s\" (known: %s)", quote(q, whole), KNOWN_OPTIONS);
}

/* One item between ',' of "<...>". */
static int parse_item(span whole, hs_opt_spec *spec, perr *e)
{
	char q[QUOTE_BUF];
	span w[MAX_ITEM_WORDS], rest = whole;
	int nw = 0;
	hs_opt_item it;

	whole = trim(whole);
	if (whole.n == 0)
		return fail(e, "empty option between ','");
	for (;;) {
		span word = next_word(&rest);
		if (word.n == 0)
			break;
		if (nw == MAX_ITEM_WORDS)
			return fail(e, "option \"%s\" has too many words", quote(q, whole));
		w[nw++] = word;
	}
	if (parse_item_words(w, nw, whole, &it, e) < 0)
		return -1;
	return append_item(spec, &it, whole, e);
}

/* "<...>" at s (s.p[0] == '<'); advances s past the '>'. */
static int parse_options(span *s, hs_opt_spec *spec, perr *e)
{
	char q[QUOTE_BUF];
	const char *close = memchr(s->p, '>', s->n);
	const char *inner = memchr(s->p + 1, '<', s->n - 1);

	if (!close || (inner && inner < close))
		return fail(e, "options \"%s\" have no closing '>'", quote(q, *s));
	span body = { s->p + 1, (size_t)(close - s->p - 1) };
	s->n -= (size_t)(close + 1 - s->p);
	s->p = close + 1;
	memset(spec, 0, sizeof(*spec));
	if (trim(body).n == 0)
		return 0;
	for (;;) {
		const char *comma = memchr(body.p, ',', body.n);
		span item = { body.p, comma ? (size_t)(comma - body.p) : body.n };
		if (parse_item(item, spec, e) < 0)
			return -1;
		if (!comma)
			return 0;
		body.n -= (size_t)(comma + 1 - body.p);
		body.p = comma + 1;
	}
}

/* ---- the notation ------------------------------------------------------------------ */

/* "START:END(LEN)". */
static int parse_seq(span w, hs_seg_spec *sp, perr *e)
{
	char q[QUOTE_BUF];
	const char *colon = memchr(w.p, ':', w.n);
	const char *paren = memchr(w.p, '(', w.n);
	const char *close = w.p + w.n - 1;
	uint32_t start = 0, end = 0, len = 0;

	if (!colon || !paren || paren < colon || *close != ')' || close < paren)
		return fail(e, "sequence \"%s\" is not START:END(LEN)", quote(q, w));
	int rs = parse_u32((span){ w.p, (size_t)(colon - w.p) }, UINT32_MAX, &start);
	int re = parse_u32((span){ colon + 1, (size_t)(paren - colon - 1) }, UINT32_MAX, &end);
	int rl = parse_u32((span){ paren + 1, (size_t)(close - paren - 1) }, MAX_SEG_LEN, &len);
	if (rs == NUM_BAD || re == NUM_BAD || rl == NUM_BAD)
		return fail(e, "sequence \"%s\" is not START:END(LEN)", quote(q, w));
	if (rs != NUM_OK || re != NUM_OK)
		return fail(e, "sequence \"%s\": START and END are 0 .. 4294967295", quote(q, w));
	if (rl != NUM_OK)
		return fail(e, "sequence \"%s\": LEN is over %d", quote(q, w), MAX_SEG_LEN);
	/* Modulo 2^32, like the numbers on the wire: "4294967295:4(5)" wraps. */
	if ((uint32_t)(start + len) != end)
		return fail(e, "sequence \"%s\": END is not START+LEN (%" PRIu32 ")", quote(q, w),
		            (uint32_t)(start + len));
	sp->seq.how = HS_NUM_REL;
	sp->seq.v = start;
	sp->have_len = true;
	sp->len = len;
	return 0;
}

enum { SEEN_ACK = 1, SEEN_WIN = 2, SEEN_URG = 4 };

/* "ack N", "win N", "urg N": the keyword is w, its value the next word of rest. */
static int parse_keyword(span w, span *rest, unsigned *seen, hs_seg_spec *sp, perr *e)
{
	char q[QUOTE_BUF];
	unsigned bit = span_is(w, "ack") ? SEEN_ACK : span_is(w, "win") ? SEEN_WIN : SEEN_URG;
	const char *name = bit == SEEN_ACK ? "ack" : bit == SEEN_WIN ? "win" : "urg";
	uint32_t v;

	if (*seen & bit)
		return fail(e, "\"%s\" given twice", name);
	*seen |= bit;
	/* The value ends at a blank or at '<' ("win 0<nop>"). */
	span t = trim(*rest);
	span val = { t.p, 0 };
	while (val.n < t.n && !is_blank(t.p[val.n]) && t.p[val.n] != '<')
		val.n++;
	rest->p = t.p + val.n;
	rest->n = t.n - val.n;
	if (val.n == 0)
		return fail(e, "\"%s\" needs a number", quote(q, w));
	if (bit == SEEN_ACK)
		return parse_num(val, &sp->ack, e);
	if (parse_value(val, name, 65535, &v, e) < 0)
		return -1;
	if (bit == SEEN_WIN) {
		sp->have_win = true;
		sp->win = (uint16_t)v;
	} else {
		sp->have_urg = true;
		sp->urg = (uint16_t)v;
	}
	return 0;
}

static bool looks_like_seq(span w)
{
	return w.n && w.p[0] >= '0' && w.p[0] <= '9' && memchr(w.p, ':', w.n);
}

/* A word of the notation: up to a blank or '<'. */
static span next_token(span *s)
{
	span w;

	*s = trim(*s);
	w.p = s->p;
	w.n = 0;
	while (w.n < s->n && !is_blank(s->p[w.n]) && s->p[w.n] != '<')
		w.n++;
	s->p += w.n;
	s->n -= w.n;
	return w;
}

static int parse_notation(span s, hs_seg_spec *sp, perr *e)
{
	char q[QUOTE_BUF];
	unsigned seen = 0;
	span w = next_token(&s);

	if (w.n == 0)
		return fail(e, "no flags (expected FLAGS [START:END(LEN)] [ack N] [win N] [urg N] [<OPTIONS>])");
	if (parse_flags(w, &sp->flags, e) < 0)
		return -1;
	sp->have_flags = true;
	for (bool first = true;; first = false) {
		s = trim(s);
		if (s.n == 0)
			return 0;
		if (s.p[0] == '<') {
			if (parse_options(&s, &sp->opts, e) < 0)
				return -1;
			sp->have_opts = true;
			s = trim(s);
			if (s.n)
				return fail(e, "\"%s\" after the options", quote(q, s));
			return 0;
		}
		w = next_token(&s);
		if (looks_like_seq(w)) {
			if (!first)
				return fail(e, "sequence \"%s\" must come right after the flags", quote(q, w));
			if (parse_seq(w, sp, e) < 0)
				return -1;
		} else if (span_is(w, "ack") || span_is(w, "win") || span_is(w, "urg")) {
			if (parse_keyword(w, &s, &seen, sp, e) < 0)
				return -1;
		} else {
			return fail(e, "unknown word \"%s\" (expected START:END(LEN), ack N, win N, urg N or <OPTIONS>)",
			            quote(q, w));
		}
	}
}

/* ---- field=value ------------------------------------------------------------------- */

enum field_id { F_FLAGS, F_SEQ, F_ACK, F_WIN, F_URG, F_LEN, F_OPT, F_TTL, F_TOS, F_ID, F_DF, F_CSUM, F_COUNT };

static const char *const field_names[F_COUNT] = {
	"flags", "seq", "ack", "win", "urg", "len", "opt", "ttl", "tos", "id", "df", "csum",
};

static int parse_opt_value(span val, hs_seg_spec *sp, perr *e)
{
	char copy[MAX_COPY], q[QUOTE_BUF];

	if (val.n >= sizeof(copy))
		return fail(e, "opt \"%s\" is too long", quote(q, val));
	memcpy(copy, val.p, val.n);
	copy[val.n] = '\0';
	if (hs_opt_spec_parse(copy, &sp->opts, e->buf, e->len) < 0)
		return -1;
	sp->have_opts = true;
	return 0;
}

static int parse_choice(span val, const char *what, const char *no, const char *yes, bool *out, perr *e)
{
	char q[QUOTE_BUF];

	if (span_is(val, no) || span_is(val, yes)) {
		*out = span_is(val, yes);
		return 0;
	}
	return fail(e, "%s \"%s\" is not %s or %s", what, quote(q, val), no, yes);
}

static int parse_field(enum field_id id, span val, hs_seg_spec *sp, perr *e)
{
	uint32_t v = 0;

	switch (id) {
	case F_FLAGS:
		sp->have_flags = true;
		return parse_flags(val, &sp->flags, e);
	case F_SEQ:
		return parse_num(val, &sp->seq, e);
	case F_ACK:
		return parse_num(val, &sp->ack, e);
	case F_OPT:
		return parse_opt_value(val, sp, e);
	case F_DF:
		sp->ip.set_df = true;
		return parse_choice(val, "df", "0", "1", &sp->ip.df, e);
	case F_CSUM:
		return parse_choice(val, "csum", "ok", "bad", &sp->ip.bad_csum, e);
	case F_WIN: case F_URG: case F_ID:
		if (parse_value(val, field_names[id], 65535, &v, e) < 0)
			return -1;
		break;
	case F_LEN:
		if (parse_value(val, "len", MAX_SEG_LEN, &v, e) < 0)
			return -1;
		break;
	default: /* ttl, tos */
		if (parse_value(val, field_names[id], 255, &v, e) < 0)
			return -1;
		break;
	}
	switch (id) {
	case F_WIN: sp->have_win = true; sp->win = (uint16_t)v; break;
	case F_URG: sp->have_urg = true; sp->urg = (uint16_t)v; break;
	case F_ID: sp->ip.set_ip_id = true; sp->ip.ip_id = (uint16_t)v; break;
	case F_LEN: sp->have_len = true; sp->len = v; break;
	case F_TTL: sp->ip.set_ttl = true; sp->ip.ttl = (uint8_t)v; break;
	default: sp->ip.set_tos = true; sp->ip.tos = (uint8_t)v; break;
	}
	return 0;
}

static int parse_fields(span s, hs_seg_spec *sp, perr *e)
{
	char q[QUOTE_BUF], q2[QUOTE_BUF];
	unsigned seen = 0;

	for (;;) {
		span w = next_word(&s);
		if (w.n == 0)
			return 0;
		const char *eq = memchr(w.p, '=', w.n);
		if (!eq)
			return fail(e, "\"%s\" is not FIELD=VALUE (fields: %s)", quote(q, w), KNOWN_FIELDS);
		span name = { w.p, (size_t)(eq - w.p) }, val = { eq + 1, w.n - name.n - 1 };
		int id = 0;
		while (id < F_COUNT && !span_is(name, field_names[id]))
			id++;
		if (id == F_COUNT)
			return fail(e, "unknown field \"%s\" (known: %s)", quote(q, name), KNOWN_FIELDS);
		if (seen & (1u << id))
			return fail(e, "field \"%s\" given twice", field_names[id]);
		seen |= 1u << id;
		if (val.n == 0 && id != F_OPT)
			return fail(e, "\"%s\" has no value", quote(q2, w));
		if (parse_field((enum field_id)id, val, sp, e) < 0)
			return -1;
	}
}

/* ---- public parsers ------------------------------------------------------------------ */

void hs_seg_spec_init(hs_seg_spec *sp)
{
	memset(sp, 0, sizeof(*sp));
}

int hs_flags_parse(const char *text, uint8_t *flags, char *err, size_t errlen)
{
	perr e = { err, errlen };
	uint8_t f;

	if (parse_flags(trim(span_of(text)), &f, &e) < 0)
		return -1;
	*flags = f;
	return 0;
}

int hs_num_parse(const char *text, hs_num *out, char *err, size_t errlen)
{
	perr e = { err, errlen };
	hs_num n;

	if (parse_num(trim(span_of(text)), &n, &e) < 0)
		return -1;
	*out = n;
	return 0;
}

/* Runs a parser on a copy of sp, with the whole text in front of its message. */
static int parse_whole(const char *text, const char *what,
                       int (*parse)(span, hs_seg_spec *, perr *),
                       hs_seg_spec *sp, char *err, size_t errlen)
{
	char msg[MSG_MAX], q[QUOTE_BUF];
	perr e = { msg, sizeof(msg) };
	hs_seg_spec copy = *sp;
	span s = trim(span_of(text));

	msg[0] = '\0';
	if (parse(s, &copy, &e) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "bad %s \"%s\": %s", what, quote(q, s), msg);
		return -1;
	}
	*sp = copy;
	return 0;
}

int hs_notation_parse(const char *text, hs_seg_spec *sp, char *err, size_t errlen)
{
	return parse_whole(text, "segment", parse_notation, sp, err, errlen);
}

int hs_fields_parse(const char *text, hs_seg_spec *sp, char *err, size_t errlen)
{
	return parse_whole(text, "edit", parse_fields, sp, err, errlen);
}

int hs_edit_parse(const char *text, hs_seg_spec *sp, char *err, size_t errlen)
{
	span s = span_of(text);
	/* Up to '<' too: "S<raw=5:0a>" is the notation, though its first blank-separated
	 * word has '='. */
	span first = next_token(&s);

	if (trim(span_of(text)).n == 0 || memchr(first.p, '=', first.n))
		return hs_fields_parse(text, sp, err, errlen);
	return hs_notation_parse(text, sp, err, errlen);
}

uint32_t hs_num_resolve(const hs_num *n, uint32_t isn, uint32_t next, uint32_t dflt)
{
	switch (n->how) {
	case HS_NUM_REL:
		return isn + n->v;
	case HS_NUM_FWD:
		return next + n->v;
	case HS_NUM_BACK:
		return next - n->v;
	case HS_NUM_ABS:
		return n->v;
	default:
		return dflt;
	}
}

/* ---- formatting ------------------------------------------------------------------------ */


/* One well-formed option (len >= 2, body len - 2 bytes) in packetdrill's words, or
 * raw=KIND:HEX when packetdrill has no word for it (or its length is not the usual
 * one), so that parsing the text gives the same bytes back. */
static void format_option(hs_sbuf *b, uint8_t kind, uint8_t len, const uint8_t *body)
{
	size_t n = len - 2u;

	if (kind == HS_OPTK_MSS && len == 4) {
		hs_sb_printf(b, "mss %u", (unsigned)(body[0] << 8 | body[1]));
	} else if (kind == HS_OPTK_WSCALE && len == 3) {
		hs_sb_printf(b, "wscale %u", body[0]);
	} else if (kind == HS_OPTK_SACKOK && len == 2) {
		hs_sb_printf(b, "sackOK");
	} else if (kind == HS_OPTK_SACK && n >= 8 && n % 8 == 0 && n / 8 <= HS_OPT_MAXSACK) {
		hs_sb_printf(b, "sack");
		for (size_t i = 0; i < n; i += 8)
			hs_sb_printf(b, " %" PRIu32 ":%" PRIu32, hs_get32(body + i), hs_get32(body + i + 4));
	} else if (kind == HS_OPTK_TS && len == 10) {
		hs_sb_printf(b, "TS val %" PRIu32 " ecr %" PRIu32, hs_get32(body), hs_get32(body + 4));
	} else if (kind == HS_OPTK_MD5 && n == MD5_DIGEST) {
		hs_sb_printf(b, "md5 ");
		hs_sb_hex(b, body, n);
	} else if (kind == HS_OPTK_TFO && n <= TFO_COOKIE_MAX) {
		hs_sb_printf(b, n ? "FO " : "FO");
		hs_sb_hex(b, body, n);
	} else {
		hs_sb_printf(b, n ? "raw=%u:" : "raw=%u", kind);
		hs_sb_hex(b, body, n);
	}
}

/* End of the options once trailing EOL padding is dropped: hs_opt_spec_encode pads
 * to a multiple of 4 again, so "<mss 1460,nop,wscale 7>" stands for 8 bytes, not
 * "<...,eol>". Only when the list is a multiple of 4 and the padding under 4 bytes. */
static size_t without_padding(const uint8_t *o, size_t n, size_t last_end)
{
	if (n % 4 != 0 || last_end >= n || n - last_end >= 4)
		return n;
	for (size_t i = last_end; i < n; i++)
		if (o[i] != HS_OPTK_EOL)
			return n;
	return last_end;
}

/* The option bytes, in wire order. Bytes after EOL are shown too (they are sent). A
 * malformed tail (a length byte missing, under 2 or past the end) is shown as
 * "bytes HEX", which the parser refuses: no hs_opt_item can send it. */
static void format_opts(hs_sbuf *b, const uint8_t *o, size_t n)
{
	size_t i = 0, last_end = 0;

	/* A first pass finds where the last option that is not EOL ends. */
	while (i < n) {
		if (o[i] == HS_OPTK_EOL || o[i] == HS_OPTK_NOP) {
			i++;
			if (o[i - 1] == HS_OPTK_NOP)
				last_end = i;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || o[i + 1] > n - i) {
			last_end = n;
			break;
		}
		i += o[i + 1];
		last_end = i;
	}
	n = without_padding(o, n, last_end);
	hs_sb_printf(b, " <");
	for (i = 0; i < n;) {
		if (i)
			hs_sb_printf(b, ",");
		if (o[i] == HS_OPTK_EOL || o[i] == HS_OPTK_NOP) {
			hs_sb_printf(b, o[i] == HS_OPTK_EOL ? "eol" : "nop");
			i++;
		} else if (i + 1 >= n || o[i + 1] < 2 || o[i + 1] > n - i) {
			hs_sb_printf(b, "bytes ");
			hs_sb_hex(b, o + i, n - i);
			break;
		} else {
			format_option(b, o[i], o[i + 1], o + i + 2);
			i += o[i + 1];
		}
	}
	hs_sb_printf(b, ">");
}

/* Letters in tcpdump's order, as packetdrill prints them. */
static void format_flags(hs_sbuf *b, uint8_t flags)
{
	static const struct {
		uint8_t bit;
		char c;
	} order[] = {
		{ HS_FIN, 'F' }, { HS_SYN, 'S' }, { HS_RST, 'R' }, { HS_PSH, 'P' },
		{ HS_ACK, '.' }, { HS_URG, 'U' }, { HS_ECE, 'E' }, { HS_CWR, 'W' },
	};

	if (flags == 0)
		hs_sb_printf(b, "-");
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (flags & order[i].bit)
			hs_sb_printf(b, "%c", order[i].c);
}

const char *hs_notation_format(const hs_segment *seg, uint32_t seq_base, uint32_t ack_base,
                               char *buf, size_t len)
{
	hs_sbuf b = { .p = buf, .len = len };
	uint32_t start = seg->seq - seq_base;
	uint32_t plen = seg->len <= UINT32_MAX ? (uint32_t)seg->len : UINT32_MAX;

	if (len)
		buf[0] = '\0';
	format_flags(&b, seg->flags);
	hs_sb_printf(&b, " %" PRIu32 ":%" PRIu32 "(%" PRIu32 ")", start, (uint32_t)(start + plen), plen);
	if (seg->flags & HS_ACK)
		hs_sb_printf(&b, " ack %" PRIu32, (uint32_t)(seg->ack - ack_base));
	hs_sb_printf(&b, " win %u", seg->win);
	if (seg->flags & HS_URG)
		hs_sb_printf(&b, " urg %u", seg->urp);
	if (seg->opts.raw_len)
		format_opts(&b, seg->opts.raw, seg->opts.raw_len <= HS_OPT_MAXLEN ? seg->opts.raw_len : HS_OPT_MAXLEN);
	return buf;
}

void hs_ip_fields_merge(hs_ip_fields *dst, const hs_ip_fields *o)
{
	if (o->set_ttl) {
		dst->set_ttl = true;
		dst->ttl = o->ttl;
	}
	if (o->set_tos) {
		dst->set_tos = true;
		dst->tos = o->tos;
	}
	if (o->set_ip_id) {
		dst->set_ip_id = true;
		dst->ip_id = o->ip_id;
	}
	if (o->set_df) {
		dst->set_df = true;
		dst->df = o->df;
	}
	if (o->set_flow) {
		dst->set_flow = true;
		dst->flow = o->flow;
	}
	if (o->bad_csum)
		dst->bad_csum = true;
}

void hs_seg_spec_merge(hs_seg_spec *dst, const hs_seg_spec *o)
{
	if (o->have_flags) {
		dst->have_flags = true;
		dst->flags = o->flags;
	}
	if (o->seq.how)
		dst->seq = o->seq;
	if (o->ack.how)
		dst->ack = o->ack;
	if (o->have_len) {
		dst->have_len = true;
		dst->len = o->len;
	}
	if (o->have_win) {
		dst->have_win = true;
		dst->win = o->win;
	}
	if (o->have_urg) {
		dst->have_urg = true;
		dst->urg = o->urg;
	}
	if (o->have_opts) {
		dst->have_opts = true;
		dst->opts = o->opts;
	}
	hs_ip_fields_merge(&dst->ip, &o->ip);
}
