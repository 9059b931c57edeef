/* Capturing replies: hs's own packet socket (SOCK_DGRAM: IP datagrams, no link
 * header) read with recvmsg(), a BPF filter libpcap compiles set before the first
 * send, poll() against a monotonic deadline (lib/capture.c says why not libpcap's
 * ring). */
#ifndef HS_CAPTURE_H
#define HS_CAPTURE_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "hs/addr.h"
#include "hs/segment.h"

typedef struct hs_capture hs_capture;

/* How long the capture's copy of a segment we sent may take to come back through
 * the capture (it comes in microseconds where the interface shows outgoing frames):
 * until then our own segment's line and its -w record wait for it. */
#define HS_ECHO_WAIT_NS (5ull * 1000000ull)

/* Open and activate a capture on iface ("any" if NULL). Returns 0, or -1 with err;
 * *eperm is set when the cause is a missing privilege, *nodev when the interface
 * does not exist. */
int hs_capture_open(hs_capture **out, const char *iface, bool *eperm, bool *nodev, char *err, size_t errlen);
/* Compile and install a BPF filter. Returns 0 or -1 with err. */
int hs_capture_filter(hs_capture *c, const char *expr, char *err, size_t errlen);
/* Write every captured frame (and frames given to hs_capture_dump_out) to a pcap file. */
int hs_capture_dump_open(hs_capture *c, const char *path, char *err, size_t errlen);
/* The first error writing the dump (errno: ENOSPC, EPIPE, EFBIG...), or 0. After
 * one, nothing more is written: the file ends with the last whole packet. */
int hs_capture_dump_error(const hs_capture *c);
/* Record a segment we sent (as raw IP bytes) into the dump, if one is open. */
void hs_capture_dump_ip(hs_capture *c, const uint8_t *ip, size_t len);
/* Wait until deadline_ns (monotonic; 0 = do not block) for the next decodable
 * TCP or ICMP packet. Returns 1 (pkt valid until the next call; *ts_ns is the
 * monotonic time of capture), 0 on deadline, -1 on error (err), -2 if a signal
 * interrupted the wait. Malformed frames are skipped (counted in
 * hs_capture_malformed()). */
int hs_capture_next(hs_capture *c, uint64_t deadline_ns, hs_packet *pkt, uint64_t *ts_ns, char *err, size_t errlen);
/* The IP datagram of the packet hs_capture_next returned last, link header
 * stripped (for -w FILE.pcapng): *ip points into the capture's buffer (valid until
 * the next hs_capture_next), *caplen bytes of its *len. Returns 0, or -1 when there
 * is none (no packet yet, or a frame whose link header hs cannot strip). */
int hs_capture_last_ip(const hs_capture *c, const uint8_t **ip, size_t *caplen, size_t *len);
unsigned long hs_capture_malformed(const hs_capture *c);
/* Frames the capture lost since it opened (PACKET_STATISTICS: the socket's receive
 * buffer was full), in *dropped. Returns 0, or -1 when the kernel cannot say. */
int hs_capture_drops(hs_capture *c, unsigned long *dropped);
/* The same, as the line a driver shows before its result: returns 1 and fills
 * text ("the capture lost N frames ...") when frames were lost, else 0. */
int hs_capture_drops_text(hs_capture *c, unsigned long *dropped, char *text, size_t len);
void hs_capture_close(hs_capture *c);

/* BPF text for one connection: TCP of the 4-tuple in both directions, plus ICMP /
 * ICMPv6 errors addressed to local. remote port 0 = any (listen), remote address
 * family 0 = any. Pure. Returns 0, or -1 if buf is too small. */
int hs_bpf_conn(const hs_endpoint *local, const hs_endpoint *remote, char *buf, size_t len);
/* BPF text for many connections to one peer (hs connect --count): TCP between local
 * (any port in [port_lo, port_hi]) and remote, both directions, plus ICMP / ICMPv6
 * errors addressed to local. Pure. Returns 0, or -1 if buf is too small or the
 * endpoints are not of one family. */
int hs_bpf_range(const hs_addr *local, uint16_t port_lo, uint16_t port_hi, const hs_endpoint *remote,
                 char *buf, size_t len);

#endif
