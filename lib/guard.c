/* The RST guard, through libnftables: one table per guard, "table inet hs_<pid>_<n>",
 * holding one input chain at priority -300 (before conntrack) with one drop rule.
 * Every change is a single nft batch, so the kernel applies it whole or not at all. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "hs/guard.h"

/* Longest nft batch we build: three commands with two addresses and comments each. */
#define GUARD_CMDLEN 1024
/* nft refuses comments longer than this. */
#define GUARD_COMMENT_MAX 128

/* Guards made by this process so far: the <n> of hs_<pid>_<n>. */
static unsigned guard_counter;

/* Why an nft command failed, in a form a user can act on. */
struct nft_failure {
	char msg[200];
	bool eperm;   /* missing CAP_NET_ADMIN */
	bool enoent;  /* the table (or chain) does not exist */
	bool eexist;  /* the table already exists */
};

/* One libnftables context for the process: a new one per command cost a netlink
 * socket, its cache and the symbol tables each time (stale-guard cleanup, install
 * and removal are three commands per run). Its buffers are reset each time they
 * are read, so each command's output and errors are its own. Never freed: hs exits. */
static struct nft_ctx *nft_open(void)
{
	static struct nft_ctx *shared;

	if (shared)
		return shared;
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return NULL;
	/* Buffered, so that nothing of nft's ever reaches our stdout/stderr. */
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		nft_ctx_free(ctx);
		return NULL;
	}
	return shared = ctx;
}

/* nft's error buffer starts "Error: Could not process rule: File exists" or
 * "/dev/stdin:1:5-9: Error: ..." and goes on with the command and carets; keep the
 * reason from the first line that says "Error:". */
static void nft_failure_from_text(const char *text, int saved_errno, struct nft_failure *f)
{
	static const char *const prefixes[] = { "Could not process rule: ", "cache initialization failed: " };
	const char *line = text ? text : "";
	const char *reason = NULL;

	memset(f, 0, sizeof(*f));
	while (*line && !reason) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		const char *e = memmem(line, n, "Error: ", 7);

		if (e) {
			reason = e + 7;
			for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
				size_t pl = strlen(prefixes[i]);
				const char *p = memmem(reason, (size_t)(line + n - reason), prefixes[i], pl);
				if (p)
					reason = p + pl;
			}
			snprintf(f->msg, sizeof(f->msg), "%.*s", (int)(line + n - reason), reason);
		}
		line = eol ? eol + 1 : line + n;
	}
	if (!reason) {
		/* No "Error:" line: use the first line, or errno as the last resort. */
		const char *t = text ? text : "";
		size_t n = strcspn(t, "\n");
		if (n)
			snprintf(f->msg, sizeof(f->msg), "%.*s", (int)n, t);
		else
			snprintf(f->msg, sizeof(f->msg), "%s", strerror(saved_errno ? saved_errno : EIO));
	}
	f->eperm = strstr(f->msg, strerror(EPERM)) != NULL || (!reason && saved_errno == EPERM);
	f->enoent = strstr(f->msg, strerror(ENOENT)) != NULL;
	f->eexist = strstr(f->msg, strerror(EEXIST)) != NULL;
}

/* libnftables 1.0 prints some errors (e.g. "Operation not permitted (you must be
 * root)") straight to fd 2, past the error buffer: point fd 2 at /dev/null while it
 * runs. hs is single-threaded, so nothing else writes meanwhile. Returns the saved
 * fd, or -1 when nothing was changed. */
static int stderr_silence(void)
{
	int saved, null;

	fflush(stderr);
	saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved < 0)
		return -1;
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDERR_FILENO) < 0) {
		if (null >= 0)
			close(null);
		close(saved);
		return -1;
	}
	close(null);
	return saved;
}

