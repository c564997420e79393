// The engine contract, exercised in-process through the Engine interface, on the engine under
// test (testing::make_test_engine: interp, and aot in the aot: variant):
// malformed input, module description, linking, values across the boundary. Trap
// classification, host-function outcomes, wasm 2.0 features and the execution limits are in
// engine_run_test.cc; the helpers in engine_test_support.h.
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

// --- malformed input ----------------------------------------------------------------------------

void expect_malformed(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto engine = testing::make_test_engine();
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_FALSE(m.has_value()) << what << " loaded";
  EXPECT_EQ(m.error().code, ErrorCode::kModuleMalformed) << what << ": " << m.error().to_string();
  EXPECT_FALSE(m.error().message.empty()) << what;
}


TEST(EngineMalformed, EmptyInput) {
  auto engine = testing::make_test_engine();
  auto m = engine->load(nullptr, 0);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kModuleMalformed);
  uint8_t one = 0;
  auto m2 = engine->load(&one, 0);
  ASSERT_FALSE(m2.has_value());
  EXPECT_EQ(m2.error().code, ErrorCode::kModuleMalformed);
}

TEST(EngineMalformed, BadMagicAndVersion) {
  expect_malformed(bytes_of({0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00}), "bad magic");
  expect_malformed(bytes_of({0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00}), "ELF header");
  expect_malformed(bytes_of({0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00}), "version 2");
  expect_malformed(bytes_of({0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00}), "short header");
  expect_malformed(bytes_of({0x00, 0x61, 0x73, 0x6d}), "magic only");
  std::string text = "(module (func))";
  expect_malformed(std::vector<uint8_t>(text.begin(), text.end()), "wat text");
}

TEST(EngineMalformed, HeaderOnlyIsAValidEmptyModule) {
  auto engine = testing::make_test_engine();
  auto m = engine->load(kHeader.data(), kHeader.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_TRUE((*m)->info().imports.empty());
  EXPECT_TRUE((*m)->info().exports.empty());
  EXPECT_EQ((*m)->info().size_bytes, 8u);
}

TEST(EngineMalformed, GarbageSections) {
  expect_malformed(with_header({0x7f, 0x03, 0x01, 0x02, 0x03}), "unknown section id");
  expect_malformed(with_header({0x01, 0x7f, 0x00}), "section longer than the input");
  expect_malformed(with_header({0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f}), "overlong LEB");
  expect_malformed(with_header({0x01, 0x04, 0x01, 0x42, 0x00, 0x00}), "bad type form");
  expect_malformed(with_header({0x03, 0x02, 0x01, 0x05}), "function of undefined type");
  // type () -> i32, one function whose body is `i32.add` on an empty stack: invalid.
  expect_malformed(with_header({0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,  //
                                0x03, 0x02, 0x01, 0x00,                    //
                                0x0a, 0x05, 0x01, 0x03, 0x00, 0x6a, 0x0b}),
                   "invalid function body");
  // Sections out of order (function section after code section).
  expect_malformed(with_header({0x01, 0x04, 0x01, 0x60, 0x00, 0x00,  //
                                0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,  //
                                0x03, 0x02, 0x01, 0x00}),
                   "sections out of order");
  expect_malformed(with_header({0x05, 0x03, 0x01, 0x00, 0x01,  // memory min 1
                                0x05, 0x03, 0x01, 0x00, 0x01}),
                   "duplicate section");
  // Trailing junk after the last section.
  expect_malformed(with_header({0x00, 0x03, 0x01, 0x61, 0x00, 0xff}), "trailing bytes");
}

// An engine loads core modules only: a component (which the run pipeline and `wasmcap compile`
// split into its core modules first) is module_unsupported, naming what it imports; a malformed
// one gets the component decoder's error.
TEST(EngineMalformed, AComponentIsNamedNotLoaded) {
  auto engine = testing::make_test_engine();
  std::vector<uint8_t> c = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
  const std::string import = "wasi:cli/stdout@0.2.0";
  c.insert(c.end(), {0x0a, static_cast<uint8_t>(import.size() + 5), 0x01, 0x00, static_cast<uint8_t>(import.size())});
  c.insert(c.end(), import.begin(), import.end());
  c.insert(c.end(), {0x03, 0x01});
  auto m = engine->load(c.data(), c.size());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kModuleUnsupported) << m.error().to_string();
  EXPECT_NE(m.error().message.find("this is a WebAssembly component (WASI Preview 2, component binary version 0x0d)"),
            std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("It needs 1 import: \"wasi:cli/stdout@0.2.0\" (type)"), std::string::npos)
      << m.error().message;
  std::vector<uint8_t> bad = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x03, 0x01, 0x70, 0x05};
  auto b = engine->load(bad.data(), bad.size());
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, ErrorCode::kModuleMalformed) << b.error().to_string();
  EXPECT_NE(b.error().message.find("type index 5 is out of range"), std::string::npos) << b.error().message;
}

