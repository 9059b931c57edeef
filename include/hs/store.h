/* The store of kept connections: one small text file per connection in a state
 * directory (default /run/hs/ns-<inode of this network namespace>), so that
 * `hs fin` / `hs rst` can continue what `hs connect --close keep` left. */
#ifndef HS_STORE_H
#define HS_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include "hs/addr.h"
#include "hs/state.h"
#include "hs/guard.h"

typedef struct hs_conn_record {
	int id;                         /* assigned by hs_store_save when 0 */
	hs_endpoint local, remote;
	char iface[32];
	hs_state state, peer_state;
	uint32_t iss, irs, snd_una, snd_nxt, rcv_nxt;
	uint32_t snd_wnd, rcv_wnd;
	uint16_t peer_mss;
	uint8_t snd_wscale, rcv_wscale;
	bool ws_ok, sack_ok, ts_ok;
	uint32_t ts_recent;
	uint32_t ts_clock;              /* our TSval at the time of saving */
	bool beyond;                    /* crafted data sent beyond SND.NXT (hs send) that the */
	uint32_t beyond_start, beyond_end; /* peer may hold: from, up to here, */
	bool beyond_fin;                /* with our FIN at beyond_fin_seq */
	uint32_t beyond_fin_seq;
	char guard[HS_GUARD_NAMELEN];   /* the guard table left in place, "" if none */
	uint8_t md5_key_len;            /* TCP-MD5 key the connection signs with (RFC 2385): */
	uint8_t md5_key[80];            /* stored as hex, in the record's 0600 file only */
	time_t created;
	pid_t pid;
} hs_conn_record;

/* Default directory for this network namespace. Returns 0 or -1. */
int hs_store_default_dir(char *buf, size_t len);
/* Save (create or replace); assigns rec->id if 0. Creates dir as needed.
 * Also fills rec->created and rec->pid when they are 0. */
int hs_store_save(const char *dir, hs_conn_record *rec, char *err, size_t errlen);
/* Before a connection that is to be kept starts: create the store, check that a
 * record can be written there and that an id is free. Returns 0 or -1 with err. */
int hs_store_prepare(const char *dir, char *err, size_t errlen);
/* The id a new record gets given the ids in use (ascending, distinct, positive):
 * max + 1, or the smallest free one when max is INT_MAX; -1 when none is free. */
int hs_store_id_after(const int *ids, int n);
/* Find by name: NULL/"" = most recent, a number = id, or "LOCAL-REMOTE" /
 * "REMOTE" endpoints text. Returns 0, 1 if not found, -1 on error.
 * (Also "LOCAL" or a bare remote address; several matches: the most recent.
 * A corrupted record asked for by id is an error; otherwise it is skipped.) */
int hs_store_find(const char *dir, const char *name, hs_conn_record *rec, char *err, size_t errlen);
/* A record that was not taken: corrupted, or refused (a FIFO, a link, another user's
 * or a writable file, a field hs would not have written, an address this host does
 * not have, a guard table that is not this connection's). */
typedef struct hs_store_problem {
	int id;
	char name[32];                  /* "7.conn" */
	char why[512];                  /* one line, naming the file */
} hs_store_problem;
typedef struct hs_store_listing {
	hs_conn_record *recs;           /* oldest first */
	int n;
	hs_store_problem *bad;
	int nbad;
} hs_store_listing;
/* Every record, with no limit, and every problem. Returns 0, or -1 with err when the
 * directory itself cannot be read or is refused. Free with hs_store_listing_free. */
int hs_store_list_all(const char *dir, hs_store_listing *out, char *err, size_t errlen);
void hs_store_listing_free(hs_store_listing *l);
/* All records, oldest first, up to max. Returns the count or -1. Corrupted files
 * are skipped; err is then a warning about the last one, or says that there were
 * more than max (else ""). */
int hs_store_list(const char *dir, hs_conn_record *recs, int max, char *err, size_t errlen);
int hs_store_remove(const char *dir, int id);
/* Is this local endpoint used by a kept connection? */
bool hs_store_local_in_use(const char *dir, const hs_endpoint *local);
/* Names of guard tables of all kept connections (for stale-guard cleanup).
 * Returns the count, or -1 on error or when there are more than max: then do
 * not run hs_guard_cleanup_stale (it would remove kept connections' guards). */
int hs_store_guards(const char *dir, char names[][HS_GUARD_NAMELEN], int max);

/* The store directory must be the directory itself (not a symbolic link), belong to
 * the user running hs and be writable by no one else; a missing one is fine (an
 * empty store). Every operation checks it; this is for checking before anything is
 * sent. Returns 0, or -1 with err (one line). */
int hs_store_check(const char *dir, char *err, size_t errlen);

/* RFC 7413 Fast Open cookies, one per peer (address and port), kept in the file
 * "tfo-cookies" of the store directory ("ENDPOINT HEX" lines; the same rules as the
 * records: the directory and file the user's own, mode 0600, never through a link;
 * at most HS_TFO_CACHE_MAX peers, the oldest dropped). get: 0 with cookie/len, 1
 * when none is saved for peer, -1 with err. put: replaces peer's cookie; 0 or -1. */
#define HS_TFO_CACHE_MAX 256
int hs_store_tfo_get(const char *dir, const hs_endpoint *peer, uint8_t cookie[16], uint8_t *len, char *err,
                     size_t errlen);
int hs_store_tfo_put(const char *dir, const hs_endpoint *peer, const uint8_t *cookie, uint8_t len, char *err,
                     size_t errlen);

/* Text form used in the files and tests: key=value lines. */
int hs_record_format(const hs_conn_record *rec, char *buf, size_t len);
int hs_record_parse(const char *text, hs_conn_record *rec, char *err, size_t errlen);
/* Is a parsed record one hs would have written: a state it keeps (ESTABLISHED,
 * CLOSE-WAIT), a peer state that goes with it, endpoints with addresses and ports of
 * one family, a guard named hs_<pid>_<n>? Pure. Returns 0, or -1 with err. */
int hs_record_validate(const hs_conn_record *rec, char *err, size_t errlen);
/* Does the host agree: the local address is this host's (bind() test), the interface
 * exists, and an existing guard table is this 4-tuple's guard (hs_guard_matches)?
 * Returns 0, or -1 with err. */
int hs_record_check_host(const hs_conn_record *rec, char *err, size_t errlen);
/* Run on every record read (default hs_record_check_host; tests may set NULL). */
extern int (*hs_store_host_check)(const hs_conn_record *rec, char *err, size_t errlen);

#endif
