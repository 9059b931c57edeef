#!/usr/bin/env bats
# --step: before each segment hs would send it prompts on stderr with the segment
# in the notation and reads one line: Enter sends it, `s` skips it (lost on the
# way), `q` ends the run (exit 130, the usual cleanup), anything else replaces it
# (a segment in the notation, or field=value pairs); EOF on stdin is Enter. The
# answers come through a FIFO, one line per prompt, each written once hs's stderr
# holds that many prompts. Every test checks what the peer's kernel and program
# saw (ss in its namespace, its log, the capture there).
#
# Run by `make check`, or by hand as root: bats tests/bats/step.bats

load common

setup() {
	hs_find
	lab_require jq nft ss ip tcpdump python3
	STATE=$BATS_TEST_TMPDIR/state
	lab_setup
	CUE=$LAB_DIR/cue
}

teardown() {
	exec 7>&-
	lab_teardown
}

# cued_peer STEP...: tests/peers/cued.py on 8080 in namespace b (cue=$CUE waits
# until the test touches $CUE), log in $LAB_DIR/peer.out.
cued_peer() {
	lab_bg b peer.out /usr/bin/python3 -u "$BATS_TEST_DIRNAME/../peers/cued.py" --port 8080 "$@"
	wait_until 5 lab_listening b 8080 || fail "cued.py does not listen: $(cat "$LAB_DIR/peer.out")"
}

# step_bg ARGS...: hs ARGS in namespace a in the background, its stdin the FIFO
# $LAB_DIR/keys (ours is fd 7, opened read-write so that a write after hs has gone
# cannot kill the test with SIGPIPE), stdout hs.out, stderr hs.err. Sets HS_PID.
step_bg() {
	mkfifo "$LAB_DIR/keys"
	exec 7<>"$LAB_DIR/keys"
	ip netns exec "$LAB_A" env --default-signal=INT LC_ALL=C "$HS" "$@" <"$LAB_DIR/keys" \
		>"$LAB_DIR/hs.out" 2>"$LAB_DIR/hs.err" 3>&- 7>&- &
	HS_PID=$!
	LAB_PIDS+=("$HS_PID")
}

# prompts_at_least N: hs's stderr holds N prompts or more.
prompts_at_least() {
	(($(step_prompts "$LAB_DIR/hs.err") >= $1))
}

# answer N LINE: once prompt N is there, answer it with LINE.
answer() {
	wait_until "${3:-5}" prompts_at_least "$1" ||
		fail "no prompt $1 (hs: $(lab_gone "$HS_PID" && echo exited || echo runs))$(step_view)"
	printf '%s\n' "$2" >&7
}

# prompt_segment N: the segment prompt N shows, in the notation (its flags and
# SEQ:END(LEN) and what follows on the line).
prompt_segment() {
	grep -E -- "$STEP_PROMPT" "$LAB_DIR/hs.err" | sed -n "$1p" |
		grep -oE '(^|[[:space:]])[FSRPAUECW.]+ [0-9]+:[0-9]+\([0-9]+\).*' | head -n1 | sed -E 's/^[[:space:]]+//'
}

