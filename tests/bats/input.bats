#!/usr/bin/env bats
# The inputs people type (issue 8, item 4): --send with C escapes, --send-hex and
# --send-file (in command-line order, for connect, listen and fin); -i any;
# HOST:PORT, [V6] and [V6]:PORT; listen on an address this host does not have;
# listen --syn-timeout apart from --timeout. Each test checks what the kernel
# peer's program received (its report), not only what hs says.
#
# Run by `make check`, or by hand as root: bats tests/bats/input.bats

load common

PORT=7000   # the peer's port, or hs's when it listens
CPORT=45000 # the kernel client's port when hs listens

setup() {
	tb_setup
}

teardown() {
	lab_teardown
}

# received FILE [WHO]: the bytes a peer program's report (in $LAB_DIR) says it
# received (from WHO, an endpoint, when given), escaped as Python shows bytes,
# all "received" lines joined (the escaping is per byte, so joining is exact).
received() {
	local who=${2:-[^ ]*}
	sed -nE "s/^received $who [0-9]+ bytes: '(.*)'\$/\\1/p" "$LAB_DIR/$1" | tr -d '\n'
}

# assert_received FILE EXPECTED [WHO]
assert_received() {
	local got
	got=$(received "$1" "${3:-}")
	[[ $got == "$2" ]] || fail "$1: the peer received '$got', expected '$2': $(cat "$LAB_DIR/$1")"
}

# ---- --send escapes, --send-hex, --send-file ---------------------------------------

@test "connect: --send escapes, --send-hex and --send-file arrive at the peer as bytes, in command-line order" {
	local file=$BATS_TEST_TMPDIR/data
	printf 'file\001data' >"$file"
	tb_server eof close
	hs_a connect "$LAB_ADDR_B" "$PORT" --send 'bye\n' --send-hex 00ff0d0a --send-file "$file" \
		--send 'tab\there\\x\x41\0end' --send-hex '0x41:42 43' --close fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	wait_until 3 server_said '^done ' || fail "server: $(cat "$LAB_DIR/server.out")"
	assert_received server.out 'bye\n\x00\xff\r\nfile\x01datatab\there\\xA\x00endABC'
	server_said '^done ok'
	assert_no_guard_left
}

@test "listen: --send escapes and --send-hex reach the kernel client" {
	hs_bg listen "$PORT" --send 'hello\r\n' --send-hex '00 01' --send 'x\\y' --close wait --timeout 3 --json \
		--state-dir "$STATE"
	wait_until 3 hs_listening
	tb_client 'expect=hello\r\n\x00\x01x\\y' close
	wait_until 4 client_said '^done ' || fail "client: $(cat "$LAB_DIR/client.out")"
	hs_finish 5
	assert_success
	assert_received client.out 'hello\r\n\x00\x01x\\y'
	client_said '^done ok' || fail "client: $(cat "$LAB_DIR/client.out")"
	assert_no_guard_left
}

@test "fin --send 'bye\\n' --send-hex on a kept connection: the peer reads bye, a newline, !!, then EOF" {
	tb_server eof close
	hs_a connect "$LAB_ADDR_B" "$PORT" --json --state-dir "$STATE"
	assert_success
	hs_a fin --send 'bye\n' --send-hex 2121 --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	wait_until 3 server_said '^done ' || fail "server: $(cat "$LAB_DIR/server.out")"
	assert_received server.out 'bye\n!!'
	server_said '^eof ' || fail "server: $(cat "$LAB_DIR/server.out")"
	assert_no_guard_left
	assert_no_state_left
}

