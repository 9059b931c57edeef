/* hs -r FILE [-r FILE] [A:PORT B:PORT | BPF EXPRESSION]: re-render the TCP
 * connections of a capture.
 *
 * Input: pcap or pcapng ("-": stdin), any link type decode.c knows (EN10MB,
 * LINUX_SLL, LINUX_SLL2, RAW, NULL/LOOP), read with libpcap's offline reader at
 * nanosecond precision. The words after the options filter: two ADDR:PORT words keep
 * the one 4-tuple (either direction, and the ICMP errors quoting it); anything else
 * is joined with spaces into a BPF expression compiled for the file's link type.
 *
 * What it shows: every TCP connection of the file(s), one after the other in the
 * order of their first packets, as hs shows its own: HS_EV_OPEN (A, B: A is the end
 * that sent the first SYN seen -- the receiver of a SYN,ACK when the SYN was not
 * captured -- else the sender of the first segment), then each segment in capture
 * order with both ends' states as the observer (observer.h) infers them, each state
 * change after the segment that caused it, the ICMP errors that quote the
 * connection, and HS_EV_END with both final states. A connection is its unordered
 * 4-tuple; a SYN (without ACK) after the connection was reset or closed by FINs from
 * both ends, or a SYN with a new sequence number from an end that already sent one,
 * starts a new connection on the same 4-tuple (the grouping and the copy matching
 * below are lib/capset.c, capset.h). Times (t) count from the first packet
 * of the file(s); wall_t0_ns is that packet's timestamp.
 *
 * Two captures of one connection (-r near-a.pcap -r near-b.pcap, e.g. one taken at
 * each end), or one capture that holds each segment twice (taken on "any" at a
 * router): the copies of a segment are matched (same direction, SEG.SEQ, SEG.ACK,
 * flags, SEG.LEN, window, IPv4 ID when both have one, TSval when both have one; in
 * two files, a copy from the other file within 2 s -- 100 ms when neither the IPv4
 * ID nor a TSval tells a resend from a copy; in one file, a later copy within
 * HS_OBS_COPY_NS). The segment is shown once, at its earlier copy (the sender's
 * side: t), with has_t_other / t_other_ns at the later one (the receiver's side).
 * Which file is near which end is inferred, not asked: the file that holds the
 * earlier copies of A's segments (and the later ones of B's) is near A. A segment
 * that the file near its sender holds and the other does not, at a time within the
 * span of the other file's packets of that connection, is marked lost (dropped on
 * the way). The clocks of the two captures must agree (one host, or NTP-close), and
 * the segments must keep their addresses and ports between them (no NAT).
 *
 * Events (event.h), per connection, connections one after the other (so t goes back
 * to the next connection's first packet at each HS_EV_OPEN):
 *   HS_EV_OPEN     observed, local/remote = A/B, local_name "A", remote_name "B",
 *                  wall_t0_ns, conn_index 1, 2, ..., t_ns its first packet
 *   HS_EV_SEGMENT  t_ns, dir (OUT: A->B), seg, rseq/rack/win_shift (the observer's),
 *                  state (A), peer_state (B), peer_assumed (B's state rests on A's
 *                  segments alone), note (the observer's; DUPLICATE for a network
 *                  copy it recognised that the matching above did not pair),
 *                  note_text "fragment" for a first fragment (shown, not tracked),
 *                  ip/ip_caplen/ip_len (the datagram as captured), has_t_other +
 *                  t_other_ns, lost
 *   HS_EV_STATE    each change the segment caused (by_segment; change.peer: B)
 *   HS_EV_ICMP     an ICMP error quoting the connection, in time order
 *   HS_EV_END      conn_index, local/remote, final_state (A), final_peer_state (B),
 *                  peer_assumed
 * before them HS_EV_INFO lines (a truncated file, malformed frames skipped: said as
 * each file is read), and after them one HS_EV_RESULT, a listing's (listing, count:
 * the connections, no states -- each HS_EV_END has its own): outcome "read" (exit
 * 0) or "none" (exit 1), text "N connections in FILE"; with one connection also
 * its local/remote.
 *
 * -w FILE.pcapng (or --pcapng) writes what is shown again through the pcapng sink;
 * -w FILE.pcap is refused (there is no live capture to copy).
 *
 * Exit status: 0 when at least one connection was shown; 1 when none was in the
 * file(s) or matched the filter (the result line says so, outcome "none"); 2 for a
 * missing file, a file that is not a pcap or pcapng capture, a link type hs does not
 * decode, a bad filter, "-" twice; 4 for a file that cannot be read (permission,
 * I/O). A truncated file (tcpdump killed) shows what it holds, with an info line.
 */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "hs/capfile.h"
