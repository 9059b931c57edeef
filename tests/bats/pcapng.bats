#!/usr/bin/env bats
# -w FILE.pcapng / --pcapng (views, item 4): the capture with a comment on every
# packet saying what it did to each side's state, and its note. tshark reads the
# file (frame.comment, checksums), and it is compared with the capture tcpdump
# takes in the peer's namespace; bad paths and bad input leave nothing behind.
#
# Run by `make check`, or by hand as root: bats tests/bats/pcapng.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump tshark capinfos
}

teardown() {
	lab_teardown
}

# One line a packet: the TCP fields both captures must agree on.
WIRE_FIELDS=(-e tcp.srcport -e tcp.dstport -e tcp.flags -e tcp.seq_raw -e tcp.ack_raw -e tcp.len)

# wire_of FILE: those fields of every packet of FILE (pcap or pcapng).
wire_of() {
	tshark -r "$1" -n -T fields -E separator=' ' "${WIRE_FIELDS[@]}" 2>/dev/null
}

# comments_of FILE: each packet's comment (tab) its TCP flags, one line a packet.
comments_of() {
	tshark -r "$1" -n -T fields -E separator=/t -e frame.comment -e tcp.flags.str 2>/dev/null
}

# assert_commented FILE: tshark reads FILE whole and every packet has a comment.
assert_commented() {
	local out
	out=$(tshark -r "$1" -n -T fields -e frame.number -e frame.comment 2>&1 >/dev/null | grep -v 'Running as user' || true)
	[[ -z $out ]] || fail "tshark complains about $1: $out"
	local n missing
	n=$(tshark -r "$1" -n -T fields -e frame.number 2>/dev/null | wc -l)
	((n > 0)) || fail "no packets in $1"
	missing=$(tshark -r "$1" -n -T fields -e frame.number -e frame.comment 2>/dev/null | awk -F'\t' '$2 == ""')
	[[ -z $missing ]] || fail "packets without a comment in $1: $missing"$'\n'"$(comments_of "$1")"
}

# comment_of FILE N: packet N's comment.
comment_of() {
	tshark -r "$1" -n -Y "frame.number == $2" -T fields -e frame.comment 2>/dev/null
}

@test "-w x.pcapng: every packet commented with both sides' states, checksums good, the same packets as the peer's wire" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	local ng=$BATS_TEST_TMPDIR/x.pcapng before after
	before=$(date +%s)
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40010 -w "$ng" --send hello --close fin --json --state-dir "$STATE"
	assert_success
	after=$(date +%s)
	lab_tcpdump_stop
	wait_until 5 peer_has_none 8080 40010 || fail "the peer still has the connection: $(peer_conns 8080 40010)"

	[[ $(capinfos -t "$ng" 2>/dev/null) == *"pcapng"* ]] || fail "not pcapng: $(capinfos -t "$ng" 2>&1)"
	[[ $(capinfos -E "$ng" 2>/dev/null) == *"Raw IP"* ]] || fail "not raw IP: $(capinfos -E "$ng" 2>&1)"
	assert_commented "$ng"

	# the same segments, in the same order, as the peer's own capture
	local ours theirs
	ours=$(wire_of "$ng")
	theirs=$(wire_of "$LAB_DIR/capture.pcap")
	[[ -n $ours && $ours == "$theirs" ]] ||
		fail "hs's file differs from the peer's wire:"$'\n'"$ours"$'\n'"--- peer:"$'\n'"$theirs"

	# what each one did: the SYN made us SYN-SENT, the SYN,ACK ESTABLISHED (the
	# peer, as its SYN,ACK shows, SYN-RECEIVED), our ACK made the peer ESTABLISHED
	local c
	c=$(comment_of "$ng" 1)
	[[ $c == "CLOSED → SYN-SENT; peer "* ]] || fail "the SYN's comment: $c"
	c=$(comment_of "$ng" 2)
	[[ $c == "SYN-SENT → ESTABLISHED; peer "*"SYN-RECEIVED" ]] || fail "the SYN,ACK's comment: $c"
	c=$(comment_of "$ng" 3)
	[[ $c == "ESTABLISHED; peer SYN-RECEIVED → ESTABLISHED"* ]] || fail "the ACK's comment: $c"
	# our FIN, and at the end the peer closed, as its ss says (peer_has_none above)
	comments_of "$ng" | grep -q $'^ESTABLISHED → FIN-WAIT-1; peer ESTABLISHED\t.*F' ||
		fail "no FIN-WAIT-1 on our FIN: $(comments_of "$ng")"
	c=$(comments_of "$ng" | tail -n1)
	[[ $c == "TIME-WAIT; peer LAST-ACK → CLOSED"* ]] || fail "the last packet's comment: $c"

	# the checksums of what we sent are good; the times are the run's wall clock
	local csum
	csum=$(tshark -r "$ng" -n -o tcp.check_checksum:TRUE -Y "tcp.srcport == 40010" -T fields \
		-e tcp.checksum.status 2>/dev/null | sort -u)
	[[ $csum == 1 ]] || fail "our segments' checksum status: $csum (1 is good)"
	local first last
	first=$(tshark -r "$ng" -n -T fields -e frame.time_epoch 2>/dev/null | head -n1)
	last=$(tshark -r "$ng" -n -T fields -e frame.time_epoch 2>/dev/null | tail -n1)
	((${first%.*} >= before && ${last%.*} <= after)) || fail "times $first..$last outside the run $before..$after"
	[[ $(tshark -r "$ng" -n -T fields -e frame.time_epoch 2>/dev/null | sort -c -g 2>&1) == "" ]] ||
		fail "times go back"
}

