/* The ladder view (--ladder). Stub until the renderer lands: the lines. */
#include <config.h>
#include "hs/output.h"
#include "hs/render.h"

static void ladder_emit(hs_output *o, void *self, const hs_event *ev)
{
	hs_render_lines.emit(o, self, ev);
}

const hs_render_ops hs_render_ladder = { .name = "ladder", .emit = ladder_emit };
