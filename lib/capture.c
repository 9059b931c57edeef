/* Capturing replies: a packet socket of hs's own, filtered by a program libpcap
 * compiles.
 *
 * Why not pcap_activate(): libpcap 1.10 on Linux always maps a ring (TPACKET_V2 in
 * immediate mode, which hs needs: V3 hands a reply over only when its block times
 * out), and a ring is the dearest part of a one-shot command. Its slots are fixed at
 * snaplen + ~80 bytes, so a ring that holds a burst of the peer's segments (512
 * slots: 4 MiB lost segments of a burst of 300) is 64 MiB that the kernel allocates,
 * zeroes and maps into hs (measured: peak RSS 71 MiB, ~6 ms of clear_page), and
 * setting it up and tearing it down each wait for an RCU grace period
 * (synchronize_rcu_expedited in packet_set_ring, seen with perf sched). A plain
 * SOCK_DGRAM packet socket read with recvmsg() holds what arrives in its receive
 * buffer at each skb's own size (a small segment costs ~1 KiB, not 64), is charged to
 * the kernel, not to hs, and needs no ring; the copy into hs's buffer is the one the
 * ring path made too. libpcap still compiles the filter (pcap_compile on a
 * LINKTYPE_RAW handle: SOCK_DGRAM hands over the IP datagram, link header stripped,
 * whatever the interface), and writes -w files.
 *
 * Order, as libpcap's own: the socket is created bound to no protocol (it receives
 * nothing), the filter attached, and only then bound to ETH_P_ALL (which also shows
 * our own outgoing frames) on the interface (ifindex 0: "any"): nothing queued before
 * the filter. On loopback each frame we send would come twice (outgoing, then
 * incoming); the outgoing copy is dropped there, as libpcap does.
 *
 * The receive buffer is raised to 32 MiB (SO_RCVBUFFORCE, hs is root): a limit, not an
 * allocation. What still does not fit the kernel counts (PACKET_STATISTICS), and
 * hs_capture_drops() reports it. The original length of a frame the filter cut comes
 * from PACKET_AUXDATA.
 *
 * Timestamps: the kernel stamps each frame with the wall clock when it is captured
 * (SO_TIMESTAMPNS); hs_capture_next converts that to the monotonic clock with the
 * offset between the two clocks measured at open (so a reply that waited in the
 * buffer while hs was busy keeps its arrival time). A wall-clock step during the run
 * would shift it, so the result is kept between the open time and the time of
 * reading.
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
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hs/err.h"
#include "hs/capture.h"
#include "hs/clock.h"

#define SNAPLEN 65535
#define RCVBUF_BYTES (32 << 20) /* a limit, not an allocation: see the top */
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
	int fd;                   /* the packet socket (SOCK_DGRAM: frames start at the IP header) */
	int ifindex;              /* 0: any */
	char iface[IF_NAMESIZE];
	bool bound;               /* bound to ETH_P_ALL (after the first filter) */
	pcap_t *compiler;         /* LINKTYPE_RAW handle the filters are compiled on */
	int dlt;                  /* what frames are handed to hs_decode_frame as: DLT_RAW */
	unsigned long drops;      /* PACKET_STATISTICS, summed (each read resets the kernel's) */
	unsigned long malformed;
	uint8_t *frame;           /* copy of the last frame; decoded packets point here */
	size_t frame_cap;
	int64_t wall_to_mono_ns;  /* monotonic = wall + this */
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

static int open_error(int e, const char *iface, bool *eperm, char *err, size_t errlen)
{
	if (e == EPERM || e == EACCES) {
		*eperm = true;
		hs_seterr(err, errlen, "cannot capture on %s: permission denied (hs needs CAP_NET_RAW: run as root)", iface);
	} else {
		hs_seterr(err, errlen, "cannot capture on %s: %s", iface, strerror(e));
	}
	return -1;
}

/* The interface must exist and be up (a capture on a down one would wait for
 * nothing): the checks pcap_activate made. */
static int check_iface(hs_capture *c, const char *iface, bool *nodev, char *err, size_t errlen)
{
	struct ifreq ifr;

	if (strlen(iface) >= IF_NAMESIZE || !(c->ifindex = (int)if_nametoindex(iface))) {
		*nodev = true;
		hs_seterr(err, errlen, "cannot capture on %s: no such interface", iface);
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, iface, strlen(iface) + 1);
	if (ioctl(c->fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		hs_seterr(err, errlen, "cannot capture on %s: the interface is down", iface);
		return -1;
	}
	return 0;
}

int hs_capture_open(hs_capture **out, const char *iface, bool *eperm, bool *nodev, char *err, size_t errlen)
{
	bool perm_dummy, nodev_dummy;
	int one = 1, rcvbuf = RCVBUF_BYTES;

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
	c->last_off = -1;
	c->dlt = DLT_RAW;
	snprintf(c->iface, sizeof(c->iface), "%s", iface);
	/* Protocol 0: nothing is queued until hs_capture_filter binds it. */
	c->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		open_error(errno, iface, eperm, err, errlen);
		goto fail;
	}
	if (strcmp(iface, "any") != 0 && check_iface(c, iface, nodev, err, errlen) != 0)
		goto fail;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0 ||
	    setsockopt(c->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) != 0) {
		open_error(errno, iface, eperm, err, errlen);
		goto fail;
	}
	c->compiler = pcap_open_dead(DLT_RAW, SNAPLEN);
	c->frame_cap = SNAPLEN;
	c->frame = malloc(c->frame_cap);
	if (!c->compiler || !c->frame) {
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

	if (pcap_compile(c->compiler, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		hs_seterr(err, errlen, "bad capture filter \"%s\": %s", expr, pcap_geterr(c->compiler));
		return -1;
	}
	/* struct bpf_insn and struct sock_filter are the same four fields. */
	struct sock_fprog fprog = { .len = (unsigned short)prog.bf_len, .filter = (struct sock_filter *)prog.bf_insns };
	int rc = setsockopt(c->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog));
	int e = errno;
	pcap_freecode(&prog);
	if (rc != 0) {
		hs_seterr(err, errlen, "cannot install capture filter: %s", strerror(e));
		return -1;
	}
	if (!c->bound) {
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
		                           .sll_ifindex = c->ifindex };
		if (bind(c->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
			e = errno;
			hs_seterr(err, errlen, "cannot capture on %s: %s", c->iface,
			          e == ENODEV || e == ENXIO ? "no such interface" : strerror(e));
			return -1;
		}
		c->bound = true;
		/* One read warms the path: the first read that finds a frame is the one
		 * between the peer's reply and our answer (measured on a veth: 12-20 us
		 * for the copy of our SYN without it, 7-10 us after this peek, 2 us for
		 * the SYN,ACK queued behind). A peek: a frame that came since the bind
		 * stays where it is. */
		uint8_t b;
		(void)recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	}
	return 0;
}

