/* Capturing replies with libpcap 1.10.
 *
 * Immediate mode (without it TPACKET_V3 hands a reply over only when its block
 * times out, ~100 ms late), non-blocking reads and poll() on the selectable fd
 * against a monotonic deadline. Each frame is copied into one buffer allocated at
 * open, so a decoded packet stays valid until the next call without an allocation
 * per packet.
 *
 * Ring size: in immediate mode libpcap uses TPACKET_V2, whose ring has fixed slots
 * of snaplen + ~80 bytes. The snaplen must stay 65535 (hs shows and acknowledges
 * payload, and GRO hands over frames far larger than the MTU), so a 1 MiB buffer
 * would hold only 16 frames (measured: tp_frame_size 65616, tp_frame_nr 16) --
 * fewer than one initial window of the peer's data plus our own ACKs, which the
 * capture sees too. 4 MiB (64 slots) lost segments of a burst of 300 small ones;
 * 32 MiB gives 512 slots. Memory is touched only for what a frame fills (a small
 * segment touches one page of its slot), so the resident cost stays ~2 MiB. What
 * the ring still drops, pcap_stats() counts: hs_capture_drops() reports it.
 *
 * Start-up cost, measured on this kernel: pcap_activate ~10-15 ms and pcap_close
 * ~25 ms, whatever the buffer size; both wait for an RCU grace period inside
 * setsockopt(PACKET_RX_RING) and the socket's release. Exiting without closing
 * costs the same, at exit.
 *
 * Timestamps: the kernel stamps each frame with the wall clock when it is captured;
 * hs_capture_next converts that to the monotonic clock with the offset between the
 * two clocks measured at open (so a reply that waited in the ring while hs was busy
 * keeps its arrival time). A wall-clock step during the run would shift it, so the
 * result is kept between the open time and the time of reading.
 *
 * Dump (-w): a LINKTYPE_RAW file with nanosecond timestamps, so that captured
 * frames (link header stripped) and our own segments (IP bytes given by the driver)
 * fit in one file whatever the capture's link type. Where the capture also sees
 * our outgoing segments (veth, any, lo), the copy the driver records and the copy
 * captured from the wire are the same datagram, and it is written once: a recorded
 * segment is held back until the capture either brings its copy (which is written
 * instead: it carries the kernel's transmit time and the IP ID actually sent) or
 * is overdue (HS_ECHO_WAIT_NS after it was recorded, or close). Held
 * back, it also cannot land after the reply it caused: on a veth the peer answers
 * inside our sendto(), before the driver gets to record it. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hs/err.h"
#include "hs/capture.h"
#include "hs/clock.h"

#define SNAPLEN 65535
#define RING_BYTES (32 << 20) /* 512 slots of 64 KiB: see the top */
#define READ_TIMEOUT_MS 10
#define DEDUP_SLOTS 16
#define PENDING_SLOTS 4

/* Fingerprints of TCP datagrams written to the dump by one path (captured, or
 * recorded by the driver), in case the same datagram comes by the other path. */
struct dedup {
	uint64_t key[DEDUP_SLOTS];
	unsigned next;
};

/* A segment the driver recorded, not yet written. */
struct pending {
	uint64_t wall_ns;
	uint64_t key;
	bool keyed;         /* key is valid (a TCP datagram) */
	size_t len;
	uint8_t *ip;        /* SNAPLEN bytes inside hs_capture.pending_buf */
};

struct hs_capture {
	pcap_t *p;
	int dlt;
	int fd;
	unsigned long malformed;
	uint8_t *frame;           /* copy of the last frame; decoded packets point here */
	size_t frame_cap;
	int64_t wall_to_mono_ns;  /* monotonic = wall + this */
	uint32_t ts_unit_ns;      /* what one unit of pcap's tv_usec is: 1 (nano) or 1000 */
	uint64_t opened_ns;
	long last_off;            /* the last packet returned: link header bytes (-1: none), */
	size_t last_caplen, last_len; /* and its frame's captured and original lengths */

	pcap_t *dead;             /* LINKTYPE_RAW handle the dump is written through */
	pcap_dumper_t *dump;
	int dump_errno;           /* the first write error on the dump (then nothing more is written) */
	long dump_good;           /* bytes of the dump on disk after the last whole packet */
	struct pending pending[PENDING_SLOTS]; /* oldest first */
	unsigned npending;
	uint8_t *pending_buf;
	struct dedup captured;    /* captured frames written: a later recorded copy is dropped */
	struct dedup flushed;     /* recorded segments written: a later captured copy is dropped */
};

