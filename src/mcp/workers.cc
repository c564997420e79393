// The MCP server's call threads, kept between calls: workers.h says what and why.
#include "mcp/workers.h"

#include "wasi/core.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

namespace wasmcap::mcp {

struct Workers::State {
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<bool()>> jobs;  // handed to idle threads, never more than `idle`
  size_t idle = 0;
  size_t started = 0;

  // A thread's life: `job`, then, while the last job allows it and fewer than kMaxIdle wait,
  // the next job handed over within kIdleSeconds.
  void loop(std::function<bool()> job) {
    for (;;) {
      wasi::restart_thread_cpu_clock();  // a guest of this call sees this call's CPU only
      bool keep = job();
      job = nullptr;  // what it captured goes now, not when the next job comes
      std::unique_lock<std::mutex> l(mu);
      if (!keep || idle >= kMaxIdle) return;
      ++idle;
      cv.wait_for(l, std::chrono::seconds(kIdleSeconds), [&] { return !jobs.empty(); });
      --idle;
      if (jobs.empty()) return;  // idle too long
      job = std::move(jobs.front());
      jobs.pop_front();
    }
  }
};

Workers::Workers() : s_(new State()) {}

Workers& Workers::process() {
  static Workers* w = new Workers();  // never destroyed: its threads may still be waiting at exit
  return *w;
}

bool Workers::run(std::function<bool()> job) {
  {
    std::lock_guard<std::mutex> l(s_->mu);
    // Every job handed over has an idle thread of its own to take it.
    if (s_->idle > s_->jobs.size()) {
      s_->jobs.push_back(std::move(job));
      s_->cv.notify_one();
      return true;
    }
    ++s_->started;
  }
  try {
    State* s = s_;
    std::thread([s, job = std::move(job)]() mutable { s->loop(std::move(job)); }).detach();
  } catch (const std::system_error&) {
    std::lock_guard<std::mutex> l(s_->mu);
    --s_->started;
    return false;
  }
  return true;
}

size_t Workers::idle() const {
  std::lock_guard<std::mutex> l(s_->mu);
  return s_->idle;
}

size_t Workers::started() const {
  std::lock_guard<std::mutex> l(s_->mu);
  return s_->started;
}

}  // namespace wasmcap::mcp
