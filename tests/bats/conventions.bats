#!/usr/bin/env bats
# What people expect of a Unix tool: hs help [COMMAND]; unambiguous command
# prefixes (iproute2's hs con), ambiguous ones refused with the candidates; -j as
# --json; -n accepted; --color=auto|always|never, NO_COLOR, TERM=dumb; results on
# stdout, diagnostics on stderr.
#
# Run by `make check`, or by hand as root: bats tests/bats/conventions.bats

load common

setup() {
	hs_find
	CAP=${HS_TESTS:-$BATS_TEST_DIRNAME/..}/unit/captures/lo.pcap
}

teardown() {
	[[ -z ${LAB_DIR:-} ]] || lab_teardown
	[[ -z ${EXAMPLE_LAB:-} ]] || "$HS_LAB" down "$EXAMPLE_LAB"
}

# usage2 ARGS...: hs ARGS exits 2 with one "hs: " line on stderr and nothing on stdout.
usage2() {
	run --separate-stderr "$HS" "$@"
	((status == 2)) || fail "hs $* exited $status, expected 2; stderr: $stderr"
	[[ -z $output ]] || fail "hs $* wrote on stdout: $output"
	lab_assert_hs_error
}

# has_color: $output has an ANSI SGR sequence.
has_color() {
	[[ $output == *$'\e['*m* ]]
}

# on_tty ENV... -- ARGS...: hs ARGS with stdout on a terminal (script(1)'s pty),
# in the environment ENV; the terminal's text in $output.
on_tty() {
	local env=()
	while [[ $1 != -- ]]; do env+=("$1"); shift; done
	shift
	run env -u NO_COLOR TERM=xterm "${env[@]}" script -qec "$(printf '%q ' "$HS" "$@")" /dev/null
}

@test "hs help and hs help COMMAND are --help, on stdout" {
	local want
	want=$("$HS" --help)
	run --separate-stderr "$HS" help
	assert_success
	[[ $output == "$want" && -z $stderr ]] || fail "hs help differs from hs --help (stderr: $stderr)"
	for c in connect listen fin rst send script ls; do
		want=$("$HS" "$c" --help)
		run --separate-stderr "$HS" help "$c"
		assert_success
		[[ $output == "$want" && -z $stderr ]] || fail "hs help $c differs from hs $c --help"
		[[ $output == "Usage: hs $c"* ]] || fail "hs help $c: ${lines[0]}"
	done
	run --separate-stderr "$HS" help con
	[[ $output == "$("$HS" connect --help)" ]] || fail "hs help con is not connect's help"
	run --separate-stderr "$HS" help read
	assert_success
	[[ $output == "Usage: hs -r FILE"* ]] || fail "hs help read: ${lines[0]}"
	usage2 help frob
	usage2 help s
	usage2 help connect listen
}

@test "a command may be shortened to an unambiguous prefix; an ambiguous one lists the candidates" {
	run --separate-stderr "$HS" con --help
	assert_success
	[[ $output == "$("$HS" connect --help)" ]] || fail "hs con --help is not connect's"
	usage2 s
	[[ $stderr == *ambiguous* && $stderr == *send* && $stderr == *script* ]] || fail "hs s: $stderr"
	usage2 l
	[[ $stderr == *listen* && $stderr == *ls* ]] || fail "hs l: $stderr"
	usage2 connectx
	[[ $stderr == *'unknown command'* ]] || fail "connectx: $stderr"
}

@test "hs con, -j and -n: a real handshake the peer sees, JSON on stdout" {
	hs_setup jq ss ip
	lab_peer
	hs_a -n con "$LAB_ADDR_B" 8080 --sport 40100 -j --state-dir "$STATE"
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	expect "$(result)" outcome established
	wait_until 2 peer_has_established 40100
	# -j also makes a usage error a JSON result line
	hs_a -jn connect "$LAB_ADDR_B"
	((status == 2)) || fail "exit $status"
	expect "$(result)" outcome error
	hs_a fin --state-dir "$STATE"
	assert_success
}

