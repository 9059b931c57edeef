/* The pcapng sink (lib/render_pcapng.c over lib/pcapng.c): events in, a file out
 * whose packets carry the comments, times and bytes the events say; nothing left
 * behind by a run that never started; a write error kept for the run (sink_errno)
 * with the file cut back to its last whole packet. The file is read back here
 * block by block (fuzz/fuzz_pcapng.c checks the writer against libpcap; the bats
 * suite checks hs's files with tshark). */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs/addr.h"
#include "hs/event.h"
#include "hs/output.h"
#include "hs/render.h"
#include "hs/segment.h"
#include "tap.h"

#define MAXPKT 16
#define T0 1700000000123456789ull

struct pkt {
	uint64_t ts;
	uint32_t caplen, len;
	uint8_t data[256];
	char comment[512];
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* The packets of a pcapng file hs wrote (host byte order); -1 if it is not one. */
static int read_pcapng(const char *path, struct pkt *out, int max)
{
	static uint8_t buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n, at = 0;
	int k = 0;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n < 28 || rd32(buf) != 0x0A0D0D0Au || rd32(buf + 8) != 0x1A2B3C4Du)
		return -1;
	while (at + 12 <= n) {
		uint32_t type = rd32(buf + at), len = rd32(buf + at + 4);
		if (len < 12 || at + len > n || rd32(buf + at + len - 4) != len)
			return -1;
		if (type == 6 && k < max) {
			struct pkt *p = &out[k++];
			const uint8_t *b = buf + at;
			memset(p, 0, sizeof(*p));
			p->ts = (uint64_t)rd32(b + 12) << 32 | rd32(b + 16);
			p->caplen = rd32(b + 20);
			p->len = rd32(b + 24);
			memcpy(p->data, b + 28, p->caplen < sizeof(p->data) ? p->caplen : sizeof(p->data));
			size_t o = 28 + ((p->caplen + 3) & ~3u);
			if (o + 4 <= len - 4 && rd16(b + o) == 1)
				snprintf(p->comment, sizeof(p->comment), "%.*s", rd16(b + o + 2), (const char *)b + o + 4);
		}
		at += len;
	}
	return at == n ? k : -1;
}

static hs_endpoint ep(const char *s)
{
	hs_endpoint e;
	hs_endpoint_parse(s, &e);
	return e;
}

static FILE *devnull;

static bool open_sink(hs_output *o, const char *path)
{
	char err[256];

	hs_output_init(o, devnull, devnull);
	o->view = HS_VIEW_JSON;
	o->pcapng_path = path;
	return hs_output_add_sink(o, &hs_render_pcapng, err, sizeof(err)) == 0;
}

static void state(hs_output *o, uint64_t t, bool peer, hs_state from, hs_state to, bool by_segment, bool by_call,
                  bool assumed)
{
	hs_event ev = { .type = HS_EV_STATE, .t_ns = t, .by_segment = by_segment, .by_call = by_call };
	ev.change.peer = peer;
	ev.change.from = from;
	ev.change.to = to;
	ev.change.assumed = assumed;
	hs_output_emit(o, &ev);
}

static void result(hs_output *o, uint64_t t)
{
	hs_event ev = { .type = HS_EV_RESULT, .t_ns = t, .outcome = "established" };
	hs_output_emit(o, &ev);
}

/* hs's own connection: changes before (a call) and after (the segment) each packet,
 * an encoded segment, a captured one, a note, a timer's change, an ICMP error. */
