#!/usr/bin/env bats
# hs script: the scenario scripts of tests/scripts/ played against kernel peers,
# each with its wrong twin (which must stop at exactly its "// wrong:" line), and
# the command itself (bad input, --target, --json, --ladder, -w, timeouts, failing
# commands, unexpected segments, SIGTERM). Every passing script is judged by what
# the PEER saw too (its program's report, its ss), not by hs alone;
# after every test no guard table is left in namespace a.
#
# Run by `make check`, or by hand as root: bats tests/bats/script.bats
# shellcheck disable=SC2154 # stderr comes from bats's run --separate-stderr

load common

setup() {
	hs_setup jq nft ss ip tshark python3 timeout
	SCRIPTS=$BATS_TEST_DIRNAME/../scripts
	PYTHON=/usr/bin/python3
	[[ -x $PYTHON ]] || PYTHON=$(command -v python3)
	PEERS=${HS_PEERS:-$BATS_TEST_DIRNAME/../peers}
}

teardown() {
	local tables=''
	[[ -n ${LAB_A:-} ]] && tables=$(lab_hs_tables a)
	lab_teardown
	[[ -z $tables ]] || fail "guard tables left in namespace a: $tables"
}

# echo_peer: tests/peers/echo.py on 8080 in namespace b, report in $LAB_DIR/peer.out.
echo_peer() {
	lab_peer --port 8080
}

# cued_peer STEP...: tests/peers/cued.py on 8080 in namespace b (its cue=FILE steps
# wait for the files the scripts' command lines touch), report in $LAB_DIR/peer.out.
cued_peer() {
	lab_bg b peer.out "$PYTHON" -u "$PEERS/cued.py" --port 8080 "$@"
	wait_until 5 lab_listening b 8080 || fail "cued.py does not listen: $(cat "$LAB_DIR/peer.out")"
}

# wrong_line NAME: the line of NAME-wrong.pkt that carries the deliberate error.
wrong_line() {
	grep -n '^[^/].*// wrong: ' "$SCRIPTS/$1-wrong.pkt" | cut -d: -f1
}

# plays_wrong NAME: NAME-wrong.pkt stops with exit 1 at exactly its wrong line, and
# leaves no guard table behind.
plays_wrong() {
	local line
	line=$(wrong_line "$1")
	[[ $line =~ ^[0-9]+$ ]] || fail "$1-wrong.pkt has no single '// wrong:' line"
	lab_script_fails "$line" "$SCRIPTS/$1-wrong.pkt"
	assert_no_guard_left
}

# hs_port: hs's port, from the peer program's "accepted ADDR:PORT" line.
hs_port() {
	sed -n "s/^accepted $LAB_ADDR_A:\([0-9]*\)\$/\1/p" "$LAB_DIR/peer.out" | head -1
}

# ---- the library: each script passes, its twin fails at its line -------------------

@test "handshake.pkt: hs connects and resets; the peer accepted, then heard the reset" {
	echo_peer
	lab_script "$SCRIPTS/handshake.pkt"
	wait_until 5 peer_said "^reset $LAB_ADDR_A:[0-9]+ "
	peer_said "^accepted $LAB_ADDR_A:[0-9]+\$"
	wait_until 5 peer_has_none 8080 "$(hs_port)"
	assert_no_guard_left
}

@test "handshake-wrong.pkt stops at its wrong line" {
	echo_peer
	plays_wrong handshake
}

@test "data.pkt: data both ways; the peer received hs's 10 bytes, echoed them, heard the reset" {
	echo_peer
	lab_script "$SCRIPTS/data.pkt"
	wait_until 5 peer_said "^reset $LAB_ADDR_A:[0-9]+ "
	peer_said "^received $LAB_ADDR_A:[0-9]+ 10 bytes: '(\\\\x00){10}'\$"
	wait_until 5 peer_has_none 8080 "$(hs_port)"
}

@test "data-wrong.pkt stops at its wrong line" {
	echo_peer
	plays_wrong data
}

