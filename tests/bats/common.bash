# shellcheck shell=bash
# common.bash: what hs's own bats suites share (`load common` in each .bats):
# bats-support, bats-assert and the lab (tests/lab/lab.bash), the suite setup,
# running hs in namespace a, reading its JSON output, checking what it leaves
# behind, and the kernel peers and the wire in namespace b.
#
# Variables the helpers read: PORT and CPORT (set by the textbook suites
# themselves), STATE (set by hs_setup), PYTHON and PEERS (tb_setup), HS_PID
# (hs_bg).

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load ../lab/lab

# ---- setup ------------------------------------------------------------------------

# hs_find: HS (default the in-tree ./hs) and HS_LAB (default tests/lab/hs-lab),
# exported; fails when hs is not built.
hs_find() {
	: "${HS:=$BATS_TEST_DIRNAME/../../hs}"
	: "${HS_LAB:=$BATS_TEST_DIRNAME/../lab/hs-lab}"
	export HS HS_LAB
	[[ -x $HS ]] || fail "hs is not built: $HS (run make, or set HS)"
}

# hs_setup TOOL...: hs_find, the TOOLs the suite needs, this test's lab, and
# STATE, a --state-dir of the test's own.
hs_setup() {
	hs_find
	lab_require "$@"
	lab_setup
	STATE=$BATS_TEST_TMPDIR/state
}

# ---- hs ---------------------------------------------------------------------------

# hs in namespace a: stdout in $output/$lines, stderr in $stderr.
hs_a() {
	run --separate-stderr lab_hs "$@"
}

# hs_bg ARGS...: hs in namespace a in the background, stdout in $LAB_DIR/hs.out,
# stderr in $LAB_DIR/hs.err. Sets HS_PID (hs itself: ip netns exec and env exec).
hs_bg() {
	ip netns exec "$LAB_A" env --default-signal=INT "$HS" "$@" </dev/null \
		>"$LAB_DIR/hs.out" 2>"$LAB_DIR/hs.err" 3>&- &
	HS_PID=$!
	LAB_PIDS+=("$HS_PID")
}

# hs_listening: the background hs listen has its capture and guard ready.
hs_listening() {
	grep -q '"text":"listening on' "$LAB_DIR/hs.out"
}

# hs_finish TIMEOUT: wait for the background hs to exit; then $status, $output,
# $lines, $stderr and $stderr_lines are as after `run --separate-stderr`.
# shellcheck disable=SC2034 # read by the tests and by lab_assert_hs_error
hs_finish() {
	wait_until "$1" lab_gone "$HS_PID" || fail "hs still runs after $1 s: $(cat "$LAB_DIR/hs.out")"
	status=0
	wait "$HS_PID" || status=$?
	output=$(cat "$LAB_DIR/hs.out")
	mapfile -t lines <"$LAB_DIR/hs.out"
	stderr=$(cat "$LAB_DIR/hs.err")
	mapfile -t stderr_lines <"$LAB_DIR/hs.err"
}

# ---- hs's JSON output -------------------------------------------------------------

# jqo FILTER: query hs's JSON output of the last run, compact.
jqo() {
	jq -c "$@" <<<"$output"
}

# segs FILTER: hs's segment events that match the jq FILTER, one a line.
segs() {
	jqo "select(.type == \"segment\" and ($1))"
}

