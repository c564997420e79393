// The non-filesystem WASI host, through guests: args and environ (and nothing leaking from
// the host), clocks, random, poll_oneoff, sched_yield, proc_exit, unsupported functions, and
// hostile pointers (every pointer-taking call answers EFAULT, never crashes the host).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/wasi.h"

namespace wasmcap {
namespace {

using testing::Captured;
using testing::guest_bytes;
using testing::guest_path;
using testing::key_values;
using testing::run_cli;
using testing::run_guest;

constexpr uint32_t kEfault = 21, kEbadf = 8, kEinval = 28, kEnosys = 52, kEnotsock = 57,
                   kSuccess = 0;
constexpr uint32_t kBad = 0xFFFFFFF0u;  // far outside any guest memory
constexpr uint32_t kPage = 65536;

// --- args and environment -------------------------------------------------------------------

constexpr const char* kCanaryName = "WASMCAP_LEAK_CANARY";
constexpr const char* kCanaryValue = "host-secret-7f3a9c";

TEST(WasiArgsEnv, ExactlyAsGivenAndNothingFromTheHost) {
  ::setenv(kCanaryName, kCanaryValue, 1);
  RunOptions o;
  o.wasi.args = {"prog", "a b", "", "ünï", "--fuel", "x=y"};
  o.wasi.env = {{"A", "1"}, {"EMPTY", ""}, {"WITH_EQ", "p=q"}};
  Captured c = run_guest("args_env", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 0);
  EXPECT_EQ(c.out,
            "argc=6\n"
            "arg[0]=[prog]\n"
            "arg[1]=[a b]\n"
            "arg[2]=[]\n"
            "arg[3]=[ünï]\n"
            "arg[4]=[--fuel]\n"
            "arg[5]=[x=y]\n"
            "envc=3\n"
            "env[0]=[A=1]\n"
            "env[1]=[EMPTY=]\n"
            "env[2]=[WITH_EQ=p=q]\n");
  EXPECT_EQ(c.out.find(kCanaryValue), std::string::npos);
  ::unsetenv(kCanaryName);
}

TEST(WasiArgsEnv, SecureDefaultsAreEmpty) {
  ::setenv(kCanaryName, kCanaryValue, 1);
  RunOptions o;
  o.wasi.args = {"only"};
  Captured c = run_guest(guest_bytes("args_env"), o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.out, "argc=1\narg[0]=[only]\nenvc=0\n");
  ::unsetenv(kCanaryName);
}

TEST(WasiArgsEnv, CliPassesArgsAndEnvButNotItsOwnEnvironment) {
  testing::ProcOptions po;
  po.extra_env = {{kCanaryName, kCanaryValue}, {"HOME", "/nonexistent-home"}};
  auto r = run_cli({"run", "--env", "GREETING=hi there", "--env", "EMPTY=", "--argv0", "tool",
                    guest_path("args_env"), "first", "--fuel", "5", "", "--dir", "/"},
                   po);
  ASSERT_TRUE(r.exited) << testing::describe(r);
  EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
  EXPECT_EQ(r.out,
            "argc=7\n"
            "arg[0]=[tool]\n"
            "arg[1]=[first]\n"
            "arg[2]=[--fuel]\n"
            "arg[3]=[5]\n"
            "arg[4]=[]\n"
            "arg[5]=[--dir]\n"
            "arg[6]=[/]\n"
            "envc=2\n"
            "env[0]=[GREETING=hi there]\n"
            "env[1]=[EMPTY=]\n")
      << testing::describe(r);
  EXPECT_EQ(r.out.find(kCanaryValue), std::string::npos);
  EXPECT_EQ(r.out.find("HOME"), std::string::npos);
  EXPECT_EQ(r.out.find("PATH"), std::string::npos);
}

// --- stdio: what a guest sees of its streams ---------------------------------------------------

// The guest's view of fds 0-2 (guest/tests/stdio_type.c) with `in` behind stdin and `out`
// described as what the stdout sink writes to (as the shell does; the test captures the lines).
std::string stdio_view(int in, int out) {
  RunOptions o;
  o.wasi.stdin_fd = in;
  o.wasi.stdout_sink_fd = out;
  Captured c = run_guest("stdio_type", o);
  EXPECT_TRUE(c.report.has_value()) << c.report.error().to_string();
  return c.out;
}

std::string stdio_line(int fd, int tty, int filetype) {
  return "fd=" + std::to_string(fd) + " isatty=" + std::to_string(tty) +
         " filetype=" + std::to_string(filetype) + "\n";
}

// Only a terminal is a character device (wasi-libc's isatty() is "a character device without
// seek or tell rights"): before, every stdio stream was one, so a guest could not tell a file or
// a pipe from a terminal and `python3 - < FILE` printed Python's interactive banner and prompts.
// A regular file is a regular file (4), a socket a stream socket (6); a pipe, /dev/null and no
// descriptor at all are of unknown type (0), as wasmtime reports a stream that is not a terminal.
TEST(WasiStdio, OnlyATerminalIsACharacterDevice) {
  testing::TempDir tmp;
  testing::write_text(tmp.path() / "in", "data\n");
  int file = ::open((tmp.path() / "in").c_str(), O_RDONLY | O_CLOEXEC);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int p[2], sock[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock), 0);
  ASSERT_GE(file, 0);
  ASSERT_GE(null, 0);
  const std::string unknown_out = stdio_line(1, 0, 0) + stdio_line(2, 0, 0);
  EXPECT_EQ(stdio_view(file, -1), stdio_line(0, 0, 4) + unknown_out);
  EXPECT_EQ(stdio_view(p[0], -1), stdio_line(0, 0, 0) + unknown_out);
  EXPECT_EQ(stdio_view(null, null), stdio_line(0, 0, 0) + unknown_out);
  EXPECT_EQ(stdio_view(-1, -1), stdio_line(0, 0, 0) + unknown_out);
  EXPECT_EQ(stdio_view(sock[0], file), stdio_line(0, 0, 6) + stdio_line(1, 0, 4) +
                                           stdio_line(2, 0, 0));
  // A pseudo-terminal is a terminal, on stdin and behind the stdout sink.
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master >= 0 && ::grantpt(master) == 0 && ::unlockpt(master) == 0) {
    int tty = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(tty, 0);
    EXPECT_EQ(stdio_view(tty, tty),
              stdio_line(0, 1, 2) + stdio_line(1, 1, 2) + stdio_line(2, 0, 0));
    ::close(tty);
  } else {
    ADD_FAILURE() << "no pseudo-terminal: " << std::strerror(errno);
  }
  if (master >= 0) ::close(master);
  for (int fd : {file, null, p[0], p[1], sock[0], sock[1]}) ::close(fd);
}

