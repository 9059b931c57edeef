/* Segment notation and field edits (lib/notation.c): parsing, errors, formatting,
 * and the round trip format -> parse. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/notation.h"
#include "hs/payload.h"
#include "tap.h"

#define ISS 1000000u
#define IRS 4294967000u /* close to the wrap, on purpose */
#define TS_VAL 7u       /* what "ts" (ts_auto) is encoded with here */
#define TS_ECR 9u

/* Hex text into bytes; returns the count. */
static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < max; hex += 2)
		out[n++] = (uint8_t)(hs_hex_digit(hex[0]) << 4 | hs_hex_digit(hex[1]));
	return n;
}

/* The wire bytes of a spec's options, as hex ("" for none). */
static const char *opts_hex(const hs_opt_spec *spec, char *buf, size_t len)
{
	uint8_t wire[HS_OPT_MAXLEN];
	const char *why = NULL;
	int n = hs_opt_spec_encode(spec, TS_VAL, TS_ECR, wire, &why);

	buf[0] = '\0';
	if (n < 0)
		return "(over 40 bytes)";
	for (int i = 0; i < n && (size_t)(2 * i + 2) < len; i++)
		snprintf(buf + 2 * i, 3, "%02x", wire[i]);
	return buf;
}

/* ---- good notation ------------------------------------------------------------------ */

static const struct good_case {
	const char *text;
	int flags;          /* -1: not given */
	int seq;            /* -1: not given (REL otherwise) */
	int len;            /* -1: not given */
	int ack_how;
	unsigned ack;
	int win, urg;       /* -1: not given */
	const char *opts;   /* NULL: not given; else the encoded bytes as hex */
} good[] = {
	{ "S 0:0(0) win 64240 <mss 1460,sackOK,TS val 123 ecr 0,nop,wscale 7>", HS_SYN, 0, 0, 0, 0, 64240, -1,
	  "020405b4" "0402" "080a0000007b00000000" "01" "030307" },
	{ "S. 0:0(0) ack 1 win 65160 <mss 1460,nop,nop,sackOK,nop,wscale 7>", HS_SYN | HS_ACK, 0, 0,
	  HS_NUM_REL, 1, 65160, -1, "020405b401010402" "01030307" },
	{ ". 1:1(0) ack 1 win 502 <nop,nop,TS val 5 ecr 7>", HS_ACK, 1, 0, HS_NUM_REL, 1, 502, -1,
	  "0101080a0000000500000007" },
	{ "P. 1:6(5) ack 1 win 502", HS_PSH | HS_ACK, 1, 5, HS_NUM_REL, 1, 502, -1, NULL },
	{ "F. 6:6(0) ack 1", HS_FIN | HS_ACK, 6, 0, HS_NUM_REL, 1, -1, -1, NULL },
	{ "R 7:7(0)", HS_RST, 7, 0, 0, 0, -1, -1, NULL },
	{ "R", HS_RST, -1, -1, 0, 0, -1, -1, NULL },
	{ "  R.\t", HS_RST | HS_ACK, -1, -1, 0, 0, -1, -1, NULL },
	{ "- 5:5(0)", 0, 5, 0, 0, 0, -1, -1, NULL },
	{ "none", 0, -1, -1, 0, 0, -1, -1, NULL },
	{ "SYN,ACK 0:0(0)", HS_SYN | HS_ACK, 0, 0, 0, 0, -1, -1, NULL },
	{ "SEW 0:0(0) win 10", HS_SYN | HS_ECE | HS_CWR, 0, 0, 0, 0, 10, -1, NULL },
	{ "SAEC", HS_SYN | HS_ACK | HS_ECE | HS_CWR, -1, -1, 0, 0, -1, -1, NULL },
	{ "PU. 1:2(1) ack 3 urg 1 win 9", HS_PSH | HS_URG | HS_ACK, 1, 1, HS_NUM_REL, 3, 9, 1, NULL },
	{ "P. 1:2(1) urg 65535", HS_PSH | HS_ACK, 1, 1, 0, 0, -1, 65535, NULL },
	{ ". ack +5", HS_ACK, -1, -1, HS_NUM_FWD, 5, -1, -1, NULL },
	{ ". ack -1 win 0", HS_ACK, -1, -1, HS_NUM_BACK, 1, 0, -1, NULL },
	{ ". ack =0xdeadbeef", HS_ACK, -1, -1, HS_NUM_ABS, 0xdeadbeef, -1, -1, NULL },
	{ ". 4294967295:4(5)", HS_ACK, -1 /* checked below */, 5, 0, 0, -1, -1, NULL },
	{ "P. 0x10:0x15(0x5)", HS_PSH | HS_ACK, 16, 5, 0, 0, -1, -1, NULL },
	{ "P. 1:65496(65495)", HS_PSH | HS_ACK, 1, 65495, 0, 0, -1, -1, NULL },
	{ ". 1:1(0) ack 4294967295", HS_ACK, 1, 0, HS_NUM_REL, 4294967295u, -1, -1, NULL },
	{ "S 0:0(0) <>", HS_SYN, 0, 0, 0, 0, -1, -1, "" },
	{ "S 0:0(0) < >", HS_SYN, 0, 0, 0, 0, -1, -1, "" },
	{ "S<mss 536>", HS_SYN, -1, -1, 0, 0, -1, -1, "02040218" },
	{ "S 0:0(0) win 0<nop>", HS_SYN, 0, 0, 0, 0, 0, -1, "01000000" },
	{ "S 0:0(0) <MSS 1460, SACKOK ,ts , nop,WSCALE 14>", HS_SYN, 0, 0, 0, 0, -1, -1,
	  "020405b4" "0402" "080a0000000700000009" "01" "03030e" },
	{ "S 0:0(0) <mss=1460,sackok,ts=1:2,wscale=7,raw=253:beef>", HS_SYN, 0, 0, 0, 0, -1, -1,
	  "020405b4" "0402" "080a0000000100000002" "030307" "fd04beef" "00" },
	{ ". 1:1(0) ack 1 <nop,nop,sack 1:2 3:4>", HS_ACK, 1, 0, HS_NUM_REL, 1, -1, -1,
	  "0101" "0512" "0000000100000002" "0000000300000004" },
	{ ". 1:1(0) <sack 1:2 3:4 5:6 4294967295:0>", HS_ACK, 1, 0, 0, 0, -1, -1,
	  "0522" "0000000100000002" "0000000300000004" "0000000500000006" "ffffffff00000000" "0000" },
	{ "S 0:0(0) <md5>", HS_SYN, 0, 0, 0, 0, -1, -1, "1312" "00000000000000000000000000000000" "0000" },
	{ "S 0:0(0) <md5 000102030405060708090a0b0c0d0e0f>", HS_SYN, 0, 0, 0, 0, -1, -1,
	  "1312" "000102030405060708090a0b0c0d0e0f" "0000" },
	{ "S 0:0(0) <FO>", HS_SYN, 0, 0, 0, 0, -1, -1, "22020000" },
	{ "S 0:0(0) <FO 0102030405060708>", HS_SYN, 0, 0, 0, 0, -1, -1, "220a0102030405060708" "0000" },
	{ "S 0:0(0) <tfo>", HS_SYN, 0, 0, 0, 0, -1, -1, "22020000" },
	{ "S 0:0(0) <eol>", HS_SYN, 0, 0, 0, 0, -1, -1, "00000000" },
	{ "S 0:0(0) <raw=1,raw=0,raw=30>", HS_SYN, 0, 0, 0, 0, -1, -1, "01001e02" },
	{ "S 0:0(0) <nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,"
	  "nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop>", HS_SYN, 0, 0, 0, 0,
	  -1, -1, "01010101010101010101010101010101010101010101010101010101010101010101010101010101" },
};

