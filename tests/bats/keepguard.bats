#!/usr/bin/env bats
# Kept connections that nobody but their owner's fin or rst loses (issue 9, parts 1
# and 2): a kept guard survives the stale-table cleanup of an hs using another
# store; an interrupted fin that sent nothing keeps record and guard; records in a
# state hs never keeps are refused and left alone; --close keep either keeps or
# leaves the peer with nothing half-open. Every test checks the peer's side (its
# ss, its program, the wire) and namespace a's nft tables.
#
# Run by `make check`, or by hand as root: bats tests/bats/keepguard.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump python3
	DEFAULT_STORE=/run/hs/netns-$(lab_ns_cookie a)
}

teardown() {
	# the default store of namespace a (keyed on its cookie, never reused)
	[[ -n ${DEFAULT_STORE:-} ]] && rm -rf -- "$DEFAULT_STORE"
	lab_teardown
}

# keep SPORT [ARGS...]: a kept connection from 198.18.0.1:SPORT to the peer's 8080
# (ARGS: e.g. --state-dir DIR).
keep() {
	local sport=$1
	shift
	hs_a connect "$LAB_ADDR_B" 8080 --sport "$sport" --json "$@"
	assert_success
	expect "$(result)" outcome established
	wait_until 2 peer_has_established "$sport"
}

# guard_of_record FILE: the guard= of a record.
guard_of_record() {
	sed -n 's/^guard=//p' "$1"
}

# has_table NAME: namespace a has the nft table inet NAME.
has_table() {
	lab_hs_tables a | grep -qx -- "$1"
}

# ls_says DIR SPORT REGEX: `hs ls --state-dir DIR` (or the default store for DIR
# "-") lists the connection from SPORT with a STATUS matching REGEX.
ls_says() {
	local args=()
	[[ $1 != - ]] && args=(--state-dir "$1")
	hs_a ls "${args[@]}"
	assert_success
	assert_line --regexp "^[0-9]+ +$LAB_ADDR_A:$2 +$LAB_ADDR_B:8080 +ESTABLISHED .* $3\$"
}

# fin_closes SPORT [ARGS...]: hs fin closes it; the peer's program sees our FIN.
fin_closes() {
	local sport=$1
	shift
	hs_a fin "$LAB_ADDR_A:$sport" --time-wait 0.1 --json "$@"
	assert_success
	expect "$(result)" outcome closed
	wait_until 2 peer_said "^eof $LAB_ADDR_A:$sport"
}

# a_sent SPORT: the capture holds segments from 198.18.0.1:SPORT.
a_sent() {
	lab_tcpdump_text | grep -qE "$LAB_ADDR_A\.$1 > $LAB_ADDR_B\.8080: "
}

@test "a kept guard survives an hs connect with the default store; hs ls with the other store finds it alive" {
	lab_peer
	local d1=$BATS_TEST_TMPDIR/d1 guard
	keep 40000 --state-dir "$d1"
	guard=$(guard_of_record "$d1/1.conn")
	has_table "$guard" || fail "no guard table $guard: $(lab_hs_tables a)"
	# the owner of that table is gone; the default store does not name it
	keep 40001
	has_table "$guard" || fail "hs connect (default store) removed the guard $guard of $d1"
	ls_says "$d1" 40000 alive
	refute_output --partial stale
	peer_has_established 40000
	has_table "$guard" || fail "hs ls removed $guard"
	# and both still close, each from its own store
	fin_closes 40000 --state-dir "$d1"
	fin_closes 40001
	assert_no_guard_left
}

@test "a kept guard of the default store survives an hs connect with --state-dir; hs ls finds it alive" {
	lab_peer
	local d2=$BATS_TEST_TMPDIR/d2 guard
	keep 40000
	guard=$(guard_of_record "$DEFAULT_STORE/1.conn")
	has_table "$guard" || fail "no guard table $guard: $(lab_hs_tables a)"
	keep 40001 --state-dir "$d2"
	has_table "$guard" || fail "hs connect --state-dir removed the guard $guard of the default store"
	# hs ls with the other store also cleans up stale tables: not this one
	hs_a ls --state-dir "$d2"
	assert_success
	has_table "$guard" || fail "hs ls --state-dir $d2 removed $guard"
	ls_says - 40000 alive
	refute_output --partial stale
	peer_has_established 40000
	fin_closes 40000
	fin_closes 40001 --state-dir "$d2"
	assert_no_guard_left
}

