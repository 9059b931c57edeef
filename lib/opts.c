/* TCP options: parsing the user's --opt LIST, encoding it for a SYN, encoding the
 * options of an established connection, and decoding/formatting options from the wire. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "hs/bytes.h"
#include "hs/sbuf.h"
#include "hs/opts.h"
#include "hs/payload.h"

#define KNOWN_OPTS "mss, sack, ts, wscale, nop, eol, tfo, md5, raw"

/* Wire lengths of the options whose length is fixed. */
#define LEN_MSS 4
#define LEN_WSCALE 3
#define LEN_SACKOK 2
#define LEN_TS 10
#define LEN_MD5 18
#define MAX_TFO_COOKIE 16
#define LEN_AO_MIN 4      /* kind, length, KeyID, RNextKeyID (RFC 5925 2.2) */
#define LEN_MPTCP_MIN 3   /* kind, length, subtype|version (RFC 8684 3) */
#define LEN_EXP_MIN 4     /* kind, length, 16-bit ExID (RFC 6994) */

/* ---- parsing the user's list ------------------------------------------------------ */

/* Strict decimal: digits only, no sign, no spaces, value <= max. */
static int parse_decimal(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}


/* Even-length hex into at most max bytes. Returns the byte count, or -1. */
static int parse_hex(const char *s, size_t n, uint8_t *out, size_t max)
{
	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hs_hex_digit((unsigned char)s[i]), lo = hs_hex_digit((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

/* Bytes an item takes on the wire (before padding). */
static size_t item_wire_len(const hs_opt_item *it)
{
	if (it->raw)
		return (it->kind == HS_OPTK_EOL || it->kind == HS_OPTK_NOP) ? 1 : 2u + it->len;
	switch (it->kind) {
	case HS_OPTK_EOL:
	case HS_OPTK_NOP:
		return 1;
	case HS_OPTK_MSS:
		return LEN_MSS;
	case HS_OPTK_WSCALE:
		return LEN_WSCALE;
	case HS_OPTK_SACKOK:
		return LEN_SACKOK;
	case HS_OPTK_TS:
		return LEN_TS;
	case HS_OPTK_MD5:
		return LEN_MD5;
	case HS_OPTK_TFO:
		return 2u + it->len;
	default:
		return 2u + it->len;
	}
}

/* One "name[=value]" item; name and value are not NUL-terminated. */
typedef struct item_text {
	const char *name;
	size_t name_len;
	const char *val; /* NULL: no '=' */
	size_t val_len;
	const char *whole;
	size_t whole_len;
} item_text;

static bool name_is(const item_text *t, const char *name)
{
	return strlen(name) == t->name_len && strncasecmp(t->name, name, t->name_len) == 0;
}

static int fail(char *err, size_t errlen, const char *fmt, const item_text *t)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, (int)t->whole_len, t->whole);
	return -1;
}

/* Value-less options: nop, eol, sack/sackok, md5. */
static int parse_flag_item(const item_text *t, uint8_t kind, hs_opt_item *it, char *err, size_t errlen)
{
	if (t->val)
		return fail(err, errlen, "%.*s: this TCP option takes no value", t);
	it->kind = kind;
	return 0;
}

static int parse_mss(const item_text *t, hs_opt_item *it, char *err, size_t errlen)
{
	if (!t->val || parse_decimal(t->val, t->val_len, 65535, &it->v1) < 0)
		return fail(err, errlen, "mss must be mss=0..65535: \"%.*s\"", t);
	it->kind = HS_OPTK_MSS;
	return 0;
}

static int parse_wscale(const item_text *t, hs_opt_item *it, char *err, size_t errlen)
{
	if (!t->val || parse_decimal(t->val, t->val_len, 14, &it->v1) < 0) {
		if (err && errlen) {
			if (t->val)
				snprintf(err, errlen, "wscale must be 0..14: \"%.*s\"", (int)t->val_len, t->val);
			else
				snprintf(err, errlen, "wscale needs a value: wscale=0..14");
		}
		return -1;
	}
	it->kind = HS_OPTK_WSCALE;
	return 0;
}

static int parse_ts(const item_text *t, hs_opt_item *it, char *err, size_t errlen)
{
	it->kind = HS_OPTK_TS;
	if (!t->val) {
		it->ts_auto = true;
		return 0;
	}
	const char *colon = memchr(t->val, ':', t->val_len);
	if (!colon || parse_decimal(t->val, (size_t)(colon - t->val), UINT32_MAX, &it->v1) < 0 ||
	    parse_decimal(colon + 1, t->val_len - (size_t)(colon + 1 - t->val), UINT32_MAX, &it->v2) < 0)
		return fail(err, errlen, "ts must be ts or ts=VAL:ECR (each 0..4294967295): \"%.*s\"", t);
	return 0;
}

static int parse_raw(const item_text *t, hs_opt_item *it, char *err, size_t errlen)
{
	const char *colon = t->val ? memchr(t->val, ':', t->val_len) : NULL;
	size_t kind_len = !t->val ? 0 : colon ? (size_t)(colon - t->val) : t->val_len;
	uint32_t kind;

	if (!t->val || parse_decimal(t->val, kind_len, 255, &kind) < 0)
		return fail(err, errlen, "raw must be raw=KIND:HEX with KIND 0..255: \"%.*s\"", t);
	it->raw = true;
	it->kind = (uint8_t)kind;
	if (!colon)
		return 0;
	const char *hex = colon + 1;
	size_t hex_len = t->val_len - kind_len - 1;
	if ((kind == HS_OPTK_EOL || kind == HS_OPTK_NOP) && hex_len > 0)
		return fail(err, errlen, "raw kinds 0 and 1 are one byte and take no data: \"%.*s\"", t);
	int n = parse_hex(hex, hex_len, it->data, HS_OPT_MAXLEN - 2);
	if (n < 0)
		return fail(err, errlen, "raw data must be an even number of hex digits, at most 38 bytes: \"%.*s\"", t);
	it->len = (uint8_t)n;
	return 0;
}

static int parse_tfo(const item_text *t, hs_opt_item *it, char *err, size_t errlen)
{
	it->kind = HS_OPTK_TFO;
	if (!t->val)
		return 0; /* cookie request */
	int n = parse_hex(t->val, t->val_len, it->data, MAX_TFO_COOKIE);
	if (n < 0)
		return fail(err, errlen, "tfo cookie must be an even number of hex digits, at most 16 bytes: \"%.*s\"", t);
	it->len = (uint8_t)n;
	return 0;
}

static int parse_item(const item_text *t, hs_opt_item *it, char *err, size_t errlen)
{
	memset(it, 0, sizeof(*it));
	if (name_is(t, "mss"))
		return parse_mss(t, it, err, errlen);
	if (name_is(t, "sack") || name_is(t, "sackok"))
		return parse_flag_item(t, HS_OPTK_SACKOK, it, err, errlen);
	if (name_is(t, "ts"))
		return parse_ts(t, it, err, errlen);
	if (name_is(t, "wscale"))
		return parse_wscale(t, it, err, errlen);
	if (name_is(t, "nop"))
		return parse_flag_item(t, HS_OPTK_NOP, it, err, errlen);
	if (name_is(t, "eol"))
		return parse_flag_item(t, HS_OPTK_EOL, it, err, errlen);
	if (name_is(t, "md5"))
		return parse_flag_item(t, HS_OPTK_MD5, it, err, errlen);
	if (name_is(t, "tfo"))
		return parse_tfo(t, it, err, errlen);
	if (name_is(t, "raw"))
		return parse_raw(t, it, err, errlen);
	if (err && errlen)
		snprintf(err, errlen, "unknown TCP option \"%.*s\" (known: " KNOWN_OPTS ")",
		         (int)t->name_len, t->name);
	return -1;
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		++*s;
		--*n;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		--*n;
}

int hs_opt_spec_parse(const char *s, hs_opt_spec *out, char *err, size_t errlen)
{
	size_t total = 0;

	memset(out, 0, sizeof(*out));
	if (!s)
		return 0;
	const char *p = s;
	size_t rest = strlen(s);
	trim(&p, &rest);
	if (rest == 0)
		return 0;
	for (;;) {
		const char *comma = memchr(p, ',', rest);
		item_text t = { .whole = p, .whole_len = comma ? (size_t)(comma - p) : rest };
		trim(&t.whole, &t.whole_len);
		if (t.whole_len == 0) {
			if (err && errlen)
				snprintf(err, errlen, "empty item in TCP option list \"%s\"", s);
			return -1;
		}
		const char *eq = memchr(t.whole, '=', t.whole_len);
		t.name = t.whole;
		t.name_len = eq ? (size_t)(eq - t.whole) : t.whole_len;
		if (eq) {
			t.val = eq + 1;
			t.val_len = t.whole_len - t.name_len - 1;
		}
		hs_opt_item it;
		if (parse_item(&t, &it, err, errlen) < 0)
			return -1;
		total += item_wire_len(&it);
		if (total > HS_OPT_MAXLEN || out->n >= HS_OPT_MAXLEN) {
			if (err && errlen)
				snprintf(err, errlen, "options exceed 40 bytes");
			return -1;
		}
		out->item[out->n++] = it;
		if (!comma)
			break;
		rest -= (size_t)(comma + 1 - p);
		p = comma + 1;
	}
	return 0;
}

void hs_opt_spec_default(hs_opt_spec *out)
{
	memset(out, 0, sizeof(*out));
	out->item[0].kind = HS_OPTK_MSS;
	out->item[0].v1 = 1460;
	out->item[1].kind = HS_OPTK_SACKOK;
	out->item[2].kind = HS_OPTK_TS;
	out->item[2].ts_auto = true;
	out->item[3].kind = HS_OPTK_NOP;
	out->item[4].kind = HS_OPTK_WSCALE;
	out->item[4].v1 = 7;
	out->n = 5;
}

/* ---- encoding ----------------------------------------------------------------------- */



static size_t put_ts(uint8_t *p, uint32_t val, uint32_t ecr)
{
	p[0] = HS_OPTK_TS;
	p[1] = LEN_TS;
	hs_put32(p + 2, val);
	hs_put32(p + 6, ecr);
	return LEN_TS;
}

/* Writes one item at p (room already checked). Returns its length. */
static size_t put_item(const hs_opt_item *it, uint32_t ts_val, uint32_t ts_ecr, uint8_t *p)
{
	size_t n = item_wire_len(it);

	if (n == 1) {
		p[0] = it->kind;
		return 1;
	}
	p[0] = it->kind;
	p[1] = (uint8_t)n;
	if (it->raw) {
		memcpy(p + 2, it->data, it->len);
		return n;
	}
	switch (it->kind) {
	case HS_OPTK_MSS:
		p[2] = (uint8_t)(it->v1 >> 8);
		p[3] = (uint8_t)it->v1;
		break;
	case HS_OPTK_WSCALE:
		p[2] = (uint8_t)it->v1;
		break;
	case HS_OPTK_TS:
		return it->ts_auto ? put_ts(p, ts_val, ts_ecr) : put_ts(p, it->v1, it->v2);
	case HS_OPTK_MD5:
		memset(p + 2, 0, LEN_MD5 - 2); /* placeholder digest: we hold no key */
		break;
	case HS_OPTK_SACKOK:
		break;
	default:
		memcpy(p + 2, it->data, it->len);
		break;
	}
	return n;
}

int hs_opt_spec_encode(const hs_opt_spec *spec, uint32_t ts_val, uint32_t ts_ecr,
                       uint8_t out[HS_OPT_MAXLEN], const char **err)
{
	size_t pos = 0;

	for (int i = 0; i < spec->n; i++) {
		const hs_opt_item *it = &spec->item[i];
		if (it->len > HS_OPT_MAXLEN - 2 || pos + item_wire_len(it) > HS_OPT_MAXLEN) {
			if (err)
				*err = "options exceed 40 bytes";
			return -1;
		}
		pos += put_item(it, ts_val, ts_ecr, out + pos);
	}
	while (pos % 4 != 0)
		out[pos++] = HS_OPTK_EOL;
	return (int)pos;
}

int hs_opts_encode_established(bool ts, uint32_t ts_val, uint32_t ts_ecr,
                               const hs_tcp_opts *sack_blocks, uint8_t out[HS_OPT_MAXLEN])
{
	size_t pos = 0;

	if (ts) {
		out[pos++] = HS_OPTK_NOP;
		out[pos++] = HS_OPTK_NOP;
		pos += put_ts(out + pos, ts_val, ts_ecr);
	}
	if (sack_blocks && sack_blocks->nsack > 0) {
		/* As many blocks as fit: 4 without timestamps, 3 with them. */
		size_t room = (HS_OPT_MAXLEN - pos - 4) / 8;
		size_t n = sack_blocks->nsack;
		if (n > HS_OPT_MAXSACK)
			n = HS_OPT_MAXSACK;
		if (n > room)
			n = room;
		out[pos++] = HS_OPTK_NOP;
		out[pos++] = HS_OPTK_NOP;
		out[pos++] = HS_OPTK_SACK;
		out[pos++] = (uint8_t)(2 + 8 * n);
		for (size_t i = 0; i < n; i++) {
			hs_put32(out + pos, sack_blocks->sack[i].left);
			hs_put32(out + pos + 4, sack_blocks->sack[i].right);
			pos += 8;
		}
	}
	return (int)pos;
}

/* ---- decoding ----------------------------------------------------------------------- */

/* Kind 254 carrying TFO (RFC 7413 before kind 34: ExID 0xF989, RFC 6994). */
static bool is_tfo_exp(uint8_t kind, uint8_t len, const uint8_t *body)
{
	return kind == HS_OPTK_EXP2 && len >= LEN_EXP_MIN && hs_get16(body) == HS_TFO_EXP_MAGIC;
}

/* Expected length check per kind; returns an error string or NULL. */
static const char *check_kind_len(uint8_t kind, uint8_t len, const uint8_t *body)
{
	switch (kind) {
	case HS_OPTK_MSS:
		return len == LEN_MSS ? NULL : "bad MSS option length";
	case HS_OPTK_WSCALE:
		return len == LEN_WSCALE ? NULL : "bad window scale option length";
	case HS_OPTK_SACKOK:
		return len == LEN_SACKOK ? NULL : "bad SACK-permitted option length";
	case HS_OPTK_TS:
		return len == LEN_TS ? NULL : "bad timestamp option length";
	case HS_OPTK_SACK:
		return (len >= 10 && (len - 2) % 8 == 0 && (len - 2) / 8 <= HS_OPT_MAXSACK) ? NULL
		       : "bad SACK option length";
	case HS_OPTK_MD5:
		return len == LEN_MD5 ? NULL : "bad MD5 option length";
	case HS_OPTK_TFO:
		return len <= 2 + MAX_TFO_COOKIE ? NULL : "bad TFO option length";
	case HS_OPTK_AO:
		return len >= LEN_AO_MIN ? NULL : "bad TCP-AO option length";
	case HS_OPTK_MPTCP:
		return len >= LEN_MPTCP_MIN ? NULL : "bad MPTCP option length";
	case HS_OPTK_EXP2:
		/* body is readable: walk_options checked len against the option space. */
		if (is_tfo_exp(kind, len, body) && len > LEN_EXP_MIN + MAX_TFO_COOKIE)
			return "bad TFO option length";
		return NULL;
	default:
		return NULL;
	}
}

/* Stores one well-formed option (kind, len >= 2, body of len - 2 bytes). */
static void store_option(hs_tcp_opts *o, uint8_t kind, uint8_t len, const uint8_t *body)
{
	switch (kind) {
	case HS_OPTK_MSS:
		o->has |= HS_HAS_MSS;
		o->mss = (uint16_t)(body[0] << 8 | body[1]);
		break;
	case HS_OPTK_WSCALE:
		o->has |= HS_HAS_WSCALE;
		o->wscale = body[0];
		break;
	case HS_OPTK_SACKOK:
		o->has |= HS_HAS_SACKOK;
		break;
	case HS_OPTK_TS:
		o->has |= HS_HAS_TS;
		o->ts_val = hs_get32(body);
		o->ts_ecr = hs_get32(body + 4);
		break;
	case HS_OPTK_SACK:
		o->has |= HS_HAS_SACK;
		o->nsack = (uint8_t)((len - 2) / 8);
		for (int i = 0; i < o->nsack; i++) {
			o->sack[i].left = hs_get32(body + 8 * i);
			o->sack[i].right = hs_get32(body + 8 * i + 4);
		}
		break;
	case HS_OPTK_MD5:
		o->has |= HS_HAS_MD5;
		break;
	case HS_OPTK_TFO:
		o->has |= HS_HAS_TFO;
		o->tfo_len = (uint8_t)(len - 2);
		memcpy(o->tfo_cookie, body, o->tfo_len);
		break;
	case HS_OPTK_AO:
		o->has |= HS_HAS_AO;
		break;
	case HS_OPTK_MPTCP:
		if (!(o->has & HS_HAS_MPTCP))
			o->mptcp_subtype = body[0] >> 4;
		o->has |= HS_HAS_MPTCP;
		break;
	default:
		if (is_tfo_exp(kind, len, body)) {
			o->has |= HS_HAS_TFO | HS_HAS_TFO_EXP;
			o->tfo_len = (uint8_t)(len - LEN_EXP_MIN);
			memcpy(o->tfo_cookie, body + 2, o->tfo_len);
			break;
		}
		o->has |= HS_HAS_UNKNOWN;
		break;
	}
}

/* Walks an option list; calls visit for each option (kind, len, body; len 1 for
 * EOL/NOP) until EOL or the end. Returns 0, or -1 with *err at the first fault and
 * *fault (if not NULL) at its offset. */
typedef void (*opt_visit)(void *ctx, uint8_t kind, uint8_t len, const uint8_t *body);

static int walk_options_at(const uint8_t *buf, size_t len, opt_visit visit, void *ctx, const char **err,
                           size_t *fault)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = buf[i];
		if (kind == HS_OPTK_EOL || kind == HS_OPTK_NOP) {
			visit(ctx, kind, 1, NULL);
			if (kind == HS_OPTK_EOL)
				return 0;
			i++;
			continue;
		}
		const char *e = NULL;
		if (i + 1 >= len)
			e = "TCP option length byte missing";
		else if (buf[i + 1] < 2)
			e = "TCP option length below 2";
		else if (buf[i + 1] > len - i)
			e = "TCP option overruns the option space";
		else
			e = check_kind_len(kind, buf[i + 1], buf + i + 2);
		if (e) {
			if (err)
				*err = e;
			if (fault)
				*fault = i;
			return -1;
		}
		visit(ctx, kind, buf[i + 1], buf + i + 2);
		i += buf[i + 1];
	}
	return 0;
}

