/* The TCP control block: a sans-I/O state machine.
 *
 * It never touches the network, a clock or the terminal. The driver feeds it decoded
 * segments, ICMP errors, timer expiries and user requests (open, send, close, abort)
 * together with the current monotonic time; each call fills an hs_tcb_out saying what
 * to send (already encoded header fields and option bytes, ready for the wire) and
 * what happened (state changes of both sides, delivered data, a final result).
 *
 * No call allocates or formats text: on the hot path the driver sends out->tx[] first
 * and only then turns the rest of out into output events.
 */
#ifndef HS_TCB_H
#define HS_TCB_H
#include <stdbool.h>
#include <stdint.h>
#include "hs/addr.h"
#include "hs/opts.h"
#include "hs/segment.h"
#include "hs/state.h"

#define HS_TCB_MAXTX 4
#define HS_TCB_MAXCHANGE 12
#define HS_TCB_RECENT 8     /* peer segments remembered to tell network copies */
#define HS_TCB_OOO_BYTES 65536 /* out-of-order data held beyond RCV.NXT (a power of 2) */
#define HS_TCB_OOO_RANGES 8    /* separate pieces of it */
#define HS_TCB_DUPTHRESH 3     /* RFC 5681 3.2: duplicate ACKs that start a fast retransmit */
#define HS_TCB_MAXCHUNKS 64

/* Why a segment is shown the way it is (hs_note_name gives the JSON/human word). */
enum hs_note {
	HS_NOTE_NONE = 0,
	HS_NOTE_RETRANSMISSION, /* we resend something (out), or the peer did (in) */
	HS_NOTE_DUPLICATE,      /* in: a network copy of a segment already taken (same TSval, or
	                         * same IPv4 ID without timestamps): it changes nothing */
	HS_NOTE_OUT_OF_WINDOW,  /* in-segment outside RCV.WND: answered with an ACK */
	HS_NOTE_OUT_OF_ORDER,   /* data beyond RCV.NXT: not delivered, ACK RCV.NXT */
	HS_NOTE_PARTIAL,        /* data partly seen before: only the new part delivered */
	HS_NOTE_CHALLENGE_ACK,  /* out: RFC 5961 challenge ACK; in: the peer's */
	HS_NOTE_DUP_ACK,        /* in: an ACK that acknowledges nothing new */
	HS_NOTE_UNACCEPTABLE,   /* in: ignored (bad ACK, RST out of window, ...) */
	HS_NOTE_KEEPALIVE,
	HS_NOTE_WINDOW_UPDATE,
	HS_NOTE_ZERO_WINDOW,
	HS_NOTE_ZERO_WINDOW_PROBE, /* out: one byte into the peer's zero window */
	HS_NOTE_KEEPALIVE_ACK,  /* the answer to a keepalive (ours to the peer's, or its to ours) */
	HS_NOTE_WINDOW_FULL,    /* out: data up to the right edge of the peer's window */
	HS_NOTE_CHALLENGE_THROTTLED, /* in: would draw a challenge ACK, but the limit of
	                         * cfg.challenge_acks_per_sec is reached (RFC 5961 7) */
	HS_NOTE_SYN_DATA,       /* in: a SYN's payload (TCP Fast Open without a cookie we
	                         * know): only the SYN is acknowledged, the data not taken */
	HS_NOTE_PMTU,           /* out: resent smaller after an ICMP "fragmentation needed" /
	                         * "packet too big" (RFC 1191, RFC 8201) */
	HS_NOTE_COUNT
};
const char *hs_note_name(enum hs_note n); /* "" for NONE, else "retransmission", ... */

/* Final outcomes (hs_result_name gives the JSON word). */
enum hs_result {
	HS_RES_NONE = 0,      /* still going */
	HS_RES_CLOSED,        /* orderly close finished (TIME-WAIT done, or LAST-ACK acked) */
	HS_RES_REFUSED,       /* RST in SYN-SENT: connection refused */
	HS_RES_RESET,         /* RST from the peer in a synchronized state */
	HS_RES_ABORTED,       /* we sent RST (hs_tcb_abort) */
	HS_RES_TIMEOUT,       /* retransmissions exhausted */
	HS_RES_UNREACHABLE,   /* ICMP error for this connection */
	HS_RES_COUNT
};
const char *hs_result_name(enum hs_result r); /* "closed", "refused", ... */

