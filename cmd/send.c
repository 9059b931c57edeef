/* hs send: one crafted segment, into a kept connection (CONN) or without one (HOST
 * PORT), and the peer's reaction to it, classified. */
#include <config.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "drive.h"
#include "hs/clock.h"
#include "hs/craft.h"
#include "hs/route.h"
#include "hs/seq.h"

/* A SEGMENT argument, not a CONN: packetdrill's flags come first (upper case, or '.'),
 * followed by a blank or nothing. CONN names are numbers and endpoints. */
static bool looks_like_segment(const char *a)
{
	size_t n = strspn(a, "FSRPAUECW.-");
	return n > 0 && (a[n] == '\0' || a[n] == ' ' || a[n] == '\t');
}

/* The spec from SEGMENT (may be NULL) and the options; checked before anything is
 * sent or installed. */
static void build_spec(struct cli *c, const char *segment, hs_seg_spec *sp)
{
	char err[256];

	hs_seg_spec_init(sp);
	if (segment && hs_notation_parse(segment, sp, err, sizeof(err)) < 0)
		die(HS_EXIT_USAGE, "%s", err);
	hs_seg_spec_merge(sp, &c->fields); /* the options override the SEGMENT's fields */
	if (c->have_opts) {
		sp->have_opts = true;
		sp->opts = c->opts;
	}
	if (c->have_data && sp->have_len && sp->len != c->data.len)
		die(HS_EXIT_USAGE, "the segment's length (%u) differs from the data's (%u bytes)", sp->len, c->data.len);
	if (sp->have_opts) {
		uint8_t buf[HS_OPT_MAXLEN];
		const char *e = NULL;
		if (hs_opt_spec_encode(&sp->opts, 0, 0, buf, &e) < 0)
			die(HS_EXIT_USAGE, "the segment's options: %s", e ? e : "do not fit in 40 bytes");
	}
}

/* Goal: the peer answered (or an ICMP error came). */
static bool answered(const hs_tcb *t, void *arg)
{
	(void)t;
	return ((const hs_session *)arg)->answered;
}

static enum hs_reaction reaction_of(const hs_session *s, const hs_tx *tx, uint32_t snd_una, uint32_t rcv_nxt)
{
	if (!s->answered)
		return HS_REACT_NONE;
	if (s->answer_icmp)
		return HS_REACT_ICMP;
	return hs_reaction_classify(tx, snd_una, rcv_nxt, &s->answer);
}

static int exit_for(const struct cli *c, enum hs_reaction r)
{
	if (!(c->given & O_EXPECT))
		return HS_EXIT_OK;
	return hs_reaction_matches(r, c->expect) ? HS_EXIT_OK : HS_EXIT_PEER;
}

/* "; not what --expect asked for (dup-ack)" when the reaction fails --expect. */
static const char *expect_text(const struct cli *c, enum hs_reaction r, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (exit_for(c, r) == HS_EXIT_OK)
		return buf;
	n += (size_t)snprintf(buf, len, "; not what --expect asked for (");
	for (int k = 0, first = 1; k < HS_REACT_COUNT && n < len; k++)
		if (c->expect & (1u << k)) {
			n += (size_t)snprintf(buf + n, len - n, "%s%s", first ? "" : ",", hs_reaction_name((enum hs_reaction)k));
			first = 0;
		}
	if (n < len)
		snprintf(buf + n, len - n, ")");
	return buf;
}

/* A word for the message: what the reaction means. */
static const char *reaction_text(enum hs_reaction r)
{
	switch (r) {
	case HS_REACT_NONE: return "no answer";
	case HS_REACT_ACK: return "an ACK of something new";
	case HS_REACT_CHALLENGE_ACK: return "a challenge ACK (RFC 5961): the peer did not take the segment";
	case HS_REACT_DUP_ACK: return "a duplicate ACK: the peer acknowledged nothing new";
	case HS_REACT_DATA: return "data";
	case HS_REACT_RST: return "an RST";
	case HS_REACT_FIN: return "a FIN";
	case HS_REACT_SYN_ACK: return "a SYN,ACK";
	case HS_REACT_ICMP: return "an ICMP error";
	default: return "?";
	}
}

