/* store: filled in below */
#include <config.h>
