// Limits against hostile guests: fuel, wall-clock deadline, memory cap, output cap, the
// interrupt flag, stack depth. Every limit ends the run with its own error code, within a
// generous time ceiling, and the host process carries on running other modules.
#include <atomic>
#include <thread>

#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/wasi.h"

namespace wasmcap {
namespace {

using testing::Captured;
using testing::describe;
using testing::guest_bytes;
using testing::guest_path;
using testing::run_cli;
using testing::run_guest;

// After any limit, the same process still loads and runs a module normally.
void expect_host_lives_on() {
  RunOptions o;
  o.wasi.args = {"hello", "still", "alive"};
  Captured c = run_guest("hello", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 0);
  EXPECT_EQ(c.out, "hello from wasm\narg[1]=still\narg[2]=alive\n");
}

void expect_cli_error(const testing::ProcResult& r, int exit_code, const std::string& code_name) {
  ASSERT_FALSE(r.timed_out) << "the run was not stopped; killed by the test watchdog\n"
                            << describe(r);
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, exit_code) << describe(r);
  EXPECT_EQ(r.err.rfind("wasmcap: error: " + code_name + ": ", 0), 0u) << describe(r);
}

// --- fuel -----------------------------------------------------------------------------------

TEST(LimitsFuel, InfiniteLoopStopsInProcess) {
  WASMCAP_SKIP_UNLESS_ENGINE_HAS(Capability::kLimitFuel);
  RunOptions o;
  o.fuel = 2000000;
  Captured c = run_guest("spin", o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kFuelExhausted) << c.report.error().to_string();
  EXPECT_NE(c.report.error().message.find("--fuel"), std::string::npos);
  expect_host_lives_on();
}

TEST(LimitsFuel, InfiniteLoopStopsThroughTheCli) {
  WASMCAP_SKIP_UNLESS_ENGINE_HAS(Capability::kLimitFuel);
  testing::ProcOptions po;
  po.timeout_ms = 10000;
  auto r = run_cli({"run", "--fuel", "2000000", guest_path("spin")}, po);
  expect_cli_error(r, 81, "fuel_exhausted");
}

TEST(LimitsFuel, EnoughFuelLetsAProgramFinish) {
  WASMCAP_SKIP_UNLESS_ENGINE_HAS(Capability::kLimitFuel);
  RunOptions o;
  o.fuel = 50000000;
  o.wasi.args = {"hello"};
  Captured c = run_guest("hello", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_GT(c.report->fuel_consumed, 0u);
  EXPECT_LE(c.report->fuel_consumed, 50000000u);
}

// A wasm start function runs during instantiation, before _start. It is guest code like any
// other: fuel and the deadline must stop it too.
TEST(LimitsFuel, StartFunctionLoopIsStoppedByFuel) {
  WASMCAP_SKIP_UNLESS_ENGINE_HAS(Capability::kLimitFuel);
  testing::ProcOptions po;
  po.timeout_ms = 3000;
  auto r = run_cli({"run", "--fuel", "2000000", guest_path("start_spin")}, po);
  expect_cli_error(r, 81, "fuel_exhausted");
}

TEST(LimitsDeadline, StartFunctionLoopIsStoppedByTheDeadline) {
  testing::ProcOptions po;
  po.timeout_ms = 3000;
  auto r = run_cli({"run", "--timeout-ms", "300", guest_path("start_spin")}, po);
  expect_cli_error(r, 82, "deadline_exceeded");
}

// --- deadline -------------------------------------------------------------------------------

TEST(LimitsDeadline, InfiniteLoopStopsInProcess) {
  RunOptions o;
  o.timeout_ms = 200;
  auto start = std::chrono::steady_clock::now();
  Captured c = run_guest("spin", o);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kDeadlineExceeded) << c.report.error().to_string();
  EXPECT_GE(elapsed, std::chrono::milliseconds(190)) << "stopped before the deadline";
  EXPECT_LT(elapsed, std::chrono::milliseconds(5 * 200)) << "stopped far too late";
  expect_host_lives_on();
}

TEST(LimitsDeadline, InfiniteLoopStopsThroughTheCli) {
  testing::ProcOptions po;
  po.timeout_ms = 10000;
  auto r = run_cli({"run", "--timeout-ms", "300", guest_path("spin")}, po);
  expect_cli_error(r, 82, "deadline_exceeded");
  EXPECT_LT(r.wall_ms, 5 * 300) << describe(r);
}

TEST(LimitsDeadline, SleepingGuestStopsAtTheDeadline) {
  testing::ProcOptions po;
  po.timeout_ms = 10000;
  auto r = run_cli({"run", "--timeout-ms", "300", guest_path("sleep")}, po);  // sleeps 10 s
  expect_cli_error(r, 82, "deadline_exceeded");
  EXPECT_LT(r.wall_ms, 5 * 300) << describe(r);
}

// A guest blocked reading a stdin that never delivers data is still stopped by the deadline.
TEST(LimitsDeadline, GuestBlockedOnStdinStopsAtTheDeadline) {
  testing::ProcOptions po;
  po.timeout_ms = 3000;
  po.keep_stdin_open = true;
  auto r = run_cli({"run", "--timeout-ms", "300", guest_path("stdin_read")}, po);
  expect_cli_error(r, 82, "deadline_exceeded");
  EXPECT_LT(r.wall_ms, 5 * 300) << describe(r);
}

TEST(LimitsDeadline, StdinDataIsReadBeforeTheDeadline) {
  testing::ProcOptions po;
  po.stdin_data = "12345";
  auto r = run_cli({"run", "--timeout-ms", "5000", guest_path("stdin_read")}, po);
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 5) << describe(r);
}