// --- clocks, random, poll, yield ---------------------------------------------------------------

TEST(WasiClocks, AllClocksWork) {
  RunOptions o;
  Captured c = run_guest("clocks", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 0) << c.out;
  auto kv = key_values(c.out);
  auto host_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  ASSERT_TRUE(kv.count("realtime")) << c.out;
  double realtime = std::stod(kv["realtime"]);
  EXPECT_NEAR(realtime, static_cast<double>(host_now), 60e9) << "guest realtime far from host";
  EXPECT_EQ(kv["monotonic_ok"], "1");
  EXPECT_GT(std::stoull(kv["monotonic"]), 0u);
  for (const char* res : {"realtime_res", "monotonic_res", "process_cputime_res",
                          "thread_cputime_res"}) {
    ASSERT_TRUE(kv.count(res)) << res;
    EXPECT_GE(std::stoull(kv[res]), 1u) << res;
    EXPECT_LE(std::stoull(kv[res]), 1000000000ull) << res;
  }
  EXPECT_GT(std::stoull(kv["process_cputime"]), 0u);
  EXPECT_EQ(kv["process_cputime_advanced"], "1");
  EXPECT_GT(std::stoull(kv["thread_cputime"]), 0u);
  EXPECT_EQ(kv["invalid_clock_errno"], "28");
  EXPECT_EQ(kv["invalid_clock_errno_big"], "28");
  EXPECT_EQ(kv["invalid_res_errno"], "28");
}

TEST(WasiRandom, FillsBuffers) {
  Captured c = run_guest("random_fill", {});
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 0) << c.out;
  auto kv = key_values(c.out);
  EXPECT_EQ(kv["len0_errno"], "0");
  EXPECT_EQ(kv["fill_errno"], "0");
  EXPECT_GT(std::stoi(kv["nonzero_bytes"]), 200);  // ~255 expected for random bytes
  EXPECT_EQ(kv["distinct"], "1");
  EXPECT_EQ(kv["tail_untouched"], "1");
}