static bool conn_ended(const hs_tcb *t, void *arg)
{
	(void)arg;
	return t->result != HS_RES_NONE;
}

/* What only the connection can tell about a segment, checked before anything is
 * sent: fields that IPv6 does not have, and the interface's MTU (hs does not
 * fragment: a raw socket refuses a datagram larger than it, EMSGSIZE). */
static int check_tx(const hs_tx *tx, int family, const char *ifname, char *err, size_t errlen)
{
	if (family == AF_INET6 && (tx->ip.set_ip_id || tx->ip.set_df)) {
		snprintf(err, errlen, "--ip-id, --df and --no-df are IPv4 header fields: this connection is IPv6");
		return -1;
	}
	if (family == AF_INET && tx->ip.set_flow) {
		snprintf(err, errlen, "--flow-label is an IPv6 header field: this connection is IPv4");
		return -1;
	}
	int mtu = hs_iface_mtu(ifname);
	unsigned ip_hlen = family == AF_INET6 ? 40 : 20;
	unsigned size = ip_hlen + 20 + tx->opt_len + tx->len;
	if (mtu > 0 && size > (unsigned)mtu) {
		int room = mtu - (int)(ip_hlen + 20 + tx->opt_len);
		snprintf(err, errlen, "the segment would be a %u-byte datagram, more than the MTU of %s (%d): at most "
		         "%d bytes of payload with these options (hs does not fragment)", size, ifname, mtu,
		         room > 0 ? room : 0);
		return -1;
	}
	return 0;
}

/* The message of the result line: what happened, and what --expect wanted if the
 * reaction was not that. */