// --- interrupt flag -------------------------------------------------------------------------

struct WasiInstance {
  std::unique_ptr<Engine> engine = testing::make_test_engine();
  std::shared_ptr<WasiHost> host;
  HostFuncTable table;
  std::unique_ptr<Instance> instance;
};

std::unique_ptr<WasiInstance> wasi_instance(const std::string& name, const ExecLimits& limits) {
  auto w = std::make_unique<WasiInstance>();
  WasiConfig config;
  config.stdout_fd = -1;
  config.stderr_fd = -1;
  auto host = make_wasi_host(config);
  EXPECT_TRUE(host.has_value());
  if (!host) return w;
  w->host = *host;
  register_wasi(w->host, w->table);
  auto bytes = guest_bytes(name);
  auto m = w->engine->load(bytes.data(), bytes.size());
  EXPECT_TRUE(m.has_value());
  if (!m) return w;
  auto inst = w->engine->instantiate(*m, w->table, limits);
  EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
  if (inst) w->instance = std::move(*inst);
  return w;
}

TEST(LimitsInterrupt, FlagFromAnotherThreadStopsALoop) {
  std::atomic<bool> stop{false};
  ExecLimits limits;
  limits.interrupt = &stop;
  auto w = wasi_instance("spin", limits);
  ASSERT_TRUE(w->instance);
  auto start = std::chrono::steady_clock::now();
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop = true;
  });
  auto r = w->instance->call("_start", {});
  auto elapsed = std::chrono::steady_clock::now() - start;
  t.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  expect_host_lives_on();
}

// The interrupt flag must also end a guest that is blocked in a host call (a long
// poll_oneoff sleep), not only one that is executing instructions.
TEST(LimitsInterrupt, FlagStopsASleepingGuest) {
  std::atomic<bool> stop{false};
  ExecLimits limits;
  limits.interrupt = &stop;
  auto w = wasi_instance("sleep", limits);
  ASSERT_TRUE(w->instance);
  auto start = std::chrono::steady_clock::now();
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop = true;
  });
  auto r = w->instance->call("sleep_ns", {Value::I64(2500000000ull)});  // 2.5 s
  auto elapsed = std::chrono::steady_clock::now() - start;
  t.join();
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500))
      << "the interrupt flag did not end a guest sleeping in poll_oneoff";
  if (!r.has_value()) {
    EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
  }
}

