/* The pcapng sink (-w FILE.pcapng). Stub until the writer lands. */
#include <config.h>
#include <stdio.h>
#include "hs/output.h"
#include "hs/render.h"

static int pcapng_open(hs_output *o, void **self, char *err, size_t errlen)
{
	(void)o;
	(void)self;
	snprintf(err, errlen, "pcapng output is not built yet");
	return -1;
}

static void pcapng_emit(hs_output *o, void *self, const hs_event *ev)
{
	(void)o;
	(void)self;
	(void)ev;
}

const hs_render_ops hs_render_pcapng = { .name = "pcapng", .open = pcapng_open, .emit = pcapng_emit };
