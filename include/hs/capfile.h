/* Reading a capture file (pcap or pcapng, "-" for stdin) with libpcap's offline
 * reader, for -r: every frame decoded (any link type decode.c knows), with its
 * timestamp and the IP datagram it carries. */
#ifndef HS_CAPFILE_H
#define HS_CAPFILE_H
#include <stddef.h>
#include <stdint.h>
#include "hs/segment.h"

typedef struct hs_capfile hs_capfile;

/* Open path; filter (BPF text, NULL for none) keeps only what matches. Returns 0, or
 * -1 with err ("x.pcap: not a pcap or pcapng file", "unknown link type 147"...). */
int hs_capfile_open(hs_capfile **out, const char *path, const char *filter, char *err, size_t errlen);
/* The next TCP or ICMP packet: returns 1 (*pkt and *ip valid until the next call;
 * *wall_ns: the frame's timestamp, ns since the epoch; ip_caplen, ip_len: the IP
 * datagram's captured and original lengths), 0 at the end, -1 on a read error (err).
 * Frames that are neither, or malformed, are skipped and counted. */
int hs_capfile_next(hs_capfile *f, hs_packet *pkt, uint64_t *wall_ns, const uint8_t **ip, size_t *ip_caplen,
                    size_t *ip_len, char *err, size_t errlen);
unsigned long hs_capfile_skipped(const hs_capfile *f); /* malformed frames */
void hs_capfile_close(hs_capfile *f);

#endif
