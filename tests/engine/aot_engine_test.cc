// The AOT engine's own rules, as an engine: the capabilities it declares, the cache's
// verification (corrupt and foreign entries are rebuilt, never loaded), imports checked before a
// compile, and differential runs against the interpreter (stdout, exit status and trap codes
// must agree).
//
// The engine, runtime and WASI suites also run whole on aot (ctest prefix "aot:"); the
// aot_*_test.cc files hold what only the AOT engine has (their helpers: aot_test_support.h).
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
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
using testing::tmp_dirs;
using testing::observe;
using testing::Observed;

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
  TempDir cache;
  AotOptions o = shared_options();
  o.cache_dir = cache.path().string();
  {
    auto engine = make_aot_engine(o);
    ASSERT_TRUE(instantiate(*engine, "traps", {}).has_value());
  }
  auto sos = testing::files_ending(cache.path(), ".so");
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
  TempDir cache;
  AotOptions o = shared_options();
  o.cache_dir = cache.path().string();
  {
    auto engine = make_aot_engine(o);
    ASSERT_TRUE(instantiate(*engine, "traps", {}).has_value());
  }
  auto sos = testing::files_ending(cache.path(), ".so");
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
  TempDir cache;
  fs::permissions(cache.path(), fs::perms::others_write, fs::perm_options::add);
  AotOptions o = shared_options();
  o.cache_dir = cache.path().string();
  auto engine = make_aot_engine(o);
  auto b = guest_bytes("traps");
  auto m = engine->load(b.data(), b.size());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kIo);
  EXPECT_NE(m.error().message.find("writable by others"), std::string::npos) << m.error().message;
}

TEST(AotCache, ConcurrentCompilesOfOneModuleAgree) {
  TempDir cache;
  AotOptions o = shared_options();
  o.cache_dir = cache.path().string();
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
  auto r = testing::run_cli({"compile", "--cache-dir", cache.path().string(),
                             testing::guest_path("traps")});
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::files_ending(cache.path(), ".so").size(), 1u);
  EXPECT_EQ(testing::files_ending(cache.path(), ".meta").size(), 1u);
}

// --- Imports are checked before compiling (docs/aot.md) ------------------------------------

// A stand-in compiler that leaves a file behind when it is run at all (also for --version).
std::string recording_compiler(const fs::path& dir, const fs::path& ran) {
  fs::path p = dir / "recordcc";
  testing::write_text(p, "#!/bin/sh\n"
                         "touch '" + ran.string() + "'\n"
                         "if [ \"$1\" = --version ]; then echo recordcc 1; exit 0; fi\n"
                         "exit 1\n");
  chmod(p.c_str(), 0755);
  return p.string();
}

// A module that cannot link fails on aot with the interpreter's link error (same code, same
// message) and the C compiler never runs: no minutes of compiling before a certain link error.
TEST(AotLinkCheck, UnknownImportFailsBeforeTheCompilerRuns) {
  for (const char* guest : {"link_unknown_func", "link_bad_signature"}) {
    SCOPED_TRACE(guest);
    RunOptions io;
    io.engine = "interp";
    auto want = testing::run_guest(guest_bytes(guest), io);
    ASSERT_FALSE(want.report.has_value());
    ASSERT_EQ(want.report.error().code, ErrorCode::kLinkError);

    for (const char* engine : {"aot", "auto"}) {
      SCOPED_TRACE(engine);
      TempDir cache;
      TempDir bin;
      const fs::path ran = bin.path() / "compiler-ran";
      RunOptions o;
      o.engine = engine;
      o.aot.cache_dir = cache.path().string();
      o.aot.compiler = recording_compiler(bin.path(), ran);
      auto got = testing::run_guest(guest_bytes(guest), o);
      ASSERT_FALSE(got.report.has_value());
      EXPECT_EQ(got.report.error().code, ErrorCode::kLinkError) << got.report.error().to_string();
      EXPECT_EQ(got.report.error().message, want.report.error().message);
      EXPECT_FALSE(fs::exists(ran)) << "the C compiler ran for a module that cannot link";
      EXPECT_EQ(tmp_dirs(cache.path()), std::vector<fs::path>{});
    }
  }
}

// The check uses the run's real host table: a module that links is compiled and runs.
TEST(AotLinkCheck, ModuleThatLinksIsCompiled) {
  RunOptions o;
  o.engine = "aot";
  o.aot = shared_options();
  o.wasi.args = {"hello"};
  auto c = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.out, "hello from wasm\n");
}

// --- differential: both engines, same observable results ---------------------------------------

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
