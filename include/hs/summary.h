/* The figures of one connection, taken from its events' capture timestamps (never
 * from when a line was printed): handshake RTT, the reaction of the side that
 * answered the handshake, teardown time, bytes, segments and retransmissions each
 * way. Pure: fed hs_event values in order, like a renderer. */
#ifndef HS_SUMMARY_H
#define HS_SUMMARY_H
#include <stdbool.h>
#include <stdint.h>
#include "hs/event.h"
#include "hs/sbuf.h"

typedef struct hs_summary {
	/* [HS_DIR_OUT]: us -> peer (A -> B when observed); [HS_DIR_IN]: the other way. */
	uint64_t segments[2];
	uint64_t bytes[2];          /* payload bytes (SEG.LEN without SYN/FIN), retransmitted
	                             * ones included */
	uint64_t retransmissions[2]; /* segments noted retransmission */
	bool has_rtt;
	uint64_t rtt_ns;            /* handshake RTT: the last SYN -> the SYN,ACK answering it */
	bool has_reaction;
	uint64_t reaction_ns;       /* our reaction (A's when observed): SYN,ACK in -> our ACK
	                             * out (connect); listen: SYN in -> our SYN,ACK out */
	bool has_teardown;
	uint64_t teardown_ns;       /* the first FIN or RST -> the last segment of the close */
	/* working state, not figures */
	bool active;                /* seen a SYN from OUT first (a connect) */
	uint64_t t_syn, t_synack, t_first_close, t_last;
	bool seen_syn, seen_synack, seen_close, waiting_reaction;
	enum hs_dir syn_dir;
} hs_summary;

void hs_summary_init(hs_summary *s);
/* Take one event (HS_EV_OPEN resets; segments count; others are ignored). */
void hs_summary_add(hs_summary *s, const hs_event *ev);
/* The JSON object the result line carries as "summary" (INTERFACE.md), e.g.
 * {"rtt":0.000051,"reaction":0.000022,"teardown":0.000210,"segments":[4,3],
 *  "bytes":[5,5],"retransmissions":[0,0]} -- times in seconds with 6 decimals,
 * fields without a value left out; arrays are [out,in]. */
void hs_summary_json(const hs_summary *s, hs_sbuf *b);
/* The same for people: "rtt 0.051 ms, reaction 0.022 ms, teardown 0.210 ms;
 * out 4 segments 5 bytes, in 3 segments 5 bytes" (names of the sides from the
 * caller: "us"/"peer", "A"/"B"). */
void hs_summary_text(const hs_summary *s, const char *out_name, const char *in_name, hs_sbuf *b);

#endif
