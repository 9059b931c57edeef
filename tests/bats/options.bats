#!/usr/bin/env bats
# Every TCP option decoded (issue 13, item 4): what a Linux peer puts in its
# segments -- MPTCP's MP_CAPABLE, a TFO cookie request, a D-SACK block -- shown by
# hs (JSON, lines, ladder) as tshark decodes the same segments in the peer's
# namespace. The peer's capture is the reference: hs's decode of what arrived
# must agree with tshark's decode of what the peer sent.
#
# Run by `make check`, or by hand as root: bats tests/bats/options.bats

load common

PORT=7000   # hs's port when it listens
CPORT=45000 # the kernel client's port

setup() {
	tb_setup
	command -v tshark >/dev/null || fail "tshark is missing (tools/deps installs it)"
}

teardown() {
	lab_teardown
}

# client PY: a Python client in namespace b from $CPORT to hs on $PORT, that sends
# "hello" with SEND (a Python expression), half-closes, reads to EOF and closes.
client() {
	cat >"$BATS_TEST_TMPDIR/client.py" <<-EOF
		import socket
		s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, $1)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.bind(("$LAB_ADDR_B", $CPORT))
		$2
		print("sent", flush=True)
		s.shutdown(socket.SHUT_WR)
		while s.recv(4096):
		    pass
		s.close()
		print("closed", flush=True)
	EOF
	lab_bg b client.out "$PYTHON" -u "$BATS_TEST_TMPDIR/client.py"
}

# listen_for_client PROTO SEND: hs listen --json, the client, both done; the
# peer's capture complete.
listen_for_client() {
	capture
	hs_bg listen "$PORT" --close wait --json --state-dir "$STATE"
	wait_until 5 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	client "$@"
	hs_finish 20
	((status == 0)) || fail "hs exited $status$(hs_view)"
	wait_until 5 client_said '^closed' || fail "client: $(cat "$LAB_DIR/client.out")"
	capture_complete
}

@test "MPTCP: a Linux MPTCP client's SYN shows MP_CAPABLE with the version and flags tshark reads in the client's capture (JSON, lines, ladder)" {
	# Not skipped: a skipped test would count as passing. Debian 12's kernel has MPTCP.
	[[ -d /proc/sys/net/mptcp ]] || fail "this kernel has no MPTCP (/proc/sys/net/mptcp): the test needs it"
	lab_b sysctl -qw net.mptcp.enabled=1 || fail "cannot enable MPTCP in $LAB_B"
	listen_for_client 262 "s.connect((\"$LAB_ADDR_A\", $PORT)); s.sendall(b\"hello\")"

	# What the client's kernel sent, as tshark decodes it.
	local want
	want=$(peer_ts "ip.src == $LAB_ADDR_B && tcp.flags.syn == 1 && tcp.flags.ack == 0" \
		tcp.options.mptcp.subtype tcp.options.mptcp.version tcp.options.mptcp.flags)
	[[ $want =~ ^0[[:space:]]+([0-9]+)[[:space:]]+(0x[0-9a-f]+)$ ]] ||
		fail "tshark finds no MP_CAPABLE in the client's SYN: '$want'$(peer_view)"
	local version=${BASH_REMATCH[1]} flags=$((BASH_REMATCH[2]))

	local syn
	syn=$(segs '.dir == "in" and .flags == "SYN"')
	[[ -n $syn ]] || fail "hs shows no SYN$(hs_view)"
	expect "$syn" 'opts.mptcp[0].subtype' MP_CAPABLE
	expect "$syn" 'opts.mptcp[0].version' "$version"
	expect "$syn" 'opts.mptcp[0].flags' "$flags"

	# The same capture read back: the lines and the ladder name the subtype.
	run --separate-stderr "$HS" -r "$LAB_DIR/capture.pcap"
	[[ $output == *"mptcp MP_CAPABLE version $version flags $(printf '0x%x' "$flags")"* ]] ||
		fail "hs -r lines do not show MP_CAPABLE: $output $stderr"
	run --separate-stderr "$HS" -r "$LAB_DIR/capture.pcap" --ladder --ascii
	[[ $output == *"mptcp MP_CAPABLE"* ]] || fail "the ladder does not show MP_CAPABLE: $output $stderr"
}

@test "TFO: a Linux client's cookie request (tcp_fastopen=1, MSG_FASTOPEN) shows as 'tfo cookiereq' / tfo_request, where tshark sees a request" {
	lab_b sysctl -qw net.ipv4.tcp_fastopen=1 || fail "cannot enable TFO in $LAB_B"
	listen_for_client 0 "s.sendto(b\"hello\", socket.MSG_FASTOPEN, (\"$LAB_ADDR_A\", $PORT))"

	local want
	want=$(peer_ts "ip.src == $LAB_ADDR_B && tcp.flags.syn == 1 && tcp.flags.ack == 0" tcp.options.tfo.request)
	[[ $want == 1 ]] || fail "tshark sees no TFO cookie request in the client's SYN: '$want'$(peer_view)"

	local syn
	syn=$(segs '.dir == "in" and .flags == "SYN"')
	expect "$syn" opts.tfo ""
	expect "$syn" opts.tfo_request true
	run --separate-stderr "$HS" -r "$LAB_DIR/capture.pcap"
	[[ $output == *"tfo cookiereq"* ]] || fail "hs -r lines do not show the cookie request: $output $stderr"
}

@test "D-SACK: the same data sent twice into a kept connection; the kernel's ACK carries the D-SACK block tshark decodes, shown relative and marked dsack" {
	lab_peer --no-echo
	capture
	hs_keep 40000
	hs_a send --data hello --json --state-dir "$STATE"
	((status == 0)) || fail "first send: exit $status$(hs_view)"
	wait_until 5 peer_said 'hello' || fail "the peer's program did not get the data$(peer_view)"
	hs_a send --seq 1 --data hello --json --state-dir "$STATE"
	((status == 0)) || fail "second send: exit $status$(hs_view)"
	local sent=$output
	capture_complete

	# The peer's kernel reported the duplicate: tshark finds the D-SACK edges of the
	# resent bytes (hs send's own 1-byte probes below SND.NXT draw D-SACKs too).
	local want le=$(seq_add "$ISS" 1) re=$(seq_add "$ISS" 6)
	want=$(peer_ts "ip.src == $LAB_ADDR_B && tcp.options.sack.dsack_le" tcp.options.sack.dsack_le tcp.options.sack.dsack_re)
	grep -qxP "$le\t$re" <<<"$want" ||
		fail "tshark finds no D-SACK $le-$re of the resent bytes: '$want'$(peer_view)"

	output=$sent
	local ack
	ack=$(segs '.dir == "in" and .opts.dsack == true and .opts.rsack_blocks == [[1,6]]')
	[[ -n $ack ]] || fail "hs shows no D-SACK$(hs_view)"
	expect "$ack" opts.sack_blocks "[[$le,$re]]"
	expect "$ack" opts.rsack_blocks "[[1,6]]"
	run --separate-stderr "$HS" -r "$LAB_DIR/capture.pcap"
	[[ $output == *"sack 1-6(dsack)"* ]] || fail "hs -r lines do not mark the D-SACK: $output $stderr"
	run --separate-stderr "$HS" -r "$LAB_DIR/capture.pcap" --ladder --ascii
	[[ $output == *"<sack 1-6(dsack)>"* ]] || fail "the ladder does not mark the D-SACK: $output $stderr"
}
