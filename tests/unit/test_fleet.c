/* The fleet (hs connect --count) without privileges: schedule, pool, ports, routing,
 * outcomes, the SYN-cookie probe, percentiles. Names: test_<state>_<event>. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "hs/fleet.h"
#include "hs/state.h"
#include "tap.h"

#define MS 1000000ull
#define T0 (1000 * MS)
#define PROBE 0x80000000u

static hs_endpoint ep(const char *a, uint16_t port)
{
	hs_endpoint e;
	memset(&e, 0, sizeof(e));
	e.addr.family = AF_INET;
	inet_pton(AF_INET, a, &e.addr.u.v4);
	e.port = port;
	return e;
}

static hs_fleet_config base(uint32_t count)
{
	hs_fleet_config c;
	hs_fleet_config_default(&c);
	c.tcb.local = ep("198.18.0.1", 0);
	c.tcb.remote = ep("198.18.0.2", 8080);
	c.tcb.rto_ns = 100 * MS;
	c.tcb.max_retries = 1;
	c.count = count;
	c.port_lo = 40000;
	c.port_hi = 40099;
	c.cookie_probe = false;
	c.seed = 42;
	return c;
}

/* Everything the fleet wants sent, in order. */
static int take(hs_fleet *f, hs_fleet_tx *out, int max)
{
	int n = 0;
	hs_fleet_tx t;
	while (hs_fleet_next_tx(f, &t))
		if (n < max)
			out[n++] = t;
	return n;
}

static int records(hs_fleet *f, hs_fleet_record *out, int max)
{
	int n = 0;
	hs_fleet_record r;
	while (hs_fleet_next_record(f, &r))
		if (n < max)
			out[n++] = r;
	return n;
}

/* A segment from the peer to our port. */
static hs_segment from_peer(uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack)
{
	hs_segment s;
	memset(&s, 0, sizeof(s));
	s.src = ep("198.18.0.2", 8080);
	s.dst = ep("198.18.0.1", port);
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = 65535;
	if (flags & HS_SYN) {
		s.opts.has = HS_HAS_MSS | HS_HAS_SACKOK | HS_HAS_WSCALE | HS_HAS_TS;
		s.opts.mss = 1460;
		s.opts.wscale = 7;
		s.opts.ts_val = 777;
	}
	return s;
}

/* Our SYN as the capture sees it leave. */
static hs_segment echo(const hs_fleet_tx *t)
{
	hs_segment s;
	memset(&s, 0, sizeof(s));
	s.src = t->src;
	s.dst = t->dst;
	s.flags = t->tx.flags;
	s.seq = t->tx.seq;
	return s;
}

static void test_syn_sent_rate_schedule(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_config c = base(5);
	char err[256];

	c.interval_ns = 10 * MS;
	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "rate: init");
	hs_fleet_step(&f, T0);
	EQ_INT(take(&f, tx, 64), 1, "rate: one SYN at the start");
	EQ_INT(tx[0].tx.flags, HS_SYN, "rate: it is a SYN");
	EQ_INT(hs_fleet_deadline(&f), T0 + 10 * MS, "rate: the next SYN is due 10 ms later (the TCB's RTO is later)");
	hs_fleet_step(&f, T0 + 5 * MS);
	EQ_INT(take(&f, tx, 64), 0, "rate: nothing before its time");
	hs_fleet_step(&f, T0 + 10 * MS);
	EQ_INT(take(&f, tx, 64), 1, "rate: the second at 10 ms");
	hs_fleet_step(&f, T0 + 31 * MS);
	EQ_INT(take(&f, tx, 64), 2, "rate: a late step sends what the schedule owes (20 and 30 ms)");
	EQ_INT(f.st.started, 4, "rate: 4 started");
	hs_fleet_free(&f);
}

static void test_syn_sent_pool_window(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_config c = base(10);
	char err[256];

	c.window = 4;
	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "window: init");
	hs_fleet_step(&f, T0);
	EQ_INT(take(&f, tx, 64), 4, "window: as fast as possible, but 4 in flight at most");
	EQ_INT(hs_fleet_in_flight(&f), 4, "window: 4 in flight");
	OK(tx[0].src.port != tx[1].src.port && tx[1].src.port != tx[2].src.port, "window: each its own port");
	OK(tx[0].tx.seq != tx[1].tx.seq, "window: each its own ISN");
	hs_fleet_free(&f);
}

