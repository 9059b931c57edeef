/* TCP options: the --opt grammar, encoding, decoding and formatting. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "hs/bytes.h"
#include "hs/opts.h"
#include "tap.h"

static int encode(const char *spec_text, uint8_t out[HS_OPT_MAXLEN])
{
	hs_opt_spec spec;
	char err[200];
	const char *e = NULL;

	if (hs_opt_spec_parse(spec_text, &spec, err, sizeof(err)) < 0)
		return -100;
	return hs_opt_spec_encode(&spec, 0x01020304, 0x05060708, out, &e);
}

static const char *parse_err(const char *spec_text)
{
	static char err[200];
	hs_opt_spec spec;

	err[0] = '\0';
	if (hs_opt_spec_parse(spec_text, &spec, err, sizeof(err)) == 0)
		return "(accepted)";
	return err;
}

static void test_default(void)
{
	hs_opt_spec spec;
	uint8_t out[HS_OPT_MAXLEN];
	const uint8_t want[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 123, 0, 0, 0, 0, 1, 3, 3, 7 };

	hs_opt_spec_default(&spec);
	EQ_INT(spec.n, 5, "default spec has 5 items");
	int n = hs_opt_spec_encode(&spec, 123, 0, out, NULL);
	EQ_INT(n, 20, "default options are 20 bytes");
	OK(n == 20 && memcmp(out, want, sizeof(want)) == 0, "default options in Linux wire order");
}

static void test_parse_encode(void)
{
	uint8_t out[HS_OPT_MAXLEN];
	int n;

	n = encode("mss=1460,sack,ts,nop,wscale=7", out);
	EQ_INT(n, 20, "explicit Linux list is 20 bytes");
	OK(out[0] == 2 && out[1] == 4 && out[2] == 5 && out[3] == 0xb4, "mss 1460 encoded");
	OK(out[4] == 4 && out[5] == 2, "sack encodes SACK-permitted");
	OK(out[6] == 8 && out[7] == 10 && out[8] == 1 && out[11] == 4 && out[12] == 5 && out[15] == 8,
	   "ts filled from ts_val/ts_ecr");

	n = encode("sackok", out);
	EQ_INT(n, 4, "sackok alias padded to 4");
	OK(out[0] == 4 && out[1] == 2 && out[2] == 0 && out[3] == 0, "sackok = kind 4 len 2, EOL padding");

	n = encode("ts=123:456", out);
	EQ_INT(n, 12, "ts=VAL:ECR padded to 12");
	OK(out[5] == 123 && out[8] == 0x01 && out[9] == 0xc8 && out[10] == 0 && out[11] == 0,
	   "ts=123:456 explicit values");

	n = encode("wscale=14", out);
	EQ_INT(n, 4, "wscale=14 accepted");
	OK(out[0] == 3 && out[1] == 3 && out[2] == 14 && out[3] == 0, "wscale bytes");

	n = encode("mss=0", out);
	OK(n == 4 && out[2] == 0 && out[3] == 0, "mss=0 accepted");
	n = encode("mss=65535", out);
	OK(n == 4 && out[2] == 0xff && out[3] == 0xff, "mss=65535 accepted");

	n = encode("nop,eol", out);
	OK(n == 4 && out[0] == 1 && out[1] == 0 && out[2] == 0 && out[3] == 0, "nop,eol padded");

	n = encode("raw=99:0102", out);
	OK(n == 4 && out[0] == 99 && out[1] == 4 && out[2] == 1 && out[3] == 2, "raw=99:0102 -> kind,len,bytes");
	n = encode("raw=1", out);
	OK(n == 4 && out[0] == 1 && out[1] == 0, "raw=1 is a single NOP byte");
	n = encode("raw=0:", out);
	OK(n == 4 && out[0] == 0, "raw=0: is a single EOL byte");
	n = encode("raw=3:0f", out);
	OK(n == 4 && out[0] == 3 && out[1] == 3 && out[2] == 15, "raw allows wscale 15");
	n = encode("raw=200:", out);
	OK(n == 4 && out[0] == 200 && out[1] == 2, "raw with empty data has len 2");

	n = encode("tfo", out);
	OK(n == 4 && out[0] == 34 && out[1] == 2, "tfo cookie request");
	n = encode("tfo=0011223344556677", out);
	OK(n == 12 && out[0] == 34 && out[1] == 10 && out[2] == 0 && out[9] == 0x77, "tfo with cookie");

	n = encode("md5", out);
	EQ_INT(n, 20, "md5 padded to 20");
	OK(out[0] == 19 && out[1] == 18 && out[2] == 0 && out[17] == 0, "md5 placeholder");

	n = encode("", out);
	EQ_INT(n, 0, "empty list encodes to nothing");
	n = encode(" mss=536 , ts ", out);
	EQ_INT(n, 16, "spaces around items are tolerated");

	/* 40 bytes exactly fit. */
	n = encode("md5,md5,nop,nop,nop,nop", out);
	EQ_INT(n, 40, "exactly 40 bytes fit");
}

