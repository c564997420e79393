// The AOT compile's bounds (docs/aot.md, "Compile bounds"): the time and memory limits, the
// run's deadline and interrupt, killing wasmcap mid-compile (no compiler process survives, the
// temporary directory is swept), and what the compiler inherits.
//
// The engine, runtime and WASI suites also run whole on aot (ctest prefix "aot:"); the
// aot_*_test.cc files hold what only the AOT engine has (their helpers: aot_test_support.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "aot_test_support.h"
#include "engine/aot/translate.h"
#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::guest_bytes;
using testing::TempDir;
using testing::tmp_dirs;
using testing::slow_compiler;
using testing::unique_marker;
using testing::failing_compiler;
using testing::slow_to_compile_module;
using testing::processes_with;
using testing::wait_gone;

// --- compile bounds (docs/aot.md, "Compile bounds") -------------------------------------------

// Runs the hello guest with `o`, its interrupt flag raised 300 ms in; `elapsed` is the run's
// wall time.
testing::Captured run_interrupted_after_300ms(RunOptions o,
                                             std::chrono::steady_clock::duration* elapsed) {
  std::atomic<bool> stop{false};
  o.interrupt = &stop;
  std::thread raiser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  const auto start = std::chrono::steady_clock::now();
  testing::Captured c = testing::run_guest(guest_bytes("hello"), o);
  *elapsed = std::chrono::steady_clock::now() - start;
  raiser.join();
  return c;
}

// A compiler that does not finish is killed at the compile time limit, with its whole process
// group (the grandchild too), and the failure is compile_limit; no temporary directory is left.
TEST(AotCompileBounds, SlowCompilerIsKilledAtTheTimeLimit) {
  TempDir cache;
  TempDir bin;
  const std::string marker = unique_marker();
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.compiler = slow_compiler(bin.path(), marker);
  o.compile_timeout_ms = 500;
  auto engine = make_aot_engine(o);
  auto bytes = guest_bytes("traps");
  auto start = std::chrono::steady_clock::now();
  auto m = engine->load(bytes.data(), bytes.size());
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kCompileLimit) << m.error().to_string();
  EXPECT_NE(m.error().message.find("--compile-timeout-ms"), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_EQ(wait_gone(marker, 2000), std::vector<std::string>{});
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
}

// A compile on a run's behalf ends at the run's deadline (deadline_exceeded), not 60 s later.
TEST(AotCompileBounds, RunDeadlineStopsTheCompile) {
  TempDir cache;
  TempDir bin;
  const std::string marker = unique_marker();
  RunOptions o;
  o.engine = "aot";
  o.aot.cache_dir = cache.path().string();
  o.aot.compiler = slow_compiler(bin.path(), marker);
  o.timeout_ms = 400;
  auto start = std::chrono::steady_clock::now();
  auto c = testing::run_guest(guest_bytes("hello"), o);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kDeadlineExceeded) << c.report.error().to_string();
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_EQ(wait_gone(marker, 2000), std::vector<std::string>{});
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});

  // The run's interrupt flag stops it too.
  o.timeout_ms = 0;
  c = run_interrupted_after_300ms(o, &elapsed);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kDeadlineExceeded) << c.report.error().to_string();
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_EQ(wait_gone(marker, 2000), std::vector<std::string>{});
}

// A run that finds another compile of its module under way waits for it (then reuses the
// object), but only until its own deadline or interrupt: the wait is part of the run. Before, the
// lock was taken with a blocking flock: a 60 s run waited 143 s for a background compile.
TEST(AotCompileBounds, WaitingForAnotherCompileEndsAtTheRunsDeadline) {
  TempDir cache;
  TempDir bin;
  const std::string marker = unique_marker();
  RunOptions first;
  first.engine = "aot";
  first.aot.cache_dir = cache.path().string();
  first.aot.compiler = slow_compiler(bin.path(), marker);
  std::atomic<bool> stop_first{false};
  first.interrupt = &stop_first;
  std::thread compiling([&] { testing::run_guest(guest_bytes("hello"), first); });
  // The first run holds the entry's lock once its compiler runs.
  for (int i = 0; i < 1000 && processes_with(marker).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(processes_with(marker).empty()) << "the first compile did not start";

  RunOptions second = first;
  second.interrupt = nullptr;
  second.timeout_ms = 400;
  auto start = std::chrono::steady_clock::now();
  auto c = testing::run_guest(guest_bytes("hello"), second);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kDeadlineExceeded) << c.report.error().to_string();
  EXPECT_NE(c.report.error().message.find("waiting for another compile"), std::string::npos)
      << c.report.error().to_string();
  EXPECT_LT(elapsed, std::chrono::seconds(5));

  // The interrupt ends the wait too.
  c = run_interrupted_after_300ms(first, &elapsed);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kDeadlineExceeded) << c.report.error().to_string();
  EXPECT_LT(elapsed, std::chrono::seconds(5));

  stop_first = true;
  compiling.join();
  EXPECT_EQ(wait_gone(marker, 2000), std::vector<std::string>{});
}