static void check_good(const struct good_case *c)
{
	hs_seg_spec sp;
	char err[256], what[300], hex[128];

	hs_seg_spec_init(&sp);
	snprintf(what, sizeof(what), "parse \"%s\"", c->text);
	int rc = hs_notation_parse(c->text, &sp, err, sizeof(err));
	EQ_INT(rc, 0, what);
	if (rc != 0) {
		printf("#   %s\n", err);
		return;
	}
	OK(sp.have_flags && sp.flags == (c->flags < 0 ? 0 : c->flags), "  flags");
	if (c->seq >= 0)
		OK(sp.seq.how == HS_NUM_REL && sp.seq.v == (uint32_t)c->seq, "  seq");
	else if (c->len < 0)
		EQ_INT(sp.seq.how, HS_NUM_UNSET, "  seq not given");
	EQ_INT(sp.have_len, c->len >= 0, "  len given");
	if (c->len >= 0)
		EQ_INT(sp.len, c->len, "  len");
	EQ_INT(sp.ack.how, c->ack_how, "  ack how");
	if (c->ack_how)
		EQ_INT(sp.ack.v, c->ack, "  ack");
	EQ_INT(sp.have_win, c->win >= 0, "  win given");
	if (c->win >= 0)
		EQ_INT(sp.win, c->win, "  win");
	EQ_INT(sp.have_urg, c->urg >= 0, "  urg given");
	if (c->urg >= 0)
		EQ_INT(sp.urg, c->urg, "  urg");
	EQ_INT(sp.have_opts, c->opts != NULL, "  options given");
	if (c->opts)
		EQ_STR(opts_hex(&sp.opts, hex, sizeof(hex)), c->opts, "  option bytes");
}