static void test_parse_errors(void)
{
	EQ_STR(parse_err("foo"), "unknown TCP option \"foo\" (known: mss, sack, ts, wscale, nop, eol, tfo, md5, raw)",
	       "unknown option message");
	EQ_STR(parse_err("mss=1460,foo=3"), "unknown TCP option \"foo\" (known: mss, sack, ts, wscale, nop, eol, tfo, md5, raw)",
	       "unknown option with value");
	EQ_STR(parse_err("wscale=15"), "wscale must be 0..14: \"15\"", "wscale 15 rejected");
	EQ_STR(parse_err("wscale"), "wscale needs a value: wscale=0..14", "wscale without value");
	EQ_STR(parse_err("mss=65536"), "mss must be mss=0..65535: \"mss=65536\"", "mss 65536 rejected");
	EQ_STR(parse_err("mss=-1"), "mss must be mss=0..65535: \"mss=-1\"", "mss -1 rejected");
	EQ_STR(parse_err("mss"), "mss must be mss=0..65535: \"mss\"", "mss without value");
	EQ_STR(parse_err("mss=12x"), "mss must be mss=0..65535: \"mss=12x\"", "mss trailing garbage");
	EQ_STR(parse_err("ts=1"), "ts must be ts or ts=VAL:ECR (each 0..4294967295): \"ts=1\"", "ts without ECR");
	EQ_STR(parse_err("ts=4294967296:0"), "ts must be ts or ts=VAL:ECR (each 0..4294967295): \"ts=4294967296:0\"",
	       "ts value too big");
	OK(strcmp(parse_err("ts=4294967295:4294967295"), "(accepted)") == 0, "ts max accepted");
	EQ_STR(parse_err("nop=1"), "nop=1: this TCP option takes no value", "nop with value");
	EQ_STR(parse_err("sack=1"), "sack=1: this TCP option takes no value", "sack with value");
	EQ_STR(parse_err("raw=256:00"), "raw must be raw=KIND:HEX with KIND 0..255: \"raw=256:00\"", "raw kind 256");
	EQ_STR(parse_err("raw"), "raw must be raw=KIND:HEX with KIND 0..255: \"raw\"", "raw without value");
	EQ_STR(parse_err("raw=9:abc"),
	       "raw data must be an even number of hex digits, at most 38 bytes: \"raw=9:abc\"", "raw odd hex");
	EQ_STR(parse_err("raw=9:zz"),
	       "raw data must be an even number of hex digits, at most 38 bytes: \"raw=9:zz\"", "raw bad hex");
	EQ_STR(parse_err("raw=1:00"), "raw kinds 0 and 1 are one byte and take no data: \"raw=1:00\"",
	       "raw NOP with data");
	EQ_STR(parse_err("tfo=123"),
	       "tfo cookie must be an even number of hex digits, at most 16 bytes: \"tfo=123\"", "tfo odd hex");
	EQ_STR(parse_err("mss=1460,,ts"), "empty item in TCP option list \"mss=1460,,ts\"", "empty item");
	EQ_STR(parse_err("mss=1460,"), "empty item in TCP option list \"mss=1460,\"", "trailing comma");
	EQ_STR(parse_err("md5,md5,nop,nop,nop,nop,nop"), "options exceed 40 bytes", "41 bytes rejected");
	EQ_STR(parse_err("nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,"
	                 "nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop"),
	       "options exceed 40 bytes", "41 NOPs rejected");
	OK(strcmp(parse_err("MSS=1460,SACK"), "(accepted)") == 0, "names are case-insensitive");
}

static void test_encode_spec_overflow(void)
{
	hs_opt_spec spec;
	uint8_t out[HS_OPT_MAXLEN];
	const char *err = NULL;

	/* A spec built by hand that does not fit must be refused, not overflow. */
	memset(&spec, 0, sizeof(spec));
	spec.n = 3;
	for (int i = 0; i < 3; i++) {
		spec.item[i].kind = HS_OPTK_MD5;
	}
	EQ_INT(hs_opt_spec_encode(&spec, 0, 0, out, &err), -1, "54 bytes of options refused");
	EQ_STR(err, "options exceed 40 bytes", "overflow message");
}

