// Memories and globals shared between instances (wasmcap/engine.h, SharedExtern;
// Instance::export_extern, HostFuncTable::add_extern) and calls back into a running instance
// (re-entrant), as the core instances of a component need them: the rules that keep them
// bounded — a shared memory's bounds hold in every instance after a grow by any of them, its
// cap is the memory's (set once), calls nested through host functions are bounded.
//
// On interp and aot (docs/aot.md, "Shared memories and globals"); what aot does not share
// (funcref globals) and handles of another engine are refused. Tables shared between instances:
// SharedTables below, on both engines (docs/fast-interp.md and docs/aot.md, "Shared tables").
//
// C++17: the modules are written as .wat and compiled with wabt's library.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/aot/translate.h"
#include "wasmcap/engine.h"
#include "wat_to_wasm.h"
#include "test_paths.h"

namespace wasmcap {
namespace {

using Bytes = std::vector<uint8_t>;

class Sharing : public ::testing::TestWithParam<std::string> {
 public:
  // interp, or aot compiling into the tests' shared cache (each module once per build tree).
  static std::unique_ptr<Engine> make(const std::string& name) {
    if (name != "aot") return make_fast_engine();
    AotOptions o;
    o.cache_dir = test_paths::aot_test_cache();
    o.opt_level = 1;
    return make_aot_engine(o);
  }

 protected:
  void SetUp() override { engine_ = make(GetParam()); }

  Result<std::unique_ptr<Instance>> try_instantiate(const std::string& wat,
                                                    const ExecLimits& limits = {}) {
    Bytes b = wat::wat_to_wasm(wat);
    auto m = engine_->load(b.data(), b.size());
    if (!m) return tl::unexpected(m.error());
    return engine_->instantiate(*m, host_, limits);
  }
  std::unique_ptr<Instance> instantiate(const std::string& wat, const ExecLimits& limits = {}) {
    auto inst = try_instantiate(wat, limits);
    EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
    return inst ? std::move(*inst) : nullptr;
  }
  // Makes export `name` of `from` importable as ("a", name).
  void share(Instance& from, const std::string& name) {
    auto ext = from.export_extern(name);
    ASSERT_TRUE(ext.has_value()) << ext.error().to_string();
    host_.add_extern("a", name, *ext);
  }
  static uint32_t call_i32(Instance& inst, const std::string& f, std::vector<Value> args = {}) {
    auto r = inst.call(f, args);
    EXPECT_TRUE(r.has_value()) << f << ": " << r.error().to_string();
    return r && !r->results.empty() ? r->results[0].i32 : 0xdeadbeef;
  }

  std::unique_ptr<Engine> engine_;
  HostFuncTable host_;
};

INSTANTIATE_TEST_SUITE_P(Engines, Sharing, ::testing::Values("interp", "aot"),
                         [](const auto& info) { return info.param; });

const char* kExporter =
    "(module (memory (export \"mem\") 1 4)"
    "  (global (export \"g\") (mut i32) (i32.const 7))"
    "  (func (export \"load\") (param i32) (result i32) (i32.load (local.get 0)))"
    "  (func (export \"store\") (param i32 i32) (i32.store (local.get 0) (local.get 1)))"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))"
    "  (func (export \"size\") (result i32) (memory.size))"
    "  (func (export \"get\") (result i32) (global.get 0)))";

const char* kImporter =
    "(module (import \"a\" \"mem\" (memory 1))"
    "  (import \"a\" \"g\" (global (mut i32)))"
    "  (func (export \"load\") (param i32) (result i32) (i32.load (local.get 0)))"
    "  (func (export \"store\") (param i32 i32) (i32.store (local.get 0) (local.get 1)))"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))"
    "  (func (export \"set\") (param i32) (global.set 0 (local.get 0)))"
    "  (func (export \"get\") (result i32) (global.get 0)))";

TEST_P(Sharing, AnImportedMemoryAndGlobalAreTheExportersNotCopies) {
  auto a = instantiate(kExporter);
  ASSERT_TRUE(a);
  share(*a, "mem");
  share(*a, "g");
  auto b = instantiate(kImporter);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->call("store", {Value::I32(100), Value::I32(0x1234)}));
  EXPECT_EQ(call_i32(*a, "load", {Value::I32(100)}), 0x1234u);
  ASSERT_TRUE(a->call("store", {Value::I32(200), Value::I32(99)}));
  EXPECT_EQ(call_i32(*b, "load", {Value::I32(200)}), 99u);
  // The host's view of either instance's memory is the same bytes.
  EXPECT_EQ(a->memory().range(0, 1), b->memory().range(0, 1));

  EXPECT_EQ(call_i32(*b, "get"), 7u);
  ASSERT_TRUE(b->call("set", {Value::I32(41)}));
  EXPECT_EQ(call_i32(*a, "get"), 41u);
  auto g = b->get_global("g");
  EXPECT_FALSE(g.has_value());  // not exported by b
  auto ga = a->get_global("g");
  ASSERT_TRUE(ga.has_value()) << ga.error().to_string();
  EXPECT_EQ(ga->i32, 41u);
}

