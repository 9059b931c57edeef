/* The store of kept connections: "<dir>/<id>.conn" files of key=value lines.
 * Files are written whole to a temporary name and then linked or renamed into place,
 * so a reader never sees half a record; ids only grow (max + 1), so an id that
 * `hs ls` showed is never given to another connection while that one is listed. */
#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs/err.h"
#include "hs/route.h"
#include "hs/store.h"

/* A record is about 500 bytes; anything much larger is not one of ours. */
#define RECORD_MAX 4096
#define LINE_MAX_LEN 256

/* ---- the text form --------------------------------------------------------------- */

enum field_type { F_INT, F_ENDPOINT, F_STATE, F_U32, F_U16, F_U8, F_BOOL, F_IFACE, F_GUARD, F_TIME, F_PID, F_MD5KEY };

struct field {
	const char *key;
	enum field_type type;
	size_t off;
	unsigned long long max; /* for numbers */
	bool mandatory;
};

#define FIELD(k, t, m, req) { #k, t, offsetof(hs_conn_record, k), m, req }
static const struct field fields[] = {
	FIELD(id, F_INT, INT_MAX, false),
	FIELD(local, F_ENDPOINT, 0, true),
	FIELD(remote, F_ENDPOINT, 0, true),
	FIELD(iface, F_IFACE, 0, false),
	FIELD(state, F_STATE, 0, true),
	FIELD(peer_state, F_STATE, 0, false),
	FIELD(iss, F_U32, UINT32_MAX, true),
	FIELD(irs, F_U32, UINT32_MAX, true),
	FIELD(snd_una, F_U32, UINT32_MAX, true),
	FIELD(snd_nxt, F_U32, UINT32_MAX, true),
	FIELD(rcv_nxt, F_U32, UINT32_MAX, true),
	FIELD(snd_wnd, F_U32, UINT32_MAX, false),
	FIELD(rcv_wnd, F_U32, UINT32_MAX, false),
	FIELD(peer_mss, F_U16, UINT16_MAX, false),
	FIELD(snd_wscale, F_U8, 14, false), /* RFC 7323: at most 14 */
	FIELD(rcv_wscale, F_U8, 14, false),
	FIELD(ws_ok, F_BOOL, 0, false),
	FIELD(sack_ok, F_BOOL, 0, false),
	FIELD(ts_ok, F_BOOL, 0, false),
	FIELD(ts_recent, F_U32, UINT32_MAX, false),
	FIELD(ts_clock, F_U32, UINT32_MAX, false),
	FIELD(beyond, F_BOOL, 0, false),
	FIELD(beyond_start, F_U32, UINT32_MAX, false),
	FIELD(beyond_end, F_U32, UINT32_MAX, false),
	FIELD(beyond_fin, F_BOOL, 0, false),
	FIELD(beyond_fin_seq, F_U32, UINT32_MAX, false),
	FIELD(guard, F_GUARD, 0, false),
	FIELD(md5_key, F_MD5KEY, 0, false), /* written only when there is a key */
	FIELD(created, F_TIME, LLONG_MAX, false),
	FIELD(pid, F_PID, INT_MAX, false),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* Appends to buf at *pos; remembers overflow in *pos = len. */
static void append(char *buf, size_t len, size_t *pos, const char *key, const char *value)
{
	int n;

	if (*pos >= len)
		return;
	n = snprintf(buf + *pos, len - *pos, "%s=%s\n", key, value);
	*pos = n < 0 || (size_t)n >= len - *pos ? len : *pos + (size_t)n;
}

static void format_field(const hs_conn_record *rec, const struct field *f, char *v, size_t vlen)
{
	const char *p = (const char *)rec + f->off;

	switch (f->type) {
	case F_INT:
		snprintf(v, vlen, "%d", *(const int *)(const void *)p);
		break;
	case F_ENDPOINT:
		hs_endpoint_format((const hs_endpoint *)(const void *)p, v, vlen);
		break;
	case F_STATE:
		snprintf(v, vlen, "%s", hs_state_name(*(const hs_state *)(const void *)p));
		break;
	case F_U32:
		snprintf(v, vlen, "%lu", (unsigned long)*(const uint32_t *)(const void *)p);
		break;
	case F_U16:
		snprintf(v, vlen, "%u", (unsigned)*(const uint16_t *)(const void *)p);
		break;
	case F_U8:
		snprintf(v, vlen, "%u", (unsigned)*(const uint8_t *)(const void *)p);
		break;
	case F_BOOL:
		snprintf(v, vlen, "%d", *(const bool *)(const void *)p ? 1 : 0);
		break;
	case F_IFACE:
	case F_GUARD:
		snprintf(v, vlen, "%s", p);
		break;
	case F_TIME:
		snprintf(v, vlen, "%lld", (long long)*(const time_t *)(const void *)p);
		break;
	case F_PID:
		snprintf(v, vlen, "%ld", (long)*(const pid_t *)(const void *)p);
		break;
	case F_MD5KEY:
		v[0] = '\0';
		for (size_t i = 0; i < rec->md5_key_len && 2 * i + 2 < vlen; i++)
			snprintf(v + 2 * i, vlen - 2 * i, "%02x", rec->md5_key[i]);
		break;
	}
}

int hs_record_format(const hs_conn_record *rec, char *buf, size_t len)
{
	char v[HS_ENDPOINT_STRLEN + 200]; /* an 80-byte md5_key is 160 hex digits */
	size_t pos = 0;

	if (!buf || !len)
		return -1;
	pos = (size_t)snprintf(buf, len, "# hs kept connection\n");
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].type == F_MD5KEY && rec->md5_key_len == 0)
			continue;
		format_field(rec, &fields[i], v, sizeof(v));
		append(buf, len, &pos, fields[i].key, v);
	}
	if (pos >= len) {
		buf[0] = '\0';
		return -1;
	}
	return (int)pos;
}