@test "--color=always|never|auto, NO_COLOR and TERM=dumb" {
	command -v script >/dev/null || fail "script(1) is missing (bsdutils)"
	run --separate-stderr "$HS" -r "$CAP" --color=always
	assert_success
	has_color || fail "--color=always to a pipe: no color"
	run --separate-stderr "$HS" -r "$CAP" --colour=always
	has_color || fail "--colour=always: no color"
	run --separate-stderr "$HS" -r "$CAP"
	! has_color || fail "auto to a pipe: color"
	run --separate-stderr "$HS" -r "$CAP" --color
	! has_color || fail "--color (auto) to a pipe: color"
	on_tty -- -r "$CAP"
	has_color || fail "auto on a terminal: no color: $output"
	on_tty -- -r "$CAP" --color=never
	! has_color || fail "--color=never on a terminal: color"
	on_tty -- -r "$CAP" --no-color
	! has_color || fail "--no-color on a terminal: color"
	on_tty NO_COLOR=1 -- -r "$CAP"
	! has_color || fail "NO_COLOR on a terminal: color"
	on_tty TERM=dumb -- -r "$CAP"
	! has_color || fail "TERM=dumb on a terminal: color"
	on_tty NO_COLOR=1 -- -r "$CAP" --color=always
	has_color || fail "--color=always beats NO_COLOR: no color"
	usage2 -r "$CAP" --color=sometimes
}

@test "results on stdout, diagnostics on stderr" {
	run --separate-stderr "$HS" --help
	assert_success
	[[ -n $output && -z $stderr ]] || fail "--help: stdout ${#output} bytes, stderr: $stderr"
	run --separate-stderr "$HS" --version
	[[ $output == "hs "* && -z $stderr ]] || fail "--version: $output / $stderr"
	run --separate-stderr "$HS" -r "$CAP"
	assert_success
	[[ -n $output && -z $stderr ]] || fail "-r: stderr: $stderr"
	usage2 --frob
	usage2 connect
	usage2
	run --separate-stderr "$HS" -r "$BATS_TEST_TMPDIR/none.pcap"
	((status != 0)) || fail "a missing capture succeeded"
	[[ -z $output ]] || fail "a failure wrote on stdout: $output"
	lab_assert_hs_error
}

@test "an ambiguous long-option prefix is named as such, with its candidates (exit 2)" {
	usage2 connect 198.18.0.2 80 --s
	[[ $stderr == "hs: ambiguous option --s: "* && $stderr == *--sport* && $stderr == *--send* &&
		$stderr == *--step* ]] || fail "--s: $stderr"
	usage2 connect 198.18.0.2 80 --send-=x
	[[ $stderr == "hs: ambiguous option --send-: --send-hex, --send-file"* ]] || fail "--send-=x: $stderr"
	# a unique prefix is still the option; no prefix at all is unknown
	usage2 connect 198.18.0.2 80 --retr x
	[[ $stderr == *--retries* && $stderr != *ambiguous* ]] || fail "--retr x: $stderr"
	usage2 --frobnicate
	[[ $stderr == "hs: unknown option --frobnicate"* ]] || fail "--frobnicate: $stderr"
}

@test "--color WHEN takes the next word as --color=WHEN does, also after -r (not read as a filter)" {
	local want
	run --separate-stderr "$HS" -r "$CAP" --color=always
	want=$output
	has_color || fail "--color=always: no color"
	run --separate-stderr "$HS" -r "$CAP" --color always
	assert_success
	[[ $output == "$want" ]] || fail "--color always differs from --color=always: $output $stderr"
	run --separate-stderr "$HS" --color always -r "$CAP"
	[[ $output == "$want" ]] || fail "--color always before -r: $output $stderr"
	on_tty -- -r "$CAP" --color never
	! has_color || fail "--color never on a terminal: color"
	# the filter is still taken after it
	run --separate-stderr "$HS" -r "$CAP" --color=never
	want=$output
	run --separate-stderr "$HS" -r "$CAP" --color never tcp port 8080
	assert_success
	[[ $output == "$want" ]] || fail "filter after --color never: $output $stderr"
	# and another word after a bare --color is not its value
	usage2 --color sometimes
}

# closed_pipe ARGS...: hs ARGS with stdout a pipe whose reader has gone (as after
# `hs --help | head -1` once head is done); $status and $stderr.
closed_pipe() {
	run --separate-stderr python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.run(sys.argv[1:], stdout=w).returncode % 256)' "$HS" "$@"
}

