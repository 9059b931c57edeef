/* The ladder view (--ladder): the two ends as columns headed by their names and
 * addresses, one arrow per segment in its direction, labelled with its flags and
 * relative numbers, each side's state written beside the step that changed it, the
 * time at the left margin (the other capture's at the right, with two captures):
 *
 *             us 198.18.0.1:40000                           peer 198.18.0.2:80
 *    0.000010 SYN-SENT     │─────────── SYN seq=0 ───────────►│ LISTEN
 *    0.000061 ESTABLISHED  │◄────── SYN,ACK seq=0 ack=1 ──────│ SYN-RECEIVED
 *
 * A row is composed as cells (one glyph and one color each) of exactly the width, so
 * no line can be wider: what does not fit in an arrow (the payload excerpt, a note,
 * even the numbers) goes to rows of its own below it, wrapped, not cut. A segment is
 * held until the next event: the state changes it caused come after it, and the next
 * segment may turn out to have crossed it in flight (the FINs of a simultaneous
 * close), when both are drawn as an X over three rows. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/addr.h"
#include "hs/output.h"
#include "hs/render.h"
#include "hs/sbuf.h"
#include "hs/seq.h"
#include "hs/state.h"
#include "line.h"

#define MAXW 1024      /* widest row drawn */
#define MINW 30        /* narrowest: below it the columns cannot be told apart */
#define TIME_W 10      /* "12.003456 " */
#define STATE_W 12     /* "SYN-RECEIVED" */
#define STATE_W_SHORT 10 /* ss(8)'s names: "ESTAB", "SYN-RECV" */
#define EXCERPT 32     /* payload bytes kept for a label */
#define EXCERPT_W 20   /* columns a payload excerpt takes at most (quotes included) */
#define EXCERPT_MIN 6  /* an excerpt narrower than this says nothing: "\"ab\"…" */
#define TEXT_W 160     /* a label's or a note's text */

/* ---- rows of cells ------------------------------------------------------------------- */

enum paint { P_NONE = 0, P_OUT, P_IN, P_RST, P_NOTE, P_DIM, P_STATE, P_OK, P_COUNT };
static const char *const paint_code[P_COUNT] = {
	[P_NONE] = "", [P_OUT] = C_GREEN, [P_IN] = C_CYAN, [P_RST] = C_RED, [P_NOTE] = C_YELLOW,
	[P_DIM] = C_DIM, [P_STATE] = C_BOLD, [P_OK] = C_BOLD C_GREEN,
};

typedef struct cell {
	char g[5];      /* one UTF-8 character, NUL-terminated */
	uint8_t paint;
} cell;

typedef struct row {
	int w;
	cell c[MAXW];
} row;

static void row_clear(row *r, int w)
{
	r->w = w;
	for (int i = 0; i < w; i++) {
		r->c[i].g[0] = ' ';
		r->c[i].g[1] = '\0';
		r->c[i].paint = P_NONE;
	}
}

