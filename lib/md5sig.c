/* TCP-MD5 (RFC 2385). The digest is nettle's MD5 (nettle/md5.h): a small, stable,
 * well-kept API (md5_init/update/digest over a plain struct, no allocation), where
 * OpenSSL 3 deprecates its low-level MD5_* calls in favour of the EVP machinery. */
#include <config.h>

#include <nettle/md5.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/err.h"
#include "hs/md5sig.h"

#define TCP_HDR 20

const char *hs_md5_status_name(unsigned status)
{
	switch (status) {
	case HS_MD5_OK: return "ok";
	case HS_MD5_BAD: return "bad";
	case HS_MD5_MISSING: return "missing";
	default: return NULL;
	}
}

/* The pseudo-header into ph (40 bytes room); returns its length, or 0 for an
 * unknown family. IPv6 as Linux's tcp_v6_md5_hash_headers: a 32-bit length and the
 * next header in the last of four bytes. */
static size_t pseudo_header(const hs_addr *src, const hs_addr *dst, size_t tcp_len, uint8_t ph[40])
{
	if (src->family == AF_INET && dst->family == AF_INET) {
		memcpy(ph, &src->u.v4, 4);
		memcpy(ph + 4, &dst->u.v4, 4);
		ph[8] = 0;
		ph[9] = 6; /* IPPROTO_TCP */
		ph[10] = (uint8_t)(tcp_len >> 8);
		ph[11] = (uint8_t)tcp_len;
		return 12;
	}
	if (src->family == AF_INET6 && dst->family == AF_INET6) {
		memcpy(ph, &src->u.v6, 16);
		memcpy(ph + 16, &dst->u.v6, 16);
		ph[32] = (uint8_t)(tcp_len >> 24);
		ph[33] = (uint8_t)(tcp_len >> 16);
		ph[34] = (uint8_t)(tcp_len >> 8);
		ph[35] = (uint8_t)tcp_len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 6;
		return 40;
	}
	return 0;
}

int hs_md5sig_digest(const hs_addr *src, const hs_addr *dst, const uint8_t *tcp, size_t tcp_len,
                     const uint8_t *key, size_t keylen, uint8_t out[HS_MD5SIG_DIGEST])
{
	struct md5_ctx c;
	uint8_t ph[40], hdr[TCP_HDR];
	size_t phlen;

	if (tcp_len < TCP_HDR)
		return -1;
	size_t doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < TCP_HDR || doff > tcp_len)
		return -1;
	phlen = pseudo_header(src, dst, tcp_len, ph);
	if (phlen == 0)
		return -1;
	memcpy(hdr, tcp, TCP_HDR);
	hdr[16] = hdr[17] = 0; /* the checksum counts as 0 (RFC 2385 2.0, step 2) */
	md5_init(&c);
	md5_update(&c, phlen, ph);
	md5_update(&c, TCP_HDR, hdr);
	md5_update(&c, tcp_len - doff, tcp + doff);
	md5_update(&c, keylen, key);
	md5_digest(&c, HS_MD5SIG_DIGEST, out);
	return 0;
}

int hs_md5sig_find(const uint8_t *opts, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = opts[i];
		if (kind == 0)
			return -1; /* EOL */
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || opts[i + 1] < 2 || i + opts[i + 1] > len)
			return -1;
		if (kind == 19 && opts[i + 1] == HS_MD5SIG_OPTLEN)
			return (int)(i + 2);
		i += opts[i + 1];
	}
	return -1;
}

/* The 20-byte header as it goes on the wire (checksum left 0: it is not hashed). */
static void put_header(uint8_t *h, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                       size_t optlen, uint8_t flags, uint16_t win, uint16_t urp)
{
	h[0] = (uint8_t)(sport >> 8); h[1] = (uint8_t)sport;
	h[2] = (uint8_t)(dport >> 8); h[3] = (uint8_t)dport;
	for (int k = 0; k < 4; k++) {
		h[4 + k] = (uint8_t)(seq >> (24 - 8 * k));
		h[8 + k] = (uint8_t)(ack >> (24 - 8 * k));
	}
	h[12] = (uint8_t)(((TCP_HDR + optlen) / 4) << 4);
	h[13] = flags;
	h[14] = (uint8_t)(win >> 8); h[15] = (uint8_t)win;
	h[16] = h[17] = 0;
	h[18] = (uint8_t)(urp >> 8); h[19] = (uint8_t)urp;
}

/* The digest covers the header, the payload and the pseudo-header but not the
 * options, so hashing those pieces in place of the whole segment gives the same
 * value without copying the payload. */
