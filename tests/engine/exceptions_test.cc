// Exception handling (legacy form: tags, try/catch/catch_all/delegate/throw/rethrow) on every
// engine. The .wat files under tests/engine/eh/ carry their expectations as comment lines
//   ;; run EXPORT [TYPE:VALUE ...] -> TYPE:VALUE ... | ERROR_CODE_NAME
// checked in order on one instance of the fast engine (the expected values are derived by hand
// from the spec). The AOT engine and the tests' wabt oracle (tests/support/wabt_engine) must
// refuse such modules by name (module_unsupported, not module_malformed), and --engine auto must
// run them on the fast engine (interp).
//
// wabt's interpreter cannot be the reference here: 1.0.32 aborts the process on an assertion
// (Thread::Pick) when a catch lands in a function with declared locals, and lets a try catch a
// throw that precedes it in the same function (ThrowBeforeTryIsNotCaughtByIt below).
//
// C++17: the .wat text is compiled with wabt's library (exceptions enabled).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "wasmcap/engine.h"
#include "wabt_engine.h"
#include "wasmcap/runtime.h"
#include "wat_to_wasm.h"
#include "test_paths.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
Bytes wat_to_wasm(const std::string& text, const std::string& name) {
  return wat::wat_to_wasm(text, /*exceptions=*/true, name);
}

const fs::path kDir = fs::path(test_paths::source_dir()) / "tests/engine/eh";

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Bytes wat_file(const std::string& name) { return wat_to_wasm(read_text(kDir / name), name); }

Value parse_value(const std::string& tok) {
  auto colon = tok.find(':');
  std::string t = tok.substr(0, colon), v = tok.substr(colon + 1);
  if (t == "i32") return Value::I32(static_cast<uint32_t>(std::stoll(v)));
  if (t == "i64") return Value::I64(static_cast<uint64_t>(std::stoll(v)));
  if (t == "f32") return Value::F32(std::stof(v));
  return Value::F64(std::stod(v));
}

std::string show(const Value& v) {
  switch (v.type) {
    case ValType::kI32: return "i32:" + std::to_string(static_cast<int32_t>(v.i32));
    case ValType::kI64: return "i64:" + std::to_string(static_cast<int64_t>(v.i64));
    case ValType::kF32: return "f32:" + std::to_string(v.f32);
    case ValType::kF64: return "f64:" + std::to_string(v.f64);
    default: return "?";
  }
}

struct RunLine {
  int line = 0;
  std::string func;
  std::vector<Value> args;
  std::string expect;  // "i32:1 f64:2.5" (results as shown) or an error code name
};

std::vector<RunLine> run_lines(const std::string& text) {
  std::vector<RunLine> out;
  std::istringstream in(text);
  std::string l;
  int n = 0;
  while (std::getline(in, l)) {
    ++n;
    auto p = l.find(";; run ");
    if (p == std::string::npos) continue;
    std::istringstream words(l.substr(p + 7));
    RunLine r;
    r.line = n;
    words >> r.func;
    std::string w;
    bool results = false;
    std::vector<std::string> expect;
    while (words >> w) {
      if (w == "->") {
        results = true;
      } else if (results) {
        expect.push_back(w.find(':') == std::string::npos ? w : show(parse_value(w)));
      } else {
        r.args.push_back(parse_value(w));
      }
    }
    for (size_t i = 0; i < expect.size(); ++i) r.expect += (i ? " " : "") + expect[i];
    out.push_back(r);
  }
  return out;
}

std::string outcome(const Result<CallOutcome>& r) {
  if (!r) return std::string(error_code_name(r.error().code));
  std::string s;
  for (size_t i = 0; i < r->results.size(); ++i) s += (i ? " " : "") + show(r->results[i]);
  return s;
}

class Exceptions : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> engine() { return make_fast_engine(); }
};

