/* hs ls: the kept connections of this network namespace. Each one whose guard is
 * still there is probed (a keepalive, answered at once by a live peer), so that
 * connections the peer has reset meanwhile show as stale and are cleaned up. */
#include <config.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "drive.h"
#include "hs/clock.h"
#include "hs/privs.h"
#include "hs/route.h"

#define PATH_MAX_MSG 512

enum probe { PROBE_ALIVE, PROBE_RESET, PROBE_SILENT, PROBE_FAILED, PROBE_GUARD_GONE, PROBE_BUSY };

static const char *const probe_word[] = { "alive", "reset", "no-answer", "not-probed", "guard-gone", "in-use" };

/* One keepalive to the peer, nothing printed. *behind: bytes the peer sent that
 * no hs process has taken in yet. */
static enum probe probe(struct cli *c, const hs_conn_record *k, uint32_t *behind)
{
	struct drive d = { .c = c, .t0 = hs_now_ns() };
	hs_tcb_snapshot snap;
	hs_tcb_out o;

	*behind = 0;
	hs_output_init(&d.out, NULL, NULL); /* silent */
	hs_session_params p = {
		.local = k->local, .remote = k->remote, .capture_iface = k->iface[0] ? k->iface : "any",
	};
	/* A peer holding a TCP-MD5 key drops an unsigned probe: the connection would look stale. */
	p.md5.len = k->md5_key_len;
	memcpy(p.md5.key, k->md5_key, k->md5_key_len);
	if (hs_session_open(&d.s, &p, &d.out, &hs_stop_signal, d.t0) != HS_EXIT_OK) {
		hs_session_close(&d.s, true);
		return PROBE_FAILED;
	}
	drive_config(&d, &k->local, &k->remote);
	drive_snapshot_from_record(k, &snap);
	hs_tcb_resume(&d.s.tcb, &d.cfg, &snap, hs_now_ns());
	hs_tcb_probe(&d.s.tcb, true, hs_now_ns(), &o);
	hs_session_apply(&d.s, &o, NULL, 0);
	uint64_t wait = c->timeout_ns < 300 * HS_NS_PER_MS ? c->timeout_ns : 300 * HS_NS_PER_MS;
	struct drive_answer w = { .s = &d.s, .before = 0 };
	enum hs_run r = hs_session_run(&d.s, drive_answered, &w, hs_now_ns() + wait);
	enum probe res = d.s.tcb.result == HS_RES_RESET ? PROBE_RESET
	               : r == HS_RUN_GOAL ? PROBE_ALIVE
	               : r == HS_RUN_IDLE ? PROBE_SILENT : PROBE_FAILED;
	if (res == PROBE_ALIVE && d.s.inputs)
		*behind = d.s.peer_next - d.s.tcb.rcv_nxt;
	hs_session_close(&d.s, true); /* the guard stays with the kept connection */
	return res;
}

/* -w: one capture for all the probes, opened before the first one leaves, so that
 * the file holds each probe and its answer as they were on the wire. The kept
 * connections' interface when they share one, else "any". */
