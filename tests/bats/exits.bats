#!/usr/bin/env bats
# Every way hs can end leaves nothing behind: each signal that ends a process, a
# reader of its output that goes away, a full stdout or -w file, an interface that
# vanishes, SIGKILL (the next hs cleans up). After each one: no guard table of its
# own in its namespace, no state file, one line on stderr, the exit status, and
# the peer's side as expected -- checked from the peer's namespace.
#
# Run by `make check`, or by hand as root: bats tests/bats/exits.bats

load common

setup() {
	hs_setup jq nft ss ip
	PYTHON=/usr/bin/python3
}

teardown() {
	if [[ -n ${SMALL:-} ]] && mountpoint -q "$SMALL"; then
		umount "$SMALL"
	fi
	lab_teardown
}

# hs_bg_plain ARGS...: like hs_bg, but every signal at its default disposition
# (a script's background job otherwise ignores SIGINT and SIGQUIT).
hs_bg_plain() {
	ip netns exec "$LAB_A" env --default-signal "$HS" "$@" </dev/null \
		>"$LAB_DIR/hs.out" 2>"$LAB_DIR/hs.err" 3>&- &
	HS_PID=$!
	LAB_PIDS+=("$HS_PID")
}

# hs_established: the background hs shows ESTABLISHED (human lines).
hs_established() {
	grep -q 'SYN-SENT → ESTABLISHED\|SYN-SENT -> ESTABLISHED\|"to":"ESTABLISHED"' "$LAB_DIR/hs.out"
}

# peer_reset_by SPORT: the echo peer reports an RST from hs's port SPORT.
peer_reset_by() {
	peer_said "^reset $LAB_ADDR_A:$1 "
}

# stderr_one_line REGEX: hs's stderr ($LAB_DIR/hs.err) is one line "hs: ..." matching REGEX.
stderr_one_line() {
	local err
	err=$(cat "$LAB_DIR/hs.err")
	[[ $(wc -l <"$LAB_DIR/hs.err") == 1 && $err == "hs: "* ]] || fail "stderr is not one 'hs: ' line: '$err'"
	[[ $err =~ $1 ]] || fail "stderr '$err' does not match /$1/"
}

assert_clean() {
	assert_no_guard_left
	assert_no_state_left
	[[ -z $(find "$STATE" -name '.*.tmp' 2>/dev/null) ]] || fail "half-written state: $(ls -a "$STATE")"
}

@test "hs ... | true: SIGPIPE ends the run like SIGTERM: 141, one stderr line, RST to the peer, no guard" {
	lab_peer
	run --separate-stderr bash -c 'ip netns exec "$1" env --default-signal "$2" connect "$3" 8080 --sport 40000 \
		--close fin --state-dir "$4" | true; exit "${PIPESTATUS[0]}"' _ "$LAB_A" "$HS" "$LAB_ADDR_B" "$STATE"
	((status == 141)) || fail "exit $status, expected 141 (128+SIGPIPE); stderr: $stderr"
	lab_assert_hs_error 'SIGPIPE'
	assert_clean
	# the peer is not left half-open: reset by hs, or closed if hs got that far
	wait_until 5 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)"
	peer_said "^(reset|eof) $LAB_ADDR_A:40000" || fail "the peer saw: $(cat "$LAB_DIR/peer.out")"
}

@test "hs ... | head -3 while hs waits: 141, the peer gets RST, no guard" {
	# the greeting comes 0.5 s in, when head has long gone: showing it hits the closed pipe
	lab_peer --greet hello --greet-delay 0.5
	ip netns exec "$LAB_A" env --default-signal "$HS" connect "$LAB_ADDR_B" 8080 --sport 40001 --close wait \
		--timeout 5 --state-dir "$STATE" </dev/null 2>"$LAB_DIR/hs.err" 3>&- | head -3 >"$LAB_DIR/head.out" &
	local pipeline=$!
	wait_until 5 peer_reset_by 40001 || fail "no RST from hs reached the peer: $(cat "$LAB_DIR/peer.out"); hs: $(cat "$LAB_DIR/hs.err")"
	wait_until 5 lab_gone "$pipeline" || fail "the pipeline still runs"
	stderr_one_line '^hs: interrupted by SIGPIPE .* in ESTABLISHED .*RST sent to the peer, guard removed$'
	[[ $(wc -l <"$LAB_DIR/head.out") == 3 ]] || fail "head got: $(cat "$LAB_DIR/head.out")"
	assert_clean
	wait_until 3 peer_has_none 8080 40001 || fail "the peer keeps: $(peer_conns 8080 40001)"
}

