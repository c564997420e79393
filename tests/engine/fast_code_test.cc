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

#include "engine/fast/translate.h"
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

// Pairs (fast.h, WASMCAP_FAST_PAIRS): a pair's handler does its first instruction's work and
// jumps into the second's. Written like the code pairs come from (a byte-class scan as mawk
// splits fields, cell copies, size rounding, a stack-pointer prologue): with and without pairs,
// every call must give the same result, trap included, and consume the same fuel, and a fuel
// limit must stop both at the same block, whatever the limit.
const char* const kPairs = R"((module
  (memory 1)
  (global $sp (mut i32) (i32.const 4096))
  (data (i32.const 0) "  ab c\tdef   ghi\n")
  (data (i32.const 265) "\01\01")  ;; class table at 256: tab, newline
  (data (i32.const 288) "\01")     ;; space
  (data (i32.const 512) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
  (func (export "scan") (param $s i32) (param $end i32) (result i32) (local $cnt i32) (local $q i32)
    (block $done
      (loop $fields
        (block $x (loop $sp
          (br_if $x (i32.ne (i32.load8_u offset=256 (i32.load8_u (local.get $s))) (i32.const 1)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br $sp)))
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        (local.set $q (local.get $s))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (block $y (loop $f
          (br_if $y (i32.ge_u (local.get $s) (local.get $end)))
          (br_if $y (i32.eq (i32.load8_u offset=256 (i32.load8_u (local.get $s))) (i32.const 1)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br $f)))
        (local.set $cnt (i32.add (i32.mul (local.get $cnt) (i32.const 16))
                                 (i32.sub (local.get $s) (local.get $q))))
        (br $fields)))
    (local.get $cnt))
  (func (export "copy_cells") (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (loop $l
      (i32.store (local.get $dst) (i32.load (local.get $src)))
      (i32.store offset=4 (local.get $dst) (i32.load offset=4 (local.get $src)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
      (local.set $src (i32.add (local.get $src) (i32.const 8)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.load (i32.sub (local.get $dst) (i32.const 4))))
  (func $round (param i32) (result i32)
    (global.set $sp (i32.sub (global.get $sp) (i32.const 16)))
    (i32.store (global.get $sp) (local.get 0))
    (local.set 0 (i32.and (i32.add (i32.load (global.get $sp)) (i32.const 7)) (i32.const -8)))
    (global.set $sp (i32.add (global.get $sp) (i32.const 16)))
    (local.get 0))
  (func (export "round_sum") (param $n i32) (result i32) (local $s i32)
    (block $b (loop $l
      (br_if $b (i32.eqz (local.get $n)))
      (local.set $s (i32.add (local.get $s) (call $round (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (i32.add (local.get $s) (global.get $sp)))
))";

TEST(FastCode, PairsChangeNothingButDispatches) {
  const std::vector<Case> cases = {
      {"scan", {Value::I32(0), Value::I32(17)}, "i32:" + std::to_string(((2 * 16 + 1) * 16 + 3) * 16 + 3)},
      {"scan", {Value::I32(3), Value::I32(9)}, "i32:" + std::to_string((1 * 16 + 1) * 16 + 2)},
      {"scan", {Value::I32(65530), Value::I32(70000)}, "trap_memory_out_of_bounds"},
      {"copy_cells", {Value::I32(1024), Value::I32(512), Value::I32(2)}, "i32:4"},
      {"copy_cells", {Value::I32(65528), Value::I32(512), Value::I32(2)}, "trap_memory_out_of_bounds"},
      {"round_sum", {Value::I32(9)}, "i32:" + std::to_string(16 + 8 * 8 + 4096)},
  };
  auto used = [] {
    uint64_t n = 0;
    for (uint64_t u : fast::translate_test_hooks::pair_uses()) n += u;
    return n;
  };
  for (const Case& c : cases) {
    std::string results[2];
    uint64_t fuel[2] = {0, 0};
    for (int with = 1; with >= 0; --with) {
      fast::translate_test_hooks::set_pairs_enabled(with == 1);
      uint64_t before = used();
      Inst r = instantiate(make_fast_engine(), kPairs);
      ASSERT_TRUE(r.instance);
      results[with] = outcome(r.instance->call(c.func, c.args));
      fuel[with] = r.instance->fuel_consumed();
      if (with == 1) {
        EXPECT_GT(used(), before) << c.func << ": no pair was used";
      } else {
        EXPECT_EQ(used(), before) << c.func;
      }
    }
    fast::translate_test_hooks::set_pairs_enabled(true);
    EXPECT_EQ(results[1], c.expect) << c.func;
    EXPECT_EQ(results[0], c.expect) << c.func << " without pairs";
    EXPECT_EQ(fuel[1], fuel[0]) << c.func;
    // Every fuel limit up to the whole run stops both at the same point.
    for (uint64_t limit = 1; limit <= fuel[0] + 1; ++limit) {
      std::string out[2];
      uint64_t consumed[2] = {0, 0};
      for (int with = 1; with >= 0; --with) {
        fast::translate_test_hooks::set_pairs_enabled(with == 1);
        ExecLimits limits;
        limits.fuel = limit;
        Inst r = instantiate(make_fast_engine(), kPairs, limits);
        ASSERT_TRUE(r.instance);
        out[with] = outcome(r.instance->call(c.func, c.args));
        consumed[with] = r.instance->fuel_consumed();
      }
      fast::translate_test_hooks::set_pairs_enabled(true);
      ASSERT_EQ(out[1], out[0]) << c.func << " fuel " << limit;
      ASSERT_EQ(consumed[1], consumed[0]) << c.func << " fuel " << limit;
    }
  }
  // The reference interpreter agrees.
  Inst w = instantiate(testing::make_wabt_reference_engine(), kPairs);
  ASSERT_TRUE(w.instance);
  for (const Case& c : cases) EXPECT_EQ(outcome(w.instance->call(c.func, c.args)), c.expect) << c.func;
}

}  // namespace
}  // namespace wasmcap
