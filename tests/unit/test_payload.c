/* --send escapes, --send-hex and --send-file (lib/payload.c), and the host
 * arguments of connect/listen (hs_host_split, lib/addr.c). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hs/addr.h"
#include "hs/payload.h"
#include "tap.h"

/* Unescape in with a capacity of cap; returns the length or -1 (message in *err,
 * offset in *at). */
static long unesc(const char *in, size_t cap, uint8_t *out, const char **err, size_t *at)
{
	size_t len = cap;
	*err = NULL;
	if (hs_payload_unescape(in, out, &len, err) < 0) {
		*at = len;
		return -1;
	}
	return (long)len;
}

static long hex(const char *in, size_t cap, uint8_t *out, const char **err, size_t *at)
{
	size_t len = cap;
	*err = NULL;
	if (hs_payload_hex(in, out, &len, err) < 0) {
		*at = len;
		return -1;
	}
	return (long)len;
}

static void test_unescape(void)
{
	uint8_t out[64];
	const char *err;
	size_t at = 99;

	EQ_INT(unesc("bye\\n", sizeof(out), out, &err, &at), 4, "bye\\n is 4 bytes");
	OK(memcmp(out, "bye\n", 4) == 0, "bye\\n ends in a newline");
	EQ_INT(unesc("a\\r\\n\\tb\\\\c", sizeof(out), out, &err, &at), 7, "\\r \\n \\t \\\\");
	OK(memcmp(out, "a\r\n\tb\\c", 7) == 0, "\\r \\n \\t \\\\ values");
	EQ_INT(unesc("\\x00\\xff\\x41\\xaB", sizeof(out), out, &err, &at), 4, "\\xHH");
	OK(out[0] == 0 && out[1] == 0xff && out[2] == 'A' && out[3] == 0xab, "\\xHH values, either case");
	EQ_INT(unesc("a\\0b", sizeof(out), out, &err, &at), 3, "\\0 is one NUL");
	OK(out[0] == 'a' && out[1] == 0 && out[2] == 'b', "\\0 value");
	EQ_INT(unesc("\\08", sizeof(out), out, &err, &at), 2, "\\0 then 8 (not octal)");
	OK(out[0] == 0 && out[1] == '8', "\\08 is NUL, '8'");
	EQ_INT(unesc("\\x414", sizeof(out), out, &err, &at), 2, "\\x takes exactly two digits");
	OK(out[0] == 'A' && out[1] == '4', "\\x414 is A, 4");
	EQ_INT(unesc("plain text", sizeof(out), out, &err, &at), 10, "no escapes: as is");
	EQ_INT(unesc("", sizeof(out), out, &err, &at), 0, "empty: 0 bytes");
	EQ_INT(unesc("caf\xc3\xa9", sizeof(out), out, &err, &at), 5, "UTF-8 bytes pass through");

	EQ_INT(unesc("ab\\q", sizeof(out), out, &err, &at), -1, "unknown escape refused");
	OK(err && strstr(err, "unknown escape"), "unknown escape: message");
	EQ_INT(at, 2, "unknown escape: offset of its backslash");
	EQ_INT(unesc("ab\\", sizeof(out), out, &err, &at), -1, "trailing backslash refused");
	OK(err && strstr(err, "lone"), "trailing backslash: message");
	EQ_INT(at, 2, "trailing backslash: offset");
	EQ_INT(unesc("\\x4", sizeof(out), out, &err, &at), -1, "\\x with one digit refused");
	EQ_INT(unesc("\\x4g", sizeof(out), out, &err, &at), -1, "\\x with a non-hex digit refused");
	EQ_INT(unesc("\\x", sizeof(out), out, &err, &at), -1, "\\x at the end refused");
	OK(err && strstr(err, "two hex digits"), "\\x: message");
	EQ_INT(unesc("\\012", sizeof(out), out, &err, &at), -1, "octal refused");
	OK(err && strstr(err, "octal"), "octal: message");
	EQ_INT(unesc("\\N", sizeof(out), out, &err, &at), -1, "escapes are case-sensitive");

	/* Bounds: the capacity is respected exactly. */
	EQ_INT(unesc("abcd", 4, out, &err, &at), 4, "fits exactly");
	out[3] = 0x55;
	EQ_INT(unesc("abcd", 3, out, &err, &at), -1, "one byte too many refused");
	EQ_INT(out[3], 0x55, "nothing written past the capacity");
	EQ_INT(unesc("a", 0, out, &err, &at), -1, "capacity 0");
	size_t len = 4;
	EQ_INT(hs_payload_unescape(NULL, out, &len, &err), -1, "NULL text refused");
}