# result: the last line of the output, which must be the result event.
result() {
	local last=${lines[${#lines[@]} - 1]}
	[[ $(jq -r .type <<<"$last") == result ]] || fail "the last line is not a result: $last"
	printf '%s\n' "$last"
}

# field JSON KEY: a field's value, raw.
field() {
	jq -r ".$2 | if type == \"array\" or type == \"object\" then tojson else . end" <<<"$1"
}

# expect JSON KEY VALUE
expect() {
	local got
	got=$(field "$1" "$2")
	[[ $got == "$3" ]] || fail "$2 is '$got', expected '$3' in: $1"
}

# assert_time_order: hs's JSON lines come in time order (t never goes back).
assert_time_order() {
	# shellcheck disable=SC2016 # $t is jq's
	jq -e -s 'map(.t) | . as $t | [range(1; length) | select($t[.] < $t[. - 1])] | length == 0' \
		<<<"$output" >/dev/null || fail "JSON t goes back: $output"
}

assert_all_json() {
	local line
	for line in "${lines[@]}"; do
		[[ $(jq -r 'type' <<<"$line" 2>/dev/null) == object ]] || fail "not a JSON object line: $line"
	done
}

# path [SIDE]: the states hs (SIDE peer: the peer, as hs infers it) went through, in
# order, as one line ("SYN-SENT ESTABLISHED ..."): when a segment comes before any
# change, the state that side was in then (the first change's "from", or that
# segment's state if nothing changed), then every change of that side.
path() {
	# shellcheck disable=SC2016 # $ev and $s are jq's
	jq -rs --arg side "${1:-us}" '[.[] | select(.type == "segment" or (.type == "state" and
			((.side == "peer") == ($side == "peer"))))] as $ev
		| ([$ev[] | select(.type == "state")] | first // null) as $first_change
		| (if ($ev | length) > 0 and $ev[0].type == "segment"
			then [if $first_change != null then $first_change.from
			      elif $side == "peer" then $ev[0].peer_state else $ev[0].state end] else [] end)
		  + [$ev[] | select(.type == "state") | .to]
		| reduce .[] as $s ([]; if length > 0 and .[-1] == $s then . else . + [$s] end)
		| join(" ")' <<<"$output"
}

assert_path() {
	local got
	got=$(path "${2:-us}")
	[[ $got =~ ^$1$ ]] || fail "hs went through '$got', expected /$1/: $output"
}

# assert_time_wait_ended: hs left TIME-WAIT when --time-wait ran out (a 2MSL
# state event) -- or earlier through an RST from the peer. That happens when hs
# acknowledges the peer's data and FIN a few ms late: the peer's kernel resends
# its FIN (tail loss probe), hs acknowledges it again as it must, and the peer,
# CLOSED by then, answers that ACK with RST, which ends TIME-WAIT (RFC 9293).
assert_time_wait_ended() {
	[[ -n $(jqo 'select(.type == "state" and .from == "TIME-WAIT" and .to == "CLOSED" and .why == "2MSL")') ]] &&
		return 0
	jq -e -s 'map(select(.type == "segment" and .dir == "in")) as $in
		| ($in | map(select((.flags | test("FIN")) and .note == "retransmission")) | length > 0)
		  and ($in[-1].flags | test("RST")) and $in[-1].state == "CLOSED"' <<<"$output" >/dev/null ||
		fail "TIME-WAIT did not end by 2MSL, nor by the peer's RST after its repeated FIN: $output"
}

# ---- what hs leaves behind --------------------------------------------------------

assert_no_guard_left() {
	local tables
	tables=$(lab_hs_tables a)
	[[ -z $tables ]] || fail "guard tables left in $LAB_A: $tables"
}

assert_no_state_left() {
	if [[ -d $STATE ]]; then
		local files
		files=$(find "$STATE" -type f)
		[[ -z $files ]] || fail "state files left: $files"
	fi
}

# ---- the peer's side: a program on port 8080 (lab_peer, cued.py) ------------------

# peer_has_established SPORT: the kernel peer has an ESTABLISHED connection
# from 198.18.0.1:SPORT to its port 8080.
peer_has_established() {
	lab_established b 8080 | grep -q " $LAB_ADDR_A:$1\$"
}

# peer_conns PORT [HSPORT]: the kernel peer's connections on its PORT, as
# "STATE LOCAL PEER" lines; with HSPORT only those to hs's port HSPORT.
peer_conns() {
	if (($# > 1)); then
		lab_conns b "$1" | grep " $LAB_ADDR_A:$2\$"
	else
		lab_conns b "$1"
	fi
}

# peer_has_none PORT HSPORT: the kernel peer has no connection left between its
# PORT and hs's HSPORT (not even TIME-WAIT).
peer_has_none() {
	[[ -z $(peer_conns "$1" "$2") ]]
}

# peer_in_time_wait PORT HSPORT: the kernel peer's only connection between its
# PORT and hs's HSPORT is in TIME-WAIT (it closed first).
peer_in_time_wait() {
	[[ $(peer_conns "$1" "$2" | awk '{ print $1 }') == TIME-WAIT ]]
}

# peer_said REGEX: the peer program's log ($LAB_DIR/peer.out) has a matching line.
peer_said() {
	grep -qE -- "$1" "$LAB_DIR/peer.out"
}

# ---- the peer's side: the textbook programs (tests/peers/textbook_*.py) -----------

# tb_setup: hs_setup for the suites whose peers are the textbook programs, run
# by $PYTHON from $PEERS.
tb_setup() {
	PYTHON=/usr/bin/python3
	[[ -x $PYTHON ]] || fail "$PYTHON is missing (the peers need it)"
	PEERS=$BATS_TEST_DIRNAME/../peers
	hs_setup jq nft ss ip tcpdump
}

# tb_server [STEP...]: the textbook server in namespace b on $PORT (steps: see
# textbook.py); its report in $LAB_DIR/$SERVER_OUT (server.out). Returns once it
# listens.
tb_server() {
	lab_bg b "${SERVER_OUT:-server.out}" "$PYTHON" -u "$PEERS/textbook_server.py" --port "$PORT" "$@"
	wait_until 5 lab_listening b "$PORT" || fail "the server does not listen: $(cat "$LAB_DIR/server.out")"
}

# tb_client [STEP...]: the textbook client in namespace b, from $CPORT to hs on
# $LAB_ADDR_A:$PORT, in the background; its report in $LAB_DIR/client.out.
tb_client() {
	lab_bg b client.out "$PYTHON" -u "$PEERS/textbook_client.py" --sport "$CPORT" "$LAB_ADDR_A" "$PORT" "$@"
}

server_said() {
	grep -qE -- "$1" "$LAB_DIR/server.out"
}

client_said() {
	grep -qE -- "$1" "$LAB_DIR/client.out"
}

# assert_report FILE: the peer program's report is exactly stdin.
assert_report() {
	diff -u - "$LAB_DIR/$1" >&2 || fail "$1 is not as expected (diff above)"
}

# ---- the wire and the firewall in namespace b -------------------------------------

# wire: the capture in namespace b as text, absolute sequence numbers.
wire() {
	lab_tcpdump_text
}

# no_rst_from_hs: the capture in b holds no RST from namespace a.
no_rst_from_hs() {
	! wire | grep -qE "$LAB_ADDR_A\.[0-9]+ > $LAB_ADDR_B\.[0-9]+: Flags \[R"
}

# drop_once FAMILY HOOK MATCH ADDR: an nft table in namespace b whose chain (on
# HOOK) drops the first segment that matches MATCH and lets the later ones
# through: the first one puts its ADDR (ip saddr or ip daddr) into a set, and
# the others are accepted because it is there. Exactly one, whatever the timing.
drop_once() {
	local family=$1 hook=$2 match=$3 addr=$4
	lab_nft b <<-EOT
		table $family labonce {
			set seen { type ipv4_addr; flags dynamic; }
			chain c {
				$hook
				$match $addr @seen counter accept
				$match add @seen { $addr } counter drop
			}
		}
	EOT
}

# once_counts FAMILY: "DROPPED PASSED" packet counts of drop_once's rules.
once_counts() {
	lab_b nft list table "$1" labonce |
		awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") n[++k] = $(i + 1) }
			END { print n[2] + 0, n[1] + 0 }'
}

# no_tentative_addresses: IPv6 neighbour discovery in the lab works once no
# address in either namespace is tentative any more.
no_tentative_addresses() {
	[[ -z $(ip -n "$LAB_A" -6 addr show tentative) && -z $(ip -n "$LAB_B" -6 addr show tentative) ]]
}

# ---- notes: hs's against Wireshark's TCP analysis ---------------------------------

# Wireshark's analysis kinds (tcp.analysis.KIND) that ws_analysis reports.
WS_KINDS=(retransmission fast_retransmission spurious_retransmission out_of_order lost_segment
	ack_lost_segment duplicate_ack zero_window zero_window_probe zero_window_probe_ack
	window_update window_full keep_alive keep_alive_ack)

# seg_flags HEX: TCP flags as hs spells them ("FIN,PSH,ACK").
seg_flags() {
	local f=$((16#${1#0x})) names=(FIN SYN RST PSH ACK URG ECE CWR) out='' i
	for i in "${!names[@]}"; do
		((f & (1 << i))) && out+=${out:+,}${names[i]}
	done
	printf '%s' "$out"
}

# ws_analysis FILE HSPORT: tshark's TCP analysis of each TCP segment in FILE, one
# line per segment in frame order: "DIR SEQ ACK FLAGS LEN KINDS" (DIR out when it
# comes from hs's port HSPORT, SEQ/ACK absolute, ACK 0 without the ACK flag,
# KINDS Wireshark's tcp.analysis kinds comma-separated, or -). Fails loudly when
# tshark does.
ws_analysis() {
	local file=$1 hsport=$2 k fields=() rc=0 out
	for k in "${WS_KINDS[@]}"; do
		fields+=(-e "tcp.analysis.$k")
	done
	out=$(tshark -n -r "$file" -o tcp.analyze_sequence_numbers:TRUE -o tcp.relative_sequence_numbers:TRUE \
		-Y tcp -T fields -E 'separator=|' -E occurrence=f \
		-e tcp.srcport -e tcp.seq_raw -e tcp.ack_raw -e tcp.flags -e tcp.len "${fields[@]}" \
		2>"$BATS_TEST_TMPDIR/tshark.err") || rc=$?
	((rc == 0)) || fail "tshark -r $file failed ($rc): $(cat "$BATS_TEST_TMPDIR/tshark.err")"
	[[ -n $out ]] || fail "tshark found no TCP segment in $file: $(cat "$BATS_TEST_TMPDIR/tshark.err")"
	local sport seq ack flags len rest dir kinds i vals
	while IFS='|' read -r sport seq ack flags len rest; do
		dir=in
		[[ $sport == "$hsport" ]] && dir=out
		IFS='|' read -r -a vals <<<"$rest|"
		kinds=''
		for i in "${!WS_KINDS[@]}"; do
			[[ -n ${vals[i]:-} ]] && kinds+=${kinds:+,}${WS_KINDS[i]}
		done
		flags=$(seg_flags "$flags")
		[[ $flags == *ACK* ]] || ack=0
		printf '%s %s %s %s %s %s\n' "$dir" "$seq" "$ack" "$flags" "$len" "${kinds:--}"
	done <<<"$out"
}

# hs_notes: hs's segment events of the last run (JSON in $output), one a line in
# the order shown: "DIR SEQ ACK FLAGS LEN NOTE" (NOTE - when there is none).
hs_notes() {
	jq -r 'select(.type == "segment")
		| "\(.dir) \(.seq) \(if (.flags | test("ACK")) then .ack else 0 end) \(.flags) \(.len) \(.note // "-")"' \
		<<<"$output"
}

# ws_as_hs KINDS: Wireshark's kinds in hs's words ("-" when none of them is one
# hs names): retransmission (also fast, spurious and Wireshark's out-of-order,
# which it tells from a retransmission by timing alone: a re-sent segment that
# comes within one handshake RTT of the highest one), dup-ack, out-of-order (a
# segment beyond a gap: Wireshark says "previous segment not captured", the
# same event seen from the capture), zero-window, zero-window-probe,
# window-update, window-full, keepalive, keepalive-ack. The ACK of a zero-window
# probe is named zero-window, which Wireshark flags on it as well.
ws_as_hs() {
	local k out=''
	local IFS=,
	for k in $1; do
		case $k in
		retransmission | fast_retransmission | spurious_retransmission | out_of_order) k=retransmission ;;
		duplicate_ack) k=dup-ack ;;
		lost_segment) k=out-of-order ;;
		zero_window) k=zero-window ;;
		zero_window_probe) k=zero-window-probe ;;
		window_update) k=window-update ;;
		window_full) k=window-full ;;
		keep_alive) k=keepalive ;;
		keep_alive_ack) k=keepalive-ack ;;
		*) continue ;;
		esac
		[[ ,$out, == *,$k,* ]] || out+=${out:+,}$k
	done
	printf '%s' "${out:--}"
}

