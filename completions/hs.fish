# fish completion for hs. Every `complete` below is made from `hs --complete-table`
# (cmd/opttab.c, the one option table) when fish first completes hs, so the
# completion cannot drift from the options; kept-connection ids from `hs ls --json --no-probe` (no probe: TAB sends nothing).

# The words before the cursor: prints "CMD NPOS" (CMD - when none yet, or "read" for hs -r).
function __hs_state
    set -l toks (commandline -opc)
    set -l cmd -
    set -l npos 0
    set -l i 2
    while test $i -le (count $toks)
        set -l w $toks[$i]
        switch $w
            case '--*=*'
            case '-*'
                # -r before a command makes the run hs -r's ("read")
                contains -- $w -r --read; and test $cmd = -; and set cmd read
                if contains -- $w $__hs_t_required
                    set i (math $i + 1)
                else if contains -- $w $__hs_t_optional; and test $i -lt (count $toks)
                    # --color always: hs takes the word as its value
                    set -l next $toks[(math $i + 1)]
                    set -l kind __hs_t_kind_(string replace -a -- - _ (string trim -l -c - -- $w))
                    set -l vals __hs_t_vals_$$kind
                    set -q $vals; and contains -- $next $$vals; and set i (math $i + 1)
                end
            case '*'
                if test $cmd = -
                    set -l found
                    for c in $__hs_t_cmds
                        if test $c = $w
                            set found $c
                            break
                        end
                        string match -q -- "$w*" $c; and set -a found $c
                    end
                    if test (count $found) -eq 1
                        set cmd $found[1]
                    else
                        set npos (math $npos + 1)
                    end
                else
                    set npos (math $npos + 1)
                end
        end
        set i (math $i + 1)
    end
    echo $cmd $npos
end

# Is the command one of $argv (or ANY: any, even none yet)?
function __hs_using
    contains -- ANY $argv; and return 0
    set -l s (string split -- ' ' (__hs_state))
    contains -- $s[1] $argv
end

# Is the cursor on the first argument of a command in $argv?
function __hs_first_arg
    set -l s (string split -- ' ' (__hs_state))
    contains -- $s[1] $argv; and test $s[2] -eq 0
end

function __hs_opt_value
    # $argv[1]: the option (e.g. --netns) whose value, given earlier, to print
    set -l toks (commandline -opc)
    set -l i (contains -i -- $argv[1] $toks); and echo $toks[(math $i + 1)]
end

function __hs_values
    switch $argv[1]
        case iface
            set -l ns (__hs_opt_value --netns)
            # -i any: every interface (hs accepts it)
            ip (test -n "$ns"; and echo -n\n$ns) -o link show 2>/dev/null | string replace -r '^\d+: ([^:@]+).*' '$1'
            echo any
        case netns
            ip netns list 2>/dev/null | string replace -r ' .*' ''
        case conn
            # quietly: not root, no store, no connection: nothing offered
            set -l extra
            set -l ns (__hs_opt_value --netns); and set extra --netns $ns
            set -l sd (__hs_opt_value --state-dir); and set -a extra --state-dir $sd
            timeout 5 $__hs_t_bin ls --json --no-probe $extra </dev/null 2>/dev/null | string replace -rf '^\{"type":"conn","id":"([^"]*)".*' '$1'
        case opt
            set -l cur (commandline -ct | string replace -r '^--opt=' '')
            set -l head (string match -r '^.*,' -- $cur)
            for v in $__hs_t_vals_opt
                # after a comma one kind each: the default list only as the first item
                test -n "$head"; and string match -q -- '*,*' $v; and continue
                echo $head$v
            end
        case '*'
            set -l var __hs_t_vals_$argv[1]
            set -q $var; and printf '%s\n' $$var
    end
end

function __hs_load_table
    set -g __hs_t_bin hs
    set -g __hs_t_cmds
    set -g __hs_t_required
    set -g __hs_t_optional
    complete -c hs -e
    complete -c hs -f
    for line in (command hs --complete-table 2>/dev/null)
        set -l f (string split \t -- $line)
        switch $f[1]
            case cmd
                set -a __hs_t_cmds $f[2]
                complete -c hs -n "__hs_using -" -a $f[2] -d $f[4]
                switch $f[3]
                    case conn
                        complete -c hs -n "__hs_first_arg $f[2]" -a "(__hs_values conn)"
                    case file
                        complete -c hs -n "__hs_first_arg $f[2]" -F
                end
            case opt
                string match -q 'alias:*' -- $f[6]; and continue
                set -l cmds (string split , -- $f[5])
                test "$f[5]" = '*'; and set cmds ANY
                set -l spec
                if string match -q -- '--*' $f[2]
                    set spec -l (string sub -s 3 -- $f[2])
                else
                    set spec -s (string sub -s 2 -- $f[2])
                end
                switch $f[3]
                    case required
                        set -a __hs_t_required $f[2]
                        switch $f[4]
                            case file dir
                                set -a spec -r -F
                            case number seconds text hex -
                                set -a spec -x
                            case '*'
                                set -a spec -x -a "(__hs_values $f[4])"
                        end
                    case optional
                        set -a __hs_t_optional $f[2]
                        set -g __hs_t_kind_(string replace -a -- - _ (string trim -l -c - -- $f[2])) $f[4]
                        set -a spec -a "(__hs_values $f[4])"
                end
                complete -c hs -n "__hs_using $cmds" $spec -d $f[6]
            case val
                set -g __hs_t_vals_$f[2] $f[3..-1]
        end
    end
    complete -c hs -n "__hs_first_arg help" -a "(string match -v help -- \$__hs_t_cmds)"
end
__hs_load_table
