#!/usr/bin/env bats
# The RST guard: an nft table hs_<pid>_<n> in hs's namespace that keeps the local
# kernel, which owns no socket for hs's connection, from answering the peer with
# RST. Checked on the wire from the peer's side.
#
# Run by `make check`, or by hand as root: bats tests/bats/guard.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump socat
}

teardown() {
	lab_teardown
}

a_has_table() {
	lab_hs_tables a | grep -qx "$1"
}

# rst_from_a SPORT: the capture in b holds an RST sent from 198.18.0.1:SPORT.
rst_from_a() {
	lab_tcpdump_text | grep -qE "$LAB_ADDR_A\.$1 > $LAB_ADDR_B\.8080: Flags \[R"
}

# sent_twice SPORT LEN: the capture holds the peer's LEN-byte data to SPORT at
# least twice (sent, then retransmitted: nobody acknowledged and nobody reset).
sent_twice() {
	(($(lab_tcpdump_text | grep -cE "$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.$1: Flags \[P\.\], .*length $2(:|$)") >= 2))
}

@test "with the guard, no RST leaves for hs's connection, even after hs exits" {
	# The peer greets 0.5 s after accepting: hs (--close keep) is gone by then, so
	# only the guard stands between the greeting and the kernel's RST.
	lab_peer --greet hello --greet-delay 0.5
	lab_tcpdump_start tcp port 8080
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --state-dir "$STATE"
	assert_success
	run ! peer_said '^sent '
	wait_until 2 peer_has_established 40000
	# the greeting goes unanswered: the peer retransmits it
	wait_until 3 sent_twice 40000 5
	lab_tcpdump_stop
	local wire
	wire=$(lab_tcpdump_text)
	grep -qE "$LAB_ADDR_A\.40000 > $LAB_ADDR_B\.8080: Flags \[S\]" <<<"$wire" || fail "no SYN captured: $wire"
	grep -qE "$LAB_ADDR_B\.8080 > $LAB_ADDR_A\.40000: Flags \[S\.\]" <<<"$wire" || fail "no SYN,ACK captured: $wire"
	run ! rst_from_a 40000
	peer_has_established 40000
}

@test "--close keep leaves one guard table naming exactly the 4-tuple" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --state-dir "$STATE"
	assert_success
	local tables
	tables=$(lab_hs_tables a)
	[[ $(wc -l <<<"$tables") == 1 && $tables =~ ^hs_kept_[0-9]+_[0-9]+$ ]] || fail "guard tables: '$tables'"
	local rules
	rules=$(lab_a nft list table inet "$tables") || fail "no inet table $tables in $LAB_A"
	for want in "hook input" "ip saddr $LAB_ADDR_B" "tcp sport 8080" "tcp dport 40000" drop; do
		[[ $rules == *"$want"* ]] || fail "the guard lacks '$want': $rules"
	done
	# hs ls names the same table
	hs_a ls --json --state-dir "$STATE"
	assert_success
	[[ $(jqo -r 'select(.type == "conn") | .guard') == "$tables" ]] || fail "hs ls: $output"
	# narrow: the kernel's own connections to the same peer port still work
	run lab_a socat -T 2 - "TCP:$LAB_ADDR_B:8080" <<<"narrow"
	assert_success
	assert_output narrow
	peer_has_established 40000
}

@test "--close rst removes the guard" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --close rst --state-dir "$STATE"
	assert_success
	wait_until 2 peer_said "^reset $LAB_ADDR_A:40000"
	assert_no_guard_left
	assert_no_state_left
}

syn_dropped() {
	lab_b nft list table inet labdrop | grep -qE 'counter packets [1-9]'
}

a_has_guard() {
	[[ -n $(lab_hs_tables a) ]]
}

