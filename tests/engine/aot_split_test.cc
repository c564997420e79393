// Split translations (docs/aot.md, "Compile at scale"): a module compiled in units by parallel
// jobs behaves as on the interpreter, every job is bounded like one, the biggest job starts
// first, and big or many data segments compile in little memory.
//
// The engine, runtime and WASI suites also run whole on aot (ctest prefix "aot:"); the
// aot_*_test.cc files hold what only the AOT engine has (their helpers: aot_test_support.h).
#include <fcntl.h>
#include <signal.h>
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
using testing::instantiate;
using testing::shared_options;
using testing::tmp_dirs;
using testing::observe;
using testing::Observed;
using testing::slow_compiler;
using testing::unique_marker;
using testing::failing_compiler;
using testing::slow_to_compile_module;
using testing::processes_with;
using testing::wait_gone;

// --- split translations (docs/aot.md, "Compile at scale") ---------------------------------------

// Split into units of a few functions (the guests have tens to hundreds), a module behaves
// exactly as on the interpreter (and so as the single-unit build, which
// AotDifferential.GuestsBehaveTheSameOnBothEngines in aot_engine_test.cc compares): output, exit
// status, every trap kind, stack exhaustion, call_indirect across units, a reactor export.
TEST(AotSplit, GuestsBehaveTheSameSplitIntoUnits) {
  for (const char* g : {"hello", "traps"}) {
    auto bytes = guest_bytes(g);
    auto t = aot::translate(bytes.data(), bytes.size(), true, 8);
    ASSERT_TRUE(t.has_value()) << t.error().to_string();
    EXPECT_GT(t->units.size(), 1u) << g << " was not split";
  }
  struct Case {
    std::string guest;
    std::vector<std::string> args;
    std::string invoke;
  };
  std::vector<Case> cases = {
      {"hello", {"a", "b"}, ""},      {"exit_status", {"7"}, ""},
      {"recurse", {"1000"}, ""},      {"recurse", {"100000000"}, ""},
      {"reactor", {}, "count"},       {"table_grow_bomb", {}, ""},
  };
  for (const char* e : {"unreachable", "mem_oob_load", "div_zero_s", "call_null", "call_mismatch",
                        "call_indirect_ok", "table_oob_call", "recurse_indirect_forever", "ok"}) {
    cases.push_back({"traps", {}, e});
  }
  for (const auto& c : cases) {
    Observed i = observe("interp", c.guest, c.args, c.invoke);
    Observed a = observe("aot", c.guest, c.args, c.invoke, /*unit_functions=*/8);
    std::string what = c.guest + (c.invoke.empty() ? "" : " --invoke " + c.invoke);
    EXPECT_EQ(i.err_code, a.err_code) << what;
    EXPECT_EQ(i.exit_code, a.exit_code) << what;
    EXPECT_EQ(i.out, a.out) << what;
  }
}

// Exported functions with several parameters and multi-value results, each function a unit of
// its own: the export thunks call across units (wabt writes them from the placeholder imports).
TEST(AotSplit, ExportsWithParametersAndResultsAcrossUnits) {
  auto bytes = guest_bytes("values");
  auto t = aot::translate(bytes.data(), bytes.size(), true, 1);
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_GT(t->units.size(), 4u);
  AotOptions o = shared_options();
  o.unit_functions = 1;
  auto engine = make_aot_engine(o);
  auto inst = instantiate(*engine, "values", {});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  auto add = (*inst)->call("add_i32", {Value::I32(0xffffffffu), Value::I32(2)});
  ASSERT_TRUE(add.has_value()) << add.error().to_string();
  EXPECT_EQ(add->results[0].i32, 1u);
  auto swap = (*inst)->call("swap4", {Value::I32(7), Value::I64(8), Value::F32(9.5f),
                                      Value::F64(10.5)});
  ASSERT_TRUE(swap.has_value()) << swap.error().to_string();
  ASSERT_EQ(swap->results.size(), 4u);
  EXPECT_EQ(swap->results[0].f64, 10.5);
  EXPECT_EQ(swap->results[1].f32, 9.5f);
  EXPECT_EQ(swap->results[2].i64, 8u);
  EXPECT_EQ(swap->results[3].i32, 7u);
}