static void stderr_restore(int saved)
{
	if (saved < 0)
		return;
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* Run one batch. Returns 0, or -1 with *f filled. On success, if out is non-NULL,
 * *out receives the context: its output buffer holds what the command printed until
 * the next command runs. */
static int nft_exec(const char *cmd, struct nft_failure *f, struct nft_ctx **out)
{
	struct nft_ctx *ctx = nft_open();
	int rc, saved_errno;

	memset(f, 0, sizeof(*f));
	if (!ctx) {
		snprintf(f->msg, sizeof(f->msg), "cannot initialise libnftables");
		return -1;
	}
	int quiet = stderr_silence();
	errno = 0;
	rc = nft_run_cmd_from_buffer(ctx, cmd);
	saved_errno = errno;
	stderr_restore(quiet);
	if (rc != 0) {
		nft_failure_from_text(nft_ctx_get_error_buffer(ctx), saved_errno, f);
		(void)nft_ctx_get_output_buffer(ctx); /* reset for the next command */
		return -1;
	}
	(void)nft_ctx_get_error_buffer(ctx); /* warnings: reset for the next command */
	if (out)
		*out = ctx;
	else
		(void)nft_ctx_get_output_buffer(ctx);
	return 0;
}

static void report(char *err, size_t errlen, const char *what, const struct nft_failure *f)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s%s", what, f->msg,
		         f->eperm ? " (needs CAP_NET_ADMIN)" : "");
}

/* Accept only names hs made ("hs_<digits>_<digits>", or "hs_kept_<digits>_<digits>"
 * for a kept connection's guard): the name ends up inside an nft command, and may come
 * from a state file. Fills *pid (the process that made it) and *kept when non-NULL. */
static bool parse_table_name2(const char *name, long *pid, bool *kept)
{
	const char *p;
	char *end;
	long v;

	if (!name || strncmp(name, "hs_", 3) != 0 || strlen(name) >= HS_GUARD_NAMELEN)
		return false;
	p = name + 3;
	if (kept)
		*kept = false;
	if (strncmp(p, HS_GUARD_KEPT_INFIX, strlen(HS_GUARD_KEPT_INFIX)) == 0) {
		p += strlen(HS_GUARD_KEPT_INFIX);
		if (kept)
			*kept = true;
	}
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || v <= 0 || *end != '_' || end[1] == '\0')
		return false;
	for (p = end + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	if (pid)
		*pid = v;
	return true;
}

static bool parse_table_name(const char *name, long *pid)
{
	return parse_table_name2(name, pid, NULL);
}

bool hs_guard_is_kept_name(const char *table)
{
	bool kept;

	return parse_table_name2(table, NULL, &kept) && kept;
}

static void format_addr(const hs_addr *a, char *buf, size_t len)
{
	if (a->family == AF_INET || a->family == AF_INET6)
		hs_addr_format(a, buf, len);
	else
		snprintf(buf, len, "*");
}

static void format_endpoint(const hs_endpoint *e, char *buf, size_t len)
{
	if (e->addr.family == AF_INET || e->addr.family == AF_INET6)
		hs_endpoint_format(e, buf, len);
	else
		snprintf(buf, len, "*:%u", e->port);
}

/* ' comment "..."' for the rule and table, or "" when it would not fit nft's limit. */
static void make_comment(const hs_endpoint *local, const hs_endpoint *remote, char *buf, size_t len)
{
	char l[HS_ENDPOINT_STRLEN], r[HS_ENDPOINT_STRLEN], text[2 * HS_ENDPOINT_STRLEN + 32];
	int n;

	format_endpoint(local, l, sizeof(l));
	if (remote) {
		format_endpoint(remote, r, sizeof(r));
		n = snprintf(text, sizeof(text), "hs guard for %s -> %s", l, r);
	} else {
		n = snprintf(text, sizeof(text), "hs guard for listen %s", l);
	}
	if (n < 0 || (size_t)n >= sizeof(text) || n >= GUARD_COMMENT_MAX ||
	    snprintf(buf, len, " comment \"%s\"", text) >= (int)len)
		buf[0] = '\0';
}

/* The match part of the drop rule: remote -> local of a 4-tuple, or anything to the
 * local port (and address, when set) when remote is NULL. A local address of family 0
 * is left out of the match (a listen guard narrowed before the address is known). */
