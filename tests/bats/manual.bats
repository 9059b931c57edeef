#!/usr/bin/env bats
# The manual: `make install DESTDIR=...` puts every file hs ships where it
# belongs (and nothing else), each installed page renders without a warning, and
# every option that `hs --help` and `hs COMMAND --help` list is in the manual,
# command options in their command's section -- so the manual cannot drift
# from the option table. No privileges needed.
#
# Run by `make check`, or by hand from a build directory:
#   HS=$PWD/hs bats ../../tests/bats/manual.bats
# The install test needs the build tree (the directory of $HS, with its Makefile).

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

COMMANDS=(connect listen fin rst send script ls)

setup_file() {
	: "${HS:=$BATS_TEST_DIRNAME/../../hs}"
	export HS
	[[ -x $HS ]] || return 0
	BUILD=$(cd "$(dirname "$HS")" && pwd)
	export BUILD
	[[ -f $BUILD/Makefile ]] || return 0
	DEST=$BATS_FILE_TMPDIR/dest
	export DEST
	# One install for the file's tests; its log is read by the first test.
	make -s -C "$BUILD" install DESTDIR="$DEST" >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		echo "make install failed" >>"$BATS_FILE_TMPDIR/install.log"
}

setup() {
	[[ -x $HS ]] || fail "hs is not built: $HS (run make, or set HS)"
	[[ -f ${BUILD:-}/Makefile ]] || skip "no build tree beside $HS (installed hs): nothing to install"
	command -v man >/dev/null || fail "man is needed (apt-get install man-db)"
	command -v groff >/dev/null || fail "groff is needed (apt-get install groff-base)"
}

# page NAME: the installed page NAME (e.g. hs.1), or fail.
page() {
	local found
	found=$(find "$DEST" -path "*/man/man1/$1" -type f)
	[[ -n $found ]] || fail "$1 was not installed under $DEST"
	printf '%s\n' "$found"
}

@test "make install DESTDIR= installs every expected file and nothing else" {
	if grep -q 'make install failed' "$BATS_FILE_TMPDIR/install.log"; then
		fail "$(cat "$BATS_FILE_TMPDIR/install.log")"
	fi
	# Each pattern (a path suffix below DESTDIR and prefix) must match exactly
	# one installed file; every installed file must match a pattern. A new
	# installed file goes here too.
	local expected=(
		/bin/hs
		/bin/hs-lab
		/share/hs/lab.bash
		/share/hs/echo.py
		/share/man/man1/hs.1
		/share/man/man1/hs-lab.1
		/share/bash-completion/completions/hs
		/share/zsh/site-functions/_hs
		/share/fish/vendor_completions.d/hs.fish
	)
	local files f p n missing='' extra=''
	mapfile -t files < <(cd "$DEST" && find . -type f -o -type l | sed 's|^\.||' | sort)
	for p in "${expected[@]}"; do
		n=0
		for f in "${files[@]}"; do [[ $f == *"$p" ]] && n=$((n + 1)); done
		((n == 1)) || missing+=" $p($n)"
	done
	for f in "${files[@]}"; do
		n=0
		for p in "${expected[@]}"; do [[ $f == *"$p" ]] && n=1; done
		((n)) || extra+=" $f"
	done
	[[ -z $missing && -z $extra ]] ||
		fail "installed files differ: not installed exactly once:${missing:- none}; not expected:${extra:- none}; installed: ${files[*]}"
	[[ -x $(find "$DEST" -path '*/bin/hs' -type f) ]] || fail "the installed hs is not executable"
	"$(find "$DEST" -path '*/bin/hs' -type f)" --version
}

