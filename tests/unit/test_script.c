/* Scenario scripts (lib/script.c): every construct parsed, every error with
 * FILE:LINE and its message, the role from the first SYN, and the matcher. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/script.h"
#include "tap.h"

#define PEER_ISN 4294967000u /* close to the wrap, on purpose */
#define OUR_ISN 1000u

static char err[512];

static int parse(const char *text, hs_script *s)
{
	err[0] = '\0';
	return hs_script_parse(text, strlen(text), "t.pkt", s, err, sizeof(err));
}

/* A one-line body after a client SYN, parsed; returns line 2 (static copy). */
static hs_script one;
static const hs_scr_line *line2(const char *body)
{
	char text[1200];

	hs_script_free(&one);
	snprintf(text, sizeof(text), "0 < S 0:0(0)\n%s\n", body);
	if (parse(text, &one) != 0 || one.n < 2) {
		printf("# parse \"%s\": %s\n", body, err);
		return NULL;
	}
	return &one.line[1];
}

static void test_times(void)
{
	const hs_scr_line *l;

	l = line2("0.100 > S. 0:0(0) ack 1");
	OK(l && l->time.kind == HS_SCR_T_ABS && l->time.t_ns == 100000000u, "absolute 0.100 = 100 ms");
	l = line2("+0.1 > S. 0:0(0) ack 1");
	OK(l && l->time.kind == HS_SCR_T_REL && l->time.t_ns == 100000000u, "relative +0.1");
	l = line2("2 > S. 0:0(0) ack 1");
	OK(l && l->time.kind == HS_SCR_T_ABS && l->time.t_ns == 2000000000u, "absolute 2 (no fraction)");
	l = line2("0.1~0.3 > S. 0:0(0) ack 1");
	OK(l && l->time.kind == HS_SCR_T_RANGE && !l->time.rel && l->time.t_ns == 100000000u &&
	   l->time.t2_ns == 300000000u, "range 0.1~0.3");
	l = line2("+0~+0.25 > S. 0:0(0) ack 1");
	OK(l && l->time.kind == HS_SCR_T_RANGE && l->time.rel && l->time.t_ns == 0 && l->time.t2_ns == 250000000u,
	   "relative range +0~+0.25");
	l = line2("* > S. 0:0(0) ack 1");
	OK(l && l->time.kind == HS_SCR_T_ANY, "any time *");
	l = line2("0.000000001 > S. 0:0(0) ack 1");
	OK(l && l->time.t_ns == 1, "9 decimals: 1 ns");
	OK(l && l->time.tol_ns == HS_SCR_TOLERANCE_NS, "default tolerance 4 ms");

	hs_script s;
	OK(parse("--tolerance_usecs=10000\n0 < S 0:0(0)\n", &s) == 0 && s.tolerance_ns == 10000000u &&
	   s.line[0].time.tol_ns == 10000000u, "--tolerance_usecs=10000: 10 ms on every line");
	hs_script_free(&s);
	OK(parse("--tolerance-usecs=0\n0 < S 0:0(0)\n", &s) == 0 && s.line[0].time.tol_ns == 0, "--tolerance-usecs=0");
	hs_script_free(&s);
}