TEST(EngineMalformed, EveryTruncationFailsCleanly) {
  auto bytes = guest_bytes("traps");
  ASSERT_GT(bytes.size(), 100u);
  auto engine = testing::make_test_engine();
  size_t failures = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto m = engine->load(bytes.data(), n);
    if (!m) {
      ++failures;
      EXPECT_EQ(m.error().code, ErrorCode::kModuleMalformed) << "prefix " << n;
    }
  }
  // Only prefixes that end exactly on a section boundary can be valid modules.
  EXPECT_GE(failures, bytes.size() - 16);
  // A cut in the middle of the code section is never valid.
  auto m = engine->load(bytes.data(), bytes.size() - 3);
  EXPECT_FALSE(m.has_value());
}

TEST(EngineMalformed, RandomMutationsNeverCrash) {
  if (testing::test_engine_name() == "aot") {
    // Would compile every mutant that validates (~1 s each). The AOT loader validates with this
    // same (interpreter) loader first; its translator gets the mutants in
    // AotTranslate.RandomMutationsNeverCrash, without the C compiler.
    GTEST_SKIP() << "covered by AotTranslate.RandomMutationsNeverCrash";
  }
  std::mt19937 rng(12345);
  auto engine = testing::make_test_engine();
  int loaded = 0, rejected = 0;
  for (const char* name : {"traps", "features", "probe"}) {
    auto orig = guest_bytes(name);
    ASSERT_FALSE(orig.empty());
    for (int i = 0; i < 700; ++i) {
      auto b = orig;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        size_t pos = 8 + rng() % (b.size() - 8);
        switch (rng() % 3) {
          case 0: b[pos] = static_cast<uint8_t>(rng()); break;
          case 1: b[pos] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
          case 2: b.erase(b.begin() + static_cast<long>(pos)); break;
        }
      }
      auto m = engine->load(b.data(), b.size());
      if (m) {
        ++loaded;
      } else {
        ++rejected;
        EXPECT_TRUE(m.error().code == ErrorCode::kModuleMalformed ||
                    m.error().code == ErrorCode::kModuleUnsupported)
            << m.error().to_string();
      }
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(loaded + rejected, 2100);
}

// --- module description ---------------------------------------------------------------------

TEST(EngineInfo, ImportsExportsAndMemory) {
  auto engine = testing::make_test_engine();
  auto bytes = guest_bytes("info");
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  const ModuleInfo& info = (*m)->info();
  EXPECT_EQ(info.size_bytes, bytes.size());
  EXPECT_EQ(info.defined_funcs, 3u);

  ASSERT_EQ(info.imports.size(), 2u);
  EXPECT_EQ(info.imports[0].module, "env");
  EXPECT_EQ(info.imports[0].name, "log");
  EXPECT_EQ(info.imports[0].kind, ExternKind::kFunc);
  EXPECT_EQ(info.imports[0].sig, (FuncSig{{ValType::kI32, ValType::kI64}, {ValType::kF32}}));
  EXPECT_EQ(info.imports[0].sig.to_string(), "(i32, i64) -> (f32)");
  EXPECT_EQ(info.imports[1].module, "wasi_snapshot_preview1");
  EXPECT_EQ(info.imports[1].name, "proc_exit");
  EXPECT_EQ(info.imports[1].sig, (FuncSig{{ValType::kI32}, {}}));

  ASSERT_EQ(info.exports.size(), 5u);
  const ExportDesc* mem = info.find_export("memory");
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ(mem->kind, ExternKind::kMemory);
  EXPECT_EQ(mem->memory.min_pages, 2u);
  EXPECT_TRUE(mem->memory.has_max);
  EXPECT_EQ(mem->memory.max_pages, 10u);
  const ExportDesc* g = info.find_export("counter");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->kind, ExternKind::kGlobal);
  const ExportDesc* t = info.find_export("tbl");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->kind, ExternKind::kTable);
  const ExportDesc* run = info.find_export("run");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->kind, ExternKind::kFunc);
  EXPECT_EQ(run->sig, (FuncSig{{ValType::kF64}, {ValType::kI32, ValType::kI64}}));
  ASSERT_NE(info.find_export("_start"), nullptr);
  EXPECT_EQ(info.find_export("internal"), nullptr);
  EXPECT_EQ(info.find_export("missing"), nullptr);

  ASSERT_EQ(info.memories.size(), 1u);
  EXPECT_EQ(info.memories[0].min_pages, 2u);
  EXPECT_EQ(info.memories[0].max_pages, 10u);
  EXPECT_TRUE(info.memories[0].has_max);
  EXPECT_FALSE(info.memories[0].is64);
  EXPECT_FALSE(info.memories[0].shared);
}