static int make_match(const hs_endpoint *local, const hs_endpoint *remote, char *buf, size_t len)
{
	char l[INET6_ADDRSTRLEN + 1], r[INET6_ADDRSTRLEN + 1], daddr[INET6_ADDRSTRLEN + 16] = "";
	int family = remote ? remote->addr.family : local->addr.family;
	const char *ipkw = family == AF_INET6 ? "ip6" : "ip";
	int n;

	if (!local->port || (remote && !remote->port))
		return -1;
	if (remote && ((family != AF_INET && family != AF_INET6) ||
	               (local->addr.family && local->addr.family != family)))
		return -1;
	if (local->addr.family == AF_INET || local->addr.family == AF_INET6) {
		format_addr(&local->addr, l, sizeof(l));
		snprintf(daddr, sizeof(daddr), "%s daddr %s ", ipkw, l);
	}
	if (remote) {
		format_addr(&remote->addr, r, sizeof(r));
		n = snprintf(buf, len, "%s saddr %s %stcp sport %u tcp dport %u", ipkw, r, daddr, remote->port,
		             local->port);
	} else {
		n = snprintf(buf, len, "%stcp dport %u", daddr, local->port);
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int install_match(hs_guard *g, const char *match, const char *comment, bool *eperm, char *err,
                         size_t errlen);

static int install(hs_guard *g, const hs_endpoint *local, const hs_endpoint *remote,
                   bool *eperm, char *err, size_t errlen)
{
	char match[256], comment[GUARD_COMMENT_MAX + 16];

	if (eperm)
		*eperm = false;
	g->table[0] = '\0';
	if (make_match(local, remote, match, sizeof(match)) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "cannot install the RST guard: invalid endpoints");
		return -1;
	}
	make_comment(local, remote, comment, sizeof(comment));
	return install_match(g, match, comment, eperm, err, errlen);
}

/* One table hs_<pid>_<n> with one input drop rule: match (nft rule text). */
static int install_match(hs_guard *g, const char *match, const char *comment, bool *eperm, char *err,
                         size_t errlen)
{
	char cmd[GUARD_CMDLEN], name[HS_GUARD_NAMELEN];
	struct nft_failure f;
	bool with_comment = true;
	int tries = 0;

	if (eperm)
		*eperm = false;
	g->table[0] = '\0';
	for (;;) {
		snprintf(name, sizeof(name), "hs_%ld_%u", (long)getpid(), guard_counter++);
		/* "create", not "add": a table left by an earlier process with our pid (a
		 * kept connection) must not be reused, or removing ours would remove it. */
		int n = snprintf(cmd, sizeof(cmd),
		                 "create table inet %s {%s%s }\n"
		                 "add chain inet %s in { type filter hook input priority -300; policy accept; }\n"
		                 "add rule inet %s in %s drop%s\n",
		                 name, with_comment ? comment : "", with_comment && comment[0] ? ";" : "",
		                 name, name, match, with_comment ? comment : "");
		if (n < 0 || (size_t)n >= sizeof(cmd)) {
			if (err && errlen)
				snprintf(err, errlen, "cannot install the RST guard: command too long");
			return -1;
		}
		if (nft_exec(cmd, &f, NULL) == 0)
			break;
		if (f.eexist && ++tries < 16)
			continue;
		/* An nft (or kernel) without comments on tables: the comment is only a help. */
		if (!f.eperm && !f.eexist && with_comment && comment[0]) {
			with_comment = false;
			continue;
		}
		if (eperm)
			*eperm = f.eperm;
		report(err, errlen, "cannot install the RST guard", &f);
		return -1;
	}
	snprintf(g->table, sizeof(g->table), "%s", name);
	return 0;
}

int hs_guard_install_conn(hs_guard *g, const hs_endpoint *local, const hs_endpoint *remote,
                          bool *eperm, char *err, size_t errlen)
{
	return install(g, local, remote, eperm, err, errlen);
}

int hs_guard_install_listen(hs_guard *g, const hs_endpoint *local, bool *eperm, char *err, size_t errlen)
{
	return install(g, local, NULL, eperm, err, errlen);
}

int hs_guard_install_range(hs_guard *g, const hs_addr *local, uint16_t port_lo, uint16_t port_hi,
                           const hs_endpoint *remote, bool *eperm, char *err, size_t errlen)
{
	char l[INET6_ADDRSTRLEN + 1], r[INET6_ADDRSTRLEN + 1], match[256], comment[GUARD_COMMENT_MAX + 16];
	const char *ipkw = remote->addr.family == AF_INET6 ? "ip6" : "ip";

	if (eperm)
		*eperm = false;
	g->table[0] = '\0';
	if ((remote->addr.family != AF_INET && remote->addr.family != AF_INET6) || local->family != remote->addr.family ||
	    !remote->port || !port_lo || port_lo > port_hi) {
		if (err && errlen)
			snprintf(err, errlen, "cannot install the RST guard: invalid endpoints");
		return -1;
	}
	format_addr(local, l, sizeof(l));
	format_addr(&remote->addr, r, sizeof(r));
	int n = port_lo == port_hi
		? snprintf(match, sizeof(match), "%s saddr %s %s daddr %s tcp sport %u tcp dport %u", ipkw, r, ipkw, l,
		           remote->port, port_lo)
		: snprintf(match, sizeof(match), "%s saddr %s %s daddr %s tcp sport %u tcp dport %u-%u", ipkw, r, ipkw, l,
		           remote->port, port_lo, port_hi);
	if (n < 0 || (size_t)n >= sizeof(match)) {
		if (err && errlen)
			snprintf(err, errlen, "cannot install the RST guard: invalid endpoints");
		return -1;
	}
	n = snprintf(comment, sizeof(comment), " comment \"hs guard for %s:%u-%u -> %s\"", l, port_lo, port_hi, r);
	if (n < 0 || (size_t)n >= sizeof(comment) || n - 12 >= GUARD_COMMENT_MAX)
		comment[0] = '\0';
	return install_match(g, match, comment, eperm, err, errlen);
}

int hs_guard_keep(hs_guard *g, const hs_endpoint *local, const hs_endpoint *remote, char *err, size_t errlen)
{
	char match[256], comment[GUARD_COMMENT_MAX + 16], cmd[GUARD_CMDLEN], name[HS_GUARD_NAMELEN];
	struct nft_failure f;
	bool with_comment = true;
	int tries = 0;

	if (!parse_table_name(g->table, NULL)) {
		if (err && errlen)
			snprintf(err, errlen, "cannot keep the RST guard: no guard installed");
		return -1;
	}
	if (hs_guard_is_kept_name(g->table))
		return 0;
	if (make_match(local, remote, match, sizeof(match)) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "cannot keep the RST guard: invalid endpoints");
		return -1;
	}
	make_comment(local, remote, comment, sizeof(comment));
	for (;;) {
		snprintf(name, sizeof(name), "hs_" HS_GUARD_KEPT_INFIX "%ld_%u", (long)getpid(), guard_counter++);
		/* One batch: the kept table (the 4-tuple only) appears as the process's own
		 * goes, so there is never a moment without a rule. */
		int n = snprintf(cmd, sizeof(cmd),
		                 "create table inet %s {%s%s }\n"
		                 "add chain inet %s in { type filter hook input priority -300; policy accept; }\n"
		                 "add rule inet %s in %s drop%s\n"
		                 "delete table inet %s\n",
		                 name, with_comment ? comment : "", with_comment && comment[0] ? ";" : "",
		                 name, name, match, with_comment ? comment : "", g->table);
		if (n < 0 || (size_t)n >= sizeof(cmd)) {
			if (err && errlen)
				snprintf(err, errlen, "cannot keep the RST guard: command too long");
			return -1;
		}
		if (nft_exec(cmd, &f, NULL) == 0)
			break;
		if (f.eexist && ++tries < 16)
			continue;
		if (!f.eperm && !f.eexist && !f.enoent && with_comment && comment[0]) {
			with_comment = false;
			continue;
		}
		report(err, errlen, "cannot keep the RST guard", &f);
		return -1;
	}
	snprintf(g->table, sizeof(g->table), "%s", name);
	return 0;
}

