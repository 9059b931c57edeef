/* What every connection-driving command shares once a session is open: the data
 * phase, the --close modes, keeping a connection, and turning how the loop ended
 * into the contract's outcome and exit status. */
#ifndef HS_CMD_DRIVE_H
#define HS_CMD_DRIVE_H
#include "cli.h"
#include "hs/session.h"
#include "hs/store.h"

struct drive {
	struct cli *c;
	hs_session s;
	hs_output out;
	hs_tcb_config cfg;
	char state_dir[256];
	char ifname[32];
	uint64_t t0;
	int kept_id;                 /* resumed kept connection: removed from the store when done */
	bool resumed;                /* hs fin/rst on a kept connection (kept_id names it) */
	uint32_t kept_snd_nxt;       /* its SND.NXT when resumed: more means we sent a FIN or data */
	bool keep_privs;             /* more sessions follow (hs send --count): keep CAP_NET_RAW */
	const char *not_found_hint;  /* appended when the kept connection is not found */
	int sends_done;              /* --send data already handed to the TCB (a Fast Open
	                              * SYN's): drive_established sends the rest */
	bool md5_crafted_only;       /* hs send: --md5-key signs only the crafted segment; the
	                              * session signs with the kept connection's key */
	hs_md5_key kept_md5;         /* resumed: the key the record holds (saved back unchanged:
	                              * --md5-key is for one command) */
	bool no_catch_up;            /* drive_resume stops before its probe: the caller checks
	                              * what it can first, then calls drive_catch_up */
};

/* TCB configuration from the command line (ISN and TS clock random unless given). */
void drive_config(struct drive *d, const hs_endpoint *local, const hs_endpoint *remote);
/* Dies (usage) when --flow-label or --hop-limit is given for an IPv4 connection. */
void drive_check_ip(const struct cli *c, int family);
/* --md5-key: the signature takes 20 of TCP's 40 option bytes on every segment; the
 * SYN's (or SYN,ACK's) options must leave room for it. Dies (usage) when not, before
 * anything is sent. */
void drive_check_md5_room(struct drive *d);
/* Open the session; dies with the contract's exit status on failure. */
void drive_open(struct drive *d, const hs_session_params *p);
/* How long to wait for something only the peer can start (its FIN, a SYN): as long
 * as our retransmissions would take: timeout * (2^(retries+1) - 1). */
uint64_t drive_patience(const struct cli *c);
/* ESTABLISHED: send the --send data, then carry out --close. Returns the exit status. */
int drive_established(struct drive *d);
/* hs fin/rst end before a FIN or RST was sent: the kept connection (its record
 * updated, its guard) stays kept. Returns code. */
int drive_keep_resumed(struct drive *d, const char *outcome, int code, const char *why);
/* A resumed kept connection goes on: save its record (updated from the TCB) under
 * its id, which is written to id. Returns 0, or -1 with err (the old record stays);
 * either way it is no longer removed when the run finishes. */
int drive_save_kept(struct drive *d, char *id, size_t idlen, char *err, size_t errlen);
/* The loop ended without reaching its goal: report and return the exit status. */
int drive_failed(struct drive *d, enum hs_run r, const char *waiting_for);
/* --close keep: create the store and check that a record can be saved there, before
 * anything is sent (dies when not). */
void drive_prepare_keep(struct drive *d);
/* Resolve host into remote->addr and find the local address (and d->ifname) the
 * routing table sends from (-i respected); dies with the contract's exit status. */
void drive_route(struct drive *d, const char *host, hs_endpoint *remote, hs_endpoint *local);
/* Pick or check the source port (dies when it is taken). */
uint16_t drive_source_port(struct drive *d, const hs_addr *src);

/* hs fin / hs rst on a kept connection: load the one the command line names (the
 * most recent without an argument), check that its guard is still there, open a
 * session on it, resume its TCB, then probe the peer and take in what it sent while
 * no hs ran (asking for a retransmission with duplicate ACKs). Dies on error;
 * returns HS_RUN_GOAL when in sync with the peer. */
enum hs_run drive_resume(struct drive *d, hs_conn_record *rec);
/* The probe that starts a resumed connection: the peer shows where it is, and what it
 * sent while no hs ran is asked for again (see drive_resume). */
enum hs_run drive_catch_up(struct drive *d);
/* Goal for hs_session_run: the peer sent a segment since `before` (s->inputs). */
struct drive_answer {
	const hs_session *s;
	unsigned before;
};
bool drive_answered(const hs_tcb *t, void *arg);
/* Keepalive probes (--retries, backoff from --timeout) until the peer answers.
 * HS_RUN_GOAL when it did (its answer went to the TCB, or was only shown once the
 * TCB has ended and s->observe is set). */
enum hs_run drive_probe(struct drive *d);
/* The TCB state a kept record holds (TSval advanced by the time since saving). */
void drive_snapshot_from_record(const hs_conn_record *rec, hs_tcb_snapshot *snap);
/* Emit the result (conn: the kept id, or NULL), close the session (keeping the guard
 * only for a kept connection) and return code. */
int drive_finish(struct drive *d, const char *outcome, int code, const char *conn, const char *msg);
/* Carry out --close (keep/fin/wait/rst) on an established connection. */
int drive_close(struct drive *d, enum close_mode mode);

#endif