#include "hs/capset.h"
#include "hs/observer.h"

struct reader {
	hs_output out;
	hs_cappkt *p;           /* the packets; each ip is a copy this file owns */
	size_t np, pcap;
	hs_capset set;          /* the connections (capset.h) */
	bool have_tuple;        /* A:PORT B:PORT given */
	hs_endpoint tuple[2];
	uint64_t t0;            /* the first packet's timestamp: t counts from it */
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die(HS_EXIT_ENV, "out of memory reading the capture");
	return q;
}

/* ---- reading ------------------------------------------------------------------------ */

static bool tuple_match(const struct reader *r, const hs_endpoint *s, const hs_endpoint *d)
{
	return (hs_endpoint_equal(s, &r->tuple[0]) && hs_endpoint_equal(d, &r->tuple[1])) ||
	       (hs_endpoint_equal(s, &r->tuple[1]) && hs_endpoint_equal(d, &r->tuple[0]));
}

static void read_file(struct reader *r, int file, const char *path, const char *filter)
{
	hs_capfile *f;
	char err[512];
	int rc = hs_capfile_open(&f, path, filter, err, sizeof(err));

	if (rc == HS_CAPFILE_ENV)
		die(HS_EXIT_ENV, "%s", err);
	if (rc != 0)
		die(HS_EXIT_USAGE, "%s", err);
	for (;;) {
		hs_packet pkt;
		uint64_t wall;
		const uint8_t *ip;
		size_t caplen, len;
		rc = hs_capfile_next(f, &pkt, &wall, &ip, &caplen, &len, err, sizeof(err));
		if (rc == 0)
			break;
		if (rc < 0 && hs_capfile_frames(f) == 0) {
			/* Nothing readable at all: not a capture hs can read (a pcapng whose
			 * interfaces have different link types: libpcap reads one type). */
			if (strstr(err, "different from the type of the first interface"))
				die(HS_EXIT_USAGE, "%s (libpcap reads a pcapng whose interfaces share one link type: "
				    "split it, e.g. tshark -r %s -w part.pcapng -Y frame.interface_id==0)", err, path);
			die(HS_EXIT_USAGE, "%s", err);
		}
		if (rc < 0) {
			/* A capture cut short (tcpdump killed): what was read stands. */
			hs_event ev = { .type = HS_EV_INFO, .text = err };
			hs_output_emit(&r->out, &ev);
			break;
		}
		if (!ip)
			continue;
		if (r->have_tuple) {
			bool keep = pkt.kind == HS_PKT_TCP ? tuple_match(r, &pkt.u.tcp.src, &pkt.u.tcp.dst)
			                                   : tuple_match(r, &pkt.u.icmp.orig_src, &pkt.u.icmp.orig_dst);
			if (!keep)
				continue;
		}
		if (r->np == r->pcap) {
			r->pcap = r->pcap ? 2 * r->pcap : 256;
			r->p = xrealloc(r->p, r->pcap * sizeof(*r->p));
		}
		/* The datagram copied, decoded again from the copy (pkt points into it). */
		hs_cappkt *p = &r->p[r->np];
		memset(p, 0, sizeof(*p));
		uint8_t *copy = xrealloc(NULL, caplen);
		memcpy(copy, ip, caplen);
		const char *why;
		if (hs_decode_ip(copy, caplen, &p->pkt, &why) < 0 || p->pkt.kind == HS_PKT_NONE) {
			free(copy);
			continue;
		}
		p->ip = copy;
		p->wall_ns = wall;
		p->order = r->np;
		p->file = file;
		p->caplen = caplen;
		p->len = len;
		r->np++;
	}
	unsigned long bad = hs_capfile_skipped(f);
	if (bad) {
		char text[256];
		snprintf(text, sizeof(text), "%s: %lu malformed frame%s skipped", strcmp(path, "-") ? path : "stdin", bad,
		         bad == 1 ? "" : "s");
		hs_event ev = { .type = HS_EV_INFO, .text = text };
		hs_output_emit(&r->out, &ev);
	}
	hs_capfile_close(f);
}

