/* Fuzz target for the wire decoders: the first input byte picks a link type, the
 * rest is a captured frame. The same bytes also go through hs_opts_decode and, as
 * text, through the --opt parser; every result is formatted and sanity-checked.
 *
 *   libFuzzer: clang -fsanitize=fuzzer,address,undefined -I include -I BUILDDIR \
 *              fuzz/fuzz_decode.c lib/decode.c lib/opts.c lib/addr.c -o fuzz_decode
 *              ./fuzz_decode -max_total_time=60 fuzz/corpus
 *   replay (make check): fuzz/replay_main.c */
#include <config.h>

#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hs/opts.h"
#include "hs/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Selector byte (modulo the count) -> link type. Seeds in fuzz/corpus use these. */
static const int dlts[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101 /* LINKTYPE_RAW */,
	DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP,
};

/* A broken invariant is a bug the sanitizers would not see: stop loudly. */
static void require(int cond)
{
	if (!cond)
		abort();
}

static void check_string(const char *s, size_t cap)
{
	require(strlen(s) < cap);
}

static void exercise_opts(const hs_tcp_opts *o)
{
	char text[512], json[512], tiny[7];

	check_string(hs_opts_format(o, text, sizeof(text)), sizeof(text));
	check_string(hs_opts_format_json(o, json, sizeof(json)), sizeof(json));
	require(json[0] == '{' && json[strlen(json) - 1] == '}');
	check_string(hs_opts_format(o, tiny, sizeof(tiny)), sizeof(tiny));
	check_string(hs_opts_format_json(o, tiny, sizeof(tiny)), sizeof(tiny));
	require(o->nsack <= HS_OPT_MAXSACK && o->tfo_len <= 16 && o->raw_len <= HS_OPT_MAXLEN);
}

static void exercise_packet(const hs_packet *p, const uint8_t *buf, size_t len)
{
	char a[HS_ENDPOINT_STRLEN], b[HS_ENDPOINT_STRLEN], f[64];

	if (p->kind == HS_PKT_TCP) {
		const hs_segment *s = &p->u.tcp;
		/* The payload must lie inside the input. */
		require(s->payload >= buf && s->payload + s->len <= buf + len);
		/* What was not captured adds to SEG.LEN, never to the bytes read. */
		require(s->truncated <= 65535 && (s->truncated == 0 || s->csum_status == HS_CSUM_UNCHECKED));
		check_string(hs_endpoint_format(&s->src, a, sizeof(a)), sizeof(a));
		check_string(hs_endpoint_format(&s->dst, b, sizeof(b)), sizeof(b));
		check_string(hs_flags_format(s->flags, f, sizeof(f)), sizeof(f));
		exercise_opts(&s->opts);
	} else if (p->kind == HS_PKT_ICMP) {
		const hs_icmp_error *e = &p->u.icmp;
		check_string(hs_endpoint_format(&e->reporter, a, sizeof(a)), sizeof(a));
		check_string(hs_endpoint_format(&e->orig_src, a, sizeof(a)), sizeof(a));
		check_string(hs_endpoint_format(&e->orig_dst, b, sizeof(b)), sizeof(b));
	} else {
		require(p->kind == HS_PKT_NONE);
	}
}

static void exercise_spec(const uint8_t *data, size_t size)
{
	char text[256], err[256];
	hs_opt_spec spec;
	uint8_t wire[HS_OPT_MAXLEN];
	const char *e = NULL;
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;

	memcpy(text, data, n);
	text[n] = '\0';
	if (hs_opt_spec_parse(text, &spec, err, sizeof(err)) < 0) {
		check_string(err, sizeof(err));
		return;
	}
	int len = hs_opt_spec_encode(&spec, 1, 2, wire, &e);
	require(len >= 0 && len <= HS_OPT_MAXLEN && len % 4 == 0);
	/* What we encode from named options (not raw=) must decode without complaint. */
	bool raw = false;
	for (int i = 0; i < spec.n; i++)
		raw |= spec.item[i].raw;
	hs_tcp_opts o;
	int rc = hs_opts_decode(wire, (size_t)len, &o, &e);
	require(raw || rc == 0);
	exercise_opts(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hs_packet p;
	const char *err = NULL;

	if (size < 1)
		return 0;
	const uint8_t *frame = data + 1;
	size_t len = size - 1;
	int dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];

	if (hs_decode_frame(dlt, frame, len, &p, &err) == 0)
		exercise_packet(&p, frame, len);
	else
		require(err && *err);
	err = NULL;
	if (hs_decode_ip(frame, len, &p, &err) == 0)
		exercise_packet(&p, frame, len);
	else
		require(err && *err);

	hs_tcp_opts o;
	err = NULL;
	if (hs_opts_decode(frame, len, &o, &err) < 0)
		require(err && *err);
	exercise_opts(&o);

	exercise_spec(frame, len);
	return 0;
}
