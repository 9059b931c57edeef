/* Payload from the command line: --send TEXT with C escapes, --send-hex HEX and
 * --send-file FILE. Pure parsers over (text, buffer, capacity), bounds-checked. */
#ifndef HS_PAYLOAD_H
#define HS_PAYLOAD_H
#include <stddef.h>
#include <stdint.h>

/* The largest payload one --send-file may hold (16 MiB). */
#define HS_PAYLOAD_FILE_MAX (16u << 20)

/* Decode C-style escapes in the NUL-terminated text in: \n \r \t \\ \0 (NUL) and
 * \xHH (exactly two hex digits); every other byte stands for itself. The result is
 * never longer than strlen(in). out: cap bytes, *len: in: cap; out: the bytes
 * written. Returns 0, or -1 with *err set to a static message (an unknown escape,
 * a \ at the end, \x without two hex digits, \0 followed by an octal digit -- which
 * would read as an octal escape in C --, or more bytes than cap) and *len set to the
 * offset in in where the fault begins (its backslash); nothing is promised about out
 * then. err may be NULL. */
int hs_payload_unescape(const char *in, uint8_t *out, size_t *len, const char **err);

/* Decode hex digits ("48656c6c6f", "0x48656c6c6f", "48 65:6c"): an optional 0x
 * prefix, two digits a byte, whitespace or ':' allowed between bytes only. out, *len
 * and err as for hs_payload_unescape (the result is at most strlen(in) / 2 bytes).
 * Returns 0, or -1 with *err (no digits, an odd number of digits, a character that
 * is not a hex digit, or more bytes than cap) and *len the offset of the fault. */
int hs_payload_hex(const char *in, uint8_t *out, size_t *len, const char **err);

/* Read the whole file at path (a regular file, pipe or device) into a new malloc'd
 * buffer: *out (the caller frees it) and *len, 1 to max bytes. Returns 0, or -1
 * with a line in err (cannot open or read it, a directory, empty, larger than max). */
int hs_payload_read_file(const char *path, size_t max, uint8_t **out, size_t *len, char *err, size_t errlen);

/* The value of one hex digit (0-9, a-f, A-F), or -1. */
int hs_hex_digit(int c);

#endif
