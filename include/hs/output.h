/* Rendering hs_event as human lines or JSON lines (one object per line, stdout). */
#ifndef HS_OUTPUT_H
#define HS_OUTPUT_H
#include <stdbool.h>
#include <stdio.h>
#include "hs/event.h"

typedef struct hs_output {
	FILE *fp;        /* stdout */
	FILE *err;       /* stderr: result lines of failures in human mode */
	bool json;
	bool quiet;      /* -q: only the result (human) / unchanged (json) */
	int verbose;     /* -v: more detail (absolute seq/ack, checksums, ttl) */
	bool color;
	bool hex;        /* -x: payload as hex dump instead of escaped text */
	bool absolute;   /* show absolute seq/ack in human mode */

	/* Set by hs_output_init, kept between events; not for callers. */
	bool ascii;          /* locale is not UTF-8: "->"/"<-" instead of arrows */
	int last_line;       /* what the previous human line showed */
	uint64_t last_t_ns;  /* and when */

	/* The first write error (errno) on fp / on err: 0 while every line got out. A
	 * run checks it between events and ends (hs_session_run: HS_RUN_WRITE). */
	int fp_errno;
	int err_errno;
} hs_output;

/* Defaults: human lines, no color, not quiet. Call after setlocale(LC_CTYPE, ""):
 * it picks UTF-8 or ASCII arrows from the locale. */
void hs_output_init(hs_output *o, FILE *fp, FILE *err);
void hs_output_emit(hs_output *o, const hs_event *ev);
/* The first write error on fp (where the lines go), or 0; *which: "stdout", or
 * "stderr" when fp is stderr (-w -). An error on err alone does not count: err only
 * carries the line that says why hs fails, and nothing can be told then anyway. */
int hs_output_write_error(const hs_output *o, const char **which);
/* The first write error (errno) any hs_output met on stdout, or 0. */
int hs_output_stdout_error(void);

/* Escape payload for text display / JSON strings ("\n", "\x01", "\""), truncating at
 * outlen-1. Returns the number of bytes written. */
size_t hs_escape_text(const uint8_t *p, size_t n, char *out, size_t outlen, bool json);

/* "port unreachable", "time exceeded in transit", ... for an ICMP(v6) error. */
const char *hs_icmp_text(const hs_icmp_error *ic);

#endif