// A grow by either instance is seen by both: the new page is accessible through each, and
// whatever lies past the new size still traps in each.
TEST_P(Sharing, AGrowByEitherMovesTheBoundsOfBoth) {
  auto a = instantiate(kExporter);
  ASSERT_TRUE(a);
  share(*a, "mem");
  share(*a, "g");
  auto b = instantiate(kImporter);
  ASSERT_TRUE(b);
  const uint32_t page2 = 65536 + 8;
  auto before = a->call("load", {Value::I32(page2)});
  ASSERT_FALSE(before.has_value());
  EXPECT_EQ(before.error().code, ErrorCode::kTrapMemoryOutOfBounds);

  EXPECT_EQ(call_i32(*b, "grow", {Value::I32(1)}), 1u);  // b grows: 2 pages
  ASSERT_TRUE(a->call("store", {Value::I32(page2), Value::I32(5)}));
  EXPECT_EQ(call_i32(*b, "load", {Value::I32(page2)}), 5u);
  EXPECT_EQ(call_i32(*a, "size"), 2u);
  EXPECT_EQ(a->memory().size(), 2 * 65536u);
  EXPECT_EQ(b->memory().size(), 2 * 65536u);
  for (Instance* i : {a.get(), b.get()}) {
    auto past = i->call("load", {Value::I32(2 * 65536 - 2)});
    ASSERT_FALSE(past.has_value());
    EXPECT_EQ(past.error().code, ErrorCode::kTrapMemoryOutOfBounds);
  }
  EXPECT_EQ(call_i32(*a, "grow", {Value::I32(1)}), 2u);  // a grows: 3 pages
  EXPECT_EQ(call_i32(*b, "load", {Value::I32(2 * 65536 + 4)}), 0u);
}

// The cap is the memory's, set once by the instance that defines it (its declared maximum and
// its ExecLimits), and counts what every importer grew: an importer with a larger cap of its own
// grows it no further.
TEST_P(Sharing, TheMemoryCapIsTheMemorysOnceNotEachImporters) {
  ExecLimits small;
  small.max_memory_pages = 3;
  auto a = instantiate(kExporter, small);  // declared max 4, cap 3
  ASSERT_TRUE(a);
  share(*a, "mem");
  share(*a, "g");
  ExecLimits big;
  big.max_memory_pages = 1000;
  auto b = instantiate(kImporter, big);
  ASSERT_TRUE(b);
  EXPECT_EQ(call_i32(*b, "grow", {Value::I32(1)}), 1u);
  EXPECT_EQ(call_i32(*a, "grow", {Value::I32(1)}), 2u);
  EXPECT_EQ(call_i32(*b, "grow", {Value::I32(1)}), 0xffffffffu);  // 4 > the cap of 3
  EXPECT_EQ(call_i32(*a, "grow", {Value::I32(1)}), 0xffffffffu);
  EXPECT_EQ(call_i32(*a, "size"), 3u);
  EXPECT_EQ(b->memory().size(), 3 * 65536u);
}

// A host function the guest calls grows the memory (here through the other instance): the
// caller's code goes on with the new bounds, not the ones it had before the call.
TEST_P(Sharing, AHostCallThatGrowsTheSharedMemoryLeavesNoStaleBounds) {
  auto a = instantiate(kExporter);
  ASSERT_TRUE(a);
  share(*a, "mem");
  share(*a, "g");
  Instance* exporter = a.get();
  host_.add(HostFunc{"h", "grow_other", FuncSig{{}, {}},
                     [&](HostContext&, const Value*, Value*) {
                       auto r = exporter->call("grow", {Value::I32(1)});
                       if (!r) return HostCallResult::fail(r.error());
                       return HostCallResult::ok();
                     }});
  auto b = instantiate(
      "(module (import \"a\" \"mem\" (memory 1)) (import \"h\" \"grow_other\" (func $grow))"
      "  (func (export \"f\") (result i32)"
      "    (i32.store (i32.const 65540) (i32.const 9))"  // traps: one page
      "    (i32.const 0))"
      "  (func (export \"g\") (result i32)"
      "    (call $grow)"
      "    (i32.store (i32.const 65540) (i32.const 11))"
      "    (i32.load (i32.const 65540))))");
  ASSERT_TRUE(b);
  auto f = b->call("f", {});
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ErrorCode::kTrapMemoryOutOfBounds);
  EXPECT_EQ(call_i32(*b, "g"), 11u);
  EXPECT_EQ(call_i32(*a, "load", {Value::I32(65540)}), 11u);
}

