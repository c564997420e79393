// Dense matrix multiply, double precision, i-k-j loop order on heap matrices. One unit is a
// 64x64 product C = A*B after a data-dependent perturbation of A; the checksum folds the
// exact bits of the trace and of a sum over C.
#include "bench_common.h"

#define N 64

int main(int argc, char** argv) {
  int64_t scale = bench_scale(argc, argv);
  double* a = bench_alloc(sizeof(double) * N * N);
  double* b = bench_alloc(sizeof(double) * N * N);
  double* c = bench_alloc(sizeof(double) * N * N);
  uint64_t rng = 42;
  for (int i = 0; i < N * N; i++) {
    a[i] = (double)(bench_rand(&rng) % 2001) / 1000.0 - 1.0;
    b[i] = (double)(bench_rand(&rng) % 2001) / 1000.0 - 1.0;
  }
  uint64_t sum = 0;
  for (int64_t unit = 0; unit < scale; unit++) {
    memset(c, 0, sizeof(double) * N * N);
    for (int i = 0; i < N; i++) {
      for (int k = 0; k < N; k++) {
        double aik = a[i * N + k];
        const double* brow = &b[k * N];
        double* crow = &c[i * N];
        for (int j = 0; j < N; j++) crow[j] += aik * brow[j];
      }
    }
    double trace = 0, total = 0;
    for (int i = 0; i < N; i++) trace += c[i * N + i];
    for (int i = 0; i < N * N; i++) total += c[i];
    sum = bench_mix_double(sum, trace);
    sum = bench_mix_double(sum, total);
    // Feed the result back so every unit depends on the previous one (kept bounded).
    int idx = (int)(unit % (N * N));
    a[idx] = c[idx] / (1.0 + (c[idx] < 0 ? -c[idx] : c[idx]));
  }
  free(a);
  free(b);
  free(c);
  return bench_report("matmul", scale, sum);
}
