/* hs ls: the kept connections of this network namespace. Each one whose guard is
 * still there is probed (a keepalive, answered at once by a live peer), so that
 * connections the peer has reset meanwhile show as stale and are cleaned up. */
#include <config.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "drive.h"
#include "hs/clock.h"

enum probe { PROBE_ALIVE, PROBE_RESET, PROBE_SILENT, PROBE_FAILED, PROBE_GUARD_GONE };

static const char *const probe_word[] = { "alive", "reset", "no-answer", "not-probed", "guard-gone" };

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

int cmd_ls(struct cli *c)
{
	hs_conn_record recs[256];
	char dir[256], err[256], status[96], id[16];
	hs_output out;
	uint64_t t0 = hs_now_ns();

	if (c->nargs)
		die(HS_EXIT_USAGE, "ls takes no arguments");
	cli_enter_netns(c);
	cli_output_init(c, &out);
	cli_state_dir(c, dir, sizeof(dir));
	int n = hs_store_list(dir, recs, 256, err, sizeof(err));
	if (n < 0)
		die(HS_EXIT_ENV, "%s", err);
	time_t now = time(NULL);
	for (int i = 0; i < n; i++) {
		const hs_conn_record *k = &recs[i];
		uint32_t behind = 0;
		enum probe pr = k->guard[0] && !hs_guard_exists(k->guard) ? PROBE_GUARD_GONE : probe(c, k, &behind);
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
		case PROBE_FAILED: snprintf(status, sizeof(status), "not probed"); break;
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
	hs_event res = { .type = HS_EV_RESULT, .t_ns = hs_now_ns() - t0, .outcome = "listed", .listing = true,
	                 .count = n };
	hs_output_emit(&out, &res);
	return 0;
}
