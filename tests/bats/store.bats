#!/usr/bin/env bats
# The store is data from a possibly hostile place (issue 9, section 3): what is in a
# --state-dir must never make root act outside what hs's own records allow. A state
# directory or record that is a symbolic link, not root's, or writable by others is
# refused (exit 4, one line); a record is read only when it is a regular file
# (a FIFO does not hang hs); every field is checked against what hs would have
# written and against the host (its addresses; a guard table whose rule is the
# record's 4-tuple); `hs ls` names every record it did not take and lists all the
# others, with no limit.
#
# Run by `make check`, or by hand as root: bats tests/bats/store.bats

load common

setup() {
	hs_setup jq nft ss ip tcpdump setpriv
	mkdir -m 0700 -p "$STATE"
	EVIL=''
}

teardown() {
	lab_teardown
	[[ -n $EVIL ]] && rm -rf "$EVIL"
	return 0
}

# record LOCAL [GUARD] [STATE]: a record as hs would write it, for LOCAL (ADDR:PORT)
# to the peer's 8080, on stdout.
record() {
	printf '# hs kept connection\nlocal=%s\nremote=%s:8080\niface=\nstate=%s\npeer_state=ESTABLISHED\n' \
		"$1" "$LAB_ADDR_B" "${3:-ESTABLISHED}"
	printf 'iss=1000\nirs=2000\nsnd_una=1001\nsnd_nxt=1001\nrcv_nxt=2001\nsnd_wnd=64240\nrcv_wnd=64240\n'
	printf 'peer_mss=1460\nsnd_wscale=7\nrcv_wscale=7\nws_ok=1\nsack_ok=1\nts_ok=0\nts_recent=0\nts_clock=0\n'
	printf 'guard=%s\ncreated=%s\npid=%s\n' "${2:-}" "$(date +%s)" "$$"
}

# table_exists NAME: namespace a has the nft table inet NAME.
table_exists() {
	lab_a nft list table inet "$1" >/dev/null 2>&1
}

# info_names: the record names (N.conn) that hs ls's JSON info lines mention, sorted.
info_names() {
	jqo -r 'select(.type == "info") | .text' | grep -oE '/[0-9]+\.conn' | tr -d / | sort -V | uniq
}

# from_addr ADDR: the capture holds a segment from ADDR.
from_addr() {
	lab_tcpdump_text | grep -qE "IP $1\.[0-9]+ > "
}

@test "a user-writable --state-dir naming a live hs listen's guard: refused, the guard stays" {
	hs_bg listen 9000 --json --state-dir "$BATS_TEST_TMPDIR/lstate"
	wait_until 5 hs_listening || fail "hs listen does not listen: $(cat "$LAB_DIR/hs.err")"
	local table
	table=$(lab_hs_tables a | head -1)
	[[ -n $table ]] || fail "hs listen has no guard table"
	# An unprivileged user writes a record into a world-writable directory.
	EVIL=$(mktemp -d /tmp/hs-store-evil.XXXXXX)
	chmod 1777 "$EVIL"
	record "$LAB_ADDR_A:40000" "$table" |
		setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "cat > '$EVIL/1.conn'"
	[[ $(stat -c %U "$EVIL/1.conn") == nobody ]] || fail "the record is not nobody's"
	hs_a ls --json --state-dir "$EVIL"
	table_exists "$table" || fail "hs ls deleted the live listener's guard $table"
	assert_equal "$status" 4
	lab_assert_hs_error "state directory $EVIL is writable by others.*refused"
	# The record in a directory of root's own, 0700: its guard's rule is for port
	# 9000, not for the record's 4-tuple: named, refused, nothing deleted.
	record "$LAB_ADDR_A:40000" "$table" >"$STATE/1.conn"
	hs_a ls --json --state-dir "$STATE"
	table_exists "$table" || fail "hs ls deleted the live listener's guard $table"
	assert_equal "$status" 4
	[[ $(info_names) == 1.conn ]] || fail "1.conn is not named: $output"
	jqo 'select(.type == "info") | .text' | grep -q "table $table is not the guard of" ||
		fail "the reason is not given: $output"
	[[ -e $STATE/1.conn ]] || fail "the refused record was removed"
	# And hs rst on it touches nothing either.
	hs_a rst 1 --state-dir "$STATE"
	assert_equal "$status" 4
	table_exists "$table" || fail "hs rst deleted the live listener's guard $table"
	kill -0 "$HS_PID" || fail "hs listen is gone"
}

@test "a record whose local= address this host does not have: refused, nothing sent from it" {
	lab_peer
	lab_tcpdump_start
	record "198.18.0.9:40000" >"$STATE/1.conn"
	hs_a fin 1 --state-dir "$STATE" --timeout 0.3 --retries 0
	local fin_status=$status fin_stderr=("${stderr_lines[@]}")
	hs_a rst --state-dir "$STATE" --timeout 0.3 --retries 0
	local rst_status=$status
	hs_a ls --json --state-dir "$STATE" --timeout 0.3
	lab_tcpdump_stop
	! from_addr 198.18.0.9 || fail "a segment left from 198.18.0.9: $(lab_tcpdump_text)"
	assert_equal "$status" 4
	[[ $(info_names) == 1.conn ]] || fail "1.conn is not named: $output"
	jqo 'select(.type == "info") | .text' | grep -q "198.18.0.9 is not an address of this host" ||
		fail "the reason is not given: $output"
	assert_equal "$fin_status" 4
	stderr_lines=("${fin_stderr[@]}")
	lab_assert_hs_error "1\.conn refused: local address: 198\.18\.0\.9 is not an address of this host"
	[[ $rst_status -ne 0 ]] || fail "hs rst took the record"
}

