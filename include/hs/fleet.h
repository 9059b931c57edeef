/* Many handshakes to one peer (hs connect --count N): a second state machine beside
 * the TCB, sans-I/O like it. A fleet owns a pool of hs_tcb (only the in-flight
 * window: a TCB is ~70 KB), hands out source ports, starts SYNs on a schedule, routes
 * each captured segment to its TCB by port, carries out --close, probes every
 * SYN,ACK for a SYN cookie, and keeps the figures of the run.
 *
 * The driver feeds it time (monotonic ns), captured segments and ICMP errors, and
 * after every call takes out what to send (hs_fleet_next_tx), the connections that
 * finished (hs_fleet_next_record) and when to call again (hs_fleet_deadline). The
 * fleet never touches the network, a clock or the terminal, and allocates only in
 * hs_fleet_init.
 *
 * The SYN-cookie probe (Linux, tcp_syncookies=1, listen backlog full; checked on
 * 6.18): once a SYN,ACK arrives, a second SYN on the same 4-tuple with SEG.SEQ =
 * ISS + 2^31 and the same options leaves before the TCB's ACK. A listener that
 * answered with a cookie kept no state: the probe draws a new cookie SYN,ACK whose
 * SEG.SEQ is the first one's + 2^31 (the cookie adds our sequence number; same
 * minute, same MSS index), acking ISS + 2^31 + 1. A listener that keeps a request
 * socket finds the probe outside its window and answers with a bare ACK (SEG.SEQ =
 * IRS + 1, SEG.ACK = ISS + 1; tcp_check_req), or not at all: not a cookie. The
 * probe's answer never reaches the TCB. */
#ifndef HS_FLEET_H
#define HS_FLEET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hs/tcb.h"

/* What happens once a connection is synchronized (--close). */
enum hs_fleet_close {
	HS_FLEET_RST = 0,  /* abort with RST at once (the default) */
	HS_FLEET_FIN,      /* orderly close; the TCB's TIME-WAIT holds the port */
	HS_FLEET_NONE,     /* never answer the SYN,ACK: a half-open connection at the peer */
	HS_FLEET_KEEP,     /* leave it ESTABLISHED: the record carries the TCB's snapshot for
	                    * the driver to save (the TCB is fed nothing more) */
};

/* How one connection ended (hs_fleet_outcome_name: the JSON word). */
enum hs_fleet_outcome {
	HS_FO_ESTABLISHED = 0, /* the goal of rst/fin: synchronized (and closed as asked) */
	HS_FO_SYNACK,      /* the goal of --close none: the peer answered SYN,ACK */
	HS_FO_REFUSED,     /* RST to our SYN */
	HS_FO_RESET,       /* RST after the handshake (during --close fin) */
	HS_FO_TIMEOUT,     /* retransmissions ran out */
	HS_FO_UNREACHABLE, /* an ICMP error */
	HS_FO_INTERRUPTED, /* hs_fleet_stop came first */
	HS_FO_COUNT
};
const char *hs_fleet_outcome_name(enum hs_fleet_outcome o);

enum hs_fleet_cookie { HS_COOKIE_UNKNOWN = 0, HS_COOKIE_NO, HS_COOKIE_YES };
/* "unknown", "no", "yes" */
const char *hs_fleet_cookie_name(enum hs_fleet_cookie c);

typedef struct hs_fleet_config {
	hs_tcb_config tcb;      /* template: local address, remote, options, window, RTO,
	                         * retries, TIME-WAIT; iss, ts_clock and local.port are
	                         * set per connection */
	uint32_t count;         /* connections to make (1..) */
	uint64_t interval_ns;   /* between SYNs (1e9 / --rate); 0: as fast as the pool allows */
	uint16_t port_lo, port_hi; /* source ports, inclusive */
	const uint8_t *port_skip; /* NULL, or a 65536-bit map (8192 bytes) of ports never to
	                         * use (local sockets hold them); the fleet keeps the pointer */
	unsigned window;        /* at most this many connections in flight (default 256) */
	unsigned burst;         /* at most this many new SYNs per hs_fleet_step (default 32):
	                         * on a veth every SYN's answer lands in the capture
	                         * inside our sendto(), so the driver must read between bursts */
	enum hs_fleet_close close;
	bool cookie_probe;      /* send the probe (else every cookie is "unknown") */
	uint64_t probe_wait_min_ns; /* how long the probe's answer is waited for: 8 times the
	                         * connection's RTT, at least this (default 20 ms), */
	uint64_t probe_wait_max_ns; /* at most this (default 1 s) */
	uint64_t seed;          /* ISNs and TS clocks come from a generator seeded here */
} hs_fleet_config;

/* One finished connection. */
typedef struct hs_fleet_record {
	uint32_t index;         /* 0-based, in the order SYNs were started */
	uint16_t sport;
	enum hs_fleet_outcome outcome;
	uint64_t t_ns;          /* monotonic, when it finished */
	bool has_rtt;
	uint64_t rtt_ns;        /* our first SYN -> the SYN,ACK (capture times when known) */
	enum hs_fleet_cookie cookie;
	uint16_t cookie_mss;    /* a cookie: the MSS it encodes (Linux's table: the largest
	                         * entry <= our SYN's MSS); 0 otherwise */
	bool cookie_opts;       /* a cookie: wscale and SACK survive (Linux keeps them in
	                         * the timestamp, so only when the SYN,ACK carries one) */
	/* What the SYN,ACK carried (has_synack) */
	bool has_synack;
	unsigned synack_opts;   /* HS_HAS_* bits */
	uint16_t mss;
	uint8_t wscale;
	uint8_t icmp_type, icmp_code; /* HS_FO_UNREACHABLE */
	int syns;               /* SYNs sent for it (1 + retransmissions), probe excluded */
	bool kept;              /* HS_FLEET_KEEP, established: snap and rcv_wnd hold the TCB */
	hs_tcb_snapshot snap;   /* as it was once our ACK left */
	uint32_t rcv_wnd;
} hs_fleet_record;

