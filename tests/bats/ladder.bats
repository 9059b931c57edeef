#!/usr/bin/env bats
# hs connect --ladder against the kernel's TCP in namespace b (the textbook
# server, tests/peers/textbook_server.py): the ladder shows the handshake, the
# data and the close as arrows between the two ends, and the peer's program, its
# kernel and the capture in b show that those segments really went by. Then the
# ways the ladder is drawn: --ascii and the locale, --color=always|never and
# NO_COLOR (on a terminal), $COLUMNS, the crossing FINs of a simultaneous close.
#
# Run by `make check`, or by hand as root: bats tests/bats/ladder.bats

load common

PORT=7000   # the kernel server's port
SPORT=40000 # hs's port

setup() {
	tb_setup
}

teardown() {
	lab_teardown
}

# ladder_connect ARGS...: hs connect to the textbook server from $SPORT, sending
# "byebye" and closing with a FIN, as a ladder; stdout in $output/$lines.
ladder_connect() {
	: "${COLUMNS:=80}" # the ladder's width, unless the test says
	COLUMNS=$COLUMNS hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin \
		--time-wait 0.1 --timeout 1 --ladder --state-dir "$STATE" "$@"
}

# has_line REGEX: a line of hs's output matches the extended REGEX.
has_line() {
	grep -qE -- "$1" <<<"$output" || fail "no line matches /$1/ in:"$'\n'"$output$(peer_view)"
}

# widest: the widest line of hs's output, in characters (UTF-8).
widest() {
	/usr/bin/python3 -c 'import sys; print(max((len(l.rstrip("\n")) for l in sys.stdin), default=0))' <<<"$output"
}

# the_peer_saw_it: the server got "byebye" and the end of the stream from hs's
# port, and the capture in b holds hs's SYN, its data, its FIN and the last ACK.
the_peer_saw_it() {
	wait_until 3 server_said '^done '
	assert_report server.out <<-EOF
		listening [::]:$PORT
		accepted $LAB_ADDR_A:$SPORT
		received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'
		eof $LAB_ADDR_A:$SPORT (the peer sent FIN)
		closed $LAB_ADDR_A:$SPORT
		done ok
	EOF
	lab_tcpdump_stop
	wire_from "$SPORT" "$PORT" | grep -q 'Flags \[S\]' || fail "no SYN from hs on the wire$(peer_view)"
	wire_to "$SPORT" "$PORT" | grep -q 'Flags \[S\.\]' || fail "no SYN,ACK to hs on the wire$(peer_view)"
	wire_from "$SPORT" "$PORT" | grep -q 'length 6' || fail "no data from hs on the wire$(peer_view)"
	wire_from "$SPORT" "$PORT" | grep -q 'Flags \[F\.\]' || fail "no FIN from hs on the wire$(peer_view)"
	wire_to "$SPORT" "$PORT" | grep -q 'Flags \[F\.\]' || fail "no FIN from the peer on the wire$(peer_view)"
}

