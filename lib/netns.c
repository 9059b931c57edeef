/* netns: filled in below */
#include <config.h>