/* What a crafted segment changes below TCP, and its checksum. All zero: what a stack
 * sends (TTL / hop limit 64, TOS 0, IPv4 ID from the sender's counter, DF set, a
 * correct checksum). */
typedef struct hs_ip_fields {
	bool set_ttl, set_tos, set_ip_id, set_df, set_flow;
	uint8_t ttl;            /* IPv4 TTL, IPv6 hop limit */
	uint32_t flow;          /* IPv6 flow label (20 bits, RFC 8200 6; set_flow); ignored for IPv4 */
	uint8_t tos;            /* IPv4 TOS, IPv6 traffic class */
	uint16_t ip_id;         /* IPv4 Identification (host order); ignored for IPv6 */
	bool df;                /* IPv4 Don't Fragment (set_df); ignored for IPv6 */
	bool bad_csum;          /* the TCP checksum is wrong on purpose (the right one, + 1) */
} hs_ip_fields;

/* One segment to send. The addresses are the TCB's local -> remote. */
typedef struct hs_tx {
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win;           /* header value (already scaled down) */
	uint8_t opt_len;        /* multiple of 4 */
	uint8_t opts[HS_OPT_MAXLEN];
	const uint8_t *data;    /* caller-owned bytes given to hs_tcb_send() */
	uint32_t len;
	enum hs_note note;
	bool reply_rst;         /* an RST for a segment of no connection here (RFC 9293
	                         * 3.10.7): says nothing about the peer's state */
	bool has_ts;            /* the options carry our TSval: */
	uint32_t tsval;         /* this one (what the peer's TSecr will echo) */
	uint16_t urp;           /* urgent pointer (0 unless crafted) */
	hs_ip_fields ip;        /* IP-level fields and checksum faults (hs send, --step edits) */
	bool crafted;           /* built or edited by the user, not by the TCB */
} hs_tx;

/* Sequence numbers [left, right). */
typedef struct hs_seq_range {
	uint32_t left, right;
} hs_seq_range;

/* A change of this side's or the peer's (inferred) state. */
typedef struct hs_change {
	bool peer;              /* false: this side; true: the peer's inferred state */
	hs_state from, to;
	const char *why;        /* static: "SYN sent", "SYN,ACK received", "2MSL", ... */
	int8_t cause;           /* 0: the input (segment, timer, user call); k > 0: caused by
	                         * out->tx[k-1] (e.g. the peer's state once our ACK arrives) */
	bool assumed;           /* peer: inferred from a segment we sent, whose arrival nothing
	                         * has shown yet (an ACK is never acknowledged) */
	bool correction;        /* peer: not a move but a correction: `from` was assumed, and
	                         * its own segment shows it is still in `to` (our ACK was lost) */
} hs_change;

typedef struct hs_tcb_out {
	hs_tx tx[HS_TCB_MAXTX];
	int ntx;
	hs_change change[HS_TCB_MAXCHANGE];
	int nchange;
	enum hs_note in_note;       /* how the input segment was classified */
	const uint8_t *data;        /* in-order payload delivered by this input (into the segment) */
	uint32_t data_len;
	uint32_t data_seq;          /* sequence number of data[0] */
	uint32_t acked;             /* bytes of our data (plus SYN/FIN) newly acknowledged */
	uint32_t reasm_len;         /* bytes of held out-of-order data this input made in-order
	                             * (delivered after data; they were shown when they came) */
	bool peer_fin;              /* this input carried the peer's FIN, now accepted */
	const char *tfo;            /* RFC 7413, what this input did with the data of a Fast
	                             * Open SYN: "data-acked" (the SYN,ACK acknowledges it, or
	                             * we took it), "syn-only" (only the SYN: it goes again
	                             * after the handshake / the client resends it); NULL */
	enum hs_result result;      /* set once, when the connection ends */
} hs_tcb_out;

