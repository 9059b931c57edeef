/* Renderers: every view of a run (the line view, JSON lines, the ladder) and every
 * sink (the pcapng writer) is one hs_render_ops, fed the same hs_event values by
 * hs_output_emit in the order they happen. A view writes to hs_output.fp; a sink to
 * its own file. Nothing here decides what happened: that is the TCB's and the
 * observer's job; renderers only say it. */
#ifndef HS_RENDER_H
#define HS_RENDER_H
#include <stdbool.h>
#include <stddef.h>
#include "hs/event.h"

struct hs_output;

typedef struct hs_render_ops {
	const char *name; /* "lines", "json", "ladder", "pcapng" */
	/* Make the renderer's state for o (read its options: fp, color, width, ...).
	 * Returns 0 (*self may stay NULL), or -1 with err ("cannot write x.pcapng: ..."). */
	int (*open)(struct hs_output *o, void **self, char *err, size_t errlen);
	/* Render one event. Write errors are kept (hs_output.fp_errno for views; a
	 * sink's own, returned by close). */
	void (*emit)(struct hs_output *o, void *self, const hs_event *ev);
	/* Whether the renderer holds something not yet written (a ladder row waiting for
	 * the next event: a segment that may yet turn out to have crossed it). NULL: never. */
	bool (*holding)(struct hs_output *o, void *self);
	/* Nothing happened for HS_OUTPUT_IDLE_NS, or the driver is about to wait for
	 * the user (--step): write what is held. NULL: nothing to do. */
	void (*idle)(struct hs_output *o, void *self);
	/* After the last event (HS_EV_RESULT) or before exit: write what is still held
	 * (a ladder row waiting for a crossing segment, the last pcapng packet waiting
	 * for its comment), free self. Returns 0, or the errno of the first failed write. */
	int (*close)(struct hs_output *o, void *self);
} hs_render_ops;

extern const hs_render_ops hs_render_lines;  /* the default view (render_lines.c) */
extern const hs_render_ops hs_render_json;   /* --json (INTERFACE.md "--json"; render_json.c) */
extern const hs_render_ops hs_render_ladder; /* --ladder (render_ladder.c) */
extern const hs_render_ops hs_render_pcapng; /* -w FILE.pcapng (render_pcapng.c) */

#endif
