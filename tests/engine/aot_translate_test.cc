// The AOT translator (wasm -> C): robustness against hostile bytes, where it places deadline
// checks, how loads and stores reach memory, and the compile flags every job gets (with the
// exactness of what they let GCC reorder).
//
// The engine, runtime and WASI suites also run whole on aot (ctest prefix "aot:"); the
// aot_*_test.cc files hold what only the AOT engine has (their helpers: aot_test_support.h).

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
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
using testing::failing_compiler;

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

// Invalid bytes never reach wabt's IR reader: this module (found by fuzz_aot_translate; a v128
// global whose initialiser holds a `try`, then garbage) made wabt 1.0.32's ReadBinaryIr fail
// an assertion (`!empty()` in its expression list) and abort the host. translate() validates
// first (fast::validate_module) and refuses it as malformed.
TEST(AotTranslate, InvalidBytesAreRefusedBeforeWabtsIrReader) {
  const std::vector<uint8_t> b = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x02, 0x60, 0x01, 0x7f, 0x01,
      0x7f, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x01, 0x04, 0x04, 0x01, 0x70, 0x00, 0x01,
      0x06, 0x06, 0x01, 0x7b, 0x01, 0x06, 0xd0, 0x00, 0x00, 0x10, 0x02, 0x03, 0x6f, 0x75, 0x74,
      0x03, 0x00, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x01, 0x09, 0x07, 0x01, 0x00,
      0x41, 0x00, 0x0b, 0x01, 0x00, 0x0a, 0x2c, 0x02, 0x20, 0x00, 0x20, 0x00, 0x45, 0x04, 0x0d,
      0x0d, 0x0d, 0x32, 0x0d, 0x0d, 0x0d, 0x0d, 0x0d, 0x0d, 0x0d, 0x0d, 0x0d, 0x20, 0x61, 0x73,
      0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60,
      0x02, 0x20, 0x00, 0x20, 0x00, 0x45, 0x0a, 0x23, 0x69, 0x6e, 0x63, 0x6c, 0x75, 0x64, 0x65,
      0x04, 0x10, 0x00, 0x57, 0x24, 0x00, 0x0b};
  auto t = aot::translate(b.data(), b.size());
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ErrorCode::kModuleMalformed) << t.error().to_string();
}

// --- deadline checks where the translator polls (docs/aot.md, "Where function entries are
// checked") ------------------------------------------------------------------------------------

// Where the translator polls (hosts without asynchronous preemption), the checks land where the
// rule says (no compiler needed): one read of the flag per checked entry, none for a plain leaf.
size_t flag_reads(const std::string& guest) {
  auto bytes = guest_bytes(guest);
  auto t = aot::translate(bytes.data(), bytes.size(), true, aot::kDefaultUnitFunctions,
                          /*poll=*/true);
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().to_string());
  if (!t) return 0;
  size_t n = 0;
  for (size_t p = 0; (p = t->module_c.find("= (*(volatile u32*)&instance->", p)) != std::string::npos; ++p) ++n;
  return n;
}

TEST(AotTranslate, EntryChecksOnlyWhereNeeded) {
  EXPECT_EQ(flag_reads("deadline_mutual"), 3u);    // $a, $b (a cycle) and the export _start
  EXPECT_EQ(flag_reads("deadline_indirect"), 2u);  // $g (in the table) and _start
  size_t dag = flag_reads("deadline_dag");         // _start and every ~10th level of 70
  EXPECT_GE(dag, 5u);
  EXPECT_LE(dag, 12u);
}

// --- asynchronous preemption (docs/aot.md, "Deadlines"): the checks it makes unnecessary ------

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

// With preemption, guest code never reads the interrupt flag: no check at loop headers or
// entries (what made call-heavy code like fib 2.1x slower).
TEST(AotTranslate, NoFlagReadsWhereTheRuntimePreempts) {
  if (!aot::kAsyncPreemption) GTEST_SKIP() << "this host polls";
  for (const char* guest : {"spin", "deadline_mutual", "deadline_indirect", "deadline_dag"}) {
    SCOPED_TRACE(guest);
    auto bytes = guest_bytes(guest);
    auto t = aot::translate(bytes.data(), bytes.size(), true);
    ASSERT_TRUE(t.has_value()) << t.error().to_string();
    EXPECT_EQ(count_of(t->module_c, "= (*(volatile u32*)&instance->"), 0u);  // reads
    EXPECT_EQ(count_of(t->module_c, "UNREACHABLE;"), 0u) << "an unreachable the guest did not write";
  }
}

