#!/usr/bin/env bats
# hs connect --count N: many handshakes in one run, against kernel peers in
# namespace b. Every test checks what the peer saw (its accept loop's count, its
# EOFs, its nstat counters, its ss), and that no guard table is left.
#
# Run by `make check`, or by hand as root: bats tests/bats/count.bats

load common

PY=/usr/bin/python3

setup() {
	hs_setup jq nft ss ip nstat
	[[ -x $PY ]] || PY=$(command -v python3)
	PEER=$BATS_TEST_DIRNAME/../peers/accept_count.py
}

teardown() {
	lab_teardown
}

# count_peer ARGS...: tests/peers/accept_count.py 8080 ARGS in namespace b, its
# log in $LAB_DIR/peer.out; returns once it listens.
count_peer() {
	lab_bg b peer.out "$PY" "$PEER" 8080 "$@"
	wait_until 5 lab_listening b 8080 || fail "the peer does not listen: $(cat "$LAB_DIR/peer.out")"
}

# peer_counter NAME: an nstat counter of namespace b, absolute (history untouched).
peer_counter() {
	lab_b nstat -saz "$1" | awk -v n="$1" '$1 == n { print $2 }'
}

# the handshake lines of hs's JSON output
handshakes() {
	jqo "select(.type == \"handshake\")$1"
}

@test "count: 200 handshakes with --close rst, the peer's accept loop sees 200, no guard left" {
	count_peer
	hs_a connect "$LAB_ADDR_B" 8080 --count 200 --close rst --json
	assert_success
	assert_all_json
	local res
	res=$(result)
	expect "$res" outcome established
	expect "$res" exit 0
	[[ $(jq '.handshakes.established' <<<"$res") == 200 ]] || fail "hs does not say 200 established: $res"
	(($(handshakes | wc -l) == 200)) || fail "not one handshake line per connection: $output"
	# ports: 200 different ones (none reused while its handshake ran)
	(($(handshakes '| .sport' | sort -u | wc -l) == 200)) || fail "the 200 handshakes did not use 200 ports"
	# the peer's program accepted exactly 200
	wait_until 5 peer_said '^accepted 200$'
	run ! peer_said '^accepted 201$'
	assert_no_guard_left
}

