// The background compile of `--engine auto` (docs/aot.md, "Background compile").
//
// Why a detached process and not a thread: the run that starts it usually ends long before the
// compile does (hello: 30 ms of interpreting against seconds of gcc), and a thread dies with
// its process; making the process wait for the compile at exit is exactly the blocking this
// removes. So the worker is a grandchild that outlives the run, with bounds of its own that hold
// whatever happens to the process that started it (listed in aot_link.h). It is forked, not
// exec'd: the library cannot know where a wasmcap executable lives (embedders link the library
// into their own programs), and the worker needs only the module bytes and the translator it
// already has in memory. Right after fork it is single-threaded; a lock another thread held at
// fork time could block it, and then the alarm ends it (no partial entry: the cache stores
// objects by rename, and a dead compile's temporary directory is swept by the next compile).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "engine/aot/aot_cache.h"
#include "engine/aot/aot_link.h"
#include "engine/aot/translate.h"

namespace wasmcap {
namespace aot {

namespace {
constexpr time_t kFailureTtlSeconds = 24 * 60 * 60;

std::string failure_path(const std::string& dir, const std::string& key) {
  return dir + "/" + key + ".failed";
}
}  // namespace

bool failure_is_the_modules(const Error& error) {
  switch (error.code) {
    // The module's own: the translator or the compiler refuses it, or it needs more than the
    // compile's bounds. Compiling it again gives the same answer.
    case ErrorCode::kModuleMalformed:
    case ErrorCode::kModuleUnsupported:
    case ErrorCode::kCompileLimit:
    case ErrorCode::kLinkError:
      return true;
    // Everything else is this machine's state at the time (a full disk, an I/O error, a lock,
    // a signal): remembering it would keep the module interpreted for a day after it passed.
    default:
      return false;
  }
}

void record_failure(const std::string& dir, const std::string& key, const Error& error) {
  std::string tmp = failure_path(dir, key) + ".tmp" + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return;
  std::string line = std::string(error_code_name(error.code)) + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), failure_path(dir, key).c_str()) != 0) unlink(tmp.c_str());
}

std::string recent_failure(const std::string& dir, const std::string& key) {
  int fd = open(failure_path(dir, key).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st;
  char buf[64] = {};
  std::string code;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
      st.st_mtime + kFailureTtlSeconds > time(nullptr)) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    for (ssize_t i = 0; i < n && ((buf[i] >= 'a' && buf[i] <= 'z') || buf[i] == '_'); ++i) {
      code += buf[i];
    }
    if (code.empty()) code = "error";
  }
  close(fd);
  return code;
}

void clear_failure(const std::string& dir, const std::string& key) {
  unlink(failure_path(dir, key).c_str());
}

}  // namespace aot

namespace {

// A process that exists and is not a zombie (a killed worker stays a zombie until whoever it was
// re-parented to reaps it; it compiles nothing any more).
bool worker_alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return true;  // no /proc: trust kill()
  char line[512] = {};
  size_t n = std::fread(line, 1, sizeof line - 1, f);
  std::fclose(f);
  // "pid (comm) S ...": the state follows the last ')' (comm may contain anything).
  const char* close = std::strrchr(line, ')');
  if (n == 0 || close == nullptr || close[1] != ' ') return true;
  return close[2] != 'Z' && close[2] != 'X';
}

// The worker: never returns. Every descriptor but the slot lock is closed first, so a caller
// reading our stdout/stderr through a pipe sees end-of-file when the run ends, not when the
// compile does.
// `module` carries the key's module hash, computed (or known) by the caller before the fork.
[[noreturn]] void background_worker(const ModuleBytes& module, AotOptions options, int slot_fd,
                                    const std::string& marker) {
  const uint8_t* bytes = module.data();
  const size_t size = module.size();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) _exit(1);
  for (int i = 0; i <= 2; ++i) {
    if (dup2(null, i) < 0) _exit(1);
  }
  if (slot_fd <= 2 || null <= 2) _exit(1);  // cannot happen: 0..2 were open in the parent
  if (slot_fd > 3) close_range(3, static_cast<unsigned>(slot_fd) - 1, 0);
  close_range(static_cast<unsigned>(slot_fd) + 1, ~0u, 0);
  // Default signal dispositions and an empty mask: the alarm below must be able to end us.
  for (int sig : {SIGALRM, SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  setpriority(PRIO_PROCESS, 0, 10);
  // The compile's limit scaled by the module's code, as the compile itself computes it
  // (aot_precompile): a 13 MiB Go program needs minutes of gcc, more at nice 10.
  const auto limits = aot::compile_limits(options, aot::wasm_code_bytes(bytes, size));
  options.compile_timeout_ms = limits.timeout_ms;  // the compile below uses exactly this bound
  // The compile's own wall clock (the run's deadline is the run's, not this compile's); the
  // translation before it is bounded by the alarm, which also ends a worker stuck on a lock.
  options.compile_deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  options.interrupt = nullptr;
  options.progress = false;
  options.cache_only = false;
  // Half the CPUs unless configured: the worker must not take every core from the foreground.
  options.compile_jobs = aot::background_compile_jobs(options, sysconf(_SC_NPROCESSORS_ONLN));
  alarm(static_cast<unsigned>(limits.timeout_ms / 1000 + 30));
  // The translator's memory: the compile limit on top of what the process holds already.
  struct rlimit as;
  if (getrlimit(RLIMIT_AS, &as) == 0) {
    long pages = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "re")) {
      if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
      std::fclose(f);
    }
    rlim_t want = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) +
                  static_cast<rlim_t>(limits.memory_bytes);
    if (as.rlim_max == RLIM_INFINITY || want < as.rlim_max) {
      as.rlim_cur = want;
      setrlimit(RLIMIT_AS, &as);
    }
  }
  std::string key;
  auto r = aot_precompile(module, options, &key);
  if (!r && !key.empty() && aot::failure_is_the_modules(r.error())) {
    if (auto dir = aot::open_cache_dir(options)) aot::record_failure(*dir, key, r.error());
  }
  unlink(marker.c_str());
  _exit(r ? 0 : 1);
}

}  // namespace