# notes_table FILE HSPORT: hs's note next to Wireshark's kinds for each segment of
# hs's capture FILE, matched by direction, seq, ack, flags and length (the n-th
# such segment in the capture with the n-th in hs's output):
# "DIR SEQ ACK FLAGS LEN HS-NOTE WS-AS-HS WS-KINDS". In $LAB_DIR/notes.table too.
notes_table() {
	local file=$1 hsport=$2 key note line kinds
	declare -A seen=() hsnote=()
	while read -r dir seq ack flags len note; do
		key="$dir $seq $ack $flags $len"
		seen[$key]=$((${seen[$key]:-0} + 1))
		hsnote["$key #${seen[$key]}"]=$note
	done < <(hs_notes)
	seen=()
	while read -r dir seq ack flags len kinds; do
		key="$dir $seq $ack $flags $len"
		seen[$key]=$((${seen[$key]:-0} + 1))
		line="$key ${hsnote["$key #${seen[$key]}"]:-?} $(ws_as_hs "$kinds") $kinds"
		printf '%s\n' "$line"
	done < <(ws_analysis "$file" "$hsport") | tee "$LAB_DIR/notes.table"
}

# HS_NAMED: the notes that have a Wireshark counterpart (see ws_as_hs).
HS_NAMED=",retransmission,dup-ack,out-of-order,zero-window,zero-window-probe,window-update,window-full,keepalive,keepalive-ack,"