/* Delete one table; a table that is already gone counts as deleted. */
static int delete_table(const char *table, struct nft_failure *f)
{
	char cmd[HS_GUARD_NAMELEN + 32];

	snprintf(cmd, sizeof(cmd), "delete table inet %.*s\n", HS_GUARD_NAMELEN - 1, table);
	if (nft_exec(cmd, f, NULL) == 0 || f->enoent)
		return 0;
	return -1;
}

int hs_guard_remove(hs_guard *g, char *err, size_t errlen)
{
	struct nft_failure f;

	if (!g || !g->table[0])
		return 0;
	if (!parse_table_name(g->table, NULL)) {
		if (err && errlen)
			snprintf(err, errlen, "cannot remove the RST guard: \"%s\" is not an hs table name", g->table);
		return -1;
	}
	if (delete_table(g->table, &f) < 0) {
		char what[HS_GUARD_NAMELEN + 64];
		snprintf(what, sizeof(what), "cannot remove the RST guard (nft table inet %s)", g->table);
		report(err, errlen, what, &f);
		return -1;
	}
	g->table[0] = '\0';
	return 0;
}

bool hs_guard_exists(const char *table)
{
	char cmd[HS_GUARD_NAMELEN + 32];
	struct nft_failure f;

	if (!parse_table_name(table, NULL))
		return false;
	snprintf(cmd, sizeof(cmd), "list table inet %s\n", table);
	return nft_exec(cmd, &f, NULL) == 0;
}

