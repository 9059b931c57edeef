/* Scenario scripts: parser and segment matcher (include/hs/script.h).
 *
 * Accepted, line by line (packetdrill's grammar, parser.y/lexer.l, reduced to packets):
 *   blank lines; comments "//..." to the end of the line, "/ * ... * /" (may span
 *   lines), and lines whose first non-blank byte is '#' (comments are not looked
 *   for inside backquotes);
 *   option lines "--tolerance_usecs=N" (or --tolerance-usecs=N) and "--target=HOST:PORT",
 *   before any event;
 *   TIME DIR SEGMENT  with TIME = S[.FRAC] | +S[.FRAC] | A~B | +A~+B | *  (seconds,
 *   up to 9 decimals), DIR = '<' or '>', SEGMENT = hs_notation_parse's notation where
 *   the flags, START:END(LEN), or the value of ack/win/urg may be "*" and the
 *   options may be "<...>";
 *   TIME `command`  (one line).
 * Not accepted: system calls, IP-level info, "+N"/"-N"/"=N" numbers other than
 * "=N" (absolute), multi-line backquotes. */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/payload.h"
#include "hs/script.h"

#define NS_PER_S ((uint64_t)1000000000)
#define WORD_SHOW 40

typedef struct perr {
	char *buf;
	size_t len;
	const char *file;
} perr;

static int fail(perr *e, unsigned lineno, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(perr *e, unsigned lineno, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!e->buf || !e->len)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(e->buf, e->len, "%s:%u: %s", e->file, lineno, msg);
	return -1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The word at p (up to a blank or the end), shortened for a message. */
static const char *word_at(const char *p, char out[WORD_SHOW + 4])
{
	size_t n = 0;

	while (p[n] && !blank(p[n]) && n < WORD_SHOW)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
	if (p[n] && !blank(p[n]))
		strcat(out, "...");
	return out;
}

/* Comments become blanks (newlines kept, so line numbers stay). */
static int strip_comments(char *t, size_t len, perr *e)
{
	unsigned line = 1, open_line = 0;
	bool in_block = false, in_tick = false, in_quote = false, line_start = true;

	for (size_t i = 0; i < len; i++) {
		if (t[i] == '\n') {
			if (in_tick)
				return fail(e, line, "unterminated backquote (a command is one line)");
			if (in_quote)
				return fail(e, line, "unterminated payload string (a \" without its closing \")");
			line++;
			line_start = true;
			continue;
		}
		if (in_block) {
			if (t[i] == '*' && i + 1 < len && t[i + 1] == '/') {
				t[i] = t[i + 1] = ' ';
				i++;
				in_block = false;
			} else {
				t[i] = ' ';
			}
			continue;
		}
		if (in_tick) {
			if (t[i] == '`')
				in_tick = false;
			continue;
		}
		if (in_quote) { /* a payload "...": \" and \\ do not end it */
			if (t[i] == '\\' && i + 1 < len && t[i + 1] != '\n')
				i++;
			else if (t[i] == '"')
				in_quote = false;
			continue;
		}
		if (line_start && blank(t[i]))
			continue;
		if (line_start && t[i] == '#') {
			while (i < len && t[i] != '\n')
				t[i++] = ' ';
			i--;
			continue;
		}
		line_start = false;
		if (t[i] == '`') {
			in_tick = true;
		} else if (t[i] == '"') {
			in_quote = true;
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '/') {
			while (i < len && t[i] != '\n')
				t[i++] = ' ';
			i--;
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			t[i] = t[i + 1] = ' ';
			i++;
			in_block = true;
			open_line = line;
		}
	}
	if (in_tick)
		return fail(e, line, "unterminated backquote (a command is one line)");
	if (in_quote)
		return fail(e, line, "unterminated payload string (a \" without its closing \")");
	if (in_block)
		return fail(e, open_line, "unterminated comment \"/*\"");
	return 0;
}

/* Seconds with up to 9 decimals, into ns. Returns 0 / -1. */
static int parse_secs(const char *s, size_t n, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0;
	size_t i = 0, d = 0;

	if (n == 0 || s[0] < '0' || s[0] > '9')
		return -1;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		whole = whole * 10 + (uint64_t)(s[i] - '0');
		if (whole > HS_SCR_TIME_MAX_S)
			return -1;
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, d++) {
			if (d >= 9)
				return -1;
			frac = frac * 10 + (uint64_t)(s[i] - '0');
		}
		if (d == 0)
			return -1;
		for (; d < 9; d++)
			frac *= 10;
	}
	if (i != n)
		return -1;
	*ns = whole * NS_PER_S + frac;
	return *ns <= HS_SCR_TIME_MAX_S * NS_PER_S ? 0 : -1;
}

