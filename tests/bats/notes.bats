#!/usr/bin/env bats
# hs's notes against Wireshark's TCP analysis of hs's own capture (-w): for the
# kinds hs names (retransmission, dup-ack, out-of-order, zero-window,
# zero-window-probe, window-update, window-full, keepalive, keepalive-ack), the
# note hs shows on a segment is what tshark says about that segment, and a
# segment tshark flags with one of them carries hs's note. Kernel peers in
# namespace b; losses are single chosen segments (drop_once), never random.
# Where hs deliberately differs, the test says why (notes_agree's exceptions).
#
# Run by `make check`, or by hand as root: bats tests/bats/notes.bats

load common

PORT=7000   # the peer's port
SPORT=40000 # hs's port

setup() {
	tb_setup
	lab_require tshark tc clang
}

teardown() {
	lab_teardown
}

# py_peer LOG CODE [ARG...]: a Python peer in namespace b (CODE run by $PYTHON -c),
# its output in $LAB_DIR/LOG; returns once it listens on $PORT.
py_peer() {
	local log=$1 code=$2
	shift 2
	lab_bg b "$log" "$PYTHON" -u -c "$code" "$PORT" "$@"
	wait_until 5 lab_listening b "$PORT" || fail "the peer does not listen: $(cat "$LAB_DIR/$log")"
}

# A server that sends "hello" and "world" as two segments (TCP_NODELAY: the
# second goes out before the first is acknowledged), then closes.
TWO_SEGMENTS='
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.send(b"hello"); c.send(b"world")
print("sent", flush=True)
c.close()
print("closed", flush=True)'

# ---- tests ------------------------------------------------------------------------

@test "the peer's data lost once: out-of-order, hs's duplicate ACK, the peer's retransmission" {
	py_peer peer.out "$TWO_SEGMENTS"
	# the peer's first data segment dies on its way out of namespace b
	lose_once "tcp sport $PORT tcp flags & (syn | rst) == 0 ip length > 52"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close wait --time-wait 0.1 --timeout 2 \
		-w "$LAB_DIR/hs.pcap" --json --state-dir "$STATE"
	assert_success
	[[ $(lose_once_count) == 1 ]] || fail "lost: $(lose_once_count)"
	local table
	table=$(notes_table "$LAB_DIR/hs.pcap" "$SPORT")
	notes_agree "$table"
	table_has "$table" in 'PSH,ACK|FIN,PSH,ACK' out-of-order || fail "no out-of-order segment: $table"
	table_has "$table" out ACK dup-ack || fail "no duplicate ACK from hs: $table"
	table_has "$table" in 'PSH,ACK|FIN,PSH,ACK' retransmission || fail "no retransmission: $table"
}

# A server that reads until the end of the stream, then closes.
READ_ALL='
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept()
n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
print("received", n, flush=True)
c.close()'

@test "hs's data lost once: the peer's repeated ACKs (window updates), hs's retransmission" {
	py_peer peer.out "$READ_ALL"
	# hs's first data segment never reaches the peer's stack (a drop in its input
	# hook: hs's capture in a has it, as the wire had it)
	drop_once inet "type filter hook input priority 0;" "tcp dport $PORT ip length > 1000" 'ip saddr'
	local big
	big=$(head -c 5000 /dev/zero | tr '\0' a)
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send "$big" --close fin --time-wait 0.1 \
		--timeout 0.3 --retries 3 -w "$LAB_DIR/hs.pcap" --json --state-dir "$STATE"
	assert_success
	wait_until 3 peer_said '^received 5000$'
	local table
	table=$(notes_table "$LAB_DIR/hs.pcap" "$SPORT")
	notes_agree "$table"
	# Linux's repeated ACKs (with SACK) open its window as it grows its buffer:
	# window updates to Wireshark as to hs, duplicate ACKs when the window stays
	awk '$1 == "in" && $4 == "ACK" && ($6 == "window-update" || $6 == "dup-ack") { f = 1 } END { exit !f }' <<<"$table" || fail "no repeated ACK from the peer: $table"
	table_has "$table" out 'PSH,ACK|FIN,PSH,ACK' retransmission || fail "no retransmission from hs: $table"
}

@test "a peer that stops reading: window-full, zero-window, zero-window-probe" {
	py_peer sink.out '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept()
print("accepted", flush=True)
time.sleep(30)'
	local big
	big=$(head -c 100000 /dev/zero | tr '\0' a)
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send "$big" --close fin \
		--timeout 0.2 --retries 2 -w "$LAB_DIR/hs.pcap" --json --state-dir "$STATE"
	assert_failure 3
	local table
	table=$(notes_table "$LAB_DIR/hs.pcap" "$SPORT")
	# hs builds the segments one window allows together; the peer's ACK of the
	# first may be captured (and written to -w) before the last is: Wireshark then
	# measures that one against the newer window and says nothing, where hs says
	# window-full for the window it filled.
	notes_agree "$table" "out PSH,ACK window-full -"
	table_has "$table" in ACK zero-window || fail "no zero window from the peer: $table"
	table_has "$table" out 'PSH,ACK' zero-window-probe || fail "no zero-window probe from hs: $table"
}

@test "the peer's keepalives: keepalive in, keepalive-ack out" {
	# keepalives after 1 s idle, every second; the peer closes after 3.5 s
	py_peer peer.out '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
time.sleep(3.5)
c.close()
print("closed", flush=True)'
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close wait --time-wait 0.1 --timeout 2 \
		-w "$LAB_DIR/hs.pcap" --json --state-dir "$STATE"
	assert_success
	local table
	table=$(notes_table "$LAB_DIR/hs.pcap" "$SPORT")
	notes_agree "$table"
	table_has "$table" in ACK keepalive || fail "no keepalive from the peer: $table"
	table_has "$table" out ACK keepalive-ack || fail "no keepalive-ack from hs: $table"
}
