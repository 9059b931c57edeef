/* --netns NAME: run inside a network namespace made by `ip netns add`. */
#ifndef HS_NETNS_H
#define HS_NETNS_H
#include <stddef.h>
/* setns() into /run/netns/NAME. Returns 0, or -1 with err; *notfound set when the
 * namespace does not exist. */
int hs_netns_enter(const char *name, int *notfound, char *err, size_t errlen);
#endif
