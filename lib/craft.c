/* Crafted segments and the peer's reaction to them (include/hs/craft.h). */
#include <config.h>
#include <stdio.h>
#include <string.h>
#include "hs/craft.h"
#include "hs/seq.h"

/* The bytes of a payload given only by its length (the notation's "(5)"). */
static const uint8_t zeros[HS_CRAFT_MAX_PAYLOAD];

static uint8_t default_flags(const hs_tcb *t, uint32_t len)
{
	if (t->state == HS_CLOSED || t->state == HS_LISTEN || t->state == HS_SYN_SENT)
		return HS_SYN;
	return len ? HS_PSH | HS_ACK : HS_ACK;
}

/* Our TSval, if the options carry one (what the peer's TSecr will echo). */
static void note_ts(hs_tx *tx)
{
	hs_tcp_opts o;
	const char *err;

	tx->has_ts = false;
	if (tx->opt_len && hs_opts_decode(tx->opts, tx->opt_len, &o, &err) == 0 && (o.has & HS_HAS_TS)) {
		tx->has_ts = true;
		tx->tsval = o.ts_val;
	}
}

int hs_craft_build(const hs_tcb *t, const hs_seg_spec *sp, const hs_tx *base, const uint8_t *data,
                   uint32_t len, uint64_t now, hs_tx *tx, char *err, size_t errlen)
{
	hs_tx tmpl;

	if (data && sp->have_len && sp->len != len) {
		snprintf(err, errlen, "the segment's length (%u) differs from the data's (%u bytes)", sp->len, len);
		return -1;
	}
	if (!data) {
		if (sp->have_len)
			len = sp->len;
		else if (base)
			len = base->len;
		else
			len = 0;
		data = sp->have_len || !base ? zeros : base->data;
	}
	if (len > HS_CRAFT_MAX_PAYLOAD) {
		snprintf(err, errlen, "a payload of %u bytes does not fit in one segment (at most %u)", len,
		         HS_CRAFT_MAX_PAYLOAD);
		return -1;
	}
	uint8_t flags = sp->have_flags ? sp->flags : base ? base->flags : default_flags(t, len);

	/* What the TCB would send with these flags: the numbers, window and options that
	 * are not given. An edit keeps the replaced segment's numbers (its ACK field if
	 * it had one), and its window and options unless the flags change what kind of
	 * segment it is (a SYN, an RST, or neither). */
	hs_tcb_template(t, flags, now, &tmpl);
	if (base) {
		tmpl.seq = base->seq;
		if (base->flags & HS_ACK) /* an RST without ACK carries none: RCV.NXT then */
			tmpl.ack = base->ack;
		if (!((base->flags ^ flags) & (HS_SYN | HS_RST))) { /* same kind: its window, options */
			tmpl.win = base->win;
			tmpl.opt_len = base->opt_len;
			memcpy(tmpl.opts, base->opts, sizeof(tmpl.opts));
		}
	}
	*tx = tmpl;
	tx->flags = flags;
	tx->seq = hs_num_resolve(&sp->seq, t->iss, base ? base->seq : t->snd_nxt, tmpl.seq);
	tx->ack = hs_num_resolve(&sp->ack, t->irs, base ? base->ack : t->rcv_nxt, tmpl.ack);
	if (!(flags & HS_ACK) && sp->ack.how == HS_NUM_UNSET)
		tx->ack = 0;
	if (sp->have_win)
		tx->win = sp->win;
	tx->urp = sp->have_urg ? sp->urg : base ? base->urp : 0;
	if (sp->have_opts) {
		const char *e = NULL;
		uint32_t tsval = t->cfg.ts_clock + (uint32_t)((now > t->t_open_ns ? now - t->t_open_ns : 0) / 1000000);
		int n = hs_opt_spec_encode(&sp->opts, tsval, t->ts_recent, tx->opts, &e);
		if (n < 0) {
			snprintf(err, errlen, "options: %s", e ? e : "do not fit in 40 bytes");
			return -1;
		}
		tx->opt_len = (uint8_t)n;
	}
	if ((uint32_t)tx->opt_len + len > HS_CRAFT_MAX_PAYLOAD) {
		snprintf(err, errlen, "%u bytes of payload and %u of options do not fit in one segment", len,
		         tx->opt_len);
		return -1;
	}
	tx->data = len ? data : NULL;
	tx->len = len;
	tx->ip = base ? base->ip : (hs_ip_fields){ 0 };
	hs_ip_fields_merge(&tx->ip, &sp->ip);
	tx->note = HS_NOTE_NONE;
	tx->reply_rst = false;
	tx->crafted = true;
	note_ts(tx);
	return 0;
}