static void test_own(const char *path)
{
	hs_endpoint us = ep("198.18.0.1:40000"), peer = ep("198.18.0.2:8080");
	hs_output o;
	hs_segment syn = { .src = us, .dst = peer, .seq = 1000, .flags = HS_SYN, .win = 64240, .ttl = 64 };
	hs_segment synack = { .src = peer, .dst = us, .seq = 5000, .ack = 1001, .flags = HS_SYN | HS_ACK };
	hs_segment ack = { .src = us, .dst = peer, .seq = 1001, .ack = 5001, .flags = HS_ACK, .win = 502, .ttl = 64 };
	uint8_t wire[44] = { 0x45, 0, 0, 44 }; /* what the capture brought (only its bytes matter here) */
	uint8_t icmp_ip[56] = { 0x45, 0, 0, 56, [9] = 1 };
	hs_icmp_error ic = { .family = AF_INET, .type = 3, .code = 3 };
	struct pkt p[MAXPKT];

	unlink(path);
	OK(open_sink(&o, path), "own: the sink opens");
	hs_event open = { .type = HS_EV_OPEN, .local = &us, .remote = &peer, .local_name = "us", .remote_name = "peer",
	                  .wall_t0_ns = T0 };
	hs_output_emit(&o, &open);
	state(&o, 1000, false, HS_CLOSED, HS_SYN_SENT, false, true, false);
	hs_event e1 = { .type = HS_EV_SEGMENT, .t_ns = 1000, .dir = HS_DIR_OUT, .seg = &syn, .state = HS_SYN_SENT,
	                .peer_state = HS_SYN_RECEIVED, .peer_assumed = true };
	hs_output_emit(&o, &e1);
	state(&o, 1000, true, HS_LISTEN, HS_SYN_RECEIVED, true, false, true);
	hs_event e2 = { .type = HS_EV_SEGMENT, .t_ns = 2000, .dir = HS_DIR_IN, .seg = &synack, .state = HS_ESTABLISHED,
	                .peer_state = HS_SYN_RECEIVED, .ip = wire, .ip_caplen = sizeof(wire), .ip_len = 60 };
	hs_output_emit(&o, &e2);
	state(&o, 2000, false, HS_SYN_SENT, HS_ESTABLISHED, true, false, false);
	hs_event e3 = { .type = HS_EV_SEGMENT, .t_ns = 3000, .dir = HS_DIR_OUT, .seg = &ack, .state = HS_ESTABLISHED,
	                .peer_state = HS_ESTABLISHED, .note = HS_NOTE_RETRANSMISSION };
	hs_output_emit(&o, &e3);
	state(&o, 3500, false, HS_ESTABLISHED, HS_CLOSE_WAIT, false, false, false); /* a timer's: no packet's */
	hs_event e4 = { .type = HS_EV_ICMP, .t_ns = 4000, .icmp = &ic, .ip = icmp_ip, .ip_caplen = sizeof(icmp_ip),
	                .ip_len = sizeof(icmp_ip) };
	hs_output_emit(&o, &e4);
	state(&o, 4000, false, HS_CLOSE_WAIT, HS_CLOSED, false, false, false);
	result(&o, 5000);
	EQ_INT(o.sink_errno, 0, "own: no write error");

	int n = read_pcapng(path, p, MAXPKT);
	EQ_INT(n, 4, "own: four packets (the timer's change is no packet)");
	if (n != 4)
		return;
	EQ_STR(p[0].comment, "CLOSED \u2192 SYN-SENT; peer LISTEN \u2192 SYN-RECEIVED (assumed)",
	       "own: the call's change before the SYN, the peer's after it");
	EQ_STR(p[1].comment, "SYN-SENT \u2192 ESTABLISHED; peer SYN-RECEIVED", "own: an unchanged side says its state");
	EQ_STR(p[2].comment, "ESTABLISHED; peer ESTABLISHED [retransmission]", "own: the note in brackets");
	EQ_STR(p[3].comment, "ICMP port unreachable; CLOSE-WAIT \u2192 CLOSED", "own: the ICMP error and its change");
	EQ_INT(p[0].ts, T0 + 1000, "own: time = wall_t0 + t");
	EQ_INT(p[3].ts, T0 + 4000, "own: the ICMP's time");
	EQ_INT(p[1].caplen, sizeof(wire), "own: the captured bytes as given");
	EQ_INT(p[1].len, 60, "own: ... with the datagram's length");
	EQ_INT(p[3].caplen, sizeof(icmp_ip), "own: the ICMP datagram as given");

	/* The SYN had no bytes: encoded, and it decodes back to itself, checksum valid. */
	hs_packet dec;
	const char *why = NULL;
	EQ_INT(p[0].caplen, 40, "own: the SYN encoded (20 + 20 bytes)");
	OK(hs_decode_ip(p[0].data, p[0].caplen, &dec, &why) == 0 && dec.kind == HS_PKT_TCP, "own: the SYN decodes");
	OK(dec.u.tcp.seq == 1000 && dec.u.tcp.flags == HS_SYN && dec.u.tcp.win == 64240 &&
	   hs_endpoint_equal(&dec.u.tcp.src, &us) && hs_endpoint_equal(&dec.u.tcp.dst, &peer),
	   "own: ... with its numbers and ends");
	EQ_INT(dec.u.tcp.csum_status, HS_CSUM_OK, "own: ... and a valid checksum");
	unlink(path);
}

/* A connection hs observes: its ends' names, chains, a correction, a spoofed one. */
static void test_observed(const char *path)
{
	hs_endpoint a = ep("198.18.0.1:40000"), b = ep("198.18.0.2:8080");
	hs_output o;
	hs_segment fin = { .src = b, .dst = a, .seq = 7, .ack = 9, .flags = HS_FIN | HS_ACK };
	hs_segment rst = { .src = a, .dst = b, .seq = 9, .flags = HS_RST };
	struct pkt p[MAXPKT];

	unlink(path);
	OK(open_sink(&o, path), "observed: the sink opens");
	hs_event open = { .type = HS_EV_OPEN, .local = &a, .remote = &b, .local_name = "A", .remote_name = "B",
	                  .observed = true, .wall_t0_ns = T0 };
	hs_output_emit(&o, &open);
	hs_event e1 = { .type = HS_EV_SEGMENT, .t_ns = 10, .dir = HS_DIR_IN, .seg = &fin, .state = HS_TIME_WAIT,
	                .peer_state = HS_FIN_WAIT_2 };
	hs_output_emit(&o, &e1);
	state(&o, 10, false, HS_FIN_WAIT_1, HS_CLOSING, true, false, false);
	state(&o, 10, false, HS_CLOSING, HS_TIME_WAIT, true, false, true);
	state(&o, 10, true, HS_ESTABLISHED, HS_FIN_WAIT_1, true, false, false);
	hs_event e2 = { .type = HS_EV_SEGMENT, .t_ns = 20, .dir = HS_DIR_OUT, .seg = &rst, .state = HS_CLOSED,
	                .peer_state = HS_FIN_WAIT_1, .spoofed = true, .lost = true };
	hs_output_emit(&o, &e2);
	hs_event corr = { .type = HS_EV_STATE, .t_ns = 20, .by_segment = true };
	corr.change.peer = true;
	corr.change.from = HS_CLOSED;
	corr.change.to = HS_FIN_WAIT_1;
	corr.change.correction = true;
	hs_output_emit(&o, &corr);
	result(&o, 30);

	int n = read_pcapng(path, p, MAXPKT);
	EQ_INT(n, 2, "observed: two packets");
	if (n != 2)
		return;
	EQ_STR(p[0].comment, "A FIN-WAIT-1 \u2192 CLOSING \u2192 TIME-WAIT (assumed); B ESTABLISHED \u2192 FIN-WAIT-1",
	       "observed: named ends, a chain of changes, A's inferred one assumed as in the lines");
	EQ_STR(p[1].comment, "A CLOSED; B still FIN-WAIT-1, not CLOSED [sent by hs as A] [lost]",
	       "observed: a correction, a segment hs sent as A, lost (two captures)");
	unlink(path);
}

/* A run that ends before it told anything (die() after the options: its JSON
 * result alone) leaves no file, and an existing one as it was. */
static void test_nothing_left(const char *path)
{
	hs_output o;
	struct stat st;

	unlink(path);
	OK(open_sink(&o, path), "bad input: the sink opens");
	hs_event ev = { .type = HS_EV_RESULT, .outcome = "error", .exit_code = 2, .text = "bad host" };
	hs_output_emit(&o, &ev);
	OK(stat(path, &st) != 0 && errno == ENOENT, "bad input: no file left");

	FILE *f = fopen(path, "w");
	fputs("not a capture\n", f);
	fclose(f);
	OK(open_sink(&o, path), "bad input: the sink opens an existing file");
	hs_output_close(&o);
	char buf[64] = "";
	f = fopen(path, "r");
	OK(f && fgets(buf, sizeof(buf), f), "bad input: the existing file is still there");
	if (f)
		fclose(f);
	EQ_STR(buf, "not a capture\n", "bad input: ... as it was");

	/* A run that told something but sent nothing: a valid, empty capture. */
	unlink(path);
	OK(open_sink(&o, path), "empty run: the sink opens");
	hs_event info = { .type = HS_EV_INFO, .text = "listening on port 9000" };
	hs_output_emit(&o, &info);
	result(&o, 1);
	struct pkt p[1];
	EQ_INT(read_pcapng(path, p, 1), 0, "empty run: a pcapng file without packets");
	unlink(path);

	char err[256] = "";
	hs_output_init(&o, devnull, devnull);
	o.pcapng_path = "/dev/full";
	EQ_INT(hs_output_add_sink(&o, &hs_render_pcapng, err, sizeof(err)), -1, "/dev/full: refused at open");
	EQ_STR(err, "cannot write /dev/full: No space left on device", "/dev/full: the reason");
	o.pcapng_path = "/nonexistent-dir/x.pcapng";
	EQ_INT(hs_output_add_sink(&o, &hs_render_pcapng, err, sizeof(err)), -1, "no such dir: refused at open");
	EQ_STR(err, "cannot write /nonexistent-dir/x.pcapng: No such file or directory", "no such dir: the reason");
}

