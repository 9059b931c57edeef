#!/usr/bin/env bats
# TCP Fast Open (RFC 7413) against Linux: hs as the client of a kernel TFO server
# (TCP_FASTOPEN on its socket, net.ipv4.tcp_fastopen=3 in its namespace), and hs
# listen --tfo-cookie as the server of a kernel TFO client (sendto MSG_FASTOPEN).
# Every test checks what the kernel peer saw: its program (tcp_info's
# TCPI_OPT_SYN_DATA: the data came in the SYN), its TcpExt counters, its capture.
#
# Run by `make check`, or by hand as root: bats tests/bats/tfo.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump nstat
	PYTHON=/usr/bin/python3
	[[ -x $PYTHON ]] || fail "$PYTHON is missing (the peers need it)"
	PEERS=$BATS_TEST_DIRNAME/../peers
}

teardown() {
	lab_teardown
}

# counter NAME: the TcpExt counter NAME in namespace b (nstat -a: absolute, -s: no
# history file written, -z: zeros too).
counter() {
	lab_b nstat -asz "$1" | awk -v n="$1" '$1 == n { print $2 }'
}

# tfo_server COUNT: the kernel TFO server on 8080 in b, for COUNT connections.
tfo_server() {
	lab_b sysctl -qw net.ipv4.tcp_fastopen=3 || fail "cannot enable TFO in $LAB_B"
	lab_bg b server.out "$PYTHON" -u "$PEERS/tfo_server.py" --port 8080 --count "$1"
	wait_until 10 lab_listening b 8080 || fail "the TFO server does not listen: $(cat "$LAB_DIR/server.out")"
}

# hs_sport: hs's source port, from the result line of its JSON output.
hs_sport() {
	local ep
	ep=$(field "$(result)" local)
	printf '%s' "${ep##*:}"
}

@test "tfo: hs asks for a cookie and saves it; with it DATA goes in the SYN and the server reads it from the SYN" {
	tfo_server 2
	lab_tcpdump_start tcp port 8080
	local reqd0 passive0
	reqd0=$(counter TcpExtTCPFastOpenCookieReqd)
	passive0=$(counter TcpExtTCPFastOpenPassive)

	# First run: a cookie request; the server's SYN,ACK carries the cookie.
	hs_a connect "$LAB_ADDR_B" 8080 --opt mss=1460,tfo --close fin --json --state-dir "$STATE"
	assert_success
	local sport1
	sport1=$(hs_sport)
	wait_until 10 server_said "^eof $LAB_ADDR_A:$sport1\$"
	server_said "^accepted $LAB_ADDR_A:$sport1 syn_data=no" || fail "the first connection: $(cat "$LAB_DIR/server.out")"
	(($(counter TcpExtTCPFastOpenCookieReqd) == reqd0 + 1)) || fail "the server counted no cookie request"
	[[ -f $STATE/tfo-cookies ]] || fail "hs saved no cookie: $(ls -la "$STATE")"
	[[ $(stat -c %a "$STATE/tfo-cookies") == 600 ]] || fail "the cookie cache is not 0600"
	local saved
	saved=$(awk -v p="$LAB_ADDR_B:8080" '$1 == p { print $2 }' "$STATE/tfo-cookies")
	[[ $saved =~ ^[0-9a-f]{8,32}$ ]] || fail "no cookie saved for $LAB_ADDR_B:8080: $(cat "$STATE/tfo-cookies")"

	# Second run: --tfo takes the saved cookie, and the data goes in the SYN.
	hs_a connect "$LAB_ADDR_B" 8080 --opt mss=1460 --tfo --send hello --close fin --json --state-dir "$STATE"
	assert_success
	local sport2
	sport2=$(hs_sport)
	wait_until 10 server_said "^eof $LAB_ADDR_A:$sport2\$"
	lab_tcpdump_stop
	# The server's program: the connection's first segment, the SYN, carried the data.
	server_said "^accepted $LAB_ADDR_A:$sport2 syn_data=yes" || fail "not from the SYN: $(cat "$LAB_DIR/server.out")"
	server_said "^received $LAB_ADDR_A:$sport2 5 bytes: 'hello'\$" || fail "data: $(cat "$LAB_DIR/server.out")"
	(($(counter TcpExtTCPFastOpenPassive) == passive0 + 1)) || fail "TcpExtTCPFastOpenPassive did not grow"
	# The capture: the SYN,ACK of the first run carried the cookie hs saved; the second
	# SYN carries it and 5 bytes, and the SYN,ACK acknowledges them.
	wire | grep -qE "$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.$sport1: Flags \[S\.\].*tfo +cookie $saved" ||
		fail "the first SYN,ACK does not carry cookie $saved: $(wire)"
	local syn
	syn=$(wire | grep -E "$LAB_ADDR_A\.$sport2 > $LAB_ADDR_B\.8080: Flags \[S\]")
	[[ $syn =~ tfo\ +cookie\ $saved && $syn =~ length\ 5 ]] || fail "the second SYN: $syn"
	[[ $syn =~ seq\ ([0-9]+):([0-9]+) ]] || fail "no data range in the SYN: $syn"
	local isn=${BASH_REMATCH[1]}
	wire | grep -qE "$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.$sport2: Flags \[S\.\].* ack $((isn + 6)),"  ||
		fail "the SYN,ACK does not acknowledge SYN and data: $(wire)"
	# ... and hs says so
	expect "$(segs '.dir == "in" and .flags == "SYN,ACK"')" tfo data-acked
}

