/* One event model for every output: drivers describe what happened as hs_event
 * values; hs_output hands each to its view (lines, JSON lines, the ladder) and to
 * its sinks (the pcapng writer), all renderers behind one interface (render.h). */
#ifndef HS_EVENT_H
#define HS_EVENT_H
#include <stdbool.h>
#include <stdint.h>
#include "hs/segment.h"
#include "hs/state.h"
#include "hs/tcb.h"

enum hs_ev_type {
	HS_EV_OPEN,     /* a connection begins: its two endpoints and their names, before
	                 * anything else of it (renderers lay out their columns) */
	HS_EV_SEGMENT,  /* a segment sent or received */
	HS_EV_STATE,    /* a state change (this side or the peer) */
	HS_EV_ICMP,     /* an ICMP error about the connection */
	HS_EV_INFO,     /* a line of commentary ("listening on ...", "kept as 3") */
	HS_EV_CONN,     /* one kept connection (hs ls) */
	HS_EV_END,      /* a connection of -r ends: both sides' final states, its summary */
	HS_EV_RESULT,   /* the last event: outcome and exit status */
};

struct hs_summary;

/* For hs's own connections OUT is us -> peer; for one it observes (live rst/fin, -r)
 * OUT is A -> B (A: the end that sent the first SYN seen, else the first segment). */
enum hs_dir { HS_DIR_OUT = 0, HS_DIR_IN = 1 };

/* A kept connection as hs ls shows it. */
typedef struct hs_conn_view {
	const char *id;
	const hs_endpoint *local, *remote;
	hs_state state, peer_state;
	long age_s;
	const char *guard;          /* nft table, "" if none */
	const char *probe;          /* "alive", "reset", "no-answer", "not-probed", "guard-gone" */
	const char *status;         /* the same for people: "alive, 3 unread bytes", ... */
	bool stale;
	uint32_t unread;            /* bytes the peer sent that no hs process has taken in */
} hs_conn_view;

typedef struct hs_event {
	enum hs_ev_type type;
	uint64_t t_ns;              /* since the command started */

	/* HS_EV_OPEN (also local, remote below) */
	const char *local_name;     /* "us" (hs's own) or "A" (observed) */
	const char *remote_name;    /* "peer" or "B" */
	bool observed;              /* neither end is hs: live rst/fin, -r */
	uint64_t wall_t0_ns;        /* CLOCK_REALTIME (ns since the epoch) at t_ns == 0: the
	                             * pcapng writer's timestamps */
	int conn_index;             /* -r: 1, 2, ... in the order of first packets; 0 otherwise */

	/* HS_EV_SEGMENT */
	enum hs_dir dir;
	const hs_segment *seg;      /* full header, options and payload */
	uint32_t rseq, rack;        /* relative to each side's ISN */
	uint8_t win_shift;          /* window scale that applies to seg->win (0: none) */
	hs_state state, peer_state; /* after this segment */
	bool peer_assumed;          /* peer_state (and, for HS_EV_RESULT, final_peer_state)
	                             * rests on a segment of ours not known to have arrived */
	enum hs_note note;
	const char *note_text;      /* overrides note when set (e.g. "kernel RST") */
	const char *tfo;            /* RFC 7413: what became of a Fast Open SYN's data
	                             * (hs_tcb_out.tfo): "data-acked", "syn-only"; NULL */
	bool spoofed;               /* observed: hs sent it, as the sending end (live probes) */
	const uint8_t *ip;          /* the IP datagram as captured or sent (header first), */
	size_t ip_caplen, ip_len;   /* ip_caplen bytes of its ip_len; NULL/0 when not known
	                             * (HS_EV_ICMP too: the ICMP error's datagram) */
	bool has_t_other;           /* -r with two captures: the other capture point saw it too, */
	uint64_t t_other_ns;        /* at this time (same base as t_ns) */
	bool lost;                  /* -r with two captures: seen where it left, never where
	                             * it was going */
	unsigned script_line;       /* hs script: the file's line that sent or matched it
	                             * (1-based; 0: none). HS_EV_RESULT: the line at fault */

	/* HS_EV_STATE */
	hs_change change;
	bool by_segment;            /* caused by the segment event just before it */
	bool by_call;               /* caused by a call (connect, close, abort...) whose
	                             * segment follows it */

	/* HS_EV_ICMP */
	const hs_icmp_error *icmp;

	/* HS_EV_INFO, HS_EV_RESULT */
	const char *text;

	/* HS_EV_CONN */
	const hs_conn_view *conn;
	bool first;                 /* the first of a listing (human mode: print the header) */

	/* HS_EV_RESULT */
	bool listing;               /* the end of a listing: count instead of states */
	int count;
	const char *outcome;        /* "established", "refused", "timeout", ... */
	int exit_code;
	const hs_endpoint *local, *remote; /* may be NULL */
	const char *conn_id;        /* kept connection name, may be NULL */
	const struct hs_summary *summary; /* HS_EV_END, HS_EV_RESULT: the figures of the
	                             * connection (hs_output fills it in when NULL) */
	const char *reaction;       /* hs send: the peer's reaction ("challenge-ack", ...), or NULL */
	const char *reactions;      /* hs send --count: {"syn-ack":2,"none":1} as JSON, or NULL */
	unsigned long capture_drops; /* frames the capture lost: lines may be missing */
	hs_state final_state, final_peer_state;
} hs_event;

#endif
