// `wasmcap sh`: executor (builtins, expansion, globbing, confined redirections, limits, audit)
// and tools from the coreutils bundle. The parser: shell_parse_test.cc; the language:
// shell_lang_test.cc.
#include "wasmcap/shell.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <sys/sysmacros.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>
#include <mutex>

#include "bash_oracle.h"
#include "common/failpoint.h"
#include "shell_fixture.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace wasmcap;
using wasmcap::testing::TempDir;
using wasmcap::shell::testing::ShellFixture;

namespace {

using wasmcap::testing::read_text;
using wasmcap::testing::write_text;

// --- executor, builtins only ---------------------------------------------------------------

TEST_F(ShellFixture, BuiltinsStatusAndLists) {
  auto r = run("echo a b; false; echo $?; true && echo and; false && echo no; false || echo or; "
               "pwd; cd /work; echo ${?}x");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "a b\n1\nand\nor\n/work\n0x\n");
  EXPECT_EQ(run("false").code, 1);
  EXPECT_EQ(run("exit 3; echo no").code, 3);
  EXPECT_EQ(run("exit 3; echo no").out, "");
  EXPECT_EQ(run("echo -n x").out, "x");
}

TEST_F(ShellFixture, QuotingAndVariables) {
  auto r = run("X='a  b'; echo $X; echo \"$X\"; echo '$X' \\$X \"\\$X\"; Y=; echo [$Y] [\"$Y\"]; "
               "echo a\\ b 'c'\"d\"e");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "a b\na  b\n$X $X $X\n[] []\na b cde\n");
}

TEST_F(ShellFixture, TestBuiltin) {
  write_text(work() / "f", "x");
  fs::create_directories(work() / "d");
  auto r = run("test -f f && echo f; test -d d && echo d; [ -e nope ] || echo nope; "
               "[ 2 -gt 10 ] || echo num; [ a = a ] && echo eq; [ ! -z x ] && echo nz; "
               "test 1 -eq x; echo $?; [ 1 = 1; echo $?");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "f\nd\nnope\nnum\neq\nnz\n2\n2\n");
}

TEST_F(ShellFixture, RedirectionsStayInsideThePreopen) {
  auto r = run("echo one > a.txt; echo two >> a.txt; mkdir_missing=1; echo x > sub/none; "
               "echo $?");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(read_text(work() / "a.txt"), "one\ntwo\n");
  EXPECT_EQ(r.out, "1\n");
  // Out of the preopen: by .., by absolute path, through a symlink (file or directory).
  TempDir outside;
  fs::create_symlink(outside.path() / "f", work() / "link");
  fs::create_directory_symlink(outside.path(), work() / "dirlink");
  auto e = run("echo x > ../x; echo $?; echo x > /etc/wasmcap-x; echo $?; echo x > link; echo $?; "
               "echo x > dirlink/f; echo $?; cat_in=1; echo x 2> ../../e; echo $?");
  ASSERT_TRUE(e.result);
  EXPECT_EQ(e.out, "1\n1\n1\n1\n1\n");
  EXPECT_NE(e.err.find("outside the granted directories"), std::string::npos) << e.err;
  EXPECT_NE(e.err.find("link: outside the granted directories (a symlink on the path leads out)"),
            std::string::npos)
      << e.err;
  EXPECT_TRUE(fs::is_empty(outside.path()));
  EXPECT_FALSE(fs::exists(tmp.path() / "x"));
  // Redirections resolve like a tool's open (the WASI resolver): a symlink that stays inside is
  // followed, one whose relative target climbs out is refused.
  fs::create_symlink("a.txt", work() / "inside");
  fs::create_symlink(fs::path("../..") / outside.path().filename() / "f", work() / "climb");
  auto in = run("echo three >> inside; echo $?; echo x > climb; echo $?; cat_=1 < inside; echo $?");
  EXPECT_EQ(in.out, "0\n1\n0\n") << in.err;
  EXPECT_EQ(read_text(work() / "a.txt"), "one\ntwo\nthree\n");
  EXPECT_TRUE(fs::is_empty(outside.path()));
  // /dev/null is the one virtual file.
  auto n = run("echo gone > /dev/null; echo $?");
  EXPECT_EQ(n.out, "0\n");
  // 2>&1 sends stderr where stdout goes.
  auto d = run("nosuch > o.txt 2>&1; echo $?");
  EXPECT_EQ(d.out, "127\n");
  EXPECT_NE(read_text(work() / "o.txt").find("nosuch: command not found"), std::string::npos);
}

// Threat: a NUL byte in a path (a script's text, or a tool's output through $(...)). The kernel
// would see the path cut at the NUL, so the shell would check one path and touch another. The
// confinement primitive refuses such a path (EINVAL), as the WASI host refuses a guest's
// (EILSEQ). Before: `echo x > 'a<NUL>b'` wrote `a`, and `test -e 'a<NUL>zzz'` was true.
TEST_F(ShellFixture, NulBytesInPathsAreRefused) {
  const std::string nul(1, '\0');
  fs::create_directories(work() / "d");
  auto r = run("echo x > 'a" + nul + "b'; echo $?; echo y > a; test -e 'a" + nul + "zzz' || "
               "echo refused; cd 'd" + nul + "x'; echo $?; pwd");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "1\nrefused\n1\n/work\n") << r.err;
  EXPECT_NE(r.err.find("a\\x00b: Invalid argument"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(work() / "a"), "y\n");
}

