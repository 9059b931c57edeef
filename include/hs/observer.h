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
 * segments confirm it -- or contradict it: a SYN, SYN,ACK or FIN sent again shows
 * that what would have moved its sender on never arrived, and the change back is a
 * `correction` (as the TCB's). RFC 9293 names: ISS, SND.NXT, SND.UNA, SND.WND,
 * RCV.NXT; 3.3.2 for the state diagram, 3.10.7 for what a segment does.
 *
 * The model, at the capture point (X sends, Y receives):
 *   SYN from X: X CLOSED -> SYN-SENT. Y stays where it was until its SYN,ACK shows
 *   it listened (CLOSED -> LISTEN -> SYN-RECEIVED, as the TCB shows a peer); both
 *   ends sending a SYN is a simultaneous open (both SYN-RECEIVED, then ESTABLISHED).
 *   SYN,ACK from Y: X SYN-SENT -> ESTABLISHED on receipt (assumed). ACK of Y's SYN:
 *   Y SYN-RECEIVED -> ESTABLISHED (assumed). FIN from X: ESTABLISHED -> FIN-WAIT-1 or
 *   CLOSE-WAIT -> LAST-ACK, and Y ESTABLISHED -> CLOSE-WAIT, FIN-WAIT-1 -> CLOSING,
 *   FIN-WAIT-2 -> TIME-WAIT. An ACK of X's FIN: FIN-WAIT-1 -> FIN-WAIT-2, CLOSING ->
 *   TIME-WAIT, LAST-ACK -> CLOSED. RST from X: X -> CLOSED; Y -> CLOSED (a passive
 *   SYN-RECEIVED: LISTEN) when its sequence number is acceptable there. TIME-WAIT
 *   stays: no clock runs here.
 *   A capture that begins with anything but a SYN joins the connection: both ends
 *   ESTABLISHED ("joined mid-connection"), then the segment does what its flags say.
 *
 * No clock, no allocation, no output: drivers turn hs_obs_out into events. */
#ifndef HS_OBSERVER_H
#define HS_OBSERVER_H
#include <stdbool.h>
#include <stdint.h>
#include "hs/addr.h"
#include "hs/event.h"
#include "hs/segment.h"
#include "hs/state.h"
#include "hs/tcb.h"

enum { HS_OBS_A = 0, HS_OBS_B = 1 };

#define HS_OBS_MAXCHANGE 8
#define HS_OBS_RECENT 16
/* Two captures of one datagram closer than this are one segment seen twice (on "any",
 * a forwarded segment shows on the way in and on the way out). */
#define HS_OBS_COPY_NS (20ull * 1000000ull)

/* What confirms a side's assumed state: nothing of its own (FIN-WAIT-2, CLOSED...),
 * any ACK it sends (ESTABLISHED after the ACK of its SYN), or an ACK of at least
 * confirm_ack (it took the segment that moved it). */
enum hs_obs_confirm { HS_OBS_CONFIRM_NONE = 0, HS_OBS_CONFIRM_ANY, HS_OBS_CONFIRM_ACK };

typedef struct hs_obs_side {
	hs_endpoint ep;
	hs_state state;          /* as inferred */
	bool assumed;            /* state rests on the other side's segment arriving */
	uint8_t confirm;         /* enum hs_obs_confirm: what ends `assumed` */
	uint32_t confirm_ack;
	bool iss_known;          /* iss is set: */
	bool syn_seen;           /* from its SYN (else the first sequence number seen of it,
	                          * or the other end's first ACK field) */
	uint32_t iss;            /* ISS: relative numbers count from here */
	bool active;             /* it sent a SYN without ACK (active open) */
	bool passive;            /* it answered a SYN with SYN,ACK (passive open) */
	bool synack_sent;        /* its SYN,ACK was seen */
	bool sent_known;         /* it was seen sending a segment: */
	uint32_t sent_end;       /* past the highest SEG.SEQ + SEG.LEN of its own segments seen
	                          * (an ACK beyond it acknowledges what it never sent) */
	bool nxt_known;
	uint32_t snd_nxt;        /* SND.NXT: past the highest SEG.SEQ + SEG.LEN (+1 SYN, +1 FIN)
	                          * it sent, or the highest ACK the other end sent it -- the
	                          * other end's RCV.NXT once that arrives */
	bool una_known;
	uint32_t snd_una;        /* SND.UNA: the highest ACK the other end sent it */
	bool wnd_known;
	uint16_t wnd;            /* its last window field, unscaled */
	bool ws_offered;         /* its SYN carried a window scale option: */
	uint8_t ws;              /* this shift (at most 14) */
	bool fin_sent;           /* it sent a FIN, */
	uint32_t fin_seq;        /* with this SEG.SEQ + SEG.LEN (the FIN's own number) */
	bool rst_sent;           /* it sent an RST (it has no connection) */
	bool challenge_due;      /* the other end sent it an RST in its window but not at its
	                          * RCV.NXT, or a SYN while synchronized: an RFC 5961 stack
	                          * (3.2, 4.2) keeps the connection and answers with a
	                          * challenge ACK, which its next ACK is taken to be */
	bool last_keepalive;     /* its last segment was a keepalive */
	bool spoofed;            /* hs sent segments as this end (hs_observer_spoofed), */
	uint32_t spoof_end;      /* numbered up to here (what the other end may acknowledge) */
	uint32_t last_len;       /* payload of its last data segment, */
	uint64_t last_data_ns;   /* captured then */
	uint64_t last_ns;        /* when its last segment was captured (0: none yet) */
} hs_obs_side;

typedef struct hs_obs_recent {
	int from;
	uint32_t seq, ack, tsval, sack0;
	uint8_t flags, nsack;
	bool has_ts;
	uint16_t win;
	size_t len;
	bool has_ip_id;
	uint16_t ip_id;
	uint64_t t_ns;           /* when the first copy was captured */
} hs_obs_recent;

typedef struct hs_observer {
	hs_obs_side side[2];     /* [HS_OBS_A], [HS_OBS_B] */
	bool started;            /* a segment other than an RST was taken */
	hs_obs_recent recent[HS_OBS_RECENT];
	unsigned nrecent;
} hs_observer;

typedef struct hs_obs_out {
	int from;                /* HS_OBS_A / HS_OBS_B: who sent it; -1: not of this connection */
	bool copy;               /* the same datagram seen again within HS_OBS_COPY_NS (another
	                          * interface of "any"): nothing learned, no event needed
	                          * (note is HS_NOTE_DUPLICATE; a copy arriving later has the
	                          * note without `copy`, and teaches nothing either) */
	uint32_t rseq;           /* SEG.SEQ - the sender's ISS */
	uint32_t rack;           /* SEG.ACK - the receiver's ISS (0 without ACK) */
	uint8_t win_shift;       /* the shift that applies to SEG.WND (0: none) */
	enum hs_note note;       /* retransmission, duplicate, out-of-order, dup-ack,
	                          * keepalive, keepalive-ack, zero-window, zero-window-probe,
	                          * window-update, unacceptable (an RST the receiver ignores) */
	hs_change change[HS_OBS_MAXCHANGE]; /* in order; peer=false: A, peer=true: B;
	                          * assumed on the receiver's changes */
	int nchange;
	hs_state state[2];       /* both sides' states after it */
	bool assumed[2];         /* ... and whether each rests on an arrival not yet shown */
} hs_obs_out;

/* A and B: the two ends (copied). Both start CLOSED, nothing known. */
void hs_observer_init(hs_observer *ob, const hs_endpoint *a, const hs_endpoint *b);
/* Which side sent seg: HS_OBS_A, HS_OBS_B, or -1 (not this connection: the
 * addresses and ports must match one way or the other). Pure. */
int hs_observer_sender(const hs_observer *ob, const hs_segment *seg);
/* Take one segment captured at t_ns (any monotonic base, ns; used only to tell a
 * network copy, HS_OBS_COPY_NS). Fills out (zeroed first); returns out->from.
 * Segments of other connections change nothing (out->from -1, nothing else set).
 * Fragments and segments with a bad checksum are the caller's to keep out. */
int hs_observer_segment(hs_observer *ob, const hs_segment *seg, uint64_t t_ns, hs_obs_out *out);
/* A segment hs itself sent as one end (live fin: a FIN, then an ACK, as A). Its
 * receiver takes it as that end's, when its number is the receiver's RCV.NXT: its
 * changes are inferred as for a real segment (assumed until its own segments confirm
 * them); the end it names knows nothing of it (its state and numbers stay). Later
 * segments acknowledging numbers that only hs used as that end are dropped there as
 * acknowledging what it never sent (RFC 9293 3.10.7.4): they move nothing at that end
 * (note HS_NOTE_UNACCEPTABLE). RSTs and SYNs change nothing here: what they did is
 * the driver's to find out and conclude. Fills out (from: the end it names, rseq,
 * rack, changes); returns out->from, -1 for another connection. */
int hs_observer_spoofed(hs_observer *ob, const hs_segment *seg, hs_obs_out *out);
/* A driver's conclusion about a side that no segment shows (live rst: "B took the
 * RST", found by probing): side (HS_OBS_A/B) moves to `to` for `why` (static text),
 * as a certain change. Fills out (from = side; nchange 0 when already there). */
void hs_observer_conclude(hs_observer *ob, int side, hs_state to, const char *why, hs_obs_out *out);
/* seq relative to side's ISS (0 while unknown). Pure. */
uint32_t hs_observer_rel(const hs_observer *ob, int side, uint32_t seq);

/* side's ISS is iss (hs knows its own ISN before its SYN is seen, or when a script
 * sends something else first): relative numbers count from it. */
void hs_observer_iss(hs_observer *ob, int side, uint32_t iss);

/* The segment event of seg sent by side from (A -> B is HS_DIR_OUT): type, dir, seg,
 * numbers relative to each side's ISS, both sides' states; with o (what
 * hs_observer_segment made of seg; NULL when it was not given one) also its window
 * shift and note. The caller sets the time and anything else (ip, note_text...). */
void hs_observer_event(const hs_observer *ob, const hs_segment *seg, int from, const hs_obs_out *o, hs_event *ev);

#endif
