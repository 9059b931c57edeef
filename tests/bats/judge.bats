#!/usr/bin/env bats
# What arrives is judged as a stack would judge it (issue 8, item 5; item 2's TFO
# bullet): while hs holds a connection, segments crafted in the peer's namespace
# (tests/peers/inject.py, scapy) that a kernel would drop -- a wrong TCP
# checksum, an IPv4 first fragment that never completes -- move nothing in hs;
# in-window RSTs draw challenge ACKs at most 10 a second (RFC 5961 7); data in a
# TFO client's SYN is noted as not accepted and taken once the client's kernel
# sends it again. Asserted from the peer's side: its capture (what hs sent),
# its program, and hs's exit status after an orderly close.
#
# Run by `make check`, or by hand as root: bats tests/bats/judge.bats

load common

PORT=7000   # the peer's port, or hs's when it listens
CPORT=45000 # the TFO client's port

setup() {
	tb_setup
	/usr/bin/python3 -c 'import scapy' 2>/dev/null || fail "python3-scapy is missing (tools/deps installs it)"
}

teardown() {
	lab_teardown
}

# inject ARGS...: tests/peers/inject.py in namespace b (from the peer's address
# and port to hs's), its report in $LAB_DIR/inject.out.
inject() {
	[[ $PEER == *:* ]] && set -- --v6 "$@"
	lab_b "$PYTHON" "$PEERS/inject.py" --src "$PEER" --dst "$HSADDR" --sport "$PORT" --dport "$HSPORT" "$@" \
		>>"$LAB_DIR/inject.out" 2>&1 || fail "inject.py $* failed: $(cat "$LAB_DIR/inject.out")"
}

# hs_up: hs's output shows it ESTABLISHED (its ACK of the SYN,ACK sent).
hs_up() {
	[[ -n $(jq -c 'select(.type == "segment" and .dir == "out" and .state == "ESTABLISHED")' "$LAB_DIR/hs.out") ]]
}

# hs_noted NOTE [N]: hs's output so far has at least N (1) incoming segments noted NOTE.
hs_noted() {
	(($(jq -c "select(.type == \"segment\" and .dir == \"in\" and .note == \"$1\")" "$LAB_DIR/hs.out" |
		wc -l) >= ${2:-1}))
}

# hs_noted_or_gone NOTE [N]: hs_noted, or hs has exited (then waiting is over).
hs_noted_or_gone() {
	hs_noted "$@" || lab_gone "$HS_PID"
}

# await_note NOTE [N]: hs notes NOTE (N times) while it still holds the connection.
await_note() {
	wait_until 10 hs_noted_or_gone "$@" || fail "hs did not note $1: $(cat "$LAB_DIR/hs.out")"
	hs_noted "$@" || fail "hs ended without noting $1: $(tail -n 1 "$LAB_DIR/hs.out"; cat "$LAB_DIR/hs.err")"
}

