/* Output: events rendered as JSON lines (the scripts' contract) and as human lines. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hs/event.h"
#include "hs/opts.h"
#include "hs/output.h"
#include "tap.h"

/* ---- a strict JSON checker: one object, no whitespace outside strings -------------- */

typedef struct jp {
	const char *p, *end;
} jp;

static bool j_value(jp *j, int depth);

static bool j_lit(jp *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool j_hex4(jp *j)
{
	for (int i = 0; i < 4; i++, j->p++)
		if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
			return false;
	return true;
}

/* Raw bytes >= 0x80 must be well-formed UTF-8 (no overlongs, no surrogates). */
static bool j_utf8(jp *j)
{
	const unsigned char *s = (const unsigned char *)j->p;
	size_t left = (size_t)(j->end - j->p), len;
	uint32_t cp, min;

	if ((s[0] & 0xe0) == 0xc0) { len = 2; cp = s[0] & 0x1fu; min = 0x80; }
	else if ((s[0] & 0xf0) == 0xe0) { len = 3; cp = s[0] & 0x0fu; min = 0x800; }
	else if ((s[0] & 0xf8) == 0xf0) { len = 4; cp = s[0] & 0x07u; min = 0x10000; }
	else return false;
	if (left < len)
		return false;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	j->p += len;
	return true;
}

static bool j_string(jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				return false;
			char e = *j->p++;
			if (e == 'u') {
				if (!j_hex4(j))
					return false;
			} else if (!strchr("\"\\/bfnrt", e) || !e) {
				return false;
			}
		} else if (c >= 0x80) {
			if (!j_utf8(j))
				return false;
		} else {
			j->p++;
		}
	}
	return false;
}

static bool j_digits(jp *j)
{
	const char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool j_number(jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!j_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!j_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!j_digits(j))
			return false;
	}
	return true;
}

static bool j_members(jp *j, int depth, char close, bool object)
{
	j->p++;
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		if (object) {
			if (!j_string(j) || j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!j_value(j, depth + 1))
			return false;
		if (j->p >= j->end)
			return false;
		char c = *j->p++;
		if (c == close)
			return true;
		if (c != ',')
			return false;
	}
}

static bool j_value(jp *j, int depth)
{
	if (depth > 32 || j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{': return j_members(j, depth, '}', true);
	case '[': return j_members(j, depth, ']', false);
	case '"': return j_string(j);
	case 't': return j_lit(j, "true");
	case 'f': return j_lit(j, "false");
	case 'n': return j_lit(j, "null");
	default: return j_number(j);
	}
}

/* True when s is exactly one JSON object followed by one '\n' and nothing else. */
static bool json_line_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || s[n - 1] != '\n' || s[0] != '{')
		return false;
	jp j = { s, s + n - 1 };
	return j_value(&j, 0) && j.p == j.end;
}

static void test_checker(void)
{
	OK(json_line_ok("{\"a\":[1,-2.5e3,true,null,\"x\\u00ff\"],\"b\":{}}\n"), "checker accepts good JSON");
	OK(!json_line_ok("{\"a\":1}"), "checker wants the newline");
	OK(!json_line_ok("{\"a\":\"\x01\"}\n"), "checker rejects a raw control byte");
	OK(!json_line_ok("{\"a\":\"\xff\"}\n"), "checker rejects invalid UTF-8");
	OK(!json_line_ok("{\"a\":\"\\x01\"}\n"), "checker rejects \\x escapes");
	OK(!json_line_ok("{\"a\": 1}\n"), "checker rejects spaces");
	OK(!json_line_ok("{\"a\":01}\n"), "checker rejects leading zeros");
	OK(!json_line_ok("{\"a\":1,}\n"), "checker rejects a trailing comma");
	OK(!json_line_ok("{\"a\":1}{}\n"), "checker rejects two objects");
}

/* ---- capturing what hs_output writes ---------------------------------------------- */

static char *out_buf, *err_buf;
static size_t out_len, err_len;
static FILE *out_fp, *err_fp;

static void cap_open(hs_output *o)
{
	out_fp = open_memstream(&out_buf, &out_len);
	err_fp = open_memstream(&err_buf, &err_len);
	hs_output_init(o, out_fp, err_fp);
}

/* Closes the streams; out_buf/err_buf hold everything written (free with cap_free). */
static void cap_close(void)
{
	fclose(out_fp);
	fclose(err_fp);
}

static void cap_free(void)
{
	free(out_buf);
	free(err_buf);
	out_buf = err_buf = NULL;
}

/* Renders one event with the given settings; returns stdout (and err in *err). */
typedef struct settings {
	bool json, quiet, color, hex, absolute, ascii;
	int verbose;
} settings;

static char got_out[200000], got_err[4096];

static void render(const settings *s, const hs_event *ev)
{
	hs_output o;

	cap_open(&o);
	o.view = s->json ? HS_VIEW_JSON : HS_VIEW_LINES;
	o.quiet = s->quiet;
	o.color = s->color;
	o.hex = s->hex;
	o.absolute = s->absolute;
	o.verbose = s->verbose;
	o.ascii = s->ascii;
	hs_output_emit(&o, ev);
	cap_close();
	snprintf(got_out, sizeof(got_out), "%s", out_buf);
	snprintf(got_err, sizeof(got_err), "%s", err_buf);
	cap_free();
}

/* ---- fixtures -------------------------------------------------------------------------- */

static hs_endpoint ep_local, ep_remote;

static void endpoints(void)
{
	ep_local.addr.family = AF_INET;
	inet_pton(AF_INET, "198.18.0.1", &ep_local.addr.u.v4);
	ep_local.port = 40000;
	ep_remote.addr.family = AF_INET;
	inet_pton(AF_INET, "198.18.0.2", &ep_remote.addr.u.v4);
	ep_remote.port = 8080;
}