/* The offset between the clocks, read as close together as possible: the wall
 * clock is read on both sides of the monotonic one and the middle taken. */
static int64_t measure_wall_to_mono(uint64_t *mono_out)
{
	uint64_t w1 = hs_wall_ns();
	uint64_t m = hs_now_ns();
	uint64_t w2 = hs_wall_ns();

	*mono_out = m;
	return (int64_t)(m - (w1 + (w2 - w1) / 2));
}

/* ---- opening ------------------------------------------------------------------- */

static int activate_error(pcap_t *p, int rc, const char *iface, bool *eperm, bool *nodev,
                          char *err, size_t errlen)
{
	switch (rc) {
	case PCAP_ERROR_PERM_DENIED:
		*eperm = true;
		hs_seterr(err, errlen, "cannot capture on %s: permission denied (hs needs CAP_NET_RAW: run as root)", iface);
		break;
	case PCAP_ERROR_NO_SUCH_DEVICE:
		*nodev = true;
		hs_seterr(err, errlen, "cannot capture on %s: no such interface", iface);
		break;
	case PCAP_ERROR_IFACE_NOT_UP:
		hs_seterr(err, errlen, "cannot capture on %s: the interface is down", iface);
		break;
	default:
		hs_seterr(err, errlen, "cannot capture on %s: %s", iface,
		       rc == PCAP_ERROR && *pcap_geterr(p) ? pcap_geterr(p) : pcap_statustostr(rc));
		break;
	}
	return -1;
}

