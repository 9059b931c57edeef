/* hs listen [ADDR] PORT: the passive open, driven by hand. */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "drive.h"
#include "hs/clock.h"
#include "hs/route.h"

static bool left_listen(const hs_tcb *t, void *arg)
{
	return t->state != HS_LISTEN;
}

/* Synchronized: ESTABLISHED or CLOSE-WAIT, or further on when a --step edit sent
 * our FIN during the handshake. */
static bool established(const hs_tcb *t, void *arg)
{
	return t->state != HS_SYN_SENT && t->state != HS_SYN_RECEIVED && t->state != HS_LISTEN &&
	       t->state != HS_CLOSED;
}

int cmd_listen(struct cli *c)
{
	struct drive d = { .c = c, .t0 = hs_now_ns() };
	hs_endpoint local, any_remote;
	char host[256], err[256];
	const char *why;
	char where[HS_ENDPOINT_STRLEN];
	hs_tcb_out o;

	if (c->nargs < 1 || c->nargs > 2)
		die(HS_EXIT_USAGE, c->nargs < 1 ? "listen needs a PORT (hs listen [ADDR] PORT)"
		                                : "listen takes [ADDR] PORT, not \"%s\"", c->args[c->nargs > 2 ? 2 : 0]);
	memset(&local, 0, sizeof(local));
	memset(&any_remote, 0, sizeof(any_remote));
	/* PORT, ADDR PORT, or ADDR:PORT / [V6]:PORT in one word (a lone word without ':'
	 * or '[' is the port). */
	const char *addr = NULL;
	if (c->nargs == 2 || strchr(c->args[0], ':') || c->args[0][0] == '[') {
		if (hs_host_split(c->args[0], host, sizeof(host), &local.port, &why) < 0)
			die(HS_EXIT_USAGE, "bad address \"%s\": %s", c->args[0], why);
		addr = host;
	}
	if (c->nargs == 2) {
		if (local.port)
			die(HS_EXIT_USAGE, "the port is given twice, in \"%s\" and as \"%s\" (hs listen ADDR PORT or "
			    "ADDR:PORT)", c->args[0], c->args[1]);
		if (hs_port_parse(c->args[1], &local.port) < 0)
			die(HS_EXIT_USAGE, "bad port \"%s\": must be a number from 1 to 65535", c->args[1]);
	} else if (!addr) {
		if (hs_port_parse(c->args[0], &local.port) < 0)
			die(HS_EXIT_USAGE, "bad port \"%s\": must be a number from 1 to 65535", c->args[0]);
	} else if (!local.port) {
		die(HS_EXIT_USAGE, "listen needs a PORT: \"%s\" reads as an address (write hs listen [V6]:PORT or "
		    "hs listen ADDR PORT)", c->args[0]);
	}
	cli_enter_netns(c);
	cli_output_init(c, &d.out);
	/* fe80::1%eth0: the zone names the interface, as -i does */
	char *zone = addr ? strchr(host, '%') : NULL;
	if (zone)
		*zone++ = '\0';
	if (addr && hs_addr_resolve(addr, 0, &local.addr, &why) < 0)
		die(HS_EXIT_USAGE, "cannot resolve address \"%s\": %s", addr, why);
	if (zone) {
		if (local.addr.family != AF_INET6 || !*zone)
			die(HS_EXIT_USAGE, "\"%s\": a %%IFACE zone goes only after an IPv6 address (fe80::1%%eth0)", c->args[0]);
		if (!hs_iface_exists(zone))
			die(HS_EXIT_USAGE, "\"%s\": no such interface %s", c->args[0], zone);
		if (c->iface && strcmp(c->iface, zone) != 0)
			die(HS_EXIT_USAGE, "\"%s\" names interface %s but -i says %s", c->args[0], zone, c->iface);
		c->iface = zone;
	}
	bool any = cli_check_iface(c);
	/* An address this host does not hold: refused as bind() refuses it, before a
	 * guard is installed for a SYN that can never come. */
	if (addr && hs_addr_check_local(&local.addr, any ? NULL : c->iface, err, sizeof(err)) < 0)
		die(HS_EXIT_USAGE, "%s", err);
	/* Held until we exit. A bind() that fails tells whether anything has the port; only
	 * then are the socket tables read (all of /proc/net/tcp: slow on a busy host) to
	 * say whether it is a listener. */
	bool taken = hs_port_hold(&local) < 0 && errno == EADDRINUSE;
	if (taken && hs_local_port_in_use(local.port, true))
		die(HS_EXIT_ENV, "port %u: the local kernel already listens on it (stop that program or choose another port)",
		    local.port);
	cli_state_dir(c, d.state_dir, sizeof(d.state_dir));
	cli_cleanup_stale_guards(d.state_dir);
	drive_prepare_keep(&d);
	if (hs_store_local_in_use(d.state_dir, &local))
		die(HS_EXIT_USAGE, "port %u is in use by a kept connection (see hs ls)", local.port);
	if (taken)
		die(HS_EXIT_USAGE, "port %u is in use by another running hs (or a socket bound to it): choose another "
		    "port", local.port);
	snprintf(d.ifname, sizeof(d.ifname), "%s", c->iface ? c->iface : "any");

	/* --flow-label / --hop-limit are IPv6 header fields: without an IPv6 address to
	 * listen on, an IPv4 client could come, and they would not apply to it. */
	if (!local.addr.family && (c->fields.ip.set_flow ||
	                           (c->fields.ip.set_ttl && c->ip_ttl_opt && strcmp(c->ip_ttl_opt, "--hop-limit") == 0)))
		die(HS_EXIT_USAGE, "%s is an IPv6 header field: give hs listen an IPv6 address to listen on "
		    "(hs listen [V6]:PORT)", c->fields.ip.set_flow ? "--flow-label" : "--hop-limit");
	drive_config(&d, &local, &any_remote);
	drive_check_md5_room(&d);
	if (c->tfo_cookie_len) { /* RFC 7413: the cookie we hand out and accept */
		d.cfg.tfo_cookie_len = c->tfo_cookie_len;
		memcpy(d.cfg.tfo_cookie, c->tfo_cookie, c->tfo_cookie_len);
	}
	hs_session_params p = {
		.local = local, .remote = any_remote, .capture_iface = d.ifname,
		.pcap_out = c->pcap_out, .guard = !c->no_guard, .listen = true, .step = c->step,
		.md5 = c->md5,
	};
	drive_open(&d, &p);

	hs_tcb_listen(&d.s.tcb, &d.cfg, hs_now_ns(), &o);
	hs_session_apply(&d.s, &o, NULL, 0);
	if (local.addr.family)
		hs_endpoint_format(&local, where, sizeof(where));
	else
		snprintf(where, sizeof(where), "port %u", local.port);
	hs_session_info(&d.s, "listening on %s (capture on %s%s%s)", where, d.ifname,
	                d.s.guard.table[0] ? ", kernel RSTs blocked by nft table " : ", no guard",
	                d.s.guard.table);

	/* --syn-timeout bounds the wait for the SYN (0: none); without it, --timeout does
	 * as it always did; without either, wait until interrupted. */
	uint64_t wait = (c->given & O_SYNTIMEOUT) ? c->syn_timeout_ns : (c->given & O_TIMEOUT) ? c->timeout_ns : 0;
	uint64_t idle = wait ? hs_now_ns() + wait : 0;
	enum hs_run r = hs_session_run(&d.s, left_listen, NULL, idle);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "a SYN");
	r = hs_session_run(&d.s, established, NULL, 0);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "the ACK of our SYN,ACK");
	return drive_established(&d);
}