/* Linux's SYN options: mss 1460, sackOK, ts VAL ECR, nop, wscale 7. */
static void linux_syn_opts(hs_tcp_opts *o, uint32_t val, uint32_t ecr)
{
	uint8_t b[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
	for (int i = 0; i < 4; i++) {
		b[8 + i] = (uint8_t)(val >> (24 - 8 * i));
		b[12 + i] = (uint8_t)(ecr >> (24 - 8 * i));
	}
	memset(o, 0, sizeof(*o));
	hs_opts_decode(b, sizeof(b), o, NULL);
}

static void make_seg(hs_segment *s, enum hs_dir dir, uint8_t flags, uint32_t seq, uint32_t ack,
                     uint16_t win)
{
	memset(s, 0, sizeof(*s));
	s->src = dir == HS_DIR_OUT ? ep_local : ep_remote;
	s->dst = dir == HS_DIR_OUT ? ep_remote : ep_local;
	s->flags = flags;
	s->seq = seq;
	s->ack = ack;
	s->win = win;
	s->ttl = 64;
	s->csum = 0xbeef;
}

static hs_event seg_event(const hs_segment *s, enum hs_dir dir, uint64_t t_ns, uint32_t rseq,
                          uint32_t rack, hs_state st, hs_state peer)
{
	hs_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = HS_EV_SEGMENT;
	ev.t_ns = t_ns;
	ev.dir = dir;
	ev.seg = s;
	ev.rseq = rseq;
	ev.rack = rack;
	ev.state = st;
	ev.peer_state = peer;
	return ev;
}

static const settings JSON = { .json = true };
static const settings HUMAN = { .json = false };

/* ---- JSON ---------------------------------------------------------------------------- */

static void test_json_syn(void)
{
	hs_segment s;
	make_seg(&s, HS_DIR_OUT, HS_SYN, 1000, 0, 64240);
	linux_syn_opts(&s.opts, 123, 0);
	hs_event ev = seg_event(&s, HS_DIR_OUT, 412000, 0, 0, HS_SYN_SENT, HS_CLOSED);

	render(&JSON, &ev);
	EQ_STR(got_out,
	       "{\"type\":\"segment\",\"t\":0.000412,\"dir\":\"out\",\"src\":\"198.18.0.1:40000\","
	       "\"dst\":\"198.18.0.2:8080\",\"flags\":\"SYN\",\"seq\":1000,\"ack\":0,\"rseq\":0,"
	       "\"rack\":0,\"win\":64240,\"len\":0,"
	       "\"opts\":{\"mss\":1460,\"sack\":true,\"ts\":[123,0],\"wscale\":7},"
	       "\"state\":\"SYN-SENT\",\"peer_state\":\"CLOSED\"}\n",
	       "JSON SYN matches the INTERFACE.md example field by field");
	OK(json_line_ok(got_out), "JSON SYN is valid JSON");
	EQ_STR(got_err, "", "nothing on stderr");

	/* Seconds past 1, and nanoseconds truncated to microseconds. */
	ev.t_ns = 12 * 1000000000ull + 3456789;
	render(&JSON, &ev);
	OK(strstr(got_out, "\"t\":12.003456,") != NULL, "t has 6 decimals in seconds");

	/* Verbose adds the TTL at the end. */
	settings v = JSON;
	v.verbose = 1;
	render(&v, &ev);
	OK(strstr(got_out, "\"peer_state\":\"CLOSED\",\"ttl\":64,\"csum\":48879,"
	   "\"notation\":\"S 0:0(0) win 64240 <mss 1460,sackOK,TS val 123 ecr 0,nop,wscale 7>\"}\n") != NULL,
	   "verbose adds ttl, csum and the notation last (no csum_status when unchecked)");
	s.csum_status = HS_CSUM_OFFLOAD;
	render(&v, &ev);
	OK(strstr(got_out, "\"ttl\":64,\"csum\":48879,\"csum_status\":\"offload\",\"notation\":") != NULL,
	   "verbose JSON: csum_status offload");
	s.csum_status = HS_CSUM_OK;
	render(&v, &ev);
	OK(strstr(got_out, "\"csum\":48879,\"csum_status\":\"ok\",\"notation\":") != NULL, "verbose JSON: csum_status ok");
	s.csum_status = HS_CSUM_BAD;
	render(&JSON, &ev);
	OK(strstr(got_out, "\"csum_status\":\"bad\"}\n") != NULL, "a bad checksum is in the JSON without -v");
	s.csum_status = HS_CSUM_OK;
	s.csum_status = HS_CSUM_UNCHECKED;
}

static void test_json_synack(void)
{
	hs_segment s;
	make_seg(&s, HS_DIR_IN, HS_SYN | HS_ACK, 5000, 1001, 65160);
	linux_syn_opts(&s.opts, 987, 123);
	hs_event ev = seg_event(&s, HS_DIR_IN, 1000000, 0, 1, HS_ESTABLISHED, HS_SYN_RECEIVED);

	render(&JSON, &ev);
	EQ_STR(got_out,
	       "{\"type\":\"segment\",\"t\":0.001000,\"dir\":\"in\",\"src\":\"198.18.0.2:8080\","
	       "\"dst\":\"198.18.0.1:40000\",\"flags\":\"SYN,ACK\",\"seq\":5000,\"ack\":1001,\"rseq\":0,"
	       "\"rack\":1,\"win\":65160,\"len\":0,"
	       "\"opts\":{\"mss\":1460,\"sack\":true,\"ts\":[987,123],\"wscale\":7},"
	       "\"state\":\"ESTABLISHED\",\"peer_state\":\"SYN-RECEIVED\"}\n",
	       "JSON SYN,ACK with options");
	OK(json_line_ok(got_out), "JSON SYN,ACK is valid JSON");

	/* No options, no flags. */
	hs_segment z;
	make_seg(&z, HS_DIR_IN, 0, 7, 0, 0);
	ev = seg_event(&z, HS_DIR_IN, 0, 0, 0, HS_ESTABLISHED, HS_ESTABLISHED);
	render(&JSON, &ev);
	OK(strstr(got_out, "\"flags\":\"\",") != NULL, "no flags: empty string");
	OK(strstr(got_out, "\"opts\":{},") != NULL, "no options: empty object");
	OK(json_line_ok(got_out), "flagless segment is valid JSON");
}

static void test_json_data(void)
{
	static const uint8_t payload[] = "say \"hi\"\\\n\r\t\x01\x7f\xff\xe2\x86\x92";
	hs_segment s;
	make_seg(&s, HS_DIR_IN, HS_PSH | HS_ACK, 5001, 1001, 509);
	s.payload = payload;
	s.len = sizeof(payload) - 1;
	hs_event ev = seg_event(&s, HS_DIR_IN, 2000000, 1, 1, HS_ESTABLISHED, HS_ESTABLISHED);
	ev.note = HS_NOTE_RETRANSMISSION;

	render(&JSON, &ev);
	OK(strstr(got_out, ",\"win\":509,\"len\":18,") != NULL, "len counts payload bytes");
	const char *tail = strstr(got_out, ",\"state\"");
	EQ_STR(tail,
	       ",\"state\":\"ESTABLISHED\",\"peer_state\":\"ESTABLISHED\","
	       "\"data\":\"say \\\"hi\\\"\\\\\\n\\r\\t\\u0001\\u007f\\u00ff\\u00e2\\u0086\\u0092\","
	       "\"note\":\"retransmission\"}\n",
	       "data escaped byte by byte, then note");
	OK(json_line_ok(got_out), "data segment is valid JSON");

	settings x = JSON;
	x.hex = true;
	render(&x, &ev);
	OK(strstr(got_out, "\\u0092\",\"data_hex\":\"7361792022686922"
	                   "5c0a0d09017fffe28692\",\"note\"") != NULL,
	   "-x adds data_hex after data");
	OK(json_line_ok(got_out), "data_hex segment is valid JSON");

	ev.note_text = "kernel \"RST\"";
	render(&JSON, &ev);
	OK(strstr(got_out, ",\"note\":\"kernel \\\"RST\\\"\"}\n") != NULL, "note_text overrides note, escaped");
}

static void test_json_big_payload(void)
{
	static uint8_t payload[20000];
	memset(payload, 0xff, sizeof(payload));
	payload[0] = 'A';
	payload[sizeof(payload) - 1] = 'Z';
	hs_segment s;
	make_seg(&s, HS_DIR_IN, HS_ACK, 1, 1, 100);
	s.payload = payload;
	s.len = sizeof(payload);
	hs_event ev = seg_event(&s, HS_DIR_IN, 0, 1, 1, HS_ESTABLISHED, HS_ESTABLISHED);

	render(&JSON, &ev);
	OK(json_line_ok(got_out), "20000-byte payload: still one valid JSON line");
	const char *d = strstr(got_out, "\"data\":\"A");
	OK(d && strlen(d) == 7 + 1 + 1 + 19998 * 6 + 1 + 1 + 1 + 1, "the whole payload is there");
	OK(d && strstr(d, "\\u00ffZ\"}") != NULL, "ends with the last byte");
}

static void test_json_state(void)
{
	hs_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = HS_EV_STATE;
	ev.t_ns = 1000412000;
	ev.change.from = HS_TIME_WAIT;
	ev.change.to = HS_CLOSED;
	ev.change.why = "2MSL";

	render(&JSON, &ev);
	EQ_STR(got_out, "{\"type\":\"state\",\"t\":1.000412,\"from\":\"TIME-WAIT\",\"to\":\"CLOSED\",\"why\":\"2MSL\"}\n",
	       "JSON state change without a segment");
	ev.change.peer = true;
	render(&JSON, &ev);
	EQ_STR(got_out, "{\"type\":\"state\",\"t\":1.000412,\"from\":\"TIME-WAIT\",\"to\":\"CLOSED\",\"why\":\"2MSL\","
	       "\"side\":\"peer\"}\n", "peer change says side peer");
	ev.by_segment = true;
	render(&JSON, &ev);
	/* Human and JSON render the same events: every change is a JSON line too. */
	EQ_STR(got_out, "{\"type\":\"state\",\"t\":1.000412,\"from\":\"TIME-WAIT\",\"to\":\"CLOSED\",\"why\":\"2MSL\","
	       "\"side\":\"peer\",\"cause\":\"segment\"}\n", "a change caused by a segment is a JSON line, cause segment");
	render(&HUMAN, &ev);
	OK(strstr(got_out, "TIME-WAIT") != NULL, "and a human line");
	ev.change.assumed = true;
	render(&JSON, &ev);
	OK(strstr(got_out, "\"basis\":\"assumed\"") != NULL, "an assumed peer change says so in JSON");
	render(&HUMAN, &ev);
	OK(strstr(got_out, "(assumed)") != NULL, "and in the human line");
}

static void test_json_icmp(void)
{
	hs_icmp_error ic;
	memset(&ic, 0, sizeof(ic));
	ic.reporter = ep_remote;
	ic.reporter.port = 0;
	ic.family = AF_INET;
	ic.type = 3;
	ic.code = 3;
	ic.orig_src = ep_local;
	ic.orig_dst = ep_remote;
	ic.orig_seq = 1000;
	hs_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = HS_EV_ICMP;
	ev.t_ns = 1000000;
	ev.icmp = &ic;

	render(&JSON, &ev);
	EQ_STR(got_out, "{\"type\":\"icmp\",\"t\":0.001000,\"from\":\"198.18.0.2\",\"icmp_type\":3,\"icmp_code\":3,"
	       "\"text\":\"port unreachable\",\"about\":\"198.18.0.1:40000>198.18.0.2:8080\"}\n",
	       "JSON ICMP port unreachable");

	settings h = HUMAN;
	h.ascii = true;
	render(&h, &ev);
	EQ_STR(got_out, "   0.001000  <- ICMP port unreachable from 198.18.0.2 (type 3 code 3) "
	       "about 198.18.0.1:40000 -> 198.18.0.2:8080\n", "human ICMP line");

	ic.code = 13;
	render(&JSON, &ev);
	OK(strstr(got_out, "\"text\":\"communication administratively prohibited\"") != NULL, "v4 admin prohibited");
	ic.family = AF_INET6;
	ic.type = 1;
	ic.code = 4;
	render(&JSON, &ev);
	OK(strstr(got_out, "\"icmp_type\":1,\"icmp_code\":4,\"text\":\"port unreachable\"") != NULL, "v6 port unreachable");
	ic.code = 0;
	render(&JSON, &ev);
	OK(strstr(got_out, "\"text\":\"no route to destination\"") != NULL, "v6 no route");
	ic.type = 3;
	render(&JSON, &ev);
	OK(strstr(got_out, "\"text\":\"hop limit exceeded\"") != NULL, "v6 time exceeded");
	ic.family = AF_INET;
	ic.type = 11;
	render(&JSON, &ev);
	OK(strstr(got_out, "\"text\":\"TTL exceeded\"") != NULL, "v4 time exceeded");
}

static void test_json_info_result(void)
{
	hs_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = HS_EV_INFO;
	ev.t_ns = 5;
	ev.text = "listening on \"eth0\"\x01 \xe2\x86\x92 \xff";
	render(&JSON, &ev);
	EQ_STR(got_out, "{\"type\":\"info\",\"t\":0.000000,\"text\":\"listening on \\\"eth0\\\"\\u0001 \xe2\x86\x92 \\u00ff\"}\n",
	       "JSON info: UTF-8 kept, stray bytes escaped");
	OK(json_line_ok(got_out), "JSON info is valid JSON");

	memset(&ev, 0, sizeof(ev));
	ev.type = HS_EV_RESULT;
	ev.t_ns = 402000;
	ev.outcome = "established";
	ev.exit_code = 0;
	ev.local = &ep_local;
	ev.remote = &ep_remote;
	ev.conn_id = "1";
	ev.final_state = HS_ESTABLISHED;
	ev.final_peer_state = HS_ESTABLISHED;
	render(&JSON, &ev);
	EQ_STR(got_out, "{\"type\":\"result\",\"outcome\":\"established\",\"exit\":0,\"local\":\"198.18.0.1:40000\","
	       "\"remote\":\"198.18.0.2:8080\",\"state\":\"ESTABLISHED\",\"peer_state\":\"ESTABLISHED\","
	       "\"conn\":\"1\",\"t\":0.000402}\n", "JSON result with conn");
	EQ_STR(got_err, "", "success: nothing on stderr");

	ev.conn_id = NULL;
	ev.local = NULL;
	ev.outcome = "refused";
	ev.exit_code = 1;
	ev.final_state = HS_CLOSED;
	ev.final_peer_state = HS_CLOSED;
	ev.text = "connection refused by 198.18.0.2:8080 (RST,ACK)";
	render(&JSON, &ev);
	EQ_STR(got_out, "{\"type\":\"result\",\"outcome\":\"refused\",\"exit\":1,\"remote\":\"198.18.0.2:8080\","
	       "\"state\":\"CLOSED\",\"peer_state\":\"CLOSED\","
	       "\"message\":\"connection refused by 198.18.0.2:8080 (RST,ACK)\",\"t\":0.000402}\n",
	       "JSON result without conn, with message");
	EQ_STR(got_err, "hs: connection refused by 198.18.0.2:8080 (RST,ACK)\n", "JSON failure: one line on stderr too");
	OK(json_line_ok(got_out), "JSON result is valid JSON");

	settings q = JSON;
	q.quiet = true;
	render(&q, &ev);
	OK(strncmp(got_out, "{\"type\":\"result\"", 16) == 0, "quiet changes nothing in JSON (result)");
}

static void test_json_quiet_unchanged(void)
{
	hs_segment s;
	make_seg(&s, HS_DIR_OUT, HS_SYN, 1000, 0, 64240);
	hs_event ev = seg_event(&s, HS_DIR_OUT, 0, 0, 0, HS_SYN_SENT, HS_CLOSED);
	settings q = JSON;
	q.quiet = true;
	render(&q, &ev);
	OK(strncmp(got_out, "{\"type\":\"segment\"", 17) == 0, "quiet changes nothing in JSON (segment)");
}

/* ---- escaping ------------------------------------------------------------------------- */

static void test_escape(void)
{
	const uint8_t in[] = { 'a', '"', '\\', '\n', 0x01, 0xff, 'z' };
	char out[64];

	EQ_INT(hs_escape_text(in, sizeof(in), out, sizeof(out), false), 16, "text escape length");
	EQ_STR(out, "a\\\"\\\\\\n\\x01\\xffz", "text escape");
	EQ_INT(hs_escape_text(in, sizeof(in), out, sizeof(out), true), 20, "JSON escape length");
	EQ_STR(out, "a\\\"\\\\\\n\\u0001\\u00ffz", "JSON escape");
	/* 8 bytes of room for 7 characters: "a\"\\\n" is 7, the next escape does not fit. */
	EQ_INT(hs_escape_text(in, sizeof(in), out, 8, true), 7, "truncation never splits an escape");
	EQ_STR(out, "a\\\"\\\\\\n", "truncated text");
	EQ_INT(hs_escape_text(in, sizeof(in), out, 1, true), 0, "no room: empty string");
	EQ_STR(out, "", "no room: NUL-terminated");
}

/* ---- human lines ----------------------------------------------------------------------- */

static void test_human_segments(void)
{
	settings h = HUMAN;
	h.ascii = false;

	hs_segment syn;
	make_seg(&syn, HS_DIR_OUT, HS_SYN, 1000, 0, 64240);
	linux_syn_opts(&syn.opts, 1234, 0);
	hs_event ev = seg_event(&syn, HS_DIR_OUT, 41000, 0, 0, HS_SYN_SENT, HS_CLOSED);
	render(&h, &ev);
	EQ_STR(got_out, "   0.000041  \u2192 SYN          seq 0                  win 64240  "
	       "<mss 1460,sackOK,ts 1234 0,nop,wscale 7>\n", "human SYN: no ack, options");

	hs_segment sa;
	make_seg(&sa, HS_DIR_IN, HS_SYN | HS_ACK, 5000, 1001, 65160);
	linux_syn_opts(&sa.opts, 987, 1234);
	ev = seg_event(&sa, HS_DIR_IN, 388000, 0, 1, HS_ESTABLISHED, HS_SYN_RECEIVED);
	render(&h, &ev);
	EQ_STR(got_out, "   0.000388  \u2190 SYN,ACK      seq 0       ack 1      win 65160  "
	       "<mss 1460,sackOK,ts 987 1234,nop,wscale 7>\n", "human SYN,ACK: ack and options");

	hs_segment ack;
	make_seg(&ack, HS_DIR_OUT, HS_ACK, 1001, 5001, 502);
	ev = seg_event(&ack, HS_DIR_OUT, 402000, 1, 1, HS_ESTABLISHED, HS_ESTABLISHED);
	render(&h, &ev);
	EQ_STR(got_out, "   0.000402  \u2192 ACK          seq 1       ack 1      win 502\n",
	       "human ACK: no options, no trailing blanks");

	/* A scaled window: the header value, then what it means in bytes. */
	ev.win_shift = 7;
	render(&h, &ev);
	EQ_STR(got_out, "   0.000402  \u2192 ACK          seq 1       ack 1      win 502 (64256)\n",
	       "human ACK: scaled window in bytes");
	render(&JSON, &ev);
	OK(strstr(got_out, ",\"win\":502,") && strstr(got_out, ",\"win_scaled\":64256,"),
	   "JSON: win as in the header, win_scaled in bytes");
	ev.win_shift = 0;
	render(&JSON, &ev);
	OK(!strstr(got_out, "win_scaled"), "JSON: no win_scaled without scaling");

	static const uint8_t hello[] = "hello\n\"x\"";
	hs_segment d;
	make_seg(&d, HS_DIR_OUT, HS_PSH | HS_ACK, 1001, 5001, 502);
	d.payload = hello;
	d.len = sizeof(hello) - 1;
	ev = seg_event(&d, HS_DIR_OUT, 500000, 1, 1, HS_ESTABLISHED, HS_ESTABLISHED);
	ev.note = HS_NOTE_RETRANSMISSION;
	render(&h, &ev);
	EQ_STR(got_out, "   0.000500  \u2192 PSH,ACK      seq 1:10    ack 1      win 502    len 9  [retransmission]\n"
	       "             | \"hello\\n\\\"x\\\"\"\n", "human data: range, len, note, payload line");

	h.absolute = true;
	render(&h, &ev);
	EQ_STR(got_out, "   0.000500  \u2192 PSH,ACK      seq 1001:1010   ack 5001        win 502    len 9  "
	       "[retransmission]\n             | \"hello\\n\\\"x\\\"\"\n", "human absolute seq/ack");

	h.absolute = false;
	h.verbose = 1;
	render(&h, &ev);
	EQ_STR(got_out, "   0.000500  \u2192 PSH,ACK      seq 1001:1010 (rel 1:10)  ack 5001 (rel 1)        "
	       "win 502    len 9  ttl 64  csum 0xbeef  [retransmission]\n"
	       "             = P. 1:10(9) ack 1 win 502\n"
	       "             | \"hello\\n\\\"x\\\"\"\n", "verbose: absolute with relative, ttl, csum, the notation");
	d.csum_status = HS_CSUM_OFFLOAD;
	render(&h, &ev);
	OK(strstr(got_out, "  ttl 64  csum 0xbeef (offload)  [retransmission]\n") != NULL, "verbose: partial csum says offload");
	d.csum_status = HS_CSUM_BAD;
	render(&h, &ev);
	OK(strstr(got_out, "  ttl 64  csum 0xbeef (bad)  [retransmission]\n") != NULL, "verbose: bad csum says bad");
	d.csum_status = HS_CSUM_OK;
	render(&h, &ev);
	OK(strstr(got_out, "  ttl 64  csum 0xbeef  [retransmission]\n") != NULL, "verbose: valid csum bare");
	d.csum_status = HS_CSUM_UNCHECKED;

	h.verbose = 0;
	h.hex = true;
	render(&h, &ev);
	EQ_STR(got_out, "   0.000500  \u2192 PSH,ACK      seq 1:10    ack 1      win 502    len 9  [retransmission]\n"
	       "             | 0000  68 65 6c 6c 6f 0a 22 78  22                       hello.\"x\"\n",
	       "hex dump with -x");

	/* Long payload: truncated, total shown. */
	static uint8_t big[1000];
	memset(big, 'a', sizeof(big));
	d.payload = big;
	d.len = sizeof(big);
	ev.note = HS_NOTE_NONE;
	h.hex = false;
	render(&h, &ev);
	const char *pl = strchr(got_out, '\n');
	OK(pl && strstr(pl, "\"\u2026(1000 bytes)\n") != NULL, "long payload truncated with total size");
	OK(pl && strlen(pl) < 260, "truncated payload line stays short");

	/* 17 bytes of hex: two dump lines. */
	h.hex = true;
	d.len = 17;
	render(&h, &ev);
	pl = strchr(got_out, '\n');
	OK(pl && strstr(pl, "\n             | 0010  61 ") != NULL, "second hex line at offset 0x10");
}

static void test_human_states(void)
{
	settings h = HUMAN;
	hs_output o;
	hs_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = HS_EV_STATE;
	ev.t_ns = 388000;
	ev.by_segment = true;

	cap_open(&o);
	o.ascii = false;
	ev.change = (hs_change){ .peer = false, .from = HS_SYN_SENT, .to = HS_ESTABLISHED, .why = "SYN,ACK received" };
	hs_output_emit(&o, &ev);
	ev.change = (hs_change){ .peer = true, .from = HS_CLOSED, .to = HS_SYN_RECEIVED, .why = NULL };
	hs_output_emit(&o, &ev);
	ev.t_ns = 402000;
	ev.change = (hs_change){ .peer = true, .from = HS_SYN_RECEIVED, .to = HS_ESTABLISHED, .why = "ACK sent" };
	hs_output_emit(&o, &ev);
	cap_close();
	EQ_STR(out_buf,
	       "   0.000388  SYN-SENT \u2192 ESTABLISHED             SYN,ACK received\n"
	       "             peer CLOSED \u2192 SYN-RECEIVED\n"
	       "   0.000402  peer SYN-RECEIVED \u2192 ESTABLISHED    ACK sent\n",
	       "state lines: aligned reasons, same instant shares the time");
	cap_free();

	h.ascii = true;
	ev.change = (hs_change){ .peer = false, .from = HS_TIME_WAIT, .to = HS_CLOSED, .why = "2MSL" };
	render(&h, &ev);
	EQ_STR(got_out, "   0.000402  TIME-WAIT -> CLOSED                2MSL\n", "ASCII arrows");
}

static void test_human_result_quiet(void)
{
	settings h = HUMAN;
	hs_event res;
	memset(&res, 0, sizeof(res));
	res.type = HS_EV_RESULT;
	res.t_ns = 402000;
	res.outcome = "established";
	res.local = &ep_local;
	res.remote = &ep_remote;
	res.conn_id = "1";
	res.final_state = HS_ESTABLISHED;
	res.final_peer_state = HS_ESTABLISHED;

	render(&h, &res);
	EQ_STR(got_out, "   0.000402  established 198.18.0.1:40000 \u2192 198.18.0.2:8080 "
	       "(ESTABLISHED, peer ESTABLISHED), kept as 1\n", "human success result on stdout");
	EQ_STR(got_err, "", "human success: nothing on stderr");

	h.quiet = true;
	render(&h, &res);
	EQ_STR(got_out, "established 198.18.0.1:40000 \u2192 198.18.0.2:8080 "
	       "(ESTABLISHED, peer ESTABLISHED), kept as 1\n", "quiet: the bare result");

	hs_segment s;
	make_seg(&s, HS_DIR_OUT, HS_SYN, 1, 0, 1);
	hs_event seg = seg_event(&s, HS_DIR_OUT, 0, 0, 0, HS_SYN_SENT, HS_CLOSED);
	render(&h, &seg);
	EQ_STR(got_out, "", "quiet: segments suppressed");
	hs_event info;
	memset(&info, 0, sizeof(info));
	info.type = HS_EV_INFO;
	info.text = "hello";
	render(&h, &info);
	EQ_STR(got_out, "", "quiet: info suppressed");

	res.exit_code = 3;
	res.outcome = "timeout";
	res.conn_id = NULL;
	res.text = "no reply from 198.18.0.2:8080 after 3 retries";
	render(&h, &res);
	EQ_STR(got_out, "", "quiet failure: nothing on stdout");
	EQ_STR(got_err, "hs: no reply from 198.18.0.2:8080 after 3 retries\n", "quiet failure: line on stderr");

	h.quiet = false;
	render(&h, &res);
	EQ_STR(got_out, "", "human failure: nothing on stdout");
	EQ_STR(got_err, "hs: no reply from 198.18.0.2:8080 after 3 retries\n", "human failure: one line on stderr");

	res.text = NULL;
	h.ascii = true;
	render(&h, &res);
	EQ_STR(got_err, "hs: timeout 198.18.0.1:40000 -> 198.18.0.2:8080\n", "failure without text: outcome and endpoints");

	render(&h, &info);
	EQ_STR(got_out, "   0.000000  # hello\n", "info line");
}

static void test_color(void)
{
	hs_segment s;
	make_seg(&s, HS_DIR_OUT, HS_SYN, 1000, 0, 64240);
	linux_syn_opts(&s.opts, 1, 0);
	hs_event ev = seg_event(&s, HS_DIR_OUT, 0, 0, 0, HS_SYN_SENT, HS_CLOSED);
	hs_event st;
	memset(&st, 0, sizeof(st));
	st.type = HS_EV_STATE;
	st.change = (hs_change){ .from = HS_CLOSED, .to = HS_SYN_SENT, .why = "SYN sent" };

	settings h = HUMAN;
	render(&h, &ev);
	OK(strchr(got_out, '\033') == NULL, "no escape codes without color (segment)");
	render(&h, &st);
	OK(strchr(got_out, '\033') == NULL, "no escape codes without color (state)");

	h.color = true;
	render(&h, &ev);
	OK(strstr(got_out, "\033[32m\u2192 SYN\033[0m") != NULL, "out arrow and flags green");
	/* Columns do not count escape codes: the text lines up as without color. */
	OK(strstr(got_out, "\033[0m          seq 0") != NULL, "color keeps the alignment");
	render(&h, &st);
	OK(strstr(got_out, "\033[1mCLOSED\033[0m") != NULL, "state names bold");

	make_seg(&s, HS_DIR_IN, HS_RST | HS_ACK, 0, 1001, 0);
	ev = seg_event(&s, HS_DIR_IN, 0, 0, 1, HS_CLOSED, HS_CLOSED);
	render(&h, &ev);
	OK(strstr(got_out, "\033[31m\u2190 RST,ACK\033[0m") != NULL, "RST red");
	make_seg(&s, HS_DIR_IN, HS_ACK, 0, 1001, 0);
	render(&h, &ev);
	OK(strstr(got_out, "\033[36m\u2190 ACK\033[0m") != NULL, "in cyan");

	settings j = JSON;
	j.color = true;
	render(&j, &ev);
	OK(strchr(got_out, '\033') == NULL, "never color in JSON");
}

static void test_locale(void)
{
	hs_output o;

	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		OK(1, "# SKIP no C.UTF-8 locale");
	} else {
		hs_output_init(&o, stdout, stderr);
		OK(!o.ascii, "UTF-8 locale: arrows");
	}
	setlocale(LC_CTYPE, "C");
	hs_output_init(&o, stdout, stderr);
	OK(o.ascii, "C locale: ASCII arrows");
	OK(o.view == HS_VIEW_LINES && !o.color && !o.quiet && o.verbose == 0 && o.fp == stdout && o.err == stderr,
	   "init defaults");
}


