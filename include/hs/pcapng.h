/* Writing pcapng (the capture with a comment on each packet: opt_comment of the
 * Enhanced Packet Block, which tshark shows as frame.comment). Packets are IP
 * datagrams (LINKTYPE_RAW); timestamps in nanoseconds (if_tsresol 9). One section,
 * one interface; blocks in the writer's byte order (readers follow the section's
 * byte-order magic). Format: draft-ietf-opsawg-pcapng (the IETF text of the pcapng
 * spec), sections 4.1 (SHB), 4.2 (IDB), 4.3 (EPB), 3.5 (options). */
#ifndef HS_PCAPNG_H
#define HS_PCAPNG_H
#include <stddef.h>
#include <stdint.h>

typedef struct hs_pcapng hs_pcapng;

/* The largest datagram written whole (libpcap's MAXIMUM_SNAPLEN: what it reads
 * back); longer ones are cut to this, their length kept. */
#define HS_PCAPNG_MAX_CAPLEN 262144u
/* opt_comment is one option: at most 65535 bytes (longer comments are cut at a
 * character boundary). */
#define HS_PCAPNG_MAX_COMMENT 65535u

/* Open path ("-": stdout) for writing. A path that cannot be written is refused
 * now, before a run sends anything. A regular file is created if missing but not
 * truncated yet: the section and interface blocks (and the truncation) come with
 * the first packet or hs_pcapng_close, so a run that never starts can leave the
 * file as it was (hs_pcapng_discard). Anything else (stdout, a pipe, a device) gets
 * them now, and a failure to write them (/dev/full) is reported here. Returns 0, or
 * -1 with err ("cannot write PATH: reason"). */
int hs_pcapng_open(hs_pcapng **out, const char *path, char *err, size_t errlen);
/* One packet: caplen bytes of an IP datagram of len bytes, captured at wall_ns
 * (CLOCK_REALTIME ns since the epoch), with comment (UTF-8 text; NULL or "" for
 * none). Complete in the file when it returns (one write; a regular file is cut
 * back to the last whole block after a failed one). Returns 0, or the errno of the
 * first failed write (then nothing more is written: the file ends with the last
 * whole packet). */
int hs_pcapng_write(hs_pcapng *w, uint64_t wall_ns, const uint8_t *ip, size_t caplen, size_t len,
                    const char *comment);
/* Whether anything (the header blocks) has been written yet. */
int hs_pcapng_started(const hs_pcapng *w);
/* Close: an unstarted file gets its header blocks (an empty capture is still a
 * capture). Returns the first write error (errno) or 0. NULL is a no-op. */
int hs_pcapng_close(hs_pcapng *w);
/* Give up a writer before its run started (bad input found after the open): a
 * file it created and never wrote to is removed, an existing one it never wrote
 * to is left as it was. A started writer is closed as hs_pcapng_close does.
 * Returns as hs_pcapng_close. NULL is a no-op. */
int hs_pcapng_discard(hs_pcapng *w);

#endif
