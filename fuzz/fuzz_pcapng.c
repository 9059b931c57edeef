/* Fuzz target for the pcapng writer (lib/pcapng.c): the input is a list of records
 * (timestamp, captured and original lengths, packet bytes, comment), written with
 * hs_pcapng_write; the file is then read back twice:
 *   - by libpcap (pcap_open_offline reads pcapng): exactly the records, in order,
 *     with their nanosecond timestamps, lengths (caplen cut as the writer promises)
 *     and bytes -- an independent reader of the block structure;
 *   - by a walk over the blocks here: every block's two length fields agree, the
 *     IDB says LINKTYPE_RAW and if_tsresol 9, and each EPB's opt_comment holds the
 *     record's comment (cut at a character boundary past 65535 bytes), none when
 *     the comment is empty. tshark reads the comments of hs's own files in
 *     tests/bats/pcapng.bats.
 *
 * Record layout (all of it optional: a short input ends the list):
 *   u8 kind (bit 0: long comment, bits 1-2: how the original length relates),
 *   u64 wall_ns, u16 caplen, u16 comment length, then caplen packet bytes and the
 *   comment bytes (both taken cyclically from the input when it runs short).
 *
 *   libFuzzer: make fuzz (fuzz/fuzz_pcapng_libfuzzer, corpus fuzz/corpus-pcapng)
 *   replay (make check): fuzz/replay_main.c, built as fuzz/fuzz_pcapng_replay */
#include <config.h>

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs/pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXREC 64
#define LONG_COMMENT (HS_PCAPNG_MAX_COMMENT + 3000)

struct rec {
	uint64_t ts;
	size_t caplen, len;  /* as given */
	uint8_t *pkt;
	char *comment;
	size_t clen;
};

static void require(int cond)
{
	if (!cond)
		abort();
}

/* Bytes from the input, cyclically once it is used up (never empty: size > 0). */
static uint8_t byte_at(const uint8_t *d, size_t size, size_t *pos)
{
	uint8_t b = d[*pos % size];
	(*pos)++;
	return b;
}

static uint64_t take(const uint8_t *d, size_t size, size_t *pos, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | byte_at(d, size, pos);
	return v;
}

/* n bytes from the input at *pos, cyclically. */
static void fill(uint8_t *dst, size_t n, const uint8_t *d, size_t size, size_t *pos)
{
	size_t at = *pos % size;

	*pos += n;
	while (n > 0) {
		size_t k = size - at < n ? size - at : n;
		memcpy(dst, d + at, k);
		dst += k;
		n -= k;
		at = 0;
	}
}

static int parse(const uint8_t *d, size_t size, struct rec *r)
{
	size_t pos = 0;
	int n = 0, longs = 0;

	while (n < MAXREC && pos + 13 <= size) {
		struct rec *x = &r[n++];
		uint8_t kind = d[pos++];
		x->ts = take(d, size, &pos, 8);
		x->caplen = (size_t)take(d, size, &pos, 2);
		size_t clen = (size_t)take(d, size, &pos, 2);
		if ((kind & 1) && longs++ < 2) /* two at most: they are slow to check */
			clen = LONG_COMMENT - clen % 100;
		switch ((kind >> 1) & 3) {
		case 0: x->len = x->caplen; break;
		case 1: x->len = x->caplen + (kind >> 3); break;
		case 2: x->len = x->caplen / 2; break; /* caplen > len: cut to len */
		default: x->len = 0xfffffff0u; break;
		}
		x->pkt = malloc(x->caplen ? x->caplen : 1);
		x->comment = malloc(clen + 1);
		require(x->pkt && x->comment);
		fill(x->pkt, x->caplen, d, size, &pos);
		fill((uint8_t *)x->comment, clen, d, size, &pos);
		for (size_t i = 0; i < clen; i++) /* a C string: no NUL inside */
			if (!x->comment[i])
				x->comment[i] = 'x';
		x->comment[clen] = '\0';
		x->clen = clen;
	}
	return n;
}

/* The comment as the writer stores it: cut before a UTF-8 continuation byte past
 * the option's 65535 bytes. */