# notes_agree TABLE [EXCEPTION...]: every row of a notes_table agrees: hs's note is
# one of Wireshark's kinds for the segment, or both say nothing hs names. An
# EXCEPTION "DIR FLAGS HS-NOTE WS" (WS in hs's words, as in the table) allows a
# deliberate difference; the test says why.
notes_agree() {
	local table=$1 bad='' dir seq ack flags len hs ws raw e ok
	shift
	while read -r dir seq ack flags len hs ws raw; do
		[[ $hs == '?' ]] && bad+="not in hs's output: $dir $seq $ack $flags $len ($raw)"$'\n' && continue
		ok=0
		if [[ $HS_NAMED == *,$hs,* ]]; then
			[[ ,$ws, == *,$hs,* ]] && ok=1
		else
			[[ $ws == - ]] && ok=1
		fi
		for e in "$@"; do
			[[ $e == "$dir $flags $hs $ws" ]] && ok=1
		done
		((ok)) || bad+="hs: $hs, Wireshark: $ws ($raw) on $dir $flags seq $seq ack $ack len $len"$'\n'
	done <<<"$table"
	[[ -z $bad ]] || fail "hs's notes disagree with Wireshark's analysis:"$'\n'"$bad"$'\n'"table:"$'\n'"$table"
}

