#!/usr/bin/env bats
# TCP-MD5 (RFC 2385) with --md5-key against kernel peers holding TCP_MD5SIG keys
# (tests/peers/md5peer.py): what the peer's program read, and its kernel's MD5
# counters (nstat in namespace b), say whether hs's signatures were right.
#
# Run by `make check`, or by hand as root: bats tests/bats/md5.bats

load common

setup() {
	hs_setup jq ss ip nstat
	PYTHON=/usr/bin/python3
	[[ -x $PYTHON ]] || fail "$PYTHON is missing (the peers need it)"
	MD5PEER=$BATS_TEST_DIRNAME/../peers/md5peer.py
}

teardown() {
	lab_teardown
}

# md5_counters a|b: "Failure NotFound Unexpected", the kernel's TCP-MD5 drop counters there.
md5_counters() {
	ip netns exec "$(lab_ns "$1")" nstat -asz TcpExtTCPMD5Failure TcpExtTCPMD5NotFound TcpExtTCPMD5Unexpected |
		awk '/^TcpExtTCPMD5Failure/ { f = $2 } /^TcpExtTCPMD5NotFound/ { n = $2 } /^TcpExtTCPMD5Unexpected/ { u = $2 }
		     END { print f + 0, n + 0, u + 0 }'
}

# md5_server PORT PEER_ADDR KEY: the peer's listener with KEY for PEER_ADDR, log in
# $LAB_DIR/peer.out; returns once it listens.
md5_server() {
	lab_bg b peer.out "$PYTHON" "$MD5PEER" server "$@"
	wait_until 10 lab_listening b "$1" || fail "the MD5 peer does not listen: $(cat "$LAB_DIR/peer.out")"
}

# failures_grew BEFORE: TcpExtTCPMD5Failure in b is above BEFORE's first number.
failures_grew() {
	local now
	now=$(md5_counters b)
	((${now%% *} > ${1%% *}))
}

@test "md5: a kernel listener with the key accepts hs's signed handshake, data and FIN" {
	local before
	before=$(md5_counters b)
	md5_server 8179 "$LAB_ADDR_A" 's3cret key'
	hs_a connect "$LAB_ADDR_B" 8179 --md5-key 's3cret key' --send 'hello md5\n' --close fin --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	# the peer's side: its program read the data and the end
	wait_until 10 peer_said "^data b'hello md5\\\\n'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	wait_until 10 peer_said '^eof$' || fail "peer: $(cat "$LAB_DIR/peer.out")"
	# and its kernel dropped nothing for MD5
	[[ $(md5_counters b) == "$before" ]] || fail "MD5 counters moved: $before -> $(md5_counters b)"
	# every segment of ours carried the option; every one of the peer's was checked
	(($(segs '.dir == "out" and (.opts.md5 | not)' | wc -l) == 0)) || fail "an unsigned segment of ours: $output"
	(($(segs '.dir == "in"' | wc -l) >= 3)) || fail "too few segments from the peer: $output"
	(($(segs '.dir == "in" and .md5 != "ok"' | wc -l) == 0)) || fail "a peer segment not md5 ok: $output"
}

@test "md5: --opt md5=KEY signs as --md5-key does" {
	local before
	before=$(md5_counters b)
	md5_server 8179 "$LAB_ADDR_A" optkey
	hs_a connect "$LAB_ADDR_B" 8179 --opt mss=1400,md5=optkey,nop,wscale=7 --send 'via opt\n' --close fin --json --state-dir "$STATE"
	assert_success
	wait_until 10 peer_said "^data b'via opt\\\\n'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	wait_until 10 peer_said '^eof$' || fail "peer: $(cat "$LAB_DIR/peer.out")"
	[[ $(md5_counters b) == "$before" ]] || fail "MD5 counters moved: $before -> $(md5_counters b)"
	local syn
	syn=$(segs '.dir == "out" and .flags == "SYN"' | head -n1)
	expect "$syn" opts.mss 1400
	expect "$syn" opts.md5 true
	expect "$syn" opts.wscale 7
}

@test "md5: with a wrong key the kernel listener drops hs's SYNs (MD5 failures), hs times out" {
	local before
	before=$(md5_counters b)
	md5_server 8179 "$LAB_ADDR_A" 'the right key'
	hs_a connect "$LAB_ADDR_B" 8179 --md5-key 'a wrong key' --timeout 0.5 --retries 1 --json --state-dir "$STATE"
	assert_failure 3
	wait_until 5 failures_grew "$before" || fail "TcpExtTCPMD5Failure did not grow: $before -> $(md5_counters b)"
	! peer_said '^accepted' || fail "the peer accepted: $(cat "$LAB_DIR/peer.out")"
	[[ -z $(lab_conns b 8179) ]] || fail "the peer has a connection: $(lab_conns b 8179)"
}

