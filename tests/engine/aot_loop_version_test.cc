// Loop versioning in the AOT tier (src/engine/aot/loop_version.h, docs/aot.md "Loop versioning").
//
// A versioned loop runs its iterations known to stay in bounds through a barrier-free copy of
// its body; everything observable must stay exactly as the interpreter has it: results, the
// trap and its code, and every byte of memory, also after a trap part-way through a loop (the
// copy must never run an iteration whose access would trap, nor skip one before it). The guest
// (guest/tests/wat/loops.wat) takes its addresses and counts as parameters; each case runs on
// the fast interpreter (the reference) and on AOT at -O2, on fresh instances, and compares.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/aot/translate.h"
#include "test_support.h"
#include "wasmcap/engine.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::guest_bytes;

// What one call did: status, results (bit patterns), and the whole memory afterwards.
struct Observed {
  std::string status;
  std::vector<uint64_t> results;
  std::vector<uint8_t> memory;
};

uint64_t bits(const Value& v) {
  switch (v.type) {
    case ValType::kI32: return static_cast<uint32_t>(v.i32);
    case ValType::kI64: return static_cast<uint64_t>(v.i64);
    case ValType::kF32: {
      uint32_t b;
      std::memcpy(&b, &v.f32, 4);
      return b;
    }
    case ValType::kF64: {
      uint64_t b;
      std::memcpy(&b, &v.f64, 8);
      return b;
    }
    default: return 0;
  }
}

Observed run(Engine& engine, const std::shared_ptr<const Module>& module, const std::string& fn,
             const std::vector<Value>& args) {
  Observed o;
  auto inst = engine.instantiate(module, HostFuncTable{}, ExecLimits{});
  if (!inst) {
    o.status = "instantiate: " + inst.error().to_string();
    return o;
  }
  auto r = (*inst)->call(fn, args);
  if (r) {
    o.status = "ok";
    for (const Value& v : r->results) o.results.push_back(bits(v));
  } else {
    o.status = std::string(error_code_name(r.error().code));
  }
  GuestMemory mem = (*inst)->memory();
  if (mem.valid()) o.memory.assign(mem.range(0, mem.size()), mem.range(0, mem.size()) + mem.size());
  return o;
}

class AotLoopVersion : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cache_ = new testing::TempDir;
    AotOptions o;
    o.cache_dir = cache_->str();
    o.opt_level = 2;  // the level runs use: vectorisation happens there
    aot_ = make_aot_engine(o).release();
    fast_ = make_fast_engine().release();
    const auto bytes = guest_bytes("loops");
    auto a = aot_->load(bytes.data(), bytes.size());
    auto f = fast_->load(bytes.data(), bytes.size());
    ASSERT_TRUE(a.has_value()) << a.error().to_string();
    ASSERT_TRUE(f.has_value()) << f.error().to_string();
    aot_module_ = new std::shared_ptr<const Module>(*a);
    fast_module_ = new std::shared_ptr<const Module>(*f);
  }
  static void TearDownTestSuite() {
    delete aot_module_;
    delete fast_module_;
    delete aot_;
    delete fast_;
    delete cache_;
  }

  // Runs `fn(args)` on both engines; returns the reference's status.
  static std::string same(const std::string& fn, const std::vector<Value>& args) {
    Observed want = run(*fast_, *fast_module_, fn, args);
    Observed got = run(*aot_, *aot_module_, fn, args);
    std::string what = fn + "(";
    for (const Value& v : args) what += std::to_string(bits(v)) + " ";
    what += ")";
    EXPECT_EQ(got.status, want.status) << what;
    EXPECT_EQ(got.results, want.results) << what;
    EXPECT_EQ(got.memory.size(), want.memory.size()) << what;
    if (got.memory != want.memory) {
      size_t i = 0;
      while (i < got.memory.size() && i < want.memory.size() && got.memory[i] == want.memory[i]) ++i;
      ADD_FAILURE() << what << ": memory differs first at byte " << i;
    }
    return want.status;
  }

  static inline testing::TempDir* cache_ = nullptr;
  static inline Engine* aot_ = nullptr;
  static inline Engine* fast_ = nullptr;
  static inline std::shared_ptr<const Module>* aot_module_ = nullptr;
  static inline std::shared_ptr<const Module>* fast_module_ = nullptr;
};