@test "stdout is /dev/full: exit 4 with one line naming it, nothing kept, the peer not left half-open" {
	lab_peer
	run --separate-stderr bash -c 'ip netns exec "$1" "$2" connect "$3" 8080 --sport 40002 --state-dir "$4" >/dev/full' \
		_ "$LAB_A" "$HS" "$LAB_ADDR_B" "$STATE"
	assert_failure 4
	lab_assert_hs_error '^hs: cannot write to stdout: No space left on device: stopped in (SYN-SENT|ESTABLISHED) '
	assert_clean
	# reset by hs (ESTABLISHED), or by the local kernel when the SYN,ACK comes again (SYN-SENT)
	wait_until 5 peer_has_none 8080 40002 || fail "the peer keeps: $(peer_conns 8080 40002)"
}

@test "-w /dev/full: refused at once with exit 4, no guard, no connection" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40003 -w /dev/full --state-dir "$STATE"
	assert_failure 4
	lab_assert_hs_error '^hs: cannot write /dev/full: No space left on device$'
	assert_clean
	run ! peer_said "^accepted $LAB_ADDR_A:40003"
}

@test "-w on a disk that fills mid-run: exit 4 naming the file, RST to the peer, no guard, no state" {
	lab_peer
	SMALL=$BATS_TEST_TMPDIR/small
	mkdir -p "$SMALL"
	mount -t tmpfs -o size=8k tmpfs "$SMALL" || fail "cannot mount a tmpfs"
	local data
	data=$(head -c 12000 /dev/zero | tr '\0' x)
	# 12000 bytes do not fit in 8 kB of pcap; --close keep would keep it
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40004 --send "$data" -w "$SMALL/run.pcap" --state-dir "$STATE"
	assert_failure 4
	lab_assert_hs_error "^hs: cannot write $SMALL/run.pcap: No space left on device: stopped in ESTABLISHED .*RST sent to the peer, guard removed\$"
	assert_clean
	wait_until 3 peer_reset_by 40004 || fail "the peer saw: $(cat "$LAB_DIR/peer.out")"
	wait_until 3 peer_has_none 8080 40004 || fail "the peer keeps: $(peer_conns 8080 40004)"
	# what was written is a readable capture up to the last whole packet
	run tcpdump -nr "$SMALL/run.pcap"
	assert_success
}

@test "every signal that ends a process ends the run cleanly: 128+N, its name, RST to the peer, no guard" {
	lab_peer
	local sig num sport=40010
	for sig in HUP INT QUIT PIPE ALRM TERM USR1 USR2 XCPU XFSZ VTALRM PROF; do
		num=$(kill -l "$sig")
		hs_bg_plain connect "$LAB_ADDR_B" 8080 --sport "$sport" --close wait --timeout 5 --state-dir "$STATE"
		wait_until 3 hs_established || fail "SIG$sig: hs did not get ESTABLISHED: $(cat "$LAB_DIR/hs.err")"
		wait_until 2 peer_has_established "$sport"
		kill "-$sig" "$HS_PID"
		hs_finish 2
		((status == 128 + num)) || fail "SIG$sig: exit $status, expected $((128 + num)); stderr: $stderr"
		stderr_one_line "^hs: interrupted by SIG$sig( \\([a-z ]+\\))? in ESTABLISHED \\(peer ESTABLISHED\\); RST sent to the peer, guard removed\$"
		assert_clean
		wait_until 3 peer_reset_by "$sport" || fail "SIG$sig: the peer saw: $(cat "$LAB_DIR/peer.out")"
		wait_until 3 peer_has_none 8080 "$sport" || fail "SIG$sig: the peer keeps: $(peer_conns 8080 "$sport")"
		sport=$((sport + 1))
	done
}