// Threat: a FIFO (or a device) in the tree. A redirection goes through the same type-checked,
// non-blocking open as a WASI tool's (platform::open_file_or_dir): FIFOs, sockets and devices are
// refused at once, never opened, so the script is not held past its deadline. (Before: `echo x
// > fifo` blocked in open(2) until a reader came, and a device was opened and written.) A helper
// opens the FIFO's other end after a while, so a shell that does open it unblocks and the
// assertions, not a hang, report it.
TEST_F(ShellFixture, RedirectionsRefuseFifosAndDevices) {
  ASSERT_EQ(::mkfifo((work() / "ff").c_str(), 0600), 0);
  bool have_dev = ::mknod((work() / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;
  std::atomic<bool> done{false};
  std::thread unblock([&] {
    // not-timing: a safety net (the FIFO's other end opens after 3 s at the latest)
    for (int i = 0; i < 300 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    int fd = ::open((work() / "ff").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    // not-timing: holds the FIFO open until the test is done
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (fd >= 0) ::close(fd);
  });
  auto o = opts();
  o.deadline_ms = 20000;
  std::string script = "echo x > ff; echo $?; true < ff; echo $?; echo x >> /work/ff; echo $?";
  if (have_dev) script += "; echo x > null; echo $?";
  auto r = run(script, o);
  done = true;
  unblock.join();
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, have_dev ? "1\n1\n1\n1\n" : "1\n1\n1\n") << r.err;
  EXPECT_NE(r.err.find("ff: not a regular file or directory"), std::string::npos) << r.err;
  if (have_dev) {
    EXPECT_NE(r.err.find("null: not a regular file"), std::string::npos) << r.err;
  }
}

TEST_F(ShellFixture, ReadOnlyPreopenRefusesRedirection) {
  auto o = opts();
  o.preopens[0].read_only = true;
  auto r = run("echo x > f; echo $?", o);
  EXPECT_EQ(r.out, "1\n");
  EXPECT_NE(r.err.find("read-only"), std::string::npos);
  EXPECT_FALSE(fs::exists(work() / "f"));
}

TEST_F(ShellFixture, NeverAHostExecutable) {
  // A name is looked up in the table (none here); a path is a script beneath the preopens.
  const std::pair<const char*, const char*> cases[] = {
      {"ls", "command not found"}, {"env", "command not found"},
      {"/bin/ls", "/bin/ls: No such file or directory"},  // (no ls in the table: none in /bin)
      {"/bin/cd", "/bin/cd: No such file or directory"},
      {"./x", "./x: No such file or directory"}};
  for (const auto& [c, why] : cases) {
    auto r = run(std::string(c) + " -c 'echo pwned'");
    ASSERT_TRUE(r.result);
    EXPECT_EQ(r.code, 127) << c;
    EXPECT_EQ(r.out, "") << c;
    EXPECT_NE(r.err.find(why), std::string::npos) << c << ": " << r.err;
  }
  // sh and bash are the shell itself, nested in the same sandbox (docs/shell.md): what they run
  // is looked up the same way, never on the host; /bin/sh is that shell too ("Command paths":
  // a command directory holds what a name runs), /bin/ls without an ls installed is nothing.
  for (const char* c : {"sh", "bash", "/bin/sh", "/usr/bin/bash"}) {
    auto r = run(std::string(c) + " -c 'ls; /bin/ls; env'");
    ASSERT_TRUE(r.result);
    EXPECT_EQ(r.code, 127) << c;
    EXPECT_EQ(r.out, "") << c;
    EXPECT_NE(r.err.find("ls: command not found"), std::string::npos) << c;
    EXPECT_NE(r.err.find("/bin/ls: No such file or directory"), std::string::npos) << c;
    EXPECT_NE(r.err.find("env: command not found"), std::string::npos) << c;
  }
}

// A word shown in a message may come from a tool's output or a file name: control bytes are
// escaped (no forged lines, no terminal escapes) and a huge word is cut.
TEST_F(ShellFixture, MessagesEscapeWords) {
  auto r = run("X=$(echo 'a\x1b[2Kb\rc'); $X; echo x > \"$X\"/f; Y=" + std::string(1000, 'y') +
               "; $Y");
  ASSERT_TRUE(r.result);
  EXPECT_NE(r.err.find("wasmcap sh: a\\x1b[2Kb\\x0dc: command not found\n"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::string(256, 'y') + "...: command not found"), std::string::npos);
}

TEST_F(ShellFixture, Globbing) {
  for (const char* f : {"b.txt", "a.txt", ".hidden.txt", "c.md", "sub/x.txt"}) write_text(work() / f, "");
  auto r = run("echo *.txt; echo '*.txt' \"*\".txt; echo *.none; echo s*/*.txt; echo /work/?.md; "
               "echo .*.txt");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out,
            "a.txt b.txt\n*.txt *.txt\n*.none\nsub/x.txt\n/work/c.md\n.hidden.txt\n");
  // Globbing never lists through a symlink leading out.
  TempDir outside;
  write_text(outside.path() / "secret.txt", "");
  fs::create_directory_symlink(outside.path(), work() / "out");
  EXPECT_EQ(run("echo out/*.txt").out, "out/*.txt\n");
}

TEST_F(ShellFixture, CdStaysInside) {
  fs::create_directories(work() / "d/e");
  TempDir outside;
  fs::create_directory_symlink(outside.path(), work() / "out");
  auto r = run("cd d/e && pwd; cd ..; pwd; cd /work/out; echo $?; cd -P /work/out; echo $?; pwd\n"
                "cd ../../..; echo $? $PWD; cd /nope; echo $?; cd work/d; pwd");
  ASSERT_TRUE(r.result);
  // `..` stops at the guest root, which holds nothing but the preopens.
  EXPECT_EQ(r.out, "/work/d/e\n/work/d\n1\n1\n/work/d\n0 /\n1\n/work/d\n");
  EXPECT_NE(r.err.find("cd: /work/out: outside the granted directories (a symlink on the path leads out)"),
            std::string::npos) << r.err;
}

// `cd /` stands at the guest root even when no preopen is "/" (bash: `cd /; echo $PWD`): the
// shell and its tools start from there, and relative names lead to the preopens. The root is
// the virtual root's directory (docs/shell.md "The file system"): a directory, root's, where
// nothing is written.
TEST_F(ShellFixture, CdToTheGuestRoot) {
  auto r = run("cd /; echo $PWD; pwd; pwd -P; cd -- /; cd ..; echo $PWD $OLDPWD; cd work; pwd\n"
               "cd /; cd -; cd /work/..; pwd; test -d /; echo d=$?; echo x > /f; echo w=$?");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "/\n/\n/\n/ /\n/work\n/work\n/\nd=0\nw=1\n");
  EXPECT_NE(r.err.find("/f: Permission denied"), std::string::npos) << r.err;
}

// cd -P and pwd -P: symlinks resolved by the resolver (beneath the preopen; one leading out is
// refused) and `..` taken after them, as bash's -P; -L (the default) keeps the names as typed.
TEST_F(ShellFixture, CdAndPwdPhysical) {
  fs::create_directories(work() / "a/b/c");
  fs::create_directory_symlink("a/b/c", work() / "lnk");
  auto r = run("cd lnk; pwd; pwd -P; pwd -L; cd ..; pwd; cd lnk; cd -P ..; pwd\n"
               "cd -P /work/lnk; echo $PWD; cd -L /work/lnk; pwd; cd -LP /work/lnk; pwd; cd -PL /work/lnk; pwd\n"
               "cd -P /work/lnk/..; pwd; cd /work/lnk/..; pwd; cd /work/lnk; cd -P .; pwd\n"
               "cd -P /work/../work/lnk/..; pwd; cd -P /usr/../work; pwd\n"
               "cd /; pwd -P; cd -P nope; echo st=$?; pwd -Q; echo st=$?");
  ASSERT_TRUE(r.result);
  // (a `..` above the preopens or at a preopen's top is the virtual root's: lexical)
  EXPECT_EQ(r.out,
            "/work/lnk\n/work/a/b/c\n/work/lnk\n/work\n/work/a/b\n"
            "/work/a/b/c\n/work/lnk\n/work/a/b/c\n/work/lnk\n"
            "/work/a/b\n/work\n/work/a/b/c\n/work/a/b\n/work\n"
            "/\nst=1\nst=2\n") << r.err;
  EXPECT_NE(r.err.find("pwd: -Q: invalid option\npwd: usage: pwd [-LP]"), std::string::npos) << r.err;
}

TEST_F(ShellFixture, PipelineOfBuiltinsAndSubshellState) {
  auto r = run("echo a | echo b; cd /work | true; X=1 | true; echo [$X]");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "b\n[]\n");
}

// The library, not only the CLI, survives a reader that exits first: the writer sees EPIPE and
// the host process never gets a fatal SIGPIPE (this test process keeps SIGPIPE's default).
TEST_F(ShellFixture, EarlyExitingReaderNeverKillsTheHost) {
  std::string script;
  for (int i = 0; i < 200; ++i) script += "echo aaaaaaaaaaaaaaaa | true; ";
  script += "echo done";
  auto r = run(script);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "done\n");
}

TEST_F(ShellFixture, CommandLimitAndAudit) {
  auto o = opts();
  o.max_commands = 3;
  o.invocation_id = "inv-1";
  auto r = run("echo 1; echo 2; echo 3; echo 4; echo 5", o);
  ASSERT_FALSE(r.result);
  EXPECT_EQ(r.result.error().code, ErrorCode::kFuelExhausted);
  EXPECT_EQ(r.out, "1\n2\n3\n");
  auto a = run("echo hi; nosuch x; false");
  ASSERT_EQ(a.audit.size(), 3u);
  auto j0 = nlohmann::json::parse(a.audit[0]);
  EXPECT_EQ(j0["event"], "shell_command");
  EXPECT_EQ(j0["argv"], nlohmann::json::array({"echo", "hi"}));
  EXPECT_EQ(j0["exit"], 0);
  auto j1 = nlohmann::json::parse(a.audit[1]);
  EXPECT_EQ(j1["kind"], "not_found");
  EXPECT_EQ(j1["exit"], 127);
  EXPECT_EQ(j1["invocation_id"], j0["invocation_id"]);
  EXPECT_EQ(nlohmann::json::parse(a.audit[2])["exit"], 1);
}

// Record or refuse (#37): each command's shell_command_start record is written before the
// command does anything, and a command whose record cannot be written does not run: the script
// stops with io_error. Before: records came only after each command, and a sink that failed
// (full disk) was ignored, so commands ran unrecorded.
TEST_F(ShellFixture, EveryCommandIsRecordedBeforeItRuns) {
  auto a = run("echo hi > out.txt; nosuch x");
  ASSERT_TRUE(a.result);
  ASSERT_EQ(a.audit_all.size(), 4u);
  auto s0 = nlohmann::json::parse(a.audit_all[0]);
  EXPECT_EQ(s0["event"], "shell_command_start");
  EXPECT_EQ(s0["argv"], nlohmann::json::array({"echo", "hi"}));
  EXPECT_EQ(nlohmann::json::parse(a.audit_all[1])["event"], "shell_command");
  EXPECT_EQ(nlohmann::json::parse(a.audit_all[2])["event"], "shell_command_start");
  EXPECT_EQ(nlohmann::json::parse(a.audit_all[3])["event"], "shell_command");

  // A sink that refuses the second record (the first command's end): the first command ran,
  // the script stops there with io_error, and the second command never runs (no file).
  struct Failing : audit::Sink {
    int left;
    std::vector<std::string> got;
    explicit Failing(int n) : left(n) {}
    Result<void> append(std::string_view l) override {
      if (left-- <= 0) return make_error(ErrorCode::kIo, "audit record not written: disk full");
      got.emplace_back(l);
      return {};
    }
  };
  for (int ok_records : {0, 1, 2}) {
    fs::remove(work() / "one.txt");
    fs::remove(work() / "two.txt");
    auto o = opts();
    auto sink = std::make_shared<Failing>(ok_records);
    o.audit = sink;
    auto r = shell::run_script("echo 1 > one.txt; echo 2 > two.txt; echo 3", std::move(o));
    ASSERT_FALSE(r) << ok_records;
    EXPECT_EQ(r.error().code, ErrorCode::kIo);
    EXPECT_NE(r.error().message.find("disk full"), std::string::npos) << r.error().message;
    // 0 records: nothing ran. 1 (the start): the first command ran, its end was refused, the
    // script stopped. 2: the first command is fully recorded, the second's start was refused.
    EXPECT_EQ(fs::exists(work() / "one.txt"), ok_records >= 1) << ok_records;
    EXPECT_FALSE(fs::exists(work() / "two.txt")) << ok_records;
  }
}