/* One rule line of a listing: leading white space and a trailing comment dropped. */
static bool rule_is(const char *line, size_t n, const char *want)
{
	size_t w = strlen(want);

	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--;
	if (n < w || memcmp(line, want, w) != 0)
		return false;
	return n == w || (n > w + 9 && memcmp(line + w, " comment ", 9) == 0);
}

bool hs_guard_listing_matches(const char *listing, const hs_endpoint *local, const hs_endpoint *remote)
{
	char match[256], bare[256], want[300], want_bare[300];
	hs_endpoint any = *local;
	const char *line = listing;
	int rules = 0, hits = 0, reserves = 0;

	if (!listing || !remote || make_match(local, remote, match, sizeof(match)) < 0)
		return false;
	/* A listen guard an older hs narrowed before the local address was known has no daddr. */
	memset(&any.addr, 0, sizeof(any.addr));
	if (make_match(&any, remote, bare, sizeof(bare)) < 0)
		return false;
	snprintf(want, sizeof(want), "%s drop", match);
	snprintf(want_bare, sizeof(want_bare), "%s drop", bare);
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);

		/* Every statement line of the chain that drops is a rule; there must be one,
		 * exactly ours. */
		if (memmem(line, n, " drop", 5) || memmem(line, n, " accept", 7) || memmem(line, n, " jump ", 6) ||
		    memmem(line, n, " goto ", 6) || memmem(line, n, " reject", 7)) {
			const char *policy = memmem(line, n, "policy ", 7);
			char ports[64];
			snprintf(ports, sizeof(ports), "tcp sport %u tcp dport %u ", local->port, remote->port);
			/* A kept guard's one reservation rule (hs_guard_reserve): our own SYNs of
			 * this 4-tuple refused; at most one, for exactly these ports. */
			if (!policy && memmem(line, n, "\"kept port reserved\"", 20) && memmem(line, n, " reject", 7) &&
			    memmem(line, n, ports, strlen(ports)) && reserves++ == 0) {
				/* counted apart */
			} else if (!policy) {
				rules++;
				if (rule_is(line, n, want) || rule_is(line, n, want_bare))
					hits++;
			}
		}
		line = eol ? eol + 1 : line + n;
	}
	return rules == 1 && hits == 1 && reserves <= 1;
}

int hs_guard_matches(const char *table, const hs_endpoint *local, const hs_endpoint *remote)
{
	char cmd[HS_GUARD_NAMELEN + 32];
	struct nft_failure f;
	struct nft_ctx *ctx = NULL;
	int rc;

	if (!parse_table_name(table, NULL))
		return 0;
	snprintf(cmd, sizeof(cmd), "list table inet %s\n", table);
	if (nft_exec(cmd, &f, &ctx) < 0)
		return -1;
	rc = hs_guard_listing_matches(nft_ctx_get_output_buffer(ctx), local, remote) ? 1 : 0;
	return rc;
}

static bool in_keep(const char *name, const char *const *keep, int nkeep)
{
	for (int i = 0; keep && i < nkeep; i++)
		if (keep[i] && strcmp(keep[i], name) == 0)
			return true;
	return false;
}

