/* hs_output: hands each event to the view (render_lines.c, render_json.c,
 * render_ladder.c) and to the sinks (render_pcapng.c), feeds the summary, keeps
 * the first write error. What a line looks like is the renderers' business. */
#include <config.h>

#include <errno.h>
#include <langinfo.h>
#include <string.h>

#include "hs/output.h"
#include "hs/render.h"
#include "hs/summary.h"

/* ---- entry points -------------------------------------------------------------------- */

/* The first write error on stdout of any hs_output: kept here too, so that it can be
 * asked for once the hs_output (a driver's, on its stack) is gone. */
static int stdout_errno;

void hs_output_init(hs_output *o, FILE *fp, FILE *err)
{
	const char *cs = nl_langinfo(CODESET);

	memset(o, 0, sizeof(*o));
	o->fp = fp;
	o->err = err;
	o->ascii = !(cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0));
	hs_summary_init(&o->sum);
}

/* ---- the view and the sinks ------------------------------------------------------------ */

static const hs_render_ops *view_ops(enum hs_view v)
{
	switch (v) {
	case HS_VIEW_JSON: return &hs_render_json;
	case HS_VIEW_LADDER: return &hs_render_ladder;
	case HS_VIEW_LINES: break;
	}
	return &hs_render_lines;
}

int hs_output_add_sink(hs_output *o, const hs_render_ops *ops, char *err, size_t errlen)
{
	void *self = NULL;

	if (o->nsink == HS_OUTPUT_MAXSINK) {
		snprintf(err, errlen, "too many outputs");
		return -1;
	}
	if (ops->open && ops->open(o, &self, err, errlen) < 0)
		return -1;
	o->sink[o->nsink].ops = ops;
	o->sink[o->nsink].self = self;
	o->nsink++;
	return 0;
}

int hs_output_close(hs_output *o)
{
	if (o->closed)
		return o->sink_errno;
	o->closed = true;
	if (o->view_ops && o->view_ops->close)
		o->view_ops->close(o, o->view_self);
	o->view_self = NULL;
	for (int i = 0; i < o->nsink; i++) {
		int e = o->sink[i].ops->close ? o->sink[i].ops->close(o, o->sink[i].self) : 0;
		if (e && !o->sink_errno) {
			o->sink_errno = e;
			o->sink_name = o->sink[i].ops->name;
		}
		o->sink[i].self = NULL;
	}
	o->nsink = 0;
	return o->sink_errno;
}

static void flush_streams(hs_output *o);

bool hs_output_holding(const hs_output *o)
{
	if (!o->fp || o->closed)
		return false;
	if (o->view_ops && o->view_ops->holding && o->view_ops->holding((hs_output *)o, o->view_self))
		return true;
	for (int i = 0; i < o->nsink; i++)
		if (o->sink[i].ops->holding && o->sink[i].ops->holding((hs_output *)o, o->sink[i].self))
			return true;
	return false;
}

void hs_output_idle(hs_output *o)
{
	if (!hs_output_holding(o))
		return;
	if (o->view_ops && o->view_ops->idle)
		o->view_ops->idle(o, o->view_self);
	for (int i = 0; i < o->nsink; i++)
		if (o->sink[i].ops->idle)
			o->sink[i].ops->idle(o, o->sink[i].self);
	flush_streams(o);
}

bool hs_output_has_sinks(const hs_output *o)
{
	return o->nsink > 0;
}

bool hs_output_is_json(const hs_output *o)
{
	return o->view == HS_VIEW_JSON;
}

static void flush_streams(hs_output *o)
{
	/* A closed pipe (EPIPE), a full disk (ENOSPC): remembered, so that the run
	 * ends instead of going on with nobody told; the first error is the one kept. */
	errno = 0;
	if (o->fp && (fflush(o->fp) == EOF || ferror(o->fp)) && !o->fp_errno) {
		o->fp_errno = errno ? errno : EIO;
		if (o->fp == stdout && !stdout_errno)
			stdout_errno = o->fp_errno;
	}
	errno = 0;
	if (o->err && (fflush(o->err) == EOF || ferror(o->err)) && !o->err_errno)
		o->err_errno = errno ? errno : EIO;
}

void hs_output_emit(hs_output *o, const hs_event *in)
{
	hs_event copy;
	const hs_event *ev = in;

	if (!o->fp || o->closed)
		return;
	if (!o->view_ops) {
		char err[256];
		o->view_ops = view_ops(o->view);
		if (o->view_ops->open && o->view_ops->open(o, &o->view_self, err, sizeof(err)) < 0) {
			/* A view that cannot start (out of memory): the lines instead. */
			o->view_ops = &hs_render_lines;
			o->view_self = NULL;
		}
	}
	if (in->type == HS_EV_OPEN) { /* who the ends are, for the views that name them */
		o->observed = in->observed;
		o->names[0] = in->local_name ? in->local_name : in->observed ? "A" : "us";
		o->names[1] = in->remote_name ? in->remote_name : in->observed ? "B" : "peer";
	}
	/* The summary: fed every event, handed to the ones that end a connection. */
	hs_summary_add(&o->sum, in);
	if ((in->type == HS_EV_END || in->type == HS_EV_RESULT) && !in->summary && !in->listing) {
		copy = *in;
		copy.summary = &o->sum;
		ev = &copy;
	}
	o->view_ops->emit(o, o->view_self, ev);
	for (int i = 0; i < o->nsink; i++)
		o->sink[i].ops->emit(o, o->sink[i].self, ev);
	if (ev->type == HS_EV_RESULT)
		hs_output_close(o);
	if (!o->deferred || ev->type == HS_EV_RESULT)
		flush_streams(o);
}

void hs_output_defer(hs_output *o, bool on)
{
	o->deferred = on;
	if (!on)
		flush_streams(o);
}

void hs_output_flush(hs_output *o)
{
	flush_streams(o);
}

int hs_output_stdout_error(void)
{
	return stdout_errno;
}

int hs_output_write_error(const hs_output *o, const char **which)
{
	if (which)
		*which = o->fp == stderr ? "stderr" : "stdout";
	return o->fp ? o->fp_errno : 0;
}
