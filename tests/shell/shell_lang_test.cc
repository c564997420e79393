// `wasmcap sh`, the language: compound commands, functions, redirections, here-documents,
// parameter expansion, errexit, background jobs (expected outputs are bash's), and the bounds a
// hostile script meets: nesting, recursion, loops against the deadline, jobs against the
// commands running at once, here-documents against the memory budget.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "common/failpoint.h"
#include "shell/parse.h"
#include "shell/state.h"
#include "shell/test_expr.h"
#include "shell_fixture.h"
#include "test_support.h"

namespace {

using namespace wasmcap;
namespace fs = std::filesystem;
using shell::testing::ShellFixture;
using wasmcap::testing::read_text;
using wasmcap::testing::write_text;

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST_F(ShellFixture, CompoundCommands) {
  auto r = run(
      "if false; then echo a; elif true; then echo b; else echo c; fi\n"
      "if false; then echo a; fi; echo st=$?\n"
      "i=; while [ \"$i\" != xxx ]; do i=${i}x; echo -n \"$i \"; done; echo\n"
      "until true; do echo never; done; echo until=$?\n"
      "for w in a \"b c\"; do echo \"[$w]\"; done; set -- p \"q r\"; for w; do echo \"<$w>\"; done\n"
      "for i in 1 2 3; do for j in a b c; do [ $j = b ] && continue 2; [ $i = 3 ] && break 2; "
      "echo $i$j; done; done\n"
      "case hello.txt in *.md) echo md;; *.txt|*.text) echo txt;; *) echo other;; esac\n"
      "case x in x) echo one;& y) echo two;; z) echo three;; esac\n"
      "case ab in a*) echo A;;& *b) echo B;; *) echo C;; esac\n"
      "case '*' in \"*\") echo star;; esac; case a in '*') echo no;; *) echo any;; esac\n"
      "x=outer; ( x=inner; echo $x; exit 3 ); echo \"$x $?\"; { x=group; }; echo $x\n"
      "! false; echo neg=$?; ! true; echo neg=$?; true && false || echo or=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "b\nst=0\nx xx xxx \nuntil=0\n[a]\n[b c]\n<p>\n<q r>\n1a\n2a\ntxt\none\ntwo\nA\nB\n"
            "star\nany\ninner\nouter 3\ngroup\nneg=0\nneg=1\nor=1\n")
      << r.err;
  // break/continue outside a loop: a message, status 0, the script goes on (bash).
  auto b = run("break; echo after=$?");
  EXPECT_EQ(b.out, "after=0\n");
  EXPECT_NE(b.err.find("only meaningful in a 'for', 'while', or 'until' loop"), std::string::npos);
}

TEST_F(ShellFixture, FunctionsAndPositionalParameters) {
  auto r = run(
      "f() { echo \"f:$#:$1:$2\"; return 4; echo no; }; f a \"b c\"; echo ret=$?\n"
      "g() { local x=local; echo $x; h; }; h() { echo h sees $x; }; x=global; g; echo after $x\n"
      "function k { echo k \"$@\"; }; k 1 2; echo \"$#\"\n"
      "cnt() { [ \"$1\" = xxx ] && return 0; cnt \"${1}x\"; echo \"[$1]\"; }; cnt \"\"\n"
      "set -- a b c d; shift 2; echo \"$@\" $#; set --; echo \"[$*]\" $#\n"
      "u() { echo one; }; u() { echo two; }; u; unset -f u; u; echo st=$?\n"
      "v() { echo v=$V; }; V=2 v; echo V=${V-unset}\n"
      "return 1; echo ret-outside=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "f:2:a:b c\nret=4\nlocal\nh sees local\nafter global\nk 1 2\n0\n[xx]\n[x]\n[]\n"
            "c d 2\n[] 0\ntwo\nst=127\nv=2\nV=unset\nret-outside=2\n")
      << r.err;
  EXPECT_NE(r.err.find("u: command not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("return: can only 'return' from a function"), std::string::npos) << r.err;
}

TEST_F(ShellFixture, EveryRedirectionForm) {
  write_text(work() / "in.txt", "line1\nline2\n");
  auto r = run(
      "echo a > f1; echo b >> f1; echo c >| f2; echo both &> f3; echo more &>> f3\n"
      "{ echo out; echo err >&2; } 2>&1 > f4 | while false; do :; done\n"
      "{ echo e1 >&2; } 2> f5; echo x 1>&-; echo closed=$?; echo rw 1<> f6\n"
      "f() { echo in-f; } > f7; f; while true; do echo loop; break; done > f8\n"
      "if true; then echo ift; fi >> f8; for i in 1 2; do echo $i; done 2>/dev/null > f9\n"
      "g() { echo fd3 >&3; }; g 3> f10; echo x 2>&1 3>&-; echo dup-closed 4>&-\n"
      "echo no-fd >&5; echo st=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(read_text(work() / "f1"), "a\nb\n");
  EXPECT_EQ(read_text(work() / "f2"), "c\n");
  EXPECT_EQ(read_text(work() / "f3"), "both\nmore\n");
  EXPECT_EQ(read_text(work() / "f4"), "out\n");
  EXPECT_EQ(read_text(work() / "f5"), "e1\n");
  EXPECT_EQ(read_text(work() / "f6"), "rw\n");
  EXPECT_EQ(read_text(work() / "f7"), "in-f\n");
  EXPECT_EQ(read_text(work() / "f8"), "loop\nift\n");
  EXPECT_EQ(read_text(work() / "f9"), "1\n2\n");
  EXPECT_EQ(read_text(work() / "f10"), "fd3\n");
  EXPECT_EQ(r.out, "closed=1\nx\ndup-closed\nst=1\n") << r.err;
  EXPECT_NE(r.err.find("5: Bad file descriptor"), std::string::npos) << r.err;
  // A redirection on a compound command stays confined like any other.
  auto out = run("{ echo x; } > /etc/passwd_copy; echo st=$?");
  EXPECT_EQ(out.out, "st=1\n");
  EXPECT_NE(out.err.find("/etc/passwd_copy: No such file or directory"), std::string::npos)
      << out.err;  // (no /etc above the preopens: the virtual root's names only)
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_F(ShellFixture, ExecRedirectionsHoldForTheShell) {
  auto r = run("exec 3>f3; echo a >&3; f() { echo b >&3; }; f; exec 3>&-; echo c >&3; echo st=$?\n"
               "{ exec 4>f4; }; echo d >&4; (exec 5>f5; echo e >&5); echo f >&5; echo st=$?\n"
               "exec >out; echo to-out; exec 2>&1; echo err >&2");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=1\nst=1\n") << r.err;
  EXPECT_EQ(read_text(work() / "f3"), "a\nb\n");
  EXPECT_EQ(read_text(work() / "f4"), "d\n");
  EXPECT_EQ(read_text(work() / "f5"), "e\n");
  EXPECT_EQ(read_text(work() / "out"), "to-out\nerr\n");
  // `exec CMD` ends the shell with CMD's status.
  auto e = run("exec false; echo not");
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.out, "");
  // Replaced descriptors are closed: 300 `exec 3>f` hold one file, and none after the script.
  size_t before = open_fds();
  std::string many;
  for (int i = 0; i < 300; ++i) many += "exec 3>f" + std::to_string(i % 7) + "; ";
  auto m = run(many + "echo x >&3");
  ASSERT_TRUE(m.result) << m.result.error().to_string();
  EXPECT_EQ(open_fds(), before);
}

TEST_F(ShellFixture, HereDocumentsAndHereStrings) {
  // The bodies, read back by `source /dev/stdin` (no tool needed): expanded unless the delimiter
  // is quoted, tabs stripped by <<-, a here-string ends with a newline.
  auto h = run(
      "x=val\n"
      "{ source /dev/stdin; } <<EOF > out1\necho '1 $x \\$x $(echo sub) \\\\'\nEOF\n"
      "{ source /dev/stdin; } <<'EOF' > out2\necho 2 \\$x\nEOF\n"
      "{ source /dev/stdin; } <<-EOF > out3\n\techo 3 $x\n\tEOF\n"
      "{ source /dev/stdin; } <<< 'echo 4 here-string' > out4\n"
      "{ source /dev/stdin; } 0<<A 3<<B > out5\necho 5a\nA\necho 5b\nB\n");
  ASSERT_TRUE(h.result) << h.result.error().to_string();
  EXPECT_EQ(read_text(work() / "out1"), "1 val $x sub \\\n") << h.err;
  EXPECT_EQ(read_text(work() / "out2"), "2 $x\n") << h.err;
  EXPECT_EQ(read_text(work() / "out3"), "3 val\n") << h.err;
  EXPECT_EQ(read_text(work() / "out4"), "4 here-string\n") << h.err;
  EXPECT_EQ(read_text(work() / "out5"), "5a\n") << h.err;
  // A here-document in a substitution, and one on a function's definition.
  auto f = run("v=$(source /dev/stdin <<EOF\necho inner\nEOF\n); echo v=$v\n"
               "g() { source /dev/stdin; } <<EOF\necho body $1\nEOF\ng x; g y\n");
  EXPECT_EQ(f.out, "v=inner\nbody x\nbody y\n") << f.err;
}

TEST_F(ShellFixture, ParameterExpansion) {
  auto r = run(
      "x=outer\n"
      "echo ${u-unset} ${u:-empty} \"${e=assigned}\" $e ${x:+alt} ${u+no} ${#x}\n"
      "v=a.b.c; echo ${v#*.} ${v##*.} ${v%.*} ${v%%.*} ${v/./-} ${v//./-} ${v/#a/A} ${v/%c/C} "
      "${v/b/[&]} ${v/b/\\&} \"${v/b/\"&\"}\"\n"
      "echo ${v:2} ${v:1:3} ${v: -2} \"${v:-a b}\" ${u:-a   b}\n"
      "IFS=:; p=a:b::c; for w in $p; do echo \"<$w>\"; done; unset IFS\n"
      "q='  a   b  '; for w in $q; do echo \"{$w}\"; done; set --; for a in \"$@\"; do echo no; done\n"
      "set -- 1 '2 3'; for a in \"$@\" \"$*\" $*; do echo \"($a)\"; done; echo ${#@} ${1+\"$@\"}\n"
      "echo `echo back` \"`echo \"in q\"`\" $'a\\tb\\x41'end ~ ~nosuchuser_x\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "unset empty assigned assigned alt 5\nb.c c a.b a a-b.c a-b-c A.b.c a.b.C a.[b].c a.&.c "
            "a.&.c\n"
            "b.c .b. .c a.b.c a b\n<a>\n<b>\n<>\n<c>\n{a}\n{b}\n(1)\n(2 3)\n(1 2 3)\n(1)\n(2)\n"
            "(3)\n2 1 2 3\nback in q a\tbAend ~ ~nosuchuser_x\n")
      << r.err;
  // A line continuation after ${x: ${x# ${x/ is removed first (bash), so the operator is the
  // one the text makes without it.
  auto lc = run("x=abc; HOME=/h; echo ${x:\\\n-d} ${u:\\\n-d} ${x:\\\n1} ${x#\\\n#a} "
                "${x/\\\n/b/B} ${u-\\\n~} ${u:-\\\n~}/x");
  EXPECT_EQ(lc.out, "abc d bc bc aBc /h /h/x\n") << lc.err;
  // Hostile patterns meet pattern.h's bounds (no backtracking), not the host's patience.
  auto o = opts();
  o.deadline_ms = 20000;
  auto h = run("a=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; a=$a$a$a$a; "
               "a=$a$a$a$a; echo ${#a} ${a##*a*a*a*a*a*b} | wc_missing 2>/dev/null; "
               "echo ${#a}; case $a in *a*a*a*a*a*a*b) echo no;; *) echo none;; esac",
               o);
  ASSERT_TRUE(h.result) << h.result.error().to_string();
  EXPECT_EQ(h.out, "1024\nnone\n") << h.err;
  // ${x:?} ends the shell with bash's status (`bash -c`'s 127 for a -c script, else 1); its
  // message is escaped like every message.
  auto c = opts();
  c.command_string = true;
  auto e = run("echo ${x:?$'bad\\x1b[31m'}; echo after", c);
  ASSERT_TRUE(e.result);
  EXPECT_EQ(e.code, 127);
  EXPECT_EQ(e.out, "");
  EXPECT_EQ(e.err.find('\x1b'), std::string::npos) << e.err;
  EXPECT_NE(e.err.find("x: bad\\x1b[31m"), std::string::npos) << e.err;
  auto u = run("set -u; echo ${x-ok}; echo $nope; echo after", c);
  EXPECT_EQ(u.code, 127);
  auto f = run("set -u; echo ${x-ok}; echo $nope; echo after");  // a script, not -c: 1
  EXPECT_EQ(f.code, 1);
  EXPECT_EQ(f.out, "ok\n");
  EXPECT_EQ(u.out, "ok\n");
  EXPECT_NE(u.err.find("nope: unbound variable"), std::string::npos) << u.err;
}

TEST_F(ShellFixture, BraceExpansion) {
  auto r = run("echo a{b,c}d {1..5} {a..e} {01..10..3} {5..1} x{a,{b,c}}y {} {a} \"{a,b}\" {a..} "
               "{-3..3} {z..w} {a,b}{1,2} '{'a,b}; for f in {x,y}.txt; do echo $f; done; "
               "echo > {p,q}; echo st=$?; echo {{a,b} {a,b}_{");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "abd acd 1 2 3 4 5 a b c d e 01 04 07 10 5 4 3 2 1 xay xby xcy {} {a} {a,b} {a..} -3 "
            "-2 -1 0 1 2 3 z y x w a1 a2 b1 b2 {a,b}\nx.txt\ny.txt\nst=1\n{{a,b} a_{ b_{\n")
      << r.err;
  EXPECT_NE(r.err.find("ambiguous redirect"), std::string::npos) << r.err;
  // Products and long sequences meet the word cap before they are built.
  auto o = opts();
  o.max_words = 1000;
  auto b = run("echo {1..999999999999}; echo st=$?; echo " + repeat("{a,b}", 40) + "; echo st=$?",
               o);
  ASSERT_TRUE(b.result) << b.result.error().to_string();
  EXPECT_EQ(b.out, "st=1\nst=1\n");
  EXPECT_NE(b.err.find("more than 1000 words"), std::string::npos) << b.err;
}

TEST_F(ShellFixture, PrintfAndEcho) {
  auto r = run("printf '%s-%d|%5.2f|%x\\n' a 42 3.14159 255 b; printf -v v '%03d' 7; echo $v; "
               "echo -e 'a\\tb\\c' nope; echo; echo -n -e 'x\\n'; echo -ne 'y\\n'; "
               "echo -E 'z\\n'; echo -x -n; printf '%q\\n' 'a b'; printf '%d\\n' 12abc; "
               "echo st=$?");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "a-42| 3.14|ff\nb-0| 0.00|0\n007\na\tb\nx\ny\nz\\n\n-x -n\na\\ b\n12\nst=1\n");
  EXPECT_NE(r.err.find("printf: 12abc: invalid number"), std::string::npos) << r.err;
  // The output is bounded before it is built: the memory budget, then the output cap.
  auto o = opts();
  o.max_shell_memory_bytes = 1 << 20;
  auto big = run("printf '%999999999d' 1; echo st=$?", o);
  ASSERT_TRUE(big.result) << big.result.error().to_string();
  EXPECT_EQ(big.out, "st=1\n");
}

TEST_F(ShellFixture, ArithmeticAndTest) {
  write_text(work() / "file", "x");
  auto r = run("echo $((1+2*3)) $(( (1+2)*3 )) \"$((7/2))\" $((2**10)) $((x=5)) $x; i=3; "
               "echo $((i++)) $i $(( i > 2 ? 10 : 20 )) $(( $(echo 4) + 1 )) $((1<<62<<1))\n"
               "for ((i=0;i<3;i++)); do echo -n $i; done; echo; ((x=2+3)); echo $? $x; ((0)); "
               "echo $?; let y=1+2 z=0; echo $? $y; for ((;;)) { break; }; echo out\n"
               "((1/0)); echo after $?\n"
               "[ -f file ]; echo $?; [ a = a -a b = b ]; echo $?; test -d . && echo dir; "
               "[ ! -e nope ]; echo $?; test; echo $?; [ x -eq 1 ]; echo $?; [ -s file -o -z x ]; "
               "echo $?; [ -f /etc/passwd ]; echo $?; [ -t x ]; echo $?\n"
               "echo $((1/0)); echo not-reached");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "7 9 3 1024 5 5\n3 4 10 5 -9223372036854775808\n012\n0 5\n1\n1 3\nout\nafter 1\n"
            "0\n0\ndir\n0\n1\n2\n0\n1\n2\n")
      << r.err;
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("((: 1/0: division by 0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[: x: integer expression expected"), std::string::npos) << r.err;
  // Arithmetic loops see the deadline too.
  auto o = opts();
  o.deadline_ms = 300;
  o.max_commands = 0;
  auto l = run("for ((;;)); do :; done", o);
  ASSERT_FALSE(l.result);
  EXPECT_EQ(l.result.error().code, ErrorCode::kDeadlineExceeded);
}