@test "a SIGTERM that comes before hs could install its handlers: 143, a result line, nothing left" {
	lab_peer
	# SIGTERM blocked and already pending when hs starts (a pending signal survives
	# exec): the earliest a signal can come. Unblocked, hs would have died silently.
	run --separate-stderr ip netns exec "$LAB_A" "$PYTHON" -c '
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
os.kill(os.getpid(), signal.SIGTERM)
os.execv(sys.argv[1], sys.argv[1:])' "$HS" connect "$LAB_ADDR_B" 8080 --sport 40030 --json --state-dir "$STATE"
	assert_failure 143
	lab_assert_hs_error 'SIGTERM'
	expect "$(result)" exit 143
	expect "$(result)" outcome interrupted
	assert_clean
	run ! peer_said "^accepted $LAB_ADDR_A:40030"
	[[ -z $(peer_conns 8080 40030) ]] || fail "the peer has: $(peer_conns 8080 40030)"
}

@test "a parent that ignores SIGHUP (nohup) is obeyed: hs goes on, and still ends cleanly on SIGTERM" {
	lab_peer
	ip netns exec "$LAB_A" env --default-signal --ignore-signal=HUP "$HS" connect "$LAB_ADDR_B" 8080 --sport 40031 \
		--close wait --timeout 5 --state-dir "$STATE" </dev/null >"$LAB_DIR/hs.out" 2>"$LAB_DIR/hs.err" 3>&- &
	HS_PID=$!
	LAB_PIDS+=("$HS_PID")
	wait_until 3 hs_established
	kill -HUP "$HS_PID"
	kill -TERM "$HS_PID"
	hs_finish 2
	assert_equal "$status" 143
	stderr_one_line '^hs: interrupted by SIGTERM '
	assert_clean
	wait_until 3 peer_reset_by 40031
}

@test "SIGKILL leaves the guard; the next hs ls removes it (and keeps a kept connection's)" {
	lab_peer
	# a kept connection: its guard must survive the cleanup
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40040 --state-dir "$STATE"
	assert_success
	local kept
	kept=$(lab_hs_tables a)
	hs_bg_plain connect "$LAB_ADDR_B" 8080 --sport 40041 --close wait --timeout 5 --state-dir "$STATE"
	wait_until 3 hs_established
	(($(lab_hs_tables a | wc -l) == 2)) || fail "tables: $(lab_hs_tables a)"
	kill -KILL "$HS_PID"
	hs_finish 2
	(($(lab_hs_tables a | wc -l) == 2)) || fail "SIGKILL: tables $(lab_hs_tables a)"
	hs_a ls --state-dir "$STATE"
	assert_success
	[[ $(lab_hs_tables a) == "$kept" ]] || fail "after hs ls: '$(lab_hs_tables a)', expected only '$kept'"
	peer_has_established 40040
}

@test "the interface vanishes while hs waits: exit 4, one line, no guard" {
	lab_peer
	hs_bg_plain connect "$LAB_ADDR_B" 8080 --sport 40050 --close wait --timeout 5 -i "$LAB_IF_A" --state-dir "$STATE"
	wait_until 3 hs_established
	ip -n "$LAB_A" link del "$LAB_IF_A"
	hs_finish 3
	assert_equal "$status" 4
	stderr_one_line 'interface'
	assert_clean
}

@test "SIGTERM at a --step prompt: the segment it waited for is not sent, 143, no guard" {
	lab_peer
	mkfifo "$LAB_DIR/enter"
	exec 5<>"$LAB_DIR/enter" # a writer that never writes: the prompt waits
	ip netns exec "$LAB_A" env --default-signal "$HS" connect "$LAB_ADDR_B" 8080 --sport 40060 --step --json \
		--state-dir "$STATE" <"$LAB_DIR/enter" >"$LAB_DIR/hs.out" 2>"$LAB_DIR/hs.err" 3>&- 5>&- &
	HS_PID=$!
	LAB_PIDS+=("$HS_PID")
	wait_until 3 grep -q 'press Enter to send SYN' "$LAB_DIR/hs.err"
	kill -TERM "$HS_PID"
	hs_finish 2
	exec 5>&-
	assert_equal "$status" 143
	[[ $(tail -n1 "$LAB_DIR/hs.err") =~ ^hs:\ interrupted\ by\ SIGTERM ]] || fail "stderr: $stderr"
	expect "$(result)" exit 143
	[[ -z $(segs '.dir == "out"') ]] || fail "hs sent after the signal: $(segs '.dir == "out"')"
	assert_clean
	run ! peer_said "^accepted $LAB_ADDR_A:40060"
}