# answer_rest TIMEOUT [REGEX LINE]...: answer every prompt until hs exits: the
# first prompt whose segment matches the first REGEX with its LINE, the next one
# that matches the second REGEX with its LINE, and so on (each pair once, in
# order); Enter for all the others.
answer_rest() {
	local timeout=$1 n seg
	shift
	local -a pairs=("$@")
	local k=0
	n=$(step_prompts "$LAB_DIR/hs.err")
	# the prompts answered so far: every one already there when called
	local answered=${ANSWERED:-$n}
	local deadline=$((EPOCHSECONDS + timeout))
	until lab_gone "$HS_PID"; do
		n=$(step_prompts "$LAB_DIR/hs.err")
		while ((answered < n)); do
			answered=$((answered + 1))
			seg=$(prompt_segment "$answered")
			if ((k < ${#pairs[@]})) && [[ $seg =~ ${pairs[k]} ]]; then
				printf '%s\n' "${pairs[k + 1]}" >&7
				k=$((k + 2))
			else
				printf '\n' >&7
			fi
		done
		((EPOCHSECONDS < deadline)) || fail "hs still runs after $timeout s$(step_view)"
		sleep 0.02
	done
	((k >= ${#pairs[@]})) || fail "no prompt for a segment matching /${pairs[k]}/$(step_view)"
}

# assert_quit_kept FLAG WHAT: after q at the prompt for WHAT (tcpdump flag letter
# FLAG), none left, the peer and its program still have the connection, and the
# kept guard ($guard) and record stay.
assert_quit_kept() {
	lab_tcpdump_stop
	! wire_from 40000 | grep -q "Flags \\[$1" || fail "a $2 left$(step_view)"
	[[ $(peer_conns 8080 40000 | awk '{ print $1 }') == ESTAB ]] || fail "the peer: '$(peer_conns 8080 40000)'$(step_view)"
	! peer_said "^(eof|reset|closed) $LAB_ADDR_A:40000" || fail "the peer's program saw an end$(step_view)"
	[[ $(lab_hs_tables a) == "$guard" ]] || fail "guards: '$(lab_hs_tables a)', expected '$guard'"
	[[ -f $STATE/1.conn ]] || fail "the record is gone: $(ls -A "$STATE")"
}

# step_view: hs's stdout and stderr, and the peer's view, for failure messages.
step_view() {
	printf '\n--- hs stdout:\n%s\n--- hs stderr:\n%s' "$(cat "$LAB_DIR/hs.out" 2>/dev/null)" "$(cat "$LAB_DIR/hs.err" 2>/dev/null)"
	peer_view
}

# peer_state_is STATE SPORT: the peer kernel's only connection from SPORT is in STATE (ss's spelling).
peer_state_is() {
	[[ $(peer_conns 8080 "$2" | awk '{ print $1 }') == "$1" ]]
}

# out_segments: how many segments hs says it sent (its JSON in $output).
out_segments() {
	segs '.dir == "out"' | wc -l
}

@test "Enter at every prompt: the same run as without --step; each prompt shows its segment in the notation" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	step_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --step --close fin --time-wait 0.1 --json --state-dir "$STATE"
	ANSWERED=0 answer_rest 10
	hs_finish 2
	((status == 0)) || fail "exit $status$(step_view)"
	expect "$(result)" outcome closed
	# one prompt per segment sent, the first two the handshake's
	(($(step_prompts "$LAB_DIR/hs.err") == $(out_segments))) ||
		fail "$(step_prompts "$LAB_DIR/hs.err") prompts for $(out_segments) segments$(step_view)"
	[[ $(prompt_segment 1) == 'S 0:0(0)'* ]] || fail "prompt 1 shows '$(prompt_segment 1)', expected 'S 0:0(0) ...'$(step_view)"
	[[ $(prompt_segment 2) == '. 1:1(0) ack 1'* ]] || fail "prompt 2 shows '$(prompt_segment 2)', expected '. 1:1(0) ack 1 ...'$(step_view)"
	[[ $(prompt_segment 3) == 'F. 1:1(0) ack 1'* ]] || fail "prompt 3 shows '$(prompt_segment 3)', expected 'F. 1:1(0) ack 1 ...'$(step_view)"
	# the peer: handshake, our FIN, its FIN acknowledged
	wait_until 2 peer_said "^accepted $LAB_ADDR_A:40000" || fail "$(step_view)"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(step_view)"
	wait_until 2 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)$(step_view)"
	lab_tcpdump_stop
	[[ $(wire_from 40000 | sed -E 's/.*Flags \[([^]]*)\].*/\1/' | xargs) == 'S . F. .' ]] ||
		fail "hs's segments on the wire are not SYN, ACK, FIN, ACK$(step_view)"
	assert_no_guard_left
	assert_no_state_left
}

@test "EOF on stdin is Enter: connect --step </dev/null runs to the end" {
	lab_peer --no-echo
	run --separate-stderr lab_hs connect "$LAB_ADDR_B" 8080 --sport 40000 --step --close fin --time-wait 0.1 \
		--json --state-dir "$STATE" </dev/null
	((status == 0)) || fail "exit $status$(hs_view)"
	expect "$(result)" outcome closed
	(($(grep -oE -- "$STEP_PROMPT" <<<"$stderr" | wc -l) == $(out_segments))) || fail "not one prompt per segment$(hs_view)"
	printf '%s\n' "$stderr" >"$LAB_DIR/hs.err"
	[[ $(prompt_segment 1) == 'S 0:0(0)'* ]] || fail "prompt 1 shows '$(prompt_segment 1)', expected 'S 0:0(0) ...'$(hs_view)"
	[[ $(prompt_segment 2) == '. 1:1(0) ack 1'* ]] || fail "prompt 2 shows '$(prompt_segment 2)'$(hs_view)"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(hs_view)$(peer_view)"
	wait_until 2 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)"
}

# fin_in_handshake EDIT: skip our handshake ACK (the peer stays in SYN-RECV), then
# answer the ACK hs sends for the peer's resent SYN,ACK with EDIT, a FIN: the peer
# goes ESTABLISHED and at once CLOSE-WAIT, hs FIN-WAIT-1.
fin_in_handshake() {
	cued_peer "cue=$CUE" eof close
	lab_tcpdump_start tcp
	step_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --step --close wait --timeout 5 --time-wait 0.1 \
		--json --state-dir "$STATE"
	answer 1 ''
	answer 2 s
	[[ $(prompt_segment 2) == '. 1:1(0) ack 1'* ]] || fail "prompt 2 is not our ACK: '$(prompt_segment 2)'$(step_view)"
	wait_until 2 peer_state_is SYN-RECV 40000 || fail "the peer is not in SYN-RECV$(step_view)"
	# the peer resends its SYN,ACK (after ~1 s); hs prompts its ACK again
	wait_until 4 prompts_at_least 3 || fail "no third prompt$(step_view)"
	[[ $(prompt_segment 3) == '. 1:1(0) ack 1'* ]] || fail "prompt 3 is not our ACK: '$(prompt_segment 3)'$(step_view)"
	(($(wire_to 40000 | grep -c 'Flags \[S\.\]') == 2)) || fail "prompt 3 came before the peer's second SYN,ACK$(step_view)"
	answer 3 "$1"
	wait_until 3 peer_state_is CLOSE-WAIT 40000 || fail "the peer is not in CLOSE-WAIT$(step_view)"
	# through ESTABLISHED: the peer's program accepted the connection
	wait_until 2 peer_said "^accepted $LAB_ADDR_A:40000" || fail "the peer's program did not accept$(step_view)"
	wait_until 2 grep -q '"state":"FIN-WAIT-1"' "$LAB_DIR/hs.out" || fail "hs is not in FIN-WAIT-1$(step_view)"
	# the peer's program reads our FIN and closes; EOF answers the rest with Enter
	touch "$CUE"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(step_view)"
	exec 7>&-
	hs_finish 8
	((status == 0)) || fail "exit $status$(step_view)"
	expect "$(result)" outcome closed
	assert_path '.*ESTABLISHED FIN-WAIT-1 (FIN-WAIT-2 )?TIME-WAIT CLOSED'
	wait_until 2 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)$(step_view)"
	lab_tcpdump_stop
	# on the wire: SYN, then the FIN in place of the ACK (seq ISS+1, ack IRS+1)
	local syn iss irs
	syn=$(wire_from 40000 | head -n1)
	[[ $syn =~ Flags\ \[S\],\ seq\ ([0-9]+), ]] || fail "hs's first segment is not a SYN: $syn"
	iss=${BASH_REMATCH[1]}
	[[ $(wire_to 40000 | head -n1) =~ Flags\ \[S\.\],\ seq\ ([0-9]+), ]] || fail "$(peer_view)"
	irs=${BASH_REMATCH[1]}
	wire_from 40000 | sed -n 2p | grep -qE "Flags \[F\.\], seq $(seq_add "$iss" 1), ack $(seq_add "$irs" 1)," ||
		fail "hs's second segment is not FIN,ACK 1:1 ack 1$(step_view)"
	assert_no_guard_left
	assert_no_state_left
}

@test "skip the handshake ACK (peer in SYN-RECV), then flags=FA at the next ACK prompt: the peer goes to CLOSE-WAIT" {
	fin_in_handshake flags=FA
}

@test "skip the handshake ACK, then the notation 'F. 1:1(0) ack 1' at the next ACK prompt: the peer goes to CLOSE-WAIT" {
	fin_in_handshake 'F. 1:1(0) ack 1'
}

@test "skip the SYN: hs's timer resends it with a new prompt; the peer sees one SYN and the handshake" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	step_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --step --timeout 1 --close fin --time-wait 0.1 \
		--json --state-dir "$STATE"
	answer 1 s
	wait_until 4 prompts_at_least 2 || fail "no second prompt$(step_view)"
	[[ $(prompt_segment 2) == 'S 0:0(0)'* ]] || fail "prompt 2 is not the SYN again: '$(prompt_segment 2)'$(step_view)"
	# nothing left while the first prompt was skipped
	[[ -z $(wire_from 40000) ]] || fail "a segment left for the skipped SYN$(step_view)"
	ANSWERED=1 answer_rest 10
	hs_finish 2
	((status == 0)) || fail "exit $status$(step_view)"
	expect "$(result)" outcome closed
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(step_view)"
	lab_tcpdump_stop
	[[ $(wire_from 40000 | grep -c 'Flags \[S\]') == 1 ]] || fail "not one SYN on the wire$(step_view)"
}

@test "q at the ACK prompt: exit 130, outcome interrupted, the ACK never sent, the peer not left in SYN-RECV, no guard" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	step_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --step --json --state-dir "$STATE"
	answer 1 ''
	answer 2 q
	[[ $(prompt_segment 2) == '. 1:1(0) ack 1'* ]] || fail "prompt 2 is not our ACK: '$(prompt_segment 2)'$(step_view)"
	hs_finish 5
	((status == 130)) || fail "exit $status, expected 130$(step_view)"
	expect "$(result)" outcome interrupted
	[[ $(tail -n1 "$LAB_DIR/hs.err") == 'hs: '* ]] || fail "the last stderr line is not hs's message$(step_view)"
	assert_no_guard_left
	assert_no_state_left
	# without hs's RST the peer's SYN-RECV would last a minute
	wait_until 3 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)$(step_view)"
	lab_tcpdump_stop
	[[ $(wire_from 40000 | sed -E 's/.*Flags \[([^]]*)\].*/\1/' | xargs) =~ ^S\ R\.?$ ]] ||
		fail "hs's segments on the wire are not SYN then RST$(step_view)"
	! peer_said '^accepted ' || fail "the peer's program accepted$(step_view)"
}

