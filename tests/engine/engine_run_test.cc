// The engine contract (interp_engine_test.cc), continued: trap classification, host-function
// outcomes, features real toolchains use, and the execution limits, on the engine under test
// (testing::make_test_engine: interp, and aot in the aot: variant).
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <thread>

#include "engine_test_support.h"
#include "test_support.h"
#include "wasmcap/engine.h"

namespace wasmcap {
namespace {

using namespace engine_test;

// --- traps ----------------------------------------------------------------------------------

struct TrapCase {
  const char* export_name;
  ErrorCode code;
};

const TrapCase kTrapCases[] = {
    {"unreachable", ErrorCode::kTrapUnreachable},
    {"mem_oob_load", ErrorCode::kTrapMemoryOutOfBounds},
    {"mem_oob_store", ErrorCode::kTrapMemoryOutOfBounds},
    {"mem_oob_fill", ErrorCode::kTrapMemoryOutOfBounds},
    {"mem_oob_copy", ErrorCode::kTrapMemoryOutOfBounds},
    {"div_zero_s", ErrorCode::kTrapIntegerDivideByZero},
    {"div_zero_u64", ErrorCode::kTrapIntegerDivideByZero},
    {"rem_zero", ErrorCode::kTrapIntegerDivideByZero},
    {"int_overflow", ErrorCode::kTrapIntegerOverflow},
    {"int_overflow64", ErrorCode::kTrapIntegerOverflow},
    {"invalid_conversion", ErrorCode::kTrapInvalidConversion},
    {"trunc_out_of_range", ErrorCode::kTrapIntegerOverflow},
    {"call_null", ErrorCode::kTrapIndirectCallNull},
    {"call_mismatch", ErrorCode::kTrapIndirectCallMismatch},
    {"table_oob_call", ErrorCode::kTrapTableOutOfBounds},
    {"table_oob_get", ErrorCode::kTrapTableOutOfBounds},
    {"recurse_forever", ErrorCode::kTrapStackExhausted},
    {"recurse_indirect_forever", ErrorCode::kTrapStackExhausted},
};

TEST(EngineTraps, EachTrapKindIsClassified) {
  auto l = instantiate("traps");
  ASSERT_TRUE(l->instance);
  for (const auto& c : kTrapCases) {
    auto r = l->instance->call(c.export_name, {});
    if (r.has_value()) {
      ADD_FAILURE() << c.export_name << " did not trap";
      continue;
    }
    EXPECT_EQ(r.error().code, c.code)
        << c.export_name << ": got " << r.error().to_string() << ", want "
        << error_code_name(c.code);
    EXPECT_TRUE(is_trap(r.error().code)) << c.export_name;
    EXPECT_FALSE(r.error().message.empty());
    // The instance survives a trap: the next call works.
    auto ok = l->instance->call("ok", {});
    ASSERT_TRUE(ok.has_value()) << "after " << c.export_name << ": " << ok.error().to_string();
    EXPECT_EQ(ok->results[0].i32, 42u);
  }
  auto ind = l->instance->call("call_indirect_ok", {});
  ASSERT_TRUE(ind.has_value()) << ind.error().to_string();
  EXPECT_EQ(ind->results[0].i32, 7u);
}

// The trap kind must not depend on how full memory is: a guest whose memory sits exactly at
// the cap and divides by zero hit a divide-by-zero, not the memory limit.
TEST(EngineTraps, ClassificationIndependentOfMemoryCap) {
  ExecLimits limits;
  limits.max_memory_pages = 1;  // traps.wat declares exactly 1 page
  auto l = instantiate("traps", {}, limits);
  ASSERT_TRUE(l->instance);
  for (const auto& c : kTrapCases) {
    auto r = l->instance->call(c.export_name, {});
    if (r.has_value()) {
      ADD_FAILURE() << c.export_name << " did not trap";
      continue;
    }
    EXPECT_EQ(r.error().code, c.code) << c.export_name << ": " << r.error().to_string();
  }
}

TEST(EngineTraps, DataSegmentOutOfBoundsFailsInstantiation) {
  // (memory 1) (data (i32.const 65535) "ab"): the segment does not fit.
  auto bytes = with_header({0x05, 0x03, 0x01, 0x00, 0x01,                        // memory 1
                            0x0b, 0x0a, 0x01, 0x00, 0x41, 0xff, 0xff, 0x03, 0x0b,  // data @65535
                            0x02, 0x61, 0x62});
  auto engine = testing::make_test_engine();
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  HostFuncTable t;
  auto inst = engine->instantiate(*m, t, {});
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code, ErrorCode::kTrapMemoryOutOfBounds) << inst.error().to_string();
}

// --- host functions -------------------------------------------------------------------------

HostFuncTable host_calls_table(std::vector<std::string>* log) {
  HostFuncTable t;
  t.add(host_func("test", "mix",
                  {{ValType::kI32, ValType::kI64, ValType::kF32, ValType::kF64}, {ValType::kF64}},
                  [log](HostContext&, const Value* a, Value* r) {
                    log->push_back("mix " + std::to_string(a[0].i32) + " " +
                                   std::to_string(a[1].i64) + " " + std::to_string(a[2].f32) +
                                   " " + std::to_string(a[3].f64));
                    r[0] = Value::F64(static_cast<int32_t>(a[0].i32) +
                                      static_cast<double>(a[1].i64) + a[2].f32 + a[3].f64);
                    return HostCallResult::ok();
                  }));
  t.add(host_func("test", "pair", {{}, {ValType::kI32, ValType::kI64}},
                  [](HostContext&, const Value*, Value* r) {
                    r[0] = Value::I32(0xffffffffu);
                    r[1] = Value::I64(0x100000000ull);
                    return HostCallResult::ok();
                  }));
  t.add(host_func("test", "exit", {{ValType::kI32}, {}},
                  [log](HostContext&, const Value* a, Value*) {
                    log->push_back("exit " + std::to_string(a[0].i32));
                    return HostCallResult::exit(static_cast<int32_t>(a[0].i32));
                  }));
  t.add(host_func("test", "fail", {{}, {}}, [](HostContext&, const Value*, Value*) {
    return HostCallResult::trap("host invariant broken");
  }));
  t.add(host_func("test", "peek", {{ValType::kI32}, {ValType::kI32}},
                  [](HostContext& ctx, const Value* a, Value* r) {
                    uint32_t v = 0;
                    // Out-of-range guest pointers are reported, never dereferenced.
                    r[0] = Value::I32(ctx.memory.load<uint32_t>(a[0].i32, &v) ? v : 0xEFAu);
                    return HostCallResult::ok();
                  }));
  return t;
}

TEST(EngineHost, ArgumentsAndResultsCrossTheBoundary) {
  std::vector<std::string> log;
  auto l = instantiate("host_calls", host_calls_table(&log));
  ASSERT_TRUE(l->instance);
  auto r = l->instance->call(
      "call_mix", {Value::I32(static_cast<uint32_t>(-2)), Value::I64(40), Value::F32(0.5f),
                   Value::F64(0.25)});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_DOUBLE_EQ(r->results[0].f64, 38.75);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "mix 4294967294 40 0.500000 0.250000");