TEST_F(ShellFixture, CommandSubstitution) {
  fs::create_directories(work() / "d");
  auto r = run("X=$(echo a   b); echo \"[$X]\"; echo [$(echo \" a  b \")]; "
               "echo \"[$(echo \" a  b \")]\"; echo \"$(echo \"nested $(echo deep)\")\"; "
               "echo [$(echo)] [\"$(echo)\"] [$()]; "
               "Y=$(false); echo $?; echo $(false); echo $?; $(exit 4); echo $?; "
               "Z=$(exit 3) && echo no || echo st=$?; "
               "echo $(cd /work/d; pwd) $(pwd); echo $(V=1; echo v$V)[$V]; echo $(exit 5; echo no)");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "[a b]\n[ a b ]\n[ a  b ]\nnested deep\n[] [] []\n1\n\n0\n4\nst=3\n"
            "/work/d /work\nv1[]\n\n")
      << r.out;
}

TEST_F(ShellFixture, CommandSubstitutionFieldsAndTargets) {
  fs::create_directories(work() / "d");
  // Trailing newlines only are stripped; inner newlines split unquoted, stay quoted; the
  // output can name a redirection target and a command.
  auto r = run("echo \"$(echo a; echo; echo b; echo; echo)|\"; echo [$(echo a; echo b)]; "
               "echo data > $(echo f.txt); echo $(test -f f.txt && echo yes); "
               "$(echo echo) ran; echo x$(echo)y; D=$(echo d); cd $D; pwd");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "a\n\nb|\n[a b]\nyes\nran\nxy\n/work/d\n");
  EXPECT_EQ(read_text(work() / "f.txt"), "data\n");
  // Errors inside go to the script's stderr, not into the capture nor the command's 2>.
  auto e = run("X=$(nosuch); echo [$X] $?; echo $(nosuch) 2>/dev/null");
  EXPECT_EQ(e.out, "[] 127\n\n");
  EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 2) << e.err;
  // Inside a pipeline stage: the substitution reads that stage's stdin.
  EXPECT_EQ(run("echo b | echo a$(true)c").out, "ac\n");
}

TEST_F(ShellFixture, CommandSubstitutionLimits) {
  // The capture is bounded: past it the script stops with output_limit.
  auto o = opts();
  o.max_substitution_bytes = 100;
  std::string big(150, 'x');
  auto r = run("X=$(echo " + big + "); echo never", o);
  ASSERT_FALSE(r.result);
  EXPECT_EQ(r.result.error().code, ErrorCode::kOutputLimit);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(run("X=$(echo " + std::string(90, 'x') + "); echo ok", o).result);
  // Inner commands count toward the script's command limit, and are audited with its id.
  auto c = opts();
  c.max_commands = 3;
  auto l = run("echo $(echo 1; echo 2; echo 3)", c);
  ASSERT_FALSE(l.result);
  EXPECT_EQ(l.result.error().code, ErrorCode::kFuelExhausted);
  auto a = run("echo $(echo in)");
  ASSERT_EQ(a.audit.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(a.audit[0])["argv"], nlohmann::json::array({"echo", "in"}));
  EXPECT_EQ(nlohmann::json::parse(a.audit[1])["argv"], nlohmann::json::array({"echo", "in"}));
  EXPECT_EQ(nlohmann::json::parse(a.audit[0])["invocation_id"],
            nlohmann::json::parse(a.audit[1])["invocation_id"]);
}

// --- the shell's own host-side work is bounded (shell::Options, src/shell/budget.h) ---------

// `A=$A$A` doubles a variable: before, 24 rounds took 925 MB. The budget (1 MiB here) is charged
// where the shell allocates; past it the assignment fails with status 1 and a message naming the
// bound, the variable keeps its last value, and the script goes on.
TEST_F(ShellFixture, ShellMemoryBudgetBoundsVariables) {
  auto o = opts();
  o.max_shell_memory_bytes = 1u << 20;
  o.stderr_fd = -1;
  std::string script = "A=0123456789abcdef";
  for (int i = 0; i < 24; ++i) script += "; A=$A$A || echo refused";
  script += "; echo after";
  fs::path out = tmp.path() / "budget.out", err = tmp.path() / "budget.err";
  int ofd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int efd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  o.stdout_fd = ofd;
  o.stderr_fd = efd;
  auto s = shell::Session::create(o);
  ASSERT_TRUE(s);
  auto r = (*s)->run(script);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_LE((*s)->memory_in_use(), 1u << 20);
  EXPECT_GE((*s)->memory_in_use(), 128u << 10);  // A kept its last value (2^k * 16 bytes)
  // The session goes on; the variable still works; clearing it returns its memory.
  ASSERT_TRUE((*s)->run("B=$A; A=; B=; echo cleared"));
  EXPECT_LT((*s)->memory_in_use(), 4096u);
  ::close(ofd);
  ::close(efd);
  std::string o_text = read_text(out), e_text = read_text(err);
  EXPECT_NE(o_text.find("refused\n"), std::string::npos) << o_text;
  EXPECT_NE(o_text.find("after\ncleared\n"), std::string::npos) << o_text;
  EXPECT_NE(e_text.find("out of shell memory"), std::string::npos) << e_text;
  EXPECT_NE(e_text.find("at most 1 MiB"), std::string::npos) << e_text;
  EXPECT_NE(e_text.find("--max-shell-memory"), std::string::npos) << e_text;
}

// The parsed script counts too: before, a 16 MiB script of short words made the parser hold
// 1.1-1.6 GB. Its nodes are charged as they are made; over the budget the script is refused
// (memory_limit, nothing runs) and nothing stays charged.
TEST_F(ShellFixture, ShellMemoryBudgetBoundsTheParsedScript) {
  auto o = opts();
  o.max_shell_memory_bytes = 1u << 20;
  auto s = shell::Session::create(o);
  ASSERT_TRUE(s);
  // The session's own variables: PWD, PATH, SHELL, UID, EUID, PPID, OSTYPE, HOSTNAME, PS4, IFS,
  // OPTIND and SHELLOPTS's attribute (about 200 bytes each with the table's node; 2,256 bytes
  // in all), nothing of a script yet.
  const uint64_t at_start = (*s)->memory_in_use();
  EXPECT_LT(at_start, 3072u);
  std::string big = "echo ran > f; true";
  for (int i = 0; i < 100000; ++i) big += " a";  // 200 KB of text, about 10 MB of AST
  auto r = (*s)->run(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kMemoryLimit);
  EXPECT_NE(r.error().message.find("the parsed script does not fit"), std::string::npos);
  EXPECT_NE(r.error().message.find("--max-shell-memory"), std::string::npos);
  EXPECT_FALSE(fs::exists(work() / "f"));
  EXPECT_EQ((*s)->memory_in_use(), at_start);
  EXPECT_TRUE((*s)->run("X=1; echo $X > /dev/null"));
  EXPECT_LT((*s)->memory_in_use(), at_start + 1024u);  // X only: the script's AST was returned
}

