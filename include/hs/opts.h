/* TCP options: what the user asks for (--opt LIST), and what is on the wire. */
#ifndef HS_OPTS_H
#define HS_OPTS_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define HS_OPT_MAXLEN 40 /* TCP option space */
#define HS_OPT_MAXSACK 4

enum hs_opt_kind {
	HS_OPTK_EOL = 0,
	HS_OPTK_NOP = 1,
	HS_OPTK_MSS = 2,
	HS_OPTK_WSCALE = 3,
	HS_OPTK_SACKOK = 4,
	HS_OPTK_SACK = 5,
	HS_OPTK_TS = 8,
	HS_OPTK_MD5 = 19,
	HS_OPTK_AO = 29,     /* TCP-AO, RFC 5925 */
	HS_OPTK_MPTCP = 30,  /* Multipath TCP, RFC 8684 */
	HS_OPTK_TFO = 34,
	HS_OPTK_EXP2 = 254,  /* RFC 6994 experimental: TFO before kind 34 with magic 0xF989 */
};
#define HS_TFO_EXP_MAGIC 0xF989

/* Bits of hs_tcp_opts.has */
#define HS_HAS_MSS (1u << 0)
#define HS_HAS_WSCALE (1u << 1)
#define HS_HAS_SACKOK (1u << 2)
#define HS_HAS_TS (1u << 3)
#define HS_HAS_SACK (1u << 4)
#define HS_HAS_TFO (1u << 5)
#define HS_HAS_MD5 (1u << 6)
#define HS_HAS_UNKNOWN (1u << 7) /* at least one option we do not interpret */
#define HS_HAS_MPTCP (1u << 8)   /* kind 30; mptcp_subtype: the first one's subtype */
#define HS_HAS_AO (1u << 9)      /* kind 29 */
#define HS_HAS_TFO_EXP (1u << 10) /* the TFO cookie came in kind 254 (magic 0xF989) */

/* Options as decoded from a segment. raw/raw_len keep the exact bytes. */
typedef struct hs_tcp_opts {
	unsigned has;
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
	uint8_t nsack;
	struct { uint32_t left, right; } sack[HS_OPT_MAXSACK];
	uint8_t tfo_len; /* cookie length, 0 = request */
	uint8_t tfo_cookie[16];
	uint8_t mptcp_subtype; /* HS_HAS_MPTCP: RFC 8684 subtype of the first kind-30 option */
	uint8_t raw_len;
	uint8_t raw[HS_OPT_MAXLEN];
} hs_tcp_opts;

/* Decode the option bytes of a TCP header (bounds-checked like tcpdump's print-tcp.c).
 * A malformed option list returns -1 with *err set (static string); the options
 * decoded before the fault stay in *out. Returns 0 on success. */
int hs_opts_decode(const uint8_t *buf, size_t len, hs_tcp_opts *out, const char **err);

/* One item of a user's --opt LIST, in order. */
typedef struct hs_opt_item {
	uint8_t kind;      /* enum hs_opt_kind, or any kind for raw */
	bool raw;          /* raw=KIND:HEX */
	bool ts_auto;      /* "ts": value filled in at send time */
	uint32_t v1, v2;   /* mss / wscale / ts val,ecr */
	uint8_t len;       /* raw: payload length */
	uint8_t data[HS_OPT_MAXLEN];
} hs_opt_item;

typedef struct hs_opt_spec {
	int n;
	hs_opt_item item[HS_OPT_MAXLEN];
} hs_opt_spec;

/* Parse "mss=1460,sack,ts,wscale=7,nop,eol,ts=VAL:ECR,raw=KIND:HEX".
 * Returns 0, or -1 with a message in err. An empty string is an empty list. */
int hs_opt_spec_parse(const char *s, hs_opt_spec *out, char *err, size_t errlen);
/* The options a Linux client offers in its SYN: mss=1460,sack,ts,nop,wscale=7. */
void hs_opt_spec_default(hs_opt_spec *out);

/* Encode a spec into wire bytes, zero-padded (EOL) to a multiple of 4.
 * ts_val/ts_ecr fill "ts" items that have ts_auto. Returns the length, or -1 if it
 * does not fit in 40 bytes (err set). */
int hs_opt_spec_encode(const hs_opt_spec *spec, uint32_t ts_val, uint32_t ts_ecr,
                       uint8_t out[HS_OPT_MAXLEN], const char **err);

/* Encode the options a stack puts on segments after the handshake: TS (if used,
 * as NOP,NOP,TS) and SACK blocks. Returns length (multiple of 4). */
int hs_opts_encode_established(bool ts, uint32_t ts_val, uint32_t ts_ecr,
                               const hs_tcp_opts *sack_blocks, uint8_t out[HS_OPT_MAXLEN]);

/* Human text "mss 1460,sack,ts 123 0,nop,wscale 7" (order as on the wire). Returns buf. */
const char *hs_opts_format(const hs_tcp_opts *o, char *buf, size_t len);
/* JSON object {"mss":1460,"sack":true,"ts":[123,0],"wscale":7}; SACK blocks as "sack_blocks":[[l,r],...] (no spaces). Returns buf. */
const char *hs_opts_format_json(const hs_tcp_opts *o, char *buf, size_t len);

/* What a renderer knows of the segment around its options. */
typedef struct hs_opts_view {
	bool has_ack;     /* ACK set: ack is SEG.ACK (D-SACK's first test) */
	uint32_t ack;     /* SEG.ACK, absolute */
	bool rel;         /* show SACK edges relative: minus base */
	uint32_t base;    /* the ISN of the data being acknowledged (SEG.ACK - relative ack) */
	bool notable;     /* text: leave out eol, nop, mss, wscale, sackOK, ts (the ladder) */
} hs_opts_view;

/* RFC 2883 D-SACK: the first SACK block reports a duplicate when it starts below
 * SEG.ACK (as Linux's tcp_check_dsack tests it), or lies inside the second block.
 * Only on an ACK (v->has_ack; v NULL: false), never for an empty block. */
bool hs_opts_dsack(const hs_tcp_opts *o, const hs_opts_view *v);

/* The text of hs_opts_format, every kind decoded:
 *   sack L-R L-R (relative with v->rel; "(dsack)" after a D-SACK first block),
 *   tfo cookiereq | tfo HEX, tfo-exp ... (kind 254, magic 0xF989), md5 HEX (digest),
 *   mptcp SUBTYPE fields (RFC 8684 subtypes by name), ao keyid N rnext N mac HEX,
 *   kind N: HEX (unknown), bad-opt (REASON) HEX (the malformed rest, never read past).
 * v may be NULL (absolute, no ACK known). Returns buf. */
const char *hs_opts_format_view(const hs_tcp_opts *o, const hs_opts_view *v, char *buf, size_t len);
/* hs_opts_format_json's object plus: "dsack":true, "rsack_blocks":[[l,r],...] (relative,
 * with v->rel), "tfo_request":true, "tfo_exp":true, "md5_digest":"HEX",
 * "mptcp":[{"subtype":"MP_CAPABLE","version":1,...},...], "ao":{"keyid":N,"rnext":N,"mac":"HEX"},
 * "unknown_opts":[{"kind":N,"data":"HEX"},...], "malformed":"REASON". Returns buf. */
const char *hs_opts_format_json_view(const hs_tcp_opts *o, const hs_opts_view *v, char *buf, size_t len);

#endif