static int walk_options(const uint8_t *buf, size_t len, opt_visit visit, void *ctx, const char **err)
{
	return walk_options_at(buf, len, visit, ctx, err, NULL);
}

static void decode_visit(void *ctx, uint8_t kind, uint8_t len, const uint8_t *body)
{
	if (len >= 2)
		store_option(ctx, kind, len, body);
}

int hs_opts_decode(const uint8_t *buf, size_t len, hs_tcp_opts *out, const char **err)
{
	memset(out, 0, sizeof(*out));
	out->raw_len = (uint8_t)(len < HS_OPT_MAXLEN ? len : HS_OPT_MAXLEN);
	if (out->raw_len)
		memcpy(out->raw, buf, out->raw_len);
	return walk_options(buf, len, decode_visit, out, err);
}

/* Serial-number order (RFC 1982), as SEQ_LT. */
static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

bool hs_opts_dsack(const hs_tcp_opts *o, const hs_opts_view *v)
{
	/* SACK blocks only mean something on an ACK; an empty block reports nothing. */
	if (!(o->has & HS_HAS_SACK) || o->nsack == 0 || !v || !v->has_ack)
		return false;
	uint32_t l0 = o->sack[0].left, r0 = o->sack[0].right;
	if (l0 == r0)
		return false;
	if (seq_lt(l0, v->ack))
		return true;
	if (o->nsack > 1 && o->nsack <= HS_OPT_MAXSACK) {
		uint32_t l1 = o->sack[1].left, r1 = o->sack[1].right;
		return !seq_lt(l0, l1) && !seq_lt(r1, r0);
	}
	return false;
}