@test "each page renders with man -l and groff without a warning" {
	local p out
	for p in hs.1 hs-lab.1; do
		p=$(page "$p")
		out=$(MANWIDTH=80 man -l -Tutf8 "$p" 2>&1 >/dev/null)
		[[ -z $out ]] || fail "man -l $p warns: $out"
		out=$(preconv "$p" | groff -ww -man -z 2>&1)
		[[ -z $out ]] || fail "groff -ww -man $p warns: $out"
		out=$(MANWIDTH=80 man -l "$p" 2>/dev/null)
		[[ $out == *NAME* && $out == *SYNOPSIS* ]] || fail "$p renders without NAME/SYNOPSIS: $out"
	done
}

# options_of HELPTEXT: the options a --help text names, one a line: every
# --long word, and -x short options where an option column names them (at the
# start of an indented line, after ", " or ";  ", or "hs -r").
options_of() {
	grep -oE -- '--[a-z][a-z0-9-]*' <<<"$1"
	grep -oP -- '(?:^  |, |;  |hs )\K-[a-zA-Z](?=[ ,]|$)' <<<"$1"
}

# has_opt TEXT OPT: OPT appears in TEXT as a word of its own.
has_opt() {
	grep -qE -- "(^|[^a-zA-Z0-9_-])$2([^a-zA-Z0-9-]|\$)" <<<"$1"
}

# section TEXT WORD: the sections of a rendered page whose title (a line that
# starts in column 0) contains WORD, bodies included.
section() {
	awk -v w="$2" '/^[^ ]/ { on = index($0, w) > 0 } on' <<<"$1"
}

@test "every option of hs --help and hs COMMAND --help is in the manual (its command's section)" {
	local text top common help opts o c missing=''
	# A wide page: no line breaks or hyphenation inside an option.
	text=$(MANWIDTH=2000 man -l "$(page hs.1)" 2>/dev/null)
	[[ -n $text ]] || fail "hs.1 renders empty"
	top=$("$HS" --help)
	while read -r o; do
		has_opt "$text" "$o" || missing+=" $o (hs --help)"
	done < <(options_of "$top" | sort -u)
	# The options every command takes: the block after "Options of every command".
	common=$(sed -n '/^Options of every command/,/^$/p' <<<"$top")
	[[ -n $common ]] || fail "hs --help has no 'Options of every command' block"

	for c in "${COMMANDS[@]}"; do
		help=$("$HS" "$c" --help) || fail "hs $c --help failed"
		opts=$(options_of "$help" | sort -u)
		local own
		own=$(section "$text" "${c^^}")
		while read -r o; do
			[[ -n $o ]] || continue
			if has_opt "$common" "$o"; then
				has_opt "$text" "$o" || missing+=" $o (hs $c --help)"
			else
				# Its own option: in a section named after the command.
				[[ -n $own ]] || { missing+=" $o (no section names ${c^^})"; continue; }
				has_opt "$own" "$o" || missing+=" $o (hs $c --help, not in a section naming ${c^^})"
			fi
		done <<<"$opts"
	done
	[[ -z $missing ]] || fail "options in --help but not in man/hs.1.scd:$missing"
}

@test "the manual documents every command and the lab page every lab command" {
	local text c
	text=$(MANWIDTH=2000 man -l "$(page hs.1)" 2>/dev/null)
	for c in "${COMMANDS[@]}"; do
		grep -qE "^ +hs $c( |$)" <<<"$text" || fail "SYNOPSIS of hs.1 lacks hs $c"
	done
	text=$(MANWIDTH=2000 man -l "$(page hs-lab.1)" 2>/dev/null)
	local lab
	lab=$(find "$DEST" -path '*/bin/hs-lab' -type f)
	for c in $("$lab" --help | awk '/^Commands:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /^  [a-z]/ { print $1 }'); do
		grep -qE "^ +hs-lab $c( |$)" <<<"$text" || fail "SYNOPSIS of hs-lab.1 lacks hs-lab $c"
	done
}

# entry TEXT TERM: the entry of a rendered page whose term line starts with TERM
# (at the term indentation), its body included.
entry() {
	awk -v t="$2" '
		/^       [^ ]/ { on = index(substr($0, 8), t) == 1 }
		/^[^ ]/ { on = 0 }
		on' <<<"$1"
}