@test "rst --step with seq=+5: the RST is not at RCV.NXT, the peer stays ESTABLISHED and answers with a challenge ACK; q when hs asks again keeps it" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	hs_keep 40000
	local guard
	guard=$(lab_hs_tables a)
	step_bg rst --step --json --state-dir "$STATE"
	# the edit replaced the call's RST, so hs asks for the RST again: q
	ANSWERED=0 answer_rest 10 '^R' 'seq=+5' '^R' q
	hs_finish 2
	local rst
	rst="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[R\], seq $(seq_add "$SND_NXT" 5),"
	lab_tcpdump_stop
	lab_tcpdump_text | grep -qE "$rst" || fail "no RST at SND.NXT+5 on the wire$(step_view)"
	[[ $(wire_from 40000 | grep -c 'Flags \[R') == 1 ]] || fail "not one RST from hs$(step_view)"
	wire_after "$rst" | grep -qE "IP $LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: Flags \[\.\], ack $SND_NXT, " ||
		fail "no challenge ACK from the peer$(step_view)"
	[[ $(peer_conns 8080 40000 | awk '{ print $1 }') == ESTAB ]] || fail "the peer: '$(peer_conns 8080 40000)'$(step_view)"
	! peer_said "^(reset|eof|closed) $LAB_ADDR_A:40000" || fail "the peer's program saw an end$(step_view)"
	((status == 130)) || fail "exit $status, expected 130 (q)$(step_view)"
	# nothing ended: the connection stays kept with its guard
	[[ $(lab_hs_tables a) == "$guard" ]] || fail "guards: '$(lab_hs_tables a)', expected '$guard'"
	[[ -f $STATE/1.conn ]] || fail "the record is gone: $(ls -A "$STATE")"
}

