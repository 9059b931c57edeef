/* hs -r FILE: re-render the TCP connections of a capture. Stub until it lands. */
#include <config.h>
#include "cli.h"

int cmd_read(struct cli *c)
{
	die(HS_EXIT_USAGE, "-r %s: reading captures is not built yet", c->read_files[0]);
}