static uint64_t frame_wall_ns(const hs_capture *c, const struct pcap_pkthdr *h)
{
	(void)c;
	return (uint64_t)h->ts.tv_sec * HS_NS_PER_SEC + (uint64_t)h->ts.tv_usec; /* nanoseconds */
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

/* Why reading failed, said as a user can act on it: the interface the capture is on
 * went down or was deleted (ENETDOWN), or the socket's own errno. */
static void capture_failed(const hs_capture *c, int e, char *err, size_t errlen)
{
	if (e == ENETDOWN || e == ENODEV || e == ENXIO)
		hs_seterr(err, errlen, "capture failed: the interface %s went down or was removed", c->iface);
	else
		hs_seterr(err, errlen, "capture failed: %s", strerror(e));
}

/* Takes one frame from the socket into c->frame: its header in *h (tv_usec holding
 * nanoseconds). Returns 1, 0 (nothing queued) or -1 (errno). Our own outgoing copy on
 * loopback is skipped (returns 2), as it comes back incoming. */
static int receive(hs_capture *c, struct pcap_pkthdr *h)
{
	struct sockaddr_ll from;
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = c->frame, .iov_len = c->frame_cap };
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
	                      .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };

	ssize_t n = recvmsg(c->fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if (from.sll_pkttype == PACKET_OUTGOING && from.sll_hatype == ARPHRD_LOOPBACK)
		return 2;
	memset(h, 0, sizeof(*h));
	h->len = (bpf_u_int32)n;
	h->caplen = (bpf_u_int32)((size_t)n < c->frame_cap ? (size_t)n : c->frame_cap);
	bool stamped = false;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			h->ts.tv_sec = ts.tv_sec;
			h->ts.tv_usec = ts.tv_nsec;
			stamped = true;
		} else if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA &&
		           cm->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
			struct tpacket_auxdata aux;
			memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
			if (aux.tp_len > h->len)
				h->len = aux.tp_len; /* the filter kept less than came */
		}
	}
	if (!stamped) {
		uint64_t w = hs_wall_ns();
		h->ts.tv_sec = (time_t)(w / HS_NS_PER_SEC);
		h->ts.tv_usec = (suseconds_t)(w % HS_NS_PER_SEC);
	}
	return 1;
}

/* Takes one frame. Returns 1 (a TCP/ICMP packet in *pkt), 0 (nothing is queued),
 * 2 (a frame was consumed but is not for us) or -1. */
static int read_one(hs_capture *c, hs_packet *pkt, uint64_t *ts_ns, char *err, size_t errlen)
{
	struct pcap_pkthdr hdr, *h = &hdr;
	const char *why = NULL;

	int rc = receive(c, h);
	if (rc == 0 || rc == 2)
		return rc;
	if (rc < 0) {
		capture_failed(c, errno, err, errlen);
		return -1;
	}
	size_t caplen = h->caplen;
	if (c->dump)
		dump_frame(c, h, c->frame);
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
			/* poll() said the socket failed but reading shows nothing. */
			int e = 0;
			socklen_t el = sizeof(e);
			(void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
			if (e)
				capture_failed(c, e, err, errlen);
			else
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
			fd_error = true; /* one more read may report the cause */
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

int hs_capture_drops(hs_capture *c, unsigned long *dropped)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	*dropped = 0;
	if (!c || c->fd < 0 || getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0)
		return -1;
	c->drops += st.tp_drops; /* the kernel's counters start again at each read */
	*dropped = c->drops;
	return 0;
}

int hs_capture_drops_text(hs_capture *c, unsigned long *dropped, char *text, size_t len)
{
	if (hs_capture_drops(c, dropped) < 0 || *dropped == 0)
		return 0;
	snprintf(text, len, "the capture lost %lu frame%s (its buffer was full): lines are missing", *dropped,
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
	if (c->compiler)
		pcap_close(c->compiler);
	if (c->fd >= 0)
		close(c->fd);
	free(c->frame);
	free(c);
}
