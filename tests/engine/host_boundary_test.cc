// The one host-call boundary (src/engine/host_call.h) and the one export-call prologue
// (Instance::call, src/engine/instance.cc), on every engine that uses them: the product's
// interpreter (interp), the AOT tier (when this machine can compile) and wabt's interpreter, the
// tests' reference oracle (tests/support/wabt_engine: the differential tests trust its host calls
// to behave as the product's). Each test is a place where the three engines' own copies of the
// boundary had drifted apart; it asserts the one behaviour they now share, the same structured
// error on each.
//
// C++17: the modules are written as .wat and compiled with wabt's library.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "wabt_engine.h"
#include "wasmcap/engine.h"
#include "wasmcap/https.h"
#include "wasmcap/https_abi.h"
#include "wat_to_wasm.h"
#include "test_paths.h"

namespace wasmcap {
namespace {

using Bytes = std::vector<uint8_t>;

std::unique_ptr<Engine> engine_named(const std::string& name) {
  if (name == "interp") return make_fast_engine();
  if (name == "wabt") return testing::make_wabt_reference_engine();
  AotOptions o;
  o.cache_dir = test_paths::aot_test_cache();  // shared by the aot tests: one compile per module
  o.opt_level = 1;
  return make_aot_engine(o);
}

class HostBoundary : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "aot" && !aot_available()) GTEST_SKIP() << "no C compiler for aot";
    engine_ = engine_named(GetParam());
  }

  // Loads and instantiates `wat` against host_ under `limits`; fails the test on error.
  std::unique_ptr<Instance> instantiate(const std::string& wat, const ExecLimits& limits = {}) {
    Bytes b = wat::wat_to_wasm(wat);
    auto m = engine_->load(b.data(), b.size());
    EXPECT_TRUE(m.has_value()) << m.error().to_string();
    if (!m) return nullptr;
    auto inst = engine_->instantiate(*m, host_, limits);
    EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
    return inst ? std::move(*inst) : nullptr;
  }

  // Loads `wat` and instantiates it against host_; the instantiation's error (test failure when
  // it loads and links).
  Error link_error(const std::string& wat) {
    Bytes b = wat::wat_to_wasm(wat);
    auto m = engine_->load(b.data(), b.size());
    if (!m) return m.error();
    auto inst = engine_->instantiate(*m, host_, {});
    EXPECT_FALSE(inst.has_value()) << "linked";
    return inst ? Error() : inst.error();
  }

  void add(std::string name, FuncSig sig, HostCallback cb) {
    host_.add(HostFunc{"test", std::move(name), std::move(sig), std::move(cb)});
  }

  std::unique_ptr<Engine> engine_;
  HostFuncTable host_;  // outlives the instances (they call its callbacks)
};

INSTANTIATE_TEST_SUITE_P(Engines, HostBoundary, ::testing::Values("interp", "aot", "wabt"),
                         [](const auto& info) { return info.param; });

// (import "test" NAME (func (result i32))), called by export "call"; export "ok" returns 7.
std::string calling(const std::string& name) {
  return "(module (import \"test\" \"" + name + "\" (func $h (result i32)))"
         "  (memory (export \"memory\") 1)"
         "  (func (export \"call\") (result i32) (i32.add (call $h) (i32.const 1)))"
         "  (func (export \"ok\") (result i32) (i32.const 7)))";
}

// Before: only the AOT engine caught an exception escaping a host function. On the fast engine
// and wabt's it unwound through the engine (out of Instance::call: the fast engine's instance
// then refused every later call as "re-entrant"). Now: trap_host naming the function and the
// exception's text (quoted: it may carry guest bytes), and the instance lives on.
TEST_P(HostBoundary, AnExceptionFromAHostFunctionEndsTheCallWithTrapHost) {
  add("throws", {{}, {ValType::kI32}}, [](HostContext&, const Value*, Value*) -> HostCallResult {
    throw std::runtime_error("boom \x1b[31mred");
  });
  auto inst = instantiate(calling("throws"));
  ASSERT_TRUE(inst);
  for (int i = 0; i < 2; ++i) {  // the same error again: nothing stuck after the first
    auto r = inst->call("call", {});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kTrapHost) << r.error().to_string();
    EXPECT_EQ(r.error().message, "test.throws: host function failed: \"boom \\x1b[31mred\"");
  }
  auto ok = inst->call("ok", {});
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->results[0].i32, 7u);
}