static void test_notation_good(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		check_good(&good[i]);

	/* The wrap: START:END modulo 2^32. */
	hs_seg_spec sp;
	char err[256];
	hs_seg_spec_init(&sp);
	EQ_INT(hs_notation_parse(". 4294967295:4(5)", &sp, err, sizeof(err)), 0, "END wraps past 2^32");
	EQ_INT(sp.seq.v, 4294967295u, "  START kept");

	/* Only what the text gives is set. */
	hs_seg_spec_init(&sp);
	sp.have_win = true;
	sp.win = 77;
	sp.ip.set_ttl = true;
	EQ_INT(hs_notation_parse("R 1:1(0)", &sp, err, sizeof(err)), 0, "R over a spec");
	OK(sp.have_win && sp.win == 77 && sp.ip.set_ttl, "  other fields untouched");
}

/* ---- notation errors ------------------------------------------------------------------- */

static const struct bad_case {
	const char *text;
	const char *want; /* part of the message */
} bad[] = {
	{ "S. 0:x(0)", "bad segment \"S. 0:x(0)\": sequence \"0:x(0)\" is not START:END(LEN)" },
	{ "", "no flags" },
	{ "   ", "no flags" },
	{ "<mss 1>", "no flags" },
	{ "SX 0:0(0)", "flags \"SX\": unknown flag 'X'" },
	{ "s 0:0(0)", "unknown flag 's'" },
	{ "SS 0:0(0)", "'S' given twice" },
	{ "SYN,FOO", "unknown flag" },
	{ "S 0:1(0)", "END is not START+LEN (0)" },
	{ "P. 1:5(5)", "END is not START+LEN (6)" },
	{ "P. 1:65497(65496)", "LEN is over 65495" },
	{ "S 4294967296:4294967296(0)", "START and END are 0 .. 4294967295" },
	{ "S 0:0(0", "is not START:END(LEN)" },
	{ "S 0:0()", "is not START:END(LEN)" },
	{ "S 0:0(0)x", "is not START:END(LEN)" },
	{ "S 0(0):0", "is not START:END(LEN)" },
	{ "S 0::0(0)", "is not START:END(LEN)" },
	{ "S -1:0(0)", "unknown word \"-1:0(0)\"" },
	{ "S win 5 0:0(0)", "must come right after the flags" },
	{ ". ack", "\"ack\" needs a number" },
	{ ". ack x", "number \"x\" is not N, +N, -N or =N" },
	{ ". ack 4294967296", "number \"4294967296\" is over 4294967295" },
	{ ". ack 1 ack 2", "\"ack\" given twice" },
	{ ". win 65536", "win \"65536\" is over 65535" },
	{ ". win -1", "win \"-1\" is not a number" },
	{ ". urg 70000", "urg \"70000\" is over 65535" },
	{ ". win 1 win 2", "\"win\" given twice" },
	{ ". 1:1(0) foo", "unknown word \"foo\"" },
	{ ". 1:1(0) <nop", "options \"<nop\" have no closing '>'" },
	{ ". 1:1(0) <nop<nop>", "have no closing '>'" },
	{ ". 1:1(0) <nop> junk", "\"junk\" after the options" },
	{ ". 1:1(0) <nop><nop>", "\"<nop>\" after the options" },
	{ ". 1:1(0) <nop,,nop>", "empty option" },
	{ ". 1:1(0) <nop,>", "empty option" },
	{ ". 1:1(0) <foo>", "unknown option \"foo\"" },
	{ ". 1:1(0) <nop 1>", "option \"nop 1\" takes no value" },
	{ ". 1:1(0) <mss>", "\"mss\" is not mss N" },
	{ ". 1:1(0) <mss 65536>", "mss \"65536\" is over 65535" },
	{ ". 1:1(0) <wscale 256>", "wscale \"256\" is over 255" },
	{ ". 1:1(0) <TS val 1>", "is not TS val N ecr N" },
	{ ". 1:1(0) <TS val 1 ecr x>", "TS ecr \"x\" is not a number" },
	{ ". 1:1(0) <TS val 4294967296 ecr 0>", "TS val \"4294967296\" is over 4294967295" },
	{ ". 1:1(0) <sack>", "\"sack\" needs blocks L:R" },
	{ ". 1:1(0) <sack 1-2>", "SACK block \"1-2\" is not L:R" },
	{ ". 1:1(0) <sack 1:2 3:4 5:6 7:8 9:10>", "at most 4 SACK blocks" },
	{ ". 1:1(0) <md5 00>", "is not md5 [HEX]" },
	{ ". 1:1(0) <FO 0>", "is not FO [HEX]" },
	{ ". 1:1(0) <bytes 08>", "cannot be sent" },
	{ ". 1:1(0) <mss=99999>", "mss must be mss=0..65535" },
	{ ". 1:1(0) <raw=300:00>", "raw must be raw=KIND:HEX" },
	{ ". 1:1(0) <TS val 1 ecr 2,TS val 1 ecr 2,TS val 1 ecr 2,TS val 1 ecr 2,nop>", "options over 40 bytes" },
	{ ". 1:1(0) <sack 1:2 3:4 5:6 7:8,nop,nop,nop,nop,nop,nop,nop>", "options over 40 bytes at \"nop\"" },
	{ ". 1:1(0) <...>", "unknown option \"...\"" },
	{ "S\n0:0(0) \"x", "bad segment \"S?0:0(0) ?x\"" },
};

