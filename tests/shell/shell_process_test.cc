// Process structure and redirections: background jobs (src/shell/jobs.cc: `wait` and `jobs` as
// bash's, and the bounds on a script that starts jobs without end), and redirections
// (src/shell/redirect.cc). Expected outputs are bash's (5.2) unless a comment says why not.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "common/failpoint.h"
#include "shell/parse.h"
#include "shell_fixture.h"
#include "test_support.h"

namespace {

using namespace wasmcap;
using shell::testing::ShellFixture;

// Process substitution `<(list)` (src/shell/procsub.cc) with builtins: the shell's redirections
// read it, several in one command get 63, 62, ...; each list counts among the commands running
// at once, a command runs out of descriptors (10-63) with a message, `exec` refuses to keep one
// open, and recursion through it ends at the live-command cap, never a crash.
TEST_F(ShellFixture, ProcessSubstitutionIsBounded) {
  auto r = run(
      "read v < <(echo val); echo $v\n"
      "while read -r l; do echo \"<$l>\"; done < <(printf 'a\\nb\\n')\n"
      "echo <(:) x<(:)y; echo '<(q)'\n"
      "mapfile -t m < <(echo 1; echo 2); echo ${#m[@]}\n",
      opts());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "val\n<a>\n<b>\n/dev/fd/63 x/dev/fd/62y\n<(q)\n2\n");
  shell::Options o = opts();
  o.max_live_commands = 4;
  // (Lists that keep writing, so that each holds its slot until the command is done.)
  std::string loop = " <(while :; do echo y; done)";
  r = run(":" + loop + loop + loop + loop + loop + "; echo live=$?", o);
  EXPECT_EQ(r.out, "live=1\n");
  EXPECT_NE(r.err.find("more than 4 commands would run at once"), std::string::npos) << r.err;
  std::string many = ":";
  for (int i = 0; i < 55; ++i) many += " <(:)";
  r = run(many + "; echo fds=$?", opts());
  EXPECT_EQ(r.out, "fds=1\n");
  EXPECT_NE(r.err.find("descriptors 10-63 are all in use"), std::string::npos) << r.err;
  r = run("exec 3< <(echo x); echo exec=$?", opts());
  EXPECT_EQ(r.out, "exec=1\n");
  EXPECT_NE(r.err.find("cannot stay open"), std::string::npos) << r.err;
  r = run("f() { read x < <(f); }; f; echo recursion=$?", opts());
  EXPECT_NE(r.out.find("recursion="), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("would run at once"), std::string::npos) << r.err;
}

// A builtin that writes to a pipe nobody reads ends its shell as SIGPIPE ends bash's: status
// 141 (before, `while :; do echo y; done | head -1` ran to --max-commands).
TEST_F(ShellFixture, ABuiltinWritingToAClosedPipeEndsItsShell) {
  auto r = run("while :; do echo y; done | { read l; echo $l; }; echo ${PIPESTATUS[@]}\n"
               "(trap '' PIPE; i=0; while [ $i -lt 3000 ]; do echo y; i=$((i+1)); done; "
               "echo ignored >&2) | { read l; }\n",
               opts());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "y\n141 0\n");
  EXPECT_NE(r.err.find("ignored"), std::string::npos) << r.err;  // trap '' PIPE: it goes on
}