static int parse_time(const char *w, size_t n, hs_scr_time *t)
{
	const char *tilde = memchr(w, '~', n);

	memset(t, 0, sizeof(*t));
	if (n == 1 && w[0] == '*') {
		t->kind = HS_SCR_T_ANY;
		return 0;
	}
	if (tilde) {
		const char *a = w, *b = tilde + 1;
		size_t an = (size_t)(tilde - w), bn = n - an - 1;
		bool ra = an && a[0] == '+', rb = bn && b[0] == '+';
		if (ra != rb)
			return -1;
		if (ra) {
			a++, an--, b++, bn--;
		}
		t->kind = HS_SCR_T_RANGE;
		t->rel = ra;
		if (parse_secs(a, an, &t->t_ns) < 0 || parse_secs(b, bn, &t->t2_ns) < 0 || t->t2_ns < t->t_ns)
			return -1;
		return 0;
	}
	if (w[0] == '+') {
		t->kind = HS_SCR_T_REL;
		return parse_secs(w + 1, n - 1, &t->t_ns);
	}
	t->kind = HS_SCR_T_ABS;
	return parse_secs(w, n, &t->t_ns);
}

/* The segment text with its "*" fields and "<...>" taken out (recorded in *any),
 * ready for hs_notation_parse. Returns 0 / -1 with err. */
static int take_wildcards(const char *seg, char *out, size_t outlen, unsigned *any, unsigned lineno, perr *e)
{
	size_t o = 0;
	int nword = 0;
	const char *p = seg;
	const char *prev_kw = NULL;

	*any = 0;
	out[0] = '\0';
	while (*p) {
		while (blank(*p))
			p++;
		if (!*p)
			break;
		if (*p == '<') {
			const char *q = p + 1;
			while (blank(*q))
				q++;
			if (strncmp(q, "...", 3) == 0) {
				q += 3;
				while (blank(*q))
					q++;
				if (*q == '>') {
					q++;
					while (blank(*q))
						q++;
					if (*q) {
						char w[WORD_SHOW + 4];
						return fail(e, lineno, "\"%s\" after the options", word_at(q, w));
					}
					*any |= HS_SCR_ANY_OPTS;
					break;
				}
			}
			/* The rest is the options: copied as is. */
			size_t rest = strlen(p);
			if (o + rest + 2 > outlen)
				return fail(e, lineno, "segment too long");
			out[o++] = ' ';
			memcpy(out + o, p, rest);
			o += rest;
			break;
		}
		const char *w = p;
		while (*p && !blank(*p) && *p != '<')
			p++;
		size_t n = (size_t)(p - w);
		if (n == 1 && w[0] == '*') {
			if (nword == 0) {
				*any |= HS_SCR_ANY_FLAGS;
				/* A placeholder for the parser; the flags are not compared. */
				w = "-";
			} else if (prev_kw) {
				*any |= prev_kw[0] == 'a' ? HS_SCR_ANY_ACK : prev_kw[0] == 'w' ? HS_SCR_ANY_WIN : HS_SCR_ANY_URG;
				/* drop the keyword already copied */
				o -= strlen(prev_kw) + 1;
				out[o] = '\0';
				prev_kw = NULL;
				nword++;
				continue;
			} else if (nword == 1) {
				*any |= HS_SCR_ANY_SEQ;
				nword++;
				continue;
			} else {
				return fail(e, lineno, "\"*\" here stands for nothing (it may replace the flags, "
				            "START:END(LEN), or the value of ack, win or urg)");
			}
			n = 1;
		}
		prev_kw = NULL;
		/* A keyword, never the flags word (a word "ack" there is bad flags). */
		if (nword > 0 && n == 3 && (strncmp(w, "ack", 3) == 0 || strncmp(w, "win", 3) == 0 || strncmp(w, "urg", 3) == 0))
			prev_kw = w[0] == 'a' ? "ack" : w[0] == 'w' ? "win" : "urg";
		if (o + n + 2 > outlen)
			return fail(e, lineno, "segment too long");
		if (o)
			out[o++] = ' ';
		memcpy(out + o, w, n);
		o += n;
		out[o] = '\0';
		nword++;
	}
	out[o] = '\0';
	return 0;
}

