/* Fuzz target for the segment notation and field edits (lib/notation.c):
 * hs_edit_parse, hs_notation_parse, hs_fields_parse, hs_flags_parse and hs_num_parse
 * on the input as text (up to its first NUL). Every error is one non-empty line;
 * a refused text leaves the spec as it was; and every segment a parse describes,
 * formatted with hs_notation_format, parses back to the same segment.
 *
 *   libFuzzer: make fuzz (fuzz/fuzz_notation_libfuzzer, corpus fuzz/corpus-notation)
 *   replay (make check): fuzz/replay_main.c, built as fuzz/fuzz_notation_replay */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/notation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERR_LEN 200
#define ISS 0x89abcdefu
#define IRS 0xfffffff0u

static void require(int cond)
{
	if (!cond)
		abort();
}

static void check_error(int rc, const char *err)
{
	if (rc == 0)
		return;
	require(rc == -1);
	size_t n = strlen(err);
	require(n > 0 && n < ERR_LEN);
	require(strchr(err, '\n') == NULL);
}

/* The segment a spec describes, numbers resolved against fixed ISNs. */
static void build(const hs_seg_spec *sp, hs_segment *seg)
{
	memset(seg, 0, sizeof(*seg));
	seg->flags = sp->flags;
	seg->seq = hs_num_resolve(&sp->seq, ISS, ISS + 1, ISS + 1);
	seg->ack = hs_num_resolve(&sp->ack, IRS, IRS + 1, IRS + 1);
	seg->len = sp->have_len ? sp->len : 0;
	seg->win = sp->have_win ? sp->win : 0;
	seg->urp = sp->have_urg ? sp->urg : 0;
	if (sp->have_opts) {
		uint8_t wire[HS_OPT_MAXLEN];
		const char *why = NULL;
		int n = hs_opt_spec_encode(&sp->opts, 7, 9, wire, &why);
		require(n >= 0); /* the parsers refuse lists over 40 bytes */
		(void)hs_opts_decode(wire, (size_t)n, &seg->opts, &why);
		require(seg->opts.raw_len == n);
	}
}

/* format -> parse gives the same segment back. */
static void check_round_trip(const hs_seg_spec *sp)
{
	hs_segment seg, back;
	hs_seg_spec again;
	char text[512], err[ERR_LEN];

	build(sp, &seg);
	hs_notation_format(&seg, ISS, IRS, text, sizeof(text));
	hs_seg_spec_init(&again);
	if (hs_notation_parse(text, &again, err, sizeof(err)) != 0) {
		fprintf(stderr, "round trip: \"%s\": %s\n", text, err);
		abort();
	}
	require(again.have_flags && again.flags == seg.flags);
	require(again.have_len && again.len == seg.len);
	require(again.have_win && again.win == seg.win);
	require(again.seq.how == HS_NUM_REL && again.seq.v == seg.seq - ISS);
	if (seg.flags & HS_ACK)
		require(again.ack.how == HS_NUM_REL && again.ack.v == seg.ack - IRS);
	if (seg.flags & HS_URG)
		require(again.have_urg && again.urg == seg.urp);
	if (seg.opts.raw_len) {
		require(again.have_opts);
		again.have_len = false;
		sp = &again;
		build(sp, &back);
		require(back.opts.raw_len == seg.opts.raw_len);
		require(memcmp(back.opts.raw, seg.opts.raw, seg.opts.raw_len) == 0);
	}
}

typedef int (*parser)(const char *, hs_seg_spec *, char *, size_t);

static void check_parser(parser parse, const char *text)
{
	hs_seg_spec sp, before;
	char err[ERR_LEN];

	hs_seg_spec_init(&sp);
	sp.have_win = true;
	sp.win = 1234;
	memcpy(&before, &sp, sizeof(before));
	err[0] = '\0';
	int rc = parse(text, &sp, err, sizeof(err));
	check_error(rc, err);
	if (rc < 0) {
		require(memcmp(&sp, &before, sizeof(sp)) == 0);
		/* A message cut short is still a message, and a NULL one is allowed. */
		char tiny[8];
		require(parse(text, &sp, tiny, sizeof(tiny)) == -1 && strlen(tiny) < sizeof(tiny));
		require(parse(text, &sp, NULL, 0) == -1);
		return;
	}
	check_round_trip(&sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[ERR_LEN];
	uint8_t flags;
	hs_num num;

	require(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	check_parser(hs_edit_parse, text);
	check_parser(hs_notation_parse, text);
	check_parser(hs_fields_parse, text);
	check_error(hs_flags_parse(text, &flags, err, sizeof(err)), err);
	check_error(hs_num_parse(text, &num, err, sizeof(err)), err);
	free(text);
	return 0;
}
