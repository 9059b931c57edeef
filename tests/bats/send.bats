#!/usr/bin/env bats
# hs send: one crafted segment into a kept connection (hs send [CONN] [SEGMENT]
# [FIELDS]) or to a port without one (hs send HOST PORT), and the peer's reaction
# as hs classifies it. Every test checks what the peer's kernel and program saw
# (the program's log, ss in the peer's namespace, the capture there, its MIB
# counters); hs's "reaction" is asserted in addition, never alone.
#
# Rate limits: a Linux peer answers at most one challenge or duplicate ACK per
# connection every 500 ms (tcp_invalid_ratelimit), so a test that needs two such
# answers uses two connections rather than a pause.
#
# Run by `make check`, or by hand as root: bats tests/bats/send.bats

load common

setup() {
	hs_find
	lab_require jq nft ss ip tcpdump python3
	STATE=$BATS_TEST_TMPDIR/state
}

teardown() {
	lab_teardown
}

# lab: this test's two-namespace lab, the echo peer on 8080 that does not echo
# (its program blocks in recv and reports what arrives, EOF or ECONNRESET), and a
# capture of port 8080 in the peer's namespace.
lab() {
	lab_setup
	lab_peer --no-echo
	lab_tcpdump_start tcp or icmp
}

# send ARGS...: hs send ARGS --json --state-dir $STATE in namespace a.
send() {
	hs_a send "$@" --json --state-dir "$STATE"
}

# reaction_is CLASS: hs's result names the peer's reaction CLASS.
reaction_is() {
	local res got
	res=$(result)
	got=$(field "$res" reaction)
	[[ $got == "$1" ]] || fail "reaction '$got', expected '$1'$(hs_view)$(peer_view)"
}

# assert_sent: the run ended as a segment that left: exit 0, outcome sent.
assert_sent() {
	((status == 0)) || fail "exit $status, expected 0$(hs_view)$(peer_view)"
	assert_all_json
	expect "$(result)" outcome sent
}

# still_kept ID: the result names the kept connection ID, and its record is in the store.
still_kept() {
	[[ $(field "$(result)" conn) == "$1" ]] || fail "the result does not name kept connection $1$(hs_view)"
	[[ -f $STATE/$1.conn ]] || fail "no record $1 in the store: $(ls -A "$STATE")"
}

# not_kept: the result names no connection and the store is empty (hs ls agrees).
not_kept() {
	jq -e 'has("conn") | not' <<<"$(result)" >/dev/null || fail "the result still names a connection$(hs_view)"
	local o=$output s=${stderr:-}
	hs_a ls --json --state-dir "$STATE"
	[[ -z $(jqo 'select(.type == "conn")') ]] || fail "hs ls still lists: $output"
	output=$o stderr=$s
	assert_no_guard_left
	assert_no_state_left
}

# peer_established SPORT: the peer's kernel has the connection from SPORT
# ESTABLISHED (and nothing else for it).
peer_established() {
	[[ $(peer_conns 8080 "$1" | awk '{ print $1 }') == ESTAB ]] ||
		fail "the peer's connection from $1: '$(peer_conns 8080 "$1")', expected ESTAB$(hs_view)$(peer_view)"
}

# peer_untouched SPORT: the peer's program saw neither data nor EOF nor a reset.
peer_untouched() {
	! peer_said "^(received|eof|reset|error|closed) $LAB_ADDR_A:$1( |$)" ||
		fail "the peer's program saw something from $1$(hs_view)$(peer_view)"
}

# peer_answered REGEX SPORT: after our segment (the first line matching REGEX),
# the peer sent a bare ACK acknowledging exactly SND_NXT (nothing new).
peer_answered() {
	local after
	after=$(wire_after "$1" | grep -E "IP $LAB_ADDR_B\.8080 > $LAB_ADDR_A\.$2: ")
	grep -qE "Flags \[\.\], ack $SND_NXT, " <<<"$after" ||
		fail "the peer sent no bare ACK of $SND_NXT after /$1/$(hs_view)$(peer_view)"
}

# peer6_has_none SPORT: the peer's kernel has no IPv6 connection from hs's SPORT.
peer6_has_none() {
	! lab_b ss -Htan "sport = :8080" | grep -qF "[$LAB_ADDR6_A]:$1"
}

# tcp_mib NAME: namespace b's kernel counter Tcp NAME (/proc/net/snmp).
tcp_mib() {
	# shellcheck disable=SC2016 # awk's $i and $c
	lab_b awk -v k="$1" '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == k) c = i; h = 1 } else print $c }' \
		/proc/net/snmp
}

# ---- RFC 5961 and RFC 9293 checks of a kernel peer in ESTABLISHED ------------------

@test "RST in the window but not at RCV.NXT (--flags R --seq +1000): challenge ACK, the peer stays ESTABLISHED" {
	lab
	hs_keep 40000
	send --flags R --seq +1000
	assert_sent
	reaction_is challenge-ack
	still_kept 1
	lab_tcpdump_stop
	local rst
	rst="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[R\], seq $(seq_add "$SND_NXT" 1000),"
	[[ $(wire_from 40000 | grep -c 'Flags \[R') == 1 ]] || fail "not one RST from hs$(peer_view)"
	lab_tcpdump_text | grep -qE "$rst" || fail "no RST at SND.NXT+1000 on the wire$(hs_view)$(peer_view)"
	peer_answered "$rst" 40000
	peer_established 40000
	peer_untouched 40000
}

@test "the same RST in the notation ('R 1001:1001(0)'): challenge ACK, the peer stays ESTABLISHED" {
	lab
	hs_keep 40000
	send 'R 1001:1001(0)'
	assert_sent
	reaction_is challenge-ack
	still_kept 1
	lab_tcpdump_stop
	local rst
	rst="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[R\], seq $(seq_add "$ISS" 1001),"
	lab_tcpdump_text | grep -qE "$rst" || fail "no RST at relative seq 1001 on the wire$(hs_view)$(peer_view)"
	peer_answered "$rst" 40000
	peer_established 40000
	peer_untouched 40000
}

@test "RST at RCV.NXT (--flags R): the peer's program gets ECONNRESET, the store forgets the connection" {
	lab
	hs_keep 40000
	send --flags R
	assert_sent
	# the peer takes an exact RST silently (the RST its kernel sends later answers
	# hs's probe, not our RST): hs probes to learn it took it
	reaction_is none
	wait_until 2 peer_said "^reset $LAB_ADDR_A:40000 " || fail "the peer's program saw no reset$(hs_view)$(peer_view)"
	wait_until 2 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)"
	not_kept
	lab_tcpdump_stop
	local rst="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[R\], seq $SND_NXT,"
	lab_tcpdump_text | grep -qE "$rst" || fail "no RST at SND.NXT on the wire$(hs_view)$(peer_view)"
	# the probe behind it met the peer's RST (no such connection)
	wire_after "$rst" | grep -qE "IP $LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: Flags \[R" ||
		fail "no probe answered by the peer's RST after ours$(hs_view)$(peer_view)"
}

