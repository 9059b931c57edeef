/* Randomness for ISNs, TS clocks and ports. */
#ifndef HS_RANDOM_H
#define HS_RANDOM_H
#include <stdint.h>
/* getrandom(); before the kernel's pool is ready, a spread of the clock (good
 * enough for a port or an ISN in a lab, never blocking). */
uint32_t hs_random32(void);
#endif