// --engine auto runs on the interpreter when the compile (in the foreground: --wait-for-compile;
// the background compile is tests/engine/aot_start_test.cc's) hits its limit.
TEST(AotCompileBounds, AutoFallsBackToTheInterpreterAtTheCompileLimit) {
  TempDir cache;
  TempDir bin;
  const std::string marker = unique_marker();
  RunOptions o;
  o.engine = "auto";
  o.wait_for_compile = true;
  o.aot.cache_dir = cache.path().string();
  o.aot.compiler = slow_compiler(bin.path(), marker);
  o.aot.compile_timeout_ms = 300;
  o.wasi.args = {"hello"};
  auto c = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.out, "hello from wasm\n");
  EXPECT_EQ(wait_gone(marker, 2000), std::vector<std::string>{});
}

// The real C compiler under a small memory limit runs out of it: compile_limit, nothing cached,
// no temporary directory left.
TEST(AotCompileBounds, MemoryLimitStopsTheRealCompiler) {
  TempDir cache;
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.opt_level = 1;
  o.compile_memory_mb = 64;
  auto engine = make_aot_engine(o);
  auto bytes = guest_bytes("hello");
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kCompileLimit) << m.error().to_string();
  EXPECT_NE(m.error().message.find("--compile-memory-mb"), std::string::npos);
  EXPECT_EQ(testing::files_ending(cache.path(), ".so").size(), 0u);
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
}

// The real gcc on that module is stopped at a 1 s compile limit: compile_limit, and neither the
// driver nor cc1 survives (they are killed as a process group), no temporary directory is left.
TEST(AotCompileBounds, RealCompilerOnASlowModuleIsKilledAtTheTimeLimit) {
  TempDir cache;
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.opt_level = 2;
  o.compile_timeout_ms = 1000;
  auto engine = make_aot_engine(o);
  auto bytes = slow_to_compile_module();
  // The limit bounds the C compile only; validation and translation come before it. Under a
  // loaded machine they take seconds, so the allowance is measured: the same translation,
  // timed here, counted twice (validation is cheaper than translation), plus 7 s of slack. An
  // unbounded gcc -O2 on this module takes far longer than that.
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(aot::translate(bytes.data(), bytes.size()).has_value());
  auto before_compile = 2 * (std::chrono::steady_clock::now() - t0);
  auto start = std::chrono::steady_clock::now();
  auto m = engine->load(bytes.data(), bytes.size());
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kCompileLimit) << m.error().to_string();
  EXPECT_NE(m.error().message.find("--compile-timeout-ms"), std::string::npos)
      << m.error().to_string();
  EXPECT_LT(elapsed, before_compile + std::chrono::seconds(8))
      << "translation alone took " << std::chrono::duration<double>(before_compile).count() / 2
      << " s";
  EXPECT_EQ(wait_gone(cache.path().string(), 2000), std::vector<std::string>{});
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
}

