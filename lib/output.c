/* output: filled in below */
#include <config.h>
