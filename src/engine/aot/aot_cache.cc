// The AOT object cache (see aot_cache.h and docs/aot.md, "Cache").
#include "engine/aot/aot_cache.h"

#include "common/failpoint.h"

#include <fcntl.h>
#include <spawn.h>
#include <sodium.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <thread>

#include "engine/aot/aot_abi.h"
#include "engine/cache_files.h"
#include "engine/aot/translate.h"
#include "platform/signal_cleanup.h"

extern char** environ;

namespace wasmcap::aot {
namespace {

namespace fs = std::filesystem;

// Cap on a sidecar or identity file: they are a few lines; anything bigger is not ours.
constexpr size_t kMaxSmallFile = 64 << 10;
// Cap on a compiled object we are willing to hash and load.
constexpr size_t kMaxObjectBytes = 1ull << 30;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// The trusted-file primitives every cache record shares (cache_files.h).
using cache::hex;
using cache::open_trusted;
using cache::read_fd;
using cache::sha256_hex;
using cache::write_file;

// What a verified object's record says: the entry, the hash its bytes had, and the file's
// identity (device, inode), size, and modification and status-change times in nanoseconds.
std::string verified_record(const std::string& key, const std::string& so_sha,
                            const struct stat& st) {
  auto ts = [](const struct timespec& t) {
    return std::to_string(t.tv_sec) + "." + std::to_string(t.tv_nsec);
  };
  return "wasmcap-aot-verified 1\nkey " + key + "\nsha256 " + so_sha + "\nfile " +
         std::to_string(st.st_dev) + " " + std::to_string(st.st_ino) + " " +
         std::to_string(st.st_size) + " " + ts(st.st_mtim) + " " + ts(st.st_ctim) + "\n";
}

std::string sidecar(const std::string& key, const std::string& so_sha) {
  return "wasmcap-aot-cache 1\nkey " + key + "\nsha256 " + so_sha + "\n";
}

// --- Running the compiler under bounds (docs/aot.md, "Compile bounds") --------------------
//
// Why fork + exec and not posix_spawn: the child must set rlimits and PR_SET_PDEATHSIG before
// exec, which posix_spawn cannot do. The tree is:
//
//   wasmcap ── supervisor S (own process group G, PDEATHSIG=SIGUSR1) ── compiler C (rlimits,
//                                                                        PDEATHSIG=SIGKILL)
//                                                                        └─ cc1, as, ld ... (in G)
//
// PDEATHSIG reaches only a direct child, and gcc's driver spawns cc1/as/collect2/ld: killing C
// alone would orphan them. So every compiler process stays in G, and whoever ends the compile
// kills G as a whole: wasmcap on timeout/deadline/interrupt (kill(-G)), S when wasmcap dies (its
// PDEATHSIG arrives, it kills G, itself included), and S again after C exited (stragglers).
// S reports C's wait status through a pipe before it does so.
//
// Everything between fork and exec is async-signal-safe (wasmcap may have other threads).

using Clock = std::chrono::steady_clock;

enum class RunEnd { kExited, kSignaled, kTimeout, kDeadline, kInterrupted, kCannotRun };

struct RunResult {
  RunEnd end = RunEnd::kCannotRun;
  int code = 0;  // exit status (kExited) or signal (kSignaled)
};

[[noreturn]] void supervise(pid_t parent, char* const* argv, const char* log,
                            const struct rlimit& mem, const struct rlimit& cpu, int status_fd) {
  // Our own group, or nothing: kill(0) below must never reach wasmcap's group.
  if (setpgid(0, 0) != 0 && getpgrp() != getpid()) _exit(127);
  // Nothing of wasmcap's reaches the compiler or outlives wasmcap here (descriptors an embedder
  // opened without O_CLOEXEC, the cache entry's lock): only the status pipe is kept.
  if (status_fd > 3) close_range(3, static_cast<unsigned>(status_fd) - 1, 0);
  close_range(static_cast<unsigned>(status_fd) + 1, ~0u, 0);
  signal(SIGCHLD, SIG_DFL);  // an ignored SIGCHLD would reap the compiler behind our back
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGCHLD);
  sigaddset(&wait_set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &wait_set, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  // wasmcap may have died before PDEATHSIG was armed (then our parent is a reaper by now).
  if (getppid() != parent) kill(0, SIGKILL);
  pid_t self = getpid();
  pid_t cc = fork();
  if (cc == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != self) _exit(127);
    setrlimit(RLIMIT_AS, &mem);
    setrlimit(RLIMIT_DATA, &mem);
    setrlimit(RLIMIT_CPU, &cpu);
    int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    // Started with closed stdio, open() may return 0..2 itself: move those out of the way, as
    // dup2 onto the same number would keep O_CLOEXEC.
    if (out >= 0 && out <= 2) out = fcntl(out, F_DUPFD_CLOEXEC, 3);
    if (in >= 0 && in <= 2) in = fcntl(in, F_DUPFD_CLOEXEC, 3);
    if (out < 0 || in < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 || dup2(in, 0) < 0) _exit(127);
    execve(argv[0], argv, environ);
    _exit(127);
  }
  int status = 0x7f00;  // "exit 127": could not run
  if (cc > 0) {
    for (;;) {
      int sig = sigwaitinfo(&wait_set, nullptr);
      if (sig == SIGUSR1) kill(0, SIGKILL);  // wasmcap died: the whole group goes
      pid_t r = waitpid(cc, &status, WNOHANG);
      if (r == cc || (r < 0 && errno != EINTR)) break;
    }
  }
  ssize_t w = write(status_fd, &status, sizeof status);
  (void)w;
  kill(0, SIGKILL);  // stragglers of the compiler (and this supervisor)
  _exit(0);
}

struct Started {
  pid_t pid = -1;  // the supervisor (leader of the compiler's process group)
  int status_fd = -1;
  // Kills the group if a signal stops wasmcap meanwhile: before the temporary directory is
  // removed (cleanups run newest first), so no compiler writes into it while it goes.
  uint64_t on_signal = 0;
};

// The supervisor is done with (its status read or its group killed): no signal cleanup for it.
void forget(const Started& s) {
  platform::remove_signal_cleanup(s.on_signal);
  close(s.status_fd);
}

// Forks the supervisor of one compiler process (argv, stdout+stderr to `log`) under `limits`.
Started start_process(const std::vector<std::string>& argv, const std::string& log,
                      const CompileLimits& limits) {
  Started s;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The limits may not exceed our own hard limits (setrlimit would fail and leave none).
  struct rlimit mem{}, cpu{}, hard{};
  mem.rlim_cur = mem.rlim_max = limits.memory_bytes;
  if (getrlimit(RLIMIT_AS, &hard) == 0 && hard.rlim_max != RLIM_INFINITY &&
      hard.rlim_max < mem.rlim_max) {
    mem.rlim_cur = mem.rlim_max = hard.rlim_max;
  }
  // CPU seconds per process: the wall clock below is the real bound; this one stops a compiler
  // that outlives it anyway (e.g. its supervisor was killed by someone else).
  cpu.rlim_cur = cpu.rlim_max = limits.timeout_ms / 1000 + 2;
  if (getrlimit(RLIMIT_CPU, &hard) == 0 && hard.rlim_max != RLIM_INFINITY &&
      hard.rlim_max < cpu.rlim_max) {
    cpu.rlim_cur = cpu.rlim_max = hard.rlim_max;
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return s;
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    supervise(parent, args.data(), log.c_str(), mem, cpu, pipefd[1]);
  }
  close(pipefd[1]);
  if (pid < 0) {
    close(pipefd[0]);
    return s;
  }
  setpgid(pid, pid);  // also done by the child: whichever runs first, G exists before kill(-G)
  s.pid = pid;
  s.status_fd = pipefd[0];
  s.on_signal = platform::add_signal_cleanup([pid] { kill(-pid, SIGKILL); });
  return s;
}

// The compiler's wait status as its supervisor reported it (after the supervisor exited).
RunResult finish_process(const Started& s) {
  RunResult result;
  int status = 0;
  ssize_t n;
  do {
    n = read(s.status_fd, &status, sizeof status);
  } while (n < 0 && errno == EINTR);
  forget(s);
  if (n != static_cast<ssize_t>(sizeof status)) return result;  // the supervisor was killed
  if (WIFEXITED(status)) {
    result.end = RunEnd::kExited;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.end = RunEnd::kSignaled;
    result.code = WTERMSIG(status);
  }
  return result;
}

// Runs argv with stdout+stderr to `log` under `limits`.
RunResult run_process(const std::vector<std::string>& argv, const std::string& log,
                      const CompileLimits& limits, bool progress, const std::string& what) {
  RunResult result;
  const auto start = Clock::now();
  const auto timeout_at = start + std::chrono::milliseconds(limits.timeout_ms);
  if (progress) (void)failpoint::hit("aot.compile.start");  // as in run_parallel (a compile of
                                                           // the module, not cc --version)
  Started started = start_process(argv, log, limits);
  if (started.pid < 0) return result;
  const pid_t pid = started.pid;
  const bool tty = progress && isatty(STDERR_FILENO) == 1;
  bool shown = false;
  int sup_status = 0;
  static const char spinner[] = "|/-\\";
  for (int tick = 0;; ++tick) {
    pid_t r = waitpid(pid, &sup_status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      kill(-pid, SIGKILL);
      break;
    }
    auto now = Clock::now();
    RunEnd stop = RunEnd::kExited;
    if (now >= timeout_at) stop = RunEnd::kTimeout;
    if (now >= limits.deadline) stop = RunEnd::kDeadline;
    if (limits.interrupt != nullptr && limits.interrupt->load(std::memory_order_relaxed)) {
      stop = RunEnd::kInterrupted;
    }
    if (stop != RunEnd::kExited) {
      kill(-pid, SIGKILL);  // the supervisor, the compiler and everything it started
      while (waitpid(pid, &sup_status, 0) < 0 && errno == EINTR) {
      }
      forget(started);
      if (shown) std::fprintf(stderr, "\r\033[K");
      result.end = stop;
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(tick < 20 ? 5 : 20));
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    if (tty && s >= 1.0 && tick % 5 == 0) {
      std::fprintf(stderr, "\r%c wasmcap: compiling %s to native code (%.0f s)",
                   spinner[(tick / 5) % 4], what.c_str(), s);
      std::fflush(stderr);
      shown = true;
    }
  }
  if (shown) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  return finish_process(started);
}


// --- Parallel compiles of a split module ------------------------------------------------------
struct CompileJob {
  std::vector<std::string> argv;
  std::string log;
  uint64_t weight = 0;     // wasm expressions (the ETA); 0 for module.c and the glue (with 1,
                           // a finished module.c gave an ETA of elapsed x all expressions)
  uint32_t functions = 0;  // shown in the progress line
};

struct ParallelResult {
  RunResult run;
  size_t failed = SIZE_MAX;  // index of the job that ended `run` (SIZE_MAX: all exited 0)
};

// Progress when stderr is not a terminal (a log, a pipe, CI): one line every this many ms of a
// big compile, so that a reader sees that it is alive and how far it is (issue #12).
constexpr uint64_t kPlainProgressIntervalMs = 5000;

// Runs `jobs` with at most `max_jobs` compilers at once, each under its own supervisor and
// process group with the per-process bounds of `limits` (memory, CPU). The wall-clock bounds
// (timeout_ms, deadline, interrupt) are for the whole set. The first job that does not exit 0
// ends the set: every running group is killed and waited for (no compiler outlives this call).
// Progress: on a terminal, one updating line (functions compiled / total, elapsed, ETA); else,
// when `notice` is set (a big module), one line when the compile starts and then one every
// kPlainProgressIntervalMs with the same figures.
ParallelResult run_parallel(const std::vector<CompileJob>& jobs, unsigned max_jobs,
                            const CompileLimits& limits, bool progress, bool notice,
                            const std::string& what) {
  ParallelResult out;
  const auto start = Clock::now();
  const auto timeout_at = start + std::chrono::milliseconds(limits.timeout_ms);
  const bool tty = progress && isatty(STDERR_FILENO) == 1;
  uint64_t total_w = 0;
  uint32_t total_f = 0;
  for (const auto& j : jobs) {
    total_w += j.weight;
    total_f += j.functions;
  }
  if (progress && notice && !tty) {
    std::fprintf(stderr,
                 "wasmcap: compiling %s to native code: %u functions in %zu units, %u jobs\n",
                 what.c_str(), total_f, jobs.size(), max_jobs);
    std::fflush(stderr);
  }
  // Holds the compile before its first unit, so tests see a compile take the seconds the
  // progress rules are about (tests/engine/aot_progress_test.py); 0 at once otherwise.
  (void)failpoint::hit("aot.compile.start");
  std::vector<std::pair<size_t, Started>> running;
  size_t next = 0;
  uint64_t done_w = 0;
  uint32_t done_f = 0;
  size_t done_jobs = 0;
  uint64_t next_plain_ms = kPlainProgressIntervalMs;
  bool shown = false;
  auto kill_all = [&]() {
    for (auto& [i, st] : running) kill(-st.pid, SIGKILL);
    for (auto& [i, st] : running) {
      int ignored;
      while (waitpid(st.pid, &ignored, 0) < 0 && errno == EINTR) {
      }
      forget(st);
    }
    running.clear();
  };
  for (int tick = 0; next < jobs.size() || !running.empty(); ++tick) {
    while (running.size() < std::max(1u, max_jobs) && next < jobs.size()) {
      Started st = start_process(jobs[next].argv, jobs[next].log, limits);
      if (st.pid < 0) {
        kill_all();
        out.failed = next;
        out.run.end = RunEnd::kCannotRun;
        return out;
      }
      running.push_back({next++, st});
    }
    for (size_t k = 0; k < running.size();) {
      int sup_status = 0;
      pid_t r = waitpid(running[k].second.pid, &sup_status, WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++k;
        continue;
      }
      auto [i, st] = running[k];
      running.erase(running.begin() + static_cast<long>(k));
      RunResult rr = finish_process(st);
      if (r < 0) rr = RunResult{};
      if (rr.end != RunEnd::kExited || rr.code != 0) {
        kill_all();
        if (shown) std::fprintf(stderr, "\r\033[K");
        out.failed = i;
        out.run = rr;
        return out;
      }
      done_w += jobs[i].weight;
      done_f += jobs[i].functions;
      ++done_jobs;
    }
    if (running.empty() && next >= jobs.size()) break;
    auto now = Clock::now();
    RunEnd stop = RunEnd::kExited;
    if (now >= timeout_at) stop = RunEnd::kTimeout;
    if (now >= limits.deadline) stop = RunEnd::kDeadline;
    if (limits.interrupt != nullptr && limits.interrupt->load(std::memory_order_relaxed)) {
      stop = RunEnd::kInterrupted;
    }
    if (stop != RunEnd::kExited) {
      kill_all();  // every supervisor, compiler and whatever they started
      if (shown) std::fprintf(stderr, "\r\033[K");
      out.run.end = stop;
      out.failed = 0;
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(tick < 20 ? 5 : 20));
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    const bool plain =
        progress && notice && !tty && s * 1000 >= static_cast<double>(next_plain_ms);
    if ((tty && s >= 1.0 && tick % 10 == 0) || plain) {
      std::string eta = "?";
      if (done_w > 0 && total_w > done_w) {
        eta = std::to_string(static_cast<long>(s * static_cast<double>(total_w - done_w) /
                                               static_cast<double>(done_w))) + " s";
      }
      // A terminal gets one updating line; anything else a line every few seconds.
      std::fprintf(stderr, "%swasmcap: compiling %s: %u/%u functions, %zu/%zu units, %.0f s, ETA %s%s",
                   plain ? "" : "\r\033[K", what.c_str(), done_f, total_f, done_jobs,
                   jobs.size(), s, eta.c_str(), plain ? "\n" : "");
      std::fflush(stderr);
      if (plain) {
        next_plain_ms += kPlainProgressIntervalMs;
      } else {
        shown = true;
      }
    }
  }
  if (shown) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  return out;
}

std::string read_log(const std::string& path) {
  std::string log;
  if (int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC); fd >= 0) {
    read_fd(fd, &log, 1 << 20);
    close(fd);
  }
  return log;
}