/* The figures of the run. */
typedef struct hs_fleet_stats {
	uint32_t started;       /* connections whose SYN left */
	uint32_t finished;
	uint32_t syns_sent;     /* SYN segments, retransmissions included, probes not */
	uint32_t probes_sent;
	uint32_t synacks;       /* connections answered with a SYN,ACK */
	uint32_t outcome[HS_FO_COUNT];
	uint32_t cookie[3];     /* connections by enum hs_fleet_cookie (of those with a SYN,ACK) */
	uint32_t cookie_synacks; /* every cookie SYN,ACK seen, probe answers included (what
	                         * nstat's TcpExtSyncookiesSent counts) */
	uint32_t stray;         /* segments for no connection in flight (late answers) */
	uint32_t nrtt;          /* RTT samples */
} hs_fleet_stats;

/* A segment to send: from src to dst (src.port is the connection's). */
typedef struct hs_fleet_tx {
	hs_endpoint src, dst;
	hs_tx tx;
	bool probe;             /* the cookie probe */
} hs_fleet_tx;

struct hs_fleet_slot;

typedef struct hs_fleet {
	hs_fleet_config cfg;
	struct hs_fleet_slot *slot; /* cfg.window of them */
	int32_t *port_slot;     /* 65536: the slot using a port, or -1 */
	uint8_t *port_used;     /* 65536: --close none: ports used once already */
	uint32_t next_index;    /* connections started */
	uint32_t port_cursor;   /* next port to try, as an offset into the range */
	uint64_t t_start;       /* the schedule's origin: the first hs_fleet_step */
	bool stopped;
	uint64_t rng;
	hs_fleet_tx *txq;       /* what to send, in order */
	size_t ntx, txhead, txcap;
	hs_fleet_record *recq;  /* finished connections */
	size_t nrec, rechead, reccap;
	uint32_t *rtt_us;       /* cfg.count samples */
	hs_fleet_stats st;
} hs_fleet;

/* Fill defaults: window 256, burst 32, rst, probe on, probe wait 20 ms .. 1 s, ports
 * 32768-60999, count 1. */
void hs_fleet_config_default(hs_fleet_config *cfg);
/* How many connections the port range can carry with --close none (each port once):
 * the ports of [lo, hi] not in skip. */
uint32_t hs_fleet_ports_free(const hs_fleet_config *cfg);
/* Allocate the pool. Returns 0, or -1 with err (out of memory; --close none with more
 * connections than free ports; an empty range). */
int hs_fleet_init(hs_fleet *f, const hs_fleet_config *cfg, char *err, size_t errlen);
void hs_fleet_free(hs_fleet *f);

/* Timers (retransmissions, TIME-WAIT, the probe's wait) that are due, then the SYNs
 * the schedule and the pool allow. */
void hs_fleet_step(hs_fleet *f, uint64_t now);
/* A captured TCP segment (either direction: ours are used for the SYN's capture
 * time), ts its capture time. */
void hs_fleet_input(hs_fleet *f, const hs_segment *seg, uint64_t ts, uint64_t now);
/* A captured ICMP error. */
void hs_fleet_icmp(hs_fleet *f, const hs_icmp_error *icmp, uint64_t now);
/* Stop (a signal): no new SYN; connections in flight end as INTERRUPTED, the
 * synchronized ones aborted with RST (not with --close none: half-open is its point). */
void hs_fleet_stop(hs_fleet *f, uint64_t now);

/* The next segment to send (false: none). Take them all after every call. */
bool hs_fleet_next_tx(hs_fleet *f, hs_fleet_tx *out);
/* The next finished connection (false: none). */
bool hs_fleet_next_record(hs_fleet *f, hs_fleet_record *out);
/* When hs_fleet_step must be called next (monotonic ns), or 0 when nothing waits on
 * time. */
uint64_t hs_fleet_deadline(const hs_fleet *f);
/* Every connection finished (or stopped and none in flight). */
bool hs_fleet_done(const hs_fleet *f);
/* Connections in flight now. */
unsigned hs_fleet_in_flight(const hs_fleet *f);

/* RTT percentile p (0..100, nearest rank) of the samples so far, in µs (0: none).
 * Sorts the samples in place (call at the end). */
uint32_t hs_fleet_rtt_percentile(hs_fleet *f, unsigned p);
/* Nearest-rank percentile of n sorted values (0 for n = 0). Pure. */
uint32_t hs_percentile_sorted(const uint32_t *v, size_t n, unsigned p);
/* The MSS a Linux SYN cookie encodes for a SYN that offered mss: the largest entry of
 * msstab (IPv4: 536 1300 1440 1460; IPv6: 1220 1440 8940) not above it, else the
 * smallest. Pure. */
uint16_t hs_cookie_mss(uint16_t mss, bool ipv6);

#endif