/* Options must be set between pcap_create and pcap_activate. */
static int configure(pcap_t *p)
{
	if (pcap_set_snaplen(p, SNAPLEN) != 0 || pcap_set_immediate_mode(p, 1) != 0 ||
	    pcap_set_buffer_size(p, RING_BYTES) != 0 || pcap_set_timeout(p, READ_TIMEOUT_MS) != 0)
		return -1;
	/* Without nanosecond support the kernel's microseconds are used: not fatal. */
	(void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	return 0;
}

int hs_capture_open(hs_capture **out, const char *iface, bool *eperm, bool *nodev, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	bool perm_dummy, nodev_dummy;

	if (!eperm)
		eperm = &perm_dummy;
	if (!nodev)
		nodev = &nodev_dummy;
	*eperm = *nodev = false;
	*out = NULL;
	if (!iface || !*iface)
		iface = "any";

	hs_capture *c = calloc(1, sizeof(*c));
	if (!c) {
		hs_seterr(err, errlen, "capture: out of memory");
		return -1;
	}
	c->fd = -1;
	c->last_off = -1;
	c->p = pcap_create(iface, ebuf);
	if (!c->p) {
		hs_seterr(err, errlen, "cannot capture on %s: %s", iface, ebuf);
		goto fail;
	}
	if (configure(c->p) != 0) {
		hs_seterr(err, errlen, "cannot capture on %s: %s", iface, pcap_geterr(c->p));
		goto fail;
	}
	int rc = pcap_activate(c->p);
	if (rc < 0) {
		activate_error(c->p, rc, iface, eperm, nodev, err, errlen);
		goto fail;
	}
	/* rc > 0 is a warning (e.g. promiscuous mode not supported): harmless here. */
	if (pcap_setnonblock(c->p, 1, ebuf) != 0) {
		hs_seterr(err, errlen, "cannot capture on %s: %s", iface, ebuf);
		goto fail;
	}
	c->fd = pcap_get_selectable_fd(c->p);
	if (c->fd < 0) {
		hs_seterr(err, errlen, "cannot capture on %s: no selectable file descriptor", iface);
		goto fail;
	}
	c->dlt = pcap_datalink(c->p);
	c->ts_unit_ns = pcap_get_tstamp_precision(c->p) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
	int snap = pcap_snapshot(c->p);
	c->frame_cap = snap > 0 ? (size_t)snap : SNAPLEN;
	c->frame = malloc(c->frame_cap);
	if (!c->frame) {
		hs_seterr(err, errlen, "capture: out of memory");
		goto fail;
	}
	c->wall_to_mono_ns = measure_wall_to_mono(&c->opened_ns);
	*out = c;
	return 0;
fail:
	hs_capture_close(c);
	return -1;
}

int hs_capture_filter(hs_capture *c, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (pcap_compile(c->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		hs_seterr(err, errlen, "bad capture filter \"%s\": %s", expr, pcap_geterr(c->p));
		return -1;
	}
	int rc = pcap_setfilter(c->p, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		hs_seterr(err, errlen, "cannot install capture filter: %s", pcap_geterr(c->p));
		return -1;
	}
	return 0;
}

static uint64_t frame_wall_ns(const hs_capture *c, const struct pcap_pkthdr *h)
{
	return (uint64_t)h->ts.tv_sec * HS_NS_PER_SEC + (uint64_t)h->ts.tv_usec * c->ts_unit_ns;
}

/* ---- the dump ------------------------------------------------------------------ */

/* FNV-1a over the addresses and the whole TCP segment of an IP datagram; false if
 * it is not an unfragmented TCP datagram. The IP header itself is left out: the
 * kernel may fill in the IPv4 ID and checksum of what we send. */
static bool tcp_fingerprint(const uint8_t *ip, size_t len, uint64_t *key)
{
	size_t addr_off, addr_len, tcp_off, end;
	uint64_t h = 0xcbf29ce484222325ull;

	if (len < 1)
		return false;
	if (ip[0] >> 4 == 4) {
		if (len < 20 || ip[9] != IPPROTO_TCP || ((ip[6] & 0x3f) | ip[7]) != 0)
			return false;
		tcp_off = (size_t)(ip[0] & 0x0f) * 4;
		end = (size_t)ip[2] << 8 | ip[3];
		addr_off = 12;
		addr_len = 8;
	} else if (ip[0] >> 4 == 6) {
		if (len < 40 || ip[6] != IPPROTO_TCP)
			return false;
		tcp_off = 40;
		end = 40 + ((size_t)ip[4] << 8 | ip[5]);
		addr_off = 8;
		addr_len = 32;
	} else {
		return false;
	}
	if (tcp_off < 20 || end < tcp_off + 20 || end > len)
		return false;
	for (size_t i = addr_off; i < addr_off + addr_len; i++)
		h = (h ^ ip[i]) * 0x100000001b3ull;
	for (size_t i = tcp_off; i < end; i++)
		h = (h ^ ip[i]) * 0x100000001b3ull;
	*key = h;
	return true;
}

/* If key waits in d, take it out and return true. */
static bool dedup_take(struct dedup *d, uint64_t key)
{
	for (unsigned i = 0; i < DEDUP_SLOTS; i++) {
		if (d->key[i] == key && key != 0) {
			d->key[i] = 0;
			return true;
		}
	}
	return false;
}

static void dedup_put(struct dedup *d, uint64_t key)
{
	d->key[d->next] = key;
	d->next = (d->next + 1) % DEDUP_SLOTS;
}

/* Flush the dump; the first error (ENOSPC, EPIPE, EFBIG) is kept for the session. */
static void dump_check(hs_capture *c)
{
	FILE *f = pcap_dump_file(c->dump);

	errno = 0;
	if (pcap_dump_flush(c->dump) == 0 && !ferror(f)) {
		c->dump_good = pcap_dump_ftell(c->dump); /* all of it on disk: whole packets */
		return;
	}
	if (c->dump_errno)
		return;
	c->dump_errno = errno ? errno : EIO;
	/* The file ends with the last whole packet: cut what got out of this one, and
	 * let what stdio still holds of it go nowhere when the dump is closed. */
	int fd = fileno(f);
	if (c->dump_good > 0 && ftruncate(fd, (off_t)c->dump_good) != 0) {
		/* a pipe (-w -): nothing to cut */
	}
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, fd);
		close(null);
	}
}

int hs_capture_dump_error(const hs_capture *c)
{
	return c && c->dump ? c->dump_errno : 0;
}

static void dump_write(hs_capture *c, uint64_t ts_wall_ns, const uint8_t *ip, size_t caplen, size_t len)
{
	struct pcap_pkthdr h;

	h.ts.tv_sec = (time_t)(ts_wall_ns / HS_NS_PER_SEC);
	h.ts.tv_usec = (suseconds_t)(ts_wall_ns % HS_NS_PER_SEC); /* nanoseconds: the file says so */
	h.caplen = (bpf_u_int32)caplen;
	h.len = (bpf_u_int32)len;
	if (c->dump_errno)
		return; /* a full disk: the file ends at the last whole packet */
	pcap_dump((u_char *)c->dump, &h, ip);
	/* Complete on disk after every packet, even if hs is killed. */
	dump_check(c);
}

static void pending_remove(hs_capture *c, unsigned i)
{
	uint8_t *slot = c->pending[i].ip;

	for (; i + 1 < c->npending; i++)
		c->pending[i] = c->pending[i + 1];
	c->pending[--c->npending].ip = slot; /* buffers rotate, none is lost */
}

