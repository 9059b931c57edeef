/* hs: craft TCP handshakes and teardowns by hand. Everything lives in hs_main()
 * (cmd/cli.c) so that it can be driven from tests. */
#include <config.h>
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_exit_status(hs_main(argc, argv));
}
