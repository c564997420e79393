// Internal: admission and fair scheduling of the MCP server's tool calls among its principals
// (docs/mcp.md "Tenants"). One Scheduler per server (stateless HTTP creates a Protocol per
// request; the limits hold across them), or per stdio connection.
//
// The rules, each tested in tests/mcp/scheduler_test.cc:
//   - slots: at most max_running calls run at once in the server, at most a principal's own
//     max_running for one principal and a plugin's for one plugin;
//   - order: waiting calls are kept per principal, first come first served within one; a free
//     slot goes to the principals in turn (round-robin, `weight` calls per turn), so another
//     principal's backlog delays a call by at most one turn;
//   - admission: a principal with its own max_queued calls waiting is refused ("over its
//     share"), as is a call for a plugin with its max_queued waiting. When the server's queue is
//     full, the principal with the most calls waiting gives way: the newcomer is refused when it
//     has at least as many waiting, otherwise that principal's newest waiting call is refused
//     (evicted) to make room, so a principal within its share is never refused;
//   - time: a call waits at most queue_timeout_ms for a slot; its deadline (the caller's view)
//     runs from admission, queueing included (tools.cc subtracts the wait);
//   - memory: a call starts only when its memory cap fits in what the running calls have not
//     reserved of the server's budget (it waits otherwise: a principal whose next call does not
//     fit passes its turn); a call larger than the whole budget is refused at admission;
//   - output: a principal's results count against its bytes per second (a token bucket a
//     second deep); a principal past it passes its turns until it is within it again;
//   - CPU: a running call whose thread has used demote_after_cpu_ms of CPU is set to SCHED_IDLE
//     (nice 19 where refused; a Linux thread's own policy), so the calls still short win the CPU
//     from the long ones (a two-level feedback queue); nothing is demoted when that fails (the
//     deadline still holds). A demoted call gives its slot back (it still holds its principal's
//     and plugin's share and its memory): at most max_running demoted calls run beyond the slots.
//     Every call's thread starts at guest_nice (the guests' weight beside the host's other
//     work). A principal whose calls have used more than kCpuShareSlack times its weighted share of the
//     guest CPU over the last fair_cpu_window_ms (decayed exponentially) has its next calls
//     start demoted, however short each is: CPU is shared by principal, not only by slot, while
//     what no other principal wants stays usable (SCHED_IDLE takes nothing from them).
#pragma once

#include <sys/types.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace wasmcap::mcp {

struct CallContext;

// A running call's CPU time before it yields to shorter ones (mcp.tenancy demote_after_cpu_ms).
inline constexpr uint64_t kDefaultDemoteAfterCpuMs = 50;
// The window over which each principal's CPU is compared with its share (mcp.tenancy
// fair_cpu_window_ms), and how far past its share a principal may go before its calls start
// demoted.
inline constexpr uint64_t kDefaultFairCpuWindowMs = 1000;
inline constexpr double kCpuShareSlack = 1.5;

// A call's deadline as its run sees it: `deadline_ms` (0 = none) less what the call waited since
// `ctx.admitted` (unset: nothing), at least 1 ms. The caller's deadline runs from admission.
uint64_t deadline_after_wait(uint64_t deadline_ms, const CallContext& ctx);

class Scheduler;

struct SchedulerLimits {
  size_t max_running = 4;  // the server's slots (--max-concurrency)
  size_t max_queued = 16;  // calls waiting in the server (--max-queue)
  // Each principal's and each plugin's (0 = the server's own figure).
  size_t principal_running = 0, principal_queued = 0;
  size_t plugin_running = 0, plugin_queued = 0;
  // Per name, over the above: {max_running, max_queued}, 0 = the default. Principals' weights.
  using Overrides = std::map<std::string, std::pair<size_t, size_t>, std::less<>>;
  Overrides principal_overrides, plugin_overrides;
  std::map<std::string, unsigned, std::less<>> weights;
  uint64_t queue_timeout_ms = 0;       // 0: a call waits as long as it is not cancelled
  // MiB of guest memory the running calls may reserve together (0: no budget).
  uint64_t memory_budget_mb = 0;
  uint64_t demote_after_cpu_ms = 0;    // 0: never
  uint64_t fair_cpu_window_ms = 0;     // 0: no CPU share by principal
  int guest_nice = 0;                  // every call's thread starts at this nice value (0-19)
  // Result bytes each principal may receive per second, averaged (0: no budget); by name, over
  // it. A principal more than a second's worth behind has its calls wait (it passes its turns).
  uint64_t principal_output_bytes_per_s = 0;
  std::map<std::string, uint64_t, std::less<>> output_overrides;
};

