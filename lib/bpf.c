/* bpf: filled in below */
#include <config.h>