typedef struct hs_tcb_config {
	hs_endpoint local, remote;
	uint32_t iss;
	uint16_t window;            /* receive window we advertise (before scaling) */
	hs_opt_spec syn_opts;       /* options for our SYN / SYN,ACK (listen: echoes what the peer offered, limited to these) */
	uint32_t ts_clock;          /* our TSval base; TSval = ts_clock + ms since open */
	int max_retries;            /* retransmissions before HS_RES_TIMEOUT */
	uint64_t rto_ns;            /* initial retransmission timeout; doubles each time */
	uint64_t time_wait_ns;      /* TIME-WAIT duration (2MSL) */
	unsigned challenge_acks_per_sec; /* RFC 5961 7: at most this many challenge ACKs a
	                             * second (0: no limit); default 10 */
	/* RFC 7413 TCP Fast Open. Active open: syn_data (caller-owned, kept by pointer) is
	 * queued at ISS + 1 and its first HS_TFO_SYN_DATA_MAX bytes go in the SYN (the
	 * SYN's options should carry a cookie: that is the caller's choice). */
	const uint8_t *syn_data;
	uint32_t syn_data_len;
	/* Passive open: a nonzero tfo_cookie_len answers a cookie request (or a wrong
	 * cookie) with this cookie in the SYN,ACK, and takes the data of a SYN that
	 * carries exactly this cookie. */
	uint8_t tfo_cookie_len;
	uint8_t tfo_cookie[16];
	hs_ip_fields ip;        /* put on every segment the TCB emits (--ttl, --hop-limit, --flow-label) */
	uint8_t md5_space;          /* option bytes a TCP-MD5 signature adds to every segment
	                             * (20 with a key, else 0): taken from the payload per segment */
} hs_tcb_config;

/* Data that goes in a Fast Open SYN: RFC 9293 3.7.1's default MSS (what a client
 * knows of a server it has no MSS for). The rest follows after the handshake. */
#define HS_TFO_SYN_DATA_MAX 536