@test "--ladder: the handshake, the data and the close as arrows between both ends, as the peer saw them" {
	tb_server expect=byebye eof close
	lab_tcpdump_start tcp port "$PORT"
	LC_ALL=C.UTF-8 ladder_connect --color=never
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	# the columns: our end on the left, the peer's on the right
	has_line "^ +us $LAB_ADDR_A:$SPORT +peer $LAB_ADDR_B:$PORT\$"
	# one arrow per segment, its direction, relative numbers, the states beside it
	has_line '^ *[0-9]+\.[0-9]{6} SYN-SENT +│─+ SYN seq=0 ─+►│'
	has_line '^ *[0-9]+\.[0-9]{6} ESTABLISHED +│◄─+ SYN,ACK seq=0 ack=1 ─+│ SYN-RECEIVED$'
	has_line '│─+ ACK seq=1 ack=1 ─+►│ ESTABLISHED$'
	has_line '│─+ PSH,ACK 1:7\(6\) ack=1 "byebye" ─+►│'
	has_line '^ *[0-9]+\.[0-9]{6} FIN-WAIT-1 +│─+ FIN,ACK seq=7 ack=1 ─+►│'
	has_line '│◄─+ FIN,ACK seq=1 ack=8 ─+│'
	has_line 'TIME-WAIT +│'
	has_line '│ +\(2MSL\) +│$'
	[[ ${lines[-1]} =~ ^\ *[0-9]+\.[0-9]{6}\ closed\ \(us\ CLOSED,\ peer\ CLOSED ]] ||
		fail "the last line is not the result: ${lines[-1]}"
	# in time order: the SYN before the SYN,ACK before the FIN
	local syn synack fin
	syn=$(grep -n 'SYN seq=0' <<<"$output" | cut -d: -f1)
	synack=$(grep -n 'SYN,ACK seq=0' <<<"$output" | cut -d: -f1)
	fin=$(grep -n 'FIN,ACK seq=7' <<<"$output" | cut -d: -f1)
	((syn < synack && synack < fin)) || fail "arrows out of order: $output"
	[[ $output != *$'\e'* ]] || fail "--color=never output has escape codes: $output"
	the_peer_saw_it
}

@test "--ladder --ascii, and a locale that is not UTF-8: ASCII only, the same arrows" {
	tb_server expect=byebye eof close
	lab_tcpdump_start tcp port "$PORT"
	LC_ALL=C.UTF-8 ladder_connect --ascii --color=never
	assert_success
	LC_ALL=C grep -q $'[\x80-\xff]' <<<"$output" && fail "--ascii output has non-ASCII bytes: $output"
	has_line '^ *[0-9]+\.[0-9]{6} SYN-SENT +\|-+ SYN seq=0 -+>\|'
	has_line '\|<-+ SYN,ACK seq=0 ack=1 -+\| SYN-RECEIVED$'
	has_line '\|-+ FIN,ACK seq=7 ack=1 -+>\|'
	the_peer_saw_it

	# the same without --ascii in the C locale
	tb_server expect=byebye eof close
	LC_ALL=C ladder_connect --color=never
	assert_success
	LC_ALL=C grep -q $'[\x80-\xff]' <<<"$output" && fail "C locale output has non-ASCII bytes: $output"
	has_line '\|<-+ SYN,ACK seq=0 ack=1 -+\|'
	wait_until 3 server_said "^received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'\$"
}

# on_tty CMD...: CMD in namespace a with a terminal as its stdout (script(1));
# what it wrote in $output.
on_tty() {
	local cmd
	printf -v cmd '%q ' ip netns exec "$LAB_A" "$@"
	output=$(script -qec "$cmd" /dev/null </dev/null)
}

@test "--ladder colors: --color=always, --color=never, and NO_COLOR on a terminal" {
	tb_server expect=byebye eof close
	LC_ALL=C.UTF-8 ladder_connect --color=always
	assert_success
	[[ $output == *$'\e[32m'* && $output == *$'\e[36m'* ]] ||
		fail "--color=always: no green/cyan arrows: $output"
	has_line $'SYN,ACK seq=0 ack=1'
	wait_until 3 server_said "^received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'\$"

	# a terminal: colors by default, none with NO_COLOR
	tb_server expect=byebye eof close
	on_tty env LC_ALL=C.UTF-8 TERM=xterm COLUMNS=80 "$HS" connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin \
		--time-wait 0.1 --timeout 1 --ladder --state-dir "$STATE"
	[[ $output == *'SYN,ACK seq=0 ack=1'* ]] || fail "no ladder on the terminal: $output"
	[[ $output == *$'\e['* ]] || fail "a terminal, no NO_COLOR: no colors: $output"
	wait_until 3 server_said "^received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'\$"

	tb_server expect=byebye eof close
	on_tty env LC_ALL=C.UTF-8 TERM=xterm COLUMNS=80 NO_COLOR=1 "$HS" connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye \
		--close fin --time-wait 0.1 --timeout 1 --ladder --state-dir "$STATE"
	[[ $output == *'SYN,ACK seq=0 ack=1'* ]] || fail "no ladder on the terminal: $output"
	[[ $output != *$'\e['* ]] || fail "NO_COLOR: escape codes: $output"
	wait_until 3 server_said "^received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'\$"
}

@test "--ladder in COLUMNS=60: no line wider, nothing of the labels lost" {
	tb_server expect=byebye eof close
	lab_tcpdump_start tcp port "$PORT"
	COLUMNS=60 LC_ALL=C.UTF-8 ladder_connect --color=never
	assert_success
	local w
	w=$(widest)
	((w <= 60)) || fail "a line of $w columns in COLUMNS=60: $output"
	((w >= 50)) || fail "the ladder does not use the width ($w of 60): $output"
	# the labels wrap under their arrows rather than lose their numbers
	has_line 'SYN,ACK'
	has_line 'seq=0 ack=1'
	has_line '"byebye"'
	has_line 'FIN-WAIT-1'
	the_peer_saw_it

	# and wider: one row per arrow again
	tb_server expect=byebye eof close
	COLUMNS=120 LC_ALL=C.UTF-8 ladder_connect --color=never
	assert_success
	w=$(widest)
	((w <= 120 && w > 100)) || fail "COLUMNS=120: the widest line has $w columns: $output"
	has_line '│◄─+ SYN,ACK seq=0 ack=1 ─+│'
	wait_until 3 server_said "^received $LAB_ADDR_A:$SPORT 6 bytes: 'byebye'\$"
}

@test "--ladder, simultaneous close: the FINs that crossed are drawn crossing" {
	# As in teardown.bats: the firewall in b drops our first FIN, so the peer's FIN
	# (its application closes 0.3 s after byebye) does not acknowledge ours.
	drop_once inet "type filter hook input priority 0;" \
		"tcp dport $PORT tcp flags & fin == fin" 'ip saddr'
	tb_server expect=byebye sleep=0.3 close
	lab_tcpdump_start tcp port "$PORT"
	LC_ALL=C.UTF-8 ladder_connect --color=never
	assert_success
	[[ $(once_counts inet) == "1 1" ]] || fail "dropped/passed FINs: $(once_counts inet)"
	# Both FINs, crossing: as an X when nothing came between them, else the peer's
	# marked at its tail (its ACK of our data may come after our FIN left, or our
	# FIN's row was drawn while hs waited: HS_OUTPUT_IDLE_NS)
	has_line '^ *[0-9]+\.[0-9]{6} FIN-WAIT-1 +│.*FIN,ACK seq=7 ack=1|^ +│ FIN,ACK seq=7 ack=1 '
	if grep -q '^ \+│ \+╳ \+│' <<<"$output"; then
		has_line '│ FIN,ACK seq=7 ack=1 +FIN,ACK seq=1 ack=7 │'
		has_line '^ *[0-9]+\.[0-9]{6} FIN-WAIT-1 +│─+╲ ╱─+│'
		has_line '^ *[0-9]+\.[0-9]{6} CLOSING +│◄─+╱ ╲─+►│'
	else
		# (the note beside the label, or wrapped onto the row below it)
		has_line '^ *[0-9]+\.[0-9]{6} CLOSING +│◄─+ FIN,ACK seq=1 ack=7 (\[crossed FIN,ACK seq=7 ack=1\] )?─+╳│'
		has_line '\[crossed FIN,ACK seq=7 ack=1\]'
	fi
	has_line '│─+ FIN,ACK seq=7 ack=2 \[retransmission\] ─+►│'
	# the peer: its FIN went out before ours arrived, so it is in TIME-WAIT too
	wait_until 3 server_said '^done '
	wait_until 2 peer_in_time_wait "$PORT" "$SPORT"
	lab_tcpdump_stop
	# on the wire: our FIN (seen before b's firewall drops it), then the peer's
	local fins
	fins=$(wire | awk -v a="$LAB_ADDR_A" '/Flags \[F/ { print (index($3, a ".") == 1) ? "a" : "b" }' | head -2 |
		tr '\n' ' ')
	[[ $fins == 'a b ' ]] || fail "on the wire, not our FIN then the peer's ($fins)$(peer_view)"
}

# The ladder holds a segment's row until the next event (a segment that follows may
# have crossed it); when nothing follows for a while, the row is drawn anyway: a
# person watching hs wait for the peer sees the whole exchange so far.
@test "--ladder: the last row is drawn while hs waits (not only when the next event comes)" {
	lab_peer
	COLUMNS=80 hs_bg connect "$LAB_ADDR_B" 8080 --sport "$SPORT" --close wait --ladder --ascii --state-dir "$STATE"
	wait_until 5 grep -q "accepted $LAB_ADDR_A:$SPORT" "$LAB_DIR/peer.out" ||
		fail "the peer has no connection: $(cat "$LAB_DIR/peer.out" "$LAB_DIR/hs.err")"
	# hs now waits for the peer's FIN, which never comes: its ACK must be on screen.
	wait_until 3 grep -qE -- 'ACK seq=1 ack=1 -+>\|' "$LAB_DIR/hs.out" ||
		fail "the ACK's row is still held while hs waits:"$'\n'"$(cat "$LAB_DIR/hs.out")"
	kill -0 "$HS_PID" || fail "hs is not waiting any more: $(cat "$LAB_DIR/hs.err")"
	kill -INT "$HS_PID"
	wait "$HS_PID" || true
}

# The summary's figures are the wire's: segments and bytes each way as the capture
# in the peer's namespace counts them, a handshake RTT and a reaction, a teardown.
@test "summary: segments and bytes each way are the peer's capture's; rtt, reaction, teardown present" {
	tb_server expect=byebye send=hello close
	lab_tcpdump_start tcp port "$PORT"
	hs_a connect "$LAB_ADDR_B" "$PORT" --sport "$SPORT" --send byebye --close fin --time-wait 0.1 --json \
		--state-dir "$STATE"
	assert_success
	wait_until 3 server_said '^done '
	lab_tcpdump_stop
	local sum out_n in_n out_b in_b
	sum=$(jq -c 'select(.type == "result") | .summary' <<<"$output")
	out_n=$(wire_from "$SPORT" "$PORT" | wc -l)
	in_n=$(wire_to "$SPORT" "$PORT" | wc -l)
	out_b=$(wire_from "$SPORT" "$PORT" | awk '{ n += $NF } END { print n + 0 }')
	in_b=$(wire_to "$SPORT" "$PORT" | awk '{ n += $NF } END { print n + 0 }')
	[[ $(jq -c '[.segments, .bytes]' <<<"$sum") == "[[$out_n,$in_n],[$out_b,$in_b]]" ]] ||
		fail "summary $sum; the wire: $out_n/$in_n segments, $out_b/$in_b bytes$(peer_view)"
	jq -e '.rtt > 0 and .reaction > 0 and .teardown > 0 and .retransmissions == [0,0]' <<<"$sum" >/dev/null ||
		fail "summary figures: $sum"
}
