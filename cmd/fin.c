#include <config.h>
#include "cli.h"

int cmd_fin(struct cli *c)
{
	die(HS_EXIT_USAGE, "hs fin is not implemented yet");
}