static void test_established_rst_pool_reuse(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(3);
	char err[256];

	c.window = 2;
	c.port_lo = 40000;
	c.port_hi = 40001;
	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "reuse: init");
	hs_fleet_step(&f, T0);
	EQ_INT(take(&f, tx, 64), 2, "reuse: two SYNs (two slots, two ports)");
	uint16_t p0 = tx[0].src.port;
	uint32_t iss0 = tx[0].tx.seq;
	hs_segment e = echo(&tx[0]);
	hs_fleet_input(&f, &e, T0 + 10000, T0 + 10000);
	hs_segment sa = from_peer(p0, HS_SYN | HS_ACK, 5000, iss0 + 1);
	hs_fleet_input(&f, &sa, T0 + 60000, T0 + 70000);
	int n = take(&f, tx, 64);
	EQ_INT(n, 2, "reuse: ACK then RST");
	EQ_INT(tx[0].tx.flags, HS_ACK, "reuse: the ACK completes the handshake");
	EQ_INT(tx[1].tx.flags & HS_RST, HS_RST, "reuse: then --close rst");
	EQ_INT(tx[1].tx.seq, iss0 + 1, "reuse: the RST at SND.NXT");
	EQ_INT(records(&f, rec, 16), 1, "reuse: one finished");
	EQ_STR(hs_fleet_outcome_name(rec[0].outcome), "established", "reuse: established");
	OK(rec[0].has_rtt && rec[0].rtt_ns == 50000, "reuse: RTT from the capture times (50 us)");
	EQ_INT(rec[0].mss, 1460, "reuse: the SYN,ACK's MSS");
	EQ_INT(rec[0].cookie, HS_COOKIE_UNKNOWN, "reuse: no probe: cookie unknown");
	hs_fleet_step(&f, T0 + 80000);
	n = take(&f, tx, 64);
	EQ_INT(n, 1, "reuse: the freed slot starts the third");
	EQ_INT(tx[0].src.port, p0, "reuse: on the freed port");
	OK(tx[0].tx.seq != iss0, "reuse: with a new ISN");
	hs_fleet_free(&f);
}

static void test_syn_sent_routing_by_port(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(2);
	char err[256];

	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "routing: init");
	hs_fleet_step(&f, T0);
	EQ_INT(take(&f, tx, 64), 2, "routing: two SYNs");
	uint16_t p1 = tx[1].src.port;
	uint32_t iss1 = tx[1].tx.seq;
	hs_segment rst = from_peer(p1, HS_RST | HS_ACK, 0, iss1 + 1);
	hs_fleet_input(&f, &rst, T0 + 1000, T0 + 1000);
	EQ_INT(records(&f, rec, 16), 1, "routing: one ended");
	EQ_INT(rec[0].sport, p1, "routing: the one on that port");
	EQ_STR(hs_fleet_outcome_name(rec[0].outcome), "refused", "routing: RST -> refused");
	EQ_INT(f.st.outcome[HS_FO_REFUSED], 1, "routing: counted");
	EQ_INT(hs_fleet_in_flight(&f), 1, "routing: the other goes on");
	hs_segment stray = from_peer(40099, HS_SYN | HS_ACK, 1, 2);
	hs_fleet_input(&f, &stray, T0 + 2000, T0 + 2000);
	EQ_INT(f.st.stray, 1, "routing: a segment for no connection is stray");
	EQ_INT(take(&f, tx, 64), 0, "routing: and answered by nothing");
	hs_fleet_free(&f);
}

static void test_syn_sent_timeout_after_retries(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(1);
	char err[256];

	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "timeout: init");
	hs_fleet_step(&f, T0);
	EQ_INT(take(&f, tx, 64), 1, "timeout: SYN");
	EQ_INT(hs_fleet_deadline(&f), T0 + 100 * MS, "timeout: the RTO is the deadline");
	hs_fleet_step(&f, T0 + 100 * MS);
	EQ_INT(take(&f, tx, 64), 1, "timeout: one retransmission (--retries 1)");
	EQ_INT(tx[0].tx.flags, HS_SYN, "timeout: of the SYN");
	EQ_INT(f.st.syns_sent, 2, "timeout: 2 SYNs counted");
	hs_fleet_step(&f, T0 + 300 * MS);
	EQ_INT(records(&f, rec, 16), 1, "timeout: ended after the doubled RTO");
	EQ_STR(hs_fleet_outcome_name(rec[0].outcome), "timeout", "timeout: outcome");
	EQ_INT(rec[0].syns, 2, "timeout: its SYNs");
	OK(hs_fleet_done(&f), "timeout: done");
	hs_fleet_free(&f);
}

