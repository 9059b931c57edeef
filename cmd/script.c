/* hs script FILE [HOST PORT]: play a scenario script against a peer.
 *
 * The driver around the player (lib/play.c): it opens the capture, sender and guard
 * as the other commands do (a session without its TCB: hs sends exactly what the
 * script says and nothing else, no ACK, no retransmission), asks the player what is
 * due, sends it, runs commands, and gives it every segment the peer sends. Both
 * ends' states come from the observer (lib/observer.c), which learns them from what
 * passes on the wire -- hs's own segments included, as the capture sees them leave. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drive.h"
#include "hs/clock.h"
#include "hs/observer.h"
#include "hs/play.h"
#include "hs/random.h"
#include "hs/route.h"
#include "hs/script.h"
#include "hs/store.h"

#define SCRIPT_MAX_BYTES (4u << 20)  /* a script file larger than this is refused */
#define SENT_SLOTS 32
#define MAX_GROUPS 64                /* process groups of commands, stopped at the end */
#define SIDE_US HS_OBS_A
#define SIDE_PEER HS_OBS_B

/* A segment we sent, waiting for the capture's copy (its time on the wire, its place
 * among the peer's) to be shown, tagged with the line that sent it. */
struct sent {
	hs_segment seg;
	unsigned line;
	uint64_t sent_ns;
	bool shown;
};

struct run {
	struct drive d;
	const char *file;           /* as named in messages */
	hs_script script;
	hs_play play;
	hs_observer ob;
	bool ob_on;                 /* the observer knows both ends (server: after the SYN) */
	hs_endpoint local, remote;  /* remote.port 0 until the peer's SYN (server role) */
	bool server;
	struct sent sent[SENT_SLOTS];
	unsigned nsent;
	uint64_t last_t;
	hs_segment bad;             /* the peer's segment at fault */
	bool have_bad;
	pid_t groups[MAX_GROUPS];
	int ngroups;
	bool finishing;
};

static uint64_t rel_ns(const struct run *r, uint64_t mono)
{
	return mono > r->d.t0 ? mono - r->d.t0 : 0;
}

static void emit(struct run *r, hs_event *ev)
{
	if (ev->t_ns < r->last_t)
		ev->t_ns = r->last_t;
	r->last_t = ev->t_ns;
	hs_output_emit(&r->d.out, ev);
}

/* ---- reading the script ----------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		die(HS_EXIT_USAGE, "cannot read script %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		die(HS_EXIT_USAGE, "cannot read script %s: it is a directory", path);
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		die(HS_EXIT_ENV, "out of memory");
	for (;;) {
		if (n == cap) {
			if (cap >= SCRIPT_MAX_BYTES)
				die(HS_EXIT_USAGE, "script %s is larger than %u bytes", path, SCRIPT_MAX_BYTES);
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				die(HS_EXIT_ENV, "out of memory");
			buf = nb;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die(HS_EXIT_USAGE, "cannot read script %s: %s", path, strerror(errno));
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*len = n;
	return buf;
}

/* ---- output ------------------------------------------------------------------------- */

static void show_changes(struct run *r, const hs_obs_out *o, uint64_t ts)
{
	for (int i = 0; i < o->nchange; i++) {
		hs_event ev = { .type = HS_EV_STATE, .t_ns = rel_ns(r, ts), .change = o->change[i], .by_segment = true };
		/* hs is this end: what reached it, its capture saw arrive -- nothing assumed. */
		if (!ev.change.peer)
			ev.change.assumed = false;
		emit(r, &ev);
	}
}

/* A segment of the connection, taken by the observer (o NULL: not taken). */
static void show_segment(struct run *r, const hs_segment *seg, int from, uint64_t ts, const hs_obs_out *o,
                         unsigned line, const char *note_text, bool captured)
{
	hs_event ev;

	hs_observer_event(&r->ob, seg, from, o, &ev);
	ev.t_ns = rel_ns(r, ts);
	ev.note_text = note_text;
	ev.script_line = line;
	/* The datagram as captured, for the sinks (pcapng); else they encode seg. */
	if (captured && hs_capture_last_ip(r->d.s.cap, &ev.ip, &ev.ip_caplen, &ev.ip_len) < 0)
		ev.ip = NULL;
	emit(r, &ev);
	if (o)
		show_changes(r, o, ts);
}

