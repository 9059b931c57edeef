/* opts: filled in below */
#include <config.h>
