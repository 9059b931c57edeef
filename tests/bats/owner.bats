#!/usr/bin/env bats
# One 4-tuple, one owner (issue 9, section 4) and hs ls's privileges (section 5):
# a second hs on a port a running hs holds is refused; a kept connection's port
# is not handed to a local connect() that would hang on it; the default store is
# keyed on the namespace's cookie, not its reusable inode; a running hs ls holds
# only the capabilities it needs. Asserted from the peer's side and from the
# namespace (/proc, sysctl, the store), against kernel peers.
#
# Run by `make check`, or by hand as root: bats tests/bats/owner.bats

load common

setup() {
	hs_setup jq nft ss ip python3
	PY=/usr/bin/python3
	[[ -x $PY ]] || PY=$(command -v python3)
}

teardown() {
	lab_teardown
}

# a_py CODE: python in namespace a.
a_py() {
	lab_a "$PY" -c "$1"
}

@test "a second hs on the --sport a running hs holds is refused (exit 2), and the first one's connection is untouched" {
	lab_peer
	# The first hs waits for the peer's FIN (--close wait): it runs until the
	# peer program ends.
	hs_bg connect "$LAB_ADDR_B" 8080 --sport 40001 --close wait --timeout 2 --retries 2 --json --state-dir "$STATE"
	wait_until 3 peer_has_established 40001
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40001 --timeout 0.3 --retries 1 --close fin --state-dir "$STATE"
	((status == 2)) || fail "the second hs: exit $status: $stderr $output"
	[[ $stderr == *"source port 40001 is in use by another running hs"* ]] || fail "stderr: $stderr"
	# Nothing of the second one reached the peer: its only connection from 40001
	# is still the first hs's, ESTABLISHED.
	[[ $(peer_conns 8080 40001 | wc -l) == 1 ]] || fail "peer: $(peer_conns 8080 40001)"
	peer_has_established 40001
	# The peer program ends: its kernel sends FIN, and the first hs closes cleanly.
	kill -TERM "$LAB_PEER_PID"
	hs_finish 10
	assert_success
	expect "$(result)" outcome closed
	[[ -z $(segs '.note == "kernel-rst"') ]] || fail "RSTs blamed on the kernel: $output"
	wait_until 3 peer_in_time_wait 8080 40001 # it closed first
}

@test "hs listen refuses a port another running hs listens on (exit 2)" {
	hs_bg listen 7000 --timeout 5 --json --state-dir "$STATE"
	wait_until 3 hs_listening
	hs_a listen 7000 --timeout 0.3 --state-dir "$STATE"
	((status == 2)) || fail "the second hs listen: exit $status: $stderr"
	[[ $stderr == *"port 7000 is in use by another running hs"* ]] || fail "stderr: $stderr"
	# And the first one still works: a kernel client connects to it.
	lab_b "$PY" -c "import socket; s = socket.create_connection(('$LAB_ADDR_A', 7000), timeout=3); print('connected')"
	hs_finish 10
	expect "$(result)" outcome established
}

@test "with the ephemeral range narrowed to a kept connection's port, a local connect() to the same peer fails at once instead of hanging" {
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40002 --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome established
	wait_until 3 peer_has_established 40002
	lab_a sysctl -qw net.ipv4.ip_local_port_range="40002 40002"
	run a_py "
import socket, sys
s = socket.socket()
s.settimeout(4)
try:
    s.connect(('$LAB_ADDR_B', 8080))
    print('connected from', s.getsockname()[1])
except socket.timeout:
    print('hang'); sys.exit(3)
except OSError as e:
    print('failed', e.errno)
"
	[[ $output == "failed 111" ]] || fail "the local connect() (expected ECONNREFUSED, 111): $output"
	# The peer never saw it: one connection from 40002, still ESTABLISHED, and
	# it still answers hs (alive).
	[[ $(peer_conns 8080 40002 | wc -l) == 1 ]] || fail "peer: $(peer_conns 8080 40002)"
	peer_has_established 40002
	hs_a ls --json --state-dir "$STATE"
	assert_success
	[[ $(jqo 'select(.type == "conn") | .probe') == '"alive"' ]] || fail "hs ls: $output"
	hs_a fin --json --state-dir "$STATE"
	assert_success
	expect "$(result)" outcome closed
	[[ -z $(lab_hs_tables a) ]] || fail "guard left: $(lab_hs_tables a)"
}