@test "an exact RST the peer's firewall drops: no answer; hs's probe finds the peer still there; the connection stays kept" {
	lab
	hs_keep 40000
	lab_nft b <<-'EOF'
		table inet labnorst {
			chain in {
				type filter hook input priority 0;
				tcp dport 8080 tcp flags & rst == rst counter drop
			}
		}
	EOF
	send --flags R
	assert_sent
	reaction_is none
	lab_b nft list table inet labnorst | grep -qE 'counter packets 1 ' || fail "the RST did not reach the peer's firewall$(hs_view)"
	still_kept 1
	expect "$(result)" state ESTABLISHED
	lab_tcpdump_stop
	local rst="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[R\], seq $SND_NXT,"
	wire_after "$rst" | grep -qE "IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: " || fail "hs did not probe after its RST$(hs_view)$(peer_view)"
	wire_after "$rst" | grep -qE "IP $LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: Flags \[\.\], ack $SND_NXT, " ||
		fail "the peer did not answer the probe with an ACK$(hs_view)$(peer_view)"
	peer_established 40000
	peer_untouched 40000
	[[ $(lab_hs_tables a | wc -l) == 1 ]] || fail "the guard: $(lab_hs_tables a)"
}

@test "RST just left of the window (--flags R --seq -1): no answer; hs's probe finds the peer still there; the connection stays kept" {
	lab
	hs_keep 40000
	send --flags R --seq -1
	assert_sent
	reaction_is none
	still_kept 1
	lab_tcpdump_stop
	local rst
	rst="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[R\], seq $(seq_add "$SND_NXT" -1),"
	lab_tcpdump_text | grep -qE "$rst" || fail "no RST at SND.NXT-1 on the wire$(hs_view)$(peer_view)"
	# the probe behind it drew an ACK, not an RST
	wire_after "$rst" | grep -qE "IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: " || fail "hs did not probe after its RST$(hs_view)$(peer_view)"
	! wire_after "$rst" | grep -qE "IP $LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: Flags \[R" || fail "the peer answered with RST$(peer_view)"
	wire_after "$rst" | grep -qE "IP $LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: Flags \[\.\], ack $SND_NXT, " ||
		fail "the peer did not answer the probe with an ACK$(hs_view)$(peer_view)"
	peer_established 40000
	peer_untouched 40000
	assert_equal "$(lab_hs_tables a | wc -l)" 1
}

@test "SYN in ESTABLISHED (--flags S): challenge ACK, the peer stays ESTABLISHED" {
	lab
	hs_keep 40000
	send --flags S
	assert_sent
	reaction_is challenge-ack
	still_kept 1
	lab_tcpdump_stop
	local syn="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[S\], seq $SND_NXT,"
	wire_from 40000 | sed 1d | grep -qE 'Flags \[S\]' || fail "no SYN from hs on the wire after the handshake's$(hs_view)$(peer_view)"
	lab_tcpdump_text | grep -qE "$syn" ||
		fail "the SYN is not at SND.NXT ($SND_NXT, relative 1: the default seq) but at $(wire_from 40000 | sed 1d | grep -E 'Flags \[S\]' | grep -oE 'seq [0-9]+')$(hs_view)$(peer_view)"
	peer_answered "$syn" 40000
	peer_established 40000
	peer_untouched 40000
}

@test "data beyond the window (--seq +200000 --data x): a duplicate ACK with the old RCV.NXT, nothing delivered; --expect ack matches it" {
	lab
	hs_keep 40000
	send --seq +200000 --data x --expect ack
	assert_sent
	reaction_is dup-ack
	still_kept 1
	lab_tcpdump_stop
	local far
	far="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[P\.\], seq $(seq_add "$SND_NXT" 200000):$(seq_add "$SND_NXT" 200001), ack $RCV_NXT,"
	lab_tcpdump_text | grep -qE "$far" || fail "no 1-byte segment at SND.NXT+200000 on the wire$(hs_view)$(peer_view)"
	peer_answered "$far" 40000
	peer_established 40000
	peer_untouched 40000
	# SND.NXT did not move: the next byte goes where it was
	send --data y
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 1 bytes: 'y'\$" || fail "y did not arrive$(hs_view)$(peer_view)"
}

@test "old data (--seq -1 --data Z, the byte before SND.NXT): a duplicate ACK, nothing delivered" {
	lab
	hs_keep 40000
	send --seq -1 --data Z --expect dup-ack
	assert_sent
	reaction_is dup-ack
	still_kept 1
	lab_tcpdump_stop
	local old
	old="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[P\.\], seq $(seq_add "$SND_NXT" -1):$SND_NXT, ack $RCV_NXT,"
	lab_tcpdump_text | grep -qE "$old" || fail "no byte at SND.NXT-1 on the wire$(hs_view)$(peer_view)"
	peer_answered "$old" 40000
	peer_established 40000
	peer_untouched 40000
}

@test "in-sequence data (--data hello, then --data world): acknowledged, the peer's program reads both; fin continues after them" {
	lab
	hs_keep 40000
	send --data hello
	assert_sent
	reaction_is ack
	still_kept 1
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 5 bytes: 'hello'\$" || fail "hello did not arrive$(hs_view)$(peer_view)"
	# SND.NXT advanced in the store: the next one follows on
	send --data world
	assert_sent
	reaction_is ack
	still_kept 1
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 5 bytes: 'world'\$" || fail "world did not arrive$(hs_view)$(peer_view)"
	hs_a fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "the peer saw no EOF$(hs_view)$(peer_view)"
	wait_until 2 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)"
	# exactly hello then world, nothing else
	[[ $(grep -E "^(received|eof) $LAB_ADDR_A:40000" "$LAB_DIR/peer.out" | cut -d' ' -f1,3- | xargs) == \
		"received 5 bytes: hello received 5 bytes: world eof (the client sent FIN)" ]] ||
		fail "the peer's program: $(cat "$LAB_DIR/peer.out")"
	lab_tcpdump_stop
	local s5 s10
	s5=$(seq_add "$SND_NXT" 5) s10=$(seq_add "$SND_NXT" 10)
	wire_from 40000 | grep -qE "Flags \[P\.\], seq $SND_NXT:$s5, ack $RCV_NXT, .*length 5" ||
		fail "hello not at SND.NXT$(peer_view)"
	# options as negotiated: timestamps
	wire_from 40000 | grep -qE "Flags \[P\.\], seq $SND_NXT:$s5, .*options \[nop,nop,TS val [0-9]+ ecr [0-9]+\]" ||
		fail "hello does not carry the negotiated timestamps$(peer_view)"
	wire_from 40000 | grep -qE "Flags \[P\.\], seq $s5:$s10, ack $RCV_NXT, .*length 5" ||
		fail "world not right after hello$(peer_view)"
	wire_to 40000 | grep -qE "Flags \[\.\], ack $s5, " || fail "the peer did not acknowledge hello$(peer_view)"
	wire_to 40000 | grep -qE "Flags \[\.\], ack $s10, " || fail "the peer did not acknowledge world$(peer_view)"
	assert_no_guard_left
	assert_no_state_left
}

# first_answer REGEX SPORT: the class of the peer's first segment after ours (the
# first capture line matching REGEX), as the capture shows it: rst, fin, data or
# bare (an ACK without data), or nothing.
first_answer() {
	local line
	line=$(wire_after "$1" | grep -E "IP $LAB_ADDR_B\.8080 > $LAB_ADDR_A\.$2: " | head -n1)
	case $line in
	'') echo nothing ;;
	*'Flags [R'*) echo rst ;;
	*'Flags [F'*) echo fin ;;
	*', length 0'*) echo bare ;;
	*) echo data ;;
	esac
}

