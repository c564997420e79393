// The fast interpreter's superinstructions and fused fuel charges (docs/fast-interp.md, "The
// code" and "Fuel"): each fused form must compute exactly what the instructions it replaces
// compute, wraparound and traps included, and a taken branch, br_table or call must charge its
// target's block exactly as the target's own `fuel` instruction did, at the same point.
//
// The semantic cases run on the fast engine and on wabt's interpreter (the tests' reference oracle,
// tests/support/wabt_engine): both must give the hand-derived result. C++17: the .wat text is
// compiled with wabt's library.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "wabt_engine.h"
#include "wasmcap/engine.h"
#include "wat_to_wasm.h"

namespace wasmcap {
namespace {

using Bytes = std::vector<uint8_t>;
using wat::wat_to_wasm;

struct Inst {
  std::unique_ptr<Engine> engine;
  std::shared_ptr<const Module> module;
  std::unique_ptr<Instance> instance;
};

Inst instantiate(std::unique_ptr<Engine> engine, const std::string& wat, ExecLimits limits = {}) {
  Inst r;
  r.engine = std::move(engine);
  Bytes bytes = wat_to_wasm(wat);
  auto m = r.engine->load(bytes.data(), bytes.size());
  EXPECT_TRUE(m.has_value()) << m.error().to_string();
  if (!m) return r;
  r.module = *m;
  auto inst = r.engine->instantiate(r.module, HostFuncTable{}, limits);
  EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
  if (inst) r.instance = std::move(*inst);
  return r;
}

std::string outcome(const Result<CallOutcome>& r) {
  if (!r) return std::string(error_code_name(r.error().code));
  std::string s;
  for (const Value& v : r->results) {
    if (!s.empty()) s += " ";
    switch (v.type) {
      case ValType::kI32: s += "i32:" + std::to_string(static_cast<int32_t>(v.i32)); break;
      case ValType::kI64: s += "i64:" + std::to_string(static_cast<int64_t>(v.i64)); break;
      case ValType::kF64: s += "f64:" + std::to_string(v.f64); break;
      default: s += "?"; break;
    }
  }
  return s;
}

// Each function is written so that the translator uses the fused form named beside it.
const char* const kSemantics = R"((module
  (memory 1)
  (data (i32.const 8) "\01\02\03\04\05\06\07\08")
  ;; i32_load_ak: the address is (i32)(p + 16), which wraps; the offset is then added without
  ;; wrapping (wasm's effective address is 33 bits).
  (func (export "load_wrap") (param i32) (result i32)
    (i32.load (i32.add (local.get 0) (i32.const 16))))
  (func (export "load_wrap_off") (param i32) (result i32)
    (i32.load offset=4 (i32.add (local.get 0) (i32.const 16))))
  ;; i32_store_ak
  (func (export "store_wrap") (param i32 i32) (result i32)
    (i32.store (i32.add (local.get 0) (i32.const 32)) (local.get 1))
    (i32.load (i32.const 24)))
  ;; i32_add_k_p2: the second add reads the first's result
  (func (export "add_pair") (param i32) (result i32) (local i32)
    (local.set 0 (i32.add (local.get 0) (i32.const 1)))
    (local.set 1 (i32.add (local.get 0) (i32.const 2)))
    (i32.add (i32.mul (local.get 0) (i32.const 100)) (local.get 1)))
  ;; a pair whose second add is the address of a load: split again (i32_add_k_p, i32_load8_u_ak)
  (func (export "add_pair_load") (param i32) (result i32) (local i32)
    (local.set 1 (i32.add (local.get 1) (i32.const 7)))
    (i32.load8_u (i32.add (local.get 0) (i32.const 1)))
    (i32.add (local.get 1)))
  ;; _c: constant addresses; the last one's constant + offset is 2^32 (not folded: a trap)
  (func (export "load_const") (result i32)
    (i32.add (i32.load offset=4 (i32.const 8)) (i32.load8_u offset=65530 (i32.const 5))))
  (func (export "load_const_oob") (result i32) (i32.load offset=65533 (i32.const 0)))
  (func (export "load_const_wrap") (result i32) (i32.load offset=4294967295 (i32.const 1)))
  (func (export "store_const") (result i64)
    (i64.store offset=16 (i32.const 0) (i64.const 0x1122334455667788))
    (i64.load (i32.const 16)))
  (func (export "store_const_oob") (i32.store8 offset=65536 (i32.const 0) (i32.const 1)))
  ;; f64 immediate forms
  (func (export "f64k") (param f64) (result f64)
    (f64.sub (f64.div (f64.mul (f64.add (local.get 0) (f64.const 1)) (f64.const 0.5))
                      (f64.const 4))
             (f64.const 1.5)))
  ;; i32_rotl_k / i32_rotr_k
  (func (export "rot") (param i32) (result i32)
    (i32.xor (i32.rotl (local.get 0) (i32.const 8)) (i32.rotr (local.get 0) (i32.const 4))))
  ;; copy2_p: a swap through a temporary local, in order
  (func (export "swap") (param i32 i32) (result i32) (local i32)
    (local.set 2 (local.get 0))
    (local.set 0 (local.get 1))
    (local.set 1 (local.get 2))
    (i32.add (i32.mul (local.get 0) (i32.const 10)) (local.get 1)))
  ;; ret_copy
  (func (export "ret_local") (param i32) (result i32) (local i32)
    (local.set 1 (i32.mul (local.get 0) (i32.const 3)))
    (local.get 1))
))";

struct Case {
  const char* func;
  std::vector<Value> args;
  std::string expect;
};

TEST(FastCode, SuperinstructionsComputeWhatTheirPartsCompute) {
  const std::vector<Case> cases = {
      {"load_wrap", {Value::I32(static_cast<uint32_t>(-8))}, "i32:67305985"},  // bytes 1..4 at 8
      {"load_wrap", {Value::I32(65520)}, "trap_memory_out_of_bounds"},
      {"load_wrap_off", {Value::I32(static_cast<uint32_t>(-12))}, "i32:67305985"},
      {"load_wrap_off", {Value::I32(static_cast<uint32_t>(-8))}, "i32:134678021"},
      {"load_wrap_off", {Value::I32(static_cast<uint32_t>(-20))}, "trap_memory_out_of_bounds"},
      {"store_wrap", {Value::I32(static_cast<uint32_t>(-8)), Value::I32(1234)}, "i32:1234"},
      {"store_wrap", {Value::I32(65504), Value::I32(1)}, "trap_memory_out_of_bounds"},
      {"add_pair", {Value::I32(5)}, "i32:608"},
      {"add_pair_load", {Value::I32(8)}, "i32:9"},
      {"load_const", {}, "i32:134678021"},
      {"load_const_oob", {}, "trap_memory_out_of_bounds"},
      {"load_const_wrap", {}, "trap_memory_out_of_bounds"},
      {"store_const", {}, "i64:1234605616436508552"},
      {"store_const_oob", {}, "trap_memory_out_of_bounds"},
      {"f64k", {Value::F64(7)}, "f64:-0.500000"},
      {"rot", {Value::I32(0x12345678)}, "i32:" + std::to_string(static_cast<int32_t>(
                                                        0x34567812u ^ 0x81234567u))},
      {"swap", {Value::I32(1), Value::I32(2)}, "i32:21"},
      {"ret_local", {Value::I32(14)}, "i32:42"},
  };
  for (int e = 0; e < 2; ++e) {
    Inst r = instantiate(e == 0 ? make_fast_engine() : testing::make_wabt_reference_engine(),
                         kSemantics);
    ASSERT_TRUE(r.instance);
    for (const Case& c : cases) {
      EXPECT_EQ(outcome(r.instance->call(c.func, c.args)), c.expect)
          << (e == 0 ? "fast" : "wabt") << " " << c.func;
    }
  }
}

// Fuel units are wasm instructions per block, charged at the block's entry ("end" counts 0).
// $g's entry block: local.get, i32.const, i32.add = 3. "f": its entry block (block, block,
// local.get, br_table = 4), then br_table to $a (i32.const, call, return = 3, then $g's 3) or
// to $b (i32.const = 1). "h" moves a value to its labels, through br_table stubs: its entry
// block (block, block, i32.const, local.get, br_table = 5), then $a's (i32.const, i32.add = 2)
// or $b's (the function's end: 0).
const char* const kFuel = R"((module
  (func $g (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "f") (param i32) (result i32)
    (block $b (block $a (br_table $a $b (local.get 0))) (return (call $g (i32.const 10))))
    (i32.const 7))
  (func (export "h") (param i32) (result i32)
    (block $b (result i32)
      (block $a (result i32)
        (br_table $a $b (i32.const 3) (local.get 0)))
      (i32.const 10)
      (i32.add)))
))";

