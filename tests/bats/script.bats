#!/usr/bin/env bats
# hs script: the scenario scripts of tests/scripts/ played against kernel peers,
# each with its wrong twin (which must stop at exactly its "// wrong:" line), and
# the command itself (bad input, --target, --json, --ladder, -w, timeouts, failing
# commands, unexpected segments, SIGTERM). Every passing script is judged by what
# the PEER saw too (its program's report, its ss, its capture), not by hs alone;
# after every test no guard table is left in namespace a.
#
# Run by `make check`, or by hand as root: bats tests/bats/script.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump tshark python3
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
