// AOT guest code at run time, where signals and threads meet it: the signal handler's scope
// (host faults are not claimed), traps / stack overflows / deadlines on many threads at once, the
// guest's own stack, every unbounded shape stopped at its deadline, and asynchronous preemption.
//
// The engine, runtime and WASI suites also run whole on aot (ctest prefix "aot:"); the
// aot_*_test.cc files hold what only the AOT engine has (their helpers: aot_test_support.h).
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "aot_test_support.h"
#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::guest_bytes;
using testing::TempDir;
using testing::instantiate;
using testing::shared_options;

// --- signals and threads ------------------------------------------------------------------------

// A fault in host code (not guest code) while a guest runs is not turned into a trap: it
// reaches the previous handler (here: the default action, death by SIGSEGV).
TEST(AotSignalsDeathTest, HostFaultIsNotClaimed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto run = [] {
    auto engine = make_aot_engine(shared_options());
    HostFuncTable host;
    HostFunc f;
    f.module = "test";
    f.name = "peek";
    f.sig = FuncSig{{ValType::kI32}, {ValType::kI32}};
    f.callback = [](HostContext& hc, const Value*, Value* r) {
      // A host bug: a raw read 2 GiB past the guest's memory base, inside the instance's
      // PROT_NONE reservation, from host code. A guest doing this would get a trap; host code
      // must not (in_guest is 0 during host calls).
      volatile const uint8_t* p = hc.memory.range(0, 1) + (2ull << 30);
      r[0] = Value::I32(*p);
      return HostCallResult::ok();
    };
    host.add(f);
    for (const char* n : {"mix", "pair", "exit", "fail"}) {
      HostFunc g;
      g.module = "test";
      g.name = n;
      if (std::string(n) == "mix") g.sig = FuncSig{{ValType::kI32, ValType::kI64, ValType::kF32, ValType::kF64}, {ValType::kF64}};
      if (std::string(n) == "pair") g.sig = FuncSig{{}, {ValType::kI32, ValType::kI64}};
      if (std::string(n) == "exit") g.sig = FuncSig{{ValType::kI32}, {}};
      if (std::string(n) == "fail") g.sig = FuncSig{{}, {}};
      g.callback = [](HostContext&, const Value*, Value*) { return HostCallResult::ok(); };
      host.add(g);
    }
    auto inst = instantiate(*engine, "host_calls", host);
    if (!inst) {
      std::fprintf(stderr, "instantiate: %s\n", inst.error().to_string().c_str());
      std::_Exit(0);  // the death assertion fails: no crash happened
    }
    auto r = (*inst)->call("call_peek", {Value::I32(0)});
    std::fprintf(stderr, "survived: %s\n", r ? "ok" : r.error().to_string().c_str());
    std::_Exit(0);
  };
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan the previous handler is ASan's: it reports the SEGV and exits.
  EXPECT_DEATH(run(), "SEGV");
#else
  EXPECT_EXIT(run(), ::testing::KilledBySignal(SIGSEGV), "");
#endif
}