TEST(EngineInfo, MemoryWithoutMaximum) {
  auto engine = testing::make_test_engine();
  auto bytes = guest_bytes("traps");
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ((*m)->info().memories.size(), 1u);
  EXPECT_EQ((*m)->info().memories[0].min_pages, 1u);
  EXPECT_FALSE((*m)->info().memories[0].has_max);
  EXPECT_TRUE((*m)->info().imports.empty());
}

// --- linking --------------------------------------------------------------------------------

TEST(EngineLink, UnknownImportNamesIt) {
  Loaded l;
  l.host = exit_only_table();
  auto inst = try_instantiate(l, "info");
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code, ErrorCode::kLinkError);
  EXPECT_NE(inst.error().message.find("env.log"), std::string::npos) << inst.error().message;
}

TEST(EngineLink, UnknownModuleNamesIt) {
  Loaded l;  // empty host table: nothing granted at all
  auto inst = try_instantiate(l, "info");
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code, ErrorCode::kLinkError);
  EXPECT_NE(inst.error().message.find("env.log"), std::string::npos) << inst.error().message;
}

TEST(EngineLink, SignatureMismatchNamesImportAndBothSignatures) {
  Loaded l;
  l.host = exit_only_table();
  // Right name, wrong signature: (i32, i32) -> (f32) instead of (i32, i64) -> (f32).
  l.host.add(host_func("env", "log", {{ValType::kI32, ValType::kI32}, {ValType::kF32}},
                       [](HostContext&, const Value*, Value*) { return HostCallResult::ok(); }));
  auto inst = try_instantiate(l, "info");
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code, ErrorCode::kLinkError);
  const std::string& msg = inst.error().message;
  EXPECT_NE(msg.find("env.log"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(i32, i64) -> (f32)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(i32, i32) -> (f32)"), std::string::npos) << msg;
}

TEST(EngineLink, ResultMismatchIsALinkError) {
  Loaded l;
  l.host = exit_only_table();
  l.host.add(host_func("env", "log", {{ValType::kI32, ValType::kI64}, {}},
                       [](HostContext&, const Value*, Value*) { return HostCallResult::ok(); }));
  auto inst = try_instantiate(l, "info");
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code, ErrorCode::kLinkError);
}

TEST(EngineLink, CorrectHostTableLinks) {
  HostFuncTable t = exit_only_table();
  t.add(host_func("env", "log", {{ValType::kI32, ValType::kI64}, {ValType::kF32}},
                  [](HostContext&, const Value*, Value* r) {
                    r[0] = Value::F32(1.5f);
                    return HostCallResult::ok();
                  }));
  auto l = instantiate("info", std::move(t));
  ASSERT_TRUE(l->instance);
  auto r = l->instance->call("run", {Value::F64(0)});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->results.size(), 2u);
  EXPECT_EQ(r->results[0].i32, 1u);
  EXPECT_EQ(r->results[1].i64, 2u);
}

TEST(EngineLink, NonFunctionImportsAreLinkErrors) {
  for (auto [guest, name] : {std::pair{"link_memory_import", "env.mem"},
                             std::pair{"link_global_import", "env.g"},
                             std::pair{"link_table_import", "env.tab"}}) {
    Loaded l;
    auto inst = try_instantiate(l, guest);
    ASSERT_FALSE(inst.has_value()) << guest;
    EXPECT_EQ(inst.error().code, ErrorCode::kLinkError) << guest;
    EXPECT_NE(inst.error().message.find(name), std::string::npos) << inst.error().message;
  }
}

