#include <config.h>
#include "cli.h"

int cmd_listen(struct cli *c)
{
	die(HS_EXIT_USAGE, "hs listen is not implemented yet");
}