// Did the compiler stop at a resource bound? (gcc reports its sub-processes' out-of-memory and
// CPU-limit deaths in the log and exits 1 or 4.)
bool hit_limit(const RunResult& r, const std::string& log) {
  if (r.end == RunEnd::kSignaled) {
    return r.code == SIGKILL || r.code == SIGXCPU || r.code == SIGSEGV || r.code == SIGABRT;
  }
  for (const char* s : {"out of memory", "memory exhausted", "Cannot allocate memory",
                        "CPU time limit exceeded", "Killed signal terminated",
                        "std::bad_alloc", "MemoryError"}) {
    if (log.find(s) != std::string::npos) return true;
  }
  return false;
}

// Error for a compile that did not finish; Ok when it exited 0.
Result<void> compile_error(const RunResult& r, const std::string& log_path, const Toolchain& tc,
                           const std::string& what) {
  const CompileLimits& l = tc.limits;
  switch (r.end) {
    case RunEnd::kTimeout:
      return make_error(ErrorCode::kCompileLimit,
                        "the C compiler did not finish " + what + " within the compile time "
                        "limit of " + std::to_string(l.timeout_ms) + " ms (killed); raise "
                        "--compile-timeout-ms or run with --engine interp");
    case RunEnd::kDeadline:
      return make_error(ErrorCode::kDeadlineExceeded,
                        "the run's deadline passed while compiling " + what + " for the aot "
                        "engine (compile killed); raise --timeout-ms, or compile ahead of the "
                        "run with `wasmcap compile`");
    case RunEnd::kInterrupted:
      return make_error(ErrorCode::kDeadlineExceeded,
                        "interrupted by the host while compiling " + what + " for the aot "
                        "engine (compile killed)");
    case RunEnd::kCannotRun:
      return make_error(ErrorCode::kModuleUnsupported,
                        "the C compiler " + tc.compiler + " could not be run; run with "
                        "--engine interp");
    case RunEnd::kExited:
    case RunEnd::kSignaled:
      break;
  }
  if (r.end == RunEnd::kExited && r.code == 0) return {};
  std::string log = read_log(log_path);
  if (hit_limit(r, log)) {
    return make_error(ErrorCode::kCompileLimit,
                      "the C compiler ran out of its memory limit of " +
                          std::to_string(l.memory_bytes >> 20) + " MiB (or its CPU time) on " +
                          what + "; raise --compile-memory-mb or run with --engine interp");
  }
  if (log.size() > 2000) log = log.substr(0, 2000) + "...";
  // The compiler could not write its output or read its input (a full disk, a quota, an I/O
  // error): a property of this machine now, not of the module, so an io_error a later compile
  // retries (a background compile records no failure for it, aot_background.cc).
  for (int e : {ENOSPC, EDQUOT, EIO, EROFS}) {
    if (log.find(std::strerror(e)) != std::string::npos) {
      return make_error(ErrorCode::kIo, "the C compiler could not write or read its files while "
                                        "compiling " + what + " (" + std::strerror(e) + "): " +
                                        log + "; free space in the cache and temporary "
                                        "directories and run again");
    }
  }
  return make_error(ErrorCode::kModuleUnsupported,
                    "the C compiler failed on " + what + " (" + tc.compiler +
                        (r.end == RunEnd::kSignaled ? " killed by signal " : " exit ") +
                        std::to_string(r.code) + "): " + log + "; run with --engine interp");
}

}  // namespace

