#!/usr/bin/env bats
# hs -r FILE: captures of kernel <-> kernel connections, taken with tcpdump in the
# lab, re-read by hs. What hs infers of both ends is checked against what both
# kernels' `ss` showed at the moment the capture ends (the peers hold there on a cue),
# and the segments against tcpdump's own reading of the file.
#
#   a 198.18.0.1 (the client: A) --- veth --- b 198.18.0.2 (the server: B)
#   two-capture tests: a 198.18.1.2 --- router --- b 198.18.2.2 (lab_setup_routed)
#
# Run by `make check`, or by hand as root: HS=$PWD/hs bats tests/bats/read.bats

load common

PORT=9000

setup() {
	hs_setup ip ss jq tcpdump nft python3
	PYTHON=/usr/bin/python3
	[[ -x $PYTHON ]] || PYTHON=$(command -v python3)
	PEER=$BATS_TEST_DIRNAME/../peers/read_peer.py
	[[ -r $PEER ]] || fail "missing $PEER"
}

teardown() {
	lab_teardown
}

# ---- helpers --------------------------------------------------------------------------

# cap_start a|b|NS NAME [FILTER...]: tcpdump on the namespace's veth (another
# namespace: on "any") into $LAB_DIR/NAME.pcap, returns once it listens. Sets
# CAP_PID_<NAME>.
cap_start() {
	local ns=$1 name=$2 dev=any
	shift 2
	[[ $ns == a ]] && dev=$LAB_IF_A
	[[ $ns == b ]] && dev=$LAB_IF_B
	lab_bg "$ns" "$name.log" tcpdump -i "$dev" -n -U --immediate-mode -Z root -w "$LAB_DIR/$name.pcap" "$@"
	printf -v "CAP_PID_$name" '%s' "$LAB_BG_PID"
	wait_until 5 grep -q 'listening on' "$LAB_DIR/$name.log" || fail "tcpdump did not start: $(cat "$LAB_DIR/$name.log")"
}

# cap_stop NAME: stop that capture (the file is complete afterwards).
cap_stop() {
	local var=CAP_PID_$1
	kill -INT "${!var}" 2>/dev/null
	wait_until 5 lab_gone "${!var}" || fail "tcpdump $1 does not stop"
	wait "${!var}" 2>/dev/null || true
}

# cap_count NAME FILTER: how many packets of the capture match the tcpdump FILTER.
cap_count() {
	tcpdump -r "$LAB_DIR/$1.pcap" -n "$2" 2>/dev/null | wc -l
}

# cap_has NAME N FILTER: the capture holds at least N packets matching FILTER.
cap_has() {
	(($(cap_count "$1" "$3") >= $2))
}

# peer a|b LOG ARGS...: read_peer.py in that namespace.
peer() {
	local ns=$1 log=$2
	shift 2
	lab_bg "$ns" "$log" "$PYTHON" -u "$PEER" "$@"
}

said() { # said LOG REGEX
	grep -qE -- "$2" "$LAB_DIR/$1"
}

# states a|b: the kernel's TCP states on port $PORT there (either end), sorted, one
# line ("" when it holds nothing but listeners), in RFC 9293's words (ss says ESTAB,
# SYN-RECV).
states() {
	ip netns exec "$(lab_ns "$1")" ss -Htan "( sport = :$PORT or dport = :$PORT )" |
		awk '$1 != "LISTEN" { sub(/^ESTAB$/, "ESTABLISHED", $1); sub(/^SYN-RECV$/, "SYN-RECEIVED", $1); print $1 }' |
		sort | tr '\n' ' ' | sed 's/ $//'
}

# states_are a|b WANT: ss there shows exactly WANT ("" for nothing).
states_are() {
	[[ $(states "$1") == "$2" ]]
}

# read_json ARGS...: hs -r ARGS --json; $output, $lines, $stderr.
read_json() {
	run --separate-stderr "$HS" --json "$@"
}