static void test_lines(void)
{
	hs_script s;
	const char *text =
		"// a comment line\n"
		"# a hash line\n"
		"\n"
		"   \t\n"
		"/* a block\n"
		"   over lines */ 0 < S 0:0(0) win 65535 <mss 1460,sackOK,nop,wscale 7> // trailing\n"
		"+0 > S. 0:0(0) ack 1 win 65160 <mss 1460,nop,nop,sackOK,nop,wscale 7> /* inline */\n"
		"+0.1 < . 1:1(0) ack 1 win 502\n"
		"+0 `echo // not a comment; ss -tn`\n";

	EQ_INT(parse(text, &s), 0, "comments, blanks, send, expect, shell: parsed");
	if (s.n != 4) {
		printf("# %s\n", err);
		OK(0, "four lines");
		hs_script_free(&s);
		return;
	}
	OK(1, "four lines");
	EQ_INT(s.line[0].lineno, 6, "line after a block comment keeps its number");
	EQ_INT(s.line[0].kind, HS_SCR_SEND, "< is send");
	EQ_INT(s.line[1].kind, HS_SCR_EXPECT, "> is expect");
	EQ_INT(s.line[2].lineno, 8, "line 8");
	EQ_INT(s.line[3].kind, HS_SCR_SHELL, "backquote is shell");
	EQ_STR(s.line[3].text, "echo // not a comment; ss -tn", "shell text kept whole");
	EQ_STR(s.line[0].text, "S 0:0(0) win 65535 <mss 1460,sackOK,nop,wscale 7>", "segment text without comment");
	OK(s.line[0].spec.have_flags && s.line[0].spec.flags == HS_SYN && s.line[0].spec.have_win &&
	   s.line[0].spec.win == 65535 && s.line[0].spec.have_opts && s.line[0].spec.opts.n == 4, "segment fields");
	OK(s.line[1].spec.ack.how == HS_NUM_REL && s.line[1].spec.ack.v == 1, "ack 1 relative");
	EQ_INT(s.role, HS_SCR_ROLE_CLIENT, "first < SYN: client");
	hs_script_free(&s);
	OK(s.n == 0 && s.line == NULL, "free empties the script");

	EQ_INT(parse("0 > S 0:0(0) win 1\n0 < S. 0:0(0) ack 1\n", &s), 0, "server script parsed");
	EQ_INT(s.role, HS_SCR_ROLE_SERVER, "first > SYN: server");
	hs_script_free(&s);
	EQ_INT(parse("0 `true`\n0 > . 1:1(0)\n0 > S 0:0(0)\n", &s), 0, "SYN on the third line");
	EQ_INT(s.role, HS_SCR_ROLE_SERVER, "role from the first SYN, not the first line");
	hs_script_free(&s);
	EQ_INT(parse("0 < S 0:0(0)", &s), 0, "no final newline");
	hs_script_free(&s);
}

static void test_wildcards(void)
{
	const hs_scr_line *l;

	l = line2("0 > * 0:0(0) ack 1");
	OK(l && (l->any & HS_SCR_ANY_FLAGS) && !l->spec.have_flags, "* flags");
	l = line2("0 > S. * ack 1");
	OK(l && l->any == HS_SCR_ANY_SEQ && l->spec.seq.how == HS_NUM_UNSET && l->spec.ack.v == 1, "* sequence");
	l = line2("0 > S. 0:0(0) ack * win * urg *");
	OK(l && l->any == (HS_SCR_ANY_ACK | HS_SCR_ANY_WIN | HS_SCR_ANY_URG) && !l->spec.have_win, "ack * win * urg *");
	l = line2("0 > S. 0:0(0) ack 1 <...>");
	OK(l && l->any == HS_SCR_ANY_OPTS && !l->spec.have_opts, "<...> any options");
	l = line2("0 > S. 0:0(0) ack 1 win *<...>");
	OK(l && l->any == (HS_SCR_ANY_WIN | HS_SCR_ANY_OPTS), "win *<...> without a blank");
	l = line2("0 > S. 0:0(0) ack 1 <>");
	OK(l && l->any == 0 && l->spec.have_opts && l->spec.opts.n == 0, "<> is no options");
	l = line2("0 > urg * ack 1"); /* found by the fuzzer: a keyword's name as the flags */
	OK(l && l->spec.flags == HS_URG && l->any == HS_SCR_ANY_SEQ && l->spec.ack.v == 1, "flags named URG, * seq");
	l = line2("0 > S. 0:0(0) ack =5");
	OK(l && l->spec.ack.how == HS_NUM_ABS && l->spec.ack.v == 5, "ack =5 absolute");
}

