// Sieve of Eratosthenes: one unit sieves the odd numbers below ~100,000 (byte flags) and
// folds the prime count and the sum of the primes into the checksum. The limit varies a
// little per unit so no unit repeats another's work exactly.
#include "bench_common.h"

#define SIEVE_MAX 100000
static unsigned char composite[SIEVE_MAX / 2 + 1];

int main(int argc, char** argv) {
  int64_t scale = bench_scale(argc, argv);
  uint64_t sum = 0;
  for (int64_t unit = 0; unit < scale; unit++) {
    uint32_t limit = SIEVE_MAX - (uint32_t)(unit % 97);  // odd n < limit: index n/2
    uint32_t half = limit / 2;
    memset(composite, 0, sizeof composite);
    for (uint32_t i = 1; (2 * i + 1) * (2 * i + 1) < limit; i++) {
      if (composite[i]) continue;
      uint32_t p = 2 * i + 1;
      for (uint32_t j = (p * p) / 2; j < half; j += p) composite[j] = 1;
    }
    uint64_t count = 1, total = 2;  // the prime 2
    for (uint32_t i = 1; i < half; i++) {
      if (!composite[i]) {
        count++;
        total += 2 * i + 1;
      }
    }
    sum = bench_mix(sum, count);
    sum = bench_mix(sum, total);
  }
  return bench_report("sieve", scale, sum);
}