/* A connection that got its SYN,ACK with the probe on: returns the probe's index in tx. */
static int probe_setup(hs_fleet *f, hs_fleet_config *c, hs_fleet_tx *tx, uint16_t *port, uint32_t *iss)
{
	char err[256];
	c->cookie_probe = true;
	OK(hs_fleet_init(f, c, err, sizeof(err)) == 0, "probe: init");
	hs_fleet_step(f, T0);
	take(f, tx, 64);
	*port = tx[0].src.port;
	*iss = tx[0].tx.seq;
	hs_segment sa = from_peer(*port, HS_SYN | HS_ACK, 5000, *iss + 1);
	hs_fleet_input(f, &sa, T0 + 100000, T0 + 100000);
	return take(f, tx, 64);
}

static void test_established_probe_cookie_yes(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(1);
	uint16_t port;
	uint32_t iss;

	int n = probe_setup(&f, &c, tx, &port, &iss);
	EQ_INT(n, 3, "cookie yes: probe, ACK, RST");
	OK(tx[0].probe && tx[0].tx.flags == HS_SYN, "cookie yes: the probe, a SYN, first");
	EQ_INT(tx[0].tx.seq, iss + PROBE, "cookie yes: at ISS + 2^31");
	EQ_INT(tx[0].tx.opt_len > 0, 1, "cookie yes: with the SYN's options");
	EQ_INT(tx[1].tx.flags, HS_ACK, "cookie yes: then the TCB's ACK");
	EQ_INT(records(&f, rec, 16), 0, "cookie yes: not finished while the probe's answer is awaited");
	hs_segment ans = from_peer(port, HS_SYN | HS_ACK, 5000 + PROBE, iss + PROBE + 1);
	hs_fleet_input(&f, &ans, T0 + 200000, T0 + 200000);
	EQ_INT(take(&f, tx, 64), 0, "cookie yes: the answer never reaches the TCB (no RST for it)");
	EQ_INT(records(&f, rec, 16), 1, "cookie yes: finished");
	EQ_INT(rec[0].cookie, HS_COOKIE_YES, "cookie yes: a cookie (SEG.SEQ moved by 2^31 too)");
	EQ_INT(rec[0].cookie_mss, 1460, "cookie yes: MSS 1460 encoded");
	OK(rec[0].cookie_opts, "cookie yes: with timestamps, wscale and SACK survive");
	EQ_INT(f.st.cookie_synacks, 2, "cookie yes: two cookie SYN,ACKs seen");
	EQ_INT(f.st.cookie[HS_COOKIE_YES], 1, "cookie yes: one connection");
	EQ_STR(hs_fleet_outcome_name(rec[0].outcome), "established", "cookie yes: established");
	hs_fleet_free(&f);
}

static void test_established_probe_cookie_no(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(1);
	uint16_t port;
	uint32_t iss;

	probe_setup(&f, &c, tx, &port, &iss);
	hs_segment ack = from_peer(port, HS_ACK, 5001, iss + 1);
	hs_fleet_input(&f, &ack, T0 + 200000, T0 + 200000);
	EQ_INT(take(&f, tx, 64), 0, "cookie no: the bare ACK is the probe's answer, not the TCB's");
	EQ_INT(records(&f, rec, 16), 1, "cookie no: finished");
	EQ_INT(rec[0].cookie, HS_COOKIE_NO, "cookie no: a request socket answered");
	EQ_INT(f.st.cookie_synacks, 0, "cookie no: no cookie SYN,ACK");
	hs_fleet_free(&f);
}

static void test_established_probe_silence(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(1);
	uint16_t port;
	uint32_t iss;

	c.probe_wait_min_ns = 20 * MS;
	probe_setup(&f, &c, tx, &port, &iss);
	EQ_INT(hs_fleet_deadline(&f), T0 + 100000 + 20 * MS, "silence: the probe's wait is the deadline");
	hs_fleet_step(&f, T0 + 100000 + 20 * MS);
	EQ_INT(records(&f, rec, 16), 1, "silence: finished after the wait");
	EQ_INT(rec[0].cookie, HS_COOKIE_NO, "silence: nothing came: not a cookie");
	hs_fleet_free(&f);
}