// Many threads, each its own instance, trapping in different ways at the same time: every
// thread gets its own trap, nothing leaks between threads, and the process lives on.
TEST(AotThreads, TrapsStackOverflowsAndDeadlinesOnManyThreadsAtOnce) {
  auto engine = make_aot_engine(shared_options());
  auto traps_bytes = guest_bytes("traps");
  auto spin_bytes = guest_bytes("spin");
  auto traps = engine->load(traps_bytes.data(), traps_bytes.size());
  auto spin = engine->load(spin_bytes.data(), spin_bytes.size());
  ASSERT_TRUE(traps.has_value()) << traps.error().to_string();
  ASSERT_TRUE(spin.has_value()) << spin.error().to_string();
  struct Job {
    const char* export_name;
    ErrorCode want;
  };
  const Job jobs[] = {{"mem_oob_load", ErrorCode::kTrapMemoryOutOfBounds},
                      {"recurse_forever", ErrorCode::kTrapStackExhausted},
                      {"div_zero_s", ErrorCode::kTrapIntegerDivideByZero},
                      {"call_null", ErrorCode::kTrapIndirectCallNull},
                      {"recurse_indirect_forever", ErrorCode::kTrapStackExhausted},
                      {"unreachable", ErrorCode::kTrapUnreachable}};
  const HostFuncTable host;
  std::atomic<int> failures{0};
  std::vector<std::string> errors(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        if (t >= 6) {
          // Deadline on an endless loop, alongside the trapping threads.
          ExecLimits limits;
          limits.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
          auto inst = engine->instantiate(*spin, host, limits);
          // On a loaded machine the deadline may pass during instantiation: the same error.
          if (!inst && inst.error().code == ErrorCode::kDeadlineExceeded) continue;
          if (!inst) {
            ++failures;
            errors[t] = inst.error().to_string();
            return;
          }
          auto r = (*inst)->call("spin", {});
          if (r || r.error().code != ErrorCode::kDeadlineExceeded) {
            ++failures;
            errors[t] = r ? "spin returned" : r.error().to_string();
          }
          continue;
        }
        auto inst = engine->instantiate(*traps, host, {});
        if (!inst) {
          ++failures;
          errors[t] = inst.error().to_string();
          return;
        }
        const Job& job = jobs[(t + round) % 6];
        auto r = (*inst)->call(job.export_name, {});
        if (r || r.error().code != job.want) {
          ++failures;
          errors[t] = std::string(job.export_name) + ": " + (r ? "returned" : r.error().to_string());
        }
        auto ok = (*inst)->call("ok", {});
        if (!ok || ok->results[0].i32 != 42) {
          ++failures;
          errors[t] = "ok after trap failed";
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_TRUE(e.empty()) << e;
  EXPECT_EQ(failures.load(), 0);
}

// A thread whose guest is stuck in a loop does not hold up others: the interrupt stops exactly
// the instance it belongs to.
TEST(AotThreads, InterruptStopsOnlyItsOwnInstance) {
  auto engine = make_aot_engine(shared_options());
  std::atomic<bool> stop_a{false}, stop_b{false};
  ExecLimits la, lb;
  la.interrupt = &stop_a;
  lb.interrupt = &stop_b;
  auto a = instantiate(*engine, "spin", {}, la);
  auto b = instantiate(*engine, "spin", {}, lb);
  ASSERT_TRUE(a.has_value() && b.has_value());
  std::atomic<bool> b_done{false};
  std::thread tb([&] {
    auto r = (*b)->call("spin", {});
    EXPECT_FALSE(r.has_value());
    b_done = true;
  });
  std::thread ta([&] {
    auto r = (*a)->call("spin", {});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
  });
  stop_a = true;
  ta.join();
  EXPECT_FALSE(b_done.load()) << "interrupting instance a stopped instance b";
  stop_b = true;
  tb.join();
}

// --- the guest stack (docs/aot.md, "Guest stack") ---------------------------------------------

struct Measured {
  int status = 0;
  long max_rss_kib = 0;
  double seconds = 0;
  std::string err;
};

// Runs `bash -c SCRIPT` (which execs the CLI) and measures the process's peak RSS.
Measured run_shell(const std::string& script) {
  Measured r;
  char tmpl[] = "/tmp/wasmcap-aot-stderr-XXXXXX";
  int errfd = mkstemp(tmpl);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(errfd, 2);
    execl("/bin/bash", "bash", "-c", script.c_str(), nullptr);
    _exit(127);
  }
  // Watchdog: a runaway stack must not take the machine down with the test.
  std::atomic<bool> done{false};
  std::thread dog([&] {
    // not-timing: a watchdog
    for (int i = 0; i < 600 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!done) kill(pid, SIGKILL);
  });
  struct rusage ru {};
  wait4(pid, &r.status, 0, &ru);
  done = true;
  dog.join();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.max_rss_kib = ru.ru_maxrss;
  close(errfd);
  r.err = testing::read_text(tmpl);
  unlink(tmpl);
  return r;
}

// With `ulimit -s unlimited` the main thread's stack has no bound: guest recursion must still
// trap (on its own guard-paged stack) quickly, with bounded memory. (The address-space limit only
// keeps a failing run from exhausting the machine: 8 GiB of linear-memory reservation + 2 GiB;
// without the guest stack, this test fails by exceeding it, not by the OOM killer.)
TEST(AotStack, RecursionTrapsUnderUnlimitedStackRlimit) {
  const std::string run = "exec '" + testing::cli_path() + "' run --engine aot --invoke ";
  // Compile once outside the limits (also warms the shared cache).
  auto warm = run_shell(run + "ok '" + testing::guest_path("traps") + "'");
  ASSERT_TRUE(WIFEXITED(warm.status) && WEXITSTATUS(warm.status) == 0) << warm.err;
  for (const char* e : {"recurse_forever", "recurse_indirect_forever"}) {
#if defined(__SANITIZE_ADDRESS__)
    const std::string vlimit;  // ASan reserves terabytes of shadow address space
    const long max_rss_kib = 1 << 20;  // and an ASan wasmcap starts at ~400 MiB
#else
    const std::string vlimit = "ulimit -v 10485760; ";
    const long max_rss_kib = 256 << 10;
#endif
    auto r = run_shell("ulimit -s unlimited; " + vlimit + run + e + " '" +
                       testing::guest_path("traps") + "'");
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == error_exit_code(ErrorCode::kTrapStackExhausted))
        << e << ": status " << r.status << "\n" << r.err;
    EXPECT_NE(r.err.find("trap_stack_exhausted"), std::string::npos) << e << ": " << r.err;
    EXPECT_LT(r.max_rss_kib, max_rss_kib) << e;
    EXPECT_LT(r.seconds, 20) << e;
  }
}