/* hs ls: one line per kept connection, then the result with a count. */
static void test_conn_listing(void)
{
	hs_conn_view k = {
		.id = "3", .local = &ep_local, .remote = &ep_remote, .state = HS_ESTABLISHED,
		.peer_state = HS_ESTABLISHED, .age_s = 12, .guard = "hs_kept_42_0", .probe = "alive",
		.status = "alive, 5 unread bytes", .stale = false, .unread = 5,
	};
	hs_event ev = { .type = HS_EV_CONN, .t_ns = 1000, .conn = &k, .first = true };
	render(&JSON, &ev);
	EQ_STR(got_out, "{\"type\":\"conn\",\"id\":\"3\",\"local\":\"198.18.0.1:40000\",\"remote\":\"198.18.0.2:8080\","
	       "\"state\":\"ESTABLISHED\",\"peer_state\":\"ESTABLISHED\",\"age\":12,\"guard\":\"hs_kept_42_0\","
	       "\"stale\":false,\"probe\":\"alive\",\"unread\":5}\n", "JSON conn line");
	OK(json_line_ok(got_out), "JSON conn line is valid");
	render(&HUMAN, &ev);
	OK(strncmp(got_out, "ID   LOCAL", 10) == 0, "human: header before the first connection");
	OK(strstr(got_out, "\n3    198.18.0.1:40000       198.18.0.2:8080        ESTABLISHED  ESTABLISHED    "
	              "12s  hs_kept_42_0      alive, 5 unread bytes\n") != NULL, "human: the connection's row");
	ev.first = false;
	render(&HUMAN, &ev);
	OK(strncmp(got_out, "3 ", 2) == 0, "human: no header after the first");

	hs_event res = { .type = HS_EV_RESULT, .t_ns = 2000, .outcome = "listed", .listing = true, .count = 0 };
	render(&JSON, &res);
	EQ_STR(got_out, "{\"type\":\"result\",\"outcome\":\"listed\",\"exit\":0,\"count\":0,\"t\":0.000002}\n",
	       "JSON listing result: count, no states");
	render(&HUMAN, &res);
	EQ_STR(got_out, "no kept connections\n", "human: an empty listing says so");
	res.count = 1;
	render(&HUMAN, &res);
	EQ_STR(got_out, "", "human: a listing ends without a result line");
}