// The process's resident memory now (VmRSS), in KiB.
long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Function bodies outlive the script that defined them (an `eval`'s text, one input of the
// interactive session), so each body carries its own charge for as long as it is defined. Before,
// an eval loop defining functions ran on past the budget until --max-commands (about 2,500
// bodies and 756 MiB more RSS here under a 4 MiB budget); now the eval that would pass the budget
// fails and the loop ends (7 bodies, RSS +1 MiB). Redefinition and `unset -f` return a body's
// memory.
TEST_F(ShellFixture, ShellMemoryBudgetBoundsFunctionBodies) {
  auto o = opts();
  o.max_shell_memory_bytes = 4u << 20;
  o.max_commands = 5000;
  fs::path out = tmp.path() / "f.out", err = tmp.path() / "f.err";
  int ofd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int efd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  o.stdout_fd = ofd;
  o.stderr_fd = efd;
  auto s = shell::Session::create(o);
  ASSERT_TRUE(s);
  std::string body;  // 8 KB of text
  for (int k = 0; body.size() < 8000; ++k) body += "echo 0123456789 " + std::to_string(k) + "; ";
  ASSERT_TRUE((*s)->run("b='" + body + "'"));
  // Redefining a function many times costs one body: the old one's charge is returned.
  ASSERT_TRUE((*s)->run("n=0; while [ $n -lt 300 ]; do eval \"g() { $b }\" || break; "
                        "n=$((n+1)); done; echo redefined=$n; unset -f g"));
  long rss0 = rss_kib();
  auto r = (*s)->run("i=0; while eval \"f$i() { $b }\"; do i=$((i+1)); done; echo defined=$i");
  long grown_mib = (rss_kib() - rss0) / 1024;
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_LE((*s)->memory_in_use(), 4u << 20);
  EXPECT_LT(grown_mib, 48) << "RSS grew by " << grown_mib << " MiB under a 4 MiB budget";
  ASSERT_TRUE((*s)->run("f0 > /dev/null && echo called"));  // the functions still work
  // unset -f returns the bodies' memory: what is left is $b and a few small variables.
  ASSERT_TRUE((*s)->run("while [ $i -gt 0 ]; do i=$((i-1)); unset -f f$i; done"));
  EXPECT_LT((*s)->memory_in_use(), 64u << 10);
  ::close(ofd);
  ::close(efd);
  std::string o_text = read_text(out), e_text = read_text(err);
  size_t at = o_text.find("\ndefined=");
  ASSERT_NE(at, std::string::npos) << o_text;
  int defined = std::stoi(o_text.substr(at + 9));
  EXPECT_GE(defined, 2) << o_text;
  EXPECT_LT(defined, 100) << o_text;
  EXPECT_EQ(o_text.rfind("redefined=300\ndefined=", 0), 0u) << o_text;
  EXPECT_NE(o_text.find("\ncalled\n"), std::string::npos) << o_text;
  EXPECT_NE(e_text.find("eval: the parsed script does not fit: out of shell memory"),
            std::string::npos)
      << e_text.substr(0, 500);
}

// The budget covers every kind of shell state, not just variables: words of one command, a
// $(...) capture, and a pipeline stage's copy of the state share it; what a command held is
// returned when it ends.
TEST_F(ShellFixture, ShellMemoryBudgetCoversWordsAndCaptures) {
  auto o = opts();
  o.max_shell_memory_bytes = 256u << 10;
  o.max_substitution_bytes = 0;  // only the budget bounds the capture
  std::string grow = "A=0123456789abcdef";
  for (int i = 0; i < 10; ++i) grow += "; A=$A$A";  // 16 KiB
  std::string words = "echo", capture = "X=$(echo $A";
  for (int i = 0; i < 32; ++i) words += " $A";       // 512 KiB of words
  for (int i = 0; i < 31; ++i) capture += "; echo $A";  // 512 KiB of output
  auto r = run(grow + "; " + words + " > /dev/null; echo words=$?; " + capture +
                   "); echo capture=$?; echo $A | echo stage=$?; echo $A > f; echo ok=$?",
               o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "words=1\ncapture=1\nstage=0\nok=0\n") << r.err;
  EXPECT_EQ(fs::file_size(work() / "f"), (16u << 10) + 1);
  EXPECT_NE(r.err.find("out of shell memory"), std::string::npos) << r.err;
}

// A glob product (`*/../*/../*`): before, 20 directories and 5 levels made 3.2 M words, 590 MB
// and 15-28 s under a 1 s deadline. One command's words and one glob's candidates are capped
// (the command fails with status 1 and says how to raise the cap), and every directory entry
// read is a deadline check.
TEST_F(ShellFixture, GlobProductsAreBounded) {
  for (int i = 0; i < 10; ++i) fs::create_directories(work() / "d" += std::to_string(i));
  auto o = opts();
  o.max_words = 1000;
  auto r = run("echo */../* > /dev/null; echo st=$?; echo */../*/../*/../* | echo piped; "
               "echo d*/../d*/.. | echo ok",
               o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=0\npiped\nok\n") << r.err;
  EXPECT_NE(r.err.find("an expansion produced more than 1000 words"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--max-words"), std::string::npos) << r.err;
  // 10^4 words pass the default cap; the product's memory then counts against the budget.
  auto d = run("echo */../*/../*/../* | echo ok; echo st=$?");
  EXPECT_EQ(d.out, "ok\nst=0\n") << d.err;
}

// globstar's `**` walks a whole tree: its candidates count toward the word cap (a wide tree
// fails the command with the cap's message, status 1), it never enters a symlink to a
// directory (a link to its own ancestor would make it endless), and it walks with no host
// recursion (a tree 300 deep).
TEST_F(ShellFixture, GlobstarIsBoundedAndDoesNotFollowSymlinks) {
  for (int i = 0; i < 40; ++i) {
    for (int j = 0; j < 30; ++j) {
      fs::create_directories(work() / "w" / std::to_string(i) / std::to_string(j));
    }
  }
  fs::path deep = work() / "deep";
  for (int i = 0; i < 300; ++i) deep /= "d";
  fs::create_directories(deep);
  wasmcap::testing::write_text(deep / "leaf.txt", "x");
  fs::create_directory_symlink("..", work() / "deep" / "d" / "up");
  auto o = opts();
  o.max_words = 1000;
  auto r = run("shopt -s globstar; echo w/** > /dev/null; echo wide=$?; a=(deep/**/leaf.txt); "
               "echo ${#a[@]} ${#a[0]}; b=(deep/**/up/d); echo ${b[@]}; c=(deep/**); echo ${#c[@]}",
               o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  // deep/ + 300 x d/ + leaf.txt; deep/, its 300 directories, leaf.txt and the link itself.
  EXPECT_EQ(r.out, "wide=1\n1 " + std::to_string(5 + 2 * 300 + 8) + "\ndeep/d/up/d\n303\n")
      << r.err;
  EXPECT_NE(r.err.find("an expansion produced more than 1000 words"), std::string::npos) << r.err;
}

TEST_F(ShellFixture, GlobProductsSeeTheDeadline) {
  for (int i = 0; i < 20; ++i) fs::create_directories(work() / "d" += std::to_string(i));
  auto o = opts();
  o.max_words = 0;               // no word cap:
  o.max_shell_memory_bytes = 0;  // only the deadline stops the 3.2 M-word product
  o.deadline_ms = 300;
  auto start = std::chrono::steady_clock::now();
  auto r = run("echo */../*/../*/../*/../*; echo never", o);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(r.result);
  EXPECT_EQ(r.result.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(r.out, "");
  EXPECT_LT(secs, 5.0);  // the whole product takes 15 s or more
}

// Builtins' output and the shell's own messages count toward --max-output-bytes like a tool's.
// Before: `echo $A` of 16 MiB wrote all of it under a 1000-byte cap (and the audit said 0).
TEST_F(ShellFixture, BuiltinOutputCountsTowardTheOutputCap) {
  auto o = opts();
  o.max_output_bytes = 1000;
  std::string grow = "A=0123456789abcdef";
  for (int i = 0; i < 12; ++i) grow += "; A=$A$A";  // 64 KiB
  auto r = run(grow + "; echo $A; echo never", o);
  ASSERT_FALSE(r.result);
  EXPECT_EQ(r.result.error().code, ErrorCode::kOutputLimit);
  EXPECT_EQ(r.out, "");
  std::string many;
  for (int i = 0; i < 100; ++i) many += "nosuch; ";
  auto m = run(many + "echo never", o);
  ASSERT_FALSE(m.result);
  EXPECT_EQ(m.result.error().code, ErrorCode::kOutputLimit);
  EXPECT_LE(m.err.size(), 1000u);
  EXPECT_EQ(m.out, "");
  auto a = run("echo hi; test 1 -eq x");
  ASSERT_EQ(a.audit.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(a.audit[0])["stdout_bytes"], 3);
  EXPECT_EQ(nlohmann::json::parse(a.audit[1])["stderr_bytes"], 37);  // "test: x: integer..."
}

// Before: 3000 stages made 3000 threads and 1.4 GB. Stages per pipeline and commands running at
// once in the session (nested $(...) included) are capped; over a cap the pipeline fails with
// status 1 before anything starts, and the script goes on.
TEST_F(ShellFixture, PipelinesAreBounded) {
  auto chain = [](int n) {
    std::string s = "echo x";
    for (int i = 1; i < n; ++i) s += " | echo s";
    return s;
  };
  auto r = run(chain(65) + "; echo st=$?; " + chain(64) + "; echo st=$?");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=1\ns\nst=0\n") << r.err;
  EXPECT_NE(r.err.find("a pipeline of 65 commands: at most 64 per pipeline"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--max-pipeline-stages"), std::string::npos) << r.err;
  auto o = opts();
  o.max_live_commands = 3;
  auto l = run("echo a | echo $(echo b | echo c); echo st=$?; echo a | echo $(echo c); echo st=$?",
               o);
  ASSERT_TRUE(l.result) << l.result.error().to_string();
  EXPECT_EQ(l.out, "\nst=0\nc\nst=0\n") << l.err;
  EXPECT_NE(l.err.find("more than 3 commands would run at once"), std::string::npos) << l.err;
  EXPECT_NE(l.err.find("--max-live-commands"), std::string::npos) << l.err;
}

// The interactive mode's library half: state lasts across runs, a parse error sets $? to 2 and
// runs nothing, limits are per run, exit ends the session.
TEST_F(ShellFixture, SessionKeepsStateAcrossRuns) {
  fs::create_directories(work() / "d");
  fs::path out = tmp.path() / "session.out";
  int ofd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  auto o = opts();
  o.stdout_fd = ofd;
  o.stderr_fd = -1;
  o.max_commands = 2;
  auto s = shell::Session::create(o);
  ASSERT_TRUE(s);
  auto& sh = **s;
  EXPECT_TRUE(sh.run("X=kept; cd d"));
  EXPECT_EQ(sh.cwd(), "/work/d");
  EXPECT_TRUE(sh.run("false"));
  EXPECT_EQ(sh.last_status(), 1);
  EXPECT_TRUE(sh.run("echo $? $X $(pwd)"));
  auto bad = sh.run("echo ran > f; ls ;;");
  ASSERT_FALSE(bad);
  EXPECT_EQ(sh.last_status(), 2);
  EXPECT_FALSE(fs::exists(work() / "d/f"));
  auto limit = sh.run("true; true; true");  // 3 commands: over this run's cap of 2
  ASSERT_FALSE(limit);
  EXPECT_EQ(sh.last_status(), error_exit_code(ErrorCode::kFuelExhausted));
  EXPECT_TRUE(sh.run("true; echo again"));  // the cap is per run
  EXPECT_FALSE(sh.exited());
  EXPECT_TRUE(sh.run("exit 7; echo no"));
  EXPECT_TRUE(sh.exited());
  EXPECT_EQ(sh.last_status(), 7);
  EXPECT_FALSE(sh.run("echo after"));
  ::close(ofd);
  EXPECT_EQ(read_text(out), "1 kept /work/d\nagain\n");
  EXPECT_TRUE(shell::needs_more_input("echo 'a\n"));
  EXPECT_FALSE(shell::needs_more_input("echo a\n"));
}

// An interactive session (Options::interactive: `wasmcap sh` at a terminal, the MCP bash
// tool) is bash -i's shell: `$-` has i, an expansion error abandons what is left of its line and
// the next line runs (the shell and its state stay), aliases are expanded; a script is not.
TEST_F(ShellFixture, InteractiveSessionIsBashI) {
  fs::path out = tmp.path() / "interactive.out";
  int ofd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  auto o = opts();
  o.stdout_fd = ofd;
  o.stderr_fd = -1;
  o.interactive = true;
  auto s = shell::Session::create(o);
  ASSERT_TRUE(s);
  auto& sh = **s;
  EXPECT_TRUE(sh.run("set -u; X=kept; alias ll='echo LL'; case $- in *i*) echo i;; esac"));
  EXPECT_TRUE(sh.run("echo $nope; echo same line\necho next $? $X"));
  EXPECT_FALSE(sh.exited());
  EXPECT_TRUE(sh.run("echo ${y:?gone} no; echo no\nll $X"));
  EXPECT_FALSE(sh.exited());
  EXPECT_TRUE(sh.run("sh -i -c 'alias s=\"echo S\"\ns; echo ${z:?e} no\necho on'; echo $?"));
  ::close(ofd);
  EXPECT_EQ(read_text(out), "i\nnext 1 kept\nLL kept\nS\non\n0\n");
  // A script (not interactive): the first expansion error ends the shell, no alias expands.
  auto r = run("set -u; alias ll='echo LL'\nll 2>/dev/null; case $- in *i*) echo i;; esac\n"
               "echo $nope; echo same line\necho next");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.code, 1);
}

TEST_F(ShellFixture, ParseErrorRunsNothing) {
  auto r = run("echo ran > f; ls ;;");
  ASSERT_FALSE(r.result);
  EXPECT_FALSE(fs::exists(work() / "f"));
}

// --- tools from the coreutils bundle, through the CLI, on the engine under test -------------

struct ToolFixture : ::testing::Test {
  TempDir tmp;
  std::string home() { return (tmp.path() / "home").string(); }
  fs::path work() { return tmp.path() / "work"; }
  void SetUp() override {
    std::string bundles = std::string(test_paths::bundle_dir());
    if (!fs::exists(bundles + "/coreutils.wcb")) GTEST_SKIP() << "no coreutils bundle built";
    fs::create_directories(fs::path(home()) / "trust");
    fs::copy_file(bundles + "/wasmcap-test.pub", fs::path(home()) / "trust/wasmcap-test.pub");
    auto i = sh({"bundle", "install", bundles + "/coreutils.wcb"});
    ASSERT_EQ(i.exit_code, 0) << wasmcap::testing::describe(i);
    fs::create_directories(work());
  }
  wasmcap::testing::ProcResult sh(std::vector<std::string> args,
                                  wasmcap::testing::ProcOptions o = {}) {
    o.extra_env.emplace_back("WASMCAP_HOME", home());
    if (!args.empty() && args[0] == "sh") {
      args.insert(args.begin() + 1, {"--engine", wasmcap::testing::test_engine_name()});
    }
    return wasmcap::testing::run_cli(args, o);
  }
  wasmcap::testing::ProcResult script(const std::string& s, wasmcap::testing::ProcOptions o = {}) {
    return sh({"sh", "--dir", work().string() + "::/work", "-c", s}, o);
  }
};

TEST_F(ToolFixture, PipelinesStreamThroughTools) {
  write_text(work() / "a.txt", "alpha\nbeta\ngamma\nalphabet\n");
  auto r = script("cat a.txt | grep alpha | wc -l; grep -c a a.txt > n.txt; cat n.txt; "
                  "ls | sed s/txt/TXT/");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "2\n4\na.TXT\nn.TXT\n");
}

// --max-output-bytes bounds what reaches the operator (the session's stdout and stderr, and
// descriptors duplicated from them: a background job's copies have other numbers), not the
// bytes between the stages of a pipeline, into a file (the write budget's) or into /dev/null. Before, `seq 1 20000 | tail -n 1` failed with
// output_limit under a 1000-byte cap though it writes 7 bytes, as bash does.
TEST_F(ToolFixture, OnlyWhatReachesTheOperatorCountsTowardTheOutputCap) {
  auto r = sh({"sh", "--dir", work().string() + "::/work", "--max-output-bytes", "1000", "-c",
               "seq 1 20000 | sort -n | tail -n 1; seq 1 20000 > f; wc -l < f; "
               "A=$(seq 1 20000 | wc -c); echo $A; seq 1 20000 > /dev/null; echo done"});
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "20000\n20000\n108894\ndone\n");
  for (const char* to_operator : {"seq 1 100000", "exec 3>&1; seq 1 100000 >&3",
                                  "seq 1 100000 | cat", "seq 1 100000 2>&1 >&2 | cat",
                                  "{ seq 1 100000 >&2; } 2>&1", "seq 1 100000 > /dev/stdout",
                                  "seq 1 100000 > /dev/fd/2", "seq 1 100000 & wait",
                                  "{ seq 1 100000 2>&1 >&2; } & wait",
                                  "exec {v}>&1; seq 1 100000 >&$v"}) {
    SCOPED_TRACE(to_operator);
    auto big = sh({"sh", "--dir", work().string() + "::/work", "--max-output-bytes", "1000",
                   "-c", std::string(to_operator) + "; echo never"});
    EXPECT_EQ(big.exit_code, 84) << wasmcap::testing::describe(big);
    EXPECT_LE(big.out.size() + big.err.size(), 1200u);
    EXPECT_EQ(big.out.find("never"), std::string::npos);
  }
}

// On the interpreter a session loads a bundle's module once (ToolModule::interp): every later
// command of the bundle, pipeline stages at once included, instantiates the loaded module.
// Before, each command decoded the toolbox's 2.9 MB again (3.5 ms of a 7.3 ms `cat`).
TEST_F(ToolFixture, ASessionLoadsABundlesModuleOnce) {
  if (wasmcap::testing::test_engine_name() != std::string("interp")) GTEST_SKIP() << "interp only";
  write_text(work() / "a.txt", "alpha\n");
  wasmcap::testing::ProcOptions po;
  po.extra_env.emplace_back("WASMCAP_FAST_STATS", "1");  // one line per load on stderr
  auto r = script("cat a.txt; cat a.txt | cat; X=$(cat a.txt); echo $X", po);
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "alpha\nalpha\nalpha\n");
  size_t loads = 0;
  for (size_t at = 0; (at = r.err.find("wasmcap-fast-load", at)) != std::string::npos; ++at) {
    ++loads;
  }
  EXPECT_EQ(loads, 1u) << r.err;
}

// The session's write budget is shared by its tools and its redirections (docs/shell.md
// "Limits"): three `cat big > cN` of 400 KiB each under --max-write-mb 1 fill it (the third cut
// where it ends), and a later tool writing a file (cp, through the WASI host) and a builtin
// redirection both find it spent, in the same script.
TEST_F(ToolFixture, ToolsAndRedirectionsShareTheSessionsWriteBudget) {
  write_text(work() / "big", std::string(400u << 10, 'b'));
  auto r = sh({"sh", "--max-write-mb", "1", "--dir", work().string() + "::/work", "-c",
               "for i in 1 2 3; do cat big > c$i; echo $i=$?; done; cp big d; echo cp=$?; "
               ": > e; echo e=$?"});
  EXPECT_EQ(r.out, "1=0\n2=0\n3=1\ncp=1\ne=1\n") << wasmcap::testing::describe(r);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(fs::file_size(work() / "c2"), 400u << 10);
  EXPECT_EQ(fs::file_size(work() / "c3"), (1u << 20) - 3 * 4096 - 2 * (400u << 10));
  EXPECT_FALSE(fs::exists(work() / "d"));
}

// kill interrupts the job's tool (its engine's interrupt flag, not the session's): the job ends
// with 128 + the signal at once, and the script and its later tools go on.
TEST_F(ToolFixture, KillInterruptsAJobsTool) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = script("sleep 30 & kill $!; wait $!; echo st=$?; sleep 30 | cat & kill -s HUP %+; "
                  "wait; echo all=$?; echo after | cat");
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "st=143\nall=0\nafter\n");
  EXPECT_NE(r.err.find("Hangup"), std::string::npos) << r.err;
  EXPECT_LT(secs, 20.0);
}

// `yes | mapfile`: the tool writing without end into mapfile stops at the word cap, or with
// the cap off at the memory budget (status 1, the bound named), yes ends on the closed pipe,
// and the script goes on.
TEST_F(ToolFixture, YesIntoMapfileStopsAtTheBound) {
  auto r = script("yes | { mapfile; echo st=$? ${#MAPFILE[@]}; }; seq 3 | { mapfile -t; "
                  "echo ${MAPFILE[2]}; }; echo after");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "st=1 100000\n3\nafter\n");
  EXPECT_NE(r.err.find("mapfile read more than 100000 lines"), std::string::npos) << r.err;
  auto m = sh({"sh", "--max-words", "0", "--max-shell-memory", "1048576", "--dir",
               work().string() + "::/work", "-c", "yes | mapfile; echo st=$?; echo after"});
  ASSERT_EQ(m.exit_code, 0) << wasmcap::testing::describe(m);
  EXPECT_EQ(m.out, "st=1\nafter\n");
  EXPECT_NE(m.err.find("out of shell memory"), std::string::npos) << m.err;
}

// The tools' virtual /dev (docs/shell.md "/dev"): /dev/null reads nothing and discards, /dev/zero
// and /dev/urandom stream (the session's --random: one seed, the same bytes), the shell's `test`
// sees character devices, /dev is not listed; reading /dev/zero for ever ends at the session's
// output cap (a pipe's bytes count) or deadline.
TEST_F(ToolFixture, DevFilesForTools) {
  auto dev = [&](const std::string& s, std::vector<std::string> flags = {}) {
    std::vector<std::string> a = {"sh", "--random", "seed=5", "--dir", work().string() + "::/work"};
    a.insert(a.end(), flags.begin(), flags.end());
    a.insert(a.end(), {"-c", s});
    return sh(a);
  };
  auto r = dev("cat /dev/null; echo st=$?; echo hidden | tee /dev/null | wc -c; head -c 1000 /dev/zero | "
               "wc -c; head -c 16 /dev/urandom | wc -c; test -c /dev/zero && [ -w /dev//null ] && "
               "echo chars; ls /dev/null; echo err | cat > /dev/stderr; ls /dev || echo nolist; "
               "cat /dev/urandom | head -c 3 | wc -c; head -c 12 /dev/urandom | base64");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  auto again = dev("head -c 12 /dev/urandom | base64");
  ASSERT_EQ(again.exit_code, 0) << wasmcap::testing::describe(again);
  EXPECT_EQ(r.out, "st=0\n7\n1000\n16\nchars\n/dev/null\nnolist\n3\n" + again.out);
  EXPECT_EQ(r.err.find("err\n") != std::string::npos, true) << r.err;
  auto flood = dev("cat /dev/zero; echo after", {"--max-output-bytes", "100000"});
  EXPECT_NE(flood.exit_code, 0);
  EXPECT_NE(flood.err.find("output"), std::string::npos) << flood.err;
  // The shell's own redirection from /dev/zero feeds a tool zeros, as the tools' /dev does.
  auto redirected = dev("head -c 4 < /dev/zero | od -An -tx1; od -An -tx1 -N2 0</dev/zero");
  ASSERT_EQ(redirected.exit_code, 0) << wasmcap::testing::describe(redirected);
  EXPECT_EQ(redirected.out, " 00 00 00 00\n 00 00\n");
  auto t0 = std::chrono::steady_clock::now();
  auto endless = dev("cat /dev/zero > /dev/null", {"--timeout-ms", "1500"});
  EXPECT_NE(endless.exit_code, 0);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
}

// The command directories (docs/shell.md "Command paths"): /usr/bin/NAME, /bin/NAME and
// /usr/local/bin/NAME run the program NAME (never a function, never a builtin that is no
// program), PATH starts as /usr/bin:/bin (exported: the login environment), and command -v /
// which print the
// first command directory on PATH, or the bare name when PATH names none.
TEST_F(ToolFixture, CommandPathsAreTheInstalledCommands) {
  auto r = script("echo $PATH; command -v ls sh echo; which ls /bin/cat; /bin/echo hi; "
                  "/usr/local/bin/true && echo t; /usr/bin/env echo e; ls() { echo fn; }; "
                  "/usr/bin/ls -d /work; /bin/cd / 2>/dev/null; echo cd=$?; env | grep -c ^PATH=; "
                  "PATH=/bin; command -v cat; PATH=/nowhere; command -v cat");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "/usr/bin:/bin\n/usr/bin/ls\n/usr/bin/sh\necho\n/usr/bin/ls\n/bin/cat\nhi\nt\n"
                   "e\n/work\ncd=127\n1\n/bin/cat\ncat\n");
}