static void test_notation_errors(void)
{
	char err[256], what[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hs_seg_spec sp, before;
		hs_seg_spec_init(&sp);
		sp.have_win = true;
		sp.win = 5;
		memcpy(&before, &sp, sizeof(sp));
		snprintf(what, sizeof(what), "refuse \"%s\"", bad[i].text);
		err[0] = '\0';
		EQ_INT(hs_notation_parse(bad[i].text, &sp, err, sizeof(err)), -1, what);
		OK(strstr(err, bad[i].want) != NULL, "  message");
		if (!strstr(err, bad[i].want))
			printf("#   got \"%s\", want \"%s\"\n", err, bad[i].want);
		OK(strncmp(err, "bad segment \"", 13) == 0 && !strchr(err, '\n'), "  one line, names the segment");
		OK(memcmp(&sp, &before, sizeof(sp)) == 0, "  spec untouched");
	}
	/* Small or no room for the message. */
	hs_seg_spec sp;
	char tiny[6];
	hs_seg_spec_init(&sp);
	EQ_INT(hs_notation_parse("S 0:x(0)", &sp, tiny, sizeof(tiny)), -1, "tiny error buffer");
	EQ_STR(tiny, "bad s", "  cut short, NUL-terminated");
	EQ_INT(hs_notation_parse("S 0:x(0)", &sp, NULL, 0), -1, "no error buffer");
	/* A long text is cut in the message. */
	char longtext[400];
	memset(longtext, 'S', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	EQ_INT(hs_notation_parse(longtext, &sp, err, sizeof(err)), -1, "long text refused");
	OK(strstr(err, "...\"") != NULL && strlen(err) < sizeof(err) - 1, "  quoted with \"...\"");
}

/* ---- flags and numbers ------------------------------------------------------------------- */

static void test_notation_flags(void)
{
	static const struct {
		const char *text;
		int flags; /* -1: refused */
	} cases[] = {
		{ "S", HS_SYN }, { "S.", HS_SYN | HS_ACK }, { "SA", HS_SYN | HS_ACK }, { ".", HS_ACK },
		{ "FSRP.UEW", 0xff }, { "FSRPAUEC", 0xff }, { "none", 0 }, { "NONE", 0 }, { "0", 0 },
		{ "-", 0 }, { "SYN,ACK", HS_SYN | HS_ACK }, { "syn|ack", HS_SYN | HS_ACK },
		{ "fin+ack", HS_FIN | HS_ACK }, { "ECE", HS_ECE }, { "CWR", HS_CWR }, { "ECE,CWR", 0xc0 },
		{ "URG", HS_URG }, { "RST", HS_RST }, { "PSH", HS_PSH }, { " P. ", HS_PSH | HS_ACK },
		{ "", -1 }, { "X", -1 }, { "S.S", -1 }, { "SYN,", -1 }, { "SYN,,ACK", -1 }, { "syn ack", -1 },
		{ "AE", HS_ACK | HS_ECE }, { "s", -1 }, { "1", -1 },
	};
	char err[256], what[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t f = 0x5a;
		snprintf(what, sizeof(what), "flags \"%s\"", cases[i].text);
		int rc = hs_flags_parse(cases[i].text, &f, err, sizeof(err));
		if (cases[i].flags < 0) {
			OK(rc == -1 && f == 0x5a && strncmp(err, "flags \"", 7) == 0, what);
		} else {
			OK(rc == 0 && f == cases[i].flags, what);
		}
	}
}

static void test_notation_num(void)
{
	static const struct {
		const char *text;
		int how; /* -1: refused */
		uint32_t v;
	} cases[] = {
		{ "0", HS_NUM_REL, 0 }, { "5", HS_NUM_REL, 5 }, { "+5", HS_NUM_FWD, 5 }, { "-5", HS_NUM_BACK, 5 },
		{ "=5", HS_NUM_ABS, 5 }, { "4294967295", HS_NUM_REL, 4294967295u }, { "0x10", HS_NUM_REL, 16 },
		{ "=0xFFFFFFFF", HS_NUM_ABS, 0xffffffffu }, { " 7 ", HS_NUM_REL, 7 },
		{ "00000000000000000001", HS_NUM_REL, 1 },
		{ "4294967296", -1, 0 }, { "0x100000000", -1, 0 }, { "", -1, 0 }, { "+", -1, 0 }, { "0x", -1, 0 },
		{ "1e3", -1, 0 }, { "++1", -1, 0 }, { "+-1", -1, 0 }, { "1 2", -1, 0 }, { "99999999999999999999999", -1, 0 },
	};
	char err[256], what[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hs_num n = { .how = 99, .v = 1 };
		snprintf(what, sizeof(what), "number \"%s\"", cases[i].text);
		int rc = hs_num_parse(cases[i].text, &n, err, sizeof(err));
		if (cases[i].how < 0)
			OK(rc == -1 && n.how == 99 && strncmp(err, "number \"", 8) == 0, what);
		else
			OK(rc == 0 && n.how == cases[i].how && n.v == cases[i].v, what);
	}
	EQ_INT(hs_num_parse("99999999999", &(hs_num){ 0 }, err, sizeof(err)), -1, "too big");
	EQ_STR(err, "number \"99999999999\" is over 4294967295", "  message");
}

static void test_notation_resolve(void)
{
	hs_num n = { HS_NUM_UNSET, 5 };

	EQ_INT(hs_num_resolve(&n, 100, 200, 300), 300, "unset: the default");
	n.how = HS_NUM_REL;
	EQ_INT(hs_num_resolve(&n, 100, 200, 300), 105, "N: after the ISN");
	n.how = HS_NUM_FWD;
	EQ_INT(hs_num_resolve(&n, 100, 200, 300), 205, "+N: after next");
	n.how = HS_NUM_BACK;
	EQ_INT(hs_num_resolve(&n, 100, 200, 300), 195, "-N: before next");
	n.how = HS_NUM_ABS;
	EQ_INT(hs_num_resolve(&n, 100, 200, 300), 5, "=N: as is");
	n = (hs_num){ HS_NUM_REL, 10 };
	EQ_INT(hs_num_resolve(&n, 4294967290u, 0, 0), 4, "N wraps");
	n = (hs_num){ HS_NUM_BACK, 10 };
	EQ_INT(hs_num_resolve(&n, 0, 3, 0), 4294967289u, "-N wraps");
}

/* ---- field edits ------------------------------------------------------------------------- */

static void test_notation_fields(void)
{
	hs_seg_spec sp;
	char err[256], hex[128];

	hs_seg_spec_init(&sp);
	EQ_INT(hs_fields_parse("seq=+5 flags=R", &sp, err, sizeof(err)), 0, "seq=+5 flags=R");
	OK(sp.seq.how == HS_NUM_FWD && sp.seq.v == 5 && sp.have_flags && sp.flags == HS_RST, "  values");
	OK(!sp.have_win && !sp.have_len && sp.ack.how == HS_NUM_UNSET, "  nothing else");

	hs_seg_spec_init(&sp);
	EQ_INT(hs_fields_parse("ack=-3 win=0 urg=65535 len=65495 ttl=1 tos=0xb8 id=65535 df=1 csum=bad",
	                       &sp, err, sizeof(err)), 0, "every field");
	OK(sp.ack.how == HS_NUM_BACK && sp.ack.v == 3, "  ack");
	OK(sp.have_win && sp.win == 0 && sp.have_urg && sp.urg == 65535, "  win, urg");
	OK(sp.have_len && sp.len == 65495, "  len");
	OK(sp.ip.set_ttl && sp.ip.ttl == 1 && sp.ip.set_tos && sp.ip.tos == 0xb8, "  ttl, tos");
	OK(sp.ip.set_ip_id && sp.ip.ip_id == 65535 && sp.ip.set_df && sp.ip.df, "  id, df");
	OK(sp.ip.bad_csum, "  csum=bad");
	EQ_INT(hs_fields_parse("csum=ok df=0 seq==7 flags=SYN,ACK", &sp, err, sizeof(err)), 0, "csum=ok df=0 seq==7");
	OK(!sp.ip.bad_csum && sp.ip.set_df && !sp.ip.df, "  csum=ok, df=0");
	OK(sp.seq.how == HS_NUM_ABS && sp.seq.v == 7 && sp.flags == (HS_SYN | HS_ACK), "  seq==7, flags");
	EQ_INT(hs_fields_parse("opt=mss=1460,sack,ts,nop,wscale=7", &sp, err, sizeof(err)), 0, "opt=LIST");
	OK(sp.have_opts && sp.opts.n == 5, "  five items");
	EQ_STR(opts_hex(&sp.opts, hex, sizeof(hex)), "020405b40402080a000000070000000901030307", "  bytes");
	EQ_INT(hs_fields_parse("opt=", &sp, err, sizeof(err)), 0, "opt= is no options");
	OK(sp.have_opts && sp.opts.n == 0, "  empty list");
	EQ_INT(hs_fields_parse("", &sp, err, sizeof(err)), 0, "nothing: no change");
	EQ_INT(hs_fields_parse("FLAGS=S Win=5", &sp, err, sizeof(err)), 0, "field names in any case");

	static const struct bad_case fbad[] = {
		{ "foo=1", "bad edit \"foo=1\": unknown field \"foo\" (known: flags, seq, ack, win, urg, len, opt, "
		           "ttl, tos, id, df, csum)" },
		{ "seq", "\"seq\" is not FIELD=VALUE" },
		{ "seq=+5 R", "\"R\" is not FIELD=VALUE" },
		{ "=5", "unknown field \"\"" },
		{ "seq=", "\"seq=\" has no value" },
		{ "seq=x", "number \"x\" is not N, +N, -N or =N" },
		{ "ack=4294967296", "is over 4294967295" },
		{ "seq=1 seq=2", "field \"seq\" given twice" },
		{ "flags=Q", "unknown flag 'Q'" },
		{ "win=65536", "win \"65536\" is over 65535" },
		{ "urg=65536", "urg \"65536\" is over 65535" },
		{ "len=65496", "len \"65496\" is over 65495" },
		{ "ttl=256", "ttl \"256\" is over 255" },
		{ "tos=256", "tos \"256\" is over 255" },
		{ "id=65536", "id \"65536\" is over 65535" },
		{ "df=2", "df \"2\" is not 0 or 1" },
		{ "csum=maybe", "csum \"maybe\" is not ok or bad" },
		{ "opt=mss", "mss must be mss=0..65535" },
		{ "opt=foo", "unknown TCP option \"foo\"" },
		{ "win=1 ttl=x", "ttl \"x\" is not a number" },
	};
	char what[128];
	for (size_t i = 0; i < sizeof(fbad) / sizeof(fbad[0]); i++) {
		hs_seg_spec before;
		hs_seg_spec_init(&sp);
		memcpy(&before, &sp, sizeof(sp));
		snprintf(what, sizeof(what), "refuse edit \"%s\"", fbad[i].text);
		err[0] = '\0';
		EQ_INT(hs_fields_parse(fbad[i].text, &sp, err, sizeof(err)), -1, what);
		OK(strstr(err, fbad[i].want) && strncmp(err, "bad edit \"", 10) == 0, "  message");
		if (!strstr(err, fbad[i].want))
			printf("#   got \"%s\", want \"%s\"\n", err, fbad[i].want);
		OK(memcmp(&sp, &before, sizeof(sp)) == 0, "  spec untouched");
	}
}

static void test_notation_edit(void)
{
	hs_seg_spec sp;
	char err[256];

	hs_seg_spec_init(&sp);
	EQ_INT(hs_edit_parse("seq=+5 flags=R", &sp, err, sizeof(err)), 0, "edit: fields");
	OK(sp.seq.how == HS_NUM_FWD && sp.flags == HS_RST, "  as fields");
	hs_seg_spec_init(&sp);
	EQ_INT(hs_edit_parse("P. 1:6(5) ack 1", &sp, err, sizeof(err)), 0, "edit: notation");
	OK(sp.have_len && sp.len == 5 && sp.flags == (HS_PSH | HS_ACK), "  as notation");
	hs_seg_spec_init(&sp);
	EQ_INT(hs_edit_parse("  ", &sp, err, sizeof(err)), 0, "edit: blank is no change");
	OK(!sp.have_flags, "  nothing set");
	hs_seg_spec_init(&sp);
	EQ_INT(hs_edit_parse("S<raw=253:beef>", &sp, err, sizeof(err)), 0, "edit: '=' only inside <...>: notation");
	OK(sp.have_flags && sp.flags == HS_SYN && sp.have_opts && sp.opts.n == 1, "  as notation");
	EQ_INT(hs_edit_parse("<mss 1>", &sp, err, sizeof(err)), -1, "edit: options alone refused");
	OK(strstr(err, "bad segment") != NULL, "  as notation");
	EQ_INT(hs_edit_parse("win=5 P.", &sp, err, sizeof(err)), -1, "edit: fields then notation refused");
	OK(strstr(err, "\"P.\" is not FIELD=VALUE") != NULL, "  message");
	EQ_INT(hs_edit_parse("P. win=5", &sp, err, sizeof(err)), -1, "edit: notation then a field refused");
	OK(strstr(err, "unknown word \"win=5\"") != NULL, "  message");
}

/* ---- formatting and the round trip ---------------------------------------------------------- */

static const struct fmt_case {
	uint8_t flags;
	uint32_t seq, ack; /* relative */
	uint32_t len;
	uint16_t win, urp;
	const char *opts;  /* option bytes, hex */
	const char *text;
} fmts[] = {
	{ HS_SYN, 0, 0, 0, 64240, 0, "020405b40402080a0000007b0000000001030307",
	  "S 0:0(0) win 64240 <mss 1460,sackOK,TS val 123 ecr 0,nop,wscale 7>" },
	{ HS_SYN | HS_ACK, 0, 1, 0, 65160, 0, "020405b40402080a000001c80000007b01030307",
	  "S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 456 ecr 123,nop,wscale 7>" },
	{ HS_ACK, 1, 1, 0, 502, 0, "0101080a0000000500000007", ". 1:1(0) ack 1 win 502 <nop,nop,TS val 5 ecr 7>" },
	{ HS_PSH | HS_ACK, 1, 1, 5, 502, 0, "", "P. 1:6(5) ack 1 win 502" },
	{ HS_FIN | HS_ACK, 6, 1, 0, 502, 0, "", "F. 6:6(0) ack 1 win 502" },
	{ HS_RST, 7, 99, 0, 0, 0, "", "R 7:7(0) win 0" },
	{ 0, 3, 0, 0, 1, 0, "", "- 3:3(0) win 1" },
	{ 0xff, 1, 2, 1, 3, 4, "", "FSRP.UEW 1:2(1) ack 2 win 3 urg 4" },
	{ HS_SYN | HS_ECE | HS_CWR, 0, 0, 0, 5, 9, "", "SEW 0:0(0) win 5" },
	{ HS_ACK, 4294967295u, 0, 5, 1, 0, "", ". 4294967295:4(5) ack 0 win 1" },
	{ HS_ACK, 1, 1, 0, 1, 0, "0101050a0000000a00000014", ". 1:1(0) ack 1 win 1 <nop,nop,sack 10:20>" },
	{ HS_ACK, 1, 1, 0, 1, 0, "0101052200000001000000020000000300000004000000050000000600000007ffffffff",
	  ". 1:1(0) ack 1 win 1 <nop,nop,sack 1:2 3:4 5:6 7:4294967295>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "020405b4", "S 0:0(0) win 1 <mss 1460>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "020405b403030700", "S 0:0(0) win 1 <mss 1460,wscale 7>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "0402000000000000", "S 0:0(0) win 1 <sackOK,eol,eol,eol,eol,eol,eol>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "00000000", "S 0:0(0) win 1 <eol,eol,eol,eol>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "00020405", "S 0:0(0) win 1 <eol,bytes 020405>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "01010108", "S 0:0(0) win 1 <nop,nop,nop,bytes 08>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "01010801", "S 0:0(0) win 1 <nop,nop,bytes 0801>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "0101fd06", "S 0:0(0) win 1 <nop,nop,bytes fd06>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "0000fd04beef0000", "S 0:0(0) win 1 <eol,eol,raw=253:beef>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "fd020000", "S 0:0(0) win 1 <raw=253>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "02030000", "S 0:0(0) win 1 <raw=2:00>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "1312000102030405060708090a0b0c0d0e0f0000",
	  "S 0:0(0) win 1 <md5 000102030405060708090a0b0c0d0e0f>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "22020101", "S 0:0(0) win 1 <FO,nop,nop>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "2206a1b2c3d40101", "S 0:0(0) win 1 <FO a1b2c3d4,nop,nop>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "fe06f989a1b20101", "S 0:0(0) win 1 <raw=254:f989a1b2,nop,nop>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "0303ff00", "S 0:0(0) win 1 <wscale 255>" },
	{ HS_SYN, 0, 0, 0, 1, 0, "0808000000000000", "S 0:0(0) win 1 <raw=8:000000000000>" },
};

/* A segment from a case: the numbers relative to ISS (seq) and IRS (ack). */
static void make_segment(const struct fmt_case *c, hs_segment *seg)
{
	uint8_t raw[HS_OPT_MAXLEN];
	const char *why = NULL;
	size_t n = unhex(c->opts, raw, sizeof(raw));

	memset(seg, 0, sizeof(*seg));
	seg->flags = c->flags;
	seg->seq = ISS + c->seq;
	seg->ack = IRS + c->ack;
	seg->len = c->len;
	seg->win = c->win;
	seg->urp = c->urp;
	(void)hs_opts_decode(raw, n, &seg->opts, &why); /* keeps raw even when malformed */
}

static void test_notation_format(void)
{
	char buf[512], what[300];
	hs_segment seg;

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		make_segment(&fmts[i], &seg);
		snprintf(what, sizeof(what), "format \"%s\"", fmts[i].text);
		EQ_STR(hs_notation_format(&seg, ISS, IRS, buf, sizeof(buf)), fmts[i].text, what);
	}
	/* Bounded: cut short, never past len. */
	make_segment(&fmts[0], &seg);
	char small[12];
	memset(small, 'x', sizeof(small));
	hs_notation_format(&seg, ISS, IRS, small, 8);
	EQ_STR(small, "S 0:0(0", "cut short to the buffer");
	EQ_INT(small[8], 'x', "  nothing written past it");
	OK(hs_notation_format(&seg, ISS, IRS, small, 0) == small && small[0] == 'S', "len 0 writes nothing");
}

