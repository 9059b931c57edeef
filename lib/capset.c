/* Captured packets grouped into connections, copies paired (capset.h). Pure logic:
 * no I/O; allocation failures are returned. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/capset.h"

static int oom(char *err, size_t errlen)
{
	if (errlen)
		snprintf(err, errlen, "out of memory grouping the capture");
	return -1;
}

static bool grow(void **p, size_t *cap, size_t first, size_t size)
{
	size_t n = *cap ? 2 * *cap : first;
	void *q = realloc(*p, n * size);

	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static int by_time(const void *x, const void *y)
{
	const hs_cappkt *a = x, *b = y;

	if (a->wall_ns != b->wall_ns)
		return a->wall_ns < b->wall_ns ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* ---- grouping ----------------------------------------------------------------------- */

static uint64_t ep_hash(const hs_endpoint *e)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *b = e->addr.family == AF_INET6 ? e->addr.u.v6.s6_addr : (const uint8_t *)&e->addr.u.v4.s_addr;
	size_t n = e->addr.family == AF_INET6 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	h = (h ^ e->port) * 1099511628211ull;
	return h;
}

static bool same_tuple(const hs_capconn *k, const hs_endpoint *s, const hs_endpoint *d)
{
	return (hs_endpoint_equal(s, &k->a) && hs_endpoint_equal(d, &k->b)) ||
	       (hs_endpoint_equal(s, &k->b) && hs_endpoint_equal(d, &k->a));
}

/* The slot of the 4-tuple (s, d) in either order: its latest connection, or the
 * empty slot where it goes. */
static size_t hash_slot(const hs_capset *cs, const hs_endpoint *s, const hs_endpoint *d)
{
	size_t i = (size_t)((ep_hash(s) + ep_hash(d)) % cs->hashcap);

	while (cs->hash[i] >= 0 && !same_tuple(&cs->conn[cs->hash[i]], s, d))
		i = (i + 1) % cs->hashcap;
	return i;
}

static bool hash_grow(hs_capset *cs)
{
	long *old = cs->hash;
	size_t oldcap = cs->hashcap, cap = oldcap ? 2 * oldcap : 64;
	long *h = malloc(cap * sizeof(*h));

	if (!h)
		return false;
	cs->hash = h;
	cs->hashcap = cap;
	for (size_t i = 0; i < cap; i++)
		h[i] = -1;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i] < 0)
			continue;
		const hs_capconn *k = &cs->conn[old[i]];
		cs->hash[hash_slot(cs, &k->a, &k->b)] = old[i];
	}
	free(old);
	return true;
}

static bool conn_add(hs_capconn *k, long i)
{
	if (k->n == k->cap && !grow((void **)&k->pk, &k->cap, 16, sizeof(*k->pk)))
		return false;
	k->pk[k->n++] = i;
	return true;
}

/* Whether a segment opens a new connection on the tuple of k. */
static bool starts_new(const hs_capconn *k, const hs_segment *s)
{
	if ((s->flags & (HS_SYN | HS_ACK | HS_RST)) != HS_SYN)
		return false;
	if (k->closed)
		return true;
	int side = hs_endpoint_equal(&s->src, &k->a) ? 0 : 1;
	return k->syn_seen[side] && k->syn_seq[side] != s->seq;
}

/* The connection of segment s, a new one if it starts one; -1: out of memory. */
static long tcp_conn(hs_capset *cs, const hs_segment *s)
{
	if (2 * (cs->nconn + 1) > cs->hashcap && !hash_grow(cs))
		return -1;
	size_t slot = hash_slot(cs, &s->src, &s->dst);
	long k = cs->hash[slot];
	if (k >= 0 && !starts_new(&cs->conn[k], s))
		return k;
	if (cs->nconn == cs->conncap && !grow((void **)&cs->conn, &cs->conncap, 16, sizeof(*cs->conn)))
		return -1;
	k = (long)cs->nconn++;
	hs_capconn *c = &cs->conn[k];
	memset(c, 0, sizeof(*c));
	c->a = s->src;
	c->b = s->dst;
	cs->hash[slot] = k;
	return k;
}

static void note_flags(hs_capconn *k, const hs_segment *s)
{
	int side = hs_endpoint_equal(&s->src, &k->a) ? 0 : 1;

	if ((s->flags & (HS_SYN | HS_ACK)) == HS_SYN && !k->syn_seen[side]) {
		k->syn_seen[side] = true;
		k->syn_seq[side] = s->seq;
	}
	if (s->flags & HS_FIN)
		k->fin[side] = true;
	if ((s->flags & HS_RST) || (k->fin[0] && k->fin[1]))
		k->closed = true;
}