// The same through a re-entrant call: the host function calls back into the instance that is
// running it, whose inner call grows the memory; the outer call then uses the new page.
TEST_P(Sharing, AReentrantCallThatGrowsMemoryLeavesNoStaleBounds) {
  Instance* self = nullptr;
  host_.add(HostFunc{"h", "cb", FuncSig{{ValType::kI32}, {ValType::kI32}},
                     [&](HostContext&, const Value* args, Value* results) {
                       auto r = self->call("inner", {args[0]});
                       if (!r) return HostCallResult::fail(r.error());
                       results[0] = r->results[0];
                       return HostCallResult::ok();
                     }});
  auto inst = instantiate(
      "(module (import \"h\" \"cb\" (func $cb (param i32) (result i32))) (memory 1)"
      "  (func (export \"inner\") (param i32) (result i32)"
      "    (drop (memory.grow (i32.const 1)))"
      "    (i32.store (i32.const 65536) (local.get 0))"
      "    (i32.add (local.get 0) (i32.const 1)))"
      "  (func (export \"outer\") (param i32) (result i32) (local i32)"
      "    (local.set 1 (i32.mul (local.get 0) (i32.const 3)))"  // live across the call
      "    (i32.add (i32.add (call $cb (local.get 0)) (i32.load (i32.const 65536)))"
      "             (local.get 1))))");
  ASSERT_TRUE(inst);
  self = inst.get();
  // cb(10) = 11 (the inner call ran), the load reads the 10 it stored in the new page, and the
  // outer frame's local (30) survived the inner call.
  EXPECT_EQ(call_i32(*inst, "outer", {Value::I32(10)}), 11u + 10u + 30u);
  EXPECT_EQ(inst->memory().size(), 2 * 65536u);
}

// A guest whose host function calls back into it, forever: the nesting is bounded
// (kMaxCallNesting) and ends the run with trap_stack_exhausted, not the host's stack.
TEST_P(Sharing, CallsNestedThroughHostFunctionsAreBounded) {
  Instance* self = nullptr;
  int deepest = 0, depth = 0;
  host_.add(HostFunc{"h", "again", FuncSig{{}, {}}, [&](HostContext&, const Value*, Value*) {
                       deepest = std::max(deepest, ++depth);
                       auto r = self->call("f", {});
                       --depth;
                       if (!r) return HostCallResult::fail(r.error());
                       return HostCallResult::ok();
                     }});
  auto inst = instantiate(
      "(module (import \"h\" \"again\" (func $again)) (func (export \"f\") (call $again)))");
  ASSERT_TRUE(inst);
  self = inst.get();
  auto r = inst->call("f", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTrapStackExhausted) << r.error().to_string();
  EXPECT_NE(r.error().message.find("nested through host functions"), std::string::npos)
      << r.error().to_string();
  EXPECT_EQ(deepest, static_cast<int>(kMaxCallNesting));
  // Not stuck: the instance takes calls again (a host function that does not call back).
  auto ok = instantiate("(module (func (export \"f\")))");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->call("f", {}).has_value());
}

// Imports are checked against what is linked: the kind, a memory's size and maximum, a global's
// type and mutability, and that something is linked at all.
TEST_P(Sharing, ImportsAreCheckedAgainstWhatIsLinked) {
  auto a = instantiate(kExporter);
  ASSERT_TRUE(a);
  share(*a, "mem");
  share(*a, "g");
  auto expect_link_error = [&](const std::string& wat, const std::string& words) {
    auto r = try_instantiate(wat);
    ASSERT_FALSE(r.has_value()) << wat;
    EXPECT_EQ(r.error().code, ErrorCode::kLinkError) << r.error().to_string();
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().to_string();
  };
  expect_link_error("(module (import \"a\" \"mem\" (memory 2)))", "at least 2 pages");
  expect_link_error("(module (import \"a\" \"mem\" (memory 1 3)))", "at most 3 pages");
  expect_link_error("(module (import \"a\" \"g\" (global i32)))", "another type");
  expect_link_error("(module (import \"a\" \"g\" (global (mut i64))))", "another type");
  expect_link_error("(module (import \"a\" \"g\" (memory 1)))", "is a memory");
  expect_link_error("(module (import \"a\" \"nope\" (memory 1)))", "unknown import");
  // A fitting maximum links.
  EXPECT_TRUE(try_instantiate("(module (import \"a\" \"mem\" (memory 1 4)))").has_value());
}

// What an importer holds keeps the storage alive: the exporter can go first.
TEST_P(Sharing, TheImporterOutlivesTheExporter) {
  auto a = instantiate(kExporter);
  ASSERT_TRUE(a);
  share(*a, "mem");
  share(*a, "g");
  ASSERT_TRUE(a->call("store", {Value::I32(8), Value::I32(77)}));
  auto b = instantiate(kImporter);
  ASSERT_TRUE(b);
  a.reset();
  host_ = HostFuncTable();
  EXPECT_EQ(call_i32(*b, "load", {Value::I32(8)}), 77u);
  ASSERT_TRUE(b->call("set", {Value::I32(3)}));
  EXPECT_EQ(call_i32(*b, "get"), 3u);
  EXPECT_EQ(call_i32(*b, "grow", {Value::I32(1)}), 1u);
}

// A host function whose inner call into the instance exits (proc_exit-like) and which then fails
// itself: the outer call ends with the host function's error, not with the inner call's exit
// (each nested call's outcome is its own).
TEST_P(Sharing, EachNestedCallHasItsOwnOutcome) {
  Instance* self = nullptr;
  host_.add(HostFunc{"h", "quit", FuncSig{{}, {}},
                     [](HostContext&, const Value*, Value*) { return HostCallResult::exit(3); }});
  host_.add(HostFunc{"h", "cb", FuncSig{{}, {}}, [&](HostContext&, const Value*, Value*) {
                       auto r = self->call("inner", {});
                       EXPECT_TRUE(r.has_value() && r->exited && r->exit_code == 3);
                       return HostCallResult::fail(Error(ErrorCode::kTrapHost, "cb gives up"));
                     }});
  auto inst = instantiate(
      "(module (import \"h\" \"quit\" (func $quit)) (import \"h\" \"cb\" (func $cb))"
      "  (func (export \"inner\") (call $quit))"
      "  (func (export \"outer\") (result i32) (call $cb) (i32.const 1)))");
  ASSERT_TRUE(inst);
  self = inst.get();
  auto r = inst->call("outer", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTrapHost);
  EXPECT_NE(r.error().message.find("cb gives up"), std::string::npos) << r.error().to_string();
  // And the instance runs on.
  ASSERT_TRUE(inst->call("inner", {}).has_value());
}

