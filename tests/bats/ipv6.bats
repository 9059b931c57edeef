#!/usr/bin/env bats
# IPv6 on par with IPv4: connect, listen, kept connections (ls, send, fin, rst),
# live fin/rst from a router, hs -r, hs script, Packet Too Big, the hop limit and
# flow label of every segment, the source address the kernel would choose, and
# link-local destinations with their %IFACE zone. Against kernel peers in
# namespaces; every test checks what the peer saw (its program's report, its ss,
# its capture through tshark), not only what hs says.
#
# Run by `make check`, or by hand as root: bats tests/bats/ipv6.bats
# shellcheck disable=SC2154 # stderr comes from bats's run --separate-stderr

load common

setup() {
	hs_find
	lab_require jq nft ss ip tcpdump tshark python3
	PYTHON=/usr/bin/python3
	[[ -x $PYTHON ]] || PYTHON=$(command -v python3)
	PEERS=${HS_PEERS:-$BATS_TEST_DIRNAME/../peers}
	STATE=$BATS_TEST_TMPDIR/state
}

teardown() {
	lab_teardown
}

# lab6: the two-namespace lab, once IPv6 neighbour discovery works.
lab6() {
	lab_setup
	wait_until 5 no_tentative_addresses || fail "IPv6 addresses still tentative"
}

# peer_fields FIELD...: tshark's FIELDs (tab-separated) of each TCP packet of the
# peer's capture ($LAB_DIR/capture.pcap), one line per packet.
peer_fields() {
	local args=() f
	for f in "$@"; do
		args+=(-e "$f")
	done
	tshark -r "$LAB_DIR/capture.pcap" -n -Y tcp -T fields "${args[@]}" 2>/dev/null
}

# sport_of: hs's source port, from its SYN in the last JSON output.
sport_of() {
	segs '.dir == "out" and (.flags == "SYN" or .flags == "SYN,ACK")' | head -n1 | jq -r .src | sed 's/.*://'
}

# conns6 a|b PORT: the kernel's connections on local port PORT there (every state
# but LISTEN), as "STATE LOCAL PEER" lines, addresses as ss writes them ([v6]:port).
conns6() {
	ip netns exec "$(lab_ns "$1")" ss -Htan "sport = :$2" | awk '$1 != "LISTEN" { print $1, $(NF-1), $NF }'
}

# xs N: N bytes of "x".
xs() {
	head -c "$1" /dev/zero | tr '\0' x
}

# ---- connect, kept, ls, send, fin, rst -----------------------------------------------

@test "IPv6 kept: connect --close keep, hs ls, hs send, hs fin: the peer got the data and the FIN from [v6]" {
	lab6
	lab_peer
	hs_a connect "[$LAB_ADDR6_B]:8080" --sport 40100 --close keep --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome established
	wait_until 3 peer_said "^accepted \\[$LAB_ADDR6_A\\]:40100\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	[[ $(conns6 b 8080) == "ESTAB [$LAB_ADDR6_B]:8080 [$LAB_ADDR6_A]:40100" ]] || fail "the peer has: $(conns6 b 8080)"
	hs_a ls --json --state-dir "$STATE"
	assert_success
	[[ $(jqo 'select(.type == "conn") | "\(.local) \(.remote)"') == "\"[$LAB_ADDR6_A]:40100 [$LAB_ADDR6_B]:8080\"" ]] ||
		fail "hs ls: $output"
	lab_tcpdump_start ip6 and tcp port 8080
	hs_a send --data 'kept v6' --hop-limit 9 --flow-label 4660 --json --state-dir "$STATE"
	assert_success
	wait_until 3 peer_said "^received \\[$LAB_ADDR6_A\\]:40100 7 bytes: 'kept v6'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	lab_tcpdump_stop
	# the crafted segment carries them, the probe before it does not
	[[ $(peer_fields ipv6.src ipv6.hlim ipv6.flow tcp.len | awk -v a="$LAB_ADDR6_A" '$1 == a && $4 == 7 { print $2, $3 }') =~ ^9\ 0x0*1234$ ]] ||
		fail "the data at the peer: $(peer_fields ipv6.src ipv6.hlim ipv6.flow tcp.len)"
	[[ $(peer_fields ipv6.src ipv6.hlim tcp.len | awk -v a="$LAB_ADDR6_A" '$1 == a && $3 == 1 { print $2 }') == 64 ]] ||
		fail "the probe at the peer: $(peer_fields ipv6.src ipv6.hlim ipv6.flow tcp.len)"
	hs_a fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	wait_until 3 peer_said "^eof \\[$LAB_ADDR6_A\\]:40100" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	if conns6 b 8080 | grep -F "[$LAB_ADDR6_A]:40100" | grep -qv TIME-WAIT; then
		fail "the peer still has: $(conns6 b 8080)"
	fi
	assert_no_guard_left
}

