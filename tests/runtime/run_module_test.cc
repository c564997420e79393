// run_module: entry points (commands, reactors, --invoke), and how outcomes map to results.
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "test_support.h"

namespace wasmcap {
namespace {

using testing::Captured;
using testing::guest_bytes;
using testing::run_guest;

TEST(RunModule, CommandRunsStart) {
  RunOptions o;
  o.wasi.args = {"hello", "x"};
  Captured c = run_guest("hello", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 0);
  EXPECT_EQ(c.out, "hello from wasm\narg[1]=x\n");
  EXPECT_GE(c.report->wall_ms, 0.0);
  // Engines that meter count instructions; others (aot) report 0.
  if (testing::test_engine_has(Capability::kLimitFuel)) {
    EXPECT_GT(c.report->fuel_consumed, 0u);
  }
}

TEST(RunModule, ReactorInitializeRunsBeforeTheInvokedExport) {
  RunOptions o;
  o.entry = "run";
  Captured c = run_guest("reactor", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 7);  // the state _initialize set
}

// If _initialize calls proc_exit, the run is over: the invoked export must not run and the
// status is _initialize's.
TEST(RunModule, ExitDuringInitializeEndsTheRun) {
  RunOptions o;
  o.entry = "run";
  Captured c = run_guest("reactor_init_exits", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 3) << "the export ran after _initialize exited";
}

TEST(RunModule, MissingEntryIsNoEntryPoint) {
  RunOptions o;
  Captured c = run_guest("values", o);  // no _start
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kNoEntryPoint);
  o.entry = "nope";
  Captured d = run_guest("hello", o);
  ASSERT_FALSE(d.report.has_value());
  EXPECT_EQ(d.report.error().code, ErrorCode::kNoEntryPoint);
  EXPECT_NE(d.report.error().message.find("nope"), std::string::npos);
}

TEST(RunModule, TrapsKeepTheirCode) {
  RunOptions o;
  o.entry = "div_zero_s";
  Captured c = run_guest("traps", o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kTrapIntegerDivideByZero);
  o.entry = "recurse_forever";
  Captured d = run_guest("traps", o);
  ASSERT_FALSE(d.report.has_value());
  EXPECT_EQ(d.report.error().code, ErrorCode::kTrapStackExhausted);
}

// A huge timeout means "practically unlimited"; it must not overflow into a deadline in the
// past (which would fail every run at once with deadline_exceeded).
TEST(RunModule, HugeTimeoutDoesNotOverflow) {
  for (uint64_t ms : {uint64_t{10000000000000}, ~uint64_t{0}}) {
    RunOptions o;
    o.timeout_ms = ms;
    o.wasi.args = {"hello"};
    Captured c = run_guest("hello", o);
    if (c.report.has_value()) {
      EXPECT_EQ(c.out, "hello from wasm\n");
    } else {
      EXPECT_EQ(c.report.error().code, ErrorCode::kInvalidArgument)
          << "timeout_ms=" << ms << ": " << c.report.error().to_string();
    }
  }
}

TEST(RunModule, UnknownEngineIsRefused) {
  RunOptions o;
  o.engine = "v8";
  Captured c = run_guest("hello", o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(c.report.error().message.find("interp"), std::string::npos);
}

// The product's engines are interp, aot and auto. wabt's interpreter is the tests' oracle, not
// an engine of the product, and "fast" was another name of interp: both are unknown names, and
// the error lists the engines there are. interp names itself "interp" (RunReport::engine,
// `--json`, plan and audit records).
TEST(RunModule, EnginesAreInterpAotAndAuto) {
  for (const char* name : {"wabt", "fast"}) {
    auto e = make_engine(name);
    ASSERT_FALSE(e.has_value()) << name;
    EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(e.error().message,
              "unknown engine '" + std::string(name) + "'; available engines: interp, aot, auto");
  }
  auto interp = make_engine("interp");
  ASSERT_TRUE(interp.has_value()) << interp.error().to_string();
  EXPECT_EQ((*interp)->name(), "interp");
  RunOptions o;
  o.engine = "interp";
  o.wasi.args = {"hello"};
  auto r = run_module(guest_bytes("hello"), o);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->engine, "interp");
}

TEST(RunModule, MissingPreopenDirectoryIsAnError) {
  RunOptions o;
  o.wasi.preopens.push_back(Preopen{"/nonexistent/wasmcap/dir", "/x", false});
  Captured c = run_guest("hello", o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kNotFound);
  EXPECT_NE(c.report.error().message.find("/nonexistent/wasmcap/dir"), std::string::npos);
}

TEST(RunModule, MalformedBytesAreModuleMalformed) {
  std::vector<uint8_t> junk = {'n', 'o', 't', ' ', 'w', 'a', 's', 'm'};
  RunOptions o;
  Captured c = run_guest(junk, o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kModuleMalformed);
}

// --- read_module_file (docs/aot.md, "Cold start") -----------------------------------------------

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 131 + (i >> 12));
  return v;
}

void write_file_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(f.good());
}