Value i32(uint32_t v) { return Value::I32(v); }

constexpr uint32_t kMem = 0x20000;

// Every versionable loop of the guest is versioned (else the differential tests below would
// compare the interpreter with plain wasm2c code and prove nothing), the two that are not
// versionable are not, and each exit-test helper is used.
TEST(AotLoopVersionTranslate, TheGuestsLoopsAreVersioned) {
  const auto bytes = guest_bytes("loops");
  auto t = aot::translate(bytes.data(), bytes.size(), true, aot::kDefaultUnitFunctions,
                          /*poll=*/false);
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_EQ(t->versioned_loops, 13u);
  for (const char* helper : {"wasmcap_lv_ne(", "wasmcap_lv_lt_s(", "wasmcap_lv_gt_u(",
                             "wasmcap_lv_le_u(", "wasmcap_lv_ge_s(", "wasmcap_lv_lt_u(",
                             "wasmcap_lv_gt_s("}) {
    EXPECT_NE(t->module_c.find(std::string("const u64 wc_f = ") + helper), std::string::npos)
        << helper;
  }
  // Both entry tests of every copy are marked unlikely, so that GCC's static profile lays out
  // and allocates registers for the original loop (docs/aot.md; bench lz ran 3-4% slower
  // without the hint).
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = t->module_c.find(needle); at != std::string::npos;
         at = t->module_c.find(needle, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("if (UNLIKELY(wc_f >= 16u)) {"), t->versioned_loops);
  EXPECT_EQ(count("if (UNLIKELY(wc_ok)) {"), t->versioned_loops);
  // Where the runtime polls for deadlines, no loop is versioned (a copy has no check).
  auto polled = aot::translate(bytes.data(), bytes.size(), true, aot::kDefaultUnitFunctions,
                               /*poll=*/true);
  ASSERT_TRUE(polled.has_value()) << polled.error().to_string();
  EXPECT_EQ(polled->versioned_loops, 0u);
}

// Split into units, the blocks land in the units that hold their functions.
TEST(AotLoopVersionTranslate, SplitTranslationsVersionTheSameLoops) {
  const auto bytes = guest_bytes("loops");
  auto t = aot::translate(bytes.data(), bytes.size(), true, /*unit_functions=*/2, /*poll=*/false);
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_EQ(t->versioned_loops, 13u);
  size_t in_units = 0;
  for (const auto& u : t->units) {
    for (size_t at = u.c.find("versioned loop"); at != std::string::npos;
         at = u.c.find("versioned loop", at + 1)) {
      ++in_units;
    }
  }
  EXPECT_EQ(in_units, 13u);
}

TEST_F(AotLoopVersion, AxpyInBoundsOverlappingAndNot) {
  const double a = 1.0000001;
  for (uint32_t n : {2u, 4u, 64u, 512u}) {
    EXPECT_EQ(same("axpy", {i32(0x1000), i32(0x8000), i32(n), Value::F64(a)}), "ok");
    EXPECT_EQ(same("axpy", {i32(0x1000), i32(0x1008), i32(n), Value::F64(a)}), "ok");  // overlap
    EXPECT_EQ(same("axpy", {i32(0x1008), i32(0x1000), i32(n), Value::F64(-a)}), "ok");
    EXPECT_EQ(same("axpy", {i32(0x2000), i32(0x2000), i32(n), Value::F64(0.5)}), "ok");
  }
  // Misaligned (wasm allows it; the copy must not assume alignment it has not checked).
  EXPECT_EQ(same("axpy", {i32(0x1004), i32(0x8001), i32(64), Value::F64(a)}), "ok");
  EXPECT_EQ(same("axpy", {i32(0x1003), i32(0x8000), i32(100), Value::F64(a)}), "ok");
}

