/* lib/ reports errors as a return code plus one line of text in the caller's
 * buffer (err, errlen); this writes that line. */
#ifndef HS_ERR_H
#define HS_ERR_H
#include <stddef.h>
/* printf into err (when err is not NULL and errlen > 0), truncating. */
void hs_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif
