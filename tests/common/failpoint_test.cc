// The failpoint mechanism itself (src/common/failpoint.h): each scenario runs in a forked child,
// because the environment is read once per process, at the first hit.
#include "common/failpoint.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

namespace wasmcap {
namespace {

// Runs `body` in a child with WASMCAP_FAILPOINTS=spec; returns the child's wait status.
int in_child(const char* spec, const char* trace, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("WASMCAP_FAILPOINTS", spec, 1);
    if (trace != nullptr) ::setenv("WASMCAP_FAILPOINT_TRACE", trace, 1);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

class Failpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!failpoint::compiled_in()) {
      GTEST_SKIP() << "built without WASMCAP_FAILPOINTS=ON (scripts/test.sh turns it on)";
    }
  }
};

TEST_F(Failpoints, ErrnoOnTheNthHitOnly) {
  int status = in_child("t.a=enospc@2,t.b=eio", nullptr, [] {
    if (failpoint::hit("t.a") != 0) return 1;
    if (failpoint::hit("t.c") != 0) return 2;
    if (failpoint::hit("t.a") != ENOSPC) return 3;
    if (failpoint::hit("t.a") != 0) return 4;
    if (failpoint::hit("t.b") != EIO) return 5;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(Failpoints, KillDiesAtOnce) {
  int status = in_child("t.k=kill", nullptr, [] {
    (void)failpoint::hit("t.k");
    return 0;  // not reached
  });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST_F(Failpoints, TraceListsEveryHit) {
  std::string trace = ::testing::TempDir() + "fp-trace-" + std::to_string(::getpid());
  std::remove(trace.c_str());
  int status = in_child("", trace.c_str(), [] {
    (void)failpoint::hit("t.one");
    (void)failpoint::hit("t.two");
    (void)failpoint::hit("t.one");
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status));
  std::ifstream in(trace);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "t.one\nt.two\nt.one\n");
  std::remove(trace.c_str());
}

TEST_F(Failpoints, DelaySleepsOnTheNthHitAndGoesOn) {
  int status = in_child("t.d=delay300@2", nullptr, [] {
    auto took = [] {
      auto t0 = std::chrono::steady_clock::now();
      if (failpoint::hit("t.d") != 0) return -1.0;
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    if (took() >= 300) return 1;  // the first hit does not wait
    if (took() < 300) return 2;   // the second sleeps at least its 300 ms
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(Failpoints, MalformedSpecAborts) {
  for (const char* bad : {"t.a", "t.a=explode", "t.a=kill@0", "t.a=kill@x", "=kill", "t.a=delay",
                          "t.a=delay0", "t.a=delay60001", "t.a=delayx", "t.a=delay5ms"}) {
    int status = in_child(bad, nullptr, [] {
      (void)failpoint::hit("t.a");
      return 0;
    });
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) << bad;
  }
}

}  // namespace
}  // namespace wasmcap
