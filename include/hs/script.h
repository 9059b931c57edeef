/* Scenario scripts (issue 12, `hs script FILE`): packetdrill's packet lines, seen
 * from the stack under test (the peer):
 *
 *     --tolerance_usecs=10000          (option lines, before the first event;
 *     --target=198.18.0.2:8080          the peer, unless the command line names it)
 *     0     > S  0:0(0) win * <...>    (the peer must send this)
 *     +0.1  < S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>   (hs sends this)
 *     0.2~0.4 > . 1:1(0) ack 1
 *     *     > P. 1:6(5) ack 1
 *     +0    `ss -tn`                   (a shell command, run at its time)
 *     +0    < P. 1:6(5) ack 1 "hello"   (a payload: C escapes, \" for a quote)
 *
 * Pure functions, no I/O: the parser takes the whole text, the matcher one decoded
 * segment. Times are nanoseconds. See lib/script.c for the accepted grammar. */
#ifndef HS_SCRIPT_H
#define HS_SCRIPT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hs/notation.h"
#include "hs/segment.h"

#define HS_SCR_LINE_MAX 1024          /* bytes in one line, newline excluded */
#define HS_SCR_LINES_MAX 10000        /* lines in a file */
#define HS_SCR_TIME_MAX_S 86400       /* largest time, in seconds */
#define HS_SCR_TOLERANCE_NS 4000000u  /* packetdrill's default --tolerance_usecs=4000 */

enum hs_scr_kind {
	HS_SCR_SEND = 1,   /* "<": hs sends the segment (inbound to the peer) */
	HS_SCR_EXPECT,     /* ">": the peer must send it */
	HS_SCR_SHELL,      /* `command` */
};

enum hs_scr_time_kind {
	HS_SCR_T_ABS = 1,  /* 0.100: since the script's start */
	HS_SCR_T_REL,      /* +0.1: after the previous line's time */
	HS_SCR_T_RANGE,    /* 0.1~0.3 (or +0.1~+0.3 with rel): from t_ns to t2_ns */
	HS_SCR_T_ANY,      /* "*": any time (">" lines only) */
};

typedef struct hs_scr_time {
	uint8_t kind;      /* enum hs_scr_time_kind */
	bool rel;          /* RANGE: both ends relative ("+A~+B") */
	uint64_t t_ns;     /* ABS/REL: the time; RANGE: its start. <= HS_SCR_TIME_MAX_S s */
	uint64_t t2_ns;    /* RANGE: its end (>= t_ns) */
	uint64_t tol_ns;   /* allowed lateness/earliness: the script's tolerance */
} hs_scr_time;

/* Fields a segment line gives as "*" (value does not matter), bits of hs_scr_line.any. */
#define HS_SCR_ANY_FLAGS (1u << 0)
#define HS_SCR_ANY_SEQ   (1u << 1)  /* "*" in place of START:END(LEN): seq and length */
#define HS_SCR_ANY_ACK   (1u << 2)
#define HS_SCR_ANY_WIN   (1u << 3)
#define HS_SCR_ANY_URG   (1u << 4)
#define HS_SCR_ANY_OPTS  (1u << 5)  /* "<...>" */

typedef struct hs_scr_line {
	unsigned lineno;   /* 1-based line of the file */
	uint8_t kind;      /* enum hs_scr_kind */
	hs_scr_time time;
	hs_seg_spec spec;  /* SEND/EXPECT: the fields given (seq relative to the sender's
	                    * ISN, ack to the receiver's; only HS_NUM_REL/HS_NUM_ABS occur) */
	unsigned any;      /* HS_SCR_ANY_* */
	char *text;        /* SEND/EXPECT: the segment as written (comments removed);
	                    * SHELL: the command between the backquotes. Owned. */
	bool have_data;    /* SEND/EXPECT: a payload "TEXT" ends the line (C escapes as
	                    * --send takes them, \" a quote): */
	uint8_t *data;     /* its bytes (owned; spec.len is their number), sent by a
	                    * "<" line, compared byte for byte on a ">" line */
	uint32_t data_len;
} hs_scr_line;

enum hs_scr_role {
	HS_SCR_ROLE_CLIENT = 1, /* the first SYN is a "<" line: hs connects */
	HS_SCR_ROLE_SERVER,     /* the first SYN is a ">" line: the peer connects to hs */
};

typedef struct hs_script {
	hs_scr_line *line; /* n lines in file order (owned) */
	size_t n;
	uint8_t role;      /* enum hs_scr_role */
	uint64_t tolerance_ns;
	char target[256];  /* --target=HOST:PORT ("" when not given): the peer */
} hs_script;

/* Parse len bytes of text (need not be NUL-terminated; a NUL byte is an error).
 * file names the script in messages. Returns 0 with *out filled (free it with
 * hs_script_free), or -1 with one line in err, "FILE:LINE: message" naming the word
 * at fault, and *out empty (nothing to free). Errors: a line over HS_SCR_LINE_MAX or
 * more than HS_SCR_LINES_MAX lines, a bad time or option line, a missing direction,
 * "*" or a range on a "<" line, a bad segment word (hs_notation_parse's message),
 * an absolute time before an earlier one, an unterminated backquote or comment, a
 * script without a SYN, out of memory. */
int hs_script_parse(const char *text, size_t len, const char *file, hs_script *out,
                    char *err, size_t errlen);
void hs_script_free(hs_script *s);

/* Does seg (sent by the peer) match an EXPECT line? Every field the line gives is
 * compared: flags, seq (relative to peer_isn), SEG.LEN, ack (relative to our_isn),
 * win, urg, options (in order, byte for byte, except that a bare "ts" item matches
 * any TS values; "<...>" matches any options, no "<>" at all does not compare them),
 * the payload when the line gives one (as far as the capture kept it).
 * Returns true, or false with one line in why ("ack 1 expected, got 5"). */
bool hs_script_match(const hs_scr_line *line, const hs_segment *seg, uint32_t peer_isn,
                     uint32_t our_isn, char *why, size_t whylen);

/* The mismatch block (lines end in '\n'):
 *     FILE:LINE: the peer's segment does not match
 *       expected: S. 0:0(0) ack 1 <...>
 *       actual:   S. 0:0(0) ack 1 win 65160 <mss 1460,...>
 *       why:      ack 1 expected, got 5
 * Returns buf (always NUL-terminated, truncated to len > 0). */
const char *hs_script_mismatch_format(const char *file, const hs_scr_line *line,
                                      const hs_segment *seg, uint32_t peer_isn,
                                      uint32_t our_isn, const char *why, char *buf, size_t len);
#endif
