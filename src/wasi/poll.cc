// WASI Preview 1 host: waiting with a deadline (blocking reads, sleeps) and poll_oneoff. The
// rest of the host is in host.cc (process, clocks, random, stdio, fd table) and fs.cc.
#include "wasi/host.h"

#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace wasmcap {

using namespace wasi;

// --- blocking with a deadline ----------------------------------------------------------------

// Longest uninterrupted wait inside a host call: bounds how late an interrupt is noticed.
constexpr int64_t kWaitStepNs = 20'000'000;

bool WasiHost::must_stop() {
  if (termination_) return true;
  if (interrupt_ != nullptr && interrupt_->load(std::memory_order_relaxed)) {
    termination_ = Error(ErrorCode::kDeadlineExceeded, "execution interrupted by the host");
    return true;
  }
  if (deadline_ != std::chrono::steady_clock::time_point::max() &&
      std::chrono::steady_clock::now() >= deadline_) {
    termination_ = Error(ErrorCode::kDeadlineExceeded,
                         "wall-clock deadline exceeded while the guest was blocked; raise "
                         "--timeout-ms");
    return true;
  }
  return false;
}

bool WasiHost::charge_bytes(uint64_t bytes) {
  if (ctx_ == nullptr) return true;  // called outside an engine call (unit tests): unmetered
  uint64_t units = fuel_for_bytes(bytes);
  if (ctx_->charge_fuel(units)) return true;
  if (!termination_) {
    termination_ = Error(ErrorCode::kFuelExhausted,
                         "fuel exhausted inside a host call (host work costs 1 unit per " +
                             std::to_string(kHostFuelBytesPerUnit) +
                             " bytes moved); raise --fuel");
  }
  return false;
}

bool WasiHost::may_continue() {
  if (must_stop()) return false;
  if (ctx_ != nullptr && ctx_->fuel_spent()) {
    charge_bytes(0);  // records the termination
    return false;
  }
  return true;
}

namespace {

// now + ns without overflow: a guest may ask for INT64_MAX ns (poll_oneoff), and
// steady_clock's time_point is int64 ns since boot, so a plain sum would wrap to the past
// and the wait would end at once. Saturates at time_point::max() ("never").
std::chrono::steady_clock::time_point after_ns(int64_t ns) {
  using Clock = std::chrono::steady_clock;
  auto now = Clock::now();
  if (ns <= 0) return now;
  if (ns >= (Clock::time_point::max() - now).count()) return Clock::time_point::max();
  return now + std::chrono::nanoseconds(ns);
}

}  // namespace

bool WasiHost::wait_readable(int host_fd, int64_t timeout_ns) {
  auto end = timeout_ns < 0 ? std::chrono::steady_clock::time_point::max() : after_ns(timeout_ns);
  for (;;) {
    if (must_stop()) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= end) return false;
    int64_t step = kWaitStepNs;
    if (end != std::chrono::steady_clock::time_point::max()) {
      step = std::min<int64_t>(step, std::chrono::duration_cast<std::chrono::nanoseconds>(end - now).count());
    }
    pollfd pfd{host_fd, POLLIN, 0};
    timespec ts{static_cast<time_t>(step / 1000000000), static_cast<long>(step % 1000000000)};
    int n = ppoll(&pfd, 1, &ts, nullptr);
    if (n > 0) return true;  // readable, EOF or error: read() will tell
    if (n < 0 && errno != EINTR) return true;
  }
}

void WasiHost::sleep_bounded(int64_t ns) {
  auto end = after_ns(ns);
  while (!must_stop()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= end) return;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
        end - now, std::chrono::nanoseconds(kWaitStepNs)));
  }
}

// --- poll_oneoff ------------------------------------------------------------------------------

bool WasiHost::fixed_wait_never_ends(int64_t timeout_ns) const {
  // The timeout saturated (a relative UINT64_MAX, or an absolute time beyond INT64_MAX ns from
  // now), or the virtual clock (as the wall clock, epoch included) cannot reach its end.
  if (timeout_ns >= INT64_MAX) return true;
  uint64_t t = static_cast<uint64_t>(timeout_ns);
  return t > UINT64_MAX - virtual_ns_ || virtual_ns_ + t > UINT64_MAX - config_.clock.epoch_ns;
}