@test "bad --send, --send-hex, --send-file: exit 2, one line, nothing sent, nothing left behind" {
	local dir=$BATS_TEST_TMPDIR big=$BATS_TEST_TMPDIR/big empty=$BATS_TEST_TMPDIR/empty
	truncate -s 17M "$big"
	: >"$empty"
	tb_server eof close
	lab_tcpdump_start tcp port "$PORT"
	hs_usage_error 'unknown escape.*\\q' connect "$LAB_ADDR_B" "$PORT" --send 'a\qb'
	hs_usage_error 'lone \\' connect "$LAB_ADDR_B" "$PORT" --send 'ab\'
	hs_usage_error 'two hex digits' connect "$LAB_ADDR_B" "$PORT" --send '\x4'
	hs_usage_error 'octal' connect "$LAB_ADDR_B" "$PORT" --send '\012'
	hs_usage_error 'odd number of hex digits' connect "$LAB_ADDR_B" "$PORT" --send-hex abc
	hs_usage_error 'not a hex digit' connect "$LAB_ADDR_B" "$PORT" --send-hex zz
	hs_usage_error 'cannot open.*No such file' connect "$LAB_ADDR_B" "$PORT" --send-file "$dir/missing"
	hs_usage_error 'too large' connect "$LAB_ADDR_B" "$PORT" --send-file "$big"
	hs_usage_error 'is a directory' connect "$LAB_ADDR_B" "$PORT" --send-file "$dir"
	hs_usage_error 'is empty' connect "$LAB_ADDR_B" "$PORT" --send-file "$empty"
	hs_usage_error 'unknown escape' listen "$PORT" --send 'x\y'
	hs_usage_error 'odd number' fin --send-hex 1
	hs_usage_error 'needs some data' connect "$LAB_ADDR_B" "$PORT" --send-hex ''
	# --json: the one result line says the same
	hs_a connect "$LAB_ADDR_B" "$PORT" --send 'a\qb' --json --state-dir "$STATE"
	assert_failure 2
	expect "$(result)" exit 2
	lab_tcpdump_stop
	[[ -z $(wire) ]] || fail "something reached the wire: $(wire)"
	! server_said '^accepted' || fail "the server got a connection: $(cat "$LAB_DIR/server.out")"
	assert_no_guard_left
	assert_no_state_left
}

# ---- -i any ------------------------------------------------------------------------

@test "-i any: connect captures on every interface and sends by the route; listen too" {
	tb_server eof close
	hs_a connect -i any "$LAB_ADDR_B" "$PORT" --send 'via any\n' --close fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	wait_until 3 server_said '^done ' || fail "server: $(cat "$LAB_DIR/server.out")"
	assert_received server.out 'via any\n'
	hs_bg listen -i any "$PORT" --send hello --close wait --timeout 3 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	grep -q 'capture on any' "$LAB_DIR/hs.out" || fail "hs: $(cat "$LAB_DIR/hs.out")"
	tb_client expect=hello close
	wait_until 4 client_said '^done ' || fail "client: $(cat "$LAB_DIR/client.out")"
	hs_finish 5
	assert_success
	client_said '^done ok' || fail "client: $(cat "$LAB_DIR/client.out")"
	assert_no_guard_left
}

# ---- HOST:PORT, [V6], [V6]:PORT ------------------------------------------------------

@test "connect HOST:PORT, [V6] PORT and [V6]:PORT reach the peer; ambiguous forms say what to type" {
	wait_until 5 no_tentative_addresses
	lab_peer --port "$PORT"
	hs_a connect "$LAB_ADDR_B:$PORT" --sport 40001 --send v4colon --close fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	hs_a connect "[$LAB_ADDR6_B]" "$PORT" --sport 40002 --send v6bracket --close fin --time-wait 0.1 --json \
		--state-dir "$STATE"
	assert_success
	hs_a connect "[$LAB_ADDR6_B]:$PORT" --sport 40003 --send v6colon --close fin --time-wait 0.1 --json \
		--state-dir "$STATE"
	assert_success
	wait_until 3 peer_said "^closed \\[$LAB_ADDR6_A\\]:40003" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	assert_received peer.out v4colon "$LAB_ADDR_A:40001"
	assert_received peer.out v6bracket "\\[$LAB_ADDR6_A\\]:40002"
	assert_received peer.out v6colon "\\[$LAB_ADDR6_A\\]:40003"
	hs_usage_error 'reads as an IPv6 address.*\[V6\]:PORT' connect "$LAB_ADDR6_B:$PORT"
	hs_usage_error 'port is given twice' connect "$LAB_ADDR_B:$PORT" "$PORT"
	hs_usage_error "without its '\\]'" connect "[$LAB_ADDR6_B" "$PORT"
	hs_usage_error 'needs HOST and PORT.*:PORT' connect "$LAB_ADDR_B"
	assert_no_guard_left
	assert_no_state_left
}