// `wasmcap compile` of the slow module in `cache`, started and waited for until the compiler
// proper (cc1) is at work on it. Every process of the compile names the cache directory:
// wasmcap and its supervisor (the module lives there), gcc's driver and cc1 (the temporary
// directory does).
pid_t start_slow_compile(const fs::path& cache) {
  fs::path module = cache / "slow.wasm";
  auto bytes = slow_to_compile_module();
  testing::write_text(module, std::string(bytes.begin(), bytes.end()));
  pid_t pid = fork();
  if (pid == 0) {
    setenv("WASMCAP_CACHE_DIR", cache.c_str(), 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(testing::cli_path().c_str(), "wasmcap", "compile", module.c_str(), nullptr);
    _exit(127);
  }
  bool running = false;
  for (int i = 0; i < 500 && !running && pid > 0; ++i) {
    for (const auto& p : processes_with(cache.string())) running |= p.find("cc1") != std::string::npos;
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(running) << "cc1 never started";
  return pid;
}

// SIGKILL of wasmcap in the middle of a compile leaves no compiler process behind (gcc's
// driver and cc1 alike), and the temporary directory it left is removed by the next compile.
TEST(AotCompileBounds, KillingWasmcapKillsTheWholeCompiler) {
  TempDir cache;
  const std::string needle = cache.path().string();
  pid_t pid = start_slow_compile(cache.path());
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(wait_gone(needle, 3000), std::vector<std::string>{});
  ASSERT_EQ(tmp_dirs(cache.path()).size(), 1u) << "the killed process's temporary directory";

  // The next compile (of another module, same cache) sweeps it.
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.opt_level = 1;
  auto engine = make_aot_engine(o);
  auto traps = guest_bytes("traps");
  auto m = engine->load(traps.data(), traps.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
}

// SIGINT, SIGTERM or SIGHUP of wasmcap in the middle of a compile: it removes the compile's
// temporary directory itself before it dies of the signal (src/platform/signal_cleanup.h), and
// leaves no compiler process behind.
TEST(AotCompileBounds, StoppingWasmcapBySignalRemovesTheTemporaryDirectory) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    TempDir cache;
    pid_t pid = start_slow_compile(cache.path());
    ASSERT_GT(pid, 0);
    ASSERT_EQ(tmp_dirs(cache.path()).size(), 1u) << "signal " << sig << ": no compile to stop";
    kill(pid, sig);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "signal " << sig << ", status " << status;
    EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{}) << "signal " << sig;
    EXPECT_EQ(wait_gone(cache.path().string(), 3000), std::vector<std::string>{});
  }
}

// The compiler inherits none of wasmcap's descriptors: not the cache entry's lock (a compiler
// outliving wasmcap would keep the entry locked), not an embedder's descriptor opened without
// O_CLOEXEC.
TEST(AotCompileBounds, CompilerInheritsNoDescriptors) {
  TempDir cache;
  TempDir bin;
  fs::path listing = bin.path() / "fds.txt";
  fs::path cc = failing_compiler(bin.path(), "fdcc", "ls -l /proc/$$/fd > '" + listing.string() + "'\n");
  int leak = open((bin.path() / "embedder-file").c_str(), O_RDWR | O_CREAT, 0600);  // no O_CLOEXEC
  ASSERT_GE(leak, 0);
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.compiler = cc.string();
  auto engine = make_aot_engine(o);
  auto bytes = guest_bytes("traps");
  auto m = engine->load(bytes.data(), bytes.size());
  close(leak);
  ASSERT_FALSE(m.has_value());
  std::string fds = testing::read_text(listing);
  ASSERT_NE(fds.find("cc.log"), std::string::npos) << fds;  // the listing is real
  EXPECT_EQ(fds.find("embedder-file"), std::string::npos) << fds;
  EXPECT_EQ(fds.find(".lock"), std::string::npos) << fds;
}

// A temporary directory of a compile still in progress (its key's lock is held) is kept.
TEST(AotCompileBounds, SweepKeepsTheTemporaryDirectoryOfALiveCompile) {
  TempDir cache;
  const std::string key(64, 'a');
  fs::path live = cache.path() / ("tmp-" + key + "-AbCdEf");
  fs::path dead = cache.path() / ("tmp-" + std::string(64, 'b') + "-AbCdEf");
  fs::create_directory(live);
  fs::create_directory(dead);
  int lock = open((cache.path() / (key + ".lock")).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX), 0);
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.opt_level = 1;
  auto engine = make_aot_engine(o);
  auto traps = guest_bytes("traps");
  auto m = engine->load(traps.data(), traps.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  close(lock);
  EXPECT_TRUE(fs::exists(live));
  EXPECT_FALSE(fs::exists(dead));
}

}  // namespace
}  // namespace wasmcap