static void test_syn_sent_close_none(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(2);
	char err[256];

	c.close = HS_FLEET_NONE;
	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "none: init");
	hs_fleet_step(&f, T0);
	EQ_INT(take(&f, tx, 64), 2, "none: two SYNs");
	uint16_t port = tx[0].src.port;
	hs_segment sa = from_peer(port, HS_SYN | HS_ACK, 5000, tx[0].tx.seq + 1);
	hs_fleet_input(&f, &sa, T0 + 1000, T0 + 1000);
	EQ_INT(take(&f, tx, 64), 0, "none: the SYN,ACK is not answered");
	EQ_INT(records(&f, rec, 16), 1, "none: finished");
	EQ_STR(hs_fleet_outcome_name(rec[0].outcome), "syn-ack", "none: outcome syn-ack");
	hs_fleet_free(&f);

	c = base(3);
	c.close = HS_FLEET_NONE;
	c.port_lo = 40000;
	c.port_hi = 40001;
	OK(hs_fleet_init(&f, &c, err, sizeof(err)) < 0, "none: more connections than ports is refused");
	OK(strstr(err, "once") != NULL, "none: saying why");
	uint8_t skip[8192] = { 0 };
	skip[40000 / 8] |= 1u << (40000 % 8);
	c = base(1);
	c.port_lo = 40000;
	c.port_hi = 40001;
	c.port_skip = skip;
	EQ_INT(hs_fleet_ports_free(&c), 1, "none: a port a local socket holds does not count");
	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "ports: init");
	hs_fleet_step(&f, T0);
	EQ_INT(take(&f, tx, 64), 1, "ports: one SYN");
	EQ_INT(tx[0].src.port, 40001, "ports: never from a port in use");
	hs_fleet_free(&f);
}

static void test_syn_sent_close_keep(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(1);
	char err[256];

	c.close = HS_FLEET_KEEP;
	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "keep: init");
	hs_fleet_step(&f, T0);
	take(&f, tx, 64);
	uint32_t iss = tx[0].tx.seq;
	hs_segment sa = from_peer(tx[0].src.port, HS_SYN | HS_ACK, 5000, iss + 1);
	hs_fleet_input(&f, &sa, T0 + 1000, T0 + 1000);
	EQ_INT(take(&f, tx, 64), 1, "keep: only the ACK leaves");
	EQ_INT(tx[0].tx.flags, HS_ACK, "keep: the ACK");
	EQ_INT(records(&f, rec, 16), 1, "keep: finished");
	OK(rec[0].kept, "keep: marked kept");
	EQ_STR(hs_state_name(rec[0].snap.state), "ESTABLISHED", "keep: the snapshot is ESTABLISHED");
	EQ_INT(rec[0].snap.snd_nxt, iss + 1, "keep: SND.NXT after the SYN");
	EQ_INT(rec[0].snap.rcv_nxt, 5001, "keep: RCV.NXT after the peer's SYN");
	hs_fleet_free(&f);
}

static void test_syn_sent_icmp_unreachable(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(1);
	char err[256];

	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "icmp: init");
	hs_fleet_step(&f, T0);
	take(&f, tx, 64);
	hs_icmp_error ic;
	memset(&ic, 0, sizeof(ic));
	ic.family = AF_INET;
	ic.type = 3;
	ic.code = 1;
	ic.reporter = ep("198.18.0.254", 0);
	ic.orig_src = tx[0].src;
	ic.orig_dst = tx[0].dst;
	ic.orig_seq = tx[0].tx.seq;
	hs_fleet_icmp(&f, &ic, T0 + 1000);
	EQ_INT(records(&f, rec, 16), 1, "icmp: ended");
	EQ_STR(hs_fleet_outcome_name(rec[0].outcome), "unreachable", "icmp: unreachable");
	EQ_INT(rec[0].icmp_code, 1, "icmp: its code");
	hs_fleet_free(&f);
}