@test "close-active.pkt: hs's FIN first; the peer saw the end of the stream, closed on its cue, is gone" {
	cued_peer eof "cue=$LAB_DIR/cue" close
	lab_script "$SCRIPTS/close-active.pkt"
	wait_until 5 peer_said '^done ok$'
	assert_report peer.out <<-EOT
		listening [::]:8080
		accepted $LAB_ADDR_A:$(hs_port)
		eof $LAB_ADDR_A:$(hs_port) (the client sent FIN)
		cued $LAB_ADDR_A:$(hs_port) ($LAB_DIR/cue)
		closed $LAB_ADDR_A:$(hs_port)
		done ok
	EOT
	# LAST-ACK ended by hs's ACK: nothing left on the peer's side (no TIME-WAIT there).
	wait_until 5 peer_has_none 8080 "$(hs_port)"
}

@test "close-active-wrong.pkt stops at its wrong line" {
	cued_peer eof "cue=$LAB_DIR/cue" close
	plays_wrong close-active
}

@test "close-passive.pkt: the peer's program closes first; the peer ends in TIME-WAIT" {
	cued_peer close
	lab_script "$SCRIPTS/close-passive.pkt"
	wait_until 5 peer_said '^done ok$'
	wait_until 5 peer_in_time_wait 8080 "$(hs_port)"
}

@test "close-passive-wrong.pkt stops at its wrong line" {
	cued_peer close
	plays_wrong close-passive
}

@test "close-simultaneous.pkt: crossed FINs; the peer went through CLOSING to TIME-WAIT" {
	cued_peer close
	lab_script "$SCRIPTS/close-simultaneous.pkt"
	# ss in the peer's namespace, run by the script while the peer waited in CLOSING.
	grep -qE "^CLOSING .*[]:]$(hs_port)\$" "$LAB_DIR/closing.ss" ||
		fail "no CLOSING connection to hs's port in: $(cat "$LAB_DIR/closing.ss")"
	wait_until 5 peer_in_time_wait 8080 "$(hs_port)"
}

@test "close-simultaneous-wrong.pkt stops at its wrong line" {
	cued_peer close
	plays_wrong close-simultaneous
}

@test "close-half.pkt: hs's FIN, the peer still sends, then closes; its data were all acknowledged" {
	cued_peer eof "cue=$LAB_DIR/cue1" send=still-here "cue=$LAB_DIR/cue2" close
	lab_script "$SCRIPTS/close-half.pkt"
	wait_until 5 peer_said '^done ok$'
	peer_said "^eof $LAB_ADDR_A:[0-9]+ "
	peer_said "^sent $LAB_ADDR_A:[0-9]+ 10 bytes: 'still-here'\$"
	wait_until 5 peer_has_none 8080 "$(hs_port)"
}

@test "close-half-wrong.pkt stops at its wrong line" {
	cued_peer eof "cue=$LAB_DIR/cue1" send=still-here "cue=$LAB_DIR/cue2" close
	plays_wrong close-half
}

@test "listen.pkt: hs listens; the client connected, sent its 5 bytes, heard the reset" {
	lab_script "$SCRIPTS/listen.pkt"
	wait_until 5 grep -q 'ConnectionResetError' "$LAB_DIR/client.out"
	grep -q '^connected [0-9]*$' "$LAB_DIR/client.out" || fail "client: $(cat "$LAB_DIR/client.out")"
	grep -q '^sent 5$' "$LAB_DIR/client.out" || fail "client: $(cat "$LAB_DIR/client.out")"
}

@test "listen-wrong.pkt stops at its wrong line" {
	plays_wrong listen
}

@test "example.pkt (the README's): the peer received hs's line, echoed it, heard the reset" {
	echo_peer
	lab_script "$SCRIPTS/example.pkt"
	wait_until 5 peer_said "^reset $LAB_ADDR_A:[0-9]+ "
	peer_said "^received $LAB_ADDR_A:[0-9]+ 6 bytes: 'hello\\\\n'\$"
	grep -q '\[line 9\]' "$LAB_DIR/script.out" || fail "no segment tagged line 9: $(cat "$LAB_DIR/script.out")"
	assert_no_guard_left
}