TEST(WasiPoll, ClockSubscriptionSleepsAndReportsTheEvent) {
  RunOptions o;
  o.wasi.args = {"poll_sleep", "100"};
  Captured c = run_guest("poll_sleep", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  auto kv = key_values(c.out);
  EXPECT_EQ(kv["rel_errno"], "0") << c.out;
  EXPECT_EQ(kv["nevents"], "1");
  EXPECT_EQ(kv["userdata"], std::to_string(0xC10C));
  EXPECT_EQ(kv["type"], "0");  // clock
  EXPECT_EQ(kv["event_errno"], "0");
  int elapsed = std::stoi(kv["elapsed_ms"]);
  EXPECT_GE(elapsed, 90) << "returned early";
  EXPECT_LT(elapsed, 2000) << "slept far too long";
  EXPECT_EQ(kv["abs_errno"], "0");
  EXPECT_EQ(kv["abs_userdata"], std::to_string(0xAB5));
  int abs_elapsed = std::stoi(kv["abs_elapsed_ms"]);
  EXPECT_GE(abs_elapsed, 40);
  EXPECT_LT(abs_elapsed, 2000);
  EXPECT_EQ(kv["zero_subs_errno"], "28");
  EXPECT_EQ(kv["yield_errno"], "0");
}

// A long poll_oneoff sleep ends at the run's deadline.
TEST(WasiPoll, SleepIsCutAtTheDeadline) {
  RunOptions o;
  o.timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  Captured c = run_guest("sleep", o);  // _start sleeps 10 s
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kDeadlineExceeded) << c.report.error().to_string();
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
}

// --- proc_exit ------------------------------------------------------------------------------

TEST(WasiExit, StatusPropagatesInProcess) {
  struct Case {
    const char* entry;
    int32_t want;
  } cases[] = {{"_start", 42}, {"exit0", 0}, {"exit1", 1}, {"exit255", 255},
               {"exit256", 256}, {"exit_neg", -1}, {"ret", 0}};
  for (const auto& c : cases) {
    RunOptions o;
    o.entry = c.entry;
    Captured r = run_guest("exits", o);
    ASSERT_TRUE(r.report.has_value()) << c.entry << ": " << r.report.error().to_string();
    EXPECT_EQ(r.report->exit_code, c.want) << c.entry;
  }
}

TEST(WasiExit, StatusIsTheCliExitCode) {
  auto r = run_cli({"run", guest_path("exits")});
  EXPECT_TRUE(r.exited && r.exit_code == 42) << testing::describe(r);
  EXPECT_TRUE(r.err.empty()) << r.err;
  for (auto [entry, want] : {std::pair{"exit0", 0}, std::pair{"exit1", 1},
                             std::pair{"exit255", 255}, std::pair{"ret", 0}}) {
    auto e = run_cli({"run", "--invoke", entry, guest_path("exits")});
    EXPECT_TRUE(e.exited && e.exit_code == want) << entry << "\n" << testing::describe(e);
  }
  for (auto [arg, want] : {std::pair{"0", 0}, std::pair{"3", 3}, std::pair{"77", 77}}) {
    auto e = run_cli({"run", guest_path("exit_status"), arg});
    EXPECT_TRUE(e.exited && e.exit_code == want) << arg << "\n" << testing::describe(e);
  }
}

// --- a write into a closed pipe --------------------------------------------------------------

// write_loop (guest/tests/write_loop.c) writing `lines` lines to stdout: either to the host fd
// `out` (no sink) or to `sink`; stderr is captured.
Captured write_loop(bool exit_on_broken_pipe, int out, OutputSink sink, const char* lines = "1") {
  RunOptions o;
  o.engine = testing::test_engine_name();
  o.wasi.args = {"write_loop", lines};
  o.wasi.stdout_fd = out;
  o.wasi.stdout_sink = std::move(sink);
  o.wasi.exit_on_broken_pipe = exit_on_broken_pipe;
  auto err = std::make_shared<std::string>();
  o.wasi.stderr_sink = [err](const uint8_t* d, size_t n) {
    err->append(reinterpret_cast<const char*>(d), n);
    return true;
  };
  Captured c;
  c.report = run_module(testing::guest_bytes("write_loop"), std::move(o));
  c.err = *err;
  return c;
}

