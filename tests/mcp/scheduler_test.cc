// The MCP server's admission and fair scheduling (src/mcp/scheduler.h), rule by rule, and the
// host config's mcp.tenancy that sets it. Each test fails when its rule is removed.
#include "mcp/scheduler.h"
#include "mcp/sessions.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"
#include "thread_cpu.h"
#include "wasmcap/mcp.h"
#include "wasmcap/policy.h"
#include "wasmcap/tenancy.h"

namespace wasmcap::mcp {
namespace {

using Ticket = std::shared_ptr<Scheduler::Ticket>;
using namespace std::chrono_literals;

SchedulerLimits limits(size_t running, size_t queued) {
  SchedulerLimits l;
  l.max_running = running;
  l.max_queued = queued;
  return l;
}

Ticket admit(Scheduler& s, const std::string& who, const std::string& plugin = "p",
             std::string* refused = nullptr) {
  Scheduler::Refusal r;
  Ticket t = s.admit(who, plugin, &r);
  if (refused != nullptr) *refused = r.message;
  return t;
}

// wait() on a ticket the test knows is running (or gone): returns at once.
Scheduler::Wait settle(Scheduler& s, Scheduler::Ticket& t, std::string* why = nullptr) {
  return s.wait(t, nullptr, nullptr, why);
}

// The calling thread's priority as a nice value, SCHED_IDLE counted as the lowest (19).
int priority() {
  if (::sched_getscheduler(0) == SCHED_IDLE) return 19;
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
}

TEST(Scheduler, RunsAtOnceWhileASlotIsFree) {
  Scheduler s(limits(2, 4));
  Ticket a = admit(s, "alice"), b = admit(s, "bob");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(s.counts().running, 2u);
  EXPECT_EQ(s.counts().queued, 0u);
  EXPECT_EQ(settle(s, *a), Scheduler::Wait::kRun);
  Ticket c = admit(s, "carol");
  ASSERT_TRUE(c);
  EXPECT_EQ(s.counts().queued, 1u);  // no slot: it waits
  s.release(*a);
  EXPECT_EQ(s.counts_of_principal("carol").running, 1u);  // the freed slot is carol's at once
  s.release(*b);
  s.release(*c);
  EXPECT_EQ(s.counts().running, 0u);
}

// A principal runs at most its own share of the slots; another principal takes the rest.
TEST(Scheduler, APrincipalRunsAtMostItsShare) {
  SchedulerLimits l = limits(4, 8);
  l.principal_running = 2;
  Scheduler s(l);
  std::vector<Ticket> mine;
  for (int i = 0; i < 3; ++i) mine.push_back(admit(s, "hog"));
  EXPECT_EQ(s.counts_of_principal("hog").running, 2u);
  EXPECT_EQ(s.counts_of_principal("hog").queued, 1u);
  Ticket other = admit(s, "quiet");
  EXPECT_EQ(s.counts_of_principal("quiet").running, 1u) << "a free slot beyond hog's share is quiet's";
  for (auto& t : mine) s.release(*t);
  s.release(*other);
}

// Releases `running` and returns the ticket of `waiting` that got the slot (null: none did).
Ticket next_after(Scheduler& s, const Ticket& running, std::vector<Ticket>& waiting) {
  s.release(*running);
  for (auto it = waiting.begin(); it != waiting.end(); ++it) {
    if (s.running(**it)) {
      Ticket t = *it;
      waiting.erase(it);
      return t;
    }
  }
  return nullptr;
}

// Waiting calls get a freed slot principal by principal, first come first served within one:
// another principal's backlog delays a call by one turn, not by all of its calls.
TEST(Scheduler, FreedSlotsGoToThePrincipalsInTurn) {
  Scheduler s(limits(1, 16));
  Ticket running = admit(s, "a");  // holds the only slot
  std::vector<Ticket> waiting;
  std::map<Scheduler::Ticket*, std::string> name;
  for (const char* who : {"a", "a", "a", "b", "c", "b"}) {
    waiting.push_back(admit(s, who));
    name[waiting.back().get()] = who + std::to_string(std::count_if(name.begin(), name.end(), [&](auto& e) {
                                    return e.second[0] == who[0];
                                  }) + 1);
  }
  std::string order;
  while (!waiting.empty()) {
    running = next_after(s, running, waiting);
    ASSERT_TRUE(running) << "a slot was freed and no waiting call got it";
    order += name[running.get()] + " ";
  }
  EXPECT_EQ(order, "a1 b1 c1 a2 b2 a3 ");
  s.release(*running);
  EXPECT_EQ(s.counts().running, 0u);
}

// A principal's weight is how many of its calls start in a row while others wait.
TEST(Scheduler, WeightIsCallsPerTurn) {
  SchedulerLimits l = limits(1, 16);
  l.weights["heavy"] = 2;
  Scheduler s(l);
  Ticket running = admit(s, "light");
  std::vector<Ticket> waiting;
  std::map<Scheduler::Ticket*, char> name;
  for (const char* who : {"heavy", "heavy", "heavy", "light", "light"}) {
    waiting.push_back(admit(s, who));
    name[waiting.back().get()] = who[0];
  }
  std::string order;
  while (!waiting.empty()) {
    running = next_after(s, running, waiting);
    ASSERT_TRUE(running);
    order += name[running.get()];
  }
  EXPECT_EQ(order, "hhlhl");
  s.release(*running);
}

// Over its own share of the queue, a principal is refused; another principal is not.
TEST(Scheduler, APrincipalOverItsQueueShareIsRefusedAndOnlyIt) {
  SchedulerLimits l = limits(1, 16);
  l.principal_queued = 2;
  Scheduler s(l);
  Ticket running = admit(s, "hog");
  Ticket q1 = admit(s, "hog"), q2 = admit(s, "hog");
  ASSERT_TRUE(q1 && q2);
  std::string why;
  EXPECT_FALSE(admit(s, "hog", "p", &why));
  EXPECT_NE(why.find("principal 'hog'"), std::string::npos) << why;
  EXPECT_NE(why.find("its share"), std::string::npos) << why;
  Ticket quiet = admit(s, "quiet");
  EXPECT_TRUE(quiet) << "a principal within its share is admitted";
  EXPECT_EQ(s.counts().queued, 3u);
}

// When the server's queue is full, the principal with the most calls waiting gives way: a
// newcomer with fewer waiting is admitted and that principal's newest waiting call is refused.
TEST(Scheduler, AFullQueueRefusesThePrincipalWithTheMostWaiting) {
  Scheduler s(limits(1, 4));
  Ticket running = admit(s, "hog");
  std::vector<Ticket> hog;
  for (int i = 0; i < 4; ++i) hog.push_back(admit(s, "hog"));
  ASSERT_TRUE(hog.back());
  std::string why;
  EXPECT_FALSE(admit(s, "hog", "p", &why)) << "the longest queue's owner is refused when it asks for more";
  Ticket quiet = admit(s, "quiet", "p", &why);
  ASSERT_TRUE(quiet) << "a principal with nothing waiting must not be refused: " << why;
  EXPECT_EQ(s.counts().queued, 4u);
  EXPECT_EQ(s.counts_of_principal("hog").queued, 3u);
  // hog's newest call was the one evicted: its waiter learns it at once, with the reason.
  EXPECT_EQ(settle(s, *hog.back(), &why), Scheduler::Wait::kEvicted);
  EXPECT_NE(why.find("gave way"), std::string::npos) << why;
  // Equal shares: a third principal still gets in (hog, with 3 waiting, gives way again).
  Ticket third = admit(s, "third");
  EXPECT_TRUE(third);
  EXPECT_EQ(s.counts_of_principal("hog").queued, 2u);
  // quiet (1 waiting) against hog (2) and third (1): quiet is admitted, hog gives way.
  Ticket quiet2 = admit(s, "quiet");
  EXPECT_TRUE(quiet2);
  EXPECT_EQ(s.counts_of_principal("hog").queued, 1u);
  // Now everyone has at most 2 waiting and quiet has the most: quiet is refused, not hog.
  EXPECT_FALSE(admit(s, "quiet"));
  Ticket hog_again = admit(s, "hog");
  EXPECT_TRUE(hog_again);
}

// No queue at all: every call without a free slot is refused.
TEST(Scheduler, ZeroQueueRefusesWhenNoSlotIsFree) {
  Scheduler s(limits(1, 0));
  Ticket running = admit(s, "a");
  std::string why;
  EXPECT_FALSE(admit(s, "b", "p", &why));
  EXPECT_NE(why.find("server busy"), std::string::npos) << why;
  s.release(*running);
  EXPECT_TRUE(admit(s, "b"));
}

// A plugin runs at most its own share of the slots whoever calls it.
TEST(Scheduler, APluginRunsAtMostItsShare) {
  SchedulerLimits l = limits(4, 8);
  l.plugin_overrides["slow"] = {1, 1};
  Scheduler s(l);
  Ticket a = admit(s, "a", "slow"), b = admit(s, "b", "slow"), c = admit(s, "c", "fast");
  EXPECT_TRUE(s.running(*a));
  EXPECT_FALSE(s.running(*b)) << "slow's share is one call at a time";
  EXPECT_TRUE(s.running(*c)) << "another plugin's call is not held behind slow's";
  std::string why;
  EXPECT_FALSE(admit(s, "d", "slow", &why)) << "slow's share of the queue is one call";
  EXPECT_NE(why.find("plugin 'slow'"), std::string::npos) << why;
  s.release(*a);
  EXPECT_TRUE(s.running(*b));
  s.release(*b);
  s.release(*c);
}

// Running calls reserve their memory caps from the server's budget: a call that does not fit
// waits (and another principal's smaller call that fits goes first); one larger than the whole
// budget is refused at admission.
TEST(Scheduler, CallsReserveTheirMemoryFromTheBudget) {
  SchedulerLimits l = limits(4, 8);
  l.memory_budget_mb = 1024;
  Scheduler s(l);
  Scheduler::Refusal r;
  Ticket big = s.admit("a", "p", &r, 768);
  ASSERT_TRUE(big);
  EXPECT_TRUE(s.running(*big));
  EXPECT_EQ(s.counts().reserved_mb, 768u);
  Ticket second = s.admit("b", "p", &r, 512);
  ASSERT_TRUE(second);
  EXPECT_FALSE(s.running(*second)) << "768 + 512 MiB is over the 1024 MiB budget: it must wait";
  Ticket small = s.admit("c", "p", &r, 128);
  ASSERT_TRUE(small);
  EXPECT_TRUE(s.running(*small)) << "a call that fits runs while a bigger one waits";
  EXPECT_EQ(s.counts_of_principal("c").reserved_mb, 128u);
  EXPECT_EQ(s.counts_of_plugin("p").reserved_mb, 896u) << "the plugin's running calls' reservations";
  const std::string text = prometheus_text(s.snapshot());
  EXPECT_NE(text.find("\nwasmcap_mcp_plugin_memory_reserved_bytes{plugin=\"p\"} 939524096\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nwasmcap_mcp_principal_memory_reserved_bytes{principal=\"a\"} 805306368\n"), std::string::npos) << text;
  EXPECT_FALSE(s.admit("d", "p", &r, 2048));
  EXPECT_NE(r.message.find("memory_budget_mb"), std::string::npos) << r.message;
  s.release(*big);
  EXPECT_TRUE(s.running(*second)) << "the freed memory goes to the waiting call";
  EXPECT_EQ(s.counts().reserved_mb, 640u);
  s.release(*second);
  s.release(*small);
  EXPECT_EQ(s.counts().reserved_mb, 0u);
}

// A ticket its owner drops gives its place back, whatever its state: the scheduler never keeps
// a pointer to a freed ticket, and a lost ticket holds no slot.
TEST(Scheduler, DroppingATicketGivesItsPlaceBack) {
  Scheduler s(limits(1, 4));
  Ticket running = admit(s, "a");
  Ticket waiting = admit(s, "b");
  Ticket next = admit(s, "c");
  EXPECT_EQ(s.counts().queued, 2u);
  waiting.reset();
  EXPECT_EQ(s.counts().queued, 1u);
  running.reset();
  EXPECT_TRUE(s.running(*next)) << "the dropped running call's slot went to the next one";
  next.reset();
  EXPECT_EQ(s.counts().running, 0u);
  EXPECT_EQ(s.counts().queued, 0u);
  EXPECT_TRUE(admit(s, "d")) << "every place is free again";
}

TEST(Scheduler, AWaitingCallTimesOutAndLeavesNoTrace) {
  SchedulerLimits l = limits(1, 4);
  l.queue_timeout_ms = 80;
  Scheduler s(l);
  Ticket running = admit(s, "a");
  Ticket waiting = admit(s, "b");
  auto t0 = std::chrono::steady_clock::now();
  std::string why;
  EXPECT_EQ(settle(s, *waiting, &why), Scheduler::Wait::kTimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 80ms);
  EXPECT_NE(why.find("queue_timeout_ms"), std::string::npos) << why;
  EXPECT_EQ(s.counts().queued, 0u);
  s.release(*running);
  EXPECT_EQ(s.counts().running, 0u) << "the timed-out call took no slot";
}

TEST(Scheduler, CancellingAWaitingCallFreesItsPlace) {
  Scheduler s(limits(1, 4));
  Ticket running = admit(s, "a");
  Ticket waiting = admit(s, "b");
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(30ms);
    cancel = true;
    s.wake();
  });
  EXPECT_EQ(s.wait(*waiting, &cancel, nullptr, nullptr), Scheduler::Wait::kCancelled);
  canceller.join();
  EXPECT_EQ(s.counts().queued, 0u);
  s.release(*running);
  EXPECT_EQ(s.counts().running, 0u);
}