  auto p = l->instance->call("call_pair", {});
  ASSERT_TRUE(p.has_value()) << p.error().to_string();
  EXPECT_EQ(p->results[0].i64, 0xffffffffull + 0x100000000ull);

  auto peek = l->instance->call("call_peek", {Value::I32(16)});
  ASSERT_TRUE(peek.has_value());
  EXPECT_EQ(peek->results[0].i32, 42u);  // from the data segment
  auto bad = l->instance->call("call_peek", {Value::I32(0xFFFFFFFEu)});
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->results[0].i32, 0xEFAu);
}

TEST(EngineHost, ExitUnwindsTheGuest) {
  std::vector<std::string> log;
  auto l = instantiate("host_calls", host_calls_table(&log));
  ASSERT_TRUE(l->instance);
  auto r = l->instance->call("call_exit", {Value::I32(17)});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->exited);
  EXPECT_EQ(r->exit_code, 17);
  // The code after the host call did not run.
  auto after = l->instance->call("after_exit", {});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->results[0].i32, 0u);
  EXPECT_FALSE(after->exited);  // exit state does not stick to later calls

  auto neg = l->instance->call("call_exit", {Value::I32(static_cast<uint32_t>(-1))});
  ASSERT_TRUE(neg.has_value());
  EXPECT_TRUE(neg->exited);
  EXPECT_EQ(neg->exit_code, -1);
}