TEST(EngineLink, ModuleFromAnotherEngineObjectStillWorks) {
  // Two engine objects of the same kind: a module loaded by one instantiates on the other.
  auto e1 = testing::make_test_engine();
  auto e2 = testing::make_test_engine();
  auto bytes = guest_bytes("values");
  auto m = e1->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value());
  HostFuncTable t;
  auto inst = e2->instantiate(*m, t, {});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  auto r = (*inst)->call("add_i32", {Value::I32(2), Value::I32(3)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->results[0].i32, 5u);
}

// --- calls and values -----------------------------------------------------------------------

TEST(EngineCall, ValuesRoundTrip) {
  auto l = instantiate("values");
  ASSERT_TRUE(l->instance);
  Instance& in = *l->instance;
  for (uint32_t v : {0u, 1u, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
    auto r = in.call("id_i32", {Value::I32(v)});
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->results.size(), 1u);
    EXPECT_EQ(r->results[0].type, ValType::kI32);
    EXPECT_EQ(r->results[0].i32, v);
  }
  for (uint64_t v : {uint64_t{0}, uint64_t{1} << 32, ~uint64_t{0}, uint64_t{0x8000000000000000},
                     uint64_t{0x0123456789abcdef}}) {
    auto r = in.call("id_i64", {Value::I64(v)});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->results[0].type, ValType::kI64);
    EXPECT_EQ(r->results[0].i64, v);
  }
  for (float v : {0.0f, -0.0f, 1.5f, -3.25e38f, std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::denorm_min()}) {
    auto r = in.call("id_f32", {Value::F32(v)});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->results[0].type, ValType::kF32);
    EXPECT_EQ(std::memcmp(&r->results[0].f32, &v, 4), 0) << v;
  }
  for (double v : {0.0, -0.0, 3.141592653589793, -1e308, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::denorm_min()}) {
    auto r = in.call("id_f64", {Value::F64(v)});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->results[0].type, ValType::kF64);
    EXPECT_EQ(std::memcmp(&r->results[0].f64, &v, 8), 0) << v;
  }
  auto nan = in.call("id_f64", {Value::F64(std::numeric_limits<double>::quiet_NaN())});
  ASSERT_TRUE(nan.has_value());
  EXPECT_TRUE(std::isnan(nan->results[0].f64));

  auto add = in.call("add_i32", {Value::I32(0xffffffffu), Value::I32(2)});
  ASSERT_TRUE(add.has_value());
  EXPECT_EQ(add->results[0].i32, 1u);  // wraps

  auto mix = in.call("mix", {Value::I32(static_cast<uint32_t>(-5)), Value::I64(1000000000000ull),
                             Value::F32(0.5f), Value::F64(0.25)});
  ASSERT_TRUE(mix.has_value());
  EXPECT_DOUBLE_EQ(mix->results[0].f64, 1000000000000.0 - 5 + 0.75);

  auto swap = in.call("swap4", {Value::I32(7), Value::I64(8), Value::F32(9.5f), Value::F64(10.5)});
  ASSERT_TRUE(swap.has_value()) << swap.error().to_string();
  ASSERT_EQ(swap->results.size(), 4u);
  EXPECT_EQ(swap->results[0].type, ValType::kF64);
  EXPECT_EQ(swap->results[0].f64, 10.5);
  EXPECT_EQ(swap->results[1].type, ValType::kF32);
  EXPECT_EQ(swap->results[1].f32, 9.5f);
  EXPECT_EQ(swap->results[2].type, ValType::kI64);
  EXPECT_EQ(swap->results[2].i64, 8u);
  EXPECT_EQ(swap->results[3].type, ValType::kI32);
  EXPECT_EQ(swap->results[3].i32, 7u);

  auto nothing = in.call("nothing", {});
  ASSERT_TRUE(nothing.has_value());
  EXPECT_TRUE(nothing->results.empty());
  EXPECT_FALSE(nothing->exited);
}

TEST(EngineCall, BadCallsAreErrors) {
  auto l = instantiate("info", [] {
    HostFuncTable t = exit_only_table();
    t.add(host_func("env", "log", {{ValType::kI32, ValType::kI64}, {ValType::kF32}},
                    [](HostContext&, const Value*, Value*) { return HostCallResult::ok(); }));
    return t;
  }());
  ASSERT_TRUE(l->instance);
  auto missing = l->instance->call("does_not_exist", {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNoEntryPoint);
  EXPECT_NE(missing.error().message.find("does_not_exist"), std::string::npos);
  // Exports that are not functions cannot be called.
  for (const char* name : {"memory", "counter", "tbl"}) {
    auto r = l->instance->call(name, {});
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kNoEntryPoint) << name;
  }
  auto arity = l->instance->call("run", {});
  ASSERT_FALSE(arity.has_value());
  EXPECT_EQ(arity.error().code, ErrorCode::kInvalidArgument);
  auto arity2 = l->instance->call("run", {Value::F64(1), Value::F64(2)});
  ASSERT_FALSE(arity2.has_value());
  EXPECT_EQ(arity2.error().code, ErrorCode::kInvalidArgument);
}

