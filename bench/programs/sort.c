// Sorting: one unit sorts 8,192 pseudo-random 32-bit keys with an introsort-style quicksort
// (median of three, insertion sort for small ranges, recursion on the smaller side only),
// sorts 4,096 (key, index) records with a stable bottom-up merge sort, checks both orders and
// folds samples of the output into the checksum.
#include "bench_common.h"

#define NKEYS 8192
#define NRECS 4096

typedef struct {
  uint32_t key, index;
} Rec;

static uint32_t keys[NKEYS];
static Rec recs[NRECS], tmp[NRECS];

static void insertion(uint32_t* a, int64_t lo, int64_t hi) {
  for (int64_t i = lo + 1; i <= hi; i++) {
    uint32_t v = a[i];
    int64_t j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

static void quicksort(uint32_t* a, int64_t lo, int64_t hi) {
  while (hi - lo > 16) {
    int64_t mid = lo + (hi - lo) / 2;
    uint32_t x = a[lo], y = a[mid], z = a[hi];
    uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        uint32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  insertion(a, lo, hi);
}

static void merge_sort(Rec* a, Rec* scratch, size_t n) {
  Rec* src = a;
  Rec* dst = scratch;
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = lo + width < n ? lo + width : n;
      size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) dst[k++] = src[j].key < src[i].key ? src[j++] : src[i++];
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    Rec* t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, n * sizeof(Rec));
}

int main(int argc, char** argv) {
  int64_t scale = bench_scale(argc, argv);
  uint64_t rng = 31337, sum = 0;
  for (int64_t unit = 0; unit < scale; unit++) {
    for (size_t i = 0; i < NKEYS; i++) keys[i] = (uint32_t)bench_rand(&rng);
    for (size_t i = 0; i < NRECS; i++) {
      recs[i].key = (uint32_t)(bench_rand(&rng) % 512);  // many equal keys: tests stability
      recs[i].index = (uint32_t)i;
    }
    quicksort(keys, 0, NKEYS - 1);
    merge_sort(recs, tmp, NRECS);
    for (size_t i = 1; i < NKEYS; i++)
      if (keys[i - 1] > keys[i]) bench_fail("sort", "quicksort output out of order");
    for (size_t i = 1; i < NRECS; i++)
      if (recs[i - 1].key > recs[i].key ||
          (recs[i - 1].key == recs[i].key && recs[i - 1].index > recs[i].index))
        bench_fail("sort", "merge sort output out of order or unstable");
    for (size_t i = 0; i < NKEYS; i += 509) sum = bench_mix(sum, keys[i]);
    for (size_t i = 0; i < NRECS; i += 257) sum = bench_mix(sum, (uint64_t)recs[i].key << 32 | recs[i].index);
  }
  return bench_report("sort", scale, sum);
}
