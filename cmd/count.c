/* hs connect HOST PORT --count N: many handshakes in one run. A thin driver around
 * the fleet (lib/fleet.c): one capture, one sender, one guard for the whole source
 * port range; the loop polls the capture until the fleet's deadline, feeds it every
 * captured segment, sends what it asks, and prints each finished connection and the
 * summary. */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "drive.h"
#include "hs/clock.h"
#include "hs/fleet.h"
#include "hs/privs.h"
#include "hs/random.h"
#include "hs/route.h"

#define PROGRESS_NS (100ull * 1000000ull) /* redraw the progress line at most 10 times a second */
#define DRAIN_MAX 256                     /* frames taken in a row before timers get a turn */
#define HS_COUNT_KEEP_MAX 1000

struct run {
	struct cli *c;
	struct drive *d;
	hs_fleet f;
	hs_endpoint local, remote;
	uint16_t lo, hi;
	bool json, quiet, progress, ascii;
	FILE *out;
	uint64_t t0, t_first, t_last;
	unsigned long send_errors;
	char send_err[256];
	uint64_t last_progress;
	bool progress_shown;
	hs_fleet_record *kept;            /* --close keep: established, to be saved at the end */
	unsigned nkept, nsaved, keep_failed;
	int first_id, last_id;
	char keep_err[300];
};

static const char *close_name(enum hs_fleet_close m)
{
	return m == HS_FLEET_FIN ? "fin" : m == HS_FLEET_NONE ? "none" : m == HS_FLEET_KEEP ? "keep" : "rst";
}