// A global initialised with ref.func, read by a function of another unit: the unit's view of the
// module has the global but not the function its initialiser names, which crashed wabt's C
// writer (and the host: a module of 1,001 functions and one such global is split by default).
// The unit gets a stand-in of the global; the main write keeps the real initialiser, so the
// function reached through the global is the right one.
//   (table 1 funcref) (global $g funcref (ref.func $seven))
//   (func $one (result i32) i32.const 1) (func $seven (result i32) i32.const 7)
//   (func (export "run") (result i32)
//     (table.set 0 (i32.const 0) (global.get $g)) (call_indirect (result i32) (i32.const 0)))
TEST(AotSplit, AGlobalInitialisedWithRefFuncOfAnotherUnit) {
  const std::vector<uint8_t> bytes = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
      0x03, 0x04, 0x03, 0x00, 0x00, 0x00, 0x04, 0x04, 0x01, 0x70, 0x00, 0x01, 0x06, 0x06, 0x01,
      0x70, 0x00, 0xd2, 0x01, 0x0b, 0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x02, 0x0a,
      0x19, 0x03, 0x04, 0x00, 0x41, 0x01, 0x0b, 0x04, 0x00, 0x41, 0x07, 0x0b, 0x0d, 0x00, 0x41,
      0x00, 0x23, 0x00, 0x26, 0x00, 0x41, 0x00, 0x11, 0x00, 0x00, 0x0b};
  auto t = aot::translate(bytes.data(), bytes.size(), true, /*unit_functions=*/1);
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_EQ(t->units.size(), 3u);
  AotOptions o = shared_options();
  o.unit_functions = 1;
  auto engine = make_aot_engine(o);
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  HostFuncTable host;
  auto inst = engine->instantiate(*m, host, ExecLimits{});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  auto r = (*inst)->call("run", {});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->results.size(), 1u);
  EXPECT_EQ(r->results[0].i32, 7u);
}

