// Internal: the threads the MCP server runs its tool calls on, kept for the next call instead of
// ending with each (docs/mcp.md "Calls").
//
// A call used to get a new thread: clone, a stack mapped and unmapped, and on the aot engine the
// runtime's per-thread guest stack and signal stack made and freed again — a sizeable part of a
// small call. A thread that finishes a call now waits up to kIdleSeconds for the next one.
// How many calls exist at once is the scheduler's bound (admission, scheduler.h), not this
// one's: every admitted call gets a thread at once (kept or new), as before, since a call waits
// for its slot on its own thread. At most kMaxIdle threads wait idle; the others end.
//
// What a kept thread carries from one call to the next is only what is meant to be reused: the
// AOT runtime's stacks (reset by every call into guest code). Its CPU time is counted from each
// call's start (Scheduler, and the thread CPU-time clock guests read: wasi/core.h
// restart_thread_cpu_clock), the shell's per-thread pipe counts are reset by each run
// (shell/session.cc), and a thread whose call was demoted (its priority lowered: raising it back
// needs privilege) is never kept.
#pragma once

#include <cstddef>
#include <functional>

namespace wasmcap::mcp {

// The process's call threads (one set for every server of the process).
class Workers {
 public:
  static constexpr size_t kMaxIdle = 16;
  static constexpr int kIdleSeconds = 10;

  static Workers& process();

  // Runs `job` on an idle thread, or a new one. `job` returns whether its thread may be kept.
  // False when no thread could be started (the process is at its thread limit): `job` did not
  // run and is dropped.
  bool run(std::function<bool()> job);

  // For tests: threads waiting for a call now, and threads started since the process began.
  size_t idle() const;
  size_t started() const;

  struct State;

 private:
  Workers();
  State* s_;  // never freed: kept threads may outlive every other static
};

}  // namespace wasmcap::mcp