/* A payload "TEXT" at the end of a segment line (C escapes as --send takes them, and
 * \" for a quote): cut off *q (the opening quote) and decoded into l->data. */
static int parse_payload(hs_scr_line *l, char *q, perr *e)
{
	char w[WORD_SHOW + 4];
	size_t n = strlen(q);
	char *in = malloc(n * 4 + 1);

	if (!in)
		return fail(e, l->lineno, "out of memory");
	size_t k = 0, i = 1;
	for (; q[i] && q[i] != '"'; i++) {
		if (q[i] == '\\' && q[i + 1] == '"') { /* \" is a quote: \x22 for the decoder */
			memcpy(in + k, "\\x22", 4);
			k += 4;
			i++;
		} else if (q[i] == '\\' && q[i + 1]) {
			in[k++] = q[i++];
			in[k++] = q[i];
		} else {
			in[k++] = q[i];
		}
	}
	in[k] = '\0';
	if (q[i] != '"') {
		free(in);
		return fail(e, l->lineno, "unterminated payload string");
	}
	const char *after = q + i + 1;
	while (blank(*after))
		after++;
	if (*after) {
		free(in);
		return fail(e, l->lineno, "\"%s\" after the payload (it comes last)", word_at(after, w));
	}
	size_t cap = k ? k : 1;
	l->data = malloc(cap);
	const char *why = NULL;
	size_t len = cap;
	if (!l->data || hs_payload_unescape(in, l->data, &len, &why) < 0) {
		free(in);
		if (!l->data)
			return fail(e, l->lineno, "out of memory");
		return fail(e, l->lineno, "bad payload: %s", why ? why : "cannot be decoded");
	}
	free(in);
	if (len > 65495)
		return fail(e, l->lineno, "a payload of %zu bytes is more than 65495", len);
	l->data_len = (uint32_t)len;
	l->have_data = true;
	*q = '\0';
	return 0;
}

static int parse_segment(hs_scr_line *l, char *seg, perr *e)
{
	char text[HS_SCR_LINE_MAX + 8], msg[256];
	char *q = strchr(seg, '"');

	if (q && parse_payload(l, q, e) < 0)
		return -1;
	if (take_wildcards(seg, text, sizeof(text), &l->any, l->lineno, e) < 0)
		return -1;
	if (text[0] == '\0')
		return fail(e, l->lineno, "no segment after the direction (expected FLAGS [START:END(LEN)] ...)");
	hs_seg_spec_init(&l->spec);
	if (hs_notation_parse(text, &l->spec, msg, sizeof(msg)) < 0)
		return fail(e, l->lineno, "%s", msg); /* "bad segment \"...\": ..." */
	if (l->spec.seq.how != HS_NUM_UNSET && l->spec.seq.how != HS_NUM_REL && l->spec.seq.how != HS_NUM_ABS)
		return fail(e, l->lineno, "sequence numbers in a script are N or =N");
	if (l->spec.ack.how != HS_NUM_UNSET && l->spec.ack.how != HS_NUM_REL && l->spec.ack.how != HS_NUM_ABS)
		return fail(e, l->lineno, "ack in a script is N or =N, not +N or -N");
	if (l->any & HS_SCR_ANY_FLAGS)
		l->spec.have_flags = false;
	if (l->have_data) {
		if (l->spec.have_len && !(l->any & HS_SCR_ANY_SEQ) && l->spec.len != l->data_len)
			return fail(e, l->lineno, "LEN is %" PRIu32 " but the payload has %" PRIu32 " bytes", l->spec.len,
			            l->data_len);
		if (!(l->any & HS_SCR_ANY_SEQ)) {
			l->spec.have_len = true;
			l->spec.len = l->data_len;
		}
	}
	return 0;
}

