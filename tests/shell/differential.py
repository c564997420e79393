#!/usr/bin/env python3
"""Differential tests for `wasmcap sh`: each script of the corpus runs twice on identical copies
of a test tree,
  wasmcap sh --dir TREE::/work -c SCRIPT        (tools from the coreutils bundle, cwd /work)
  bash -c SCRIPT                                (GNU tools, cwd TREE, LC_ALL=C)
and stdout, the exit status, the stderr class (empty or not) and the resulting tree must agree.
Scripts print no absolute paths (the two runs see different roots). The documented differences
(docs/shell.md "Differences from bash") are excluded by not putting them in the corpus: every
script here must agree exactly.

Usage: differential.py --wasmcap build/bin/wasmcap --bundles build/bundles
"""
import os
import subprocess
import sys
import tempfile

import shell_env

GNU_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}

REGEX_CASES = r"""t() { [[ $1 =~ $2 ]]; r=$?; printf '%s|%s|%s:' "$1" "$2" "$r"; for g in "${BASH_REMATCH[@]}"; do printf '[%s]' "$g"; done; echo; }
t abc '(b)(x)?c'
t xabcd '(a|ab)(c|bcd)(d*)'
t 'foo=bar baz=qux' '([a-z]+)=([a-z]+)'
t '2026-11-25' '^([0-9]{4})-([0-9]{2})-([0-9]{2})$'
t 'v1.22.3' '^v([0-9]+)\.([0-9]+)\.([0-9]+)$'
t 'a\b' '[\]'
t 'x]y' '[]]'
t ']x' '[^]]'
t 'a-b' '[a-]+'
t 'aaaa' 'a{,3}'
t 'aaaa' 'a{2,}'
t 'ab_c d' '\w+'
t 'ab cd' '\S+$'
t 'hello world' '\bw'
t 'd' '\d'
t 'a)' ')'
t 'xyz' '()'
t 'ab' '(|a)b'
t 'aaa' 'a**'
t 'aaa' 'a+?'
t 'xaa' 'a{1}{2}'
t 'abab' '(ab)*'
t 'abab' '(a|b)+'
t 'ABC' 'abc'
t 'key: value' '^([^:]+):[[:space:]]*(.*)$'
t 'path/to/file.txt' '([^/]+)\.([a-z]+)$'
t 'aXb' 'a[[:upper:]]b'
t 'a.b' 'a\.b'
t 'a+b' 'a\+b'
t '' '^$'
t 'abc' '$'
t 'abc' 'c$'
t 'a{b' 'a\{b'
t 'abcabc' '(abc){2}'
t 'xyyz' 'y*'
t 'xyyz' 'y+'
t 'aaab' '(a*)(a*)b'
t 'abcd' '(a(b)?)+'
t 'abcd' '((a)|b)+'
shopt -s nocasematch; t ABC 'abc'; t 'Hello' '^h(E)llo$'
"""

# Parameter expansions inside "...": the word of - + = ? is read as in double quotes (single
# quotes are literal, a backslash escapes only $ ` " \ }), a pattern's quotes still quote;
# "${*:-w}" tests the value joined by IFS's first character; ${x///r}'s pattern starts with '/';
# an assignment's ${u-w} expands w's tildes after ':' too.
EXPANSION_CASES = r"""p() { printf '[%s]' "$@"; echo; }
var='a b c'; foo='a b c d'
p "${Unset:-'b'}" "${Unset:-'$var'}" "${undef-'c  d'}" ${undef-'c  d'}
p "${foo%'c d'}" "${foo%'c  d'}" "${foo//'c d'/'z'}"
p "${var-a\nb}" "${undef:-c\nd}" "${var:+e\nf}"
p "${undef-\$}" "${undef-\(}" "${undef-\z}" "${undef-\"}" "${undef-\`}" "${undef-\\}" "${undef-\e}"
p "${var-}}" "${undef-\}}" "${undef-'}'}" "${undef-"}"}" "${undef-"a b" c}" "${undef:-~}"
p "${undef:-$(echo 'x  y')}" "${undef=' q '}" "$undef"
set -- "" ""; IFS=; p "${*:-m}" ${*:-m} "${@:-m}" "${*:+p}" "${*-m}"; a=("" ""); p "${a[*]:-m}" "${a[@]:-m}"
IFS=:; p "${*:-m}" "${*:+p}"; unset IFS
x=a/b; p ${x///c} ${x/#/c} ${x/%/c} ${x/#//c} ${x////c} "${x////}" "${x////'/'}"
x='slash / brace } hi'; p ${x///}; H=/foo/bar/baz; p ${H////\\/} ${H//'/'/\\/} "${H////\\/}"
HOME=/home/bar; x=~:${undef-~:~}; y=${undef:-a:~/b}; z="${u-~:~}"; export w=${u-:~}; p $x $y $z $w
"""

