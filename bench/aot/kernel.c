// CPU-bound kernel for measuring the cost of the AOT interrupt checks: tight loops (sieve),
// many calls (recursive fib) and nested loops over memory (matrix multiply). Prints a checksum
// so the work cannot be optimised away.
#include <stdint.h>
#include <stdio.h>

#define N_SIEVE 2000000
#define N_MAT 160

static uint8_t composite[N_SIEVE + 1];
static double a[N_MAT][N_MAT], b[N_MAT][N_MAT], c[N_MAT][N_MAT];

static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
  uint64_t sum = 0;
  for (int round = 0; round < 3; ++round) {
    for (uint32_t i = 0; i <= N_SIEVE; ++i) composite[i] = 0;
    uint32_t primes = 0;
    for (uint32_t i = 2; i <= N_SIEVE; ++i) {
      if (composite[i]) continue;
      ++primes;
      for (uint64_t j = (uint64_t)i * i; j <= N_SIEVE; j += i) composite[j] = 1;
    }
    sum += primes;
  }
  sum += fib(30);
  for (int i = 0; i < N_MAT; ++i) {
    for (int j = 0; j < N_MAT; ++j) {
      a[i][j] = (double)(i + j) / N_MAT;
      b[i][j] = (double)(i - j) / N_MAT;
    }
  }
  for (int i = 0; i < N_MAT; ++i) {
    for (int j = 0; j < N_MAT; ++j) {
      double s = 0;
      for (int k = 0; k < N_MAT; ++k) s += a[i][k] * b[k][j];
      c[i][j] = s;
    }
  }
  sum += (uint64_t)(c[N_MAT / 2][N_MAT / 3] * 1000);
  printf("%llu\n", (unsigned long long)sum);
  return 0;
}
