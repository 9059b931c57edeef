/* Parsing the command line and dispatching to a subcommand (exact names only, like
 * iproute2's cmds[] table). main() is a one-liner around hs_main(). */
#include <config.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "opttab.h"
#include "hs/clock.h"
#include "hs/craft.h"
#include "hs/guard.h"
#include "hs/netns.h"
#include "hs/payload.h"
#include "hs/route.h"
#include "hs/store.h"

volatile sig_atomic_t hs_stop_signal;
static bool printing_help; /* see help_begin */
hs_session *hs_cleanup_session;
hs_output *hs_out;
static bool json_mode;

#define COMMON_HELP \
	"Options of every command:\n" \
	"  -i IFACE          interface to capture on (default: the route's); any: every\n" \
	"                    interface (segments are still sent by the routing table)\n" \
	"  --netns NAME      run inside network namespace NAME (ip netns)\n" \
	"  -j, --json        one JSON object per line on stdout\n" \
	"  --ladder          draw the exchange as a ladder diagram (--ascii: no box drawing)\n" \
	"  -w FILE.pcap      write every segment to a pcap file (-w -: to stdout; then\n" \
	"                    hs's own lines go to stderr); FILE.pcapng or --pcapng: pcapng\n" \
	"                    with a comment on each packet (state changes, note)\n" \
	"  -q, -v            quieter / more detail (absolute seq/ack, TTL, checksum)\n" \
	"  -x                show payload as hex;  -n  accepted: names are never resolved\n" \
	"  --color[=WHEN]    auto (default: a terminal, no NO_COLOR, TERM not dumb),\n" \
	"                    always or never; --no-color = --color=never\n" \
	"  --state-dir DIR   store of kept connections (default /run/hs/netns-<netns cookie>)\n" \
	"  -r FILE           re-read a capture instead (hs help read)\n" \
	"  -h, --help        this help (hs help COMMAND);  -V, --version  the version\n"

#define SEGMENT_HELP \
	"  --sport N         source port (default: a free ephemeral port)\n" \
	"  --isn N           initial sequence number (default: random)\n" \
	"  --window N        receive window to advertise (default 64240)\n" \
	"  --opt LIST        SYN options, e.g. mss=1460,sack,ts,nop,wscale=7 (default),\n" \
	"                    also eol, tfo[=HEX], md5, ts=VAL:ECR, raw=KIND:HEX; \"\" for none\n" \
	"                    (md5=KEY: the MD5 option signed with KEY, as --md5-key)\n" \
	"  --send DATA       send DATA once established; C escapes \\n \\r \\t \\\\ \\0 \\xHH\n" \
	"  --send-hex HEX    send the bytes HEX spells (48656c6c6f, 0x.., 48:65 ..)\n" \
	"  --send-file FILE  send the contents of FILE (at most 16 MiB)\n" \
	"                    (the three are repeatable, sent in command-line order)\n" \
	"  --close MODE      keep (default), fin, wait or rst (see below)\n" \
	"  --timeout SEC     wait per reply, fractions allowed (default 1); the\n" \
	"                    retransmission timer\n" \
	"  --retries N       retransmissions with exponential backoff (default 3)\n" \
	"  --time-wait SEC   TIME-WAIT length (default 1; RFC 9293's 2MSL is 240 s)\n" \
	"  --ttl N           IPv4 TTL of every segment sent (default 64); IPv6: --hop-limit N,\n" \
	"                    --flow-label N (20 bits, default 0)\n" \
	"  --settle SEC      once established, take in what the peer sends (a banner, its\n" \
	"                    FIN, an RST) for SEC before --send and --close (default 0)\n" \
	"  --step            wait for Enter before each segment sent\n" \
	"  --no-guard        do not install the nft rule that stops the local kernel's RSTs\n" \
	MD5_HELP

#define MD5_HELP \
	"  --md5-key KEY     TCP-MD5 (RFC 2385): sign every segment with KEY (its bytes, up\n" \
	"                    to 80), check the peer's; unsigned or wrongly signed ones are\n" \
	"                    shown and ignored, as the kernel drops them\n"

#define CLOSE_HELP \
	"--close MODE, once established and the --send data is acknowledged:\n" \
	"  keep   exit, leave the connection ESTABLISHED (state and guard kept for hs fin/rst)\n" \
	"  fin    active close: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED\n" \
	"  wait   wait for the peer's FIN, then passive close: CLOSE-WAIT -> LAST-ACK -> CLOSED\n" \
	"  rst    abort with RST\n"

#define EXIT_HELP \
	"Exit status: 0 reached the asked end state, 1 the peer answered otherwise (RST, ICMP),\n" \
	"2 usage error, 3 timeout, 4 environment (privilege, interface, guard).\n"

struct command {
	const char *name;
	int (*fn)(struct cli *c);
	unsigned accepts; /* O_* bits */
	const char *usage;
	const char *help;
	enum hs_optval arg; /* the first argument, for the completions */
	const char *summary; /* one line, a whole phrase: the completions' description */
};

/* What hs -r takes besides the options of every command: a capture is only read,
 * nothing is sent. */
#define READ_ACCEPTS O_HEX

#define SEGMENT_OPTS (O_SPORT | O_ISN | O_WINDOW | O_OPT | O_SEND | O_CLOSE | O_TIMEOUT | \
		      O_RETRIES | O_STEP | O_NOGUARD | O_TIMEWAIT | O_HEX | O_SETTLE | O_IPHDR | O_MD5)