static char *dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int parse_option_line(const char *p, hs_script *s, unsigned lineno, perr *e)
{
	char w[WORD_SHOW + 4];
	const char *v = NULL;

	if (strncmp(p, "--target=", 9) == 0) {
		/* The peer, when the command line does not name it: HOST:PORT, [V6]:PORT. */
		v = p + 9;
		size_t n = strlen(v);
		while (n && blank(v[n - 1]))
			n--;
		if (n == 0 || n >= sizeof(s->target) || memchr(v, ' ', n) || memchr(v, '\t', n))
			return fail(e, lineno, "bad target \"%s\" (HOST:PORT, one word, at most %zu bytes)", word_at(v, w),
			            sizeof(s->target) - 1);
		memcpy(s->target, v, n);
		s->target[n] = '\0';
		return 0;
	}
	if (strncmp(p, "--tolerance_usecs=", 18) == 0 || strncmp(p, "--tolerance-usecs=", 18) == 0)
		v = p + 18;
	if (!v)
		return fail(e, lineno, "unknown option \"%s\" (known: --tolerance_usecs=N, --target=HOST:PORT)",
		            word_at(p, w));
	size_t n = strlen(v);
	while (n && blank(v[n - 1]))
		n--;
	uint64_t us = 0;
	if (n == 0 || n > 10)
		return fail(e, lineno, "bad tolerance \"%s\" (microseconds, 0 .. 1000000000)", word_at(v, w));
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(e, lineno, "bad tolerance \"%s\" (microseconds, 0 .. 1000000000)", word_at(v, w));
		us = us * 10 + (uint64_t)(v[i] - '0');
	}
	if (us > 1000000000ull)
		return fail(e, lineno, "bad tolerance \"%s\" (microseconds, 0 .. 1000000000)", word_at(v, w));
	s->tolerance_ns = us * 1000;
	return 0;
}