// With exit_on_broken_pipe, a guest whose stdout reader is gone ends at that write as SIGPIPE
// ends a POSIX process: status 141, nothing said (the shell's `yes | head -1`). Without it (what
// `wasmcap run` does) the guest sees EPIPE and reports it itself.
TEST(WasiStdio, BrokenPipeEndsTheRunOnlyWhenAsked) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::close(p[0]);
  // The host's write(2) into the pipe raises SIGPIPE in this process: ignored for the test.
  struct sigaction ignore {}, saved {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &saved), 0);
  Captured on = write_loop(true, p[1], nullptr);
  Captured off = write_loop(false, p[1], nullptr);
  ::sigaction(SIGPIPE, &saved, nullptr);
  ::close(p[1]);
  ASSERT_TRUE(on.report.has_value()) << on.report.error().to_string();
  EXPECT_EQ(on.report->exit_code, 141);
  EXPECT_EQ(on.err, "");
  ASSERT_TRUE(off.report.has_value()) << off.report.error().to_string();
  EXPECT_EQ(off.report->exit_code, 3);
  EXPECT_EQ(off.err, "write error: Broken pipe\n");

  // A sink says its reader is gone with errno EPIPE (the shell's, from write(2)); the run ends at
  // the failing write even after earlier ones went through.
  auto pipe_sink = [](int take) {
    return [left = take](const uint8_t*, size_t) mutable {
      if (left-- > 0) return true;
      errno = EPIPE;
      return false;
    };
  };
  Captured sink_on = write_loop(true, -1, pipe_sink(2), "10");
  ASSERT_TRUE(sink_on.report.has_value()) << sink_on.report.error().to_string();
  EXPECT_EQ(sink_on.report->exit_code, 141);
  EXPECT_EQ(sink_on.err, "");
  Captured sink_off = write_loop(false, -1, pipe_sink(2), "10");
  ASSERT_TRUE(sink_off.report.has_value()) << sink_off.report.error().to_string();
  EXPECT_EQ(sink_off.report->exit_code, 3);
  EXPECT_EQ(sink_off.err, "write error: I/O error\n");

  // A sink that refuses for another reason is EIO, whatever errno held before it was called (an
  // earlier successful call left EPIPE there).
  auto stale = [calls = 0](const uint8_t*, size_t) mutable {
    if (calls++ > 0) return false;  // errno untouched
    errno = EPIPE;
    return true;
  };
  Captured refused = write_loop(true, -1, stale, "10");
  ASSERT_TRUE(refused.report.has_value()) << refused.report.error().to_string();
  EXPECT_EQ(refused.report->exit_code, 3);
  EXPECT_EQ(refused.err, "write error: I/O error\n");
}

// --- raw probe: unsupported functions and hostile pointers --------------------------------------

TEST(WasiProbe, UnsupportedFunctionsReturnErrnoThroughTheCli) {
  auto r = run_cli({"run", guest_path("probe")});
  ASSERT_TRUE(r.exited) << testing::describe(r);
  EXPECT_EQ(r.exit_code, 0) << "probe check number " << r.exit_code << " failed\n"
                            << testing::describe(r);
}

// The probe module instantiated in-process against a real WASI host, so each import can be
// called with chosen arguments and the guest memory inspected afterwards.
class Probe {
 public:
  explicit Probe(WasiConfig config) {
    config.stdout_sink = [this](const uint8_t* d, size_t n) {
      out_.append(reinterpret_cast<const char*>(d), n);
      ++writes_;
      return true;
    };
    config.stderr_sink = config.stdout_sink;
    auto host = make_wasi_host(std::move(config));
    EXPECT_TRUE(host.has_value()) << host.error().to_string();
    if (!host) return;
    host_ = *host;
    register_wasi(host_, table_);
    auto bytes = guest_bytes("probe");
    auto m = engine_->load(bytes.data(), bytes.size());
    EXPECT_TRUE(m.has_value());
    if (!m) return;
    auto inst = engine_->instantiate(*m, table_, {});
    EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
    if (inst) instance_ = std::move(*inst);
  }
  bool ok() const { return instance_ != nullptr; }

  // Calls w_<fn>; returns the errno, or 0xDEAD on a trap/error (which fails the test).
  uint32_t call(const std::string& fn, const std::vector<Value>& args) {
    auto r = instance_->call("w_" + fn, args);
    EXPECT_TRUE(r.has_value()) << fn << " trapped: " << r.error().to_string();
    if (!r || r->results.empty()) return 0xDEAD;
    return r->results[0].i32;
  }
  GuestMemory mem() { return instance_->memory(); }
  Instance& instance() { return *instance_; }
  const std::string& output() const { return out_; }
  size_t writes() const { return writes_; }  // calls of the output sink

 private:
  std::unique_ptr<Engine> engine_ = testing::make_test_engine();
  std::shared_ptr<WasiHost> host_;
  HostFuncTable table_;
  std::unique_ptr<Instance> instance_;
  std::string out_;
  size_t writes_ = 0;
};

Value I32(uint32_t v) { return Value::I32(v); }
Value I64(uint64_t v) { return Value::I64(v); }

WasiConfig probe_config(const testing::TempDir& dir) {
  WasiConfig c;
  c.args = {"probe", "arg1"};
  c.env = {{"KEY", "value"}};
  c.preopens.push_back(Preopen{dir.str(), "/sandbox", false});
  return c;
}