static int finish_sent(struct drive *d, enum hs_reaction react, const char *conn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int finish_sent(struct drive *d, enum hs_reaction react, const char *conn, const char *fmt, ...)
{
	char msg[512], exp[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t n = strlen(msg);
	snprintf(msg + n, sizeof(msg) - n, "%s", expect_text(d->c, react, exp, sizeof(exp)));
	return drive_finish(d, "sent", exit_for(d->c, react), conn, msg);
}

/* Does one of the answer's SACK blocks cover [left, right)? */
static bool sacked(const hs_segment *a, uint32_t left, uint32_t right)
{
	for (int i = 0; i < a->opts.nsack && i < HS_OPT_MAXSACK; i++)
		if (hs_seq_leq(a->opts.sack[i].left, left) && hs_seq_geq(a->opts.sack[i].right, right))
			return true;
	return false;
}

/* ---- into a kept connection -------------------------------------------------------- */

static int send_kept(struct cli *c, const char *conn, const char *segment)
{
	struct drive d = {
		.c = c, .t0 = hs_now_ns(), .no_catch_up = true, .md5_crafted_only = true,
		.not_found_hint = conn ? " (a probe without a connection is hs send HOST PORT; a SEGMENT starts with its "
		                         "flags: 'S 0:0(0)', 'P. 1:6(5) ack 1', '. 1:1(0)')" : NULL,
	};
	hs_conn_record rec;
	hs_seg_spec sp;
	hs_tx tx;
	hs_tcb_out o;
	char err[256], id[16];

	build_spec(c, segment, &sp);
	/* drive_resume reads the CONN from args[0]. */
	char *args[1] = { (char *)conn };
	c->args = conn ? args : NULL;
	c->nargs = conn ? 1 : 0;
	enum hs_run r = drive_resume(&d, &rec);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "the peer's answer to our probe");
	hs_tcb *t = &d.s.tcb;
	const uint8_t *data = c->have_data ? c->data.p : NULL;
	uint32_t len = c->have_data ? c->data.len : 0;

	/* Before anything is sent: a segment that cannot be built or cannot leave. */
	if (hs_craft_build(t, &sp, NULL, data, len, hs_now_ns(), &tx, err, sizeof(err)) < 0 ||
	    check_tx(&tx, t->cfg.remote.addr.family, d.ifname, err, sizeof(err)) < 0)
		return drive_keep_resumed(&d, "error", HS_EXIT_USAGE, err);
	r = drive_catch_up(&d);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "the peer's answer to our probe");
	r = hs_session_drain(&d.s);
	if (r != HS_RUN_GOAL)
		return drive_failed(&d, r, "");

	/* Built again on the numbers the probe brought. */
	if (hs_craft_build(t, &sp, NULL, data, len, hs_now_ns(), &tx, err, sizeof(err)) < 0)
		return drive_keep_resumed(&d, "error", HS_EXIT_USAGE, err);
	uint32_t snd_una = t->snd_una, snd_nxt = t->snd_nxt, rcv_nxt = t->rcv_nxt;
	hs_tx clock;
	hs_tcb_template(t, HS_ACK, hs_now_ns(), &clock);
	if (sp.have_opts && tx.has_ts && clock.has_ts && hs_seq_lt(tx.tsval, clock.tsval))
		hs_session_info(&d.s, "note: the segment's TSval %u is older than hs's clock (%u): the peer's PAWS check "
		                "(RFC 7323 5) is likely to drop it; leave the options out, or write ts, to have them "
		                "filled in", tx.tsval, clock.tsval);
	d.s.craft_no_rtx = true;
	hs_session_watch(&d.s);
	unsigned sent_before = d.s.sent;
	/* --md5-key signs this segment only: the peer's answer is checked with the key the
	 * connection was made with, and that key stays in its record. */
	if (c->md5.len)
		hs_session_set_md5(&d.s, &c->md5);
	int sent_rc = hs_session_send_crafted(&d.s, &tx);
	if (c->md5.len)
		hs_session_set_md5(&d.s, &d.kept_md5);
	if (sent_rc < 0)
		return drive_failed(&d, HS_RUN_ERROR, "");
	if (d.s.quit)
		return drive_failed(&d, HS_RUN_QUIT, "");
	if (d.s.sent == sent_before) /* skipped at the --step prompt */
		return drive_keep_resumed(&d, "skipped", HS_EXIT_OK, "the segment was skipped at the --step prompt");
	bool aborted = t->result == HS_RES_ABORTED; /* an exact RST: the peer should have taken it */

	/* The reaction: the peer's first segment (or an ICMP error) within --timeout. */
	d.s.observe = aborted;
	r = hs_session_run(&d.s, answered, &d.s, hs_now_ns() + c->timeout_ns);
	if (r != HS_RUN_GOAL && r != HS_RUN_IDLE && r != HS_RUN_ENDED)
		return drive_failed(&d, r, "");
	r = hs_session_drain(&d.s);
	if (r == HS_RUN_SIGNAL || r == HS_RUN_WRITE || r == HS_RUN_ERROR || r == HS_RUN_QUIT)
		return drive_failed(&d, r, "");
	enum hs_reaction react = reaction_of(&d.s, &tx, snd_una, rcv_nxt);
	d.s.reaction = hs_reaction_name(react);
	uint32_t space = tx.len + !!(tx.flags & HS_FIN);
	if (tx.ip.bad_csum && space)
		hs_session_info(&d.s, "the segment's checksum is wrong on purpose: the peer's kernel drops it before TCP "
		                "sees it, so SND.NXT stays at %u", hs_tcb_rel_snd(t, snd_nxt));
	else if (tx.len && hs_seq_gt(tx.seq, snd_nxt) && d.s.answered && !d.s.answer_icmp &&
	         sacked(&d.s.answer, tx.seq, tx.seq + tx.len))
		hs_session_info(&d.s, "the peer holds the crafted bytes %u:%u out of order (its SACK says so): they count "
		                "once the gap from SND.NXT (%u) is filled", hs_tcb_rel_snd(t, tx.seq),
		                hs_tcb_rel_snd(t, tx.seq + tx.len), hs_tcb_rel_snd(t, snd_nxt));

	/* An RST that drew no answer may have been taken all the same (one left of the
	 * window is dropped silently, one in it challenged): the probe tells. */
	if ((tx.flags & HS_RST) && !aborted && react == HS_REACT_NONE && t->result == HS_RES_NONE) {
		r = drive_probe(&d);
		if (r == HS_RUN_SIGNAL || r == HS_RUN_WRITE || r == HS_RUN_ERROR || r == HS_RUN_QUIT)
			return drive_failed(&d, r, "");
		if (t->result != HS_RES_NONE)
			return finish_sent(&d, react, NULL, "reaction: %s; the peer took the RST after all (it answers our "
			                   "probe with RST): connection removed", reaction_text(react));
		if (r != HS_RUN_GOAL)
			return finish_sent(&d, react, NULL, "reaction: %s; no answer to our probes after the RST: the "
			                   "connection is most likely gone, removed", reaction_text(react));
	}
	if (aborted) {
		/* Did the peer take our RST? As hs rst asks: a probe, answered with RST by a
		 * peer that dropped the connection, with an ACK by one that did not. */
		if (react == HS_REACT_NONE || react == HS_REACT_RST) {
			unsigned before = d.s.inputs;
			r = drive_probe(&d);
			bool still = r == HS_RUN_GOAL && d.s.inputs > before && !(d.s.last_in_flags & HS_RST);
			if (!still)
				return finish_sent(&d, react, NULL, "reaction: %s; the peer took the RST (%s): connection removed",
				                   reaction_text(react),
				                   r == HS_RUN_GOAL ? "it answers our probe with RST" : "no answer to our probes");
		}
		/* Still connected: keep it as it was. */
		snprintf(id, sizeof(id), "%d", d.kept_id);
		d.kept_id = 0;
		t->state = rec.state;
		t->peer_state = rec.peer_state;
		return finish_sent(&d, react, id, "reaction: %s; the peer did not take the RST (the connection stays kept)",
		                   reaction_text(react));
	}
	if (t->result != HS_RES_NONE) /* the peer reset it, or our close finished */
		return finish_sent(&d, react, NULL, "reaction: %s; the connection ended (%s): removed", reaction_text(react),
		                   hs_result_name(t->result));
	/* Crafted data or FIN that the peer did not acknowledge did not happen for it. */
	uint32_t back = hs_tcb_forget_unacked(t, &o);
	if (back) {
		hs_session_apply(&d.s, &o, NULL, 0);
		hs_session_info(&d.s, "the peer did not acknowledge the crafted segment's %u byte%s of sequence space: "
		                "SND.NXT stays at %u", back, back == 1 ? "" : "s", hs_tcb_rel_snd(t, t->snd_nxt));
	}
	if (t->state != HS_ESTABLISHED && t->state != HS_CLOSE_WAIT) {
		/* Our FIN was acknowledged: the close goes on to its end, as hs fin's. */
		r = hs_session_run(&d.s, conn_ended, NULL, hs_now_ns() + drive_patience(c) + c->time_wait_ns);
		if (r == HS_RUN_SIGNAL || r == HS_RUN_WRITE || r == HS_RUN_ERROR || r == HS_RUN_QUIT)
			return drive_failed(&d, r, "the peer's FIN");
		return finish_sent(&d, react, NULL, "reaction: %s; our FIN was taken: %s", reaction_text(react),
		                   t->result == HS_RES_CLOSED ? "connection closed, removed"
		                   : t->result != HS_RES_NONE ? "the connection ended, removed"
		                                              : "the peer's FIN did not come; connection removed");
	}
	if (drive_save_kept(&d, id, sizeof(id), err, sizeof(err)) < 0)
		return finish_sent(&d, react, id, "reaction: %s; %s (the record as it was stays)", reaction_text(react), err);
	return finish_sent(&d, react, id, "reaction: %s; the connection stays kept", reaction_text(react));
}