typedef struct hs_tcb {
	hs_tcb_config cfg;
	hs_state state, peer_state;

	/* Send sequence space */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd;           /* peer's window, scaled */
	uint32_t snd_wl1, snd_wl2;
	/* Receive sequence space */
	uint32_t irs, rcv_nxt;
	uint32_t rcv_wnd;
	bool irs_known;

	/* Negotiated */
	uint16_t peer_mss;          /* 536 if not offered */
	uint16_t path_mss;          /* 0, or what the path MTU allows (RFC 1191 / 8201): the
	                             * largest payload plus TCP header options' room */
	uint8_t snd_wscale, rcv_wscale; /* shift applied to the peer's / our windows */
	bool ws_ok, sack_ok, ts_ok;
	uint32_t ts_recent;         /* last TSval from the peer, echoed */
	uint64_t t_open_ns;         /* time of open, base of our TSval */

	/* Data we send: the chunks passed to hs_tcb_send(), in order, caller-owned. */
	struct { const uint8_t *p; uint32_t len; uint32_t seq; } chunk[HS_TCB_MAXCHUNKS];
	int nchunk;
	uint32_t snd_end;           /* sequence number after the last queued byte */
	bool cork;                  /* hs_tcb_send() only queues; hs_tcb_close() sends data and
	                             * FIN together (data,FIN in one segment, as stacks do) */
	bool fin_queued;            /* hs_tcb_close() called: FIN follows the data */
	uint32_t fin_seq;           /* valid once the FIN was sent */
	bool fin_sent, fin_acked, peer_fin_seen;
	uint32_t peer_fin_seq;

	/* What the notes are judged by, as Wireshark's TCP analysis judges them */
	uint32_t rcv_high;          /* end of the furthest segment seen from the peer */
	bool peer_wnd_seen;         /* snd_wnd came from a segment this process saw (not resumed) */
	bool tx_seen;               /* we sent a segment: last_tx_* hold its ACK and window */
	bool last_tx_keepalive;     /* ... and it was a keepalive */
	uint32_t last_tx_ack;
	uint16_t last_tx_win;

	/* Timers (monotonic ns; 0 = not running) */
	uint64_t rtx_deadline;
	uint64_t rto_cur;
	int retries;                /* retransmissions done for the oldest unacked segment */
	uint64_t tw_deadline;

	/* How the peer's state is known: from its own segments, or assumed from ours
	 * (until a segment of the peer echoes a TSval >= peer_assumed_tsval, or, without
	 * timestamps, until its next in-sequence segment). */
	bool peer_assumed;
	bool peer_assumed_has_ts;
	uint32_t peer_assumed_tsval;

	/* The peer's latest segments, to tell a network copy from a retransmission (see
	 * seen_before in tcb.c). A ring. */
	struct hs_tcb_seen {
		uint32_t seq, ack, tsval;
		uint16_t win, csum, ip_id;
		uint32_t len;
		uint8_t flags;
		bool has_ts, has_ip_id, used;
		uint64_t at;
		hs_endpoint src;
	} recent[HS_TCB_RECENT];
	unsigned recent_next;

	/* Out-of-order data, held until the hole before it fills (RFC 9293 3.10.7.4 lets a
	 * receiver keep it; a stack does, and SACKs only what it holds): a ring of
	 * HS_TCB_OOO_BYTES indexed by sequence number, and the held ranges [left, right),
	 * sorted from RCV.NXT on. Data beyond RCV.NXT + HS_TCB_OOO_BYTES, or a piece
	 * that needs a range beyond HS_TCB_OOO_RANGES, is not held (the peer resends it). */
	uint8_t ooo_buf[HS_TCB_OOO_BYTES];
	hs_seq_range ooo[HS_TCB_OOO_RANGES];
	int nooo;
	uint32_t ooo_recent;        /* start of the piece held last: its range is SACKed first */
	bool ooo_fin;               /* the peer's FIN came after a hole, at ooo_fin_seq */
	uint32_t ooo_fin_seq;

	uint64_t peer_fin_at;       /* when the peer's FIN (or its last resend) came */

	/* Our sending side: RFC 5681 / 6675 fast retransmit. */
	int dupacks;                /* duplicate ACKs since SND.UNA last moved */
	bool fast_rtx_done;         /* this hole was resent already */
	uint32_t sack_high;         /* highest sequence number the peer has SACKed */

	/* RFC 5961 7: challenge ACKs sent in the second that began at chal_since. */
	uint64_t chal_since;
	unsigned chal_count;

	/* Crafted data (and FIN) sent beyond SND.NXT, which the peer may hold out of
	 * order: once the gap fills, its ACK reaches up to beyond_end, and is taken. */
	bool beyond_sent;
	uint32_t beyond_start;      /* the first such byte */
	uint32_t beyond_end;        /* after the furthest such byte (or FIN) */
	bool beyond_fin;            /* one of them carried our FIN, at beyond_fin_seq */
	uint32_t beyond_fin_seq;
	bool challenge_expected;    /* a crafted segment that draws an RFC 5961 challenge ACK
	                             * left: the peer's next pure ACK is noted as that */
	bool active_open;           /* we sent the first SYN: the peer's open was passive */
	bool probing;               /* hs_tcb_closed: answers to our probes are not "unacceptable" */
	uint32_t probe_reset_seq;   /* the SEG.ACK of the SYN,ACK a probe drew: our RST's SEG.SEQ */
	bool crafted_una;           /* what is unacknowledged was crafted (hs send): never
	                             * retransmitted, forgotten by hs_tcb_forget_unacked */

	uint32_t tfo_syn_len;       /* RFC 7413: our data in our SYN (at ISS + 1) */
	uint8_t tfo_peer_cookie_len; /* active: the cookie the peer's SYN,ACK carried (0: none) */
	uint8_t tfo_peer_cookie[16];
	bool tfo_answer;            /* passive: the peer asked for a cookie (or sent a wrong
	                             * one): our SYN,ACK carries cfg.tfo_cookie */

	enum hs_result result;
	hs_state result_state;      /* the state this side was in when result was reached (the
	                             * wait that ended: SYN-SENT for an unanswered SYN, ...);
	                             * state itself is CLOSED by then */
} hs_tcb;

