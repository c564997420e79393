// The session's private /tmp and home (Options::private_tmp_home, workspace::Scratch;
// docs/shell.md "/tmp" and "Login environment"): made per session in HOME/tmp, reached through
// the preopen resolver like any grant, removed when the session ends, on SIGTERM, and (what a
// SIGKILL left) at the next start.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "shell_fixture.h"
#include "test_support.h"

namespace {

using namespace wasmcap;
using shell::testing::ShellFixture;
namespace fs = std::filesystem;

struct ShellTmp : ShellFixture {
  fs::path home() { return tmp.path() / "home"; }
  shell::Options tmp_opts() {
    auto o = opts();
    o.private_tmp_home = home().string();
    return o;
  }
  // The scratch directories in HOME/tmp now.
  std::vector<fs::path> scratches() {
    std::vector<fs::path> v;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(home() / "tmp", ec)) v.push_back(e.path());
    return v;
  }
};

// (mktemp, and escapes through tools: commands_test.cc, Installed.PrivateTmp*.)
TEST_F(ShellTmp, DirectoryIsPrivateWhileTheSessionLives) {
  auto s = shell::Session::create(tmp_opts());
  ASSERT_TRUE(s) << s.error().to_string();
  auto v = scratches();
  ASSERT_EQ(v.size(), 2u);  // its /tmp and its home
  for (const auto& d : v) {
    struct stat st;
    ASSERT_EQ(::stat(d.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
  }
  // The /tmp has a system /tmp's sticky bit (no one else may enter it); the home has not.
  auto k = (*s)->run("test -k /tmp && ! test -k ~ && ! test -k /");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->exit_code, 0);
  s->reset();
  EXPECT_TRUE(scratches().empty());
}

// Two sessions at once never see each other's /tmp.
TEST_F(ShellTmp, SessionsAreIsolated) {
  auto a = shell::Session::create(tmp_opts());
  auto b = shell::Session::create(tmp_opts());
  ASSERT_TRUE(a && b);
  auto ra = (*a)->run("echo from-a > /tmp/mine\n");
  ASSERT_TRUE(ra);
  auto rb = (*b)->run("test -e /tmp/mine\n");
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->exit_code, 1) << "session b sees session a's /tmp";
  ASSERT_TRUE((*a)->run("echo from-a > ~/mine\n"));
  auto hb = (*b)->run("test -e ~/mine\n");
  ASSERT_TRUE(hb);
  EXPECT_EQ(hb->exit_code, 1) << "session b sees session a's home";
  EXPECT_EQ(scratches().size(), 4u);
}

// The login environment: HOME (the private home at /home/NAME, writable, the working directory
// of `cd`), PATH, SHELL, exported; USER/LOGNAME with a named user. A HOME the caller gives, or a
// preopen of its own at that path, wins (no home made); a user name that is not a portable one
// is refused, as it would become a path.
TEST_F(ShellTmp, LoginEnvironmentAndPrivateHome) {
  auto r = run(
      "echo $HOME $PATH $SHELL ${USER-none}; echo x > ~/.f && read -r l < ~/.f && echo $l; cd; pwd; "
      "export -p | while read -r l; do "
      "case $l in *HOME=*|*PATH=*|*SHELL=*) echo \"$l\";; esac; done\n",
      tmp_opts());
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "/home/user /usr/bin:/bin /bin/bash none\nx\n/home/user\n"
            "declare -x HOME=\"/home/user\"\ndeclare -x PATH=\"/usr/bin:/bin\"\n"
            "declare -x SHELL=\"/bin/bash\"\n")
      << r.err;
  auto named = tmp_opts();
  named.user = "agent";
  auto n = run("echo $HOME $USER ~agent; : > ~/t && echo made\n", named);
  EXPECT_EQ(n.out, "/home/agent agent /home/agent\nmade\n") << n.err;
  auto given = tmp_opts();
  given.variables.emplace_back("HOME", "/work");
  auto g = run("echo $HOME; test -d /home/user || echo no-home\n", given);
  EXPECT_EQ(g.out, "/work\nno-home\n") << g.err;
  auto bad = tmp_opts();
  bad.user = "../x";
  auto b = shell::Session::create(bad);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("user name"), std::string::npos) << b.error().message;
  auto none = opts();  // no private /tmp: no home either, HOME unset
  auto u = run("echo ${HOME-unset}\n", none);
  EXPECT_EQ(u.out, "unset\n") << u.err;
}

// The caller's own /tmp (--dir HOST::/tmp) and TMPDIR win: no scratch directory is made.
TEST_F(ShellTmp, CallersTmpAndTmpdirWin) {
  fs::create_directories(tmp.path() / "mine");
  auto o = tmp_opts();
  Preopen p;
  p.host_path = (tmp.path() / "mine").string();
  p.guest_path = "/tmp";
  o.preopens.push_back(p);
  o.variables.emplace_back("TMPDIR", "/work");
  auto r = run("echo $TMPDIR; echo x > /tmp/f\n", o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "/work\n") << r.err;
  EXPECT_TRUE(fs::exists(tmp.path() / "mine" / "f"));
  EXPECT_TRUE(scratches().empty());
}

// A scratch directory nobody holds (its process was SIGKILLed) is removed by the next start;
// one a live session holds is not.
TEST_F(ShellTmp, LeftoverOfAKilledRunIsSweptAtStart) {
  fs::create_directories(home() / "tmp" / "sh-0123456789abcdef" / "d");
  std::ofstream(home() / "tmp" / "sh-0123456789abcdef" / "d" / "f") << "left\n";
  ::chmod((home() / "tmp").c_str(), 0700);
  auto live = shell::Session::create(tmp_opts());
  ASSERT_TRUE(live);
  EXPECT_FALSE(fs::exists(home() / "tmp" / "sh-0123456789abcdef"));
  auto second = shell::Session::create(tmp_opts());
  ASSERT_TRUE(second);
  EXPECT_EQ(scratches().size(), 4u) << "a live session's /tmp or home was swept";
}

// `wasmcap sh` itself: SIGTERM removes the session's /tmp before the process dies of it, and
// what a SIGKILL leaves is removed by the next `wasmcap sh`.
pid_t spawn_sh(const fs::path& home, const std::string& script) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("WASMCAP_HOME", home.c_str(), 1);
    ::execl(test_paths::cli(), test_paths::cli(), "sh", "--timeout-ms", "0", "--max-commands", "0",
            "-c", script.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

bool wait_for_file_in_scratch(const fs::path& tmpdir) {
  for (int i = 0; i < 1000; ++i) {
    std::error_code ec;
    for (auto& e : fs::directory_iterator(tmpdir, ec)) {
      if (fs::exists(e.path() / "ready")) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_F(ShellTmp, CliRemovesTmpOnSigtermAndSweepsAfterSigkill) {
  const std::string script = "echo > /tmp/ready; while :; do :; done";
  for (int sig : {SIGTERM, SIGINT, SIGKILL}) {
    pid_t pid = spawn_sh(home(), script);
    ASSERT_TRUE(wait_for_file_in_scratch(home() / "tmp")) << "signal " << sig;
    ASSERT_EQ(::kill(pid, sig), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << status;
    EXPECT_EQ(WTERMSIG(status), sig);
    if (sig == SIGKILL) {
      ASSERT_EQ(scratches().size(), 2u) << "nothing left to sweep: the test shows nothing";
      pid_t next = spawn_sh(home(), "true");
      ASSERT_EQ(::waitpid(next, &status, 0), next);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    EXPECT_TRUE(scratches().empty()) << "signal " << sig;
  }
}

}  // namespace