static hs_capture *recorder_open(const struct cli *c, const hs_conn_record *recs, int n)
{
	const char *iface = NULL;
	char err[256];
	bool eperm = false, nodev = false, any = false;
	size_t cap = 64 + (size_t)n * 512, used = 0;
	char *filter = malloc(cap);
	hs_capture *rec = NULL;

	if (!filter)
		die(HS_EXIT_ENV, "-w: out of memory");
	snprintf(filter, cap, "less 0"); /* nothing to probe: matches no packet */
	for (int i = 0; i < n; i++) {
		const hs_conn_record *k = &recs[i];
		const char *ki = k->iface[0] ? k->iface : "any";
		if (k->guard[0] && !hs_guard_exists(k->guard))
			continue; /* not probed */
		if (iface && strcmp(iface, ki) != 0)
			any = true;
		iface = ki;
		if (used)
			used += (size_t)snprintf(filter + used, cap - used, " or ");
		used += (size_t)snprintf(filter + used, cap - used, "(");
		if (hs_bpf_conn(&k->local, &k->remote, filter + used, cap - used) < 0)
			die(HS_EXIT_ENV, "internal error: capture filter too long");
		used += strlen(filter + used);
		used += (size_t)snprintf(filter + used, cap - used, ")");
	}
	if (hs_capture_open(&rec, any || !iface ? "any" : iface, &eperm, &nodev, err, sizeof(err)) < 0 ||
	    hs_capture_filter(rec, filter, err, sizeof(err)) < 0 ||
	    hs_capture_dump_open(rec, c->pcap_out, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s", err);
	free(filter);
	return rec;
}

/* Write what the recorder holds (the probes are answered or given up by now). */
static void recorder_close(hs_capture *rec)
{
	hs_packet pkt;
	char err[256];

	while (hs_capture_next(rec, 0, &pkt, NULL, err, sizeof(err)) == 1)
		;
	hs_capture_close(rec);
}

int cmd_ls(struct cli *c)
{
	hs_store_listing all;
	char dir[256], err[600], status[96], id[16];
	static hs_output out; /* hs_out points here until cli_exit_status, after this returns */
	uint64_t t0 = hs_now_ns();

	if (c->nargs)
		die(HS_EXIT_USAGE, "ls takes no arguments");
	/* -w records the probes; --no-probe sends none (and drops the capability a
	 * capture needs): refused before anything is opened or created. */
	if (c->no_probe && (c->pcap_out || c->pcapng_out))
		die(HS_EXIT_USAGE, "hs ls --no-probe sends nothing for -w to record: leave out -w or --no-probe");
	/* Its probes are recorded by a capture, not shown as segments: there are no
	 * state changes to annotate, and nothing for a pcapng comment to say. */
	if (c->pcapng_out)
		die(HS_EXIT_USAGE, "hs ls -w writes pcap (its probes change no state to annotate): use -w FILE.pcap");
	cli_enter_netns(c);
	cli_output_init(c, &out);
	cli_state_dir(c, dir, sizeof(dir));
	/* Tables of hs processes that died without removing them (SIGKILL, a crash)
	 * and that no kept connection names: nothing will ever use them. --no-probe
	 * touches nothing: a shell completion runs it at every TAB. */
	if (!c->no_probe)
		cli_cleanup_stale_guards(dir);
	if (hs_store_list_all(dir, &all, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s", err);
	const hs_conn_record *recs = all.recs;
	int n = all.n;
	/* Records that were not taken are named, one line each, and touched no further:
	 * neither they nor the tables they name are removed. */
	for (int i = 0; i < all.nbad; i++) {
		hs_event ev = { .type = HS_EV_INFO, .t_ns = hs_now_ns() - t0, .text = all.bad[i].why };
		hs_output_emit(&out, &ev);
	}
	/* From here on: probes (a raw socket and a capture each: CAP_NET_RAW), parsing
	 * the peers' replies, and removing stale guards (CAP_NET_ADMIN). Nothing else
	 * is needed; the store is root's own, so uid 0 stays (see README). */
	if (hs_drop_privileges_to(c->no_probe ? 0 : 1u << CAP_NET_RAW | 1u << CAP_NET_ADMIN, err, sizeof(err)) < 0)
		fprintf(stderr, "hs: warning: cannot drop privileges: %s\n", err);
	hs_capture *rec = c->pcap_out ? recorder_open(c, recs, n) : NULL;
	time_t now = time(NULL);
	for (int i = 0; i < n; i++) {
		const hs_conn_record *k = &recs[i];
		uint32_t behind = 0;
		if (hs_stop_signal) {
			if (rec)
				recorder_close(rec);
			die(128 + hs_stop_signal, "interrupted by %s after %d of %d kept connections listed",
			    cli_signal_name(hs_stop_signal), i, n);
		}
		/* A record whose port another running hs holds is that hs's business now:
		 * no probe, nothing removed. */
		enum probe pr = PROBE_FAILED;
		if (!c->no_probe) {
			int hold = hs_port_hold(&k->local);
			pr = hold < 0 && errno == EADDRINUSE ? PROBE_BUSY
			     : k->guard[0] && !hs_guard_exists(k->guard) ? PROBE_GUARD_GONE : probe(c, k, &behind);
			if (hold >= 0)
				close(hold);
		}
		bool stale = pr == PROBE_GUARD_GONE || pr == PROBE_RESET;

		switch (pr) {
		case PROBE_ALIVE:
			if (behind)
				snprintf(status, sizeof(status), "alive, %u unread byte%s", behind, behind == 1 ? "" : "s");
			else
				snprintf(status, sizeof(status), "alive");
			break;
		case PROBE_RESET: snprintf(status, sizeof(status), "stale: reset by the peer, removed"); break;
		case PROBE_GUARD_GONE: snprintf(status, sizeof(status), "stale: guard gone, removed"); break;
		case PROBE_SILENT: snprintf(status, sizeof(status), "no answer to a probe"); break;
		case PROBE_FAILED: snprintf(status, sizeof(status), c->no_probe ? "not probed (--no-probe)" : "not probed"); break;
		case PROBE_BUSY: snprintf(status, sizeof(status), "in use by another running hs: not probed"); break;
		}
		snprintf(id, sizeof(id), "%d", k->id);
		hs_conn_view view = {
			.id = id, .local = &k->local, .remote = &k->remote, .state = k->state,
			.peer_state = k->peer_state, .age_s = (long)(now - k->created), .guard = k->guard,
			.probe = probe_word[pr], .status = status, .stale = stale, .unread = behind,
		};
		hs_event ev = { .type = HS_EV_CONN, .t_ns = hs_now_ns() - t0, .conn = &view, .first = i == 0 };
		hs_output_emit(&out, &ev);
		/* Nothing is left to continue: without its guard the local kernel resets
		 * the connection at the peer's next segment; a reset one is gone. */
		if (stale) {
			hs_guard g;
			snprintf(g.table, sizeof(g.table), "%s", k->guard);
			hs_guard_remove(&g, err, sizeof(err));
			hs_store_remove(dir, k->id);
		}
	}
	if (rec)
		recorder_close(rec);
	/* Any record not taken makes the listing incomplete: exit 4, one line on stderr. */
	int code = all.nbad ? HS_EXIT_ENV : HS_EXIT_OK;
	char msg[PATH_MAX_MSG];
	snprintf(msg, sizeof(msg), "%d kept connection record%s in %s %s corrupted or refused (named above); "
	         "%d listed: look at %s and remove %s", all.nbad, all.nbad == 1 ? "" : "s", dir,
	         all.nbad == 1 ? "is" : "are", n, all.nbad == 1 ? "it" : "them", all.nbad == 1 ? "it" : "them");
	hs_event res = { .type = HS_EV_RESULT, .t_ns = hs_now_ns() - t0, .outcome = "listed", .listing = true,
	                 .count = n, .exit_code = code, .text = all.nbad ? msg : NULL };
	hs_output_emit(&out, &res);
	hs_store_listing_free(&all);
	return code;
}