static const char *const reaction_names[HS_REACT_COUNT] = {
	[HS_REACT_NONE] = "none", [HS_REACT_ACK] = "ack", [HS_REACT_CHALLENGE_ACK] = "challenge-ack",
	[HS_REACT_DUP_ACK] = "dup-ack", [HS_REACT_DATA] = "data", [HS_REACT_RST] = "rst",
	[HS_REACT_FIN] = "fin", [HS_REACT_SYN_ACK] = "syn-ack", [HS_REACT_ICMP] = "icmp",
};

const char *hs_reaction_name(enum hs_reaction r)
{
	return (unsigned)r < HS_REACT_COUNT ? reaction_names[r] : "?";
}

int hs_reaction_parse_list(const char *text, unsigned *mask, char *err, size_t errlen)
{
	char word[32];
	const char *p = text;

	*mask = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		int found = -1;
		if (n > 0 && n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			for (int r = 0; r < HS_REACT_COUNT; r++)
				if (strcmp(word, reaction_names[r]) == 0)
					found = r;
		}
		if (found < 0) {
			snprintf(err, errlen, "unknown reaction \"%.*s\" (known: none, ack, challenge-ack, dup-ack, "
			         "data, rst, fin, syn-ack, icmp)", (int)(n < 40 ? n : 40), p);
			return -1;
		}
		*mask |= 1u << found;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!*mask) {
		snprintf(err, errlen, "no reaction named (known: none, ack, challenge-ack, dup-ack, data, rst, fin, "
		         "syn-ack, icmp)");
		return -1;
	}
	return 0;
}

bool hs_reaction_matches(enum hs_reaction r, unsigned mask)
{
	if (mask & (1u << r))
		return true;
	return (mask & (1u << HS_REACT_ACK)) && (r == HS_REACT_DUP_ACK || r == HS_REACT_CHALLENGE_ACK);
}

enum hs_reaction hs_reaction_classify(const hs_tx *ours, uint32_t snd_una, uint32_t rcv_nxt,
                                      const hs_segment *answer)
{
	if (answer->flags & HS_RST)
		return HS_REACT_RST;
	if ((answer->flags & (HS_SYN | HS_ACK)) == (HS_SYN | HS_ACK))
		return HS_REACT_SYN_ACK;
	if (answer->flags & HS_FIN)
		return HS_REACT_FIN;
	if (answer->len > 0 && !(answer->flags & HS_SYN))
		return HS_REACT_DATA;
	if (!(answer->flags & HS_ACK) || (answer->flags & HS_SYN))
		return HS_REACT_NONE; /* a bare SYN is no answer to anything we craft */
	/* A bare ACK. RFC 5961: an RST or SYN that is not taken draws a challenge ACK (3.2,
	 * 4.2), and so does an ACK of data the peer never sent (5.2). */
	if (ours->flags & (HS_RST | HS_SYN))
		return HS_REACT_CHALLENGE_ACK;
	if ((ours->flags & HS_ACK) && hs_seq_gt(ours->ack, rcv_nxt))
		return HS_REACT_CHALLENGE_ACK;
	return hs_seq_gt(answer->ack, snd_una) ? HS_REACT_ACK : HS_REACT_DUP_ACK;
}
