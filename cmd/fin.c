/* hs fin [CONN]: the orderly close of a kept connection, as a separate step
 * (--wait: passive close). With A:PORT B:PORT, a FIN injected into a live
 * connection between two other endpoints. */
#include <config.h>
#include <stdio.h>
#include <string.h>
#include "drive.h"
#include "hs/clock.h"

bool cli_is_live_pair(const struct cli *c)
{
	hs_endpoint a, b;

	return c->nargs == 2 && hs_endpoint_parse(c->args[0], &a) == 0 && hs_endpoint_parse(c->args[1], &b) == 0;
}

int cmd_fin(struct cli *c)
{
	struct drive d = { .c = c, .t0 = hs_now_ns() };
	hs_conn_record rec;
	hs_tcb_out o;

	if (cli_is_live_pair(c))
		return cmd_live(c, true);
	enum hs_run r = drive_resume(&d, &rec);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "the peer's answer to our probe");
	if (c->wait && c->nsend == 0)
		return drive_close(&d, CLOSE_WAIT);

	/* Data and FIN in one segment, as stacks send them. */
	d.s.tcb.cork = !c->wait;
	for (int i = 0; i < c->nsend; i++) {
		r = hs_session_drain(&d.s); /* corked: the data goes with the FIN, confirmed there */
		if (r != HS_RUN_GOAL)
			return drive_failed(&d, r, "");
		if (hs_tcb_send(&d.s.tcb, c->send[i].p, c->send[i].len, hs_now_ns(), &o) < 0) {
			char msg[128];
			snprintf(msg, sizeof(msg), "cannot send data in %s", hs_state_name(d.s.tcb.state));
			return drive_keep_resumed(&d, "error", HS_EXIT_PEER, msg);
		}
		hs_session_apply(&d.s, &o, NULL, 0);
	}
	return drive_close(&d, c->wait ? CLOSE_WAIT : CLOSE_FIN);
}