Errno WasiHost::poll_oneoff(const GuestMemory& m, uint32_t in, uint32_t out, uint32_t nsubs,
                            uint32_t nevents_out) {
  if (nsubs == 0) return kEinval;
  if (nsubs > 4096) return kEinval;  // bound host work per call
  if (!m.in_bounds(in, uint64_t{nsubs} * kSubscriptionSize) ||
      !m.in_bounds(out, uint64_t{nsubs} * kEventSize) || !m.in_bounds(nevents_out, 4)) {
    return kEfault;
  }
  struct Ev {
    uint64_t userdata;
    uint16_t error;
    uint8_t type;
    uint64_t nbytes;
    uint16_t flags;
  };
  std::vector<Ev> ready;
  int64_t timeout_ns = -1;  // -1: no clock subscription
  uint64_t clock_userdata = 0;
  bool have_clock = false;
  struct PendingRead {
    uint64_t userdata;
    int host_fd;
  };
  std::vector<PendingRead> pending;

  for (uint32_t i = 0; i < nsubs; ++i) {
    uint64_t base = in + uint64_t{i} * kSubscriptionSize;
    uint64_t userdata = 0;
    uint8_t tag = 0;
    m.load(base, &userdata);
    m.load(base + 8, &tag);
    if (tag == kEventClock) {
      uint32_t id = 0;
      uint64_t timeout = 0;
      uint16_t flags = 0;
      m.load(base + 16, &id);
      m.load(base + 24, &timeout);
      m.load(base + 40, &flags);
      // A clock wait is a use of that clock: an unknown id is EINVAL, a clock the run was not
      // granted is ENOTCAPABLE (in the event; nothing sleeps).
      bool wall = false;
      if (Errno r = check_clock(id, &wall)) {
        ready.push_back({userdata, r, kEventClock, 0, 0});
        continue;
      }
      int64_t rel = static_cast<int64_t>(std::min<uint64_t>(timeout, INT64_MAX));
      if (flags & kSubclockAbstime) {
        uint64_t now = 0;
        if (Errno r = read_clock(id, wall, false, &now)) {
          ready.push_back({userdata, r, kEventClock, 0, 0});
          continue;
        }
        // Saturating: an absolute time far in the future (up to UINT64_MAX) is "never".
        rel = timeout > now ? static_cast<int64_t>(std::min<uint64_t>(timeout - now, INT64_MAX))
                            : 0;
      }
      if (!have_clock || rel < timeout_ns) {
        timeout_ns = rel;
        clock_userdata = userdata;
        have_clock = true;
      }
    } else if (tag == kEventFdRead || tag == kEventFdWrite) {
      uint32_t fd = 0;
      m.load(base + 16, &fd);
      FdEntry* e = nullptr;
      Errno r = get_fd(fd, kRightPollFdReadwrite, &e);
      if (r != kSuccess) {
        ready.push_back({userdata, r, tag, 0, 0});
        continue;
      }
      if (tag == kEventFdRead && e->kind == FdKind::kStdin && config_.stdin_fd >= 0) {
        pending.push_back({userdata, config_.stdin_fd});
        continue;
      }
      uint64_t nbytes = 0;
      if (tag == kEventFdRead && e->kind == FdKind::kFile) {
        struct stat st {};
        off_t pos = lseek(e->host_fd, 0, SEEK_CUR);
        if (fstat(e->host_fd, &st) == 0 && pos >= 0 && st.st_size > pos) {
          nbytes = static_cast<uint64_t>(st.st_size - pos);
        }
      }
      // Regular files, stdout/stderr and an absent stdin are always ready.
      ready.push_back({userdata, kSuccess, tag, nbytes, 0});
    } else {
      ready.push_back({userdata, kEinval, tag, 0, 0});
    }
  }



  if (ready.empty()) {
    // Block on stdin readiness and/or the clock, never past the run's deadline.
    int64_t wait_ns = have_clock ? timeout_ns : -1;
    if (have_clock && config_.clock.kind == ClockSource::Kind::kFixed) {
      if (fixed_wait_never_ends(timeout_ns)) {
        // An infinite wait (UINT64_MAX ns, or an end the virtual clock cannot reach) waits, as
        // it does on the host clock: until stdin is readable, the deadline or the interrupt.
        // Jumping the virtual clock instead moved it to the year 2318, where it saturated, and
        // a guest's "wait forever" returned at once.
        have_clock = false;
        wait_ns = -1;
        if (pending.empty()) {
          sleep_bounded(INT64_MAX);  // returns only when must_stop(): termination_ is set
          if (termination_) return kEintr;
        }
      } else {
        // A fixed clock never waits for host time: the clock subscription fires at once
        // (unless stdin is readable right now) and the virtual time jumps by the timeout, so a
        // guest's sleep loop sees its deadline pass and ends. Deterministic, and costs no host
        // time.
        wait_ns = 0;
      }
    }
    if (!pending.empty()) {
      // Only stdin can be pending (files and output streams are always ready).
      bool readable;
      if (wait_ns == 0) {
        pollfd pfd{pending.front().host_fd, POLLIN, 0};
        readable = ::poll(&pfd, 1, 0) != 0;  // ready, EOF or error now: read() will tell
      } else {
        readable = wait_readable(pending.front().host_fd, wait_ns);
      }
      if (readable) {
        for (const auto& p : pending) ready.push_back({p.userdata, kSuccess, kEventFdRead, 0, 0});
      } else if (have_clock && !termination_) {
        ready.push_back({clock_userdata, kSuccess, kEventClock, 0, 0});
        if (config_.clock.kind == ClockSource::Kind::kFixed) {
          virtual_ns_ = add_sat(virtual_ns_, static_cast<uint64_t>(timeout_ns));
        }
      }
    } else if (have_clock) {
      if (config_.clock.kind == ClockSource::Kind::kFixed) {
        virtual_ns_ = add_sat(virtual_ns_, static_cast<uint64_t>(timeout_ns));
      } else {
        sleep_bounded(wait_ns);
      }
      ready.push_back({clock_userdata, kSuccess, kEventClock, 0, 0});
    }
    if (termination_) return kEintr;
  }

  uint32_t count = 0;
  for (const auto& ev : ready) {
    if (count >= nsubs) break;
    uint64_t base = out + uint64_t{count} * kEventSize;
    std::memset(m.range(base, kEventSize), 0, kEventSize);
    m.store<uint64_t>(base, ev.userdata);
    m.store<uint16_t>(base + 8, ev.error);
    m.store<uint8_t>(base + 10, ev.type);
    m.store<uint64_t>(base + 16, ev.nbytes);
    m.store<uint16_t>(base + 24, ev.flags);
    ++count;
  }
  m.store<uint32_t>(nevents_out, count);
  return kSuccess;
}

}  // namespace wasmcap