TEST_F(ShellFixture, ReadBuiltin) {
  auto r = run("printf 'a b c\\nd  e\\n' > f; while read x y; do echo \"[$x|$y]\"; done < f\n"
               "read -r l <<< 'x\\y z'; echo \"$l\"; read l <<< 'x\\y z'; echo \"$l\"\n"
               "IFS=: read a b <<< 1:2:3; echo $a $b; read <<< '  keep  '; echo \"[$REPLY]\"\n"
               "echo abc | { read -n 2 v; echo $v; }; read q < /dev/null; echo st=$?\n"
               "{ read first; read second; } < f; echo $first/$second; read -a arr <<< x; echo $? $arr");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "[a|b c]\n[d|e]\nx\\y z\nxy z\n1 2:3\n[  keep  ]\nab\nst=1\na b c/d e\n0 x\n")
      << r.err;
  // A read that waits for input that never comes still ends at the deadline.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  auto o = opts();
  o.deadline_ms = 300;
  o.stdin_fd = p[0];
  auto w = run("read x", o);
  ::close(p[0]);
  ::close(p[1]);
  ASSERT_FALSE(w.result);
  EXPECT_EQ(w.result.error().code, ErrorCode::kDeadlineExceeded);
}

// read -t as bash: 0 asks whether input is waiting (reads nothing; /dev/null's EOF is input, a
// closed descriptor is not); a timeout keeps what was read and is status 142; a malformed
// SECONDS is status 1; the script's deadline still ends a longer wait.
TEST_F(ShellFixture, ReadTimeouts) {
  auto r = run(
      "read -t 0 < /dev/null; echo $?; read -t 0.0 <<< x; echo $? \"[$REPLY]\"; read -t 0 <&-; echo $?\n"
      "read -t 0.5 v < /dev/null; echo $?; read -t 5 v <<< 'a b'; echo $? $v\n"
      "for t in abc -1 1e1 0x1 1.2.3; do read -t $t v <<< x; echo -n $?; done; echo\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "0\n0 []\n1\n1\n0 a b\n11111\n") << r.err;
  EXPECT_NE(r.err.find("read: abc: invalid timeout specification"), std::string::npos) << r.err;

  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::write(p[1], "ab", 2), 2);
  auto o = opts();
  o.stdin_fd = p[0];
  auto start = std::chrono::steady_clock::now();
  auto t = run("read -t 0.2 v; echo s=$? v=$v", o);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(t.result) << t.result.error().to_string();
  EXPECT_EQ(t.out, "s=142 v=ab\n") << t.err;
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::seconds(20));  // not-timing: the wait ended by -t, not by a hang

  o.deadline_ms = 300;
  auto w = run("read -t 100 x", o);
  ::close(p[0]);
  ::close(p[1]);
  ASSERT_FALSE(w.result);
  EXPECT_EQ(w.result.error().code, ErrorCode::kDeadlineExceeded);
}