TEST(ReadModuleFile, RegularFileHasItsBytesAndIdentity) {
  testing::TempDir d;
  for (size_t n : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{300001}}) {
    SCOPED_TRACE(n);
    const auto p = d.path() / ("m" + std::to_string(n));
    const auto want = pattern(n);
    write_file_bytes(p, want);
    auto f = read_module_file(p.string());
    ASSERT_TRUE(f.has_value()) << f.error().to_string();
    EXPECT_EQ(f->bytes, want);
    ASSERT_TRUE(f->file.has_value());
    EXPECT_EQ(f->file->size, n);
    EXPECT_EQ(f->file->path, p.string());
  }
  auto missing = read_module_file((d.path() / "none.wasm").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// A file holding less than its stat size says (a sysfs file: 4096) gives what it holds, and no
// identity: its size does not describe the bytes.
// A module file is bounded: an endless one is refused after a byte more than the bound, and a
// regular file whose size is beyond it before any byte is read (a sparse 2 GiB file here: it
// would otherwise be read whole into memory).
TEST(ReadModuleFile, EndlessFileIsRefusedAtTheBound) {
  auto f = read_module_file("/dev/zero", 1 << 20);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ErrorCode::kModuleUnsupported) << f.error().to_string();
  auto ok = read_module_file("/sys/devices/system/cpu/online", 1 << 20);
  if (ok) {
    EXPECT_LT(ok->bytes.size(), size_t{1} << 20);
  }
}

TEST(ReadModuleFile, FileBeyondTheBoundIsRefusedBeforeItIsRead) {
  testing::TempDir d;
  const auto p = d.path() / "big.wasm";
  {
    int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, static_cast<off_t>(kMaxModuleFileBytes) * 2), 0);
    close(fd);
  }
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  auto f = read_module_file(p.string());
  getrusage(RUSAGE_SELF, &after);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ErrorCode::kModuleUnsupported) << f.error().to_string();
  // Refused from its size: well under a second of CPU (reading 2 GiB of zeros takes more).
  const double cpu = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
                     (after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
                     (after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6 +
                     (after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
  EXPECT_LT(cpu, 0.2);
  // At the bound exactly, a (small) bound is fine.
  const auto q = d.path() / "exact.wasm";
  write_file_bytes(q, pattern(4096));
  auto g = read_module_file(q.string(), 4096);
  ASSERT_TRUE(g.has_value()) << g.error().to_string();
  EXPECT_EQ(g->bytes.size(), 4096u);
  EXPECT_FALSE(read_module_file(q.string(), 4095).has_value());
}

TEST(ReadModuleFile, FileShorterThanItsStatSizeGivesWhatItHolds) {
  const std::string path = "/sys/devices/system/cpu/online";
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || st.st_size <= 0) GTEST_SKIP() << "no " << path;
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_LT(text.size(), static_cast<size_t>(st.st_size));
  auto f = read_module_file(path);
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  EXPECT_EQ(std::string(f->bytes.begin(), f->bytes.end()), text);
  EXPECT_FALSE(f->file.has_value());
}

// A pipe (no size) longer than the first buffer (64 KiB): the buffer grows, nothing is lost.
TEST(ReadModuleFile, PipeLongerThanTheFirstBufferIsReadWhole) {
  testing::TempDir d;
  const auto fifo = d.path() / "pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const auto want = pattern(300001);
  std::thread writer([&] {
    int fd = open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t at = 0;
    while (at < want.size()) {
      ssize_t n = write(fd, want.data() + at, std::min<size_t>(want.size() - at, 7000));
      if (n <= 0) break;
      at += static_cast<size_t>(n);
    }
    close(fd);
  });
  auto f = read_module_file(fifo.string());
  writer.join();
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  EXPECT_EQ(f->bytes, want);
  EXPECT_FALSE(f->file.has_value());
}

// The buffer's pages are faulted in by one call (MADV_POPULATE_WRITE), not one page fault per
// 4 KiB page while it is zero-filled: counted as the user-mode page faults of this thread while
// a 33 MiB module (above glibc's largest mmap threshold: always a fresh mapping) is read. Skipped
// where perf events are not allowed or the kernel has no MADV_POPULATE_WRITE.
TEST(ReadModuleFile, BufferPagesAreNotFaultedInOneByOne) {
#ifndef MADV_POPULATE_WRITE
  GTEST_SKIP() << "no MADV_POPULATE_WRITE";
#else
  {
    std::vector<char> probe(1 << 16);
    if (madvise(reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(probe.data()) + 4095) & ~uintptr_t{4095}),
                4096, MADV_POPULATE_WRITE) != 0) {
      GTEST_SKIP() << "the kernel has no MADV_POPULATE_WRITE";
    }
  }
  struct perf_event_attr attr {};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_PAGE_FAULTS;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  int pfd = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  if (pfd < 0) GTEST_SKIP() << "perf_event_open: " << std::strerror(errno);
  testing::TempDir d;
  const auto p = d.path() / "big.wasm";
  const size_t size = size_t{33} << 20;
  write_file_bytes(p, pattern(size));
  ioctl(pfd, PERF_EVENT_IOC_RESET, 0);
  ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
  auto f = read_module_file(p.string());
  ioctl(pfd, PERF_EVENT_IOC_DISABLE, 0);
  uint64_t faults = 0;
  ASSERT_EQ(read(pfd, &faults, sizeof faults), static_cast<ssize_t>(sizeof faults));
  close(pfd);
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  ASSERT_EQ(f->bytes.size(), size);
  const uint64_t pages = size / 4096;
  // Half the pages: without the prefault every page faults (8,449 for 8,448); under ASan the
  // checks of the zero-fill and the read touch the shadow of the buffer (1/8 of its size, twice:
  // ~2,100 faults with the prefault).
  EXPECT_LT(faults, pages / 2) << faults << " page faults for " << pages << " pages";
#endif
}

}  // namespace
}  // namespace wasmcap
