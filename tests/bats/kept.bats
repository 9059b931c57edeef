#!/usr/bin/env bats
# Kept connections: `hs connect` (--close keep) exits leaving the connection
# ESTABLISHED; `hs ls`, `hs fin` and `hs rst` continue it later as separate
# processes. What happens in between (the peer sends data, closes, resets) happens
# while no hs runs. Every test checks what the peer saw (its program's output, its
# ss, its tcpdump), not only what hs says.
#
# Run by `make check`, or by hand as root: bats tests/bats/kept.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump python3
	CUE=$LAB_DIR/cue
}

teardown() {
	lab_teardown
}

# keep SPORT: a kept connection from 198.18.0.1:SPORT to the peer's 8080.
keep() {
	hs_a connect "$LAB_ADDR_B" 8080 --sport "$1" --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome established
	wait_until 2 peer_has_established "$1"
}

# cued_peer STEP...: tests/peers/cued.py in namespace b on 8080, log in
# $LAB_DIR/peer.out; its `cue=$CUE` steps wait until the test runs `touch "$CUE"`.
cued_peer() {
	local python=/usr/bin/python3
	[[ -x $python ]] || python=$(command -v python3)
	lab_bg b peer.out "$python" -u "${HS_PEERS:-$BATS_TEST_DIRNAME/../peers}/cued.py" --port 8080 "$@"
	wait_until 5 lab_listening b 8080 || fail "cued.py does not listen: $(cat "$LAB_DIR/peer.out")"
}

# states: hs's states in order, repeats folded, one line ("ESTABLISHED FIN-WAIT-1 ...").
states() {
	path
}

# assert_none_kept: hs ls --json lists nothing.
assert_none_kept() {
	hs_a ls --json --state-dir "$STATE"
	assert_success
	[[ -z $(jqo 'select(.type == "conn")') ]] || fail "hs ls still lists: $output"
	expect "$(result)" count 0
}

# peer_sendq SPORT: the Send-Q of the peer's connection from SPORT (bytes it sent
# that nobody acknowledged, its FIN counting as one).
peer_sendq() {
	lab_b ss -Htan "sport = :8080 and dport = :$1" | awk '$1 != "LISTEN" { print $3 }'
}

# a_has_no_socket SPORT: namespace a's kernel has no socket on SPORT: hs's
# TIME-WAIT was its own, not the kernel's.
a_has_no_socket() {
	[[ -z $(lab_a ss -Htan "sport = :$1") ]]
}

# wire_from_a SPORT: what the capture holds from 198.18.0.1:SPORT, one segment a line.
wire_from_a() {
	lab_tcpdump_text | grep -E "$LAB_ADDR_A\.$1 > $LAB_ADDR_B\.8080: "
}

# sent_twice SPORT: the capture holds the peer's data to SPORT at least twice
# (sent, then retransmitted: nobody acknowledged and nobody reset).
sent_twice() {
	(($(lab_tcpdump_text | grep -cE "$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.$1: Flags \[P\.\]") >= 2))
}

# closed_meanwhile [FIN-ARGS]: the peer closes (FIN) while no hs runs; then hs fin
# (with FIN-ARGS) takes the FIN in and closes: CLOSE-WAIT -> LAST-ACK -> CLOSED.
closed_meanwhile() {
	cued_peer "cue=$CUE" shutdown eof close
	keep 40000
	touch "$CUE"
	wait_until 2 peer_said "^shutdown $LAB_ADDR_A:40000"
	# the peer's FIN is unacknowledged (FIN-WAIT-1, its FIN in the Send-Q)
	[[ $(peer_conns 8080 40000 | awk '{ print $1 }') == FIN-WAIT-1 ]] || fail "the peer: $(peer_conns 8080 40000)"
	[[ $(peer_sendq 40000) == 1 ]] || fail "the peer's Send-Q: '$(peer_sendq 40000)'"

	hs_a fin "$@" --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	assert_all_json
	local res
	res=$(result)
	expect "$res" outcome closed
	expect "$res" exit 0
	expect "$res" state CLOSED
	[[ $(states) == "ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED" ]] || fail "states: $(states): $output"
	local fin_in fin_out
	fin_in=$(jqo 'select(.type == "segment" and .dir == "in" and (.flags | test("FIN")))')
	fin_out=$(jqo 'select(.type == "segment" and .dir == "out" and (.flags | test("FIN")))')
	[[ $(wc -l <<<"$fin_in") == 1 && $(wc -l <<<"$fin_out") == 1 ]] || fail "FINs: $output"
	expect "$fin_in" rseq 1
	expect "$fin_in" state CLOSE-WAIT
	expect "$fin_out" state LAST-ACK
	expect "$fin_out" rack 2
	[[ -n $(jqo 'select(.type == "segment" and .dir == "in" and .rack == 2 and .state == "CLOSED")') ]] ||
		fail "the peer did not acknowledge our FIN: $output"

	# the peer's program saw our FIN; its kernel holds only its TIME-WAIT
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000"
	wait_until 2 peer_said '^done ok$'
	wait_until 2 peer_in_time_wait 8080 40000
	assert_none_kept
	assert_no_guard_left
	assert_no_state_left
}