// Substitutions run tools on the engine under test: pipelines inside, output larger than a
// pipe buffer, status propagation.
TEST_F(ToolFixture, CommandSubstitutionRunsTools) {
  write_text(work() / "a.txt", "alpha\nbeta\ngamma\n");
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "line\n";  // 100 KB: more than a pipe buffer
  write_text(work() / "big.txt", big);
  auto r = script("N=$(cat a.txt | grep a | wc -l); echo n=$N; echo \"$(head -n 1 a.txt)\"; "
                  "X=$(grep nomatch a.txt); echo st=$?; echo $(cat big.txt | wc -l); "
                  "echo $(ls $(echo a.txt))");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "n=3\nalpha\nst=1\n20000\na.txt\n");
}

TEST_F(ToolFixture, EarlyExitingReaderDoesNotHangTheWriter) {
  std::string big;
  for (int i = 0; i < 200000; ++i) big += "line " + std::to_string(i) + "\n";
  write_text(work() / "big.txt", big);  // ~2.3 MB: far beyond any pipe buffer
  auto r = script("cat big.txt | head -n 2; echo done");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "line 0\nline 1\ndone\n");
}

// A tool writing into a pipe whose reader has left ends as SIGPIPE ends it under bash: status
// 141 (seen through pipefail), no "write error" message. Before, `yes | head -1` printed
// "yes: write error: Broken pipe" and its status was 1. As bash with GNU tools prints.
TEST_F(ToolFixture, WriterWhoseReaderLeftEndsAsSigpipe) {
  std::string big;
  for (int i = 0; i < 200000; ++i) big += "line " + std::to_string(i) + "\n";
  write_text(work() / "big.txt", big);  // far beyond a pipe buffer: cat is still writing
  const std::string tools =
      "set -o pipefail; yes | head -1; echo st=$?; seq 1 100000 | head -n 2; echo st=$?; "
      "yes | head -3 | head -1; echo st=$?; set +o pipefail; yes | head -1; echo st=$?\n";
  const std::string want = "y\nst=141\n1\n2\nst=141\ny\nst=141\ny\nst=0\n";
  auto r = script(tools + "set -o pipefail; cat big.txt | head -n 1; echo st=$?");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, want + "line 0\nst=141\n");
  EXPECT_EQ(r.err, "");
  if (!shell::testing::have_bash()) return;
  auto b = shell::testing::run_bash(tools);
  ASSERT_TRUE(b) << "bash failed on: " << tools;
  EXPECT_EQ(*b, want);
}