static void info(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void info(struct run *r, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	hs_event ev = { .type = HS_EV_INFO, .t_ns = rel_ns(r, hs_now_ns()), .text = text };
	emit(r, &ev);
}

/* The observer starts once both ends are known: at once as the client, at the
 * peer's SYN as the server. */
static void observer_start(struct run *r)
{
	if (r->ob_on)
		return;
	r->ob_on = true;
	hs_observer_init(&r->ob, &r->local, &r->remote);
	hs_observer_iss(&r->ob, SIDE_US, r->play.our_isn);
	hs_event open = {
		.type = HS_EV_OPEN, .local = &r->local, .remote = &r->remote, .local_name = "us", .remote_name = "peer",
		.wall_t0_ns = r->d.s.wall_t0,
	};
	emit(r, &open);
}

/* Our segments whose copy the capture has not brought within HS_ECHO_WAIT_NS (all of
 * them when now is UINT64_MAX): shown at the time they were sent. */
static void show_overdue(struct run *r, uint64_t now)
{
	unsigned n = r->nsent < SENT_SLOTS ? r->nsent : SENT_SLOTS;
	unsigned first = r->nsent < SENT_SLOTS ? 0 : r->nsent % SENT_SLOTS;

	for (unsigned k = 0; k < n; k++) {
		struct sent *s = &r->sent[(first + k) % SENT_SLOTS];
		if (s->shown)
			continue;
		if (now != UINT64_MAX && now < s->sent_ns + HS_ECHO_WAIT_NS)
			break;
		s->shown = true;
		hs_obs_out o;
		hs_observer_segment(&r->ob, &s->seg, s->sent_ns, &o);
		show_segment(r, &s->seg, SIDE_US, s->sent_ns, &o, s->line, NULL, false);
	}
}

/* The line that sent a captured segment of ours (0: not one we sent -- the local
 * kernel's, without the guard). Earlier ones never seen are shown first. */
static unsigned ours(struct run *r, const hs_segment *seg)
{
	unsigned n = r->nsent < SENT_SLOTS ? r->nsent : SENT_SLOTS;
	unsigned first = r->nsent < SENT_SLOTS ? 0 : r->nsent % SENT_SLOTS;

	for (unsigned k = 0; k < n; k++) {
		struct sent *s = &r->sent[(first + k) % SENT_SLOTS];
		if (s->shown || s->seg.seq != seg->seq || s->seg.flags != seg->flags || s->seg.len != hs_seg_len(seg) ||
		    ((seg->flags & HS_ACK) && s->seg.ack != seg->ack))
			continue;
		s->shown = true;
		return s->line;
	}
	return 0;
}

/* ---- commands ------------------------------------------------------------------------ */

static void export_ends(const struct run *r)
{
	char a[HS_ENDPOINT_STRLEN], port[8];

	setenv("HS_LOCAL_IP", hs_addr_format(&r->local.addr, a, sizeof(a)), 1);
	snprintf(port, sizeof(port), "%u", r->local.port);
	setenv("HS_LOCAL_PORT", port, 1);
	setenv("HS_PEER_IP", hs_addr_format(&r->remote.addr, a, sizeof(a)), 1);
	snprintf(port, sizeof(port), "%u", r->remote.port);
	setenv("HS_PEER_PORT", port, 1);
}

/* Send sig to every process whose parent is hs: as a child subreaper
 * (PR_SET_CHILD_SUBREAPER), hs inherits what commands left running even when it
 * left their process group (setsid, a double fork). Returns how many there were. */
static int signal_children(int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t me = getpid();
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[k] = '\0';
		/* pid (comm) state ppid ...: comm may hold blanks and parentheses */
		char *rp = strrchr(buf, ')');
		char state;
		int ppid;
		if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || ppid != me || state == 'Z')
			continue;
		kill((pid_t)atoi(e->d_name), sig);
		n++;
	}
	closedir(d);
	return n;
}