TEST_F(ShellFixture, GlobBracketExpressions) {
  for (const char* f : {"e.E", "foo.-", "a.b", "[z", "]z"}) write_text(work() / f, "");
  auto r = run("echo *.[[:punct:]E]; echo [[]z []]z; echo [![]z; echo '[[]'z");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "e.E foo.-\n[z ]z\n]z\n[[]z\n") << r.err;
}

// A '\' from an unquoted expansion escapes the next character of a glob (bash 5): `*\*.txt`
// matches names ending in "*.txt", not a backslash; a word without * ? [ is not a pattern, and
// one that matches nothing stays as written. `?` is one UTF-8 character in a UTF-8 locale (the
// default), one byte in C. A quoted - or ! inside brackets is that character (`[C\-D]`).
TEST_F(ShellFixture, GlobEscapesFromExpansionsAndUtf8) {
  for (const char* f : {"t.\\.txt", "t.*.txt", "t.a.txt", "_a_", "_\u03bc_", "c.C", "f.-", "f.x"}) {
    write_text(work() / f, "");
  }
  auto r = run(
      "v='*\\*.txt'; echo $v; v='*\\a.txt'; echo $v; v='\\'; u='*.txt'; echo *$v$u; "
      "v='x\\*'; echo $v; v='\\a'; echo $v; echo \"$v\"\n"
      "echo _?_; LC_ALL=C; echo _?_\n"
      "echo [cf].[C\\-D]; echo [cf].[C-D]; echo [cf].[!C\"-\"]; v='[!C-]'; echo [cf].$v\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "t.*.txt\nt.a.txt\nt.*.txt\nx\\*\n\\a\n\\a\n_a_ _\u03bc_\n_a_\n"
            "c.C f.-\nc.C\nf.x\nf.x\n")
      << r.err;
}