// A module that re-exports an imported memory and global hands out the storage it imported: a
// third instance importing them from it shares the first instance's.
TEST_P(Sharing, AReexportedImportIsTheOriginal) {
  auto a = instantiate(kExporter);
  ASSERT_TRUE(a);
  share(*a, "mem");
  share(*a, "g");
  auto b = instantiate(
      "(module (import \"a\" \"mem\" (memory 1)) (import \"a\" \"g\" (global (mut i32)))"
      "  (export \"mem2\" (memory 0)) (export \"g2\" (global 0)))");
  ASSERT_TRUE(b);
  share(*b, "mem2");
  share(*b, "g2");
  auto c = instantiate(
      "(module (import \"a\" \"mem2\" (memory 1)) (import \"a\" \"g2\" (global (mut i32)))"
      "  (func (export \"poke\") (i32.store (i32.const 12) (i32.const 5)) (global.set 0 (i32.const 6))))");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->call("poke", {}));
  EXPECT_EQ(call_i32(*a, "load", {Value::I32(12)}), 5u);
  EXPECT_EQ(call_i32(*a, "get"), 6u);
  auto g2 = b->get_global("g2");
  ASSERT_TRUE(g2.has_value()) << g2.error().to_string();
  EXPECT_EQ(g2->i32, 6u);
}

// What aot does not share is refused at link time, naming the import: globals that are not
// i32/i64/f32/f64. (Tables are shared: SharedTables.)
TEST(SharingAot, ReferenceGlobalsAreRefused) {
  auto engine = Sharing::make("aot");
  HostFuncTable host;
  auto refused = [&](const std::string& wat, const std::string& words) {
    Bytes b = wat::wat_to_wasm(wat);
    auto m = engine->load(b.data(), b.size());
    ASSERT_TRUE(m.has_value()) << m.error().to_string();
    auto i = engine->instantiate(*m, host, {});
    ASSERT_FALSE(i.has_value()) << wat;
    EXPECT_EQ(i.error().code, ErrorCode::kLinkError) << i.error().to_string();
    EXPECT_NE(i.error().message.find(words), std::string::npos) << i.error().to_string();
  };
  refused("(module (import \"a\" \"r\" (global funcref)))", "funcref are not shared");
  // And an exported funcref global is not handed out; a table is.
  Bytes b = wat::wat_to_wasm(
      "(module (table (export \"t\") 1 funcref) (global (export \"r\") funcref (ref.null func))"
      "  (global (export \"x\") i64 (i64.const 9)))");
  auto m = engine->load(b.data(), b.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  auto inst = engine->instantiate(*m, host, {});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  auto r = (*inst)->export_extern("r");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kModuleUnsupported) << r.error().to_string();
  auto t = (*inst)->export_extern("t");
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_EQ((*t)->kind(), ExternKind::kTable);
  auto x = (*inst)->get_global("x");
  ASSERT_TRUE(x.has_value()) << x.error().to_string();
  EXPECT_EQ(x->i64, 9u);
}

// A module that imports a memory and a global is translated in one piece even when it has more
// functions than a unit (the chunked writes see function imports only): it compiles and uses
// the exporter's storage.
TEST(SharingAot, AnImporterWithManyFunctionsIsNotSplit) {
  auto exporter = Sharing::make("aot");
  AotOptions o;
  o.cache_dir = test_paths::aot_test_cache();
  o.opt_level = 1;
  o.unit_functions = 2;
  auto engine = make_aot_engine(o);
  Bytes eb = wat::wat_to_wasm(kExporter);
  auto em = exporter->load(eb.data(), eb.size());
  ASSERT_TRUE(em.has_value()) << em.error().to_string();
  auto a = exporter->instantiate(*em, HostFuncTable(), {});
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  HostFuncTable host;
  host.add(HostFunc{"h", "one", FuncSig{{}, {ValType::kI32}}, [](HostContext&, const Value*, Value* r) {
                      r[0] = Value::I32(1);
                      return HostCallResult::ok();
                    }});
  host.add_extern("a", "mem", *(*a)->export_extern("mem"));
  host.add_extern("a", "g", *(*a)->export_extern("g"));
  Bytes ib = wat::wat_to_wasm(
      "(module (import \"h\" \"one\" (func $one (result i32)))"
      "  (import \"a\" \"mem\" (memory 1)) (import \"a\" \"g\" (global $g (mut i32)))"
      "  (func $f1 (result i32) (i32.add (call $one) (global.get $g)))"
      "  (func $f2 (result i32) (i32.add (call $f1) (i32.load (i32.const 16))))"
      "  (func $f3 (result i32) (global.set $g (call $f2)) (global.get $g))"
      "  (func $f4 (result i32) (i32.store (i32.const 16) (i32.const 100)) (call $f3))"
      "  (func (export \"run\") (result i32) (call $f4)))");
  auto im = engine->load(ib.data(), ib.size());
  ASSERT_TRUE(im.has_value()) << im.error().to_string();
  auto b = engine->instantiate(*im, host, {});
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  auto r = (*b)->call("run", {});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->results[0].i32, 1u + 7u + 100u);
  auto g = (*a)->get_global("g");
  ASSERT_TRUE(g.has_value()) << g.error().to_string();
  EXPECT_EQ(g->i32, 108u);
}

