#!/bin/bash
# The reaction time the simple way is now one figure of bench/run, which measures
# it next to the kernel's connect(), interleaved, with the rest of the table.
#   bench/reaction.sh [HS] [N]   (= HS=HS bench/run -n N)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[[ -n ${1:-} ]] && export HS=$1
exec "$top/bench/run" -n "${2:-50}" -m 5 --rate-rounds 1 --rate-count 500
