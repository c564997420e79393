#include "mcp/scheduler.h"

#include "wasmcap/mcp.h"
#include "wasmcap/tenancy.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string_view>
#include <vector>

namespace wasmcap::mcp {

namespace {

// How often the demoter looks at the running calls' CPU time (demotion lags by at most this).
constexpr auto kDemoteInterval = std::chrono::milliseconds(10);
// The priority a demoted call's thread gets: the lowest. SCHED_IDLE first: a woken thread of
// normal policy preempts a SCHED_IDLE one at once, where against nice 19 it may wait for the
// scheduler's wake-up granularity (bench/notes/2026-11-28-noisy-neighbours.md); nice 19 where
// the policy change is refused.
constexpr int kDemotedNice = 19;

std::string plural(size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

uint64_t deadline_after_wait(uint64_t deadline_ms, const CallContext& ctx) {
  if (deadline_ms == 0 || ctx.admitted == Scheduler::Clock::time_point{}) return deadline_ms;
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Scheduler::Clock::now() - ctx.admitted).count();
  uint64_t w = waited > 0 ? static_cast<uint64_t>(waited) : 0;
  return w >= deadline_ms ? 1 : deadline_ms - w;
}

SchedulerLimits scheduler_limits(const ServerOptions& o, bool named_principals) {
  SchedulerLimits l;
  l.max_running = std::max<size_t>(1, o.max_concurrency);
  l.max_queued = o.max_queue;
  if (named_principals) {
    l.principal_running = std::max<size_t>(1, l.max_running / 2);
    l.principal_queued = std::max<size_t>(1, l.max_queued / 2);
    l.principal_output_bytes_per_s = policy::kDefaultPrincipalOutputBytesPerS;
  }
  // A call that waited its whole deadline has nothing left to run with.
  l.queue_timeout_ms = o.call_timeout_ms;
  l.demote_after_cpu_ms = kDefaultDemoteAfterCpuMs;
  l.fair_cpu_window_ms = kDefaultFairCpuWindowMs;
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) l.memory_budget_mb = static_cast<uint64_t>(pages) / 2 * static_cast<uint64_t>(page) >> 20;
  const policy::TenancyConfig* t = o.config.mcp.tenancy.get();
  if (t == nullptr) return l;
  if (t->per_principal.max_running) l.principal_running = *t->per_principal.max_running;
  if (t->per_principal.max_queued) l.principal_queued = *t->per_principal.max_queued;
  if (t->per_principal.output_bytes_per_s) l.principal_output_bytes_per_s = *t->per_principal.output_bytes_per_s;
  if (t->per_plugin.max_running) l.plugin_running = *t->per_plugin.max_running;
  if (t->per_plugin.max_queued) l.plugin_queued = *t->per_plugin.max_queued;
  for (const auto& p : t->principals) {
    l.principal_overrides[p.name] = {p.limits.max_running.value_or(0), p.limits.max_queued.value_or(0)};
    l.weights[p.name] = p.weight;
    if (p.limits.output_bytes_per_s) l.output_overrides[p.name] = *p.limits.output_bytes_per_s;
  }
  for (const auto& [name, lim] : t->plugins) {
    l.plugin_overrides[name] = {lim.max_running.value_or(0), lim.max_queued.value_or(0)};
  }
  if (t->queue_timeout_ms) l.queue_timeout_ms = *t->queue_timeout_ms;
  if (t->demote_after_cpu_ms) l.demote_after_cpu_ms = *t->demote_after_cpu_ms;
  if (t->fair_cpu_window_ms) l.fair_cpu_window_ms = *t->fair_cpu_window_ms;
  if (t->guest_nice) l.guest_nice = *t->guest_nice;
  if (t->memory_budget_mb) l.memory_budget_mb = *t->memory_budget_mb;
  return l;
}

struct Scheduler::Ticket {
  enum State { kNew, kQueued, kRunning, kEvicted, kDone };  // kNew: refused, or not yet placed
  std::string principal, plugin;
  State state = kNew;
  Clock::time_point admitted;
  uint64_t memory_mb = 0;
  std::string why;  // kEvicted: the message
  // Running, after wait() returned kRun: the thread the call runs on and its CPU clock.
  bool has_thread = false;
  pid_t tid = 0;
  clockid_t cpu_clock{};
  double cpu_at_start_s = 0;  // the thread's CPU before this call (threads are kept: workers.h)
  bool demoted = false;
  // Its other threads now (attach_thread), and the CPU of those that have ended.
  struct Thread {
    pid_t tid = 0;
    clockid_t cpu_clock{};
  };
  std::vector<Thread> others;
  double others_ended_s = 0;
};

namespace {

double cpu_seconds_of(clockid_t clock) {
  struct timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

struct Scheduler::Principal {
  std::string name;
  std::deque<Ticket*> queue;  // oldest first
  size_t running = 0;
  uint64_t reserved_mb = 0;
  unsigned weight = 1;
  unsigned credit = 0;  // starts left in this turn
  bool in_ring = false;
};

struct Scheduler::Plugin {
  size_t running = 0, queued = 0;
  uint64_t reserved_mb = 0;
};

Scheduler::Scheduler(SchedulerLimits limits) : limits_(std::move(limits)) {
  if (limits_.max_running == 0) limits_.max_running = 1;
  if (limits_.demote_after_cpu_ms > 0) demote_thread_ = std::thread([this] { demoter(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  demote_cv_.notify_all();
  if (demote_thread_.joinable()) demote_thread_.join();
}

Scheduler::Principal& Scheduler::principal(const std::string& name) {
  auto it = principals_.find(name);
  if (it == principals_.end()) {
    auto p = std::make_unique<Principal>();
    p->name = name;
    auto w = limits_.weights.find(name);
    p->weight = w != limits_.weights.end() && w->second > 0 ? w->second : 1;
    it = principals_.emplace(name, std::move(p)).first;
  }
  return *it->second;
}

Scheduler::Plugin& Scheduler::plugin(const std::string& name) {
  auto it = plugins_.find(name);
  if (it == plugins_.end()) it = plugins_.emplace(name, std::make_unique<Plugin>()).first;
  return *it->second;
}

namespace {

// One share of a principal or a plugin: its own override (0 there: none), else its kind's
// default (0: none), else `unset`.
size_t share_of(const SchedulerLimits::Overrides& overrides, const std::string& name,
                size_t std::pair<size_t, size_t>::*which, size_t kind_default, size_t unset) {
  auto it = overrides.find(name);
  if (it != overrides.end() && it->second.*which != 0) return it->second.*which;
  return kind_default != 0 ? kind_default : unset;
}

}  // namespace

// Unset running shares: none of its own (the server's slots bound it; a share equal to the
// slots would keep the slots that demoted calls give back from the same principal or plugin).
size_t Scheduler::principal_limit_running(const std::string& name) const {
  return share_of(limits_.principal_overrides, name, &std::pair<size_t, size_t>::first, limits_.principal_running,
                  SIZE_MAX);
}
size_t Scheduler::principal_limit_queued(const std::string& name) const {
  return share_of(limits_.principal_overrides, name, &std::pair<size_t, size_t>::second, limits_.principal_queued,
                  limits_.max_queued);
}
size_t Scheduler::plugin_limit_running(const std::string& name) const {
  return share_of(limits_.plugin_overrides, name, &std::pair<size_t, size_t>::first, limits_.plugin_running,
                  SIZE_MAX);
}
// Unset: no queue share of its own (the server's queue and the principals' shares bound it).
size_t Scheduler::plugin_limit_queued(const std::string& name) const {
  return share_of(limits_.plugin_overrides, name, &std::pair<size_t, size_t>::second, limits_.plugin_queued,
                  SIZE_MAX);
}

uint64_t Scheduler::output_rate(const std::string& name) const {
  auto it = limits_.output_overrides.find(name);
  return it != limits_.output_overrides.end() ? it->second : limits_.principal_output_bytes_per_s;
}

bool Scheduler::output_blocked(const std::string& name, Clock::time_point now, Clock::time_point* clear) const {
  auto d = debts_.find(name);
  if (d == debts_.end()) return false;
  const double rate = static_cast<double>(output_rate(name));
  if (rate <= 0) return false;
  // Owed now: what was owed, less what the budget has paid since; up to a second's worth may
  // be owed (the bucket's depth, a burst).
  double owed = d->second.bytes - rate * std::chrono::duration<double>(now - d->second.at).count();
  if (owed <= rate) return false;
  if (clear != nullptr) {
    *clear = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>((owed - rate) / rate));
  }
  return true;
}

void Scheduler::charge_output(const Ticket& t, uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  principal_usage_[t.principal].output_bytes += bytes;
  plugin_usage_[t.plugin].output_bytes += bytes;
  const double rate = static_cast<double>(output_rate(t.principal));
  if (rate <= 0 || bytes == 0) return;
  const Clock::time_point now = Clock::now();
  // Debts paid off are forgotten (the map holds only principals that owe).
  for (auto it = debts_.begin(); it != debts_.end();) {
    double r = static_cast<double>(output_rate(it->first));
    bool paid = r <= 0 || it->second.bytes <= r * std::chrono::duration<double>(now - it->second.at).count();
    it = paid ? debts_.erase(it) : std::next(it);
  }
  Debt& d = debts_[t.principal];
  double owed = d.at == Clock::time_point{} ? 0 : d.bytes - rate * std::chrono::duration<double>(now - d.at).count();
  d.bytes = std::max(0.0, owed) + static_cast<double>(bytes);
  d.at = now;
}

// Slots held: the running calls, less the demoted ones (up to max_running of them). A demoted
// call runs only on CPU no other call wants, so it gives its slot to a short call; it still holds
// its principal's and plugin's share and its memory, and at most max_running demoted calls run
// beyond the slots.
size_t Scheduler::busy_slots() const { return running_ - std::min(demoted_, limits_.max_running); }

bool Scheduler::can_run(const Ticket& t) const {
  if (busy_slots() >= limits_.max_running) return false;
  if (limits_.memory_budget_mb != 0 && reserved_mb_ + t.memory_mb > limits_.memory_budget_mb) return false;
  if (output_blocked(t.principal, Clock::now(), nullptr)) return false;
  auto p = principals_.find(t.principal);
  auto g = plugins_.find(t.plugin);
  return (p == principals_.end() || p->second->running < principal_limit_running(t.principal)) &&
         (g == plugins_.end() || g->second->running < plugin_limit_running(t.plugin));
}

void Scheduler::start(Ticket& t) {
  t.state = Ticket::kRunning;
  ++running_;
  reserved_mb_ += t.memory_mb;
  Principal& p = principal(t.principal);
  ++p.running;
  p.reserved_mb += t.memory_mb;
  Plugin& g = plugin(t.plugin);
  ++g.running;
  g.reserved_mb += t.memory_mb;
}

// Removes a queued ticket from its principal's queue and the counts.
void Scheduler::unqueue(Ticket& t) {
  Principal& p = principal(t.principal);
  auto it = std::find(p.queue.begin(), p.queue.end(), &t);
  if (it == p.queue.end()) return;  // not waiting (never placed, or already taken out)
  p.queue.erase(it);
  --queued_;
  --plugin(t.plugin).queued;
  if (p.queue.empty() && p.in_ring) {
    ring_.erase(std::find(ring_.begin(), ring_.end(), &p));
    p.in_ring = false;
    p.credit = 0;
  }
}

// Gives free slots to waiting calls, the principals in turn: the one at the front of the ring
// starts up to `weight` calls, then goes to the back. A principal none of whose waiting calls
// may run now (its own or its plugins' running limit) passes its turn.
void Scheduler::dispatch() {
  bool changed = false;
  while (busy_slots() < limits_.max_running && !ring_.empty()) {
    bool started = false;
    for (size_t n = 0, size = ring_.size(); n < size && !started; ++n) {
      Principal* p = ring_.front();
      auto it = std::find_if(p->queue.begin(), p->queue.end(), [&](Ticket* t) { return can_run(*t); });
      if (it == p->queue.end()) {
        ring_.pop_front();
        ring_.push_back(p);
        p->credit = 0;
        continue;
      }
      Ticket* t = *it;
      if (p->credit == 0) p->credit = p->weight;
      --p->credit;
      unqueue(*t);  // with its last waiting call, the principal leaves the ring
      start(*t);
      started = changed = true;
      if (p->in_ring && p->credit == 0) {
        ring_.pop_front();
        ring_.push_back(p);
      }
    }
    if (!started) break;
  }
  if (changed) cv_.notify_all();
}

std::shared_ptr<Scheduler::Ticket> Scheduler::admit(const std::string& principal_name,
                                                    const std::string& plugin_name, Refusal* refused,
                                                    uint64_t memory_mb) {
  // The ticket gives its place back when its last owner drops it, whatever its state: a
  // caller that loses it (an exception, an early return) cannot leave the scheduler pointing
  // at freed memory or hold a slot forever. Made before the lock below, so that a refused
  // ticket is dropped after the lock is released.
  std::shared_ptr<Ticket> t(new Ticket(), [this](Ticket* p) {
    release(*p);
    delete p;
  });
  t->principal = principal_name;
  t->plugin = plugin_name;
  t->memory_mb = memory_mb;
  t->admitted = Clock::now();
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) {
    refused->message = "server busy: the server is stopping";
    return nullptr;
  }
  Principal& p = principal(principal_name);
  Plugin& g = plugin(plugin_name);
  // A refused call leaves nothing behind (the entries made for it above included).
  auto refuse = [&](std::string message) -> std::shared_ptr<Ticket> {
    refused->message = std::move(message);
    ++principal_usage_[principal_name].refused;
    ++plugin_usage_[plugin_name].refused;
    forget_if_idle(principal_name, plugin_name);
    return nullptr;
  };
  if (limits_.memory_budget_mb != 0 && memory_mb > limits_.memory_budget_mb) {
    return refuse("server busy: the call may use " + std::to_string(memory_mb) + " MiB of memory, more than " +
                  "the server's budget for all running calls (" + std::to_string(limits_.memory_budget_mb) +
                  " MiB, mcp.tenancy memory_budget_mb); lower the plugin's limits.max_memory_mb or "
                  "--max-memory-mb (the bash tool's: mcp.bash.memory_mb)");
  }
  if (can_run(*t)) {
    start(*t);
    ++principal_usage_[principal_name].admitted;
    ++plugin_usage_[plugin_name].admitted;
    return t;
  }
  const size_t p_queued_limit = principal_limit_queued(principal_name);
  const size_t g_queued_limit = plugin_limit_queued(plugin_name);
  // A share smaller than the server's queue is the principal's own; otherwise the full queue's
  // rule below decides (one principal alone is refused only when the queue is full).
  if (p_queued_limit < limits_.max_queued && p.queue.size() >= p_queued_limit) {
    return refuse("server busy: principal '" + principal_name + "' has " + plural(p.running, "call") +
                  " running and " + plural(p.queue.size(), "call") +
                  " waiting, its share (mcp.tenancy per_principal in the host config); "
                  "retry when one has finished");
  }
  if (g.queued >= g_queued_limit) {
    return refuse("server busy: plugin '" + plugin_name + "' has " + plural(g.running, "call") +
                  " running and " + plural(g.queued, "call") +
                  " waiting, its share (mcp.tenancy per_plugin in the host config); retry later");
  }
  if (queued_ >= limits_.max_queued) {
    // The queue is full: the principal with the most calls waiting gives way.
    Principal* longest = nullptr;
    for (Principal* r : ring_) {
      if (longest == nullptr || r->queue.size() > longest->queue.size()) longest = r;
    }
    if (longest == nullptr || p.queue.size() >= longest->queue.size()) {
      return refuse("server busy: " + plural(running_, "call") + " running and " + plural(queued_, "call") +
                    " waiting, principal '" + principal_name +
                    "' among those with the most (limits: --max-concurrency, --max-queue); retry later");
    }
    Ticket* victim = longest->queue.back();
    victim->state = Ticket::kEvicted;
    ++principal_usage_[victim->principal].refused;
    ++plugin_usage_[victim->plugin].refused;
    victim->why = "server busy: the queue was full and principal '" + longest->name + "' had the most " +
                  "calls waiting (" + std::to_string(longest->queue.size()) +
                  "); its newest gave way to another principal's; retry later";
    unqueue(*victim);
    cv_.notify_all();
  }
  t->state = Ticket::kQueued;
  ++principal_usage_[principal_name].admitted;
  ++plugin_usage_[plugin_name].admitted;
  p.queue.push_back(t.get());
  ++queued_;
  ++g.queued;
  if (!p.in_ring) {
    ring_.push_back(&p);
    p.in_ring = true;
    p.credit = 0;
  }
  return t;
}

Scheduler::Wait Scheduler::wait(Ticket& t, const std::atomic<bool>* cancel, const std::atomic<bool>* stopped,
                                std::string* why) {
  std::unique_lock<std::mutex> l(mu_);
  const bool timed = limits_.queue_timeout_ms > 0;
  const Clock::time_point until = t.admitted + std::chrono::milliseconds(limits_.queue_timeout_ms);
  for (;;) {
    if (t.state == Ticket::kEvicted) {
      if (why != nullptr) *why = t.why;
      t.state = Ticket::kDone;
      forget_if_idle(t.principal, t.plugin);
      return Wait::kEvicted;
    }
    bool is_cancelled = cancel != nullptr && cancel->load();
    bool is_stopped = stopping_ || (stopped != nullptr && stopped->load());
    if (is_cancelled || is_stopped) {
      l.unlock();
      release(t);
      return is_cancelled ? Wait::kCancelled : Wait::kStopped;
    }
    if (t.state == Ticket::kRunning) {
      t.has_thread = true;
      t.tid = static_cast<pid_t>(::gettid());
      if (pthread_getcpuclockid(pthread_self(), &t.cpu_clock) != 0) t.has_thread = false;
      if (t.has_thread) t.cpu_at_start_s = cpu_seconds_of(t.cpu_clock);
      // The guests' weight beside the host's other work (raising one's own nice value needs
      // no privilege; refused, the call runs at the server's).
      if (limits_.guest_nice > 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(t.tid), limits_.guest_nice);
      // A principal past its share of the CPU starts its call at the lowest priority.
      if (t.has_thread && limits_.fair_cpu_window_ms != 0 && over_cpu_share(t.principal, Clock::now()) &&
          demote(t)) {
        dispatch();  // its slot may go to another principal's call
      }
      if (t.has_thread && demote_thread_.joinable()) {
        threads_.insert(&t);
        demote_cv_.notify_all();
      }
      return Wait::kRun;
    }
    if (timed && Clock::now() >= until) {
      if (why != nullptr) {
        *why = "server busy: the call waited " + std::to_string(limits_.queue_timeout_ms) +
               " ms for a slot (mcp.tenancy queue_timeout_ms) behind " + plural(running_, "call") +
               " running; retry later";
      }
      unqueue(t);
      t.state = Ticket::kDone;
      ++principal_usage_[t.principal].refused;
      ++plugin_usage_[t.plugin].refused;
      forget_if_idle(t.principal, t.plugin);
      return Wait::kTimedOut;
    }
    // A principal past its output budget is started by no release: its waiting calls look
    // again when it is back within it.
    Clock::time_point clear{};
    bool owing = t.state == Ticket::kQueued && output_blocked(t.principal, Clock::now(), &clear);
    if (owing && (!timed || clear < until)) {
      cv_.wait_until(l, clear);
      dispatch();
    } else if (timed) {
      cv_.wait_until(l, until);
    } else {
      cv_.wait(l);
    }
  }
}

void Scheduler::release(Ticket& t) {
  std::lock_guard<std::mutex> l(mu_);
  if (t.state == Ticket::kQueued) {
    unqueue(t);
  } else if (t.state == Ticket::kRunning) {
    --running_;
    reserved_mb_ -= t.memory_mb;
    Principal& p = principal(t.principal);
    --p.running;
    p.reserved_mb -= t.memory_mb;
    Plugin& g = plugin(t.plugin);
    --g.running;
    g.reserved_mb -= t.memory_mb;
    // The call's CPU, while its thread (the caller's: release runs on it) is alive, and its
    // other threads' (all ended by now).
    if (t.has_thread) {
      const double s = call_cpu_seconds(t);
      principal_usage_[t.principal].cpu_seconds += s;
      plugin_usage_[t.plugin].cpu_seconds += s;
      if (limits_.fair_cpu_window_ms != 0) {
        const Clock::time_point now = Clock::now();
        RecentCpu& r = recent_cpu_[t.principal];
        r.seconds = recent_cpu(t.principal, now) + s;
        r.at = now;
      }
    }
    if (t.demoted) --demoted_;
    dispatch();
  }
  t.state = Ticket::kDone;
  t.has_thread = false;
  threads_.erase(&t);
  forget_if_idle(t.principal, t.plugin);
}

// Principals and plugins with nothing admitted are forgotten (their turn state with them), so
// the maps hold only names with calls.
void Scheduler::forget_if_idle(const std::string& principal_name, const std::string& plugin_name) {
  auto p = principals_.find(principal_name);
  if (p != principals_.end() && p->second->running == 0 && p->second->queue.empty() && !p->second->in_ring) {
    principals_.erase(p);
  }
  auto g = plugins_.find(plugin_name);
  if (g != plugins_.end() && g->second->running == 0 && g->second->queued == 0) plugins_.erase(g);
}

void Scheduler::wake() {
  std::lock_guard<std::mutex> l(mu_);
  cv_.notify_all();
}

Scheduler::Clock::time_point Scheduler::admitted(const Ticket& t) const { return t.admitted; }

bool Scheduler::running(const Ticket& t) const {
  std::lock_guard<std::mutex> l(mu_);
  return t.state == Ticket::kRunning;
}

Scheduler::Counts Scheduler::counts() const {
  std::lock_guard<std::mutex> l(mu_);
  return Counts{running_, queued_, demoted_, reserved_mb_};
}

Scheduler::Counts Scheduler::counts_of_principal(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = principals_.find(name);
  if (it == principals_.end()) return {};
  return Counts{it->second->running, it->second->queue.size(), 0, it->second->reserved_mb};
}

Scheduler::Snapshot Scheduler::snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  Snapshot s;
  s.totals = Counts{running_, queued_, demoted_, reserved_mb_};
  for (const auto& [name, usage] : principal_usage_) {
    Row r{name, {}, usage};
    if (auto it = principals_.find(name); it != principals_.end()) {
      r.now = Counts{it->second->running, it->second->queue.size(), 0, it->second->reserved_mb};
    }
    s.principals.push_back(std::move(r));
  }
  for (const auto& [name, usage] : plugin_usage_) {
    Row r{name, {}, usage};
    if (auto it = plugins_.find(name); it != plugins_.end()) r.now = Counts{it->second->running, it->second->queued, 0, it->second->reserved_mb};
    s.plugins.push_back(std::move(r));
  }
  return s;
}

Scheduler::Counts Scheduler::counts_of_plugin(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = plugins_.find(name);
  if (it == plugins_.end()) return {};
  return Counts{it->second->running, it->second->queued, 0, it->second->reserved_mb};
}

namespace {

// Lowering a thread's priority needs no privilege; when refused (a seccomp filter), the thread
// keeps its priority and the call's deadline still bounds it.
bool demote_thread(pid_t tid) {
  struct sched_param idle{};
  return ::sched_setscheduler(tid, SCHED_IDLE, &idle) == 0 ||
         ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), kDemotedNice) == 0;
}

}  // namespace

bool Scheduler::demote(Ticket& t) {
  if (!demote_thread(t.tid)) return false;
  for (const Ticket::Thread& o : t.others) (void)demote_thread(o.tid);
  t.demoted = true;
  ++demoted_;
  return true;
}

bool Scheduler::demoted(const Ticket& t) const {
  std::lock_guard<std::mutex> l(mu_);
  return t.demoted;
}

double Scheduler::call_cpu_seconds(const Ticket& t) const {
  double s = cpu_seconds_of(t.cpu_clock) - t.cpu_at_start_s + t.others_ended_s;
  for (const Ticket::Thread& o : t.others) s += cpu_seconds_of(o.cpu_clock);
  return s;
}

void Scheduler::attach_thread(Ticket& t) {
  Ticket::Thread th;
  th.tid = static_cast<pid_t>(::gettid());
  if (pthread_getcpuclockid(pthread_self(), &th.cpu_clock) != 0) return;
  std::lock_guard<std::mutex> l(mu_);
  if (t.state != Ticket::kRunning || !t.has_thread) return;
  // The guests' weight, as the call's own thread has it; a demoted call's new thread starts
  // demoted (a thread inherits its creator's priority, but it may come from one not demoted).
  if (limits_.guest_nice > 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(th.tid), limits_.guest_nice);
  if (t.demoted) (void)demote_thread(th.tid);
  t.others.push_back(th);
}

void Scheduler::detach_thread(Ticket& t) {
  const pid_t tid = static_cast<pid_t>(::gettid());
  std::lock_guard<std::mutex> l(mu_);
  for (size_t i = 0; i < t.others.size(); ++i) {
    if (t.others[i].tid != tid) continue;
    t.others_ended_s += cpu_seconds_of(t.others[i].cpu_clock);
    t.others.erase(t.others.begin() + static_cast<std::ptrdiff_t>(i));
    return;
  }
}

double Scheduler::recent_cpu(const std::string& name, Clock::time_point now) const {
  auto it = recent_cpu_.find(name);
  if (it == recent_cpu_.end() || limits_.fair_cpu_window_ms == 0) return 0;
  const double age = std::chrono::duration<double>(now - it->second.at).count();
  return it->second.seconds * std::exp(-std::max(0.0, age) * 1000.0 / static_cast<double>(limits_.fair_cpu_window_ms));
}

// Shares are by weight among the active principals: those with calls admitted now, or with a
// call ended within the window (a principal that stopped calling leaves the comparison; one
// whose calls use little CPU stays in it: its share is what the heavy one takes from it).
bool Scheduler::over_cpu_share(const std::string& name, Clock::time_point now) const {
  double total = 0;
  for (const auto& [n, r] : recent_cpu_) total += recent_cpu(n, now);
  const double mine = recent_cpu(name, now);
  if (mine <= 0 || total <= 0) return false;
  auto weight = [&](const std::string& n) {
    auto w = limits_.weights.find(n);
    return w != limits_.weights.end() && w->second > 0 ? double(w->second) : 1.0;
  };
  double weights = 0;
  size_t active = 0;
  std::set<std::string_view> counted;
  auto count = [&](const std::string& n) {
    if (counted.insert(n).second) {
      weights += weight(n);
      ++active;
    }
  };
  for (const auto& [n, p] : principals_) {
    if (p->running > 0 || !p->queue.empty()) count(n);
  }
  const auto window = std::chrono::milliseconds(limits_.fair_cpu_window_ms);
  for (const auto& [n, r] : recent_cpu_) {
    if (now - r.at < window) count(n);
  }
  count(name);
  if (active < 2) return false;
  return mine > kCpuShareSlack * total * weight(name) / weights;
}

// Every kDemoteInterval while calls run: a call whose threads together are past
// demote_after_cpu_ms of CPU gets SCHED_IDLE (or nice 19) on each of them. Its thread is alive
// while its ticket is in threads_ (release() takes it out, under mu_, before the thread can end),
// and its other threads while attached (detach_thread, under mu_, before they end), so their CPU
// clocks and ids are valid here. A demoted call's thread is never kept for another call
// (workers.h), so the priority ends with it.
void Scheduler::demoter() {
  std::unique_lock<std::mutex> l(mu_);
  const int64_t threshold_ns = static_cast<int64_t>(limits_.demote_after_cpu_ms) * 1000000;
  while (!stopping_) {
    if (threads_.empty()) {
      demote_cv_.wait(l, [&] { return stopping_ || !threads_.empty(); });
      continue;
    }
    demote_cv_.wait_for(l, kDemoteInterval);
    // Only while another call would have the CPU: one waiting, or running at normal priority.
    // A call alone keeps its priority: nothing of the server's gains by its yielding, and a
    // demoted thread cannot get its priority back without privilege, so it would crawl for
    // the rest of its run beside whatever else the machine runs (a build, another service).
    size_t normal = 0;
    for (const Ticket* t : threads_) normal += t->demoted ? 0 : 1;
    for (Ticket* t : threads_) {
      if (t->demoted) continue;
      if (queued_ == 0 && normal < 2) continue;
      // All of the call's threads together (a bash call's pipeline stages run on their own).
      if (call_cpu_seconds(*t) * 1e9 < static_cast<double>(threshold_ns)) continue;
      if (demote(*t)) {
        --normal;
        dispatch();  // its slot may go to a short call now
      }
    }
  }
}

namespace {

// A label value: backslash, double quote and line feed escaped, as the format requires.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string prometheus_text(const Scheduler::Snapshot& s) {
  std::string out;
  char num[64];
  auto value = [&](double v) {
    std::snprintf(num, sizeof num, "%.9g", v);
    return std::string(num);
  };
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  family("wasmcap_mcp_calls_running", "gauge", "Calls running in the server now.");
  out += "wasmcap_mcp_calls_running " + std::to_string(s.totals.running) + "\n";
  family("wasmcap_mcp_calls_queued", "gauge", "Calls waiting for a slot now.");
  out += "wasmcap_mcp_calls_queued " + std::to_string(s.totals.queued) + "\n";
  family("wasmcap_mcp_calls_demoted", "gauge", "Running calls demoted to the lowest CPU priority now.");
  out += "wasmcap_mcp_calls_demoted " + std::to_string(s.totals.demoted) + "\n";
  family("wasmcap_mcp_memory_reserved_bytes", "gauge", "Guest memory reserved by the running calls.");
  out += "wasmcap_mcp_memory_reserved_bytes " + std::to_string(s.totals.reserved_mb << 20) + "\n";
  struct Kind {
    const char* key;
    const std::vector<Scheduler::Row>* rows;
  };
  for (const Kind& k : {Kind{"principal", &s.principals}, Kind{"plugin", &s.plugins}}) {
    const std::string p = std::string("wasmcap_mcp_") + k.key + "_";
    auto each = [&](const std::string& metric, const char* type, const char* help, auto get) {
      family(metric.c_str(), type, help);
      for (const auto& r : *k.rows) out += metric + "{" + k.key + "=\"" + label(r.name) + "\"} " + get(r) + "\n";
    };
    each(p + "calls_running", "gauge", "Calls running now.", [](const auto& r) { return std::to_string(r.now.running); });
    each(p + "calls_queued", "gauge", "Calls waiting for a slot now.", [](const auto& r) { return std::to_string(r.now.queued); });
    each(p + "calls_admitted_total", "counter", "Calls admitted (run at once or queued).",
         [](const auto& r) { return std::to_string(r.usage.admitted); });
    each(p + "calls_refused_total", "counter", "Calls answered server busy (at admission, evicted, timed out).",
         [](const auto& r) { return std::to_string(r.usage.refused); });
    each(p + "cpu_seconds_total", "counter", "CPU time of finished calls' threads.",
         [&](const auto& r) { return value(r.usage.cpu_seconds); });
    each(p + "output_bytes_total", "counter", "Result bytes sent.",
         [](const auto& r) { return std::to_string(r.usage.output_bytes); });
    each(p + "memory_reserved_bytes", "gauge", "Guest memory reserved by its running calls.",
         [](const auto& r) { return std::to_string(r.now.reserved_mb << 20); });
    if (std::string_view(k.key) == "principal") {
      each(p + "sessions", "gauge", "MCP sessions it holds.",
           [](const auto& r) { return std::to_string(r.sessions); });
      each(p + "workspace_copies", "gauge", "Per-session workspace copies counted against its share.",
           [](const auto& r) { return std::to_string(r.workspace_copies); });
    }
  }
  return out;
}

void add_sessions(Scheduler::Snapshot& s, const std::string& principal, size_t sessions, size_t workspace_copies) {
  auto it = std::lower_bound(s.principals.begin(), s.principals.end(), principal,
                             [](const Scheduler::Row& r, const std::string& n) { return r.name < n; });
  if (it == s.principals.end() || it->name != principal) it = s.principals.insert(it, Scheduler::Row{principal, {}, {}});
  it->sessions = sessions;
  it->workspace_copies = workspace_copies;
}

}  // namespace wasmcap::mcp