TEST(WasiProbe, UnsupportedFunctionsReturnTheirErrno) {
  testing::TempDir dir;
  Probe p(probe_config(dir));
  ASSERT_TRUE(p.ok());
  for (uint32_t fd : {0u, 1u, 2u, 3u}) {  // stdio and the preopen are not sockets
    EXPECT_EQ(p.call("sock_accept", {I32(fd), I32(0), I32(64)}), kEnotsock) << fd;
    EXPECT_EQ(p.call("sock_recv", {I32(fd), I32(64), I32(1), I32(0), I32(96), I32(100)}),
              kEnotsock)
        << fd;
    EXPECT_EQ(p.call("sock_send", {I32(fd), I32(64), I32(1), I32(0), I32(96)}), kEnotsock) << fd;
    EXPECT_EQ(p.call("sock_shutdown", {I32(fd), I32(3)}), kEnotsock) << fd;
  }
  for (uint32_t fd : {4u, 99u, 0x7fffffffu, 0xffffffffu}) {
    EXPECT_EQ(p.call("sock_accept", {I32(fd), I32(0), I32(64)}), kEbadf) << fd;
    EXPECT_EQ(p.call("sock_recv", {I32(fd), I32(64), I32(1), I32(0), I32(96), I32(100)}), kEbadf)
        << fd;
    EXPECT_EQ(p.call("sock_send", {I32(fd), I32(64), I32(1), I32(0), I32(96)}), kEbadf) << fd;
    EXPECT_EQ(p.call("sock_shutdown", {I32(fd), I32(3)}), kEbadf) << fd;
  }
  // Hostile pointers do not change the answer for sockets (nothing is dereferenced).
  EXPECT_EQ(p.call("sock_recv", {I32(1), I32(kBad), I32(9), I32(0), I32(kBad), I32(kBad)}),
            kEnotsock);
  for (uint32_t sig : {0u, 2u, 6u, 9u, 15u, 1000u}) {
    EXPECT_EQ(p.call("proc_raise", {I32(sig)}), kEnosys) << sig;
  }
  EXPECT_EQ(p.call("sched_yield", {}), kSuccess);
  EXPECT_EQ(p.call("clock_time_get", {I32(4), I64(1), I32(64)}), kEinval);
  EXPECT_EQ(p.call("clock_res_get", {I32(0xffffffffu), I32(64)}), kEinval);
}

TEST(WasiProbe, ProcExitEndsTheCallWithTheStatus) {
  testing::TempDir dir;
  Probe p(probe_config(dir));
  ASSERT_TRUE(p.ok());
  auto r = p.instance().call("w_proc_exit", {I32(7)});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->exited);
  EXPECT_EQ(r->exit_code, 7);
}

TEST(WasiProbe, ValidPointersWork) {
  testing::TempDir dir;
  Probe p(probe_config(dir));
  ASSERT_TRUE(p.ok());
  GuestMemory m = p.mem();
  uint32_t argc = 0, argsz = 0;
  ASSERT_EQ(p.call("args_sizes_get", {I32(0), I32(4)}), kSuccess);
  ASSERT_TRUE(m.load<uint32_t>(0, &argc) && m.load<uint32_t>(4, &argsz));
  EXPECT_EQ(argc, 2u);
  EXPECT_EQ(argsz, 11u);  // "probe\0arg1\0"
  ASSERT_EQ(p.call("args_get", {I32(16), I32(64)}), kSuccess);
  uint32_t a0 = 0, a1 = 0;
  ASSERT_TRUE(m.load<uint32_t>(16, &a0) && m.load<uint32_t>(20, &a1));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.range(a0, 6))), "probe");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.range(a1, 5))), "arg1");
  ASSERT_EQ(p.call("environ_sizes_get", {I32(0), I32(4)}), kSuccess);
  ASSERT_TRUE(m.load<uint32_t>(0, &argc) && m.load<uint32_t>(4, &argsz));
  EXPECT_EQ(argc, 1u);
  EXPECT_EQ(argsz, 10u);  // "KEY=value\0"

  // fd_prestat_get / dir_name for the preopen.
  ASSERT_EQ(p.call("fd_prestat_get", {I32(3), I32(128)}), kSuccess);
  uint8_t tag = 9;
  uint32_t len = 0;
  ASSERT_TRUE(m.load<uint8_t>(128, &tag) && m.load<uint32_t>(132, &len));
  EXPECT_EQ(tag, 0);
  EXPECT_EQ(len, 8u);
  ASSERT_EQ(p.call("fd_prestat_dir_name", {I32(3), I32(256), I32(8)}), kSuccess);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.range(256, 8)), 8), "/sandbox");
  EXPECT_EQ(p.call("fd_prestat_get", {I32(1), I32(128)}), kEbadf);  // stdout is no preopen
  EXPECT_EQ(p.call("fd_prestat_get", {I32(4), I32(128)}), kEbadf);

  // fd_write of two iovecs to stdout: one write, as a writev of at most PIPE_BUF bytes to a
  // pipe is (a reader never sees half of it).
  std::memcpy(m.range(1000, 6), "hello ", 6);
  std::memcpy(m.range(2000, 6), "world\n", 6);
  ASSERT_TRUE(m.store<uint32_t>(512, 1000) && m.store<uint32_t>(516, 6) &&
              m.store<uint32_t>(520, 2000) && m.store<uint32_t>(524, 6));
  ASSERT_EQ(p.call("fd_write", {I32(1), I32(512), I32(2), I32(600)}), kSuccess);
  uint32_t written = 0;
  ASSERT_TRUE(m.load<uint32_t>(600, &written));
  EXPECT_EQ(written, 12u);
  EXPECT_EQ(p.output(), "hello world\n");
  EXPECT_EQ(p.writes(), 1u);
  // Without stdin granted, fd_read sees EOF.
  ASSERT_EQ(p.call("fd_read", {I32(0), I32(512), I32(1), I32(600)}), kSuccess);
  ASSERT_TRUE(m.load<uint32_t>(600, &written));
  EXPECT_EQ(written, 0u);
  // A closed stdout is EBADF afterwards.
  ASSERT_EQ(p.call("fd_close", {I32(1)}), kSuccess);
  EXPECT_EQ(p.call("fd_write", {I32(1), I32(512), I32(2), I32(600)}), kEbadf);
  EXPECT_EQ(p.call("fd_close", {I32(1)}), kEbadf);
}