/* Stop what commands left running (a server started with '&'): SIGTERM to each
 * process group and to every other descendant, SIGKILL to what is still there a
 * second later. */
static void stop_groups(struct run *r)
{
	for (int i = 0; i < r->ngroups; i++)
		kill(-r->groups[i], SIGTERM);
	signal_children(SIGTERM);
	uint64_t until = hs_now_ns() + 1000000000ull;
	for (;;) {
		bool left = false;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		for (int i = 0; i < r->ngroups; i++)
			if (kill(-r->groups[i], 0) == 0)
				left = true;
		if (signal_children(0) > 0)
			left = true;
		if (!left || hs_now_ns() > until)
			break;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < r->ngroups; i++)
		kill(-r->groups[i], SIGKILL);
	signal_children(SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	r->ngroups = 0;
}

/* Run one command line with /bin/sh -c, in its own process group, stdout to our
 * stderr. Returns 0, or -1 with why ("exited with status 2"). */
static int run_command(struct run *r, const char *cmd, char *why, size_t whylen)
{
	fflush(stdout);
	fflush(stderr);
	export_ends(r);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "cannot start it: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* both sides: whichever runs first */
	if (r->ngroups < MAX_GROUPS)
		r->groups[r->ngroups++] = pid;
	int status;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(why, whylen, "cannot wait for it: %s", strerror(errno));
			return -1;
		}
		if (hs_stop_signal) {
			snprintf(why, whylen, "interrupted");
			return -1;
		}
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(why, whylen, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, whylen, "ended with status %d", status);
	return -1;
}

/* ---- the end ------------------------------------------------------------------------ */

static const char *outcome_of(int fail)
{
	switch (fail) {
	case HS_PLAY_F_OK: return "passed";
	case HS_PLAY_F_MISMATCH: return "mismatch";
	case HS_PLAY_F_EARLY: return "early";
	case HS_PLAY_F_LATE: return "late";
	case HS_PLAY_F_UNEXPECTED: return "unexpected";
	case HS_PLAY_F_MISSING: return "timeout";
	case HS_PLAY_F_SHELL: return "command-failed";
	default: return "script-error";
	}
}

static void sniff(struct run *r, uint64_t deadline);

/* Show what is left, report, remove the guard, stop the commands' leftovers. */
static int finish(struct run *r, const char *outcome, int code, unsigned line, const char *text, const char *block)
{
	if (!r->finishing && r->d.s.cap) {
		r->finishing = true;
		sniff(r, 0);
	}
	show_overdue(r, UINT64_MAX);
	unsigned long drops = 0;
	char warn[160];
	if (r->d.s.cap && hs_capture_drops_text(r->d.s.cap, &drops, warn, sizeof(warn)))
		info(r, "%s", warn);
	hs_event ev = {
		.type = HS_EV_RESULT, .t_ns = rel_ns(r, hs_now_ns()), .text = text, .capture_drops = drops,
		.outcome = outcome, .exit_code = code, .local = &r->local, .remote = &r->remote,
		.final_state = r->ob.side[SIDE_US].state, .final_peer_state = r->ob.side[SIDE_PEER].state,
		.peer_assumed = r->ob.side[SIDE_PEER].assumed, .script_line = line,
	};
	emit(r, &ev);
	hs_output_close(&r->d.out);
	if (block && *block)
		fputs(block, stderr);
	hs_session_close(&r->d.s, false);
	hs_cleanup_session = NULL;
	stop_groups(r);
	hs_script_free(&r->script);
	return code;
}

static int finish_failed(struct run *r)
{
	char block[2048], head[600];
	const hs_scr_line *l = &r->script.line[r->play.fail_line];

	hs_play_failure_format(&r->play, r->file, r->have_bad ? &r->bad : NULL, block, sizeof(block));
	/* The first line is the result's message; the rest follows it on stderr. */
	const char *nl = strchr(block, '\n');
	size_t n = nl ? (size_t)(nl - block) : strlen(block);
	snprintf(head, sizeof(head), "%.*s", (int)n, block);
	return finish(r, outcome_of(r->play.fail), hs_play_exit_code(&r->play), l->lineno, head, nl ? nl + 1 : NULL);
}

