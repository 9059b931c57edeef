#!/usr/bin/env bats
# The command line: bad input gets exit 2 (usage) or 4 (environment), exactly one
# "hs: " line on stderr, and leaves nothing behind; help and version.
#
# Run by `make check`, or by hand as root: bats tests/bats/cli.bats
# (HS defaults to the in-tree ./hs, HS_LAB to tests/lab/hs-lab).

load common

setup() {
	hs_setup jq nft ss ip setpriv
}

teardown() {
	lab_teardown
}

# After a failure: no guard table in namespace a, no kept connection in the
# store, and the default store of namespace a untouched.
assert_nothing_left() {
	assert_no_guard_left
	assert_no_state_left
	local default
	for default in "/run/hs/netns-$(lab_ns_cookie a)" "/run/hs/ns-$(lab_ns_inode a)"; do
		[[ ! -e $default ]] || fail "the default store $default was written although --state-dir was given"
	done
}

# usage_error ARGS...: hs ARGS exits 2 with one "hs: " line and leaves nothing.
usage_error() {
	hs_a "$@"
	if ((status != 2)); then
		fail "hs $* exited $status, expected 2 (usage); stderr: $stderr"
	fi
	lab_assert_hs_error
	assert_nothing_left
}

@test "hs --help prints usage on stdout and exits 0" {
	run --separate-stderr "$HS" --help
	assert_success
	assert_output --regexp '[Uu]sage'
	assert_output --partial 'connect'
	assert_output --partial 'listen'
	[[ -z $stderr ]] || fail "stderr not empty: $stderr"
}

@test "hs connect --help describes connect's options" {
	run --separate-stderr "$HS" connect --help
	assert_success
	assert_output --partial 'HOST'
	assert_output --partial 'PORT'
	for opt in --sport --isn --window --opt --timeout --retries --close --send --no-guard; do
		[[ $output == *"$opt"* ]] || fail "hs connect --help does not mention $opt"
	done
	[[ -z $stderr ]] || fail "stderr not empty: $stderr"
}

