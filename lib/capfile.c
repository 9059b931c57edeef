/* Stub: the capture-file reader lands with -r. */
#include <config.h>
#include <stdio.h>
#include "hs/capfile.h"

int hs_capfile_open(hs_capfile **out, const char *path, const char *filter, char *err, size_t errlen)
{
	(void)filter;
	*out = NULL;
	snprintf(err, errlen, "%s: reading captures is not built yet", path);
	return -1;
}

int hs_capfile_next(hs_capfile *f, hs_packet *pkt, uint64_t *wall_ns, const uint8_t **ip, size_t *ip_caplen,
                    size_t *ip_len, char *err, size_t errlen)
{
	(void)f; (void)pkt; (void)wall_ns; (void)ip; (void)ip_caplen; (void)ip_len; (void)err; (void)errlen;
	return 0;
}

unsigned long hs_capfile_skipped(const hs_capfile *f)
{
	(void)f;
	return 0;
}

void hs_capfile_close(hs_capfile *f)
{
	(void)f;
}