static void test_syn_sent_stop(void)
{
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_record rec[16];
	hs_fleet_config c = base(100);
	char err[256];

	c.window = 3;
	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "stop: init");
	hs_fleet_step(&f, T0);
	take(&f, tx, 64);
	hs_segment sa = from_peer(tx[0].src.port, HS_SYN | HS_ACK, 5000, tx[0].tx.seq + 1);
	c.close = HS_FLEET_FIN;
	f.cfg.close = HS_FLEET_FIN; /* one connection stays synchronized */
	hs_fleet_input(&f, &sa, T0 + 1000, T0 + 1000);
	int n = take(&f, tx, 64);
	EQ_INT(n, 2, "stop: fin: ACK, then FIN");
	OK(tx[1].tx.flags & HS_FIN, "stop: the FIN");
	hs_fleet_stop(&f, T0 + 2000);
	n = take(&f, tx, 64);
	EQ_INT(n, 1, "stop: an RST for the synchronized one only");
	OK(tx[0].tx.flags & HS_RST, "stop: RST");
	EQ_INT(records(&f, rec, 16), 3, "stop: all three end");
	EQ_INT(f.st.outcome[HS_FO_INTERRUPTED], 3, "stop: interrupted");
	OK(hs_fleet_done(&f), "stop: done, 97 never started");
	hs_fleet_step(&f, T0 + 3000);
	EQ_INT(take(&f, tx, 64), 0, "stop: no new SYN afterwards");
	hs_fleet_free(&f);
}

static void test_percentiles_and_cookie_mss(void)
{
	uint32_t v[100];
	for (int i = 0; i < 100; i++)
		v[i] = (uint32_t)i + 1;
	EQ_INT(hs_percentile_sorted(v, 100, 50), 50, "p50 of 1..100");
	EQ_INT(hs_percentile_sorted(v, 100, 90), 90, "p90");
	EQ_INT(hs_percentile_sorted(v, 100, 99), 99, "p99");
	EQ_INT(hs_percentile_sorted(v, 100, 100), 100, "max");
	EQ_INT(hs_percentile_sorted(v, 1, 99), 1, "one sample");
	EQ_INT(hs_percentile_sorted(v, 0, 50), 0, "no samples");
	EQ_INT(hs_percentile_sorted(v, 3, 50), 2, "p50 of three: the middle");
	EQ_INT(hs_cookie_mss(1460, false), 1460, "cookie mss 1460");
	EQ_INT(hs_cookie_mss(1400, false), 1300, "cookie mss 1400 -> 1300");
	EQ_INT(hs_cookie_mss(1000, false), 536, "cookie mss 1000 -> 536");
	EQ_INT(hs_cookie_mss(100, false), 536, "cookie mss below the table: its smallest");
	EQ_INT(hs_cookie_mss(1440, true), 1440, "cookie mss v6 1440");
	EQ_INT(hs_cookie_mss(9000, true), 8940, "cookie mss v6 jumbo");
	EQ_INT(hs_cookie_mss(1300, true), 1220, "cookie mss v6 1300 -> 1220");

	/* the fleet's own samples */
	hs_fleet f;
	hs_fleet_tx tx[64];
	hs_fleet_config c = base(4);
	char err[256];
	OK(hs_fleet_init(&f, &c, err, sizeof(err)) == 0, "rtt: init");
	hs_fleet_step(&f, T0);
	EQ_INT(take(&f, tx, 64), 4, "rtt: four SYNs");
	hs_fleet_tx syn[4];
	memcpy(syn, tx, sizeof(syn));
	for (int i = 0; i < 4; i++) {
		hs_segment sa = from_peer(syn[i].src.port, HS_SYN | HS_ACK, 5000, syn[i].tx.seq + 1);
		hs_fleet_input(&f, &sa, T0 + (uint64_t)(i + 1) * 10000, T0 + 50000);
		take(&f, tx, 64);
	}
	EQ_INT(f.st.nrtt, 4, "rtt: four samples");
	EQ_INT(hs_fleet_rtt_percentile(&f, 50), 20, "rtt: p50 20 us");
	EQ_INT(hs_fleet_rtt_percentile(&f, 100), 40, "rtt: max 40 us");
	hs_fleet_free(&f);
}

int main(void)
{
	test_syn_sent_rate_schedule();
	test_syn_sent_pool_window();
	test_established_rst_pool_reuse();
	test_syn_sent_routing_by_port();
	test_syn_sent_timeout_after_retries();
	test_established_probe_cookie_yes();
	test_established_probe_cookie_no();
	test_established_probe_silence();
	test_syn_sent_close_none();
	test_syn_sent_close_keep();
	test_syn_sent_icmp_unreachable();
	test_syn_sent_stop();
	test_percentiles_and_cookie_mss();
	return tap_done();
}
