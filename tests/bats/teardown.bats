#!/usr/bin/env bats
# Every way hs's connection ends, against the kernel's TCP in namespace b (the
# application there is tests/peers/textbook_server.py): active close with the
# peer closing later (FIN-WAIT-2) or at once (FIN+ACK merged), simultaneous
# close (CLOSING), half-close (the peer sends in our FIN-WAIT-2), passive close
# (--close wait), abort (--close rst), and an interrupted wait. Each test checks
# the peer's program, its ss and the wire in b, and hs's JSON.
#
# Run by `make check`, or by hand as root: bats tests/bats/teardown.bats

load common

PORT=7000   # the kernel server's port
SPORT=40000 # hs's port when it connects

setup() {
	tb_setup
}

teardown() {
	lab_teardown
}

# ---- the peer's side --------------------------------------------------------------

# same_as CMD...: CMD's output is exactly stdin (shows a diff otherwise).
same_as() {
	local got
	got=$("$@") || fail "$* failed"
	diff -u - <(printf '%s\n' "$got") >&2 || fail "$* is not as expected (diff above)"
}

# close_segments: hs's segments from the first FIN on (ours or the peer's), as
# "DIR FLAGS rseq rack STATE [NOTE]" lines. Left out, as timing noise: the peer's
# retransmissions (its kernel resends a FIN that hs acknowledges a few ms late),
# hs's repeated ACKs that answer them, and an RST that answers such an ACK (see
# assert_time_wait_ended).
close_segments() {
	# shellcheck disable=SC2016 # $i and the like are jq's
	jqo -r -s 'map(select(.type == "segment")) | (map(.flags | test("FIN")) | index(true)) as $i
		| (.[$i:] | map(select(.dir == "in" and .note == "retransmission")) | length > 0) as $rtx
		| reduce .[$i:][] as $s ({out: [], last: null};
			if $s.dir == "in" and $s.note != null then .
			elif $s.dir == "in" and $rtx and ($s.flags | test("RST")) then .
			elif $s.dir == "out" and .last != null and ([$s.flags, $s.rseq, $s.rack] == .last) then .
			else .out += [$s] | (if $s.dir == "out" then .last = [$s.flags, $s.rseq, $s.rack] else . end)
			end)
		| .out[] | "\(.dir) \(.flags) \(.rseq) \(.rack) \(.state)\(if .note then " " + .note else "" end)"'
}

# wire_close: the capture's segments from the first FIN on, as "FROM FLAGS" lines
# (FROM: a or b); the same noise as in close_segments left out (on the wire, a
# repeated segment follows the first one directly).
wire_close() {
	wire | awk -v a="$LAB_ADDR_A" '
		/Flags \[[^]]*F/ { on = 1 }
		!on { next }
		{ from = (index($3, a ".") == 1) ? "a" : "b"; match($0, /Flags \[[^]]*\]/)
		  line = from " " substr($0, RSTART + 7, RLENGTH - 8) }
		line == prev { if (line == "b F.") refin = 1; next }
		refin && line == "b R" { next }
		{ print line; prev = line }'
}

# ---- tests ------------------------------------------------------------------------

@test "active close, the peer closes later: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, CLOSED" {
	# the peer's application reads the end of the stream, then takes its time
	tb_server expect=byebye eof state sleep=0.5 close
	lab_tcpdump_start tcp port "$PORT"
	hs_bg connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --time-wait 0.1 \
		--timeout 1 --json --state-dir "$STATE"
	# meanwhile the peer's kernel holds the half-closed connection in CLOSE-WAIT
	wait_until 3 server_said "^state $LAB_ADDR_A:$SPORT CLOSE-WAIT\$"
	peer_conns "$PORT" | grep -qx "CLOSE-WAIT $LAB_ADDR_B:$PORT $LAB_ADDR_A:$SPORT" ||
		fail "the peer is not in CLOSE-WAIT: $(peer_conns "$PORT")"
	hs_finish 3
	assert_success
	assert_all_json
	[[ -z $stderr ]] || fail "stderr: $stderr"
	assert_path 'SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED'
	# four segments: our FIN, its ACK, its FIN, our ACK
	same_as close_segments <<-EOF
		out FIN,ACK 7 1 FIN-WAIT-1
		in ACK 1 8 FIN-WAIT-2
		in FIN,ACK 1 8 TIME-WAIT
		out ACK 8 2 TIME-WAIT
	EOF
	local ack fin tw
	ack=$(segs '.dir == "in" and .flags == "ACK" and .rack == 8')
	fin=$(segs '.dir == "in" and .flags == "FIN,ACK"')
	expect "$ack" peer_state CLOSE-WAIT
	expect "$fin" peer_state LAST-ACK
	# the peer's FIN came when its application closed, about 0.5 s later
	jq -e -n --argjson a "$ack" --argjson f "$fin" '$f.t - $a.t >= 0.4' >/dev/null ||
		fail "the peer's FIN came too early: $ack / $fin"
	tw=$(jqo 'select(.type == "state" and .from == "TIME-WAIT")')
	expect "$tw" to CLOSED
	expect "$tw" why 2MSL
	jq -e -n --argjson f "$fin" --argjson tw "$tw" '$tw.t - $f.t >= 0.09' >/dev/null ||
		fail "TIME-WAIT was shorter than --time-wait 0.1: $fin / $tw"
	expect "$(result)" outcome closed
	expect "$(result)" peer_state CLOSED

	wait_until 3 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'
		eof $LAB_ADDR_A:$SPORT (the peer sent FIN)
		state $LAB_ADDR_A:$SPORT CLOSE-WAIT
		closed $LAB_ADDR_A:$SPORT
		done ok
	EOF
	# LAST-ACK ended with our ACK: nothing left on the peer's side
	wait_until 2 peer_has_none "$PORT" "$SPORT"
	lab_tcpdump_stop
	same_as wire_close <<-EOF
		a F.
		b .
		b F.
		a .
	EOF
	assert_no_guard_left
	assert_no_state_left
}

