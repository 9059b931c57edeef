/* addr: filled in below */
#include <config.h>