struct ServerOptions;

// The limits of a server with `o`'s totals (--max-concurrency, --max-queue, --timeout-ms) and
// host config mcp.tenancy. `named_principals`: callers may be told apart (the HTTP transport
// with principals configured); then each principal's default share is half the server's slots
// and queue (at least 1), otherwise the one principal may use them all. The memory budget
// defaults to half the machine's physical memory.
SchedulerLimits scheduler_limits(const ServerOptions& o, bool named_principals);

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Scheduler(SchedulerLimits limits);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  struct Ticket;
  // A refused admission: what to tell the caller.
  struct Refusal {
    std::string message;
  };
  // The scheduler must outlive its tickets: dropping the last reference to a ticket releases
  // it (release() below, a no-op once released).
  // Admits a call of `principal` for `plugin` (never blocks) that will hold up to `memory_mb`
  // of guest memory: a ticket, running already when a slot and the memory were free for it, or
  // queued; a refusal otherwise (also for a call larger than the whole memory budget).
  std::shared_ptr<Ticket> admit(const std::string& principal, const std::string& plugin, Refusal* refused,
                                uint64_t memory_mb = 0);

  enum class Wait { kRun, kCancelled, kTimedOut, kEvicted, kStopped };
  // On the thread that will run the call: until the ticket may run (kRun: the slot is taken
  // and this thread is the one demoted when it uses too much CPU), `cancel` or `stopped`
  // turns true (after wake()), the queue timeout passes, or it is evicted. Anything but kRun
  // leaves no trace of the ticket. `why` gets the message for kTimedOut and kEvicted.
  Wait wait(Ticket& t, const std::atomic<bool>* cancel, const std::atomic<bool>* stopped, std::string* why);
  // A thread that runs part of a running call besides the one wait() returned on (the bash
  // tool's pipeline stages, `$(...)`, background jobs; shell::ThreadObserver): its CPU counts as
  // the call's, for demotion, the CPU share and the metrics, and it is demoted with the call (at
  // once when the call already is). On that thread; detach_thread() on it too, before it ends
  // and before the call's release(). Nothing for a ticket not running.
  void attach_thread(Ticket& t);
  void detach_thread(Ticket& t);
  // The ticket's place is given back: a queued one leaves its queue, a running one frees its
  // slot and memory. Idempotent (dropping the ticket calls it too).
  void release(Ticket& t);
  // Counts a call's result (`bytes` as sent) against its principal's output budget; before
  // release(), so that the calls the release starts see it.
  void charge_output(const Ticket& t, uint64_t bytes);
  // Wakes every waiter to look at its cancel/stopped flags.
  void wake();

  // Whether the call's threads were given the lowest priority (demoted, at its start or while it
  // ran): such a thread cannot get its priority back without privilege, so it is not kept for
  // another call (workers.h).
  bool demoted(const Ticket& t) const;

  Clock::time_point admitted(const Ticket& t) const;
  // Whether the ticket holds a slot now (admitted running, or started by a release since).
  bool running(const Ticket& t) const;

  struct Counts {
    size_t running = 0, queued = 0, demoted = 0;
    uint64_t reserved_mb = 0;  // guest memory reserved by the running calls
  };
  Counts counts() const;
  Counts counts_of_principal(const std::string& principal) const;
  Counts counts_of_plugin(const std::string& plugin) const;

  // What one principal or plugin has used since the server started (docs/mcp.md "Metrics").
  struct Usage {
    uint64_t admitted = 0;      // calls admitted (run at once or queued)
    uint64_t refused = 0;       // answered server busy: at admission, evicted or timed out
    uint64_t output_bytes = 0;  // results charged (charge_output)
    double cpu_seconds = 0;     // CPU of the calls' threads, counted when they end
  };
  struct Row {
    std::string name;
    Counts now;  // running, queued, reserved_mb (demoted: server-wide only)
    Usage usage;
    // Principals only, from the session table (add_sessions): sessions it holds, and the
    // per-session workspace copies counted against its share.
    size_t sessions = 0, workspace_copies = 0;
  };
  struct Snapshot {
    Counts totals;
    std::vector<Row> principals, plugins;  // every name that has had a call, by name
  };
  Snapshot snapshot() const;

 private:
  struct Principal;
  struct Plugin;
  Principal& principal(const std::string& name);
  Plugin& plugin(const std::string& name);
  size_t principal_limit_running(const std::string& name) const;
  size_t principal_limit_queued(const std::string& name) const;
  size_t plugin_limit_running(const std::string& name) const;
  size_t plugin_limit_queued(const std::string& name) const;
  bool can_run(const Ticket& t) const;
  size_t busy_slots() const;
  uint64_t output_rate(const std::string& principal) const;
  // Whether the principal is more than a second's worth past its output budget now; if so,
  // `clear` gets when it will not be.
  bool output_blocked(const std::string& principal, Clock::time_point now, Clock::time_point* clear) const;
  // Lowers the running call's thread to SCHED_IDLE (nice 19 where refused); false when both
  // are refused.
  bool demote(Ticket& t);
  // The CPU of the call's thread and its other threads (attached and ended), in seconds.
  double call_cpu_seconds(const Ticket& t) const;
  // The principal's calls' CPU seconds, decayed over the fair-CPU window, at `now`.
  double recent_cpu(const std::string& principal, Clock::time_point now) const;
  // Whether the principal has used more than kCpuShareSlack times its weighted share of what
  // every active principal used over the window (never while it is the only one active).
  bool over_cpu_share(const std::string& principal, Clock::time_point now) const;
  void start(Ticket& t);
  void unqueue(Ticket& t);
  void dispatch();
  void demoter();
  void forget_if_idle(const std::string& principal, const std::string& plugin);

  SchedulerLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable demote_cv_;
  std::map<std::string, std::unique_ptr<Principal>, std::less<>> principals_;
  std::map<std::string, std::unique_ptr<Plugin>, std::less<>> plugins_;
  std::deque<Principal*> ring_;  // principals with calls waiting, in turn order
  std::set<Ticket*> threads_;    // running, on a known thread (wait() returned kRun): the demoter's
  // Output owed per principal (bytes, at a time): kept while the principal has none admitted.
  struct Debt {
    double bytes = 0;
    Clock::time_point at;
  };
  std::map<std::string, Debt, std::less<>> debts_;
  // Kept for every principal and plugin that ever had a call: names come from the host config
  // (principals, the built-in three) and the registry (plugins), so the maps stay small.
  std::map<std::string, Usage, std::less<>> principal_usage_, plugin_usage_;
  // Each principal's calls' CPU seconds, decayed exponentially over fair_cpu_window_ms, as of
  // `at` (names from the host config: the map stays small).
  struct RecentCpu {
    double seconds = 0;
    Clock::time_point at;
  };
  std::map<std::string, RecentCpu, std::less<>> recent_cpu_;
  size_t running_ = 0, queued_ = 0, demoted_ = 0;
  uint64_t reserved_mb_ = 0;
  uint64_t seq_ = 0;
  bool stopping_ = false;
  std::thread demote_thread_;
};

// The snapshot in Prometheus' text exposition format (version 0.0.4): per principal and per
// plugin, gauges of what runs and waits now and counters of what was admitted, refused, sent and
// used (docs/mcp.md "Metrics").
std::string prometheus_text(const Scheduler::Snapshot& s);

// Adds what a principal holds in the session table to the snapshot's row of that principal (a
// row is made for a principal that has had no call yet), keeping the rows in name order.
void add_sessions(Scheduler::Snapshot& s, const std::string& principal, size_t sessions, size_t workspace_copies);

}  // namespace wasmcap::mcp