/* ---- formatting ----------------------------------------------------------------------- */

/* Fields written as " name value" (text) or ,"name":value (JSON): one decoder of each
 * kind's body serves both. */
typedef struct emit {
	hs_sbuf *b;
	bool json;
} emit;

static void e_uint(emit *e, const char *name, uint64_t v)
{
	hs_sb_printf(e->b, e->json ? ",\"%s\":%llu" : " %s %llu", name, (unsigned long long)v);
}

static void e_hexnum(emit *e, const char *name, unsigned v)
{
	if (e->json)
		hs_sb_printf(e->b, ",\"%s\":%u", name, v);
	else
		hs_sb_printf(e->b, " %s 0x%x", name, v);
}

static void e_hex(emit *e, const char *name, const uint8_t *p, size_t n)
{
	hs_sb_printf(e->b, e->json ? ",\"%s\":\"" : " %s ", name);
	hs_sb_hex(e->b, p, n);
	if (e->json)
		hs_sb_printf(e->b, "\"");
}

static void e_flag(emit *e, const char *name)
{
	hs_sb_printf(e->b, e->json ? ",\"%s\":true" : " %s", name);
}

/* s: only letters, digits, '.', ':' (names, addresses): no escaping needed. */
static void e_str(emit *e, const char *name, const char *s)
{
	hs_sb_printf(e->b, e->json ? ",\"%s\":\"%s\"" : " %s %s", name, s);
}