static void test_established(void)
{
	uint8_t out[HS_OPT_MAXLEN];
	hs_tcp_opts sack;

	int n = hs_opts_encode_established(true, 100, 200, NULL, out);
	EQ_INT(n, 12, "NOP,NOP,TS is 12 bytes");
	OK(out[0] == 1 && out[1] == 1 && out[2] == 8 && out[3] == 10 && out[7] == 100 && out[11] == 200,
	   "NOP,NOP,TS layout");
	EQ_INT(hs_opts_encode_established(false, 0, 0, NULL, out), 0, "no options without ts");

	memset(&sack, 0, sizeof(sack));
	sack.has = HS_HAS_SACK;
	sack.nsack = 1;
	sack.sack[0].left = 1000;
	sack.sack[0].right = 2000;
	n = hs_opts_encode_established(true, 1, 2, &sack, out);
	EQ_INT(n, 24, "TS + one SACK block = 24 bytes");
	OK(out[12] == 1 && out[13] == 1 && out[14] == 5 && out[15] == 10, "NOP,NOP,SACK header");

	hs_tcp_opts back;
	const char *err = NULL;
	EQ_INT(hs_opts_decode(out, (size_t)n, &back, &err), 0, "established options decode");
	OK(back.has == (HS_HAS_TS | HS_HAS_SACK) && back.ts_val == 1 && back.ts_ecr == 2, "decoded TS");
	OK(back.nsack == 1 && back.sack[0].left == 1000 && back.sack[0].right == 2000, "decoded SACK block");

	sack.nsack = 4;
	for (int i = 0; i < 4; i++) {
		sack.sack[i].left = 10u * (uint32_t)i;
		sack.sack[i].right = 10u * (uint32_t)i + 5;
	}
	n = hs_opts_encode_established(true, 1, 2, &sack, out);
	EQ_INT(n, 40, "TS + 3 SACK blocks (the 4th does not fit)");
	EQ_INT(out[15], 26, "SACK length for 3 blocks");
	n = hs_opts_encode_established(false, 0, 0, &sack, out);
	EQ_INT(n, 36, "4 SACK blocks without TS");
	EQ_INT(out[3], 34, "SACK length for 4 blocks");
}

static void test_decode(void)
{
	/* Linux SYN options, as captured. */
	const uint8_t syn[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 1, 3, 3, 7 };
	hs_tcp_opts o;
	const char *err = NULL;
	char buf[256];

	EQ_INT(hs_opts_decode(syn, sizeof(syn), &o, &err), 0, "Linux SYN options decode");
	EQ_INT(o.has, HS_HAS_MSS | HS_HAS_SACKOK | HS_HAS_TS | HS_HAS_WSCALE, "has bits");
	EQ_INT(o.mss, 1460, "mss");
	EQ_INT(o.wscale, 7, "wscale");
	EQ_INT(o.ts_val, 0x12345678, "ts_val");
	EQ_INT(o.ts_ecr, 0, "ts_ecr");
	EQ_INT(o.raw_len, 20, "raw_len");
	OK(memcmp(o.raw, syn, sizeof(syn)) == 0, "raw bytes kept");
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "mss 1460,sackOK,ts 305419896 0,nop,wscale 7", "text format");
	EQ_STR(hs_opts_format_json(&o, buf, sizeof(buf)), "{\"mss\":1460,\"sack\":true,\"ts\":[305419896,0],\"wscale\":7}",
	       "json format");

	/* Truncated formatting never overflows and stays terminated. */
	char small[10];
	memset(small, 'X', sizeof(small));
	hs_opts_format(&o, small, 8);
	EQ_INT(strlen(small), 7, "text truncated to the buffer");
	EQ_INT(small[8], 'X', "no write past len");
	EQ_STR(hs_opts_format_json(&o, small, 8), "{}", "json too long falls back to {}");
	hs_opts_format_json(&o, small, 1);
	EQ_INT(small[0], 0, "json into 1-byte buffer is empty");

	/* SACK blocks, unknown option, EOL. */
	const uint8_t s2[] = { 1, 1, 5, 18, 0, 0, 0, 100, 0, 0, 0, 200, 0, 0, 1, 44, 0, 0, 1, 144,
	                       99, 4, 0xaa, 0xbb, 0, 7, 7, 7 };
	EQ_INT(hs_opts_decode(s2, sizeof(s2), &o, &err), 0, "SACK+unknown decode");
	EQ_INT(o.has, HS_HAS_SACK | HS_HAS_UNKNOWN, "SACK+unknown has bits");
	EQ_INT(o.nsack, 2, "two blocks");
	OK(o.sack[1].left == 300 && o.sack[1].right == 400, "second block");
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "nop,nop,sack 100-200 300-400,kind 99: aabb,eol", "SACK text");
	EQ_STR(hs_opts_format_json(&o, buf, sizeof(buf)), "{\"sack_blocks\":[[100,200],[300,400]],\"unknown\":[99],\"unknown_opts\":[{\"kind\":99,\"data\":\"aabb\"}]}",
	       "SACK json");

	/* TFO and MD5 */
	uint8_t t[24] = { 34, 6, 0xde, 0xad, 0xbe, 0xef, 19, 18 };
	EQ_INT(hs_opts_decode(t, sizeof(t), &o, &err), 0, "TFO+MD5 decode");
	OK(o.has == (HS_HAS_TFO | HS_HAS_MD5) && o.tfo_len == 4 && o.tfo_cookie[3] == 0xef, "TFO cookie");
	EQ_STR(hs_opts_format_json(&o, buf, sizeof(buf)), "{\"tfo\":\"deadbeef\",\"md5\":true,\"md5_digest\":\"00000000000000000000000000000000\"}", "TFO json");
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "tfo deadbeef,md5 00000000000000000000000000000000", "TFO text");
	const uint8_t treq[] = { 34, 2, 1, 1 };
	EQ_INT(hs_opts_decode(treq, sizeof(treq), &o, &err), 0, "TFO request decode");
	EQ_STR(hs_opts_format_json(&o, buf, sizeof(buf)), "{\"tfo\":\"\",\"tfo_request\":true}", "TFO request json");

	/* Empty */
	EQ_INT(hs_opts_decode(NULL, 0, &o, &err), 0, "empty decode");
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "", "empty text");
	EQ_STR(hs_opts_format_json(&o, buf, sizeof(buf)), "{}", "empty json");

	/* Fields without raw bytes (built by hand). */
	memset(&o, 0, sizeof(o));
	o.has = HS_HAS_MSS | HS_HAS_WSCALE;
	o.mss = 536;
	o.wscale = 2;
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "mss 536,wscale 2", "text from fields");
	o.has = HS_HAS_MSS | HS_HAS_SACKOK | HS_HAS_TS | HS_HAS_WSCALE | HS_HAS_SACK | HS_HAS_TFO | HS_HAS_MD5;
	o.ts_val = 7;
	o.ts_ecr = 8;
	o.nsack = 1;
	o.sack[0].left = 1;
	o.sack[0].right = 2;
	o.tfo_len = 2;
	o.tfo_cookie[0] = 0xab;
	o.tfo_cookie[1] = 0xcd;
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "mss 536,sackOK,ts 7 8,wscale 2,sack 1-2,tfo abcd,md5",
	       "all fields as text");
	EQ_STR(hs_opts_format_json(&o, buf, sizeof(buf)),
	       "{\"mss\":536,\"sack\":true,\"ts\":[7,8],\"wscale\":2,\"sack_blocks\":[[1,2]],\"tfo\":\"abcd\",\"md5\":true}",
	       "all fields as JSON");
	o.nsack = 200; /* corrupt count: clamped, no overread */
	hs_opts_format(&o, buf, sizeof(buf));
	hs_opts_format_json(&o, buf, sizeof(buf));
	OK(strlen(buf) < sizeof(buf), "corrupt SACK count is clamped");
}

