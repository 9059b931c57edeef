/* capture: filled in below */
#include <config.h>