/* ---- without a connection ----------------------------------------------------------- */

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / HS_NS_PER_SEC), .tv_nsec = (long)(ns % HS_NS_PER_SEC) };
	while (nanosleep(&ts, &ts) < 0 && !hs_stop_signal)
		;
}

/* {"syn-ack":2,"none":1} into json, "2 syn-ack, 1 none" into text; returns how many
 * kinds were seen. */
static int count_reactions(const unsigned *seen, char *json, size_t jlen, char *text, size_t tlen)
{
	size_t n = 0, m = 0;
	int kinds = 0;

	n += (size_t)snprintf(json, jlen, "{");
	text[0] = '\0';
	for (int k = 0; k < HS_REACT_COUNT; k++)
		if (seen[k]) {
			if (n < jlen)
				n += (size_t)snprintf(json + n, jlen - n, "%s\"%s\":%u", kinds ? "," : "",
				                      hs_reaction_name((enum hs_reaction)k), seen[k]);
			if (m < tlen)
				m += (size_t)snprintf(text + m, tlen - m, "%s%u %s", kinds ? ", " : "", seen[k],
				                      hs_reaction_name((enum hs_reaction)k));
			kinds++;
		}
	if (n < jlen)
		snprintf(json + n, jlen - n, "}");
	return kinds;
}

