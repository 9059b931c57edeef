/* state: filled in below */
#include <config.h>