static void test_hex(void)
{
	uint8_t out[64];
	const char *err;
	size_t at = 99;

	EQ_INT(hex("48656c6c6f", sizeof(out), out, &err, &at), 5, "hex: Hello");
	OK(memcmp(out, "Hello", 5) == 0, "hex: Hello value");
	EQ_INT(hex("0x00FF", sizeof(out), out, &err, &at), 2, "hex: 0x prefix, upper case");
	OK(out[0] == 0 && out[1] == 0xff, "hex: 0x00FF value");
	EQ_INT(hex("de:ad be\nef", sizeof(out), out, &err, &at), 4, "hex: separators between bytes");
	OK(out[0] == 0xde && out[3] == 0xef, "hex: separated value");

	EQ_INT(hex("abc", sizeof(out), out, &err, &at), -1, "hex: odd length refused");
	OK(err && strstr(err, "odd"), "hex: odd message");
	EQ_INT(at, 2, "hex: odd offset");
	EQ_INT(hex("a bc", sizeof(out), out, &err, &at), -1, "hex: separator inside a byte refused");
	OK(err && strstr(err, "odd"), "hex: split byte message");
	EQ_INT(hex("zz", sizeof(out), out, &err, &at), -1, "hex: non-hex refused");
	OK(err && strstr(err, "not a hex digit"), "hex: non-hex message");
	EQ_INT(hex("0g", sizeof(out), out, &err, &at), -1, "hex: second digit non-hex refused");
	EQ_INT(at, 1, "hex: second digit offset");
	EQ_INT(hex("", sizeof(out), out, &err, &at), -1, "hex: empty refused");
	EQ_INT(hex("0x", sizeof(out), out, &err, &at), -1, "hex: bare 0x refused");
	EQ_INT(hex(" : ", sizeof(out), out, &err, &at), -1, "hex: separators only refused");
	OK(err && strstr(err, "no hex digits"), "hex: no digits message");
	out[2] = 0x55;
	EQ_INT(hex("010203", 2, out, &err, &at), -1, "hex: one byte too many refused");
	EQ_INT(out[2], 0x55, "hex: nothing written past the capacity");
}

