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

# zsh_describe WORD...: as zsh_complete, with _describe's "word:description" entries whole.
zsh_describe() {
	zsh -f -c '
		fpath=("$1" $fpath); shift
		autoload -Uz compinit; compinit -u -D
		_describe() { local a=${@[-1]}; print -l -- "${(@P)a}"; }
		compadd() { return 0; }
		words=("$@"); CURRENT=$#
		_hs' _ "$COMPL" "$@"
}

# fish_describe LINE: fish's candidates for LINE with their descriptions (word TAB description).
fish_describe() {
	# shellcheck disable=SC2016 # fish's $argv, expanded by fish
	fish --no-config -c 'set -p fish_complete_path $argv[1]; complete -C $argv[2]' "$COMPL" "$1"
}

@test "-r/--read is offered before a command and after -r, never after a command (it would make any command a capture read)" {
	command -v zsh >/dev/null && command -v fish >/dev/null || fail "zsh and fish are needed (tools/deps)"
	local c o got
	for o in -r --read; do
		bash_complete hs - | grep -qx -- "$o" || fail "bash: hs -: no $o"
		zsh_complete hs - | grep -qx -- "$o" || fail "zsh: hs -: no $o"
		fish_complete 'hs -' | grep -qx -- "$o" || fail "fish: hs -: no $o"
		# a second capture (one from each end)
		bash_complete hs -r x.pcap - | grep -qx -- "$o" || fail "bash: hs -r x.pcap -: no $o"
	done
	# hs -r takes -x/--hex
	bash_complete hs -r x.pcap - | grep -qx -- --hex || fail "bash: hs -r x.pcap -: no --hex"
	zsh_complete hs -r x.pcap - | grep -qx -- -x || fail "zsh: hs -r x.pcap -: no -x"
	fish_complete 'hs -r x.pcap -' | grep -qx -- -x || fail "fish: hs -r x.pcap -: no -x"
	for c in $COMMANDS; do
		got=$(bash_complete hs "$c" - | grep -xE -- '-r|--read' | sorted)
		[[ -z $got ]] || fail "bash: hs $c - offers $got"
		got=$(zsh_complete hs "$c" - | grep -xE -- '-r|--read' | sorted)
		[[ -z $got ]] || fail "zsh: hs $c - offers $got"
		got=$(fish_complete "hs $c -" | grep -xE -- '-r|--read' | sorted)
		[[ -z $got ]] || fail "fish: hs $c - offers $got"
	done
}