/* A line that cannot be written (a full disk, a closed pipe) is remembered, the
 * first error kept; a healthy stream reports none. */
static void test_write_error(void)
{
	hs_output o;
	hs_event info = { .type = HS_EV_INFO, .t_ns = 1000, .text = "hello" };
	const char *which = NULL;
	FILE *full = fopen("/dev/full", "w");
	FILE *null = fopen("/dev/null", "w");

	OK(full && null, "/dev/full and /dev/null open");
	if (!full || !null)
		return;
	hs_output_init(&o, null, NULL);
	hs_output_emit(&o, &info);
	EQ_INT(hs_output_write_error(&o, &which), 0, "/dev/null: no write error");

	hs_output_init(&o, full, null);
	o.view = HS_VIEW_JSON;
	hs_output_emit(&o, &info);
	EQ_INT(hs_output_write_error(&o, &which), ENOSPC, "/dev/full: ENOSPC");
	EQ_STR(which, "stdout", "named as stdout");
	hs_output_emit(&o, &info);
	EQ_INT(o.fp_errno, ENOSPC, "the first error stays");
	EQ_INT(o.err_errno, 0, "stderr unaffected");

	/* -w -: the lines go to stderr, and that is the stream named */
	hs_output_init(&o, stderr, NULL);
	EQ_INT(hs_output_write_error(&o, &which), 0, "no error before any write");
	EQ_STR(which, "stderr", "fp is stderr: named stderr");

	/* an error only on err (the failure line) does not stop a run */
	hs_output_init(&o, null, full);
	hs_event res = { .type = HS_EV_RESULT, .outcome = "timeout", .exit_code = 3, .text = "x" };
	hs_output_emit(&o, &res);
	EQ_INT(hs_output_write_error(&o, NULL), 0, "err full: not a write error of the run");
	EQ_INT(o.err_errno, ENOSPC, "but remembered");
	fclose(full);
	fclose(null);
}