@test "the default store is keyed on the namespace's cookie (SO_NETNS_COOKIE), not its inode" {
	lab_peer
	local cookie ino
	cookie=$(lab_ns_cookie a)
	ino=$(lab_ns_inode a)
	[[ -n $cookie && -n $ino ]]
	rm -rf "/run/hs/netns-$cookie" "/run/hs/ns-$ino"
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40003 --json
	assert_success
	expect "$(result)" outcome established
	local found=no
	[[ -n $(compgen -G "/run/hs/netns-$cookie/*.conn") ]] && found=yes
	[[ ! -e /run/hs/ns-$ino ]] || found="$found, and ns-$ino"
	hs_a rst
	rm -rf "/run/hs/netns-$cookie" "/run/hs/ns-$ino"
	[[ $found == yes ]] || fail "the record is not (only) in /run/hs/netns-$cookie: $found"
}

@test "a store keyed on the inode by an earlier hs still holds its kept connections" {
	lab_peer
	local cookie ino
	cookie=$(lab_ns_cookie a)
	ino=$(lab_ns_inode a)
	rm -rf "/run/hs/netns-$cookie" "/run/hs/ns-$ino"
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40004 --json --state-dir "/run/hs/ns-$ino"
	assert_success
	hs_a ls --json
	local listed=$output
	hs_a fin --json
	local fin=$status
	rm -rf "/run/hs/netns-$cookie" "/run/hs/ns-$ino"
	[[ $(jq -c 'select(.type == "conn")' <<<"$listed" | wc -l) == 1 ]] || fail "hs ls: $listed"
	((fin == 0)) || fail "hs fin: exit $fin"
	wait_until 3 peer_said 'eof 198.18.0.1:40004'
}

# ls_dropped: the running hs ls ($HS_PID) has set no_new_privs.
ls_dropped() {
	grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$HS_PID/status" 2>/dev/null
}

@test "a running hs ls keeps only CAP_NET_RAW and CAP_NET_ADMIN, with no_new_privs, and still lists and probes" {
	lab_peer
	local p
	for p in 40011 40012 40013 40014; do
		hs_a connect "$LAB_ADDR_B" 8080 --sport "$p" --json --state-dir "$STATE"
		assert_success
	done
	# A silent peer: each probe waits (300 ms), long enough to look at hs ls.
	lab_nft b <<-EOF
		table inet silent {
			chain in { type filter hook input priority -400; tcp dport 8080 drop; }
		}
	EOF
	hs_bg ls --json --state-dir "$STATE"
	wait_until 1 ls_dropped || fail "hs ls never set no_new_privs: $(grep -E '^(Cap|NoNew)' "/proc/$HS_PID/status" 2>&1)"
	local caps
	caps=$(grep -E '^Cap(Eff|Prm|Inh):' "/proc/$HS_PID/status" | awk '{print $1 $2}' | tr '\n' ' ')
	[[ $caps == "CapInh:0000000000000000 CapPrm:0000000000003000 CapEff:0000000000003000 " ]] ||
		fail "capabilities of the running hs ls: $caps"
	hs_finish 10
	assert_success
	[[ $(jqo 'select(.type == "conn")' | wc -l) == 4 ]] || fail "hs ls: $output"
	lab_b nft delete table inet silent
	# The kept connections are untouched: each still ESTABLISHED at the peer.
	for p in 40011 40012 40013 40014; do
		peer_has_established "$p"
	done
}