TEST(EngineHost, TrapIsAHostTrapWithTheMessage) {
  std::vector<std::string> log;
  auto l = instantiate("host_calls", host_calls_table(&log));
  ASSERT_TRUE(l->instance);
  auto r = l->instance->call("call_fail", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTrapHost);
  EXPECT_NE(r.error().message.find("host invariant broken"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("test.fail"), std::string::npos) << r.error().message;
  // A later guest trap is not reported as the earlier host trap.
  auto ok = l->instance->call("call_peek", {Value::I32(16)});
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->results[0].i32, 42u);
}

// Host functions with many parameters receive all of them (or are refused at link time):
// the engine must not truncate the argument list to a fixed-size buffer.
TEST(EngineHost, ManyParametersArriveIntact) {
  // (module (import "test" "many" (func (param i32 x 20) (result i64)))
  //         (func (export "go") (result i64) i32.const 1 ... i32.const 20 call 0))
  std::vector<uint8_t> b = with_header({});
  std::vector<uint8_t> type = {0x01, 0x60, 20};
  for (int i = 0; i < 20; ++i) type.push_back(0x7f);
  type.insert(type.end(), {0x01, 0x7e});
  type.insert(type.end(), {0x60, 0x00, 0x01, 0x7e});
  type[0] = 2;
  b.push_back(0x01);
  b.push_back(static_cast<uint8_t>(type.size()));
  b.insert(b.end(), type.begin(), type.end());
  const char imp[] = "\x01\x04test\x04many\x00\x00";
  b.push_back(0x02);
  b.push_back(sizeof imp - 1);
  b.insert(b.end(), imp, imp + sizeof imp - 1);
  b.insert(b.end(), {0x03, 0x02, 0x01, 0x01});                          // func go: type 1
  b.insert(b.end(), {0x07, 0x06, 0x01, 0x02, 'g', 'o', 0x00, 0x01});    // export "go"
  std::vector<uint8_t> body = {0x00};
  for (int i = 1; i <= 20; ++i) body.insert(body.end(), {0x41, static_cast<uint8_t>(i)});
  body.insert(body.end(), {0x10, 0x00, 0x0b});
  b.insert(b.end(), {0x0a, static_cast<uint8_t>(body.size() + 2), 0x01,
                     static_cast<uint8_t>(body.size())});
  b.insert(b.end(), body.begin(), body.end());

  auto engine = testing::make_test_engine();
  auto m = engine->load(b.data(), b.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  HostFuncTable t;
  FuncSig sig;
  sig.params.assign(20, ValType::kI32);
  sig.results = {ValType::kI64};
  std::vector<uint32_t> seen;
  t.add(host_func("test", "many", sig, [&seen](HostContext&, const Value* a, Value* r) {
    uint64_t weighted = 0;
    for (int i = 0; i < 20; ++i) {
      seen.push_back(a[i].i32);
      weighted += uint64_t{a[i].i32} << (2 * (i % 16));
    }
    r[0] = Value::I64(weighted);
    return HostCallResult::ok();
  }));
  auto inst = engine->instantiate(*m, t, {});
  if (!inst.has_value()) {
    EXPECT_EQ(inst.error().code, ErrorCode::kLinkError) << inst.error().to_string();
    return;
  }
  auto r = (*inst)->call("go", {});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  std::vector<uint32_t> want;
  for (uint32_t i = 1; i <= 20; ++i) want.push_back(i);
  EXPECT_EQ(seen, want);
}

// --- features used by real toolchains --------------------------------------------------------

TEST(EngineFeatures, Wasm2FeaturesRun) {
  if (testing::test_engine_name() == "aot") {
    // wasm2c 1.0.32 cannot translate SIMD: the module is refused cleanly (never an abort).
    auto engine = testing::make_test_engine();
    auto bytes = guest_bytes("features");
    auto m = engine->load(bytes.data(), bytes.size());
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code, ErrorCode::kModuleUnsupported) << m.error().to_string();
    EXPECT_NE(m.error().message.find("SIMD"), std::string::npos) << m.error().message;
    return;
  }
  auto l = instantiate("features");
  ASSERT_TRUE(l->instance);
  struct Case {
    const char* name;
    uint32_t want;
  } cases[] = {{"bulk_memory", 1},     {"sign_ext", 1}, {"sat_trunc", 1},
               {"multi_value", 314},   {"reference_types", 160}, {"simd", 44}};
  for (const auto& c : cases) {
    auto r = l->instance->call(c.name, {});
    ASSERT_TRUE(r.has_value()) << c.name << ": " << r.error().to_string();
    ASSERT_EQ(r->results.size(), 1u) << c.name;
    EXPECT_EQ(r->results[0].i32, c.want) << c.name;
  }
  auto dropped = l->instance->call("init_after_drop", {});
  ASSERT_FALSE(dropped.has_value());
  EXPECT_EQ(dropped.error().code, ErrorCode::kTrapMemoryOutOfBounds)
      << dropped.error().to_string();
}

