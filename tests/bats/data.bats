#!/usr/bin/env bats
# The textbook exchange end to end: the server accepts, sends "hello", receives
# "byebye" and closes; the client connects, receives "hello", sends "byebye" and
# closes. hs plays one side against the kernel's TCP in namespace b, where the
# applications are tests/peers/textbook_server.py and textbook_client.py. Every
# test checks what the peer saw (its program's report, its ss, the wire in b),
# not only what hs says. Also: payloads as text and hex, a client that sends at
# once, and a handshake that loses its SYN,ACK or its ACK once.
#
# Run by `make check`, or by hand as root: bats tests/bats/data.bats

load common

PORT=7000  # the server's port (hs's or the kernel's)
SPORT=40000 # hs's port when it connects
CPORT=45000 # the kernel client's port when hs listens

setup() {
	tb_setup
}

teardown() {
	lab_teardown
}

# ---- tests ------------------------------------------------------------------------

@test "textbook exchange, hs the client: the server gets byebye and EOF, hs gets hello" {
	tb_server send=hello expect=byebye eof close
	lab_tcpdump_start tcp port "$PORT"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --time-wait 0.1 \
		--json --state-dir "$STATE"
	assert_success
	assert_all_json
	local res
	res=$(result)
	expect "$res" outcome closed
	expect "$res" exit 0
	expect "$res" state CLOSED
	expect "$res" local "$LAB_ADDR_A:$SPORT"

	# the server's application: all of byebye, then the end of the stream
	wait_until 3 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		sent $LAB_ADDR_A:$SPORT 5 bytes: 'hello'
		received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'
		eof $LAB_ADDR_A:$SPORT (the peer sent FIN)
		closed $LAB_ADDR_A:$SPORT
		done ok
	EOF

	# hs: byebye out right after the handshake, hello in and acknowledged
	local out_data in_data
	out_data=$(segs '.dir == "out" and .len > 0')
	[[ $(wc -l <<<"$out_data") == 1 ]] || fail "hs sent data more than once: $output"
	expect "$out_data" data byebye
	expect "$out_data" rseq 1
	expect "$out_data" len 6
	expect "$out_data" state ESTABLISHED
	in_data=$(segs '.dir == "in" and .len > 0 and .note == null')
	[[ $(wc -l <<<"$in_data") == 1 ]] || fail "hello came in more than once: $output"
	expect "$in_data" data hello
	expect "$in_data" rseq 1
	[[ -n $(segs '.dir == "out" and .rack >= 6') ]] || fail "hs never acknowledged hello: $output"
	[[ -n $(segs '.dir == "in" and .rack >= 7') ]] || fail "the peer never acknowledged byebye: $output"

	# the close: FIN-WAIT-2 only when the peer's ACK of our FIN came alone
	assert_path 'SYN-SENT ESTABLISHED FIN-WAIT-1 (FIN-WAIT-2 )?TIME-WAIT CLOSED'
	local fin_out fin_in last
	fin_out=$(segs '.dir == "out" and (.flags | test("FIN"))')
	[[ $(wc -l <<<"$fin_out") == 1 ]] || fail "hs sent its FIN more than once: $output"
	expect "$fin_out" rseq 7
	expect "$fin_out" state FIN-WAIT-1
	fin_in=$(segs '.dir == "in" and (.flags | test("FIN")) and .note == null')
	[[ $(wc -l <<<"$fin_in") == 1 ]] || fail "not one FIN from the peer: $output"
	expect "$fin_in" rseq 6
	expect "$fin_in" rack 8
	expect "$fin_in" state TIME-WAIT
	last=$(segs '.dir == "out"' | tail -n1)
	expect "$last" flags ACK
	expect "$last" rack 7
	assert_time_wait_ended

	# the peer's kernel: LAST-ACK ended with our ACK, nothing left
	wait_until 2 peer_has_none "$PORT" "$SPORT"
	lab_tcpdump_stop
	local w
	w=$(wire)
	grep -qE "$LAB_ADDR_A\.$SPORT > $LAB_ADDR_B\.$PORT: Flags \[F\.\]" <<<"$w" || fail "no FIN from hs on the wire: $w"
	grep -qE "$LAB_ADDR_B\.$PORT > $LAB_ADDR_A\.$SPORT: Flags \[F\.\]" <<<"$w" || fail "no FIN from the peer: $w"
	no_rst_from_hs || fail "an RST from hs on the wire: $w"
	assert_no_guard_left
	assert_no_state_left
}