// Loads and stores use the function's copy of the memory descriptor (read once at entry), never
// the instance's (which GCC reloads after every store, since a store may alias it).
TEST(AotTranslate, LoadsAndStoresReadTheMemoryBaseOnce) {
  for (uint32_t units : {aot::kDefaultUnitFunctions, 1u}) {
    SCOPED_TRACE(units);
    auto bytes = guest_bytes("traps");
    auto t = aot::translate(bytes.data(), bytes.size(), true, units);
    ASSERT_TRUE(t.has_value()) << t.error().to_string();
    std::string all = t->module_c + t->common_h;
    for (const auto& u : t->units) all += u.c;
    EXPECT_GT(count_of(all, "_load(&wasmcap_m, "), 0u);
    EXPECT_GT(count_of(all, "_store(&wasmcap_m, "), 0u);
    EXPECT_EQ(count_of(all, "_load(&instance->"), 0u);
    EXPECT_EQ(count_of(all, "_store(&instance->"), 0u);
    EXPECT_EQ(count_of(t->module_c, "#define FUNC_PROLOGUE wasm_rt_memory_t wasmcap_m"), 1u);
  }
}

// memory.fill/copy/init of 64 KiB or more check the flag when libc returns (a preemption
// signal almost never finds such a guest in its own code).
TEST(AotTranslate, BulkMemoryChecksTheFlagWhenLibcReturns) {
  auto bytes = guest_bytes("deadline_fill");
  auto t = aot::translate(bytes.data(), bytes.size(), true);
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_EQ(count_of(t->module_c, "WASMCAP_AFTER_BULK(n);"), 3u);
}

// table.copy is a memmove, and table.fill / an externref table.init may become memset: each
// checks the flag when libc returns (deadline_table_copy in
// AotDeadline.EveryUnboundedShapeStopsAtTheDeadline, aot_threads_test.cc, stops only so).
TEST(AotTranslate, BulkTableOpsCheckTheFlagWhenLibcReturns) {
  auto bytes = guest_bytes("deadline_table_copy");
  auto t = aot::translate(bytes.data(), bytes.size(), true);
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_EQ(count_of(t->module_c, "WASMCAP_AFTER_BULK((u64)n * sizeof(wasm_rt_##type##_t));"), 2u);
  EXPECT_EQ(count_of(t->module_c, "WASMCAP_AFTER_BULK((u64)n * sizeof(wasm_rt_externref_t));"), 1u);
}

// --- Reassociation width (docs/aot.md, "Compile") -------------------------------------------

// Every compile job gets the tuned flags (kReassocFlag, kVectorFlags, kLoopAlignFlag): the
// one-file compile and every job of a split compile. A stand-in compiler that records each
// command line and fails.
TEST(AotCompileFlags, EveryCompileJobGetsTheTunedFlags) {
  for (uint32_t units : {0u, 1u}) {
    SCOPED_TRACE(units);
    TempDir cache;
    TempDir bin;
    fs::path log = bin.path() / "argv.log";
    fs::path cc = failing_compiler(bin.path(), "recordcc", "echo \"$*\" >> '" + log.string() + "'\n");
    AotOptions o;
    o.cache_dir = cache.path().string();
    o.compiler = cc.string();
    o.unit_functions = units;
    o.compile_jobs = 1;
    auto engine = make_aot_engine(o);
    auto bytes = guest_bytes("reassoc");
    auto m = engine->load(bytes.data(), bytes.size());
    ASSERT_FALSE(m.has_value());
    std::string lines = testing::read_text(log);
    ASSERT_FALSE(lines.empty());
    size_t n = 0;
    for (size_t p = 0, e; p < lines.size(); p = e + 1) {
      e = lines.find('\n', p);
      if (e == std::string::npos) e = lines.size();
      const std::string line = " " + lines.substr(p, e - p) + " ";
      std::vector<std::string> want = {aot::kReassocFlag, aot::kLoopAlignFlag};
      want.insert(want.end(), std::begin(aot::kVectorFlags), std::end(aot::kVectorFlags));
      for (const std::string& flag : want)
        EXPECT_NE(line.find(" " + flag + " "), std::string::npos) << flag << " missing: " << line;
      ++n;
    }
    EXPECT_GE(n, 1u);
  }
}

