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
#include <thread>

#include "engine/aot/aot_link.h"
#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::guest_bytes;

struct TempDir {
  fs::path dir;
  TempDir() {
    char tmpl[] = "/tmp/wasmcap-aot-start-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

std::vector<fs::path> with_suffix(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(e.path());
    }
  }
  return out;
}

std::vector<fs::path> tmp_dirs(const fs::path& cache) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(cache, ec)) {
    if (e.path().filename().string().rfind("tmp-", 0) == 0) out.push_back(e.path());
  }
  return out;
}

// Live (not zombie) processes whose command line contains `needle`.
std::vector<std::string> processes_with(const std::string& needle) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
    if (pid == std::to_string(getpid())) continue;
    std::string cmd = testing::read_text(e.path() / "cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) != std::string::npos) out.push_back(pid + ": " + cmd.substr(0, 200));
  }
  return out;
}

bool alive(int pid) {  // running, not a zombie waiting to be reaped
  std::string stat = testing::read_text("/proc/" + std::to_string(pid) + "/stat");
  size_t close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() &&
         stat[close_paren + 2] != 'Z' && stat[close_paren + 2] != 'X';
}

template <typename F>
bool wait_for(F cond, int ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
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
  const fs::path gate = bin.dir / "gate";
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.dir, gated_compiler(bin.dir, gate), &notices);

  auto first = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(first.report.has_value()) << first.report.error().to_string();
  EXPECT_EQ(first.out, "hello from wasm\n");
  EXPECT_EQ(first.report->engine, "fast");
  const int pid = first.report->background_compile_pid;
  ASSERT_GT(pid, 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("engine auto: fast interpreter"), std::string::npos) << notices[0];
  EXPECT_NE(notices[0].find("in the background (pid " + std::to_string(pid) + ")"),
            std::string::npos)
      << notices[0];
  // The order of events: the run is over, the compile is not (it waits for the gate).
  EXPECT_TRUE(with_suffix(cache.dir, ".meta").empty());
  EXPECT_TRUE(alive(pid));

  // A second run while the compile is under way interprets too and starts no second compile.
  notices.clear();
  auto second = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(second.report.has_value()) << second.report.error().to_string();
  EXPECT_EQ(second.report->engine, "fast");
  EXPECT_EQ(second.report->background_compile_pid, 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("another process is compiling this module"), std::string::npos)
      << notices[0];

  testing::write_text(gate, "");
  ASSERT_TRUE(wait_for([&] { return workers_done(cache.dir); }, 120000));
  EXPECT_EQ(with_suffix(cache.dir, ".meta").size(), 1u);
  EXPECT_EQ(tmp_dirs(cache.dir), std::vector<fs::path>{});
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
  const fs::path gate = bin.dir / "gate";
  const std::string cc = gated_compiler(bin.dir, gate);
  const std::string hello = testing::guest_path("hello");
  testing::ProcOptions po;
  po.extra_env = {{"WASMCAP_CC", cc}, {"WASMCAP_AOT_OPT", "0"}};
  auto a = testing::run_cli({"run", "--engine", "auto", "--cache-dir", cache.dir.string(), hello}, po);
  ASSERT_TRUE(a.exited) << testing::describe(a);
  EXPECT_EQ(a.exit_code, 0) << testing::describe(a);
  EXPECT_EQ(a.out, "hello from wasm\n");
  const std::string prefix = "wasmcap: engine auto: fast interpreter; no compiled object yet: "
                             "compiling for aot in the background (pid ";
  ASSERT_EQ(a.err.rfind(prefix, 0), 0u) << a.err;
  EXPECT_EQ(std::count(a.err.begin(), a.err.end(), '\n'), 1) << a.err;
  int pid = std::atoi(a.err.c_str() + prefix.size());
  ASSERT_GT(pid, 0);
  // Our pipes reached end-of-file, yet the worker still runs: it holds none of our descriptors.
  EXPECT_TRUE(alive(pid)) << "the run returned only after the background compile ended";
  EXPECT_TRUE(with_suffix(cache.dir, ".meta").empty());

  auto q = testing::run_cli(
      {"run", "--engine", "auto", "-q", "--cache-dir", cache.dir.string(), hello}, po);
  EXPECT_EQ(q.exit_code, 0) << testing::describe(q);
  EXPECT_EQ(q.err, "");

  testing::write_text(gate, "");
  ASSERT_TRUE(wait_for([&] { return workers_done(cache.dir); }, 120000));
  auto b = testing::run_cli({"run", "--engine", "auto", "--cache-dir", cache.dir.string(), hello}, po);
  EXPECT_EQ(b.exit_code, 0) << testing::describe(b);
  EXPECT_EQ(b.out, "hello from wasm\n");
  EXPECT_EQ(b.err, "wasmcap: engine auto: aot (compiled object from the cache)\n");
}

