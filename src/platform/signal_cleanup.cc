// The signal-cleanup registry (signal_cleanup.h).
//
// Why a handler and a lazily started thread, not a sigwait thread from the start: the front end
// installs this for every command, and most runs never register anything (a cached AOT run, an
// interpreted one); a thread per process would be paid on the cold-start path for nothing. So
// the handler only forwards the signal, through a pipe, to a thread the first registration
// starts; with nothing registered it dies of the signal at once, as without it. The handler does
// nothing but async-signal-safe calls.
#include "platform/signal_cleanup.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>

namespace wasmcap::platform {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

struct Registry {
  std::mutex mu;
  uint64_t next = 1;
  std::map<uint64_t, std::function<void()>> cleanups;
};

// Never destroyed: the signal thread may use it while the process exits.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

std::atomic<int> g_pipe_write{-1};  // the cleanup thread's pipe; -1 until it runs
std::atomic<pid_t> g_owner{0};      // the process that installed the handler

[[noreturn]] void die_of(int sig) {
  ::signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::kill(::getpid(), sig);
  ::raise(sig);
  ::_exit(128 + sig);
}

extern "C" void on_signal(int sig) {
  const int saved = errno;
  int fd = g_pipe_write.load(std::memory_order_acquire);
  // A child forked without exec (a compiler's supervisor) inherits the handler, not the thread
  // nor, once it closed them, the pipe: it dies of the signal as it would have.
  if (fd < 0 || ::getpid() != g_owner.load(std::memory_order_relaxed)) die_of(sig);
  const unsigned char b = static_cast<unsigned char>(sig);
  if (::write(fd, &b, 1) != 1) die_of(sig);
  errno = saved;
}

void cleanup_thread(int read_fd) {
  unsigned char b = 0;
  while (::read(read_fd, &b, 1) != 1) {
  }
  // The lock is never released: an owner that unregisters now waits (its own removal would
  // race ours), and nothing registered later runs half-made.
  Registry& r = registry();
  r.mu.lock();
  // Newest first, as destructors run: what a later registration stands for (a compiler's
  // process group) goes before what it works in (the compile's temporary directory).
  for (auto it = r.cleanups.rbegin(); it != r.cleanups.rend(); ++it) it->second();
  die_of(b);  // as without the handler (exit status 128+sig for a shell)
}

void start_thread() {
  static std::once_flag once;
  std::call_once(once, [] {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;  // then signals kill at once, as without cleanup
    try {
      std::thread(cleanup_thread, p[0]).detach();
    } catch (...) {
      ::close(p[0]);
      ::close(p[1]);
      return;
    }
    g_pipe_write.store(p[1], std::memory_order_release);
  });
}

}  // namespace

uint64_t add_signal_cleanup(std::function<void()> cleanup) {
  // Nothing runs cleanups unless the front end asked (an embedder's process), nor in a child
  // forked without exec (a background compile worker: its parent's registry and lock are
  // copies, possibly taken at the fork).
  const pid_t owner = g_owner.load(std::memory_order_relaxed);
  if (owner == 0 || ::getpid() != owner) return 0;
  start_thread();
  Registry& r = registry();
  std::lock_guard<std::mutex> l(r.mu);
  uint64_t id = r.next++;
  r.cleanups.emplace(id, std::move(cleanup));
  return id;
}

void remove_signal_cleanup(uint64_t id) {
  if (id == 0) return;
  Registry& r = registry();
  std::lock_guard<std::mutex> l(r.mu);
  r.cleanups.erase(id);
}

void run_cleanups_on_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_owner.store(::getpid(), std::memory_order_relaxed);
    for (int sig : kSignals) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) != 0) continue;
      // An ignored signal stays ignored (nohup's SIGHUP); a handler someone else set stays.
      if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO) != 0) continue;
      struct sigaction sa {};
      sa.sa_handler = on_signal;
      sigemptyset(&sa.sa_mask);
      for (int s : kSignals) sigaddset(&sa.sa_mask, s);
      sa.sa_flags = SA_RESTART;
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

}  // namespace wasmcap::platform
