/* Many handshakes to one peer: the pool of TCBs, the SYN schedule, ports, routing
 * by port, --close, the SYN-cookie probe and the run's figures (see hs/fleet.h). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hs/fleet.h"

#define PROBE_OFFSET 0x80000000u /* 2^31: the probe's SEG.SEQ is ISS + this */

struct hs_fleet_slot {
	hs_tcb tcb;
	bool used;
	uint16_t sport;
	hs_tx syn;              /* our first SYN: the probe is a copy of it */
	uint16_t syn_mss;       /* the MSS our SYN offered (0: none) */
	uint64_t t_syn;         /* when the first SYN was handed out (fleet time) */
	bool syn_seen;          /* the capture's copy of it came, */
	uint64_t t_syn_seen;    /* at this capture time */
	bool tcb_done;          /* nothing more goes to the TCB (ended, or --close none) */
	bool outcome_set;       /* rec.outcome is final */
	bool probe_wait;        /* the probe left: its answer is awaited until */
	uint64_t probe_deadline;
	uint32_t synack_seq;    /* SEG.SEQ of the first SYN,ACK (the IRS) */
	uint64_t fin_deadline;  /* --close fin: give up on the peer's close after this */
	hs_fleet_record rec;
};

const char *hs_fleet_outcome_name(enum hs_fleet_outcome o)
{
	static const char *const names[HS_FO_COUNT] = {
		[HS_FO_ESTABLISHED] = "established", [HS_FO_SYNACK] = "syn-ack", [HS_FO_REFUSED] = "refused",
		[HS_FO_RESET] = "reset", [HS_FO_TIMEOUT] = "timeout", [HS_FO_UNREACHABLE] = "unreachable",
		[HS_FO_INTERRUPTED] = "interrupted",
	};
	return (unsigned)o < HS_FO_COUNT ? names[o] : "?";
}

const char *hs_fleet_cookie_name(enum hs_fleet_cookie c)
{
	return c == HS_COOKIE_YES ? "yes" : c == HS_COOKIE_NO ? "no" : "unknown";
}

uint16_t hs_cookie_mss(uint16_t mss, bool ipv6)
{
	/* net/ipv4/syncookies.c and net/ipv6/syncookies.c, msstab[] */
	static const uint16_t v4[] = { 536, 1300, 1440, 1460 };
	static const uint16_t v6[] = { 1280 - 60, 1480 - 60, 1500 - 60, 9000 - 60 };
	const uint16_t *tab = ipv6 ? v6 : v4;
	int i;

	for (i = 3; i > 0; i--)
		if (mss >= tab[i])
			break;
	return tab[i];
}

