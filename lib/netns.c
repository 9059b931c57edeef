/* --netns NAME: join a network namespace that `ip netns add` made (it bind-mounts
 * each one at /run/netns/NAME). Only the network namespace changes; call this
 * before opening any socket, pcap handle or nft context. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hs/netns.h"

#define NETNS_DIR "/run/netns"

/* A plain file name inside NETNS_DIR: nothing that could walk out of it. */
static bool valid_name(const char *name)
{
	return name && *name && name[0] != '.' && !strchr(name, '/') && strlen(name) < 256;
}

int hs_netns_enter(const char *name, int *notfound, char *err, size_t errlen)
{
	char path[sizeof(NETNS_DIR) + 256];
	int fd, e;

	if (notfound)
		*notfound = 0;
	if (!valid_name(name)) {
		snprintf(err, errlen, "invalid network namespace name \"%s\"", name ? name : "");
		if (notfound)
			*notfound = 1;
		return -1;
	}
	snprintf(path, sizeof(path), NETNS_DIR "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT) {
			if (notfound)
				*notfound = 1;
			snprintf(err, errlen, "no network namespace named %s (see ip netns list)", name);
		} else {
			snprintf(err, errlen, "cannot open network namespace %s: %s", name, strerror(e));
		}
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		e = errno;
		close(fd);
		if (e == EPERM)
			snprintf(err, errlen, "cannot enter network namespace %s: %s (needs CAP_SYS_ADMIN)", name,
			         strerror(e));
		else if (e == EINVAL)
			snprintf(err, errlen, "%s is not a network namespace", path);
		else
			snprintf(err, errlen, "cannot enter network namespace %s: %s", name, strerror(e));
		return -1;
	}
	close(fd);
	return 0;
}
