// Shared helpers for wasmcap's GoogleTest suites: guest modules, temp dirs, child processes
// with a watchdog, and in-process runs with captured output. Header-only; each test
// executable includes it (tests/<dir>/CMakeLists.txt adds tests/support to the include path).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <ostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"
#include "wasmcap/wasi.h"

#include "test_paths.h"

namespace wasmcap {
// Readable ErrorCode values in GoogleTest failure messages ("trap_unreachable").
inline void PrintTo(ErrorCode c, std::ostream* os) { *os << error_code_name(c); }
}  // namespace wasmcap

namespace wasmcap::testing {

inline std::string guest_path(const std::string& name) {
  return std::string(test_paths::guest_dir()) + "/" + name + ".wasm";
}

inline std::string cli_path() { return test_paths::cli(); }

// The engine under test: $WASMCAP_TEST_ENGINE, default "interp". ctest runs the engine and
// runtime suites once per product engine, interp and aot (tests/CMakeLists.txt:
// wasmcap_aot_variant); the aot variant shares one cache directory inside the build tree, so each
// guest compiles once per build.
inline std::string test_engine_name() {
  const char* e = std::getenv("WASMCAP_TEST_ENGINE");
  // The shared test cache, for this process and the wasmcap CLIs it starts.
  if (e != nullptr && std::string(e) == "aot") {
    setenv("WASMCAP_CACHE_DIR", test_paths::aot_test_cache(), 0);
    setenv("WASMCAP_AOT_OPT", "1", 0);  // tests check behaviour; -O1 compiles ~2x faster
  }
  return e != nullptr && *e != '\0' ? std::string(e) : std::string("interp");
}

inline std::unique_ptr<Engine> make_test_engine() {
  auto e = make_engine(test_engine_name());
  if (!e) {
    ADD_FAILURE() << e.error().to_string();
    return make_fast_engine();
  }
  return std::move(*e);
}

// True when the engine under test provides `c` (e.g. limits.fuel: not on aot).
inline bool test_engine_has(Capability c) { return make_test_engine()->capabilities().has(c); }

#define WASMCAP_SKIP_UNLESS_ENGINE_HAS(cap)                                                  \
  do {                                                                                     \
    if (!::wasmcap::testing::test_engine_has(cap)) {                                       \
      GTEST_SKIP() << "engine " << ::wasmcap::testing::test_engine_name() << " does not provide " \
                   << ::wasmcap::capability_name(cap);                                     \
    }                                                                                      \
  } while (0)

// The bytes of build/guest/NAME.wasm (a test failure, and empty, when missing).
inline std::vector<uint8_t> guest_bytes(const std::string& name) {
  auto bytes = read_file_bytes(guest_path(name));
  EXPECT_TRUE(bytes.has_value()) << "guest " << name << ": " << bytes.error().to_string();
  return bytes ? *bytes : std::vector<uint8_t>{};
}

// (module (func (export "f") (result i32) (i32.const K))): 34 bytes, the same size for every
// K < 64 (a one-byte LEB), so modules that differ only in K can replace each other in place.
inline std::vector<uint8_t> answer_module(uint8_t k) {
  return {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // preamble
          0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,        // type: () -> i32
          0x03, 0x02, 0x01, 0x00,                          // func 0: type 0
          0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,         // export "f" = func 0
          0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, k, 0x0b};    // code: i32.const k
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Creates the parent directories as needed.
inline void write_text(const std::filesystem::path& p, const std::string& s) {
  std::error_code ec;  // (a failure shows as the file missing, as before)
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

inline std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line)) v.push_back(line);
  return v;
}

// How many times `needle` occurs in `hay` (overlapping ones too): where a secret must show up
// exactly once, or never.
inline size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// Parses "key=value" lines.
inline std::map<std::string, std::string> key_values(const std::string& s) {
  std::map<std::string, std::string> m;
  for (const auto& line : lines_of(s)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

// A fresh directory under the test temp dir, removed (without following symlinks) at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "wasmcap-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char* p = mkdtemp(buf.data());
    if (p == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    path_ = std::filesystem::canonical(p);
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    // Make read-only dirs writable again so everything can be removed.
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
      }
    }
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // path()/REL as a string (for command lines and messages).
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }
  // Writes `text` to path()/REL, creating the parent directories; returns the file's path.
  std::string write(const std::string& rel, const std::string& text) const {
    write_text(path_ / rel, text);
    return *this / rel;
  }

 private:
  std::filesystem::path path_;
};