@test "send --step: the crafted segment edited at its prompt (seq=+200000) goes beyond the window: dup-ack, nothing delivered" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	hs_keep 40000
	step_bg send --data hello --step --json --state-dir "$STATE"
	ANSWERED=0 answer_rest 10 '^P\.' 'seq=+200000'
	hs_finish 2
	((status == 0)) || fail "exit $status$(step_view)"
	expect "$(result)" reaction dup-ack
	lab_tcpdump_stop
	wire_from 40000 | grep -qE "Flags \[P\.\], seq $(seq_add "$SND_NXT" 200000):$(seq_add "$SND_NXT" 200005), .*length 5" ||
		fail "hello is not at SND.NXT+200000 on the wire$(step_view)"
	! wire_from 40000 | grep -qE "seq $SND_NXT:$(seq_add "$SND_NXT" 5)," || fail "hello left unedited too$(step_view)"
	! peer_said '^received ' || fail "the peer's program got data$(step_view)"
	[[ $(peer_conns 8080 40000 | awk '{ print $1 }') == ESTAB ]] || fail "the peer: '$(peer_conns 8080 40000)'$(step_view)"
}

@test "fin --step, q at the FIN prompt: exit 130, no FIN sent, the connection stays kept with its guard" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	hs_keep 40000
	local guard
	guard=$(lab_hs_tables a)
	step_bg fin --step --json --state-dir "$STATE"
	ANSWERED=0 answer_rest 10 '^F' q
	hs_finish 2
	((status == 130)) || fail "exit $status, expected 130$(step_view)"
	expect "$(result)" outcome interrupted
	assert_quit_kept F FIN
}