// Temporary directories are named tmp-KEY-XXXXXX and made while KEY.lock is held: one whose
// lock nobody holds belongs to a compile that was killed. Removes those (ours included: we hold
// our own key's lock through `own_key`).
void sweep_stale_tmp(const std::string& dir, const std::string& own_key) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("tmp-", 0) != 0) continue;
    std::string key = name.substr(4, 64);
    bool stale = false;
    if (name.size() == 4 + 64 + 7 && name[4 + 64] == '-') {
      if (key == own_key) {
        stale = true;
      } else {
        int fd = open((dir + "/" + key + ".lock").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
          stale = true;  // no lock file: nobody can be compiling it
        } else {
          stale = flock(fd, LOCK_EX | LOCK_NB) == 0;
          close(fd);  // drops the lock again
        }
      }
    } else {
      // Older layout (tmp-XXXXXX, no key): stale once it is a day old.
      struct stat st;
      stale = lstat(it->path().c_str(), &st) == 0 && st.st_mtime + 86400 < time(nullptr);
    }
    if (stale) {
      std::error_code rec;
      fs::remove_all(it->path(), rec);
    }
  }
}

CompileLimits compile_limits(const AotOptions& options, uint64_t code_bytes) {
  CompileLimits l;
  if (options.compile_timeout_ms != 0) {
    l.timeout_ms = options.compile_timeout_ms;
  } else {
    // Scaled by the code (aot_cache.h). 2^40 * 150000 cannot overflow 64 bits.
    const uint64_t extra =
        std::min<uint64_t>(code_bytes, 1ull << 40) * kCompileTimeoutPerCodeMibMs >> 20;
    l.timeout_ms = std::min(kDefaultCompileTimeoutMs + extra, kMaxScaledCompileTimeoutMs);
  }
  if (options.compile_memory_mb != 0) {
    l.memory_bytes = std::min<uint64_t>(options.compile_memory_mb, 1ull << 30) << 20;
  }
  // Clamp: a huge timeout means "far future", never an overflow into the past.
  l.timeout_ms = std::min<uint64_t>(l.timeout_ms, 1000ull * 60 * 60 * 24 * 365);
  l.deadline = options.compile_deadline;
  l.interrupt = options.interrupt;
  return l;
}

