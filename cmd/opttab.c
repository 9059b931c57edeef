/* The one table of hs's options (see opttab.h). Every spelling that ever worked
 * stays a row; OF_ALIAS rows are parsed but not offered. */
#include <config.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "opttab.h"

#define NO no_argument
#define REQ required_argument
#define OPT optional_argument

const struct hs_optdef hs_options[] = {
	/* every command */
	{ "help", 'h', NO, 'h', 0, V_NONE, NULL, "this help (also: hs help [COMMAND])", 0 },
	{ "version", 'V', NO, 'V', 0, V_NONE, NULL, "the version", 0 },
	{ "interface", 'i', REQ, 'i', 0, V_IFACE, "IFACE", "interface to capture on (any: every one)", 0 },
	{ "netns", 0, REQ, L_NETNS, 0, V_NETNS, "NAME", "run inside network namespace NAME", 0 },
	{ "json", 'j', NO, L_JSON, 0, V_NONE, NULL, "one JSON object per line on stdout", 0 },
	{ NULL, 'n', NO, 'n', 0, V_NONE, NULL, "numeric output (accepted; names are never resolved)", 0 },
	{ "write", 'w', REQ, 'w', 0, V_FILE, "FILE", "write every segment to a pcap or pcapng file", 0 },
	{ "read", 'r', REQ, 'r', 0, V_FILE, "FILE", "re-read a capture (pcap or pcapng)", OF_TOP },
	{ "quiet", 'q', NO, 'q', 0, V_NONE, NULL, "quieter", 0 },
	{ "verbose", 'v', NO, 'v', 0, V_NONE, NULL, "more detail", 0 },
	{ "hex", 'x', NO, 'x', O_HEX, V_NONE, NULL, "show payload as hex", 0 },
	{ "color", 0, OPT, L_COLOR, 0, V_COLOR, "WHEN", "auto, always or never", 0 },
	{ "colour", 0, OPT, L_COLOR, 0, V_COLOR, "WHEN", "as --color", OF_ALIAS },
	{ "no-color", 0, NO, L_NOCOLOR, 0, V_NONE, NULL, "as --color=never", 0 },
	{ "ladder", 0, NO, L_LADDER, 0, V_NONE, NULL, "draw a ladder diagram", 0 },
	{ "ascii", 0, NO, L_ASCII, 0, V_NONE, NULL, "ladder without box drawing", 0 },
	{ "pcapng", 0, NO, L_PCAPNG, 0, V_NONE, NULL, "-w writes pcapng with comments", 0 },
	{ "state-dir", 0, REQ, L_STATEDIR, 0, V_DIR, "DIR", "store of kept connections", 0 },
	{ "complete-table", 0, NO, L_COMPLETE_TABLE, 0, V_NONE, NULL, "print this table", OF_HIDDEN },
	/* the handshake's segments */
	{ "sport", 0, REQ, L_SPORT, O_SPORT, V_NUMBER, "N", "source port", 0 },
	{ "isn", 0, REQ, L_ISN, O_ISN, V_NUMBER, "N", "initial sequence number", 0 },
	{ "window", 0, REQ, L_WINDOW, O_WINDOW, V_NUMBER, "N", "receive window to advertise", 0 },
	{ "opt", 0, REQ, L_OPT, O_OPT, V_OPTKIND, "LIST", "TCP options, e.g. mss=1460,sack,ts,nop,wscale=7", 0 },
	{ "md5-key", 0, REQ, L_MD5KEY, O_MD5, V_TEXT, "KEY", "TCP-MD5 (RFC 2385) key", 0 },
	{ "send", 0, REQ, L_SEND, O_SEND, V_TEXT, "DATA", "send DATA (C escapes)", 0 },
	{ "send-hex", 0, REQ, L_SENDHEX, O_SEND, V_HEX, "HEX", "send the bytes HEX spells", 0 },
	{ "send-file", 0, REQ, L_SENDFILE, O_SEND, V_FILE, "FILE", "send the contents of FILE", 0 },
	{ "syn-timeout", 0, REQ, L_SYNTIMEOUT, O_SYNTIMEOUT, V_SECONDS, "SEC", "wait this long for the SYN", 0 },
	{ "no-probe", 0, NO, L_NOPROBE, O_NOPROBE, V_NONE, NULL, "list the records only: no probe sent, nothing removed", 0 },
	{ "close", 0, REQ, L_CLOSE, O_CLOSE, V_CLOSE, "MODE", "keep, fin, wait, rst (none: connect --count)", 0 },
	{ "timeout", 0, REQ, L_TIMEOUT, O_TIMEOUT, V_SECONDS, "SEC", "wait per reply", 0 },
	{ "retries", 0, REQ, L_RETRIES, O_RETRIES, V_NUMBER, "N", "retransmissions", 0 },
	{ "step", 0, NO, L_STEP, O_STEP, V_NONE, NULL, "wait for Enter before each segment sent", 0 },
	{ "no-guard", 0, NO, L_NOGUARD, O_NOGUARD, V_NONE, NULL, "no nft rule against the kernel's RSTs", 0 },
	{ "time-wait", 0, REQ, L_TIMEWAIT, O_TIMEWAIT, V_SECONDS, "SEC", "TIME-WAIT length", 0 },
	{ "ack", 0, NO, L_ACK, O_ACK, V_NONE, NULL, "RST,ACK instead of RST", 0 },
	{ "ack", 0, REQ, L_ACKNUM, O_CRAFT, V_NUMBER, "N", "acknowledgment number", OF_SEND },
	{ "wait", 0, NO, L_WAIT, O_WAIT, V_NONE, NULL, "passive close: the peer's FIN first", 0 },
	{ "count", 0, REQ, L_COUNT, O_COUNT, V_NUMBER, "N", "rounds / repetitions; connect: handshakes", 0 },
	{ "rate", 0, REQ, L_RATE, O_RATE, V_NUMBER, "R", "connect --count: SYNs per second", 0 },
	{ "sport-range", 0, REQ, L_SPORTRANGE, O_SPORTRANGE, V_TEXT, "A-B", "connect --count: source ports", 0 },
	{ "no-cookie-probe", 0, NO, L_NOCOOKIEPROBE, O_NOCOOKIEPROBE, V_NONE, NULL, "connect --count: no SYN-cookie probe", 0 },
	{ "settle", 0, REQ, L_SETTLE, O_SETTLE, V_SECONDS, "SEC", "take in the peer's segments first", 0 },
	{ "tfo", 0, NO, L_TFO, O_TFO, V_NONE, NULL, "TCP Fast Open with the saved cookie", 0 },
	{ "tfo-cookie", 0, REQ, L_TFOCOOKIE, O_TFOCOOKIE, V_HEX, "HEX", "Fast Open cookie to hand out", 0 },
	{ "ttl", 0, REQ, L_TTL, O_IPHDR, V_NUMBER, "N", "IPv4 TTL", 0 },
	{ "hop-limit", 0, REQ, L_HOPLIMIT, O_IPHDR, V_NUMBER, "N", "IPv6 hop limit", 0 },
	{ "flow-label", 0, REQ, L_FLOWLABEL, O_IPHDR, V_NUMBER, "N", "IPv6 flow label", 0 },
	/* hs send's segment fields */
	{ "flags", 0, REQ, L_FLAGS, O_CRAFT, V_FLAGS, "F", "TCP flags", 0 },
	{ "seq", 0, REQ, L_SEQ, O_CRAFT, V_NUMBER, "N", "sequence number", 0 },
	{ "win", 0, REQ, L_WIN, O_CRAFT, V_NUMBER, "N", "window field", 0 },
	{ "urg", 0, REQ, L_URG, O_CRAFT, V_NUMBER, "N", "urgent pointer", 0 },
	{ "tos", 0, REQ, L_TOS, O_CRAFT, V_NUMBER, "N", "IPv4 TOS", 0 },
	{ "ip-id", 0, REQ, L_IPID, O_CRAFT, V_NUMBER, "N", "IPv4 ID", 0 },
	{ "df", 0, NO, L_DF, O_CRAFT, V_NONE, NULL, "set Don't Fragment", 0 },
	{ "no-df", 0, NO, L_NODF, O_CRAFT, V_NONE, NULL, "clear Don't Fragment", 0 },
	{ "bad-checksum", 0, NO, L_BADCSUM, O_CRAFT, V_NONE, NULL, "a wrong TCP checksum", 0 },
	{ "data", 0, REQ, L_DATA, O_DATA, V_TEXT, "STR", "payload (C escapes)", 0 },
	{ "data-hex", 0, REQ, L_DATAHEX, O_DATA, V_HEX, "HEX", "payload in hex", 0 },
	{ "data-file", 0, REQ, L_DATAFILE, O_DATA, V_FILE, "FILE", "payload from FILE", 0 },
	{ "expect", 0, REQ, L_EXPECT, O_EXPECT, V_EXPECT, "LIST", "reactions that mean success", 0 },
	{ "interval", 0, REQ, L_INTERVAL, O_INTERVAL, V_SECONDS, "SEC", "between repetitions", 0 },
	/* hs script */
	{ "tolerance-usecs", 0, REQ, L_TOLERANCE, O_TOLERANCE, V_NUMBER, "N", "timing tolerance", 0 },
	{ "tolerance_usecs", 0, REQ, L_TOLERANCE, O_TOLERANCE, V_NUMBER, "N", "packetdrill's spelling", OF_ALIAS },
};
const unsigned hs_noptions = sizeof(hs_options) / sizeof(hs_options[0]);

