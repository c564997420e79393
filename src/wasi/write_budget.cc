// The write budget (wasmcap/wasi.h WriteBudget): lock-free counters, so the runs sharing one
// (a shell session's pipeline stages) never block each other.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "wasmcap/wasi.h"

namespace wasmcap {

uint64_t WriteBudget::take_upto(std::atomic<uint64_t>& used, uint64_t max, uint64_t want) {
  uint64_t cur = used.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t room = max > cur ? max - cur : 0;
    uint64_t grant = std::min(want, room);
    if (grant == 0) return 0;
    if (used.compare_exchange_weak(cur, cur + grant, std::memory_order_relaxed)) return grant;
  }
}

uint64_t WriteBudget::take_bytes(uint64_t want) {
  if (want == 0) return 0;
  uint64_t got = take_upto(bytes_, max_bytes_, want);
  if (got < want) refusals_.fetch_add(1, std::memory_order_relaxed);
  return got;
}

bool WriteBudget::take_all_bytes(uint64_t want) {
  if (want == 0) return true;
  uint64_t got = take_upto(bytes_, max_bytes_, want);
  if (got == want) return true;
  release_bytes(got);
  refusals_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool WriteBudget::take_entry() {
  if (take_upto(entries_, max_entries_, 1) != 1) {
    refusals_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (!take_all_bytes(kEntryBytes)) {
    entries_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

WriteBudget::FileWrite WriteBudget::reserve_write(int fd, int64_t at, bool appends, uint64_t want) {
  FileWrite w;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    w.err = errno;
    return w;
  }
  w.size = static_cast<uint64_t>(st.st_size);
  if (appends) {
    w.start = w.size;
  } else if (at >= 0) {
    w.start = static_cast<uint64_t>(at);
  } else {
    off_t pos = ::lseek(fd, 0, SEEK_CUR);
    if (pos < 0) {
      w.err = errno;
      return w;
    }
    w.start = static_cast<uint64_t>(pos);
  }
  // Offsets are below 2^63 (off_t) and a write is at most 4 GiB: start + want cannot overflow.
  const uint64_t end = w.start + want;
  if (end <= w.size) {  // overwriting: free
    w.may = want;
    return w;
  }
  const uint64_t growth = end - w.size;
  const uint64_t granted = take_bytes(growth);
  if (granted == growth) {
    w.may = want;
    w.reserved = growth;
    return w;
  }
  // What fits: the file may grow to size + granted (a write beyond that point fits nowhere).
  const uint64_t limit = w.size + granted;
  w.may = limit > w.start ? std::min(want, limit - w.start) : 0;
  w.reserved = w.may > 0 && w.start + w.may > w.size ? w.start + w.may - w.size : 0;
  release_bytes(granted - w.reserved);
  if (w.may == 0) w.err = ENOSPC;
  return w;
}

void WriteBudget::settle_write(const FileWrite& w, int64_t written) {
  if (w.reserved == 0) return;
  uint64_t made = 0;
  if (written > 0) {
    uint64_t end = w.start + static_cast<uint64_t>(written);
    made = std::min(w.reserved, end > w.size ? end - w.size : 0);
  }
  release_bytes(w.reserved - made);
}

int WriteBudget::reserve_growth(int fd, uint64_t end, uint64_t* reserved) {
  *reserved = 0;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (end <= size) return 0;
  if (!take_all_bytes(end - size)) return ENOSPC;
  *reserved = end - size;
  return 0;
}

}  // namespace wasmcap
