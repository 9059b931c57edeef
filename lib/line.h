/* Private to lib/: what the views (render_lines.c, render_json.c, render_ladder.c)
 * share -- a line composed in memory and written with one fwrite, colors and
 * glyphs, payload and JSON escaping, the time format, and the pieces of an event
 * every view says the same way.
 *
 * A line is composed first (a stack buffer that moves to the heap only for very
 * long lines) and written with one fwrite, then flushed by hs_output_emit: scripts
 * read stdout line by line through pipes, and a line is never half-written when a
 * signal ends the process between events. */
#ifndef HS_LIB_LINE_H
#define HS_LIB_LINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hs/event.h"
#include "hs/output.h"

/* ---- a line under construction ----------------------------------------------------- */

#define LINE_STACK 4096

typedef struct line {
	char *p;
	size_t len, cap;  /* cap keeps one byte free for the final '\n' */
	int col;          /* display columns so far (escape codes do not count) */
	bool color;
	bool failed;      /* out of memory: the line is dropped */
	char stack[LINE_STACK];
} line;

void line_init(line *l, bool color);
/* Bytes that take no columns (escape codes). */
void line_raw(line *l, const char *s, size_t n);
void line_putn(line *l, const char *s, size_t n);
void line_puts(line *l, const char *s);
void line_putc(line *l, char c);
void line_printf(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text from elsewhere (a reason, an info line) shown to a person: control bytes
 * become '?' so that nothing can drive the terminal. */
void line_text(line *l, const char *s);
/* Pad with spaces to column col. */
void line_pad(line *l, int col);
/* Pad to col, but leave at least min spaces after what is there. */
void line_gap(line *l, int col, int min);
/* Write the line and '\n' to fp in one fwrite (trailing blanks dropped), then start
 * it anew. */
void line_write(line *l, FILE *fp);
/* Columns that n bytes of UTF-8 take (continuation bytes take none). */
int display_width(const char *s, size_t n);

/* ---- colors and glyphs ------------------------------------------------------------- */

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"

/* An escape code, written only when the line has color. */
void line_color(line *l, const char *code);
/* s in the color code (then reset). */
void line_colored(line *l, const char *code, const char *s);

/* "->" / "<-" / "..." with o->ascii, else their Unicode glyphs. */
const char *arrow_right(const hs_output *o);
const char *arrow_left(const hs_output *o);
const char *ellipsis(const hs_output *o);
const char *dir_arrow(const hs_output *o, enum hs_dir d);

/* ---- escaping ------------------------------------------------------------------------ */

/* The escape for one byte (or the byte itself) into tmp; returns its length. */
size_t escape_byte(uint8_t c, bool json, char tmp[8]);
/* Escapes whole bytes only (never half an escape) until out (outlen bytes with the
 * NUL) is full; *consumed (may be NULL) tells how many input bytes made it. */
size_t escape_into(const uint8_t *p, size_t n, char *out, size_t outlen, bool json, size_t *consumed);

/* JSON pieces: a string of payload bytes (every byte >= 0x7f escaped as \u00XX);
 * a string of text (valid UTF-8 kept); ,"key":"val"; {"type":"T","t":S. */
void json_bytes(line *l, const uint8_t *p, size_t n);
void json_str(line *l, const char *s);
void json_field_str(line *l, const char *key, const char *val);
void json_begin(line *l, const char *type, uint64_t t_ns);

/* ---- pieces of events ------------------------------------------------------------------ */

/* Seconds with 6 decimals ("12.003456"), integer arithmetic only (no LC_NUMERIC). */
void format_time(uint64_t t_ns, char *buf, size_t len);
/* The segment's note as a word ("retransmission"), note_text first; NULL if none. */
const char *note_of(const hs_event *ev);
/* The segment in packetdrill's notation, numbers relative as the lines show them. */
const char *notation_of(const hs_event *ev, char *buf, size_t len);
/* " LOCAL -> REMOTE" (or the one that is known) of a result event. */
void put_endpoints(const hs_output *o, line *l, const hs_event *ev);
/* The one line on stderr that every failure prints (INTERFACE.md, exit status). */
void error_line(const hs_output *o, const hs_event *ev);
/* What the last HS_EV_OPEN called side 0 (OUT's sender) or 1: "us"/"peer" when no
 * HS_EV_OPEN came. */
const char *side_name(const hs_output *o, int side);
/* Whether a connection's summary has any figure worth a line / a "summary" field. */
bool summary_has_figures(const hs_summary *s);
/* The summary for people (hs_summary_text, the sides named as HS_EV_OPEN named them)
 * into buf; false when there is nothing to say. */
bool summary_text(const hs_output *o, const hs_summary *s, char *buf, size_t len);

#endif
