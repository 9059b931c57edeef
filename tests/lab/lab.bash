# shellcheck shell=bash disable=SC2034,SC2154
# (variables are set for the caller; stderr_lines comes from bats's run)
# lab.bash: bats helpers for testing TCP behaviour with hs in a network lab.
#
# Each test gets two fresh network namespaces joined by a veth pair (made by
# hs-lab, found through $HS_LAB or PATH): $LAB_A (198.18.0.1, 2001:db8::1), where
# hs runs, and $LAB_B (198.18.0.2, 2001:db8::2), where a real kernel peer runs.
#
#   load /usr/local/share/hs/lab          # wherever $(datadir)/hs/lab.bash is
#   setup()    { lab_setup; }
#   teardown() { lab_teardown; }
#
#   @test "the kernel peer accepts hs's handshake" {
#       lab_peer                           # echo peer on 8080 in $LAB_B, listening
#       run lab_a hs connect "$LAB_ADDR_B" 8080 --close fin
#       [ "$status" -eq 0 ]
#       grep -q '^eof ' "$LAB_DIR/peer.out"   # the peer saw our FIN
#   }
#
# Background helpers (lab_bg, lab_peer, lab_tcpdump_start) record process ids in
# this shell so that lab_teardown can stop them: call them directly in the test,
# not inside `run` or $(...).
#
# Variables set by lab_setup: LAB_NAME LAB_A LAB_B LAB_ADDR_A LAB_ADDR_B
# LAB_ADDR6_A LAB_ADDR6_B LAB_IF_A LAB_IF_B, and LAB_DIR (a directory for this
# test's logs and captures).

LAB_PIDS=()
LAB_UP=''
LAB_ROUTED=()

lab_die() {
	printf 'lab: %s\n' "$*" >&2
	return 1
}

# The hs-lab script: $HS_LAB, else hs-lab in PATH.
lab_hs_lab() {
	if [[ -n ${HS_LAB:-} ]]; then
		[[ -x $HS_LAB ]] || lab_die "HS_LAB=$HS_LAB is not executable" || return
		printf '%s\n' "$HS_LAB"
	else
		command -v hs-lab || lab_die "hs-lab not found: set HS_LAB or put hs-lab in PATH"
	fi
}

