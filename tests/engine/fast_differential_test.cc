// Differential test: the fast interpreter against wabt's (the reference), on guest modules and
// on seeded random mutations of them that still validate. Both engines must agree on whether a
// module loads and instantiates (and with which error code), and then, call by call, on the
// results (bit for bit; any NaN matches any NaN), the trap or error code, and the contents of
// linear memory afterwards. Imports are stubbed deterministically (results zero), so WASI
// programs run their pure code paths.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "wasmcap/engine.h"

namespace wasmcap {
namespace {

std::vector<uint8_t> guest(const std::string& name) {
  std::ifstream in(std::string(WASMCAP_GUEST_DIR) + "/" + name + ".wasm", std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

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
  auto ref = make_interp_engine();
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
    for (ValType t : e.sig.params) plain &= t != ValType::kV128 && t != ValType::kFuncRef &&
                                            t != ValType::kExternRef;
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

const char* const kGuests[] = {"traps", "values", "probe", "boundary", "recurse", "exits",
                               "host_calls", "hello", "args_env", "info", "reactor"};

TEST(FastDifferential, GuestsAgreeWithWabt) {
  std::mt19937 rng(7);
  Stats st;
  for (const char* name : kGuests) {
    auto bytes = guest(name);
    ASSERT_FALSE(bytes.empty()) << name;
    compare_module(bytes, rng, st, name);
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(st.instantiated, 8);
  EXPECT_GE(st.compared, 20);
}

TEST(FastDifferential, MutantsAgreeWithWabt) {
  std::mt19937 rng(20261123);
  Stats st;
  for (const char* name : {"traps", "values", "probe", "recurse"}) {
    auto orig = guest(name);
    ASSERT_FALSE(orig.empty());
    for (int i = 0; i < 150; ++i) {
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
  }
  // The mutations must exercise execution, not only the validator.
  EXPECT_GE(st.instantiated, 20) << "too few mutants ran";
}

}  // namespace
}  // namespace wasmcap