static const struct bad_case {
	const char *text;
	const char *want; /* the message's start, after "t.pkt:" */
} bad[] = {
	{ "0 < S 0:0(0)\nx.1 > S. 0:0(0)\n", "2: bad time \"x.1\"" },
	{ "0 < S 0:0(0)\n0.1234567891 > S.\n", "2: bad time \"0.1234567891\"" },
	{ "0 < S 0:0(0)\n0.3~0.1 > S.\n", "2: bad time \"0.3~0.1\"" },
	{ "0 < S 0:0(0)\n+0.1~0.3 > S.\n", "2: bad time \"+0.1~0.3\"" },
	{ "0 < S 0:0(0)\n99999999 > S.\n", "2: bad time \"99999999\"" },
	{ "0 < S 0:0(0)\n0.1\n", "2: nothing after the time" },
	{ "0 < S 0:0(0)\n0.1 S. 0:0(0)\n", "2: missing direction before \"S.\"" },
	{ "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", "1: missing direction before \"socket(...,\"" },
	{ "< S 0:0(0)\n", "1: no time before \"<\"" },
	{ "0 < S 0:0(0)\n0 > S. 0:x(0)\n", "2: bad segment \"S. 0:x(0)\": sequence \"0:x(0)\" is not START:END(LEN)" },
	{ "0 < S 0:0(0)\n0 > S. 0:0(0) bogus 3\n", "2: bad segment \"S. 0:0(0) bogus 3\": unknown word \"bogus\"" },
	{ "0 < Q 0:0(0)\n", "1: bad segment \"Q 0:0(0)\"" },
	{ "0 < S 0:0(0)\n0 >\n", "2: no segment after the direction" },
	{ "0 < S 0:0(0)\n0 > S. 0:0(0) *\n", "2: \"*\" here stands for nothing" },
	{ "0 < S 0:0(0)\n0 > S. 0:0(0) <...> win 3\n", "2: \"win\" after the options" },
	{ "0 < S 0:0(0)\n0 > S. 0:0(0) ack +1\n", "2: ack in a script is N or =N" },
	{ "0 < S 0:0(0)\n* < . 1:1(0)\n", "2: a \"<\" line (hs sends) needs one time" },
	{ "0 < S 0:0(0)\n0.1~0.2 < . 1:1(0)\n", "2: a \"<\" line (hs sends) needs one time" },
	{ "0 < S 0:0(0)\n0 `ls\n", "2: unterminated backquote" },
	{ "0 < S 0:0(0)\n0 `ls` x\n", "2: \"x\" after the command" },
	{ "0 < S 0:0(0)\n/* open\n\n", "2: unterminated comment" },
	{ "0.5 < S 0:0(0)\n0.2 > S. 0:0(0)\n", "2: time 0.200000000 goes backwards (line 1 is at 0.500000000)" },
	{ "0.5 < S 0:0(0)\n+0 > S.\n0.1~0.9 > .\n", "3: time 0.100000000 goes backwards (line 1" },
	{ "0 < S 0:0(0)\n--tolerance_usecs=5\n", "2: option \"--tolerance_usecs=5\" after the first event" },
	{ "--tolerance_usecs=x\n", "1: bad tolerance \"x\"" },
	{ "--tolerance_usecs=2000000000\n", "1: bad tolerance" },
	{ "--speed=3\n", "1: unknown option \"--speed=3\"" },
	{ "0 > . 1:1(0)\n// end\n", "1: no SYN segment" },
	{ "", "1: no SYN segment" },
};

static void test_errors(void)
{
	char what[200];
	hs_script s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].text, &s);
		snprintf(what, sizeof(what), "error t.pkt:%s", bad[i].want);
		bool ok = rc == -1 && strncmp(err, "t.pkt:", 6) == 0 &&
		          strncmp(err + 6, bad[i].want, strlen(bad[i].want)) == 0 && !strchr(err, '\n') &&
		          s.n == 0 && s.line == NULL;
		OK(ok, what);
		if (!ok)
			printf("#   got rc %d: %s\n", rc, err);
	}
	/* NUL byte, long line, too many lines */
	OK(hs_script_parse("0 < S\0", 6, "t.pkt", &s, err, sizeof(err)) == -1 && strstr(err, "t.pkt:1: a NUL byte"),
	   "a NUL byte refused");
	char *big = malloc(HS_SCR_LINE_MAX + 100);
	memset(big, ' ', HS_SCR_LINE_MAX + 50);
	memcpy(big, "0 < S 0:0(0)", 12);
	big[HS_SCR_LINE_MAX + 50] = '\0';
	OK(parse(big, &s) == -1 && strstr(err, "t.pkt:1: line longer than 1024 bytes"), "long line refused");
	free(big);
	size_t n = (HS_SCR_LINES_MAX + 1) * 2;
	char *many = malloc(n + 20);
	memcpy(many, "0 < S 0:0(0)\n", 13);
	for (size_t i = 13; i < n + 13; i += 2)
		memcpy(many + i, "\n\n", 2);
	many[n + 13] = '\0';
	OK(parse(many, &s) == -1 && strstr(err, "more than 10000 lines"), "too many lines refused");
	free(many);
	/* A short or absent err buffer */
	char tiny[8];
	OK(hs_script_parse("x", 1, "t.pkt", &s, tiny, sizeof(tiny)) == -1 && strlen(tiny) == 7, "cut message");
	OK(hs_script_parse("x", 1, "t.pkt", &s, NULL, 0) == -1, "NULL err");
}

static hs_segment synack(void)
{
	hs_segment g;
	uint8_t opts[] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7 };
	const char *e;

	memset(&g, 0, sizeof(g));
	g.flags = HS_SYN | HS_ACK;
	g.seq = PEER_ISN;
	g.ack = OUR_ISN + 1;
	g.win = 65160;
	hs_opts_decode(opts, sizeof(opts), &g.opts, &e);
	return g;
}