@test "hs fin interrupted (or timed out) while its probe waits for a silent peer: record and guard stay, fin works later" {
	lab_peer
	keep 40000 --state-dir "$STATE"
	local guard before
	guard=$(guard_of_record "$STATE/1.conn")
	before=$(cat "$STATE/1.conn")
	# the peer goes silent: its namespace drops what hs sends
	lab_nft b <<-EOF
		table inet labsilent {
			chain in { type filter hook input priority -300; policy accept; tcp dport 8080 drop; }
		}
	EOF
	hs_bg fin --json --state-dir "$STATE"
	wait_until 5 grep -q '"dir":"out"' "$LAB_DIR/hs.out"
	kill -INT "$HS_PID"
	hs_finish 5
	[[ $status == 130 ]] || fail "exit $status: $output $(cat "$LAB_DIR/hs.err")"
	expect "$(result)" outcome interrupted
	[[ -z $(jqo 'select(.type == "segment" and .dir == "out" and (.flags | test("FIN|RST")))') ]] ||
		fail "a FIN or RST went out: $output"
	[[ -f $STATE/1.conn ]] || fail "the record was removed"
	has_table "$guard" || fail "the guard $guard was removed: $(lab_hs_tables a)"
	[[ $(sed -n 's/^state=//p' "$STATE/1.conn") == ESTABLISHED ]] || fail "record: $(cat "$STATE/1.conn") (was $before)"
	peer_has_established 40000
	# the same when the probes run out (hs's own timer): exit 3, still kept
	hs_a fin --timeout 0.2 --retries 1 --json --state-dir "$STATE"
	assert_failure 3
	expect "$(result)" outcome timeout
	[[ -z $(jqo 'select(.type == "segment" and .dir == "out" and (.flags | test("FIN|RST")))') ]] ||
		fail "a FIN or RST went out: $output"
	[[ -f $STATE/1.conn ]] || fail "the record was removed after the timeout"
	has_table "$guard" || fail "the guard $guard was removed after the timeout"
	peer_has_established 40000
	# the peer answers again: the kept connection closes as ever
	lab_b nft delete table inet labsilent
	fin_closes 40000 --state-dir "$STATE"
	assert_no_guard_left
	assert_no_state_left
}

@test "records in a state hs never keeps: hs fin and hs rst refuse them, send nothing, touch nothing" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	keep 40000 --state-dir "$STATE"
	local guard st orig=$BATS_TEST_TMPDIR/orig.conn
	guard=$(guard_of_record "$STATE/1.conn")
	cp "$STATE/1.conn" "$orig"
	for st in LISTEN SYN-SENT TIME-WAIT LAST-ACK FIN-WAIT-2 CLOSING; do
		sed "s/^state=.*/state=$st/" "$orig" >"$STATE/1.conn"
		cp "$STATE/1.conn" "$BATS_TEST_TMPDIR/want.conn"
		for cmd in fin rst; do
			hs_a "$cmd" --timeout 0.5 --state-dir "$STATE"
			[[ $status == 4 ]] || fail "hs $cmd on a $st record: exit $status: $output"
			lab_assert_hs_error "$st.*(never keeps|is not one hs keeps)"
			cmp -s "$STATE/1.conn" "$BATS_TEST_TMPDIR/want.conn" || fail "hs $cmd changed the $st record"
			has_table "$guard" || fail "hs $cmd on a $st record removed the guard $guard"
		done
	done
	peer_has_established 40000
	lab_tcpdump_stop
	(($(lab_tcpdump_text | grep -cE "$LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: ") == 2)) ||
		fail "segments from hs besides SYN and ACK: $(lab_tcpdump_text)"
	run ! peer_said '^(eof|reset) '
	# restored, it closes as ever
	cp "$orig" "$STATE/1.conn"
	fin_closes 40000 --state-dir "$STATE"
	assert_no_guard_left
}

