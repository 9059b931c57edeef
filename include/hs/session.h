/* A session joins the pieces around one hs_tcb: the capture that feeds it, the
 * sender that carries out what it asks, the RST guard, and the output that shows
 * every step. The subcommands are thin drivers that open a session, tell the TCB
 * what to do (connect, listen, send, close, abort) and run the loop until a goal.
 *
 * The hot path is hs_session_apply(): the TCB's segments leave first, and only then
 * is anything turned into output events. */
#ifndef HS_SESSION_H
#define HS_SESSION_H
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include "hs/capture.h"
#include "hs/guard.h"
#include "hs/md5sig.h"
#include "hs/notation.h"
#include "hs/output.h"
#include "hs/sender.h"
#include "hs/tcb.h"

/* Exit statuses of the contract (INTERFACE.md). */
enum hs_exit {
	HS_EXIT_OK = 0,
	HS_EXIT_PEER = 1,
	HS_EXIT_USAGE = 2,
	HS_EXIT_TIMEOUT = 3,
	HS_EXIT_ENV = 4,
};

typedef struct hs_session_params {
	hs_endpoint local, remote;  /* remote port 0: listen, any peer */
	const char *capture_iface;  /* NULL: "any" */
	const char *pcap_out;       /* -w FILE, or NULL */
	bool guard;                 /* install the RST guard */
	bool listen;                /* guard the listening port instead of a 4-tuple */
	bool step;                  /* --step: wait for Enter before each segment sent */
	hs_md5_key md5;             /* --md5-key: sign what we send, check what comes (len 0: none) */
} hs_session_params;

/* One of our segments, sent, whose line waits for the capture's copy of it (the time
 * it really left, and its place among the peer's segments). */
#define HS_SESSION_HELD 16
typedef struct hs_held {
	hs_event ev;                /* the segment event; ev.seg points at seg */
	hs_segment seg;
	hs_change change[HS_TCB_MAXCHANGE]; /* shown after it: those it caused */
	int nchange;
	hs_change before[HS_TCB_MAXCHANGE]; /* shown before it: the call that made it */
	int nbefore;
	uint64_t sent_ns;           /* monotonic, when sendto() returned */
	uint8_t *ip;                /* -w FILE.pcapng: the datagram as encoded for sending */
	size_t ip_len;              /* (malloc'd; the captured copy is shown instead when it comes) */
} hs_held;

typedef struct hs_session {
	hs_output *out;
	uint64_t t0;                /* monotonic start of the command */
	uint64_t wall_t0;           /* CLOCK_REALTIME at t0 (HS_EV_OPEN: pcapng timestamps) */
	bool opened;                /* HS_EV_OPEN was emitted (once the peer is known) */
	const uint8_t *cur_ip;      /* the captured datagram being taken in (take()), */
	size_t cur_caplen, cur_len; /* for the events that show it; NULL outside take() */
	hs_capture *cap;
	hs_sender *snd;
	hs_guard guard;
	hs_tcb tcb;
	bool step;
	bool dumping;               /* -w FILE is open */
	const char *pcap_out;       /* and its name */
	int family;                 /* of the sender: AF_INET or AF_INET6 */
	bool sent_rst;              /* we sent an RST */
	uint32_t rst_seq[8];        /* the sequence numbers of the RSTs we sent (a ring): */
	unsigned nrst;              /* an RST on the wire with another one is not ours */
	int kernel_rsts;            /* RSTs the local kernel sent for this 4-tuple */
	unsigned inputs;            /* segments from the peer fed to the TCB */
	uint8_t last_in_flags;      /* flags of the peer's latest segment */
	bool observe;               /* after the end: show the peer's segments, feed nothing */
	uint32_t peer_next;         /* highest sequence number the peer has used, + 1 */
	hs_icmp_error last_icmp;    /* the last ICMP error about this connection */
	bool have_icmp;
	const volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM handlers */
	hs_held held[HS_SESSION_HELD];     /* oldest first */
	int nheld;
	int pend_release;           /* held[0..pend_release-1] have their captured copies, */
	uint64_t pend_t;            /* the last at this time: shown before the next event
	                             * (so a reply queued behind the copy is answered first) */
	uint64_t last_t_ns;         /* the latest time shown: output never goes back */
	struct {                    /* our latest segments seen leaving: a ring, so that a */
		uint32_t seq, ack, len; /* network copy of one is shown as such */
		uint8_t flags;
		uint64_t at;
	} left[8];
	unsigned nleft;
	unsigned sent;              /* segments sent so far */
	uint64_t last_sent_ns;      /* monotonic, when the last one left (busy poll: next_packet) */
	int depth;                  /* --step: inputs taken in during a pause, nested */
	bool confirmed;             /* --step: the user already said yes to what the next
	                             * call sends (hs_session_before_call) */
	bool ack_waiting;           /* --step: the held segment carries an ACK, refreshed
	                             * before it leaves: bare ACKs made meanwhile are not sent */
	char err[256];              /* last error */
	hs_md5_key md5;             /* TCP-MD5 key (len 0: none) */

	/* hs send: the peer's first answer after hs_session_watch() */
	bool watching, answered;
	bool answer_icmp;           /* it was an ICMP error (last_icmp) */
	hs_segment answer;          /* else this segment (payload not kept: len only) */
	bool craft_no_rtx;          /* crafted segments are never retransmitted (hs send) */

	/* --step answers */
	bool quit;                  /* q at a prompt, or a bad edit from a pipe: end the run */
	int quit_code;              /* HS_EXIT_USAGE for a bad edit (err says why), else 0 */
	int pending;                /* the answer at hs_session_before_call's prompt, for the
	                             * call's first segment: 0 send, 1 skip, 2 edit */
	hs_seg_spec pending_spec;   /* the edit */
	hs_tcb *pre_call;           /* with an edit: the TCB before the call (malloc'd), to undo
	                             * a call whose segment the edit replaced */

	const char *reaction;       /* for the result line (hs send), or NULL */
	const char *reactions;
} hs_session;

