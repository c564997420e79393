// Linear memories' recycled address ranges (src/engine/memory_slots.h) on both engines: what
// one instance wrote is never visible to the next instance that gets its range, in memory the
// next one starts with or grows into, kept resident or dropped; a recycled range keeps the new
// memory's bounds; the cache stays within its bound.
//
// C++17: the modules are written as .wat and compiled with wabt's library.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/memory_slots.h"
#include "test_paths.h"
#include "wasmcap/engine.h"
#include "wat_to_wasm.h"

namespace wasmcap {
namespace {

using Bytes = std::vector<uint8_t>;

// Both modules declare the same limits, so their memories have the same reservation and one
// gets the other's range.
// Grows to `pages` in all and fills every byte with 0xA5: the secret.
const char* kWriter =
    "(module (memory 1 64)"
    "  (func (export \"write\") (param $pages i32) (result i32)"
    "    (drop (memory.grow (i32.sub (local.get $pages) (memory.size))))"
    "    (memory.fill (i32.const 0) (i32.const 0xA5) (i32.mul (memory.size) (i32.const 65536)))"
    "    (memory.size)))";

// Grows to `pages` in all and counts the nonzero 8-byte words of the whole memory.
const char* kScanner =
    "(module (memory 1 64)"
    "  (func (export \"scan\") (param $pages i32) (result i32)"
    "    (local $i i32) (local $end i32) (local $n i32)"
    "    (drop (memory.grow (i32.sub (local.get $pages) (memory.size))))"
    "    (local.set $end (i32.mul (memory.size) (i32.const 65536)))"
    "    (block $done (loop $next"
    "      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))"
    "      (if (i64.ne (i64.load (local.get $i)) (i64.const 0))"
    "        (then (local.set $n (i32.add (local.get $n) (i32.const 1)))))"
    "      (local.set $i (i32.add (local.get $i) (i32.const 8)))"
    "      (br $next)))"
    "    (local.get $n))"
    "  (func (export \"load\") (param i32) (result i32) (i32.load8_u (local.get 0))))";

class MemorySlots : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "aot") {
      AotOptions o;
      o.cache_dir = test_paths::aot_test_cache();
      o.opt_level = 1;
      engine_ = make_aot_engine(o);
    } else {
      engine_ = make_fast_engine();
    }
    for (const char* wat : {kWriter, kScanner}) {
      Bytes b = wat::wat_to_wasm(wat);
      auto m = engine_->load(b.data(), b.size());
      ASSERT_TRUE(m.has_value()) << m.error().to_string();
      modules_.push_back(*m);
    }
  }
  std::unique_ptr<Instance> instantiate(size_t which) {
    auto inst = engine_->instantiate(modules_.at(which), host_, ExecLimits{});
    EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
    return inst ? std::move(*inst) : nullptr;
  }
  static uint32_t call(Instance& inst, const char* f, uint32_t arg) {
    auto r = inst.call(f, {Value::I32(arg)});
    EXPECT_TRUE(r.has_value()) << f << ": " << r.error().to_string();
    return r && !r->results.empty() ? r->results[0].i32 : 0xdeadbeef;
  }

  std::unique_ptr<Engine> engine_;
  HostFuncTable host_;
  std::vector<std::shared_ptr<const Module>> modules_;
};

INSTANTIATE_TEST_SUITE_P(Engines, MemorySlots, ::testing::Values("interp", "aot"),
                         [](const auto& info) { return info.param; });

// Interleaved, with sizes below and above what a kept range keeps resident (16 pages): the
// scanner sees only zeros, and the ranges were in fact reused.
TEST_P(MemorySlots, NoInstanceSeesWhatTheLastOneWrote) {
  engine::slot_cache_clear();
  auto before = engine::slot_stats();
  for (uint32_t pages : {1u, 2u, 16u, 40u, 3u, 64u, 1u, 17u}) {
    auto w = instantiate(0);
    ASSERT_TRUE(w);
    EXPECT_EQ(call(*w, "write", pages), pages);
    w.reset();
    auto s = instantiate(1);
    ASSERT_TRUE(s);
    // The whole cap: what the writer touched and what it never did.
    EXPECT_EQ(call(*s, "scan", 64), 0u) << "after a writer of " << pages << " pages";
    s.reset();
  }
  auto after = engine::slot_stats();
  EXPECT_GE(after.reused - before.reused, 15u) << "the ranges were not recycled";
}

// A range recycled from a memory that had grown to 40 pages gives a 1-page memory: its second
// page is out of bounds again.
TEST_P(MemorySlots, ARecycledRangeHasTheNewMemorysBounds) {
  engine::slot_cache_clear();
  {
    auto w = instantiate(0);
    ASSERT_TRUE(w);
    EXPECT_EQ(call(*w, "write", 40), 40u);
  }
  auto s = instantiate(1);
  ASSERT_TRUE(s);
  EXPECT_EQ(engine::slot_stats().kept, 0u) << "the scanner took the writer's range";
  EXPECT_EQ(call(*s, "load", 65535), 0u);
  auto r = s->call("load", {Value::I32(65536)});
  ASSERT_FALSE(r.has_value()) << "the range's old second page is readable";
  EXPECT_EQ(r.error().code, ErrorCode::kTrapMemoryOutOfBounds) << r.error().to_string();
}

// However many memories go at once, at most WASMCAP_SLOT_CACHE_MAX ranges are kept.
TEST_P(MemorySlots, TheCacheKeepsAtMostItsBound) {
  engine::slot_cache_clear();
  std::vector<std::unique_ptr<Instance>> many;
  for (int i = 0; i < WASMCAP_SLOT_CACHE_MAX + 8; ++i) {
    many.push_back(instantiate(0));
    ASSERT_TRUE(many.back());
    call(*many.back(), "write", 2);
  }
  many.clear();
  EXPECT_EQ(engine::slot_stats().kept, static_cast<size_t>(WASMCAP_SLOT_CACHE_MAX));
  engine::slot_cache_clear();
  EXPECT_EQ(engine::slot_stats().kept, 0u);
}

// Kept ranges hold address space: when a new one cannot be had (RLIMIT_AS here), the kept ones
// are unmapped and the reservation is tried again, so keeping never refuses a memory that
// would have fit without it. In a child process: the limit is the process's.
TEST(MemorySlotsLimits, KeptRangesGiveWayWhenAddressSpaceRunsOut) {
  constexpr size_t kGiB = size_t{1} << 30;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    engine::slot_cache_clear();
    std::vector<uint8_t*> held;
    for (int i = 0; i < 4; ++i) held.push_back(wasmcap_slot_acquire(4 * kGiB, 65536));
    for (uint8_t* p : held) {
      if (p == nullptr) _exit(10);
      wasmcap_slot_release(p, 4 * kGiB, 65536);
    }
    if (engine::slot_stats().kept != 4) _exit(11);
    std::ifstream statm("/proc/self/statm");
    size_t pages = 0;
    statm >> pages;
    // Less than the process maps now (16 GiB of it kept), enough for one more range without them.
    rlim_t now = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE));
    struct rlimit r{now - 11 * kGiB, now - 11 * kGiB};
    if (setrlimit(RLIMIT_AS, &r) != 0) _exit(12);
    // Another size: no kept range fits it, and the address space for it is taken by them.
    uint8_t* p = wasmcap_slot_acquire(4 * kGiB + 65536, 65536);
    if (p == nullptr) _exit(13);
    p[0] = 1;
    _exit(engine::slot_stats().kept == 0 ? 0 : 14);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: no range, 11: not kept, 12: setrlimit, 13: refused, 14: still kept";
}

}  // namespace
}  // namespace wasmcap