static const struct command commands[] = {
	{ "connect", cmd_connect, SEGMENT_OPTS | O_TFO | O_COUNT | O_RATE | O_SPORTRANGE | O_NOCOOKIEPROBE,
	  "hs connect HOST PORT [OPTIONS]",
	  "Active open from userspace: SYN -> SYN,ACK -> ACK, every segment and state shown.\n"
	  "HOST PORT may also be written HOST:PORT, [V6] PORT or [V6]:PORT.\n\n"
	  SEGMENT_HELP
	  "  --tfo             TCP Fast Open (RFC 7413) with the cookie saved for this peer:\n"
	  "                    the first --send goes in the SYN (up to 536 bytes); without\n"
	  "                    a saved cookie, a cookie request. --opt tfo=HEX with --send\n"
	  "                    puts the data in the SYN too; a cookie a SYN,ACK returns is\n"
	  "                    saved for the peer (in the store, see --state-dir)\n"
	  "  --count N         N handshakes (1 to 1000000) in one run, one summary (RTT\n"
	  "                    percentiles, SYN cookies); --close rst (default), fin, none\n"
	  "                    or keep (at most 1000)\n"
	  "  --rate R          with --count: R SYNs per second (default: as fast as a pool\n"
	  "                    of 256 handshakes in flight allows)\n"
	  "  --sport-range A-B with --count: the source ports (default: the free ones of\n"
	  "                    ip_local_port_range); a port is reused once its handshake ended\n"
	  "  --no-cookie-probe with --count: no second SYN to tell a SYN cookie (\"unknown\")\n"
	  "\n" CLOSE_HELP
	  "  none   (--count only) never answer the SYN,ACK: half-open connections\n", V_NONE,
	  "active open: SYN, SYN,ACK, ACK, every segment and state shown" },
	{ "listen", cmd_listen, SEGMENT_OPTS | O_SYNTIMEOUT | O_TFOCOOKIE, "hs listen [ADDR] PORT [OPTIONS]",
	  "Passive open: wait for a SYN, answer SYN,ACK, wait for the ACK. ADDR (an address\n"
	  "of this host) and PORT may also be given as ADDR:PORT or [V6]:PORT.\n\n" SEGMENT_HELP
	  "  --syn-timeout SEC wait this long for the SYN (default: until interrupted; when\n"
	  "                    only --timeout is given, --timeout)\n"
	  "  --tfo-cookie HEX  TCP Fast Open (RFC 7413): answer a cookie request with this\n"
	  "                    cookie (4 to 16 bytes) and take the data of a SYN carrying it\n\n"
	  CLOSE_HELP, V_NONE, "passive open: wait for a SYN, answer SYN,ACK, take the ACK" },
	{ "fin", cmd_fin, O_MD5 | O_SEND | O_TIMEOUT | O_RETRIES | O_STEP | O_TIMEWAIT | O_WAIT | O_HEX | O_COUNT | O_ACK,
	  "hs fin [CONN] [--wait] [--send DATA] | hs fin A:PORT B:PORT",
	  "Orderly teardown of a kept connection (CONN: an id or endpoint that hs ls shows;\n"
	  "default the most recent): a keepalive probe first takes in what the peer sent\n"
	  "meanwhile, then FIN (with --send data in the same segment), or with --wait the\n"
	  "peer's FIN first (passive close).\n"
	  "With A:PORT B:PORT: inject a FIN, as A, into a live connection between two other\n"
	  "endpoints, with the sequence numbers learned by sniffing (--timeout, --count).\n\n"
	  "  --wait            passive close: wait for the peer's FIN, then ours\n"
	  "  --ack, --count N  (A:PORT B:PORT) as for hs rst\n"
	  "  --send DATA       send DATA before the FIN; C escapes \\n \\r \\t \\\\ \\0 \\xHH\n"
	  "  --send-hex HEX    send the bytes HEX spells;  --send-file FILE  its contents\n"
	  "                    (the three are repeatable, sent in command-line order)\n"
	  "  --timeout SEC     wait per reply (default 1)\n"
	  "  --retries N       retransmissions (default 3)\n"
	  "  --time-wait SEC   TIME-WAIT length (default 1; RFC 9293's 2MSL is 240 s)\n"
	  "  --step            wait for Enter before each segment sent\n"
	  MD5_HELP "                    (default: the key the kept connection was made with)\n", V_CONN,
	  "orderly teardown with FIN of a kept connection, or of a live one" },
	{ "rst", cmd_rst, O_MD5 | O_TIMEOUT | O_ACK | O_COUNT | O_STEP | O_HEX,
	  "hs rst [CONN] [--ack] | hs rst A:PORT B:PORT",
	  "Abort a kept connection with RST (CONN as for fin) and check with a probe that\n"
	  "the peer took it. With A:PORT B:PORT: reset a live connection between two other\n"
	  "endpoints (e.g. from a router between them): hs learns the sequence numbers by\n"
	  "sniffing, or asks both ends for them when the connection is idle, resets both\n"
	  "ends and reports whether each took the RST.\n\n"
	  "  --ack             send RST,ACK instead of RST\n"
	  "  --count N         rounds of RSTs on a live connection (default 3)\n"
	  "  --timeout SEC     wait per reply (default 1)\n"
	  "  --step            wait for Enter before each segment sent\n"
	  MD5_HELP "                    (default: the key the kept connection was made with)\n", V_CONN,
	  "abort a kept connection, or a live one, with RST" },
	{ "send", cmd_send, O_MD5 | O_CRAFT | O_IPHDR | O_OPT | O_DATA | O_EXPECT | O_TIMEOUT | O_STEP | O_SPORT | O_COUNT | O_INTERVAL |
	  O_HEX | O_RETRIES | O_TIMEWAIT,
	  "hs send [CONN] [SEGMENT] [FIELDS] | hs send HOST PORT [SEGMENT] [FIELDS]",
	  "Craft one segment into a kept connection (CONN as for fin; default the most recent),\n"
	  "or, with HOST PORT, without one (a SYN by default; an RST answers a SYN,ACK), and\n"
	  "report the peer's reaction: ack, challenge-ack, dup-ack, data, rst, fin, syn-ack,\n"
	  "icmp or none. SEGMENT is packetdrill's notation, e.g. 'R 7:7(0)', 'P. 1:6(5) ack 1',\n"
	  "numbers relative to each side's ISN as hs prints them; FIELDS override it:\n\n"
	  "  --flags F         FSRPAUEC letters (. is ACK) or names: SYN,ACK\n"
	  "  --seq N           N from our ISN; +N / -N from SND.NXT; =N absolute\n"
	  "  --ack N           N from the peer's ISN; +N / -N from RCV.NXT; =N absolute\n"
	  "  --win N, --urg N  window (as on the wire), urgent pointer\n"
	  "  --opt LIST        options as for connect (default: as negotiated, TS advancing)\n"
	  "  --data STR        payload (C escapes); --data-hex HEX; --data-file FILE\n"
	  "  --ttl N, --tos N, --ip-id N, --df, --no-df, --bad-checksum\n"
	  "  --hop-limit N     IPv6 hop limit (--ttl's twin); --flow-label N  IPv6, 20 bits\n"
	  "  --timeout SEC     watch this long for the reaction (default 1)\n"
	  "  --expect LIST     exit 0 when the reaction is one of LIST (ack takes any bare\n"
	  "                    ACK), 1 otherwise; without it, 0 whatever the reaction\n"
	  "  --count N, --interval SEC  (HOST PORT) repeat, source port +1 each time\n"
	  "                    unless --sport is given\n"
	  "  --step            show the segment first; Enter sends, s skips, q quits, or edit\n"
	  "  --time-wait SEC   TIME-WAIT after a crafted FIN that closes (default 1)\n"
	  "  --retries N       retransmissions, where hs retransmits (default 3)\n"
	  MD5_HELP "                    (default: the key the kept connection was made with)\n\n"
	  "Data the peer acknowledged advances the kept connection; an RST it took ends it.\n", V_CONN,
	  "craft one segment and report the peer's reaction" },
	{ "script", cmd_script, O_SPORT | O_ISN | O_TIMEOUT | O_NOGUARD | O_TOLERANCE | O_HEX,
	  "hs script FILE [HOST PORT]",
	  "Play a scenario script in packetdrill's notation against a peer: hs sends the\n"
	  "\"<\" lines, checks every segment the peer sends against the \">\" lines, runs the\n"
	  "`command` lines at their time, and stops at the first departure: exit 0 when the\n"
	  "script ran to its end, 1 at a segment that does not match (or comes at the wrong\n"
	  "time, or a command that fails), 3 when an expected segment never comes. FILE may\n"
	  "be - (stdin). HOST PORT (or HOST:PORT, or --target=HOST:PORT in the file): the\n"
	  "peer, and its port when hs connects (the first SYN is a \"<\" line); when the peer\n"
	  "connects (the first SYN is a \">\" line), PORT is the one hs listens on.\n"
	  "Commands run with /bin/sh -c, their output on stderr, with HS_LOCAL_IP,\n"
	  "HS_LOCAL_PORT, HS_PEER_IP, HS_PEER_PORT set; what they leave running is stopped\n"
	  "when the script ends. The notation is in hs(1), SCRIPTS.\n\n"
	  "  --tolerance-usecs N  how far a \">\" segment may be from its time (default:\n"
	  "                    the file's --tolerance_usecs, else 4000)\n"
	  "  --timeout SEC     how long a \"*\" line waits (default 10)\n"
	  "  --sport PORT      source port when hs connects (default: a free ephemeral one)\n"
	  "  --isn N           hs's ISN (default random)\n"
	  "  --no-guard        do not block the local kernel's RSTs\n", V_FILE,
	  "play a scenario script (packetdrill's notation) against a peer" },
	{ "ls", cmd_ls, O_TIMEOUT | O_NOPROBE, "hs ls [--no-probe]",
	  "List kept connections, probing each (a keepalive) so that ones the peer has reset\n"
	  "or whose guard is gone show as stale and are removed.\n\n"
	  "  --timeout SEC     wait this long for each probe's answer (at most 0.3 s)\n"
	  "  --no-probe        list the records only: no probe sent, nothing removed (what\n"
	  "                    the shell completions run)\n", V_NONE,
	  "list the kept connections, probing each" },
};

