// Differential test: the fast interpreter (interp) against wabt's, the tests' reference oracle
// (tests/support/wabt_engine), on guest modules and on seeded random mutations of them that still
// validate (scalar seeds and a SIMD one). Both engines must agree on whether a module loads and
// instantiates (and with which error code), and then, call by call, on the results (bit for bit;
// any NaN matches any NaN, per lane for v128), the trap or error code, and the contents of linear
// memory afterwards. Imports are stubbed deterministically (results zero), so WASI programs run
// their pure code paths. Plus a real SIMD C program through the whole runtime on both engines.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"
#include "wabt_engine.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

using testing::guest_bytes;

HostFuncTable stubs_for(const ModuleInfo& info) {
  HostFuncTable t;
  for (const ImportDesc& i : info.imports) {
    if (i.kind != ExternKind::kFunc) continue;
    FuncSig sig = i.sig;
    t.add(HostFunc{i.module, i.name, sig, [sig](HostContext&, const Value*, Value* results) {
                     for (size_t r = 0; r < sig.results.size(); ++r) {
                       Value v;
                       v.type = sig.results[r];
                       v.i64 = 0;
                       results[r] = v;
                     }
                     return HostCallResult::ok();
                   }});
  }
  return t;
}

Value arg_of(ValType t, std::mt19937& rng) {
  static const uint64_t kEdges[] = {0, 1, 2, 7, 0xffffffffull, 0x80000000ull, 0x7fffffffull,
                                    0xffffffffffffffffull, 0x8000000000000000ull, 100, 1000};
  uint64_t bits = rng() % 2 ? kEdges[rng() % std::size(kEdges)] : (uint64_t{rng()} << 32 | rng());
  switch (t) {
    case ValType::kI32: return Value::I32(static_cast<uint32_t>(bits));
    case ValType::kI64: return Value::I64(bits);
    case ValType::kF32: return Value::F32(static_cast<float>(static_cast<int32_t>(bits % 2001) - 1000) / 8);
    case ValType::kF64: return Value::F64(static_cast<double>(static_cast<int64_t>(bits % 2001) - 1000) / 8);
    case ValType::kV128: {
      // Lanes of edge values (0, -1, sign bits, NaN/inf patterns, small floats) and random bytes.
      static const uint32_t kLanes[] = {0,          1,          0xffffffffu, 0x80000000u,
                                        0x7fffffffu, 0x7fc00000u, 0xff800000u, 0x3f800000u,
                                        0xc1200000u, 0x00000080u, 0x00008000u, 0x4f000000u};
      uint8_t b[16];
      for (int lane = 0; lane < 4; ++lane) {
        uint32_t v = rng() % 2 ? kLanes[rng() % std::size(kLanes)] : static_cast<uint32_t>(rng());
        std::memcpy(b + 4 * lane, &v, 4);
      }
      return Value::V128(b);
    }
    default: return Value::I32(0);
  }
}

bool same_value(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case ValType::kI32: return a.i32 == b.i32;
    case ValType::kI64: return a.i64 == b.i64;
    case ValType::kF32:
      return (std::isnan(a.f32) && std::isnan(b.f32)) ||
             std::bit_cast<uint32_t>(a.f32) == std::bit_cast<uint32_t>(b.f32);
    case ValType::kF64:
      return (std::isnan(a.f64) && std::isnan(b.f64)) ||
             std::bit_cast<uint64_t>(a.f64) == std::bit_cast<uint64_t>(b.f64);
    case ValType::kV128:
      // Bit for bit, except that a NaN lane matches any NaN lane (as f32 or as f64 lanes:
      // the lane type is not known here).
      for (int lane = 0; lane < 4; ++lane) {
        uint32_t x, y;
        std::memcpy(&x, a.v128 + 4 * lane, 4);
        std::memcpy(&y, b.v128 + 4 * lane, 4);
        bool both_nan = std::isnan(std::bit_cast<float>(x)) && std::isnan(std::bit_cast<float>(y));
        if (x == y || both_nan) continue;
        uint64_t xx, yy;
        std::memcpy(&xx, a.v128 + 8 * (lane / 2), 8);
        std::memcpy(&yy, b.v128 + 8 * (lane / 2), 8);
        if (std::isnan(std::bit_cast<double>(xx)) && std::isnan(std::bit_cast<double>(yy))) {
          continue;
        }
        return false;
      }
      return true;
    default: return true;
  }
}