// A walk over the section headers only (wabt's reader would decode the whole module, which the
// caller has done or will do anyway; this runs before a background compile forks).
uint64_t wasm_code_bytes(const uint8_t* bytes, size_t size) {
  if (size < 8 || std::memcmp(bytes, "\0asm", 4) != 0) return 0;
  size_t at = 8;
  while (at < size) {
    const uint8_t id = bytes[at++];
    uint64_t len = 0;
    int shift = 0;
    for (;;) {  // LEB128 u32: at most 5 bytes
      if (at >= size || shift > 28) return 0;
      const uint8_t b = bytes[at++];
      len |= static_cast<uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    if (len > size - at) return 0;
    if (id == 10) return len;
    at += len;
  }
  return 0;
}

Result<std::string> open_cache_dir(const AotOptions& options) {
  return cache::open_cache_dir(options.cache_dir);
}

unsigned compile_jobs(const Toolchain& tc) {
  if (tc.jobs != 0) return tc.jobs;
  return static_cast<unsigned>(std::clamp<long>(sysconf(_SC_NPROCESSORS_ONLN), 1, 64));
}

unsigned background_compile_jobs(const AotOptions& options, long cpus) {
  long j = options.background_jobs != 0 ? static_cast<long>(options.background_jobs)
                                        : std::max<long>(1, cpus / 2);
  long given = options.compile_jobs;
  if (given == 0) {
    std::string e = env_or("WASMCAP_AOT_JOBS", "");
    given = e.empty() ? 0 : std::strtol(e.c_str(), nullptr, 10);
  }
  if (given > 0) j = std::min(j, given);
  return static_cast<unsigned>(std::clamp<long>(j, 1, 64));
}

Result<std::string> find_compiler(const AotOptions& options) {
  std::string cc = options.compiler;
  if (cc.empty()) cc = env_or("WASMCAP_CC", "cc");
  if (cc.find('/') != std::string::npos) {
    if (access(cc.c_str(), X_OK) == 0) return cc;
  } else {
    std::string path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find(':', start);
      if (end == std::string::npos) end = path.size();
      std::string d = path.substr(start, end - start);
      if (!d.empty()) {
        std::string cand = d + "/" + cc;
        if (access(cand.c_str(), X_OK) == 0) return cand;
      }
      start = end + 1;
    }
  }
  return make_error(ErrorCode::kNotFound,
                    "no C compiler '" + cc +
                        "' found for the AOT engine; install gcc, set WASMCAP_CC, or use "
                        "--engine interp");
}

