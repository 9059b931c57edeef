#include <config.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "drive.h"
#include "hs/random.h"
#include "hs/clock.h"
#include "hs/privs.h"
#include "hs/route.h"
#include "hs/seq.h"

void drive_check_ip(const struct cli *c, int family)
{
	const hs_ip_fields *ip = &c->fields.ip;

	if (family == AF_INET && ip->set_flow)
		die(HS_EXIT_USAGE, "--flow-label is an IPv6 header field: this connection is IPv4");
	if (family == AF_INET && ip->set_ttl && c->ip_ttl_opt && strcmp(c->ip_ttl_opt, "--hop-limit") == 0)
		die(HS_EXIT_USAGE, "--hop-limit is the IPv6 name: this connection is IPv4 (use --ttl)");
}

void drive_config(struct drive *d, const hs_endpoint *local, const hs_endpoint *remote)
{
	const struct cli *c = d->c;
	int family = local->addr.family ? local->addr.family : remote->addr.family;

	hs_tcb_config_default(&d->cfg);
	d->cfg.local = *local;
	d->cfg.remote = *remote;
	d->cfg.iss = c->have_isn ? c->isn : hs_random32();
	d->cfg.window = c->window;
	d->cfg.syn_opts = c->opts;
	/* The default MSS is the Ethernet one for the family: 1500 minus the headers. */
	if (!c->have_opts && (remote->addr.family == AF_INET6 || local->addr.family == AF_INET6))
		for (int i = 0; i < d->cfg.syn_opts.n; i++)
			if (d->cfg.syn_opts.item[i].kind == HS_OPTK_MSS && !d->cfg.syn_opts.item[i].raw)
				d->cfg.syn_opts.item[i].v1 = 1440;
	d->cfg.ts_clock = hs_random32();
	d->cfg.max_retries = c->retries;
	d->cfg.rto_ns = c->timeout_ns;
	d->cfg.time_wait_ns = c->time_wait_ns;
	/* --ttl / --hop-limit / --flow-label: on every segment, as a socket option would
	 * set them (hs listen without ADDR learns the family from the SYN: a flow label
	 * then only goes on IPv6 segments). */
	drive_check_ip(c, family);
	d->cfg.ip.set_ttl = c->fields.ip.set_ttl;
	d->cfg.ip.ttl = c->fields.ip.ttl;
	d->cfg.ip.set_flow = c->fields.ip.set_flow;
	d->cfg.ip.flow = c->fields.ip.flow;
}

void drive_check_md5_room(struct drive *d)
{
	uint8_t wire[HS_OPT_MAXLEN];
	const char *why = NULL;

	if (!d->c->md5.len)
		return;
	/* An md5 item in --opt is where the signature goes: it is counted already. */
	for (int i = 0; i < d->cfg.syn_opts.n; i++)
		if (d->cfg.syn_opts.item[i].kind == HS_OPTK_MD5 && !d->cfg.syn_opts.item[i].raw)
			return;
	int n = hs_opt_spec_encode(&d->cfg.syn_opts, 0, 0, wire, &why);
	if (n < 0)
		return; /* told elsewhere, with its own reason */
	int padded = (n + 3) & ~3;
	if (padded + 20 > HS_OPT_MAXLEN)
		die(HS_EXIT_USAGE, "--md5-key: the signature needs 20 of TCP's %d option bytes and the SYN's options take "
		    "%d: leave some out of --opt (Linux leaves out timestamps: --opt mss=1460,sack,nop,wscale=7)",
		    HS_OPT_MAXLEN, padded);
}

void drive_open(struct drive *d, const hs_session_params *p)
{
	cli_install_signals();
	cli_check_stop(); /* a signal that came while we were getting ready */
	/* NOP, NOP, MD5 on every segment: less payload fits in the peer's MSS. */
	d->cfg.md5_space = p->md5.len ? 20 : 0;
	int rc = hs_session_open(&d->s, p, &d->out, &hs_stop_signal, d->t0);
	hs_cleanup_session = &d->s;
	if (rc != HS_EXIT_OK)
		die(rc, "%s", d->s.err);
	/* The raw socket and the capture are open: keep only CAP_NET_ADMIN, which
	 * removing the guard (or making it a kept one) needs. A failure here leaves hs no worse
	 * off than before, so it is not fatal. */
	char err[128];
	if (!getenv("HS_NO_REALTIME"))
		(void)hs_realtime();
	if (!d->keep_privs)
		hs_drop_privileges(true, err, sizeof(err));
}

uint64_t drive_patience(const struct cli *c)
{
	return c->timeout_ns * ((2ull << c->retries) - 1);
}

