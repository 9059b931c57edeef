/* clock: filled in below */
#include <config.h>