CORPUS = [
    "echo hello world",
    "timeout 0.2 sleep 5; echo $?; timeout --preserve-status 0.2 sleep 5; echo $?",
    "timeout 5 sh -c 'exit 3'; echo $?; echo a b | timeout 5 xargs echo; timeout 0 echo zero",
    "timeout 0.2 sh -c 'sleep 5; echo after'; echo $?",
    "timeout 1x true; echo $?",
    # process substitution <(list): tools, builtins, redirections, functions, several at once
    "comm -12 <(sort a.txt) <(sort b.txt | tr ' ' '\\n' | sort); paste <(seq 3) <(seq 4 6) <(echo x)",
    "while read -r w n; do echo \"$n:$w\"; done < <(grep foo a.txt); mapfile -t l < <(ls sub); echo ${#l[@]}",
    "f() { wc -l < \"$1\"; cat \"$2\"; }; f <(cat a.txt b.txt) <(echo two); read v < <(echo val); echo $v",
    "echo x<(true) <(true)y; cat <(echo a) - <(echo c) <<< b; echo $(cat <(echo nested))",
    "head -n 2 <(yes); head -n 1 <(while :; do echo loop; done); echo $?; sort -r <(cat sub/*.txt)",
    "echo '<(quoted)' \"<(q)\"; cat < <(grep -c foo a.txt) > n.txt; cat n.txt",
    "while :; do echo y; done | head -n 1; echo ${PIPESTATUS[@]}; { echo a; echo b; } | true; echo $?",
    "[[ -e <(true) ]] && echo e; [ -p <(true) ] && echo p; test -r <(:) && [ -w <(:) ] && echo rw; [ -e /dev/fd/9 ] || echo closed; [ -e /dev/fd/x ] || echo bad; exec 3<a.txt; [ -f /dev/fd/3 ] && [ -s /dev/fd/3 ] && echo f3",
    "source <(echo 'echo hi; v=1'); echo v=$v; . <(echo 'echo dot $1') arg; cat < /dev/fd/x; echo st=$?; . /dev/fd/9; echo st=$?",
    # (-l/--login: bash would read the reference machine's profile; NestedArgv tests them)
    "bash --noprofile --norc -c 'echo norc $0'; bash --norc -c 'echo $1' x y; bash --rcfile /dev/null -c 'exit 3'; echo $?",
    # shopt globstar, dotglob, nullglob, nocaseglob
    "shopt -s globstar; echo **; echo **/*.txt; echo sub/**/; echo **/; echo sub/** **/e.txt; ln -s sub l; echo **/d.txt; echo l/**",
    # `**/**` is one `**`, but `DIR/**/**` starts with DIR itself where `DIR/**` starts with DIR/
    "shopt -s globstar; echo sub/**/**; echo sub/**/**/**; echo sub/**/**/; echo **/**; echo sub/**/**/*.txt",
    "touch .h sub/.g; shopt -s globstar dotglob; echo **/.*; echo * sub/*; shopt -u dotglob; echo * **/.g; shopt -p globstar dotglob",
    "shopt -s nullglob; for f in *.nope; do echo $f; done; echo x[z]* y; a=(*.nope sub/*.txt); echo ${#a[@]}; shopt -s nocaseglob; echo A*.TXT SUB/*",
    "echo a; echo b; false; echo $?",
    "true && echo yes || echo no",
    "false && echo yes || echo no",
    "false || false || echo third",
    "X=value; echo $X \"$X\" '$X'",
    "X='a   b'; echo $X; echo \"$X\"",
    "echo a\\ b \"c\\\"d\" 'e\\f'",
    "echo *.txt",
    "echo sub/*.txt; echo nomatch*",
    "echo '*.txt' \"*.txt\"",
    "ls",
    "ls sub | wc -l",
    "cat a.txt | grep foo | wc -l",
    "grep -n foo a.txt b.txt",
    "grep -c o a.txt > count.txt; cat count.txt",
    "echo first > out.txt; echo second >> out.txt; cat out.txt",
    "cat < a.txt | head -n 2",
    "sed s/foo/FOO/g a.txt | tail -n 2",
    "mkdir -p new/dir && echo x > new/dir/f && ls new/dir",
    "cd sub && pwd | sed 's|.*/||' && cat c.txt",
    "cd sub; cd ..; ls | head -n 1",
    # $(< FILE): the file's contents (trailing newlines removed), a missing one is status 1;
    # $? after a substitution in the same command is its status (bash, not dash)
    "x=$(< a.txt); echo \"[$x]\"; echo \"$(< missing)\" $?; echo \"$(false)\" $?; "
    "echo \"$(< <(printf 'p\\n\\n'))|$( < sub/c.txt )\"; n=$(< a.txt wc -l); echo $n",
    # >(LIST): tee into two lists whose output is tee's stdout before its redirection (the
    # pipe to sort, which ends when they have: no race in either shell)
    "seq 3 | tee >(sed 's/^/a/') >(wc -l) > /dev/null | sort; "
    "echo x >(:) 2>(:) | sed 's/[0-9]//g'",
    # pushd/popd/dirs ($HOME: the tree, so that dirs shows ~ and no absolute path)
    "HOME=$PWD; mkdir -p d/e d/f; pushd d; pushd e; dirs; dirs -v; dirs -p; dirs +1; dirs -0; "
    "pushd; pwd | sed 's|.*/||'; pushd +2; pushd -1; pushd -n ../f; popd; popd -n; dirs; "
    "popd +1; popd; popd; echo $?; pushd; echo $?; pushd nope; echo $?; pushd -x; echo $?; "
    "dirs +9; echo $?; popd z; echo $?; dirs -c; dirs; pushd d >/dev/null; pushd e; popd +0; "
    "echo ~+ ~- ~0 ~1 ~-1 ~+1 ~3 ~+ | sed \"s|$HOME|H|g\"; (pushd ~1); dirs; x=$(popd); dirs",
    "test -f a.txt && echo file; test -d sub && echo dir; [ -e missing ] || echo missing",
    "[ 3 -gt 2 ] && [ a != b ] && echo ok",
    "nosuchcommand; echo $?",
    "cat missing.txt; echo $?",
    "cat missing.txt 2>&1 | wc -l",
    "ls missing 2>/dev/null; echo $?",
    "rm a.txt && ls",
    "cp a.txt copy.txt && mv copy.txt moved.txt && cat moved.txt",
    "find sub -name '*.txt' | sort_is_missing_so_head | head -n 5; echo $?",
    "grep -r foo sub | wc -l",
    "exit 7",
    "echo before; exit 3; echo after",
    "wc -l a.txt b.txt",
    "head -n 1 a.txt; tail -n 1 b.txt",
    "cat a.txt | sed -n 2p",
    # the text tools (guest/coreutils: sort.c, textfilters.c, cuttr.c) in pipelines
    "printf 'b\\na\\n' | sort | uniq -c",
    "printf 'b\\na\\nb\\n' | sort | uniq -c | sort -rn",
    "sort -r a.txt | head -n 3",
    "cat a.txt b.txt | tr a-z A-Z | sort -u",
    "cut -c1-3 a.txt | sort | uniq -d; echo $?",
    "sort -k2 a.txt b.txt > sorted.txt && cat sorted.txt",
    "yes | head -n 3",
    "yes ab | head -c 7; echo",
    "seq 5 | paste -sd+",
    "echo hello | tee out.txt | tr a-z A-Z; cat out.txt",
    "basename /a/b/c.txt .txt; dirname /a/b/c.txt",
    "seq 3 | sha256sum; printf abc | md5sum; printf abc | base64 | base64 -d",
    "cat a.txt | rev | nl -ba | fold -w 8 | expand",
    "comm -12 a.txt b.txt; date -u -d @0 +%F",
    # command substitution
    "echo $(echo hello)",
    "N=$(grep -c foo a.txt); echo count=$N",
    "echo \"$(cat a.txt | head -n 2)\"",
    "echo $(cat a.txt | head -n 2)",
    "echo [$(echo '  a   b  ')] [\"$(echo '  a   b  ')\"]",
    "echo \"$(echo \"nested $(echo deep)\")\"",
    "X=$(false); echo $?; X=$(grep nomatch a.txt) || echo none",
    "echo $(false); echo $?",
    "cat $(echo a.txt) | wc -l",
    "echo $(ls sub)",
    "echo x$(echo)y \"$(printf_missing 2>/dev/null)\"; echo $?",
    "echo $(cat missing.txt); echo $?",
    "D=$(echo sub); cd $D && pwd | sed 's|.*/||'",
    "echo $(cd sub; ls | head -n 1) $(ls | head -n 1)",
    "echo $(exit 3); X=$(exit 4); echo $?",
    "wc -l $(ls sub/*.txt | head -n 1)",
    "echo data > $(echo out.txt); cat out.txt",
    "echo \"$(echo a; echo; echo b; echo; echo)|\"",
    # the language: compound commands, functions, redirections, here-documents, expansions
    'if false; then echo a; elif true; then echo b; else echo c; fi',
    'if false; then echo a; fi; echo st=$?',
    'i=0; while [ $i != 0xxx ]; do i=${i}x; echo -n "$i "; done; echo',
    'until true; do echo never; done; echo until=$?',
    'for w in a "b c" d; do echo "[$w]"; done',
    'set -- p "q r"; for w; do echo "<$w>"; done',
    'for i in 1 2 3; do for j in a b c; do [ $j = b ] && continue 2; [ $i = 3 ] && break 2; echo $i$j; done; done',
    'case hello.txt in *.md) echo md;; *.txt|*.text) echo txt;; *) echo other;; esac',
    'case x in x) echo one;& y) echo two;; z) echo three;; esac',
    'case ab in a*) echo A;;& *b) echo B;; *) echo C;; esac',
    'case "*" in \'*\') echo star;; esac; case a in "*") echo no;; *) echo any;; esac',
    'x=outer; ( x=inner; echo $x; exit 3 ); echo "$x $?"',
    'f() { echo "f:$#:$1:$2"; return 4; echo no; }; f a "b c"; echo ret=$?',
    'g() { local x=local; echo $x; h; }; h() { echo h sees $x; }; g; echo after $x',
    'function k { echo k "$@"; }; k 1 2',
    'cnt() { [ "$1" = xxxx ] && return 0; cnt "${1}x"; echo "$1"; }; cnt ""',
    '! false; echo neg=$?; ! true; echo neg=$?',
    'true && false || echo or=$?',
    'echo a > f1; echo b >> f1; echo c >| f2; cat f1 f2',
    '{ echo out; echo err >&2; } 2>&1 > f3 | cat; cat f3',
    'echo both &> f4; cat f4; cat < f4 > f5; cat 0<f5',
    'exec_fd() { cat <&3; }; exec_fd 3< f1',
    'cat <<EOF\n home $x ${x:-d} $(echo sub) \\$ \\\\ \\` "q"\nEOF',
    "cat <<'EOF'\n lit $x $(echo no)\nEOF",
    'cat <<-EOF\n\ttab stripped\n\tEOF',
    'cat <<< "here $x"',
    'cat <> f1',
    'while true; do echo loop; break; done > f6; cat f6',
    'for i in 1 2; do echo $i; done | cat',
    'if true; then echo redirected; fi > f7; cat f7',
    'echo ${u-unset} ${u:-empty} "${e=assigned}" $e ${x:+alt} ${u+no} ${#x}',
    'v=a.b.c; echo ${v#*.} ${v##*.} ${v%.*} ${v%%.*} ${v/./-} ${v//./-} ${v/#a/A} ${v/%c/C} ${v:2} ${v:1:3} ${v: -2}',
    'set -- a b c d; shift 2; echo "$@"; set --; echo "[$@]" "[$*]"; for a in "$@"; do echo never; done',
    'IFS=: ; p=a:b::c; for w in $p; do echo "<$w>"; done; unset IFS',
    'q="  a   b  "; for w in $q; do echo "{$w}"; done',
    'echo `echo back` "`echo "in q"`"',
    "echo $'a\\tb\\x41\\n'end",
    "eval 'echo from eval; ev=1'; echo ev=$ev",
    'sleep_job() { echo bg; }; sleep_job & wait; echo waited',
    '(exit 7) & wait $!; echo job=$?',
    'echo $# "$1"; set -- a "b c"; echo $# "$1" "$2"',
    'f() { local x=1; g; }; g() { echo g=$x; x=2; }; x=0; f; echo $x',
    'for i in a b; do case $i in a) continue;; esac; echo $i; done; echo end',
    '{ echo a; ls missing; } > out.txt 2>&1; echo st=$?; wc -l < out.txt',
    'while read_missing 2>/dev/null; do :; done; echo $?; until true; do :; done; echo $?',
    'echo $((1+2*3)) $(( (1+2)*3 )) $((7/2)) $((2**10)) $((x=5)) $x; i=3; echo $((i++)) $i',
    'for ((i=0;i<3;i++)); do echo $i; done; ((x=2+3)); echo $? $x; let y=1+2 z=0; echo $? $y',
    'echo $((1/0)); echo not-reached',
    "printf '%s-%5.2f|%x|%q\\n' a 3.14159 255 'a b'; printf -v v '%03d' 7; echo $v",
    "echo -e 'a\\tb' -n; echo -ne 'c\\n'; echo -E 'd\\n'",
    'while read -r a b; do echo "[$a|$b]"; done < a.txt',
    'IFS=: read x y <<< "1:2:3"; echo $x $y; [ -f a.txt -a -d sub ] && echo both',
    'test -s a.txt; echo $?; [ ! -e nope ] && echo absent; [ 2 -gt 10 ]; echo $?',
    'echo {a,b}{1..3} x{,y}z {05..8}',
    # [[ ]]
    "[[ -f a.txt && -d sub && ! -e nope ]] && echo files; [[ a.txt == *.txt ]]; echo $?",
    "for f in *.txt; do [[ $f =~ ^([a-z])\\.txt$ ]] && echo $BASH_REMATCH; done",
    "x='a b'; [[ $x == 'a b' && ( 3 -gt 2 || 0 -eq 1 ) ]] && echo ok; [[ b < a ]]; echo $?",
    # =~ (src/shell/regex.h: POSIX ERE read as glibc does, matched by RE2) and BASH_REMATCH's groups
    REGEX_CASES,
    EXPANSION_CASES,
    # a function's NAME=value prefixes are a frame around the call: unset reveals what they shadow
    'f() { echo "x=$x"; x=mut; echo "x=$x"; unset x; echo "x=$x"; g; }; g() { echo "g:$x"; }; x=global; x=temp f; echo "x=$x"',
    'f() { local y=l; unset x y; echo "[$x|$y]"; }; x=g; x=t y=t f; echo "[$x|$y]"',
    # $LINENO in a for (( )) condition is the loop's line
    'echo one\nfor (( i = 0; i < $LINENO; i++ )); do\n  echo $i\ndone\nfor ((j=0; j<1; j++)); do :; done; echo $LINENO',
    # mapfile / readarray from files, tools and pipelines (every option: shell_mapfile_test.cc)
    'mapfile -t a < a.txt; echo ${#a[@]} "${a[1]}" "${a[@]: -1}"; readarray -s 1 -n 2 b < a.txt; printf "[%s]" "${b[@]}"; echo',
    'seq 10 | { mapfile -t -O 3 -c 4 -C \'echo cb\' n; echo "${!n[@]}" "${n[@]}"; }; ls sub | { mapfile -t l; echo "${l[@]}"; }',
    'grep -r foo . | sort | { readarray -t hits; echo ${#hits[@]}; }; { mapfile -n 1 x; mapfile y; } < b.txt; echo "$x|${y[0]}"',
    'yes | head -n 3 | mapfile -t; echo ${#MAPFILE[@]}; printf "a\\0b\\0" | { mapfile -d "" -t z; echo ${#z[@]} ${z[1]}; }',
    's=abc; a=(1 2); echo ${s: } ${s:0} "[${s::}]" "[${a[@]::}]" "[${s:1:}]"; echo ${s:}; echo not-reached',
]