# The payload the peer's application sends: bytes that need escaping.
PAYLOAD='hi\x00\x01\xfe\n'

@test "data from the peer in ESTABLISHED: JSON data as escaped text, no data_hex without -x" {
	tb_server "send=$PAYLOAD" close
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close wait --timeout 0.5 --json --state-dir "$STATE"
	assert_success
	local d
	d=$(segs '.dir == "in" and .len > 0 and .note == null')
	[[ $(wc -l <<<"$d") == 1 ]] || fail "expected one data segment in: $output"
	expect "$d" len 6
	expect "$d" rseq 1
	expect "$d" state ESTABLISHED
	jq -e '.data == "hi\u0000\u0001\u00fe\n"' <<<"$d" >/dev/null || fail "data as text: $d"
	jq -e 'has("data_hex") | not' <<<"$d" >/dev/null || fail "data_hex without -x: $d"
	[[ -n $(segs '.dir == "out" and .flags == "ACK" and .rack == 7') ]] || fail "hs did not acknowledge the data: $output"
	assert_path 'SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
	wait_until 2 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		sent $LAB_ADDR_A:$SPORT 6 bytes: '$PAYLOAD'
		closed $LAB_ADDR_A:$SPORT
		done ok
	EOF
}

@test "-x: data from the peer also as hex (JSON data_hex)" {
	tb_server "send=$PAYLOAD" close
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close wait --timeout 0.5 -x --json --state-dir "$STATE"
	assert_success
	local d
	d=$(segs '.dir == "in" and .len > 0 and .note == null')
	[[ $(wc -l <<<"$d") == 1 ]] || fail "expected one data segment in: $output"
	expect "$d" data_hex 68690001fe0a
	jq -e '.data == "hi\u0000\u0001\u00fe\n"' <<<"$d" >/dev/null || fail "data as text: $d"
	# hs's own (empty) segments carry neither
	[[ -z $(segs '.len == 0 and (has("data") or has("data_hex"))') ]] || fail "data on empty segments: $output"
	wait_until 2 server_said '^done ok$'
}

@test "human output: the peer's data as escaped text, with -x as a hex dump" {
	tb_server "send=$PAYLOAD" close
	PORT=7001 SERVER_OUT=server2.out tb_server "send=$PAYLOAD" close
	hs_a connect "$LAB_ADDR_B" 7000 --sport "$SPORT" --close wait --timeout 0.5 --no-color --state-dir "$STATE"
	assert_success
	assert_line --regexp '^ +\| "hi\\x00\\x01\\xfe\\n"$'
	refute_output --partial '68 69 00 01 fe 0a'
	hs_a connect "$LAB_ADDR_B" 7001 --sport "$SPORT" --close wait --timeout 0.5 --no-color -x --state-dir "$STATE"
	assert_success
	assert_line --regexp '^ +\| 0000  68 69 00 01 fe 0a +hi\.\.\.\.$'
	wait_until 2 server_said '^done ok$'
	wait_until 2 grep -qx 'done ok' "$LAB_DIR/server2.out"
}

# client_send_q: the Send-Q of the kernel client's ESTABLISHED connection to hs.
client_send_q() {
	lab_b ss -Htn state established "sport = :$CPORT" | awk '{ print $2 }'
}