/* hs_output_defer: lines stay in stdio's buffer until a flush (the hot path writes
 * nothing); a result goes out at once; an output without a stream takes it too. */
static long file_size(FILE *f)
{
	struct stat st;
	return fstat(fileno(f), &st) == 0 ? (long)st.st_size : -1;
}

static void test_defer(void)
{
	hs_output o;
	hs_event info = { .type = HS_EV_INFO, .t_ns = 1000, .text = "hello" };
	hs_event res = { .type = HS_EV_RESULT, .outcome = "established", .exit_code = 0, .text = "x" };
	/* A file (not a memstream, which grows as stdio writes into it): what reached
	 * the kernel is its size. */
	FILE *f = tmpfile(), *null = fopen("/dev/null", "w");

	OK(f && null, "a temporary file and /dev/null open");
	if (!f || !null)
		return;
	hs_output_init(&o, f, null);
	hs_output_defer(&o, true);
	hs_output_emit(&o, &info);
	EQ_INT((int)file_size(f), 0, "deferred: nothing written yet");
	hs_output_flush(&o);
	long before = file_size(f);
	OK(before > 0, "flushed: the line is out");
	hs_output_emit(&o, &info);
	EQ_INT((int)file_size(f), (int)before, "deferred again: nothing more written");
	hs_output_defer(&o, false);
	OK(file_size(f) > before, "turning it off writes what was held");
	hs_output_defer(&o, true);
	before = file_size(f);
	hs_output_emit(&o, &res);
	OK(file_size(f) > before, "a result is written at once, deferred or not");
	fclose(f);
	fclose(null);

	/* hs ls's probes run a session whose output has no stream */
	hs_output_init(&o, NULL, NULL);
	hs_output_defer(&o, true);
	hs_output_emit(&o, &info);
	hs_output_defer(&o, false);
	hs_output_flush(&o);
	EQ_INT(hs_output_write_error(&o, NULL), 0, "no stream: nothing written, no error, no crash");
}