Result<Toolchain> make_toolchain(const AotOptions& options, const std::string& cache_dir) {
  std::string cc;
  WASMCAP_TRY_ASSIGN(cc, find_compiler(options));
  Toolchain tc;
  tc.compiler = cc;
  tc.interruptible = options.interruptible;
  tc.limits = compile_limits(options);
  int opt = options.opt_level;
  if (opt < 0) {
    std::string e = env_or("WASMCAP_AOT_OPT", "2");
    opt = (e.size() == 1 && e[0] >= '0' && e[0] <= '3') ? e[0] - '0' : 2;
  }
  if (opt > 3) opt = 3;
  tc.opt_level = opt;
  {
    int64_t u = options.unit_functions;
    if (u < 0) {
      std::string e = env_or("WASMCAP_AOT_UNIT_FUNCTIONS", "");
      char* end = nullptr;
      long long v = e.empty() ? -1 : std::strtoll(e.c_str(), &end, 10);
      u = (!e.empty() && end != nullptr && *end == '\0' && v >= 0) ? v : kDefaultUnitFunctions;
    }
    tc.unit_functions = static_cast<uint32_t>(std::min<int64_t>(u, kMaxFunctions));
    if (env_or("WASMCAP_AOT_POLL", "") == "1") tc.poll = true;
    long j = options.compile_jobs;
    if (j == 0) {
      std::string e = env_or("WASMCAP_AOT_JOBS", "");
      j = e.empty() ? 0 : std::strtol(e.c_str(), nullptr, 10);
    }
    // 0: the online CPUs, counted only when a split compile needs them (compile_jobs()): a
    // cached run must not read /sys for a number it never uses (docs/aot.md, "Cold start").
    tc.jobs = j <= 0 ? 0u : static_cast<unsigned>(std::clamp<long>(j, 1, 64));
  }
  // -fstack-clash-protection: a large guest frame probes the stack page by page, so stack
  // exhaustion always faults in the guard area (never past it into another mapping).
  // -fno-optimize-sibling-calls: wasm has no tail calls here, and GCC would otherwise turn
  // runaway recursion such as f(x) = f(x+1) + 1 into an endless loop instead of the stack
  // exhaustion trap the interpreter reports.
  // -z defs: the object must not reference any symbol outside itself and libc/libm.
  // kReassocFlag (translate.h): wasm2c's loads rank late in GCC's reassociation, which then
  // adds them one after another at the end of a sum; why and what it gains: docs/aot.md.
  tc.flags = {"-std=gnu11", "-O" + std::to_string(opt), "-fPIC", "-shared",
              "-fvisibility=hidden", "-fstack-clash-protection", "-fno-strict-aliasing",
              "-fno-optimize-sibling-calls", kReassocFlag,
              "-DNDEBUG", "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1", "-w", "-Wl,-z,defs",
              "-Wl,-z,noexecstack"};
  tc.flags.insert(tc.flags.end(), std::begin(kVectorFlags), std::end(kVectorFlags));
  tc.flags.push_back(kLoopAlignFlag);

  // Identity: the `--version` text of the compiler, memoised by the binary's stat signature.
  char resolved[PATH_MAX];
  std::string real = realpath(tc.compiler.c_str(), resolved) ? resolved : tc.compiler;
  struct stat st;
  if (stat(real.c_str(), &st) != 0) {
    return make_error(ErrorCode::kNotFound, "cannot stat the C compiler '" + real + "'");
  }
  std::string sig = real + "|" + std::to_string(st.st_size) + "|" +
                    std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) +
                    "|" + std::to_string(st.st_ino) + "|" + tc.compiler;
  std::string memo = cache_dir + "/compiler-" + sha256_hex(sig.data(), sig.size()).substr(0, 32);
  std::string version;
  if (int fd = open_trusted(memo); fd >= 0) {
    bool ok = read_fd(fd, &version, kMaxSmallFile);
    close(fd);
    if (!ok) version.clear();
  }
  if (version.empty()) {
    char tmpl[] = "/tmp/wasmcap-ccid-XXXXXX";
    int tfd = mkstemp(tmpl);
    if (tfd < 0) return make_error(ErrorCode::kIo, "cannot create a temporary file");
    close(tfd);
    RunResult rc = run_process({tc.compiler, "--version"}, tmpl, tc.limits, false, "");
    int fd = open(tmpl, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      read_fd(fd, &version, kMaxSmallFile);
      close(fd);
    }
    unlink(tmpl);
    if (rc.end != RunEnd::kExited || rc.code != 0) {
      auto e = compile_error(rc, "/dev/null", tc, "`--version`");
      if (!e && e.error().code != ErrorCode::kModuleUnsupported) return tl::unexpected(e.error());
    }
    if (rc.end != RunEnd::kExited || rc.code != 0 || version.empty()) {
      return make_error(ErrorCode::kNotFound,
                        "the C compiler '" + tc.compiler + "' does not run (" + tc.compiler +
                            " --version failed); set WASMCAP_CC or use --engine interp");
    }
    cache::replace_file(memo, version);
  }
  tc.identity = real + "\n" + version;
  return tc;
}

