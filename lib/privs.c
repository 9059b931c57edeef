#include <config.h>
#include <sched.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "hs/privs.h"

/* No libcap: two raw syscalls are all it takes. */
static int capget_v3(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	return (int)syscall(SYS_capget, &hdr, data);
}

static int capset_v3(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	return (int)syscall(SYS_capset, &hdr, data);
}

int hs_drop_privileges(bool keep_net_admin, char *err, size_t errlen)
{
	return hs_drop_privileges_to(keep_net_admin ? 1u << CAP_NET_ADMIN : 0, err, errlen);
}

int hs_drop_privileges_to(uint32_t keep, char *err, size_t errlen)
{
	struct __user_cap_data_struct data[2];

	if (capget_v3(data) < 0) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		uint32_t k = i == 0 ? keep : 0;
		data[i].effective &= k;
		data[i].permitted &= k;
		data[i].inheritable = 0;
	}
	if (capset_v3(data) < 0) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int hs_realtime(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	return sched_setscheduler(0, SCHED_FIFO, &sp);
}
