/* hs rst [CONN]: abort a kept connection (--ack: RST,ACK) and check that the peer
 * took it. With A:PORT B:PORT, reset a live connection between two other endpoints. */
#include <config.h>
#include <string.h>
#include "drive.h"
#include "hs/clock.h"

static bool answered(const hs_tcb *t, void *arg)
{
	const unsigned *before = arg;
	return hs_cleanup_session->inputs > *before;
}

int cmd_rst(struct cli *c)
{
	struct drive d = { .c = c, .t0 = hs_now_ns() };
	hs_conn_record rec;
	hs_tcb_out o;

	if (cli_is_live_pair(c))
		return cmd_live(c, false);
	if (c->nargs > 1)
		die(HS_EXIT_USAGE, "rst takes one kept connection (see hs ls) or A:PORT B:PORT, not \"%s\"", c->args[1]);
	cli_enter_netns(c);
	cli_output_init(c, &d.out);
	drive_resume(&d, c->nargs ? c->args[0] : NULL, &rec);

	enum hs_run r = drive_catch_up(&d);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "the peer's answer to our probe");

	hs_tcb_abort(&d.s.tcb, c->ack, hs_now_ns(), &o);
	hs_session_apply(&d.s, &o, NULL, 0);

	/* Did the peer take it? A probe right behind the RST is answered with RST by a
	 * peer that dropped the connection, and with an ACK by one that did not. */
	unsigned before = d.s.inputs;
	hs_tcb_probe(&d.s.tcb, true, hs_now_ns(), &o);
	hs_session_apply(&d.s, &o, NULL, 0);
	d.s.observe = true;
	r = hs_session_run(&d.s, answered, &before, hs_now_ns() + c->timeout_ns);
	if (r == HS_RUN_GOAL && !(d.s.last_in_flags & HS_RST))
		return drive_finish(&d, "rejected", HS_EXIT_PEER, NULL,
		                    "the peer did not take the RST: it still answers our probe with an ACK");
	if (r == HS_RUN_GOAL)
		hs_session_info(&d.s, "the peer took the RST: it answers our probe with RST (no such connection)");
	else if (r == HS_RUN_IDLE)
		hs_session_info(&d.s, "no answer to our probe after the RST: the connection is gone");
	else
		return drive_failed(&d, r, "");
	d.s.tcb.result = HS_RES_ABORTED;
	return drive_failed(&d, HS_RUN_ENDED, "");
}