std::string cache_key(const std::vector<uint8_t>& module, const Toolchain& tc) {
  return cache_key(module, tc, kInstrumentationVersion);
}

std::string cache_key_for_module_hash(const std::string& module_sha256, const Toolchain& tc) {
  return cache_key_for_module_hash(module_sha256, tc, kInstrumentationVersion);
}

std::string module_sha256(const uint8_t* bytes, size_t size) {
  return cache::module_bytes_sha256(bytes, size);
}

std::string cache_key(const std::vector<uint8_t>& module, const Toolchain& tc,
                      int translator_version) {
  return cache_key_for_module_hash(module_sha256(module.data(), module.size()), tc,
                                   translator_version);
}

namespace {
std::string unit_flags_for_key() {
  std::string s = "/unit";
  for (const char* f : kSplitUnitFlags) s += std::string(" ") + f;
  s += "/huge";
  for (const char* f : kHugeUnitFlags) s += std::string(" ") + f;
  return s;
}
}  // namespace

std::string cache_key_for_module_hash(const std::string& module_sha256, const Toolchain& tc,
                                      int translator_version) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  auto add = [&](const std::string& s) {
    // Length-prefixed, so no two different inputs concatenate to the same stream.
    uint64_t n = s.size();
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  add("wasmcap-aot");
  add(std::to_string(translator_version) + "/" + std::to_string(WASMCAP_AOT_ABI_VERSION) +
      (tc.interruptible ? "/interruptible" : "/plain") + (tc.poll ? "/poll" : "") + "/units" +
      std::to_string(tc.unit_functions) + "," + std::to_string(kUnitExpressions) + "," +
      std::to_string(kHugeFunctionExpressions) + "," + std::to_string(kChunkSymbolBudget) +
      unit_flags_for_key());
  add(std::string(wabt_version()));
  add(tc.identity);
  std::string flags;
  for (const auto& f : tc.flags) flags += f + " ";
  add(flags);
  // The module by its sha256 (one pass over its bytes per load, shared with the module
  // description's name: docs/aot.md, "Cold start").
  add("module-sha256:" + module_sha256);
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  return hex(out, sizeof out);
}

int lookup(const std::string& dir, const std::string& key) {
  int mfd = open_trusted(dir + "/" + key + ".meta");
  if (mfd < 0) return -1;
  std::string meta;
  bool ok = read_fd(mfd, &meta, kMaxSmallFile);
  close(mfd);
  if (!ok) return -1;
  const std::string head = "wasmcap-aot-cache 1\nkey " + key + "\nsha256 ";
  if (meta.compare(0, head.size(), head) != 0) return -1;
  std::string so_sha = meta.substr(head.size());
  while (!so_sha.empty() && so_sha.back() == '\n') so_sha.pop_back();
  int fd = open_trusted(dir + "/" + key + ".so");
  if (fd < 0) return -1;
  // Cold start (docs/aot.md, "Cold start"; the argument: docs/security-model.md, "AOT cache"):
  // an object whose bytes were hashed earlier and whose identity and change times are still
  // those recorded then is the same, unchanged file; it is not hashed again.
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return -1;
  }
  const std::string record_path = dir + "/" + key + ".verified";
  const std::string record = verified_record(key, so_sha, st);
  if (int rfd = open_trusted(record_path); rfd >= 0) {
    std::string have;
    bool ok = read_fd(rfd, &have, kMaxSmallFile);
    close(rfd);
    if (ok && have == record) return fd;
  }
  std::string data;
  if (!read_fd(fd, &data, kMaxObjectBytes) || sha256_hex(data.data(), data.size()) != so_sha) {
    close(fd);
    return -1;
  }
  // Record the verification only for a file whose last change is clearly in the past: file
  // times have the kernel clock tick's granularity, so a change within the same tick as the
  // recorded one would not show. Two seconds is far above any tick (racy-git's rule).
  struct timespec now;
  auto ns = [](const struct timespec& t) {
    return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
  };
  constexpr int64_t kSettled = 2000000000;  // 2 s, in ns (whole seconds would make it up to 3)
  if (clock_gettime(CLOCK_REALTIME, &now) == 0 && ns(now) - ns(st.st_ctim) > kSettled &&
      ns(now) - ns(st.st_mtim) > kSettled) {
    cache::replace_file(record_path, record);
  }
  return fd;
}

