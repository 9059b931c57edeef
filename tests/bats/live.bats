#!/usr/bin/env bats
# hs rst A:PORT B:PORT and hs fin A:PORT B:PORT: hs in a router between two kernel
# sockets, acting on their connection with spoofed segments.
#
#   client ns  198.18.1.2 (A) --- router ns 198.18.1.1 | 198.18.2.1 --- server ns 198.18.2.2 (B)
#              2001:db8:1::2      (forwarding, hs runs here)              2001:db8:2::2
#
# Every test checks what the two programs saw (their output: "reset", "eof") and
# what their kernels hold (ss), not only what hs says.
#
# Run by `make check`, or by hand as root: bats tests/bats/live.bats

load common

PORT=5000

setup() {
	hs_find
	lab_require ip ss jq python3
	PEER=$BATS_TEST_DIRNAME/../peers/live_peer.py
	[[ -r $PEER ]] || fail "missing $PEER"
	# lab.bash's process helpers (lab_bg, lab_teardown) log here and stop what they started
	LAB_DIR=$BATS_TEST_TMPDIR
	LIVE=hsl-$$-${BATS_TEST_NUMBER}-$RANDOM
	CLI=$LIVE-c RTR=$LIVE-r SRV=$LIVE-s
	LIVE_NS=()
	live_up || fail "cannot build the three-namespace topology"
}

teardown() {
	lab_teardown
	local ns
	for ns in "${LIVE_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	LIVE_NS=()
}