// ... and one blocked reading a stdin that never delivers data.
TEST(LimitsInterrupt, FlagStopsAGuestBlockedOnStdin) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::atomic<bool> stop{false};
  ExecLimits limits;
  limits.interrupt = &stop;
  auto w = std::make_unique<WasiInstance>();
  WasiConfig config;
  config.stdin_fd = fds[0];  // the write end stays open and silent
  config.stdout_fd = -1;
  auto host = make_wasi_host(config);
  ASSERT_TRUE(host.has_value());
  w->host = *host;
  register_wasi(w->host, w->table);
  auto bytes = guest_bytes("stdin_read");
  auto m = w->engine->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value());
  auto inst = w->engine->instantiate(*m, w->table, limits);
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  auto start = std::chrono::steady_clock::now();
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop = true;
  });
  // Watchdog for the test itself: if the interrupt is ignored, unblock the read after 2.5 s.
  std::atomic<bool> returned{false};
  std::thread unblock([&] {
    for (int i = 0; i < 250 && !returned.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!returned.load()) {
      ssize_t n = write(fds[1], "x", 1);
      (void)n;
    }
  });
  auto r = (*inst)->call("_start", {});
  returned = true;
  auto elapsed = std::chrono::steady_clock::now() - start;
  t.join();
  unblock.join();
  close(fds[0]);
  close(fds[1]);
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500))
      << "the interrupt flag did not end a guest blocked reading stdin";
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
}

// --- memory ---------------------------------------------------------------------------------

TEST(LimitsMemory, GrowBombIsCappedThroughTheCli) {
  auto r = run_cli({"run", "--max-memory-mb", "2", guest_path("grow_bomb")});
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 32) << "memory.grow should stop at 2 MiB = 32 pages\n" << describe(r);
}

TEST(LimitsMemory, GrowBombIsCappedInProcess) {
  RunOptions o;
  o.max_memory_bytes = 3 * kWasmPageSize + 1000;  // rounds down to 3 pages
  Captured c = run_guest("grow_bomb", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 3);
  expect_host_lives_on();
}

TEST(LimitsMemory, MallocUntilFailureReportsCleanly) {
  auto r = run_cli({"run", "--max-memory-mb", "4", guest_path("malloc_bomb")});
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  const std::string prefix = "malloc failed cleanly after ";
  ASSERT_EQ(r.out.rfind(prefix, 0), 0u) << describe(r);
  long kib = std::stol(r.out.substr(prefix.size()));
  EXPECT_GT(kib, 2048) << "most of the 4 MiB should be usable";
  EXPECT_LT(kib, 4096) << "more than the cap was handed out";
}

TEST(LimitsMemory, InitialMemoryAboveTheCapIsRefused) {
  auto r = run_cli({"run", "--max-memory-mb", "1", guest_path("big_memory")});
  expect_cli_error(r, 83, "memory_limit");
  RunOptions o;
  o.max_memory_bytes = 1 << 20;
  Captured c = run_guest("big_memory", o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kMemoryLimit);
  // With room for it, the same module runs.
  auto ok = run_cli({"run", "--max-memory-mb", "7", guest_path("big_memory")});
  EXPECT_TRUE(ok.exited && ok.exit_code == 0) << describe(ok);
  expect_host_lives_on();
}

// table.grow allocates host memory too (8 bytes per element in the interpreter). A guest
// capped at 16 MiB of linear memory must not be able to take gigabytes through a table, nor
// crash the host with std::bad_alloc. The child runs with a 1 GiB address-space limit.
TEST(LimitsMemory, TableGrowBombIsRefused) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RLIMIT_AS cannot be combined with AddressSanitizer's shadow memory";
#endif
  testing::ProcOptions po;
  po.timeout_ms = 20000;
  po.address_space_mb = 1024;
  auto r = run_cli({"run", "--max-memory-mb", "16", guest_path("table_grow_bomb")}, po);
  EXPECT_EQ(r.term_signal, 0) << "table.grow crashed the host\n" << describe(r);
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 99) << "table.grow of 2^28 elements was not refused\n" << describe(r);
}