TEST(EngineFeatures, ClangCompiledGuestsLoad) {
  // Real toolchain output (clang-19 enables sign-ext, multivalue, reference-types).
  auto engine = testing::make_test_engine();
  for (const char* name : {"hello", "args_env", "escape", "malloc_bomb"}) {
    auto bytes = guest_bytes(name);
    auto m = engine->load(bytes.data(), bytes.size());
    ASSERT_TRUE(m.has_value()) << name << ": " << m.error().to_string();
    EXPECT_NE((*m)->info().find_export("_start"), nullptr) << name;
    EXPECT_NE((*m)->info().find_export("memory"), nullptr) << name;
  }
}

// --- limits ---------------------------------------------------------------------------------

TEST(EngineLimits, FuelStopsAnInfiniteLoop) {
  WASMCAP_SKIP_UNLESS_ENGINE_HAS(Capability::kLimitFuel);
  ExecLimits limits;
  limits.fuel = 200000;
  auto l = instantiate("spin", {}, limits);
  ASSERT_TRUE(l->instance);
  auto r = l->instance->call("spin", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kFuelExhausted) << r.error().to_string();
  EXPECT_GE(l->instance->fuel_consumed(), 200000u);
  EXPECT_LE(l->instance->fuel_consumed(), 200000u + 20000u);
}

TEST(EngineLimits, FuelIsCountedInInstructions) {
  WASMCAP_SKIP_UNLESS_ENGINE_HAS(Capability::kLimitFuel);
  ExecLimits limits;
  limits.fuel = 1000000;
  auto l = instantiate("spin", {}, limits);
  ASSERT_TRUE(l->instance);
  auto small = l->instance->call("count", {Value::I32(1000)});  // ~10k instructions
  ASSERT_TRUE(small.has_value()) << small.error().to_string();
  EXPECT_EQ(small->results[0].i32, 1000u);
  // ~10 instructions per iteration: one million iterations cannot fit in the budget.
  auto big = l->instance->call("count", {Value::I32(1000000)});
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, ErrorCode::kFuelExhausted);
  // Fuel is per instance and does not come back.
  auto again = l->instance->call("count", {Value::I32(10)});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kFuelExhausted);
}

TEST(EngineLimits, DeadlineStopsAnInfiniteLoop) {
  {
    // Load once first: on aot with a cold cache, the compile must not eat the budget.
    auto warm = testing::make_test_engine();
    auto b = guest_bytes("spin");
    ASSERT_TRUE(warm->load(b.data(), b.size()).has_value());
  }
  ExecLimits limits;
  const auto budget = std::chrono::milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  limits.deadline = start + budget;
  auto l = instantiate("spin", {}, limits);
  ASSERT_TRUE(l->instance);
  auto r = l->instance->call("spin", {});
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
  EXPECT_GE(elapsed, budget);
  EXPECT_LT(elapsed, 5 * budget) << "stopped too late";
}

// Host functions for host_loop.wat: "slow" takes 20 ms and knows nothing of deadlines;
// "charge" charges its argument in fuel units, as host work would (HostContext::charge_fuel).
HostFuncTable host_loop_table(std::shared_ptr<std::atomic<int>> calls) {
  HostFuncTable t;
  t.add(host_func("test", "slow", {{}, {}}, [calls](HostContext&, const Value*, Value*) {
    ++*calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return HostCallResult::ok();
  }));
  t.add(host_func("test", "charge", {{ValType::kI32}, {}},
                  [calls](HostContext& ctx, const Value* a, Value*) {
                    ++*calls;
                    ctx.charge_fuel(a[0].i32);
                    return HostCallResult::ok();
                  }));
  return t;
}

