#!/usr/bin/env bats
# -w holds exactly what was on the wire, and -v shows the checksums that were on
# it (issue 7, item 6): hs's capture, read by tcpdump/tshark, is compared with
# the capture tcpdump takes in the peer's namespace.
#
# Run by `make check`, or by hand as root: bats tests/bats/capture.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump tshark
}

teardown() {
	lab_teardown
}

# peer_wire_fields FIELDS...: tshark fields of the peer's capture, one line a segment.
peer_wire_fields() {
	local args=() f
	for f in "$@"; do args+=(-e "$f"); done
	tshark -r "$LAB_DIR/capture.pcap" -n -T fields -E separator=' ' "${args[@]}" 2>/dev/null
}

@test "-w -: stdout is the pcap alone, tcpdump -r - reads the handshake; hs's lines go to stderr" {
	lab_peer
	run --separate-stderr bash -c 'set -o pipefail
		ip netns exec "$1" "$2" connect "$3" 8080 --sport 40000 --isn 1000 -w - --no-color \
			--state-dir "$4" | tcpdump -r - -n -S 2>/dev/null' _ "$LAB_A" "$HS" "$LAB_ADDR_B" "$STATE"
	assert_success
	((${#lines[@]} == 3)) || fail "tcpdump did not read 3 segments from hs's stdout: $output"
	[[ ${lines[0]} == *"$LAB_ADDR_A.40000 > $LAB_ADDR_B.8080: Flags [S], seq 1000,"* ]] || fail "first: ${lines[0]}"
	[[ ${lines[1]} == *"$LAB_ADDR_B.8080 > $LAB_ADDR_A.40000: Flags [S.],"*"ack 1001,"* ]] || fail "second: ${lines[1]}"
	[[ ${lines[2]} == *"$LAB_ADDR_A.40000 > $LAB_ADDR_B.8080: Flags [.],"* ]] || fail "third: ${lines[2]}"
	# hs's own lines, on stderr: the handshake and the kept result
	[[ $stderr == *"ESTABLISHED"* && $stderr == *"$LAB_ADDR_B:8080"* ]] || fail "hs's lines are not on stderr: $stderr"
	wait_until 2 peer_has_established 40000
}

@test "-w - --json: the JSON lines go to stderr, the pcap alone to stdout" {
	lab_peer
	local pcap=$BATS_TEST_TMPDIR/out.pcap
	run --separate-stderr bash -c 'ip netns exec "$1" "$2" connect "$3" 8080 --sport 40001 -w - --json \
		--state-dir "$4" >"$5"' _ "$LAB_A" "$HS" "$LAB_ADDR_B" "$STATE" "$pcap"
	assert_success
	[[ $(jq -sr '.[-1].type + " " + .[-1].outcome' <<<"$stderr") == "result established" ]] ||
		fail "no JSON result on stderr: $stderr"
	run --separate-stderr tshark -r "$pcap" -n -T fields -e tcp.flags.str
	assert_success
	((${#lines[@]} == 3)) || fail "tshark read ${#lines[@]} segments: $output"
}

@test "ls -w FILE: the file holds the keepalive probe and the peer's answer, as the peer's wire shows them" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40002 --json --state-dir "$STATE"
	assert_success
	wait_until 2 peer_has_established 40002
	lab_tcpdump_start tcp port 8080
	local pcap=$BATS_TEST_TMPDIR/ls.pcap
	hs_a ls -w "$pcap" --json --state-dir "$STATE"
	assert_success
	[[ $(field "$(jqo 'select(.type == "conn")')" probe) == alive ]] || fail "not probed alive: $output"
	lab_tcpdump_stop
	[[ -s $pcap ]] || fail "hs ls -w wrote no file"
	local ours theirs
	ours=$(tshark -r "$pcap" -n -T fields -E separator=' ' -e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw -e tcp.len 2>/dev/null)
	theirs=$(peer_wire_fields tcp.srcport tcp.dstport tcp.seq_raw tcp.ack_raw tcp.len)
	(($(wc -l <<<"$ours") == 2)) || fail "expected probe and answer in hs's file: $ours"
	[[ $ours == "$theirs" ]] || fail "hs's file differs from the peer's wire:"$'\n'"$ours"$'\n'"--- peer:"$'\n'"$theirs"
	# the probe (one old byte) from hs, the ACK from the peer
	[[ $(head -n1 <<<"$ours") == "40002 8080 "*" 1" && $(tail -n1 <<<"$ours") == "8080 40002 "*" 0" ]] ||
		fail "not a probe and its answer: $ours"
	# pcapng: refused at once (nothing to annotate), no file, the connection still kept
	hs_a ls -w "$BATS_TEST_TMPDIR/ls.pcapng" --state-dir "$STATE"
	assert_failure 2
	[[ $stderr == "hs: hs ls -w writes pcap"* && -z $output ]] || fail "not one clear line: $stderr"
	[[ ! -e $BATS_TEST_TMPDIR/ls.pcapng ]] || fail "hs ls left a pcapng behind"
}

@test "-v: sent segments show the checksum on the wire, received partial ones say offload" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40003 -v --no-color --state-dir "$STATE"
	assert_success
	lab_tcpdump_stop
	# the peer's capture: our SYN and ACK with a correct checksum, its SYN,ACK partial
	local syn ack synack
	syn=$(tshark -r "$LAB_DIR/capture.pcap" -n -o tcp.check_checksum:TRUE -T fields -E separator=' ' \
		-e tcp.srcport -e tcp.flags.syn -e tcp.flags.ack -e tcp.checksum -e tcp.checksum.status 2>/dev/null)
	local want_syn want_synack want_ack
	want_syn=$(awk '$1 == 40003 && $2 == "1" { print $4, $5 }' <<<"$syn")
	want_synack=$(awk '$1 == 8080 && $2 == "1" { print $4, $5 }' <<<"$syn")
	want_ack=$(awk '$1 == 40003 && $2 == "0" { print $4, $5; exit }' <<<"$syn")
	[[ $want_syn == *" 1" && $want_ack == *" 1" ]] || fail "our segments' checksums are not good on the peer's wire: $syn"
	[[ $want_synack == *" 0" || $want_synack == *" 2" ]] || fail "the SYN,ACK's checksum is not partial: $syn"
	local line
	line=$(grep -E '→ SYN  |-> SYN  ' <<<"$output") || fail "no SYN line: $output"
	[[ $line == *"csum ${want_syn% *}  "* ]] || fail "SYN: hs shows not ${want_syn% *}: $line"
	line=$(grep -E '(→|->) ACK  ' <<<"$output" | head -n1) || fail "no ACK line: $output"
	[[ $line == *"csum ${want_ack% *}  "* ]] || fail "ACK: hs shows not ${want_ack% *}: $line"
	line=$(grep -E 'SYN,ACK' <<<"$output" | head -n1) || fail "no SYN,ACK line: $output"
	[[ $line == *"csum ${want_synack% *} (offload)"* ]] || fail "SYN,ACK: not ${want_synack% *} (offload): $line"
}

@test "-v --json: csum and csum_status on every segment" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40004 -v --json --state-dir "$STATE"
	assert_success
	[[ $(segs '.dir == "out"' | jq -r '.csum_status' | sort -u) == ok ]] || fail "sent: $output"
	[[ $(segs '.dir == "in"' | jq -r '.csum_status' | sort -u) == offload ]] || fail "received: $output"
	segs '.dir == "out"' | jq -e 'select(.csum == 0)' >/dev/null && fail "a sent csum of 0: $output"
	return 0
}
