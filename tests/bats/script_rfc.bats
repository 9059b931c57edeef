#!/usr/bin/env bats
# The scenario scripts of tests/scripts/ that show RFC rules of TCP against the
# kernel of namespace b: RFC 5961's challenge ACKs (an in-window RST, a SYN on an
# established connection, an ACK of unsent data), zero-window probes, SACK blocks
# beyond a hole, the SYN,ACK retransmitted when the handshake's ACK is lost. Each
# script must pass (`hs script`, exit 0), and the test checks what the PEER saw:
# its program's report (tests/peers/cued.py), ss, nstat counters, its capture
# judged by tshark. Each NAME-wrong.pkt twin (one deliberate error in one ">"
# line) must fail with exit 1 at exactly that line. No guard table is left after
# any run.
#
# Run by `make check`, or by hand as root: bats tests/bats/script_rfc.bats

load common

PORT=8080

setup() {
	# tb_setup makes the lab (hs_setup); a second hs_setup would make another, which
	# teardown would never remove
	lab_require ss nstat tcpdump tshark
	tb_setup
	SCRIPTS=$BATS_TEST_DIRNAME/../scripts
	# Linux limits challenge ACKs per namespace (RFC 5961 section 7): no limit here.
	lab_b sysctl -qw net.ipv4.tcp_challenge_ack_limit=2147483647
}

teardown() {
	lab_teardown
}

# ---- helpers ----------------------------------------------------------------------

# cued STEP...: tests/peers/cued.py on $PORT in namespace b, log in
# $LAB_DIR/peer.out; returns once it listens.
cued() {
	lab_bg b peer.out "$PYTHON" -u "$PEERS/cued.py" --port "$PORT" "$@"
	wait_until 5 lab_listening b "$PORT" || fail "cued.py does not listen: $(cat "$LAB_DIR/peer.out")"
}

# counter NAME: the value of the kernel counter NAME (nstat's name, e.g.
# TcpExtTCPChallengeACK) in namespace b, absolute, history untouched.
counter() {
	lab_b nstat -asz "$1" | awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }'
}

# peer_received_bytes: how many bytes the peer's program reported receiving.
peer_received_bytes() {
	awk '$1 == "received" { n += $3 } END { print n + 0 }' "$LAB_DIR/peer.out"
}

# peer_read_all: the peer's program read everything that arrived (its ESTABLISHED
# connection on $PORT has an empty Recv-Q), so its report is complete.
peer_read_all() {
	local q
	q=$(lab_b ss -Htn state established "sport = :$PORT" | awk '{ print $1 }')
	[[ $q == 0 ]] && grep -q '^received ' "$LAB_DIR/peer.out"
}

# established_count: the peer's ESTABLISHED connections on $PORT.
established_count() {
	lab_established b "$PORT" | grep -c .
}

# no_guard_left: hs left no guard table in namespace a.
no_guard_left() {
	local t
	t=$(lab_hs_tables a)
	[[ -z $t ]] || fail "hs left guard tables in a: $t"
}

# wrong NAME: NAME-wrong.pkt fails with exit 1 at exactly its wrong line, the
# ">" line after the "// wrong:" comment; nothing left behind.
wrong() {
	local file=$SCRIPTS/$1-wrong.pkt line
	line=$(grep -n -m1 '^// wrong:' "$file" | cut -d: -f1)
	[[ -n $line ]] || fail "$file has no // wrong: comment"
	line=$((line + 1))
	[[ $(sed -n "${line}p" "$file") == *' > '* ]] || fail "$file:$line is not a > line"
	lab_script_fails "$line" "$file" || fail "$1-wrong.pkt"
	no_guard_left
}

# ---- RFC 5961 section 3.2: an in-window RST ----------------------------------------

@test "rst-challenge.pkt: an in-window RST not at RCV.NXT gets a challenge ACK, the connection stays" {
	cued eof close
	local before after
	before=$(counter TcpExtTCPChallengeACK)
	lab_script "$SCRIPTS/rst-challenge.pkt" || fail "rst-challenge.pkt"
	no_guard_left
	after=$(counter TcpExtTCPChallengeACK)
	((after > before)) || fail "TcpExtTCPChallengeACK did not grow: $before -> $after"
	wait_until 5 peer_read_all || fail "$(cat "$LAB_DIR/peer.out")"
	[[ $(peer_received_bytes) == 5 ]] || fail "the peer received: $(cat "$LAB_DIR/peer.out")"
	[[ $(established_count) == 1 ]] || fail "the peer's connection: $(lab_conns b "$PORT")"
	! grep -q '^reset ' "$LAB_DIR/peer.out" || fail "the peer saw a reset: $(cat "$LAB_DIR/peer.out")"
}

@test "rst-challenge-wrong.pkt fails at its wrong line" {
	cued eof close
	wrong rst-challenge
}

# ---- RFC 5961 section 4.2: a SYN on an established connection -----------------------