/* A bounds-checked reader of an option's body (tcpdump's GET_ macros in spirit):
 * reading past the end yields 0 and marks the reader bad instead. */
typedef struct rd {
	const uint8_t *p;
	size_t n, i;
	bool bad;
} rd;

static bool rd_has(rd *r, size_t k)
{
	if (r->bad || k > r->n - r->i) {
		r->bad = true;
		return false;
	}
	return true;
}

static uint8_t rd8(rd *r)
{
	return rd_has(r, 1) ? r->p[r->i++] : 0;
}

static uint16_t rd16(rd *r)
{
	if (!rd_has(r, 2))
		return 0;
	r->i += 2;
	return hs_get16(r->p + r->i - 2);
}

static uint32_t rd32(rd *r)
{
	if (!rd_has(r, 4))
		return 0;
	r->i += 4;
	return hs_get32(r->p + r->i - 4);
}

static uint64_t rd64(rd *r)
{
	uint64_t hi = rd32(r);
	return hi << 32 | rd32(r);
}

/* k bytes, or NULL (and bad) when fewer are left. */
static const uint8_t *rd_bytes(rd *r, size_t k)
{
	if (!rd_has(r, k))
		return NULL;
	r->i += k;
	return r->p + r->i - k;
}

static void e_rdhex(emit *e, const char *name, rd *r, size_t k)
{
	const uint8_t *p = rd_bytes(r, k);
	if (p)
		e_hex(e, name, p, k);
}

