// Starting on the AOT tier (docs/aot.md, "Engine choice" and "Background compile"): `--engine
// auto` never blocks a first run on a compile. Ordering, not timing: a stand-in compiler waits
// for a gate file the test creates, so "the run finished before the cache entry existed" is a
// fact the test arranges, not a race it hopes to win.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/aot/aot_cache.h"
#include "engine/aot/aot_link.h"
#include "engine/test_hooks.h"
#include "runtime/test_hooks.h"
#include "test_support.h"
#include "wabt_engine.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::guest_bytes;
using testing::files_ending;
using testing::files_starting;
using testing::processes_with;
using testing::TempDir;
using testing::wait_until;

bool alive(int pid) {  // running, not a zombie waiting to be reaped
  std::string stat = testing::read_text("/proc/" + std::to_string(pid) + "/stat");
  size_t close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() &&
         stat[close_paren + 2] != 'Z' && stat[close_paren + 2] != 'X';
}

// No background compile holds a slot of this cache any more (the worker exited).
bool workers_done(const fs::path& cache) {
  for (int i = 0; i < 8; ++i) {
    int fd = open((cache / ("bg-" + std::to_string(i) + ".lock")).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    bool held = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd);
    if (held) return false;
  }
  return true;
}

// The documented compiler setting (AotOptions::compiler / $WASMCAP_CC) naming a script that
// answers --version like cc, and otherwise waits (at most 60 s) for `gate` to exist, then runs
// the real cc. `fail` makes it exit 1 instead.
std::string gated_compiler(const fs::path& dir, const fs::path& gate, bool fail = false) {
  fs::path p = dir / "gatedcc";
  testing::write_text(p, "#!/bin/sh\n"
                         "if [ \"$1\" = --version ]; then exec cc --version; fi\n"
                         "i=0\n"
                         "while [ ! -e '" + gate.string() + "' ]; do\n"
                         "  i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05\n"
                         "done\n" +
                         std::string(fail ? "exit 1\n" : "exec cc \"$@\"\n"));
  chmod(p.c_str(), 0755);
  return p.string();
}

RunOptions auto_options(const fs::path& cache, const std::string& compiler,
                        std::vector<std::string>* notices) {
  RunOptions o;
  o.engine = "auto";
  o.aot.cache_dir = cache.string();
  o.aot.compiler = compiler;
  o.aot.opt_level = 0;  // behaviour, not speed: the cheapest compile
  o.wasi.args = {"hello"};
  o.notice = [notices](const std::string& line) { notices->push_back(line); };
  return o;
}

// The first auto run of a module interprets and returns while the compile is still held at the
// gate (no cache entry exists when it returns); once the compile finishes, the next run is aot.
TEST(AotBackground, FirstAutoRunInterpretsAndTheNextRunsAot) {
  TempDir cache, bin;
  const fs::path gate = bin.path() / "gate";
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.path(), gated_compiler(bin.path(), gate), &notices);

  auto first = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(first.report.has_value()) << first.report.error().to_string();
  EXPECT_EQ(first.out, "hello from wasm\n");
  EXPECT_EQ(first.report->engine, "interp");
  const int pid = first.report->background_compile_pid;
  ASSERT_GT(pid, 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("engine auto: interp"), std::string::npos) << notices[0];
  EXPECT_NE(notices[0].find("in the background (pid " + std::to_string(pid) + ")"),
            std::string::npos)
      << notices[0];
  // The order of events: the run is over, the compile is not (it waits for the gate).
  EXPECT_TRUE(files_ending(cache.path(), ".meta").empty());
  EXPECT_TRUE(alive(pid));

  // A second run while the compile is under way interprets too and starts no second compile.
  notices.clear();
  auto second = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(second.report.has_value()) << second.report.error().to_string();
  EXPECT_EQ(second.report->engine, "interp");
  EXPECT_EQ(second.report->background_compile_pid, 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("another process is compiling this module"), std::string::npos)
      << notices[0];

  testing::write_text(gate, "");
  ASSERT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 120000));
  EXPECT_EQ(files_ending(cache.path(), ".meta").size(), 1u);
  EXPECT_EQ(files_starting(cache.path(), "tmp-"), std::vector<fs::path>{});
  EXPECT_FALSE(alive(pid));

  notices.clear();
  auto third = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(third.report.has_value()) << third.report.error().to_string();
  EXPECT_EQ(third.out, "hello from wasm\n");
  EXPECT_EQ(third.report->engine, "aot");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0], "engine auto: aot (compiled object from the cache)");
}

// The CLI: one notice line on stderr even though stderr is a pipe, not a terminal; the process
// ends (and its pipes reach end-of-file) while the compile goes on; -q silences the notice.
TEST(AotBackground, CliSaysWhichEngineRanAndDoesNotWaitForTheCompile) {
  TempDir cache, bin;
  const fs::path gate = bin.path() / "gate";
  const std::string cc = gated_compiler(bin.path(), gate);
  const std::string hello = testing::guest_path("hello");
  testing::ProcOptions po;
  po.extra_env = {{"WASMCAP_CC", cc}, {"WASMCAP_AOT_OPT", "0"}};
  auto a = testing::run_cli({"run", "--engine", "auto", "--cache-dir", cache.path().string(), hello}, po);
  ASSERT_TRUE(a.exited) << testing::describe(a);
  EXPECT_EQ(a.exit_code, 0) << testing::describe(a);
  EXPECT_EQ(a.out, "hello from wasm\n");
  const std::string prefix = "wasmcap: engine auto: interp; no compiled object yet: "
                             "compiling for aot in the background (pid ";
  ASSERT_EQ(a.err.rfind(prefix, 0), 0u) << a.err;
  EXPECT_EQ(std::count(a.err.begin(), a.err.end(), '\n'), 1) << a.err;
  int pid = std::atoi(a.err.c_str() + prefix.size());
  ASSERT_GT(pid, 0);
  // Our pipes reached end-of-file, yet the worker still runs: it holds none of our descriptors.
  EXPECT_TRUE(alive(pid)) << "the run returned only after the background compile ended";
  EXPECT_TRUE(files_ending(cache.path(), ".meta").empty());

  auto q = testing::run_cli(
      {"run", "--engine", "auto", "-q", "--cache-dir", cache.path().string(), hello}, po);
  EXPECT_EQ(q.exit_code, 0) << testing::describe(q);
  EXPECT_EQ(q.err, "");

  testing::write_text(gate, "");
  ASSERT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 120000));
  auto b = testing::run_cli({"run", "--engine", "auto", "--cache-dir", cache.path().string(), hello}, po);
  EXPECT_EQ(b.exit_code, 0) << testing::describe(b);
  EXPECT_EQ(b.out, "hello from wasm\n");
  EXPECT_EQ(b.err, "wasmcap: engine auto: aot (compiled object from the cache)\n");
}

