/* Stub: the pcapng writer lands with -w FILE.pcapng. */
#include <config.h>
#include <stdio.h>
#include "hs/pcapng.h"

int hs_pcapng_open(hs_pcapng **out, const char *path, char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "cannot write %s: pcapng is not built yet", path);
	return -1;
}

int hs_pcapng_write(hs_pcapng *w, uint64_t wall_ns, const uint8_t *ip, size_t caplen, size_t len,
                    const char *comment)
{
	(void)w; (void)wall_ns; (void)ip; (void)caplen; (void)len; (void)comment;
	return 0;
}

int hs_pcapng_close(hs_pcapng *w)
{
	(void)w;
	return 0;
}
