#!/usr/bin/env bats
# hs listen: the passive open from userspace, as the server of the textbook
# exchange (accept, send hello, receive byebye, close) for a kernel client in
# namespace b (tests/peers/textbook_client.py); a lost SYN,ACK; and the ways a
# listen ends without a client: a port the local kernel owns, usage errors,
# timeout, Ctrl-C. Each test checks the client's report, its ss and the wire in
# b, as well as hs's JSON.
#
# Run by `make check`, or by hand as root: bats tests/bats/listen.bats

load common

PORT=7000   # hs's port
CPORT=45000 # the kernel client's port when hs listens

setup() {
	tb_setup
}

teardown() {
	lab_teardown
}

# ---- the peer's side --------------------------------------------------------------

# client_conns: the kernel client's connections from $CPORT ("STATE LOCAL PEER").
client_conns() {
	lab_conns b "$CPORT"
}

client_in_time_wait() {
	client_conns | grep -qx "TIME-WAIT $LAB_ADDR_B:$CPORT $LAB_ADDR_A:$PORT"
}

client_has_none() {
	[[ -z $(client_conns) ]]
}

# ---- tests ------------------------------------------------------------------------

@test "listen: the textbook exchange as the server: the client gets hello, hs shows its byebye" {
	hs_bg listen "$PORT" --send hello --close wait --timeout 3 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	lab_tcpdump_start tcp port "$PORT"
	tb_client expect=hello send=byebye close
	wait_until 3 client_said '^done '
	hs_finish 3
	assert_success
	assert_all_json
	[[ -z $stderr ]] || fail "stderr: $stderr"
	assert_report client.out <<-EOF
		connected $LAB_ADDR_A:$PORT from $LAB_ADDR_B:$CPORT
		received $LAB_ADDR_A:$PORT 5 bytes: 'hello'
		sent $LAB_ADDR_A:$PORT 6 bytes: 'byebye'
		closed $LAB_ADDR_A:$PORT
		done ok
	EOF
	local res syn synack ack hello byebye fin
	res=$(result)
	expect "$res" outcome closed
	expect "$res" exit 0
	expect "$res" local "$LAB_ADDR_A:$PORT"
	expect "$res" remote "$LAB_ADDR_B:$CPORT"
	expect "$res" state CLOSED
	expect "$res" peer_state TIME-WAIT
	assert_path 'LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
	# the passive open
	syn=$(segs '.dir == "in"' | sed -n 1p)
	synack=$(segs '.dir == "out"' | sed -n 1p)
	ack=$(segs '.dir == "in"' | sed -n 2p)
	expect "$syn" flags SYN
	expect "$syn" src "$LAB_ADDR_B:$CPORT"
	expect "$syn" dst "$LAB_ADDR_A:$PORT"
	expect "$syn" state SYN-RECEIVED
	expect "$syn" peer_state SYN-SENT
	expect "$synack" flags SYN,ACK
	expect "$synack" rseq 0
	expect "$synack" rack 1
	expect "$synack" ack $((($(field "$syn" seq) + 1) % 4294967296))
	expect "$ack" flags ACK
	expect "$ack" rack 1
	expect "$ack" state ESTABLISHED
	# hello out, acknowledged; byebye in, acknowledged
	hello=$(segs '.dir == "out" and .len > 0')
	[[ $(wc -l <<<"$hello") == 1 ]] || fail "hs sent data more than once: $output"
	expect "$hello" data hello
	expect "$hello" rseq 1
	[[ -n $(segs '.dir == "in" and .rack == 6') ]] || fail "the client never acknowledged hello: $output"
	byebye=$(segs '.dir == "in" and .len > 0 and .note == null')
	[[ $(wc -l <<<"$byebye") == 1 ]] || fail "byebye came in more than once: $output"
	expect "$byebye" data byebye
	expect "$byebye" rseq 1
	expect "$byebye" state ESTABLISHED
	[[ -n $(segs '.dir == "out" and .rack == 7') ]] || fail "hs never acknowledged byebye: $output"
	# the client's FIN, then ours
	fin=$(segs '.dir == "in" and (.flags | test("FIN")) and .note == null')
	expect "$fin" rseq 7
	expect "$fin" state CLOSE-WAIT
	fin=$(segs '.dir == "out" and (.flags | test("FIN"))')
	[[ $(wc -l <<<"$fin") == 1 ]] || fail "hs sent its FIN more than once: $output"
	expect "$fin" state LAST-ACK
	expect "$fin" rseq 6
	expect "$fin" rack 8
	# the client closed first: TIME-WAIT on its side; no RST anywhere
	wait_until 2 client_in_time_wait
	lab_tcpdump_stop
	no_rst_from_hs || fail "an RST from hs on the wire: $(wire)"
	assert_no_guard_left
	assert_no_state_left
}