const struct option *hs_long_options(void)
{
	static struct option longs[sizeof(hs_options) / sizeof(hs_options[0]) + 1];
	static bool built;

	if (!built) {
		unsigned n = 0;
		for (unsigned i = 0; i < hs_noptions; i++)
			if (hs_options[i].name && !(hs_options[i].flags & OF_SEND)) /* send --ack: see hs_main */
				longs[n++] = (struct option){ hs_options[i].name, hs_options[i].has_arg, NULL,
				                              hs_options[i].id };
		built = true;
	}
	return longs;
}

const char *hs_short_options(void)
{
	/* ":" first: a missing value is reported as such, not as an unknown option */
	static char s[2 + 3 * sizeof(hs_options) / sizeof(hs_options[0])];

	if (!s[0]) {
		size_t n = 0;
		s[n++] = ':';
		for (unsigned i = 0; i < hs_noptions; i++) {
			if (!hs_options[i].shortopt)
				continue;
			s[n++] = hs_options[i].shortopt;
			if (hs_options[i].has_arg != no_argument)
				s[n++] = ':';
			if (hs_options[i].has_arg == optional_argument)
				s[n++] = ':';
		}
		s[n] = '\0';
	}
	return s;
}

const char *hs_option_name(unsigned bit)
{
	static char buf[256];
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < hs_noptions; i++) {
		const struct hs_optdef *o = &hs_options[i];
		if (o->bit != bit || (o->flags & (OF_ALIAS | OF_HIDDEN)))
			continue;
		int w = o->name ? snprintf(buf + n, sizeof(buf) - n, "%s--%s", n ? "/" : "", o->name)
		                : snprintf(buf + n, sizeof(buf) - n, "%s-%c", n ? "/" : "", o->shortopt);
		if (w < 0 || (size_t)w >= sizeof(buf) - n)
			break;
		n += (size_t)w;
	}
	/* -x is the one O_* option known by its letter */
	if (bit == O_HEX)
		return "-x";
	return n ? buf : "?";
}

const char *hs_optval_name(enum hs_optval v)
{
	static const char *const names[] = {
		[V_NONE] = "-", [V_FILE] = "file", [V_DIR] = "dir", [V_IFACE] = "iface", [V_NETNS] = "netns",
		[V_CLOSE] = "close", [V_OPTKIND] = "opt", [V_CONN] = "conn", [V_NUMBER] = "number",
		[V_SECONDS] = "seconds", [V_TEXT] = "text", [V_HEX] = "hex", [V_COLOR] = "color",
		[V_EXPECT] = "expect", [V_FLAGS] = "flags",
	};
	return names[v];
}

int hs_option_id(int ch)
{
	for (unsigned i = 0; i < hs_noptions; i++)
		if (ch > 0 && ch < 128 && hs_options[i].shortopt == ch)
			return hs_options[i].id;
	return ch;
}