// The guest's stack does not depend on the caller's: 100,000 frames fit in the default 8 MiB
// guest stack under `ulimit -s 1024`, and a tiny ulimit never crashes the host.
TEST(AotStack, GuestStackIsIndependentOfATinyStackRlimit) {
  const std::string run = "exec '" + testing::cli_path() + "' run --engine aot --invoke ";
  const std::string mod = " '" + testing::guest_path("deep_recursion") + "'";
  auto warm = run_shell(run + "down_10k" + mod);
  ASSERT_TRUE(WIFEXITED(warm.status) && WEXITSTATUS(warm.status) == 0) << warm.err;
  auto ok = run_shell("ulimit -s 1024; " + run + "down_100k" + mod);
  EXPECT_TRUE(WIFEXITED(ok.status) && WEXITSTATUS(ok.status) == 0) << ok.status << "\n" << ok.err;
  auto deep = run_shell("ulimit -s 1024; " + run + "down_1m" + mod);
  EXPECT_TRUE(WIFEXITED(deep.status) && WEXITSTATUS(deep.status) == error_exit_code(ErrorCode::kTrapStackExhausted)) << deep.status << "\n" << deep.err;
  EXPECT_NE(deep.err.find("trap_stack_exhausted"), std::string::npos) << deep.err;
  // The CLI's --aot-stack-mb sets the size.
  auto big = run_shell("ulimit -s 1024; exec '" + testing::cli_path() +
                       "' run --engine aot --aot-stack-mb 128 --invoke down_1m" + mod);
  EXPECT_TRUE(WIFEXITED(big.status) && WEXITSTATUS(big.status) == 0) << big.status << "\n" << big.err;
}