static void test_file(void)
{
	char path[] = "/tmp/hs-test-payload-XXXXXX", err[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd = mkstemp(path);

	OK(fd >= 0, "temp file");
	EQ_INT(hs_payload_read_file(path, 100, &buf, &len, err, sizeof(err)), -1, "empty file refused");
	OK(strstr(err, "empty") != NULL, "empty file: message");
	OK(write(fd, "ab\0\ncd", 6) == 6, "write 6 bytes");
	EQ_INT(hs_payload_read_file(path, 100, &buf, &len, err, sizeof(err)), 0, "file read");
	EQ_INT(len, 6, "file length");
	OK(buf && memcmp(buf, "ab\0\ncd", 6) == 0, "file bytes, NUL included");
	free(buf);
	buf = NULL;
	EQ_INT(hs_payload_read_file(path, 6, &buf, &len, err, sizeof(err)), 0, "file of exactly max");
	free(buf);
	buf = NULL;
	EQ_INT(hs_payload_read_file(path, 5, &buf, &len, err, sizeof(err)), -1, "file over max refused");
	OK(strstr(err, "too large") != NULL, "too large: message");
	OK(buf == NULL, "too large: nothing returned");
	close(fd);
	unlink(path);
	EQ_INT(hs_payload_read_file(path, 100, &buf, &len, err, sizeof(err)), -1, "missing file refused");
	OK(strstr(err, "cannot open") != NULL, "missing file: message");
	EQ_INT(hs_payload_read_file("/", 100, &buf, &len, err, sizeof(err)), -1, "directory refused");
	OK(strstr(err, "directory") != NULL, "directory: message");
	/* A pipe-like file whose size stat cannot tell: read until max + 1. */
	EQ_INT(hs_payload_read_file("/dev/zero", 10000, &buf, &len, err, sizeof(err)), -1, "endless device refused");
	OK(strstr(err, "too large") != NULL, "endless device: message");
}

static void test_host_split(void)
{
	char host[64];
	uint16_t port = 1;
	const char *err;

	EQ_INT(hs_host_split("198.18.0.2", host, sizeof(host), &port, &err), 0, "v4 alone");
	EQ_STR(host, "198.18.0.2", "v4 alone: host");
	EQ_INT(port, 0, "v4 alone: no port");
	EQ_INT(hs_host_split("198.18.0.2:8080", host, sizeof(host), &port, &err), 0, "v4:port");
	EQ_STR(host, "198.18.0.2", "v4:port host");
	EQ_INT(port, 8080, "v4:port port");
	EQ_INT(hs_host_split("example.org:80", host, sizeof(host), &port, &err), 0, "name:port");
	EQ_STR(host, "example.org", "name:port host");
	EQ_INT(hs_host_split("[2001:db8::2]", host, sizeof(host), &port, &err), 0, "[v6]");
	EQ_STR(host, "2001:db8::2", "[v6] host, no brackets");
	EQ_INT(port, 0, "[v6] no port");
	EQ_INT(hs_host_split("[2001:db8::2]:8080", host, sizeof(host), &port, &err), 0, "[v6]:port");
	EQ_STR(host, "2001:db8::2", "[v6]:port host");
	EQ_INT(port, 8080, "[v6]:port port");
	EQ_INT(hs_host_split("2001:db8::2", host, sizeof(host), &port, &err), 0, "bare v6");
	EQ_STR(host, "2001:db8::2", "bare v6 host");
	EQ_INT(port, 0, "bare v6: its last group is no port");
	EQ_INT(hs_host_split("2001:db8::2:8080", host, sizeof(host), &port, &err), 0, "ambiguous v6: all host");
	EQ_INT(port, 0, "ambiguous v6: no port");

	EQ_INT(hs_host_split("198.18.0.2:", host, sizeof(host), &port, &err), -1, "empty port refused");
	EQ_INT(hs_host_split("198.18.0.2:http", host, sizeof(host), &port, &err), -1, "named port refused");
	EQ_INT(hs_host_split("198.18.0.2:70000", host, sizeof(host), &port, &err), -1, "port 70000 refused");
	EQ_INT(hs_host_split(":80", host, sizeof(host), &port, &err), -1, "empty host refused");
	EQ_INT(hs_host_split("", host, sizeof(host), &port, &err), -1, "empty refused");
	EQ_INT(hs_host_split("[]:80", host, sizeof(host), &port, &err), -1, "[] refused");
	EQ_INT(hs_host_split("[2001:db8::2", host, sizeof(host), &port, &err), -1, "[ without ] refused");
	OK(err && strstr(err, "]"), "[ without ]: message");
	EQ_INT(hs_host_split("[2001:db8::2]8080", host, sizeof(host), &port, &err), -1, "] then no colon refused");
	EQ_INT(hs_host_split("[::1]]:80", host, sizeof(host), &port, &err), -1, "]] refused");
	EQ_INT(hs_host_split("a]:80", host, sizeof(host), &port, &err), -1, "stray ] refused");
	char tiny[4];
	EQ_INT(hs_host_split("abcd:80", tiny, sizeof(tiny), &port, &err), -1, "host longer than the buffer refused");
	EQ_INT(hs_host_split("abc:80", tiny, sizeof(tiny), &port, &err), 0, "host that just fits");
	EQ_STR(tiny, "abc", "host that just fits: value");
}

int main(void)
{
	test_unescape();
	test_hex();
	test_file();
	test_host_split();
	return tap_done();
}
