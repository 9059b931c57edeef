#!/bin/bash
# How fast does hs answer the peer? Measures, on the peer's side of a veth pair,
# the time from the peer's SYN,ACK leaving to hs's ACK arriving, over N handshakes,
# next to the same for the kernel's own connect(). Needs root.
#   bench/reaction.sh [HS] [N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
HS=${1:-$top/hs}
N=${2:-50}
lab=hsbench-$$
eval "$("$top/tests/lab/hs-lab" up "$lab")"
out=$(mktemp -d)
cleanup() {
	[[ -n ${dump:-} ]] && kill "$dump" 2>/dev/null
	"$top/tests/lab/hs-lab" down "$lab" >/dev/null 2>&1
	rm -rf "$out"
}
trap cleanup EXIT
ip netns exec "$LAB_B" socat TCP-LISTEN:8080,reuseaddr,fork /dev/null &
until ip netns exec "$LAB_B" ss -Hltn 'sport = :8080' | grep -q .; do sleep 0.01; done
ip netns exec "$LAB_B" tcpdump -i "$LAB_IF_B" -nn -tt --time-stamp-precision=nano --immediate-mode -l \
	'tcp port 8080 and tcp[tcpflags] & (tcp-syn|tcp-ack) != 0' >"$out/dump" 2>/dev/null &
dump=$!
sleep 0.2 # let tcpdump attach (no event tells when its socket is bound)
for ((i = 0; i < N; i++)); do
	"$HS" --netns "$LAB_A" connect "$LAB_ADDR_B" 8080 --close rst -q --state-dir "$out/st" >/dev/null
done
for ((i = 0; i < N; i++)); do
	ip netns exec "$LAB_A" python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], 8080)).close()' "$LAB_ADDR_B"
done
sleep 0.2
kill "$dump"; dump=
# Pair each SYN,ACK from the peer with the next ACK on the same port pair.
python3 - "$out/dump" "$N" <<'PY'
import re, sys, statistics
synack = {}
delays = []
for line in open(sys.argv[1]):
    m = re.match(r'(\d+\.\d+) IP (\S+) > (\S+): Flags \[([^\]]*)\]', line)
    if not m:
        continue
    t, src, dst, flags = float(m.group(1)), m.group(2), m.group(3), m.group(4)
    if flags == 'S.':
        synack[(src, dst)] = t
    elif flags == '.' and (dst, src) in synack:
        delays.append((t - synack.pop((dst, src))) * 1e6)
n = int(sys.argv[2])
for name, d in (('hs', delays[:n]), ('kernel connect()', delays[n:])):
    if d:
        print(f'{name:18} SYN,ACK -> ACK on the peer\'s veth: median {statistics.median(d):7.1f} us, '
              f'min {min(d):6.1f}, max {max(d):7.1f}  ({len(d)} handshakes)')
PY