/* Decimal digits only (no sign, no spaces, no hex), at most max. */
static int parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Interface names as the kernel allows them: no '/', no white space, < IFNAMSIZ. */
static bool valid_iface(const char *s)
{
	size_t n = strlen(s);

	if (n >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* Guard names reach an nft command: letters, digits and '_' only. */
static bool valid_guard(const char *s)
{
	if (strlen(s) >= HS_GUARD_NAMELEN)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static int parse_field(const struct field *f, const char *v, hs_conn_record *rec)
{
	char *p = (char *)rec + f->off;
	unsigned long long n;
	int st;

	switch (f->type) {
	case F_ENDPOINT:
		return hs_endpoint_parse(v, (hs_endpoint *)(void *)p);
	case F_STATE:
		if ((st = hs_state_parse(v)) < 0)
			return -1;
		*(hs_state *)(void *)p = (hs_state)st;
		return 0;
	case F_BOOL:
		if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
			*(bool *)(void *)p = true;
		else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
			*(bool *)(void *)p = false;
		else
			return -1;
		return 0;
	case F_IFACE:
		if (!valid_iface(v) || strlen(v) >= sizeof(rec->iface))
			return -1;
		snprintf(p, sizeof(rec->iface), "%s", v);
		return 0;
	case F_GUARD:
		if (!valid_guard(v))
			return -1;
		snprintf(p, sizeof(rec->guard), "%s", v);
		return 0;
	case F_MD5KEY: {
		size_t hexlen = strlen(v);
		if (hexlen == 0 || hexlen % 2 || hexlen / 2 > sizeof(rec->md5_key))
			return -1;
		for (size_t i = 0; i < hexlen / 2; i++) {
			unsigned b;
			if (!isxdigit((unsigned char)v[2 * i]) || !isxdigit((unsigned char)v[2 * i + 1]) ||
			    sscanf(v + 2 * i, "%2x", &b) != 1)
				return -1;
			rec->md5_key[i] = (uint8_t)b;
		}
		rec->md5_key_len = (uint8_t)(hexlen / 2);
		return 0;
	}
	default:
		break;
	}
	if (parse_number(v, f->max, &n) < 0)
		return -1;
	switch (f->type) {
	case F_INT:
		*(int *)(void *)p = (int)n;
		break;
	case F_U32:
		*(uint32_t *)(void *)p = (uint32_t)n;
		break;
	case F_U16:
		*(uint16_t *)(void *)p = (uint16_t)n;
		break;
	case F_U8:
		*(uint8_t *)(void *)p = (uint8_t)n;
		break;
	case F_TIME:
		*(time_t *)(void *)p = (time_t)n;
		break;
	case F_PID:
		*(pid_t *)(void *)p = (pid_t)n;
		break;
	default:
		return -1;
	}
	return 0;
}

static const char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int hs_record_parse(const char *text, hs_conn_record *rec, char *err, size_t errlen)
{
	bool seen[NFIELDS] = { false };
	hs_conn_record r;
	const char *line = text;
	int lineno = 0;

	if (!text) {
		hs_seterr(err, errlen, "no text");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		char buf[LINE_MAX_LEN];
		const char *key, *value;
		char *eq;

		lineno++;
		if (n >= sizeof(buf)) {
			hs_seterr(err, errlen, "line %d: too long", lineno);
			return -1;
		}
		memcpy(buf, line, n);
		buf[n] = '\0';
		line = eol ? eol + 1 : line + n;
		key = trim(buf);
		if (!*key || *key == '#')
			continue;
		if (!(eq = strchr(buf, '='))) {
			hs_seterr(err, errlen, "line %d: expected key=value", lineno);
			return -1;
		}
		*eq = '\0';
		key = trim(buf);
		value = trim(eq + 1);
		for (size_t i = 0; i < NFIELDS; i++) {
			if (strcmp(key, fields[i].key) != 0)
				continue;
			if (seen[i]) {
				hs_seterr(err, errlen, "line %d: %s given twice", lineno, key);
				return -1;
			}
			seen[i] = true;
			if (parse_field(&fields[i], value, &r) < 0) {
				hs_seterr(err, errlen, "line %d: bad value for %s: \"%.64s\"", lineno, key, value);
				return -1;
			}
			break;
		}
		/* Unknown keys are skipped: files written by a newer hs stay readable. */
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].mandatory && !seen[i]) {
			hs_seterr(err, errlen, "missing %s", fields[i].key);
			return -1;
		}
	}
	if (r.local.addr.family != r.remote.addr.family) {
		hs_seterr(err, errlen, "local and remote addresses are of different families");
		return -1;
	}
	*rec = r;
	return 0;
}

/* ---- what hs itself would have written -------------------------------------------- */

/* "hs_<pid>_<n>", or "hs_kept_<pid>_<n>" once kept, as lib/guard.c names its tables. */
static bool hs_guard_name(const char *s)
{
	const char *p;

	if (strncmp(s, "hs_", 3) != 0)
		return false;
	p = s + 3;
	if (strncmp(p, "kept_", 5) == 0)
		p += 5;
	if (*p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != '_' || !*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static bool addr_unspecified(const hs_addr *a)
{
	static const unsigned char zero[16];

	if (a->family == AF_INET)
		return a->u.v4.s_addr == 0;
	return memcmp(&a->u.v6, zero, sizeof(zero)) == 0;
}

static bool endpoint_ok(const hs_endpoint *e)
{
	return (e->addr.family == AF_INET || e->addr.family == AF_INET6) && e->port != 0 &&
	       !addr_unspecified(&e->addr);
}

int hs_record_validate(const hs_conn_record *r, char *err, size_t errlen)
{
	char l[HS_ENDPOINT_STRLEN], rm[HS_ENDPOINT_STRLEN];

	if (r->state != HS_ESTABLISHED && r->state != HS_CLOSE_WAIT) {
		hs_seterr(err, errlen, "state %s is not one hs keeps (ESTABLISHED, CLOSE-WAIT)", hs_state_name(r->state));
		return -1;
	}
	if (r->peer_state != HS_SYN_RECEIVED && r->peer_state != HS_ESTABLISHED && r->peer_state != HS_FIN_WAIT_1 &&
	    r->peer_state != HS_FIN_WAIT_2) {
		hs_seterr(err, errlen, "peer_state %s is not one a kept connection's peer can be in",
		          hs_state_name(r->peer_state));
		return -1;
	}
	hs_endpoint_format(&r->local, l, sizeof(l));
	hs_endpoint_format(&r->remote, rm, sizeof(rm));
	if (!endpoint_ok(&r->local)) {
		hs_seterr(err, errlen, "local %s is not an address and port hs connects from", l);
		return -1;
	}
	if (!endpoint_ok(&r->remote)) {
		hs_seterr(err, errlen, "remote %s is not an address and port hs connects to", rm);
		return -1;
	}
	if (r->local.addr.family != r->remote.addr.family) {
		hs_seterr(err, errlen, "local and remote addresses are of different families");
		return -1;
	}
	if (r->guard[0] && !hs_guard_name(r->guard)) {
		hs_seterr(err, errlen, "guard \"%s\" is not an hs table name (hs_<pid>_<n>, hs_kept_<pid>_<n>)", r->guard);
		return -1;
	}
	if (r->pid < 0) {
		hs_seterr(err, errlen, "pid %ld is not a process id", (long)r->pid);
		return -1;
	}
	/* Sequence space as a handshake leaves it: our SYN and the peer's are behind us,
	 * and nothing unacknowledged is further than a window can reach. */
	if ((int32_t)(r->snd_una - (r->iss + 1)) < 0 || (int32_t)(r->snd_nxt - r->snd_una) < 0 ||
	    r->snd_nxt - r->snd_una > (1u << 30)) {
		hs_seterr(err, errlen, "iss %lu, snd_una %lu, snd_nxt %lu are not in order (iss < snd_una <= snd_nxt)",
		          (unsigned long)r->iss, (unsigned long)r->snd_una, (unsigned long)r->snd_nxt);
		return -1;
	}
	if ((int32_t)(r->rcv_nxt - (r->irs + 1)) < 0) {
		hs_seterr(err, errlen, "rcv_nxt %lu is before the peer's SYN (irs %lu)", (unsigned long)r->rcv_nxt,
		          (unsigned long)r->irs);
		return -1;
	}
	return 0;
}

/* The host's side: the local address is this host's, the interface exists, and a
 * guard table that exists is this connection's guard (one drop rule for exactly its
 * 4-tuple). A guard that does not exist is left to the callers (stale). */
int hs_record_check_host(const hs_conn_record *r, char *err, size_t errlen)
{
	char why[256], l[HS_ENDPOINT_STRLEN], rm[HS_ENDPOINT_STRLEN];

	if (r->iface[0] && strcmp(r->iface, "any") != 0 && !hs_iface_exists(r->iface)) {
		hs_seterr(err, errlen, "interface %s does not exist here", r->iface);
		return -1;
	}
	if (hs_addr_check_local(&r->local.addr, r->iface[0] ? r->iface : NULL, why, sizeof(why)) < 0) {
		hs_seterr(err, errlen, "local address: %s", why);
		return -1;
	}
	if (r->guard[0] && hs_guard_matches(r->guard, &r->local, &r->remote) == 0) {
		hs_endpoint_format(&r->local, l, sizeof(l));
		hs_endpoint_format(&r->remote, rm, sizeof(rm));
		hs_seterr(err, errlen, "table %s is not the guard of %s -> %s (its rule is for something else): "
		          "not touched", r->guard, l, rm);
		return -1;
	}
	return 0;
}

int (*hs_store_host_check)(const hs_conn_record *, char *, size_t) = hs_record_check_host;

/* ---- the directory --------------------------------------------------------------- */

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71 /* Linux 5.14 */
#endif

/* The namespace's cookie: a 64-bit number the kernel never gives to another
 * namespace while it runs (an inode number is reused once the namespace is gone). */
static int netns_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	int rc = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len);
	int e = errno;
	close(fd);
	errno = e;
	return rc < 0 || len != sizeof(*cookie) ? -1 : 0;
}

/* Does DIR hold a record (a *.conn file)? */
static bool holds_records(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool any = false;

	if (!d)
		return false;
	while (!any && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		any = n > 5 && strcmp(e->d_name + n - 5, ".conn") == 0;
	}
	closedir(d);
	return any;
}

int hs_store_default_dir(char *buf, size_t len)
{
	struct stat st, old;
	char legacy[64];
	uint64_t cookie;
	int n;

	/* --netns has already setns()'d: this is the namespace we will work in. */
	if (stat("/proc/self/ns/net", &st) < 0)
		return -1;
	snprintf(legacy, sizeof(legacy), "/run/hs/ns-%lu", (unsigned long)st.st_ino);
	if (netns_cookie(&cookie) < 0) /* before Linux 5.14: the inode is all there is */
		n = snprintf(buf, len, "%s", legacy);
	else
		n = snprintf(buf, len, "/run/hs/netns-%llu", (unsigned long long)cookie);
	if (n < 0 || (size_t)n >= len)
		return -1;
	/* A store an earlier hs keyed on the inode stays in use while it holds kept
	 * connections (they can still be continued) -- unless one keyed on the cookie
	 * exists already. Once emptied, the cookie's store takes over. */
	if (strcmp(buf, legacy) != 0 && lstat(buf, &st) < 0 && errno == ENOENT &&
	    lstat(legacy, &old) == 0 && S_ISDIR(old.st_mode) && holds_records(legacy)) {
		n = snprintf(buf, len, "%s", legacy);
		return n < 0 || (size_t)n >= len ? -1 : 0;
	}
	return 0;
}

/* mkdir -p, new directories 0700. */
static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

/* Is this file ours to trust: owned by the user running hs, writable by no one else? */
static int trusted_owner(const struct stat *st, const char *what, const char *path, char *err, size_t errlen)
{
	if (st->st_uid != geteuid()) {
		hs_seterr(err, errlen, "%s %s belongs to uid %lu, not to uid %lu that runs hs: refused", what, path,
		          (unsigned long)st->st_uid, (unsigned long)geteuid());
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		hs_seterr(err, errlen, "%s %s is writable by %s (mode %04o): refused (chmod go-w)", what, path,
		          st->st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Opens the store directory itself, never through a symbolic link, and only when it
 * is the running user's and writable by no one else. Returns 0 with *fd, 1 when it does
 * not exist (and create is false), -1 with err. */
/* dir made absolute and tidied without looking at the file system ("." and empty
 * components dropped). False when it has a ".." component or does not fit: such a
 * path cannot be checked for links component by component. */
static bool lexical_path(const char *dir, char *out, size_t len)
{
	char buf[PATH_MAX * 2];
	size_t o = 0;

	if (dir[0] == '/') {
		snprintf(buf, sizeof(buf), "%s", dir);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			return false;
		snprintf(buf, sizeof(buf), "%s/%s", cwd, dir);
	}
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			return false;
		size_t n = strlen(c);
		if (o + 1 + n + 1 > len)
			return false;
		out[o++] = '/';
		memcpy(out + o, c, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return true;
}

static int store_open(const char *dir, bool create, int *fd, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	size_t n = strlen(dir);

	*fd = -1;
	if (n == 0 || n >= sizeof(path)) {
		hs_seterr(err, errlen, "state directory \"%.64s\": %s", dir, strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(path, dir, n + 1);
	while (n > 1 && path[n - 1] == '/') /* "dir/" would follow a link named dir */
		path[--n] = '\0';
	if (create && mkdir_parents(path) < 0) {
		hs_seterr(err, errlen, "cannot create state directory %s: %s", path, strerror(errno));
		return -1;
	}
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		if (e == ENOENT && !create)
			return 1;
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			hs_seterr(err, errlen, "state directory %s is a symbolic link: refused (give the directory itself)",
			          path);
		else
			hs_seterr(err, errlen, "cannot open state directory %s: %s", path, strerror(e));
		return -1;
	}
	/* Not through a link anywhere on the way (O_NOFOLLOW sees only the last
	 * component): the directory must be where its name says. */
	char lexical[PATH_MAX], real[PATH_MAX];
	if (!lexical_path(path, lexical, sizeof(lexical)) || !realpath(path, real) || strcmp(lexical, real) != 0) {
		hs_seterr(err, errlen, "state directory %s is reached through a symbolic link or \"..\": refused "
		          "(give its real path%s%s)", path, realpath(path, real) ? ", " : "", realpath(path, real) ? real : "");
		close(*fd);
		*fd = -1;
		return -1;
	}
	if (fstat(*fd, &st) < 0 || trusted_owner(&st, "state directory", path, err, errlen) < 0) {
		if (!err || !errlen || !err[0])
			hs_seterr(err, errlen, "cannot read state directory %s: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

int hs_store_check(const char *dir, char *err, size_t errlen)
{
	int fd, rc;

	if (err && errlen)
		err[0] = '\0';
	rc = store_open(dir, false, &fd, err, errlen);
	if (rc == 0)
		close(fd);
	return rc < 0 ? -1 : 0;
}

/* "<digits>.conn" with no leading zero and a positive int: the record's id, else 0. */
static int id_of_name(const char *name)
{
	unsigned long long v;
	char digits[16];
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : 0;

	if (!dot || strcmp(dot, ".conn") != 0 || n == 0 || n >= sizeof(digits) || name[0] == '0')
		return 0;
	memcpy(digits, name, n);
	digits[n] = '\0';
	if (parse_number(digits, INT_MAX, &v) < 0)
		return 0;
	return (int)v;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* The ids present in the directory dfd, ascending, in a malloc'd array (NULL when
 * none). Returns the count or -1. */
static int list_ids(int dfd, const char *dir, int **ids, char *err, size_t errlen)
{
	int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
	struct dirent *de;
	int n = 0, cap = 0;

	*ids = NULL;
	if (!d) {
		hs_seterr(err, errlen, "cannot read state directory %s: %s", dir, strerror(errno));
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		int id = id_of_name(de->d_name);
		if (!id)
			continue;
		if (n == cap) {
			int *more = realloc(*ids, (size_t)(cap ? cap * 2 : 16) * sizeof(int));
			if (!more) {
				free(*ids);
				*ids = NULL;
				closedir(d);
				hs_seterr(err, errlen, "out of memory");
				return -1;
			}
			*ids = more;
			cap = cap ? cap * 2 : 16;
		}
		(*ids)[n++] = id;
	}
	closedir(d);
	if (n > 1)
		qsort(*ids, (size_t)n, sizeof(int), cmp_int);
	return n;
}

static void record_name(int id, char *buf, size_t len)
{
	snprintf(buf, len, "%d.conn", id);
}

/* Returns 0, 1 when the file does not exist, -1 with err when unreadable, refused or
 * corrupted. Opened without following a link and without blocking (a FIFO). */
static int load_record(int dfd, const char *dir, int id, hs_conn_record *rec, char *err, size_t errlen)
{
	char name[32], path[PATH_MAX + 32], text[RECORD_MAX + 1], why[320];
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	record_name(id, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		if (errno == ELOOP)
			hs_seterr(err, errlen, "kept connection %s is a symbolic link: refused", path);
		else
			hs_seterr(err, errlen, "cannot read kept connection %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		hs_seterr(err, errlen, "kept connection %s is not a regular file: refused", path);
		return -1;
	}
	if (trusted_owner(&st, "kept connection", path, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	while (got < sizeof(text) && (n = read(fd, text + got, sizeof(text) - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			hs_seterr(err, errlen, "cannot read kept connection %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	if (got > RECORD_MAX) {
		hs_seterr(err, errlen, "kept connection %s is corrupted: too large", path);
		return -1;
	}
	text[got] = '\0';
	if (memchr(text, '\0', got)) {
		hs_seterr(err, errlen, "kept connection %s is corrupted: contains NUL bytes", path);
		return -1;
	}
	if (hs_record_parse(text, rec, why, sizeof(why)) < 0) {
		hs_seterr(err, errlen, "kept connection %s is corrupted: %s (remove it)", path, why);
		return -1;
	}
	if (hs_record_validate(rec, why, sizeof(why)) < 0 ||
	    (hs_store_host_check && hs_store_host_check(rec, why, sizeof(why)) < 0)) {
		hs_seterr(err, errlen, "kept connection %s refused: %s", path, why);
		return -1;
	}
	rec->id = id; /* the file name is authoritative */
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes text to a fresh temporary file in dfd; fills tmp with its name. */
static int write_temp(int dfd, const char *text, size_t len, char *tmp, size_t tmplen)
{
	static unsigned counter;
	int fd, saved;

	snprintf(tmp, tmplen, ".%ld.%u.tmp", (long)getpid(), counter++);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	/* The umask may only take bits away; make it exactly 0600. */
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlinkat(dfd, tmp, 0);
		errno = saved;
		return -1;
	}
	if (close(fd) < 0) {
		saved = errno;
		unlinkat(dfd, tmp, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

int hs_store_id_after(const int *ids, int n)
{
	if (n == 0)
		return 1;
	if (ids[n - 1] < INT_MAX)
		return ids[n - 1] + 1;
	/* ids are ascending, positive and distinct: the first gap from 1. */
	for (int i = 0; i < n; i++)
		if (ids[i] != i + 1)
			return i + 1;
	return -1; /* INT_MAX records */
}

/* The id a new record gets: one past the highest, never an overflow. */
static int next_id(int dfd, const char *dir, char *err, size_t errlen)
{
	int *ids = NULL, n, id;

	if ((n = list_ids(dfd, dir, &ids, err, errlen)) < 0)
		return -1;
	id = hs_store_id_after(ids, n);
	free(ids);
	if (id < 0)
		hs_seterr(err, errlen, "cannot allocate an id in %s: every id is in use", dir);
	return id;
}

int hs_store_prepare(const char *dir, char *err, size_t errlen)
{
	static const char probe[] = "# hs: can this store be written?\n";
	char tmp[64];
	int dfd;

	if (store_open(dir, true, &dfd, err, errlen) != 0)
		return -1;
	if (write_temp(dfd, probe, sizeof(probe) - 1, tmp, sizeof(tmp)) < 0) {
		hs_seterr(err, errlen, "cannot write in state directory %s: %s", dir, strerror(errno));
		close(dfd);
		return -1;
	}
	unlinkat(dfd, tmp, 0);
	int id = next_id(dfd, dir, err, errlen);
	close(dfd);
	return id < 0 ? -1 : 0;
}

int hs_store_save(const char *dir, hs_conn_record *rec, char *err, size_t errlen)
{
	char text[RECORD_MAX], tmp[64], name[32];
	hs_conn_record r = *rec;
	int len, dfd;

	if (store_open(dir, true, &dfd, err, errlen) != 0)
		return -1;
	if (!r.created)
		r.created = time(NULL);
	if (!r.pid)
		r.pid = getpid();
	if (r.id > 0) {
		/* Replace: rename over the old file in one step. */
		if ((len = hs_record_format(&r, text, sizeof(text))) < 0) {
			hs_seterr(err, errlen, "cannot format the kept connection");
			close(dfd);
			return -1;
		}
		record_name(r.id, name, sizeof(name));
		if (write_temp(dfd, text, (size_t)len, tmp, sizeof(tmp)) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
			hs_seterr(err, errlen, "cannot write %s/%s: %s", dir, name, strerror(errno));
			unlinkat(dfd, tmp, 0);
			close(dfd);
			return -1;
		}
		close(dfd);
		*rec = r;
		return 0;
	}
	/* New: link() refuses to replace, so two hs saving at once get distinct ids
	 * (another one took ours: list again). */
	for (int tries = 0; ; tries++) {
		if (tries == 100 || (r.id = next_id(dfd, dir, err, errlen)) < 0) {
			if (tries == 100)
				hs_seterr(err, errlen, "cannot allocate an id in %s", dir);
			close(dfd);
			return -1;
		}
		if ((len = hs_record_format(&r, text, sizeof(text))) < 0) {
			hs_seterr(err, errlen, "cannot format the kept connection");
			close(dfd);
			return -1;
		}
		record_name(r.id, name, sizeof(name));
		if (write_temp(dfd, text, (size_t)len, tmp, sizeof(tmp)) < 0) {
			hs_seterr(err, errlen, "cannot write in %s: %s", dir, strerror(errno));
			close(dfd);
			return -1;
		}
		int rc = linkat(dfd, tmp, dfd, name, 0), saved = errno;
		unlinkat(dfd, tmp, 0);
		if (rc == 0)
			break;
		if (saved != EEXIST) {
			hs_seterr(err, errlen, "cannot write %s/%s: %s", dir, name, strerror(saved));
			close(dfd);
			return -1;
		}
	}
	close(dfd);
	*rec = r;
	return 0;
}

/* Calls visit(rec, arg) on each valid record, newest first when newest_first; stops
 * when it returns non-zero. Each corrupted or refused record goes to bad(name, why,
 * arg) when given, and the last such problem is left in err. Returns visit's non-zero
 * value, 0, or -1 (the directory itself unreadable or refused). */
static int each_record(const char *dir, bool newest_first, int (*visit)(const hs_conn_record *, void *),
                       void (*bad)(int id, const char *why, void *), void *arg, char *err, size_t errlen)
{
	int *ids, n, rc = 0, dfd;
	char why[PATH_MAX + 400];

	if ((rc = store_open(dir, false, &dfd, err, errlen)) != 0)
		return rc > 0 ? 0 : -1; /* a missing directory is an empty store */
	if ((n = list_ids(dfd, dir, &ids, err, errlen)) < 0) {
		close(dfd);
		return -1;
	}
	for (int k = 0; k < n && rc == 0; k++) {
		hs_conn_record rec;
		int id = ids[newest_first ? n - 1 - k : k];
		int lr = load_record(dfd, dir, id, &rec, why, sizeof(why));

		if (lr == 0) {
			rc = visit(&rec, arg);
		} else if (lr < 0) {
			if (bad)
				bad(id, why, arg);
			if (err && errlen)
				hs_seterr(err, errlen, "%s", why);
		}
	}
	free(ids);
	close(dfd);
	return rc;
}

struct list_ctx {
	hs_store_listing *l;
	int cap, badcap;
	bool oom;
};

static int visit_list(const hs_conn_record *rec, void *arg)
{
	struct list_ctx *c = arg;

	if (c->l->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		hs_conn_record *more = realloc(c->l->recs, (size_t)cap * sizeof(*more));
		if (!more) {
			c->oom = true;
			return 1;
		}
		c->l->recs = more;
		c->cap = cap;
	}
	c->l->recs[c->l->n++] = *rec;
	return 0;
}

static void bad_list(int id, const char *why, void *arg)
{
	struct list_ctx *c = arg;

	if (c->l->nbad == c->badcap) {
		int cap = c->badcap ? c->badcap * 2 : 8;
		hs_store_problem *more = realloc(c->l->bad, (size_t)cap * sizeof(*more));
		if (!more) {
			c->oom = true;
			return;
		}
		c->l->bad = more;
		c->badcap = cap;
	}
	hs_store_problem *p = &c->l->bad[c->l->nbad++];
	p->id = id;
	snprintf(p->name, sizeof(p->name), "%d.conn", id);
	snprintf(p->why, sizeof(p->why), "%s", why);
}

int hs_store_list_all(const char *dir, hs_store_listing *out, char *err, size_t errlen)
{
	struct list_ctx c = { out, 0, 0, false };

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (each_record(dir, false, visit_list, bad_list, &c, err, errlen) < 0 || c.oom) {
		if (c.oom)
			hs_seterr(err, errlen, "out of memory listing %s", dir);
		hs_store_listing_free(out);
		return -1;
	}
	return 0;
}

void hs_store_listing_free(hs_store_listing *l)
{
	free(l->recs);
	free(l->bad);
	memset(l, 0, sizeof(*l));
}

int hs_store_list(const char *dir, hs_conn_record *recs, int max, char *err, size_t errlen)
{
	hs_store_listing l;
	int n;

	if (hs_store_list_all(dir, &l, err, errlen) < 0)
		return -1;
	n = l.n < max ? l.n : max;
	if (n > 0)
		memcpy(recs, l.recs, (size_t)n * sizeof(*recs));
	if (l.n > max)
		hs_seterr(err, errlen, "%d kept connections in %s; only the first %d taken", l.n, dir, max);
	hs_store_listing_free(&l);
	return n;
}

/* What a CONN name can say: nothing (newest), or endpoints. */
struct find_ctx {
	int kind; /* 0 newest, 1 one endpoint (local or remote), 2 local-remote, 3 remote address */
	hs_endpoint a, b;
	hs_conn_record *out;
};

static int visit_find(const hs_conn_record *rec, void *arg)
{
	struct find_ctx *c = arg;
	bool hit = false;

	switch (c->kind) {
	case 0:
		hit = true;
		break;
	case 1:
		hit = hs_endpoint_equal(&rec->remote, &c->a) || hs_endpoint_equal(&rec->local, &c->a);
		break;
	case 2:
		hit = hs_endpoint_equal(&rec->local, &c->a) && hs_endpoint_equal(&rec->remote, &c->b);
		break;
	case 3:
		hit = hs_addr_equal(&rec->remote.addr, &c->a.addr);
		break;
	}
	if (hit)
		*c->out = *rec;
	return hit;
}

/* "LOCAL-REMOTE": neither address form contains '-', so split at the only one. */
static int parse_pair(const char *name, hs_endpoint *a, hs_endpoint *b)
{
	const char *dash = strchr(name, '-');
	char left[HS_ENDPOINT_STRLEN + 1];
	size_t n;

	if (!dash || strchr(dash + 1, '-'))
		return -1;
	n = (size_t)(dash - name);
	if (n >= sizeof(left))
		return -1;
	memcpy(left, name, n);
	left[n] = '\0';
	return hs_endpoint_parse(left, a) == 0 && hs_endpoint_parse(dash + 1, b) == 0 ? 0 : -1;
}

int hs_store_find(const char *dir, const char *name, hs_conn_record *rec, char *err, size_t errlen)
{
	struct find_ctx c;
	unsigned long long id;
	char why[PATH_MAX + 200] = "";
	int rc;

	memset(&c, 0, sizeof(c));
	c.out = rec;
	if (name && *name && parse_number(name, INT_MAX, &id) == 0) {
		int dfd = -1;
		rc = id ? store_open(dir, false, &dfd, err, errlen) : 1;
		if (rc == 0) {
			rc = load_record(dfd, dir, (int)id, rec, err, errlen);
			close(dfd);
		}
		if (rc == 1)
			hs_seterr(err, errlen, "no kept connection named %s (see hs ls)", name);
		return rc;
	}
	if (!name || !*name)
		c.kind = 0;
	else if (hs_endpoint_parse(name, &c.a) == 0)
		c.kind = 1;
	else if (parse_pair(name, &c.a, &c.b) == 0)
		c.kind = 2;
	else if (hs_addr_parse(name, &c.a.addr) == 0)
		c.kind = 3;
	else {
		hs_seterr(err, errlen, "no kept connection named %s (see hs ls)", name);
		return 1;
	}
	rc = each_record(dir, true, visit_find, NULL, &c, why, sizeof(why));
	if (rc < 0) {
		hs_seterr(err, errlen, "%s", why);
		return -1;
	}
	if (rc > 0)
		return 0;
	/* Only refused records: that is the answer (exit 4), not "there is none". */
	if (c.kind == 0 && why[0]) {
		hs_seterr(err, errlen, "%s", why);
		return -1;
	}
	if (c.kind == 0)
		hs_seterr(err, errlen, "no kept connection (hs connect --close keep makes one)");
	else
		hs_seterr(err, errlen, "no kept connection named %s (see hs ls)", name);
	return 1;
}

int hs_store_remove(const char *dir, int id)
{
	char name[32], err[8];
	int dfd, rc;

	if (id <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (store_open(dir, false, &dfd, err, sizeof(err)) != 0) {
		errno = EPERM;
		return -1;
	}
	record_name(id, name, sizeof(name));
	rc = unlinkat(dfd, name, 0);
	close(dfd);
	return rc < 0 ? -1 : 0;
}

static int visit_local(const hs_conn_record *rec, void *arg)
{
	const hs_endpoint *local = arg;

	if (rec->local.port != local->port)
		return 0;
	/* An unset address on either side means any address. */
	return !local->addr.family || !rec->local.addr.family || hs_addr_equal(&rec->local.addr, &local->addr);
}

bool hs_store_local_in_use(const char *dir, const hs_endpoint *local)
{
	hs_endpoint want = *local;

	return each_record(dir, false, visit_local, NULL, &want, NULL, 0) > 0;
}

struct guards_ctx {
	char (*names)[HS_GUARD_NAMELEN];
	int max, n;
};

static int visit_guard(const hs_conn_record *rec, void *arg)
{
	struct guards_ctx *c = arg;

	if (!rec->guard[0])
		return 0;
	if (c->n >= c->max)
		return 1; /* an incomplete list must not drive a cleanup */
	snprintf(c->names[c->n++], HS_GUARD_NAMELEN, "%s", rec->guard);
	return 0;
}

int hs_store_guards(const char *dir, char names[][HS_GUARD_NAMELEN], int max)
{
	struct guards_ctx c = { names, max, 0 };

	return each_record(dir, false, visit_guard, NULL, &c, NULL, 0) == 0 ? c.n : -1;
}

/* ---- RFC 7413 Fast Open cookies ---------------------------------------------------- */

#define TFO_FILE "tfo-cookies"
#define TFO_LINE_MAX (HS_ENDPOINT_STRLEN + 2 * 16 + 2)
#define TFO_TEXT_MAX (HS_TFO_CACHE_MAX * TFO_LINE_MAX)

/* The cache's text into buf (NUL-terminated): 0, 1 when there is none, -1 with err. */
static int tfo_read(int dfd, const char *dir, char *buf, size_t size, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	struct stat st;
	size_t got = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, TFO_FILE);
	int fd = openat(dfd, TFO_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		if (errno == ELOOP)
			hs_seterr(err, errlen, "TFO cookie cache %s is a symbolic link: refused", path);
		else
			hs_seterr(err, errlen, "cannot read TFO cookie cache %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		hs_seterr(err, errlen, "TFO cookie cache %s is not a regular file: refused", path);
		return -1;
	}
	if (trusted_owner(&st, "TFO cookie cache", path, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			hs_seterr(err, errlen, "cannot read TFO cookie cache %s: %s", path, strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return 0;
}

/* "ENDPOINT HEX" for peer in text: the cookie. Lines that do not parse are skipped. */
static bool tfo_find(const char *text, const char *key, uint8_t cookie[16], uint8_t *len)
{
	size_t klen = strlen(key);

	for (const char *l = text; *l; ) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		if (n > klen + 1 && memcmp(l, key, klen) == 0 && l[klen] == ' ') {
			const char *h = l + klen + 1;
			size_t hn = n - klen - 1;
			if (hn % 2 == 0 && hn <= 32) {
				unsigned v;
				size_t i;
				for (i = 0; i < hn / 2; i++) {
					char two[3] = { h[2 * i], h[2 * i + 1], 0 };
					if (!isxdigit((unsigned char)two[0]) || !isxdigit((unsigned char)two[1]) ||
					    sscanf(two, "%2x", &v) != 1)
						break;
					cookie[i] = (uint8_t)v;
				}
				if (i == hn / 2) {
					*len = (uint8_t)(hn / 2);
					return true;
				}
			}
		}
		l += n + (end ? 1 : 0);
	}
	return false;
}

int hs_store_tfo_get(const char *dir, const hs_endpoint *peer, uint8_t cookie[16], uint8_t *len, char *err,
                     size_t errlen)
{
	static char text[TFO_TEXT_MAX + 1];
	char key[HS_ENDPOINT_STRLEN];
	int dfd, rc;

	if (err && errlen)
		err[0] = '\0';
	rc = store_open(dir, false, &dfd, err, errlen);
	if (rc != 0)
		return rc;
	rc = tfo_read(dfd, dir, text, sizeof(text), err, errlen);
	close(dfd);
	if (rc != 0)
		return rc;
	hs_endpoint_format(peer, key, sizeof(key));
	return tfo_find(text, key, cookie, len) ? 0 : 1;
}

int hs_store_tfo_put(const char *dir, const hs_endpoint *peer, const uint8_t *cookie, uint8_t len, char *err,
                     size_t errlen)
{
	static char text[TFO_TEXT_MAX + 1], out[TFO_TEXT_MAX + TFO_LINE_MAX + 1];
	char key[HS_ENDPOINT_STRLEN], tmp[64];
	size_t o = 0, klen;
	int dfd;

	if (err && errlen)
		err[0] = '\0';
	if (len > 16) {
		hs_seterr(err, errlen, "a TFO cookie has at most 16 bytes");
		return -1;
	}
	if (store_open(dir, true, &dfd, err, errlen) != 0)
		return -1;
	int rc = tfo_read(dfd, dir, text, sizeof(text), err, errlen);
	if (rc < 0) {
		close(dfd);
		return -1;
	}
	if (rc == 1)
		text[0] = '\0';
	hs_endpoint_format(peer, key, sizeof(key));
	klen = strlen(key);
	/* Count the others' lines first: the oldest go when the cache is full. */
	int others = 0;
	for (const char *l = text; *l; ) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		if (n > 0 && !(n > klen && memcmp(l, key, klen) == 0 && l[klen] == ' '))
			others++;
		l += n + (end ? 1 : 0);
	}
	int skip = others >= HS_TFO_CACHE_MAX ? others - HS_TFO_CACHE_MAX + 1 : 0;
	for (const char *l = text; *l; ) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		if (n > 0 && n < TFO_LINE_MAX && !(n > klen && memcmp(l, key, klen) == 0 && l[klen] == ' ')) {
			if (skip > 0) {
				skip--;
			} else {
				memcpy(out + o, l, n);
				o += n;
				out[o++] = '\n';
			}
		}
		l += n + (end ? 1 : 0);
	}
	o += (size_t)snprintf(out + o, sizeof(out) - o, "%s ", key);
	for (uint8_t i = 0; i < len; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%02x", cookie[i]);
	out[o++] = '\n';
	if (write_temp(dfd, out, o, tmp, sizeof(tmp)) < 0 || renameat(dfd, tmp, dfd, TFO_FILE) < 0) {
		hs_seterr(err, errlen, "cannot write %s/%s: %s", dir, TFO_FILE, strerror(errno));
		unlinkat(dfd, tmp, 0);
		close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}