// A background compile that fails leaves no entry and no temporary directory, and a marker that
// stops every later run from starting the same doomed compile; --wait-for-compile retries in
// the foreground (and, failing again, interprets).
TEST(AotBackground, FailedCompileIsRecordedAndNotRepeated) {
  TempDir cache, bin;
  const fs::path gate = bin.dir / "gate";
  testing::write_text(gate, "");
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.dir, gated_compiler(bin.dir, gate, /*fail=*/true), &notices);
  auto first = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(first.report.has_value()) << first.report.error().to_string();
  ASSERT_GT(first.report->background_compile_pid, 0);
  ASSERT_TRUE(wait_for([&] { return workers_done(cache.dir); }, 60000));
  EXPECT_EQ(with_suffix(cache.dir, ".failed").size(), 1u);
  EXPECT_TRUE(with_suffix(cache.dir, ".meta").empty());
  EXPECT_EQ(tmp_dirs(cache.dir), std::vector<fs::path>{});

  notices.clear();
  auto second = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(second.report.has_value()) << second.report.error().to_string();
  EXPECT_EQ(second.report->engine, "fast");
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

// Killing the worker kills its compiler (the compile's supervisor sees its parent die); the
// temporary directory it leaves is swept by the next compile in that cache.
TEST(AotBackground, KillingTheWorkerLeavesNoCompilerBehind) {
  TempDir cache, bin;
  const fs::path gate = bin.dir / "gate";
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.dir, gated_compiler(bin.dir, gate), &notices);
  auto first = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(first.report.has_value()) << first.report.error().to_string();
  const int pid = first.report->background_compile_pid;
  ASSERT_GT(pid, 0);
  // The stand-in compiler (its command line names the gate) is waiting.
  const std::string needle = bin.dir.string() + "/gatedcc";
  ASSERT_TRUE(wait_for([&] { return !processes_with(needle).empty(); }, 30000));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_TRUE(wait_for([&] { return processes_with(needle).empty(); }, 5000))
      << processes_with(needle).front();
  EXPECT_TRUE(wait_for([&] { return workers_done(cache.dir); }, 5000));
  EXPECT_TRUE(with_suffix(cache.dir, ".meta").empty());

  // The next background compile sweeps the dead one's directory and fills the entry.
  testing::write_text(gate, "");
  auto again = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(again.report.has_value()) << again.report.error().to_string();
  ASSERT_GT(again.report->background_compile_pid, 0);
  ASSERT_TRUE(wait_for([&] { return workers_done(cache.dir); }, 120000));
  EXPECT_EQ(with_suffix(cache.dir, ".meta").size(), 1u);
  EXPECT_EQ(tmp_dirs(cache.dir), std::vector<fs::path>{});
}

// At most kMaxBackgroundCompiles (2) workers per cache directory: a third module interprets
// without starting one.
TEST(AotBackground, AtMostTwoWorkersPerCache) {
  TempDir cache, bin;
  const fs::path gate = bin.dir / "gate";
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.dir, gated_compiler(bin.dir, gate), &notices);
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
  EXPECT_TRUE(wait_for([&] { return workers_done(cache.dir); }, 120000));
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
  const AotOptions o = cache_options(cache.dir);
  const auto bytes = guest_bytes("hello");
  ASSERT_TRUE(loads(o, bytes));
  auto sos = with_suffix(cache.dir, ".so");
  ASSERT_EQ(sos.size(), 1u);
  const std::string good = read_all(sos[0]);
  // The record is written for files whose last change is over 2 s old.
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  ASSERT_TRUE(loads(o, bytes));
  ASSERT_EQ(with_suffix(cache.dir, ".verified").size(), 1u);

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
  const AotOptions o = cache_options(cache.dir);
  const auto bytes = guest_bytes("hello");
  ModuleInfo validated;
  ASSERT_TRUE(loads(o, bytes, &validated));
  auto descs = with_suffix(cache.dir, ".desc");
  ASSERT_EQ(descs.size(), 1u);
  const std::string key = descs[0].stem().string();
  auto stored = aot::load_module_info(cache.dir.string(), key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(aot::encode_module_info(*stored), aot::encode_module_info(validated));
  ASSERT_NE(validated.find_export("_start"), nullptr);

  // Used: a description naming the export differently (correctly sealed) is what load reports.
  ModuleInfo renamed = validated;
  for (auto& e : renamed.exports) {
    if (e.name == "_start") e.name = "_begin";
  }
  aot::store_module_info(cache.dir.string(), key, renamed);
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
  auto interp = make_interp_engine();
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
      {"run", "--engine", "aot", "--cache-dir", cache.dir.string(), wasm}, po);
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
  const fs::path wasm = tmp.dir / "load8x8.wasm";
  testing::write_text(wasm, std::string(bytes.begin(), bytes.end()));
  auto interp = make_interp_engine();
  ASSERT_TRUE(interp->load(bytes.data(), bytes.size()).has_value()) << "a valid module";
  auto r = testing::run_cli({"compile", "--cache-dir", (tmp.dir / "cache").string(), wasm.string()});
  EXPECT_TRUE(r.exited) << testing::describe(r);
  EXPECT_EQ(r.exit_code, error_exit_code(ErrorCode::kModuleUnsupported)) << testing::describe(r);
  EXPECT_NE(r.err.find("SIMD"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wasmcap