@test "listen --step, skip the SYN,ACK: the client resends its SYN, the second SYN,ACK goes; the client connects" {
	lab_tcpdump_start tcp port 7000
	mkfifo "$LAB_DIR/keys"
	exec 7<>"$LAB_DIR/keys"
	ip netns exec "$LAB_A" env --default-signal=INT LC_ALL=C "$HS" listen 7000 --step --close wait --timeout 5 \
		--time-wait 0.1 --json --state-dir "$STATE" <"$LAB_DIR/keys" >"$LAB_DIR/hs.out" 2>"$LAB_DIR/hs.err" 3>&- 7>&- &
	HS_PID=$!
	LAB_PIDS+=("$HS_PID")
	wait_until 3 hs_listening || fail "hs does not listen$(step_view)"
	# (without our end of the FIFO: closing ours must be hs's EOF)
	{ lab_bg b client.out /usr/bin/python3 -u "$BATS_TEST_DIRNAME/../peers/textbook_client.py" --sport 45000 \
		"$LAB_ADDR_A" 7000 send=hi close; } 7>&-
	answer 1 s
	[[ $(prompt_segment 1) == 'S. 0:0(0) ack 1'* ]] || fail "prompt 1 is not the SYN,ACK: '$(prompt_segment 1)'$(step_view)"
	# the client's kernel resends its SYN (after ~1 s); hs prompts its SYN,ACK again
	wait_until 4 prompts_at_least 2 || fail "no second prompt$(step_view)"
	[[ $(prompt_segment 2) == 'S. 0:0(0) ack 1'* ]] || fail "prompt 2 is not the SYN,ACK: '$(prompt_segment 2)'$(step_view)"
	exec 7>&- # EOF: Enter for this one and the rest
	wait_until 5 grep -q '^done ok$' "$LAB_DIR/client.out" || fail "the client: $(cat "$LAB_DIR/client.out")$(step_view)"
	hs_finish 5
	((status == 0)) || fail "exit $status$(step_view)"
	expect "$(result)" outcome closed
	lab_tcpdump_stop
	local wire
	wire=$(lab_tcpdump_text)
	[[ $(grep -cE "IP $LAB_ADDR_B\.45000 > $LAB_ADDR_A\.7000: Flags \[S\]," <<<"$wire") == 2 ]] ||
		fail "the client did not send its SYN twice: $wire"
	[[ $(grep -cE "IP $LAB_ADDR_A\.7000 > $LAB_ADDR_B\.45000: Flags \[S\.\]," <<<"$wire") == 1 ]] ||
		fail "not one SYN,ACK from hs: $wire"
	# the skipped SYN,ACK left nothing: hs's first segment comes after the second SYN
	grep -E "IP ($LAB_ADDR_A\.7000 > |$LAB_ADDR_B\.45000 > $LAB_ADDR_A\.7000: Flags \[S\])" <<<"$wire" | head -n3 |
		awk 'NR < 3 && !/Flags \[S\]/ { exit 1 } NR == 3 && !/Flags \[S\.\]/ { exit 1 }' ||
		fail "not SYN, SYN, SYN,ACK: $wire"
	[[ -n $(jq -c 'select(.type == "segment" and .dir == "in" and .data == "hi")' "$LAB_DIR/hs.out") ]] ||
		fail "hs did not take in the client's data$(step_view)"
	assert_no_guard_left
}