TEST_F(AotLoopVersion, AxpyTrapsAtTheSameIterationWithTheSameStoresDone) {
  // The loop runs into the end of memory part-way: every store before the trap is done.
  EXPECT_EQ(same("axpy", {i32(kMem - 64), i32(0x100), i32(64), Value::F64(2)}),
            "trap_memory_out_of_bounds");
  EXPECT_EQ(same("axpy", {i32(0x100), i32(kMem - 40), i32(64), Value::F64(2)}),
            "trap_memory_out_of_bounds");
  // Exactly in bounds up to the last byte.
  EXPECT_EQ(same("axpy", {i32(kMem - 64 * 8), i32(0x100), i32(64), Value::F64(2)}), "ok");
  EXPECT_EQ(same("axpy", {i32(kMem - 64 * 8 + 1), i32(0x100), i32(64), Value::F64(2)}),
            "trap_memory_out_of_bounds");
}

TEST_F(AotLoopVersion, AddressesThatWrapPast4GiBStayWasmAddresses) {
  // dst + 8j wraps to low memory after a few iterations: in wasm that is a valid address.
  EXPECT_EQ(same("axpy", {i32(0xffffffe0u), i32(0x100), i32(64), Value::F64(3)}),
            "trap_memory_out_of_bounds");  // the first access is out of bounds
  EXPECT_EQ(same("sum_lt_s", {i32(0xfffffff0u), i32(0), i32(100)}), "trap_memory_out_of_bounds");
  // base + 4i wraps from 2^32 - 16 into [0, ...) once i >= 4: i starts at 4.
  EXPECT_EQ(same("sum_lt_s", {i32(0xfffffff0u), i32(4), i32(100)}), "ok");
  EXPECT_EQ(same("copy_bytes", {i32(0x100), i32(0xfffffff8u), i32(64)}),
            "trap_memory_out_of_bounds");
  EXPECT_EQ(same("fill_down", {i32(0x40), i32(0xfffffff0u), i32(7)}), "ok");  // ends at once
}

TEST_F(AotLoopVersion, TripCountsOfEveryExitTest) {
  // sum_lt_s: i from i0 while i+1 < n (signed); n <= i0 runs one iteration.
  for (int32_t i0 : {0, 5, -3, 100}) {
    for (int32_t n : {-5, 0, 1, 6, 101, 1000}) {
      same("sum_lt_s", {i32(0x400), Value::I32(static_cast<uint32_t>(i0)), Value::I32(static_cast<uint32_t>(n))});
    }
  }
  // A negative start index: base + 4i is below base (in bounds while base is big enough).
  EXPECT_EQ(same("sum_lt_s", {i32(0x1000), Value::I32(static_cast<uint32_t>(-100)), Value::I32(100)}), "ok");
  // copy_bytes: n counts down to zero; n = 0 wraps to 2^32 - 1 and runs off memory.
  for (uint32_t n : {1u, 2u, 3u, 1000u}) same("copy_bytes", {i32(0x3000), i32(0x100), i32(n)});
  EXPECT_EQ(same("copy_bytes", {i32(0x3000), i32(0x100), i32(0)}), "trap_memory_out_of_bounds");
  EXPECT_EQ(same("copy_bytes", {i32(0x101), i32(0x100), i32(500)}), "ok");  // overlapping
  // fill_down: p moves down by 4 while p-4 > end (unsigned).
  for (uint32_t end : {0u, 4u, 0x100u, 0x3ffu, 0x400u, 0x500u}) {
    same("fill_down", {i32(0x400), i32(end), i32(7)});
  }
  // Misaligned: down to p = 2, then p - 4 wraps (> 0 again) and the store runs off memory.
  EXPECT_EQ(same("fill_down", {i32(0x402), i32(0), i32(7)}), "trap_memory_out_of_bounds");
  EXPECT_EQ(same("fill_down", {i32(0x10), i32(1), i32(7)}), "ok");
  // narrow: i while last >= i+1 (mirrored le_u); last = 2^32 - 1 runs off memory.
  for (uint32_t last : {0u, 1u, 10u, 1000u}) same("narrow", {i32(0x100), i32(0x4000), i32(3), i32(last)});
  EXPECT_EQ(same("narrow", {i32(0x100), i32(0x4000), i32(0), i32(0xffffffffu)}),
            "trap_memory_out_of_bounds");
  // mix: i down to lo (signed, ge_s).
  for (int32_t lo : {-1, 0, 3, 50, 200}) same("mix", {i32(0x800), Value::I32(100), Value::I32(static_cast<uint32_t>(lo))});
  EXPECT_EQ(same("mix", {i32(0x800), Value::I32(100), Value::I32(static_cast<uint32_t>(-1000))}),
            "trap_memory_out_of_bounds");  // i goes negative: 0x800 + 4i wraps below 0
  // scramble: an inverted test (eqz of ge_u).
  for (uint32_t n : {0u, 1u, 2u, 100u, 0x4000u}) same("scramble", {i32(0x200), i32(n)});
  EXPECT_EQ(same("scramble", {i32(0x200), i32(0x8000)}), "trap_memory_out_of_bounds");
  // stride: 2^28 bytes a step; in bounds only for one iteration.
  for (uint32_t n : {1u, 2u, 16u, 17u}) same("stride", {i32(0x100), i32(n)});
  EXPECT_EQ(same("hash", {}), "ok");
}