// Characters in a UTF-8 locale (the default), bytes in C, as bash: `?` in a case pattern and on
// the right of [[ == ]] is one character (U+0061 U+0300 is two); IFS holds characters, so
// IFS=\u00e9 splits at \u00e9 and not at either of its bytes (in C at each byte). ${#v} is split
// by IFS when unquoted, as every expansion is.
TEST_F(ShellFixture, CharactersFollowTheLocale) {
  auto r = run(
      "for s in __a__ __\u03bc__ __a\u0300__; do case $s in __?__) echo yes;; *) echo no;; esac; done\n"
      "[[ \u03bc == ? ]] && echo one; LC_ALL=C; [[ \u03bc == ? ]] || echo two-bytes; unset LC_ALL\n"
      "y=a\u00e9b\u00e9c; IFS=\u00e9; printf '[%s]' $y; echo; LC_ALL=C; printf '[%s]' $y; echo\n"
      "unset LC_ALL; v=hello; IFS=5; echo ${#v}; echo \"${#v}\"; set -- 1 2 3 4 5; echo ${#@}.\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "yes\nyes\nno\none\ntwo-bytes\n[a][b][c]\n[a][][b][][c]\n\n5\n .\n")
      << r.err;
}

// shopt globskipdots (on, bash 5.2's default): a glob never yields . and ..; off, a pattern
// with an explicit leading '.' matches them (`.*`), as older bash.
TEST_F(ShellFixture, GlobSkipDotsOption) {
  fs::create_directory(work() / "d");  // (the preopen's own `..` is outside the sandbox)
  for (const char* f : {".a", "b"}) write_text(work() / "d" / f, "");
  auto r = run(
      "cd d; echo .*; shopt -u globskipdots; echo .*; echo .?; shopt -p globskipdots\n"
      "shopt -s globskipdots; echo .*; shopt -q globskipdots && echo on\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, ".a\n. .. .a\n.. .a\nshopt -u globskipdots\n.a\non\n") << r.err;
}

// `sh -i` (bash -i): an expansion error (set -u, ${x:?}) abandons the rest of its line, lines a
// compound command on it spans included, and the next line runs; the shell's status is then its
// last command's. A subshell of it is not interactive. Without -i the shell ends.
TEST_F(ShellFixture, InteractiveNestedShellAbandonsTheLine) {
  auto r = run(
      "sh -i -c 'set -u; echo before; echo $x; echo after'; echo st=$?\n"
      "sh -i -c 'set -u; echo $x; echo same\n"
      "echo s=$?; echo ${y:?oops}; echo same\n"
      "f() { echo $x; echo inf; }; f; echo same\n"
      "if true; then echo $x\n"
      "echo same; fi; echo same\n"
      "case $- in *i*) echo interactive;; esac; (echo $x; echo same); echo sub=$?\n"
      "echo line7'; echo st=$?\n"
      "sh -c 'set -u; echo $x\necho no'; echo st=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "before\nst=1\ns=1\ninteractive\nsub=1\nline7\nst=0\nst=127\n")
      << r.err;
}

// As at bash's startup, OPTIND is 1 in every shell, whatever the environment said; an
// expansion error in a subshell or $(...) ends it with status 1 (127 is only a -c shell's own).
TEST_F(ShellFixture, StartupOptindAndSubshellExpansionErrors) {
  auto r = run(
      "echo $OPTIND; OPTIND=5; sh -c 'echo $OPTIND'; export OPTIND=7; sh -c 'echo $OPTIND'\n"
      "sh -c 'set -u; (echo $x); echo sub=$?; y=$(echo $x); echo cs=$?; echo $x; echo no'; "
      "echo st=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "1\n1\n1\nsub=1\ncs=1\nst=127\n") << r.err;
}

// ${#NAME} followed by an operator (${#v:1:3}) is bash's "bad substitution" when it expands,
// not a syntax error: what comes before it runs, then the shell ends with status 1.
TEST_F(ShellFixture, LengthWithAnOperatorIsABadSubstitution) {
  auto r = run("v=abcde; echo a; (echo ${#v-x}); echo st=$?; echo ${#v:1:3}; echo no");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "a\nst=1\n") << r.err;
  EXPECT_EQ(r.result->exit_code, 1);
  EXPECT_NE(r.err.find("${#v...}: bad substitution"), std::string::npos) << r.err;
}

TEST_F(ShellFixture, ErrexitAsBash) {
  auto r = run(
      "set -e; f() { false; echo in-f; }; f && echo ok; if false; then :; fi; false || true\n"
      "! true; x=$(false; echo sub-continues); echo $x; while false; do :; done\n"
      "false | true; echo piped; false; echo no");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "in-f\nok\nsub-continues\npiped\n");
  for (const char* s : {"set -e; (false; echo no); echo no", "set -e; { false; echo no; }; echo no",
                        "set -o pipefail -e; false | true; echo no"}) {
    auto e = run(s);
    EXPECT_EQ(e.code, 1) << s;
    EXPECT_EQ(e.out, "") << s;
  }
  auto p = run("false | true; echo $?; set -o pipefail; false | true; echo $?; set +o pipefail; "
               "false | true; echo $?");
  EXPECT_EQ(p.out, "0\n1\n0\n");
  auto x = run("set -x; echo \"a b\" c; set +x; echo quiet");
  EXPECT_EQ(x.out, "a b c\nquiet\n");
  EXPECT_NE(x.err.find("+ echo 'a b' c\n"), std::string::npos) << x.err;
  EXPECT_NE(x.err.find("+ set +x\n"), std::string::npos) << x.err;
  // A backslash in a traced word is one (bash's `+ echo 'a\b'`); a control byte is \xNN.
  auto bs = run("set -x; echo 'a\\b' c\\\\d $'\\e' >/dev/null");
  EXPECT_EQ(bs.err, "+ echo 'a\\b' 'c\\d' '\\x1b'\n");
  // Nesting as bash 5.2 prints it: eval, source and $(...) each add a `+`; functions and
  // subshells do not.
  auto n = run("set -x; eval \"true in\"; x=$(true a); f() { true f; }; z=$(f); (true s); "
               "a[1]=$(true i); eval \"eval \\\"true 3\\\"\"");
  EXPECT_EQ(n.err,
            "+ eval 'true in'\n++ true in\n++ true a\n+ x=\n++ f\n++ true f\n+ z=\n+ true s\n"
            "++ true i\n+ a[1]=\n+ eval 'eval \"true 3\"'\n++ eval 'true 3'\n+++ true 3\n");
}

// PS4 is set -x's prefix, expanded before each trace line as bash does (parameters, $LINENO,
// $(...) untraced, the command's $? kept), its first character repeated per nesting level; unset or empty:
// no prefix; an expansion error is reported and PS4 used as written. Assignment traces quote
// values as words are (empty: nothing). Outputs as bash 5.2's.
TEST_F(ShellFixture, Ps4IsTheTracePrefix) {
  auto r = run(
      "set -x\nPS4='+$LINENO: '\ntrue a\nPS4='[$(echo s)$?] '\nfalse; true b\n"
      "PS4='abc'; eval 'true c'\nPS4='${u?gone} '\ntrue d\nPS4=; true e\nunset PS4\n"
      "true f\nPS4='+ '; v='x y' w= a=(1 'p q'); set +x\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.err,
            "+ PS4='+$LINENO: '\n+3: true a\n+4: PS4='[$(echo s)$?] '\n[s0] false\n[s0] true b\n"
            "[s0] PS4=abc\nabceval 'true c'\naabctrue c\n"
            "abcPS4='${u?gone} '\nwasmcap sh: u: gone\n${u?gone} true d\n"
            "wasmcap sh: u: gone\n${u?gone} PS4=\ntrue e\nunset PS4\ntrue f\nPS4='+ '\n"
            "+ v='x y'\n+ w=\n+ a=(1 'p q')\n+ set +x\n");
  // PS4 is parsed again for every line, and what that parse charges to the shell's memory is
  // returned: a long PS4 traced 300 times stays within a 256 KiB budget.
  auto o = opts();
  o.max_shell_memory_bytes = 256 << 10;
  std::string big(6000, 'p');
  auto b = run("PS4='" + big + "$x '; set -x; i=0; while [ $i -lt 300 ]; do i=$((i+1)); done "
               "2>/dev/null; echo $i\n",
               o);
  ASSERT_TRUE(b.result) << b.result.error().to_string();
  EXPECT_EQ(b.out, "300\n") << b.err.substr(0, 300);
}

// The variables bash sets in every shell: PS4 ('+ '), IFS (space, tab, newline; one from the
// environment is ignored), SHELLOPTS (readonly, the set -o options that are on, kept current);
// declare -p shows them and the dynamic ones.
TEST_F(ShellFixture, ShellSetsPs4IfsAndShellopts) {
  auto o = opts();
  o.variables.emplace_back("IFS", ":");
  auto r = run(
      "declare -p PS4 IFS SHELLOPTS; set -e -o pipefail; echo $SHELLOPTS; set +e +o pipefail\n"
      "echo $SHELLOPTS; declare -p LINENO; unset SHELLOPTS || echo kept\n"
      "sh -c 'echo $SHELLOPTS; declare -p IFS'\n",
      o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "declare -- PS4=\"+ \"\ndeclare -x IFS=$' \\t\\n'\n"
            "declare -r SHELLOPTS=\"braceexpand:hashall:interactive-comments\"\n"
            "braceexpand:errexit:hashall:interactive-comments:pipefail\n"
            "braceexpand:hashall:interactive-comments\ndeclare -- LINENO=\"2\"\nkept\n"
            "braceexpand:hashall:interactive-comments\ndeclare -x IFS=$' \\t\\n'\n")
      << r.err;
  EXPECT_EQ(r.err, "wasmcap sh: unset: SHELLOPTS: cannot unset: readonly variable\n");
}

TEST_F(ShellFixture, BackgroundJobsAreWaitedForAndBounded) {
  auto r = run("{ echo bg > f; } & wait $!; echo st=$? $(cat_missing f 2>/dev/null); "
               "(exit 7) & wait $!; echo job=$?; j() { echo $1 >> g; }; j 1 & j 2 & wait; "
               "test -s g && echo g-written");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=0\njob=7\ng-written\n") << r.err;
  EXPECT_EQ(read_text(work() / "f"), "bg\n");
  auto n = run("wait -n; echo $?; wait %9; echo $?; (exit 3) & wait -n; echo $?; wait 77; echo $?");
  EXPECT_EQ(n.out, "127\n127\n3\n127\n") << n.err;
  // Each job is a running command: past --max-live-commands it fails to start.
  auto o = opts();
  o.max_live_commands = 2;
  auto l = run("f() { while [ ! -e stop ]; do :; done; }; f & f & f & echo third=$?; "
               "echo > stop; wait",
               o);
  ASSERT_TRUE(l.result) << l.result.error().to_string();
  EXPECT_EQ(l.out, "third=1\n") << l.err;
  EXPECT_NE(l.err.find("more than 2 commands would run at once"), std::string::npos) << l.err;
  // Jobs still running at the end of the script are joined before run() returns.
  auto end = run("{ echo late > h; } &");
  ASSERT_TRUE(end.result);
  EXPECT_EQ(read_text(work() / "h"), "late\n");
}

// --- bounds: a hostile script cannot overflow the host stack or run past its limits ----------

TEST(ShellParse, NestingIsBounded) {
  for (const std::string& bomb :
       {repeat("(", 100000), repeat("( ", 100000), repeat("{ ", 100000),
        repeat("if true; then ", 100000), repeat("while ", 100000), repeat("$(( ((", 20000),
        repeat("echo ${x:-", 100000), repeat("\"${x:-", 100000), repeat("f() ", 100000),
        repeat("! { ", 100000), repeat("case x in x) ", 100000)}) {
    auto r = shell::parse(bomb);
    ASSERT_FALSE(r) << bomb.substr(0, 20);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  auto deep = shell::parse(repeat("{ ", 150000));
  ASSERT_FALSE(deep);
  EXPECT_NE(deep.error().message.find("nesting deeper than 200 levels"), std::string::npos)
      << deep.error().message;
  // Just under the bound parses.
  int n = shell::kMaxNestingDepth - 10;
  EXPECT_TRUE(shell::parse(repeat("{ ", n) + "ls" + repeat("; }", n)));
  EXPECT_FALSE(shell::parse(repeat("{ ", shell::kMaxNestingDepth + 1) + "ls" +
                            repeat("; }", shell::kMaxNestingDepth + 1)));
}

TEST_F(ShellFixture, RecursionIsBounded) {
  auto r = run("f() { f; }; f; echo st=$?");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=1\n");
  EXPECT_NE(r.err.find("f: maximum function nesting level exceeded (1000)"), std::string::npos)
      << r.err;
  // Nested compound commands in every call: the executor's own depth bound comes first.
  std::string body = repeat("{ ", 8) + "g" + repeat("; }", 8);
  auto g = run("g() " + body + "; g; echo st=$?");
  ASSERT_TRUE(g.result) << g.result.error().to_string();
  EXPECT_EQ(g.out, "st=1\n");
  EXPECT_NE(g.err.find("nested deeper than 4000 levels"), std::string::npos) << g.err;
  // Recursion through $(...) holds a reader thread per level: bounded by the running commands.
  auto s = run("h() { echo $(h); }; h; echo st=$?");
  ASSERT_TRUE(s.result) << s.result.error().to_string();
  EXPECT_NE(s.err.find("commands would run at once"), std::string::npos) << s.err;
}

// Pipeline stages and background jobs run on threads of their own with a smaller stack
// (kStageStackBytes, src/shell/state.h): recursion inside one is refused at kMaxStageDepth
// levels with the shell's message, never a crash. Before, each such thread reserved 512 MiB.
TEST_F(ShellFixture, RecursionInAStageOrJobIsBounded) {
  const std::string bound = "nested deeper than " + std::to_string(shell::kMaxStageDepth) +
                            " levels (function calls, compound commands, eval) in a pipeline "
                            "stage or background job";
  for (const std::string s :
       {"f() { f; }; f | { read x; echo read=$?; }; echo st=$?",
        "f() { { { f; }; }; }; f | { read x; echo read=$?; }; echo st=$?",
        "g() ( g ); g | { read x; echo read=$?; }; echo st=$?",
        "x='eval \"$x\"'; eval \"$x\" | { read y; echo read=$?; }; echo st=$?",
        "echo '. ./self.sh' > self.sh; . ./self.sh | { read y; echo read=$?; }; echo st=$?"}) {
    auto r = run(s);
    ASSERT_TRUE(r.result) << s << ": " << r.result.error().to_string();
    EXPECT_EQ(r.out, "read=1\nst=0\n") << s;
    EXPECT_NE(r.err.find(bound), std::string::npos) << s << ": " << r.err.substr(0, 300);
  }
  auto job = run("f() { f; }; f & wait $!; echo job=$?");
  ASSERT_TRUE(job.result) << job.result.error().to_string();
  EXPECT_EQ(job.out, "job=1\n");
  EXPECT_NE(job.err.find(bound), std::string::npos) << job.err.substr(0, 300);
  // The deepest work a stage may do: recursion just under its bound (`.` then `if`, two levels
  // a round: `.` takes the most stack a level), then at the deepest level a parse at the
  // parser's nesting bound, arithmetic and a test at their recursion bounds. The stack holds it
  // (a crash here means kExecLevelBytes or kExecReserveBytes is too small for this build).
  int rounds = (shell::kMaxStageDepth - 10) / 2;
  std::string deep = "if false; then " + repeat("{ ", shell::kMaxNestingDepth - 10) + ":" +
                     repeat("; }", shell::kMaxNestingDepth - 10) + "; fi; [ " +
                     repeat("\\( ", shell::kMaxTestNesting) + "x" +
                     repeat(" \\)", shell::kMaxTestNesting) + " ] && echo leaf $(( " +
                     repeat("(", 100) + "1" + repeat(")", 100) + " )); a=a; : $((a))";
  write_text(work() / "deep.sh", deep);
  write_text(work() / "round.sh", "n=$((n+1)); if [ $n -lt " + std::to_string(rounds) +
                                      " ]; then . ./round.sh; else . ./deep.sh; fi\n");
  std::string script = "n=0; . ./round.sh | { read l; echo \"got $l\"; }; "
                       "{ . ./round.sh > job.out; } & wait; read l < job.out; echo \"job $l\"";
  auto leaf = run(script);
  ASSERT_TRUE(leaf.result) << leaf.result.error().to_string();
  EXPECT_EQ(leaf.out, "got leaf 1\njob leaf 1\n") << leaf.err.substr(0, 300);
}

// Up to --max-live-commands (128) threads run shell code at once. Each reserves its stack
// (private writable memory: what strict overcommit, vm.overcommit_memory=2, charges). Before,
// each reserved 512 MiB: 64 GiB for 128 commands.
using shell::testing::private_writable_kib;

long status_field(const char* name) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(name, 0) == 0) return std::stol(line.substr(std::strlen(name)));
  }
  return -1;
}

