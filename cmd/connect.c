/* hs connect HOST PORT: the active open, driven by hand. */
#include <config.h>
#include <stdio.h>
#include <string.h>
#include "drive.h"
#include "hs/clock.h"

/* Synchronized: ESTABLISHED or CLOSE-WAIT, or further on when a --step edit sent
 * our FIN during the handshake. */
static bool established(const hs_tcb *t, void *arg)
{
	return t->state != HS_SYN_SENT && t->state != HS_SYN_RECEIVED && t->state != HS_LISTEN &&
	       t->state != HS_CLOSED;
}

int cmd_connect(struct cli *c)
{
	struct drive d = { .c = c, .t0 = hs_now_ns() };
	hs_endpoint local, remote;
	char host[256];
	const char *why;
	hs_tcb_out o;

	if (c->nargs < 1 || c->nargs > 2)
		die(HS_EXIT_USAGE, c->nargs < 1 ? "connect needs HOST and PORT (hs connect HOST PORT, HOST:PORT or [V6]:PORT)"
		                                : "connect takes only HOST and PORT, not \"%s\"", c->args[c->nargs > 2 ? 2 : 0]);
	memset(&remote, 0, sizeof(remote));
	if (hs_host_split(c->args[0], host, sizeof(host), &remote.port, &why) < 0)
		die(HS_EXIT_USAGE, "bad host \"%s\": %s", c->args[0], why);
	if (c->nargs == 2) {
		if (remote.port)
			die(HS_EXIT_USAGE, "the port is given twice, in \"%s\" and as \"%s\" (hs connect HOST PORT or "
			    "HOST:PORT)", c->args[0], c->args[1]);
		if (hs_port_parse(c->args[1], &remote.port) < 0)
			die(HS_EXIT_USAGE, "bad port \"%s\": must be a number from 1 to 65535", c->args[1]);
	} else if (!remote.port) {
		if (strchr(host, ':'))
			die(HS_EXIT_USAGE, "connect needs a PORT: \"%s\" reads as an IPv6 address (write "
			    "hs connect [V6]:PORT or hs connect V6 PORT)", host);
		die(HS_EXIT_USAGE, "connect needs HOST and PORT (hs connect %s PORT, or %s:PORT)", host, host);
	}
	cli_enter_netns(c);
	cli_output_init(c, &d.out);
	drive_route(&d, host, &remote, &local);
	cli_state_dir(c, d.state_dir, sizeof(d.state_dir));
	cli_cleanup_stale_guards(d.state_dir);
	drive_prepare_keep(&d);
	local.port = drive_source_port(&d, &local.addr);

	drive_config(&d, &local, &remote);
	hs_session_params p = {
		.local = local, .remote = remote,
		.capture_iface = c->iface ? c->iface : d.ifname,
		.pcap_out = c->pcap_out, .guard = !c->no_guard, .step = c->step,
		.md5 = c->md5,
	};
	drive_open(&d, &p);

	hs_tcb_connect(&d.s.tcb, &d.cfg, hs_now_ns(), &o);
	if (hs_session_apply(&d.s, &o, NULL, 0) < 0)
		return drive_failed(&d, HS_RUN_ERROR, "");
	enum hs_run r = hs_session_run(&d.s, established, NULL, 0);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "the SYN,ACK");
	return drive_established(&d);
}