// A memory or global is shared only between instances of one engine: an interp memory imported
// by aot code (whose bounds are page protections of its own reservation, and which would not
// see the interpreter's size change) or the reverse is refused, naming both engines.
TEST(SharingAot, AMemoryOrGlobalOfTheOtherEngineIsRefused) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"interp", "aot"},
                                 std::pair<std::string, std::string>{"aot", "interp"}}) {
    auto exporter = Sharing::make(from);
    auto importer = Sharing::make(to);
    Bytes eb = wat::wat_to_wasm(kExporter);
    auto em = exporter->load(eb.data(), eb.size());
    ASSERT_TRUE(em.has_value()) << em.error().to_string();
    auto a = exporter->instantiate(*em, HostFuncTable(), {});
    ASSERT_TRUE(a.has_value()) << a.error().to_string();
    for (const char* what : {"mem", "g"}) {
      HostFuncTable host;
      auto ext = (*a)->export_extern(what);
      ASSERT_TRUE(ext.has_value()) << ext.error().to_string();
      host.add_extern("a", what, *ext);
      std::string wat = std::string(what) == "mem"
                            ? "(module (import \"a\" \"mem\" (memory 1)))"
                            : "(module (import \"a\" \"g\" (global (mut i32))))";
      Bytes ib = wat::wat_to_wasm(wat);
      auto im = importer->load(ib.data(), ib.size());
      ASSERT_TRUE(im.has_value()) << im.error().to_string();
      auto b = importer->instantiate(*im, host, {});
      ASSERT_FALSE(b.has_value()) << from << " -> " << to << " " << what;
      EXPECT_EQ(b.error().code, ErrorCode::kLinkError) << b.error().to_string();
      EXPECT_NE(b.error().message.find("comes from an instance of engine " + from),
                std::string::npos)
          << b.error().to_string();
    }
  }
}

}  // namespace
}  // namespace wasmcap

namespace wasmcap {
namespace {

// Tables shared between interp instances (docs/fast-interp.md, "Shared tables"): the pattern of
// wit-component's preview1 adapter (`jco new`): a shim exports a funcref table and calls through
// it; other instances import it and fill it (elem, table.set). A call lands in the instance that
// defines the function, and runs on that instance's memory, globals and host functions.
class SharedTables : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { engine_ = Sharing::make(GetParam()); }
  Result<std::unique_ptr<Instance>> try_instantiate(const std::string& wat,
                                                    const ExecLimits& limits = {}) {
    Bytes b = wat::wat_to_wasm(wat);
    auto m = engine_->load(b.data(), b.size());
    if (!m) return tl::unexpected(m.error());
    return engine_->instantiate(*m, host_, limits);
  }
  std::unique_ptr<Instance> instantiate(const std::string& wat, const ExecLimits& limits = {}) {
    auto inst = try_instantiate(wat, limits);
    EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
    return inst ? std::move(*inst) : nullptr;
  }
  void share(Instance& from, const std::string& name) {
    auto ext = from.export_extern(name);
    ASSERT_TRUE(ext.has_value()) << ext.error().to_string();
    host_.add_extern("a", name, *ext);
  }
  static uint32_t call_i32(Instance& inst, const std::string& f, std::vector<Value> args = {}) {
    auto r = inst.call(f, args);
    EXPECT_TRUE(r.has_value()) << f << ": " << r.error().to_string();
    return r && !r->results.empty() ? r->results[0].i32 : 0xdeadbeef;
  }
  static Error call_error(Instance& inst, const std::string& f, std::vector<Value> args = {}) {
    auto r = inst.call(f, args);
    EXPECT_FALSE(r.has_value()) << f;
    return r ? Error{} : r.error();
  }

