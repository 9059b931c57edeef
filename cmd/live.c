#include <config.h>
#include "cli.h"

int cmd_live(struct cli *c, bool fin)
{
	die(HS_EXIT_USAGE, "live connections are not implemented yet");
}