std::string memory_digest(Instance& inst) {
  GuestMemory m = inst.memory();
  if (!m.valid()) return "none";
  uint64_t h = 1469598103934665603ull;
  const uint8_t* p = m.range(0, m.size());
  for (uint64_t i = 0; i < m.size(); ++i) h = (h ^ p[i]) * 1099511628211ull;
  return std::to_string(m.size()) + ":" + std::to_string(h);
}

struct Stats {
  int modules = 0, instantiated = 0, calls = 0, compared = 0;
};

// Runs one module on both engines and compares everything; returns false on a mismatch.
void compare_module(const std::vector<uint8_t>& bytes, std::mt19937& rng, Stats& st,
                    const std::string& what) {
  auto ref = testing::make_wabt_reference_engine();
  auto fast = make_fast_engine();
  auto rm = ref->load(bytes.data(), bytes.size());
  auto fm = fast->load(bytes.data(), bytes.size());
  if (!rm) {
    // wabt refuses exception handling, which fast runs (docs/fast-interp.md): nothing to compare.
    if (rm.error().code == ErrorCode::kModuleUnsupported) return;
    ASSERT_FALSE(fm.has_value()) << what << ": wabt rejects (" << rm.error().to_string()
                                 << ") but fast loads";
    return;
  }
  if (!fm) {
    ASSERT_EQ(fm.error().code, ErrorCode::kModuleUnsupported)
        << what << ": wabt loads, fast says " << fm.error().to_string();
    return;
  }
  ++st.modules;
  HostFuncTable host = stubs_for((*rm)->info());
  ExecLimits rl, fl;
  rl.fuel = 200000;       // wabt's instructions
  fl.fuel = 20000000;     // wasm instructions: ample, so fast never stops where wabt did not
  rl.max_memory_pages = fl.max_memory_pages = 64;
  auto ri = ref->instantiate(*rm, host, rl);
  auto fi = fast->instantiate(*fm, host, fl);
  if (!ri) {
    if (ri.error().code == ErrorCode::kFuelExhausted) return;
    ASSERT_FALSE(fi.has_value()) << what << ": wabt fails to instantiate ("
                                 << ri.error().to_string() << "), fast instantiates";
    EXPECT_EQ(fi.error().code, ri.error().code) << what << ": " << ri.error().to_string()
                                                << " vs " << fi.error().to_string();
    return;
  }
  ASSERT_TRUE(fi.has_value()) << what << ": fast fails to instantiate: "
                              << fi.error().to_string();
  ++st.instantiated;
  ASSERT_EQ(memory_digest(**ri), memory_digest(**fi)) << what << ": memory after start";
  for (const ExportDesc& e : (*rm)->info().exports) {
    if (e.kind != ExternKind::kFunc) continue;
    bool plain = true;
    for (ValType t : e.sig.params) plain &= t != ValType::kFuncRef && t != ValType::kExternRef;
    if (!plain) continue;
    for (int rep = 0; rep < 3; ++rep) {
      std::vector<Value> args;
      for (ValType t : e.sig.params) args.push_back(arg_of(t, rng));
      auto rr = (*ri)->call(e.name, args);
      auto fr = (*fi)->call(e.name, args);
      ++st.calls;
      if (!rr && (rr.error().code == ErrorCode::kFuelExhausted ||
                  rr.error().code == ErrorCode::kTrapStackExhausted)) {
        return;  // the engines' budgets differ in units: stop comparing this instance
      }
      ++st.compared;
      std::string call = what + " " + e.name + " rep " + std::to_string(rep);
      ASSERT_EQ(rr.has_value(), fr.has_value())
          << call << ": wabt " << (rr ? "returns" : rr.error().to_string()) << ", fast "
          << (fr ? "returns" : fr.error().to_string());
      if (!rr) {
        EXPECT_EQ(rr.error().code, fr.error().code)
            << call << ": " << rr.error().to_string() << " vs " << fr.error().to_string();
      } else {
        ASSERT_EQ(rr->exited, fr->exited) << call;
        EXPECT_EQ(rr->exit_code, fr->exit_code) << call;
        ASSERT_EQ(rr->results.size(), fr->results.size()) << call;
        for (size_t i = 0; i < rr->results.size(); ++i) {
          EXPECT_TRUE(same_value(rr->results[i], fr->results[i])) << call << ": result " << i;
        }
        if (rr->exited) return;
      }
      ASSERT_EQ(memory_digest(**ri), memory_digest(**fi)) << call << ": memory differs";
    }
  }
}