static void usage_all(FILE *fp)
{
	fprintf(fp, "hs %s - craft TCP handshakes and teardowns by hand\n\nUsage: hs [OPTIONS] COMMAND [ARGS]\n\n"
	        "Commands:\n", PACKAGE_VERSION);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(fp, "  %s\n", commands[i].usage);
	fprintf(fp, "  hs -r FILE [-r FILE] [A:PORT B:PORT | BPF FILTER]   re-read a capture\n");
	fprintf(fp, "  hs help [COMMAND]\n");
	fprintf(fp, "\n" COMMON_HELP "\nhs help COMMAND (or hs COMMAND --help) shows the options of a command; a\n"
	        "command may be shortened to any unambiguous prefix (hs con = hs connect).\n" EXIT_HELP);
}

static void usage_cmd(const struct command *cmd, FILE *fp)
{
	fprintf(fp, "Usage: %s\n\n%s\n" COMMON_HELP "\n" EXIT_HELP, cmd->usage, cmd->help);
}

void die(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (hs_cleanup_session) {
		hs_session_close(hs_cleanup_session, false);
		hs_cleanup_session = NULL;
	}
	if (hs_out && json_mode) {
		/* The contract: the last JSON line is always the result (it also prints
		 * the one stderr line). */
		hs_event ev = { .type = HS_EV_RESULT, .outcome = code > 128 ? "interrupted" : "error",
		                .exit_code = code, .text = msg };
		hs_output_emit(hs_out, &ev);
	} else {
		fprintf(stderr, "hs: %s\n", msg);
	}
	exit(code);
}

/* The signals whose default action ends the process and that can be caught: each
 * one ends a run the way SIGTERM does (guard removed, the peer reset where it would
 * stay half-open, exit 128+N with a result line). SIGKILL and SIGSTOP cannot be
 * caught; the fault signals (SEGV, BUS, ILL, FPE, ABRT, TRAP, SYS) mean a bug, after
 * which nothing is safe to run: there the next hs cleans up (stale guard tables). */
static const struct { int sig; const char *name; } stop_signals[] = {
	{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" }, { SIGPIPE, "SIGPIPE" },
	{ SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" }, { SIGUSR1, "SIGUSR1" }, { SIGUSR2, "SIGUSR2" },
	{ SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" }, { SIGVTALRM, "SIGVTALRM" }, { SIGPROF, "SIGPROF" },
#ifdef SIGIO
	{ SIGIO, "SIGIO" },
#endif
#ifdef SIGPWR
	{ SIGPWR, "SIGPWR" },
#endif
#ifdef SIGSTKFLT
	{ SIGSTKFLT, "SIGSTKFLT" },
#endif
};

const char *cli_signal_name(int sig)
{
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		if (stop_signals[i].sig == sig)
			return stop_signals[i].name;
	return "a signal";
}

static void on_signal(int sig)
{
	hs_stop_signal = sig;
}

void cli_install_signals(void)
{
	static bool installed;
	struct sigaction sa, old;
	sigset_t unblock;

	if (installed)
		return;
	installed = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&unblock);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		int sig = stop_signals[i].sig;
		/* Ignored by whoever started us (nohup, a script's background job): stays so. */
		if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sig, &sa, NULL);
		sigaddset(&unblock, sig);
	}
	/* Blocked by whoever started us: hs installs kernel state (the guard) that only
	 * it removes, so it must hear the request to stop; one that came before this
	 * point is pending and is delivered now. */
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

void cli_check_stop(void)
{
	int sig = hs_stop_signal;

	if (sig)
		die(128 + sig, "interrupted by %s%s before anything was sent", cli_signal_name(sig),
		    sig == SIGPIPE ? " (the reader of our output went away)" : "");
}

int cli_exit_status(int rc)
{
	/* Not through hs_out: it may point into the returned command's frame. */
	int e = hs_output_stdout_error();

	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout))
		if (!e)
			e = errno ? errno : EIO;
	/* A failure has said so already (its stderr line); a success whose lines did
	 * not get out is not one. */
	if (rc != 0 || (!e && hs_stop_signal != SIGPIPE))
		return rc;
	if (printing_help && (hs_stop_signal == SIGPIPE || e == EPIPE))
		return 0; /* see help_begin */
	if (hs_stop_signal == SIGPIPE) {
		fprintf(stderr, "hs: the reader of our output went away (SIGPIPE); the run itself succeeded\n");
		return 128 + SIGPIPE;
	}
	fprintf(stderr, "hs: cannot write to stdout: %s\n", strerror(e));
	return HS_EXIT_ENV;
}

void cli_enter_netns(const struct cli *c)
{
	char err[256];
	int notfound = 0;

	if (c->netns && hs_netns_enter(c->netns, &notfound, err, sizeof(err)) < 0)
		die(HS_EXIT_ENV, "%s", err);
}

bool cli_pcap_to_stdout(const struct cli *c)
{
	return (c->pcap_out && strcmp(c->pcap_out, "-") == 0) || (c->pcapng_out && strcmp(c->pcapng_out, "-") == 0);
}

