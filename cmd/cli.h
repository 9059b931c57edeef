/* The command line: options of every subcommand, the dispatch table, die(). */
#ifndef HS_CMD_CLI_H
#define HS_CMD_CLI_H
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include "hs/notation.h"
#include "hs/opts.h"
#include "hs/output.h"
#include "hs/session.h"
#include "hs/md5sig.h"

#define HS_MAX_SEND 32
#define HS_MAX_READ 2   /* -r FILE: one capture, or one from each end */

/* CLOSE_NONE: hs connect --count only: never answer the SYN,ACK (half-open). */
enum close_mode { CLOSE_KEEP = 0, CLOSE_FIN, CLOSE_WAIT, CLOSE_RST, CLOSE_NONE };

/* Bits naming each option, to check which subcommand accepts it. */
enum {
	O_SPORT = 1u << 0, O_ISN = 1u << 1, O_WINDOW = 1u << 2, O_OPT = 1u << 3,
	O_SEND = 1u << 4, O_CLOSE = 1u << 5, O_TIMEOUT = 1u << 6, O_RETRIES = 1u << 7,
	O_STEP = 1u << 8, O_NOGUARD = 1u << 9, O_TIMEWAIT = 1u << 10, O_ACK = 1u << 11,
	O_WAIT = 1u << 12, O_COUNT = 1u << 13, O_HEX = 1u << 14, O_SETTLE = 1u << 15,
	O_SYNTIMEOUT = 1u << 16, O_CRAFT = 1u << 17, O_EXPECT = 1u << 18, O_INTERVAL = 1u << 19,
	O_DATA = 1u << 20, O_TOLERANCE = 1u << 21,
	O_TFO = 1u << 22, O_TFOCOOKIE = 1u << 23, /* RFC 7413: connect --tfo, listen --tfo-cookie */
	O_IPHDR = 1u << 24, /* --ttl, --hop-limit, --flow-label: on every segment hs sends */
	O_MD5 = 1u << 25, /* --md5-key: RFC 2385 signatures */
	O_NOPROBE = 1u << 26, /* ls --no-probe: no traffic, nothing removed (completions) */
	O_RATE = 1u << 27, O_SPORTRANGE = 1u << 28, O_NOCOOKIEPROBE = 1u << 29, /* connect --count */
};

/* One --send, --send-hex or --send-file, decoded; the bytes live until exit (the
 * TCB keeps pointers to them). */
struct send_data {
	const uint8_t *p;
	uint32_t len;
};

struct cli {
	const char *cmd;
	char **args;
	int nargs;
	unsigned given;                 /* O_* bits the user set */

	/* every command */
	const char *iface, *netns, *pcap_out, *state_dir;
	bool json, quiet, no_color;
	int verbose;
	bool ladder, ascii, pcapng;     /* --ladder, --ascii, --pcapng */
	int color;                      /* --color: -1 auto (default), 0 never, 1 always */
	const char *pcapng_out;         /* -w FILE.pcapng / --pcapng: then pcap_out is NULL */
	const char *read_files[HS_MAX_READ]; /* -r FILE (each "-": stdin, once) */
	int nread;

	/* connect / listen / fin / rst */
	uint16_t sport;                 /* 0 = pick */
	uint32_t isn;
	bool have_isn;
	uint16_t window;
	hs_opt_spec opts;
	bool have_opts;
	struct send_data send[HS_MAX_SEND]; /* in command-line order */
	int nsend;
	enum close_mode close;
	uint64_t timeout_ns;
	uint64_t syn_timeout_ns;        /* listen --syn-timeout (0: wait until interrupted) */
	int retries;
	bool step, no_guard, ack, wait, hex;
	bool no_probe;                  /* ls --no-probe */
	uint64_t time_wait_ns;
	uint64_t settle_ns;         /* --settle: take in the peer's segments this long before deciding */
	int count;
	const char *count_arg;      /* as given (--count's limit depends on the command) */
	/* connect --count: --rate (SYNs/s, 0: as fast as the pool allows), --sport-range,
	 * --no-cookie-probe */
	double rate;
	uint16_t sport_lo, sport_hi;
	bool no_cookie_probe;
	/* RFC 7413 Fast Open: connect --tfo (the cookie saved for the peer), listen
	 * --tfo-cookie HEX (the cookie it hands out and accepts) */
	bool tfo;
	uint8_t tfo_cookie[16];
	uint8_t tfo_cookie_len;