// A background compile that fails leaves no entry and no temporary directory, and a marker that
// stops every later run from starting the same doomed compile; --wait-for-compile retries in
// the foreground (and, failing again, interprets).
TEST(AotBackground, FailedCompileIsRecordedAndNotRepeated) {
  TempDir cache, bin;
  const fs::path gate = bin.path() / "gate";
  testing::write_text(gate, "");
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.path(), gated_compiler(bin.path(), gate, /*fail=*/true), &notices);
  auto first = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(first.report.has_value()) << first.report.error().to_string();
  ASSERT_GT(first.report->background_compile_pid, 0);
  ASSERT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 60000));
  EXPECT_EQ(files_ending(cache.path(), ".failed").size(), 1u);
  EXPECT_TRUE(files_ending(cache.path(), ".meta").empty());
  EXPECT_EQ(files_starting(cache.path(), "tmp-"), std::vector<fs::path>{});

  notices.clear();
  auto second = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(second.report.has_value()) << second.report.error().to_string();
  EXPECT_EQ(second.report->engine, "interp");
  EXPECT_EQ(second.report->background_compile_pid, 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("an earlier background compile of this module failed "
                            "(module_unsupported)"),
            std::string::npos)
      << notices[0];

  notices.clear();
  o.wait_for_compile = true;
  auto third = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(third.report.has_value()) << third.report.error().to_string();
  EXPECT_EQ(third.out, "hello from wasm\n");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("(aot: module_unsupported: the C compiler failed"), std::string::npos)
      << notices[0];
}

// #37 item 5. Before: a background compile that failed on a full disk (the compiler could not
// write its output) left a .failed marker, so no background compile of the module ran for a day
// after space returned, and the message did not name the OS error. Now an I/O failure is this
// machine's state, not the module's: no marker, the error says "No space left on device", and
// the next auto run compiles in the background again.
TEST(AotBackground, TransientIoFailureIsNotRemembered) {
  TempDir cache, bin;
  // A compiler that fails as gcc does on a full disk while `disk_full` exists (one script
  // throughout: the compiler's identity is part of the cache key).
  const fs::path full = bin.path() / "fullcc", disk_full = bin.path() / "disk_full";
  testing::write_text(disk_full, "");
  testing::write_text(full, "#!/bin/sh\n"
                            "if [ \"$1\" = --version ]; then exec cc --version; fi\n"
                            "if [ -e '" + disk_full.string() + "' ]; then\n"
                            "  echo 'cc1: fatal error: error writing to /tmp/ccA.s: No space left on device' >&2\n"
                            "  exit 1\n"
                            "fi\n"
                            "exec cc \"$@\"\n");
  chmod(full.c_str(), 0755);
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.path(), full.string(), &notices);
  auto first = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(first.report.has_value()) << first.report.error().to_string();
  ASSERT_GT(first.report->background_compile_pid, 0);
  ASSERT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 60000));
  EXPECT_TRUE(files_ending(cache.path(), ".failed").empty()) << "a full disk is not the module's fault";
  EXPECT_EQ(files_starting(cache.path(), "tmp-"), std::vector<fs::path>{});

  // A foreground compile (--wait-for-compile) that fails on the full disk: auto runs the module
  // on the interpreter and says why, naming the OS error (before: the run failed with 74, though
  // the interpreter could serve it).
  o.wait_for_compile = true;
  notices.clear();
  auto fg = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(fg.report.has_value()) << fg.report.error().to_string();
  EXPECT_EQ(fg.report->engine, "interp");
  EXPECT_EQ(fg.report->exit_code, 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("engine auto: interp (aot: io_error: "), std::string::npos)
      << notices[0];
  EXPECT_NE(notices[0].find("No space left on device"), std::string::npos) << notices[0];
  EXPECT_TRUE(files_ending(cache.path(), ".failed").empty());

  // Space is back: the next auto run starts a background compile, which stores the entry.
  fs::remove(disk_full);
  o.wait_for_compile = false;
  auto second = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(second.report.has_value()) << second.report.error().to_string();
  EXPECT_GT(second.report->background_compile_pid, 0);
  ASSERT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 60000));
  EXPECT_EQ(files_ending(cache.path(), ".meta").size(), 1u);
}

// --- fault injection: cache writes (#37) -----------------------------------------------------
//
// Every failpoint a compile into the AOT cache and a fast-engine run (validation and module file
// records) reach, armed with a kill or an I/O error: the next run serves the module correctly
// (a partial entry is refused and rebuilt, never loaded), and after it no temporary compile
// directory is left and the entry is whole.