static size_t stored_clen(const struct rec *x)
{
	size_t n = x->clen;
	if (n > HS_PCAPNG_MAX_COMMENT) {
		n = HS_PCAPNG_MAX_COMMENT;
		while (n > 0 && ((unsigned char)x->comment[n] & 0xc0) == 0x80)
			n--;
	}
	return n;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* The walk over the blocks (written in host byte order). */
static void check_blocks(const uint8_t *f, size_t size, const struct rec *r, int n)
{
	size_t at = 0;
	int epb = 0;
	bool idb = false;

	require(size >= 28 && rd32(f) == 0x0A0D0D0Au && rd32(f + 8) == 0x1A2B3C4Du);
	while (at < size) {
		require(size - at >= 12);
		uint32_t type = rd32(f + at), len = rd32(f + at + 4);
		require(len >= 12 && len % 4 == 0 && len <= size - at);
		require(rd32(f + at + len - 4) == len);
		const uint8_t *b = f + at;
		if (type == 1) {
			require(!idb && epb == 0 && len == 32);
			require(rd16(b + 8) == 101); /* LINKTYPE_RAW */
			require(rd16(b + 16) == 9 && rd16(b + 18) == 1 && b[20] == 9); /* if_tsresol */
			idb = true;
		} else if (type == 6) {
			require(idb && epb < n);
			const struct rec *x = &r[epb++];
			uint32_t cap = rd32(b + 20);
			size_t opts = 28 + ((cap + 3) & ~3u);
			size_t want = stored_clen(x);
			if (want == 0) {
				require(opts + 4 == len); /* no options at all */
			} else {
				require(rd16(b + opts) == 1 && rd16(b + opts + 2) == want);
				require(memcmp(b + opts + 4, x->comment, want) == 0);
				size_t end = opts + 4 + ((want + 3) & ~(size_t)3);
				require(rd32(b + end) == 0 && end + 8 == len); /* opt_endofopt, then the length */
			}
		} else {
			require(type == 0x0A0D0D0Au && at == 0);
		}
		at += len;
	}
	require(idb && epb == n);
}

static void check_libpcap(int fd, const struct rec *r, int n)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	int copy = dup(fd);
	FILE *f = copy >= 0 ? fdopen(copy, "rb") : NULL;
	struct pcap_pkthdr *h;
	const u_char *pkt;
	int i = 0, rc;

	require(f != NULL && lseek(fd, 0, SEEK_SET) == 0);
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		fprintf(stderr, "libpcap: %s\n", ebuf);
		abort();
	}
	require(pcap_datalink(p) == DLT_RAW || pcap_datalink(p) == 101);
	while ((rc = pcap_next_ex(p, &h, &pkt)) == 1) {
		require(i < n);
		const struct rec *x = &r[i++];
		size_t cap = x->caplen < x->len ? x->caplen : x->len;
		if (cap > HS_PCAPNG_MAX_CAPLEN)
			cap = HS_PCAPNG_MAX_CAPLEN;
		require((uint64_t)h->ts.tv_sec == x->ts / 1000000000u);
		require((uint64_t)h->ts.tv_usec == x->ts % 1000000000u);
		require(h->caplen == cap && h->len == x->len);
		require(cap == 0 || memcmp(pkt, x->pkt, cap) == 0);
	}
	if (rc != PCAP_ERROR_BREAK) {
		fprintf(stderr, "libpcap: record %d: %s\n", i, pcap_geterr(p));
		abort();
	}
	require(i == n);
	pcap_close(p); /* closes f */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The file lives in memory (memfd); the writer opens it by its /proc name, as
	 * it opens any path. */
	static int fd = -1;
	static char path[64];
	struct rec r[MAXREC];
	char err[256];
	struct stat st;
	hs_pcapng *w;

	if (size == 0)
		return 0;
	if (fd < 0) {
		fd = memfd_create("hs-fuzz-pcapng", MFD_CLOEXEC);
		require(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	require(ftruncate(fd, 0) == 0);
	int n = parse(data, size, r);
	require(hs_pcapng_open(&w, path, err, sizeof(err)) == 0);
	for (int i = 0; i < n; i++)
		require(hs_pcapng_write(w, r[i].ts, r[i].pkt, r[i].caplen, r[i].len, r[i].comment) == 0);
	require(hs_pcapng_close(w) == 0);

	require(fstat(fd, &st) == 0);
	size_t fsize = (size_t)st.st_size;
	uint8_t *buf = malloc(fsize ? fsize : 1);
	require(buf && pread(fd, buf, fsize, 0) == (ssize_t)fsize);
	check_blocks(buf, fsize, r, n);
	free(buf);
	check_libpcap(fd, r, n);
	for (int i = 0; i < n; i++) {
		free(r[i].pkt);
		free(r[i].comment);
	}
	return 0;
}