static const char *const mptcp_names[16] = {
	"MP_CAPABLE", "MP_JOIN", "DSS", "ADD_ADDR", "REMOVE_ADDR", "MP_PRIO", "MP_FAIL",
	"MP_FASTCLOSE", "MP_TCPRST", NULL, NULL, NULL, NULL, NULL, NULL, "MP_EXPERIMENTAL",
};

/* MPTCP's body (RFC 8684 3), from the subtype byte on; n >= 1. The lengths each
 * subtype may have are checked first: anything else is shown as malformed with its
 * bytes. Returns false when malformed. */
static bool mptcp_fields(emit *e, const uint8_t *body, size_t n)
{
	rd r = { .p = body, .n = n };
	uint8_t st = body[0] >> 4, lo = body[0] & 0x0f;
	size_t len = n + 2; /* the option's length, as the RFC counts */
	bool ok = true;

	switch (st) {
	case 0: /* MP_CAPABLE (3.1): 4 (v1 SYN), 12, 20, 22, 24 */
		ok = len == 4 || len == 12 || len == 20 || len == 22 || len == 24;
		if (!ok)
			break;
		(void)rd8(&r);
		e_uint(e, "version", lo);
		e_hexnum(e, "flags", rd8(&r));
		if (len >= 12)
			e_rdhex(e, "key", &r, 8);
		if (len >= 20)
			e_rdhex(e, "peer_key", &r, 8);
		if (len >= 22)
			e_uint(e, "dlen", rd16(&r));
		if (len >= 24)
			e_hexnum(e, "csum", rd16(&r));
		break;
	case 1: /* MP_JOIN (3.2): 12 SYN, 16 SYN/ACK, 24 ACK */
		ok = len == 12 || len == 16 || len == 24;
		if (!ok)
			break;
		(void)rd8(&r);
		if (len == 12 || len == 16) {
			e_str(e, "phase", len == 12 ? "syn" : "synack");
			if (lo & 1)
				e_flag(e, "backup");
			e_uint(e, "id", rd8(&r));
			e_rdhex(e, len == 12 ? "token" : "hmac", &r, len == 12 ? 4 : 8);
			e_rdhex(e, "nonce", &r, 4);
		} else {
			e_str(e, "phase", "ack");
			(void)rd8(&r);
			e_rdhex(e, "hmac", &r, 20);
		}
		break;
	case 2: { /* DSS (3.3) */
		(void)rd8(&r);
		uint8_t f = rd8(&r);
		size_t need = 4 + ((f & 0x01) ? ((f & 0x02) ? 8 : 4) : 0) + ((f & 0x04) ? ((f & 0x08) ? 8 : 4) + 6 : 0);
		ok = len == need || ((f & 0x04) && len == need + 2);
		if (!ok)
			break;
		e_hexnum(e, "flags", f);
		if (f & 0x01)
			e_uint(e, "ack", (f & 0x02) ? rd64(&r) : rd32(&r));
		if (f & 0x04) {
			e_uint(e, "dsn", (f & 0x08) ? rd64(&r) : rd32(&r));
			e_uint(e, "ssn", rd32(&r));
			e_uint(e, "dlen", rd16(&r));
			if (len == need + 2)
				e_hexnum(e, "csum", rd16(&r));
		}
		if (f & 0x10)
			e_flag(e, "fin");
		break;
	}
	case 3: { /* ADD_ADDR (3.4.1); v0 (RFC 6824) put the IP version in the low bits */
		bool v0 = lo == 4 || lo == 6, echo = !v0 && (lo & 1);
		size_t rest = len >= 4 ? len - 4 : 0, hmac = (v0 || echo) ? 0 : 8;
		bool v6 = v0 ? lo == 6 : rest >= 16 + hmac;
		size_t alen = v6 ? 16 : 4;
		ok = len >= 4 && (rest == alen + hmac || rest == alen + 2 + hmac);
		if (!ok)
			break;
		(void)rd8(&r);
		if (echo)
			e_flag(e, "echo");
		e_uint(e, "id", rd8(&r));
		const uint8_t *a = rd_bytes(&r, alen);
		char txt[INET6_ADDRSTRLEN] = "?";
		if (a)
			inet_ntop(v6 ? AF_INET6 : AF_INET, a, txt, sizeof(txt));
		e_str(e, "addr", txt);
		if (rest == alen + 2 + hmac)
			e_uint(e, "port", rd16(&r));
		if (hmac)
			e_rdhex(e, "hmac", &r, 8);
		break;
	}
	case 4: /* REMOVE_ADDR (3.4.2): one or more address ids */
		ok = len >= 4;
		if (!ok)
			break;
		(void)rd8(&r);
		if (e->json) {
			hs_sb_printf(e->b, ",\"ids\":[");
			for (size_t i = 1; i < n; i++)
				hs_sb_printf(e->b, "%s%u", i > 1 ? "," : "", rd8(&r));
			hs_sb_printf(e->b, "]");
		} else {
			hs_sb_printf(e->b, " id");
			for (size_t i = 1; i < n; i++)
				hs_sb_printf(e->b, " %u", rd8(&r));
		}
		break;
	case 5: /* MP_PRIO (3.3.8): 3, or 4 with an address id (v0) */
		ok = len == 3 || len == 4;
		if (!ok)
			break;
		(void)rd8(&r);
		if (lo & 1)
			e_flag(e, "backup");
		if (len == 4)
			e_uint(e, "id", rd8(&r));
		break;
	case 6: /* MP_FAIL (3.7) */
		ok = len == 12;
		if (!ok)
			break;
		(void)rd16(&r);
		e_uint(e, "dsn", rd64(&r));
		break;
	case 7: /* MP_FASTCLOSE (3.5) */
		ok = len == 12;
		if (!ok)
			break;
		(void)rd16(&r);
		e_rdhex(e, "key", &r, 8);
		break;
	case 8: /* MP_TCPRST (3.6) */
		ok = len == 4;
		if (!ok)
			break;
		(void)rd8(&r);
		e_hexnum(e, "flags", lo);
		e_uint(e, "reason", rd8(&r));
		break;
	default:
		e_hex(e, "data", body, n);
		break;
	}
	if (!ok) {
		hs_sb_printf(e->b, e->json ? ",\"malformed\":\"length %zu\"" : " bad-length %zu", len);
		e_hex(e, "data", body, n);
	}
	return ok && !r.bad;
}

