// Bulk memory instructions done in chunks, for the interpreters (fast and wabt).
//
// Threat: one memory.fill/copy/init moves up to 4 GiB of host memory. Metered at one fuel unit
// per kFuelBytesPerUnit bytes (wasmcap/engine.h) a long one is paid for, but it still runs
// seconds as one libc call that no deadline or interrupt can stop. Here it runs in chunks of
// kBulkChunkBytes with a check between two (`keep_going`), so a deadline is honoured within a
// chunk (about 0.1 ms) however large the operation. The caller checks bounds and charges fuel
// for the whole operation first: the operation then either runs or traps/stops before writing
// anything, except when the deadline or interrupt stops it part-way (the run then ends).
#pragma once

#include <cstdint>
#include <cstring>

namespace wasmcap::bulk {

// Bytes moved between two checks of the deadline and interrupt: 1 MiB (~30-100 us of memset or
// memmove), so the checks cost nothing measurable and a deadline is honoured within a chunk.
inline constexpr uint64_t kBulkChunkBytes = 1u << 20;

// memset(p, v, n) in chunks. False when keep_going() said stop (the rest is not written).
template <class KeepGoing>
bool fill(uint8_t* p, int v, uint64_t n, KeepGoing&& keep_going) {
  for (uint64_t done = 0; done < n;) {
    if (done != 0 && !keep_going()) return false;
    uint64_t k = n - done < kBulkChunkBytes ? n - done : kBulkChunkBytes;
    std::memset(p + done, v, k);
    done += k;
  }
  return true;
}

// memmove(d, s, n) in chunks, correct for overlapping ranges: front to back when the destination
// is below the source, back to front otherwise, so no chunk reads bytes an earlier chunk wrote.
template <class KeepGoing>
bool move(uint8_t* d, const uint8_t* s, uint64_t n, KeepGoing&& keep_going) {
  if (d == s || n == 0) return true;
  const bool forward = d < s;
  for (uint64_t done = 0; done < n;) {
    if (done != 0 && !keep_going()) return false;
    uint64_t k = n - done < kBulkChunkBytes ? n - done : kBulkChunkBytes;
    uint64_t at = forward ? done : n - done - k;
    std::memmove(d + at, s + at, k);
    done += k;
  }
  return true;
}

}  // namespace wasmcap::bulk
