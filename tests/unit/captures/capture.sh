#!/bin/bash
# Re-creates the real-kernel captures that test_decode.c embeds (as root):
#   tests/unit/captures/capture.sh OUTDIR
#   python3 tests/unit/captures/pcap2c.py OUTDIR/veth.pcap          (list frames)
#   python3 tests/unit/captures/pcap2c.py OUTDIR/veth.pcap 5 syn    (C array)
# Two namespaces joined by a veth pair (198.18.0.1/24 - 198.18.0.2/24, 2001:db8::1/2),
# a listener on 8080 in B, nothing on 9 (RST), and an nft reject on 7777 (ICMP).
set -u
OUT=$(realpath "${1:-.}")
A=wirecap-a-$$ B=wirecap-b-$$
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del $A 2>/dev/null
	ip netns del $B 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add $A && ip netns add $B || exit 1
ip link add wa netns $A type veth peer name wb netns $B
ip -n $A addr add 198.18.0.1/24 dev wa
ip -n $B addr add 198.18.0.2/24 dev wb
ip -n $A addr add 2001:db8::1/64 dev wa nodad
ip -n $B addr add 2001:db8::2/64 dev wb nodad
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set wa up
ip -n $B link set wb up
ip netns exec $B nft -f - <<NFT
table inet wirecap {
	chain in {
		type filter hook input priority 0;
		tcp dport 7777 meta nfproto ipv4 reject with icmp type port-unreachable
		tcp dport 7777 meta nfproto ipv6 reject with icmpv6 type port-unreachable
	}
}
NFT
# A listener that reads a line, answers "hi LINE", and closes.
cat > "$TMP/srv.py" <<'PY'
import socket, sys
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(5)
c, _a = s.accept(); d = c.recv(100); c.sendall(b"hi " + d); c.close()
PY
cat > "$TMP/cli.py" <<'PY'
import socket, sys, time
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.sendall(b"hello\n"); time.sleep(0.1); print(s.recv(100)); s.close()
except Exception as e:
    print("client:", e)
time.sleep(0.2)
PY
ip netns exec $B python3 "$TMP/srv.py" 198.18.0.2 8080 & PIDS+=($!)
ip netns exec $B python3 "$TMP/srv.py" 2001:db8::2 8080 & PIDS+=($!)
ip netns exec $A python3 "$TMP/srv.py" 127.0.0.1 8080 & PIDS+=($!)
cap() { # NS IFACE FILE [tcpdump args]
	local ns=$1 ifc=$2 f=$3
	shift 3
	ip netns exec $ns tcpdump -q -U --immediate-mode -i $ifc -w "$OUT/$f" "$@" >/dev/null 2>&1 &
	PIDS+=($!)
}
cap $B wb veth.pcap
cap $A any sll.pcap -y LINUX_SLL tcp port 8080 and host 198.18.0.2
cap $A any sll2.pcap -y LINUX_SLL2 tcp port 8080 and host 198.18.0.2
cap $A lo lo.pcap
sleep 1
for dst in "198.18.0.2 8080" "198.18.0.2 9" "198.18.0.2 7777" "2001:db8::2 8080" \
           "2001:db8::2 7777" "127.0.0.1 8080"; do
	ip netns exec $A python3 "$TMP/cli.py" $dst
done
sleep 1
