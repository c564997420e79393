// Tests that need a thread to have used CPU (the thread CPU-time clock, the MCP scheduler's
// accounting): a header of its own, so that the many tests including test_support.h do not
// depend on it.
#pragma once

#include <time.h>

#include <cstdint>

namespace wasmcap::testing {

// Spins until this thread has used `ms` more milliseconds of CPU (its CLOCK_THREAD_CPUTIME_ID).
inline void burn_thread_cpu_ms(int ms) {
  auto cpu_ns = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  };
  const int64_t until = cpu_ns() + static_cast<int64_t>(ms) * 1000000;
  volatile uint64_t x = 0;
  while (cpu_ns() < until) {
    for (int i = 0; i < 100000; ++i) x = x + i;
  }
}

}  // namespace wasmcap::testing
