// WASI Preview 1 binding of poll_oneoff. Waiting with a deadline (blocking reads, sleeps) and
// the clocks are the capability layer's (core.cc); this file reads the subscriptions from
// guest memory and writes the events back.
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

Errno WasiHost::poll_oneoff(const GuestMemory& m, uint32_t in, uint32_t out, uint32_t nsubs,
                            uint32_t nevents_out) {
  return poll_oneoff_as(Snapshot::kPreview1, m, in, out, nsubs, nevents_out);
}

Errno WasiHost::poll_oneoff_as(Snapshot abi, const GuestMemory& m, uint32_t in, uint32_t out,
                               uint32_t nsubs, uint32_t nevents_out) {
  const uint32_t sub_size = subscription_size(abi);
  const uint32_t clock_at = subscription_clock_id_offset(abi);
  if (nsubs == 0) return kEinval;
  if (nsubs > 4096) return kEinval;  // bound host work per call
  if (!m.in_bounds(in, uint64_t{nsubs} * sub_size) ||
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
    uint64_t base = in + uint64_t{i} * sub_size;
    uint64_t userdata = 0;
    uint8_t tag = 0;
    m.load(base, &userdata);
    m.load(base + 8, &tag);
    if (tag == kEventClock) {
      uint32_t id = 0;
      uint64_t timeout = 0;
      uint16_t flags = 0;
      m.load(base + clock_at, &id);
      m.load(base + clock_at + 8, &timeout);
      m.load(base + clock_at + 24, &flags);
      // A clock wait is a use of that clock: an unknown id is EINVAL, a clock the run was not
      // granted is ENOTCAPABLE (in the event; nothing sleeps).
      Clock clock;
      if (Errno r = p1_clock(id, &clock)) {
        ready.push_back({userdata, r, kEventClock, 0, 0});
        continue;
      }
      int64_t rel = static_cast<int64_t>(std::min<uint64_t>(timeout, INT64_MAX));
      if (flags & kSubclockAbstime) {
        auto read = core_.clock_now(clock, false);
        if (!read) {
          ready.push_back({userdata, to_p1(read.error()), kEventClock, 0, 0});
          continue;
        }
        uint64_t now = *read;
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
      if (tag == kEventFdRead && e->desc->kind == OpenDescription::Kind::kStdin &&
          config().stdin_fd >= 0) {
        pending.push_back({userdata, config().stdin_fd});
        continue;
      }
      uint64_t nbytes = tag == kEventFdRead ? core_.readable_now(*e->desc) : 0;
      // Regular files, stdout/stderr and an absent stdin are always ready.
      ready.push_back({userdata, kSuccess, tag, nbytes, 0});
    } else {
      ready.push_back({userdata, kEinval, tag, 0, 0});
    }
  }

  if (ready.empty()) {
    // Block on stdin readiness and/or the clock, never past the run's deadline.
    int64_t wait_ns = have_clock ? timeout_ns : -1;
    if (have_clock && core_.clock_is_fixed()) {
      if (core_.fixed_wait_never_ends(timeout_ns)) {
        // An infinite wait (UINT64_MAX ns, or an end the virtual clock cannot reach) waits, as
        // it does on the host clock: until stdin is readable, the deadline or the interrupt.
        // Jumping the virtual clock instead moved it to the year 2318, where it saturated, and
        // a guest's "wait forever" returned at once.
        have_clock = false;
        wait_ns = -1;
        if (pending.empty()) {
          core_.sleep_bounded(INT64_MAX);  // returns only when the run must end
          if (core_.terminating()) return kEintr;
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
        readable = core_.wait_readable(pending.front().host_fd, wait_ns);
      }
      if (readable) {
        for (const auto& p : pending) ready.push_back({p.userdata, kSuccess, kEventFdRead, 0, 0});
      } else if (have_clock && !core_.terminating()) {
        ready.push_back({clock_userdata, kSuccess, kEventClock, 0, 0});
        if (core_.clock_is_fixed()) core_.advance_virtual(static_cast<uint64_t>(timeout_ns));
      }
    } else if (have_clock) {
      if (core_.clock_is_fixed()) {
        core_.advance_virtual(static_cast<uint64_t>(timeout_ns));
      } else {
        core_.sleep_bounded(wait_ns);
      }
      ready.push_back({clock_userdata, kSuccess, kEventClock, 0, 0});
    }
    if (core_.terminating()) return kEintr;
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
