/* A set of captured packets grouped into TCP connections, with the two copies of a
 * segment (two captures, or one capture that holds each segment twice) paired.
 *
 * Sans-I/O: the caller reads and decodes the packets (capfile.h, segment.h), this
 * file decides which connection each belongs to, which end is A, which packets are
 * copies of which, and which segments were lost; it prints nothing. Used by hs -r
 * (cmd/read.c), which turns the result into events with the observer (observer.h).
 *
 * Grouping: a connection is its unordered 4-tuple; a SYN (without ACK or RST) after
 * the connection was reset or closed by FINs from both ends, or a SYN with a new
 * SEG.SEQ from an end that already sent one, starts a new connection on the same
 * 4-tuple. ICMP errors go to the latest connection of the 4-tuple they quote (none:
 * conn -1). A is the end that sent the first SYN, else the receiver of the first
 * SYN,ACK, else the sender of the connection's first segment.
 *
 * Copy matching (per connection, in time order): two segments are copies when same
 * direction, SEG.SEQ, SEG.ACK, flags, SEG.LEN, window, IPv4 ID when both have one,
 * TSval when both have one, and the later is within a window of the earlier: with
 * two files, a copy from the other file within HS_CAPSET_WINDOW_NS (2 s), or
 * HS_CAPSET_WINDOW_WEAK_NS (100 ms) when the earlier has neither IPv4 ID nor TSval
 * (nothing tells a resend from a copy); with one file, a later copy within
 * HS_OBS_COPY_NS. The earlier copy keeps `twin` (the later's index), the later one
 * is marked is_copy. With two files, the file near A is the one holding the earlier
 * copies of A's segments and the later ones of B's (a majority; a tie: no telling,
 * nothing lost); a segment without a copy, held by the file near its sender, at a
 * time within the span of the other file's packets of the connection, is lost.
 */
#ifndef HS_CAPSET_H
#define HS_CAPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hs/observer.h"
#include "hs/segment.h"

#define HS_CAPSET_WINDOW_NS (2000ull * 1000000ull)     /* two files: a copy with IPv4 ID or TSval */
#define HS_CAPSET_WINDOW_WEAK_NS (100ull * 1000000ull) /* two files: neither */

/* One captured packet. The caller fills the input fields; hs_capset_build fills the
 * rest. */
typedef struct hs_cappkt {
	/* input */
	uint64_t wall_ns;       /* capture timestamp, ns since the epoch (any origin: only differences count) */
	size_t order;           /* read order: breaks ties of wall_ns (a stable sort) */
	int file;               /* 0, or 1 for the second capture */
	hs_packet pkt;          /* decoded, kind HS_PKT_TCP or HS_PKT_ICMP; its pointers are the caller's */
	const uint8_t *ip;      /* the datagram as captured: the caller's, untouched here */
	size_t caplen, len;     /* ditto */
	/* output */
	int conn;               /* its connection (index into hs_capset.conn); -1: none */
	long twin;              /* the later copy of this segment (index into the packets), -1: none */
	bool is_copy;           /* this is a later copy (of some packet whose twin it is) */
	bool lost;              /* held near its sender only, while the other capture ran */
} hs_cappkt;

/* One connection. */
typedef struct hs_capconn {
	hs_endpoint a, b;       /* A and B (see above) */
	long *pk;               /* its packets (indices into the packets), in time order */
	size_t n;               /* how many; n >= 1 */
	/* the grouping's own, for hs_capset_build */
	size_t cap;
	bool syn_seen[2];       /* [0]: from the first packet's source, [1]: from the other end */
	uint32_t syn_seq[2];
	bool fin[2];
	bool closed;            /* reset, or FINs from both ends */
} hs_capconn;

typedef struct hs_capset {
	hs_capconn *conn;       /* the connections, in the order of their first packets */
	size_t nconn;
	/* internal */
	size_t conncap;
	long *hash;             /* unordered 4-tuple -> latest connection, open addressing */
	size_t hashcap;
} hs_capset;

/* Groups the np packets p into connections and pairs copies (two_files: p holds two
 * captures, file 0 and 1; else one). Sorts p in place first, by wall_ns, ties by
 * order, so indices in the result are into the sorted p. cs must be zeroed (or
 * freed with hs_capset_free) before; it allocates cs->conn, each conn's pk and a
 * hash, which hs_capset_free releases (the packets stay the caller's). Returns 0, or
 * -1 when out of memory (err says so; cs is then half-built: free it). */
int hs_capset_build(hs_capset *cs, hs_cappkt *p, size_t np, bool two_files, char *err, size_t errlen);

/* Releases what hs_capset_build allocated and zeroes cs. */
void hs_capset_free(hs_capset *cs);

#endif