@test "in-sequence data to an echoing peer: the reaction is its first answer as captured; hs fin later takes the echo in" {
	lab_setup
	lab_peer
	lab_tcpdump_start tcp or icmp
	hs_keep 40000
	send --data ping
	assert_sent
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 4 bytes: 'ping'\$" || fail "$(hs_view)$(peer_view)"
	local r first
	r=$(field "$(result)" reaction)
	first=$(first_answer "IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[P\.\], seq $SND_NXT:" 40000)
	case $first in
	bare) [[ $r == ack ]] || fail "the peer's first answer is a bare ACK of ping, reaction '$r'$(hs_view)$(peer_view)" ;;
	data) [[ $r == data ]] || fail "the peer's first answer carries the echo, reaction '$r'$(hs_view)$(peer_view)" ;;
	*) fail "the peer's first answer: $first$(hs_view)$(peer_view)" ;;
	esac
	# the echo, unacknowledged while no hs runs, is taken in by the next hs
	hs_a fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	[[ -n $(segs '.dir == "in" and .data == "ping"') || $r == data && -n $(segs '.dir == "in"') ]] ||
		fail "hs fin did not take in the echo$(hs_view)"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(hs_view)$(peer_view)"
	wait_until 2 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)$(hs_view)"
}

@test "a FIN at SND.NXT (--flags FA): the peer's program reads EOF and closes; the reaction is its first answer; the store forgets it" {
	lab
	hs_keep 40000
	send --flags FA
	assert_sent
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "the peer's program saw no EOF$(hs_view)$(peer_view)"
	wait_until 2 peer_has_none 8080 40000 || fail "the peer keeps: $(peer_conns 8080 40000)$(hs_view)"
	lab_tcpdump_stop
	local fin="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[F\.\], seq $SND_NXT, ack $RCV_NXT,"
	lab_tcpdump_text | grep -qE "$fin" || fail "no FIN,ACK at SND.NXT on the wire$(hs_view)$(peer_view)"
	local r first
	r=$(field "$(result)" reaction)
	first=$(first_answer "$fin" 40000)
	case $first in
	fin) [[ $r == fin ]] || fail "the peer's first answer is its FIN, reaction '$r'$(hs_view)$(peer_view)" ;;
	bare) [[ $r == ack ]] || fail "the peer's first answer is a bare ACK of our FIN, reaction '$r'$(hs_view)$(peer_view)" ;;
	*) fail "the peer's first answer: $first$(hs_view)$(peer_view)" ;;
	esac
	# hs acknowledged the peer's FIN (its LAST-ACK ended above) and sent no RST
	! wire_from 40000 | grep -q 'Flags \[R' || fail "hs sent an RST$(peer_view)"
	not_kept
}

@test "out of order: world at +5 is held by the peer (dup-ack), hello fills the gap and it reads helloworld; the next byte follows both" {
	lab
	hs_keep 40000
	send --seq +5 --data world
	assert_sent
	reaction_is dup-ack
	still_kept 1
	! peer_said '^received ' || fail "world was delivered before the gap was filled$(peer_view)"
	send --data hello
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 10 bytes: 'helloworld'\$" || fail "the peer did not read helloworld$(hs_view)$(peer_view)"
	# the peer acknowledged all ten bytes: the store continues after world, not after hello
	send --data '!'
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 1 bytes: '!'\$" || fail "! did not arrive$(hs_view)$(peer_view)"
	lab_tcpdump_stop
	wire_from 40000 | grep -qE "Flags \[P\.\], seq $(seq_add "$SND_NXT" 10):$(seq_add "$SND_NXT" 11), " ||
		fail "! is not at SND.NXT+10$(hs_view)$(peer_view)"
	wire_to 40000 | grep -qE "Flags \[\.\], ack $(seq_add "$SND_NXT" 10), " || fail "the peer did not acknowledge 10 bytes$(peer_view)"
	peer_established 40000
}

@test "overlapping data (--seq -2 --data 'lo!!' after hello): the peer reads only the 2 new bytes; the next byte follows them" {
	lab
	hs_keep 40000
	send --data hello
	assert_sent
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 5 bytes: 'hello'\$" || fail "$(hs_view)$(peer_view)"
	send --seq -2 --data 'lo!!'
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 2 bytes: '!!'\$" || fail "the peer did not read the 2 new bytes$(hs_view)$(peer_view)"
	send --data '?'
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 1 bytes: '\\?'\$" || fail "? did not arrive after them$(hs_view)$(peer_view)"
	lab_tcpdump_stop
	wire_from 40000 | grep -qE "Flags \[P\.\], seq $(seq_add "$SND_NXT" 3):$(seq_add "$SND_NXT" 7), " || fail "lo!! not at +3$(peer_view)"
	wire_from 40000 | grep -qE "Flags \[P\.\], seq $(seq_add "$SND_NXT" 7):$(seq_add "$SND_NXT" 8), " || fail "? not at +7$(peer_view)"
}

@test "PAWS: data whose TSval is older than the last one the peer saw (in the notation's <TS val N ecr 0>): dropped with a duplicate ACK; SND.NXT stays" {
	lab
	hs_keep 40000
	[[ -n $TSVAL ]] || fail "no timestamps in the handshake"
	local old_ts
	old_ts=$(seq_add "$TSVAL" -100000)
	send "P. 1:3(2) ack 1 <nop,nop,TS val $old_ts ecr 0>"
	assert_sent
	reaction_is dup-ack
	still_kept 1
	local old
	old="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[P\.\], seq $SND_NXT:$(seq_add "$SND_NXT" 2), ack $RCV_NXT, win [0-9]+, options \[nop,nop,TS val $old_ts ecr 0\], length 2"
	lab_tcpdump_text | grep -qE "$old" || fail "the segment is not on the wire as written$(hs_view)$(peer_view)"
	peer_answered "$old" 40000
	peer_untouched 40000
	send --data ok
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 2 bytes: 'ok'\$" || fail "ok did not arrive at SND.NXT$(hs_view)$(peer_view)"
}

@test "a FIN without ACK (--flags F): Linux drops it, no answer, no EOF; the connection stays kept ESTABLISHED and the next data arrives" {
	lab
	hs_keep 40000
	send --flags F
	assert_sent
	reaction_is none
	still_kept 1
	expect "$(result)" state ESTABLISHED
	lab_tcpdump_text | grep -qE "IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[F\], seq $SND_NXT," ||
		fail "no bare FIN at SND.NXT on the wire$(hs_view)$(peer_view)"
	peer_established 40000
	peer_untouched 40000
	send --data after
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 5 bytes: 'after'\$" || fail "after did not arrive at SND.NXT$(hs_view)$(peer_view)"
	peer_established 40000
}

@test "an ACK of data the peer never sent (--flags A --ack +100000): no answer or a challenge ACK, as the capture shows; the peer stays ESTABLISHED" {
	lab
	hs_keep 40000
	send --flags A --ack +100000
	assert_sent
	still_kept 1
	lab_tcpdump_stop
	local ours
	ours="IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[\.\], ack $(seq_add "$RCV_NXT" 100000),"
	lab_tcpdump_text | grep -qE "$ours" || fail "no ACK of RCV.NXT+100000 on the wire$(hs_view)$(peer_view)"
	local r answer
	r=$(field "$(result)" reaction)
	answer=$(wire_after "$ours" | grep -E "IP $LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: ")
	case $r in
	challenge-ack) grep -qE "Flags \[\.\], ack $SND_NXT, " <<<"$answer" || fail "challenge-ack, but the peer sent no such ACK$(hs_view)$(peer_view)" ;;
	none) [[ -z $answer ]] || fail "none, but the peer answered: $answer$(hs_view)" ;;
	*) fail "reaction '$r', expected none or challenge-ack$(hs_view)$(peer_view)" ;;
	esac
	peer_established 40000
	peer_untouched 40000
}

