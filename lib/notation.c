/* Placeholder until the notation parser lands (same API, minimal behaviour). */
#include <config.h>
#include <stdio.h>
#include <string.h>
#include "hs/notation.h"

void hs_seg_spec_init(hs_seg_spec *sp) { memset(sp, 0, sizeof(*sp)); }
int hs_flags_parse(const char *text, uint8_t *flags, char *err, size_t errlen) { (void)text; *flags = 0; snprintf(err, errlen, "unsupported"); return -1; }
int hs_num_parse(const char *text, hs_num *out, char *err, size_t errlen) { (void)text; (void)out; snprintf(err, errlen, "unsupported"); return -1; }
int hs_notation_parse(const char *text, hs_seg_spec *sp, char *err, size_t errlen) { (void)text; (void)sp; snprintf(err, errlen, "unsupported"); return -1; }
int hs_fields_parse(const char *text, hs_seg_spec *sp, char *err, size_t errlen) { (void)text; (void)sp; snprintf(err, errlen, "unsupported"); return -1; }
int hs_edit_parse(const char *text, hs_seg_spec *sp, char *err, size_t errlen) { (void)text; (void)sp; snprintf(err, errlen, "unsupported"); return -1; }
uint32_t hs_num_resolve(const hs_num *n, uint32_t isn, uint32_t next, uint32_t dflt)
{
	switch (n->how) {
	case HS_NUM_REL: return isn + n->v;
	case HS_NUM_FWD: return next + n->v;
	case HS_NUM_BACK: return next - n->v;
	case HS_NUM_ABS: return n->v;
	default: return dflt;
	}
}
const char *hs_notation_format(const hs_segment *seg, uint32_t seq_base, uint32_t ack_base, char *buf, size_t len)
{
	snprintf(buf, len, "flags %u %u:%u(%zu) ack %u", seg->flags, seg->seq - seq_base, (unsigned)(seg->seq - seq_base + seg->len), seg->len, seg->ack - ack_base);
	return buf;
}
