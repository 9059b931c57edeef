/* The observer: a sans-I/O tracker of both ends of a TCP connection that hs watches
 * but is not an end of (live rst/fin, -r). Segments go in -- either direction, with
 * their capture timestamps -- and out come the same things the TCB says of its own
 * connections (tcb.h): each side's state changes, a note on the segment, sequence
 * numbers relative to each side's ISS.
 *
 * What it knows is what passed the capture point. A segment proves its sender's
 * state (a FIN: the sender left ESTABLISHED), so the sender's changes are certain;
 * its effect on the receiver is inferred on the assumption that it arrives (the
 * change carries `assumed`, as the TCB's peer changes do) until the receiver's own
 * segments confirm it. RFC 9293 names: ISS, SND.NXT, SND.UNA, SND.WND; 3.3.2 for the
 * state diagram.
 *
 * No clock, no allocation, no output: drivers turn hs_obs_out into events. */
#ifndef HS_OBSERVER_H
#define HS_OBSERVER_H
#include <stdbool.h>
#include <stdint.h>
#include "hs/addr.h"
#include "hs/segment.h"
#include "hs/state.h"
#include "hs/tcb.h"

enum { HS_OBS_A = 0, HS_OBS_B = 1 };

#define HS_OBS_MAXCHANGE 6
#define HS_OBS_RECENT 16
/* Two captures of one datagram closer than this are one segment seen twice (on "any",
 * a forwarded segment shows on the way in and on the way out). */
#define HS_OBS_COPY_NS (20ull * 1000000ull)

typedef struct hs_obs_side {
	hs_endpoint ep;
	hs_state state;          /* as inferred */
	bool iss_known;          /* iss is set: */
	bool syn_seen;           /* from its SYN (else the first sequence number seen of it) */
	uint32_t iss;            /* ISS: relative numbers count from here */
	bool nxt_known;
	uint32_t snd_nxt;        /* SND.NXT: past the highest SEG.SEQ + SEG.LEN (+1 SYN, +1 FIN)
	                          * it sent -- the other end's RCV.NXT once that arrives */
	bool una_known;
	uint32_t snd_una;        /* SND.UNA: the highest ACK the other end sent it */
	uint16_t wnd;            /* its last window field, unscaled */
	bool ws_offered;         /* its SYN carried a window scale option: */
	uint8_t ws;              /* this shift */
	bool fin_sent;           /* it sent a FIN, */
	uint32_t fin_seq;        /* with this SEG.SEQ + SEG.LEN (the FIN's own number) */
	bool rst_sent;           /* it sent an RST (it has no connection) */
	uint32_t last_len;       /* payload of its last data segment, */
	uint64_t last_data_ns;   /* captured then */
	uint64_t last_ns;        /* when its last segment was captured (0: none yet) */
} hs_obs_side;

typedef struct hs_obs_recent {
	int from;
	uint32_t seq, ack, tsval, sack0;
	uint8_t flags, nsack;
	uint16_t win;
	size_t len;
	bool has_ip_id;
	uint16_t ip_id;
	uint64_t t_ns;
} hs_obs_recent;

typedef struct hs_observer {
	hs_obs_side side[2];     /* [HS_OBS_A], [HS_OBS_B] */
	bool started;            /* a segment was taken */
	hs_obs_recent recent[HS_OBS_RECENT];
	unsigned nrecent;
} hs_observer;

typedef struct hs_obs_out {
	int from;                /* HS_OBS_A / HS_OBS_B: who sent it; -1: not of this connection */
	bool copy;               /* the same datagram seen again within HS_OBS_COPY_NS (another
	                          * interface of "any"): nothing learned, no event needed */
	uint32_t rseq;           /* SEG.SEQ - the sender's ISS */
	uint32_t rack;           /* SEG.ACK - the receiver's ISS (0 without ACK) */
	uint8_t win_shift;       /* the shift that applies to SEG.WND (0: none) */
	enum hs_note note;       /* retransmission, duplicate, out-of-order, dup-ack,
	                          * keepalive, zero-window, zero-window-probe, window-update... */
	hs_change change[HS_OBS_MAXCHANGE]; /* in order; peer=false: A, peer=true: B;
	                          * assumed on the receiver's changes */
	int nchange;
	hs_state state[2];       /* both sides' states after it */
} hs_obs_out;

/* A and B: the two ends. Both start CLOSED; the first segment decides what they
 * were in (a SYN: A CLOSED -> SYN-SENT, B LISTEN; anything else: a connection
 * joined ESTABLISHED, or in the state its flags show). */
void hs_observer_init(hs_observer *ob, const hs_endpoint *a, const hs_endpoint *b);
/* Which side sent seg: HS_OBS_A, HS_OBS_B, or -1 (not this connection). Pure. */
int hs_observer_sender(const hs_observer *ob, const hs_segment *seg);
/* Take one segment captured at t_ns (any monotonic base, ns). Fills out; returns
 * out->from. Segments of other connections change nothing. */
int hs_observer_segment(hs_observer *ob, const hs_segment *seg, uint64_t t_ns, hs_obs_out *out);
/* A driver's conclusion about a side that no segment shows (live rst: "B took the
 * RST", found by probing): side moves to `to` for `why` (static text). Fills out
 * (nchange 0 when already there). */
void hs_observer_conclude(hs_observer *ob, int side, hs_state to, const char *why, hs_obs_out *out);
/* seq relative to side's ISS (0 while unknown). */
uint32_t hs_observer_rel(const hs_observer *ob, int side, uint32_t seq);

#endif