TEST_F(ShellFixture, LiveCommandsReserveBoundedStacks) {
  // 2 GiB in an optimized build; unoptimized and sanitizer builds scale every stack by
  // kStackScale (their frames are larger), so the bound scales with them.
  static_assert(shell::kStageStackBytes * 128 + shell::kScriptStackBytes <=
                    (size_t{2} << 30) * shell::kStackScale,
                "128 live commands must not reserve more than 2 GiB of stack");
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  auto o = opts();
  o.stdin_fd = in[0];
  // A job of 63 stages (64 live commands) and a pipeline of 64: 128 threads, every stage
  // waiting on its input until the test closes stdin.
  std::string stages = "read a" + repeat(" | read a", 62);
  std::string script = "{ " + stages + "; } & " + stages + " | read a; wait; echo done";
  long threads0 = status_field("Threads:");
  long kib0 = private_writable_kib();
  long peak = 0;
  std::thread watcher([&]() {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (status_field("Threads:") < threads0 + 129 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    peak = private_writable_kib() - kib0;
    ::close(in[1]);
  });
  auto r = run(script, o);
  watcher.join();
  ::close(in[0]);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "done\n") << r.err.substr(0, 300);
  long bound = static_cast<long>((128 * shell::kStageStackBytes + shell::kScriptStackBytes) >> 10) +
               (256 << 10);  // + the threads' malloc arenas and the state
  EXPECT_LT(peak, bound) << "stage threads reserved " << (peak >> 10) << " MiB";
  EXPECT_GT(peak, 0);
}