/* ---- a connection's ends and its end (HS_EV_OPEN, HS_EV_END), the summary -------------- */

/* Renders events in order into one hs_output. */
static void render_seq(const settings *s, const hs_event *evs, int n)
{
	hs_output o;

	cap_open(&o);
	o.view = s->json ? HS_VIEW_JSON : HS_VIEW_LINES;
	o.quiet = s->quiet;
	o.ascii = s->ascii;
	for (int i = 0; i < n; i++)
		hs_output_emit(&o, &evs[i]);
	hs_output_close(&o);
	cap_close();
	snprintf(got_out, sizeof(got_out), "%s", out_buf);
	snprintf(got_err, sizeof(got_err), "%s", err_buf);
	cap_free();
}

static hs_event open_event(bool observed, int conn_index)
{
	hs_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = HS_EV_OPEN;
	ev.t_ns = 1000;
	ev.local = &ep_local;
	ev.remote = &ep_remote;
	ev.observed = observed;
	ev.local_name = observed ? "A" : "us";
	ev.remote_name = observed ? "B" : "peer";
	ev.conn_index = conn_index;
	return ev;
}

static void test_open_end(void)
{
	hs_event ev[2];

	ev[0] = open_event(true, 2);
	render_seq(&JSON, ev, 1);
	EQ_STR(got_out, "{\"type\":\"open\",\"t\":0.000001,\"local\":\"198.18.0.1:40000\",\"remote\":\"198.18.0.2:8080\","
	       "\"local_name\":\"A\",\"remote_name\":\"B\",\"observed\":true,\"conn\":2}\n", "JSON open of an observed connection");
	OK(json_line_ok(got_out), "JSON open is valid JSON");
	render_seq(&HUMAN, ev, 1);
	EQ_STR(got_out, "   0.000001  connection 2: A 198.18.0.1:40000 <-> B 198.18.0.2:8080\n",
	       "lines: an observed connection's ends named");

	ev[0] = open_event(false, 0);
	render_seq(&JSON, ev, 1);
	EQ_STR(got_out, "{\"type\":\"open\",\"t\":0.000001,\"local\":\"198.18.0.1:40000\",\"remote\":\"198.18.0.2:8080\","
	       "\"local_name\":\"us\",\"remote_name\":\"peer\",\"observed\":false}\n", "JSON open of hs's own connection");
	render_seq(&HUMAN, ev, 1);
	EQ_STR(got_out, "", "lines: hs's own connection's open is not a line (the result names the ends)");

	ev[0] = open_event(true, 1);
	memset(&ev[1], 0, sizeof(ev[1]));
	ev[1].type = HS_EV_END;
	ev[1].t_ns = 2500000;
	ev[1].conn_index = 1;
	ev[1].final_state = HS_TIME_WAIT;
	ev[1].final_peer_state = HS_CLOSED;
	render_seq(&JSON, ev, 2);
	const char *end = strchr(got_out, '\n') + 1;
	EQ_STR(end, "{\"type\":\"end\",\"t\":0.002500,\"conn\":1,\"state\":\"TIME-WAIT\",\"peer_state\":\"CLOSED\"}\n",
	       "JSON end: final states; no summary without figures");
	OK(json_line_ok(end), "JSON end is valid JSON");
	render_seq(&HUMAN, ev, 2);
	end = strchr(got_out, '\n') + 1;
	EQ_STR(end, "   0.002500  end of connection 1: A TIME-WAIT, B CLOSED\n", "lines: the end names both final states");
}

