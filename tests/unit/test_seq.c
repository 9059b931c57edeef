/* Sequence-number arithmetic modulo 2^32, around the wrap. */
#include <config.h>

#include "hs/seq.h"
#include "tap.h"

int main(void)
{
	EQ_INT(hs_seq_diff(10, 5), 5, "diff 10-5");
	EQ_INT(hs_seq_diff(5, 10), -5, "diff 5-10");
	EQ_INT(hs_seq_diff(2, 0xfffffffeu), 4, "diff across the wrap");
	EQ_INT(hs_seq_diff(0xfffffffeu, 2), -4, "negative diff across the wrap");
	EQ_INT(hs_seq_diff(0x80000000u, 0), INT32_MIN, "half the space apart");

	OK(hs_seq_lt(1, 2), "1 < 2");
	OK(!hs_seq_lt(2, 2), "not 2 < 2");
	OK(!hs_seq_lt(3, 2), "not 3 < 2");
	OK(hs_seq_lt(0xffffffffu, 0), "0xffffffff < 0 (wraps)");
	OK(hs_seq_lt(0xfffffff0u, 0x10), "0xfffffff0 < 0x10");
	OK(!hs_seq_lt(0x10, 0xfffffff0u), "not 0x10 < 0xfffffff0");
	OK(hs_seq_gt(0, 0xffffffffu), "0 > 0xffffffff");
	OK(hs_seq_gt(0x7fffffffu, 0), "2^31-1 ahead is greater");
	OK(!hs_seq_gt(0x80000001u, 0), "2^31+1 ahead is behind");
	OK(hs_seq_lt(0x80000001u, 0), "2^31+1 ahead counts as less");

	OK(hs_seq_leq(5, 5) && hs_seq_geq(5, 5), "leq/geq equal");
	OK(hs_seq_leq(0xffffffffu, 0), "leq across the wrap");
	OK(!hs_seq_leq(1, 0xffffffffu), "not 1 <= 0xffffffff");
	OK(hs_seq_geq(1, 0xffffffffu), "1 >= 0xffffffff");
	OK(!hs_seq_geq(0xffffffffu, 1), "not 0xffffffff >= 1");

	/* hs_seq_in: half-open window [lo, hi) */
	OK(hs_seq_in(100, 100, 200), "lo is inside");
	OK(hs_seq_in(199, 100, 200), "hi-1 is inside");
	OK(!hs_seq_in(200, 100, 200), "hi is outside");
	OK(!hs_seq_in(99, 100, 200), "lo-1 is outside");
	OK(!hs_seq_in(100, 100, 100), "empty window holds nothing");
	OK(hs_seq_in(0xffffffffu, 0xfffffff0u, 0x10), "window across the wrap: before 0");
	OK(hs_seq_in(0, 0xfffffff0u, 0x10), "window across the wrap: 0");
	OK(hs_seq_in(0xf, 0xfffffff0u, 0x10), "window across the wrap: hi-1");
	OK(!hs_seq_in(0x10, 0xfffffff0u, 0x10), "window across the wrap: hi");
	OK(!hs_seq_in(0xffffffefu, 0xfffffff0u, 0x10), "window across the wrap: lo-1");
	OK(!hs_seq_in(0x80000000u, 0xfffffff0u, 0x10), "far away is outside");
	return tap_done();
}
