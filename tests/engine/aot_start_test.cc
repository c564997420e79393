// Starting on the AOT tier (docs/aot.md, "Engine choice" and "Background compile"): `--engine
// auto` never blocks a first run on a compile. Ordering, not timing: a stand-in compiler waits
// for a gate file the test creates, so "the run finished before the cache entry existed" is a
// fact the test arranges, not a race it hopes to win.
#include "aot_start_support.h"

namespace wasmcap {
namespace {

using namespace aot_start_test;

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


}  // namespace
}  // namespace wasmcap
