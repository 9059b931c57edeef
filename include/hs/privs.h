/* Dropping privileges once the sockets are open (as tcpdump and arping do). */
#ifndef HS_PRIVS_H
#define HS_PRIVS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keep only CAP_NET_ADMIN (when keep_net_admin: the RST guard must still be removed
 * at exit) in the effective and permitted sets, clear the inheritable set, and set
 * no_new_privs. The raw socket and the capture stay usable. Returns 0, or -1 with
 * err. A process without capabilities is left as it is (returns 0). */
int hs_drop_privileges(bool keep_net_admin, char *err, size_t errlen);

/* The same with the capabilities to keep given as a mask of bits below 32
 * (1u << CAP_NET_RAW | 1u << CAP_NET_ADMIN: hs ls, which opens a raw socket and a
 * capture for each probe and may remove a stale guard). */
int hs_drop_privileges_to(uint32_t keep, char *err, size_t errlen);

/* Run as a real-time task (SCHED_FIFO, the lowest priority 1) so that our answer
 * leaves when the peer's segment arrives, not when the scheduler next gets round to
 * us: on a small machine a peer process on the same CPU (exiting, say) otherwise
 * holds our wake-up back by milliseconds, long enough for its tail-loss probe to
 * resend. hs blocks in poll() between segments, so it takes no CPU from others.
 * Needs CAP_SYS_NICE (call before hs_drop_privileges). Returns 0, or -1 (errno)
 * when not permitted; hs then runs as before. */
int hs_realtime(void);

#endif