// The table cap must bound the total, not each table: reference types allow many tables, and
// 200 tables at the per-table cap are gigabytes of host memory. Child limited to 1 GiB.
TEST(LimitsMemory, ManyTablesCannotExhaustTheHost) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RLIMIT_AS cannot be combined with AddressSanitizer's shadow memory";
#endif
  testing::ProcOptions po;
  po.timeout_ms = 20000;
  po.address_space_mb = 1024;
  auto grow = run_cli({"run", "--max-memory-mb", "16", guest_path("multi_table_grow_bomb")}, po);
  EXPECT_EQ(grow.term_signal, 0) << "growing 200 tables crashed the host\n" << describe(grow);
  ASSERT_TRUE(grow.exited) << describe(grow);
  EXPECT_LT(grow.exit_code, 200) << "every table grew to the per-table cap\n" << describe(grow);

  auto initial =
      run_cli({"run", "--max-memory-mb", "16", guest_path("multi_table_initial_bomb")}, po);
  EXPECT_EQ(initial.term_signal, 0) << "200 large tables crashed the host\n" << describe(initial);
  expect_cli_error(initial, 83, "memory_limit");
}

// --- output ---------------------------------------------------------------------------------

TEST(LimitsOutput, FloodIsCappedInProcess) {
  RunOptions o;
  o.wasi.max_output_bytes = 5000;
  Captured c = run_guest("flood", o);  // tries to write 10 MiB
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kOutputLimit) << c.report.error().to_string();
  EXPECT_LE(c.out.size() + c.err.size(), 5000u);
  EXPECT_GT(c.out.size(), 0u);
  expect_host_lives_on();
}

TEST(LimitsOutput, FloodIsCappedThroughTheCli) {
  auto r = run_cli({"run", "--max-output-bytes", "5000", guest_path("flood")});
  expect_cli_error(r, 84, "output_limit");
  EXPECT_LE(r.out.size(), 5000u);
  EXPECT_GT(r.out.size(), 0u);
  EXPECT_EQ(r.out.find_first_not_of('A'), std::string::npos);
}

TEST(LimitsOutput, UnderTheCapIsNotAnError) {
  auto r = run_cli({"run", "--max-output-bytes", "100000", guest_path("hello")});
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "hello from wasm\n");
}

// A guest that ignores the write errors and keeps writing forever: reaching the output cap
// must end the run, not leave it spinning until some other limit (if any) stops it.
TEST(LimitsOutput, EndlessFloodEndsTheRun) {
  testing::ProcOptions po;
  po.timeout_ms = 3000;
  auto r = run_cli({"run", "--max-output-bytes", "5000", "--invoke", "forever",
                    guest_path("flood")},
                   po);
  expect_cli_error(r, 84, "output_limit");
  EXPECT_LE(r.out.size(), 5000u);
}

// --- stack depth ----------------------------------------------------------------------------

Result<RunReport> recurse(int depth, bool indirect = false) {
  RunOptions o;
  o.wasi.args = {"recurse", std::to_string(depth)};
  if (indirect) o.wasi.args.push_back("indirect");
  // A bound, in case recursion were unlimited (engines without fuel: a deadline instead).
  if (testing::test_engine_has(Capability::kLimitFuel)) {
    o.fuel = 2000000000;
  } else {
    o.timeout_ms = 60000;
  }
  return run_guest("recurse", o).report;
}

