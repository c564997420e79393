// `wasmcap sh`'s own file changes and searches (src/shell/files.cc, docs/shell.md "Commands"):
// chmod through the confinement resolver, scripts found on PATH and bash's table of them
// (`hash`), `.` on PATH, and `read`'s grouped options. Where bash is installed each script's
// stdout is checked against bash's too (bash_oracle.h).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>

#include "bash_oracle.h"
#include "shell_fixture.h"

namespace {

using namespace wasmcap;
using shell::testing::ShellFixture;
namespace fs = std::filesystem;

struct ShellFiles : ShellFixture {
  // `script` prints `expected` under wasmcap sh and bash, each starting in the work tree (for
  // wasmcap /work, for bash its host path) made by `setup`. Only builtins: the fixture installs
  // no bundle.
  void same_as_bash(const std::string& script, const std::string& expected,
                    const std::function<void()>& setup = [] {}) {
    setup();
    auto r = run("cd /work\n" + script);
    ASSERT_TRUE(r.result) << script << ": " << r.result.error().to_string();
    EXPECT_EQ(r.out, expected) << script << "\nstderr: " << r.err;
    if (!shell::testing::have_bash()) return;
    fs::remove_all(work());
    fs::create_directories(work());
    setup();
    // $X: bash's own PATH tail (its chmod is a program); wasmcap's chmod is a builtin.
    auto b = shell::testing::run_bash("cd " + work().string() + "\nX=:/usr/bin:/bin\n" + script);
    ASSERT_TRUE(b) << "bash failed on: " << script;
    EXPECT_EQ(*b, expected) << "bash on: " << script;
  }
  mode_t mode_of(const fs::path& p) {
    struct stat sb {};
    EXPECT_EQ(::stat(p.c_str(), &sb), 0) << p;
    return sb.st_mode & 07777;
  }
};

TEST_F(ShellFiles, ChmodOctalAndSymbolic) {
  fs::create_directories(work() / "d");
  auto r = run("cd /work; echo x > f; chmod 600 f; chmod +x f; chmod go+r,u-w f; chmod 700 d;"
               " chmod a+X d; test -x f && echo exec");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "exec\n") << r.err;
  EXPECT_EQ(mode_of(work() / "f"), 0555u);  // 600, +x (umask 022: 711), go+r, u-w
  EXPECT_EQ(mode_of(work() / "d"), 0711u);
}

// test -r/-w/-x answer by the owner's bits (the sandbox's user owns every file, as the tools
// show it): as bash run by a user who is not root, whoever runs wasmcap; -O and -G are true.
TEST_F(ShellFiles, AccessTestsAreTheSandboxUsersOwnerBits) {
  fs::create_directories(work() / "d");
  auto r = run("cd /work; echo 1 > a; chmod -r a; test -r a || echo unreadable; chmod -w a; "
               "test -w a || echo unwritable; test -x a || echo noexec; chmod u+rx a; "
               "test -r a && test -x a && echo rx; test -O a && test -G a && echo own; "
               "chmod 000 d; test -x d || echo nosearch; chmod 755 d");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "unreadable\nunwritable\nnoexec\nrx\nown\nnosearch\n") << r.err;
}

TEST_F(ShellFiles, ChmodRefusesSpecialBitsReadOnlyHardLinksAndEscapes) {
  fs::path outside = tmp.path() / "outside";
  { std::ofstream(outside) << "x"; }
  ::chmod(outside.c_str(), 0644);
  fs::create_symlink(outside, work() / "out-link");  // absolute: leads out of the preopen
  { std::ofstream(work() / "a") << "x"; }
  fs::create_hard_link(work() / "a", work() / "b");
  { std::ofstream(work() / "plain") << "x"; }
  ::chmod((work() / "plain").c_str(), 0644);
  auto r = run("cd /work; chmod u+s plain; echo s=$?; chmod 4755 plain; echo o=$?;"
               "chmod 777 out-link; echo l=$?; chmod 600 a; echo h=$?; chmod 9 plain; echo m=$?;"
               "chmod 600 /elsewhere; echo e=$?");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "s=1\no=1\nl=1\nh=1\nm=1\ne=1\n") << r.err;
  EXPECT_EQ(mode_of(work() / "plain"), 0644u);
  EXPECT_EQ(mode_of(outside), 0644u);  // the link's target outside is untouched
  EXPECT_NE(r.err.find("outside the granted directories"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hard links"), std::string::npos) << r.err;

  shell::Options o = opts();
  o.preopens[0].read_only = true;
  r = run("chmod 777 /work/plain; echo $?", o);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "1\n");
  EXPECT_EQ(mode_of(work() / "plain"), 0644u);
}

