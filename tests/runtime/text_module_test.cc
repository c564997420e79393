// Modules as text (.wat, src/engine/wat_text.h) and wasi_unstable modules (WASI's snapshot 0,
// mapped onto the Preview 1 host: src/wasi/abi.h), through read_module_file and run_module on
// the engine under test.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/wat_text.h"
#include "test_support.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::Captured;
using testing::TempDir;
using testing::run_guest;

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// Exercises every difference between wasi_unstable and Preview 1 on a file "f" (10 bytes, two
// links, mtime 10^9 s) in the first preopen, and exits with the number of the first check that
// fails (0: all hold). A host that only renamed the module fails at 3 (whence), 11 (the 32-bit
// nlink and the fields after it) or 23 (the subscription's clock fields), 27 (its size).
constexpr const char* kUnstableProbe = R"((module
  (import "wasi_unstable" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_unstable" "path_filestat_get"
    (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "f")
  (func $check (param $ok i32) (param $code i32)
    (if (i32.eqz (local.get $ok)) (then (call $proc_exit (local.get $code)))))
  ;; A filestat at $at: regular file, nlink 2 (u32 at 20), size 10 at 24, mtim at 40, and the 8
  ;; bytes after its 56 untouched.
  (func $filestat (param $at i32) (param $code i32)
    (call $check (i32.eq (i32.load8_u offset=16 (local.get $at)) (i32.const 4)) (local.get $code))
    (call $check (i32.eq (i32.load offset=20 (local.get $at)) (i32.const 2))
      (i32.add (local.get $code) (i32.const 1)))
    (call $check (i64.eq (i64.load offset=24 (local.get $at)) (i64.const 10))
      (i32.add (local.get $code) (i32.const 2)))
    (call $check (i64.eq (i64.load offset=40 (local.get $at)) (i64.const 1000000000000000000))
      (i32.add (local.get $code) (i32.const 3)))
    (call $check (i64.eq (i64.load offset=56 (local.get $at)) (i64.const 0x5555555555555555))
      (i32.add (local.get $code) (i32.const 4))))
  (func (export "_start")
    (local $fd i32)
    (call $check (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (i32.const 16)
      (i32.const 1) (i32.const 0) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0)
      (i32.const 0))) (i32.const 1))
    (local.set $fd (i32.load (i32.const 0)))
    ;; whence: CUR 0, END 1, SET 2
    (call $check (i32.eqz (call $fd_seek (local.get $fd) (i64.const 3) (i32.const 2)
      (i32.const 8))) (i32.const 2))
    (call $check (i64.eq (i64.load (i32.const 8)) (i64.const 3)) (i32.const 3))
    (call $check (i32.eqz (call $fd_seek (local.get $fd) (i64.const 2) (i32.const 0)
      (i32.const 8))) (i32.const 4))
    (call $check (i64.eq (i64.load (i32.const 8)) (i64.const 5)) (i32.const 5))
    (call $check (i32.eqz (call $fd_seek (local.get $fd) (i64.const -1) (i32.const 1)
      (i32.const 8))) (i32.const 6))
    (call $check (i64.eq (i64.load (i32.const 8)) (i64.const 9)) (i32.const 7))
    (call $check (i32.eq (call $fd_seek (local.get $fd) (i64.const 0) (i32.const 3)
      (i32.const 8)) (i32.const 28)) (i32.const 8))
    ;; filestat: 56 bytes, nlink 32-bit
    (i64.store (i32.const 312) (i64.const 0x5555555555555555))
    (call $check (i32.eqz (call $fd_filestat_get (local.get $fd) (i32.const 256))) (i32.const 9))
    (call $filestat (i32.const 256) (i32.const 10))
    (i64.store (i32.const 440) (i64.const 0x5555555555555555))
    (call $check (i32.eqz (call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 16)
      (i32.const 1) (i32.const 384))) (i32.const 15))
    (call $filestat (i32.const 384) (i32.const 16))
    ;; a clock subscription: userdata 11, tag 0, identifier 5 (no clock has that id) at 16,
    ;; clock id 1 (monotonic) at 24, timeout 0 at 32
    (i64.store (i32.const 512) (i64.const 11))
    (i64.store (i32.const 528) (i64.const 5))
    (i32.store (i32.const 536) (i32.const 1))
    (call $check (i32.eqz (call $poll_oneoff (i32.const 512) (i32.const 1024) (i32.const 1)
      (i32.const 1100))) (i32.const 21))
    (call $check (i32.eq (i32.load (i32.const 1100)) (i32.const 1)) (i32.const 22))
    (call $check (i32.eqz (i32.load16_u (i32.const 1032))) (i32.const 23))
    (call $check (i64.eq (i64.load (i32.const 1024)) (i64.const 11)) (i32.const 24))
    ;; and a second one 56 bytes on: fd_write (tag 2) on stdout, userdata 22: ready at once
    (i64.store (i32.const 544) (i64.const 60000000000))
    (i64.store (i32.const 568) (i64.const 22))
    (i32.store8 (i32.const 576) (i32.const 2))
    (i32.store (i32.const 584) (i32.const 1))
    (call $check (i32.eqz (call $poll_oneoff (i32.const 512) (i32.const 1024) (i32.const 2)
      (i32.const 1100))) (i32.const 25))
    (call $check (i32.eq (i32.load (i32.const 1100)) (i32.const 1)) (i32.const 26))
    (call $check (i64.eq (i64.load (i32.const 1024)) (i64.const 22)) (i32.const 27))
    (call $check (i32.eqz (i32.load16_u (i32.const 1032))) (i32.const 28))
    (call $check (i32.eq (i32.load8_u (i32.const 1034)) (i32.const 2)) (i32.const 29))))
)";