static bool match(const char *body, const hs_segment *g, char *why, size_t len)
{
	const hs_scr_line *l = line2(body);
	return l && hs_script_match(l, g, PEER_ISN, OUR_ISN, why, len);
}

static void test_match(void)
{
	char why[200];
	hs_segment g = synack();

	OK(match("0 > S. 0:0(0) ack 1 win 65160 <mss 1460,nop,nop,sackOK,nop,wscale 7>", &g, why, sizeof(why)) &&
	   why[0] == '\0', "equal segment matches");
	OK(!match("0 > S 0:0(0) ack 1", &g, why, sizeof(why)), "flags differ");
	EQ_STR(why, "flags S expected, got S.", "why: flags");
	OK(!match("0 > S. 5:5(0) ack 1", &g, why, sizeof(why)), "seq differs");
	EQ_STR(why, "seq 5 expected, got 0", "why: seq");
	OK(!match("0 > S. 0:5(5) ack 1", &g, why, sizeof(why)), "length differs");
	EQ_STR(why, "length 5 expected, got 0", "why: length");
	OK(!match("0 > S. 0:0(0) ack 5", &g, why, sizeof(why)), "ack differs");
	EQ_STR(why, "ack 5 expected, got 1", "why: ack");
	OK(!match("0 > S. 0:0(0) ack =5", &g, why, sizeof(why)), "absolute ack differs");
	EQ_STR(why, "ack 5 expected, got 1001", "why: absolute ack shows the wire value");
	OK(!match("0 > S. 0:0(0) ack 1 win 1", &g, why, sizeof(why)), "win differs");
	EQ_STR(why, "win 1 expected, got 65160", "why: win");
	OK(!match("0 > S. 0:0(0) ack 1 urg 3", &g, why, sizeof(why)), "urg differs");
	EQ_STR(why, "urg 3 expected, got 0", "why: urg");
	OK(!match("0 > S. 0:0(0) ack 1 <mss 1460>", &g, why, sizeof(why)), "options differ");
	OK(strncmp(why, "options <mss 1460> expected, got <mss 1460,", 43) == 0, "why: options");
	OK(!match("0 > S. 0:0(0) ack 1 <>", &g, why, sizeof(why)), "<> wants no options");
	OK(match("0 > * * ack * win * urg * <...>", &g, why, sizeof(why)), "all wildcards match");
	OK(match("0 > S. 0:0(0) ack 1", &g, why, sizeof(why)), "options not given: not compared");
	OK(match("0 > S. * ack 1 win 65160 <...>", &g, why, sizeof(why)), "* seq");
	g.len = 3;
	OK(!match("0 > S. 0:0(0) ack 1", &g, why, sizeof(why)), "payload length compared");
	OK(match("0 > S. * ack 1", &g, why, sizeof(why)), "* seq covers the length");
	g.len = 0;
	g.flags = HS_SYN;
	OK(!match("0 > * 0:0(0) ack 1", &g, why, sizeof(why)), "ack wanted without the ACK flag");
	EQ_STR(why, "ack 1 expected, got no ACK flag", "why: no ACK flag");

	/* timestamps: presence unless values */
	hs_segment t;
	uint8_t o[] = { 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7 };
	const char *e;
	memset(&t, 0, sizeof(t));
	t.flags = HS_ACK;
	t.seq = PEER_ISN + 1;
	t.ack = OUR_ISN + 1;
	hs_opts_decode(o, sizeof(o), &t.opts, &e);
	OK(match("0 > . 1:1(0) ack 1 <nop,nop,ts>", &t, why, sizeof(why)), "ts alone: any values");
	OK(match("0 > . 1:1(0) ack 1 <nop,nop,TS val 9 ecr 7>", &t, why, sizeof(why)), "TS values equal");
	OK(!match("0 > . 1:1(0) ack 1 <nop,nop,TS val 8 ecr 7>", &t, why, sizeof(why)), "TS values differ");
	OK(!match("0 > . 1:1(0) ack 1 <nop,nop,ts>", &g, why, sizeof(why)), "ts wanted, absent");

	/* the block */
	char block[1024];
	const hs_scr_line *l = line2("0 > S. 0:0(0) ack 5 <...> // c");
	g = synack();
	OK(l && !hs_script_match(l, &g, PEER_ISN, OUR_ISN, why, sizeof(why)), "block: mismatch");
	hs_script_mismatch_format("t.pkt", l, &g, PEER_ISN, OUR_ISN, why, block, sizeof(block));
	EQ_STR(block,
	       "t.pkt:2: the peer's segment does not match\n"
	       "  expected: S. 0:0(0) ack 5 <...>\n"
	       "  actual:   S. 0:0(0) ack 1 win 65160 <mss 1460,nop,nop,sackOK,nop,wscale 7>\n"
	       "  why:      ack 5 expected, got 1\n", "mismatch block");
}