@test "syn-challenge.pkt: a SYN in ESTABLISHED gets a challenge ACK, the connection stays" {
	cued eof close
	local before after syn_before syn_after
	before=$(counter TcpExtTCPChallengeACK)
	syn_before=$(counter TcpExtTCPSYNChallenge)
	lab_script "$SCRIPTS/syn-challenge.pkt" || fail "syn-challenge.pkt"
	no_guard_left
	after=$(counter TcpExtTCPChallengeACK)
	syn_after=$(counter TcpExtTCPSYNChallenge)
	((after > before)) || fail "TcpExtTCPChallengeACK did not grow: $before -> $after"
	((syn_after > syn_before)) || fail "TcpExtTCPSYNChallenge did not grow: $syn_before -> $syn_after"
	wait_until 5 peer_read_all || fail "$(cat "$LAB_DIR/peer.out")"
	[[ $(peer_received_bytes) == 5 ]] || fail "the peer received: $(cat "$LAB_DIR/peer.out")"
	[[ $(established_count) == 1 ]] || fail "the peer's connection: $(lab_conns b "$PORT")"
}

@test "syn-challenge-wrong.pkt fails at its wrong line" {
	cued eof close
	wrong syn-challenge
}

# ---- RFC 5961 section 5.2: an ACK of data never sent --------------------------------

@test "ack-unsent.pkt: data with an ACK of unsent data is dropped and answered with an ACK" {
	cued eof close
	lab_script "$SCRIPTS/ack-unsent.pkt" || fail "ack-unsent.pkt"
	no_guard_left
	# The first copy was dropped, the second taken: 5 bytes in all, not 10.
	wait_until 5 peer_read_all || fail "$(cat "$LAB_DIR/peer.out")"
	[[ $(peer_received_bytes) == 5 ]] || fail "the peer received: $(cat "$LAB_DIR/peer.out")"
	[[ $(established_count) == 1 ]] || fail "the peer's connection: $(lab_conns b "$PORT")"
}

@test "ack-unsent-wrong.pkt fails at its wrong line" {
	cued eof close
	wrong ack-unsent
}

# ---- zero-window probes ------------------------------------------------------------

@test "zero-window.pkt: the peer probes hs's zero window, then sends its data when it opens" {
	cued send=hello "cue=$LAB_DIR/go" outq close
	local before after
	before=$(counter TcpExtTCPWinProbe)
	lab_script "$SCRIPTS/zero-window.pkt" || fail "zero-window.pkt"
	no_guard_left
	after=$(counter TcpExtTCPWinProbe)
	((after > before)) || fail "TcpExtTCPWinProbe did not grow: $before -> $after"
	# hs acknowledged all 5 bytes: nothing left in the peer's send queue.
	touch "$LAB_DIR/go"
	wait_until 5 grep -q '^outq ' "$LAB_DIR/peer.out" || fail "$(cat "$LAB_DIR/peer.out")"
	grep -q '^outq .* 0 bytes unacknowledged' "$LAB_DIR/peer.out" || fail "$(cat "$LAB_DIR/peer.out")"
}

@test "zero-window-wrong.pkt fails at its wrong line" {
	cued send=hello "cue=$LAB_DIR/go" outq close
	wrong zero-window
}

# ---- SACK beyond a hole ------------------------------------------------------------

@test "sack-hole.pkt: the duplicate ACK carries the SACK block beyond the hole" {
	cued eof close
	lab_tcpdump_start tcp port "$PORT"
	lab_script "$SCRIPTS/sack-hole.pkt" || fail "sack-hole.pkt"
	no_guard_left
	wait_until 5 peer_read_all || fail "$(cat "$LAB_DIR/peer.out")"
	[[ $(peer_received_bytes) == 300 ]] || fail "the peer received: $(cat "$LAB_DIR/peer.out")"
	lab_tcpdump_stop
	# The peer's capture: its duplicate ACK of 101 with the block 201:301 (tshark's
	# numbers are relative to the ISNs, as the script's), and its ACK of 301.
	local dup all
	dup=$(tshark -r "$LAB_DIR/capture.pcap" -Y "tcp.srcport == $PORT && tcp.ack == 101 &&
		tcp.options.sack_le == 201 && tcp.options.sack_re == 301" 2>/dev/null | grep -c .)
	all=$(tshark -r "$LAB_DIR/capture.pcap" -Y "tcp.srcport == $PORT && tcp.ack == 301 &&
		!tcp.options.sack_le" 2>/dev/null | grep -c .)
	[[ $dup == 1 && $all == 1 ]] || fail "dup ACK with SACK: $dup, ACK of 301: $all"$'\n'"$(lab_tcpdump_text)"
}

@test "sack-hole-wrong.pkt fails at its wrong line" {
	cued eof close
	wrong sack-hole
}

# ---- the SYN,ACK retransmitted -----------------------------------------------------

@test "synack-rtx.pkt: without hs's ACK the peer retransmits its SYN,ACK; the ACK then establishes" {
	cued eof close
	local before after
	before=$(counter TcpExtTCPSynRetrans)
	lab_script "$SCRIPTS/synack-rtx.pkt" || fail "synack-rtx.pkt"
	no_guard_left
	after=$(counter TcpExtTCPSynRetrans)
	((after > before)) || fail "TcpExtTCPSynRetrans did not grow: $before -> $after"
	wait_until 5 grep -q "^accepted $LAB_ADDR_A:" "$LAB_DIR/peer.out" || fail "$(cat "$LAB_DIR/peer.out")"
	[[ $(established_count) == 1 ]] || fail "the peer's connection: $(lab_conns b "$PORT")"
}

@test "synack-rtx-wrong.pkt fails at its wrong line" {
	cued eof close
	wrong synack-rtx
}
