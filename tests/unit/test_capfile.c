/* lib/capfile.c against the real-kernel captures in tests/unit/captures (the counts
 * are tcpdump's reading of the same files) and against files that are not captures.
 * The captures are found under $srcdir (set by the test harness), else ".". */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hs/capfile.h"
#include "tap.h"

static char dir[400];

static const char *cap_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

struct counts {
	int tcp, icmp, syn, bad_ip;
	unsigned long frames;
	int rc;             /* hs_capfile_next's last return */
	char err[256];
};

static int read_all(const char *path, const char *filter, struct counts *c)
{
	hs_capfile *f;
	char err[256];
	uint64_t last = 0;

	memset(c, 0, sizeof(*c));
	int rc = hs_capfile_open(&f, path, filter, err, sizeof(err));
	if (rc != 0) {
		snprintf(c->err, sizeof(c->err), "%s", err);
		return rc;
	}
	for (;;) {
		hs_packet pkt;
		uint64_t wall;
		const uint8_t *ip;
		size_t caplen, len;
		c->rc = hs_capfile_next(f, &pkt, &wall, &ip, &caplen, &len, c->err, sizeof(c->err));
		if (c->rc <= 0)
			break;
		if (pkt.kind == HS_PKT_TCP)
			c->tcp++;
		if (pkt.kind == HS_PKT_ICMP)
			c->icmp++;
		if (pkt.kind == HS_PKT_TCP && (pkt.u.tcp.flags & HS_SYN))
			c->syn++;
		/* The datagram: an IP header first, whole (these captures are not cut), and
		 * IPv4's total length is the length given; time never goes back. */
		unsigned v = ip && caplen ? ip[0] >> 4 : 0;
		if (!ip || (v != 4 && v != 6) || caplen != len || wall < last || wall == 0 ||
		    (v == 4 && ((size_t)ip[2] << 8 | ip[3]) != len) ||
		    (v == 6 && ((size_t)ip[4] << 8 | ip[5]) + 40 != len))
			c->bad_ip++;
		last = wall;
	}
	c->frames = hs_capfile_frames(f);
	hs_capfile_close(f);
	return 0;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");
	if (fp) {
		fwrite(p, 1, n, fp);
		fclose(fp);
	}
}

int main(void)
{
	const char *srcdir = getenv("srcdir");
	char path[700], tmp[700], tmpl[512];
	struct counts c;

	snprintf(dir, sizeof(dir), "%s/tests/unit/captures", srcdir && *srcdir ? srcdir : ".");

	/* Every link type the captures have: EN10MB (lo, veth), LINUX_SLL, LINUX_SLL2. */
	static const struct { const char *name; int tcp, icmp, syn; unsigned long frames; } want[] = {
		{ "lo.pcap", 11, 0, 2, 11 },
		{ "sll.pcap", 11, 0, 2, 11 },
		{ "sll2.pcap", 11, 0, 2, 11 },
		{ "veth.pcap", 27, 3, 8, 45 }, /* and ARP, neighbour discovery: skipped */
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char what[128];
		int rc = read_all(cap_path(want[i].name, path, sizeof(path)), NULL, &c);
		snprintf(what, sizeof(what), "%s opens", want[i].name);
		EQ_INT(rc, 0, what);
		snprintf(what, sizeof(what), "%s: TCP segments as tcpdump counts them", want[i].name);
		EQ_INT(c.tcp, want[i].tcp, what);
		snprintf(what, sizeof(what), "%s: ICMP errors", want[i].name);
		EQ_INT(c.icmp, want[i].icmp, what);
		snprintf(what, sizeof(what), "%s: SYNs", want[i].name);
		EQ_INT(c.syn, want[i].syn, what);
		snprintf(what, sizeof(what), "%s: every datagram found whole, in time order", want[i].name);
		EQ_INT(c.bad_ip, 0, what);
		snprintf(what, sizeof(what), "%s: every frame read", want[i].name);
		EQ_INT(c.frames, want[i].frames, what);
		snprintf(what, sizeof(what), "%s: ends cleanly", want[i].name);
		EQ_INT(c.rc, 0, what);
	}

	/* A BPF filter, compiled for the file's link type. */
	EQ_INT(read_all(cap_path("sll2.pcap", path, sizeof(path)), "tcp[13] & 2 != 0", &c), 0, "filter opens");
	EQ_INT(c.tcp, 2, "the filter keeps the SYNs alone");
	EQ_INT(read_all(cap_path("veth.pcap", path, sizeof(path)), "icmp or icmp6", &c), 0, "filter opens (veth)");
	EQ_INT(c.tcp + c.icmp, 3, "icmp or icmp6: the errors (the rest of ICMP is skipped)");
	EQ_INT(read_all(cap_path("lo.pcap", path, sizeof(path)), "tcp prot 80", &c), HS_CAPFILE_BAD, "a bad filter");
	OK(strstr(c.err, "bad filter \"tcp prot 80\""), "says which filter");

	/* Files that are not captures. */
	EQ_INT(read_all(cap_path("nope.pcap", path, sizeof(path)), NULL, &c), HS_CAPFILE_BAD, "a missing file");
	OK(strstr(c.err, "nope.pcap: No such file"), "says so");
	EQ_INT(read_all(dir, NULL, &c), HS_CAPFILE_BAD, "a directory");
	OK(strstr(c.err, "is a directory"), "says so");
	EQ_INT(read_all(cap_path("capture.sh", path, sizeof(path)), NULL, &c), HS_CAPFILE_BAD, "a script");
	OK(strstr(c.err, "capture.sh: not a pcap or pcapng file"), "is not a capture");

	const char *t = getenv("TMPDIR");
	snprintf(tmpl, sizeof(tmpl), "%s/hs-capfile-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpl)) {
		OK(0, "mkdtemp");
		return tap_done();
	}
	/* A pcap header of link type 147 (USER0): nothing hs decodes. */
	static const uint8_t user0[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	                                   0xff, 0xff, 0, 0, 147, 0, 0, 0 };
	snprintf(tmp, sizeof(tmp), "%s/user0.pcap", tmpl);
	write_file(tmp, user0, sizeof(user0));
	EQ_INT(read_all(tmp, NULL, &c), HS_CAPFILE_BAD, "link type 147");
	OK(strstr(c.err, "link type 147 is not one hs decodes"), "names it");
	unlink(tmp);
	/* An empty file. */
	snprintf(tmp, sizeof(tmp), "%s/empty.pcap", tmpl);
	write_file(tmp, "", 0);
	EQ_INT(read_all(tmp, NULL, &c), HS_CAPFILE_BAD, "an empty file");
	OK(strstr(c.err, "not a pcap or pcapng file"), "is not a capture");
	unlink(tmp);
	/* lo.pcap cut in its last record: ten frames, then a read error that says why. */
	FILE *fp = fopen(cap_path("lo.pcap", path, sizeof(path)), "rb");
	static uint8_t buf[65536];
	size_t n = fp ? fread(buf, 1, sizeof(buf), fp) : 0;
	if (fp)
		fclose(fp);
	snprintf(tmp, sizeof(tmp), "%s/cut.pcap", tmpl);
	write_file(tmp, buf, n > 10 ? n - 10 : 0);
	EQ_INT(read_all(tmp, NULL, &c), 0, "a cut file opens");
	EQ_INT(c.tcp, 10, "all but the cut record");
	EQ_INT(c.rc, -1, "then an error");
	OK(strstr(c.err, "truncated"), "that says the file is truncated");
	unlink(tmp);
	rmdir(tmpl);
	return tap_done();
}