@test "help into a closed pipe (hs --help | head -1): a quiet exit, no hs: line" {
	local a
	for a in --help help "help connect" "help read" "help help" "send --help" "-r x.pcap --help"; do
		# shellcheck disable=SC2086 # the words
		closed_pipe $a
		((status == 0 || status == 141)) || fail "hs $a into a closed pipe: exit $status ($stderr)"
		[[ -z $stderr ]] || fail "hs $a into a closed pipe: stderr: $stderr"
	done
	# a real pipe the reader closes after one line
	run bash -c 'set -o pipefail; "$1" --help 2>"$2" | head -1' _ "$HS" "$BATS_TEST_TMPDIR/err"
	[[ $output == "hs "* && ! -s $BATS_TEST_TMPDIR/err ]] || fail "hs --help | head -1: $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "hs help help shows help's own usage, not the options of every command" {
	run --separate-stderr "$HS" help help
	assert_success
	[[ ${lines[0]} == "Usage: hs help [COMMAND]" ]] || fail "hs help help: ${lines[0]}"
	[[ $output != *"Options of every command"* ]] || fail "hs help help prints the common block"
	[[ $output == *"hs help read"* ]] || fail "hs help help does not name hs help read"
	run --separate-stderr "$HS" help --help
	[[ ${lines[0]} == "Usage: hs help [COMMAND]" ]] || fail "hs help --help: ${lines[0]}"
}

@test "hs ls --no-probe -w FILE is refused: nothing is sent to record (exit 2, nothing created)" {
	local f
	for f in x.pcap x.pcapng; do
		usage2 ls --no-probe -w "$BATS_TEST_TMPDIR/$f" --state-dir "$BATS_TEST_TMPDIR/store"
		[[ $stderr == *--no-probe* && $stderr == *-w* ]] || fail "$f: $stderr"
		[[ ! -e $BATS_TEST_TMPDIR/$f ]] || fail "-w $f created"
	done
}

@test "hs-lab: usage errors exit 2 with one line, as an unknown command does" {
	hs_find
	local a
	for a in "up" "up a b" "env" "down" "frob" "run" "run --frob -- true" "run --port x -- true" "up bad/name"; do
		# shellcheck disable=SC2086 # the words
		run --separate-stderr "$HS_LAB" $a
		((status == 2)) || fail "hs-lab $a: exit $status, expected 2 ($stderr)"
		[[ $stderr == "hs-lab: "* && ${#stderr_lines[@]} == 1 ]] || fail "hs-lab $a: stderr: $stderr"
		[[ -z $output ]] || fail "hs-lab $a: stdout: $output"
	done
	run --separate-stderr "$HS_LAB" env no-such-lab-$$
	((status == 1)) || fail "hs-lab env of a missing lab: exit $status (not a usage error: 1)"
}

@test "hs-lab's by-hand example (--help and hs-lab(1)) targets the port its peer serves: run as written, it connects" {
	hs_find
	command -v ss >/dev/null || fail "ss is needed (iproute2)"
	local ex line
	ex=$("$HS_LAB" --help | sed -n '/^  eval "\$(hs-lab up t1)"/,/^  hs-lab down t1/p' | sed 's/^  //')
	[[ $ex == *"hs-lab down t1" ]] || fail "no up ... down example in hs-lab --help"
	# the manual shows the same lines
	while IFS= read -r line; do
		grep -qxF -- "$line" "$BATS_TEST_DIRNAME/../../man/hs-lab.1.scd" || fail "not in hs-lab.1.scd: $line"
	done <<<"$ex"
	EXAMPLE_LAB=hsx$$
	ex=${ex//t1/$EXAMPLE_LAB}
	ex=${ex//hs-lab /\"\$HS_LAB\" }
	ex=${ex// hs connect / \"\$HS\" connect --state-dir \"\$BATS_TEST_TMPDIR/store\" }
	run --separate-stderr timeout 60 bash -c "$ex"
	assert_success
	# the peer (its report on the example's stdout) saw the connection open and close
	[[ $output == *"accepted 198.18.0.1:"* && $output == *"closed 198.18.0.1:"* ]] ||
		fail "the example's peer saw no connection: $output $stderr"
	[[ ! -e /run/netns/$EXAMPLE_LAB-a && ! -e /run/netns/$EXAMPLE_LAB-b ]] || fail "the example left its lab"
}