static __attribute__((noreturn)) void interrupted(struct run *r)
{
	char text[160];
	const hs_scr_line *l = r->play.cur < r->script.n ? &r->script.line[r->play.cur] : NULL;
	if (l)
		snprintf(text, sizeof(text), "interrupted by %s at %s:%u", cli_signal_name(hs_stop_signal), r->file,
		         l->lineno);
	else
		snprintf(text, sizeof(text), "interrupted by %s", cli_signal_name(hs_stop_signal));
	exit(finish(r, "interrupted", 128 + hs_stop_signal, l ? l->lineno : 0, text, NULL));
}

static __attribute__((noreturn)) void failed(struct run *r, const char *what)
{
	exit(finish(r, "error", HS_EXIT_ENV, 0, what, NULL));
}

/* ---- the capture ------------------------------------------------------------------- */

static uint64_t held_deadline(const struct run *r)
{
	unsigned n = r->nsent < SENT_SLOTS ? r->nsent : SENT_SLOTS;
	uint64_t d = 0;

	for (unsigned i = 0; i < n; i++)
		if (!r->sent[i].shown && (!d || r->sent[i].sent_ns + HS_ECHO_WAIT_NS < d))
			d = r->sent[i].sent_ns + HS_ECHO_WAIT_NS;
	return d;
}

static bool same_ep(const hs_endpoint *a, const hs_endpoint *b)
{
	return hs_addr_equal(&a->addr, &b->addr) && a->port == b->port;
}

/* One segment of the connection. */
static void take(struct run *r, const hs_segment *seg, uint64_t ts)
{
	bool from_us = same_ep(&seg->src, &r->local);

	if (!from_us && !r->ob_on) {
		/* Server: the peer's first segment names its port (a SYN, or the script fails
		 * on whatever it is). */
		r->remote.port = seg->src.port;
		observer_start(r);
	}
	if (!r->ob_on)
		return;
	int from = hs_observer_sender(&r->ob, seg);
	if (from < 0)
		return; /* another connection to our listening port */
	if (seg->fragment || seg->csum_status == HS_CSUM_BAD) {
		show_segment(r, seg, from, ts, NULL, 0, seg->fragment ? "fragment-ignored" : "bad-checksum-ignored", true);
		return;
	}
	if (from == SIDE_US) {
		unsigned line = ours(r, seg);
		show_overdue(r, ts > HS_ECHO_WAIT_NS ? ts - HS_ECHO_WAIT_NS : 0);
		hs_obs_out o;
		hs_observer_segment(&r->ob, seg, ts, &o);
		if (o.copy)
			return;
		/* Not one hs sent: the local kernel's (without the guard, its RST). */
		show_segment(r, seg, from, ts, &o, line, line ? NULL : (seg->flags & HS_RST) ? "kernel-rst" : "not-hs",
		             true);
		return;
	}
	hs_obs_out o;
	hs_observer_segment(&r->ob, seg, ts, &o);
	if (o.copy)
		return; /* the same datagram on another interface of "any" */
	unsigned line = 0;
	bool was_failed = r->play.fail != HS_PLAY_F_OK;
	if (o.note != HS_NOTE_DUPLICATE) /* a network copy is not the peer's doing */
		line = hs_play_segment(&r->play, seg, rel_ns(r, ts));
	if (!line && r->play.fail && !r->have_bad) {
		r->bad = *seg;
		r->bad.payload = NULL; /* the capture's buffer: gone after the next packet */
		r->have_bad = true;
	}
	/* The segment that stopped the script carries its line and why. */
	bool culprit = !was_failed && r->play.fail != HS_PLAY_F_OK;
	show_segment(r, seg, from, ts, &o, culprit ? (unsigned)r->script.line[r->play.fail_line].lineno : line,
	             culprit ? outcome_of(r->play.fail) : NULL, true);
	if (!from_us && r->play.peer_isn_known && !(r->remote.port))
		r->remote.port = seg->src.port;
}