/* One line (NUL-terminated, comments gone, not blank). */
static int parse_line(char *p, unsigned lineno, hs_script *s, uint64_t *last_abs, unsigned *last_abs_line, perr *e)
{
	char w[WORD_SHOW + 4];

	if (p[0] == '-' && p[1] == '-') {
		if (s->n)
			return fail(e, lineno, "option \"%s\" after the first event (options come first)", word_at(p, w));
		return parse_option_line(p, s, lineno, e);
	}
	hs_scr_line l;
	memset(&l, 0, sizeof(l));
	l.lineno = lineno;
	size_t n = 0;
	while (p[n] && !blank(p[n]) && p[n] != '<' && p[n] != '>' && p[n] != '`')
		n++;
	if (n == 0)
		return fail(e, lineno, "no time before \"%s\" (expected 0.1, +0.1, 0.1~0.3 or *)", word_at(p, w));
	if (parse_time(p, n, &l.time) < 0) {
		char t[WORD_SHOW + 4];
		memcpy(t, p, n < WORD_SHOW ? n : WORD_SHOW);
		t[n < WORD_SHOW ? n : WORD_SHOW] = '\0';
		return fail(e, lineno, "bad time \"%s\" (expected seconds as 0.1, +0.1, 0.1~0.3, +0~+0.2 or *, up to %d s)",
		            t, HS_SCR_TIME_MAX_S);
	}
	l.time.tol_ns = s->tolerance_ns;
	p += n;
	while (blank(*p))
		p++;
	if (*p == '<' || *p == '>') {
		l.kind = *p == '<' ? HS_SCR_SEND : HS_SCR_EXPECT;
		p++;
		while (blank(*p))
			p++;
		if (l.kind == HS_SCR_SEND && (l.time.kind == HS_SCR_T_ANY || l.time.kind == HS_SCR_T_RANGE))
			return fail(e, lineno, "a \"<\" line (hs sends) needs one time, not \"*\" or a range");
		char *whole = dup_n(p, strlen(p)); /* as written, payload included */
		if (!whole)
			return fail(e, lineno, "out of memory");
		if (parse_segment(&l, p, e) < 0) {
			free(whole);
			free(l.data);
			return -1;
		}
		if (l.kind == HS_SCR_SEND && l.any) {
			free(whole);
			free(l.data);
			return fail(e, lineno, "\"*\" and \"<...>\" say what the peer may send: a \"<\" line is what hs "
			            "sends (give the value, or leave the field out for hs's default)");
		}
		/* Shown in the mismatch block: blanks outside the payload made single spaces. */
		size_t k = 0;
		bool quoted = false;
		for (size_t i = 0; whole[i]; i++) {
			if (quoted && whole[i] == '\\' && whole[i + 1]) {
				whole[k++] = whole[i++];
				whole[k++] = whole[i];
				continue;
			}
			if (whole[i] == '"')
				quoted = !quoted;
			if (!quoted && blank(whole[i])) {
				if (k && whole[k - 1] != ' ')
					whole[k++] = ' ';
				continue;
			}
			whole[k++] = whole[i];
		}
		while (k && whole[k - 1] == ' ')
			k--;
		whole[k] = '\0';
		l.text = whole;
	} else if (*p == '`') {
		char *end = strchr(p + 1, '`');
		if (!end)
			return fail(e, lineno, "unterminated backquote");
		const char *q = end + 1;
		while (blank(*q))
			q++;
		if (*q)
			return fail(e, lineno, "\"%s\" after the command", word_at(q, w));
		l.kind = HS_SCR_SHELL;
		l.text = dup_n(p + 1, (size_t)(end - p - 1));
	} else if (*p == '\0') {
		return fail(e, lineno, "nothing after the time (expected < SEGMENT, > SEGMENT or `command`)");
	} else {
		return fail(e, lineno, "missing direction before \"%s\" (expected < or > and a segment, or `command`; "
		            "system calls are not supported)", word_at(p, w));
	}
	if (!l.text) {
		free(l.data);
		return fail(e, lineno, "out of memory");
	}
	if (l.time.kind == HS_SCR_T_ABS || (l.time.kind == HS_SCR_T_RANGE && !l.time.rel)) {
		if (*last_abs_line && l.time.t_ns < *last_abs) {
			free(l.text);
			free(l.data);
			return fail(e, lineno, "time %" PRIu64 ".%09" PRIu64 " goes backwards (line %u is at %" PRIu64
			            ".%09" PRIu64 ")", l.time.t_ns / NS_PER_S, l.time.t_ns % NS_PER_S, *last_abs_line,
			            *last_abs / NS_PER_S, *last_abs % NS_PER_S);
		}
		*last_abs = l.time.t_ns;
		*last_abs_line = lineno;
	}
	if (!s->role && (l.kind == HS_SCR_SEND || l.kind == HS_SCR_EXPECT) && l.spec.have_flags &&
	    (l.spec.flags & HS_SYN))
		s->role = l.kind == HS_SCR_SEND ? HS_SCR_ROLE_CLIENT : HS_SCR_ROLE_SERVER;
	s->line[s->n++] = l;
	return 0;
}

void hs_script_free(hs_script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->line[i].text);
		free(s->line[i].data);
	}
	free(s->line);
	memset(s, 0, sizeof(*s));
}

