#!/usr/bin/env bats
# hs connect against a real kernel peer in namespace b: every test checks what
# the peer saw (its ss, its program's output, its tcpdump, its nft counters),
# not only what hs says.
#
# Run by `make check`, or by hand as root: bats tests/bats/connect.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump socat
	DEFAULT_STORE=''
}

teardown() {
	# the default store of a namespace this test made (only that one)
	if [[ $DEFAULT_STORE =~ ^/run/hs/netns-[0-9]+$ ]]; then
		rm -rf -- "$DEFAULT_STORE"
	fi
	lab_teardown
}

# seg N: the Nth (1-based) segment event.
seg() {
	jq -c "select(.type == \"segment\")" <<<"$output" | sed -n "${1}p"
}

@test "connect: the kernel peer reaches ESTABLISHED with hs's port (human output)" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --no-color --state-dir "$STATE"
	assert_success
	assert_output --partial ESTABLISHED
	assert_output --partial "$LAB_ADDR_B:8080"
	[[ $output != *$'\e'* ]] || fail "--no-color output has escape sequences: $output"
	[[ $output =~ 198\.18\.0\.1:([0-9]+) ]] || fail "the output does not name the local endpoint: $output"
	local sport=${BASH_REMATCH[1]}
	# the peer's side: its kernel and its program
	wait_until 2 peer_has_established "$sport"
	wait_until 2 peer_said "^accepted $LAB_ADDR_A:$sport\$"
}

@test "connect --json: SYN out, SYN,ACK in, ACK out, with states and sequence numbers" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --json --state-dir "$STATE"
	assert_success
	assert_all_json
	local res syn synack ack
	res=$(result)
	expect "$res" outcome established
	expect "$res" exit 0
	expect "$res" state ESTABLISHED
	expect "$res" peer_state ESTABLISHED
	expect "$res" remote "$LAB_ADDR_B:8080"
	expect "$res" conn 1
	local local_ep sport
	local_ep=$(field "$res" local)
	[[ $local_ep =~ ^198\.18\.0\.1:([0-9]+)$ ]] || fail "result local is '$local_ep'"
	sport=${BASH_REMATCH[1]}

	(($(jqo 'select(.type == "segment")' | wc -l) == 3)) || fail "expected 3 segments: $output"
	syn=$(seg 1) synack=$(seg 2) ack=$(seg 3)
	expect "$syn" dir out
	expect "$syn" flags SYN
	expect "$syn" src "$local_ep"
	expect "$syn" dst "$LAB_ADDR_B:8080"
	expect "$syn" state SYN-SENT
	expect "$syn" rseq 0
	expect "$syn" rack 0
	expect "$syn" len 0
	[[ $(field "$syn" peer_state) =~ ^(CLOSED|LISTEN)$ ]] || fail "SYN peer_state: $syn"
	expect "$syn" opts.mss 1460
	expect "$syn" opts.sack true
	expect "$syn" opts.wscale 7
	[[ $(field "$syn" opts.ts) =~ ^\[[0-9]+,0\]$ ]] || fail "SYN timestamps: $syn"

	expect "$synack" dir in
	expect "$synack" flags SYN,ACK
	expect "$synack" src "$LAB_ADDR_B:8080"
	expect "$synack" dst "$local_ep"
	expect "$synack" state ESTABLISHED
	expect "$synack" peer_state SYN-RECEIVED
	expect "$synack" rseq 0
	expect "$synack" rack 1
	expect "$synack" ack $((($(field "$syn" seq) + 1) % 4294967296))

	expect "$ack" dir out
	expect "$ack" flags ACK
	expect "$ack" state ESTABLISHED
	expect "$ack" peer_state ESTABLISHED
	expect "$ack" rseq 1
	expect "$ack" rack 1
	expect "$ack" seq $((($(field "$syn" seq) + 1) % 4294967296))
	expect "$ack" ack $((($(field "$synack" seq) + 1) % 4294967296))

	# the times grow
	jqo -s 'map(select(.type == "segment").t) | . == sort' | grep -qx true ||
		fail "segment times are not in order: $output"

	wait_until 2 peer_has_established "$sport"
	wait_until 2 peer_said "^accepted $LAB_ADDR_A:$sport\$"
}

