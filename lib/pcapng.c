/* A small pcapng writer: one Section Header Block, one Interface Description Block
 * (LINKTYPE_RAW, if_tsresol 9), then one Enhanced Packet Block per packet with its
 * opt_comment. Read back by tshark/Wireshark (frame.comment) and by libpcap
 * (pcap_open_offline reads pcapng): fuzz/fuzz_pcapng.c writes random records and
 * checks that libpcap returns them exactly; tests/bats/pcapng.bats reads hs's files
 * with tshark.
 *
 * Why not Wireshark's libwiretap (Debian libwiretap-dev, 4.0.17, libwiretap.so.13),
 * the first candidate. It works (wtap_dump_open with the pcapng subtype,
 * WTAP_ENCAP_RAW_IP, the comment through wtap_block_add_string_option(rec.block,
 * OPT_COMMENT, ...)), but measured on this machine (Debian 12, 2 cores):
 *   - linked into hs, every command pays for it: `hs --version` 7.0-9.4 ms ->
 *     13.8-21.4 ms (perf stat -r 200, three interleaved rounds), max RSS 4.1 ->
 *     8.2 MiB (/usr/bin/time), 19 -> 34 shared objects (glib, gnutls, gcrypt,
 *     systemd, zstd, lz4, ...): over the start-up and RSS budget by itself;
 *   - loaded only for -w X.pcapng (dlopen), a one-packet file still costs ~10 ms
 *     (12.6 ms vs 2.6 ms for an empty program) and 6.7 MiB RSS;
 *   - its ABI changes with every Wireshark minor release (a new soname each time:
 *     13 is 4.0) and Wireshark promises no stable API for it, so a dlopen by
 *     soname binds hs to Debian 12's Wireshark; and its headers need
 *     libwireshark-dev, libwsutil-dev and libglib2.0-dev (14 packages) which
 *     libwiretap-dev does not even depend on;
 *   - without ws_log_init() it prints "[Wiretap DEBUG]" lines on stderr;
 *   - GPL-2.0-or-later, while hs is MIT-licensed (LICENSE).
 * The format part hs needs is three fixed blocks, so it is written here. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs/err.h"
#include "hs/pcapng.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_ENDOFOPT 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_TSRESOL 9
#define LINKTYPE_RAW 101

struct hs_pcapng {
	int fd;
	bool own_fd;      /* not stdout */
	bool regular;     /* a regular file: cut back after a failed write */
	bool created;     /* this writer made it (removed by discard if never written) */
	bool started;     /* the header blocks are out */
	int err;          /* the first write error; then nothing more is written */
	off_t good;       /* bytes in the file after the last whole block */
	char *path;
	uint8_t *buf;     /* one block under construction */
	size_t cap;
};

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static bool reserve(hs_pcapng *w, size_t n)
{
	if (n <= w->cap)
		return true;
	uint8_t *p = realloc(w->buf, n);
	if (!p)
		return false;
	w->buf = p;
	w->cap = n;
	return true;
}

/* Blocks are written in host byte order: the SHB's magic tells readers which. */
static size_t put32(uint8_t *p, size_t at, uint32_t v)
{
	memcpy(p + at, &v, 4);
	return at + 4;
}

static size_t put16(uint8_t *p, size_t at, uint16_t v)
{
	memcpy(p + at, &v, 2);
	return at + 2;
}

/* An option: code, length, value, zero padding to 32 bits. */
static size_t put_opt(uint8_t *p, size_t at, uint16_t code, const void *val, size_t len)
{
	at = put16(p, at, code);
	at = put16(p, at, (uint16_t)len);
	if (len)
		memcpy(p + at, val, len);
	memset(p + at + len, 0, pad4(len) - len);
	return at + pad4(len);
}

/* One whole block: written with as many write() calls as it takes; after a failure
 * a regular file is cut back to the last whole block, so that readers see a clean
 * end. Returns 0 or the (kept) errno. */
static int emit(hs_pcapng *w, size_t n)
{
	size_t done = 0;

	if (w->err)
		return w->err;
	while (done < n) {
		ssize_t k = write(w->fd, w->buf + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			w->err = k < 0 ? errno : EIO;
			if (w->regular && ftruncate(w->fd, w->good) == 0)
				(void)lseek(w->fd, w->good, SEEK_SET);
			return w->err;
		}
		done += (size_t)k;
	}
	w->good += (off_t)n;
	return 0;
}

/* The Section Header Block (with the writing program's name) and the Interface
 * Description Block: raw IP, nanosecond timestamps, no snapshot limit (0). */