std::vector<std::string> cache_failpoints(const std::vector<std::string>& args, const fs::path& trace) {
  testing::ProcOptions o;
  o.extra_env = {{"WASMCAP_FAILPOINT_TRACE", trace.string()}};
  testing::ProcResult r = testing::run_cli(args, o);
  EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
  std::vector<std::string> out;
  for (const auto& n : testing::lines_of(testing::read_text(trace))) {
    if (n.rfind("cache.", 0) == 0 && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

void aot_cache_faults(const std::string& action) {
  TempDir probe;
  const std::string hello = testing::guest_path("hello");
  auto points = cache_failpoints({"compile", "--cache-dir", (probe.path() / "c").string(), hello},
                                 probe.path() / "trace");
  if (points.empty()) GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON";
  for (const char* step : {"cache.aot.tmpdir", "cache.aot.write_source", "cache.aot.store_object",
                           "cache.aot.store_meta"}) {
    EXPECT_NE(std::find(points.begin(), points.end(), step), points.end()) << step;
  }
  for (const auto& point : points) {
    SCOPED_TRACE(point + "=" + action);
    TempDir cache;
    testing::ProcOptions o;
    o.extra_env = {{"WASMCAP_FAILPOINTS", point + "=" + action}};
    testing::ProcResult f =
        testing::run_cli({"compile", "--cache-dir", cache.path().string(), hello}, o);
    if (action == "kill") {
      EXPECT_EQ(f.term_signal, SIGKILL) << testing::describe(f);
    }
    // The next run is served correctly: from a whole entry, or compiled again.
    testing::ProcResult r = testing::run_cli(
        {"run", "--engine", "aot", "--cache-dir", cache.path().string(), hello});
    EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
    EXPECT_EQ(r.out, "hello from wasm\n");
    EXPECT_EQ(files_starting(cache.path(), "tmp-"), std::vector<fs::path>{});
    EXPECT_EQ(files_ending(cache.path(), ".meta").size(), 1u);
    EXPECT_EQ(files_ending(cache.path(), ".so").size(), 1u);
    EXPECT_TRUE(files_ending(cache.path(), ".failed").empty());
  }
}

TEST(CacheFaults, AotCompileKilledAtEveryFailpoint) { aot_cache_faults("kill"); }
TEST(CacheFaults, AotCompileOutOfSpaceAtEveryFailpoint) { aot_cache_faults("enospc"); }

TEST(CacheFaults, ValidationRecordsAtEveryFailpoint) {
  TempDir probe;
  const std::string hello = testing::guest_path("hello");
  auto points = cache_failpoints(
      {"run", "--engine", "interp", "--cache-dir", (probe.path() / "c").string(), hello}, probe.path() / "trace");
  if (points.empty()) GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON";
  for (const auto& point : points) {
    for (const char* action : {"kill", "enospc", "eio"}) {
      SCOPED_TRACE(point + "=" + action);
      TempDir cache;
      testing::ProcOptions o;
      o.extra_env = {{"WASMCAP_FAILPOINTS", point + "=" + action}};
      testing::ProcResult f = testing::run_cli(
          {"run", "--engine", "interp", "--cache-dir", cache.path().string(), hello}, o);
      if (std::string(action) == "kill") {
        EXPECT_EQ(f.term_signal, SIGKILL) << testing::describe(f);
      } else {
        // Records are saved work: failing to write one never fails the run.
        EXPECT_EQ(f.exit_code, 0) << testing::describe(f);
        EXPECT_EQ(f.out, "hello from wasm\n");
      }
      for (int i = 0; i < 2; ++i) {  // the retry writes the records; the next run uses them
        testing::ProcResult r = testing::run_cli(
            {"run", "--engine", "interp", "--cache-dir", cache.path().string(), hello});
        EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
        EXPECT_EQ(r.out, "hello from wasm\n");
      }
    }
  }
}

// The replace_file temporaries (NAME.tmpPID) of killed record writes in a cache directory.
std::vector<fs::path> record_temporaries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    const size_t at = n.rfind(".tmp");
    if (e.is_regular_file() && at != std::string::npos && at + 4 < n.size() &&
        std::all_of(n.begin() + static_cast<std::ptrdiff_t>(at) + 4, n.end(), ::isdigit)) {
      out.push_back(e.path());
    }
  }
  return out;
}

void age_by_seconds(const fs::path& p, int seconds) {
  struct timeval tv[2];
  gettimeofday(&tv[0], nullptr);
  tv[0].tv_sec -= seconds;
  tv[1] = tv[0];
  ASSERT_EQ(utimes(p.c_str(), tv), 0) << p;
}

// #37: a record write killed between its temporary and the rename left NAME.tmpPID in the cache
// for good. Now the next new record in that directory (and every AOT compile) removes the
// temporaries older than a minute that no writer holds locked; a young one, or one a live writer
// holds, stays.
TEST(CacheFaults, KilledRecordWritesAreSwept) {
  TempDir cache, mods;
  const std::string hello = testing::guest_path("hello");
  testing::ProcOptions o;
  o.extra_env = {{"WASMCAP_FAILPOINTS", "cache.replace.rename=kill"}};
  testing::ProcResult k =
      testing::run_cli({"run", "--engine", "interp", "--cache-dir", cache.path().string(), hello}, o);
  if (k.term_signal != SIGKILL) GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON";
  auto left = record_temporaries(cache.path());
  ASSERT_EQ(left.size(), 1u) << "the kill left no temporary for this test to sweep";

  // A new module (hello plus a custom section: other bytes, so new records are written).
  auto bytes = testing::read_text(hello);
  bytes += std::string("\x00\x04\x03" "abc", 6);
  const fs::path other = mods.path() / "other.wasm";
  testing::write_text(other, bytes);
  auto run_other = [&] {
    testing::ProcResult r =
        testing::run_cli({"run", "--engine", "interp", "--cache-dir", cache.path().string(), other.string()});
    EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
    EXPECT_EQ(r.out, "hello from wasm\n");
  };
  // Young: kept (a writer may have created it a moment ago and not locked it yet).
  run_other();
  EXPECT_EQ(record_temporaries(cache.path()), left);

  // Old, and one more that a live writer holds locked: the old one goes, the held one stays.
  age_by_seconds(left[0], 120);
  const fs::path held = cache.path() / "valid-held.tmp1";
  testing::write_text(held, "x");
  age_by_seconds(held, 120);
  int fd = ::open(held.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);
  testing::write_text(other, bytes + std::string("\x00\x02\x01" "d", 4));  // new bytes again
  run_other();
  EXPECT_EQ(record_temporaries(cache.path()), std::vector<fs::path>{held});
  ::close(fd);

  // An AOT compile sweeps too.
  age_by_seconds(held, 120);
  testing::ProcResult c = testing::run_cli({"compile", "--cache-dir", cache.path().string(), hello});
  EXPECT_EQ(c.exit_code, 0) << testing::describe(c);
  EXPECT_EQ(record_temporaries(cache.path()), std::vector<fs::path>{});
}

// Killing the worker kills its compiler (the compile's supervisor sees its parent die); the
// temporary directory it leaves is swept by the next compile in that cache.
TEST(AotBackground, KillingTheWorkerLeavesNoCompilerBehind) {
  TempDir cache, bin;
  const fs::path gate = bin.path() / "gate";
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.path(), gated_compiler(bin.path(), gate), &notices);
  auto first = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(first.report.has_value()) << first.report.error().to_string();
  const int pid = first.report->background_compile_pid;
  ASSERT_GT(pid, 0);
  // The stand-in compiler (its command line names the gate) is waiting.
  const std::string needle = bin.path().string() + "/gatedcc";
  ASSERT_TRUE(wait_until([&] { return !processes_with(needle).empty(); }, 30000));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_TRUE(wait_until([&] { return processes_with(needle).empty(); }, 5000))
      << processes_with(needle).front();
  EXPECT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 5000));
  EXPECT_TRUE(files_ending(cache.path(), ".meta").empty());

  // The next background compile sweeps the dead one's directory and fills the entry.
  testing::write_text(gate, "");
  auto again = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(again.report.has_value()) << again.report.error().to_string();
  ASSERT_GT(again.report->background_compile_pid, 0);
  ASSERT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 120000));
  EXPECT_EQ(files_ending(cache.path(), ".meta").size(), 1u);
  EXPECT_EQ(files_starting(cache.path(), "tmp-"), std::vector<fs::path>{});
}

// At most kMaxBackgroundCompiles (2) workers per cache directory: a third module interprets
// without starting one.
TEST(AotBackground, AtMostTwoWorkersPerCache) {
  TempDir cache, bin;
  const fs::path gate = bin.path() / "gate";
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.path(), gated_compiler(bin.path(), gate), &notices);
  std::vector<int> pids;
  for (const char* guest : {"hello", "clocks", "random_fill"}) {
    SCOPED_TRACE(guest);
    notices.clear();
    o.wasi.args = {guest};
    auto r = testing::run_guest(guest_bytes(guest), o);
    pids.push_back(r.report ? r.report->background_compile_pid : -1);
  }
  EXPECT_GT(pids[0], 0);
  EXPECT_GT(pids[1], 0);
  EXPECT_EQ(pids[2], 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("2 background compiles are running already"), std::string::npos)
      << notices[0];
  testing::write_text(gate, "");
  EXPECT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 120000));
}