void cli_output_init(const struct cli *c, hs_output *o)
{
	/* -w -: stdout carries the pcap and nothing else; hs speaks on stderr. */
	FILE *fp = cli_pcap_to_stdout(c) ? stderr : stdout;

	hs_output_init(o, fp, stderr);
	o->view = c->json ? HS_VIEW_JSON : c->ladder ? HS_VIEW_LADDER : HS_VIEW_LINES;
	if (c->ascii)
		o->ascii = true;
	o->quiet = c->quiet;
	o->verbose = c->verbose;
	o->hex = c->hex;
	o->absolute = c->verbose > 0;
	const char *term = getenv("TERM"), *nocolor = getenv("NO_COLOR");
	o->color = c->json ? false : c->color >= 0 ? c->color == 1
	           : isatty(fileno(fp)) && !(nocolor && *nocolor) && !(term && strcmp(term, "dumb") == 0);
	hs_out = o;
	if (c->pcapng_out) {
		char err[300];
		o->pcapng_path = c->pcapng_out;
		if (hs_output_add_sink(o, &hs_render_pcapng, err, sizeof(err)) < 0)
			die(HS_EXIT_ENV, "%s", err);
	}
}

bool cli_check_iface(const struct cli *c)
{
	if (!c->iface)
		return false;
	if (strcmp(c->iface, "any") == 0)
		return true;
	if (!hs_iface_exists(c->iface))
		die(HS_EXIT_ENV, "no such interface \"%s\" (see ip link; -i any captures on every interface)", c->iface);
	return false;
}

const char *cli_state_dir(const struct cli *c, char *buf, size_t len)
{
	if (c->state_dir)
		snprintf(buf, len, "%s", c->state_dir);
	else if (hs_store_default_dir(buf, len) < 0)
		die(HS_EXIT_ENV, "cannot find this network namespace's state directory: %s", strerror(errno));
	char err[600];
	if (hs_store_check(buf, err, sizeof(err)) < 0) /* before anything is sent */
		die(HS_EXIT_ENV, "%s", err);
	return buf;
}

struct kept_guards {
	const char *state_dir;
	char names[64][HS_GUARD_NAMELEN];
	int n;                  /* -1: not read yet; -2: unreadable */
};

static bool guard_is_kept(const char *table, void *arg)
{
	struct kept_guards *k = arg;

	if (k->n == -1) { /* read now: after the table's owner was found dead */
		k->n = hs_store_guards(k->state_dir, k->names, 64);
		if (k->n < 0)
			k->n = -2;
	}
	if (k->n == -2) /* unreadable store: a guard we cannot vouch for may be a kept one */
		return true;
	for (int i = 0; i < k->n; i++)
		if (strcmp(k->names[i], table) == 0)
			return true;
	return false;
}

void cli_cleanup_stale_guards(const char *state_dir)
{
	static struct kept_guards k;
	char err[256];

	k.state_dir = state_dir;
	k.n = -1;
	hs_guard_cleanup_dead(guard_is_kept, &k, err, sizeof(err));
}

/* ---- option values ---------------------------------------------------------- */

static unsigned long parse_ulong(const char *opt, const char *s, unsigned long max)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		die(HS_EXIT_USAGE, "%s needs a number from 0 to %lu, not \"%s\"", opt, max, s);
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		die(HS_EXIT_USAGE, "%s needs a number from 0 to %lu, not \"%s\"", opt, max, s);
	return (unsigned long)v;
}

/* An argument quoted in a message: at most 40 bytes, control bytes as '?', so that
 * the message stays one line. */