@test "active close, the peer closes at once on EOF: its ACK and FIN merged or not, consistently" {
	tb_server expect=byebye eof close
	lab_tcpdump_start tcp port "$PORT"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --time-wait 0.1 \
		--json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	wait_until 3 server_said '^done ok$'
	wait_until 2 peer_has_none "$PORT" "$SPORT"
	lab_tcpdump_stop
	local segs_json wire_text
	segs_json=$(close_segments)
	wire_text=$(wire_close)
	# The kernel delays its ACK of a FIN (40 ms and more) hoping to carry it on
	# its own FIN: an application that closes at once usually merges them. Either
	# way hs goes through FIN-WAIT-2 (RFC 9293 processes the ACK field before the
	# FIN bit), so the segments tell the two apart.
	if [[ $(segs '.dir == "in" and .flags == "ACK" and .rack == 8') ]]; then
		assert_path 'SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED'
		[[ $segs_json == $'out FIN,ACK 7 1 FIN-WAIT-1\nin ACK 1 8 FIN-WAIT-2\nin FIN,ACK 1 8 TIME-WAIT\nout ACK 8 2 TIME-WAIT' ]] ||
			fail "four-way close expected from the path, hs shows: $segs_json"
		[[ $wire_text == $'a F.\nb .\nb F.\na .' ]] || fail "four-way close expected on the wire: $wire_text"
	else
		assert_path 'SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED'
		assert_path 'CLOSED LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED' peer
		[[ $segs_json == $'out FIN,ACK 7 1 FIN-WAIT-1\nin FIN,ACK 1 8 TIME-WAIT\nout ACK 8 2 TIME-WAIT' ]] ||
			fail "three-segment close expected from the path, hs shows: $segs_json"
		[[ $wire_text == $'a F.\nb F.\na .' ]] || fail "three-segment close expected on the wire: $wire_text"
		# hs inferred the peer's LAST-ACK from the merged FIN+ACK
		[[ -n $(segs '.dir == "in" and .flags == "FIN,ACK" and .peer_state == "LAST-ACK"') ]] ||
			fail "peer_state after the merged FIN+ACK: $output"
	fi
	assert_time_wait_ended
	assert_no_guard_left
	assert_no_state_left
}