static void mptcp_head(emit *e, const uint8_t *body)
{
	uint8_t st = body[0] >> 4;
	const char *name = mptcp_names[st];

	if (e->json) {
		if (name)
			hs_sb_printf(e->b, "{\"subtype\":\"%s\",\"subtype_num\":%u", name, st);
		else
			hs_sb_printf(e->b, "{\"subtype\":\"unknown\",\"subtype_num\":%u", st);
	} else if (name) {
		hs_sb_printf(e->b, "mptcp %s", name);
	} else {
		hs_sb_printf(e->b, "mptcp subtype %u", st);
	}
}

/* TCP-AO (RFC 5925 2.2): KeyID, RNextKeyID, MAC. len >= 4 checked. */
static void ao_fields(emit *e, const uint8_t *body, size_t n)
{
	e_uint(e, "keyid", body[0]);
	e_uint(e, "rnext", body[1]);
	e_hex(e, "mac", body + 2, n - 2);
}

typedef struct text_ctx {
	hs_sbuf *b;
	int count;
	const hs_opts_view *v;
	bool dsack;      /* the first SACK block is a D-SACK */
	bool sack_seen;  /* the first SACK option was written */
} text_ctx;

static void text_sack(text_ctx *c, uint8_t len, const uint8_t *body)
{
	hs_sbuf *b = c->b;
	uint32_t base = c->v && c->v->rel ? c->v->base : 0;

	hs_sb_printf(b, "sack");
	for (int i = 0; i < (len - 2) / 8; i++) {
		hs_sb_printf(b, " %" PRIu32 "-%" PRIu32, hs_get32(body + 8 * i) - base, hs_get32(body + 8 * i + 4) - base);
		if (i == 0 && !c->sack_seen && c->dsack)
			hs_sb_printf(b, "(dsack)");
	}
	c->sack_seen = true;
}

static bool notable_kind(uint8_t kind)
{
	switch (kind) {
	case HS_OPTK_EOL: case HS_OPTK_NOP: case HS_OPTK_MSS: case HS_OPTK_WSCALE:
	case HS_OPTK_SACKOK: case HS_OPTK_TS:
		return false;
	default:
		return true;
	}
}

static void text_visit(void *vctx, uint8_t kind, uint8_t len, const uint8_t *body)
{
	text_ctx *c = vctx;
	hs_sbuf *b = c->b;
	emit e = { b, false };

	if (c->v && c->v->notable && !notable_kind(kind))
		return;
	if (c->count++)
		hs_sb_printf(b, ",");
	switch (kind) {
	case HS_OPTK_EOL:
		hs_sb_printf(b, "eol");
		break;
	case HS_OPTK_NOP:
		hs_sb_printf(b, "nop");
		break;
	case HS_OPTK_MSS:
		hs_sb_printf(b, "mss %u", (unsigned)(body[0] << 8 | body[1]));
		break;
	case HS_OPTK_WSCALE:
		hs_sb_printf(b, "wscale %u", body[0]);
		break;
	case HS_OPTK_SACKOK:
		hs_sb_printf(b, "sackOK");
		break;
	case HS_OPTK_TS:
		hs_sb_printf(b, "ts %" PRIu32 " %" PRIu32, hs_get32(body), hs_get32(body + 4));
		break;
	case HS_OPTK_SACK:
		text_sack(c, len, body);
		break;
	case HS_OPTK_MD5:
		hs_sb_printf(b, "md5");
		if (body) { /* NULL: built from fields, no digest known */
			hs_sb_printf(b, " ");
			hs_sb_hex(b, body, len - 2u);
		}
		break;
	case HS_OPTK_TFO:
		hs_sb_printf(b, "tfo");
		if (len > 2) {
			hs_sb_printf(b, " ");
			hs_sb_hex(b, body, len - 2u);
		} else {
			hs_sb_printf(b, " cookiereq");
		}
		break;
	case HS_OPTK_AO:
		hs_sb_printf(b, "ao");
		ao_fields(&e, body, len - 2u);
		break;
	case HS_OPTK_MPTCP:
		mptcp_head(&e, body);
		(void)mptcp_fields(&e, body, len - 2u);
		break;
	default:
		if (is_tfo_exp(kind, len, body)) {
			hs_sb_printf(b, "tfo-exp");
			if (len > LEN_EXP_MIN) {
				hs_sb_printf(b, " ");
				hs_sb_hex(b, body + 2, len - (size_t)LEN_EXP_MIN);
			} else {
				hs_sb_printf(b, " cookiereq");
			}
			break;
		}
		hs_sb_printf(b, "kind %u:", kind);
		if (len > 2) {
			hs_sb_printf(b, " ");
			hs_sb_hex(b, body, len - 2u);
		}
		break;
	}
}