# hold V4|V6: a capture in b; cued.py there on $PORT, holding its side open until
# $LAB_DIR/go exists, then closing; hs connect --close wait to it in the
# background, established. Sets PEER and HSADDR (the addresses), HSPORT (hs's
# port, from the capture), RCVNXT (hs's RCV.NXT: the peer's ISN + 1, read from
# its SYN,ACK in the capture) and SNDNXT (hs's ISN + 1, from its SYN there).
hold() {
	if [[ $1 == v6 ]]; then
		PEER=$LAB_ADDR6_B HSADDR=$LAB_ADDR6_A
		wait_until 5 no_tentative_addresses
	else
		PEER=$LAB_ADDR_B HSADDR=$LAB_ADDR_A
	fi
	capture
	lab_bg b peer.out "$PYTHON" -u "$PEERS/cued.py" --port "$PORT" "cue=$LAB_DIR/go" close
	wait_until 5 lab_listening b "$PORT" || fail "cued.py does not listen: $(cat "$LAB_DIR/peer.out")"
	hs_bg connect "$PEER" "$PORT" --close wait --timeout 2 --json --state-dir "$STATE"
	wait_until 10 hs_up || fail "hs is not established: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	wait_until 5 peer_said '^accepted ' || fail "the peer did not accept: $(cat "$LAB_DIR/peer.out")"
	local synack
	wait_until 5 synack_seen || fail "no SYN,ACK in the peer's capture: $(wire)"
	synack=$(wire | awk -v p="$PEER.$PORT" '$3 == p && $7 == "[S.],"' | head -1)
	HSPORT=$(awk '{ sub(/:$/, "", $5); n = split($5, p, "."); print p[n] }' <<<"$synack")
	local isn=${synack#*seq }
	isn=${isn%%,*}
	[[ $HSPORT =~ ^[0-9]+$ && $isn =~ ^[0-9]+$ ]] || fail "cannot read the SYN,ACK: $synack"
	RCVNXT=$(((isn + 1) % 4294967296))
	local hsisn
	hsisn=$(wire | awk -v h="$HSADDR.$HSPORT" '$3 == h && $7 == "[S]," { sub(/,$/, "", $9); print $9; exit }')
	[[ $hsisn =~ ^[0-9]+$ ]] || fail "cannot read hs's SYN: $(wire)"
	SNDNXT=$(((hsisn + 1) % 4294967296))
}

synack_seen() {
	wire | awk -v p="$PEER.$PORT" '$3 == p && $7 == "[S.],"' | grep -q .
}

# release: let the peer close; hs closes in turn (closed_normally checks how).
# Then the peer's capture is complete.
release() {
	touch "$LAB_DIR/go"
	# An hs that does not close is stopped, so that the test can say what went wrong
	# first; closed_normally then fails on its exit status.
	wait_until 20 lab_gone "$HS_PID" || kill -TERM "$HS_PID"
	hs_finish 5
	wait_until 5 peer_said '^closed ' || fail "the peer did not close: $(cat "$LAB_DIR/peer.out")"
	capture_complete
}

# closed_normally: after release, hs closed as asked and exit 0: no reset, no RST
# from hs on the wire, no guard left.
closed_normally() {
	((status == 0)) || fail "hs exited $status, expected 0 (an orderly close): $output $stderr"
	expect "$(result)" outcome closed
	assert_path 'SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED'
	no_rst_from_hs || fail "hs sent an RST: $(wire)"
	assert_no_guard_left
}

# hs_acks: the ack numbers of hs's segments in the peer's capture, one a line.
hs_acks() {
	wire | awk -v h="$HSADDR.$HSPORT" '$3 == h { for (i = 4; i < NF; i++) if ($i == "ack") { a = $(i + 1); sub(/,$/, "", a); print a } }'
}

# no_ack_beyond N: no segment of hs acknowledges more than N bytes past RCVNXT
# (mod 2^32).
no_ack_beyond() {
	local a d
	while read -r a; do
		d=$(((a - RCVNXT + 4294967296) % 4294967296))
		((d <= $1)) || fail "hs acknowledged $d bytes past RCV.NXT (ack $a): $(wire)"
	done < <(hs_acks)
}

# noted_segments NOTE: hs's JSON segment events (dir in) noted NOTE.
noted_segments() {
	segs ".dir == \"in\" and .note == \"$1\""
}

# ---- bad checksums ------------------------------------------------------------------

bad_checksum_rst() {
	hold "$1"
	inject --flags R --seq "$RCVNXT" --bad-checksum
	await_note bad-checksum-ignored
	release
	local seg
	seg=$(noted_segments bad-checksum-ignored)
	[[ -n $seg && $(wc -l <<<"$seg") == 1 ]] || fail "expected one segment noted bad-checksum-ignored: $output"
	expect "$seg" flags RST
	expect "$seg" seq "$RCVNXT"
	closed_normally
}

@test "IPv4: an RST at RCV.NXT with a wrong TCP checksum is ignored (noted); hs closes normally, exit 0" {
	bad_checksum_rst v4
}

@test "IPv6: an RST at RCV.NXT with a wrong TCP checksum is ignored (noted); hs closes normally, exit 0" {
	bad_checksum_rst v6
}

bad_checksum_data() {
	local data=forged-data
	hold "$1"
	inject --flags PA --seq "$RCVNXT" --ack "$SNDNXT" --payload "$data" --bad-checksum
	wait_until 10 data_shown_or_gone || fail "hs did not show the data: $(cat "$LAB_DIR/hs.out")"
	release
	# hs acknowledged the peer's FIN (one past RCV.NXT), never the forged bytes.
	no_ack_beyond 1
	local seg
	seg=$(noted_segments bad-checksum-ignored)
	[[ -n $seg && $(wc -l <<<"$seg") == 1 ]] || fail "expected one segment noted bad-checksum-ignored: $output"
	expect "$seg" len "${#data}"
	[[ -z $(segs ".dir == \"in\" and .len > 0 and .note != \"bad-checksum-ignored\"") ]] ||
		fail "hs took data: $output"
	closed_normally
}

# data_shown_or_gone: hs has shown an incoming segment with data, or has exited.
data_shown_or_gone() {
	[[ -n $(jq -c 'select(.type == "segment" and .dir == "in" and .len > 0)' "$LAB_DIR/hs.out") ]] ||
		lab_gone "$HS_PID"
}

@test "IPv4: data at RCV.NXT with a wrong TCP checksum is not acknowledged (noted); hs closes normally" {
	bad_checksum_data v4
}

@test "IPv6: data at RCV.NXT with a wrong TCP checksum is not acknowledged (noted); hs closes normally" {
	bad_checksum_data v6
}

# ---- fragments ----------------------------------------------------------------------

@test "IPv4: a first fragment (MF) carrying an RST at RCV.NXT is ignored (noted); hs closes normally, exit 0" {
	hold v4
	inject --flags R --seq "$RCVNXT" --first-fragment
	await_note fragment-ignored
	release
	local seg
	seg=$(noted_segments fragment-ignored)
	[[ -n $seg && $(wc -l <<<"$seg") == 1 ]] || fail "expected one segment noted fragment-ignored: $output"
	expect "$seg" flags RST
	closed_normally
}

# ---- challenge ACKs -----------------------------------------------------------------

@test "50 in-window RSTs: challenge ACKs at most 10 a second, the others noted challenge-ack-throttled; no reset" {
	local n=50
	hold v4
	inject --flags R --seq $((RCVNXT + 100)) --seq-step 1 --count "$n"
	wait_until 10 rsts_shown_or_gone "$n" || fail "hs did not show the $n RSTs: $(cat "$LAB_DIR/hs.out")"
	release

	# The RSTs and hs's challenge ACKs (ack RCV.NXT, after the first RST) in the peer's capture.
	local text first last acks span
	text=$(wire)
	first=$(awk -v p="$PEER.$PORT" '$3 == p && $7 == "[R],"' <<<"$text" | head -1 | awk '{ print $1 }')
	last=$(awk -v p="$PEER.$PORT" '$3 == p && $7 == "[R],"' <<<"$text" | tail -1 | awk '{ print $1 }')
	[[ -n $first ]] || fail "no injected RST in the capture: $text"
	(($(awk -v p="$PEER.$PORT" '$3 == p && $7 == "[R],"' <<<"$text" | wc -l) == n)) ||
		fail "the capture does not hold the $n RSTs: $text"
	acks=$(awk -v h="$HSADDR.$HSPORT" -v f="$first" -v a="$RCVNXT," \
		'$1 >= f && $3 == h && $7 == "[.]," && $0 ~ (" ack " a) { n++ } END { print n + 0 }' <<<"$text")
	# The burst may straddle a second of hs's budget: at most 10 per second begun.
	span=$(awk -v f="$first" -v l="$last" 'BEGIN { s = l - f; print (s == int(s)) ? s + 1 : int(s) + 2 }')
	((acks >= 1)) || fail "no challenge ACK at all: $text"
	((acks <= 10 * span)) || fail "$acks challenge ACKs for $n RSTs in $(awk -v f="$first" -v l="$last" \
		'BEGIN { print l - f }') s: more than 10 a second"
	# hs's account agrees with the wire.
	local challenged throttled
	challenged=$(segs '.dir == "out" and .note == "challenge-ack"' | wc -l)
	throttled=$(noted_segments challenge-ack-throttled | wc -l)
	((challenged == acks)) || fail "hs shows $challenged challenge ACKs, the capture $acks: $output"
	((throttled == n - acks)) || fail "hs noted $throttled RSTs challenge-ack-throttled, expected $((n - acks)): $output"
	closed_normally
}

# hs_noted_rsts N: hs has shown at least N incoming RSTs.
hs_noted_rsts() {
	(($(jq -c 'select(.type == "segment" and .dir == "in" and (.flags | test("RST")))' "$LAB_DIR/hs.out" |
		wc -l) >= $1))
}

rsts_shown_or_gone() {
	hs_noted_rsts "$1" || lab_gone "$HS_PID"
}

# ---- TCP Fast Open: data in the SYN -------------------------------------------------

@test "listen: a TFO client's data in its SYN is noted syn-data-not-accepted; the client resends it, hs takes it once" {
	local data=fastopen
	lab_b sysctl -qw net.ipv4.tcp_fastopen=5 || fail "cannot enable TFO without cookies in $LAB_B"
	capture
	hs_bg listen "$PORT" --close wait --json --state-dir "$STATE"
	wait_until 5 hs_listening || fail "hs does not listen: $(cat "$LAB_DIR/hs.out" "$LAB_DIR/hs.err")"
	cat >"$BATS_TEST_TMPDIR/tfo_client.py" <<-EOF
		import socket
		s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.bind(("$LAB_ADDR_B", $CPORT))
		s.sendto(b"$data", socket.MSG_FASTOPEN, ("$LAB_ADDR_A", $PORT))
		print("sent", flush=True)
		s.shutdown(socket.SHUT_WR)
		while s.recv(4096):
		    pass
		print("eof", flush=True)
		s.close()
		print("closed", flush=True)
	EOF
	lab_bg b client.out "$PYTHON" -u "$BATS_TEST_TMPDIR/tfo_client.py"
	hs_finish 20
	((status == 0)) || fail "hs exited $status: $output $stderr"
	wait_until 5 client_said '^closed' || fail "client: $(cat "$LAB_DIR/client.out")"
	capture_complete

	# The SYN carried the data; hs noted it and acknowledged the SYN alone.
	local syn
	syn=$(segs '.dir == "in" and .flags == "SYN"')
	[[ -n $syn && $(wc -l <<<"$syn") == 1 ]] || fail "expected one SYN: $output"
	expect "$syn" len "${#data}"
	expect "$syn" note syn-data-not-accepted
	local text isn
	text=$(wire)
	isn=$(awk -v c="$LAB_ADDR_B.$CPORT" '$3 == c && $7 == "[S],"' <<<"$text" | head -1 | sed -E 's/.* seq ([0-9]+)[,:].*/\1/')
	[[ $isn =~ ^[0-9]+$ ]] || fail "no SYN from the client in the capture: $text"
	grep -E "^[0-9.]+ IP $LAB_ADDR_B\.$CPORT > $LAB_ADDR_A\.$PORT: Flags \[S\], seq $isn:$(((isn + ${#data}) % 4294967296)), .*length ${#data}\$" \
		<<<"$text" >/dev/null || fail "the client's SYN did not carry the data: $text"
	grep -E "^[0-9.]+ IP $LAB_ADDR_A\.$PORT > $LAB_ADDR_B\.$CPORT: Flags \[S\.\], seq [0-9]+, ack $(((isn + 1) % 4294967296)), " \
		<<<"$text" >/dev/null || fail "hs's SYN,ACK does not acknowledge the SYN alone: $text"
	# The client's kernel sent the data again after the handshake; hs took it once.
	grep -E "^[0-9.]+ IP $LAB_ADDR_B\.$CPORT > $LAB_ADDR_A\.$PORT: Flags \[[^S]*\], seq $(((isn + 1) % 4294967296)):$(((isn + 1 + ${#data}) % 4294967296)), " \
		<<<"$text" >/dev/null || fail "the client did not send the data again: $text"
	local taken
	taken=$(segs '.dir == "in" and (.flags | test("SYN") | not) and .len > 0')
	[[ -n $taken && $(wc -l <<<"$taken") == 1 ]] || fail "expected the data once after the handshake: $output"
	expect "$taken" data "$data"
	[[ $(field "$taken" note) == null ]] || fail "the resent data is noted: $taken"
	grep -E "^[0-9.]+ IP $LAB_ADDR_A\.$PORT > $LAB_ADDR_B\.$CPORT: Flags \[[^S]*\], .*ack $(((isn + 1 + ${#data}) % 4294967296)), " \
		<<<"$text" >/dev/null || fail "hs did not acknowledge the data: $text"
	no_rst_from_hs || fail "hs sent an RST: $text"
	assert_no_guard_left
}
