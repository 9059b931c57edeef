/* TCP-MD5 signatures (RFC 2385): the digest, signing what hs sends, checking what
 * it receives. The digest is nettle's MD5 (see lib/md5sig.c for why nettle). */
#ifndef HS_MD5SIG_H
#define HS_MD5SIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hs/addr.h"
#include "hs/segment.h"
#include "hs/tcb.h"

#define HS_MD5SIG_MAXKEYLEN 80 /* Linux's TCP_MD5SIG_MAXKEYLEN */
#define HS_MD5SIG_DIGEST 16
#define HS_MD5SIG_OPTLEN 18    /* kind 19, length 18, 16 bytes of digest */

/* What a received segment's signature is (hs_segment.md5_status). */
enum hs_md5_status {
	HS_MD5_UNCHECKED = 0, /* no key set: nothing checked */
	HS_MD5_OK,            /* the option is there and its digest is right */
	HS_MD5_BAD,           /* the option is there, the digest is wrong */
	HS_MD5_MISSING,       /* no MD5 option */
};

/* "ok", "bad", "missing", or NULL for UNCHECKED. */
const char *hs_md5_status_name(unsigned status);

typedef struct hs_md5_key {
	uint8_t len;          /* 0: no key */
	uint8_t key[HS_MD5SIG_MAXKEYLEN];
} hs_md5_key;

/* The RFC 2385 section 2.0 digest of one TCP segment from src to dst: the pseudo-
 * header (IPv4: src, dst, zero byte, protocol 6, TCP length as 16 bits; IPv6 as
 * RFC 2460 8.1 and Linux: src, dst, length as 32 bits, three zero bytes, next header
 * 6), the 20-byte TCP header with its checksum taken as 0, the payload after
 * doff*4 bytes, and the key. tcp/tcp_len is the whole TCP segment (header, options,
 * payload); tcp_len counts into the pseudo-header. Returns 0, or -1 when the header
 * is shorter than 20 bytes or doff points past tcp_len. Pure. */
int hs_md5sig_digest(const hs_addr *src, const hs_addr *dst, const uint8_t *tcp, size_t tcp_len,
                     const uint8_t *key, size_t keylen, uint8_t out[HS_MD5SIG_DIGEST]);

/* Offset of the MD5 option's 16-byte digest inside an option list, or -1 when the
 * list has no well-formed MD5 option. Pure. */
int hs_md5sig_find(const uint8_t *opts, size_t len);

/* Sign tx for src -> dst with key: the MD5 option is added when tx has none (NOP,
 * NOP, MD5 at the end of the options, as Linux places it last-but-padding) and its
 * digest written. Returns 0, or -1 with err when the option does not fit in the
 * 40 bytes of option space. A key of length 0 leaves tx alone. */
int hs_md5sig_sign_tx(hs_tx *tx, const hs_endpoint *src, const hs_endpoint *dst, const hs_md5_key *key,
                      char *err, size_t errlen);

/* Check a decoded segment's signature (its options in seg->opts.raw, its payload
 * whole at seg->payload). A truncated capture cannot be checked: UNCHECKED. */
enum hs_md5_status hs_md5sig_check(const hs_segment *seg, const hs_md5_key *key);

/* Parse --md5-key: the bytes as given, 1 to 80 of them. Returns 0, or -1 with err. */
int hs_md5_key_parse(const char *s, hs_md5_key *out, char *err, size_t errlen);

#endif