@test "--netns, --sport, --isn, --window, --opt: on the wire as asked" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	run --separate-stderr "$HS" --netns "$LAB_A" connect "$LAB_ADDR_B" 8080 --sport 40000 --isn 1000 \
		--window 1000 --opt mss=1200,wscale=3 --json --state-dir "$STATE"
	assert_success
	local syn ack res
	res=$(result)
	expect "$res" local "$LAB_ADDR_A:40000"
	syn=$(seg 1) ack=$(seg 3)
	expect "$syn" flags SYN
	expect "$syn" seq 1000
	expect "$syn" win 1000
	jq -e '.opts == {"mss": 1200, "wscale": 3}' <<<"$syn" >/dev/null || fail "SYN options: $syn"
	expect "$ack" seq 1001
	# the peer's view
	wait_until 2 peer_has_established 40000
	lab_tcpdump_stop
	local wire synline
	wire=$(lab_tcpdump_text)
	synline=$(grep -E "$LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[S\]," <<<"$wire") ||
		fail "the peer saw no SYN from port 40000: $wire"
	[[ $(wc -l <<<"$synline") == 1 ]] || fail "more than one SYN: $wire"
	[[ $synline == *"seq 1000,"* ]] || fail "SYN seq is not 1000: $synline"
	[[ $synline == *"win 1000,"* ]] || fail "SYN window is not 1000: $synline"
	[[ $synline == *"mss 1200"* && $synline == *"wscale 3"* ]] || fail "SYN options: $synline"
	[[ $synline != *sackOK* && $synline != *"TS val"* ]] || fail "SYN options not asked for: $synline"
	# the guard went into namespace a, not into the namespace hs was started in
	hs_a ls --json --state-dir "$STATE"
	assert_success
	local guard
	guard=$(jqo -r 'select(.type == "conn") | .guard')
	[[ $guard =~ ^hs_kept_[0-9]+_[0-9]+$ ]] || fail "hs ls shows guard '$guard'"
	lab_hs_tables a | grep -qx "$guard" || fail "guard $guard is not in $LAB_A"
	run ! bash -c "nft list tables | grep -qw '$guard'"
}