# rst_kept [--ack]: the peer's program gets ECONNRESET, hs checks the peer took it.
rst_kept() {
	local flags=R # as tcpdump shows them, a regex
	[[ ${1:-} == --ack ]] && flags='R\.'
	lab_peer
	lab_tcpdump_start tcp port 8080
	keep 40000
	hs_a rst "$@" --json --state-dir "$STATE"
	assert_success
	assert_all_json
	local res rst
	res=$(result)
	expect "$res" outcome aborted
	expect "$res" exit 0
	expect "$res" state CLOSED
	rst=$(jqo 'select(.type == "segment" and .dir == "out" and (.flags | test("RST")))')
	[[ $(wc -l <<<"$rst") == 1 ]] || fail "not one RST out: $output"
	if [[ ${1:-} == --ack ]]; then
		expect "$rst" flags RST,ACK
		expect "$rst" rack 1
	else
		expect "$rst" flags RST
	fi
	expect "$rst" rseq 1
	# the probe behind it met the peer's RST: it took ours
	jqo -s -e 'map(select(.type == "segment")) | last | .dir == "in" and .flags == "RST"' >/dev/null ||
		fail "the last segment is not the peer's RST: $output"
	wait_until 2 peer_said "^reset $LAB_ADDR_A:40000"
	wait_until 2 peer_has_none 8080 40000
	lab_tcpdump_stop
	local seq
	seq=$(field "$rst" seq)
	wire_from_a 40000 | grep -qE "Flags \[$flags\], seq $seq," ||
		fail "no [$flags] seq $seq on the wire: $(lab_tcpdump_text)"
	lab_tcpdump_text | grep -qE "$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: Flags \[R\]" ||
		fail "the peer did not answer the probe with RST: $(lab_tcpdump_text)"
	assert_none_kept
	assert_no_guard_left
	assert_no_state_left
}

# rst_dropped: the peer's firewall (table labnorst) dropped an RST.
rst_dropped() {
	lab_b nft list table inet labnorst | grep -qE 'counter packets [1-9]'
}

@test "fin after connect: FIN-WAIT-1 -> TIME-WAIT -> CLOSED, the peer sees EOF and forgets it" {
	lab_peer
	keep 40000
	local guard
	guard=$(lab_hs_tables a)
	[[ $guard =~ ^hs_kept_[0-9]+_[0-9]+$ ]] || fail "guard tables after connect: '$guard'"
	run ! peer_said '^eof '

	hs_a fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	assert_all_json
	local res
	res=$(result)
	expect "$res" outcome closed
	expect "$res" message "connection closed"
	expect "$res" exit 0
	expect "$res" state CLOSED
	expect "$res" local "$LAB_ADDR_A:40000"
	expect "$res" remote "$LAB_ADDR_B:8080"
	# it resumes with a keepalive probe, which the peer answers
	local probe
	probe=$(jqo 'select(.type == "segment")' | head -n1)
	expect "$probe" dir out
	expect "$probe" note keepalive
	expect "$(jqo 'select(.type == "segment")' | sed -n 2p)" dir in
	[[ $(states) =~ ^ESTABLISHED\ FIN-WAIT-1\ (FIN-WAIT-2\ )?TIME-WAIT\ CLOSED$ ]] ||
		fail "states: $(states): $output"
	local fin
	fin=$(jqo 'select(.type == "segment" and .dir == "out" and (.flags | test("FIN")))')
	[[ $(wc -l <<<"$fin") == 1 ]] || fail "not one FIN out: $output"
	expect "$fin" rseq 1
	expect "$fin" state FIN-WAIT-1
	[[ -n $(jqo 'select(.type == "segment" and .dir == "in" and (.flags | test("FIN")) and .rack == 2)') ]] ||
		fail "no FIN from the peer acknowledging ours: $output"
	[[ -n $(jqo 'select(.type == "state" and .from == "TIME-WAIT" and .to == "CLOSED")') ]] ||
		fail "no TIME-WAIT -> CLOSED: $output"

	# the peer: its program saw EOF, its kernel has nothing left (LAST-ACK is gone)
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000"
	wait_until 2 peer_said "^closed $LAB_ADDR_A:40000"
	wait_until 2 peer_has_none 8080 40000
	# TIME-WAIT was hs's alone: a's kernel never had a socket for it
	a_has_no_socket 40000
	assert_none_kept
	assert_no_guard_left
	assert_no_state_left
}