/* The summary rides on the result (and the end): whatever summary.c writes, it is
 * passed on whole, and only when the connection has figures. */
static void test_summary(void)
{
	hs_summary sum;
	char sj[1024] = "", st[1024] = "", want[4096];
	hs_sbuf bj = { sj, sizeof(sj), 0, false }, bt = { st, sizeof(st), 0, false };
	hs_event res;

	hs_summary_init(&sum);
	sum.segments[0] = 4;
	sum.segments[1] = 3;
	sum.bytes[0] = sum.bytes[1] = 5;
	sum.has_rtt = true;
	sum.rtt_ns = 51000;
	hs_summary_json(&sum, &bj);
	hs_summary_text(&sum, "us", "peer", &bt);

	memset(&res, 0, sizeof(res));
	res.type = HS_EV_RESULT;
	res.t_ns = 402000;
	res.outcome = "closed";
	res.final_state = HS_TIME_WAIT;
	res.final_peer_state = HS_CLOSED;
	res.summary = &sum;
	render(&JSON, &res);
	snprintf(want, sizeof(want), "{\"type\":\"result\",\"outcome\":\"closed\",\"exit\":0,\"state\":\"TIME-WAIT\","
	         "\"peer_state\":\"CLOSED\",\"summary\":%s,\"t\":0.000402}\n", sj);
	EQ_STR(got_out, want, "JSON result carries the summary before t");
	OK(json_line_ok(got_out), "JSON result with summary is valid JSON");

	render(&HUMAN, &res);
	snprintf(want, sizeof(want), "%s%s%s   0.000402  closed (TIME-WAIT, peer CLOSED)\n", st[0] ? "             " : "", st,
	         st[0] ? "\n" : "");
	EQ_STR(got_out, want, "lines: the summary on its own line before the result (when it says anything)");

	settings q = HUMAN;
	q.quiet = true;
	render(&q, &res);
	EQ_STR(got_out, "closed (TIME-WAIT, peer CLOSED)\n", "quiet: no summary line");

	/* A run that saw segments and failed (refused): the figures still, on stdout;
	 * the one line on stderr. */
	res.exit_code = 1;
	res.outcome = "refused";
	res.text = "connection refused";
	render(&HUMAN, &res);
	OK(st[0] && strstr(got_out, st) != NULL, "lines: a failed run's summary on stdout");
	OK(strstr(got_err, "hs: connection refused") != NULL, "lines: and its one line on stderr");
	render(&q, &res);
	EQ_STR(got_out, "", "quiet: a failed run prints no summary");
	res.exit_code = 0;
	res.outcome = "closed";
	res.text = NULL;

	hs_summary_init(&sum);
	render(&JSON, &res);
	OK(strstr(got_out, "summary") == NULL, "no figures: no summary field");
}

/* An observed connection (live rst/fin, -r): both ends named in state lines and
 * JSON "side", and hs's own segments sent as an end marked. */