static const char *shown_arg(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 4 < len && n < 40; s++)
		buf[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	if (*s && n + 4 <= len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* The payloads live until exit (the TCB sends from them); they are freed there, so
 * that a leak checker sees none. */
static uint8_t *payloads[HS_MAX_SEND];
static int npayloads;

static void free_payloads(void)
{
	while (npayloads > 0)
		free(payloads[--npayloads]);
}

static void keep_payload(uint8_t *p)
{
	if (npayloads == 0)
		atexit(free_payloads);
	payloads[npayloads++] = p;
}

/* --send TEXT (C escapes), --send-hex HEX, --send-file FILE: decoded now, so that a
 * bad one ends hs before anything is installed; the bytes stay until exit. */
static void add_send(struct cli *c, const char *opt, const char *arg)
{
	char shown[64], err[256];
	const char *why = NULL;
	uint8_t *buf = NULL;
	size_t len;

	if (c->nsend == HS_MAX_SEND)
		die(HS_EXIT_USAGE, "at most %d --send, --send-hex and --send-file options together", HS_MAX_SEND);
	if (!*arg)
		die(HS_EXIT_USAGE, "%s needs some data", opt);
	if (strcmp(opt, "--send-file") == 0) {
		if (hs_payload_read_file(arg, HS_PAYLOAD_FILE_MAX, &buf, &len, err, sizeof(err)) < 0)
			die(HS_EXIT_USAGE, "--send-file: %s", err);
	} else {
		len = strlen(arg);
		buf = malloc(len);
		if (!buf)
			die(HS_EXIT_ENV, "out of memory");
		int rc = strcmp(opt, "--send") == 0 ? hs_payload_unescape(arg, buf, &len, &why)
		                                    : hs_payload_hex(arg, buf, &len, &why);
		if (rc < 0)
			die(HS_EXIT_USAGE, "%s \"%s\": %s, at \"%s\"", opt, shown_arg(arg, shown, sizeof(shown)), why,
			    shown_arg(arg + len, err, 16));
		if (len == 0)
			die(HS_EXIT_USAGE, "%s needs some data", opt);
	}
	c->send[c->nsend].p = buf;
	c->send[c->nsend].len = (uint32_t)len;
	c->nsend++;
	keep_payload(buf);
	c->given |= O_SEND;
}

/* hs send's payload: one of --data (C escapes), --data-hex, --data-file. */
static void add_data(struct cli *c, const char *opt, const char *arg)
{
	char shown[64], err[256];
	const char *why = NULL;
	uint8_t *buf = NULL;
	size_t len;

	if (c->have_data)
		die(HS_EXIT_USAGE, "one segment takes one payload: --data, --data-hex or --data-file, once");
	if (!*arg)
		die(HS_EXIT_USAGE, "%s needs some data (for a segment without payload, leave it out)", opt);
	if (strcmp(opt, "--data-file") == 0) {
		if (hs_payload_read_file(arg, HS_CRAFT_MAX_PAYLOAD, &buf, &len, err, sizeof(err)) < 0)
			die(HS_EXIT_USAGE, "--data-file: %s", err);
	} else {
		len = strlen(arg);
		buf = malloc(len ? len : 1);
		if (!buf)
			die(HS_EXIT_ENV, "out of memory");
		int rc = strcmp(opt, "--data") == 0 ? hs_payload_unescape(arg, buf, &len, &why)
		                                    : hs_payload_hex(arg, buf, &len, &why);
		if (rc < 0)
			die(HS_EXIT_USAGE, "%s \"%s\": %s, at \"%s\"", opt, shown_arg(arg, shown, sizeof(shown)), why,
			    shown_arg(arg + len, err, 16));
		if (len > HS_CRAFT_MAX_PAYLOAD)
			die(HS_EXIT_USAGE, "%s: %zu bytes do not fit in one segment (at most %u)", opt, len,
			    HS_CRAFT_MAX_PAYLOAD);
	}
	keep_payload(buf);
	c->data.p = buf;
	c->data.len = (uint32_t)len;
	c->have_data = true;
	c->given |= O_DATA;
}

/* A number form of --seq / --ack: N, +N, -N, =N. */
static void parse_num_opt(const char *opt, const char *arg, hs_num *n)
{
	char err[200], shown[64];

	if (hs_num_parse(arg, n, err, sizeof(err)) < 0)
		die(HS_EXIT_USAGE, "%s \"%s\": %s", opt, shown_arg(arg, shown, sizeof(shown)), err);
}

static enum close_mode parse_close(const char *s)
{
	static const char *const names[] = { "keep", "fin", "wait", "rst", "none" };

	for (int i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0)
			return (enum close_mode)i;
	die(HS_EXIT_USAGE, "--close must be keep, fin, wait, rst or none (with --count), not \"%s\"", s);
}

static const char *option_name(unsigned bit)
{
	if (bit == O_CRAFT) /* many: the message names a few */
		return "a segment field (--flags, --seq, --ttl, ...)";
	return hs_option_name(bit);
}

/* A command by its name or an unambiguous prefix of it (iproute2's habit: hs con).
 * NULL when none matches; *ambiguous set when more than one does. "help" is a
 * command of its own (NULL fn). */
static const struct command help_command = { "help", NULL, 0, "hs help [COMMAND]",
	"Show the help of hs, or of COMMAND (as hs COMMAND --help); hs help read: the help of\n"
	"hs -r (re-reading a capture).\n", V_NONE, "show the help of hs or of a command" };

static const struct command *lookup_command(const char *name, bool *ambiguous)
{
	const struct command *found = NULL;
	size_t n = strlen(name), ncmd = sizeof(commands) / sizeof(commands[0]);

	*ambiguous = false;
	for (size_t i = 0; i <= ncmd; i++) {
		const struct command *c = i < ncmd ? &commands[i] : &help_command;
		if (strcmp(c->name, name) == 0)
			return c;
		if (n > 0 && strncmp(c->name, name, n) == 0) {
			if (found)
				*ambiguous = true;
			found = c;
		}
	}
	return *ambiguous ? NULL : found;
}

#define COMMAND_NAMES "connect, listen, fin, rst, send, script, ls, help"

static const struct command *find_command(const char *name)
{
	bool ambiguous;
	const struct command *c = lookup_command(name, &ambiguous);
	char shown[64];

	if (ambiguous) {
		char list[128] = "";
		size_t n = strlen(name);
		for (size_t i = 0; i <= sizeof(commands) / sizeof(commands[0]); i++) {
			const char *cn = i < sizeof(commands) / sizeof(commands[0]) ? commands[i].name : help_command.name;
			if (strncmp(cn, name, n) == 0) {
				if (*list)
					strcat(list, ", ");
				strcat(list, cn);
			}
		}
		die(HS_EXIT_USAGE, "ambiguous command \"%s\": %s", shown_arg(name, shown, sizeof(shown)), list);
	}
	if (!c)
		die(HS_EXIT_USAGE, "unknown command \"%s\" (" COMMAND_NAMES "; see hs --help)",
		    shown_arg(name, shown, sizeof(shown)));
	return c;
}

/* hs --complete-table: the option table and what each value and argument is, one
 * record a line, tab-separated, for the completions (completions/) and their tests:
 *   cmd NAME ARGKIND HELP           a command and what its first argument is
 *   opt SPELLING ARG VALUE COMMANDS HELP   COMMANDS: a,b,c or * (every one); "read" is
 *                                   hs -r FILE, "-" the words before a command
 *   val KIND WORD...                the words a value kind takes
 * Aliases (--colour, --tolerance_usecs) are marked "alias" in the HELP field. */
static void complete_table(FILE *fp)
{
	size_t ncmd = sizeof(commands) / sizeof(commands[0]);

	for (size_t i = 0; i <= ncmd; i++) {
		const struct command *c = i < ncmd ? &commands[i] : &help_command;
		fprintf(fp, "cmd\t%s\t%s\t%s\n", c->name, hs_optval_name(c->arg), c->summary);
	}
	for (unsigned i = 0; i < hs_noptions; i++) {
		const struct hs_optdef *o = &hs_options[i];
		if (o->flags & OF_HIDDEN)
			continue;
		char cmds[128] = "";
		if (o->flags & OF_TOP) {
			strcpy(cmds, "-,read"); /* before a command ("-"), and in hs -r ("read") */
		} else if (o->bit == 0) {
			strcpy(cmds, "*");
		} else {
			for (size_t k = 0; k < ncmd; k++)
				if (commands[k].accepts & o->bit) {
					if (*cmds)
						strcat(cmds, ",");
					strcat(cmds, commands[k].name);
				}
			if (o->bit & READ_ACCEPTS)
				strcat(cmds, ",read");
		}
		const char *argk = o->has_arg == no_argument ? "none" : o->has_arg == required_argument ? "required"
		                                                                                          : "optional";
		if (o->name)
			fprintf(fp, "opt\t--%s\t%s\t%s\t%s\t%s%s\n", o->name, argk, hs_optval_name(o->value), cmds,
			        (o->flags & OF_ALIAS) ? "alias: " : "", o->help);
		if (o->shortopt)
			fprintf(fp, "opt\t-%c\t%s\t%s\t%s\t%s%s\n", o->shortopt, argk, hs_optval_name(o->value), cmds,
			        (o->flags & OF_ALIAS) ? "alias: " : "", o->help);
	}
	fprintf(fp, "val\tclose\tkeep\tfin\twait\trst\tnone\n");
	fprintf(fp, "val\tcolor\tauto\talways\tnever\n");
	fprintf(fp, "val\topt\tmss=1460,sack,ts,nop,wscale=7\tmss=\tsack\tts\tts=\twscale=\tnop\teol\ttfo\ttfo=\tmd5\tmd5=\traw=\n");
	fprintf(fp, "val\texpect");
	for (int r = 0; r < HS_REACT_COUNT; r++)
		fprintf(fp, "\t%s", hs_reaction_name((enum hs_reaction)r));
	fprintf(fp, "\n");
	fprintf(fp, "val\tflags\tS\tSA\tA\tPA\tFA\tR\tRA\tSYN,ACK\n");
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

static void usage_read(FILE *fp)
{
	fprintf(fp, "Usage: hs -r FILE [-r FILE] [A:PORT B:PORT | BPF FILTER] [OPTIONS]\n\n"
	        "Re-render every TCP connection of a capture (pcap or pcapng, any link type hs\n"
	        "decodes; - reads stdin) as hs renders its own: segments with relative numbers,\n"
	        "notes, and both ends' states as inferred from what passed. A:PORT B:PORT or a\n"
	        "BPF expression keeps only what matches. Two captures of one connection (one at\n"
	        "each end) show each segment's time at both.\n\n" COMMON_HELP "\n" EXIT_HELP);
}

/* --opt's md5=KEY item (KEY without commas) is --md5-key KEY with an md5 item where
 * it stands; the rest of the list goes to hs_opt_spec_parse unchanged. Returns the
 * list to parse: list itself when it has no md5=KEY, else a malloc'd copy. */
static char *opt_take_md5_key(char *list, struct cli *c)
{
	if (!strstr(list, "md5="))
		return list;
	char *out = strdup(list);
	if (!out)
		die(HS_EXIT_ENV, "out of memory");
	char *w = out;
	for (char *item = list, *end; item; item = end ? end + 1 : NULL) {
		end = strchr(item, ',');
		size_t n = end ? (size_t)(end - item) : strlen(item);
		if (w != out)
			*w++ = ',';
		if (n >= 4 && strncmp(item, "md5=", 4) == 0) {
			char key[HS_MD5SIG_MAXKEYLEN + 2], e[200];
			if (n - 4 > HS_MD5SIG_MAXKEYLEN)
				die(HS_EXIT_USAGE, "--opt md5=KEY: key too long (1 to %d bytes, as Linux's TCP_MD5SIG takes)",
				    HS_MD5SIG_MAXKEYLEN);
			memcpy(key, item + 4, n - 4);
			key[n - 4] = '\0';
			if (hs_md5_key_parse(key, &c->md5, e, sizeof(e)) < 0)
				die(HS_EXIT_USAGE, "--opt md5=KEY: %s", e);
			c->given |= O_MD5;
			memcpy(w, "md5", 3);
			w += 3;
		} else {
			memmove(w, item, n);
			w += n;
		}
	}
	*w = '\0';
	return out;
}

/* Does arg, a cluster of short options (-jq), hold letter before any letter that
 * takes the rest as its value? */
static bool short_cluster_has(const char *arg, char letter)
{
	if (arg[0] != '-' || !arg[1] || arg[1] == '-')
		return false;
	for (const char *p = arg + 1; *p; p++) {
		if (*p == letter)
			return true;
		const char *s = *p == ':' ? NULL : strchr(hs_short_options(), *p);
		if (!s || s[1] == ':')
			return false;
	}
	return false;
}

static void cli_defaults(struct cli *c)
{
	memset(c, 0, sizeof(*c));
	c->color = -1;
	c->window = 64240;
	c->timeout_ns = HS_NS_PER_SEC;
	c->retries = 3;
	c->time_wait_ns = HS_NS_PER_SEC;
	c->close = CLOSE_KEEP;
	c->count = 1;
	hs_opt_spec_default(&c->opts);
}

/* --color's WHEN: -1 auto, 1 always, 0 never; -2 not one of them. */
static int color_word(const char *w)
{
	return strcmp(w, "auto") == 0 ? -1 : strcmp(w, "always") == 0 ? 1 : strcmp(w, "never") == 0 ? 0 : -2;
}

/* getopt_long calls an unknown long option and an ambiguous prefix (--s: --sport,
 * --send, ...) the same; the message tells them apart, candidates named. Exits 2. */
static _Noreturn void unknown_long_option(const char *arg)
{
	char name[64], list[400] = "", shown[64];
	size_t n = strcspn(arg + 2, "="), used = 0;
	int matches = 0;

	if (strncmp(arg, "--", 2) == 0 && n > 0 && n < sizeof(name)) {
		memcpy(name, arg + 2, n);
		name[n] = '\0';
		for (unsigned i = 0; i < hs_noptions; i++) {
			const struct hs_optdef *o = &hs_options[i];
			if (!o->name || (o->flags & (OF_ALIAS | OF_HIDDEN)) || strncmp(o->name, name, n) != 0)
				continue;
			bool seen = false; /* --ack has two rows */
			for (unsigned k = 0; k < i; k++)
				seen |= hs_options[k].name && strcmp(hs_options[k].name, o->name) == 0;
			if (seen)
				continue;
			int w = snprintf(list + used, sizeof(list) - used, "%s--%s", matches ? ", " : "", o->name);
			if (w > 0 && (size_t)w < sizeof(list) - used)
				used += (size_t)w;
			matches++;
		}
		if (matches > 1)
			die(HS_EXIT_USAGE, "ambiguous option --%s: %s (see hs --help)", shown_arg(name, shown, sizeof(shown)),
			    list);
	}
	die(HS_EXIT_USAGE, "unknown option %s (see hs --help)", shown_arg(arg, shown, sizeof(shown)));
}

/* hs help [COMMAND], --help: a help read into a pipe that closes early (hs --help |
 * head -1) got what its reader wanted, as any filter's output: exit quietly. The
 * help goes out in one write (a buffer larger than any help), so that the error
 * of that write is the one fflush reports. */
static void help_begin(void)
{
	static char buf[1 << 15];

	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	printing_help = true;
}

static void usage_help(FILE *fp)
{
	fprintf(fp, "Usage: %s\n\n%s", help_command.usage, help_command.help);
}

int hs_main(int argc, char **argv)
{
	struct cli c;
	bool help = false, pcap_stdout = false;
	char err[256];
	int ch;

	cli_install_signals(); /* first: before anything that would need cleaning up */
	setlocale(LC_CTYPE, "");
	cli_defaults(&c);
	/* Scan once for --json so that even usage errors end with a JSON result line. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0 || short_cluster_has(argv[i], 'j'))
			json_mode = true;
		else if (strcmp(argv[i], "-w-") == 0 || (strcmp(argv[i], "-w") == 0 && i + 1 < argc &&
		                                         strcmp(argv[i + 1], "-") == 0))
			pcap_stdout = true;
	if (json_mode) {
		static hs_output early;
		hs_output_init(&early, pcap_stdout ? stderr : stdout, stderr);
		early.view = HS_VIEW_JSON;
		hs_out = &early;
	}

	/* hs send --ack N takes a value where hs rst --ack takes none: find the command
	 * first (a pass over a copy: getopt permutes what it reads). */
	bool send_cmd = false;
	{
		char **copy = malloc(sizeof(char *) * (size_t)(argc + 1));
		if (!copy)
			die(HS_EXIT_ENV, "out of memory");
		memcpy(copy, argv, sizeof(char *) * (size_t)(argc + 1));
		opterr = 0;
		while ((ch = getopt_long(argc, copy, hs_short_options(), hs_long_options(), NULL)) != -1)
			if (ch == L_COLOR && !optarg && optind < argc && color_word(copy[optind]) >= -1)
				optind++; /* --color always: its value, not the command */
		bool ambiguous;
		const struct command *first = optind < argc ? lookup_command(copy[optind], &ambiguous) : NULL;
		send_cmd = first && first->fn == cmd_send;
		free(copy);
		optind = 0; /* GNU: start over, initialised afresh */
	}
	hs_seg_spec_init(&c.fields);

	opterr = 0;
	while ((ch = getopt_long(argc, argv, hs_short_options(), hs_long_options(), NULL)) != -1) {
		switch (hs_option_id(ch)) {
		case 'h': help = true; break;
		case 'V': printf("hs %s\n", PACKAGE_VERSION); return 0;
		case 'i': c.iface = optarg; break;
		case 'w': c.pcap_out = optarg; break;
		case 'q': c.quiet = true; break;
		case 'v': c.verbose++; break;
		case 'x': c.hex = true; c.given |= O_HEX; break;
		case 'n': break; /* iproute2's -n: hs never resolves names anyway */
		case L_COMPLETE_TABLE: complete_table(stdout); return cli_exit_status(0);
		case L_NETNS: c.netns = optarg; break;
		case L_JSON: c.json = true; break;
		case L_NOCOLOR: c.no_color = true; c.color = 0; break;
		case L_COLOR:
			/* --color WHEN as --color=WHEN: getopt gives an optional value only after
			 * "=", and the word would otherwise be a command or hs -r's filter. Only
			 * the three words: anything else stays the next argument. */
			if (!optarg && optind < argc && color_word(argv[optind]) >= -1)
				optarg = argv[optind++];
			if (!optarg || strcmp(optarg, "auto") == 0)
				c.color = -1;
			else if (strcmp(optarg, "always") == 0)
				c.color = 1;
			else if (strcmp(optarg, "never") == 0)
				c.color = 0;
			else
				die(HS_EXIT_USAGE, "--color must be auto, always or never, not \"%s\"", optarg);
			c.no_color = c.color == 0;
			break;
		case L_LADDER: c.ladder = true; break;
		case L_ASCII: c.ascii = true; break;
		case L_PCAPNG: c.pcapng = true; break;
		case 'r':
			if (c.nread == HS_MAX_READ)
				die(HS_EXIT_USAGE, "-r takes at most %d captures (one from each end)", HS_MAX_READ);
			c.read_files[c.nread++] = optarg;
			break;
		case L_STATEDIR: c.state_dir = optarg; break;
		case L_SPORT: {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-' || *optarg == '+' || v < 1 || v > 65535)
				die(HS_EXIT_USAGE, "--sport must be 1..65535, not \"%s\"", optarg);
			c.sport = (uint16_t)v;
		}
			c.given |= O_SPORT;
			break;
		case L_MD5KEY: {
			char e[200];
			if (hs_md5_key_parse(optarg, &c.md5, e, sizeof(e)) < 0)
				die(HS_EXIT_USAGE, "--md5-key: %s", e);
			c.given |= O_MD5;
			break;
		}
		case L_ISN: c.isn = (uint32_t)parse_ulong("--isn", optarg, UINT32_MAX); c.have_isn = true; c.given |= O_ISN; break;
		case L_WINDOW: c.window = (uint16_t)parse_ulong("--window", optarg, 65535); c.given |= O_WINDOW; break;
		case L_OPT: {
			char *list = opt_take_md5_key(optarg, &c);
			int rc = hs_opt_spec_parse(list, &c.opts, err, sizeof(err));
			if (list != optarg)
				free(list);
			if (rc < 0)
				die(HS_EXIT_USAGE, "--opt: %s", err);
			c.have_opts = true;
			c.given |= O_OPT;
			break;
		}
		case L_SEND:
		case L_SENDHEX:
		case L_SENDFILE:
			add_send(&c, ch == L_SEND ? "--send" : ch == L_SENDHEX ? "--send-hex" : "--send-file", optarg);
			break;
		case L_SYNTIMEOUT:
			if (strcmp(optarg, "0") == 0)
				c.syn_timeout_ns = 0;
			else if (hs_seconds_parse(optarg, &c.syn_timeout_ns) < 0)
				die(HS_EXIT_USAGE, "--syn-timeout needs seconds > 0 (fractions allowed; 0: no limit), not \"%s\"",
				    optarg);
			c.given |= O_SYNTIMEOUT;
			break;
		case L_CLOSE: c.close = parse_close(optarg); c.given |= O_CLOSE; break;
		case L_TIMEOUT:
			if (hs_seconds_parse(optarg, &c.timeout_ns) < 0)
				die(HS_EXIT_USAGE, "--timeout needs seconds > 0 (fractions allowed), not \"%s\"", optarg);
			c.given |= O_TIMEOUT;
			break;
		case L_RETRIES: c.retries = (int)parse_ulong("--retries", optarg, 20); c.given |= O_RETRIES; break;
		case L_STEP: c.step = true; c.given |= O_STEP; break;
		case L_NOGUARD: c.no_guard = true; c.given |= O_NOGUARD; break;
		case L_TIMEWAIT:
			if (hs_seconds_parse(optarg, &c.time_wait_ns) < 0)
				die(HS_EXIT_USAGE, "--time-wait needs seconds > 0, not \"%s\"", optarg);
			c.given |= O_TIMEWAIT;
			break;
		case L_ACK:
			if (send_cmd) { /* hs send --ack N: the acknowledgment number */
				if (optind >= argc)
					die(HS_EXIT_USAGE, "option --ack needs a value (see hs send --help)");
				parse_num_opt("--ack", argv[optind++], &c.fields.ack);
				c.given |= O_CRAFT;
				break;
			}
			c.ack = true;
			c.given |= O_ACK;
			break;
		case L_WAIT: c.wait = true; c.given |= O_WAIT; break;
		case L_NOPROBE: c.no_probe = true; c.given |= O_NOPROBE; break;
		case L_RATE: {
			char *end;
			errno = 0;
			double r = strtod(optarg, &end);
			if (errno || *end || !*optarg || !(r > 0) || r > 10000000)
				die(HS_EXIT_USAGE, "--rate needs SYNs per second, a number > 0 (fractions allowed), not \"%s\"", optarg);
			c.rate = r;
			c.given |= O_RATE;
			break;
		}
		case L_SPORTRANGE: {
			unsigned long a, b;
			char *end, *end2 = (char *)"";
			errno = 0;
			a = strtoul(optarg, &end, 10);
			b = *end == '-' && end[1] >= '0' && end[1] <= '9' ? strtoul(end + 1, &end2, 10) : 0;
			if (errno || optarg[0] < '0' || optarg[0] > '9' || *end != '-' || end[1] < '0' || end[1] > '9' || *end2 ||
			    a < 1 || b > 65535 || a > b)
				die(HS_EXIT_USAGE, "--sport-range needs A-B, ports 1 <= A <= B <= 65535, not \"%s\"", optarg);
			c.sport_lo = (uint16_t)a;
			c.sport_hi = (uint16_t)b;
			c.given |= O_SPORTRANGE;
			break;
		}
		case L_NOCOOKIEPROBE: c.no_cookie_probe = true; c.given |= O_NOCOOKIEPROBE; break;
		case L_TFO: c.tfo = true; c.given |= O_TFO; break;
		case L_TFOCOOKIE: {
			/* RFC 7413 4.1.1: a cookie is 4 to 16 bytes */
			uint8_t buf[16];
			size_t len = sizeof(buf);
			const char *why = NULL;
			/* Linux takes only an even number of bytes (tcp_fastopen_cookie_check) */
			if (hs_payload_hex(optarg, buf, &len, &why) < 0 || len < 4 || len > 16 || len % 2)
				die(HS_EXIT_USAGE, "--tfo-cookie needs 4 to 16 bytes, an even number, in hex (8 to 32 hex "
				    "digits), not \"%s\"", optarg);
			memcpy(c.tfo_cookie, buf, len);
			c.tfo_cookie_len = (uint8_t)len;
			c.given |= O_TFOCOOKIE;
			break;
		}
		case L_SETTLE:
			if (hs_seconds_parse(optarg, &c.settle_ns) < 0)
				die(HS_EXIT_USAGE, "--settle needs seconds > 0 (fractions allowed), not \"%s\"", optarg);
			c.given |= O_SETTLE;
			break;
		case L_COUNT:
			c.count = (int)parse_ulong("--count", optarg, 1000000); /* connect's limit; others' below */
			c.count_arg = optarg;
			c.given |= O_COUNT;
			break;
		case L_FLAGS:
			if (hs_flags_parse(optarg, &c.fields.flags, err, sizeof(err)) < 0)
				die(HS_EXIT_USAGE, "--flags: %s", err);
			c.fields.have_flags = true;
			c.given |= O_CRAFT;
			break;
		case L_SEQ: parse_num_opt("--seq", optarg, &c.fields.seq); c.given |= O_CRAFT; break;
		case L_ACKNUM: parse_num_opt("--ack", optarg, &c.fields.ack); c.given |= O_CRAFT; break;
		case L_WIN:
			c.fields.win = (uint16_t)parse_ulong("--win", optarg, 65535);
			c.fields.have_win = true;
			c.given |= O_CRAFT;
			break;
		case L_URG:
			c.fields.urg = (uint16_t)parse_ulong("--urg", optarg, 65535);
			c.fields.have_urg = true;
			c.given |= O_CRAFT;
			break;
		case L_DATA:
		case L_DATAHEX:
		case L_DATAFILE:
			add_data(&c, ch == L_DATA ? "--data" : ch == L_DATAHEX ? "--data-hex" : "--data-file", optarg);
			break;
		case L_TTL:
		case L_HOPLIMIT:
			c.fields.ip.ttl = (uint8_t)parse_ulong(ch == L_TTL ? "--ttl" : "--hop-limit", optarg, 255);
			c.fields.ip.set_ttl = true;
			c.ip_ttl_opt = ch == L_TTL ? "--ttl" : "--hop-limit";
			c.given |= O_IPHDR;
			break;
		case L_FLOWLABEL:
			c.fields.ip.flow = (uint32_t)parse_ulong("--flow-label", optarg, 0xfffff);
			c.fields.ip.set_flow = true;
			c.given |= O_IPHDR;
			break;
		case L_TOS:
			c.fields.ip.tos = (uint8_t)parse_ulong("--tos", optarg, 255);
			c.fields.ip.set_tos = true;
			c.given |= O_CRAFT;
			break;
		case L_IPID:
			c.fields.ip.ip_id = (uint16_t)parse_ulong("--ip-id", optarg, 65535);
			c.fields.ip.set_ip_id = true;
			c.given |= O_CRAFT;
			break;
		case L_DF:
		case L_NODF:
			c.fields.ip.set_df = true;
			c.fields.ip.df = ch == L_DF;
			c.given |= O_CRAFT;
			break;
		case L_BADCSUM: c.fields.ip.bad_csum = true; c.given |= O_CRAFT; break;
		case L_EXPECT:
			if (hs_reaction_parse_list(optarg, &c.expect, err, sizeof(err)) < 0)
				die(HS_EXIT_USAGE, "--expect: %s", err);
			c.given |= O_EXPECT;
			break;
		case L_INTERVAL:
			if (hs_seconds_parse(optarg, &c.interval_ns) < 0)
				die(HS_EXIT_USAGE, "--interval needs seconds > 0 (fractions allowed), not \"%s\"", optarg);
			c.given |= O_INTERVAL;
			break;
		case L_TOLERANCE:
			c.tolerance_ns = (uint64_t)parse_ulong("--tolerance-usecs", optarg, 1000000000ul) * 1000u;
			c.given |= O_TOLERANCE;
			break;
		case ':':
			die(HS_EXIT_USAGE, "option %s needs a value (see hs --help)", argv[optind - 1]);
		default:
			if (optopt)
				die(HS_EXIT_USAGE, "unknown option -%c (see hs --help)", optopt);
			unknown_long_option(argv[optind - 1]);
		}
	}

	if (c.json && c.ladder)
		die(HS_EXIT_USAGE, "--json and --ladder are two views: choose one");
	if (c.pcapng && !c.pcap_out)
		die(HS_EXIT_USAGE, "--pcapng says what -w FILE writes: give -w FILE");
	if (c.pcap_out && (c.pcapng || ends_with(c.pcap_out, ".pcapng"))) {
		c.pcapng_out = c.pcap_out; /* events write it, with comments; not the capture */
		c.pcap_out = NULL;
	}
	if (c.nread > 0) {
		if (help) {
			help_begin();
			usage_read(stdout);
			return cli_exit_status(0);
		}
		unsigned extra = c.given & ~READ_ACCEPTS;
		if (extra)
			die(HS_EXIT_USAGE, "option %s does not apply to hs -r", option_name(extra & -extra));
		c.cmd = "read";
		c.args = argv + optind;
		c.nargs = argc - optind;
		return cmd_read(&c);
	}
	if (optind >= argc) {
		if (help) {
			help_begin();
			usage_all(stdout);
			return cli_exit_status(0);
		}
		die(HS_EXIT_USAGE, "no command given (" COMMAND_NAMES "; see hs --help)");
	}
	const struct command *cmd = find_command(argv[optind]);
	if (!cmd->fn) { /* hs help [COMMAND] */
		help_begin();
		if (help) { /* hs help --help: as hs COMMAND --help */
			usage_help(stdout);
			return cli_exit_status(0);
		}
		if (optind + 1 >= argc) {
			usage_all(stdout);
			return cli_exit_status(0);
		}
		if (optind + 2 < argc)
			die(HS_EXIT_USAGE, "hs help takes one command, not %d words", argc - optind - 1);
		const struct command *about = strcmp(argv[optind + 1], "read") == 0 ? NULL /* hs -r's help */
		                              : find_command(argv[optind + 1]);
		if (!about)
			usage_read(stdout);
		else if (!about->fn) /* hs help help: its own usage, not the options of every command */
			usage_help(stdout);
		else
			usage_cmd(about, stdout);
		return cli_exit_status(0);
	}
	if (help) {
		help_begin();
		usage_cmd(cmd, stdout);
		return cli_exit_status(0);
	}
	unsigned extra = c.given & ~cmd->accepts;
	if (extra)
		die(HS_EXIT_USAGE, "option %s does not apply to hs %s", option_name(extra & -extra), cmd->name);
	if ((c.given & O_COUNT) && cmd->fn != cmd_connect && c.count > 1000)
		die(HS_EXIT_USAGE, "--count needs a number from 0 to 1000, not \"%s\"", c.count_arg);
	if (c.close == CLOSE_NONE && !(cmd->fn == cmd_connect && (c.given & O_COUNT)))
		die(HS_EXIT_USAGE, "--close none leaves connections half-open: only with hs connect --count N");
	c.cmd = cmd->name;
	c.args = argv + optind + 1;
	c.nargs = argc - optind - 1;
	return cmd->fn(&c);
}