def build_tree(root):
    def w(rel, data):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(data)
    w("a.txt", "foo one\nbar two\nfoo three\nbaz\n")
    w("b.txt", "no foo here\nlast line\n")
    w("sub/c.txt", "foo\nsub line\n")
    w("sub/d.txt", "d\n")
    w("sub/deep/e.txt", "foo deep\n")


def snapshot(root):
    out = {}
    for dp, dns, fns in os.walk(root):
        for n in sorted(dns + fns):
            p = os.path.join(dp, n)
            rel = os.path.relpath(p, root)
            out[rel] = open(p, "rb").read() if os.path.isfile(p) else None
    return out


def main():
    a = shell_env.parse_args(__doc__)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        env = shell_env.install_coreutils(a, tmp)
        if env is None:
            return 0 if not os.path.exists(os.path.join(a.bundles, "coreutils.wcb")) else 1
        for i, script in enumerate(CORPUS):
            ours, theirs = os.path.join(tmp, "w%d" % i), os.path.join(tmp, "g%d" % i)
            build_tree(ours)
            build_tree(theirs)
            w = subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ours + "::/work",
                                "-c", script], env=env, capture_output=True, timeout=60,
                               stdin=subprocess.DEVNULL)
            g = subprocess.run(["bash", "-c", script], cwd=theirs, env=GNU_ENV,
                               capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
            problems = []
            if w.stdout != g.stdout:
                problems.append("stdout\n  wasmcap: %r\n  bash:    %r" % (w.stdout, g.stdout))
            if w.returncode != g.returncode:
                problems.append("exit %d != %d" % (w.returncode, g.returncode))
            if bool(w.stderr) != bool(g.stderr):
                problems.append("stderr class\n  wasmcap: %r\n  bash:    %r" % (w.stderr, g.stderr))
            if snapshot(ours) != snapshot(theirs):
                problems.append("trees differ")
            if problems:
                failures += 1
                print("FAIL %r:\n  %s" % (script, "\n  ".join(problems)))
            else:
                print("ok   %r" % script)
    print("%d/%d scripts agree" % (len(CORPUS) - failures, len(CORPUS)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