static void test_decode_errors(void)
{
	hs_tcp_opts o;
	const char *err;

	const uint8_t len0[] = { 2, 4, 5, 0xb4, 99, 0 };
	err = NULL;
	EQ_INT(hs_opts_decode(len0, sizeof(len0), &o, &err), -1, "length 0 rejected");
	EQ_STR(err, "TCP option length below 2", "length 0 message");
	OK((o.has & HS_HAS_MSS) && o.mss == 1460, "options before the fault kept");
	const uint8_t len1[] = { 99, 1, 0, 0 };
	EQ_INT(hs_opts_decode(len1, sizeof(len1), &o, &err), -1, "length 1 rejected");
	const uint8_t nolen[] = { 1, 1, 1, 8 };
	EQ_INT(hs_opts_decode(nolen, sizeof(nolen), &o, &err), -1, "missing length byte");
	EQ_STR(err, "TCP option length byte missing", "missing length message");
	const uint8_t over[] = { 8, 10, 0, 0, 0, 0 };
	EQ_INT(hs_opts_decode(over, sizeof(over), &o, &err), -1, "overrunning option");
	EQ_STR(err, "TCP option overruns the option space", "overrun message");
	const uint8_t badmss[] = { 2, 3, 5, 0 };
	EQ_INT(hs_opts_decode(badmss, sizeof(badmss), &o, &err), -1, "MSS len 3");
	EQ_STR(err, "bad MSS option length", "MSS length message");
	const uint8_t badws[] = { 3, 4, 5, 0 };
	EQ_INT(hs_opts_decode(badws, sizeof(badws), &o, &err), -1, "WS len 4");
	const uint8_t badts[] = { 8, 8, 0, 0, 0, 0, 0, 0 };
	EQ_INT(hs_opts_decode(badts, sizeof(badts), &o, &err), -1, "TS len 8");
	const uint8_t badsackok[] = { 4, 3, 0, 0 };
	EQ_INT(hs_opts_decode(badsackok, sizeof(badsackok), &o, &err), -1, "SACKOK len 3");
	const uint8_t badsack[] = { 5, 9, 0, 0, 0, 0, 0, 0, 0, 0 };
	EQ_INT(hs_opts_decode(badsack, sizeof(badsack), &o, &err), -1, "SACK len 9");
	uint8_t sack5[42] = { 5, 42 };
	EQ_INT(hs_opts_decode(sack5, sizeof(sack5), &o, &err), -1, "SACK with 5 blocks");
	EQ_STR(err, "bad SACK option length", "SACK 5 blocks message");
	EQ_INT(o.raw_len, 40, "raw_len capped at 40");
	uint8_t tfo[20] = { 34, 19 };
	EQ_INT(hs_opts_decode(tfo, sizeof(tfo), &o, &err), -1, "TFO len 19");
	uint8_t md5[20] = { 19, 17 };
	EQ_INT(hs_opts_decode(md5, sizeof(md5), &o, &err), -1, "MD5 len 17");

	/* The text of a broken list shows where it broke. */
	char buf[128];
	EQ_INT(hs_opts_decode(len0, sizeof(len0), &o, &err), -1, "again");
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "mss 1460,bad-opt (TCP option length below 2) 6300", "bad-opt marker");

	/* EOL stops: garbage after it is not parsed. */
	const uint8_t eol[] = { 1, 0, 99, 0 };
	EQ_INT(hs_opts_decode(eol, sizeof(eol), &o, &err), 0, "EOL stops decoding");
	EQ_INT(o.has, 0, "nothing after EOL");
}

