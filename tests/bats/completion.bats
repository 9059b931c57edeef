#!/usr/bin/env bats
# The completions (completions/hs, _hs, hs.fish) against the one option table
# (hs --complete-table, cmd/opttab.c): for every command, each shell offers exactly
# the options the table gives it; values (--close modes, --opt kinds, files,
# interfaces, namespaces) and kept-connection ids; each command's --help mentions
# every option the table gives it, so that an option added to the table only fails
# here.
#
# Run by `make check`, or by hand as root: bats tests/bats/completion.bats

load common

setup() {
	hs_find
	COMPL=${COMPL_OVERRIDE:-${HS_TESTS:-$BATS_TEST_DIRNAME/..}/../completions}
	# the completions run the hs being completed: ours, first in PATH
	BIN=$BATS_TEST_TMPDIR/bin
	mkdir -p "$BIN"
	ln -sf "$HS" "$BIN/hs"
	export PATH="$BIN:$PATH"
}

teardown() {
	[[ -z ${LAB_DIR:-} ]] || lab_teardown
}

COMMANDS="connect listen fin rst send script ls"

# table_opts CMD [PREFIX]: the spellings the table gives CMD (aliases left out),
# sorted, one line, starting with PREFIX (default --).
table_opts() {
	hs --complete-table | awk -F'\t' -v cmd="$1" -v pre="${2:---}" '
		$1 == "opt" && $6 !~ /^alias:/ && index($2, pre) == 1 &&
		($5 == "*" || index("," $5 ",", "," cmd ",")) { print $2 }' | sort -u | tr '\n' ' '
}

sorted() {
	tr ' ' '\n' | grep -v '^$' | sort -u | tr '\n' ' '
}

# bash_complete WORD...: COMPREPLY of completions/hs for the command line WORD...
# (the last one being completed), one line.
bash_complete() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hs; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$COMPL/hs" "$@"
}

# zsh_complete WORD...: what _hs (autoloaded by compinit from completions/)
# offers; compadd and _describe print their words (no terminal needed).
zsh_complete() {
	zsh -f -c '
		fpath=("$1" $fpath); shift
		autoload -Uz compinit; compinit -u -D
		[[ $_comps[hs] == _hs ]] || { print -u2 "compinit did not bind _hs to hs"; exit 1; }
		_describe() { local a=${@[-1]}; print -l -- "${(@)${(P)a}%%:*}"; }
		compadd() { while [[ $1 == -* && $1 != -- ]]; do [[ $1 == -[SPJXMW] ]] && shift; shift; done
			[[ $1 == -- ]] && shift; print -l -- "$@"; }
		compset() { return 1; }
		_files() { print FILES; }
		_directories() { print DIRS; }
		words=("$@"); CURRENT=$#
		_hs' _ "$COMPL" "$@"
}

# fish_complete LINE: the candidates fish offers for LINE.
fish_complete() {
	# shellcheck disable=SC2016 # fish's $argv, expanded by fish
	fish --no-config -c 'set -p fish_complete_path $argv[1]; complete -C $argv[2] | string replace -r "\t.*" ""' \
		"$COMPL" "$1"
}