// Every pointer-taking non-filesystem function, with each pointer in turn replaced by one
// outside memory (0xFFFFFFF0) or straddling its end: EFAULT, no partial write, no crash.
TEST(WasiProbe, OutOfRangePointersAreEfault) {
  testing::TempDir dir;
  Probe p(probe_config(dir));
  ASSERT_TRUE(p.ok());
  GuestMemory m = p.mem();
  ASSERT_EQ(m.size(), kPage);
  // Sentinel over the last 64 bytes, to catch partial writes of straddling outputs.
  std::memset(m.range(kPage - 64, 64), 0xCC, 64);
  auto tail_intact = [&] {
    const uint8_t* t = m.range(kPage - 64, 64);
    for (int i = 0; i < 64; ++i) {
      if (t[i] != 0xCC) return false;
    }
    return true;
  };

  struct Case {
    const char* fn;
    std::vector<Value> args;
  };
  const std::vector<Case> cases = {
      {"args_get", {I32(kBad), I32(64)}},
      {"args_get", {I32(0), I32(kBad)}},
      {"args_get", {I32(kPage - 4), I32(64)}},   // 2 pointers, room for 1
      {"args_get", {I32(0), I32(kPage - 5)}},    // 11 bytes of strings, room for 5
      {"args_sizes_get", {I32(kBad), I32(4)}},
      {"args_sizes_get", {I32(0), I32(kBad)}},
      {"args_sizes_get", {I32(0), I32(kPage - 2)}},
      {"environ_get", {I32(kBad), I32(64)}},
      {"environ_get", {I32(0), I32(kBad)}},
      {"environ_get", {I32(0), I32(kPage - 3)}},
      {"environ_sizes_get", {I32(kBad), I32(4)}},
      {"environ_sizes_get", {I32(0), I32(kBad)}},
      {"clock_time_get", {I32(0), I64(1), I32(kBad)}},
      {"clock_time_get", {I32(1), I64(1), I32(kPage - 4)}},  // 8-byte result
      {"clock_time_get", {I32(2), I64(1), I32(0xFFFFFFFFu)}},
      {"clock_res_get", {I32(0), I32(kBad)}},
      {"clock_res_get", {I32(1), I32(kPage - 7)}},
      {"fd_write", {I32(1), I32(kBad), I32(1), I32(64)}},    // iovec array outside
      {"fd_write", {I32(1), I32(kPage - 4), I32(1), I32(64)}},  // iovec straddles
      {"fd_write", {I32(1), I32(1024), I32(1), I32(64)}},    // iovec -> buffer outside
      {"fd_write", {I32(1), I32(1032), I32(1), I32(64)}},    // iovec -> buffer straddles
      {"fd_write", {I32(1), I32(1040), I32(2), I32(64)}},    // 2nd iovec bad
      {"fd_write", {I32(1), I32(1040), I32(1), I32(kBad)}},  // nwritten outside
      {"fd_write", {I32(2), I32(1040), I32(1), I32(kPage - 2)}},
      {"fd_read", {I32(0), I32(kBad), I32(1), I32(64)}},
      {"fd_read", {I32(0), I32(1024), I32(1), I32(64)}},
      {"fd_read", {I32(0), I32(1032), I32(1), I32(64)}},
      {"fd_read", {I32(0), I32(1040), I32(1), I32(kBad)}},
      {"fd_fdstat_get", {I32(1), I32(kBad)}},
      {"fd_fdstat_get", {I32(3), I32(kPage - 16)}},  // 24-byte fdstat
      {"fd_prestat_get", {I32(3), I32(kBad)}},
      {"fd_prestat_get", {I32(3), I32(kPage - 4)}},  // 8-byte prestat
      {"fd_prestat_dir_name", {I32(3), I32(kBad), I32(8)}},
      {"fd_prestat_dir_name", {I32(3), I32(kPage - 4), I32(8)}},
      {"random_get", {I32(kBad), I32(16)}},
      {"random_get", {I32(kPage - 8), I32(16)}},
      {"random_get", {I32(0), I32(0xFFFFFFFFu)}},
      {"poll_oneoff", {I32(kBad), I32(4096), I32(1), I32(64)}},
      {"poll_oneoff", {I32(kPage - 24), I32(4096), I32(1), I32(64)}},  // 48-byte subscription
      {"poll_oneoff", {I32(2048), I32(kBad), I32(1), I32(64)}},
      {"poll_oneoff", {I32(2048), I32(kPage - 16), I32(1), I32(64)}},  // 32-byte event
      {"poll_oneoff", {I32(2048), I32(4096), I32(1), I32(kBad)}},
      {"poll_oneoff", {I32(2048), I32(4096), I32(2), I32(64)}},  // 2nd subscription... fine
  };
  // iovecs used above: @1024 {buf=kBad, len=16}; @1032 {buf=kPage-8, len=16};
  // @1040 {buf=3000, len=4} then @1048 {buf=kBad, len=4}.
  ASSERT_TRUE(m.store<uint32_t>(1024, kBad) && m.store<uint32_t>(1028, 16));
  ASSERT_TRUE(m.store<uint32_t>(1032, kPage - 8) && m.store<uint32_t>(1036, 16));
  ASSERT_TRUE(m.store<uint32_t>(1040, 3000) && m.store<uint32_t>(1044, 4));
  ASSERT_TRUE(m.store<uint32_t>(1048, kBad) && m.store<uint32_t>(1052, 4));
  std::memcpy(m.range(3000, 4), "BAD!", 4);
  // A valid clock subscription at 2048 (sleep 0) for the poll cases.
  std::memset(m.range(2048, 96), 0, 96);
  ASSERT_TRUE(m.store<uint32_t>(2048 + 16, 1));

  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    uint32_t got = p.call(c.fn, c.args);
    if (i + 1 == cases.size()) {
      // Two subscriptions, both in range: the second one is zeroed memory = a clock
      // subscription on clock 0 with timeout 0; must succeed.
      EXPECT_EQ(got, kSuccess) << c.fn << " case " << i;
      continue;
    }
    EXPECT_EQ(got, kEfault) << c.fn << " case " << i;
    EXPECT_TRUE(tail_intact()) << c.fn << " case " << i << " wrote past the end of memory";
    std::memset(m.range(kPage - 64, 64), 0xCC, 64);
  }
  // Nothing reached stdout/stderr from the faulting writes.
  EXPECT_EQ(p.output(), "");
  // The host is fine: a normal call still works.
  EXPECT_EQ(p.call("clock_time_get", {I32(0), I64(1), I32(kPage - 8)}), kSuccess);
}