@test "simultaneous close: the FINs cross, hs goes through CLOSING" {
	# The peer's application closes on its own 0.3 s after byebye, without
	# reading our FIN: the firewall in b drops our first FIN, so the peer's FIN
	# finds hs in FIN-WAIT-1 with its own FIN unacknowledged. Our retransmitted
	# FIN (after --timeout 1) then reaches the peer.
	drop_once inet "type filter hook input priority 0;" \
		"tcp dport $PORT tcp flags & fin == fin" 'ip saddr'
	tb_server expect=byebye sleep=0.3 close
	lab_tcpdump_start tcp port "$PORT"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --time-wait 0.1 \
		--timeout 1 --json --state-dir "$STATE"
	assert_success
	[[ $(once_counts inet) == "1 1" ]] || fail "dropped/passed FINs: $(once_counts inet)"
	assert_path 'SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT CLOSED'
	# the JSON lines show the same changes as the human ones: CLOSING is a state event
	[[ $(jqo 'select(.type == "state" and .side != "peer" and .from == "FIN-WAIT-1" and .to == "CLOSING")') ]] ||
		fail "no FIN-WAIT-1 -> CLOSING state event: $output"
	same_as close_segments <<-EOF
		out FIN,ACK 7 1 FIN-WAIT-1
		in FIN,ACK 1 7 CLOSING
		out ACK 8 2 CLOSING
		out FIN,ACK 7 2 CLOSING retransmission
		in ACK 2 8 TIME-WAIT
	EOF
	expect "$(result)" outcome closed
	wait_until 3 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'
		closed $LAB_ADDR_A:$SPORT
		done ok
	EOF
	# the peer closed first as far as it knows: TIME-WAIT is on its side too
	wait_until 2 peer_in_time_wait "$PORT" "$SPORT"
	# (the capture sees our first FIN before the firewall drops it)
	lab_tcpdump_stop
	same_as wire_close <<-EOF
		a F.
		b F.
		a .
		a F.
		b .
	EOF
	assert_no_guard_left
}

@test "half-close: the peer keeps sending in our FIN-WAIT-2, hs acknowledges and shows it" {
	# the peer reads our FIN, then (its ACK of our FIN gone) sends more, then closes
	tb_server expect=byebye eof sleep=0.3 'send=still here' outq state close
	lab_tcpdump_start tcp port "$PORT"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --time-wait 0.1 \
		--timeout 1 --json --state-dir "$STATE"
	assert_success
	assert_path 'SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED'
	local d
	d=$(segs '.dir == "in" and .len > 0 and .note == null')
	[[ $(wc -l <<<"$d") == 1 ]] || fail "expected one data segment in: $output"
	expect "$d" data 'still here'
	expect "$d" rseq 1
	expect "$d" state FIN-WAIT-2
	expect "$d" peer_state CLOSE-WAIT
	same_as close_segments <<-EOF
		out FIN,ACK 7 1 FIN-WAIT-1
		in ACK 1 8 FIN-WAIT-2
		in PSH,ACK 1 8 FIN-WAIT-2
		out ACK 8 11 FIN-WAIT-2
		in FIN,ACK 11 8 TIME-WAIT
		out ACK 8 12 TIME-WAIT
	EOF
	expect "$(result)" outcome closed
	assert_time_wait_ended
	# the peer's application: its data was sent and acknowledged, in CLOSE-WAIT
	wait_until 3 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'
		eof $LAB_ADDR_A:$SPORT (the peer sent FIN)
		sent $LAB_ADDR_A:$SPORT 10 bytes: 'still here'
		outq $LAB_ADDR_A:$SPORT 0 bytes unacknowledged
		state $LAB_ADDR_A:$SPORT CLOSE-WAIT
		closed $LAB_ADDR_A:$SPORT
		done ok
	EOF
	wait_until 2 peer_has_none "$PORT" "$SPORT"
	lab_tcpdump_stop
	no_rst_from_hs || fail "an RST from hs on the wire: $(wire)"
	assert_no_guard_left
	assert_no_state_left
}

@test "--close wait: the peer closes first, hs goes CLOSE-WAIT, LAST-ACK, CLOSED" {
	tb_server send=hello expect=byebye close
	lab_tcpdump_start tcp port "$PORT"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close wait --timeout 1 \
		--json --state-dir "$STATE"
	assert_success
	assert_path 'SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
	[[ -n $(segs '.dir == "in" and .data == "hello"') ]] || fail "no hello: $output"
	local fin_in fin_out last res
	fin_in=$(segs '.dir == "in" and (.flags | test("FIN")) and .note == null')
	expect "$fin_in" rseq 6
	expect "$fin_in" state CLOSE-WAIT
	expect "$fin_in" peer_state FIN-WAIT-1
	fin_out=$(segs '.dir == "out" and (.flags | test("FIN"))')
	[[ $(wc -l <<<"$fin_out") == 1 ]] || fail "hs sent its FIN more than once: $output"
	expect "$fin_out" rseq 7
	expect "$fin_out" rack 7
	expect "$fin_out" state LAST-ACK
	last=$(segs '.dir == "in"' | tail -n1)
	expect "$last" flags ACK
	expect "$last" rack 8
	expect "$last" state CLOSED
	expect "$last" peer_state TIME-WAIT
	res=$(result)
	expect "$res" outcome closed
	expect "$res" state CLOSED
	expect "$res" peer_state TIME-WAIT
	# no TIME-WAIT on hs's side: the passive closer has none
	[[ -z $(jqo 'select(.type == "state" and .from == "TIME-WAIT")') ]] || fail "TIME-WAIT in a passive close: $output"
	wait_until 3 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		sent $LAB_ADDR_A:$SPORT 5 bytes: 'hello'
		received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'
		closed $LAB_ADDR_A:$SPORT
		done ok
	EOF
	# the peer closed first: TIME-WAIT is on its side
	wait_until 2 peer_in_time_wait "$PORT" "$SPORT"
	lab_tcpdump_stop
	# hs's one FIN, acknowledged by the peer (the rest varies with timing: hs's
	# ACK of hello may follow the peer's FIN, and so may an ACK of a resent FIN)
	local w
	w=$(wire_close)
	awk '/^a F/ { fins++ } fins && $0 == "b ." { acked = 1 } END { exit !(fins == 1 && acked) }' <<<"$w" ||
		fail "the close on the wire: $w"
	assert_no_guard_left
	assert_no_state_left
}

