/* Decoding captured frames into TCP segments and ICMP errors: pure functions over
 * (buf, len), bounds-checked, returning a status and a static error message. */
#ifndef HS_SEGMENT_H
#define HS_SEGMENT_H
#include <stddef.h>
#include <stdint.h>
#include "hs/addr.h"
#include "hs/opts.h"

/* TCP flag bits as in the header's 13th byte. */
#define HS_FIN 0x01
#define HS_SYN 0x02
#define HS_RST 0x04
#define HS_PSH 0x08
#define HS_ACK 0x10
#define HS_URG 0x20
#define HS_ECE 0x40
#define HS_CWR 0x80

typedef struct hs_segment {
	hs_endpoint src, dst;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;     /* as on the wire, unscaled */
	uint16_t urp;
	uint16_t csum;    /* as on the wire */
	uint8_t csum_status; /* enum hs_csum: what csum is (decoded segments; UNCHECKED when
	                      * the datagram was not captured whole) */
	uint8_t ttl;      /* TTL or hop limit */
	bool fragment;    /* the first fragment of a fragmented datagram (IPv4 MF, or an
	                   * IPv6 fragment header): not the whole segment, never to be acted on */
	bool has_ip_id;   /* IPv4: ip_id is the header's Identification (host order) */
	uint16_t ip_id;   /* tells a network copy (same ID) from a resend (new ID) */
	hs_tcp_opts opts;
	const uint8_t *payload; /* points into the caller's buffer */
	size_t len;       /* payload bytes at payload */
	size_t truncated; /* payload bytes the capture did not keep (a short snaplen: -r of
	                   * tcpdump -s N): SEG.LEN counts len + truncated (hs_seg_len) */
	uint8_t md5_status; /* enum hs_md5_status (hs/md5sig.h): the TCP-MD5 signature checked
	                     * with the user's key; 0 (unchecked) without one */
} hs_segment;

/* The payload's length on the wire (SEG.LEN without SYN/FIN), captured or not. */
static inline size_t hs_seg_len(const hs_segment *s)
{
	return s->len + s->truncated;
}

typedef struct hs_icmp_error {
	hs_endpoint reporter; /* who sent the ICMP */
	uint8_t family;       /* AF_INET: ICMP, AF_INET6: ICMPv6 */
	uint8_t type, code;
	uint32_t mtu;         /* "fragmentation needed" (ICMP 3/4: the next-hop MTU, 0 from
	                       * routers older than RFC 1191) and "packet too big" (ICMPv6 2) */
	/* From the quoted datagram: the segment that caused it. */
	hs_endpoint orig_src, orig_dst;
	uint32_t orig_seq;
} hs_icmp_error;

enum hs_pkt_kind { HS_PKT_NONE = 0, HS_PKT_TCP, HS_PKT_ICMP };

typedef struct hs_packet {
	enum hs_pkt_kind kind;
	union {
		hs_segment tcp;
		hs_icmp_error icmp;
	} u;
} hs_packet;

/* Link types we decode (values of pcap_datalink()): DLT_EN10MB (veth, lo: follows
 * 802.1Q tags), DLT_LINUX_SLL (any), DLT_LINUX_SLL2, DLT_RAW / LINKTYPE_RAW (tun),
 * DLT_NULL/LOOP. Returns 0 and fills out (kind NONE for frames that are neither TCP
 * nor ICMP error), or -1 with *err set for malformed frames. */
int hs_decode_frame(int dlt, const uint8_t *buf, size_t len, hs_packet *out, const char **err);
/* Bytes of link header in front of the IP header of a frame of link type dlt (the
 * ones hs_decode_frame knows), or -1 for frames that carry no IPv4/IPv6 datagram
 * (or are too short to tell). Pure. */
long hs_link_header_len(int dlt, const uint8_t *f, size_t len);
/* Same, starting at an IPv4 or IPv6 header. */
int hs_decode_ip(const uint8_t *buf, size_t len, hs_packet *out, const char **err);
/* Same, starting at a TCP header; addresses are taken from src/dst (when both are
 * given, csum_status classifies the checksum over the len bytes). */
int hs_decode_tcp(const uint8_t *buf, size_t len, const hs_addr *src, const hs_addr *dst,
                  hs_segment *out, const char **err);

/* What a captured TCP checksum is (TECH-NOTES: checksum offload). */
enum hs_csum {
	HS_CSUM_UNCHECKED = 0, /* not all of the segment was captured */
	HS_CSUM_OK,            /* valid */
	HS_CSUM_OFFLOAD,       /* partial: the pseudo-header sum only, to be completed by the NIC
	                        * (a segment the local kernel sent, or received on a veth) */
	HS_CSUM_BAD,           /* neither: a receiver drops the segment */
};
/* "", "ok", "offload", "bad". */
const char *hs_csum_name(enum hs_csum c);
/* The checksum a TCP segment of len bytes (header, options, payload; its checksum field
 * is skipped) from src to dst must carry. Pure. */
uint16_t hs_tcp_checksum(const hs_addr *src, const hs_addr *dst, const uint8_t *tcp, size_t len);
/* What a checksum offloading kernel leaves in the field: the one's complement sum of
 * the pseudo-header (addresses, protocol, len), folded, not complemented. Pure. */
uint16_t hs_tcp_checksum_partial(const hs_addr *src, const hs_addr *dst, size_t len);
/* Classify the checksum field of a whole TCP segment (len bytes, as captured). Pure:
 * OK, OFFLOAD or BAD (UNCHECKED only for len < 20 or addresses of different families). */
enum hs_csum hs_tcp_csum_classify(const hs_addr *src, const hs_addr *dst, const uint8_t *tcp, size_t len);

/* "SYN,ACK" in the order FIN,SYN,RST,PSH,ACK,URG,ECE,CWR; "none" for 0. Returns buf. */
const char *hs_flags_format(uint8_t flags, char *buf, size_t len);

#endif