// A call that has used its CPU allowance yields to the short ones: its thread gets SCHED_IDLE
// (or nice 19). One that sleeps as long is not demoted.
TEST(Scheduler, ACallPastItsCpuAllowanceIsDemoted) {
  SchedulerLimits l = limits(2, 0);
  l.demote_after_cpu_ms = 20;
  Scheduler s(l);
  std::atomic<int> spin_nice{-100}, sleep_nice{-100};
  auto body = [&](bool spin, std::atomic<int>& nice_after) {
    Ticket t = admit(s, spin ? "spinner" : "sleeper");
    ASSERT_TRUE(t);
    ASSERT_EQ(settle(s, *t), Scheduler::Wait::kRun);
    // The spinner spins until it sees itself demoted (or 10 s pass); the sleeper sleeps 300 ms.
    auto until = std::chrono::steady_clock::now() + (spin ? 10000ms : 300ms);
    volatile uint64_t x = 0;
    while (std::chrono::steady_clock::now() < until) {
      if (spin) {
        for (int i = 0; i < 100000; ++i) x = x + i;
        if (priority() == 19) break;
      } else {
        std::this_thread::sleep_for(5ms);
      }
    }
    errno = 0;
    nice_after = priority();
    // The server keeps a call's thread for the next call only when this is false (workers.h).
    EXPECT_EQ(s.demoted(*t), spin);
    s.release(*t);
    EXPECT_EQ(s.demoted(*t), spin) << "still known after the release";
  };
  int before = priority();
  std::thread a(body, true, std::ref(spin_nice)), b(body, false, std::ref(sleep_nice));
  a.join();
  b.join();
  EXPECT_EQ(spin_nice.load(), 19) << "the spinning call was not demoted";
  EXPECT_EQ(sleep_nice.load(), before) << "a call that used no CPU was demoted";
  EXPECT_EQ(priority(), before) << "demotion reached a thread outside the call";
  EXPECT_EQ(s.counts().demoted, 0u) << "released calls are no longer counted";
}