// A thread the shell cannot create (pthread_create fails: out of memory or threads; simulated
// by the "shell.thread" failpoint, which fails the N-th thread asked for) fails its command
// cleanly, with nothing of it run. Before, the stage ran inline on the caller's thread, where a
// first stage writing more than a pipe holds would block forever (its reader not started).
// Threads in order: the deadline's watchdog (1), the script (2), then the script's own.
TEST(ShellThreads, ThreadCreationFailureIsACleanError) {
  if (!failpoint::compiled_in()) GTEST_SKIP() << "built without WASMCAP_FAILPOINTS=ON";
  wasmcap::testing::TempDir tmp;
  fs::create_directories(tmp.path() / "home");
  fs::create_directories(tmp.path() / "work");
  // run_process ignores SIGPIPE in this process; later tests spawn bash as an oracle, which
  // would inherit it (`trap` lists it): restored at the end.
  struct sigaction pipe_before {};
  ::sigaction(SIGPIPE, nullptr, &pipe_before);
  auto sh = [&](const std::string& failpoint, const std::string& script) {
    wasmcap::testing::ProcOptions o;
    o.extra_env = {{"WASMCAP_HOME", (tmp.path() / "home").string()},
                   {"WASMCAP_FAILPOINTS", failpoint}};
    return wasmcap::testing::run_cli(
        {"sh", "--dir", (tmp.path() / "work").string() + "::/work", "-c", script}, o);
  };
  // A pipeline's second stage: the first was created but never ran (it would have written f).
  const std::string pipeline = "{ echo ran > f; echo a; } | { read x; echo got $x; }; "
                               "echo st=$?; [ -e f ] || echo none";
  for (const char* at : {"shell.thread=eio@3", "shell.thread=eio@4"}) {
    auto r = sh(at, pipeline);
    EXPECT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
    EXPECT_EQ(r.out, "st=1\nnone\n") << at;
    EXPECT_NE(r.err.find("wasmcap sh: cannot start a thread for a pipeline stage (Input/output "
                         "error): the host is out of memory or threads; the command did not run"),
              std::string::npos)
        << at << ": " << r.err;
  }
  auto job = sh("shell.thread=eio@3", "{ echo ran > f; } & echo st=$?; wait; [ -e f ] || echo none");
  EXPECT_EQ(job.out, "st=1\nnone\n") << wasmcap::testing::describe(job);
  EXPECT_NE(job.err.find("cannot start a thread for a background job"), std::string::npos)
      << job.err;
  auto subst = sh("shell.thread=eio@3", "x=$(echo hi > f); echo st=$?; [ -e f ] || echo none");
  EXPECT_EQ(subst.out, "st=1\nnone\n") << wasmcap::testing::describe(subst);
  EXPECT_NE(subst.err.find("cannot start a thread for a $(...)"), std::string::npos) << subst.err;
  // The script's own thread: the run fails (internal_error, exit 70) and nothing runs.
  auto script = sh("shell.thread=eio@2", "echo ran > f");
  EXPECT_EQ(script.exit_code, 70) << wasmcap::testing::describe(script);
  EXPECT_NE(script.err.find("cannot start a thread for the script"), std::string::npos)
      << script.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "work" / "f"));
  // Without the failpoint the same pipeline runs.
  auto ok = sh("", pipeline);
  EXPECT_EQ(ok.out, "got a\nst=0\n") << wasmcap::testing::describe(ok);
  ::sigaction(SIGPIPE, &pipe_before, nullptr);
}