# table_has TABLE DIR FLAGS-REGEX HS-NOTE: a row of the table has that note from hs.
table_has() {
	awk -v d="$2" -v f="^($3)\$" -v n="$4" '$1 == d && $4 ~ f && $6 == n { found = 1 } END { exit !found }' <<<"$1"
}

# lose_once MATCH: the first segment namespace b sends that matches the nft MATCH
# is lost on the wire, the later ones go through. Unlike drop_once (a drop in a
# netfilter hook, which the sending stack sees as a failed transmission: it keeps
# the data unsent and merges later writes into it), the stack believes the
# segment left: nft marks it in the output hook, and a tc BPF program on b's veth
# swallows marked packets with TC_ACT_TRAP, which reports success to the sender.
# Needs clang (with the BPF target). lose_once_count: how many were lost.
lose_once() {
	local obj=$BATS_TEST_TMPDIR/trap.o
	if [[ ! -f $obj ]]; then
		clang -O2 -target bpf -I/usr/include/"$(gcc -dumpmachine)" -x c -c -o "$obj" - <<-'EOC' ||
			#include <linux/bpf.h>
			#include <linux/pkt_cls.h>
			__attribute__((section("tc"), used)) int trap_marked(struct __sk_buff *skb)
			{
				return skb->mark == 0x4853 ? TC_ACT_TRAP : TC_ACT_OK;
			}
			char lic[] __attribute__((section("license"), used)) = "GPL";
		EOC
			fail "cannot compile the BPF program (clang with the bpf target is needed)"
	fi
	lab_nft b <<-EOT || fail "nft: cannot load labloss"
		table inet labloss {
			set seen { type ipv4_addr; flags dynamic; }
			chain c {
				type filter hook output priority 0;
				$1 ip daddr @seen counter accept
				$1 add @seen { ip daddr } counter meta mark set 0x4853
			}
		}
	EOT
	lab_b tc qdisc add dev "$LAB_IF_B" clsact || fail "tc: no clsact qdisc"
	lab_b tc filter add dev "$LAB_IF_B" egress bpf da obj "$obj" sec tc || fail "tc: cannot attach $obj"
}

lose_once_count() {
	lab_b nft list table inet labloss |
		awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") n[++k] = $(i + 1) } END { print n[2] + 0 }'
}

# ---- crafting: hs send and --step (send.bats, step.bats) --------------------------

# hs_keep SPORT [ARGS]: hs connect from 198.18.0.1:SPORT to the peer's 8080, kept
# (--close keep), with --state-dir $STATE. Sets ISS and IRS (the ISNs: ours, the
# peer's), SND_NXT and RCV_NXT (absolute, from hs's handshake ACK) and TSVAL (that
# ACK's timestamp value, empty without timestamps). Waits until
# the peer's kernel has the connection ESTABLISHED.
hs_keep() {
	local sport=$1 ack syn
	shift
	hs_a connect "$LAB_ADDR_B" 8080 --sport "$sport" --json --state-dir "$STATE" "$@"
	assert_success
	expect "$(result)" outcome established
	syn=$(segs '.dir == "out" and .flags == "SYN"' | head -n1)
	ack=$(segs '.dir == "out" and .flags == "ACK"' | head -n1)
	[[ -n $syn && -n $ack ]] || fail "no SYN or no ACK in hs connect's output: $output"
	ISS=$(field "$syn" seq)
	SND_NXT=$(field "$ack" seq)
	RCV_NXT=$(field "$ack" ack)
	IRS=$(((RCV_NXT + 4294967295) % 4294967296))
	TSVAL=$(jq -r '.opts.ts[0] // empty' <<<"$ack")
	wait_until 2 peer_has_established "$sport" || fail "the peer has no ESTABLISHED connection from $sport: $(lab_conns b 8080)"
}