// Demotion is for sharing: a call alone on the server (nothing waiting, nothing else running)
// keeps its priority however much CPU it uses, since a demoted thread never gets it back and
// would crawl beside the machine's other work.
TEST(Scheduler, ACallAloneKeepsItsPriority) {
  // timing: spins 300 ms of CPU while the demoter looks every few ms
  SchedulerLimits l = limits(2, 2);
  l.demote_after_cpu_ms = 20;
  Scheduler s(l);
  std::atomic<int> nice_after{-100};
  int before = priority();
  std::thread call([&] {
    Ticket t = admit(s, "solo");
    ASSERT_TRUE(t);
    ASSERT_EQ(settle(s, *t), Scheduler::Wait::kRun);
    struct timespec ts{};
    volatile uint64_t x = 0;
    do {
      for (int i = 0; i < 100000; ++i) x = x + i;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    } while (ts.tv_sec == 0 && ts.tv_nsec < 300000000);
    nice_after = priority();
    s.release(*t);
  });
  call.join();
  EXPECT_EQ(nice_after.load(), before) << "a call alone was demoted";
  EXPECT_EQ(s.counts().demoted, 0u);
}

// A call's other threads (a bash call's pipeline stages: attach_thread) are the call's: their
// CPU makes it past its allowance though its own thread only waits, they are demoted with it, a
// thread attached after that starts demoted, and their CPU is in the principal's metrics.
TEST(Scheduler, ACallsOtherThreadsCountAsItsOwnAndAreDemotedWithIt) {
  // timing: the worker spins until the demoter (every few ms) demotes it
  SchedulerLimits l = limits(1, 1);
  l.demote_after_cpu_ms = 20;
  Scheduler s(l);
  std::atomic<bool> running{false};
  std::atomic<int> worker_nice{-100}, call_nice{-100}, late_nice{-100};
  std::atomic<double> worker_cpu{0}, call_cpu{0};
  auto thread_cpu = [] {
    struct timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  std::thread call([&] {  // a fresh thread: its CPU clock starts at 0
    Ticket t = admit(s, "piper");
    ASSERT_TRUE(t);
    ASSERT_EQ(settle(s, *t), Scheduler::Wait::kRun);
    running = true;
    std::thread worker([&] {
      s.attach_thread(*t);
      auto until = std::chrono::steady_clock::now() + 10000ms;
      volatile uint64_t x = 0;
      while (std::chrono::steady_clock::now() < until && priority() != 19) {
        for (int i = 0; i < 100000; ++i) x = x + i;
      }
      worker_nice = priority();
      worker_cpu = thread_cpu();
      s.detach_thread(*t);
    });
    worker.join();
    call_nice = priority();
    call_cpu = thread_cpu();
    std::thread late([&] {
      s.attach_thread(*t);
      late_nice = priority();
      s.detach_thread(*t);
    });
    late.join();
    s.release(*t);
  });
  int before = priority();
  // Another principal's call waits for the slot: the piper's CPU is taken from it.
  for (int i = 0; i < 10000 && !running.load(); ++i) std::this_thread::sleep_for(1ms);
  Ticket waiting = admit(s, "other");
  ASSERT_TRUE(waiting);
  call.join();
  EXPECT_EQ(worker_nice.load(), 19) << "the call's spinning thread was not demoted";
  EXPECT_EQ(call_nice.load(), 19) << "the call's own thread was not demoted with it";
  EXPECT_EQ(late_nice.load(), 19) << "a thread attached to a demoted call started at normal priority";
  EXPECT_EQ(priority(), before);
  double piper_cpu = -1;
  for (const auto& r : s.snapshot().principals) {
    if (r.name == "piper") piper_cpu = r.usage.cpu_seconds;
  }
  EXPECT_GE(piper_cpu, worker_cpu.load() * 0.99) << "the worker's CPU is not the call's";
  // The allowance is the call's, all its threads together (the call's own thread used a little
  // CPU too: the worker alone may be a hair under it when the demoter acts); the call's own
  // thread alone was far from it, so the worker's CPU is what demoted it.
  EXPECT_GE(worker_cpu.load() + call_cpu.load(), 0.02);
  EXPECT_LT(call_cpu.load(), 0.01) << "the call's own thread spun: the test proves nothing";
}

// CPU is shared by principal: one whose short calls together used far more than its share of
// the window starts its next calls at the lowest priority, while another principal's calls (and
// its own when it is the only one calling) keep theirs. Without the window nothing changes.
TEST(Scheduler, APrincipalPastItsCpuShareStartsItsCallsDemoted) {
  for (uint64_t window : {uint64_t{600000}, uint64_t{0}}) {
    SCOPED_TRACE("window " + std::to_string(window));
    SchedulerLimits l = limits(4, 0);
    l.fair_cpu_window_ms = window;  // long: no decay to speak of while the test runs
    Scheduler s(l);
    const int before = priority();
    // One call of `who` on a thread of its own that burns `cpu` of CPU; its priority at start.
    auto call = [&](const std::string& who, std::chrono::milliseconds cpu) {
      int seen = -100;
      std::thread th([&] {
        Ticket t = admit(s, who);
        ASSERT_TRUE(t);
        ASSERT_EQ(settle(s, *t), Scheduler::Wait::kRun);
        seen = priority();
        struct timespec ts{};
        volatile uint64_t x = 0;
        for (;;) {
          clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
          if (std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec) >= cpu) break;
          for (int i = 0; i < 10000; ++i) x = x + i;
        }
        s.release(*t);
      });
      th.join();
      return seen;
    };
    // Alice alone: however much she uses, she is the only principal using the CPU.
    for (int i = 0; i < 4; ++i) EXPECT_EQ(call("alice", 30ms), before) << "alone, call " << i;
    // Bob's calls are light: alice has used ~100 times his CPU, far past her half.
    EXPECT_EQ(call("bob", 1ms), before);
    EXPECT_EQ(call("alice", 1ms), window != 0 ? 19 : before) << "alice past her share";
    EXPECT_EQ(call("bob", 1ms), before) << "bob within his";
    EXPECT_EQ(s.counts().demoted, 0u);
    EXPECT_EQ(s.counts().running, 0u);
  }
}