TEST_F(ShellFixture, LoopsSeeTheDeadline) {
  auto o = opts();
  o.deadline_ms = 300;
  o.max_commands = 0;
  for (const char* s : {"while :; do :; done", "until false; do :; done",
                        "f() { while true; do x=1; done; }; f", "while :; do :; done &"}) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = run(s, o);
    ASSERT_FALSE(r.result) << s;
    EXPECT_EQ(r.result.error().code, ErrorCode::kDeadlineExceeded) << s;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30)) << s;
  }
  // Without a deadline the command cap ends it.
  auto c = run("while :; do :; done");
  ASSERT_FALSE(c.result);
  EXPECT_EQ(c.result.error().code, ErrorCode::kFuelExhausted);
}

TEST_F(ShellFixture, ForkBombIsBounded) {
  auto o = opts();
  o.deadline_ms = 20000;
  auto r = run("f() { f | f & }; f; wait; echo survived", o);
  if (!r.result) {
    EXPECT_TRUE(r.result.error().code == ErrorCode::kFuelExhausted ||
                r.result.error().code == ErrorCode::kDeadlineExceeded)
        << r.result.error().to_string();
  }
  EXPECT_NE(r.err.find("commands would run at once"), std::string::npos) << r.err.substr(0, 500);
}

TEST_F(ShellFixture, HereDocumentsAreBoundedByTheMemoryBudget) {
  auto o = opts();
  o.max_shell_memory_bytes = 1 << 20;
  // A body that expands past the budget fails its command; the script goes on.
  auto r = run("A=0123456789abcdef; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do A=$A$A; "
               "done 2>/dev/null\n{ :; } <<EOF\n$A$A$A$A\nEOF\necho st=$?\n",
               o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=1\n");
  EXPECT_NE(r.err.find("out of shell memory"), std::string::npos) << r.err;
  // A literal body counts as script text: too big to parse within the budget, nothing runs.
  auto big = run("echo ran > f; { :; } <<EOF\n" + std::string(2 << 20, 'x') + "\nEOF\n", o);
  ASSERT_FALSE(big.result);
  EXPECT_EQ(big.result.error().code, ErrorCode::kMemoryLimit);
  EXPECT_FALSE(fs::exists(work() / "f"));
}

TEST_F(ShellFixture, VariableDoublingIsStillBounded) {
  auto o = opts();
  o.max_shell_memory_bytes = 1 << 20;
  auto r = run("A=x; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22; do "
               "A=$A$A; done; echo ${#A}",
               o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_NE(r.err.find("out of shell memory"), std::string::npos);
  EXPECT_LT(std::stoul(r.out), 1u << 20) << r.out;
}

}  // namespace