/* A payload "TEXT" after the segment: parsed with escapes, sent, compared. */
static void test_payload(void)
{
	const hs_scr_line *l;
	hs_script s;
	char why[200];

	l = line2("+0 < P. 1:12(11) ack 1 \"hi \\\"there\\\"\\n\"");
	OK(l && l->have_data && l->data_len == 11 && memcmp(l->data, "hi \"there\"\n", 11) == 0, "payload with \\\" and \\n");
	OK(l && l->spec.have_len && l->spec.len == 11, "the payload's length is LEN");
	OK(l && strcmp(l->text, "P. 1:12(11) ack 1 \"hi \\\"there\\\"\\n\"") == 0, "text keeps the payload as written");
	l = line2("+0 < P. 1:5(4) ack 1 \"a//b\" // a comment");
	OK(l && l->data_len == 4 && memcmp(l->data, "a//b", 4) == 0, "// inside the payload is no comment");
	l = line2("+0 < P. ack 1 \"\\x00\\xff\"");
	OK(l && l->data_len == 2 && l->data[0] == 0 && l->data[1] == 0xff && l->spec.len == 2, "\\xHH, no START:END");
	l = line2("* > P. * ack 1 \"abc\"");
	OK(l && l->have_data && !(l->spec.have_len), "* seq: the payload is still compared, its length through it");

	OK(parse("0 < S 0:0(0)\n+0 < * 1:1(0) ack 1\n", &s) == -1, "* in a \"<\" line");
	OK(strstr(err, "t.pkt:2: \"*\" and \"<...>\" say what the peer may send") == err, "why: * in a < line");
	OK(parse("0 < S 0:0(0) <...>\n", &s) == -1, "<...> in a \"<\" line");
	OK(parse("0 < S 0:0(0)\n+0 < P. 1:3(2) ack 1 \"abc\"\n", &s) == -1, "LEN differs from the payload");
	EQ_STR(err, "t.pkt:2: LEN is 2 but the payload has 3 bytes", "why: LEN vs payload");
	OK(parse("0 < S 0:0(0)\n+0 < P. 1:3(2) ack 1 \"ab\n", &s) == -1, "unterminated payload");
	EQ_STR(err, "t.pkt:2: unterminated payload string (a \" without its closing \")", "why: unterminated");
	OK(parse("0 < S 0:0(0)\n+0 < P. 1:3(2) ack 1 \"ab\" win 5\n", &s) == -1, "words after the payload");
	EQ_STR(err, "t.pkt:2: \"win\" after the payload (it comes last)", "why: after the payload");
	OK(parse("0 < S 0:0(0)\n+0 < P. 1:3(2) ack 1 \"a\\q\"\n", &s) == -1, "a bad escape");
	OK(strncmp(err, "t.pkt:2: bad payload: ", 22) == 0, "why: bad escape");

	hs_segment g;
	memset(&g, 0, sizeof(g));
	g.flags = HS_PSH | HS_ACK;
	g.seq = PEER_ISN + 1;
	g.ack = OUR_ISN + 1;
	g.payload = (const uint8_t *)"abc";
	g.len = 3;
	OK(match("0 > P. 1:4(3) ack 1 \"abc\"", &g, why, sizeof(why)), "same payload matches");
	OK(!match("0 > P. 1:4(3) ack 1 \"abd\"", &g, why, sizeof(why)), "other bytes");
	EQ_STR(why, "payload \"abd\" expected, got \"abc\"", "why: payload");
	OK(!match("0 > P. * ack 1 \"ab\"", &g, why, sizeof(why)), "* seq, shorter payload");
	g.payload = (const uint8_t *)"a\"\n";
	OK(!match("0 > P. 1:4(3) ack 1 \"abc\"", &g, why, sizeof(why)), "quote and newline shown escaped");
	EQ_STR(why, "payload \"abc\" expected, got \"a\\\"\\n\"", "why: escaped bytes");
}

int main(void)
{
	test_times();
	test_payload();
	test_lines();
	test_wildcards();
	test_errors();
	test_match();
	hs_script_free(&one);
	return tap_done();
}