TEST(WasiProbe, HugeCountsAreRefusedNotAllocated) {
  testing::TempDir dir;
  Probe p(probe_config(dir));
  ASSERT_TRUE(p.ok());
  // Counts whose byte size overflows 32 bits or exceeds memory must not crash or allocate.
  EXPECT_NE(p.call("fd_write", {I32(1), I32(0), I32(0x20000001u), I32(64)}), kSuccess);
  EXPECT_NE(p.call("fd_read", {I32(0), I32(0), I32(0xFFFFFFFFu), I32(64)}), kSuccess);
  EXPECT_NE(p.call("poll_oneoff", {I32(0), I32(4096), I32(0x10000000u), I32(64)}), kSuccess);
  EXPECT_NE(p.call("poll_oneoff", {I32(0), I32(4096), I32(0xFFFFFFFFu), I32(64)}), kSuccess);
  EXPECT_EQ(p.output(), "");
}

// The table register_wasi builds (from constant data, one binding function for every import):
// every WASI preview 1 import, named as wasi_function_names() says, with the signature of the
// WASI specification (written out here, not derived from the host's members).
TEST(WasiRegister, EveryImportHasTheSpecificationsSignature) {
  const ValType I = ValType::kI32, L = ValType::kI64;
  const std::vector<std::pair<std::string, std::vector<ValType>>> spec = {
      {"args_get", {I, I}},
      {"args_sizes_get", {I, I}},
      {"environ_get", {I, I}},
      {"environ_sizes_get", {I, I}},
      {"clock_res_get", {I, I}},
      {"clock_time_get", {I, L, I}},
      {"fd_advise", {I, L, L, I}},
      {"fd_allocate", {I, L, L}},
      {"fd_close", {I}},
      {"fd_datasync", {I}},
      {"fd_fdstat_get", {I, I}},
      {"fd_fdstat_set_flags", {I, I}},
      {"fd_fdstat_set_rights", {I, L, L}},
      {"fd_filestat_get", {I, I}},
      {"fd_filestat_set_size", {I, L}},
      {"fd_filestat_set_times", {I, L, L, I}},
      {"fd_pread", {I, I, I, L, I}},
      {"fd_prestat_get", {I, I}},
      {"fd_prestat_dir_name", {I, I, I}},
      {"fd_pwrite", {I, I, I, L, I}},
      {"fd_read", {I, I, I, I}},
      {"fd_readdir", {I, I, I, L, I}},
      {"fd_renumber", {I, I}},
      {"fd_seek", {I, L, I, I}},
      {"fd_sync", {I}},
      {"fd_tell", {I, I}},
      {"fd_write", {I, I, I, I}},
      {"path_create_directory", {I, I, I}},
      {"path_filestat_get", {I, I, I, I, I}},
      {"path_filestat_set_times", {I, I, I, I, L, L, I}},
      {"path_link", {I, I, I, I, I, I, I}},
      {"path_open", {I, I, I, I, I, L, L, I, I}},
      {"path_readlink", {I, I, I, I, I, I}},
      {"path_remove_directory", {I, I, I}},
      {"path_rename", {I, I, I, I, I, I}},
      {"path_symlink", {I, I, I, I, I}},
      {"path_unlink_file", {I, I, I}},
      {"poll_oneoff", {I, I, I, I}},
      {"proc_raise", {I}},
      {"sched_yield", {}},
      {"random_get", {I, I}},
      {"sock_accept", {I, I, I}},
      {"sock_recv", {I, I, I, I, I, I}},
      {"sock_send", {I, I, I, I, I}},
      {"sock_shutdown", {I, I}},
  };
  auto host = make_wasi_host(WasiConfig{});
  ASSERT_TRUE(host.has_value()) << host.error().to_string();
  HostFuncTable table;
  register_wasi(*host, table);
  // Preview 1's functions and proc_exit, then wasi_unstable's (snapshot 0, mapped as wasmtime
  // maps it): every Preview 1 name but sock_accept, and proc_exit.
  ASSERT_EQ(table.funcs().size(), 2 * spec.size() + 1);
  ASSERT_EQ(wasi_function_names().size(), spec.size() + 1);
  for (size_t i = 0; i < spec.size(); ++i) {
    const HostFunc& f = table.funcs()[i];
    SCOPED_TRACE(spec[i].first);
    EXPECT_EQ(f.module, "wasi_snapshot_preview1");
    EXPECT_EQ(f.name, spec[i].first);
    EXPECT_EQ(wasi_function_names()[i], spec[i].first);
    EXPECT_EQ(f.sig, (FuncSig{spec[i].second, {I}})) << f.sig.to_string();
    EXPECT_TRUE(static_cast<bool>(f.callback));
  }
  const HostFunc& exit_fn = table.funcs()[spec.size()];
  EXPECT_EQ(exit_fn.module, "wasi_snapshot_preview1");
  EXPECT_EQ(exit_fn.name, "proc_exit");
  EXPECT_EQ(exit_fn.sig, (FuncSig{{I}, {}}));
  std::map<std::string, FuncSig> p1;
  for (const auto& [name, params] : spec) p1.emplace(name, FuncSig{params, {I}});
  std::set<std::string> unstable;
  for (size_t i = spec.size() + 1; i + 1 < table.funcs().size(); ++i) {
    const HostFunc& f = table.funcs()[i];
    SCOPED_TRACE(f.name);
    EXPECT_EQ(f.module, "wasi_unstable");
    ASSERT_TRUE(p1.count(f.name)) << "not a Preview 1 name";
    EXPECT_EQ(f.sig, p1.at(f.name)) << f.sig.to_string();
    EXPECT_TRUE(static_cast<bool>(f.callback));
    unstable.insert(f.name);
  }
  EXPECT_EQ(unstable.size(), spec.size() - 1);
  EXPECT_EQ(unstable.count("sock_accept"), 0u);
  const HostFunc& unstable_exit = table.funcs().back();
  EXPECT_EQ(unstable_exit.module, "wasi_unstable");
  EXPECT_EQ(unstable_exit.name, "proc_exit");
  EXPECT_EQ(unstable_exit.sig, (FuncSig{{I}, {}}));
}

}  // namespace
}  // namespace wasmcap
