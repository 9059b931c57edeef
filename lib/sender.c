/* sender: filled in below */
#include <config.h>
