/* A bounded text builder for the formatters (options, the segment notation): it
 * never writes past its buffer and keeps it NUL-terminated; once full, further
 * text is dropped and `full` says so. */
#ifndef HS_SBUF_H
#define HS_SBUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hs_sbuf {
	char *p;          /* the caller's buffer, */
	size_t len, pos;  /* len bytes (> 0 to hold anything); the text ends at pos */
	bool full;        /* text was dropped */
} hs_sbuf;

/* Append printf-style text (truncated at the end of the buffer). */
void hs_sb_printf(hs_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append n bytes as lowercase hex, two digits each. */
void hs_sb_hex(hs_sbuf *b, const uint8_t *p, size_t n);

#endif