// Boundary values (guest/tests/wat/boundary.wat): what the core spec tests rely on.
HostFuncTable seven_table() {
  HostFuncTable t;
  t.add(host_func("env", "seven", {{}, {ValType::kI32}}, [](HostContext&, const Value*, Value* r) {
    r[0] = Value::I32(7);
    return HostCallResult::ok();
  }));
  return t;
}

TEST(EngineCall, ReexportedHostImportReturnsItsResults) {
  auto l = instantiate("boundary", seven_table());
  ASSERT_TRUE(l->instance);
  auto r = l->instance->call("seven", {});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->results.size(), 1u);
  EXPECT_EQ(r->results[0].type, ValType::kI32);
  EXPECT_EQ(r->results[0].i32, 7u);
}

TEST(EngineCall, V128CrossesTheBoundary) {
  if (testing::test_engine_name() == "aot") {
    // Declared, not silent: the AOT translator refuses SIMD modules at load (the interpreter
    // runs them).
    auto engine = testing::make_test_engine();
    auto bytes = guest_bytes("boundary_simd");
    auto m = engine->load(bytes.data(), bytes.size());
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code, ErrorCode::kModuleUnsupported);
    return;
  }
  auto l = instantiate("boundary_simd");
  ASSERT_TRUE(l->instance);
  uint8_t a[16], b[16];
  for (int i = 0; i < 16; ++i) {
    a[i] = static_cast<uint8_t>(i);
    b[i] = static_cast<uint8_t>(0x10 * (i % 4));
  }
  auto r = l->instance->call("add_i32x4", {Value::V128(a), Value::V128(b)});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->results.size(), 1u);
  ASSERT_EQ(r->results[0].type, ValType::kV128);
  for (int lane = 0; lane < 4; ++lane) {
    uint32_t x, y, z;
    std::memcpy(&x, a + 4 * lane, 4);
    std::memcpy(&y, b + 4 * lane, 4);
    std::memcpy(&z, r->results[0].v128 + 4 * lane, 4);
    EXPECT_EQ(z, x + y) << "lane " << lane;
  }
}

TEST(EngineCall, ArgumentTypesAreChecked) {
  auto l = instantiate("boundary", seven_table());
  ASSERT_TRUE(l->instance);
  auto ok = l->instance->call("mix", {Value::I32(2), Value::I64(40), Value::F32(0), Value::F64(0)});
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->results[0].i64, 42u);
  // Right arity, wrong type in each position: refused, naming the position and both types.
  std::vector<std::vector<Value>> bad = {
      {Value::I64(2), Value::I64(40), Value::F32(0), Value::F64(0)},
      {Value::I32(2), Value::I32(40), Value::F32(0), Value::F64(0)},
      {Value::I32(2), Value::I64(40), Value::F64(0), Value::F64(0)},
      {Value::I32(2), Value::I64(40), Value::F32(0), Value::F32(0)},
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    auto r = l->instance->call("mix", bad[i]);
    ASSERT_FALSE(r.has_value()) << i;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << i;
    EXPECT_NE(r.error().message.find("argument " + std::to_string(i)), std::string::npos)
        << r.error().message;
  }
}

