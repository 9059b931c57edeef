/* hs connect HOST PORT: the active open, driven by hand. */
#include <config.h>
#include <stdio.h>
#include <string.h>
#include "drive.h"
#include "opttab.h"
#include "hs/clock.h"

/* The --opt item for TCP Fast Open (not a raw one), or NULL. */
static hs_opt_item *tfo_item(hs_opt_spec *spec)
{
	for (int i = 0; i < spec->n; i++)
		if (spec->item[i].kind == HS_OPTK_TFO && !spec->item[i].raw)
			return &spec->item[i];
	return NULL;
}

static void hex(const uint8_t *p, size_t n, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, len - 2 * i, "%02x", p[i]);
}

/* RFC 7413: --tfo takes the cookie saved for the peer (or asks for one); a cookie in
 * the SYN with --send data puts the first --send in the SYN. Returns a line for the
 * output ("" for none). */
static void tfo_setup(struct drive *d, const hs_endpoint *remote, char *msg, size_t msglen)
{
	struct cli *c = d->c;
	hs_opt_spec *spec = &d->cfg.syn_opts;
	hs_opt_item *it = tfo_item(spec);
	char err[512], ep[HS_ENDPOINT_STRLEN], cookie[40];

	msg[0] = '\0';
	hs_endpoint_format(remote, ep, sizeof(ep));
	if (c->tfo && it && it->len > 0)
		die(HS_EXIT_USAGE, "--tfo sends the cookie saved for the peer, --opt tfo=HEX the one it gives: choose one");
	if (c->tfo) {
		uint8_t saved[16], n = 0;
		int rc = hs_store_tfo_get(d->state_dir, remote, saved, &n, err, sizeof(err));
		if (rc < 0)
			die(HS_EXIT_ENV, "--tfo: %s", err);
		if (!it) {
			if (spec->n >= HS_OPT_MAXLEN)
				die(HS_EXIT_USAGE, "--tfo: no room for the TFO option in --opt");
			it = &spec->item[spec->n++];
			memset(it, 0, sizeof(*it));
			it->kind = HS_OPTK_TFO;
		}
		it->len = rc == 0 ? n : 0;
		memcpy(it->data, saved, it->len);
		hex(saved, n, cookie, sizeof(cookie));
		if (rc == 0)
			snprintf(msg, msglen, "tfo: the cookie saved for %s, %s", ep, cookie);
		else
			snprintf(msg, msglen, "tfo: no cookie saved for %s: the SYN asks for one%s", ep,
			         c->nsend ? " (the data follows the handshake)" : "");
	}
	if (!it)
		return;
	uint8_t wire[HS_OPT_MAXLEN];
	const char *why = NULL;
	if (hs_opt_spec_encode(spec, 0, 0, wire, &why) < 0)
		die(HS_EXIT_USAGE, "--tfo: the SYN's options do not fit with the TFO option (%s): shorten --opt", why);
	if (it->len > 0 && c->nsend > 0) {
		d->cfg.syn_data = c->send[0].p;
		d->cfg.syn_data_len = c->send[0].len;
		d->sends_done = 1;
	}
}

/* A cookie the SYN,ACK returned is kept for the next Fast Open to that peer. */
static void tfo_save(struct drive *d, const hs_endpoint *remote)
{
	const hs_tcb *t = &d->s.tcb;
	char err[512], ep[HS_ENDPOINT_STRLEN], cookie[40];

	if (!t->tfo_peer_cookie_len)
		return;
	hs_endpoint_format(remote, ep, sizeof(ep));
	hex(t->tfo_peer_cookie, t->tfo_peer_cookie_len, cookie, sizeof(cookie));
	if (hs_store_tfo_put(d->state_dir, remote, t->tfo_peer_cookie, t->tfo_peer_cookie_len, err, sizeof(err)) < 0)
		hs_session_info(&d->s, "tfo: cookie %s from %s not saved: %s", cookie, ep, err);
	else
		hs_session_info(&d->s, "tfo: cookie %s from %s saved (hs connect %s --tfo uses it)", cookie, ep, ep);
}

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
	if (c->given & O_COUNT)
		return cmd_connect_count(c, host, &remote);
	if (c->given & (O_RATE | O_SPORTRANGE | O_NOCOOKIEPROBE))
		die(HS_EXIT_USAGE, "%s goes with --count N (many handshakes)",
		    hs_option_name(c->given & (O_RATE | O_SPORTRANGE | O_NOCOOKIEPROBE) & -(c->given & (O_RATE | O_SPORTRANGE | O_NOCOOKIEPROBE))));
	cli_enter_netns(c);
	cli_output_init(c, &d.out);
	drive_route(&d, host, &remote, &local);
	cli_state_dir(c, d.state_dir, sizeof(d.state_dir));
	cli_cleanup_stale_guards(d.state_dir);
	drive_prepare_keep(&d);
	local.port = drive_source_port(&d, &local.addr);

	drive_config(&d, &local, &remote);
	char tfo_msg[600];
	tfo_setup(&d, &remote, tfo_msg, sizeof(tfo_msg));
	drive_check_md5_room(&d);
	hs_session_params p = {
		.local = local, .remote = remote,
		.capture_iface = c->iface ? c->iface : d.ifname,
		.pcap_out = c->pcap_out, .guard = !c->no_guard, .step = c->step,
		.md5 = c->md5,
	};
	drive_open(&d, &p);
	if (tfo_msg[0])
		hs_session_info(&d.s, "%s", tfo_msg);

	hs_tcb_connect(&d.s.tcb, &d.cfg, hs_now_ns(), &o);
	if (hs_session_apply(&d.s, &o, NULL, 0) < 0)
		return drive_failed(&d, HS_RUN_ERROR, "");
	enum hs_run r = hs_session_run(&d.s, established, NULL, 0);
	tfo_save(&d, &remote);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "the SYN,ACK");
	return drive_established(&d);
}