	/* send: the segment's fields from options (a SEGMENT argument is merged under them) */
	hs_seg_spec fields;
	const char *ip_ttl_opt;     /* "--ttl" or "--hop-limit", whichever set fields.ip.ttl */
	struct send_data data;          /* --data, --data-hex or --data-file */
	bool have_data;
	unsigned expect;                /* --expect: bits 1 << enum hs_reaction (0: none given) */
	uint64_t interval_ns;           /* --interval between probes (--count) */

	/* script */
	hs_md5_key md5;                 /* --md5-key (len 0: none) */
	uint64_t tolerance_ns;          /* --tolerance-usecs (overrides the file's) */
};

/* The flag set by SIGINT/SIGTERM, and which one it was. */
extern volatile sig_atomic_t hs_stop_signal;

/* The session whose guard must go when die() is called (NULL if none). */
extern hs_session *hs_cleanup_session;
extern hs_output *hs_out;

/* Print "hs: MESSAGE" on stderr (and the JSON result line with --json), remove the
 * guard of hs_cleanup_session, exit with code. The only exit path on errors. */
void die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* Subcommands: each gets the parsed command line and returns the exit status. */
int cmd_connect(struct cli *c);
/* hs connect --count N: many handshakes (cmd/count.c). */
int cmd_connect_count(struct cli *c, const char *host, const hs_endpoint *remote);
int cmd_listen(struct cli *c);
int cmd_fin(struct cli *c);
int cmd_rst(struct cli *c);
int cmd_ls(struct cli *c);
int cmd_send(struct cli *c);
/* hs script FILE [HOST PORT]: play a scenario script against a peer. */
int cmd_script(struct cli *c);
/* hs -r FILE [-r FILE] [FILTER]: re-render the TCP connections of captures. */
int cmd_read(struct cli *c);
/* hs rst / hs fin A:PORT B:PORT: a live connection between two other endpoints. */
int cmd_live(struct cli *c, bool fin);
/* Two arguments that both parse as ADDR:PORT: a live connection, not a kept one. */
bool cli_is_live_pair(const struct cli *c);

/* Shared by the drivers. */
/* Catch every signal that would end hs (INT TERM HUP PIPE QUIT USR1 USR2 ALRM XCPU
 * XFSZ ...): each one sets hs_stop_signal. Done first thing in hs_main (again: a
 * no-op). Signals the parent ignores stay ignored; ones it blocked are unblocked. */
void cli_install_signals(void);
/* A stop signal already came: die with 128+N (result line, stderr line). */
void cli_check_stop(void);
/* main()'s exit status from the command's: a success whose output could not be
 * written (stdout closed or full) is not one (128+SIGPIPE, or 4 with a message). */
int cli_exit_status(int rc);
/* "SIGINT", "SIGTERM", ... for messages. */
const char *cli_signal_name(int sig);
void cli_enter_netns(const struct cli *c);
void cli_output_init(const struct cli *c, hs_output *o);
/* -w -: the pcap goes to stdout (and hs's human or JSON lines to stderr). */
bool cli_pcap_to_stdout(const struct cli *c);
const char *cli_state_dir(const struct cli *c, char *buf, size_t len);
/* Remove guard tables left by dead hs processes that no kept connection names. */
void cli_cleanup_stale_guards(const char *state_dir);
/* -i: "any" (capture on every interface, sending routed) or an existing
 * interface; dies otherwise. Returns true for "any". */
bool cli_check_iface(const struct cli *c);
/* Exit status for a session open failure message, from the error text. */
int hs_main(int argc, char **argv);

#endif