static void check_options(struct cli *c, enum hs_fleet_close *mode)
{
	static const struct { unsigned bit; const char *why; } refused[] = {
		{ O_STEP, "--step waits for Enter before each segment: not with --count" },
		{ O_TFO, "--tfo is for one connection: not with --count" },
		{ O_ISN, "--isn would give every connection the same ISN: not with --count (each gets a random one)" },
		{ O_SPORT, "--sport is one port: with --count, give --sport-range A-B" },
		{ O_SEND, "--send is not supported with --count (the handshakes carry no data)" },
		{ O_SETTLE, "--settle is not supported with --count" },
		{ O_MD5, "--md5-key is not supported with --count" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (c->given & refused[i].bit)
			die(HS_EXIT_USAGE, "%s", refused[i].why);
	if (c->pcapng_out)
		die(HS_EXIT_USAGE, "-w FILE.pcapng is not supported with --count: write a pcap file (-w FILE.pcap)");
	if (c->ladder)
		die(HS_EXIT_USAGE, "--ladder draws one connection: not with --count");
	if (c->count < 1)
		die(HS_EXIT_USAGE, "--count needs a number from 1 to 1000000 for hs connect, not \"%s\"",
		    c->count_arg ? c->count_arg : "0");
	if (!(c->given & O_CLOSE)) {
		*mode = HS_FLEET_RST;
		return;
	}
	switch (c->close) {
	case CLOSE_RST: *mode = HS_FLEET_RST; break;
	case CLOSE_FIN: *mode = HS_FLEET_FIN; break;
	case CLOSE_NONE: *mode = HS_FLEET_NONE; break;
	case CLOSE_KEEP:
		/* each kept connection gets a guard table and a record of its own */
		if (c->count > HS_COUNT_KEEP_MAX)
			die(HS_EXIT_USAGE, "--close keep with --count keeps a guard table per connection: at most %d, not %d",
			    HS_COUNT_KEEP_MAX, c->count);
		*mode = HS_FLEET_KEEP;
		break;
	default:
		die(HS_EXIT_USAGE, "--close wait is not supported with --count: use rst (default), fin, none or keep");
	}
}

static void json_time(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%llu.%06llu", (unsigned long long)(ns / HS_NS_PER_SEC),
	         (unsigned long long)(ns % HS_NS_PER_SEC / 1000));
}

static void progress_clear(struct run *r)
{
	if (r->progress_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		r->progress_shown = false;
	}
}

static void progress(struct run *r, uint64_t now)
{
	if (!r->progress || now - r->last_progress < PROGRESS_NS)
		return;
	r->last_progress = now;
	const hs_fleet_stats *st = &r->f.st;
	fprintf(stderr, "\r\033[K%u/%u started, %u done (%u ok, %u refused, %u timed out), %u in flight",
	        st->started, r->f.cfg.count, st->finished,
	        st->outcome[HS_FO_ESTABLISHED] + st->outcome[HS_FO_SYNACK], st->outcome[HS_FO_REFUSED],
	        st->outcome[HS_FO_TIMEOUT], hs_fleet_in_flight(&r->f));
	fflush(stderr);
	r->progress_shown = true;
}

static const char *us_unit(const struct run *r)
{
	return r->ascii ? "us" : "\xc2\xb5s";
}

static void emit_record(struct run *r, const hs_fleet_record *rec)
{
	char lep[HS_ENDPOINT_STRLEN], rep[HS_ENDPOINT_STRLEN], t[40];
	hs_endpoint l = r->local;

	if (r->quiet || (!r->json && r->c->verbose < 1))
		return;
	l.port = rec->sport;
	hs_endpoint_format(&l, lep, sizeof(lep));
	hs_endpoint_format(&r->remote, rep, sizeof(rep));
	progress_clear(r);
	if (r->json) {
		json_time(t, sizeof(t), rec->t_ns > r->t0 ? rec->t_ns - r->t0 : 0);
		fprintf(r->out, "{\"type\":\"handshake\",\"t\":%s,\"n\":%u,\"local\":\"%s\",\"remote\":\"%s\",\"sport\":%u,"
		        "\"outcome\":\"%s\",\"syns\":%d", t, rec->index + 1, lep, rep, rec->sport,
		        hs_fleet_outcome_name(rec->outcome), rec->syns);
		if (rec->has_rtt)
			fprintf(r->out, ",\"rtt_us\":%llu", (unsigned long long)(rec->rtt_ns / 1000));
		if (rec->has_synack) {
			fprintf(r->out, ",\"syncookie\":%s", rec->cookie == HS_COOKIE_YES ? "true"
			        : rec->cookie == HS_COOKIE_NO ? "false" : "null");
			fprintf(r->out, ",\"synack_opts\":{");
			const char *sep = "";
			if (rec->synack_opts & HS_HAS_MSS) {
				fprintf(r->out, "\"mss\":%u", rec->mss);
				sep = ",";
			}
			if (rec->synack_opts & HS_HAS_WSCALE) {
				fprintf(r->out, "%s\"wscale\":%u", sep, rec->wscale);
				sep = ",";
			}
			fprintf(r->out, "%s\"sack\":%s,\"ts\":%s}", sep, rec->synack_opts & HS_HAS_SACKOK ? "true" : "false",
			        rec->synack_opts & HS_HAS_TS ? "true" : "false");
			if (rec->cookie == HS_COOKIE_YES)
				fprintf(r->out, ",\"cookie_mss\":%u,\"cookie_keeps_wscale_sack\":%s", rec->cookie_mss,
				        rec->cookie_opts ? "true" : "false");
		}
		if (rec->outcome == HS_FO_UNREACHABLE)
			fprintf(r->out, ",\"icmp_type\":%u,\"icmp_code\":%u", rec->icmp_type, rec->icmp_code);
		fputs("}\n", r->out);
		return;
	}
	fprintf(r->out, "#%u %s -> %s %s", rec->index + 1, lep, rep, hs_fleet_outcome_name(rec->outcome));
	if (rec->has_rtt)
		fprintf(r->out, " rtt %llu %s", (unsigned long long)(rec->rtt_ns / 1000), us_unit(r));
	if (rec->has_synack) {
		fprintf(r->out, " cookie %s", hs_fleet_cookie_name(rec->cookie));
		if (rec->cookie == HS_COOKIE_YES)
			fprintf(r->out, " (mss %u, wscale/sack %s)", rec->cookie_mss, rec->cookie_opts ? "kept" : "lost");
	}
	if (rec->syns > 1)
		fprintf(r->out, " (%d SYNs)", rec->syns);
	fputc('\n', r->out);
}

static void flush(struct run *r)
{
	hs_fleet_tx t;
	hs_fleet_record rec;
	char err[256];

	while (hs_fleet_next_tx(&r->f, &t)) {
		if (hs_sender_send(r->d->s.snd, &t.src, &t.dst, &t.tx, err, sizeof(err)) < 0) {
			if (!r->send_errors++)
				snprintf(r->send_err, sizeof(r->send_err), "%s", err);
			continue;
		}
		if (r->d->s.dumping) {
			/* -w: what we sent, as the capture would have it (our SYNs' captured
			 * copies replace these; the filter takes none of our other segments) */
			uint8_t buf[128];
			int n = hs_segment_encode_ip(&t.src, &t.dst, &t.tx, buf, sizeof(buf));
			if (n > 0)
				hs_capture_dump_ip(r->d->s.cap, buf, (size_t)n);
		}
	}
	while (hs_fleet_next_record(&r->f, &rec)) {
		if (!r->t_first)
			r->t_first = rec.t_ns;
		r->t_last = rec.t_ns;
		if (rec.kept && r->kept && r->nkept < r->f.cfg.count)
			r->kept[r->nkept++] = rec;
		emit_record(r, &rec);
	}
}

static void feed(struct run *r, const hs_packet *pkt, uint64_t ts)
{
	uint64_t now = hs_now_ns();

	if (pkt->kind == HS_PKT_TCP) {
		const hs_segment *seg = &pkt->u.tcp;
		/* a receiver drops these: so do we (TECH-NOTES: checksums) */
		if (seg->fragment || seg->csum_status == HS_CSUM_BAD)
			return;
		hs_fleet_input(&r->f, seg, ts, now);
	} else if (pkt->kind == HS_PKT_ICMP) {
		hs_fleet_icmp(&r->f, &pkt->u.icmp, now);
	}
	flush(r);
}

/* Returns the signal that stopped the run, or 0. */
static int run_loop(struct run *r)
{
	hs_session *s = &r->d->s;
	hs_packet pkt;
	uint64_t ts;
	char err[256];

	for (;;) {
		uint64_t now = hs_now_ns();
		if (hs_stop_signal) {
			hs_fleet_stop(&r->f, now);
			flush(r);
			return hs_stop_signal;
		}
		hs_fleet_step(&r->f, now);
		flush(r);
		progress(r, now);
		if (hs_fleet_done(&r->f))
			return 0;
		uint64_t dl = hs_fleet_deadline(&r->f);
		uint64_t wake = now + (r->progress ? PROGRESS_NS : HS_NS_PER_SEC);
		if (!dl || dl > wake)
			dl = wake;
		if (dl <= now)
			dl = 0; /* due already: only take what is there */
		int rc = hs_capture_next(s->cap, dl, &pkt, &ts, err, sizeof(err));
		for (int n = 0; rc == 1; n++) {
			feed(r, &pkt, ts);
			if (n == DRAIN_MAX || hs_stop_signal)
				break;
			rc = hs_capture_next(s->cap, 0, &pkt, &ts, err, sizeof(err));
		}
		if (rc == -1) {
			hs_fleet_stop(&r->f, hs_now_ns());
			flush(r);
			progress_clear(r);
			die(HS_EXIT_ENV, "capture: %s", err);
		}
	}
}

static void open_all(struct run *r)
{
	struct cli *c = r->c;
	struct drive *d = r->d;
	hs_session *s = &d->s;
	bool eperm = false, nodev = false;
	char filter[1024], err[512];
	const char *iface = c->iface ? c->iface : d->ifname;

	cli_install_signals();
	cli_check_stop();
	memset(s, 0, sizeof(*s));
	s->out = &d->out;
	s->t0 = d->t0;
	s->stop = &hs_stop_signal;
	hs_cleanup_session = s; /* die() removes the guard and closes the rest */
	/* The filter goes on before the first SYN (see hs_session_open). */
	if (hs_capture_open(&s->cap, iface, &eperm, &nodev, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s", err);
	if (hs_bpf_range(&r->local.addr, r->lo, r->hi, &r->remote, filter, sizeof(filter)) < 0)
		die(HS_EXIT_ENV, "internal error: capture filter too long");
	if (hs_capture_filter(s->cap, filter, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s", err);
	if (c->pcap_out) {
		if (hs_capture_dump_open(s->cap, c->pcap_out, err, sizeof(err)) < 0)
			die(HS_EXIT_ENV, "%s", err);
		s->dumping = true;
		s->pcap_out = c->pcap_out;
	}
	s->family = r->local.addr.family;
	if (hs_sender_open(&s->snd, s->family, iface, &eperm, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s", err);
	if (!c->no_guard &&
	    hs_guard_install_range(&s->guard, &r->local.addr, r->lo, r->hi, &r->remote, &eperm, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s", err);
	if (!getenv("HS_NO_REALTIME"))
		(void)hs_realtime();
	hs_drop_privileges(true, err, sizeof(err)); /* keep CAP_NET_ADMIN: the guard goes at the end */
}

/* --close keep: each established connection gets what hs connect --close keep gives
 * one (see keep() in drive.c): a kept guard of its own, its port reserved, a record
 * in the store; then the run's range guard can go. One that cannot be kept is
 * reset. */
static void save_kept(struct run *r)
{
	struct drive *d = r->d;
	char err[256];

	for (unsigned i = 0; i < r->nkept; i++) {
		const hs_fleet_record *k = &r->kept[i];
		hs_endpoint l = r->local;
		hs_guard g = { .table = "" };
		hs_conn_record rec;
		bool eperm;

		l.port = k->sport;
		if (!r->c->no_guard &&
		    (hs_guard_install_conn(&g, &l, &r->remote, &eperm, err, sizeof(err)) < 0 ||
		     hs_guard_keep(&g, &l, &r->remote, err, sizeof(err)) < 0))
			goto failed;
		if (g.table[0])
			(void)hs_guard_reserve(&g, &l, &r->remote, err, sizeof(err)); /* only a help */
		memset(&rec, 0, sizeof(rec));
		rec.local = l;
		rec.remote = r->remote;
		snprintf(rec.iface, sizeof(rec.iface), "%s", d->ifname);
		rec.state = k->snap.state;
		rec.peer_state = k->snap.peer_state;
		rec.iss = k->snap.iss;
		rec.irs = k->snap.irs;
		rec.snd_una = rec.snd_nxt = k->snap.snd_nxt;
		rec.rcv_nxt = k->snap.rcv_nxt;
		rec.snd_wnd = k->snap.snd_wnd;
		rec.rcv_wnd = k->rcv_wnd;
		rec.peer_mss = k->snap.peer_mss;
		rec.snd_wscale = k->snap.snd_wscale;
		rec.rcv_wscale = k->snap.rcv_wscale;
		rec.ws_ok = k->snap.ws_ok;
		rec.sack_ok = k->snap.sack_ok;
		rec.ts_ok = k->snap.ts_ok;
		rec.ts_recent = k->snap.ts_recent;
		/* TSval when the snapshot was taken: a resumed one advances from the record's
		 * time, later still, so it never goes back (PAWS) */
		rec.ts_clock = k->snap.ts_val;
		snprintf(rec.guard, sizeof(rec.guard), "%s", g.table);
		rec.created = time(NULL);
		rec.pid = getpid();
		if (hs_store_save(d->state_dir, &rec, err, sizeof(err)) < 0)
			goto failed;
		if (!r->nsaved++)
			r->first_id = rec.id;
		r->last_id = rec.id;
		continue;
failed:
		if (!r->keep_failed++)
			snprintf(r->keep_err, sizeof(r->keep_err), "%s", err);
		if (g.table[0])
			hs_guard_remove(&g, err, sizeof(err));
		/* not kept: no half of it left at the peer */
		hs_tx rst;
		memset(&rst, 0, sizeof(rst));
		rst.flags = HS_RST;
		rst.seq = k->snap.snd_nxt;
		(void)hs_sender_send(d->s.snd, &l, &r->remote, &rst, err, sizeof(err));
	}
}

/* Exit status and outcome word from the figures. */
static int verdict(const struct run *r, int sig, const char **outcome, char *msg, size_t len)
{
	const hs_fleet_stats *st = &r->f.st;
	uint32_t bad = st->outcome[HS_FO_REFUSED] + st->outcome[HS_FO_RESET] + st->outcome[HS_FO_UNREACHABLE];
	uint32_t n = r->f.cfg.count;

	msg[0] = '\0';
	if (sig) {
		*outcome = "interrupted";
		snprintf(msg, len, "interrupted by %s after %u of %u handshakes", cli_signal_name(sig), st->finished, n);
		return 128 + sig;
	}
	if (r->keep_failed) {
		*outcome = "error";
		snprintf(msg, len, "%u of %u established connections could not be kept (reset instead): %s", r->keep_failed,
		         r->nkept, r->keep_err);
		return HS_EXIT_ENV;
	}
	if (bad) {
		*outcome = st->outcome[HS_FO_REFUSED] ? "refused" : st->outcome[HS_FO_RESET] ? "reset" : "unreachable";
		snprintf(msg, len, "%u of %u handshakes failed: %u refused (RST), %u reset, %u ICMP errors, %u timed out", bad,
		         n, st->outcome[HS_FO_REFUSED], st->outcome[HS_FO_RESET], st->outcome[HS_FO_UNREACHABLE],
		         st->outcome[HS_FO_TIMEOUT]);
		return HS_EXIT_PEER;
	}
	if (st->outcome[HS_FO_TIMEOUT]) {
		*outcome = "timeout";
		snprintf(msg, len, "%u of %u handshakes timed out (no SYN,ACK after %d retransmissions)",
		         st->outcome[HS_FO_TIMEOUT], n, r->f.cfg.tcb.max_retries);
		return HS_EXIT_TIMEOUT;
	}
	*outcome = r->f.cfg.close == HS_FLEET_NONE ? "syn-ack" : "established";
	return 0;
}

static void summary(struct run *r, int code, const char *outcome, const char *msg, uint64_t t_end)
{
	hs_fleet_stats *st = &r->f.st;
	uint32_t p50 = hs_fleet_rtt_percentile(&r->f, 50), p90 = hs_fleet_rtt_percentile(&r->f, 90),
	         p99 = hs_fleet_rtt_percentile(&r->f, 99), pmax = hs_fleet_rtt_percentile(&r->f, 100);
	uint64_t elapsed = t_end > r->t0 ? t_end - r->t0 : 0;
	uint32_t ok = st->outcome[HS_FO_ESTABLISHED] + st->outcome[HS_FO_SYNACK];
	double secs = (double)elapsed / 1e9, per_sec = secs > 0 ? ok / secs : 0;
	char lep[HS_ENDPOINT_STRLEN], rep[HS_ENDPOINT_STRLEN], t[40], drops[200] = "";
	unsigned long dropped = 0;
	uint32_t rtx = st->syns_sent > st->started ? st->syns_sent - st->started : 0;

	hs_capture_drops_text(r->d->s.cap, &dropped, drops, sizeof(drops));
	hs_addr_format(&r->local.addr, lep, sizeof(lep));
	hs_endpoint_format(&r->remote, rep, sizeof(rep));
	progress_clear(r);
	if (r->json) {
		json_time(t, sizeof(t), elapsed);
		fprintf(r->out, "{\"type\":\"result\",\"outcome\":\"%s\",\"exit\":%d,\"local\":\"%s\",\"remote\":\"%s\","
		        "\"handshakes\":{\"count\":%u,\"close\":\"%s\",\"sport_range\":\"%u-%u\",\"started\":%u,"
		        "\"syns_sent\":%u,\"syn_retransmissions\":%u,\"cookie_probes\":%u,\"synacks\":%u,"
		        "\"established\":%u,\"half_open\":%u,\"refused\":%u,\"reset\":%u,\"timeout\":%u,\"icmp\":%u,"
		        "\"interrupted\":%u,\"syncookies\":%u,\"not_cookies\":%u,\"cookies_unknown\":%u,"
		        "\"cookie_synacks\":%u,\"rtt_us\":{\"samples\":%u,\"p50\":%u,\"p90\":%u,\"p99\":%u,\"max\":%u},"
		        "\"elapsed\":%s,\"per_sec\":%.1f,\"send_errors\":%lu,\"stray\":%u",
		        outcome, code, lep, rep, r->f.cfg.count, close_name(r->f.cfg.close), r->lo, r->hi, st->started,
		        st->syns_sent, rtx, st->probes_sent, st->synacks, st->outcome[HS_FO_ESTABLISHED],
		        st->outcome[HS_FO_SYNACK], st->outcome[HS_FO_REFUSED], st->outcome[HS_FO_RESET],
		        st->outcome[HS_FO_TIMEOUT], st->outcome[HS_FO_UNREACHABLE], st->outcome[HS_FO_INTERRUPTED],
		        st->cookie[HS_COOKIE_YES], st->cookie[HS_COOKIE_NO], st->cookie[HS_COOKIE_UNKNOWN],
		        st->cookie_synacks, st->nrtt, p50, p90, p99, pmax, t, per_sec, r->send_errors, st->stray);
		if (r->f.cfg.close == HS_FLEET_KEEP)
			fprintf(r->out, ",\"kept\":%u,\"kept_ids\":[%d,%d]", r->nsaved, r->nsaved ? r->first_id : 0,
			        r->nsaved ? r->last_id : 0);
		fputc('}', r->out);
		if (dropped)
			fprintf(r->out, ",\"capture_drops\":%lu", dropped);
		if (msg[0]) {
			char esc[2048];
			hs_escape_text((const uint8_t *)msg, strlen(msg), esc, sizeof(esc), true);
			fprintf(r->out, ",\"message\":\"%s\"", esc);
		}
		fprintf(r->out, ",\"t\":%s}\n", t);
	} else {
		const char *us = us_unit(r);
		bool v6 = r->local.addr.family == AF_INET6;
		fprintf(r->out, "%u handshakes with %s from %s%s%s:%u-%u, --close %s\n", r->f.cfg.count, rep, v6 ? "[" : "",
		        lep, v6 ? "]" : "", r->lo, r->hi, close_name(r->f.cfg.close));
		fprintf(r->out, "  SYNs sent      %u (%u retransmissions), cookie probes %u\n", st->syns_sent, rtx,
		        st->probes_sent);
		fprintf(r->out, "  SYN,ACKs       %u\n", st->synacks);
		if (r->f.cfg.close == HS_FLEET_NONE)
			fprintf(r->out, "  half-open      %u (SYN,ACK not answered)\n", st->outcome[HS_FO_SYNACK]);
		else
			fprintf(r->out, "  established    %u\n", st->outcome[HS_FO_ESTABLISHED]);
		fprintf(r->out, "  refused (RST)  %u\n", st->outcome[HS_FO_REFUSED]);
		if (st->outcome[HS_FO_RESET])
			fprintf(r->out, "  reset          %u\n", st->outcome[HS_FO_RESET]);
		fprintf(r->out, "  timed out      %u\n", st->outcome[HS_FO_TIMEOUT]);
		fprintf(r->out, "  ICMP errors    %u\n", st->outcome[HS_FO_UNREACHABLE]);
		if (st->outcome[HS_FO_INTERRUPTED] || st->started < r->f.cfg.count)
			fprintf(r->out, "  interrupted    %u in flight, %u never started\n", st->outcome[HS_FO_INTERRUPTED],
			        r->f.cfg.count - st->started);
		fprintf(r->out, "  SYN cookies    %u (not: %u, unknown: %u); cookie SYN,ACKs seen %u, probe answers "
		        "included\n", st->cookie[HS_COOKIE_YES], st->cookie[HS_COOKIE_NO], st->cookie[HS_COOKIE_UNKNOWN],
		        st->cookie_synacks);
		if (st->nrtt)
			fprintf(r->out, "  RTT            p50 %u %s, p90 %u %s, p99 %u %s, max %u %s (%u samples)\n", p50, us,
			        p90, us, p99, us, pmax, us, st->nrtt);
		fprintf(r->out, "  elapsed        %.3f s, %.0f handshakes/s\n", secs, per_sec);
		if (r->f.cfg.close == HS_FLEET_KEEP && r->nsaved)
			fprintf(r->out, "  kept           %u, ids %d to %d (hs ls; hs fin ID, hs rst ID)\n", r->nsaved,
			        r->first_id, r->last_id);
		if (r->send_errors)
			fprintf(r->out, "  send errors    %lu (first: %s)\n", r->send_errors, r->send_err);
		if (dropped)
			fprintf(r->out, "  %s\n", drops);
	}
	fflush(r->out);
	if (code)
		fprintf(stderr, "hs: %s\n", msg);
}

int cmd_connect_count(struct cli *c, const char *host, const hs_endpoint *remote)
{
	static struct drive d; /* ~100 KB with its session: not on the stack */
	static struct run r;
	static uint8_t used[8192];
	enum hs_fleet_close mode;
	hs_fleet_config fc;
	char err[512];

	check_options(c, &mode);
	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	d.c = c;
	d.t0 = hs_now_ns();
	r.c = c;
	r.d = &d;
	r.remote = *remote;
	cli_enter_netns(c);
	cli_output_init(c, &d.out);
	drive_route(&d, host, &r.remote, &r.local);
	cli_state_dir(c, d.state_dir, sizeof(d.state_dir));
	cli_cleanup_stale_guards(d.state_dir);
	drive_config(&d, &r.local, &r.remote);

	/* Ports: the range given, else the ephemeral one; either way without the ports a
	 * local socket holds (read once). */
	if (c->given & O_SPORTRANGE) {
		r.lo = c->sport_lo;
		r.hi = c->sport_hi;
	} else {
		hs_ephemeral_range(&r.lo, &r.hi);
	}
	hs_local_ports_used(used);
	hs_fleet_config_default(&fc);
	fc.tcb = d.cfg;
	fc.count = (uint32_t)c->count;
	fc.interval_ns = c->rate > 0 ? (uint64_t)(1e9 / c->rate) : 0;
	fc.port_lo = r.lo;
	fc.port_hi = r.hi;
	fc.port_skip = used;
	fc.close = mode;
	fc.cookie_probe = !c->no_cookie_probe;
	fc.probe_wait_min_ns = 5 * HS_NS_PER_MS;
	fc.seed = ((uint64_t)hs_random32() << 32) | hs_random32();
	uint32_t ports = hs_fleet_ports_free(&fc);
	if (ports == 0)
		die(HS_EXIT_USAGE, "no free source port in %u-%u (local sockets use them all)", r.lo, r.hi);
	if (mode == HS_FLEET_NONE && fc.count > ports)
		die(HS_EXIT_USAGE, "--close none uses each source port once: %u-%u has %u free ports for %u handshakes "
		    "(widen --sport-range or lower --count)", r.lo, r.hi, ports, fc.count);
	if (mode == HS_FLEET_KEEP) {
		drive_prepare_keep(&d); /* the store can take the records: found before any SYN */
		r.kept = calloc(fc.count, sizeof(*r.kept));
		if (!r.kept)
			die(HS_EXIT_ENV, "out of memory");
	}
	if (hs_fleet_init(&r.f, &fc, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s", err);

	r.json = c->json;
	r.quiet = c->quiet;
	r.out = d.out.fp;
	r.ascii = d.out.ascii;
	r.progress = !c->json && !c->quiet && isatty(STDERR_FILENO);
	open_all(&r);

	r.t0 = hs_now_ns();
	int sig = run_loop(&r);
	uint64_t t_end = hs_now_ns();
	if (mode == HS_FLEET_KEEP)
		save_kept(&r); /* before the range guard goes: they stay guarded throughout */
	const char *outcome;
	char msg[700];
	int code = verdict(&r, sig, &outcome, msg, sizeof(msg));
	summary(&r, code, outcome, msg, t_end);
	hs_session_close(&d.s, false);
	hs_cleanup_session = NULL;
	hs_fleet_free(&r.f);
	free(r.kept);
	if (fflush(r.out) != 0 || ferror(r.out)) {
		int e = errno;
		if (code == 0) /* a success nobody could read is not one */
			die(HS_EXIT_ENV, "cannot write the summary: %s", strerror(e ? e : EIO));
	}
	return code;
}