// --- compile bounds that fit the module (docs/aot.md, "Compile bounds") ------------------------

void put_leb(std::vector<uint8_t>& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<uint8_t>(b | (v != 0 ? 0x80 : 0)));
  } while (v != 0);
}

void put_section(std::vector<uint8_t>& out, uint8_t id, const std::vector<uint8_t>& body) {
  out.push_back(id);
  put_leb(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

// A valid module of `functions` functions () -> (), each `i32.const 0; drop` x `pairs`; sets
// *code_bytes to the size of its code section.
std::vector<uint8_t> generated_module(uint32_t functions, uint32_t pairs,
                                      uint64_t* code_bytes = nullptr) {
  std::vector<uint8_t> m = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  put_section(m, 1, {0x01, 0x60, 0x00, 0x00});
  std::vector<uint8_t> funcs;
  put_leb(funcs, functions);
  for (uint32_t i = 0; i < functions; ++i) funcs.push_back(0x00);
  put_section(m, 3, funcs);
  std::vector<uint8_t> code;
  put_leb(code, functions);
  for (uint32_t i = 0; i < functions; ++i) {
    std::vector<uint8_t> body = {0x00};  // no locals
    for (uint32_t k = 0; k < pairs; ++k) body.insert(body.end(), {0x41, 0x00, 0x1a});
    body.push_back(0x0b);
    put_leb(code, body.size());
    code.insert(code.end(), body.begin(), body.end());
  }
  if (code_bytes != nullptr) *code_bytes = code.size();
  put_section(m, 10, code);
  return m;
}

// The default wall-clock bound is a base plus an allowance per MiB of code, capped; an explicit
// limit is used as given.
TEST(AotCompileBounds, DefaultTimeLimitScalesWithTheCode) {
  AotOptions o;
  EXPECT_EQ(aot::compile_limits(o, 0).timeout_ms, kDefaultCompileTimeoutMs);
  EXPECT_EQ(aot::compile_limits(o).timeout_ms, kDefaultCompileTimeoutMs);
  EXPECT_EQ(aot::compile_limits(o, 1 << 20).timeout_ms,
            kDefaultCompileTimeoutMs + aot::kCompileTimeoutPerCodeMibMs);
  EXPECT_EQ(aot::compile_limits(o, 4 << 20).timeout_ms,
            kDefaultCompileTimeoutMs + 4 * aot::kCompileTimeoutPerCodeMibMs);
  EXPECT_EQ(aot::compile_limits(o, 512 << 10).timeout_ms,
            kDefaultCompileTimeoutMs + aot::kCompileTimeoutPerCodeMibMs / 2);
  // esbuild's 13.8 MB of code: 120 s + 13.2 * 150 s = 2,094 s, capped at 30 min.
  EXPECT_EQ(aot::compile_limits(o, 13800000).timeout_ms, aot::kMaxScaledCompileTimeoutMs);
  EXPECT_EQ(aot::compile_limits(o, UINT64_MAX).timeout_ms, aot::kMaxScaledCompileTimeoutMs);
  EXPECT_EQ(aot::kMaxScaledCompileTimeoutMs, 30u * 60 * 1000);
  o.compile_timeout_ms = 5000;
  EXPECT_EQ(aot::compile_limits(o, 10 << 20).timeout_ms, 5000u);
}

// The code size comes from the section headers, bounded by the bytes that are there.
TEST(AotCompileBounds, CodeSizeIsReadFromTheSectionHeaders) {
  uint64_t code = 0;
  auto m = generated_module(10, 100, &code);
  EXPECT_EQ(aot::wasm_code_bytes(m.data(), m.size()), code);
  EXPECT_GT(code, 3000u);
  // Truncated inside the code section: its declared size does not fit, so no code is claimed.
  EXPECT_EQ(aot::wasm_code_bytes(m.data(), m.size() - 1), 0u);
  // No code section, a bad magic number, a header cut in its size, an over-long LEB128.
  std::vector<uint8_t> head(m.begin(), m.begin() + 8);
  EXPECT_EQ(aot::wasm_code_bytes(head.data(), head.size()), 0u);
  auto bad = m;
  bad[1] = 'b';
  EXPECT_EQ(aot::wasm_code_bytes(bad.data(), bad.size()), 0u);
  std::vector<uint8_t> cut = head;
  cut.insert(cut.end(), {0x0a, 0x80});
  EXPECT_EQ(aot::wasm_code_bytes(cut.data(), cut.size()), 0u);
  std::vector<uint8_t> lying = head;
  lying.insert(lying.end(), {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00});
  EXPECT_EQ(aot::wasm_code_bytes(lying.data(), lying.size()), 0u);
  std::vector<uint8_t> huge = head;
  huge.insert(huge.end(), {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f});
  EXPECT_EQ(aot::wasm_code_bytes(huge.data(), huge.size()), 0u);
}

// A stand-in compiler that writes the CPU-time limit it runs under (RLIMIT_CPU: the compile's
// wall-clock limit + 2 s, docs/aot.md "Compile bounds") to `out` and fails.
std::string limit_reporting_compiler(const fs::path& dir, const fs::path& out) {
  fs::path p = dir / "limitcc";
  testing::write_text(p, "#!/bin/sh\n"
                         "if [ \"$1\" = --version ]; then exec cc --version; fi\n"
                         "ulimit -t > '" + out.string() + ".tmp'\n"
                         "mv '" + out.string() + ".tmp' '" + out.string() + "'\n"
                         "exit 1\n");
  chmod(p.c_str(), 0755);
  return p.string();
}

// The background compile of a module with ~100 KB of code runs its compiler under the scaled
// limit (120 s + 14.3 s), not the flat default: what the compiler process itself is given. So
// does a foreground compile of the same module; an explicit limit is used as given.
TEST(AotBackground, CompileTimeLimitIsScaledByTheModulesCode) {
  TempDir cache, bin;
  uint64_t code = 0;
  const auto m = generated_module(10, 3400, &code);
  ASSERT_GT(code, 100000u);
  const uint64_t scaled = aot::compile_limits(AotOptions{}, code).timeout_ms;
  ASSERT_GE(scaled, kDefaultCompileTimeoutMs + 14000);
  const std::string expect = std::to_string(scaled / 1000 + 2) + "\n";

  const fs::path seen = bin.path() / "limit";
  AotOptions o;
  o.cache_dir = cache.path().string();
  o.compiler = limit_reporting_compiler(bin.path(), seen);
  o.opt_level = 0;
  BackgroundCompile bg = start_background_compile(ModuleBytes(m), o);
  ASSERT_GT(bg.pid, 0) << bg.reason;
  ASSERT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 120000));
  EXPECT_EQ(testing::read_text(seen), expect);
  EXPECT_EQ(files_ending(cache.path(), ".failed").size(), 1u);
  EXPECT_TRUE(files_ending(cache.path(), ".meta").empty());
  EXPECT_EQ(files_starting(cache.path(), "tmp-"), std::vector<fs::path>{});

  fs::remove(seen);
  EXPECT_FALSE(aot_precompile(ModuleBytes(m), o).has_value());
  EXPECT_EQ(testing::read_text(seen), expect);

  fs::remove(seen);
  o.compile_timeout_ms = 7000;
  EXPECT_FALSE(aot_precompile(ModuleBytes(m), o).has_value());
  EXPECT_EQ(testing::read_text(seen), "9\n");
}