// Threat: a loop of slow host calls, each counting as one instruction: the deadline was checked
// only between slices of 20,000 instructions, i.e. after hundreds of such calls. The engine now
// checks after every host call (aot: at every loop iteration).
TEST(EngineLimits, LoopOfSlowHostCallsStopsAtTheDeadline) {
  {
    auto warm = testing::make_test_engine();
    auto b = guest_bytes("host_loop");
    ASSERT_TRUE(warm->load(b.data(), b.size()).has_value());
  }
  auto calls = std::make_shared<std::atomic<int>>(0);
  ExecLimits limits;
  const auto budget = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  limits.deadline = start + budget;
  auto l = instantiate("host_loop", host_loop_table(calls), limits);
  ASSERT_TRUE(l->instance);
  auto r = l->instance->call("slow_loop", {});
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500)) << "stopped too late: " << *calls << " calls";
}

// Fuel charged by host functions counts like instructions: exactly, and it ends the run.
TEST(EngineLimits, FuelChargedByHostCallsIsCountedAndEndsTheRun) {
  WASMCAP_SKIP_UNLESS_ENGINE_HAS(Capability::kLimitFuel);
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto consumed = [&](uint32_t units) {
    ExecLimits limits;
    limits.fuel = 1'000'000'000;
    auto l = instantiate("host_loop", host_loop_table(calls), limits);
    auto r = l->instance->call("charge_n", {Value::I32(10), Value::I32(units)});
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return l->instance->fuel_consumed();
  };
  EXPECT_EQ(consumed(1000) - consumed(0), 10000u);

  ExecLimits limits;
  limits.fuel = 100000;
  auto l = instantiate("host_loop", host_loop_table(calls), limits);
  *calls = 0;
  auto r = l->instance->call("charge_n", {Value::I32(1000), Value::I32(40000)});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kFuelExhausted) << r.error().to_string();
  EXPECT_LE(calls->load(), 3) << "the run went on after its fuel was spent by host work";
}

TEST(EngineLimits, InterruptFromAnotherThreadStopsALoop) {
  std::atomic<bool> stop{false};
  ExecLimits limits;
  limits.interrupt = &stop;
  auto l = instantiate("spin", {}, limits);
  ASSERT_TRUE(l->instance);
  auto start = std::chrono::steady_clock::now();
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop.store(true);
  });
  auto r = l->instance->call("spin", {});
  auto elapsed = std::chrono::steady_clock::now() - start;
  setter.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
  EXPECT_NE(r.error().message.find("interrupt"), std::string::npos) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  // While the flag stays set, nothing runs.
  auto again = l->instance->call("count", {Value::I32(1)});
  ASSERT_FALSE(again.has_value());
  // Cleared, the instance runs again.
  stop.store(false);
  auto ok = l->instance->call("count", {Value::I32(5)});
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->results[0].i32, 5u);
}

TEST(EngineLimits, MemoryCapMakesGrowFail) {
  ExecLimits limits;
  limits.max_memory_pages = 5;
  auto l = instantiate("grow_bomb", exit_only_table(), limits);
  ASSERT_TRUE(l->instance);
  auto r = l->instance->call("_start", {});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->exited);
  EXPECT_EQ(r->exit_code, 5);  // ended with exactly the cap, the last page usable
  EXPECT_EQ(l->instance->memory().size(), 5 * kWasmPageSize);
}

TEST(EngineLimits, DeclaredMaximumBelowTheCapIsKept) {
  // info.wat declares (memory 2 10): a cap of 100 must not raise its maximum.
  HostFuncTable t = exit_only_table();
  t.add(host_func("env", "log", {{ValType::kI32, ValType::kI64}, {ValType::kF32}},
                  [](HostContext&, const Value*, Value*) { return HostCallResult::ok(); }));
  ExecLimits limits;
  limits.max_memory_pages = 100;
  auto l = instantiate("info", std::move(t), limits);
  ASSERT_TRUE(l->instance);
  EXPECT_EQ(l->instance->memory().size(), 2 * kWasmPageSize);
}

TEST(EngineLimits, InitialMemoryAboveTheCapIsRefused) {
  Loaded l;
  ExecLimits limits;
  limits.max_memory_pages = 16;
  auto inst = try_instantiate(l, "big_memory", limits);
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code, ErrorCode::kMemoryLimit) << inst.error().to_string();
  EXPECT_NE(inst.error().message.find("100"), std::string::npos) << inst.error().message;
  // Exactly at the cap is fine.
  limits.max_memory_pages = 100;
  auto ok = try_instantiate(l, "big_memory", limits);
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
}

