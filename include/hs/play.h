/* Playing a scenario script (hs script FILE): which line is due, when, and whether
 * the peer's segments match. A sans-I/O state machine beside the TCB: the driver
 * (cmd/script.c) asks hs_play_next() what to do at a time, carries it out (sends the
 * segment hs_play_build() made, runs the shell command) and reports back; it feeds
 * every segment the peer sends to hs_play_segment(). No clock, no network, no
 * allocation: times are the caller's, in ns since the script started.
 *
 * Timing, as packetdrill's (its run_script.c, reduced):
 *   - a "<" or `command` line is due at its time (absolute, or "+T" after the
 *     previous line's actual time: when its segment left, its match arrived, its
 *     command ended); late is allowed (hs cannot send in the past);
 *   - a ">" line expects the peer's next segment within [T - tol, T + tol] (a range
 *     A~B: [A - tol, B + tol]; "*": any time before the previous line's time plus
 *     any_wait_ns). A segment that arrived while a command ran counts as arriving
 *     when the command ended.
 * Sequence numbers in lines are relative: a "<" line's SEQ to our ISN and its ack
 * to the peer's, a ">" line's the other way round; the peer's ISN is learned from
 * the first SYN it sends. SACK blocks are relative too (to the ISN of the side whose
 * data they acknowledge), as packetdrill writes them. */
#ifndef HS_PLAY_H
#define HS_PLAY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hs/script.h"
#include "hs/segment.h"
#include "hs/tcb.h"

/* What the driver does next (hs_play_next). */
enum hs_play_do {
	HS_PLAY_SEND = 1,  /* send line cur's segment now: hs_play_build, then hs_play_done */
	HS_PLAY_SHELL,     /* run line cur's command now, then hs_play_done / hs_play_shell_failed */
	HS_PLAY_SLEEP,     /* nothing until *at (a "<" or command line's time); the peer's
	                    * segments that arrive meanwhile go to hs_play_segment */
	HS_PLAY_WAIT,      /* wait for the peer's segment for line cur until *at */
	HS_PLAY_DONE,      /* every line played */
	HS_PLAY_FAILED,    /* stopped: fail, fail_line, why say where and why */
};

/* Why a script stopped (hs_play.fail). */
enum hs_play_fail {
	HS_PLAY_F_OK = 0,
	HS_PLAY_F_MISMATCH,   /* the peer's segment differs from the ">" line (exit 1) */
	HS_PLAY_F_EARLY,      /* it matches, but came before the line's time window (exit 1) */
	HS_PLAY_F_LATE,       /* it matches, but came after the window (exit 1) */
	HS_PLAY_F_UNEXPECTED, /* the peer sent a segment where the script has a "<" or a
	                     * command line (e.g. a retransmission the script does not
	                     * expect) (exit 1) */
	HS_PLAY_F_MISSING,    /* the ">" line's window passed without a segment (exit 3) */
	HS_PLAY_F_SHELL,    /* a command failed (exit 1) */
	HS_PLAY_F_BUILD,      /* a "<" line cannot be built (ack relative to a peer ISN not yet
	                     * known, options too long...) (exit 2: the script is wrong) */
};

#define HS_PLAY_ANY_WAIT_NS (10ull * 1000000000ull) /* default wait of a "*" line */
#define HS_PLAY_LATE_GRACE_NS (1000000000ull)       /* after a timed ">" line's window, how
                                                     * long a segment is still waited for:
                                                     * one that comes is LATE (exit 1), none
                                                     * MISSING (exit 3) */