// The guests' weight beside the host's other work: every call's thread starts at guest_nice;
// a thread outside the calls keeps its own.
TEST(Scheduler, CallsStartAtTheGuestNiceValue) {
  SchedulerLimits l = limits(2, 0);
  l.guest_nice = 7;
  Scheduler s(l);
  const int before = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  int seen = -100;
  std::thread call([&] {
    Ticket t = admit(s, "alice");
    ASSERT_TRUE(t);
    ASSERT_EQ(settle(s, *t), Scheduler::Wait::kRun);
    errno = 0;
    seen = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
    s.release(*t);
  });
  call.join();
  EXPECT_EQ(seen, std::max(before, 7));
  EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())), before);
}

// A principal past its output budget (a second's worth owed) waits for its next call until it
// is within it again, while another principal runs at once; the debt outlives the principal's
// calls. Without a budget nothing waits.
TEST(Scheduler, APrincipalPastItsOutputBudgetWaits) {
  // timing: the scheduler holds the call ~300 ms until the budget is paid, and the test checks it
  SchedulerLimits l = limits(4, 8);
  l.principal_output_bytes_per_s = 10000;
  l.output_overrides["free"] = 0;
  Scheduler s(l);
  Ticket a = admit(s, "flood");
  ASSERT_TRUE(a);
  ASSERT_EQ(settle(s, *a), Scheduler::Wait::kRun);
  s.charge_output(*a, 13000);  // 3,000 bytes past the second's worth: 300 ms to pay
  s.release(*a);
  a.reset();
  EXPECT_EQ(s.counts_of_principal("flood").running, 0u);
  auto admitted = std::chrono::steady_clock::now();
  Ticket b = admit(s, "flood");
  ASSERT_TRUE(b);
  EXPECT_EQ(s.counts().queued, 1u) << "slots are free, but flood owes output";
  Ticket other = admit(s, "other");
  ASSERT_TRUE(other);
  EXPECT_EQ(s.counts_of_principal("other").running, 1u) << "another principal runs at once";
  // Within its budget again after ~300 ms: its call starts without any release.
  EXPECT_EQ(s.wait(*b, nullptr, nullptr, nullptr), Scheduler::Wait::kRun);
  EXPECT_GE(std::chrono::steady_clock::now() - admitted, 250ms);
  s.release(*b);
  s.release(*other);
  // A principal whose budget is 0 (none) never waits, whatever it was sent.
  Ticket f = admit(s, "free");
  ASSERT_TRUE(f);
  s.charge_output(*f, 1000000);
  s.release(*f);
  Ticket g = admit(s, "free");
  ASSERT_TRUE(g);
  EXPECT_EQ(s.counts_of_principal("free").running, 1u);
}