# interrupt SIG: hs waits for a SYN,ACK that never comes; SIG ends it promptly.
interrupt() {
	local sig=$1
	lab_peer
	lab_nft b <<-'EOF'
		table inet labdrop {
			chain in {
				type filter hook input priority 0;
				tcp dport 8080 tcp flags & (syn | ack) == syn counter drop
			}
		}
	EOF
	local out=$BATS_TEST_TMPDIR/hs.out err=$BATS_TEST_TMPDIR/hs.err
	# (ip netns exec and env exec: $! is hs itself)
	ip netns exec "$LAB_A" env --default-signal=INT "$HS" connect "$LAB_ADDR_B" 8080 --timeout 30 --retries 0 \
		--json --state-dir "$STATE" >"$out" 2>"$err" 3>&- &
	local pid=$!
	LAB_PIDS+=("$pid")
	# hs is waiting: its SYN reached the peer, its guard is in place
	wait_until 3 syn_dropped
	wait_until 2 a_has_guard
	kill "-$sig" "$pid"
	wait_until 1 lab_gone "$pid" || fail "hs still runs 1 s after SIG$sig"
	local status=0
	wait "$pid" || status=$?
	((status != 0)) || fail "hs exited 0 after SIG$sig"
	# shellcheck disable=SC2034 # read by lab_assert_hs_error
	mapfile -t stderr_lines <"$err"
	stderr=$(cat "$err")
	lab_assert_hs_error "^hs: interrupted by SIG$sig in SYN-SENT \\(peer CLOSED\\); guard removed$"
	local last
	last=$(tail -n1 "$out")
	[[ $(jq -r .type <<<"$last") == result ]] || fail "the last line is not a result: $last"
	[[ $(jq -r .exit <<<"$last") == "$status" ]] || fail "result exit differs from $status: $last"
	assert_no_guard_left
	assert_no_state_left
}

@test "SIGTERM while hs waits: prompt exit, one stderr line, no guard left" {
	interrupt TERM
}

@test "SIGINT while hs waits: prompt exit, one stderr line, no guard left" {
	interrupt INT
}

@test "--no-guard: the kernel's RST goes out and hs reports it" {
	lab_peer
	lab_tcpdump_start tcp port 8080
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --no-guard --json --state-dir "$STATE"
	((status != 0)) || fail "hs exited 0 although the kernel reset the connection: $output"
	lab_assert_hs_error
	jqo -e 'select((.type == "segment" and .note == "kernel-rst")
		or ((.type == "info" or .type == "result") and
		    ((.text // .message // "") | test("RST|reset"; "i"))))' >/dev/null ||
		fail "hs does not report the kernel's RST: $output"
	assert_no_guard_left
	# the RST on the wire, from a's kernel, seen by the peer
	wait_until 2 rst_from_a 40000 || true
	lab_tcpdump_stop
	rst_from_a 40000 || fail "no RST from $LAB_ADDR_A:40000 on the wire: $(lab_tcpdump_text)"
	run ! peer_has_established 40000
}

@test "stale guard tables (owner gone) are removed, live owners' are not" {
	local dead=999999
	while [[ -e /proc/$dead ]]; do dead=$((dead + 1)); done
	local live=$$
	lab_nft a <<-EOF
		table inet hs_${dead}_0 {
			chain in { type filter hook input priority -300; }
		}
		table inet hs_${live}_0 {
			chain in { type filter hook input priority -300; }
		}
	EOF
	a_has_table "hs_${dead}_0"
	hs_a connect "$LAB_ADDR_B" 8081 --state-dir "$STATE" # refused: no peer at all
	((status == 1)) || fail "exit $status: $stderr"
	run ! a_has_table "hs_${dead}_0"
	a_has_table "hs_${live}_0" || fail "hs removed the table of a live process ($live)"
}

@test "once its sockets are open, hs keeps only CAP_NET_ADMIN (to remove its guard), and still removes it" {
	hs_bg listen 7000 --timeout 3 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	local caps
	caps=$(grep -E '^Cap(Eff|Prm|Inh):' "/proc/$HS_PID/status" | awk '{print $1 $2}' | tr '\n' ' ')
	[[ $caps == "CapInh:0000000000000000 CapPrm:0000000000001000 CapEff:0000000000001000 " ]] ||
		fail "capabilities of the running hs: $caps"
	grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$HS_PID/status" || fail "no_new_privs not set"
	[[ -n $(lab_hs_tables a) ]] || fail "no guard while listening"
	hs_finish 5
	assert_failure 3
	[[ -z $(lab_hs_tables a) ]] || fail "guard left behind after the drop: $(lab_hs_tables a)"
}