  std::unique_ptr<Engine> engine_;
  HostFuncTable host_;
};

INSTANTIATE_TEST_SUITE_P(Engines, SharedTables, ::testing::Values("interp", "aot"),
                         [](const auto& info) { return info.param; });

// The shim: a table of 4 whose slot 3 holds its own function, calls through any slot, and a
// host function it calls (counted).
const char* kShim =
    "(module (import \"h\" \"ping\" (func $ping (result i32)))"
    "  (type $ii (func (param i32) (result i32)))"
    "  (table $t (export \"t\") 4 8 funcref)"
    "  (memory 1) (data (i32.const 0) \"\\05\")"
    "  (func $own (type $ii) (i32.add (local.get 0) (i32.load8_u (i32.const 0))))"
    "  (elem (i32.const 3) $own)"
    "  (func (export \"call\") (param i32 i32) (result i32)"
    "    (call_indirect (type $ii) (local.get 1) (local.get 0)))"
    "  (func (export \"call_void\") (param i32) (call_indirect (local.get 0)))"
    "  (func (export \"ping\") (result i32) (call $ping))"
    "  (func (export \"size\") (result i32) (table.size $t)))";

// The main module: fills slots 0 and 1 (elem, and table.set from its start function) with
// functions reading its own memory and global; its type section differs from the shim's.
const char* kMain =
    "(module (type $unused (func (param i64)))"
    "  (type $ii (func (param i32) (result i32)))"
    "  (import \"a\" \"t\" (table $t 2 funcref))"
    "  (memory 1) (data (i32.const 0) \"\\64\")"
    "  (global $g (mut i32) (i32.const 1000))"
    "  (func $mem (type $ii) (i32.add (local.get 0) (i32.load8_u (i32.const 0))))"
    "  (func $glob (type $ii) (global.set $g (i32.add (global.get $g) (local.get 0)))"
    "    (global.get $g))"
    "  (func $trap (unreachable))"
    "  (func $other (param i64) (result i32) (i32.const 0))"
    "  (elem (i32.const 0) $mem) (elem declare func $glob $trap $other)"
    "  (func $start (table.set $t (i32.const 1) (ref.func $glob))"
    "    (table.set $t (i32.const 2) (ref.func $trap)))"
    "  (start $start)"
    "  (func (export \"call\") (param i32 i32) (result i32)"
    "    (call_indirect (type $ii) (local.get 1) (local.get 0)))"
    "  (func (export \"grow\") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))"
    "  (func (export \"set_other\") (table.set $t (i32.const 0) (ref.func $other))))";

TEST_P(SharedTables, ACallThroughASharedTableRunsInTheFunctionsInstance) {
  int pings = 0;
  host_.add(HostFunc{"h", "ping", FuncSig{{}, {ValType::kI32}},
                     [&](HostContext&, const Value*, Value* r) {
                       r[0] = Value::I32(static_cast<uint32_t>(++pings));
                       return HostCallResult::ok();
                     }});
  auto shim = instantiate(kShim);
  ASSERT_TRUE(shim);
  share(*shim, "t");
  auto main = instantiate(kMain);
  ASSERT_TRUE(main);
  // Slot 0: main's function on main's memory (100), not the shim's (5).
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(0), Value::I32(1)}), 101u);
  // Slot 1 (set by main's start function): main's global, kept between calls.
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(1), Value::I32(2)}), 1002u);
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(1), Value::I32(3)}), 1005u);
  // Slot 3 (the shim's own, made shared when the table was exported), from either instance.
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(3), Value::I32(1)}), 6u);
  EXPECT_EQ(call_i32(*main, "call", {Value::I32(3), Value::I32(1)}), 6u);
  EXPECT_EQ(call_i32(*main, "call", {Value::I32(0), Value::I32(1)}), 101u);
  // A grow by the importer is the exporter's table.
  EXPECT_EQ(call_i32(*main, "grow", {Value::I32(2)}), 4u);
  EXPECT_EQ(call_i32(*shim, "size"), 6u);
  EXPECT_EQ(call_i32(*main, "grow", {Value::I32(3)}), 0xffffffffu);  // past the maximum, 8
  EXPECT_EQ(call_i32(*shim, "ping"), 1u);
}

TEST_P(SharedTables, CallsAreCheckedAndTrapAcrossInstances) {
  int pings = 0;
  host_.add(HostFunc{"h", "ping", FuncSig{{}, {ValType::kI32}},
                     [&](HostContext&, const Value*, Value* r) {
                       r[0] = Value::I32(static_cast<uint32_t>(++pings));
                       return HostCallResult::ok();
                     }});
  auto shim = instantiate(kShim);
  ASSERT_TRUE(shim);
  share(*shim, "t");
  auto main = instantiate(kMain);
  ASSERT_TRUE(main);
  // The callee traps: the trap is the caller's, and the caller goes on working (its memory, its
  // host functions), as does the callee.
  Error e = call_error(*shim, "call_void", {Value::I32(2)});
  EXPECT_EQ(e.code, ErrorCode::kTrapUnreachable) << e.to_string();
  EXPECT_EQ(call_i32(*shim, "ping"), 1u);
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(3), Value::I32(1)}), 6u);
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(0), Value::I32(1)}), 101u);
  // Signatures are compared as types, not as each module's type indices: (i32)->(i32) is
  // index 1 in main and 0 in the shim (the calls above); a function of another type traps.
  e = call_error(*shim, "call_void", {Value::I32(0)});
  EXPECT_EQ(e.code, ErrorCode::kTrapIndirectCallMismatch) << e.to_string();
  ASSERT_TRUE(main->call("set_other", {}));
  e = call_error(*shim, "call", {Value::I32(0), Value::I32(1)});
  EXPECT_EQ(e.code, ErrorCode::kTrapIndirectCallMismatch) << e.to_string();
  // A null element and one past the end.
  ASSERT_EQ(call_i32(*main, "grow", {Value::I32(1)}), 4u);
  e = call_error(*shim, "call", {Value::I32(4), Value::I32(1)});
  EXPECT_EQ(e.code, ErrorCode::kTrapIndirectCallNull) << e.to_string();
  e = call_error(*shim, "call", {Value::I32(5), Value::I32(1)});
  EXPECT_EQ(e.code, ErrorCode::kTrapTableOutOfBounds) << e.to_string();
  EXPECT_EQ(call_i32(*shim, "ping"), 2u);
}

