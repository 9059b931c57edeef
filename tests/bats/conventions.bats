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