/* ---- events ------------------------------------------------------------------------- */

static uint64_t rel_t(const struct reader *r, uint64_t wall)
{
	return wall > r->t0 ? wall - r->t0 : 0;
}

static void show_conn(struct reader *r, size_t k)
{
	const hs_capconn *c = &r->set.conn[k];
	hs_observer ob;
	hs_obs_out o;
	uint64_t t_last = rel_t(r, r->p[c->pk[0]].wall_ns);

	hs_observer_init(&ob, &c->a, &c->b);
	hs_event open = {
		.type = HS_EV_OPEN, .t_ns = t_last, .observed = true, .local = &c->a, .remote = &c->b,
		.local_name = "A", .remote_name = "B", .wall_t0_ns = r->t0, .conn_index = (int)k + 1,
	};
	hs_output_emit(&r->out, &open);
	hs_state st[2] = { HS_CLOSED, HS_CLOSED };
	bool b_assumed = false; /* B's state rests on A's segments alone (observer.h: assumed) */
	for (size_t j = 0; j < c->n; j++) {
		const hs_cappkt *p = &r->p[c->pk[j]];
		uint64_t t = rel_t(r, p->wall_ns);
		if (p->is_copy)
			continue;
		t_last = t;
		if (p->pkt.kind == HS_PKT_ICMP) {
			hs_event ev = { .type = HS_EV_ICMP, .t_ns = t, .icmp = &p->pkt.u.icmp };
			hs_output_emit(&r->out, &ev);
			continue;
		}
		const hs_segment *s = &p->pkt.u.tcp;
		hs_event ev = {
			.type = HS_EV_SEGMENT, .t_ns = t, .seg = s, .ip = p->ip, .ip_caplen = p->caplen, .ip_len = p->len,
			.lost = p->lost,
		};
		if (p->twin >= 0) {
			ev.has_t_other = true;
			ev.t_other_ns = rel_t(r, r->p[p->twin].wall_ns);
		}
		if (s->fragment) {
			/* Part of a segment: nothing to act on (segment.h). */
			ev.dir = hs_endpoint_equal(&s->src, &c->a) ? HS_DIR_OUT : HS_DIR_IN;
			ev.state = st[HS_OBS_A];
			ev.peer_state = st[HS_OBS_B];
			ev.note_text = "fragment";
			hs_output_emit(&r->out, &ev);
			continue;
		}
		hs_observer_segment(&ob, s, p->wall_ns, &o);
		if (o.from < 0)
			continue; /* cannot be: grouped by its tuple */
		st[0] = o.state[0];
		st[1] = o.state[1];
		ev.dir = o.from == HS_OBS_A ? HS_DIR_OUT : HS_DIR_IN;
		ev.rseq = o.rseq;
		ev.rack = o.rack;
		ev.win_shift = o.win_shift;
		ev.state = o.state[HS_OBS_A];
		ev.peer_state = o.state[HS_OBS_B];
		ev.note = o.note;
		if (o.from == HS_OBS_B)
			b_assumed = false; /* its own segment shows where it is */
		for (int i = 0; i < o.nchange; i++)
			if (o.change[i].peer)
				b_assumed = o.change[i].assumed;
		ev.peer_assumed = b_assumed;
		if (o.copy) /* a copy the matching did not pair (one capture, two interfaces) */
			ev.note = HS_NOTE_DUPLICATE;
		hs_output_emit(&r->out, &ev);
		for (int i = 0; i < o.nchange; i++) {
			hs_event sc = { .type = HS_EV_STATE, .t_ns = t, .change = o.change[i], .by_segment = true };
			hs_output_emit(&r->out, &sc);
		}
	}
	hs_event end = {
		.type = HS_EV_END, .t_ns = t_last, .local = &c->a, .remote = &c->b, .conn_index = (int)k + 1,
		.final_state = ob.side[HS_OBS_A].state, .final_peer_state = ob.side[HS_OBS_B].state,
		.peer_assumed = b_assumed,
	};
	hs_output_emit(&r->out, &end);
}