@test "--bad-checksum --data x: the peer's kernel drops it (InCsumErrors), no reaction, nothing delivered; SND.NXT stays" {
	lab
	hs_keep 40000
	local before
	before=$(tcp_mib InCsumErrors)
	send --bad-checksum --data x
	assert_sent
	reaction_is none
	still_kept 1
	(($(tcp_mib InCsumErrors) > before)) || fail "the peer's InCsumErrors did not grow ($before)$(hs_view)$(peer_view)"
	peer_untouched 40000
	# the bad segment did not advance SND.NXT: the next byte goes where x would have
	send --data y
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 1 bytes: 'y'\$" || fail "y did not arrive$(hs_view)$(peer_view)"
	! peer_said "'x'" || fail "x was delivered$(peer_view)"
	lab_tcpdump_stop
	[[ $(wire_from 40000 | grep -cE "Flags \[P\.\], seq $SND_NXT:$(seq_add "$SND_NXT" 1), .*length 1") == 2 ]] ||
		fail "not x and then y, both at SND.NXT$(hs_view)$(peer_view)"
	peer_established 40000
}

@test "--ttl 1 through a router: the router's time exceeded comes back as reaction icmp; nothing reaches the peer" {
	lab_setup_routed
	lab_peer --no-echo
	lab_tcpdump_start tcp or icmp
	lab_bg "$LAB_R" router.log tcpdump -i "$LAB_IF_RA" -n -U --immediate-mode -Z root -w "$LAB_DIR/router.pcap" icmp
	wait_until 5 grep -q 'listening on' "$LAB_DIR/router.log" || fail "tcpdump in the router: $(cat "$LAB_DIR/router.log")"
	local rpid=$LAB_BG_PID
	hs_keep 40000
	send --ttl 1 --data x --expect icmp
	assert_sent
	reaction_is icmp
	still_kept 1
	kill -INT "$rpid"
	wait_until 3 lab_gone "$rpid"
	lab_tcpdump_stop
	lab_tcpdump_text "$LAB_DIR/router.pcap" | grep -qE "IP 198\.18\.1\.1 > $LAB_ADDR_A: ICMP time exceeded in-transit" ||
		fail "the router sent no time exceeded: $(lab_tcpdump_text "$LAB_DIR/router.pcap")$(hs_view)"
	# x never reached the peer (only what hs sent with the default TTL did)
	! wire_from 40000 | grep -qE "seq $SND_NXT:$(seq_add "$SND_NXT" 1), .*length 1" ||
		fail "the segment with TTL 1 reached the peer$(peer_view)"
	[[ -n $(segs '.dir == "out" and .data == "x"') ]] || fail "hs does not show x sent$(hs_view)"
	peer_established 40000
	peer_untouched 40000
}

# wire_v: the capture as tcpdump -v shows it, each packet on one line (IP header
# fields, then the TCP line).
wire_v() {
	tcpdump -r "$LAB_DIR/capture.pcap" -n -S -v 2>/dev/null | awk '/^[0-9]/ { if (l) print l; l = $0; next } { l = l " " $0 } END { if (l) print l }'
}

@test "fields on the wire as given (--ttl --tos --ip-id --df/--no-df --win --urg --opt --data-hex --data-file, --data escapes); --seq =N is absolute" {
	lab
	hs_keep 40000
	send --data-hex 41420a --ttl 33 --tos 16 --ip-id 4242 --df --win 1234 --opt mss=1000
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 3 bytes: 'AB\\\\n'\$" || fail "AB\\n did not arrive$(hs_view)$(peer_view)"
	printf 'from a file' >"$BATS_TEST_TMPDIR/payload"
	send --data-file "$BATS_TEST_TMPDIR/payload" --no-df --ip-id 4243
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 11 bytes: 'from a file'\$" || fail "the file did not arrive$(hs_view)$(peer_view)"
	send --data 'a\tb\x41\n'
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 5 bytes: 'a\\\\tbA\\\\n'\$" || fail "the escapes did not arrive as bytes$(hs_view)$(peer_view)"
	# an exact RST written as an absolute number: SND.NXT is past all three
	local end
	end=$(seq_add "$SND_NXT" 19)
	send --flags RU --urg 7 --seq "=$end"
	assert_sent
	wait_until 2 peer_said "^reset $LAB_ADDR_A:40000 " || fail "the RST at =$end did not reset the peer$(hs_view)$(peer_view)"
	lab_tcpdump_stop
	local one two
	one=$(wire_v | grep -E "$LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[P\.\].*, seq $SND_NXT:$(seq_add "$SND_NXT" 3),")
	[[ -n $one ]] || fail "the first segment is not on the wire at SND.NXT$(peer_view)"
	[[ $one == *"tos 0x10, ttl 33, id 4242, offset 0, flags [DF]"* ]] || fail "IP fields: $one"
	[[ $one == *"win 1234, options [mss 1000], length 3"* ]] || fail "TCP fields: $one"
	two=$(wire_v | grep -E "$LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[P\.\].*, seq $(seq_add "$SND_NXT" 3):$(seq_add "$SND_NXT" 14),")
	[[ -n $two ]] || fail "the second segment is not on the wire right after the first$(peer_view)"
	[[ $two == *"id 4243, offset 0, flags [none]"* ]] || fail "IP fields (--no-df): $two"
	wire_from 40000 | grep -qE "Flags \[RU\], seq $end, win [0-9]+, urg 7, " || fail "no RST,URG with urg 7 at $end$(peer_view)"
	wait_until 2 peer_has_none 8080 40000
	not_kept
}

@test "the peer reset the connection while no hs ran: hs send meets its RST, the store forgets the connection" {
	lab_setup
	local cue=$LAB_DIR/cue
	lab_bg b peer.out /usr/bin/python3 -u "$BATS_TEST_DIRNAME/../peers/cued.py" --port 8080 "cue=$cue" abort
	wait_until 5 lab_listening b 8080 || fail "cued.py does not listen: $(cat "$LAB_DIR/peer.out")"
	lab_tcpdump_start tcp or icmp
	hs_keep 40000
	touch "$cue"
	wait_until 2 peer_said "^aborted $LAB_ADDR_A:40000" || fail "$(peer_view)"
	wait_until 2 peer_has_none 8080 40000
	send --data x
	# either our segment left and met the RST (exit 0, reaction rst), or hs's resume
	# probe met it first and x never left (exit 1, outcome reset)
	local out=$output
	case $status in
	0)
		expect "$(result)" outcome sent
		reaction_is rst
		;;
	1)
		expect "$(result)" outcome reset
		lab_assert_hs_error 'reset'
		[[ -z $(segs '.dir == "out" and .data == "x"') ]] || fail "x left, yet the outcome is reset$(hs_view)"
		;;
	*) fail "exit $status$(hs_view)" ;;
	esac
	not_kept
	output=$out
	lab_tcpdump_stop
	# the peer's RST when it aborted, and one more for what hs sent after it
	local last
	last=$(segs '.dir == "out"' | tail -n1)
	wire_after "IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[[^]]*\], seq $(field "$last" seq)" |
		grep -qE "IP $LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: Flags \[R" ||
		fail "no RST from the peer after hs's last segment$(hs_view)$(peer_view)"
}