# final [CONN]: "A-STATE B-STATE" of connection CONN (1 by default) after hs -r: its
# "end" event when the view shows one, else its last segment's states.
final() {
	local n=${1:-1}
	jq -rs --argjson n "$n" '
		([.[] | select(.type == "end")] | .[$n - 1] // null) as $e
		| if $e != null then "\($e.state) \($e.peer_state)"
		  else ([.[] | select(.type == "segment")] | last) as $s | "\($s.state) \($s.peer_state)" end' <<<"$output"
}

assert_final() {
	local got
	got=$(final "${2:-1}")
	[[ $got == "$1" ]] || fail "hs -r ends with '$got', expected '$1' (ss): $output"
}

# same_segments NAME: hs shows the capture's TCP segments, in its order: flags,
# absolute seq and len as tcpdump reads them.
assert_same_segments() {
	local want got
	want=$(tcpdump -r "$LAB_DIR/$1.pcap" -n -S -tt tcp 2>/dev/null |
		sed -nE 's/.*Flags \[([^]]*)\], seq ([0-9]+)(:[0-9]+)?.*/\1 \2/p; s/.*Flags \[([^]]*)\], ack .*/\1 -/p')
	got=$(segs true | jq -r '
		(.flags | split(",") | map({FIN:"F",SYN:"S",RST:"R",PSH:"P",URG:"U",ECE:"E",CWR:"W",ACK:"."}[.]) |
		 (map(select(. != ".")) | join("")) + (if index(".") then "." else "" end)) as $f
		| "\(if $f == "" then "none" else $f end) \(if (.flags | test("SYN|FIN|RST")) or .len > 0 then .seq else "-" end)"')
	[[ $got == "$want" ]] || fail "hs -r shows other segments than tcpdump reads:"$'\n'"tcpdump:"$'\n'"$want"$'\n'"hs:"$'\n'"$got"
}

# A client in a connects to a server in b on $PORT, both doing their STEPS; the
# capture (in b) runs from before the SYN. Sets CLIENT (the client's endpoint).
pair() {
	local server=$1 client=$2 host=${PAIR_HOST:-$LAB_ADDR_B}
	cap_start b cap
	# shellcheck disable=SC2086 # the steps are words
	peer b server.out server --port "$PORT" $server
	wait_until 5 lab_listening b "$PORT" || fail "the server does not listen: $(cat "$LAB_DIR/server.out")"
	# shellcheck disable=SC2086
	peer a client.out client --connect "$host:$PORT" $client
	wait_until 5 said client.out '^connected ' || fail "the client did not connect: $(cat "$LAB_DIR/client.out")"
	CLIENT=$(awk '$1 == "connected" { print $2 }' "$LAB_DIR/client.out")
}

# ---- kernel <-> kernel ------------------------------------------------------------------

@test "-r: a normal close, client first: A (client) TIME-WAIT, B (server) CLOSED, as both kernels' ss show" {
	pair "recv=5 eof close" "send=hello close"
	wait_until 5 states_are a TIME-WAIT || fail "client: $(states a)"
	wait_until 5 states_are b "" || fail "server: $(states b)"
	# B left LAST-ACK: the last ACK passed the capture point before.
	wait_until 5 cap_has cap 2 'tcp[13] & 1 != 0' || fail "the capture lacks the FINs"
	wait_until 5 cap_has cap 2 "src host $LAB_ADDR_A and tcp[13] == 0x10" || fail "the capture lacks the last ACK"
	cap_stop cap
	read_json -r "$LAB_DIR/cap.pcap"
	assert_success
	assert_all_json
	assert_same_segments cap
	# A is the client: it sent the SYN; its segments go "out".
	[[ $(segs '.flags == "SYN"' | jq -r '"\(.dir) \(.src) \(.rseq)"') == "out $CLIENT 0" ]] ||
		fail "the SYN is not A's: $output"
	[[ $(segs '.flags == "SYN,ACK"' | jq -r '"\(.dir) \(.rseq) \(.rack)"') == "in 0 1" ]] ||
		fail "the SYN,ACK: $output"
	[[ $(segs '.len == 5' | jq -r '"\(.dir) \(.rseq) \(.rack) \(.data)"') == "out 1 1 hello" ]] ||
		fail "the data: $output"
	assert_final "TIME-WAIT CLOSED"
	[[ $(jq -r 'select(.type == "result") | "\(.outcome) \(.exit)"' <<<"$output") == "read 0" ]] || fail "result: $output"
	# Every view takes it.
	run --separate-stderr "$HS" -r "$LAB_DIR/cap.pcap" --no-color
	assert_success
	assert_output --partial "TIME-WAIT"
	run --separate-stderr "$HS" -r "$LAB_DIR/cap.pcap" --ladder
	assert_success
	[[ -n $output ]] || fail "the ladder view shows nothing"
	# -w FILE.pcapng: the same packets, annotated; read back, the same events.
	local png=$LAB_DIR/notes.pcapng want
	read_json -r "$LAB_DIR/cap.pcap"
	want=$(segs true | jq -c '{flags, seq, ack, len, dir, state, peer_state}')
	run --separate-stderr "$HS" -r "$LAB_DIR/cap.pcap" -w "$png" -q
	assert_success
	# (the connections' packets: not the ARP and ICMPv6 around them)
	[[ $(tshark -r "$png" -n -T fields -e tcp.seq_raw -e tcp.ack_raw -e tcp.flags 2>/dev/null) == \
		"$(tshark -r "$LAB_DIR/cap.pcap" -n -Y tcp -T fields -e tcp.seq_raw -e tcp.ack_raw -e tcp.flags 2>/dev/null)" ]] ||
		fail "the pcapng holds other packets than the capture: $(tshark -r "$png" -n 2>&1)"
	local comments
	comments=$(tshark -r "$png" -n -T fields -e frame.comment 2>/dev/null)
	! grep -q '^$' <<<"$comments" || fail "a packet without comment: $comments"
	[[ $(head -n1 <<<"$comments") == "A CLOSED → SYN-SENT; B CLOSED" ]] || fail "the SYN's comment: $comments"
	[[ $(tail -n1 <<<"$comments") == "A TIME-WAIT; B LAST-ACK → CLOSED (assumed)" ]] || fail "the last ACK's: $comments"
	read_json -r "$png"
	assert_success
	[[ $(segs true | jq -c '{flags, seq, ack, len, dir, state, peer_state}') == "$want" ]] ||
		fail "the pcapng reads otherwise than the capture: $output"
	# A short snaplen (tcpdump -s 70: the SYNs cut in their options, the data in its
	# payload; -s 54: the fixed header only): the same segments, lengths and states,
	# from the IP header's length; the JSON says how much of the data was kept.
	local snap
	read_json -r "$LAB_DIR/cap.pcap"
	want=$(segs true | jq -c '{flags, seq, ack, len, dir, state, peer_state, note}')
	for snap in 70 60 54; do
		editcap -s "$snap" "$LAB_DIR/cap.pcap" "$LAB_DIR/cut$snap.pcap"
		read_json -r "$LAB_DIR/cut$snap.pcap"
		assert_success
		[[ $(segs true | jq -c '{flags, seq, ack, len, dir, state, peer_state, note}') == "$want" ]] ||
			fail "cut at $snap bytes, it reads otherwise: $output"
		! grep -q 'bad-opt' <<<"$output" || fail "cut at $snap bytes, an option shown malformed: $output"
	done
	# one capture cut, the other whole: still the same segments, paired, nothing lost
	read_json -r "$LAB_DIR/cut60.pcap" -r "$LAB_DIR/cap.pcap"
	assert_success
	[[ -z $(segs '.lost == true or .note == "retransmission"') ]] || fail "a cut copy not paired: $output"
	[[ $(segs '.len == 5' | jq -r '.captured') == 0 ]] || fail "-s 54 kept no data: $output"
}

@test "-r: IPv6: a normal close (A TIME-WAIT, B CLOSED as ss shows); the 4-tuple filter as [ADDR]:PORT" {
	PAIR_HOST="[$LAB_ADDR6_B]" pair "recv=5 eof close" "send=hello close"
	wait_until 5 states_are a TIME-WAIT || fail "client: $(states a)"
	wait_until 5 states_are b "" || fail "server: $(states b)"
	wait_until 5 cap_has cap 2 "src host $LAB_ADDR6_A and ip6[53] == 0x10" || fail "the capture lacks the last ACK"
	cap_stop cap
	read_json -r "$LAB_DIR/cap.pcap" "$CLIENT" "[$LAB_ADDR6_B]:$PORT"
	assert_success
	assert_same_segments cap
	[[ $(segs '.flags == "SYN"' | jq -r '"\(.dir) \(.src)"') == "out $CLIENT" ]] || fail "A: $output"
	[[ $(segs '.len == 5' | jq -r '"\(.rseq) \(.rack)"') == "1 1" ]] || fail "the data: $output"
	assert_final "TIME-WAIT CLOSED"
}

@test "-r: a half-close (server shutdown only): B FIN-WAIT-2, A CLOSE-WAIT while it holds, as ss shows" {
	pair "shutdown cue=$LAB_DIR/end close" "eof cue=$LAB_DIR/end close"
	wait_until 5 said client.out '^eof' || fail "the client did not see the FIN: $(cat "$LAB_DIR/client.out")"
	wait_until 5 states_are a CLOSE-WAIT || fail "client: $(states a)"
	wait_until 5 states_are b FIN-WAIT-2 || fail "server: $(states b)"
	# The FIN, and A's ACK of it (B is in FIN-WAIT-2: it came).
	wait_until 5 cap_has cap 1 'tcp[13] & 1 != 0' || fail "no FIN in the capture"
	fin_seq=$(tcpdump -r "$LAB_DIR/cap.pcap" -n -S 'tcp[13] & 1 != 0' 2>/dev/null | sed -nE 's/.*seq ([0-9]+).*/\1/p')
	wait_until 5 cap_has cap 1 "src host $LAB_ADDR_A and tcp[8:4] = $((fin_seq + 1))" || fail "no ACK of the FIN"
	cap_stop cap
	touch "$LAB_DIR/end"
	read_json -r "$LAB_DIR/cap.pcap"
	assert_success
	assert_same_segments cap
	assert_final "CLOSE-WAIT FIN-WAIT-2"
}

@test "-r: a reset (SO_LINGER 0): both CLOSED, as ss shows (nothing left at either end)" {
	pair "recv=2 eof" "send=hi cue=$LAB_DIR/go abort"
	wait_until 5 said server.out '^received 2' || fail "the server got no data: $(cat "$LAB_DIR/server.out")"
	# Before the RST: both ESTABLISHED.
	wait_until 5 states_are a ESTABLISHED || fail "client: $(states a)"
	wait_until 5 states_are b ESTABLISHED || fail "server: $(states b)"
	touch "$LAB_DIR/go"
	wait_until 5 said server.out '^reset' || fail "the server saw no reset: $(cat "$LAB_DIR/server.out")"
	wait_until 5 states_are a "" || fail "client: $(states a)"
	wait_until 5 states_are b "" || fail "server: $(states b)"
	wait_until 5 cap_has cap 1 'tcp[13] & 4 != 0' || fail "no RST in the capture"
	cap_stop cap
	read_json -r "$LAB_DIR/cap.pcap"
	assert_success
	assert_same_segments cap
	[[ $(segs '.flags | test("RST")' | jq -r .dir) == out ]] || fail "the RST is not A's: $output"
	[[ $(segs '(.flags | test("RST")) | not' | jq -r '"\(.state) \(.peer_state)"' | tail -1) == "ESTABLISHED ESTABLISHED" ]] ||
		fail "before the RST hs shows other states than ss: $output"
	assert_final "CLOSED CLOSED"
}

@test "-r: a simultaneous open (A's first SYN dropped at B, B connects to A): A went SYN-SENT -> SYN-RECEIVED, both ESTABLISHED as ss shows" {
	local pa=40001
	# B's kernel drops A's pure SYNs: A stays in SYN-SENT until B's own SYN reaches it.
	lab_nft b <<-EOF
		table inet rd_simopen {
			chain input {
				type filter hook input priority 0;
				tcp sport $pa tcp dport $PORT tcp flags & (syn | ack) == syn drop
			}
		}
	EOF
	cap_start a cap
	peer a a.out client --bind "$LAB_ADDR_A:$pa" --connect "$LAB_ADDR_B:$PORT" "cue=$LAB_DIR/end" close
	wait_until 5 states_are a SYN-SENT || fail "A is not in SYN-SENT: $(states a) $(cat "$LAB_DIR/a.out")"
	peer b b.out client --bind "$LAB_ADDR_B:$PORT" --connect "$LAB_ADDR_A:$pa" "cue=$LAB_DIR/end" close
	wait_until 5 said a.out '^connected' || fail "A did not connect: $(cat "$LAB_DIR/a.out")"
	wait_until 5 said b.out '^connected' || fail "B did not connect: $(cat "$LAB_DIR/b.out")"
	wait_until 5 states_are a ESTABLISHED || fail "A: $(states a)"
	wait_until 5 states_are b ESTABLISHED || fail "B: $(states b)"
	# A answered B's SYN with a SYN,ACK: only a socket in SYN-RECEIVED sends one.
	wait_until 5 cap_has cap 1 "src host $LAB_ADDR_A and tcp[13] == 0x12" || fail "A sent no SYN,ACK"
	wait_until 5 cap_has cap 1 "src host $LAB_ADDR_B and tcp[13] == 0x10" || fail "B's ACK is not in the capture"
	cap_stop cap
	touch "$LAB_DIR/end"
	read_json -r "$LAB_DIR/cap.pcap"
	assert_success
	assert_same_segments cap
	[[ $(segs '.flags == "SYN"' | jq -r .dir | tr '\n' ' ') == "out in " ]] || fail "two SYNs, A's first: $output"
	assert_path "(CLOSED )?SYN-SENT SYN-RECEIVED ESTABLISHED"
	assert_final "ESTABLISHED ESTABLISHED"
}

# ---- inputs, filters, errors -------------------------------------------------------------

# Two connections in one capture (the first reset, the second closed), for the filters.
two_conns() {
	cap_start b cap
	peer b server.out server --port "$PORT" eof close
	wait_until 5 lab_listening b "$PORT" || fail "the server does not listen"
	peer a c1.out client --connect "$LAB_ADDR_B:$PORT" send=one close
	wait_until 5 said server.out '^done' || fail "server 1: $(cat "$LAB_DIR/server.out")"
	peer b server2.out server --port "$((PORT + 1))" eof close
	wait_until 5 lab_listening b "$((PORT + 1))" || fail "the second server does not listen"
	peer a c2.out client --connect "$LAB_ADDR_B:$((PORT + 1))" send=two close
	wait_until 5 said server2.out '^done' || fail "server 2: $(cat "$LAB_DIR/server2.out")"
	wait_until 5 cap_has cap 4 'tcp[13] & 1 != 0' || fail "the capture lacks FINs"
	wait_until 5 cap_has cap 4 "src host $LAB_ADDR_A and tcp[13] == 0x10" || fail "the capture lacks the last ACKs"
	cap_stop cap
	C1=$(awk '$1 == "connected" { print $2 }' "$LAB_DIR/c1.out")
	C2=$(awk '$1 == "connected" { print $2 }' "$LAB_DIR/c2.out")
}

@test "-r: two connections in order of their first packets; a 4-tuple or a BPF filter keeps one; stdin; pcapng" {
	two_conns
	read_json -r "$LAB_DIR/cap.pcap"
	assert_success
	assert_same_segments cap
	[[ $(segs '.flags == "SYN"' | jq -r .src | tr '\n' ' ') == "$C1 $C2 " ]] || fail "order: $output"
	[[ $(jq -r 'select(.type == "result") | "\(.outcome) \(.count)"' <<<"$output") == "read 2" ]] || fail "result: $output"
	# The 4-tuple, given either way round.
	read_json -r "$LAB_DIR/cap.pcap" "$LAB_ADDR_B:$((PORT + 1))" "$C2"
	assert_success
	[[ $(segs true | jq -r '"\(.src) \(.dst)"' | sort -u | tr '\n' ' ') == "$C2 $LAB_ADDR_B:$((PORT + 1)) $LAB_ADDR_B:$((PORT + 1)) $C2 " ]] ||
		fail "the 4-tuple filter: $output"
	[[ $(segs '.flags == "SYN"' | jq -r '"\(.dir) \(.src)"') == "out $C2" ]] || fail "A of the filtered one: $output"
	assert_final "TIME-WAIT CLOSED"
	n_tuple=$(segs true | wc -l)
	(( n_tuple == $(cap_count cap "tcp port $((PORT + 1))") )) || fail "$n_tuple segments, tcpdump reads otherwise"
	# A BPF expression (several words).
	read_json -r "$LAB_DIR/cap.pcap" tcp port "$PORT"
	assert_success
	[[ $(segs true | jq -r .src | sort -u | tr '\n' ' ') == "$C1 $LAB_ADDR_B:$PORT " ]] || fail "the BPF filter: $output"
	# Nothing matches: exit 1, one line.
	read_json -r "$LAB_DIR/cap.pcap" tcp port 7
	assert_failure 1
	lab_assert_hs_error 'no TCP connection'
	[[ $(jq -r 'select(.type == "result") | .outcome' <<<"$output") == none ]] || fail "result: $output"
	# stdin.
	# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
	run --separate-stderr bash -c '"$1" --json -r - <"$2"' _ "$HS" "$LAB_DIR/cap.pcap"
	assert_success
	[[ $(segs true | wc -l) -eq $(cap_count cap tcp) ]] || fail "stdin: $output"
	# pcapng (tcpdump writes pcap; editcap converts).
	command -v editcap >/dev/null || fail "editcap (tshark's package) is missing"
	editcap -F pcapng "$LAB_DIR/cap.pcap" "$LAB_DIR/cap.pcapng"
	[[ $(head -c4 "$LAB_DIR/cap.pcapng" | od -An -tx1 | tr -d ' ') == 0a0d0d0a ]] || fail "not pcapng"
	want=$(segs true)
	read_json -r "$LAB_DIR/cap.pcapng"
	assert_success
	[[ $(segs true) == "$want" ]] || fail "pcapng reads otherwise than pcap: $output"
}

@test "-r: a missing file, a file that is not a capture, an unknown link type, a bad filter: exit 2, one line, nothing on stdout but the result" {
	hs_find
	read_json -r "$BATS_TEST_TMPDIR/nope.pcap"
	assert_failure 2
	lab_assert_hs_error 'nope.pcap: No such file'
	echo "not a capture" >"$BATS_TEST_TMPDIR/text.pcap"
	read_json -r "$BATS_TEST_TMPDIR/text.pcap"
	assert_failure 2
	lab_assert_hs_error 'text.pcap: not a pcap or pcapng file'
	: >"$BATS_TEST_TMPDIR/empty.pcap"
	read_json -r "$BATS_TEST_TMPDIR/empty.pcap"
	assert_failure 2
	lab_assert_hs_error 'empty.pcap: not a pcap or pcapng file'
	read_json -r "$BATS_TEST_TMPDIR"
	assert_failure 2
	lab_assert_hs_error 'is a directory'
	# A pcap header of link type 147 (USER0).
	printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x93\x00\x00\x00' \
		>"$BATS_TEST_TMPDIR/user0.pcap"
	read_json -r "$BATS_TEST_TMPDIR/user0.pcap"
	assert_failure 2
	lab_assert_hs_error 'link type 147'
	printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' \
		>"$BATS_TEST_TMPDIR/eth.pcap"
	read_json -r "$BATS_TEST_TMPDIR/eth.pcap" tcp prot 80
	assert_failure 2
	lab_assert_hs_error 'bad filter "tcp prot 80"'
	run --separate-stderr "$HS" -r - -r - </dev/null
	assert_failure 2
	lab_assert_hs_error 'stdin'
	# Options that send or wait have nothing to do with a file: refused, not ignored.
	run --separate-stderr "$HS" -r "$BATS_TEST_TMPDIR/eth.pcap" --step
	assert_failure 2
	lab_assert_hs_error 'option --step does not apply to hs -r'
	run --separate-stderr "$HS" -r "$BATS_TEST_TMPDIR/eth.pcap" --send x
	assert_failure 2
	lab_assert_hs_error 'does not apply to hs -r'
	# An empty capture of a known link type: nothing to show, exit 1.
	read_json -r "$BATS_TEST_TMPDIR/eth.pcap"
	assert_failure 1
	lab_assert_hs_error 'no TCP connection'
	# A pcapng of two interfaces of different link types (dumpcap -i eth0 -i lo):
	# libpcap reads one type; said in one line, exit 2 -- not "no TCP connection".
	local real=$BATS_TEST_DIRNAME/../unit/captures/observed.pcap
	editcap -F pcapng "$real" "$BATS_TEST_TMPDIR/eth.pcapng"
	editcap -F pcapng -T linux-sll "$real" "$BATS_TEST_TMPDIR/sll.pcapng"
	mergecap -F pcapng -w "$BATS_TEST_TMPDIR/mixed.pcapng" "$BATS_TEST_TMPDIR/sll.pcapng" "$BATS_TEST_TMPDIR/eth.pcapng"
	read_json -r "$BATS_TEST_TMPDIR/mixed.pcapng"
	assert_failure 2
	lab_assert_hs_error 'mixed.pcapng: .*different.*link type'
	# A record claiming 2 GB after a good header: nothing readable, exit 2.
	{ cat "$BATS_TEST_TMPDIR/eth.pcap"; printf '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x80'; } \
		>"$BATS_TEST_TMPDIR/huge.pcap"
	read_json -r "$BATS_TEST_TMPDIR/huge.pcap"
	assert_failure 2
	lab_assert_hs_error 'huge.pcap'
}

@test "-r: a capture cut short (tcpdump killed mid-record) shows what it holds and says so" {
	pair "recv=5 eof close" "send=hello close"
	wait_until 5 states_are b "" || fail "server: $(states b)"
	wait_until 5 cap_has cap 2 "src host $LAB_ADDR_A and tcp[13] == 0x10" || fail "the capture lacks the last ACK"
	cap_stop cap
	# Only the TCP packets (the veth carries IPv6 neighbour discovery too), the last cut.
	tcpdump -r "$LAB_DIR/cap.pcap" -w "$LAB_DIR/tcp.pcap" tcp 2>/dev/null
	size=$(stat -c %s "$LAB_DIR/tcp.pcap")
	head -c $((size - 10)) "$LAB_DIR/tcp.pcap" >"$LAB_DIR/cut.pcap"
	read_json -r "$LAB_DIR/cut.pcap"
	assert_success
	n_cut=$(tcpdump -r "$LAB_DIR/cut.pcap" -n tcp 2>/dev/null | wc -l)
	(( n_cut == $(cap_count cap tcp) - 1 )) || fail "the cut is not in the last record ($n_cut)"
	(( $(segs true | wc -l) == n_cut )) || fail "not all but the last: $output"
	[[ -n $(jq -c 'select(.type == "info" and (.text | test("truncated")))' <<<"$output") ]] || fail "no word of it: $output"
}

# ---- two capture points ------------------------------------------------------------------

# One connection through the router, captured at both ends; the router drops the
# client's segment sent with TTL 50 (its second line): the kernel resends it (TTL 64).
@test "-r a.pcap -r b.pcap: both ends' timings; the segment the router dropped is lost, its resend arrives" {
	lab_teardown # setup's lab: this one has a router
	lab_setup_routed
	lab_nft "$LAB_R" <<-EOF
		table inet rd_drop {
			chain forward {
				type filter hook forward priority 0;
				ip ttl < 60 tcp dport $PORT drop
			}
		}
	EOF
	cap_start a near_a
	cap_start b near_b
	cap_start "$LAB_R" router tcp
	peer b server.out server --port "$PORT" recv=6 recv=7 eof close
	wait_until 5 lab_listening b "$PORT" || fail "the server does not listen"
	peer a client.out client --connect "$LAB_ADDR_B:$PORT" nodelay send='first\n' \
		"cue=$LAB_DIR/c1" ttl=50 send='second\n' ttl=64 "cue=$LAB_DIR/c2" close
	wait_until 5 said server.out '^received 6' || fail "the server did not get the first line"
	touch "$LAB_DIR/c1"
	wait_until 10 said server.out '^received 7' || fail "the resend did not arrive: $(cat "$LAB_DIR/server.out")"
	touch "$LAB_DIR/c2"
	wait_until 5 said server.out '^done' || fail "server: $(cat "$LAB_DIR/server.out")"
	wait_until 5 states_are b "" || fail "server: $(states b)"
	for c in near_a near_b; do
		wait_until 5 cap_has "$c" 2 "src host $LAB_ADDR_A and tcp[13] & 1 != 0 or src host $LAB_ADDR_B and tcp[13] & 1 != 0" ||
			fail "$c lacks the FINs"
		wait_until 5 cap_has "$c" 2 "src host $LAB_ADDR_A and tcp[13] == 0x10" || fail "$c lacks A's ACKs"
	done
	# The router forwarded A's last ACK (the ACK of B's FIN) before b captured it.
	fin_b=$(tcpdump -r "$LAB_DIR/near_b.pcap" -n -S "src host $LAB_ADDR_B and tcp[13] & 1 != 0" 2>/dev/null |
		sed -nE '1s/.*seq ([0-9]+).*/\1/p')
	wait_until 5 cap_has router 2 "src host $LAB_ADDR_A and tcp[13] == 0x10 and tcp[8:4] = $((fin_b + 1))" ||
		fail "the router's capture lacks A's last ACK"
	cap_stop near_a
	cap_stop near_b
	cap_stop router
	# The drop is real: "second" went out twice at a, arrived once at b.
	(( $(cap_count near_a "src host $LAB_ADDR_A and greater 60 and tcp[((tcp[12] >> 4) * 4):4] = 0x7365636f") == 2 )) ||
		fail "a did not send 'second' twice: $(lab_tcpdump_text "$LAB_DIR/near_a.pcap")"
	(( $(cap_count near_b "src host $LAB_ADDR_A and tcp[((tcp[12] >> 4) * 4):4] = 0x7365636f") == 1 )) ||
		fail "b did not get 'second' once: $(lab_tcpdump_text "$LAB_DIR/near_b.pcap")"
	read_json -r "$LAB_DIR/near_a.pcap" -r "$LAB_DIR/near_b.pcap"
	assert_success
	# Each segment once: as many as the capture near A holds.
	(( $(segs true | wc -l) == $(cap_count near_a tcp) )) || fail "not one event a segment: $output"
	# Every segment but the dropped one was seen at both ends; A's earlier near A, B's near B.
	[[ -z $(segs '(.data == "second\n" and .lost == true) | not' | jq -c 'select(.t_other == null)') ]] ||
		fail "a segment without its other time: $output"
	[[ -z $(segs '.t_other != null and .t_other < .t') ]] || fail "t_other before t: $output"
	[[ $(segs '.lost == true' | jq -r '"\(.dir) \(.data)"') == "out second" ]] ||
		fail "the lost segment: $output"
	[[ $(segs '.data == "second\n" and .lost != true' | jq -r '.t_other != null') == true ]] ||
		fail "the resend did not arrive: $output"
	# The order of the files does not matter.
	want=$(segs true | jq -c '{flags, seq, lost}')
	read_json -r "$LAB_DIR/near_b.pcap" -r "$LAB_DIR/near_a.pcap"
	assert_success
	[[ $(segs true | jq -c '{flags, seq, lost}') == "$want" ]] || fail "the other order reads otherwise: $output"
	# One capture on "any" in the router: each forwarded segment twice (in on one
	# veth, out on the other), shown once with both times; the dropped one came in only.
	# (tcpdump on "any" may miss a frame now and then ("dropped by kernel"): the
	# counts are the file's own, copies told apart from resends by the TSval.)
	read_json -r "$LAB_DIR/router.pcap"
	assert_success
	tcpdump -r "$LAB_DIR/router.pcap" -n tcp 2>/dev/null | sed -E 's/^[^ ]+ +[^ ]+ +[^ ]+ +//' | sort >"$LAB_DIR/router.txt"
	(( $(segs true | wc -l) == $(uniq <"$LAB_DIR/router.txt" | wc -l) )) || fail "not one event a segment: $output"
	(( $(segs '.t_other == null' | wc -l) == $(uniq -u <"$LAB_DIR/router.txt" | wc -l) )) ||
		fail "the router's copies: $output"
	[[ -n $(segs '.t_other == null and .data == "second\n"') ]] || fail "the dropped segment came in only: $output"
}

# ---- hs's own capture -----------------------------------------------------------------------

@test "-r of hs connect -w: the same segments (flags, rseq, rack, dir), A's states and B's where its segments show them, as the live run" {
	lab_peer
	run --separate-stderr lab_hs connect "$LAB_ADDR_B" 8080 --json --send hello --close fin --time-wait 0.2 \
		-w "$LAB_DIR/own.pcap" --state-dir "$STATE"
	assert_success
	live=$output
	live_segs=$(segs true | jq -c '{flags, rseq, rack, dir, len}')
	# Both sides' states after each of the peer's segments. (After one of ours they
	# may differ by a race: an ACK hs sent before the peer's FIN reached it, captured
	# after that FIN, carries hs's state when it left; the observer, reading the wire
	# in order, puts it after the FIN.)
	live_states=$(segs '.dir == "in"' | jq -c '{state, peer_state}')
	live_final=$(jq -r 'select(.type == "result") | "\(.state) \(.peer_state)"' <<<"$output")
	read_json -r "$LAB_DIR/own.pcap"
	assert_success
	[[ $(segs true | jq -c '{flags, rseq, rack, dir, len}') == "$live_segs" ]] ||
		fail "-r shows other segments:"$'\n'"live: $live"$'\n'"-r: $output"
	# The observer's A is hs's TCB; its B agrees where B's segments show it. Where only
	# A's segments speak they may differ: hs's TCB keeps the peer ESTABLISHED after
	# our FIN until the peer acknowledges it; the observer assumes it arrived
	# (CLOSE-WAIT, "peer_state_basis":"assumed").
	[[ $(segs '.dir == "in"' | jq -c '{state, peer_state}') == "$live_states" ]] ||
		fail "-r infers other states:"$'\n'"live: $live"$'\n'"-r: $output"
	# The live run ends after TIME-WAIT (2MSL: CLOSED); the capture stops at the last
	# segment: A in TIME-WAIT there.
	[[ $live_final == "CLOSED CLOSED" ]] || fail "live: $live_final"
	assert_final "TIME-WAIT CLOSED"
}
