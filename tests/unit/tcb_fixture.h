/* What the TCB's unit tests share (test_tcb.c, test_craft.c): a connection from
 * 198.18.0.1:40000 to 198.18.0.2:8080 with fixed ISS/IRS and TS clock, peer segments
 * built by hand, and checks of what the TCB sent and changed. Included once per test
 * program; helpers a program does not use are marked unused. */
#ifndef HS_TEST_TCB_FIXTURE_H
#define HS_TEST_TCB_FIXTURE_H
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "hs/state.h"
#include "hs/tcb.h"
#include "tap.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define ISS 1000u
#define IRS 5000u
#define TSC 100u      /* our ts_clock */
#define PEER_TS 9000u /* the peer's TSval in its SYN,ACK (est_full) */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* The driver's side: every segment the TCB asks for leaves at once, and the TCB is
 * told so (hs_tcb_sent_all), as hs_session_apply() does outside --step. */
static void tcb_input(hs_tcb *t, const hs_segment *s, uint64_t now, hs_tcb_out *o)
{
	hs_tcb_input(t, s, now, o);
	hs_tcb_sent_all(t, now, o);
}

static void tcb_connect(hs_tcb *t, const hs_tcb_config *c, uint64_t now, hs_tcb_out *o)
{
	hs_tcb_connect(t, c, now, o);
	hs_tcb_sent_all(t, now, o);
}

static hs_endpoint endpoint(const char *addr, uint16_t port)
{
	hs_endpoint e;

	memset(&e, 0, sizeof(e));
	if (strchr(addr, ':')) {
		e.addr.family = AF_INET6;
		inet_pton(AF_INET6, addr, &e.addr.u.v6);
	} else {
		e.addr.family = AF_INET;
		inet_pton(AF_INET, addr, &e.addr.u.v4);
	}
	e.port = port;
	return e;
}

static hs_tcb_config cfg_base(void)
{
	hs_tcb_config c;

	hs_tcb_config_default(&c);
	c.local = endpoint("198.18.0.1", 40000);
	c.remote = endpoint("198.18.0.2", 8080);
	c.iss = ISS;
	c.ts_clock = TSC;
	return c;
}

/* A segment from the peer (remote -> local). */
static hs_segment pseg(const hs_tcb *t, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	hs_segment s;

	memset(&s, 0, sizeof(s));
	s.src = t->cfg.remote;
	s.dst = t->cfg.local;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = win;
	s.ttl = 64;
	return s;
}

static void with_ts(hs_segment *s, uint32_t val, uint32_t ecr)
{
	s->opts.has |= HS_HAS_TS;
	s->opts.ts_val = val;
	s->opts.ts_ecr = ecr;
}

static void with_syn_opts(hs_segment *s, uint16_t mss, bool sack, bool ts, int wscale)
{
	if (mss) {
		s->opts.has |= HS_HAS_MSS;
		s->opts.mss = mss;
	}
	if (sack)
		s->opts.has |= HS_HAS_SACKOK;
	if (ts)
		with_ts(s, PEER_TS, 0);
	if (wscale >= 0) {
		s->opts.has |= HS_HAS_WSCALE;
		s->opts.wscale = (uint8_t)wscale;
	}
}

static char what_buf[256];

static const char *what(const char *ctx, const char *field)
{
	snprintf(what_buf, sizeof(what_buf), "%s: %s", ctx, field);
	return what_buf;
}

/* Flag names, so that a failure says "FIN,ACK" rather than 17. */
static const char *flag_names(uint8_t flags, char buf[64])
{
	static const char *const names[8] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };

	buf[0] = '\0';
	for (int i = 0; i < 8; i++)
		if (flags & (1u << i)) {
			if (buf[0])
				strcat(buf, ",");
			strcat(buf, names[i]);
		}
	return buf;
}

static void check_opts(const hs_tx *x, const uint8_t *want, size_t n, const char *ctx)
{
	bool eq = x->opt_len == n && memcmp(x->opts, want, n) == 0;
	OK(eq, what(ctx, "option bytes"));
	if (!eq) {
		printf("#   got ");
		for (int i = 0; i < x->opt_len; i++)
			printf("%02x", x->opts[i]);
		printf(", want ");
		for (size_t i = 0; i < n; i++)
			printf("%02x", want[i]);
		printf("\n");
	}
}

/* The TS option of one of our segments. */
static void check_ts(const hs_tx *x, uint32_t val, uint32_t ecr, const char *ctx)
{
	hs_tcp_opts o;
	const char *err = NULL;
	int rc = hs_opts_decode(x->opts, x->opt_len, &o, &err);
	OK(rc == 0 && (o.has & HS_HAS_TS), what(ctx, "carries TS"));
	EQ_INT(o.ts_val, val, what(ctx, "TSval"));
	EQ_INT(o.ts_ecr, ecr, what(ctx, "TSecr"));
}

static void check_change(const hs_tcb_out *o, int i, bool peer, hs_state from, hs_state to,
                         const char *why, const char *ctx)
{
	if (i >= o->nchange) {
		OK(0, what(ctx, "change present"));
		printf("#   only %d changes\n", o->nchange);
		return;
	}
	const hs_change *c = &o->change[i];
	bool eq = c->peer == peer && c->from == from && c->to == to && c->why && strcmp(c->why, why) == 0;
	OK(eq, what(ctx, "change"));
	if (!eq)
		printf("#   got {%s %s->%s \"%s\"}, want {%s %s->%s \"%s\"}\n", c->peer ? "peer" : "us",
		       hs_state_name(c->from), hs_state_name(c->to), c->why ? c->why : "(null)",
		       peer ? "peer" : "us", hs_state_name(from), hs_state_name(to), why);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Active open with the default options; the peer answers at 1 ms with MSS 1400,
 * SACK, TS 9000 and wscale 8 and a window of 1000 (scaled: 256000 later). */
static void est_full(hs_tcb *t, hs_tcb_out *o)
{
	hs_tcb_config c = cfg_base();
	tcb_connect(t, &c, 0, o);
	hs_segment s = pseg(t, HS_SYN | HS_ACK, IRS, ISS + 1, 1000);
	with_syn_opts(&s, 1400, true, true, 8);
	s.opts.ts_ecr = TSC;
	tcb_input(t, &s, 1 * MS, o);
}

#pragma GCC diagnostic pop

#endif