# Three namespaces; the veths are made inside them, so their short names cannot
# clash with anything in the root namespace or in another test's namespaces.
live_up() {
	local ns
	for ns in "$CLI" "$RTR" "$SRV"; do
		ip netns add "$ns" || return
		LIVE_NS+=("$ns")
		ip -n "$ns" link set lo up || return
	done
	ip link add c0 netns "$CLI" type veth peer name rc netns "$RTR" || return
	ip link add s0 netns "$SRV" type veth peer name rs netns "$RTR" || return
	ip -n "$CLI" addr add 198.18.1.2/24 dev c0 &&
		ip -n "$CLI" addr add 2001:db8:1::2/64 dev c0 nodad &&
		ip -n "$RTR" addr add 198.18.1.1/24 dev rc &&
		ip -n "$RTR" addr add 2001:db8:1::1/64 dev rc nodad &&
		ip -n "$RTR" addr add 198.18.2.1/24 dev rs &&
		ip -n "$RTR" addr add 2001:db8:2::1/64 dev rs nodad &&
		ip -n "$SRV" addr add 198.18.2.2/24 dev s0 &&
		ip -n "$SRV" addr add 2001:db8:2::2/64 dev s0 nodad || return
	ip -n "$CLI" link set c0 up && ip -n "$RTR" link set rc up &&
		ip -n "$RTR" link set rs up && ip -n "$SRV" link set s0 up || return
	ip -n "$CLI" route add default via 198.18.1.1 &&
		ip -n "$CLI" -6 route add default via 2001:db8:1::1 &&
		ip -n "$SRV" route add default via 198.18.2.1 &&
		ip -n "$SRV" -6 route add default via 2001:db8:2::1 || return
	ip netns exec "$RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

said() { # said FILE REGEX: the program's output has a line matching REGEX
	grep -qE -- "$2" "$LAB_DIR/$1"
}

listening() {
	[[ -n $(ip netns exec "$SRV" ss -Hltn "sport = :$PORT") ]]
}

# connection NS: the kernel's TCP sockets on the test's port there (any state but
# LISTEN), one "STATE LOCAL PEER" line each.
connections() {
	ip netns exec "$1" ss -Htan "( sport = :$PORT or dport = :$PORT )" |
		awk '$1 != "LISTEN" { print $1, $(NF-1), $NF }'
}

no_connection() {
	[[ -z $(connections "$1") ]]
}

# live_pair MODE [v6] [SERVER-ARGS...]: the server in $SRV, a client in $CLI (busy
# or idle), once the connection carries data. Sets A (the client's endpoint) and B.
live_pair() {
	local mode=$1 saddr=0.0.0.0 bhost=198.18.2.2
	shift
	if [[ ${1:-} == v6 ]]; then
		saddr=:: bhost='[2001:db8:2::2]'
		shift
	fi
	lab_bg "$SRV" server.out python3 "$PEER" server --addr "$saddr" --port "$PORT" "$@"
	wait_until 5 listening || fail "the server does not listen: $(cat "$LAB_DIR/server.out")"
	lab_bg "$CLI" client.out python3 "$PEER" client --connect "$bhost:$PORT" --mode "$mode"
	if [[ $mode == busy ]]; then
		wait_until 5 said client.out '^busy$' || fail "the client is not busy: $(cat "$LAB_DIR/client.out")"
	else
		wait_until 5 said client.out '^echoed$' || fail "no echo: $(cat "$LAB_DIR/client.out")"
	fi
	A=$(awk '$1 == "connected" { print $2 }' "$LAB_DIR/client.out")
	B=$bhost:$PORT
	[[ -n $A ]] || fail "the client did not say its endpoint: $(cat "$LAB_DIR/client.out")"
	[[ -n $(connections "$SRV") ]] || fail "the server has no connection"
}

# hs_router ARGS...: hs in the router; stdout in $output/$lines, stderr in $stderr.
hs_router() {
	run --separate-stderr ip netns exec "$RTR" "$HS" "$@"
}

# Both programs saw the reset, and neither kernel holds the connection any more.
assert_both_reset() {
	wait_until 3 said server.out '^reset$' || fail "the server did not see the reset: $(cat "$LAB_DIR/server.out")"
	wait_until 3 said client.out '^reset$' || fail "the client did not see the reset: $(cat "$LAB_DIR/client.out")"
	wait_until 3 no_connection "$SRV" || fail "the server still has: $(connections "$SRV")"
	wait_until 3 no_connection "$CLI" || fail "the client still has: $(connections "$CLI")"
}

# has FILTER: some line of hs's JSON output matches the jq condition FILTER.
has() {
	[[ -n $(jq -c "select($1)" <<<"$output") ]]
}

@test "rst: a busy connection is reset at both ends" {
	live_pair busy
	hs_router rst "$A" "$B" --no-color
	assert_success
	assert_output --regexp "RST +seq [0-9]+ .*\[as A->B"
	assert_output --regexp "RST +seq [0-9]+ .*\[as B->A"
	assert_output --partial "B took the RST"
	assert_output --partial "A took the RST"
	assert_output --regexp "reset $A . $B \(CLOSED, peer CLOSED\)"
	assert_both_reset
}

@test "rst -w x.pcapng: every segment, each commented with A's and B's states; ours marked" {
	live_pair idle
	local png=$LAB_DIR/live.pcapng
	hs_router rst "$A" "$B" --json -w "$png"
	assert_success
	assert_both_reset
	local frames comments
	frames=$(tshark -r "$png" -n -T fields -e frame.number 2>/dev/null | wc -l)
	comments=$(tshark -r "$png" -n -T fields -e frame.comment 2>/dev/null)
	(($(jq -c 'select(.type == "segment")' <<<"$output" | wc -l) == frames)) ||
		fail "$frames packets for $(jq -c 'select(.type == "segment")' <<<"$output" | wc -l) segment lines"
	! grep -q '^$' <<<"$comments" || fail "a packet without comment: $comments"
	grep -q '^A .*; B ' <<<"$comments" || fail "no comment naming A and B: $comments"
	grep -q 'sent by hs as' <<<"$comments" || fail "our RSTs not marked: $comments"
	# what the file holds is what passed: the RSTs hs sent carry B's and A's RCV.NXT as the JSON says
	local want got
	want=$(jq -r 'select(.type == "segment" and (.flags | test("RST"))) | .seq' <<<"$output" | sort)
	got=$(tshark -r "$png" -n -Y 'tcp.flags.reset == 1' -T fields -e tcp.seq_raw 2>/dev/null | sort)
	[[ -n $want && $want == "$got" ]] || fail "RSTs in the file: $got, in the JSON: $want"
}

@test "rst: an idle connection is reset: hs asks both ends for their numbers" {
	live_pair idle
	hs_router rst "$A" "$B" --no-color
	assert_success
	assert_output --partial "nothing seen yet: asking both ends for their numbers"
	assert_output --regexp "ACK .*len 1 .*\[as A->B, ask\]"
	assert_output --regexp "reset $A . $B \(CLOSED, peer CLOSED\)"
	assert_both_reset
}

@test "rst --json: valid lines; the RST to B carries B's RCV.NXT exactly" {
	live_pair idle
	hs_router rst "$A" "$B" --json
	assert_success
	assert_all_json
	assert_time_order
	local res
	res=$(result)
	[[ $(jq -r '[.outcome, .exit, .local, .remote, .state, .peer_state] | join(" ")' <<<"$res") == \
		"reset 0 $A $B CLOSED CLOSED" ]] || fail "result: $res"
	# B's answer to our question says what it expects next (its ack); the RST to B
	# must carry exactly that. (Segments go "out" A -> B and "in" B -> A, ours too:
	# our question as B is the one with note "ask".)
	local b_ack rst_seq
	b_ack=$(jq -r "select(.type == \"segment\" and .dir == \"in\" and .src == \"$B\" and .note != \"ask\") | .ack" \
		<<<"$output" | head -1)
	rst_seq=$(jq -r "select(.type == \"segment\" and .dir == \"out\" and .dst == \"$B\" and .flags == \"RST\") | .seq" \
		<<<"$output" | head -1)
	[[ -n $b_ack && $b_ack == "$rst_seq" ]] || fail "B expects $b_ack, our RST carried $rst_seq: $output"
	# and B answers our probe with RST (its seq is the probe's ack): nothing left there
	local probe_acks
	probe_acks=$(jq -c "[select(.type == \"segment\" and .dst == \"$B\" and .note == \"probe\") | .ack]" <<<"$output" |
		jq -sc add)
	has ".type == \"segment\" and .src == \"$B\" and .flags == \"RST\" and (.seq as \$s | $probe_acks | index(\$s))" ||
		fail "no RST from B answering a probe: $output"
	assert_both_reset
}

@test "rst --ack: RST,ACK segments reset a busy connection" {
	live_pair busy
	hs_router rst "$A" "$B" --ack --json
	assert_success
	assert_time_order
	has '.type == "segment" and .dir == "out" and .flags == "RST,ACK"' || fail "no RST,ACK sent: $output"
	[[ $(jq -r .outcome <<<"$(result)") == reset ]] || fail "$(result)"
	assert_both_reset
}

@test "rst: a busy IPv6 connection is reset at both ends" {
	live_pair busy v6
	[[ $A == '[2001:db8:1::2]:'* ]] || fail "the client is not on IPv6: $A"
	hs_router rst "$A" "$B"
	assert_success
	assert_both_reset
}

@test "rst -i: capturing on one interface of the router is enough" {
	live_pair idle
	hs_router rst "$A" "$B" -i rs -q
	assert_success
	assert_output --regexp "^reset "
	assert_both_reset
}

@test "rst: a 4-tuple with no connection exits 3 within the timeout" {
	lab_bg "$SRV" server.out python3 "$PEER" server --port "$PORT"
	wait_until 5 listening
	local t0
	t0=$(lab__now_us)
	hs_router rst 198.18.1.2:40000 "198.18.2.2:$((PORT + 1))" --timeout 0.5
	local ms=$((($(lab__now_us) - t0) / 1000))
	assert_failure 3
	lab_assert_hs_error 'no connection 198\.18\.1\.2:40000 <-> 198\.18\.2\.2:5001: both ends answer RST'
	((ms < 1500)) || fail "took $ms ms with --timeout 0.5"
	# nothing happened to the server
	said server.out '^listening' || fail "server: $(cat "$LAB_DIR/server.out")"
	if said server.out 'accepted|reset'; then fail "server: $(cat "$LAB_DIR/server.out")"; fi
}

@test "rst: endpoints nobody has exit 3 after the timeout, one line on stderr" {
	local t0
	t0=$(lab__now_us)
	hs_router rst 198.18.1.99:40000 198.18.2.99:5000 --timeout 0.4 --json
	local ms=$((($(lab__now_us) - t0) / 1000))
	assert_failure 3
	lab_assert_hs_error 'no segment of 198\.18\.1\.99:40000 <-> 198\.18\.2\.99:5000 seen within 0\.4 s'
	((ms >= 400 && ms < 1500)) || fail "took $ms ms with --timeout 0.4"
	assert_all_json
	[[ $(jq -r '"\(.outcome) \(.exit)"' <<<"$(result)") == "timeout 3" ]] || fail "$(result)"
}

@test "fin: B sees EOF, hs reports B's ACK of the FIN" {
	live_pair idle
	hs_router fin "$A" "$B" --json
	assert_success
	assert_all_json
	local fin_seq
	fin_seq=$(jq -r "select(.type == \"segment\" and .dir == \"out\" and .src == \"$A\" and .flags == \"FIN,ACK\") | .seq" \
		<<<"$output")
	[[ $fin_seq =~ ^[0-9]+$ ]] || fail "no FIN,ACK sent as A: $output"
	local want=$(((fin_seq + 1) % 4294967296))
	has ".type == \"segment\" and .dir == \"in\" and .src == \"$B\" and (.flags | test(\"ACK\")) and .ack == $want" ||
		fail "no ACK of the FIN ($want) from B: $output"
	has '.type == "info" and (.text | test("CLOSE-WAIT"))' || fail "hs does not report B's CLOSE-WAIT: $output"
	wait_until 3 said server.out '^eof$' || fail "the server did not see EOF: $(cat "$LAB_DIR/server.out")"
	# The server closed in turn and hs acknowledged its FIN as A: B's socket is gone,
	# while A's kernel never learnt anything (its socket stays ESTABLISHED).
	[[ $(jq -r '"\(.outcome) \(.peer_state)"' <<<"$(result)") == "closed CLOSED" ]] || fail "$(result)"
	expect "$(result)" message "B acknowledged our FIN and closed its side too; we acknowledged its FIN as A"
	wait_until 3 no_connection "$SRV" || fail "the server still has: $(connections "$SRV")"
	[[ $(connections "$CLI") == "ESTAB $A $B" ]] || fail "the client has: $(connections "$CLI")"
	if said client.out '^(eof|reset)$'; then fail "client: $(cat "$LAB_DIR/client.out")"; fi
}

@test "fin: a server that keeps its side open stays in CLOSE-WAIT (half-closed)" {
	live_pair idle --keep-open
	hs_router fin "$A" "$B" --timeout 0.5 --no-color
	assert_success
	assert_output --regexp "FIN,ACK +seq [0-9]+ +ack [0-9]+ .*\[as A->B\]"
	assert_output --partial "B acknowledged the FIN: it is in CLOSE-WAIT"
	assert_output --regexp "half-closed $A . $B \(ESTABLISHED, peer CLOSE-WAIT\)"
	wait_until 3 said server.out '^eof$' || fail "the server did not see EOF: $(cat "$LAB_DIR/server.out")"
	[[ $(connections "$SRV") == "CLOSE-WAIT $B $A" ]] || fail "the server has: $(connections "$SRV")"
}

@test "rst/fin A B: usage errors exit 2 with one line on stderr" {
	hs_router rst 198.18.1.2:1 '[2001:db8:2::2]:2'
	assert_failure 2
	lab_assert_hs_error 'different address families'
	hs_router rst 198.18.1.2:1 198.18.1.2:1
	assert_failure 2
	lab_assert_hs_error 'same endpoint'
	hs_router fin 198.18.1.2:1 198.18.2.2:2 --send x
	assert_failure 2
	lab_assert_hs_error '--send does not apply'
}