@test "the peer sends data while no hs runs: hs fin takes it in and acknowledges it" {
	cued_peer "cue=$CUE" 'send=late data' eof outq close
	lab_tcpdump_start tcp port 8080
	keep 40000
	# hs has exited; now the peer speaks, and nobody answers (the guard drops it)
	touch "$CUE"
	wait_until 2 peer_said "^sent $LAB_ADDR_A:40000 9 bytes: 'late data'\$"
	wait_until 3 sent_twice 40000
	[[ $(peer_sendq 40000) == 9 ]] || fail "the peer's Send-Q: '$(peer_sendq 40000)'"

	hs_a fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	assert_all_json
	expect "$(result)" outcome closed
	local data end
	data=$(jqo 'select(.type == "segment" and .dir == "in" and .len > 0)')
	[[ $(wc -l <<<"$data") == 1 ]] || fail "not one data segment in: $output"
	expect "$data" data 'late data'
	expect "$data" len 9
	expect "$data" rseq 1
	end=$((($(field "$data" seq) + 9) % 4294967296))
	# hs acknowledged all of it, before or with its FIN
	[[ -n $(jqo "select(.type == \"segment\" and .dir == \"out\" and .ack == $end and .rack == 10)") ]] ||
		fail "no ACK of the data: $output"
	[[ $(states) =~ ^ESTABLISHED\ FIN-WAIT-1\ (FIN-WAIT-2\ )?TIME-WAIT\ CLOSED$ ]] ||
		fail "states: $(states): $output"

	# the peer: nothing was left unacknowledged when our FIN came
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000"
	wait_until 2 peer_said "^outq $LAB_ADDR_A:40000 0 bytes unacknowledged\$"
	wait_until 2 peer_said '^done ok$'
	wait_until 2 peer_has_none 8080 40000
	lab_tcpdump_stop
	local wire
	wire=$(wire_from_a 40000)
	grep -qE "Flags \[\.\], ack $end," <<<"$wire" || fail "the peer saw no ACK of its data: $(lab_tcpdump_text)"
	[[ $wire != *"Flags [R"* ]] || fail "an RST went to the peer: $wire"
	assert_no_guard_left
	assert_no_state_left
}

@test "the peer closes while no hs runs: hs fin takes its FIN in, CLOSE-WAIT -> LAST-ACK -> CLOSED" {
	closed_meanwhile
}

@test "the peer closes while no hs runs: hs fin --wait does the same" {
	closed_meanwhile --wait
}

@test "fin --send DATA: data and FIN in one segment, the peer reads DATA then EOF" {
	lab_peer --no-echo
	lab_tcpdump_start tcp port 8080
	keep 40000
	hs_a fin --send 'last words' --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	local out
	out=$(jqo 'select(.type == "segment" and .dir == "out" and .len > 0 and .note != "keepalive")')
	[[ $(wc -l <<<"$out") == 1 ]] || fail "not one data segment out: $output"
	expect "$out" flags FIN,PSH,ACK
	expect "$out" data 'last words'
	expect "$out" len 10
	expect "$out" rseq 1
	expect "$out" state FIN-WAIT-1
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 10 bytes: 'last words'\$"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000"
	# the data came before the EOF
	[[ $(grep -E "^(received|eof) $LAB_ADDR_A:40000" "$LAB_DIR/peer.out" | awk '{ print $1 }' | xargs) == \
		"received eof" ]] || fail "the peer: $(cat "$LAB_DIR/peer.out")"
	wait_until 2 peer_has_none 8080 40000
	lab_tcpdump_stop
	local seq wire
	seq=$(field "$out" seq)
	wire=$(wire_from_a 40000)
	grep -qE "Flags \[FP\.\], seq $seq:$(((seq + 10) % 4294967296)), .*length 10" <<<"$wire" ||
		fail "no FIN with the data on the wire: $wire"
	[[ $(grep -c 'Flags \[F' <<<"$wire") == 1 ]] || fail "more than one FIN: $wire"
	assert_no_guard_left
	assert_no_state_left
}

