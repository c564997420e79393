// The AOT tier's own rules: translator robustness, the cache's verification (corrupt and foreign
// entries are rebuilt, never loaded), the signal handler's scope (host faults are not claimed),
// traps / stack overflows / deadlines on many threads at once, capability declaration, and
// differential runs against the interpreter (stdout, exit status and trap codes must agree).
//
// The engine, runtime and WASI suites also run whole on aot (ctest prefix "aot:"); this file
// holds what only the AOT engine has.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "engine/aot/translate.h"
#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::guest_bytes;

// The shared test cache (each guest compiles once per build), at the tests' -O1, also for the
// wasmcap CLIs these tests start.
const bool kTestEnv = [] {
  setenv("WASMCAP_AOT_OPT", "1", 1);
  setenv("WASMCAP_CACHE_DIR", WASMCAP_AOT_TEST_CACHE, 1);
  return true;
}();
std::string shared_cache() { return WASMCAP_AOT_TEST_CACHE; }

AotOptions shared_options() {
  AotOptions o;
  o.cache_dir = shared_cache();
  o.opt_level = 1;
  return o;
}

// A private cache directory for tests that corrupt entries.
struct TempCache {
  fs::path dir;
  TempCache() {
    char tmpl[] = "/tmp/wasmcap-aot-test-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~TempCache() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::vector<fs::path> files(const std::string& ext) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ext) out.push_back(e.path());
    }
    return out;
  }
};

Result<std::unique_ptr<Instance>> instantiate(Engine& engine, const std::string& guest,
                                              const HostFuncTable& host,
                                              const ExecLimits& limits = {}) {
  auto bytes = guest_bytes(guest);
  auto m = engine.load(bytes.data(), bytes.size());
  if (!m) return tl::unexpected(m.error());
  return engine.instantiate(*m, host, limits);
}

// --- translator ------------------------------------------------------------------------------

// Hostile bytes reach wabt's C writer only after validation; it must never abort or crash the
// host (wasm2c 1.0.32 aborts on SIMD, which is why SIMD modules are refused first).
TEST(AotTranslate, RandomMutationsNeverCrash) {
  std::mt19937 rng(777);
  int translated = 0, refused = 0;
  for (const char* name : {"traps", "features", "probe", "hello"}) {
    auto orig = guest_bytes(name);
    ASSERT_FALSE(orig.empty());
    for (int i = 0; i < 300; ++i) {
      auto b = orig;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        size_t pos = 8 + rng() % (b.size() - 8);
        if (rng() % 2) {
          b[pos] = static_cast<uint8_t>(rng());
        } else {
          b[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
        }
      }
      auto t = aot::translate(b.data(), b.size());
      if (t) {
        ++translated;
      } else {
        ++refused;
        EXPECT_TRUE(t.error().code == ErrorCode::kModuleMalformed ||
                    t.error().code == ErrorCode::kModuleUnsupported ||
                    t.error().code == ErrorCode::kLinkError)
            << t.error().to_string();
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_EQ(translated + refused, 1200);
}

TEST(AotTranslate, SimdIsRefusedNotAborted) {
  auto b = guest_bytes("features");
  auto t = aot::translate(b.data(), b.size());
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ErrorCode::kModuleUnsupported);
}

// --- capabilities -----------------------------------------------------------------------------

TEST(AotCapabilities, FuelIsDeclaredUnavailableAndRefused) {
  auto engine = make_aot_engine(shared_options());
  EXPECT_FALSE(engine->capabilities().has(Capability::kLimitFuel));
  EXPECT_TRUE(engine->capabilities().has(Capability::kLimitTimeout));
  EXPECT_TRUE(engine->capabilities().has(Capability::kLimitMemory));
  EXPECT_TRUE(engine->capabilities().has(Capability::kHostApiHttps));
  RunOptions o;
  o.fuel = 1000;
  o.wasi.args = {"hello"};
  o.wasi.stdout_fd = -1;
  auto r = run_module(*engine, guest_bytes("hello"), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kCapabilityUnavailable) << r.error().to_string();
}

TEST(AotCapabilities, AutoFallsBackToTheInterpreterForFuel) {
  RunOptions o;
  o.engine = "auto";
  o.aot = shared_options();
  o.fuel = 2000000;
  o.wasi.args = {"spin"};
  auto r = run_module(guest_bytes("spin"), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kFuelExhausted) << r.error().to_string();
}

// --- cache --------------------------------------------------------------------------------------

TEST(AotCache, CorruptObjectIsDetectedAndRebuilt) {
  TempCache cache;
  AotOptions o = shared_options();
  o.cache_dir = cache.dir.string();
  {
    auto engine = make_aot_engine(o);
    ASSERT_TRUE(instantiate(*engine, "traps", {}).has_value());
  }
  auto sos = cache.files(".so");
  ASSERT_EQ(sos.size(), 1u);
  // Flip one byte of the object: its sha256 no longer matches the sidecar.
  std::string corrupt = testing::read_text(sos[0]);
  corrupt[corrupt.size() / 2] ^= 0x40;
  fs::remove(sos[0]);
  testing::write_text(sos[0], corrupt);
  fs::permissions(sos[0], fs::perms::owner_read | fs::perms::owner_write);
  auto engine = make_aot_engine(o);
  auto inst = instantiate(*engine, "traps", {});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  auto ok = (*inst)->call("ok", {});
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->results[0].i32, 42u);
  // The entry was rebuilt, not loaded.
  EXPECT_NE(testing::read_text(sos[0]), corrupt);
}

TEST(AotCache, ForeignWritableEntryIsNotLoaded) {
  TempCache cache;
  AotOptions o = shared_options();
  o.cache_dir = cache.dir.string();
  {
    auto engine = make_aot_engine(o);
    ASSERT_TRUE(instantiate(*engine, "traps", {}).has_value());
  }
  auto sos = cache.files(".so");
  ASSERT_EQ(sos.size(), 1u);
  // A group-writable object could have been replaced by someone else: never trusted.
  fs::permissions(sos[0], fs::perms::group_write, fs::perm_options::add);
  auto before = fs::last_write_time(sos[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto engine = make_aot_engine(o);
  ASSERT_TRUE(instantiate(*engine, "traps", {}).has_value());
  struct stat st;
  ASSERT_EQ(stat(sos[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & S_IWGRP, 0u) << "the group-writable entry was kept";
  EXPECT_NE(fs::last_write_time(sos[0]), before);
}

TEST(AotCache, SharedCacheDirectoryIsRefused) {
  TempCache cache;
  fs::permissions(cache.dir, fs::perms::others_write, fs::perm_options::add);
  AotOptions o = shared_options();
  o.cache_dir = cache.dir.string();
  auto engine = make_aot_engine(o);
  auto b = guest_bytes("traps");
  auto m = engine->load(b.data(), b.size());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kIo);
  EXPECT_NE(m.error().message.find("writable by others"), std::string::npos) << m.error().message;
}

TEST(AotCache, ConcurrentCompilesOfOneModuleAgree) {
  TempCache cache;
  AotOptions o = shared_options();
  o.cache_dir = cache.dir.string();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  // Separate processes race on the lock file; here separate engines in threads, plus a CLI.
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      auto engine = make_aot_engine(o);
      auto inst = instantiate(*engine, "traps", {});
      if (inst && (*inst)->call("ok", {}).has_value()) ++ok;
    });
  }
  auto r = testing::run_cli({"compile", "--cache-dir", cache.dir.string(),
                             testing::guest_path("traps")});
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cache.files(".so").size(), 1u);
  EXPECT_EQ(cache.files(".meta").size(), 1u);
}

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