static void row_glyph(row *r, int col, const char *g, enum paint p)
{
	if (col < 0 || col >= r->w)
		return;
	size_t n = strlen(g);
	if (n > 4)
		n = 4;
	memcpy(r->c[col].g, g, n);
	r->c[col].g[n] = '\0';
	r->c[col].paint = (uint8_t)p;
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t char_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;

	for (size_t i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

/* Text into cells from col, at most to column end (exclusive); control bytes and
 * stray bytes become '?' so that nothing can drive the terminal. Returns the column
 * after the text. */
static int row_text(row *r, int col, int end, const char *s, enum paint p)
{
	if (end > r->w)
		end = r->w;
	while (*s && col < end) {
		size_t n = char_len(s);
		char g[5] = "?";
		unsigned char c = (unsigned char)*s;
		if (n > 1 || (c >= 0x20 && c != 0x7f && c < 0x80)) {
			memcpy(g, s, n);
			g[n] = '\0';
		}
		row_glyph(r, col++, g, p);
		s += n;
	}
	return col;
}

/* One fwrite of the row, trailing blanks dropped, colors only where they change. */
static void row_write(hs_output *o, const row *r)
{
	int last = r->w;
	enum paint cur = P_NONE;
	line l;

	while (last > 0 && strcmp(r->c[last - 1].g, " ") == 0)
		last--;
	line_init(&l, o->color);
	for (int i = 0; i < last; i++) {
		enum paint p = strcmp(r->c[i].g, " ") == 0 ? cur : (enum paint)r->c[i].paint;
		if (p != cur) {
			if (cur != P_NONE)
				line_color(&l, C_RESET);
			line_color(&l, paint_code[p]);
			cur = p;
		}
		line_puts(&l, r->c[i].g);
	}
	if (cur != P_NONE)
		line_color(&l, C_RESET);
	line_write(&l, o->fp);
}

/* Display columns of a string (every UTF-8 character one column). */
static int text_w(const char *s)
{
	return display_width(s, strlen(s));
}

/* s cut to cols columns, the cut marked with an ellipsis. */
static void clip(const hs_output *o, const char *s, int cols, char *out, size_t outlen)
{
	const char *ell = ellipsis(o);
	int ew = text_w(ell);
	size_t n = 0;

	if (text_w(s) <= cols) {
		snprintf(out, outlen, "%s", s);
		return;
	}
	for (int w = 0; s[n] && w < cols - ew; w++)
		n += char_len(s + n);
	snprintf(out, outlen, "%.*s%s", (int)n, s, cols >= ew ? ell : "");
}

/* ---- a segment, kept until the next event ------------------------------------------- */

typedef struct seg_rec {
	enum hs_dir dir;
	uint64_t t, t_other;
	bool has_t_other, lost;
	bool cross_mark;          /* it crossed one drawn rows before: a ╳ at its tail */
	uint8_t flags;
	uint32_t seq, end, ack;   /* end: SEG.SEQ + SEG.LEN (SYN and FIN count) */
	hs_state st[2];           /* each side's state after it (by_segment changes applied) */
	char core[TEXT_W];        /* "SYN,ACK seq=0 ack=1" */
	char note[TEXT_W];        /* "[retransmission, lost]" or "" */
	uint8_t data[EXCERPT];    /* the payload's first bytes, */
	size_t data_len;          /* and its whole length */
} seg_rec;

typedef struct ladder {
	int w;                    /* the width */
	int tm, sw, rm;           /* time margin, state column, right time margin */
	bool other_in_label;      /* no room for the right margin: "[B 1.000142]" */
	int ll, rl;               /* the lifelines' columns */
	bool laid_out;            /* header written for the current connection */
	bool has_ends;
	hs_endpoint ends[2];      /* left (OUT's sender), right */
	bool shown[2];            /* a state was written at the side, */
	hs_state shown_st[2];     /* and which */
	int npend;                /* held: one segment, or two in time order, */
	seg_rec pend[2];
	bool cross;               /* which crossed in flight, */
	int last;                 /* and the one that came last (its changes follow it) */
	seg_rec unacked[2];       /* each way, the last segment that took sequence space */
	bool has_unacked[2];      /* and that nothing has acknowledged yet */
	bool after_end;           /* the last event was HS_EV_END (its summary said) */
	row r;
	cell flat[MAXW * 4];      /* text_rows' text before it is broken into rows */
} ladder;

static const char *glyph(const hs_output *o, char ascii, const char *utf8)
{
	static const char *const ascii_s[128] = {
		['-'] = "-", ['>'] = ">", ['<'] = "<", ['|'] = "|", ['X'] = "X", ['x'] = "x",
		['\\'] = "\\", ['/'] = "/",
	};
	return o->ascii ? ascii_s[(unsigned char)ascii] : utf8;
}
#define G_SHAFT(o) glyph(o, '-', "\u2500")
#define G_RIGHT(o) glyph(o, '>', "\u25ba")
#define G_LEFT(o) glyph(o, '<', "\u25c4")
#define G_LIFE(o) glyph(o, '|', "\u2502")
#define G_CROSS(o) glyph(o, 'X', "\u2573")
#define G_LOST(o) glyph(o, 'x', "\u00d7")
#define G_DOWNR(o) glyph(o, '\\', "\u2572")
#define G_DOWNL(o) glyph(o, '/', "\u2571")

/* ---- layout --------------------------------------------------------------------------- */

static int arrow_cols(const ladder *L)
{
	return L->w - L->tm - L->rm - 2 * (L->sw + 2);
}

/* Where things go: [time][state ][|][arrows][|][ state][other time]. As the width
 * shrinks: ss(8)'s shorter state names, then the other capture's time moves into the
 * labels, and only then are the state names cut. */
static void lay_out(ladder *L, bool two_times)
{
	L->tm = TIME_W;
	L->rm = two_times ? TIME_W : 0;
	L->other_in_label = false;
	L->sw = STATE_W;
	if (arrow_cols(L) < 40)
		L->sw = STATE_W_SHORT;
	if (L->rm && arrow_cols(L) < 16) {
		L->rm = 0;
		L->other_in_label = true;
	}
	if (arrow_cols(L) < 12) {
		L->sw = (L->w - L->tm - L->rm - 12) / 2 - 2;
		if (L->sw < 3)
			L->sw = 3;
	}
	L->ll = L->tm + L->sw + 1;
	L->rl = L->w - L->rm - L->sw - 2;
	if (L->rl < L->ll + 8) /* the narrowest: the time margin gives way */
		L->rl = L->ll + 8;
}

static const char *state_text(const ladder *L, hs_state s)
{
	static const char *const short_names[HS_STATE_COUNT] = {
		[HS_SYN_RECEIVED] = "SYN-RECV", [HS_ESTABLISHED] = "ESTAB",
	};
	if (L->sw < STATE_W && s < HS_STATE_COUNT && short_names[s])
		return short_names[s];
	return hs_state_name(s);
}

static void put_time_at(const hs_output *o, row *r, int col, int w, uint64_t t_ns)
{
	char t[32];
	size_t n;

	(void)o;
	format_time(t_ns, t, sizeof(t));
	/* Past 999 s the microseconds give way, never the seconds. */
	while ((n = strlen(t)) > (size_t)(w - 1) && strchr(t, '.'))
		t[n - 1 - (t[n - 2] == '.')] = '\0';
	n = strlen(t);
	row_text(r, col + w - 1 - (int)n > col ? col + w - 1 - (int)n : col, col + w, t, P_DIM);
}

/* A row with the lifelines, and the time and each side's state when given (a state
 * is written only where it differs from the last one written at that side). */
static void frame(ladder *L, const hs_output *o, const uint64_t *t, const hs_state *st, int sides, const uint64_t *t_other)
{
	row *r = &L->r;

	row_clear(r, L->w);
	if (t)
		put_time_at(o, r, 0, L->tm, *t);
	row_glyph(r, L->ll, G_LIFE(o), P_NONE);
	row_glyph(r, L->rl, G_LIFE(o), P_NONE);
	for (int side = 0; st && side < 2; side++) {
		if (!(sides & 1 << side) || (L->shown[side] && L->shown_st[side] == st[side]))
			continue;
		L->shown[side] = true;
		L->shown_st[side] = st[side];
		if (side == 0)
			row_text(r, L->tm, L->ll, state_text(L, st[0]), P_STATE);
		else
			row_text(r, L->rl + 2, L->w - L->rm, state_text(L, st[1]), P_STATE);
	}
	if (t_other && L->rm)
		put_time_at(o, r, L->w - L->rm + 1, L->rm - 1, *t_other);
}

/* The header: "us 198.18.0.1:40000" over the left column, "peer 198.18.0.2:80" over
 * the right one; on two rows when they do not fit on one. */
static void header(ladder *L, hs_output *o)
{
	char a[HS_ENDPOINT_STRLEN], h[2][HS_ENDPOINT_STRLEN + 40], c[2][HS_ENDPOINT_STRLEN + 40];
	int avail = L->w - L->rm - L->tm;
	row *r = &L->r;

	for (int side = 0; side < 2; side++) {
		snprintf(h[side], sizeof(h[side]), "%s%s%s", side_name(o, side), L->has_ends ? " " : "",
		         L->has_ends ? hs_endpoint_format(&L->ends[side], a, sizeof(a)) : "");
		clip(o, h[side], avail, c[side], sizeof(c[side]));
	}
	int w0 = text_w(c[0]), w1 = text_w(c[1]);
	row_clear(r, L->w);
	row_text(r, L->tm, L->w, c[0], P_STATE);
	if (w0 + 2 + w1 > avail) {
		row_write(o, r);
		row_clear(r, L->w);
	}
	row_text(r, L->w - L->rm - w1, L->w, c[1], P_STATE);
	row_write(o, r);
	L->laid_out = true;
	L->shown[0] = L->shown[1] = false;
}

static void ensure_layout(ladder *L, hs_output *o, bool two_times)
{
	if (L->laid_out)
		return;
	lay_out(L, two_times);
	header(L, o);
}

/* ---- labels -------------------------------------------------------------------------- */

/* The payload as a quoted excerpt of at most cols columns ("hello" or "hel"…), "" when
 * not even a few bytes fit. */
static void excerpt(const hs_output *o, const seg_rec *s, int cols, char *out, size_t outlen)
{
	size_t kept = s->data_len < EXCERPT ? s->data_len : EXCERPT, used = 0;
	char esc[EXCERPT * 4 + 1];
	int ew = text_w(ellipsis(o));

	out[0] = '\0';
	if (s->data_len == 0 || cols < EXCERPT_MIN)
		return;
	/* Whole: 2 quotes; cut: the ellipsis too. */
	size_t room = (size_t)(cols - 2);
	escape_into(s->data, kept, esc, room + 1 < sizeof(esc) ? room + 1 : sizeof(esc), false, &used);
	if (used < s->data_len) {
		room = (size_t)(cols - 2 - ew);
		escape_into(s->data, kept, esc, room + 1 < sizeof(esc) ? room + 1 : sizeof(esc), false, &used);
		snprintf(out, outlen, "\"%s\"%s", esc, ellipsis(o));
	} else {
		snprintf(out, outlen, "\"%s\"", esc);
	}
}

/* Up to n bytes of s that take at most cols columns (whole characters). */
static size_t cols_prefix(const char *s, size_t n, int cols)
{
	size_t k = 0;

	for (int w = 0; k < n && s[k] && w < cols; w++)
		k += char_len(s + k);
	return k;
}

/* The label of an arrow whose text may take avail columns, and what goes on the rows
 * below it (rest, wrapped there by wrap_rows): the words of "FLAGS numbers", then
 * the payload excerpt, then the note, in this order, as many as fit in the arrow.
 * The excerpt shrinks to what is left of the arrow rather than go below, down to a
 * few bytes; when it goes below it takes at most rest_w columns. Nothing is cut. */
static void fit_label(const hs_output *o, const seg_rec *s, int avail, int rest_w, char *lab, char *rest)
{
	char ex[TEXT_W];
	hs_sbuf lb = { lab, TEXT_W, 0, false }, rb = { rest, 3 * TEXT_W, 0, false };
	bool below = false;
	int w = 0;

	lab[0] = rest[0] = '\0';
	/* The flags and numbers, word by word. */
	for (const char *p = s->core; *p;) {
		size_t n = strcspn(p, " ");
		int ww = display_width(p, n);
		if (!below && w + (w ? 1 : 0) + ww <= avail) {
			hs_sb_printf(&lb, "%s%.*s", w ? " " : "", (int)n, p);
			w += (w ? 1 : 0) + ww;
		} else if (!below && w == 0) { /* one word wider than the arrow: split it */
			size_t k = cols_prefix(p, n, avail);
			hs_sb_printf(&lb, "%.*s", (int)k, p);
			w = avail;
			hs_sb_printf(&rb, "%.*s", (int)(n - k), p + k);
			below = true;
		} else {
			hs_sb_printf(&rb, "%s%.*s", rb.pos ? " " : "", (int)n, p);
			below = true;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	/* The payload: in the arrow, shrunk if need be, or below. */
	if (s->data_len > 0) {
		int room = avail - w - 1;
		excerpt(o, s, !below && room >= EXCERPT_MIN + 4 ? (room < EXCERPT_W ? room : EXCERPT_W) : 0, ex, sizeof(ex));
		if (ex[0]) {
			hs_sb_printf(&lb, " %s", ex);
			w += 1 + text_w(ex);
		} else {
			excerpt(o, s, rest_w < TEXT_W / 2 ? rest_w : TEXT_W / 2, ex, sizeof(ex)); /* a row of its own */
			if (ex[0])
				hs_sb_printf(&rb, "%s%s", rb.pos ? " " : "", ex);
			below = true;
		}
	}
	if (s->note[0]) {
		if (!below && w + 1 + text_w(s->note) <= avail)
			hs_sb_printf(&lb, " %s", s->note);
		else
			hs_sb_printf(&rb, "%s%s", rb.pos ? " " : "", s->note);
	}
}

/* The whole label (flags, numbers, payload, note) as one text. */
static void full_label(const hs_output *o, const seg_rec *s, int excerpt_w, char *out, size_t outlen)
{
	char ex[TEXT_W];
	hs_sbuf b = { out, outlen, 0, false };

	excerpt(o, s, excerpt_w < EXCERPT_W ? excerpt_w : EXCERPT_W, ex, sizeof(ex));
	hs_sb_printf(&b, "%s%s%s%s%s", s->core, ex[0] ? " " : "", ex, s->note[0] ? " " : "", s->note);
}

/* text broken into lines of at most width columns, at blanks (a word wider than a line
 * is split, never cut). Returns the number of lines (at most max). */
static int wrap(const char *text, int width, char (*lines)[TEXT_W], int max)
{
	int n = 0;

	if (width < 1)
		width = 1;
	while (*text && n < max) {
		while (*text == ' ')
			text++;
		if (!*text)
			break;
		size_t k = cols_prefix(text, strlen(text), width), cut = k;
		if (text[k] && text[k] != ' ') { /* back to the last blank, if any */
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = k;
		}
		if (cut >= TEXT_W)
			cut = TEXT_W - 1;
		memcpy(lines[n], text, cut);
		lines[n][cut] = '\0';
		while (cut > 0 && lines[n][cut - 1] == ' ')
			lines[n][--cut] = '\0';
		n++;
		text += strlen(lines[n - 1]);
	}
	return n;
}

/* ---- drawing segments ----------------------------------------------------------------- */

static enum paint seg_paint(const seg_rec *s)
{
	return (s->flags & HS_RST) ? P_RST : s->dir == HS_DIR_OUT ? P_OUT : P_IN;
}

/* Text centered between lo and hi (exclusive), with a blank on each side so that it
 * stands out of the shaft. */
static void centered(row *r, int lo, int hi, const char *text, enum paint p)
{
	int w = text_w(text);

	if (!text[0])
		return;
	int at = lo + (hi - lo - w) / 2;
	if (at < lo)
		at = lo;
	row_glyph(r, at - 1, " ", P_NONE);
	int end = row_text(r, at, hi, text, p);
	if (end < hi)
		row_glyph(r, end, " ", P_NONE);
}

enum align { A_LEFT, A_CENTER, A_RIGHT };

/* Rows between the lifelines with text wrapped to fit: what did not fit in an arrow,
 * the labels of a crossing. */
static void wrap_rows(ladder *L, hs_output *o, const char *text, enum align al, enum paint p)
{
	char lines[8][TEXT_W];
	int lo = L->ll + 2, hi = L->rl - 1;
	int n = wrap(text, hi - lo, lines, 8);

	for (int i = 0; i < n; i++) {
		int w = text_w(lines[i]);
		frame(L, o, NULL, NULL, 0, NULL);
		if (al == A_CENTER)
			centered(&L->r, lo, hi, lines[i], p);
		else
			row_text(&L->r, al == A_LEFT ? lo : hi - w, hi, lines[i], p);
		row_write(o, &L->r);
	}
}

/* One arrow: ─── label ──►, or ◄── label ───; a lost one stops short, at a ×. */
static void draw_arrow(ladder *L, hs_output *o, const seg_rec *s)
{
	char lab[TEXT_W], rest[3 * TEXT_W];
	enum paint p = seg_paint(s);
	row *r = &L->r;
	int from = s->dir == HS_DIR_OUT ? L->ll + 1 : L->rl - 1;
	int to = s->dir == HS_DIR_OUT ? L->rl - 1 : L->ll + 1;
	int step = s->dir == HS_DIR_OUT ? 1 : -1;

	if (s->lost)
		to -= 3 * step;
	frame(L, o, &s->t, s->st, 3, s->has_t_other ? &s->t_other : NULL);
	for (int c = from; c != to; c += step)
		row_glyph(r, c, G_SHAFT(o), p);
	if (s->lost)
		row_glyph(r, to, G_LOST(o), P_RST);
	else
		row_glyph(r, to, s->dir == HS_DIR_OUT ? G_RIGHT(o) : G_LEFT(o), p);
	if (s->cross_mark)
		row_glyph(r, from, G_CROSS(o), p);
	int lo = (s->dir == HS_DIR_OUT ? from : to + 1) + 2, hi = (s->dir == HS_DIR_OUT ? to : from + 1) - 2;
	fit_label(o, s, hi - lo, L->rl - L->ll - 3, lab, rest);
	centered(r, lo, hi, lab, p);
	row_write(o, r);
	wrap_rows(L, o, rest, A_CENTER, P_NOTE);
}

/* Two segments that crossed in flight, as an X:
 *
 *   │ FIN,ACK seq=6 ack=1    FIN,ACK seq=1 ack=6 │
 *   │───────────────────╲ ╱──────────────────────│
 *   │                    ╳                       │
 *   │◄──────────────────╱ ╲─────────────────────►│
 *
 * the labels over the halves they leave from (on rows of their own when both do not
 * fit on one), the first row at the first one's time, the last at the second's. */
static void draw_crossing(ladder *L, hs_output *o, const seg_rec *first, const seg_rec *second)
{
	const seg_rec *out = first->dir == HS_DIR_OUT ? first : second, *in = out == first ? second : first;
	char lab[2][3 * TEXT_W];
	int a = L->rl - L->ll - 1, m = L->ll + 1 + a / 2;
	row *r = &L->r;

	full_label(o, out, a - 2, lab[0], sizeof(lab[0]));
	full_label(o, in, a - 2, lab[1], sizeof(lab[1]));
	if (text_w(lab[0]) + text_w(lab[1]) + 2 <= a - 2) {
		frame(L, o, NULL, NULL, 0, NULL);
		row_text(r, L->ll + 2, L->rl - 1, lab[0], seg_paint(out));
		row_text(r, L->rl - 1 - text_w(lab[1]), L->rl - 1, lab[1], seg_paint(in));
		row_write(o, r);
	} else {
		wrap_rows(L, o, lab[0], A_LEFT, seg_paint(out));
		wrap_rows(L, o, lab[1], A_RIGHT, seg_paint(in));
	}

	/* Departures. */
	frame(L, o, &first->t, first->st, 3, first->has_t_other ? &first->t_other : NULL);
	for (int c = L->ll + 1; c < m - 1; c++)
		row_glyph(r, c, G_SHAFT(o), seg_paint(out));
	row_glyph(r, m - 1, G_DOWNR(o), seg_paint(out));
	row_glyph(r, m + 1, G_DOWNL(o), seg_paint(in));
	for (int c = m + 2; c < L->rl; c++)
		row_glyph(r, c, G_SHAFT(o), seg_paint(in));
	row_write(o, r);

	frame(L, o, NULL, NULL, 0, NULL);
	row_glyph(r, m, G_CROSS(o), P_NONE);
	row_write(o, r);

	/* Arrivals. */
	frame(L, o, &second->t, second->st, 3, second->has_t_other ? &second->t_other : NULL);
	row_glyph(r, L->ll + 1, G_LEFT(o), seg_paint(in));
	for (int c = L->ll + 2; c < m - 1; c++)
		row_glyph(r, c, G_SHAFT(o), seg_paint(in));
	row_glyph(r, m - 1, G_DOWNL(o), seg_paint(in));
	row_glyph(r, m + 1, G_DOWNR(o), seg_paint(out));
	for (int c = m + 2; c < L->rl - 1; c++)
		row_glyph(r, c, G_SHAFT(o), seg_paint(out));
	row_glyph(r, L->rl - 1, G_RIGHT(o), seg_paint(out));
	row_write(o, r);
}

static void flush(ladder *L, hs_output *o)
{
	if (L->npend == 2 && L->cross) {
		draw_crossing(L, o, &L->pend[0], &L->pend[1]);
	} else {
		for (int i = 0; i < L->npend; i++)
			draw_arrow(L, o, &L->pend[i]);
	}
	L->npend = 0;
}

/* ---- events ----------------------------------------------------------------------------- */

/* s crossed p in flight: both took sequence space (SYN, FIN, data: a bare ACK that
 * acknowledges less than was sent is only an older ACK), they go opposite ways, and s
 * does not acknowledge p. */
static bool crossed(const seg_rec *p, const seg_rec *s)
{
	if (p->dir == s->dir || p->lost || s->lost || p->seq == p->end || s->seq == s->end)
		return false;
	return !(s->flags & HS_ACK) || hs_seq_lt(s->ack, p->end);
}

/* One more word in a segment's "[...]" note. */
static void add_note(seg_rec *s, const char *word)
{
	size_t n = strlen(s->note);
	hs_sbuf b = { s->note, sizeof(s->note), n, false };

	if (n > 0) { /* "[a]" -> "[a, word]" */
		b.pos = n - 1;
		s->note[b.pos] = '\0';
		hs_sb_printf(&b, ", %s]", word);
	} else {
		hs_sb_printf(&b, "[%s]", word);
	}
}

static void make_rec(const ladder *L, const hs_output *o, const hs_event *ev, seg_rec *r)
{
	const hs_segment *s = ev->seg;
	char flags[64], nbuf[TEXT_W - 2] = "";
	hs_sbuf core = { r->core, sizeof(r->core), 0, false }, notes = { nbuf, sizeof(nbuf), 0, false };

	memset(r, 0, sizeof(*r));
	r->dir = ev->dir;
	r->t = ev->t_ns;
	r->has_t_other = ev->has_t_other;
	r->t_other = ev->t_other_ns;
	r->lost = ev->lost;
	r->flags = s->flags;
	r->seq = s->seq;
	r->ack = s->ack;
	r->end = s->seq + (uint32_t)hs_seg_len(s) + !!(s->flags & HS_SYN) + !!(s->flags & HS_FIN);
	r->st[0] = ev->state;
	r->st[1] = ev->peer_state;
	r->data_len = s->payload ? s->len : 0;
	if (r->data_len)
		memcpy(r->data, s->payload, r->data_len < EXCERPT ? r->data_len : EXCERPT);

	/* "SYN seq=0", "SYN,ACK seq=0 ack=1", "PSH,ACK 1:6(5) ack=1" */
	hs_sb_printf(&core, "%s", s->flags ? hs_flags_format(s->flags, flags, sizeof(flags)) : "none");
	if (hs_seg_len(s) > 0)
		hs_sb_printf(&core, " %u:%u(%zu)", ev->rseq, (unsigned)(ev->rseq + (uint32_t)hs_seg_len(s)), hs_seg_len(s));
	else
		hs_sb_printf(&core, " seq=%u", ev->rseq);
	if (s->flags & HS_ACK)
		hs_sb_printf(&core, " ack=%u", ev->rack);
	if (o->verbose >= 1)
		hs_sb_printf(&core, " win=%u", s->win);
	/* Options: those the handshake's usual four do not say (SACK blocks, D-SACK, TFO,
	 * MD5, MPTCP, TCP-AO, unknown kinds); all of them with -v. */
	if (s->opts.has || s->opts.raw_len) {
		char ot[TEXT_W];
		hs_opts_view ov = { .has_ack = (s->flags & HS_ACK) != 0, .ack = s->ack,
		                    .rel = (s->flags & HS_ACK) != 0, .base = s->ack - ev->rack,
		                    .notable = o->verbose < 1 };
		hs_opts_format_view(&s->opts, &ov, ot, sizeof(ot));
		if (ot[0])
			hs_sb_printf(&core, " <%s>", ot);
	}

	/* "[retransmission, lost]" */
	const char *note = note_of(ev);
	if (note)
		hs_sb_printf(&notes, "%s", note);
	if (ev->spoofed)
		hs_sb_printf(&notes, "%shs as %s", notes.pos ? ", " : "", side_name(o, ev->dir == HS_DIR_OUT ? 0 : 1));
	if (ev->lost)
		hs_sb_printf(&notes, "%slost", notes.pos ? ", " : "");
	if (ev->script_line)
		hs_sb_printf(&notes, "%sline %u", notes.pos ? ", " : "", ev->script_line);
	if (s->csum_status == HS_CSUM_BAD)
		hs_sb_printf(&notes, "%sbad checksum", notes.pos ? ", " : "");
	if (ev->has_t_other && L->other_in_label) { /* the receiving end's time */
		char tb[32];
		format_time(ev->t_other_ns, tb, sizeof(tb));
		hs_sb_printf(&notes, "%s%s %s", notes.pos ? ", " : "", side_name(o, ev->dir == HS_DIR_OUT ? 1 : 0), tb);
	}
	if (notes.pos)
		snprintf(r->note, sizeof(r->note), "[%s]", nbuf);
}

static void on_segment(ladder *L, hs_output *o, const hs_event *ev)
{
	seg_rec s;

	if (!L->laid_out) {
		if (!L->has_ends) { /* no HS_EV_OPEN: the ends from the first segment */
			L->ends[0] = ev->dir == HS_DIR_OUT ? ev->seg->src : ev->seg->dst;
			L->ends[1] = ev->dir == HS_DIR_OUT ? ev->seg->dst : ev->seg->src;
			L->has_ends = true;
		}
		ensure_layout(L, o, ev->has_t_other);
	}
	make_rec(L, o, ev, &s);
	/* A segment hs sent is shown once its copy is captured, and may come after one
	 * that arrived later than it left: drawn in time order, and it crossed that one
	 * only if that one does not acknowledge it. */
	if (L->npend == 1 && s.t < L->pend[0].t) {
		seg_rec later = L->pend[0];
		L->cross = crossed(&s, &later);
		bool acked = (later.flags & HS_ACK) && later.dir != s.dir && hs_seq_geq(later.ack, s.end);
		if (s.seq != s.end && !L->cross && !acked) {
			L->unacked[s.dir] = s;
			L->has_unacked[s.dir] = true;
		}
		L->pend[0] = s;
		L->pend[1] = later;
		L->npend = 2;
		L->last = 0;
		return;
	}
	/* What it acknowledges, and what it crossed: the last segment the other way that
	 * took sequence space and that nothing had acknowledged. */
	int other = 1 - (int)s.dir;
	const seg_rec *p = L->has_unacked[other] ? &L->unacked[other] : NULL;
	bool cross = p && crossed(p, &s);
	if (p && (cross || ((s.flags & HS_ACK) && hs_seq_geq(s.ack, p->end))))
		L->has_unacked[other] = false;
	if (cross && L->npend == 1 && L->pend[0].dir == p->dir && L->pend[0].seq == p->seq && L->pend[0].t == p->t) {
		L->pend[1] = s; /* the one just before it: both drawn as an X */
		L->npend = 2;
		L->cross = true;
		L->last = 1;
	} else {
		if (cross) { /* drawn already, rows ago: this one is marked */
			char what[TEXT_W + 8];
			snprintf(what, sizeof(what), "crossed %s", p->core);
			add_note(&s, what);
			s.cross_mark = true;
		}
		flush(L, o);
		L->pend[0] = s;
		L->npend = 1;
		L->cross = false;
		L->last = 0;
	}
	if (s.seq != s.end) {
		L->unacked[s.dir] = s;
		L->has_unacked[s.dir] = true;
	}
}

/* A change the held segment caused is written beside it; a timer's (2MSL) on a row of
 * its own, its reason in the middle; a call's is carried by the segment that follows. */
static void on_state(ladder *L, hs_output *o, const hs_event *ev)
{
	int side = ev->change.peer ? 1 : 0;

	if (ev->by_segment && L->npend > 0) {
		L->pend[L->last].st[side] = ev->change.to;
		return;
	}
	if (ev->by_call)
		return;
	flush(L, o);
	ensure_layout(L, o, false);
	hs_state st[2] = { ev->change.to, ev->change.to };
	frame(L, o, &ev->t_ns, st, 1 << side, NULL);
	if (ev->change.why && ev->change.why[0]) {
		char why[TEXT_W], cut[TEXT_W];
		snprintf(why, sizeof(why), "(%s)", ev->change.why);
		clip(o, why, L->rl - L->ll - 3, cut, sizeof(cut));
		centered(&L->r, L->ll + 2, L->rl - 1, cut, P_DIM);
	}
	row_write(o, &L->r);
}

/* Plain text across the width (info, ICMP, the end, the result): the time at the
 * margin, the text wrapped at blanks onto the rows below it, nothing cut. */
typedef struct piece {
	const char *text;
	enum paint paint;
} piece;

static void text_rows(ladder *L, hs_output *o, const uint64_t *t, const piece *pc, int npc)
{
	cell *flat = L->flat;
	int n = 0, cap = (int)(sizeof(L->flat) / sizeof(L->flat[0])), avail = L->w - L->tm;
	row *r = &L->r;

	for (int i = 0; i < npc; i++) /* all of it as cells first, then broken into rows */
		for (const char *s = pc[i].text; s && *s && n < cap; n++) {
			row one = { .w = 1 };
			row_text(&one, 0, 1, s, pc[i].paint);
			flat[n] = one.c[0];
			s += char_len(s);
		}
	for (int at = 0, first = 1; at < n; first = 0) {
		int len = n - at;
		if (len > avail) { /* break at the last blank that leaves the row half full */
			len = avail;
			for (int k = avail; k > avail / 2; k--)
				if (strcmp(flat[at + k].g, " ") == 0) {
					len = k;
					break;
				}
		}
		row_clear(r, L->w);
		if (first && t)
			put_time_at(o, r, 0, L->tm, *t);
		for (int k = 0; k < len; k++)
			r->c[L->tm + k] = flat[at + k];
		row_write(o, r);
		at += len;
		while (at < n && strcmp(flat[at].g, " ") == 0)
			at++;
	}
}

static void on_info(ladder *L, hs_output *o, const hs_event *ev)
{
	piece pc[] = { { "# ", P_DIM }, { ev->text ? ev->text : "", P_DIM } };
	text_rows(L, o, &ev->t_ns, pc, 2);
}

static void on_icmp(ladder *L, hs_output *o, const hs_event *ev)
{
	const hs_icmp_error *ic = ev->icmp;
	char a[HS_ENDPOINT_STRLEN], b[HS_ENDPOINT_STRLEN], rest[4 * HS_ENDPOINT_STRLEN + 80];
	int k;

	k = snprintf(rest, sizeof(rest), " from %s (type %u code %u)", hs_addr_format(&ic->reporter.addr, a, sizeof(a)),
	             ic->type, ic->code);
	if (ic->mtu)
		k += snprintf(rest + k, sizeof(rest) - (size_t)k, " mtu %u", ic->mtu);
	if (ic->orig_src.addr.family != 0)
		snprintf(rest + k, sizeof(rest) - (size_t)k, " about %s %s %s", hs_endpoint_format(&ic->orig_src, a, sizeof(a)),
		         arrow_right(o), hs_endpoint_format(&ic->orig_dst, b, sizeof(b)));
	piece pc[] = { { ic->family == AF_INET6 ? "ICMPv6 " : "ICMP ", P_RST }, { hs_icmp_text(ic), P_RST }, { rest, P_NONE } };
	text_rows(L, o, &ev->t_ns, pc, 3);
}

static void summary_rows(ladder *L, hs_output *o, const hs_event *ev)
{
	char text[512];

	if (!summary_text(o, ev->summary, text, sizeof(text)))
		return;
	piece pc[] = { { text, P_DIM } };
	text_rows(L, o, NULL, pc, 1);
}

/* "(us TIME-WAIT, peer CLOSED)" */
static void final_states(const hs_output *o, const hs_event *ev, char *buf, size_t len)
{
	snprintf(buf, len, "(%s %s, %s %s%s)", side_name(o, 0), hs_state_name(ev->final_state), side_name(o, 1),
	         hs_state_name(ev->final_peer_state), ev->peer_assumed ? " assumed" : "");
}

static void on_end(ladder *L, hs_output *o, const hs_event *ev)
{
	char st[128];

	final_states(o, ev, st, sizeof(st));
	piece pc[] = { { "end ", P_NONE }, { st, P_NONE } };
	text_rows(L, o, &ev->t_ns, pc, 2);
	summary_rows(L, o, ev);
}

/* The last rows: the summary, then "closed (us TIME-WAIT, peer CLOSED), kept as 1". */
static void on_result(ladder *L, hs_output *o, const hs_event *ev)
{
	char st[128], tail[256] = "";
	int k = 0;

	if (ev->exit_code != 0) { /* as the lines: the figures, then one line on stderr */
		if (!L->after_end && !ev->listing)
			summary_rows(L, o, ev);
		error_line(o, ev);
		return;
	}
	if (!L->after_end)
		summary_rows(L, o, ev);
	final_states(o, ev, st, sizeof(st));
	if (ev->reaction)
		k += snprintf(tail + k, sizeof(tail) - (size_t)k, ", reaction %s", ev->reaction);
	if (ev->conn_id && k < (int)sizeof(tail))
		k += snprintf(tail + k, sizeof(tail) - (size_t)k, ", kept as %s", ev->conn_id);
	piece pc[] = { { ev->outcome ? ev->outcome : "done", P_OK }, { " ", P_NONE }, { st, P_NONE }, { tail, P_NONE },
		       { ev->text && ev->text[0] ? (o->ascii ? " - " : " \u2014 ") : "", P_NONE },
		       { ev->text ? ev->text : "", P_NONE } };
	text_rows(L, o, &ev->t_ns, pc, 6);
}

static void ladder_emit(hs_output *o, void *self, const hs_event *ev)
{
	ladder *L = self;

	/* -q (only the result), hs ls (a table): the lines say it. */
	if (!L || o->quiet || ev->type == HS_EV_CONN || (ev->type == HS_EV_RESULT && ev->listing)) {
		hs_render_lines.emit(o, NULL, ev);
		return;
	}
	if (ev->type != HS_EV_SEGMENT && !(ev->type == HS_EV_STATE && ev->by_segment))
		flush(L, o);
	switch (ev->type) {
	case HS_EV_OPEN:
		L->laid_out = false;
		L->has_unacked[0] = L->has_unacked[1] = false;
		L->has_ends = ev->local && ev->remote;
		if (L->has_ends) {
			L->ends[0] = *ev->local;
			L->ends[1] = *ev->remote;
		}
		break;
	case HS_EV_SEGMENT:
		if (ev->seg)
			on_segment(L, o, ev);
		break;
	case HS_EV_STATE:
		on_state(L, o, ev);
		break;
	case HS_EV_ICMP:
		if (ev->icmp)
			on_icmp(L, o, ev);
		break;
	case HS_EV_INFO:
		on_info(L, o, ev);
		break;
	case HS_EV_END:
		on_end(L, o, ev);
		break;
	case HS_EV_RESULT:
		on_result(L, o, ev);
		break;
	case HS_EV_CONN:
		break;
	}
	L->after_end = ev->type == HS_EV_END;
}

/* The width: o->width, else $COLUMNS, else 80; within MINW..MAXW. */
static int ladder_width(const hs_output *o)
{
	const char *cols = getenv("COLUMNS");
	int w = o->width;

	if (w <= 0 && cols && *cols) {
		char *end;
		long v = strtol(cols, &end, 10);
		if (*end == '\0' && v > 0 && v < 100000)
			w = (int)v;
	}
	if (w <= 0)
		w = 80;
	return w < MINW ? MINW : w > MAXW ? MAXW : w;
}

static int ladder_open(hs_output *o, void **self, char *err, size_t errlen)
{
	ladder *L = calloc(1, sizeof(*L));

	if (!L) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	L->w = ladder_width(o);
	*self = L;
	return 0;
}

static int ladder_close(hs_output *o, void *self)
{
	ladder *L = self;

	if (L) {
		flush(L, o);
		free(L);
	}
	return 0;
}

static bool ladder_holding(hs_output *o, void *self)
{
	ladder *L = self;

	(void)o;
	return L && L->npend > 0;
}

/* Quiet for a while, or the user is asked (--step): the held row is drawn as it
 * is; a segment that turns out to have crossed it is marked at its tail instead. */
static void ladder_idle(hs_output *o, void *self)
{
	if (self)
		flush(self, o);
}

const hs_render_ops hs_render_ladder = {
	.name = "ladder", .open = ladder_open, .emit = ladder_emit, .holding = ladder_holding, .idle = ladder_idle,
	.close = ladder_close,
};