@test "an edit hs cannot parse, from a pipe (flags=Q at the ACK prompt): exit 2, one line naming it, RST to the half-open peer, no guard" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	step_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --step --json --state-dir "$STATE"
	answer 1 ''
	answer 2 flags=Q
	hs_finish 5
	((status == 2)) || fail "exit $status, expected 2$(step_view)"
	[[ $(grep -c '^hs: ' "$LAB_DIR/hs.err") == 1 ]] || fail "not one hs: line$(step_view)"
	grep -qE '^hs: .*Q' "$LAB_DIR/hs.err" || fail "the line does not name the bad edit$(step_view)"
	expect "$(result)" exit 2
	assert_no_guard_left
	assert_no_state_left
	wait_until 3 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)$(step_view)"
	lab_tcpdump_stop
	[[ $(wire_from 40000 | sed -E 's/.*Flags \[([^]]*)\].*/\1/' | xargs) =~ ^S\ R\.?$ ]] ||
		fail "hs's segments on the wire are not SYN then RST$(step_view)"
}

@test "send --step, q at the crafted segment's prompt: exit 130, nothing crafted sent, the connection stays kept" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	hs_keep 40000
	local guard
	guard=$(lab_hs_tables a)
	step_bg send --flags R --step --json --state-dir "$STATE"
	ANSWERED=0 answer_rest 10 '^R' q
	hs_finish 2
	((status == 130)) || fail "exit $status, expected 130$(step_view)"
	expect "$(result)" outcome interrupted
	assert_quit_kept R RST
}

@test "connect --step, the handshake ACK replaced by 'R 1:1(0)': the peer drops its SYN-RECV, hs ends aborted, nothing kept" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	step_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --step --json --state-dir "$STATE"
	answer 1 ''
	answer 2 'R 1:1(0)'
	hs_finish 5
	expect "$(result)" outcome aborted
	jq -e 'has("conn") | not' <<<"$(result)" >/dev/null || fail "the result names a kept connection$(step_view)"
	assert_no_guard_left
	assert_no_state_left
	wait_until 3 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)$(step_view)"
	lab_tcpdump_stop
	local syn iss
	syn=$(wire_from 40000 | head -n1)
	[[ $syn =~ Flags\ \[S\],\ seq\ ([0-9]+), ]] || fail "hs's first segment is not a SYN: $syn"
	iss=${BASH_REMATCH[1]}
	[[ $(wire_from 40000 | sed 1d | sed -E 's/.*(Flags \[[^]]*\], seq [0-9]+),.*/\1/') == "Flags [R], seq $(seq_add "$iss" 1)" ]] ||
		fail "hs's second and last segment is not R 1:1(0)$(step_view)"
	! peer_said '^accepted ' || fail "the peer's program accepted$(step_view)"
}

@test "the SYN edited to 'S 0:0(0) win 1000 <mss 536,nop,nop,sackOK>': on the wire as written; the rest of the connection follows it (no timestamps)" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	step_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --step --send 'hello' --close fin --time-wait 0.1 --json \
		--state-dir "$STATE"
	answer 1 'S 0:0(0) win 1000 <mss 536,nop,nop,sackOK>'
	ANSWERED=1 answer_rest 10
	hs_finish 2
	((status == 0)) || fail "exit $status$(step_view)"
	expect "$(result)" outcome closed
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 5 bytes: 'hello'\$" || fail "$(step_view)"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(step_view)"
	lab_tcpdump_stop
	wire_from 40000 | head -n1 | grep -qE 'Flags \[S\], seq [0-9]+, win 1000, options \[mss 536,nop,nop,sackOK\], length 0' ||
		fail "the SYN is not as edited$(step_view)"
	# the peer offered no timestamps back, and hs sends none after
	wire_to 40000 | grep -E 'Flags \[S\.\]' | grep -qv 'TS val' || fail "the peer's SYN,ACK carries timestamps$(step_view)"
	! wire_from 40000 | sed 1d | grep -q 'TS val' || fail "hs sent timestamps the handshake did not negotiate$(step_view)"
}