/* format -> parse -> the same flags, numbers, window, urgent pointer and option bytes. */
static void check_round_trip(const struct fmt_case *c)
{
	hs_segment seg;
	hs_seg_spec sp;
	char text[512], err[256], what[600], hex[128], want[128];

	make_segment(c, &seg);
	hs_notation_format(&seg, ISS, IRS, text, sizeof(text));
	snprintf(what, sizeof(what), "round trip \"%s\"", text);
	hs_seg_spec_init(&sp);
	int rc = hs_notation_parse(text, &sp, err, sizeof(err));
	EQ_INT(rc, 0, what);
	if (rc) {
		printf("#   %s\n", err);
		return;
	}
	bool same = sp.flags == seg.flags && sp.seq.how == HS_NUM_REL && sp.seq.v == c->seq &&
	            sp.have_len && sp.len == c->len && sp.have_win && sp.win == c->win;
	if (c->flags & HS_ACK)
		same = same && sp.ack.how == HS_NUM_REL && hs_num_resolve(&sp.ack, IRS, 0, 0) == seg.ack;
	else
		same = same && sp.ack.how == HS_NUM_UNSET;
	if (c->flags & HS_URG)
		same = same && sp.have_urg && sp.urg == c->urp;
	OK(same, "  header fields");
	snprintf(want, sizeof(want), "%s", c->opts);
	EQ_STR(sp.have_opts ? opts_hex(&sp.opts, hex, sizeof(hex)) : "", want, "  option bytes");
}