# seq_add N D: N + D modulo 2^32.
seq_add() {
	printf '%s' "$((($1 + $2 + 4294967296) % 4294967296))"
}

# wire_from SPORT [PORT]: the capture's segments from hs's port SPORT to the
# peer's PORT (8080); wire_to SPORT [PORT]: the peer's segments to hs's SPORT.
wire_from() {
	lab_tcpdump_text | grep -E "IP $LAB_ADDR_A\.$1 > $LAB_ADDR_B\.${2:-8080}: "
}
wire_to() {
	lab_tcpdump_text | grep -E "IP $LAB_ADDR_B\.${2:-8080} > $LAB_ADDR_A\.$1: "
}

# wire_after REGEX: the capture's lines after the first one that matches REGEX.
wire_after() {
	lab_tcpdump_text | awk -v re="$1" 'found { print } !found && $0 ~ re { found = 1 }'
}

# peer_view: what the peer saw, for failure messages: its program's log, its
# kernel's connections on 8080, the capture (when there is one).
peer_view() {
	printf '\n--- the peer program (peer.out):\n%s' "$(cat "$LAB_DIR/peer.out" 2>/dev/null)"
	printf '\n--- the peer kernel (ss on 8080):\n%s' "$(lab_conns b 8080 2>/dev/null)"
	[[ -f $LAB_DIR/capture.pcap ]] && printf '\n--- the capture in the peer namespace:\n%s' "$(lab_tcpdump_text)"
	printf '\n'
}

# hs_view: hs's last output and stderr, for failure messages.
hs_view() {
	printf '\n--- hs stdout:\n%s\n--- hs stderr:\n%s\n' "${output:-}" "${stderr:-}"
}

# STEP_PROMPT: an extended regex for one --step prompt on stderr.
STEP_PROMPT=${STEP_PROMPT:-'press Enter'}

# step_prompts FILE: how many --step prompts FILE (hs's stderr) holds.
step_prompts() {
	grep -oE -- "$STEP_PROMPT" "$1" 2>/dev/null | wc -l
}

# step_last_prompt FILE: the last line of FILE with a prompt.
step_last_prompt() {
	grep -E -- "$STEP_PROMPT" "$1" | tail -n1
}

# hs_usage_error REGEX ARGS...: hs ARGS in namespace a (with --state-dir $STATE)
# exits 2 with one line on stderr matching REGEX and nothing on stdout.
hs_usage_error() {
	local re=$1
	shift
	hs_a "$@" --state-dir "$STATE"
	((status == 2)) || fail "hs $*: exit $status, expected 2: $stderr $output"
	lab_assert_hs_error "$re"
	[[ -z $output ]] || fail "hs $* printed on stdout: $output"
}

# capture: the peer's capture (lab_tcpdump_start) with a short snaplen and a
# large buffer, so that a burst of 50 loses nothing (a frame of tcpdump's ring is
# as large as the snaplen: with the default 256 KiB, 2 MiB hold 8 frames).
capture() {
	lab_tcpdump_start -s 200 -B 8192 tcp
}

# capture_complete: stop the capture; it lost nothing.
capture_complete() {
	lab_tcpdump_stop
	grep -q '^0 packets dropped by kernel' "$LAB_DIR/tcpdump.log" ||
		fail "the peer's capture lost packets: $(cat "$LAB_DIR/tcpdump.log")"
}

# peer_ts FILTER FIELD...: tshark's decode of the peer's capture, the packets that
# match the display FILTER, FIELDs tab-separated, absolute sequence numbers. (Not
# "ts": that would hide moreutils' ts(1) from every file that loads this one.)
peer_ts() {
	local filter=$1 f
	shift
	local args=()
	for f in "$@"; do args+=(-e "$f"); done
	tshark -r "$LAB_DIR/capture.pcap" -o tcp.relative_sequence_numbers:FALSE -Y "$filter" -T fields "${args[@]}" 2>/dev/null
}