@test "listen --step, the SYN,ACK edited with win=1000: the client's kernel takes that window" {
	lab_tcpdump_start tcp port 7000
	mkfifo "$LAB_DIR/keys"
	exec 7<>"$LAB_DIR/keys"
	ip netns exec "$LAB_A" env --default-signal=INT LC_ALL=C "$HS" listen 7000 --step --close wait --timeout 5 \
		--time-wait 0.1 --json --state-dir "$STATE" <"$LAB_DIR/keys" >"$LAB_DIR/hs.out" 2>"$LAB_DIR/hs.err" 3>&- 7>&- &
	HS_PID=$!
	LAB_PIDS+=("$HS_PID")
	wait_until 3 hs_listening || fail "hs does not listen$(step_view)"
	{ lab_bg b client.out /usr/bin/python3 -u "$BATS_TEST_DIRNAME/../peers/textbook_client.py" --sport 45000 \
		"$LAB_ADDR_A" 7000 state sleep=3 close; } 7>&-
	answer 1 win=1000
	exec 7>&- # the rest: Enter
	wait_until 5 grep -q '^state ' "$LAB_DIR/client.out" || fail "the client: $(cat "$LAB_DIR/client.out")$(step_view)"
	local wnd
	wnd=$(lab_b ss -Htni "sport = :45000" | grep -oE 'snd_wnd:[0-9]+' | head -n1)
	[[ $wnd == snd_wnd:1000 ]] || fail "the client's send window: '$wnd', expected snd_wnd:1000: $(lab_b ss -Htni "sport = :45000")$(step_view)"
	wait_until 5 grep -q '^done ok$' "$LAB_DIR/client.out" || fail "the client: $(cat "$LAB_DIR/client.out")$(step_view)"
	hs_finish 5
	((status == 0)) || fail "exit $status$(step_view)"
	lab_tcpdump_stop
	lab_tcpdump_text | grep -qE "IP $LAB_ADDR_A\.7000 > $LAB_ADDR_B\.45000: Flags \[S\.\], seq [0-9]+, ack [0-9]+, win 1000, " ||
		fail "the SYN,ACK on the wire does not have win 1000$(step_view)"
}

@test "send HOST PORT --step, q at the RST prompt after the SYN,ACK: exit 130; the peer is not left in SYN-RECV (hs's RST, not the kernel's a second later)" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	step_bg send "$LAB_ADDR_B" 8080 --sport 41000 --step --json --state-dir "$STATE"
	answer 1 ''
	wait_until 3 prompts_at_least 2 || fail "no second prompt$(step_view)"
	[[ $(prompt_segment 2) == 'R 1:1(0)'* ]] || fail "prompt 2 is not the RST: '$(prompt_segment 2)'$(step_view)"
	answer 2 q
	hs_finish 3
	((status == 130)) || fail "exit $status, expected 130$(step_view)"
	expect "$(result)" outcome interrupted
	assert_no_guard_left
	wait_until 3 peer_has_none 8080 41000 || fail "the peer keeps: $(peer_conns 8080 41000)$(step_view)"
	lab_tcpdump_stop
	# the RST came before the peer resent its SYN,ACK: the cleanup sent it, not the kernel after the guard went
	lab_tcpdump_text | grep -E "IP ($LAB_ADDR_A\.41000 > .*Flags \[R|$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.41000: Flags \[S\.\])" |
		awk '/Flags \[S\.\]/ { n++ } /Flags \[R/ { exit !(n == 1) } END { if (!NR) exit 1 }' ||
		fail "no RST from hs before the peer's second SYN,ACK$(step_view)"
}

@test "the handshake ACK edited to carry data ('P. 1:4(3) ack 1'): the peer reads 3 bytes, then our FIN follows them (at 4)" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	step_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --step --close fin --time-wait 0.1 --json --state-dir "$STATE"
	answer 1 ''
	answer 2 'P. 1:4(3) ack 1'
	ANSWERED=2 answer_rest 10
	hs_finish 2
	((status == 0)) || fail "exit $status$(step_view)"
	expect "$(result)" outcome closed
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 3 bytes: '\\\\x00\\\\x00\\\\x00'\$" || fail "$(step_view)"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(step_view)"
	wait_until 2 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)$(step_view)"
	lab_tcpdump_stop
	local iss
	[[ $(wire_from 40000 | head -n1) =~ Flags\ \[S\],\ seq\ ([0-9]+), ]] || fail "$(step_view)"
	iss=${BASH_REMATCH[1]}
	wire_from 40000 | sed -n 2p | grep -qE "Flags \[P\.\], seq $(seq_add "$iss" 1):$(seq_add "$iss" 4), .*length 3" ||
		fail "the second segment is not the 3 bytes at 1$(step_view)"
	wire_from 40000 | grep -qE "Flags \[F\.\], seq $(seq_add "$iss" 4)," || fail "the FIN is not at 4$(step_view)"
}