@test "hs -V and --version print the version" {
	local version
	if [[ -f $(dirname "$HS")/config.h ]]; then
		version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$(dirname "$HS")/config.h")
	else
		version=$(sed -n 's/^AC_INIT(\[hs\], *\[\([^]]*\)\].*/\1/p' "$BATS_TEST_DIRNAME/../../configure.ac")
	fi
	[[ -n $version ]] || fail "cannot find the package version to compare with"
	for flag in -V --version; do
		run --separate-stderr "$HS" "$flag"
		assert_success
		assert_output --partial "$version"
		[[ ${#lines[@]} -ge 1 ]]
	done
}

@test "no command, unknown command, unknown option: exit 2" {
	usage_error
	usage_error frobnicate
	usage_error connect "$LAB_ADDR_B" 8080 --frobnicate --state-dir "$STATE"
	usage_error --frobnicate connect "$LAB_ADDR_B" 8080 --state-dir "$STATE"
}

@test "missing HOST or PORT: exit 2" {
	usage_error connect --state-dir "$STATE"
	usage_error connect "$LAB_ADDR_B" --state-dir "$STATE"
	usage_error connect "$LAB_ADDR_B" 8080 extra --state-dir "$STATE"
}

@test "bad ports: 0, 65536, http, -1: exit 2" {
	lab_peer
	for port in 0 65536 http -1 8080x ''; do
		usage_error connect "$LAB_ADDR_B" "$port" --state-dir "$STATE"
	done
	run ! grep -q '^accepted' "$LAB_DIR/peer.out"
}

@test "bad source ports: exit 2" {
	for port in 0 65536 http -1; do
		usage_error connect "$LAB_ADDR_B" 8080 --sport "$port" --state-dir "$STATE"
	done
}

@test "an unresolvable host: exit 2" {
	usage_error connect no-such-host.invalid 8080 --state-dir "$STATE"
	usage_error connect 198.18.0.300 8080 --state-dir "$STATE"
}

@test "bad --timeout and --retries values: exit 2" {
	for v in abc -1 -0.5 '' 1x nan; do
		usage_error connect "$LAB_ADDR_B" 8080 --timeout "$v" --state-dir "$STATE"
	done
	for v in abc -1 1.5 ''; do
		usage_error connect "$LAB_ADDR_B" 8080 --retries "$v" --state-dir "$STATE"
	done
}

@test "bad --isn and --window values: exit 2" {
	for v in abc -1 4294967296 0x; do
		usage_error connect "$LAB_ADDR_B" 8080 --isn "$v" --state-dir "$STATE"
	done
	for v in abc -1 4294967296; do
		usage_error connect "$LAB_ADDR_B" 8080 --window "$v" --state-dir "$STATE"
	done
}

@test "bad --opt lists: exit 2" {
	for v in bogus mss=abc mss=70000 wscale=x raw=300:00 raw=8:zz 'mss=1460,,sack' \
		'mss=1460,mss=1460,mss=1460,mss=1460,mss=1460,mss=1460,mss=1460,mss=1460,mss=1460,mss=1460,mss=1460'; do
		usage_error connect "$LAB_ADDR_B" 8080 --opt "$v" --state-dir "$STATE"
	done
}

@test "bad --close mode: exit 2" {
	usage_error connect "$LAB_ADDR_B" 8080 --close sometimes --state-dir "$STATE"
}

@test "-i with an interface that does not exist: exit 4" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 -i nosuchif0 --state-dir "$STATE"
	((status == 4)) || fail "exit $status, expected 4 (environment); stderr: $stderr"
	lab_assert_hs_error 'nosuchif0'
	assert_nothing_left
	run ! grep -q '^accepted' "$LAB_DIR/peer.out"
}

@test "--netns with a namespace that does not exist: exit 4" {
	run --separate-stderr "$HS" --netns "nosuchns-$$" connect "$LAB_ADDR_B" 8080 --state-dir "$STATE"
	((status == 4)) || fail "exit $status, expected 4 (environment); stderr: $stderr"
	lab_assert_hs_error "nosuchns-$$"
	assert_nothing_left
}

@test "without CAP_NET_RAW (capabilities dropped): exit 4, nothing left" {
	lab_peer
	run --separate-stderr lab_a setpriv --inh-caps=-all --bounding-set=-net_raw,-net_admin \
		"$HS" connect "$LAB_ADDR_B" 8080 --state-dir "$STATE"
	((status == 4)) || fail "exit $status, expected 4 (environment); stderr: $stderr"
	lab_assert_hs_error 'CAP_NET_RAW|permi|root'
	assert_nothing_left
	run ! grep -q '^accepted' "$LAB_DIR/peer.out"
}

@test "as user nobody: exit 4, nothing left" {
	lab_peer
	run --separate-stderr lab_a setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$HS" connect "$LAB_ADDR_B" 8080 --state-dir "$STATE"
	((status == 4)) || fail "exit $status, expected 4 (environment); stderr: $stderr"
	lab_assert_hs_error 'CAP_NET_RAW|permi|root'
	assert_nothing_left
	run ! grep -q '^accepted' "$LAB_DIR/peer.out"
}

@test "options may come before or after the command, --opt=VALUE too (GNU style)" {
	# No listener on 8081: each run ends quickly with the peer's RST.
	local args
	for args in "--json --state-dir $STATE connect $LAB_ADDR_B 8081" \
		"connect $LAB_ADDR_B 8081 --json --state-dir $STATE" \
		"connect --json $LAB_ADDR_B --state-dir=$STATE 8081 --timeout=0.5" \
		"--json connect --retries 1 $LAB_ADDR_B 8081 --state-dir $STATE"; do
		# shellcheck disable=SC2086
		hs_a $args
		((status == 1)) || fail "hs $args: exit $status, expected 1 (refused); stderr: $stderr"
		local last=${lines[${#lines[@]} - 1]}
		[[ $(jq -r .type <<<"$last") == result ]] || fail "hs $args: last line is not a JSON result: $last"
		[[ $(jq -r .outcome <<<"$last") == refused ]] || fail "hs $args: $last"
	done
	assert_nothing_left
}

# The lab's own command line, as a newcomer uses it.
@test "hs-lab demo: a handshake and a FIN teardown against the kernel peer, lab removed" {
	run --separate-stderr "$HS_LAB" demo "$HS"
	assert_success
	assert_line --index 0 --regexp '^hs-lab demo: .*SYN.*SYN,ACK.*ACK'
	assert_output --partial ESTABLISHED
	assert_output --partial TIME-WAIT
	# what the peer saw is shown, and it saw the whole connection
	[[ $stderr =~ what\ the\ peer\ in\ (hslab-[0-9]+)-b\ saw ]] || fail "no peer report: $stderr"
	local name=${BASH_REMATCH[1]}
	[[ $stderr == *"accepted 198.18.0.1:"* && $stderr == *"eof 198.18.0.1:"* ]] ||
		fail "the peer did not see a connection and its FIN: $stderr"
	[[ ! -e /run/netns/$name-a && ! -e /run/netns/$name-b ]] || fail "hs-lab left $name behind"
}

@test "hs-lab demo --ladder: the same exchange drawn as a ladder; the peer saw it" {
	run --separate-stderr "$HS_LAB" demo "$HS" --ladder --ascii
	assert_success
	assert_output --regexp 'SYN seq=0 -+>\|'
	assert_output --regexp '\|<-+ SYN,ACK seq=0 ack=1'
	assert_output --partial TIME-WAIT
	[[ $stderr == *"accepted 198.18.0.1:"* && $stderr == *"eof 198.18.0.1:"* ]] ||
		fail "the peer did not see a connection and its FIN: $stderr"
	run "$HS_LAB" demo "$HS" --no-such-option
	assert_failure 2
}

@test "hs-lab run: {peer} substituted, COMMAND's exit status kept, lab removed" {
	run --separate-stderr "$HS_LAB" run --port 8080 -- "$HS" connect '{peer}' 8081 --state-dir "$STATE"
	((status == 1)) || fail "hs-lab run exited $status, expected hs's 1 (refused): $output $stderr"
	[[ $stderr == *"hs: "*refused* ]] || fail "hs's error line is missing: $stderr"
	[[ $stderr =~ what\ the\ peer\ in\ (hslab-[0-9]+)-b\ saw ]] || fail "no peer report: $stderr"
	local name=${BASH_REMATCH[1]}
	[[ ! -e /run/netns/$name-a && ! -e /run/netns/$name-b ]] || fail "hs-lab left $name behind"
}