@test "--complete-table lists every command and every long option hs --help shows" {
	run --separate-stderr hs --complete-table
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	local c
	for c in $COMMANDS help; do
		grep -qP "^cmd\t$c\t" <<<"$output" || fail "no cmd row for $c"
	done
	# every --option the general help names has a row
	local o
	for o in $("$HS" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
		grep -qP "^opt\t$o\t" <<<"$output" || fail "hs --help names $o, the table has no row for it"
	done
	# the old spellings are parsed (rows marked alias)
	grep -qP '^opt\t--colour\t.*\talias:' <<<"$output" || fail "no --colour alias"
	grep -qP '^opt\t--tolerance_usecs\t.*\talias:' <<<"$output" || fail "no --tolerance_usecs alias"
}

@test "each command's --help mentions every option the table gives it" {
	local c o missing=
	for c in $COMMANDS; do
		local help
		help=$("$HS" "$c" --help)
		while IFS=$'\t' read -r _ long short; do
			grep -qE -- "(^|[^a-z-])($long|$short)([^a-z-]|$)" <<<"$help" || missing+=" $c:$long"
		done < <(hs --complete-table | awk -F'\t' -v cmd="$c" '
			$1 == "opt" && $6 !~ /^alias:/ && ($5 == "*" || index("," $5 ",", "," cmd ",")) {
				# a long spelling and its short twin (same help text) count as one
				if ($2 ~ /^--/) long[$6] = $2; else short[$6] = $2 }
			END { for (h in long) print "x\t" long[h] "\t" (h in short ? short[h] : long[h])
			      for (h in short) if (!(h in long)) print "x\t" short[h] "\t" short[h] }')
	done
	[[ -z $missing ]] || fail "not in the command's --help:$missing"
}

@test "bash: the commands, prefixes, and each command's options exactly as the table has them" {
	run bash_complete hs ''
	assert_success
	[[ $(sorted <<<"${lines[*]}") == "$(sorted <<<"$COMMANDS help")" ]] || fail "commands: ${lines[*]}"
	run bash_complete hs con
	[[ ${lines[*]} == connect ]] || fail "hs con: ${lines[*]}"
	local c want got
	for c in $COMMANDS; do
		want=$(table_opts "$c" -)
		got=$(bash_complete hs "$c" - | sorted)
		[[ $got == "$want" ]] || fail "hs $c -: offered [$got], the table has [$want]"
		# a prefix names the command too
		got=$(bash_complete hs "${c:0:3}" -- | sorted)
		[[ $got == "$(table_opts "$c")" ]] || fail "hs ${c:0:3} --: offered [$got]"
	done
	# fin and rst: --count, --ack; rst: --step (the drift issue 14 found)
	for want in --count --ack --step; do
		bash_complete hs fin -- | grep -qx -- "$want" || fail "fin: no $want"
		bash_complete hs rst -- | grep -qx -- "$want" || fail "rst: no $want"
	done
	# an alias is parsed but not offered
	! bash_complete hs --col | grep -qx -- --colour || fail "--colour offered"
}

@test "bash: values: --close modes, --opt kinds, --color, --expect, files, interfaces, namespaces" {
	run bash_complete hs connect --close ''
	[[ $(sorted <<<"${lines[*]}") == "fin keep none rst wait " ]] || fail "--close: ${lines[*]}"
	run bash_complete hs connect --close=w
	[[ ${lines[*]} == wait ]] || fail "--close=w: ${lines[*]}"
	run bash_complete hs connect --opt mss=1460,wsc
	[[ ${lines[*]} == mss=1460,wscale= ]] || fail "--opt: ${lines[*]}"
	run bash_complete hs --color=
	[[ $(sorted <<<"${lines[*]}") == "always auto never " ]] || fail "--color=: ${lines[*]}"
	run bash_complete hs send --expect challenge
	[[ ${lines[*]} == challenge-ack ]] || fail "--expect: ${lines[*]}"
	# send --ack takes a number (nothing offered); rst --ack takes none (options next)
	run bash_complete hs send --ack ''
	[[ -z ${lines[*]} ]] || fail "send --ack: ${lines[*]}"
	local f=$BATS_TEST_TMPDIR/scenario.pkt
	touch "$f"
	for w in "script" "-r" "-w" "send --data-file" "connect --send-file"; do
		# shellcheck disable=SC2086 # the words
		run bash_complete hs $w "$BATS_TEST_TMPDIR/scen"
		[[ ${lines[*]} == "$f" ]] || fail "hs $w: ${lines[*]}"
	done
	run bash_complete hs -i ''
	local i
	for i in $(ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}') any; do
		[[ " ${lines[*]} " == *" $i "* ]] || fail "-i: $i not offered: ${lines[*]}"
	done
}

@test "bash: namespaces for --netns, their interfaces for -i, kept-connection ids for fin/rst/send" {
	hs_setup jq ip
	lab_peer
	hs_a connect "$LAB_ADDR_B" 8080 --sport 40000 --state-dir "$STATE" --json
	assert_success
	local id
	hs_a ls --json --state-dir "$STATE"
	id=$(jqo -r 'select(.type == "conn") | .id')
	[[ -n $id ]] || fail "no kept connection: $output"
	run bash_complete hs --netns "${LAB_A:0:5}"
	[[ " ${lines[*]} " == *" $LAB_A "* ]] || fail "--netns: $LAB_A not offered: ${lines[*]}"
	# -i after --netns: that namespace's interfaces
	run bash_complete hs connect --netns "$LAB_A" -i ''
	local ifs
	ifs=$(ip -n "$LAB_A" -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sorted)
	[[ $(sorted <<<"${lines[*]}") == "$(sorted <<<"$ifs any")" ]] || fail "-i in $LAB_A: ${lines[*]} (has $ifs)"
	# Offering the ids sends nothing to the kept connection's peer (hs ls --no-probe).
	lab_tcpdump_start tcp port 8080
	for c in fin rst send; do
		run bash_complete hs "$c" --netns "$LAB_A" --state-dir "$STATE" ''
		[[ ${lines[*]} == "$id" ]] || fail "hs $c: offered [${lines[*]}], kept: $id"
	done
	lab_tcpdump_stop
	[[ -z $(lab_tcpdump_text) ]] || fail "completing sent segments to the peer: $(lab_tcpdump_text)"
	# no store, no connection: nothing offered, quietly
	run --separate-stderr bash_complete hs fin --netns "$LAB_A" --state-dir "$BATS_TEST_TMPDIR/none" ''
	assert_success
	[[ -z $output && -z $stderr ]] || fail "no store: [$output] [$stderr]"
	hs_a fin --state-dir "$STATE"
	assert_success
}

@test "zsh: compinit binds _hs to hs; each command's options exactly as the table has them" {
	command -v zsh >/dev/null || fail "zsh is not installed (tools/deps)"
	run zsh_complete hs ''
	assert_success
	[[ $(sorted <<<"${lines[*]}") == "$(sorted <<<"$COMMANDS help")" ]] || fail "commands: ${lines[*]}"
	local c got
	for c in $COMMANDS; do
		got=$(zsh_complete hs "$c" - | sorted)
		[[ $got == "$(table_opts "$c" -)" ]] || fail "hs $c -: offered [$got], the table has [$(table_opts "$c" -)]"
	done
	run zsh_complete hs connect --close ''
	[[ $(sorted <<<"${lines[*]}") == "fin keep none rst wait " ]] || fail "--close: ${lines[*]}"
	run zsh_complete hs script ''
	[[ ${lines[*]} == FILES ]] || fail "script: ${lines[*]}"
	run zsh_complete hs -i ''
	[[ " ${lines[*]} " == *" any "* && " ${lines[*]} " == *" lo "* ]] || fail "-i: ${lines[*]}"
}

@test "fish: complete -C offers the commands, prefixes and each command's options as the table has them" {
	command -v fish >/dev/null || fail "fish is not installed (tools/deps)"
	run fish_complete 'hs con'
	assert_success
	[[ ${lines[*]} == connect ]] || fail "hs con: ${lines[*]}"
	run fish_complete 'hs '
	[[ $(sorted <<<"${lines[*]}") == "$(sorted <<<"$COMMANDS help")" ]] || fail "commands: ${lines[*]}"
	local c got want
	for c in $COMMANDS; do
		# fish offers --color and --color= for the optional value: count it once
		got=$(fish_complete "hs $c --" | sed 's/=$//' | sorted)
		want=$(table_opts "$c")
		[[ $got == "$want" ]] || fail "hs $c --: offered [$got], the table has [$want]"
	done
	run fish_complete 'hs connect --close '
	[[ $(sorted <<<"${lines[*]}") == "fin keep none rst wait " ]] || fail "--close: ${lines[*]}"
	run fish_complete 'hs connect --opt mss=1460,s'
	[[ ${lines[*]} == mss=1460,sack ]] || fail "--opt: ${lines[*]}"
	run fish_complete 'hs -i '
	[[ " ${lines[*]} " == *" any "* && " ${lines[*]} " == *" lo "* ]] || fail "-i: ${lines[*]}"
}