@test "example-wrong.pkt (the README's) stops at its wrong line" {
	echo_peer
	plays_wrong example
	grep -q '^  why:      ack 6 expected, got 7$' "$LAB_DIR/script.err" || fail "$(cat "$LAB_DIR/script.err")"
}

# ---- the command itself -------------------------------------------------------------

# script_file NAME: write stdin to $LAB_DIR/NAME (a script for one test); prints its path.
script_file() {
	cat >"$LAB_DIR/$1"
	printf '%s\n' "$LAB_DIR/$1"
}

# The handshake, as the first three lines of the test scripts below.
HANDSHAKE='0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
+0 < . 1:1(0) ack 1 win 502'

# segment_lines FILE: the file's line numbers of its segment lines ("<" and ">"), in order.
segment_lines() {
	grep -nE '^[-+0-9.~*]+[[:space:]]+[<>][[:space:]]' "$1" | cut -d: -f1
}

# letters FLAGS: hs's JSON flags ("PSH,ACK") as the script's letters, sorted ("P.").
letters() {
	sed -e 's/SYN/S/; s/FIN/F/; s/RST/R/; s/PSH/P/; s/ACK/./; s/URG/U/; s/ECE/E/; s/CWR/W/; s/,//g' <<<"$1" |
		grep -o . | sort | tr -d '\n'
}

@test "a parse error: exit 2, one line 'hs: FILE:LINE: ...' naming the bad line, nothing sent" {
	echo_peer
	local f
	f=$(script_file bad.pkt <<-EOT
		// a script with a bad flags word on line 3
		0 < S 0:0(0) win 65535
		+0 > Q. 0:0(0) ack 1
	EOT
	)
	run --separate-stderr lab_hs script "$f" "$LAB_ADDR_B" 8080
	[ "$status" -eq 2 ] || fail "exit $status: $stderr"
	lab_assert_hs_error "^hs: $f:3: "
	[[ -z $(peer_conns 8080) ]] || fail "the peer saw a connection: $(peer_conns 8080)"
	if peer_said '^accepted'; then fail "the peer accepted a connection"; fi
}

@test "a missing script file: exit 2, one line" {
	run --separate-stderr lab_hs script "$LAB_DIR/nothing-here.pkt" "$LAB_ADDR_B" 8080
	[ "$status" -eq 2 ]
	lab_assert_hs_error "nothing-here\\.pkt"
}

@test "no HOST PORT and no --target line: exit 2, one line" {
	run --separate-stderr lab_hs script "$SCRIPTS/handshake.pkt"
	[ "$status" -eq 2 ]
	lab_assert_hs_error 'target|HOST'
}

@test "--target=HOST:PORT in the file names the peer when the command line does not" {
	echo_peer
	local f
	f=$(script_file target.pkt <<-EOT
		--tolerance_usecs=1000000
		--target=$LAB_ADDR_B:8080
		$HANDSHAKE
		+0.1 < R. 1:1(0) ack 1 win 0
	EOT
	)
	run --separate-stderr lab_hs script "$f" --json
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	expect "$(result)" remote "$LAB_ADDR_B:8080"
	wait_until 5 peer_said "^reset $LAB_ADDR_A:[0-9]+ "
	peer_said "^accepted $LAB_ADDR_A:[0-9]+\$"
}