static void test_notation_round_trip(void)
{
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (!strstr(fmts[i].text, "bytes "))
			check_round_trip(&fmts[i]);

	/* Many more: every flag combination over a few option lists. */
	static const char *const lists[] = {
		"", "01010101", "020405b4", "0101080affffffff00000000", "010105120000000100000002fffffffe00000000",
		"1312ffeeddccbbaa99887766554433221100" "0101", "fd0a00112233445566770000", "030300010402fe02",
	};
	int ok = 0, total = 0;
	for (unsigned f = 0; f < 256; f++) {
		for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
			struct fmt_case c = { (uint8_t)f, f * 7919u, 4294967295u - f, (f * 13) % 65496, (uint16_t)(f * 257),
			                      (uint16_t)(65535 - f), lists[l], "" };
			hs_segment seg;
			hs_seg_spec sp;
			char text[512], err[256], hex[128];
			make_segment(&c, &seg);
			hs_notation_format(&seg, ISS, IRS, text, sizeof(text));
			hs_seg_spec_init(&sp);
			total++;
			if (hs_notation_parse(text, &sp, err, sizeof(err)) == 0 && sp.flags == f &&
			    sp.seq.v == c.seq && sp.len == c.len && sp.win == c.win &&
			    (!(f & HS_ACK) || sp.ack.v == c.ack) && (!(f & HS_URG) || sp.urg == c.urp) &&
			    strcmp(sp.have_opts ? opts_hex(&sp.opts, hex, sizeof(hex)) : "", c.opts) == 0)
				ok++;
			else
				printf("#   round trip failed: \"%s\"\n", text);
		}
	}
	EQ_INT(ok, total, "round trip: 256 flag sets x 8 option lists");
}