@test "hs ls shows the kept connection" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --state-dir "$STATE"
	assert_success
	hs_a ls --json --state-dir "$STATE"
	assert_success
	assert_all_json
	local conns conn
	conns=$(jqo 'select(.type == "conn")')
	[[ $(wc -l <<<"$conns") == 1 ]] || fail "expected one conn line: $output"
	conn=$conns
	expect "$conn" id 1
	expect "$conn" local "$LAB_ADDR_A:40000"
	expect "$conn" remote "$LAB_ADDR_B:8080"
	expect "$conn" state ESTABLISHED
	expect "$conn" peer_state ESTABLISHED
	expect "$conn" stale false
	[[ $(field "$conn" age) =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "age: $conn"
	local guard
	guard=$(field "$conn" guard)
	[[ $guard =~ ^hs_kept_[0-9]+_[0-9]+$ ]] || fail "guard: $conn"
	lab_hs_tables a | grep -qx "$guard" || fail "guard table $guard does not exist in $LAB_A"
	expect "$(result)" exit 0
	# human form
	hs_a ls --state-dir "$STATE"
	assert_success
	assert_output --partial "$LAB_ADDR_A:40000"
	assert_output --partial "$LAB_ADDR_B:8080"
	assert_output --partial ESTABLISHED
	# and the kernel peer agrees
	peer_has_established 40000
}

@test "the default store is per network namespace" {
	lab_peer
	DEFAULT_STORE=/run/hs/netns-$(lab_ns_cookie a)
	[[ ! -e $DEFAULT_STORE ]] || fail "$DEFAULT_STORE exists before the test"
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000
	assert_success
	[[ -d $DEFAULT_STORE ]] || fail "no default store $DEFAULT_STORE after a kept connection"
	[[ -n $(find "$DEFAULT_STORE" -type f) ]] || fail "the default store $DEFAULT_STORE is empty"
	hs_a ls --json
	assert_success
	jqo 'select(.type == "conn") | .local' | grep -qx "\"$LAB_ADDR_A:40000\"" || fail "hs ls in $LAB_A: $output"
	# namespace b has its own (empty) store
	run --separate-stderr lab_b "$HS" ls --json
	assert_success
	[[ -z $(jqo 'select(.type == "conn")') ]] || fail "hs ls in $LAB_B shows a's connection: $output"
	[[ ! -e /run/hs/netns-$(lab_ns_cookie b) ]] || {
		rm -rf "/run/hs/netns-$(lab_ns_cookie b)"
		fail "hs ls created a store in $LAB_B"
	}
}

@test "refused: no listener, the peer answers RST,ACK: exit 1" {
	lab_peer # on 8080; hs asks for 8081
	lab_tcpdump_start tcp port 8081
	hs_a connect "$LAB_ADDR_B" 8081 --json --state-dir "$STATE"
	assert_failure 1
	lab_assert_hs_error "^hs: connection refused by $LAB_ADDR_B:8081 \\(RST,ACK to our SYN: nothing listens there\\)$"
	local res rst
	res=$(result)
	expect "$res" outcome refused
	expect "$res" exit 1
	[[ $(field "$res" message) == *refused* ]] || fail "result message: $res"
	rst=$(jqo 'select(.type == "segment" and .dir == "in")' | head -n1)
	expect "$rst" flags RST,ACK
	expect "$rst" rack 1
	assert_no_guard_left
	assert_no_state_left
	# the peer's kernel sent that RST, and its program saw nothing
	lab_tcpdump_stop
	lab_tcpdump_text | grep -qE "$LAB_ADDR_B\.8081 > $LAB_ADDR_A\.[0-9]+: Flags \[R\.\]" ||
		fail "the peer sent no RST: $(lab_tcpdump_text)"
	run ! peer_said '^accepted'
}

@test "timeout: SYNs dropped, retransmitted with backoff, exit 3" {
	lab_peer
	lab_nft b <<-'EOF'
		table inet labdrop {
			chain in {
				type filter hook input priority 0;
				tcp dport 8080 tcp flags & (syn | ack) == syn counter drop
			}
		}
	EOF
	local t0
	t0=$(lab__now_us)
	hs_a connect "$LAB_ADDR_B" 8080 --timeout 0.2 --retries 2 --json --state-dir "$STATE"
	local elapsed
	elapsed=$(awk -v a="$t0" -v b="$(lab__now_us)" 'BEGIN { print (b - a) / 1e6 }')
	assert_failure 3
	lab_assert_hs_error "^hs: timeout: no SYN,ACK from $LAB_ADDR_B:8080 after 2 retransmissions of our SYN "
	expect "$(result)" outcome timeout
	expect "$(result)" exit 3
	local syns
	syns=$(jqo 'select(.type == "segment" and .dir == "out")')
	[[ $(wc -l <<<"$syns") == 3 ]] || fail "expected 3 SYNs (1 + 2 retries): $output"
	[[ -z $(jqo 'select(.type == "segment" and .dir == "in")') ]] || fail "segments in: $output"
	jq -e -s 'all(.flags == "SYN") and (map(.seq) | unique | length == 1)' <<<"$syns" >/dev/null ||
		fail "not the same SYN three times: $syns"
	jq -e -s '(.[0].note == null) and (.[1].note == "retransmission") and (.[2].note == "retransmission")' \
		<<<"$syns" >/dev/null || fail "retransmission notes: $syns"
	# exponential backoff: gaps grow, the first about --timeout
	jq -e -s '(.[1].t - .[0].t) as $g1 | (.[2].t - .[1].t) as $g2 |
		$g1 >= 0.15 and $g1 < 0.5 and $g2 > $g1 * 1.5' <<<"$syns" >/dev/null ||
		fail "no backoff: $(jq -c -s 'map(.t)' <<<"$syns")"
	awk -v e="$elapsed" 'BEGIN { exit !(e < 3) }' || fail "took ${elapsed}s"
	# the peer's firewall dropped exactly those three
	lab_b nft list table inet labdrop | grep -q 'counter packets 3 ' ||
		fail "the peer did not see 3 SYNs: $(lab_b nft list table inet labdrop)"
	run ! peer_said '^accepted'
	assert_no_guard_left
	assert_no_state_left
}

@test "ICMP port unreachable: exit 1 with the ICMP event" {
	lab_peer
	lab_nft b <<-'EOF'
		table ip labreject {
			chain in {
				type filter hook input priority 0;
				tcp dport 8080 counter reject with icmp type port-unreachable
			}
		}
	EOF
	hs_a connect "$LAB_ADDR_B" 8080 --json --timeout 0.5 --state-dir "$STATE"
	assert_failure 1
	lab_assert_hs_error "^hs: $LAB_ADDR_B:[0-9]+ is unreachable: ICMP port unreachable from $LAB_ADDR_B \\(type 3 code 3\\)$"
	local icmp
	icmp=$(jqo 'select(.type == "icmp")' | head -n1)
	[[ -n $icmp ]] || fail "no icmp event: $output"
	expect "$icmp" icmp_type 3
	expect "$icmp" icmp_code 3
	[[ $(field "$icmp" text) == *"port unreachable"* ]] || fail "icmp text: $icmp"
	expect "$(result)" outcome unreachable
	expect "$(result)" exit 1
	lab_b nft list table ip labreject | grep -qE 'counter packets [1-9]' ||
		fail "the peer's reject rule did not fire"
	run ! peer_said '^accepted'
	assert_no_guard_left
	assert_no_state_left
}

@test "network copies of the SYN,ACK: noted duplicate, not answered, the peer stays ESTABLISHED" {
	lab_peer
	# every SYN,ACK the peer sends leaves its veth several times
	lab_nft b <<-EOF
		table netdev labdup {
			chain out {
				type filter hook egress device "$LAB_IF_B" priority 0;
				tcp flags & (syn | ack | fin | rst) == syn | ack counter dup to "$LAB_IF_B"
			}
		}
	EOF
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --send ping --json --state-dir "$STATE"
	assert_success
	local synacks dups acks
	synacks=$(jqo 'select(.type == "segment" and .dir == "in" and .flags == "SYN,ACK")' | wc -l)
	dups=$(jqo 'select(.type == "segment" and .dir == "in" and .flags == "SYN,ACK" and .note == "duplicate")' | wc -l)
	acks=$(jqo 'select(.type == "segment" and .dir == "out" and .flags == "ACK" and .len == 0 and .rack == 1)' | wc -l)
	((synacks >= 2)) || fail "hs saw $synacks SYN,ACK: $output"
	((dups >= 1 && dups == synacks - 1)) || fail "$dups of $synacks SYN,ACK noted duplicate: $output"
	# a copy (same TSval, same IP ID) is no retransmission: our ACK was not lost
	((acks == 1)) || fail "hs answered copies of the SYN,ACK ($acks ACKs): $output"
	[[ $(path peer) == "CLOSED LISTEN SYN-RECEIVED ESTABLISHED" ]] ||
		fail "the peer's inferred states: $(path peer): $output"
	expect "$(result)" state ESTABLISHED
	lab_b nft list table netdev labdup | grep -qE 'counter packets [1-9]' ||
		fail "the peer's dup rule did not fire"
	wait_until 2 peer_has_established 40000
	wait_until 2 peer_said "^received $LAB_ADDR_A:40000 4 bytes: 'ping'\$"
}

@test "--close rst: the peer's program sees the reset, its kernel forgets the connection" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --close rst --json --state-dir "$STATE"
	assert_success
	local res
	res=$(result)
	expect "$res" outcome aborted
	expect "$res" exit 0
	expect "$res" state CLOSED
	local rst
	rst=$(jqo 'select(.type == "segment" and .dir == "out")' | tail -n1)
	[[ $(field "$rst" flags) == RST* ]] || fail "the last segment out is not an RST: $rst"
	expect "$rst" rseq 1
	wait_until 2 peer_said "^reset $LAB_ADDR_A:40000"
	wait_until 2 peer_has_none 8080 40000
	assert_no_guard_left
	assert_no_state_left
}