@test "listen ADDR PORT --close fin: hs closes first, byebye comes in FIN-WAIT-2, the client sees EOF" {
	hs_bg listen "$LAB_ADDR_A" "$PORT" --send hello --close fin --time-wait 0.1 --timeout 3 \
		--json --state-dir "$STATE"
	wait_until 3 hs_listening
	grep -q "\"listening on $LAB_ADDR_A:$PORT" "$LAB_DIR/hs.out" || fail "listening where? $(cat "$LAB_DIR/hs.out")"
	# the client's application takes a moment before answering
	tb_client expect=hello sleep=0.2 send=byebye eof close
	wait_until 3 client_said '^done '
	hs_finish 3
	assert_success
	assert_report client.out <<-EOF
		connected $LAB_ADDR_A:$PORT from $LAB_ADDR_B:$CPORT
		received $LAB_ADDR_A:$PORT 5 bytes: 'hello'
		sent $LAB_ADDR_A:$PORT 6 bytes: 'byebye'
		eof $LAB_ADDR_A:$PORT (the peer sent FIN)
		closed $LAB_ADDR_A:$PORT
		done ok
	EOF
	expect "$(result)" outcome closed
	expect "$(result)" local "$LAB_ADDR_A:$PORT"
	assert_path 'LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED'
	local byebye fin
	byebye=$(segs '.dir == "in" and .len > 0 and .note == null')
	expect "$byebye" data byebye
	expect "$byebye" state FIN-WAIT-2
	expect "$byebye" peer_state CLOSE-WAIT
	[[ -n $(segs '.dir == "out" and .rack == 7 and .state == "FIN-WAIT-2"') ]] ||
		fail "hs did not acknowledge byebye in FIN-WAIT-2: $output"
	fin=$(segs '.dir == "in" and (.flags | test("FIN")) and .note == null')
	expect "$fin" rseq 7
	expect "$fin" state TIME-WAIT
	assert_time_wait_ended
	# the client's LAST-ACK ended with our ACK
	wait_until 2 client_has_none
	assert_no_guard_left
	assert_no_state_left
}

@test "listen: hs's SYN,ACK lost once: the client retransmits its SYN, hs answers it again" {
	drop_once inet "type filter hook input priority 0;" \
		"tcp sport $PORT tcp flags & (syn | ack | fin | rst) == syn | ack" 'ip saddr'
	# hs's own retransmission (--timeout 3) would come later than the client's (1 s)
	hs_bg listen "$PORT" --send hello --close wait --timeout 3 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	tb_client expect=hello send=byebye close
	wait_until 4 client_said '^done '
	hs_finish 3
	assert_success
	[[ $(once_counts inet) == "1 1" ]] || fail "dropped/passed SYN,ACKs: $(once_counts inet)"
	local syns synacks
	syns=$(segs '.dir == "in" and .flags == "SYN"')
	[[ $(wc -l <<<"$syns") == 2 ]] || fail "expected the client's SYN twice: $output"
	jq -e -s '(map(.seq) | unique | length == 1) and .[0].note == null and .[1].note == "retransmission"
		and (.[1].t - .[0].t) >= 0.5' <<<"$syns" >/dev/null || fail "the SYNs: $syns"
	synacks=$(segs '.dir == "out" and .flags == "SYN,ACK"')
	[[ $(wc -l <<<"$synacks") == 2 ]] || fail "expected hs's SYN,ACK twice: $output"
	jq -e -s 'map(.seq) | unique | length == 1' <<<"$synacks" >/dev/null || fail "the SYN,ACKs differ: $synacks"
	assert_path 'LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
	assert_report client.out <<-EOF
		connected $LAB_ADDR_A:$PORT from $LAB_ADDR_B:$CPORT
		received $LAB_ADDR_A:$PORT 5 bytes: 'hello'
		sent $LAB_ADDR_A:$PORT 6 bytes: 'byebye'
		closed $LAB_ADDR_A:$PORT
		done ok
	EOF
	[[ -n $(segs '.dir == "in" and .data == "byebye"') ]] || fail "no byebye: $output"
	wait_until 2 client_in_time_wait
	assert_no_guard_left
}