// `wasmcap compile` of a big module (2,000 functions or more) with stderr on a pipe: a line when
// the compile starts and then one every few seconds with functions and units compiled / total
// and an ETA, each a whole line (no terminal control characters). One job runs at a time and
// the compile lasts ~9 s.
TEST(AotProgress, PlainProgressLinesWhenStderrIsNotATerminal) {
  TempDir cache, bin;
  const fs::path module = bin.path() / "many.wasm";
  const auto m = generated_module(2000, 1);
  {
    std::string s(m.begin(), m.end());
    testing::write_text(module, s);
  }
  // timing: a stand-in compiler sleeps 6 s on the first unit; the progress lines come by the clock.
  // Units of 100 functions, smaller than module.c, which is queued first. The first unit takes
  // 6 s, the other jobs little: the line at 5 s comes when module.c is the only job done, the
  // case that once gave an ETA of 20,047 s.
  fs::path cc = bin.path() / "slowcc";
  const std::string mark = (bin.path() / "first-unit").string();
  testing::write_text(cc, "#!/bin/sh\n"
                          "if [ \"$1\" = --version ]; then exec cc --version; fi\n"
                          "case \"$*\" in *'/u'[0-9]*'.c'*)\n"
                          "  if mkdir '" + mark + "' 2>/dev/null; then sleep 6; else sleep 0.05; fi;;\n"
                          "esac\n"
                          "exec cc \"$@\"\n");
  chmod(cc.c_str(), 0755);
  testing::ProcOptions po;
  po.extra_env = {{"WASMCAP_CC", cc.string()}, {"WASMCAP_AOT_OPT", "0"},
                  {"WASMCAP_AOT_UNIT_FUNCTIONS", "100"}, {"WASMCAP_AOT_JOBS", "1"}};
  auto r = testing::run_cli({"compile", "--cache-dir", cache.path().string(), module.string()}, po);
  ASSERT_TRUE(r.exited) << testing::describe(r);
  EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\033'), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2000 functions in 22 units, 1 jobs\n"), std::string::npos) << r.err;
  // "wasmcap: compiling module (N KiB): D/2000 functions, U/22 units, S s, ETA E s\n"
  size_t lines = 0;
  for (size_t at = 0; (at = r.err.find("wasmcap: compiling module (", at)) != std::string::npos;
       ++at) {
    size_t eol = r.err.find('\n', at);
    ASSERT_NE(eol, std::string::npos) << r.err;
    std::string line = r.err.substr(at, eol - at);
    if (line.find("/2000 functions, ") == std::string::npos) continue;
    EXPECT_NE(line.find("/22 units, "), std::string::npos) << line;
    size_t eta = line.find(" s, ETA ");
    ASSERT_NE(eta, std::string::npos) << line;
    // "?" until a unit is done, then a plausible number of seconds (the whole compile is ~10 s)
    const std::string e = line.substr(eta + 8);
    if (e != "?") {
      EXPECT_LT(std::atol(e.c_str()), 600) << line;
    }
    ++lines;
  }
  EXPECT_GE(lines, 1u) << r.err;
  EXPECT_LE(lines, 4u) << r.err;  // every few seconds, not every tick
}


// --- cold start (docs/aot.md, "Cold start") --------------------------------------------------

std::string read_all(const fs::path& p) { return testing::read_text(p); }

AotOptions cache_options(const fs::path& cache) {
  AotOptions o;
  o.cache_dir = cache.string();
  o.opt_level = 0;
  return o;
}

bool loads(const AotOptions& o, const std::vector<uint8_t>& bytes, ModuleInfo* info = nullptr) {
  auto engine = make_aot_engine(o);
  auto m = engine->load(bytes.data(), bytes.size());
  if (m && info != nullptr) *info = (*m)->info();
  return m.has_value();
}