static int start(hs_pcapng *w)
{
	static const char appl[] = "hs " PACKAGE_VERSION;
	const uint8_t tsresol = 9; /* 10^-9 s */

	if (w->started)
		return w->err;
	w->started = true;
	/* The first bytes written: only now is an existing file's content given up. */
	if (w->regular && ftruncate(w->fd, 0) != 0) {
		w->err = errno;
		return w->err;
	}
	size_t shb_len = 28 + 4 + pad4(sizeof(appl) - 1) + 4;
	size_t idb_len = 20 + 4 + 4 + 4;
	if (!reserve(w, shb_len + idb_len)) {
		w->err = ENOMEM;
		return w->err;
	}
	uint8_t *p = w->buf;
	size_t at = put32(p, 0, BT_SHB);
	at = put32(p, at, (uint32_t)shb_len);
	at = put32(p, at, BYTE_ORDER_MAGIC);
	at = put16(p, at, 1); /* version 1.0 */
	at = put16(p, at, 0);
	at = put32(p, at, 0xffffffffu); /* section length: not given (-1) */
	at = put32(p, at, 0xffffffffu);
	at = put_opt(p, at, OPT_SHB_USERAPPL, appl, sizeof(appl) - 1);
	at = put_opt(p, at, OPT_ENDOFOPT, NULL, 0);
	at = put32(p, at, (uint32_t)shb_len);

	at = put32(p, at, BT_IDB);
	at = put32(p, at, (uint32_t)idb_len);
	at = put16(p, at, LINKTYPE_RAW);
	at = put16(p, at, 0); /* reserved */
	at = put32(p, at, 0); /* snaplen: no limit */
	at = put_opt(p, at, OPT_IF_TSRESOL, &tsresol, 1);
	at = put_opt(p, at, OPT_ENDOFOPT, NULL, 0);
	at = put32(p, at, (uint32_t)idb_len);
	return emit(w, at);
}

static void free_writer(hs_pcapng *w)
{
	if (w->own_fd && w->fd >= 0)
		close(w->fd);
	free(w->path);
	free(w->buf);
	free(w);
}

/* The path's file for writing: created (O_EXCL, so that we know we made it) or,
 * when it exists, opened as it is, not truncated. */
static int open_path(const char *path, bool *created)
{
	for (int tries = 0; tries < 3; tries++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
		if (fd >= 0) {
			*created = true;
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0 || errno != ENOENT) /* ENOENT: removed meanwhile, try again */
			return fd;
	}
	return -1;
}

int hs_pcapng_open(hs_pcapng **out, const char *path, char *err, size_t errlen)
{
	bool to_stdout = strcmp(path, "-") == 0;
	const char *name = to_stdout ? "the capture to stdout" : path;
	struct stat st;

	*out = NULL;
	hs_pcapng *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path))) {
		free(w);
		hs_seterr(err, errlen, "cannot write %s: out of memory", name);
		return -1;
	}
	w->fd = to_stdout ? STDOUT_FILENO : open_path(path, &w->created);
	w->own_fd = !to_stdout;
	if (w->fd < 0) {
		hs_seterr(err, errlen, "cannot write %s: %s", name, strerror(errno));
		free_writer(w);
		return -1;
	}
	w->regular = fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode);
	if (!w->regular && start(w) != 0) {
		hs_seterr(err, errlen, "cannot write %s: %s", name, strerror(w->err));
		free_writer(w);
		return -1;
	}
	*out = w;
	return 0;
}

int hs_pcapng_started(const hs_pcapng *w)
{
	return w && w->started;
}

int hs_pcapng_write(hs_pcapng *w, uint64_t wall_ns, const uint8_t *ip, size_t caplen, size_t len,
                    const char *comment)
{
	size_t clen = comment ? strlen(comment) : 0;

	if (start(w) != 0)
		return w->err;
	if (caplen > len)
		caplen = len;
	if (caplen > HS_PCAPNG_MAX_CAPLEN)
		caplen = HS_PCAPNG_MAX_CAPLEN;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	if (clen > HS_PCAPNG_MAX_COMMENT) { /* cut before a UTF-8 continuation byte */
		clen = HS_PCAPNG_MAX_COMMENT;
		while (clen > 0 && ((unsigned char)comment[clen] & 0xc0) == 0x80)
			clen--;
	}
	size_t n = 28 + pad4(caplen) + (clen ? 4 + pad4(clen) + 4 : 0) + 4;
	if (!reserve(w, n)) {
		w->err = ENOMEM;
		return w->err;
	}
	uint8_t *p = w->buf;
	size_t at = put32(p, 0, BT_EPB);
	at = put32(p, at, (uint32_t)n);
	at = put32(p, at, 0); /* interface 0 */
	at = put32(p, at, (uint32_t)(wall_ns >> 32));
	at = put32(p, at, (uint32_t)wall_ns);
	at = put32(p, at, (uint32_t)caplen);
	at = put32(p, at, (uint32_t)len);
	if (caplen)
		memcpy(p + at, ip, caplen);
	memset(p + at + caplen, 0, pad4(caplen) - caplen);
	at += pad4(caplen);
	if (clen) {
		at = put_opt(p, at, OPT_COMMENT, comment, clen);
		at = put_opt(p, at, OPT_ENDOFOPT, NULL, 0);
	}
	at = put32(p, at, (uint32_t)n);
	return emit(w, at);
}

int hs_pcapng_close(hs_pcapng *w)
{
	if (!w)
		return 0;
	start(w);
	int e = w->err;
	if (w->own_fd && close(w->fd) != 0 && !e && errno != EINTR)
		e = errno; /* NFS and friends report a failed write-back here */
	w->fd = -1;
	free_writer(w);
	return e;
}

int hs_pcapng_discard(hs_pcapng *w)
{
	if (!w)
		return 0;
	if (w->started)
		return hs_pcapng_close(w);
	if (w->created)
		unlink(w->path);
	free_writer(w);
	return 0;
}