// The metrics text: one family per metric, a sample per principal and plugin; label values
// escaped as the format requires (names are checked at configuration, this holds anyway).
TEST(Scheduler, MetricsAreWrittenInPrometheusText) {
  Scheduler s(limits(2, 2));
  Ticket a = admit(s, "alice", "spinner");
  ASSERT_TRUE(a);
  s.charge_output(*a, 1234);
  Scheduler::Snapshot snap = s.snapshot();
  snap.plugins.push_back(Scheduler::Row{"odd\"name\\with\nbreaks", {}, {}});
  std::string text = prometheus_text(snap);
  EXPECT_NE(text.find("# TYPE wasmcap_mcp_principal_calls_admitted_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nwasmcap_mcp_principal_calls_admitted_total{principal=\"alice\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nwasmcap_mcp_principal_output_bytes_total{principal=\"alice\"} 1234\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nwasmcap_mcp_plugin_calls_running{plugin=\"spinner\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("{plugin=\"odd\\\"name\\\\with\\nbreaks\"}"), std::string::npos) << text;
  EXPECT_EQ(text.find("with\nbreaks"), std::string::npos) << "a raw line break in a label";
  // What the session table holds joins the principals' rows (a row of its own for a principal
  // with no call yet, in name order).
  add_sessions(snap, "bob", 2, 1);
  add_sessions(snap, "alice", 1, 0);
  add_sessions(snap, "aaron", 4, 3);
  ASSERT_EQ(snap.principals.size(), 3u);
  EXPECT_EQ(snap.principals[0].name, "aaron");
  EXPECT_EQ(snap.principals[1].name, "alice");
  EXPECT_EQ(snap.principals[1].usage.admitted, 1u) << "alice's row kept its calls";
  text = prometheus_text(snap);
  EXPECT_NE(text.find("\nwasmcap_mcp_principal_sessions{principal=\"bob\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nwasmcap_mcp_principal_workspace_copies{principal=\"aaron\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nwasmcap_mcp_principal_calls_admitted_total{principal=\"bob\"} 0\n"), std::string::npos) << text;
  s.release(*a);
}

// A demoted call gives its slot to a short one: with one slot, a call queued behind a spinning
// call starts once the spinner is demoted, while the spinner still runs (and still holds its
// principal's share). At most max_running demoted calls run beyond the slots.
TEST(Scheduler, ADemotedCallGivesItsSlotToAShortOne) {
  // timing: the spinner is demoted after 20 ms of CPU, which the test waits for
  SchedulerLimits l = limits(1, 4);
  l.demote_after_cpu_ms = 20;
  l.principal_running = 1;
  l.queue_timeout_ms = 10000;  // without the rule, the short call times out waiting
  Scheduler s(l);
  std::atomic<bool> stop{false}, started{false};
  std::thread spinner([&] {
    Ticket t = admit(s, "hostile");
    ASSERT_TRUE(t);
    ASSERT_EQ(settle(s, *t), Scheduler::Wait::kRun);
    started = true;
    volatile uint64_t x = 0;
    auto until = std::chrono::steady_clock::now() + 20s;
    while (!stop && std::chrono::steady_clock::now() < until) {
      for (int i = 0; i < 100000; ++i) x = x + i;
    }
    s.release(*t);
  });
  while (!started) std::this_thread::sleep_for(1ms);
  Ticket again = admit(s, "hostile");  // the spinner's principal: its share is taken
  Ticket quick = admit(s, "benign");
  ASSERT_TRUE(quick && again);
  // On a thread of its own, as every call runs: its CPU clock starts at zero (this test's
  // thread has used CPU in the tests before it, and would be demoted at once).
  std::thread short_call([&] {
    EXPECT_EQ(s.wait(*quick, nullptr, nullptr, nullptr), Scheduler::Wait::kRun) << "never got the slot";
    EXPECT_EQ(s.counts().demoted, 1u);
    EXPECT_EQ(s.counts().running, 2u) << "the demoted spinner runs on beside it";
    EXPECT_EQ(s.counts_of_principal("hostile").queued, 1u) << "its principal's share is still held";
    s.release(*quick);
  });
  short_call.join();
  stop = true;
  spinner.join();
  s.release(*again);
}

TEST(Scheduler, TheDeadlineRunsFromAdmission) {
  CallContext ctx;
  EXPECT_EQ(deadline_after_wait(1000, ctx), 1000u) << "no admission time: the whole deadline";
  ctx.admitted = std::chrono::steady_clock::now() - 300ms;
  uint64_t left = deadline_after_wait(1000, ctx);
  EXPECT_LE(left, 700u);
  EXPECT_GE(left, 600u);
  EXPECT_EQ(deadline_after_wait(0, ctx), 0u) << "no deadline stays none";
  EXPECT_EQ(deadline_after_wait(200, ctx), 1u) << "waited past it: the run ends at once";
}

// The host config's mcp.tenancy, as the server reads it into its limits.
TEST(Scheduler, HostConfigTenancySetsTheLimits) {
  testing::TempDir dir;
  auto cfg = policy::parse_host_config(R"({"mcp": {"tenancy": {
      "principals": {"alice": {"token_file": "/etc/wasmcap/alice.token", "weight": 3, "max_running": 1,
                               "output_bytes_per_s": 0},
                     "bob": {"token_file": "/etc/wasmcap/bob.token", "max_queued": 2, "max_sessions": 7,
                             "max_workspaces": 1}},
      "per_principal": {"max_running": 2, "max_queued": 5, "output_bytes_per_s": 65536, "max_workspaces": 3},
      "per_plugin": {"max_running": 3},
      "plugins": {"spinner": {"max_running": 1, "max_queued": 1}},
      "queue_timeout_ms": 1500, "demote_after_cpu_ms": 0, "memory_budget_mb": 3000,
      "fair_cpu_window_ms": 0, "guest_nice": 5}}})",
                                       "config.json");
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  ServerOptions o;
  o.config = *cfg;
  o.max_concurrency = 8;
  o.max_queue = 32;
  SchedulerLimits l = scheduler_limits(o, true);
  EXPECT_EQ(l.max_running, 8u);
  EXPECT_EQ(l.max_queued, 32u);
  EXPECT_EQ(l.principal_running, 2u);
  EXPECT_EQ(l.principal_queued, 5u);
  EXPECT_EQ(l.plugin_running, 3u);
  EXPECT_EQ(l.principal_overrides["alice"], (std::pair<size_t, size_t>{1, 0}));
  EXPECT_EQ(l.principal_overrides["bob"], (std::pair<size_t, size_t>{0, 2}));
  EXPECT_EQ(l.weights["alice"], 3u);
  EXPECT_EQ(l.plugin_overrides["spinner"], (std::pair<size_t, size_t>{1, 1}));
  EXPECT_EQ(l.queue_timeout_ms, 1500u);
  EXPECT_EQ(l.demote_after_cpu_ms, 0u);
  EXPECT_EQ(l.fair_cpu_window_ms, 0u) << "no CPU share by principal";
  EXPECT_EQ(l.guest_nice, 5);
  EXPECT_EQ(l.memory_budget_mb, 3000u);
  EXPECT_EQ(l.principal_output_bytes_per_s, 65536u);
  EXPECT_EQ(l.output_overrides["alice"], 0u) << "alice: no output budget";
  EXPECT_EQ(l.output_overrides.count("bob"), 0u);
  // Sessions and workspace copies: bob's own, per_principal's for the others.
  auto caps = principal_session_caps(o);
  ASSERT_TRUE(caps);
  EXPECT_EQ(caps("bob").max_sessions, 7u);
  EXPECT_EQ(caps("bob").max_copies, 1u);
  EXPECT_EQ(caps("alice").max_sessions, policy::kDefaultPrincipalMaxSessions);
  EXPECT_EQ(caps("alice").max_copies, 3u);
  EXPECT_EQ(caps("token").max_copies, 3u);

  // Without tenancy: one principal may use every slot; with principals told apart, half.
  ServerOptions d;
  d.max_concurrency = 4;
  d.max_queue = 16;
  d.call_timeout_ms = 9000;
  EXPECT_EQ(scheduler_limits(d, false).principal_running, 0u);  // 0: the server's figure
  EXPECT_EQ(scheduler_limits(d, true).principal_running, 2u);
  EXPECT_EQ(scheduler_limits(d, true).principal_queued, 8u);
  EXPECT_EQ(scheduler_limits(d, false).principal_output_bytes_per_s, 0u) << "one principal: no output budget";
  EXPECT_EQ(scheduler_limits(d, true).principal_output_bytes_per_s, policy::kDefaultPrincipalOutputBytesPerS);
  EXPECT_EQ(scheduler_limits(d, false).queue_timeout_ms, 9000u) << "by default a call waits at most its deadline";
  EXPECT_EQ(scheduler_limits(d, false).demote_after_cpu_ms, kDefaultDemoteAfterCpuMs);
  EXPECT_EQ(scheduler_limits(d, false).fair_cpu_window_ms, kDefaultFairCpuWindowMs);
  EXPECT_EQ(scheduler_limits(d, false).guest_nice, 0);
  uint64_t half_ram_mb = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) / 2 *
                         static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) >> 20;
  EXPECT_EQ(scheduler_limits(d, false).memory_budget_mb, half_ram_mb) << "the default budget: half the RAM";
  EXPECT_FALSE(principal_session_caps(d)) << "no tenancy: no share of sessions beyond the totals";
  auto named = policy::parse_host_config(R"({"mcp": {"tenancy": {"principals": {"a": {"token_file": "/t"}}}}})", "c.json");
  ASSERT_TRUE(named);
  d.config = *named;
  d.max_session_workspaces = 16;
  EXPECT_EQ(principal_session_caps(d)("a").max_copies, 8u) << "named principals: half the copies each";
  EXPECT_EQ(principal_session_caps(d)("a").max_sessions, policy::kDefaultPrincipalMaxSessions);

  for (const char* bad : {
           R"({"mcp": {"tenancy": {"principals": {"stdio": {"token_file": "/t"}}}}})",
           R"({"mcp": {"tenancy": {"principals": {"Alice": {"token_file": "/t"}}}}})",
           R"({"mcp": {"tenancy": {"principals": {"alice": {}}}}})",
           R"({"mcp": {"tenancy": {"principals": {"alice": {"token_file": "/t", "weight": 0}}}}})",
           R"({"mcp": {"tenancy": {"principals": {"alice": {"token_file": "/t", "weight": 101}}}}})",
           R"({"mcp": {"tenancy": {"per_principal": {"max_running": 0}}}})",
           R"({"mcp": {"tenancy": {"per_plugin": {"max_queued": 0}}}})",
           R"({"mcp": {"tenancy": {"queue_timeout_ms": 0}}})",
           R"({"mcp": {"tenancy": {"cpu": 1}}})",
           R"({"mcp": {"tenancy": {"memory_budget_mb": 0}}})",
           R"({"mcp": {"tenancy": {"fair_cpu_window_ms": 3600001}}})",
           R"({"mcp": {"tenancy": {"guest_nice": 20}}})",
           R"({"mcp": {"tenancy": {"guest_nice": -1}}})",
           R"({"mcp": {"tenancy": {"per_plugin": {"output_bytes_per_s": 1024}}}})",
           R"({"mcp": {"tenancy": {"per_plugin": {"max_sessions": 4}}}})",
           R"({"mcp": {"tenancy": {"per_principal": {"max_sessions": 0}}}})",
           R"({"mcp": {"tenancy": {"per_principal": {"max_workspaces": 4097}}}})",
           R"({"mcp": {"tenancy": {"per_principal": {"output_bytes_per_s": -1}}}})",
           R"({"mcp": {"tenancy": {"per_principal": {"output_bytes_per_s": 2199023255553}}}})",
       }) {
    auto r = policy::parse_host_config(bad, "config.json");
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kConfigInvalid) << r.error().to_string();
    }
  }
}

// The server keeps its call threads (workers.h): a call's CPU is what its thread used from the
// call's start, not what the thread's earlier calls used.
TEST(Scheduler, ACallsCpuCountsFromItsStartOnAThreadThatRanOthers) {
  Scheduler s(limits(1, 0));
  // What an earlier call on this thread used.
  testing::burn_thread_cpu_ms(100);
  Ticket t = admit(s, "short");
  ASSERT_TRUE(t);
  ASSERT_EQ(settle(s, *t), Scheduler::Wait::kRun);
  s.release(*t);
  double used = -1;
  for (const auto& r : s.snapshot().principals) {
    if (r.name == "short") used = r.usage.cpu_seconds;
  }
  EXPECT_GE(used, 0.0);
  EXPECT_LT(used, 0.05) << "the thread's earlier CPU was counted as the call's";
}

}  // namespace
}  // namespace wasmcap::mcp
