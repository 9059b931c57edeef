/* Stub: the summary lands with its module. */
#include <config.h>
#include <string.h>
#include "hs/summary.h"

void hs_summary_init(hs_summary *s)
{
	memset(s, 0, sizeof(*s));
}

void hs_summary_add(hs_summary *s, const hs_event *ev)
{
	(void)s;
	(void)ev;
}

void hs_summary_json(const hs_summary *s, hs_sbuf *b)
{
	(void)s;
	hs_sb_printf(b, "{}");
}

void hs_summary_text(const hs_summary *s, const char *out_name, const char *in_name, hs_sbuf *b)
{
	(void)s;
	(void)out_name;
	(void)in_name;
	(void)b;
}
