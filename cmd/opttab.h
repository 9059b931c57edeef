/* The options of hs, declared once: getopt's tables, the "does not apply" names,
 * the completions (hs --complete-table) and the help check all come from
 * hs_options[]. */
#ifndef HS_CMD_OPTTAB_H
#define HS_CMD_OPTTAB_H
#include <getopt.h>
#include <stdio.h>

/* What getopt_long returns for an option without a short letter. */
enum {
	L_NETNS = 256, L_JSON, L_NOCOLOR, L_STATEDIR, L_SPORT, L_ISN, L_WINDOW, L_OPT, L_SEND,
	L_CLOSE, L_TIMEOUT, L_RETRIES, L_STEP, L_NOGUARD, L_TIMEWAIT, L_ACK, L_WAIT, L_COUNT, L_SETTLE,
	L_SENDHEX, L_SENDFILE, L_SYNTIMEOUT,
	L_FLAGS, L_SEQ, L_ACKNUM, L_WIN, L_URG, L_DATA, L_DATAHEX, L_DATAFILE, L_TTL, L_TOS, L_IPID, L_DF,
	L_NODF, L_BADCSUM, L_HOPLIMIT, L_FLOWLABEL, L_EXPECT, L_INTERVAL, L_LADDER, L_ASCII, L_COLOR, L_PCAPNG, L_TOLERANCE,
	L_TFO, L_TFOCOOKIE,
	L_MD5KEY, L_COMPLETE_TABLE, L_NOPROBE, L_RATE, L_SPORTRANGE, L_NOCOOKIEPROBE,
};

/* What a value is, for the completions. */
enum hs_optval {
	V_NONE, V_FILE, V_DIR, V_IFACE, V_NETNS, V_CLOSE, V_OPTKIND, V_CONN, V_NUMBER, V_SECONDS, V_TEXT,
	V_HEX, V_COLOR, V_EXPECT, V_FLAGS,
};

enum {
	OF_ALIAS = 1,   /* another spelling: parsed, not offered (--colour, --tolerance_usecs) */
	OF_HIDDEN = 2,  /* parsed, neither offered nor listed (--complete-table) */
	OF_SEND = 4,    /* this spelling is hs send's (--ack N); another command's is another row */
	OF_TOP = 8,     /* offered before a command and in hs -r only: -r makes the run a capture
	                 * read whatever command is given, so a command's completion leaves it out */
};

struct hs_optdef {
	const char *name;       /* long name without "--", or NULL */
	char shortopt;          /* the letter, or 0 */
	int has_arg;            /* no_argument, required_argument, optional_argument */
	int id;                 /* what getopt_long returns: the letter or an L_* */
	unsigned bit;           /* O_* bit; 0: an option of every command */
	enum hs_optval value;
	const char *arg;        /* the value's name in help (N, SEC, FILE) */
	const char *help;       /* one line */
	unsigned flags;         /* OF_* */
};

extern const struct hs_optdef hs_options[];
extern const unsigned hs_noptions;

/* getopt_long's long options and short-option string, built from hs_options[] once. */
const struct option *hs_long_options(void);
const char *hs_short_options(void);
/* What getopt_long returned for a short option, as the row's id (-j: L_JSON). */
int hs_option_id(int ch);
/* The options setting bit, as "--send/--send-hex/--send-file" (static buffer). */
const char *hs_option_name(unsigned bit);
/* The name of a value kind in the completion table ("file", "iface", ...). */
const char *hs_optval_name(enum hs_optval v);
#endif