// The entries of `dir` whose names start with `prefix` / end with `suffix` (".so", "tmp-"),
// sorted. A directory that cannot be read fails the test (an empty answer would pass for "none
// there"), unless `missing_ok`: then it has no entries.
inline std::vector<std::filesystem::path> files_matching(const std::filesystem::path& dir,
                                                         const std::string& prefix,
                                                         const std::string& suffix,
                                                         bool missing_ok) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.size() >= prefix.size() + suffix.size() && n.compare(0, prefix.size(), prefix) == 0 &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(it->path());
    }
  }
  if (ec && !missing_ok) ADD_FAILURE() << dir << ": " << ec.message();
  std::sort(out.begin(), out.end());
  return out;
}
inline std::vector<std::filesystem::path> files_starting(const std::filesystem::path& dir,
                                                         const std::string& prefix,
                                                         bool missing_ok = false) {
  return files_matching(dir, prefix, "", missing_ok);
}
inline std::vector<std::filesystem::path> files_ending(const std::filesystem::path& dir,
                                                       const std::string& suffix,
                                                       bool missing_ok = false) {
  return files_matching(dir, "", suffix, missing_ok);
}

// --- waiting (tests that use these sleep or poll: label `timing`, tests/CMakeLists.txt) --------

// Polls `cond` every 20 ms until it holds (true) or `ms` have passed (false).
template <typename F>
bool wait_until(F cond, int ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Every live process (not a zombie: those have an empty command line) whose command line
// contains `needle`, other than this test process, as "PID: COMMAND LINE".
inline std::vector<std::string> processes_with(const std::string& needle) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.empty() || pid[0] < '0' || pid[0] > '9') continue;
    if (pid == std::to_string(getpid())) continue;
    std::string cmd = read_text(e.path() / "cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) != std::string::npos) out.push_back(pid + ": " + cmd.substr(0, 200));
  }
  return out;
}

// Waits up to `ms` for no process to match `needle`; returns those still there.
inline std::vector<std::string> wait_gone(const std::string& needle, int ms) {
  std::vector<std::string> left;
  wait_until([&] { return (left = processes_with(needle)).empty(); }, ms);
  return left;
}

struct ProcResult {
  bool started = false;
  bool exited = false;     // exited normally (exit_code valid)
  int exit_code = -1;
  int term_signal = 0;     // signal that ended it, if any
  bool timed_out = false;  // killed by the watchdog
  std::string out, err;
  double wall_ms = 0;
};

inline std::string describe(const ProcResult& r) {
  std::ostringstream os;
  os << "exit=" << r.exit_code << " signal=" << r.term_signal << " timed_out=" << r.timed_out
     << " wall_ms=" << r.wall_ms << "\n--- stdout (" << r.out.size() << " bytes) ---\n"
     << r.out.substr(0, 4000) << "\n--- stderr ---\n"
     << r.err.substr(0, 4000);
  return os.str();
}

struct ProcOptions {
  double timeout_ms = 20000;    // watchdog: SIGKILL after this long
  std::string stdin_data;       // written to the child's stdin, then closed
  bool keep_stdin_open = false; // stdin is a pipe that stays open (and empty) until exit
  bool stall_stdout = false;    // stdout is a pipe nobody reads, open until the child exits
  size_t max_capture = 64 << 20;
  std::vector<std::pair<std::string, std::string>> extra_env;  // set in the child only
  // RLIMIT_AS for the child (0 = inherit): keeps a runaway allocation from hurting the machine.
  uint64_t address_space_mb = 0;
  std::string cwd;  // the child's working directory (empty: this process's)
};