// The size is per engine and holds on every thread at once: 8 threads recurse 1,000,000 deep
// on a 64 MiB guest stack, while 8 others on an engine with a 1 MiB stack trap at 100,000.
TEST(AotStack, SizeIsConfigurableAndHoldsOnManyThreads) {
  AotOptions big_opts = shared_options();
  big_opts.stack_bytes = 64ull << 20;
  AotOptions small_opts = shared_options();
  small_opts.stack_bytes = 1ull << 20;
  auto big = make_aot_engine(big_opts);
  auto small = make_aot_engine(small_opts);
  auto bytes = guest_bytes("deep_recursion");
  auto mb = big->load(bytes.data(), bytes.size());
  auto ms = small->load(bytes.data(), bytes.size());
  ASSERT_TRUE(mb.has_value() && ms.has_value());
  std::vector<std::string> errors(16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      const bool deep = t % 2 == 0;
      Engine& e = deep ? *big : *small;
      auto inst = e.instantiate(deep ? *mb : *ms, HostFuncTable{}, {});
      if (!inst) {
        errors[t] = inst.error().to_string();
        return;
      }
      for (int round = 0; round < 3; ++round) {
        auto r = (*inst)->call("down", {Value::I32(deep ? 1000000 : 100000)});
        if (deep && (!r || r->results[0].i32 != 1000000)) {
          errors[t] = "deep: " + (r ? std::to_string(r->results[0].i32) : r.error().to_string());
        }
        if (!deep && (r || r.error().code != ErrorCode::kTrapStackExhausted)) {
          errors[t] = "small: " + (r ? std::string("returned") : r.error().to_string());
        }
        auto small_call = (*inst)->call("down", {Value::I32(1000)});
        if (!small_call || small_call->results[0].i32 != 1000) errors[t] = "after: failed";
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_TRUE(e.empty()) << e;
}

// --- Deadlines with checks only where needed (docs/aot.md, "Where function entries are
// checked") ----------------------------------------------------------------------------------

// Every shape of unbounded execution stops at the deadline on aot: a loop without calls, mutual
// recursion, recursion only through call_indirect, a call DAG with 2^70 calls and no loop,
// cycle or indirect call (which only the work bound catches where the translator polls), a
// loop over a deep chain of distinct functions, and guests spending their time in
// memory.fill/memory.copy or table.copy (libc code, where a preemption signal finds no guest).
// Compiled at -O2 (the inlining the check placement has to survive), in a separate process so a
// regression is a killed child, not a hung test.
TEST(AotDeadline, EveryUnboundedShapeStopsAtTheDeadline) {
  const std::vector<std::pair<std::string, std::string>> env = {{"WASMCAP_AOT_OPT", "2"}};
  TempDir cache;  // private: an object compiled by another translator must not stand in
  for (const char* guest : {"spin", "deadline_mutual", "deadline_indirect", "deadline_dag",
                            "deadline_chain", "deadline_fill", "deadline_table_copy"}) {
    SCOPED_TRACE(guest);
    testing::ProcOptions po;
    po.extra_env = env;
    po.timeout_ms = 120000;
    auto c = testing::run_cli({"compile", testing::guest_path(guest), "--cache-dir", cache.path().string()},
                              po);
    ASSERT_EQ(c.exit_code, 0) << testing::describe(c);
    po.timeout_ms = 15000;
    auto r = testing::run_cli({"run", "--engine", "aot", "--cache-dir", cache.path().string(),
                               "--timeout-ms", "300", testing::guest_path(guest)},
                              po);
    EXPECT_FALSE(r.timed_out) << "the guest did not stop at its deadline\n" << testing::describe(r);
    EXPECT_EQ(r.exit_code, error_exit_code(ErrorCode::kDeadlineExceeded)) << testing::describe(r);
    EXPECT_LT(r.wall_ms, 5000) << testing::describe(r);
  }
}

// --- Asynchronous preemption (docs/aot.md, "Deadlines") ---------------------------------------

// A deadline that passes during a host call: the signal finds host code and does nothing; the
// guest is stopped when the call returns, before it runs another instruction (here: before it
// calls "mark"), and the run ends with deadline_exceeded.
TEST(AotPreempt, DeadlineDuringAHostCallStopsTheGuestWhenItReturns) {
  auto engine = make_aot_engine(shared_options());
  std::atomic<int> marks{0};
  HostFuncTable host;
  HostFunc slow;
  slow.module = "test";
  slow.name = "slow";
  slow.sig = FuncSig{{}, {}};
  slow.callback = [](HostContext&, const Value*, Value*) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // ignores the deadline
    return HostCallResult::ok();
  };
  host.add(slow);
  HostFunc mark;
  mark.module = "test";
  mark.name = "mark";
  mark.sig = FuncSig{{}, {}};
  mark.callback = [&marks](HostContext&, const Value*, Value*) {
    ++marks;
    return HostCallResult::ok();
  };
  host.add(mark);
  auto bytes = guest_bytes("host_slow");
  auto m = engine->load(bytes.data(), bytes.size());  // compiles: before the deadline is set
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  ExecLimits limits;
  limits.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  auto timed = engine->instantiate(*m, host, limits);
  ASSERT_TRUE(timed.has_value()) << timed.error().to_string();
  auto t0 = std::chrono::steady_clock::now();
  auto r = (*timed)->call("run", {});
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
  EXPECT_EQ(marks.load(), 0) << "the guest ran on after its deadline passed in a host call";
  EXPECT_GE(ms, 550);
  EXPECT_LT(ms, 5000);
}

// Many threads, each its own instance and deadline: each stops at its own deadline, not at
// another thread's (the signal goes to the thread running the call, and the handler checks that
// thread's instance).
TEST(AotPreempt, ManyThreadsWithDifferentDeadlines) {
  auto engine = make_aot_engine(shared_options());
  const HostFuncTable host;
  constexpr int kThreads = 8;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const char* guest = t % 2 ? "deadline_chain" : "spin";
      const auto budget = std::chrono::milliseconds(100 + 150 * t);
      auto bytes = guest_bytes(guest);
      auto m = engine->load(bytes.data(), bytes.size());
      if (!m) {
        errors[t] = m.error().to_string();
        return;
      }
      ExecLimits limits;
      auto t0 = std::chrono::steady_clock::now();
      limits.deadline = t0 + budget;
      auto inst = engine->instantiate(*m, host, limits);
      if (!inst) {
        errors[t] = inst.error().to_string();
        return;
      }
      auto r = (*inst)->call(t % 2 ? "_start" : "spin", {});
      auto took = std::chrono::steady_clock::now() - t0;
      if (r || r.error().code != ErrorCode::kDeadlineExceeded) {
        errors[t] = r ? "returned" : r.error().to_string();
      } else if (took < budget) {
        errors[t] = "stopped before its deadline";
      } else if (took > budget + std::chrono::seconds(3)) {
        errors[t] = "stopped long after its deadline";
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_TRUE(errors[t].empty()) << "thread " << t << ": " << errors[t];
}

// Preemption signals that are not for the running call do nothing: sent to a thread with no
// guest, and sent again and again to a thread running guest code whose flag is down (a late
// signal of an earlier call, or one for another instance); the guest finishes with the right
// result.
// A trap boundary saves no signal mask (no system call per guest entry): a trap raised in a
// signal handler (a fault, a stack overflow, a preemption) restores the mask the guest ran with,
// so the handler's blocked signals (the preemption signal, for a fault) do not stay blocked on
// the thread, and the next deadline on it still preempts.
TEST(AotPreempt, TrapsLeaveTheSignalMaskAsTheyFoundIt) {
  auto engine = make_aot_engine(shared_options());
  auto traps = instantiate(*engine, "traps", HostFuncTable());
  ASSERT_TRUE(traps.has_value()) << traps.error().to_string();
  auto mask_now = [] {
    sigset_t m;
    sigemptyset(&m);
    pthread_sigmask(SIG_BLOCK, nullptr, &m);
    std::string bits;
    for (int sig = 1; sig < 65; ++sig) bits.push_back(sigismember(&m, sig) == 1 ? '1' : '0');
    return bits;
  };
  const std::string before = mask_now();
  for (const char* f : {"mem_oob_load", "recurse_forever", "div_zero_s"}) {
    auto r = (*traps)->call(f, {});
    ASSERT_FALSE(r.has_value()) << f;
    EXPECT_EQ(mask_now(), before) << f << ": the signal mask changed";
  }
  for (int round = 0; round < 2; ++round) {
    ExecLimits limits;
    limits.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
    auto spin = instantiate(*engine, "spin", HostFuncTable(), limits);
    ASSERT_TRUE(spin.has_value()) << spin.error().to_string();
    auto r = (*spin)->call("spin", {});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
    EXPECT_EQ(mask_now(), before) << "after a preemption, round " << round;
  }
}

TEST(AotPreempt, StraySignalsAreHarmless) {
  auto engine = make_aot_engine(shared_options());
  ASSERT_EQ(pthread_kill(pthread_self(), SIGURG), 0);  // no guest on this thread
  auto inst = instantiate(*engine, "spin", {});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  std::atomic<bool> done{false};
  std::atomic<pthread_t> runner{};
  std::atomic<bool> started{false}, release{false};
  std::thread th([&] {
    runner = pthread_self();
    started = true;
    for (int i = 0; i < 20; ++i) {
      auto r = (*inst)->call("count", {Value::I32(20000000)});
      if (!r || r->results[0].i32 != 20000000) {
        ADD_FAILURE() << (r ? std::to_string(r->results[0].i32) : r.error().to_string());
        break;
      }
    }
    done = true;
    while (!release) std::this_thread::yield();  // alive while it may still be signalled
  });
  while (!started) std::this_thread::yield();
  int sent = 0;
  while (!done) {
    pthread_kill(runner.load(), SIGURG);
    ++sent;
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  release = true;
  th.join();
  EXPECT_GT(sent, 0);
}

}  // namespace
}  // namespace wasmcap