Result<int> compile_and_store(const std::string& dir, const std::string& key, const Toolchain& tc,
                              const std::function<Result<CompileRequest>()>& translate) {
  std::string lock_path = dir + "/" + key + ".lock";
  int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0) {
    return make_error(ErrorCode::kIo, "cannot create '" + lock_path + "': " + std::strerror(errno));
  }
  struct Unlock {
    int fd;
    ~Unlock() { close(fd); }  // closing drops the flock
  } unlock{lock};
  // Another process (or run) compiling the same module holds the lock for as long as its
  // compile takes (minutes for a big module, in the background of --engine auto): the wait is
  // part of this run, so it ends at the run's deadline or interrupt like the compile would.
  // flock has no timeout; a non-blocking try every few milliseconds costs nothing beside a
  // compile. (Before: a blocking flock held a 60 s run 143 s, until the other compile ended.)
  for (auto pause = std::chrono::milliseconds(1);;
       pause = std::min(pause * 2, std::chrono::milliseconds(50))) {
    if (flock(lock, LOCK_EX | LOCK_NB) == 0) break;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return make_error(ErrorCode::kIo, "cannot lock '" + lock_path + "'");
    }
    const auto now = std::chrono::steady_clock::now();
    if (tc.limits.interrupt != nullptr && tc.limits.interrupt->load(std::memory_order_relaxed)) {
      return make_error(ErrorCode::kDeadlineExceeded,
                        "interrupted by the host while waiting for another compile of the module "
                        "for the aot engine to finish");
    }
    if (now >= tc.limits.deadline) {
      return make_error(ErrorCode::kDeadlineExceeded,
                        "the run's deadline passed while waiting for another compile of the "
                        "module for the aot engine (another wasmcap process or run, or --engine "
                        "auto's background compile) to finish; raise --timeout-ms, or compile "
                        "ahead of the run with `wasmcap compile`");
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        pause, tc.limits.deadline - now));
  }
  // Another process may have finished the same compile while we waited.
  if (int fd = lookup(dir, key); fd >= 0) return fd;

  CompileRequest req;
  WASMCAP_TRY_ASSIGN(req, translate());
  sweep_stale_tmp(dir, key);
  cache::sweep_stale_temporaries(dir);
  std::string tmpl = dir + "/tmp-" + key + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (int e = failpoint::hit("cache.aot.tmpdir"); e != 0 || mkdtemp(buf.data()) == nullptr) {
    return make_error(ErrorCode::kIo, "cannot create a temporary directory in '" + dir +
                                          "': " + std::strerror(e != 0 ? e : errno));
  }
  std::string tmp(buf.data());
  // Removed when the compile ends, however it ends, and when SIGINT, SIGTERM or SIGHUP stops
  // the process meanwhile (once the front end asked for that: platform/signal_cleanup.h); what
  // SIGKILL leaves is swept above by the next compile.
  struct Cleanup {
    std::string dir;
    uint64_t on_signal = 0;
    ~Cleanup() {
      platform::remove_signal_cleanup(on_signal);
      if (std::getenv("WASMCAP_AOT_KEEP_SOURCES") != nullptr) return;  // debugging aid
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{tmp, platform::add_signal_cleanup([tmp] {
              // The compile's groups were killed just before; a file a dying compiler was
              // still making can appear once, so the removal is tried again once.
              for (int attempt = 0; attempt < 2; ++attempt) {
                std::error_code ec;
                fs::remove_all(tmp, ec);  // symlinks are removed, never followed
                if (!ec) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
              }
            })};
  if (int e = failpoint::hit("cache.aot.write_source");
      e != 0 || !write_file(tmp + "/module.c", req.module_c) ||
      !write_file(tmp + "/module.h", req.module_h) || !write_file(tmp + "/glue.c", req.glue_c)) {
    return make_error(ErrorCode::kIo, "cannot write the generated C code to '" + tmp + "': " +
                                          std::strerror(e != 0 ? e : errno));
  }
  if (req.units.empty()) {
    std::vector<std::string> argv{tc.compiler};
    argv.insert(argv.end(), tc.flags.begin(), tc.flags.end());
    argv.insert(argv.end(), {"-I" + tmp, "-o", tmp + "/out.so", tmp + "/module.c",
                             tmp + "/glue.c", "-lm"});
    RunResult rc = run_process(argv, tmp + "/cc.log", tc.limits, req.progress, req.what);
    WASMCAP_TRY(compile_error(rc, tmp + "/cc.log", tc, "the translated module"));
  } else {
    // Split: every unit (and module.c, glue.c) to an object in parallel, then one link.
    if (!write_file(tmp + "/wasmcap_common.h", req.common_h)) {
      return make_error(ErrorCode::kIo, "cannot write the generated C code to '" + tmp + "': " +
                                            std::strerror(errno));
    }
    const auto start = std::chrono::steady_clock::now();
    std::vector<CompileJob> jobs;
    auto add_job = [&](const std::string& name, uint64_t weight, uint32_t functions, bool huge) {
      CompileJob j;
      j.argv = {tc.compiler};
      j.argv.insert(j.argv.end(), tc.flags.begin(), tc.flags.end());
      // gcc's -O2 on one giant function (an initialiser, an interpreter loop) costs far more
      // time and memory than it gains: such units get -O1 (the last -O wins).
      if (huge && tc.opt_level > 1) j.argv.push_back("-O1");
      if (name != "glue" && name != "module") {  // unit flags (translate.h: why)
        for (const char* f : kSplitUnitFlags) j.argv.push_back(f);
        if (huge) {
          for (const char* f : kHugeUnitFlags) j.argv.push_back(f);
        }
      }
      j.argv.insert(j.argv.end(), {"-c", "-I" + tmp, "-o", tmp + "/" + name + ".o",
                                   tmp + "/" + name + ".c"});
      j.log = tmp + "/" + name + ".log";
      j.weight = weight;
      j.functions = functions;
      jobs.push_back(std::move(j));
    };
    // Biggest units first: the longest job should not start last.
    std::vector<size_t> order(req.units.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return req.units[a].expressions > req.units[b].expressions;
    });
    // module.c (data segments, tables, exports, instantiation) goes in that order too, by the
    // size of its C text against the units': a module with large data segments has a module.c
    // far bigger than any unit (esbuild: 46 MB of C, minutes of gcc on its own), and compiled
    // last it would run alone on one core after every unit (docs/aot.md "Compile at scale").
    bool module_added = false;
    for (size_t i : order) {
      const CodeUnit& u = req.units[i];
      if (!module_added && req.module_c.size() >= u.c.size()) {
        add_job("module", 0, 0, false);
        module_added = true;
      }
      std::string name = std::to_string(i);
      name.insert(0, 1, 'u');
      if (!write_file(tmp + "/" + name + ".c", u.c)) {
        return make_error(ErrorCode::kIo, "cannot write the generated C code to '" + tmp + "': " +
                                              std::strerror(errno));
      }
      add_job(name, u.expressions, u.functions, u.huge);
    }
    if (!module_added) add_job("module", 0, 0, false);
    add_job("glue", 0, 0, false);
    ParallelResult pr = run_parallel(jobs, compile_jobs(tc), tc.limits, req.progress,
                                     req.functions >= 2 * kDefaultUnitFunctions, req.what);
    if (pr.failed != SIZE_MAX) {
      std::string log = pr.failed < jobs.size() ? jobs[pr.failed].log : tmp + "/cc.log";
      WASMCAP_TRY(compile_error(pr.run, log, tc, "the translated module"));
      return make_error(ErrorCode::kInternal, "a compile job failed without a reason");
    }
    std::vector<std::string> argv{tc.compiler};
    argv.insert(argv.end(), tc.flags.begin(), tc.flags.end());
    argv.insert(argv.end(), {"-o", tmp + "/out.so"});
    for (const auto& j : jobs) argv.push_back(j.argv[j.argv.size() - 2]);  // the -o target
    argv.push_back("-lm");
    // The link gets what is left of the compile's wall-clock limit.
    CompileLimits link = tc.limits;
    auto used = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start).count();
    link.timeout_ms = used >= static_cast<long>(link.timeout_ms) ? 0 : link.timeout_ms - used;
    RunResult rc = run_process(argv, tmp + "/cc.log", link, false, req.what);
    Toolchain shown = tc;
    WASMCAP_TRY(compile_error(rc, tmp + "/cc.log", shown, "the translated module"));
  }
  int fd = open_trusted(tmp + "/out.so");
  std::string data;
  if (fd < 0 || !read_fd(fd, &data, kMaxObjectBytes)) {
    int e = errno;
    if (fd >= 0) close(fd);
    return make_error(ErrorCode::kIo, "cannot read the compiled object in '" + tmp + "': " +
                                          std::strerror(e));
  }
  close(fd);
  // Object first, sidecar last: a reader that sees the sidecar sees a complete object, and a
  // crash in between leaves an entry that fails verification and is rebuilt.
  auto store_failed = [&]() {
    if (int e = failpoint::hit("cache.aot.store_object")) {
      errno = e;
      return true;
    }
    if (rename((tmp + "/out.so").c_str(), (dir + "/" + key + ".so").c_str()) != 0) return true;
    if (int e = failpoint::hit("cache.aot.store_meta")) {
      errno = e;
      return true;
    }
    return !write_file(tmp + "/meta", sidecar(key, sha256_hex(data.data(), data.size()))) ||
           rename((tmp + "/meta").c_str(), (dir + "/" + key + ".meta").c_str()) != 0;
  };
  if (store_failed()) {
    return make_error(ErrorCode::kIo,
                      "cannot store the compiled object in '" + dir + "': " + std::strerror(errno));
  }
  int out = lookup(dir, key);
  if (out < 0) {
    return make_error(ErrorCode::kIo, "the compiled object in '" + dir +
                                          "' changed while it was stored; try again");
  }
  return out;
}

}  // namespace wasmcap::aot
