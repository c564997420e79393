// See failpoint.h. Compiled with WASMCAP_FAILPOINTS=1 only in test builds (CMake option
// WASMCAP_FAILPOINTS); only this file changes between the two, so turning them on costs one
// recompile and a call per state-writing step.
#include "common/failpoint.h"

#if WASMCAP_FAILPOINTS
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#endif

namespace wasmcap::failpoint {

#if WASMCAP_FAILPOINTS
namespace {

enum class Action { kKill, kEnospc, kEio, kDelay };

struct Armed {
  std::string name;
  Action action;
  unsigned long delay_ms;  // kDelay
  unsigned long nth;   // fire on this hit (1-based)
  unsigned long seen;  // hits so far
};

struct State {
  std::mutex mu;
  std::vector<Armed> armed;
  int trace_fd = -1;
};

// Parses WASMCAP_FAILPOINTS. A malformed entry aborts the process: a test that armed a failpoint
// wrongly must not pass by running without it.
State& state() {
  static State* s = [] {
    auto* st = new State;  // never destroyed: hit() may run during static destruction
    if (const char* t = std::getenv("WASMCAP_FAILPOINT_TRACE"); t != nullptr && *t != '\0') {
      st->trace_fd = ::open(t, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    }
    const char* spec = std::getenv("WASMCAP_FAILPOINTS");
    std::string_view rest = spec == nullptr ? "" : spec;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      if (item.empty()) continue;
      size_t eq = item.find('=');
      if (eq == std::string_view::npos || eq == 0) ::abort();
      std::string_view act = item.substr(eq + 1);
      unsigned long nth = 1;
      if (size_t at = act.find('@'); at != std::string_view::npos) {
        std::string n(act.substr(at + 1));
        char* end = nullptr;
        nth = std::strtoul(n.c_str(), &end, 10);
        if (n.empty() || *end != '\0' || nth == 0) ::abort();
        act = act.substr(0, at);
      }
      Action a;
      unsigned long delay_ms = 0;
      if (act == "kill") {
        a = Action::kKill;
      } else if (act == "enospc") {
        a = Action::kEnospc;
      } else if (act == "eio") {
        a = Action::kEio;
      } else if (act.substr(0, 5) == "delay") {
        std::string n(act.substr(5));
        char* end = nullptr;
        delay_ms = std::strtoul(n.c_str(), &end, 10);
        if (n.empty() || *end != '\0' || delay_ms == 0 || delay_ms > 60000) ::abort();
        a = Action::kDelay;
      } else {
        ::abort();
      }
      st->armed.push_back(Armed{std::string(item.substr(0, eq)), a, delay_ms, nth, 0});
    }
    return st;
  }();
  return *s;
}

}  // namespace

int hit(std::string_view name) noexcept {
  State& s = state();
  if (s.armed.empty() && s.trace_fd < 0) return 0;
  unsigned long sleep_ms = 0;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.trace_fd >= 0) {
      std::string line(name);
      line += '\n';
      (void)!::write(s.trace_fd, line.data(), line.size());
    }
    for (Armed& a : s.armed) {
      if (a.name != name || ++a.seen != a.nth) continue;
      switch (a.action) {
        case Action::kKill:
          ::kill(::getpid(), SIGKILL);
          ::_exit(137);  // not reached
        case Action::kEnospc:
          return ENOSPC;
        case Action::kEio:
          return EIO;
        case Action::kDelay:
          sleep_ms = a.delay_ms;
          break;
      }
    }
  }
  // Outside the lock: the other threads' hits go on while this one waits.
  if (sleep_ms != 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  return 0;
}

bool compiled_in() noexcept { return true; }

#else

int hit(std::string_view) noexcept { return 0; }
bool compiled_in() noexcept { return false; }

#endif

}  // namespace wasmcap::failpoint