// Parallel compiler jobs are bounded like one: at the compile time limit every job's process
// group goes (grandchildren too), the error is compile_limit, no temporary directory is left.
TEST(AotSplit, ParallelJobsAreKilledAtTheTimeLimit) {
  TempDir cache;
  TempDir bin;
  const std::string marker = unique_marker();
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.compiler = slow_compiler(bin.path(), marker);
  o.compile_timeout_ms = 700;
  o.unit_functions = 1;
  o.compile_jobs = 3;
  auto engine = make_aot_engine(o);
  auto bytes = guest_bytes("traps");
  auto start = std::chrono::steady_clock::now();
  std::atomic<size_t> most{0};
  std::atomic<bool> done{false};
  std::thread watch([&] {
    while (!done) {
      // Each slow job is a shell and its `sleep` grandchild: 2 processes per running job.
      size_t n = processes_with(marker).size();
      if (n > most) most = n;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto m = engine->load(bytes.data(), bytes.size());
  auto elapsed = std::chrono::steady_clock::now() - start;
  done = true;
  watch.join();
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kCompileLimit) << m.error().to_string();
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_GT(most.load(), 2u) << "the jobs never ran in parallel";
  EXPECT_LE(most.load(), 2u * 3u) << "more jobs than compile_jobs ran at once";
  EXPECT_EQ(wait_gone(marker, 2000), std::vector<std::string>{});
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
}

// A split module whose module.c (data segments) is bigger than any unit: a module with
// `functions` empty functions, one memory and one active data segment of `data_bytes`.
std::vector<uint8_t> big_data_module(uint32_t functions, uint32_t data_bytes) {
  using testing::hostile::leb;
  std::vector<uint8_t> w = testing::hostile::header();
  auto section = [&](uint8_t id, const std::vector<uint8_t>& c) { testing::hostile::section(w, id, c); };
  section(1, {0x01, 0x60, 0x00, 0x00});  // type () -> ()
  std::vector<uint8_t> funcs;
  leb(funcs, functions);
  funcs.insert(funcs.end(), functions, 0x00);
  section(3, funcs);
  const uint32_t pages = data_bytes / 65536 + 1;
  std::vector<uint8_t> mem = {0x01, 0x00};
  leb(mem, pages);
  section(5, mem);
  section(7, {0x01, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00});  // export the memory
  std::vector<uint8_t> code;
  leb(code, functions);
  // (byte by byte: GCC 12 reports a false -Wstringop-overflow on inserting a braced list here)
  for (uint32_t f = 0; f < functions; ++f) {
    for (uint8_t b : {0x02, 0x00, 0x0b}) code.push_back(b);  // size 2, no locals, end
  }
  section(10, code);
  std::vector<uint8_t> data = {0x01, 0x00, 0x41, 0x00, 0x0b};  // memory 0 at i32.const 0
  leb(data, data_bytes);
  for (uint32_t i = 0; i < data_bytes; ++i) data.push_back(static_cast<uint8_t>(i * 131 + 7));
  section(11, data);
  return w;
}

// The biggest compile job starts first, module.c included: esbuild's module.c (its data
// segments, 46 MB of C) was queued after every unit and then ran alone on one core for minutes
// (bench/notes/2026-11-23-real-programs.md "Real programs from npm"). A stand-in compiler that records the source
// it is given and fails, one job at a time: the only job that ran is the first of the queue.
TEST(AotSplit, BiggestJobStartsFirstModuleCIncluded) {
  TempDir cache;
  TempDir bin;
  fs::path log = bin.path() / "order.log";
  fs::path cc = failing_compiler(bin.path(), "recordcc",
                                 "for a; do last=$a; done\n"
                                 "basename \"$last\" >> '" + log.string() + "'\n");
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.compiler = cc.string();
  o.unit_functions = 1;
  o.compile_jobs = 1;
  auto engine = make_aot_engine(o);
  auto bytes = big_data_module(4, 256 * 1024);
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(testing::read_text(log), "module.c\n");
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
}

// Data segments reach the C compiler as string literals, not arrays of hex bytes: gcc keeps a
// tree node per array element (hundreds of bytes each; esbuild's 7.5 MB of data took cc1 past
// its 4 GiB limit). 4 MiB of data, real gcc at -O2 under a 512 MiB limit (as an array it needs
// about 2 GiB): compiles, and the memory holds every byte, escapes included.
TEST(AotData, BigDataSegmentCompilesInLittleMemory) {
  TempDir cache;
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.compile_memory_mb = 512;
  const uint32_t n = 4u << 20;
  auto engine = make_aot_engine(o);
  auto bytes = big_data_module(2, n);
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  HostFuncTable host;
  auto inst = engine->instantiate(*m, host, ExecLimits{});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  GuestMemory mem = (*inst)->memory();
  const uint8_t* p = mem.range(0, n);
  ASSERT_NE(p, nullptr);
  size_t wrong = 0;
  for (uint32_t i = 0; i < n; ++i) wrong += p[i] != static_cast<uint8_t>(i * 131 + 7);
  EXPECT_EQ(wrong, 0u);
}

// Go's toolchain emits a data segment per symbol (esbuild: 100,000) and wasm2c initialises them
// with one statement each in one function: gcc needed 3.9 GB for esbuild's even at -O0. 20,000
// segments of 8 bytes, real gcc at -O2 under a 512 MiB limit: compiles (the loads are a table
// and a loop), and every segment lands where it should.
TEST(AotData, ManyDataSegmentsCompileInLittleMemory) {
  using testing::hostile::leb;
  const uint32_t segments = 20000, seg_bytes = 8, stride = 12;
  std::vector<uint8_t> w = testing::hostile::header();
  auto section = [&](uint8_t id, const std::vector<uint8_t>& c) { testing::hostile::section(w, id, c); };
  section(1, {0x01, 0x60, 0x00, 0x00});
  section(3, {0x02, 0x00, 0x00});
  section(5, {0x01, 0x00, 0x04});  // 4 pages
  section(7, {0x01, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00});
  section(10, {0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b});
  std::vector<uint8_t> data;
  leb(data, segments);
  for (uint32_t i = 0; i < segments; ++i) {
    data.insert(data.end(), {0x00, 0x41});
    testing::hostile::sleb(data, int64_t{i} * stride);  // i32.const takes a signed LEB
    data.push_back(0x0b);
    leb(data, seg_bytes);
    for (uint32_t k = 0; k < seg_bytes; ++k) data.push_back(static_cast<uint8_t>(i * 7 + k));
  }
  section(11, data);

  TempDir cache;
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.compile_memory_mb = 512;
  auto engine = make_aot_engine(o);
  auto m = engine->load(w.data(), w.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  HostFuncTable host;
  auto inst = engine->instantiate(*m, host, ExecLimits{});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  GuestMemory mem = (*inst)->memory();
  size_t wrong = 0;
  for (uint32_t i = 0; i < segments; ++i) {
    const uint8_t* p = mem.range(uint64_t{i} * stride, stride);
    ASSERT_NE(p, nullptr);
    for (uint32_t k = 0; k < seg_bytes; ++k) wrong += p[k] != static_cast<uint8_t>(i * 7 + k);
    for (uint32_t k = seg_bytes; k < stride; ++k) wrong += p[k] != 0;
  }
  EXPECT_EQ(wrong, 0u);
}

// A run's deadline stops a split compile too (deadline_exceeded), every job with it.
TEST(AotSplit, RunDeadlineStopsEveryJob) {
  TempDir cache;
  TempDir bin;
  const std::string marker = unique_marker();
  RunOptions o;
  o.engine = "aot";
  o.aot.cache_dir = cache.path().string();
  o.aot.compiler = slow_compiler(bin.path(), marker);
  o.aot.unit_functions = 4;
  o.aot.compile_jobs = 2;
  o.timeout_ms = 500;
  auto c = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kDeadlineExceeded) << c.report.error().to_string();
  EXPECT_EQ(wait_gone(marker, 2000), std::vector<std::string>{});
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
}

// The memory limit holds for every job: the real compiler on a split module at 64 MiB fails
// with compile_limit, nothing is cached, no temporary directory is left.
TEST(AotSplit, MemoryLimitHoldsForEveryJob) {
  TempDir cache;
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.opt_level = 1;
  o.compile_memory_mb = 64;
  o.unit_functions = 8;
  auto engine = make_aot_engine(o);
  auto bytes = guest_bytes("hello");
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kCompileLimit) << m.error().to_string();
  EXPECT_EQ(testing::files_ending(cache.path(), ".so").size(), 0u);
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
}

// SIGKILL of wasmcap during a parallel compile (two cc1 at work) leaves no compiler process,
// and the next compile sweeps the temporary directory.
TEST(AotSplit, KillingWasmcapKillsEveryJob) {
  TempDir cache;
  fs::path module = cache.path() / "slow2.wasm";
  auto bytes = slow_to_compile_module(2);
  testing::write_text(module, std::string(bytes.begin(), bytes.end()));
  const std::string needle = cache.path().string();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("WASMCAP_CACHE_DIR", cache.path().c_str(), 1);
    setenv("WASMCAP_AOT_UNIT_FUNCTIONS", "1", 1);
    setenv("WASMCAP_AOT_JOBS", "2", 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(testing::cli_path().c_str(), "wasmcap", "compile", module.c_str(), nullptr);
    _exit(127);
  }
  size_t cc1 = 0;
  for (int i = 0; i < 1000 && cc1 < 2; ++i) {
    cc1 = 0;
    for (const auto& p : processes_with(needle)) cc1 += p.find("cc1") != std::string::npos;
    if (cc1 < 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(cc1, 2u) << "two compilers never ran at once";
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(wait_gone(needle, 3000), std::vector<std::string>{});
  ASSERT_EQ(tmp_dirs(cache.path()).size(), 1u) << "the killed process's temporary directory";
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.opt_level = 1;
  auto engine = make_aot_engine(o);
  auto traps = guest_bytes("traps");
  auto m = engine->load(traps.data(), traps.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
}

}  // namespace
}  // namespace wasmcap