/* Writes the held-back segments recorded before ts_wall_ns (all: UINT64_MAX). */
static void pending_flush(hs_capture *c, uint64_t ts_wall_ns)
{
	while (c->npending > 0 && c->pending[0].wall_ns <= ts_wall_ns) {
		struct pending *p = &c->pending[0];
		dump_write(c, p->wall_ns, p->ip, p->len, p->len);
		if (p->keyed)
			dedup_put(&c->flushed, p->key);
		pending_remove(c, 0);
	}
}

int hs_capture_dump_open(hs_capture *c, const char *path, char *err, size_t errlen)
{
	if (c->dump) {
		hs_seterr(err, errlen, "a capture file is already open");
		return -1;
	}
	c->pending_buf = malloc((size_t)PENDING_SLOTS * SNAPLEN);
	c->dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (!c->pending_buf || !c->dead) {
		hs_seterr(err, errlen, "cannot write %s: out of memory", path);
		goto fail;
	}
	for (unsigned i = 0; i < PENDING_SLOTS; i++)
		c->pending[i].ip = c->pending_buf + (size_t)i * SNAPLEN;
	c->dump = pcap_dump_open(c->dead, path);
	if (!c->dump) {
		hs_seterr(err, errlen, "cannot write %s", pcap_geterr(c->dead)); /* "PATH: reason" */
		goto fail;
	}
	dump_check(c); /* the file header, even if nothing follows */
	if (c->dump_errno) {
		hs_seterr(err, errlen, "cannot write %s: %s", path, strerror(c->dump_errno));
		pcap_dump_close(c->dump);
		c->dump = NULL;
		c->dump_errno = 0;
		goto fail;
	}
	return 0;
fail:
	if (c->dead)
		pcap_close(c->dead);
	c->dead = NULL;
	free(c->pending_buf);
	c->pending_buf = NULL;
	return -1;
}

void hs_capture_dump_ip(hs_capture *c, const uint8_t *ip, size_t len)
{
	if (!c || !c->dump || len == 0)
		return;
	if (len > SNAPLEN)
		len = SNAPLEN;
	uint64_t key = 0;
	bool keyed = tcp_fingerprint(ip, len, &key);
	if (keyed && dedup_take(&c->captured, key))
		return; /* the capture was first */
	if (c->npending == PENDING_SLOTS)
		pending_flush(c, c->pending[0].wall_ns);
	struct pending *p = &c->pending[c->npending++];
	p->wall_ns = hs_wall_ns();
	p->key = key;
	p->keyed = keyed;
	p->len = len;
	memcpy(p->ip, ip, len);
}

static void dump_frame(hs_capture *c, const struct pcap_pkthdr *h, const uint8_t *f)
{
	long off = hs_link_header_len(c->dlt, f, h->caplen);

	if (off < 0)
		return; /* not IP: nothing a LINKTYPE_RAW file can hold */
	const uint8_t *ip = f + off;
	size_t caplen = h->caplen - (size_t)off;
	uint64_t ts = frame_wall_ns(c, h), key = 0;
	bool keyed = tcp_fingerprint(ip, caplen, &key), ours = false;

	if (keyed) {
		for (unsigned i = 0; i < c->npending; i++) {
			if (c->pending[i].keyed && c->pending[i].key == key) {
				pending_remove(c, i); /* this copy replaces it */
				ours = true;
				break;
			}
		}
		if (!ours && dedup_take(&c->flushed, key))
			return; /* the recorded copy is already in the file */
	}
	pending_flush(c, ts);
	dump_write(c, ts, ip, caplen, h->len - (size_t)off);
	if (keyed && !ours)
		dedup_put(&c->captured, key);
}

/* ---- reading ------------------------------------------------------------------- */

/* Frame timestamp (wall clock) -> monotonic. */
static uint64_t frame_time(const hs_capture *c, const struct pcap_pkthdr *h, uint64_t now)
{
	uint64_t wall = frame_wall_ns(c, h);
	uint64_t mono = (uint64_t)((int64_t)wall + c->wall_to_mono_ns);

	if (mono > now)
		return now;
	if (mono < c->opened_ns)
		return c->opened_ns;
	return mono;
}

/* Takes one frame from the ring. Returns 1 (a TCP/ICMP packet in *pkt), 0 (the ring
 * is empty), 2 (a frame was consumed but is not for us) or -1. */