@test "--opt after a comma: each kind one candidate, prefixed by what is typed (bash, zsh, fish)" {
	local kinds want got
	# the kinds: the table's opt words that are one item (not the default list)
	kinds=$(hs --complete-table | awk -F'\t' '$1 == "val" && $2 == "opt" { for (i = 3; i <= NF; i++) if ($i !~ /,/) print $i }')
	[[ $(wc -l <<<"$kinds") -ge 8 ]] || fail "few --opt kinds in the table: $kinds"
	want=$(sed 's/^/mss=1460,/' <<<"$kinds" | sorted)
	got=$(bash_complete hs connect --opt mss=1460, | sorted)
	[[ $got == "$want" ]] || fail "bash: offered [$got], expected [$want]"
	got=$(bash_complete hs connect --opt=mss=1460, | sorted)
	[[ $got == "$want" ]] || fail "bash --opt=: offered [$got], expected [$want]"
	got=$(fish_complete 'hs connect --opt mss=1460,' | sorted)
	[[ $got == "$want" ]] || fail "fish: offered [$got], expected [$want]"
	# zsh: compset -P '*,' takes what is typed as the prefix; only the kinds are added
	got=$(zsh -f -c '
		fpath=("$1" $fpath); shift
		autoload -Uz compinit; compinit -u -D
		compadd() { while [[ $1 == -* && $1 != -- ]]; do [[ $1 == -[SPJXMW] ]] && shift; shift; done
			[[ $1 == -- ]] && shift; print -l -- "$@"; }
		compset() { [[ $1 == -P && $words[CURRENT] == *,* ]]; }
		words=("$@"); CURRENT=$#
		_hs' _ "$COMPL" hs connect --opt mss=1460, | sed 's/^/mss=1460,/' | sorted)
	[[ $got == "$want" ]] || fail "zsh: offered [$got], expected [$want]"
	# the first item may still be the whole default list
	bash_complete hs connect --opt '' | grep -qx 'mss=1460,sack,ts,nop,wscale=7' || fail "bash: no default list first"
}

@test "zsh and fish describe each command's options with that command's row (rst --ack is not send's --ack N)" {
	command -v zsh >/dev/null && command -v fish >/dev/null || fail "zsh and fish are needed (tools/deps)"
	local c o d want bad=''
	for c in $COMMANDS; do
		# the table's description of each spelling for c (c's own row first, else every command's)
		declare -A help=()
		while IFS=$'\t' read -r o d; do
			[[ -n ${help[$o]+x} ]] || help[$o]=$d
		done < <(hs --complete-table | awk -F'\t' -v cmd="$c" '$1 == "opt" && index("," $5 ",", "," cmd ",") { print $2 "\t" $6 }'
			hs --complete-table | awk -F'\t' '$1 == "opt" && $5 == "*" { print $2 "\t" $6 }')
		while IFS= read -r line; do
			o=${line%%:*} d=${line#*:}
			[[ $d == "${help[$o]-}" ]] || bad+=" zsh:$c:$o[$d]"
		done < <(zsh_describe hs "$c" -)
		while IFS=$'\t' read -r o d; do
			[[ $o == *= ]] && continue # fish's --color= twin
			[[ $d == "${help[$o]-}" ]] || bad+=" fish:$c:$o[$d]"
		done < <(fish_describe "hs $c -")
		unset help
	done
	[[ -z $bad ]] || fail "descriptions not from the command's row:$bad"
	zsh_describe hs rst --a | grep -qx -- '--ack:RST,ACK instead of RST' || fail "zsh: rst --ack: $(zsh_describe hs rst --a)"
}

@test "commands are described by a whole one-line summary from the table (zsh, fish)" {
	command -v zsh >/dev/null && command -v fish >/dev/null || fail "zsh and fish are needed (tools/deps)"
	local name d open close bad=''
	while IFS=$'\t' read -r _ name _ d; do
		open=${d//[^(]/} close=${d//[^)]/}
		# cut mid-sentence: an open parenthesis, a trailing , ; : or a line longer than a terminal's half
		[[ -n $d && ${#open} == "${#close}" && $d != *[,\;:\(] && ${#d} -le 70 ]] || bad+=" $name[$d]"
		zsh_describe hs '' | grep -qxF -- "$name:$d" || bad+=" zsh:$name"
		fish_describe 'hs ' | grep -qxF -- "$name"$'\t'"$d" || bad+=" fish:$name"
	done < <(hs --complete-table | grep -P '^cmd\t')
	[[ -z $bad ]] || fail "command descriptions:$bad"
}

@test "--color WHEN with a space: the word is its value (as hs takes it), not the command's argument (bash, zsh, fish)" {
	local f=$BATS_TEST_TMPDIR/scenario.pkt
	touch "$f"
	run bash_complete hs script --color always "$BATS_TEST_TMPDIR/scen"
	[[ ${lines[*]} == "$f" ]] || fail "bash: hs script --color always FILE: ${lines[*]}"
	run fish_complete "hs script --color never $BATS_TEST_TMPDIR/scen"
	[[ ${lines[*]} == "$f" ]] || fail "fish: hs script --color never FILE: ${lines[*]}"
	run zsh_complete hs script --color auto ''
	[[ ${lines[*]} == FILES ]] || fail "zsh: hs script --color auto FILE: ${lines[*]}"
	run bash_complete hs --color al
	[[ ${lines[*]} == always ]] || fail "bash: hs --color al: ${lines[*]}"
	# a word that is no value is the next argument
	run bash_complete hs --color con
	[[ ${lines[*]} == connect ]] || fail "bash: hs --color con: ${lines[*]}"
}