void run_file(Engine& engine, const std::string& file) {
  std::string text = read_text(kDir / file);
  Bytes bytes = wat_to_wasm(text, file);
  ASSERT_FALSE(bytes.empty());
  auto m = engine.load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << file << ": " << m.error().to_string();
  HostFuncTable host;
  auto inst = engine.instantiate(*m, host, ExecLimits{});
  ASSERT_TRUE(inst.has_value()) << file << ": " << inst.error().to_string();
  auto lines = run_lines(text);
  ASSERT_FALSE(lines.empty()) << file;
  for (const RunLine& l : lines) {
    auto r = (*inst)->call(l.func, l.args);
    EXPECT_EQ(outcome(r), l.expect) << file << ":" << l.line << " " << l.func
                                    << (r ? "" : " (" + r.error().message + ")");
    if (!r && r.error().code == ErrorCode::kTrapUncaughtException) {
      EXPECT_NE(r.error().message.find("uncaught wasm exception"), std::string::npos);
    }
  }
}

TEST_F(Exceptions, Basics) { run_file(*engine(), "basics.wat"); }
TEST_F(Exceptions, RethrowAndDelegate) { run_file(*engine(), "rethrow_delegate.wat"); }
TEST_F(Exceptions, UncaughtIsATrap) { run_file(*engine(), "uncaught.wat"); }
TEST_F(Exceptions, DeepUnwinding) { run_file(*engine(), "deep.wat"); }
TEST_F(Exceptions, PayloadsInAModuleThatUsesV128) { run_file(*engine(), "simd.wat"); }

TEST_F(Exceptions, FuelStillBoundsAThrowLoop) {
  Bytes bytes = wat_file("limits.wat");
  auto e = engine();
  auto m = e->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  ExecLimits limits;
  limits.fuel = 100000;
  auto inst = e->instantiate(*m, HostFuncTable{}, limits);
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  auto r = (*inst)->call("spin", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kFuelExhausted) << r.error().to_string();
  EXPECT_LE((*inst)->fuel_consumed(), 100000u);
  EXPECT_GT((*inst)->fuel_consumed(), 90000u);
}

TEST_F(Exceptions, DeadlineStillBoundsAThrowLoop) {
  Bytes bytes = wat_file("limits.wat");
  auto e = engine();
  auto m = e->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  ExecLimits limits;
  limits.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  auto inst = e->instantiate(*m, HostFuncTable{}, limits);
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  auto r = (*inst)->call("spin", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
}

TEST_F(Exceptions, ThrowInStartFunctionFailsInstantiation) {
  Bytes bytes = wat_to_wasm(
      "(module (tag $e) (func $s (throw $e)) (start $s) (func (export \"f\")))", "start");
  auto e = engine();
  auto m = e->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  auto inst = e->instantiate(*m, HostFuncTable{}, ExecLimits{});
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code, ErrorCode::kTrapUncaughtException) << inst.error().to_string();
}

TEST_F(Exceptions, ImportedTagIsRefusedByName) {
  Bytes bytes = wat_to_wasm("(module (import \"env\" \"boom\" (tag)) (func (export \"f\")))", "imp");
  auto e = engine();
  auto m = e->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  auto inst = e->instantiate(*m, HostFuncTable{}, ExecLimits{});
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code, ErrorCode::kLinkError) << inst.error().to_string();
  EXPECT_NE(inst.error().message.find("env.boom"), std::string::npos) << inst.error().message;
}

// In the spec, a try catches only what is thrown inside its body: a direct throw before the try
// in the same function goes to the caller (wabt 1.0.32 gets this wrong: it returns 105 here).
TEST_F(Exceptions, ThrowBeforeTryIsNotCaughtByIt) {
  Bytes bytes = wat_to_wasm(
      "(module (tag $e (param i32))"
      " (func $b (result i32) (throw $e (i32.const 5))"
      "   (try (result i32) (do (i32.const 0)) (catch $e (i32.const 100) (i32.add))))"
      " (func (export \"a\") (result i32) (try (result i32) (do (call $b)) (catch $e))))",
      "before");
  auto e = engine();
  auto m = e->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  auto inst = e->instantiate(*m, HostFuncTable{}, ExecLimits{});
  ASSERT_TRUE(inst.has_value());
  EXPECT_EQ(outcome((*inst)->call("a", {})), "i32:5");
}