@test "CONN picks the connection: by id, by LOCAL-REMOTE, by LOCAL; without it the most recent" {
	lab
	hs_keep 40000
	hs_keep 40001
	hs_keep 40002
	send --data three
	assert_sent
	expect "$(result)" local "$LAB_ADDR_A:40002"
	send 1 --data one
	assert_sent
	expect "$(result)" local "$LAB_ADDR_A:40000"
	send "$LAB_ADDR_A:40001-$LAB_ADDR_B:8080" --data two
	assert_sent
	expect "$(result)" local "$LAB_ADDR_A:40001"
	send "$LAB_ADDR_A:40000" 'P. 4:6(2) ack 1'
	assert_sent
	expect "$(result)" local "$LAB_ADDR_A:40000"
	local p want
	for p in 40000:"one" 40001:"two" 40002:"three"; do
		wait_until 2 peer_said "^received $LAB_ADDR_A:${p%%:*} [0-9]+ bytes: '${p#*:}'\$" ||
			fail "${p#*:} did not arrive from ${p%%:*}$(hs_view)$(peer_view)"
	done
	# the notation's (2) with no bytes given: two zero bytes right after "one"
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 2 bytes: '\\\\x00\\\\x00'\$" ||
		fail "the notation's 2 bytes did not arrive after one$(hs_view)$(peer_view)"
	want="received $LAB_ADDR_A:40000 3 bytes: 'one'"
	[[ $(grep -c "^received $LAB_ADDR_A:" "$LAB_DIR/peer.out") == 4 ]] || fail "$(peer_view)"
	grep -qx "$want" "$LAB_DIR/peer.out" || fail "$(peer_view)"
}

@test "IPv6: an in-window RST draws a challenge ACK (the peer stays ESTABLISHED); a standalone SYN draws syn-ack" {
	lab
	wait_until 5 no_tentative_addresses
	hs_a connect "$LAB_ADDR6_B" 8080 --sport 40000 --json --state-dir "$STATE"
	assert_success
	local ack snd
	ack=$(segs '.dir == "out" and .flags == "ACK"' | head -n1)
	snd=$(field "$ack" seq)
	wait_until 2 peer_said "^accepted \\[$LAB_ADDR6_A\\]:40000" || fail "$(peer_view)"
	send --flags R --seq +1000
	assert_sent
	reaction_is challenge-ack
	send "$LAB_ADDR6_B" 8080 --sport 41000
	assert_sent
	reaction_is syn-ack
	lab_tcpdump_stop
	local wire
	wire=$(lab_tcpdump_text)
	grep -qE "IP6 $LAB_ADDR6_A\.40000 > $LAB_ADDR6_B\.8080: Flags \[R\], seq $(seq_add "$snd" 1000)," <<<"$wire" ||
		fail "no RST at SND.NXT+1000 over IPv6$(hs_view)$(peer_view)"
	grep -qE "IP6 $LAB_ADDR6_B\.8080 > $LAB_ADDR6_A\.40000: Flags \[\.\], ack $snd," <<<"$wire" ||
		fail "no challenge ACK over IPv6$(peer_view)"
	grep -qE "IP6 $LAB_ADDR6_A\.41000 > $LAB_ADDR6_B\.8080: Flags \[R\]" <<<"$wire" || fail "no RST after the SYN,ACK$(peer_view)"
	[[ $(lab_b ss -Htan state established "sport = :8080" | grep -c "\[$LAB_ADDR6_A\]:40000") == 1 ]] ||
		fail "the peer's IPv6 connection is not ESTABLISHED: $(lab_b ss -Htan)"
	wait_until 2 peer6_has_none 41000 || fail "the peer keeps 41000: $(lab_b ss -Htan)"
	! peer_said '^(reset|eof|received)' || fail "$(peer_view)"
}

@test "IPv6 fields: --ttl is the hop limit, --tos the traffic class; --ip-id/--df are refused (exit 2, nothing sent); --bad-checksum is dropped" {
	lab
	wait_until 5 no_tentative_addresses
	hs_a connect "$LAB_ADDR6_B" 8080 --sport 40000 --json --state-dir "$STATE"
	assert_success
	local snd
	snd=$(field "$(segs '.dir == "out" and .flags == "ACK"' | head -n1)" seq)
	wait_until 2 peer_said "^accepted \\[$LAB_ADDR6_A\\]:40000" || fail "$(peer_view)"
	local b n
	for b in "--ip-id 5" "--df" "--no-df"; do
		n=$(lab_tcpdump_text | grep -c "IP6 $LAB_ADDR6_A\.40000 >")
		# shellcheck disable=SC2086
		send --data a $b
		((status == 2)) || fail "IPv6 with $b: exit $status, expected 2$(hs_view)"
		lab_assert_hs_error 'IPv4|IPv6'
		(($(lab_tcpdump_text | grep -c "IP6 $LAB_ADDR6_A\.40000 >") == n)) || fail "hs sent something for $b$(peer_view)"
	done
	send --data c --ttl 5 --tos 16
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received \\[$LAB_ADDR6_A\\]:40000 1 bytes: 'c'\$" || fail "$(hs_view)$(peer_view)"
	local before
	before=$(tcp_mib InCsumErrors)
	send --data d --bad-checksum
	assert_sent
	reaction_is none
	(($(tcp_mib InCsumErrors) > before)) || fail "the peer's InCsumErrors did not grow$(hs_view)$(peer_view)"
	send --data e
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received \\[$LAB_ADDR6_A\\]:40000 1 bytes: 'e'\$" || fail "e did not follow c$(hs_view)$(peer_view)"
	! peer_said "'[ad]'" || fail "a or d was delivered$(peer_view)"
	lab_tcpdump_stop
	tcpdump -r "$LAB_DIR/capture.pcap" -n -S -v 2>/dev/null | grep -E "^[0-9].*class 0x10, hlim 5, " -A1 |
		grep -qE "$LAB_ADDR6_A\.40000 > $LAB_ADDR6_B\.8080: Flags \[P\.\].*seq $snd:$(seq_add "$snd" 1)," ||
		fail "no segment with traffic class 0x10 and hop limit 5 carrying c$(peer_view)"
}

@test "a SYN in the notation with options to an open port: on the wire as written; syn-ack" {
	lab
	send "$LAB_ADDR_B" 8080 --sport 41000 'S 0:0(0) win 1000 <mss 536,nop,nop,sackOK>'
	assert_sent
	reaction_is syn-ack
	lab_tcpdump_stop
	wire_from 41000 | grep -qE 'Flags \[S\], seq [0-9]+, win 1000, options \[mss 536,nop,nop,sackOK\], length 0' ||
		fail "the SYN is not as written$(hs_view)$(peer_view)"
	# the peer took the MSS: its SYN,ACK offers no more than its own, and hs answered it with RST
	wire_to 41000 | grep -qE 'Flags \[S\.\], .*options \[mss 1460,nop,nop,sackOK\]' ||
		fail "the peer's SYN,ACK does not answer those options$(peer_view)"
	wait_until 2 peer_has_none 8080 41000
}

@test "the peer half-closed while no hs ran: hs send takes its FIN in, the data still reaches its program (CLOSE-WAIT kept), fin ends it" {
	lab_setup
	local cue=$LAB_DIR/cue
	lab_bg b peer.out /usr/bin/python3 -u "$BATS_TEST_DIRNAME/../peers/cued.py" --port 8080 "cue=$cue" shutdown eof close
	wait_until 5 lab_listening b 8080 || fail "cued.py does not listen: $(cat "$LAB_DIR/peer.out")"
	lab_tcpdump_start tcp
	hs_keep 40000
	touch "$cue"
	wait_until 2 peer_said "^shutdown $LAB_ADDR_A:40000" || fail "$(peer_view)"
	send --data x
	assert_sent
	reaction_is ack
	still_kept 1
	expect "$(result)" state CLOSE-WAIT
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 1 bytes: 'x'\$" || fail "x did not arrive$(hs_view)$(peer_view)"
	[[ $(peer_conns 8080 40000 | awk '{ print $1 }') == FIN-WAIT-2 ]] || fail "the peer is not in FIN-WAIT-2 (its FIN taken)$(hs_view)$(peer_view)"
	hs_a fin --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000" || fail "$(hs_view)$(peer_view)"
	wait_until 2 peer_said '^done ok$' || fail "$(peer_view)"
	wait_until 2 peer_in_time_wait 8080 40000 || fail "the peer: $(peer_conns 8080 40000)"
	assert_no_guard_left
	assert_no_state_left
}