static int send_probe(struct cli *c, const char *hostarg, const char *portarg, const char *segment)
{
	struct drive d = { .c = c, .t0 = hs_now_ns() };
	hs_endpoint local, remote;
	hs_seg_spec sp;
	char host[256], err[256], counts[256], text[256];
	const char *why;
	unsigned seen[HS_REACT_COUNT] = { 0 };
	enum hs_reaction last = HS_REACT_NONE;
	int code = HS_EXIT_OK, done = 0;
	bool open = false;

	memset(&remote, 0, sizeof(remote));
	if (hs_host_split(hostarg, host, sizeof(host), &remote.port, &why) < 0)
		die(HS_EXIT_USAGE, "bad host \"%s\": %s", hostarg, why);
	if (portarg && remote.port)
		die(HS_EXIT_USAGE, "the port is given twice, in \"%s\" and as \"%s\"", hostarg, portarg);
	if (portarg && hs_port_parse(portarg, &remote.port) < 0)
		die(HS_EXIT_USAGE, "bad port \"%s\": must be a number from 1 to 65535", portarg);
	if (c->count < 1)
		die(HS_EXIT_USAGE, "--count must be 1..1000 for hs send, not %d", c->count);
	build_spec(c, segment, &sp);
	cli_enter_netns(c);
	cli_output_init(c, &d.out);
	drive_route(&d, host, &remote, &local);
	cli_state_dir(c, d.state_dir, sizeof(d.state_dir));
	cli_cleanup_stale_guards(d.state_dir);
	uint16_t first = drive_source_port(&d, &local.addr);

	for (int i = 0; i < c->count; i++) {
		if (i > 0 && c->interval_ns)
			sleep_ns(c->interval_ns);
		if (i > 0 && hs_stop_signal) {
			int sig = hs_stop_signal;
			count_reactions(seen, counts, sizeof(counts), text, sizeof(text));
			d.s.reaction = hs_reaction_name(last);
			d.s.reactions = counts;
			char msg[512];
			snprintf(msg, sizeof(msg), "interrupted by %s after %d of %d probes: %s; guard removed",
			         cli_signal_name(sig), done, c->count, text);
			return drive_finish(&d, "interrupted", 128 + sig, NULL, msg);
		}
		if (open) { /* the previous probe's capture and guard go; this one gets its own */
			hs_session_close(&d.s, false);
			hs_cleanup_session = NULL;
			open = false;
		}
		local.port = c->sport ? c->sport : (uint16_t)(first + i);
		if (!c->sport && i > 0 && (local.port < first || hs_local_port_in_use(local.port, false) ||
		                           hs_store_local_in_use(d.state_dir, &local) ||
		                           (hs_port_hold(&local) < 0 && errno == EADDRINUSE)))
			local.port = drive_source_port(&d, &local.addr);
		drive_config(&d, &local, &remote);
		memset(&d.cfg.ip, 0, sizeof(d.cfg.ip)); /* the fields are the crafted segment's only */
		d.keep_privs = i + 1 < c->count; /* the next probe opens its own capture */
		hs_session_params p = {
			.local = local, .remote = remote, .capture_iface = c->iface ? c->iface : d.ifname,
			.pcap_out = i == 0 ? c->pcap_out : NULL, .guard = true, .step = c->step,
			.md5 = c->md5,
		};
		drive_open(&d, &p);
		open = true;
		hs_tcb_closed(&d.s.tcb, &d.cfg, hs_now_ns());
		hs_tx tx;
		if (hs_craft_build(&d.s.tcb, &sp, NULL, c->have_data ? c->data.p : NULL, c->have_data ? c->data.len : 0,
		                   hs_now_ns(), &tx, err, sizeof(err)) < 0 ||
		    check_tx(&tx, remote.addr.family, d.ifname, err, sizeof(err)) < 0)
			die(HS_EXIT_USAGE, "%s", err); /* nothing sent yet: die removes the guard */
		hs_session_watch(&d.s);
		d.s.craft_no_rtx = true;
		if (hs_session_send_crafted(&d.s, &tx) < 0)
			return drive_failed(&d, HS_RUN_ERROR, "");
		if (d.s.quit)
			return drive_failed(&d, HS_RUN_QUIT, "");
		enum hs_run r = hs_session_run(&d.s, answered, &d.s, hs_now_ns() + c->timeout_ns);
		if (r == HS_RUN_SIGNAL || r == HS_RUN_WRITE || r == HS_RUN_ERROR || r == HS_RUN_QUIT)
			return drive_failed(&d, r, "");
		/* Our answer to it (the RST a CLOSED port sends for a SYN,ACK) on its way. */
		r = hs_session_drain(&d.s);
		if (r == HS_RUN_SIGNAL || r == HS_RUN_WRITE || r == HS_RUN_ERROR || r == HS_RUN_QUIT)
			return drive_failed(&d, r, "");
		last = reaction_of(&d.s, &tx, tx.seq, 0);
		seen[last]++;
		done++;
		if (exit_for(c, last) != HS_EXIT_OK)
			code = HS_EXIT_PEER;
		if (c->count > 1)
			hs_session_info(&d.s, "probe %d of %d from port %u: %s", i + 1, c->count, local.port,
			                hs_reaction_name(last));
	}
	int kinds = count_reactions(seen, counts, sizeof(counts), text, sizeof(text));
	d.s.reaction = kinds > 1 ? "mixed" : hs_reaction_name(last);
	d.s.reactions = c->count > 1 ? counts : NULL;
	if (c->count == 1)
		return finish_sent(&d, last, NULL, "reaction: %s", reaction_text(last));
	char msg[512], exp[160] = "";
	if (code != HS_EXIT_OK)
		snprintf(exp, sizeof(exp), "; not every probe drew what --expect asked for");
	snprintf(msg, sizeof(msg), "%d probes: %s%s", c->count, text, exp);
	return drive_finish(&d, "sent", code, NULL, msg);
}