/* Fill defaults: window 64240, default SYN options, 3 retries, 1 s RTO, 1 s TIME-WAIT. */
void hs_tcb_config_default(hs_tcb_config *cfg);

/* Active open: CLOSED -> SYN-SENT, out gets the SYN. */
void hs_tcb_connect(hs_tcb *t, const hs_tcb_config *cfg, uint64_t now, hs_tcb_out *out);
/* Passive open: CLOSED -> LISTEN (remote may be unset: filled by the first SYN). */
void hs_tcb_listen(hs_tcb *t, const hs_tcb_config *cfg, uint64_t now, hs_tcb_out *out);

/* A segment that the capture filter matched to this connection (either direction is
 * the driver's problem: only pass segments from remote to local). */
void hs_tcb_input(hs_tcb *t, const hs_segment *seg, uint64_t now, hs_tcb_out *out);
/* An ICMP error quoting one of our segments. */
void hs_tcb_icmp(hs_tcb *t, const hs_icmp_error *icmp, uint64_t now, hs_tcb_out *out);
/* Call when now >= hs_tcb_deadline(): retransmits, gives up, or ends TIME-WAIT. */
void hs_tcb_timer(hs_tcb *t, uint64_t now, hs_tcb_out *out);
/* Earliest timer, or 0 if none runs. */
uint64_t hs_tcb_deadline(const hs_tcb *t);

/* Queue data (kept by pointer until acknowledged); sends what the window allows.
 * Returns 0, or -1 if the connection cannot send (state) or the chunk table is full. */
int hs_tcb_send(hs_tcb *t, const uint8_t *data, uint32_t len, uint64_t now, hs_tcb_out *out);
/* Orderly close: ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK; FIN goes after the
 * queued data (in the same segment as the last data when it fits). */
int hs_tcb_close(hs_tcb *t, uint64_t now, hs_tcb_out *out);
/* Abort: send RST (with ACK if ack is true), -> CLOSED, result ABORTED. */
void hs_tcb_abort(hs_tcb *t, bool ack, uint64_t now, hs_tcb_out *out);

/* What a kept connection needs to continue in another process (see hs/store.h). */
typedef struct hs_tcb_snapshot {
	hs_state state, peer_state;
	uint32_t iss, irs, snd_nxt, rcv_nxt;
	uint32_t snd_wnd;
	uint16_t peer_mss;
	uint8_t snd_wscale, rcv_wscale;
	bool ws_ok, sack_ok, ts_ok;
	uint32_t ts_recent;
	uint32_t ts_val;             /* our TSval when resuming (cfg.ts_clock is ignored) */
	bool beyond_sent, beyond_fin; /* crafted data beyond SND.NXT (see hs_tcb.beyond_*) */
	uint32_t beyond_start, beyond_end, beyond_fin_seq;
} hs_tcb_snapshot;

/* Continue a kept, synchronized connection: nothing in flight, no timer running. */
void hs_tcb_resume(hs_tcb *t, const hs_tcb_config *cfg, const hs_tcb_snapshot *snap, uint64_t now);
void hs_tcb_snapshot_take(const hs_tcb *t, uint64_t now, hs_tcb_snapshot *snap);
/* keepalive: an ACK with SEG.SEQ = SND.NXT - 1 and one old byte, which any live peer
 * answers at once with an ACK showing its SND.NXT and RCV.NXT (a peer without the connection: RST).
 * Otherwise a plain ACK of RCV.NXT: three of them are the duplicate ACKs that make
 * the peer retransmit at once. Changes no state. */
void hs_tcb_probe(hs_tcb *t, bool keepalive, uint64_t now, hs_tcb_out *out);