// What the flag lets GCC reorder stays exact, at -O2 with the real compiler: integer sums of
// loads and loop-carried values wrap at 2^32 and 2^64 (rotate counts >= the width included),
// floating-point sums keep wasm's order (each add rounds, overflow to inf stays). The integer
// references are computed here, independently of both engines.
uint32_t rotl32(uint32_t x, uint32_t n) {
  n &= 31;
  return n ? (x << n) | (x >> (32 - n)) : x;
}

uint64_t rotl64(uint64_t x, uint64_t n) {
  n &= 63;
  return n ? (x << n) | (x >> (64 - n)) : x;
}

struct ReassocMemory {
  uint32_t k[64], w[64];
  ReassocMemory() {
    for (uint32_t i = 0; i < 64; ++i) {
      k[i] = 0xfffffff0u - i * 0x01010101u;
      w[i] = 0x9e3779b9u ^ (i * 0x7fffffffu);
    }
  }
  uint32_t rounds(uint32_t e, uint32_t h) const {
    uint32_t f = 0xfedcba98u, g = 0x01234567u;
    for (int i = 0; i < 64; ++i) {
      uint32_t s1 = rotl32(e, 26) ^ rotl32(e, 53) ^ rotl32(e, 32 - (57 & 31));
      uint32_t t = h + s1 + ((e & f) ^ (~e & g)) + k[i] + w[i];
      h = g;
      g = f;
      f = e;
      e = t + h;
    }
    return e ^ f;
  }
  uint64_t rounds64(uint64_t e) const {
    uint64_t h = ~0ull;
    for (int i = 0; i < 32; ++i) {
      uint64_t lo0 = k[2 * i], hi0 = k[2 * i + 1], lo1 = w[2 * i], hi1 = w[2 * i + 1];
      e = h + rotl64(e, 83) + (lo0 | hi0 << 32) + (lo1 | hi1 << 32);
      h ^= e;
    }
    return e + h;
  }
};

TEST(AotReassoc, SumsStayExactAtO2) {
  TempDir cache;
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.opt_level = 2;
  auto engine = make_aot_engine(o);
  auto inst = instantiate(*engine, "reassoc", HostFuncTable{});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  const ReassocMemory mem;
  for (uint32_t e : {0u, 1u, 0x80000000u, 0xffffffffu, 0x6a09e667u}) {
    for (uint32_t h : {0u, 0xffffffffu, 0x5be0cd19u}) {
      auto r = (*inst)->call("rounds", {Value::I32(e), Value::I32(h)});
      ASSERT_TRUE(r.has_value()) << r.error().to_string();
      EXPECT_EQ(r->results[0].i32, mem.rounds(e, h)) << e << " " << h;
    }
  }
  for (uint64_t e : {0ull, ~0ull, 0x8000000000000000ull, 0x0123456789abcdefull}) {
    auto r = (*inst)->call("rounds64", {Value::I64(e)});
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(r->results[0].i64, mem.rounds64(e)) << e;
  }
  const double tiny = std::ldexp(1.0, -53);
  auto f = (*inst)->call("fsum", {Value::F64(1.0), Value::F64(tiny), Value::F64(tiny)});
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  EXPECT_EQ(f->results[0].f64, 1.0);  // reassociated: 1 + 2^-52
  f = (*inst)->call("fsum", {Value::F64(1e308), Value::F64(1e308), Value::F64(-1e308)});
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  EXPECT_TRUE(std::isinf(f->results[0].f64)) << f->results[0].f64;  // reassociated: 1e308
}

}  // namespace
}  // namespace wasmcap
