// mapfile / readarray (src/shell/mapfile.cc): every option, the inputs a script gives it (a
// pipe, a here-string, a here-document, -u FD, lastpipe) and the errors, against
// Debian's bash where it is installed; and the bounds on an input without end.
#include <gtest/gtest.h>

#include <string>

#include "bash_oracle.h"
#include "shell_fixture.h"

namespace wasmcap::shell::testing {
namespace {

// The same script under bash and wasmcap: the same output, the arrays as `declare -p` shows
// them, each status, and each message (without the shell's own prefix: bash's `FILE: line N: `,
// wasmcap's `wasmcap sh: `).
constexpr const char* kMapfileCases = R"SH(p() { declare -p "$@"; }
e() { local m; m=$("$@" 2>&1 </dev/null); local s=$?
  m=${m#wasmcap sh: }; m=${m#*: line [0-9]: }; m=${m#*: line [0-9][0-9]: }; m=${m#*: line [0-9][0-9][0-9]: }
  printf '%s <%s>\n' "$s" "$m"; }
printf 'a\nb\nc\n' | { mapfile; p MAPFILE; }
printf 'a\nb\nc' | { mapfile -t x; p x; }
printf 'a\nb\nc\nd\ne\n' | { mapfile -t -n 2 -s 1 x; mapfile rest; p x rest; }
printf 'a\nb\nc\nd\n' | { mapfile -tn1 x; mapfile -ts1 y; p x y; }
printf 'a\0b\0c' | { mapfile -d '' x; p x; }
printf 'a\0b\0c\0' | { mapfile -t -d '' x; p x; }
printf 'a:b::c:' | { mapfile -t -d : x; p x; }
printf 'a:b:c:' | { mapfile -d ':xyz' x; p x; }
printf 'a\0b\nc\n' | { mapfile w; p w; }
x=(1 2 3 4 5); printf 'a\nb\n' | { mapfile -t -O 2 x; p x; }
x=(1 2 3 4 5); printf 'a\nb\n' | { mapfile -t x; p x; }
unset x; x=foo; printf 'a\nb\n' | { mapfile -t -O 1 x; p x; }
unset x; x=foo; printf 'a\nb\n' | { mapfile -t x; p x; }
mapfile -n 0 -t z <<< $'1\n2'; p z
readarray -t y <<< "p
q"; p y
mapfile -t -u 3 h 3<<EOF
one
two
EOF
p h
exec 4<<EOF
l1
l2
l3
EOF
mapfile -n 1 -u 4 f; mapfile -u 4 g; exec 4<&-; p f g
{ mapfile -n 2 m; mapfile k; } <<EOF
1
2
3
EOF
p m k
mapfile -t n < /dev/null; p n
mapfile -t c <&-; p c
declare -ai ints; mapfile -t ints <<< $'1+1\n2*3'; p ints
shopt -s lastpipe; printf 'l\nm\n' | mapfile -t lp; p lp; shopt -u lastpipe
cb() { echo "cb [$1] [$2] ${#q[@]}"; }
printf '1\n2\n3\n4\n5\n' | { mapfile -t -C cb -c 2 q; p q; }
printf '1\n2\n' | { mapfile -C cb -c 1 q; p q; }
printf "it's\n" | { mapfile -t -C echo -c 1 q; }
printf 'a\nb\nc\n' | { mapfile -C 'read -r extra; echo "[$extra]"; :' -c 1 -n 1 q; p q; }
mapfile a b extra <<< 'v'; p a; declare -p b 2>/dev/null || echo no-b
e mapfile -x
e readarray -q
e mapfile -n
e mapfile -n x
e mapfile -n -1
e mapfile -n 4294967296
e mapfile -O x
e mapfile -O -2
e mapfile -s x
e mapfile -c 0
e mapfile -c x
e mapfile -u x
e mapfile -u 9
e mapfile -u -1
e mapfile ''
e readarray ''
e mapfile 1a
e mapfile 'a[1]'
e mapfile -- -t
declare -A assoc; e mapfile assoc
readonly ro; e mapfile ro
e mapfile -t -- ok; echo $?
)SH";

TEST_F(ShellFixture, MapfileMatchesBash) {
  if (!have_bash()) GTEST_SKIP() << "no " << kBashPath;
  auto bash = run_bash(kMapfileCases);
  ASSERT_TRUE(bash.has_value());
  auto r = run(kMapfileCases);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, *bash) << r.err;
}

// Threat: an input without end. The lines one mapfile stores count against --max-words, every
// byte held (the stored lines, the line being read) against --max-shell-memory: an endless
// stream of lines, of long lines, or one line without end stops at the bound with status 1, the
// writer sees the pipe close, and the script goes on.
TEST_F(ShellFixture, MapfileStopsAtTheBudget) {
  auto o = opts();
  o.max_words = 1000;
  o.max_commands = 10'000'000;
  auto r = run("while echo y; do :; done | { mapfile; echo st=$? ${#MAPFILE[@]}; }\n"
               "while echo y; do :; done | { mapfile -C : -c 1000; echo st=$?; }\n"
               "echo after",
               o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=1 1000\nst=1\nafter\n");
  EXPECT_NE(r.err.find("wasmcap sh: mapfile read more than 1000 lines; raise the cap with "
                       "--max-words N"),
            std::string::npos)
      << r.err.substr(0, 400);

  auto m = opts();
  m.max_words = 0;
  m.max_shell_memory_bytes = 256 << 10;
  m.max_commands = 10'000'000;
  auto t = run("while echo yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy; do :; done | { mapfile x; echo st=$?; }\n"
               "while printf yyyyyyyyyyyyyyyy; do :; done | { mapfile -t x; echo st=$?; }\n"
               "while printf yyyyyyyyyyyyyyyy; do :; done | { mapfile -n 1 x; echo st=$?; }\n"
               "echo after",
               m);
  ASSERT_TRUE(t.result) << t.result.error().to_string();
  EXPECT_EQ(t.out, "st=1\nst=1\nst=1\nafter\n");
  EXPECT_NE(t.err.find("out of shell memory"), std::string::npos) << t.err.substr(0, 400);
}

}  // namespace
}  // namespace wasmcap::shell::testing
