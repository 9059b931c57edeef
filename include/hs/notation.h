/* One notation for a segment, packetdrill's (the subset hs accepts is in README,
 * "Segment notation"):
 *
 *     S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,nop,wscale 7>
 *     P. 1:6(5) ack 1
 *     R 7:7(0)
 *
 * and the field=value edits a --step prompt takes ("seq=+5 flags=R"). Parsers are
 * pure functions over a NUL-terminated text, bounds-checked, in the shape of
 * packetdrill's parse_packet(..., char **error): they return 0, or -1 with one line
 * in err (cut to errlen; err may be NULL) and the spec left as it was. Numbers in the
 * notation are relative (to our ISN for seq, to the peer's for ack), as hs prints
 * them. The accepted subset of packetdrill's grammar is listed in lib/notation.c. */
#ifndef HS_NOTATION_H
#define HS_NOTATION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hs/opts.h"
#include "hs/segment.h"
#include "hs/tcb.h"

/* How a sequence or acknowledgment number was given. */
enum hs_num_how {
	HS_NUM_UNSET = 0, /* not given: SND.NXT (seq) / RCV.NXT (ack), or the edited segment's */
	HS_NUM_REL,       /* N: relative to our ISN (seq) or the peer's ISN (ack) */
	HS_NUM_FWD,       /* +N: N after SND.NXT (seq) / RCV.NXT (ack) (in an edit: after the
	                   * edited segment's own number) */
	HS_NUM_BACK,      /* -N: N before it */
	HS_NUM_ABS,       /* =N: the absolute 32-bit number on the wire */
};

typedef struct hs_num {
	uint8_t how;      /* enum hs_num_how */
	uint32_t v;       /* 0 .. 2^32-1 */
} hs_num;

/* A segment as the user shaped it: only the fields marked present are taken; the
 * rest come from the connection (hs_seg_spec_apply). */
typedef struct hs_seg_spec {
	bool have_flags;
	uint8_t flags;        /* HS_FIN ... HS_CWR */
	hs_num seq, ack;
	bool have_len;        /* the notation's (LEN) or len=N: a payload of LEN bytes */
	uint32_t len;         /* (zeros, unless the command gives the bytes); <= 65495 */
	bool have_win;
	uint16_t win;         /* the header's value, unscaled */
	bool have_urg;
	uint16_t urg;         /* urgent pointer */
	bool have_opts;       /* "<...>" or opt=LIST; "<>" is no options at all */
	hs_opt_spec opts;
	hs_ip_fields ip;      /* ttl= tos= id= df= csum=bad */
} hs_seg_spec;

/* Everything unset. */
void hs_seg_spec_init(hs_seg_spec *sp);

/* Flags: letters FSRPAUEC (A = ACK, U = URG, E = ECE, C = CWR), packetdrill's '.' for
 * ACK and 'W' for CWR, "none", "0" or packetdrill's '-' for no flags, or names
 * "SYN,ACK" (any case, separated by ',' or '|' or '+'; names are tried first, so
 * "CWR" is CWR, not C+W+R). Each letter once. packetdrill's own 'A' is AccECN's AE
 * bit, which hs has not: here it is ACK. Returns 0, or -1 with err. */
int hs_flags_parse(const char *text, uint8_t *flags, char *err, size_t errlen);
/* N, +N, -N, =N (decimal, or 0x hex), each 0 .. 4294967295. Returns 0 / -1 with err. */
int hs_num_parse(const char *text, hs_num *out, char *err, size_t errlen);

/* packetdrill's notation: FLAGS [SEQ:END(LEN)] [ack N] [win N] [urg N] [<OPTIONS>],
 * where END must be SEQ + LEN (mod 2^32; SYN and FIN count for nothing, as in
 * packetdrill). ack takes N, +N, -N or =N; ack, win, urg in any order, each once;
 * the options last. Options as packetdrill writes them: mss N, sackOK, sack L:R
 * [L:R...] (absolute values, as given: a raw kind-5 item), TS val N ecr N, nop, eol,
 * wscale N, md5 [HEX], FO [HEX], and hs's own --opt items (ts alone = filled in at
 * send time, raw=KIND:HEX, mss=N, ...); bare "sack" is refused (SACK-permitted is
 * sackOK). At most 40 bytes once encoded. Sets what the text gives in sp (other
 * fields untouched). Returns 0, or -1 with err naming the word at fault:
 * bad segment "S. 0:x(0)": sequence "0:x(0)" is not START:END(LEN) */
int hs_notation_parse(const char *text, hs_seg_spec *sp, char *err, size_t errlen);

/* field=value pairs separated by blanks: flags= seq= ack= win= urg= len= opt= ttl=
 * tos= id= df=0|1 csum=bad|ok, each once (names in any case). seq= and ack= take N,
 * +N, -N, =N; opt= hs's --opt LIST (no blanks; "opt=" is no options). An empty text
 * sets nothing. Sets what the text gives in sp. Returns 0 / -1 err. */
int hs_fields_parse(const char *text, hs_seg_spec *sp, char *err, size_t errlen);

/* A --step answer or `hs send` argument: field=value pairs when the first word has
 * '=', the notation otherwise; a blank text is an edit that sets nothing. Returns
 * 0 / -1 with err. */
int hs_edit_parse(const char *text, hs_seg_spec *sp, char *err, size_t errlen);

/* The fields o gives (have_*, a number's how, the IP fields' set_*) replace dst's;
 * the others stay. */
void hs_seg_spec_merge(hs_seg_spec *dst, const hs_seg_spec *o);
/* The same for the IP-level fields (bad_csum set in o sets it in dst). */
void hs_ip_fields_merge(hs_ip_fields *dst, const hs_ip_fields *o);

/* Resolve a number against a connection: seq (is_ack false) or ack. isn: our ISS
 * (seq) or the peer's IRS (ack); next: SND.NXT (seq) or RCV.NXT (ack); dflt: the
 * value when unset. Returns the wire value. */
uint32_t hs_num_resolve(const hs_num *n, uint32_t isn, uint32_t next, uint32_t dflt);

/* The segment in the notation, numbers relative to seq_base (the sender's ISN) and
 * ack_base (the receiver's ISN): "P. 1:6(5) ack 1 win 502 <nop,nop,TS val 5 ecr 7>".
 * Flags as packetdrill prints them (FSRP.UEW, "-" for none); ack only with ACK, urg
 * only with URG, win always; options from seg->opts.raw in wire order (trailing EOL
 * padding left out; kinds without a packetdrill word as raw=KIND:HEX; a malformed
 * tail as "bytes HEX", which the parser refuses). Parsing the text gives the same
 * flags, numbers, window, urgent pointer and option bytes back.
 * Returns buf (always NUL-terminated, truncated to len; untouched when len is 0). */
const char *hs_notation_format(const hs_segment *seg, uint32_t seq_base, uint32_t ack_base,
                               char *buf, size_t len);

#endif