static bool pid_is_dead(long pid)
{
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

struct keep_list {
	const char *const *keep;
	int nkeep;
};

static bool keep_list_has(const char *name, void *arg)
{
	const struct keep_list *k = arg;
	return in_keep(name, k->keep, k->nkeep);
}

int hs_guard_cleanup_stale(const char *const *keep, int nkeep, char *err, size_t errlen)
{
	struct keep_list k = { keep, nkeep };
	return hs_guard_cleanup_dead(keep_list_has, &k, err, errlen);
}

int hs_guard_cleanup_dead(bool (*kept)(const char *table, void *arg), void *arg, char *err, size_t errlen)
{
	struct nft_ctx *ctx = NULL;
	struct nft_failure f;
	const char *line;
	char dead[64][HS_GUARD_NAMELEN];
	int ndead = 0, removed = 0, failed = 0;

	if (nft_exec("list tables\n", &f, &ctx) < 0) {
		report(err, errlen, "cannot list nft tables", &f);
		return -1;
	}
	/* Lines look like "table inet hs_123_0". The owners are found dead first; only
	 * then is asked what is kept: a process that kept its connection saved it
	 * before it exited, so the answer cannot be older than the death. */
	line = nft_ctx_get_output_buffer(ctx);
	while (line && *line && ndead < 64) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		char *name = dead[ndead];
		long pid;

		if (n > 11 && strncmp(line, "table inet ", 11) == 0 && n - 11 < HS_GUARD_NAMELEN) {
			memcpy(name, line + 11, n - 11);
			name[n - 11] = '\0';
			bool kept_name;
			/* A kept guard outlives its maker by design: only its own fin or rst
			 * (or hs ls finding the peer gone) removes it, whichever store names it. */
			if (parse_table_name2(name, &pid, &kept_name) && !kept_name && pid_is_dead(pid))
				ndead++;
		}
		line = eol ? eol + 1 : line + n;
	}
	for (int i = 0; i < ndead; i++) {
		if (kept && kept(dead[i], arg))
			continue;
		if (delete_table(dead[i], &f) == 0) {
			removed++;
		} else if (!failed++) {
			char what[HS_GUARD_NAMELEN + 64];
			snprintf(what, sizeof(what), "cannot remove stale nft table inet %.*s", HS_GUARD_NAMELEN - 1, dead[i]);
			report(err, errlen, what, &f);
		}
	}
	return failed ? -1 : removed;
}

int hs_guard_reserve(hs_guard *g, const hs_endpoint *local, const hs_endpoint *remote, char *err, size_t errlen)
{
	char l[INET6_ADDRSTRLEN + 1], r[INET6_ADDRSTRLEN + 1], cmd[GUARD_CMDLEN];
	struct nft_failure f;
	int family = remote->addr.family;
	const char *ipkw = family == AF_INET6 ? "ip6" : "ip";

	if (!parse_table_name(g->table, NULL) || (family != AF_INET && family != AF_INET6) ||
	    local->addr.family != family || !local->port || !remote->port) {
		if (err && errlen)
			snprintf(err, errlen, "cannot reserve the port: no guard or invalid endpoints");
		return -1;
	}
	format_addr(&local->addr, l, sizeof(l));
	format_addr(&remote->addr, r, sizeof(r));
	/* A SYN without ACK of this 4-tuple leaving this host is a local connect()
	 * that picked the kept port: refuse it at once (an ICMP port unreachable makes
	 * connect() fail with ECONNREFUSED) instead of letting it hang against the
	 * guard. Not "tcp reset": that RST comes from the peer's address and port, and
	 * the guard's own input rule would drop it. */
	int n = snprintf(cmd, sizeof(cmd),
	                 "add chain inet %s out { type filter hook output priority -300; policy accept; }\n"
	                 "add rule inet %s out %s saddr %s %s daddr %s tcp sport %u tcp dport %u meta mark != 0x%08x "
	                 "tcp flags & (syn | ack) == syn reject with icmpx type port-unreachable comment \"kept port reserved\"\n",
	                 g->table, g->table, ipkw, l, ipkw, r, local->port, remote->port, HS_GUARD_OWN_MARK);
	if (n < 0 || (size_t)n >= sizeof(cmd)) {
		if (err && errlen)
			snprintf(err, errlen, "cannot reserve the port: command too long");
		return -1;
	}
	if (nft_exec(cmd, &f, NULL) == 0)
		return 0;
	report(err, errlen, "cannot reserve the port", &f);
	return -1;
}