TEST(WasiUnstable, OldToolchainsModulesRunWithSnapshotZerosLayouts) {
  TempDir dir;
  dir.write("probe.wat", kUnstableProbe);
  fs::create_directories(dir / "d");
  dir.write("d/f", "0123456789");
  ASSERT_EQ(::link((dir / "d/f").c_str(), (dir / "d/g").c_str()), 0);
  const struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir / "d/f").c_str(), times, 0), 0);
  auto file = read_module_file((dir / "probe.wat"));
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  RunOptions o;
  o.wasi.args = {"probe"};
  o.wasi.preopens.push_back({(dir / "d"), "/d", false});
  o.wasi.clock_monotonic = true;
  Captured c = run_guest(file->bytes, o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 0) << "the first check that failed";
}

TEST(TextModules, RunAsTheirBinary) {
  TempDir dir;
  dir.write("hi.wat", R"((module
    (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 8) "hi\n")
    (func (export "_start")
      (i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 3))
      (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16))))))");
  auto file = read_module_file((dir / "hi.wat"));
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  ASSERT_GE(file->bytes.size(), 4u);
  EXPECT_EQ(std::vector<uint8_t>(file->bytes.begin(), file->bytes.begin() + 4),
            std::vector<uint8_t>({0, 'a', 's', 'm'}));
  EXPECT_FALSE(file->file.has_value()) << "the identity of the text is not the binary's";
  RunOptions o;
  o.wasi.args = {"hi"};
  Captured c = run_guest(file->bytes, o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.out, "hi\n");
}

TEST(TextModules, ErrorsNameTheLineAndColumn) {
  TempDir dir;
  dir.write("bad.wat", "(module\n  (func (export \"f\")\n    (i32.bogus\x1b[2J)))\n");
  auto r = read_module_file((dir / "bad.wat"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kModuleMalformed);
  EXPECT_TRUE(has(r.error().message, (dir / "bad.wat") + ":3:6: ")) << r.error().message;
  EXPECT_FALSE(has(r.error().message, "\x1b")) << "the text's bytes are escaped";
  // Valid syntax, invalid module: the validator's message, with its place.
  dir.write("type.wat", "(module\n  (func (result i32)\n    (i64.const 1)))\n");
  r = read_module_file((dir / "type.wat"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kModuleMalformed);
  EXPECT_TRUE(has(r.error().message, (dir / "type.wat") + ":")) << r.error().message;
}

// The bounds on hostile text, before wabt sees a byte (wat_text.h).
TEST(TextModules, SizeAndNestingAreBounded) {
  TempDir dir;
  // Size: one byte over is refused without being parsed.
  dir.write("big.wat", "(module)" + std::string(wat::kMaxTextBytes, ' '));
  auto big = read_module_file((dir / "big.wat"));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, ErrorCode::kModuleUnsupported);
  EXPECT_TRUE(has(big.error().message, "wat2wasm")) << big.error().message;
  // Nesting, folded and flat: refused past the bound (wabt recurses once per level: deep
  // enough, it overflows any stack), parsed at the bound on the parser's own stack.
  auto nested = [](size_t levels, bool folded) {
    std::string s = "(module (func ";
    for (size_t i = 0; i < levels; ++i) s += folded ? "(block " : "block ";
    for (size_t i = 0; i < levels; ++i) s += folded ? ")" : "end ";
    return s + "))";
  };
  for (bool folded : {true, false}) {
    const size_t over = 300000;  // (under the size bound)
    dir.write("deep.wat", nested(over, folded));
    auto deep = read_module_file((dir / "deep.wat"));
    ASSERT_FALSE(deep.has_value()) << folded;
    EXPECT_EQ(deep.error().code, ErrorCode::kModuleUnsupported);
    EXPECT_TRUE(has(deep.error().message, "nests ")) << deep.error().message;
    // (module (func ...: two levels of the bound are the module's and the function's.
    dir.write("at.wat", nested(wat::kMaxNesting - 2, folded));
    auto at = read_module_file((dir / "at.wat"));
    EXPECT_TRUE(at.has_value()) << folded << " " << at.error().to_string();
  }
  // Comments and strings do not count; parentheses in them are not nesting.
  EXPECT_EQ(wat::nesting_depth("(module ;; ((((\n (; (( (; (( ;) ;) \"((\\\"((\" )"), 1u);
  EXPECT_EQ(wat::nesting_depth("(func block (block) loop end end)"), 3u);
}

}  // namespace
}  // namespace wasmcap