int hs_script_parse(const char *text, size_t len, const char *file, hs_script *out,
                    char *err, size_t errlen)
{
	perr e = { err, errlen, file ? file : "-" };
	hs_script s;
	unsigned nlines = 1;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	s.tolerance_ns = HS_SCR_TOLERANCE_NS;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\0')
			return fail(&e, nlines, "a NUL byte (a script is text)");
		if (text[i] == '\n' && i + 1 < len)
			nlines++;
	}
	if (nlines > HS_SCR_LINES_MAX)
		return fail(&e, HS_SCR_LINES_MAX + 1, "more than %d lines", HS_SCR_LINES_MAX);
	char *t = dup_n(text, len);
	s.line = calloc(nlines, sizeof(*s.line));
	if (!t || !s.line) {
		free(t);
		free(s.line);
		return fail(&e, 1, "out of memory");
	}
	if (strip_comments(t, len, &e) < 0)
		goto bad;
	uint64_t last_abs = 0;
	unsigned last_abs_line = 0, lineno = 0;
	for (char *p = t; p; ) {
		char *nl = strchr(p, '\n');
		lineno++;
		if (nl)
			*nl = '\0';
		if (strlen(p) > HS_SCR_LINE_MAX) {
			fail(&e, lineno, "line longer than %d bytes", HS_SCR_LINE_MAX);
			goto bad;
		}
		while (blank(*p))
			p++;
		size_t n = strlen(p);
		while (n && blank(p[n - 1]))
			p[--n] = '\0';
		if (n && parse_line(p, lineno, &s, &last_abs, &last_abs_line, &e) < 0)
			goto bad;
		p = nl ? nl + 1 : NULL;
	}
	if (!s.role) {
		fail(&e, 1, "no SYN segment: the first \"<\" SYN makes hs the client, the first \">\" SYN the server");
		goto bad;
	}
	free(t);
	*out = s;
	return 0;
bad:
	free(t);
	hs_script_free(&s);
	return -1;
}

/* ---- matching ---------------------------------------------------------------------- */

static bool say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* Where the options end, trailing EOL padding left out. */
static size_t opts_end(const uint8_t *o, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (o[i] == HS_OPTK_EOL)
			return i;
		if (o[i] == HS_OPTK_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return n;
		i += o[i + 1];
	}
	return i;
}

static void flags_text(uint8_t f, char *buf, size_t len)
{
	hs_segment s;
	char tmp[256];

	memset(&s, 0, sizeof(s));
	s.flags = f;
	hs_notation_format(&s, 0, 0, tmp, sizeof(tmp));
	/* The first word (the flags), cut to the caller's buffer. */
	size_t n = strcspn(tmp, " ");
	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
}

/* Bytes for a message: printable ASCII as is, the rest as C escapes, cut with "..." */
static const char *shown(const uint8_t *p, size_t n, char *buf, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < n && p; i++) {
		char one[8];
		int w = p[i] == '"' || p[i] == '\\' ? snprintf(one, sizeof(one), "\\%c", p[i])
		        : p[i] >= 0x20 && p[i] < 0x7f ? snprintf(one, sizeof(one), "%c", p[i])
		        : p[i] == '\n' ? snprintf(one, sizeof(one), "\\n") : snprintf(one, sizeof(one), "\\x%02x", p[i]);
		if (k + (size_t)w + 4 >= len) {
			memcpy(buf + k, "...", 3);
			k += 3;
			break;
		}
		memcpy(buf + k, one, (size_t)w);
		k += (size_t)w;
	}
	buf[k] = '\0';
	return buf;
}

static uint32_t num_want(const hs_num *n, uint32_t base)
{
	return n->how == HS_NUM_ABS ? n->v : base + n->v;
}