// The host running out of memory while serving a call is a resource limit, not a guest trap.
TEST_P(HostBoundary, BadAllocInAHostFunctionIsMemoryLimit) {
  add("oom", {{}, {ValType::kI32}}, [](HostContext&, const Value*, Value*) -> HostCallResult {
    throw std::bad_alloc();
  });
  auto inst = instantiate(calling("oom"));
  ASSERT_TRUE(inst);
  auto r = inst->call("call", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kMemoryLimit) << r.error().to_string();
  EXPECT_EQ(r.error().message.rfind("test.oom: the host ran out of memory", 0), 0u)
      << r.error().message;
  EXPECT_TRUE(inst->call("ok", {}).has_value());
}

// A status outside HostStatus is the host's bug: internal_error naming the function (wabt's
// backend reported a bare "trap" before).
TEST_P(HostBoundary, AnUnknownHostStatusIsAnInternalError) {
  add("odd", {{}, {ValType::kI32}}, [](HostContext&, const Value*, Value*) {
    HostCallResult r;
    r.status = static_cast<HostStatus>(42);
    return r;
  });
  auto inst = instantiate(calling("odd"));
  ASSERT_TRUE(inst);
  auto r = inst->call("call", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInternal) << r.error().to_string();
  EXPECT_EQ(r.error().message, "test.odd: the host function returned an unknown status");
}

// Before: only the fast engine refused a host function calling back into the instance running
// it; the AOT engine and wabt's ran the inner call on top of the outer one's state (wabt's guard
// against its own call_indirect bug was reset by it). Now refused by every engine that does not
// keep the calls apart (Instance::reentrant(): the wabt oracle), the outer call finishing intact;
// the interpreter runs the inner call above the outer one's frames, the AOT engine inside a
// nested trap boundary on the same guest stack (sharing_test.cc has the rest).
TEST_P(HostBoundary, AReentrantCallIsRefusedAndTheOuterCallFinishes) {
  Instance* self = nullptr;
  std::string inner_error = "(no inner call)";
  int depth = 0;
  add("cb", {{}, {ValType::kI32}}, [&](HostContext&, const Value*, Value* results) {
    if (depth++ == 0) {  // once: an engine that lets it in must not recurse forever
      auto r = self->call("f", {Value::I32(1000)});
      inner_error = r ? "the inner call ran" : r.error().to_string();
    }
    --depth;
    results[0] = Value::I32(5);
    return HostCallResult::ok();
  });
  auto inst = instantiate(
      "(module (import \"test\" \"cb\" (func $cb (result i32)))"
      "  (func (export \"f\") (param i32) (result i32) (i32.add (local.get 0) (call $cb))))");
  ASSERT_TRUE(inst);
  self = inst.get();
  auto out = inst->call("f", {Value::I32(37)});
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ(out->results[0].i32, 42u);
  if (GetParam() == "interp" || GetParam() == "aot") {
    EXPECT_EQ(inner_error, "the inner call ran");
  } else {
    EXPECT_EQ(inner_error,
              "invalid_argument: re-entrant call into a running instance (from a host function) "
              "is not supported");
  }
  // Not stuck: a later call runs.
  auto again = inst->call("f", {Value::I32(1)});
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_EQ(again->results[0].i32, 6u);
}

// A host import exported as it is ("call" runs the host function with no guest code around it).
const char* kReexport =
    "(module (import \"test\" \"count\" (func $c (result i32))) (export \"c\" (func $c))"
    "  (func (export \"g\") (result i32) (i32.const 3)))";

// Before: the interpreters ran a re-exported host function even when the run was already
// interrupted or past its deadline (their loops check before guest code, and there was none);
// only the AOT engine checked before the call. Now no code runs, host or guest.
TEST_P(HostBoundary, AnInterruptedRunCallsNoReexportedHostFunction) {
  int calls = 0;
  add("count", {{}, {ValType::kI32}}, [&](HostContext&, const Value*, Value* r) {
    ++calls;
    r[0] = Value::I32(1);
    return HostCallResult::ok();
  });
  std::atomic<bool> stop{false};
  ExecLimits limits;
  limits.interrupt = &stop;
  auto inst = instantiate(kReexport, limits);
  ASSERT_TRUE(inst);
  auto first = inst->call("c", {});
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_EQ(first->results[0].i32, 1u);
  EXPECT_EQ(calls, 1);
  stop = true;
  for (const char* name : {"c", "g"}) {
    auto r = inst->call(name, {});
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
    EXPECT_EQ(r.error().message, "execution interrupted by the host");
  }
  EXPECT_EQ(calls, 1);
}