/* HOST PORT: two arguments (a third: the SEGMENT) whose second is a port number;
 * otherwise [CONN] [SEGMENT]. */
int cmd_send(struct cli *c)
{
	uint16_t port;

	if (c->nargs >= 2 && !looks_like_segment(c->args[0]) && c->args[1][0] &&
	    strspn(c->args[1], "0123456789") == strlen(c->args[1])) {
		if (hs_port_parse(c->args[1], &port) < 0)
			die(HS_EXIT_USAGE, "bad port \"%s\": must be a number from 1 to 65535", c->args[1]);
		if (c->nargs > 3)
			die(HS_EXIT_USAGE, "send HOST PORT takes one SEGMENT at most, not also \"%s\"", c->args[3]);
		return send_probe(c, c->args[0], c->args[1], c->nargs == 3 ? c->args[2] : NULL);
	}
	const char *conn = NULL, *segment = NULL;
	for (int i = 0; i < c->nargs; i++) {
		if (looks_like_segment(c->args[i]) && !segment)
			segment = c->args[i];
		else if (!conn && !segment)
			conn = c->args[i];
		else
			die(HS_EXIT_USAGE, "send takes [CONN] [SEGMENT] or HOST PORT [SEGMENT], not also \"%s\"", c->args[i]);
	}
	if (c->given & (O_COUNT | O_INTERVAL | O_SPORT))
		die(HS_EXIT_USAGE, "--count, --interval and --sport apply to hs send HOST PORT, not to a kept connection");
	return send_kept(c, conn, segment);
}
