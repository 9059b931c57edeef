/* Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4). */
#ifndef HS_SEQ_H
#define HS_SEQ_H
#include <stdint.h>
#include <stdbool.h>

static inline int32_t hs_seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline bool hs_seq_lt(uint32_t a, uint32_t b) { return hs_seq_diff(a, b) < 0; }
static inline bool hs_seq_leq(uint32_t a, uint32_t b) { return hs_seq_diff(a, b) <= 0; }
static inline bool hs_seq_gt(uint32_t a, uint32_t b) { return hs_seq_diff(a, b) > 0; }
static inline bool hs_seq_geq(uint32_t a, uint32_t b) { return hs_seq_diff(a, b) >= 0; }
/* lo <= x < hi, modulo 2^32. */
static inline bool hs_seq_in(uint32_t x, uint32_t lo, uint32_t hi) { return (uint32_t)(x - lo) < (uint32_t)(hi - lo); }

#endif
