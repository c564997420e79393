// The fast interpreter's two front ends (src/engine/fast/translate.cc): the streaming one, which
// translates a body while wabt's binary reader reads it, must give the same code word for word
// as translating wabt's IR of the body, on every function it takes; it must refuse (so the IR
// path runs) what it does not take. Compared on every guest of the build, the fast_diff corpus,
// and a module written to reach the walk's corner cases (dead code, else arms, block types).
// C++17: the .wat text is compiled with wabt's library.
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "engine/fast/translate.h"
#include "wasmcap/engine.h"
#include "wat_to_wasm.h"
#include "test_paths.h"

namespace wasmcap {
namespace {

using Bytes = std::vector<uint8_t>;
Bytes wat_to_wasm(const std::string& text) { return wat::wat_to_wasm(text, /*exceptions=*/true); }

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> files_in(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n[0] == '.') continue;
    if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(dir + "/" + n);
    }
  }
  closedir(d);
  return out;
}

struct Compared {
  bool loaded = false;
  std::string difference;
  uint32_t streamed = 0, funcs = 0;
};

Compared compare(const Bytes& wasm, bool gate = true) {
  Compared c;
  auto engine = make_fast_engine();
  auto module = engine->load(wasm.data(), wasm.size());
  if (!module) return c;
  c.loaded = true;
  c.difference = fast::translate_test_hooks::compare_front_ends(**module, &c.streamed, &c.funcs, gate);
  return c;
}

TEST(FastTranslate, SameCodeOnEveryGuestAndCorpusModule) {
  std::vector<std::string> paths = files_in(test_paths::guest_dir(), ".wasm");
  for (const std::string& p :
       files_in(std::string(test_paths::source_dir()) + "/tests/engine/corpus/fast_diff", "")) {
    paths.push_back(p);
  }
  ASSERT_GT(paths.size(), 40u);
  uint64_t streamed = 0, funcs = 0, modules = 0;
  for (const std::string& p : paths) {
    Compared c = compare(read_file(p));
    if (!c.loaded) continue;
    ++modules;
    EXPECT_EQ(c.difference, "") << p;
    streamed += c.streamed;
    funcs += c.funcs;
  }
  // Nearly all of it is plain C compiled to wasm: the streaming front end takes it.
  EXPECT_GT(modules, 40u);
  EXPECT_GT(streamed, 2000u);
  EXPECT_GT(streamed * 10, funcs * 9) << streamed << " of " << funcs;
}

// Pairs (fast.h, WASMCAP_FAST_PAIRS) were chosen from the guests' most frequent consecutive
// instructions: each must be taken somewhere in the guests of the build (the test guests and
// the toolbox, whose awk they were measured on). One never taken is dead, or its length in the
// list is not its instruction's (then it can never match).
TEST(FastTranslate, EveryPairIsTakenInTheGuests) {
  std::vector<uint64_t> before = fast::translate_test_hooks::pair_uses();
  std::vector<std::string> paths = files_in(test_paths::guest_dir(), ".wasm");
  std::string toolbox = std::string(test_paths::guest_dir()) + "/toolbox/toolbox.wasm";
  if (read_file(toolbox).empty()) GTEST_SKIP() << "a build without the toolbox (WASMCAP_BUILD_TOOLBOX)";
  paths.push_back(toolbox);
  for (const std::string& p : paths) compare(read_file(p));
  std::vector<uint64_t> after = fast::translate_test_hooks::pair_uses();
  ASSERT_EQ(before.size(), after.size());
  ASSERT_GT(after.size(), 20u);
  for (size_t i = 0; i < after.size(); ++i) EXPECT_GT(after[i], before[i]) << "pair " << i;
}

