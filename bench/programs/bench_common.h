// Shared helpers for the benchmark programs (bench/programs/*.c).
//
// Every program is deterministic: it derives all of its input from a fixed seed, takes one
// optional argument, the workload scale (a count of work units, >= 1), and prints exactly one
// line, "<name> scale=<N> checksum=<16 hex digits>", which every runtime must reproduce. A
// program that detects a wrong intermediate result (a round trip that does not match, an
// unsorted output) prints "<name> FAILED: <why>" and exits 1. Nothing depends on time. Large
// buffers are static or heap-allocated: the default wasm stack is 64 KiB.
#ifndef WASMCAP_BENCH_COMMON_H
#define WASMCAP_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Largest accepted scale; keeps counters far from overflow.
#define BENCH_MAX_SCALE 1000000

static inline int64_t bench_scale(int argc, char** argv) {
  if (argc < 2) return 1;
  char* end = NULL;
  long long v = strtoll(argv[1], &end, 10);
  if (argc > 2 || end == argv[1] || *end != '\0' || v < 1 || v > BENCH_MAX_SCALE) {
    fprintf(stderr, "usage: %s [SCALE]   (SCALE: work units, 1..%d)\n", argv[0], BENCH_MAX_SCALE);
    exit(2);
  }
  return (int64_t)v;
}

// splitmix64: a small, well-mixed deterministic generator.
static inline uint64_t bench_rand(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Folds a 64-bit value into a running checksum (FNV-1a style over the value, then a mix).
static inline uint64_t bench_mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x100000001B3ULL;
  h ^= h >> 29;
  return h;
}

static inline uint64_t bench_mix_bytes(uint64_t h, const void* data, size_t n) {
  const unsigned char* p = (const unsigned char*)data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ULL;
  return h;
}

// Folds the exact bit pattern of a double (IEEE arithmetic without contraction is identical
// on x86-64 SSE2 and wasm32).
static inline uint64_t bench_mix_double(uint64_t h, double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  return bench_mix(h, bits);
}

static inline void* bench_alloc(size_t n) {
  void* p = calloc(1, n);
  if (!p) {
    fprintf(stderr, "out of memory (%zu bytes)\n", n);
    exit(3);
  }
  return p;
}

static inline void bench_fail(const char* name, const char* why) {
  printf("%s FAILED: %s\n", name, why);
  exit(1);
}

static inline int bench_report(const char* name, int64_t scale, uint64_t checksum) {
  printf("%s scale=%lld checksum=%016llx\n", name, (long long)scale,
         (unsigned long long)checksum);
  return 0;
}

#endif