typedef struct hs_play {
	const hs_script *s;
	size_t cur;                /* index of the next line to play (s->n: done) */
	uint64_t prev_ns;          /* actual time of the previous line (0 at the start) */
	uint64_t any_wait_ns;      /* how long a "*" line waits after the previous line */
	uint32_t our_isn;          /* ours, chosen by the driver */
	uint32_t peer_isn;         /* the peer's, once peer_isn_known */
	bool peer_isn_known;
	uint32_t snd_nxt;          /* after the highest sequence number we sent (SYN, FIN count) */
	uint32_t rcv_nxt;          /* after the highest the peer sent: a "<" line's default ack */
	bool rcv_known;
	uint32_t ts_base;          /* our TSval at time 0; it advances 1 per ms */
	bool peer_ts;              /* the peer sent a TSval: */
	uint32_t peer_tsval;       /* its latest, echoed by a bare "ts" in a "<" line */
	int fail;                  /* enum hs_play_fail */
	size_t fail_line;          /* index of the line at fault */
	uint64_t fail_t_ns;        /* when it was found */
	char why[256];             /* one line: "ack 1 expected, got 5", "exited with status 2" */
} hs_play;

/* Start playing s (which must outlive p). our_isn: the ISN hs's segments count from;
 * ts_base: our TSval at time 0; any_wait_ns: how long a "*" line waits (0: the default
 * HS_PLAY_ANY_WAIT_NS). */
void hs_play_init(hs_play *p, const hs_script *s, uint32_t our_isn, uint32_t ts_base, uint64_t any_wait_ns);

/* What to do at time now (ns since the start). SEND/SHELL: line p->cur is due;
 * SLEEP: *at is when it will be; WAIT: *at is the deadline of line p->cur's segment:
 * the end of its window (a "*" line), or HS_PLAY_LATE_GRACE_NS after it, so that a
 * segment that comes late is told from one that never comes (past the deadline, the
 * call fails the script with HS_PLAY_F_MISSING and returns FAILED). */
enum hs_play_do hs_play_next(hs_play *p, uint64_t now, uint64_t *at);

/* The segment of "<" line p->cur, as it goes on the wire: flags; SEQ = our ISN +
 * START (default: SND.NXT as far as the script went); ack = the peer's ISN + N
 * (default: what the peer sent so far) when ACK is set; win (default 65535); urg;
 * the options (a bare "ts": TSval = ts_base + now in ms, TSecr = the peer's latest
 * TSval; SACK blocks from relative to absolute); the line's payload "TEXT", else LEN zero bytes (static,
 * never written); the IP fields. Returns 0, or -1 with p->fail = HS_PLAY_F_BUILD and
 * p->why set (the caller then stops). */
int hs_play_build(hs_play *p, uint64_t now, hs_tx *tx);

/* Line p->cur was carried out at time `at` (SEND: just before the segment left, tx
 * being what was sent; SHELL: when the command ended, tx NULL). Moves to the next line. */
void hs_play_done(hs_play *p, uint64_t at, const hs_tx *tx);

/* Line p->cur's command failed (why: "exited with status 2"): the script stops. */
void hs_play_shell_failed(hs_play *p, uint64_t at, const char *why);

/* A segment from the peer, captured at time t. Returns the 1-based file line it
 * matched (the driver tags the segment with it), or 0: it failed the script (p->fail
 * set), or the script had already ended or failed (nothing changes). */
unsigned hs_play_segment(hs_play *p, const hs_segment *seg, uint64_t t);

/* exit status for a failed play (1, 2 or 3), 0 when it did not fail. */
int hs_play_exit_code(const hs_play *p);

/* The failure block for people, lines ending in '\n':
 *     FILE:LINE: the peer's segment does not match          (or: no segment came ...)
 *       expected: S. 0:0(0) ack 1 <...>
 *       actual:   S. 0:0(0) ack 1 win 65160 <mss 1460,...>
 *       why:      ack 1 expected, got 5
 *       at:       0.104001 s   (when it came or was found missing)
 * seg: the segment at fault (MISMATCH, EARLY, LATE, UNEXPECTED), else NULL.
 * Returns buf (always NUL-terminated, cut to len > 0). */
const char *hs_play_failure_format(const hs_play *p, const char *file, const hs_segment *seg, char *buf,
                                   size_t len);

/* Add delta to both edges of every SACK block (kind 5) in len bytes of TCP options
 * (malformed tails left alone): relative blocks to absolute and back. */
void hs_sack_shift(uint8_t *opts, size_t len, uint32_t delta);

#endif
