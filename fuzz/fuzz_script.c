/* Fuzz target for scenario scripts (lib/script.c): hs_script_parse on arbitrary
 * bytes. A refused script gives one line starting with the file name and a line
 * number; a parsed one has its lines in file order, every field in range, and a
 * role; every EXPECT line matched against a fixed segment gives true, or false with a
 * one-line reason; everything is freed.
 *
 *   libFuzzer: make fuzz (fuzz/fuzz_script_libfuzzer, corpus fuzz/corpus-script)
 *   replay (make check): fuzz/replay_main.c, built as fuzz/fuzz_script_replay */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERR_LEN 300
#define FILE_NAME "f.pkt"

static void require(int cond)
{
	if (!cond)
		abort();
}

static void check_line(const hs_scr_line *l, unsigned prev)
{
	char why[128], block[1024];
	hs_segment seg;

	require(l->lineno > prev && l->lineno <= HS_SCR_LINES_MAX);
	require(l->kind >= HS_SCR_SEND && l->kind <= HS_SCR_SHELL);
	require(l->time.kind >= HS_SCR_T_ABS && l->time.kind <= HS_SCR_T_ANY);
	require(l->time.t_ns <= (uint64_t)HS_SCR_TIME_MAX_S * 1000000000ull);
	if (l->time.kind == HS_SCR_T_RANGE)
		require(l->time.t2_ns >= l->time.t_ns && l->time.t2_ns <= (uint64_t)HS_SCR_TIME_MAX_S * 1000000000ull);
	require(l->text != NULL && strlen(l->text) <= HS_SCR_LINE_MAX);
	if (l->kind == HS_SCR_SHELL)
		return;
	require((l->any & ~0x3fu) == 0);
	require(l->spec.seq.how == HS_NUM_UNSET || l->spec.seq.how == HS_NUM_REL || l->spec.seq.how == HS_NUM_ABS);
	require(l->spec.ack.how == HS_NUM_UNSET || l->spec.ack.how == HS_NUM_REL || l->spec.ack.how == HS_NUM_ABS);
	if (l->kind == HS_SCR_SEND)
		require(l->time.kind != HS_SCR_T_ANY && l->time.kind != HS_SCR_T_RANGE);
	memset(&seg, 0, sizeof(seg));
	seg.flags = HS_SYN | HS_ACK;
	seg.seq = 100;
	seg.ack = 201;
	seg.win = 65535;
	why[0] = 'x';
	if (hs_script_match(l, &seg, 100, 200, why, sizeof(why))) {
		require(why[0] == '\0');
	} else {
		require(why[0] != '\0' && strchr(why, '\n') == NULL);
		hs_script_mismatch_format(FILE_NAME, l, &seg, 100, 200, why, block, sizeof(block));
		require(strncmp(block, FILE_NAME ":", sizeof(FILE_NAME)) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hs_script s;
	char err[ERR_LEN];

	err[0] = '\0';
	int rc = hs_script_parse((const char *)data, size, FILE_NAME, &s, err, sizeof(err));
	if (rc != 0) {
		require(rc == -1);
		require(strncmp(err, FILE_NAME ":", sizeof(FILE_NAME)) == 0);
		require(err[sizeof(FILE_NAME)] >= '0' && err[sizeof(FILE_NAME)] <= '9');
		require(strchr(err, '\n') == NULL);
		require(s.n == 0 && s.line == NULL);
		return 0;
	}
	require(s.role == HS_SCR_ROLE_CLIENT || s.role == HS_SCR_ROLE_SERVER);
	require(s.n > 0 && s.line != NULL);
	unsigned prev = 0;
	for (size_t i = 0; i < s.n; i++) {
		check_line(&s.line[i], prev);
		prev = s.line[i].lineno;
	}
	hs_script_free(&s);
	return 0;
}