@test "count: --close fin, the peer reads 20 EOFs and keeps no connection open" {
	count_peer --eof
	hs_a connect "$LAB_ADDR_B" 8080 --count 20 --close fin --time-wait 0.2 --json -q
	assert_success
	((${#lines[@]} == 1)) || fail "-q --json prints only the result line: $output"
	[[ $(jq '.handshakes.established' <<<"$output") == 20 ]] || fail "not 20 established: $output"
	wait_until 5 peer_said '^eof 20$'
	# the peer closed its side too (hs answered its FIN): nothing left but TIME-WAIT
	local left
	left=$(lab_conns b 8080 | awk '$1 != "TIME-WAIT"')
	[[ -z $left ]] || fail "the peer still has connections: $left"
	assert_no_guard_left
}

@test "count: --close none fills a small backlog, hs reports the SYN cookies nstat counts" {
	lab_b sysctl -qw net.ipv4.tcp_syncookies=1
	count_peer --backlog 4 --no-accept
	local before after
	before=$(peer_counter TcpExtSyncookiesSent)
	hs_a connect "$LAB_ADDR_B" 8080 --count 20 --close none --sport-range 41000-41099 --json
	after=$(peer_counter TcpExtSyncookiesSent)
	assert_success
	local res
	res=$(result)
	expect "$res" outcome syn-ack
	local cookies synacks
	cookies=$(jq '.handshakes.syncookies' <<<"$res")
	synacks=$(jq '.handshakes.cookie_synacks' <<<"$res")
	((cookies > 0)) || fail "hs saw no SYN cookie: $res"
	# every cookie SYN,ACK the peer sent (the probes' answers too), hs counted
	((after - before == synacks)) || fail "the peer sent $((after - before)) cookies, hs counted $synacks: $res"
	# the first connections found room in the backlog: no cookie; the last did not
	[[ $(handshakes '| select(.n == 1) | .syncookie') == false ]] || fail "the first handshake is called a cookie: $output"
	[[ $(handshakes '| select(.n == 20) | .syncookie') == true ]] || fail "the last handshake is not a cookie: $output"
	# no port twice: a reused 4-tuple would meet the peer's half-open one
	(($(handshakes '| .sport' | sort -u | wc -l) == 20)) || fail "a port was used twice"
	assert_no_guard_left
}

@test "count: --close keep leaves 3 connections ESTABLISHED, each kept with its own guard, for hs rst" {
	count_peer --eof # holds each connection open until EOF (or our RST)
	hs_a connect "$LAB_ADDR_B" 8080 --count 3 --close keep --state-dir "$STATE" --json -q
	assert_success
	[[ $(jq '.handshakes.kept' <<<"$output") == 3 ]] || fail "not 3 kept: $output"
	# the peer holds three established connections, hs's guards one table each, kept ones
	(($(lab_established b 8080 | wc -l) == 3)) || fail "the peer has: $(lab_established b 8080)"
	local tables
	tables=$(lab_hs_tables a)
	(($(grep -c '^hs_kept_' <<<"$tables") == 3)) || fail "not 3 kept tables: $tables"
	run ! grep -v '^hs_kept_' <<<"$tables"
	# each goes on with hs rst; then nothing is left, at the peer either
	local id
	for id in 1 2 3; do
		hs_a rst "$id" --state-dir "$STATE" -q
		assert_success
	done
	wait_until 5 eval '[[ -z $(lab_established b 8080) ]]'
	assert_no_guard_left
	assert_no_state_left
}

@test "count: no listener, every handshake refused, exit 1, the peer's kernel sent the RSTs" {
	local before after
	before=$(peer_counter TcpOutRsts)
	hs_a connect "$LAB_ADDR_B" 8080 --count 10 --json
	after=$(peer_counter TcpOutRsts)
	assert_failure 1
	lab_assert_hs_error refused
	local res
	res=$(result)
	expect "$res" outcome refused
	[[ $(jq '.handshakes.refused' <<<"$res") == 10 ]] || fail "not 10 refused: $res"
	((after - before >= 10)) || fail "the peer sent $((after - before)) RSTs, not 10"
	assert_no_guard_left
}

@test "count: bad input is one line on stderr, exit 2, nothing left" {
	local args
	for args in "--count 0" "--count x" "--count 1000001" "--count 2 --rate -1" "--count 2 --rate 0" \
		"--count 2 --sport-range 5-1" "--count 2 --sport-range 70000-70001" "--close none" "--step --count 2" \
		"--count 2 --isn 5" "--count 2 --sport 4000" "--count 2 --tfo" "--rate 5" "--count 2 --close wait" "--count 1001 --close keep" \
		"--count 20 --close none --sport-range 41000-41009"; do
		# shellcheck disable=SC2086
		hs_a connect "$LAB_ADDR_B" 8080 $args
		((status == 2)) || fail "$args: exit $status, not 2: $output $stderr"
		lab_assert_hs_error || fail "$args"
	done
	assert_no_guard_left
	# hs send keeps its own --count limit
	hs_a send "$LAB_ADDR_B" 8080 --count 1001
	assert_failure 2
}

@test "count: SIGINT mid-run ends it with 130, the summary, and no guard left" {
	count_peer
	hs_bg connect "$LAB_ADDR_B" 8080 --count 100000 --rate 200 --json
	wait_until 10 peer_said '^accepted 20$'
	kill -INT "$HS_PID"
	hs_finish 5
	((status == 130)) || fail "exit $status, not 130: $stderr"
	local res
	res=$(result)
	expect "$res" outcome interrupted
	expect "$res" exit 130
	local est
	est=$(jq '.handshakes.established' <<<"$res")
	((est >= 20 && est < 100000)) || fail "the summary does not count what was done: $res"
	lab_assert_hs_error SIGINT
	assert_no_guard_left
}