// An object verified once is trusted by its recorded identity and times; rewriting it in place
// (same size, the old mtime put back) changes its ctime, so it is hashed again, found corrupt,
// and rebuilt — never loaded.
TEST(AotColdStart, ModifiedObjectIsRehashedAndRefused) {
  TempDir cache;
  const AotOptions o = cache_options(cache.path());
  const auto bytes = guest_bytes("hello");
  ASSERT_TRUE(loads(o, bytes));
  auto sos = files_ending(cache.path(), ".so");
  ASSERT_EQ(sos.size(), 1u);
  const std::string good = read_all(sos[0]);
  // The record is written for files whose last change is over 2 s old.
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  ASSERT_TRUE(loads(o, bytes));
  ASSERT_EQ(files_ending(cache.path(), ".verified").size(), 1u);

  // Flip the last byte (the section header table: dlopen would not notice) in place.
  struct stat before;
  ASSERT_EQ(stat(sos[0].c_str(), &before), 0);
  {
    int fd = open(sos[0].c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    char c = static_cast<char>(good.back() ^ 0x5a);
    ASSERT_EQ(pwrite(fd, &c, 1, static_cast<off_t>(good.size() - 1)), 1);
    close(fd);
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, sos[0].c_str(), times, 0), 0);
  }
  struct stat after;
  ASSERT_EQ(stat(sos[0].c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  ASSERT_EQ(after.st_ino, before.st_ino);

  const std::string corrupt = read_all(sos[0]);
  ASSERT_NE(corrupt, good);
  ASSERT_TRUE(loads(o, bytes));
  EXPECT_NE(read_all(sos[0]), corrupt) << "the modified object was trusted instead of rebuilt";
}

// The module description written at the first validation replaces validation on later loads of
// the same bytes; a damaged description is ignored (the module is validated again).
TEST(AotColdStart, DescriptionIsUsedAndDamageIsIgnored) {
  TempDir cache;
  const AotOptions o = cache_options(cache.path());
  const auto bytes = guest_bytes("hello");
  ModuleInfo validated;
  ASSERT_TRUE(loads(o, bytes, &validated));
  auto descs = files_ending(cache.path(), ".desc");
  ASSERT_EQ(descs.size(), 1u);
  const std::string key = descs[0].stem().string();
  auto stored = aot::load_module_info(cache.path().string(), key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(aot::encode_module_info(*stored), aot::encode_module_info(validated));
  ASSERT_NE(validated.find_export("_start"), nullptr);

  // Used: a description naming the export differently (correctly sealed) is what load reports.
  ModuleInfo renamed = validated;
  for (auto& e : renamed.exports) {
    if (e.name == "_start") e.name = "_begin";
  }
  aot::store_module_info(cache.path().string(), key, renamed);
  ModuleInfo seen;
  ASSERT_TRUE(loads(o, bytes, &seen));
  EXPECT_NE(seen.find_export("_begin"), nullptr);

  // Damaged (one byte of the body changed, hash not updated): ignored, validated again.
  std::string text = read_all(descs[0]);
  size_t pos = text.find("6:_begin");
  ASSERT_NE(pos, std::string::npos);
  text[pos + 2] = '-';
  testing::write_text(descs[0], text);
  chmod(descs[0].c_str(), 0600);
  ASSERT_TRUE(loads(o, bytes, &seen));
  EXPECT_NE(seen.find_export("_start"), nullptr);
  EXPECT_EQ(seen.find_export("_begin"), nullptr);
}

// The decoder takes any bytes: every truncation and every single-byte change of a real
// description decodes to nothing or to a description, never a crash or an unbounded allocation.
TEST(AotColdStart, DescriptionDecoderIsStrict) {
  auto interp = make_fast_engine();
  for (const char* guest : {"hello", "host_calls", "exits"}) {
    auto bytes = guest_bytes(guest);
    auto m = interp->load(bytes.data(), bytes.size());
    ASSERT_TRUE(m.has_value()) << guest;
    const std::string body = aot::encode_module_info((*m)->info());
    auto back = aot::decode_module_info(body);
    ASSERT_TRUE(back.has_value()) << guest;
    EXPECT_EQ(aot::encode_module_info(*back), body);
    for (size_t n = 0; n < body.size(); ++n) {
      EXPECT_FALSE(aot::decode_module_info(std::string_view(body).substr(0, n)).has_value());
      std::string changed = body;
      changed[n] = static_cast<char>(changed[n] ^ 0x11);
      (void)aot::decode_module_info(changed);
    }
  }
  EXPECT_FALSE(aot::decode_module_info("0 0 99999999999 end\n").has_value());
}

// A never-seen module under --engine auto is validated once in the foreground (docs/aot.md,
// "Cold start"): the fast engine's load validates it and the aot probe describes it from that
// load — it does not describe it again. `--engine aot` describes a never-seen module with one
// validation too. (The background compile validates in its own process.)
TEST(AotColdStart, NeverSeenModuleIsValidatedOnceInTheForeground) {
  TempDir cache, bin;
  const fs::path gate = bin.path() / "gate";
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.path(), gated_compiler(bin.path(), gate), &notices);
  const auto bytes = guest_bytes("hello");
  const uint64_t validations = engine_test_hooks::module_validations();
  const uint64_t bounds = engine_test_hooks::aot_bounds_passes();
  auto r = run_module(bytes, o);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->engine, "interp");
  ASSERT_NE(r->background_compile_pid, 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("engine auto: interp; no compiled object yet"),
            std::string::npos)
      << notices[0];
  EXPECT_EQ(engine_test_hooks::module_validations() - validations, 1u)
      << "a never-seen module was validated more than once in the foreground";
  EXPECT_EQ(engine_test_hooks::aot_bounds_passes() - bounds, 0u)
      << "the aot probe decoded the module once more for the translator's bounds";
  auto descs = files_ending(cache.path(), ".desc");
  ASSERT_EQ(descs.size(), 1u);
  auto stored = aot::load_module_info(cache.path().string(), descs[0].stem().string());
  ASSERT_TRUE(stored.has_value());
  {
    std::ofstream(gate.string()) << "go\n";
    EXPECT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 120000));
  }

  // --engine aot on a never-seen module (a cache of its own; no object: cache-only load).
  TempDir cache2;
  AotOptions ao = cache_options(cache2.path());
  ao.cache_only = true;
  const uint64_t v2 = engine_test_hooks::module_validations();
  const uint64_t b2 = engine_test_hooks::aot_bounds_passes();
  auto probe = make_aot_engine(ao)->load(bytes.data(), bytes.size());
  ASSERT_FALSE(probe.has_value());
  EXPECT_EQ(probe.error().code, ErrorCode::kNotFound) << probe.error().to_string();
  EXPECT_EQ(engine_test_hooks::module_validations() - v2, 1u);
  EXPECT_EQ(engine_test_hooks::aot_bounds_passes() - b2, 0u)
      << "the aot engine decoded the module once more for the translator's bounds";
  auto descs2 = files_ending(cache2.path(), ".desc");
  ASSERT_EQ(descs2.size(), 1u);
  auto stored2 = aot::load_module_info(cache2.path().string(), descs2[0].stem().string());
  ASSERT_TRUE(stored2.has_value());

  // Both descriptions are the wabt oracle's load's (tests/support/wabt_engine), field for field.
  auto wabt = testing::make_wabt_reference_engine();
  auto m = wabt->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(aot::encode_module_info(*stored), aot::encode_module_info((*m)->info()));
  EXPECT_EQ(aot::encode_module_info(*stored2), aot::encode_module_info((*m)->info()));
}


// A module of ~100 KB (validated-module records are kept from 64 KiB on) that exports an empty
// _start: `functions` functions of `pairs` (i32.const 0, drop) each.
std::vector<uint8_t> recordable_module(uint32_t functions = 10, uint32_t pairs = 3400) {
  std::vector<uint8_t> m = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  put_section(m, 1, {0x01, 0x60, 0x00, 0x00});
  std::vector<uint8_t> funcs;
  put_leb(funcs, functions);
  funcs.resize(funcs.size() + functions, 0x00);
  put_section(m, 3, funcs);
  put_section(m, 7, {0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00});
  std::vector<uint8_t> code;
  put_leb(code, functions);
  for (uint32_t i = 0; i < functions; ++i) {
    std::vector<uint8_t> body = {0x00};  // no locals
    for (uint32_t k = 0; k < pairs; ++k) {
      body.push_back(0x41);
      body.push_back(0x00);
      body.push_back(0x1a);
    }
    body.push_back(0x0b);
    put_leb(code, body.size());
    code.insert(code.end(), body.begin(), body.end());
  }
  put_section(m, 10, code);
  return m;
}