@test "IPv6 kept: hs rst resets the peer's connection (its program hears the reset, its ss has nothing)" {
	lab6
	lab_peer
	hs_a connect "$LAB_ADDR6_B" 8080 --sport 40101 --close keep --json --state-dir "$STATE"
	assert_success
	wait_until 3 peer_said "^accepted \\[$LAB_ADDR6_A\\]:40101\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	hs_a rst --json --state-dir "$STATE"
	assert_success
	wait_until 3 peer_said "^reset \\[$LAB_ADDR6_A\\]:40101" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	if conns6 b 8080 | grep -qF "[$LAB_ADDR6_A]:40101"; then fail "the peer still has: $(conns6 b 8080)"; fi
}

# ---- hop limit and flow label --------------------------------------------------------

@test "connect --hop-limit 33 --flow-label 74565: every segment hs sends carries them (the peer's capture); data arrives" {
	lab6
	lab_peer
	lab_tcpdump_start ip6 and tcp port 8080
	hs_a connect "$LAB_ADDR6_B" 8080 --sport 40102 --hop-limit 33 --flow-label 74565 --send hop --close fin \
		--time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	wait_until 3 peer_said "^eof \\[$LAB_ADDR6_A\\]:40102" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	peer_said "^received \\[$LAB_ADDR6_A\\]:40102 3 bytes: 'hop'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	lab_tcpdump_stop
	local ours theirs
	ours=$(peer_fields ipv6.src ipv6.hlim ipv6.flow | awk -v a="$LAB_ADDR6_A" '$1 == a { print $2, $3 }' | sort | uniq -c)
	theirs=$(peer_fields ipv6.src ipv6.hlim | awk -v b="$LAB_ADDR6_B" '$1 == b { print $2 }' | sort -u)
	[[ $ours =~ ^\ *[0-9]+\ 33\ 0x0*12345$ ]] || fail "hs's segments at the peer (count hlim flow): $ours"
	[[ $theirs == 64 ]] || fail "the peer's own hop limit: $theirs"
}

@test "listen --hop-limit 7 --flow-label 9: the SYN,ACK and what follows carry them at the client; it got hello" {
	lab6
	local port=7100 cport=45100
	lab_tcpdump_start ip6 and tcp port "$port"
	hs_bg listen "[$LAB_ADDR6_A]:$port" --hop-limit 7 --flow-label 9 --send hello --close wait --timeout 3 --json \
		--state-dir "$STATE"
	wait_until 5 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.err")"
	lab_bg b client.out "$PYTHON" -u "$PEERS/textbook_client.py" --sport "$cport" "$LAB_ADDR6_A" "$port" expect=hello close
	wait_until 5 grep -q '^done ' "$LAB_DIR/client.out" || fail "client: $(cat "$LAB_DIR/client.out")"
	hs_finish 6
	assert_success
	grep -q '^done ok' "$LAB_DIR/client.out" || fail "client: $(cat "$LAB_DIR/client.out")"
	lab_tcpdump_stop
	local ours
	ours=$(peer_fields ipv6.src ipv6.hlim ipv6.flow tcp.flags.syn | awk -v a="$LAB_ADDR6_A" '$1 == a { print $2, $3 }' | sort | uniq -c)
	[[ $ours =~ ^\ *[0-9]+\ 7\ 0x0*9$ ]] || fail "hs's segments at the client (count hlim flow): $ours"
}