@test "data larger than the path allows (2000 bytes on a 1500-byte link): one clear line, nothing sent, the connection kept; the next send works" {
	lab
	hs_keep 40000
	head -c 2000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big"
	send --data-file "$BATS_TEST_TMPDIR/big"
	((status == 2 || status == 4)) || fail "exit $status, expected 2 or 4$(hs_view)"
	lab_assert_hs_error 'too long|too large|MTU|1500'
	# one clean line: no control character (a library's trailing newline) shown as '?'
	[[ ${stderr_lines[0]} != *'?'* ]] || fail "a '?' in the message: ${stderr_lines[0]}"
	still_kept 1
	send --data hi
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 2 bytes: 'hi'\$" || fail "$(hs_view)$(peer_view)"
	lab_tcpdump_stop
	! wire_from 40000 | grep -qE 'length (2000|1[0-9]{3})' || fail "a big segment reached the peer$(peer_view)"
	[[ $(grep -c "^received $LAB_ADDR_A:40000" "$LAB_DIR/peer.out") == 1 ]] || fail "$(peer_view)"
}

@test "one kept connection, one hs at a time: hs send while hs fin --wait works on it is refused (exit 2), nothing sent" {
	lab
	hs_keep 40000
	hs_bg fin --wait --timeout 5 --json --state-dir "$STATE"
	wait_until 5 grep -q '"dir":"in"' "$LAB_DIR/hs.out" || fail "hs fin --wait did not start: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	local n
	n=$(wire_from 40000 | wc -l)
	send --data x
	((status == 2)) || fail "exit $status, expected 2$(hs_view)"
	lab_assert_hs_error 'in use|another running hs'
	(($(wire_from 40000 | wc -l) == n)) || fail "hs send sent something$(hs_view)$(peer_view)"
	! peer_said "^received $LAB_ADDR_A:40000" || fail "$(peer_view)"
	kill -INT "$HS_PID"
	hs_finish 5
	peer_established 40000
}

@test "the peer sent data while no hs ran: hs send takes it in first, and the crafted segment acknowledges it (ack defaults to the new RCV.NXT)" {
	lab_setup
	local cue=$LAB_DIR/cue
	lab_bg b peer.out /usr/bin/python3 -u "$BATS_TEST_DIRNAME/../peers/cued.py" --port 8080 "cue=$cue" send=late eof close
	wait_until 5 lab_listening b 8080 || fail "cued.py does not listen: $(cat "$LAB_DIR/peer.out")"
	lab_tcpdump_start tcp
	hs_keep 40000
	touch "$cue"
	wait_until 2 peer_said "^sent $LAB_ADDR_A:40000 4 bytes: 'late'" || fail "$(peer_view)"
	send --data x
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 1 bytes: 'x'\$" || fail "x did not arrive$(hs_view)$(peer_view)"
	[[ -n $(segs '.dir == "in" and .data == "late"') ]] || fail "hs does not show the peer's data$(hs_view)"
	lab_tcpdump_stop
	local ack
	ack=$(seq_add "$RCV_NXT" 4)
	wire_from 40000 | grep -qE "Flags \[P\.\], seq $SND_NXT:$(seq_add "$SND_NXT" 1), ack $ack, " ||
		fail "x does not acknowledge the peer's 4 bytes (ack $ack)$(hs_view)$(peer_view)"
	# nothing of the peer's is left unacknowledged
	[[ $(lab_b ss -Htan "sport = :8080 and dport = :40000" | awk '{ print $3 }') == 0 ]] ||
		fail "the peer's Send-Q: $(lab_b ss -Htan "sport = :8080 and dport = :40000")"
}

@test "stale: hs send into a connection whose guard table was deleted by hand: exit 1, one line, nothing sent, removed" {
	lab
	hs_keep 40000
	local guard
	guard=$(lab_hs_tables a)
	lab_a nft delete table inet "$guard"
	send --data x
	((status == 1)) || fail "exit $status, expected 1$(hs_view)"
	lab_assert_hs_error "stale.*$guard|$guard.*stale"
	[[ -z $(segs '.dir == "out"') ]] || fail "hs sent segments$(hs_view)"
	assert_no_state_left
	lab_tcpdump_stop
	(($(wire_from 40000 | wc -l) == 2)) || fail "hs sent more than SYN and ACK$(peer_view)"
	peer_established 40000
	peer_untouched 40000
}

@test "SIGTERM while hs send watches for a reaction that does not come: exit 143, the connection stays kept with its guard, the peer ESTABLISHED" {
	lab
	hs_keep 40000
	local guard
	guard=$(lab_hs_tables a)
	hs_bg send --bad-checksum --data x --timeout 10 --json --state-dir "$STATE"
	# the crafted segment has left (the peer's kernel counted its bad checksum)
	wait_until 5 eval '[[ -n $(jq -c "select(.type == \"segment\" and .dir == \"out\" and .data == \"x\")" "$LAB_DIR/hs.out") ]]' ||
		fail "hs did not send x: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	kill -TERM "$HS_PID"
	hs_finish 5
	((status == 143)) || fail "exit $status, expected 143$(hs_view)"
	lab_assert_hs_error 'SIGTERM'
	[[ $(lab_hs_tables a) == "$guard" ]] || fail "guards: '$(lab_hs_tables a)', expected '$guard'"
	[[ -f $STATE/1.conn ]] || fail "the record is gone: $(ls -A "$STATE")"
	peer_established 40000
	peer_untouched 40000
	# and it goes on from where it was
	send --data y
	assert_sent
	reaction_is ack
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 1 bytes: 'y'\$" || fail "$(hs_view)$(peer_view)"
}

# ---- --expect -----------------------------------------------------------------------

@test "--expect on a kept connection: a challenge ACK matches ack (exit 0), not data,fin (exit 1, one line)" {
	lab
	hs_keep 40000
	local snd1=$SND_NXT
	hs_keep 40001
	local snd2=$SND_NXT
	send 1 --flags R --seq +1000 --expect ack
	assert_sent
	reaction_is challenge-ack
	send 2 --flags R --seq +1000 --expect data,fin
	((status == 1)) || fail "exit $status, expected 1$(hs_view)"
	lab_assert_hs_error
	reaction_is challenge-ack
	expect "$(result)" outcome sent
	lab_tcpdump_stop
	SND_NXT=$snd1 peer_answered "IP $LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[R\], seq $(seq_add "$snd1" 1000)," 40000
	SND_NXT=$snd2 peer_answered "IP $LAB_ADDR_A\.40001 > $LAB_ADDR_B\.8080: Flags \[R\], seq $(seq_add "$snd2" 1000)," 40001
	local p
	for p in 40000 40001; do
		peer_established "$p"
		peer_untouched "$p"
	done
}

# ---- without a connection: hs send HOST PORT -----------------------------------------

