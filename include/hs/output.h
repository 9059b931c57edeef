/* Where events go: one view (human lines, JSON lines or the ladder) on fp, and up to
 * HS_OUTPUT_MAXSINK sinks (the pcapng writer), each a renderer (render.h) fed the
 * same events in order. hs_output also keeps each connection's summary (summary.h)
 * and hands it to HS_EV_END / HS_EV_RESULT events that carry none. */
#ifndef HS_OUTPUT_H
#define HS_OUTPUT_H
#include <stdbool.h>
#include <stdio.h>
#include "hs/event.h"
#include "hs/render.h"
#include "hs/summary.h"

#define HS_OUTPUT_MAXSINK 2

enum hs_view { HS_VIEW_LINES = 0, HS_VIEW_JSON, HS_VIEW_LADDER };

typedef struct hs_output {
	FILE *fp;        /* stdout */
	FILE *err;       /* stderr: result lines of failures in human mode */
	enum hs_view view;
	bool quiet;      /* -q: only the result (human) / unchanged (json) */
	int verbose;     /* -v: more detail (absolute seq/ack, checksums, ttl) */
	bool color;
	bool hex;        /* -x: payload as hex dump instead of escaped text */
	bool absolute;   /* show absolute seq/ack in human mode */

	int width;       /* columns the ladder may fill (0: $COLUMNS, else 80) */
	const char *pcapng_path; /* for hs_render_pcapng's open */

	/* Set by hs_output_init (callers may override: --ascii), kept between events. */
	bool ascii;          /* locale is not UTF-8: "->"/"<-" instead of arrows */
	int last_line;       /* what the previous human line showed */
	uint64_t last_t_ns;  /* and when */

	/* The first write error (errno) on fp / on err: 0 while every line got out. A
	 * run checks it between events and ends (hs_session_run: HS_RUN_WRITE). */
	int fp_errno;
	int err_errno;
	int sink_errno;      /* the first write error of a sink (then it writes no more), */
	const char *sink_name; /* and which ("pcapng") */

	/* Not for callers. */
	const hs_render_ops *view_ops; /* opened at the first event */
	void *view_self;
	struct { const hs_render_ops *ops; void *self; } sink[HS_OUTPUT_MAXSINK];
	int nsink;
	bool closed;         /* after the result: every renderer closed */
	bool deferred;       /* hs_output_defer: lines stay in stdio's buffer */
	hs_summary sum;      /* the current connection's figures */
	bool observed;       /* the last HS_EV_OPEN: neither end is hs, */
	const char *names[2]; /* and the names of its ends (static: "A", "B") */
} hs_output;

/* Defaults: human lines, no color, not quiet. Call after setlocale(LC_CTYPE, ""):
 * it picks UTF-8 or ASCII arrows from the locale. */
void hs_output_init(hs_output *o, FILE *fp, FILE *err);
/* Hand ev to the view and every sink. HS_EV_RESULT is the last event: after it every
 * renderer is closed (hs_output_close). */
void hs_output_emit(hs_output *o, const hs_event *ev);
/* Add a sink (hs_render_pcapng) and open it now. Returns 0, or -1 with err. */
int hs_output_add_sink(hs_output *o, const hs_render_ops *ops, char *err, size_t errlen);
/* Close the view and the sinks (held lines and packets written). Idempotent; returns
 * the first error of a sink (errno) or 0. */
int hs_output_close(hs_output *o);
/* The first write error on fp (where the lines go), or 0; *which: "stdout", or
 * "stderr" when fp is stderr (-w -). An error on err alone does not count: err only
 * carries the line that says why hs fails, and nothing can be told then anyway. */
int hs_output_write_error(const hs_output *o, const char **which);
/* How long drivers let a view hold a row (hs_output_holding) before they call
 * hs_output_idle: long enough for a crossing segment to come (a simultaneous close
 * takes microseconds on a LAN), short enough for a person to see no delay. */
#define HS_OUTPUT_IDLE_NS (100ull * 1000000ull)
/* Whether a renderer holds something not yet written (the ladder's last row, the
 * pcapng sink's last packet, waiting for the changes that follow it). */
bool hs_output_holding(const hs_output *o);
/* Write what the renderers hold: drivers call it after HS_OUTPUT_IDLE_NS without an
 * event, and before waiting for the user (--step prompts). */
void hs_output_idle(hs_output *o);
/* While on, events are rendered into stdio's buffers but not written: a driver's
 * loop turns it on so that no write() stands between a reply arriving and our answer
 * leaving, and calls hs_output_flush before it blocks (so a line is never later than
 * the wait that follows it). Turning it off flushes. Results are always written at once. */
void hs_output_defer(hs_output *o, bool on);
/* Write what stdio holds for fp and err; a write error is kept (hs_output_write_error). */
void hs_output_flush(hs_output *o);
/* Whether a sink (pcapng) takes the packets: then drivers put the datagrams in
 * their events (HS_EV_SEGMENT/ICMP ip, ip_caplen, ip_len). */
bool hs_output_has_sinks(const hs_output *o);
/* Whether the view is JSON lines (--json): its contract differs (die()'s result line). */
bool hs_output_is_json(const hs_output *o);
/* The first write error (errno) any hs_output met on stdout, or 0. */
int hs_output_stdout_error(void);

/* Escape payload for text display / JSON strings ("\n", "\x01", "\""), truncating at
 * outlen-1. Returns the number of bytes written. */
size_t hs_escape_text(const uint8_t *p, size_t n, char *out, size_t outlen, bool json);

/* "port unreachable", "time exceeded in transit", ... for an ICMP(v6) error. */
const char *hs_icmp_text(const hs_icmp_error *ic);

#endif
