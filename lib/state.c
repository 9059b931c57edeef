/* TCP connection state names, spelled as RFC 9293 spells them. */
#include <config.h>

#include <string.h>

#include "hs/state.h"

static const char *const state_names[HS_STATE_COUNT] = {
	[HS_CLOSED] = "CLOSED",
	[HS_LISTEN] = "LISTEN",
	[HS_SYN_SENT] = "SYN-SENT",
	[HS_SYN_RECEIVED] = "SYN-RECEIVED",
	[HS_ESTABLISHED] = "ESTABLISHED",
	[HS_FIN_WAIT_1] = "FIN-WAIT-1",
	[HS_FIN_WAIT_2] = "FIN-WAIT-2",
	[HS_CLOSE_WAIT] = "CLOSE-WAIT",
	[HS_CLOSING] = "CLOSING",
	[HS_LAST_ACK] = "LAST-ACK",
	[HS_TIME_WAIT] = "TIME-WAIT",
};

const char *hs_state_name(hs_state s)
{
	/* The enum may be backed by an unsigned type: compare as int to catch negatives too. */
	if ((int)s < 0 || (int)s >= HS_STATE_COUNT)
		return "?";
	return state_names[s];
}

int hs_state_parse(const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; i < HS_STATE_COUNT; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}