// The copy's typed accesses assume natural alignment, so a loop whose accesses are misaligned
// must never enter it (C would be undefined there; GCC may vectorise assuming the alignment).
// x86-64 does not fault on a misaligned scalar or unaligned-vector access, so this compiles the
// guest with GCC's alignment sanitizer in trap mode: a misaligned typed access in the copy
// executes ud2 and the call does not end the way the interpreter's does.
TEST_F(AotLoopVersion, MisalignedAccessesNeverReachTheCopy) {
  testing::TempDir cache;
  const fs::path cc = cache.path() / "cc-align";
  {
    FILE* f = std::fopen(cc.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("#!/bin/sh\nexec cc \"$@\" -fsanitize=alignment -fsanitize-undefined-trap-on-error\n", f);
    std::fclose(f);
    fs::permissions(cc, fs::perms::owner_all);
  }
  AotOptions o;
  o.cache_dir = (cache.path() / "objects").string();
  o.opt_level = 2;
  o.compiler = cc.string();
  auto checked = make_aot_engine(o);
  const auto bytes = guest_bytes("loops");
  auto m = checked->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  auto compare = [&](const std::string& fn, const std::vector<Value>& args) {
    Observed want = run(*fast_, *fast_module_, fn, args);
    Observed got = run(*checked, *m, fn, args);
    EXPECT_EQ(got.status, want.status) << fn;
    EXPECT_TRUE(got.memory == want.memory) << fn;
  };
  compare("axpy", {i32(0x1004), i32(0x8001), i32(64), Value::F64(1.5)});  // both misaligned
  compare("axpy", {i32(0x1000), i32(0x8002), i32(64), Value::F64(1.5)});  // the loads
  compare("sum_lt_s", {i32(0x402), i32(0), i32(100)});
  compare("fill_down", {i32(0x403), i32(0x100), i32(9)});
  compare("narrow", {i32(0x101), i32(0x4000), i32(0), i32(100)});
  compare("mix", {i32(0x801), i32(100), i32(0)});
  compare("scramble", {i32(0x202), i32(100)});
  // Aligned, the copy runs under the sanitizer too (it reports nothing).
  compare("axpy", {i32(0x1000), i32(0x8000), i32(64), Value::F64(1.5)});
  compare("hash", {});
}

// The count must be exact: the copy runs N iterations and jumps past the loop, so a test whose
// operand wraps before it fails (the loop then goes on) must leave the loop to the original.
TEST_F(AotLoopVersion, ExitTestsThatWrapAreNotCounted) {
  // (Counts of at least kVersionMinIterations, so that a wrong count would enter the copy.)
  // x from 2^32 - 256 by 8 while x < y: with y = 2^32 - 1, x wraps to 0 (< y) after 32
  // iterations and the loop goes on until p runs off memory; with y = 2^32 - 8 it ends there.
  EXPECT_EQ(same("walk_lt_u", {i32(0x100), i32(0xffffff00u), i32(0xffffffffu)}),
            "trap_memory_out_of_bounds");
  EXPECT_EQ(same("walk_lt_u", {i32(0x100), i32(0xffffff00u), i32(0xfffffff8u)}), "ok");
  EXPECT_EQ(same("walk_lt_u", {i32(0x100), i32(0), i32(4000)}), "ok");
  EXPECT_EQ(same("walk_lt_u", {i32(0x100), i32(5), i32(4)}), "ok");  // one iteration
  // x down by 8 while x > y (signed): from -2^31 + 4 + 8*40, x reaches -2^31 + 4 (> y: on),
  // then wraps to 2^31 - 4 (> y: on) and the loop runs until p is off memory; from
  // -2^31 + 8*40 it stops at -2^31 (not > y).
  EXPECT_EQ(same("walk_gt_s", {i32(0x100), i32(0x80000144u), i32(0x80000000u)}),
            "trap_memory_out_of_bounds");
  EXPECT_EQ(same("walk_gt_s", {i32(0x100), i32(0x80000140u), i32(0x80000000u)}), "ok");
  EXPECT_EQ(same("walk_gt_s", {i32(0x100), i32(4000), i32(static_cast<uint32_t>(-3))}), "ok");
  // x by 12 while x != y: 12 does not divide y - x - 12 (485 - 12), so x passes y, wraps round,
  // and the loop runs until p is off memory; 12 divides 492 - 12 (40 iterations).
  EXPECT_EQ(same("walk_ne", {i32(0x100), i32(0), i32(485)}), "trap_memory_out_of_bounds");
  EXPECT_EQ(same("walk_ne", {i32(0x100), i32(0), i32(492)}), "ok");
  EXPECT_EQ(same("walk_ne", {i32(0x100), i32(0), i32(1200)}), "ok");
  EXPECT_EQ(same("walk_ne", {i32(0x100), i32(0xfffffff4u), i32(0)}), "ok");  // one, wrapping
  EXPECT_EQ(same("walk_ne", {i32(0x100), i32(0xffffff00u), i32(0x2c)}), "ok");  // through 2^32
}

TEST_F(AotLoopVersion, LoopsThatAreNotVersionedStillAgree) {
  same("with_call", {i32(0x100), i32(50)});
  same("with_exit", {i32(0x100), i32(50)});
  same("with_exit", {i32(kMem - 8), i32(50)});
}

// Random starts, counts and lengths around the interesting edges: the end of memory, 2^32, 0.
TEST_F(AotLoopVersion, RandomCasesAgree) {
  std::mt19937 rng(20261124);
  auto addr = [&]() -> uint32_t {
    switch (rng() % 5) {
      case 0: return rng() % kMem;
      case 1: return kMem - (rng() % 2048);
      case 2: return 0u - (rng() % 2048);
      case 3: return rng() % 256;
      default: return rng();
    }
  };
  auto count = [&]() -> uint32_t {
    switch (rng() % 4) {
      case 0: return rng() % 8;
      case 1: return rng() % 600;
      case 2: return 0u - (rng() % 4);
      default: return rng() % 20000;
    }
  };
  for (int i = 0; i < 60; ++i) {
    same("axpy", {i32(addr()), i32(addr()), i32(count() & ~1u), Value::F64(0.75)});
    same("sum_lt_s", {i32(addr()), i32(count()), i32(count())});
    same("copy_bytes", {i32(addr()), i32(addr()), i32(count())});
    same("fill_down", {i32(addr()), i32(addr()), i32(rng())});
    same("narrow", {i32(addr()), i32(addr()), i32(count()), i32(count())});
    same("mix", {i32(addr()), i32(count()), i32(count())});
    same("scramble", {i32(addr()), i32(count())});
    same("walk_lt_u", {i32(addr()), i32(addr()), i32(addr())});
    same("walk_gt_s", {i32(addr()), i32(addr()), i32(addr())});
    same("walk_ne", {i32(addr()), i32(addr()), i32(addr())});
  }
}

}  // namespace
}  // namespace wasmcap
