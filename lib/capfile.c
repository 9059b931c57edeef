/* Reading capture files for -r: libpcap's offline reader does pcap and pcapng (and
 * stdin), the BPF filter runs on the file's frames as on a live capture's, and
 * decode.c turns each frame into a segment or an ICMP error. The file is opened here
 * (not by libpcap) so that why it cannot be opened is known: a missing file is the
 * user's mistake, an unreadable one the environment's. */
#include <config.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "hs/capfile.h"
#include "hs/err.h"

struct hs_capfile {
	pcap_t *p;
	int dlt;
	const char *name;        /* for messages: the path, or "stdin" */
	unsigned long skipped;   /* malformed frames */
	unsigned long frames;
};

/* The link types hs_decode_frame knows (segment.h). */
static int dlt_known(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
	case DLT_NULL:
	case DLT_LOOP:
		return 1;
	}
	return 0;
}

/* libpcap's reasons for refusing a file, as one line about the file. */
static void open_error(const char *name, const char *why, char *err, size_t errlen)
{
	if (strstr(why, "unknown file format") || strstr(why, "truncated dump file") ||
	    strstr(why, "bad dump file format") || strstr(why, "version"))
		hs_seterr(err, errlen, "%s: not a pcap or pcapng file (%s)", name, why);
	else
		hs_seterr(err, errlen, "%s: %s", name, why);
}

int hs_capfile_open(hs_capfile **out, const char *path, const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "stdin" : path;
	FILE *fp = stdin;
	struct stat st;

	*out = NULL;
	if (!is_stdin) {
		fp = fopen(path, "rb");
		if (!fp) {
			int e = errno;
			hs_seterr(err, errlen, "%s: %s", name, strerror(e));
			return e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG ? HS_CAPFILE_BAD : HS_CAPFILE_ENV;
		}
		if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
			fclose(fp);
			hs_seterr(err, errlen, "%s: is a directory, not a capture file", name);
			return HS_CAPFILE_BAD;
		}
	}
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		int e = errno;
		if (!is_stdin)
			fclose(fp); /* libpcap leaves a stream it refused to its owner */
		if (strstr(ebuf, "error reading dump file")) {
			hs_seterr(err, errlen, "%s: %s", name, ebuf);
			return e == EISDIR ? HS_CAPFILE_BAD : HS_CAPFILE_ENV;
		}
		open_error(name, ebuf, err, errlen);
		return HS_CAPFILE_BAD;
	}
	int dlt = pcap_datalink(p);
	if (!dlt_known(dlt)) {
		const char *dn = pcap_datalink_val_to_name(dlt);
		hs_seterr(err, errlen, "%s: link type %d%s%s%s is not one hs decodes (EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL, LOOP)",
		          name, dlt, dn ? " (" : "", dn ? dn : "", dn ? ")" : "");
		pcap_close(p);
		return HS_CAPFILE_BAD;
	}
	if (filter && *filter) {
		struct bpf_program prog;
		/* Offline: no netmask to know (it only matters to "ip broadcast"). */
		if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			hs_seterr(err, errlen, "bad filter \"%s\": %s", filter, pcap_geterr(p));
			pcap_close(p);
			return HS_CAPFILE_BAD;
		}
		int rc = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
		if (rc != 0) {
			hs_seterr(err, errlen, "cannot apply filter \"%s\": %s", filter, pcap_geterr(p));
			pcap_close(p);
			return HS_CAPFILE_BAD;
		}
	}
	hs_capfile *f = calloc(1, sizeof(*f));
	if (!f) {
		pcap_close(p);
		hs_seterr(err, errlen, "out of memory");
		return HS_CAPFILE_ENV;
	}
	f->p = p;
	f->dlt = dlt;
	f->name = name;
	*out = f;
	return 0;
}

int hs_capfile_next(hs_capfile *f, hs_packet *pkt, uint64_t *wall_ns, const uint8_t **ip, size_t *ip_caplen,
                    size_t *ip_len, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const uint8_t *data;

	for (;;) {
		int rc = pcap_next_ex(f->p, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			return 0; /* the end of the file */
		if (rc < 0) {
			hs_seterr(err, errlen, "%s: %s", f->name, pcap_geterr(f->p));
			return -1;
		}
		if (rc == 0)
			continue; /* only live captures time out */
		f->frames++;
		const char *why = NULL;
		if (hs_decode_frame(f->dlt, data, h->caplen, pkt, &why) < 0) {
			f->skipped++;
			continue;
		}
		if (pkt->kind == HS_PKT_NONE)
			continue;
		/* PCAP_TSTAMP_PRECISION_NANO: tv_usec holds nanoseconds. */
		*wall_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		long off = hs_link_header_len(f->dlt, data, h->caplen);
		if (off < 0 || (size_t)off > h->caplen) {
			*ip = NULL;
			*ip_caplen = *ip_len = 0;
		} else {
			*ip = data + off;
			*ip_caplen = h->caplen - (size_t)off;
			*ip_len = h->len > (size_t)off ? h->len - (size_t)off : *ip_caplen;
		}
		return 1;
	}
}

unsigned long hs_capfile_skipped(const hs_capfile *f)
{
	return f ? f->skipped : 0;
}

unsigned long hs_capfile_frames(const hs_capfile *f)
{
	return f ? f->frames : 0;
}

void hs_capfile_close(hs_capfile *f)
{
	if (!f)
		return;
	pcap_close(f->p);
	free(f);
}