// env's options that change the command's environment, run by the shell as GNU env runs them:
// -i / - (empty: not even PWD), -u NAME, -uNAME, --unset=NAME, grouped, with --; `unset PWD`
// takes PWD from the tools' environment, as from bash's children.
TEST_F(ToolFixture, EnvRunsCommandsWithAChangedEnvironment) {
  const std::string s =
      "export A=1 B=2; env -i C=3 printenv; env -u A printenv A; echo st=$?; env -uB -- printenv B;"
      "echo st=$?; env --unset=A printenv B; env - D=4 printenv; env -iu A E=5 printenv;"
      "env -i sh -c 'echo [$A]'; unset PWD; printenv PWD; echo st=$?\n";
  const std::string want = "C=3\nst=1\nst=1\n2\nD=4\nE=5\n[]\nst=1\n";
  auto r = script(s);
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(r.err, "");
  if (!shell::testing::have_bash()) return;
  auto b = shell::testing::run_bash(s);
  ASSERT_TRUE(b) << "bash failed on: " << s;
  EXPECT_EQ(*b, want);
}

TEST_F(ToolFixture, ToolsSeeOnlyTheGrantAndCwd) {
  write_text(work() / "sub/f.txt", "in sub\n");
  auto r = script("cd sub && cat f.txt && cat /etc/passwd; echo $?; ls ../..; echo $?");
  EXPECT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out.rfind("in sub\n1\n", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find("root:"), std::string::npos);
}

