// Recursion: naive Fibonacci and Takeuchi's function, call-heavy code with shallow frames.
// One unit is fib(20..23) plus tak(12..15, 8, 4).
#include "bench_common.h"

static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static int32_t tak(int32_t x, int32_t y, int32_t z) {
  if (y >= x) return z;
  return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

int main(int argc, char** argv) {
  int64_t scale = bench_scale(argc, argv);
  uint64_t sum = 0;
  for (int64_t unit = 0; unit < scale; unit++) {
    sum = bench_mix(sum, fib(20 + (uint32_t)(unit % 4)));
    sum = bench_mix(sum, (uint64_t)tak(12 + (int32_t)(unit % 4), 8, 4));
  }
  return bench_report("fib", scale, sum);
}