TEST(FastFuel, BrTableAndCallsChargeTheirTargetBlockBeforeItRuns) {
  struct Expect {
    const char* func;
    uint32_t arg;
    std::string result;
    uint64_t fuel;
  };
  for (const Expect& x : {Expect{"f", 0, "i32:11", 10}, Expect{"f", 1, "i32:7", 5},
                          Expect{"f", 9, "i32:7", 5}, Expect{"h", 0, "i32:13", 7},
                          Expect{"h", 1, "i32:3", 5}}) {
    Inst r = instantiate(make_fast_engine(), kFuel);
    ASSERT_TRUE(r.instance);
    EXPECT_EQ(outcome(r.instance->call(x.func, {Value::I32(x.arg)})), x.result) << x.func;
    EXPECT_EQ(r.instance->fuel_consumed(), x.fuel) << x.func << "(" << x.arg << ")";
  }
  // One unit short of the whole run: the last block (entered by the call, by br_table) is not
  // run, and what was consumed is exactly the blocks before it.
  for (const Expect& x : {Expect{"f", 0, "", 7}, Expect{"h", 0, "", 5}}) {
    ExecLimits limits;
    limits.fuel = x.func == std::string("f") ? 9 : 6;
    Inst r = instantiate(make_fast_engine(), kFuel, limits);
    ASSERT_TRUE(r.instance);
    auto out = r.instance->call(x.func, {Value::I32(x.arg)});
    ASSERT_FALSE(out.has_value()) << x.func;
    EXPECT_EQ(out.error().code, ErrorCode::kFuelExhausted) << out.error().to_string();
    EXPECT_EQ(r.instance->fuel_consumed(), x.fuel) << x.func;
  }
}

}  // namespace
}  // namespace wasmcap