static void test_observed_names(void)
{
	hs_event ev[3];
	hs_segment sg;

	ev[0] = open_event(true, 0);
	memset(&ev[1], 0, sizeof(ev[1]));
	ev[1].type = HS_EV_STATE;
	ev[1].t_ns = 2000;
	ev[1].change = (hs_change){ .peer = true, .from = HS_ESTABLISHED, .to = HS_CLOSE_WAIT, .why = "FIN received",
	                            .assumed = true };
	memset(&ev[2], 0, sizeof(ev[2]));
	ev[2].type = HS_EV_STATE;
	ev[2].t_ns = 2000;
	ev[2].change = (hs_change){ .peer = false, .from = HS_ESTABLISHED, .to = HS_FIN_WAIT_1, .why = "FIN sent" };
	render_seq(&HUMAN, ev, 3);
	OK(strstr(got_out, "  B ESTABLISHED \u2192 CLOSE-WAIT") || strstr(got_out, "  B ESTABLISHED -> CLOSE-WAIT"),
	   "lines: B's change named B, not peer");
	OK(strstr(got_out, "  A ESTABLISHED") != NULL, "lines: A's change named A");
	OK(strstr(got_out, "peer") == NULL, "lines: no side called peer");
	render_seq(&JSON, ev, 3);
	OK(strstr(got_out, "\"to\":\"CLOSE-WAIT\",\"why\":\"FIN received\",\"side\":\"B\",\"basis\":\"assumed\"") != NULL,
	   "JSON: side B, assumed");
	OK(strstr(got_out, "\"to\":\"FIN-WAIT-1\",\"why\":\"FIN sent\",\"side\":\"A\"}") != NULL, "JSON: side A");

	make_seg(&sg, HS_DIR_OUT, HS_RST, 7, 0, 0);
	ev[1] = seg_event(&sg, HS_DIR_OUT, 3000, 7, 0, HS_CLOSED, HS_ESTABLISHED);
	ev[1].spoofed = true;
	render_seq(&JSON, ev, 2);
	OK(strstr(got_out, "\"spoofed\":true") != NULL, "JSON: a segment hs sent as A is marked spoofed");
	OK(json_line_ok(strchr(got_out, '\n') + 1), "JSON spoofed segment is valid JSON");
	render_seq(&HUMAN, ev, 2);
	OK(strstr(got_out, "[as A->B]") != NULL, "lines: a spoofed segment names the end hs sent it as");
	ev[1].spoofed = false;
	render_seq(&JSON, ev, 2);
	OK(strstr(got_out, "spoofed") == NULL, "JSON: the ends' own segments carry no spoofed field");
	OK(strstr(got_out, "t_other") == NULL && strstr(got_out, "lost") == NULL, "JSON: one capture: no t_other, no lost");

	/* -r with two captures: the far end's time, or lost. */
	ev[1].has_t_other = true;
	ev[1].t_other_ns = 3250;
	render_seq(&JSON, ev, 2);
	OK(strstr(got_out, ",\"t_other\":0.000003") != NULL, "JSON: t_other in seconds");
	OK(json_line_ok(strchr(got_out, '\n') + 1), "JSON with t_other is valid JSON");
	render_seq(&HUMAN, ev, 2);
	OK(strstr(got_out, "(arrived 0.000003)") != NULL, "lines: when the far end's capture saw it");
	ev[1].has_t_other = false;
	ev[1].lost = true;
	render_seq(&JSON, ev, 2);
	OK(strstr(got_out, ",\"lost\":true") != NULL, "JSON: lost");
	render_seq(&HUMAN, ev, 2);
	OK(strstr(got_out, "[lost]") != NULL, "lines: lost");

	/* -r's result: a listing with its text, also with -q. */
	hs_event r;
	memset(&r, 0, sizeof(r));
	r.type = HS_EV_RESULT;
	r.outcome = "read";
	r.listing = true;
	r.count = 2;
	r.text = "2 connections in x.pcap";
	settings q = HUMAN;
	q.quiet = true;
	render(&q, &r);
	EQ_STR(got_out, "2 connections in x.pcap\n", "lines -q: -r's result says what was read");
}

/* SACK blocks in the numbers the line shows, D-SACK marked (lines and JSON): the
 * renderers find the ISN of the acknowledged data as SEG.ACK minus the relative ack. */
static void test_sack_options(void)
{
	/* The peer's ACK of 1006 (ours from ISS 1000: relative 6) reporting 1001..1006 again. */
	uint8_t b[12] = { 1, 1, 5, 10, 0, 0, 0x03, 0xe9, 0, 0, 0x03, 0xee };
	hs_segment a;
	make_seg(&a, HS_DIR_IN, HS_ACK, 5001, 1006, 64);
	hs_opts_decode(b, sizeof(b), &a.opts, NULL);
	hs_event ev = seg_event(&a, HS_DIR_IN, 1000, 1, 6, HS_ESTABLISHED, HS_ESTABLISHED);
	settings h = HUMAN;

	render(&h, &ev);
	OK(strstr(got_out, "<nop,nop,sack 1-6(dsack)>") != NULL, "lines: D-SACK relative, marked");
	h.absolute = true;
	render(&h, &ev);
	OK(strstr(got_out, "<nop,nop,sack 1001-1006(dsack)>") != NULL, "lines -A: D-SACK absolute");
	render(&JSON, &ev);
	OK(strstr(got_out, "\"opts\":{\"sack_blocks\":[[1001,1006]],\"rsack_blocks\":[[1,6]],\"dsack\":true},") != NULL,
	   "JSON: absolute and relative blocks, dsack");
	OK(json_line_ok(got_out), "JSON with SACK blocks is valid JSON");
	/* A block above SEG.ACK: an ordinary SACK. */
	a.ack = 1001;
	ev.rack = 1;
	render(&JSON, &ev);
	OK(strstr(got_out, "\"rsack_blocks\":[[1,6]]}") != NULL, "JSON: SACK above the ACK, no dsack");

	/* MPTCP and an unknown kind in the same line, JSON valid. */
	const uint8_t m[12] = { 30, 4, 0x01, 0x81, 99, 4, 0xaa, 0xbb, 29, 4, 1, 2 };
	hs_opts_decode(m, sizeof(m), &a.opts, NULL);
	render(&HUMAN, &ev);
	OK(strstr(got_out, "<mptcp MP_CAPABLE version 1 flags 0x81,kind 99: aabb,ao keyid 1 rnext 2 mac >") != NULL,
	   "lines: MPTCP, unknown, AO");
	render(&JSON, &ev);
	OK(json_line_ok(got_out), "JSON with MPTCP, AO, unknown is valid JSON");
}

int main(void)
{
	endpoints();
	test_observed_names();
	test_write_error();
	test_checker();
	test_json_syn();
	test_json_synack();
	test_json_data();
	test_json_big_payload();
	test_json_state();
	test_json_icmp();
	test_json_info_result();
	test_json_quiet_unchanged();
	test_escape();
	test_human_segments();
	test_human_states();
	test_human_result_quiet();
	test_color();
	test_locale();
	test_conn_listing();
	test_open_end();
	test_defer();
	test_summary();
	test_sack_options();
	return tap_done();
}