@test "listen: the client's ACK lost once: hs retransmits its SYN,ACK, the client ACKs again" {
	drop_once inet "type filter hook output priority 0;" \
		"tcp dport $PORT tcp flags & (syn | ack | fin | rst) == ack" 'ip daddr'
	# --timeout 0.3 is hs's retransmission timer; the wait for the client's SYN
	# (which python's start-up delays) is --syn-timeout's, and not sub-second
	hs_bg listen "$PORT" --send hello --close wait --timeout 0.3 --retries 3 --syn-timeout 10 --json \
		--state-dir "$STATE"
	wait_until 3 hs_listening
	tb_client expect=hello send=byebye close
	wait_until 4 client_said '^done '
	hs_finish 3
	assert_success
	[[ $(once_counts inet | cut -d' ' -f1) == 1 ]] || fail "dropped ACKs: $(once_counts inet)"
	local synacks
	synacks=$(segs '.dir == "out" and .flags == "SYN,ACK"')
	[[ $(wc -l <<<"$synacks") == 2 ]] || fail "expected hs's SYN,ACK twice: $output"
	# resent after the timer, not at once: the timer runs from when hs decided to send,
	# the times are when the copies were captured -- on a loaded machine the first
	# can leave some milliseconds late, so the gap is only bounded well below 0.3 s
	jq -e -s '(map(.seq) | unique | length == 1) and .[0].note == null and .[1].note == "retransmission"
		and (.[1].t - .[0].t) >= 0.2' <<<"$synacks" >/dev/null || fail "the SYN,ACKs: $synacks"
	# only the client's SYN came in once: it was hs that retransmitted
	[[ $(segs '.dir == "in" and .flags == "SYN"' | wc -l) == 1 ]] || fail "the client resent its SYN: $output"
	assert_path 'LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
	client_said "^received .* 5 bytes: 'hello'" || fail "client: $(cat "$LAB_DIR/client.out")"
	client_said '^done ok' || fail "client: $(cat "$LAB_DIR/client.out")"
	assert_no_guard_left
}

@test "listen on a port the local kernel already listens on: exit 4, one line, no guard" {
	lab_bg a holder.out "$PYTHON" -u "$PEERS/textbook_server.py" --port "$PORT"
	wait_until 5 lab_listening a "$PORT"
	hs_a listen "$PORT" --json --state-dir "$STATE"
	assert_failure 4
	lab_assert_hs_error "port $PORT.*listen"
	expect "$(result)" exit 4
	assert_no_guard_left
	assert_no_state_left
	lab_listening a "$PORT" # the kernel's listener is untouched
	# and a client still reaches the kernel's listener, not hs
	run -0 lab_b "$PYTHON" -u "$PEERS/textbook_client.py" "$LAB_ADDR_A" "$PORT" expect=hello send=byebye close
	assert_line 'done ok'
}

@test "listen usage errors: port 0, too many arguments, bad port: exit 2 with one line" {
	local args
	for args in "0" "1 2 3" "70000" "http" ""; do
		# shellcheck disable=SC2086 # the words are the arguments
		hs_a listen $args --state-dir "$STATE"
		((status == 2)) || fail "hs listen $args: exit $status, expected 2: $stderr"
		lab_assert_hs_error
		[[ -z $output ]] || fail "hs listen $args printed on stdout: $output"
	done
	assert_no_guard_left
	assert_no_state_left
}