/* ---- the command -------------------------------------------------------------------- */

static char *join_filter(const struct cli *c)
{
	size_t n = 1;

	for (int i = 0; i < c->nargs; i++)
		n += strlen(c->args[i]) + 1;
	char *f = xrealloc(NULL, n);
	f[0] = '\0';
	for (int i = 0; i < c->nargs; i++) {
		if (i)
			strcat(f, " ");
		strcat(f, c->args[i]);
	}
	return f;
}

int cmd_read(struct cli *c)
{
	static struct reader r; /* die() may run while it is in use: nothing on the stack */
	char *filter = NULL;

	memset(&r, 0, sizeof(r));
	if (c->pcap_out)
		die(HS_EXIT_USAGE, "-w %s: with -r only a pcapng copy can be written (-w FILE.pcapng, or --pcapng)",
		    c->pcap_out);
	if (c->nread == 2 && strcmp(c->read_files[0], "-") == 0 && strcmp(c->read_files[1], "-") == 0)
		die(HS_EXIT_USAGE, "-r - reads stdin: give it once");
	if (cli_is_live_pair(c)) {
		hs_endpoint_parse(c->args[0], &r.tuple[0]);
		hs_endpoint_parse(c->args[1], &r.tuple[1]);
		r.have_tuple = true;
	} else if (c->nargs > 0) {
		filter = join_filter(c);
	}
	cli_output_init(c, &r.out);
	hs_out = &r.out;
	for (int i = 0; i < c->nread; i++)
		read_file(&r, i, c->read_files[i], filter);
	char err[256];
	if (hs_capset_build(&r.set, r.p, r.np, c->nread == 2, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "out of memory reading the capture");
	r.t0 = r.np ? r.p[0].wall_ns : 0;
	size_t nconn = r.set.nconn;
	for (size_t k = 0; k < nconn; k++) {
		show_conn(&r, k);
		if (hs_stop_signal)
			die(128 + hs_stop_signal, "interrupted by %s", cli_signal_name(hs_stop_signal));
	}

	char text[512];
	const char *what = c->nread == 2 ? "the captures" : strcmp(c->read_files[0], "-") ? c->read_files[0] : "stdin";
	int code = HS_EXIT_OK;
	if (nconn == 0) {
		code = HS_EXIT_PEER;
		snprintf(text, sizeof(text), "no TCP connection in %s%s%s", what, filter || r.have_tuple ? " matches " : "",
		         filter ? filter : r.have_tuple ? "the 4-tuple" : "");
	} else {
		snprintf(text, sizeof(text), "%zu connection%s in %s", nconn, nconn == 1 ? "" : "s", what);
	}
	uint64_t t_end = r.np ? rel_t(&r, r.p[r.np - 1].wall_ns) : 0;
	/* A listing's result: the count, not states -- each connection's HS_EV_END has
	 * its own (and its summary). */
	hs_event res = {
		.type = HS_EV_RESULT, .t_ns = t_end, .outcome = nconn ? "read" : "none", .exit_code = code,
		.listing = true, .count = (int)nconn, .text = text,
	};
	if (nconn == 1) { /* one connection: the result names it, as hs's own do */
		res.local = &r.set.conn[0].a;
		res.remote = &r.set.conn[0].b;
	}
	hs_output_emit(&r.out, &res);
	hs_output_close(&r.out);
	hs_out = NULL;
	for (size_t i = 0; i < r.np; i++)
		free((void *)r.p[i].ip);
	hs_capset_free(&r.set);
	free(r.p);
	free(filter);
	return code;
}