@test "send HOST PORT --hop-limit 5 --flow-label 1 --tos 184 over IPv6: the peer's capture shows the SYN with them, its kernel answered" {
	lab6
	lab_peer
	lab_tcpdump_start ip6 and tcp port 8080
	hs_a send "$LAB_ADDR6_B" 8080 --sport 40103 --hop-limit 5 --flow-label 1 --tos 184 --expect syn-ack --json --state-dir "$STATE"
	assert_success
	lab_tcpdump_stop
	# (libnet 1.1.6 alone writes flow label 1 as 0x101)
	[[ $(peer_fields ipv6.src ipv6.hlim ipv6.flow ipv6.tclass tcp.flags.str |
		awk -v a="$LAB_ADDR6_A" '$1 == a && $5 ~ /S/ { print $2, $3, $4 }') =~ ^5\ 0x0*1\ 0x0*b8$ ]] ||
		fail "the SYN at the peer: $(peer_fields ipv6.src ipv6.hlim ipv6.flow ipv6.tclass tcp.flags.str)"
	[[ $(peer_fields ipv6.src tcp.flags.str | awk -v b="$LAB_ADDR6_B" '$1 == b { print $2 }') == *S* ]] ||
		fail "the peer did not answer: $(peer_fields ipv6.src tcp.flags.str)"
}

@test "connect --ttl 9 (IPv4): every segment at the peer has TTL 9; --flow-label and --hop-limit on IPv4 exit 2, one line, nothing sent" {
	lab6
	lab_peer
	lab_tcpdump_start tcp port 8080
	hs_usage_error 'flow-label is an IPv6 header field' connect "$LAB_ADDR_B" 8080 --flow-label 5
	hs_usage_error 'hop-limit is the IPv6 name.*--ttl' connect "$LAB_ADDR_B" 8080 --hop-limit 5
	hs_usage_error 'flow-label is an IPv6 header field' send "$LAB_ADDR_B" 8080 --flow-label 5
	hs_usage_error 'flow-label needs a number from 0 to 1048575' connect "$LAB_ADDR6_B" 8080 --flow-label 1048576
	hs_usage_error 'hop-limit needs a number from 0 to 255' connect "$LAB_ADDR6_B" 8080 --hop-limit 256
	hs_usage_error 'option --ttl/--hop-limit/--flow-label does not apply to hs fin' fin --hop-limit 3
	# hs listen without an IPv6 address could get an IPv4 client: refused up front
	hs_usage_error 'flow-label is an IPv6 header field: give hs listen an IPv6 address' listen 7001 --flow-label 5
	hs_usage_error 'hop-limit is an IPv6 header field: give hs listen an IPv6 address' listen 7001 --hop-limit 5
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40104 --ttl 9 --close rst --json --state-dir "$STATE"
	assert_success
	wait_until 3 peer_said "^accepted $LAB_ADDR_A:40104\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	lab_tcpdump_stop
	[[ $(tshark -r "$LAB_DIR/capture.pcap" -n -T fields -e ip.src -e ip.ttl 2>/dev/null |
		awk -v a="$LAB_ADDR_A" '$1 == a { print $2 }' | sort -u) == 9 ]] || fail "IPv4 TTL at the peer"
	[[ $(tshark -r "$LAB_DIR/capture.pcap" -n -Y ipv6 2>/dev/null | wc -l) == 0 ]] || fail "the refused runs sent something"
	peer_said "^accepted $LAB_ADDR_A:40104\$" && [[ $(grep -c '^accepted' "$LAB_DIR/peer.out") == 1 ]] ||
		fail "the refused runs reached the peer: $(cat "$LAB_DIR/peer.out")"
}

# ---- the source address -----------------------------------------------------------