@test "the handshake ACK edited to ack=+5: the peer's listener answers RST at 6; hs takes it as not exact and its challenge ACK completes the handshake" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	step_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --step --json --state-dir "$STATE"
	answer 1 ''
	answer 2 'ack=+5'
	ANSWERED=2 answer_rest 10
	hs_finish 2
	((status == 0)) || fail "exit $status$(step_view)"
	expect "$(result)" outcome established
	wait_until 2 peer_has_established 40000 || fail "the peer: $(peer_conns 8080 40000)$(step_view)"
	wait_until 2 peer_said "^accepted $LAB_ADDR_A:40000" || fail "$(step_view)"
	lab_tcpdump_stop
	local irs
	[[ $(wire_to 40000 | head -n1) =~ Flags\ \[S\.\],\ seq\ ([0-9]+), ]] || fail "$(step_view)"
	irs=${BASH_REMATCH[1]}
	# our edited ACK, the listener's RST for it, our challenge ACK at RCV.NXT
	wire_from 40000 | sed -n 2p | grep -qE "Flags \[\.\], ack $(seq_add "$irs" 6), " || fail "the edited ACK is not ack 6$(step_view)"
	wire_to 40000 | grep -qE "Flags \[R\], seq $(seq_add "$irs" 6), " || fail "the peer did not answer with RST at 6$(step_view)"
	wire_from 40000 | sed -n 3p | grep -qE "Flags \[\.\], ack $(seq_add "$irs" 1), " || fail "no ACK at RCV.NXT after the RST$(step_view)"
	[[ -n $(jq -c 'select(.type == "segment" and .dir == "out" and .note == "challenge-ack")' "$LAB_DIR/hs.out") ]] ||
		fail "hs does not call its answer a challenge ACK$(step_view)"
	# kept, and fin closes it
	hs_a fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(hs_view)$(peer_view)"
}

@test "fin --step, the FIN edited to seq=+1: the peer holds it (a duplicate ACK), hs asks again; Enter sends the FIN at SND.NXT and the close completes" {
	lab_peer --no-echo
	lab_tcpdump_start tcp
	hs_keep 40000
	step_bg fin --step --time-wait 0.1 --json --state-dir "$STATE"
	ANSWERED=0 answer_rest 10 '^F' 'seq=+1'
	hs_finish 2
	((status == 0)) || fail "exit $status$(step_view)"
	expect "$(result)" outcome closed
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(step_view)"
	wait_until 2 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)$(step_view)"
	# two FIN prompts: the edited one and the one asked again
	(($(grep -oE "$STEP_PROMPT[^|]*: F\. 1:1\(0\)" "$LAB_DIR/hs.err" | wc -l) == 2)) || fail "not two FIN prompts$(step_view)"
	lab_tcpdump_stop
	local fins
	fins=$(wire_from 40000 | grep 'Flags \[F')
	[[ $(wc -l <<<"$fins") == 2 ]] || fail "not two FINs on the wire$(step_view)"
	head -n1 <<<"$fins" | grep -qE "seq $(seq_add "$SND_NXT" 1)," || fail "the first FIN is not at SND.NXT+1$(step_view)"
	tail -n1 <<<"$fins" | grep -qE "seq $SND_NXT," || fail "the second FIN is not at SND.NXT$(step_view)"
	# the peer answered the early FIN with a duplicate ACK, not an ACK of it
	wire_after "Flags \[F\.\], seq $(seq_add "$SND_NXT" 1)," | grep -E "IP $LAB_ADDR_B\.8080 > " | head -n1 |
		grep -qE "Flags \[\.\], ack $SND_NXT, " || fail "the peer did not dup-ACK the early FIN$(step_view)"
	assert_no_guard_left
	assert_no_state_left
}