@test "tfo: a wrong cookie: the server acknowledges only the SYN, hs sends the data again, the server gets it" {
	tfo_server 1
	lab_tcpdump_start tcp port 8080
	local fail0 passive0
	fail0=$(counter TcpExtTCPFastOpenPassiveFail)
	passive0=$(counter TcpExtTCPFastOpenPassive)
	hs_a connect "$LAB_ADDR_B" 8080 --opt mss=1460,tfo=0011223344556677 --send hello --close fin --json \
		--state-dir "$STATE"
	assert_success
	local sport
	sport=$(hs_sport)
	wait_until 10 server_said "^eof $LAB_ADDR_A:$sport\$"
	lab_tcpdump_stop
	server_said "^accepted $LAB_ADDR_A:$sport syn_data=no" || fail "$(cat "$LAB_DIR/server.out")"
	server_said "^received $LAB_ADDR_A:$sport 5 bytes: 'hello'\$" || fail "data: $(cat "$LAB_DIR/server.out")"
	(($(counter TcpExtTCPFastOpenPassiveFail) == fail0 + 1)) || fail "TcpExtTCPFastOpenPassiveFail did not grow"
	(($(counter TcpExtTCPFastOpenPassive) == passive0)) || fail "TcpExtTCPFastOpenPassive grew"
	# The wire: SYN with 5 bytes, a SYN,ACK of the SYN alone, the 5 bytes again after it.
	local syn isn
	syn=$(wire | grep -E "$LAB_ADDR_A\.$sport > $LAB_ADDR_B\.8080: Flags \[S\]")
	[[ $syn =~ length\ 5 && $syn =~ seq\ ([0-9]+): ]] || fail "the SYN: $syn"
	isn=${BASH_REMATCH[1]}
	wire | grep -qE "$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.$sport: Flags \[S\.\].* ack $((isn + 1))," ||
		fail "the SYN,ACK does not acknowledge the SYN alone: $(wire)"
	wire | grep -qE "$LAB_ADDR_A\.$sport > $LAB_ADDR_B\.8080: Flags \[P\.\], seq $((isn + 1)):$((isn + 6)), " ||
		fail "the data did not go again after the handshake: $(wire)"
	expect "$(segs '.dir == "in" and .flags == "SYN,ACK"')" tfo syn-only
}

@test "tfo: hs listen --tfo-cookie: a Linux client gets the cookie, then its SYN's data is acknowledged in hs's SYN,ACK" {
	lab_b sysctl -qw net.ipv4.tcp_fastopen=1 || fail "cannot enable TFO in $LAB_B"
	lab_tcpdump_start tcp port 9090
	local active0
	active0=$(counter TcpExtTCPFastOpenActive)
	local i
	for i in 1 2; do
		hs_bg listen 9090 --tfo-cookie 0102030405060708 --close wait --json --timeout 2 --state-dir "$STATE"
		wait_until 10 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
		run lab_b "$PYTHON" -u "$PEERS/tfo_client.py" "$LAB_ADDR_A" 9090 "hello$i"
		assert_success
		if ((i == 1)); then
			assert_output --partial "sent 6 bytes syn_data=no"
		else
			assert_output --partial "sent 6 bytes syn_data=yes"
		fi
		assert_output --partial eof
		hs_finish 30
		assert_success
		if ((i == 2)); then
			expect "$(segs '.dir == "in" and .flags == "SYN"')" tfo data-acked
		fi
	done
	lab_tcpdump_stop
	(($(counter TcpExtTCPFastOpenActive) == active0 + 1)) || fail "TcpExtTCPFastOpenActive did not grow by one"
	# The wire: the first SYN,ACK hands out the cookie; the second SYN carries it and
	# 6 bytes, which hs's SYN,ACK acknowledges.
	wire | grep -qE "$LAB_ADDR_A\.9090 > $LAB_ADDR_B\.[0-9]+: Flags \[S\.\].*tfo +cookie 0102030405060708" ||
		fail "no SYN,ACK with the cookie: $(wire)"
	local syn isn
	syn=$(wire | grep -E "> $LAB_ADDR_A\.9090: Flags \[S\].*tfo +cookie 0102030405060708")
	[[ $syn =~ length\ 6 && $syn =~ seq\ ([0-9]+): ]] || fail "the second SYN: $syn"
	isn=${BASH_REMATCH[1]}
	wire | grep -qE "$LAB_ADDR_A\.9090 > $LAB_ADDR_B\.[0-9]+: Flags \[S\.\].* ack $((isn + 7))," ||
		fail "hs's SYN,ACK does not acknowledge SYN and data: $(wire)"
}

@test "tfo: a bad --tfo-cookie is a usage error" {
	hs_a listen 9090 --tfo-cookie 0102 --state-dir "$STATE"
	assert_failure 2
	[[ $stderr == "hs: --tfo-cookie needs 4 to 16 bytes, an even number, in hex"* ]] || fail "stderr: $stderr"
	hs_a connect "$LAB_ADDR_B" 8080 --tfo-cookie 01020304 --state-dir "$STATE"
	assert_failure 2
	# an odd number of bytes: a Linux client would ignore the cookie
	hs_a listen 9090 --tfo-cookie 0011223344 --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error 'an even number'
	# --tfo (the saved cookie) and --opt tfo=HEX (this one) contradict each other
	hs_a connect "$LAB_ADDR_B" 8080 --tfo --opt mss=1460,tfo=0011223344556677 --send hi --state-dir "$STATE"
	assert_failure 2
	lab_assert_hs_error 'choose one'
}