bool hs_script_match(const hs_scr_line *line, const hs_segment *seg, uint32_t peer_isn,
                     uint32_t our_isn, char *why, size_t whylen)
{
	const hs_seg_spec *sp = &line->spec;

	if (why && whylen)
		why[0] = '\0';
	if (sp->have_flags && !(line->any & HS_SCR_ANY_FLAGS) && sp->flags != seg->flags) {
		char a[16], b[16];
		flags_text(sp->flags, a, sizeof(a));
		flags_text(seg->flags, b, sizeof(b));
		return say(why, whylen, "flags %s expected, got %s", a, b);
	}
	if (!(line->any & HS_SCR_ANY_SEQ)) {
		if (sp->seq.how != HS_NUM_UNSET && seg->seq != num_want(&sp->seq, peer_isn))
			return say(why, whylen, "seq %" PRIu32 " expected, got %" PRIu32, sp->seq.v,
			           sp->seq.how == HS_NUM_ABS ? seg->seq : seg->seq - peer_isn);
		if (sp->have_len && hs_seg_len(seg) != sp->len)
			return say(why, whylen, "length %" PRIu32 " expected, got %zu", sp->len, hs_seg_len(seg));
	}
	if (!(line->any & HS_SCR_ANY_ACK) && sp->ack.how != HS_NUM_UNSET) {
		if (!(seg->flags & HS_ACK))
			return say(why, whylen, "ack %" PRIu32 " expected, got no ACK flag", sp->ack.v);
		if (seg->ack != num_want(&sp->ack, our_isn))
			return say(why, whylen, "ack %" PRIu32 " expected, got %" PRIu32, sp->ack.v,
			           sp->ack.how == HS_NUM_ABS ? seg->ack : seg->ack - our_isn);
	}
	if (line->have_data) {
		/* Compared as far as the capture kept it; the length was compared above. */
		size_t n = seg->len < line->data_len ? seg->len : line->data_len;
		if (hs_seg_len(seg) != line->data_len || (n && memcmp(seg->payload, line->data, n) != 0)) {
			char a[64], b[64];
			return say(why, whylen, "payload \"%s\" expected, got \"%s\"", shown(line->data, line->data_len, a, sizeof(a)),
			           shown(seg->payload, seg->len, b, sizeof(b)));
		}
	}
	if (!(line->any & HS_SCR_ANY_WIN) && sp->have_win && seg->win != sp->win)
		return say(why, whylen, "win %u expected, got %u", sp->win, seg->win);
	if (!(line->any & HS_SCR_ANY_URG) && sp->have_urg && seg->urp != sp->urg)
		return say(why, whylen, "urg %u expected, got %u", sp->urg, seg->urp);
	if (!(line->any & HS_SCR_ANY_OPTS) && sp->have_opts) {
		uint8_t want[HS_OPT_MAXLEN];
		const char *e = NULL;
		/* A bare "ts" takes the peer's own values: TS matched on presence. */
		int n = hs_opt_spec_encode(&sp->opts, seg->opts.ts_val, seg->opts.ts_ecr, want, &e);
		size_t wn = n < 0 ? 0 : opts_end(want, (size_t)n);
		size_t gn = opts_end(seg->opts.raw, seg->opts.raw_len);
		if (n < 0 || wn != gn || memcmp(want, seg->opts.raw, wn) != 0) {
			hs_tcp_opts wo;
			char a[200], b[200];
			memset(&wo, 0, sizeof(wo));
			if (n > 0)
				(void)hs_opts_decode(want, (size_t)n, &wo, &e);
			hs_opts_format(&wo, a, sizeof(a));
			hs_opts_format(&seg->opts, b, sizeof(b));
			return say(why, whylen, "options <%s> expected, got <%s>", a, b);
		}
	}
	return true;
}

const char *hs_script_mismatch_format(const char *file, const hs_scr_line *line,
                                      const hs_segment *seg, uint32_t peer_isn,
                                      uint32_t our_isn, const char *why, char *buf, size_t len)
{
	char actual[512];

	if (!len)
		return buf;
	hs_notation_format(seg, peer_isn, our_isn, actual, sizeof(actual));
	snprintf(buf, len,
	         "%s:%u: the peer's segment does not match\n"
	         "  expected: %s\n"
	         "  actual:   %s\n"
	         "  why:      %s\n",
	         file ? file : "-", line->lineno, line->text ? line->text : "", actual, why ? why : "");
	return buf;
}
