#!/usr/bin/env bats
# Real paths: a router with a small MTU, a segment lost on the way (either way), a
# burst the capture must keep up with, our last ACK lost again and again. Against
# the kernel's TCP in namespace b (tests/peers/textbook_server.py); each test
# checks what the peer's kernel and program saw.
#
# Run by `make check`, or by hand as root: bats tests/bats/path.bats

load common

PORT=7000   # the kernel server's port
SPORT=40000 # hs's port when it connects

setup() {
	PYTHON=/usr/bin/python3
	PEERS=$BATS_TEST_DIRNAME/../peers
	hs_find
	lab_require jq nft ss ip tcpdump tshark
	STATE=$BATS_TEST_TMPDIR/state
}

teardown() {
	lab_teardown
}

# retrans NS: the kernel's count of TCP segments it resent (Tcp RetransSegs) there.
retrans() {
	ip netns exec "$(lab_ns "$1")" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# xs N: N bytes of "x".
xs() {
	head -c "$1" /dev/zero | tr '\0' x
}

# ---- 1. ICMP that asks for action -------------------------------------------------

@test "a router with MTU 1280: fragmentation needed lowers the segment size, everything arrives (IPv4)" {
	lab_setup_routed 1280
	tb_server expect="$(xs 1448)" close
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send "$(xs 1448)" --close wait --json --state-dir "$STATE"
	assert_success
	wait_until 3 server_said '^done ok$' || fail "the server: $(tail -c 300 "$LAB_DIR/server.out")"
	local icmp
	icmp=$(jqo 'select(.type == "icmp")' | head -n1)
	[[ $(jq -r '[.icmp_type, .icmp_code, .mtu] | join(" ")' <<<"$icmp") == "3 4 1280" ]] || fail "ICMP: $icmp"
	[[ $(segs '.dir == "out" and .note == "pmtu" and .len == 1228') ]] || fail "no 1228-byte resend (1280 - 40 - 12 for timestamps) noted pmtu: $output"
	expect "$(result)" outcome closed
}

@test "a router with MTU 1280: packet too big lowers the segment size, everything arrives (IPv6)" {
	lab_setup_routed 1280
	lab_bg b server.out "$PYTHON" -u "$PEERS/textbook_server.py" --bind :: --port "$PORT" expect="$(xs 1428)" close
	wait_until 5 lab_listening b "$PORT" || fail "the server does not listen: $(cat "$LAB_DIR/server.out")"
	hs_a connect "$LAB_ADDR6_B" "$PORT" --sport "$SPORT" --send "$(xs 1428)" --close wait --json --state-dir "$STATE"
	assert_success
	wait_until 3 server_said '^done ok$' || fail "the server: $(tail -c 300 "$LAB_DIR/server.out")"
	[[ $(jqo 'select(.type == "icmp") | [.icmp_type, .mtu] | join(" ")' | head -n1) == '"2 1280"' ]] ||
		fail "no packet too big: $output"
	[[ $(segs '.dir == "out" and .note == "pmtu" and .len == 1208') ]] || fail "no 1208-byte resend (1280 - 60 - 12) noted pmtu: $output"
}

# ---- 2. the receiving side holds what comes out of order --------------------------

@test "the peer's first data lost once: hs holds the rest, the peer resends no more than to a kernel receiver" {
	lab_setup_routed
	# lossonce: the router drops the first data-carrying packet from b, once
	# (a GSO packet may carry several segments: the kernel receiver is the measure)
	lossonce() {
		ip netns exec "$LAB_R" nft delete table inet lossonce 2>/dev/null || true
		lab_nft "$LAB_R" <<-EOF
			table inet lossonce {
				chain f {
					type filter hook forward priority 0;
					ip saddr $LAB_ADDR_B tcp sport $PORT ip length > 200 numgen inc mod 1000000 < 1 counter drop
				}
			}
		EOF
	}
	dropped() {
		ip netns exec "$LAB_R" nft list table inet lossonce | grep -q 'counter packets 1 '
	}
	local before kernel ours
	# a kernel receiver first
	lossonce
	SERVER_OUT=server1.out tb_server send="$(xs 30000)" close
	before=$(retrans b)
	lab_bg a client.out "$PYTHON" -u "$PEERS/textbook_client.py" --sport 45000 "$LAB_ADDR_B" "$PORT" eof close
	wait_until 5 grep -q '^done ok$' "$LAB_DIR/client.out" || fail "the client: $(tail -c 300 "$LAB_DIR/client.out")"
	dropped || fail "nothing was dropped (kernel receiver)"
	kernel=$(($(retrans b) - before))
	# then hs
	lossonce
	tb_server send="$(xs 30000)" close
	before=$(retrans b)
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close wait --json --state-dir "$STATE"
	assert_success
	wait_until 3 server_said '^done ok$' || fail "the server: $(tail -c 300 "$LAB_DIR/server.out")"
	dropped || fail "nothing was dropped (hs)"
	ours=$(($(retrans b) - before))
	echo "# the sender resent $ours segments to hs, $kernel to a kernel receiver" >&3
	[[ $(segs '.dir == "in" and .note == "out-of-order"') ]] || fail "no out-of-order segment: $output"
	[[ $(segs '.dir == "out" and .rack == 30002') ]] || fail "hs did not take all 30000 bytes and the FIN: $output"
	((ours <= kernel + 1)) || fail "the peer resent $ours segments to hs, $kernel to a kernel receiver"
}

# ---- our sending side: fast retransmit --------------------------------------------

@test "our first data segment lost once: hs resends it on the peer's duplicate ACKs, not after its timer" {
	lab_setup_routed
	lab_nft "$LAB_R" <<-EOF
		table inet lossonce {
			chain f {
				type filter hook forward priority 0;
				ip saddr $LAB_ADDR_A tcp dport $PORT ip length > 200 numgen inc mod 1000000 < 1 counter drop
			}
		}
	EOF
	tb_server expect="$(xs 7000)" close
	lab_tcpdump_start tcp port "$PORT"
	# --timeout 5: the retransmission timer would resend after 5 s
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send "$(xs 7000)" --close wait --timeout 5 --json \
		--state-dir "$STATE"
	assert_success
	wait_until 3 server_said '^done ok$' || fail "the server: $(tail -c 300 "$LAB_DIR/server.out")"
	lab_tcpdump_stop
	ip netns exec "$LAB_R" nft list table inet lossonce | grep -q 'counter packets 1 ' || fail "nothing was dropped"
	# from the first data segment's send to its resend, as hs saw them leave: far less than 5 s
	local gap
	gap=$(jqo -s '[.[] | select(.type == "segment" and .dir == "out" and .len > 0 and .rseq == 1)] |
		if length >= 2 then .[1].t - .[0].t else 99 end')
	awk -v g="$gap" 'BEGIN { exit !(g < 2.5) }' || fail "resent after $gap s: $output"
	[[ $(segs '.dir == "out" and .rseq == 1 and .len > 0 and .note == "retransmission"') ]] ||
		fail "the resend is not noted: $output"
}

# ---- 5. the capture keeps up ---------------------------------------------------------

@test "a burst of 1000 small writes: hs sees every one (no capture drops)" {
	lab_setup
	tb_server burst=1000x10 close
	lab_tcpdump_start -B 65536 tcp port "$PORT" and src host "$LAB_ADDR_B"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close wait --json --state-dir "$STATE"
	assert_success
	wait_until 3 server_said '^done ok$' || fail "the server: $(tail -c 300 "$LAB_DIR/server.out")"
	lab_tcpdump_stop
	local wire_data hs_data
	wire_data=$(tshark -r "$LAB_DIR/capture.pcap" -Y 'tcp.len > 0' 2>/dev/null | wc -l)
	hs_data=$(segs '.dir == "in" and .len > 0' | wc -l)
	# how many segments the 1000 writes make depends on how fast ACKs come back (a
	# slower hs, an ASan build, lets the peer's kernel coalesce more): well over
	# the 64 frames the old ring held, with our ACKs, is what matters
	((wire_data >= 40)) || fail "the peer sent only $wire_data data segments"
	[[ $hs_data == "$wire_data" ]] || fail "the wire had $wire_data data segments, hs showed $hs_data"
	[[ $(field "$(result)" capture_drops) == null ]] || fail "capture drops: $(result)"
}

# ---- our last ACK lost, again and again ----------------------------------------------

@test "our ACK of the peer's FIN lost 4 times: hs stays and answers until it arrives, no RST" {
	lab_setup
	# the peer's kernel drops hs's 2nd to 5th pure ACK (the 1st completes the handshake)
	lab_nft b <<-EOF
		table inet acklost {
			chain in {
				type filter hook input priority 0;
				ip saddr $LAB_ADDR_A tcp flags & (fin | syn | rst | ack | psh) == ack numgen inc mod 1000000 vmap { 1-4 : drop }
			}
		}
	EOF
	tb_server eof close
	lab_tcpdump_start tcp port "$PORT"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --close fin --time-wait 0.5 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	wait_until 3 server_said '^done ok$' || fail "the server: $(tail -c 300 "$LAB_DIR/server.out")"
	wait_until 5 peer_has_none "$PORT" "$SPORT"
	lab_tcpdump_stop
	# the peer resent its FIN four times, and every resend found hs, not its kernel
	[[ $(wire | grep -c "$LAB_ADDR_B.$PORT > $LAB_ADDR_A.$SPORT: Flags \[F") -ge 5 ]] ||
		fail "the peer's FINs: $(wire)"
	no_rst_from_hs || fail "an RST from namespace a: $(wire)"
}