@test "--close keep with a state directory that cannot be created: exit 4 before the SYN, the peer sees nothing" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --json --state-dir /proc/nonexistent/x
	assert_failure 4
	expect "$(result)" exit 4
	[[ $(result) == *"/proc/nonexistent/x"* ]] || fail "the result does not name the directory: $output"
	[[ -z $(jqo 'select(.type == "segment")') ]] || fail "hs sent segments: $output"
	assert_no_guard_left
	# the --close modes that keep nothing do not need the store
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40001 --close rst --state-dir /proc/nonexistent/x
	assert_success
	wait_until 2 peer_said "^reset $LAB_ADDR_A:40001"
	lab_tcpdump_stop
	run ! a_sent 40000
	peer_has_none 8080 40000
}

@test "a record named 2147483647.conn in the store: keeping still works, with a free id" {
	lab_peer
	mkdir -p "$STATE"
	chmod 700 "$STATE"
	printf '# not a record\n' >"$STATE/2147483647.conn"
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --json --state-dir "$STATE"
	assert_success
	local res
	res=$(result)
	expect "$res" outcome established
	expect "$res" conn 1
	[[ -f $STATE/1.conn ]] || fail "no record 1: $(ls -A "$STATE")"
	wait_until 2 peer_has_established 40000
	fin_closes 40000 --state-dir "$STATE"
	assert_no_guard_left
}

@test "saving fails after the handshake (the store turned into a file): RST sent, nothing half-open" {
	lab_peer
	local fifo=$LAB_DIR/stdin
	mkfifo "$fifo"
	ip netns exec "$LAB_A" "$HS" connect "$LAB_ADDR_B" 8080 --sport 40000 --step --json --state-dir "$STATE" \
		<"$fifo" >"$LAB_DIR/hs.out" 2>"$LAB_DIR/hs.err" 3>&- &
	HS_PID=$!
	LAB_PIDS+=("$HS_PID")
	exec 5>"$fifo"
	wait_until 5 grep -q 'press Enter to send SYN' "$LAB_DIR/hs.err"
	echo >&5
	wait_until 5 grep -q 'press Enter to send ACK' "$LAB_DIR/hs.err"
	# the store hs prepared before the SYN is no longer a directory
	rm -rf -- "$STATE"
	: >"$STATE"
	echo >&5
	exec 5>&-
	hs_finish 5
	[[ $status == 4 ]] || fail "exit $status: $output $(cat "$LAB_DIR/hs.err")"
	[[ -n $(jqo 'select(.type == "segment" and .dir == "out" and (.flags | test("RST")))') ]] ||
		fail "no RST sent: $output"
	[[ $(result) == *"RST sent to the peer"* ]] || fail "the result does not say so: $output"
	wait_until 2 peer_said "^reset $LAB_ADDR_A:40000"
	wait_until 2 peer_has_none 8080 40000
	assert_no_guard_left
}

@test "one kept connection, one hs at a time: a second fin or rst while one works on it is refused, nothing sent" {
	lab_peer
	keep 40000 --state-dir "$STATE"
	# the first one waits for the peer's FIN (which does not come)
	hs_bg fin --wait --timeout 5 --state-dir "$STATE"
	wait_until 5 grep -q 'resuming kept connection' "$LAB_DIR/hs.out"
	lab_tcpdump_start tcp port 8080
	for cmd in fin rst; do
		hs_a "$cmd" --state-dir "$STATE"
		[[ $status == 2 ]] || fail "a second hs $cmd: exit $status: $output"
		lab_assert_hs_error "is in use: another running hs"
	done
	hs_a ls --json --state-dir "$STATE"
	[[ $(jqo 'select(.type == "conn") | .probe') == '"in-use"' ]] || fail "hs ls: $output"
	lab_tcpdump_stop
	# the refused ones sent nothing: no RST, no FIN, no probe from them
	[[ -z $(lab_tcpdump_text | grep -E 'Flags \[(R|F)') ]] || fail "a FIN or RST went out: $(lab_tcpdump_text)"
	kill -INT "$HS_PID"
	hs_finish 5
	# the interrupted first one sent no FIN or RST either: still kept, the peer still ESTABLISHED
	peer_has_established 40000
	[[ -e $STATE/1.conn ]] || fail "the record is gone"
}