@test "listen --timeout 0.3 with no client: exit 3 quickly, LISTEN named, no guard left" {
	local t0 elapsed
	t0=$(lab__now_us)
	hs_a listen --timeout 0.3 "$PORT" --json --state-dir "$STATE"
	elapsed=$(awk -v a="$t0" -v b="$(lab__now_us)" 'BEGIN { print (b - a) / 1e6 }')
	assert_failure 3
	lab_assert_hs_error "^hs: timeout: no SYN came to port $PORT while in LISTEN \\(--timeout\\)$"
	local res
	res=$(result)
	expect "$res" outcome timeout
	expect "$res" exit 3
	expect "$res" state LISTEN
	awk -v e="$elapsed" 'BEGIN { exit !(e >= 0.25 && e < 1.5) }' || fail "took ${elapsed}s for --timeout 0.3"
	assert_no_guard_left
	assert_no_state_left
}

@test "SIGINT to a waiting hs listen: prompt exit, LISTEN named, no guard left, the port refuses" {
	hs_bg listen "$PORT" --json --state-dir "$STATE"
	wait_until 3 hs_listening
	[[ -n $(lab_hs_tables a) ]] || fail "no guard while hs listens"
	kill -INT "$HS_PID"
	hs_finish 1
	((status != 0)) || fail "hs exited 0 after SIGINT"
	lab_assert_hs_error 'LISTEN'
	assert_all_json
	local res
	res=$(result)
	expect "$res" exit "$status"
	expect "$res" state LISTEN
	assert_no_guard_left
	assert_no_state_left
	# nothing stands between a client and the kernel of namespace a any more
	run -1 lab_b "$PYTHON" -u "$PEERS/textbook_client.py" --timeout 2 "$LAB_ADDR_A" "$PORT"
	assert_line --regexp '^error .*refused'
}

@test "listen on an IPv6 address: the client gets hello over IPv6, hs shows its byebye" {
	wait_until 5 no_tentative_addresses || fail "IPv6 addresses still tentative"
	hs_bg listen "$LAB_ADDR6_A" "$PORT" --send hello --close wait --timeout 3 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	lab_bg b client.out "$PYTHON" -u "$PEERS/textbook_client.py" --sport "$CPORT" "$LAB_ADDR6_A" "$PORT" \
		expect=hello send=byebye close
	wait_until 3 client_said '^done '
	hs_finish 3
	assert_success
	client_said "^received .* 5 bytes: 'hello'" || fail "client: $(cat "$LAB_DIR/client.out")"
	client_said '^done ok' || fail "client: $(cat "$LAB_DIR/client.out")"
	local res syn
	res=$(result)
	expect "$res" outcome closed
	expect "$res" local "[$LAB_ADDR6_A]:$PORT"
	expect "$res" remote "[$LAB_ADDR6_B]:$CPORT"
	syn=$(segs '.dir == "out" and .flags == "SYN,ACK"' | head -n 1)
	[[ $(jq -r .opts.mss <<<"$syn") == 1440 ]] || fail "SYN,ACK over IPv6 offers MSS 1440: $syn"
	[[ -n $(segs '.dir == "in" and .data == "byebye"') ]] || fail "hs did not show byebye: $output"
	assert_path 'LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
}

@test "listen --close keep: the kept guard covers only this connection; another client is refused" {
	hs_bg listen "$PORT" --close keep --timeout 3 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	tb_client state sleep=10   # holds the connection open meanwhile
	hs_finish 3
	assert_success
	expect "$(result)" outcome established
	# the guard left behind names the 4-tuple, not the whole port
	local rules
	rules=$(lab_a nft list ruleset)
	[[ $rules == *"ip saddr $LAB_ADDR_B"*"tcp sport $CPORT tcp dport $PORT drop"* ]] ||
		fail "the kept guard is not the 4-tuple: $rules"
	[[ $(grep -c ' drop' <<<"$rules") == 1 ]] || fail "more than one drop rule: $rules"
	# the client holds the connection, and hs ls lists it
	[[ -n $(lab_b ss -Htn state established "sport = :$CPORT") ]] || fail "the client is not ESTABLISHED"
	hs_a ls --json --state-dir "$STATE"
	[[ $(jqo -r 'select(.type == "conn") | .remote') == "$LAB_ADDR_B:$CPORT" ]] || fail "hs ls: $output"
	# a second client to the same port meets the local kernel: nothing listens there
	run lab_b "$PYTHON" -c 'import socket,sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    print("connected")
except ConnectionRefusedError:
    print("refused")' "$LAB_ADDR_A" "$PORT"
	assert_output refused
}