@test "fin --wait: hs waits for the peer's FIN, then the passive close" {
	cued_peer "cue=$CUE" shutdown eof close
	keep 40000
	local out=$BATS_TEST_TMPDIR/fin.out err=$BATS_TEST_TMPDIR/fin.err
	# (ip netns exec and env exec: $! is hs itself)
	ip netns exec "$LAB_A" env --default-signal=INT "$HS" fin --wait --time-wait 0.1 --json \
		--state-dir "$STATE" >"$out" 2>"$err" 3>&- &
	local pid=$!
	LAB_PIDS+=("$pid")
	# hs heard the peer answer its probe, and waits
	wait_until 3 grep -q '"dir":"in"' "$out"
	! lab_gone "$pid" || fail "hs fin --wait did not wait: $(cat "$out" "$err")"
	[[ -z $(jq -c 'select(.type == "segment" and .dir == "out" and (.flags | test("FIN")))' "$out") ]] ||
		fail "hs sent its FIN first: $(cat "$out")"
	peer_has_established 40000
	# now the peer closes
	touch "$CUE"
	wait_until 5 lab_gone "$pid" || fail "hs fin --wait still runs after the peer's FIN: $(cat "$out")"
	local status=0
	wait "$pid" || status=$?
	((status == 0)) || fail "exit $status: $(cat "$err")"
	[[ ! -s $err ]] || fail "stderr: $(cat "$err")"
	run cat "$out"
	expect "$(result)" outcome closed
	[[ $(states) == "ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED" ]] || fail "states: $(states): $output"
	# the FIN came while hs waited: no retransmission was asked for
	[[ -z $(jqo 'select(.note == "dup-ack")') ]] || fail "hs asked for a retransmission: $output"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000"
	wait_until 2 peer_said '^done ok$'
	wait_until 2 peer_in_time_wait 8080 40000
	assert_none_kept
	assert_no_guard_left
	assert_no_state_left
}

@test "rst: the peer's program gets ECONNRESET, its kernel forgets the connection" {
	rst_kept
}

@test "rst --ack: RST,ACK, the same for the peer" {
	rst_kept --ack
}

@test "rst that the peer never gets (its firewall drops it): outcome rejected, exit 1" {
	lab_peer
	keep 40000
	lab_nft b <<-'EOF'
		table inet labnorst {
			chain in {
				type filter hook input priority 0;
				tcp dport 8080 tcp flags & rst == rst counter drop
			}
		}
	EOF
	# (a real peer's default: it answers at most one out-of-window segment per
	# connection every net.ipv4.tcp_invalid_ratelimit ms, 500)
	hs_a rst --json --state-dir "$STATE"
	rst_dropped || fail "the RST did not reach the peer's firewall: $output"
	assert_failure 1
	lab_assert_hs_error 'did not take the RST'
	expect "$(result)" outcome rejected
	expect "$(result)" exit 1
	# the peer still has it: its ACK answered hs's probe
	[[ -n $(jqo 'select(.type == "segment" and .dir == "in" and .flags == "ACK" and .state == "CLOSED")') ]] ||
		fail "no ACK from the peer after the RST: $output"
	peer_has_established 40000
	run ! peer_said "^(reset|eof|closed) $LAB_ADDR_A:40000"
}