/* How long hs_session_run() reads without sleeping after each segment it sent
 * (busy poll), in ns: the peer's answer within it is taken without a wake-up. */
#define HS_SESSION_SPIN_NS (1000ull * 1000ull)

/* Why hs_session_run() returned. */
enum hs_run {
	HS_RUN_GOAL = 0,     /* the goal predicate became true */
	HS_RUN_ENDED,        /* the TCB reached a result (tcb.result) */
	HS_RUN_IDLE,         /* nothing happened before the idle deadline */
	HS_RUN_SIGNAL,       /* interrupted by a signal */
	HS_RUN_ERROR,        /* capture or send failed (s->err) */
	HS_RUN_WRITE,        /* our lines (stdout) or the -w file could not be written (s->err) */
	HS_RUN_QUIT,         /* --step: q at a prompt (or a bad edit from a pipe: quit_code) */
};

/* Open capture (filter set before any send), sender and guard. Returns an exit
 * status: HS_EXIT_OK, or HS_EXIT_ENV with s->err set. */
int hs_session_open(hs_session *s, const hs_session_params *p, hs_output *out,
                    const volatile sig_atomic_t *stop, uint64_t t0);
/* Remove the guard (unless keep_guard), close everything. Idempotent. */
void hs_session_close(hs_session *s, bool keep_guard);

/* Send what the TCB asked for (telling it each segment left: hs_tcb_sent), then emit
 * events for in (may be NULL; in_ts its capture time), the segments sent and the state
 * changes. Our segments' lines wait for the capture's copy of them, so that they carry
 * the time they left and come in wire order among the peer's (at most a few ms; see
 * hs_session_drain). With --step, the cause is shown first, then the prompt; what
 * arrives during the pause is taken in and the held segment brought up to date (or
 * dropped when it has become pointless) before it leaves. Returns 0, or -1 if a send
 * failed (s->err). */
int hs_session_apply(hs_session *s, hs_tcb_out *o, const hs_segment *in, uint64_t in_ts);

/* Before any decision (sending on a user's behalf, keeping, reporting): take in every
 * segment the capture already holds, wait briefly (a few ms) for the capture's copies
 * of our own segments, and show everything in time order. Returns HS_RUN_GOAL, or
 * HS_RUN_ENDED when what arrived ended the connection, HS_RUN_SIGNAL when a stop
 * signal came meanwhile, HS_RUN_WRITE when output failed, or HS_RUN_ERROR. */
enum hs_run hs_session_drain(hs_session *s);

/* Before a call that changes our state and sends (hs_tcb_send, _close, _abort):
 * hs_session_drain(); with --step, then the prompt "press Enter to send WHAT", and
 * what arrived meanwhile taken in, so that the call acts on it (a FIN that came
 * while we waited makes our close a passive one). The segments of the call that
 * follows are not prompted for again. Returns as hs_session_drain. */
enum hs_run hs_session_before_call(hs_session *s, const char *what);

typedef bool (*hs_goal_fn)(const hs_tcb *t, void *arg);

/* Feed captured segments, ICMP and timer expiries to the TCB until goal(t, arg)
 * holds, the TCB ends, a signal arrives, a write fails (HS_RUN_WRITE: a closed or
 * full stdout, a full disk under -w), or idle_deadline (monotonic; 0 = none)
 * passes with no TCB timer running. */
enum hs_run hs_session_run(hs_session *s, hs_goal_fn goal, void *arg, uint64_t idle_deadline);

/* A write error so far (s->err says which file and why), or false. */
bool hs_session_write_failed(hs_session *s);

/* --step: "-- press Enter to send WHAT --" on stderr, then wait for a line. */
void hs_step_pause(const char *what);

/* A segment the user shaped (hs_craft_build) goes out as the TCB's own would: with
 * --step, prompted for (and editable) first; then hs_tcb_sent_crafted() (no
 * retransmission when s->craft_no_rtx), held for its captured copy, shown. Returns 0,
 * or -1 if the send failed (s->err). */
int hs_session_send_crafted(hs_session *s, const hs_tx *tx);
/* Sign what is sent from now on with key (len 0: nothing), and check what comes with
 * it: hs send signs its crafted segment with --md5-key and the rest with the kept
 * connection's key. */
void hs_session_set_md5(hs_session *s, const hs_md5_key *key);

/* From now on, remember the peer's first segment (or an ICMP error about us):
 * s->answered, s->answer / s->answer_icmp. */
void hs_session_watch(hs_session *s);

/* Emit helpers (they fill an hs_event and call hs_output_emit). */
void hs_session_info(hs_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hs_session_result(hs_session *s, const char *outcome, int exit_code, const char *conn_id,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