@test "a client that sends at once: hs (listen) acknowledges it, nothing stays unacknowledged" {
	hs_bg listen "$PORT" --close wait --timeout 3 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	# data right after connect(), before hs has sent anything; then the client
	# lingers a moment (so that its kernel's queue can be looked at) and closes
	tb_client send=early-bird outq state sleep=0.5 close
	wait_until 3 client_said "^outq $LAB_ADDR_A:$PORT [0-9]+ bytes unacknowledged\$"
	[[ $(client_send_q) == 0 ]] || fail "the client's Send-Q is '$(client_send_q)': $(lab_b ss -tn)"
	wait_until 3 client_said '^done '
	assert_report client.out <<-EOF
		connected $LAB_ADDR_A:$PORT from $LAB_ADDR_B:$CPORT
		sent $LAB_ADDR_A:$PORT 10 bytes: 'early-bird'
		outq $LAB_ADDR_A:$PORT 0 bytes unacknowledged
		state $LAB_ADDR_A:$PORT ESTABLISHED
		closed $LAB_ADDR_A:$PORT
		done ok
	EOF
	hs_finish 3
	assert_success
	assert_all_json
	[[ -z $stderr ]] || fail "stderr: $stderr"
	local d ack
	d=$(segs '.dir == "in" and .len > 0 and .note == null')
	[[ $(wc -l <<<"$d") == 1 ]] || fail "expected one data segment in: $output"
	expect "$d" data early-bird
	expect "$d" rseq 1
	expect "$d" state ESTABLISHED
	# hs's first segment after the data acknowledges all of it
	# shellcheck disable=SC2016 # $i and the like are jq's
	ack=$(jqo -s 'map(select(.type == "segment")) | (map(.len > 0 and .dir == "in") | index(true)) as $i
		| .[$i + 1:] | map(select(.dir == "out")) | first')
	expect "$ack" flags ACK
	expect "$ack" rack 11
	assert_path 'LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
	expect "$(result)" remote "$LAB_ADDR_B:$CPORT"
	assert_no_guard_left
	assert_no_state_left
}

@test "the peer's SYN,ACK lost once: hs retransmits its SYN, the exchange completes" {
	tb_server send=hello expect=byebye eof close
	# the peer's first SYN,ACK dies on its way out of namespace b
	drop_once netdev "type filter hook egress device \"$LAB_IF_B\" priority 0;" \
		"tcp sport $PORT tcp flags & (syn | ack | fin | rst) == syn | ack" 'ip daddr'
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --time-wait 0.1 \
		--timeout 0.3 --retries 2 --json --state-dir "$STATE"
	assert_success
	[[ $(once_counts netdev) == "1 1" ]] || fail "dropped/passed SYN,ACK: $(once_counts netdev)"
	local syns synacks
	syns=$(segs '.dir == "out" and .flags == "SYN"')
	[[ $(wc -l <<<"$syns") == 2 ]] || fail "expected 2 SYNs: $output"
	jq -e -s '(map(.seq) | unique | length == 1) and .[0].note == null and .[1].note == "retransmission"
		and (.[1].t - .[0].t) >= 0.25' <<<"$syns" >/dev/null || fail "the second SYN: $syns"
	synacks=$(segs '.dir == "in" and .flags == "SYN,ACK"')
	[[ $(wc -l <<<"$synacks") == 1 ]] || fail "expected 1 SYN,ACK: $output"
	expect "$synacks" state ESTABLISHED
	assert_path 'SYN-SENT ESTABLISHED FIN-WAIT-1 (FIN-WAIT-2 )?TIME-WAIT CLOSED'
	expect "$(result)" outcome closed
	wait_until 3 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		sent $LAB_ADDR_A:$SPORT 5 bytes: 'hello'
		received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'
		eof $LAB_ADDR_A:$SPORT (the peer sent FIN)
		closed $LAB_ADDR_A:$SPORT
		done ok
	EOF
	wait_until 2 peer_has_none "$PORT" "$SPORT"
}

@test "hs's ACK lost once: the peer retransmits its SYN,ACK, hs answers the duplicate" {
	tb_server state send=hello close
	# the handshake's ACK (the first pure ACK from hs) never reaches the peer
	drop_once inet "type filter hook input priority 0;" \
		"tcp dport $PORT tcp flags & (syn | ack | fin | rst | psh) == ack" 'ip saddr'
	# no data from hs: any segment of ours would complete the handshake too
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close wait --timeout 1 --retries 1 \
		--json --state-dir "$STATE"
	assert_success
	local synacks acks
	synacks=$(segs '.dir == "in" and .flags == "SYN,ACK"')
	[[ $(wc -l <<<"$synacks") == 2 ]] || fail "expected the SYN,ACK twice: $output"
	jq -e -s '(map(.seq) | unique | length == 1) and .[0].note == null and .[1].note == "retransmission"
		and (.[1].t - .[0].t) >= 0.5' <<<"$synacks" >/dev/null || fail "the SYN,ACKs: $synacks"
	acks=$(segs '.dir == "out" and .flags == "ACK" and .rseq == 1 and .rack == 1')
	[[ $(wc -l <<<"$acks") == 2 ]] || fail "expected hs's handshake ACK twice: $output"
	[[ $(once_counts inet) =~ ^1\ [1-9] ]] || fail "dropped/passed ACKs: $(once_counts inet)"
	# hs stayed ESTABLISHED meanwhile, then closed passively
	assert_path 'SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
	expect "$(result)" outcome closed
	[[ -n $(segs '.dir == "in" and .data == "hello" and .state == "ESTABLISHED"') ]] || fail "no hello: $output"
	# the peer: accepted only after the second ACK, ESTABLISHED, hello sent; it
	# closed first, so it ends in TIME-WAIT
	wait_until 3 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		state $LAB_ADDR_A:$SPORT ESTABLISHED
		sent $LAB_ADDR_A:$SPORT 5 bytes: 'hello'
		closed $LAB_ADDR_A:$SPORT
		done ok
	EOF
	wait_until 2 peer_in_time_wait "$PORT" "$SPORT"
}

@test "a peer that never reads: its window closes, hs probes it and gives up with a clear answer" {
	# A server with a tiny receive buffer that accepts and never reads.
	lab_bg b sink.out "$PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept()
print("accepted", flush=True)
time.sleep(30)' "$PORT"
	wait_until 5 lab_listening b "$PORT" || fail "the sink does not listen"
	local big
	big=$(head -c 100000 /dev/zero | tr '\0' a)
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send "$big" --close fin \
		--timeout 0.2 --retries 2 --json --state-dir "$STATE"
	assert_failure 3
	lab_assert_hs_error "^hs: timeout: $LAB_ADDR_B:$PORT kept its window closed through 2 zero-window probes \\(its application is not reading\\); [0-9]+ of 100000 bytes were delivered$"
	expect "$(result)" outcome timeout
	# the peer advertised a zero window, and hs kept to it: what it sent beyond the
	# last window were one-byte probes only
	[[ -n $(segs '.dir == "in" and .win == 0') ]] || fail "no zero window from the peer: $output"
	local acked sent
	acked=$(segs '.dir == "in"' | jq -s 'map(.rack) | max')
	sent=$(segs '.dir == "out" and .len > 0' | jq -s 'map(.rseq + .len) | max')
	((sent <= acked + 1)) || fail "hs sent past the closed window: sent up to $sent, acked $acked"
	((acked > 1 && acked < 100000)) || fail "acked $acked of 100000"
	# the peer still holds the connection with the unread bytes queued
	[[ $(ip netns exec "$LAB_B" ss -Htn state established "sport = :$PORT" | awk '{print $1}') -gt 0 ]] ||
		fail "the peer's receive queue is empty: $(ip netns exec "$LAB_B" ss -tn)"
}