// --engine auto keeps the fast engine's validated-module records (docs/fast-interp.md) like
// --engine interp: the first run of a never-seen module writes one, the next run (no compiled
// object yet) trusts it instead of validating again; and each run hashes the module at most once
// (the aot probe's sha256 serves the AOT cache, the module file's record and the validated-module
// record). WASMCAP_VALIDATION_CACHE=0 turns the records off under auto too.
TEST(AotColdStart, AutoKeepsValidatedModuleRecordsAndHashesOnce) {
  TempDir cache, bin, files;
  const fs::path gate = bin.path() / "gate";
  testing::write_text(gate, "go\n");  // the stand-in compiler fails at once: no object ever
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.path(), gated_compiler(bin.path(), gate, /*fail=*/true), &notices);
  const auto bytes = recordable_module();
  ASSERT_GE(bytes.size(), 64u * 1024);
  const fs::path wasm = files.path() / "m.wasm";
  testing::write_text(wasm, std::string(bytes.begin(), bytes.end()));
  auto file = read_module_file(wasm.string());
  ASSERT_TRUE(file.has_value() && file->file.has_value());
  o.module_file = file->file;
  const std::string sha = aot::module_sha256(bytes.data(), bytes.size());

  struct Counts {
    uint64_t validations, hashes, bounds;
  };
  auto counts = [] {
    return Counts{engine_test_hooks::module_validations(), engine_test_hooks::module_hashes(),
                  engine_test_hooks::aot_bounds_passes()};
  };
  auto run = [&](const RunOptions& ro, Counts* delta) {
    notices.clear();
    Counts c0 = counts();
    auto r = run_module(bytes, ro);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(r->engine, "interp");
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_EQ(notices[0].rfind("engine auto: interp", 0), 0u) << notices[0];
    Counts c1 = counts();
    *delta = {c1.validations - c0.validations, c1.hashes - c0.hashes, c1.bounds - c0.bounds};
    if (r->background_compile_pid != 0) {
      EXPECT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 60000));
    }
  };

  Counts first{};
  run(o, &first);
  EXPECT_EQ(first.validations, 1u);
  EXPECT_EQ(first.hashes, 1u) << "the first run hashed the module more than once";
  EXPECT_EQ(first.bounds, 0u);
  const fs::path record = cache.path() / ("valid-" + sha);
  ASSERT_TRUE(fs::exists(record)) << "no validated-module record under --engine auto";
  EXPECT_EQ(testing::read_text(record).rfind("wasmcap-fast-validated 4\n", 0), 0u);
  // The aot probe has the description now, so the run loads on the fast engine afresh.
  Counts second{};
  run(o, &second);
  EXPECT_EQ(second.validations, 0u) << "the record was not trusted under --engine auto";
  EXPECT_LE(second.hashes, 1u);
  EXPECT_EQ(second.bounds, 0u);
  // Without a file identity (bytes from elsewhere): still one hash.
  RunOptions no_file = o;
  no_file.module_file.reset();
  Counts third{};
  run(no_file, &third);
  EXPECT_EQ(third.validations, 0u);
  EXPECT_EQ(third.hashes, 1u);

  // Records off: none written, every run validates.
  TempDir cache2;
  RunOptions off = auto_options(cache2.path(), o.aot.compiler, &notices);
  ASSERT_EQ(setenv("WASMCAP_VALIDATION_CACHE", "0", 1), 0);
  Counts a{}, b{};
  run(off, &a);
  run(off, &b);
  unsetenv("WASMCAP_VALIDATION_CACHE");
  EXPECT_EQ(a.validations, 1u);
  EXPECT_EQ(b.validations, 1u);
  EXPECT_TRUE(files_starting(cache2.path(), "valid-").empty());
}

// The background compile's worker keys the cache on the sha256 it is given (the probe's): it
// does not hash the module again (aot_precompile, which the worker runs).
TEST(AotColdStart, PrecompileUsesTheGivenHash) {
  TempDir cache, bin;
  const fs::path gate = bin.path() / "gate";
  testing::write_text(gate, "go\n");
  AotOptions o = cache_options(cache.path());
  o.compiler = gated_compiler(bin.path(), gate, /*fail=*/true);
  const auto bytes = recordable_module();
  const std::string sha = aot::module_sha256(bytes.data(), bytes.size());
  std::string key_given, key_hashed;
  const uint64_t h0 = engine_test_hooks::module_hashes();
  EXPECT_FALSE(aot_precompile(ModuleBytes(bytes).with_sha256(sha), o, &key_given).has_value());
  EXPECT_EQ(engine_test_hooks::module_hashes() - h0, 0u);
  EXPECT_FALSE(aot_precompile(ModuleBytes(bytes), o, &key_hashed).has_value());
  EXPECT_EQ(engine_test_hooks::module_hashes() - h0, 1u);
  EXPECT_EQ(key_given, key_hashed);
}

// A stand-in compiler at `path` that answers --version with `version` and appends a line to
// `count` each time it does. Written to a temporary name and renamed into place: a new file
// (inode, mtime) as a package upgrade would leave it.
void identity_compiler(const fs::path& path, const std::string& version, const fs::path& count) {
  const fs::path tmp = path.string() + ".new";
  testing::write_text(tmp, "#!/bin/sh\n"
                           "if [ \"$1\" = --version ]; then echo run >> '" + count.string() +
                           "'; echo '" + version + "'; exit 0; fi\n"
                           "exit 1\n");
  chmod(tmp.c_str(), 0755);
  fs::rename(tmp, path);
}

size_t lines(const fs::path& p) {
  const std::string t = testing::read_text(p);
  return static_cast<size_t>(std::count(t.begin(), t.end(), '\n'));
}

// Why a cached run still resolves the compiler (docs/aot.md, "Cache"): the key covers the
// compiler's identity (resolved path + `--version` text), so an object built by another
// compiler, or by this one before it changed, is never found. The identity's memo is keyed by
// the binary's stat signature: an unchanged compiler is not run again, a replaced one is.
TEST(AotColdStart, CompilerIdentityIsInTheKeyAndItsMemoFollowsTheBinary) {
  TempDir cache, bin;
  const fs::path count = bin.path() / "version-runs";
  const fs::path cc = bin.path() / "cc-a", other = bin.path() / "cc-b";
  identity_compiler(cc, "idcc 1", count);
  identity_compiler(other, "idcc 1", count);
  AotOptions o = cache_options(cache.path());
  const std::string sha = std::string(64, 'a');
  auto key_with = [&](const fs::path& compiler) {
    AotOptions c = o;
    c.compiler = compiler.string();
    auto tc = aot::make_toolchain(c, cache.path().string());
    EXPECT_TRUE(tc.has_value()) << tc.error().to_string();
    return tc ? aot::cache_key_for_module_hash(sha, *tc) : std::string();
  };
  const std::string a1 = key_with(cc);
  ASSERT_FALSE(a1.empty());
  EXPECT_EQ(lines(count), 1u);
  EXPECT_EQ(key_with(cc), a1);
  EXPECT_EQ(lines(count), 1u) << "an unchanged compiler's identity comes from the memo";
  // Another compiler binary (same version text, other path): another key.
  EXPECT_NE(key_with(other), a1);
  EXPECT_EQ(lines(count), 2u);
  // The compiler replaced in place by another version: run again, another key.
  identity_compiler(cc, "idcc 2", count);
  const std::string a2 = key_with(cc);
  EXPECT_EQ(lines(count), 3u) << "a replaced compiler was trusted by its stale memo";
  EXPECT_NE(a2, a1);
  // ... and back: the identity is the binary's answer, not its file.
  identity_compiler(cc, "idcc 1", count);
  EXPECT_EQ(key_with(cc), a1);
  EXPECT_EQ(lines(count), 4u);
  // No compiler at all: no key, so no object of any compiler is loaded.
  AotOptions none = o;
  none.compiler = (bin.path() / "missing-cc").string();
  auto tc = aot::make_toolchain(none, cache.path().string());
  ASSERT_FALSE(tc.has_value());
  EXPECT_EQ(tc.error().code, ErrorCode::kNotFound);
}