static int digest_parts(const hs_addr *src, const hs_addr *dst, const uint8_t *hdr, size_t optlen,
                        const uint8_t *data, size_t len, const hs_md5_key *key, uint8_t out[HS_MD5SIG_DIGEST])
{
	struct md5_ctx c;
	uint8_t ph[40];
	size_t phlen = pseudo_header(src, dst, TCP_HDR + optlen + len, ph);

	if (phlen == 0)
		return -1;
	md5_init(&c);
	md5_update(&c, phlen, ph);
	md5_update(&c, TCP_HDR, hdr); /* checksum bytes already 0 (put_header) */
	if (len)
		md5_update(&c, len, data);
	md5_update(&c, key->len, key->key);
	md5_digest(&c, HS_MD5SIG_DIGEST, out);
	return 0;
}

int hs_md5sig_sign_tx(hs_tx *tx, const hs_endpoint *src, const hs_endpoint *dst, const hs_md5_key *key,
                      char *err, size_t errlen)
{
	uint8_t hdr[TCP_HDR];

	if (!key || key->len == 0)
		return 0;
	int at = hs_md5sig_find(tx->opts, tx->opt_len);
	if (at < 0) {
		/* NOP, NOP, MD5: 20 bytes, keeping the list a multiple of 4. Trailing EOL
		 * padding of the list is cut first, so the option is not hidden behind it. */
		size_t n = tx->opt_len;
		int end = -1;
		for (size_t i = 0; i < n;) {
			if (tx->opts[i] == 0) {
				end = (int)i;
				break;
			}
			if (tx->opts[i] == 1 || i + 1 >= n || tx->opts[i + 1] < 2) {
				i++;
				continue;
			}
			i += tx->opts[i + 1];
		}
		if (end >= 0)
			n = (size_t)end;
		size_t pad = (4 - n % 4) % 4;
		if (n + pad + 20 > HS_OPT_MAXLEN) {
			hs_seterr(err, errlen, "no room for the MD5 option: %u bytes of options already",
			          (unsigned)tx->opt_len);
			return -1;
		}
		memset(tx->opts + n, 1, pad); /* NOPs up to the 4-byte boundary */
		n += pad;
		tx->opts[n] = 1;
		tx->opts[n + 1] = 1;
		tx->opts[n + 2] = 19;
		tx->opts[n + 3] = HS_MD5SIG_OPTLEN;
		at = (int)n + 4;
		tx->opt_len = (uint8_t)(n + 20);
	}
	put_header(hdr, src->port, dst->port, tx->seq, tx->ack, tx->opt_len, tx->flags, tx->win, tx->urp);
	if (digest_parts(&src->addr, &dst->addr, hdr, tx->opt_len, tx->data, tx->len, key, tx->opts + at) != 0) {
		hs_seterr(err, errlen, "md5: unsupported address family");
		return -1;
	}
	return 0;
}

enum hs_md5_status hs_md5sig_check(const hs_segment *seg, const hs_md5_key *key)
{
	uint8_t hdr[TCP_HDR], want[HS_MD5SIG_DIGEST];

	if (!key || key->len == 0 || seg->truncated || (seg->len && !seg->payload))
		return HS_MD5_UNCHECKED;
	int at = hs_md5sig_find(seg->opts.raw, seg->opts.raw_len);
	if (at < 0)
		return HS_MD5_MISSING;
	put_header(hdr, seg->src.port, seg->dst.port, seg->seq, seg->ack, seg->opts.raw_len, seg->flags,
	           seg->win, seg->urp);
	if (digest_parts(&seg->src.addr, &seg->dst.addr, hdr, seg->opts.raw_len, seg->payload, seg->len, key,
	                 want) != 0)
		return HS_MD5_UNCHECKED;
	return memcmp(want, seg->opts.raw + at, HS_MD5SIG_DIGEST) == 0 ? HS_MD5_OK : HS_MD5_BAD;
}

int hs_md5_key_parse(const char *s, hs_md5_key *out, char *err, size_t errlen)
{
	size_t n = strlen(s);

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > HS_MD5SIG_MAXKEYLEN) {
		hs_seterr(err, errlen, "%s (1 to %d bytes, as Linux's TCP_MD5SIG takes)",
		          n ? "key too long" : "empty key", HS_MD5SIG_MAXKEYLEN);
		return -1;
	}
	memcpy(out->key, s, n);
	out->len = (uint8_t)n;
	return 0;
}