@test "md5: hs listen checks a kernel client's signatures (md5 ok) and signs its own" {
	hs_bg listen 8180 --md5-key k3y --close wait --syn-timeout 20 --json --state-dir "$STATE"
	wait_until 10 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	local before
	before=$(md5_counters b)
	lab_bg b client.out "$PYTHON" "$MD5PEER" client "$LAB_ADDR_A" 8180 k3y 'to hs'
	hs_finish 20
	assert_success
	# the client's kernel took hs's SYN,ACK, ACK and FIN: its program saw the end
	wait_until 10 grep -q '^eof$' "$LAB_DIR/client.out" || fail "client: $(cat "$LAB_DIR/client.out")"
	[[ $(md5_counters b) == "$before" ]] || fail "MD5 counters moved: $before -> $(md5_counters b)"
	(($(segs '.dir == "in"' | wc -l) >= 4)) || fail "too few segments from the client: $output"
	(($(segs '.dir == "in" and .md5 != "ok"' | wc -l) == 0)) || fail "a client segment not md5 ok: $output"
	(($(segs '.dir == "in" and .len == 5 and .md5 == "ok"' | wc -l) == 1)) || fail "the data segment: $output"
}

@test "md5: hs listen with a wrong key shows the client's SYNs as md5 bad and does not answer them" {
	hs_bg listen 8180 --md5-key wrong --syn-timeout 4 --json --state-dir "$STATE"
	wait_until 10 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	lab_bg b client.out "$PYTHON" "$MD5PEER" client "$LAB_ADDR_A" 8180 right 'x'
	hs_finish 20
	assert_failure 3
	(($(segs '.dir == "in" and .flags == "SYN" and .md5 == "bad"' | wc -l) >= 1)) || fail "no md5 bad SYN: $output"
	(($(segs '.dir == "out"' | wc -l) == 0)) || fail "hs answered a badly signed SYN: $output"
	# the client's kernel never got a SYN,ACK: still SYN-SENT, or given up
	! grep -q '^connected' "$LAB_DIR/client.out" || fail "the client connected: $(cat "$LAB_DIR/client.out")"
}

@test "md5: hs listen with a key ignores an unsigned SYN (md5 missing), as the kernel does" {
	hs_bg listen 8180 --md5-key k3y --syn-timeout 4 --json --state-dir "$STATE"
	wait_until 10 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	lab_bg b client.out socat -u OPEN:/dev/null TCP:"$LAB_ADDR_A":8180,connect-timeout=3
	hs_finish 20
	assert_failure 3
	(($(segs '.dir == "in" and .flags == "SYN" and .md5 == "missing"' | wc -l) >= 1)) || fail "no md5 missing SYN: $output"
	(($(segs '.dir == "out"' | wc -l) == 0)) || fail "hs answered an unsigned SYN: $output"
	# the client never connected: socat says so
	wait_until 10 grep -q 'E ' "$LAB_DIR/client.out" || fail "socat: $(cat "$LAB_DIR/client.out")"
}

@test "md5: a kept connection keeps its key: hs fin closes it signed, the peer reads EOF" {
	local before
	before=$(md5_counters b)
	md5_server 8179 "$LAB_ADDR_A" kept-key
	hs_a connect "$LAB_ADDR_B" 8179 --md5-key kept-key --send 'kept\n' --close keep --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome established
	wait_until 10 peer_said "^data b'kept\\\\n'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	# the record is private and hs ls does not show the key
	local f
	f=$(find "$STATE" -type f -name '*.conn')
	[[ -n $f && $(stat -c %a "$f") == 600 ]] || fail "record mode: $(ls -l "$STATE")"
	grep -q '^md5_key=6b6570742d6b6579$' "$f" || fail "the key is not in the record: $(cat "$f")"
	hs_a ls --json --state-dir "$STATE"
	assert_success
	[[ $output != *kept-key* && $output != *6b6570742d6b6579* ]] || fail "hs ls shows the key: $output"
	hs_a send --data 'more\n' --json --state-dir "$STATE"
	assert_success
	wait_until 10 peer_said "^data b'more\\\\n'\$" || fail "hs send's data did not reach the peer: $(cat "$LAB_DIR/peer.out")"
	hs_a fin --json --state-dir "$STATE"
	assert_success
	wait_until 10 peer_said '^eof$' || fail "peer: $(cat "$LAB_DIR/peer.out")"
	[[ $(md5_counters b) == "$before" ]] || fail "MD5 counters moved: $before -> $(md5_counters b)"
	(($(segs '.dir == "in" and .md5 != "ok"' | wc -l) == 0)) || fail "a peer segment not md5 ok: $output"
}