@test "ls lists two kept connections; fin by id and rst by LOCAL-REMOTE close the right one" {
	lab_peer
	keep 40000
	keep 40001
	hs_a ls --json --state-dir "$STATE"
	assert_success
	assert_all_json
	local conns c1 c2
	conns=$(jqo 'select(.type == "conn")')
	[[ $(wc -l <<<"$conns") == 2 ]] || fail "expected two conn lines: $output"
	expect "$(result)" count 2
	c1=$(sed -n 1p <<<"$conns") c2=$(sed -n 2p <<<"$conns")
	expect "$c1" id 1
	expect "$c1" local "$LAB_ADDR_A:40000"
	expect "$c2" id 2
	expect "$c2" local "$LAB_ADDR_A:40001"
	local c
	for c in "$c1" "$c2"; do
		expect "$c" remote "$LAB_ADDR_B:8080"
		expect "$c" state ESTABLISHED
		expect "$c" peer_state ESTABLISHED
		expect "$c" stale false
		lab_hs_tables a | grep -qx "$(field "$c" guard)" || fail "no guard table for: $c"
	done
	[[ $(field "$c1" guard) != "$(field "$c2" guard)" ]] || fail "one guard for both: $conns"
	# human form: a header and one line per connection, id first
	hs_a ls --state-dir "$STATE"
	assert_success
	((${#lines[@]} == 3)) || fail "expected a header and two lines: $output"
	[[ ${lines[1]} =~ ^1\ +$LAB_ADDR_A:40000\ +$LAB_ADDR_B:8080\ +ESTABLISHED\  ]] || fail "line 1: ${lines[1]}"
	[[ ${lines[2]} =~ ^2\ +$LAB_ADDR_A:40001\ +$LAB_ADDR_B:8080\ +ESTABLISHED\  ]] || fail "line 2: ${lines[2]}"

	# by id: only 40000 closes
	hs_a fin 1 --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	expect "$(result)" local "$LAB_ADDR_A:40000"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000"
	wait_until 2 peer_has_none 8080 40000
	peer_has_established 40001
	run ! peer_said "^(eof|reset|closed) $LAB_ADDR_A:40001"
	hs_a ls --json --state-dir "$STATE"
	[[ $(jqo -r 'select(.type == "conn") | .local') == "$LAB_ADDR_A:40001" ]] || fail "hs ls after fin 1: $output"
	[[ $(lab_hs_tables a) == "$(field "$c2" guard)" ]] || fail "guards after fin 1: $(lab_hs_tables a)"

	# by LOCAL-REMOTE: 40001 goes
	hs_a rst "$LAB_ADDR_A:40001-$LAB_ADDR_B:8080" --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome aborted
	expect "$(result)" local "$LAB_ADDR_A:40001"
	wait_until 2 peer_said "^reset $LAB_ADDR_A:40001"
	wait_until 2 peer_has_none 8080 40001
	assert_none_kept
	assert_no_guard_left
	assert_no_state_left
}

@test "without CONN the most recent; REMOTE picks the most recent to it; LOCAL names one" {
	lab_peer
	keep 40000
	keep 40001
	keep 40002
	hs_a rst --json --state-dir "$STATE"
	assert_success
	expect "$(result)" local "$LAB_ADDR_A:40002"
	wait_until 2 peer_said "^reset $LAB_ADDR_A:40002"
	hs_a fin "$LAB_ADDR_B:8080" --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" local "$LAB_ADDR_A:40001"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40001"
	peer_has_established 40000
	run ! peer_said "^(eof|reset|closed) $LAB_ADDR_A:40000"
	hs_a fin "$LAB_ADDR_A:40000" --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" local "$LAB_ADDR_A:40000"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000"
	local p
	for p in 40000 40001 40002; do
		wait_until 2 peer_has_none 8080 "$p"
	done
	assert_none_kept
	assert_no_guard_left
}

@test "stale: the guard table deleted by hand; hs ls reports it and removes it" {
	lab_peer
	keep 40000
	local guard
	guard=$(lab_hs_tables a)
	lab_a nft delete table inet "$guard"
	hs_a ls --state-dir "$STATE"
	assert_success
	assert_line --regexp "^1 +$LAB_ADDR_A:40000 +$LAB_ADDR_B:8080 +ESTABLISHED .*$guard +stale: guard gone, removed\$"
	assert_none_kept
	assert_no_state_left

	# the same with --json: "stale": true, then gone
	keep 40001
	guard=$(lab_hs_tables a)
	lab_a nft delete table inet "$guard"
	hs_a ls --json --state-dir "$STATE"
	assert_success
	local conn
	conn=$(jqo 'select(.type == "conn")')
	expect "$conn" local "$LAB_ADDR_A:40001"
	expect "$conn" guard "$guard"
	expect "$conn" stale true
	assert_none_kept
	assert_no_state_left
}

@test "stale: hs fin on a connection whose guard is gone: exit 1, nothing sent, removed" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	keep 40000
	local guard
	guard=$(lab_hs_tables a)
	lab_a nft delete table inet "$guard"
	hs_a fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_failure 1
	lab_assert_hs_error "stale.*$guard|$guard.*stale"
	expect "$(result)" exit 1
	[[ -z $(jqo 'select(.type == "segment")') ]] || fail "hs sent segments: $output"
	assert_none_kept
	assert_no_state_left
	# the peer saw the handshake only, and still has the connection
	lab_tcpdump_stop
	(($(wire_from_a 40000 | wc -l) == 2)) || fail "segments from hs besides SYN and ACK: $(lab_tcpdump_text)"
	peer_has_established 40000
	run ! peer_said '^eof '
	# hs rst: the same
	keep 40001
	guard=$(lab_hs_tables a)
	lab_a nft delete table inet "$guard"
	hs_a rst --state-dir "$STATE"
	assert_failure 1
	lab_assert_hs_error stale
	assert_none_kept
}

@test "the peer reset the connection while no hs ran: hs fin meets RST, exit 1, cleaned up" {
	cued_peer "cue=$CUE" abort
	lab_tcpdump_start tcp port 8080
	keep 40000
	touch "$CUE"
	wait_until 2 peer_said "^aborted $LAB_ADDR_A:40000"
	wait_until 2 peer_has_none 8080 40000
	hs_a fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_failure 1
	lab_assert_hs_error "^hs: connection reset by $LAB_ADDR_B:8080 \\(RST received in ESTABLISHED\\)$"
	local res in
	res=$(result)
	expect "$res" outcome reset
	expect "$res" exit 1
	expect "$res" state CLOSED
	# the probe, then the peer's RST, and nothing else
	(($(jqo 'select(.type == "segment")' | wc -l) == 2)) || fail "expected probe and RST: $output"
	expect "$(jqo 'select(.type == "segment" and .dir == "out")')" note keepalive
	in=$(jqo 'select(.type == "segment" and .dir == "in")')
	expect "$in" flags RST
	expect "$in" rseq 1
	assert_none_kept
	assert_no_guard_left
	assert_no_state_left
	lab_tcpdump_stop
	# on the wire: the peer's RST when it aborted, and again for the probe; no FIN from hs
	(($(lab_tcpdump_text | grep -cE "$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: Flags \[R") == 2)) ||
		fail "expected two RSTs from the peer: $(lab_tcpdump_text)"
	local wire
	wire=$(wire_from_a 40000)
	[[ $wire != *"Flags [F"* ]] || fail "hs sent a FIN: $wire"
}

@test "bad CONN: no such id or name, or too many arguments: exit 2, the kept one untouched" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	keep 40000
	local guard
	guard=$(lab_hs_tables a)
	hs_a fin 99 --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error 'no kept connection named 99'
	assert_output ''
	hs_a fin 99 --json --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error 'no kept connection named 99'
	expect "$(result)" exit 2
	hs_a rst "$LAB_ADDR_A:40999" --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error 'no kept connection named'
	hs_a fin a b c --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error
	hs_a rst a b c --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error
	# nothing happened to the kept connection (before hs ls, which probes it)
	lab_tcpdump_stop
	(($(wire_from_a 40000 | wc -l) == 2)) || fail "hs sent more than SYN and ACK: $(lab_tcpdump_text)"
	hs_a ls --json --state-dir "$STATE"
	[[ $(jqo -r 'select(.type == "conn") | .local') == "$LAB_ADDR_A:40000" ]] || fail "hs ls: $output"
	[[ $(jqo -r 'select(.type == "conn") | .probe') == alive ]] || fail "hs ls: $output"
	[[ $(lab_hs_tables a) == "$guard" ]] || fail "guards: $(lab_hs_tables a)"
	peer_has_established 40000
}

@test "nothing kept: hs rst and hs fin exit 2 and create no store" {
	hs_a rst --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error 'no kept connection'
	hs_a fin --json --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error 'no kept connection'
	expect "$(result)" exit 2
	hs_a ls --state-dir "$STATE"
	assert_success
	assert_output 'no kept connections'
	[[ ! -e $STATE ]] || fail "a store appeared: $(find "$STATE")"
	assert_no_guard_left
}
