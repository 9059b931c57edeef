/* Writing pcapng (the capture with a comment on each packet: opt_comment of the
 * Enhanced Packet Block, which tshark shows as frame.comment). Packets are IP
 * datagrams (LINKTYPE_RAW); timestamps in nanoseconds (if_tsresol 9). */
#ifndef HS_PCAPNG_H
#define HS_PCAPNG_H
#include <stddef.h>
#include <stdint.h>

typedef struct hs_pcapng hs_pcapng;

/* Create path ("-": stdout) and write the section and interface blocks. Returns 0,
 * or -1 with err ("cannot write PATH: reason"). */
int hs_pcapng_open(hs_pcapng **out, const char *path, char *err, size_t errlen);
/* One packet: caplen bytes of an IP datagram of len bytes, captured at wall_ns
 * (CLOCK_REALTIME ns), with comment (UTF-8 text, NULL or "" for none). Complete on
 * disk when it returns. Returns 0, or the errno of the first failed write (then
 * nothing more is written: the file ends with the last whole packet). */
int hs_pcapng_write(hs_pcapng *w, uint64_t wall_ns, const uint8_t *ip, size_t caplen, size_t len,
                    const char *comment);
/* Close; returns the first write error (errno) or 0. NULL is a no-op. */
int hs_pcapng_close(hs_pcapng *w);

#endif