TEST_P(HostBoundary, ARunPastItsDeadlineCallsNoReexportedHostFunction) {
  int calls = 0;
  add("count", {{}, {ValType::kI32}}, [&](HostContext&, const Value*, Value* r) {
    ++calls;
    r[0] = Value::I32(1);
    return HostCallResult::ok();
  });
  ExecLimits limits;
  limits.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  auto inst = instantiate(kReexport, limits);
  ASSERT_TRUE(inst);
  std::this_thread::sleep_until(limits.deadline + std::chrono::milliseconds(5));
  auto r = inst->call("c", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
  EXPECT_EQ(r.error().message, "wall-clock deadline exceeded; raise --timeout-ms");
  EXPECT_EQ(calls, 0);
}

// The note that memory sits at its cap explains a guest's trap (a refused memory.grow is the
// usual cause), not a host's. Before: the fast engine added it to host traps too.
TEST_P(HostBoundary, TheMemoryCapNoteIsForGuestTrapsOnly) {
  add("fail", {{}, {ValType::kI32}}, [](HostContext&, const Value*, Value*) {
    return HostCallResult::trap("host invariant broken");
  });
  ExecLimits limits;
  limits.max_memory_pages = 1;
  auto inst = instantiate(
      "(module (import \"test\" \"fail\" (func $f (result i32)))"
      "  (memory (export \"memory\") 1)"
      "  (func (export \"host\") (result i32) (call $f))"
      "  (func (export \"guest\") (unreachable)))",
      limits);
  ASSERT_TRUE(inst);
  auto host = inst->call("host", {});
  ASSERT_FALSE(host.has_value());
  EXPECT_EQ(host.error().code, ErrorCode::kTrapHost);
  EXPECT_EQ(host.error().message, "test.fail: host invariant broken");
  auto guest = inst->call("guest", {});
  ASSERT_FALSE(guest.has_value());
  EXPECT_EQ(guest.error().code, ErrorCode::kTrapUnreachable);
  EXPECT_NE(guest.error().message.find("(note: linear memory is at the limit of 1 pages"),
            std::string::npos)
      << guest.error().message;
}

// Host work that spends the fuel left ends the run with the same wording on every metered
// engine. Before: wabt's backend left out how much was used.
TEST_P(HostBoundary, FuelSpentByHostWorkEndsTheRunSaying) {
  if (!engine_->capabilities().has(Capability::kLimitFuel)) GTEST_SKIP() << "no fuel on aot";
  add("work", {{}, {ValType::kI32}}, [](HostContext& ctx, const Value*, Value* r) {
    ctx.charge_fuel(1000);
    r[0] = Value::I32(0);
    return HostCallResult::ok();
  });
  ExecLimits limits;
  limits.fuel = 500;
  auto inst = instantiate(calling("work"), limits);
  ASSERT_TRUE(inst);
  auto r = inst->call("call", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kFuelExhausted) << r.error().to_string();
  const std::string& m = r.error().message;
  EXPECT_EQ(m.rfind("fuel exhausted after ", 0), 0u) << m;
  EXPECT_NE(m.find(" units (host work included); raise --fuel"), std::string::npos) << m;
  EXPECT_GE(inst->fuel_consumed(), 1000u);
}

// Host functions take and return i32/i64/f32/f64 only. Before: a host function declared with a
// v128 parameter linked; the fast engine handed it 64 of the 128 bits, wabt's all of them.
// Now refused at link time (the AOT engine cannot translate SIMD at all: refused at load).
TEST_P(HostBoundary, AHostFunctionWithAV128ParameterDoesNotLink) {
  add("wide", {{ValType::kV128}, {}}, [](HostContext&, const Value*, Value*) {
    return HostCallResult::ok();
  });
  Error e = link_error(
      "(module (import \"test\" \"wide\" (func $w (param v128)))"
      "  (func (export \"f\") (call $w (v128.const i64x2 1 2))))");
  if (GetParam() == "aot") {
    EXPECT_EQ(e.code, ErrorCode::kModuleUnsupported) << e.to_string();
    return;
  }
  EXPECT_EQ(e.code, ErrorCode::kLinkError) << e.to_string();
  EXPECT_EQ(e.message,
            "import \"test.wide\" has signature (v128) -> (): host functions take and return "
            "only i32, i64, f32 and f64");
}

// A core module importing WASI 0.2 interfaces is told which build to make instead (issue #32),
// on every engine. (wasi_unstable, WASI's snapshot 0, is served: tests/wasi/unstable_test.cc.)
TEST_P(HostBoundary, OtherWasiVersionsNameTheBuildToMake) {
  Error e = link_error("(module (import \"wasi:cli/stdout@0.2.0\" \"get-stdout\" (func (result i32))))");
  EXPECT_EQ(e.code, ErrorCode::kLinkError) << e.to_string();
  EXPECT_NE(e.message.find("a WASI 0.2 interface of the component model"), std::string::npos)
      << e.message;
  // Both ways out: the tool that makes the module a component, and the Preview 1 build.
  EXPECT_NE(e.message.find("wasm-tools component new"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("--target=wasm32-wasip1"), std::string::npos) << e.message;
}

// Imports link in order, with the same message on every engine. Before: the AOT engine
// reported a non-function import wherever it was, ahead of an earlier unknown function.
TEST_P(HostBoundary, ImportsLinkInOrder) {
  Error e = link_error(
      "(module (import \"test\" \"missing\" (func (param i32)))"
      "  (import \"env\" \"memory\" (memory 1)))");
  EXPECT_EQ(e.code, ErrorCode::kLinkError) << e.to_string();
  EXPECT_EQ(e.message,
            "unknown import \"test.missing\" (i32) -> (): no host function of that name is "
            "granted");
  // A memory no instance shares under that name: interp and aot link memories other instances
  // of their engine export (sharing_test.cc), the wabt oracle links functions only.
  e = link_error("(module (import \"env\" \"memory\" (memory 1)))");
  EXPECT_EQ(e.code, ErrorCode::kLinkError) << e.to_string();
  EXPECT_EQ(e.message,
            GetParam() != "wabt"
                ? "unknown import \"env.memory\" (memory): no instance exports a memory under "
                  "that name to this one"
                : "unsupported import \"env.memory\" (memory): wasmcap provides only host "
                  "functions");
}

// A result the host wrote with another type than declared reaches the guest as the declared
// type's bits (an i32 result is the low half), on every engine.
TEST_P(HostBoundary, ResultsCrossAsTheirDeclaredType) {
  add("loose", {{ValType::kI64}, {ValType::kI32, ValType::kF64}},
      [](HostContext&, const Value* a, Value* r) {
        r[0] = Value::I64(a[0].i64);  // an i64 where an i32 is declared
        r[1] = Value::F64(0.5);
        return HostCallResult::ok();
      });
  auto inst = instantiate(
      "(module (import \"test\" \"loose\" (func $l (param i64) (result i32 f64)))"
      "  (func (export \"f\") (param i64) (result i64 f64) (local f64)"
      "    (call $l (local.get 0)) (local.set 1) (i64.extend_i32_u) (local.get 1)))");
  ASSERT_TRUE(inst);
  auto r = inst->call("f", {Value::I64(0xFFFFFFFF00000005ull)});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->results.size(), 2u);
  EXPECT_EQ(r->results[0].i64, 5u);
  EXPECT_EQ(r->results[1].f64, 0.5);
}

// --- the wasmcap_https ABI, bound like WASI (signatures from the members' parameter types) ---

// The signatures docs/abi-https.md documents. The table is derived from the C++ members, so
// this is the check that a member's parameter type was not changed by mistake.
TEST(HttpsAbiBinding, SignaturesAreTheDocumentedOnes) {
  HostFuncTable table;
  https::register_https_abi(std::shared_ptr<https::Client>(), table);
  constexpr ValType I = ValType::kI32, L = ValType::kI64;
  const std::vector<std::pair<std::string, FuncSig>> want = {
      {"version", {{}, {I}}},
      {"request", {{I, I, I, I, I, I, I, I, I, I}, {I}}},
      {"response_info", {{I, I}, {I}}},
      {"header_name", {{I, I, I, I, I}, {I}}},
      {"header_value", {{I, I, I, I, I}, {I}}},
      {"body_read", {{I, L, I, I, I}, {I}}},
      {"error_code", {{I, I, I, I}, {I}}},
      {"error_message", {{I, I, I, I}, {I}}},
      {"close", {{I}, {I}}},
  };
  ASSERT_EQ(table.funcs().size(), want.size());
  EXPECT_EQ(https::https_abi_function_names().size(), want.size());
  for (const auto& [name, sig] : want) {
    const HostFunc* f = table.find(https::kAbiModule, name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->sig, sig) << name << ": " << f->sig.to_string() << ", want " << sig.to_string();
  }
}

}  // namespace
}  // namespace wasmcap