/* Decodes bytes, then checks the decoder's verdict, the text and the JSON. */
static void check_kind(const uint8_t *b, size_t n, int rc, const hs_opts_view *v, const char *text,
                       const char *json, const char *what)
{
	hs_tcp_opts o;
	const char *err = NULL;
	char buf[1024], msg[160];

	snprintf(msg, sizeof(msg), "%s: decode", what);
	EQ_INT(hs_opts_decode(b, n, &o, &err), rc, msg);
	snprintf(msg, sizeof(msg), "%s: text", what);
	EQ_STR(hs_opts_format_view(&o, v, buf, sizeof(buf)), text, msg);
	if (json) {
		snprintf(msg, sizeof(msg), "%s: json", what);
		EQ_STR(hs_opts_format_json_view(&o, v, buf, sizeof(buf)), json, msg);
	}
}

static void test_sack_dsack(void)
{
	/* An ACK of 1001 (base 1000: relative 1) carrying SACK 501..1001 below it: D-SACK. */
	uint8_t ds[12] = { 1, 1, 5, 10 };
	hs_put32(ds + 4, 1500);
	hs_put32(ds + 8, 2000);
	hs_opts_view v = { .has_ack = true, .ack = 2001, .rel = true, .base = 1000 };
	check_kind(ds, sizeof(ds), 0, &v, "nop,nop,sack 500-1000(dsack)",
	           "{\"sack_blocks\":[[1500,2000]],\"rsack_blocks\":[[500,1000]],\"dsack\":true}",
	           "D-SACK below SEG.ACK, relative");
	v.rel = false;
	check_kind(ds, sizeof(ds), 0, &v, "nop,nop,sack 1500-2000(dsack)", NULL, "D-SACK absolute");
	v.ack = 1500; /* the block is above SEG.ACK: an ordinary SACK */
	check_kind(ds, sizeof(ds), 0, &v, "nop,nop,sack 1500-2000",
	           "{\"sack_blocks\":[[1500,2000]]}", "SACK above SEG.ACK: not D-SACK");
	check_kind(ds, sizeof(ds), 0, NULL, "nop,nop,sack 1500-2000", NULL, "no ACK known: not D-SACK");
	/* RFC 2883 4.2: the first block inside the second, both above SEG.ACK. */
	uint8_t d2[20] = { 1, 1, 5, 18 };
	hs_put32(d2 + 4, 3000);
	hs_put32(d2 + 8, 3500);
	hs_put32(d2 + 12, 3000);
	hs_put32(d2 + 16, 4000);
	v.ack = 2000;
	check_kind(d2, sizeof(d2), 0, &v, "nop,nop,sack 3000-3500(dsack) 3000-4000", NULL,
	           "D-SACK inside the second block");
	hs_opts_view noack = { .has_ack = false };
	check_kind(d2, sizeof(d2), 0, &noack, "nop,nop,sack 3000-3500 3000-4000", NULL,
	           "no ACK flag (a SYN): SACK blocks are no D-SACK");
	uint8_t empty[20] = { 1, 1, 5, 18 }; /* 0-0 and 0-0: empty blocks report nothing */
	check_kind(empty, sizeof(empty), 0, &v, "nop,nop,sack 0-0 0-0", NULL, "empty blocks: no D-SACK");
	hs_put32(d2 + 12, 3100); /* no longer inside */
	check_kind(d2, sizeof(d2), 0, &v, "nop,nop,sack 3000-3500 3100-4000", NULL, "first block not inside");
	/* Wraparound: SEG.ACK just past 2^32, block just below it. */
	hs_put32(ds + 4, 0xfffffff0u);
	hs_put32(ds + 8, 0xfffffffeu);
	v.ack = 5;
	check_kind(ds, sizeof(ds), 0, &v, "nop,nop,sack 4294967280-4294967294(dsack)", NULL, "D-SACK across wrap");
	/* Truncated SACK (a block cut short) and a wrong length. */
	const uint8_t st[] = { 5, 10, 0, 0, 0, 1 };
	check_kind(st, sizeof(st), -1, NULL, "bad-opt (TCP option overruns the option space) 050a00000001",
	           "{\"malformed\":\"TCP option overruns the option space\"}", "SACK truncated");
	const uint8_t sw[] = { 5, 6, 0, 0, 0, 1 };
	check_kind(sw, sizeof(sw), -1, NULL, "bad-opt (bad SACK option length) 050600000001", NULL, "SACK len 6");
}