@test "a symlinked --state-dir is not followed: refused before anything is sent, nothing written" {
	lab_peer
	local target=$BATS_TEST_TMPDIR/target link=$BATS_TEST_TMPDIR/link
	mkdir -m 0700 "$target"
	ln -s "$target" "$link"
	lab_tcpdump_start
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --json --state-dir "$link"
	[[ -z $(ls -A "$target") ]] || fail "hs wrote into the link's target: $(ls -A "$target")"
	assert_equal "$status" 4
	lab_assert_hs_error "state directory $link is a symbolic link: refused"
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40001 --json --state-dir "$link/"
	[[ -z $(ls -A "$target") ]] || fail "hs wrote into the link's target: $(ls -A "$target")"
	assert_equal "$status" 4
	hs_a ls --json --state-dir "$link"
	assert_equal "$status" 4
	# a link earlier on the path is not followed either
	mkdir -m 0700 "$BATS_TEST_TMPDIR/real"
	ln -s "$target" "$BATS_TEST_TMPDIR/real/l"
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40002 --json --state-dir "$BATS_TEST_TMPDIR/real/l/."
	[[ -z $(ls -A "$target") ]] || fail "hs wrote into the link's target through real/l/.: $(ls -A "$target")"
	assert_equal "$status" 4
	lab_assert_hs_error "reached through a symbolic link"
	lab_tcpdump_stop
	! from_addr "$LAB_ADDR_A" || fail "a segment was sent: $(lab_tcpdump_text)"
	[[ -z $(lab_established b 8080) ]] || fail "the peer has connections: $(lab_established b 8080)"
}

@test "a FIFO named like a record hangs neither hs ls nor hs connect nor hs listen" {
	mkfifo -m 0600 "$STATE/1.conn"
	hs_bg ls --json --state-dir "$STATE"
	hs_finish 3
	assert_equal "$status" 4
	[[ $(info_names) == 1.conn ]] || fail "1.conn is not named: $output"
	jqo 'select(.type == "info") | .text' | grep -q "1.conn is not a regular file: refused" ||
		fail "the reason is not given: $output"
	lab_peer
	hs_bg connect "$LAB_ADDR_B" 8080 --sport 40000 --json --state-dir "$STATE"
	hs_finish 5
	assert_equal "$status" 0
	expect "$(result)" outcome established
	[[ -f $STATE/2.conn ]] || fail "the connection was not kept as 2: $(ls -A "$STATE")"
	hs_bg listen 9000 --json --state-dir "$STATE"
	wait_until 3 hs_listening || fail "hs listen hangs: $(cat "$LAB_DIR/hs.err")"
}

@test "8 corrupt records: each named, exit 4, the good one listed" {
	local big
	big=$(head -c 5000 /dev/zero | tr '\0' x)
	echo 'garbage' >"$STATE/1.conn"
	record "$LAB_ADDR_A:40002" | grep -v '^iss=' >"$STATE/2.conn"
	record "$LAB_ADDR_A:40003" '' LISTEN >"$STATE/3.conn"
	record "$LAB_ADDR_A:40004" '' TIME-WAIT >"$STATE/4.conn"
	record "$LAB_ADDR_A:40005" 'hs_1_0; delete table inet x' >"$STATE/5.conn"
	record "[2001:db8::1]:40006" | sed "s/^remote=.*/remote=$LAB_ADDR_B:8080/" >"$STATE/6.conn"
	printf '%s\n' "$big" >"$STATE/7.conn"
	{ record "$LAB_ADDR_A:40008"; printf 'x\0y\n'; } >"$STATE/8.conn"
	record "$LAB_ADDR_A:40009" hs_424242_0 >"$STATE/9.conn"
	hs_a ls --json --state-dir "$STATE" --timeout 0.3
	[[ $(info_names | tr '\n' ' ') == "1.conn 2.conn 3.conn 4.conn 5.conn 6.conn 7.conn 8.conn " ]] ||
		fail "not each named once: $(info_names | tr '\n' ' ') in $output"
	assert_equal "$status" 4
	lab_assert_hs_error "8 kept connection records in $STATE are corrupted or refused"
	[[ $(info_names | tr '\n' ' ') == "1.conn 2.conn 3.conn 4.conn 5.conn 6.conn 7.conn 8.conn " ]] ||
		fail "not each named once: $(info_names | tr '\n' ' ') in $output"
	[[ $(jqo -r 'select(.type == "conn") | .id') == 9 ]] || fail "the good record is not listed: $output"
	expect "$(result)" count 1
	hs_a ls --state-dir "$STATE" --timeout 0.3
	assert_equal "$status" 4
	[[ $output != *"no kept connections"* ]] || fail "hs ls says there are none: $output"
	[[ $(grep -c '\.conn' <<<"$output") -eq 8 ]] || fail "not a line per bad record: $output"
}

@test "300 records are all listed" {
	local i
	for ((i = 1; i <= 300; i++)); do
		record "$LAB_ADDR_A:$((40000 + i))" "hs_424242_$i" >"$STATE/$i.conn"
	done
	hs_a ls --json --state-dir "$STATE" --timeout 0.3
	assert_success
	[[ $(jqo 'select(.type == "conn")' | wc -l) -eq 300 ]] ||
		fail "listed $(jqo 'select(.type == "conn")' | wc -l) of 300"
	expect "$(result)" count 300
	jqo -r 'select(.type == "conn") | .id' | sort -n | tail -1 | grep -qx 300 || fail "300 is not listed"
}
