/* session: filled in below */
#include <config.h>