static void test_tfo_md5_ao(void)
{
	const uint8_t req[] = { 34, 2, 1, 1 };
	check_kind(req, sizeof(req), 0, NULL, "tfo cookiereq,nop,nop", "{\"tfo\":\"\",\"tfo_request\":true}",
	           "TFO cookie request");
	const uint8_t ck[] = { 34, 10, 1, 2, 3, 4, 5, 6, 7, 8 };
	check_kind(ck, sizeof(ck), 0, NULL, "tfo 0102030405060708", "{\"tfo\":\"0102030405060708\"}", "TFO cookie");
	const uint8_t exreq[] = { 254, 4, 0xf9, 0x89 };
	check_kind(exreq, sizeof(exreq), 0, NULL, "tfo-exp cookiereq",
	           "{\"tfo\":\"\",\"tfo_request\":true,\"tfo_exp\":true}", "TFO experimental request");
	const uint8_t ex[] = { 254, 8, 0xf9, 0x89, 0xca, 0xfe, 0xba, 0xbe };
	check_kind(ex, sizeof(ex), 0, NULL, "tfo-exp cafebabe", "{\"tfo\":\"cafebabe\",\"tfo_exp\":true}",
	           "TFO experimental cookie");
	const uint8_t exother[] = { 254, 6, 0x12, 0x34, 0xab, 0xcd };
	check_kind(exother, sizeof(exother), 0, NULL, "kind 254: 1234abcd",
	           "{\"unknown\":[254],\"unknown_opts\":[{\"kind\":254,\"data\":\"1234abcd\"}]}",
	           "kind 254 with another ExID: unknown");
	uint8_t exlong[22] = { 254, 22, 0xf9, 0x89 };
	check_kind(exlong, sizeof(exlong), -1, NULL,
	           "bad-opt (bad TFO option length) fe16f989000000000000000000000000000000000000", NULL,
	           "TFO experimental cookie of 18 bytes");
	const uint8_t tt[] = { 34, 10, 1, 2 };
	check_kind(tt, sizeof(tt), -1, NULL, "bad-opt (TCP option overruns the option space) 220a0102", NULL,
	           "TFO truncated");

	uint8_t md5[20] = { 19, 18 };
	for (int i = 0; i < 16; i++)
		md5[2 + i] = (uint8_t)(0xa0 + i);
	check_kind(md5, sizeof(md5), 0, NULL, "md5 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf,eol",
	           "{\"md5\":true,\"md5_digest\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"}", "MD5 digest");
	check_kind(md5, 10, -1, NULL, "bad-opt (TCP option overruns the option space) 1312a0a1a2a3a4a5a6a7", NULL,
	           "MD5 truncated");
	md5[1] = 10;
	check_kind(md5, 10, -1, NULL, "bad-opt (bad MD5 option length) 130aa0a1a2a3a4a5a6a7", NULL, "MD5 len 10");

	const uint8_t ao[] = { 29, 16, 3, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	check_kind(ao, sizeof(ao), 0, NULL, "ao keyid 3 rnext 7 mac 0102030405060708090a0b0c",
	           "{\"ao\":{\"keyid\":3,\"rnext\":7,\"mac\":\"0102030405060708090a0b0c\"}}", "TCP-AO");
	const uint8_t ao2[] = { 2, 4, 5, 0xb4, 29, 4, 1, 2 };
	check_kind(ao2, sizeof(ao2), 0, NULL, "mss 1460,ao keyid 1 rnext 2 mac ",
	           "{\"mss\":1460,\"ao\":{\"keyid\":1,\"rnext\":2,\"mac\":\"\"}}", "TCP-AO without a MAC, after MSS");
	const uint8_t aos[] = { 29, 3, 1, 0 };
	check_kind(aos, sizeof(aos), -1, NULL, "bad-opt (bad TCP-AO option length) 1d030100",
	           "{\"malformed\":\"bad TCP-AO option length\"}", "TCP-AO len 3");
	check_kind(ao, 6, -1, NULL, "bad-opt (TCP option overruns the option space) 1d1003070102", NULL,
	           "TCP-AO truncated");

	const uint8_t unk[] = { 200, 2, 201, 5, 0xaa, 0xbb, 0xcc, 1 };
	check_kind(unk, sizeof(unk), 0, NULL, "kind 200:,kind 201: aabbcc,nop",
	           "{\"unknown\":[200,201],\"unknown_opts\":[{\"kind\":200,\"data\":\"\"},{\"kind\":201,\"data\":\"aabbcc\"}]}",
	           "unknown kinds");
	const uint8_t unkt[] = { 201, 9, 0xaa };
	check_kind(unkt, sizeof(unkt), -1, NULL, "bad-opt (TCP option overruns the option space) c909aa", NULL,
	           "unknown kind truncated");
}

static void test_mptcp(void)
{
	hs_tcp_opts o;
	const char *err;
	/* Linux's v1 SYN: MP_CAPABLE, version 1, flags 0x81 (A: checksum required off, H: HMAC-SHA256). */
	const uint8_t syn[] = { 30, 4, 0x01, 0x81 };
	check_kind(syn, sizeof(syn), 0, NULL, "mptcp MP_CAPABLE version 1 flags 0x81",
	           "{\"mptcp\":[{\"subtype\":\"MP_CAPABLE\",\"subtype_num\":0,\"version\":1,\"flags\":129}]}",
	           "MP_CAPABLE SYN");
	EQ_INT(hs_opts_decode(syn, sizeof(syn), &o, &err), 0, "MP_CAPABLE decodes");
	OK((o.has & HS_HAS_MPTCP) && o.mptcp_subtype == 0, "MPTCP bit and subtype");
	const uint8_t sa[] = { 30, 12, 0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8 };
	check_kind(sa, sizeof(sa), 0, NULL, "mptcp MP_CAPABLE version 1 flags 0x1 key 0102030405060708", NULL,
	           "MP_CAPABLE SYN,ACK with a key");
	uint8_t ack[24] = { 30, 24, 0x01, 0x81 };
	for (int i = 0; i < 16; i++)
		ack[4 + i] = (uint8_t)i;
	ack[20] = 0;
	ack[21] = 5;
	ack[22] = 0xbe;
	ack[23] = 0xef;
	check_kind(ack, sizeof(ack), 0, NULL,
	           "mptcp MP_CAPABLE version 1 flags 0x81 key 0001020304050607 peer_key 08090a0b0c0d0e0f dlen 5 csum 0xbeef",
	           NULL, "MP_CAPABLE with data and checksum");
	const uint8_t capbad[] = { 30, 5, 0x01, 0x81, 0 };
	check_kind(capbad, sizeof(capbad), 0, NULL, "mptcp MP_CAPABLE bad-length 5 data 018100",
	           "{\"mptcp\":[{\"subtype\":\"MP_CAPABLE\",\"subtype_num\":0,\"malformed\":\"length 5\",\"data\":\"018100\"}]}",
	           "MP_CAPABLE of length 5");
	const uint8_t captr[] = { 30, 12, 0x01, 0x81 };
	check_kind(captr, sizeof(captr), -1, NULL, "bad-opt (TCP option overruns the option space) 1e0c0181", NULL,
	           "MP_CAPABLE truncated");
	const uint8_t mp2[] = { 30, 2 };
	check_kind(mp2, sizeof(mp2), -1, NULL, "bad-opt (bad MPTCP option length) 1e02", NULL, "MPTCP without subtype");

	const uint8_t js[] = { 30, 12, 0x11, 2, 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4 };
	check_kind(js, sizeof(js), 0, NULL, "mptcp MP_JOIN phase syn backup id 2 token aabbccdd nonce 01020304",
	           "{\"mptcp\":[{\"subtype\":\"MP_JOIN\",\"subtype_num\":1,\"phase\":\"syn\",\"backup\":true,\"id\":2,"
	           "\"token\":\"aabbccdd\",\"nonce\":\"01020304\"}]}", "MP_JOIN SYN");
	uint8_t jsa[16] = { 30, 16, 0x10, 3 };
	check_kind(jsa, sizeof(jsa), 0, NULL,
	           "mptcp MP_JOIN phase synack id 3 hmac 0000000000000000 nonce 00000000", NULL, "MP_JOIN SYN,ACK");
	uint8_t ja[24] = { 30, 24, 0x10, 0 };
	check_kind(ja, sizeof(ja), 0, NULL,
	           "mptcp MP_JOIN phase ack hmac 0000000000000000000000000000000000000000", NULL, "MP_JOIN ACK");
	check_kind(ja, 13, -1, NULL, "bad-opt (TCP option overruns the option space) 1e181000000000000000000000", NULL,
	           "MP_JOIN truncated");
	ja[1] = 13;
	check_kind(ja, 13, 0, NULL, "mptcp MP_JOIN bad-length 13 data 1000000000000000000000", NULL, "MP_JOIN length 13");

	/* DSS: data ACK (4), DSN (8), subflow seq, length, checksum, DATA_FIN. */
	uint8_t dss[24] = { 30, 24, 0x20, 0x1d };
	hs_put32(dss + 4, 77);
	hs_put32(dss + 8, 0);
	hs_put32(dss + 12, 99);
	hs_put32(dss + 16, 1);
	dss[20] = 0;
	dss[21] = 10;
	dss[22] = 0x12;
	dss[23] = 0x34;
	check_kind(dss, sizeof(dss), 0, NULL, "mptcp DSS flags 0x1d ack 77 dsn 99 ssn 1 dlen 10 csum 0x1234 fin",
	           "{\"mptcp\":[{\"subtype\":\"DSS\",\"subtype_num\":2,\"flags\":29,\"ack\":77,\"dsn\":99,\"ssn\":1,"
	           "\"dlen\":10,\"csum\":4660,\"fin\":true}]}", "DSS with everything");
	const uint8_t dssack[] = { 30, 8, 0x20, 0x01, 0, 0, 1, 0 };
	check_kind(dssack, sizeof(dssack), 0, NULL, "mptcp DSS flags 0x1 ack 256", NULL, "DSS data ACK only");
	const uint8_t dssbad[] = { 30, 6, 0x20, 0x01, 0, 0 };
	check_kind(dssbad, sizeof(dssbad), 0, NULL, "mptcp DSS bad-length 6 data 20010000", NULL,
	           "DSS shorter than its flags say");

	const uint8_t aa[] = { 30, 16, 0x30, 5, 198, 18, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8 };
	check_kind(aa, sizeof(aa), 0, NULL, "mptcp ADD_ADDR id 5 addr 198.18.0.2 hmac 0102030405060708", NULL,
	           "ADD_ADDR IPv4 with HMAC");
	const uint8_t aae[] = { 30, 10, 0x31, 5, 198, 18, 0, 2, 0x1f, 0x90 };
	check_kind(aae, sizeof(aae), 0, NULL, "mptcp ADD_ADDR echo id 5 addr 198.18.0.2 port 8080",
	           "{\"mptcp\":[{\"subtype\":\"ADD_ADDR\",\"subtype_num\":3,\"echo\":true,\"id\":5,"
	           "\"addr\":\"198.18.0.2\",\"port\":8080}]}", "ADD_ADDR echo with port");
	uint8_t aa6[20] = { 30, 20, 0x31, 1, 0x20, 0x01, 0x0d, 0xb8 };
	aa6[19] = 1;
	check_kind(aa6, sizeof(aa6), 0, NULL, "mptcp ADD_ADDR echo id 1 addr 2001:db8::1", NULL, "ADD_ADDR IPv6 echo");
	const uint8_t aabad[] = { 30, 9, 0x30, 5, 198, 18, 0, 2, 0 };
	check_kind(aabad, sizeof(aabad), 0, NULL, "mptcp ADD_ADDR bad-length 9 data 3005c612000200", NULL,
	           "ADD_ADDR length 9");

	const uint8_t ra[] = { 30, 5, 0x40, 1, 2, 1 };
	check_kind(ra, sizeof(ra), 0, NULL, "mptcp REMOVE_ADDR id 1 2,nop",
	           "{\"mptcp\":[{\"subtype\":\"REMOVE_ADDR\",\"subtype_num\":4,\"ids\":[1,2]}]}", "REMOVE_ADDR");
	const uint8_t rabad[] = { 30, 3, 0x40 };
	check_kind(rabad, sizeof(rabad), 0, NULL, "mptcp REMOVE_ADDR bad-length 3 data 40", NULL, "REMOVE_ADDR empty");
	const uint8_t pr[] = { 30, 3, 0x51, 1 };
	check_kind(pr, sizeof(pr), 0, NULL, "mptcp MP_PRIO backup,nop", NULL, "MP_PRIO backup");
	const uint8_t fl[] = { 30, 12, 0x60, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	check_kind(fl, sizeof(fl), 0, NULL, "mptcp MP_FAIL dsn 256", NULL, "MP_FAIL");
	const uint8_t fc[] = { 30, 12, 0x70, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	check_kind(fc, sizeof(fc), 0, NULL, "mptcp MP_FASTCLOSE key 0102030405060708", NULL, "MP_FASTCLOSE");
	const uint8_t fcbad[] = { 30, 11, 0x70, 0, 1, 2, 3, 4, 5, 6, 7 };
	check_kind(fcbad, sizeof(fcbad), 0, NULL, "mptcp MP_FASTCLOSE bad-length 11 data 700001020304050607",
	           NULL, "MP_FASTCLOSE length 11");
	const uint8_t rst[] = { 30, 4, 0x81, 3 };
	check_kind(rst, sizeof(rst), 0, NULL, "mptcp MP_TCPRST flags 0x1 reason 3", NULL, "MP_TCPRST");
	const uint8_t other[] = { 30, 4, 0xc0, 9 };
	check_kind(other, sizeof(other), 0, NULL, "mptcp subtype 12 data c009",
	           "{\"mptcp\":[{\"subtype\":\"unknown\",\"subtype_num\":12,\"data\":\"c009\"}]}", "unassigned subtype");
	/* Two MPTCP options in one segment: both in the JSON array. */
	const uint8_t two[] = { 30, 8, 0x20, 0x01, 0, 0, 0, 9, 30, 3, 0x50, 1 };
	check_kind(two, sizeof(two), 0, NULL, "mptcp DSS flags 0x1 ack 9,mptcp MP_PRIO,nop",
	           "{\"mptcp\":[{\"subtype\":\"DSS\",\"subtype_num\":2,\"flags\":1,\"ack\":9},"
	           "{\"subtype\":\"MP_PRIO\",\"subtype_num\":5}]}", "DSS and MP_PRIO together");

	/* The ladder's view: only what the usual options do not say. */
	const uint8_t mix[] = { 2, 4, 5, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 30, 4, 0x01, 0x81 };
	hs_opts_view nv = { .notable = true };
	check_kind(mix, sizeof(mix), 0, &nv, "mptcp MP_CAPABLE version 1 flags 0x81", NULL, "notable only");
}

int main(void)
{
	test_default();
	test_parse_encode();
	test_parse_errors();
	test_encode_spec_overflow();
	test_established();
	test_decode();
	test_decode_errors();
	test_sack_dsack();
	test_tfo_md5_ao();
	test_mptcp();
	return tap_done();
}
