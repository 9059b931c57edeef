/* hs ls: the kept connections of this network namespace. */
#include <config.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "hs/store.h"

int cmd_ls(struct cli *c)
{
	hs_conn_record recs[256];
	char dir[256], err[256], l[HS_ENDPOINT_STRLEN], r[HS_ENDPOINT_STRLEN];
	hs_output out;

	if (c->nargs)
		die(HS_EXIT_USAGE, "ls takes no arguments");
	cli_enter_netns(c);
	cli_output_init(c, &out);
	cli_state_dir(c, dir, sizeof(dir));
	int n = hs_store_list(dir, recs, 256, err, sizeof(err));
	if (n < 0)
		die(HS_EXIT_ENV, "%s", err);
	time_t now = time(NULL);
	if (!c->json && !c->quiet && n)
		printf("%-4s %-24s %-24s %-12s %-12s %6s  %s\n", "ID", "LOCAL", "REMOTE", "STATE", "PEER", "AGE", "GUARD");
	for (int i = 0; i < n; i++) {
		const hs_conn_record *k = &recs[i];
		bool stale = k->guard[0] && !hs_guard_exists(k->guard);
		hs_endpoint_format(&k->local, l, sizeof(l));
		hs_endpoint_format(&k->remote, r, sizeof(r));
		long age = (long)(now - k->created);
		if (c->json)
			printf("{\"type\":\"conn\",\"id\":\"%d\",\"local\":\"%s\",\"remote\":\"%s\",\"state\":\"%s\","
			       "\"peer_state\":\"%s\",\"age\":%ld,\"guard\":\"%s\",\"stale\":%s}\n",
			       k->id, l, r, hs_state_name(k->state), hs_state_name(k->peer_state), age, k->guard,
			       stale ? "true" : "false");
		else if (!c->quiet)
			printf("%-4d %-24s %-24s %-12s %-12s %5lds  %s%s\n", k->id, l, r, hs_state_name(k->state),
			       hs_state_name(k->peer_state), age, k->guard[0] ? k->guard : "-",
			       stale ? " (guard gone: stale, removed)" : "");
		/* Without its guard the local kernel resets the connection at the peer's
		 * next segment: nothing is left to continue. */
		if (stale)
			hs_store_remove(dir, k->id);
	}
	if (c->json)
		printf("{\"type\":\"result\",\"outcome\":\"listed\",\"exit\":0,\"count\":%d}\n", n);
	else if (!n && !c->quiet)
		printf("no kept connections\n");
	return 0;
}
