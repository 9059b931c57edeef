/* TCP options: the --opt grammar, encoding, decoding and formatting. */
#include <config.h>

#include <string.h>

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
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "nop,nop,sack 100-200 300-400,opt-99(4),eol", "SACK text");
	EQ_STR(hs_opts_format_json(&o, buf, sizeof(buf)), "{\"sack_blocks\":[[100,200],[300,400]],\"unknown\":[99]}",
	       "SACK json");

	/* TFO and MD5 */
	uint8_t t[24] = { 34, 6, 0xde, 0xad, 0xbe, 0xef, 19, 18 };
	EQ_INT(hs_opts_decode(t, sizeof(t), &o, &err), 0, "TFO+MD5 decode");
	OK(o.has == (HS_HAS_TFO | HS_HAS_MD5) && o.tfo_len == 4 && o.tfo_cookie[3] == 0xef, "TFO cookie");
	EQ_STR(hs_opts_format_json(&o, buf, sizeof(buf)), "{\"tfo\":\"deadbeef\",\"md5\":true}", "TFO json");
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "tfo deadbeef,md5", "TFO text");
	const uint8_t treq[] = { 34, 2, 1, 1 };
	EQ_INT(hs_opts_decode(treq, sizeof(treq), &o, &err), 0, "TFO request decode");
	EQ_STR(hs_opts_format_json(&o, buf, sizeof(buf)), "{\"tfo\":\"\"}", "TFO request json");

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
	EQ_STR(hs_opts_format(&o, buf, sizeof(buf)), "mss 1460,bad-opt", "bad-opt marker");

	/* EOL stops: garbage after it is not parsed. */
	const uint8_t eol[] = { 1, 0, 99, 0 };
	EQ_INT(hs_opts_decode(eol, sizeof(eol), &o, &err), 0, "EOL stops decoding");
	EQ_INT(o.has, 0, "nothing after EOL");
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
	return tap_done();
}