@test "--pcapng -w -: tshark reads the commented capture from hs's stdout; hs's lines go to stderr" {
	lab_peer
	run --separate-stderr bash -c 'set -o pipefail
		ip netns exec "$1" "$2" connect "$3" 8080 --sport 40011 --pcapng -w - --close rst --no-color \
			--state-dir "$4" | tshark -r - -n -T fields -E separator=/t -e frame.comment -e tcp.flags.str 2>/dev/null' \
		_ "$LAB_A" "$HS" "$LAB_ADDR_B" "$STATE"
	assert_success
	((${#lines[@]} == 4)) || fail "tshark did not read 4 segments from hs's stdout: $output"
	[[ ${lines[0]} == "CLOSED → SYN-SENT; peer "*$'\t'*S* ]] || fail "the SYN: ${lines[0]}"
	[[ ${lines[3]} == "ESTABLISHED → CLOSED; peer ESTABLISHED → CLOSED"*$'\t'*R* ]] || fail "the RST: ${lines[3]}"
	[[ $stderr == *"aborted"* && $stderr == *"$LAB_ADDR_B:8080"* ]] || fail "hs's lines are not on stderr: $stderr"
	wait_until 5 peer_has_none 8080 40011 || fail "the peer did not take the RST: $(peer_conns 8080 40011)"
}

@test "listen -w x.pcapng: the SYN that chose the peer is commented LISTEN → SYN-RECEIVED, the file matches the client's wire" {
	lab_tcpdump_start tcp port 9000
	local ng=$BATS_TEST_TMPDIR/l.pcapng
	hs_bg listen 9000 --json -w "$ng" --close wait --state-dir "$STATE"
	wait_until 5 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	lab_b socat -u - "TCP:$LAB_ADDR_A:9000" <<<"hi" || fail "the client could not connect"
	hs_finish 10
	assert_success
	lab_tcpdump_stop
	assert_commented "$ng"
	# The same packets; in the order each end saw them, which differs where two
	# crossed in flight (the client's FIN and hs's ACK of its data): compared sorted.
	local ours theirs
	ours=$(wire_of "$ng" | sort)
	theirs=$(wire_of "$LAB_DIR/capture.pcap" | sort)
	[[ -n $ours && $ours == "$theirs" ]] ||
		fail "hs's file differs from the client's wire:"$'\n'"$ours"$'\n'"--- client:"$'\n'"$theirs"
	local c
	c=$(comment_of "$ng" 1)
	[[ $c == "LISTEN → SYN-RECEIVED; peer CLOSED → SYN-SENT" ]] || fail "the SYN's comment: $c"
	c=$(comment_of "$ng" 3)
	[[ $c == "SYN-RECEIVED → ESTABLISHED; peer SYN-SENT → ESTABLISHED" ]] || fail "the ACK's comment: $c"
	# --close wait: the client's FIN first, then ours
	c=$(comments_of "$ng" | grep $'\t.*F' | cut -f1)
	[[ $c == "ESTABLISHED → CLOSE-WAIT; peer ESTABLISHED → FIN-WAIT-1"$'\n'"CLOSE-WAIT → LAST-ACK; peer FIN-WAIT-2 (assumed)" ]] ||
		fail "the FINs: $c"
	c=$(comments_of "$ng" | tail -n1 | cut -f1)
	[[ $c == "LAST-ACK → CLOSED; peer FIN-WAIT-2 → TIME-WAIT" ]] || fail "the last ACK: $c"
}

@test "IPv6: -w x.pcapng holds the same packets as the peer's wire, each commented" {
	lab_peer
	wait_until 5 no_tentative_addresses || fail "IPv6 addresses still tentative"
	lab_tcpdump_start tcp port 8080
	local ng=$BATS_TEST_TMPDIR/v6.pcapng
	hs_a connect "[$LAB_ADDR6_B]:8080" --sport 40016 -w "$ng" --send hello --close rst --json --state-dir "$STATE"
	assert_success
	lab_tcpdump_stop
	assert_commented "$ng"
	local ours theirs
	ours=$(wire_of "$ng")
	theirs=$(wire_of "$LAB_DIR/capture.pcap")
	[[ -n $ours && $ours == "$theirs" ]] ||
		fail "hs's file differs from the peer's wire:"$'\n'"$ours"$'\n'"--- peer:"$'\n'"$theirs"
	[[ $(tshark -r "$ng" -n -T fields -e ipv6.dst 2>/dev/null | head -n1) == "$LAB_ADDR6_B" ]] || fail "not IPv6"
	[[ $(comment_of "$ng" 1) == "CLOSED → SYN-SENT; peer "* ]] || fail "the SYN's comment: $(comment_of "$ng" 1)"
}

@test "an ICMP error is in the file too, commented with what it did: SYN-SENT → CLOSED" {
	lab_nft b <<'EOF'
table inet hs_test_reject {
	chain in {
		type filter hook input priority 0;
		tcp dport 8081 reject with icmp type admin-prohibited
	}
}
EOF
	lab_tcpdump_start tcp port 8081 or icmp
	local ng=$BATS_TEST_TMPDIR/i.pcapng
	hs_a connect "$LAB_ADDR_B" 8081 --sport 40015 -w "$ng" --json --state-dir "$STATE"
	assert_failure 1
	lab_tcpdump_stop
	assert_commented "$ng"
	local ours theirs
	ours=$(tshark -r "$ng" -n -T fields -E separator=' ' -e ip.src -e ip.dst -e icmp.type -e icmp.code -e tcp.seq_raw 2>/dev/null)
	theirs=$(tshark -r "$LAB_DIR/capture.pcap" -n -T fields -E separator=' ' -e ip.src -e ip.dst -e icmp.type -e icmp.code \
		-e tcp.seq_raw 2>/dev/null)
	[[ $(wc -l <<<"$ours") == 2 && $ours == "$theirs" ]] ||
		fail "hs's file differs from the peer's wire:"$'\n'"$ours"$'\n'"--- peer:"$'\n'"$theirs"
	local c
	c=$(comment_of "$ng" 2)
	[[ $c == "ICMP communication administratively prohibited; SYN-SENT → CLOSED" ]] || fail "the ICMP's comment: $c"
}

@test "-w x.pcap stays plain pcap: no comments, the same packets as the peer's wire" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	local pcap=$BATS_TEST_TMPDIR/x.pcap
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40012 -w "$pcap" --close rst --json --state-dir "$STATE"
	assert_success
	lab_tcpdump_stop
	local type
	type=$(capinfos -t "$pcap" 2>/dev/null)
	[[ $type == *pcap && $type != *pcapng* ]] || fail "not pcap: $type"
	[[ -z $(tshark -r "$pcap" -n -T fields -e frame.comment 2>/dev/null | tr -d '\n') ]] || fail "comments in a pcap"
	[[ $(wire_of "$pcap") == "$(wire_of "$LAB_DIR/capture.pcap")" ]] || fail "hs's pcap differs from the peer's wire"
}

@test "bad -w path: exit 4, one line, nothing sent; --pcapng -w /dev/full is refused the same way" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40013 -w "$BATS_TEST_TMPDIR/no/such/dir/x.pcapng" --state-dir "$STATE"
	assert_failure 4
	lab_assert_hs_error "cannot write .*/no/such/dir/x.pcapng: No such file or directory"
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40013 --pcapng -w /dev/full --json --state-dir "$STATE"
	assert_failure 4
	lab_assert_hs_error "cannot write /dev/full: No space left on device"
	lab_tcpdump_stop
	[[ -z $(wire_of "$LAB_DIR/capture.pcap") ]] || fail "something was sent: $(wire_of "$LAB_DIR/capture.pcap")"
	assert_no_guard_left
}

@test "bad option, bad host: no .pcapng is made, and an existing one is left as it was" {
	local ng=$BATS_TEST_TMPDIR/x.pcapng old=$BATS_TEST_TMPDIR/old.pcapng
	hs_a connect "$LAB_ADDR_B" 8080 -w "$ng" --no-such-option --state-dir "$STATE"
	assert_failure 2
	hs_a connect "$LAB_ADDR_B" 8080 -w "$ng" --window lots --state-dir "$STATE"
	assert_failure 2
	hs_a connect no-such-host.invalid 8080 -w "$ng" --state-dir "$STATE"
	assert_failure
	hs_a connect no-such-host.invalid 8080 -w "$ng" --json --state-dir "$STATE"
	assert_failure
	[[ ! -e $ng ]] || fail "a file was left behind: $(ls -l "$ng")"
	printf 'not a capture\n' >"$old"
	hs_a connect no-such-host.invalid 8080 -w "$old" --state-dir "$STATE"
	assert_failure
	[[ $(cat "$old") == "not a capture" ]] || fail "the existing file was changed"
}

@test "a full disk during the run: exit 4, one line; the file ends with the last whole packet and the peer is reset" {
	lab_peer
	local dir=$BATS_TEST_TMPDIR/small data
	mkdir -p "$dir"
	data=$(head -c 30000 /dev/zero | tr '\0' a)
	# 8 KiB of tmpfs in a mount namespace of its own: the handshake fits, the data
	# does not; the file is copied out before the namespace (and the tmpfs) goes.
	run --separate-stderr unshare -m bash -c 'mount -t tmpfs -o size=8k hs-small "$1" || exit 99
		ip netns exec "$2" "$3" connect "$4" 8080 --sport 40014 -w "$1/x.pcapng" --send "$5" --close fin \
			--state-dir "$6"; rc=$?
		cp "$1/x.pcapng" "$1.pcapng"; exit $rc' _ "$dir" "$LAB_A" "$HS" "$LAB_ADDR_B" "$data" "$STATE"
	((status != 99)) || fail "cannot mount a tmpfs here: $stderr"
	assert_failure 4
	lab_assert_hs_error "cannot write .*/x.pcapng: No space left on device: stopped in ESTABLISHED"
	assert_commented "$dir.pcapng"
	(($(stat -c %s "$dir.pcapng") <= 8192)) || fail "bigger than the disk?"
	wait_until 5 peer_has_none 8080 40014 || fail "the peer still has the connection: $(peer_conns 8080 40014)"
	assert_no_guard_left
}

# A packet waits for the state changes that follow it; once hs has been quiet a
# moment it is on disk: while hs waits (here for a FIN that never comes) the file
# holds the whole handshake, commented, as the peer's wire has it.
@test "-w x.pcapng while hs waits: the file already holds every packet so far, commented" {
	lab_peer
	local ng=$BATS_TEST_TMPDIR/wait.pcapng
	hs_bg connect "$LAB_ADDR_B" 8080 --sport 40019 -w "$ng" --close wait --state-dir "$STATE"
	wait_until 5 grep -q "accepted $LAB_ADDR_A:40019" "$LAB_DIR/peer.out" ||
		fail "the peer has no connection: $(cat "$LAB_DIR/peer.out" "$LAB_DIR/hs.err")"
	wait_until 3 eval '(($(tshark -r "$ng" -n -T fields -e frame.number 2>/dev/null | wc -l) == 3))' ||
		fail "not the handshake's three packets while hs waits: $(comments_of "$ng")"
	kill -0 "$HS_PID" || fail "hs is not waiting any more: $(cat "$LAB_DIR/hs.err")"
	assert_commented "$ng"
	[[ $(comment_of "$ng" 3) == "ESTABLISHED; peer SYN-RECEIVED → ESTABLISHED (assumed)" ]] ||
		fail "the ACK's comment: $(comments_of "$ng")"
	kill -INT "$HS_PID"
	wait "$HS_PID" || true
}