// After `cd /` (no preopen there) a tool starts in the guest root, as wasi-libc does: relative
// names lead to the preopens, absolute paths work, and the root lists the virtual root's
// directories (docs/shell.md "The file system").
TEST_F(ToolFixture, ToolsStartAtTheGuestRoot) {
  write_text(work() / "f", "hi\n");
  auto r = script("cd /; cat work/f; ls /work; ls; echo st=$?");
  EXPECT_EQ(r.out, "hi\nf\nbin\ndev\nhome\ntmp\nusr\nwork\nst=0\n")
      << wasmcap::testing::describe(r);
}

// The virtual root (docs/shell.md "The file system", src/wasi/virtual_root.h): the shell and its
// tools see one tree above the preopens. `/` lists the preopens' top directories, /dev, /usr and
// the command directories; a `..` at a preopen's top (or after names that came back to it) leads
// there and on into another preopen; commands are root's files that run and are not read;
// nothing is made or changed there; nothing of the host is reachable through it, and a symlink
// still never leads out.
TEST_F(ToolFixture, TheVirtualRootIsOneTreeForTheShellAndItsTools) {
  write_text(work() / "f", "hi\n");
  fs::create_directories(work() / "sub");
  fs::create_directory_symlink("../..", work() / "up");
  auto r = script(
      "echo /*; ls /; ls -d ~/.. /usr/*; cd /work/sub; ls ../..; cat ../../work/f ../f; cd ../..; "
      "pwd; test -d / && test -x /bin/ls && test ! -r /bin/ls && echo cmd; ls /bin | grep -cx ls; "
      "which -a cat; /usr/bin/cat /work/f; cd /usr/bin && ls -d cat; cd /work; ls -ld /dev | cut -c1");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  const std::string top = "bin\ndev\nhome\ntmp\nusr\nwork\n";
  EXPECT_EQ(r.out, "/bin /dev /home /tmp /usr /work\n" + top + "/home/user/..\n/usr/bin\n"
                   "/usr/local\n" + top + "hi\nhi\n/\ncmd\n1\n/usr/bin/cat\n/bin/cat\nhi\ncat\nd\n");
  auto denied = script(
      "mkdir /x; echo mk=$?; touch /bin/new; echo t=$?; rm /bin/ls; echo rm=$?; cat /bin/ls; "
      "echo cat=$?; echo > /y; echo y=$?; ls /etc; cat /work/../../etc/passwd; cat up/etc/passwd; "
      "echo up=$?; cd /dev; echo cd=$?");
  EXPECT_EQ(denied.out, "mk=1\nt=1\nrm=1\ncat=1\ny=1\nup=1\ncd=1\n")
      << wasmcap::testing::describe(denied);
  for (const char* e :
       {"mkdir: cannot create directory '/x': Permission denied\n",
        "touch: cannot touch '/bin/new': Permission denied\n",
        "rm: cannot remove '/bin/ls': Permission denied\n", "cat: /bin/ls: Permission denied\n",
        "/y: Permission denied\n", "ls: cannot access '/etc': No such file or directory\n",
        "cat: /work/../../etc/passwd: No such file or directory\n",
        "cat: up/etc/passwd: Operation not permitted\n", "cd: /dev: Permission denied\n"}) {
    EXPECT_NE(denied.err.find(e), std::string::npos) << e << denied.err;
  }
  EXPECT_EQ(denied.err.find("root:"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp.path() / "x"));
}

// A tool writing into a `>(list)` whose list never reads ends at the script's deadline
// (src/wasi/core.h Core::write_pipe), with or without our own non-blocking description of the
// pipe (failpoint wasi.pipe.reopen: as on a system without /proc, each write waits for room).
TEST_F(ToolFixture, AToolWritingIntoAListThatNeverReadsEndsAtTheDeadline) {
  for (const char* fp : {"", "wasi.pipe.reopen=eio"}) {
    if (*fp != '\0' && !failpoint::compiled_in()) continue;
    wasmcap::testing::ProcOptions o;
    if (*fp != '\0') o.extra_env.emplace_back("WASMCAP_FAILPOINTS", fp);
    auto t0 = std::chrono::steady_clock::now();
    auto r = sh({"sh", "--timeout-ms", "1500", "--dir", work().string() + "::/work", "-c",
                 "yes > >(sleep 30); echo after"},
                o);
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_NE(r.exit_code, 0) << fp << wasmcap::testing::describe(r);
    EXPECT_EQ(r.out, "") << fp;
    EXPECT_NE(r.err.find("deadline"), std::string::npos) << fp << r.err;
    EXPECT_LT(secs, 15.0) << fp;
  }
}

// Commands get the clocks their manifest requests (coreutils: the wall clock, for touch) and
// `sh --clock/--random` pin them as for `run`: two pinned scripts write the same timestamps.
TEST_F(ToolFixture, ClocksArePinnedAndGatedLikeRun) {
  auto pinned = [this](const std::string& dir) {
    fs::create_directories(tmp.path() / dir);
    return sh({"sh", "--clock", "fixed=2026-01-01T00:00:00Z", "--random", "seed=3", "--dir",
               (tmp.path() / dir).string() + "::/work", "-c", "touch a; ls -l a"});
  };
  auto first = pinned("p1");
  ASSERT_EQ(first.exit_code, 0) << wasmcap::testing::describe(first);
  EXPECT_NE(first.out.find("Jan  1 00:00 a"), std::string::npos) << first.out;
  EXPECT_EQ(pinned("p2").out, first.out);
  auto host = script("touch b; ls -l b");
  ASSERT_EQ(host.exit_code, 0) << wasmcap::testing::describe(host);
  EXPECT_EQ(host.out.find("Jan  1 00:00"), std::string::npos) << host.out;
  auto denied = sh({"sh", "--clock", "deny", "--dir", work().string() + "::/work", "-c",
                    "touch c; echo st=$?"});
  EXPECT_EQ(denied.exit_code, 0) << wasmcap::testing::describe(denied);
  EXPECT_NE(denied.out.find("st=1"), std::string::npos) << wasmcap::testing::describe(denied);
}

TEST_F(ToolFixture, DeadlineStopsTheScript) {
  wasmcap::testing::ProcOptions o;
  o.keep_stdin_open = true;  // cat waits on stdin forever
  auto r = sh({"sh", "--timeout-ms", "300", "--dir", work().string() + "::/work", "-c",
               "cat; echo never"}, o);
  EXPECT_EQ(r.exit_code, wasmcap::error_exit_code(wasmcap::ErrorCode::kDeadlineExceeded)) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "");
}

TEST_F(ToolFixture, OutputLimitStopsTheScript) {
  std::string big(100000, 'x');
  write_text(work() / "big.txt", big);
  auto r = sh({"sh", "--max-output-bytes", "1000", "--dir", work().string() + "::/work", "-c",
               "cat big.txt; echo never"});
  EXPECT_EQ(r.exit_code, wasmcap::error_exit_code(wasmcap::ErrorCode::kOutputLimit)) << wasmcap::testing::describe(r);
  EXPECT_LE(r.out.size(), 1000u);
}