# lab_require CMD...: fail (not skip) when a tool the test needs is missing.
lab_require() {
	local c missing=()
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	((${#missing[@]} == 0)) || lab_die "missing tools: ${missing[*]} (install them; the lab needs them)"
}

# Microseconds on the monotonic clock (/proc/uptime: CLOCK_BOOTTIME, 10 ms steps).
# Not $EPOCHREALTIME: the wall clock of a VM is stepped now and then, and a step
# ended a 10 s wait at once.
lab__now_us() {
	local up
	read -r up _ </proc/uptime
	up=${up/./}
	printf '%s' "$((10#$up * 10000))"
}

# wait_until TIMEOUT CMD...: run CMD every 20 ms until it succeeds; fail after
# TIMEOUT seconds (fractions allowed), with a message naming CMD.
wait_until() {
	local timeout=$1
	shift
	local sec=${timeout%.*} frac=0
	[[ $timeout == *.* ]] && frac=${timeout#*.}
	frac=${frac}000000
	local deadline=$(($(lab__now_us) + 10#${sec:-0} * 1000000 + 10#${frac:0:6}))
	until "$@"; do
		if (($(lab__now_us) >= deadline)); then
			printf 'wait_until: still false after %ss: %s\n' "$timeout" "$*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# lab_setup [NAME]: create this test's lab (a unique name by default).
lab_setup() {
	local hslab exports name=${1:-hs-$$-${BATS_TEST_NUMBER:-0}-$RANDOM}
	hslab=$(lab_hs_lab) || return
	LAB_DIR=${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/lab-$name
	mkdir -p "$LAB_DIR" || return
	exports=$("$hslab" up "$name") || lab_die "hs-lab up $name failed" || return
	eval "$exports"
	LAB_UP=$name
	LAB_PIDS=()
}

# lab_setup_routed [MTU]: a lab with a router between a and b, for paths as they
# are: namespace a (hs: 198.18.1.2, 2001:db8:1::2), LAB_R (the router: 198.18.1.1 and
# 198.18.2.1, 2001:db8:1::1 and 2001:db8:2::1), b (the peer: 198.18.2.2,
# 2001:db8:2::2). The same LAB_* variables as lab_setup (LAB_IF_A and LAB_IF_B are
# a's and b's ends; LAB_IF_RA and LAB_IF_RB the router's), so every helper works
# unchanged. MTU (default 1500) is the MTU of the router's side of the link to b:
# a's full-size segments then need "fragmentation needed" / "packet too big"
# while both ends announce MSS 1460. lab_teardown removes the three namespaces.
lab_setup_routed() {
	local mtu=${1:-1500} name=hsr-$$-${BATS_TEST_NUMBER:-0}-$RANDOM ns
	LAB_DIR=${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/lab-$name
	mkdir -p "$LAB_DIR" || return
	LAB_A=$name-a LAB_R=$name-r LAB_B=$name-b
	LAB_ROUTED=("$LAB_A" "$LAB_R" "$LAB_B")
	LAB_PIDS=()
	LAB_UP=''
	for ns in "${LAB_ROUTED[@]}"; do
		ip netns add "$ns" && ip -n "$ns" link set lo up || lab_die "cannot make namespace $ns" || return
	done
	LAB_IF_A=v0 LAB_IF_B=v0 LAB_IF_RA=va LAB_IF_RB=vb
	ip link add v0 netns "$LAB_A" type veth peer name va netns "$LAB_R" &&
		ip link add v0 netns "$LAB_B" type veth peer name vb netns "$LAB_R" || lab_die "cannot make the veths" || return
	LAB_ADDR_A=198.18.1.2 LAB_ADDR_B=198.18.2.2 LAB_ADDR6_A=2001:db8:1::2 LAB_ADDR6_B=2001:db8:2::2
	ip -n "$LAB_A" addr add "$LAB_ADDR_A/24" dev v0 &&
		ip -n "$LAB_A" addr add "$LAB_ADDR6_A/64" dev v0 nodad &&
		ip -n "$LAB_R" addr add 198.18.1.1/24 dev va &&
		ip -n "$LAB_R" addr add 2001:db8:1::1/64 dev va nodad &&
		ip -n "$LAB_R" addr add 198.18.2.1/24 dev vb &&
		ip -n "$LAB_R" addr add 2001:db8:2::1/64 dev vb nodad &&
		ip -n "$LAB_B" addr add "$LAB_ADDR_B/24" dev v0 &&
		ip -n "$LAB_B" addr add "$LAB_ADDR6_B/64" dev v0 nodad &&
		ip -n "$LAB_R" link set vb mtu "$mtu" &&
		ip -n "$LAB_A" link set v0 up && ip -n "$LAB_R" link set va up &&
		ip -n "$LAB_R" link set vb up && ip -n "$LAB_B" link set v0 up &&
		ip -n "$LAB_A" route add default via 198.18.1.1 &&
		ip -n "$LAB_A" -6 route add default via 2001:db8:1::1 &&
		ip -n "$LAB_B" route add default via 198.18.2.1 &&
		ip -n "$LAB_B" -6 route add default via 2001:db8:2::1 &&
		ip netns exec "$LAB_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
		lab_die "cannot set up the routed lab" || return
}

# lab_teardown: stop the processes started by the helpers, delete the lab.
# Safe to call when setup failed half-way, and more than once.
lab_teardown() {
	local pid hslab rc=0
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		if ! wait_until 2 lab_gone "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	LAB_PIDS=()
	if [[ -n $LAB_UP ]]; then
		hslab=$(lab_hs_lab) && "$hslab" down "$LAB_UP" || rc=1
		LAB_UP=''
	fi
	local ns
	for ns in "${LAB_ROUTED[@]}"; do
		ip netns del "$ns" 2>/dev/null || rc=1
	done
	LAB_ROUTED=()
	return "$rc"
}

# lab_gone PID: the process has exited (a zombie counts: it is only not reaped yet).
lab_gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ ${stat%% *} == Z ]]
}

# lab_ns a|b|NAME: the namespace name.
lab_ns() {
	case $1 in
	a) printf '%s' "$LAB_A" ;;
	b) printf '%s' "$LAB_B" ;;
	*) printf '%s' "$1" ;;
	esac
}

# lab_a CMD... / lab_b CMD...: run CMD in namespace a / b.
lab_a() {
	ip netns exec "$LAB_A" "$@"
}
lab_b() {
	ip netns exec "$LAB_B" "$@"
}

# lab_bg a|b LOG CMD...: start CMD in the background in a namespace, its output
# (stdout and stderr) in $LAB_DIR/LOG. Sets LAB_BG_PID; lab_teardown stops it.
# SIGINT keeps its default disposition (background jobs of scripts ignore it).
lab_bg() {
	local ns log=$LAB_DIR/$2
	ns=$(lab_ns "$1")
	shift 2
	ip netns exec "$ns" env --default-signal=INT "$@" </dev/null >"$log" 2>&1 3>&- &
	LAB_BG_PID=$!
	LAB_PIDS+=("$LAB_BG_PID")
}

# lab_listening a|b PORT: something listens on TCP PORT in that namespace.
lab_listening() {
	[[ -n $(ip netns exec "$(lab_ns "$1")" ss -Hltn "sport = :$2") ]]
}

# lab_peer [ECHO-ARGS]: start the echo peer (hs-lab peer: tests/peers/echo.py) in
# namespace b, log in $LAB_DIR/peer.out; returns once it listens (--port, 8080).
# Sets LAB_PEER_PID.
lab_peer() {
	local hslab port=8080 i
	hslab=$(lab_hs_lab) || return
	for ((i = 1; i <= $#; i++)); do
		if [[ ${!i} == --port ]]; then
			local j=$((i + 1))
			port=${!j}
		elif [[ ${!i} == --port=* ]]; then
			port=${!i#--port=}
		fi
	done
	lab_bg b peer.out "$hslab" peer "$@"
	LAB_PEER_PID=$LAB_BG_PID
	if ! wait_until 5 lab_listening b "$port"; then
		lab_die "the peer does not listen on $port: $(cat "$LAB_DIR/peer.out")"
		return 1
	fi
}

# lab_tcpdump_start [-n a|b] [FILTER...]: capture on the lab's veth in namespace
# b (or a) into $LAB_DIR/capture.pcap; returns once tcpdump is listening.
lab_tcpdump_start() {
	local side=b
	if [[ ${1:-} == -n ]]; then
		side=$2
		shift 2
	fi
	local dev=$LAB_IF_B
	[[ $side == a ]] && dev=$LAB_IF_A
	lab_bg "$side" tcpdump.log tcpdump -i "$dev" -n -U --immediate-mode -Z root -w "$LAB_DIR/capture.pcap" "$@"
	LAB_TCPDUMP_PID=$LAB_BG_PID
	if ! wait_until 5 grep -q 'listening on' "$LAB_DIR/tcpdump.log"; then
		lab_die "tcpdump did not start: $(cat "$LAB_DIR/tcpdump.log")"
		return 1
	fi
}

# lab_tcpdump_stop: stop the capture (the file is complete afterwards).
lab_tcpdump_stop() {
	[[ -n ${LAB_TCPDUMP_PID:-} ]] || return 0
	kill -INT "$LAB_TCPDUMP_PID" 2>/dev/null
	wait_until 3 lab_gone "$LAB_TCPDUMP_PID" || kill -KILL "$LAB_TCPDUMP_PID" 2>/dev/null
	wait "$LAB_TCPDUMP_PID" 2>/dev/null
	LAB_TCPDUMP_PID=''
}

# lab_tcpdump_text [FILE]: the capture as text, absolute sequence numbers.
lab_tcpdump_text() {
	tcpdump -r "${1:-$LAB_DIR/capture.pcap}" -n -S -tt 2>/dev/null
}

# lab_nft a|b: load an nft ruleset from stdin into that namespace.
lab_nft() {
	ip netns exec "$(lab_ns "$1")" nft -f -
}

# lab_hs_tables a|b: the names of hs's guard tables (hs_<pid>_<n>, kept ones hs_kept_<pid>_<n>) there.
lab_hs_tables() {
	ip netns exec "$(lab_ns "${1:-a}")" nft list tables 2>/dev/null |
		awk '$1 == "table" && $3 ~ /^hs_/ { print $3 }'
}

# lab_established a|b PORT: the kernel's ESTABLISHED connections on local port
# PORT there, as "LOCAL PEER" lines (IPv4-mapped addresses shown as IPv4).
lab_established() {
	ip netns exec "$(lab_ns "$1")" ss -Htn state established "sport = :$2" |
		awk '{ gsub(/\[::ffff:|\]/, ""); print $(NF-1), $NF }'
}

# lab_conns a|b PORT: all the kernel's connections on local port PORT there
# (every state but LISTEN), as "STATE LOCAL PEER" lines.
lab_conns() {
	ip netns exec "$(lab_ns "$1")" ss -Htan "sport = :$2" |
		awk '$1 != "LISTEN" { gsub(/\[::ffff:|\]/, ""); print $1, $(NF-1), $NF }'
}

# lab_hs ARGS...: run hs ($HS, else hs in PATH) in namespace a.
lab_hs() {
	ip netns exec "$LAB_A" "${HS:-hs}" "$@"
}

# lab_assert_hs_error [REGEX]: after `run --separate-stderr`, hs printed exactly
# one line on stderr, starting with "hs: " (and matching the extended REGEX,
# case-insensitive).
lab_assert_hs_error() {
	local n=${#stderr_lines[@]}
	if ((n != 1)); then
		lab_die "expected exactly one line on stderr, got $n:"$'\n'"${stderr:-}"
		return 1
	fi
	if [[ ${stderr_lines[0]} != 'hs: '* ]]; then
		lab_die "the stderr line does not start with 'hs: ': ${stderr_lines[0]}"
		return 1
	fi
	if [[ -n ${1:-} ]] && ! grep -qiE -- "$1" <<<"${stderr_lines[0]}"; then
		lab_die "the stderr line does not match /$1/: ${stderr_lines[0]}"
		return 1
	fi
}

# lab_ns_inode a|b: the inode of the namespace (an earlier hs's default store
# was /run/hs/ns-<inode>).
lab_ns_inode() {
	stat -L -c %i "/run/netns/$(lab_ns "$1")"
}

# lab_ns_cookie a|b: the namespace's cookie, SO_NETNS_COOKIE (hs's default store
# is /run/hs/netns-<cookie>).
lab_ns_cookie() {
	local py=/usr/bin/python3
	[[ -x $py ]] || py=$(command -v python3)
	ip netns exec "$(lab_ns "$1")" "$py" -c 'import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), "little"))'
}

# lab_script FILE [HS-OPTIONS...]: play the scenario script FILE with `hs script`
# from namespace a against the peer in namespace b ($LAB_ADDR_B, port
# $LAB_SCRIPT_PORT or 8080; a --target line in FILE is overridden). The script's
# `command` lines run with the LAB_* variables exported (ip netns exec "$LAB_B" ...).
# hs's output goes to $LAB_DIR/script.out and script.err; LAB_SCRIPT_STATUS holds
# its exit status. Fails (the test fails) with hs's mismatch block unless the
# script ran to its end.
lab_script() {
	local file=$1
	shift
	lab__script "$file" "$@"
	if ((LAB_SCRIPT_STATUS != 0)); then
		lab_die "hs script $file: exit $LAB_SCRIPT_STATUS"$'\n'"$(cat "$LAB_DIR/script.err")"
		return 1
	fi
}

# lab_script_fails LINE FILE [HS-OPTIONS...]: the script must stop at LINE of FILE
# with exit 1 (the peer departed from it there; LAB_SCRIPT_EXPECT=3 for a segment
# that never came). Fails the test, with hs's output, otherwise.
lab_script_fails() {
	local line=$1 file=$2 want=${LAB_SCRIPT_EXPECT:-1} head
	shift 2
	lab__script "$file" "$@"
	head=$(grep -m1 '^hs: ' "$LAB_DIR/script.err")
	if ((LAB_SCRIPT_STATUS != want)) || [[ $head != "hs: $file:$line: "* ]]; then
		lab_die "hs script $file: expected exit $want at line $line, got exit $LAB_SCRIPT_STATUS:"$'\n'"$(cat "$LAB_DIR/script.err")"
		return 1
	fi
}

lab__script() {
	local file=$1
	shift
	LAB_SCRIPT_STATUS=0
	export LAB_NAME LAB_A LAB_B LAB_ADDR_A LAB_ADDR_B LAB_ADDR6_A LAB_ADDR6_B LAB_IF_A LAB_IF_B LAB_DIR
	ip netns exec "$LAB_A" "${HS:-hs}" script "$file" "$LAB_ADDR_B" "${LAB_SCRIPT_PORT:-8080}" "$@" \
		>"$LAB_DIR/script.out" 2>"$LAB_DIR/script.err" </dev/null || LAB_SCRIPT_STATUS=$?
}
