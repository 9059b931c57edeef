/* Monotonic and wall-clock time, and the parsing of user-given durations. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hs/clock.h"

#define MAX_SECONDS 86400.0 /* a day: longer waits are typos */

uint64_t hs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * HS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t hs_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * HS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

int hs_seconds_parse(const char *s, uint64_t *ns)
{
	char *end;

	/* Plain decimal only: strtod alone would also take " 1", "0x1", "1e3", "inf". */
	if (!s || !*s || strspn(s, "0123456789.") != strlen(s))
		return -1;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v) || v <= 0 || v > MAX_SECONDS)
		return -1;
	uint64_t n = (uint64_t)(v * 1e9 + 0.5);
	if (n == 0)
		return -1;
	*ns = n;
	return 0;
}
