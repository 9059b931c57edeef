#include <config.h>
#include "cli.h"

int cmd_rst(struct cli *c)
{
	die(HS_EXIT_USAGE, "hs rst is not implemented yet");
}
