/* guard: filled in below */
#include <config.h>