static int read_one(hs_capture *c, hs_packet *pkt, uint64_t *ts_ns, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	const char *why = NULL;

	int rc = pcap_next_ex(c->p, &h, &data);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		hs_seterr(err, errlen, "capture failed: %s", rc == PCAP_ERROR ? pcap_geterr(c->p) : pcap_statustostr(rc));
		return -1;
	}
	size_t caplen = h->caplen < c->frame_cap ? h->caplen : c->frame_cap;
	memcpy(c->frame, data, caplen);
	if (c->dump) {
		struct pcap_pkthdr copy = *h;
		copy.caplen = (bpf_u_int32)caplen;
		dump_frame(c, &copy, c->frame);
	}
	if (hs_decode_frame(c->dlt, c->frame, caplen, pkt, &why) != 0) {
		c->malformed++;
		return 2;
	}
	if (pkt->kind == HS_PKT_NONE)
		return 2;
	c->last_off = hs_link_header_len(c->dlt, c->frame, caplen);
	c->last_caplen = caplen;
	c->last_len = h->len;
	if (ts_ns)
		*ts_ns = frame_time(c, h, hs_now_ns());
	return 1;
}

/* Milliseconds until deadline, rounded up so that poll() does not wake early. */
static int poll_timeout_ms(uint64_t deadline, uint64_t now)
{
	uint64_t ms = (deadline - now + HS_NS_PER_MS - 1) / HS_NS_PER_MS;

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int hs_capture_next(hs_capture *c, uint64_t deadline_ns, hs_packet *pkt, uint64_t *ts_ns, char *err, size_t errlen)
{
	bool fd_error = false;
	unsigned skipped = 0;

	for (;;) {
		int rc = read_one(c, pkt, ts_ns, err, errlen);
		if (rc == 1 || rc == -1)
			return rc;
		if (rc == 2) {
			/* A stream of frames we skip must not hold us past the deadline. */
			if (++skipped % 64 == 0 && deadline_ns && hs_now_ns() >= deadline_ns)
				return 0;
			continue;
		}
		/* Recorded segments whose captured copies did not come in time are not
		 * coming (an interface that does not show outgoing frames): write them. */
		if (c->npending)
			pending_flush(c, hs_wall_ns() - HS_ECHO_WAIT_NS);
		if (fd_error) {
			/* poll() said the socket failed but libpcap has nothing to say. */
			hs_seterr(err, errlen, "capture failed: the capture socket reported an error");
			return -1;
		}
		if (deadline_ns == 0)
			return 0;
		uint64_t now = hs_now_ns();
		if (now >= deadline_ns)
			return 0;

		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int n = poll(&pfd, 1, poll_timeout_ms(deadline_ns, now));
		if (n < 0) {
			if (errno == EINTR)
				return -2;
			hs_seterr(err, errlen, "capture failed: poll: %s", strerror(errno));
			return -1;
		}
		if (n > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)))
			fd_error = true; /* one more read lets libpcap report the cause */
	}
}

int hs_capture_last_ip(const hs_capture *c, const uint8_t **ip, size_t *caplen, size_t *len)
{
	if (!c || c->last_off < 0 || (size_t)c->last_off >= c->last_caplen)
		return -1;
	*ip = c->frame + c->last_off;
	*caplen = c->last_caplen - (size_t)c->last_off;
	*len = c->last_len > (size_t)c->last_off ? c->last_len - (size_t)c->last_off : *caplen;
	return 0;
}

unsigned long hs_capture_malformed(const hs_capture *c)
{
	return c->malformed;
}

int hs_capture_datalink(const hs_capture *c)
{
	return c->dlt;
}

int hs_capture_drops(hs_capture *c, unsigned long *dropped)
{
	struct pcap_stat st;

	*dropped = 0;
	if (!c || !c->p || pcap_stats(c->p, &st) < 0)
		return -1;
	*dropped = (unsigned long)st.ps_drop + (unsigned long)st.ps_ifdrop;
	return 0;
}

int hs_capture_drops_text(hs_capture *c, unsigned long *dropped, char *text, size_t len)
{
	if (hs_capture_drops(c, dropped) < 0 || *dropped == 0)
		return 0;
	snprintf(text, len, "the capture lost %lu frame%s (its ring was full): lines are missing", *dropped,
	         *dropped == 1 ? "" : "s");
	return 1;
}

void hs_capture_close(hs_capture *c)
{
	if (!c)
		return;
	if (c->dump) {
		pending_flush(c, UINT64_MAX);
		pcap_dump_close(c->dump);
	}
	free(c->pending_buf);
	if (c->dead)
		pcap_close(c->dead);
	if (c->p)
		pcap_close(c->p);
	free(c->frame);
	free(c);
}
