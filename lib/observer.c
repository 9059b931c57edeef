/* Stub: the observer lands with its module. */
#include <config.h>
#include <string.h>
#include "hs/observer.h"

void hs_observer_init(hs_observer *ob, const hs_endpoint *a, const hs_endpoint *b)
{
	memset(ob, 0, sizeof(*ob));
	ob->side[HS_OBS_A].ep = *a;
	ob->side[HS_OBS_B].ep = *b;
}

int hs_observer_sender(const hs_observer *ob, const hs_segment *seg)
{
	for (int i = 0; i < 2; i++)
		if (hs_endpoint_equal(&seg->src, &ob->side[i].ep) && hs_endpoint_equal(&seg->dst, &ob->side[!i].ep))
			return i;
	return -1;
}

int hs_observer_segment(hs_observer *ob, const hs_segment *seg, uint64_t t_ns, hs_obs_out *out)
{
	(void)t_ns;
	memset(out, 0, sizeof(*out));
	out->from = hs_observer_sender(ob, seg);
	return out->from;
}

void hs_observer_conclude(hs_observer *ob, int side, hs_state to, const char *why, hs_obs_out *out)
{
	(void)why;
	memset(out, 0, sizeof(*out));
	ob->side[side].state = to;
}

uint32_t hs_observer_rel(const hs_observer *ob, int side, uint32_t seq)
{
	return ob->side[side].iss_known ? seq - ob->side[side].iss : 0;
}