// A memory pool (ExecLimits::memory_pool) bounds the instances that share it together: what one
// holds, another cannot grow into; given back when an instance goes. Each keeps its own cap.
TEST(EngineLimits, InstancesOnOnePoolShareItsPages) {
  ExecLimits limits;
  limits.max_memory_pages = 100;
  limits.memory_pool = make_memory_pool(12 * kWasmPageSize);
  const wasmcap_memory_pool* pool = limits.memory_pool.get();
  auto a = instantiate("grow_bomb", exit_only_table(), limits);
  ASSERT_TRUE(a->instance);
  EXPECT_EQ(wasmcap_memory_pool_used(pool), 1u);  // its initial page
  auto ra = a->instance->call("_start", {});
  ASSERT_TRUE(ra.has_value()) << ra.error().to_string();
  EXPECT_EQ(ra->exit_code, 12);  // grew to the pool's 12 pages, not to its own cap of 100
  EXPECT_EQ(wasmcap_memory_pool_used(pool), 12u);
  EXPECT_GE(wasmcap_memory_pool_refusals(pool), 1u);

  // The pool is spent: a second instance cannot even have its initial page.
  Loaded b;
  b.host = exit_only_table();
  auto refused = try_instantiate(b, "grow_bomb", limits);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kMemoryLimit) << refused.error().to_string();
  EXPECT_NE(refused.error().message.find("0 MiB left"), std::string::npos) << refused.error().message;
  EXPECT_EQ(wasmcap_memory_pool_used(pool), 12u);

  // The first gone, its pages are back and the second grows into them.
  a.reset();
  EXPECT_EQ(wasmcap_memory_pool_used(pool), 0u);
  auto c = instantiate("grow_bomb", exit_only_table(), limits);
  ASSERT_TRUE(c->instance);
  auto rc = c->instance->call("_start", {});
  ASSERT_TRUE(rc.has_value()) << rc.error().to_string();
  EXPECT_EQ(rc->exit_code, 12);
  c.reset();
  EXPECT_EQ(wasmcap_memory_pool_used(pool), 0u);

  // A pool larger than an instance's cap leaves the cap in force.
  limits.max_memory_pages = 5;
  limits.memory_pool = make_memory_pool(100 * kWasmPageSize);
  auto d = instantiate("grow_bomb", exit_only_table(), limits);
  ASSERT_TRUE(d->instance);
  auto rd = d->instance->call("_start", {});
  ASSERT_TRUE(rd.has_value()) << rd.error().to_string();
  EXPECT_EQ(rd->exit_code, 5);
  EXPECT_EQ(wasmcap_memory_pool_used(limits.memory_pool.get()), 5u);
}

TEST(EngineLimits, InitialMemoryBeyondWhatThePoolHasLeftIsRefused) {
  Loaded l;
  ExecLimits limits;
  limits.memory_pool = make_memory_pool(99 * kWasmPageSize);  // big_memory needs 100 pages
  auto inst = try_instantiate(l, "big_memory", limits);
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code, ErrorCode::kMemoryLimit) << inst.error().to_string();
  EXPECT_NE(inst.error().message.find("has 6 MiB left"), std::string::npos) << inst.error().message;
  EXPECT_EQ(wasmcap_memory_pool_used(limits.memory_pool.get()), 0u);  // nothing kept by the refusal
  limits.memory_pool = make_memory_pool(100 * kWasmPageSize);
  auto ok = try_instantiate(l, "big_memory", limits);
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(wasmcap_memory_pool_used(limits.memory_pool.get()), 100u);
  ok->reset();
  EXPECT_EQ(wasmcap_memory_pool_used(limits.memory_pool.get()), 0u);
}

TEST(EngineLimits, StackExhaustionIsATrapAndTheEngineLivesOn) {
  auto l = instantiate("traps");
  ASSERT_TRUE(l->instance);
  for (int i = 0; i < 3; ++i) {
    auto r = l->instance->call("recurse_forever", {});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kTrapStackExhausted) << r.error().to_string();
  }
  auto ok = l->instance->call("ok", {});
  ASSERT_TRUE(ok.has_value());
  auto fresh = instantiate("values");
  ASSERT_TRUE(fresh->instance);
  auto v = fresh->instance->call("add_i32", {Value::I32(1), Value::I32(2)});
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->results[0].i32, 3u);
}

}  // namespace
}  // namespace wasmcap