uint32_t hs_percentile_sorted(const uint32_t *v, size_t n, unsigned p)
{
	if (n == 0)
		return 0;
	if (p > 100)
		p = 100;
	/* nearest rank: the smallest value with at least p% of the samples at or below it */
	size_t rank = ((size_t)p * n + 99) / 100;
	if (rank == 0)
		rank = 1;
	return v[rank - 1];
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

uint32_t hs_fleet_rtt_percentile(hs_fleet *f, unsigned p)
{
	qsort(f->rtt_us, f->st.nrtt, sizeof(f->rtt_us[0]), cmp_u32);
	return hs_percentile_sorted(f->rtt_us, f->st.nrtt, p);
}

void hs_fleet_config_default(hs_fleet_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	hs_tcb_config_default(&cfg->tcb);
	cfg->count = 1;
	cfg->port_lo = 32768;
	cfg->port_hi = 60999;
	cfg->window = 256;
	cfg->burst = 32;
	cfg->close = HS_FLEET_RST;
	cfg->cookie_probe = true;
	cfg->probe_wait_min_ns = 20000000ull;
	cfg->probe_wait_max_ns = 1000000000ull;
	cfg->seed = 1;
}

static bool skipped(const hs_fleet_config *cfg, unsigned port)
{
	return cfg->port_skip && (cfg->port_skip[port / 8] & (1u << (port % 8)));
}

uint32_t hs_fleet_ports_free(const hs_fleet_config *cfg)
{
	uint32_t n = 0;

	for (unsigned p = cfg->port_lo; p <= cfg->port_hi && p > 0; p++)
		if (!skipped(cfg, p))
			n++;
	return n;
}

/* splitmix64: ISNs and TS clocks need only be unpredictable enough for a lab, and
 * reproducible in the unit tests. */
static uint32_t rng32(hs_fleet *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

int hs_fleet_init(hs_fleet *f, const hs_fleet_config *cfg, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	if (f->cfg.window == 0)
		f->cfg.window = 1;
	if (cfg->count == 0 || cfg->port_lo == 0 || cfg->port_lo > cfg->port_hi) {
		snprintf(err, errlen, "nothing to do: count %u, ports %u-%u", cfg->count, cfg->port_lo, cfg->port_hi);
		return -1;
	}
	uint32_t ports = hs_fleet_ports_free(cfg);
	if (ports == 0) {
		snprintf(err, errlen, "no free source port in %u-%u", cfg->port_lo, cfg->port_hi);
		return -1;
	}
	if (cfg->close == HS_FLEET_NONE && cfg->count > ports) {
		snprintf(err, errlen, "--close none uses each source port once, and %u-%u has %u free for %u "
		         "connections (a reused 4-tuple would meet the peer's half-open one): widen --sport-range "
		         "or lower --count", cfg->port_lo, cfg->port_hi, ports, cfg->count);
		return -1;
	}
	/* Never more slots than connections or ports */
	if (f->cfg.window > cfg->count)
		f->cfg.window = cfg->count;
	if (f->cfg.window > ports)
		f->cfg.window = ports;
	f->slot = calloc(f->cfg.window, sizeof(*f->slot));
	f->port_slot = malloc(65536 * sizeof(*f->port_slot));
	f->port_used = calloc(65536, 1);
	f->txcap = (size_t)f->cfg.window * (2 * HS_TCB_MAXTX + 2) + 16;
	f->txq = calloc(f->txcap, sizeof(*f->txq));
	f->reccap = (size_t)f->cfg.window + 16;
	f->recq = calloc(f->reccap, sizeof(*f->recq));
	f->rtt_us = calloc(cfg->count, sizeof(*f->rtt_us));
	if (!f->slot || !f->port_slot || !f->port_used || !f->txq || !f->recq || !f->rtt_us) {
		hs_fleet_free(f);
		snprintf(err, errlen, "out of memory for %u connections", cfg->count);
		return -1;
	}
	for (unsigned p = 0; p < 65536; p++)
		f->port_slot[p] = -1;
	f->rng = cfg->seed;
	return 0;
}

void hs_fleet_free(hs_fleet *f)
{
	free(f->slot);
	free(f->port_slot);
	free(f->port_used);
	free(f->txq);
	free(f->recq);
	free(f->rtt_us);
	f->slot = NULL;
	f->port_slot = NULL;
	f->port_used = NULL;
	f->txq = NULL;
	f->recq = NULL;
	f->rtt_us = NULL;
}

static void push_tx(hs_fleet *f, const struct hs_fleet_slot *s, const hs_tx *tx, bool probe)
{
	if (f->ntx == f->txcap)
		return; /* cannot happen while the driver drains after every call */
	hs_fleet_tx *q = &f->txq[(f->txhead + f->ntx++) % f->txcap];
	q->src = s->tcb.cfg.local;
	q->dst = s->tcb.cfg.remote;
	q->tx = *tx;
	q->probe = probe;
}

/* Queue what a TCB call produced (after prepend, when given) and tell the TCB it left. */
static void emit(hs_fleet *f, struct hs_fleet_slot *s, hs_tcb_out *o, uint64_t now)
{
	for (int k = 0; k < o->ntx; k++) {
		push_tx(f, s, &o->tx[k], false);
		if ((o->tx[k].flags & (HS_SYN | HS_ACK)) == HS_SYN) {
			f->st.syns_sent++;
			s->rec.syns++;
		}
	}
	hs_tcb_sent_all(&s->tcb, now, o);
}

static bool synchronized(hs_state st)
{
	return st != HS_SYN_SENT && st != HS_SYN_RECEIVED && st != HS_LISTEN && st != HS_CLOSED;
}

static void release(hs_fleet *f, struct hs_fleet_slot *s, uint64_t now)
{
	s->rec.t_ns = now;
	f->st.outcome[s->rec.outcome]++;
	f->st.finished++;
	if (s->rec.has_synack)
		f->st.cookie[s->rec.cookie]++;
	if (f->nrec < f->reccap)
		f->recq[(f->rechead + f->nrec++) % f->reccap] = s->rec;
	f->port_slot[s->sport] = -1;
	s->used = false;
}

static void set_outcome(struct hs_fleet_slot *s, enum hs_fleet_outcome o)
{
	if (!s->outcome_set) {
		s->rec.outcome = o;
		s->outcome_set = true;
	}
}

/* The TCB reached a result: the connection is over once the probe is answered. */
static void check_result(hs_fleet *f, struct hs_fleet_slot *s, uint64_t now)
{
	enum hs_result r = s->tcb.result;

	if (r == HS_RES_NONE || s->tcb_done)
		return;
	s->tcb_done = true;
	switch (r) {
	case HS_RES_REFUSED: set_outcome(s, HS_FO_REFUSED); break;
	case HS_RES_RESET: set_outcome(s, s->rec.has_synack ? HS_FO_RESET : HS_FO_REFUSED); break;
	case HS_RES_TIMEOUT: set_outcome(s, s->rec.has_synack ? HS_FO_ESTABLISHED : HS_FO_TIMEOUT); break;
	case HS_RES_UNREACHABLE: set_outcome(s, HS_FO_UNREACHABLE); break;
	default: set_outcome(s, s->rec.has_synack ? HS_FO_ESTABLISHED : HS_FO_TIMEOUT); break;
	}
	if (!s->probe_wait)
		release(f, s, now);
}

static void probe_done(hs_fleet *f, struct hs_fleet_slot *s, enum hs_fleet_cookie c, uint64_t now)
{
	s->probe_wait = false;
	s->rec.cookie = c;
	if (c == HS_COOKIE_YES) {
		s->rec.cookie_mss = hs_cookie_mss(s->syn_mss, s->tcb.cfg.local.addr.family == AF_INET6);
		s->rec.cookie_opts = (s->rec.synack_opts & HS_HAS_TS) != 0;
	}
	if (s->tcb_done)
		release(f, s, now);
}

/* A free port: round robin over the range, so that a port waits as long as it can
 * before its next connection (late segments of the last one die out meanwhile). */
static int pick_port(hs_fleet *f)
{
	uint32_t span = (uint32_t)f->cfg.port_hi - f->cfg.port_lo + 1;

	for (uint32_t k = 0; k < span; k++) {
		uint32_t off = (f->port_cursor + k) % span;
		unsigned port = f->cfg.port_lo + off;
		if (skipped(&f->cfg, port) || f->port_slot[port] >= 0 ||
		    (f->cfg.close == HS_FLEET_NONE && f->port_used[port]))
			continue;
		f->port_cursor = (off + 1) % span;
		return (int)port;
	}
	return -1;
}

static struct hs_fleet_slot *free_slot(hs_fleet *f, int32_t *idx)
{
	for (unsigned i = 0; i < f->cfg.window; i++)
		if (!f->slot[i].used) {
			*idx = (int32_t)i;
			return &f->slot[i];
		}
	return NULL;
}

static bool start_one(hs_fleet *f, uint64_t now)
{
	int32_t idx;
	struct hs_fleet_slot *s = free_slot(f, &idx);
	if (!s)
		return false;
	int port = pick_port(f);
	if (port < 0)
		return false;
	hs_tcb_config cfg = f->cfg.tcb;
	hs_tcb_out o;
	hs_tcp_opts opts;
	const char *why;

	/* everything but the TCB, which hs_tcb_connect clears itself */
	memset(&s->used, 0, sizeof(*s) - offsetof(struct hs_fleet_slot, used));
	s->used = true;
	s->sport = (uint16_t)port;
	s->t_syn = now;
	s->rec.index = f->next_index++;
	s->rec.sport = (uint16_t)port;
	f->port_slot[port] = idx;
	f->port_used[port] = 1;
	cfg.local.port = (uint16_t)port;
	cfg.iss = rng32(f);
	cfg.ts_clock = rng32(f);
	hs_tcb_connect(&s->tcb, &cfg, now, &o);
	if (o.ntx > 0) {
		s->syn = o.tx[0];
		memset(&opts, 0, sizeof(opts));
		if (hs_opts_decode(s->syn.opts, s->syn.opt_len, &opts, &why) == 0 && (opts.has & HS_HAS_MSS))
			s->syn_mss = opts.mss;
	}
	f->st.started++;
	emit(f, s, &o, now);
	return true;
}

static uint64_t next_syn_at(const hs_fleet *f)
{
	return f->t_start + f->next_index * f->cfg.interval_ns;
}

void hs_fleet_step(hs_fleet *f, uint64_t now)
{
	hs_tcb_out o;

	if (!f->t_start)
		f->t_start = now ? now : 1;
	for (unsigned i = 0; i < f->cfg.window; i++) {
		struct hs_fleet_slot *s = &f->slot[i];
		if (!s->used)
			continue;
		if (!s->tcb_done && s->fin_deadline && now >= s->fin_deadline) {
			/* the peer never closed its side: end ours */
			hs_tcb_abort(&s->tcb, false, now, &o);
			emit(f, s, &o, now);
			set_outcome(s, HS_FO_ESTABLISHED);
			check_result(f, s, now);
			if (!s->used)
				continue;
		}
		if (!s->tcb_done) {
			uint64_t d = hs_tcb_deadline(&s->tcb);
			if (d && now >= d) {
				hs_tcb_timer(&s->tcb, now, &o);
				emit(f, s, &o, now);
				check_result(f, s, now);
			}
		}
		if (s->used && s->probe_wait && now >= s->probe_deadline)
			probe_done(f, s, HS_COOKIE_NO, now); /* nothing came: a listener with state */
	}
	for (unsigned n = 0; !f->stopped && f->next_index < f->cfg.count &&
	     (f->cfg.interval_ns == 0 || now >= next_syn_at(f)) && (!f->cfg.burst || n < f->cfg.burst); n++)
		if (!start_one(f, now))
			break;
}

/* The SYN,ACK made the TCB synchronized: the probe, the TCB's ACK, then --close. */
static void synack_taken(hs_fleet *f, struct hs_fleet_slot *s, const hs_segment *seg, uint64_t ts,
                         uint64_t now, hs_tcb_out *o)
{
	hs_tcb_out c;

	s->rec.has_synack = true;
	s->rec.synack_opts = seg->opts.has;
	s->rec.mss = seg->opts.mss;
	s->rec.wscale = seg->opts.wscale;
	s->synack_seq = seg->seq;
	uint64_t t0 = s->syn_seen ? s->t_syn_seen : s->t_syn;
	if (s->rec.syns == 1 && ts >= t0) { /* Karn: no RTT from a retransmitted SYN */
		s->rec.has_rtt = true;
		s->rec.rtt_ns = ts - t0;
		uint64_t us = s->rec.rtt_ns / 1000;
		if (f->st.nrtt < f->cfg.count)
			f->rtt_us[f->st.nrtt++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	}
	f->st.synacks++;
	if (f->cfg.cookie_probe) {
		hs_tx p = s->syn;
		p.seq = s->syn.seq + PROBE_OFFSET;
		push_tx(f, s, &p, true);
		f->st.probes_sent++;
		s->probe_wait = true;
		uint64_t w = s->rec.has_rtt ? 8 * s->rec.rtt_ns : 0;
		if (w < f->cfg.probe_wait_min_ns)
			w = f->cfg.probe_wait_min_ns;
		if (w > f->cfg.probe_wait_max_ns)
			w = f->cfg.probe_wait_max_ns;
		s->probe_deadline = now + w;
	}
	if (f->cfg.close == HS_FLEET_NONE) {
		/* half-open on purpose: the TCB's ACK never leaves, and it is fed no more */
		set_outcome(s, HS_FO_SYNACK);
		s->tcb_done = true;
		if (!s->probe_wait)
			release(f, s, now);
		return;
	}
	emit(f, s, o, now);
	if (f->cfg.close == HS_FLEET_KEEP) {
		set_outcome(s, HS_FO_ESTABLISHED);
		s->rec.kept = true;
		hs_tcb_snapshot_take(&s->tcb, now, &s->rec.snap);
		s->rec.rcv_wnd = s->tcb.rcv_wnd;
		s->tcb_done = true; /* hs fin / hs rst take it from here */
		if (!s->probe_wait)
			release(f, s, now);
		return;
	}
	if (f->cfg.close == HS_FLEET_RST) {
		set_outcome(s, HS_FO_ESTABLISHED);
		hs_tcb_abort(&s->tcb, false, now, &c);
		emit(f, s, &c, now);
	} else {
		hs_tcb_close(&s->tcb, now, &c);
		emit(f, s, &c, now);
		uint64_t patience = s->tcb.cfg.rto_ns * ((2ull << s->tcb.cfg.max_retries) - 1);
		s->fin_deadline = now + patience + s->tcb.cfg.time_wait_ns;
	}
	check_result(f, s, now);
}

void hs_fleet_input(hs_fleet *f, const hs_segment *seg, uint64_t ts, uint64_t now)
{
	const hs_endpoint *remote = &f->cfg.tcb.remote;
	bool from_peer = seg->src.port == remote->port && hs_addr_equal(&seg->src.addr, &remote->addr);
	uint16_t port = from_peer ? seg->dst.port : seg->src.port;
	int32_t idx = f->port_slot[port];

	if (!from_peer) {
		/* our own segment, as the capture saw it leave: the SYN's time */
		if (idx >= 0 && seg->dst.port == remote->port && hs_addr_equal(&seg->dst.addr, &remote->addr)) {
			struct hs_fleet_slot *s = &f->slot[idx];
			if (!s->syn_seen && (seg->flags & (HS_SYN | HS_ACK)) == HS_SYN && seg->seq == s->syn.seq) {
				s->syn_seen = true;
				s->t_syn_seen = ts;
			}
		}
		return;
	}
	if (idx < 0) {
		f->st.stray++;
		return;
	}
	struct hs_fleet_slot *s = &f->slot[idx];
	uint32_t iss = s->syn.seq;
	uint8_t fl = seg->flags & (HS_SYN | HS_ACK | HS_RST | HS_FIN);

	/* The probe's answer (never the TCB's business) */
	if (fl == (HS_SYN | HS_ACK) && seg->ack == iss + PROBE_OFFSET + 1) {
		if (s->probe_wait) {
			bool cookie = seg->seq == s->synack_seq + PROBE_OFFSET;
			if (cookie)
				f->st.cookie_synacks += 2; /* the first SYN,ACK and this one */
			probe_done(f, s, cookie ? HS_COOKIE_YES : HS_COOKIE_NO, now);
		} else {
			f->st.stray++;
		}
		return;
	}
	if (s->probe_wait && fl == HS_ACK && hs_seg_len(seg) == 0 && seg->ack == iss + 1 &&
	    seg->seq == s->synack_seq + 1) {
		probe_done(f, s, HS_COOKIE_NO, now);
		return;
	}
	if (s->tcb_done) {
		f->st.stray++;
		return;
	}
	hs_tcb_out o;
	bool was_synced = synchronized(s->tcb.state);
	hs_tcb_input(&s->tcb, seg, now, &o);
	if (!was_synced && !s->rec.has_synack && synchronized(s->tcb.state) && (seg->flags & HS_SYN)) {
		synack_taken(f, s, seg, ts, now, &o);
		return;
	}
	emit(f, s, &o, now);
	check_result(f, s, now);
}

void hs_fleet_icmp(hs_fleet *f, const hs_icmp_error *icmp, uint64_t now)
{
	int32_t idx = f->port_slot[icmp->orig_src.port];

	if (idx < 0 || icmp->orig_dst.port != f->cfg.tcb.remote.port) {
		f->st.stray++;
		return;
	}
	struct hs_fleet_slot *s = &f->slot[idx];
	if (s->tcb_done)
		return;
	hs_tcb_out o;
	hs_tcb_icmp(&s->tcb, icmp, now, &o);
	emit(f, s, &o, now);
	if (s->tcb.result == HS_RES_UNREACHABLE) {
		s->rec.icmp_type = icmp->type;
		s->rec.icmp_code = icmp->code;
	}
	check_result(f, s, now);
}

void hs_fleet_stop(hs_fleet *f, uint64_t now)
{
	hs_tcb_out o;

	f->stopped = true;
	for (unsigned i = 0; i < f->cfg.window; i++) {
		struct hs_fleet_slot *s = &f->slot[i];
		if (!s->used)
			continue;
		if (!s->tcb_done && f->cfg.close != HS_FLEET_NONE && synchronized(s->tcb.state)) {
			hs_tcb_abort(&s->tcb, false, now, &o);
			emit(f, s, &o, now);
		}
		s->tcb_done = true;
		s->probe_wait = false;
		set_outcome(s, HS_FO_INTERRUPTED);
		release(f, s, now);
	}
}

bool hs_fleet_next_tx(hs_fleet *f, hs_fleet_tx *out)
{
	if (f->ntx == 0)
		return false;
	*out = f->txq[f->txhead];
	f->txhead = (f->txhead + 1) % f->txcap;
	f->ntx--;
	return true;
}

bool hs_fleet_next_record(hs_fleet *f, hs_fleet_record *out)
{
	if (f->nrec == 0)
		return false;
	*out = f->recq[f->rechead];
	f->rechead = (f->rechead + 1) % f->reccap;
	f->nrec--;
	return true;
}

unsigned hs_fleet_in_flight(const hs_fleet *f)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->cfg.window; i++)
		n += f->slot[i].used;
	return n;
}

static void earliest(uint64_t *d, uint64_t t)
{
	if (t && (!*d || t < *d))
		*d = t;
}

uint64_t hs_fleet_deadline(const hs_fleet *f)
{
	uint64_t d = 0;
	bool room = false;

	for (unsigned i = 0; i < f->cfg.window; i++) {
		const struct hs_fleet_slot *s = &f->slot[i];
		if (!s->used) {
			room = true;
			continue;
		}
		if (!s->tcb_done) {
			earliest(&d, hs_tcb_deadline(&s->tcb));
			earliest(&d, s->fin_deadline);
		}
		if (s->probe_wait)
			earliest(&d, s->probe_deadline);
	}
	if (!f->stopped && f->next_index < f->cfg.count && room)
		earliest(&d, f->cfg.interval_ns ? next_syn_at(f) : (f->t_start ? f->t_start : 1));
	return d;
}

bool hs_fleet_done(const hs_fleet *f)
{
	return (f->stopped || f->next_index >= f->cfg.count) && hs_fleet_in_flight(f) == 0;
}