@test "source: with a deprecated global and a link-local address beside 2001:db8::1, hs picks the one ip route get names" {
	lab6
	lab_peer
	# added last, listed first by getifaddrs; deprecated (preferred_lft 0): RFC 6724
	# rule 3 avoids it, as does a route's own choice
	ip -n "$LAB_A" addr add 2001:db8::10/64 dev "$LAB_IF_A" nodad preferred_lft 0
	local want
	want=$(ip -n "$LAB_A" -6 route get "$LAB_ADDR6_B" | sed -n 's/.* src \([^ ]*\).*/\1/p')
	[[ $want == "$LAB_ADDR6_A" ]] || fail "the kernel picks $want"
	hs_a connect "$LAB_ADDR6_B" 8080 --send src --close rst --json --state-dir "$STATE"
	assert_success
	local sport
	sport=$(sport_of)
	[[ $(segs '.dir == "out" and .flags == "SYN"' | jq -r .src) == "[$want]:$sport" ]] || fail "hs's SYN: $output"
	wait_until 3 peer_said "^accepted \\[$want\\]:$sport\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	# and a route with its own src: the kernel's choice again, not the interface's first
	ip -n "$LAB_A" -6 route add "$LAB_ADDR6_B/128" dev "$LAB_IF_A" src 2001:db8::10
	want=$(ip -n "$LAB_A" -6 route get "$LAB_ADDR6_B" | sed -n 's/.* src \([^ ]*\).*/\1/p')
	[[ $want == 2001:db8::10 ]] || fail "the kernel picks $want"
	hs_a connect "$LAB_ADDR6_B" 8080 --send src --close rst --json --state-dir "$STATE"
	assert_success
	sport=$(sport_of)
	wait_until 3 peer_said "^accepted \\[2001:db8::10\\]:$sport\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
}

@test "link-local: connect [fe80::..%IFACE]:8080 reaches the peer from a's link-local; without the zone exit 4, a bad zone exit 2" {
	lab6
	lab_peer
	local ll_a ll_b
	ll_a=$(ip -n "$LAB_A" -6 addr show dev "$LAB_IF_A" scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }')
	ll_b=$(ip -n "$LAB_B" -6 addr show dev "$LAB_IF_B" scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }')
	[[ $ll_a == fe80:* && $ll_b == fe80:* ]] || fail "no link-local addresses: $ll_a $ll_b"
	wait_until 5 no_tentative_addresses
	hs_a connect "[$ll_b%$LAB_IF_A]:8080" --sport 40105 --send ll --close fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	[[ $(segs '.dir == "out" and .flags == "SYN"' | jq -r .src) == "[$ll_a]:40105" ]] || fail "hs's SYN: $output"
	wait_until 3 peer_said "^eof \\[$ll_a(%[^]]*)?\\]:40105" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	peer_said "^received \\[$ll_a(%[^]]*)?\\]:40105 2 bytes: 'll'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	# kept: hs send and hs fin find the interface in the record
	hs_a connect "[$ll_b%$LAB_IF_A]:8080" --sport 40109 --close keep --json --state-dir "$STATE"
	assert_success
	hs_a send --data kept --json --state-dir "$STATE"
	assert_success
	wait_until 3 peer_said "^received \\[$ll_a(%[^]]*)?\\]:40109 4 bytes: 'kept'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	hs_a fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	wait_until 3 peer_said "^eof \\[$ll_a(%[^]]*)?\\]:40109" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	# send HOST%IFACE PORT too: the peer's kernel answers the SYN
	hs_a send "$ll_b%$LAB_IF_A" 8080 --sport 40106 --expect syn-ack --json --state-dir "$STATE"
	assert_success
	# no --sport: the port the kernel picks is held on the link-local address too
	hs_a connect "[$ll_b%$LAB_IF_A]:8080" --send picked --close fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	local picked
	picked=$(segs '.dir == "out" and .flags == "SYN"' | jq -r .src)
	[[ $picked == "[$ll_a]:"* ]] || fail "hs's SYN: $output"
	wait_until 3 peer_said "^received \\[$ll_a(%[^]]*)?\\]:${picked##*:} 6 bytes: 'picked'\$" ||
		fail "peer: $(cat "$LAB_DIR/peer.out")"
	hs_a send "$ll_b%$LAB_IF_A" 8080 --expect syn-ack --json --state-dir "$STATE"
	assert_success
	hs_a connect "$ll_b" 8080 --state-dir "$STATE"
	((status == 4)) || fail "no zone: exit $status: $stderr"
	lab_assert_hs_error 'link-local destination .* needs an interface'
	hs_usage_error 'no such interface nosuch0' connect "[$ll_b%nosuch0]:8080"
	hs_usage_error 'zone goes only after an IPv6 address' connect "$LAB_ADDR_B%$LAB_IF_A" 8080
	hs_usage_error "names interface $LAB_IF_A but -i says lo" connect "[$ll_b%$LAB_IF_A]:8080" -i lo
}