// The walk's corner cases: unreachable code (nested blocks inside it, in then and else arms),
// else arms present but empty, ifs without else, block types by index (parameters, several
// results), br_table, typed select, bulk memory and table instructions, call_indirect.
const char* kCorners = R"(
(module
  (type $t2 (func (param i32 i32) (result i32 i32)))
  (type $v (func (param i32) (result i32)))
  (memory 1)
  (table 4 funcref)
  (elem (i32.const 0) $a $b)
  (elem $passive func $a)
  (data $d "abcd")
  (global $g (mut i32) (i32.const 7))
  (func $a (type $v) (local.get 0))
  (func $b (type $v) (i32.add (local.get 0) (i32.const 1)))
  (func (export "dead") (param i32) (result i32)
    (block (result i32)
      (if (local.get 0) (then (br 1 (i32.const 1)) (block (loop (if (i32.const 1) (then nop) (else nop)))) (drop (i32.const 9))))
      (if (result i32) (local.get 0)
        (then (return (i32.const 2)) (block (result i32) (i32.const 3)))
        (else (unreachable) (if (i32.const 0) (then)) (i32.const 4)))
      (drop)
      (i32.const 5)))
  (func (export "else_empty") (param i32) (result i32)
    (if (local.get 0) (then (global.set $g (i32.const 1))) (else))
    (if (local.get 0) (then))
    (if (local.get 0) (then) (else (global.set $g (i32.const 2))))
    (global.get $g))
  (func (export "types") (param i32 i32) (result i32)
    (local i64 f32 f64)
    (local.get 0)
    (local.get 1)
    (block (type $t2) (param i32 i32) (result i32 i32))
    (i32.add)
    (loop (type $v) (param i32) (result i32) (br_if 0 (i32.const 0)))
    (local.set 2 (i64.const -1))
    (local.set 3 (f32.const 1.5))
    (local.set 4 (f64.const -2.25))
    (select (result i32) (i32.const 1) (i32.const 2) (local.get 1))
    (i32.add))
  (func (export "table") (param i32) (result i32)
    (block $x (block $y (block $z (br_table $x $y $z (local.get 0))) (return (i32.const 10))) (return (i32.const 11)))
    (call_indirect (type $v) (i32.const 3) (i32.const 1))
    (memory.fill (i32.const 0) (i32.const 1) (i32.const 2))
    (memory.copy (i32.const 4) (i32.const 0) (i32.const 2))
    (memory.init $d (i32.const 8) (i32.const 0) (i32.const 4))
    (data.drop $d)
    (table.init $passive (i32.const 2) (i32.const 0) (i32.const 1))
    (table.copy (i32.const 3) (i32.const 0) (i32.const 1))
    (elem.drop $passive)
    (drop (table.grow 0 (ref.func $a) (i32.const 1)))
    (table.set 0 (i32.const 0) (table.get 0 (i32.const 1)))
    (table.fill 0 (i32.const 0) (ref.null func) (i32.const 0))
    (drop (ref.is_null (ref.null func)))
    (drop (table.size 0))
    (drop (memory.grow (i32.const 0)))
    (drop (memory.size))
    (i64.store offset=8 (i32.const 0) (i64.extend_i32_u (i32.load8_u offset=3 (i32.const 1))))
    (i32.add (i32.wrap_i64 (i64.load (i32.const 8)))))
)
)";

TEST(FastTranslate, SameCodeOnCornerCases) {
  Compared c = compare(wat_to_wasm(kCorners));
  ASSERT_TRUE(c.loaded);
  EXPECT_EQ(c.difference, "");
  EXPECT_EQ(c.streamed, c.funcs);
  EXPECT_EQ(c.funcs, 6u);
}

// An `else` directly followed by `end`: wabt's IR keeps no else arm (and its writer writes
// none, so this module is written byte by byte): the streaming walk must close the `if` the
// same way.
TEST(FastTranslate, SameCodeOnEmptyElseArm) {
  const Bytes wasm = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // header
      0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,  // type 0: (i32) -> (i32)
      0x03, 0x02, 0x01, 0x00,                          // func 0: type 0
      0x0a, 0x13, 0x01, 0x11, 0x00,                    // code: 1 body, 17 bytes, no locals
      0x20, 0x00, 0x04, 0x40,                          // local.get 0, if (no results)
      0x01, 0x05, 0x0b,                                //   nop, else, end
      0x20, 0x00, 0x04, 0x40, 0x05, 0x0b,              // local.get 0, if, else, end
      0x20, 0x00, 0x0b,                                // local.get 0, end
  };
  Compared c = compare(wasm);
  ASSERT_TRUE(c.loaded);
  EXPECT_EQ(c.difference, "");
  EXPECT_EQ(c.streamed, 1u);
}

// What the streaming front end does not take, it refuses: exception handling (here without the
// engine's gate, which never offers it such a module), so the IR path translates it.
TEST(FastTranslate, RefusesExceptionHandling) {
  Bytes wasm = wat_to_wasm(R"(
(module
  (tag $e (param i32))
  (func (export "plain") (result i32) (i32.const 1))
  (func (export "eh") (result i32)
    (try (result i32) (do (throw $e (i32.const 2))) (catch $e)))
  (func (export "throws") (throw $e (i32.const 3))))
)");
  Compared gated = compare(wasm);
  ASSERT_TRUE(gated.loaded);
  EXPECT_EQ(gated.streamed, 0u);
  Compared open = compare(wasm, /*gate=*/false);
  EXPECT_EQ(open.difference, "");
  EXPECT_EQ(open.funcs, 3u);
  EXPECT_EQ(open.streamed, 1u);  // "plain"; "eh" is refused at its `try`, "throws" at `throw`
}

TEST(FastTranslate, NeverStreamsV128Modules) {
  Bytes wasm = wat_to_wasm(R"(
(module
  (func (export "f") (param i32) (result i32) (local.get 0))
  (func (export "g") (result i32)
    (i32x4.extract_lane 0 (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 1 1 1 1)))))
)");
  Compared c = compare(wasm);
  ASSERT_TRUE(c.loaded);
  EXPECT_EQ(c.difference, "");
  EXPECT_EQ(c.streamed, 0u);  // the wide layout: the IR path only
}

}  // namespace
}  // namespace wasmcap