@test "--close rst: the peer's program sees ECONNRESET, its kernel keeps nothing" {
	# the server reads only after a pause: the reset comes while it waits
	tb_server sleep=0.3 expect=byebye eof
	lab_tcpdump_start tcp port "$PORT"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close rst --json --state-dir "$STATE"
	assert_success
	assert_path 'SYN-SENT ESTABLISHED CLOSED'
	local res rst
	res=$(result)
	expect "$res" outcome aborted
	expect "$res" message "connection aborted with RST"
	expect "$res" state CLOSED
	rst=$(segs '.dir == "out"' | tail -n1)
	[[ $(field "$rst" flags) == RST* ]] || fail "the last segment out is not an RST: $rst"
	expect "$rst" rseq 7
	[[ -z $(segs '(.flags | test("FIN"))') ]] || fail "a FIN in an abort: $output"
	wait_until 3 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'
		reset $LAB_ADDR_A:$SPORT (ECONNRESET: the peer sent RST)
		closed $LAB_ADDR_A:$SPORT
		done failed
	EOF
	wait_until 2 peer_has_none "$PORT" "$SPORT"
	lab_tcpdump_stop
	wire | grep -qE "$LAB_ADDR_A\.$SPORT > $LAB_ADDR_B\.$PORT: Flags \[R" || fail "no RST on the wire: $(wire)"
	assert_no_guard_left
	assert_no_state_left
}

@test "SIGINT while --close wait waits in ESTABLISHED: prompt exit, ESTABLISHED named, RST to the peer, no guard left" {
	# nobody closes: the server waits for our FIN, hs for the server's
	tb_server send=hello eof close
	hs_bg connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close wait --timeout 5 --json --state-dir "$STATE"
	wait_until 3 server_said "^sent $LAB_ADDR_A:$SPORT"
	wait_until 2 grep -q '"data":"hello"' "$LAB_DIR/hs.out"
	[[ -n $(lab_hs_tables a) ]] || fail "no guard while hs waits"
	kill -INT "$HS_PID"
	hs_finish 1
	((status != 0)) || fail "hs exited 0 after SIGINT"
	lab_assert_hs_error 'ESTABLISHED'
	assert_all_json
	local res
	res=$(result)
	expect "$res" exit "$status"
	# interrupted in ESTABLISHED, then reset: nobody keeps the connection, so the
	# peer must not stay half-open
	expect "$res" state CLOSED
	[[ $(field "$res" message) == *"in ESTABLISHED"*"RST sent to the peer"* ]] || fail "result message: $res"
	assert_no_guard_left
	assert_no_state_left
	wait_until 3 server_said "^reset "
	[[ -z $(peer_conns "$PORT" "$SPORT") ]] || fail "the peer's connection: $(peer_conns "$PORT")"
}

@test "--close fin, the peer never closes: hs gives up in FIN-WAIT-2 after its retries" {
	# the peer acknowledges our FIN but its application never closes
	tb_server expect=byebye eof sleep=30 close
	hs_bg connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --timeout 0.2 --retries 1 \
		--json --state-dir "$STATE"
	# 0.2 s per reply, one retry with backoff: 0.6 s in all, well within 3 s
	hs_finish 3
	assert_failure 3
	lab_assert_hs_error "^hs: timeout: the peer's FIN from $LAB_ADDR_B:$PORT did not come \\(state FIN-WAIT-2\\)$"
	expect "$(result)" state FIN-WAIT-2
	expect "$(result)" outcome timeout
	assert_no_guard_left
	assert_no_state_left
	server_said "^eof $LAB_ADDR_A:$SPORT"
}
