/* Reading a capture file (pcap or pcapng, "-" for stdin) with libpcap's offline
 * reader, for -r: every frame decoded (any link type decode.c knows), with its
 * timestamp and the IP datagram it carries. */
#ifndef HS_CAPFILE_H
#define HS_CAPFILE_H
#include <stddef.h>
#include <stdint.h>
#include "hs/segment.h"

typedef struct hs_capfile hs_capfile;

/* What hs_capfile_open's failure was: the caller's exit status follows from it. */
enum {
	HS_CAPFILE_BAD = -1,   /* the file or the filter is wrong: missing file, not a pcap or
	                        * pcapng file, a link type hs does not decode, a bad BPF
	                        * expression (usage) */
	HS_CAPFILE_ENV = -2,   /* the file exists but cannot be read: permission, I/O
	                        * (environment) */
};

/* Open path ("-": stdin); filter (BPF text, NULL for none) keeps only what matches,
 * compiled for the file's link type. Timestamps are read with nanosecond precision.
 * Returns 0, or HS_CAPFILE_BAD / HS_CAPFILE_ENV with err ("x.pcap: not a pcap or
 * pcapng file", "x.pcap: link type 147 is not one hs decodes", "bad filter
 * \"tcp prot 80\": ..."); nothing is left open then. */
int hs_capfile_open(hs_capfile **out, const char *path, const char *filter, char *err, size_t errlen);
/* The next TCP or ICMP error packet: returns 1 (*pkt and *ip valid until the next
 * call; *wall_ns: the frame's timestamp, ns since the epoch; *ip: the IP datagram,
 * ip_caplen bytes of its ip_len, NULL/0/0 when its offset is unknown), 0 at the end,
 * -1 on a read error (err: a truncated file, what was read before stays valid).
 * Frames that are neither are skipped; malformed ones are skipped and counted. */
int hs_capfile_next(hs_capfile *f, hs_packet *pkt, uint64_t *wall_ns, const uint8_t **ip, size_t *ip_caplen,
                    size_t *ip_len, char *err, size_t errlen);
unsigned long hs_capfile_skipped(const hs_capfile *f); /* malformed frames */
/* Frames read (matching the filter), whatever they held. */
unsigned long hs_capfile_frames(const hs_capfile *f);
void hs_capfile_close(hs_capfile *f);

#endif