@test "listen [V6]:PORT and ADDR:PORT: a kernel client reaches hs there" {
	wait_until 5 no_tentative_addresses
	hs_bg listen "[$LAB_ADDR6_A]:$PORT" --send hello --close wait --timeout 3 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	lab_bg b client.out "$PYTHON" -u "$PEERS/textbook_client.py" --sport "$CPORT" "$LAB_ADDR6_A" "$PORT" expect=hello close
	wait_until 4 client_said '^done ' || fail "client: $(cat "$LAB_DIR/client.out")"
	hs_finish 5
	assert_success
	assert_received client.out hello
	client_said '^done ok'
	hs_bg listen "$LAB_ADDR_A:$PORT" --send again --close wait --timeout 3 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	lab_bg b client.out "$PYTHON" -u "$PEERS/textbook_client.py" --sport $((CPORT + 1)) "$LAB_ADDR_A" "$PORT" \
		expect=again close
	wait_until 4 client_said '^done ' || fail "client: $(cat "$LAB_DIR/client.out")"
	hs_finish 5
	assert_success
	assert_received client.out again
	hs_usage_error 'port is given twice' listen "$LAB_ADDR_A:$PORT" "$PORT"
	hs_usage_error 'needs a PORT' listen "[$LAB_ADDR6_A]"
	assert_no_guard_left
}

# ---- listen on an address this host does not have -------------------------------------

@test "listen on an address this host does not have: exit 2 at once, as bind() would, no guard" {
	local addr
	for addr in 198.18.0.9 "[2001:db8::9]"; do
		hs_bg listen "$addr" "$PORT" --json --state-dir "$STATE"
		hs_finish 5
		((status == 2)) || fail "hs listen $addr $PORT: exit $status, expected 2: $stderr"
		lab_assert_hs_error "not an address of this host.*(Cannot assign requested address|bind)"
		expect "$(result)" exit 2
		assert_no_guard_left
	done
	assert_no_state_left
}

# ---- --syn-timeout apart from --timeout ---------------------------------------------

@test "listen --timeout 0.3 --syn-timeout 10: a SYN that comes after 1 s is served; --timeout alone still bounds the wait" {
	# the client's first SYN is dropped: its kernel resends it about 1 s later
	drop_once inet "type filter hook output priority 0;" \
		"tcp dport $PORT tcp flags & (syn | ack | fin | rst) == syn" 'ip daddr'
	hs_bg listen "$PORT" --send hello --close wait --timeout 0.3 --syn-timeout 10 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	tb_client expect=hello send=byebye close
	wait_until 8 client_said '^done ' || fail "client: $(cat "$LAB_DIR/client.out")"
	hs_finish 8
	assert_success
	[[ $(once_counts inet) == "1 1" ]] || fail "dropped/passed SYNs: $(once_counts inet)"
	assert_report client.out <<-EOF
		connected $LAB_ADDR_A:$PORT from $LAB_ADDR_B:$CPORT
		received $LAB_ADDR_A:$PORT 5 bytes: 'hello'
		sent $LAB_ADDR_A:$PORT 6 bytes: 'byebye'
		closed $LAB_ADDR_A:$PORT
		done ok
	EOF
	[[ -n $(segs '.dir == "in" and .data == "byebye"') ]] || fail "no byebye: $output"
	# the old spelling: --timeout alone still bounds the wait for the SYN
	hs_a listen $((PORT + 1)) --timeout 0.2 --json --state-dir "$STATE"
	assert_failure 3
	lab_assert_hs_error 'no SYN came .*\(--timeout\)$'
	# and --syn-timeout alone does too, named in the message
	hs_a listen $((PORT + 1)) --syn-timeout 0.2 --json --state-dir "$STATE"
	assert_failure 3
	lab_assert_hs_error 'no SYN came .*\(--syn-timeout\)$'
	hs_usage_error 'does not apply' connect "$LAB_ADDR_B" "$PORT" --syn-timeout 1
	assert_no_guard_left
}