/* Our segment out->tx[k] has left (the driver calls this once sendto() returned, in
 * order): applies what it does to the peer's inferred state (our ACK completing its
 * handshake or acknowledging its FIN, our RST) and appends those changes to out with
 * cause k+1, marked assumed. The TCB builds segments without these effects, so that
 * a driver that holds a segment back (--step) and takes in the peer's segments
 * meanwhile infers nothing from a segment that has not left. */
void hs_tcb_sent(hs_tcb *t, int k, uint64_t now, hs_tcb_out *out);
/* hs_tcb_sent() for every segment of out, in order: the driver sent them all. */
void hs_tcb_sent_all(hs_tcb *t, uint64_t now, hs_tcb_out *out);
/* A segment built earlier and held back (--step): bring its ACK field (RCV.NXT),
 * timestamps (TSval now, TSecr TS.Recent) and window up to date, so that what leaves
 * reflects everything taken in meanwhile. SYN and RST segments keep their numbers. */
void hs_tcb_refresh(const hs_tcb *t, hs_tx *tx, uint64_t now);

/* ---- crafted segments (hs send, --step edits) ---- */

/* A TCB in CLOSED for cfg's 4-tuple, for probes without a connection (hs send HOST
 * PORT): the peer's answers are shown against it, and answered as RFC 9293 3.10.7.1
 * says a CLOSED port answers (an RST for a SYN,ACK). */
void hs_tcb_closed(hs_tcb *t, const hs_tcb_config *cfg, uint64_t now);
/* hs_tcb_closed: the RST that closes the half-open connection a probe's SYN made at
 * the peer (it answered SYN,ACK and our RST was not sent: skipped at --step, or the
 * run ends first). Nothing when the peer is not in SYN-RECEIVED. */
void hs_tcb_probe_reset(hs_tcb *t, uint64_t now, hs_tcb_out *out);
/* The segment the TCB would send now with these flags: SEG.SEQ = SND.NXT (ISS for a
 * SYN), SEG.ACK = RCV.NXT when ACK is set, our window, and the options it would
 * carry (the SYN options for a SYN; TSval now / TSecr TS.Recent and SACK blocks
 * after the handshake). No data. Changes nothing. */
void hs_tcb_template(const hs_tcb *t, uint8_t flags, uint64_t now, hs_tx *tx);
/* The crafted segment out->tx[k] has left (in place of what the TCB built, or on its
 * own). Its effect follows RFC 9293 as if the TCB had sent it: data and/or a FIN at
 * SND.NXT, with nothing else queued, extend the send sequence space (the data is the
 * caller's, kept by pointer; a FIN moves ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT ->
 * LAST-ACK); an exact RST (SEG.SEQ = SND.NXT, or SND.UNA) ends the connection
 * (ABORTED); a SYN, other numbers, or a bad checksum change nothing on this side.
 * retransmit: the timer resends the data/FIN if unacknowledged (a --step edit);
 * otherwise it never does, and hs_tcb_forget_unacked() undoes it (hs send). Then the
 * peer's inferred state as for hs_tcb_sent(). Changes are appended with cause k+1. */
void hs_tcb_sent_crafted(hs_tcb *t, int k, bool retransmit, uint64_t now, hs_tcb_out *out);
/* hs send: crafted data/FIN that the peer has not acknowledged is taken back (SND.NXT
 * = SND.UNA; a FIN not acknowledged returns FIN-WAIT-1 to ESTABLISHED, LAST-ACK to
 * CLOSE-WAIT): the peer did not accept it, so the connection goes on as before.
 * Returns the sequence space taken back (0: nothing). out: the state changes. */
uint32_t hs_tcb_forget_unacked(hs_tcb *t, hs_tcb_out *out);

/* True when all queued data (and a queued FIN) has been acknowledged. */
bool hs_tcb_all_acked(const hs_tcb *t);

/* Relative numbers for display. */
static inline uint32_t hs_tcb_rel_snd(const hs_tcb *t, uint32_t seq) { return seq - t->iss; }
static inline uint32_t hs_tcb_rel_rcv(const hs_tcb *t, uint32_t seq) { return t->irs_known ? seq - t->irs : 0; }

#endif