static int group(hs_capset *cs, hs_cappkt *p, size_t np)
{
	for (size_t i = 0; i < np; i++) {
		hs_cappkt *q = &p[i];
		q->conn = -1;
		q->twin = -1;
		q->is_copy = false;
		q->lost = false;
		if (q->pkt.kind == HS_PKT_TCP) {
			long k = tcp_conn(cs, &q->pkt.u.tcp);
			if (k < 0 || !conn_add(&cs->conn[k], (long)i))
				return -1;
			q->conn = (int)k;
			note_flags(&cs->conn[k], &q->pkt.u.tcp);
		} else if (q->pkt.kind == HS_PKT_ICMP && cs->hash) {
			const hs_icmp_error *ic = &q->pkt.u.icmp;
			long k = cs->hash[hash_slot(cs, &ic->orig_src, &ic->orig_dst)];
			if (k >= 0) {
				if (!conn_add(&cs->conn[k], (long)i))
					return -1;
				q->conn = (int)k;
			}
		}
	}
	/* A: the end that sent the first SYN, the receiver of the first SYN,ACK, else
	 * the first segment's sender (where grouping put it). */
	for (size_t k = 0; k < cs->nconn; k++) {
		hs_capconn *c = &cs->conn[k];
		for (size_t j = 0; j < c->n; j++) {
			const hs_cappkt *q = &p[c->pk[j]];
			if (q->pkt.kind != HS_PKT_TCP || !(q->pkt.u.tcp.flags & HS_SYN))
				continue;
			const hs_segment *s = &q->pkt.u.tcp;
			bool syn_ack = s->flags & HS_ACK;
			c->a = syn_ack ? s->dst : s->src;
			c->b = syn_ack ? s->src : s->dst;
			break;
		}
	}
	return 0;
}

/* ---- copies of one segment ---------------------------------------------------------- */

static bool has_ts(const hs_segment *s)
{
	return s->opts.has & HS_HAS_TS;
}

static bool same_segment(const hs_segment *x, const hs_segment *y)
{
	if (!hs_endpoint_equal(&x->src, &y->src) || !hs_endpoint_equal(&x->dst, &y->dst))
		return false;
	if (x->seq != y->seq || x->ack != y->ack || x->flags != y->flags || hs_seg_len(x) != hs_seg_len(y) || x->win != y->win)
		return false;
	if (x->has_ip_id && y->has_ip_id && x->ip_id != y->ip_id)
		return false;
	if (has_ts(x) && has_ts(y) && x->opts.ts_val != y->opts.ts_val)
		return false;
	return true;
}

static void match_copies(hs_cappkt *pk, const hs_capconn *c, bool two_files)
{
	for (size_t j = 0; j < c->n; j++) {
		hs_cappkt *p = &pk[c->pk[j]];
		if (p->pkt.kind != HS_PKT_TCP || p->is_copy || p->twin >= 0)
			continue;
		const hs_segment *s = &p->pkt.u.tcp;
		bool strong = s->has_ip_id || has_ts(s);
		uint64_t window = !two_files ? HS_OBS_COPY_NS : strong ? HS_CAPSET_WINDOW_NS : HS_CAPSET_WINDOW_WEAK_NS;
		for (size_t m = j + 1; m < c->n; m++) {
			hs_cappkt *q = &pk[c->pk[m]];
			if (q->wall_ns - p->wall_ns > window)
				break;
			if (q->pkt.kind != HS_PKT_TCP || q->is_copy || q->twin >= 0)
				continue;
			if (two_files && q->file == p->file)
				continue;
			if (!same_segment(s, &q->pkt.u.tcp))
				continue;
			p->twin = c->pk[m];
			q->is_copy = true;
			break;
		}
	}
	if (!two_files)
		return;
	/* Which file is near A: it holds the earlier copies of A's segments and the later
	 * ones of B's. */
	int vote[2] = { 0, 0 };
	uint64_t first[2] = { UINT64_MAX, UINT64_MAX }, last[2] = { 0, 0 };
	for (size_t j = 0; j < c->n; j++) {
		const hs_cappkt *p = &pk[c->pk[j]];
		if (p->wall_ns < first[p->file])
			first[p->file] = p->wall_ns;
		if (p->wall_ns > last[p->file])
			last[p->file] = p->wall_ns;
		if (p->twin < 0)
			continue;
		bool from_a = hs_endpoint_equal(&p->pkt.u.tcp.src, &c->a);
		vote[from_a ? p->file : pk[p->twin].file]++;
	}
	if (vote[0] == vote[1])
		return; /* unrelated captures, or no telling */
	int near_a = vote[0] > vote[1] ? 0 : 1;
	for (size_t j = 0; j < c->n; j++) {
		hs_cappkt *p = &pk[c->pk[j]];
		if (p->pkt.kind != HS_PKT_TCP || p->twin >= 0 || p->is_copy)
			continue;
		bool from_a = hs_endpoint_equal(&p->pkt.u.tcp.src, &c->a);
		int near_sender = from_a ? near_a : !near_a, other = !p->file;
		if (p->file == near_sender && first[other] != UINT64_MAX && p->wall_ns >= first[other] &&
		    p->wall_ns <= last[other])
			p->lost = true;
	}
}

/* ---- the set ------------------------------------------------------------------------ */

int hs_capset_build(hs_capset *cs, hs_cappkt *p, size_t np, bool two_files, char *err, size_t errlen)
{
	if (np > 1)
		qsort(p, np, sizeof(*p), by_time);
	if (group(cs, p, np) < 0)
		return oom(err, errlen);
	for (size_t k = 0; k < cs->nconn; k++)
		match_copies(p, &cs->conn[k], two_files);
	return 0;
}

void hs_capset_free(hs_capset *cs)
{
	for (size_t k = 0; k < cs->nconn; k++)
		free(cs->conn[k].pk);
	free(cs->conn);
	free(cs->hash);
	memset(cs, 0, sizeof(*cs));
}