TEST(EngineCall, ExportedGlobalsCanBeRead) {
  auto l = instantiate("boundary", seven_table());
  ASSERT_TRUE(l->instance);
  auto i32 = l->instance->get_global("g_i32");
  ASSERT_TRUE(i32.has_value()) << i32.error().to_string();
  EXPECT_EQ(i32->type, ValType::kI32);
  EXPECT_EQ(static_cast<int32_t>(i32->i32), -5);
  auto i64 = l->instance->get_global("g_i64");
  ASSERT_TRUE(i64.has_value());
  EXPECT_EQ(i64->i64, 1234567890123u);
  auto f32 = l->instance->get_global("g_f32");
  ASSERT_TRUE(f32.has_value());
  EXPECT_EQ(f32->f32, 1.5f);
  auto f64 = l->instance->get_global("g_f64");
  ASSERT_TRUE(f64.has_value());
  EXPECT_EQ(f64->f64, -2.25);
  if (testing::test_engine_name() != "aot") {  // aot does not translate SIMD
    auto simd = instantiate("boundary_simd");
    ASSERT_TRUE(simd->instance);
    auto v = simd->instance->get_global("g_v128");
    ASSERT_TRUE(v.has_value());
    ASSERT_EQ(v->type, ValType::kV128);
    for (uint32_t lane = 0; lane < 4; ++lane) {
      uint32_t x;
      std::memcpy(&x, v->v128 + 4 * lane, 4);
      EXPECT_EQ(x, lane + 1);
    }
  }
  // A reference global cannot be read from the host; a function is not a global; a missing
  // name is not_found.
  auto ref = l->instance->get_global("g_ref");
  ASSERT_FALSE(ref.has_value());
  EXPECT_EQ(ref.error().code, ErrorCode::kModuleUnsupported);
  auto fn = l->instance->get_global("mix");
  ASSERT_FALSE(fn.has_value());
  EXPECT_EQ(fn.error().code, ErrorCode::kNotFound);
  auto missing = l->instance->get_global("nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(EngineMalformed, CustomSectionWithInvalidUtf8NameIsRejected) {
  auto engine = testing::make_test_engine();
  // Header, then custom section (id 0, size 3): name length 2, bytes 0xff 0xfe (not UTF-8).
  std::vector<uint8_t> bytes = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                0x00, 0x03, 0x02, 0xff, 0xfe};
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kModuleMalformed);
  // The same section with a valid name loads.
  std::vector<uint8_t> good = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                               0x00, 0x03, 0x02, 'h', 'i'};
  auto g = engine->load(good.data(), good.size());
  EXPECT_TRUE(g.has_value()) << g.error().to_string();
}

TEST(EngineCall, InstancesShareNoState) {
  auto a = instantiate("traps");
  auto b = instantiate("traps");
  ASSERT_TRUE(a->instance && b->instance);
  GuestMemory ma = a->instance->memory();
  GuestMemory mb = b->instance->memory();
  ASSERT_TRUE(ma.valid() && mb.valid());
  EXPECT_EQ(ma.size(), kWasmPageSize);
  ASSERT_TRUE(ma.store<uint32_t>(100, 0xdeadbeef));
  uint32_t v = 1;
  ASSERT_TRUE(mb.load<uint32_t>(100, &v));
  EXPECT_EQ(v, 0u);
  // Two instances of one module object, too.
  Loaded l;
  l.module = load_or_die(*l.engine, guest_bytes("traps"));
  auto i1 = l.engine->instantiate(l.module, l.host, {});
  auto i2 = l.engine->instantiate(l.module, l.host, {});
  ASSERT_TRUE(i1 && i2);
  ASSERT_TRUE((*i1)->memory().store<uint32_t>(8, 77));
  ASSERT_TRUE((*i2)->memory().load<uint32_t>(8, &v));
  EXPECT_EQ(v, 0u);
}

TEST(EngineCall, GuestMemoryViewIsBoundsChecked) {
  auto l = instantiate("traps");
  ASSERT_TRUE(l->instance);
  GuestMemory m = l->instance->memory();
  EXPECT_TRUE(m.in_bounds(0, kWasmPageSize));
  EXPECT_FALSE(m.in_bounds(1, kWasmPageSize));
  EXPECT_FALSE(m.in_bounds(kWasmPageSize, 1));
  EXPECT_TRUE(m.in_bounds(kWasmPageSize, 0));
  EXPECT_EQ(m.range(0xFFFFFFF0u, 16), nullptr);
  EXPECT_EQ(m.range(~uint64_t{0}, 2), nullptr);  // offset + len overflows
  EXPECT_EQ(m.range(8, ~uint64_t{0}), nullptr);
  uint64_t x;
  EXPECT_FALSE(m.load(kWasmPageSize - 4, &x));
  EXPECT_FALSE(m.store<uint64_t>(kWasmPageSize - 7, 1));
  GuestMemory none;
  EXPECT_FALSE(none.valid());
  EXPECT_FALSE(none.in_bounds(0, 0));
  // A module without memory gives an invalid view.
  auto v = instantiate("values");
  ASSERT_TRUE(v->instance);
  EXPECT_FALSE(v->instance->memory().valid());
}

}  // namespace
}  // namespace wasmcap
