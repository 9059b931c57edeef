#include <config.h>
#include <sys/random.h>
#include "hs/clock.h"
#include "hs/random.h"

uint32_t hs_random32(void)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	return (uint32_t)hs_now_ns() * 2654435761u; /* Knuth's multiplicative spread */
}
