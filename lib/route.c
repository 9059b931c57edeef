/* route: filled in below */
#include <config.h>