// Whether the reader has already left when a builtin's first bytes arrive is a race between two
// stages (threads here, processes under bash, where the writer nearly always wins): up to a pipe
// buffer's worth is taken as written, as bash's kernel would have buffered it, so the script goes
// on the same way each time; past that the writer ends with 141 (Oils' "Wait for job and
// PIPESTATUS" was 55 or 141 by chance before).
TEST_F(ShellFixture, ABuiltinsFirstBytesToALeavingReaderAreBufferedAsAPipesWouldBe) {
  auto r = run("n=0; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do\n"
               "  { echo hi; echo there; exit 55; } | false\n"
               "  [ \"${PIPESTATUS[*]}\" = '55 1' ] && n=$((n+1))\n"
               "done; echo $n\n"
               "s=$(printf %04000d 0)\n"
               "{ for i in {1..40}; do echo $s; done; exit 55; } | false; echo ${PIPESTATUS[@]}\n",
               opts());
  EXPECT_EQ(r.code, 0) << r.err;
  // 40 x 4,001 bytes: more than the pipe's buffer (if false is slow to leave) and the bytes
  // taken as written after it left hold together. (The bound on such writes' count: the loop
  // of ABuiltinWritingToAClosedPipeEndsItsShell, which would otherwise reach --max-commands.)
  EXPECT_EQ(r.out, "20\n141 1\n");
}

// `>(list)` with builtins: the list reads what the command writes (a redirection to it, or the
// word), to the end: the command closes its end when done and waits for the list; the list's
// stdout is the command's before its redirections (bash: `cmd >(list) > f` prints the list's
// output, not into f); `exec` refuses to keep one open.
TEST_F(ShellFixture, OutputProcessSubstitutionReadsWhatTheCommandWrites) {
  auto r = run(
      "echo hi > >(while read l; do echo \"got $l\"; done)\n"
      "{ echo a; echo b; } > >(read x; read y; echo \"$y$x\")\n"
      "f() { echo \"$1\"; echo one > \"$1\"; echo two >> \"$1\"; }\n"
      "f >(while read -r l; do echo \"$l\"; done) > out; echo \"[$(< out)]\"\n"
      "echo x >(:) y; exec 4> >(cat); echo exec=$?\n",
      opts());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "got hi\nba\none\ntwo\n[/dev/fd/63]\nx /dev/fd/63 y\nexec=1\n");
  EXPECT_NE(r.err.find("cannot stay open"), std::string::npos) << r.err;
}

// wait -n is the job that ends first (not the oldest); %+ / %- are the last and the one before;
// an ID that names no job is 127 with bash's message, a word that is no job spec 2.
TEST_F(ShellFixture, WaitAsBash) {
  auto r = run(
      "f() { while [ ! -e go ]; do :; done; exit 9; }; f & (exit 3) & wait -n; echo next=$?; "
      "echo > go; wait -n; echo next=$?; wait -n; echo none=$?\n"
      "(exit 4) & (exit 5) & wait %-; echo prev=$?; wait %+; echo cur=$?; wait %+; "
      "echo gone=$?\n"
      "(exit 6) & wait -n $! bad 2> err; echo listed=$?; wait -n bad 2>> err; echo bad=$?; "
      "wait zzz 2>> err; echo spec=$?; while read -r l; do echo \"err: $l\"; done < err\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "next=3\nnext=9\nnone=127\nprev=4\ncur=5\ngone=127\nlisted=6\nbad=127\nspec=2\n"
            "err: wasmcap sh: wait: bad: no such job\n"
            "err: wasmcap sh: wait: bad: no such job\n"
            "err: wasmcap sh: wait: `zzz': not a pid or valid job spec\n")
      << r.err;
}

// jobs: bash's lines (-l adds the id, -p is the id alone); a job that has ended is listed once
// more, as Done or Exit N; a subshell (`$(jobs -r)`, `jobs | ...`) lists its parent's jobs.
TEST_F(ShellFixture, JobsListsTheTable) {
  auto r = run(
      "f() { while [ ! -e go ]; do :; done; }; f &\n"
      "jobs; jobs -p; jobs -l; jobs | { n=0; while read -r l; do n=$((n+1)); done; echo lines=$n; }\n"
      "echo > go; wait; jobs; echo none\n"
      "g() { return 3; }; g &\n"
      "while s=$(jobs -r); [ -n \"$s\" ]; do :; done; jobs; jobs; echo once\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "[1]+  Running                 f &\n"
            "1\n"
            "[1]+ 1 Running                 f &\n"
            "lines=1\n"
            "none\n"
            "[2]+  Exit 3                  g\n"
            "once\n")
      << r.err;
}