TEST_F(ShellFiles, ScriptsOnPathAndTheHashTable) {
  // Found on PATH (a directory or a non-executable file is skipped), remembered until `hash -r`
  // or a new PATH (bash's hash table); a bundle command would come first (the command table).
  same_as_bash(
      "echo 'echo two' > two/mycmd; chmod +x two/mycmd; echo 'echo x' > one/mycmd\n"
      "PATH=dir:two$X; mycmd; PATH=one:two$X; type mycmd; mycmd; type mycmd\n"
      "echo 'echo one' > one/mycmd; chmod +x one/mycmd; mycmd; hash -r; mycmd\n"
      "PATH=two:one$X; mycmd; command -v mycmd; nosuch 2>/dev/null; echo status=$?\n",
      "two\nmycmd is two/mycmd\ntwo\nmycmd is hashed (./two/mycmd)\ntwo\none\ntwo\n./two/mycmd\n"
      "status=127\n",
      [&] {
        for (const char* d : {"one", "two", "dir/mycmd"}) fs::create_directories(work() / d);
      });
}

TEST_F(ShellFiles, SourceLooksOnPathFirst) {
  same_as_bash("echo 'echo path' > q/x.sh; echo 'echo here' > x.sh; PATH=p:q; . x.sh; PATH=p; . x.sh",
               "path\nhere\n", [&] {
                 fs::create_directories(work() / "p" / "x.sh");  // a directory: skipped
                 fs::create_directories(work() / "q");
               });
}

// /dev/fd/N is the shell's descriptor N (not open: "No such file or directory", as bash on
// Linux), and /dev/zero discards writes (its reads: ToolFixture.DevFilesForTools).
TEST_F(ShellFiles, DevFdAndDevZeroInRedirections) {
  same_as_bash("echo data > f; exec 3< f; read -r l < /dev/fd/3; echo $l; echo x 2>/dev/fd/1 >&2;"
               "{ read l < /dev/fd/7; } 2>/dev/null; echo rc=$?; echo gone > /dev/zero; echo w=$?;"
               "exec 4>g; echo into4 > /dev/fd/4; read -r m < g; echo $m",
               "data\nx\nrc=1\nw=0\ninto4\n");
}

TEST_F(ShellFiles, ReadGroupedOptions) {
  same_as_bash("echo hi | { read -rn1 v; echo v=$v; }; printf 'a:b' | { read -rd: w; echo w=$w; };"
               "echo abc | { read -n 0; echo \"[$REPLY] $?\"; };"
               "echo hi | { read -p P x; echo x=$x; } 2>&1",  // no prompt: not a terminal
               "v=h\nw=a\n[] 0\nx=hi\n");
}

TEST_F(ShellFiles, PrintfIntoAnArrayElement) {
  same_as_bash("a=(a b c); printf -v 'a[1]' %s foo; echo $?; i=1; printf -v 'a[i+1]' %s-%s x y;"
               "printf -v 'a[-1]' '%s!' \"${a[2]}\"; echo \"${a[@]}\"",
               "0\na foo x-y!\n");
}

