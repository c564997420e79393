// The MCP server's call threads (src/mcp/workers.h): a thread is kept for the next call when
// its call allows it and fewer than kMaxIdle wait, and only then. Workers is one per process:
// each test counts from what it finds.
#include "mcp/workers.h"
#include "thread_cpu.h"
#include "wasi/core.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace wasmcap::mcp {
namespace {

using namespace std::chrono_literals;

// Waits (up to 10 s) until `pred` holds.
template <typename Pred>
bool eventually(Pred pred) {
  auto until = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Runs a call that returns `keep`, and waits until it has run; the id of its thread.
std::thread::id run_one(bool keep) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread::id id;
  EXPECT_TRUE(Workers::process().run([&, keep] {
    std::lock_guard<std::mutex> l(mu);
    id = std::this_thread::get_id();
    done = true;
    cv.notify_all();
    return keep;
  }));
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return done; });
  return id;
}

TEST(Workers, AThreadIsKeptForTheNextCall) {
  Workers& w = Workers::process();
  size_t idle = w.idle();
  run_one(true);
  ASSERT_TRUE(eventually([&] { return w.idle() == idle + 1; }));
  size_t started = w.started();
  // The next call gets an idle thread: none is started.
  run_one(true);
  ASSERT_TRUE(eventually([&] { return w.idle() == idle + 1; }));
  EXPECT_EQ(w.started(), started) << "a new thread was started though one was idle";
}

TEST(Workers, AThreadWhoseCallSaysNoEnds) {
  Workers& w = Workers::process();
  // Every idle thread taken by calls that end their threads.
  while (w.idle() > 0) run_one(false);
  run_one(false);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(w.idle(), 0u) << "a thread whose call said no waits for another";
  size_t started = w.started();
  run_one(true);
  EXPECT_EQ(w.started(), started + 1) << "no thread was idle: the next call needs a new one";
}

TEST(Workers, AtMostKMaxIdleThreadsWait) {
  Workers& w = Workers::process();
  const size_t n = Workers::kMaxIdle + 8;
  std::mutex mu;
  std::condition_variable cv;
  size_t running = 0;
  bool go = false;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(w.run([&] {
      std::unique_lock<std::mutex> l(mu);
      ++running;
      cv.notify_all();
      cv.wait(l, [&] { return go; });
      return true;
    }));
  }
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, 10s, [&] { return running == n; })) << "the calls did not all run at once";
    go = true;
    cv.notify_all();
  }
  ASSERT_TRUE(eventually([&] { return w.idle() == Workers::kMaxIdle; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(w.idle(), Workers::kMaxIdle);
}

// A kept thread's next call does not see the CPU the earlier calls used, in the thread CPU-time
// clock its guests read (wasi/core.h).
TEST(Workers, ACallOnAKeptThreadSeesOnlyItsOwnCpuTime) {
  Workers& w = Workers::process();
  // No thread idle: the second call below can only get the first one's.
  while (w.idle() > 0) run_one(false);
  std::atomic<uint64_t> seen{UINT64_MAX};
  std::atomic<bool> done{false};
  // The first call burns 100 ms and keeps its thread; the second reads the clock on it.
  ASSERT_TRUE(w.run([] {
    testing::burn_thread_cpu_ms(100);
    return true;
  }));
  ASSERT_TRUE(eventually([&] { return w.idle() == 1; }));
  size_t started = w.started();
  ASSERT_TRUE(w.run([&] {
    WasiConfig cfg;
    wasi::Core c(cfg);
    auto ns = c.clock_now(wasi::Clock::kThreadCputime, false);
    seen = ns ? *ns : UINT64_MAX - 1;
    done = true;
    return true;
  }));
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  ASSERT_EQ(w.started(), started) << "the second call did not run on a kept thread";
  EXPECT_LT(seen.load(), 50000000u) << "a kept thread's earlier CPU is visible to the next call";
}

}  // namespace
}  // namespace wasmcap::mcp
