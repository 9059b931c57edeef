/* Monotonic time in nanoseconds. */
#ifndef HS_CLOCK_H
#define HS_CLOCK_H
#include <stdint.h>
uint64_t hs_now_ns(void);
/* Wall-clock time (CLOCK_REALTIME) in nanoseconds since the epoch: for timestamps
 * that leave hs (pcap/pcapng records, HS_EV_OPEN.wall_t0_ns), never for waiting. */
uint64_t hs_wall_ns(void);
#define HS_NS_PER_SEC 1000000000ull
#define HS_NS_PER_MS 1000000ull
/* Parse seconds with fractions ("1", "0.25") into ns; >0. Returns 0 or -1. */
int hs_seconds_parse(const char *s, uint64_t *ns);
#endif
