#!/bin/bash
# Re-creates observed.pcap and observed.ss, the kernel-to-kernel captures that
# test_observer.c replays through the observer (as root):
#   tests/unit/captures/observed.sh OUTDIR
# Two namespaces joined by a veth pair (A 198.18.0.1 - B 198.18.0.2); one connection
# per port, each left by both kernels in a different state; tcpdump on B's veth.
# observed.ss has one line per port, "PORT A-STATE B-STATE", from `ss` in each
# namespace at the end of the capture (CLOSED: no socket left).
set -u
OUT=$(realpath "${1:-.}")
A=obscap-a-$$ B=obscap-b-$$
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
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set wa up
ip -n $B link set wb up
# One script for both ends: ROLE PORT. Each port is a scenario:
#   7001 open: data both ways, both keep the connection (ESTABLISHED, ESTABLISHED)
#   7002 client closes, then the server (TIME-WAIT, CLOSED)
#   7003 client half-closes, the server keeps its side (FIN-WAIT-2, CLOSE-WAIT)
#   7004 client aborts with RST (SO_LINGER 0) (CLOSED, CLOSED)
#   7005 server closes, then the client (CLOSED, TIME-WAIT)
#   7006 client closes with data unread by it: RST (CLOSED, CLOSED)
cat > "$TMP/peer.py" <<'PY'
import socket, struct, sys, time
role, port = sys.argv[1], int(sys.argv[2])
if role == "server":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.18.0.2", port)); s.listen(1)
    c, _ = s.accept(); c.recv(100); c.sendall(b"y" * 3000)
    if port == 7005:
        c.close(); time.sleep(30)
    if port == 7006:
        time.sleep(0.1); c.sendall(b"z" * 10); time.sleep(30)
    try:
        c.recv(100)  # EOF (or reset)
    except ConnectionResetError:
        pass
    if port in (7002,):
        c.close()
    time.sleep(30)
else:
    c = socket.create_connection(("198.18.0.2", port)); c.sendall(b"x" * 100)
    got = 0
    while got < 3000:
        got += len(c.recv(4096))
    if port == 7002:
        c.close()
    elif port == 7003:
        c.shutdown(socket.SHUT_WR)
    elif port == 7004:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
    elif port == 7005:
        c.recv(100); c.close()
    elif port == 7006:
        time.sleep(0.3); c.close()
    time.sleep(30)
PY
ip netns exec $B tcpdump -q -U --immediate-mode -i wb -w "$OUT/observed.pcap" tcp >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
for p in 7001 7002 7003 7004 7005 7006; do
	ip netns exec $B /usr/bin/python3 "$TMP/peer.py" server $p & PIDS+=($!)
done
sleep 0.5
for p in 7001 7002 7003 7004 7005 7006; do
	ip netns exec $A /usr/bin/python3 "$TMP/peer.py" client $p & PIDS+=($!)
done
sleep 2
state() { # NS PORT: the kernel's state of the connection on PORT (CLOSED: none)
	local s
	s=$(ip netns exec "$1" ss -Htan "( sport = :$2 or dport = :$2 )" | awk '$1 != "LISTEN" { print $1 }' | head -1)
	case $s in
	"") echo CLOSED ;; ESTAB) echo ESTABLISHED ;; SYN-RECV) echo SYN-RECEIVED ;; *) echo "$s" ;;
	esac
}
: >"$OUT/observed.ss"
for p in 7001 7002 7003 7004 7005 7006; do
	echo "$p $(state $A $p) $(state $B $p)" >>"$OUT/observed.ss"
done
sleep 0.5
cat "$OUT/observed.ss"