TEST_F(ToolFixture, WorkspaceShellNeverTouchesSourceUntilApply) {
  fs::path proj = tmp.path() / "proj";
  write_text(proj / "notes.txt", "old line\n");
  auto c = sh({"ws", "create", "--from", proj.string(), "--name", "p"});
  ASSERT_EQ(c.exit_code, 0) << wasmcap::testing::describe(c);
  auto r = sh({"sh", "--workspace", "p", "--audit-file", (tmp.path() / "audit.jsonl").string(),
               "-c", "pwd; sed -i s/old/new/ notes.txt && echo added > more.txt; rm notes.txt.bak"});
  EXPECT_EQ(r.out, "/work\n") << wasmcap::testing::describe(r);
  EXPECT_EQ(read_text(proj / "notes.txt"), "old line\n");
  auto d = sh({"ws", "diff", "p"});
  EXPECT_NE(d.out.find("-old line\n+new line\n"), std::string::npos) << d.out;
  auto a = sh({"ws", "apply", "p"});
  ASSERT_EQ(a.exit_code, 0) << wasmcap::testing::describe(a);
  EXPECT_EQ(read_text(proj / "notes.txt"), "new line\n");
  EXPECT_EQ(read_text(proj / "more.txt"), "added\n");
  std::string audit = read_text(tmp.path() / "audit.jsonl");
  EXPECT_NE(audit.find("\"argv\":[\"sed\",\"-i\",\"s/old/new/\",\"notes.txt\"]"), std::string::npos)
      << audit;
}

// A plugin granted a workspace (run --workspace, or a host config grants.fs[].workspace) changes
// the shadow only: the real tree is untouched and `ws diff` shows the change.
TEST_F(ToolFixture, PluginRunOnAWorkspaceGrant) {
  fs::path proj = tmp.path() / "proj";
  write_text(proj / "a.txt", "real\n");
  ASSERT_EQ(sh({"ws", "create", "--from", proj.string(), "--name", "p"}).exit_code, 0);
  auto engine = wasmcap::testing::test_engine_name();
  auto r = sh({"run", "--engine", engine, "--workspace", "p", "coreutils", "cp", "a.txt", "b.txt"});
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_FALSE(fs::exists(proj / "b.txt"));
  auto d = sh({"ws", "diff", "p"});
  EXPECT_NE(d.out.find("+real\n"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("b.txt"), std::string::npos) << d.out;
  // The same through the host config: the grant names the workspace instead of a directory.
  fs::path cfg = tmp.path() / "config.json";
  write_text(cfg, R"({"plugins": {"coreutils": {"grants": {"fs": [
      {"guest": "/work", "workspace": "p", "access": "rw"}]}}}})");
  auto c = sh({"run", "--engine", engine, "--config", cfg.string(), "coreutils", "mkdir", "made"});
  ASSERT_EQ(c.exit_code, 0) << wasmcap::testing::describe(c);
  EXPECT_FALSE(fs::exists(proj / "made"));
  auto j = sh({"ws", "diff", "p", "--json"});
  EXPECT_NE(j.out.find("\"made\""), std::string::npos) << j.out;
  EXPECT_EQ(read_text(proj / "a.txt"), "real\n");
  // Refusals: a missing workspace (grant or flag) is not_found; --workspace with --manifest is a
  // usage error (one source of grants).
  write_text(cfg, R"({"plugins": {"coreutils": {"grants": {"fs": [
      {"guest": "/work", "workspace": "gone", "access": "rw"}]}}}})");
  auto g = sh({"run", "--engine", engine, "--config", cfg.string(), "coreutils", "ls"});
  EXPECT_EQ(g.exit_code, 66) << wasmcap::testing::describe(g);
  EXPECT_NE(g.err.find("workspace gone"), std::string::npos) << g.err;
  auto f = sh({"run", "--engine", engine, "--workspace", "gone", "coreutils", "ls"});
  EXPECT_EQ(f.exit_code, 66) << wasmcap::testing::describe(f);
  auto m = sh({"run", "--workspace", "p", "--manifest", (tmp.path() / "m.json").string(),
               "--config", cfg.string()});
  EXPECT_EQ(m.exit_code, 64) << wasmcap::testing::describe(m);
  EXPECT_NE(m.err.find("--workspace cannot be combined with --manifest"), std::string::npos);
}

}  // namespace

namespace {

TEST(ShellCli, UsageErrors) {
  TempDir tmp;
  auto rel = wasmcap::testing::run_cli({"sh", "--dir", tmp.str() + "::rel", "-c", "true"});
  EXPECT_EQ(rel.exit_code, 64) << wasmcap::testing::describe(rel);
  EXPECT_NE(rel.err.find("absolute guest path"), std::string::npos);
  // -c SCRIPT with an operand is not "both -c and FILE": the operand is $0, as in sh -c
  // (issue #32; FirstContact.ShOperandsAreDollarZeroAndTheArgumentsAsInSh has the rest).
  auto both = wasmcap::testing::run_cli({"sh", "--dir", tmp.str() + "::/work", "-c", "echo $0",
                                         (tmp.path() / "script").string()});
  EXPECT_EQ(both.exit_code, 0) << wasmcap::testing::describe(both);
  EXPECT_EQ(both.out, (tmp.path() / "script").string() + "\n");
  // A syntax error in the script is the script's status 2, as in bash and dash (not a usage
  // error): the message names the line, nothing runs.
  auto bg = wasmcap::testing::run_cli({"sh", "--dir", tmp.str() + "::/work", "-c", "echo x > f; ls ;;"});
  EXPECT_EQ(bg.exit_code, 2);
  EXPECT_NE(bg.err.find("wasmcap sh: line 1: ';;' outside a case"), std::string::npos) << bg.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "f"));
  wasmcap::testing::ProcOptions o;
  o.extra_env.emplace_back("WASMCAP_HOME", tmp.str());
  auto ws = wasmcap::testing::run_cli({"sh", "--workspace", "../x", "-c", "true"}, o);
  EXPECT_EQ(ws.exit_code, 64);
}

// The shell's bounds are settable from the command line, and a command over one fails with a
// message naming the flag while the script goes on.
TEST(ShellCli, BoundsAreFlags) {
  TempDir tmp;
  std::string grow = "A=0123456789abcdef";
  for (int i = 0; i < 16; ++i) grow += "; A=$A$A";  // 1 MiB
  auto r = wasmcap::testing::run_cli({"sh", "--dir", tmp.str() + "::/work", "--max-shell-memory",
                                      "1048576", "-c", grow + "; echo st=$?"});
  EXPECT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "st=1\n");
  EXPECT_NE(r.err.find("at most 1 MiB together; raise it with --max-shell-memory"),
            std::string::npos)
      << r.err;
  auto w = wasmcap::testing::run_cli({"sh", "--dir", tmp.str() + "::/work", "--max-words", "2",
                                      "--max-pipeline-stages", "2", "-c",
                                      "echo a b; echo st=$?; true | true | true; echo st=$?"});
  EXPECT_EQ(w.out, "st=1\nst=1\n") << wasmcap::testing::describe(w);
  EXPECT_NE(w.err.find("more than 2 words"), std::string::npos) << w.err;
  EXPECT_NE(w.err.find("at most 2 per pipeline"), std::string::npos) << w.err;
}

// Without -c or FILE and with stdin not a terminal, the script is stdin, read as it runs (as
// bash reads it): a syntax error ends it with status 2 after the commands before it ran. (The
// terminal case: interactive.py; against bash and through a live pipe: stdin_script.py.)
TEST(ShellCli, ScriptFromStdin) {
  TempDir tmp;
  wasmcap::testing::ProcOptions o;
  o.stdin_data = "X=$(echo a)\necho $X > f\ncat_missing=1; echo \"$X b\"\nexit 4\necho never\n";
  auto r = wasmcap::testing::run_cli({"sh", "--dir", tmp.str() + "::/work"}, o);
  EXPECT_EQ(r.exit_code, 4) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "a b\n");
  EXPECT_EQ(read_text(tmp.path() / "f"), "a\n");
  o.stdin_data = "echo x > g\nls ;;\n";
  auto bad = wasmcap::testing::run_cli({"sh", "--dir", tmp.str() + "::/work"}, o);
  EXPECT_EQ(bad.exit_code, 2) << wasmcap::testing::describe(bad);
  EXPECT_EQ(read_text(tmp.path() / "g"), "x\n");
  EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
  // The commands read the rest of the script.
  o.stdin_data = "read -r line\nthe next line\necho \"[$line]\"\n";
  auto rd = wasmcap::testing::run_cli({"sh", "--dir", tmp.str() + "::/work"}, o);
  EXPECT_EQ(rd.out, "[the next line]\n") << wasmcap::testing::describe(rd);
}

}  // namespace