// A callee reached through a shared table runs on its own context, not only on its own struct:
// its host functions are its imports (not the caller's at the same index), a fault in its memory
// is its trap (claimed, not a crash), and how its host calls end (an exit, a host trap) is the
// caller's outcome; the caller goes on working afterwards.
TEST_P(SharedTables, TheCalleesHostFunctionsFaultsAndExitsAreItsOwn) {
  int pings = 0;
  host_.add(HostFunc{"h", "ping", FuncSig{{}, {ValType::kI32}},
                     [&](HostContext&, const Value*, Value* r) {
                       r[0] = Value::I32(static_cast<uint32_t>(++pings));
                       return HostCallResult::ok();
                     }});
  host_.add(HostFunc{"h", "pong", FuncSig{{}, {ValType::kI32}},
                     [&](HostContext&, const Value*, Value* r) {
                       r[0] = Value::I32(500);
                       return HostCallResult::ok();
                     }});
  host_.add(HostFunc{"h", "bye", FuncSig{{ValType::kI32}, {}},
                     [&](HostContext&, const Value* a, Value*) {
                       if (a[0].i32 == 0) return HostCallResult::trap("bye refused");
                       return HostCallResult::exit(static_cast<int32_t>(a[0].i32));
                     }});
  auto shim = instantiate(kShim);
  ASSERT_TRUE(shim);
  share(*shim, "t");
  auto callee = instantiate(
      "(module (import \"h\" \"pong\" (func $pong (result i32)))"
      "  (import \"h\" \"bye\" (func $bye (param i32)))"
      "  (import \"a\" \"t\" (table 4 funcref))"
      "  (type $ii (func (param i32) (result i32)))"
      "  (memory 1)"
      "  (func $host (type $ii) (i32.add (call $pong) (local.get 0)))"
      "  (func $oob (type $ii) (i32.load (i32.const 0x20000)))"
      "  (func $quit (type $ii) (call $bye (local.get 0)) (i32.const 9))"
      "  (elem (i32.const 0) $host $oob $quit))");
  ASSERT_TRUE(callee);
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(0), Value::I32(1)}), 501u);
  Error e = call_error(*shim, "call", {Value::I32(1), Value::I32(0)});
  EXPECT_EQ(e.code, ErrorCode::kTrapMemoryOutOfBounds) << e.to_string();
  EXPECT_EQ(call_i32(*shim, "ping"), 1u);
  e = call_error(*shim, "call", {Value::I32(2), Value::I32(0)});
  EXPECT_NE(e.to_string().find("bye refused"), std::string::npos) << e.to_string();
  auto r = shim->call("call", {Value::I32(2), Value::I32(3)});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->exited);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(0), Value::I32(2)}), 502u);
  EXPECT_EQ(call_i32(*shim, "ping"), 2u);
}

TEST_P(SharedTables, FuelAndTheDeadlineCountAcrossTheBoundary) {
  host_.add(HostFunc{"h", "ping", FuncSig{{}, {ValType::kI32}},
                     [&](HostContext&, const Value*, Value* r) {
                       r[0] = Value::I32(0);
                       return HostCallResult::ok();
                     }});
  Error e;
  // aot meters no fuel (it refuses limits.fuel: docs/aot.md), so only the deadline there.
  if (GetParam() == "interp") {
  ExecLimits fueled;
  fueled.fuel = 100000;
  auto shim = instantiate(kShim, fueled);
  ASSERT_TRUE(shim);
  share(*shim, "t");
  // The callee has no limit of its own: a call from the shim spends the shim's fuel.
  auto burner = instantiate(
      "(module (import \"a\" \"t\" (table 4 funcref))"
      "  (func $burn (param i32) (result i32)"
      "    (loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1)))"
      "      (br_if $l (local.get 0))) (i32.const 7))"
      "  (func $forever (loop $l (br $l)))"
      "  (elem (i32.const 0) $burn $forever))");
  ASSERT_TRUE(burner);
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(0), Value::I32(10)}), 7u);
  const uint64_t small = shim->fuel_consumed();
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(0), Value::I32(1000)}), 7u);
  EXPECT_GT(shim->fuel_consumed(), small + 1000);  // the callee's loop, charged to the caller
  e = call_error(*shim, "call", {Value::I32(0), Value::I32(1000000)});
  EXPECT_EQ(e.code, ErrorCode::kFuelExhausted) << e.to_string();
  }

  ExecLimits timed;
  timed.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  auto shim2 = instantiate(kShim, timed);
  ASSERT_TRUE(shim2);
  share(*shim2, "t");
  auto looper = instantiate(
      "(module (import \"a\" \"t\" (table 4 funcref))"
      "  (func $forever (loop $l (br $l)))"
      "  (func $boom (param i32) (result i32) unreachable)"
      "  (elem (i32.const 0) $forever) (elem (i32.const 2) $boom))");
  ASSERT_TRUE(looper);
  e = call_error(*shim2, "call_void", {Value::I32(0)});
  EXPECT_EQ(e.code, ErrorCode::kDeadlineExceeded) << e.to_string();
  // The callee's deadline stop was the caller's: a later call into it from an instance without
  // a deadline runs as usual, its own trap reported as such (not as a deadline).
  auto caller = instantiate(
      "(module (import \"a\" \"t\" (table 4 funcref))"
      "  (type $ii (func (param i32) (result i32)))"
      "  (func (export \"call\") (param i32 i32) (result i32)"
      "    (call_indirect (type $ii) (local.get 1) (local.get 0))))");
  ASSERT_TRUE(caller);
  e = call_error(*caller, "call", {Value::I32(2), Value::I32(1)});
  EXPECT_EQ(e.code, ErrorCode::kTrapUnreachable) << e.to_string();
}