@test "a SYN to an open port: syn-ack; hs resets it, the peer keeps no SYN-RECV and accepts nothing" {
	lab
	send "$LAB_ADDR_B" 8080 --sport 41000 --expect syn-ack
	assert_sent
	reaction_is syn-ack
	assert_no_guard_left
	wait_until 2 peer_has_none 8080 41000 || fail "the peer keeps: $(peer_conns 8080 41000)$(hs_view)"
	lab_tcpdump_stop
	local syn synack rst
	syn=$(wire_from 41000 | grep -E 'Flags \[S\], seq [0-9]+, ')
	[[ $(wc -l <<<"$syn") == 1 && -n $syn ]] || fail "not one SYN from 41000$(peer_view)"
	synack=$(wire_to 41000 | grep -E 'Flags \[S\.\]')
	[[ $(wc -l <<<"$synack") == 1 && -n $synack ]] || fail "not one SYN,ACK from the peer (a retransmission: nobody reset it)$(peer_view)"
	local iss
	iss=$(sed -E 's/.*Flags \[S\], seq ([0-9]+),.*/\1/' <<<"$syn")
	rst=$(wire_from 41000 | grep -E 'Flags \[R')
	[[ $(wc -l <<<"$rst") == 1 && -n $rst ]] || fail "not one RST from 41000 (hs's alone: the guard held)$(peer_view)"
	grep -qE "seq $(seq_add "$iss" 1)," <<<"$rst" || fail "the RST is not at ISS+1: $rst"
	# hs's own, at once: not the kernel's after hs left (its SYN,ACK resent a second later)
	awk -v a="${synack%% *}" -v r="${rst%% *}" 'BEGIN { exit !(r - a < 0.5) }' ||
		fail "the RST came $(awk -v a="${synack%% *}" -v r="${rst%% *}" 'BEGIN { print r - a }') s after the SYN,ACK$(peer_view)"
	[[ -n $(segs '.dir == "out" and (.flags | test("RST"))') ]] || fail "hs does not show its RST$(hs_view)"
	! peer_said '^accepted ' || fail "the peer's program accepted a connection$(peer_view)"
}

@test "a SYN to a closed port: rst; --expect rst exits 0, --expect syn-ack exits 1, --expect syn-ack,rst exits 0" {
	lab
	send "$LAB_ADDR_B" 8081 --sport 41000 --expect rst
	assert_sent
	reaction_is rst
	send "$LAB_ADDR_B" 8081 --sport 41001 --expect syn-ack
	((status == 1)) || fail "exit $status, expected 1$(hs_view)"
	lab_assert_hs_error
	reaction_is rst
	expect "$(result)" outcome sent
	send "$LAB_ADDR_B" 8081 --sport 41002 --expect syn-ack,rst
	assert_sent
	reaction_is rst
	assert_no_guard_left
	lab_tcpdump_stop
	local p
	for p in 41000 41001 41002; do
		[[ $(wire_from "$p" 8081 | grep -c 'Flags \[S\]') == 1 ]] || fail "not one SYN from $p$(peer_view)"
		wire_to "$p" 8081 | grep -qE 'Flags \[R\.\], seq 0, ack ' || fail "the peer did not reset $p$(peer_view)"
	done
}

@test "a SYN to a filtered port (the peer's firewall drops it): none; --expect none exits 0, --expect syn-ack,rst exits 1" {
	lab
	lab_nft b <<-'EOF'
		table inet labdrop {
			chain in {
				type filter hook input priority 0;
				tcp dport 8082 counter drop
			}
		}
	EOF
	send "$LAB_ADDR_B" 8082 --sport 41000 --expect none
	assert_sent
	reaction_is none
	send "$LAB_ADDR_B" 8082 --sport 41001 --expect syn-ack,rst
	((status == 1)) || fail "exit $status, expected 1$(hs_view)"
	lab_assert_hs_error
	reaction_is none
	assert_no_guard_left
	# one SYN each reached the peer's firewall
	lab_b nft list table inet labdrop | grep -qE 'counter packets 2 ' ||
		fail "the drop rule did not count two SYNs: $(lab_b nft list table inet labdrop)"
	lab_tcpdump_stop
	! lab_tcpdump_text | grep -qE "IP $LAB_ADDR_B\.8082 > " || fail "the peer answered$(peer_view)"
}

@test "a SYN,ACK in the notation to an open port ('S. 0:0(0) ack 1'): on the wire as written, the peer answers RST; hs shows what it sent" {
	lab
	send "$LAB_ADDR_B" 8080 --sport 41000 'S. 0:0(0) ack 1' --expect rst
	assert_sent
	reaction_is rst
	assert_no_guard_left
	lab_tcpdump_stop
	wire_from 41000 | grep -qE 'Flags \[S\.\], seq [0-9]+, ack 1, ' || fail "the SYN,ACK is not as written$(hs_view)$(peer_view)"
	wire_to 41000 | grep -qE 'Flags \[R\], seq 1, ' || fail "the peer did not answer with RST at seq 1$(peer_view)"
	# no peer ISN is known: numbers are shown relative to 0, as the notation took them
	local out
	out=$(segs '.dir == "out"')
	expect "$out" ack 1
	expect "$out" rack 1
}

@test "a SYN to a port the peer's firewall rejects with ICMP: icmp; --expect icmp exits 0" {
	lab
	lab_nft b <<-'EOF'
		table inet labreject {
			chain in {
				type filter hook input priority 0;
				tcp dport 8083 counter reject with icmp type admin-prohibited
			}
		}
	EOF
	send "$LAB_ADDR_B" 8083 --sport 41000 --expect icmp
	assert_sent
	reaction_is icmp
	assert_no_guard_left
	lab_b nft list table inet labreject | grep -qE 'counter packets 1 ' ||
		fail "the reject rule did not count one SYN: $(lab_b nft list table inet labreject)"
	lab_tcpdump_stop
	lab_tcpdump_text | grep -qE "IP $LAB_ADDR_B > $LAB_ADDR_A: ICMP host $LAB_ADDR_B unreachable - admin prohibited" ||
		fail "no ICMP from the peer on the wire$(hs_view)$(peer_view)"
}

@test "--count 3: three SYNs from three source ports, each answered and reset; one result line" {
	lab
	send "$LAB_ADDR_B" 8080 --count 3 --interval 0.2
	assert_sent
	(($(jqo 'select(.type == "result")' | wc -l) == 1)) || fail "not one result line$(hs_view)"
	# a reaction per probe is reported (loosely: syn-ack named three times before the result)
	(($(head -n -1 <<<"$output" | grep -o 'syn-ack' | wc -l) >= 3)) || fail "not three syn-ack reactions reported$(hs_view)"
	assert_no_guard_left
	lab_tcpdump_stop
	local ports
	ports=$(lab_tcpdump_text | grep -E "IP $LAB_ADDR_A\.[0-9]+ > $LAB_ADDR_B\.8080: Flags \[S\]," |
		sed -E "s/.*IP $LAB_ADDR_A\.([0-9]+) > .*/\1/" | sort -u)
	[[ $(wc -l <<<"$ports") == 3 ]] || fail "SYNs not from three ports: $ports$(peer_view)"
	local p
	for p in $ports; do
		[[ $(wire_from "$p" | grep -c 'Flags \[S\]') == 1 ]] || fail "not one SYN from $p$(peer_view)"
		wire_from "$p" | grep -qE 'Flags \[R' || fail "no RST from $p$(peer_view)"
		wait_until 2 peer_has_none 8080 "$p" || fail "the peer keeps $p: $(peer_conns 8080 "$p")"
	done
	! peer_said '^accepted ' || fail "the peer's program accepted a connection$(peer_view)"
	# --interval 0.2: the SYNs left at least that far apart
	lab_tcpdump_text | grep -E "IP $LAB_ADDR_A\.[0-9]+ > $LAB_ADDR_B\.8080: Flags \[S\]," |
		awk 'NR > 1 && $1 - t < 0.19 { bad = 1 } { t = $1 } END { exit bad }' ||
		fail "SYNs closer than --interval 0.2: $(lab_tcpdump_text | grep 'Flags \[S\],')"
}

