#!/usr/bin/env bats
# Fidelity: every line hs prints is what happened, in the order it happened.
# Against the kernel's TCP in namespace b (tests/peers/textbook_server.py), each
# test checks hs's account against the peer's own: its program, its ss, the wire
# it saw, and hs's -w capture read by tshark.
#
# Run by `make check`, or by hand as root: bats tests/bats/fidelity.bats

load common

PORT=7000   # the kernel server's port
SPORT=40000 # hs's port when it connects

setup() {
	tb_setup
}

teardown() {
	exec 7>&- 2>/dev/null || true
	lab_teardown
}

# peer_state_is STATE: the peer's socket for hs's connection is in STATE (ss).
peer_state_is() {
	[[ $(peer_conns "$PORT" "$SPORT" | awk '{ print $1 }') == "$1" ]]
}

# wire_from_a: what the peer's wire saw from hs, one segment a line, "FLAGS LEN
# TSVAL TSECR".
wire_from_a() {
	tshark -r "$LAB_DIR/capture.pcap" -Y "ip.src == $LAB_ADDR_A" -T fields \
		-e tcp.flags.str -e tcp.len -e tcp.options.timestamp.tsval -e tcp.options.timestamp.tsecr 2>/dev/null
}

# assert_wire_order PCAP: hs's JSON lines come in time order, and its segment
# lines are the packets of its -w capture PCAP, in the same order, at the same
# times (to 20 us: JSON has microseconds).
assert_wire_order() {
	local pcap=$1 ours theirs
	assert_time_order
	ours=$(jqo -r -s '[.[] | select(.type == "segment")] | .[0].t as $t0 | .[]
		| "\(.dir) \(.seq) \(.ack) \(.len) \((.t - $t0) * 1000000 | round)"')
	theirs=$(tshark -r "$pcap" -T fields -e ip.src -e tcp.seq_raw -e tcp.ack_raw -e tcp.len \
		-e frame.time_relative 2>/dev/null | awk -v a="$LAB_ADDR_A" '
		{ dir = ($1 == a) ? "out" : "in"
		  printf "%s %s %s %s %d\n", dir, $2, $3, $4, $5 * 1000000 + 0.5 }')
	paste -d'|' <(printf '%s\n' "$ours") <(printf '%s\n' "$theirs") | awk -F'|' '
		{ split($1, a, " "); split($2, b, " ")
		  if (a[1] != b[1] || a[2] != b[2] || (a[3] != b[3] && a[1] == "in") || a[4] != b[4]) { print "order: " $0; bad = 1 }
		  d = a[5] - b[5]; if (d < -20 || d > 20) { print "time: " $0; bad = 1 } }
		END { exit bad }' >&2 || fail "hs's lines and its capture differ (above)"
	[[ $(wc -l <<<"$ours") == $(wc -l <<<"$theirs") ]] || fail "$(wc -l <<<"$ours") lines, $(wc -l <<<"$theirs") packets"
	# our segments in the file are the captured ones (the kernel set their IPv4 ID)
	[[ -z $(tshark -r "$pcap" -Y "ip.src == $LAB_ADDR_A && ip.id == 0" 2>/dev/null) ]] ||
		fail "rebuilt segments in the capture: $(tshark -r "$pcap" -Y "ip.id == 0" 2>/dev/null)"
}

# ---- 1. act on what has already arrived --------------------------------------------

@test "a server that greets and closes at once: hs takes the banner and FIN in before keeping" {
	tb_server send='220 hello\r\n' close
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --settle 2 --json --state-dir "$STATE"
	assert_success
	wait_until 3 server_said '^done ok$'
	# the banner shown and acknowledged, the FIN taken in: kept in CLOSE-WAIT
	[[ $(segs '.dir == "in" and .data == "220 hello\r\n"') ]] || fail "no banner: $output"
	expect "$(result)" outcome established
	expect "$(result)" state CLOSE-WAIT
	expect "$(result)" peer_state FIN-WAIT-2
	# and that is where the peer's kernel is: its FIN acknowledged by hs
	wait_until 3 peer_state_is FIN-WAIT-2 || fail "the peer's socket: $(peer_conns "$PORT" "$SPORT")"
	hs_a ls --json --state-dir "$STATE"
	assert_success
	[[ $(jqo 'select(.type == "conn") | .state') == '"CLOSE-WAIT"' ]] || fail "hs ls: $output"
}

@test "a server that aborts at once: hs reports the reset and sends no data after it" {
	tb_server abort
	lab_tcpdump_start tcp port "$PORT"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --settle 2 --send 'never sent' --json \
		--state-dir "$STATE"
	assert_failure 1
	expect "$(result)" outcome reset
	[[ $(field "$(result)" message) == "connection reset by $LAB_ADDR_B:$PORT (RST received in ESTABLISHED)" ]] ||
		fail "message: $(result)"
	wait_until 3 server_said '^done ok$'
	lab_tcpdump_stop
	# nothing of ours carried data, nothing is kept, no guard is left
	[[ -z $(wire_from_a | awk '$2 > 0') ]] || fail "hs sent data after the RST: $(wire_from_a)"
	[[ $(wire_from_a | wc -l) == 2 ]] || fail "hs sent more than SYN and ACK: $(wire_from_a)"
	assert_no_guard_left
	assert_no_state_left
}

@test "--step: what arrives during the pause is taken in; one fresh ACK; the prompt follows its cause" {
	tb_server sleep=20 close
	lab_tcpdump_start tcp port "$PORT"
	local fifo=$LAB_DIR/keys
	mkfifo "$fifo"
	exec 7<>"$fifo"
	ip netns exec "$LAB_A" env LC_ALL=C "$HS" connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --step \
		--no-color --state-dir "$STATE" <"$fifo" >"$LAB_DIR/hs.out" 2>&1 7>&- &
	HS_PID=$!
	LAB_PIDS+=("$HS_PID")
	wait_until 5 grep -q 'press Enter to send SYN' "$LAB_DIR/hs.out"
	echo >&7
	wait_until 5 grep -q 'press Enter to send ACK' "$LAB_DIR/hs.out"
	# hs holds its ACK; the peer's kernel resends its SYN,ACK (after 1 s)
	wait_until 5 bash -c "[[ \$(tshark -r '$LAB_DIR/capture.pcap' -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 1' 2>/dev/null | wc -l) -ge 2 ]]"
	echo >&7
	wait_until 5 lab_gone "$HS_PID" || fail "hs still runs: $(cat "$LAB_DIR/hs.out")"
	wait "$HS_PID" || fail "hs failed: $(cat "$LAB_DIR/hs.out")"
	wait_until 3 peer_state_is ESTAB || fail "the peer's socket: $(peer_conns "$PORT" "$SPORT"): $(cat "$LAB_DIR/hs.out")"
	lab_tcpdump_stop
	local out
	out=$(cat "$LAB_DIR/hs.out")
	# the prompt for the ACK comes after the SYN,ACK that caused it is shown
	grep -n -e '<- SYN,ACK' -e 'press Enter to send ACK' "$LAB_DIR/hs.out" | head -2 |
		awk -F: 'NR == 1 && !/SYN,ACK/ { exit 1 } NR == 2 && !/press Enter/ { exit 1 }' ||
		fail "the prompt before its cause: $out"
	# the resent SYN,ACK is shown and moves nothing back
	grep -q '<- SYN,ACK .*\[retransmission\]' <<<"$out" || fail "the resent SYN,ACK is not shown: $out"
	! grep -q 'peer ESTABLISHED -> SYN-RECEIVED' <<<"$out" || fail "a state invented: $out"
	# one ACK on the wire, built when it left: its TSval a second (the pause) after the SYN's
	local acks
	acks=$(wire_from_a | awk '$1 ~ /A/ && $1 !~ /S/')
	[[ $(wc -l <<<"$acks") == 1 ]] || fail "hs's ACKs on the wire: $acks"
	wire_from_a | awk 'NR == 1 { syn = $3 } NR == 2 && $3 - syn < 1000 { exit 1 }' ||
		fail "the ACK's TSval is from before the pause: $(wire_from_a)"
}

# ---- 2. one time base, one order -----------------------------------------------------

@test "lines in wire order, at the times the capture gives: JSON t never goes back, -w agrees" {
	tb_server send=hello expect=byebye eof close
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --time-wait 0.2 \
		-w "$LAB_DIR/hs.pcap" --json --state-dir "$STATE"
	assert_success
	assert_wire_order "$LAB_DIR/hs.pcap"
}

@test "hs listen, the client answers and closes at once: lines in wire order, -w agrees" {
	CPORT=45000
	hs_bg listen "$PORT" --send hello --close wait --timeout 3 -w "$LAB_DIR/hs.pcap" --json --state-dir "$STATE"
	wait_until 3 hs_listening
	tb_client expect=hello send=byebye close
	wait_until 3 client_said '^done ok$'
	hs_finish 5
	assert_success
	assert_wire_order "$LAB_DIR/hs.pcap"
}

# ---- 3. the peer's state: along the diagram, on evidence -----------------------------

@test "network copies of every peer segment: hs's peer states follow the kernel's" {
	# every segment the peer sends leaves its veth several times, byte for byte
	lab_nft b <<-EOF
		table netdev labdup {
			chain out {
				type filter hook egress device "$LAB_IF_B" priority 0;
				tcp sport $PORT counter dup to "$LAB_IF_B"
			}
		}
	EOF
	tb_server send=hello sleep=0.3 close
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close wait --json --state-dir "$STATE"
	assert_success
	lab_b nft list table netdev labdup | grep -qE 'counter packets [1-9]' || fail "the dup rule did not fire"
	[[ $(segs '.dir == "in" and .note == "duplicate"') ]] || fail "no copy noted duplicate: $output"
	[[ -z $(segs '.dir == "in" and .note == "retransmission"') ]] || fail "a copy taken for a retransmission: $output"
	# the peer closed first: FIN-WAIT-1, FIN-WAIT-2 (our ACK), TIME-WAIT (our FIN)
	assert_path 'CLOSED LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT' peer
	assert_path 'SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
	expect "$(result)" peer_state TIME-WAIT
	# and the kernel agrees
	wait_until 3 peer_state_is TIME-WAIT || fail "the peer's socket: $(peer_conns "$PORT" "$SPORT")"
	wait_until 3 server_said '^done ok$'
}

@test "an inferred state is marked assumed until the peer's own segment shows it" {
	tb_server expect=byebye eof close
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --time-wait 0.2 \
		--json --state-dir "$STATE"
	assert_success
	# our handshake ACK moved the peer to ESTABLISHED: assumed until it answered
	[[ $(jqo 'select(.type == "state" and .side == "peer" and .to == "ESTABLISHED") | .basis') == '"assumed"' ]] ||
		fail "the peer's ESTABLISHED is not marked assumed: $output"
	# its ACK of our data echoes our TSval: seen from then on
	[[ $(segs '.dir == "in" and .rack == 7' | head -n1 | jq -r '.peer_state_basis // "seen"') == seen ]] ||
		fail "the peer's ACK of our data did not make it seen: $output"
	# the last word, our ACK of its FIN, has no answer: CLOSED is assumed -- and ss agrees
	expect "$(result)" peer_state CLOSED
	expect "$(result)" peer_state_basis assumed
	wait_until 3 peer_has_none "$PORT" "$SPORT"
}