@test "every spelling of the option table, long forms too, is in the manual" {
	local text o missing=''
	text=$(MANWIDTH=2000 man -l "$(page hs.1)" 2>/dev/null)
	[[ -n $text ]] || fail "hs.1 renders empty"
	# the table's spellings, aliases and hidden rows left out (--help may name only
	# one of -q/--quiet: the table has both)
	while read -r o; do
		has_opt "$text" "$o" || missing+=" $o"
	done < <("$HS" --complete-table | awk -F'\t' '$1 == "opt" && $6 !~ /^alias:/ { print $2 }' | sort -u)
	[[ -z $missing ]] || fail "in the option table but not in man/hs.1.scd:$missing"
}

@test "the manual says how -w and -q differ with -r, and names hs help read" {
	local text r
	text=$(MANWIDTH=2000 man -l "$(page hs.1)" 2>/dev/null)
	r=$(entry "$text" "-r FILE [-r FILE]")
	[[ -n $r ]] || fail "no -r FILE entry in hs.1"
	for o in -w -q; do
		has_opt "$r" "$o" || fail "the -r entry does not say what $o does with -r: $r"
	done
	[[ $r == *"hs help read"* ]] || fail "the -r entry does not name hs help read"
	for o in "-w, --write" "-q, --quiet"; do
		[[ $(entry "$text" "$o") == *-r* ]] || fail "the $o entry does not mention -r"
	done
}

@test "the license: LICENSE (MIT), debian/copyright (DEP-5, Expat, the same text) and the README, all in the dist tarball" {
	local d=$BATS_TEST_TMPDIR/dist
	# make dist packs the bench, it does not run it (a target named like a directory
	# of EXTRA_DIST is a prerequisite of distdir)
	run make -n -C "$BUILD" distdir distdir="$d"
	assert_success
	[[ $output != *results/last.json* ]] || fail "make distdir would run the benchmark: $(grep last.json <<<"$output")"
	# what make dist packs (make distcheck builds from it)
	make -s -C "$BUILD" distdir distdir="$d" >"$BATS_TEST_TMPDIR/distdir.log" 2>&1 ||
		fail "make distdir failed: $(tail -5 "$BATS_TEST_TMPDIR/distdir.log")"
	[[ -f $d/LICENSE ]] || fail "the dist tarball has no LICENSE"
	grep -qx 'MIT License' "$d/LICENSE" || fail "LICENSE is not the MIT license"
	grep -qx 'Copyright 2026 the hs authors' "$d/LICENSE" || fail "LICENSE: no 'Copyright 2026 the hs authors'"
	local c=$d/debian/copyright
	grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' "$c" ||
		fail "debian/copyright is not DEP-5"
	grep -qPzo 'Files: \*\nCopyright: 2026 the hs authors\nLicense: Expat\n' "$c" ||
		fail "debian/copyright: no 'Files: *' paragraph with the copyright and License: Expat"
	# the stand-alone License: Expat paragraph holds LICENSE's text (DEP-5: one
	# space in front, "." for an empty line)
	local text
	text=$(awk '/^License: Expat$/ { n++; if (n == 2) { on = 1; next } } on && /^[^ ]/ { on = 0 } on' "$c" |
		sed 's/^ //; s/^\.$//')
	[[ -n $text && $text == "$(sed -n '/^Permission/,$p' "$d/LICENSE")" ]] ||
		fail "debian/copyright's Expat text differs from LICENSE's: $text"
	grep -q 'LICENSE' "$d/README" && grep -qi 'MIT' "$d/README" || fail "the README does not name the license"
	for f in run compare report.py reaction.sh spawn.c kclient.c peer.c; do
		[[ -f $d/bench/$f ]] || fail "the dist tarball has no bench/$f"
	done
	[[ ! -e $d/bench/results ]] || fail "the dist tarball holds bench results"
}
