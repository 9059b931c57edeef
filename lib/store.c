/* The store of kept connections: "<dir>/<id>.conn" files of key=value lines.
 * Files are written whole to a temporary name and then linked or renamed into place,
 * so a reader never sees half a record; ids only grow (max + 1), so an id that
 * `hs ls` showed is never given to another connection while that one is listed. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs/err.h"
#include "hs/store.h"

/* A record is about 500 bytes; anything much larger is not one of ours. */
#define RECORD_MAX 4096
#define LINE_MAX_LEN 256

/* ---- the text form --------------------------------------------------------------- */

enum field_type { F_INT, F_ENDPOINT, F_STATE, F_U32, F_U16, F_U8, F_BOOL, F_IFACE, F_GUARD, F_TIME, F_PID };

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
	FIELD(guard, F_GUARD, 0, false),
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
	}
}

int hs_record_format(const hs_conn_record *rec, char *buf, size_t len)
{
	char v[HS_ENDPOINT_STRLEN + 64];
	size_t pos = 0;

	if (!buf || !len)
		return -1;
	pos = (size_t)snprintf(buf, len, "# hs kept connection\n");
	for (size_t i = 0; i < NFIELDS; i++) {
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
	struct stat st;
	if (stat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
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

/* The ids present in dir, ascending, in a malloc'd array (NULL when none). A missing
 * directory is an empty store. Returns the count or -1. */
static int list_ids(const char *dir, int **ids, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0, cap = 0;

	*ids = NULL;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		hs_seterr(err, errlen, "cannot read state directory %s: %s", dir, strerror(errno));
		return -1;
	}
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

static void record_path(const char *dir, int id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%d.conn", dir, id);
}

/* Returns 0, 1 when the file does not exist, -1 with err when unreadable or corrupted. */
static int load_record(const char *dir, int id, hs_conn_record *rec, char *err, size_t errlen)
{
	char path[PATH_MAX], text[RECORD_MAX + 1], why[160];
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	record_path(dir, id, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		hs_seterr(err, errlen, "cannot read kept connection %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		hs_seterr(err, errlen, "kept connection %s is not a regular file", path);
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

/* Writes text to a fresh temporary file in dir; fills tmp with its path. */
static int write_temp(const char *dir, const char *text, size_t len, char *tmp, size_t tmplen)
{
	static unsigned counter;
	int fd, saved;

	snprintf(tmp, tmplen, "%s/.%ld.%u.tmp", dir, (long)getpid(), counter++);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	/* The umask may only take bits away; make it exactly 0600. */
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

int hs_store_save(const char *dir, hs_conn_record *rec, char *err, size_t errlen)
{
	char text[RECORD_MAX], tmp[PATH_MAX], path[PATH_MAX];
	hs_conn_record r = *rec;
	int *ids = NULL, n, len;

	if (mkdir_parents(dir) < 0) {
		hs_seterr(err, errlen, "cannot create state directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!r.created)
		r.created = time(NULL);
	if (!r.pid)
		r.pid = getpid();
	if (r.id > 0) {
		/* Replace: rename over the old file in one step. */
		if ((len = hs_record_format(&r, text, sizeof(text))) < 0) {
			hs_seterr(err, errlen, "cannot format the kept connection");
			return -1;
		}
		record_path(dir, r.id, path, sizeof(path));
		if (write_temp(dir, text, (size_t)len, tmp, sizeof(tmp)) < 0 || rename(tmp, path) < 0) {
			hs_seterr(err, errlen, "cannot write %s: %s", path, strerror(errno));
			unlink(tmp);
			return -1;
		}
		*rec = r;
		return 0;
	}
	if ((n = list_ids(dir, &ids, err, errlen)) < 0)
		return -1;
	r.id = n ? ids[n - 1] + 1 : 1;
	free(ids);
	/* New: link() refuses to replace, so two hs saving at once get distinct ids. */
	for (int tries = 0; ; tries++, r.id++) {
		if (r.id <= 0 || tries == 100) {
			hs_seterr(err, errlen, "cannot allocate an id in %s", dir);
			return -1;
		}
		if ((len = hs_record_format(&r, text, sizeof(text))) < 0) {
			hs_seterr(err, errlen, "cannot format the kept connection");
			return -1;
		}
		record_path(dir, r.id, path, sizeof(path));
		if (write_temp(dir, text, (size_t)len, tmp, sizeof(tmp)) < 0) {
			hs_seterr(err, errlen, "cannot write in %s: %s", dir, strerror(errno));
			return -1;
		}
		int rc = link(tmp, path), saved = errno;
		unlink(tmp);
		if (rc == 0)
			break;
		if (saved != EEXIST) {
			hs_seterr(err, errlen, "cannot write %s: %s", path, strerror(saved));
			return -1;
		}
	}
	*rec = r;
	return 0;
}

/* Calls visit(rec, arg) on each readable record, newest first when newest_first;
 * stops when it returns non-zero. Corrupted records are skipped, the last such
 * problem left in err. Returns visit's non-zero value, 0, or -1. */
static int each_record(const char *dir, bool newest_first, int (*visit)(const hs_conn_record *, void *),
                       void *arg, char *err, size_t errlen)
{
	int *ids, n, rc = 0;
	char why[PATH_MAX + 200];

	if ((n = list_ids(dir, &ids, err, errlen)) < 0)
		return -1;
	for (int k = 0; k < n && rc == 0; k++) {
		hs_conn_record rec;
		int id = ids[newest_first ? n - 1 - k : k];
		int lr = load_record(dir, id, &rec, why, sizeof(why));

		if (lr == 0)
			rc = visit(&rec, arg);
		else if (lr < 0 && err && errlen)
			hs_seterr(err, errlen, "%s", why);
	}
	free(ids);
	return rc;
}

struct list_ctx {
	hs_conn_record *recs;
	int max, n;
};

static int visit_list(const hs_conn_record *rec, void *arg)
{
	struct list_ctx *c = arg;

	if (c->n >= c->max)
		return 1;
	c->recs[c->n++] = *rec;
	return 0;
}

int hs_store_list(const char *dir, hs_conn_record *recs, int max, char *err, size_t errlen)
{
	struct list_ctx c = { recs, max, 0 };

	if (err && errlen)
		err[0] = '\0';
	if (each_record(dir, false, visit_list, &c, err, errlen) < 0)
		return -1;
	return c.n;
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
		rc = id ? load_record(dir, (int)id, rec, err, errlen) : 1;
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
	rc = each_record(dir, true, visit_find, &c, why, sizeof(why));
	if (rc < 0) {
		hs_seterr(err, errlen, "%s", why);
		return -1;
	}
	if (rc > 0)
		return 0;
	if (c.kind == 0)
		hs_seterr(err, errlen, "no kept connection (hs connect --close keep makes one)%s%s",
		         why[0] ? "; " : "", why);
	else
		hs_seterr(err, errlen, "no kept connection named %s (see hs ls)", name);
	return 1;
}

int hs_store_remove(const char *dir, int id)
{
	char path[PATH_MAX];

	if (id <= 0) {
		errno = EINVAL;
		return -1;
	}
	record_path(dir, id, path, sizeof(path));
	return unlink(path) < 0 ? -1 : 0;
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

	return each_record(dir, false, visit_local, &want, NULL, 0) > 0;
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

	return each_record(dir, false, visit_guard, &c, NULL, 0) == 0 ? c.n : -1;
}