@test "link-local: listen [fe80::..%IFACE]:PORT; a kernel client on the link (scope id from getaddrinfo) gets hello" {
	lab6
	local ll_a port=7101
	ll_a=$(ip -n "$LAB_A" -6 addr show dev "$LAB_IF_A" scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }')
	[[ $ll_a == fe80:* ]] || fail "no link-local address in a: $ll_a"
	hs_bg listen "[$ll_a%$LAB_IF_A]:$port" --send hello --close wait --timeout 3 --json --state-dir "$STATE"
	wait_until 5 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.err")"
	# the port is held on the link-local address: a second hs listen there is refused
	hs_usage_error "port $port is in use by another running hs" listen "[$ll_a%$LAB_IF_A]:$port" --syn-timeout 2
	# python's connect((host, port)) drops a %zone: the 4-tuple from getaddrinfo keeps it
	lab_bg b client.out "$PYTHON" -u -c '
import socket, sys
ai = socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), socket.AF_INET6, socket.SOCK_STREAM)[0]
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(ai[4])
got = b""
while len(got) < 5:
    d = s.recv(100)
    if not d:
        break
    got += d
print("received", got.decode(errors="replace"), flush=True)
s.close()
print("closed", flush=True)' "$ll_a%$LAB_IF_B" "$port"
	wait_until 5 grep -q '^closed$' "$LAB_DIR/client.out" || fail "client: $(cat "$LAB_DIR/client.out")"
	grep -qx 'received hello' "$LAB_DIR/client.out" || fail "client: $(cat "$LAB_DIR/client.out")"
	hs_finish 6
	assert_success
	expect "$(result)" local "[$ll_a]:$port"
	hs_usage_error 'zone goes only after an IPv6 address' listen "$LAB_ADDR_A%$LAB_IF_A" "$port"
}

# ---- -r, script ----------------------------------------------------------------------

@test "-r of the peer's IPv6 capture: the connection hs made, its states as the peer's ss ended" {
	lab6
	lab_peer
	lab_tcpdump_start ip6 and tcp port 8080
	hs_a connect "$LAB_ADDR6_B" 8080 --sport 40107 --send rd --close fin --time-wait 0.1 --json --state-dir "$STATE"
	assert_success
	wait_until 3 peer_said "^eof \\[$LAB_ADDR6_A\\]:40107" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	wait_until 3 cap_count_at_least 8
	lab_tcpdump_stop
	run --separate-stderr "$HS" -r "$LAB_DIR/capture.pcap" "[$LAB_ADDR6_A]:40107" "[$LAB_ADDR6_B]:8080" --json
	assert_success
	[[ $(jqo 'select(.type == "segment" and .dir == "out") | .src' | sort -u) == "\"[$LAB_ADDR6_A]:40107\"" ]] ||
		fail "-r: $output"
	[[ $(jqo 'select(.type == "segment" and .len == 2 and .dir == "out") | .data') == '"rd"' ]] || fail "-r data: $output"
	# the peer's kernel let the connection go: it closed second (no TIME-WAIT there)
	if conns6 b 8080 | grep -qF "[$LAB_ADDR6_A]:40107"; then fail "the peer has: $(conns6 b 8080)"; fi
	[[ $(jq -r 'select(.type == "end") | "\(.state) \(.peer_state)"' <<<"$output") == "TIME-WAIT CLOSED" ]] ||
		fail "-r's end: $output"
}

# no_conns a|b PORT: no connection on PORT left in that namespace.
no_conns() {
	[[ -z $(conns6 "$1" "$2") ]]
}

# cap_count_at_least N: the peer's capture holds N TCP packets.
cap_count_at_least() {
	(($(tshark -r "$LAB_DIR/capture.pcap" -n -Y tcp 2>/dev/null | wc -l) >= $1))
}

@test "script data.pkt against [2001:db8::2]: the peer received hs's 10 bytes over IPv6 and heard the reset" {
	lab6
	lab_peer
	run --separate-stderr ip netns exec "$LAB_A" "$HS" script "$BATS_TEST_DIRNAME/../scripts/data.pkt" \
		"[$LAB_ADDR6_B]" 8080
	assert_success
	wait_until 5 peer_said "^reset \\[$LAB_ADDR6_A\\]:[0-9]+ " || fail "peer: $(cat "$LAB_DIR/peer.out")"
	peer_said "^received \\[$LAB_ADDR6_A\\]:[0-9]+ 10 bytes: '(\\\\x00){10}'\$" || fail "peer: $(cat "$LAB_DIR/peer.out")"
	assert_no_guard_left
}

