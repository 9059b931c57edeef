/* Sending crafted segments with libnet (raw IP sockets: the kernel routes). */
#ifndef HS_SENDER_H
#define HS_SENDER_H
#include <stddef.h>
#include "hs/addr.h"
#include "hs/tcb.h"
#include "hs/md5sig.h"

typedef struct hs_sender hs_sender;

/* Open a libnet context for family (AF_INET/AF_INET6). iface may be NULL.
 * Returns 0, or -1 with err (e.g. "raw socket: Operation not permitted") and
 * *eperm set when the cause is a missing privilege. */
int hs_sender_open(hs_sender **out, int family, const char *iface, bool *eperm, char *err, size_t errlen);
/* Build (options -> TCP -> IP) and write one segment from src to dst.
 * Returns 0, or -1 with err. */
int hs_sender_send(hs_sender *s, const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx,
                   char *err, size_t errlen);
void hs_sender_close(hs_sender *s);
/* TCP-MD5 (RFC 2385): from now on every segment is signed with key just before it is
 * built (the option added when the segment has none); NULL or len 0 stops signing.
 * A segment whose options leave no room for it fails to send. */
void hs_sender_set_md5(hs_sender *s, const hs_md5_key *key);

/* Build the same segment into buf as raw IP bytes (for pcap output and tests), with
 * tx->ip and tx->urp applied and checksums computed (the TCP one wrong on purpose with
 * tx->ip.bad_csum). An IPv4 ID that is not given is 0 (the sender's counter is its
 * own). Returns length, or -1. Pure: no libnet, no sockets. */
int hs_segment_encode_ip(const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx,
                         uint8_t *buf, size_t buflen);
/* The TCP checksum of that segment as it goes on the wire (what hs_segment_encode_ip
 * and libnet write): with tx->ip.bad_csum the wrong one (the right one + 1 mod 0xffff,
 * never 0, the right one or the offload value). 0 for an hs_tx that cannot be
 * encoded. Pure. */
uint16_t hs_tx_checksum(const hs_endpoint *src, const hs_endpoint *dst, const hs_tx *tx);

#endif