const char* const kGuests[] = {"traps",      "values", "probe",    "boundary", "recurse",
                               "exits",      "host_calls", "hello", "args_env", "info",
                               "reactor",    "boundary_simd", "simd_ops", "simd_kernels"};

TEST(FastDifferential, GuestsAgreeWithWabt) {
  std::mt19937 rng(7);
  Stats st;
  for (const char* name : kGuests) {
    auto bytes = guest_bytes(name);
    ASSERT_FALSE(bytes.empty()) << name;
    compare_module(bytes, rng, st, name);
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(st.instantiated, 11);
  EXPECT_GE(st.compared, 40);
}

// A real SIMD program (clang -msimd128, wasi-libc): intrinsics and auto-vectorized loops, each
// checked by the guest against a scalar twin. Through the whole runtime (WASI), on both engines:
// the guest's own check passes on each, and the two outputs are identical byte for byte.
TEST(FastDifferential, SimdCGuestMatchesScalarAndWabt) {
  auto bytes = guest_bytes("simd_kernels");
  ASSERT_FALSE(bytes.empty());
  // auto: the AOT tier refuses SIMD, so auto must fall back to an interpreter that runs it.
  std::string out[3];
  uint64_t fuel[3] = {0, 0, 0};
  // wabt: the oracle, through the same run_module on an engine given (not a product engine).
  const char* engines[3] = {"wabt", "interp", "auto"};
  for (int i = 0; i < 3; ++i) {
    RunOptions o;
    o.engine = engines[i];
    o.wasi.args = {"simd_kernels"};
    std::string* sink = &out[i];
    o.wasi.stdout_sink = [sink](const uint8_t* d, size_t n) {
      sink->append(reinterpret_cast<const char*>(d), n);
      return true;
    };
    auto r = i == 0 ? run_module(*testing::make_wabt_reference_engine(), bytes, std::move(o))
                    : run_module(bytes, std::move(o));
    ASSERT_TRUE(r.has_value()) << engines[i] << ": " << r.error().to_string();
    EXPECT_EQ(r->exit_code, 0) << engines[i] << ":\n" << out[i];
    fuel[i] = r->fuel_consumed;
  }
  EXPECT_NE(out[1].find("all ok"), std::string::npos) << out[1];
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(out[0], out[2]);
  EXPECT_GT(fuel[1], 0u);
  // The program really is SIMD: the AOT translator (which cannot run v128) refuses it.
  if (aot_available()) {
    auto m = make_aot_engine()->load(bytes.data(), bytes.size());
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code, ErrorCode::kModuleUnsupported) << m.error().to_string();
  }
}

// Fewer mutants under AddressSanitizer (Debug, ~10x slower), so the ASan pass stays within the
// test timeout on a loaded 2-core machine; the Release pass runs them all.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kMutantDivisor = 2;
#else
constexpr int kMutantDivisor = 1;
#endif

TEST(FastDifferential, MutantsAgreeWithWabt) {
  std::mt19937 rng(20261123);
  Stats st;
  int compared_before = 0, simd_compared = 0;
  for (const char* name : {"traps", "values", "probe", "recurse", "simd_ops"}) {
    auto orig = guest_bytes(name);
    ASSERT_FALSE(orig.empty());
    int mutants = (std::string(name) == "simd_ops" ? 100 : 150) / kMutantDivisor;
    for (int i = 0; i < mutants; ++i) {
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
      compare_module(b, rng, st, std::string(name) + " mutant " + std::to_string(i));
      if (HasFatalFailure()) return;
    }
    if (std::string(name) == "simd_ops") simd_compared = st.compared - compared_before;
    compared_before = st.compared;
  }
  // The mutations must exercise execution, not only the validator (the SIMD seed included).
  EXPECT_GE(st.instantiated, 20 / kMutantDivisor) << "too few mutants ran";
  EXPECT_GE(simd_compared, 100 / kMutantDivisor) << "too few SIMD mutant calls were compared";
}

}  // namespace
}  // namespace wasmcap