# ---- Packet Too Big, live fin/rst through a router ----------------------------------

@test "Packet Too Big (far link MTU 1280): hs resends 3000 bytes in smaller segments; the server got them all" {
	lab_setup_routed 1280
	local port=7000
	lab_bg b server.out "$PYTHON" -u "$PEERS/textbook_server.py" --bind :: --port "$port" expect="$(xs 3000)" close
	wait_until 5 lab_listening b "$port" || fail "the server does not listen: $(cat "$LAB_DIR/server.out")"
	hs_a connect "$LAB_ADDR6_B" "$port" --sport 40108 --send "$(xs 3000)" --close wait --json --state-dir "$STATE"
	assert_success
	wait_until 5 grep -q '^done ok$' "$LAB_DIR/server.out" || fail "the server: $(tail -c 300 "$LAB_DIR/server.out")"
	[[ $(jqo 'select(.type == "icmp") | [.icmp_type, .mtu] | join(" ")' | head -n1) == '"2 1280"' ]] ||
		fail "no packet too big: $output"
	[[ $(segs '.dir == "out" and .note == "pmtu"') ]] || fail "no resend noted pmtu: $output"
	local big
	big=$(segs '.dir == "out" and .len > 0' | jq -s 'map(select(.note != "pmtu")) | map(.len) | max')
	echo "# largest first segment $big bytes; after packet too big: $(segs '.dir == "out" and .len > 0 and .note == "pmtu"' | jq -s 'map(.len) | max')" >&3
}

@test "live fin [v6]:PORT [v6]:PORT from the router: the server sees EOF, its kernel lets go" {
	lab_setup_routed
	local port=5000
	lab_bg b server.out "$PYTHON" -u "$PEERS/live_peer.py" server --addr :: --port "$port"
	wait_until 5 lab_listening b "$port" || fail "the server does not listen: $(cat "$LAB_DIR/server.out")"
	lab_bg a client.out "$PYTHON" -u "$PEERS/live_peer.py" client --connect "[$LAB_ADDR6_B]:$port" --mode idle
	wait_until 5 grep -q '^echoed$' "$LAB_DIR/client.out" || fail "no echo: $(cat "$LAB_DIR/client.out")"
	local a
	a=$(awk '$1 == "connected" { print $2 }' "$LAB_DIR/client.out")
	[[ $a == "[$LAB_ADDR6_A]:"* ]] || fail "the client is not on IPv6: $a"
	run --separate-stderr ip netns exec "$LAB_R" "$HS" fin "$a" "[$LAB_ADDR6_B]:$port" --json
	assert_success
	wait_until 3 grep -q '^eof$' "$LAB_DIR/server.out" || fail "the server did not see EOF: $(cat "$LAB_DIR/server.out")"
	wait_until 3 no_conns b "$port" || fail "the server still has: $(conns6 b "$port")"
}

@test "live rst [v6]:PORT [v6]:PORT from the router: both programs hear the reset" {
	lab_setup_routed
	local port=5000
	lab_bg b server.out "$PYTHON" -u "$PEERS/live_peer.py" server --addr :: --port "$port"
	wait_until 5 lab_listening b "$port" || fail "the server does not listen: $(cat "$LAB_DIR/server.out")"
	lab_bg a client.out "$PYTHON" -u "$PEERS/live_peer.py" client --connect "[$LAB_ADDR6_B]:$port" --mode busy
	wait_until 5 grep -q '^busy$' "$LAB_DIR/client.out" || fail "not busy: $(cat "$LAB_DIR/client.out")"
	local a
	a=$(awk '$1 == "connected" { print $2 }' "$LAB_DIR/client.out")
	run --separate-stderr ip netns exec "$LAB_R" "$HS" rst "$a" "[$LAB_ADDR6_B]:$port" --json
	assert_success
	wait_until 3 grep -q '^reset$' "$LAB_DIR/server.out" || fail "server: $(cat "$LAB_DIR/server.out")"
	wait_until 3 grep -q '^reset$' "$LAB_DIR/client.out" || fail "client: $(cat "$LAB_DIR/client.out")"
}