void drive_route(struct drive *d, const char *host, hs_endpoint *remote, hs_endpoint *local)
{
	const struct cli *c = d->c;
	const char *why, *bind;
	char err[256], name[256], *pct;

	/* fe80::1%eth0: the zone (RFC 4007 11.7) names the interface, as -i does. */
	snprintf(name, sizeof(name), "%s", host);
	pct = strchr(name, '%');
	if (pct)
		*pct++ = '\0';
	if (hs_addr_resolve(name, 0, &remote->addr, &why) < 0)
		die(HS_EXIT_USAGE, "cannot resolve host \"%s\": %s", host, why);
	bool any = cli_check_iface(c);
	bind = any ? NULL : c->iface;
	if (pct) {
		if (remote->addr.family != AF_INET6 || !*pct)
			die(HS_EXIT_USAGE, "\"%s\": a %%IFACE zone goes only after an IPv6 address (fe80::1%%eth0)", host);
		if (!hs_iface_exists(pct))
			die(HS_EXIT_USAGE, "\"%s\": no such interface %s", host, pct);
		if (bind && strcmp(bind, pct) != 0)
			die(HS_EXIT_USAGE, "\"%s\" names interface %s but -i says %s", host, pct, bind);
		bind = pct;
	}
	memset(local, 0, sizeof(*local));
	if (hs_route_source(&remote->addr, bind, &local->addr, d->ifname, sizeof(d->ifname), err,
	                    sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s", err);
}

uint16_t drive_source_port(struct drive *d, const hs_addr *src)
{
	hs_endpoint local = { .addr = *src };

	if (d->c->sport) {
		local.port = d->c->sport;
		if (hs_local_port_in_use(local.port, false))
			die(HS_EXIT_USAGE, "source port %u is in use by a local socket: choose another --sport", local.port);
		if (hs_store_local_in_use(d->state_dir, &local))
			die(HS_EXIT_USAGE, "source port %u is in use by a kept connection (see hs ls)", local.port);
		/* Held until we exit: a second hs on this port is refused here. */
		if (hs_port_hold(&local) < 0 && errno == EADDRINUSE)
			die(HS_EXIT_USAGE, "source port %u is in use by another running hs (or a socket bound to it): "
			    "choose another --sport", local.port);
		return local.port;
	}
	/* The kernel picks (bind to port 0: no scan of the socket tables); a port a kept
	 * connection uses stays held by the refused socket, so the next pick differs. */
	bool none_free = false;
	for (int tries = 0; tries < 64; tries++) {
		if (hs_port_hold_any(&local) < 0) {
			none_free = errno == EADDRINUSE;
			break;
		}
		if (!hs_store_local_in_use(d->state_dir, &local))
			return local.port;
	}
	/* bind() refused the address itself (not a port): a free port from the socket
	 * tables, as before, held where the address lets it be. */
	for (int tries = 0; !none_free && tries < 64; tries++) {
		local.port = hs_pick_ephemeral_port();
		if (local.port && !hs_store_local_in_use(d->state_dir, &local) &&
		    (hs_port_hold(&local) >= 0 || errno != EADDRINUSE))
			return local.port;
	}
	die(HS_EXIT_ENV, "no free source port found: use --sport");
}

void drive_prepare_keep(struct drive *d)
{
	char err[PATH_MAX + 128];

	/* Keeping must not fail once the peer is ESTABLISHED: a store that cannot be
	 * created or written, or has no free id, is found before the SYN leaves. */
	if (d->c->close == CLOSE_KEEP && hs_store_prepare(d->state_dir, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s; nothing sent (--close keep saves the connection there; use --state-dir "
		    "or another --close)", err);
}

int drive_finish(struct drive *d, const char *outcome, int code, const char *conn, const char *msg)
{
	hs_session_result(&d->s, outcome, code, conn, "%s", msg);
	hs_session_close(&d->s, conn != NULL);
	if (d->kept_id)
		hs_store_remove(d->state_dir, d->kept_id);
	hs_cleanup_session = NULL;
	return code;
}

/* Retransmissions ran out: what was awaited follows from the state the wait began in
 * (t->state is CLOSED by now). */
static void timeout_message(const struct drive *d, char *msg, size_t len, const char *peer,
                            const char *waiting_for)
{
	const hs_tcb *t = &d->s.tcb;
	int n = t->cfg.max_retries;
	const char *rtx = n == 1 ? "retransmission" : "retransmissions";

	switch (t->result_state) {
	case HS_SYN_SENT:
		snprintf(msg, len, "timeout: no SYN,ACK from %s after %d %s of our SYN "
		         "(is the port filtered? try --timeout/--retries)", peer, n, rtx);
		return;
	case HS_SYN_RECEIVED:
		snprintf(msg, len, "timeout: no ACK of our SYN,ACK from %s after %d %s "
		         "(try --timeout/--retries)", peer, n, rtx);
		return;
	case HS_FIN_WAIT_1:
	case HS_CLOSING:
	case HS_LAST_ACK:
		if (hs_seq_geq(t->snd_una, t->snd_end)) {
			snprintf(msg, len, "timeout: no ACK of our FIN from %s after %d %s in %s "
			         "(try --timeout/--retries)", peer, n, rtx, hs_state_name(t->result_state));
			return;
		}
		break;
	default:
		break;
	}
	if (t->snd_wnd == 0)
		snprintf(msg, len, "timeout: %s kept its window closed through %d zero-window probes "
		         "(its application is not reading); %u of %u bytes were delivered", peer, n,
		         t->snd_una - t->iss - 1, t->snd_end - t->iss - 1);
	else if (hs_seq_lt(t->snd_una, t->snd_end))
		snprintf(msg, len, "timeout: no ACK of our data from %s after %d %s in %s "
		         "(%u of %u bytes acknowledged; try --timeout/--retries)", peer, n, rtx,
		         hs_state_name(t->result_state), t->snd_una - t->iss - 1, t->snd_end - t->iss - 1);
	else
		snprintf(msg, len, "timeout: no answer from %s after %d %s in %s while waiting for %s "
		         "(try --timeout/--retries)", peer, n, rtx, hs_state_name(t->result_state), waiting_for);
}

/* The run ends early (a signal, a write error) with a connection nobody keeps: the
 * guard goes, so the peer must not stay half-open. Past SYN-SENT it knows our
 * numbers: an RST closes its side now. In SYN-SENT its SYN,ACK (if any) draws the
 * local kernel's RST once the guard is gone. Returns true when an RST went out. */
static bool abort_unkept(struct drive *d)
{
	hs_session *s = &d->s;
	hs_tcb_out o;

	if (s->tcb.probing && s->tcb.peer_state == HS_SYN_RECEIVED && s->snd) {
		/* hs send HOST PORT: its SYN left the peer half-open. */
		s->step = false;
		hs_tcb_probe_reset(&s->tcb, hs_now_ns(), &o);
		return hs_session_apply(s, &o, NULL, 0) == 0 && o.ntx > 0;
	}
	switch (s->tcb.state) {
	case HS_SYN_RECEIVED:
	case HS_ESTABLISHED:
	case HS_FIN_WAIT_1:
	case HS_FIN_WAIT_2:
	case HS_CLOSE_WAIT:
	case HS_CLOSING:
	case HS_LAST_ACK:
		break;
	default:
		return false;
	}
	if (s->observe || !s->snd)
		return false;
	s->step = false; /* no prompt on the way out */
	hs_tcb_abort(&s->tcb, false, hs_now_ns(), &o);
	return hs_session_apply(s, &o, NULL, 0) == 0 && o.ntx > 0;
}

static void record_from_tcb(const struct drive *d, hs_conn_record *rec);

/* The states hs keeps a connection in: the only ones fin and rst continue. */
static bool keepable_state(hs_state st)
{
	return st == HS_ESTABLISHED || st == HS_CLOSE_WAIT;
}

/* A resumed kept connection that we have not changed: no FIN, no data, no RST sent
 * (probes and duplicate ACKs only), and the peer has not reset it. */
static bool resumed_untouched(const struct drive *d)
{
	const hs_tcb *t = &d->s.tcb;

	return d->resumed && d->kept_id > 0 && keepable_state(t->state) && t->snd_nxt == d->kept_snd_nxt &&
	       t->snd_max == d->kept_snd_nxt;
}

/* The run on a resumed kept connection ends before a FIN or RST was sent: the
 * record (updated with what was taken in meanwhile) and its guard stay. */
int drive_keep_resumed(struct drive *d, const char *outcome, int code, const char *why)
{
	hs_conn_record rec;
	char err[256], id[16], msg[512];

	if (!resumed_untouched(d))
		return drive_finish(d, outcome, code, NULL, why);
	record_from_tcb(d, &rec);
	rec.id = d->kept_id;
	if (hs_store_save(d->state_dir, &rec, err, sizeof(err)) < 0)
		hs_session_info(&d->s, "%s (the record as it was stays)", err);
	snprintf(id, sizeof(id), "%d", d->kept_id);
	d->kept_id = 0; /* not to be removed */
	snprintf(msg, sizeof(msg), "%s; no FIN or RST was sent: the connection stays kept with its guard", why);
	return drive_finish(d, outcome, code, id, msg);
}

int drive_failed(struct drive *d, enum hs_run r, const char *waiting_for)
{
	hs_tcb *t = &d->s.tcb;
	char peer[HS_ENDPOINT_STRLEN], host[HS_ENDPOINT_STRLEN], msg[512];

	/* The outcome is decided on everything that has arrived: an RST captured while
	 * the loop ended is the outcome, not a footnote after it. */
	if (r != HS_RUN_ERROR && hs_session_drain(&d->s) == HS_RUN_ERROR)
		r = HS_RUN_ERROR;
	else if ((r == HS_RUN_IDLE || r == HS_RUN_GOAL) && t->result != HS_RES_NONE)
		r = HS_RUN_ENDED;

	hs_endpoint_format(&t->cfg.remote, peer, sizeof(peer));
	if (r != HS_RUN_GOAL && r != HS_RUN_ENDED && resumed_untouched(d)) {
		int sig = hs_stop_signal;
		if (r == HS_RUN_SIGNAL) {
			snprintf(msg, sizeof(msg), "interrupted by %s%s in %s (peer %s)", cli_signal_name(sig),
			         sig == SIGPIPE ? " (the reader of our output went away)" : "", hs_state_name(t->state),
			         hs_state_name(t->peer_state));
			return drive_keep_resumed(d, "interrupted", 128 + sig, msg);
		}
		if (r == HS_RUN_IDLE) {
			snprintf(msg, sizeof(msg), "timeout: %s from %s did not come (state %s)", waiting_for, peer,
			         hs_state_name(t->state));
			return drive_keep_resumed(d, "timeout", HS_EXIT_TIMEOUT, msg);
		}
		if (r == HS_RUN_QUIT) {
			snprintf(msg, sizeof(msg), "%s in %s (peer %s)", d->s.quit_code ? d->s.err : "q at the --step prompt",
			         hs_state_name(t->state), hs_state_name(t->peer_state));
			return drive_keep_resumed(d, d->s.quit_code ? "error" : "interrupted",
			                          d->s.quit_code ? d->s.quit_code : 128 + SIGINT, msg);
		}
		snprintf(msg, sizeof(msg), "%s", d->s.err);
		return drive_keep_resumed(d, "error", HS_EXIT_ENV, msg);
	}
	switch (r) {
	case HS_RUN_SIGNAL: {
		int sig = hs_stop_signal;
		hs_state st = t->state, ps = t->peer_state;
		bool rst = abort_unkept(d);
		snprintf(msg, sizeof(msg), "interrupted by %s%s in %s (peer %s); %sguard removed", cli_signal_name(sig),
		         sig == SIGPIPE ? " (the reader of our output went away)" : "", hs_state_name(st),
		         hs_state_name(ps), rst ? "RST sent to the peer, " : "");
		return drive_finish(d, "interrupted", 128 + sig, NULL, msg);
	}
	case HS_RUN_QUIT: {
		hs_state st = t->state, ps = t->peer_state;
		char why[sizeof(d->s.err)];
		int code = d->s.quit_code ? d->s.quit_code : 128 + SIGINT;
		snprintf(why, sizeof(why), "%s", d->s.quit_code ? d->s.err : "q at the --step prompt");
		bool rst = abort_unkept(d);
		snprintf(msg, sizeof(msg), "%s: stopped in %s (peer %s); %sguard removed", why, hs_state_name(st),
		         hs_state_name(ps), rst ? "RST sent to the peer, " : "");
		return drive_finish(d, d->s.quit_code ? "error" : "interrupted", code, NULL, msg);
	}
	case HS_RUN_WRITE: {
		hs_state st = t->state, ps = t->peer_state;
		char why[sizeof(d->s.err)];
		snprintf(why, sizeof(why), "%s", d->s.err);
		bool rst = abort_unkept(d);
		snprintf(msg, sizeof(msg), "%s: stopped in %s (peer %s); %sguard removed", why, hs_state_name(st),
		         hs_state_name(ps), rst ? "RST sent to the peer, " : "");
		return drive_finish(d, "error", HS_EXIT_ENV, NULL, msg);
	}
	case HS_RUN_ERROR:
		return drive_finish(d, "error", HS_EXIT_ENV, NULL, d->s.err);
	case HS_RUN_IDLE:
		if (t->state == HS_LISTEN)
			snprintf(msg, sizeof(msg), "timeout: no SYN came to port %u while in LISTEN (%s)", t->cfg.local.port,
			         (d->c->given & O_SYNTIMEOUT) ? "--syn-timeout" : "--timeout");
		else
			snprintf(msg, sizeof(msg), "timeout: %s from %s did not come (state %s)", waiting_for, peer,
			         hs_state_name(t->state));
		return drive_finish(d, "timeout", HS_EXIT_TIMEOUT, NULL, msg);
	case HS_RUN_GOAL:
	case HS_RUN_ENDED:
		break;
	}
	switch (t->result) {
	case HS_RES_REFUSED:
		snprintf(msg, sizeof(msg), "connection refused by %s (RST,ACK to our SYN: nothing listens there)", peer);
		return drive_finish(d, "refused", HS_EXIT_PEER, NULL, msg);
	case HS_RES_RESET:
		if (d->s.kernel_rsts)
			snprintf(msg, sizeof(msg), "connection reset by %s after the local kernel sent RST "
			         "(no socket owns our port; run without --no-guard)", peer);
		else
			snprintf(msg, sizeof(msg), "connection reset by %s (RST received in %s)", peer,
			         hs_state_name(t->result_state));
		return drive_finish(d, "reset", HS_EXIT_PEER, NULL, msg);
	case HS_RES_TIMEOUT:
		timeout_message(d, msg, sizeof(msg), peer, waiting_for);
		if (d->s.have_icmp) { /* the ICMP that came is the likelier reason: name it */
			size_t n = strlen(msg);
			snprintf(msg + n, sizeof(msg) - n, "; the last ICMP: %s from %s (type %u code %u)",
			         hs_icmp_text(&d->s.last_icmp), hs_addr_format(&d->s.last_icmp.reporter.addr, host, sizeof(host)),
			         d->s.last_icmp.type, d->s.last_icmp.code);
		}
		return drive_finish(d, "timeout", HS_EXIT_TIMEOUT, NULL, msg);
	case HS_RES_UNREACHABLE:
		if (d->s.have_icmp)
			snprintf(msg, sizeof(msg), "%s is unreachable: ICMP %s from %s (type %u code %u)", peer,
			         hs_icmp_text(&d->s.last_icmp),
			         hs_addr_format(&d->s.last_icmp.reporter.addr, host, sizeof(host)),
			         d->s.last_icmp.type, d->s.last_icmp.code);
		else
			snprintf(msg, sizeof(msg), "%s is unreachable: an ICMP error answered our segment", peer);
		return drive_finish(d, "unreachable", HS_EXIT_PEER, NULL, msg);
	case HS_RES_ABORTED:
		return drive_finish(d, "aborted", HS_EXIT_OK, NULL, "connection aborted with RST");
	case HS_RES_CLOSED:
		return drive_finish(d, "closed", HS_EXIT_OK, NULL, "connection closed");
	default:
		snprintf(msg, sizeof(msg), "stopped unexpectedly in %s", hs_state_name(t->state));
		return drive_finish(d, "error", HS_EXIT_PEER, NULL, msg);
	}
}

static bool all_acked(const hs_tcb *t, void *arg)
{
	return hs_tcb_all_acked(t);
}

static bool peer_closed(const hs_tcb *t, void *arg)
{
	return t->state == HS_CLOSE_WAIT || t->state == HS_CLOSING || t->state == HS_TIME_WAIT ||
	       t->state == HS_LAST_ACK;
}

/* --no-guard: the kernel's RST races our ACK; give the capture a moment to show it
 * before claiming success. */
static enum hs_run settle_without_guard(struct drive *d)
{
	uint64_t grace = d->c->timeout_ns < 200 * HS_NS_PER_MS ? d->c->timeout_ns : 200 * HS_NS_PER_MS;
	enum hs_run r = hs_session_run(&d->s, NULL, NULL, hs_now_ns() + grace);
	return r == HS_RUN_IDLE ? HS_RUN_GOAL : r;
}

static void record_from_tcb(const struct drive *d, hs_conn_record *rec)
{
	const hs_tcb *t = &d->s.tcb;
	hs_tcb_snapshot snap;

	hs_tcb_snapshot_take(t, hs_now_ns(), &snap);
	memset(rec, 0, sizeof(*rec));
	rec->local = t->cfg.local;
	rec->remote = t->cfg.remote;
	snprintf(rec->iface, sizeof(rec->iface), "%s", d->ifname);
	rec->state = snap.state;
	rec->peer_state = snap.peer_state;
	rec->iss = snap.iss;
	rec->irs = snap.irs;
	rec->snd_una = snap.snd_nxt;
	rec->snd_nxt = snap.snd_nxt;
	rec->rcv_nxt = snap.rcv_nxt;
	rec->snd_wnd = snap.snd_wnd;
	rec->rcv_wnd = t->rcv_wnd;
	rec->peer_mss = snap.peer_mss;
	rec->snd_wscale = snap.snd_wscale;
	rec->rcv_wscale = snap.rcv_wscale;
	rec->ws_ok = snap.ws_ok;
	rec->sack_ok = snap.sack_ok;
	rec->ts_ok = snap.ts_ok;
	rec->ts_recent = snap.ts_recent;
	rec->ts_clock = snap.ts_val;
	/* fin, rst and send sign with it too; a resumed connection keeps the key it was made
	 * with (a --md5-key given to fin, rst or send is for that command only). */
	const hs_md5_key *key = d->resumed ? &d->kept_md5 : &d->s.md5;
	rec->md5_key_len = key->len;
	memcpy(rec->md5_key, key->key, key->len);
	rec->beyond = snap.beyond_sent;
	rec->beyond_start = snap.beyond_start;
	rec->beyond_end = snap.beyond_end;
	rec->beyond_fin = snap.beyond_fin;
	rec->beyond_fin_seq = snap.beyond_fin_seq;
	snprintf(rec->guard, sizeof(rec->guard), "%s", d->s.guard.table);
	rec->created = time(NULL);
	rec->pid = getpid();
}

void drive_snapshot_from_record(const hs_conn_record *rec, hs_tcb_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->state = rec->state;
	snap->peer_state = rec->peer_state;
	snap->iss = rec->iss;
	snap->irs = rec->irs;
	snap->snd_nxt = rec->snd_nxt;
	snap->rcv_nxt = rec->rcv_nxt;
	snap->snd_wnd = rec->snd_wnd;
	snap->peer_mss = rec->peer_mss;
	snap->snd_wscale = rec->snd_wscale;
	snap->rcv_wscale = rec->rcv_wscale;
	snap->ws_ok = rec->ws_ok;
	snap->sack_ok = rec->sack_ok;
	snap->ts_ok = rec->ts_ok;
	snap->ts_recent = rec->ts_recent;
	snap->beyond_sent = rec->beyond;
	snap->beyond_start = rec->beyond_start;
	snap->beyond_end = rec->beyond_end;
	snap->beyond_fin = rec->beyond_fin;
	snap->beyond_fin_seq = rec->beyond_fin_seq;
	/* TSval must not go backwards: advance it by the wall time since saving. */
	time_t now = time(NULL);
	snap->ts_val = rec->ts_clock + (uint32_t)((now > rec->created ? now - rec->created : 0) * 1000);
}

/* Keeping failed after the handshake: nothing will continue the connection, so the
 * peer must not stay half-open. */
static int keep_failed(struct drive *d, const char *why)
{
	char msg[512];
	hs_state st = d->s.tcb.state, ps = d->s.tcb.peer_state;
	bool rst = abort_unkept(d);

	snprintf(msg, sizeof(msg), "cannot keep the connection: %s; in %s (peer %s): %sguard removed", why,
	         hs_state_name(st), hs_state_name(ps), rst ? "RST sent to the peer, " : "");
	return drive_finish(d, "error", HS_EXIT_ENV, NULL, msg);
}

static int keep(struct drive *d)
{
	hs_conn_record rec;
	char err[256], id[16];

	/* What the peer sent meanwhile (a banner, its FIN, an RST) is in the kept state. */
	enum hs_run r = hs_session_drain(&d->s);
	if (r != HS_RUN_GOAL)
		return drive_failed(d, r, "");

	/* A kept guard outlives this process: it must cover only this connection, not
	 * the whole port, and say that it is kept ("hs_kept_..."), so that no cleanup of
	 * stale tables takes it, whatever store names it (this takes milliseconds, so it
	 * is done here, not on the way from the handshake to the data). */
	if (d->s.guard.table[0] &&
	    hs_guard_keep(&d->s.guard, &d->s.tcb.cfg.local, &d->s.tcb.cfg.remote, err, sizeof(err)) < 0)
		return keep_failed(d, err);
	/* Our placeholder socket goes with this process: the guard reserves the port
	 * from now on. Without it a local connect() may pick the port and hang. */
	if (d->s.guard.table[0] &&
	    hs_guard_reserve(&d->s.guard, &d->s.tcb.cfg.local, &d->s.tcb.cfg.remote, err, sizeof(err)) < 0)
		hs_session_info(&d->s, "warning: %s; a local connect() to the peer may pick port %u and hang",
		                err, d->s.tcb.cfg.local.port);
	/* Saving takes a few ms: what arrived meanwhile is taken in, and the record
	 * saved again if it changed anything (or removed, if the peer reset it). */
	for (int round = 0;; round++) {
		unsigned inputs = d->s.inputs;
		record_from_tcb(d, &rec);
		if (hs_store_save(d->state_dir, &rec, err, sizeof(err)) < 0)
			return keep_failed(d, err);
		d->kept_id = rec.id; /* removed by drive_finish if this ends otherwise */
		r = hs_session_drain(&d->s);
		if (r != HS_RUN_GOAL)
			return drive_failed(d, r, "");
		if (d->s.inputs == inputs || round == 3)
			break;
		hs_store_remove(d->state_dir, rec.id);
	}
	d->kept_id = 0; /* saved: not to be removed */
	snprintf(id, sizeof(id), "%d", rec.id);
	return drive_finish(d, "established", HS_EXIT_OK, id,
	              rec.guard[0] ? "the guard stays: continue with hs fin or hs rst"
	                           : "no guard: the local kernel may reset it");
}

int drive_save_kept(struct drive *d, char *id, size_t idlen, char *err, size_t errlen)
{
	hs_conn_record rec;

	snprintf(id, idlen, "%d", d->kept_id);
	record_from_tcb(d, &rec);
	rec.id = d->kept_id;
	if (hs_store_save(d->state_dir, &rec, err, errlen) < 0) {
		d->kept_id = 0;
		return -1;
	}
	d->kept_id = 0; /* saved: not to be removed */
	return 0;
}


enum hs_run drive_resume(struct drive *d, hs_conn_record *rec)
{
	struct cli *c = d->c;
	char err[256], l[HS_ENDPOINT_STRLEN], r[HS_ENDPOINT_STRLEN];
	hs_tcb_snapshot snap;

	if (c->nargs > 1)
		die(HS_EXIT_USAGE, "%s takes one kept connection (see hs ls) or A:PORT B:PORT, not \"%s\"", c->cmd,
		    c->args[1]);
	const char *name = c->nargs ? c->args[0] : NULL;
	cli_enter_netns(c);
	cli_output_init(c, &d->out);
	cli_state_dir(c, d->state_dir, sizeof(d->state_dir));
	int rc = hs_store_find(d->state_dir, name, rec, err, sizeof(err));
	if (rc > 0)
		die(HS_EXIT_USAGE, "%s%s", err, d->not_found_hint ? d->not_found_hint : "");
	if (rc < 0)
		die(HS_EXIT_ENV, "%s", err);
	hs_endpoint_format(&rec->local, l, sizeof(l));
	hs_endpoint_format(&rec->remote, r, sizeof(r));
	/* hs keeps connections only in these states; a record in another one is not
	 * hs's to act on: refuse it and touch nothing (neither record nor guard). */
	if (!keepable_state(rec->state))
		die(HS_EXIT_ENV, "kept connection %d (%s -> %s) is in %s, a state hs never keeps (only ESTABLISHED "
		    "and CLOSE-WAIT): not continued, record and guard left as they are", rec->id, l, r,
		    hs_state_name(rec->state));
	/* One owner at a time: another hs that works on this 4-tuple (a connect or
	 * listen still running, another fin or rst) holds its port; leave it alone. */
	if (hs_port_hold(&rec->local) < 0 && errno == EADDRINUSE)
		die(HS_EXIT_USAGE, "kept connection %d (%s -> %s) is in use: another running hs (or a socket) holds "
		    "port %u; nothing sent, record and guard left as they are", rec->id, l, r, rec->local.port);
	if (rec->guard[0] && !hs_guard_exists(rec->guard)) {
		hs_store_remove(d->state_dir, rec->id);
		die(HS_EXIT_PEER, "kept connection %d (%s -> %s) is stale: its guard %s is gone, so the local kernel "
		    "resets it at the peer's next segment; removed", rec->id, l, r, rec->guard);
	}
	d->kept_id = rec->id;
	d->kept_snd_nxt = rec->snd_nxt;
	d->resumed = true;
	snprintf(d->ifname, sizeof(d->ifname), "%s", rec->iface[0] ? rec->iface : "any");
	drive_config(d, &rec->local, &rec->remote);
	/* hs send's --ttl / --hop-limit / --flow-label are its crafted segment's (merged
	 * there), not the probe's nor the catch-up ACKs': those go as a stack sends them. */
	memset(&d->cfg.ip, 0, sizeof(d->cfg.ip));
	hs_session_params p = {
		.local = rec->local, .remote = rec->remote, .capture_iface = d->ifname,
		.pcap_out = d->c->pcap_out, .guard = false, .step = d->c->step,
	};
	/* The key the connection was made with, unless --md5-key gives another for this
	 * command (hs send: for its crafted segment only). */
	memset(&d->kept_md5, 0, sizeof(d->kept_md5));
	d->kept_md5.len = rec->md5_key_len;
	memcpy(d->kept_md5.key, rec->md5_key, rec->md5_key_len);
	p.md5 = d->c->md5.len && !d->md5_crafted_only ? d->c->md5 : d->kept_md5;
	drive_open(d, &p);
	/* The kept guard is this process's now: it goes when we finish. */
	snprintf(d->s.guard.table, sizeof(d->s.guard.table), "%s", rec->guard);
	drive_snapshot_from_record(rec, &snap);
	hs_tcb_resume(&d->s.tcb, &d->cfg, &snap, hs_now_ns());
	hs_session_info(&d->s, "resuming kept connection %d: %s %s -> %s (peer %s)", rec->id,
	                hs_state_name(rec->state), l, r, hs_state_name(rec->peer_state));
	return d->no_catch_up ? HS_RUN_GOAL : drive_catch_up(d);
}

bool drive_answered(const hs_tcb *t, void *arg)
{
	const struct drive_answer *w = arg;
	return w->s->inputs > w->before;
}

enum hs_run drive_probe(struct drive *d)
{
	hs_session *s = &d->s;
	struct drive_answer w = { .s = s, .before = s->inputs };
	uint64_t wait = d->c->timeout_ns;
	enum hs_run r = HS_RUN_IDLE;
	hs_tcb_out o;

	for (int i = 0; i <= d->c->retries && r == HS_RUN_IDLE; i++, wait *= 2) {
		/* Each one is a keepalive again (Wireshark's word too), not a retransmission. */
		hs_tcb_probe(&s->tcb, true, hs_now_ns(), &o);
		if (hs_session_apply(s, &o, NULL, 0) < 0)
			return HS_RUN_ERROR;
		r = hs_session_run(s, drive_answered, &w, hs_now_ns() + wait);
	}
	return r;
}

static bool caught_up(const hs_tcb *t, void *arg)
{
	const hs_session *s = arg;
	return hs_seq_geq(t->rcv_nxt, s->peer_next);
}

enum hs_run drive_catch_up(struct drive *d)
{
	hs_session *s = &d->s;
	hs_tcb_out o;

	/* Where is the peer? A keepalive probe makes it show its SND.NXT (or RST). */
	enum hs_run r = drive_probe(d);
	if (r != HS_RUN_GOAL)
		return r;
	if (caught_up(&s->tcb, s))
		return HS_RUN_GOAL;
	hs_session_info(s, "the peer sent %u byte%s (a FIN counts as one) while no hs ran: waiting for its "
	                "retransmission (three duplicate ACKs sent to hurry it)",
	                (unsigned)(s->peer_next - s->tcb.rcv_nxt), s->peer_next - s->tcb.rcv_nxt == 1 ? "" : "s");
	/* Three duplicate ACKs: the peer retransmits at once instead of waiting for
	 * its backed-off timer. */
	for (int i = 0; i < 3; i++) {
		hs_tcb_probe(&s->tcb, false, hs_now_ns(), &o);
		if (hs_session_apply(s, &o, NULL, 0) < 0)
			return HS_RUN_ERROR;
	}
	r = hs_session_run(s, caught_up, s, hs_now_ns() + drive_patience(d->c));
	return r == HS_RUN_IDLE ? HS_RUN_IDLE : r;
}

/* A --step edit sent our FIN (ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK)
 * before the driver asked for one. */
static bool closed_by_edit(const struct drive *d)
{
	hs_state st = d->s.tcb.state;

	return d->s.tcb.result == HS_RES_NONE && (st == HS_FIN_WAIT_1 || st == HS_FIN_WAIT_2 || st == HS_CLOSING ||
	                                          st == HS_LAST_ACK || st == HS_TIME_WAIT);
}

/* ... then the close goes on to its end, whatever --send and --close said. */
static int follow_close(struct drive *d)
{
	hs_session *s = &d->s;

	hs_session_info(s, "our FIN went out at a --step prompt: following the close (--send and --close "
	                "no longer apply)");
	enum hs_run r = hs_session_run(s, NULL, NULL, hs_now_ns() + drive_patience(d->c) + d->c->time_wait_ns);
	return drive_failed(d, r, s->tcb.state == HS_FIN_WAIT_2 ? "the peer's FIN" : "the peer's ACK of our FIN");
}

int drive_established(struct drive *d)
{
	struct cli *c = d->c;
	hs_session *s = &d->s;
	hs_tcb_out o;
	enum hs_run r;

	if (closed_by_edit(d))
		return follow_close(d);
	if (c->no_guard) {
		r = settle_without_guard(d);
		if (r != HS_RUN_GOAL)
			return drive_failed(d, r, "nothing");
		if (s->kernel_rsts) {
			char msg[256];
			snprintf(msg, sizeof(msg), "the local kernel reset the connection (it owns no socket for port %u); "
			         "run without --no-guard", s->tcb.cfg.local.port);
			return drive_finish(d, "reset", HS_EXIT_PEER, NULL, msg);
		}
	}

	/* --settle: what the peer says first (a banner, its FIN, an RST) before we act. */
	if (c->settle_ns) {
		r = hs_session_run(s, NULL, NULL, hs_now_ns() + c->settle_ns);
		if (r != HS_RUN_IDLE)
			return drive_failed(d, r, "nothing");
	}
	for (int i = d->sends_done; i < c->nsend; i++) {
		/* Act on what has already arrived: no data after the peer's RST. */
		r = hs_session_before_call(s, "data");
		if (r != HS_RUN_GOAL)
			return drive_failed(d, r, "");
		if (closed_by_edit(d))
			return follow_close(d);
		if (hs_tcb_send(&s->tcb, c->send[i].p, c->send[i].len, hs_now_ns(), &o) < 0)
			return drive_finish(d, "error", HS_EXIT_PEER, NULL, "cannot send data in this state");
		if (hs_session_apply(s, &o, NULL, 0) < 0)
			return drive_failed(d, HS_RUN_ERROR, "");
	}
	r = hs_session_run(s, all_acked, NULL, 0);
	if (r != HS_RUN_GOAL)
		return drive_failed(d, r, "the ACK of our data");
	return drive_close(d, c->close);
}

int drive_close(struct drive *d, enum close_mode mode)
{
	const struct cli *c = d->c;
	hs_session *s = &d->s;
	hs_tcb_out o;
	enum hs_run r;

	/* Act on what has already arrived: no FIN or RST into a connection already gone. */
	if (closed_by_edit(d) && mode != CLOSE_RST)
		return follow_close(d);
	r = mode == CLOSE_RST ? hs_session_before_call(s, c->ack ? "RST,ACK" : "RST")
	    : mode == CLOSE_FIN ? hs_session_before_call(s, "FIN") : hs_session_drain(s);
	if (r != HS_RUN_GOAL)
		return drive_failed(d, r, "");
	if (closed_by_edit(d) && mode != CLOSE_RST)
		return follow_close(d);
	switch (mode) {
	case CLOSE_NONE: /* refused by the command line without --count (cmd/count.c) */
	case CLOSE_KEEP:
		return keep(d);
	case CLOSE_RST:
		hs_tcb_abort(&s->tcb, c->ack, hs_now_ns(), &o);
		hs_session_apply(s, &o, NULL, 0);
		if (s->tcb.result == HS_RES_NONE && !s->quit)
			return drive_close(d, mode); /* an edit replaced our RST: still to be done */
		return drive_failed(d, s->quit ? HS_RUN_QUIT : HS_RUN_ENDED, "");
	case CLOSE_WAIT:
		r = hs_session_run(s, peer_closed, NULL, hs_now_ns() + drive_patience(c));
		if (r != HS_RUN_GOAL)
			return drive_failed(d, r, "the peer's FIN");
		if (closed_by_edit(d)) /* our FIN, edited in while we waited */
			return follow_close(d);
		/* The peer closed first; now our FIN. */
		r = hs_session_before_call(s, "FIN");
		if (r != HS_RUN_GOAL)
			return drive_failed(d, r, "");
		/* fall through */
	case CLOSE_FIN:
		if (hs_tcb_close(&s->tcb, hs_now_ns(), &o) < 0)
			return drive_finish(d, "error", HS_EXIT_PEER, NULL, "cannot close in this state");
		hs_session_apply(s, &o, NULL, 0);
		if (!s->quit && s->tcb.result == HS_RES_NONE &&
		    (s->tcb.state == HS_ESTABLISHED || s->tcb.state == HS_CLOSE_WAIT))
			return drive_close(d, CLOSE_FIN); /* an edit replaced our FIN: still to be done */
		/* Bounded: a peer that never sends its FIN leaves us in FIN-WAIT-2. */
		r = hs_session_run(s, NULL, NULL, hs_now_ns() + drive_patience(c) + c->time_wait_ns);
		return drive_failed(d, r, s->tcb.state == HS_FIN_WAIT_2 ? "the peer's FIN" : "the peer's ACK of our FIN");
	}
	return HS_EXIT_PEER;
}