# assert_script_lines FILE: after `lab_script FILE --json`, the result is "passed"
# and the segments shown are the file's segment lines, one each, in order: hs's
# tagged with a "<" line, the peer's with a ">" line, with the line's flags.
assert_script_lines() {
	local f=$1 n=0 ev line text dir want
	output=$(cat "$LAB_DIR/script.out")
	mapfile -t lines <"$LAB_DIR/script.out"
	expect "$(result)" outcome passed
	mapfile -t want < <(segment_lines "$f")
	while read -r ev; do
		line=$(field "$ev" script_line)
		[[ $line == "${want[n]}" ]] || fail "segment $n: script_line $line, expected ${want[n]}: $ev"
		text=$(sed -n "${line}p" "$f")
		dir=$(awk '{ print $2 }' <<<"$text")
		if [[ $(field "$ev" dir) == out ]]; then
			[[ $dir == '<' ]] || fail "hs's segment tagged with line $line, not a '<' line: $text"
		else
			[[ $dir == '>' ]] || fail "the peer's segment tagged with line $line, not a '>' line: $text"
		fi
		[[ $(letters "$(field "$ev" flags)") == $(awk '{ print $3 }' <<<"$text" | grep -o . | sort | tr -d '\n') ]] ||
			fail "flags $(field "$ev" flags) differ from line $line: $text"
		n=$((n + 1))
	done < <(jqo 'select(.type == "segment")')
	((n == ${#want[@]})) || fail "$n segments shown, the script has ${#want[@]} segment lines"
}

@test "--json: every segment carries the script line that sent or matched it; outcome passed" {
	echo_peer
	lab_script "$SCRIPTS/data.pkt" --json
	assert_script_lines "$SCRIPTS/data.pkt"
	# The peer's own view: it got the data and the reset.
	wait_until 5 peer_said "^reset $LAB_ADDR_A:[0-9]+ "
	peer_said "^received $LAB_ADDR_A:[0-9]+ 10 bytes"
}

@test "--json as the server (listen.pkt): the same, the client's SYN included" {
	lab_script "$SCRIPTS/listen.pkt" --json
	assert_script_lines "$SCRIPTS/listen.pkt"
	grep -q ConnectionResetError "$LAB_DIR/client.out" || fail "client: $(cat "$LAB_DIR/client.out")"
}

@test "--ladder: each arrow names its script line" {
	echo_peer
	lab_script "$SCRIPTS/handshake.pkt" --ladder
	local want
	for want in $(segment_lines "$SCRIPTS/handshake.pkt"); do
		grep -q "line $want\\]" "$LAB_DIR/script.out" || fail "no 'line $want' in: $(cat "$LAB_DIR/script.out")"
	done
	wait_until 5 peer_said "^reset $LAB_ADDR_A:[0-9]+ "
}

@test "-w FILE.pcapng: each packet's comment names its script line" {
	echo_peer
	lab_script "$SCRIPTS/data.pkt" -w "$LAB_DIR/run.pcapng"
	local got want
	got=$(tshark -r "$LAB_DIR/run.pcapng" -T fields -e frame.comment 2>/dev/null | grep -o '\[script line [0-9]*\]' |
		tr -dc '0-9\n')
	want=$(segment_lines "$SCRIPTS/data.pkt")
	[[ $got == "$want" ]] || fail "comments name lines ${got//$'\n'/ }, the script's segment lines are ${want//$'\n'/ }"
	[[ $(tshark -r "$LAB_DIR/run.pcapng" -T fields -e frame.number 2>/dev/null | wc -l) -eq $(wc -l <<<"$want") ]] ||
		fail "not one packet per segment line"
	wait_until 5 peer_said "^received $LAB_ADDR_A:[0-9]+ 10 bytes"
}

@test "a '*' line whose segment never comes: exit 3 after --timeout, the head names that line" {
	echo_peer
	local f
	f=$(script_file missing.pkt <<-EOT
		--tolerance_usecs=1000000
		$HANDSHAKE
		// the echo peer sends nothing unasked
		* > P. 1:2(1) ack 1
	EOT
	)
	LAB_SCRIPT_EXPECT=3 lab_script_fails 6 "$f" --timeout 2
	grep -q 'did not send' "$LAB_DIR/script.err"
	# --timeout 2, not the default 10 s, ended the wait.
	grep -qE '^  at: +[2-9]\.' "$LAB_DIR/script.err" || fail "not ended after 2 s: $(cat "$LAB_DIR/script.err")"
	# The peer had the connection (hs's handshake was real).
	peer_said "^accepted $LAB_ADDR_A:[0-9]+\$"
	assert_no_guard_left
}

@test "a failing command line: exit 1 at that line, outcome command-failed" {
	echo_peer
	local f
	f=$(script_file false.pkt <<-EOT
		--tolerance_usecs=1000000
		$HANDSHAKE
		+0 \`false\`
		+0.1 < R. 1:1(0) ack 1 win 0
	EOT
	)
	lab_script_fails 5 "$f"
	lab_script_fails 5 "$f" --json
	output=$(cat "$LAB_DIR/script.out")
	mapfile -t lines <"$LAB_DIR/script.out"
	expect "$(result)" outcome command-failed
	expect "$(result)" exit 1
	# The script stopped there: the RST of line 6 was never sent.
	peer_said "^accepted $LAB_ADDR_A:[0-9]+\$"
	if peer_said '^reset '; then fail "line 6's RST was sent after the failed command"; fi
	assert_no_guard_left
}

@test "the peer's retransmission where the script sends next: exit 1, unexpected, at that '<' line" {
	lab_peer --port 8080 --greet hello
	local f
	f=$(script_file unexpected.pkt <<-EOT
		--tolerance_usecs=1000000
		$HANDSHAKE
		// the greeting, which hs does not acknowledge...
		* > P. 1:6(5) ack 1
		// ...so the peer's kernel sends it again long before this line is due
		+5 < R. 1:1(0) ack 6 win 0
	EOT
	)
	lab_script_fails 8 "$f" --json
	grep -q 'does not expect' "$LAB_DIR/script.err"
	output=$(cat "$LAB_DIR/script.out")
	mapfile -t lines <"$LAB_DIR/script.out"
	expect "$(result)" outcome unexpected
	# The culprit is the retransmission of the greeting.
	[[ -n $(segs '.dir == "in" and .rseq == 1 and .len == 5 and .script_line == 8') ]] ||
		fail "no retransmitted greeting tagged with line 8: $output"
	peer_said "^sent $LAB_ADDR_A:[0-9]+ 5 bytes: 'hello'\$"
	assert_no_guard_left
}

# sleeps_in_b: a sleep process runs in namespace b.
sleeps_in_b() {
	local pid
	for pid in $(ip netns pids "$LAB_B"); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == sleep ]] && return 0
	done
	return 1
}

@test "SIGTERM while a script runs: exit 143, no guard table, the command's background process stopped" {
	echo_peer
	local f
	f=$(script_file term.pkt <<-EOT
		--tolerance_usecs=1000000
		$HANDSHAKE
		+0 \`ip netns exec "\$LAB_B" sleep 100 &\`
		* > P. 1:2(1) ack 1
	EOT
	)
	export LAB_B LAB_DIR
	hs_bg script "$f" "$LAB_ADDR_B" 8080 --json
	wait_until 5 sleeps_in_b
	wait_until 5 grep -q '"type":"segment".*"script_line":4' "$LAB_DIR/hs.out"
	kill -TERM "$HS_PID"
	hs_finish 5
	[ "$status" -eq 143 ] || fail "exit $status: $stderr"
	expect "$(result)" outcome interrupted
	expect "$(result)" script_line 6
	grep -q "^hs: interrupted by SIGTERM at $f:6\$" "$LAB_DIR/hs.err" || fail "$(cat "$LAB_DIR/hs.err")"
	assert_no_guard_left
	wait_until 5 eval '! sleeps_in_b'
}

# sleeping_for SECONDS: a "sleep SECONDS" process runs (anywhere).
sleeping_for() {
	pgrep -xf "sleep $1" >/dev/null
}

@test "what commands leave running outside their process group (setsid) is stopped too" {
	echo_peer
	local a=$((6000 + RANDOM % 1000)) b f
	b=$((a + 1000))
	f=$(script_file setsid.pkt <<-EOT
		0 \`setsid sleep $a &\`
		+0 \`setsid -f sleep $b\`
		$HANDSHAKE
		+0 < R 1:1(0) win 0
	EOT
	)
	lab_script "$f"
	wait_until 5 eval "! sleeping_for $a" || fail "setsid sleep $a & survived the script"
	wait_until 5 eval "! sleeping_for $b" || fail "setsid -f sleep $b survived the script"
	wait_until 5 peer_said "^reset $LAB_ADDR_A:[0-9]+ "
}

@test "a segment that came in its window, during a command that ended after it: late (exit 1), not missing" {
	lab_peer --port 8080 --greet hello
	local f
	f=$(script_file during.pkt <<-EOT
		--tolerance_usecs=100000
		$HANDSHAKE
		// the greeting comes while this command runs...
		+0 \`sleep 1.5\`
		// ...inside this window, but it counts as coming when the command ended
		0~0.6 > P. 1:6(5) ack 1
	EOT
	)
	lab_script_fails 8 "$f" --json
	grep -q 'came too late' "$LAB_DIR/script.err" || fail "$(cat "$LAB_DIR/script.err")"
	grep -q 'during the command before' "$LAB_DIR/script.err" || fail "$(cat "$LAB_DIR/script.err")"
	output=$(cat "$LAB_DIR/script.out")
	mapfile -t lines <"$LAB_DIR/script.out"
	expect "$(result)" outcome late
	peer_said "^sent $LAB_ADDR_A:[0-9]+ 5 bytes: 'hello'\$"
}

@test "hs's own state changes are seen, not assumed; the peer's rest on hs's segments until its own show them" {
	echo_peer
	lab_script "$SCRIPTS/handshake.pkt" --json
	output=$(cat "$LAB_DIR/script.out")
	mapfile -t lines <"$LAB_DIR/script.out"
	[[ -z $(jq -c 'select(.type == "state" and .side != "peer" and .basis == "assumed")' "$LAB_DIR/script.out") ]] ||
		fail "an own change marked assumed: $output"
	lab_script "$SCRIPTS/handshake.pkt"
	if grep -vE '^ *[0-9.]* *peer ' "$LAB_DIR/script.out" | grep -E '(→|->).*\(assumed\)' ; then
		fail "an own change shown as assumed: $(cat "$LAB_DIR/script.out")"
	fi
	wait_until 5 peer_said "^reset $LAB_ADDR_A:[0-9]+ "
}

@test "--isn N: hs's numbers count from it even when its first segment is no SYN (the peer's capture agrees)" {
	echo_peer
	lab_tcpdump_start tcp port 8080
	local f
	f=$(script_file isn.pkt <<-EOT
		0 < . 1:1(0) ack =12345 win 502
		+0 > R 12345:12345(0) <...>
		+0.1 < S 0:0(0) win 65535 <mss 1460>
		+0 > S. 0:0(0) ack 1 <...>
		+0 < R 1:1(0) win 0
	EOT
	)
	lab_script "$f" --isn 1000 --json
	lab_tcpdump_stop
	output=$(cat "$LAB_DIR/script.out")
	mapfile -t lines <"$LAB_DIR/script.out"
	[[ $(segs '.dir == "out" and .script_line == 1' | jq -r .rseq) == 1 ]] || fail "line 1's rseq: $output"
	[[ $(segs '.dir == "out" and .script_line == 1' | jq -r .seq) == 1001 ]] || fail "line 1's seq: $output"
	# What the peer received: seq 1001 first, then the SYN at 1000.
	[[ $(tshark -r "$LAB_DIR/capture.pcap" -Y 'ip.src == 198.18.0.1' -T fields -e tcp.seq_raw -o tcp.relative_sequence_numbers:FALSE 2>/dev/null | head -2 | tr '\n' ' ') == "1001 1000 " ]] ||
		fail "the peer's capture: $(lab_tcpdump_text)"
}