@test "md5: hs send --md5-key signs only its crafted segment; the kept connection keeps its own key" {
	md5_server 8179 "$LAB_ADDR_A" own-key
	hs_a connect "$LAB_ADDR_B" 8179 --md5-key own-key --close keep --json --state-dir "$STATE"
	assert_success
	wait_until 10 peer_said '^accepted' || fail "peer: $(cat "$LAB_DIR/peer.out")"
	local f before after
	f=$(find "$STATE" -type f -name '*.conn')
	before=$(md5_counters b)
	# The probe goes signed with the kept key (answered), the crafted data with the
	# wrong one: the peer's kernel drops it as an MD5 failure.
	hs_a send --data 'bad\n' --md5-key wrong-key --json --state-dir "$STATE"
	after=$(md5_counters b)
	[[ ${after%% *} -gt ${before%% *} ]] || fail "the peer counted no MD5 failure: $before -> $after"
	! peer_said "^data b'bad" || fail "the peer took data signed with the wrong key"
	grep -q '^md5_key=6f776e2d6b6579$' "$f" || fail "the record's key changed: $(cat "$f")"
	# The next command without --md5-key signs with the kept key: the peer takes it.
	hs_a send --data 'good\n' --json --state-dir "$STATE"
	assert_success
	wait_until 10 peer_said "^data b'good\\\\n'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	hs_a rst --state-dir "$STATE"
	assert_success
}

@test "md5: options that leave no room for the signature are refused before anything is sent" {
	md5_server 8179 "$LAB_ADDR_A" room
	lab_tcpdump_start tcp port 8179
	hs_a connect "$LAB_ADDR_B" 8179 --md5-key room --opt mss=1460,sack,ts,nop,wscale=7,tfo=00112233445566778899aabbccddeeff
	assert_failure 2
	lab_assert_hs_error 'needs 20 of'
	lab_tcpdump_stop
	[[ -z $(lab_tcpdump_text) ]] || fail "something was sent: $(lab_tcpdump_text)"
	! peer_said '^accepted' || fail "the peer accepted a connection"
}

@test "md5: hs rst on a kept connection resets the peer (a signed RST: the peer's program gets ECONNRESET)" {
	local before
	before=$(md5_counters b)
	md5_server 8179 "$LAB_ADDR_A" rst-key
	hs_a connect "$LAB_ADDR_B" 8179 --md5-key rst-key --close keep --json --state-dir "$STATE"
	assert_success
	wait_until 10 peer_said '^accepted' || fail "peer: $(cat "$LAB_DIR/peer.out")"
	hs_a rst --json --state-dir "$STATE"
	assert_success
	wait_until 10 peer_said '^reset$' || fail "the peer was not reset: $(cat "$LAB_DIR/peer.out")"
	[[ $(md5_counters b) == "$before" ]] || fail "MD5 counters moved: $before -> $(md5_counters b)"
}

@test "md5: IPv6: a kernel listener with the key accepts hs's signed handshake and data" {
	local before
	before=$(md5_counters b)
	md5_server 8179 "$LAB_ADDR6_A" v6key
	hs_a connect "$LAB_ADDR6_B" 8179 --md5-key v6key --send 'six\n' --close fin --json --state-dir "$STATE"
	assert_success
	wait_until 10 peer_said "^data b'six\\\\n'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	wait_until 10 peer_said '^eof$' || fail "peer: $(cat "$LAB_DIR/peer.out")"
	[[ $(md5_counters b) == "$before" ]] || fail "MD5 counters moved: $before -> $(md5_counters b)"
	(($(segs '.dir == "in" and .md5 != "ok"' | wc -l) == 0)) || fail "a peer segment not md5 ok: $output"
}

@test "md5: full-sized segments leave room for the signature (the peer reads all 20000 bytes)" {
	local before
	before=$(md5_counters b)
	head -c 20000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/data"
	md5_server 8179 "$LAB_ADDR_A" bulk
	hs_a connect "$LAB_ADDR_B" 8179 --md5-key bulk --send-file "$BATS_TEST_TMPDIR/data" --close fin --json --state-dir "$STATE"
	assert_success
	wait_until 10 peer_said '^total 20000$' || fail "peer: $(cat "$LAB_DIR/peer.out")"
	[[ $(md5_counters b) == "$before" ]] || fail "MD5 counters moved: $before -> $(md5_counters b)"
	# no segment over the peer's MSS (1460) once the 20 bytes of NOP, NOP, MD5 (and the
	# 12 of timestamps, when the peer took them) are counted
	(($(segs '.dir == "out" and (.len + 20 + (if .opts.ts then 12 else 0 end)) > 1460' | wc -l) == 0)) ||
		fail "a segment too big for MSS 1460 with MD5: $output"
}

@test "md5: --md5-key is checked: too long, empty, and refused by ls" {
	hs_a connect "$LAB_ADDR_B" 8179 --md5-key "$(printf 'k%.0s' {1..81})"
	assert_failure 2
	lab_assert_hs_error 'key too long'
	hs_a connect "$LAB_ADDR_B" 8179 --md5-key ''
	assert_failure 2
	lab_assert_hs_error 'empty key'
	hs_a ls --md5-key x
	assert_failure 2
}
