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
