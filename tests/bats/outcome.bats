#!/usr/bin/env bats
# Outcome messages name what was awaited, from the state in which the wait began
# (issue 7, item 5): each test makes a kernel peer (or its firewall) leave hs
# waiting in one state, checks from the peer's side that this is what happened
# (nft counters, its ss), and checks hs's one stderr line word for word.
#
# Run by `make check`, or by hand as root: bats tests/bats/outcome.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump socat
}

teardown() {
	lab_teardown
}

# drop_in MATCH: the peer's firewall drops what arrives for its port 8080 and
# matches MATCH (nft), counting it.
drop_in() {
	lab_nft b <<-EOF
		table inet labdrop {
			chain in {
				type filter hook input priority 0;
				tcp dport 8080 $1 counter drop
			}
		}
	EOF
}

# dropped: how many segments drop_in's rule dropped.
dropped() {
	lab_b nft list table inet labdrop | awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

@test "SYN never answered: timeout names the missing SYN,ACK and the retransmissions (human and JSON)" {
	lab_peer
	drop_in 'tcp flags & (syn | ack) == syn'
	hs_a connect "$LAB_ADDR_B" 8080 --timeout 0.2 --retries 2 --no-color --state-dir "$STATE"
	assert_failure 3
	lab_assert_hs_error "^hs: timeout: no SYN,ACK from $LAB_ADDR_B:8080 after 2 retransmissions of our SYN "
	[[ $stderr != *window* && $stderr != *delivered* ]] || fail "a zero-window message for a SYN: $stderr"
	[[ $(dropped) == 3 ]] || fail "the peer's firewall did not drop 3 SYNs: $(dropped)"
	hs_a connect "$LAB_ADDR_B" 8080 --timeout 0.2 --retries 1 --json --state-dir "$STATE"
	assert_failure 3
	[[ $(field "$(result)" message) == "timeout: no SYN,ACK from $LAB_ADDR_B:8080 after 1 retransmission of our SYN "* ]] ||
		fail "JSON message: $(result)"
	[[ $(dropped) == 5 ]] || fail "the peer's firewall did not drop 2 more SYNs: $(dropped)"
}

@test "listen: the client's ACK never arrives: timeout names the missing ACK of our SYN,ACK" {
	# the client's kernel sends its ACK (and retransmits its SYN); the client's
	# own firewall drops every segment after its SYN on the way out
	lab_nft b <<-EOF
		table inet labnoack {
			chain out {
				type filter hook output priority 0;
				tcp dport 8080 tcp flags & syn == 0 counter drop
			}
		}
	EOF
	hs_bg listen 8080 --timeout 2 --retries 1 --json --state-dir "$STATE"
	wait_until 5 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.out")"
	lab_bg b client.out socat -u OPEN:/dev/null TCP:"$LAB_ADDR_A":8080,connect-timeout=5
	hs_finish 20
	((status == 3)) || fail "exit $status: $output $stderr"
	lab_assert_hs_error "^hs: timeout: no ACK of our SYN,ACK from $LAB_ADDR_B:[0-9]+ after 1 retransmission "
	local n
	n=$(lab_b nft list table inet labnoack | grep -o 'packets [0-9]*' | awk '{ print $2 }')
	((n >= 1)) || fail "the client's ACK never left its kernel: $(lab_b nft list table inet labnoack)"
	[[ -n $(jqo 'select(.type == "segment" and .dir == "out" and .flags == "SYN,ACK" and .note == "retransmission")') ]] ||
		fail "no SYN,ACK retransmission: $output"
}

@test "--close fin, the peer's kernel never gets our FIN: timeout names the ACK of our FIN in FIN-WAIT-1" {
	lab_peer
	drop_in 'tcp flags & fin == fin'
	hs_a connect "$LAB_ADDR_B" 8080 --close fin --timeout 0.2 --retries 1 --json --state-dir "$STATE"
	assert_failure 3
	lab_assert_hs_error "^hs: timeout: no ACK of our FIN from $LAB_ADDR_B:8080 after 1 retransmission in FIN-WAIT-1 "
	[[ $(dropped) == 2 ]] || fail "the peer's firewall did not drop our FIN twice: $(dropped)"
	local sport
	sport=$(field "$(result)" local)
	peer_has_established "${sport##*:}" || fail "the peer's kernel left ESTABLISHED: $(peer_conns 8080)"
}

@test "--send, the peer's kernel never gets the data: timeout names the ACK of our data, 0 of N acknowledged" {
	lab_peer
	drop_in 'tcp flags & psh == psh'
	hs_a connect "$LAB_ADDR_B" 8080 --send hello --timeout 0.2 --retries 1 --json --state-dir "$STATE"
	assert_failure 3
	lab_assert_hs_error "^hs: timeout: no ACK of our data from $LAB_ADDR_B:8080 after 1 retransmission in ESTABLISHED \(0 of 5 bytes acknowledged"
	[[ $(dropped) == 2 ]] || fail "the peer's firewall did not drop the data twice: $(dropped)"
	run ! peer_said 'hello'
}