/* A file that cannot grow (RLIMIT_FSIZE: EFBIG): the run is told (sink_errno), and
 * the file ends with its last whole packet. */
static void test_write_error(const char *path)
{
	hs_endpoint us = ep("198.18.0.1:40000"), peer = ep("198.18.0.2:8080");
	static uint8_t data[300];
	hs_segment seg = { .src = us, .dst = peer, .seq = 1, .ack = 1, .flags = HS_ACK, .ttl = 64, .payload = data,
	                   .len = sizeof(data) };
	struct rlimit old, lim;
	hs_output o;
	struct pkt p[MAXPKT];

	unlink(path);
	OK(open_sink(&o, path), "EFBIG: the sink opens");
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 1000; /* the header blocks and two packets of ~420 bytes */
	setrlimit(RLIMIT_FSIZE, &lim);
	for (int i = 0; i < 4; i++) {
		hs_event ev = { .type = HS_EV_SEGMENT, .t_ns = (uint64_t)i, .dir = HS_DIR_OUT, .seg = &seg,
		                .state = HS_ESTABLISHED, .peer_state = HS_ESTABLISHED };
		hs_output_emit(&o, &ev);
	}
	EQ_INT(o.sink_errno, EFBIG, "EFBIG: the run is told");
	EQ_STR(o.sink_name, "pcapng", "EFBIG: ... which sink");
	result(&o, 10);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	EQ_INT(read_pcapng(path, p, MAXPKT), 2, "EFBIG: the file holds the two whole packets, nothing of the third");
	unlink(path);
}

/* The last packet waits for the changes that follow it; once the driver has been
 * quiet (hs_output_idle), it is on disk -- before the next event, and with it
 * the changes that came. */
static void test_idle_writes_held(const char *path)
{
	hs_endpoint us = ep("198.18.0.1:40000"), peer = ep("198.18.0.2:8080");
	hs_segment syn = { .src = us, .dst = peer, .seq = 1000, .flags = HS_SYN, .win = 64240, .ttl = 64 };
	struct pkt p[MAXPKT];
	hs_output o;

	unlink(path);
	OK(open_sink(&o, path), "idle: the sink opens");
	hs_event e = { .type = HS_EV_SEGMENT, .t_ns = 10, .dir = HS_DIR_OUT, .seg = &syn, .state = HS_SYN_SENT };
	hs_output_emit(&o, &e);
	state(&o, 10, false, HS_CLOSED, HS_SYN_SENT, true, false, false);
	OK(hs_output_holding(&o), "idle: the SYN is held for the changes after it");
	OK(read_pcapng(path, p, MAXPKT) <= 0, "idle: not on disk yet");
	hs_output_idle(&o);
	OK(!hs_output_holding(&o), "idle: nothing held after");
	int n = read_pcapng(path, p, MAXPKT);
	EQ_INT(n, 1, "idle: the SYN is on disk");
	if (n == 1)
		EQ_STR(p[0].comment, "CLOSED \u2192 SYN-SENT; peer CLOSED", "idle: with the change that followed it");
	result(&o, 20);
	EQ_INT(read_pcapng(path, p, MAXPKT), 1, "idle: written once");
	unlink(path);
}

int main(void)
{
	char path[64];

	devnull = fopen("/dev/null", "w");
	snprintf(path, sizeof(path), "/tmp/hs-test-pcapng-%ld.pcapng", (long)getpid());
	test_own(path);
	test_observed(path);
	test_nothing_left(path);
	test_write_error(path);
	test_idle_writes_held(path);
	fclose(devnull);
	return tap_done();
}