// Runs argv as a child process with piped stdio and a watchdog. Never throws.
inline ProcResult run_process(const std::vector<std::string>& argv, const ProcOptions& opt = {}) {
  ProcResult r;
  signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test with EPIPE
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    return r;
  }
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) return r;
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (const auto& [k, v] : opt.extra_env) setenv(k.c_str(), v.c_str(), 1);
    if (!opt.cwd.empty() && chdir(opt.cwd.c_str()) != 0) _exit(127);
    rlimit no_core{};  // crashes under test are expected findings: no core dumps
    setrlimit(RLIMIT_CORE, &no_core);
    if (opt.address_space_mb != 0) {
      rlimit rl{};
      rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(opt.address_space_mb) << 20;
      setrlimit(RLIMIT_AS, &rl);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  r.started = true;
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!opt.stdin_data.empty()) {
    // Small inputs only: fits in the pipe buffer.
    ssize_t n = write(in_pipe[1], opt.stdin_data.data(), opt.stdin_data.size());
    (void)n;
  }
  int stdin_w = in_pipe[1];
  if (!opt.keep_stdin_open) {
    close(stdin_w);
    stdin_w = -1;
  }
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  const int stalled = opt.stall_stdout ? out_pipe[0] : -1;  // closed after the child exits
  if (opt.stall_stdout) {
    fds[0].fd = -1;
    open_fds = 1;
  }
  char buf[65536];
  bool killed = false;
  while (open_fds > 0) {
    double elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    if (elapsed > opt.timeout_ms && !killed) {
      kill(pid, SIGKILL);
      killed = true;
      r.timed_out = true;
    }
    int n = poll(fds, 2, 50);
    if (n < 0 && errno != EINTR) break;
    for (auto& f : fds) {
      if (f.fd < 0 || (f.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t got = read(f.fd, buf, sizeof buf);
      if (got <= 0) {
        close(f.fd);
        f.fd = -1;
        --open_fds;
        continue;
      }
      std::string& dst = (&f == &fds[0]) ? r.out : r.err;
      if (dst.size() < opt.max_capture) dst.append(buf, static_cast<size_t>(got));
    }
  }
  int status = 0;
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    double elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    if (elapsed > opt.timeout_ms && !killed) {
      kill(pid, SIGKILL);
      killed = true;
      r.timed_out = true;
    }
    usleep(2000);
  }
  if (stdin_w >= 0) close(stdin_w);
  if (stalled >= 0) close(stalled);
  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) {
    r.exited = true;
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.term_signal = WTERMSIG(status);
  }
  return r;
}

// Runs `wasmcap ARGS...`.
inline ProcResult run_cli(const std::vector<std::string>& args, const ProcOptions& opt = {}) {
  std::vector<std::string> argv{cli_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  // `run` and `plan` use the engine under test unless the test names one.
  if (args.size() > 1 && (args[0] == "run" || args[0] == "plan") &&
      std::find(args.begin(), args.end(), "--engine") == args.end() &&
      test_engine_name() != "interp") {
    argv.insert(argv.begin() + 2, {"--engine", test_engine_name()});
  }
  return run_process(argv, opt);
}

// In-process run of a guest through run_module, capturing stdout and stderr.
struct Captured {
  Result<RunReport> report = RunReport{};
  std::string out, err;
};

// run_module on `engine` (opts.engine is then ignored), or on the engine opts.engine names when
// it is null, with the guest's stdout and stderr captured. A given engine: the wabt oracle
// (wabt_engine.h), which make_engine() does not know, or a test's own.
inline Captured run_guest_on(Engine* engine, const std::vector<uint8_t>& bytes, RunOptions opts) {
  auto cap = std::make_shared<Captured>();
  opts.wasi.stdout_sink = [cap](const uint8_t* d, size_t n) {
    cap->out.append(reinterpret_cast<const char*>(d), n);
    return true;
  };
  opts.wasi.stderr_sink = [cap](const uint8_t* d, size_t n) {
    cap->err.append(reinterpret_cast<const char*>(d), n);
    return true;
  };
  auto report = engine != nullptr ? run_module(*engine, bytes, std::move(opts))
                                  : run_module(bytes, std::move(opts));
  Captured c;
  c.report = std::move(report);
  c.out = cap->out;
  c.err = cap->err;
  return c;
}

inline Captured run_guest(const std::vector<uint8_t>& bytes, RunOptions opts) {
  if (opts.engine == "interp") opts.engine = test_engine_name();
  return run_guest_on(nullptr, bytes, std::move(opts));
}

inline Captured run_guest(const std::string& name, RunOptions opts) {
  if (opts.wasi.args.empty()) opts.wasi.args.push_back(name);
  return run_guest(guest_bytes(name), std::move(opts));
}

inline std::string code_name(const Result<RunReport>& r) {
  return r ? std::string("ok") : std::string(error_code_name(r.error().code));
}

}  // namespace wasmcap::testing