/* Options built by hand (no raw bytes): show the fields in Linux order. */
static void text_from_fields(const hs_tcp_opts *o, text_ctx *c)
{
	uint8_t body[2 + 8 * HS_OPT_MAXSACK];

	if (o->has & HS_HAS_MSS) {
		body[0] = (uint8_t)(o->mss >> 8);
		body[1] = (uint8_t)o->mss;
		text_visit(c, HS_OPTK_MSS, LEN_MSS, body);
	}
	if (o->has & HS_HAS_SACKOK)
		text_visit(c, HS_OPTK_SACKOK, LEN_SACKOK, body);
	if (o->has & HS_HAS_TS) {
		hs_put32(body, o->ts_val);
		hs_put32(body + 4, o->ts_ecr);
		text_visit(c, HS_OPTK_TS, LEN_TS, body);
	}
	if (o->has & HS_HAS_WSCALE) {
		body[0] = o->wscale;
		text_visit(c, HS_OPTK_WSCALE, LEN_WSCALE, body);
	}
	if (o->has & HS_HAS_SACK) {
		int n = o->nsack <= HS_OPT_MAXSACK ? o->nsack : HS_OPT_MAXSACK;
		for (int i = 0; i < n; i++) {
			hs_put32(body + 8 * i, o->sack[i].left);
			hs_put32(body + 8 * i + 4, o->sack[i].right);
		}
		text_visit(c, HS_OPTK_SACK, (uint8_t)(2 + 8 * n), body);
	}
	if (o->has & HS_HAS_TFO) {
		uint8_t n = o->tfo_len <= MAX_TFO_COOKIE ? o->tfo_len : MAX_TFO_COOKIE;
		text_visit(c, HS_OPTK_TFO, (uint8_t)(2 + n), o->tfo_cookie);
	}
	if (o->has & HS_HAS_MD5)
		text_visit(c, HS_OPTK_MD5, LEN_MD5, NULL);
}

const char *hs_opts_format_view(const hs_tcp_opts *o, const hs_opts_view *v, char *buf, size_t len)
{
	hs_sbuf b = { .p = buf, .len = len };
	text_ctx c = { .b = &b, .v = v, .dsack = hs_opts_dsack(o, v) };

	if (len)
		buf[0] = '\0';
	if (o->raw_len == 0) {
		text_from_fields(o, &c);
		return buf;
	}
	size_t n = o->raw_len <= HS_OPT_MAXLEN ? o->raw_len : HS_OPT_MAXLEN, at = 0;
	const char *why = NULL;
	if (walk_options_at(o->raw, n, text_visit, &c, &why, &at) < 0 && at < n) {
		/* What is wrong, and the bytes from the faulty option on (all inside raw). */
		hs_sb_printf(&b, "%sbad-opt (%s) ", c.count ? "," : "", why);
		hs_sb_hex(&b, o->raw + at, n - at);
	}
	return buf;
}

const char *hs_opts_format(const hs_tcp_opts *o, char *buf, size_t len)
{
	return hs_opts_format_view(o, NULL, buf, len);
}

/* The JSON keys that come from the raw bytes: one pass per key, in wire order. */
typedef struct json_ctx {
	emit e;
	int key;          /* which key this pass writes */
	int n;            /* items written in this pass */
	const char *sep;  /* before the first key this pass writes */
} json_ctx;

enum { JK_UNKNOWN, JK_UNKNOWN_OPTS, JK_MD5, JK_MPTCP, JK_AO };

static bool is_unknown(uint8_t kind, uint8_t len, const uint8_t *body)
{
	switch (kind) {
	case HS_OPTK_EOL: case HS_OPTK_NOP: case HS_OPTK_MSS: case HS_OPTK_WSCALE: case HS_OPTK_SACKOK:
	case HS_OPTK_SACK: case HS_OPTK_TS: case HS_OPTK_MD5: case HS_OPTK_TFO: case HS_OPTK_AO:
	case HS_OPTK_MPTCP:
		return false;
	default:
		return !is_tfo_exp(kind, len, body);
	}
}

static void json_visit(void *vctx, uint8_t kind, uint8_t len, const uint8_t *body)
{
	json_ctx *c = vctx;
	hs_sbuf *b = c->e.b;

	if (len < 2)
		return;
	switch (c->key) {
	case JK_UNKNOWN:
		if (is_unknown(kind, len, body))
			hs_sb_printf(b, "%s%u", c->n++ ? "," : "", kind);
		break;
	case JK_UNKNOWN_OPTS:
		if (is_unknown(kind, len, body)) {
			hs_sb_printf(b, "%s{\"kind\":%u,\"data\":\"", c->n++ ? "," : "", kind);
			hs_sb_hex(b, body, len - 2u);
			hs_sb_printf(b, "\"}");
		}
		break;
	case JK_MD5:
		if (kind == HS_OPTK_MD5 && c->n++ == 0) {
			hs_sb_printf(b, ",\"md5_digest\":\"");
			hs_sb_hex(b, body, len - 2u);
			hs_sb_printf(b, "\"");
		}
		break;
	case JK_MPTCP:
		if (kind == HS_OPTK_MPTCP) {
			if (c->n++)
				hs_sb_printf(b, ",");
			mptcp_head(&c->e, body);
			(void)mptcp_fields(&c->e, body, len - 2u);
			hs_sb_printf(b, "}");
		}
		break;
	case JK_AO:
		if (kind == HS_OPTK_AO && c->n++ == 0) {
			hs_sb_printf(b, "%s\"ao\":{\"keyid\":%u,\"rnext\":%u,\"mac\":\"", c->sep, body[0], body[1]);
			hs_sb_hex(b, body + 2, len - 4u);
			hs_sb_printf(b, "\"}");
		}
		break;
	}
}