/* Take in captured packets until deadline (monotonic; 0: only what is there), or
 * until the script fails. */
static void sniff(struct run *r, uint64_t deadline)
{
	hs_packet pkt;
	uint64_t ts;
	char err[256];

	for (;;) {
		if (hs_stop_signal && !r->finishing)
			interrupted(r);
		uint64_t wake = deadline, held = held_deadline(r);
		if (held && (!deadline || held < deadline))
			wake = deadline ? held : 0;
		uint64_t quiet = hs_output_holding(&r->d.out) ? hs_now_ns() + HS_OUTPUT_IDLE_NS : 0;
		if (quiet && wake && quiet < wake)
			wake = quiet;
		int rc = hs_capture_next(r->d.s.cap, wake, &pkt, &ts, err, sizeof(err));
		if (rc == -2)
			continue;
		if (rc < 0) {
			if (r->finishing)
				return;
			failed(r, err);
		}
		if (rc == 0) {
			uint64_t now = hs_now_ns();
			if (quiet && now >= quiet)
				hs_output_idle(&r->d.out);
			show_overdue(r, now);
			if (deadline && now < deadline)
				continue;
			return;
		}
		if (pkt.kind == HS_PKT_ICMP) {
			hs_event ev = { .type = HS_EV_ICMP, .t_ns = rel_ns(r, ts), .icmp = &pkt.u.icmp };
			if (hs_capture_last_ip(r->d.s.cap, &ev.ip, &ev.ip_caplen, &ev.ip_len) < 0)
				ev.ip = NULL;
			emit(r, &ev);
			continue;
		}
		if (pkt.kind != HS_PKT_TCP)
			continue;
		size_t cur = r->play.cur;
		take(r, &pkt.u.tcp, ts);
		/* The player moved on (or failed): what is due next may have changed. */
		if (r->play.fail || (deadline && r->play.cur != cur))
			return;
	}
}

/* ---- the command ------------------------------------------------------------------- */

static void parse_args(struct run *r, char *host, size_t hostlen, uint16_t *port)
{
	struct cli *c = r->d.c;
	const char *why;
	const char *target = c->nargs >= 2 ? c->args[1] : r->script.target[0] ? r->script.target : NULL;

	if (c->nargs < 1)
		die(HS_EXIT_USAGE, "script needs a FILE (hs script FILE [HOST PORT])");
	if (c->nargs > 3)
		die(HS_EXIT_USAGE, "script takes FILE [HOST PORT], not \"%s\"", c->args[3]);
	if (!target)
		die(HS_EXIT_USAGE, "script %s names no peer: give HOST PORT (hs script FILE HOST PORT) or a "
		    "--target=HOST:PORT line in the file", r->file);
	*port = 0;
	if (hs_host_split(target, host, hostlen, port, &why) < 0)
		die(HS_EXIT_USAGE, "bad host \"%s\": %s", target, why);
	if (c->nargs == 3) {
		if (*port)
			die(HS_EXIT_USAGE, "the port is given twice, in \"%s\" and as \"%s\"", c->args[1], c->args[2]);
		if (hs_port_parse(c->args[2], port) < 0)
			die(HS_EXIT_USAGE, "bad port \"%s\": must be a number from 1 to 65535", c->args[2]);
	} else if (!*port) {
		die(HS_EXIT_USAGE, "script needs the peer's PORT (hs script FILE HOST PORT, or HOST:PORT)");
	}
}

