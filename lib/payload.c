/* --send escapes, --send-hex and --send-file: see include/hs/payload.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs/err.h"
#include "hs/payload.h"

int hs_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int fail(const char **err, const char *msg)
{
	if (err)
		*err = msg;
	return -1;
}

/* A failure at offset at of the input: *len tells the caller where. */
static int fail_at(size_t *len, size_t at, const char **err, const char *msg)
{
	*len = at;
	return fail(err, msg);
}

int hs_payload_unescape(const char *in, uint8_t *out, size_t *len, const char **err)
{
	size_t cap, n = 0;

	if (!in || !out || !len)
		return fail(err, "no text");
	cap = *len;
	for (const char *p = in; *p; p++) {
		int c = (unsigned char)*p;
		size_t at = (size_t)(p - in);
		if (c == '\\') {
			switch (*++p) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case '\\': c = '\\'; break;
			case '0':
				if (p[1] >= '0' && p[1] <= '7')
					return fail_at(len, at, err, "octal escapes are not supported: write \\xHH (\\0 is one NUL byte)");
				c = 0;
				break;
			case 'x': {
				int hi = hs_hex_digit((unsigned char)p[1]), lo = hi < 0 ? -1 : hs_hex_digit((unsigned char)p[2]);
				if (hi < 0 || lo < 0)
					return fail_at(len, at, err, "\\x needs two hex digits (\\x0a)");
				c = hi << 4 | lo;
				p += 2;
				break;
			}
			case '\0':
				return fail_at(len, at, err, "a lone \\ at the end (write \\\\ for a backslash)");
			default:
				return fail_at(len, at, err, "unknown escape (known: \\n \\r \\t \\\\ \\0 \\xHH; \\\\ for a backslash)");
			}
		}
		if (n >= cap)
			return fail_at(len, at, err, "too much data");
		out[n++] = (uint8_t)c;
	}
	*len = n;
	return 0;
}

int hs_payload_hex(const char *in, uint8_t *out, size_t *len, const char **err)
{
	size_t cap, n = 0;
	const char *p = in;

	if (!in || !out || !len)
		return fail(err, "no text");
	cap = *len;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')
			continue;
		size_t at = (size_t)(p - in);
		int hi = hs_hex_digit((unsigned char)p[0]);
		if (hi < 0)
			return fail_at(len, at, err, "not a hex digit (0-9, a-f)");
		if (p[1] == '\0')
			return fail_at(len, at, err, "an odd number of hex digits (two make a byte)");
		int lo = hs_hex_digit((unsigned char)p[1]);
		if (lo < 0)
			return fail_at(len, at + 1, err, (p[1] == ' ' || p[1] == ':' || p[1] == '\t' || p[1] == '\n' || p[1] == '\r')
			                         ? "an odd number of hex digits (two make a byte)"
			                         : "not a hex digit (0-9, a-f)");
		if (n >= cap)
			return fail_at(len, at, err, "too much data");
		out[n++] = (uint8_t)(hi << 4 | lo);
		p++;
	}
	if (n == 0)
		return fail_at(len, 0, err, "no hex digits");
	*len = n;
	return 0;
}

int hs_payload_read_file(const char *path, size_t max, uint8_t **out, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hs_seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		hs_seterr(err, errlen, "%s is a directory", path);
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		close(fd);
		hs_seterr(err, errlen, "%s is too large: %lld bytes, at most %zu", path, (long long)st.st_size, max);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				close(fd);
				hs_seterr(err, errlen, "%s is too large: more than %zu bytes", path, max);
				return -1;
			}
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > max + 1)
				ncap = max + 1;
			uint8_t *nb = realloc(buf, ncap);
			if (!nb) {
				free(buf);
				close(fd);
				hs_seterr(err, errlen, "%s: out of memory", path);
				return -1;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			hs_seterr(err, errlen, "cannot read %s: %s", path, strerror(e));
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(buf);
		hs_seterr(err, errlen, "%s is too large: more than %zu bytes", path, max);
		return -1;
	}
	if (n == 0) {
		free(buf);
		hs_seterr(err, errlen, "%s is empty: nothing to send", path);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}