/* One pass of json_visit over the raw bytes; returns how many items it wrote. */
static int json_pass(const hs_tcp_opts *o, hs_sbuf *b, int key, const char *sep)
{
	json_ctx c = { .e = { b, true }, .key = key, .sep = sep };
	size_t n = o->raw_len <= HS_OPT_MAXLEN ? o->raw_len : HS_OPT_MAXLEN;

	(void)walk_options(o->raw, n, json_visit, &c, NULL);
	return c.n;
}

const char *hs_opts_format_json_view(const hs_tcp_opts *o, const hs_opts_view *v, char *buf, size_t len)
{
	hs_sbuf b = { .p = buf, .len = len };
	const char *sep = "";

	if (len)
		buf[0] = '\0';
	hs_sb_printf(&b, "{");
	if (o->has & HS_HAS_MSS) {
		hs_sb_printf(&b, "\"mss\":%u", o->mss);
		sep = ",";
	}
	if (o->has & HS_HAS_SACKOK) {
		hs_sb_printf(&b, "%s\"sack\":true", sep);
		sep = ",";
	}
	if (o->has & HS_HAS_TS) {
		hs_sb_printf(&b, "%s\"ts\":[%" PRIu32 ",%" PRIu32 "]", sep, o->ts_val, o->ts_ecr);
		sep = ",";
	}
	if (o->has & HS_HAS_WSCALE) {
		hs_sb_printf(&b, "%s\"wscale\":%u", sep, o->wscale);
		sep = ",";
	}
	if (o->has & HS_HAS_SACK) {
		int n = o->nsack <= HS_OPT_MAXSACK ? o->nsack : HS_OPT_MAXSACK;
		hs_sb_printf(&b, "%s\"sack_blocks\":[", sep);
		for (int i = 0; i < n; i++)
			hs_sb_printf(&b, "%s[%" PRIu32 ",%" PRIu32 "]", i ? "," : "", o->sack[i].left, o->sack[i].right);
		hs_sb_printf(&b, "]");
		if (v && v->rel) {
			hs_sb_printf(&b, ",\"rsack_blocks\":[");
			for (int i = 0; i < n; i++)
				hs_sb_printf(&b, "%s[%" PRIu32 ",%" PRIu32 "]", i ? "," : "", o->sack[i].left - v->base,
				             o->sack[i].right - v->base);
			hs_sb_printf(&b, "]");
		}
		if (hs_opts_dsack(o, v))
			hs_sb_printf(&b, ",\"dsack\":true");
		sep = ",";
	}
	if (o->has & HS_HAS_TFO) {
		hs_sb_printf(&b, "%s\"tfo\":\"", sep);
		hs_sb_hex(&b, o->tfo_cookie, o->tfo_len <= MAX_TFO_COOKIE ? o->tfo_len : MAX_TFO_COOKIE);
		hs_sb_printf(&b, "\"");
		if (o->tfo_len == 0)
			hs_sb_printf(&b, ",\"tfo_request\":true");
		if (o->has & HS_HAS_TFO_EXP)
			hs_sb_printf(&b, ",\"tfo_exp\":true");
		sep = ",";
	}
	if (o->has & HS_HAS_MD5) {
		hs_sb_printf(&b, "%s\"md5\":true", sep);
		if (o->raw_len)
			(void)json_pass(o, &b, JK_MD5, "");
		sep = ",";
	}
	if ((o->has & HS_HAS_MPTCP) && o->raw_len) {
		hs_sb_printf(&b, "%s\"mptcp\":[", sep);
		(void)json_pass(o, &b, JK_MPTCP, "");
		hs_sb_printf(&b, "]");
		sep = ",";
	}
	if ((o->has & HS_HAS_AO) && o->raw_len) {
		(void)json_pass(o, &b, JK_AO, sep);
		sep = ",";
	}
	if (o->has & HS_HAS_UNKNOWN) {
		hs_sb_printf(&b, "%s\"unknown\":[", sep);
		(void)json_pass(o, &b, JK_UNKNOWN, "");
		hs_sb_printf(&b, "],\"unknown_opts\":[");
		(void)json_pass(o, &b, JK_UNKNOWN_OPTS, "");
		hs_sb_printf(&b, "]");
		sep = ",";
	}
	if (o->raw_len) {
		const char *why = NULL;
		size_t n = o->raw_len <= HS_OPT_MAXLEN ? o->raw_len : HS_OPT_MAXLEN;
		if (walk_options(o->raw, n, json_visit, &(json_ctx){ .e = { &b, true }, .key = -1 }, &why) < 0)
			hs_sb_printf(&b, "%s\"malformed\":\"%s\"", sep, why);
	}
	hs_sb_printf(&b, "}");
	/* A cut-off object is not JSON: fall back to an empty one. */
	if (b.full && len >= 3)
		memcpy(buf, "{}", 3);
	return buf;
}

const char *hs_opts_format_json(const hs_tcp_opts *o, char *buf, size_t len)
{
	return hs_opts_format_json_view(o, NULL, buf, len);
}
