/* encode: filled in below */
#include <config.h>