using shell::testing::private_writable_kib;

// Threat: `while :; do true & done`, never waiting. A job's thread is joined once it has ended
// (when the next job starts), so the jobs that ended hold no stack (7.4 MiB each: 1100 of them
// reserved 8 GiB before), and at most 1024 ended jobs' statuses are kept for `wait ID` (the
// oldest dropped first).
TEST_F(ShellFixture, JobsStartedWithoutEndStayBounded) {
  int in[2], out[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  auto o = opts();
  o.stdin_fd = in[0];
  o.stdout_fd = out[1];
  o.stderr_fd = out[1];
  long kib0 = private_writable_kib();
  long held = -1;
  std::string got;
  std::thread reader([&]() {
    char buf[256];
    for (;;) {
      ssize_t n = ::read(out[0], buf, sizeof buf);  // blocks until the script writes or ends
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
      if (held < 0 && got.find("ready\n") != std::string::npos) {
        held = private_writable_kib() - kib0;  // the script waits on stdin meanwhile
        ::close(in[1]);
      }
    }
  });
  auto r = shell::run_script(
      "i=0; while [ $i -lt 1100 ]; do (exit 7) & i=$((i+1)); done; echo ready; read a\n"
      "wait 1; echo first=$?; wait 1100; echo last=$?\n",
      o);
  ::close(out[1]);
  reader.join();
  ::close(in[0]);
  ::close(out[0]);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(got,
            "ready\nwasmcap sh: wait: pid 1 is not a child of this shell\nfirst=127\nlast=7\n");
  EXPECT_GE(held, 0);
#if !defined(__SANITIZE_ADDRESS__)
  // (Under AddressSanitizer its shadow memory and freed-memory quarantine count as writable
  // mappings too: 578 MiB measured with the jobs bounded, so the Release run asserts the bound.)
  EXPECT_LT(held, 256 << 10) << "ended jobs hold " << (held >> 10) << " MiB";
#endif
}

// A here-document delimiter written with an expansion is that text, never expanded (bash);
// a quoted one makes the body literal. A substitution there stays a parse error (bash's is a
// bug by the Oils spec tests' account).
TEST_F(ShellFixture, HereDocDelimiterWithAnExpansion) {
  auto r = run("a=x; read -r l <<${a}\nbody $a\n${a}\necho \"$l\"\n"
               "read -r m <<\"$a\"\nbody $a\n$a\necho \"$m\"\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "body x\nbody $a\n") << r.err;
  auto s = shell::parse("cat <<$(a)\nhere\n$(a)\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("here-document delimiter with a substitution"),
            std::string::npos)
      << s.error().message;
}

// set -C (noclobber): `>` and `&>` refuse to overwrite a file (status 1, bash's message), `>|`
// does, `>>` appends; shown in $-.
TEST_F(ShellFixture, NoclobberKeepsFiles) {
  auto r = run("echo XX > c; set -o noclobber; echo YY > c; echo st=$?; echo ZZ &> c; "
               "echo st=$?; read -r l < c; echo $l; echo ZZ >| c; echo more >> c; echo new > d; "
               "while read -r l; do echo $l; done < c; read -r l < d; echo $l; "
               "case $- in *C*) echo C;; esac; set +C; echo WW > c; read -r l < c; echo $l\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=1\nst=1\nXX\nZZ\nmore\nnew\nC\nWW\n") << r.err;
  EXPECT_NE(r.err.find("c: cannot overwrite existing file"), std::string::npos) << r.err;
}

// A simple command's {NAME} redirection leaves its descriptor open in the shell (bash without
// varredir_close): the next one takes the next descriptor, and writes to it still work after
// the command; {NAME}>&- closes it. A duplicate of the command's stdout is a copy of its own.
TEST_F(ShellFixture, NamedDescriptorsOutliveTheirCommand) {
  auto r = run("echo {a}> f; echo {b}>&1; echo a=$a b=$b; echo later >&$a; echo out >&$b; "
               "exec {a}>&-; echo closed >&$a; echo st=$?; read -r l < f; echo $l\n"
               "{ echo {c}>&1; } > g; echo kept >&$c; while read -r l; do echo \"g: $l\"; "
               "done < g\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  // (bash -c starts at 11: its own script is on 10)
  EXPECT_EQ(r.out, "\n\na=10 b=11\nout\nst=1\nlater\ng: \ng: kept\n") << r.err;
}

// errexit: a group, if, case or loop whose status is a failure errexit ignored inside it (its
// last list's `false && x`, `! true`) does not end the shell; a function call or a subshell
// does (bash).
TEST_F(ShellFixture, ErrexitThroughCompoundCommands) {
  auto r = run(
      "(set -e; { false && true; }; echo group=$?)\n"
      "(set -e; if true; then false && true; fi; echo if=$?)\n"
      "(set -e; for i in 1; do false && true; done; echo for=$?)\n"
      "(set -e; i=0; while [ $i = 0 ]; do i=1; false && true; done; echo while=$?)\n"
      "(set -e; case x in x) false && true;; esac; echo case=$?)\n"
      "(set -e; { ! true; }; echo not=$?)\n"
      "(set -e; f() { false && true; }; f; echo unreached); echo func=$?\n"
      "(set -e; { false && true; }; ( false && true ); echo unreached); echo sub=$?\n"
      "(set -e; { false; }; echo unreached); echo last=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "group=1\nif=1\nfor=1\nwhile=1\ncase=1\nnot=1\nfunc=1\nsub=1\nlast=1\n")
      << r.err;
}

// `env [NAME=VALUE]... COMMAND` runs COMMAND as a program (never a function) with the
// assignments in its environment only (the env tool cannot start one); `builtin NAME` runs the
// builtin, skipping functions, and nests with `command`.
TEST_F(ShellFixture, EnvAndBuiltinRunCommands) {
  auto r = run(
      "env echo hi; X=1 env Y=2 sh -c 'echo $X $Y'; env -- A=b sh -c 'echo $A'; "
      "echo ${A-unset} ${Y-unset}; echo() { builtin echo fn; }; env echo real; echo via; "
      "unset -f echo\n"
      "builtin echo a; builtin command echo b; command builtin echo c; builtin nope 2> err; "
      "echo st=$?; read -r l < err; echo \"$l\"\n"
      "for i in 1 2 3; do echo $i; builtin break; done; "
      "f() { for i in 1 2; do echo f$i; builtin command return 9; done; }; f; echo ret=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "hi\n1 2\nb\nunset unset\nreal\nfn\na\nb\nc\nst=1\n"
            "wasmcap sh: builtin: nope: not a shell builtin\n1\nf1\nret=9\n")
      << r.err;
}

// time [-p] PIPELINE: the pipeline's status (errexit sees it), then its times on stderr in
// bash's format.
TEST_F(ShellFixture, TimeReportsAPipeline) {
  auto r = run("time { echo a; false; }; echo st=$?; time -p ! false; echo st=$?; "
               "(set -e; time false; echo unreached); echo sub=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "a\nst=1\nst=0\nsub=1\n") << r.err;
  std::regex bash_format("\nreal\t0m0\\.\\d{3}s\nuser\t0m0\\.\\d{3}s\nsys\t0m0\\.\\d{3}s\n"
                         "real 0\\.\\d\\d\nuser 0\\.\\d\\d\nsys 0\\.\\d\\d\n"
                         "\nreal\t0m0\\.\\d{3}s\nuser\t0m0\\.\\d{3}s\nsys\t0m0\\.\\d{3}s\n");
  EXPECT_TRUE(std::regex_match(r.err, bash_format)) << r.err;
}

// kill: a job of this shell (as $! and jobs name it) ends as a signal would end it, 128 + N, the
// rest of the script going on; a job started inside it ends with it; bash's kill -l; STOP and
// the other job-control signals are refused (no job control); 0 asks whether the job is there.
TEST_F(ShellFixture, KillEndsAJobAsBash) {
  auto o = opts();
  o.deadline_ms = 20000;  // (a kill that did not stop a job would leave `wait` waiting)
  // The loops spin until they are killed: on a loaded machine a job can start 10,000 commands
  // before this shell's kill runs, so the deadline, not the command count, bounds this test.
  o.max_commands = uint64_t{1} << 40;
  auto r = run(
      "while :; do :; done & kill -0 $!; echo there=$?; kill $!; wait $!; echo loop=$?\n"
      "{ while :; do :; done & wait; } & kill -s HUP %+; wait $!; echo nested=$?\n"
      "while :; do :; done & kill -STOP %+; echo stop=$?; kill -9 %+; wait; echo all=$?\n"
      "kill -l | { IFS= read -r l; echo \"$l\"; }; kill -l 143 9 HUP; kill; echo usage=$?\n"
      "(exit 3) & wait; kill %1; echo gone=$?; echo after\n",
      o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "there=0\nloop=143\nnested=129\nstop=1\nall=0\n"
            " 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 4) SIGILL\t 5) SIGTRAP\n"
            "TERM\nKILL\n1\nusage=2\ngone=1\nafter\n")
      << r.err;
  EXPECT_NE(r.err.find("Hangup"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Killed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stopping a job is not supported"), std::string::npos) << r.err;
}

// The race c23e371 closed, made deterministic: the outer job's kill falls while the inner job
// it starts is between its start and its registration. Two delays place it there: the inner
// job waits 600 ms before registering (the failpoint shell.job.register's second hit: the first
// is the outer job's own), the kill waits 300 ms before it signals (shell.job.kill), so the
// outer job has reached the inner one's start when the kill lands, and the inner job registers
// after it. The inner job must end with the outer one, as bash's would; before the fix it spun
// until the deadline (exit 82).
TEST(ShellJobs, AJobStartedByAKilledJobIsKilledToo) {
  if (!failpoint::compiled_in()) {
    GTEST_SKIP() << "built without WASMCAP_FAILPOINTS=ON (scripts/test.sh turns it on)";
  }
  wasmcap::testing::ProcOptions o;
  o.extra_env = {{"WASMCAP_FAILPOINTS", "shell.job.register=delay600@2,shell.job.kill=delay300"}};
  auto r = wasmcap::testing::run_cli({"sh", "--timeout-ms", "8000", "--max-commands", "0", "-c",
                             "{ while :; do :; done & wait; } & kill -s HUP %+; wait $!; "
                             "echo nested=$?; wait; echo all=$?"},
                            o);
  EXPECT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "nested=129\nall=0\n") << r.err;
}

// Nothing of the host is ever signalled: a number that is no job of this shell is "No such
// process", whatever process of the host has it (here a child of the test, alive after).
TEST_F(ShellFixture, KillNeverSignalsTheHost) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setpgid(0, 0);
    for (;;) ::pause();
  }
  ::setpgid(child, child);
  std::string p = std::to_string(child);
  auto r = run("kill -9 " + p + "; echo st=$?; kill -s KILL -- -" + p + "; echo st=$?; kill -n 9 " +
               p + " %1; echo st=$?\n");
  int status = 0;
  pid_t w = ::waitpid(child, &status, WNOHANG);
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(w, 0) << "the host process was signalled";
  EXPECT_EQ(r.out, "st=1\nst=1\nst=1\n") << r.err;
  EXPECT_NE(r.err.find("(" + p + ") - No such process"), std::string::npos) << r.err;
}

}  // namespace