@test "--close fin: FIN handshake both ways, the peer's program sees EOF" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --close fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	local res
	res=$(result)
	expect "$res" outcome closed
	expect "$res" state CLOSED
	jqo 'select(.type == "segment" and .dir == "out") | .flags' | grep -q FIN || fail "no FIN sent: $output"
	jqo 'select(.type == "segment" and .dir == "in") | .flags' | grep -q FIN || fail "no FIN received: $output"
	[[ -n $(jqo 'select(.type == "segment" and .state == "TIME-WAIT")') ]] || fail "never in TIME-WAIT: $output"
	[[ -n $(jqo 'select(.type == "state" and .from == "TIME-WAIT" and .to == "CLOSED")') ]] ||
		fail "no TIME-WAIT -> CLOSED state event: $output"
	wait_until 2 peer_said "^eof $LAB_ADDR_A:40000"
	wait_until 2 peer_said "^closed $LAB_ADDR_A:40000"
	wait_until 2 peer_has_none 8080 40000
	assert_no_guard_left
	assert_no_state_left
}

@test "source port in use by a kept connection: exit 2, the peer sees one connection" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --state-dir "$STATE"
	assert_success
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error 'in use'
	[[ $(lab_hs_tables a | wc -l) == 1 ]] || fail "guard tables: $(lab_hs_tables a)"
	[[ $(grep -c '^accepted' "$LAB_DIR/peer.out") == 1 ]] || fail "peer: $(cat "$LAB_DIR/peer.out")"
	peer_has_established 40000
}