int cmd_script(struct cli *c)
{
	struct run *r = calloc(1, sizeof(*r));
	char err[600], host[256];
	uint16_t port;
	size_t len;

	if (!r)
		die(HS_EXIT_ENV, "out of memory");
	r->d.c = c;
	r->d.t0 = hs_now_ns();
	r->d.keep_privs = true; /* commands run as the user who ran hs, with what it may do */
	/* What commands leave running becomes hs's to stop, wherever it went. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (c->nargs < 1)
		die(HS_EXIT_USAGE, "script needs a FILE (hs script FILE [HOST PORT])");
	r->file = c->args[0];
	char *text = slurp(r->file, &len);
	if (hs_script_parse(text, len, strcmp(r->file, "-") == 0 ? "(stdin)" : r->file, &r->script, err, sizeof(err)) < 0)
		die(HS_EXIT_USAGE, "%s", err);
	free(text);
	if (strcmp(r->file, "-") == 0)
		r->file = "(stdin)";
	if (c->given & O_TOLERANCE)
		for (size_t i = 0; i < r->script.n; i++)
			r->script.line[i].time.tol_ns = c->tolerance_ns;
	r->server = r->script.role == HS_SCR_ROLE_SERVER;
	if (r->server && (c->given & O_SPORT))
		die(HS_EXIT_USAGE, "--sport is for scripts where hs connects; this one listens on PORT");
	parse_args(r, host, sizeof(host), &port);

	cli_enter_netns(c);
	cli_output_init(c, &r->d.out);
	drive_route(&r->d, host, &r->remote, &r->local);
	r->remote.port = port;
	cli_state_dir(c, r->d.state_dir, sizeof(r->d.state_dir));
	cli_cleanup_stale_guards(r->d.state_dir);
	if (r->server) {
		/* Listening on PORT for HOST: the peer's port comes with its SYN. */
		r->local.port = port;
		r->remote.port = 0;
		if (hs_local_port_in_use(port, true))
			die(HS_EXIT_ENV, "port %u: the local kernel already listens on it (stop that program or choose "
			    "another port)", port);
		if (hs_store_local_in_use(r->d.state_dir, &r->local))
			die(HS_EXIT_USAGE, "port %u is in use by a kept connection (see hs ls)", port);
		if (hs_port_hold(&r->local) < 0 && errno == EADDRINUSE)
			die(HS_EXIT_USAGE, "port %u is in use by another running hs (or a socket bound to it)", port);
	} else {
		r->local.port = drive_source_port(&r->d, &r->local.addr);
	}
	hs_session_params p = {
		.local = r->local, .remote = r->remote, .capture_iface = c->iface ? c->iface : r->d.ifname,
		.pcap_out = c->pcap_out, .guard = !c->no_guard, .listen = r->server,
	};
	drive_open(&r->d, &p);

	uint32_t isn = c->have_isn ? c->isn : hs_random32();
	hs_play_init(&r->play, &r->script, isn, hs_random32(), (c->given & O_TIMEOUT) ? c->timeout_ns : 0);
	/* Time 0 is now, with the capture, sender and guard ready, as packetdrill's is its
	 * first event: the script's times do not include hs's start-up. */
	r->d.t0 = hs_now_ns();
	r->d.s.t0 = r->d.t0;
	r->d.s.wall_t0 = hs_wall_ns();
	if (!r->server)
		observer_start(r);
	char where[HS_ENDPOINT_STRLEN], peer[HS_ENDPOINT_STRLEN];
	hs_endpoint_format(&r->local, where, sizeof(where));
	if (r->server)
		info(r, "script %s: %zu lines, hs listens on %s for %s (capture on %s%s%s)", r->file, r->script.n, where,
		     hs_addr_format(&r->remote.addr, peer, sizeof(peer)), p.capture_iface,
		     r->d.s.guard.table[0] ? ", kernel RSTs blocked by nft table " : ", no guard", r->d.s.guard.table);
	else
		info(r, "script %s: %zu lines, hs connects from %s to %s (capture on %s%s%s)", r->file, r->script.n, where,
		     hs_endpoint_format(&r->remote, peer, sizeof(peer)), p.capture_iface,
		     r->d.s.guard.table[0] ? ", kernel RSTs blocked by nft table " : ", no guard", r->d.s.guard.table);

	for (;;) {
		/* What the capture already holds is judged before the clock is: a segment
		 * that came (while a command ran, say) is not "missing". */
		sniff(r, 0);
		uint64_t at, now = rel_ns(r, hs_now_ns());
		enum hs_play_do what = hs_play_next(&r->play, now, &at);
		switch (what) {
		case HS_PLAY_DONE:
			return finish(r, "passed", HS_EXIT_OK, 0, "the script ran to its end", NULL);
		case HS_PLAY_FAILED:
			return finish_failed(r);
		case HS_PLAY_SLEEP:
		case HS_PLAY_WAIT:
			sniff(r, r->d.t0 + at + 1);
			break;
		case HS_PLAY_SEND: {
			sniff(r, 0); /* what came before this line's time is judged first */
			if (r->play.fail)
				break;
			if (r->server && !r->remote.port) {
				snprintf(r->play.why, sizeof(r->play.why), "the peer's port is not known: no segment from it yet");
				r->play.fail = HS_PLAY_F_BUILD;
				r->play.fail_line = r->play.cur;
				break;
			}
			hs_tx tx;
			uint64_t before = hs_now_ns();
			if (hs_play_build(&r->play, rel_ns(r, before), &tx) < 0)
				break;
			unsigned line = r->script.line[r->play.cur].lineno;
			uint64_t late = rel_ns(r, before) - at, tol = r->script.line[r->play.cur].time.tol_ns;
			if (rel_ns(r, before) > at && late > tol)
				info(r, "line %u goes out %" PRIu64 ".%03" PRIu64 " s after its time (what came before took "
				     "longer)", line, late / 1000000000u, late % 1000000000u / 1000000u);
			/* The slot about to be reused must have been shown. */
			if (r->nsent >= SENT_SLOTS && !r->sent[r->nsent % SENT_SLOTS].shown)
				show_overdue(r, UINT64_MAX);
			struct sent *s = &r->sent[r->nsent++ % SENT_SLOTS];
			memset(s, 0, sizeof(*s));
			s->line = line;
			s->seg.src = r->local;
			s->seg.dst = r->remote;
			s->seg.seq = tx.seq;
			s->seg.ack = tx.ack;
			s->seg.flags = tx.flags;
			s->seg.win = tx.win;
			s->seg.urp = tx.urp;
			s->seg.ttl = tx.ip.set_ttl ? tx.ip.ttl : 64;
			s->seg.len = tx.len;
			s->seg.payload = tx.data;
			const char *oe = NULL;
			if (tx.opt_len && hs_opts_decode(tx.opts, tx.opt_len, &s->seg.opts, &oe) < 0)
				memset(&s->seg.opts, 0, sizeof(s->seg.opts));
			s->seg.csum = hs_tx_checksum(&r->local, &r->remote, &tx);
			s->seg.csum_status = tx.ip.bad_csum ? HS_CSUM_BAD : HS_CSUM_OK;
			if (hs_sender_send(r->d.s.snd, &r->local, &r->remote, &tx, err, sizeof(err)) < 0) {
				char msg[700];
				snprintf(msg, sizeof(msg), "%s:%u: cannot send: %s", r->file, line, err);
				failed(r, msg);
			}
			s->sent_ns = hs_now_ns();
			if (c->pcap_out) {
				static uint8_t ip[60 + HS_OPT_MAXLEN + 65536];
				int n = hs_segment_encode_ip(&r->local, &r->remote, &tx, ip, sizeof(ip));
				if (n > 0)
					hs_capture_dump_ip(r->d.s.cap, ip, (size_t)n);
			}
			hs_play_done(&r->play, rel_ns(r, before), &tx);
			break;
		}
		case HS_PLAY_SHELL: {
			sniff(r, 0);
			if (r->play.fail)
				break;
			const hs_scr_line *l = &r->script.line[r->play.cur];
			char why[200];
			hs_output_idle(&r->d.out); /* everything so far shown before the command speaks */
			fflush(NULL);
			if (run_command(r, l->text, why, sizeof(why)) < 0) {
				if (hs_stop_signal)
					interrupted(r);
				hs_play_shell_failed(&r->play, rel_ns(r, hs_now_ns()), why);
			} else {
				hs_play_done(&r->play, rel_ns(r, hs_now_ns()), NULL);
			}
			break;
		}
		}
	}
}
