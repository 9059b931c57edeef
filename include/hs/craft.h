/* Crafting: a segment shaped by the user (hs send, a --step edit) built against a
 * connection's numbers, and the peer's reaction to it, classified. Pure functions:
 * the TCB is read, never changed (what the segment does to it is
 * hs_tcb_sent_crafted()). */
#ifndef HS_CRAFT_H
#define HS_CRAFT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hs/notation.h"
#include "hs/segment.h"
#include "hs/tcb.h"

/* The largest payload a crafted segment carries: what an IPv4 datagram of 65535
 * bytes leaves after 20 bytes of IP and 20 of TCP header (options take from it). */
#define HS_CRAFT_MAX_PAYLOAD 65495

/* Build the segment sp describes into tx. base: the segment being replaced (a --step
 * edit: fields not given keep its values, +N/-N count from its numbers), or NULL:
 * the connection's defaults (hs_tcb_template: SEG.SEQ = SND.NXT, SEG.ACK = RCV.NXT,
 * flags ACK -- PSH,ACK with data --, or SYN in CLOSED; the options it negotiated,
 * TSval advancing and TSecr echoing). data/len: the payload (caller-owned, kept by
 * pointer in tx), or NULL: sp->len zero bytes when the spec gives a length. Returns
 * 0, or -1 with err (a length that differs from the data's, too long a payload, options
 * over 40 bytes). */
int hs_craft_build(const hs_tcb *t, const hs_seg_spec *sp, const hs_tx *base, const uint8_t *data,
                   uint32_t len, uint64_t now, hs_tx *tx, char *err, size_t errlen);

/* What the peer did about a crafted segment. */
enum hs_reaction {
	HS_REACT_NONE = 0,      /* nothing within the watch */
	HS_REACT_ACK,           /* a bare ACK that acknowledges something new */
	HS_REACT_CHALLENGE_ACK, /* a bare ACK answering our RST or SYN (RFC 5961 3.2, 4.2) or
	                         * our ACK of data it never sent (5.2) */
	HS_REACT_DUP_ACK,       /* a bare ACK that acknowledges nothing new */
	HS_REACT_DATA,          /* a segment with payload */
	HS_REACT_RST,
	HS_REACT_FIN,
	HS_REACT_SYN_ACK,
	HS_REACT_ICMP,          /* an ICMP error quoting our segment */
	HS_REACT_COUNT
};
/* "none", "ack", "challenge-ack", ... */
const char *hs_reaction_name(enum hs_reaction r);
/* --expect CLASS[,CLASS]: a bit (1u << reaction) per class named. Returns 0, or -1
 * with err naming the unknown class and listing the known ones. */
int hs_reaction_parse_list(const char *text, unsigned *mask, char *err, size_t errlen);
/* Does r satisfy mask? "ack" in the mask also takes dup-ack and challenge-ack (any
 * bare ACK). */
bool hs_reaction_matches(enum hs_reaction r, unsigned mask);

/* Classify the peer's first segment after ours. snd_una: our SND.UNA before ours
 * left; rcv_nxt: our RCV.NXT then (the peer's SND.NXT as far as we know). */
enum hs_reaction hs_reaction_classify(const hs_tx *ours, uint32_t snd_una, uint32_t rcv_nxt,
                                      const hs_segment *answer);

#endif