// wabt's interpreter (the tests' oracle) does not run exception handling (see the top): refused
// by name, with the engine that does.
TEST(WabtExceptions, RefusedByName) {
  for (const char* wat :
       {"(module (tag $e) (func (export \"f\") (throw $e)))",
        "(module (func (export \"f\") (try (do nop) (catch_all))))"}) {
    Bytes bytes = wat_to_wasm(wat, "wabt");
    auto r = testing::make_wabt_reference_engine()->load(bytes.data(), bytes.size());
    ASSERT_FALSE(r.has_value()) << wat;
    EXPECT_EQ(r.error().code, ErrorCode::kModuleUnsupported) << r.error().to_string();
    EXPECT_NE(r.error().message.find("exception handling"), std::string::npos);
    EXPECT_NE(r.error().message.find("--engine interp"), std::string::npos);
  }
  // Still malformed when it is: a truncated module is not "unsupported".
  Bytes bad = {0, 'a', 's', 'm', 1, 0, 0, 0, 13, 5, 1};
  auto r = testing::make_wabt_reference_engine()->load(bad.data(), bad.size());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kModuleMalformed) << r.error().to_string();
}

// A bound of the fast engine's own: caught exceptions that a rethrow may still name are kept,
// at most 2^18 of them. 6 nested handlers per frame, each of which some rethrow names, held at
// once down a recursion of up to 45,000 frames, need 270,000: the bound must stop it cleanly.
TEST(FastExceptions, HeldExceptionsAreBounded) {
  std::string handlers = "(call $f (i32.sub (local.get 0) (i32.const 1)))";
  for (int i = 0; i < 6; ++i) {
    handlers = "(try (do (throw $e)) (catch_all " + handlers +
               " (if (global.get $never) (then (rethrow 1)))))";
  }
  std::string wat = "(module (tag $e) (global $never (mut i32) (i32.const 0))"
                    " (func $f (param i32) (if (i32.eqz (local.get 0)) (then (return))) " +
                    handlers + ") (func (export \"f\") (call $f (i32.const 45000))))";
  Bytes bytes = wat_to_wasm(wat, "held");
  auto e = make_fast_engine();
  auto m = e->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  auto inst = e->instantiate(*m, HostFuncTable{}, ExecLimits{});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  auto r = (*inst)->call("f", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTrapStackExhausted) << r.error().to_string();
  EXPECT_NE(r.error().message.find("exception handler stack"), std::string::npos)
      << r.error().message;
  // The same program 1,000 frames deep (6,000 held) runs to the end.
  Bytes small = wat_to_wasm(
      wat.substr(0, wat.rfind("45000")) + "1000" + wat.substr(wat.rfind("45000") + 5), "held1k");
  auto m2 = e->load(small.data(), small.size());
  ASSERT_TRUE(m2.has_value());
  auto inst2 = e->instantiate(*m2, HostFuncTable{}, ExecLimits{});
  ASSERT_TRUE(inst2.has_value());
  auto r2 = (*inst2)->call("f", {});
  EXPECT_TRUE(r2.has_value()) << r2.error().to_string();
}

// The AOT engine does not run exception handling: module_unsupported naming it and the engine
// that does (not module_malformed), for a tag section and for try/catch_all without any tag alike.
TEST(AotExceptions, RefusedByName) {
  for (const char* wat :
       {"(module (tag $e) (func (export \"f\") (throw $e)))",
        "(module (func (export \"f\") (try (do nop) (catch_all))))"}) {
    Bytes bytes = wat_to_wasm(wat, "aot");
    auto r = make_aot_engine()->load(bytes.data(), bytes.size());
    ASSERT_FALSE(r.has_value()) << wat;
    EXPECT_EQ(r.error().code, ErrorCode::kModuleUnsupported) << r.error().to_string();
    EXPECT_NE(r.error().message.find("exception handling"), std::string::npos)
        << r.error().to_string();
    EXPECT_NE(r.error().message.find("--engine interp"), std::string::npos)
        << r.error().to_string();
  }
}

// --engine auto runs such a module on the fast engine (the others refuse it).
TEST(AutoExceptions, FallsBackToAnEngineThatRunsIt) {
  Bytes bytes = wat_to_wasm(
      "(module (import \"wasi_snapshot_preview1\" \"proc_exit\" "
      "(func $exit (param i32))) (tag $e (param i32)) (memory (export \"memory\") 1)"
      " (func (export \"_start\") (call $exit (try (result i32) (do (throw $e (i32.const 7)))"
      " (catch $e)))))",
      "auto");
  RunOptions options;
  options.engine = "auto";
  auto r = run_module(bytes, options);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->engine, "interp");
}

}  // namespace
}  // namespace wasmcap