TEST(LimitsStack, DeepestRecursionIsMeasuredAndExceedingItTraps) {
  auto shallow = recurse(1000);
  ASSERT_TRUE(shallow.has_value()) << shallow.error().to_string();
  EXPECT_EQ(shallow->exit_code, 0);

  // Find the largest depth that still runs; beyond it, trap_stack_exhausted.
  int lo = 1000, hi = 1 << 24;
  auto too_deep = recurse(hi);
  ASSERT_FALSE(too_deep.has_value()) << "recursion of " << hi << " levels did not trap";
  EXPECT_EQ(too_deep.error().code, ErrorCode::kTrapStackExhausted)
      << too_deep.error().to_string();
  while (hi - lo > 1) {
    int mid = lo + (hi - lo) / 2;
    auto r = recurse(mid);
    if (r.has_value() && r->exit_code == 0) {
      lo = mid;
    } else {
      ASSERT_FALSE(r.has_value()) << "depth " << mid << " exited " << r->exit_code;
      ASSERT_EQ(r.error().code, ErrorCode::kTrapStackExhausted) << r.error().to_string();
      hi = mid;
    }
  }
  std::printf("[ MEASURED ] deepest C recursion (recurse.c) before trap_stack_exhausted: %d\n",
              lo);
  ::testing::Test::RecordProperty("max_recursion_depth", lo);
  // Real programs (parsers, tree walks) need a few thousand levels.
  EXPECT_GE(lo, 10000);
  expect_host_lives_on();
}

// The same limit applies to recursion through function pointers (call_indirect).
TEST(LimitsStack, IndirectRecursionTrapsToo) {
  auto ok = recurse(1000, /*indirect=*/true);
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->exit_code, 0);
  auto deep = recurse(10000000, /*indirect=*/true);
  ASSERT_FALSE(deep.has_value())
      << "10 million levels of call_indirect recursion ran to completion: the call-stack "
         "limit was silently skipped (exit "
      << deep->exit_code << ")";
  EXPECT_EQ(deep.error().code, ErrorCode::kTrapStackExhausted) << deep.error().to_string();
}

// When call_indirect hits the call-stack limit with a callee type whose params and results
// differ, skipping the call (instead of trapping) leaves the interpreter's value stack
// inconsistent with validation: the host then pops values that are not there, or takes an
// i32 for a reference. Run in a child process: the failure mode is a host crash.
TEST(LimitsStack, IndirectOverflowCannotCorruptTheHost) {
  for (const char* guest : {"indirect_overflow_underflow", "indirect_overflow_forged_ref"}) {
    testing::ProcOptions po;
    po.timeout_ms = 20000;
    auto r = run_cli({"run", guest_path(guest)}, po);
    EXPECT_EQ(r.term_signal, 0) << guest << " crashed the host process\n" << describe(r);
    expect_cli_error(r, 80, "trap_stack_exhausted");
  }
}

// Locals live on the interpreter's value stack: deep recursion of a function with many locals
// must hit a bound (trap) long before the host runs out of memory. Child limited to 1 GiB.
TEST(LimitsStack, ValueStackIsBounded) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RLIMIT_AS cannot be combined with AddressSanitizer's shadow memory";
#endif
  testing::ProcOptions po;
  po.timeout_ms = 20000;
  po.address_space_mb = 1024;
  auto r = run_cli({"run", "--max-memory-mb", "16", guest_path("locals_stack_bomb")}, po);
  EXPECT_EQ(r.term_signal, 0) << "the value stack exhausted host memory\n" << describe(r);
  ASSERT_TRUE(r.exited) << describe(r);
  // On aot, locals live in native stack frames: the recursion either fits the thread's stack
  // (and finishes) or traps at its guard; either way the host survives.
  bool aot_finished = testing::test_engine_name() == "aot" && r.exit_code == 0;
  EXPECT_TRUE(aot_finished || r.err.rfind("wasmcap: error: trap_stack_exhausted: ", 0) == 0 ||
              r.err.rfind("wasmcap: error: memory_limit: ", 0) == 0)
      << describe(r);
}

// The overflowing call_indirect must stop the guest at once, not at the next limit check:
// here the guest keeps calling and dropping on the empty value stack right after it.
TEST(LimitsStack, IndirectOverflowStopsImmediately) {
  for (const char* entry : {"_start", "pad_b"}) {
    testing::ProcOptions po;
    po.timeout_ms = 20000;
    auto r = run_cli({"run", "--invoke", entry, guest_path("indirect_overflow_midslice")}, po);
    EXPECT_EQ(r.term_signal, 0) << entry << " crashed the host process\n" << describe(r);
    expect_cli_error(r, 80, "trap_stack_exhausted");
  }
}

}  // namespace
}  // namespace wasmcap