@test "source port in use by a kernel socket in the namespace: exit 2" {
	lab_peer
	lab_bg a holder.out socat TCP-LISTEN:40001,reuseaddr STDOUT
	wait_until 3 lab_listening a 40001
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40001 --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error 'in use'
	run ! peer_said '^accepted'
	assert_no_guard_left
	assert_no_state_left
}

@test "-w FILE.pcap: a capture tcpdump reads, with the handshake" {
	lab_peer
	local pcap=$BATS_TEST_TMPDIR/hs.pcap
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --isn 1000 -w "$pcap" --json --state-dir "$STATE"
	assert_success
	local synack_seq
	synack_seq=$(field "$(seg 2)" seq)
	[[ -s $pcap ]] || fail "no capture file"
	run --separate-stderr tcpdump -r "$pcap" -n -S
	assert_success
	((${#lines[@]} == 3)) || fail "expected 3 segments in the capture: $output"
	[[ ${lines[0]} =~ $LAB_ADDR_A\.40000\ \>\ $LAB_ADDR_B\.8080:\ Flags\ \[S\],\ seq\ 1000, ]] ||
		fail "first: ${lines[0]}"
	[[ ${lines[1]} =~ $LAB_ADDR_B\.8080\ \>\ $LAB_ADDR_A\.40000:\ Flags\ \[S\.\],\ seq\ $synack_seq,\ ack\ 1001, ]] ||
		fail "second: ${lines[1]}"
	[[ ${lines[2]} =~ $LAB_ADDR_A\.40000\ \>\ $LAB_ADDR_B\.8080:\ Flags\ \[\.\],\ ack\ $(((synack_seq + 1) % 4294967296)), ]] ||
		fail "third: ${lines[2]}"
}

@test "connect over IPv6: the handshake, data and close against the kernel, MSS for IPv6" {
	lab_peer
	# IPv6 neighbour discovery works once no address is tentative any more
	wait_until 5 no_tentative_addresses || fail "IPv6 addresses still tentative"
	hs_a connect "$LAB_ADDR6_B" 8080 --send 'hello v6' --close fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	local syn
	syn=$(segs '.dir == "out" and .flags == "SYN"' | head -n 1)
	[[ $(jq -r .dst <<<"$syn") == "[$LAB_ADDR6_B]:8080" ]] || fail "SYN to: $syn"
	[[ $(jq -r .opts.mss <<<"$syn") == 1440 ]] || fail "an IPv6 SYN offers MSS 1440 (1500 - 60): $syn"
	[[ $(jq -r .src <<<"$syn") =~ ^\[2001:db8::1\]:([0-9]+)$ ]] || fail "SYN from: $syn"
	local sport=${BASH_REMATCH[1]}
	# the peer's program got the data and our FIN over IPv6
	wait_until 2 peer_said "^eof \\[?$LAB_ADDR6_A\\]?:$sport" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	peer_said "hello v6" || fail "peer: $(cat "$LAB_DIR/peer.out")"
}
