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
	/* The handshake, from the side of OUT (us; A when observed), in capture time.
	 * Active open (our SYN first): rtt = our last SYN -> the peer's SYN,ACK, reaction
	 * = that SYN,ACK -> our ACK. Passive open (the peer's SYN first): reaction = its
	 * last SYN -> our SYN,ACK, rtt = our last SYN,ACK -> its ACK. A retransmitted
	 * SYN (SYN,ACK) restarts the clock (Karn): the answer is to the last one. */
	bool has_rtt;
	uint64_t rtt_ns;
	bool has_reaction;
	uint64_t reaction_ns;
	bool has_teardown;
	uint64_t teardown_ns;       /* the first FIN or RST -> the last segment of the close */
	/* working state, not figures */
	bool seen_syn;              /* a SYN without ACK: the opener is syn_dir */
	enum hs_dir syn_dir;
	uint64_t t_syn;             /* the last SYN */
	bool seen_synack;           /* the first SYN,ACK answering it, */
	uint64_t t_synack;          /* and the last one before the handshake's ACK */
	bool handshake_done;        /* the opener's ACK of the SYN,ACK was seen */
	bool seen_close;            /* a FIN or RST: the teardown started */
	uint64_t t_first_close;
} hs_summary;

void hs_summary_init(hs_summary *s);
/* Nothing to say: no segment counted. */
bool hs_summary_empty(const hs_summary *s);
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