// The number of compilers a split compile runs at once is counted when a compile needs it, not
// by make_toolchain (a cached run never does: it read /sys for it on every load).
TEST(AotColdStart, CompileJobsAreCountedOnlyForACompile) {
  unsetenv("WASMCAP_AOT_JOBS");
  TempDir cache;
  AotOptions o = cache_options(cache.path());
  auto tc = aot::make_toolchain(o, cache.path().string());
  if (!tc && tc.error().code == ErrorCode::kNotFound) GTEST_SKIP() << "no C compiler";
  ASSERT_TRUE(tc.has_value()) << tc.error().to_string();
  EXPECT_EQ(tc->jobs, 0u);
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  EXPECT_EQ(aot::compile_jobs(*tc), static_cast<unsigned>(std::clamp<long>(cpus, 1, 64)));
  o.compile_jobs = 3;
  tc = aot::make_toolchain(o, cache.path().string());
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(tc->jobs, 3u);
  EXPECT_EQ(aot::compile_jobs(*tc), 3u);
  o.compile_jobs = 1000;
  tc = aot::make_toolchain(o, cache.path().string());
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(aot::compile_jobs(*tc), 64u);
  setenv("WASMCAP_AOT_JOBS", "2", 1);
  o.compile_jobs = 0;
  tc = aot::make_toolchain(o, cache.path().string());
  unsetenv("WASMCAP_AOT_JOBS");
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(aot::compile_jobs(*tc), 2u);
}

// Only an engine that checks links before compiling asks for the table: an interpreted run (a
// cold start, one per CLI process) does not pay for building it (EngineConfig::link_check).
TEST(AotColdStart, InterpretedRunBuildsNoLinkCheckTable) {
  TempDir cache;
  RunOptions o;
  o.engine = "interp";
  o.aot = cache_options(cache.path());
  const uint64_t before = runtime_test_hooks::link_signature_tables();
  auto r = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(r.report.has_value()) << r.report.error().to_string();
  EXPECT_EQ(runtime_test_hooks::link_signature_tables(), before);
}

// The link check's table of host signatures (WASI, and WASI + https) is built once per process
// and shared by every later run, also runs started on several threads at once.
TEST(AotColdStart, LinkCheckTableIsBuiltOncePerProcess) {
  TempDir cache, bin;
  const fs::path count = bin.path() / "version-runs";
  const fs::path cc = bin.path() / "cc";
  identity_compiler(cc, "idcc 1", count);  // never asked to compile: the module cannot link
  auto run_once = [&](bool https) {
    RunOptions o;
    o.engine = "aot";
    o.aot = cache_options(cache.path());
    o.aot.compiler = cc.string();
    if (https) o.host_apis.add(Capability::kHostApiHttps);
    auto r = testing::run_guest(guest_bytes("link_unknown_func"), o);
    ASSERT_FALSE(r.report.has_value());
    // With https and no plan, the run's own table is refused (invalid_argument) after the link
    // check's table was used.
    if (!https) {
      EXPECT_EQ(r.report.error().code, ErrorCode::kLinkError) << r.report.error().to_string();
    }
  };
  const uint64_t t0 = runtime_test_hooks::link_signature_tables();
  run_once(false);
  const uint64_t t1 = runtime_test_hooks::link_signature_tables();
  EXPECT_LE(t1 - t0, 1u);
  EXPECT_GE(t1, 1u);
  run_once(false);
  EXPECT_EQ(runtime_test_hooks::link_signature_tables(), t1);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { run_once(true); });
  for (auto& t : threads) t.join();
  run_once(true);
  run_once(false);
  EXPECT_LE(runtime_test_hooks::link_signature_tables(), t1 + 1);
  EXPECT_GE(runtime_test_hooks::link_signature_tables(), 2u);
}

// --- found by the spec suite on aot ------------------------------------------------------------

// An imported function called through a table: wasm2c 1.0.32 records a wrong instance pointer
// for it, which crashed the host (SIGSEGV in the dispatcher) — with a pointer a module shapes
// through its own table sizes. The runtime now takes the instance from the thread. Run in a
// child process, so the old behaviour shows as a signal, not a dead test binary.
TEST(AotIndirectImport, CallIndirectOfAnImportedFunctionReachesTheHost) {
  TempDir cache;
  const std::string wasm = testing::guest_path("indirect_import");
  auto want = testing::run_cli({"run", "--engine", "interp", wasm});
  ASSERT_TRUE(want.exited) << testing::describe(want);
  ASSERT_EQ(want.exit_code, 7) << testing::describe(want);
  testing::ProcOptions po;
  po.extra_env = {{"WASMCAP_AOT_OPT", "0"}};
  auto got = testing::run_cli(
      {"run", "--engine", "aot", "--cache-dir", cache.path().string(), wasm}, po);
  EXPECT_TRUE(got.exited) << testing::describe(got);
  EXPECT_EQ(got.exit_code, 7) << testing::describe(got);
  EXPECT_EQ(got.out, want.out);
  EXPECT_EQ(got.out, "indirect import ok\n");
}


// A SIMD instruction that wabt 1.0.32's reader lets through with SIMD disabled
// (v128.load8x8_s): the translator must refuse the module (module_unsupported) instead of
// letting wabt's C writer abort the process (simd_align in the spec suite on aot). Run through
// the CLI: before, `wasmcap compile` died with SIGABRT.
TEST(AotSimd, LoadExtendIsRefusedNotFatal) {
  TempDir tmp;
  // (module (memory 1) (func i32.const 0 v128.load8x8_s align=1 drop))
  const std::vector<uint8_t> bytes = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x0a, 0x0b, 0x01, 0x09, 0x00,
      0x41, 0x00, 0xfd, 0x01, 0x00, 0x00, 0x1a, 0x0b};
  const fs::path wasm = tmp.path() / "load8x8.wasm";
  testing::write_text(wasm, std::string(bytes.begin(), bytes.end()));
  auto interp = make_fast_engine();
  ASSERT_TRUE(interp->load(bytes.data(), bytes.size()).has_value()) << "a valid module";
  auto r = testing::run_cli({"compile", "--cache-dir", (tmp.path() / "cache").string(), wasm.string()});
  EXPECT_TRUE(r.exited) << testing::describe(r);
  EXPECT_EQ(r.exit_code, error_exit_code(ErrorCode::kModuleUnsupported)) << testing::describe(r);
  EXPECT_NE(r.err.find("SIMD"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wasmcap
