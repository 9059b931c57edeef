/* tcb: filled in below */
#include <config.h>
