/* The bounded text builder (include/hs/sbuf.h). */
#include <config.h>
#include <stdarg.h>
#include <stdio.h>
#include "hs/sbuf.h"

void hs_sb_printf(hs_sbuf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->full || b->len == 0)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->pos, b->len - b->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->pos) {
		b->full = true;
		b->pos = b->len - 1;
	} else {
		b->pos += (size_t)n;
	}
}

void hs_sb_hex(hs_sbuf *b, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hs_sb_printf(b, "%02x", p[i]);
}
