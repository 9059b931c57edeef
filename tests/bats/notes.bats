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