// --- differential: both engines, same observable results ---------------------------------------

struct Observed {
  std::string out, err_code;
  int exit_code = 0;
};

Observed observe(const std::string& engine, const std::string& guest,
                 std::vector<std::string> args, const std::string& invoke = "") {
  RunOptions o;
  o.engine = engine;
  o.aot = shared_options();
  o.wasi.args = {guest};
  o.wasi.args.insert(o.wasi.args.end(), args.begin(), args.end());
  o.timeout_ms = 60000;
  o.max_memory_bytes = 64ull << 20;
  if (!invoke.empty()) o.entry = invoke;
  auto c = testing::run_guest(guest_bytes(guest), o);
  Observed r;
  r.out = c.out;
  if (c.report) {
    r.exit_code = c.report->exit_code;
  } else {
    r.err_code = std::string(error_code_name(c.report.error().code));
  }
  return r;
}

TEST(AotDifferential, GuestsBehaveTheSameOnBothEngines) {
  struct Case {
    std::string guest;
    std::vector<std::string> args;
    std::string invoke;
  };
  std::vector<Case> cases = {
      {"hello", {"a", "b"}, ""},
      {"exit_status", {"7"}, ""},
      {"malloc_bomb", {}, ""},
      {"recurse", {"1000"}, ""},
      {"recurse", {"100000000"}, ""},
      {"exits", {}, ""},
      {"grow_bomb", {}, ""},
      {"table_grow_bomb", {}, ""},
      {"multi_table_grow_bomb", {}, ""},
      {"multi_table_initial_bomb", {}, ""},
      {"big_memory", {}, ""},
      {"link_memory_import", {}, ""},
      {"link_table_import", {}, ""},
      {"link_global_import", {}, ""},
      {"reactor", {}, "count"},
  };
  for (const char* e : {"unreachable", "mem_oob_load", "mem_oob_store", "mem_oob_fill",
                        "mem_oob_copy", "div_zero_s", "div_zero_u64", "rem_zero",
                        "int_overflow", "int_overflow64", "invalid_conversion",
                        "trunc_out_of_range", "call_null", "call_mismatch", "call_indirect_ok",
                        "table_oob_call", "table_oob_get", "recurse_forever",
                        "recurse_indirect_forever", "ok"}) {
    cases.push_back({"traps", {}, e});
  }
  for (const auto& c : cases) {
    Observed i = observe("interp", c.guest, c.args, c.invoke);
    Observed a = observe("aot", c.guest, c.args, c.invoke);
    std::string what = c.guest + (c.invoke.empty() ? "" : " --invoke " + c.invoke);
    EXPECT_EQ(i.err_code, a.err_code) << what;
    EXPECT_EQ(i.exit_code, a.exit_code) << what;
    EXPECT_EQ(i.out, a.out) << what;
  }
}

}  // namespace
}  // namespace wasmcap