TEST_P(SharedTables, TableImportsAreCheckedAgainstWhatIsLinked) {
  host_.add(HostFunc{"h", "ping", FuncSig{{}, {ValType::kI32}},
                     [](HostContext&, const Value*, Value*) { return HostCallResult::ok(); }});
  auto shim = instantiate(kShim);  // a table of 4, at most 8
  ASSERT_TRUE(shim);
  share(*shim, "t");
  auto ext = instantiate("(module (table (export \"x\") 1 externref))");
  ASSERT_TRUE(ext);
  share(*ext, "x");
  auto expect_link_error = [&](const std::string& wat, const std::string& words) {
    auto r = try_instantiate(wat);
    ASSERT_FALSE(r.has_value()) << wat;
    EXPECT_EQ(r.error().code, ErrorCode::kLinkError) << r.error().to_string();
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().to_string();
  };
  expect_link_error("(module (import \"a\" \"t\" (table 5 funcref)))", "the import needs 5");
  expect_link_error("(module (import \"a\" \"t\" (table 1 7 funcref)))", "at most 7");
  expect_link_error("(module (import \"a\" \"t\" (table 1 externref)))", "is a table of funcref");
  expect_link_error("(module (import \"a\" \"x\" (table 1 funcref)))", "is a table of externref");
  expect_link_error("(module (import \"a\" \"x\" (table 1 1 externref)))", "has no maximum");
  EXPECT_TRUE(try_instantiate("(module (import \"a\" \"t\" (table 4 8 funcref)))").has_value());
  EXPECT_TRUE(try_instantiate("(module (import \"a\" \"x\" (table 1 externref)))").has_value());
}

// A function stays callable while a table holds it: the instances that share a table are owned
// together, so dropping one's handle (or failing its instantiation after its elements were
// stored) leaves its functions, memory and globals to the calls that reach them.
TEST_P(SharedTables, AFunctionStaysCallableWhileATableHoldsIt) {
  host_.add(HostFunc{"h", "ping", FuncSig{{}, {ValType::kI32}},
                     [](HostContext&, const Value*, Value*) { return HostCallResult::ok(); }});
  auto shim = instantiate(kShim);
  ASSERT_TRUE(shim);
  share(*shim, "t");
  auto main = instantiate(kMain);
  ASSERT_TRUE(main);
  main.reset();
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(0), Value::I32(1)}), 101u);
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(1), Value::I32(1)}), 1001u);
  // An instantiation that fails after storing an element: the element stays, and runs.
  auto failed = try_instantiate(
      "(module (import \"a\" \"t\" (table 4 funcref))"
      "  (func $f (param i32) (result i32) (i32.const 77))"
      "  (elem (i32.const 2) $f) (elem (i32.const 3) $f $f))");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kTrapTableOutOfBounds) << failed.error().to_string();
  EXPECT_EQ(call_i32(*shim, "call", {Value::I32(2), Value::I32(1)}), 77u);
  // The exporter's handle can go first too: the importer's calls still reach its functions.
  auto main2 = instantiate(kMain);
  ASSERT_TRUE(main2);
  shim.reset();
  host_ = HostFuncTable();
  EXPECT_EQ(call_i32(*main2, "call", {Value::I32(3), Value::I32(1)}), 6u);
}

// Only a module that imports or exports a table can hold another instance's function in a table,
// so only its call_indirect compares the element's instance with its own (docs/aot.md, "Shared
// tables", cost): a module with a private table keeps wasm2c's call as it was.
TEST(SharingAot, CallIndirectComparesInstancesOnlyWhereATableIsShared) {
  auto translated = [](const std::string& table) {
    Bytes b = wat::wat_to_wasm(
        "(module " + table + " (type $v (func)) (func $f) (elem (i32.const 0) $f)"
        "  (func (export \"c\") (call_indirect (type $v) (i32.const 0))))");
    auto t = aot::translate(b.data(), b.size(), true);
    EXPECT_TRUE(t.has_value()) << t.error().to_string();
    return t ? t->module_c : std::string();
  };
  const std::string cross = "wasmcap_cross_enter(table.data[x].module_instance)";
  EXPECT_EQ(translated("(table 1 funcref)").find(cross), std::string::npos);
  EXPECT_NE(translated("(table (export \"t\") 1 funcref)").find(cross), std::string::npos);
  EXPECT_NE(translated("(import \"a\" \"t\" (table 1 funcref))").find(cross), std::string::npos);
}

}  // namespace
}  // namespace wasmcap
