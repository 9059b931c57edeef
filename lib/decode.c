/* decode: filled in below */
#include <config.h>