BackgroundCompile start_background_compile(const ModuleBytes& module, const AotOptions& options) {
  BackgroundCompile out;
  auto dir = aot::open_cache_dir(options);
  if (!dir) {
    out.reason = dir.error().message;
    return out;
  }
  auto tc = aot::make_toolchain(options, *dir);
  if (!tc) {
    out.reason = tc.error().message;
    return out;
  }
  // One hash of the module per run: the AOT engine's probe has it (docs/aot.md, "Cold start").
  const std::string key = aot::cache_key_for_module_hash(module.sha256(), *tc);
  if (std::string failed = aot::recent_failure(*dir, key); !failed.empty()) {
    out.reason = "an earlier background compile of this module failed (" + failed +
                 "); `wasmcap compile` retries in the foreground";
    return out;
  }
  // One compile per entry: a held entry lock, or a live worker named by the entry's marker
  // (written below before this call returns, so a run that starts after it sees the worker even
  // before the worker has taken the entry lock), means another process is compiling it now.
  const std::string marker = *dir + "/" + key + ".bg";
  if (int mfd = open(marker.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC); mfd >= 0) {
    char buf[32] = {};
    ssize_t n = read(mfd, buf, sizeof buf - 1);
    close(mfd);
    long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
    if (pid > 0 && worker_alive(static_cast<pid_t>(pid))) {
      out.reason = "another process is compiling this module";
      return out;
    }
  }
  {
    int lock = open((*dir + "/" + key + ".lock").c_str(),
                    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (lock >= 0) {
      bool busy = flock(lock, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
      close(lock);
      if (busy) {
        out.reason = "another process is compiling this module";
        return out;
      }
    }
  }
  // A slot: at most kMaxBackgroundCompiles workers per cache directory.
  int slot = -1;
  for (int i = 0; i < kMaxBackgroundCompiles && slot < 0; ++i) {
    int fd = open((*dir + "/bg-" + std::to_string(i) + ".lock").c_str(),
                  O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      slot = fd;
    } else {
      close(fd);
    }
  }
  if (slot < 0) {
    out.reason = std::to_string(kMaxBackgroundCompiles) +
                 " background compiles are running already in this cache";
    return out;
  }
  if (slot <= 2) {  // keep the worker's stdio numbers free
    int moved = fcntl(slot, F_DUPFD_CLOEXEC, 3);
    close(slot);
    slot = moved;
    if (slot < 0) {
      out.reason = "no file descriptor";
      return out;
    }
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    close(slot);
    out.reason = std::string("pipe: ") + std::strerror(errno);
    return out;
  }
  pid_t child = fork();
  if (child == 0) {
    // A session of its own: not stopped by the terminal's job control or hang-up, not reaped
    // by the caller (the intermediate child exits at once, so the worker is re-parented).
    setsid();
    pid_t worker = fork();
    if (worker != 0) {
      ssize_t w = write(pipefd[1], &worker, sizeof worker);
      (void)w;
      _exit(worker > 0 ? 0 : 1);
    }
    background_worker(module, options, slot, marker);
  }
  close(pipefd[1]);
  close(slot);  // the worker holds the slot's lock through its own descriptor
  if (child < 0) {
    close(pipefd[0]);
    out.reason = std::string("fork: ") + std::strerror(errno);
    return out;
  }
  while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_t worker = 0;
  ssize_t n;
  do {
    n = read(pipefd[0], &worker, sizeof worker);
  } while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  if (n != static_cast<ssize_t>(sizeof worker) || worker <= 0) {
    out.reason = "could not start the worker process";
    return out;
  }
  out.pid = worker;
  // The marker: the worker's pid, for the check above (a stale one names a dead process).
  const std::string tmp = marker + ".tmp" + std::to_string(getpid());
  if (int mfd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
      mfd >= 0) {
    const std::string text = std::to_string(worker) + "\n";
    bool ok = write(mfd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(mfd);
    if (!ok || rename(tmp.c_str(), marker.c_str()) != 0) unlink(tmp.c_str());
  }
  return out;
}

}  // namespace wasmcap