@test "SIGINT during --count 10: exit 130, every SYN,ACK the peer sent was reset by hs before it was resent, no guard left" {
	lab
	hs_bg send "$LAB_ADDR_B" 8080 --count 10 --interval 0.5 --json --state-dir "$STATE"
	wait_until 5 eval '(($(lab_tcpdump_text | grep -cE "IP $LAB_ADDR_A\.[0-9]+ > $LAB_ADDR_B\.8080: Flags \[S\],") >= 2))' ||
		fail "hs did not send two SYNs: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	kill -INT "$HS_PID"
	hs_finish 5
	((status == 130)) || fail "exit $status, expected 130$(hs_view)"
	lab_assert_hs_error 'SIGINT'
	expect "$(result)" exit 130
	assert_no_guard_left
	local syns ports p
	syns=$(lab_tcpdump_text | grep -cE "IP $LAB_ADDR_A\.[0-9]+ > $LAB_ADDR_B\.8080: Flags \[S\],")
	((syns >= 2 && syns < 10)) || fail "$syns SYNs: the run did not stop$(hs_view)"
	ports=$(lab_tcpdump_text | grep -E "IP $LAB_ADDR_A\.[0-9]+ > $LAB_ADDR_B\.8080: Flags \[S\]," |
		sed -E "s/.*IP $LAB_ADDR_A\.([0-9]+) > .*/\1/" | sort -u)
	for p in $ports; do
		wait_until 3 peer_has_none 8080 "$p" || fail "the peer keeps $p: $(peer_conns 8080 "$p")$(hs_view)"
	done
	lab_tcpdump_stop
	for p in $ports; do
		# per port: one SYN,ACK, then hs's RST (not the kernel's after the SYN,ACK came again)
		lab_tcpdump_text | grep -E "IP ($LAB_ADDR_A\.$p > .*Flags \[R|$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.$p: Flags \[S\.\])" |
			awk '/Flags \[S\.\]/ { n++ } /Flags \[R/ { exit !(n == 1) } END { if (!NR) exit 1 }' ||
			fail "port $p: no RST from hs before the peer's second SYN,ACK$(hs_view)$(peer_view)"
	done
	! peer_said '^accepted ' || fail "the peer's program accepted a connection$(peer_view)"
}

@test "--count 2 with --sport: both SYNs from that port, each answered and reset" {
	lab
	send "$LAB_ADDR_B" 8080 --count 2 --interval 0.2 --sport 41000
	assert_sent
	assert_no_guard_left
	lab_tcpdump_stop
	[[ $(lab_tcpdump_text | grep -cE "IP $LAB_ADDR_A\.[0-9]+ > $LAB_ADDR_B\.8080: Flags \[S\],") == 2 ]] ||
		fail "not two SYNs$(hs_view)$(peer_view)"
	[[ $(wire_from 41000 | grep -c 'Flags \[S\],') == 2 ]] || fail "not both SYNs from 41000$(hs_view)$(peer_view)"
	[[ $(wire_to 41000 | grep -c 'Flags \[S\.\],') -ge 2 ]] || fail "the peer did not answer both$(peer_view)"
	[[ $(wire_from 41000 | grep -c 'Flags \[R') -ge 2 ]] || fail "hs did not reset both$(peer_view)"
	wait_until 2 peer_has_none 8080 41000 || fail "the peer keeps: $(peer_conns 8080 41000)"
}

# ---- bad values: exit 2, one line, nothing on the wire ------------------------------

@test "bad field values on a kept connection: exit 2, one line, nothing sent, the connection kept as it was" {
	lab
	hs_keep 40000
	local guard store
	guard=$(lab_hs_tables a)
	store=$(find "$STATE" -type f | sort)
	# each case: the arguments, and what the one stderr line must name (the option or the value)
	local -a bad=(
		"--ttl 300|ttl|300" "--flags Q|flag|Q" "--seq x|seq" "--ack +|ack" "--win 70000|win|70000"
		"--tos 256|tos|256" "--urg -1|urg|-1" "--data-hex zz|hex|zz" "--expect bogus|expect|bogus"
		"--data-file $BATS_TEST_TMPDIR/none|$BATS_TEST_TMPDIR/none"
	)
	local b args re
	for b in "${bad[@]}"; do
		args=${b%%|*} re=${b#*|}
		# shellcheck disable=SC2086 # the words of one case
		send $args
		((status == 2)) || fail "hs send $args: exit $status, expected 2$(hs_view)"
		lab_assert_hs_error "$re" || fail "hs send $args"
	done
	send 'S. 0:x(0)'
	((status == 2)) || fail "a malformed notation: exit $status$(hs_view)"
	lab_assert_hs_error
	send 99 --data x
	((status == 2)) || fail "an unknown CONN: exit $status$(hs_view)"
	lab_assert_hs_error 'no kept connection named 99'
	# nothing reached the peer: the capture holds hs's SYN and ACK only
	lab_tcpdump_stop
	[[ $(lab_tcpdump_text | grep -cE "IP $LAB_ADDR_A\.[0-9]+ > ") == 2 ]] ||
		fail "hs sent more than SYN and ACK$(peer_view)"
	peer_established 40000
	peer_untouched 40000
	[[ $(lab_hs_tables a) == "$guard" ]] || fail "guards: '$(lab_hs_tables a)', expected '$guard'"
	[[ $(find "$STATE" -type f | sort) == "$store" ]] || fail "the store changed: $(find "$STATE" -type f)"
	hs_a ls --json --state-dir "$STATE"
	[[ $(jqo -r 'select(.type == "conn") | .probe') == alive ]] || fail "hs ls: $output"
}

@test "bad field values without a connection: exit 2, one line, nothing on the wire, no guard" {
	lab
	local -a bad=("--ttl 300|ttl|300" "--flags Q|flag|Q" "--seq x|seq" "--sport 70000|sport|70000"
		"--count x|count" "--interval -1|interval|-1" "--opt mss=x|mss|opt")
	local b args re
	for b in "${bad[@]}"; do
		args=${b%%|*} re=${b#*|}
		# shellcheck disable=SC2086
		send "$LAB_ADDR_B" 8080 $args
		((status == 2)) || fail "hs send HOST PORT $args: exit $status, expected 2$(hs_view)"
		lab_assert_hs_error "$re" || fail "hs send HOST PORT $args"
	done
	send "$LAB_ADDR_B" 8080 'S. 0:x(0)'
	((status == 2)) || fail "a malformed notation: exit $status$(hs_view)"
	lab_assert_hs_error
	send "$LAB_ADDR_B" 70000
	((status == 2)) || fail "port 70000: exit $status$(hs_view)"
	lab_assert_hs_error 70000
	# no kept connection to send into
	send --data x
	((status == 2)) || fail "no kept connection: exit $status$(hs_view)"
	lab_assert_hs_error 'no kept connection'
	[[ ! -e $STATE ]] || fail "a store appeared: $(find "$STATE")"
	assert_no_guard_left
	assert_no_state_left
	lab_tcpdump_stop
	! lab_tcpdump_text | grep -qE "IP $LAB_ADDR_A\.[0-9]+ > " || fail "hs sent something$(peer_view)"
	! peer_said '^accepted ' || fail "$(peer_view)"
	# the control: the same command with good values does send (it was the values)
	rm -f "$LAB_DIR/tcpdump.log"
	lab_tcpdump_start tcp or icmp
	send "$LAB_ADDR_B" 8080 --sport 41000 --ttl 64 --flags S --seq 0
	assert_sent
	reaction_is syn-ack
	lab_tcpdump_stop
	[[ $(wire_from 41000 | grep -c 'Flags \[S\]') == 1 ]] || fail "the control sent no SYN$(hs_view)$(peer_view)"
}
