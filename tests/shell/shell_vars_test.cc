// `wasmcap sh`, variables: indexed arrays, declare/typeset/local/readonly/export attributes,
// the expansions that read them (${!x}, ${!pre*}, ${x^}, ${x@Q}, slices), the dynamic variables
// ($LINENO, $_, $SECONDS, $RANDOM) — expected outputs are bash 5.2's — and the bound every
// array element meets: the session's memory budget.
#include <gtest/gtest.h>

#include <string>

#include "bash_oracle.h"
#include "shell_fixture.h"

namespace {

using namespace wasmcap;
using shell::testing::ShellFixture;

TEST_F(ShellFixture, IndexedArrays) {
  auto r = run(
      "a=(x \"y z\" '' w); echo ${#a[@]} \"${a[1]}\" \"${a[@]:1:2}\" ${a[-1]}\n"
      "printf '<%s>' \"${a[@]}\"; echo; printf '<%s>' ${a[@]}; echo; printf '<%s>' \"${a[*]}\"; "
      "echo\n"
      "IFS=:; printf '<%s>' \"${a[*]}\"; echo; unset IFS\n"
      "a[7]=seven; echo ${!a[@]}; unset 'a[1]'; echo ${!a[*]} ${#a[@]}\n"
      "a+=(eight nine); echo ${!a[@]} \"${a[@]: -2}\"\n"
      "b=(\"${a[@]}\"); echo ${#b[@]} $b\n"
      "i=2; c=(); c[i+1]=three; c[$i]=two; echo \"${c[@]}\" $((c[2] = 5, c[2] * 2)) ${c[2]}\n"
      "s=scalar; s[1]=one; echo \"${s[@]}\" ${#s[@]}\n"
      "( c[0]=sub; echo in ${c[@]} ); echo out ${c[@]}\n"
      "f() { local -a l=(p q); l+=(r); echo \"${l[@]}\"; declare g=local; echo $g; }; f; "
      "echo \"${l[@]-unset} ${g-unset}\"\n"
      "read -a r <<< \"  one two   three \"; echo ${#r[@]} ${r[2]}\n"
      "declare -p a c\n"
      "x=(1 2 3); echo $(( x[0] + x[1] + x[2] )) ${x[@]/2/two} ${x[@]#1}\n"
      "echo ${#a[7]}\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "4 y z y z  w\n<x><y z><><w>\n<x><y><z><w>\n<x y z  w>\n<x:y z::w>\n0 1 2 3 7\n"
            "0 2 3 7 4\n0 2 3 7 8 9 eight nine\n6 x\ntwo three 10 5\nscalar one 2\n"
            "in sub 5 three\nout 5 three\np q r\nlocal\nunset unset\n3 three\n"
            "declare -a a=([0]=\"x\" [2]=\"\" [3]=\"w\" [7]=\"seven\" [8]=\"eight\" "
            "[9]=\"nine\")\ndeclare -a c=([2]=\"5\" [3]=\"three\")\n6 1 two 3 2 3\n5\n")
      << r.err;
}

TEST_F(ShellFixture, DeclareAttributesAndExpansions) {
  auto r = run(
      "declare -i n=2+3; n+=4; echo $n; n=x; echo n=$n\n"
      "declare -l lo=HeLLo; declare -u up=HeLLo; echo $lo $up\n"
      "declare -r -x rx=v; declare -p rx n lo\n"
      "export E=1; export -n E; declare -p E\n"
      "v=hello; echo ${v^} ${v^^} ${v,} ${v^^[lo]} \"${v@Q}\"; V=HELLO; echo ${V,,} ${V,}\n"
      "q=\"it's\"; echo ${q@Q}\n"
      "ref=v; echo ${!ref}; arr=(a b c); ref='arr[1]'; echo ${!ref}; ref='arr[@]'; echo ${!ref}\n"
      "prefix_a=1 prefix_b=2; echo ${!prefix_*}; printf '<%s>' \"${!prefix_@}\"; echo\n"
      "echo ${#v} ${v:1:2} ${v: -3} ${v:1+1} ${v:0:-1}\n"
      "echo $LINENO\n"
      "echo a b c; echo $_\n"
      "case $SECONDS in [0-9]*) echo seconds;; esac; [ \"$RANDOM\" -lt 32768 ] && echo random\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "9\nn=0\nhello HELLO\ndeclare -rx rx=\"v\"\ndeclare -i n=\"0\"\n"
            "declare -l lo=\"hello\"\ndeclare -- E=\"1\"\nHello HELLO hello heLLO 'hello'\n"
            "hello hELLO\n'it'\\''s'\nhello\nb\na b c\nprefix_a prefix_b\n"
            "<prefix_a><prefix_b>\n5 el llo llo hell\n10\na b c\nc\nseconds\nrandom\n")
      << r.err;
}

// Tildes in assignments (after '=' and each ':', in declarations too, in ${x:-~} unless
// quoted); $'\u...' escapes; lengths, slices and patterns by UTF-8 character unless the locale
// says bytes.
TEST_F(ShellFixture, TildesAndUtf8) {
  auto r = run(
      "HOME=/home/u; x=~/a:~:b~:~/c; echo $x; f() { local l=~/l; echo $l; }; f; readonly r=a:~; "
      "echo $r\n"
      "echo \"${undef:-~}\" ${undef:-~} ${undef:-~/z} \"~\"\n"
      "v=$'_\\u03bc_\\U0001F600'; echo ${#v} ${v:1:1} ${v: -1} ${v#?} ${v%?} $'\\cA'\n"
      "LC_ALL=C; echo ${#v}; unset LC_ALL\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "/home/u/a:/home/u:b~:/home/u/c\n/home/u/l\na:/home/u\n~ /home/u /home/u/z ~\n"
            "4 \u03bc \U0001F600 \u03bc_\U0001F600 _\u03bc_ \x01\n8\n")
      << r.err;
}

// Tilde expansion after brace expansion (`{a,~}/b`: the word the braces made starts with ~),
// and in the patterns of ${x#~} ${x%~} ${x/~/r} and the replacement of ${x/p/~}, inside "..."
// too, but not after the anchors of ${x/#p/r} ${x/%p/r}. Outputs as bash 5.2's.
TEST_F(ShellFixture, TildesAfterBracesAndInPatterns) {
  auto r = run(
      "HOME=/h; p=/h/x; echo ${p/#~/Q} ${p/%~/Q} ${p/~/Q} \"${p/~/Q}\" ${p//~/Q}\n"
      "x=foo; echo ${x/o/~} \"${x/o/~}\" ${x/#f/~} \"${x/#f/~}\" ${x/o/~/a}\n"
      "echo \"${p#~}\" ${p#~} \"${p%~}\" \"${x:-~}\"\n"
      "echo {foo~,~}/bar ~{/src,/a} {~,a}; for x in {foo~,~}/bar; do echo -- $x; done\n"
      "a=({foo~,~}/bar); echo \"${a[@]}\"; echo {\\~,~}/a \"{~,a}\" ~{a,b} {~x,~/y} {~,~}$p\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "/h/x /h/x Q/x Q/x Q/x\nf/ho f/ho /hoo /hoo f/h/ao\n/x /x /h/x foo\n"
            "foo~/bar /h/bar /h/src /h/a /h a\n-- foo~/bar\n-- /h/bar\nfoo~/bar /h/bar\n"
            "~/a /h/a {~,a} ~a ~b ~x /h/y ~/h/x ~/h/x\n")
      << r.err;
}

// ~NAME looks the name up in the sandbox's user database: root (home /root) and the sandbox's
// user (shell.user: home $HOME), in a nested shell too; any other name stays as written, as
// bash leaves an unknown user's. An argument that looks like an assignment has its value's
// tildes expanded (bash outside posix mode: `make PREFIX=~/x`). Outputs as bash 5.2's.
TEST_F(ShellFixture, TildeUserNames) {
  auto o = opts();
  o.user = "agent";
  auto r = run(
      "export HOME=/home/agent; echo ~root ~root/x ~agent/y ~nobody x=~root:~agent\n"
      "p=/root/a; echo ${p/#~root/R} \"${p#~root}\"; sh -c 'echo ~agent ~root'\n",
      o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "/root /root/x /home/agent/y ~nobody x=/root:/home/agent\n/root/a /a\n/home/agent /root\n")
      << r.err;
  auto nameless = run("HOME=/h; echo ~root ~agent\n");  // no shell.user: only root
  EXPECT_EQ(nameless.out, "/root ~agent\n") << nameless.err;
  auto args = run(
      "HOME=/h; echo a=~ a+=~/x a[1]=~ b=x:~:~root 1a=~ --p=~ \"a\"=~ a=\"~\" a=\\~ a=~x a[=~\n");
  EXPECT_EQ(args.out, "a=/h a+=/h/x a[1]=/h b=x:/h:/root 1a=~ --p=~ a=~ a=~ a=~ a=~x a[=~\n")
      << args.err;
}

// set: its variables quoted to read back, -a (allexport), -o / +o listings, -v in $-, `set -`
// and `set +`; an option bash has but this shell does not is refused, never ignored.
TEST_F(ShellFixture, SetBuiltin) {
  auto r = run(
      "_w=$'a\\tb' _s='x y' _p=plain; set > vars; while read -r l; do case $l in _[wsp]=*) "
      "echo \"$l\";; esac; done < vars\n"
      "set -a; A1=one; set +a; A2=two; declare -p A1 A2\n"
      "set -o > opts; while read -r l; do case $l in allexport*|noexec*|xtrace*) echo \"$l\";; "
      "esac; done < opts\n"
      "set -v; case $- in *v*) echo v-on;; esac; set - p q; echo \"$@\"; case $- in *v*) echo "
      "still;; esac\n"
      "set + ; echo \"$@\"; set --; echo \"[$@]\"\n"
      "set -k; echo st=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "_p=plain\n_s='x y'\n_w=$'a\\tb'\ndeclare -x A1=\"one\"\ndeclare -- A2=\"two\"\n"
            "allexport      \toff\nnoexec         \toff\nxtrace         \toff\nv-on\np q\np q\n[]\n"
            "st=2\n")
      << r.err;
  EXPECT_NE(r.err.find("set: -k: this option is not supported"), std::string::npos) << r.err;
}

// A function's NAME=value prefix is exported while it runs (its tools and nested shells see
// it); unsetting a caller's local reveals the value it shadows (the running function's own
// local just becomes unset); UID, EUID and PPID are readonly (UID's value: SandboxIds).
TEST_F(ShellFixture, ScopesAndReadonlyIds) {
  auto r = run(
      "f() { sh -c 'echo ${T-unset}'; }; T=tmp f; sh -c 'echo ${T-unset}'\n"
      "x=global; g() { local x=local; unset x; echo ${x-default}; x=set-in-g; }; g; echo $x\n"
      "h() { unset y; echo ${y-default}; y=set-in-h; }; k() { local y=local; h; echo k:$y; }; "
      "y=global; k; echo $y\n"
      "UID=0 true; echo st=$? ${UID-unset}\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "tmp\nunset\ndefault\nglobal\nglobal\nk:set-in-h\nset-in-h\nst=1 1000\n")
      << r.err;
  EXPECT_NE(r.err.find("UID: readonly variable"), std::string::npos) << r.err;
}

// A readonly variable refuses assignment (the command fails with status 1, as bash in a
// command list it goes on), unset, `local` over it, and an array's element assignment.
TEST_F(ShellFixture, ReadonlyVariables) {
  auto r = run(
      "readonly r=1\nr=2\necho st=$? r=$r\nunset r; echo st=$? r=$r\n"
      "readonly -a ra=(1 2); ra[0]=9; echo st=$? ${ra[@]}; ra+=(3); echo st=$? ${ra[@]}\n"
      "(( r = 5 )); echo st=$? r=$r\n"
      "declare -p r ra\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "st=1 r=1\nst=1 r=1\nst=1 1 2\nst=1 1 2\nst=1 r=1\ndeclare -r r=\"1\"\n"
            "declare -ar ra=([0]=\"1\" [1]=\"2\")\n")
      << r.err;
  EXPECT_NE(r.err.find("r: readonly variable"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unset: r: cannot unset: readonly variable"), std::string::npos) << r.err;
}

// $$, $BASHPID and $PPID are the sandbox's numbers, never the host's: the session's shell is 1
// (its parent 0), each subshell and nested shell takes the next; $UID and $EUID are 1000,
// $OSTYPE "wasi" (unless the environment gives one); $_ as bash sets it after assignments.
TEST_F(ShellFixture, SandboxIdsAndSpecialVariables) {
  auto r = run(
      "echo $$ $BASHPID $PPID $UID $EUID $OSTYPE\n"
      "( echo $$ $BASHPID ); echo $(echo $$ $BASHPID)\n"
      "sh -c 'echo $$ $BASHPID $PPID $UID; (echo $BASHPID)'; OSTYPE=x sh -c 'echo $OSTYPE'\n"
      ": foo; x=1; echo \"[$_]\"; declare s=bar; echo \"[$_]\"; a=(1 2); echo \"[$_]\"\n"
      "declare a=(1 2); echo \"[$_]\"; declare -g d=(1); echo \"[$_]\"; declare e+=(3); "
      "echo \"[$_]\"\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "1 1 0 1000 1000 wasi\n1 2\n1 3\n4 4 1 1000\n5\nx\n"
            "[]\n[s=bar]\n[]\n[a]\n[d]\n[e]\n")
      << r.err;
}

// $RANDOM follows the session's random pin: the same numbers on every run of a pinned seed
// (subshells and nested shells draw from the same stream), others for another seed.
TEST_F(ShellFixture, RandomFollowsTheRandomPin) {
  auto o = opts();
  o.random.kind = RandomSource::Kind::kSeed;
  o.random.seed = 5;
  const std::string script =
      "echo $RANDOM $RANDOM; (echo $RANDOM); sh -c 'echo $RANDOM'; "
      "for i in 1 2 3 4 5 6 7 8; do [ $RANDOM -lt 32768 ] || echo out of range; done\n";
  auto a = run(script, o);
  auto b = run(script, o);
  ASSERT_TRUE(a.result && b.result);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out.find("out of range"), std::string::npos) << a.out;
  o.random.seed = 6;
  auto c = run(script, o);
  ASSERT_TRUE(c.result);
  EXPECT_NE(a.out, c.out);
}

// A nested shell takes set's options on its command line (`sh -eu`, `-o pipefail`, `+x`) and
// refuses the others by name.
TEST_F(ShellFixture, NestedShellsTakeSetOptions) {
  auto r = run(
      "sh -u -c 'echo prev=$_; echo $nope; echo not here'; echo st=$?\n"
      "sh -e -c 'false; echo not here'; echo st=$?\n"
      "sh -o pipefail -c 'false | true'; echo st=$?; sh +o pipefail -c 'false | true'; "
      "echo st=$?\n"
      "sh -x -c 'echo traced' 2>&1; sh -k -c 'echo no'; echo st=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "prev=\nst=127\nst=1\nst=1\nst=0\n+ echo traced\ntraced\nst=2\n") << r.err;
  EXPECT_NE(r.err.find("nope: unbound variable"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-k: option not supported (only -c, -s, -i, -l, --login, --norc, --noprofile, --rcfile and the options of set)"),
            std::string::npos)
      << r.err;
}

// Name references are refused by name, never run as something else.
TEST_F(ShellFixture, UnsupportedDeclarationsAreRefusedByName) {
  auto r = run("declare -n n=x; echo st=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=2\n");
  EXPECT_NE(r.err.find("name references are not supported"), std::string::npos) << r.err;
  auto p = run("echo ${x@Z}\n");
  ASSERT_FALSE(p.result);
  EXPECT_NE(p.result.error().message.find("not a supported transformation"), std::string::npos)
      << p.result.error().to_string();
}

// Associative arrays as bash 5.2 has them: keys are text (a subscript is expanded, never
// evaluated as arithmetic), listed in bash's order, declared, copied into subshells, localized,
// made readonly, read and written by arithmetic, unset by key (the key expanded as a subscript).
TEST_F(ShellFixture, AssociativeArrays) {
  auto r = run(
      "declare -A a=([b]=1 [a]=2 [c]=3 [foo]=x ['bar']=y); declare -p a; echo \"${!a[@]}\"\n"
      "a[zz]=1; unset 'a[b]'; echo ${!a[@]} / ${a[@]} / ${#a[@]} ${a[foo]} ${#a[foo]}\n"
      "k=foo; echo \"${a[$k]}\" ${a[nokey]-def} ${a[foo]+alt} ${a[1+1]-notarith}\n"
      "a[foo]+=more; echo ${a[foo]}; (( a[n] = 3 + 4 )); echo ${a[n]} $(( a[n] * 2 ))\n"
      "declare -A e; declare -p e; e=(); declare -p e; declare -A q=(x y z w); declare -p q\n"
      "f() { local -A l=([x]=1); l[y]=2; declare -p l; }; f; echo \"${l[@]-unset}\"\n"
      "x=sc; declare -A x; declare -p x; declare -a ia=(1); declare -A ia; echo st=$?\n"
      "declare -A d=(['k k']=v [\"\\$q\"]=2 [a=b]=3); declare -p d\n"
      "key='1],a[1'; declare -A u=(); u[\"$key\"]=foo; echo ${#u[@]} ${!u[@]}; "
      "unset -v 'u[\"$key\"]'; echo ${#u[@]}; unset 'u[none]'; echo st=$?\n"
      "( a[foo]=sub; echo in ${a[foo]} ); echo out ${a[foo]}\n"
      "readonly -A d; echo ${#d[@]}; declare -A d; echo ${#d[@]} ${d@a}\n"
      "a[\"\"]=1; echo st=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "declare -A a=([c]=\"3\" [b]=\"1\" [a]=\"2\" [foo]=\"x\" [bar]=\"y\" )\n"
            "c b a foo bar\n"
            "c a zz foo bar / 3 2 1 x y / 5 x 1\n"
            "x def alt notarith\n"
            "xmore\n7 14\n"
            "declare -A e\ndeclare -A e=()\ndeclare -A q=([z]=\"w\" [x]=\"y\" )\n"
            "declare -A l=([y]=\"2\" [x]=\"1\" )\nunset\n"
            "declare -A x=([0]=\"sc\" )\nst=1\n"
            "declare -A d=([a=b]=\"3\" [\"k k\"]=\"v\" [\"\\$q\"]=\"2\" )\n"
            "1 1],a[1\n0\nst=0\n"
            "in sub\nout xmore\n"
            "3\n3 Ar\n"
            "st=1\n")
      << r.err;
  EXPECT_NE(r.err.find("ia: cannot convert indexed to associative array"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("a[]: bad array subscript"), std::string::npos) << r.err;
}

// `[[ -v NAME[SUB] ]]` (an element of either kind of array; an associative array's SUB is the
// key) and ${a[@]@K} (key "value" pairs), with bash 5.2's outputs.
TEST_F(ShellFixture, ArrayElementsInTestsAndKeyValueTransform) {
  auto r = run(
      "declare -A d=([apple]=1 [\"a b\"]=2)\n"
      "[[ -v d[apple] ]] && echo 1; [[ -v d[nope] ]] || echo 2; [[ -v d[@] ]] && echo 3; k='a b'; [[ -v d[$k] ]] && echo 4\n"
      "a=(x '' z); [[ -v a[1] ]] && echo 5; [[ -v a[3] ]] || echo 6; [[ -v a[-1] ]] && echo 7; [[ -v a[@] ]] && echo 8; unset 'a[1]'; [ -v 'a[1]' ] || echo 9\n"
      "s=v; [[ -v s[0] ]] && echo 10; [[ -v s[1] ]] || echo 11; e=(); [[ -v e[@] ]] || echo 12; [[ -v a[-9] ]] || echo 13\n"
      "i=0; [[ -v a[i] ]] && echo 14\n"
      "a=(x \"y z\"); printf \"<%s>\" \"${a[@]@K}\"; echo; printf \"<%s>\" ${a[@]@K}; echo; declare -A m=([k]=v [j]=\"a b\" [\"x y\"]='$q'); printf \"<%s>\" \"${m[@]@K}\"; echo; printf \"<%s>\" \"${m[*]@K}\"; echo; printf \"<%s>\" \"${a[1]@K}\" \"${m[k]@K}\"; echo; e=(); printf \"<%s>\" \"${e[@]@K}\"; echo; s=q; printf \"<%s>\" \"${s[@]@K}\"; echo; printf \"<%s>\" \"${u[@]@K}\"; echo\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "1\n"
      "2\n"
      "4\n"
      "5\n"
      "6\n"
      "7\n"
      "8\n"
      "9\n"
      "10\n"
      "11\n"
      "12\n"
      "13\n"
      "14\n"
      "<0 \"x\" 1 \"y z\">\n"
      "<0><\"x\"><1><\"y><z\">\n"
      "<k \"v\" j \"a b\" \"x y\" \"\\$q\" >\n"
      "<k \"v\" j \"a b\" \"x y\" \"\\$q\" >\n"
      "<'y z'><'v'>\n"
      "<>\n"
      "<'q'>\n"
      "<>\n")
      << r.err;
  EXPECT_NE(r.err.find("a: bad array subscript"), std::string::npos) << r.err;
}

// The listing order is bash's hash table's, also once the table has grown (at 2048 keys, and
// later when keys were removed first): checked against bash itself when it is installed.
TEST_F(ShellFixture, AssociativeArraysListInBashsOrder) {
  if (!shell::testing::have_bash()) GTEST_SKIP() << "no " << shell::testing::kBashPath;
  std::string script = "declare -A a\n";
  auto add = [&](int from, int to) {
    script += "a+=(";
    for (int k = from; k < to; ++k) script += " [k" + std::to_string(k * 7919 % 100003) + "]=v";
    script += ")\n";
  };
  add(0, 2000);
  script += "unset";
  for (int k = 0; k < 2000; k += 7) script += " 'a[k" + std::to_string(k * 7919 % 100003) + "]'";
  script += "\n";
  add(2000, 3200);
  script += "a[k5]=v; printf '%s\\n' \"${!a[@]}\"; echo ${#a[@]}\n";
  auto bash = shell::testing::run_bash(script);
  ASSERT_TRUE(bash.has_value());
  auto o = opts();
  o.max_words = 0;
  auto r = run(script, o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, *bash) << r.err.substr(0, 400);
}
// Every element is charged to the session's memory budget: an array grown without end (here
// by element assignment, by `+=`, and by copying) stops at --max-shell-memory, the failed
// assignment has status 1, and the shell's memory stays within the budget.
TEST_F(ShellFixture, ArraysAreBoundedByTheMemoryBudget) {
  auto o = opts();
  o.max_shell_memory_bytes = 1 << 20;
  o.max_commands = 10'000'000;
  // (Each loop runs in a subshell, whose memory is returned when it ends.)
  auto r = run("( i=0; while a[i]=element-$i && i=$((i+1)); do :; done ); echo stopped\n"
               "( b=(); while b+=(x y z w); do :; done ); echo stopped\n"
               "( c=(); while c+=(\"${c[@]}\" more); do :; done ); echo stopped\n",
               o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "stopped\nstopped\nstopped\n");
  EXPECT_NE(r.err.find("out of shell memory"), std::string::npos) << r.err.substr(0, 400);
  // Ten million elements at once, with the word cap off: the default budget (64 MiB) refuses
  // them; the command fails, nothing stays charged, the script goes on.
  auto big = opts();
  big.max_words = 0;
  auto t = run("a=({1..10000000}); echo st=$? ${#a[@]}; read -a b < /dev/null; echo ${#b[@]}",
               big);
  ASSERT_TRUE(t.result) << t.result.error().to_string();
  EXPECT_EQ(t.out, "st=1 0\n0\n");
  EXPECT_NE(t.err.find("out of shell memory"), std::string::npos) << t.err.substr(0, 400);
}

// An associative array's keys and values are charged the same way: one grown without end, by
// key, by a list of pairs, or by copying, stops at --max-shell-memory with status 1.
// pushd's stack is held in the shell's memory budget like the variables (and each printing of
// it: as large as the stack): a loop that pushes forever ends there, and the script goes on.
TEST_F(ShellFixture, TheDirectoryStackIsBoundedByTheMemoryBudget) {
  auto o = opts();
  o.max_shell_memory_bytes = 256 << 10;
  o.max_commands = 10'000'000;
  auto r = run("d=/work/$(printf %01000d 0); ( while pushd -n $d > /dev/null; do :; done ); "
               "echo stopped; pushd -n /work/x; popd -n; dirs\n",
               o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "stopped\n/work /work/x\n/work\n/work\n");
  EXPECT_NE(r.err.find("out of shell memory"), std::string::npos) << r.err.substr(0, 400);
}

TEST_F(ShellFixture, AssociativeArraysAreBoundedByTheMemoryBudget) {
  auto o = opts();
  o.max_shell_memory_bytes = 1 << 20;
  o.max_commands = 10'000'000;
  auto r = run("( declare -A a; i=0; while a[key-$i]=value-$i && i=$((i+1)); do :; done ); "
               "echo stopped\n"
               "( declare -A b; i=0; while b+=([k$i]=x [j$i]=y) && i=$((i+1)); do :; done ); "
               "echo stopped\n"
               "( declare -A c=([x]=y); while c=([${#c[@]}]=$RANDOM \"${c[@]}\"); do :; done ); "
               "echo stopped\n",
               o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "stopped\nstopped\nstopped\n");
  EXPECT_NE(r.err.find("out of shell memory"), std::string::npos) << r.err.substr(0, 400);
}

// RANDOM=N seeds $RANDOM (bash's): the same N gives the same numbers after it, another N other
// numbers, RANDOM stays dynamic (not the value assigned), and a subshell's seed stays in it.
TEST_F(ShellFixture, RandomAssignmentSeeds) {
  auto r = run(
      "RANDOM=42; a=\"$RANDOM $RANDOM $RANDOM\"; RANDOM=42; b=\"$RANDOM $RANDOM $RANDOM\"\n"
      "[ \"$a\" = \"$b\" ] && echo same; RANDOM=43; c=\"$RANDOM $RANDOM $RANDOM\"\n"
      "[ \"$a\" != \"$c\" ] && echo differs; set -- $a; [ \"$1\" != \"$2\" ] && echo dynamic\n"
      "case $1 in 42) echo value;; esac\n"
      "RANDOM=7; (RANDOM=1; : $RANDOM); x=$RANDOM; RANDOM=7; y=$RANDOM\n"
      "[ \"$x\" = \"$y\" ] && echo subshell-own\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "same\ndiffers\ndynamic\nsubshell-own\n") << r.err;
}

}  // namespace
