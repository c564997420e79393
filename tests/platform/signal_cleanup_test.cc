// The signal-cleanup registry (src/platform/signal_cleanup.h). Each case runs in a forked child
// (the handler is per process, once), which reports through files in a temporary directory.
#include "platform/signal_cleanup.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using namespace wasmcap::platform;

namespace {

struct Dir {
  fs::path path;
  Dir() {
    char tmpl[] = "/tmp/wasmcap-sigclean-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~Dir() { fs::remove_all(path); }
};

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

// Forks a child that runs `body` (which signals itself or waits to be signalled) and returns
// its wait status.
template <typename F>
int in_child(F body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

bool exists_soon(const fs::path& p) {
  for (int i = 0; i < 500; ++i) {
    if (fs::exists(p)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// A registered cleanup runs, then the process dies of the signal it got, for each of the three.
TEST(SignalCleanup, RegisteredCleanupsRunThenTheProcessDiesOfTheSignal) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    Dir d;
    const fs::path marker = d.path / "cleaned";
    int status = in_child([&] {
      run_cleanups_on_signals();
      add_signal_cleanup([marker] { touch(marker); });
      ::kill(::getpid(), sig);
      for (;;) ::pause();
    });
    ASSERT_TRUE(WIFSIGNALED(status)) << "signal " << sig << ", status " << status;
    EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_TRUE(fs::exists(marker)) << "signal " << sig;
  }
}

// The cleanup runs whichever thread the signal lands on, and the others keep no lock it needs.
TEST(SignalCleanup, ASignalToAnotherThreadRunsTheCleanups) {
  Dir d;
  const fs::path marker = d.path / "cleaned", ready = d.path / "ready";
  pid_t pid = ::fork();
  if (pid == 0) {
    run_cleanups_on_signals();
    add_signal_cleanup([marker] { touch(marker); });
    std::thread([ready] {
      touch(ready);
      for (;;) ::pause();
    }).detach();
    for (;;) ::pause();
  }
  ASSERT_TRUE(exists_soon(ready));
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_TRUE(fs::exists(marker));
}

// Newest first: a compiler's process group is killed before its directory is removed.
TEST(SignalCleanup, NewestRegistrationRunsFirst) {
  Dir d;
  const fs::path order = d.path / "order";
  int status = in_child([&] {
    run_cleanups_on_signals();
    add_signal_cleanup([order] { std::ofstream(order, std::ios::app) << "old\n"; });
    add_signal_cleanup([order] { std::ofstream(order, std::ios::app) << "new\n"; });
    ::kill(::getpid(), SIGTERM);
    for (;;) ::pause();
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  std::ifstream in(order);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "new\nold\n");
}

// Unregistered: never runs. Nothing registered: the process dies of the signal at once.
TEST(SignalCleanup, AnUnregisteredCleanupNeverRuns) {
  Dir d;
  const fs::path marker = d.path / "cleaned";
  int status = in_child([&] {
    run_cleanups_on_signals();
    uint64_t id = add_signal_cleanup([marker] { touch(marker); });
    if (id == 0) ::_exit(3);
    remove_signal_cleanup(id);
    ::kill(::getpid(), SIGINT);
    for (;;) ::pause();
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_FALSE(fs::exists(marker));
}

// Not installed (an embedder's process) or in a forked child: registering is a no-op (0), and
// the signal is the process's as before.
TEST(SignalCleanup, NothingRegistersWithoutTheFrontEndsConsentOrInAForkedChild) {
  Dir d;
  const fs::path marker = d.path / "cleaned";
  int status = in_child([&] {
    if (add_signal_cleanup([marker] { touch(marker); }) != 0) ::_exit(3);
    run_cleanups_on_signals();
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      if (add_signal_cleanup([marker] { touch(marker); }) != 0) ::_exit(4);
      ::kill(::getpid(), SIGTERM);
      for (;;) ::pause();
    }
    int gs = 0;
    ::waitpid(grandchild, &gs, 0);
    ::_exit(WIFSIGNALED(gs) && WTERMSIG(gs) == SIGTERM ? 0 : 5);
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(marker));
}

// An ignored signal stays ignored (nohup's SIGHUP): installing does not make it fatal.
TEST(SignalCleanup, AnIgnoredSignalStaysIgnored) {
  int status = in_child([] {
    ::signal(SIGHUP, SIG_IGN);
    run_cleanups_on_signals();
    add_signal_cleanup([] {});
    ::kill(::getpid(), SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::_exit(7);
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

}  // namespace