// shopt -s extglob: groups in globs (and redirection targets), case arms, [[ == ]] (always, as
// bash), ${x%p}.
TEST_F(ShellFiles, ExtglobEverywhereAPatternIs) {
  auto files = [&] {
    for (const char* f : {"a.c", "b.h", "c.txt", ".d.c", "foo-bar"}) std::ofstream(work() / f) << f;
  };
  same_as_bash("shopt -s extglob\n"
               "echo @(*.c|*.h) !(*.c|*.h) +([a-c]).* ?(x)a.c\n"
               "echo hi > @(*-bar|other); read l < foo-bar; echo $l\n"
               "echo no > z_@(*.cc|*.h); echo z_*\n"
               "case foo.tar.gz in *.@(gz|bz2)) echo arm;; esac\n"
               "x='foo()'; echo ${x%*(foo|bar)'()'} \"${x%%*(foo|bar)'()'}\"\n"
               "v=ab; [[ $v == +(a|b) ]] && echo dbl; [[ $v == '+(a|b)' ]] || echo quoted\n",
               "a.c b.h c.txt foo-bar a.c b.h c.txt a.c\nhi\nz_@(*.cc|*.h)\narm\nfoo \ndbl\nquoted\n",
               files);
}

// Without extglob, a group is literal text in ${x%p} and case; [[ == ]] still reads it; and
// `!(cmd)` where a command starts is a negated subshell.
TEST_F(ShellFiles, ExtglobOffLeavesGroupsLiteral) {
  same_as_bash("x='a@(b)'; echo ${x%@(b)} \"${x%'@(b)'}\"; [[ ab == @(ab|c) ]] && echo dbl;"
               "y='*(a)'; case '*(a)' in $y) echo lit;; esac; !(false) && echo negated",
               "a a\ndbl\nlit\nnegated\n");
}

// shopt -s failglob: a glob that matches nothing fails its command (status 1, nothing runs),
// in a word or a redirection target.
TEST_F(ShellFiles, FailglobFailsTheCommand) {
  same_as_bash("shopt -s failglob\necho hi > zz-*-xx\necho status=$?\n"
               "echo zz*\necho status=$?\nshopt -u failglob; echo zz*\n",
               "status=1\nstatus=1\nzz*\n");
}

}  // namespace

// --- the session's write budget (docs/shell.md "Limits") -------------------------------------

namespace {

// Redirections are charged as WASI writes are: each file created is one entry (and 4 KiB), the
// bytes written past a file's end are growth, overwriting is free; beyond the budget a
// redirection fails ("No space left on device", status 1) after writing what fits.
TEST_F(ShellFixture, RedirectionsSpendTheSessionsWriteBudget) {
  auto o = opts();
  o.max_write_entries = 3;
  auto r = run("for i in 1 2 3 4; do echo x > f$i || echo refused $i; done; echo x > f1; echo $?",
               o);
  EXPECT_EQ(r.out, "refused 4\n0\n");
  EXPECT_NE(r.err.find("f4: No space left on device"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(work() / "f4"));

  o = opts();
  o.max_write_bytes = WriteBudget::kEntryBytes + 6;
  r = run("echo 0123456789 > g; echo $?; echo 012 1<> g; echo $?; echo more >> g; echo $?", o);
  EXPECT_EQ(r.out, "1\n0\n1\n");  // what fits, then overwriting (free), then nothing fits
  EXPECT_EQ(wasmcap::testing::read_text(work() / "g"), "012\n45");
  // As bash's builtins on a full disk: each failed write says so.
  EXPECT_EQ(r.err, "wasmcap sh: echo: write error: No space left on device\n"
                   "wasmcap sh: echo: write error: No space left on device\n");
}

// One budget for the whole session: a second script (run()) of the same session does not get a
// fresh one.
TEST_F(ShellFixture, TheWriteBudgetLastsTheSession) {
  auto o = opts();
  o.max_write_entries = 2;
  o.stdout_fd = -1;
  o.stderr_fd = -1;
  auto s = shell::Session::create(o);
  ASSERT_TRUE(s);
  ASSERT_TRUE((*s)->run("echo a > a; echo b > b"));
  ASSERT_TRUE((*s)->run("echo c > c"));
  EXPECT_TRUE(fs::exists(work() / "b"));
  EXPECT_FALSE(fs::exists(work() / "c"));
}

}  // namespace
