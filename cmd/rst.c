/* hs rst [CONN]: abort a kept connection (--ack: RST,ACK) and check that the peer
 * took it. With A:PORT B:PORT, reset a live connection between two other endpoints. */
#include <config.h>
#include <stdio.h>
#include <string.h>
#include "drive.h"
#include "hs/clock.h"

int cmd_rst(struct cli *c)
{
	struct drive d = { .c = c, .t0 = hs_now_ns() };
	hs_conn_record rec;
	hs_tcb_out o;

	if (cli_is_live_pair(c))
		return cmd_live(c, false);
	enum hs_run r = drive_resume(&d, &rec);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "the peer's answer to our probe");

	for (;;) {
		r = hs_session_before_call(&d.s, c->ack ? "RST,ACK" : "RST");
		if (r != HS_RUN_GOAL)
			return drive_failed(&d, r, "");
		hs_tcb_abort(&d.s.tcb, c->ack, hs_now_ns(), &o);
		hs_session_apply(&d.s, &o, NULL, 0);
		if (d.s.quit)
			return drive_failed(&d, HS_RUN_QUIT, "");
		if (d.s.tcb.result != HS_RES_NONE)
			break;
		/* A --step edit replaced our RST (and undid the abort): it is still to go. */
	}

	/* Did the peer take it? A probe right behind the RST is answered with RST by a
	 * peer that dropped the connection, and with an ACK by one that did not. The
	 * probe carries a byte, so Linux answers it without its 500 ms rate limit for
	 * out-of-window segments; it is repeated in case it or the answer is lost. */
	d.s.observe = true;
	r = drive_probe(&d);
	if (r == HS_RUN_GOAL && !(d.s.last_in_flags & HS_RST)) {
		/* Still connected: keep it (and its guard) so it can be tried again. */
		char id[16];
		snprintf(id, sizeof(id), "%d", d.kept_id);
		d.kept_id = 0;
		d.s.tcb.state = rec.state;
		d.s.tcb.peer_state = rec.peer_state;
		return drive_finish(&d, "rejected", HS_EXIT_PEER, id,
		                    "the peer did not take the RST: it still answers our probe with an ACK "
		                    "(the connection stays kept)");
	}
	if (r == HS_RUN_GOAL)
		hs_session_info(&d.s, "the peer took the RST: it answers our probe with RST (no such connection)");
	else if (r == HS_RUN_IDLE)
		hs_session_info(&d.s, "no answer to %d probes after the RST: the connection is most likely gone",
		                c->retries + 1);
	else
		return drive_failed(&d, r, "");
	d.s.tcb.result = HS_RES_ABORTED;
	return drive_failed(&d, HS_RUN_ENDED, "");
}