/* Options given on the command line override the SEGMENT's fields, one by one. */
static void test_notation_merge(void)
{
	hs_seg_spec a, o;
	char err[200];

	hs_seg_spec_init(&a);
	hs_seg_spec_init(&o);
	EQ_INT(hs_notation_parse("P. 1:6(5) ack 3 win 100", &a, err, sizeof(err)), 0, "merge: base parses");
	EQ_INT(hs_fields_parse("seq=+2 ttl=1 csum=bad", &o, err, sizeof(err)), 0, "merge: fields parse");
	hs_seg_spec_merge(&a, &o);
	EQ_INT(a.seq.how, HS_NUM_FWD, "merge: seq from the override");
	EQ_INT(a.seq.v, 2, "merge: seq value from the override");
	EQ_INT(a.ack.how, HS_NUM_REL, "merge: ack kept");
	EQ_INT(a.ack.v, 3, "merge: ack value kept");
	OK(a.have_len && a.len == 5, "merge: len kept");
	OK(a.have_win && a.win == 100, "merge: win kept");
	OK(a.have_flags && a.flags == (HS_PSH | HS_ACK), "merge: flags kept");
	OK(a.ip.set_ttl && a.ip.ttl == 1, "merge: ttl set");
	OK(a.ip.bad_csum, "merge: bad checksum set");
	OK(!a.ip.set_tos && !a.ip.set_df && !a.ip.set_ip_id, "merge: other IP fields unset");
}

int main(void)
{
	test_notation_good();
	test_notation_errors();
	test_notation_flags();
	test_notation_num();
	test_notation_resolve();
	test_notation_fields();
	test_notation_edit();
	test_notation_format();
	test_notation_round_trip();
	test_notation_merge();
	return tap_done();
}
